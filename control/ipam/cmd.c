/* ipam_cmd -- the IPAM control commands: JSON arguments -> one store_ipam transaction -> JSON reply */
#include "control/ipam/cmd.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "control/ipam/ipam.h"
#include "control/ipam/csv.h"
#include "control/ipam/lmdb.h"
#include "control/store/store.h"
#include "dns/errcode.h"
#include "dns/name.h"
#include "dns/rdata.h"
#include "dns/wire.h"

#define IPAM_TTL 3600         /* TTL of the A/AAAA records an allocation writes */
#define IPAM_MAX_EXCL 4096    /* ranges excluded from one next-free search */

/* ------------------------------------------------------------------------ */
/* Small helpers                                                            */
/* ------------------------------------------------------------------------ */

static uint64_t now_s(void)
{
	return (uint64_t)time(NULL);
}

static json_t *u128_json(ipam_u128 v)
{
	if (v <= (ipam_u128)INT64_MAX)
		return json_integer((json_int_t)v);
	char b[48];
	ipam_u128_format(v, b, sizeof(b));
	return json_string(b);
}

/* A request being served: arguments, a reason for failures. */
struct icmd {
	const struct cmd_ctx *ctx;
	const json_t *args;
	char err[1024];
	int code;          /* DDI_* of the failure */
	json_t *out;       /* reply arguments being built */
	const char *what;  /* text of the OK reply */
	char text[512];
};

static int ifail(struct icmd *q, int code, const char *fmt, ...) __attribute__((format(printf, 3, 4)));

static int ifail(struct icmd *q, int code, const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(q->err, sizeof(q->err), fmt, ap);
	va_end(ap);
	q->code = code;
	return code;
}

static const char *a_str(struct icmd *q, const char *key, bool required)
{
	json_t *v = json_object_get(q->args, key);
	if (!v || json_is_null(v)) {
		if (required)
			ifail(q, DDI_EINVAL, "missing argument \"%s\"", key);
		return NULL;
	}
	if (!json_is_string(v)) {
		ifail(q, DDI_EINVAL, "argument \"%s\" must be a string", key);
		return NULL;
	}
	return json_string_value(v);
}

static bool a_cidr(struct icmd *q, const char *key, struct ipam_cidr *c)
{
	const char *s = a_str(q, key, true);
	struct ipam_error e = { 0 };
	if (!s)
		return false;
	if (ipam_cidr_parse(s, c, &e) < 0) {
		ifail(q, e.code, "%s", e.msg);
		return false;
	}
	return true;
}

static bool a_addr(struct icmd *q, const char *key, int *family, uint8_t addr[16])
{
	const char *s = a_str(q, key, true);
	struct ipam_error e = { 0 };
	if (!s)
		return false;
	if (ipam_addr_parse(s, family, addr, &e) < 0) {
		ifail(q, e.code, "%s", e.msg);
		return false;
	}
	return true;
}

static bool a_desc(struct icmd *q, char out[IPAM_DESC_MAX + 1])
{
	const char *s = a_str(q, "description", false);
	if (q->err[0])
		return false;
	if (s && strlen(s) > IPAM_DESC_MAX) {
		ifail(q, DDI_EINVAL, "description longer than %d bytes", IPAM_DESC_MAX);
		return false;
	}
	if (s)
		snprintf(out, IPAM_DESC_MAX + 1, "%s", s);
	return true;
}

/* The reply of a request after its transaction returned rc. */
static json_t *ireply(struct icmd *q, int rc, struct store_error *e, uint64_t seq)
{
	if (rc) {
		json_decref(q->out);
		const char *msg = q->err[0] ? q->err : e && e->msg[0] ? e->msg : ddi_strerror(rc);
		return cmd_reply(CMD_ERROR, NULL, "%s", msg);
	}
	json_t *args = q->out ? q->out : json_object();
	if (seq && args)
		json_object_set_new(args, "seq", json_integer((json_int_t)seq));
	return cmd_reply(CMD_OK, args, "%s", q->text);
}

/* Keep the store's reason when a store call failed without ours. */
static int st_fail(struct icmd *q, struct store_ipam *t, int rc)
{
	if (!q->err[0]) {
		struct store_error *e = store_ipam_error(t);
		ifail(q, rc, "%s", e->msg[0] ? e->msg : ddi_strerror(rc));
	}
	return rc;
}

static const char *cidr_s(const struct ipam_cidr *c, char b[IPAM_CIDR_STRLEN])
{
	if (ipam_cidr_format(c, b, IPAM_CIDR_STRLEN) < 0)
		snprintf(b, IPAM_CIDR_STRLEN, "?");
	return b;
}

static const char *addr_s(int family, const uint8_t *a, char b[IPAM_ADDR_STRLEN])
{
	if (ipam_addr_format(family, a, b, IPAM_ADDR_STRLEN) < 0)
		snprintf(b, IPAM_ADDR_STRLEN, "?");
	return b;
}

/*
 * The "used addresses" oracle: the server's published index when the
 * hooks give one (O(prefix length) counts), else the allocations database
 * (ddictl --db: a cursor walk). space_leave() must follow space_enter().
 */
struct space {
	const struct ipam_space_ops *ops;
	void *ctx;
	struct ipam_lmdb l;
	const struct cmd_hooks *h;
};

static void space_enter(struct icmd *q, struct store_ipam *t, struct space *sp)
{
	store_ipam_oracle(t, &sp->l);
	sp->h = q->ctx->hooks;
	const struct idx_version *v = NULL;
	if (sp->h && sp->h->index_enter && sp->h->index_leave)
		v = sp->h->index_enter(sp->h->ctx);
	if (!v)
		sp->h = NULL;
	sp->ops = v ? &ipam_index_ops : &ipam_lmdb_ops;
	sp->ctx = v ? (void *)v : (void *)&sp->l;
}

static void space_leave(struct space *sp)
{
	if (sp->h)
		sp->h->index_leave(sp->h->ctx);
	sp->h = NULL;
}

/* ------------------------------------------------------------------------ */
/* Reverse zones and DNS records                                            */
/* ------------------------------------------------------------------------ */

/* Create every missing reverse zone of prefix c (SOA only: PTRs come from the index). */
static int reverse_zones(struct icmd *q, struct store_ipam *t, const struct ipam_cidr *c,
                         json_t *created)
{
	struct ipam_cidr z[256];
	size_t n = 0;
	int rc = ipam_reverse_zones(c, z, 256, &n);
	if (rc < 0)
		return ifail(q, rc, "no reverse zones for this prefix");
	for (size_t i = 0; i < n; i++) {
		uint8_t apex[DNS_NAME_MAXLEN], rd[2 + 2 * DNS_NAME_MAXLEN + 20];
		if (ipam_reverse_name(&z[i], apex) < 0)
			return ifail(q, DDI_EINVAL, "no reverse name");
		if (store_ipam_zone_exists(t, apex))
			continue;
		/* SOA: MNAME the apex, RNAME hostmaster.<apex> (fits: reverse apexes are short) */
		size_t al = dns_name_len(apex), off = 2;
		memcpy(rd + off, apex, al);
		off += al;
		static const uint8_t hm[] = { 10, 'h', 'o', 's', 't', 'm', 'a', 's', 't', 'e', 'r' };
		if (al + sizeof(hm) > DNS_NAME_MAXLEN)
			return ifail(q, DDI_EINVAL, "reverse zone name too long");
		memcpy(rd + off, hm, sizeof(hm));
		memcpy(rd + off + sizeof(hm), apex, al);
		off += sizeof(hm) + al;
		static const uint32_t nums[5] = { 1, 3600, 900, 1209600, 300 };
		for (int k = 0; k < 5; k++, off += 4)
			dns_put32(rd + off, nums[k]);
		dns_put16(rd, (uint16_t)(off - 2));
		struct store_op ops[2] = {
			{ .kind = STORE_OP_ZONE_ADD, .zone = apex },
			{ .kind = STORE_OP_RRSET_REPLACE, .zone = apex, .owner = apex, .type = DNS_T_SOA,
			  .ttl = IPAM_TTL, .count = 1, .rdatas = rd, .rdatas_len = off },
		};
		if ((rc = store_ipam_dns(t, ops, 2)) != 0)
			return st_fail(q, t, rc);
		char nb[DNS_NAME_STRLEN];
		if (created && dns_name_to_str(nb, sizeof(nb), apex) > 0)
			json_array_append_new(created, json_string(nb));
	}
	return DDI_EOK;
}

/* Add (add) or delete the A/AAAA record name -> addr in the same transaction. */
static int host_record(struct icmd *q, struct store_ipam *t, const uint8_t *name, int family,
                       const uint8_t addr[16], bool add)
{
	uint8_t rd[18];
	size_t n = family == 4 ? 4 : 16;
	dns_put16(rd, (uint16_t)n);
	memcpy(rd + 2, addr, n);
	struct store_op op = { .kind = add ? STORE_OP_RR_ADD : STORE_OP_RR_DELETE,
	                       .flags = add ? 0 : STORE_OPF_MISSING_OK, .owner = name,
	                       .type = family == 4 ? DNS_T_A : DNS_T_AAAA, .ttl = IPAM_TTL,
	                       .count = 1, .rdatas = rd, .rdatas_len = n + 2 };
	int rc = store_ipam_dns(t, &op, 1);
	return rc ? st_fail(q, t, rc) : DDI_EOK;
}

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
		return ifail(q, DDI_EEXIST, "prefix %s exists", cidr_s(&a->p.cidr, cb));
	if (rc != DDI_ENOENT)
		return st_fail(q, t, rc);
	if ((rc = store_ipam_prefix_put(t, &a->p)) != 0)
		return st_fail(q, t, rc);
	json_t *created = json_array();
	if ((rc = reverse_zones(q, t, &a->p.cidr, created)) != 0) {
		json_decref(created);
		return rc;
	}
	q->out = json_pack("{s:o, s:o}", "prefix", ipam_prefix_to_json(&a->p), "reverse_zones",
	                   created);
	snprintf(q->text, sizeof(q->text), "prefix %s added", cidr_s(&a->p.cidr, cb));
	return DDI_EOK;
}

json_t *ipam_cmd_prefix_add(const struct cmd_ctx *ctx, const json_t *args, uint64_t *seq)
{
	struct icmd q = { .ctx = ctx, .args = args };
	struct padd a = { .q = &q };
	struct store_error e;
	ipam_prefix_init(&a.p);
	if (!a_cidr(&q, "prefix", &a.p.cidr) || !a_desc(&q, a.p.description))
		return ireply(&q, q.code, NULL, 0);
	const char *zone = a_str(&q, "zone", false), *pol = a_str(&q, "policy", false),
	           *st = a_str(&q, "status", false);
	if (q.err[0])
		return ireply(&q, q.code, NULL, 0);
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
	a.p.created = a.p.updated = now_s();
	struct ipam_error ie = { 0 };
	if (ipam_prefix_check(&a.p, &ie) < 0)
		return cmd_reply(CMD_ERROR, NULL, "%s", ie.msg);
	int rc = store_ipam_write(ctx->store, NULL, ctx->actor, prefix_add_tx, &a, seq, &e);
	return ireply(&q, rc, &e, *seq);
}

struct plist {
	json_t *arr;
	struct ipam_cidr stack[130];
	size_t depth;
	bool tree;
	const struct ipam_cidr *root;
};

static int plist_cb(void *ctx, const struct ipam_prefix *p)
{
	struct plist *l = ctx;
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
	struct plist l = { .arr = json_array(), .tree = tree };
	struct ipam_cidr root;
	struct store_error e;
	if (tree && json_object_get(args, "prefix")) {
		if (!a_cidr(&q, "prefix", &root)) {
			json_decref(l.arr);
			return ireply(&q, q.code, NULL, 0);
		}
		l.root = &root;
	}
	int rc = store_ipam_read(ctx->store, plist_tx, &l, &e);
	if (rc) {
		json_decref(l.arr);
		return ireply(&q, rc, &e, 0);
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
	struct space sp;
	struct ipam_util u;
	struct kids k = { .parent = c };
	space_enter(q, t, &sp);
	int rc = ipam_utilization(sp.ops, sp.ctx, c, &u);
	space_leave(&sp);
	if (rc == 0 && sp.l.err)
		rc = DDI_EIO;
	if (rc)
		return ifail(q, rc, "utilization: %s", ddi_strerror(rc));
	if ((rc = store_ipam_prefix_walk(t, c, kids_cb, &k)) != 0) {
		free(k.v);
		return st_fail(q, t, rc);
	}
	ipam_u128 cov = ipam_children_coverage(c, k.v, k.n);
	ipam_u128 size = ipam_cidr_last(c) - ipam_cidr_first(c);
	size = size == ~(ipam_u128)0 ? size : size + 1;
	char pct[16], cpct[16], cb[IPAM_CIDR_STRLEN];
	ipam_percent_format(u.permyriad, pct, sizeof(pct));
	ipam_percent_format(ipam_permyriad(cov, size), cpct, sizeof(cpct));
	*out = json_pack("{s:s, s:o, s:o, s:s, s:I, s:o, s:s}", "prefix", cidr_s(c, cb), "used",
	                 u128_json(u.used), "total", u128_json(u.total), "percent", pct, "children",
	                 (json_int_t)k.n, "children_coverage", u128_json(cov), "children_percent",
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
		return ifail(q, rc, "no prefix %s", cidr_s(&s->c, cb));
	if (rc)
		return st_fail(q, t, rc);
	json_t *u = NULL;
	if ((rc = util_json(q, t, &s->c, &u)) != 0)
		return rc;
	s->ranges = json_array();
	if ((rc = store_ipam_range_walk(t, range_in_cb, s)) != 0) {
		json_decref(u);
		return st_fail(q, t, rc);
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
	if (!a_cidr(&q, "prefix", &s.c))
		return ireply(&q, q.code, NULL, 0);
	int rc = store_ipam_read(ctx->store, prefix_show_tx, &s, &e);
	json_decref(s.ranges);
	return ireply(&q, rc, &e, 0);
}

struct prem {
	struct icmd *q;
	struct ipam_cidr c;
};

static int prefix_remove_tx(void *ctx, struct store_ipam *t)
{
	struct prem *r = ctx;
	char cb[IPAM_CIDR_STRLEN];
	int rc = store_ipam_prefix_del(t, &r->c);
	if (rc == DDI_ENOENT)
		return ifail(r->q, rc, "no prefix %s", cidr_s(&r->c, cb));
	if (rc)
		return st_fail(r->q, t, rc);
	snprintf(r->q->text, sizeof(r->q->text), "prefix %s removed", cidr_s(&r->c, cb));
	return DDI_EOK;
}

json_t *ipam_cmd_prefix_remove(const struct cmd_ctx *ctx, const json_t *args, uint64_t *seq)
{
	struct icmd q = { .ctx = ctx, .args = args };
	struct prem r = { .q = &q };
	struct store_error e;
	if (!a_cidr(&q, "prefix", &r.c))
		return ireply(&q, q.code, NULL, 0);
	int rc = store_ipam_write(ctx->store, NULL, ctx->actor, prefix_remove_tx, &r, seq, &e);
	return ireply(&q, rc, &e, *seq);
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
	int rc = store_ipam_prefix_holding(t, a->r.family, a->r.first, 128, &p);
	if (rc == DDI_ENOENT || (rc == 0 && !ipam_range_within(&p.cidr, &a->r)))
		return ifail(q, DDI_ENOENT, "no prefix holds the range %s-%s",
		             addr_s(a->r.family, a->r.first, fb), addr_s(a->r.family, a->r.last, lb));
	if (rc)
		return st_fail(q, t, rc);
	rc = store_ipam_range_walk(t, range_clash_cb, a);
	if (rc == 1)
		return ifail(q, DDI_ECONFLICT, "the range %s-%s overlaps the range %s-%s",
		             addr_s(a->r.family, a->r.first, fb), addr_s(a->r.family, a->r.last, lb),
		             addr_s(a->other.family, a->other.first, ob1),
		             addr_s(a->other.family, a->other.last, ob2));
	if (rc)
		return st_fail(q, t, rc);
	if ((rc = store_ipam_range_put(t, &a->r)) != 0)
		return st_fail(q, t, rc);
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
	if (!a_addr(&q, "first", &f1, a.r.first) || !a_addr(&q, "last", &f2, a.r.last) ||
	    !a_desc(&q, a.r.description))
		return ireply(&q, q.code, NULL, 0);
	json_t *dyn = json_object_get(args, "dynamic");
	if (dyn && !json_is_boolean(dyn))
		return cmd_reply(CMD_ERROR, NULL, "argument \"dynamic\" must be true or false");
	a.r.dynamic = json_is_true(dyn);
	a.r.family = (uint8_t)f1;
	if (f1 != f2 || ipam_addr_to_u128(f1, a.r.first) > ipam_addr_to_u128(f2, a.r.last))
		return cmd_reply(CMD_ERROR, NULL, "first and last must be of one family, first <= last");
	a.r.created = a.r.updated = now_s();
	int rc = store_ipam_write(ctx->store, NULL, ctx->actor, range_add_tx, &a, seq, &e);
	return ireply(&q, rc, &e, *seq);
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
		return ifail(q, n, "%s", ie.msg);
	x->a.name_len = (uint8_t)n;
	dns_name_lower(x->a.name);
	x->a.created = x->a.updated = now_s();
	snprintf(x->a.owner, sizeof(x->a.owner), "%s", q->ctx->actor ? q->ctx->actor : "");
	if (ipam_alloc_check(&x->a, &ie) < 0)
		return ifail(q, DDI_EINVAL, "%s", ie.msg);
	int rc = store_ipam_alloc_put(t, &x->a);
	if (rc)
		return st_fail(q, t, rc);
	if ((rc = host_record(q, t, x->a.name, x->a.family, x->a.addr, true)) != 0)
		return rc;
	q->out = json_pack("{s:s, s:s, s:o}", "address", addr_s(x->a.family, x->a.addr, ab), "name",
	                   dns_name_to_str(nb, sizeof(nb), x->a.name) > 0 ? nb : "?", "allocation",
	                   ipam_alloc_to_json(&x->a));
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
		return ifail(q, rc, "no prefix %s", cidr_s(&x->prefix, cb));
	if (rc)
		return st_fail(q, t, rc);
	x->nexcl = 0;
	if ((rc = store_ipam_range_walk(t, excl_cb, x)) != 0)
		return rc == DDI_ELIMIT ? ifail(q, rc, "too many ranges in %s", cb) : st_fail(q, t, rc);
	x->nexcl = ipam_spans_normalize(x->excl, x->nexcl);
	/*
	 * Inside the write transaction: the index (or the allocations
	 * database) proposes, the allocations database checks, and no other
	 * writer can take the answer before this commit.
	 */
	struct space sp;
	space_enter(q, t, &sp);
	rc = ipam_next_free_checked(sp.ops, sp.ctx, &x->prefix, x->excl, x->nexcl, ipam_lmdb_taken,
	                            &sp.l, x->a.addr);
	space_leave(&sp);
	if (rc == 0 && sp.l.err)
		rc = DDI_EIO;
	if (rc == DDI_EFULL)
		return ifail(q, rc, "prefix full: %s has no free address", cidr_s(&x->prefix, cb));
	if (rc)
		return ifail(q, rc, "next free address of %s: %s", cidr_s(&x->prefix, cb),
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
		return ifail(q, rc, "no prefix holds %s", addr_s(x->family, x->addr, ab));
	if (rc)
		return st_fail(q, t, rc);
	rc = store_ipam_alloc_get(t, x->family, x->addr, &old);
	if (rc == 0) {
		if (old.name_len == 0 || dns_name_to_str(nb, sizeof(nb), old.name) < 0)
			snprintf(nb, sizeof(nb), "(no name, %s)", ipam_state_name(old.state));
		return ifail(q, DDI_ECONFLICT, "%s is already allocated to %s",
		             addr_s(x->family, x->addr, ab), nb);
	}
	if (rc != DDI_ENOENT)
		return st_fail(q, t, rc);
	if (!ipam_addr_usable(&p.cidr, x->family, x->addr))
		return ifail(q, DDI_EPOLICY, "%s cannot be handed out (network, broadcast or anycast)",
		             addr_s(x->family, x->addr, ab));
	x->a.family = (uint8_t)x->family;
	memcpy(x->a.addr, x->addr, 16);
	return alloc_commit(x, t);
}

static bool alloc_args(struct icmd *q, struct aalloc *x)
{
	ipam_alloc_init(&x->a);
	x->a.state = IPAM_STATE_STATIC;
	x->name = a_str(q, "name", true);
	if (!x->name || !a_desc(q, x->a.description))
		return false;
	const char *mac = a_str(q, "mac", false);
	if (q->err[0])
		return false;
	if (mac) {
		struct ipam_error ie = { 0 };
		if (ipam_mac_parse(mac, x->a.hw, &ie) < 0) {
			ifail(q, ie.code, "%s", ie.msg);
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
	if (!a_cidr(&q, "prefix", &x.prefix) || !alloc_args(&q, &x))
		return ireply(&q, q.code, NULL, 0);
	if (!(x.excl = malloc(IPAM_MAX_EXCL * sizeof(*x.excl))))
		return cmd_reply(CMD_ERROR, NULL, "out of memory");
	int rc = store_ipam_write(ctx->store, NULL, ctx->actor, alloc_next_tx, &x, seq, &e);
	free(x.excl);
	return ireply(&q, rc, &e, *seq);
}

json_t *ipam_cmd_alloc_address(const struct cmd_ctx *ctx, const json_t *args, uint64_t *seq)
{
	struct icmd q = { .ctx = ctx, .args = args };
	struct aalloc x = { .q = &q };
	struct store_error e;
	if (!a_addr(&q, "address", &x.family, x.addr) || !alloc_args(&q, &x))
		return ireply(&q, q.code, NULL, 0);
	int rc = store_ipam_write(ctx->store, NULL, ctx->actor, alloc_address_tx, &x, seq, &e);
	return ireply(&q, rc, &e, *seq);
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
		return ifail(q, rc, "no prefix %s", cidr_s(&x->parent, cb));
	if (rc)
		return st_fail(q, t, rc);
	if ((rc = store_ipam_prefix_walk(t, &x->parent, kids_cb, &k)) != 0) {
		free(k.v);
		return st_fail(q, t, rc);
	}
	ipam_prefix_init(&np);
	rc = ipam_next_free_child(&x->parent, x->plen, k.v, k.n, &np.cidr);
	free(k.v);
	if (rc == DDI_EFULL)
		return ifail(q, rc, "prefix full: %s has no free /%d", cidr_s(&x->parent, cb), x->plen);
	if (rc)
		return ifail(q, rc, "/%d is not a child length of %s", x->plen,
		             cidr_s(&x->parent, cb));
	/* the child inherits its parent's zone and DNS policy */
	np.policy = p.policy;
	np.zone_len = p.zone_len;
	memcpy(np.zone, p.zone, p.zone_len);
	memcpy(np.description, x->desc, sizeof(np.description));
	np.created = np.updated = now_s();
	if ((rc = store_ipam_prefix_put(t, &np)) != 0)
		return st_fail(q, t, rc);
	json_t *created = json_array();
	if ((rc = reverse_zones(q, t, &np.cidr, created)) != 0) {
		json_decref(created);
		return rc;
	}
	q->out = json_pack("{s:o, s:o}", "prefix", ipam_prefix_to_json(&np), "reverse_zones",
	                   created);
	snprintf(q->text, sizeof(q->text), "prefix %s allocated", cidr_s(&np.cidr, cb));
	return DDI_EOK;
}

json_t *ipam_cmd_alloc_prefix(const struct cmd_ctx *ctx, const json_t *args, uint64_t *seq)
{
	struct icmd q = { .ctx = ctx, .args = args };
	struct aprefix x = { .q = &q };
	struct store_error e;
	if (!a_cidr(&q, "parent", &x.parent) || !a_desc(&q, x.desc))
		return ireply(&q, q.code, NULL, 0);
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
	return ireply(&q, rc, &e, *seq);
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
		return ifail(q, rc, "%s is not allocated", addr_s(x->family, x->addr, ab));
	if (rc)
		return st_fail(q, t, rc);
	if ((rc = store_ipam_alloc_del(t, x->family, x->addr)) != 0)
		return st_fail(q, t, rc);
	if (a.name_len && store_ipam_addr_has_owner(t, x->family, x->addr, a.name) &&
	    (rc = host_record(q, t, a.name, x->family, x->addr, false)) != 0)
		return rc;
	q->out = json_pack("{s:o}", "allocation", ipam_alloc_to_json(&a));
	snprintf(q->text, sizeof(q->text), "%s released", addr_s(x->family, x->addr, ab));
	return DDI_EOK;
}

json_t *ipam_cmd_release(const struct cmd_ctx *ctx, const json_t *args, uint64_t *seq)
{
	struct icmd q = { .ctx = ctx, .args = args };
	struct arel x = { .q = &q };
	struct store_error e;
	if (!a_addr(&q, "address", &x.family, x.addr))
		return ireply(&q, q.code, NULL, 0);
	int rc = store_ipam_write(ctx->store, NULL, ctx->actor, release_tx, &x, seq, &e);
	return ireply(&q, rc, &e, *seq);
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
		return st_fail(q, t, ra);
	int rp = store_ipam_prefix_holding(t, s->family, s->addr, 128, &p);
	if (rp && rp != DDI_ENOENT)
		return st_fail(q, t, rp);
	s->owners = json_array();
	/* the owners: one lookup in the addresses database would do; the walk is simpler */
	int rc = store_ipam_addr_walk(t, owners_cb, s);
	if (rc)
		return st_fail(q, t, rc);
	q->out = json_pack("{s:s, s:o, s:o, s:O}", "address", addr_s(s->family, s->addr, ab),
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
	if (!a_addr(&q, "address", &s.family, s.addr))
		return ireply(&q, q.code, NULL, 0);
	int rc = store_ipam_read(ctx->store, address_show_tx, &s, &e);
	json_decref(s.owners);
	return ireply(&q, rc, &e, 0);
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
	snprintf(u->q->text, sizeof(u->q->text), "%s: %s%% used", cidr_s(&u->c, cb),
	         json_string_value(json_object_get(j, "percent")));
	return DDI_EOK;
}

json_t *ipam_cmd_utilization(const struct cmd_ctx *ctx, const json_t *args, uint64_t *seq)
{
	(void)seq;
	struct icmd q = { .ctx = ctx, .args = args };
	struct util u = { .q = &q };
	struct store_error e;
	if (!a_cidr(&q, "prefix", &u.c))
		return ireply(&q, q.code, NULL, 0);
	int rc = store_ipam_read(ctx->store, utilization_tx, &u, &e);
	return ireply(&q, rc, &e, 0);
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

static int confl_addr_cb(void *ctx, int family, const uint8_t addr[16], const uint8_t *owner)
{
	struct confl *c = ctx;
	struct ipam_prefix p;
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
		                                        "address", addr_s(family, addr, ab), "name",
		                                        dns_name_to_str(nb, sizeof(nb), owner) > 0 ? nb
		                                                                                  : "?",
		                                        "reason", ie.msg));
	return 0;
}

static int confl_alloc_cb(void *ctx, const struct ipam_alloc *a)
{
	struct confl *c = ctx;
	char ab[IPAM_ADDR_STRLEN], nb[DNS_NAME_STRLEN];
	if (a->name_len == 0 || store_ipam_addr_has_owner(c->t, a->family, a->addr, a->name))
		return 0;
	if (dns_name_to_str(nb, sizeof(nb), a->name) < 0)
		return 0;
	char reason[512];
	snprintf(reason, sizeof(reason), "%s is allocated to %.300s, which has no %s record for it",
	         addr_s(a->family, a->addr, ab), nb, a->family == 4 ? "A" : "AAAA");
	json_array_append_new(c->arr, json_pack("{s:s, s:s, s:s, s:s}", "kind", "allocation-no-record",
	                                        "address", ab, "name", nb, "reason", reason));
	return 0;
}

static int confl_range_cb(void *ctx, const struct ipam_range *r)
{
	struct confl *c = ctx;
	char a1[IPAM_ADDR_STRLEN], a2[IPAM_ADDR_STRLEN], b1[IPAM_ADDR_STRLEN], b2[IPAM_ADDR_STRLEN];
	for (size_t i = 0; i < c->nr; i++) {
		if (!ipam_range_overlap(&c->r[i], r))
			continue;
		char reason[512];
		snprintf(reason, sizeof(reason), "the range %s-%s overlaps the range %s-%s",
		         addr_s(r->family, r->first, a1), addr_s(r->family, r->last, a2),
		         addr_s(c->r[i].family, c->r[i].first, b1),
		         addr_s(c->r[i].family, c->r[i].last, b2));
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
	return rc ? st_fail(c->q, t, rc) : DDI_EOK;
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
		return ireply(&q, rc, &e, 0);
	}
	size_t n = json_array_size(c.arr);
	return cmd_reply(n ? CMD_OK : CMD_EMPTY, json_pack("{s:o}", "conflicts", c.arr),
	                 "%zu conflict%s", n, n == 1 ? "" : "s");
}

/* ------------------------------------------------------------------------ */
/* CSV import and export                                                    */
/* ------------------------------------------------------------------------ */

struct imp {
	struct icmd *q;
	struct store_ipam *t;
	const char *text;
	size_t len;
	const char *fname;
	size_t nprefixes, nallocs, nrecords;
	uint64_t rows, lines;      /* progress: rows read, lines of the text (about the total) */
	struct ipam_prefix last;   /* cache: the prefix that held the previous address */
	bool have_last;
	bool have_max;             /* maxplen is known (no prefix row since) */
	int maxplen[2];            /* longest stored prefix, IPv4 and IPv6: no deeper one holds */
};

static int maxplen_cb(void *ctx, const struct ipam_prefix *p)
{
	struct imp *m = ctx;
	int *mp = &m->maxplen[p->cidr.family == 4 ? 0 : 1];
	if (p->cidr.plen > *mp)
		*mp = p->cidr.plen;
	return 0;
}

static int import_row(void *ctx, const struct ipam_csv_row *row, struct ipam_error *err)
{
	struct imp *m = ctx;
	const struct cmd_ctx *cc = m->q->ctx;
	if (cc->progress && ++m->rows % 8192 == 0)
		cc->progress(cc->progress_ctx, "rows imported", m->rows, m->lines);
	struct store_ipam *t = m->t;
	char cb[IPAM_CIDR_STRLEN], ab[IPAM_ADDR_STRLEN];
	int rc;
	if (row->kind == IPAM_CSV_PREFIXES) {
		struct ipam_prefix old;
		if (store_ipam_prefix_get(t, &row->prefix.cidr, &old) == 0) {
			snprintf(err->msg, sizeof(err->msg), "prefix %s exists",
			         cidr_s(&row->prefix.cidr, cb));
			return DDI_EEXIST;
		}
		struct ipam_prefix p = row->prefix;
		p.created = p.created ? p.created : now_s();
		p.updated = p.updated ? p.updated : p.created;
		if ((rc = store_ipam_prefix_put(t, &p)) != 0 ||
		    (rc = reverse_zones(m->q, t, &p.cidr, NULL)) != 0)
			goto store_fail;
		m->have_last = false;
		m->have_max = false;
		m->nprefixes++;
		return 0;
	}
	struct ipam_alloc a = row->alloc;
	struct ipam_alloc old;
	if ((rc = store_ipam_alloc_get(t, a.family, a.addr, &old)) == 0) {
		snprintf(err->msg, sizeof(err->msg), "%s is already allocated",
		         addr_s(a.family, a.addr, ab));
		return DDI_ECONFLICT;
	}
	if (rc != DDI_ENOENT)
		goto store_fail;
	a.created = a.created ? a.created : now_s();
	a.updated = a.updated ? a.updated : a.created;
	if ((rc = store_ipam_alloc_put(t, &a)) != 0)
		goto store_fail;
	m->nallocs++;
	if (!a.name_len || a.state == IPAM_STATE_RESERVED)
		return 0;
	/*
	 * The A/AAAA record goes into the forward zone of the prefix that
	 * holds the address: the deepest one, so the previous row's answer
	 * is kept only when no longer prefix exists at all.
	 */
	if (!m->have_max) {
		m->maxplen[0] = m->maxplen[1] = -1;
		if ((rc = store_ipam_prefix_walk(t, NULL, maxplen_cb, m)) != 0)
			goto store_fail;
		m->have_max = true;
	}
	int maxplen = m->maxplen[a.family == 4 ? 0 : 1];
	struct ipam_prefix *p = &m->last;
	if (maxplen < 0)
		return 0;   /* no prefix of this family: no zone */
	if (!m->have_last || p->cidr.plen != maxplen ||
	    !ipam_cidr_contains_addr(&p->cidr, a.family, a.addr)) {
		rc = store_ipam_prefix_holding(t, a.family, a.addr, maxplen, p);
		if (rc == DDI_ENOENT) {
			m->have_last = false;
			return 0;
		}
		if (rc)
			goto store_fail;
		m->have_last = true;
	}
	if (!p->zone_len || !dns_name_is_sub(a.name, p->zone) || !store_ipam_zone_exists(t, p->zone))
		return 0;
	if ((rc = host_record(m->q, t, a.name, a.family, a.addr, true)) != 0)
		goto store_fail;
	m->nrecords++;
	return 0;
store_fail:
	snprintf(err->msg, sizeof(err->msg), "%.200s",
	         m->q->err[0] ? m->q->err : store_ipam_error(t)->msg[0] ? store_ipam_error(t)->msg
	                                                               : ddi_strerror(rc));
	return rc;
}

static int import_tx(void *ctx, struct store_ipam *t)
{
	struct imp *m = ctx;
	struct ipam_error ie = { 0 };
	m->t = t;
	store_ipam_quiet(t, true);
	if (m->q->ctx->progress)
		m->lines = cmd_count_lines(m->text, m->len);
	int rc = ipam_csv_read_mem(m->text, m->len, m->fname, import_row, m, &ie);
	if (rc)
		return ifail(m->q, rc, "%s", ie.msg);
	if (m->q->ctx->progress)
		m->q->ctx->progress(m->q->ctx->progress_ctx, "rows imported", m->rows, m->rows);
	rc = store_ipam_note(t, "import", json_pack("{s:s, s:I, s:I}", "file", m->fname,
	                                             "prefixes", (json_int_t)m->nprefixes,
	                                             "addresses", (json_int_t)m->nallocs));
	if (rc)
		return st_fail(m->q, t, rc);
	snprintf(m->q->text, sizeof(m->q->text), "%zu prefixes, %zu addresses (%zu records) imported",
	         m->nprefixes, m->nallocs, m->nrecords);
	m->q->out = json_pack("{s:I, s:I, s:I}", "prefixes", (json_int_t)m->nprefixes, "addresses",
	                      (json_int_t)m->nallocs, "records", (json_int_t)m->nrecords);
	return DDI_EOK;
}

json_t *ipam_cmd_import(const struct cmd_ctx *ctx, const json_t *args, uint64_t *seq)
{
	struct icmd q = { .ctx = ctx, .args = args };
	struct imp m = { .q = &q };
	struct store_error e;
	json_t *jt = json_object_get(args, "text");
	if (!json_is_string(jt))
		return cmd_reply(CMD_ERROR, NULL, "missing argument \"text\" (the CSV file's text)");
	m.text = json_string_value(jt);
	m.len = json_string_length(jt);
	m.fname = a_str(&q, "filename", false);
	if (q.err[0])
		return ireply(&q, q.code, NULL, 0);
	if (!m.fname)
		m.fname = "import.csv";
	int rc = store_ipam_write(ctx->store, NULL, ctx->actor, import_tx, &m, seq, &e);
	return ireply(&q, rc, &e, *seq);
}

struct exp {
	struct icmd *q;
	FILE *f;
	struct store_ipam *t;
	int rc;
};

static int exp_prefix_cb(void *ctx, const struct ipam_prefix *p)
{
	struct exp *x = ctx;
	return ipam_csv_write_prefix(x->f, p);
}

static int exp_alloc_cb(void *ctx, const struct ipam_alloc *a)
{
	struct exp *x = ctx;
	struct ipam_prefix p;
	int mask = ipam_width(a->family);
	if (store_ipam_prefix_holding(x->t, a->family, a->addr, ipam_width(a->family) - 1, &p) == 0)
		mask = p.cidr.plen;
	return ipam_csv_write_alloc(x->f, a, mask);
}

static int export_tx(void *ctx, struct store_ipam *t)
{
	struct exp *x = ctx;
	x->t = t;
	int rc = ipam_csv_write_prefix_header(x->f);
	if (rc == 0)
		rc = store_ipam_prefix_walk(t, NULL, exp_prefix_cb, x);
	if (rc == 0 && fputs("\n", x->f) == EOF)
		rc = DDI_EIO;
	if (rc == 0)
		rc = ipam_csv_write_alloc_header(x->f);
	if (rc == 0)
		rc = store_ipam_alloc_walk(t, NULL, exp_alloc_cb, x);
	return rc ? st_fail(x->q, t, rc) : DDI_EOK;
}

json_t *ipam_cmd_export(const struct cmd_ctx *ctx, const json_t *args, uint64_t *seq)
{
	(void)seq;
	struct icmd q = { .ctx = ctx, .args = args };
	struct exp x = { .q = &q };
	struct store_error e;
	char *buf = NULL;
	size_t len = 0;
	if (!(x.f = open_memstream(&buf, &len)))
		return cmd_reply(CMD_ERROR, NULL, "out of memory");
	int rc = store_ipam_read(ctx->store, export_tx, &x, &e);
	if (fclose(x.f) != 0 && rc == 0)
		rc = DDI_ENOMEM;
	if (rc) {
		free(buf);
		return ireply(&q, rc, &e, 0);
	}
	json_t *out = json_pack("{s:s%}", "text", buf, len);
	free(buf);
	if (!out)
		return cmd_reply(CMD_ERROR, NULL, "the export is not valid UTF-8");
	return cmd_reply(CMD_OK, out, "%zu bytes", len);
}

const struct cmd_def ipam_cmds[] = {
	{ "prefix-add", CMD_ROLE_ADMIN, ipam_cmd_prefix_add },
	{ "prefix-list", CMD_ROLE_READ, ipam_cmd_prefix_list },
	{ "prefix-tree", CMD_ROLE_READ, ipam_cmd_prefix_tree },
	{ "prefix-show", CMD_ROLE_READ, ipam_cmd_prefix_show },
	{ "prefix-remove", CMD_ROLE_ADMIN, ipam_cmd_prefix_remove },
	{ "range-add", CMD_ROLE_ADMIN, ipam_cmd_range_add },
	{ "alloc-next", CMD_ROLE_ADMIN, ipam_cmd_alloc_next },
	{ "alloc-address", CMD_ROLE_ADMIN, ipam_cmd_alloc_address },
	{ "alloc-prefix", CMD_ROLE_ADMIN, ipam_cmd_alloc_prefix },
	{ "release", CMD_ROLE_ADMIN, ipam_cmd_release },
	{ "address-show", CMD_ROLE_READ, ipam_cmd_address_show },
	{ "utilization", CMD_ROLE_READ, ipam_cmd_utilization },
	{ "conflicts", CMD_ROLE_READ, ipam_cmd_conflicts },
	{ "ipam-import", CMD_ROLE_ADMIN, ipam_cmd_import },
	{ "ipam-export", CMD_ROLE_READ, ipam_cmd_export },
};
const size_t ipam_ncmds = sizeof(ipam_cmds) / sizeof(ipam_cmds[0]);
