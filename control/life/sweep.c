/* life/sweep -- lease expiry and scavenging: due RRsets removed in bounded, journaled batches */
#include <stdlib.h>
#include <string.h>

#include "control/ipam/ipam.h"
#include "control/life/life.h"
#include "dns/errcode.h"
#include "dns/rdata.h"
#include "dns/wire.h"

struct due {
	uint8_t owner[DNS_NAME_MAXLEN];
	uint16_t type;
	int64_t stamp;
};

struct batch {
	struct store *s;
	size_t max, n;
	struct due *v;
	struct life_stats *st;
	/* scavenging */
	int64_t cutoff_ns;               /* stamps older than this go */
	bool more;                       /* the walk stopped because the batch was full */
	uint8_t after[DNS_NAME_MAXLEN];  /* where the next batch starts */
	uint16_t after_type;
	bool has_after;
	const uint8_t *apex;
	struct store_txn *txn;           /* the walk's transaction */
	int64_t now;
	int (*cb)(void *ctx, const uint8_t *owner, uint16_t type, int64_t refreshed_ns);
	void *ctx;
};

struct addrs {
	size_t n;
	uint8_t a[64][16];
	uint8_t alen;
};

static int addrs_cb(void *ctx, const uint8_t *owner, uint16_t type, uint32_t ttl, uint16_t count,
                    const uint8_t *rdatas, size_t len)
{
	struct addrs *a = ctx;
	(void)owner;
	(void)type;
	(void)ttl;
	size_t pos = 0;
	for (uint16_t i = 0; i < count && pos + 2 <= len && a->n < 64; i++) {
		uint16_t rl = dns_get16(rdatas + pos);
		if (rl == a->alen && pos + 2 + rl <= len) {
			memset(a->a[a->n], 0, 16);
			memcpy(a->a[a->n++], rdatas + pos + 2, rl);
		}
		pos += 2 + (size_t)rl;
	}
	return 0;
}

/*
 * Remove one dynamic RRset in the IPAM write transaction `t`: first the
 * dynamic allocations of its addresses registered to the same name, then
 * the RRset itself (missing is fine: an operator may have removed it).
 */
static int remove_rrset(struct store *s, struct store_ipam *t, const struct due *d,
                        struct life_stats *st)
{
	uint8_t apex[DNS_NAME_MAXLEN];
	struct store_zone_info zi;
	struct store_txn *txn = store_ipam_txn(t);
	int zrc = store_zone_of(s, txn, d->owner, apex, store_ipam_error(t));
	if (zrc == DDI_EOK)
		zrc = store_zone_get(s, txn, apex, false, &zi, store_ipam_error(t));
	if (zrc == DDI_ENOZONE || (zrc == DDI_EOK && (zi.flags & STORE_ZONE_SECONDARY)))
		/* its zone went, or follows a primary now: nothing of ours to remove */
		return store_lease_drop(s, txn, d->owner, d->type, store_ipam_error(t));
	if (zrc)
		return zrc;
	if (d->type == DNS_T_A || d->type == DNS_T_AAAA) {
		int fam = d->type == DNS_T_A ? 4 : 6;
		struct addrs a = { .alen = fam == 4 ? 4 : 16 };
		int rc = store_rrset_get(s, store_ipam_txn(t), d->owner, d->type, addrs_cb, &a,
		                         store_ipam_error(t));
		if (rc && rc != DDI_ENOENT)
			return rc;
		for (size_t i = 0; i < a.n; i++) {
			struct ipam_alloc al;
			if (store_ipam_alloc_get(t, fam, a.a[i], &al) != DDI_EOK)
				continue;
			if (al.state != IPAM_STATE_DYNAMIC || al.name_len == 0 ||
			    !dns_name_equal(al.name, d->owner))
				continue;   /* static, reserved or another name's: not ours to release */
			if ((rc = store_ipam_alloc_del(t, fam, a.a[i])) != DDI_EOK)
				return rc;
			st->allocations++;
		}
	}
	struct store_op op = { .kind = STORE_OP_RRSET_DELETE,
	                       .flags = STORE_OPF_MISSING_OK | STORE_OPF_DYNAMIC,
	                       .owner = d->owner, .type = d->type };
	int rc = store_ipam_dns(t, &op, 1);
	if (rc == 0)
		st->rrsets++;
	return rc;
}

/* ------------------------------------------------------------------------ */
/* Leases                                                                   */
/* ------------------------------------------------------------------------ */

static int lease_collect(void *ctx, const struct store_lease *l)
{
	struct batch *b = ctx;
	struct due *d = &b->v[b->n++];
	memcpy(d->owner, l->owner, dns_name_len(l->owner));
	d->type = l->type;
	d->stamp = l->expires_ns;
	return 0;
}

struct lease_run {
	struct batch b;
	int64_t now;
};

static int lease_batch(void *ctx, struct store_ipam *t)
{
	struct lease_run *r = ctx;
	struct batch *b = &r->b;
	b->n = 0;
	int rc = store_lease_due(b->s, store_ipam_txn(t), r->now, b->max, lease_collect, b,
	                         store_ipam_error(t));
	for (size_t i = 0; i < b->n && rc == 0; i++)
		rc = remove_rrset(b->s, t, &b->v[i], b->st);
	return rc;
}

int life_lease_sweep(struct store *s, int64_t now_ns, size_t batch, size_t max_batches,
                     struct life_stats *st, struct store_error *err)
{
	struct lease_run r = { .now = now_ns };
	struct life_stats local = { 0 };
	r.b.s = s;
	r.b.max = batch ? batch : LIFE_BATCH_DEFAULT;
	r.b.st = &local;
	if (!(r.b.v = malloc(r.b.max * sizeof(*r.b.v))))
		return DDI_ENOMEM;
	int rc = DDI_EOK;
	for (size_t k = 0; max_batches == 0 || k < max_batches; k++) {
		struct life_stats before = local;
		rc = store_ipam_write(s, NULL, LIFE_LEASE_ACTOR, lease_batch, &r, NULL, err);
		if (rc) {
			local = before;   /* the batch was rolled back */
			break;
		}
		if (r.b.n)
			local.batches++;
		if (r.b.n < r.b.max)
			break;   /* nothing more is due */
	}
	free(r.b.v);
	if (st) {
		st->rrsets += local.rrsets;
		st->allocations += local.allocations;
		st->batches += local.batches;
	}
	return rc;
}

/* ------------------------------------------------------------------------ */
/* Scavenging                                                               */
/* ------------------------------------------------------------------------ */

static int scav_collect(void *ctx, const uint8_t *owner, uint16_t type, int64_t refreshed)
{
	struct batch *b = ctx;
	if (b->n == b->max) {
		b->more = true;
		return 1;
	}
	memcpy(b->after, owner, dns_name_len(owner));
	b->after_type = type;
	b->has_after = true;
	if (refreshed >= b->cutoff_ns)
		return 0;   /* refreshed in time */
	struct store_lease l;
	if (store_lease_get(b->s, b->txn, owner, type, &l, NULL) == DDI_EOK && l.expires_ns > b->now)
		return 0;   /* a running lease (RFC 9664) says how long it lives, not aging */
	struct due *d = &b->v[b->n++];
	memcpy(d->owner, owner, dns_name_len(owner));
	d->type = type;
	d->stamp = refreshed;
	return 0;
}

static int scav_walk(struct batch *b, struct store_txn *txn, struct store_error *err)
{
	b->n = 0;
	b->more = false;
	b->txn = txn;
	int rc = store_aging_walk(b->s, txn, b->apex, b->has_after ? b->after : NULL, b->after_type,
	                          0, scav_collect, b, err);
	return rc == 1 ? DDI_EOK : rc;
}

static int scav_batch(void *ctx, struct store_ipam *t)
{
	struct batch *b = ctx;
	int rc = scav_walk(b, store_ipam_txn(t), store_ipam_error(t));
	for (size_t i = 0; i < b->n && rc == 0; i++) {
		rc = remove_rrset(b->s, t, &b->v[i], b->st);
		if (rc == 0 && b->cb)
			rc = b->cb(b->ctx, b->v[i].owner, b->v[i].type, b->v[i].stamp);
	}
	return rc;
}

int life_scavenge(struct store *s, const uint8_t *apex, int64_t now_ns, bool dry_run,
                  size_t batch,
                  int (*cb)(void *ctx, const uint8_t *owner, uint16_t type, int64_t refreshed_ns),
                  void *ctx, struct life_stats *st, struct store_error *err)
{
	struct store_aging a;
	struct life_stats local = { 0 };
	struct batch b = { .s = s, .max = batch ? batch : LIFE_BATCH_DEFAULT, .st = &local,
	                   .apex = apex, .cb = cb, .ctx = ctx };
	int rc = store_aging_get(s, NULL, apex, &a, err);
	if (rc == DDI_ENOENT) {
		char zb[DNS_NAME_STRLEN];
		if (dns_name_to_str(zb, sizeof(zb), apex) < 0)
			zb[0] = 0;
		if (err)
			snprintf(err->msg, sizeof(err->msg),
			         "aging is off for %s: set it with 'ddictl zone aging %s --no-refresh S "
			         "--refresh S'", zb, zb);
		return rc;
	}
	if (rc)
		return rc;
	b.now = now_ns;
	b.cutoff_ns = now_ns - ((int64_t)a.no_refresh + a.refresh) * 1000000000;
	if (!(b.v = malloc(b.max * sizeof(*b.v))))
		return DDI_ENOMEM;
	do {
		if (dry_run) {
			struct store_txn *rt;
			if ((rc = store_read_begin(s, &rt, err)) != 0)
				break;
			rc = scav_walk(&b, rt, err);
			for (size_t i = 0; i < b.n && rc == 0; i++) {
				local.rrsets++;
				rc = cb ? cb(ctx, b.v[i].owner, b.v[i].type, b.v[i].stamp) : 0;
			}
			store_read_end(rt);
		} else {
			struct life_stats before = local;
			rc = store_ipam_write(s, NULL, LIFE_SCAVENGE_ACTOR, scav_batch, &b, NULL, err);
			if (rc)
				local = before;
			else if (b.n)
				local.batches++;
		}
	} while (rc == 0 && b.more);
	free(b.v);
	if (rc == 0 && !dry_run)
		rc = store_aging_scavenged(s, NULL, apex, now_ns, err);
	if (st) {
		st->rrsets += local.rrsets;
		st->allocations += local.allocations;
		st->batches += local.batches;
	}
	return rc;
}
