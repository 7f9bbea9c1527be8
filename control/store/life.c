/* store/life -- leases (RFC 9664) and aging stamps of dynamic RRsets, zones' aging settings */
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <lmdb.h>

#include "control/store/internal.h"
#include "dns/errcode.h"

/*
 * The layout is in store.h ("Leases and aging"). Every value read here is
 * validated before use; a lease and its lease_exp entry are written and
 * deleted together, so the expiry order is always the leases' own.
 */

#define LEASE_VAL 12           /* expires_ns(8) granted(4) */
#define AGING_VAL 8            /* refreshed_ns(8) */
#define AZONE_VAL 21           /* version(1) no_refresh(4) refresh(4) period(4) last(8) */
#define AZONE_VERSION 1
#define EKEY_MAX (8 + RKEY_MAX)

int open_life_dbis(struct store *s, struct store_error *err)
{
	MDB_txn *txn;
	for (int pass = 0; pass < 2; pass++) {
		int rc = mdb_txn_begin(s->env, NULL, pass ? 0 : MDB_RDONLY, &txn);
		if (rc)
			return pass ? DDI_EOK : mdb_fail(err, rc, "leases");
		unsigned fl = pass ? MDB_CREATE : 0;
		rc = mdb_dbi_open(txn, "leases", fl, &s->leases);
		if (rc == 0)
			rc = mdb_dbi_open(txn, "lease_exp", fl, &s->lease_exp);
		if (rc == 0)
			rc = mdb_dbi_open(txn, "aging", fl, &s->aging);
		if (rc == 0)
			rc = mdb_dbi_open(txn, "aging_zones", fl, &s->aging_zones);
		if (rc == 0 && (rc = mdb_txn_commit(txn)) == 0) {
			s->life_dbs = true;
			return DDI_EOK;
		}
		if (rc)
			mdb_txn_abort(txn);
		if (rc != MDB_NOTFOUND)
			return pass ? DDI_EOK : mdb_fail(err, rc, "leases");
	}
	return DDI_EOK;   /* read-only files of an older store: no leases, no aging */
}

static int need_dbs(struct store *s, struct store_error *err)
{
	if (!s->life_dbs)
		return seterr(err, DDI_EINVAL, -1,
		              "this store has no lease and aging databases (open it writable once)");
	return DDI_EOK;
}

static size_t ekey_make(uint8_t out[EKEY_MAX], int64_t expires, const uint8_t *rk, size_t rklen)
{
	put64(out, (uint64_t)expires);
	memcpy(out + 8, rk, rklen);
	return 8 + rklen;
}

static bool lease_parse(const MDB_val *v, int64_t *expires, uint32_t *granted)
{
	if (v->mv_size != LEASE_VAL)
		return false;
	const uint8_t *p = v->mv_data;
	uint64_t e = get64(p);
	if (e > INT64_MAX)
		return false;
	*expires = (int64_t)e;
	*granted = dns_get32(p + 8);
	return true;
}

/* The lease of the RRset with key rk: DDI_EOK, DDI_ENOENT (none), an LMDB error or DDI_ECORRUPT. */
static int lease_read(struct store *s, MDB_txn *txn, const uint8_t *rk, size_t rklen,
                      int64_t *expires, uint32_t *granted, struct store_error *err)
{
	char hb[128];
	MDB_val k = { rklen, (void *)rk }, v;
	int rc = mdb_get(txn, s->leases, &k, &v);
	if (rc == MDB_NOTFOUND)
		return DDI_ENOENT;
	if (rc)
		return mdb_fail(err, rc, "leases");
	if (!lease_parse(&v, expires, granted))
		return seterr(err, DDI_ECORRUPT, -1, "leases value of key %s does not validate",
		              khex(hb, rk, rklen));
	return DDI_EOK;
}

/* Drop the lease of the RRset with key rk (and its lease_exp entry). */
static int lease_drop(struct store *s, MDB_txn *txn, const uint8_t *rk, size_t rklen,
                      struct store_error *err)
{
	uint8_t ek[EKEY_MAX];
	int64_t exp;
	uint32_t g;
	int rc = lease_read(s, txn, rk, rklen, &exp, &g, err);
	if (rc == DDI_ENOENT)
		return DDI_EOK;
	if (rc)
		return rc;
	MDB_val k = { rklen, (void *)rk };
	MDB_val ekv = { ekey_make(ek, exp, rk, rklen), ek };
	if ((rc = mdb_del(txn, s->lease_exp, &ekv, NULL)) != 0 && rc != MDB_NOTFOUND)
		return mdb_fail(err, rc, "lease_exp");
	if ((rc = mdb_del(txn, s->leases, &k, NULL)) != 0)
		return mdb_fail(err, rc, "leases");
	return DDI_EOK;
}

static int lease_put(struct store *s, MDB_txn *txn, const uint8_t *rk, size_t rklen,
                     int64_t expires, uint32_t granted, struct store_error *err)
{
	uint8_t ek[EKEY_MAX], val[LEASE_VAL];
	int rc = lease_drop(s, txn, rk, rklen, err);
	if (rc)
		return rc;
	put64(val, (uint64_t)expires);
	dns_put32(val + 8, granted);
	MDB_val k = { rklen, (void *)rk }, v = { sizeof(val), val };
	if ((rc = mdb_put(txn, s->leases, &k, &v, 0)) != 0)
		return mdb_fail(err, rc, "leases");
	static uint8_t none[1];
	MDB_val ekv = { ekey_make(ek, expires, rk, rklen), ek }, ev = { 0, none };
	if ((rc = mdb_put(txn, s->lease_exp, &ekv, &ev, 0)) != 0)
		return mdb_fail(err, rc, "lease_exp");
	return DDI_EOK;
}

int life_forget(struct cctx *c, const uint8_t *okey, size_t oklen, uint16_t type)
{
	uint8_t rk[RKEY_MAX];
	if (!c->s->life_dbs)
		return DDI_EOK;
	size_t rklen = rkey_make(rk, okey, oklen, type);
	int rc = lease_drop(c->s, c->txn, rk, rklen, c->err);
	if (rc)
		return rc;
	MDB_val k = { rklen, rk };
	if ((rc = mdb_del(c->txn, c->s->aging, &k, NULL)) != 0 && rc != MDB_NOTFOUND)
		return c_mdb(c, rc, "aging");
	return DDI_EOK;
}

static bool azone_parse(const MDB_val *v, struct store_aging *a)
{
	const uint8_t *p = v->mv_data;
	if (v->mv_size != AZONE_VAL || p[0] != AZONE_VERSION)
		return false;
	a->no_refresh = dns_get32(p + 1);
	a->refresh = dns_get32(p + 5);
	a->period = dns_get32(p + 9);
	uint64_t last = get64(p + 13);
	if (last > INT64_MAX || a->no_refresh == 0 || a->refresh == 0)
		return false;
	a->last_scavenge_ns = (int64_t)last;
	return true;
}

static int azone_read(struct store *s, MDB_txn *txn, const uint8_t *zk, size_t zklen,
                      struct store_aging *a, struct store_error *err)
{
	char hb[128];
	MDB_val k = { zklen, (void *)zk }, v;
	int rc = mdb_get(txn, s->aging_zones, &k, &v);
	if (rc == MDB_NOTFOUND)
		return DDI_ENOENT;
	if (rc)
		return mdb_fail(err, rc, "aging_zones");
	if (!azone_parse(&v, a))
		return seterr(err, DDI_ECORRUPT, -1, "aging_zones value of key %s does not validate",
		              khex(hb, zk, zklen));
	return DDI_EOK;
}

/* STORE_OP_DYN_REFRESH: see store.h. */
int op_dyn_refresh(struct cctx *c, const struct store_op *op)
{
	char nb[DNS_NAME_STRLEN];
	uint8_t okey[DNS_KEY_MAXLEN], rk[RKEY_MAX], val[AGING_VAL];
	struct zrec z;
	struct rrval cur;
	if (!op->owner || dns_name_check(op->owner, DNS_NAME_MAXLEN) <= 0 || !type_storable(op->type))
		return seterr(c->err, DDI_EINVAL, c->op, "op %ld: no valid owner name or type", c->op);
	if (!c->s->life_dbs)
		return seterr(c->err, DDI_EINVAL, c->op, "this store has no lease databases");
	size_t oklen = (size_t)dns_name_to_key(okey, op->owner);
	int rc = rrset_read(c, okey, oklen, op->type, &cur);
	if (rc == DDI_ENOENT)
		return life_forget(c, okey, oklen, op->type);   /* the update removed it */
	if (rc)
		return rc;
	if ((rc = zone_find(c->s, c->txn, okey, oklen, &z, c->err)) != 0)
		return rc == DDI_ENOENT ? seterr(c->err, DDI_EOUTZONE, c->op, "%s is in no zone",
		                                 nstr(nb, op->owner)) : rc;
	int64_t now = now_ns();
	size_t rklen = rkey_make(rk, okey, oklen, op->type);
	/* Windows DNS's no-refresh interval: a refresh soon after the last one is not stamped */
	struct store_aging a;
	bool stamp = true;
	rc = azone_read(c->s, c->txn, z.key, z.klen, &a, c->err);
	if (rc && rc != DDI_ENOENT)
		return rc;
	bool aging_on = rc == 0;
	MDB_val k = { rklen, rk }, v;
	bool dynamic = mdb_get(c->txn, c->s->aging, &k, &v) == 0 && v.mv_size == AGING_VAL;
	if (!dynamic && !diff_created(c, okey, oklen, op->type))
		return DDI_EOK;   /* an operator's RRset the update added to: it stays static */
	if (dynamic && aging_on) {
		uint64_t last = get64(v.mv_data);
		stamp = last > INT64_MAX || now - (int64_t)last >= (int64_t)a.no_refresh * 1000000000;
	}
	if (stamp) {
		put64(val, (uint64_t)now);
		MDB_val nv = { sizeof(val), val };
		if ((rc = mdb_put(c->txn, c->s->aging, &k, &nv, 0)) != 0)
			return c_mdb(c, rc, "aging");
	}
	if (op->lease == 0)
		return lease_drop(c->s, c->txn, rk, rklen, c->err);
	return lease_put(c->s, c->txn, rk, rklen, now + (int64_t)op->lease * 1000000000, op->lease,
	                 c->err);
}

/* ------------------------------------------------------------------------ */
/* Reads                                                                    */
/* ------------------------------------------------------------------------ */

/*
 * The prelude of a read by RRset (leases, aging stamps): the owner checked,
 * the databases there, a read transaction (*own ends it with read_end), and
 * the RRset's key in rk / *k.
 */
static int rr_read_begin(struct store *s, struct store_txn *txn, const uint8_t *owner,
                         uint16_t type, struct store_txn *own, MDB_txn **t, uint8_t rk[RKEY_MAX],
                         MDB_val *k, struct store_error *err)
{
	uint8_t okey[DNS_KEY_MAXLEN];
	clearerr_(err);
	if (!owner || dns_name_check(owner, DNS_NAME_MAXLEN) <= 0)
		return seterr(err, DDI_EINVAL, -1, "no valid owner name");
	int rc = need_dbs(s, err);
	if (rc == 0)
		rc = read_begin(s, txn, own, t, err);
	if (rc)
		return rc;
	size_t oklen = (size_t)dns_name_to_key(okey, owner);
	k->mv_size = rkey_make(rk, okey, oklen, type);
	k->mv_data = rk;
	return DDI_EOK;
}

int store_lease_get(struct store *s, struct store_txn *txn, const uint8_t *owner, uint16_t type,
                    struct store_lease *out, struct store_error *err)
{
	struct store_txn own;
	MDB_txn *t;
	uint8_t rk[RKEY_MAX];
	MDB_val k;
	int rc = rr_read_begin(s, txn, owner, type, &own, &t, rk, &k, err);
	if (rc)
		return rc;
	rc = lease_read(s, t, rk, k.mv_size, &out->expires_ns, &out->granted, err);
	if (rc == DDI_EOK) {
		memcpy(out->owner, owner, dns_name_len(owner));
		dns_name_lower(out->owner);
		out->type = type;
	}
	read_end(&own);
	return rc;
}

int store_lease_due(struct store *s, struct store_txn *txn, int64_t until_ns, size_t max,
                    int (*cb)(void *ctx, const struct store_lease *l), void *ctx,
                    struct store_error *err)
{
	struct store_txn own;
	MDB_txn *t;
	MDB_cursor *cur;
	char hb[128];
	clearerr_(err);
	int rc = need_dbs(s, err);
	if (rc == 0)
		rc = read_begin(s, txn, &own, &t, err);
	if (rc)
		return rc;
	if ((rc = mdb_cursor_open(t, s->lease_exp, &cur)) != 0) {
		read_end(&own);
		return mdb_fail(err, rc, "lease_exp");
	}
	MDB_val k, v;
	size_t n = 0;
	int cbr = 0;
	for (rc = mdb_cursor_get(cur, &k, &v, MDB_FIRST); rc == 0 && (max == 0 || n < max);
	     rc = mdb_cursor_get(cur, &k, &v, MDB_NEXT)) {
		struct store_lease l;
		size_t oklen;
		MDB_val rkv = { k.mv_size - 8, (uint8_t *)k.mv_data + 8 };
		uint64_t e = k.mv_size > 8 ? get64(k.mv_data) : UINT64_MAX;
		if (k.mv_size <= 8 || e > INT64_MAX || !rkey_split(&rkv, &oklen, &l.type) ||
		    !key_to_name(l.owner, rkv.mv_data, oklen)) {
			rc = seterr(err, DDI_ECORRUPT, -1, "lease_exp key %s does not validate",
			            khex(hb, k.mv_data, k.mv_size));
			break;
		}
		l.expires_ns = (int64_t)e;
		if (l.expires_ns > until_ns) {
			rc = MDB_NOTFOUND;
			break;
		}
		MDB_val lv;
		int64_t le;
		if (mdb_get(t, s->leases, &rkv, &lv) != 0 || !lease_parse(&lv, &le, &l.granted) ||
		    le != l.expires_ns) {
			rc = seterr(err, DDI_ECORRUPT, -1, "lease_exp key %s has no matching lease",
			            khex(hb, k.mv_data, k.mv_size));
			break;
		}
		n++;
		if ((cbr = cb(ctx, &l)) != 0)
			break;
	}
	mdb_cursor_close(cur);
	read_end(&own);
	if (cbr)
		return cbr;
	if (rc == MDB_NOTFOUND || rc == 0)
		return DDI_EOK;
	return rc < 0 ? rc : mdb_fail(err, rc, "lease_exp");
}

/* The zone record of `apex` (exists) in t. */
static int zone_of_apex(struct store *s, MDB_txn *t, const uint8_t *apex, struct zrec *z,
                        struct store_error *err)
{
	char zb[DNS_NAME_STRLEN];
	uint8_t zk[ZKEY_MAX];
	if (!apex || dns_name_check(apex, DNS_NAME_MAXLEN) <= 0)
		return seterr(err, DDI_EINVAL, -1, "no valid zone name");
	int rc = zone_read(s, t, zk, zkey_make(zk, apex), z, err);
	if (rc == DDI_ENOENT)
		return seterr(err, DDI_ENOZONE, -1, "no zone %s", nstr(zb, apex));
	return rc;
}

int store_aging_get(struct store *s, struct store_txn *txn, const uint8_t *apex,
                    struct store_aging *out, struct store_error *err)
{
	struct store_txn own;
	struct zrec z;
	MDB_txn *t;
	clearerr_(err);
	int rc = need_dbs(s, err);
	if (rc == 0)
		rc = read_begin(s, txn, &own, &t, err);
	if (rc)
		return rc;
	rc = zone_of_apex(s, t, apex, &z, err);
	if (rc == 0)
		rc = azone_read(s, t, z.key, z.klen, out, err);
	read_end(&own);
	return rc;
}

int store_aging_set(struct store *s, struct store_txn *txn, const char *actor,
                    const uint8_t *apex, const struct store_aging *cfg, uint64_t *seq,
                    struct store_error *err)
{
	struct store_txn t;
	struct zrec z;
	char zb[DNS_NAME_STRLEN], note[DNS_NAME_STRLEN + 128];
	uint8_t val[AZONE_VAL];
	clearerr_(err);
	if (cfg && (cfg->no_refresh == 0 || cfg->refresh == 0))
		return seterr(err, DDI_EINVAL, -1, "no-refresh and refresh must be at least 1 second");
	int rc = need_dbs(s, err);
	if (rc == 0)
		rc = txn_open(s, txn, true, &t, err);
	if (rc)
		return rc;
	rc = zone_of_apex(s, t.txn, apex, &z, err);
	if (rc == 0 && (z.flags & STORE_ZONE_SECONDARY))
		rc = seterr(err, DDI_ESECONDARY, -1, "%s is a secondary zone: age it on its primary",
		            nstr(zb, z.apex));
	MDB_val k = { z.klen, z.key };
	if (rc == 0 && cfg) {
		val[0] = AZONE_VERSION;
		dns_put32(val + 1, cfg->no_refresh);
		dns_put32(val + 5, cfg->refresh);
		dns_put32(val + 9, cfg->period);
		put64(val + 13, (uint64_t)(cfg->last_scavenge_ns > 0 ? cfg->last_scavenge_ns : 0));
		MDB_val v = { sizeof(val), val };
		if ((rc = mdb_put(t.txn, s->aging_zones, &k, &v, 0)) != 0)
			rc = mdb_fail(err, rc, "aging_zones");
		snprintf(note, sizeof(note), "aging %s no-refresh %" PRIu32 " refresh %" PRIu32
		         " period %" PRIu32, nstr(zb, z.apex), cfg->no_refresh, cfg->refresh,
		         cfg->period);
	} else if (rc == 0) {
		if ((rc = mdb_del(t.txn, s->aging_zones, &k, NULL)) == MDB_NOTFOUND)
			rc = 0;
		else if (rc)
			rc = mdb_fail(err, rc, "aging_zones");
		snprintf(note, sizeof(note), "aging %s off", nstr(zb, z.apex));
	}
	if (rc == 0)
		rc = store_journal_note(s, &t, actor, note, seq, err);
	int crc = txn_close(&t, rc == 0, err);
	return rc ? rc : crc;
}

int store_aging_scavenged(struct store *s, struct store_txn *txn, const uint8_t *apex,
                          int64_t when_ns, struct store_error *err)
{
	struct store_txn t;
	struct store_aging a;
	struct zrec z;
	uint8_t val[AZONE_VAL];
	clearerr_(err);
	int rc = need_dbs(s, err);
	if (rc == 0)
		rc = txn_open(s, txn, true, &t, err);
	if (rc)
		return rc;
	rc = zone_of_apex(s, t.txn, apex, &z, err);
	if (rc == 0)
		rc = azone_read(s, t.txn, z.key, z.klen, &a, err);
	if (rc == 0) {
		val[0] = AZONE_VERSION;
		dns_put32(val + 1, a.no_refresh);
		dns_put32(val + 5, a.refresh);
		dns_put32(val + 9, a.period);
		put64(val + 13, (uint64_t)(when_ns > 0 ? when_ns : 0));
		MDB_val k = { z.klen, z.key }, v = { sizeof(val), val };
		if ((rc = mdb_put(t.txn, s->aging_zones, &k, &v, 0)) != 0)
			rc = mdb_fail(err, rc, "aging_zones");
	}
	int crc = txn_close(&t, rc == 0, err);
	return rc ? rc : crc;
}

int store_aging_walk(struct store *s, struct store_txn *txn, const uint8_t *apex,
                     const uint8_t *after_owner, uint16_t after_type, size_t max,
                     int (*cb)(void *ctx, const uint8_t *owner, uint16_t type,
                               int64_t refreshed_ns),
                     void *ctx, struct store_error *err)
{
	struct store_txn own;
	struct subzones sz = { 0 };
	struct zrec z;
	MDB_txn *t;
	MDB_cursor *cur = NULL;
	uint8_t start[RKEY_MAX], okey[DNS_KEY_MAXLEN], owner[DNS_NAME_MAXLEN];
	char hb[128];
	clearerr_(err);
	int rc = need_dbs(s, err);
	if (rc == 0)
		rc = read_begin(s, txn, &own, &t, err);
	if (rc)
		return rc;
	if ((rc = zone_of_apex(s, t, apex, &z, err)) != 0 ||
	    (rc = subzones_load(s, t, z.key, z.klen - 1, &sz, err)) != 0) {
		read_end(&own);
		return rc;
	}
	if ((rc = mdb_cursor_open(t, s->aging, &cur)) != 0) {
		rc = mdb_fail(err, rc, "aging");
		goto out;
	}
	MDB_val k, v;
	bool skip_first = false;
	if (after_owner && dns_name_check(after_owner, DNS_NAME_MAXLEN) > 0) {
		size_t oklen = (size_t)dns_name_to_key(okey, after_owner);
		k.mv_size = rkey_make(start, okey, oklen, after_type);
		skip_first = true;
	} else {
		memcpy(start, z.key, z.klen - 1);
		k.mv_size = z.klen - 1;
	}
	k.mv_data = start;
	MDB_val first = k;
	size_t n = 0;
	for (rc = mdb_cursor_get(cur, &k, &v, MDB_SET_RANGE); rc == 0 && (max == 0 || n < max);
	     rc = mdb_cursor_get(cur, &k, &v, MDB_NEXT)) {
		size_t oklen;
		uint16_t type;
		if (!has_prefix(&k, z.key, z.klen - 1))
			break;   /* past the zone's names */
		if (skip_first && k.mv_size == first.mv_size &&
		    memcmp(k.mv_data, first.mv_data, k.mv_size) == 0)
			continue;
		if (!rkey_split(&k, &oklen, &type) || v.mv_size != AGING_VAL ||
		    !key_to_name(owner, k.mv_data, oklen) || get64(v.mv_data) > INT64_MAX) {
			rc = seterr(err, DDI_ECORRUPT, -1, "aging entry %s does not validate",
			            khex(hb, k.mv_data, k.mv_size));
			goto out;
		}
		if (subzones_match(&sz, k.mv_data, oklen) >= 0)
			continue;   /* a deeper zone's name */
		n++;
		if ((rc = cb(ctx, owner, type, (int64_t)get64(v.mv_data))) != 0)
			goto out;
	}
	rc = rc == MDB_NOTFOUND || rc == 0 ? DDI_EOK : mdb_fail(err, rc, "aging");
out:
	if (cur)
		mdb_cursor_close(cur);
	subzones_free(&sz);
	read_end(&own);
	return rc;
}

int store_lease_drop(struct store *s, struct store_txn *txn, const uint8_t *owner, uint16_t type,
                     struct store_error *err)
{
	struct store_txn t;
	uint8_t okey[DNS_KEY_MAXLEN], rk[RKEY_MAX];
	clearerr_(err);
	if (!owner || dns_name_check(owner, DNS_NAME_MAXLEN) <= 0)
		return seterr(err, DDI_EINVAL, -1, "no valid owner name");
	int rc = need_dbs(s, err);
	if (rc == 0)
		rc = txn_open(s, txn, true, &t, err);
	if (rc)
		return rc;
	size_t rklen = rkey_make(rk, okey, (size_t)dns_name_to_key(okey, owner), type);
	rc = lease_drop(s, t.txn, rk, rklen, err);
	MDB_val k = { rklen, rk };
	int drc = rc ? 0 : mdb_del(t.txn, s->aging, &k, NULL);
	if (drc && drc != MDB_NOTFOUND)
		rc = mdb_fail(err, drc, "aging");
	int crc = txn_close(&t, rc == 0, err);
	return rc ? rc : crc;
}

int store_aging_stamp(struct store *s, struct store_txn *txn, const uint8_t *owner,
                      uint16_t type, int64_t *refreshed_ns, struct store_error *err)
{
	struct store_txn own;
	MDB_txn *t;
	uint8_t rk[RKEY_MAX];
	MDB_val k, v;
	int rc = rr_read_begin(s, txn, owner, type, &own, &t, rk, &k, err);
	if (rc)
		return rc;
	rc = mdb_get(t, s->aging, &k, &v);
	if (rc == MDB_NOTFOUND)
		rc = DDI_ENOENT;
	else if (rc)
		rc = mdb_fail(err, rc, "aging");
	else if (v.mv_size != AGING_VAL || get64(v.mv_data) > INT64_MAX)
		rc = seterr(err, DDI_ECORRUPT, -1, "aging value does not validate");
	else
		*refreshed_ns = (int64_t)get64(v.mv_data);
	read_end(&own);
	return rc;
}
