/* test_radix -- the address radix trees against a sorted-array oracle: find, count, next free */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "dns/errcode.h"
#include "index/radix.h"

typedef unsigned __int128 u128;

static uint64_t rng_state = 0x2545f4914f6cdd1dULL;

static uint64_t rnd(void)
{
	rng_state ^= rng_state >> 12;
	rng_state ^= rng_state << 25;
	rng_state ^= rng_state >> 27;
	return rng_state * 0x2545f4914f6cdd1dULL;
}

static void to_bytes(u128 a, int w, uint8_t out[16])
{
	memset(out, 0, 16);
	for (int k = w / 8 - 1; k >= 0; k--) {
		out[k] = (uint8_t)a;
		a >>= 8;
	}
}

static u128 from_bytes(const uint8_t *b, int w)
{
	u128 a = 0;
	for (int k = 0; k < w / 8; k++)
		a = a << 8 | b[k];
	return a;
}

static struct idx_addr *leaf_new(int family, u128 a)
{
	struct idx_addr *l = calloc(1, idx_addr_len(6, 0));
	assert_non_null(l);
	l->family = (uint8_t)family;
	to_bytes(a, radix_width(family), l->addr);
	return l;
}

struct oracle {
	u128 *a;
	struct idx_addr **l;
	size_t n, cap;
};

static size_t lower_bound(const struct oracle *o, u128 a)
{
	size_t lo = 0, hi = o->n;
	while (lo < hi) {
		size_t mid = (lo + hi) / 2;
		if (o->a[mid] < a)
			lo = mid + 1;
		else
			hi = mid;
	}
	return lo;
}

static struct oracle oracle_copy(const struct oracle *o)
{
	struct oracle c = { NULL, NULL, o->n, o->n };
	c.a = malloc((o->n + 1) * sizeof(*c.a));
	c.l = malloc((o->n + 1) * sizeof(*c.l));
	assert_true(c.a && c.l);
	if (o->n) {
		memcpy(c.a, o->a, o->n * sizeof(*c.a));
		memcpy(c.l, o->l, o->n * sizeof(*c.l));
	}
	return c;
}

static void oracle_free(struct oracle *o)
{
	free(o->a);
	free(o->l);
}

static u128 hi_mask(int w, int p)
{
	if (p == 0)
		return 0;
	return (~(u128)0 << (128 - p)) >> (128 - w);
}

static u128 span_of(int w, int p)
{
	return w - p == 128 ? ~(u128)0 : ((u128)1 << (w - p)) - 1;
}

static uint64_t oracle_count(const struct oracle *o, int w, u128 prefix, int plen)
{
	uint64_t n = 0;
	u128 m = hi_mask(w, plen);
	for (size_t k = 0; k < o->n; k++)
		n += (o->a[k] & m) == (prefix & m);
	return n;
}

/* Scan upwards from the low end: the definition of next free. */
static int oracle_next_free(const struct oracle *o, int w, u128 prefix, int plen, uint64_t sl,
                            uint64_t sh, u128 *out)
{
	u128 base = prefix & hi_mask(w, plen), span = span_of(w, plen);
	if ((u128)sl > span || (u128)sh > span - sl)
		return DDI_EFULL;
	u128 x = base + sl, hi = base + span - sh;
	size_t k = lower_bound(o, x);
	for (;;) {
		if (k >= o->n || o->a[k] != x) {
			*out = x;
			return DDI_EOK;
		}
		if (x == hi)
			return DDI_EFULL;
		x++;
		k++;
	}
}

/* 0: rnd_addr's small clusters; 1: dense, nodes of up to 256 children that
 * grow and shrink across versions, with far-apart addresses too. */
static int addr_mode;

/* Addresses that collide often and fill small prefixes, with far-apart bits too. */
static u128 rnd_addr(int w)
{
	if (addr_mode == 1) {
		u128 base = w == 32 ? (u128)0xc6120000 : (u128)0x20010002ULL << 96;
		if (rnd() % 50 == 0)
			return ((u128)rnd() << 64 | rnd()) & span_of(w, 0);
		return base + rnd() % 3000;
	}
	u128 base = w == 32 ? (u128)0xc6120000 : (u128)0x20010002ULL << 96;
	u128 a = base + (rnd() % 24);
	if (rnd() % 3 == 0)
		a ^= (u128)1 << (rnd() % (unsigned)w);
	if (rnd() % 5 == 0)
		a = ((u128)rnd() << 64 | rnd()) & span_of(w, 0);
	if (rnd() % 7 == 0)
		a = span_of(w, 0) - rnd() % 4;   /* the top of the space */
	if (rnd() % 7 == 0)
		a = rnd() % 4;                  /* the bottom */
	return a;
}

struct walk_ctx {
	const struct oracle *o;
	size_t pos;
};

static int walk_check(void *ctx, const struct idx_addr *a)
{
	struct walk_ctx *wc = ctx;
	assert_true(wc->pos < wc->o->n);
	assert_ptr_equal(a, wc->o->l[wc->pos]);
	wc->pos++;
	return 0;
}

static void free_leaf_cb(void *ctx, struct idx_addr *a)
{
	(void)ctx;
	free(a);
}

static void check_all(const void *root, int family, const struct oracle *o)
{
	int w = radix_width(family);
	uint8_t b[16], out[16];

	for (size_t k = 0; k < o->n; k++) {
		to_bytes(o->a[k], w, b);
		assert_ptr_equal(radix_find(root, family, b), o->l[k]);
	}
	assert_int_equal(radix_count(root, family, b, 0), o->n);

	/* radix_find_bulk: present and random addresses together, as radix_find */
	{
		uint8_t qa[40][16];
		struct radix_bulk bq[40];
		for (int i = 0; i < 40; i++) {
			u128 q = (i % 2 && o->n) ? o->a[rnd() % o->n] : rnd_addr(w);
			to_bytes(q, w, qa[i]);
			bq[i] = (struct radix_bulk){ root, family, qa[i], (const void *)1 };
		}
		bq[39].family = 5;   /* not a family: not looked up */
		radix_find_bulk(bq, 40);
		for (int i = 0; i < 39; i++)
			assert_ptr_equal(bq[i].found, radix_find(root, family, qa[i]));
		assert_null(bq[39].found);
	}
	for (int r = 0; r < 30; r++) {
		u128 q = rnd_addr(w);
		size_t at = lower_bound(o, q);
		to_bytes(q, w, b);
		const struct idx_addr *f = radix_find(root, family, b);
		if (at < o->n && o->a[at] == q)
			assert_ptr_equal(f, o->l[at]);
		else
			assert_null(f);

		int plen;
		switch (r % 6) {
		case 0: plen = w; break;
		case 1: plen = w - 1; break;
		case 2: plen = w - (int)(rnd() % 6); break;
		case 3: plen = 0; break;
		default: plen = (int)(rnd() % (unsigned)(w + 1)); break;
		}
		assert_int_equal(radix_count(root, family, b, plen), oracle_count(o, w, q, plen));
		uint64_t sl = rnd() % 3, sh = rnd() % 3;
		u128 want = 0, got;
		int er = oracle_next_free(o, w, q, plen, sl, sh, &want);
		memset(out, 0xee, sizeof(out));
		assert_int_equal(radix_next_free(root, family, b, plen, sl, sh, out), er);
		if (er == DDI_EOK) {
			got = from_bytes(out, w);
			assert_true(got == want);
		}
	}
	struct walk_ctx wc = { o, 0 };
	assert_int_equal(radix_walk(root, walk_check, &wc), 0);
	assert_int_equal(wc.pos, o->n);
}

#define KEEP_OLD 5

struct old_version {
	void *root;
	struct oracle o;
};

static void oracle_run(int family, int mode, int gens, unsigned max_ops)
{
	int w = radix_width(family);
	void *pub = NULL;
	struct oracle o = { 0 };
	struct idx_gc deferred = { 0 };
	struct old_version old[KEEP_OLD];
	size_t nold = 0;
	uint8_t b[16];

	addr_mode = mode;
	for (uint64_t gen = 1; gen <= (uint64_t)gens; gen++) {
		void *root = pub;
		struct idx_gc garbage = { 0 }, created = { 0 };
		struct radix_cow c = { gen, &garbage };
		struct oracle to = oracle_copy(&o);
		int nops = 1 + (int)(rnd() % max_ops);
		bool abort_it = rnd() % 4 == 0;

		/* Room to grow. */
		to.cap = to.n + (size_t)nops + 1;
		to.a = realloc(to.a, to.cap * sizeof(*to.a));
		to.l = realloc(to.l, to.cap * sizeof(*to.l));
		for (int op = 0; op < nops; op++) {
			u128 a = rnd_addr(w);
			size_t at = lower_bound(&to, a);
			bool present = at < to.n && to.a[at] == a;
			struct idx_addr *ol;
			to_bytes(a, w, b);
			if (rnd() % 3 == 0) {
				int r = radix_del(&c, &root, family, b, &ol);
				if (!present) {
					assert_int_equal(r, DDI_ENOENT);
					continue;
				}
				assert_int_equal(r, DDI_EOK);
				assert_ptr_equal(ol, to.l[at]);
				assert_int_equal(idx_gc_push(&garbage, ol), 0);
				memmove(to.a + at, to.a + at + 1, (to.n - at - 1) * sizeof(*to.a));
				memmove(to.l + at, to.l + at + 1, (to.n - at - 1) * sizeof(*to.l));
				to.n--;
			} else {
				struct idx_addr *l = leaf_new(family, a);
				assert_int_equal(idx_gc_push(&created, l), 0);
				assert_int_equal(radix_set(&c, &root, l, &ol), DDI_EOK);
				if (present) {
					assert_ptr_equal(ol, to.l[at]);
					assert_int_equal(idx_gc_push(&garbage, ol), 0);
					to.l[at] = l;
				} else {
					assert_null(ol);
					memmove(to.a + at + 1, to.a + at, (to.n - at) * sizeof(*to.a));
					memmove(to.l + at + 1, to.l + at, (to.n - at) * sizeof(*to.l));
					to.a[at] = a;
					to.l[at] = l;
					to.n++;
				}
			}
		}
		check_all(root, family, &to);
		if (abort_it) {
			radix_free_fresh(root, gen);
			idx_gc_free_all(&created);
			idx_gc_clear(&garbage);
			oracle_free(&to);
			check_all(pub, family, &o);
			continue;
		}
		if (nold == KEEP_OLD) {
			oracle_free(&old[0].o);
			memmove(old, old + 1, (KEEP_OLD - 1) * sizeof(*old));
			nold--;
		}
		old[nold].root = pub;
		old[nold].o = o;
		nold++;
		pub = root;
		o = to;
		for (size_t k = 0; k < garbage.n; k++)
			assert_int_equal(idx_gc_push(&deferred, garbage.v[k]), 0);
		idx_gc_clear(&garbage);
		idx_gc_clear(&created);
		for (size_t k = 0; k < nold; k++)
			check_all(old[k].root, family, &old[k].o);
	}
	assert_true(o.n > 20);
	radix_free(pub, free_leaf_cb, NULL);
	oracle_free(&o);
	for (size_t k = 0; k < nold; k++)
		oracle_free(&old[k].o);
	idx_gc_free_all(&deferred);
	addr_mode = 0;
}

static void test_oracle_v4(void **state)
{
	(void)state;
	oracle_run(4, 0, 300, 30);
}

static void test_oracle_v6(void **state)
{
	(void)state;
	oracle_run(6, 0, 300, 30);
}

/* Dense: big nodes built, copied, grown and shrunk while five older
 * versions keep answering exactly as when they were published. */
static void test_oracle_dense_v4(void **state)
{
	(void)state;
	oracle_run(4, 1, 60, 400);
}

static void test_oracle_dense_v6(void **state)
{
	(void)state;
	oracle_run(6, 1, 60, 400);
}

/* Prefix edges: /31, /32, /127, /128, /0, full prefixes, bad arguments. */
static void test_edges(void **state)
{
	(void)state;
	void *v4 = NULL, *v6 = NULL;
	struct idx_gc garbage = { 0 };
	struct radix_cow c = { 1, &garbage };
	struct idx_addr *ol;
	uint8_t p[16], out[16];

	/* Empty trees. */
	memset(p, 0, sizeof(p));
	assert_int_equal(radix_next_free(v6, 6, p, 0, 0, 0, out), DDI_EOK);
	assert_memory_equal(out, p, 16);
	assert_int_equal(radix_count(v6, 6, p, 0), 0);
	assert_int_equal(radix_next_free(v4, 5, p, 0, 0, 0, out), DDI_EINVAL);
	assert_int_equal(radix_next_free(v4, 4, p, 33, 0, 0, out), DDI_EINVAL);
	assert_int_equal(radix_next_free(v4, 4, p, -1, 0, 0, out), DDI_EINVAL);
	assert_int_equal(radix_count(v4, 4, p, 33), 0);

	/* 198.18.0.0/30 filled: .0 .1 .2 .3. */
	for (unsigned k = 0; k < 4; k++) {
		assert_int_equal(radix_set(&c, &v4, leaf_new(4, 0xc6120000 + k), &ol), 0);
		assert_null(ol);
	}
	to_bytes(0xc6120000, 32, p);
	assert_int_equal(radix_count(v4, 4, p, 30), 4);
	assert_int_equal(radix_count(v4, 4, p, 31), 2);
	assert_int_equal(radix_count(v4, 4, p, 32), 1);
	assert_int_equal(radix_count(v4, 4, p, 29), 4);
	assert_int_equal(radix_count(v4, 4, p, 0), 4);
	assert_int_equal(radix_next_free(v4, 4, p, 30, 0, 0, out), DDI_EFULL);
	assert_int_equal(radix_next_free(v4, 4, p, 31, 0, 0, out), DDI_EFULL);
	assert_int_equal(radix_next_free(v4, 4, p, 32, 0, 0, out), DDI_EFULL);
	assert_int_equal(radix_next_free(v4, 4, p, 29, 0, 0, out), DDI_EOK);
	assert_int_equal(from_bytes(out, 32), 0xc6120004);
	/* /29 with the network and broadcast skipped, .4 taken. */
	assert_int_equal(radix_set(&c, &v4, leaf_new(4, 0xc6120004), &ol), 0);
	assert_int_equal(radix_next_free(v4, 4, p, 29, 1, 1, out), DDI_EOK);
	assert_int_equal(from_bytes(out, 32), 0xc6120005);
	/* /31: two addresses, skipping both is full; /32 skipping one is full. */
	to_bytes(0xc6120006, 32, p);
	assert_int_equal(radix_next_free(v4, 4, p, 31, 1, 1, out), DDI_EFULL);
	assert_int_equal(radix_next_free(v4, 4, p, 31, 1, 0, out), DDI_EOK);
	assert_int_equal(from_bytes(out, 32), 0xc6120007);
	assert_int_equal(radix_next_free(v4, 4, p, 32, 1, 0, out), DDI_EFULL);
	assert_int_equal(radix_next_free(v4, 4, p, 32, 0, 0, out), DDI_EOK);
	assert_int_equal(from_bytes(out, 32), 0xc6120006);
	assert_int_equal(radix_next_free(v4, 4, p, 30, UINT64_MAX, 0, out), DDI_EFULL);
	/* 255.255.255.255/32 at the very top. */
	assert_int_equal(radix_set(&c, &v4, leaf_new(4, 0xffffffff), &ol), 0);
	to_bytes(0xffffffff, 32, p);
	assert_int_equal(radix_next_free(v4, 4, p, 32, 0, 0, out), DDI_EFULL);
	assert_int_equal(radix_next_free(v4, 4, p, 31, 0, 0, out), DDI_EOK);
	assert_int_equal(from_bytes(out, 32), 0xfffffffe);
	assert_int_equal(radix_count(v4, 4, p, 8), 1);
	assert_int_equal(radix_count(v4, 4, p, 1), 6);

	/* IPv6: 2001:2::/127 full, ::/0 and /64 counts. */
	u128 b6 = (u128)0x20010002ULL << 96;
	assert_int_equal(radix_set(&c, &v6, leaf_new(6, b6), &ol), 0);
	assert_int_equal(radix_set(&c, &v6, leaf_new(6, b6 + 1), &ol), 0);
	assert_int_equal(radix_set(&c, &v6, leaf_new(6, ~(u128)0), &ol), 0);
	to_bytes(b6, 128, p);
	assert_int_equal(radix_count(v6, 6, p, 127), 2);
	assert_int_equal(radix_count(v6, 6, p, 64), 2);
	assert_int_equal(radix_count(v6, 6, p, 0), 3);
	assert_int_equal(radix_next_free(v6, 6, p, 127, 0, 0, out), DDI_EFULL);
	assert_int_equal(radix_next_free(v6, 6, p, 128, 0, 0, out), DDI_EFULL);
	assert_int_equal(radix_next_free(v6, 6, p, 126, 0, 0, out), DDI_EOK);
	assert_true(from_bytes(out, 128) == b6 + 2);
	assert_int_equal(radix_next_free(v6, 6, p, 64, 0, 0, out), DDI_EOK);
	assert_true(from_bytes(out, 128) == b6 + 2);
	assert_int_equal(radix_next_free(v6, 6, p, 0, 0, 0, out), DDI_EOK);
	assert_true(from_bytes(out, 128) == 0);
	/* Huge skips within a /0: the top address is taken, the one below free. */
	assert_int_equal(radix_next_free(v6, 6, p, 0, UINT64_MAX, 0, out), DDI_EOK);
	assert_true(from_bytes(out, 128) == (u128)UINT64_MAX);
	to_bytes(~(u128)0, 128, p);
	assert_int_equal(radix_next_free(v6, 6, p, 127, 0, 0, out), DDI_EOK);
	assert_true(from_bytes(out, 128) == ~(u128)0 - 1);
	assert_int_equal(radix_next_free(v6, 6, p, 128, 0, 0, out), DDI_EFULL);

	/* Delete down to empty. */
	to_bytes(b6 + 1, 128, p);
	assert_int_equal(radix_del(&c, &v6, 6, p, &ol), 0);
	free(ol);
	assert_int_equal(radix_del(&c, &v6, 6, p, &ol), DDI_ENOENT);
	assert_int_equal(garbage.n, 0);   /* one generation throughout: in place */
	radix_free(v4, free_leaf_cb, NULL);
	radix_free(v6, free_leaf_cb, NULL);
}

/* --- every prefix length -------------------------------------------------- */

static int cmp_u128(const void *x, const void *y)
{
	u128 a = *(const u128 *)x, b = *(const u128 *)y;
	return a < b ? -1 : a > b;
}

/* Insert each address not yet present into the tree (generation c) and the oracle. */
static void add_all(struct radix_cow *c, void **root, int family, struct oracle *o, const u128 *as,
                    size_t n)
{
	uint8_t b[16];
	int w = radix_width(family);
	for (size_t k = 0; k < n; k++) {
		struct idx_addr *ol;
		to_bytes(as[k], w, b);
		if (radix_find(*root, family, b) != NULL)
			continue;
		assert_int_equal(radix_set(c, root, leaf_new(family, as[k]), &ol), DDI_EOK);
		assert_null(ol);
		if (o->n == o->cap) {
			o->cap = o->cap ? 2 * o->cap : 1024;
			o->a = realloc(o->a, o->cap * sizeof(*o->a));
			o->l = realloc(o->l, o->cap * sizeof(*o->l));   /* unused here; oracle_copy copies it */
			assert_true(o->a && o->l);
		}
		o->a[o->n++] = as[k];
	}
	qsort(o->a, o->n, sizeof(*o->a), cmp_u128);
}

/* count and next free at every prefix length of each probe, with skips, against the oracle. */
static void check_plens(const void *root, int family, const struct oracle *o, const u128 *probes,
                        size_t np)
{
	static const uint64_t skips[][2] = { { 0, 0 }, { 1, 1 }, { 2, 0 }, { 0, 3 }, { 256, 0 },
	                                     { 255, 1 }, { UINT64_MAX, 0 }, { 0, UINT64_MAX } };
	int w = radix_width(family);
	uint8_t b[16], out[16];

	for (size_t k = 0; k < np; k++) {
		to_bytes(probes[k], w, b);
		for (int plen = 0; plen <= w; plen++) {
			assert_int_equal(radix_count(root, family, b, plen),
			                 oracle_count(o, w, probes[k], plen));
			for (size_t s = 0; s < sizeof(skips) / sizeof(skips[0]); s++) {
				u128 want = 0;
				int er = oracle_next_free(o, w, probes[k], plen, skips[s][0], skips[s][1], &want);
				memset(out, 0xee, sizeof(out));
				int got = radix_next_free(root, family, b, plen, skips[s][0], skips[s][1], out);
				if (got != er || (er == DDI_EOK && from_bytes(out, w) != want))
					fail_msg("family %d probe %zu /%d skips %zu: %d vs oracle %d", family, k, plen,
					         s, got, er);
			}
		}
	}
}

/* IPv4: a full /16, a full /24, a half /24, lone addresses at both ends of the space. */
static void test_plens_v4(void **state)
{
	(void)state;
	void *root = NULL;
	struct idx_gc garbage = { 0 };
	struct radix_cow c = { 1, &garbage };
	struct oracle o = { 0 };
	size_t n = 0;
	u128 *as = malloc(70000 * sizeof(*as));
	assert_non_null(as);

	for (u128 a = 0xc6120000; a <= 0xc612ffff; a++)   /* 198.18.0.0/16 */
		as[n++] = a;
	for (u128 a = 0xc6130000; a <= 0xc61300ff; a++)   /* 198.19.0.0/24 */
		as[n++] = a;
	for (u128 a = 0xc6130100; a <= 0xc613017f; a++)   /* 198.19.1.0/25 */
		as[n++] = a;
	as[n++] = 0;
	as[n++] = 0xffffffff;
	as[n++] = 0x0a000000;
	as[n++] = 0xc6130205;   /* a leaf alone below 198.19.2.0/24 */
	add_all(&c, &root, 4, &o, as, n);
	const u128 probes[] = { 0xc6120000, 0xc612ffff, 0xc6124d05, 0xc6130000, 0xc6130100, 0xc61301c8,
	                        0xc6130205, 0xc6140000, 0x0a000000, 0, 0xffffffff, 0x7f000001 };
	size_t np = sizeof(probes) / sizeof(probes[0]);
	check_plens(root, 4, &o, probes, np);

	/* Generation 2: holes in the full prefixes; the old root answers as before. */
	struct oracle o1 = oracle_copy(&o);
	void *r1 = root;
	struct radix_cow c2 = { 2, &garbage };
	const u128 holes[] = { 0xc612c807, 0xc6120000, 0xc6130040, 0xc61300ff, 0xc6130205, 0xffffffff };
	for (size_t k = 0; k < sizeof(holes) / sizeof(holes[0]); k++) {
		uint8_t b[16];
		struct idx_addr *ol;
		to_bytes(holes[k], 32, b);
		assert_int_equal(radix_del(&c2, &root, 4, b, &ol), DDI_EOK);
		assert_int_equal(idx_gc_push(&garbage, ol), 0);
		size_t at = lower_bound(&o, holes[k]);
		memmove(o.a + at, o.a + at + 1, (o.n - at - 1) * sizeof(*o.a));
		o.n--;
	}
	check_plens(root, 4, &o, probes, np);
	check_plens(r1, 4, &o1, probes, np);
	radix_free(root, free_leaf_cb, NULL);
	idx_gc_free_all(&garbage);
	oracle_free(&o);
	oracle_free(&o1);
	free(as);
}

/* IPv6: sparse random addresses in a /64, a full /120, a half /120, both ends. */
static void test_plens_v6(void **state)
{
	(void)state;
	void *root = NULL;
	struct idx_gc garbage = { 0 };
	struct radix_cow c = { 1, &garbage };
	struct oracle o = { 0 };
	size_t n = 0;
	u128 net = (u128)0x20010002ULL << 96, sub = net | (u128)1 << 64;   /* 2001:2::/64, 2001:2:0:1::/64 */
	u128 *as = malloc(3000 * sizeof(*as));
	assert_non_null(as);

	for (int k = 0; k < 2000; k++)
		as[n++] = net | rnd();
	for (int k = 0; k < 256; k++)
		as[n++] = sub | (u128)k;
	for (int k = 0; k < 128; k++)
		as[n++] = sub | 0x100 | (u128)k;
	as[n++] = 0;
	as[n++] = ~(u128)0;
	as[n++] = sub | (u128)1 << 40;
	add_all(&c, &root, 6, &o, as, n);
	const u128 probes[] = { net, net | 0x8000000000000000ULL, o.a[500], o.a[1999], sub,
	                        sub | 0xff, sub | 0x100, sub | 0x1c8, sub | (u128)1 << 40, 0, ~(u128)0 };
	check_plens(root, 6, &o, probes, sizeof(probes) / sizeof(probes[0]));
	radix_free(root, free_leaf_cb, NULL);
	idx_gc_free_all(&garbage);
	oracle_free(&o);
	free(as);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_edges),
		cmocka_unit_test(test_oracle_v4),
		cmocka_unit_test(test_oracle_v6),
		cmocka_unit_test(test_oracle_dense_v4),
		cmocka_unit_test(test_oracle_dense_v6),
		cmocka_unit_test(test_plens_v4),
		cmocka_unit_test(test_plens_v6),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
