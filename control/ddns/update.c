/* update -- RFC 2136 dynamic update: prerequisite and update evaluation, responses, serving; RFC 1996 NOTIFY answers */
#include <arpa/inet.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "control/ddns/lease.h"
#include "control/ddns/policy.h"
#include "control/ddns/update.h"
#include "dns/errcode.h"
#include "dns/name.h"
#include "dns/rdata.h"
#include "dns/wire.h"

/* Types allowed beside a CNAME (RFC 2181 10.1, RFC 4035 2.5), as the store has them. */
#define DNS_T_RRSIG 46
#define DNS_T_NSEC 47

/* ------------------------------------------------------------------------ */
/* Rdata comparison                                                         */
/* ------------------------------------------------------------------------ */

/*
 * Offsets of the names embedded in rdata that compare case-insensitively
 * (RFC 4034 6.2, for the types we know). Returns how many (0..2).
 */
static int rdata_names(uint16_t type, const uint8_t *rd, uint16_t len, size_t off[2])
{
	switch (type) {
	case DNS_T_NS:
	case DNS_T_CNAME:
	case DNS_T_PTR: off[0] = 0; return len > 0 ? 1 : 0;
	case DNS_T_MX: off[0] = 2; return len > 2 ? 1 : 0;
	case DNS_T_SRV: off[0] = 6; return len > 6 ? 1 : 0;
	case DNS_T_SOA:
		if (len == 0)
			return 0;
		off[0] = 0;
		off[1] = dns_name_len(rd);
		return off[1] < len ? 2 : 1;
	default: return 0;
	}
}

/* Equal as records of `type` (rdata already validated). */
static bool rdata_equal(uint16_t type, const uint8_t *a, uint16_t alen, const uint8_t *b,
                        uint16_t blen)
{
	size_t off[2], n;

	if (alen != blen)
		return false;
	if (alen == 0)
		return true;
	n = (size_t)rdata_names(type, a, alen, off);
	if (n == 0)
		return memcmp(a, b, alen) == 0;
	/* Name-bearing rdata is short (two names and 20 bytes at most). */
	uint8_t ca[2 * DNS_NAME_MAXLEN + 32], cb[sizeof(ca)];
	if (alen > sizeof(ca))
		return memcmp(a, b, alen) == 0;
	memcpy(ca, a, alen);
	memcpy(cb, b, blen);
	for (size_t i = 0; i < n; i++) {
		if (dns_name_check(ca + off[i], alen - off[i]) < 0 ||
		    dns_name_check(cb + off[i], blen - off[i]) < 0)
			return memcmp(a, b, alen) == 0;
		dns_name_lower(ca + off[i]);
		dns_name_lower(cb + off[i]);
	}
	return memcmp(ca, cb, alen) == 0;
}

/* RFC 1982 serial arithmetic: a is newer than b. */
static bool serial_newer(uint32_t a, uint32_t b)
{
	return a != b && (uint32_t)(a - b) < 0x80000000u;
}

/* ------------------------------------------------------------------------ */
/* The working copy of the names an update touches                          */
/* ------------------------------------------------------------------------ */

struct wrr {
	uint16_t len;
	uint8_t *data;
};

struct wset {
	uint16_t type;
	uint32_t ttl, ttl0;          /* now, and as the view had it */
	size_t n, cap, n0;
	struct wrr *rr;              /* now */
	struct wrr *rr0;             /* as the view had it (n0 items) */
};

struct wname {
	uint8_t owner[DNS_NAME_MAXLEN];
	size_t nsets, cap;
	struct wset *sets;
};

struct ws {
	struct wname *names;
	size_t n, cap;
	const struct upd_view *v;
	uint8_t **blobs;             /* rdatas of the ops */
	size_t nblobs;
};

static void ws_free(struct ws *ws)
{
	for (size_t i = 0; i < ws->n; i++) {
		struct wname *wn = &ws->names[i];
		for (size_t j = 0; j < wn->nsets; j++) {
			struct wset *s = &wn->sets[j];
			for (size_t k = 0; k < s->n; k++)
				free(s->rr[k].data);
			for (size_t k = 0; k < s->n0; k++)
				free(s->rr0[k].data);
			free(s->rr);
			free(s->rr0);
		}
		free(wn->sets);
	}
	for (size_t i = 0; i < ws->nblobs; i++)
		free(ws->blobs[i]);
	free(ws->blobs);
	free(ws->names);
	free(ws);
}

static int grow(void **arr, size_t *cap, size_t need, size_t size)
{
	if (need <= *cap)
		return DDI_EOK;
	size_t nc = *cap ? *cap * 2 : 4;
	while (nc < need)
		nc *= 2;
	void *p = realloc(*arr, nc * size);
	if (p == NULL)
		return DDI_ENOMEM;
	*arr = p;
	*cap = nc;
	return DDI_EOK;
}

static struct wset *set_find(struct wname *wn, uint16_t type)
{
	for (size_t i = 0; i < wn->nsets; i++)
		if (wn->sets[i].type == type)
			return &wn->sets[i];
	return NULL;
}

static struct wset *set_get(struct wname *wn, uint16_t type)
{
	struct wset *s = set_find(wn, type);
	if (s != NULL)
		return s;
	if (grow((void **)&wn->sets, &wn->cap, wn->nsets + 1, sizeof(*wn->sets)) != DDI_EOK)
		return NULL;
	s = &wn->sets[wn->nsets++];
	memset(s, 0, sizeof(*s));
	s->type = type;
	return s;
}

static int rr_push(struct wrr **arr, size_t *n, size_t *cap, const uint8_t *data, uint16_t len)
{
	if (grow((void **)arr, cap, *n + 1, sizeof(**arr)) != DDI_EOK)
		return DDI_ENOMEM;
	struct wrr *r = &(*arr)[*n];
	r->len = len;
	r->data = NULL;
	if (len > 0) {
		if ((r->data = malloc(len)) == NULL)
			return DDI_ENOMEM;
		memcpy(r->data, data, len);
	}
	(*n)++;
	return DDI_EOK;
}

/* The view's callback: copy one RRset in, twice (now and as it was). */
static int load_cb(void *ctx, const uint8_t *owner, uint16_t type, uint32_t ttl, uint16_t count,
                   const uint8_t *rdatas, size_t rdatas_len)
{
	struct wname *wn = ctx;
	size_t p = 0, cap0 = 0;
	struct wset *s;

	(void)owner;
	if (type == 0 || set_find(wn, type) != NULL)
		return DDI_ECORRUPT;
	if ((s = set_get(wn, type)) == NULL)
		return DDI_ENOMEM;
	s->ttl = s->ttl0 = ttl;
	for (uint16_t i = 0; i < count; i++) {
		if (rdatas_len - p < 2)
			return DDI_ECORRUPT;
		uint16_t l = dns_get16(rdatas + p);
		p += 2;
		if (rdatas_len - p < l || dns_rdata_check(type, rdatas + p, l) != DDI_EOK)
			return DDI_ECORRUPT;
		if (rr_push(&s->rr, &s->n, &s->cap, rdatas + p, l) != DDI_EOK ||
		    rr_push(&s->rr0, &s->n0, &cap0, rdatas + p, l) != DDI_EOK)
			return DDI_ENOMEM;
		p += l;
	}
	if (p != rdatas_len)
		return DDI_ECORRUPT;
	return DDI_EOK;
}

/* The working copy of `owner`, read through the view the first time. */
static int ws_name(struct ws *ws, const uint8_t *owner, struct wname **out)
{
	for (size_t i = 0; i < ws->n; i++)
		if (dns_name_equal(ws->names[i].owner, owner)) {
			*out = &ws->names[i];
			return DDI_EOK;
		}
	if (grow((void **)&ws->names, &ws->cap, ws->n + 1, sizeof(*ws->names)) != DDI_EOK)
		return DDI_ENOMEM;
	struct wname *wn = &ws->names[ws->n++];
	memset(wn, 0, sizeof(*wn));
	memcpy(wn->owner, owner, dns_name_len(owner));
	int r = ws->v->rrsets(ws->v->ctx, owner, 0, load_cb, wn);
	if (r != DDI_EOK && r != DDI_ENOENT)
		return r;
	*out = wn;
	return DDI_EOK;
}

static long rr_index(const struct wset *s, const uint8_t *d, uint16_t len)
{
	for (size_t i = 0; i < s->n; i++)
		if (rdata_equal(s->type, s->rr[i].data, s->rr[i].len, d, len))
			return (long)i;
	return -1;
}

static void rr_remove(struct wset *s, size_t i)
{
	free(s->rr[i].data);
	memmove(&s->rr[i], &s->rr[i + 1], (s->n - i - 1) * sizeof(s->rr[0]));
	s->n--;
}

static void set_clear(struct wset *s)
{
	while (s->n > 0)
		rr_remove(s, s->n - 1);
}

static bool name_in_use(const struct wname *wn)
{
	for (size_t i = 0; i < wn->nsets; i++)
		if (wn->sets[i].n > 0)
			return true;
	return false;
}

/* Data at the name that may not sit beside a CNAME. */
static bool has_non_cname_data(const struct wname *wn)
{
	for (size_t i = 0; i < wn->nsets; i++) {
		uint16_t t = wn->sets[i].type;
		if (wn->sets[i].n > 0 && t != DNS_T_CNAME && t != DNS_T_RRSIG && t != DNS_T_NSEC)
			return true;
	}
	return false;
}

/* ------------------------------------------------------------------------ */
/* Evaluation                                                               */
/* ------------------------------------------------------------------------ */

/* 3.2.3: the value-dependent prerequisites for (owner, type) against the RRset. */
static bool value_prereq_holds(const struct upd_msg *m, size_t first, const struct wname *wn)
{
	const struct upd_rr *p0 = &m->prereq[first];
	struct wset *s = set_find((struct wname *)wn, p0->type);
	size_t have = s ? s->n : 0;

	/* Every RR of the prerequisite set is in the RRset ... */
	for (size_t i = first; i < m->nprereq; i++) {
		const struct upd_rr *p = &m->prereq[i];
		if (p->kind != UPD_PRE_RRSET_VALUE || p->type != p0->type ||
		    !dns_name_equal(p->owner, p0->owner))
			continue;
		if (s == NULL || rr_index(s, p->rdata, p->rdlen) < 0)
			return false;
	}
	/* ... and every RR of the RRset is in the prerequisite set. */
	for (size_t j = 0; j < have; j++) {
		bool found = false;
		for (size_t i = first; i < m->nprereq && !found; i++) {
			const struct upd_rr *p = &m->prereq[i];
			found = p->kind == UPD_PRE_RRSET_VALUE && p->type == p0->type &&
			        dns_name_equal(p->owner, p0->owner) &&
			        rdata_equal(p->type, p->rdata, p->rdlen, s->rr[j].data, s->rr[j].len);
		}
		if (!found)
			return false;
	}
	return true;
}

/* Was this (owner, type) already checked by an earlier value-dependent prerequisite? */
static bool value_prereq_seen(const struct upd_msg *m, size_t i)
{
	for (size_t j = 0; j < i; j++)
		if (m->prereq[j].kind == UPD_PRE_RRSET_VALUE && m->prereq[j].type == m->prereq[i].type &&
		    dns_name_equal(m->prereq[j].owner, m->prereq[i].owner))
			return true;
	return false;
}

static int check_prereqs(const struct upd_msg *m, struct ws *ws, uint8_t *rcode)
{
	for (size_t i = 0; i < m->nprereq; i++) {
		const struct upd_rr *p = &m->prereq[i];
		struct wname *wn;
		struct wset *s;
		int r = ws_name(ws, p->owner, &wn);
		if (r != DDI_EOK)
			return r;
		s = set_find(wn, p->type);
		switch (p->kind) {
		case UPD_PRE_RRSET_EXISTS:
			if (s == NULL || s->n == 0)
				*rcode = DNS_RCODE_NXRRSET;
			break;
		case UPD_PRE_RRSET_ABSENT:
			if (s != NULL && s->n > 0)
				*rcode = DNS_RCODE_YXRRSET;
			break;
		case UPD_PRE_NAME_IN_USE:
			if (!name_in_use(wn))
				*rcode = DNS_RCODE_NXDOMAIN;
			break;
		case UPD_PRE_NAME_FREE:
			if (name_in_use(wn))
				*rcode = DNS_RCODE_YXDOMAIN;
			break;
		case UPD_PRE_RRSET_VALUE:
			if (!value_prereq_seen(m, i) && !value_prereq_holds(m, i, wn))
				*rcode = DNS_RCODE_NXRRSET;
			break;
		default:
			return DDI_EINVAL;
		}
		if (*rcode != DNS_RCODE_NOERROR)
			return DDI_EOK;
	}
	return DDI_EOK;
}

/* 3.4.2.2: add one RR. */
static int apply_add(const struct upd_msg *m, struct wname *wn, const struct upd_rr *u)
{
	bool apex = dns_name_equal(u->owner, m->zone);
	struct wset *s = set_find(wn, u->type);
	struct wset *cname = set_find(wn, DNS_T_CNAME);

	if (u->type == DNS_T_SOA) {
		/* Only the zone's own SOA, and only forward (RFC 1982). */
		if (!apex)
			return DDI_EOK;
		if (s != NULL && s->n > 0) {
			if (!serial_newer(dns_soa_serial(u->rdata, u->rdlen),
			                  dns_soa_serial(s->rr[0].data, s->rr[0].len)))
				return DDI_EOK;
			set_clear(s);
		}
	} else if (u->type == DNS_T_CNAME) {
		if (has_non_cname_data(wn))
			return DDI_EOK;
		if (s != NULL && s->n > 0 && rr_index(s, u->rdata, u->rdlen) < 0)
			set_clear(s);   /* a CNAME replaces the CNAME */
	} else if (u->type != DNS_T_RRSIG && u->type != DNS_T_NSEC && cname != NULL && cname->n > 0) {
		return DDI_EOK;
	}
	if (s == NULL && (s = set_get(wn, u->type)) == NULL)
		return DDI_ENOMEM;
	/* The RRset takes the TTL of the last RR added to it, duplicate or not. */
	s->ttl = u->ttl;
	if (rr_index(s, u->rdata, u->rdlen) >= 0)
		return DDI_EOK;
	if (s->n >= 65535)
		return DDI_ELIMIT;
	return rr_push(&s->rr, &s->n, &s->cap, u->rdata, u->rdlen);
}

/* 3.4.2.3 and 3.4.2.4: the deletions. */
static void apply_delete(const struct upd_msg *m, struct wname *wn, const struct upd_rr *u)
{
	bool apex = dns_name_equal(u->owner, m->zone);
	struct wset *s;

	switch (u->kind) {
	case UPD_OP_DEL_RRSET:
		if (apex && (u->type == DNS_T_SOA || u->type == DNS_T_NS))
			return;
		if ((s = set_find(wn, u->type)) != NULL)
			set_clear(s);
		return;
	case UPD_OP_DEL_NAME:
		for (size_t i = 0; i < wn->nsets; i++) {
			s = &wn->sets[i];
			if (apex && (s->type == DNS_T_SOA || s->type == DNS_T_NS))
				continue;
			set_clear(s);
		}
		return;
	case UPD_OP_DEL_RR: {
		long idx;
		if (u->type == DNS_T_SOA || (s = set_find(wn, u->type)) == NULL)
			return;
		if ((idx = rr_index(s, u->rdata, u->rdlen)) < 0)
			return;
		if (apex && u->type == DNS_T_NS && s->n == 1)
			return;   /* never the last NS of the zone */
		rr_remove(s, (size_t)idx);
		return;
	}
	default:
		return;
	}
}

static bool set_changed(const struct wset *s)
{
	if (s->n != s->n0)
		return true;
	if (s->n == 0)
		return false;
	if (s->ttl != s->ttl0)
		return true;
	for (size_t i = 0; i < s->n; i++) {
		bool found = false;
		for (size_t j = 0; j < s->n0 && !found; j++)
			found = s->rr[i].len == s->rr0[j].len &&
			        (s->rr[i].len == 0 || memcmp(s->rr[i].data, s->rr0[j].data, s->rr[i].len) == 0);
		if (!found)
			return true;
	}
	return false;
}

/* One RRSET_REPLACE per changed RRset. */
static int emit(const struct upd_msg *m, struct ws *ws, struct upd_plan *plan)
{
	size_t nchanged = 0, k = 0;

	for (size_t i = 0; i < ws->n; i++)
		for (size_t j = 0; j < ws->names[i].nsets; j++)
			nchanged += set_changed(&ws->names[i].sets[j]);
	if (nchanged == 0)
		return DDI_EOK;
	plan->ops = calloc(nchanged, sizeof(*plan->ops));
	plan->changes = calloc(nchanged, sizeof(*plan->changes));
	ws->blobs = calloc(nchanged, sizeof(*ws->blobs));
	if (plan->ops == NULL || plan->changes == NULL || ws->blobs == NULL)
		return DDI_ENOMEM;
	for (size_t i = 0; i < ws->n; i++) {
		struct wname *wn = &ws->names[i];
		for (size_t j = 0; j < wn->nsets; j++) {
			struct wset *s = &wn->sets[j];
			size_t blen = 0, p = 0;
			if (!set_changed(s))
				continue;
			for (size_t r = 0; r < s->n; r++)
				blen += 2 + (size_t)s->rr[r].len;
			uint8_t *blob = NULL;
			if (blen > 0 && (blob = malloc(blen)) == NULL)
				return DDI_ENOMEM;
			ws->blobs[ws->nblobs++] = blob;
			for (size_t r = 0; r < s->n; r++) {
				dns_put16(blob + p, s->rr[r].len);
				if (s->rr[r].len > 0)
					memcpy(blob + p + 2, s->rr[r].data, s->rr[r].len);
				p += 2 + (size_t)s->rr[r].len;
			}
			plan->ops[k] = (struct store_op){
				.kind = STORE_OP_RRSET_REPLACE, .flags = STORE_OPF_MISSING_OK,
				.zone = m->zone, .owner = wn->owner, .type = s->type, .ttl = s->ttl,
				.count = (uint16_t)s->n, .rdatas = blob, .rdatas_len = blen,
			};
			plan->changes[k] = (struct upd_change){
				.owner = wn->owner, .type = s->type,
				.old_count = (uint16_t)s->n0, .new_count = (uint16_t)s->n,
			};
			k++;
		}
	}
	plan->nops = k;
	return DDI_EOK;
}

/* 3.1.1 and 3.4.1.3: the zone is ours, and every owner is in it, not in a child zone of ours. */
static int check_zones(const struct upd_msg *m, const struct upd_view *v, uint8_t *rcode)
{
	uint8_t apex[DNS_NAME_MAXLEN];
	int r = v->zone_of(v->ctx, m->zone, apex);

	if (r == DDI_ENOZONE || (r == DDI_EOK && !dns_name_equal(apex, m->zone))) {
		*rcode = DNS_RCODE_NOTAUTH;
		return DDI_EOK;
	}
	if (r != DDI_EOK)
		return r;
	for (size_t i = 0; i < m->nprereq + m->nupdate; i++) {
		const struct upd_rr *x = i < m->nprereq ? &m->prereq[i] : &m->update[i - m->nprereq];
		r = v->zone_of(v->ctx, x->owner, apex);
		if (r != DDI_EOK && r != DDI_ENOZONE)
			return r;
		if (r == DDI_ENOZONE || !dns_name_equal(apex, m->zone)) {
			*rcode = DNS_RCODE_NOTZONE;
			return DDI_EOK;
		}
	}
	return DDI_EOK;
}

int upd_evaluate(const struct upd_msg *m, const struct upd_view *v, struct upd_plan *plan)
{
	struct ws *ws;
	int r;

	memset(plan, 0, sizeof(*plan));
	plan->rcode = DNS_RCODE_SERVFAIL;
	if (m == NULL || v == NULL || v->rrsets == NULL || v->zone_of == NULL)
		return DDI_EINVAL;
	if ((ws = calloc(1, sizeof(*ws))) == NULL)
		return DDI_ENOMEM;
	ws->v = v;
	plan->priv = ws;

	plan->rcode = DNS_RCODE_NOERROR;
	if ((r = check_zones(m, v, &plan->rcode)) != DDI_EOK || plan->rcode != DNS_RCODE_NOERROR)
		goto out;
	if ((r = check_prereqs(m, ws, &plan->rcode)) != DDI_EOK || plan->rcode != DNS_RCODE_NOERROR)
		goto out;
	for (size_t i = 0; i < m->nupdate; i++) {
		const struct upd_rr *u = &m->update[i];
		struct wname *wn;
		if ((r = ws_name(ws, u->owner, &wn)) != DDI_EOK)
			goto out;
		if (u->kind == UPD_OP_ADD) {
			if ((r = apply_add(m, wn, u)) != DDI_EOK)
				goto out;
		} else {
			apply_delete(m, wn, u);
		}
	}
	r = emit(m, ws, plan);
out:
	if (r != DDI_EOK) {
		plan->rcode = DNS_RCODE_SERVFAIL;
		plan->nops = 0;
	}
	return r;
}

void upd_plan_free(struct upd_plan *plan)
{
	if (plan == NULL)
		return;
	if (plan->priv != NULL)
		ws_free(plan->priv);
	free(plan->ops);
	free(plan->changes);
	memset(plan, 0, sizeof(*plan));
}

/* ------------------------------------------------------------------------ */
/* Responses                                                                */
/* ------------------------------------------------------------------------ */

/* Length of the uncompressed question name at 12, or 0 when it does not parse so. */
static size_t question_len(const uint8_t *req, size_t len)
{
	size_t pos = DNS_HDR_LEN;

	while (pos < len && req[pos] != 0) {
		if (req[pos] > DNS_LABEL_MAXLEN)
			return 0;
		pos += (size_t)req[pos] + 1;
		if (pos - DNS_HDR_LEN >= DNS_NAME_MAXLEN)
			return 0;
	}
	if (pos >= len || len - pos - 1 < 4)
		return 0;
	return pos + 1 + 4 - DNS_HDR_LEN;
}

static int answer(const uint8_t *req, size_t len, uint16_t flags, bool echo, uint8_t *buf,
                  size_t cap)
{
	size_t ql = 0;

	if (req == NULL || len < DNS_HDR_LEN)
		return DDI_EMALF;
	if (echo && dns_get16(req + 4) >= 1)
		ql = question_len(req, len);
	if (cap < DNS_HDR_LEN + ql)
		return DDI_ESPACE;
	memmove(buf + DNS_HDR_LEN, req + DNS_HDR_LEN, ql);
	dns_put16(buf, dns_get16(req));
	dns_put16(buf + 2, flags);
	dns_put16(buf + 4, ql > 0 ? 1 : 0);
	dns_put16(buf + 6, 0);
	dns_put16(buf + 8, 0);
	dns_put16(buf + 10, 0);
	return (int)(DNS_HDR_LEN + ql);
}

int upd_response(const uint8_t *req, size_t len, uint8_t rcode, uint8_t *buf, size_t cap)
{
	if (req == NULL || len < DNS_HDR_LEN)
		return DDI_EMALF;
	uint16_t f = dns_get16(req + 2);
	uint16_t flags = DNS_QR | (f & 0x7800) | (f & DNS_RD) | (rcode & 0xf);
	return answer(req, len, flags, true, buf, cap);
}

int upd_notify_response(const uint8_t *req, size_t len, bool known, uint8_t *buf, size_t cap)
{
	if (req == NULL || len < DNS_HDR_LEN)
		return DDI_EMALF;
	uint16_t f = dns_get16(req + 2);
	uint16_t flags = DNS_QR | (f & 0x7800);
	if (DNS_OPCODE(f) != DNS_OP_NOTIFY || dns_get16(req + 4) != 1 || question_len(req, len) == 0)
		return answer(req, len, flags | DNS_RCODE_FORMERR, false, buf, cap);
	/* RFC 1996 3.7: AA set, question echoed; 3.10 style NOTAUTH for a zone not ours. */
	flags |= DNS_AA | (known ? DNS_RCODE_NOERROR : DNS_RCODE_NOTAUTH);
	return answer(req, len, flags, true, buf, cap);
}

int upd_zone_name(const uint8_t *req, size_t len, uint8_t name[DNS_NAME_MAXLEN])
{
	size_t pos = DNS_HDR_LEN;

	if (req == NULL || len < DNS_HDR_LEN || dns_get16(req + 4) < 1)
		return DDI_EMALF;
	if (dns_name_parse(req, len, &pos, name) < 0)
		return DDI_EMALF;
	dns_name_lower(name);
	return DDI_EOK;
}

/* ------------------------------------------------------------------------ */
/* Serving                                                                  */
/* ------------------------------------------------------------------------ */

static const char *rcode_name(uint8_t rc)
{
	static const char *const names[] = {
		"NOERROR", "FORMERR", "SERVFAIL", "NXDOMAIN", "NOTIMP", "REFUSED",
		"YXDOMAIN", "YXRRSET", "NXRRSET", "NOTAUTH", "NOTZONE",
	};
	return rc < sizeof(names) / sizeof(names[0]) ? names[rc] : "RCODE?";
}

struct serve_txn {
	const struct upd_server *s;
	const struct upd_msg *m;
	const uint8_t *key;            /* NULL when unsigned */
	uint8_t fam;
	const uint8_t *addr;
	struct upd_plan plan;
	uint8_t rcode;
	char reason[256];
	struct ul_lease *ul;           /* the Update Lease option (RFC 9664), bounded in place */
	struct store_op *xops;         /* the plan's ops and the refreshes (dyn_ops) */
};

/* The lease (RFC 9664) the requester's policy grants, in place of the one asked; 0: none asked. */
static uint32_t lease_grant(const struct pol_set *p, const uint8_t *key, struct ul_lease *ul)
{
	uint32_t lmin, lmax;
	if (!ul->present)
		return 0;
	pol_lease_bounds(p, key, &lmin, &lmax);
	ul->lease = ul_grant(ul->lease, lmin, lmax);
	if (ul->has_key_lease)
		ul->key_lease = ul_grant(ul->key_lease, lmin, lmax);
	return ul->lease;
}

/*
 * The ops an accepted UPDATE applies: the plan's, flagged dynamic (the
 * RRsets keep their lease and aging stamp), then one DYN_REFRESH per
 * RRset the message adds to: its aging stamp, and its lease (or none).
 * A refresh that changes no record still renews them (RFC 9664 4.1).
 */
static int dyn_ops(struct serve_txn *t, const struct store_op **ops, size_t *nops)
{
	size_t n = t->plan.nops;
	uint32_t lease = lease_grant(t->s->policy, t->key, t->ul);   /* clamping twice changes nothing */
	free(t->xops);
	if ((t->xops = calloc(n + t->m->nupdate + 1, sizeof(*t->xops))) == NULL)
		return DDI_ENOMEM;
	for (size_t i = 0; i < n; i++) {
		t->xops[i] = t->plan.ops[i];
		t->xops[i].flags |= STORE_OPF_DYNAMIC;
	}
	for (size_t i = 0; i < t->m->nupdate; i++) {
		const struct upd_rr *u = &t->m->update[i];
		bool seen = false;
		if (u->kind != UPD_OP_ADD)
			continue;
		for (size_t j = t->plan.nops; j < n && !seen; j++)
			seen = t->xops[j].type == u->type && dns_name_equal(t->xops[j].owner, u->owner);
		if (!seen)
			t->xops[n++] = (struct store_op){ .kind = STORE_OP_DYN_REFRESH,
			                                  .flags = STORE_OPF_DYNAMIC, .owner = u->owner,
			                                  .type = u->type, .lease = lease };
	}
	*ops = t->xops;
	*nops = n;
	return DDI_EOK;
}

/* Inside the backend's write transaction: prerequisites, then permissions (RFC 2136 3.2, 3.3). */
static int serve_fn(void *arg, const struct upd_view *v, const struct pol_view *pv,
                    const struct store_op **ops, size_t *nops)
{
	struct serve_txn *t = arg;
	struct pol_verdict verdict;
	int r;

	*ops = NULL;
	*nops = 0;
	upd_plan_free(&t->plan);   /* a backend may retry the transaction */
	if ((r = upd_evaluate(t->m, v, &t->plan)) != DDI_EOK)
		return r;
	t->rcode = t->plan.rcode;
	if (t->rcode != DNS_RCODE_NOERROR) {
		snprintf(t->reason, sizeof(t->reason), "%s", t->rcode == DNS_RCODE_NOTAUTH ?
		         "not a zone of this server" : t->rcode == DNS_RCODE_NOTZONE ?
		         "a name outside the zone" : "a prerequisite does not hold");
		return DDI_EOK;
	}
	if ((r = pol_check(t->s->policy, t->key, t->fam, t->addr, t->m, pv, &verdict)) != DDI_EOK)
		return r;
	if (!verdict.allowed) {
		t->rcode = DNS_RCODE_REFUSED;
		snprintf(t->reason, sizeof(t->reason), "%s", verdict.reason);
		return DDI_EOK;
	}
	return dyn_ops(t, ops, nops);
}

static void make_actor(char *buf, size_t len, const uint8_t *key, uint8_t fam, const uint8_t *addr)
{
	char k[DNS_NAME_STRLEN], a[INET6_ADDRSTRLEN] = "?";
	int kl;

	if (addr == NULL || inet_ntop(fam == 6 ? AF_INET6 : AF_INET, addr, a, sizeof(a)) == NULL)
		snprintf(a, sizeof(a), "?");
	if (key == NULL) {
		snprintf(buf, len, "unsigned@%s", a);
		return;
	}
	kl = dns_name_to_str(k, sizeof(k), key);
	if (kl > 1)
		k[kl - 1] = '\0';   /* "tsig:dhcp-key", as store.h spells actors */
	else if (kl < 0)
		snprintf(k, sizeof(k), "?");
	snprintf(buf, len, "tsig:%.200s@%s", k, a);
}

/* A store refusal of the changes is the requester's doing; anything else is ours. */
static uint8_t store_rcode(int err)
{
	switch (err) {
	case DDI_ECNAME: case DDI_ESOA: case DDI_ELIMIT: case DDI_ERDATA: case DDI_ETTL:
	case DDI_EOUTZONE: case DDI_ECONFLICT: case DDI_EPOLICY:
		return DNS_RCODE_REFUSED;
	case DDI_ENOZONE:
		return DNS_RCODE_NOTAUTH;
	default:
		return DNS_RCODE_SERVFAIL;
	}
}

const char *const upd_why_names[UPD_WHY__COUNT] = {
	[UPD_WHY_NONE] = "none",
	[UPD_WHY_NOCHANGE] = "nochange",
	[UPD_WHY_FORMERR] = "formerr",
	[UPD_WHY_NOTIMP] = "notimp",
	[UPD_WHY_TSIG_FORMERR] = "tsig_formerr",
	[UPD_WHY_TSIG_BADKEY] = "tsig_badkey",
	[UPD_WHY_TSIG_BADSIG] = "tsig_badsig",
	[UPD_WHY_TSIG_BADTIME] = "tsig_badtime",
	[UPD_WHY_UNSIGNED] = "unsigned",
	[UPD_WHY_NO_POLICY] = "no_policy",
	[UPD_WHY_POLICY] = "policy",
	[UPD_WHY_NOTAUTH] = "notauth",
	[UPD_WHY_NOTZONE] = "notzone",
	[UPD_WHY_YXDOMAIN] = "yxdomain",
	[UPD_WHY_NXDOMAIN] = "nxdomain",
	[UPD_WHY_YXRRSET] = "yxrrset",
	[UPD_WHY_NXRRSET] = "nxrrset",
	[UPD_WHY_STORE] = "store",
	[UPD_WHY_SERVFAIL] = "servfail",
};

/* Which check answered, from the rcode of the evaluation (prerequisites, zones) or the store. */
static enum upd_why why_of_rcode(uint8_t rcode)
{
	switch (rcode) {
	case DNS_RCODE_NOERROR: return UPD_WHY_NOCHANGE;
	case DNS_RCODE_FORMERR: return UPD_WHY_FORMERR;
	case DNS_RCODE_NOTAUTH: return UPD_WHY_NOTAUTH;
	case DNS_RCODE_NOTZONE: return UPD_WHY_NOTZONE;
	case DNS_RCODE_YXDOMAIN: return UPD_WHY_YXDOMAIN;
	case DNS_RCODE_NXDOMAIN: return UPD_WHY_NXDOMAIN;
	case DNS_RCODE_YXRRSET: return UPD_WHY_YXRRSET;
	case DNS_RCODE_NXRRSET: return UPD_WHY_NXRRSET;
	case DNS_RCODE_REFUSED: return UPD_WHY_STORE;
	default: return UPD_WHY_SERVFAIL;
	}
}

/* Hand an update that changed nothing to the server, with its text. */
static void unchanged(const struct upd_server *s, struct upd_outcome *o, enum upd_why why,
                      const uint8_t *zone)
{
	char z[DNS_NAME_STRLEN] = "?";

	o->why = why;
	if (zone != NULL && dns_name_to_str(z, sizeof(z), zone) < 0)
		snprintf(z, sizeof(z), "?");
	snprintf(o->text, sizeof(o->text), "update %.300s %s%s%.300s", z, rcode_name(o->rcode),
	         o->reason[0] ? ": " : "", o->reason);
	if (s->unchanged != NULL)
		s->unchanged(s->ctx, o);
}

/* RFC 9664 4: an Update Lease option has 4 or 8 bytes and comes once; else FORMERR, nothing applied. */
static bool lease_bad(const struct dns_query *q, const uint8_t *req, size_t len, struct ul_lease *ul,
                      struct upd_outcome *out)
{
	if (!q->has_edns || ul_parse_message(req, len, q->opt_pos, ul) == DDI_EOK)
		return false;
	out->rcode = DNS_RCODE_FORMERR;
	snprintf(out->reason, sizeof(out->reason), "malformed Update Lease option");
	return true;
}

/* The response, with the lease granted (RFC 9664 4.2) when the update was accepted. */
static int respond(const uint8_t *req, size_t len, uint8_t rcode, const struct ul_lease *ul,
                   uint8_t *resp, size_t cap)
{
	int n = upd_response(req, len, rcode, resp, cap);
	if (n >= 0 && ul->present && rcode == DNS_RCODE_NOERROR)
		n = ul_append(resp, (size_t)n, cap, ul);
	return n;
}

static void serve_txn_free(struct serve_txn *t)
{
	upd_plan_free(&t->plan);
	free(t->xops);
}

/* The key of actor "tsig:KEY@ADDR": up to the last '@' (a GSS-TSIG principal holds one too). */
static void actor_key(struct upd_outcome *o)
{
	const char *k = o->actor + 5, *at = strrchr(k, '@');
	snprintf(o->key, sizeof(o->key), "%.*s", (int)(at ? (size_t)(at - k) : strlen(k)), k);
}

int upd_serve(const struct upd_server *s, const uint8_t *req, size_t len, uint8_t src_family,
              const uint8_t *src_addr, uint64_t now, uint8_t *resp, size_t cap,
              struct upd_outcome *out)
{
	struct upd_outcome local;
	struct dns_query q;
	struct tsig_ctx tc;
	struct upd_msg m;
	uint8_t zone[DNS_NAME_MAXLEN], rc;
	const uint8_t *key = NULL;
	size_t rlen;
	int n, r;

	if (out == NULL)
		out = &local;
	memset(out, 0, sizeof(*out));
	out->tsig = TSIG_OK;
	memset(&q, 0, sizeof(q));
	memset(&tc, 0, sizeof(tc));
	enum dns_parse_result pr = dns_query_parse(&q, req, len);
	if (pr == DNS_PARSE_DROP)
		return 0;
	out->opcode = (uint8_t)DNS_OPCODE(dns_get16(req + 2));
	make_actor(out->actor, sizeof(out->actor), NULL, src_family, src_addr);
	if (pr != DNS_PARSE_OK) {
		/* Malformed framing (or EDNS version > 0, answered as FORMERR here): unsigned. */
		out->rcode = DNS_RCODE_FORMERR;
		snprintf(out->reason, sizeof(out->reason), "malformed message");
		if (out->opcode == DNS_OP_UPDATE)
			unchanged(s, out, UPD_WHY_FORMERR, NULL);
		n = upd_response(req, len, out->rcode, resp, cap);
		return n < 0 ? (n == DDI_EMALF ? 0 : n) : n;
	}
	if (q.opcode != DNS_OP_UPDATE && q.opcode != DNS_OP_NOTIFY) {
		out->rcode = DNS_RCODE_NOTIMP;
		snprintf(out->reason, sizeof(out->reason), "opcode %u", q.opcode);
		unchanged(s, out, UPD_WHY_NOTIMP, NULL);
		n = upd_response(req, len, out->rcode, resp, cap);
		return n < 0 ? 0 : n;
	}

	/* TSIG first: nothing else is looked at for a request that fails it (RFC 8945 5.2). */
	if (q.has_tsig) {
		out->is_signed = true;
		out->tsig = tsig_verify(&tc, req, len, q.tsig_pos, now, s->key_lookup, s->ctx);
		/* GSS-TSIG: the policy knows the Kerberos principal, not the TKEY name (tsig.h) */
		key = tc.key.identity != NULL ? tc.key.identity : tc.req.key_name;
		make_actor(out->actor, sizeof(out->actor), key, src_family, src_addr);
		if (out->tsig != TSIG_OK) {
			out->rcode = tsig_result_rcode(out->tsig);
			snprintf(out->reason, sizeof(out->reason), "TSIG %s",
			         out->tsig == TSIG_BADKEY ? "BADKEY" : out->tsig == TSIG_BADSIG ? "BADSIG" :
			         out->tsig == TSIG_BADTIME ? "BADTIME" : "malformed");
			static const enum upd_why by_tsig[] = {
				[TSIG_FORMERR] = UPD_WHY_TSIG_FORMERR, [TSIG_BADKEY] = UPD_WHY_TSIG_BADKEY,
				[TSIG_BADSIG] = UPD_WHY_TSIG_BADSIG, [TSIG_BADTIME] = UPD_WHY_TSIG_BADTIME,
			};
			/* a NOTIFY that fails TSIG is counted with the updates: same check, same stranger */
			unchanged(s, out, by_tsig[out->tsig],
			          upd_zone_name(req, len, zone) == DDI_EOK ? zone : NULL);
			n = upd_response(req, len, out->rcode, resp, cap);
			if (n < 0)
				return n;
			rlen = (size_t)n;
			if (out->tsig != TSIG_FORMERR &&
			    (r = tsig_sign_response(&tc, resp, &rlen, cap, now)) != DDI_EOK)
				return r;
			return (int)rlen;
		}
	}

	if (q.opcode == DNS_OP_NOTIFY) {
		bool named = upd_zone_name(req, len, zone) == DDI_EOK;
		bool known = named && s->zone_known != NULL && s->zone_known(s->ctx, zone);
		int sec = named && s->notify ? s->notify(s->ctx, zone, src_family, src_addr, key) : -1;
		n = upd_notify_response(req, len, known, resp, cap);
		if (n < 0)
			return n;
		if (sec > 0 && n >= DNS_HDR_LEN) {
			/* a secondary zone's NOTIFY not from its primary (RFC 1996 3.10) */
			dns_put16(resp + 2, (uint16_t)((dns_get16(resp + 2) & ~0xfu) | (unsigned)sec));
			snprintf(out->reason, sizeof(out->reason), "NOTIFY not from the zone's primary");
		}
		out->rcode = (uint8_t)(dns_get16(resp + 2) & 0xf);
		rlen = (size_t)n;
		if (q.has_tsig && (r = tsig_sign_response(&tc, resp, &rlen, cap, now)) != DDI_EOK)
			return r;
		return (int)rlen;
	}

	/* UPDATE. */
	enum upd_why why = UPD_WHY_NONE;
	struct ul_lease ul = { 0 };
	struct pol_verdict ttl_v;
	if (q.has_tsig) {
		out->authenticated = true;   /* TSIG_OK: every failure returned above */
		actor_key(out);
	}
	if ((r = upd_parse(&m, req, len, &rc)) != DDI_EOK || rc != DNS_RCODE_NOERROR) {
		out->rcode = r != DDI_EOK ? DNS_RCODE_SERVFAIL : rc;
		why = r != DDI_EOK ? UPD_WHY_SERVFAIL : why_of_rcode(rc);
		snprintf(out->reason, sizeof(out->reason), "%s", rc == DNS_RCODE_NOTZONE ?
		         "a name outside the zone" : "malformed update");
	} else if (lease_bad(&q, req, len, &ul, out)) {
		why = UPD_WHY_FORMERR;
	} else if (s->zone_secondary && s->zone_secondary(s->ctx, m.zone)) {
		/* RFC 2136 3.1: a secondary is not authoritative for changes; its primary is */
		out->rcode = DNS_RCODE_NOTAUTH;
		why = UPD_WHY_NOTAUTH;
		snprintf(out->reason, sizeof(out->reason), "a secondary zone: update its primary");
	} else if (!pol_may_update(s->policy, key, src_family, src_addr)) {
		out->rcode = DNS_RCODE_REFUSED;
		why = key ? UPD_WHY_NO_POLICY : UPD_WHY_UNSIGNED;
		snprintf(out->reason, sizeof(out->reason), "%s",
		         key ? "the key has no update policy" : "unsigned updates are not allowed from here");
	} else if (pol_ttl_apply(s->policy, key, src_family, src_addr, &m, &ttl_v) >= 0 &&
	           !ttl_v.allowed) {
		/* the rule's TTL bounds with --ttl-over refuse (policy.h); clamps were made in place */
		out->rcode = DNS_RCODE_REFUSED;
		why = UPD_WHY_POLICY;
		snprintf(out->reason, sizeof(out->reason), "%s", ttl_v.reason);
	} else {
		struct serve_txn t = { .s = s, .m = &m, .key = key, .fam = src_family, .addr = src_addr,
		                       .rcode = DNS_RCODE_SERVFAIL, .ul = &ul };
		r = s->transact(s->ctx, out->actor, serve_fn, &t);
		if (r != DDI_EOK) {
			out->rcode = store_rcode(r);
			why = why_of_rcode(out->rcode);
			snprintf(out->reason, sizeof(out->reason), "%s", ddi_strerror(r));
		} else {
			out->rcode = t.rcode;
			out->nops = t.rcode == DNS_RCODE_NOERROR ? t.plan.nops : 0;
			/* REFUSED from inside the transaction is pol_check's (3.3) */
			why = t.rcode == DNS_RCODE_REFUSED ? UPD_WHY_POLICY : why_of_rcode(t.rcode);
			snprintf(out->reason, sizeof(out->reason), "%s", t.reason);
		}
		serve_txn_free(&t);
	}
	/* Changes are journaled by the commit; everything else goes to the server. */
	if (out->rcode != DNS_RCODE_NOERROR || out->nops == 0) {
		if (out->rcode == DNS_RCODE_NOERROR)
			snprintf(out->reason, sizeof(out->reason), "no change");
		unchanged(s, out, why, m.zone);   /* the root when the zone section did not parse */
	}
	upd_msg_free(&m);

	if ((n = respond(req, len, out->rcode, &ul, resp, cap)) < 0)
		return n;
	rlen = (size_t)n;
	if (q.has_tsig && (r = tsig_sign_response(&tc, resp, &rlen, cap, now)) != DDI_EOK)
		return r;
	return (int)rlen;
}
