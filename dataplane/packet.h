/* packet -- a worker's per-packet work on a plain byte buffer: parse, classify, answer in place */
#ifndef DDI_DATAPLANE_PACKET_H
#define DDI_DATAPLANE_PACKET_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "dataplane/counters.h"
#include "dataplane/rrl.h"
#include "dns/cookie.h"
#include "index/answer.h"

/*
 * This file knows nothing of DPDK: a frame is a byte buffer, so the whole
 * parse -> answer -> rewrite path is unit-tested without EAL. The worker
 * (dataplane/worker.c) wraps it around mbufs and turns the result's offsets
 * into TX offload flags.
 */

#define DP_MAX_ADDRS 16
#define DP_DNS_PORT 53

/* The service addresses: UDP to port 53 of one of these is answered by the workers. */
struct dp_service {
	unsigned n4, n6;
	uint8_t v4[DP_MAX_ADDRS][4];
	uint8_t v6[DP_MAX_ADDRS][16];
};

/* What to do with the buffer afterwards. */
enum dp_action {
	DP_ACT_DROP = 0,    /* free it (the outcome says why) */
	DP_ACT_TX,          /* it now holds the response frame of r->len bytes: send it out of the port */
	DP_ACT_EXCEPTION,   /* unchanged: hand it to the kernel through the tap */
	DP_ACT_CONTROL,     /* a DNS message the control lcore answers (opcode other than QUERY) */
	DP_ACT_DDNS,        /* unchanged: an UPDATE or NOTIFY for the DDNS thread (control lcore) */
};

/* Read-only configuration shared by every lcore. */
struct dp_pctx {
	const struct dp_service *svc;
	const struct answer_conf *conf;
	bool tx_ip4_cksum_offload;  /* IPv4 header checksum left to the NIC (written 0) */
	bool tx_udp_cksum_offload;  /* UDP checksum left to the NIC (pseudo-header sum written) */
	bool answer_all_opcodes;    /* true on the control lcore: answer every opcode (NOTIMP) */
	/*
	 * Control lcore only (with answer_all_opcodes): UPDATE and NOTIFY are
	 * not answered here but classified DP_ACT_DDNS, for the DDNS thread
	 * (control/ddns/thread.h), which re-parses the frame with
	 * dp_packet_parse() and turns it into its answer with dp_packet_reply().
	 * false: they are answered NOTIMP like every other opcode.
	 */
	bool ddns;
	/*
	 * GSS-TSIG on (--gss-principal): TKEY queries (control/ddns/tkey.h) go
	 * the way of UPDATE (workers to the control lcore, it to the DDNS
	 * thread) instead of being answered from the index. Costs a walk of
	 * the question name per query, so it is off without GSS-TSIG.
	 */
	bool tkey;
	/*
	 * DNS cookies (RFC 7873/9018): the secrets the control lcore rotates,
	 * NULL when off (--no-cookies). With them conf->cookies is true.
	 */
	const struct dns_cookie_secrets *cookies;
};

/*
 * One lcore's own state on the answer path, written by that lcore only (no
 * lock): its rate-limiting table and its clock, read once per burst so
 * that no packet pays for a clock read.
 */
struct dp_lcore {
	struct rrl_table *rrl;      /* NULL: no response rate limiting */
	uint32_t now_ms;            /* monotonic milliseconds (wraps), for RRL */
	uint32_t now_s;             /* seconds since 1970, for cookie timestamps */
} __attribute__((aligned(64)));     /* one cache line per lcore: written every burst */

struct dp_result {
	enum dp_action action;
	enum dp_outcome outcome;
	bool truncated;     /* DP_ACT_TX: TC was set */
	bool answered;      /* DP_ACT_TX of a DNS response: qtype is the question's type */
	uint16_t qtype;
	bool ipv6;          /* the frame is IPv6 (for offload flags) */
	uint16_t len;       /* frame length after processing (DP_ACT_TX, DP_ACT_CONTROL) */
	uint16_t l2_len;    /* Ethernet + VLAN tags */
	uint16_t l3_len;    /* IP header (20 after a rewrite, options are not echoed) */
	uint8_t nalso;      /* outcomes counted besides `outcome` (RRL, cookie) */
	uint8_t also[2];
};

/*
 * Where the parse found the DNS message of a frame (pointers into the
 * frame, valid while the frame is). Filled by dp_packet_parse().
 */
struct dp_frame {
	uint8_t *frame;
	size_t len, cap;     /* frame length and buffer capacity */
	uint8_t *ip;         /* IPv4 (options already dropped) or IPv6 header */
	uint8_t *udp;
	size_t ulen_ip;      /* UDP bytes as the IP header announces them */
	bool v6;
	uint8_t *dns;        /* the UDP payload */
	size_t dns_off;      /* frame offset of the payload */
	size_t dns_len;
};

/*
 * The steps of dp_packet_process(), for a frame a worker handed over:
 *
 * dp_packet_parse: Ethernet/VLAN, IPv4 or IPv6, UDP to port 53 of a
 * service address with a DNS header; IPv4 options are dropped in place.
 * Returns 0 with `f` filled and r->len the (possibly shorter) frame length,
 * or -1 with r's action and outcome saying why not (drop or exception).
 * The same frame parses the same way again (the DDNS thread relies on it).
 *
 * dp_packet_reply: the DNS response of `n` bytes has been written at
 * f->dns (at most f->cap - f->dns_off bytes); turn the frame around (MACs,
 * addresses and ports swapped, VLAN tags kept, TTL/hop limit 64, lengths
 * and checksums set as ctx's offloads say). Sets r->action DP_ACT_TX and
 * r->len, and leaves r->outcome to the caller. n == 0 or too large: -1,
 * r is DP_ACT_DROP / DP_OUT_NO_ANSWER and the frame is unchanged.
 *
 * dp_frame_source: the client's address (4 or 16 bytes, f->v6), the
 * source of an update for the update policy.
 *
 * Thread-safe on distinct frames; no allocation, no system call.
 */
int dp_packet_parse(const struct dp_pctx *ctx, uint8_t *frame, size_t len, size_t cap,
                    struct dp_frame *f, struct dp_result *r);
int dp_packet_reply(const struct dp_pctx *ctx, const struct dp_frame *f, size_t n,
                    struct dp_result *r);
const uint8_t *dp_frame_source(const struct dp_frame *f);

/*
 * Process one Ethernet frame of `len` bytes in a buffer of `cap` bytes
 * (the response may grow into the rest). `v` is the snapshot of this burst.
 *
 * Answered (DP_ACT_TX): UDP to port 53 of a service address, with correct
 * lengths and checksums, holding at least a DNS header. The frame is turned
 * into the response in place: MACs, addresses and ports swapped, VLAN tags
 * kept, IPv4 options dropped, TTL/hop limit 64, lengths and checksums set.
 * Dropped: bad lengths, bad checksums, short DNS header, source port 0, and
 * messages answer_query() will not answer (QR set).
 * Handed over, frame unchanged but for dropped IPv4 options: an opcode
 * other than QUERY on a worker (DP_ACT_CONTROL), UPDATE and NOTIFY on the
 * control lcore with ctx->ddns (DP_ACT_DDNS).
 * Everything else is an exception for the kernel.
 */
void dp_packet_process(const struct dp_pctx *ctx, const struct idx_version *v,
                       uint8_t *frame, size_t len, size_t cap, struct dp_result *r);

/*
 * dp_packet_process() on lcore state `lc` (NULL: as dp_packet_process):
 * after answer_query() and before the frame is turned around,
 *
 * 1. cookies (ctx->cookies): the query's COOKIE option is checked
 *    (dns_cookie_check); a valid server cookie proves the source address,
 *    so its response is not rate limited (as BIND does);
 * 2. rate limiting (lc->rrl): the response is charged to the client's
 *    prefix and the kind of its outcome; over the rate it is dropped
 *    (DP_OUT_RRL_DROPPED, frame unchanged) or slipped: cut down to
 *    header, question and OPT with TC set (DP_OUT_RRL_SLIPPED);
 * 3. the COOKIE (client cookie and our server cookie) is appended to the
 *    response's OPT, in the room answer_query() kept for it.
 */
void dp_packet_process_lc(const struct dp_pctx *ctx, struct dp_lcore *lc,
                          const struct idx_version *v, uint8_t *frame, size_t len, size_t cap,
                          struct dp_result *r);

/* Internet checksum helpers (RFC 1071), exposed for the tests. */
uint32_t dp_csum_add(uint32_t sum, const uint8_t *p, size_t n);
uint16_t dp_csum_fold(uint32_t sum);

#endif
