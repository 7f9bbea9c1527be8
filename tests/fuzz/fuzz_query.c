/* fuzz_query -- dns_query_parse on anything, compared field by field with the straightforward reference parse (tests/dns/wire_ref.c) */
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include "dns/wire.h"
#include "tests/dns/wire_ref.h"

/*
 * Invariants checked on every input: dns_query_parse never reads outside
 * the bytes it was given (ASan; the input is libFuzzer's own buffer of
 * exactly `size` bytes), and it agrees with the reference parse in the
 * outcome and in every field of struct dns_query, each time into a struct
 * filled beforehand with a different pattern, so that a field it leaves
 * unset on some path shows (ref_query_check). The input is also parsed
 * with the common header forced (QR clear, QDCOUNT 1, ANCOUNT and NSCOUNT
 * 0, ARCOUNT 0 and 1), so that random bytes reach the common path's name
 * walk and OPT checks.
 */
static void check(const uint8_t *msg, size_t len)
{
	enum dns_parse_result res;
	const char *diff = ref_query_check(msg, len, &res);
	if (diff != NULL) {
		fprintf(stderr, "fuzz-query: dns_query_parse differs from the reference in '%s' (reference %d)\n",
		        diff, (int)res);
		__builtin_trap();
	}
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static uint8_t forced[65535];
	check(data, size);
	if (size < DNS_HDR_LEN || size > sizeof(forced))
		return 0;
	memcpy(forced, data, size);
	static const uint8_t counts[8] = { 0, 1, 0, 0, 0, 0, 0, 0 };
	forced[2] &= 0x7f;
	memcpy(forced + 4, counts, sizeof(counts));
	for (uint8_t ar = 0; ar < 2; ar++) {
		forced[11] = ar;
		check(forced, size);
	}
	return 0;
}
