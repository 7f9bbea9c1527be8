/* store/records -- TSIG keys and update policy, kept as JSON values the store does not interpret */
#include <stdlib.h>
#include <string.h>

#include <jansson.h>
#include <lmdb.h>

#include "control/store/internal.h"
#include "dns/errcode.h"

/* ------------------------------------------------------------------------ */
/* Keys and update policy                                                   */
/* ------------------------------------------------------------------------ */

/*
 * Open keys and policies; a store created before they existed gets them
 * in a write transaction of their own (additive: older builds ignore
 * them). When that is impossible (read-only files), the store opens
 * without them: key reads find nothing and key writes fail.
 */
int open_ddns_dbis(struct store *s, struct store_error *err)
{
	MDB_txn *txn;
	for (int pass = 0; pass < 2; pass++) {
		int rc = mdb_txn_begin(s->env, NULL, pass ? 0 : MDB_RDONLY, &txn);
		if (rc)
			return pass ? DDI_EOK : mdb_fail(err, rc, "keys");
		unsigned fl = pass ? MDB_CREATE : 0;
		rc = mdb_dbi_open(txn, "keys", fl, &s->keys);
		if (rc == 0)
			rc = mdb_dbi_open(txn, "policies", fl, &s->policies);
		if (rc == 0 && (rc = mdb_txn_commit(txn)) == 0) {
			s->ddns_dbs = true;
			return DDI_EOK;
		}
		if (rc)
			mdb_txn_abort(txn);
		if (rc != MDB_NOTFOUND)
			return pass ? DDI_EOK : mdb_fail(err, rc, "keys");
	}
	return DDI_EOK;
}

/*
 * A Kerberos principal read as a name ("host/h1.example.com@EXAMPLE.COM",
 * or a realm "@EXAMPLE.COM"): a label holds '@'. GSS-TSIG keys are
 * negotiated, never stored, so such a name has rules but no key record
 * (control/ddns/policy.h).
 */
static bool is_principal(const uint8_t *name)
{
	for (const uint8_t *p = name; *p != 0; p += 1 + *p)
		if (memchr(p + 1, '@', *p) != NULL)
			return true;
	return false;
}

/* K(name) 0x00, the key of both databases. */
static size_t kkey_make(uint8_t out[ZKEY_MAX], const uint8_t *name)
{
	return zkey_make(out, name);
}

/* STORE_OP_KEY_ADD, STORE_OP_KEY_REMOVE, STORE_OP_POLICY_SET inside a commit. */
int op_key(struct cctx *c, const struct store_op *op)
{
	static const uint8_t root[1] = { 0 };
	char nb[DNS_NAME_STRLEN];
	uint8_t kb[ZKEY_MAX];
	if (!op->owner || dns_name_check(op->owner, DNS_NAME_MAXLEN) <= 0)
		return seterr(c->err, DDI_EINVAL, c->op, "op %ld: no valid key name", c->op);
	if (!c->s->ddns_dbs)
		return seterr(c->err, DDI_ESCHEMA, c->op, "the store has no keys database "
		              "(opened read-only?)");
	uint8_t lc[DNS_NAME_MAXLEN];
	memcpy(lc, op->owner, (size_t)dns_name_check(op->owner, DNS_NAME_MAXLEN));
	dns_name_lower(lc);
	MDB_val k = { kkey_make(kb, lc), kb }, v;
	bool is_root = lc[0] == 0;
	int rc;
	if (op->kind != STORE_OP_KEY_REMOVE &&
	    (!op->rdatas || !op->rdatas_len || op->rdatas_len > 1u << 20))
		return seterr(c->err, DDI_EINVAL, c->op, "op %ld: no value", c->op);
	/* the value is ours, but check it is JSON of the right shape before storing it */
	if (op->kind != STORE_OP_KEY_REMOVE) {
		json_t *j = json_loadb((const char *)op->rdatas, op->rdatas_len, 0, NULL);
		bool ok = op->kind == STORE_OP_KEY_ADD ? json_is_object(j)
		                                         : json_is_array(j) &&
		                                           json_array_size(j) == op->count;
		json_decref(j);
		if (!ok)
			return seterr(c->err, DDI_EINVAL, c->op, "op %ld: value is not the JSON expected",
			              c->op);
	}
	switch (op->kind) {
	case STORE_OP_KEY_ADD:
		if (is_root)
			return seterr(c->err, DDI_EINVAL, c->op, "the root name cannot be a key");
		v.mv_size = op->rdatas_len;
		v.mv_data = (void *)op->rdatas;
		rc = mdb_put(c->txn, c->s->keys, &k, &v, MDB_NOOVERWRITE);
		if (rc == MDB_KEYEXIST)
			return seterr(c->err, DDI_EEXIST, c->op, "key %s exists", nstr(nb, lc));
		if (rc)
			return c_mdb(c, rc, "keys");
		return journal_op(c, STORE_J_KEY_ADD, root, lc, 0, 0, 1);
	case STORE_OP_KEY_REMOVE: {
		rc = mdb_del(c->txn, c->s->keys, &k, NULL);
		if (rc == MDB_NOTFOUND)
			return (op->flags & STORE_OPF_MISSING_OK)
			               ? DDI_EOK
			               : seterr(c->err, DDI_ENOENT, c->op, "no key %s", nstr(nb, lc));
		if (rc)
			return c_mdb(c, rc, "keys");
		rc = mdb_del(c->txn, c->s->policies, &k, NULL);
		if (rc && rc != MDB_NOTFOUND)
			return c_mdb(c, rc, "policies");
		return journal_op(c, STORE_J_KEY_REMOVE, root, lc, 0, 1, 0);
	}
	case STORE_OP_POLICY_SET: {
		uint64_t oldn = 0;
		if (!is_root && !is_principal(lc) && (rc = mdb_get(c->txn, c->s->keys, &k, &v)) != 0)
			return rc == MDB_NOTFOUND
			               ? seterr(c->err, DDI_ENOENT, c->op, "no key %s", nstr(nb, lc))
			               : c_mdb(c, rc, "keys");
		if ((rc = mdb_get(c->txn, c->s->policies, &k, &v)) == 0) {
			json_t *j = json_loadb(v.mv_data, v.mv_size, 0, NULL);
			oldn = json_array_size(j);
			json_decref(j);
			if (op->rdatas_len == v.mv_size && memcmp(op->rdatas, v.mv_data, v.mv_size) == 0)
				return DDI_EOK;   /* no change */
		} else if (rc != MDB_NOTFOUND) {
			return c_mdb(c, rc, "policies");
		}
		if (op->count == 0) {
			rc = mdb_del(c->txn, c->s->policies, &k, NULL);
			if (rc == MDB_NOTFOUND)
				return DDI_EOK;
		} else {
			v.mv_size = op->rdatas_len;
			v.mv_data = (void *)op->rdatas;
			rc = mdb_put(c->txn, c->s->policies, &k, &v, 0);
		}
		if (rc)
			return c_mdb(c, rc, "policies");
		return journal_op(c, STORE_J_POLICY_SET, root, lc, 0, oldn, op->count);
	}
	default:
		return seterr(c->err, DDI_EINVAL, c->op, "op %ld: not a key op", c->op);
	}
}

/* The name of a keys or policies entry; false when its key does not validate. */
static bool rec_name(const MDB_val *k, uint8_t name[DNS_NAME_MAXLEN])
{
	return k->mv_size >= 1 && ((const uint8_t *)k->mv_data)[k->mv_size - 1] == 0 &&
	       key_to_name(name, k->mv_data, k->mv_size - 1);
}

/*
 * One value of the keys or principals database by its (lower-cased) name:
 * `what` names the entry in errors ("key", "principal"), `db` the database.
 */
static int rec_value(struct store *s, struct store_txn *tx, MDB_dbi dbi, bool have,
                     const char *what, const char *db, const uint8_t *name, store_value_cb cb,
                     void *ctx, struct store_error *err)
{
	char nb[DNS_NAME_STRLEN];
	uint8_t kb[ZKEY_MAX], lc[DNS_NAME_MAXLEN];
	MDB_txn *txn;
	struct store_txn own;
	clearerr_(err);
	int nl = name ? dns_name_check(name, DNS_NAME_MAXLEN) : -1;
	if (nl <= 0)
		return seterr(err, DDI_EINVAL, -1, "no valid %s name", what);
	memcpy(lc, name, (size_t)nl);
	dns_name_lower(lc);
	if (!have)
		return seterr(err, DDI_ENOENT, -1, "no %s database", db);
	int rc = read_begin(s, tx, &own, &txn, err);
	if (rc)
		return rc;
	MDB_val k = { kkey_make(kb, lc), kb }, v;
	rc = mdb_get(txn, dbi, &k, &v);
	if (rc == MDB_NOTFOUND)
		rc = seterr(err, DDI_ENOENT, -1, "no %s %s", what, nstr(nb, lc));
	else if (rc)
		rc = mdb_fail(err, rc, db);
	else
		rc = cb(ctx, lc, v.mv_data, v.mv_size);
	read_end(&own);
	return rc;
}

int store_key_value(struct store *s, struct store_txn *tx, const uint8_t *name,
                    store_value_cb cb, void *ctx, struct store_error *err)
{
	return rec_value(s, tx, s->keys, s->ddns_dbs, "key", "keys", name, cb, ctx, err);
}

static int rec_walk_dbi(struct store *s, struct store_txn *tx, MDB_dbi dbi, const char *what,
                        store_value_cb cb, void *ctx, struct store_error *err);

/* Every entry of the keys or policies database, in canonical order of names. */
static int rec_walk(struct store *s, struct store_txn *tx, MDB_dbi dbi, const char *what,
                    store_value_cb cb, void *ctx, struct store_error *err)
{
	clearerr_(err);
	if (!s->ddns_dbs)
		return DDI_EOK;
	return rec_walk_dbi(s, tx, dbi, what, cb, ctx, err);
}

/* Every entry of one database keyed K(name) 0x00, in canonical order of names. */
static int rec_walk_dbi(struct store *s, struct store_txn *tx, MDB_dbi dbi, const char *what,
                        store_value_cb cb, void *ctx, struct store_error *err)
{
	char hb[128];
	uint8_t name[DNS_NAME_MAXLEN];
	MDB_txn *txn;
	struct store_txn own;
	MDB_cursor *cur;
	MDB_val k, v;
	int cbrc = 0;
	int rc = read_begin(s, tx, &own, &txn, err);
	if (rc)
		return rc;
	if ((rc = mdb_cursor_open(txn, dbi, &cur)) != 0) {
		read_end(&own);
		return mdb_fail(err, rc, what);
	}
	for (rc = mdb_cursor_get(cur, &k, &v, MDB_FIRST); rc == 0;
	     rc = mdb_cursor_get(cur, &k, &v, MDB_NEXT)) {
		if (!rec_name(&k, name)) {
			rc = seterr(err, DDI_ECORRUPT, -1, "%s entry %s does not validate", what,
			            khex(hb, k.mv_data, k.mv_size));
			break;
		}
		if ((cbrc = cb(ctx, name, v.mv_data, v.mv_size)) != 0)
			break;
	}
	mdb_cursor_close(cur);
	read_end(&own);
	if (cbrc)
		return cbrc;
	if (rc == MDB_NOTFOUND)
		return DDI_EOK;
	return rc > 0 ? mdb_fail(err, rc, what) : rc;
}

int store_key_walk(struct store *s, struct store_txn *tx, store_value_cb cb, void *ctx,
                   struct store_error *err)
{
	return rec_walk(s, tx, s->keys, "keys", cb, ctx, err);
}

int store_policy_walk(struct store *s, struct store_txn *tx, store_value_cb cb, void *ctx,
                      struct store_error *err)
{
	return rec_walk(s, tx, s->policies, "policies", cb, ctx, err);
}

/* ------------------------------------------------------------------------ */
/* Principals                                                               */
/* ------------------------------------------------------------------------ */

#define AUTH_VALUE_MAX (64u << 10)

/* Open principals as open_ddns_dbis opens keys: created when missing, absent when read-only. */
int open_auth_dbi(struct store *s, struct store_error *err)
{
	MDB_txn *txn;
	for (int pass = 0; pass < 2; pass++) {
		int rc = mdb_txn_begin(s->env, NULL, pass ? 0 : MDB_RDONLY, &txn);
		if (rc)
			return pass ? DDI_EOK : mdb_fail(err, rc, "principals");
		rc = mdb_dbi_open(txn, "principals", pass ? MDB_CREATE : 0, &s->principals);
		if (rc == 0 && (rc = mdb_txn_commit(txn)) == 0) {
			s->auth_db = true;
			return DDI_EOK;
		}
		if (rc)
			mdb_txn_abort(txn);
		if (rc != MDB_NOTFOUND)
			return pass ? DDI_EOK : mdb_fail(err, rc, "principals");
	}
	return DDI_EOK;
}

/* STORE_OP_AUTH_SET inside a commit: put (count 1) or remove (count 0) one principal. */
int op_auth(struct cctx *c, const struct store_op *op)
{
	static const uint8_t root[1] = { 0 };
	char nb[DNS_NAME_STRLEN];
	uint8_t kb[ZKEY_MAX], lc[DNS_NAME_MAXLEN];
	int nl = op->owner ? dns_name_check(op->owner, DNS_NAME_MAXLEN) : -1;
	if (nl <= 1)
		return seterr(c->err, DDI_EINVAL, c->op, "op %ld: no valid principal name", c->op);
	if (!c->s->auth_db)
		return seterr(c->err, DDI_ESCHEMA, c->op, "the store has no principals database "
		              "(opened read-only?)");
	memcpy(lc, op->owner, (size_t)nl);
	dns_name_lower(lc);
	MDB_val k = { kkey_make(kb, lc), kb }, v;
	int rc = mdb_get(c->txn, c->s->principals, &k, &v);
	if (rc && rc != MDB_NOTFOUND)
		return c_mdb(c, rc, "principals");
	bool had = rc == 0;
	if (op->count == 0) {
		if (!had)
			return (op->flags & STORE_OPF_MISSING_OK)
			               ? DDI_EOK
			               : seterr(c->err, DDI_ENOENT, c->op, "no principal %s", nstr(nb, lc));
		if ((rc = mdb_del(c->txn, c->s->principals, &k, NULL)) != 0)
			return c_mdb(c, rc, "principals");
		return journal_op(c, STORE_J_AUTH_SET, root, lc, 0, 1, 0);
	}
	if (!op->rdatas || !op->rdatas_len || op->rdatas_len > AUTH_VALUE_MAX)
		return seterr(c->err, DDI_EINVAL, c->op, "op %ld: no value, or larger than 64 KiB",
		              c->op);
	json_t *j = json_loadb((const char *)op->rdatas, op->rdatas_len, 0, NULL);
	bool ok = json_is_object(j);
	json_decref(j);
	if (!ok)
		return seterr(c->err, DDI_EINVAL, c->op, "op %ld: value is not a JSON object", c->op);
	if (had && v.mv_size == op->rdatas_len && memcmp(v.mv_data, op->rdatas, v.mv_size) == 0)
		return DDI_EOK;   /* no change */
	v.mv_size = op->rdatas_len;
	v.mv_data = (void *)op->rdatas;
	if ((rc = mdb_put(c->txn, c->s->principals, &k, &v, 0)) != 0)
		return c_mdb(c, rc, "principals");
	return journal_op(c, STORE_J_AUTH_SET, root, lc, 0, had, 1);
}

int store_auth_value(struct store *s, struct store_txn *tx, const uint8_t *name,
                     store_value_cb cb, void *ctx, struct store_error *err)
{
	return rec_value(s, tx, s->principals, s->auth_db, "principal", "principals", name, cb,
	                 ctx, err);
}

int store_auth_walk(struct store *s, struct store_txn *tx, store_value_cb cb, void *ctx,
                    struct store_error *err)
{
	clearerr_(err);
	if (!s->auth_db)
		return DDI_EOK;
	return rec_walk_dbi(s, tx, s->principals, "principals", cb, ctx, err);
}
