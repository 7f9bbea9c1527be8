/* fuzz_xfrin -- a primary's answer stream to ddiplane's AXFR, IXFR or SOA query, through the transfer-client parser (control/xfr/in.c) */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "control/store/store.h"
#include "control/xfr/in.h"
#include "dns/rdata.h"
#include "dns/wire.h"

/*
 * The input: one byte that chooses the query (bits 0-1: AXFR, IXFR, SOA;
 * bit 2: signed with the test key), then the TCP stream as a primary sends
 * it: messages each behind a 2-byte length. The query is for "ddi.test."
 * with ID 0x1234 and, for IXFR, our serial 2024010100 (the seeds of
 * tests/fuzz/seeds.py answer exactly that). A complete transfer is turned
 * into its store ops, as the refresh thread does before it commits.
 */
#define FUZZ_NOW 1700000000u

static const uint8_t apex[] = "\3ddi\4test";
static const uint16_t qtypes[4] = { DNS_T_AXFR, DNS_T_IXFR, DNS_T_SOA, DNS_T_AXFR };

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static struct tsig_key key;
	static uint8_t mac[32];
	if (!key.secret_len) {
		memcpy(key.name, "\7xfr-key\4test", 14);
		key.alg = TSIG_HMAC_SHA256;
		key.secret_len = 32;
		memset(key.secret, 0x5a, 32);
		memset(mac, 0xa5, sizeof(mac));
	}
	if (size < 1)
		return 0;
	uint16_t qtype = qtypes[data[0] & 3];
	bool signed_ = data[0] & 4;
	struct xfr_in x;
	struct xfr_in_limits lim = { .max_rrs = 4096, .max_bytes = 1 << 20 };
	xfr_in_init(&x, apex, qtype, 0x1234, 2024010100u, signed_ ? &key : NULL, mac,
	            signed_ ? sizeof(mac) : 0, &lim);
	size_t pos = 1;
	enum xfr_in_result r = XFR_IN_MORE;
	while (r == XFR_IN_MORE && size - pos >= 2) {
		size_t len = dns_get16(data + pos);
		pos += 2;
		if (len > size - pos)
			len = size - pos;   /* a message cut short, as a closed connection leaves it */
		r = xfr_in_message(&x, data + pos, len, FUZZ_NOW);
		pos += len;
	}
	if (r == XFR_IN_DONE && (x.kind == XFR_IN_KIND_AXFR || x.kind == XFR_IN_KIND_IXFR)) {
		struct store_op *ops = NULL;
		struct store_rr *rrs = NULL;
		size_t nops = 0;
		if (xfr_in_ops(&x, &ops, &nops, &rrs) == 0 && nops == 0 && x.kind == XFR_IN_KIND_AXFR)
			__builtin_trap();   /* a whole zone is at least one op */
		free(ops);
		free(rrs);
	}
	if (getenv("FUZZ_VERBOSE"))   /* how far each seed gets (corpus review) */
		fprintf(stderr, "fuzz_xfrin: %zu bytes -> %s (%s)\n", size, xfr_in_result_name(r), x.why);
	if (r != XFR_IN_MORE && r != XFR_IN_DONE && !x.why[0])
		__builtin_trap();       /* every refusal says why */
	xfr_in_free(&x);
	return 0;
}
