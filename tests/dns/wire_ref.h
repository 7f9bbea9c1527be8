/* wire_ref -- a straightforward query parse, the oracle dns_query_parse is compared with */
#ifndef DDI_TESTS_DNS_WIRE_REF_H
#define DDI_TESTS_DNS_WIRE_REF_H

#include <stddef.h>
#include <stdint.h>

#include "dns/wire.h"

/* The same contract as dns_query_parse (dns/wire.h), computed the slow, obvious way. */
enum dns_parse_result ref_query_parse(struct dns_query *q, const uint8_t *wire, size_t len);

/* The name of the first field of struct dns_query in which a and b differ, or NULL. */
const char *ref_query_diff(const struct dns_query *a, const struct dns_query *b);

/*
 * Parse `wire` with ref_query_parse and with dns_query_parse, the latter
 * three times into a struct filled beforehand with 0x00, 0xa5 and 0xff (a
 * field it leaves unset keeps the fill and differs from the reference in
 * at least one of them). Returns NULL when the outcome and every field
 * agree each time, else "result" or the name of the first field that
 * differs. *res is the reference's outcome.
 */
const char *ref_query_check(const uint8_t *wire, size_t len, enum dns_parse_result *res);

#endif
