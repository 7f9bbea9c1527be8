/* icount -- a fixed run of the answer path, for counting instructions per query under callgrind */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <urcu-qsbr.h>

#include "bench/corpus.h"
#include "dataplane/packet.h"
#include "dns/cookie.h"
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
 * icount_run_frame_<hardening>: the same frames through
 * dp_packet_process_lc with cookies on (frames without a COOKIE, with a
 * client cookie, with a valid server cookie) and with rate limiting on
 * (every response within the rate, or nearly every one over it).
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
__attribute__((noinline)) size_t icount_run_frame_cookies_none(const struct idx_version *v);
__attribute__((noinline)) size_t icount_run_frame_cookies_client(const struct idx_version *v);
__attribute__((noinline)) size_t icount_run_frame_cookies_server(const struct idx_version *v);
__attribute__((noinline)) size_t icount_run_frame_rrl_pass(const struct idx_version *v);
__attribute__((noinline)) size_t icount_run_frame_rrl_limited(const struct idx_version *v);
__attribute__((noinline)) size_t icount_run_frame_tkey(const struct idx_version *v);

size_t icount_run_A(const struct idx_version *v) { return run_messages(v); }
size_t icount_run_AAAA(const struct idx_version *v) { return run_messages(v); }
size_t icount_run_NXDOMAIN(const struct idx_version *v) { return run_messages(v); }
size_t icount_run_PTR(const struct idx_version *v) { return run_messages(v); }

/* Frames: Ethernet + IPv4 + UDP around each message, checksums right. */
static uint8_t (*frames)[512];
static uint16_t *flen;
static const uint8_t svc_addr[4] = { 198, 18, 0, 1 };

enum fr_cookie { FR_NO_COOKIE, FR_CLIENT_COOKIE, FR_SERVER_COOKIE };
static struct dns_cookie_secrets secrets;
static const uint32_t bench_now = 1700000000;

/* The message of query i, with a COOKIE option of the kind asked in its OPT (the last record). */
static uint16_t message_of(size_t i, enum fr_cookie ck, uint8_t *out)
{
	static const uint8_t client_addr[4] = { 198, 18, 0, 2 };
	memcpy(out, msgs[i].wire, msgs[i].len);
	if (ck == FR_NO_COOKIE)
		return msgs[i].len;
	uint8_t c[DNS_COOKIE_LEN];
	for (int b = 0; b < 8; b++)
		c[b] = (uint8_t)(i >> (b * 4));
	dns_cookie_server_make(c + 8, c, bench_now, client_addr, 4, secrets.slot[0]);
	size_t n = dns_opt_append_option(out, msgs[i].len, 256, msgs[i].len - 11, DNS_EDNS_OPT_COOKIE,
	                                 c, ck == FR_CLIENT_COOKIE ? 8 : DNS_COOKIE_LEN);
	if (n == 0)
		abort();
	return (uint16_t)n;
}

static void prepare_frames(enum fr_cookie ck)
{
	if (!frames)
		frames = malloc(NQ * sizeof(*frames));
	if (!flen)
		flen = malloc(NQ * sizeof(*flen));
	if (!frames || !flen)
		abort();
	for (size_t i = 0; i < NQ; i++) {
		uint8_t *f = frames[i];
		uint8_t wire[256];
		uint16_t wlen = message_of(i, ck, wire);
		memset(f, 0, 42);
		f[0] = 0x02, f[5] = 1, f[6] = 0x02, f[11] = 2;
		f[12] = 0x08;
		uint8_t *ip = f + 14, *udp = f + 34;
		uint16_t ulen = (uint16_t)(8 + wlen);
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
		memcpy(udp + 8, wire, wlen);
		uint32_t s = dp_csum_add(dp_csum_add(0, ip + 12, 8) + 17 + ulen, udp, ulen);
		uint16_t c = (uint16_t)~dp_csum_fold(s);
		dns_put16(udp + 6, c ? c : 0xffff);
		flen[i] = (uint16_t)(34 + ulen);
	}
}

/* GSS-TSIG on (--gss-principal): every query's question is checked for TKEY (packet.h tkey). */
static bool frames_tkey;

/* The frames through dp_packet_process_lc: lc NULL is the plain worker path. */
static size_t run_frames(const struct idx_version *v, struct dp_lcore *lc, bool cookies,
                         bool all_sent)
{
	static struct dp_service svc;
	static const struct answer_conf conf_ck = { .udp_max = DNS_EDNS_DEFAULT, .cookies = true };
	memcpy(svc.v4[0], svc_addr, 4);
	svc.n4 = 1;
	const struct dp_pctx pc = { .svc = &svc, .conf = cookies ? &conf_ck : &conf,
	                            .cookies = cookies ? &secrets : NULL, .tkey = frames_tkey };
	uint8_t buf[1600];
	size_t bytes = 0;
	for (size_t i = 0; i < NQ; i++) {
		memcpy(buf, frames[i], flen[i]);
		struct dp_result r;
		dp_packet_process_lc(&pc, lc, v, buf, flen[i], sizeof(buf), &r);
		if (!all_sent)
			continue;
		if (r.action != DP_ACT_TX) {
			fprintf(stderr, "icount: frame %zu not answered (outcome %d)\n", i, r.outcome);
			exit(1);
		}
		bytes += r.len;
	}
	return bytes;
}

static struct dp_lcore lc_plain = { .now_ms = 1, .now_s = bench_now };
static struct dp_lcore lc_rrl = { .now_ms = 1, .now_s = bench_now };

size_t icount_run_frame_mix(const struct idx_version *v)
{
	return run_frames(v, NULL, false, true);
}

size_t icount_run_frame_cookies_none(const struct idx_version *v)
{
	return run_frames(v, &lc_plain, true, true);
}

size_t icount_run_frame_cookies_client(const struct idx_version *v)
{
	return run_frames(v, &lc_plain, true, true);
}

size_t icount_run_frame_cookies_server(const struct idx_version *v)
{
	return run_frames(v, &lc_plain, true, true);
}

size_t icount_run_frame_rrl_pass(const struct idx_version *v)
{
	return run_frames(v, &lc_rrl, false, true);
}

size_t icount_run_frame_rrl_limited(const struct idx_version *v)
{
	return run_frames(v, &lc_rrl, false, false);
}

size_t icount_run_frame_tkey(const struct idx_version *v)
{
	frames_tkey = true;
	size_t b = run_frames(v, NULL, false, true);
	frames_tkey = false;
	return b;
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
	prepare_frames(FR_NO_COOKIE);
	total_bytes += icount_run_frame_mix(v);
	total_bytes += icount_run_frame_tkey(v);

	/* cookies on: a fixed secret, the clock where the frames' server cookies are valid */
	static const uint8_t secret[DNS_COOKIE_SECRET_LEN] = { 42 };
	dns_cookie_secrets_init(&secrets, secret);
	total_bytes += icount_run_frame_cookies_none(v);
	prepare_frames(FR_CLIENT_COOKIE);
	total_bytes += icount_run_frame_cookies_client(v);
	prepare_frames(FR_SERVER_COOKIE);
	total_bytes += icount_run_frame_cookies_server(v);

	/* rate limiting on, one client: within a rate no run reaches, then over a rate of 1/s */
	prepare_frames(FR_NO_COOKIE);
	struct rrl_conf rc;
	rrl_conf_init(&rc);
	rc.rate = RRL_RATE_MAX;
	lc_rrl.rrl = rrl_new(&rc, 1);
	total_bytes += icount_run_frame_rrl_pass(v);
	rrl_free(lc_rrl.rrl);
	rc.rate = 1;
	lc_rrl.rrl = rrl_new(&rc, 1);
	total_bytes += icount_run_frame_rrl_limited(v);
	rrl_free(lc_rrl.rrl);
	printf("icount: %zu names, %d queries per kind, %zu answer bytes\n", names, NQ, total_bytes);
	rcu_thread_offline();
	idx_free(ix);
	rcu_unregister_thread();
	free(msgs);
	free(frames);
	free(flen);
	return 0;
}
