/* wire_ref -- the query parse of dns/wire.c before its fast path, kept verbatim as the oracle of test_parse_ref */
#include <string.h>

#include "dns/cookie.h"
#include "dns/errcode.h"
#include "tests/dns/wire_ref.h"

#define DNS_T_OPT 41    /* RFC 6891 */
#define DNS_T_TSIG 250  /* RFC 8945 */
#define RR_FIXED 10     /* type, class, ttl, rdlength */

/*
 * This is dns_query_parse as it was before the common query got its own
 * path (one walk, memset of the whole struct, every check in order): do
 * not optimize it. test_parse_ref and fuzz-query compare the production
 * parse with it, outcome and every field, for every input they make.
 */

/*
 * Skip a possibly compressed name at *pos with the checks of dns_name_parse
 * (backward pointers only, bounds, label types, 255 octets) but without
 * copying it. Returns the uncompressed length or a negative error.
 */
static int name_skip(const uint8_t *msg, size_t msglen, size_t *pos)
{
	size_t p = *pos, seg = p, after = 0, olen = 0;

	for (;;) {
		if (p >= msglen)
			return DDI_ETRUNC;
		uint8_t l = msg[p];
		if ((l & 0xc0) == 0xc0) {
			if (p + 1 >= msglen)
				return DDI_ETRUNC;
			size_t target = (size_t)(l & 0x3f) << 8 | msg[p + 1];
			/* Below the start of the current run: see dns_name_parse. */
			if (target >= seg)
				return DDI_ECOMPR;
			if (after == 0)
				after = p + 2;
			p = seg = target;
			continue;
		}
		if (l > DNS_LABEL_MAXLEN)
			return DDI_ELABEL;
		if (l == 0)
			break;
		olen += (size_t)l + 1;
		if (olen + 1 > DNS_NAME_MAXLEN)
			return DDI_ENAMELEN;
		p += (size_t)l + 1;
	}
	*pos = after != 0 ? after : p + 1;
	return (int)olen + 1;
}

/*
 * The OPT RR (RFC 6891 6.1): `rr` points at its fixed part (type onwards),
 * its rdata is [rd, rd+rdlen), already known to lie inside the message.
 */
static enum dns_parse_result parse_opt(struct dns_query *q, const uint8_t *rr,
                                       const uint8_t *rd, uint16_t rdlen)
{
	uint16_t udp = dns_get16(rr + 2);

	q->has_edns = true;
	/* RFC 6891 6.2.3: values below 512 are treated as 512. */
	q->edns_udp_size = udp < DNS_UDP_MIN ? DNS_UDP_MIN : udp;
	q->edns_version = rr[5];
	q->edns_do = (dns_get16(rr + 6) & 0x8000) != 0;
	/* RFC 6891 6.1.3: options of an unknown version mean nothing to us. */
	if (q->edns_version != 0)
		return DNS_PARSE_BADVERS;

	/* Options: code(2) length(2) data; unknown ones are ignored (6.1.2). */
	size_t o = 0;
	while (o < rdlen) {
		if (rdlen - o < 4)
			return DNS_PARSE_FORMERR;
		uint16_t code = dns_get16(rd + o);
		uint16_t olen = dns_get16(rd + o + 2);
		o += 4;
		if (olen > rdlen - o)
			return DNS_PARSE_FORMERR;
		if (code == DNS_EDNS_OPT_NSID) {
			q->edns_nsid = true;
		} else if (code == DNS_EDNS_OPT_COOKIE && q->edns_cookie_off == 0) {
			/* its length is judged by the cookie policy (RFC 7873 5.2.2), not here */
			q->edns_cookie_off = (uint16_t)(rd + o - q->wire);
			q->edns_cookie_len = olen;
		}
		o += olen;
	}
	return DNS_PARSE_OK;
}

enum dns_parse_result ref_query_parse(struct dns_query *q, const uint8_t *wire, size_t len)
{
	memset(q, 0, sizeof(*q));
	q->wire = wire;
	q->len = len;

	/* RFC 1035 4.1.1: no header, or a response, gets no answer at all. */
	if (wire == NULL || len < DNS_HDR_LEN)
		return DNS_PARSE_DROP;
	q->id = dns_get16(wire);
	q->flags = dns_get16(wire + 2);
	if (q->flags & DNS_QR)
		return DNS_PARSE_DROP;
	q->opcode = DNS_OPCODE(q->flags);
	q->qdcount = dns_get16(wire + 4);
	q->ancount = dns_get16(wire + 6);
	q->nscount = dns_get16(wire + 8);
	q->arcount = dns_get16(wire + 10);

	/*
	 * One question for QUERY and NOTIFY (RFC 1996 3.7), one zone for UPDATE
	 * (RFC 2136 2.3): every opcode we know has exactly one.
	 */
	if (q->qdcount != 1)
		return DNS_PARSE_FORMERR;

	/* The question name: nothing precedes it, so a pointer is malformed. */
	size_t pos = DNS_HDR_LEN;
	unsigned labels = 0;
	for (;; labels++) {
		if (pos >= len)
			return DNS_PARSE_FORMERR;
		uint8_t l = wire[pos];
		if (l == 0)
			break;
		if (l > DNS_LABEL_MAXLEN)
			return DNS_PARSE_FORMERR;  /* pointer or reserved label type */
		pos += (size_t)l + 1;
		if (pos - DNS_HDR_LEN + 1 > DNS_NAME_MAXLEN)
			return DNS_PARSE_FORMERR;
	}
	q->qname_labels = (uint8_t)labels;   /* < 128: each takes two of 255 bytes */
	pos++;
	if (len - pos < 4)
		return DNS_PARSE_FORMERR;
	q->qname = wire + DNS_HDR_LEN;
	q->qname_len = (uint8_t)(pos - DNS_HDR_LEN);
	q->qtype = dns_get16(wire + pos);
	q->qclass = dns_get16(wire + pos + 2);
	pos += 4;
	q->question_end = pos;

	/* Fast path: a plain query ends here. */
	uint32_t total = (uint32_t)q->ancount + q->nscount + q->arcount;
	if (total == 0)
		return pos == len ? DNS_PARSE_OK : DNS_PARSE_FORMERR;
	/*
	 * The other common case: one OPT without options, the last 11 bytes
	 * (root owner, type, UDP size, extended rcode, version, flags, rdlength
	 * 0). What the walk below finds for it, without the walk.
	 */
	if (total == 1 && q->arcount == 1 && len - pos == 11 && wire[pos] == 0 &&
	    dns_get16(wire + pos + 1) == DNS_T_OPT && dns_get16(wire + pos + 9) == 0) {
		const uint8_t *rr = wire + pos + 1;   /* as parse_opt, with no options to walk */
		uint16_t udp = dns_get16(rr + 2);
		q->opt_pos = pos;
		q->has_edns = true;
		q->edns_udp_size = udp < DNS_UDP_MIN ? DNS_UDP_MIN : udp;
		q->edns_version = rr[5];
		q->edns_do = (rr[6] & 0x80) != 0;
		return q->edns_version != 0 ? DNS_PARSE_BADVERS : DNS_PARSE_OK;
	}

	/* Walk every record; one OPT and a last TSIG may sit in additional. */
	uint32_t first_ar = (uint32_t)q->ancount + q->nscount;
	enum dns_parse_result res = DNS_PARSE_OK;
	for (uint32_t i = 0; i < total; i++) {
		size_t start = pos;
		int nl = name_skip(wire, len, &pos);
		if (nl < 0)
			return DNS_PARSE_FORMERR;
		if (len - pos < RR_FIXED)
			return DNS_PARSE_FORMERR;
		const uint8_t *rr = wire + pos;
		uint16_t type = dns_get16(rr);
		uint16_t rdlen = dns_get16(rr + 8);
		pos += RR_FIXED;
		if (rdlen > len - pos)
			return DNS_PARSE_FORMERR;

		if (type == DNS_T_OPT) {
			/* RFC 6891 6.1.1: only in additional, root owner, only one. */
			if (i < first_ar || nl != 1 || q->has_edns)
				return DNS_PARSE_FORMERR;
			q->opt_pos = start;
			enum dns_parse_result r = parse_opt(q, rr, wire + pos, rdlen);
			if (r == DNS_PARSE_FORMERR)
				return r;
			/* BADVERS only if nothing after it is malformed. */
			res = r;
		} else if (type == DNS_T_TSIG) {
			/* RFC 8945 5.1: the last record of additional, else FORMERR. */
			if (i + 1 != total || i < first_ar)
				return DNS_PARSE_FORMERR;
			q->has_tsig = true;
			q->tsig_pos = start;
		}
		pos += rdlen;
	}
	if (pos != len)
		return DNS_PARSE_FORMERR;
	return res;
}

/* Every field of struct dns_query by name (not its padding, which no one reads). */
#define QUERY_FIELDS(X) \
	X(wire) X(len) X(id) X(flags) X(opcode) X(qdcount) X(ancount) X(nscount) X(arcount) \
	X(qname) X(qname_len) X(qname_labels) X(qtype) X(qclass) X(question_end) X(has_edns) \
	X(edns_version) X(edns_do) X(edns_nsid) X(edns_udp_size) X(edns_cookie_off) \
	X(edns_cookie_len) X(opt_pos) X(has_tsig) X(tsig_pos)

const char *ref_query_diff(const struct dns_query *a, const struct dns_query *b)
{
#define CMP(f) if (a->f != b->f) return #f;
	QUERY_FIELDS(CMP)
#undef CMP
	return NULL;
}

const char *ref_query_check(const uint8_t *wire, size_t len, enum dns_parse_result *res)
{
	static const uint8_t fills[] = { 0x00, 0xa5, 0xff };
	struct dns_query ref, q;

	memset(&ref, 0x5a, sizeof(ref));
	*res = ref_query_parse(&ref, wire, len);
	for (size_t i = 0; i < sizeof(fills); i++) {
		memset(&q, fills[i], sizeof(q));
		if (dns_query_parse(&q, wire, len) != *res)
			return "result";
		const char *f = ref_query_diff(&q, &ref);
		if (f != NULL)
			return f;
	}
	return NULL;
}
