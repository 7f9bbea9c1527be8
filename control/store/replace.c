/* store/replace -- STORE_OP_ZONE_REPLACE: a zone's whole new content in one op (imports) */
#include <stdlib.h>
#include <string.h>

#include <jansson.h>
#include <lmdb.h>

#include "control/store/internal.h"
#include "dns/errcode.h"
#include "dns/rdata.h"

/* ZONE_REPLACE: one entry per record, sorted by RRset key. */
struct rent {
	uint32_t idx;     /* position in op->rrs: file order, the tie-break */
	uint32_t koff;    /* RRset key in the arena */
	uint16_t klen;
};

static int rent_cmp(const void *a, const void *b, void *arena)
{
	const struct rent *x = a, *y = b;
	const uint8_t *ar = arena;
	size_t l = x->klen < y->klen ? x->klen : y->klen;
	int r = memcmp(ar + x->koff, ar + y->koff, l);
	if (r)
		return r;
	if (x->klen != y->klen)
		return x->klen < y->klen ? -1 : 1;
	return x->idx < y->idx ? -1 : x->idx > y->idx;
}

int op_zone_replace(struct cctx *c, const struct store_op *op)
{
	char nb[DNS_NAME_STRLEN], zb[DNS_NAME_STRLEN];
	struct zrec z;
	struct subzones sz = { 0 };
	struct keylist old = { 0 };
	struct rent *ents = NULL;
	uint8_t *arena = NULL;
	bool existed;
	uint32_t old_serial = 0;
	bool had_soa = false;
	uint64_t nnew = 0, nchanged = 0;
	uint8_t soabuf[2 + 2 * DNS_NAME_MAXLEN + 20];   /* one [rdlen rdata] SOA item */
	size_t soalen = 0;
	uint32_t soattl = 0;
	bool soa_stale = false;   /* the new SOA's serial is not newer than the stored one */
	int rc;

	if (!op->zone || dns_name_check(op->zone, DNS_NAME_MAXLEN) <= 0)
		return seterr(c->err, DDI_EINVAL, c->op, "op %ld: no valid zone name", c->op);
	if (op->nrrs > UINT32_MAX / 2 || (op->nrrs && !op->rrs))
		return seterr(c->err, DDI_EINVAL, c->op, "op %ld: bad record list", c->op);
	z.klen = zkey_make(z.key, op->zone);
	rc = zone_read(c->s, c->txn, z.key, z.klen, &z, c->err);
	if (rc && rc != DDI_ENOENT)
		return rc;
	existed = rc == DDI_EOK;
	if (existed) {
		struct rrval soa;
		rc = rrset_read(c, z.key, z.klen - 1, DNS_T_SOA, &soa);
		if (rc && rc != DDI_ENOENT)
			return rc;
		if (rc == DDI_EOK) {
			had_soa = true;
			old_serial = dns_soa_serial(soa.rdatas + 2, dns_get16(soa.rdatas));
		}
	}
	if ((rc = subzones_load(c->s, c->txn, z.key, z.klen - 1, &sz, c->err)) != 0)
		return rc;

	/* 1. every record on its own: name, zone, type, TTL, rdata */
	size_t acap = 4096, aused = 0;
	ents = malloc((op->nrrs ? op->nrrs : 1) * sizeof(*ents));
	arena = malloc(acap);
	if (!ents || !arena) {
		rc = c_nomem(c);
		goto out;
	}
	for (size_t i = 0; i < op->nrrs; i++) {
		const struct store_rr *rr = &op->rrs[i];
		if (!rr->owner || dns_name_check(rr->owner, DNS_NAME_MAXLEN) <= 0) {
			rc = seterr(c->err, DDI_EINVAL, c->op, "record %zu: no valid owner name", i + 1);
			goto out;
		}
		if (!dns_name_is_sub(rr->owner, op->zone)) {
			rc = seterr(c->err, DDI_EOUTZONE, c->op, "%s is outside the zone %s",
			            nstr(nb, rr->owner), nstr(zb, op->zone));
			goto out;
		}
		if (!type_storable(rr->type)) {
			rc = seterr(c->err, DDI_ERDATA, c->op, "%s: type %s cannot be stored",
			            nstr(nb, rr->owner), dns_type_name(rr->type));
			goto out;
		}
		if (rr->ttl > STORE_TTL_MAX) {
			rc = seterr(c->err, DDI_ETTL, c->op, "%s %s: TTL %u is above 2^31-1",
			            nstr(nb, rr->owner), dns_type_name(rr->type), rr->ttl);
			goto out;
		}
		if ((rr->rdlen && !rr->rdata) ||
		    dns_rdata_check(rr->type, rr->rdata, rr->rdlen) != DDI_EOK) {
			rc = seterr(c->err, DDI_ERDATA, c->op, "%s %s: rdata is not valid for the type",
			            nstr(nb, rr->owner), dns_type_name(rr->type));
			goto out;
		}
		if (aused + RKEY_MAX > acap) {
			uint8_t *na = realloc(arena, acap * 2);
			if (!na) {
				rc = c_nomem(c);
				goto out;
			}
			arena = na;
			acap *= 2;
		}
		int kl = dns_name_to_key(arena + aused, rr->owner);
		long sub = subzones_match(&sz, arena + aused, (size_t)kl);
		if (sub >= 0) {
			uint8_t sn[DNS_NAME_MAXLEN];
			if (dns_key_to_name(sn, sz.v[sub].key, sz.v[sub].len) < 0)
				sn[0] = 0;
			rc = seterr(c->err, DDI_EOUTZONE, c->op, "%s belongs to the zone %s",
			            nstr(nb, rr->owner), nstr(zb, sn));
			goto out;
		}
		if (rr->type == DNS_T_SOA && (size_t)kl + 1 != z.klen) {
			rc = seterr(c->err, DDI_ESOA, c->op, "%s: an SOA belongs only at the apex %s",
			            nstr(nb, rr->owner), nstr(zb, op->zone));
			goto out;
		}
		ents[i].idx = (uint32_t)i;
		ents[i].koff = (uint32_t)aused;
		arena[aused + (size_t)kl] = 0;   /* K(owner) is in place: add 0x00 type */
		dns_put16(arena + aused + (size_t)kl + 1, rr->type);
		ents[i].klen = (uint16_t)(kl + 3);
		aused += ents[i].klen;
	}

	/* 2. group into RRsets and names; check names as wholes */
	qsort_r(ents, op->nrrs, sizeof(*ents), rent_cmp, arena);
	bool soa_seen = false;
	for (size_t i = 0; i < op->nrrs;) {
		/* one owner: [i, j) */
		size_t oklen = ents[i].klen - 3u, j = i, nrrsets = 0;
		const uint8_t *ok = arena + ents[i].koff;
		const struct store_rr *first = &op->rrs[ents[i].idx];
		bool cname = false, other = false;
		while (j < op->nrrs && ents[j].klen == oklen + 3 &&
		       memcmp(arena + ents[j].koff, ok, oklen + 1) == 0) {
			size_t k = j;
			uint16_t type = op->rrs[ents[j].idx].type;
			while (k < op->nrrs && ents[k].klen == ents[j].klen &&
			       memcmp(arena + ents[k].koff, arena + ents[j].koff, ents[j].klen) == 0)
				k++;
			/* one RRset: [j, k) */
			nrrsets++;
			if (k - j > c->s->max_rrs) {
				rc = seterr(c->err, DDI_ELIMIT, c->op, "%s %s: %zu records, the limit is %u",
				            nstr(nb, first->owner), dns_type_name(type), k - j,
				            c->s->max_rrs);
				goto out;
			}
			if (type == DNS_T_CNAME) {
				cname = true;
				if (k - j > 1)
					other = true;
			} else if (type != DNS_T_RRSIG && type != DNS_T_NSEC) {
				other = true;
			}
			if (type == DNS_T_SOA) {
				/* duplicates of one SOA are one record (RFC 2181 5) */
				for (size_t m = j + 1; m < k; m++) {
					const struct store_rr *a = &op->rrs[ents[j].idx];
					const struct store_rr *b = &op->rrs[ents[m].idx];
					if (a->rdlen != b->rdlen || memcmp(a->rdata, b->rdata, a->rdlen) != 0) {
						rc = seterr(c->err, DDI_ESOA, c->op,
						            "%s: more than one SOA", nstr(nb, first->owner));
						goto out;
					}
				}
				soa_seen = true;
			}
			j = k;
		}
		if (cname && other) {
			rc = seterr(c->err, DDI_ECNAME, c->op,
			            "%s: a CNAME cannot be beside other data or another CNAME",
			            nstr(nb, first->owner));
			goto out;
		}
		if (nrrsets > c->s->max_rrsets) {
			rc = seterr(c->err, DDI_ELIMIT, c->op, "%s: %zu RRsets, the limit is %u",
			            nstr(nb, first->owner), nrrsets, c->s->max_rrsets);
			goto out;
		}
		i = j;
	}
	if (!soa_seen) {
		rc = seterr(c->err, DDI_ESOA, c->op, "zone %s has no SOA at its apex",
		            nstr(zb, op->zone));
		goto out;
	}

	/* 3. write: create the zone, delete RRsets that are gone, store the rest */
	if (!existed) {
		if ((rc = zone_add_check(c, op->zone, z.key, z.klen - 1)) != 0 ||
		    (rc = zone_create(c, op->zone, op->zone_flags, &z)) != 0)
			goto out;
	}
	if ((rc = zone_keys(c, &z, &old)) != 0)
		goto out;
	size_t oi = 0;
	for (size_t i = 0; i < op->nrrs;) {
		const uint8_t *rk = arena + ents[i].koff;
		size_t rkl = ents[i].klen, j = i;
		/* old RRsets sorting before this one are gone */
		for (; oi < old.n; oi++) {
			const uint8_t *ok = old.arena + old.off[oi];
			size_t okl = old.off[oi + 1] - old.off[oi], l = okl < rkl ? okl : rkl;
			int r = memcmp(ok, rk, l);
			if (r > 0 || (r == 0 && okl >= rkl))
				break;
			if ((rc = rrset_delete_key(c, ok, okl)) != 0)
				goto out;
			nchanged++;
		}
		if (oi < old.n && old.off[oi + 1] - old.off[oi] == rkl &&
		    memcmp(old.arena + old.off[oi], rk, rkl) == 0)
			oi++;   /* replaced below */
		size_t len = 0;
		uint32_t count = 0;
		const struct store_rr *first = &op->rrs[ents[i].idx];
		for (; j < op->nrrs && ents[j].klen == rkl && memcmp(arena + ents[j].koff, rk, rkl) == 0;
		     j++) {
			const struct store_rr *rr = &op->rrs[ents[j].idx];
			uint8_t item[2];
			dns_put16(item, rr->rdlen);
			/* [rdlen rdata] items; duplicates dropped (RFC 2181 5) */
			bool dup = false;
			for (size_t off = 0; off < len;) {
				size_t l = 2 + (size_t)dns_get16(c->buf + off);
				if (l == 2u + rr->rdlen && memcmp(c->buf + off + 2, rr->rdata, rr->rdlen) == 0) {
					dup = true;
					break;
				}
				off += l;
			}
			if (dup)
				continue;
			if ((rc = buf_need(c, len + 2 + rr->rdlen)) != 0)
				goto out;
			memcpy(c->buf + len, item, 2);
			memcpy(c->buf + len + 2, rr->rdata, rr->rdlen);
			len += 2 + (size_t)rr->rdlen;
			count++;
		}
		if (first->type == DNS_T_SOA && len <= sizeof(soabuf)) {
			/*
			 * A serial that is not newer than the stored one is taken as
			 * the stored one, so that importing the same content again
			 * is no change; if anything did change, the serial advances
			 * below, once all changes are known.
			 */
			uint16_t sl = dns_get16(c->buf);
			if (had_soa && !serial_gt(dns_soa_serial(c->buf + 2, sl), old_serial)) {
				dns_soa_set_serial(c->buf + 2, sl, old_serial);
				soa_stale = true;
			}
			soalen = len;
			soattl = first->ttl;
			memcpy(soabuf, c->buf, len);
		}
		uint16_t oldcount;
		bool changed;
		/* the TTL of an RRset is its first record's in file order (RFC 2181 5.2) */
		if ((rc = rrset_write(c, rk, rkl - 3, first->type, first->ttl, (uint16_t)count, c->buf,
		                      len, &oldcount, &changed)) != 0)
			goto out;
		nchanged += changed;
		nnew++;
		i = j;
	}
	for (; oi < old.n; oi++, nchanged++)
		if ((rc = rrset_delete_key(c, old.arena + old.off[oi], old.off[oi + 1] - old.off[oi])) != 0)
			goto out;
	if (nchanged && soa_stale) {
		uint8_t *soa = soabuf + 2;
		uint16_t sl = dns_get16(soabuf);
		{
			/* content changed under a serial secondaries already have */
			uint16_t oldcount;
			dns_soa_set_serial(soa, sl, old_serial + 1);
			if ((rc = rrset_write(c, z.key, z.klen - 1, DNS_T_SOA, soattl, 1, soabuf, soalen,
			                      &oldcount, NULL)) != 0 ||
			    (rc = journal_op(c, STORE_J_SERIAL, z.apex, z.apex, DNS_T_SOA, old_serial,
			                     (uint32_t)(old_serial + 1))) != 0)
				goto out;
		}
	}

	struct tzone *tz = touch_zone(c, &z);
	if (!tz) {
		rc = c_nomem(c);
		goto out;
	}
	tz->soa_explicit = true;
	tz->removed = false;
	if (nchanged) {
		tz->changed = true;
		rc = journal_op(c, STORE_J_ZONE_REPLACE, z.apex, z.apex, 0, old.n, nnew);
	}
out:
	keylist_free(&old);
	subzones_free(&sz);
	free(ents);
	free(arena);
	return rc;
}
