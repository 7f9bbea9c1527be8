/* bench_store -- in-process benchmark of the start path: LMDB store -> index build -> first answer */
#include <arpa/inet.h>
#include <ftw.h>
#include <malloc.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>
#include <urcu-qsbr.h>

#include "bench/gbench.h"
#include "control/store/store.h"
#include "dns/errcode.h"
#include "dns/name.h"
#include "dns/rdata.h"
#include "dns/wire.h"
#include "index/answer.h"
#include "index/slab.h"
#include "index/snapshot.h"

/*
 * The same corpus as bench_core (h<i>.bench.test. A 10.0.0.0/8, an AAAA on
 * every 16th name, a 10.in-addr.arpa reverse zone answered from the address
 * index), written once into a fresh LMDB store in a temporary directory. Each
 * iteration is what a server does at start: open the store, build a new
 * index from it in one read transaction, publish it, answer one query. The
 * index is freed outside the timing.
 */

struct bstore {
	char dir[64];
	size_t n;            /* names */
	size_t nrecords;     /* A + AAAA records (SOA and NS left out) */
	double write_s;      /* the one commit that wrote the zone */
};

static struct bstore bs;

static double now_s(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec + ts.tv_nsec / 1e9;
}

static void die(const char *what, int ret, const struct store_error *err)
{
	fprintf(stderr, "bench-store: %s: %s%s%s\n", what, ddi_strerror(ret), err ? ": " : "",
	        err ? err->msg : "");
	exit(1);
}

static int name_of(uint8_t out[DNS_NAME_MAXLEN], const char *s)
{
	int len = dns_name_from_str(out, s, strlen(s), NULL);
	if (len < 0)
		die(s, len, NULL);
	return len;
}

/* SOA rdata for an apex (uncompressed wire form); returns its length. */
static uint16_t soa_of(uint8_t *rd, size_t cap, const uint8_t *apex)
{
	const char *f[] = { "ns.bench.test.", "hostmaster.bench.test.", "1", "3600", "600",
	                    "86400", "300" };
	bool q[7] = { false };
	char errbuf[128];
	int len = dns_rdata_from_str(rd, cap, DNS_T_SOA, f, q, 7, apex, errbuf, sizeof(errbuf));
	if (len < 0)
		die(errbuf, len, NULL);
	return (uint16_t)len;
}

/* One STORE_OP_ZONE_REPLACE of a zone made of SOA, NS and `extra` records. */
static void write_zone(struct store *s, const char *apex_str, struct store_rr *extra, size_t nextra)
{
	static uint8_t apex[DNS_NAME_MAXLEN], soa[512], ns[DNS_NAME_MAXLEN];
	name_of(apex, apex_str);
	uint16_t soalen = soa_of(soa, sizeof(soa), apex);
	uint16_t nslen = (uint16_t)name_of(ns, "ns.bench.test.");
	struct store_rr *rrs = malloc((nextra + 2) * sizeof(*rrs));
	if (!rrs)
		abort();
	rrs[0] = (struct store_rr){ apex, DNS_T_SOA, 3600, soalen, soa };
	rrs[1] = (struct store_rr){ apex, DNS_T_NS, 3600, nslen, ns };
	if (nextra)
		memcpy(rrs + 2, extra, nextra * sizeof(*rrs));
	struct store_op op = { .kind = STORE_OP_ZONE_REPLACE, .zone = apex, .rrs = rrs,
	                       .nrrs = nextra + 2 };
	struct store_error err;
	int ret = store_commit(s, NULL, "bench", &op, 1, NULL, &err);
	if (ret != DDI_EOK)
		die("store_commit", ret, &err);
	free(rrs);
}

static void make_store(size_t n)
{
	strcpy(bs.dir, "/tmp/ddi-bench-store-XXXXXX");
	if (!mkdtemp(bs.dir)) {
		perror("mkdtemp");
		exit(1);
	}
	bs.n = n;
	struct store *s;
	struct store_error err;
	const struct store_options opt = { .create = true };
	int ret = store_open(&s, bs.dir, &opt, &err);
	if (ret != DDI_EOK)
		die("store_open", ret, &err);

	size_t n6 = (n + 15) / 16;
	struct store_rr *rrs = malloc((n + n6) * sizeof(*rrs));
	uint8_t (*owners)[32] = malloc(n * 32);
	uint8_t (*a4)[4] = malloc(n * 4);
	uint8_t (*a6)[16] = calloc(n6, 16);
	if (!rrs || !owners || !a4 || !a6)
		abort();
	size_t k = 0;
	for (size_t i = 0; i < n; i++) {
		char buf[64];
		snprintf(buf, sizeof(buf), "h%zu.bench.test.", i);
		uint8_t w[DNS_NAME_MAXLEN];
		int len = name_of(w, buf);
		memcpy(owners[i], w, (size_t)len);
		uint32_t a = htonl(0x0a000000u + (uint32_t)i + 1);
		memcpy(a4[i], &a, 4);
		rrs[k++] = (struct store_rr){ owners[i], DNS_T_A, 3600, 4, a4[i] };
		if (i % 16 == 0) {
			/* 2001:2::<the IPv4 address>, as in bench_core */
			uint8_t *p = a6[i / 16];
			p[0] = 0x20, p[1] = 0x01, p[2] = 0x00, p[3] = 0x02;
			memcpy(p + 12, &a, 4);
			rrs[k++] = (struct store_rr){ owners[i], DNS_T_AAAA, 3600, 16, p };
		}
	}
	bs.nrecords = k;
	double t0 = now_s();
	write_zone(s, "bench.test.", rrs, k);
	bs.write_s = now_s() - t0;
	write_zone(s, "10.in-addr.arpa.", NULL, 0);
	store_close(s);
	free(rrs);
	free(owners);
	free(a4);
	free(a6);
}

static int rm_one(const char *path, const struct stat *sb, int flag, struct FTW *ftw)
{
	(void)sb;
	(void)flag;
	(void)ftw;
	return remove(path);
}

static void remove_store(void)
{
	if (bs.dir[0])
		nftw(bs.dir, rm_one, 8, FTW_DEPTH | FTW_PHYS);
}

/* The first answer after the load: an A query for the last name written. */
static size_t first_answer(struct idx *ix, uint8_t *rcode)
{
	uint8_t q[512], w[DNS_NAME_MAXLEN];
	char buf[64];
	snprintf(buf, sizeof(buf), "h%zu.bench.test.", bs.n - 1);
	int nl = name_of(w, buf);
	memset(q, 0, DNS_HDR_LEN);
	dns_put16(q, 0x4242);
	dns_put16(q + 4, 1);
	memcpy(q + DNS_HDR_LEN, w, (size_t)nl);
	size_t len = DNS_HDR_LEN + (size_t)nl;
	dns_put16(q + len, DNS_T_A);
	dns_put16(q + len + 2, DNS_CLASS_IN);
	len += 4;
	const struct answer_conf conf = { .udp_max = DNS_EDNS_DEFAULT };
	uint8_t out[1232];
	struct answer_info info;
	rcu_thread_online();
	const struct idx_version *v = idx_acquire(ix);
	struct dns_query dq;
	enum dns_parse_result pr = dns_query_parse(&dq, q, len);
	size_t n = answer_query(v, &conf, ANSWER_UDP, &dq, pr, out, sizeof(out), &info);
	rcu_thread_offline();
	*rcode = info.rcode;
	return n;
}

static void bm_load_index(struct gb_state *st, void *arg)
{
	(void)arg;
	size_t bytes = 0;
	double first_s = 0;
	bool first = true;
	while (gb_next(st)) {
		double t0 = now_s();
		struct store *s;
		struct store_error err;
		int ret = store_open(&s, bs.dir, NULL, &err);
		if (ret != DDI_EOK)
			die("store_open", ret, &err);
		struct mallinfo2 before = mallinfo2();
		size_t slab_before = slab_bytes();   /* the bulk load's arenas: mmap()ed, not in mallinfo2 */
		struct idx *ix = idx_new();
		uint64_t seq = 0;
		ret = store_load_index(s, ix, &seq, &err);
		if (ret != DDI_EOK)
			die("store_load_index", ret, &err);
		uint8_t rcode = 0xff;
		size_t n = first_answer(ix, &rcode);
		if (n == 0 || rcode != DNS_RCODE_NOERROR) {
			fprintf(stderr, "bench-store: first answer: %zu bytes, rcode %u\n", n, rcode);
			exit(1);
		}
		if (first) {
			first_s = now_s() - t0;
			struct mallinfo2 after = mallinfo2();
			bytes = (after.uordblks + after.hblkhd + slab_bytes()) -
			        (before.uordblks + before.hblkhd + slab_before);
			first = false;
		}
		gb_pause(st);
		store_close(s);
		idx_free(ix);
		gb_resume(st);
	}
	gb_set_items(st, (int64_t)bs.nrecords * (int64_t)gb_iterations(st));
	gb_counter(st, "records", (double)bs.nrecords, false);
	gb_counter(st, "index_bytes_per_record", (double)bytes / (double)bs.nrecords, false);
	gb_counter(st, "first_run_s", first_s, false);
	gb_counter(st, "store_write_s", bs.write_s, false);
}

int main(int argc, char **argv)
{
	/* W0: the writer stays offline except while it reads a version. */
	rcu_register_thread();
	rcu_thread_offline();
	size_t n = 1000000;
	const char *env = getenv("DDI_BENCH_STORE_NAMES");
	if (env)
		n = strtoul(env, NULL, 10);
	if (n == 0)
		n = 1;
	make_store(n);
	atexit(remove_store);
	char name[64];
	snprintf(name, sizeof(name), "store_load_index_and_answer/%zu", n);
	gb_register_unit(name, bm_load_index, NULL, -1, 'm');
	int ret = gb_main(argc, argv);
	rcu_thread_online();
	rcu_unregister_thread();
	return ret;
}
