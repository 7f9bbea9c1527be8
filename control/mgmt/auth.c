/* auth -- scoped roles: the scope table, the one decision, token hashes, principal records and their commands */
#include <arpa/inet.h>
#include <inttypes.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <openssl/rand.h>

#include "control/log.h"
#include "control/mgmt/auth.h"
#include "control/store/store.h"
#include "dns/errcode.h"

/* ------------------------------------------------------------------------ */
/* Roles, names, prefixes                                                   */
/* ------------------------------------------------------------------------ */

static const char *const role_names[] = {
	[AUTH_ROLE_READER] = "reader",
	[AUTH_ROLE_DNS_EDITOR] = "dns-editor",
	[AUTH_ROLE_IPAM_EDITOR] = "ipam-editor",
	[AUTH_ROLE_ADMIN] = "admin",
};

const char *auth_role_name(enum auth_role r)
{
	return r >= AUTH_ROLE_READER && r <= AUTH_ROLE_ADMIN ? role_names[r] : "none";
}

bool auth_role_parse(const char *s, enum auth_role *r)
{
	for (int i = AUTH_ROLE_READER; s && i <= AUTH_ROLE_ADMIN; i++)
		if (strcmp(s, role_names[i]) == 0) {
			*r = (enum auth_role)i;
			return true;
		}
	return false;
}

bool auth_name_valid(const char *name)
{
	size_t n = name ? strlen(name) : 0;
	if (n == 0 || n > AUTH_NAME_MAX)
		return false;
	for (size_t i = 0; i < n; i++)
		if (!((name[i] >= 'a' && name[i] <= 'z') || (name[i] >= '0' && name[i] <= '9') ||
		      name[i] == '-' || name[i] == '_'))
			return false;
	return true;
}

bool auth_prefix_parse(const char *s, struct auth_prefix *p)
{
	char host[INET6_ADDRSTRLEN + 1];
	const char *slash = strchr(s, '/');
	size_t hl = slash ? (size_t)(slash - s) : strlen(s);
	if (hl == 0 || hl >= sizeof(host))
		return false;
	memcpy(host, s, hl);
	host[hl] = '\0';
	memset(p, 0, sizeof(*p));
	if (inet_pton(AF_INET, host, p->addr) == 1)
		p->family = 4;
	else if (inet_pton(AF_INET6, host, p->addr) == 1)
		p->family = 6;
	else
		return false;
	unsigned max = p->family == 4 ? 32 : 128;
	p->plen = max;
	if (slash) {
		char *end;
		unsigned long v = strtoul(slash + 1, &end, 10);
		if (!slash[1] || *end || slash[1] == '-' || slash[1] == '+' || v > max)
			return false;
		p->plen = (unsigned)v;
	}
	for (unsigned b = p->plen; b < max; b++)   /* host bits set: not a prefix */
		if (p->addr[b / 8] & (0x80 >> (b % 8)))
			return false;
	return true;
}

bool auth_prefix_within(const struct auth_prefix *in, const struct auth_prefix *out)
{
	if (in->family != out->family || in->plen < out->plen)
		return false;
	for (unsigned b = 0; b < out->plen; b++)
		if ((in->addr[b / 8] ^ out->addr[b / 8]) & (0x80 >> (b % 8)))
			return false;
	return true;
}

/* ------------------------------------------------------------------------ */
/* Principal records                                                        */
/* ------------------------------------------------------------------------ */

bool auth_principal_parse(struct auth_principal *p, const char *json, size_t len, char *why,
                          size_t wlen)
{
	json_t *o = json_loadb(json, len, 0, NULL), *v;
	const char *kind = json_string_value(json_object_get(o, "kind"));
	const char *name = json_string_value(json_object_get(o, "name"));
	const char *role = json_string_value(json_object_get(o, "role"));
	json_t *zones = json_object_get(o, "zones"), *prefixes = json_object_get(o, "prefixes");
	size_t i;
	bool ok = kind && (strcmp(kind, "token") == 0 || strcmp(kind, "user") == 0) &&
	          auth_name_valid(name) && auth_role_parse(role, &p->role) &&
	          (!zones || (json_is_array(zones) && json_array_size(zones) <= AUTH_SCOPES_MAX)) &&
	          (!prefixes ||
	           (json_is_array(prefixes) && json_array_size(prefixes) <= AUTH_SCOPES_MAX));
	if (ok) {
		snprintf(p->actor, sizeof(p->actor), "%s:%s", kind[0] == 't' ? "token" : "unix", name);
		p->nzones = p->nprefixes = 0;
	}
	json_array_foreach(ok ? zones : NULL, i, v) {
		const char *z = json_string_value(v);
		ok = ok && z && dns_name_from_str(p->zones[p->nzones], z, strlen(z), NULL) > 0;
		if (ok)
			dns_name_lower(p->zones[p->nzones++]);
	}
	json_array_foreach(ok ? prefixes : NULL, i, v) {
		const char *s = json_string_value(v);
		ok = ok && s && auth_prefix_parse(s, &p->prefixes[p->nprefixes]);
		if (ok)
			p->nprefixes++;
	}
	json_decref(o);
	if (!ok)
		snprintf(why, wlen, "the principal's record does not validate");
	return ok;
}

/* ------------------------------------------------------------------------ */
/* The scope table and the decision                                         */
/* ------------------------------------------------------------------------ */

enum touch {
	T_NAME = 1,     /* the argument is a DNS name: dns-editor of a zone holding it */
	T_CHANGES,      /* an array of changes, each with a "name" */
	T_ADDR,         /* the argument(s) are a prefix or an address: ipam-editor of a prefix */
};

/*
 * What each scoped command changes, by argument. A command that changes
 * something and is not here needs admin (zone-add/-remove/-import, keys,
 * policies, ACLs, tokens, roles, backup, shutdown, reload, ipam-import).
 */
static const struct scope_decl {
	const char *command;
	enum touch touch;
	const char *arg, *arg2;   /* required */
	const char *opt1, *opt2;  /* checked when given (range-edit's new bounds) */
} scopes[] = {
	{ "record-add", T_NAME, "name", NULL },
	{ "record-delete", T_NAME, "name", NULL },
	{ "record-replace", T_NAME, "name", NULL },
	{ "changes", T_CHANGES, "changes", NULL },
	{ "prefix-add", T_ADDR, "prefix", NULL },
	{ "prefix-remove", T_ADDR, "prefix", NULL },
	{ "range-add", T_ADDR, "first", "last" },
	{ "alloc-next", T_ADDR, "prefix", NULL },
	{ "alloc-address", T_ADDR, "address", NULL },
	{ "alloc-prefix", T_ADDR, "parent", NULL },
	{ "release", T_ADDR, "address", NULL },
	{ "prefix-edit", T_ADDR, "prefix", NULL },
	{ "range-edit", T_ADDR, "first", "last", "new_first", "new_last" },
	{ "range-remove", T_ADDR, "first", "last" },
	{ "alloc-reserve", T_ADDR, "address", NULL },
	{ "alloc-edit", T_ADDR, "address", NULL },
	{ "zone-aging", T_NAME, "zone", NULL },
	{ "scavenge", T_NAME, "zone", NULL },
};

/*
 * The reads that name one zone, name, prefix or address: a principal whose
 * role names zones (or prefixes) reads only inside them, whatever its role.
 * A read with that argument missing (history without a name) is refused
 * to such a principal: it would list every tenant; stale without a zone
 * is a report filtered row by row (read_lists).
 */
static const struct scope_decl read_scopes[] = {
	{ "record-get", T_NAME, "name", NULL },
	{ "record-list", T_NAME, "zone", NULL },
	{ "zone-export", T_NAME, "zone", NULL },
	{ "diff", T_NAME, "zone", NULL },
	{ "prefix-show", T_ADDR, "prefix", NULL },
	{ "alloc-list", T_ADDR, "prefix", NULL },
	{ "utilization", T_ADDR, "prefix", NULL },
	{ "address-show", T_ADDR, "address", NULL },
	{ "history", T_NAME, "name", NULL },
	{ "stale", T_NAME, "zone", NULL },   /* a scoped reader names one of its zones */
};

/*
 * The reads that list: each filters its rows through the principal's
 * scope while it walks (cmd_sees_name / cmd_sees_prefix, answered by
 * auth_sees_name / auth_sees_prefix below), so a scoped principal sees
 * only its own zones, prefixes, ranges, journal entries, catalogs, keys,
 * rules and principal record, and the stale and conflicts reports of its
 * own names and addresses; ipam-export writes the rows of its prefixes.
 * The counters (status, stats) and the command list are not tenant data
 * and are shown whole. Any other read is refused to a scoped principal: a
 * new read command is closed to tenants until it is listed here
 * (test_scopelist.c checks that every read of the command table is
 * declared).
 */
static const char *const read_lists[] = {
	"zone-list", "journal", "key-list", "policy-list", "prefix-list", "prefix-tree",
	"range-list", "catalog-list", "token-list", "role-list",
	"stale",   /* also in read_scopes: a zone named must be its own; none: its rows */
	"conflicts", "ipam-export",
};
static const char *const read_unscoped[] = { "list-commands", "status", "stats" };

static bool in_list(const char *const *t, size_t n, const char *command)
{
	for (size_t i = 0; i < n; i++)
		if (strcmp(t[i], command) == 0)
			return true;
	return false;
}

#define NELEM(t) (sizeof(t) / sizeof((t)[0]))

static const struct scope_decl *find_decl(const struct scope_decl *t, size_t n,
                                          const char *command)
{
	for (size_t i = 0; i < n; i++)
		if (strcmp(t[i].command, command) == 0)
			return &t[i];
	return NULL;
}

static const struct scope_decl *scope_of(const char *command)
{
	return find_decl(scopes, sizeof(scopes) / sizeof(scopes[0]), command);
}


bool auth_command_declared(const char *command)
{
	return scope_of(command) != NULL;
}

bool auth_read_declared(const char *command)
{
	return find_decl(read_scopes, NELEM(read_scopes), command) ||
	       in_list(read_lists, NELEM(read_lists), command) ||
	       in_list(read_unscoped, NELEM(read_unscoped), command);
}

bool auth_scoped(const struct auth_principal *p)
{
	return p->role != AUTH_ROLE_ADMIN && (p->nzones || p->nprefixes);
}

bool auth_sees_name(const struct auth_principal *p, const uint8_t *name)
{
	if (p->role == AUTH_ROLE_ADMIN || p->nzones == 0)
		return true;
	for (unsigned i = 0; i < p->nzones; i++)
		if (dns_name_is_sub(name, p->zones[i]))
			return true;
	return false;
}

bool auth_sees_prefix(const struct auth_principal *p, int family, const uint8_t addr[16],
                      unsigned plen)
{
	if (p->role == AUTH_ROLE_ADMIN || p->nprefixes == 0)
		return true;
	struct auth_prefix a = { .family = family, .plen = plen };
	memcpy(a.addr, addr, family == 4 ? 4 : 16);
	for (unsigned i = 0; i < p->nprefixes; i++)
		if (auth_prefix_within(&a, &p->prefixes[i]))
			return true;
	return false;
}

const struct cmd_scope auth_scope = {
	.name = auth_sees_name,
	.prefix = auth_sees_prefix,
	.scoped = auth_scoped,
};

/* The principal's scope as text, for a reason: "dns-editor for a.test. b.test.". */
static void scope_text(const struct auth_principal *p, char *buf, size_t len)
{
	size_t off = (size_t)snprintf(buf, len, "%s", auth_role_name(p->role));
	char nb[DNS_NAME_STRLEN], ab[INET6_ADDRSTRLEN];
	for (unsigned i = 0; i < p->nzones && off < len; i++) {
		if (dns_name_to_str(nb, sizeof(nb), p->zones[i]) < 0)
			snprintf(nb, sizeof(nb), "?");
		off += (size_t)snprintf(buf + off, len - off, "%s%s", i ? " " : " for ", nb);
	}
	for (unsigned i = 0; i < p->nprefixes && off < len; i++) {
		inet_ntop(p->prefixes[i].family == 4 ? AF_INET : AF_INET6, p->prefixes[i].addr, ab,
		          sizeof(ab));
		off += (size_t)snprintf(buf + off, len - off, "%s%s/%u", i || p->nzones ? " " : " for ",
		                        ab, p->prefixes[i].plen);
	}
}

static bool name_in_scope(const struct auth_principal *p, const char *s, const char *verb,
                          char *why, size_t wlen)
{
	uint8_t name[DNS_NAME_MAXLEN];
	char sc[512];
	if (!s || !s[0] || dns_name_from_str(name, s, strlen(s), NULL) <= 0) {
		snprintf(why, wlen, "the name to %s is missing or not valid", verb);
		return false;
	}
	if (auth_sees_name(p, name))
		return true;
	scope_text(p, sc, sizeof(sc));
	snprintf(why, wlen, "%s (%s) may not %s %.256s: outside its zones", p->actor, sc, verb, s);
	return false;
}

static bool addr_in_scope(const struct auth_principal *p, const char *s, const char *verb,
                          char *why, size_t wlen)
{
	struct auth_prefix a;
	char sc[512];
	if (!s || !auth_prefix_parse(s, &a)) {
		snprintf(why, wlen, "the prefix or address to %s is missing or not valid", verb);
		return false;
	}
	if (auth_sees_prefix(p, a.family, a.addr, a.plen))
		return true;
	scope_text(p, sc, sizeof(sc));
	snprintf(why, wlen, "%s (%s) may not %s %.64s: outside its prefixes", p->actor, sc, verb, s);
	return false;
}

/* A read (read_scopes) by a principal with zones or prefixes: inside them only. */
static bool read_allowed(const struct auth_principal *p, const char *command, const json_t *args,
                         char *why, size_t wlen)
{
	const struct scope_decl *d = find_decl(read_scopes, NELEM(read_scopes), command);
	if (!d) {
		if (!auth_scoped(p) || in_list(read_lists, NELEM(read_lists), command) ||
		    in_list(read_unscoped, NELEM(read_unscoped), command))
			return true;   /* a list filters its rows itself */
		snprintf(why, wlen, "%s lists every tenant's data; %s is scoped to zones or prefixes",
		         command, p->actor);
		return false;
	}
	if (d->touch == T_NAME ? p->nzones == 0 : p->nprefixes == 0)
		return true;
	const char *a = json_string_value(json_object_get(args, d->arg));
	if (!json_object_get(args, d->arg) && in_list(read_lists, NELEM(read_lists), command))
		return true;   /* a report of everything, filtered row by row */
	return d->touch == T_NAME ? name_in_scope(p, a, "read", why, wlen)
	                          : addr_in_scope(p, a, "read", why, wlen);
}

bool auth_allow(const struct auth_principal *p, const char *command, enum cmd_role needed,
                const json_t *args, char *why, size_t wlen)
{
	if (p->role == AUTH_ROLE_ADMIN)
		return true;
	if (needed <= CMD_ROLE_READ)
		return read_allowed(p, command, args, why, wlen);
	const struct scope_decl *d = scope_of(command);
	enum auth_role want = !d ? AUTH_ROLE_ADMIN
	                      : d->touch == T_ADDR ? AUTH_ROLE_IPAM_EDITOR : AUTH_ROLE_DNS_EDITOR;
	if (p->role != want) {
		snprintf(why, wlen, "%s needs the %s role%s, %s has %s", command, auth_role_name(want),
		         d ? " (or admin)" : "", p->actor, auth_role_name(p->role));
		return false;
	}
	const char *a1 = json_string_value(json_object_get(args, d->arg));
	const char *a2 = d->arg2 ? json_string_value(json_object_get(args, d->arg2)) : NULL;
	switch (d->touch) {
	case T_NAME:
		return name_in_scope(p, a1, "change", why, wlen);
	case T_ADDR:
		if (!addr_in_scope(p, a1, "change", why, wlen) ||
		    (d->arg2 && !addr_in_scope(p, a2, "change", why, wlen)))
			return false;
		for (const char *const *o = &d->opt1; o <= &d->opt2; o++)
			if (*o && json_object_get(args, *o) &&
			    !addr_in_scope(p, json_string_value(json_object_get(args, *o)), "change", why,
			                   wlen))
				return false;
		return true;
	case T_CHANGES: {
		json_t *ch = json_object_get(args, d->arg), *c;
		size_t i;
		if (!json_is_array(ch)) {
			snprintf(why, wlen, "\"changes\" must be an array");
			return false;
		}
		json_array_foreach(ch, i, c) {
			if (!name_in_scope(p, json_string_value(json_object_get(c, "name")), "change", why,
			                   wlen))
				return false;
		}
		return true;
	}
	}
	return false;
}

json_t *auth_check(const struct cmd_ctx *ctx, const char *command, enum cmd_role needed,
                   const json_t *args)
{
	char why[512];
	if (auth_allow(ctx->principal, command, needed, args, why, sizeof(why)))
		return NULL;
	auth_refused(ctx->store, ctx->principal->actor, command, why);
	return cmd_reply(CMD_ERROR, NULL, "%s: access denied: %s", command, why);
}

/* ------------------------------------------------------------------------ */
/* Tokens                                                                   */
/* ------------------------------------------------------------------------ */

int auth_token_make(char out[AUTH_TOKEN_LEN + 1], const char *name)
{
	uint8_t rnd[32];
	if (!auth_name_valid(name))
		return DDI_EINVAL;
	if (RAND_bytes(rnd, sizeof(rnd)) != 1)
		return DDI_EIO;
	int off = snprintf(out, AUTH_TOKEN_LEN + 1, "ddi_%s_", name);
	for (size_t i = 0; i < sizeof(rnd); i++)
		off += snprintf(out + off, (size_t)(AUTH_TOKEN_LEN + 1 - off), "%02x", rnd[i]);
	OPENSSL_cleanse(rnd, sizeof(rnd));
	return DDI_EOK;
}

bool auth_token_name(const char *token, char name[AUTH_NAME_MAX + 1])
{
	size_t n = strnlen(token, AUTH_TOKEN_LEN + 1);
	if (n > AUTH_TOKEN_LEN || n < 4 + 1 + 1 + 64 || strncmp(token, "ddi_", 4) != 0 ||
	    token[n - 65] != '_')
		return false;
	size_t nl = n - 65 - 4;
	memcpy(name, token + 4, nl);
	name[nl] = '\0';
	for (size_t i = n - 64; i < n; i++)
		if (!((token[i] >= '0' && token[i] <= '9') || (token[i] >= 'a' && token[i] <= 'f')))
			return false;
	return auth_name_valid(name);
}

void auth_token_hash(const char *token, char hex[AUTH_HASH_HEX + 1])
{
	uint8_t md[EVP_MAX_MD_SIZE];
	unsigned mdlen = 0;
	hex[0] = '\0';
	if (EVP_Digest(token, strlen(token), md, &mdlen, EVP_sha256(), NULL) != 1 || mdlen != 32)
		return;
	for (unsigned i = 0; i < mdlen; i++)
		snprintf(hex + 2 * i, 3, "%02x", md[i]);
}

bool auth_hash_equal(const char *a, const char *b)
{
	size_t la = strlen(a), lb = strlen(b);
	return la == AUTH_HASH_HEX && lb == AUTH_HASH_HEX && CRYPTO_memcmp(a, b, la) == 0;
}

/* The principal's key in the store: NAME.token. or NAME.user. */
static bool principal_key(uint8_t out[DNS_NAME_MAXLEN], const char *kind, const char *name)
{
	char s[AUTH_NAME_MAX + 16];
	if (!auth_name_valid(name))
		return false;
	snprintf(s, sizeof(s), "%s.%s.", name, kind);
	return dns_name_from_str(out, s, strlen(s), NULL) > 0;
}

struct found {
	struct auth_principal *p;
	char hash[AUTH_HASH_HEX + 1];
	bool ok;
	char why[160];
};

static int found_cb(void *ctx, const uint8_t *name, const char *json, size_t len)
{
	struct found *f = ctx;
	(void)name;
	f->ok = auth_principal_parse(f->p, json, len, f->why, sizeof(f->why));
	if (f->ok) {
		json_t *o = json_loadb(json, len, 0, NULL);
		snprintf(f->hash, sizeof(f->hash), "%s",
		         json_string_value(json_object_get(o, "hash")) ?: "");
		json_decref(o);
	}
	return 0;
}

int auth_token_principal(struct store *s, const char *token, struct auth_principal *p, char *why,
                         size_t wlen)
{
	char name[AUTH_NAME_MAX + 1], hash[AUTH_HASH_HEX + 1];
	uint8_t key[DNS_NAME_MAXLEN];
	struct store_error e;
	struct found f = { .p = p };
	snprintf(why, wlen, "unknown or revoked token");
	if (!auth_token_name(token, name) || !principal_key(key, "token", name))
		return DDI_EACCES;
	auth_token_hash(token, hash);
	if (store_auth_value(s, NULL, key, found_cb, &f, &e) != DDI_EOK || !f.ok ||
	    !auth_hash_equal(hash, f.hash))
		return DDI_EACCES;
	return DDI_EOK;
}

int auth_user_principal(struct store *s, const char *user, struct auth_principal *p)
{
	uint8_t key[DNS_NAME_MAXLEN];
	struct store_error e;
	struct found f = { .p = p };
	if (!principal_key(key, "user", user))
		return DDI_ENOENT;
	if (store_auth_value(s, NULL, key, found_cb, &f, &e) != DDI_EOK)
		return DDI_ENOENT;
	return f.ok ? DDI_EOK : DDI_ENOENT;
}

/* ------------------------------------------------------------------------ */
/* Refusals                                                                 */
/* ------------------------------------------------------------------------ */

static struct {
	pthread_mutex_t lock;
	struct auth_stats st;
	struct slot {
		uint64_t start_ms, folded;
		char actor[AUTH_NAME_MAX + 8];
		char why[200];
	} slot[AUTH_NOTE_SLOTS];
} refusals = { .lock = PTHREAD_MUTEX_INITIALIZER };

static uint64_t mono_ms(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000u + (uint64_t)ts.tv_nsec / 1000000u;
}

/*
 * The verdict for (actor, why) now: note it (*folded: refusals of the pair
 * since its last note) or not. Under the lock.
 */
static bool refusal_take(const char *actor, const char *why, uint64_t now, uint64_t *folded)
{
	struct slot *free_slot = NULL;
	*folded = 0;
	for (unsigned i = 0; i < AUTH_NOTE_SLOTS; i++) {
		struct slot *s = &refusals.slot[i];
		bool live = s->actor[0] && now - s->start_ms < AUTH_NOTE_INTERVAL_MS;
		if (s->actor[0] && strcmp(s->actor, actor) == 0 && strcmp(s->why, why) == 0) {
			if (live) {
				s->folded++;
				refusals.st.folded++;
				return false;
			}
			*folded = s->folded;
			s->folded = 0;
			s->start_ms = now;
			return true;
		}
		if (!free_slot && !live)
			free_slot = s;
	}
	if (!free_slot) {
		refusals.st.table_full++;
		return false;   /* never evict a live pair: it would be noted twice */
	}
	free_slot->start_ms = now;
	free_slot->folded = 0;
	snprintf(free_slot->actor, sizeof(free_slot->actor), "%s", actor);
	snprintf(free_slot->why, sizeof(free_slot->why), "%s", why);
	return true;
}

void auth_refused(struct store *s, const char *actor, const char *command, const char *why)
{
	static struct ddi_log_limit limit;
	uint64_t folded;
	char note[512];
	if (ddi_log_limit_take(&limit, CMD_LOG_REFUSED_PER_SEC))
		ddi_log(LOG_SUB_MGMT, LOG_LVL_INFO, actor, "%s refused: %s", command, why);
	pthread_mutex_lock(&refusals.lock);
	refusals.st.refused++;
	bool take = refusal_take(actor, why, mono_ms(), &folded);
	if (take)
		refusals.st.noted++;
	pthread_mutex_unlock(&refusals.lock);
	if (!take || !s)
		return;
	struct store_error e;
	snprintf(note, sizeof(note), "refused %s: %s (%" PRIu64 " more refused like it since the "
	         "last note)", command, why, folded);
	(void)store_journal_note(s, NULL, actor, note, NULL, &e);
}

void auth_get_stats(struct auth_stats *st)
{
	pthread_mutex_lock(&refusals.lock);
	*st = refusals.st;
	pthread_mutex_unlock(&refusals.lock);
}
