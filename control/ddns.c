/* ddns -- RFC 2136 updates served from the LMDB store: keys, policy, one write transaction, journal, publish */
#include <string.h>
#include <time.h>

#include "control/ctl.h"
#include "control/ddns.h"
#include "control/policy.h"
#include "control/store.h"
#include "control/tsig.h"
#include "dns/errcode.h"
#include "dns/rdata.h"
#include "dns/wire.h"

struct dctx {
	struct store *st;
};

static int key_lookup(void *ctx, const uint8_t *name, struct tsig_key *out)
{
	struct dctx *d = ctx;
	struct store_error e;
	int rc = store_key_get(d->st, name, out, &e);
	return rc == DDI_EOK ? DDI_EOK : rc == DDI_ENOENT ? DDI_ENOENT : rc;
}

/* Views for update.c and policy.c; they are only called inside store_transact's fn, so the
 * store reads below read that write transaction (control/store.h). */
static int v_rrsets(void *ctx, const uint8_t *owner, uint16_t type, upd_rrset_cb cb, void *cbctx)
{
	struct dctx *d = ctx;
	struct store_error e;
	return store_rrset_get(d->st, owner, type, cb, cbctx, &e);
}

static int v_zone_of(void *ctx, const uint8_t *name, uint8_t apex[DNS_NAME_MAXLEN])
{
	struct dctx *d = ctx;
	struct store_error e;
	return store_zone_of(d->st, name, apex, &e);
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
	int rc = store_rrset_get(d->st, owner, family == 4 ? DNS_T_A : DNS_T_AAAA, addr_rrset, &w,
	                         &e);
	return rc == DDI_ENOENT ? DDI_EOK : rc;
}

static int pv_owners(void *ctx, uint8_t family, const uint8_t *addr,
                     int (*cb)(void *cbctx, const uint8_t *owner), void *cbctx)
{
	struct dctx *d = ctx;
	struct store_error e;
	return store_addr_owners(d->st, family, addr, cb, cbctx, &e);
}

struct tx {
	struct dctx *d;
	upd_txn_fn fn;
	void *arg;
};

static int tx_fn(void *arg, const struct store_op **ops, size_t *nops)
{
	struct tx *t = arg;
	struct upd_view v = { .ctx = t->d, .rrsets = v_rrsets, .zone_of = v_zone_of };
	struct pol_view pv = { .ctx = t->d, .addresses = pv_addresses, .owners = pv_owners };
	return t->fn(t->arg, &v, &pv, ops, nops);
}

static int transact(void *ctx, const char *actor, upd_txn_fn fn, void *arg)
{
	struct dctx *d = ctx;
	struct store_error e;
	struct tx t = { d, fn, arg };
	return store_transact(d->st, actor, tx_fn, &t, NULL, &e);
}

static void journal(void *ctx, const char *actor, const char *text)
{
	struct dctx *d = ctx;
	struct store_error e;
	/* best effort: the answer does not depend on it, and a full store is logged elsewhere */
	(void)store_journal_note(d->st, actor, text, NULL, &e);
}

static bool zone_known(void *ctx, const uint8_t *apex)
{
	struct dctx *d = ctx;
	struct store_error e;
	struct store_zone_info zi;
	return store_zone_get(d->st, apex, false, &zi, &e) == DDI_EOK;
}

int ddns_serve(struct store *st, struct ctl *ctl, const uint8_t *req, size_t len,
               uint8_t src_family, const uint8_t *src_addr, uint8_t *resp, size_t cap,
               struct upd_outcome *out)
{
	struct upd_outcome local;
	struct store_error e;
	struct pol_set pol = { 0 };
	struct dctx d = { st };
	if (!out)
		out = &local;
	/*
	 * The policy is read per message: rules are few, and a `policy add`
	 * is in force for the next update without any cache to invalidate.
	 * Unreadable policy: no rules, every update refused.
	 */
	if (store_policy_load(st, &pol, &e) != DDI_EOK)
		pol_set_free(&pol);
	struct upd_server s = { .ctx = &d, .key_lookup = key_lookup, .policy = &pol,
	                        .transact = transact, .journal = journal, .zone_known = zone_known };
	int n = upd_serve(&s, req, len, src_family, src_addr, (uint64_t)time(NULL), resp, cap, out);
	pol_set_free(&pol);
	if (out->nops > 0 && ctl)
		ctl_wake(ctl);
	return n;
}
