/* xfr/consume -- ddiplane as a catalog consumer (RFC 9432 version 2): read a catalog, follow its members */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include <jansson.h>

#include "control/log.h"
#include "control/store/store.h"
#include "control/xfr/consume.h"
#include "dns/errcode.h"
#include "dns/rdata.h"
#include "dns/wire.h"

/* ------------------------------------------------------------------------ */
/* The reader                                                               */
/* ------------------------------------------------------------------------ */

/* The catalog is broken: keep the first reason, "NAME: what" (name may be NULL). */
static int broken(struct xfr_cat_reader *r, const uint8_t *name, const char *what)
{
	char nb[DNS_NAME_STRLEN] = "";
	if (!r->broken) {
		if (name)
			dns_name_to_str(nb, sizeof(nb), name);
		snprintf(r->why, sizeof(r->why), "%.160s%s%s", nb, name ? ": " : "", what);
		r->broken = true;
	}
	return DDI_EINVAL;
}

void xfr_cat_begin(struct xfr_cat_reader *r, const uint8_t *catalog)
{
	memset(r, 0, sizeof(*r));
	memcpy(r->catalog, catalog, dns_name_len(catalog));
	dns_name_lower(r->catalog);
}

void xfr_cat_free(struct xfr_cat_reader *r)
{
	free(r->m);
	r->m = NULL;
	r->n = r->cap = 0;
}

/*
 * How many labels `owner` has below the catalog, and the first two of
 * them (the leftmost first): "ID.zones" is 2 labels below with
 * l1 = ID, l2 = zones. -1 when owner is not at or below the catalog.
 */
static int below(const struct xfr_cat_reader *r, const uint8_t *owner, const uint8_t **lab)
{
	int d = dns_name_labels(owner) - dns_name_labels(r->catalog);
	if (d < 0 || !dns_name_is_sub(owner, r->catalog))
		return -1;
	const uint8_t *p = owner;
	for (int i = 0; i < d && i < 4; i++) {
		lab[i] = p;
		p += 1 + p[0];
	}
	return d;
}

static bool label_is(const uint8_t *lab, const char *s)
{
	size_t n = strlen(s);
	if (lab[0] != n)
		return false;
	for (size_t i = 0; i < n; i++) {
		uint8_t c = lab[1 + i];
		if ((c >= 'A' && c <= 'Z' ? c + 32 : c) != (uint8_t)s[i])
			return false;
	}
	return true;
}

/* The one rdata of a one-RR PTR RRset, checked as an uncompressed name filling it. */
static bool one_name(const uint8_t *rdatas, size_t len, uint16_t count, uint8_t out[DNS_NAME_MAXLEN])
{
	if (count != 1 || len < 2)
		return false;
	size_t rdlen = dns_get16(rdatas);
	if (rdlen + 2 != len || rdlen > DNS_NAME_MAXLEN)
		return false;
	int nl = dns_name_check(rdatas + 2, rdlen);
	if (nl <= 0 || (size_t)nl != rdlen)
		return false;
	memcpy(out, rdatas + 2, rdlen);
	dns_name_lower(out);
	return true;
}

static int member(struct xfr_cat_reader *r, const uint8_t *owner, const uint8_t *idlab,
                  uint16_t count, const uint8_t *rdatas, size_t len)
{
	uint8_t apex[DNS_NAME_MAXLEN];
	if (count != 1)
		return broken(r, owner, "a member's PTR RRset holds more than one record (RFC 9432 4.2.2)");
	if (!one_name(rdatas, len, count, apex))
		return broken(r, owner, "the member PTR is not one well-formed name");
	if (apex[0] == 0 || dns_name_is_sub(apex, r->catalog))
		return broken(r, owner, "the member is the root, the catalog or a name inside it");
	if (r->n >= XFR_CAT_MAX_MEMBERS)
		return broken(r, NULL, "more than 4096 (XFR_CAT_MAX_MEMBERS) member zones");
	if (r->n == r->cap) {
		size_t nc = r->cap ? r->cap * 2 : 16;
		struct xfr_cat_member *m = realloc(r->m, nc * sizeof(*m));
		if (!m)
			return DDI_ENOMEM;
		r->m = m;
		r->cap = nc;
	}
	struct xfr_cat_member *m = &r->m[r->n];
	uint8_t one[64 + 1];
	memcpy(one, idlab, 1 + idlab[0]);
	one[1 + idlab[0]] = 0;
	dns_name_lower(one);
	int sl = dns_name_to_str(m->id, sizeof(m->id), one);
	if (sl <= 1)
		return broken(r, owner, "the unique ID is not a label");
	m->id[sl - 1] = 0;   /* the trailing dot */
	memcpy(m->apex, apex, sizeof(apex));
	r->n++;
	return 0;
}

int xfr_cat_rrset(struct xfr_cat_reader *r, const uint8_t *owner, uint16_t type, uint16_t count,
                  const uint8_t *rdatas, size_t len)
{
	const uint8_t *lab[4] = { 0 };
	uint8_t coo[DNS_NAME_MAXLEN];
	if (r->broken)
		return DDI_EINVAL;
	if (dns_name_check(owner, DNS_NAME_MAXLEN) <= 0)
		return broken(r, NULL, "an owner name is malformed");
	int d = below(r, owner, lab);
	if (d < 0)
		return broken(r, owner, "outside the catalog");
	if (d == 0 && type == DNS_T_SOA)
		r->has_soa = true;
	/* RFC 9432 4.2.1: version.CATALOG TXT "2", one RR */
	if (d == 1 && type == DNS_T_TXT && label_is(lab[0], "version")) {
		static const uint8_t two[] = { 0, 2, 1, '2' };
		if (count != 1 || len != sizeof(two) || memcmp(rdatas, two, sizeof(two)) != 0)
			return broken(r, owner, "the version TXT is not one record \"2\" (RFC 9432 4.2.1)");
		r->version_ok = true;
		return 0;
	}
	/* RFC 9432 4.2.2: ID.zones.CATALOG PTR member */
	if (d == 2 && type == DNS_T_PTR && label_is(lab[1], "zones"))
		return member(r, owner, lab[0], count, rdatas, len);
	/* RFC 9432 4.4.1: coo.ID.zones.CATALOG PTR, one well-formed name */
	if (d == 3 && type == DNS_T_PTR && label_is(lab[0], "coo") && label_is(lab[2], "zones") &&
	    !one_name(rdatas, len, count, coo))
		return broken(r, owner, "the coo property is not one PTR record of a well-formed name");
	return 0;   /* 4.3: anything else is ignored */
}

static int member_cmp(const void *a, const void *b)
{
	return dns_name_cmp(((const struct xfr_cat_member *)a)->apex,
	                    ((const struct xfr_cat_member *)b)->apex);
}

int xfr_cat_end(struct xfr_cat_reader *r)
{
	if (r->broken)
		return DDI_EINVAL;
	if (!r->version_ok)
		return broken(r, r->catalog, "no version TXT \"2\" at version.CATALOG (RFC 9432 4.2.1)");
	if (r->n > 1)
		qsort(r->m, r->n, sizeof(*r->m), member_cmp);
	for (size_t i = 1; i < r->n; i++)
		if (dns_name_equal(r->m[i - 1].apex, r->m[i].apex))
			return broken(r, r->m[i].apex, "this member is listed under two unique IDs");
	return 0;
}

/* ------------------------------------------------------------------------ */
/* Zone ACL values                                                          */
/* ------------------------------------------------------------------------ */

char *xfr_cat_acl_json(const char *sec_json)
{
	json_t *o = sec_json ? json_loads(sec_json, 0, NULL) : NULL;
	char *s = NULL;
	if (json_is_object(o) && json_object_set_new(o, "consume_catalog", json_true()) == 0)
		s = json_dumps(o, JSON_COMPACT | JSON_SORT_KEYS);
	json_decref(o);
	return s;
}

static int json_cb(void *ctx, const uint8_t *name, const char *json, size_t len)
{
	(void)name;
	*(json_t **)ctx = json_loadb(json, len, 0, NULL);
	return 0;
}

static json_t *acl_of(struct store *s, struct store_txn *txn, const uint8_t *apex)
{
	struct store_error e;
	json_t *o = NULL;
	if (store_acl_get(s, txn, apex, json_cb, &o, &e) != DDI_EOK || !json_is_object(o)) {
		json_decref(o);
		return NULL;
	}
	return o;
}

bool xfr_cat_role(struct store *s, const uint8_t *apex, bool *is_catalog, char *member_of,
                  size_t len)
{
	json_t *o = acl_of(s, NULL, apex);
	*is_catalog = false;
	member_of[0] = 0;
	if (!o)
		return false;
	*is_catalog = json_is_true(json_object_get(o, "consume_catalog"));
	const char *m = json_string_value(json_object_get(o, "member_of"));
	if (m)
		snprintf(member_of, len, "%s", m);
	json_decref(o);
	return true;
}

void xfr_cat_role_json(struct store *s, const uint8_t *apex, json_t *o)
{
	bool is_cat;
	char cat[DNS_NAME_STRLEN];
	if (!xfr_cat_role(s, apex, &is_cat, cat, sizeof(cat)) || (!is_cat && !cat[0]))
		return;
	json_object_set_new(o, "role", json_string(is_cat ? "catalog" : "catalog member"));
	if (cat[0])
		json_object_set_new(o, "catalog", json_string(cat));
}

/* ------------------------------------------------------------------------ */
/* The sync                                                                 */
/* ------------------------------------------------------------------------ */

/* A zone of the store, as the sync sees it. */
struct ezone {
	uint8_t apex[DNS_NAME_MAXLEN];
	json_t *acl;          /* its zone_acl value, or NULL */
	bool ours;            /* member_of is this catalog */
	bool listed;          /* still a member */
};

struct synctx {
	struct store *s;
	struct store_txn *txn;
	const char *catname;
	struct ezone *z;
	size_t n, cap;
};

static int list_cb(void *ctx, const struct store_zone_info *zi)
{
	struct synctx *c = ctx;
	if (c->n == c->cap) {
		size_t nc = c->cap ? c->cap * 2 : 64;
		struct ezone *z = realloc(c->z, nc * sizeof(*z));
		if (!z)
			return DDI_ENOMEM;
		c->z = z;
		c->cap = nc;
	}
	struct ezone *z = &c->z[c->n++];
	memset(z, 0, sizeof(*z));
	memcpy(z->apex, zi->apex, dns_name_len(zi->apex));
	dns_name_lower(z->apex);
	z->acl = acl_of(c->s, c->txn, zi->apex);
	const char *m = json_string_value(json_object_get(z->acl, "member_of"));
	z->ours = (zi->flags & STORE_ZONE_SECONDARY) && m && strcasecmp(m, c->catname) == 0;
	return 0;
}

/* The ops of one change: at most 2, their JSON values owned here. */
struct group {
	struct store_op op[2];
	char *json;
	size_t nops;
	char kind;            /* 'a' added, 'r' removed, 's' restarted, 'u' updated */
};

struct plan {
	struct group *g;
	size_t n, cap;
};

static struct group *plan_add(struct plan *p, char kind)
{
	if (p->n == p->cap) {
		size_t nc = p->cap ? p->cap * 2 : 16;
		struct group *g = realloc(p->g, nc * sizeof(*g));
		if (!g)
			return NULL;
		p->g = g;
		p->cap = nc;
	}
	struct group *g = &p->g[p->n++];
	memset(g, 0, sizeof(*g));
	g->kind = kind;
	return g;
}

/* The member's ACL: what it had (operator's transfer rules kept) with the catalog's primaries. */
static char *member_acl(const json_t *had, const json_t *cat, const char *catname, const char *id)
{
	json_t *o = had ? json_deep_copy(had) : json_object();
	json_t *p = json_object_get(cat, "primaries"), *k = json_object_get(cat, "primary_key");
	if (!o)
		return NULL;
	json_object_set(o, "primaries", p);
	if (k)
		json_object_set(o, "primary_key", k);
	else
		json_object_del(o, "primary_key");
	json_object_set_new(o, "member_of", json_string(catname));
	json_object_set_new(o, "member_id", json_string(id));
	char *s = json_dumps(o, JSON_COMPACT | JSON_SORT_KEYS);
	json_decref(o);
	return s;
}

static bool same_json(const json_t *a, const char *b)
{
	json_t *o = json_loads(b, 0, NULL);
	bool eq = a && o && json_equal((json_t *)a, o);
	json_decref(o);
	return eq;
}

static struct ezone *ez_find(struct synctx *c, const uint8_t *apex)
{
	for (size_t i = 0; i < c->n; i++)
		if (dns_name_equal(c->z[i].apex, apex))
			return &c->z[i];
	return NULL;
}

/* Decide every change (nothing written yet). */
static int plan_build(struct synctx *c, const struct xfr_cat_reader *r, const json_t *cat,
                      struct plan *p, struct xfr_cat_result *res)
{
	for (size_t i = 0; i < r->n; i++) {
		const struct xfr_cat_member *m = &r->m[i];
		struct ezone *z = ez_find(c, m->apex);
		if (z && !z->ours) {
			char nb[DNS_NAME_STRLEN];
			dns_name_to_str(nb, sizeof(nb), m->apex);
			res->conflicts++;
			ddi_log(LOG_SUB_XFR, LOG_LVL_WARNING, NULL, "catalog %s: member %s is already a "
			        "zone of ours not added from this catalog: left alone", c->catname, nb);
			continue;
		}
		if (z)
			z->listed = true;
		const char *oldid = z ? json_string_value(json_object_get(z->acl, "member_id")) : NULL;
		bool restart = z && (!oldid || strcmp(oldid, m->id) != 0);
		char *acl = member_acl(z ? z->acl : NULL, cat, c->catname, m->id);
		if (!acl)
			return DDI_ENOMEM;
		if (z && !restart && same_json(z->acl, acl)) {
			free(acl);
			continue;
		}
		struct group *g = plan_add(p, !z ? 'a' : restart ? 's' : 'u');
		if (!g) {
			free(acl);
			return DDI_ENOMEM;
		}
		g->json = acl;
		const uint8_t *apex = z ? z->apex : m->apex;
		if (!z)
			g->op[g->nops++] = (struct store_op){ .kind = STORE_OP_ZONE_ADD, .zone = apex,
			                                      .zone_flags = STORE_ZONE_SECONDARY };
		else if (restart)   /* RFC 9432 4.1: a new unique ID is a new zone: start over */
			g->op[g->nops++] = (struct store_op){ .kind = STORE_OP_ZONE_REPLACE,
			                                      .flags = STORE_OPF_TRANSFER, .zone = apex };
		g->op[g->nops++] = (struct store_op){ .kind = STORE_OP_ACL_SET, .zone = apex, .count = 1,
		                                      .rdatas = (const uint8_t *)acl,
		                                      .rdatas_len = strlen(acl) };
	}
	for (size_t i = 0; i < c->n; i++) {
		if (!c->z[i].ours || c->z[i].listed)
			continue;
		struct group *g = plan_add(p, 'r');
		if (!g)
			return DDI_ENOMEM;
		g->op[0] = (struct store_op){ .kind = STORE_OP_ACL_SET, .zone = c->z[i].apex };
		g->op[1] = (struct store_op){ .kind = STORE_OP_ZONE_REMOVE, .zone = c->z[i].apex };
		g->nops = 2;
	}
	return 0;
}

static void count(struct xfr_cat_result *res, char kind)
{
	if (kind == 'a')
		res->added++;
	else if (kind == 'r')
		res->removed++;
	else if (kind == 's')
		res->restarted++;
	else
		res->updated++;
}

/* All changes in one commit; when that fails, each on its own (one bad member holds back no other). */
static int plan_apply(struct store *s, struct store_txn *batch, const char *actor,
                      const struct plan *p, struct xfr_cat_result *res, char *why, size_t wlen)
{
	struct store_error e;
	size_t nops = 0;
	for (size_t i = 0; i < p->n; i++)
		nops += p->g[i].nops;
	struct store_op *ops = malloc((nops ? nops : 1) * sizeof(*ops));
	if (!ops)
		return DDI_ENOMEM;
	nops = 0;
	for (size_t i = 0; i < p->n; i++)
		for (size_t j = 0; j < p->g[i].nops; j++)
			ops[nops++] = p->g[i].op[j];
	int rc = store_commit(s, batch, actor, ops, nops, &res->seq, &e);
	free(ops);
	if (rc == DDI_EOK) {
		for (size_t i = 0; i < p->n; i++)
			count(res, p->g[i].kind);
		return DDI_EOK;
	}
	for (size_t i = 0; i < p->n; i++) {
		uint64_t seq;
		rc = store_commit(s, batch, actor, p->g[i].op, p->g[i].nops, &seq, &e);
		if (rc == DDI_EOK) {
			count(res, p->g[i].kind);
			res->seq = seq;
			continue;
		}
		char nb[DNS_NAME_STRLEN];
		dns_name_to_str(nb, sizeof(nb), p->g[i].op[0].zone);
		res->failed++;
		snprintf(why, wlen, "member %s: %.300s", nb, e.msg[0] ? e.msg : ddi_strerror(rc));
		ddi_log(LOG_SUB_XFR, LOG_LVL_WARNING, actor, "member %s not changed: %s", nb,
		        e.msg[0] ? e.msg : ddi_strerror(rc));
	}
	return DDI_EOK;
}

static int read_cb(void *ctx, const uint8_t *owner, uint16_t type, uint32_t ttl, uint16_t count,
                   const uint8_t *rdatas, size_t len)
{
	(void)ttl;
	int rc = xfr_cat_rrset(ctx, owner, type, count, rdatas, len);
	return rc == DDI_EINVAL ? 0 : rc;   /* broken: the reason is kept, the walk ends anyway */
}

int xfr_cat_sync(struct store *s, const uint8_t *catalog, struct xfr_cat_result *res, char *why,
                 size_t wlen)
{
	struct xfr_cat_reader r;
	struct store_error e;
	char catname[DNS_NAME_STRLEN], actor[DNS_NAME_STRLEN + 16];
	memset(res, 0, sizeof(*res));
	memset(&e, 0, sizeof(e));
	why[0] = 0;
	xfr_cat_begin(&r, catalog);
	dns_name_to_str(catname, sizeof(catname), r.catalog);
	snprintf(actor, sizeof(actor), "catalog:%s", catname);
	int rc = store_zone_walk(s, catalog, read_cb, &r, &e);
	if (rc) {
		snprintf(why, wlen, "reading the catalog: %.300s", e.msg[0] ? e.msg : ddi_strerror(rc));
		xfr_cat_free(&r);
		return rc;
	}
	if (!r.has_soa) {
		res->empty = true;
		xfr_cat_free(&r);
		return DDI_EOK;
	}
	if (xfr_cat_end(&r) != 0) {
		res->broken = true;
		snprintf(why, wlen, "%s", r.why);
		xfr_cat_free(&r);
		return DDI_EOK;
	}
	res->members = r.n;
	struct store_txn *batch = NULL;
	struct synctx c = { .s = s, .catname = catname };
	struct plan p = { 0 };
	json_t *cat = NULL;
	rc = store_batch_begin(s, &batch, &e);
	if (rc == DDI_EOK) {
		c.txn = batch;
		cat = acl_of(s, batch, r.catalog);
		rc = cat && json_is_array(json_object_get(cat, "primaries")) ? DDI_EOK : DDI_ENOZONE;
		if (rc)
			snprintf(e.msg, sizeof(e.msg), "%.300s is no consumed catalog (no primaries)", catname);
	}
	if (rc == DDI_EOK)
		rc = store_zone_list_in(s, batch, false, list_cb, &c, &e);
	if (rc == DDI_EOK)
		rc = plan_build(&c, &r, cat, &p, res);
	if (rc == DDI_EOK && p.n)
		rc = plan_apply(s, batch, actor, &p, res, why, wlen);
	if (batch) {
		struct store_error e2;
		int rc2 = store_batch_end(batch, rc == DDI_EOK, &e2);
		if (rc == DDI_EOK && rc2) {
			rc = rc2;
			e = e2;
		}
	}
	if (rc)
		snprintf(why, wlen, "%.400s", e.msg[0] ? e.msg : ddi_strerror(rc));
	for (size_t i = 0; i < p.n; i++)
		free(p.g[i].json);
	free(p.g);
	for (size_t i = 0; i < c.n; i++)
		json_decref(c.z[i].acl);
	free(c.z);
	json_decref(cat);
	xfr_cat_free(&r);
	return rc;
}
