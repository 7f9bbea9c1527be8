/* fuzz_update -- an RFC 2136 UPDATE or NOTIFY, or a TKEY query (RFC 2930), from anyone: TSIG, policy, prerequisites and the commit, on a scratch store */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "control/ddns/serve.h"
#include "control/ddns/tkey.h"
#include "tests/fuzz/fuzz_store.h"

#define MSG_MAX 65535

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static uint8_t resp[MSG_MAX];
	static const uint8_t src4[4] = { 198, 18, 0, 2 };
	struct store *st = fuzz_store();
	if (size > MSG_MAX)
		return 0;
	/* routed as the DDNS thread does: TKEY queries to the TKEY parser (no GSS-API context: the
	 * parser, the answer and the signed deletion path are what strangers reach first) */
	int n = tkey_is_query(data, size)
	        ? tkey_serve(NULL, data, size, 1700000000, resp, sizeof(resp))
	        : ddns_serve(&(struct ddns_env){ .st = st }, data, size, 4, src4, resp, sizeof(resp),
	                     NULL);
	if (n > (int)sizeof(resp))
		__builtin_trap();
	if (getenv("FUZZ_VERBOSE"))   /* which rcode each seed reaches (corpus review) */
		fprintf(stderr, "fuzz_update: %zu bytes -> %d bytes, rcode %d\n", size, n,
		        n >= 4 ? resp[3] & 0xf : -1);
	return 0;
}
