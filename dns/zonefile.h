/* zonefile -- RFC 1035 section 5 master files: reader and writer */
#ifndef DDI_DNS_ZONEFILE_H
#define DDI_DNS_ZONEFILE_H

#include <stdbool.h>
#include <stdio.h>

#include "dns/rdata.h"

struct zf_error {
	char file[256];   /* the file being read ($INCLUDE changes it) */
	unsigned line;    /* 1-based line of the record that failed */
	char msg[256];    /* what was expected, e.g. "expected a TTL or a type, got 'IN2'" */
	int code;         /* DDI_ESYNTAX, DDI_ERDATA, DDI_EOUTZONE, DDI_EINCLUDE, -errno */
};

struct zf_options {
	const uint8_t *origin;    /* initial $ORIGIN (wire form); required */
	uint32_t default_ttl;     /* used until $TTL or an SOA gives one; 3600 if 0 */
	bool allow_include;       /* $INCLUDE refused unless set */
	bool require_in_zone;     /* records outside origin are errors (DDI_EOUTZONE) */
};

/*
 * Called for each record in file order. `rr` is only valid during the call.
 * A non-zero return stops reading and is returned by zf_read_*.
 */
typedef int (*zf_record_cb)(void *ctx, const struct dns_rr *rr);

/*
 * Read a master file: $ORIGIN, $TTL, $INCLUDE (only with allow_include;
 * relative to the including file's directory), owner inheritance from the
 * previous line, "@", relative names, parentheses spanning lines, comments,
 * quoted strings with escapes, optional class IN (other classes are
 * errors), TTL and class in either order, TTL units ("1h30m"). The reader
 * does not store anything: callers collect records and commit only when
 * the whole file was read (so nothing is half-loaded).
 * Returns DDI_EOK, or the error with `err` naming file, line and reason.
 */
int zf_read_file(const char *path, const struct zf_options *opt, zf_record_cb cb, void *ctx,
                 struct zf_error *err);
int zf_read_string(const char *text, size_t len, const char *name, const struct zf_options *opt,
                   zf_record_cb cb, void *ctx, struct zf_error *err);

/* Write one record as a master-file line: "owner TTL IN TYPE rdata\n". */
int zf_write_rr(FILE *out, const uint8_t *owner, uint16_t type, uint32_t ttl,
                const uint8_t *rdata, uint16_t rdlen);

#endif
