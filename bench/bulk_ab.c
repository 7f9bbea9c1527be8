/* bulk_ab -- answers one by one against bursts whose lookups are walked together, interleaved in one process */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <urcu-qsbr.h>

#include "bench/corpus.h"
#include "dns/wire.h"
#include "index/answer.h"
#include "index/snapshot.h"

/*
 * Usage: bench-bulk-ab [NAMES] [SLICES]      (defaults 1000000, 40)
 *
 * The same 256K queries (uniform names, 60/15/15/10 % A/AAAA/NXDOMAIN/PTR,
 * the mix of bench-dp-ring) answered in slices that alternate between the
 * two ways a worker can run them: one by one (dns_query_parse +
 * answer_query, the worker before its burst pipeline) and in bursts of 32
 * (parse all, answer_bulk_prepare, answer_bulk_lookup, answer_query_bulk).
 * Each slice's time is the thread's CPU time (CLOCK_THREAD_CPUTIME_ID), so
 * a slice that waited for the CPU is not charged, and alternating slices
 * see the same machine: on a shared machine the ratio of the two, and
 * their minimum over the slices, are the figures to quote. Both ways must
 * give the same number of NXDOMAIN answers, else the run fails.
 */

#define NQ (1u << 18)
#define SLOT 64
#define BURST ANSWER_BULK_MAX

static uint8_t (*qs)[SLOT];
static uint8_t *qlen;

static double cpu_now(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_THREAD_CPUTIME_ID, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static const struct answer_conf conf = { .udp_max = DNS_EDNS_DEFAULT };

static size_t run_single(const struct idx_version *v)
{
	static uint8_t buf[2048];
	size_t nx = 0;
	for (size_t i = 0; i < NQ; i++) {
		memcpy(buf, qs[i], qlen[i]);
		struct dns_query q;
		enum dns_parse_result pr = dns_query_parse(&q, buf, qlen[i]);
		struct answer_info info;
		answer_query(v, &conf, ANSWER_UDP, &q, pr, buf, sizeof(buf), &info);
		nx += info.rcode == DNS_RCODE_NXDOMAIN;
	}
	return nx;
}

static size_t run_bulk(const struct idx_version *v, struct answer_bulk *b)
{
	static uint8_t buf[BURST][2048];
	size_t nx = 0;
	for (size_t i0 = 0; i0 < NQ; i0 += BURST) {
		struct dns_query q[BURST];
		enum dns_parse_result pr[BURST];
		for (unsigned k = 0; k < BURST; k++) {
			memcpy(buf[k], qs[i0 + k], qlen[i0 + k]);
			pr[k] = dns_query_parse(&q[k], buf[k], qlen[i0 + k]);
			answer_bulk_prepare(b, k, &q[k], pr[k]);
		}
		answer_bulk_lookup(v, b, BURST);
		for (unsigned k = 0; k < BURST; k++) {
			struct answer_info info;
			answer_query_bulk(v, &conf, ANSWER_UDP, &q[k], pr[k], buf[k], sizeof(buf[k]),
			                  &info, b, k);
			nx += info.rcode == DNS_RCODE_NXDOMAIN;
		}
	}
	return nx;
}

static int dcmp(const void *a, const void *b)
{
	double x = *(const double *)a, y = *(const double *)b;
	return x < y ? -1 : x > y;
}

int main(int argc, char **argv)
{
	size_t names = argc > 1 ? strtoul(argv[1], NULL, 10) : 1000000;
	int slices = argc > 2 ? atoi(argv[2]) : 40;
	if (names == 0 || slices < 2 || slices > 1000) {
		fprintf(stderr, "usage: bench-bulk-ab [names] [slices]\n");
		return 2;
	}
	rcu_register_thread();
	struct idx *ix = bc_build(names, NULL, NULL);
	qs = malloc((size_t)NQ * SLOT);
	qlen = malloc(NQ);
	struct answer_bulk *b = answer_bulk_new();
	double *ts = malloc(sizeof(double) * (size_t)slices);
	double *tb = malloc(sizeof(double) * (size_t)slices);
	if (!qs || !qlen || !b || !ts || !tb)
		abort();
	srandom(11);
	for (size_t i = 0; i < NQ; i++) {
		unsigned r = (unsigned)random() % 100;
		enum bc_kind k = r < 60 ? BC_A : r < 75 ? BC_AAAA : r < 90 ? BC_NXDOMAIN : BC_PTR;
		uint8_t tmp[512];
		size_t len = bc_query(tmp, k, (size_t)random() % names, true);
		if (len > SLOT)
			abort();
		memcpy(qs[i], tmp, len);
		qlen[i] = (uint8_t)len;
	}
	const struct idx_version *v = idx_acquire(ix);
	size_t nx1 = 0, nx2 = 0;
	for (int s = 0; s < slices; s++) {
		double t0 = cpu_now();
		nx1 = run_single(v);
		double t1 = cpu_now();
		nx2 = run_bulk(v, b);
		double t2 = cpu_now();
		ts[s] = (t1 - t0) / NQ * 1e9;
		tb[s] = (t2 - t1) / NQ * 1e9;
		if (nx1 != nx2) {
			fprintf(stderr, "bench-bulk-ab: %zu NXDOMAIN one by one, %zu in bursts\n", nx1, nx2);
			return 1;
		}
	}
	double ratio_min = 1e9, ratio_max = 0;
	double *ratio = malloc(sizeof(double) * (size_t)slices);
	if (!ratio)
		abort();
	for (int s = 0; s < slices; s++) {
		ratio[s] = ts[s] / tb[s];
		ratio_min = ratio[s] < ratio_min ? ratio[s] : ratio_min;
		ratio_max = ratio[s] > ratio_max ? ratio[s] : ratio_max;
	}
	qsort(ts, (size_t)slices, sizeof(double), dcmp);
	qsort(tb, (size_t)slices, sizeof(double), dcmp);
	qsort(ratio, (size_t)slices, sizeof(double), dcmp);
	printf("bench-bulk-ab: %zu names, %u queries per slice, %d slices of each, NXDOMAIN %.1f %%\n",
	       names, NQ, slices, 100.0 * (double)nx1 / NQ);
	printf("one by one: min %.0f ns, median %.0f ns of CPU per query\n", ts[0], ts[slices / 2]);
	printf("bursts of %d: min %.0f ns, median %.0f ns of CPU per query\n", BURST, tb[0],
	       tb[slices / 2]);
	printf("speed-up (one by one / bursts, same slice pair): median %.2f, min %.2f, max %.2f\n",
	       ratio[slices / 2], ratio_min, ratio_max);
	rcu_thread_offline();
	idx_free(ix);
	rcu_unregister_thread();
	answer_bulk_free(b);
	free(qs);
	free(qlen);
	free(ts);
	free(tb);
	free(ratio);
	return 0;
}
