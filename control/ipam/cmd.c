/* ipam_cmd -- the IPAM control commands: JSON arguments -> one store_ipam transaction -> JSON reply */
#include "control/ipam/cmd.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "control/ipam/cmdutil.h"
#include "control/ipam/ipam.h"
#include "control/ipam/csv.h"
#include "control/ipam/lmdb.h"
#include "control/store/store.h"
#include "dns/errcode.h"
#include "dns/name.h"
#include "dns/rdata.h"
#include "dns/wire.h"

#define IPAM_MAX_EXCL 4096    /* ranges excluded from one next-free search */

/* ------------------------------------------------------------------------ */
/* Prefixes                                                                 */
/* ------------------------------------------------------------------------ */

struct padd {
	struct icmd *q;
	struct ipam_prefix p;
};

static int prefix_add_tx(void *ctx, struct store_ipam *t)
{
	struct padd *a = ctx;
	struct icmd *q = a->q;
	struct ipam_prefix old;
	char cb[IPAM_CIDR_STRLEN];
	int rc = store_ipam_prefix_get(t, &a->p.cidr, &old);
	if (rc == 0)
		return ic_fail(q, DDI_EEXIST, "prefix %s exists", ic_cidr_s(&a->p.cidr, cb));
	if (rc != DDI_ENOENT)
		return ic_st_fail(q, t, rc);
	if ((rc = store_ipam_prefix_put(t, &a->p)) != 0)
		return ic_st_fail(q, t, rc);
	json_t *created = json_array();
	if ((rc = ic_reverse_zones(q, t, &a->p.cidr, created)) != 0) {
		json_decref(created);
		return rc;
	}
	q->out = json_pack("{s:o, s:o}", "prefix", ipam_prefix_to_json(&a->p), "reverse_zones",
	                   created);
	snprintf(q->text, sizeof(q->text), "prefix %s added", ic_cidr_s(&a->p.cidr, cb));
	return DDI_EOK;
}

json_t *ipam_cmd_prefix_add(const struct cmd_ctx *ctx, const json_t *args, uint64_t *seq)
{
	struct icmd q = { .ctx = ctx, .args = args };
	struct padd a = { .q = &q };
	struct store_error e;
	bool meta;
	ipam_prefix_init(&a.p);
	if (!ic_cidr(&q, "prefix", &a.p.cidr) || !ic_desc(&q, a.p.description) ||
	    !ic_meta(&q, &a.p.meta, &meta))
		return ic_reply(&q, q.code, NULL, 0);
	const char *zone = ic_str(&q, "zone", false), *pol = ic_str(&q, "policy", false),
	           *st = ic_str(&q, "status", false);
	if (q.err[0])
		return ic_reply(&q, q.code, NULL, 0);
	if (zone) {
		int n = dns_name_from_str(a.p.zone, zone, strlen(zone), NULL);
		if (!zone[0] || n <= 0)
			return cmd_reply(CMD_ERROR, NULL, "zone '%.300s' is not a valid name", zone);
		a.p.zone_len = (uint8_t)n;
		dns_name_lower(a.p.zone);
	}
	if (pol) {
		int v = ipam_policy_parse(pol);
		if (v < 0)
			return cmd_reply(CMD_ERROR, NULL, "policy must be strict, auto or off, not '%.50s'",
			                 pol);
		a.p.policy = (uint8_t)v;
	}
	if (st) {
		int v = ipam_status_parse(st);
		if (v < 0)
			return cmd_reply(CMD_ERROR, NULL,
			                 "status must be active, reserved or deprecated, not '%.50s'", st);
		a.p.status = (uint8_t)v;
	}
	a.p.created = a.p.updated = ic_now();
	struct ipam_error ie = { 0 };
	if (ipam_prefix_check(&a.p, &ie) < 0)
		return cmd_reply(CMD_ERROR, NULL, "%s", ie.msg);
	int rc = store_ipam_write(ctx->store, NULL, ctx->actor, prefix_add_tx, &a, seq, &e);
	return ic_reply(&q, rc, &e, *seq);
}

struct plist {
	json_t *arr;
	const struct cmd_ctx *ctx;   /* whose scope filters the rows */
	struct ipam_cidr stack[130];
	size_t depth;
	bool tree;
	const struct ipam_cidr *root;
};

static int plist_cb(void *ctx, const struct ipam_prefix *p)
{
	struct plist *l = ctx;
	if (!cmd_sees_prefix(l->ctx, p->cidr.family, p->cidr.addr, p->cidr.plen))
		return 0;   /* outside the principal's prefixes (a parent of them too) */
	json_t *j = ipam_prefix_to_json(p);
	if (!j)
		return DDI_ENOMEM;
	if (l->tree) {
		while (l->depth && !ipam_cidr_contains(&l->stack[l->depth - 1], &p->cidr))
			l->depth--;
		json_object_set_new(j, "depth", json_integer((json_int_t)l->depth));
		if (l->depth < 130)
			l->stack[l->depth++] = p->cidr;
	}
	json_array_append_new(l->arr, j);
	return 0;
}

static int plist_tx(void *ctx, struct store_ipam *t)
{
	struct plist *l = ctx;
	return store_ipam_prefix_walk(t, l->root, plist_cb, l);
}

static json_t *prefix_listing(const struct cmd_ctx *ctx, const json_t *args, bool tree)
{
	struct icmd q = { .ctx = ctx, .args = args };
	struct plist l = { .arr = json_array(), .ctx = ctx, .tree = tree };
	struct ipam_cidr root;
	struct store_error e;
	if (tree && json_object_get(args, "prefix")) {
		if (!ic_cidr(&q, "prefix", &root)) {
			json_decref(l.arr);
			return ic_reply(&q, q.code, NULL, 0);
		}
		l.root = &root;
	}
	int rc = store_ipam_read(ctx->store, plist_tx, &l, &e);
	if (rc) {
		json_decref(l.arr);
		return ic_reply(&q, rc, &e, 0);
	}
	size_t n = json_array_size(l.arr);
	return cmd_reply(n ? CMD_OK : CMD_EMPTY, json_pack("{s:o}", "prefixes", l.arr), "%zu prefix%s",
	                 n, n == 1 ? "" : "es");
}

json_t *ipam_cmd_prefix_list(const struct cmd_ctx *ctx, const json_t *args, uint64_t *seq)
{
	(void)seq;
	return prefix_listing(ctx, args, false);
}

json_t *ipam_cmd_prefix_tree(const struct cmd_ctx *ctx, const json_t *args, uint64_t *seq)
{
	(void)seq;
	return prefix_listing(ctx, args, true);
}

/* Children of a prefix (strictly inside it), sorted (the walk's order). */
struct kids {
	const struct ipam_cidr *parent;
	struct ipam_cidr *v;
	size_t n, cap;
};

static int kids_cb(void *ctx, const struct ipam_prefix *p)
{
	struct kids *k = ctx;
	if (p->cidr.plen == k->parent->plen)
		return 0;
	if (k->n == k->cap) {
		size_t nc = k->cap ? k->cap * 2 : 16;
		void *nv = realloc(k->v, nc * sizeof(*k->v));
		if (!nv)
			return DDI_ENOMEM;
		k->v = nv;
		k->cap = nc;
	}
	k->v[k->n++] = p->cidr;
	return 0;
}

/* Utilization of c (from the allocations, in t) into a JSON object. */
static int util_json(struct icmd *q, struct store_ipam *t, const struct ipam_cidr *c, json_t **out)
{
	struct ic_space sp;
	struct ipam_util u;
	struct kids k = { .parent = c };
	ic_space_enter(q, t, &sp);
	int rc = ipam_utilization(sp.ops, sp.ctx, c, &u);
	ic_space_leave(&sp);
	if (rc == 0 && sp.l.err)
		rc = DDI_EIO;
	if (rc)
		return ic_fail(q, rc, "utilization: %s", ddi_strerror(rc));
	if ((rc = store_ipam_prefix_walk(t, c, kids_cb, &k)) != 0) {
		free(k.v);
		return ic_st_fail(q, t, rc);
	}
	ipam_u128 cov = ipam_children_coverage(c, k.v, k.n);
	ipam_u128 size = ipam_cidr_last(c) - ipam_cidr_first(c);
	size = size == ~(ipam_u128)0 ? size : size + 1;
	char pct[16], cpct[16], cb[IPAM_CIDR_STRLEN];
	ipam_percent_format(u.permyriad, pct, sizeof(pct));
	ipam_percent_format(ipam_permyriad(cov, size), cpct, sizeof(cpct));
	*out = json_pack("{s:s, s:o, s:o, s:s, s:I, s:o, s:s}", "prefix", ic_cidr_s(c, cb), "used",
	                 ic_u128_json(u.used), "total", ic_u128_json(u.total), "percent", pct, "children",
	                 (json_int_t)k.n, "children_coverage", ic_u128_json(cov), "children_percent",
	                 cpct);
	free(k.v);
	return *out ? DDI_EOK : DDI_ENOMEM;
}

struct pshow {
	struct icmd *q;
	struct ipam_cidr c;
	json_t *ranges;
};

static int range_in_cb(void *ctx, const struct ipam_range *r)
{
	struct pshow *s = ctx;
	if (ipam_range_within(&s->c, r))
		json_array_append_new(s->ranges, ipam_range_to_json(r));
	return 0;
}

static int prefix_show_tx(void *ctx, struct store_ipam *t)
{
	struct pshow *s = ctx;
	struct icmd *q = s->q;
	struct ipam_prefix p;
	char cb[IPAM_CIDR_STRLEN];
	int rc = store_ipam_prefix_get(t, &s->c, &p);
	if (rc == DDI_ENOENT)
		return ic_fail(q, rc, "no prefix %s", ic_cidr_s(&s->c, cb));
	if (rc)
		return ic_st_fail(q, t, rc);
	json_t *u = NULL;
	if ((rc = util_json(q, t, &s->c, &u)) != 0)
		return rc;
	s->ranges = json_array();
	if ((rc = store_ipam_range_walk(t, range_in_cb, s)) != 0) {
		json_decref(u);
		return ic_st_fail(q, t, rc);
	}
	q->out = json_pack("{s:o, s:o, s:O}", "prefix", ipam_prefix_to_json(&p), "utilization", u,
	                   "ranges", s->ranges);
	snprintf(q->text, sizeof(q->text), "prefix %s", cb);
	return DDI_EOK;
}

json_t *ipam_cmd_prefix_show(const struct cmd_ctx *ctx, const json_t *args, uint64_t *seq)
{
	(void)seq;
	struct icmd q = { .ctx = ctx, .args = args };
	struct pshow s = { .q = &q };
	struct store_error e;
	if (!ic_cidr(&q, "prefix", &s.c))
		return ic_reply(&q, q.code, NULL, 0);
	int rc = store_ipam_read(ctx->store, prefix_show_tx, &s, &e);
	json_decref(s.ranges);
	return ic_reply(&q, rc, &e, 0);
}

struct prem {
	struct icmd *q;
	struct ipam_cidr c;
	bool release;
	struct ipam_alloc *v;   /* the allocations of the prefix (not of a child prefix) */
	size_t n, cap;
	struct store_ipam *t;
};

/* An allocation inside the prefix whose deepest holding prefix is the prefix itself. */
static int prem_cb(void *ctx, const struct ipam_alloc *a)
{
	struct prem *r = ctx;
	struct ipam_prefix p;
	int rc = store_ipam_prefix_holding(r->t, a->family, a->addr, 128, &p);
	if (rc == DDI_ENOENT || (rc == 0 && ipam_cidr_cmp(&p.cidr, &r->c) != 0))
		return 0;
	if (rc)
		return rc;
	if (r->n == r->cap) {
		size_t nc = r->cap ? r->cap * 2 : 64;
		void *nv = realloc(r->v, nc * sizeof(*r->v));
		if (!nv)
			return DDI_ENOMEM;
		r->v = nv;
		r->cap = nc;
	}
	r->v[r->n++] = *a;
	return 0;
}

/* Release every collected allocation and its A/AAAA record (the PTR follows). */
static int prem_release(struct prem *r, struct store_ipam *t)
{
	for (size_t i = 0; i < r->n; i++) {
		const struct ipam_alloc *a = &r->v[i];
		int rc = store_ipam_alloc_del(t, a->family, a->addr);
		if (rc)
			return ic_st_fail(r->q, t, rc);
		if (a->name_len && store_ipam_addr_has_owner(t, a->family, a->addr, a->name) &&
		    (rc = ic_host_record(r->q, t, a->name, a->family, a->addr, false)) != 0)
			return rc;
	}
	return DDI_EOK;
}

static int prefix_remove_tx(void *ctx, struct store_ipam *t)
{
	struct prem *r = ctx;
	struct ipam_prefix p;
	char cb[IPAM_CIDR_STRLEN], ab[IPAM_ADDR_STRLEN];
	ic_cidr_s(&r->c, cb);
	r->t = t;
	int rc = store_ipam_prefix_get(t, &r->c, &p);
	if (rc == DDI_ENOENT)
		return ic_fail(r->q, rc, "no prefix %s", cb);
	if (rc)
		return ic_st_fail(r->q, t, rc);
	if ((rc = store_ipam_alloc_walk(t, &r->c, prem_cb, r)) != 0)
		return ic_st_fail(r->q, t, rc);
	if (r->n && !r->release)
		return ic_fail(r->q, DDI_ECONFLICT,
		               "prefix %s holds %zu allocation%s (the first is %s): release them, or "
		               "remove the prefix with --release to release them with it",
		               cb, r->n, r->n == 1 ? "" : "s",
		               ic_addr_s(r->v[0].family, r->v[0].addr, ab));
	if ((rc = prem_release(r, t)) != 0)
		return rc;
	if ((rc = store_ipam_prefix_del(t, &r->c)) != 0)
		return ic_st_fail(r->q, t, rc);
	r->q->out = json_pack("{s:o, s:I}", "prefix", ipam_prefix_to_json(&p), "released",
	                      (json_int_t)r->n);
	snprintf(r->q->text, sizeof(r->q->text), "prefix %s removed, %zu allocation%s released", cb,
	         r->n, r->n == 1 ? "" : "s");
	return DDI_EOK;
}

json_t *ipam_cmd_prefix_remove(const struct cmd_ctx *ctx, const json_t *args, uint64_t *seq)
{
	struct icmd q = { .ctx = ctx, .args = args };
	struct prem r = { .q = &q };
	struct store_error e;
	json_t *rel = json_object_get(args, "release");
	if (!ic_cidr(&q, "prefix", &r.c))
		return ic_reply(&q, q.code, NULL, 0);
	if (rel && !json_is_boolean(rel))
		return cmd_reply(CMD_ERROR, NULL, "argument \"release\" must be true or false");
	r.release = json_is_true(rel);
	int rc = store_ipam_write(ctx->store, NULL, ctx->actor, prefix_remove_tx, &r, seq, &e);
	free(r.v);
	return ic_reply(&q, rc, &e, *seq);
}

/* ------------------------------------------------------------------------ */
/* Ranges                                                                   */
/* ------------------------------------------------------------------------ */

struct radd {
	struct icmd *q;
	struct ipam_range r;
	const struct ipam_range *clash;
	struct ipam_range other;
};

static int range_clash_cb(void *ctx, const struct ipam_range *r)
{
	struct radd *a = ctx;
	if (ipam_range_overlap(&a->r, r)) {
		a->other = *r;
		return 1;
	}
	return 0;
}

static int range_add_tx(void *ctx, struct store_ipam *t)
{
	struct radd *a = ctx;
	struct icmd *q = a->q;
	struct ipam_prefix p;
	char fb[IPAM_ADDR_STRLEN], lb[IPAM_ADDR_STRLEN], ob1[IPAM_ADDR_STRLEN], ob2[IPAM_ADDR_STRLEN];
	ic_addr_s(a->r.family, a->r.first, fb);
	ic_addr_s(a->r.family, a->r.last, lb);
	int rc = store_ipam_prefix_holding(t, a->r.family, a->r.first, 128, &p);
	if (rc == DDI_ENOENT || (rc == 0 && !ipam_range_within(&p.cidr, &a->r)))
		return ic_fail(q, DDI_ENOENT, "no prefix holds the range %s-%s",
		             ic_addr_s(a->r.family, a->r.first, fb), ic_addr_s(a->r.family, a->r.last, lb));
	if (rc)
		return ic_st_fail(q, t, rc);
	rc = store_ipam_range_walk(t, range_clash_cb, a);
	if (rc == 1)
		return ic_fail(q, DDI_ECONFLICT, "the range %s-%s overlaps the range %s-%s",
		             ic_addr_s(a->r.family, a->r.first, fb), ic_addr_s(a->r.family, a->r.last, lb),
		             ic_addr_s(a->other.family, a->other.first, ob1),
		             ic_addr_s(a->other.family, a->other.last, ob2));
	if (rc)
		return ic_st_fail(q, t, rc);
	if ((rc = store_ipam_range_put(t, &a->r)) != 0)
		return ic_st_fail(q, t, rc);
	q->out = json_pack("{s:o}", "range", ipam_range_to_json(&a->r));
	snprintf(q->text, sizeof(q->text), "range %s-%s added", fb, lb);
	return DDI_EOK;
}

json_t *ipam_cmd_range_add(const struct cmd_ctx *ctx, const json_t *args, uint64_t *seq)
{
	struct icmd q = { .ctx = ctx, .args = args };
	struct radd a = { .q = &q };
	struct store_error e;
	int f1, f2;
	ipam_range_init(&a.r);
	if (!ic_addr(&q, "first", &f1, a.r.first) || !ic_addr(&q, "last", &f2, a.r.last) ||
	    !ic_desc(&q, a.r.description))
		return ic_reply(&q, q.code, NULL, 0);
	json_t *dyn = json_object_get(args, "dynamic");
	if (dyn && !json_is_boolean(dyn))
		return cmd_reply(CMD_ERROR, NULL, "argument \"dynamic\" must be true or false");
	a.r.dynamic = json_is_true(dyn);
	a.r.family = (uint8_t)f1;
	if (f1 != f2 || ipam_addr_to_u128(f1, a.r.first) > ipam_addr_to_u128(f2, a.r.last))
		return cmd_reply(CMD_ERROR, NULL, "first and last must be of one family, first <= last");
	a.r.created = a.r.updated = ic_now();
	int rc = store_ipam_write(ctx->store, NULL, ctx->actor, range_add_tx, &a, seq, &e);
	return ic_reply(&q, rc, &e, *seq);
}

/* ------------------------------------------------------------------------ */
/* Allocations                                                              */
/* ------------------------------------------------------------------------ */

struct aalloc {
	struct icmd *q;
	struct ipam_cidr prefix;     /* alloc-next */
	int family;                  /* alloc-address */
	uint8_t addr[16];
	bool next;
	const char *name;
	bool no_dns;                 /* allocate without publishing the name */
	struct ipam_alloc a;
	struct ipam_span *excl;
	size_t nexcl;
};

static int excl_cb(void *ctx, const struct ipam_range *r)
{
	struct aalloc *x = ctx;
	if (r->family != x->prefix.family)
		return 0;
	struct ipam_span s = ipam_range_span(r);
	if (s.last < ipam_cidr_first(&x->prefix) || s.first > ipam_cidr_last(&x->prefix))
		return 0;
	if (x->nexcl == IPAM_MAX_EXCL)
		return DDI_ELIMIT;
	x->excl[x->nexcl++] = s;
	return 0;
}

/* Record the allocation a->a (address set) for name and its A/AAAA record. */
static int alloc_commit(struct aalloc *x, struct store_ipam *t)
{
	struct icmd *q = x->q;
	struct ipam_error ie = { 0 };
	char ab[IPAM_ADDR_STRLEN], nb[DNS_NAME_STRLEN];
	int n = ipam_host_name(x->name, x->a.name, &ie);
	if (n < 0)
		return ic_fail(q, n, "%s", ie.msg);
	x->a.name_len = (uint8_t)n;
	dns_name_lower(x->a.name);
	x->a.created = x->a.updated = ic_now();
	snprintf(x->a.owner, sizeof(x->a.owner), "%s", q->ctx->actor ? q->ctx->actor : "");
	if (ipam_alloc_check(&x->a, &ie) < 0)
		return ic_fail(q, DDI_EINVAL, "%s", ie.msg);
	/* the name's A/AAAA goes into the served zone that holds it (an Infoblox host record) */
	uint8_t apex[DNS_NAME_MAXLEN];
	int rc;
	if (!x->no_dns && (rc = ic_name_zone(q, t, x->a.name, apex)) != 0)
		return rc;
	if ((rc = store_ipam_alloc_put(t, &x->a)) != 0)
		return ic_st_fail(q, t, rc);
	if (!x->no_dns && (rc = ic_host_record(q, t, x->a.name, x->a.family, x->a.addr, true)) != 0)
		return rc;
	q->out = json_pack("{s:s, s:s, s:o, s:b}", "address", ic_addr_s(x->a.family, x->a.addr, ab),
	                   "name", dns_name_to_str(nb, sizeof(nb), x->a.name) > 0 ? nb : "?",
	                   "allocation", ipam_alloc_to_json(&x->a), "published", !x->no_dns);
	snprintf(q->text, sizeof(q->text), "%s allocated to %.300s", ab, nb);
	return DDI_EOK;
}

static int alloc_next_tx(void *ctx, struct store_ipam *t)
{
	struct aalloc *x = ctx;
	struct icmd *q = x->q;
	struct ipam_prefix p;
	char cb[IPAM_CIDR_STRLEN];
	int rc = store_ipam_prefix_get(t, &x->prefix, &p);
	if (rc == DDI_ENOENT)
		return ic_fail(q, rc, "no prefix %s", ic_cidr_s(&x->prefix, cb));
	if (rc)
		return ic_st_fail(q, t, rc);
	x->nexcl = 0;
	if ((rc = store_ipam_range_walk(t, excl_cb, x)) != 0)
		return rc == DDI_ELIMIT ? ic_fail(q, rc, "too many ranges in %s", cb) : ic_st_fail(q, t, rc);
	x->nexcl = ipam_spans_normalize(x->excl, x->nexcl);
	/*
	 * Inside the write transaction: the index (or the allocations
	 * database) proposes, the allocations database checks, and no other
	 * writer can take the answer before this commit.
	 */
	struct ic_space sp;
	ic_space_enter(q, t, &sp);
	rc = ipam_next_free_checked(sp.ops, sp.ctx, &x->prefix, x->excl, x->nexcl, ipam_lmdb_taken,
	                            &sp.l, x->a.addr);
	ic_space_leave(&sp);
	if (rc == 0 && sp.l.err)
		rc = DDI_EIO;
	if (rc == DDI_EFULL)
		return ic_fail(q, rc, "prefix full: %s has no free address", ic_cidr_s(&x->prefix, cb));
	if (rc)
		return ic_fail(q, rc, "next free address of %s: %s", ic_cidr_s(&x->prefix, cb),
		             ddi_strerror(rc));
	x->a.family = x->prefix.family;
	return alloc_commit(x, t);
}

static int alloc_address_tx(void *ctx, struct store_ipam *t)
{
	struct aalloc *x = ctx;
	struct icmd *q = x->q;
	struct ipam_prefix p;
	struct ipam_alloc old;
	char ab[IPAM_ADDR_STRLEN], nb[DNS_NAME_STRLEN];
	int rc = store_ipam_prefix_holding(t, x->family, x->addr, 128, &p);
	if (rc == DDI_ENOENT)
		return ic_fail(q, rc, "no prefix holds %s", ic_addr_s(x->family, x->addr, ab));
	if (rc)
		return ic_st_fail(q, t, rc);
	rc = store_ipam_alloc_get(t, x->family, x->addr, &old);
	if (rc == 0) {
		if (old.name_len == 0 || dns_name_to_str(nb, sizeof(nb), old.name) < 0)
			snprintf(nb, sizeof(nb), "(no name, %s)", ipam_state_name(old.state));
		return ic_fail(q, DDI_ECONFLICT, "%s is already allocated to %s",
		             ic_addr_s(x->family, x->addr, ab), nb);
	}
	if (rc != DDI_ENOENT)
		return ic_st_fail(q, t, rc);
	if (!ipam_addr_usable(&p.cidr, x->family, x->addr))
		return ic_fail(q, DDI_EPOLICY, "%s cannot be handed out (network, broadcast or anycast)",
		             ic_addr_s(x->family, x->addr, ab));
	x->a.family = (uint8_t)x->family;
	memcpy(x->a.addr, x->addr, 16);
	return alloc_commit(x, t);
}

static bool alloc_args(struct icmd *q, struct aalloc *x)
{
	ipam_alloc_init(&x->a);
	x->a.state = IPAM_STATE_STATIC;
	x->name = ic_str(q, "name", true);
	bool meta;
	if (!x->name || !ic_desc(q, x->a.description) || !ic_meta(q, &x->a.meta, &meta))
		return false;
	json_t *nd = json_object_get(q->args, "no_dns");
	if (nd && !json_is_boolean(nd)) {
		ic_fail(q, DDI_EINVAL, "argument \"no_dns\" must be true or false");
		return false;
	}
	x->no_dns = json_is_true(nd);
	const char *mac = ic_str(q, "mac", false);
	if (q->err[0])
		return false;
	if (mac) {
		struct ipam_error ie = { 0 };
		if (ipam_mac_parse(mac, x->a.hw, &ie) < 0) {
			ic_fail(q, ie.code, "%s", ie.msg);
			return false;
		}
		x->a.hw_type = IPAM_HW_MAC;
		x->a.hw_len = 6;
	}
	return true;
}

json_t *ipam_cmd_alloc_next(const struct cmd_ctx *ctx, const json_t *args, uint64_t *seq)
{
	struct icmd q = { .ctx = ctx, .args = args };
	struct aalloc x = { .q = &q, .next = true };
	struct store_error e;
	if (!ic_cidr(&q, "prefix", &x.prefix) || !alloc_args(&q, &x))
		return ic_reply(&q, q.code, NULL, 0);
	if (!(x.excl = malloc(IPAM_MAX_EXCL * sizeof(*x.excl))))
		return cmd_reply(CMD_ERROR, NULL, "out of memory");
	int rc = store_ipam_write(ctx->store, NULL, ctx->actor, alloc_next_tx, &x, seq, &e);
	free(x.excl);
	return ic_reply(&q, rc, &e, *seq);
}

json_t *ipam_cmd_alloc_address(const struct cmd_ctx *ctx, const json_t *args, uint64_t *seq)
{
	struct icmd q = { .ctx = ctx, .args = args };
	struct aalloc x = { .q = &q };
	struct store_error e;
	if (!ic_addr(&q, "address", &x.family, x.addr) || !alloc_args(&q, &x))
		return ic_reply(&q, q.code, NULL, 0);
	int rc = store_ipam_write(ctx->store, NULL, ctx->actor, alloc_address_tx, &x, seq, &e);
	return ic_reply(&q, rc, &e, *seq);
}

struct aprefix {
	struct icmd *q;
	struct ipam_cidr parent;
	int plen;
	char desc[IPAM_DESC_MAX + 1];
};

static int alloc_prefix_tx(void *ctx, struct store_ipam *t)
{
	struct aprefix *x = ctx;
	struct icmd *q = x->q;
	struct ipam_prefix p, np;
	struct kids k = { .parent = &x->parent };
	char cb[IPAM_CIDR_STRLEN];
	int rc = store_ipam_prefix_get(t, &x->parent, &p);
	if (rc == DDI_ENOENT)
		return ic_fail(q, rc, "no prefix %s", ic_cidr_s(&x->parent, cb));
	if (rc)
		return ic_st_fail(q, t, rc);
	if ((rc = store_ipam_prefix_walk(t, &x->parent, kids_cb, &k)) != 0) {
		free(k.v);
		return ic_st_fail(q, t, rc);
	}
	ipam_prefix_init(&np);
	rc = ipam_next_free_child(&x->parent, x->plen, k.v, k.n, &np.cidr);
	free(k.v);
	if (rc == DDI_EFULL)
		return ic_fail(q, rc, "prefix full: %s has no free /%d", ic_cidr_s(&x->parent, cb), x->plen);
	if (rc)
		return ic_fail(q, rc, "/%d is not a child length of %s", x->plen,
		             ic_cidr_s(&x->parent, cb));
	/* the child inherits its parent's zone and DNS policy */
	np.policy = p.policy;
	np.zone_len = p.zone_len;
	memcpy(np.zone, p.zone, p.zone_len);
	memcpy(np.description, x->desc, sizeof(np.description));
	np.created = np.updated = ic_now();
	if ((rc = store_ipam_prefix_put(t, &np)) != 0)
		return ic_st_fail(q, t, rc);
	json_t *created = json_array();
	if ((rc = ic_reverse_zones(q, t, &np.cidr, created)) != 0) {
		json_decref(created);
		return rc;
	}
	q->out = json_pack("{s:o, s:o}", "prefix", ipam_prefix_to_json(&np), "reverse_zones",
	                   created);
	snprintf(q->text, sizeof(q->text), "prefix %s allocated", ic_cidr_s(&np.cidr, cb));
	return DDI_EOK;
}

json_t *ipam_cmd_alloc_prefix(const struct cmd_ctx *ctx, const json_t *args, uint64_t *seq)
{
	struct icmd q = { .ctx = ctx, .args = args };
	struct aprefix x = { .q = &q };
	struct store_error e;
	if (!ic_cidr(&q, "parent", &x.parent) || !ic_desc(&q, x.desc))
		return ic_reply(&q, q.code, NULL, 0);
	json_t *len = json_object_get(args, "length");
	if (json_is_string(len)) {
		char *end;
		long v = strtol(json_string_value(len), &end, 10);
		if (*end || !json_string_value(len)[0] || v < 0 || v > 128)
			return cmd_reply(CMD_ERROR, NULL, "argument \"length\" must be 0..128");
		x.plen = (int)v;
	} else if (json_is_integer(len) && json_integer_value(len) >= 0 &&
	           json_integer_value(len) <= 128) {
		x.plen = (int)json_integer_value(len);
	} else {
		return cmd_reply(CMD_ERROR, NULL, "argument \"length\" must be 0..128");
	}
	int rc = store_ipam_write(ctx->store, NULL, ctx->actor, alloc_prefix_tx, &x, seq, &e);
	return ic_reply(&q, rc, &e, *seq);
}

struct arel {
	struct icmd *q;
	int family;
	uint8_t addr[16];
};

static int release_tx(void *ctx, struct store_ipam *t)
{
	struct arel *x = ctx;
	struct icmd *q = x->q;
	struct ipam_alloc a;
	char ab[IPAM_ADDR_STRLEN];
	int rc = store_ipam_alloc_get(t, x->family, x->addr, &a);
	if (rc == DDI_ENOENT)
		return ic_fail(q, rc, "%s is not allocated", ic_addr_s(x->family, x->addr, ab));
	if (rc)
		return ic_st_fail(q, t, rc);
	if ((rc = store_ipam_alloc_del(t, x->family, x->addr)) != 0)
		return ic_st_fail(q, t, rc);
	if (a.name_len && store_ipam_addr_has_owner(t, x->family, x->addr, a.name) &&
	    (rc = ic_host_record(q, t, a.name, x->family, x->addr, false)) != 0)
		return rc;
	q->out = json_pack("{s:o}", "allocation", ipam_alloc_to_json(&a));
	snprintf(q->text, sizeof(q->text), "%s released", ic_addr_s(x->family, x->addr, ab));
	return DDI_EOK;
}

json_t *ipam_cmd_release(const struct cmd_ctx *ctx, const json_t *args, uint64_t *seq)
{
	struct icmd q = { .ctx = ctx, .args = args };
	struct arel x = { .q = &q };
	struct store_error e;
	if (!ic_addr(&q, "address", &x.family, x.addr))
		return ic_reply(&q, q.code, NULL, 0);
	int rc = store_ipam_write(ctx->store, NULL, ctx->actor, release_tx, &x, seq, &e);
	return ic_reply(&q, rc, &e, *seq);
}

struct ashow {
	struct icmd *q;
	int family;
	uint8_t addr[16];
	json_t *owners;
};

static int owners_cb(void *ctx, int family, const uint8_t addr[16], const uint8_t *owner)
{
	struct ashow *s = ctx;
	char nb[DNS_NAME_STRLEN];
	if (family == s->family && memcmp(addr, s->addr, 16) == 0 &&
	    dns_name_to_str(nb, sizeof(nb), owner) > 0)
		json_array_append_new(s->owners, json_string(nb));
	return 0;
}

static int address_show_tx(void *ctx, struct store_ipam *t)
{
	struct ashow *s = ctx;
	struct icmd *q = s->q;
	struct ipam_alloc a;
	struct ipam_prefix p;
	char ab[IPAM_ADDR_STRLEN];
	int ra = store_ipam_alloc_get(t, s->family, s->addr, &a);
	if (ra && ra != DDI_ENOENT)
		return ic_st_fail(q, t, ra);
	int rp = store_ipam_prefix_holding(t, s->family, s->addr, 128, &p);
	if (rp && rp != DDI_ENOENT)
		return ic_st_fail(q, t, rp);
	s->owners = json_array();
	/* the owners: one lookup in the addresses database would do; the walk is simpler */
	int rc = store_ipam_addr_walk(t, owners_cb, s);
	if (rc)
		return ic_st_fail(q, t, rc);
	q->out = json_pack("{s:s, s:o, s:o, s:O}", "address", ic_addr_s(s->family, s->addr, ab),
	                   "allocation", ra == 0 ? ipam_alloc_to_json(&a) : json_null(), "prefix",
	                   rp == 0 ? ipam_prefix_to_json(&p) : json_null(), "names", s->owners);
	snprintf(q->text, sizeof(q->text), "%s %s", ab, ra == 0 ? ipam_state_name(a.state) : "free");
	return DDI_EOK;
}

json_t *ipam_cmd_address_show(const struct cmd_ctx *ctx, const json_t *args, uint64_t *seq)
{
	(void)seq;
	struct icmd q = { .ctx = ctx, .args = args };
	struct ashow s = { .q = &q };
	struct store_error e;
	if (!ic_addr(&q, "address", &s.family, s.addr))
		return ic_reply(&q, q.code, NULL, 0);
	int rc = store_ipam_read(ctx->store, address_show_tx, &s, &e);
	json_decref(s.owners);
	return ic_reply(&q, rc, &e, 0);
}

struct util {
	struct icmd *q;
	struct ipam_cidr c;
};

static int utilization_tx(void *ctx, struct store_ipam *t)
{
	struct util *u = ctx;
	char cb[IPAM_CIDR_STRLEN];
	json_t *j = NULL;
	int rc = util_json(u->q, t, &u->c, &j);
	if (rc)
		return rc;
	u->q->out = j;
	snprintf(u->q->text, sizeof(u->q->text), "%s: %s%% used", ic_cidr_s(&u->c, cb),
	         json_string_value(json_object_get(j, "percent")));
	return DDI_EOK;
}

json_t *ipam_cmd_utilization(const struct cmd_ctx *ctx, const json_t *args, uint64_t *seq)
{
	(void)seq;
	struct icmd q = { .ctx = ctx, .args = args };
	struct util u = { .q = &q };
	struct store_error e;
	if (!ic_cidr(&q, "prefix", &u.c))
		return ic_reply(&q, q.code, NULL, 0);
	int rc = store_ipam_read(ctx->store, utilization_tx, &u, &e);
	return ic_reply(&q, rc, &e, 0);
}

/* ------------------------------------------------------------------------ */
/* Conflicts                                                                */
/* ------------------------------------------------------------------------ */

struct confl {
	struct icmd *q;
	struct store_ipam *t;
	json_t *arr;
	struct ipam_range *r;
	size_t nr, capr;
};

/* A row of the report the principal sees: its address in its prefixes, its name in its zones. */
static bool confl_seen(const struct confl *c, int family, const uint8_t addr[16],
                       const uint8_t *name)
{
	return cmd_sees_prefix(c->q->ctx, family, addr, family == 4 ? 32 : 128) &&
	       (!name || cmd_sees_name(c->q->ctx, name));
}

static bool range_seen(const struct confl *c, const struct ipam_range *r)
{
	return confl_seen(c, r->family, r->first, NULL) && confl_seen(c, r->family, r->last, NULL);
}

static int confl_addr_cb(void *ctx, int family, const uint8_t addr[16], const uint8_t *owner)
{
	struct confl *c = ctx;
	struct ipam_prefix p;
	if (!confl_seen(c, family, addr, owner))
		return 0;   /* another tenant's address or name */
	struct ipam_alloc a;
	struct ipam_error ie = { 0 };
	char ab[IPAM_ADDR_STRLEN], nb[DNS_NAME_STRLEN];
	int rp = store_ipam_prefix_holding(c->t, family, addr, 128, &p);
	if (rp == DDI_ENOENT)
		return 0;
	if (rp)
		return rp;
	int ra = store_ipam_alloc_get(c->t, family, addr, &a);
	if (ra && ra != DDI_ENOENT)
		return ra;
	/* policy off still reports: the report is about IPAM and DNS disagreeing */
	struct ipam_prefix chk = p;
	if (chk.policy == IPAM_POLICY_OFF)
		chk.policy = IPAM_POLICY_STRICT;
	int v = ipam_record_verdict(&chk, ra == 0 ? &a : NULL, owner, family, addr, &ie);
	if (v < 0)
		json_array_append_new(c->arr, json_pack("{s:s, s:s, s:s, s:s}", "kind",
		                                        v == DDI_ECONFLICT ? "record-conflict"
		                                                           : "record-unallocated",
		                                        "address", ic_addr_s(family, addr, ab), "name",
		                                        dns_name_to_str(nb, sizeof(nb), owner) > 0 ? nb
		                                                                                  : "?",
		                                        "reason", ie.msg));
	return 0;
}

static int confl_alloc_cb(void *ctx, const struct ipam_alloc *a)
{
	struct confl *c = ctx;
	char ab[IPAM_ADDR_STRLEN], nb[DNS_NAME_STRLEN];
	if (a->name_len == 0 || !confl_seen(c, a->family, a->addr, a->name) ||
	    store_ipam_addr_has_owner(c->t, a->family, a->addr, a->name))
		return 0;
	if (dns_name_to_str(nb, sizeof(nb), a->name) < 0)
		return 0;
	char reason[512];
	snprintf(reason, sizeof(reason), "%s is allocated to %.300s, which has no %s record for it",
	         ic_addr_s(a->family, a->addr, ab), nb, a->family == 4 ? "A" : "AAAA");
	json_array_append_new(c->arr, json_pack("{s:s, s:s, s:s, s:s}", "kind", "allocation-no-record",
	                                        "address", ab, "name", nb, "reason", reason));
	return 0;
}

static int confl_range_cb(void *ctx, const struct ipam_range *r)
{
	struct confl *c = ctx;
	char a1[IPAM_ADDR_STRLEN], a2[IPAM_ADDR_STRLEN], b1[IPAM_ADDR_STRLEN], b2[IPAM_ADDR_STRLEN];
	for (size_t i = 0; i < c->nr; i++) {
		if (!ipam_range_overlap(&c->r[i], r) || !range_seen(c, r) || !range_seen(c, &c->r[i]))
			continue;   /* both ranges inside the principal's prefixes, or not shown */
		char reason[512];
		snprintf(reason, sizeof(reason), "the range %s-%s overlaps the range %s-%s",
		         ic_addr_s(r->family, r->first, a1), ic_addr_s(r->family, r->last, a2),
		         ic_addr_s(c->r[i].family, c->r[i].first, b1),
		         ic_addr_s(c->r[i].family, c->r[i].last, b2));
		json_array_append_new(c->arr, json_pack("{s:s, s:s, s:s}", "kind", "range-overlap",
		                                        "address", a1, "reason", reason));
	}
	if (c->nr == c->capr) {
		size_t nc = c->capr ? c->capr * 2 : 16;
		void *nv = realloc(c->r, nc * sizeof(*c->r));
		if (!nv)
			return DDI_ENOMEM;
		c->r = nv;
		c->capr = nc;
	}
	c->r[c->nr++] = *r;
	return 0;
}

static int conflicts_tx(void *ctx, struct store_ipam *t)
{
	struct confl *c = ctx;
	c->t = t;
	int rc = store_ipam_addr_walk(t, confl_addr_cb, c);
	if (rc == 0)
		rc = store_ipam_alloc_walk(t, NULL, confl_alloc_cb, c);
	if (rc == 0)
		rc = store_ipam_range_walk(t, confl_range_cb, c);
	return rc ? ic_st_fail(c->q, t, rc) : DDI_EOK;
}

json_t *ipam_cmd_conflicts(const struct cmd_ctx *ctx, const json_t *args, uint64_t *seq)
{
	(void)seq;
	struct icmd q = { .ctx = ctx, .args = args };
	struct confl c = { .q = &q, .arr = json_array() };
	struct store_error e;
	int rc = store_ipam_read(ctx->store, conflicts_tx, &c, &e);
	free(c.r);
	if (rc) {
		json_decref(c.arr);
		return ic_reply(&q, rc, &e, 0);
	}
	size_t n = json_array_size(c.arr);
	return cmd_reply(n ? CMD_OK : CMD_EMPTY, json_pack("{s:o}", "conflicts", c.arr),
	                 "%zu conflict%s", n, n == 1 ? "" : "s");
}

const struct cmd_def ipam_cmds[] = {
	{ "prefix-add", CMD_ROLE_ADMIN, ipam_cmd_prefix_add },
	{ "prefix-list", CMD_ROLE_READ, ipam_cmd_prefix_list },
	{ "prefix-tree", CMD_ROLE_READ, ipam_cmd_prefix_tree },
	{ "prefix-show", CMD_ROLE_READ, ipam_cmd_prefix_show },
	{ "prefix-remove", CMD_ROLE_ADMIN, ipam_cmd_prefix_remove },
	{ "prefix-edit", CMD_ROLE_ADMIN, ipam_cmd_prefix_edit },
	{ "range-add", CMD_ROLE_ADMIN, ipam_cmd_range_add },
	{ "range-list", CMD_ROLE_READ, ipam_cmd_range_list },
	{ "range-edit", CMD_ROLE_ADMIN, ipam_cmd_range_edit },
	{ "range-remove", CMD_ROLE_ADMIN, ipam_cmd_range_remove },
	{ "alloc-next", CMD_ROLE_ADMIN, ipam_cmd_alloc_next },
	{ "alloc-address", CMD_ROLE_ADMIN, ipam_cmd_alloc_address },
	{ "alloc-prefix", CMD_ROLE_ADMIN, ipam_cmd_alloc_prefix },
	{ "alloc-reserve", CMD_ROLE_ADMIN, ipam_cmd_alloc_reserve },
	{ "alloc-list", CMD_ROLE_READ, ipam_cmd_alloc_list },
	{ "alloc-edit", CMD_ROLE_ADMIN, ipam_cmd_alloc_edit },
	{ "release", CMD_ROLE_ADMIN, ipam_cmd_release },
	{ "address-show", CMD_ROLE_READ, ipam_cmd_address_show },
	{ "utilization", CMD_ROLE_READ, ipam_cmd_utilization },
	{ "conflicts", CMD_ROLE_READ, ipam_cmd_conflicts },
	{ "ipam-import", CMD_ROLE_ADMIN, ipam_cmd_import },
	{ "ipam-export", CMD_ROLE_READ, ipam_cmd_export },
};
const size_t ipam_ncmds = sizeof(ipam_cmds) / sizeof(ipam_cmds[0]);
