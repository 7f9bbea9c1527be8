/* life/stale -- the stale-data report: records without allocations, allocations without records, leases */
#include <stdio.h>
#include <string.h>

#include "control/cmd.h"
#include "control/ipam/ipam.h"
#include "control/life/life.h"
#include "dns/errcode.h"
#include "dns/name.h"
#include "dns/rdata.h"
#include "dns/wire.h"

/*
 * One read transaction (store_ipam_read) for the whole report, so that
 * its four lists describe one state of the store.
 */

struct stale {
	struct store *s;
	struct store_ipam *t;
	const uint8_t *zone;
	const struct cmd_ctx *scope;   /* NULL: every tenant's rows */
	bool has_prefix;
	struct ipam_cidr prefix;
	int64_t now;
	uint32_t within;
	size_t limit;
	json_t *out;
	json_t *unalloc, *unres, *expiring, *expired;
};

static bool in_zone(const struct stale *x, const uint8_t *name)
{
	return (!x->zone || dns_name_is_sub(name, x->zone)) && (!x->scope || cmd_sees_name(x->scope, name));
}

static bool in_prefix(const struct stale *x, int family, const uint8_t addr[16])
{
	return (!x->has_prefix || ipam_cidr_contains_addr(&x->prefix, family, addr)) &&
	       (!x->scope || cmd_sees_prefix(x->scope, family, addr, family == 4 ? 32 : 128));
}

static int add(struct stale *x, json_t *list, const char *key, json_t *item)
{
	if (!item)
		return DDI_ENOMEM;
	if (json_array_size(list) >= x->limit) {
		json_decref(item);
		json_object_set_new(x->out, key, json_true());
		return 0;
	}
	return json_array_append_new(list, item) == 0 ? 0 : DDI_ENOMEM;
}

static void strs(int family, const uint8_t addr[16], const uint8_t *name, char *ab, size_t al,
                 char nb[DNS_NAME_STRLEN])
{
	if (ipam_addr_format(family, addr, ab, al) < 0)
		snprintf(ab, al, "?");
	if (!name || dns_name_to_str(nb, DNS_NAME_STRLEN, name) < 0)
		snprintf(nb, DNS_NAME_STRLEN, "?");
}

/* A/AAAA records whose address a strict or auto prefix holds without an allocation for the name. */
static int unalloc_cb(void *ctx, int family, const uint8_t addr[16], const uint8_t *owner)
{
	struct stale *x = ctx;
	struct ipam_prefix p;
	struct ipam_alloc a;
	char ab[64], nb[DNS_NAME_STRLEN], pb[64], an[DNS_NAME_STRLEN];
	if (!in_zone(x, owner) || !in_prefix(x, family, addr))
		return 0;
	if (store_ipam_prefix_holding(x->t, family, addr, 128, &p) != DDI_EOK ||
	    (p.policy != IPAM_POLICY_STRICT && p.policy != IPAM_POLICY_AUTO))
		return 0;
	int rc = store_ipam_alloc_get(x->t, family, addr, &a);
	if (rc == DDI_EOK && a.name_len && dns_name_equal(a.name, owner))
		return 0;
	if (rc != DDI_EOK && rc != DDI_ENOENT)
		return rc;
	strs(family, addr, owner, ab, sizeof(ab), nb);
	if (ipam_cidr_format(&p.cidr, pb, sizeof(pb)) < 0)
		snprintf(pb, sizeof(pb), "?");
	char why[DNS_NAME_STRLEN + 64] = "no allocation";
	if (rc == DDI_EOK) {
		strs(family, addr, a.name_len ? a.name : NULL, ab, sizeof(ab), an);
		snprintf(why, sizeof(why), "allocated to %s (%s)", a.name_len ? an : "nobody",
		         ipam_state_name(a.state));
	}
	return add(x, x->unalloc, "unallocated_truncated",
	           json_pack("{s:s, s:s, s:s, s:s, s:s}", "name", nb, "address", ab, "prefix", pb,
	                     "policy", ipam_policy_name(p.policy), "why", why));
}

/* Allocations whose name has no A/AAAA record holding the address. */
static int unres_cb(void *ctx, const struct ipam_alloc *a)
{
	struct stale *x = ctx;
	char ab[64], nb[DNS_NAME_STRLEN];
	if (a->name_len == 0 || !in_zone(x, a->name) ||
	    store_ipam_addr_has_owner(x->t, a->family, a->addr, a->name))
		return 0;
	strs(a->family, a->addr, a->name, ab, sizeof(ab), nb);
	return add(x, x->unres, "unresolved_truncated",
	           json_pack("{s:s, s:s, s:s}", "address", ab, "name", nb, "state",
	                     ipam_state_name(a->state)));
}

struct addr_hit {
	const struct stale *x;
	bool hit;
};

static int addr_hit_cb(void *ctx, const uint8_t *owner, uint16_t type, uint32_t ttl,
                       uint16_t count, const uint8_t *rdatas, size_t len)
{
	struct addr_hit *h = ctx;
	size_t pos = 0;
	(void)owner;
	(void)ttl;
	int fam = type == DNS_T_A ? 4 : 6;
	for (uint16_t i = 0; i < count && pos + 2 <= len; i++) {
		uint16_t l = dns_get16(rdatas + pos);
		uint8_t a[16] = { 0 };
		if (l == (fam == 4 ? 4 : 16) && pos + 2 + l <= len) {
			memcpy(a, rdatas + pos + 2, l);
			h->hit = h->hit || in_prefix(h->x, fam, a);
		}
		pos += 2 + (size_t)l;
	}
	return 0;
}

/* With a prefix, only A/AAAA RRsets that hold an address in it. */
static bool rrset_in_prefix(struct stale *x, const uint8_t *owner, uint16_t type)
{
	struct addr_hit h = { x, false };
	if (!x->has_prefix)
		return true;
	if (type != DNS_T_A && type != DNS_T_AAAA)
		return false;
	store_rrset_get(x->s, store_ipam_txn(x->t), owner, type, addr_hit_cb, &h, NULL);
	return h.hit;
}

static int lease_cb(void *ctx, const struct store_lease *l)
{
	struct stale *x = ctx;
	char nb[DNS_NAME_STRLEN];
	if (!in_zone(x, l->owner) || !rrset_in_prefix(x, l->owner, l->type))
		return 0;
	if (dns_name_to_str(nb, sizeof(nb), l->owner) < 0)
		snprintf(nb, sizeof(nb), "?");
	bool past = l->expires_ns <= x->now;
	return add(x, past ? x->expired : x->expiring,
	           past ? "expired_truncated" : "expiring_truncated",
	           json_pack("{s:s, s:s, s:s, s:I, s:I, s:I}", "name", nb, "type",
	                     dns_type_name(l->type), "why", "lease", "expires",
	                     (json_int_t)l->expires_ns, "in", (json_int_t)((l->expires_ns - x->now) /
	                                                                  1000000000),
	                     "granted", (json_int_t)l->granted));
}

struct aging_zone {
	struct stale *x;
	struct store_aging a;
};

static int aging_cb(void *ctx, const uint8_t *owner, uint16_t type, int64_t refreshed)
{
	struct aging_zone *z = ctx;
	struct stale *x = z->x;
	char nb[DNS_NAME_STRLEN];
	int64_t deadline = refreshed + ((int64_t)z->a.no_refresh + z->a.refresh) * 1000000000;
	if (deadline > x->now + (int64_t)x->within * 1000000000 || !in_zone(x, owner) ||
	    !rrset_in_prefix(x, owner, type))
		return 0;
	if (dns_name_to_str(nb, sizeof(nb), owner) < 0)
		snprintf(nb, sizeof(nb), "?");
	return add(x, x->expiring, "expiring_truncated",
	           json_pack("{s:s, s:s, s:s, s:I, s:I}", "name", nb, "type", dns_type_name(type),
	                     "why", "scavenging", "expires", (json_int_t)deadline, "in",
	                     (json_int_t)((deadline - x->now) / 1000000000)));
}

static int zone_cb(void *ctx, const struct store_zone_info *zi)
{
	struct aging_zone z = { .x = ctx };
	struct stale *x = z.x;
	if (x->zone && !dns_name_is_sub(zi->apex, x->zone) && !dns_name_is_sub(x->zone, zi->apex))
		return 0;
	struct store_txn *txn = store_ipam_txn(x->t);
	int rc = store_aging_get(x->s, txn, zi->apex, &z.a, NULL);
	if (rc == DDI_ENOENT)
		return 0;
	if (rc)
		return rc;
	return store_aging_walk(x->s, txn, zi->apex, NULL, 0, 0, aging_cb, &z, NULL);
}

static int stale_fn(void *ctx, struct store_ipam *t)
{
	struct stale *x = ctx;
	x->t = t;
	int rc = store_ipam_addr_walk(t, unalloc_cb, x);
	if (rc == 0)
		rc = store_ipam_alloc_walk(t, x->has_prefix ? &x->prefix : NULL, unres_cb, x);
	if (rc == 0)
		rc = store_lease_due(x->s, store_ipam_txn(t), INT64_MAX, 0, lease_cb, x,
		                     store_ipam_error(t));
	if (rc == 0)
		rc = store_zone_list_in(x->s, store_ipam_txn(t), false, zone_cb, x, store_ipam_error(t));
	return rc;
}

int life_stale(struct store *s, const uint8_t *zone, int family, const uint8_t prefix[16],
               unsigned plen, int64_t now_ns, uint32_t within_s, size_t limit, json_t **out,
               struct store_error *err, const struct cmd_ctx *scope)
{
	struct stale x = { .s = s, .zone = zone, .scope = scope, .now = now_ns, .within = within_s,
	                   .limit = limit ? limit : 1000 };
	*out = NULL;
	if (family) {
		x.has_prefix = true;
		x.prefix.family = (uint8_t)family;
		x.prefix.plen = (uint8_t)plen;
		memcpy(x.prefix.addr, prefix, 16);
	}
	x.out = json_pack("{s:[], s:[], s:[], s:[]}", "unallocated", "unresolved", "expiring",
	                  "expired");
	if (!x.out)
		return DDI_ENOMEM;
	x.unalloc = json_object_get(x.out, "unallocated");
	x.unres = json_object_get(x.out, "unresolved");
	x.expiring = json_object_get(x.out, "expiring");
	x.expired = json_object_get(x.out, "expired");
	int rc = store_ipam_read(s, stale_fn, &x, err);
	if (rc) {
		json_decref(x.out);
		return rc;
	}
	*out = x.out;
	return DDI_EOK;
}
