/* commands -- every control command, from a JSON request to store calls and back to a JSON reply */
#include <errno.h>
#include <sys/stat.h>
#include <stdatomic.h>
#include <pthread.h>
#include <inttypes.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "control/mgmt/commands.h"
#include "control/mgmt/cmdint.h"
#include "control/mgmt/auth.h"
#include "control/log.h"
#include "control/ddns/keys.h"
#include "control/ddns/policy.h"
#include "control/ddns/tsig.h"
#include "control/ipam/cmd.h"
#include "control/life/cmd.h"
#include "control/xfr/cmd.h"
#include "control/xfr/secondary.h"
#include "control/store/store.h"
#include "dns/errcode.h"
#include "dns/name.h"
#include "dns/rdata.h"
#include "dns/wire.h"
#include "dns/zonefile.h"

/* ------------------------------------------------------------------------ */
/* Replies                                                                  */
/* ------------------------------------------------------------------------ */

static json_t *store_err(const struct store_error *e, int rc)
{

	return cmd_reply(rc == DDI_ENOENT || rc == DDI_ENOZONE ? CMD_ERROR : CMD_ERROR, NULL, "%s",
	                 e->msg[0] ? e->msg : ddi_strerror(rc));
}

/*
 * A store error for a request; a refusal of a secondary zone names its
 * primaries: "ddi.test. is a secondary zone of 198.18.0.5: change it on its primary".
 */
json_t *store_err_q(const struct cmd_ctx *ctx, const struct store_error *e, int rc)
{
	const char *cut = strstr(e->msg, " is a secondary zone");
	char zb[DNS_NAME_STRLEN + 2], prim[256];
	uint8_t apex[DNS_NAME_MAXLEN];
	size_t zl = cut ? (size_t)(cut - e->msg) : 0;
	if (rc != DDI_ESECONDARY || !cut || zl >= sizeof(zb))
		return store_err(e, rc);
	memcpy(zb, e->msg, zl);
	zb[zl] = 0;
	if (dns_name_from_str(apex, zb, zl, NULL) <= 0 ||
	    !xfr_sec_primaries_text(ctx->store, apex, prim, sizeof(prim)))
		return store_err(e, rc);
	return cmd_reply(CMD_ERROR, NULL, "%s is a secondary zone of %s: change it on its primary",
	                 zb, prim);
}

json_t *changed(uint64_t seq, json_t *args, const char *fmt, ...)
{
	char msg[1024];
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	if (!args)
		args = json_object();
	if (args)
		json_object_set_new(args, "seq", json_integer((json_int_t)seq));
	return cmd_reply(CMD_OK, args, "%s", msg);
}

const char *name_str(char buf[DNS_NAME_STRLEN], const uint8_t *name)
{
	if (dns_name_to_str(buf, DNS_NAME_STRLEN, name) < 0)
		snprintf(buf, DNS_NAME_STRLEN, "?");
	return buf;
}

void fmt_time(char *buf, size_t len, int64_t ns)
{
	time_t t = (time_t)(ns / 1000000000);
	struct tm tm;
	if (!gmtime_r(&t, &tm) || !strftime(buf, len, "%Y-%m-%dT%H:%M:%SZ", &tm))
		snprintf(buf, len, "?");
}

/* ------------------------------------------------------------------------ */
/* Arguments                                                                */
/* ------------------------------------------------------------------------ */

const char *arg_str(struct req *r, const char *key, bool required)
{
	json_t *v = json_object_get(r->args, key);
	if (!v) {
		if (required)
			snprintf(r->err, sizeof(r->err), "missing argument \"%s\"", key);
		return NULL;
	}
	if (!json_is_string(v)) {
		snprintf(r->err, sizeof(r->err), "argument \"%s\" must be a string", key);
		return NULL;
	}
	return json_string_value(v);
}

/* A name argument: absolute, a missing final dot implied. */
bool arg_name(struct req *r, const char *key, uint8_t out[DNS_NAME_MAXLEN], bool required,
              bool *present)
{
	const char *s = arg_str(r, key, required);
	if (present)
		*present = s != NULL;
	if (!s)
		return !required && !r->err[0];
	if (!s[0] || dns_name_from_str(out, s, strlen(s), NULL) <= 0) {
		snprintf(r->err, sizeof(r->err), "argument \"%s\": not a valid name: '%.300s'", key, s);
		return false;
	}
	return true;
}

bool arg_type(struct req *r, const char *key, uint16_t *type, bool required)
{
	const char *s = arg_str(r, key, required);
	*type = 0;
	if (!s)
		return !required && !r->err[0];
	if (!(*type = dns_type_from_str(s, strlen(s)))) {
		snprintf(r->err, sizeof(r->err), "unknown type '%.100s'", s);
		return false;
	}
	return true;
}

bool arg_u64(struct req *r, const char *key, uint64_t *out, bool required)
{
	json_t *v = json_object_get(r->args, key);
	if (!v) {
		if (required)
			snprintf(r->err, sizeof(r->err), "missing argument \"%s\"", key);
		return !required;
	}
	if (json_is_integer(v) && json_integer_value(v) >= 0) {
		*out = (uint64_t)json_integer_value(v);
		return true;
	}
	if (json_is_string(v)) {
		const char *s = json_string_value(v);
		char *end;
		errno = 0;
		unsigned long long x = strtoull(s, &end, 10);
		if (s[0] && s[0] != '-' && !errno && !*end) {
			*out = x;
			return true;
		}
	}
	snprintf(r->err, sizeof(r->err), "argument \"%s\" must be a non-negative integer", key);
	return false;
}

/* ------------------------------------------------------------------------ */
/* Records from master-file text: one parser for every input                */
/* ------------------------------------------------------------------------ */

struct text {
	char *p;
	size_t len, cap;
};

static bool text_add(struct text *t, const char *s, size_t n)
{
	if (t->len + n + 1 > t->cap) {
		size_t nc = t->cap ? t->cap : 256;
		while (nc < t->len + n + 1)
			nc *= 2;
		char *np = realloc(t->p, nc);
		if (!np)
			return false;
		t->p = np;
		t->cap = nc;
	}
	memcpy(t->p + t->len, s, n);
	t->len += n;
	t->p[t->len] = '\0';
	return true;
}

static bool text_str(struct text *t, const char *s)
{
	return text_add(t, s, strlen(s));
}

/*
 * One token as master-file text: a token holding blanks or master-file
 * specials (or empty) becomes one quoted string, so that the shell
 * arguments `TXT "hello world"` mean what they say. No newline gets in.
 */
static bool text_token(struct text *t, const char *a)
{
	if (strpbrk(a, "\n\r"))
		return false;
	if (a[0] && (a[0] == '"' || !strpbrk(a, " \t;()")))
		return text_str(t, a);
	if (!text_add(t, "\"", 1))
		return false;
	for (; *a; a++) {
		if ((*a == '"' || *a == '\\') && !text_add(t, "\\", 1))
			return false;
		if (!text_add(t, a, 1))
			return false;
	}
	return text_add(t, "\"", 1);
}

#define PROGRESS_EVERY 8192   /* records between two progress reports */

struct recs {
	const struct cmd_ctx *ctx;   /* its progress hook, when the caller set one */
	uint64_t lines;              /* the text's lines: the "about" total of the report */
	size_t n, cap;
	struct rec {
		uint8_t owner[DNS_NAME_MAXLEN];
		uint16_t type;
		uint32_t ttl;
		uint16_t rdlen;
		uint8_t *rdata;
	} *v;
};

static int recs_cb(void *ctx, const struct dns_rr *rr)
{
	struct recs *r = ctx;
	if (r->ctx && r->ctx->progress && r->n % PROGRESS_EVERY == 0 && r->n)
		r->ctx->progress(r->ctx->progress_ctx, "records read", r->n, r->lines);
	if (r->n == r->cap) {
		size_t nc = r->cap ? r->cap * 2 : 8;
		struct rec *nv = realloc(r->v, nc * sizeof(*nv));
		if (!nv)
			return DDI_ENOMEM;
		r->v = nv;
		r->cap = nc;
	}
	struct rec *x = &r->v[r->n];
	x->rdata = malloc(rr->rdlen ? rr->rdlen : 1);
	if (!x->rdata)
		return DDI_ENOMEM;
	memcpy(x->owner, rr->owner, dns_name_len(rr->owner));
	x->type = rr->type;
	x->ttl = rr->ttl;
	x->rdlen = rr->rdlen;
	memcpy(x->rdata, rr->rdata, rr->rdlen);
	r->n++;
	return 0;
}

static void recs_free(struct recs *r)
{
	for (size_t i = 0; i < r->n; i++)
		free(r->v[i].rdata);
	free(r->v);
	memset(r, 0, sizeof(*r));
}

static bool parse_text(struct req *q, const char *text, size_t len, const char *fname,
                       const uint8_t *origin, bool in_zone, struct recs *r)
{
	static const uint8_t root[1] = { 0 };
	struct zf_error ze;
	struct zf_options zo = { .origin = origin ? origin : root, .default_ttl = 3600,
	                         .require_in_zone = in_zone };
	memset(&ze, 0, sizeof(ze));
	int rc = zf_read_string(text, len, fname, &zo, recs_cb, r, &ze);
	if (rc && ze.line && strcmp(fname, "arguments") != 0) {
		snprintf(q->err, sizeof(q->err), "%.256s:%u: %s", ze.file[0] ? ze.file : fname, ze.line,
		         ze.msg[0] ? ze.msg : ddi_strerror(rc));
		return false;
	}
	if (rc) {
		snprintf(q->err, sizeof(q->err), "%s", ze.msg[0] ? ze.msg : ddi_strerror(rc));
		return false;
	}
	return true;
}

/* rdata: a string (master-file text) or an array of tokens. Appends it to t. */
static bool rdata_text(struct req *q, struct text *t, const json_t *rd)
{
	if (json_is_string(rd)) {
		const char *s = json_string_value(rd);
		if (strpbrk(s, "\n\r")) {
			snprintf(q->err, sizeof(q->err), "rdata holds a line break");
			return false;
		}
		return text_str(t, " ") && text_str(t, s);
	}
	if (json_is_array(rd) && json_array_size(rd) > 0) {
		size_t i;
		json_t *tok;
		json_array_foreach(rd, i, tok) {
			if (!json_is_string(tok)) {
				snprintf(q->err, sizeof(q->err), "rdata tokens must be strings");
				return false;
			}
			if (!text_str(t, " ") || !text_token(t, json_string_value(tok))) {
				snprintf(q->err, sizeof(q->err), "rdata token holds a line break");
				return false;
			}
		}
		return true;
	}
	snprintf(q->err, sizeof(q->err), "rdata must be a string or a non-empty array of strings");
	return false;
}

/*
 * Records of one name and type from the arguments name, ttl, type and
 * rdata (one record) or rdatas (an array of them), as master-file lines.
 */
static bool parse_records(struct req *q, const json_t *args, const char *ttl_default,
                          bool need_rdata, struct recs *r)
{
	struct req sub = { .ctx = q->ctx, .args = args };
	const char *name = arg_str(&sub, "name", true);
	const char *type = arg_str(&sub, "type", true);
	json_t *jttl = json_object_get(args, "ttl");
	char ttlb[32];
	const char *ttl = ttl_default;
	if (jttl && json_is_integer(jttl) && json_integer_value(jttl) >= 0) {
		snprintf(ttlb, sizeof(ttlb), "%" JSON_INTEGER_FORMAT, json_integer_value(jttl));
		ttl = ttlb;
	} else if (jttl && json_is_string(jttl)) {
		ttl = json_string_value(jttl);
	} else if (jttl || !ttl) {
		snprintf(q->err, sizeof(q->err), "%s", jttl ? "ttl must be a number" :
		         "missing argument \"ttl\"");
		return false;
	}
	if (!name || !type) {
		snprintf(q->err, sizeof(q->err), "%s", sub.err);
		return false;
	}
	json_t *one = json_object_get(args, "rdata"), *many = json_object_get(args, "rdatas");
	if (!one && !many) {
		if (need_rdata)
			snprintf(q->err, sizeof(q->err), "missing argument \"rdata\"");
		return !need_rdata;
	}
	size_t n = one ? 1 : json_array_size(many);
	if (!one && (!json_is_array(many) || n == 0)) {
		snprintf(q->err, sizeof(q->err), "rdatas must be a non-empty array");
		return false;
	}
	struct text t = { 0 };
	bool ok = true;
	for (size_t i = 0; i < n && ok; i++) {
		ok = text_token(&t, name) && text_str(&t, " ") && text_token(&t, ttl) &&
		     text_str(&t, " IN ") && text_token(&t, type);
		if (!ok) {
			snprintf(q->err, sizeof(q->err), "name, ttl or type holds a line break");
			break;
		}
		ok = rdata_text(q, &t, one ? one : json_array_get(many, i)) && text_str(&t, "\n");
	}
	if (ok)
		ok = parse_text(q, t.p, t.len, "arguments", NULL, false, r);
	free(t.p);
	if (ok && r->n != n) {
		snprintf(q->err, sizeof(q->err), "expected %zu record%s, got %zu", n,
		         n == 1 ? "" : "s", r->n);
		ok = false;
	}
	return ok;
}

/* The [rdlen rdata] items of r->v[from, n). */
static uint8_t *rdatas_of(const struct recs *r, size_t from, uint16_t *count, size_t *len)
{
	size_t total = 0;
	for (size_t i = from; i < r->n; i++)
		total += 2 + (size_t)r->v[i].rdlen;
	uint8_t *p = malloc(total ? total : 1), *q = p;
	if (!p)
		return NULL;
	for (size_t i = from; i < r->n; i++) {
		dns_put16(q, r->v[i].rdlen);
		memcpy(q + 2, r->v[i].rdata, r->v[i].rdlen);
		q += 2 + (size_t)r->v[i].rdlen;
	}
	*count = (uint16_t)(r->n - from);
	*len = total;
	return p;
}

/* ------------------------------------------------------------------------ */
/* Record output                                                            */
/* ------------------------------------------------------------------------ */

struct out {
	json_t *arr;
	const uint8_t *name_suffix;    /* record-list filter */
	uint16_t type;                 /* filter, 0: all */
	bool skip_soa;
	size_t limit, n;
};

static int out_rrset(void *ctx, const uint8_t *owner, uint16_t type, uint32_t ttl, uint16_t count,
                     const uint8_t *rdatas, size_t len)
{
	struct out *o = ctx;
	char nb[DNS_NAME_STRLEN];
	(void)count;
	if ((o->skip_soa && type == DNS_T_SOA) || (o->type && type != o->type))
		return 0;
	if (o->name_suffix && !dns_name_is_sub(owner, o->name_suffix))
		return 0;
	name_str(nb, owner);
	for (size_t off = 0; off + 2 <= len;) {
		uint16_t rdlen = dns_get16(rdatas + off);
		const uint8_t *rd = rdatas + off + 2;
		off += 2 + (size_t)rdlen;
		size_t cap = 4 * (size_t)rdlen + 2 * DNS_NAME_STRLEN + 64;
		char *text = malloc(cap);
		if (!text)
			return DDI_ENOMEM;
		int rc = dns_rdata_to_str(text, cap, type, rd, rdlen);
		json_t *j = rc < 0 ? NULL
		                   : json_pack("{s:s, s:I, s:s, s:s}", "name", nb, "ttl", (json_int_t)ttl,
		                               "type", dns_type_name(type), "rdata", text);
		free(text);
		if (!j || json_array_append_new(o->arr, j) != 0)
			return rc < 0 ? rc : DDI_ENOMEM;
		if (o->limit && ++o->n >= o->limit)
			return 1;
	}
	return 0;
}

/* ------------------------------------------------------------------------ */
/* Commands                                                                 */
/* ------------------------------------------------------------------------ */


static json_t *c_zone_list(struct req *q, uint64_t *seq);
static json_t *c_zone_add(struct req *q, uint64_t *seq);
static json_t *c_zone_remove(struct req *q, uint64_t *seq);
static json_t *c_zone_refresh(struct req *q, uint64_t *seq);
static json_t *c_zone_import(struct req *q, uint64_t *seq);
static json_t *c_zone_export(struct req *q, uint64_t *seq);
static json_t *c_record_add(struct req *q, uint64_t *seq);
static json_t *c_record_delete(struct req *q, uint64_t *seq);
static json_t *c_record_replace(struct req *q, uint64_t *seq);
static json_t *c_record_get(struct req *q, uint64_t *seq);
static json_t *c_record_list(struct req *q, uint64_t *seq);
static json_t *c_changes(struct req *q, uint64_t *seq);
static json_t *c_journal(struct req *q, uint64_t *seq);
static json_t *c_backup(struct req *q, uint64_t *seq);
static json_t *c_status(struct req *q, uint64_t *seq);
static json_t *c_stats(struct req *q, uint64_t *seq);
static json_t *c_shutdown(struct req *q, uint64_t *seq);
static json_t *c_reload(struct req *q, uint64_t *seq);
static json_t *c_list_commands(struct req *q, uint64_t *seq);

static const struct command {
	const char *name;
	enum cmd_role role;
	json_t *(*fn)(struct req *q, uint64_t *seq);
} commands[] = {
	{ "list-commands", CMD_ROLE_READ, c_list_commands },
	{ "status", CMD_ROLE_READ, c_status },
	{ "stats", CMD_ROLE_READ, c_stats },
	{ "zone-list", CMD_ROLE_READ, c_zone_list },
	{ "zone-add", CMD_ROLE_ADMIN, c_zone_add },
	{ "zone-remove", CMD_ROLE_ADMIN, c_zone_remove },
	{ "zone-refresh", CMD_ROLE_ADMIN, c_zone_refresh },
	{ "zone-import", CMD_ROLE_ADMIN, c_zone_import },
	{ "zone-export", CMD_ROLE_READ, c_zone_export },
	{ "record-add", CMD_ROLE_ADMIN, c_record_add },
	{ "record-delete", CMD_ROLE_ADMIN, c_record_delete },
	{ "record-replace", CMD_ROLE_ADMIN, c_record_replace },
	{ "record-get", CMD_ROLE_READ, c_record_get },
	{ "record-list", CMD_ROLE_READ, c_record_list },
	{ "changes", CMD_ROLE_ADMIN, c_changes },
	{ "journal", CMD_ROLE_READ, c_journal },
	{ "backup", CMD_ROLE_ADMIN, c_backup },
	{ "shutdown", CMD_ROLE_ADMIN, c_shutdown },
	{ "reload", CMD_ROLE_ADMIN, c_reload },
	/* TSIG keys and update policy (RFC 2136) */
	{ "key-add", CMD_ROLE_ADMIN, c_key_add },
	{ "key-list", CMD_ROLE_READ, c_key_list },
	{ "key-remove", CMD_ROLE_ADMIN, c_key_remove },
	{ "policy-add", CMD_ROLE_ADMIN, c_policy_add },
	{ "policy-list", CMD_ROLE_READ, c_policy_list },
	{ "policy-remove", CMD_ROLE_ADMIN, c_policy_remove },
};

static const char *role_name(enum cmd_role r)
{
	return r == CMD_ROLE_ADMIN ? "admin" : r == CMD_ROLE_READ ? "read-only" : "none";
}

/*
 * The commands of the other rooms, each a table of control/cmd.h. The
 * local table above is searched first; its functions take a struct req.
 */
static const struct room_table {
	const struct cmd_def *defs;
	const size_t *n;
} rooms[] = {
	{ ipam_cmds, &ipam_ncmds },
	{ xfr_cmds, &xfr_ncmds },
	{ life_cmds, &life_ncmds },
	{ auth_cmds, &auth_ncmds },
};

/* One command of any table: exactly one of local and def is set. */
struct found {
	const char *name;
	enum cmd_role role;
	const struct command *local;
	const struct cmd_def *def;
};

static bool cmd_find(const char *name, struct found *f)
{
	for (size_t i = 0; i < sizeof(commands) / sizeof(commands[0]); i++)
		if (strcmp(commands[i].name, name) == 0) {
			*f = (struct found){ commands[i].name, commands[i].role, &commands[i], NULL };
			return true;
		}
	for (size_t r = 0; r < sizeof(rooms) / sizeof(rooms[0]); r++)
		for (size_t i = 0; i < *rooms[r].n; i++)
			if (strcmp(rooms[r].defs[i].name, name) == 0) {
				*f = (struct found){ rooms[r].defs[i].name, rooms[r].defs[i].role, NULL,
				                     &rooms[r].defs[i] };
				return true;
			}
	return false;
}

enum cmd_role cmd_role_needed(const char *command)
{
	struct found f;
	return cmd_find(command, &f) ? f.role : CMD_ROLE_NONE;
}

json_t *cmd_exec(const struct cmd_ctx *ctx, const json_t *request, uint64_t *seq)
{
	uint64_t dummy;
	if (!seq)
		seq = &dummy;
	*seq = 0;
	if (!json_is_object(request))
		return cmd_reply(CMD_ERROR, NULL, "the request must be a JSON object "
		                 "{\"command\": ..., \"arguments\": {...}}");
	json_t *jc = json_object_get(request, "command");
	if (!json_is_string(jc))
		return cmd_reply(CMD_ERROR, NULL, "missing \"command\" (a string)");
	const char *name = json_string_value(jc);
	json_t *args = json_object_get(request, "arguments");
	if (args && !json_is_object(args))
		return cmd_reply(CMD_ERROR, NULL, "\"arguments\" must be an object");
	struct found cmd;
	if (!cmd_find(name, &cmd))
		return cmd_reply(CMD_UNSUPPORTED, NULL, "unknown command '%.100s' (see list-commands)",
		                 name);
	json_t *denied = ctx->principal ? auth_check(ctx, cmd.name, cmd.role, args) : NULL;
	if (denied)
		return denied;
	struct cmd_ctx scoped;
	if (ctx->principal) {   /* its lists show only its scope's rows */
		scoped = *ctx;
		scoped.scope = &auth_scope;
		ctx = &scoped;
	}
	if (!ctx->principal && ctx->role < cmd.role) {
		cmd_log_refused(ctx->actor, cmd.name, role_name(cmd.role), role_name(ctx->role));
		return cmd_reply(CMD_ERROR, NULL, "%s: access denied: %s needs the %s role, %s has %s",
		                 cmd.name, cmd.name, role_name(cmd.role),
		                 ctx->actor ? ctx->actor : "this peer", role_name(ctx->role));
	}
	json_t *empty = NULL;
	if (!args)
		args = empty = json_object();
	struct req q = { .ctx = ctx, .args = args };
	json_t *reply = cmd.local ? cmd.local->fn(&q, seq) : cmd.def->fn(ctx, args, seq);
	json_decref(empty);
	return reply;
}

static json_t *c_list_commands(struct req *q, uint64_t *seq)
{
	(void)q;
	(void)seq;
	json_t *a = json_array();
	size_t n = 0;
	for (size_t i = 0; a && i < sizeof(commands) / sizeof(commands[0]); i++, n++)
		json_array_append_new(a, json_pack("{s:s, s:s}", "command", commands[i].name, "role",
		                                   role_name(commands[i].role)));
	for (size_t r = 0; a && r < sizeof(rooms) / sizeof(rooms[0]); r++)
		for (size_t i = 0; i < *rooms[r].n; i++, n++)
			json_array_append_new(a, json_pack("{s:s, s:s}", "command", rooms[r].defs[i].name,
			                                   "role", role_name(rooms[r].defs[i].role)));
	return cmd_reply(CMD_OK, json_pack("{s:o}", "commands", a), "%zu commands", n);
}

static json_t *c_status(struct req *q, uint64_t *seq)
{
	(void)seq;
	const struct cmd_hooks *h = q->ctx->hooks;
	struct store_error e;
	uint64_t last = 0;
	json_t *a = h && h->status ? h->status(h->ctx) : json_object();
	if (!a)
		return cmd_reply(CMD_ERROR, NULL, "out of memory");
	if (!json_object_get(a, "version"))
		json_object_set_new(a, "version", json_string(DDI_VERSION));
	if (store_last_seq(q->ctx->store, &last, &e) == 0)
		json_object_set_new(a, "store_seq", json_integer((json_int_t)last));
	json_object_set_new(a, "server", json_boolean(h != NULL));
	return cmd_reply(CMD_OK, a, "ddiplane %s", DDI_VERSION);
}

static json_t *c_stats(struct req *q, uint64_t *seq)
{
	(void)seq;
	const struct cmd_hooks *h = q->ctx->hooks;
	if (!h || !h->stats)
		return cmd_reply(CMD_UNSUPPORTED, NULL, "stats: only a running server has counters "
		                 "(use -s SOCKET)");
	json_t *a = h->stats(h->ctx);
	if (!a)
		return cmd_reply(CMD_ERROR, NULL, "out of memory");
	return cmd_reply(CMD_OK, a, "counters");
}

static json_t *c_reload(struct req *q, uint64_t *seq)
{
	(void)seq;
	const struct cmd_hooks *h = q->ctx->hooks;
	if (!h || !h->reload)
		return cmd_reply(CMD_UNSUPPORTED, NULL, "reload: only a running server has a "
		                 "configuration to re-read (use -s SOCKET)");
	json_t *a = h->reload(h->ctx);
	if (!a)
		return cmd_reply(CMD_ERROR, NULL, "out of memory");
	json_t *e = json_object_get(a, "error");
	if (json_is_string(e)) {
		json_t *r = cmd_reply(CMD_ERROR, NULL, "reload refused, nothing changed: %s",
		                      json_string_value(e));
		json_decref(a);
		return r;
	}
	size_t nr = json_array_size(json_object_get(a, "restart_needed"));
	return cmd_reply(CMD_OK, a, "configuration reloaded%s", nr ? "; some settings need a "
	                 "restart (restart_needed)" : "");
}

static json_t *c_shutdown(struct req *q, uint64_t *seq)
{
	(void)seq;
	const struct cmd_hooks *h = q->ctx->hooks;
	if (!h || !h->shutdown)
		return cmd_reply(CMD_UNSUPPORTED, NULL, "shutdown: no server to stop");
	h->shutdown(h->ctx);
	return cmd_reply(CMD_OK, NULL, "shutting down");
}

struct zlist {
	json_t *arr;
	const struct cmd_ctx *ctx;   /* whose scope filters the rows */
};

static int zlist_cb(void *ctx, const struct store_zone_info *z)
{
	const struct zlist *l = ctx;
	json_t *arr = l->arr;
	char nb[DNS_NAME_STRLEN], tb[64];
	if (!cmd_sees_name(l->ctx, z->apex))
		return 0;   /* another tenant's zone */
	fmt_time(tb, sizeof(tb), z->created_ns);
	json_t *o = json_pack("{s:s, s:I, s:I, s:I, s:s, s:I, s:s}", "zone", name_str(nb, z->apex),
	                      "serial", (json_int_t)z->serial, "rrsets", (json_int_t)z->nrrsets,
	                      "records", (json_int_t)z->nrrs, "created", tb, "flags",
	                      (json_int_t)z->flags, "role",
	                      z->flags & STORE_ZONE_SECONDARY ? "secondary" : "primary");
	if (!o || json_array_append_new(arr, o) != 0)
		return DDI_ENOMEM;
	if (!(z->flags & STORE_ZONE_SECONDARY))
		return 0;
	/* a secondary: its primaries, and the refresh thread's view when a server runs */
	struct xfr_sec_status st;
	json_object_set_new(o, "loaded", json_boolean(z->has_soa));
	if (xfr_sec_status(z->apex, &st)) {
		json_object_set_new(o, "primaries", json_string(st.primaries));
		json_object_set_new(o, "last_refresh", json_integer(st.last_refresh));
		json_object_set_new(o, "next_refresh", json_integer(st.next_refresh));
		json_object_set_new(o, "expires", json_integer(st.expires));
		json_object_set_new(o, "last_error", json_string(st.last_error));
		json_object_set_new(o, "last_transfer", json_string(st.last_kind));
		json_object_set_new(o, "transfers", json_integer((json_int_t)st.transfers));
		json_object_set_new(o, "failures", json_integer((json_int_t)st.failures));
	}
	return 0;
}

static json_t *c_zone_list(struct req *q, uint64_t *seq)
{
	(void)seq;
	struct store_error e;
	json_t *arr = json_array();
	if (!arr)
		return cmd_reply(CMD_ERROR, NULL, "out of memory");
	struct zlist l = { arr, q->ctx };
	int rc = store_zone_list(q->ctx->store, true, zlist_cb, &l, &e);
	if (rc) {
		json_decref(arr);
		return store_err_q(q->ctx, &e, rc);
	}
	xfr_sec_zone_roles(q->ctx->store, arr);   /* consumed catalogs and their members */
	size_t n = json_array_size(arr);
	return cmd_reply(n ? CMD_OK : CMD_EMPTY, json_pack("{s:o}", "zones", arr), "%zu zone%s", n,
	                 n == 1 ? "" : "s");
}

/* A secondary zone: empty, its primaries (and key) in its zone_acl, one commit. */
static json_t *zone_add_secondary(struct req *q, const uint8_t *origin, json_t *prim,
                                  uint64_t *seq)
{
	char nb[DNS_NAME_STRLEN], why[160];
	const char *list[XFR_SEC_MAX_PRIMARIES];
	size_t n = json_array_size(prim);
	if (n == 0 || n > XFR_SEC_MAX_PRIMARIES)
		return cmd_reply(CMD_ERROR, NULL, "give 1 to %d primaries", XFR_SEC_MAX_PRIMARIES);
	for (size_t i = 0; i < n; i++)
		if (!(list[i] = json_string_value(json_array_get(prim, i))))
			return cmd_reply(CMD_ERROR, NULL, "\"primaries\" holds strings ADDR[@PORT]");
	const char *key = arg_str(q, "key", false);
	if (q->err[0])
		return FAIL(q);
	char *acl = xfr_sec_acl_json(list, n, key, why, sizeof(why));
	if (!acl)
		return cmd_reply(CMD_ERROR, NULL, "zone add: %s", why);
	struct store_op ops[2] = {
		{ .kind = STORE_OP_ZONE_ADD, .zone = origin, .zone_flags = STORE_ZONE_SECONDARY },
		{ .kind = STORE_OP_ACL_SET, .zone = origin, .count = 1, .rdatas = (const uint8_t *)acl,
		  .rdatas_len = strlen(acl) },
	};
	struct store_error e;
	int rc = store_commit(q->ctx->store, NULL, q->ctx->actor, ops, 2, seq, &e);
	free(acl);
	if (rc)
		return store_err_q(q->ctx, &e, rc);
	(void)xfr_sec_refresh(origin, false);   /* a running server transfers it at once */
	return changed(*seq, NULL, "secondary zone %s added", name_str(nb, origin));
}

static json_t *c_zone_refresh(struct req *q, uint64_t *seq)
{
	uint8_t origin[DNS_NAME_MAXLEN];
	char nb[DNS_NAME_STRLEN];
	(void)seq;
	if (!arg_name(q, "zone", origin, true, NULL))
		return FAIL(q);
	bool force = json_is_true(json_object_get(q->args, "force"));
	if (xfr_sec_refresh(origin, force) != DDI_EOK)
		return cmd_reply(CMD_ERROR, NULL, "%s is not a secondary zone of a running server",
		                 name_str(nb, origin));
	return cmd_reply(CMD_OK, NULL, "%s of %s scheduled", force ? "retransfer" : "refresh",
	                 name_str(nb, origin));
}

static json_t *c_zone_add(struct req *q, uint64_t *seq)
{
	uint8_t origin[DNS_NAME_MAXLEN];
	char nb[DNS_NAME_STRLEN];
	if (!arg_name(q, "zone", origin, true, NULL))
		return FAIL(q);
	json_t *prim = json_object_get(q->args, "primaries");
	if (prim && !json_is_array(prim))
		return cmd_reply(CMD_ERROR, NULL, "\"primaries\" must be an array of ADDR[@PORT]");
	if (prim)
		return zone_add_secondary(q, origin, prim, seq);
	const char *soa = arg_str(q, "soa", false);
	uint64_t ttl = 3600;
	if (q->err[0] || !arg_u64(q, "ttl", &ttl, false))
		return FAIL(q);
	json_t *ns = json_object_get(q->args, "ns");
	if (ns && !json_is_array(ns))
		return cmd_reply(CMD_ERROR, NULL, "\"ns\" must be an array of names");
	size_t nns = ns ? json_array_size(ns) : 0;

	/* A small master file with the root as origin: --soa/--ns names are absolute; the
	 * defaults no one typed are ns1.ORIGIN and hostmaster.ORIGIN. */
	struct text t = { 0 };
	char line[128], on[DNS_NAME_STRLEN], dflt[DNS_NAME_STRLEN + 16];
	const char *sub = strcmp(name_str(on, origin), ".") == 0 ? "" : on;
	snprintf(line, sizeof(line), " %" PRIu64 " IN SOA ", ttl);
	bool ok = text_str(&t, on) && text_str(&t, line);
	snprintf(dflt, sizeof(dflt), "ns1.%s", sub);
	if (soa)
		ok = ok && !strpbrk(soa, "\n\r") && text_str(&t, soa);
	else
		ok = ok && text_token(&t, nns ? json_string_value(json_array_get(ns, 0)) ?
		                                  json_string_value(json_array_get(ns, 0)) : "" : dflt) &&
		     text_str(&t, " hostmaster.") && text_str(&t, sub) &&
		     text_str(&t, " 1 3600 900 1209600 300");
	ok = ok && text_str(&t, "\n");
	for (size_t i = 0; i < nns && ok; i++) {
		const char *s = json_string_value(json_array_get(ns, i));
		snprintf(line, sizeof(line), " %" PRIu64 " IN NS ", ttl);
		ok = s && text_str(&t, on) && text_str(&t, line) && text_token(&t, s) &&
		     text_str(&t, "\n");
	}
	if (!ok) {
		free(t.p);
		return cmd_reply(CMD_ERROR, NULL, "soa and ns must be strings without line breaks");
	}
	struct recs r = { 0 };
	ok = parse_text(q, t.p, t.len, "arguments", NULL, true, &r);
	free(t.p);
	if (!ok) {
		recs_free(&r);
		return FAIL(q);
	}
	if (r.n != 1 + nns || r.v[0].type != DNS_T_SOA) {
		recs_free(&r);
		return cmd_reply(CMD_ERROR, NULL, "soa must hold exactly the SOA rdata");
	}
	struct store_op ops[3] = {
		{ .kind = STORE_OP_ZONE_ADD, .zone = origin },
		{ .kind = STORE_OP_RRSET_REPLACE, .zone = origin, .owner = origin, .type = DNS_T_SOA,
		  .ttl = r.v[0].ttl },
		{ .kind = STORE_OP_RRSET_REPLACE, .zone = origin, .owner = origin, .type = DNS_T_NS,
		  .ttl = r.n > 1 ? r.v[1].ttl : 0 },
	};
	struct recs one = { .n = 1, .v = r.v };
	uint8_t *soard = rdatas_of(&one, 0, &ops[1].count, &ops[1].rdatas_len);
	uint8_t *nsrd = rdatas_of(&r, 1, &ops[2].count, &ops[2].rdatas_len);
	ops[1].rdatas = soard;
	ops[2].rdatas = nsrd;
	json_t *reply;
	struct store_error e;
	if (!soard || !nsrd) {
		reply = cmd_reply(CMD_ERROR, NULL, "out of memory");
	} else {
		int rc = store_commit(q->ctx->store, NULL, q->ctx->actor, ops, nns ? 3 : 2, seq, &e);
		reply = rc ? store_err_q(q->ctx, &e, rc) : changed(*seq, NULL, "zone %s added",
		                                         name_str(nb, origin));
	}
	free(soard);
	free(nsrd);
	recs_free(&r);
	return reply;
}

static json_t *c_zone_remove(struct req *q, uint64_t *seq)
{
	uint8_t origin[DNS_NAME_MAXLEN];
	char nb[DNS_NAME_STRLEN];
	struct store_error e;
	if (!arg_name(q, "zone", origin, true, NULL))
		return FAIL(q);
	struct store_op op = { .kind = STORE_OP_ZONE_REMOVE, .zone = origin };
	int rc = store_commit(q->ctx->store, NULL, q->ctx->actor, &op, 1, seq, &e);
	if (rc)
		return store_err_q(q->ctx, &e, rc);
	return changed(*seq, NULL, "zone %s removed", name_str(nb, origin));
}

static json_t *c_zone_import(struct req *q, uint64_t *seq)
{
	uint8_t origin[DNS_NAME_MAXLEN];
	char nb[DNS_NAME_STRLEN];
	struct store_error e;
	struct store_zone_info zi;
	if (!arg_name(q, "zone", origin, true, NULL))
		return FAIL(q);
	json_t *jt = json_object_get(q->args, "text");
	const char *fname = arg_str(q, "filename", false);
	if (!json_is_string(jt))
		return cmd_reply(CMD_ERROR, NULL, "missing argument \"text\" (the master file)");
	if (q->err[0])
		return FAIL(q);
	struct recs r = { .ctx = q->ctx };
	if (q->ctx->progress)
		r.lines = cmd_count_lines(json_string_value(jt), json_string_length(jt));
	if (!parse_text(q, json_string_value(jt), json_string_length(jt), fname ? fname : "text",
	                origin, true, &r)) {
		recs_free(&r);
		return FAIL(q);
	}
	struct store_rr *rrs = malloc((r.n ? r.n : 1) * sizeof(*rrs));
	if (!rrs) {
		recs_free(&r);
		return cmd_reply(CMD_ERROR, NULL, "out of memory");
	}
	for (size_t i = 0; i < r.n; i++)
		rrs[i] = (struct store_rr){ .owner = r.v[i].owner, .type = r.v[i].type,
		                            .ttl = r.v[i].ttl, .rdlen = r.v[i].rdlen,
		                            .rdata = r.v[i].rdata };
	struct store_op op = { .kind = STORE_OP_ZONE_REPLACE, .zone = origin, .rrs = rrs,
	                       .nrrs = r.n };
	if (q->ctx->progress)   /* the parse is done; the write is one transaction */
		q->ctx->progress(q->ctx->progress_ctx, "records read", r.n, r.n);
	int rc = store_commit(q->ctx->store, NULL, q->ctx->actor, &op, 1, seq, &e);
	free(rrs);
	recs_free(&r);
	if (rc)
		return store_err_q(q->ctx, &e, rc);
	if (store_zone_get(q->ctx->store, NULL, origin, true, &zi, &e) != 0)
		return changed(*seq, NULL, "zone %s imported", name_str(nb, origin));
	return changed(*seq, json_pack("{s:I, s:I, s:I}", "serial", (json_int_t)zi.serial,
	                               "rrsets", (json_int_t)zi.nrrsets, "records",
	                               (json_int_t)zi.nrrs),
	               "zone %s imported: serial %u, %" PRIu64 " RRsets, %" PRIu64 " records",
	               name_str(nb, origin), zi.serial, zi.nrrsets, zi.nrrs);
}

static json_t *c_zone_export(struct req *q, uint64_t *seq)
{
	uint8_t origin[DNS_NAME_MAXLEN];
	struct store_error e;
	(void)seq;
	if (!arg_name(q, "zone", origin, true, NULL))
		return FAIL(q);
	struct out o = { .arr = json_array() };
	if (!o.arr)
		return cmd_reply(CMD_ERROR, NULL, "out of memory");
	/* The text form too, exactly as store_zone_export writes it. */
	char *buf = NULL;
	size_t blen = 0;
	FILE *mf = open_memstream(&buf, &blen);
	int rc = mf ? store_zone_export(q->ctx->store, origin, mf, &e) : DDI_ENOMEM;
	if (mf)
		fclose(mf);
	if (rc == 0) {
		rc = store_rrset_get(q->ctx->store, NULL, origin, DNS_T_SOA, out_rrset, &o, &e);
		if (rc == 0 || rc == DDI_ENOENT) {
			o.skip_soa = true;
			rc = store_zone_walk(q->ctx->store, origin, out_rrset, &o, &e);
		}
	}
	if (rc) {
		free(buf);
		json_decref(o.arr);
		return rc == DDI_ENOMEM ? cmd_reply(CMD_ERROR, NULL, "out of memory") : store_err_q(q->ctx, &e, rc);
	}
	size_t n = json_array_size(o.arr);
	json_t *a = json_pack("{s:o, s:s%}", "records", o.arr, "text", buf ? buf : "", blen);
	free(buf);
	return cmd_reply(CMD_OK, a, "%zu records", n);
}

/* Commit one op built from a record request; the reply names what changed. */
static json_t *commit_one(struct req *q, struct store_op *op, uint64_t *seq, const char *verb)
{
	char nb[DNS_NAME_STRLEN];
	struct store_error e;
	int rc = store_commit(q->ctx->store, NULL, q->ctx->actor, op, 1, seq, &e);
	if (rc)
		return store_err_q(q->ctx, &e, rc);
	return changed(*seq, NULL, "%s %s%s%s", verb, name_str(nb, op->owner), op->type ? " " : "",
	               op->type ? dns_type_name(op->type) : "");
}

static json_t *record_change(struct req *q, uint64_t *seq, enum store_op_kind kind)
{
	struct recs r = { 0 };
	if (!parse_records(q, q->args, NULL, true, &r)) {
		recs_free(&r);
		return FAIL(q);
	}
	for (size_t i = 1; i < r.n; i++)
		if (r.v[i].ttl != r.v[0].ttl) {
			recs_free(&r);
			return cmd_reply(CMD_ERROR, NULL, "the records of an RRset share one TTL");
		}
	struct store_op op = { .kind = kind, .owner = r.v[0].owner, .type = r.v[0].type,
	                       .ttl = r.v[0].ttl };
	uint8_t *rd = rdatas_of(&r, 0, &op.count, &op.rdatas_len);
	op.rdatas = rd;
	json_t *reply = rd ? commit_one(q, &op, seq, kind == STORE_OP_RR_ADD ? "added" : "replaced")
	                   : cmd_reply(CMD_ERROR, NULL, "out of memory");
	free(rd);
	recs_free(&r);
	return reply;
}

static json_t *c_record_add(struct req *q, uint64_t *seq)
{
	return record_change(q, seq, STORE_OP_RR_ADD);
}

static json_t *c_record_replace(struct req *q, uint64_t *seq)
{
	return record_change(q, seq, STORE_OP_RRSET_REPLACE);
}

static json_t *c_record_delete(struct req *q, uint64_t *seq)
{
	uint8_t owner[DNS_NAME_MAXLEN];
	if (!arg_name(q, "name", owner, true, NULL))
		return FAIL(q);
	struct store_op op = { .kind = STORE_OP_RRSET_DELETE, .owner = owner };
	if (!arg_type(q, "type", &op.type, false))
		return FAIL(q);
	if (!json_object_get(q->args, "rdata"))
		return commit_one(q, &op, seq, "deleted");
	if (!op.type)
		return cmd_reply(CMD_ERROR, NULL, "rdata needs a type");
	struct recs r = { 0 };
	json_t *a = json_deep_copy(q->args);
	if (!a)
		return cmd_reply(CMD_ERROR, NULL, "out of memory");
	json_object_set_new(a, "ttl", json_integer(0));
	bool ok = parse_records(q, a, NULL, true, &r);
	json_decref(a);
	if (!ok) {
		recs_free(&r);
		return FAIL(q);
	}
	op.kind = STORE_OP_RR_DELETE;
	uint8_t *rd = rdatas_of(&r, 0, &op.count, &op.rdatas_len);
	op.rdatas = rd;
	json_t *reply = rd ? commit_one(q, &op, seq, "deleted")
	                   : cmd_reply(CMD_ERROR, NULL, "out of memory");
	free(rd);
	recs_free(&r);
	return reply;
}

static json_t *c_record_get(struct req *q, uint64_t *seq)
{
	uint8_t owner[DNS_NAME_MAXLEN];
	struct store_error e;
	uint16_t type = 0;
	(void)seq;
	if (!arg_name(q, "name", owner, true, NULL) || !arg_type(q, "type", &type, false))
		return FAIL(q);
	struct out o = { .arr = json_array() };
	if (!o.arr)
		return cmd_reply(CMD_ERROR, NULL, "out of memory");
	int rc = store_rrset_get(q->ctx->store, NULL, owner, type, out_rrset, &o, &e);
	if (rc == DDI_ENOENT)
		return cmd_reply(CMD_EMPTY, json_pack("{s:o}", "records", o.arr), "%s",
		                 e.msg[0] ? e.msg : "no records");
	if (rc) {
		json_decref(o.arr);
		return store_err_q(q->ctx, &e, rc);
	}
	size_t n = json_array_size(o.arr);
	return cmd_reply(CMD_OK, json_pack("{s:o}", "records", o.arr), "%zu record%s", n,
	                 n == 1 ? "" : "s");
}

static json_t *c_record_list(struct req *q, uint64_t *seq)
{
	uint8_t zone[DNS_NAME_MAXLEN], suffix[DNS_NAME_MAXLEN];
	struct store_error e;
	bool has_suffix = false;
	uint64_t limit = 0;
	(void)seq;
	struct out o = { 0 };
	if (!arg_name(q, "zone", zone, true, NULL) || !arg_type(q, "type", &o.type, false) ||
	    !arg_name(q, "name", suffix, false, &has_suffix) || !arg_u64(q, "limit", &limit, false))
		return FAIL(q);
	o.name_suffix = has_suffix ? suffix : NULL;
	o.limit = (size_t)limit;
	if (!(o.arr = json_array()))
		return cmd_reply(CMD_ERROR, NULL, "out of memory");
	int rc = store_zone_walk(q->ctx->store, zone, out_rrset, &o, &e);
	if (rc < 0) {
		json_decref(o.arr);
		return store_err_q(q->ctx, &e, rc);
	}
	size_t n = json_array_size(o.arr);
	return cmd_reply(n ? CMD_OK : CMD_EMPTY, json_pack("{s:o}", "records", o.arr),
	                 "%zu record%s", n, n == 1 ? "" : "s");
}

/*
 * changes: [{"op": "add"|"replace"|"delete", name, [ttl], [type], [rdata|rdatas]}, ...]
 * in ONE commit: all of them or none.
 */
static json_t *c_changes(struct req *q, uint64_t *seq)
{
	json_t *ch = json_object_get(q->args, "changes");
	if (!json_is_array(ch) || json_array_size(ch) == 0)
		return cmd_reply(CMD_ERROR, NULL, "\"changes\" must be a non-empty array");
	size_t n = json_array_size(ch);
	if (n > 100000)
		return cmd_reply(CMD_ERROR, NULL, "at most 100000 changes per commit");
	struct store_op *ops = calloc(n, sizeof(*ops));
	struct recs *rs = calloc(n, sizeof(*rs));
	uint8_t(*owners)[DNS_NAME_MAXLEN] = calloc(n, DNS_NAME_MAXLEN);
	uint8_t **rds = calloc(n, sizeof(*rds));
	json_t *reply = NULL;
	if (!ops || !rs || !owners || !rds) {
		reply = cmd_reply(CMD_ERROR, NULL, "out of memory");
		goto out;
	}
	for (size_t i = 0; i < n; i++) {
		json_t *c = json_array_get(ch, i);
		struct req sub = { .ctx = q->ctx, .args = c };
		const char *opn = json_is_object(c) ? arg_str(&sub, "op", true) : NULL;
		if (!opn) {
			reply = cmd_reply(CMD_ERROR, NULL, "change %zu: %s", i,
			                  sub.err[0] ? sub.err : "must be an object");
			goto out;
		}
		bool del = strcmp(opn, "delete") == 0;
		if (!del && strcmp(opn, "add") != 0 && strcmp(opn, "replace") != 0) {
			reply = cmd_reply(CMD_ERROR, NULL, "change %zu: op must be add, replace or delete",
			                  i);
			goto out;
		}
		if (del && !json_object_get(c, "rdata")) {
			ops[i].kind = STORE_OP_RRSET_DELETE;
			ops[i].owner = owners[i];
			if (!arg_name(&sub, "name", owners[i], true, NULL) ||
			    !arg_type(&sub, "type", &ops[i].type, false)) {
				reply = cmd_reply(CMD_ERROR, NULL, "change %zu: %s", i, sub.err);
				goto out;
			}
			continue;
		}
		json_t *a = del ? json_deep_copy(c) : json_incref(c);
		if (del && a)
			json_object_set_new(a, "ttl", json_integer(0));
		bool ok = a && parse_records(&sub, a, NULL, true, &rs[i]);
		json_decref(a);
		if (!ok) {
			reply = cmd_reply(CMD_ERROR, NULL, "change %zu: %s", i, sub.err);
			goto out;
		}
		ops[i].kind = del ? STORE_OP_RR_DELETE
		                  : opn[0] == 'a' ? STORE_OP_RR_ADD : STORE_OP_RRSET_REPLACE;
		ops[i].owner = rs[i].v[0].owner;
		ops[i].type = rs[i].v[0].type;
		ops[i].ttl = rs[i].v[0].ttl;
		if (!(rds[i] = rdatas_of(&rs[i], 0, &ops[i].count, &ops[i].rdatas_len))) {
			reply = cmd_reply(CMD_ERROR, NULL, "out of memory");
			goto out;
		}
		ops[i].rdatas = rds[i];
	}
	struct store_error e;
	int rc = store_commit(q->ctx->store, NULL, q->ctx->actor, ops, n, seq, &e);
	reply = rc ? store_err_q(q->ctx, &e, rc) : changed(*seq, NULL, "%zu change%s committed", n,
	                                         n == 1 ? "" : "s");
out:
	for (size_t i = 0; rs && i < n; i++)
		recs_free(&rs[i]);
	for (size_t i = 0; rds && i < n; i++)
		free(rds[i]);
	free(ops);
	free(rs);
	free(owners);
	free(rds);
	return reply;
}

struct jctx {
	json_t *arr;
	const struct cmd_ctx *ctx;   /* whose scope filters entries and ops */
	const char *actor;
	bool has_zone, has_name;
	uint8_t zone[DNS_NAME_MAXLEN], name[DNS_NAME_MAXLEN];
	size_t limit;
};

/* One "ipam" op of an entry: its record's prefix, address or range inside the scope. */
static bool ipam_op_seen(const struct cmd_ctx *ctx, const json_t *op)
{
	static const char *const keys[] = { "prefix", "address", "first", "last" };
	bool any = false;
	for (size_t i = 0; i < sizeof(keys) / sizeof(keys[0]); i++) {
		const char *v = json_string_value(json_object_get(op, keys[i]));
		struct auth_prefix p;
		if (!v)
			continue;
		if (!auth_prefix_parse(v, &p) || !cmd_sees_prefix(ctx, p.family, p.addr, p.plen))
			return false;
		any = true;
	}
	return any;   /* a record naming no address is nobody's in particular: hidden */
}

/*
 * A journal entry as a scoped principal sees it (o is changed in place):
 * only the DNS ops of zones inside its zones (never the zone "." ops of
 * keys, policies and principals) and the IPAM ops of records inside its
 * prefixes; a note only when it is the principal's own. false: nothing of
 * the entry is left, skip it. seq, time and actor stay as stored: the
 * actor of a change inside its scope is part of its audit trail.
 */
static bool journal_scope(const struct cmd_ctx *ctx, json_t *o)
{
	const char *actor = json_string_value(json_object_get(o, "actor"));
	if (json_object_get(o, "note"))
		return actor && strcmp(actor, ctx->principal->actor) == 0;   /* its own refusals */
	size_t kept = 0;
	static const char *const arrays[] = { "ops", "ipam" };
	for (size_t a = 0; a < 2; a++) {
		json_t *arr = json_object_get(o, arrays[a]);
		for (size_t i = 0; i < json_array_size(arr);) {
			json_t *op = json_array_get(arr, i);
			uint8_t zone[DNS_NAME_MAXLEN];
			const char *z = json_string_value(json_object_get(op, "zone"));
			bool seen = a == 1 ? ipam_op_seen(ctx, op)
			                   : z && dns_name_from_str(zone, z, strlen(z), NULL) > 1 &&
			                             cmd_sees_name(ctx, zone);
			if (seen)
				i++;
			else
				json_array_remove(arr, i);
		}
		kept += json_array_size(arr);
	}
	return kept > 0;
}

static int journal_cb(void *ctx, const struct store_journal_entry *je)
{
	struct jctx *j = ctx;
	if (j->actor && strcmp(j->actor, je->actor) != 0)
		return 0;
	bool zone_ok = !j->has_zone, name_ok = !j->has_name;
	for (size_t i = 0; i < je->nops; i++) {
		zone_ok = zone_ok || dns_name_equal(je->ops[i].zone, j->zone);
		name_ok = name_ok || dns_name_equal(je->ops[i].owner, j->name);
	}
	if (!zone_ok || !name_ok)
		return 0;
	json_t *o = json_loads(je->json, 0, NULL);
	if (!o)
		return DDI_ENOMEM;
	if (cmd_scoped(j->ctx) && !journal_scope(j->ctx, o)) {
		json_decref(o);
		return 0;   /* nothing of it inside the principal's scope */
	}
	if (json_array_append_new(j->arr, o) != 0)
		return DDI_ENOMEM;
	return j->limit && json_array_size(j->arr) >= j->limit ? 1 : 0;
}

static json_t *c_journal(struct req *q, uint64_t *seq)
{
	struct jctx j = { .ctx = q->ctx };
	struct store_error e;
	uint64_t since = 1, limit = 0;
	(void)seq;
	if (!arg_u64(q, "since", &since, false) || !arg_u64(q, "limit", &limit, false) ||
	    !arg_name(q, "zone", j.zone, false, &j.has_zone) ||
	    !arg_name(q, "name", j.name, false, &j.has_name))
		return FAIL(q);
	j.actor = arg_str(q, "actor", false);
	if (q->err[0])
		return FAIL(q);
	j.limit = (size_t)limit;
	if (!(j.arr = json_array()))
		return cmd_reply(CMD_ERROR, NULL, "out of memory");
	int rc = store_journal_read(q->ctx->store, since, 0, journal_cb, &j, &e);
	if (rc < 0) {
		json_decref(j.arr);
		return store_err_q(q->ctx, &e, rc);
	}
	size_t n = json_array_size(j.arr);
	return cmd_reply(n ? CMD_OK : CMD_EMPTY, json_pack("{s:o}", "entries", j.arr),
	                 "%zu entr%s", n, n == 1 ? "y" : "ies");
}

/* Backup progress: the copy's size seen every 200 ms while mdb_env_copy2 writes it. */
struct bwatch {
	const struct cmd_ctx *ctx;
	char path[4096];
	uint64_t total;
	atomic_bool done;
};

static void *bwatch_main(void *arg)
{
	struct bwatch *w = arg;
	while (!atomic_load(&w->done)) {
		struct timespec ts = { 0, 200 * 1000 * 1000 };
		nanosleep(&ts, NULL);
		struct stat st;
		if (!atomic_load(&w->done) && stat(w->path, &st) == 0)
			w->ctx->progress(w->ctx->progress_ctx, "bytes copied", (uint64_t)st.st_size,
			                 w->total > (uint64_t)st.st_size ? w->total : (uint64_t)st.st_size + 1);
	}
	return NULL;
}

static json_t *c_backup(struct req *q, uint64_t *seq)
{
	struct store_error e;
	(void)seq;
	const char *dir = arg_str(q, "dir", true);
	if (!dir)
		return FAIL(q);
	uint64_t last = 0;
	struct bwatch w = { .ctx = q->ctx };
	pthread_t th;
	bool watching = q->ctx->progress &&
	                store_used_bytes(q->ctx->store, &w.total, &e) == DDI_EOK &&
	                snprintf(w.path, sizeof(w.path), "%s/data.mdb", dir) < (int)sizeof(w.path) &&
	                pthread_create(&th, NULL, bwatch_main, &w) == 0;
	int rc = store_backup(q->ctx->store, dir, &last, &e);
	if (watching) {
		atomic_store(&w.done, true);
		pthread_join(th, NULL);
		struct stat st;
		if (rc == 0 && stat(w.path, &st) == 0)   /* the copy is compacted: its size is the total */
			q->ctx->progress(q->ctx->progress_ctx, "bytes copied", (uint64_t)st.st_size,
			                 (uint64_t)st.st_size);
	}
	if (rc)
		return store_err_q(q->ctx, &e, rc);
	return cmd_reply(CMD_OK, json_pack("{s:s, s:I}", "dir", dir, "seq", (json_int_t)last),
	                 "backup of the store at journal seq %" PRIu64 " in %s", last, dir);
}
