/* authcmd -- token-add/-list/-remove and role-add/-list/-remove: principal records written through the store's journal */
#include <arpa/inet.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <openssl/crypto.h>

#include "control/mgmt/auth.h"
#include "control/store/store.h"
#include "dns/errcode.h"

/*
 *   token-add    name role [zones[]] [prefixes[]]   the reply's "token" is shown this once
 *   token-list                                      names, roles, scopes, creation (no hash)
 *   token-remove name                               revoke: the token is refused from now on
 *   role-add     user role [zones[]] [prefixes[]]   the scoped role of Unix user `user` on the
 *                                                   control socket (replaces its previous one)
 *   role-list
 *   role-remove  user
 * A user with a role here gets it on the socket instead of the access file's;
 * uid 0 stays admin.
 */

/* The record of a principal from the request, canonical; NULL with the reason in why. */
static json_t *record_from(const json_t *args, const char *kind, const char *name, char *why,
                           size_t wlen)
{
	const char *role = json_string_value(json_object_get(args, "role"));
	json_t *jz = json_object_get(args, "zones"), *jp = json_object_get(args, "prefixes"), *v;
	enum auth_role r;
	size_t i;
	if (!auth_name_valid(name)) {
		snprintf(why, wlen, "the %s name must be 1 to %d of a-z 0-9 - _", kind, AUTH_NAME_MAX);
		return NULL;
	}
	if (!auth_role_parse(role, &r)) {
		snprintf(why, wlen, "argument \"role\": reader, dns-editor, ipam-editor or admin");
		return NULL;
	}
	if ((jz && (!json_is_array(jz) || json_array_size(jz) > AUTH_SCOPES_MAX)) ||
	    (jp && (!json_is_array(jp) || json_array_size(jp) > AUTH_SCOPES_MAX))) {
		snprintf(why, wlen, "\"zones\" and \"prefixes\" are arrays of at most %d strings",
		         AUTH_SCOPES_MAX);
		return NULL;
	}
	json_t *zones = json_array(), *prefixes = json_array();
	bool ok = zones && prefixes;
	json_array_foreach(ok ? jz : NULL, i, v) {
		uint8_t w[DNS_NAME_MAXLEN];
		char nb[DNS_NAME_STRLEN];
		const char *s = json_string_value(v);
		if (!s || dns_name_from_str(w, s, strlen(s), NULL) <= 0) {
			snprintf(why, wlen, "zone %zu: not a valid name", i);
			ok = false;
			break;
		}
		dns_name_lower(w);
		dns_name_to_str(nb, sizeof(nb), w);
		json_array_append_new(zones, json_string(nb));
	}
	json_array_foreach(ok ? jp : NULL, i, v) {
		struct auth_prefix p;
		char ab[INET6_ADDRSTRLEN], pb[INET6_ADDRSTRLEN + 8];
		const char *s = json_string_value(v);
		if (!s || !auth_prefix_parse(s, &p)) {
			snprintf(why, wlen, "prefix %zu: not ADDRESS/LENGTH with the host bits 0", i);
			ok = false;
			break;
		}
		inet_ntop(p.family == 4 ? AF_INET : AF_INET6, p.addr, ab, sizeof(ab));
		snprintf(pb, sizeof(pb), "%s/%u", ab, p.plen);
		json_array_append_new(prefixes, json_string(pb));
	}
	/* a reader may be scoped both ways (what it reads); an admin not at all */
	if ((json_array_size(zones) && r != AUTH_ROLE_DNS_EDITOR && r != AUTH_ROLE_READER) ||
	    (json_array_size(prefixes) && r != AUTH_ROLE_IPAM_EDITOR && r != AUTH_ROLE_READER)) {
		snprintf(why, wlen, "zones scope a dns-editor or a reader, prefixes an ipam-editor "
		         "or a reader");
		ok = false;
	}
	if (!ok) {
		json_decref(zones);
		json_decref(prefixes);
		return NULL;
	}
	struct timespec ts;
	clock_gettime(CLOCK_REALTIME, &ts);
	return json_pack("{s:s, s:s, s:s, s:o, s:o, s:I}", "kind", kind, "name", name, "role",
	                 auth_role_name(r), "zones", zones, "prefixes", prefixes, "created",
	                 (json_int_t)ts.tv_sec * 1000000000 + ts.tv_nsec);
}

struct put {
	struct store *st;
	uint8_t key[DNS_NAME_MAXLEN];
	bool must_be_new;
	json_t *rec;               /* NULL: remove */
	char *text;
	struct store_op op;
};

/* The stored record's "created", kept when a role is given again (no change then). */
static int created_cb(void *ctx, const uint8_t *name, const char *json, size_t len)
{
	json_t *old = json_loadb(json, len, 0, NULL), *c = json_object_get(old, "created");
	(void)name;
	if (json_is_integer(c))
		json_object_set(ctx, "created", c);
	json_decref(old);
	return 1;
}

static int put_fn(void *arg, struct store_txn *txn, const struct store_op **ops, size_t *nops)
{
	struct put *pt = arg;
	struct store_error e;
	int rc = pt->rec ? store_auth_value(pt->st, txn, pt->key, created_cb, pt->rec, &e) : 0;
	if (pt->must_be_new && rc == 1)
		return DDI_EEXIST;
	if (pt->rec && !(pt->text = json_dumps(pt->rec, JSON_COMPACT | JSON_SORT_KEYS)))
		return DDI_ENOMEM;
	pt->op = (struct store_op){ .kind = STORE_OP_AUTH_SET, .owner = pt->key,
	                            .count = pt->rec ? 1 : 0, .rdatas = (const uint8_t *)pt->text,
	                            .rdatas_len = pt->text ? strlen(pt->text) : 0 };
	*ops = &pt->op;
	*nops = 1;
	return DDI_EOK;
}

/*
 * Write (or, rec NULL, remove) the principal NAME.KIND. in one journaled
 * commit. Giving the same record again is no change (its "created" is kept).
 */
static int put_principal(const struct cmd_ctx *ctx, const char *kind, const char *name,
                         json_t *rec, bool must_be_new, uint64_t *seq, char *why, size_t wlen)
{
	struct put pt = { .st = ctx->store, .must_be_new = must_be_new, .rec = rec };
	char s[AUTH_NAME_MAX + 16];
	struct store_error e;
	snprintf(s, sizeof(s), "%s.%s.", name, kind);
	if (!auth_name_valid(name) || dns_name_from_str(pt.key, s, strlen(s), NULL) <= 0) {
		snprintf(why, wlen, "the %s name must be 1 to %d of a-z 0-9 - _", kind, AUTH_NAME_MAX);
		return DDI_EINVAL;
	}
	int rc = store_transact(ctx->store, NULL, ctx->actor, put_fn, &pt, seq, &e);
	if (pt.text) {
		OPENSSL_cleanse(pt.text, strlen(pt.text));
		free(pt.text);
	}
	if (rc == DDI_EEXIST)
		snprintf(why, wlen, "%s %s exists (remove it first)", kind, name);
	else if (rc == DDI_ENOENT)
		snprintf(why, wlen, "no %s %s", kind, name);
	else if (rc == DDI_ENOMEM)
		snprintf(why, wlen, "out of memory");
	else if (rc)
		snprintf(why, wlen, "%.700s", e.msg[0] ? e.msg : ddi_strerror(rc));
	return rc;
}

static json_t *principal_add(const struct cmd_ctx *ctx, const json_t *args, uint64_t *seq,
                             const char *kind, const char *argname)
{
	char why[768], token[AUTH_TOKEN_LEN + 1], hash[AUTH_HASH_HEX + 1];
	const char *name = json_string_value(json_object_get(args, argname));
	if (!name)
		return cmd_reply(CMD_ERROR, NULL, "missing argument \"%s\" (a string)", argname);
	json_t *rec = record_from(args, kind, name, why, sizeof(why));
	if (!rec)
		return cmd_reply(CMD_ERROR, NULL, "%s", why);
	bool is_token = strcmp(kind, "token") == 0;
	if (is_token) {
		if (auth_token_make(token, name) != DDI_EOK) {
			json_decref(rec);
			return cmd_reply(CMD_ERROR, NULL, "cannot make a token: no randomness");
		}
		auth_token_hash(token, hash);
		json_object_set_new(rec, "hash", json_string(hash));
	}
	int rc = put_principal(ctx, kind, name, rec, is_token, seq, why, sizeof(why));
	json_t *out = json_deep_copy(rec);
	json_decref(rec);
	if (rc || !out) {
		OPENSSL_cleanse(token, sizeof(token));
		json_decref(out);
		return cmd_reply(CMD_ERROR, NULL, "%s", rc ? why : "out of memory");
	}
	json_object_del(out, "hash");
	json_object_set_new(out, "seq", json_integer((json_int_t)*seq));
	if (!is_token)
		return cmd_reply(CMD_OK, out, "user %s has the %s role", name,
		                 json_string_value(json_object_get(out, "role")));
	json_object_set_new(out, "token", json_string(token));
	OPENSSL_cleanse(token, sizeof(token));
	return cmd_reply(CMD_OK, out, "token %s added; it is shown this once", name);
}

static json_t *principal_remove(const struct cmd_ctx *ctx, const json_t *args, uint64_t *seq,
                                const char *kind, const char *argname)
{
	char why[768];
	const char *name = json_string_value(json_object_get(args, argname));
	if (!name)
		return cmd_reply(CMD_ERROR, NULL, "missing argument \"%s\" (a string)", argname);
	if (put_principal(ctx, kind, name, NULL, false, seq, why, sizeof(why)) != DDI_EOK)
		return cmd_reply(CMD_ERROR, NULL, "%s", why);
	return cmd_reply(CMD_OK, json_pack("{s:I}", "seq", (json_int_t)*seq), "%s %s removed", kind,
	                 name);
}

struct listing {
	const char *kind;
	json_t *arr;
	const struct cmd_ctx *ctx;   /* a scoped principal sees its own record only */
};

static int list_cb(void *ctx, const uint8_t *name, const char *json, size_t len)
{
	struct listing *l = ctx;
	(void)name;
	json_t *o = json_loadb(json, len, 0, NULL);
	if (!json_is_object(o) || !json_is_string(json_object_get(o, "kind")) ||
	    strcmp(json_string_value(json_object_get(o, "kind")), l->kind) != 0) {
		json_decref(o);
		return 0;
	}
	if (cmd_scoped(l->ctx)) {
		char actor[AUTH_NAME_MAX + 8];
		snprintf(actor, sizeof(actor), "%s:%s", l->kind[0] == 't' ? "token" : "unix",
		         json_string_value(json_object_get(o, "name")) ?: "");
		if (strcmp(actor, l->ctx->principal->actor) != 0) {
			json_decref(o);
			return 0;   /* another principal's name, role and scope */
		}
	}
	json_object_del(o, "hash");
	json_object_del(o, "kind");
	return json_array_append_new(l->arr, o) == 0 ? 0 : DDI_ENOMEM;
}

static json_t *principal_list(const struct cmd_ctx *ctx, const char *kind, const char *key)
{
	struct store_error e;
	struct listing l = { kind, json_array(), ctx };
	if (!l.arr)
		return cmd_reply(CMD_ERROR, NULL, "out of memory");
	int rc = store_auth_walk(ctx->store, NULL, list_cb, &l, &e);
	if (rc) {
		json_decref(l.arr);
		return cmd_reply(CMD_ERROR, NULL, "%s", e.msg[0] ? e.msg : ddi_strerror(rc));
	}
	size_t n = json_array_size(l.arr);
	return cmd_reply(n ? CMD_OK : CMD_EMPTY, json_pack("{s:o}", key, l.arr), "%zu %s%s", n,
	                 kind, n == 1 ? "" : "s");
}

static json_t *c_token_add(const struct cmd_ctx *ctx, const json_t *args, uint64_t *seq)
{
	return principal_add(ctx, args, seq, "token", "name");
}

static json_t *c_token_remove(const struct cmd_ctx *ctx, const json_t *args, uint64_t *seq)
{
	return principal_remove(ctx, args, seq, "token", "name");
}

static json_t *c_token_list(const struct cmd_ctx *ctx, const json_t *args, uint64_t *seq)
{
	(void)args, (void)seq;
	return principal_list(ctx, "token", "tokens");
}

static json_t *c_role_add(const struct cmd_ctx *ctx, const json_t *args, uint64_t *seq)
{
	return principal_add(ctx, args, seq, "user", "user");
}

static json_t *c_role_remove(const struct cmd_ctx *ctx, const json_t *args, uint64_t *seq)
{
	return principal_remove(ctx, args, seq, "user", "user");
}

static json_t *c_role_list(const struct cmd_ctx *ctx, const json_t *args, uint64_t *seq)
{
	(void)args, (void)seq;
	return principal_list(ctx, "user", "roles");
}

const struct cmd_def auth_cmds[] = {
	{ "token-add", CMD_ROLE_ADMIN, c_token_add },
	{ "token-list", CMD_ROLE_READ, c_token_list },
	{ "token-remove", CMD_ROLE_ADMIN, c_token_remove },
	{ "role-add", CMD_ROLE_ADMIN, c_role_add },
	{ "role-list", CMD_ROLE_READ, c_role_list },
	{ "role-remove", CMD_ROLE_ADMIN, c_role_remove },
};
const size_t auth_ncmds = sizeof(auth_cmds) / sizeof(auth_cmds[0]);
