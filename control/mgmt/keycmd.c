/* keycmd -- the control commands of TSIG keys and update policies (key-*, policy-*) */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "control/ddns/keys.h"
#include "control/ddns/policy.h"
#include "control/ddns/tsig.h"
#include "control/mgmt/cmdint.h"
#include "control/store/store.h"
#include "dns/errcode.h"
#include "dns/name.h"

/* ------------------------------------------------------------------------ */
/* TSIG keys and update policy                                              */
/* ------------------------------------------------------------------------ */

/*
 *   key-add       name [algorithm] [secret]  a new random secret, or `secret`
 *                                         (base64: a key made elsewhere, shared with a
 *                                         primary or secondary); the reply's "key" is
 *                                         "alg:name:secret", shown this once
 *   key-list                              names, algorithms, creation times (no secrets)
 *   key-remove    name                    the key and its rules
 *   policy-add    key rule[]              rule: the `policy add KEY` words after KEY
 *                                         (control/ddns/policy.h); key "." for unsigned
 *   policy-list   [key]                   rules in order, with their index per key
 *   policy-remove key index               the index-th rule of the key (0-based)
 */

/* A key whose secret was made elsewhere (base64, RFC 4648): DDI_EINVAL when it is none. */
static int key_from_b64(struct tsig_key *k, const uint8_t *name, enum tsig_alg alg,
                        const char *b64)
{
	memset(k, 0, sizeof(*k));
	memcpy(k->name, name, dns_name_len(name));
	k->alg = alg;
	int n = tsig_b64_decode(k->secret, sizeof(k->secret), b64, strlen(b64));
	if (n <= 0)
		return DDI_EINVAL;
	k->secret_len = (uint16_t)n;
	return DDI_EOK;
}

json_t *c_key_add(struct req *q, uint64_t *seq)
{
	uint8_t name[DNS_NAME_MAXLEN];
	char nb[DNS_NAME_STRLEN], text[TSIG_KEY_STRLEN], b64[TSIG_SECRET_MAX * 2];
	struct store_error e;
	struct tsig_key k;
	if (!arg_name(q, "name", name, true, NULL))
		return FAIL(q);
	const char *as = arg_str(q, "algorithm", false);
	const char *given = arg_str(q, "secret", false);
	if (q->err[0])
		return FAIL(q);
	enum tsig_alg alg = as ? tsig_alg_from_str(as, strlen(as)) : TSIG_ALG_DEFAULT;
	if (alg == TSIG_ALG_NONE)
		return cmd_reply(CMD_ERROR, NULL, "unknown algorithm '%.100s' (hmac-sha256, hmac-sha224, "
		                 "hmac-sha384, hmac-sha512, hmac-sha1, hmac-md5)", as);
	if (name[0] == 0)
		return cmd_reply(CMD_ERROR, NULL, "the root name cannot be a key");
	dns_name_lower(name);
	int rc = given ? key_from_b64(&k, name, alg, given) : tsig_key_generate(&k, name, alg);
	if (rc == DDI_EINVAL && given)
		return cmd_reply(CMD_ERROR, NULL, "the secret is not base64 of 1..%d bytes",
		                 TSIG_SECRET_MAX);
	if (rc == 0 && tsig_b64_encode(b64, sizeof(b64), k.secret, k.secret_len) < 0)
		rc = DDI_ESPACE;
	if (rc == 0 && tsig_key_format(text, sizeof(text), &k) < 0)
		rc = DDI_ESPACE;
	if (rc)
		return cmd_reply(CMD_ERROR, NULL, "cannot make a key: %s", ddi_strerror(rc));
	struct timespec ts;
	clock_gettime(CLOCK_REALTIME, &ts);
	json_t *v = json_pack("{s:s, s:s, s:I}", "algorithm", tsig_alg_name(alg), "secret", b64,
	                      "created", (json_int_t)ts.tv_sec * 1000000000 + ts.tv_nsec);
	char *vt = v ? json_dumps(v, JSON_COMPACT) : NULL;
	json_decref(v);
	if (!vt)
		return cmd_reply(CMD_ERROR, NULL, "out of memory");
	struct store_op op = { .kind = STORE_OP_KEY_ADD, .owner = name,
	                       .rdatas = (const uint8_t *)vt, .rdatas_len = strlen(vt) };
	rc = store_commit(q->ctx->store, NULL, q->ctx->actor, &op, 1, seq, &e);
	free(vt);
	explicit_bzero(&k, sizeof(k));
	explicit_bzero(b64, sizeof(b64));
	if (rc)
		return store_err_q(q->ctx, &e, rc);
	json_t *args = json_pack("{s:s, s:s, s:s}", "name", name_str(nb, name), "algorithm",
	                         tsig_alg_name(alg), "key", text);
	explicit_bzero(text, sizeof(text));
	return changed(*seq, args, "key %s added (%s); its secret is shown this once", nb,
	               tsig_alg_name(alg));
}

/*
 * A rule a scoped principal sees: the names it grants (the key's own name
 * for a self rule) are inside the principal's zones.
 */
static bool rule_seen(const struct cmd_ctx *ctx, const struct pol_rule *r)
{
	return cmd_sees_name(ctx, r->match == POL_SELF ? r->key : r->name);
}

/* key-list's walk: the rows, and for a scoped principal the rules that show a key. */
struct klist {
	json_t *arr;
	const struct cmd_ctx *ctx;
	const struct pol_set *rules;   /* NULL: every key is shown */
};

static int key_list_cb(void *ctx, const uint8_t *name, const char *alg, int64_t created)
{
	const struct klist *l = ctx;
	char nb[DNS_NAME_STRLEN], tb[32];
	bool seen = !l->rules;
	for (size_t i = 0; !seen && i < l->rules->n; i++)
		seen = dns_name_equal(l->rules->rules[i].key, name) && rule_seen(l->ctx, &l->rules->rules[i]);
	if (!seen)
		return 0;   /* a key of no rule inside the principal's zones */
	fmt_time(tb, sizeof(tb), created);
	json_t *o = json_pack("{s:s, s:s, s:s}", "name", name_str(nb, name), "algorithm", alg,
	                      "created", tb);
	return o && json_array_append_new(l->arr, o) == 0 ? 0 : DDI_ENOMEM;
}

json_t *c_key_list(struct req *q, uint64_t *seq)
{
	struct store_error e;
	struct pol_set rules = { 0 };
	(void)seq;
	if (cmd_scoped(q->ctx)) {
		int prc = ddns_policy_load(q->ctx->store, NULL, &rules, &e);
		if (prc)
			return store_err_q(q->ctx, &e, prc);
	}
	json_t *arr = json_array();
	struct klist l = { arr, q->ctx, cmd_scoped(q->ctx) ? &rules : NULL };
	int rc = arr ? ddns_key_list(q->ctx->store, NULL, key_list_cb, &l, &e) : DDI_ENOMEM;
	pol_set_free(&rules);
	if (rc) {
		json_decref(arr);
		return rc == DDI_ENOMEM ? cmd_reply(CMD_ERROR, NULL, "out of memory") : store_err_q(q->ctx, &e, rc);
	}
	size_t n = json_array_size(arr);
	return cmd_reply(n ? CMD_OK : CMD_EMPTY, json_pack("{s:o}", "keys", arr), "%zu key%s", n,
	                 n == 1 ? "" : "s");
}

json_t *c_key_remove(struct req *q, uint64_t *seq)
{
	uint8_t name[DNS_NAME_MAXLEN];
	char nb[DNS_NAME_STRLEN];
	struct store_error e;
	if (!arg_name(q, "name", name, true, NULL))
		return FAIL(q);
	struct store_op op = { .kind = STORE_OP_KEY_REMOVE, .owner = name };
	int rc = store_commit(q->ctx->store, NULL, q->ctx->actor, &op, 1, seq, &e);
	if (rc)
		return store_err_q(q->ctx, &e, rc);
	return changed(*seq, NULL, "key %s and its update policy removed", name_str(nb, name));
}

/*
 * A change of one key's rules, read and written in one store transaction
 * (two concurrent policy-add on the same key both land, in some order).
 */
struct polchange {
	struct store *st;
	const uint8_t *key;
	const struct pol_rule *add;     /* append this rule, or */
	size_t remove;                  /* remove the key's rule of this index */
	struct store_error err;
	char *text;                     /* the key's rules as JSON, for the op */
	struct store_op op;
	size_t nrules;
};

static int polchange_fn(void *arg, struct store_txn *txn, const struct store_op **ops,
                       size_t *nops)
{
	struct polchange *pc = arg;
	struct pol_set all = { 0 }, mine = { 0 };
	int rc = ddns_policy_load(pc->st, txn, &all, &pc->err);   /* the rules as this txn sees them */
	for (size_t i = 0; rc == 0 && i < all.n; i++)
		if (dns_name_equal(all.rules[i].key, pc->key))
			rc = pol_set_add(&mine, &all.rules[i]);
	if (rc == 0 && pc->add)
		rc = pol_set_add(&mine, pc->add);
	else if (rc == 0 && (rc = pol_set_remove(&mine, pc->key, pc->remove)) == DDI_ENOENT)
		snprintf(pc->err.msg, sizeof(pc->err.msg), "the key has no rule %zu", pc->remove);
	json_t *j = rc == 0 ? pol_set_to_json(&mine) : NULL;
	if (rc == 0 && (!j || !(pc->text = json_dumps(j, JSON_COMPACT))))
		rc = DDI_ENOMEM;
	json_decref(j);
	pc->nrules = mine.n;
	pol_set_free(&all);
	pol_set_free(&mine);
	if (rc)
		return rc;
	pc->op = (struct store_op){ .kind = STORE_OP_POLICY_SET, .owner = pc->key,
	                            .count = (uint16_t)pc->nrules,
	                            .rdatas = (const uint8_t *)pc->text,
	                            .rdatas_len = strlen(pc->text) };
	*ops = &pc->op;
	*nops = 1;
	return DDI_EOK;
}

static json_t *polchange_run(struct req *q, struct polchange *pc, uint64_t *seq)
{
	char nb[DNS_NAME_STRLEN];
	pc->st = q->ctx->store;
	int rc = store_transact(pc->st, NULL, q->ctx->actor, polchange_fn, pc, seq, &pc->err);
	free(pc->text);
	if (rc)
		return cmd_reply(CMD_ERROR, NULL, "%s", pc->err.msg[0] ? pc->err.msg : ddi_strerror(rc));
	return changed(*seq, json_pack("{s:s, s:I}", "key", name_str(nb, pc->key), "rules",
	                               (json_int_t)pc->nrules),
	               "key %s has %zu rule%s", nb, pc->nrules, pc->nrules == 1 ? "" : "s");
}

json_t *c_policy_add(struct req *q, uint64_t *seq)
{
	char err[256], *argv[64];
	struct pol_rule r;
	const char *key = arg_str(q, "key", true);
	json_t *jr = json_object_get(q->args, "rule"), *w;
	size_t i, argc = json_array_size(jr);
	if (!key)
		return FAIL(q);
	if (!json_is_array(jr) || argc == 0 || argc > 64)
		return cmd_reply(CMD_ERROR, NULL, "argument \"rule\" must be an array of 1 to 64 words: "
		                 "grant|deny self|name|subdomain|pattern NAME [TYPE...] "
		                 "[--prefix PREFIX...] [--source PREFIX...] [--ttl-default N] "
		                 "[--ttl-min N] [--ttl-max N] [--ttl-over clamp|refuse]");
	json_array_foreach(jr, i, w) {
		if (!json_is_string(w))
			return cmd_reply(CMD_ERROR, NULL, "argument \"rule\": word %zu is not a string", i);
		argv[i] = (char *)json_string_value(w);
	}
	if (pol_rule_from_argv(&r, key, (int)argc, argv, err, sizeof(err)) != DDI_EOK)
		return cmd_reply(CMD_ERROR, NULL, "%s", err);
	struct polchange pc = { .key = r.key, .add = &r };
	return polchange_run(q, &pc, seq);
}

json_t *c_policy_remove(struct req *q, uint64_t *seq)
{
	uint8_t key[DNS_NAME_MAXLEN];
	uint64_t index = 0;
	if (!arg_name(q, "key", key, true, NULL) || !arg_u64(q, "index", &index, true))
		return FAIL(q);
	dns_name_lower(key);
	struct polchange pc = { .key = key, .remove = (size_t)index };
	return polchange_run(q, &pc, seq);
}

json_t *c_policy_list(struct req *q, uint64_t *seq)
{
	uint8_t key[DNS_NAME_MAXLEN];
	bool has_key;
	struct pol_set all = { 0 };
	struct store_error e;
	(void)seq;
	if (!arg_name(q, "key", key, false, &has_key))
		return FAIL(q);
	int rc = ddns_policy_load(q->ctx->store, NULL, &all, &e);
	if (rc)
		return store_err_q(q->ctx, &e, rc);
	json_t *arr = json_array();
	size_t idx = 0;
	for (size_t i = 0; arr && i < all.n; i++) {
		const struct pol_rule *r = &all.rules[i];
		char text[2048];
		idx = i > 0 && dns_name_equal(all.rules[i - 1].key, r->key) ? idx + 1 : 0;
		if ((has_key && !dns_name_equal(r->key, key)) || !rule_seen(q->ctx, r))
			continue;   /* index still counts it: it is the rule's place for policy-remove */
		json_t *o = pol_rule_to_json(r);
		if (!o || pol_rule_format(text, sizeof(text), r) < 0 ||
		    json_object_set_new(o, "index", json_integer((json_int_t)idx)) != 0 ||
		    json_object_set_new(o, "text", json_string(text)) != 0 ||
		    json_array_append_new(arr, o) != 0) {
			json_decref(o);
			json_decref(arr);
			arr = NULL;
		}
	}
	pol_set_free(&all);
	if (!arr)
		return cmd_reply(CMD_ERROR, NULL, "out of memory");
	size_t n = json_array_size(arr);
	return cmd_reply(n ? CMD_OK : CMD_EMPTY, json_pack("{s:o}", "rules", arr), "%zu rule%s", n,
	                 n == 1 ? "" : "s");
}
