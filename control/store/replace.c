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

/*
 * The state of one ZONE_REPLACE across its steps: the zone as stored, the
 * new records as entries sorted by RRset key, and what the write changed.
 */
struct zrepl {
	struct cctx *c;
	const struct store_op *op;
	struct zrec z;
	bool existed;
	bool had_soa;
	uint32_t old_serial;
	struct subzones sz;      /* zones below the apex: their names are not ours */
	struct keylist old;      /* the RRset keys stored before the write */
	struct rent *ents;
	uint8_t *arena;          /* the entries' RRset keys */
	size_t acap, aused;
	uint64_t nnew, nchanged;
	uint8_t soabuf[2 + 2 * DNS_NAME_MAXLEN + 20];   /* one [rdlen rdata] SOA item */
	size_t soalen;
	uint32_t soattl;
	bool soa_stale;          /* the new SOA's serial is not newer than the stored one */
	bool secondary;          /* STORE_ZONE_SECONDARY: the serial is the primary's, empty allowed */
	char nb[DNS_NAME_STRLEN];
};

/* 0. The zone as it is: whether it exists, its serial, the zones below it. */
static int replace_begin(struct zrepl *r)
{
	struct cctx *c = r->c;
	const struct store_op *op = r->op;
	if (!op->zone || dns_name_check(op->zone, DNS_NAME_MAXLEN) <= 0)
		return seterr(c->err, DDI_EINVAL, c->op, "op %ld: no valid zone name", c->op);
	if (op->nrrs > UINT32_MAX / 2 || (op->nrrs && !op->rrs))
		return seterr(c->err, DDI_EINVAL, c->op, "op %ld: bad record list", c->op);
	r->z.klen = zkey_make(r->z.key, op->zone);
	int rc = zone_read(c->s, c->txn, r->z.key, r->z.klen, &r->z, c->err);
	if (rc && rc != DDI_ENOENT)
		return rc;
	r->existed = rc == DDI_EOK;
	if (r->existed) {
		struct rrval soa;
		rc = rrset_read(c, r->z.key, r->z.klen - 1, DNS_T_SOA, &soa);
		if (rc && rc != DDI_ENOENT)
			return rc;
		if (rc == DDI_EOK) {
			r->had_soa = true;
			r->old_serial = dns_soa_serial(soa.rdatas + 2, dns_get16(soa.rdatas));
		}
	}
	uint32_t zflags = r->existed ? r->z.flags : op->zone_flags;
	r->secondary = (zflags & STORE_ZONE_SECONDARY) != 0;
	if (r->secondary && !(op->flags & STORE_OPF_TRANSFER))
		return seterr(c->err, DDI_ESECONDARY, c->op,
		              "%s is a secondary zone: change it on its primary",
		              nstr(r->nb, op->zone));
	return subzones_load(c->s, c->txn, r->z.key, r->z.klen - 1, &r->sz, c->err);
}

/* 1a. One record on its own: name, zone, type, TTL, rdata. */
static int replace_check_rr(struct zrepl *r, size_t i)
{
	char nb[DNS_NAME_STRLEN], zb[DNS_NAME_STRLEN];
	struct cctx *c = r->c;
	const struct store_rr *rr = &r->op->rrs[i];
	if (!rr->owner || dns_name_check(rr->owner, DNS_NAME_MAXLEN) <= 0)
		return seterr(c->err, DDI_EINVAL, c->op, "record %zu: no valid owner name", i + 1);
	if (!dns_name_is_sub(rr->owner, r->op->zone))
		return seterr(c->err, DDI_EOUTZONE, c->op, "%s is outside the zone %s",
		              nstr(nb, rr->owner), nstr(zb, r->op->zone));
	if (!type_storable(rr->type))
		return seterr(c->err, DDI_ERDATA, c->op, "%s: type %s cannot be stored",
		              nstr(nb, rr->owner), dns_type_name(rr->type));
	if (rr->ttl > STORE_TTL_MAX)
		return seterr(c->err, DDI_ETTL, c->op, "%s %s: TTL %u is above 2^31-1",
		              nstr(nb, rr->owner), dns_type_name(rr->type), rr->ttl);
	if ((rr->rdlen && !rr->rdata) || dns_rdata_check(rr->type, rr->rdata, rr->rdlen) != DDI_EOK)
		return seterr(c->err, DDI_ERDATA, c->op, "%s %s: rdata is not valid for the type",
		              nstr(nb, rr->owner), dns_type_name(rr->type));
	return DDI_EOK;
}

/* 1. Every record on its own, and its entry: the RRset key K(owner) 0x00 type. */
static int replace_entries(struct zrepl *r)
{
	char nb[DNS_NAME_STRLEN], zb[DNS_NAME_STRLEN];
	struct cctx *c = r->c;
	const struct store_op *op = r->op;
	r->acap = 4096;
	r->ents = malloc((op->nrrs ? op->nrrs : 1) * sizeof(*r->ents));
	r->arena = malloc(r->acap);
	if (!r->ents || !r->arena)
		return c_nomem(c);
	for (size_t i = 0; i < op->nrrs; i++) {
		const struct store_rr *rr = &op->rrs[i];
		int rc = replace_check_rr(r, i);
		if (rc)
			return rc;
		if (r->aused + RKEY_MAX > r->acap) {
			uint8_t *na = realloc(r->arena, r->acap * 2);
			if (!na)
				return c_nomem(c);
			r->arena = na;
			r->acap *= 2;
		}
		uint8_t *k = r->arena + r->aused;
		int kl = dns_name_to_key(k, rr->owner);
		long sub = subzones_match(&r->sz, k, (size_t)kl);
		if (sub >= 0) {
			uint8_t sn[DNS_NAME_MAXLEN];
			if (dns_key_to_name(sn, r->sz.v[sub].key, r->sz.v[sub].len) < 0)
				sn[0] = 0;
			return seterr(c->err, DDI_EOUTZONE, c->op, "%s belongs to the zone %s",
			              nstr(nb, rr->owner), nstr(zb, sn));
		}
		if (rr->type == DNS_T_SOA && (size_t)kl + 1 != r->z.klen)
			return seterr(c->err, DDI_ESOA, c->op, "%s: an SOA belongs only at the apex %s",
			              nstr(nb, rr->owner), nstr(zb, op->zone));
		r->ents[i].idx = (uint32_t)i;
		r->ents[i].koff = (uint32_t)r->aused;
		k[kl] = 0;   /* K(owner) is in place: add 0x00 type */
		dns_put16(k + kl + 1, rr->type);
		r->ents[i].klen = (uint16_t)(kl + 3);
		r->aused += r->ents[i].klen;
	}
	qsort_r(r->ents, op->nrrs, sizeof(*r->ents), rent_cmp, r->arena);
	return DDI_EOK;
}

/* True when entries a and b hold the same key (the first `len` bytes when len is given). */
static bool ents_same(const struct zrepl *r, size_t a, size_t b, size_t len)
{
	const struct rent *x = &r->ents[a], *y = &r->ents[b];
	if (!len && x->klen != y->klen)
		return false;
	return memcmp(r->arena + x->koff, r->arena + y->koff, len ? len : x->klen) == 0;
}

/* 2a. One RRset, entries [j, k): its size, CNAME and SOA rules. */
static int replace_check_rrset(struct zrepl *r, size_t j, size_t k, bool *cname, bool *other,
                               bool *soa_seen)
{
	char nb[DNS_NAME_STRLEN];
	struct cctx *c = r->c;
	const struct store_rr *first = &r->op->rrs[r->ents[j].idx];
	uint16_t type = first->type;
	if (k - j > c->s->max_rrs)
		return seterr(c->err, DDI_ELIMIT, c->op, "%s %s: %zu records, the limit is %u",
		              nstr(nb, first->owner), dns_type_name(type), k - j, c->s->max_rrs);
	if (type == DNS_T_CNAME) {
		*cname = true;
		if (k - j > 1)
			*other = true;
	} else if (type != DNS_T_RRSIG && type != DNS_T_NSEC) {
		*other = true;
	}
	if (type != DNS_T_SOA)
		return DDI_EOK;
	/* duplicates of one SOA are one record (RFC 2181 5) */
	for (size_t m = j + 1; m < k; m++) {
		const struct store_rr *b = &r->op->rrs[r->ents[m].idx];
		if (first->rdlen != b->rdlen || memcmp(first->rdata, b->rdata, first->rdlen) != 0)
			return seterr(c->err, DDI_ESOA, c->op, "%s: more than one SOA",
			              nstr(nb, first->owner));
	}
	*soa_seen = true;
	return DDI_EOK;
}

/* 2. Group the sorted entries into RRsets and names; check names as wholes. */
static int replace_check_names(struct zrepl *r)
{
	char nb[DNS_NAME_STRLEN], zb[DNS_NAME_STRLEN];
	struct cctx *c = r->c;
	size_t n = r->op->nrrs;
	bool soa_seen = false;
	for (size_t i = 0; i < n;) {
		/* one owner: [i, j) */
		size_t oklen = r->ents[i].klen - 3u, j = i, nrrsets = 0;
		const struct store_rr *first = &r->op->rrs[r->ents[i].idx];
		bool cname = false, other = false;
		while (j < n && r->ents[j].klen == oklen + 3 && ents_same(r, i, j, oklen + 1)) {
			size_t k = j;
			while (k < n && ents_same(r, j, k, 0))
				k++;
			/* one RRset: [j, k) */
			nrrsets++;
			int rc = replace_check_rrset(r, j, k, &cname, &other, &soa_seen);
			if (rc)
				return rc;
			j = k;
		}
		if (cname && other)
			return seterr(c->err, DDI_ECNAME, c->op,
			              "%s: a CNAME cannot be beside other data or another CNAME",
			              nstr(nb, first->owner));
		if (nrrsets > c->s->max_rrsets)
			return seterr(c->err, DDI_ELIMIT, c->op, "%s: %zu RRsets, the limit is %u",
			              nstr(nb, first->owner), nrrsets, c->s->max_rrsets);
		i = j;
	}
	if (!soa_seen && !(r->secondary && n == 0))   /* an empty secondary: see store.h */
		return seterr(c->err, DDI_ESOA, c->op, "zone %s has no SOA at its apex",
		              nstr(zb, r->op->zone));
	return DDI_EOK;
}

/* 3a. The rdatas of the RRset [i, j) into c->buf as [rdlen rdata] items, duplicates dropped. */
static int replace_rdatas(struct zrepl *r, size_t i, size_t j, size_t *lenp, uint32_t *countp)
{
	struct cctx *c = r->c;
	size_t len = 0;
	uint32_t count = 0;
	for (; i < j; i++) {
		const struct store_rr *rr = &r->op->rrs[r->ents[i].idx];
		/* [rdlen rdata] items; duplicates dropped (RFC 2181 5) */
		bool dup = false;
		for (size_t off = 0; off < len && !dup;) {
			size_t l = 2 + (size_t)dns_get16(c->buf + off);
			dup = l == 2u + rr->rdlen && memcmp(c->buf + off + 2, rr->rdata, rr->rdlen) == 0;
			off += l;
		}
		if (dup)
			continue;
		int rc = buf_need(c, len + 2 + rr->rdlen);
		if (rc)
			return rc;
		dns_put16(c->buf + len, rr->rdlen);
		memcpy(c->buf + len + 2, rr->rdata, rr->rdlen);
		len += 2 + (size_t)rr->rdlen;
		count++;
	}
	*lenp = len;
	*countp = count;
	return DDI_EOK;
}

/* 3b. The new SOA in c->buf: keep the stored serial when it is not newer, remember it. */
static void replace_soa(struct zrepl *r, size_t len, uint32_t ttl)
{
	struct cctx *c = r->c;
	if (len > sizeof(r->soabuf))
		return;
	/*
	 * A serial that is not newer than the stored one is taken as the
	 * stored one, so that importing the same content again is no change;
	 * if anything did change, the serial advances in step 4, once all
	 * changes are known.
	 */
	uint16_t sl = dns_get16(c->buf);
	if (r->had_soa && !r->secondary && !serial_gt(dns_soa_serial(c->buf + 2, sl), r->old_serial)) {
		dns_soa_set_serial(c->buf + 2, sl, r->old_serial);
		r->soa_stale = true;
	}
	r->soalen = len;
	r->soattl = ttl;
	memcpy(r->soabuf, c->buf, len);
}

/* 3c. Delete the stored RRsets that sort before key rk (they are gone); skip rk itself. */
static int replace_drop_before(struct zrepl *r, size_t *oi, const uint8_t *rk, size_t rkl)
{
	const struct keylist *old = &r->old;
	for (; *oi < old->n; (*oi)++) {
		const uint8_t *ok = old->arena + old->off[*oi];
		size_t okl = old->off[*oi + 1] - old->off[*oi], l = okl < rkl ? okl : rkl;
		int cmp = memcmp(ok, rk, l);
		if (cmp > 0 || (cmp == 0 && okl >= rkl))
			break;
		int rc = rrset_delete_key(r->c, ok, okl);
		if (rc)
			return rc;
		r->nchanged++;
	}
	if (*oi < old->n && old->off[*oi + 1] - old->off[*oi] == rkl &&
	    memcmp(old->arena + old->off[*oi], rk, rkl) == 0)
		(*oi)++;   /* replaced by the caller */
	return DDI_EOK;
}

/* 3. Write: create the zone, delete RRsets that are gone, store the rest. */
static int replace_write(struct zrepl *r)
{
	struct cctx *c = r->c;
	const struct store_op *op = r->op;
	int rc;
	if (!r->existed) {
		if ((rc = zone_add_check(c, op->zone, r->z.key, r->z.klen - 1)) != 0 ||
		    (rc = zone_create(c, op->zone, op->zone_flags, &r->z)) != 0)
			return rc;
	}
	if ((rc = zone_keys(c, &r->z, &r->old)) != 0)
		return rc;
	size_t oi = 0;
	for (size_t i = 0; i < op->nrrs;) {
		const uint8_t *rk = r->arena + r->ents[i].koff;
		size_t rkl = r->ents[i].klen, j = i, len;
		uint32_t count;
		const struct store_rr *first = &op->rrs[r->ents[i].idx];
		while (j < op->nrrs && ents_same(r, i, j, 0))
			j++;
		if ((rc = replace_drop_before(r, &oi, rk, rkl)) != 0 ||
		    (rc = replace_rdatas(r, i, j, &len, &count)) != 0)
			return rc;
		if (first->type == DNS_T_SOA)
			replace_soa(r, len, first->ttl);
		uint16_t oldcount;
		bool changed;
		/* the TTL of an RRset is its first record's in file order (RFC 2181 5.2) */
		if ((rc = rrset_write(c, rk, rkl - 3, first->type, first->ttl, (uint16_t)count, c->buf,
		                      len, &oldcount, &changed)) != 0)
			return rc;
		r->nchanged += changed;
		r->nnew++;
		i = j;
	}
	for (; oi < r->old.n; oi++, r->nchanged++)
		if ((rc = rrset_delete_key(c, r->old.arena + r->old.off[oi],
		                           r->old.off[oi + 1] - r->old.off[oi])) != 0)
			return rc;
	return DDI_EOK;
}

/* 4. Content changed under a serial secondaries already have: stored serial + 1. */
static int replace_serial(struct zrepl *r)
{
	struct cctx *c = r->c;
	uint16_t oldcount;
	if (!r->nchanged || !r->soa_stale)
		return DDI_EOK;
	dns_soa_set_serial(r->soabuf + 2, dns_get16(r->soabuf), r->old_serial + 1);
	int rc = rrset_write(c, r->z.key, r->z.klen - 1, DNS_T_SOA, r->soattl, 1, r->soabuf,
	                     r->soalen, &oldcount, NULL);
	if (rc)
		return rc;
	return journal_op(c, STORE_J_SERIAL, r->z.apex, r->z.apex, DNS_T_SOA, r->old_serial,
	                  (uint32_t)(r->old_serial + 1));
}

int op_zone_replace(struct cctx *c, const struct store_op *op)
{
	struct zrepl *r = calloc(1, sizeof(*r));
	if (!r)
		return c_nomem(c);
	r->c = c;
	r->op = op;
	int rc = replace_begin(r);
	if (rc == 0)
		rc = replace_entries(r);
	if (rc == 0)
		rc = replace_check_names(r);
	if (rc == 0)
		rc = replace_write(r);
	if (rc == 0)
		rc = replace_serial(r);
	if (rc == 0) {
		struct tzone *tz = touch_zone(c, &r->z);
		if (!tz) {
			rc = c_nomem(c);
		} else {
			tz->soa_explicit = true;
			tz->removed = false;
			if (r->nchanged) {
				tz->changed = true;
				rc = journal_op(c, STORE_J_ZONE_REPLACE, r->z.apex, r->z.apex, 0, r->old.n,
				                r->nnew);
			}
		}
	}
	keylist_free(&r->old);
	subzones_free(&r->sz);
	free(r->ents);
	free(r->arena);
	free(r);
	return rc;
}
