/* store/rrset -- the RRset-level ops of a commit (replace, delete, add and delete RRs) and the addresses database */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <jansson.h>
#include <lmdb.h>

#include "control/store/internal.h"
#include "dns/errcode.h"
#include "dns/rdata.h"

/* Address key for an A/AAAA rdata: family(1) address; 0 for other types. */
size_t addr_key(uint8_t out[17], uint16_t type, const uint8_t *rd, uint16_t rdlen)
{
	if (type == DNS_T_A && rdlen == 4)
		out[0] = 4;
	else if (type == DNS_T_AAAA && rdlen == 16)
		out[0] = 6;
	else
		return 0;
	memcpy(out + 1, rd, rdlen);
	return (size_t)rdlen + 1;
}

/* The reverse name of an address key (family, address): in-addr.arpa or ip6.arpa nibbles. */
void addr_reverse(uint8_t out[DNS_NAME_MAXLEN], const uint8_t *ak)
{
	static const char hex[] = "0123456789abcdef";
	size_t p = 0;
	if (ak[0] == 4) {
		for (int i = 4; i >= 1; i--) {
			char b[4];
			int l = snprintf(b, sizeof(b), "%u", ak[i]);
			out[p++] = (uint8_t)l;
			memcpy(out + p, b, (size_t)l);
			p += (size_t)l;
		}
		memcpy(out + p, "\7in-addr\4arpa", 14);
		return;
	}
	for (int i = 31; i >= 0; i--) {
		out[p++] = 1;
		out[p++] = (uint8_t)hex[i % 2 ? ak[1 + i / 2] & 0xf : ak[1 + i / 2] >> 4];
	}
	memcpy(out + p, "\3ip6\4arpa", 10);
}

/*
 * An address gained or lost an owner: the zone that holds its reverse name
 * synthesizes a different PTR answer, so its content changed for a
 * secondary too. Mark it changed (zone_finish advances its serial, the
 * NOTIFY thread sees the new serial); diff.c records the synthesized PTRs
 * that left and came (diff_addr_capture ran before the change). No zone
 * holds it: nothing to do.
 */
static int addr_touch_reverse(struct cctx *c, const uint8_t *ak)
{
	uint8_t rev[DNS_NAME_MAXLEN], rk[DNS_KEY_MAXLEN];
	struct zrec z;
	addr_reverse(rev, ak);
	int kl = dns_name_to_key(rk, rev);
	if (kl < 0)
		return DDI_EOK;
	int rc = zone_find(c->s, c->txn, rk, (size_t)kl, &z, c->err);
	if (rc == DDI_ENOENT)
		return DDI_EOK;
	if (rc)
		return rc;
	struct tzone *tz = touch_zone(c, &z);
	if (!tz)
		return c_nomem(c);
	tz->changed = true;
	return DDI_EOK;
}

/* Add or remove `owner_lc` as an owner of each address in rdatas (already validated). */
static int addrs_update(struct cctx *c, const uint8_t *owner_lc, uint16_t type,
                        const uint8_t *rdatas, size_t len, bool add)
{
	uint8_t ak[17];
	MDB_val v = { dns_name_len(owner_lc), (void *)owner_lc };
	for (size_t off = 0; off + 2 <= len;) {
		uint16_t rdlen = dns_get16(rdatas + off);
		size_t kl = addr_key(ak, type, rdatas + off + 2, rdlen);
		off += 2 + (size_t)rdlen;
		if (!kl)
			continue;
		MDB_val k = { kl, ak };
		int rc = diff_addr_capture(c, ak);
		if (rc)
			return rc;
		rc = add ? mdb_put(c->txn, c->s->addrs, &k, &v, MDB_NODUPDATA)
		             : mdb_del(c->txn, c->s->addrs, &k, &v);
		if (rc && rc != MDB_KEYEXIST && rc != MDB_NOTFOUND)
			return c_mdb(c, rc, "addresses");
		if (rc == 0 && (rc = addr_touch_reverse(c, ak)) != 0)
			return rc;
	}
	return DDI_EOK;
}

/*
 * Read the RRset (okey, type). DDI_EOK with *val set (pointing into the
 * map: valid until the next write), DDI_ENOENT, or an error.
 */
int rrset_read(struct cctx *c, const uint8_t *okey, size_t oklen, uint16_t type,
                      struct rrval *val)
{
	uint8_t rk[RKEY_MAX];
	char hb[128];
	MDB_val k = { rkey_make(rk, okey, oklen, type), rk }, v;
	int rc = mdb_get(c->txn, c->s->rrsets, &k, &v);
	if (rc == MDB_NOTFOUND)
		return DDI_ENOENT;
	if (rc)
		return c_mdb(c, rc, "rrsets");
	if (!rrval_parse(&v, type, val))
		return seterr(c->err, DDI_ECORRUPT, c->op, "rrsets value of key %s does not validate",
		              khex(hb, k.mv_data, k.mv_size));
	return DDI_EOK;
}

/*
 * Write (count > 0) or delete (count 0) the RRset, keeping the addresses
 * database in step. rdatas must not point into the map. *oldcount gets the
 * previous RR count (0 when there was none); *changed (may be NULL) tells
 * whether anything was written: writing what is already there is a no-op,
 * so that a repeated registration neither advances the serial nor fills
 * the journal.
 */
int rrset_write(struct cctx *c, const uint8_t *okey, size_t oklen, uint16_t type,
                       uint32_t ttl, uint16_t count, const uint8_t *rdatas, size_t len,
                       uint16_t *oldcount, bool *changed)
{
	uint8_t rk[RKEY_MAX], owner[DNS_NAME_MAXLEN];
	struct rrval old;
	bool isaddr = type == DNS_T_A || type == DNS_T_AAAA;
	int rc = rrset_read(c, okey, oklen, type, &old);
	*oldcount = 0;
	if (changed)
		*changed = false;
	if (rc && rc != DDI_ENOENT)
		return rc;
	if (rc == DDI_EOK)
		*oldcount = old.count;
	if (rc == DDI_ENOENT ? count == 0
	                     : (count && old.ttl == ttl && old.count == count && old.len == len &&
	                        memcmp(old.rdatas, rdatas, len) == 0))
		return DDI_EOK;
	if (changed)
		*changed = true;
	/* the old value still points into the map: remember it before any write */
	if ((rc = diff_capture(c, okey, oklen, type, *oldcount ? &old : NULL)) != 0)
		return rc;
	rc = *oldcount ? DDI_EOK : DDI_ENOENT;
	if (isaddr && dns_key_to_name(owner, okey, oklen) < 0)
		return seterr(c->err, DDI_EINVAL, c->op, "bad owner key");
	if (rc == DDI_EOK) {
		if (isaddr) {
			/* copy out of the map before writing anything */
			uint8_t *cp = malloc(old.len ? old.len : 1);
			if (!cp)
				return c_nomem(c);
			memcpy(cp, old.rdatas, old.len);
			rc = addrs_update(c, owner, type, cp, old.len, false);
			free(cp);
			if (rc)
				return rc;
		}
	}
	MDB_val k = { rkey_make(rk, okey, oklen, type), rk };
	if (count == 0) {
		if (*oldcount) {
			rc = mdb_del(c->txn, c->s->rrsets, &k, NULL);
			if (rc)
				return c_mdb(c, rc, "rrsets");
		}
		return DDI_EOK;
	}
	MDB_val v = { RRVAL_HDR + len, NULL };
	rc = mdb_put(c->txn, c->s->rrsets, &k, &v, MDB_RESERVE);
	if (rc)
		return c_mdb(c, rc, "rrsets");
	uint8_t *p = v.mv_data;
	dns_put32(p, ttl);
	dns_put16(p + 4, count);
	memcpy(p + RRVAL_HDR, rdatas, len);
	if (isaddr)
		return addrs_update(c, owner, type, rdatas, len, true);
	return DDI_EOK;
}

/* True when the rdata item (rdlen rdata) occurs among `count` items at p. */
static bool rdatas_has(const uint8_t *p, size_t len, const uint8_t *item, size_t itemlen)
{
	for (size_t off = 0; off + 2 <= len;) {
		size_t l = 2 + (size_t)dns_get16(p + off);
		if (l == itemlen && memcmp(p + off, item, l) == 0)
			return true;
		off += l;
	}
	return false;
}

/* Append the items of src to c->buf[*len..] skipping duplicates; counts them in *count. */
static int rdatas_merge(struct cctx *c, size_t *len, uint32_t *count, const uint8_t *src,
                        size_t srclen, const uint8_t *skip, size_t skiplen)
{
	for (size_t off = 0; off + 2 <= srclen;) {
		size_t l = 2 + (size_t)dns_get16(src + off);
		if (!rdatas_has(c->buf, *len, src + off, l) &&
		    !(skip && rdatas_has(skip, skiplen, src + off, l))) {
			int rc = buf_need(c, *len + l);
			if (rc)
				return rc;
			memcpy(c->buf + *len, src + off, l);
			*len += l;
			(*count)++;
		}
		off += l;
	}
	return DDI_EOK;
}

/* Common checks of an rrset-level op; fills the owner key and its zone. */
static int op_target(struct cctx *c, const struct store_op *op, uint8_t okey[DNS_KEY_MAXLEN],
                     size_t *oklen, struct zrec *z)
{
	char nb[DNS_NAME_STRLEN], zb[DNS_NAME_STRLEN], fb[DNS_NAME_STRLEN];
	if (!op->owner || dns_name_check(op->owner, DNS_NAME_MAXLEN) <= 0)
		return seterr(c->err, DDI_EINVAL, c->op, "op %ld: no valid owner name", c->op);
	if (op->kind != STORE_OP_RRSET_DELETE || (op->type != 0 && op->type != DNS_T_ANY)) {
		if (!type_storable(op->type))
			return seterr(c->err, DDI_ERDATA, c->op, "%s: type %s cannot be stored",
			              nstr(nb, op->owner), dns_type_name(op->type));
	}
	*oklen = (size_t)dns_name_to_key(okey, op->owner);
	int rc = zone_find(c->s, c->txn, okey, *oklen, z, c->err);
	if (rc == DDI_ENOENT)
		return seterr(c->err, DDI_EOUTZONE, c->op, "%s is in no zone of this store",
		              nstr(nb, op->owner));
	if (rc) {
		c->err->op = c->op;
		return rc;
	}
	if (op->zone) {
		uint8_t zk[ZKEY_MAX];
		if (dns_name_check(op->zone, DNS_NAME_MAXLEN) <= 0)
			return seterr(c->err, DDI_EINVAL, c->op, "op %ld: no valid zone name", c->op);
		size_t zl = zkey_make(zk, op->zone);
		if (zl != z->klen || memcmp(zk, z->key, zl) != 0)
			return seterr(c->err, DDI_EOUTZONE, c->op, "%s is not in zone %s (it is in %s)",
			              nstr(nb, op->owner), nstr(zb, op->zone),
			              nstr(fb, z->apex));
	}
	if ((z->flags & STORE_ZONE_SECONDARY) && !(op->flags & STORE_OPF_TRANSFER))
		return seterr(c->err, DDI_ESECONDARY, c->op,
		              "%s is a secondary zone: change it on its primary", nstr(zb, z->apex));
	bool apex = *oklen + 1 == z->klen;
	if (op->type == DNS_T_SOA && !apex &&
	    (op->kind == STORE_OP_RRSET_REPLACE || op->kind == STORE_OP_RR_ADD))
		return seterr(c->err, DDI_ESOA, c->op, "%s: an SOA belongs only at the apex %s",
		              nstr(nb, op->owner), nstr(zb, z->apex));
	return DDI_EOK;
}

/* Validate the op's own rdatas and TTL. */
static int op_rdatas(struct cctx *c, const struct store_op *op)
{
	char nb[DNS_NAME_STRLEN];
	size_t bad;
	if (op->ttl > STORE_TTL_MAX && op->kind != STORE_OP_RR_DELETE)
		return seterr(c->err, DDI_ETTL, c->op, "%s %s: TTL %u is above 2^31-1",
		              nstr(nb, op->owner), dns_type_name(op->type), op->ttl);
	if (op->count && !op->rdatas)
		return seterr(c->err, DDI_EINVAL, c->op, "op %ld: count without rdatas", c->op);
	int rc = rdatas_check(op->type, op->count, op->rdatas, op->count ? op->rdatas_len : 0, &bad);
	if (rc == DDI_ERDATA)
		return seterr(c->err, rc, c->op, "%s %s: rdata %zu is not valid for the type",
		              nstr(nb, op->owner), dns_type_name(op->type), bad + 1);
	if (rc)
		return seterr(c->err, rc, c->op, "op %ld: rdatas do not hold %u items of [rdlen rdata]",
		              c->op, op->count);
	return DDI_EOK;
}

int op_rrset(struct cctx *c, const struct store_op *op)
{
	char nb[DNS_NAME_STRLEN];
	uint8_t okey[DNS_KEY_MAXLEN];
	size_t oklen = 0;
	struct zrec z;
	struct rrval old;
	uint16_t oldcount;
	int rc = op_target(c, op, okey, &oklen, &z);
	if (rc == 0 && op->kind != STORE_OP_RRSET_DELETE)
		rc = op_rdatas(c, op);
	if (rc)
		return rc;
	struct tzone *tz = touch_zone(c, &z);
	if (!tz)
		return c_nomem(c);
	if ((rc = touch_owner(c, okey, oklen)) != 0)
		return rc;

	if (op->kind == STORE_OP_RRSET_DELETE && (op->type == 0 || op->type == DNS_T_ANY)) {
		/*
		 * Every RRset of the owner, one at a time: find the first left,
		 * delete it, look again (a cursor does not outlive the write).
		 */
		uint8_t pk[DNS_KEY_MAXLEN + 1];
		size_t nt = 0;
		memcpy(pk, okey, oklen);
		pk[oklen] = 0;
		for (;;) {
			MDB_cursor *cur;
			MDB_val k = { oklen + 1, pk }, v;
			if ((rc = mdb_cursor_open(c->txn, c->s->rrsets, &cur)) != 0)
				return c_mdb(c, rc, "rrsets");
			rc = mdb_cursor_get(cur, &k, &v, MDB_SET_RANGE);
			bool found = rc == 0 && k.mv_size == oklen + 3 && has_prefix(&k, pk, oklen + 1);
			uint16_t type = found ? dns_get16((uint8_t *)k.mv_data + oklen + 1) : 0;
			mdb_cursor_close(cur);
			if (rc && rc != MDB_NOTFOUND)
				return c_mdb(c, rc, "rrsets");
			if (!found)
				break;
			if ((rc = rrset_write(c, okey, oklen, type, 0, 0, NULL, 0, &oldcount, NULL)) != 0 ||
			    (rc = life_forget(c, okey, oklen, type)) != 0)
				return rc;
			tz->changed = true;
			nt++;
			if ((rc = journal_op(c, STORE_J_RRSET_DELETE, z.apex, op->owner, type, oldcount,
			                     0)) != 0)
				return rc;
		}
		if (nt == 0 && !(op->flags & STORE_OPF_MISSING_OK))
			return seterr(c->err, DDI_ENOENT, c->op, "%s has no records", nstr(nb, op->owner));
		return DDI_EOK;
	}

	rc = rrset_read(c, okey, oklen, op->type, &old);
	if (rc && rc != DDI_ENOENT)
		return rc;
	bool exists = rc == DDI_EOK;
	rc = DDI_EOK;
	size_t len = 0;
	uint32_t count = 0, ttl = op->ttl;
	enum store_jop jop;

	switch (op->kind) {
	case STORE_OP_RRSET_REPLACE:
		jop = STORE_J_RRSET_REPLACE;
		rc = rdatas_merge(c, &len, &count, op->rdatas, op->count ? op->rdatas_len : 0, NULL, 0);
		break;
	case STORE_OP_RRSET_DELETE:
		jop = STORE_J_RRSET_DELETE;
		if (!exists && !(op->flags & STORE_OPF_MISSING_OK))
			return seterr(c->err, DDI_ENOENT, c->op, "%s has no %s records",
			              nstr(nb, op->owner), dns_type_name(op->type));
		break;
	case STORE_OP_RR_ADD:
		jop = STORE_J_RR_ADD;
		if (op->type != DNS_T_SOA && exists)
			rc = rdatas_merge(c, &len, &count, old.rdatas, old.len, NULL, 0);
		if (rc == 0)
			rc = rdatas_merge(c, &len, &count, op->rdatas, op->count ? op->rdatas_len : 0,
			                  NULL, 0);
		break;
	case STORE_OP_RR_DELETE:
		jop = STORE_J_RR_DELETE;
		if (!(op->flags & STORE_OPF_MISSING_OK)) {
			for (size_t off = 0; op->count && off + 2 <= op->rdatas_len;) {
				size_t l = 2 + (size_t)dns_get16(op->rdatas + off);
				if (!exists || !rdatas_has(old.rdatas, old.len, op->rdatas + off, l))
					return seterr(c->err, DDI_ENOENT, c->op,
					              "%s %s: no such record to delete",
					              nstr(nb, op->owner), dns_type_name(op->type));
				off += l;
			}
		}
		if (exists) {
			ttl = old.ttl;
			rc = rdatas_merge(c, &len, &count, old.rdatas, old.len, op->rdatas,
			                  op->count ? op->rdatas_len : 0);
		}
		break;
	default:
		return seterr(c->err, DDI_EINVAL, c->op, "op %ld: unknown kind %d", c->op, op->kind);
	}
	if (rc)
		return rc;
	if (count > c->s->max_rrs)
		return seterr(c->err, DDI_ELIMIT, c->op, "%s %s: %u records, the limit is %u",
		              nstr(nb, op->owner), dns_type_name(op->type), count, c->s->max_rrs);
	if (op->type == DNS_T_SOA && count > 1)
		return seterr(c->err, DDI_ESOA, c->op, "%s: more than one SOA", nstr(nb, op->owner));
	bool changed;
	if ((rc = rrset_write(c, okey, oklen, op->type, ttl, (uint16_t)count, c->buf, len,
	                      &oldcount, &changed)) != 0)
		return rc;
	/* gone, or an operator's edit of a dynamic RRset: no lease, no aging (store.h) */
	if ((count == 0 || (changed && !(op->flags & STORE_OPF_DYNAMIC))) &&
	    (rc = life_forget(c, okey, oklen, op->type)) != 0)
		return rc;
	if (!changed)
		return DDI_EOK;
	tz->changed = true;
	if (op->type == DNS_T_SOA && count == 1)
		tz->soa_explicit = true;
	return journal_op(c, jop, z.apex, op->owner, op->type, oldcount, count);
}
