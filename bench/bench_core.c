/* bench_core -- in-process benchmarks of the index and the answer path */
#include <arpa/inet.h>
#include <malloc.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <urcu-qsbr.h>

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

static double now_s(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec + ts.tv_nsec / 1e9;
}

static void host_name(uint8_t out[DNS_NAME_MAXLEN], size_t i)
{
	char buf[64];
	int len = snprintf(buf, sizeof(buf), "h%zu.bench.test.", i);
	if (dns_name_from_str(out, buf, (size_t)len, NULL) < 0)
		abort();
}

static void set_rrset(struct idx_txn *t, const uint8_t *owner, uint16_t type, const void *rd, uint16_t len)
{
	uint8_t buf[2 + 512];
	dns_put16(buf, len);
	memcpy(buf + 2, rd, len);
	int ret = idx_txn_rrset_set(t, owner, type, 3600, 1, buf, 2u + len);
	if (ret != DDI_EOK) {
		fprintf(stderr, "bench: rrset_set: %s\n", ddi_strerror(ret));
		abort();
	}
}

static void add_zone(struct idx_txn *t, const char *apex_str)
{
	uint8_t apex[DNS_NAME_MAXLEN], soa[512];
	dns_name_from_str(apex, apex_str, strlen(apex_str), NULL);
	if (idx_txn_zone_add(t, apex) != DDI_EOK)
		abort();
	const char *f[] = { "ns.bench.test.", "hostmaster.bench.test.", "1", "3600", "600",
	                    "86400", "300" };
	bool q[7] = { false };
	char err[128];
	int len = dns_rdata_from_str(soa, sizeof(soa), DNS_T_SOA, f, q, 7, apex, err, sizeof(err));
	if (len < 0)
		abort();
	set_rrset(t, apex, DNS_T_SOA, soa, (uint16_t)len);
	uint8_t ns[DNS_NAME_MAXLEN];
	int nslen = dns_name_from_str(ns, "ns.bench.test.", 14, NULL);
	set_rrset(t, apex, DNS_T_NS, ns, (uint16_t)nslen);
}

static uint32_t addr_of(size_t i)
{
	return 0x0a000000u + (uint32_t)i + 1; /* 10.0.0.1 ... */
}

static struct corpus *corpus_get(int which, size_t n)
{
	struct corpus *c = &corpora[which];
	if (c->ix)
		return c;
	c->n = n;
	struct mallinfo2 before = mallinfo2();
	double t0 = now_s();
	c->ix = idx_new();
	struct idx_txn *t = idx_txn_begin(c->ix);
	add_zone(t, "bench.test.");
	add_zone(t, "10.in-addr.arpa.");
	for (size_t i = 0; i < n; i++) {
		uint8_t owner[DNS_NAME_MAXLEN];
		host_name(owner, i);
		uint32_t a = htonl(addr_of(i));
		set_rrset(t, owner, DNS_T_A, &a, 4);
		if (i % 16 == 0) {
			uint8_t a6[16] = { 0x20, 0x01, 0x00, 0x02 };
			memcpy(a6 + 12, &a, 4);
			set_rrset(t, owner, DNS_T_AAAA, a6, 16);
		}
	}
	if (idx_txn_commit(t, 1) != DDI_EOK)
		abort();
	c->build_s = now_s() - t0;
	struct mallinfo2 after = mallinfo2();
	c->bytes = (after.uordblks + after.hblkhd) - (before.uordblks + before.hblkhd);

	c->nsample = SAMPLE;
	c->keys = malloc(SAMPLE * sizeof(*c->keys));
	c->keylen = malloc(SAMPLE);
	srandom(42);
	for (size_t i = 0; i < SAMPLE; i++) {
		uint8_t owner[DNS_NAME_MAXLEN], key[DNS_KEY_MAXLEN];
		host_name(owner, (size_t)random() % n);
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
	gb_counter(st, "bytes_per_name", (double)c->bytes / (double)c->n, false);
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
}

/* --- the whole answer path: parse + lookup + render ------------------------ */

struct query {
	uint8_t wire[512];
	size_t len;
};

static size_t make_query(uint8_t *buf, const char *name, uint16_t type, bool edns)
{
	uint8_t wname[DNS_NAME_MAXLEN];
	int nl = dns_name_from_str(wname, name, strlen(name), NULL);
	memset(buf, 0, DNS_HDR_LEN);
	dns_put16(buf, 0x1234);
	dns_put16(buf + 4, 1);
	memcpy(buf + DNS_HDR_LEN, wname, (size_t)nl);
	size_t p = DNS_HDR_LEN + (size_t)nl;
	dns_put16(buf + p, type);
	dns_put16(buf + p + 2, DNS_CLASS_IN);
	p += 4;
	if (edns) {
		dns_put16(buf + 10, 1);
		buf[p] = 0;
		dns_put16(buf + p + 1, DNS_T_OPT);
		dns_put16(buf + p + 3, 1232);
		memset(buf + p + 5, 0, 6);
		p += 11;
	}
	return p;
}

enum qkind { Q_A, Q_AAAA, Q_NXDOMAIN, Q_PTR };
static const char *const qkind_name[] = { "A", "AAAA", "NXDOMAIN", "PTR" };

static void build_queries(struct query *qs, size_t n, enum qkind kind, size_t nnames)
{
	srandom(7);
	for (size_t i = 0; i < n; i++) {
		size_t h = (size_t)random() % nnames;
		char name[128];
		uint16_t type = DNS_T_A;
		switch (kind) {
		case Q_A:
			snprintf(name, sizeof(name), "h%zu.bench.test.", h);
			break;
		case Q_AAAA:
			snprintf(name, sizeof(name), "h%zu.bench.test.", h & ~(size_t)15);
			type = DNS_T_AAAA;
			break;
		case Q_NXDOMAIN:
			snprintf(name, sizeof(name), "nx%zu.bench.test.", h);
			break;
		case Q_PTR: {
			uint32_t a = addr_of(h);
			snprintf(name, sizeof(name), "%u.%u.%u.10.in-addr.arpa.", a & 0xff, (a >> 8) & 0xff,
			         (a >> 16) & 0xff);
			type = DNS_T_PTR;
			break;
		}
		}
		qs[i].len = make_query(qs[i].wire, name, type, true);
	}
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
	gb_do_not_optimize(&bytes);
}

/* --- addresses ----------------------------------------------------------- */

static void bm_addr_find(struct gb_state *st, void *arg)
{
	(void)arg;
	struct corpus *c = corpus_for(st);
	const struct idx_version *v = idx_acquire(c->ix);
	size_t i = 0, found = 0;
	while (gb_next(st)) {
		uint32_t a = htonl(addr_of((i * 2654435761u) % c->n));
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
			host_name(owner, h);
			uint32_t a = htonl(addr_of(h));
			set_rrset(t, owner, DNS_T_A, &a, 4);
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
	gb_register("addr_find/1M", bm_addr_find, NULL, 1);
	gb_register("addr_next_free_slash8/1M", bm_addr_next_free, NULL, 1);
	gb_register("addr_utilization_slash8/1M", bm_addr_count, NULL, 1);
	gb_register("txn_100_changes_publish/1M", bm_txn_publish, NULL, 1);
	int ret = gb_main(argc, argv);
	rcu_unregister_thread();
	return ret;
}
