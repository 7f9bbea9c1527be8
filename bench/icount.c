/* icount -- a fixed run of the answer path, for counting instructions per query under callgrind */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <urcu-qsbr.h>

#include "bench/corpus.h"
#include "dataplane/packet.h"
#include "dns/wire.h"
#include "index/answer.h"
#include "index/snapshot.h"

/*
 * Run under bench/callgrind.sh: callgrind collects only inside the
 * icount_run_* functions (--toggle-collect), so the index build is not
 * counted, and each function's inclusive instruction count divided by
 * NQ is the instructions per query of that kind. Instructions do not
 * depend on what else the machine is doing, so two builds can be compared
 * without the noise of timings (cache misses are not in the count: that is
 * what the timed benchmarks are for).
 *
 * icount_run_<kind>: message path, what answer_query costs a worker or the
 * TCP server: copy the query, dns_query_parse, answer_query.
 * icount_run_frame_mix: the worker's per-packet work without DPDK:
 * dp_packet_process on an Ethernet/IPv4/UDP frame (header checks, UDP
 * checksum, answer, header rewrite, checksum), the mix of bench-dp-ring.
 */

#define NQ 10000

static const struct answer_conf conf = { .udp_max = DNS_EDNS_DEFAULT };

struct msg {
	uint8_t wire[256];
	uint16_t len;
	uint8_t kind;
};

static struct msg *msgs;
static size_t total_bytes;

static void prepare(enum bc_kind kind, size_t names, unsigned seed)
{
	srandom(seed);
	for (size_t i = 0; i < NQ; i++) {
		enum bc_kind k = kind;
		if (kind == BC_KINDS) {
			/* the mix of bench-dp-ring: 60 % A, 15 % AAAA, 15 % NXDOMAIN, 10 % PTR */
			unsigned r = (unsigned)random() % 100;
			k = r < 60 ? BC_A : r < 75 ? BC_AAAA : r < 90 ? BC_NXDOMAIN : BC_PTR;
		}
		msgs[i].len = (uint16_t)bc_query(msgs[i].wire, k, (size_t)random() % names, true);
		msgs[i].kind = (uint8_t)k;
	}
}

static __attribute__((noinline)) size_t run_messages(const struct idx_version *v)
{
	uint8_t buf[1232];
	size_t bytes = 0;
	for (size_t i = 0; i < NQ; i++) {
		memcpy(buf, msgs[i].wire, msgs[i].len);
		struct dns_query q;
		enum dns_parse_result pr = dns_query_parse(&q, buf, msgs[i].len);
		struct answer_info info;
		bytes += answer_query(v, &conf, ANSWER_UDP, &q, pr, buf, sizeof(buf), &info);
		if (info.rcode != bc_expected_rcode((enum bc_kind)msgs[i].kind)) {
			fprintf(stderr, "icount: %s query answered rcode %u\n", bc_kind_name[msgs[i].kind],
			        info.rcode);
			exit(1);
		}
	}
	return bytes;
}

/* One function per kind, so callgrind reports each apart. */
__attribute__((noinline)) size_t icount_run_A(const struct idx_version *v);
__attribute__((noinline)) size_t icount_run_AAAA(const struct idx_version *v);
__attribute__((noinline)) size_t icount_run_NXDOMAIN(const struct idx_version *v);
__attribute__((noinline)) size_t icount_run_PTR(const struct idx_version *v);
__attribute__((noinline)) size_t icount_run_frame_mix(const struct idx_version *v);

size_t icount_run_A(const struct idx_version *v) { return run_messages(v); }
size_t icount_run_AAAA(const struct idx_version *v) { return run_messages(v); }
size_t icount_run_NXDOMAIN(const struct idx_version *v) { return run_messages(v); }
size_t icount_run_PTR(const struct idx_version *v) { return run_messages(v); }

/* Frames: Ethernet + IPv4 + UDP around each message, checksums right. */
static uint8_t (*frames)[512];
static uint16_t *flen;
static const uint8_t svc_addr[4] = { 198, 18, 0, 1 };

static void prepare_frames(void)
{
	frames = malloc(NQ * sizeof(*frames));
	flen = malloc(NQ * sizeof(*flen));
	if (!frames || !flen)
		abort();
	for (size_t i = 0; i < NQ; i++) {
		uint8_t *f = frames[i];
		memset(f, 0, 42);
		f[0] = 0x02, f[5] = 1, f[6] = 0x02, f[11] = 2;
		f[12] = 0x08;
		uint8_t *ip = f + 14, *udp = f + 34;
		uint16_t ulen = (uint16_t)(8 + msgs[i].len);
		ip[0] = 0x45;
		dns_put16(ip + 2, (uint16_t)(20 + ulen));
		ip[8] = 64;
		ip[9] = 17;
		ip[12] = 198, ip[13] = 18, ip[14] = 0, ip[15] = 2;
		memcpy(ip + 16, svc_addr, 4);
		dns_put16(ip + 10, (uint16_t)~dp_csum_fold(dp_csum_add(0, ip, 20)));
		dns_put16(udp, (uint16_t)(1024 + i));
		dns_put16(udp + 2, DP_DNS_PORT);
		dns_put16(udp + 4, ulen);
		memcpy(udp + 8, msgs[i].wire, msgs[i].len);
		uint32_t s = dp_csum_add(dp_csum_add(0, ip + 12, 8) + 17 + ulen, udp, ulen);
		uint16_t c = (uint16_t)~dp_csum_fold(s);
		dns_put16(udp + 6, c ? c : 0xffff);
		flen[i] = (uint16_t)(34 + ulen);
	}
}

size_t icount_run_frame_mix(const struct idx_version *v)
{
	static struct dp_service svc;
	memcpy(svc.v4[0], svc_addr, 4);
	svc.n4 = 1;
	const struct dp_pctx pc = { .svc = &svc, .conf = &conf };
	uint8_t buf[1600];
	size_t bytes = 0;
	for (size_t i = 0; i < NQ; i++) {
		memcpy(buf, frames[i], flen[i]);
		struct dp_result r;
		dp_packet_process(&pc, v, buf, flen[i], sizeof(buf), &r);
		if (r.action != DP_ACT_TX) {
			fprintf(stderr, "icount: frame %zu not answered (outcome %d)\n", i, r.outcome);
			exit(1);
		}
		bytes += r.len;
	}
	return bytes;
}

int main(int argc, char **argv)
{
	size_t names = argc > 1 ? strtoul(argv[1], NULL, 10) : 1000000;
	if (names == 0) {
		fprintf(stderr, "usage: bench-icount [names]\n");
		return 2;
	}
	rcu_register_thread();
	struct idx *ix = bc_build(names, NULL, NULL);
	msgs = malloc(NQ * sizeof(*msgs));
	if (!msgs)
		abort();
	const struct idx_version *v = idx_acquire(ix);
	size_t (*const run[BC_KINDS])(const struct idx_version *) = {
		icount_run_A, icount_run_AAAA, icount_run_NXDOMAIN, icount_run_PTR
	};
	for (int k = 0; k < BC_KINDS; k++) {
		prepare((enum bc_kind)k, names, 7);
		total_bytes += run[k](v);
	}
	prepare(BC_KINDS, names, 11);
	prepare_frames();
	total_bytes += icount_run_frame_mix(v);
	printf("icount: %zu names, %d queries per kind, %zu answer bytes\n", names, NQ, total_bytes);
	rcu_thread_offline();
	idx_free(ix);
	rcu_unregister_thread();
	free(msgs);
	free(frames);
	free(flen);
	return 0;
}
