/* radix_mem -- bytes of the address radix tree per address, and its lookup time, at 1M dense IPv4 and 1M random IPv6 */
#include <malloc.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "dns/errcode.h"
#include "index/radix.h"

/*
 * Usage: bench-radix-mem [N] [TXN]      (defaults 1000000, 1000)
 *
 * Builds two trees straight through radix.h (no snapshot, no names):
 *   v4: N consecutive IPv4 addresses from 198.18.0.0 (dense /24s, 1M is
 *       198.18.0.0-198.33.255.255);
 *   v6: N random addresses in 2001:2::/64.
 * each twice, in a random order: in one transaction (the start-up bulk
 * build) and in transactions of TXN addresses (the follower applying
 * changes; every older node on a changed path is copied, the replaced ones
 * freed as after a grace period). The tree's bytes are malloc's in-use
 * bytes (mallinfo2 uordblks) with the tree minus without it: interior
 * nodes only, the leaves (struct idx_addr, the index's) are allocated
 * before and not counted. Then N radix_find lookups of present addresses
 * in a random order, timed with the thread's CPU clock, one by one and in
 * radix_find_bulk bursts of 32; and radix_count and radix_next_free
 * (skipping the first and last address) on prefixes of whole and partial
 * bytes around the first address, in a loop. The same file builds against any radix.c
 * with this API, so an older tree is measured with the same program.
 */

#define BURST 32

static uint64_t rng = 0x9e3779b97f4a7c15ULL;

static uint64_t rnd(void)
{
	rng ^= rng >> 12;
	rng ^= rng << 25;
	rng ^= rng >> 27;
	return rng * 0x2545f4914f6cdd1dULL;
}

static double cpu_now(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_THREAD_CPUTIME_ID, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static size_t in_use(void)
{
	return mallinfo2().uordblks;
}

static void shuffle(struct idx_addr **l, size_t n)
{
	for (size_t k = n - 1; k > 0; k--) {
		size_t j = rnd() % (k + 1);
		struct idx_addr *t = l[k];
		l[k] = l[j];
		l[j] = t;
	}
}

/* Insert l[0..n) in transactions of txn (0: one), generation by generation. */
static void *build(struct idx_addr **l, size_t n, size_t txn)
{
	void *root = NULL;
	uint64_t gen = 1;
	struct idx_gc garbage = { 0 };
	struct radix_cow c = { gen, &garbage };

	for (size_t k = 0; k < n; k++) {
		if (txn && k % txn == 0) {
			idx_gc_free_all(&garbage);   /* the grace period has passed */
			c.gen = ++gen;
		}
		struct idx_addr *old;
		if (radix_set(&c, &root, l[k], &old) != DDI_EOK || old != NULL) {
			fprintf(stderr, "radix_set failed at %zu\n", k);
			exit(1);
		}
	}
	idx_gc_free_all(&garbage);
	idx_gc_clear(&garbage);
	return root;
}

static void lookups(const char *what, void *root, int family, struct idx_addr **l, size_t n)
{
	size_t found = 0;
	double t0 = cpu_now();
	for (size_t k = 0; k < n; k++)
		found += radix_find(root, family, l[k]->addr) != NULL;
	double t1 = cpu_now();
	struct radix_bulk q[BURST];
	for (size_t k = 0; k + BURST <= n; k += BURST) {
		for (unsigned i = 0; i < BURST; i++)
			q[i] = (struct radix_bulk){ root, family, l[k + i]->addr, NULL };
		radix_find_bulk(q, BURST);
		for (unsigned i = 0; i < BURST; i++)
			found += q[i].found != NULL;
	}
	double t2 = cpu_now();
	size_t nb = n / BURST * BURST;
	if (found != n + nb) {
		fprintf(stderr, "%s: %zu of %zu found\n", what, found, n + nb);
		exit(1);
	}
	printf("%s find: %.1f ns one by one, %.1f ns in bursts of %d\n", what, (t1 - t0) * 1e9 / (double)n,
	       (t2 - t1) * 1e9 / (double)nb, BURST);
}

/* CPU time per call of radix_count and radix_next_free on prefix/plen (skips 1 and 1). */
static void counts(const char *what, void *root, int family, const uint8_t *prefix, int plen)
{
	enum { REPS = 100000 };
	uint8_t out[16];
	uint64_t sum = 0, found = 0;
	double t0 = cpu_now();
	for (int k = 0; k < REPS; k++)
		sum += radix_count(root, family, prefix, plen);
	double t1 = cpu_now();
	for (int k = 0; k < REPS; k++)
		found += radix_next_free(root, family, prefix, plen, 1, 1, out) == DDI_EOK;
	double t2 = cpu_now();
	printf("%s /%d: count %.1f ns (%llu), next free %.1f ns (%s)\n", what, plen,
	       (t1 - t0) * 1e9 / REPS, (unsigned long long)(sum / REPS), (t2 - t1) * 1e9 / REPS,
	       found == REPS ? "found" : found ? "?" : "full");
}

static void measure(const char *what, int family, struct idx_addr **l, size_t n, size_t txn)
{
	shuffle(l, n);   /* insertion and lookup order */
	size_t m0 = in_use();
	void *root = build(l, n, 0);
	size_t m1 = in_use();
	printf("%s one transaction: %zu bytes, %.2f bytes per address\n", what, m1 - m0,
	       (double)(m1 - m0) / (double)n);
	lookups(what, root, family, l, n);
	/* prefixes around the first address: whole bytes and partial ones */
	static const uint8_t v4[16] = { 198, 18, 0, 0 };
	static const uint8_t v6[16] = { 0x20, 0x01, 0x00, 0x02 };
	static const int plens4[] = { 8, 12, 16, 20, 24 }, plens6[] = { 48, 64, 68, 72 };
	for (int k = 0; k < (family == 4 ? 5 : 4); k++)
		counts(what, root, family, family == 4 ? v4 : v6, family == 4 ? plens4[k] : plens6[k]);
	radix_free(root, NULL, NULL);

	m0 = in_use();
	root = build(l, n, txn);
	m1 = in_use();
	printf("%s transactions of %zu: %zu bytes, %.2f bytes per address\n", what, txn, m1 - m0,
	       (double)(m1 - m0) / (double)n);
	radix_free(root, NULL, NULL);
}

int main(int argc, char **argv)
{
	size_t n = argc > 1 ? strtoul(argv[1], NULL, 10) : 1000000;
	size_t txn = argc > 2 ? strtoul(argv[2], NULL, 10) : 1000;
	if (n < BURST || n > 16000000 || txn == 0) {
		fprintf(stderr, "usage: bench-radix-mem [N (32..16000000)] [TXN (>0)]\n");
		return 2;
	}
	struct idx_addr **l = malloc(n * sizeof(*l));
	if (l == NULL)
		return 1;
	for (size_t k = 0; k < n; k++) {
		uint32_t a = 0xc6120000u + (uint32_t)k;
		l[k] = calloc(1, idx_addr_len(6, 0));
		if (l[k] == NULL)
			return 1;
		l[k]->family = 4;
		for (int i = 0; i < 4; i++)
			l[k]->addr[i] = (uint8_t)(a >> (24 - 8 * i));
	}
	measure("IPv4 dense", 4, l, n, txn);
	for (size_t k = 0; k < n; k++) {
		/* 2001:2::/64 and 64 random bits: xorshift64* repeats no output within its period */
		static const uint8_t net[8] = { 0x20, 0x01, 0x00, 0x02, 0, 0, 0, 0 };
		uint64_t r = rnd();
		l[k]->family = 6;
		memcpy(l[k]->addr, net, 8);
		for (int i = 0; i < 8; i++)
			l[k]->addr[8 + i] = (uint8_t)(r >> (56 - 8 * i));
	}
	measure("IPv6 random /64", 6, l, n, txn);
	for (size_t k = 0; k < n; k++)
		free(l[k]);
	free(l);
	return 0;
}
