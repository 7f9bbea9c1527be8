/* packet -- a worker's per-packet work on a plain byte buffer: parse, classify, answer in place */
#ifndef DDI_DATAPLANE_PACKET_H
#define DDI_DATAPLANE_PACKET_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "dataplane/counters.h"
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
};

/* Read-only configuration shared by every lcore. */
struct dp_pctx {
	const struct dp_service *svc;
	const struct answer_conf *conf;
	bool tx_ip4_cksum_offload;  /* IPv4 header checksum left to the NIC (written 0) */
	bool tx_udp_cksum_offload;  /* UDP checksum left to the NIC (pseudo-header sum written) */
	bool answer_all_opcodes;    /* true on the control lcore: answer every opcode (NOTIMP) */
	/*
	 * Control lcore only (with answer_all_opcodes): UPDATE and NOTIFY go
	 * here instead of answer_query(). `req` (len bytes, the UDP payload)
	 * and `resp` (cap bytes) are the SAME buffer: copy the request first.
	 * Returns the response length, 0 for none (dropped), or < 0 (dropped).
	 */
	int (*update)(void *ctx, const uint8_t *req, size_t len, uint8_t src_family,
	              const uint8_t *src_addr, uint8_t *resp, size_t cap);
	void *update_ctx;
};

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
};

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
 * Everything else is an exception for the kernel.
 */
void dp_packet_process(const struct dp_pctx *ctx, const struct idx_version *v,
                       uint8_t *frame, size_t len, size_t cap, struct dp_result *r);

/* Internet checksum helpers (RFC 1071), exposed for the tests. */
uint32_t dp_csum_add(uint32_t sum, const uint8_t *p, size_t n);
uint16_t dp_csum_fold(uint32_t sum);

#endif
