/* store/zone -- the zone-level ops of a commit: add and remove a zone */
#include <stdlib.h>
#include <string.h>

#include <jansson.h>
#include <lmdb.h>

#include "control/store/internal.h"
#include "dns/errcode.h"
#include "dns/rdata.h"

int zone_keys(struct cctx *c, const struct zrec *z, struct keylist *kl)
{
	struct subzones sz;
	struct zscan zs = { 0 };
	int rc = subzones_load(c->s, c->txn, z->key, z->klen - 1, &sz, c->err);
	memset(kl, 0, sizeof(*kl));
	if (rc)
		return rc;
	if ((rc = mdb_cursor_open(c->txn, c->s->rrsets, &zs.cur)) != 0) {
		subzones_free(&sz);
		return c_mdb(c, rc, "rrsets");
	}
	zs.ak = z->key;
	zs.aklen = z->klen - 1;
	zs.sz = &sz;
	while ((rc = zscan_next(&zs)) == 1) {
		if (keylist_add(kl, zs.k.mv_data, zs.k.mv_size) != 0) {
			rc = DDI_ENOMEM;
			break;
		}
	}
	mdb_cursor_close(zs.cur);
	subzones_free(&sz);
	if (rc < 0) {
		keylist_free(kl);
		return seterr(c->err, rc, c->op, "rrsets scan: %s", ddi_strerror(rc));
	}
	return DDI_EOK;
}

/* Delete one RRset given its full key (addresses kept in step). */
int rrset_delete_key(struct cctx *c, const uint8_t *rk, size_t rklen)
{
	uint16_t oldcount;
	return rrset_write(c, rk, rklen - 3, dns_get16(rk + rklen - 2), 0, 0, NULL, 0, &oldcount,
	                   NULL);
}

/* No data of the enclosing zone may sit at or below a new apex. */
int zone_add_check(struct cctx *c, const uint8_t *apex, const uint8_t *ak, size_t aklen)
{
	char nb[DNS_NAME_STRLEN], pb[DNS_NAME_STRLEN];
	struct zrec parent;
	int rc = zone_find(c->s, c->txn, ak, aklen, &parent, c->err);
	if (rc == DDI_ENOENT)
		return DDI_EOK;   /* no enclosing zone: nothing can be below */
	if (rc)
		return rc;
	struct subzones sz;
	struct zscan zs = { 0 };
	if ((rc = subzones_load(c->s, c->txn, ak, aklen, &sz, c->err)) != 0)
		return rc;
	if ((rc = mdb_cursor_open(c->txn, c->s->rrsets, &zs.cur)) != 0) {
		subzones_free(&sz);
		return c_mdb(c, rc, "rrsets");
	}
	zs.ak = ak;
	zs.aklen = aklen;
	zs.sz = &sz;
	rc = zscan_next(&zs);
	mdb_cursor_close(zs.cur);
	subzones_free(&sz);
	if (rc < 0)
		return seterr(c->err, rc, c->op, "rrsets scan: %s", ddi_strerror(rc));
	if (rc == 1)
		return seterr(c->err, DDI_EEXIST, c->op,
		              "zone %s holds names at or below %s: remove them first",
		              nstr(pb, parent.apex), nstr(nb, apex));
	return DDI_EOK;
}

int zone_create(struct cctx *c, const uint8_t *apex, uint32_t flags, struct zrec *z)
{
	uint8_t val[ZVAL_HDR + DNS_NAME_MAXLEN];
	size_t nlen = dns_name_len(apex);
	val[0] = ZVAL_VERSION;
	dns_put32(val + 1, flags);
	put64(val + 5, (uint64_t)now_ns());
	memcpy(val + ZVAL_HDR, apex, nlen);
	dns_name_lower(val + ZVAL_HDR);
	z->klen = zkey_make(z->key, apex);
	MDB_val k = { z->klen, z->key }, v = { ZVAL_HDR + nlen, val };
	if (!zrec_parse(&k, &v, z))
		return seterr(c->err, DDI_EINVAL, c->op, "bad apex");
	int rc = mdb_put(c->txn, c->s->zones, &k, &v, MDB_NOOVERWRITE);
	return rc ? c_mdb(c, rc, "zones") : DDI_EOK;
}

int op_zone_add(struct cctx *c, const struct store_op *op)
{
	char nb[DNS_NAME_STRLEN];
	struct zrec z;
	if (!op->zone || dns_name_check(op->zone, DNS_NAME_MAXLEN) <= 0)
		return seterr(c->err, DDI_EINVAL, c->op, "op %ld: no valid zone name", c->op);
	z.klen = zkey_make(z.key, op->zone);
	int rc = zone_read(c->s, c->txn, z.key, z.klen, &z, c->err);
	if (rc == DDI_EOK)
		return seterr(c->err, DDI_EEXIST, c->op, "zone %s exists", nstr(nb, op->zone));
	if (rc != DDI_ENOENT)
		return rc;
	if ((rc = zone_add_check(c, op->zone, z.key, z.klen - 1)) != 0)
		return rc;
	if ((rc = zone_create(c, op->zone, op->zone_flags, &z)) != 0)
		return rc;
	struct tzone *tz = touch_zone(c, &z);
	if (!tz)
		return c_nomem(c);
	tz->added = true;
	tz->removed = false;
	return journal_op(c, STORE_J_ZONE_ADD, z.apex, z.apex, 0, 0, 0);
}

int op_zone_remove(struct cctx *c, const struct store_op *op)
{
	char nb[DNS_NAME_STRLEN];
	struct zrec z;
	struct keylist kl;
	if (!op->zone || dns_name_check(op->zone, DNS_NAME_MAXLEN) <= 0)
		return seterr(c->err, DDI_EINVAL, c->op, "op %ld: no valid zone name", c->op);
	z.klen = zkey_make(z.key, op->zone);
	int rc = zone_read(c->s, c->txn, z.key, z.klen, &z, c->err);
	if (rc == DDI_ENOENT) {
		if (op->flags & STORE_OPF_MISSING_OK)
			return DDI_EOK;
		return seterr(c->err, DDI_ENOZONE, c->op, "no zone %s", nstr(nb, op->zone));
	}
	if (rc)
		return rc;
	if ((rc = zone_keys(c, &z, &kl)) != 0)
		return rc;
	for (size_t i = 0; i < kl.n && rc == 0; i++)
		rc = rrset_delete_key(c, kl.arena + kl.off[i], kl.off[i + 1] - kl.off[i]);
	size_t n = kl.n;
	keylist_free(&kl);
	if (rc)
		return rc;
	MDB_val k = { z.klen, z.key };
	if ((rc = mdb_del(c->txn, c->s->zones, &k, NULL)) != 0)
		return c_mdb(c, rc, "zones");
	struct tzone *tz = touch_zone(c, &z);
	if (!tz)
		return c_nomem(c);
	tz->removed = true;
	tz->added = false;
	return journal_op(c, STORE_J_ZONE_REMOVE, z.apex, z.apex, 0, n, 0);
}
