/* wire -- DNS message header, query parsing, response writing with compression, EDNS0 */
#ifndef DDI_DNS_WIRE_H
#define DDI_DNS_WIRE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "dns/name.h"

#define DNS_HDR_LEN 12
#define DNS_UDP_MIN 512           /* RFC 1035 4.2.1 */
#define DNS_EDNS_DEFAULT 1232     /* advertised and used when the client asks more */
#define DNS_MSG_MAX 65535

/* Header flag bits (in the 16-bit flags word, host order). */
#define DNS_QR 0x8000
#define DNS_AA 0x0400
#define DNS_TC 0x0200
#define DNS_RD 0x0100
#define DNS_RA 0x0080
#define DNS_AD 0x0020
#define DNS_CD 0x0010
#define DNS_OPCODE(f) (((f) >> 11) & 0xf)
#define DNS_RCODE(f) ((f) & 0xf)

enum dns_opcode { DNS_OP_QUERY = 0, DNS_OP_IQUERY = 1, DNS_OP_STATUS = 2,
                  DNS_OP_NOTIFY = 4, DNS_OP_UPDATE = 5 };

enum dns_rcode {
	DNS_RCODE_NOERROR = 0, DNS_RCODE_FORMERR = 1, DNS_RCODE_SERVFAIL = 2,
	DNS_RCODE_NXDOMAIN = 3, DNS_RCODE_NOTIMP = 4, DNS_RCODE_REFUSED = 5,
	DNS_RCODE_YXDOMAIN = 6, DNS_RCODE_YXRRSET = 7, DNS_RCODE_NXRRSET = 8,
	DNS_RCODE_NOTAUTH = 9, DNS_RCODE_NOTZONE = 10,
	DNS_RCODE_BADVERS = 16,  /* extended, RFC 6891; also BADSIG for TSIG */
	DNS_RCODE_BADKEY = 17, DNS_RCODE_BADTIME = 18,
};

#define DNS_CLASS_IN 1
#define DNS_CLASS_CH 3
#define DNS_CLASS_NONE 254
#define DNS_CLASS_ANY 255

#define DNS_EDNS_OPT_NSID 3       /* RFC 5001 */

static inline uint16_t dns_get16(const uint8_t *p) { return (uint16_t)(p[0] << 8 | p[1]); }
static inline uint32_t dns_get32(const uint8_t *p)
{
	return (uint32_t)p[0] << 24 | (uint32_t)p[1] << 16 | (uint32_t)p[2] << 8 | p[3];
}
static inline void dns_put16(uint8_t *p, uint16_t v) { p[0] = v >> 8; p[1] = v & 0xff; }
static inline void dns_put32(uint8_t *p, uint32_t v)
{
	p[0] = v >> 24; p[1] = (v >> 16) & 0xff; p[2] = (v >> 8) & 0xff; p[3] = v & 0xff;
}

/* What a query parse concluded, besides success. */
enum dns_parse_result {
	DNS_PARSE_OK = 0,
	DNS_PARSE_DROP,      /* no answer at all: shorter than a header, or QR set (RFC 1035 4.1.1) */
	DNS_PARSE_FORMERR,   /* answer FORMERR with the header (and question if it parsed) */
	DNS_PARSE_BADVERS,   /* EDNS version > 0: answer BADVERS with an OPT (RFC 6891 6.1.3) */
};

/*
 * One incoming message, parsed just far enough to answer it. The question
 * name is not copied: qname points into the message (it cannot be
 * compressed, nothing precedes it). Valid as long as the message buffer.
 *
 * The layout serves dns_query_parse's common path, which sets every
 * field without zeroing the struct first: ID, flags, QDCOUNT and ANCOUNT
 * (and QTYPE, QCLASS) lie in the order in which a big-endian load of
 * their 8 (4) bytes leaves them in this host's memory, reversed on a
 * little-endian host, so that each group is stored as it was loaded; the
 * fields that path sets to constants lie side by side, so that they are
 * stored at once. dns/wire.c asserts the offsets. Use the fields by name.
 */
struct dns_query {
	const uint8_t *wire;
	size_t len;
#if __BYTE_ORDER__ == __ORDER_LITTLE_ENDIAN__
	uint16_t ancount, qdcount;
	uint16_t flags;          /* host order, as received */
	uint16_t id;
	uint16_t arcount, nscount;
#else
	uint16_t id;
	uint16_t flags;          /* host order, as received */
	uint16_t qdcount, ancount;
	uint16_t nscount, arcount;
#endif
	uint16_t edns_cookie_off;  /* RFC 7873 COOKIE option data (the first one), 0: none */
	uint16_t edns_cookie_len;  /* its length as sent (dns/cookie.h says what is well formed) */
	size_t tsig_pos;         /* offset of the TSIG RR */
#if __BYTE_ORDER__ == __ORDER_LITTLE_ENDIAN__
	uint16_t qclass, qtype;
#else
	uint16_t qtype, qclass;
#endif
	uint8_t opcode;
	uint8_t qname_len;
	uint8_t qname_labels;    /* its labels, the root not counted */
	bool edns_do;
	bool has_edns;
	uint8_t edns_version;
	bool edns_nsid;          /* the client asked for NSID */
	bool has_tsig;           /* last additional record is a TSIG */
	uint16_t edns_udp_size;  /* as advertised by the client, >= 512 */
	const uint8_t *qname;    /* wire form inside the message, case as sent */
	size_t question_end;     /* offset just past the question (12 + qname + 4) */
	size_t opt_pos;          /* offset of the OPT RR in the additional section */
};

/* The query's COOKIE option data (q->edns_cookie_len bytes), or NULL. */
static inline const uint8_t *dns_query_cookie(const struct dns_query *q)
{
	return q->edns_cookie_off ? q->wire + q->edns_cookie_off : NULL;
}

/*
 * Parse a message as a server receives it: header, exactly one question
 * (QDCOUNT 0 or > 1 gives FORMERR for QUERY), then every record of the
 * answer, authority and additional sections is walked with all bounds
 * checked (names, rdlength within the message, counts that match the bytes,
 * no trailing garbage). The additional section may hold one OPT (root
 * owner; a second OPT is FORMERR, RFC 6891 6.1.1) and a TSIG as its last
 * record. Fills `q` as far as it got, even on FORMERR/BADVERS; every field
 * is set on every return, 0 (false, NULL) where the parse did not get to it.
 * Nothing is read outside [wire, wire + len).
 */
enum dns_parse_result dns_query_parse(struct dns_query *q, const uint8_t *wire, size_t len);

/* Largest response this client can take over UDP: max(512, min(advertised, local)). */
static inline size_t dns_query_udp_max(const struct dns_query *q, size_t local_max)
{
	size_t s = q->has_edns ? q->edns_udp_size : DNS_UDP_MIN;
	if (s > local_max)
		s = local_max;
	return s < DNS_UDP_MIN ? DNS_UDP_MIN : s;
}

/* ------------------------------------------------------------------------ */
/* Response writer                                                          */
/* ------------------------------------------------------------------------ */

#define DNS_COMPR_SLOTS 16

enum dns_section { DNS_SEC_ANSWER = 0, DNS_SEC_AUTHORITY = 1, DNS_SEC_ADDITIONAL = 2 };

/*
 * Writes a response into `buf` (which may be the query's own buffer: the
 * header and question are kept in place). `max` is the size the response
 * may reach (the client's limit, already minus the room reserved for OPT);
 * writes past it fail with DDI_ESPACE and leave the message as it was
 * before the failed call, so the caller can set TC and stop.
 */
struct dns_writer {
	uint8_t *buf;
	size_t max;
	size_t len;
	uint16_t count[3];          /* records per section */
	enum dns_section section;   /* sections are written in order */
	uint8_t ncompr;
	struct { uint16_t off; uint8_t labels; } compr[DNS_COMPR_SLOTS]; /* names written, for pointers */
};

/*
 * Start a response to `q` in `buf`: copies (or keeps, when buf == q->wire)
 * header and question, sets QR, keeps ID, opcode, RD and CD, clears the
 * other flags and counts. The question name is registered for compression.
 * With `with_question` false (for FORMERR on a question that did not parse)
 * only the header is kept, QDCOUNT 0.
 */
int dns_writer_init(struct dns_writer *w, const struct dns_query *q, uint8_t *buf,
                    size_t max, bool with_question);

/* Set header flags (e.g. DNS_AA, DNS_TC) and the rcode's low 4 bits. */
void dns_writer_set_flags(struct dns_writer *w, uint16_t flags);
void dns_writer_set_rcode(struct dns_writer *w, uint8_t rcode);

/* Move on to a later section. */
void dns_writer_section(struct dns_writer *w, enum dns_section s);

/*
 * Append one RR: owner (wire name, compressed against names already
 * written), then `rr` = type(2) class(2) ttl(4) rdlength(2) rdata, copied
 * verbatim. `rrlen` is 10 + rdlength. Returns DDI_EOK or DDI_ESPACE.
 */
int dns_writer_put_rr(struct dns_writer *w, const uint8_t *owner, const uint8_t *rr, size_t rrlen);

/*
 * As put_rr but the owner is given as an offset of a name already in the
 * message (e.g. DNS_HDR_LEN for the question name): one 2-byte pointer.
 */
int dns_writer_put_rr_at(struct dns_writer *w, uint16_t owner_off, const uint8_t *rr, size_t rrlen);

/*
 * Append a whole RRset stored as count x [C0 0C, type class ttl rdlen
 * rdata] (the index's blob form). With owner_off == DNS_HDR_LEN the blob is
 * copied as it is (one memcpy); with another non-zero owner_off each RR's
 * pointer is rewritten to it; with owner_off == 0 the `owner` name is
 * written (compressed) for the first RR and pointed to by the rest.
 * All or nothing: DDI_ESPACE leaves the message unchanged.
 */
int dns_writer_put_rrset(struct dns_writer *w, const uint8_t *owner, uint16_t owner_off,
                         const uint8_t *blob, size_t len, uint16_t count);

/* Offset of a name already written in the message that equals `name`, or 0. */
uint16_t dns_writer_find_name(const struct dns_writer *w, const uint8_t *name);

/*
 * Append an OPT RR (RFC 6891): our UDP size, extended rcode bits, version 0,
 * DO echoed, and NSID when `nsid` is not NULL. Written even when it exceeds
 * `max` as long as the buffer holds it: callers reserve dns_opt_size().
 */
int dns_writer_put_opt(struct dns_writer *w, uint16_t udp_size, uint16_t ext_rcode,
                       bool do_bit, const uint8_t *nsid, uint16_t nsid_len, size_t bufcap);
size_t dns_opt_size(uint16_t nsid_len);

/*
 * Append one EDNS option (code, length, `dlen` bytes of data) to the OPT RR
 * at offset `opt_pos` of the finished message `msg` of `len` bytes, which
 * must be its last record (answer_query writes it last): the option goes at
 * the end and the OPT's RDLENGTH grows. Returns the new length, or 0 when
 * `cap` cannot hold it or `opt_pos` is not an OPT that ends the message.
 */
size_t dns_opt_append_option(uint8_t *msg, size_t len, size_t cap, size_t opt_pos,
                             uint16_t code, const uint8_t *data, uint16_t dlen);

/* Write the section counts into the header; returns the message length. */
size_t dns_writer_finish(struct dns_writer *w);

#endif
