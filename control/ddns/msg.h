/* msg -- an RFC 2136 UPDATE message parsed and checked: zone, prerequisites, updates */
#ifndef DDI_CONTROL_DDNS_MSG_H
#define DDI_CONTROL_DDNS_MSG_H

#include <stddef.h>
#include <stdint.h>

#include "dns/name.h"

/*
 * The parsed form both the update policy (policy.h) and the evaluation
 * (update.h) read; it knows nothing of either, so they do not include each
 * other. Nothing here keeps global state.
 */

/* What one prerequisite RR asks (RFC 2136 2.4). */
enum upd_prereq_kind {
	UPD_PRE_RRSET_EXISTS = 1,   /* 2.4.1: class ANY, type T, rdlength 0 */
	UPD_PRE_RRSET_VALUE,        /* 2.4.2: class IN, the RRset equals all such RRs for (name, type) */
	UPD_PRE_RRSET_ABSENT,       /* 2.4.3: class NONE, type T, rdlength 0 */
	UPD_PRE_NAME_IN_USE,        /* 2.4.4: class ANY, type ANY */
	UPD_PRE_NAME_FREE,          /* 2.4.5: class NONE, type ANY */
};

/* What one update RR does (RFC 2136 2.5). */
enum upd_op_kind {
	UPD_OP_ADD = 1,             /* 2.5.1: class IN, add the RR */
	UPD_OP_DEL_RRSET,           /* 2.5.2: class ANY, type T, delete the RRset */
	UPD_OP_DEL_NAME,            /* 2.5.3: class ANY, type ANY, delete every RRset of the name */
	UPD_OP_DEL_RR,              /* 2.5.4: class NONE, delete this RR */
};

/* One prerequisite or update RR, decompressed. */
struct upd_rr {
	int kind;                        /* enum upd_prereq_kind or enum upd_op_kind */
	uint8_t owner[DNS_NAME_MAXLEN];  /* wire, lower-cased */
	uint16_t type;
	uint16_t rclass;
	uint32_t ttl;
	uint16_t rdlen;
	uint8_t *rdata;                  /* uncompressed, checked (dns_rdata_check); NULL when rdlen 0 */
};

/* A parsed UPDATE. Owns its memory: release with upd_msg_free(). */
struct upd_msg {
	uint16_t id;
	uint16_t flags;                  /* as received */
	uint8_t zone[DNS_NAME_MAXLEN];   /* lower-cased */
	size_t nprereq;
	struct upd_rr *prereq;
	size_t nupdate;
	struct upd_rr *update;
};

/*
 * Parse an UPDATE (opcode 5) of `len` bytes. The additional section is
 * walked for bounds only (it holds the OPT and TSIG, already handled).
 * Checks, each giving *rcode:
 *  - header: a request (QR clear), opcode UPDATE       else FORMERR
 *  - ZOCOUNT 1, zone type SOA, class IN (3.1.1)          else FORMERR
 *  - every record: names and rdata well formed, within the message, no
 *    trailing bytes                                      else FORMERR
 *  - prerequisites (3.2.1, 3.2.3): TTL 0; owner in the zone (NOTZONE);
 *    class ANY / NONE with rdlength 0 and type ANY or a storable type;
 *    class IN with a storable type and valid rdata; other classes FORMERR
 *  - updates (3.4.1.3): owner in the zone (NOTZONE); class IN with a
 *    storable type (not meta, not ANY) and valid rdata; class ANY with TTL
 *    0, rdlength 0, type ANY or storable; class NONE with TTL 0, a storable
 *    type and valid rdata; other classes FORMERR
 * The first record that fails decides the rcode (sections in order).
 * Returns DDI_EOK (then *rcode is NOERROR or the rcode to answer, and `m`
 * must be freed either way) or DDI_ENOMEM (*rcode SERVFAIL).
 */
int upd_parse(struct upd_msg *m, const uint8_t *wire, size_t len, uint8_t *rcode);

/* Free what upd_parse allocated; `m` may be zeroed or partly filled. */
void upd_msg_free(struct upd_msg *m);

#endif
