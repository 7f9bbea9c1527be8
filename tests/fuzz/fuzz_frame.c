/* fuzz_frame -- any Ethernet frame through a worker's whole path: dp_packet_process on a loaded index */
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
	const struct idx_version *v = fuzz_index();
	if (size > 2048)
		return 0;
	for (int offload = 0; offload < 2; offload++) {
		struct dp_pctx pc = { .svc = &svc, .conf = &conf, .tx_ip4_cksum_offload = offload,
		                      .tx_udp_cksum_offload = offload };
		struct dp_result r;
		memcpy(frame, data, size);
		dp_packet_process(&pc, v, frame, size, sizeof(frame), &r);
		/* a response never claims more than the buffer, nor a header past itself */
		if (r.action == DP_ACT_TX && (r.len > sizeof(frame) || r.l2_len + r.l3_len > r.len))
			__builtin_trap();
	}
	return 0;
}
