/* store/values -- validated values (RRsets, zones), the zone scan that skips deeper zones, key lists */
#include <stdlib.h>
#include <string.h>

#include <jansson.h>
#include <lmdb.h>

#include "control/store/internal.h"
#include "dns/errcode.h"
#include "dns/rdata.h"

/* ------------------------------------------------------------------------ */
/* Values                                                                   */
/* ------------------------------------------------------------------------ */

/*
 * Walk `count` items of [rdlen rdata] that must fill exactly `len` bytes,
 * each valid rdata of `type`. Returns DDI_EOK, DDI_EINVAL (framing) or
 * DDI_ERDATA (content); *bad is the index of the failing item.
 */
int rdatas_check(uint16_t type, uint16_t count, const uint8_t *p, size_t len, size_t *bad)
{
	size_t off = 0;
	for (size_t i = 0; i < count; i++) {
		*bad = i;
		if (len - off < 2)
			return DDI_EINVAL;
		uint16_t rdlen = dns_get16(p + off);
		off += 2;
		if (len - off < rdlen)
			return DDI_EINVAL;
		if (dns_rdata_check(type, p + off, rdlen) != DDI_EOK)
			return DDI_ERDATA;
		off += rdlen;
	}
	*bad = count;
	return off == len ? DDI_EOK : DDI_EINVAL;
}

/* Parse and validate an rrsets value read from the store. */
bool rrval_parse(const MDB_val *v, uint16_t type, struct rrval *out)
{
	const uint8_t *p = v->mv_data;
	size_t bad;
	if (v->mv_size < RRVAL_HDR)
		return false;
	out->ttl = dns_get32(p);
	out->count = dns_get16(p + 4);
	out->rdatas = p + RRVAL_HDR;
	out->len = v->mv_size - RRVAL_HDR;
	if (out->ttl > STORE_TTL_MAX || out->count == 0)
		return false;
	return rdatas_check(type, out->count, out->rdatas, out->len, &bad) == DDI_EOK;
}

/* Parse a zones entry; false when it does not validate. */
bool zrec_parse(const MDB_val *k, const MDB_val *v, struct zrec *z)
{
	const uint8_t *p = v->mv_data;
	if (v->mv_size <= ZVAL_HDR || v->mv_size > ZVAL_HDR + DNS_NAME_MAXLEN || p[0] != ZVAL_VERSION)
		return false;
	size_t nlen = v->mv_size - ZVAL_HDR;
	if (dns_name_check(p + ZVAL_HDR, nlen) != (int)nlen)
		return false;
	memcpy(z->apex, p + ZVAL_HDR, nlen);
	z->flags = dns_get32(p + 1);
	z->created = (int64_t)get64(p + 5);
	z->klen = zkey_make(z->key, z->apex);
	return z->klen == k->mv_size && memcmp(z->key, k->mv_data, z->klen) == 0;
}

/* Read a zone by its key. DDI_EOK, DDI_ENOENT, DDI_ECORRUPT (err set) or an LMDB error. */
int zone_read(struct store *s, MDB_txn *txn, const uint8_t *zk, size_t zklen,
                     struct zrec *z, struct store_error *err)
{
	char hb[128];
	uint8_t kb[ZKEY_MAX];
	if (zklen > ZKEY_MAX)
		return DDI_ENOENT;
	memcpy(kb, zk, zklen);   /* callers may pass z->key, which zrec_parse rewrites */
	MDB_val k = { zklen, kb }, v;
	int rc = mdb_get(txn, s->zones, &k, &v);
	if (rc == MDB_NOTFOUND)
		return DDI_ENOENT;
	if (rc)
		return mdb_fail(err, rc, "zones");
	if (!zrec_parse(&k, &v, z))
		return seterr(err, DDI_ECORRUPT, -1, "zones entry %s does not validate",
		              khex(hb, kb, zklen));
	return DDI_EOK;
}

/* The deepest zone whose apex is at or above the owner with key okey. */
int zone_find(struct store *s, MDB_txn *txn, const uint8_t *okey, size_t oklen,
                     struct zrec *z, struct store_error *err)
{
	uint8_t zk[ZKEY_MAX];
	for (size_t l = oklen + 1; l-- > 0;) {
		if (l > 0 && okey[l - 1] != 0)
			continue;   /* not a label boundary */
		memcpy(zk, okey, l);
		zk[l] = 0;
		int rc = zone_read(s, txn, zk, l + 1, z, err);
		if (rc != DDI_ENOENT)
			return rc;
	}
	return DDI_ENOENT;
}

/* ------------------------------------------------------------------------ */
/* Zone scans: the RRsets of one zone, deeper zones skipped                  */
/* ------------------------------------------------------------------------ */

void subzones_free(struct subzones *sz)
{
	free(sz->v);
	memset(sz, 0, sizeof(*sz));
}

/* The zones strictly below the apex whose key is ak (K(apex), aklen bytes). */
int subzones_load(struct store *s, MDB_txn *txn, const uint8_t *ak, size_t aklen,
                         struct subzones *sz, struct store_error *err)
{
	MDB_cursor *cur;
	MDB_val k, v;
	char hb[128];
	int rc = mdb_cursor_open(txn, s->zones, &cur);
	memset(sz, 0, sizeof(*sz));
	if (rc)
		return mdb_fail(err, rc, "zones cursor");
	if (aklen == 0) {
		rc = mdb_cursor_get(cur, &k, &v, MDB_FIRST);
	} else {
		k.mv_size = aklen;
		k.mv_data = (void *)ak;
		rc = mdb_cursor_get(cur, &k, &v, MDB_SET_RANGE);
	}
	for (; rc == 0 && has_prefix(&k, ak, aklen); rc = mdb_cursor_get(cur, &k, &v, MDB_NEXT)) {
		const uint8_t *kp = k.mv_data;
		bool valid = k.mv_size <= ZKEY_MAX && kp[k.mv_size - 1] == 0;
		if (valid && k.mv_size == aklen + 1)
			continue;   /* the apex itself */
		if (!valid || k.mv_size < 2 || kp[k.mv_size - 2] != 0) {
			mdb_cursor_close(cur);
			subzones_free(sz);
			return seterr(err, DDI_ECORRUPT, -1, "zones key %s does not validate",
			              khex(hb, k.mv_data, k.mv_size));
		}
		if (sz->n == sz->cap) {
			size_t nc = sz->cap ? sz->cap * 2 : 4;
			void *nv = realloc(sz->v, nc * sizeof(*sz->v));
			if (!nv) {
				mdb_cursor_close(cur);
				subzones_free(sz);
				return seterr(err, DDI_ENOMEM, -1, "out of memory");
			}
			sz->v = nv;
			sz->cap = nc;
		}
		sz->v[sz->n].len = k.mv_size - 1;
		memcpy(sz->v[sz->n].key, k.mv_data, k.mv_size - 1);
		sz->n++;
	}
	mdb_cursor_close(cur);
	if (rc && rc != MDB_NOTFOUND) {
		subzones_free(sz);
		return mdb_fail(err, rc, "zones");
	}
	return DDI_EOK;
}

/* Index of the deeper zone that holds key k (an rrsets or owner key), or -1. */
long subzones_match(const struct subzones *sz, const uint8_t *k, size_t klen)
{
	for (size_t i = 0; i < sz->n; i++)
		if (klen >= sz->v[i].len && memcmp(k, sz->v[i].key, sz->v[i].len) == 0)
			return (long)i;
	return -1;
}

/* Next RRset of the zone: 1 with z->k/z->v set, 0 at the end, < 0 on error. */
int zscan_next(struct zscan *z)
{
	int rc;
	if (!z->started) {
		z->started = true;
		if (z->aklen == 0) {
			rc = mdb_cursor_get(z->cur, &z->k, &z->v, MDB_FIRST);
		} else {
			z->k.mv_size = z->aklen;
			z->k.mv_data = (void *)z->ak;
			rc = mdb_cursor_get(z->cur, &z->k, &z->v, MDB_SET_RANGE);
		}
	} else {
		rc = mdb_cursor_get(z->cur, &z->k, &z->v, MDB_NEXT);
	}
	for (;;) {
		if (rc == MDB_NOTFOUND)
			return 0;
		if (rc)
			return mdb_code(rc);
		if (!has_prefix(&z->k, z->ak, z->aklen))
			return 0;
		long i = subzones_match(z->sz, z->k.mv_data, z->k.mv_size);
		if (i < 0)
			return 1;
		/*
		 * Skip the deeper zone in one seek: K(sub) ends in 0x00 and every
		 * key below it continues K(sub); K(sub) with its last byte made
		 * 0x01 is greater than all of them and smaller than anything else.
		 */
		uint8_t seek[DNS_KEY_MAXLEN];
		size_t l = z->sz->v[i].len;
		memcpy(seek, z->sz->v[i].key, l);
		seek[l - 1] = 1;
		z->k.mv_size = l;
		z->k.mv_data = seek;
		rc = mdb_cursor_get(z->cur, &z->k, &z->v, MDB_SET_RANGE);
	}
}

void keylist_free(struct keylist *kl)
{
	free(kl->off);
	free(kl->arena);
	memset(kl, 0, sizeof(*kl));
}

int keylist_add(struct keylist *kl, const void *key, size_t len)
{
	if (kl->n + 1 >= kl->cap) {
		size_t nc = kl->cap ? kl->cap * 2 : 64;
		size_t *no = realloc(kl->off, nc * sizeof(*no));
		if (!no)
			return DDI_ENOMEM;
		kl->off = no;
		kl->cap = nc;
	}
	if (kl->used + len > kl->acap) {
		size_t nc = kl->acap ? kl->acap * 2 : 4096;
		while (nc < kl->used + len)
			nc *= 2;
		uint8_t *na = realloc(kl->arena, nc);
		if (!na)
			return DDI_ENOMEM;
		kl->arena = na;
		kl->acap = nc;
	}
	memcpy(kl->arena + kl->used, key, len);
	kl->off[kl->n++] = kl->used;
	kl->used += len;
	kl->off[kl->n] = kl->used;
	return DDI_EOK;
}
