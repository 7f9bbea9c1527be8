/* lease -- the EDNS Update Lease option (RFC 9664): parse it from an UPDATE, bound it, answer it */
#ifndef DDI_CONTROL_DDNS_LEASE_H
#define DDI_CONTROL_DDNS_LEASE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/*
 * RFC 9664 4: option code 2 in the OPT RR of an UPDATE; its data is
 * LEASE (4 bytes, seconds, network order) optionally followed by
 * KEY-LEASE (4 bytes). Any other length, or the option twice, is a
 * malformed request: FORMERR (RFC 9664 4, RFC 6891 6.1.2), and nothing
 * is applied. The response to an accepted UPDATE carries the lease the
 * server granted (RFC 9664 4.2), which may differ from the one asked.
 */
#define UL_OPTION_CODE 2
#define UL_DEFAULT_MAX 604800u      /* one week: the bound where the policy sets none */

struct ul_lease {
	bool present;                   /* the UPDATE carried the option */
	bool has_key_lease;
	uint32_t lease;                 /* seconds asked */
	uint32_t key_lease;             /* seconds asked for KEY records (kept, answered) */
};

/*
 * Walk the options of an OPT RR's rdata (`rdlen` bytes: code(2) len(2)
 * data, repeated, filling it exactly) and fill `out` from the Update
 * Lease option. Returns DDI_EOK (out->present false when there is none)
 * or DDI_EMALF (an option overruns the rdata, a lease of a length other
 * than 4 or 8, two lease options) with nothing else set.
 */
int ul_parse_options(const uint8_t *rdata, size_t rdlen, struct ul_lease *out);

/*
 * The same from a whole message: `opt_pos` is the offset of its OPT RR
 * (dns_query's opt_pos: root owner, type 41, class, TTL, rdlength, rdata).
 * DDI_EMALF when the RR does not fit the message or is not an OPT.
 */
int ul_parse_message(const uint8_t *msg, size_t len, size_t opt_pos, struct ul_lease *out);

/*
 * The lease granted for `asked` seconds with the bounds of the requester's
 * policy: at least `min` (0: none), at most `max` (0: UL_DEFAULT_MAX).
 */
uint32_t ul_grant(uint32_t asked, uint32_t min, uint32_t max);

/*
 * Append an OPT RR (UDP size 1232, version 0) with the Update Lease option
 * (lease, and key_lease when has_key_lease) to the response `msg` of `len`
 * bytes, which must hold no OPT yet and no TSIG (sign afterwards): ARCOUNT
 * is incremented. Returns the new length or DDI_ESPACE (cap too small) /
 * DDI_EMALF (len < 12).
 */
int ul_append(uint8_t *msg, size_t len, size_t cap, const struct ul_lease *granted);

#endif
