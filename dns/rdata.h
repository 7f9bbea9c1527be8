/* rdata -- RR types: names, presentation <-> wire rdata, validation */
#ifndef DDI_DNS_RDATA_H
#define DDI_DNS_RDATA_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "dns/name.h"

enum dns_type {
	DNS_T_A = 1, DNS_T_NS = 2, DNS_T_CNAME = 5, DNS_T_SOA = 6, DNS_T_PTR = 12,
	DNS_T_MX = 15, DNS_T_TXT = 16, DNS_T_AAAA = 28, DNS_T_SRV = 33,
	DNS_T_OPT = 41, DNS_T_DHCID = 49, DNS_T_TKEY = 249, DNS_T_TSIG = 250,
	DNS_T_IXFR = 251, DNS_T_AXFR = 252, DNS_T_ANY = 255, DNS_T_CAA = 257,
};

#define DNS_RDATA_MAXLEN 65535

/* One resource record, as read from a zone file or built by a caller. */
struct dns_rr {
	uint8_t owner[DNS_NAME_MAXLEN];   /* wire form */
	uint16_t type;
	uint16_t rclass;
	uint32_t ttl;
	uint16_t rdlen;
	uint8_t rdata[DNS_RDATA_MAXLEN];  /* uncompressed wire rdata */
};

/* "A", "AAAA", ..., "TYPE65280" for unknown types. Static or thread-local buffer. */
const char *dns_type_name(uint16_t type);

/* Mnemonic or TYPEnnn -> type. Returns 0 when unknown. Case-insensitive. */
uint16_t dns_type_from_str(const char *s, size_t len);

/* True for meta/query-only types that cannot be stored (OPT, TSIG, TKEY, IXFR, AXFR, ANY, ...). */
bool dns_type_is_meta(uint16_t type);

/*
 * Presentation -> wire rdata. `fields` are the rdata tokens of one record
 * (already split by the zone-file tokenizer, quotes removed for strings
 * but with `quoted[i]` set; escapes still in place). Relative names are
 * made absolute with `origin`. Every known type is checked field by field;
 * "\# LEN HEX" (RFC 3597) works for every type. On error returns
 * DDI_ESYNTAX/DDI_ERDATA and writes what was expected into `err` (e.g.
 * "expected an IPv4 address").
 */
int dns_rdata_from_str(uint8_t *out, size_t outcap, uint16_t type,
                       const char *const *fields, const bool *quoted, int nfields,
                       const uint8_t *origin, char *err, size_t errlen);

/*
 * Wire rdata -> presentation (one line, fields separated by spaces; no
 * owner/TTL/class/type). Unknown types in RFC 3597 form. Returns the string
 * length or DDI_ESPACE / DDI_ERDATA.
 */
int dns_rdata_to_str(char *buf, size_t buflen, uint16_t type, const uint8_t *rdata, uint16_t rdlen);

/*
 * Check wire rdata for `type` (from the network or the store): names are
 * uncompressed and valid, fixed sizes match, strings fit. Returns DDI_EOK or
 * DDI_ERDATA.
 */
int dns_rdata_check(uint16_t type, const uint8_t *rdata, uint16_t rdlen);

/*
 * Read the rdata of an RR in a message starting at `pos` with `rdlen`
 * bytes, decompressing names embedded in known types (NS, CNAME, PTR, MX,
 * SOA, SRV target is never compressed per RFC 2782 but tolerated). Writes
 * uncompressed wire rdata to out. Returns its length or a negative error.
 */
int dns_rdata_parse(uint8_t *out, size_t outcap, uint16_t type, const uint8_t *msg,
                    size_t msglen, size_t pos, uint16_t rdlen);

/* The name embedded in rdata that additional-section processing follows (NS, MX, SRV target), or NULL. */
const uint8_t *dns_rdata_target(uint16_t type, const uint8_t *rdata, uint16_t rdlen);

/* SOA rdata accessors (rdata already validated). */
uint32_t dns_soa_serial(const uint8_t *rdata, uint16_t rdlen);
uint32_t dns_soa_minimum(const uint8_t *rdata, uint16_t rdlen);
void dns_soa_set_serial(uint8_t *rdata, uint16_t rdlen, uint32_t serial);

/* TTL in presentation form: seconds or units "1w2d3h4m5s" (case-insensitive). */
int dns_ttl_from_str(uint32_t *ttl, const char *s, size_t len);

#endif
