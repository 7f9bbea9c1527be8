/* tkey -- RFC 2930 TKEY queries for GSS-API negotiation (RFC 3645 4.1, mode 3) and key deletion (mode 5), answered on the DDNS thread */
#ifndef DDI_CONTROL_DDNS_TKEY_H
#define DDI_CONTROL_DDNS_TKEY_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "dns/name.h"
#include "dns/rdata.h"
#include "dns/wire.h"

/*
 * A TKEY query is a QUERY (opcode 0) with one question NAME TKEY (class
 * ANY as BIND sends it; any class is taken) and a TKEY RR of owner NAME in
 * the additional section (RFC 2930 4; Windows puts it in the answer
 * section: both are taken). The answer echoes the question and carries a
 * TKEY RR in the answer section with the server's token (RFC 3645 4.1.3).
 *
 * Outcomes (RFC 2930 2.6 TKEY error field, RFC 3645 4.1.3):
 *  - malformed message or TKEY RR                       FORMERR, no TKEY
 *  - algorithm other than gss-tsig.                     NOERROR, error BADALG (21)
 *  - mode other than 3 (GSS-API) and 5 (deletion)       NOERROR, error BADMODE (19)
 *  - mode 3: gss_accept_sec_context (control/ddns/gss.h)
 *      complete or continue needed                      NOERROR, error 0, output token
 *      rejected (no valid ticket, wrong service...)     NOERROR, error BADKEY (17)
 *      the name holds an established key                NOERROR, error BADNAME (20)
 *      the context table is full                        REFUSED, no TKEY
 *  - mode 5: the query must be signed with that very key (TSIG, gss-tsig);
 *      then the key is deleted, the answer signed with it; else the TSIG
 *      failure's answer (NOTAUTH/FORMERR, unsigned).
 * The final answer of a negotiation is not TSIG-signed: RFC 3645 4.1.3
 * asks for it, but BIND's named leaves it out because Windows clients fail
 * on it, and BIND's nsupdate does not read it; ddiplane does as BIND.
 */

#define TKEY_MODE_GSSAPI 3
#define TKEY_MODE_DELETE 5
#define TKEY_ERR_BADKEY 17
#define TKEY_ERR_BADMODE 19
#define TKEY_ERR_BADNAME 20
#define TKEY_ERR_BADALG 21

/* The TKEY RR of a query (RFC 2930 2). key points into the message. */
struct tkey_rr {
	uint8_t alg[DNS_NAME_MAXLEN];     /* lower-case wire */
	uint32_t inception, expiration;
	uint16_t mode, error;
	const uint8_t *key;
	uint16_t key_len;
	uint16_t other_len;
};

struct tkey_query {
	uint8_t qname[DNS_NAME_MAXLEN];   /* the key's name, lower-case wire */
	uint16_t qclass;
	size_t q_end;                     /* offset just past the question */
	struct tkey_rr tk;
	bool has_tsig;                    /* a TSIG RR ends the message ... */
	size_t tsig_pos;                  /* ... at this offset */
};

/*
 * Is this a TKEY query (QR clear, opcode QUERY, QDCOUNT 1, question type
 * TKEY)? Reads only the header and the question, bounds-checked; for the
 * dataplane and the TCP server to route it to the DDNS thread (inline:
 * the dataplane's packet core links no control/ code).
 */
static inline bool tkey_is_query(const uint8_t *msg, size_t len)
{
	if (msg == NULL || len < DNS_HDR_LEN)
		return false;
	uint16_t flags = dns_get16(msg + 2);
	if ((flags & DNS_QR) || DNS_OPCODE(flags) != DNS_OP_QUERY || dns_get16(msg + 4) != 1)
		return false;
	/*
	 * The common queries in O(1), before walking the name (this runs for
	 * every query on a worker when GSS-TSIG is on): a TKEY query carries a
	 * TKEY RR, so not with no records past the question, nor when the
	 * only one is an empty OPT at the end (EDNS version 0 without options:
	 * root owner, type 41, extended rcode and version 0, rdlength 0; 40
	 * fixed bits a TKEY RR's last bytes match by chance once in 2^40).
	 */
	uint16_t an = dns_get16(msg + 6), ns = dns_get16(msg + 8), ar = dns_get16(msg + 10);
	const uint8_t *o = msg + len - 11;
	if (an == 0 && ns == 0 &&
	    (ar == 0 || (ar == 1 && len >= DNS_HDR_LEN + 16 && o[0] == 0 && dns_get16(o + 1) == 41 &&
	                 o[5] == 0 && o[6] == 0 && dns_get16(o + 9) == 0)))
		return false;
	/* the question name: plain labels (the first name has nothing to point back to) */
	size_t p = DNS_HDR_LEN;
	for (unsigned n = 0; p < len && msg[p] != 0; n++) {
		if (msg[p] > 63 || n > 127)
			return false;
		p += 1 + (size_t)msg[p];
	}
	return p + 5 <= len && dns_get16(msg + p + 1) == DNS_T_TKEY;
}

/*
 * Parse a TKEY query: one question of type TKEY, every record of the
 * other sections walked with bounds checked, exactly one TKEY RR owned by
 * the question name whose rdata fills its rdlength, a TSIG only last.
 * Errors: DDI_EMALF.
 */
int tkey_parse(struct tkey_query *q, const uint8_t *msg, size_t len);

struct gss_server;

/*
 * Answer a TKEY query (see the table above) with the contexts of `g` at
 * unix time `now` (g NULL: GSS-TSIG is off, mode 3 is REFUSED). Returns the answer's length, 0 for none (shorter than a
 * header, or a response), or DDI_ESPACE. The DDNS thread only.
 */
int tkey_serve(struct gss_server *g, const uint8_t *req, size_t len, uint64_t now, uint8_t *resp,
               size_t cap);

#endif
