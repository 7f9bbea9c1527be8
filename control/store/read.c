/* store/read -- reads: zone walk, RRset get, export, zone list and get, zone_of, address owners */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <jansson.h>
#include <lmdb.h>

#include "control/store/internal.h"
#include "dns/errcode.h"
#include "dns/rdata.h"
#include "dns/zonefile.h"

/* ------------------------------------------------------------------------ */
/* Reading                                                                  */
/* ------------------------------------------------------------------------ */

int rread_entry(struct rread *r, const MDB_val *k, const MDB_val *v, struct store_error *err)
{
	char hb[128];
	size_t oklen;
	uint16_t type;
	if (!rkey_split(k, &oklen, &type) || !type_storable(type))
		return seterr(err, DDI_ECORRUPT, -1, "rrsets key %s does not validate",
		              khex(hb, k->mv_data, k->mv_size));
	if (oklen != r->oklen || memcmp(r->okey, k->mv_data, oklen) != 0) {
		if (!key_to_name(r->owner, k->mv_data, oklen)) {
			r->oklen = SIZE_MAX;
			return seterr(err, DDI_ECORRUPT, -1, "rrsets key %s holds no valid name",
			              khex(hb, k->mv_data, k->mv_size));
		}
		memcpy(r->okey, k->mv_data, oklen);
		r->oklen = oklen;
	}
	r->type = type;
	if (!rrval_parse(v, type, &r->val))
		return seterr(err, DDI_ECORRUPT, -1, "rrsets value of key %s does not validate",
		              khex(hb, k->mv_data, k->mv_size));
	return DDI_EOK;
}

int zone_walk_txn(struct store *s, MDB_txn *txn, const struct zrec *z, store_rrset_cb cb,
                         void *ctx, struct store_error *err)
{
	struct subzones sz;
	struct zscan zs = { 0 };
	struct rread *r = malloc(sizeof(*r));
	int rc;
	if (!r)
		return seterr(err, DDI_ENOMEM, -1, "out of memory");
	r->oklen = SIZE_MAX;
	if ((rc = subzones_load(s, txn, z->key, z->klen - 1, &sz, err)) != 0) {
		free(r);
		return rc;
	}
	if ((rc = mdb_cursor_open(txn, s->rrsets, &zs.cur)) != 0) {
		subzones_free(&sz);
		free(r);
		return mdb_fail(err, rc, "rrsets");
	}
	zs.ak = z->key;
	zs.aklen = z->klen - 1;
	zs.sz = &sz;
	while ((rc = zscan_next(&zs)) == 1) {
		if ((rc = rread_entry(r, &zs.k, &zs.v, err)) != 0)
			break;
		rc = cb(ctx, r->owner, r->type, r->val.ttl, r->val.count, r->val.rdatas, r->val.len);
		if (rc)
			break;
	}
	if (rc < 0 && err && err->code == DDI_EOK)
		seterr(err, rc, -1, "%s", ddi_strerror(rc));
	mdb_cursor_close(zs.cur);
	subzones_free(&sz);
	free(r);
	return rc;
}

/*
 * Begin a read (read_begin: in tx, or in a read transaction of its own in
 * *own) and read the zone `apex` into *z. On success the caller calls
 * read_end(own); on error nothing is left open.
 * Errors: DDI_EINVAL (bad name), DDI_ENOZONE, LMDB and validation errors.
 */
static int zone_open_read(struct store *s, struct store_txn *tx, const uint8_t *apex,
                          struct store_txn *own, MDB_txn **txn, struct zrec *z,
                          struct store_error *err)
{
	char nb[DNS_NAME_STRLEN];
	clearerr_(err);
	if (!apex || dns_name_check(apex, DNS_NAME_MAXLEN) <= 0)
		return seterr(err, DDI_EINVAL, -1, "no valid zone name");
	int rc = read_begin(s, tx, own, txn, err);
	if (rc)
		return rc;
	z->klen = zkey_make(z->key, apex);
	rc = zone_read(s, *txn, z->key, z->klen, z, err);
	if (rc == DDI_ENOENT)
		rc = seterr(err, DDI_ENOZONE, -1, "no zone %s", nstr(nb, apex));
	if (rc != 0)
		read_end(own);
	return rc;
}

int store_zone_walk(struct store *s, const uint8_t *apex, store_rrset_cb cb, void *ctx,
                    struct store_error *err)
{
	MDB_txn *txn;
	struct store_txn own;
	struct zrec z;
	int rc = zone_open_read(s, NULL, apex, &own, &txn, &z, err);
	if (rc)
		return rc;
	rc = zone_walk_txn(s, txn, &z, cb, ctx, err);
	read_end(&own);
	return rc;
}

int store_rrset_get(struct store *s, struct store_txn *tx, const uint8_t *owner, uint16_t type,
                    store_rrset_cb cb, void *ctx, struct store_error *err)
{
	char nb[DNS_NAME_STRLEN];
	uint8_t pk[RKEY_MAX];
	struct rread r;
	MDB_txn *txn;
	struct store_txn own;
	MDB_cursor *cur;
	MDB_val k, v;
	size_t n = 0;
	int cbrc = 0;
	clearerr_(err);
	if (!owner || dns_name_check(owner, DNS_NAME_MAXLEN) <= 0)
		return seterr(err, DDI_EINVAL, -1, "no valid owner name");
	int rc = read_begin(s, tx, &own, &txn, err);
	if (rc)
		return rc;
	if ((rc = mdb_cursor_open(txn, s->rrsets, &cur)) != 0) {
		read_end(&own);
		return mdb_fail(err, rc, "rrsets");
	}
	size_t oklen = (size_t)dns_name_to_key(pk, owner);
	bool all = type == 0 || type == DNS_T_ANY;
	r.oklen = SIZE_MAX;
	pk[oklen] = 0;
	dns_put16(pk + oklen + 1, type);
	k.mv_size = all ? oklen + 1 : oklen + 3;
	k.mv_data = pk;
	for (rc = mdb_cursor_get(cur, &k, &v, all ? MDB_SET_RANGE : MDB_SET_KEY);
	     rc == 0 && k.mv_size == oklen + 3 && has_prefix(&k, pk, oklen + 1);
	     rc = mdb_cursor_get(cur, &k, &v, MDB_NEXT)) {
		if ((rc = rread_entry(&r, &k, &v, err)) != 0)
			break;
		n++;
		cbrc = cb(ctx, r.owner, r.type, r.val.ttl, r.val.count, r.val.rdatas, r.val.len);
		if (cbrc || !all) {
			rc = MDB_NOTFOUND;
			break;
		}
	}
	mdb_cursor_close(cur);
	read_end(&own);
	if (cbrc)
		return cbrc;
	if (rc == MDB_NOTFOUND || rc == 0) {
		if (n == 0)
			return seterr(err, DDI_ENOENT, -1, "%s has no %s%srecords", nstr(nb, owner),
			              all ? "" : dns_type_name(type), all ? "" : " ");
		return DDI_EOK;
	}
	if (rc > 0)
		return mdb_fail(err, rc, "rrsets");
	return rc;
}

struct export_ctx {
	FILE *out;
	bool soa_pass, soa_done;
};

static int export_rrset(void *ctx, const uint8_t *owner, uint16_t type, uint32_t ttl,
                        uint16_t count, const uint8_t *rdatas, size_t len)
{
	struct export_ctx *e = ctx;
	(void)count;
	if ((type == DNS_T_SOA) != e->soa_pass)
		return 0;
	if (e->soa_pass)
		e->soa_done = true;
	for (size_t off = 0; off + 2 <= len;) {
		uint16_t rdlen = dns_get16(rdatas + off);
		int rc = zf_write_rr(e->out, owner, type, ttl, rdatas + off + 2, rdlen);
		if (rc < 0)
			return rc;
		off += 2 + (size_t)rdlen;
	}
	return e->soa_pass ? 1 : 0;   /* the apex comes first: one SOA and stop */
}

int store_zone_export(struct store *s, const uint8_t *origin, FILE *out, struct store_error *err)
{
	char nb[DNS_NAME_STRLEN];
	struct export_ctx e = { .out = out, .soa_pass = true };
	MDB_txn *txn;
	struct zrec z;
	clearerr_(err);
	if (!origin || dns_name_check(origin, DNS_NAME_MAXLEN) <= 0)
		return seterr(err, DDI_EINVAL, -1, "no valid zone name");
	int rc = txn_begin(s, MDB_RDONLY, &txn);
	if (rc)
		return mdb_fail(err, rc, "read transaction");
	z.klen = zkey_make(z.key, origin);
	rc = zone_read(s, txn, z.key, z.klen, &z, err);
	if (rc == DDI_ENOENT)
		rc = seterr(err, DDI_ENOZONE, -1, "no zone %s", nstr(nb, origin));
	/* SOA first (only the apex has one), then everything else in canonical order */
	if (rc == 0)
		rc = zone_walk_txn(s, txn, &z, export_rrset, &e, err);
	if (rc == 1 || rc == 0) {
		e.soa_pass = false;
		rc = zone_walk_txn(s, txn, &z, export_rrset, &e, err);
	}
	mdb_txn_abort(txn);
	if (rc < 0 && err && err->code == DDI_EOK)
		seterr(err, rc, -1, "writing the zone: %s", ddi_strerror(rc));
	return rc;
}

static int zone_info_txn(struct store *s, MDB_txn *txn, const struct zrec *z, bool count,
                         struct store_zone_info *zi, struct store_error *err)
{
	struct cctx c = { .s = s, .txn = txn, .err = err, .op = -1 };
	struct store_error localerr;
	struct rrval soa;
	if (!err)
		c.err = &localerr;
	memset(zi, 0, sizeof(*zi));
	memcpy(zi->apex, z->apex, dns_name_len(z->apex));
	zi->flags = z->flags;
	zi->created_ns = z->created;
	int rc = rrset_read(&c, z->key, z->klen - 1, DNS_T_SOA, &soa);
	if (rc == DDI_EOK) {
		zi->has_soa = true;
		zi->serial = dns_soa_serial(soa.rdatas + 2, dns_get16(soa.rdatas));
	} else if (rc != DDI_ENOENT) {
		return rc;
	}
	if (count)
		return zone_count(s, txn, z, &zi->nrrsets, &zi->nrrs, err);
	return DDI_EOK;
}

int store_zone_get(struct store *s, struct store_txn *tx, const uint8_t *apex, bool count,
                   struct store_zone_info *zi, struct store_error *err)
{
	MDB_txn *txn;
	struct store_txn own;
	struct zrec z;
	int rc = zone_open_read(s, tx, apex, &own, &txn, &z, err);
	if (rc)
		return rc;
	rc = zone_info_txn(s, txn, &z, count, zi, err);
	read_end(&own);
	return rc;
}

int store_zone_list(struct store *s, bool count,
                    int (*cb)(void *ctx, const struct store_zone_info *z), void *ctx,
                    struct store_error *err)
{
	return store_zone_list_in(s, NULL, count, cb, ctx, err);
}

int store_zone_list_in(struct store *s, struct store_txn *tx, bool count,
                       int (*cb)(void *ctx, const struct store_zone_info *z), void *ctx,
                       struct store_error *err)
{
	char hb[128];
	MDB_txn *txn = tx ? tx->txn : NULL;
	MDB_cursor *cur;
	MDB_val k, v;
	struct zrec z;
	struct store_zone_info zi;
	int cbrc = 0;
	clearerr_(err);
	int rc = tx ? 0 : txn_begin(s, MDB_RDONLY, &txn);
	if (rc)
		return mdb_fail(err, rc, "read transaction");
	if ((rc = mdb_cursor_open(txn, s->zones, &cur)) != 0) {
		if (!tx)
			mdb_txn_abort(txn);
		return mdb_fail(err, rc, "zones");
	}
	for (rc = mdb_cursor_get(cur, &k, &v, MDB_FIRST); rc == 0;
	     rc = mdb_cursor_get(cur, &k, &v, MDB_NEXT)) {
		if (!zrec_parse(&k, &v, &z)) {
			rc = seterr(err, DDI_ECORRUPT, -1, "zones entry %s does not validate",
			            khex(hb, k.mv_data, k.mv_size));
			break;
		}
		if ((rc = zone_info_txn(s, txn, &z, count, &zi, err)) != 0)
			break;
		if ((cbrc = cb(ctx, &zi)) != 0)
			break;
	}
	mdb_cursor_close(cur);
	if (!tx)
		mdb_txn_abort(txn);
	if (cbrc)
		return cbrc;
	if (rc == MDB_NOTFOUND)
		return DDI_EOK;
	if (rc > 0)
		return mdb_fail(err, rc, "zones");
	return rc;
}

int store_addr_owners(struct store *s, struct store_txn *tx, int family, const uint8_t *addr,
                      int (*cb)(void *ctx, const uint8_t *owner), void *ctx,
                      struct store_error *err)
{
	uint8_t ak[17], name[DNS_NAME_MAXLEN];
	char hb[128];
	int cbrc = 0;
	MDB_txn *txn;
	struct store_txn own;
	MDB_cursor *cur;
	MDB_val k, v;
	clearerr_(err);
	if (family != 4 && family != 6)
		return seterr(err, DDI_EINVAL, -1, "family must be 4 or 6");
	size_t kl = addr_key(ak, family == 4 ? DNS_T_A : DNS_T_AAAA, addr, family == 4 ? 4 : 16);
	int rc = read_begin(s, tx, &own, &txn, err);
	if (rc)
		return rc;
	if ((rc = mdb_cursor_open(txn, s->addrs, &cur)) != 0) {
		read_end(&own);
		return mdb_fail(err, rc, "addresses");
	}
	k.mv_size = kl;
	k.mv_data = ak;
	for (rc = mdb_cursor_get(cur, &k, &v, MDB_SET_KEY); rc == 0;
	     rc = mdb_cursor_get(cur, &k, &v, MDB_NEXT_DUP)) {
		if (v.mv_size > DNS_NAME_MAXLEN ||
		    dns_name_check(v.mv_data, v.mv_size) != (int)v.mv_size) {
			rc = seterr(err, DDI_ECORRUPT, -1, "addresses entry %s holds a bad name",
			            khex(hb, ak, kl));
			break;
		}
		memcpy(name, v.mv_data, v.mv_size);
		if ((cbrc = cb(ctx, name)) != 0)
			break;
	}
	mdb_cursor_close(cur);
	read_end(&own);
	if (cbrc)
		return cbrc;
	if (rc == MDB_NOTFOUND)
		return DDI_EOK;
	if (rc > 0)
		return mdb_fail(err, rc, "addresses");
	return rc;
}

/* Count the RRsets (and RRs) of a zone. */
int zone_count(struct store *s, MDB_txn *txn, const struct zrec *z, uint64_t *nrrsets,
                      uint64_t *nrrs, struct store_error *err)
{
	struct subzones sz;
	struct zscan zs = { 0 };
	char hb[128];
	int rc = subzones_load(s, txn, z->key, z->klen - 1, &sz, err);
	if (rc)
		return rc;
	*nrrsets = 0;
	if (nrrs)
		*nrrs = 0;
	if ((rc = mdb_cursor_open(txn, s->rrsets, &zs.cur)) != 0) {
		subzones_free(&sz);
		return mdb_fail(err, rc, "rrsets");
	}
	zs.ak = z->key;
	zs.aklen = z->klen - 1;
	zs.sz = &sz;
	while ((rc = zscan_next(&zs)) == 1) {
		(*nrrsets)++;
		if (nrrs) {
			if (zs.v.mv_size < RRVAL_HDR) {
				rc = seterr(err, DDI_ECORRUPT, -1, "rrsets value of key %s is short",
				            khex(hb, zs.k.mv_data, zs.k.mv_size));
				break;
			}
			*nrrs += dns_get16((uint8_t *)zs.v.mv_data + 4);
		}
	}
	mdb_cursor_close(zs.cur);
	subzones_free(&sz);
	if (rc < 0 && err && err->code != rc)
		seterr(err, rc, -1, "rrsets: %s", ddi_strerror(rc));
	return rc < 0 ? rc : DDI_EOK;
}

int store_zone_of(struct store *s, struct store_txn *tx, const uint8_t *name,
                  uint8_t apex[DNS_NAME_MAXLEN], struct store_error *err)
{
	uint8_t okey[DNS_KEY_MAXLEN];
	struct zrec z;
	MDB_txn *txn;
	struct store_txn own;
	clearerr_(err);
	if (!name || dns_name_check(name, DNS_NAME_MAXLEN) <= 0)
		return seterr(err, DDI_EINVAL, -1, "no valid name");
	size_t oklen = (size_t)dns_name_to_key(okey, name);
	int rc = read_begin(s, tx, &own, &txn, err);
	if (rc)
		return rc;
	rc = zone_find(s, txn, okey, oklen, &z, err);
	read_end(&own);
	if (rc == DDI_ENOENT)
		return DDI_ENOZONE;
	if (rc == 0)
		memcpy(apex, z.apex, (size_t)dns_name_check(z.apex, DNS_NAME_MAXLEN));
	return rc;
}
