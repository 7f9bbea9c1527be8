/* ipam_cmd_model -- the IPAM commands that list, edit and remove records: ranges, prefixes, allocations, reservations */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "control/ipam/cmd.h"
#include "control/ipam/cmdutil.h"
#include "dns/errcode.h"
#include "dns/name.h"

#define ALLOC_LIST_DEFAULT 256   /* allocations in one page of alloc-list */
#define ALLOC_LIST_MAX 4096      /* the largest page a request may ask for */

/* A JSON boolean, or "yes"/"no"/"true"/"false" as a command line gives it. */
static int a_bool(struct icmd *q, const char *key, int *out)
{
	json_t *v = json_object_get(q->args, key);
	*out = -1;
	if (!v || json_is_null(v))
		return DDI_EOK;
	if (json_is_boolean(v)) {
		*out = json_is_true(v);
		return DDI_EOK;
	}
	const char *s = json_string_value(v);
	if (s && (strcmp(s, "yes") == 0 || strcmp(s, "true") == 0))
		*out = 1;
	else if (s && (strcmp(s, "no") == 0 || strcmp(s, "false") == 0))
		*out = 0;
	else
		return ic_fail(q, DDI_EINVAL, "argument \"%s\" must be true or false (yes or no)", key);
	return DDI_EOK;
}

/* ------------------------------------------------------------------------ */
/* Ranges: list, edit, remove                                               */
/* ------------------------------------------------------------------------ */

struct rlist {
	json_t *arr;
	const struct cmd_ctx *ctx;   /* whose scope filters the rows */
	const struct ipam_cidr *within;   /* NULL: every range */
};

static int rlist_cb(void *ctx, const struct ipam_range *r)
{
	struct rlist *l = ctx;
	unsigned full = r->family == 4 ? 32 : 128;
	if ((l->within && !ipam_range_within(l->within, r)) ||
	    !cmd_sees_prefix(l->ctx, r->family, r->first, full) ||
	    !cmd_sees_prefix(l->ctx, r->family, r->last, full))
		return 0;   /* both ends inside the principal's prefixes, as range-add asks */
	json_t *j = ipam_range_to_json(r);
	if (!j || json_array_append_new(l->arr, j) != 0)
		return DDI_ENOMEM;
	return 0;
}

static int rlist_tx(void *ctx, struct store_ipam *t)
{
	return store_ipam_range_walk(t, rlist_cb, ctx);
}

json_t *ipam_cmd_range_list(const struct cmd_ctx *ctx, const json_t *args, uint64_t *seq)
{
	(void)seq;
	struct icmd q = { .ctx = ctx, .args = args };
	struct ipam_cidr c;
	struct rlist l = { .ctx = ctx };
	struct store_error e;
	if (json_object_get(args, "prefix")) {
		if (!ic_cidr(&q, "prefix", &c))
			return ic_reply(&q, q.code, NULL, 0);
		l.within = &c;
	}
	if (!(l.arr = json_array()))
		return cmd_reply(CMD_ERROR, NULL, "out of memory");
	int rc = store_ipam_read(ctx->store, rlist_tx, &l, &e);
	if (rc) {
		json_decref(l.arr);
		return ic_reply(&q, rc, &e, 0);
	}
	size_t n = json_array_size(l.arr);
	return cmd_reply(n ? CMD_OK : CMD_EMPTY, json_pack("{s:o}", "ranges", l.arr), "%zu range%s", n,
	                 n == 1 ? "" : "s");
}

struct redit {
	struct icmd *q;
	struct ipam_range key;      /* the range as it is named (first, last) */
	struct ipam_range r;        /* as it becomes */
	bool remove;
	bool bounds;                /* new first or last given */
	int dynamic;                /* -1: unchanged */
	const char *desc;
	struct ipam_range other;
};

static int redit_clash_cb(void *ctx, const struct ipam_range *r)
{
	struct redit *x = ctx;
	if (memcmp(r->first, x->key.first, 16) == 0 && memcmp(r->last, x->key.last, 16) == 0 &&
	    r->family == x->key.family)
		return 0;   /* itself */
	if (ipam_range_overlap(&x->r, r)) {
		x->other = *r;
		return 1;
	}
	return 0;
}

/* The stored range named by x->key, into x->r. */
static int range_find_cb(void *ctx, const struct ipam_range *r)
{
	struct redit *x = ctx;
	if (r->family == x->key.family && memcmp(r->first, x->key.first, 16) == 0 &&
	    memcmp(r->last, x->key.last, 16) == 0) {
		x->r = *r;
		return 1;
	}
	return 0;
}

static int range_edit_tx(void *ctx, struct store_ipam *t)
{
	struct redit *x = ctx;
	struct icmd *q = x->q;
	struct ipam_prefix p;
	struct ipam_range nr;
	char fb[IPAM_ADDR_STRLEN], lb[IPAM_ADDR_STRLEN], o1[IPAM_ADDR_STRLEN], o2[IPAM_ADDR_STRLEN];
	ic_addr_s(x->key.family, x->key.first, fb);
	ic_addr_s(x->key.family, x->key.last, lb);
	nr = x->r;   /* the new bounds, when given */
	int rc = store_ipam_range_walk(t, range_find_cb, x);
	if (rc == 0)
		return ic_fail(q, DDI_ENOENT, "no range %s-%s", fb, lb);
	if (rc != 1)
		return ic_st_fail(q, t, rc);
	if ((rc = store_ipam_range_del(t, &x->r)) != 0)
		return ic_st_fail(q, t, rc);
	if (x->remove) {
		q->out = json_pack("{s:o}", "range", ipam_range_to_json(&x->r));
		snprintf(q->text, sizeof(q->text), "range %s-%s removed", fb, lb);
		return DDI_EOK;
	}
	if (x->bounds) {
		memcpy(x->r.first, nr.first, 16);
		memcpy(x->r.last, nr.last, 16);
	}
	if (x->dynamic >= 0)
		x->r.dynamic = x->dynamic;
	if (x->desc)
		snprintf(x->r.description, sizeof(x->r.description), "%s", x->desc);
	x->r.updated = ic_now();
	ic_addr_s(x->r.family, x->r.first, o1);
	ic_addr_s(x->r.family, x->r.last, o2);
	rc = store_ipam_prefix_holding(t, x->r.family, x->r.first, 128, &p);
	if (rc == DDI_ENOENT || (rc == 0 && !ipam_range_within(&p.cidr, &x->r)))
		return ic_fail(q, DDI_ENOENT, "no prefix holds the range %s-%s", o1, o2);
	if (rc)
		return ic_st_fail(q, t, rc);
	rc = store_ipam_range_walk(t, redit_clash_cb, x);
	if (rc == 1) {
		char b1[IPAM_ADDR_STRLEN], b2[IPAM_ADDR_STRLEN];
		return ic_fail(q, DDI_ECONFLICT, "the range %s-%s overlaps the range %s-%s", o1, o2,
		               ic_addr_s(x->other.family, x->other.first, b1),
		               ic_addr_s(x->other.family, x->other.last, b2));
	}
	if (rc)
		return ic_st_fail(q, t, rc);
	if ((rc = store_ipam_range_put(t, &x->r)) != 0)
		return ic_st_fail(q, t, rc);
	q->out = json_pack("{s:o}", "range", ipam_range_to_json(&x->r));
	snprintf(q->text, sizeof(q->text), "range %s-%s is now %s-%s", fb, lb, o1, o2);
	return DDI_EOK;
}

/* first/last naming the range, and for an edit the new values. */
static bool range_edit_args(struct icmd *q, struct redit *x)
{
	int f1, f2, n1 = 0, n2 = 0;
	if (!ic_addr(q, "first", &f1, x->key.first) || !ic_addr(q, "last", &f2, x->key.last))
		return false;
	if (f1 != f2) {
		ic_fail(q, DDI_EINVAL, "first and last must be of one address family");
		return false;
	}
	x->key.family = (uint8_t)f1;
	x->r = x->key;
	if (x->remove)
		return true;
	bool nf = json_object_get(q->args, "new_first") != NULL;
	bool nl = json_object_get(q->args, "new_last") != NULL;
	if ((nf && !ic_addr(q, "new_first", &n1, x->r.first)) ||
	    (nl && !ic_addr(q, "new_last", &n2, x->r.last)))
		return false;
	if ((nf && n1 != f1) || (nl && n2 != f1) ||
	    ipam_addr_to_u128(f1, x->r.first) > ipam_addr_to_u128(f1, x->r.last)) {
		ic_fail(q, DDI_EINVAL, "the new range must be of the same family, first <= last");
		return false;
	}
	x->bounds = nf || nl;
	x->desc = ic_str(q, "description", false);
	if (q->err[0] || a_bool(q, "dynamic", &x->dynamic) != DDI_EOK)
		return false;
	struct ipam_error ie = { 0 };
	if (x->desc && ipam_check_text(x->desc, IPAM_DESC_MAX, "the description", &ie) < 0) {
		ic_fail(q, DDI_EINVAL, "%s", ie.msg);
		return false;
	}
	if (!x->bounds && x->dynamic < 0 && !x->desc) {
		ic_fail(q, DDI_EINVAL, "nothing to change (new_first, new_last, dynamic, description)");
		return false;
	}
	return true;
}

static json_t *range_change(const struct cmd_ctx *ctx, const json_t *args, uint64_t *seq,
                            bool remove)
{
	struct icmd q = { .ctx = ctx, .args = args };
	struct redit x = { .q = &q, .remove = remove, .dynamic = -1 };
	struct store_error e;
	if (!range_edit_args(&q, &x))
		return ic_reply(&q, q.code, NULL, 0);
	int rc = store_ipam_write(ctx->store, NULL, ctx->actor, range_edit_tx, &x, seq, &e);
	return ic_reply(&q, rc, &e, *seq);
}

json_t *ipam_cmd_range_edit(const struct cmd_ctx *ctx, const json_t *args, uint64_t *seq)
{
	return range_change(ctx, args, seq, false);
}

json_t *ipam_cmd_range_remove(const struct cmd_ctx *ctx, const json_t *args, uint64_t *seq)
{
	return range_change(ctx, args, seq, true);
}

/* ------------------------------------------------------------------------ */
/* Prefixes: edit                                                           */
/* ------------------------------------------------------------------------ */

struct pedit {
	struct icmd *q;
	struct ipam_cidr c;
};

static int prefix_edit_tx(void *ctx, struct store_ipam *t)
{
	struct pedit *x = ctx;
	struct icmd *q = x->q;
	struct ipam_prefix p;
	struct ipam_error ie = { 0 };
	char cb[IPAM_CIDR_STRLEN];
	bool changed = false, meta = false;
	int rc = store_ipam_prefix_get(t, &x->c, &p);
	if (rc == DDI_ENOENT)
		return ic_fail(q, rc, "no prefix %s", ic_cidr_s(&x->c, cb));
	if (rc)
		return ic_st_fail(q, t, rc);
	const char *st = ic_str(q, "status", false), *pol = ic_str(q, "policy", false),
	           *zone = ic_str(q, "zone", false);
	if (q->err[0] || !ic_meta(q, &p.meta, &meta))
		return q->code;
	if (json_object_get(q->args, "description")) {
		if (!ic_desc(q, p.description))
			return q->code;
		changed = true;
	}
	if (st) {
		int v = ipam_status_parse(st);
		if (v < 0)
			return ic_fail(q, DDI_EINVAL, "status must be active, reserved or deprecated");
		p.status = (uint8_t)v;
		changed = true;
	}
	if (pol) {
		int v = ipam_policy_parse(pol);
		if (v < 0)
			return ic_fail(q, DDI_EINVAL, "policy must be strict, auto or off");
		p.policy = (uint8_t)v;
		changed = true;
	}
	if (zone) {
		int n = zone[0] ? dns_name_from_str(p.zone, zone, strlen(zone), NULL) : 0;
		if (n < 0)
			return ic_fail(q, DDI_EINVAL, "zone '%.300s' is not a valid name", zone);
		p.zone_len = (uint8_t)n;
		dns_name_lower(p.zone);
		changed = true;
	}
	if (!changed && !meta)
		return ic_fail(q, DDI_EINVAL, "nothing to change (description, status, policy, zone, "
		                              "tenant, tags, untag, fields)");
	p.updated = ic_now();
	if (ipam_prefix_check(&p, &ie) < 0)
		return ic_fail(q, DDI_EINVAL, "%s", ie.msg);
	if ((rc = store_ipam_prefix_put(t, &p)) != 0)
		return ic_st_fail(q, t, rc);
	q->out = json_pack("{s:o}", "prefix", ipam_prefix_to_json(&p));
	snprintf(q->text, sizeof(q->text), "prefix %s changed", cb);
	return DDI_EOK;
}

json_t *ipam_cmd_prefix_edit(const struct cmd_ctx *ctx, const json_t *args, uint64_t *seq)
{
	struct icmd q = { .ctx = ctx, .args = args };
	struct pedit x = { .q = &q };
	struct store_error e;
	if (!ic_cidr(&q, "prefix", &x.c))
		return ic_reply(&q, q.code, NULL, 0);
	int rc = store_ipam_write(ctx->store, NULL, ctx->actor, prefix_edit_tx, &x, seq, &e);
	return ic_reply(&q, rc, &e, *seq);
}

/* ------------------------------------------------------------------------ */
/* Allocations: reserve, list, edit                                         */
/* ------------------------------------------------------------------------ */

struct ares {
	struct icmd *q;
	struct ipam_alloc a;
};

static int alloc_reserve_tx(void *ctx, struct store_ipam *t)
{
	struct ares *x = ctx;
	struct icmd *q = x->q;
	struct ipam_prefix p;
	struct ipam_alloc old;
	char ab[IPAM_ADDR_STRLEN];
	ic_addr_s(x->a.family, x->a.addr, ab);
	int rc = store_ipam_prefix_holding(t, x->a.family, x->a.addr, 128, &p);
	if (rc == DDI_ENOENT)
		return ic_fail(q, rc, "no prefix holds %s", ab);
	if (rc)
		return ic_st_fail(q, t, rc);
	rc = store_ipam_alloc_get(t, x->a.family, x->a.addr, &old);
	if (rc == 0)
		return ic_fail(q, DDI_ECONFLICT, "%s is already %s", ab,
		               old.state == IPAM_STATE_RESERVED ? "reserved" : "allocated");
	if (rc != DDI_ENOENT)
		return ic_st_fail(q, t, rc);
	if ((rc = store_ipam_alloc_put(t, &x->a)) != 0)
		return ic_st_fail(q, t, rc);
	q->out = json_pack("{s:s, s:o}", "address", ab, "allocation", ipam_alloc_to_json(&x->a));
	snprintf(q->text, sizeof(q->text), "%s reserved", ab);
	return DDI_EOK;
}

json_t *ipam_cmd_alloc_reserve(const struct cmd_ctx *ctx, const json_t *args, uint64_t *seq)
{
	struct icmd q = { .ctx = ctx, .args = args };
	struct ares x = { .q = &q };
	struct store_error e;
	struct ipam_error ie = { 0 };
	int family;
	bool meta;
	ipam_alloc_init(&x.a);
	x.a.state = IPAM_STATE_RESERVED;
	if (!ic_addr(&q, "address", &family, x.a.addr) || !ic_meta(&q, &x.a.meta, &meta))
		return ic_reply(&q, q.code, NULL, 0);
	x.a.family = (uint8_t)family;
	const char *note = ic_str(&q, "note", false);
	if (q.err[0])
		return ic_reply(&q, q.code, NULL, 0);
	if (note && ipam_check_text(note, IPAM_DESC_MAX, "the note", &ie) < 0)
		return cmd_reply(CMD_ERROR, NULL, "%s", ie.msg);
	if (note)
		snprintf(x.a.description, sizeof(x.a.description), "%s", note);
	const char *name = ic_str(&q, "name", false);
	if (q.err[0])
		return ic_reply(&q, q.code, NULL, 0);
	if (name) {
		int n = ipam_host_name(name, x.a.name, &ie);
		if (n < 0)
			return cmd_reply(CMD_ERROR, NULL, "%s", ie.msg);
		x.a.name_len = (uint8_t)n;
		dns_name_lower(x.a.name);
	}
	x.a.created = x.a.updated = ic_now();
	snprintf(x.a.owner, sizeof(x.a.owner), "%.*s", IPAM_OWNER_MAX, ctx->actor ? ctx->actor : "");
	if (ipam_alloc_check(&x.a, &ie) < 0)
		return cmd_reply(CMD_ERROR, NULL, "%s", ie.msg);
	int rc = store_ipam_write(ctx->store, NULL, ctx->actor, alloc_reserve_tx, &x, seq, &e);
	return ic_reply(&q, rc, &e, *seq);
}

/*
 * One page of the allocations of a prefix: those after `after` (or from
 * the start), at most `limit`. The rest of the prefix is cut into its at
 * most 2W aligned blocks (ipam_span_to_cidrs) and each is one cursor walk
 * from its first key, so a page costs O(W + limit) reads however many
 * allocations come before it.
 */
struct alist {
	struct icmd *q;
	struct ipam_cidr c;
	bool have_after;
	uint8_t after[16];
	size_t limit;
	json_t *arr;
	bool more;
	struct ipam_alloc last;
};

static int alist_cb(void *ctx, const struct ipam_alloc *a)
{
	struct alist *l = ctx;
	if (json_array_size(l->arr) == l->limit) {
		l->more = true;
		return 1;
	}
	json_t *j = ipam_alloc_to_json(a);
	if (!j || json_array_append_new(l->arr, j) != 0)
		return DDI_ENOMEM;
	l->last = *a;
	return 0;
}

static int alloc_list_tx(void *ctx, struct store_ipam *t)
{
	struct alist *l = ctx;
	struct icmd *q = l->q;
	struct ipam_prefix p;
	struct ipam_cidr blocks[256];
	char cb[IPAM_CIDR_STRLEN], ab[IPAM_ADDR_STRLEN];
	ic_cidr_s(&l->c, cb);
	int rc = store_ipam_prefix_get(t, &l->c, &p);
	if (rc == DDI_ENOENT)
		return ic_fail(q, rc, "no prefix %s", cb);
	if (rc)
		return ic_st_fail(q, t, rc);
	ipam_u128 first = ipam_cidr_first(&l->c), last = ipam_cidr_last(&l->c);
	if (l->have_after) {
		ipam_u128 a = ipam_addr_to_u128(l->c.family, l->after);
		if (!ipam_cidr_contains_addr(&l->c, l->c.family, l->after))
			return ic_fail(q, DDI_EINVAL, "after %s is not inside %s",
			               ic_addr_s(l->c.family, l->after, ab), cb);
		if (a == last)
			goto done;
		first = a + 1;
	}
	int n = ipam_span_to_cidrs(l->c.family, first, last, blocks, 256);
	if (n < 0)
		return ic_fail(q, n, "no blocks for %s", cb);
	for (int i = 0; i < n; i++) {
		rc = store_ipam_alloc_walk(t, &blocks[i], alist_cb, l);
		if (rc == 1)
			break;
		if (rc)
			return ic_st_fail(q, t, rc);
	}
done:;
	size_t cnt = json_array_size(l->arr);
	q->out = json_pack("{s:s, s:O, s:o}", "prefix", cb, "allocations", l->arr, "next",
	                   l->more ? json_string(ic_addr_s(l->last.family, l->last.addr, ab))
	                           : json_null());
	snprintf(q->text, sizeof(q->text), "%zu allocation%s%s", cnt, cnt == 1 ? "" : "s",
	         l->more ? " (more: ask again with after = next)" : "");
	return DDI_EOK;
}

json_t *ipam_cmd_alloc_list(const struct cmd_ctx *ctx, const json_t *args, uint64_t *seq)
{
	(void)seq;
	struct icmd q = { .ctx = ctx, .args = args };
	struct alist l = { .q = &q, .limit = ALLOC_LIST_DEFAULT };
	struct store_error e;
	int family;
	if (!ic_cidr(&q, "prefix", &l.c))
		return ic_reply(&q, q.code, NULL, 0);
	if (json_object_get(args, "after")) {
		if (!ic_addr(&q, "after", &family, l.after))
			return ic_reply(&q, q.code, NULL, 0);
		if (family != l.c.family)
			return cmd_reply(CMD_ERROR, NULL, "after is not of the prefix's address family");
		l.have_after = true;
	}
	json_t *lim = json_object_get(args, "limit");
	if (lim) {
		long long v = -1;
		if (json_is_integer(lim))
			v = json_integer_value(lim);
		else if (json_is_string(lim)) {
			char *end;
			const char *s = json_string_value(lim);
			v = strtoll(s, &end, 10);
			if (!s[0] || *end)
				v = -1;
		}
		if (v < 1 || v > ALLOC_LIST_MAX)
			return cmd_reply(CMD_ERROR, NULL, "argument \"limit\" must be 1..%d", ALLOC_LIST_MAX);
		l.limit = (size_t)v;
	}
	if (!(l.arr = json_array()))
		return cmd_reply(CMD_ERROR, NULL, "out of memory");
	int rc = store_ipam_read(ctx->store, alloc_list_tx, &l, &e);
	json_decref(l.arr);
	return ic_reply(&q, rc, &e, 0);
}

struct aedit {
	struct icmd *q;
	int family;
	uint8_t addr[16];
	bool no_dns;
};

/*
 * A new name: the old name's A/AAAA for the address goes, the new one
 * comes (in the served zone that holds it), in this transaction; the PTR
 * answer is synthesized from the address index and follows both.
 */
static int alloc_rename(struct aedit *x, struct store_ipam *t, struct ipam_alloc *a,
                        const uint8_t *name, int nlen, json_t *rec)
{
	struct icmd *q = x->q;
	uint8_t apex[DNS_NAME_MAXLEN];
	char nb[DNS_NAME_STRLEN];
	int rc;
	bool dns = a->state != IPAM_STATE_RESERVED && !x->no_dns;
	if (dns && (rc = ic_name_zone(q, t, name, apex)) != 0)
		return rc;
	if (a->name_len && store_ipam_addr_has_owner(t, a->family, a->addr, a->name)) {
		if ((rc = ic_host_record(q, t, a->name, a->family, a->addr, false)) != 0)
			return rc;
		if (dns_name_to_str(nb, sizeof(nb), a->name) > 0)
			json_object_set_new(rec, "removed", json_string(nb));
	}
	memcpy(a->name, name, (size_t)nlen);
	a->name_len = (uint8_t)nlen;
	/* the allocation first: a strict prefix accepts the record only for its allocated name */
	if ((rc = store_ipam_alloc_put(t, a)) != 0)
		return ic_st_fail(q, t, rc);
	if (!dns)
		return DDI_EOK;
	if ((rc = ic_host_record(q, t, a->name, a->family, a->addr, true)) != 0)
		return rc;
	if (dns_name_to_str(nb, sizeof(nb), a->name) > 0)
		json_object_set_new(rec, "added", json_string(nb));
	return DDI_EOK;
}

static int alloc_edit_tx(void *ctx, struct store_ipam *t)
{
	struct aedit *x = ctx;
	struct icmd *q = x->q;
	struct ipam_alloc a;
	struct ipam_error ie = { 0 };
	char ab[IPAM_ADDR_STRLEN];
	uint8_t name[DNS_NAME_MAXLEN];
	int nlen = 0;
	bool meta = false, desc = false;
	ic_addr_s(x->family, x->addr, ab);
	int rc = store_ipam_alloc_get(t, x->family, x->addr, &a);
	if (rc == DDI_ENOENT)
		return ic_fail(q, rc, "%s is not allocated", ab);
	if (rc)
		return ic_st_fail(q, t, rc);
	const char *ns = ic_str(q, "name", false);
	if (q->err[0] || !ic_meta(q, &a.meta, &meta))
		return q->code;
	if (ns && (nlen = ipam_host_name(ns, name, &ie)) < 0)
		return ic_fail(q, nlen, "%s", ie.msg);
	if (ns)
		dns_name_lower(name);
	if (json_object_get(q->args, "description")) {
		if (!ic_desc(q, a.description))
			return q->code;
		desc = true;
	}
	if (!ns && !meta && !desc)
		return ic_fail(q, DDI_EINVAL, "nothing to change (name, description, tenant, tags, "
		                              "untag, fields)");
	a.updated = ic_now();
	if (ipam_alloc_check(&a, &ie) < 0)
		return ic_fail(q, DDI_EINVAL, "%s", ie.msg);
	json_t *rec = json_object();
	if (ns && !(a.name_len == nlen && dns_name_equal(a.name, name)))
		rc = alloc_rename(x, t, &a, name, nlen, rec);
	else if ((rc = store_ipam_alloc_put(t, &a)) != 0)
		rc = ic_st_fail(q, t, rc);
	if (rc) {
		json_decref(rec);
		return rc;
	}
	q->out = json_pack("{s:s, s:o, s:o}", "address", ab, "allocation", ipam_alloc_to_json(&a),
	                   "records", rec);
	snprintf(q->text, sizeof(q->text), "%s changed", ab);
	return DDI_EOK;
}

json_t *ipam_cmd_alloc_edit(const struct cmd_ctx *ctx, const json_t *args, uint64_t *seq)
{
	struct icmd q = { .ctx = ctx, .args = args };
	struct aedit x = { .q = &q };
	struct store_error e;
	int nd;
	if (!ic_addr(&q, "address", &x.family, x.addr) || a_bool(&q, "no_dns", &nd) != DDI_EOK)
		return ic_reply(&q, q.code, NULL, 0);
	x.no_dns = nd == 1;
	int rc = store_ipam_write(ctx->store, NULL, ctx->actor, alloc_edit_tx, &x, seq, &e);
	return ic_reply(&q, rc, &e, *seq);
}
