/* testdns -- helpers for the answer tests: load master files into an index, parse responses */
#ifndef DDI_TESTS_TESTDNS_H
#define DDI_TESTS_TESTDNS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "dns/zonefile.h"
#include "index/snapshot.h"

/*
 * Read a master file (or a string) with origin `origin` (presentation),
 * group its records into RRsets (file order kept inside an RRset, repeated
 * rdata dropped as a zone loader does) and add them with the zone's apex to
 * transaction `t`. Returns DDI_EOK or the first error; `err` says where.
 */
int td_load_file(struct idx_txn *t, const char *origin, const char *path, struct zf_error *err);
int td_load_string(struct idx_txn *t, const char *origin, const char *text,
                   struct zf_error *err);

/* One record of a parsed response, names uncompressed. */
struct td_rr {
	uint8_t owner[DNS_NAME_MAXLEN];
	uint16_t type, rclass;
	uint32_t ttl;
	uint16_t rdlen;
	uint8_t rdata[1024];    /* enough for the test zones; longer rdata is an error */
};

#define TD_MAX_RR 64

struct td_msg {
	uint16_t id, flags, qdcount;
	uint16_t count[3];
	uint8_t qname[DNS_NAME_MAXLEN];   /* as sent back, case kept */
	uint16_t qtype, qclass;
	int rcode;                         /* 12 bits: header and OPT together */
	bool has_opt;
	uint16_t opt_udp;
	bool opt_do;
	uint16_t nsid_len;
	uint8_t nsid[64];
	int nrr[3];                        /* records kept per section (OPT not counted) */
	bool overflow;                     /* more than TD_MAX_RR in a section: not all kept */
	struct td_rr rr[3][TD_MAX_RR];
};

/* Parse a whole response. Returns DDI_EOK or a negative error. */
int td_parse(struct td_msg *m, const uint8_t *wire, size_t len);

/* "owner TTL CLASS TYPE rdata" in presentation form, owner lower-cased when `lower`. */
int td_rr_str(char *buf, size_t buflen, const struct td_rr *rr, bool lower);

/*
 * Build a query: one question `name` (presentation), type, class, opcode,
 * flags (RD ...), and an OPT when `edns_size` > 0 (version `edns_ver`, DO,
 * NSID option when `nsid`). Returns the length or a negative error.
 */
int td_query(uint8_t *buf, size_t cap, uint16_t id, const char *name, uint16_t type,
             uint16_t qclass, uint8_t opcode, uint16_t flags, uint16_t edns_size,
             uint8_t edns_ver, bool edns_do, bool nsid);

#endif
