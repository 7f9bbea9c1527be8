/* fuzz_xfrout -- an AXFR/IXFR/SOA request over TCP from a client the ACL admits: the loop's checks (xfr_out_check) and the transfer (xfr_out_serve), on a scratch store */
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "control/xfr/xfr.h"
#include "dns/wire.h"
#include "tests/fuzz/fuzz_store.h"

#define MSG_MAX 65535

/* Every message the server would send: a DNS response within the TCP frame's limit. */
static int emit(void *ctx, const uint8_t *msg, size_t len)
{
	unsigned *n = ctx;
	if (len < DNS_HDR_LEN || len > MSG_MAX || !(msg[2] & 0x80))
		__builtin_trap();
	(*n)++;
	return 0;
}

/*
 * The first byte picks the path, as the TCP server takes it: 0 the whole
 * transfer (a transfer thread), 1 the checks on the query loop, 2 the
 * checks with every transfer thread busy. The rest is the request, from
 * 198.18.0.2, which the ACLs of ddi.test. and 0.18.198.in-addr.arpa. admit.
 */
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static struct xfr_out *x;
	static struct xfr_stats st;
	static const uint8_t src4[4] = { 198, 18, 0, 2 };
	if (!x) {
		struct store *s = fuzz_store();
		fuzz_store_cmd("{\"command\": \"zone-acl\", \"arguments\": {\"zone\": \"ddi.test.\", "
		               "\"transfer\": [\"198.18.0.0/15\"]}}");
		fuzz_store_cmd("{\"command\": \"zone-acl\", \"arguments\": {\"zone\": "
		               "\"0.18.198.in-addr.arpa.\", \"transfer\": [\"198.18.0.0/15\"]}}");
		x = xfr_out_new(s, &st);
		if (!x)
			abort();
	}
	if (size < 1 || size > 1 + MSG_MAX)
		return 0;
	unsigned n = 0;
	int rc = data[0] == 0
	         ? xfr_out_serve(x, data + 1, size - 1, 4, src4, 1700000000, emit, &n)
	         : xfr_out_check(x, data + 1, size - 1, 4, src4, 1700000000, data[0] == 2, emit, &n);
	/* the checks answer one message at most, and nothing when the transfer may run */
	if (data[0] != 0 && (n > 1 || (rc == XFR_OUT_RUN && n != 0)))
		__builtin_trap();
	if (__atomic_load_n(&st.out_running, __ATOMIC_RELAXED) != 0)
		__builtin_trap();
	if (getenv("FUZZ_VERBOSE"))
		fprintf(stderr, "fuzz_xfrout: mode %u, %zu bytes -> rc %d, %u messages\n", data[0],
		        size - 1, rc, n);
	return 0;
}
