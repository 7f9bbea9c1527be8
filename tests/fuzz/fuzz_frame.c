/* fuzz_frame -- any Ethernet frame through a worker's whole path: dp_packet_process on a loaded index, plain and with RRL and cookies on */
#include <stdint.h>
#include <string.h>

#include "dataplane/packet.h"
#include "tests/fuzz/fuzz_index.h"

#define FRAME_CAP 4096   /* an mbuf's data room: the response may grow into it */

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static uint8_t frame[FRAME_CAP];
	static const struct dp_service svc = {
		.n4 = 1, .n6 = 1,
		.v4 = { { 198, 18, 0, 1 } },
		.v6 = { { 0x20, 0x01, 0x00, 0x02, [15] = 1 } },
	};
	static const uint8_t nsid[] = "fuzz";
	static const struct answer_conf conf = { .nsid = nsid, .nsid_len = 4, .udp_max = 1232 };
	static const struct answer_conf conf_ck = { .nsid = nsid, .nsid_len = 4, .udp_max = 1232,
	                                            .cookies = true };
	/*
	 * Hardened: a tiny rate-limiting table (rate 1, every other limited
	 * response slipped) that the inputs keep filling, and cookies, whose
	 * secret makes every server cookie a fuzzer sends "bad" except by luck.
	 */
	static struct rrl_conf rc;
	static struct dp_lcore lc;
	static struct dns_cookie_secrets cs;
	static uint32_t tick;
	if (lc.rrl == NULL) {
		static const uint8_t secret[DNS_COOKIE_SECRET_LEN] = { 1, 2, 3 };
		rrl_conf_init(&rc);
		rc.rate = 1;
		rc.table_size = 16;
		lc.rrl = rrl_new(&rc, 99);
		dns_cookie_secrets_init(&cs, secret);
	}
	lc.now_ms = tick += 7;
	lc.now_s = 1700000000 + tick / 1000;
	const struct idx_version *v = fuzz_index();
	if (size > 2048)
		return 0;
	for (int round = 0; round < 3; round++) {
		bool offload = round == 1, hard = round == 2;
		struct dp_pctx pc = { .svc = &svc, .conf = hard ? &conf_ck : &conf,
		                      .tx_ip4_cksum_offload = offload, .tx_udp_cksum_offload = offload,
		                      .cookies = hard ? &cs : NULL };
		struct dp_result r;
		memcpy(frame, data, size);
		dp_packet_process_lc(&pc, hard ? &lc : NULL, v, frame, size, sizeof(frame), &r);
		/* a response never claims more than the buffer, nor a header past itself */
		if (r.action == DP_ACT_TX && (r.len > sizeof(frame) || r.l2_len + r.l3_len > r.len))
			__builtin_trap();
		/* a rate-limited drop leaves nothing to send; a slip is a response */
		if (r.outcome == DP_OUT_RRL_DROPPED && r.action != DP_ACT_DROP)
			__builtin_trap();
		if (r.outcome == DP_OUT_RRL_SLIPPED && (r.action != DP_ACT_TX || !r.truncated))
			__builtin_trap();
	}
	return 0;
}
