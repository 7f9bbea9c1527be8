/* ddns -- RFC 2136 updates served from the LMDB store: keys, policy, one write transaction, journal, publish */
#include <string.h>
#include <time.h>

#include "control/follow/follow.h"
#include "control/ddns/gss.h"
#include "control/ddns/keys.h"
#include "control/ddns/serve.h"
#include "control/ipam/ipam.h"
#include "control/ddns/policy.h"
#include "control/ddns/refusal.h"
#include "control/store/store.h"
#include "control/ddns/tsig.h"
#include "dns/errcode.h"
#include "dns/rdata.h"
#include "dns/wire.h"

struct dctx {
	struct store *st;
	struct store_txn *txn;   /* what reads read and writes nest in; NULL: their own */
	struct ddns_refusals *refusals;
	int (*notify)(const uint8_t *apex, uint8_t family, const uint8_t *addr, const uint8_t *key);
	struct gss_server *gss;
};

static int key_lookup(void *ctx, const uint8_t *name, struct tsig_key *out)
{
	struct dctx *d = ctx;
	struct store_error e;
	/* a GSS-TSIG context (negotiated by TKEY) first: its name is the client's choice */
	if (d->gss != NULL && gss_lookup(d->gss, name, out) == DDI_EOK)
		return DDI_EOK;
	int rc = ddns_key_get(d->st, d->txn, name, out, &e);
	return rc == DDI_EOK ? DDI_EOK : rc == DDI_ENOENT ? DDI_ENOENT : rc;
}

/* Views for update.c and policy.c; they are only called inside store_transact's fn, with
 * d->txn its transaction, so the store reads below read it (control/store/store.h). */
static int v_rrsets(void *ctx, const uint8_t *owner, uint16_t type, upd_rrset_cb cb, void *cbctx)
{
	struct dctx *d = ctx;
	struct store_error e;
	return store_rrset_get(d->st, d->txn, owner, type, cb, cbctx, &e);
}

static int v_zone_of(void *ctx, const uint8_t *name, uint8_t apex[DNS_NAME_MAXLEN])
{
	struct dctx *d = ctx;
	struct store_error e;
	return store_zone_of(d->st, d->txn, name, apex, &e);
}

struct addr_walk {
	int (*cb)(void *cbctx, const uint8_t *addr);
	void *cbctx;
	size_t alen;
};

static int addr_rrset(void *ctx, const uint8_t *owner, uint16_t type, uint32_t ttl, uint16_t count,
                      const uint8_t *rdatas, size_t len)
{
	struct addr_walk *w = ctx;
	size_t pos = 0;
	(void)owner, (void)type, (void)ttl;
	for (uint16_t i = 0; i < count; i++) {
		if (pos + 2 > len)
			return DDI_ECORRUPT;
		size_t rl = dns_get16(rdatas + pos);
		if (pos + 2 + rl > len || rl != w->alen)
			return DDI_ECORRUPT;
		int rc = w->cb(w->cbctx, rdatas + pos + 2);
		if (rc)
			return rc;
		pos += 2 + rl;
	}
	return DDI_EOK;
}

static int pv_addresses(void *ctx, const uint8_t *owner, uint8_t family,
                        int (*cb)(void *cbctx, const uint8_t *addr), void *cbctx)
{
	struct dctx *d = ctx;
	struct store_error e;
	struct addr_walk w = { cb, cbctx, family == 4 ? 4 : 16 };
	int rc = store_rrset_get(d->st, d->txn, owner, family == 4 ? DNS_T_A : DNS_T_AAAA,
	                         addr_rrset, &w, &e);
	return rc == DDI_ENOENT ? DDI_EOK : rc;
}

static int pv_owners(void *ctx, uint8_t family, const uint8_t *addr,
                     int (*cb)(void *cbctx, const uint8_t *owner), void *cbctx)
{
	struct dctx *d = ctx;
	struct store_error e;
	return store_addr_owners(d->st, d->txn, family, addr, cb, cbctx, &e);
}

struct tx {
	struct dctx *d;
	upd_txn_fn fn;
	void *arg;
	const char *actor;
	char key[256];                   /* the key of "tsig:KEY@ADDR", "" unsigned */
};

/*
 * IPAM registration (issue "Dynamic DNS"): an address an accepted update
 * adds to an A/AAAA RRset becomes a dynamic allocation owned by the key
 * (when an IPAM prefix holds it); an address it removes is released when
 * it is such an allocation of that key. Written with the DNS ops in one
 * store_ipam_write() nested in the update's transaction.
 */
#define REG_MAX 64
struct reg {
	const struct store_op *ops;
	size_t nops;
	const char *key;                 /* key name, presentation, no final dot; "" unsigned */
	size_t nadd, ndel;
	struct { uint8_t family, addr[16]; const uint8_t *owner; } add[REG_MAX], del[REG_MAX];
};

struct old_addrs {
	size_t n;
	uint8_t a[REG_MAX][16];
	size_t alen;
};

static int old_cb(void *ctx, const uint8_t *addr)
{
	struct old_addrs *o = ctx;
	if (o->n < REG_MAX)
		memcpy(o->a[o->n++], addr, o->alen);
	return 0;
}

static bool rdatas_hold(const uint8_t *p, size_t len, uint16_t count, const uint8_t *addr,
                        size_t alen)
{
	size_t pos = 0;
	for (uint16_t i = 0; i < count && pos + 2 <= len; i++) {
		size_t rl = dns_get16(p + pos);
		if (rl == alen && pos + 2 + rl <= len && memcmp(p + pos + 2, addr, alen) == 0)
			return true;
		pos += 2 + rl;
	}
	return false;
}

/* Before the write: which addresses the ops add and remove (reads the update's transaction). */
static int reg_plan(struct dctx *d, struct reg *r)
{
	for (size_t i = 0; i < r->nops; i++) {
		const struct store_op *op = &r->ops[i];
		if (op->kind != STORE_OP_RRSET_REPLACE || (op->type != DNS_T_A && op->type != DNS_T_AAAA))
			continue;
		uint8_t fam = op->type == DNS_T_A ? 4 : 6;
		struct old_addrs o = { .alen = fam == 4 ? 4 : 16 };
		int rc = pv_addresses(d, op->owner, fam, old_cb, &o);
		if (rc)
			return rc;
		for (size_t k = 0; k < o.n && r->ndel < REG_MAX; k++)
			if (!rdatas_hold(op->rdatas, op->rdatas_len, op->count, o.a[k], o.alen)) {
				r->del[r->ndel].family = fam;
				memset(r->del[r->ndel].addr, 0, 16);
				memcpy(r->del[r->ndel].addr, o.a[k], o.alen);
				r->del[r->ndel++].owner = op->owner;
			}
		size_t pos = 0;
		for (uint16_t k = 0; k < op->count && pos + 2 <= op->rdatas_len; k++) {
			size_t rl = dns_get16(op->rdatas + pos);
			bool had = false;
			for (size_t m = 0; m < o.n; m++)
				had = had || (rl == o.alen && memcmp(o.a[m], op->rdatas + pos + 2, rl) == 0);
			if (!had && rl == o.alen && r->nadd < REG_MAX) {
				r->add[r->nadd].family = fam;
				memset(r->add[r->nadd].addr, 0, 16);
				memcpy(r->add[r->nadd].addr, op->rdatas + pos + 2, rl);
				r->add[r->nadd++].owner = op->owner;
			}
			pos += 2 + rl;
		}
	}
	return DDI_EOK;
}

static int reg_write(void *ctx, struct store_ipam *t)
{
	struct reg *r = ctx;
	uint64_t now = (uint64_t)time(NULL);
	int rc;
	/* allocations first: a strict prefix accepts the A/AAAA only for an allocated address */
	for (size_t i = 0; i < r->nadd; i++) {
		struct ipam_prefix p;
		struct ipam_alloc a;
		if (store_ipam_prefix_holding(t, r->add[i].family, r->add[i].addr, 128, &p) != DDI_EOK)
			continue;   /* no IPAM prefix holds it: nothing to register */
		ipam_alloc_init(&a);
		a.family = r->add[i].family;
		memcpy(a.addr, r->add[i].addr, 16);
		a.state = IPAM_STATE_DYNAMIC;
		int nl = dns_name_check(r->add[i].owner, DNS_NAME_MAXLEN);
		a.name_len = (uint8_t)nl;
		memcpy(a.name, r->add[i].owner, (size_t)nl);
		a.created = a.updated = now;
		snprintf(a.owner, sizeof(a.owner), "%s", r->key);
		if ((rc = store_ipam_alloc_put(t, &a)) != DDI_EOK)
			return rc;
	}
	if ((rc = store_ipam_dns(t, r->ops, r->nops)) != DDI_EOK)
		return rc;
	for (size_t i = 0; i < r->ndel; i++) {
		struct ipam_alloc a;
		if (store_ipam_alloc_get(t, r->del[i].family, r->del[i].addr, &a) != DDI_EOK)
			continue;
		if (a.state == IPAM_STATE_DYNAMIC && strcmp(a.owner, r->key) == 0 &&
		    (rc = store_ipam_alloc_del(t, r->del[i].family, r->del[i].addr)) != DDI_EOK)
			return rc;
	}
	return DDI_EOK;
}

static int tx_fn(void *arg, struct store_txn *txn, const struct store_op **ops, size_t *nops)
{
	struct tx *t = arg;
	struct dctx in = { .st = t->d->st, .txn = txn };   /* the update's transaction */
	struct upd_view v = { .ctx = &in, .rrsets = v_rrsets, .zone_of = v_zone_of };
	struct pol_view pv = { .ctx = &in, .addresses = pv_addresses, .owners = pv_owners };
	int rc = t->fn(t->arg, &v, &pv, ops, nops);
	if (rc || *nops == 0)
		return rc;
	struct reg r = { .ops = *ops, .nops = *nops, .key = t->key };
	if ((rc = reg_plan(&in, &r)) != DDI_EOK)
		return rc;
	if (r.nadd == 0 && r.ndel == 0)
		return DDI_EOK;   /* no address changed: the plain commit */
	struct store_error e;
	rc = store_ipam_write(in.st, txn, t->actor, reg_write, &r, NULL, &e);
	if (rc)
		return rc;
	*nops = 0;   /* written above, inside this transaction */
	return DDI_EOK;
}

static int transact(void *ctx, const char *actor, upd_txn_fn fn, void *arg)
{
	struct dctx *d = ctx;
	struct store_error e;
	struct tx t = { .d = d, .fn = fn, .arg = arg, .actor = actor };
	if (strncmp(actor, "tsig:", 5) == 0) {
		snprintf(t.key, sizeof(t.key), "%s", actor + 5);
		char *at = strrchr(t.key, '@');
		if (at)
			*at = 0;
	}
	return store_transact(d->st, d->txn, actor, tx_fn, &t, NULL, &e);
}

static uint64_t now_ms(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000 + (uint64_t)ts.tv_nsec / 1000000;
}

/* Counted, logged at a bounded rate, noted only when authenticated (control/ddns/refusal.h). */
static void unchanged(void *ctx, const struct upd_outcome *o)
{
	struct dctx *d = ctx;
	ddns_refusals_record(d->refusals, d->st, d->txn, o, now_ms());
}

static bool zone_known(void *ctx, const uint8_t *apex)
{
	struct dctx *d = ctx;
	struct store_error e;
	struct store_zone_info zi;
	return store_zone_get(d->st, d->txn, apex, false, &zi, &e) == DDI_EOK;
}

static bool zone_secondary(void *ctx, const uint8_t *apex)
{
	struct dctx *d = ctx;
	struct store_error e;
	struct store_zone_info zi;
	return store_zone_get(d->st, d->txn, apex, false, &zi, &e) == DDI_EOK &&
	       (zi.flags & STORE_ZONE_SECONDARY);
}

static int notify(void *ctx, const uint8_t *apex, uint8_t family, const uint8_t *addr,
                  const uint8_t *key)
{
	struct dctx *d = ctx;
	return d->notify ? d->notify(apex, family, addr, key) : -1;
}

int ddns_serve(const struct ddns_env *env, const uint8_t *req, size_t len, uint8_t src_family,
               const uint8_t *src_addr, uint8_t *resp, size_t cap, struct upd_outcome *out)
{
	struct upd_outcome local;
	struct store_error e;
	struct pol_set own = { 0 };
	struct dctx d = { .st = env->st, .txn = env->batch, .refusals = env->refusals, .notify = env->notify,
	                  .gss = env->gss };
	if (!out)
		out = &local;
	/*
	 * Without a policy from the caller it is read per message: rules are
	 * few, and a `policy add` is in force for the next update without any
	 * cache to invalidate. Unreadable policy: no rules, every update refused.
	 */
	const struct pol_set *pol = env->policy;
	if (!pol) {
		if (ddns_policy_load(env->st, env->batch, &own, &e) != DDI_EOK)
			pol_set_free(&own);
		pol = &own;
	}
	struct upd_server s = { .ctx = &d, .key_lookup = key_lookup, .policy = pol,
	                        .transact = transact, .unchanged = unchanged, .zone_known = zone_known,
	                        .zone_secondary = zone_secondary, .notify = notify };
	int n = upd_serve(&s, req, len, src_family, src_addr, (uint64_t)time(NULL), resp, cap, out);
	pol_set_free(&own);
	if (out->nops > 0 && env->ctl && !env->batch)
		ctl_wake(env->ctl);
	return n;
}
