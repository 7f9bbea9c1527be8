/* ddns/keys -- TSIG keys and update policy decoded from the store's opaque key and policy records */
#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#include <jansson.h>

#include "control/ddns/keys.h"
#include "control/ddns/policy.h"
#include "control/ddns/tsig.h"
#include "dns/errcode.h"
#include "dns/name.h"

static int fail(struct store_error *err, int code, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));

static int fail(struct store_error *err, int code, const char *fmt, ...)
{
	if (err) {
		va_list ap;
		err->code = code;
		err->op = -1;
		va_start(ap, fmt);
		vsnprintf(err->msg, sizeof(err->msg), fmt, ap);
		va_end(ap);
	}
	return code;
}

/* The store's key of `name` (K(name) 0x00) as hex, as the store names entries in messages. */
static const char *name_hex(char buf[128], const uint8_t *name)
{
	uint8_t k[DNS_KEY_MAXLEN + 1];
	int n = dns_name_to_key(k, name);
	size_t len = n < 0 ? 0 : (size_t)n + 1, m = len > 48 ? 48 : len, o = 0;
	if (n >= 0)
		k[n] = 0;
	for (size_t i = 0; i < m; i++)
		o += (size_t)snprintf(buf + o, 128 - o, "%02x", k[i]);
	if (m < len)
		snprintf(buf + o, 128 - o, "...");
	else if (len == 0)
		snprintf(buf, 128, "(empty)");
	return buf;
}

/* Decode a keys value: into *out (may be NULL), and/or its algorithm name and creation time. */
static bool key_parse(const char *json, size_t len, const uint8_t *name, struct tsig_key *out,
                      const char **alg, int64_t *created)
{
	json_t *j = json_loadb(json, len, 0, NULL);
	const char *a = json_string_value(json_object_get(j, "algorithm"));
	const char *sec = json_string_value(json_object_get(j, "secret"));
	json_t *jc = json_object_get(j, "created");
	bool ok = a && sec && json_is_integer(jc) && tsig_alg_from_str(a, strlen(a)) != TSIG_ALG_NONE;
	if (ok && out) {
		memset(out, 0, sizeof(*out));
		memcpy(out->name, name, (size_t)dns_name_check(name, DNS_NAME_MAXLEN));
		out->alg = tsig_alg_from_str(a, strlen(a));
		int n = tsig_b64_decode(out->secret, sizeof(out->secret), sec, strlen(sec));
		ok = n > 0;
		out->secret_len = ok ? (uint16_t)n : 0;
	}
	if (ok && alg) {
		/* the static name, not the JSON's string, so it outlives j */
		*alg = tsig_alg_name(tsig_alg_from_str(a, strlen(a)));
		*created = json_integer_value(jc);
	}
	json_decref(j);
	return ok;
}

struct key_get {
	struct tsig_key *out;
	struct store_error *err;
};

static int key_get_cb(void *ctx, const uint8_t *name, const char *json, size_t len)
{
	struct key_get *g = ctx;
	char nb[DNS_NAME_STRLEN];
	if (key_parse(json, len, name, g->out, NULL, NULL))
		return DDI_EOK;
	if (dns_name_to_str(nb, sizeof(nb), name) < 0)
		snprintf(nb, sizeof(nb), "(bad name)");
	return fail(g->err, DDI_ECORRUPT, "key %s does not validate", nb);
}

int ddns_key_get(struct store *s, struct store_txn *txn, const uint8_t *name,
                 struct tsig_key *out, struct store_error *err)
{
	struct key_get g = { out, err };
	return store_key_value(s, txn, name, key_get_cb, &g, err);
}

struct key_list {
	int (*cb)(void *ctx, const uint8_t *name, const char *algorithm, int64_t created_ns);
	void *ctx;
	struct store_error *err;
};

static int key_list_cb(void *ctx, const uint8_t *name, const char *json, size_t len)
{
	struct key_list *l = ctx;
	const char *alg;
	int64_t created;
	char hb[128];
	if (!key_parse(json, len, name, NULL, &alg, &created))
		return fail(l->err, DDI_ECORRUPT, "keys entry %s does not validate", name_hex(hb, name));
	return l->cb(l->ctx, name, alg, created);
}

int ddns_key_list(struct store *s, struct store_txn *txn,
                  int (*cb)(void *ctx, const uint8_t *name, const char *algorithm,
                            int64_t created_ns),
                  void *ctx, struct store_error *err)
{
	struct key_list l = { cb, ctx, err };
	return store_key_walk(s, txn, key_list_cb, &l, err);
}

struct policy_load {
	struct pol_set *out;
	struct store_error *err;
};

static int policy_cb(void *ctx, const uint8_t *name, const char *json, size_t len)
{
	struct policy_load *p = ctx;
	char hb[128];
	json_t *j = json_loadb(json, len, 0, NULL), *o;
	size_t i;
	bool ok = json_is_array(j);
	json_array_foreach(j, i, o) {
		struct pol_rule r;
		if (!ok || pol_rule_from_json(&r, o) != DDI_EOK) {
			ok = false;
			break;
		}
		if (pol_set_add(p->out, &r) != DDI_EOK) {
			json_decref(j);
			return fail(p->err, DDI_ENOMEM, "out of memory");
		}
	}
	json_decref(j);
	if (!ok)
		return fail(p->err, DDI_ECORRUPT, "policies entry %s does not validate",
		            name_hex(hb, name));
	return DDI_EOK;
}

int ddns_policy_load(struct store *s, struct store_txn *txn, struct pol_set *out,
                     struct store_error *err)
{
	struct policy_load p = { out, err };
	pol_set_free(out);
	int rc = store_policy_walk(s, txn, policy_cb, &p, err);
	if (rc)
		pol_set_free(out);
	return rc;
}
