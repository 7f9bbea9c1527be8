/* codec -- IPAM records as LMDB keys and versioned binary values, and as JSON (control/ipam/ipam.h) */
#include <stdio.h>
#include <string.h>

#include "control/ipam/ipam.h"
#include "dns/errcode.h"

/* ------------------------------------------------------------------------ */
/* LMDB keys and binary values                                              */
/* ------------------------------------------------------------------------ */

size_t ipam_prefix_key(const struct ipam_cidr *c, uint8_t out[IPAM_KEY_MAX])
{
	size_t n = ipam_addr_bytes(c->family);
	out[0] = c->family;
	memcpy(out + 1, c->addr, n);
	out[1 + n] = c->plen;
	return n + 2;
}

size_t ipam_range_key(const struct ipam_range *r, uint8_t out[IPAM_KEY_MAX])
{
	size_t n = ipam_addr_bytes(r->family);
	out[0] = r->family;
	memcpy(out + 1, r->first, n);
	memcpy(out + 1 + n, r->last, n);
	return 1 + 2 * n;
}

size_t ipam_alloc_key(int family, const uint8_t addr[16], uint8_t out[IPAM_KEY_MAX])
{
	size_t n = ipam_addr_bytes(family);
	out[0] = (uint8_t)family;
	memcpy(out + 1, addr, n);
	return 1 + n;
}

/* A bounded writer and reader; the first overrun sticks. */
struct wbuf {
	uint8_t *p;
	size_t len, cap;
	bool over;
};

static void put(struct wbuf *w, const void *d, size_t n)
{
	if (w->over || w->cap - w->len < n) {
		w->over = true;
		return;
	}
	memcpy(w->p + w->len, d, n);
	w->len += n;
}

static void put8(struct wbuf *w, uint8_t v) { put(w, &v, 1); }

static void put16(struct wbuf *w, uint16_t v)
{
	uint8_t b[2] = {(uint8_t)(v >> 8), (uint8_t)v};
	put(w, b, 2);
}

static void put64(struct wbuf *w, uint64_t v)
{
	uint8_t b[8];
	for (int i = 7; i >= 0; i--, v >>= 8)
		b[i] = (uint8_t)v;
	put(w, b, 8);
}

struct rbuf {
	const uint8_t *p;
	size_t len, pos;
	bool bad;
};

static const uint8_t *get(struct rbuf *r, size_t n)
{
	if (r->bad || r->len - r->pos < n) {
		r->bad = true;
		return NULL;
	}
	const uint8_t *d = r->p + r->pos;
	r->pos += n;
	return d;
}

static uint8_t get8(struct rbuf *r)
{
	const uint8_t *d = get(r, 1);
	return d ? d[0] : 0;
}

static uint16_t get16(struct rbuf *r)
{
	const uint8_t *d = get(r, 2);
	return d ? (uint16_t)(d[0] << 8 | d[1]) : 0;
}

static uint64_t get64(struct rbuf *r)
{
	const uint8_t *d = get(r, 8);
	uint64_t v = 0;
	for (int i = 0; d && i < 8; i++)
		v = v << 8 | d[i];
	return v;
}

static void getn(struct rbuf *r, void *out, size_t n)
{
	const uint8_t *d = get(r, n);
	if (d)
		memcpy(out, d, n);
}

/* A text of `n` bytes into a NUL-terminated buffer of max+1. */
static void get_text(struct rbuf *r, char *out, size_t n, size_t max)
{
	if (n > max) {
		r->bad = true;
		return;
	}
	getn(r, out, n);
	out[r->bad ? 0 : n] = '\0';
	if (!r->bad && strlen(out) != n)   /* an embedded NUL */
		r->bad = true;
}

/* The version 2 trailer (ipam.h). */
static void put_meta(struct wbuf *w, const struct ipam_meta *m)
{
	size_t tl = strlen(m->tenant);
	put8(w, (uint8_t)tl);
	put(w, m->tenant, tl);
	put8(w, m->ntags);
	for (size_t i = 0; i < m->ntags; i++) {
		size_t n = strlen(m->tags[i]);
		put8(w, (uint8_t)n);
		put(w, m->tags[i], n);
	}
	put8(w, m->nfields);
	for (size_t i = 0; i < m->nfields; i++) {
		size_t kl = strlen(m->fields[i].key), vl = strlen(m->fields[i].value);
		put8(w, (uint8_t)kl);
		put(w, m->fields[i].key, kl);
		put8(w, (uint8_t)vl);
		put(w, m->fields[i].value, vl);
	}
}

static void get_meta(struct rbuf *r, struct ipam_meta *m)
{
	uint8_t n = get8(r);
	get_text(r, m->tenant, n, IPAM_TENANT_MAX);
	m->ntags = get8(r);
	if (m->ntags > IPAM_TAGS_MAX) {
		r->bad = true;
		return;
	}
	for (size_t i = 0; i < m->ntags && !r->bad; i++) {
		n = get8(r);
		get_text(r, m->tags[i], n, IPAM_TAG_MAX);
	}
	m->nfields = get8(r);
	if (m->nfields > IPAM_FIELDS_MAX) {
		r->bad = true;
		return;
	}
	for (size_t i = 0; i < m->nfields && !r->bad; i++) {
		n = get8(r);
		get_text(r, m->fields[i].key, n, IPAM_FIELD_KEY_MAX);
		n = get8(r);
		get_text(r, m->fields[i].value, n, IPAM_FIELD_VALUE_MAX);
	}
}

static int finish_encode(struct wbuf *w)
{
	return w->over ? DDI_ESPACE : (int)w->len;
}

/*
 * Version byte, then: DDI_ESCHEMA for a version we do not know. `meta`
 * (NULL for a range) is set when the value is version 2 (has the trailer).
 */
static int start_decode(struct rbuf *r, const uint8_t *v, size_t len, bool *meta)
{
	r->p = v;
	r->len = len;
	r->pos = 0;
	r->bad = false;
	if (v == NULL || len == 0)
		return DDI_ECORRUPT;
	uint8_t ver = v[r->pos++];
	if (meta)
		*meta = ver == IPAM_VALUE_VERSION_META;
	if (ver == IPAM_VALUE_VERSION || (meta && ver == IPAM_VALUE_VERSION_META))
		return DDI_EOK;
	return DDI_ESCHEMA;
}

static bool family_ok(uint8_t f)
{
	return f == 4 || f == 6;
}

int ipam_prefix_encode(const struct ipam_prefix *p, uint8_t *out, size_t outlen)
{
	if (ipam_prefix_check(p, NULL) != DDI_EOK)
		return DDI_EINVAL;
	struct wbuf w = {.p = out, .cap = outlen};
	size_t dl = strlen(p->description);
	bool meta = !ipam_meta_empty(&p->meta);
	put8(&w, meta ? IPAM_VALUE_VERSION_META : IPAM_VALUE_VERSION);
	put8(&w, p->cidr.family);
	put8(&w, p->cidr.plen);
	put(&w, p->cidr.addr, ipam_addr_bytes(p->cidr.family));
	put8(&w, p->status);
	put8(&w, p->policy);
	put64(&w, p->created);
	put64(&w, p->updated);
	put8(&w, p->zone_len);
	put(&w, p->zone, p->zone_len);
	put16(&w, (uint16_t)dl);
	put(&w, p->description, dl);
	if (meta)
		put_meta(&w, &p->meta);
	return finish_encode(&w);
}

int ipam_prefix_decode(const uint8_t *v, size_t len, struct ipam_prefix *p)
{
	struct rbuf r;
	bool meta;
	int rc = start_decode(&r, v, len, &meta);
	if (rc != DDI_EOK)
		return rc;
	ipam_prefix_init(p);
	p->cidr.family = get8(&r);
	p->cidr.plen = get8(&r);
	if (!family_ok(p->cidr.family))
		return DDI_ECORRUPT;
	getn(&r, p->cidr.addr, ipam_addr_bytes(p->cidr.family));
	p->status = get8(&r);
	p->policy = get8(&r);
	p->created = get64(&r);
	p->updated = get64(&r);
	p->zone_len = get8(&r);
	getn(&r, p->zone, p->zone_len);
	uint16_t dl = get16(&r);
	get_text(&r, p->description, dl, IPAM_DESC_MAX);
	if (meta)
		get_meta(&r, &p->meta);
	if (r.bad || (meta && ipam_meta_empty(&p->meta)) || r.pos != r.len || ipam_prefix_check(p, NULL) != DDI_EOK)
		return DDI_ECORRUPT;
	return DDI_EOK;
}

int ipam_range_encode(const struct ipam_range *rg, uint8_t *out, size_t outlen)
{
	if (ipam_range_check(rg, NULL) != DDI_EOK)
		return DDI_EINVAL;
	struct wbuf w = {.p = out, .cap = outlen};
	size_t n = ipam_addr_bytes(rg->family), dl = strlen(rg->description);
	put8(&w, IPAM_VALUE_VERSION);
	put8(&w, rg->family);
	put8(&w, rg->dynamic ? 1 : 0);
	put(&w, rg->first, n);
	put(&w, rg->last, n);
	put64(&w, rg->created);
	put64(&w, rg->updated);
	put16(&w, (uint16_t)dl);
	put(&w, rg->description, dl);
	return finish_encode(&w);
}

int ipam_range_decode(const uint8_t *v, size_t len, struct ipam_range *rg)
{
	struct rbuf r;
	int rc = start_decode(&r, v, len, NULL);
	if (rc != DDI_EOK)
		return rc;
	ipam_range_init(rg);
	rg->family = get8(&r);
	uint8_t flags = get8(&r);
	if (!family_ok(rg->family) || (flags & ~1u) != 0)
		return DDI_ECORRUPT;
	rg->dynamic = flags & 1;
	getn(&r, rg->first, ipam_addr_bytes(rg->family));
	getn(&r, rg->last, ipam_addr_bytes(rg->family));
	rg->created = get64(&r);
	rg->updated = get64(&r);
	uint16_t dl = get16(&r);
	get_text(&r, rg->description, dl, IPAM_DESC_MAX);
	if (r.bad || r.pos != r.len || ipam_range_check(rg, NULL) != DDI_EOK)
		return DDI_ECORRUPT;
	return DDI_EOK;
}

int ipam_alloc_encode(const struct ipam_alloc *a, uint8_t *out, size_t outlen)
{
	if (ipam_alloc_check(a, NULL) != DDI_EOK)
		return DDI_EINVAL;
	struct wbuf w = {.p = out, .cap = outlen};
	size_t ol = strlen(a->owner), dl = strlen(a->description);
	bool meta = !ipam_meta_empty(&a->meta);
	put8(&w, meta ? IPAM_VALUE_VERSION_META : IPAM_VALUE_VERSION);
	put8(&w, a->family);
	put(&w, a->addr, ipam_addr_bytes(a->family));
	put8(&w, a->state);
	put64(&w, a->created);
	put64(&w, a->updated);
	put64(&w, a->expires);
	put8(&w, a->name_len);
	put(&w, a->name, a->name_len);
	put8(&w, a->hw_type);
	put8(&w, a->hw_len);
	put(&w, a->hw, a->hw_len);
	put8(&w, (uint8_t)ol);
	put(&w, a->owner, ol);
	put16(&w, (uint16_t)dl);
	put(&w, a->description, dl);
	if (meta)
		put_meta(&w, &a->meta);
	return finish_encode(&w);
}

int ipam_alloc_decode(const uint8_t *v, size_t len, struct ipam_alloc *a)
{
	struct rbuf r;
	bool meta;
	int rc = start_decode(&r, v, len, &meta);
	if (rc != DDI_EOK)
		return rc;
	ipam_alloc_init(a);
	a->family = get8(&r);
	if (!family_ok(a->family))
		return DDI_ECORRUPT;
	getn(&r, a->addr, ipam_addr_bytes(a->family));
	a->state = get8(&r);
	a->created = get64(&r);
	a->updated = get64(&r);
	a->expires = get64(&r);
	a->name_len = get8(&r);
	getn(&r, a->name, a->name_len);
	a->hw_type = get8(&r);
	a->hw_len = get8(&r);
	if (a->hw_len > IPAM_CLIENTID_MAX)
		return DDI_ECORRUPT;
	getn(&r, a->hw, a->hw_len);
	uint8_t ol = get8(&r);
	get_text(&r, a->owner, ol, IPAM_OWNER_MAX);
	uint16_t dl = get16(&r);
	get_text(&r, a->description, dl, IPAM_DESC_MAX);
	if (meta)
		get_meta(&r, &a->meta);
	if (r.bad || (meta && ipam_meta_empty(&a->meta)) || r.pos != r.len || ipam_alloc_check(a, NULL) != DDI_EOK)
		return DDI_ECORRUPT;
	return DDI_EOK;
}

/* ------------------------------------------------------------------------ */
/* JSON                                                                     */
/* ------------------------------------------------------------------------ */

/* json_object_set_new that remembers a failure (NULL value or no memory). */
static void jset(json_t *o, const char *k, json_t *v, bool *ok)
{
	if (v == NULL || json_object_set_new(o, k, v) != 0)
		*ok = false;
}

static json_t *jname(const uint8_t *name, size_t len)
{
	char buf[DNS_NAME_STRLEN];
	if (len == 0 || dns_name_to_str(buf, sizeof(buf), name) < 0)
		return json_null();
	return json_string(buf);
}

static json_t *jaddr(int family, const uint8_t *addr)
{
	char buf[IPAM_ADDR_STRLEN];
	if (ipam_addr_format(family, addr, buf, sizeof(buf)) < 0)
		return NULL;
	return json_string(buf);
}

static json_t *finish_json(json_t *o, bool ok)
{
	if (!ok) {
		json_decref(o);
		return NULL;
	}
	return o;
}

json_t *ipam_prefix_to_json(const struct ipam_prefix *p)
{
	char c[IPAM_CIDR_STRLEN];
	json_t *o = json_object();
	bool ok = o != NULL && ipam_cidr_format(&p->cidr, c, sizeof(c)) >= 0 &&
	          ipam_status_name(p->status) && ipam_policy_name(p->policy);
	if (!ok)
		return finish_json(o, false);
	jset(o, "prefix", json_string(c), &ok);
	jset(o, "status", json_string(ipam_status_name(p->status)), &ok);
	jset(o, "policy", json_string(ipam_policy_name(p->policy)), &ok);
	jset(o, "zone", jname(p->zone, p->zone_len), &ok);
	jset(o, "description", json_string(p->description), &ok);
	jset(o, "created", json_integer((json_int_t)p->created), &ok);
	jset(o, "updated", json_integer((json_int_t)p->updated), &ok);
	if (ok && ipam_meta_to_json(&p->meta, o) != DDI_EOK)
		ok = false;
	return finish_json(o, ok);
}

json_t *ipam_range_to_json(const struct ipam_range *r)
{
	json_t *o = json_object();
	bool ok = o != NULL;
	if (!ok)
		return NULL;
	jset(o, "first", jaddr(r->family, r->first), &ok);
	jset(o, "last", jaddr(r->family, r->last), &ok);
	jset(o, "dynamic", json_boolean(r->dynamic), &ok);
	jset(o, "description", json_string(r->description), &ok);
	jset(o, "created", json_integer((json_int_t)r->created), &ok);
	jset(o, "updated", json_integer((json_int_t)r->updated), &ok);
	return finish_json(o, ok);
}

json_t *ipam_alloc_to_json(const struct ipam_alloc *a)
{
	char hw[IPAM_CLIENTID_MAX * 3 + 1];
	json_t *o = json_object();
	bool ok = o != NULL && ipam_state_name(a->state) != NULL;
	if (!ok)
		return finish_json(o, false);
	jset(o, "address", jaddr(a->family, a->addr), &ok);
	jset(o, "state", json_string(ipam_state_name(a->state)), &ok);
	jset(o, "name", jname(a->name, a->name_len), &ok);
	if (a->hw_type != IPAM_HW_NONE && ipam_hex_format(a->hw, a->hw_len, hw, sizeof(hw)) >= 0)
		jset(o, a->hw_type == IPAM_HW_MAC ? "mac" : "client_id", json_string(hw), &ok);
	jset(o, "owner", json_string(a->owner), &ok);
	jset(o, "description", json_string(a->description), &ok);
	jset(o, "created", json_integer((json_int_t)a->created), &ok);
	jset(o, "updated", json_integer((json_int_t)a->updated), &ok);
	if (a->expires != 0)
		jset(o, "expires", json_integer((json_int_t)a->expires), &ok);
	if (ok && ipam_meta_to_json(&a->meta, o) != DDI_EOK)
		ok = false;
	return finish_json(o, ok);
}

/* Readers of one member each; every failure names the key. */
static int jstr(const json_t *v, const char *k, const char **out, struct ipam_error *err)
{
	if (!json_is_string(v))
		return ipam_fail(err, DDI_EINVAL, "'%s' must be a string", k);
	*out = json_string_value(v);
	if (strlen(*out) != json_string_length(v))
		return ipam_fail(err, DDI_EINVAL, "'%s' holds a NUL byte", k);
	return DDI_EOK;
}

static int jtext(const json_t *v, const char *k, char *out, size_t max, struct ipam_error *err)
{
	const char *s = NULL;
	int r = jstr(v, k, &s, err);
	if (r != DDI_EOK)
		return r;
	char what[64];
	snprintf(what, sizeof(what), "'%s'", k);
	r = ipam_check_text(s, max, what, err);
	if (r != DDI_EOK)
		return r;
	memcpy(out, s, strlen(s) + 1);
	return DDI_EOK;
}

static int jtime(const json_t *v, const char *k, uint64_t *out, struct ipam_error *err)
{
	if (!json_is_integer(v) || json_integer_value(v) < 0)
		return ipam_fail(err, DDI_EINVAL, "'%s' must be a non-negative integer", k);
	*out = (uint64_t)json_integer_value(v);
	return DDI_EOK;
}

static int jdname(const json_t *v, const char *k, uint8_t *out, uint8_t *len, struct ipam_error *err)
{
	const char *s = NULL;
	char sb[80];
	if (json_is_null(v)) {
		*len = 0;
		return DDI_EOK;
	}
	int r = jstr(v, k, &s, err);
	if (r != DDI_EOK)
		return r;
	r = dns_name_from_str(out, s, strlen(s), NULL);
	if (r < 0)
		return ipam_fail(err, DDI_EINVAL, "'%s': '%s' is not a domain name (%s)", k, ipam_shown(s, sb),
		            ddi_strerror(r));
	*len = (uint8_t)r;
	return DDI_EOK;
}

static int jenum(const json_t *v, const char *k, int (*parse)(const char *), uint8_t *out,
                 struct ipam_error *err)
{
	const char *s = NULL;
	char sb[80];
	int r = jstr(v, k, &s, err);
	if (r != DDI_EOK)
		return r;
	r = parse(s);
	if (r < 0)
		return ipam_fail(err, DDI_EINVAL, "'%s': '%s' is not a known value", k, ipam_shown(s, sb));
	*out = (uint8_t)r;
	return DDI_EOK;
}

static int jaddr_parse(const json_t *v, const char *k, uint8_t *family, uint8_t *addr,
                       struct ipam_error *err)
{
	const char *s = NULL;
	int f, r = jstr(v, k, &s, err);
	if (r != DDI_EOK)
		return r;
	struct ipam_error e;
	if (ipam_addr_parse(s, &f, addr, &e) != DDI_EOK)
		return ipam_fail(err, DDI_EINVAL, "'%s': %s", k, e.msg);
	*family = (uint8_t)f;
	return DDI_EOK;
}

int ipam_prefix_from_json(const json_t *j, struct ipam_prefix *p, struct ipam_error *err)
{
	const char *k;
	json_t *v;
	int r = DDI_EOK;
	ipam_prefix_init(p);
	if (!json_is_object(j))
		return ipam_fail(err, DDI_EINVAL, "a prefix must be a JSON object");
	if (json_object_get(j, "prefix") == NULL)
		return ipam_fail(err, DDI_EINVAL, "'prefix' is missing");
	json_object_foreach((json_t *)j, k, v) {
		if (strcmp(k, "prefix") == 0) {
			const char *s = NULL;
			struct ipam_error e;
			r = jstr(v, k, &s, err);
			if (r == DDI_EOK && ipam_cidr_parse(s, &p->cidr, &e) != DDI_EOK)
				r = ipam_fail(err, DDI_EINVAL, "'prefix': %s", e.msg);
		} else if (strcmp(k, "status") == 0) {
			r = jenum(v, k, ipam_status_parse, &p->status, err);
		} else if (strcmp(k, "policy") == 0) {
			r = jenum(v, k, ipam_policy_parse, &p->policy, err);
		} else if (strcmp(k, "zone") == 0) {
			r = jdname(v, k, p->zone, &p->zone_len, err);
		} else if (strcmp(k, "description") == 0) {
			r = jtext(v, k, p->description, IPAM_DESC_MAX, err);
		} else if (strcmp(k, "created") == 0) {
			r = jtime(v, k, &p->created, err);
		} else if (strcmp(k, "updated") == 0) {
			r = jtime(v, k, &p->updated, err);
		} else if ((r = ipam_meta_from_json_member(&p->meta, k, v, err)) != DDI_ENOENT) {
			/* tenant, tags, fields */
		} else {
			char sb[80];
			r = ipam_fail(err, DDI_EINVAL, "unknown key '%s' in a prefix", ipam_shown(k, sb));
		}
		if (r != DDI_EOK)
			return r;
	}
	return ipam_prefix_check(p, err);
}

int ipam_range_from_json(const json_t *j, struct ipam_range *rg, struct ipam_error *err)
{
	const char *k;
	json_t *v;
	int r = DDI_EOK;
	uint8_t f1 = 0, f2 = 0;
	ipam_range_init(rg);
	if (!json_is_object(j))
		return ipam_fail(err, DDI_EINVAL, "a range must be a JSON object");
	if (json_object_get(j, "first") == NULL || json_object_get(j, "last") == NULL)
		return ipam_fail(err, DDI_EINVAL, "'first' and 'last' are required");
	json_object_foreach((json_t *)j, k, v) {
		if (strcmp(k, "first") == 0) {
			r = jaddr_parse(v, k, &f1, rg->first, err);
		} else if (strcmp(k, "last") == 0) {
			r = jaddr_parse(v, k, &f2, rg->last, err);
		} else if (strcmp(k, "dynamic") == 0) {
			if (!json_is_boolean(v))
				r = ipam_fail(err, DDI_EINVAL, "'dynamic' must be true or false");
			else
				rg->dynamic = json_is_true(v);
		} else if (strcmp(k, "description") == 0) {
			r = jtext(v, k, rg->description, IPAM_DESC_MAX, err);
		} else if (strcmp(k, "created") == 0) {
			r = jtime(v, k, &rg->created, err);
		} else if (strcmp(k, "updated") == 0) {
			r = jtime(v, k, &rg->updated, err);
		} else {
			char sb[80];
			r = ipam_fail(err, DDI_EINVAL, "unknown key '%s' in a range", ipam_shown(k, sb));
		}
		if (r != DDI_EOK)
			return r;
	}
	if (f1 != f2)
		return ipam_fail(err, DDI_EINVAL, "'first' and 'last' are of different address families");
	rg->family = f1;
	return ipam_range_check(rg, err);
}

int ipam_alloc_from_json(const json_t *j, struct ipam_alloc *a, struct ipam_error *err)
{
	const char *k;
	json_t *v;
	int r = DDI_EOK;
	ipam_alloc_init(a);
	if (!json_is_object(j))
		return ipam_fail(err, DDI_EINVAL, "an allocation must be a JSON object");
	if (json_object_get(j, "address") == NULL)
		return ipam_fail(err, DDI_EINVAL, "'address' is missing");
	if (json_object_get(j, "mac") != NULL && json_object_get(j, "client_id") != NULL)
		return ipam_fail(err, DDI_EINVAL, "'mac' and 'client_id' exclude each other");
	json_object_foreach((json_t *)j, k, v) {
		const char *s = NULL;
		struct ipam_error e;
		if (strcmp(k, "address") == 0) {
			r = jaddr_parse(v, k, &a->family, a->addr, err);
		} else if (strcmp(k, "state") == 0) {
			r = jenum(v, k, ipam_state_parse, &a->state, err);
		} else if (strcmp(k, "name") == 0) {
			r = jdname(v, k, a->name, &a->name_len, err);
		} else if (strcmp(k, "mac") == 0) {
			r = jstr(v, k, &s, err);
			if (r == DDI_EOK && ipam_mac_parse(s, a->hw, &e) != DDI_EOK)
				r = ipam_fail(err, DDI_EINVAL, "'mac': %s", e.msg);
			a->hw_type = IPAM_HW_MAC;
			a->hw_len = 6;
		} else if (strcmp(k, "client_id") == 0) {
			size_t n = 0;
			r = jstr(v, k, &s, err);
			if (r == DDI_EOK && ipam_clientid_parse(s, a->hw, &n, &e) != DDI_EOK)
				r = ipam_fail(err, DDI_EINVAL, "'client_id': %s", e.msg);
			a->hw_type = IPAM_HW_CLIENTID;
			a->hw_len = (uint8_t)n;
		} else if (strcmp(k, "owner") == 0) {
			r = jtext(v, k, a->owner, IPAM_OWNER_MAX, err);
		} else if (strcmp(k, "description") == 0) {
			r = jtext(v, k, a->description, IPAM_DESC_MAX, err);
		} else if (strcmp(k, "created") == 0) {
			r = jtime(v, k, &a->created, err);
		} else if (strcmp(k, "updated") == 0) {
			r = jtime(v, k, &a->updated, err);
		} else if (strcmp(k, "expires") == 0) {
			r = jtime(v, k, &a->expires, err);
		} else if ((r = ipam_meta_from_json_member(&a->meta, k, v, err)) != DDI_ENOENT) {
			/* tenant, tags, fields */
		} else {
			char sb[80];
			r = ipam_fail(err, DDI_EINVAL, "unknown key '%s' in an allocation", ipam_shown(k, sb));
		}
		if (r != DDI_EOK)
			return r;
	}
	return ipam_alloc_check(a, err);
}
