/* test_ipam_index -- IPAM next-free and utilization over a real index version, against a plain set */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <cmocka.h>
#include <urcu-qsbr.h>

#include "control/ipam/ipam.h"
#include "dns/errcode.h"
#include "dns/name.h"
#include "index/index.h"
#include "index/snapshot.h"

#define T_A 1
#define T_AAAA 28

static uint64_t rng_state = 0x2545f4914f6cdd1dull;
static uint64_t rnd(void)
{
	rng_state ^= rng_state >> 12;
	rng_state ^= rng_state << 25;
	rng_state ^= rng_state >> 27;
	return rng_state * 0x2545f4914f6cdd1dull;
}

static struct ipam_cidr P(const char *s)
{
	struct ipam_cidr c;
	struct ipam_error e;
	if (ipam_cidr_parse(s, &c, &e) != DDI_EOK)
		fail_msg("%s: %s", s, e.msg);
	return c;
}

static double now_s(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + ts.tv_nsec / 1e9;
}

/* The owner name of an address in these tests: "h<hex>.<tag>.example." */
static void owner_of(int family, ipam_u128 a, int tag, uint8_t out[DNS_NAME_MAXLEN])
{
	char s[96];
	snprintf(s, sizeof(s), "h%016llx%016llx.t%d.example.", (unsigned long long)(a >> 64),
	         (unsigned long long)a, tag + family * 10);
	assert_true(dns_name_from_str(out, s, strlen(s), NULL) > 0);
}

/* Give (or take, present=false) `a` an A/AAAA record at its own name. */
static void set_addr(struct idx_txn *t, int family, ipam_u128 a, int tag, bool present)
{
	uint8_t owner[DNS_NAME_MAXLEN], rd[18], addr[16];
	size_t n = family == 4 ? 4 : 16;
	owner_of(family, a, tag, owner);
	ipam_addr_from_u128(family, a, addr);
	rd[0] = 0;
	rd[1] = (uint8_t)n;
	memcpy(rd + 2, addr, n);
	int r = idx_txn_rrset_set(t, owner, family == 4 ? T_A : T_AAAA, 300, present ? 1 : 0,
	                          present ? rd : NULL, present ? n + 2 : 0);
	assert_int_equal(r, DDI_EOK);
}

/* The plain set: sorted array. */
struct set {
	ipam_u128 *v;
	size_t n, cap;
};

static size_t s_lower(const struct set *s, ipam_u128 x)
{
	size_t lo = 0, hi = s->n;
	while (lo < hi) {
		size_t m = (lo + hi) / 2;
		if (s->v[m] < x)
			lo = m + 1;
		else
			hi = m;
	}
	return lo;
}

static bool s_has(const struct set *s, ipam_u128 x)
{
	size_t i = s_lower(s, x);
	return i < s->n && s->v[i] == x;
}

static void s_add(struct set *s, ipam_u128 x)
{
	size_t i = s_lower(s, x);
	assert_false(i < s->n && s->v[i] == x);
	if (s->n == s->cap) {
		s->cap = s->cap ? 2 * s->cap : 64;
		s->v = realloc(s->v, s->cap * sizeof(*s->v));
		assert_non_null(s->v);
	}
	memmove(s->v + i + 1, s->v + i, (s->n - i) * sizeof(*s->v));
	s->v[i] = x;
	s->n++;
}

static ipam_u128 s_del_at(struct set *s, size_t i)
{
	ipam_u128 x = s->v[i];
	memmove(s->v + i, s->v + i + 1, (s->n - i - 1) * sizeof(*s->v));
	s->n--;
	return x;
}

static size_t s_count(const struct set *s, ipam_u128 f, ipam_u128 l)
{
	size_t i = s_lower(s, f), k = i;
	while (k < s->n && s->v[k] <= l)
		k++;
	return k - i;
}

static bool expect_free(const struct set *s, ipam_u128 first, ipam_u128 last,
                        const struct ipam_span *ex, size_t nex, ipam_u128 *out)
{
	ipam_u128 a = first;
	for (;;) {
		bool moved = false;
		for (size_t i = 0; i < nex; i++)
			if (a >= ex[i].first && a <= ex[i].last) {
				if (ex[i].last >= last)
					return false;
				a = ex[i].last + 1;
				moved = true;
			}
		if (s_has(s, a)) {
			if (a >= last)
				return false;
			a++;
			moved = true;
		}
		if (!moved)
			break;
	}
	*out = a;
	return a <= last;
}

/*
 * Random allocate/release inside `prefix` through the index: the answer of
 * ipam_next_free over the index equals the brute-force one over the set,
 * and so does the utilization. Neighbours outside the prefix hold records
 * too, so a count that leaks across the boundary shows.
 */
static void index_run(struct idx *ix, const char *prefix, const struct ipam_span *ex_in,
                      size_t nex, int steps, int tag)
{
	struct ipam_cidr c = P(prefix);
	struct set s = {0};
	struct ipam_span ex[8];
	ipam_u128 first, last, want;
	uint8_t out[16];
	char buf[IPAM_ADDR_STRLEN];

	if (nex > 0)
		memcpy(ex, ex_in, nex * sizeof(*ex));
	nex = ipam_spans_normalize(ex, nex);
	ipam_cidr_usable(&c, &first, &last);
	struct idx_txn *t = idx_txn_begin(ix);
	assert_non_null(t);
	/* Neighbours just below and above the prefix. */
	ipam_u128 pf = ipam_cidr_first(&c), pl = ipam_cidr_last(&c);
	ipam_u128 top = c.family == 4 ? 0xffffffffu : ~(ipam_u128)0;
	if (pf > 0)
		set_addr(t, c.family, pf - 1, tag, true);
	if (pl < top)
		set_addr(t, c.family, pl + 1, tag, true);

	for (int step = 0; step < steps; step++) {
		const struct idx_version *v = idx_txn_version(t);
		bool alloc = s.n == 0 || rnd() % 3 != 0;
		if (alloc) {
			int r = ipam_next_free(&ipam_index_ops, (void *)v, &c, ex, nex, out);
			if (!expect_free(&s, first, last, ex, nex, &want)) {
				assert_int_equal(r, DDI_EFULL);
				continue;
			}
			assert_int_equal(r, DDI_EOK);
			ipam_u128 got = ipam_addr_to_u128(c.family, out);
			if (got != want) {
				ipam_addr_format(c.family, out, buf, sizeof(buf));
				fail_msg("%s step %d: index says %s", prefix, step, buf);
			}
			set_addr(t, c.family, got, tag, true);
			s_add(&s, got);
		} else {
			ipam_u128 x = s_del_at(&s, (size_t)(rnd() % s.n));
			set_addr(t, c.family, x, tag, false);
		}
		v = idx_txn_version(t);
		struct ipam_util u;
		assert_int_equal(ipam_utilization(&ipam_index_ops, (void *)v, &c, &u), DDI_EOK);
		assert_true(u.used == s_count(&s, first, last));
		/* Publish now and then, and read the published version as a reader does. */
		if (step % 97 == 96) {
			assert_int_equal(idx_txn_commit(t, (uint64_t)step), DDI_EOK);
			rcu_thread_online();
			v = idx_acquire(ix);
			assert_int_equal(ipam_utilization(&ipam_index_ops, (void *)v, &c, &u), DDI_EOK);
			assert_true(u.used == s_count(&s, first, last));
			rcu_thread_offline();
			t = idx_txn_begin(ix);
			assert_non_null(t);
		}
	}
	/* Leave the index as it was: the next run starts from an empty prefix. */
	while (s.n > 0)
		set_addr(t, c.family, s_del_at(&s, s.n - 1), tag, false);
	if (pf > 0)
		set_addr(t, c.family, pf - 1, tag, false);
	if (pl < top)
		set_addr(t, c.family, pl + 1, tag, false);
	assert_int_equal(idx_txn_commit(t, 0), DDI_EOK);
	free(s.v);
}

static struct idx *new_index(void)
{
	struct idx *ix = idx_new();
	assert_non_null(ix);
	struct idx_txn *t = idx_txn_begin(ix);
	uint8_t apex[DNS_NAME_MAXLEN];
	dns_name_from_str(apex, "example.", 8, NULL);
	assert_int_equal(idx_txn_zone_add(t, apex), DDI_EOK);
	assert_int_equal(idx_txn_commit(t, 1), DDI_EOK);
	return ix;
}

static void test_index_random(void **state)
{
	(void)state;
	struct idx *ix = new_index();
	ipam_u128 b4 = 0xc6120000u;   /* 198.18.0.0 */
	struct ipam_span ex4[2] = {{b4 + 10, b4 + 20}, {b4 + 100, b4 + 255}};
	index_run(ix, "198.18.0.0/24", NULL, 0, 1500, 0);
	index_run(ix, "198.18.0.0/24", ex4, 2, 1500, 1);
	index_run(ix, "198.18.0.0/27", NULL, 0, 300, 2);
	index_run(ix, "198.18.1.0/30", NULL, 0, 40, 3);
	index_run(ix, "198.18.1.4/31", NULL, 0, 40, 4);
	index_run(ix, "198.18.1.9/32", NULL, 0, 40, 5);
	index_run(ix, "198.18.0.0/15", NULL, 0, 1500, 6);
	index_run(ix, "0.0.0.0/31", NULL, 0, 40, 7);
	index_run(ix, "255.255.255.254/31", NULL, 0, 40, 8);
	struct ipam_cidr v6 = P("2001:2::/120");
	ipam_u128 b6 = ipam_cidr_first(&v6);
	struct ipam_span ex6[1] = {{b6 + 1, b6 + 16}};
	index_run(ix, "2001:2::/64", NULL, 0, 1500, 0);
	index_run(ix, "2001:2::/120", ex6, 1, 600, 1);
	index_run(ix, "2001:2::/120", NULL, 0, 600, 2);
	index_run(ix, "2001:2::4/127", NULL, 0, 40, 3);
	index_run(ix, "2001:2::9/128", NULL, 0, 40, 4);
	index_run(ix, "ffff:ffff:ffff:ffff:ffff:ffff:ffff:fff0/124", NULL, 0, 100, 5);
	index_run(ix, "::/127", NULL, 0, 40, 6);
	idx_free(ix);
}

/* Two names on one address count once; the IPv4 network and broadcast addresses never. */
static void test_index_counts(void **state)
{
	(void)state;
	struct idx *ix = new_index();
	struct idx_txn *t = idx_txn_begin(ix);
	struct ipam_cidr c = P("198.18.0.0/24");
	ipam_u128 b = ipam_cidr_first(&c);
	set_addr(t, 4, b, 0, true);         /* network address */
	set_addr(t, 4, b + 255, 0, true);   /* broadcast */
	set_addr(t, 4, b + 1, 0, true);
	set_addr(t, 4, b + 1, 1, true);     /* a second name, same address */
	set_addr(t, 4, b + 3, 0, true);
	const struct idx_version *v = idx_txn_version(t);
	struct ipam_util u;
	uint8_t out[16];
	assert_int_equal(ipam_utilization(&ipam_index_ops, (void *)v, &c, &u), DDI_EOK);
	assert_true(u.used == 2);
	assert_true(u.total == 254);
	assert_int_equal(u.permyriad, 78);
	assert_int_equal(ipam_next_free(&ipam_index_ops, (void *)v, &c, NULL, 0, out), DDI_EOK);
	assert_true(ipam_addr_to_u128(4, out) == b + 2);
	/* A span that starts on a used address and is cut by an exclusion. */
	struct ipam_span ex = {b + 2, b + 2};
	assert_int_equal(ipam_next_free_span(&ipam_index_ops, (void *)v, 4, b + 1, b + 10, &ex, 1, out),
	                 DDI_EOK);
	assert_true(ipam_addr_to_u128(4, out) == b + 4);
	idx_txn_abort(t);
	idx_free(ix);
}

/*
 * The measurement, at unit-test scale: a /8 holding 1M allocations
 * (the first 2^20 usable addresses, a few released again), next-free and
 * utilization timed. Prints the numbers; asserts the answers, and a bound
 * loose enough for sanitizer builds.
 */
static void test_index_big(void **state)
{
	(void)state;
	const char *env = getenv("DDI_IPAM_BIG");
	size_t n = env ? strtoul(env, NULL, 10) : (size_t)1 << 20;
	struct idx *ix = new_index();
	struct ipam_cidr c = P("10.0.0.0/8");
	ipam_u128 b = ipam_cidr_first(&c);

	double t0 = now_s();
	struct idx_txn *t = idx_txn_begin(ix);
	for (size_t i = 1; i <= n; i++)
		set_addr(t, 4, b + i, 0, true);
	assert_int_equal(idx_txn_commit(t, 2), DDI_EOK);
	double t1 = now_s();

	rcu_thread_online();
	const struct idx_version *v = idx_acquire(ix);
	uint8_t out[16];
	struct ipam_util u;
	const int reps = 10000;
	double t2 = now_s();
	for (int i = 0; i < reps; i++)
		assert_int_equal(ipam_next_free(&ipam_index_ops, (void *)v, &c, NULL, 0, out), DDI_EOK);
	double t3 = now_s();
	assert_true(ipam_addr_to_u128(4, out) == b + n + 1);
	for (int i = 0; i < reps; i++)
		assert_int_equal(ipam_utilization(&ipam_index_ops, (void *)v, &c, &u), DDI_EOK);
	double t4 = now_s();
	assert_true(u.used == n);
	assert_true(u.total == 16777214);
	/* The same search with a reserved span at the front (the span path). */
	struct ipam_span ex = {b + 1, b + 1000};
	for (int i = 0; i < reps; i++)
		assert_int_equal(ipam_next_free(&ipam_index_ops, (void *)v, &c, &ex, 1, out), DDI_EOK);
	double t5 = now_s();
	assert_true(ipam_addr_to_u128(4, out) == b + n + 1);
	rcu_thread_offline();

	/* A hole in the middle is found first. */
	t = idx_txn_begin(ix);
	ipam_u128 hole = b + 1 + rnd() % n;
	set_addr(t, 4, hole, 0, false);
	assert_int_equal(ipam_next_free(&ipam_index_ops, (void *)idx_txn_version(t), &c, NULL, 0, out),
	                 DDI_EOK);
	assert_true(ipam_addr_to_u128(4, out) == hole);
	idx_txn_abort(t);

	double nf = (t3 - t2) / reps * 1e6, ut = (t4 - t3) / reps * 1e6, sp = (t5 - t4) / reps * 1e6;
	printf("# ipam over the index: %zu allocations in a /8 loaded in %.2f s; next-free %.2f us, "
	       "utilization %.2f us, next-free with a reserved span %.2f us\n",
	       n, t1 - t0, nf, ut, sp);
	assert_true(nf < 1000 && ut < 1000 && sp < 1000);
	idx_free(ix);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_index_counts),
		cmocka_unit_test(test_index_random),
		cmocka_unit_test(test_index_big),
	};
	rcu_register_thread();
	rcu_thread_offline();
	int ret = cmocka_run_group_tests(tests, NULL, NULL);
	rcu_thread_online();
	rcu_unregister_thread();
	return ret;
}
