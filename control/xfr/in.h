/* in -- ddiplane as a secondary: build AXFR/IXFR/SOA queries and parse the response streams (RFC 5936, RFC 1995, RFC 8945 5.3.1) */
#ifndef DDI_CONTROL_XFR_IN_H
#define DDI_CONTROL_XFR_IN_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "control/ddns/tsig.h"
#include "dns/name.h"

struct store_op;
struct store_rr;

/*
 * No sockets here: the refresh thread (secondary.c) reads TCP messages and
 * hands each one to xfr_in_message(); the unit tests hand byte arrays.
 * Every byte is checked; the first thing wrong ends the transfer with a
 * named outcome and a sentence in x->why, and nothing is applied (the
 * caller commits only after XFR_IN_DONE).
 *
 * The stream (RFC 5936 2.2, RFC 1995 4):
 *   AXFR   SOA(S) rr... SOA(S)            first and last SOA identical
 *   IXFR   SOA(S) alone                   the client is current (S <= ours)
 *          SOA(S) SOA(ours) del... SOA(s1) add... SOA(s1) del... ... SOA(S) add... SOA(S)
 *                                         difference sequences chained from our
 *                                         serial to S, ended by the first SOA again
 *          SOA(S) rr(not SOA) ... SOA(S)  the whole zone instead (AXFR form)
 * The first RR of the first message decides S; the second RR decides the
 * form. Each message: ID of our query, QR, opcode QUERY, RCODE NOERROR,
 * TC clear, QDCOUNT 0 or 1 (and then our question), every record of
 * class IN inside the zone with valid rdata (decompressed), TSIG last when
 * a key is used: the first message verified against the request's MAC,
 * each later one against the previous MAC (RFC 8945 5.3.1).
 */

#define XFR_IN_MAX_RRS_DEFAULT 1000000u            /* records of one transfer */
#define XFR_IN_MAX_BYTES_DEFAULT ((size_t)256 << 20)   /* message bytes of one transfer */

/* Every outcome of a transfer (or of an SOA query), counted per zone and in all. */
enum xfr_in_result {
	XFR_IN_MORE = 0,       /* the message was taken; another one follows */
	XFR_IN_DONE,           /* the final SOA was seen: the transfer is complete */
	XFR_IN_E_MALFORMED,    /* a message that does not parse: framing, names, rdata, counts */
	XFR_IN_E_HEADER,       /* not an answer to our query: ID, QR, opcode, TC, question */
	XFR_IN_E_RCODE,        /* the primary answered an error rcode (REFUSED, NOTAUTH, ...) */
	XFR_IN_E_TSIG,         /* TSIG missing, unexpected, or not verifying (RFC 8945 5.3.1) */
	XFR_IN_E_FIRST,        /* the first record is not the zone's SOA (RFC 5936 2.2) */
	XFR_IN_E_SOA,          /* the last SOA differs from the first (RFC 5936 2.2) */
	XFR_IN_E_OUTZONE,      /* a record outside the zone, or of another class */
	XFR_IN_E_IXFR,         /* a difference sequence out of shape or not chained (RFC 1995 4) */
	XFR_IN_E_TRAILING,     /* records after the final SOA, or a message after it */
	XFR_IN_E_LIMIT,        /* more records or bytes than the limits */
	XFR_IN_E_NOMEM,
	XFR_IN__COUNT
};

/* "more", "done", "malformed", ... */
const char *xfr_in_result_name(enum xfr_in_result r);

enum xfr_in_kind {
	XFR_IN_KIND_NONE = 0,
	XFR_IN_KIND_AXFR,      /* the whole zone: x->rrs[0..nrrs) without the final SOA */
	XFR_IN_KIND_IXFR,      /* difference sequences: x->seqs */
	XFR_IN_KIND_UPTODATE,  /* an IXFR answered with the SOA alone */
};

/* One record received; owner and [rdlen(2) rdata] live in x->arena at these offsets. */
struct xfr_in_rr {
	size_t owner;
	size_t rdata;           /* of the 2-byte rdlen prefix; the rdata follows it */
	uint16_t type;
	uint16_t rdlen;
	uint32_t ttl;
};

/* One IXFR difference sequence: removed RRs [del, add), added [add, end), SOAs first in each. */
struct xfr_in_seq {
	size_t del, add, end;
	uint32_t from, to;
};

struct xfr_in_limits {
	size_t max_rrs;         /* 0: XFR_IN_MAX_RRS_DEFAULT */
	size_t max_bytes;       /* 0: XFR_IN_MAX_BYTES_DEFAULT */
};

enum xfr_in_state { XI_FIRST = 0, XI_SECOND, XI_AXFR, XI_DEL, XI_ADD, XI_DONE };

struct xfr_in {
	/* the query (xfr_in_init) */
	uint8_t apex[DNS_NAME_MAXLEN];   /* lower-case */
	uint16_t qtype;                  /* DNS_T_AXFR, DNS_T_IXFR or DNS_T_SOA */
	uint16_t id;
	uint32_t serial;                 /* IXFR: ours */
	const struct tsig_key *key;      /* NULL: unsigned */
	uint8_t mac[TSIG_MAC_MAX];       /* the request's MAC, then the previous message's */
	uint16_t mac_len;
	struct xfr_in_limits lim;
	/* progress */
	enum xfr_in_state st;
	unsigned nmsg;
	size_t bytes;
	enum xfr_in_kind kind;
	uint32_t soa_serial;             /* S: the first SOA's serial */
	uint16_t soa_len;
	uint8_t soa[2 * DNS_NAME_MAXLEN + 20];
	uint32_t cur;                    /* IXFR: serial the current part leads to */
	uint8_t rcode;                   /* XFR_IN_E_RCODE: the rcode */
	/* what was received */
	struct xfr_in_rr *rrs;
	size_t nrrs, caprrs;
	uint8_t *arena;
	size_t used, cap;
	struct xfr_in_seq *seqs;
	size_t nseqs, capseqs;
	char why[256];                   /* the reason of the last error, "" otherwise */
};

/*
 * Build a query for `apex` (AXFR, IXFR with our SOA `soa` [rdata, rdlen]
 * in the authority section (RFC 1995 3), or SOA) with ID `id`, signed with
 * `key` when given (mac_out gets the request MAC, *mac_len its length).
 * Returns the length or DDI_ESPACE/DDI_EINVAL/DDI_EIO.
 */
int xfr_in_query(uint8_t *buf, size_t cap, uint16_t id, const uint8_t *apex, uint16_t qtype,
                 const uint8_t *soa, uint16_t soa_len, const struct tsig_key *key, uint64_t now,
                 uint8_t mac_out[TSIG_MAC_MAX], uint16_t *mac_len);

/*
 * Start parsing the answer to a query made by xfr_in_query: same apex,
 * qtype, id, key and request MAC. `serial` is ours (IXFR). `lim` may be NULL.
 */
void xfr_in_init(struct xfr_in *x, const uint8_t *apex, uint16_t qtype, uint16_t id,
                 uint32_t serial, const struct tsig_key *key, const uint8_t *mac,
                 uint16_t mac_len, const struct xfr_in_limits *lim);

/*
 * Take the next message (without the TCP length prefix) received at unix
 * time `now`. XFR_IN_MORE: send the next; XFR_IN_DONE: complete (kind is
 * set); anything else: refused, x->why says why. After an error or DONE,
 * further messages are XFR_IN_E_TRAILING. For qtype SOA the one message
 * is DONE with soa_serial set (an answer without the zone's SOA is
 * XFR_IN_E_FIRST).
 */
enum xfr_in_result xfr_in_message(struct xfr_in *x, const uint8_t *msg, size_t len, uint64_t now);

/*
 * The store ops that apply a complete transfer to zone `apex` in ONE
 * commit: AXFR -> one STORE_OP_ZONE_REPLACE (x's records, *rrs_out points
 * at them); IXFR -> per sequence an RR_DELETE of each removed RR and an
 * RR_ADD of each added one, in order (the SOAs included, so the serial is
 * the primary's). Every op carries STORE_OPF_TRANSFER. Pointers go into x:
 * valid until xfr_in_free. Free *ops and *rrs_out with free().
 */
int xfr_in_ops(const struct xfr_in *x, struct store_op **ops, size_t *nops,
               struct store_rr **rrs_out);

void xfr_in_free(struct xfr_in *x);

#endif
