/* test_trie -- the copy-on-write qp-trie against a sorted-array oracle */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <cmocka.h>

#include "dns/errcode.h"
#include "index/trie.h"

/* xorshift64*: reproducible random operations. */
static uint64_t rng_state = 0x9e3779b97f4a7c15ULL;

static uint64_t rnd(void)
{
	rng_state ^= rng_state >> 12;
	rng_state ^= rng_state << 25;
	rng_state ^= rng_state >> 27;
	return rng_state * 0x2545f4914f6cdd1dULL;
}

static struct trie_key *key_new(const uint8_t *data, size_t len)
{
	struct trie_key *k = malloc(sizeof(*k) + len + 1);
	assert_non_null(k);
	k->len = (uint16_t)len;
	memcpy(k->data, data, len);
	return k;
}

static int kcmp(const uint8_t *a, size_t alen, const uint8_t *b, size_t blen)
{
	size_t min = alen < blen ? alen : blen;
	int r = memcmp(a, b, min);
	if (r != 0)
		return r;
	return alen < blen ? -1 : alen > blen ? 1 : 0;
}

/* A random key over a small alphabet, so that prefixes and shared nibbles abound. */
static size_t rnd_key(uint8_t *buf)
{
	static const uint8_t alpha[] = { 0x00, 0x01, 0x02, 0x10, 0x11, 0x1f, 0x21, 0x22, 0x2d,
	                                 0x30, 0x39, 0x61, 0x62, 0x7b, 0x9a, 0xf1, 0xfb, 0xff };
	size_t len = rnd() % 7;
	for (size_t i = 0; i < len; i++)
		buf[i] = alpha[rnd() % sizeof(alpha)];
	return len;
}

/* The oracle: a sorted array of keys. */
struct oracle {
	struct trie_key **k;
	size_t n, cap;
};

static long oracle_find(const struct oracle *o, const uint8_t *key, size_t len, size_t *ins)
{
	size_t lo = 0, hi = o->n;
	while (lo < hi) {
		size_t mid = (lo + hi) / 2;
		int r = kcmp(o->k[mid]->data, o->k[mid]->len, key, len);
		if (r == 0)
			return (long)mid;
		if (r < 0)
			lo = mid + 1;
		else
			hi = mid;
	}
	*ins = lo;
	return -1;
}

static void oracle_set(struct oracle *o, struct trie_key *k)
{
	size_t ins = 0;
	long at = oracle_find(o, k->data, k->len, &ins);
	if (at >= 0) {
		o->k[at] = k;
		return;
	}
	if (o->n == o->cap) {
		o->cap = o->cap ? 2 * o->cap : 64;
		o->k = realloc(o->k, o->cap * sizeof(*o->k));
		assert_non_null(o->k);
	}
	memmove(o->k + ins + 1, o->k + ins, (o->n - ins) * sizeof(*o->k));
	o->k[ins] = k;
	o->n++;
}

static void oracle_del(struct oracle *o, long at)
{
	memmove(o->k + at, o->k + at + 1, (o->n - (size_t)at - 1) * sizeof(*o->k));
	o->n--;
}

static struct oracle oracle_copy(const struct oracle *o)
{
	struct oracle c = { NULL, o->n, o->n };
	c.k = malloc((o->n + 1) * sizeof(*c.k));
	assert_non_null(c.k);
	if (o->n)
		memcpy(c.k, o->k, o->n * sizeof(*c.k));
	return c;
}

struct walk_ctx {
	const struct oracle *o;
	size_t pos;
	size_t stop_after;
};

static int walk_check(void *ctx, const struct trie_key *key, void *val)
{
	struct walk_ctx *w = ctx;
	assert_true(w->pos < w->o->n);
	assert_ptr_equal(key, w->o->k[w->pos]);
	assert_ptr_equal(val, key);
	w->pos++;
	return w->pos == w->stop_after ? 7 : 0;
}

struct prefix_ctx {
	const struct oracle *o;
	const uint8_t *prefix;
	size_t plen;
	size_t pos;    /* next oracle index to compare */
	size_t seen;
};

static bool has_prefix(const struct trie_key *k, const uint8_t *p, size_t plen)
{
	return k->len >= plen && memcmp(k->data, p, plen) == 0;
}

static int prefix_check(void *ctx, const struct trie_key *key, void *val)
{
	struct prefix_ctx *w = ctx;
	(void)val;
	while (w->pos < w->o->n && !has_prefix(w->o->k[w->pos], w->prefix, w->plen))
		w->pos++;
	assert_true(w->pos < w->o->n);
	assert_ptr_equal(key, w->o->k[w->pos]);
	w->pos++;
	w->seen++;
	return 0;
}

/* Everything a reader can ask, checked against the oracle. */
/* trie_get_prefixes against the oracle: every key that is a prefix of q, shortest first. */
static void check_prefixes(const trie_node_t *root, const struct oracle *o, const uint8_t *q,
                           size_t qlen)
{
	uint16_t lens[17];
	const void *vals[17];
	unsigned n = trie_get_prefixes(root, q, qlen, lens, vals, 17);
	unsigned at = 0;
	for (size_t len = 0; len <= qlen; len++) {
		size_t ins;
		long k = oracle_find(o, q, len, &ins);
		if (k < 0)
			continue;
		assert_true(at < n);
		assert_int_equal(lens[at], len);
		assert_ptr_equal(vals[at], o->k[k]);
		at++;
	}
	assert_int_equal(at, n);
	/* a short out[] keeps the shortest ones */
	if (n > 1) {
		uint16_t one_len;
		const void *one;
		assert_int_equal(trie_get_prefixes(root, q, qlen, &one_len, &one, 1), 1);
		assert_int_equal(one_len, lens[0]);
	}
}

/* The bulk walk gives what one lookup at a time gives, for n random keys. */
static void check_prefixes_bulk(const trie_node_t *root, unsigned n)
{
	static uint8_t keys[TRIE_BULK_MAX][TRIE_KEY_MAXLEN];   /* read past their lengths */
	uint16_t lens[TRIE_BULK_MAX][17], lens1[17];
	const void *vals[TRIE_BULK_MAX][17], *vals1[17];
	struct trie_bulk q[TRIE_BULK_MAX];
	for (unsigned i = 0; i < n; i++) {
		q[i].key = keys[i];
		q[i].len = rnd_key(keys[i]);
		q[i].lens = lens[i];
		q[i].vals = vals[i];
		q[i].max = 17;
		q[i].n = 99;
	}
	trie_get_prefixes_bulk(root, q, n);
	for (unsigned i = 0; i < n; i++) {
		unsigned m = trie_get_prefixes(root, keys[i], q[i].len, lens1, vals1, 17);
		assert_int_equal(q[i].n, m);
		for (unsigned j = 0; j < m; j++) {
			assert_int_equal(lens[i][j], lens1[j]);
			assert_ptr_equal(vals[i][j], vals1[j]);
		}
	}
}

static void check_all(const trie_node_t *root, const struct oracle *o)
{
	for (size_t k = 0; k < o->n; k++)
		assert_ptr_equal(trie_get(root, o->k[k]->data, o->k[k]->len), o->k[k]);

	struct walk_ctx w = { o, 0, SIZE_MAX };
	assert_int_equal(trie_walk(root, NULL, 0, walk_check, &w), 0);
	assert_int_equal(w.pos, o->n);
	if (o->n > 2) {
		struct walk_ctx ws = { o, 0, 2 };
		assert_int_equal(trie_walk(root, NULL, 0, walk_check, &ws), 7);
	}

	struct trie_it it;
	size_t pos = 0;
	for (trie_it_first(&it, root); trie_it_valid(&it); trie_it_next(&it)) {
		assert_true(pos < o->n);
		assert_ptr_equal(trie_it_key(&it), o->k[pos]);
		assert_ptr_equal(trie_it_val(&it), o->k[pos]);
		pos++;
	}
	assert_int_equal(pos, o->n);

	/* Random probes: get of absent keys, seek, prefix walks, has_below. */
	for (int r = 0; r < 40; r++) {
		uint8_t q[TRIE_KEY_MAXLEN];   /* trie_get_prefixes reads past qlen */
		size_t qlen = rnd_key(q);
		size_t ins = 0;
		long at = oracle_find(o, q, qlen, &ins);
		void *got = trie_get(root, q, qlen);
		if (at < 0)
			assert_null(got);
		else
			assert_ptr_equal(got, o->k[at]);

		size_t lb = at >= 0 ? (size_t)at : ins;
		trie_it_seek(&it, root, q, qlen);
		if (lb == o->n) {
			assert_false(trie_it_valid(&it));
		} else {
			assert_true(trie_it_valid(&it));
			assert_ptr_equal(trie_it_key(&it), o->k[lb]);
			trie_it_next(&it);
			if (lb + 1 == o->n)
				assert_false(trie_it_valid(&it));
			else
				assert_ptr_equal(trie_it_key(&it), o->k[lb + 1]);
		}

		struct prefix_ctx pc = { o, q, qlen, 0, 0 };
		assert_int_equal(trie_walk(root, q, qlen, prefix_check, &pc), 0);
		size_t expect = 0;
		bool below = false;
		for (size_t k = 0; k < o->n; k++) {
			if (has_prefix(o->k[k], q, qlen)) {
				expect++;
				if (o->k[k]->len > qlen)
					below = true;
			}
		}
		assert_int_equal(pc.seen, expect);
		assert_int_equal(trie_has_below(root, q, qlen), below);
		check_prefixes(root, o, q, qlen);
	}
	if (rnd() % 4 == 0)
		check_prefixes_bulk(root, 1 + (unsigned)(rnd() % TRIE_BULK_MAX));
}

struct old_version {
	trie_node_t root;
	struct oracle o;
};

#define KEEP_OLD 6

/*
 * Many transactions of random sets and deletes, committed or aborted. After
 * each commit the new root and the last KEEP_OLD committed roots are
 * checked: nothing reachable from an older root may have changed.
 */
static void test_oracle(void **state)
{
	(void)state;
	trie_node_t pub;
	struct oracle o = { 0 };
	struct idx_gc deferred = { 0 };   /* garbage of committed txns, freed at the end */
	struct old_version old[KEEP_OLD];
	size_t nold = 0;
	int commits = 0, aborts = 0;

	trie_init(&pub);
	for (uint64_t stamp = 1; stamp <= 400; stamp++) {
		trie_node_t root = pub;
		struct idx_gc garbage = { 0 }, created = { 0 };
		struct trie_cow c = { stamp, &garbage };
		struct oracle to = oracle_copy(&o);
		int nops = 1 + (int)(rnd() % 40);
		bool abort_it = rnd() % 4 == 0;

		for (int op = 0; op < nops; op++) {
			uint8_t kb[16];
			size_t klen = rnd_key(kb);
			size_t ins;
			long at = oracle_find(&to, kb, klen, &ins);
			const struct trie_key *ok;
			void *ov;
			if (rnd() % 3 == 0) {
				int r = trie_del(&c, &root, kb, klen, &ok, &ov);
				if (at < 0) {
					assert_int_equal(r, DDI_ENOENT);
				} else {
					assert_int_equal(r, DDI_EOK);
					assert_ptr_equal(ok, to.k[at]);
					assert_ptr_equal(ov, ok);
					assert_int_equal(idx_gc_push(&garbage, (void *)ok), 0);
					oracle_del(&to, at);
				}
			} else {
				struct trie_key *k = key_new(kb, klen);
				assert_int_equal(idx_gc_push(&created, k), 0);
				assert_int_equal(trie_set(&c, &root, k, k, &ok, &ov), DDI_EOK);
				if (at < 0) {
					assert_null(ok);
				} else {
					assert_ptr_equal(ok, to.k[at]);
					assert_int_equal(idx_gc_push(&garbage, (void *)ok), 0);
				}
				oracle_set(&to, k);
			}
			/* The published version does not move while we write. */
			if (op % 8 == 0)
				check_all(&pub, &o);
		}
		check_all(&root, &to);
		if (abort_it) {
			trie_free_fresh(&root, stamp);
			idx_gc_free_all(&created);
			idx_gc_clear(&garbage);
			free(to.k);
			check_all(&pub, &o);
			aborts++;
			continue;
		}
		/* Commit: keep the previous version for later checks. */
		if (nold == KEEP_OLD) {
			free(old[0].o.k);
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
		commits++;
		check_all(&pub, &o);
		for (size_t k = 0; k < nold; k++)
			check_all(&old[k].root, &old[k].o);
	}
	assert_true(commits > 100);
	assert_true(aborts > 30);
	assert_true(o.n > 50);
	trie_free(&pub, NULL, NULL);
	for (size_t k = 0; k < o.n; k++)
		free(o.k[k]);
	free(o.k);
	for (size_t k = 0; k < nold; k++)
		free(old[k].o.k);
	idx_gc_free_all(&deferred);
}

static void free_leaf(void *ctx, const struct trie_key *key, void *val)
{
	(void)ctx;
	(void)val;
	free((void *)key);
}

/* Stamps wrap: after trie_stamp_reset an old stamp may be reused safely. */
static void test_stamp_reset(void **state)
{
	(void)state;
	trie_node_t pub, root;
	struct idx_gc garbage = { 0 }, deferred = { 0 };
	struct trie_cow c = { TRIE_STAMP_MAX, &garbage };
	const struct trie_key *ok;
	void *ov;
	uint8_t kb[4];

	trie_init(&pub);
	root = pub;
	for (int k = 0; k < 200; k++) {
		kb[0] = (uint8_t)k;
		kb[1] = (uint8_t)(k * 7);
		struct trie_key *key = key_new(kb, 2);
		assert_int_equal(trie_set(&c, &root, key, key, &ok, &ov), 0);
		if (ok)
			free((void *)ok);
	}
	assert_int_equal(c.stamp, TRIE_STAMP_MAX);
	pub = root;
	assert_int_equal(garbage.n, 0);

	/* Reset, then write with stamp 1 and with the old maximum again. */
	trie_stamp_reset(&pub);
	root = pub;
	c.stamp = TRIE_STAMP_MAX;
	kb[0] = 3;
	kb[1] = 21;
	assert_int_equal(trie_del(&c, &root, kb, 2, &ok, &ov), 0);
	assert_non_null(ok);
	assert_true(garbage.n > 0);   /* the path was copied, not changed in place */
	assert_ptr_equal(trie_get(&pub, kb, 2), ok);
	assert_null(trie_get(&root, kb, 2));
	assert_int_equal(idx_gc_push(&deferred, (void *)ok), 0);
	for (size_t k = 0; k < garbage.n; k++)
		assert_int_equal(idx_gc_push(&deferred, garbage.v[k]), 0);
	idx_gc_clear(&garbage);
	trie_free(&root, free_leaf, NULL);
	idx_gc_free_all(&deferred);
}

static void test_edges(void **state)
{
	(void)state;
	trie_node_t root;
	struct idx_gc garbage = { 0 };
	struct trie_cow c = { 1, &garbage };
	const struct trie_key *ok;
	void *ov;
	uint8_t big[TRIE_KEY_MAXLEN + 1];
	struct trie_it it;

	memset(big, 0x61, sizeof(big));
	trie_init(&root);
	assert_null(trie_get(&root, NULL, 0));
	trie_it_first(&it, &root);
	assert_false(trie_it_valid(&it));
	trie_it_seek(&it, &root, big, 3);
	assert_false(trie_it_valid(&it));
	assert_int_equal(trie_del(&c, &root, big, 2, &ok, &ov), DDI_ENOENT);

	struct trie_key *toolong = key_new(big, sizeof(big));
	assert_int_equal(trie_set(&c, &root, toolong, NULL, &ok, &ov), DDI_EINVAL);
	free(toolong);

	/* The empty key and the longest key live side by side. */
	struct trie_key *e = key_new(big, 0), *l = key_new(big, TRIE_KEY_MAXLEN);
	struct trie_key *l2 = key_new(big, TRIE_KEY_MAXLEN - 1);
	assert_int_equal(trie_set(&c, &root, e, e, &ok, &ov), 0);
	assert_int_equal(trie_set(&c, &root, l, l, &ok, &ov), 0);
	assert_int_equal(trie_set(&c, &root, l2, l2, &ok, &ov), 0);
	assert_ptr_equal(trie_get(&root, big, 0), e);
	assert_ptr_equal(trie_get(&root, big, TRIE_KEY_MAXLEN), l);
	assert_ptr_equal(trie_get(&root, big, TRIE_KEY_MAXLEN - 1), l2);
	assert_true(trie_has_below(&root, big, 0));
	assert_true(trie_has_below(&root, big, TRIE_KEY_MAXLEN - 1));
	assert_false(trie_has_below(&root, big, TRIE_KEY_MAXLEN));
	trie_it_first(&it, &root);
	assert_ptr_equal(trie_it_key(&it), e);
	trie_it_next(&it);
	assert_ptr_equal(trie_it_key(&it), l2);
	trie_it_next(&it);
	assert_ptr_equal(trie_it_key(&it), l);
	trie_it_next(&it);
	assert_false(trie_it_valid(&it));
	assert_int_equal(garbage.n, 0);   /* one transaction: all in place */
	trie_free(&root, free_leaf, NULL);
}

static double now(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

/* One transaction, many keys: shaped like names of one zone. Prints time. */
static void test_bulk(void **state)
{
	(void)state;
	enum { N = 300000 };
	trie_node_t root;
	struct idx_gc garbage = { 0 };
	struct trie_cow c = { 5, &garbage };
	const struct trie_key *ok;
	void *ov;
	struct trie_key **keys = malloc(N * sizeof(*keys));

	assert_non_null(keys);
	trie_init(&root);
	for (int k = 0; k < N; k++) {
		char buf[64];
		int n = snprintf(buf, sizeof(buf), "com%cexample%chost%u%c", 0, 0,
		                 (unsigned)(rnd() % 100000000), 0);
		keys[k] = key_new((const uint8_t *)buf, (size_t)n);
	}
	double t0 = now();
	for (int k = 0; k < N; k++) {
		assert_int_equal(trie_set(&c, &root, keys[k], keys[k], &ok, &ov), 0);
		if (ok)
			idx_gc_push(&garbage, (void *)ok);
	}
	double t1 = now();
	for (int k = 0; k < N; k++)
		assert_non_null(trie_get(&root, keys[k]->data, keys[k]->len));
	double t2 = now();
	print_message("bulk: %d inserts %.0f ns each, %d gets %.0f ns each, %zu duplicates\n", N,
	              (t1 - t0) / N * 1e9, N, (t2 - t1) / N * 1e9, garbage.n);
	trie_free(&root, free_leaf, NULL);
	idx_gc_free_all(&garbage);
	free(keys);
}

/* The test's values are the keys themselves. */
static void *self_val(const struct trie_key *k)
{
	return (void *)k;
}

/* Two trees have the same shape: same index words, same leaves. */
static void same_tree(const trie_node_t *a, const trie_node_t *b)
{
	assert_int_equal(a->i & 1, b->i & 1);
	if (!(a->i & 1)) {
		assert_ptr_equal(a->i, b->i);
		assert_ptr_equal(a->p, b->p);
		return;
	}
	assert_int_equal(a->i, b->i);
	unsigned cnt = (unsigned)__builtin_popcountll((a->i >> 1) & ((1ULL << 53) - 1));
	for (unsigned k = 0; k < cnt; k++)
		same_tree((const trie_node_t *)a->p + k, (const trie_node_t *)b->p + k);
}

/*
 * trie_build of random sorted key sets makes the tree trie_set makes,
 * which then changes copy-on-write like any other.
 */
static void test_build(void **state)
{
	(void)state;
	for (int round = 0; round < 300; round++) {
		struct oracle o = { 0 };
		size_t want = round < 10 ? (size_t)round : rnd() % 400;
		for (size_t k = 0; k < want; k++) {
			uint8_t buf[16];
			size_t len = rnd_key(buf);
			size_t ins = 0;
			if (oracle_find(&o, buf, len, &ins) < 0)
				oracle_set(&o, key_new(buf, len));
		}
		trie_node_t built, inc;
		trie_init(&built);
		trie_init(&inc);
		struct trie_cow c = { 1, NULL };
		for (size_t k = 0; k < o.n; k++) {
			const struct trie_key *ok;
			void *ov;
			assert_int_equal(trie_set(&c, &inc, o.k[k], o.k[k], &ok, &ov), DDI_EOK);
		}
		assert_int_equal(trie_build(&built, (const struct trie_key *const *)o.k,
		                            self_val, o.n, 2), DDI_EOK);
		same_tree(&built, &inc);
		check_all(&built, &o);
		if (o.n >= 2) {
			/* not empty; duplicates; order */
			assert_int_equal(trie_build(&built, (const struct trie_key *const *)o.k,
			                            self_val, o.n, 2), DDI_EINVAL);
			trie_node_t bad;
			trie_init(&bad);
			const struct trie_key *dup[2] = { o.k[0], o.k[0] };
			assert_int_equal(trie_build(&bad, dup, self_val, 2, 2), DDI_EINVAL);
			const struct trie_key *rev[2] = { o.k[1], o.k[0] };
			assert_int_equal(trie_build(&bad, rev, self_val, 2, 2), DDI_EINVAL);
			assert_true(trie_empty(&bad));
			/* later changes on the built tree, stamp 3, copy its arrays */
			struct idx_gc g = { 0 };
			struct trie_cow c3 = { 3, &g };
			const struct trie_key *ok;
			void *ov;
			assert_int_equal(trie_del(&c3, &built, o.k[0]->data, o.k[0]->len, &ok, &ov), DDI_EOK);
			assert_ptr_equal(ok, o.k[0]);
			struct trie_key *gone = o.k[0];
			oracle_del(&o, 0);
			check_all(&built, &o);
			/* every array: replaced ones on g, the others in the tree */
			idx_gc_free_all(&g);
			trie_free(&built, NULL, NULL);
			free(gone);
			assert_int_equal(trie_build(&built, (const struct trie_key *const *)o.k,
			                            self_val, o.n, 4), DDI_EOK);
			check_all(&built, &o);
		}
		trie_free(&built, NULL, NULL);
		trie_free(&inc, NULL, NULL);
		for (size_t k = 0; k < o.n; k++)
			free(o.k[k]);
		free(o.k);
	}
}

/*
 * trie_get_prefixes with long keys (host-name sized, past the 8-byte
 * comparisons) that are prefixes of one another, against a brute-force
 * search, one by one and in bulk.
 */
static void test_prefixes_long(void **state)
{
	(void)state;
	enum { NBASE = 40, NKEYS = 400, NQ = 300, KMAX = 48 };
	static const uint8_t alpha[] = { 0x00, 'a', 'b', '-', '7' };
	uint8_t base[NBASE][KMAX];
	struct trie_key *keys[NKEYS];
	size_t nk = 0;
	struct idx_gc garbage = { 0 };
	struct trie_cow c = { 1, &garbage };
	trie_node_t root;
	trie_init(&root);
	for (int b = 0; b < NBASE; b++)
		for (int i = 0; i < KMAX; i++)
			base[b][i] = alpha[rnd() % sizeof(alpha)];
	while (nk < NKEYS) {
		/* a prefix of a base key, so that keys are prefixes of each other */
		const uint8_t *from = base[rnd() % NBASE];
		size_t len = rnd() % (KMAX + 1);
		if (trie_get(&root, from, len) != NULL)
			continue;
		struct trie_key *k = key_new(from, len);
		const struct trie_key *ok;
		void *ov;
		assert_int_equal(trie_set(&c, &root, k, k, &ok, &ov), DDI_EOK);
		keys[nk++] = k;
	}
	static uint8_t qs[NQ][TRIE_KEY_MAXLEN];   /* trie_get_prefixes reads past ql[i] */
	size_t ql[NQ];
	for (int i = 0; i < NQ; i++) {
		ql[i] = rnd() % (KMAX + 4);
		memcpy(qs[i], base[rnd() % NBASE], KMAX);
		qs[i][KMAX] = qs[i][KMAX + 1] = qs[i][KMAX + 2] = qs[i][KMAX + 3] = 'a';
		if (rnd() % 3 == 0)
			qs[i][rnd() % (KMAX + 4)] = alpha[rnd() % sizeof(alpha)];   /* a miss somewhere */
		const struct trie_key *k = keys[rnd() % nk];
		if (rnd() % 3 == 0 && k->len > 0 && ql[i] >= k->len) {
			/* a key's bytes but its last, which the descent may never test */
			memcpy(qs[i], k->data, k->len);
			qs[i][k->len - 1] = (uint8_t)(k->data[k->len - 1] ^ 0x40);
		}
	}
	uint16_t lens[NQ][KMAX + 5];
	const void *vals[NQ][KMAX + 5];
	struct trie_bulk bq[TRIE_BULK_MAX];
	for (int i0 = 0; i0 < NQ; i0 += TRIE_BULK_MAX) {
		unsigned n = NQ - i0 < TRIE_BULK_MAX ? (unsigned)(NQ - i0) : TRIE_BULK_MAX;
		for (unsigned j = 0; j < n; j++)
			bq[j] = (struct trie_bulk){ qs[i0 + j], ql[i0 + j], lens[i0 + j], vals[i0 + j],
			                           KMAX + 5, 0 };
		trie_get_prefixes_bulk(&root, bq, n);
		for (unsigned j = 0; j < n; j++) {
			int i = i0 + (int)j;
			uint16_t l1[KMAX + 5];
			const void *v1[KMAX + 5];
			unsigned m = trie_get_prefixes(&root, qs[i], ql[i], l1, v1, KMAX + 5);
			unsigned at = 0;
			for (size_t len = 0; len <= ql[i]; len++) {
				const struct trie_key *hit = NULL;
				for (size_t k = 0; k < nk; k++)
					if (keys[k]->len == len && memcmp(keys[k]->data, qs[i], len) == 0)
						hit = keys[k];
				if (hit == NULL)
					continue;
				assert_true(at < m);
				assert_int_equal(l1[at], len);
				assert_ptr_equal(v1[at], hit);
				at++;
			}
			assert_int_equal(at, m);
			assert_int_equal(bq[j].n, m);
			for (unsigned k = 0; k < m; k++) {
				assert_int_equal(lens[i][k], l1[k]);
				assert_ptr_equal(vals[i][k], v1[k]);
			}
		}
	}
	trie_free(&root, free_leaf, NULL);
	idx_gc_free_all(&garbage);
}

/*
 * A key set for test_prefixes_random: prefixes of a few random base keys
 * (so keys share prefixes and end where others branch on), some mutated at
 * one byte. The alphabet has the label end 0x00 and the escape 0x01, the
 * host-name bytes that have a branch position each, and bytes that share a
 * group with their neighbours (told apart by a second, phase-1 branch).
 */
static const uint8_t rp_alpha[] = { 0x00, 0x01, 0x02, 0x03, 0x21, 0x2d, 0x30, 0x31, 0x39, 0x41,
                                    0x42, 0x5a, 0x5f, 0x61, 0x62, 0x7a, 0x7b, 0x7c, 0x9a, 0xfb,
                                    0xff };

static uint8_t rp_byte(void)
{
	return rp_alpha[rnd() % sizeof(rp_alpha)];
}

/* Every stored key that is a prefix of q, by length (brute force over the set). */
static unsigned rp_expect(struct trie_key *const *keys, size_t nk, const uint8_t *q, size_t qlen,
                          const struct trie_key **out)
{
	unsigned n = 0;
	for (size_t len = 0; len <= qlen; len++)
		for (size_t k = 0; k < nk; k++)
			if (keys[k]->len == len && memcmp(keys[k]->data, q, len) == 0)
				out[n++] = keys[k];
	return n;
}

/* A query: a stored key, extended, cut short, with a byte changed, or a base's prefix. */
static size_t rp_query(uint8_t *q, struct trie_key *const *keys, size_t nk,
                       uint8_t (*base)[TRIE_KEY_MAXLEN], unsigned nbase, size_t kmax)
{
	const struct trie_key *k = keys[rnd() % nk];
	size_t len = k->len;
	memcpy(q, k->data, len);
	switch (rnd() % 5) {
	case 0:   /* the key itself */
		break;
	case 1: { /* extended by up to 8 bytes */
		size_t more = 1 + rnd() % 8;
		while (more-- > 0 && len < TRIE_KEY_MAXLEN)
			q[len++] = rp_byte();
		break;
	}
	case 2:   /* cut short */
		len = len ? rnd() % len : 0;
		break;
	case 3:   /* one byte changed, anywhere (the last one too) */
		if (len > 0)
			q[rnd() % len] ^= (uint8_t)(1 + rnd() % 255);
		break;
	default:  /* a prefix of a base key, stored or not */
		len = rnd() % (kmax + 1);
		memcpy(q, base[rnd() % nbase], len);
		break;
	}
	return len;
}

/*
 * trie_get_prefixes and trie_get_prefixes_bulk against a brute-force
 * search over the key set, over many random sets: short keys and long
 * ones (up to TRIE_KEY_MAXLEN), few keys and hundreds, `max` from 1 up.
 * Each query is at the start of its own TRIE_KEY_MAXLEN heap buffer (the
 * contract of trie.h) whose bytes past the query are random, so that the
 * descents that read past the end go anywhere, and ASan sees any read
 * beyond the buffer. trie_get gets a buffer of exactly the key's length.
 */
static void test_prefixes_random(void **state)
{
	(void)state;
	enum { SETS = 250, NQ = 150, NBASE_MAX = 6 };
	static uint8_t base[NBASE_MAX][TRIE_KEY_MAXLEN];
	uint8_t *qbuf[NQ];
	size_t qlen[NQ];
	uint16_t lens[NQ][TRIE_KEY_MAXLEN + 1];
	static const void *vals[NQ][TRIE_KEY_MAXLEN + 1];
	const struct trie_key *want[TRIE_KEY_MAXLEN + 1];
	unsigned maxes[NQ];
	struct trie_bulk bq[TRIE_BULK_MAX];
	unsigned long checked = 0, prefixes = 0, past_end = 0;

	for (int i = 0; i < NQ; i++) {
		qbuf[i] = malloc(TRIE_KEY_MAXLEN);
		assert_non_null(qbuf[i]);
	}
	for (int set = 0; set < SETS; set++) {
		/* the shape of this set: key lengths, how many keys, how many bases */
		static const size_t kmaxes[] = { 3, 8, 12, 17, 24, 25, 40, 64, 130, TRIE_KEY_MAXLEN };
		size_t kmax = kmaxes[rnd() % (sizeof(kmaxes) / sizeof(kmaxes[0]))];
		unsigned nbase = 1 + (unsigned)(rnd() % NBASE_MAX);
		size_t want_keys = 1 + rnd() % (set % 3 == 0 ? 8 : 300);
		for (unsigned b = 0; b < nbase; b++)
			for (size_t j = 0; j < kmax; j++)
				base[b][j] = rp_byte();
		struct trie_key **keys = malloc(want_keys * sizeof(*keys));
		assert_non_null(keys);
		size_t nk = 0;
		trie_node_t root;
		trie_init(&root);
		struct idx_gc garbage = { 0 };
		struct trie_cow c = { 1, &garbage };
		for (size_t tries = 0; nk < want_keys && tries < 4 * want_keys; tries++) {
			uint8_t buf[TRIE_KEY_MAXLEN];
			size_t len = rnd() % (kmax + 1);
			memcpy(buf, base[rnd() % nbase], len);
			if (len > 0 && rnd() % 4 == 0)
				buf[rnd() % len] = rp_byte();
			if (trie_get(&root, buf, len) != NULL)
				continue;
			struct trie_key *k = key_new(buf, len);
			const struct trie_key *ok;
			void *ov;
			assert_int_equal(trie_set(&c, &root, k, k, &ok, &ov), DDI_EOK);
			keys[nk++] = k;
		}

		for (int i = 0; i < NQ; i++) {
			qlen[i] = rp_query(qbuf[i], keys, nk, base, nbase, kmax);
			for (size_t j = qlen[i]; j < TRIE_KEY_MAXLEN; j++)
				qbuf[i][j] = (uint8_t)rnd();   /* what the descent may read past the end */
			maxes[i] = rnd() % 4 == 0 ? 1 + (unsigned)(rnd() % 3) : TRIE_KEY_MAXLEN + 1;
		}
		/* one at a time, against the brute force, and trie_get on an exact-size copy */
		for (int i = 0; i < NQ; i++) {
			unsigned n = trie_get_prefixes(&root, qbuf[i], qlen[i], lens[i], vals[i], maxes[i]);
			unsigned m = rp_expect(keys, nk, qbuf[i], qlen[i], want);
			assert_int_equal(n, m < maxes[i] ? m : maxes[i]);
			for (unsigned j = 0; j < n; j++) {
				assert_int_equal(lens[i][j], want[j]->len);
				assert_ptr_equal(vals[i][j], want[j]);
			}
			uint8_t *exact = malloc(qlen[i] ? qlen[i] : 1);
			assert_non_null(exact);
			memcpy(exact, qbuf[i], qlen[i]);
			const void *got = trie_get(&root, exact, qlen[i]);
			assert_ptr_equal(got, m > 0 && want[m - 1]->len == qlen[i] ? want[m - 1] : NULL);
			free(exact);
			checked++;
			prefixes += n;
			past_end += trie_has_below(&root, qbuf[i], qlen[i]);
		}
		/* in bursts of random sizes, each lookup as it was alone */
		for (int i0 = 0; i0 < NQ;) {
			unsigned bn = 1 + (unsigned)(rnd() % TRIE_BULK_MAX);
			if (bn > (unsigned)(NQ - i0))
				bn = (unsigned)(NQ - i0);
			uint16_t blens[TRIE_BULK_MAX][TRIE_KEY_MAXLEN + 1];
			static const void *bvals[TRIE_BULK_MAX][TRIE_KEY_MAXLEN + 1];
			for (unsigned j = 0; j < bn; j++)
				bq[j] = (struct trie_bulk){ qbuf[i0 + j], qlen[i0 + j], blens[j], bvals[j],
				                           maxes[i0 + j], 12345 };
			trie_get_prefixes_bulk(&root, bq, bn);
			for (unsigned j = 0; j < bn; j++) {
				int i = i0 + (int)j;
				unsigned n = trie_get_prefixes(&root, qbuf[i], qlen[i], lens[i], vals[i],
				                               maxes[i]);
				assert_int_equal(bq[j].n, n);
				for (unsigned k = 0; k < n; k++) {
					assert_int_equal(blens[j][k], lens[i][k]);
					assert_ptr_equal(bvals[j][k], vals[i][k]);
				}
			}
			i0 += (int)bn;
		}
		trie_free(&root, free_leaf, NULL);
		idx_gc_free_all(&garbage);
		free(keys);
	}
	for (int i = 0; i < NQ; i++)
		free(qbuf[i]);
	print_message("prefixes: %lu queries checked, %lu prefixes found, %lu with keys below\n",
	              checked, prefixes, past_end);
	/* the queries must have met every case: found several, none, and ended above keys */
	assert_true(prefixes > checked);
	assert_true(past_end > checked / 10);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_edges),
		cmocka_unit_test(test_oracle),
		cmocka_unit_test(test_stamp_reset),
		cmocka_unit_test(test_bulk),
		cmocka_unit_test(test_build),
		cmocka_unit_test(test_prefixes_long),
		cmocka_unit_test(test_prefixes_random),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
