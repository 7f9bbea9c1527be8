/* life/history -- what a name held before and after each change, and undoing one change */
#include <inttypes.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "control/life/life.h"
#include "dns/errcode.h"
#include "dns/name.h"
#include "dns/rdata.h"
#include "dns/wire.h"

/*
 * Both read the zone's differences (store.h, "Differences"): per commit,
 * the RRs it removed and added, condensed. A change of TTL appears as the
 * RRs removed with the old TTL and added with the new one.
 */

static int seterr(struct store_error *err, int code, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));

static int seterr(struct store_error *err, int code, const char *fmt, ...)
{
	if (err) {
		va_list ap;
		va_start(ap, fmt);
		vsnprintf(err->msg, sizeof(err->msg), fmt, ap);
		va_end(ap);
		err->code = code;
		err->op = -1;
	}
	return code;
}

static const char *nstr(char buf[DNS_NAME_STRLEN], const uint8_t *name)
{
	if (dns_name_to_str(buf, DNS_NAME_STRLEN, name) < 0)
		snprintf(buf, DNS_NAME_STRLEN, "?");
	return buf;
}

static json_t *rdata_json(uint16_t type, const uint8_t *rd, uint16_t rdlen)
{
	size_t cap = 4 * (size_t)rdlen + 64;
	char *buf = malloc(cap);
	if (!buf)
		return NULL;
	json_t *j = dns_rdata_to_str(buf, cap, type, rd, rdlen) >= 0 ? json_string(buf) : NULL;
	free(buf);
	return j;
}

/* ------------------------------------------------------------------------ */
/* History                                                                  */
/* ------------------------------------------------------------------------ */

struct hist {
	const uint8_t *name;
	json_t *arr;
	int rc;
};

/* The change object of `type` in entry `e`, created on first use. */
static json_t *change_of(json_t *e, uint16_t type)
{
	json_t *chs = json_object_get(e, "changes"), *c;
	size_t i;
	json_array_foreach(chs, i, c)
		if (strcmp(json_string_value(json_object_get(c, "type")), dns_type_name(type)) == 0)
			return c;
	c = json_pack("{s:s, s:n, s:n}", "type", dns_type_name(type), "old", "new");
	if (c && json_array_append_new(chs, c) != 0)
		return NULL;
	return c;
}

static int hist_diff(void *ctx, const struct store_diff *d)
{
	struct hist *h = ctx;
	struct store_rr rr;
	size_t off = 0;
	json_t *e = NULL;
	for (uint32_t i = 0; store_diff_rr_next(d, &off, &rr); i++) {
		if (rr.type == DNS_T_SOA || !dns_name_equal(rr.owner, h->name))
			continue;
		if (!e) {
			e = json_pack("{s:I, s:I, s:s, s:[]}", "seq", (json_int_t)d->seq, "time",
			              (json_int_t)d->time_ns, "actor", "?", "changes");
			if (!e || json_array_append_new(h->arr, e) != 0)
				return h->rc = DDI_ENOMEM;
		}
		json_t *c = change_of(e, rr.type);
		if (!c)
			return h->rc = DDI_ENOMEM;
		const char *side = i < d->nrem ? "old" : "new";
		json_t *v = json_object_get(c, side);
		if (json_is_null(v)) {
			v = json_pack("{s:I, s:[]}", "ttl", (json_int_t)rr.ttl, "rdata");
			if (!v || json_object_set_new(c, side, v) != 0)
				return h->rc = DDI_ENOMEM;
		}
		json_t *rd = rdata_json(rr.type, rr.rdata, rr.rdlen);
		if (!rd || json_array_append_new(json_object_get(v, "rdata"), rd) != 0)
			return h->rc = DDI_ENOMEM;
	}
	return 0;
}

static int hist_actor(void *ctx, const struct store_journal_entry *e)
{
	json_t *entry = ctx;
	if ((uint64_t)json_integer_value(json_object_get(entry, "seq")) == e->seq)
		json_object_set_new(entry, "actor", json_string(e->actor));
	return 1;
}

int life_history(struct store *s, const uint8_t *name, json_t **out, struct store_error *err)
{
	uint8_t apex[DNS_NAME_MAXLEN];
	struct hist h = { .name = name };
	*out = NULL;
	int rc = store_zone_of(s, NULL, name, apex, err);
	if (rc)
		return rc;
	if (!(h.arr = json_array()))
		return DDI_ENOMEM;
	rc = store_diff_walk(s, NULL, apex, hist_diff, &h, err);
	if (rc == 0)
		rc = h.rc;
	size_t i;
	json_t *e;
	json_array_foreach(h.arr, i, e) {
		if (rc)
			break;
		uint64_t seq = (uint64_t)json_integer_value(json_object_get(e, "seq"));
		rc = store_journal_read(s, seq, 1, hist_actor, e, err);
		rc = rc == 1 ? 0 : rc;
	}
	if (rc) {
		json_decref(h.arr);
		return rc;
	}
	*out = h.arr;
	return DDI_EOK;
}

/* ------------------------------------------------------------------------ */
/* Revert                                                                   */
/* ------------------------------------------------------------------------ */

struct rrec {                    /* one RR the entry removed or added */
	uint8_t owner[DNS_NAME_MAXLEN];
	uint16_t type;
	uint32_t ttl;
	uint16_t rdlen;
	uint8_t *rdata;
	bool added;
};

#define REV_MAX_ZONES 8

struct rev {
	struct store *s;
	uint64_t seq;
	size_t nzones;
	struct { uint8_t apex[DNS_NAME_MAXLEN]; bool data; } zones[REV_MAX_ZONES];
	bool zone_level;
	/* inside the transaction */
	struct rrec *rr;
	size_t nrr, caprr;
	bool found, brk;
	uint64_t later_seq;          /* a later difference touching one of our RRsets */
	struct rrec later;
	struct store_op *ops;
	size_t nops;
	uint8_t **bufs;
	struct store_error *err;
};

static bool rr_key_eq(const struct rrec *a, const uint8_t *owner, uint16_t type)
{
	return a->type == type && dns_name_equal(a->owner, owner);
}

static int rev_entry(void *ctx, const struct store_journal_entry *e)
{
	struct rev *r = ctx;
	if (e->seq != r->seq)
		return 1;
	for (size_t i = 0; i < e->nops; i++) {
		const struct store_journal_op *op = &e->ops[i];
		if (op->op == STORE_J_ZONE_ADD || op->op == STORE_J_ZONE_REMOVE ||
		    op->op == STORE_J_ZONE_REPLACE)
			r->zone_level = true;
		if (op->op < STORE_J_ZONE_ADD || op->op > STORE_J_SERIAL)
			continue;   /* keys, policies, ACLs: not records */
		bool data = op->op != STORE_J_SERIAL;
		size_t z = 0;
		while (z < r->nzones && !dns_name_equal(r->zones[z].apex, op->zone))
			z++;
		if (z == r->nzones) {
			if (r->nzones == REV_MAX_ZONES)
				return 2;
			memcpy(r->zones[z].apex, op->zone, dns_name_len(op->zone));
			r->zones[r->nzones++].data = false;
		}
		r->zones[z].data |= data;
	}
	return 3;
}

static int rev_diff(void *ctx, const struct store_diff *d)
{
	struct rev *r = ctx;
	struct store_rr rr;
	size_t off = 0;
	if (d->seq < r->seq)
		return 0;
	if (d->seq == r->seq) {
		r->found = true;
		r->brk = (d->flags & STORE_DIFF_BREAK) != 0;
		for (uint32_t i = 0; store_diff_rr_next(d, &off, &rr); i++) {
			if (rr.type == DNS_T_SOA)
				continue;
			if (r->nrr == r->caprr) {
				size_t nc = r->caprr ? r->caprr * 2 : 16;
				struct rrec *n = realloc(r->rr, nc * sizeof(*n));
				if (!n)
					return DDI_ENOMEM;
				r->rr = n;
				r->caprr = nc;
			}
			struct rrec *x = &r->rr[r->nrr];
			memset(x, 0, sizeof(*x));
			memcpy(x->owner, rr.owner, dns_name_len(rr.owner));
			x->type = rr.type;
			x->ttl = rr.ttl;
			x->rdlen = rr.rdlen;
			x->added = i >= d->nrem;
			if (rr.rdlen && !(x->rdata = malloc(rr.rdlen)))
				return DDI_ENOMEM;
			if (rr.rdlen)
				memcpy(x->rdata, rr.rdata, rr.rdlen);
			r->nrr++;
		}
		return 0;
	}
	if (d->flags & STORE_DIFF_BREAK) {
		r->later_seq = d->seq;   /* a later change we cannot see into: assume it moved */
		r->later.owner[0] = 0;
		return 1;
	}
	while (store_diff_rr_next(d, &off, &rr)) {
		for (size_t i = 0; rr.type != DNS_T_SOA && i < r->nrr; i++)
			if (rr_key_eq(&r->rr[i], rr.owner, rr.type)) {
				r->later_seq = d->seq;
				r->later = r->rr[i];
				return 1;
			}
	}
	return 0;
}

/* Does [rdlen rdata] x count hold this rdata? */
static bool holds(const uint8_t *rdatas, size_t len, uint16_t count, const uint8_t *rd,
                  uint16_t rdlen)
{
	size_t pos = 0;
	for (uint16_t i = 0; i < count && pos + 2 <= len; i++) {
		uint16_t l = dns_get16(rdatas + pos);
		if (l == rdlen && pos + 2 + l <= len && memcmp(rdatas + pos + 2, rd, l) == 0)
			return true;
		pos += 2 + (size_t)l;
	}
	return false;
}

struct cur {
	bool exists;
	uint32_t ttl;
	uint16_t count;
	uint8_t *rdatas;
	size_t len;
};

static int cur_cb(void *ctx, const uint8_t *owner, uint16_t type, uint32_t ttl, uint16_t count,
                  const uint8_t *rdatas, size_t len)
{
	struct cur *c = ctx;
	(void)owner;
	(void)type;
	c->exists = true;
	c->ttl = ttl;
	c->count = count;
	c->len = len;
	if (len && !(c->rdatas = malloc(len)))
		return DDI_ENOMEM;
	if (len)
		memcpy(c->rdatas, rdatas, len);
	return 0;
}

static int rev_add_op(struct rev *r, const uint8_t *owner, uint16_t type, uint32_t ttl,
                      uint16_t count, uint8_t *rdatas, size_t len)
{
	struct store_op *no = realloc(r->ops, (r->nops + 1) * sizeof(*no));
	uint8_t **nb = realloc(r->bufs, (r->nops + 1) * sizeof(*nb));
	if (no)
		r->ops = no;
	if (nb)
		r->bufs = nb;
	if (!no || !nb) {
		free(rdatas);
		return DDI_ENOMEM;
	}
	r->bufs[r->nops] = rdatas;
	r->ops[r->nops++] = (struct store_op){ .kind = STORE_OP_RRSET_REPLACE,
	                                       .flags = STORE_OPF_MISSING_OK, .owner = owner,
	                                       .type = type, .ttl = ttl, .count = count,
	                                       .rdatas = rdatas, .rdatas_len = len };
	return DDI_EOK;
}

/* The inverse of the entry for RRset (owner, type): current - added + removed. */
static int rev_rrset(struct rev *r, struct store_txn *txn, const struct rrec *key)
{
	char nb[DNS_NAME_STRLEN];
	struct cur c = { 0 };
	int rc = store_rrset_get(r->s, txn, key->owner, key->type, cur_cb, &c, r->err);
	if (rc && rc != DDI_ENOENT) {
		free(c.rdatas);
		return rc;
	}
	size_t cap = c.len, n = 0;
	uint32_t ttl = c.ttl;
	bool had_removed = false;
	for (size_t i = 0; i < r->nrr; i++)
		if (rr_key_eq(&r->rr[i], key->owner, key->type))
			cap += 2 + (size_t)r->rr[i].rdlen;
	/* the data must still be what the entry left: its additions there, its removals not */
	for (size_t i = 0; i < r->nrr; i++) {
		const struct rrec *x = &r->rr[i];
		if (!rr_key_eq(x, key->owner, key->type))
			continue;
		bool there = c.exists && holds(c.rdatas, c.len, c.count, x->rdata, x->rdlen);
		bool readded = false;
		for (size_t j = 0; !x->added && j < r->nrr; j++)
			readded = readded || (r->rr[j].added && rr_key_eq(&r->rr[j], x->owner, x->type) &&
			                      r->rr[j].rdlen == x->rdlen &&
			                      memcmp(r->rr[j].rdata, x->rdata, x->rdlen) == 0);
		if (x->added != there && !readded) {
			free(c.rdatas);
			return seterr(r->err, DDI_ECONFLICT,
			              "%s %s moved on since %" PRIu64 ": it no longer holds what that "
			              "change left", nstr(nb, key->owner), dns_type_name(key->type),
			              r->seq);
		}
	}
	uint8_t *out = malloc(cap ? cap : 1);
	if (!out) {
		free(c.rdatas);
		return DDI_ENOMEM;
	}
	size_t len = 0, pos = 0;
	for (uint16_t k = 0; c.exists && k < c.count && pos + 2 <= c.len; k++) {
		uint16_t l = dns_get16(c.rdatas + pos);
		bool added = false;
		for (size_t i = 0; i < r->nrr && !added; i++)
			added = r->rr[i].added && rr_key_eq(&r->rr[i], key->owner, key->type) &&
			        r->rr[i].rdlen == l && memcmp(r->rr[i].rdata, c.rdatas + pos + 2, l) == 0;
		if (!added) {
			memcpy(out + len, c.rdatas + pos, 2 + (size_t)l);
			len += 2 + (size_t)l;
			n++;
		}
		pos += 2 + (size_t)l;
	}
	for (size_t i = 0; i < r->nrr; i++) {
		const struct rrec *x = &r->rr[i];
		if (x->added || !rr_key_eq(x, key->owner, key->type) ||
		    holds(out, len, (uint16_t)n, x->rdata, x->rdlen))
			continue;
		dns_put16(out + len, x->rdlen);
		memcpy(out + len + 2, x->rdata, x->rdlen);
		len += 2 + (size_t)x->rdlen;
		n++;
		ttl = x->ttl;
		had_removed = true;
	}
	(void)had_removed;
	free(c.rdatas);
	return rev_add_op(r, key->owner, key->type, ttl, (uint16_t)n, out, len);
}

static int rev_fn(void *arg, struct store_txn *txn, const struct store_op **ops, size_t *nops)
{
	struct rev *r = arg;
	char zb[DNS_NAME_STRLEN], nb[DNS_NAME_STRLEN];
	int rc = DDI_EOK;
	for (size_t z = 0; z < r->nzones && rc == 0; z++) {
		size_t first = r->nrr;
		r->found = r->brk = false;
		r->later_seq = 0;
		rc = store_diff_walk(r->s, txn, r->zones[z].apex, rev_diff, r, r->err);
		if (rc == 1)
			rc = 0;
		if (rc == DDI_ENOZONE)
			return seterr(r->err, DDI_ECONFLICT, "zone %s was removed since %" PRIu64,
			              nstr(zb, r->zones[z].apex), r->seq);
		if (rc)
			return rc;
		if (!r->zones[z].data)
			continue;   /* only its serial moved (a reverse zone's synthesized PTRs) */
		if (!r->found)
			return seterr(r->err, DDI_ENOENT,
			              "the differences of %" PRIu64 " in %s are no longer kept", r->seq,
			              nstr(zb, r->zones[z].apex));
		if (r->brk)
			return seterr(r->err, DDI_EINVAL,
			              "%" PRIu64 " was recorded without its records in %s (a bulk change)",
			              r->seq, nstr(zb, r->zones[z].apex));
		if (r->later_seq)
			return seterr(r->err, DDI_ECONFLICT, "%s%s%s changed again in %" PRIu64
			              " after %" PRIu64 ": the data moved on",
			              r->later.owner[0] ? nstr(nb, r->later.owner) : "the zone",
			              r->later.owner[0] ? " " : "",
			              r->later.owner[0] ? dns_type_name(r->later.type) : "", r->later_seq,
			              r->seq);
		for (size_t i = first; i < r->nrr && rc == 0; i++) {
			bool done = false;
			for (size_t j = first; j < i && !done; j++)
				done = rr_key_eq(&r->rr[j], r->rr[i].owner, r->rr[i].type);
			if (!done)
				rc = rev_rrset(r, txn, &r->rr[i]);
		}
	}
	if (rc == 0 && r->nops == 0)
		return seterr(r->err, DDI_EINVAL, "%" PRIu64 " changed no records", r->seq);
	*ops = r->ops;
	*nops = r->nops;
	return rc;
}

int life_revert(struct store *s, uint64_t seq, const char *actor, uint64_t *newseq,
                struct store_error *err)
{
	struct store_error local;
	struct rev r = { .s = s, .seq = seq, .err = err ? err : &local };
	memset(r.err, 0, sizeof(*r.err));
	int rc = store_journal_read(s, seq, 1, rev_entry, &r, r.err);
	if (rc == 0 || rc == 1)
		return seterr(r.err, DDI_ENOENT, "no journal entry %" PRIu64, seq);
	if (rc == 2)
		return seterr(r.err, DDI_ELIMIT, "%" PRIu64 " touched more than %d zones", seq,
		              REV_MAX_ZONES);
	if (rc != 3)
		return rc;
	if (r.zone_level)
		return seterr(r.err, DDI_EINVAL, "%" PRIu64 " added, removed or replaced a whole zone: "
		              "restore that zone from a master file or a backup instead", seq);
	rc = store_transact(s, NULL, actor, rev_fn, &r, newseq, r.err);
	for (size_t i = 0; i < r.nrr; i++)
		free(r.rr[i].rdata);
	for (size_t i = 0; i < r.nops; i++)
		free(r.bufs[i]);
	free(r.rr);
	free(r.ops);
	free(r.bufs);
	if (rc && !r.err->msg[0])
		seterr(r.err, rc, "%s", ddi_strerror(rc));
	return rc;
}
