/* store/diff -- differences of each commit per zone (IXFR, history), their retention, zone_acl, read snapshots, synthesized PTRs */
#include <stdlib.h>
#include <string.h>

#include <jansson.h>
#include <lmdb.h>

#include "control/store/internal.h"
#include "dns/errcode.h"
#include "dns/rdata.h"

/*
 * How a difference is made (store.h, "Differences"): rrset_write calls
 * diff_capture before each write with the value it replaces; at the end
 * of the commit diff_finish sorts the captures by key, keeps the first of
 * each key (the value before the commit), reads the value after it, and
 * writes, per zone, the RRs that left and the RRs that came. The captures
 * are bounded by diff_max_usage: past it the commit records a BREAK.
 */

#define DIFF_HDR 34
#define DIFF_KEY_MAX (ZKEY_MAX + 8)

int open_xfr_dbis(struct store *s, struct store_error *err)
{
	MDB_txn *txn;
	for (int pass = 0; pass < 2; pass++) {
		int rc = mdb_txn_begin(s->env, NULL, pass ? 0 : MDB_RDONLY, &txn);
		if (rc)
			return pass ? DDI_EOK : mdb_fail(err, rc, "diffs");
		unsigned fl = pass ? MDB_CREATE : 0;
		rc = mdb_dbi_open(txn, "diffs", fl, &s->diffs);
		if (rc == 0)
			rc = mdb_dbi_open(txn, "zone_acl", fl, &s->zone_acl);
		if (rc == 0 && (rc = mdb_txn_commit(txn)) == 0) {
			s->xfr_dbs = true;
			return DDI_EOK;
		}
		if (rc)
			mdb_txn_abort(txn);
		if (rc != MDB_NOTFOUND)
			return pass ? DDI_EOK : mdb_fail(err, rc, "diffs");
	}
	return DDI_EOK;   /* read-only files of an older store: no differences, no ACLs */
}

/* ------------------------------------------------------------------------ */
/* Capture                                                                  */
/* ------------------------------------------------------------------------ */

static int darena_put(struct cctx *c, const void *p, size_t n, size_t *off)
{
	if (c->dused + n > c->dcap_bytes) {
		size_t nc = c->dcap_bytes ? c->dcap_bytes : 16384;
		while (nc < c->dused + n)
			nc *= 2;
		uint8_t *na = realloc(c->darena, nc);
		if (!na)
			return c_nomem(c);
		c->darena = na;
		c->dcap_bytes = nc;
	}
	if (n)
		memcpy(c->darena + c->dused, p, n);
	*off = c->dused;
	c->dused += n;
	return DDI_EOK;
}

/* Too large to record: forget it all, keep the memory bounded (every zone gets a BREAK). */
static void diff_forget(struct cctx *c)
{
	c->dover = true;
	c->ncaps = c->nacaps = c->dused = 0;
}

int diff_capture(struct cctx *c, const uint8_t *okey, size_t oklen, uint16_t type,
                 const struct rrval *old)
{
	if (c->bulk || c->dover || !c->s->xfr_dbs)
		return DDI_EOK;   /* bulk: every zone touched gets a BREAK (diff_finish) */
	if (c->dused > c->s->diff_max_usage) {
		diff_forget(c);
		return DDI_EOK;
	}
	if (type == DNS_T_PTR) {
		/* a stored PTR hides the synthesized ones of its address (and shows them when it goes) */
		uint8_t owner[DNS_NAME_MAXLEN], ak[17];
		int rc;
		if (dns_key_to_name(owner, okey, oklen) > 0 && reverse_addr_key(owner, ak) &&
		    (rc = diff_addr_capture(c, ak)) != 0)
			return rc;
		if (c->dover)
			return DDI_EOK;
	}
	if (c->ncaps == c->capcaps) {
		size_t nc = c->capcaps ? c->capcaps * 2 : 16;
		struct dcap *n = realloc(c->caps, nc * sizeof(*n));
		if (!n)
			return c_nomem(c);
		c->caps = n;
		c->capcaps = nc;
	}
	struct dcap *d = &c->caps[c->ncaps];
	uint8_t rk[RKEY_MAX];
	size_t rkl = rkey_make(rk, okey, oklen, type);
	int rc = darena_put(c, rk, rkl, &d->koff);
	if (rc == 0)
		rc = darena_put(c, old ? old->rdatas : NULL, old ? old->len : 0, &d->voff);
	if (rc)
		return rc;
	d->klen = (uint16_t)rkl;
	d->vlen = old ? old->len : 0;
	d->count = old ? old->count : 0;
	d->ttl = old ? old->ttl : 0;
	d->order = c->ncaps++;
	return DDI_EOK;
}

bool diff_created(const struct cctx *c, const uint8_t *okey, size_t oklen, uint16_t type)
{
	uint8_t rk[RKEY_MAX];
	if (c->bulk || c->dover || !c->s->xfr_dbs)
		return true;   /* not remembered: the caller's op wrote it */
	size_t rkl = rkey_make(rk, okey, oklen, type);
	for (size_t i = 0; i < c->ncaps; i++)
		if (c->caps[i].klen == rkl && memcmp(c->darena + c->caps[i].koff, rk, rkl) == 0)
			return c->caps[i].count == 0;
	return false;
}

/*
 * The synthesized PTRs of an address key as a capture in darena (struct
 * acap's layout); *len 0 when none.
 */
static int synth_put(struct cctx *c, const uint8_t ak[17], size_t *off, size_t *len)
{
	struct store_synth *sy = malloc(sizeof(*sy));
	if (!sy)
		return c_nomem(c);
	size_t start = c->dused, o;
	int rc = synth_ptr_txn(c->s, c->txn, ak, sy, c->err);
	*off = start;
	*len = 0;
	if (rc == 1) {
		uint8_t t[4];
		dns_put32(t, sy->ttl);
		rc = darena_put(c, sy->zone, dns_name_len(sy->zone), &o);
		if (rc == 0)
			rc = darena_put(c, t, 4, &o);
		for (unsigned i = 0; i < sy->n && rc == 0; i++) {
			uint16_t nl = (uint16_t)dns_name_len(sy->targets[i]);
			dns_put16(t, nl);
			rc = darena_put(c, t, 2, &o);
			if (rc == 0)
				rc = darena_put(c, sy->targets[i], nl, &o);
		}
		*len = c->dused - start;
	}
	free(sy);
	return rc;
}

int diff_addr_capture(struct cctx *c, const uint8_t ak[17])
{
	if (c->bulk || c->dover || !c->s->xfr_dbs)
		return DDI_EOK;
	if (c->dused + c->nacaps * sizeof(struct acap) > c->s->diff_max_usage) {
		diff_forget(c);   /* an address with no PTR takes no arena bytes: count the entries */
		return DDI_EOK;
	}
	/* the common repeat (an owner's old addresses removed, its new ones added) costs nothing */
	for (size_t i = c->nacaps; i > 0 && i + 8 > c->nacaps; i--)
		if (memcmp(c->acaps[i - 1].ak, ak, 17) == 0)
			return DDI_EOK;
	if (c->nacaps == c->capacaps) {
		size_t nc = c->capacaps ? c->capacaps * 2 : 16;
		struct acap *n = realloc(c->acaps, nc * sizeof(*n));
		if (!n)
			return c_nomem(c);
		c->acaps = n;
		c->capacaps = nc;
	}
	struct acap *a = &c->acaps[c->nacaps];
	memset(a, 0, sizeof(*a));
	memcpy(a->ak, ak, 1 + (ak[0] == 4 ? 4 : 16));
	a->order = c->nacaps;
	int rc = synth_put(c, a->ak, &a->boff, &a->blen);
	if (rc)
		return rc;
	c->nacaps++;
	return DDI_EOK;
}

static int acap_cmp(const void *a, const void *b)
{
	const struct acap *x = a, *y = b;
	int r = memcmp(x->ak, y->ak, 17);
	if (r)
		return r;
	return x->order < y->order ? -1 : x->order > y->order;
}

static const uint8_t *g_arena;   /* qsort has no context argument: set just before the sort */

static int dcap_cmp(const void *a, const void *b)
{
	const struct dcap *x = a, *y = b;
	size_t n = x->klen < y->klen ? x->klen : y->klen;
	int r = memcmp(g_arena + x->koff, g_arena + y->koff, n);
	if (r)
		return r;
	if (x->klen != y->klen)
		return x->klen < y->klen ? -1 : 1;
	return x->order < y->order ? -1 : x->order > y->order;
}

/* ------------------------------------------------------------------------ */
/* Building one zone's difference                                           */
/* ------------------------------------------------------------------------ */

struct dbuf {
	uint8_t *p;
	size_t len, cap;
	uint32_t n;
};

static int dbuf_put(struct cctx *c, struct dbuf *b, const void *src, size_t n)
{
	if (b->len + n > b->cap) {
		size_t nc = b->cap ? b->cap : 1024;
		while (nc < b->len + n)
			nc *= 2;
		uint8_t *np = realloc(b->p, nc);
		if (!np)
			return c_nomem(c);
		b->p = np;
		b->cap = nc;
	}
	memcpy(b->p + b->len, src, n);
	b->len += n;
	return DDI_EOK;
}

static int dbuf_rr(struct cctx *c, struct dbuf *b, const uint8_t *owner, uint16_t type,
                   uint32_t ttl, const uint8_t *item)
{
	uint8_t f[8];
	uint16_t rdlen = dns_get16(item);
	dns_put16(f, type);
	dns_put32(f + 2, ttl);
	dns_put16(f + 6, rdlen);
	int rc = dbuf_put(c, b, owner, dns_name_len(owner));
	if (rc == 0)
		rc = dbuf_put(c, b, f, 8);
	if (rc == 0)
		rc = dbuf_put(c, b, item + 2, rdlen);
	if (rc == 0)
		b->n++;
	return rc;
}

static bool items_has(const uint8_t *p, size_t len, const uint8_t *item)
{
	size_t il = 2 + (size_t)dns_get16(item);
	for (size_t off = 0; off + 2 <= len;) {
		size_t l = 2 + (size_t)dns_get16(p + off);
		if (l == il && memcmp(p + off, item, l) == 0)
			return true;
		off += l;
	}
	return false;
}

/* The items of a that are not in b (all of them when the TTLs differ) go into out. */
static int items_minus(struct cctx *c, struct dbuf *out, const uint8_t *owner, uint16_t type,
                       uint32_t ttl, const uint8_t *a, size_t alen, const uint8_t *b, size_t blen,
                       bool all)
{
	for (size_t off = 0; off + 2 <= alen;) {
		size_t l = 2 + (size_t)dns_get16(a + off);
		if (all || !items_has(b, blen, a + off)) {
			int rc = dbuf_rr(c, out, owner, type, ttl, a + off);
			if (rc)
				return rc;
		}
		off += l;
	}
	return DDI_EOK;
}

struct zdiff {
	struct dbuf rem, add;
	uint8_t soa_old[2 + 65535];   /* first SOA item (rdlen rdata), 0 length: none */
	uint8_t soa_new[2 + 65535];
	uint32_t ttl_old, ttl_new;
	bool have_old, have_new;
};

/* The deepest touched zone holding the rrsets key k, or NULL. */
static struct tzone *cap_zone(struct cctx *c, const uint8_t *k, size_t klen)
{
	struct tzone *best = NULL;
	for (size_t i = 0; i < c->nzones; i++) {
		struct tzone *t = &c->zones[i];
		size_t al = t->z.klen - 1;
		if (klen - 3 >= al && memcmp(k, t->z.key, al) == 0 && (!best || al > best->z.klen - 1))
			best = t;
	}
	return best;
}

/* Add the change of one RRset (first capture d) to the zone's difference. */
static int zdiff_rrset(struct cctx *c, struct zdiff *zd, const struct dcap *d)
{
	const uint8_t *k = c->darena + d->koff;
	uint16_t type = dns_get16(k + d->klen - 2);
	uint8_t owner[DNS_NAME_MAXLEN];
	struct rrval now;
	if (dns_key_to_name(owner, k, d->klen - 3) <= 0)
		return seterr(c->err, DDI_EINVAL, -1, "differences: bad owner key");
	int rc = rrset_read(c, k, d->klen - 3, type, &now);
	if (rc && rc != DDI_ENOENT)
		return rc;
	bool have_now = rc == 0;
	const uint8_t *old = c->darena + d->voff;
	size_t oldlen = d->count ? d->vlen : 0, nowlen = have_now ? now.len : 0;
	uint32_t nowttl = have_now ? now.ttl : 0;
	if (!have_now)
		now.rdatas = NULL;
	if (type == DNS_T_SOA) {
		/* the apex's SOA frames the difference; one SOA per zone (checked at zone_finish) */
		if (oldlen >= 2 && !zd->have_old) {
			memcpy(zd->soa_old, old, 2 + (size_t)dns_get16(old));
			zd->ttl_old = d->ttl;
			zd->have_old = true;
		}
		if (nowlen >= 2) {
			memcpy(zd->soa_new, now.rdatas, 2 + (size_t)dns_get16(now.rdatas));
			zd->ttl_new = nowttl;
			zd->have_new = true;
		}
		return DDI_EOK;
	}
	bool ttl_changed = oldlen && nowlen && d->ttl != nowttl;
	if ((rc = items_minus(c, &zd->rem, owner, type, d->ttl, old, oldlen, now.rdatas, nowlen,
	                      ttl_changed)) != 0)
		return rc;
	/* now.rdatas points into the map, which the writes to rem/add (heap) do not move */
	return items_minus(c, &zd->add, owner, type, nowttl, now.rdatas, nowlen, old, oldlen,
	                   ttl_changed);
}

/* One capture's PTRs if they belong to the zone: items and TTL; false when none. */
static bool synth_part(const struct cctx *c, const struct tzone *tz, size_t off, size_t len,
                       const uint8_t **items, size_t *ilen, uint32_t *ttl)
{
	const uint8_t *p = c->darena + off;
	*items = NULL;
	*ilen = 0;
	*ttl = 0;
	if (len == 0 || !dns_name_equal(p, tz->z.apex))
		return false;
	size_t nl = dns_name_len(p);
	*ttl = dns_get32(p + nl);
	*items = p + nl + 4;
	*ilen = len - nl - 4;
	return true;
}

/* The synthesized PTRs of one address that left and came in this zone (RFC 1995 4). */
static int zdiff_synth(struct cctx *c, struct zdiff *zd, const struct tzone *tz,
                       const struct acap *a)
{
	const uint8_t *bi, *ai;
	size_t bl, al;
	uint32_t bt, at;
	bool had = synth_part(c, tz, a->boff, a->blen, &bi, &bl, &bt);
	bool has = synth_part(c, tz, a->aoff, a->alen, &ai, &al, &at);
	if (!had && !has)
		return DDI_EOK;
	uint8_t rev[DNS_NAME_MAXLEN];
	addr_reverse(rev, a->ak);
	bool ttl_changed = had && has && bt != at;
	int rc = items_minus(c, &zd->rem, rev, DNS_T_PTR, bt, bi, bl, ai, al, ttl_changed);
	if (rc == 0)
		rc = items_minus(c, &zd->add, rev, DNS_T_PTR, at, ai, al, bi, bl, ttl_changed);
	return rc;
}

static size_t dkey_make(uint8_t out[DIFF_KEY_MAX], const struct zrec *z, uint64_t seq)
{
	memcpy(out, z->key, z->klen);
	put64(out + z->klen, seq);
	return z->klen + 8;
}

/* Delete every entry of db whose key starts with K(apex) 0x00. */
static int zone_prefix_delete(struct cctx *c, MDB_dbi db, const struct zrec *z, const char *what)
{
	MDB_cursor *cur;
	MDB_val k, v;
	int rc = mdb_cursor_open(c->txn, db, &cur);
	if (rc)
		return c_mdb(c, rc, what);
	for (;;) {   /* seek the prefix again after each delete: simple, and bounded by retention */
		k.mv_size = z->klen;
		k.mv_data = (void *)z->key;
		rc = mdb_cursor_get(cur, &k, &v, MDB_SET_RANGE);
		if (rc || !has_prefix(&k, z->key, z->klen))
			break;
		if ((rc = mdb_cursor_del(cur, 0)) != 0)
			break;
	}
	mdb_cursor_close(cur);
	if (rc && rc != MDB_NOTFOUND)
		return c_mdb(c, rc, what);
	return DDI_EOK;
}

/* Oldest first: drop entries while the zone holds more than the limits allow. */
static int diff_retain(struct cctx *c, const struct zrec *z)
{
	MDB_cursor *cur;
	MDB_val k = { z->klen, (void *)z->key }, v;
	size_t n = 0, bytes = 0;
	int rc = mdb_cursor_open(c->txn, c->s->diffs, &cur);
	if (rc)
		return c_mdb(c, rc, "diffs");
	for (rc = mdb_cursor_get(cur, &k, &v, MDB_SET_RANGE); rc == 0 && has_prefix(&k, z->key, z->klen);
	     rc = mdb_cursor_get(cur, &k, &v, MDB_NEXT)) {
		n++;
		bytes += k.mv_size + v.mv_size;
	}
	k.mv_size = z->klen;
	k.mv_data = (void *)z->key;
	for (rc = mdb_cursor_get(cur, &k, &v, MDB_SET_RANGE);
	     rc == 0 && n > 1 && (n > c->s->diff_max_depth || bytes > c->s->diff_max_usage) &&
	     has_prefix(&k, z->key, z->klen);
	     rc = mdb_cursor_get(cur, &k, &v, MDB_GET_CURRENT)) {
		n--;
		bytes -= k.mv_size + v.mv_size;
		if ((rc = mdb_cursor_del(cur, 0)) != 0)
			break;
	}
	mdb_cursor_close(cur);
	if (rc && rc != MDB_NOTFOUND && rc != EINVAL)
		return c_mdb(c, rc, "diffs");
	return DDI_EOK;
}

static int diff_put(struct cctx *c, const struct zrec *z, uint64_t seq, uint8_t flags,
                    uint32_t from, uint32_t to, const struct zdiff *zd)
{
	uint8_t dk[DIFF_KEY_MAX];
	bool brk = flags & STORE_DIFF_BREAK;
	size_t body = brk ? 0 : zd->rem.len + zd->add.len;
	MDB_val k = { dkey_make(dk, z, seq), dk }, v = { DIFF_HDR + body, NULL };
	int rc = mdb_put(c->txn, c->s->diffs, &k, &v, MDB_RESERVE);
	if (rc)
		return c_mdb(c, rc, "diffs");
	uint8_t *p = v.mv_data;
	p[0] = STORE_DIFF_VERSION;
	p[1] = flags;
	put64(p + 2, seq);
	put64(p + 10, (uint64_t)now_ns());
	dns_put32(p + 18, from);
	dns_put32(p + 22, to);
	dns_put32(p + 26, brk ? 0 : zd->rem.n);
	dns_put32(p + 30, brk ? 0 : zd->add.n);
	if (!brk) {
		memcpy(p + DIFF_HDR, zd->rem.p, zd->rem.len);
		memcpy(p + DIFF_HDR + zd->rem.len, zd->add.p, zd->add.len);
	}
	return diff_retain(c, z);
}

static uint32_t soa_serial_of(const uint8_t *item)
{
	return dns_soa_serial(item + 2, dns_get16(item));
}

/* The current serial of the zone (for a BREAK); 0 when it cannot be read. */
static uint32_t zone_serial_now(struct cctx *c, const struct zrec *z)
{
	struct rrval soa;
	if (rrset_read(c, z->key, z->klen - 1, DNS_T_SOA, &soa) != 0 || soa.len < 2)
		return 0;
	return soa_serial_of(soa.rdatas);
}

/* The difference of one changed zone from the (sorted) captures. */
static int diff_zone(struct cctx *c, struct tzone *tz, uint64_t seq, struct zdiff *zd)
{
	int rc = DDI_EOK;
	bool any = false;
	memset(&zd->rem, 0, sizeof(zd->rem));
	memset(&zd->add, 0, sizeof(zd->add));
	zd->have_old = zd->have_new = false;
	if (c->bulk || c->dover) {
		if (!tz->changed)
			return DDI_EOK;
		return diff_put(c, &tz->z, seq, STORE_DIFF_BREAK, 0, zone_serial_now(c, &tz->z), zd);
	}
	for (size_t i = 0; i < c->ncaps && rc == 0; i++) {
		const struct dcap *d = &c->caps[i];
		if (i > 0 && d->klen == c->caps[i - 1].klen &&
		    memcmp(c->darena + d->koff, c->darena + c->caps[i - 1].koff, d->klen) == 0)
			continue;   /* only the first capture of a key holds the value before */
		if (cap_zone(c, c->darena + d->koff, d->klen) != tz)
			continue;
		any = true;
		rc = zdiff_rrset(c, zd, d);
	}
	for (size_t i = 0; i < c->nacaps && rc == 0; i++)
		rc = zdiff_synth(c, zd, tz, &c->acaps[i]);
	if (rc == 0 && any && !zd->have_old)
		rc = zone_prefix_delete(c, c->s->diffs, &tz->z, "diffs");   /* a new zone: no history */
	if (rc || !any || !zd->have_old || !zd->have_new)
		goto out;
	uint32_t from = soa_serial_of(zd->soa_old), to = soa_serial_of(zd->soa_new);
	size_t size = DIFF_HDR + zd->rem.len + zd->add.len + 2 * (dns_name_len(tz->z.apex) + 8) +
	              dns_get16(zd->soa_old) + dns_get16(zd->soa_new);
	if (!serial_gt(to, from) || size > c->s->diff_max_usage) {
		/* RFC 1995 can only carry a change to a newer serial; too large is not kept */
		rc = diff_put(c, &tz->z, seq, STORE_DIFF_BREAK, from, to, zd);
		goto out;
	}
	/* the SOAs first in each part (RFC 1995 4): rebuild with them in front */
	struct dbuf rem = { 0 }, add = { 0 };
	rc = dbuf_rr(c, &rem, tz->z.apex, DNS_T_SOA, zd->ttl_old, zd->soa_old);
	if (rc == 0)
		rc = dbuf_put(c, &rem, zd->rem.p ? zd->rem.p : (const uint8_t *)"", zd->rem.len);
	if (rc == 0)
		rc = dbuf_rr(c, &add, tz->z.apex, DNS_T_SOA, zd->ttl_new, zd->soa_new);
	if (rc == 0)
		rc = dbuf_put(c, &add, zd->add.p ? zd->add.p : (const uint8_t *)"", zd->add.len);
	rem.n += zd->rem.n;
	add.n += zd->add.n;
	free(zd->rem.p);
	free(zd->add.p);
	zd->rem = rem;
	zd->add = add;
	if (rc == 0)
		rc = diff_put(c, &tz->z, seq, 0, from, to, zd);
out:
	free(zd->rem.p);
	free(zd->add.p);
	zd->rem.p = zd->add.p = NULL;
	return rc;
}

int diff_finish(struct cctx *c, uint64_t seq)
{
	int rc = DDI_EOK;
	if (!c->s->xfr_dbs || c->nzones == 0)
		return DDI_EOK;
	if (c->ncaps > 1) {
		g_arena = c->darena;   /* the writer lock serializes commits of this process */
		qsort(c->caps, c->ncaps, sizeof(*c->caps), dcap_cmp);
	}
	/* the addresses: the first capture of each holds the PTRs before; read them after */
	if (c->nacaps > 1)
		qsort(c->acaps, c->nacaps, sizeof(*c->acaps), acap_cmp);
	size_t n = 0;
	for (size_t i = 0; i < c->nacaps && rc == 0; i++) {
		if (n > 0 && memcmp(c->acaps[n - 1].ak, c->acaps[i].ak, 17) == 0)
			continue;
		c->acaps[n] = c->acaps[i];
		rc = synth_put(c, c->acaps[n].ak, &c->acaps[n].aoff, &c->acaps[n].alen);
		n++;
	}
	c->nacaps = n;
	if (rc)
		return rc;
	struct zdiff *zd = malloc(sizeof(*zd));
	if (!zd)
		return c_nomem(c);
	for (size_t i = 0; i < c->nzones && rc == 0; i++) {
		struct tzone *tz = &c->zones[i];
		if (tz->removed) {
			rc = zone_prefix_delete(c, c->s->diffs, &tz->z, "diffs");
			if (rc == 0)
				rc = zone_prefix_delete(c, c->s->zone_acl, &tz->z, "zone_acl");
		} else if (tz->added) {
			rc = zone_prefix_delete(c, c->s->diffs, &tz->z, "diffs");
		} else {
			rc = diff_zone(c, tz, seq, zd);
		}
	}
	free(zd);
	return rc;
}

/* ------------------------------------------------------------------------ */
/* zone_acl                                                                 */
/* ------------------------------------------------------------------------ */

int op_acl(struct cctx *c, const struct store_op *op)
{
	char nb[DNS_NAME_STRLEN];
	struct zrec z;
	if (!op->zone || dns_name_check(op->zone, DNS_NAME_MAXLEN) <= 0)
		return seterr(c->err, DDI_EINVAL, c->op, "op %ld: no valid zone name", c->op);
	if (!c->s->xfr_dbs)
		return seterr(c->err, DDI_ESCHEMA, c->op, "the store has no zone_acl database "
		              "(opened read-only?)");
	z.klen = zkey_make(z.key, op->zone);
	int rc = zone_read(c->s, c->txn, z.key, z.klen, &z, c->err);
	if (rc == DDI_ENOENT && (op->flags & STORE_OPF_NO_ZONE)) {
		/* the catalog zone: generated by control/xfr, it is no zone of the store */
		memcpy(z.apex, op->zone, dns_name_len(op->zone));
		dns_name_lower(z.apex);
		rc = DDI_EOK;
	}
	if (rc == DDI_ENOENT)
		return seterr(c->err, DDI_ENOZONE, c->op, "no zone %s", nstr(nb, op->zone));
	if (rc)
		return rc;
	MDB_val k = { z.klen, z.key }, v;
	bool had = (rc = mdb_get(c->txn, c->s->zone_acl, &k, &v)) == 0;
	if (rc && rc != MDB_NOTFOUND)
		return c_mdb(c, rc, "zone_acl");
	if (op->count == 0) {
		if (!had)
			return DDI_EOK;
		if ((rc = mdb_del(c->txn, c->s->zone_acl, &k, NULL)) != 0)
			return c_mdb(c, rc, "zone_acl");
		return journal_op(c, STORE_J_ACL_SET, z.apex, z.apex, 0, 1, 0);
	}
	if (!op->rdatas || !op->rdatas_len || op->rdatas_len > 1u << 20)
		return seterr(c->err, DDI_EINVAL, c->op, "op %ld: no value", c->op);
	json_t *j = json_loadb((const char *)op->rdatas, op->rdatas_len, 0, NULL);
	bool ok = json_is_object(j);
	json_decref(j);
	if (!ok)
		return seterr(c->err, DDI_EINVAL, c->op, "op %ld: the ACL is not a JSON object", c->op);
	if (had && v.mv_size == op->rdatas_len && memcmp(v.mv_data, op->rdatas, v.mv_size) == 0)
		return DDI_EOK;   /* no change */
	v.mv_size = op->rdatas_len;
	v.mv_data = (void *)op->rdatas;
	if ((rc = mdb_put(c->txn, c->s->zone_acl, &k, &v, 0)) != 0)
		return c_mdb(c, rc, "zone_acl");
	return journal_op(c, STORE_J_ACL_SET, z.apex, z.apex, 0, had, 1);
}

/*
 * The prelude of a read keyed by a zone (its ACL, its differences): the
 * apex checked and lower-cased into lc, its key into zk, a read transaction
 * (tx or its own in *own). DDI_ENOENT when the store has no transfer
 * databases yet (a store made before them); errors as read_begin.
 */
static int zone_read_begin(struct store *s, struct store_txn *tx, const uint8_t *apex,
                           uint8_t lc[DNS_NAME_MAXLEN], uint8_t zk[ZKEY_MAX], size_t *zklen,
                           struct store_txn *own, MDB_txn **txn, struct store_error *err)
{
	clearerr_(err);
	if (!apex || dns_name_check(apex, DNS_NAME_MAXLEN) <= 0)
		return seterr(err, DDI_EINVAL, -1, "no valid zone name");
	if (!s->xfr_dbs)
		return DDI_ENOENT;
	memcpy(lc, apex, dns_name_len(apex));
	dns_name_lower(lc);
	*zklen = zkey_make(zk, lc);
	return read_begin(s, tx, own, txn, err);
}

int store_acl_get(struct store *s, struct store_txn *tx, const uint8_t *apex, store_value_cb cb,
                  void *ctx, struct store_error *err)
{
	struct store_txn own;
	MDB_txn *txn;
	uint8_t zk[ZKEY_MAX], lc[DNS_NAME_MAXLEN];
	size_t zklen;
	char hb[128];
	int rc = zone_read_begin(s, tx, apex, lc, zk, &zklen, &own, &txn, err);
	if (rc)
		return rc;
	MDB_val k = { zklen, zk }, v;
	rc = mdb_get(txn, s->zone_acl, &k, &v);
	if (rc == MDB_NOTFOUND)
		rc = DDI_ENOENT;
	else if (rc)
		rc = mdb_fail(err, rc, "zone_acl");
	else if (v.mv_size == 0 || v.mv_size > 1u << 20)
		rc = seterr(err, DDI_ECORRUPT, -1, "zone_acl value of key %s does not validate",
		            khex(hb, k.mv_data, k.mv_size));
	else
		rc = cb(ctx, lc, v.mv_data, v.mv_size);
	read_end(&own);
	return rc;
}

/* ------------------------------------------------------------------------ */
/* Reading differences                                                      */
/* ------------------------------------------------------------------------ */

int store_diff_rr_next(const struct store_diff *d, size_t *off, struct store_rr *rr)
{
	if (*off >= d->rrs_len)
		return 0;
	const uint8_t *p = d->rrs + *off;
	size_t nl = dns_name_len(p);
	rr->owner = p;
	rr->type = dns_get16(p + nl);
	rr->ttl = dns_get32(p + nl + 2);
	rr->rdlen = dns_get16(p + nl + 6);
	rr->rdata = p + nl + 8;
	*off += nl + 8 + rr->rdlen;
	return 1;
}

/* One RR of a stored difference, checked; *serial set when it is an SOA. */
static bool diff_rr_check(const uint8_t *p, size_t len, size_t *used, const uint8_t *apex,
                          bool want_soa, uint32_t want_serial)
{
	int nl = dns_name_check(p, len);
	if (nl <= 0 || len - (size_t)nl < 8)
		return false;
	uint16_t type = dns_get16(p + nl), rdlen = dns_get16(p + nl + 6);
	uint32_t ttl = dns_get32(p + nl + 2);
	if (!type_storable(type) || ttl > STORE_TTL_MAX || len - (size_t)nl - 8 < rdlen)
		return false;
	const uint8_t *rd = p + nl + 8;
	if (dns_rdata_check(type, rd, rdlen) != DDI_EOK)
		return false;
	if (!dns_name_is_sub(p, apex))
		return false;
	if (want_soa && (type != DNS_T_SOA || !dns_name_equal(p, apex) ||
	                 dns_soa_serial(rd, rdlen) != want_serial))
		return false;
	if (!want_soa && type == DNS_T_SOA)
		return false;   /* one SOA per part, first */
	*used = (size_t)nl + 8 + rdlen;
	return true;
}

static bool diff_parse(const MDB_val *k, const MDB_val *v, const uint8_t *apex, size_t zklen,
                       struct store_diff *d)
{
	const uint8_t *p = v->mv_data;
	if (k->mv_size != zklen + 8 || v->mv_size < DIFF_HDR || p[0] != STORE_DIFF_VERSION ||
	    (p[1] & ~STORE_DIFF_BREAK) != 0)
		return false;
	d->flags = p[1];
	d->seq = get64(p + 2);
	d->time_ns = (int64_t)get64(p + 10);
	d->serial_from = dns_get32(p + 18);
	d->serial_to = dns_get32(p + 22);
	d->nrem = dns_get32(p + 26);
	d->nadd = dns_get32(p + 30);
	d->rrs = p + DIFF_HDR;
	d->rrs_len = v->mv_size - DIFF_HDR;
	if (d->seq != get64((const uint8_t *)k->mv_data + zklen))
		return false;
	if (d->flags & STORE_DIFF_BREAK)
		return d->nrem == 0 && d->nadd == 0 && d->rrs_len == 0;
	if (d->nrem == 0 || d->nadd == 0 || !serial_gt(d->serial_to, d->serial_from))
		return false;
	size_t off = 0;
	for (uint64_t i = 0; i < (uint64_t)d->nrem + d->nadd; i++) {
		size_t used;
		bool first = i == 0 || i == d->nrem;
		if (off >= d->rrs_len ||
		    !diff_rr_check(d->rrs + off, d->rrs_len - off, &used, apex, first,
		                   i == 0 ? d->serial_from : d->serial_to))
			return false;
		off += used;
	}
	return off == d->rrs_len;
}

int store_diff_walk(struct store *s, struct store_txn *tx, const uint8_t *apex,
                    int (*cb)(void *ctx, const struct store_diff *d), void *ctx,
                    struct store_error *err)
{
	struct store_txn own;
	MDB_txn *txn;
	MDB_cursor *cur;
	uint8_t zk[ZKEY_MAX], lc[DNS_NAME_MAXLEN];
	size_t zklen;
	char hb[128];
	int rc = zone_read_begin(s, tx, apex, lc, zk, &zklen, &own, &txn, err);
	if (rc == DDI_ENOENT && !s->xfr_dbs)
		return DDI_EOK;   /* no differences database yet: no differences */
	if (rc)
		return rc;
	if ((rc = mdb_cursor_open(txn, s->diffs, &cur)) != 0) {
		read_end(&own);
		return mdb_fail(err, rc, "diffs");
	}
	MDB_val k = { zklen, zk }, v;
	int cbrc = 0;
	for (rc = mdb_cursor_get(cur, &k, &v, MDB_SET_RANGE); rc == 0 && has_prefix(&k, zk, zklen);
	     rc = mdb_cursor_get(cur, &k, &v, MDB_NEXT)) {
		struct store_diff d;
		if (!diff_parse(&k, &v, lc, zklen, &d)) {
			cbrc = seterr(err, DDI_ECORRUPT, -1, "diffs value of key %s does not validate",
			              khex(hb, k.mv_data, k.mv_size));
			break;
		}
		if ((cbrc = cb(ctx, &d)) != 0)
			break;
	}
	mdb_cursor_close(cur);
	read_end(&own);
	if (cbrc)
		return cbrc;
	if (rc && rc != MDB_NOTFOUND)
		return mdb_fail(err, rc, "diffs");
	return DDI_EOK;
}

/* ------------------------------------------------------------------------ */
/* Snapshots for transfers                                                  */
/* ------------------------------------------------------------------------ */

int store_read_begin(struct store *s, struct store_txn **out, struct store_error *err)
{
	clearerr_(err);
	struct store_txn *t = calloc(1, sizeof(*t));
	if (!t)
		return seterr(err, DDI_ENOMEM, -1, "out of memory");
	int rc = txn_open(s, NULL, false, t, err);
	if (rc) {
		free(t);
		return rc;
	}
	*out = t;
	return DDI_EOK;
}

void store_read_end(struct store_txn *t)
{
	if (!t)
		return;
	txn_close(t, false, NULL);
	free(t);
}

int store_zone_walk_in(struct store *s, struct store_txn *tx, const uint8_t *apex,
                       store_rrset_cb cb, void *ctx, struct store_error *err)
{
	struct store_txn own;
	MDB_txn *txn;
	struct zrec z;
	uint8_t lc[DNS_NAME_MAXLEN];
	clearerr_(err);
	if (!apex || dns_name_check(apex, DNS_NAME_MAXLEN) <= 0)
		return seterr(err, DDI_EINVAL, -1, "no valid zone name");
	memcpy(lc, apex, dns_name_len(apex));
	dns_name_lower(lc);
	int rc = read_begin(s, tx, &own, &txn, err);
	if (rc)
		return rc;
	z.klen = zkey_make(z.key, lc);
	rc = zone_read(s, txn, z.key, z.klen, &z, err);
	if (rc == DDI_ENOENT)
		rc = seterr(err, DDI_ENOZONE, -1, "no zone %s", nstr((char[DNS_NAME_STRLEN]){ 0 }, lc));
	if (rc == 0)
		rc = zone_walk_txn(s, txn, &z, cb, ctx, err);
	read_end(&own);
	return rc;
}

int store_addr_walk_in(struct store *s, struct store_txn *tx, int family, const uint8_t *prefix,
                       unsigned plen,
                       int (*cb)(void *ctx, int family, const uint8_t *addr, const uint8_t *owner),
                       void *ctx, struct store_error *err)
{
	struct store_txn own;
	MDB_txn *txn;
	MDB_cursor *cur;
	uint8_t start[17] = { 0 };
	char hb[128];
	size_t alen = family == 4 ? 4 : 16;
	clearerr_(err);
	if ((family != 4 && family != 6) || plen > alen * 8)
		return seterr(err, DDI_EINVAL, -1, "bad address prefix");
	start[0] = (uint8_t)family;
	memcpy(start + 1, prefix, (plen + 7) / 8);
	if (plen % 8)
		start[1 + plen / 8] &= (uint8_t)(0xff << (8 - plen % 8));
	int rc = read_begin(s, tx, &own, &txn, err);
	if (rc)
		return rc;
	if ((rc = mdb_cursor_open(txn, s->addrs, &cur)) != 0) {
		read_end(&own);
		return mdb_fail(err, rc, "addresses");
	}
	MDB_val k = { 1 + alen, start }, v;
	int cbrc = 0;
	for (rc = mdb_cursor_get(cur, &k, &v, MDB_SET_RANGE); rc == 0;
	     rc = mdb_cursor_get(cur, &k, &v, MDB_NEXT)) {
		const uint8_t *a = k.mv_data;
		if (k.mv_size != 1 + alen || a[0] != family)
			break;   /* past the family */
		/* inside the prefix: the first plen bits agree */
		size_t full = plen / 8;
		if (memcmp(a + 1, start + 1, full) != 0 ||
		    (plen % 8 && ((a[1 + full] ^ start[1 + full]) & (uint8_t)(0xff << (8 - plen % 8)))))
			break;
		if (v.mv_size == 0 || dns_name_check(v.mv_data, v.mv_size) != (int)v.mv_size) {
			cbrc = seterr(err, DDI_ECORRUPT, -1, "addresses value of key %s does not validate",
			              khex(hb, k.mv_data, k.mv_size));
			break;
		}
		if ((cbrc = cb(ctx, family, a + 1, v.mv_data)) != 0)
			break;
	}
	mdb_cursor_close(cur);
	read_end(&own);
	if (cbrc)
		return cbrc;
	if (rc && rc != MDB_NOTFOUND)
		return mdb_fail(err, rc, "addresses");
	return DDI_EOK;
}

/* ------------------------------------------------------------------------ */
/* Synthesized PTRs: one rule for transfers and differences                 */
/* ------------------------------------------------------------------------ */

static uint8_t lc_(uint8_t c)
{
	return c >= 'A' && c <= 'Z' ? (uint8_t)(c + 32) : c;
}

/*
 * The address prefix a reverse name spells: "18.198.in-addr.arpa." is
 * 198.18.0.0/16, each ip6.arpa label one nibble. false for other names and
 * for labels that are no octet/nibble (RFC 2317 classless zones).
 */
static bool reverse_prefix(const uint8_t *name, int *family, uint8_t addr[16], unsigned *plen)
{
	static const uint8_t v4[] = "\7in-addr\4arpa", v6[] = "\3ip6\4arpa";
	const uint8_t *lab[40];
	int n = 0;
	size_t al = dns_name_len(name);
	for (const uint8_t *p = name; *p && n < 40; p += 1 + *p)
		lab[n++] = p;
	memset(addr, 0, 16);
	if (al >= sizeof(v4) && dns_name_equal(name + al - sizeof(v4), v4)) {
		int k = n - 2;
		if (k < 0 || k > 4)
			return false;
		for (int i = 0; i < k; i++) {
			const uint8_t *l = lab[k - 1 - i];
			unsigned v = 0;
			if (l[0] == 0 || l[0] > 3)
				return false;
			for (int j = 1; j <= l[0]; j++) {
				if (l[j] < '0' || l[j] > '9')
					return false;
				v = v * 10 + (unsigned)(l[j] - '0');
			}
			if (v > 255 || (l[0] > 1 && l[1] == '0'))
				return false;
			addr[i] = (uint8_t)v;
		}
		*family = 4;
		*plen = (unsigned)k * 8;
		return true;
	}
	if (al >= sizeof(v6) && dns_name_equal(name + al - sizeof(v6), v6)) {
		int k = n - 2;
		if (k < 0 || k > 32)
			return false;
		for (int i = 0; i < k; i++) {
			const uint8_t *l = lab[k - 1 - i];
			int c = l[0] == 1 ? lc_(l[1]) : -1, v;
			if (c >= '0' && c <= '9')
				v = c - '0';
			else if (c >= 'a' && c <= 'f')
				v = c - 'a' + 10;
			else
				return false;
			addr[i / 2] |= (uint8_t)(i % 2 ? v : v << 4);
		}
		*family = 6;
		*plen = (unsigned)k * 4;
		return true;
	}
	return false;
}

bool reverse_addr_key(const uint8_t *name, uint8_t ak[17])
{
	int family;
	unsigned plen;
	if (!reverse_prefix(name, &family, ak + 1, &plen) || plen != (family == 4 ? 32u : 128u))
		return false;
	ak[0] = (uint8_t)family;
	return true;
}

/* The smallest TTL of the owner's A/AAAA RRset and *ttl; unchanged when it has none. */
static int synth_ttl(struct store *s, MDB_txn *txn, const uint8_t *owner, uint16_t type,
                     uint32_t *ttl, struct store_error *err)
{
	uint8_t okey[DNS_KEY_MAXLEN], rk[RKEY_MAX];
	char hb[128];
	struct rrval rv;
	int okl = dns_name_to_key(okey, owner);
	if (okl < 0)
		return seterr(err, DDI_ECORRUPT, -1, "addresses: bad owner name");
	MDB_val k = { rkey_make(rk, okey, (size_t)okl, type), rk }, v;
	int rc = mdb_get(txn, s->rrsets, &k, &v);
	if (rc == MDB_NOTFOUND)
		return DDI_EOK;
	if (rc)
		return mdb_fail(err, rc, "rrsets");
	if (!rrval_parse(&v, type, &rv))
		return seterr(err, DDI_ECORRUPT, -1, "rrsets value of key %s does not validate",
		              khex(hb, k.mv_data, k.mv_size));
	if (rv.ttl < *ttl)
		*ttl = rv.ttl;
	return DDI_EOK;
}

int synth_ptr_txn(struct store *s, MDB_txn *txn, const uint8_t ak[17], struct store_synth *out,
                  struct store_error *err)
{
	MDB_cursor *cur;
	char hb[128];
	size_t alen = ak[0] == 4 ? 4 : 16;
	uint16_t type = ak[0] == 4 ? DNS_T_A : DNS_T_AAAA;
	int rc = mdb_cursor_open(txn, s->addrs, &cur);
	if (rc)
		return mdb_fail(err, rc, "addresses");
	MDB_val k = { 1 + alen, (void *)ak }, v;
	out->n = 0;
	for (rc = mdb_cursor_get(cur, &k, &v, MDB_SET_KEY); rc == 0 && out->n < STORE_SYNTH_MAX;
	     rc = mdb_cursor_get(cur, &k, &v, MDB_NEXT_DUP)) {
		if (v.mv_size == 0 || dns_name_check(v.mv_data, v.mv_size) != (int)v.mv_size) {
			mdb_cursor_close(cur);
			return seterr(err, DDI_ECORRUPT, -1, "addresses value of key %s does not validate",
			              khex(hb, ak, 1 + alen));
		}
		memcpy(out->targets[out->n++], v.mv_data, v.mv_size);
	}
	mdb_cursor_close(cur);
	if (rc && rc != MDB_NOTFOUND)
		return mdb_fail(err, rc, "addresses");
	if (out->n == 0)
		return 0;
	out->family = ak[0];
	memset(out->addr, 0, sizeof(out->addr));
	memcpy(out->addr, ak + 1, alen);
	addr_reverse(out->rev, ak);
	/* a stored PTR answers instead */
	uint8_t rk[RKEY_MAX], okey[DNS_KEY_MAXLEN];
	int okl = dns_name_to_key(okey, out->rev);
	MDB_val pk = { rkey_make(rk, okey, (size_t)okl, DNS_T_PTR), rk }, pv;
	if ((rc = mdb_get(txn, s->rrsets, &pk, &pv)) == 0)
		return 0;
	if (rc != MDB_NOTFOUND)
		return mdb_fail(err, rc, "rrsets");
	struct zrec z;
	if ((rc = zone_find(s, txn, okey, (size_t)okl, &z, err)) == DDI_ENOENT)
		return 0;
	if (rc)
		return rc;
	memcpy(out->zone, z.apex, dns_name_len(z.apex));
	out->ttl = STORE_TTL_MAX;
	for (unsigned i = 0; i < out->n; i++)
		if ((rc = synth_ttl(s, txn, out->targets[i], type, &out->ttl, err)) != 0)
			return rc;
	return 1;
}

int store_synth_ptr(struct store *s, struct store_txn *tx, int family, const uint8_t *addr,
                    struct store_synth *out, struct store_error *err)
{
	struct store_txn own;
	MDB_txn *txn;
	uint8_t ak[17];
	clearerr_(err);
	if ((family != 4 && family != 6) || !addr || !out)
		return seterr(err, DDI_EINVAL, -1, "bad address");
	ak[0] = (uint8_t)family;
	memcpy(ak + 1, addr, family == 4 ? 4 : 16);
	int rc = read_begin(s, tx, &own, &txn, err);
	if (rc)
		return rc;
	rc = synth_ptr_txn(s, txn, ak, out, err);
	read_end(&own);
	return rc;
}

int store_synth_walk_in(struct store *s, struct store_txn *tx, const uint8_t *apex,
                        int (*cb)(void *ctx, const struct store_synth *sy), void *ctx,
                        struct store_error *err)
{
	struct store_txn own;
	MDB_txn *txn;
	MDB_cursor *cur;
	uint8_t lc[DNS_NAME_MAXLEN], start[17] = { 0 }, ak[17];
	int family;
	unsigned plen;
	clearerr_(err);
	if (!apex || dns_name_check(apex, DNS_NAME_MAXLEN) <= 0)
		return seterr(err, DDI_EINVAL, -1, "no valid zone name");
	memcpy(lc, apex, dns_name_len(apex));
	dns_name_lower(lc);
	if (!reverse_prefix(lc, &family, start + 1, &plen))
		return DDI_EOK;   /* no reverse zone: nothing synthesized */
	start[0] = (uint8_t)family;
	size_t alen = family == 4 ? 4 : 16, full = plen / 8;
	struct store_synth *sy = malloc(sizeof(*sy));
	if (!sy)
		return seterr(err, DDI_ENOMEM, -1, "out of memory");
	int rc = read_begin(s, tx, &own, &txn, err);
	if (rc) {
		free(sy);
		return rc;
	}
	if ((rc = mdb_cursor_open(txn, s->addrs, &cur)) != 0) {
		read_end(&own);
		free(sy);
		return mdb_fail(err, rc, "addresses");
	}
	MDB_val k = { 1 + alen, start }, v;
	int cbrc = 0;
	for (rc = mdb_cursor_get(cur, &k, &v, MDB_SET_RANGE); rc == 0;
	     rc = mdb_cursor_get(cur, &k, &v, MDB_NEXT_NODUP)) {
		const uint8_t *a = k.mv_data;
		if (k.mv_size != 1 + alen || a[0] != family)
			break;   /* past the family */
		if (memcmp(a + 1, start + 1, full) != 0 ||
		    (plen % 8 && ((a[1 + full] ^ start[1 + full]) & (uint8_t)(0xff << (8 - plen % 8)))))
			break;   /* past the prefix */
		memcpy(ak, a, 1 + alen);
		int r = synth_ptr_txn(s, txn, ak, sy, err);
		if (r < 0) {
			cbrc = r;
			break;
		}
		if (r == 1 && dns_name_equal(sy->zone, lc) && (cbrc = cb(ctx, sy)) != 0)
			break;
	}
	mdb_cursor_close(cur);
	read_end(&own);
	free(sy);
	if (cbrc)
		return cbrc;
	if (rc && rc != MDB_NOTFOUND)
		return mdb_fail(err, rc, "addresses");
	return DDI_EOK;
}
