/* fuzz_lease -- the Update Lease option (RFC 9664) parser on anything: OPT rdata, and a message whose OPT starts at byte 12 */
#include <stdint.h>
#include <string.h>

#include "control/ddns/lease.h"
#include "dns/errcode.h"

/*
 * Invariants checked on every input: the parser never reads past the
 * bytes it was given (ASan), a refusal leaves the result untouched, and
 * what it accepts survives the answer's encoding (ul_append) unchanged.
 */
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct ul_lease l, back, seen = { .present = true, .lease = 0xdeadbeef };
	uint8_t msg[64] = { 0 };

	l = seen;
	int rc = ul_parse_options(data, size, &l);
	if (rc != DDI_EOK && rc != DDI_EMALF)
		__builtin_trap();
	if (rc != DDI_EOK && memcmp(&l, &seen, sizeof(l)) != 0)
		__builtin_trap();
	if (rc == DDI_EOK && l.present) {
		int n = ul_append(msg, 12, sizeof(msg), &l);
		if (n < 0 || ul_parse_message(msg, (size_t)n, 12, &back) != DDI_EOK ||
		    back.lease != l.lease || back.has_key_lease != l.has_key_lease ||
		    (l.has_key_lease && back.key_lease != l.key_lease))
			__builtin_trap();
	}
	/* the same bytes as a whole message: header, then an OPT RR at offset 12 */
	rc = ul_parse_message(data, size, 12, &l);
	if (rc != DDI_EOK && rc != DDI_EMALF)
		__builtin_trap();
	return 0;
}
