/* index_mem -- index heap bytes per A record of the benchmark corpus, built record by record or by a bulk load, with where the bytes go */
#include <malloc.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <time.h>

#include <arpa/inet.h>
#include <urcu-qsbr.h>

#include "bench/corpus.h"
#include "dns/errcode.h"
#include "dns/name.h"
#include "dns/rdata.h"
#include "dns/wire.h"
#include "index/answer.h"
#include "index/snapshot.h"
#ifndef INDEX_MEM_TOTAL_ONLY
#include "index/node.h"
#include "index/slab.h"
#endif

/*
 * Usage: index-mem N [incremental|bulk] [time]
 *
 * Builds the corpus of bench/corpus.h (N names h<i>.bench.test., each an A
 * record, every 16th also an AAAA: N + N/16 address records, PTR from the
 * address index) in one transaction, either with idx_txn_rrset_set per
 * RRset (bc_build, what bench-core's bytes_per_record counts) or with the
 * bulk load a start from the store uses (idx_txn_bulk_rrset in key order),
 * and prints the heap it took (mallinfo2: chunks in use, malloc's
 * per-chunk header included), per name and per address record. Then,
 * where the bytes go: node blocks (key, header, RRsets, blobs, an owner
 * only if mixed case) and address leaves counted chunk by chunk
 * (malloc_usable_size + 8 header bytes), the rest being the qp-trie's twig
 * arrays and the radix trees' nodes.
 *
 * With `time`: CPU time per answer (parse + answer_query) of 262,144 A and
 * as many PTR queries on uniformly random names of the index (most of
 * them cache misses at 1M names), three rounds alternating A and PTR;
 * each query's rcode must be NOERROR.
 */

/* Slab arenas are mmap()ed: mallinfo2 does not see them. */
static size_t slab_mapped(void)
{
#ifdef INDEX_MEM_TOTAL_ONLY
	return 0;
#else
	return slab_bytes();
#endif
}

static size_t heap_now(void)
{
	struct mallinfo2 m = mallinfo2();
	return m.uordblks + m.hblkhd;
}

/* What the heap took from the system, free chunks included (fragmentation shows here). */
static size_t heap_system(void)
{
	struct mallinfo2 m = mallinfo2();
	return m.arena + m.hblkhd;
}

static void bulk_set(struct idx_txn *t, const uint8_t *owner, uint16_t type, const void *rd,
                     uint16_t len)
{
	uint8_t buf[2 + 512];
	dns_put16(buf, len);
	memcpy(buf + 2, rd, len);
	int ret = idx_txn_bulk_rrset(t, owner, type, 3600, 1, buf, 2u + len);
	if (ret != DDI_EOK) {
		fprintf(stderr, "index-mem: bulk_rrset: %s\n", ddi_strerror(ret));
		exit(1);
	}
}

static int by_label(const void *a, const void *b)
{
	return strcmp(*(char *const *)a, *(char *const *)b);
}

/* The corpus of bc_build, by a bulk load: zones, then RRsets in key order. */
static struct idx *bulk_build(size_t n)
{
	struct idx *ix = idx_new();
	struct idx_txn *t = idx_txn_begin(ix);
	uint8_t w[DNS_NAME_MAXLEN], soa[22] = { 0, 0 }, ns[DNS_NAME_MAXLEN];
	if (!ix || !t)
		exit(1);
	/* host labels in memcmp order of their keys ("h1\0" < "h10\0"): strcmp order */
	char **lab = malloc(n * sizeof(*lab));
	char *store = malloc(n * 24);
	if (!lab || !store)
		exit(1);
	for (size_t i = 0; i < n; i++) {
		lab[i] = store + i * 24;
		snprintf(lab[i], 24, "h%zu", i);
	}
	qsort(lab, n, sizeof(*lab), by_label);
	const char *zones[] = { "10.in-addr.arpa.", "bench.test." };
	for (size_t z = 0; z < 2; z++) {
		dns_name_from_str(w, zones[z], strlen(zones[z]), NULL);
		if (idx_txn_zone_add(t, w) != DDI_EOK)
			exit(1);
	}
	for (size_t z = 0; z < 2; z++) {   /* arpa. before test. in key order */
		dns_name_from_str(w, zones[z], strlen(zones[z]), NULL);
		bulk_set(t, w, DNS_T_SOA, soa, sizeof(soa));
		dns_name_from_str(ns, "ns.bench.test.", 14, NULL);
		bulk_set(t, w, DNS_T_NS, ns, (uint16_t)dns_name_len(ns));
	}
	for (size_t k = 0; k < n; k++) {
		size_t i = strtoul(lab[k] + 1, NULL, 10);
		bc_host_name(w, i);
		uint32_t a = htonl(bc_addr(i));
		bulk_set(t, w, DNS_T_A, &a, 4);
		if (i % 16 == 0) {
			uint8_t a6[16] = { 0x20, 0x01, 0x00, 0x02 };
			memcpy(a6 + 12, &a, 4);
			bulk_set(t, w, DNS_T_AAAA, a6, 16);
		}
	}
	free(lab);
	free(store);
	if (idx_txn_commit(t, 1) != DDI_EOK)
		exit(1);
	return ix;
}

#ifndef INDEX_MEM_TOTAL_ONLY
struct sums {
	size_t heap;   /* malloc() chunks: usable size + 8 header bytes */
	size_t slab;   /* slab blocks: their exact bytes */
};

static int node_cb(void *ctx, const struct idx_node *n)
{
	struct sums *s = ctx;
	const struct trie_key *k = key_of_node(n);
	if (!(n->key_off & NODE_KEY_SLAB)) {
		s->heap += malloc_usable_size((void *)k) + 8;
		return 0;
	}
	s->slab += node_block_len(k);
	return 0;
}

static void leaf_add(struct sums *s, const struct idx_addr *a, size_t *count)
{
	if (a == NULL)
		return;
	(*count)++;
	if (a->slab)
		s->slab += sizeof(*a) + a->nowners * sizeof(a->owner[0]);
	else
		s->heap += malloc_usable_size((void *)a) + 8;
}

/* Node blocks and address leaves, block by block. */
static void breakdown(const struct idx_version *v, size_t n, size_t total, size_t records)
{
	struct sums nodes = { 0 }, leaves = { 0 };
	size_t nleaves = 0;
	idx_walk(v, NULL, 0, node_cb, &nodes);
	for (size_t i = 0; i < n; i++) {
		uint32_t a = htonl(bc_addr(i));
		uint8_t a6[16] = { 0x20, 0x01, 0x00, 0x02 };
		memcpy(a6 + 12, &a, 4);
		leaf_add(&leaves, idx_addr_find(v, 4, (const uint8_t *)&a), &nleaves);
		if (i % 16 == 0)
			leaf_add(&leaves, idx_addr_find(v, 6, a6), &nleaves);
	}
	double r = (double)records;
	size_t arenas = slab_bytes();
	printf("  node blocks    %6.1f bytes per record (%zu names): %.1f in malloc chunks, %.1f in slabs\n",
	       (double)(nodes.heap + nodes.slab) / r, idx_version_nodes(v), (double)nodes.heap / r,
	       (double)nodes.slab / r);
	printf("  address leaves %6.1f bytes per record (%zu leaves): %.1f in malloc chunks, %.1f in slabs\n",
	       (double)(leaves.heap + leaves.slab) / r, nleaves, (double)leaves.heap / r,
	       (double)leaves.slab / r);
	printf("  slab arenas    %6.1f bytes per record (%zu KiB; unused or freed blocks: %.1f)\n",
	       (double)arenas / r, arenas / 1024, (double)(arenas - nodes.slab - leaves.slab) / r);
	printf("  trie + radix   %6.1f bytes per record (the rest)\n",
	       (double)(total - nodes.heap - leaves.heap - arenas) / r);
}
#endif

static double cpu_now(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_THREAD_CPUTIME_ID, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

#define TQ (1u << 18)
#define TSLOT 80

/* ns of CPU per answer of TQ queries of one kind, each checked NOERROR. */
static double time_answers(struct idx *ix, enum bc_kind kind, size_t n, uint8_t (*qs)[TSLOT],
                           uint8_t *qlen)
{
	for (size_t i = 0; i < TQ; i++)
		qlen[i] = (uint8_t)bc_query(qs[i], kind, (size_t)random() % n, false);
	const struct answer_conf conf = { .udp_max = DNS_EDNS_DEFAULT };
	uint8_t buf[2048];
	rcu_thread_online();
	const struct idx_version *v = idx_acquire(ix);
	double t0 = cpu_now();
	for (size_t i = 0; i < TQ; i++) {
		memcpy(buf, qs[i], qlen[i]);
		struct dns_query q;
		enum dns_parse_result pr = dns_query_parse(&q, buf, qlen[i]);
		struct answer_info info;
		if (answer_query(v, &conf, ANSWER_UDP, &q, pr, buf, sizeof(buf), &info) == 0 ||
		    info.rcode != DNS_RCODE_NOERROR) {
			fprintf(stderr, "index-mem: %s query %zu: rcode %u\n", bc_kind_name[kind], i,
			        info.rcode);
			exit(1);
		}
	}
	double t = cpu_now() - t0;
	rcu_thread_offline();
	return t / TQ * 1e9;
}

int main(int argc, char **argv)
{
	size_t n = argc > 1 ? strtoul(argv[1], NULL, 10) : 1000000;
	bool bulk = argc > 2 && strcmp(argv[2], "bulk") == 0;
	bool timed = argc > 3 && strcmp(argv[3], "time") == 0;
	if (n == 0 || (argc > 2 && !bulk && strcmp(argv[2], "incremental") != 0) ||
	    (argc > 3 && !timed)) {
		fprintf(stderr, "usage: index-mem N [incremental|bulk] [time]\n");
		return 2;
	}
	rcu_register_thread();
	rcu_thread_offline();
	size_t before = heap_now(), sys_before = heap_system(), bytes;
	struct idx *ix = bulk ? bulk_build(n) : bc_build(n, NULL, NULL);
	rcu_barrier();   /* what the commit handed to call_rcu is freed */
	bytes = heap_now() - before + slab_mapped();
	size_t records = n + (n + 15) / 16;
	printf("%s, %zu names, %zu address records: %.1f bytes per name, %.1f bytes per record\n",
	       bulk ? "bulk" : "incremental", n, records, (double)bytes / (double)n,
	       (double)bytes / (double)records);
	printf("  taken from the system (heap, free chunks included, and slab mappings): %.1f bytes per record\n",
	       (double)(heap_system() - sys_before + slab_mapped()) / (double)records);
#ifndef INDEX_MEM_TOTAL_ONLY
	rcu_thread_online();
	breakdown(idx_acquire(ix), n, bytes, records);
	rcu_thread_offline();
#endif
	if (timed) {
		uint8_t(*qs)[TSLOT] = malloc(TQ * TSLOT);
		uint8_t *qlen = malloc(TQ);
		if (!qs || !qlen)
			return 1;
		srandom(1);
		for (int round = 0; round < 3; round++) {
			double a = time_answers(ix, BC_A, n, qs, qlen);
			double p = time_answers(ix, BC_PTR, n, qs, qlen);
			printf("  round %d: A %.0f ns, PTR %.0f ns CPU per answer (%u random names each)\n",
			       round + 1, a, p, TQ);
		}
		free(qs);
		free(qlen);
	}
	idx_free(ix);
	rcu_unregister_thread();
	return 0;
}
