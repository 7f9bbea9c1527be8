/* bench_core -- in-process benchmarks of the index and the answer path */
#include <arpa/inet.h>
#include <malloc.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <urcu-qsbr.h>

#include "bench/corpus.h"
#include "bench/gbench.h"
#include "dns/errcode.h"
#include "dns/name.h"
#include "dns/rdata.h"
#include "dns/wire.h"
#include "index/answer.h"
#include "index/snapshot.h"

/*
 * One corpus per size: N host names h<i>.bench.test. with one A record each
 * (10.0.0.0/8, in memory only) and, for every 16th, an AAAA record, in a zone
 * with an in-addr.arpa reverse zone so PTR answers come from the address
 * index. Built once per size and shared by the benchmarks of that size.
 */
struct corpus {
	size_t n;
	struct idx *ix;
	size_t bytes;            /* heap growth while building */
	double build_s;          /* wall time of the build transaction */
	uint8_t (*keys)[64];     /* lookup keys of a sample of names */
	uint8_t *keylen;
	size_t nsample;
};

#define SAMPLE 4096

static struct corpus corpora[3];

static struct corpus *corpus_get(int which, size_t n)
{
	struct corpus *c = &corpora[which];
	if (c->ix)
		return c;
	c->n = n;
	c->ix = bc_build(n, &c->bytes, &c->build_s);

	c->nsample = SAMPLE;
	c->keys = malloc(SAMPLE * sizeof(*c->keys));
	c->keylen = malloc(SAMPLE);
	srandom(42);
	for (size_t i = 0; i < SAMPLE; i++) {
		uint8_t owner[DNS_NAME_MAXLEN], key[DNS_KEY_MAXLEN];
		bc_host_name(owner, (size_t)random() % n);
		int kl = dns_name_to_key(key, owner);
		memcpy(c->keys[i], key, (size_t)kl);
		c->keylen[i] = (uint8_t)kl;
	}
	return c;
}

static const size_t sizes[3] = { 1000, 1000000, 10000000 };

static struct corpus *corpus_for(struct gb_state *st)
{
	int which = (int)gb_range(st);
	return corpus_get(which, sizes[which]);
}

/* --- name lookup ---------------------------------------------------------- */

static void bm_lookup_hit(struct gb_state *st, void *arg)
{
	(void)arg;
	struct corpus *c = corpus_for(st);
	const struct idx_version *v = idx_acquire(c->ix);
	size_t i = 0, found = 0;
	while (gb_next(st)) {
		found += idx_find(v, c->keys[i], c->keylen[i]) != NULL;
		i = (i + 1) & (SAMPLE - 1);
	}
	if (found == 0)
		abort();
	gb_set_items(st, gb_iterations(st));
	gb_counter(st, "bytes_per_name", (double)c->bytes / (double)c->n, false);
	/* records: an A per name and an AAAA per 16 names (the zones' SOA/NS are noise) */
	gb_counter(st, "bytes_per_record", (double)c->bytes / (double)(c->n + (c->n + 15) / 16), false);
	gb_counter(st, "build_s", c->build_s, false);
}

static void bm_lookup_miss(struct gb_state *st, void *arg)
{
	(void)arg;
	struct corpus *c = corpus_for(st);
	const struct idx_version *v = idx_acquire(c->ix);
	uint8_t key[SAMPLE][64];
	size_t len[SAMPLE];
	for (size_t i = 0; i < SAMPLE; i++) {
		memcpy(key[i], c->keys[i], c->keylen[i]);
		/* change the host label's last character: same length, absent */
		key[i][c->keylen[i] - 2] = 'x';
		len[i] = c->keylen[i];
	}
	size_t i = 0, found = 0;
	while (gb_next(st)) {
		found += idx_find(v, key[i], len[i]) != NULL;
		i = (i + 1) & (SAMPLE - 1);
	}
	if (found != 0)
		abort();
	gb_set_items(st, gb_iterations(st));
}

/* --- the whole answer path: parse + lookup + render ------------------------ */

struct query {
	uint8_t wire[512];
	size_t len;
};

enum qkind { Q_A = BC_A, Q_AAAA = BC_AAAA, Q_NXDOMAIN = BC_NXDOMAIN, Q_PTR = BC_PTR };
#define qkind_name bc_kind_name

static void build_queries(struct query *qs, size_t n, enum qkind kind, size_t nnames)
{
	srandom(7);
	for (size_t i = 0; i < n; i++)
		qs[i].len = bc_query(qs[i].wire, (enum bc_kind)kind, (size_t)random() % nnames, true);
}

struct answer_arg {
	enum qkind kind;
};

static void bm_answer(struct gb_state *st, void *arg)
{
	const struct answer_arg *a = arg;
	struct corpus *c = corpus_for(st);
	enum { NQ = 1024 };
	static struct query qs[NQ];
	build_queries(qs, NQ, a->kind, c->n);
	const struct answer_conf conf = { .udp_max = DNS_EDNS_DEFAULT };
	uint8_t buf[2048];
	size_t i = 0, bytes = 0;
	uint8_t rcode_seen = 0xff;
	while (gb_next(st)) {
		const struct idx_version *v = idx_acquire(c->ix);
		memcpy(buf, qs[i].wire, qs[i].len);
		struct dns_query q;
		enum dns_parse_result pr = dns_query_parse(&q, buf, qs[i].len);
		struct answer_info info;
		bytes += answer_query(v, &conf, ANSWER_UDP, &q, pr, buf, sizeof(buf), &info);
		rcode_seen = info.rcode;
		i = (i + 1) & (NQ - 1);
	}
	uint8_t want = a->kind == Q_NXDOMAIN ? DNS_RCODE_NXDOMAIN : DNS_RCODE_NOERROR;
	if (rcode_seen != want) {
		fprintf(stderr, "bench: %s answered rcode %u\n", qkind_name[a->kind], rcode_seen);
		abort();
	}
	gb_set_items(st, gb_iterations(st));
	gb_do_not_optimize(&bytes);
}

/*
 * The same path on a cold working set: 256K queries over uniformly random
 * names in the mix of bench-dp-ring (60 % A, 15 % AAAA, 15 % NXDOMAIN, 10 %
 * PTR). bm_answer cycles over 1024 queries, whose trie paths stay in the
 * caches; here nearly every lookup misses them, as with traffic spread
 * evenly over a large zone. Real traffic is skewed, so the truth for a
 * server lies between the two.
 */
#define COLD_NQ (1u << 18)
#define COLD_SLOT 128

static void bm_answer_cold(struct gb_state *st, void *arg)
{
	(void)arg;
	struct corpus *c = corpus_for(st);
	uint8_t (*qs)[COLD_SLOT] = malloc((size_t)COLD_NQ * COLD_SLOT);
	uint8_t *qlen = malloc(COLD_NQ);
	if (!qs || !qlen)
		abort();
	srandom(11);
	for (size_t i = 0; i < COLD_NQ; i++) {
		unsigned r = (unsigned)random() % 100;
		enum bc_kind k = r < 60 ? BC_A : r < 75 ? BC_AAAA : r < 90 ? BC_NXDOMAIN : BC_PTR;
		uint8_t tmp[512];
		size_t len = bc_query(tmp, k, (size_t)random() % c->n, true);
		if (len > COLD_SLOT)
			abort();
		memcpy(qs[i], tmp, len);
		qlen[i] = (uint8_t)len;
	}
	const struct answer_conf conf = { .udp_max = DNS_EDNS_DEFAULT };
	uint8_t buf[2048];
	size_t i = 0, bytes = 0, nx = 0, n = 0;
	while (gb_next(st)) {
		const struct idx_version *v = idx_acquire(c->ix);
		memcpy(buf, qs[i], qlen[i]);
		struct dns_query q;
		enum dns_parse_result pr = dns_query_parse(&q, buf, qlen[i]);
		struct answer_info info;
		bytes += answer_query(v, &conf, ANSWER_UDP, &q, pr, buf, sizeof(buf), &info);
		nx += info.rcode == DNS_RCODE_NXDOMAIN;
		n++;
		i = (i + 1) & (COLD_NQ - 1);
	}
	/* the NXDOMAIN share is the mix's (15 %), or the answers are wrong */
	if (n > 10000 && (nx * 100 < n * 13 || nx * 100 > n * 17)) {
		fprintf(stderr, "bench: cold mix answered %zu NXDOMAIN of %zu\n", nx, n);
		abort();
	}
	gb_set_items(st, gb_iterations(st));
	gb_do_not_optimize(&bytes);
	free(qs);
	free(qlen);
}

/* --- addresses ----------------------------------------------------------- */

static void bm_addr_find(struct gb_state *st, void *arg)
{
	(void)arg;
	struct corpus *c = corpus_for(st);
	const struct idx_version *v = idx_acquire(c->ix);
	size_t i = 0, found = 0;
	while (gb_next(st)) {
		uint32_t a = htonl(bc_addr((i * 2654435761u) % c->n));
		found += idx_addr_find(v, 4, (const uint8_t *)&a) != NULL;
		i++;
	}
	if (found == 0)
		abort();
}

static void bm_addr_next_free(struct gb_state *st, void *arg)
{
	(void)arg;
	struct corpus *c = corpus_for(st);
	const struct idx_version *v = idx_acquire(c->ix);
	const uint8_t p8[4] = { 10, 0, 0, 0 };
	uint8_t out[16];
	while (gb_next(st)) {
		if (idx_addr_next_free(v, 4, p8, 8, 1, 1, out) != DDI_EOK)
			abort();
	}
}

static void bm_addr_count(struct gb_state *st, void *arg)
{
	(void)arg;
	struct corpus *c = corpus_for(st);
	const struct idx_version *v = idx_acquire(c->ix);
	const uint8_t p8[4] = { 10, 0, 0, 0 };
	uint64_t n = 0;
	while (gb_next(st))
		n += idx_addr_count(v, 4, p8, 8);
	gb_do_not_optimize(&n);
}

/* --- changes: one transaction of 100 RRset replacements, published -------- */

static void bm_txn_publish(struct gb_state *st, void *arg)
{
	(void)arg;
	struct corpus *c = corpus_for(st);
	uint64_t seq = 2, changes = 0;
	while (gb_next(st)) {
		struct idx_txn *t = idx_txn_begin(c->ix);
		for (int k = 0; k < 100; k++) {
			uint8_t owner[DNS_NAME_MAXLEN];
			size_t h = (size_t)random() % c->n;
			bc_host_name(owner, h);
			uint32_t a = htonl(bc_addr(h));
			uint8_t rd[6];
			dns_put16(rd, 4);
			memcpy(rd + 2, &a, 4);
			if (idx_txn_rrset_set(t, owner, DNS_T_A, 3600, 1, rd, sizeof(rd)) != DDI_EOK)
				abort();
		}
		idx_txn_commit(t, seq++);
		/* let the replaced versions go: this thread is the only reader */
		rcu_quiescent_state();
		changes += 100;
	}
	gb_set_items(st, (int64_t)changes);
}

int main(int argc, char **argv)
{
	rcu_register_thread();
	bool big = getenv("DDI_BENCH_10M") != NULL;
	static struct answer_arg aa[4] = { { Q_A }, { Q_AAAA }, { Q_NXDOMAIN }, { Q_PTR } };
	char name[128];
	for (int s = 0; s < (big ? 3 : 2); s++) {
		const char *sz = s == 0 ? "1K" : s == 1 ? "1M" : "10M";
		snprintf(name, sizeof(name), "lookup_hit/%s", sz);
		gb_register(name, bm_lookup_hit, NULL, s);
		snprintf(name, sizeof(name), "lookup_miss/%s", sz);
		gb_register(name, bm_lookup_miss, NULL, s);
		for (int k = 0; k < 4; k++) {
			snprintf(name, sizeof(name), "answer_%s/%s", qkind_name[k], sz);
			gb_register(name, bm_answer, &aa[k], s);
		}
	}
	gb_register("answer_mix_cold/1M", bm_answer_cold, NULL, 1);
	if (big)
		gb_register("answer_mix_cold/10M", bm_answer_cold, NULL, 2);
	gb_register("addr_find/1M", bm_addr_find, NULL, 1);
	gb_register("addr_next_free_slash8/1M", bm_addr_next_free, NULL, 1);
	gb_register("addr_utilization_slash8/1M", bm_addr_count, NULL, 1);
	gb_register("txn_100_changes_publish/1M", bm_txn_publish, NULL, 1);
	int ret = gb_main(argc, argv);
	rcu_unregister_thread();
	return ret;
}
