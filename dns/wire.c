/* wire -- DNS message parsing as a server receives it, response writing with compression, EDNS0 */
#include <assert.h>
#include <stddef.h>
#include <string.h>

#include "dns/cookie.h"
#include "dns/errcode.h"
#include "dns/wire.h"

#define DNS_T_OPT 41    /* RFC 6891 */
#define DNS_T_TSIG 250  /* RFC 8945 */

#define PTR_MAX 0x3fff  /* highest offset a 14-bit compression pointer reaches */
#define RR_FIXED 10     /* type, class, ttl, rdlength */

static inline uint8_t lc(uint8_t c)
{
	return (c >= 'A' && c <= 'Z') ? (uint8_t)(c + ('a' - 'A')) : c;
}

/* ------------------------------------------------------------------------ */
/* Query parsing                                                            */
/* ------------------------------------------------------------------------ */

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

static enum dns_parse_result parse_question(struct dns_query *q, const uint8_t *wire, size_t len);

/*
 * The general parse: every check in order, every section walked. The
 * common query takes dns_query_parse's own path below; everything else
 * (every malformed message, BADVERS, a query with EDNS options or more
 * records) comes here, so this is the one place that decides outcomes
 * other than OK. Kept as it was before the common path, check for check.
 */
static __attribute__((noinline)) enum dns_parse_result parse_full(struct dns_query *q,
                                                                 const uint8_t *wire, size_t len)
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
	return parse_question(q, wire, len);
}

/*
 * The question and every record after it, the header read and stored in
 * `q` (the rest of which is 0), QR clear and QDCOUNT 1.
 */
static __attribute__((noinline)) enum dns_parse_result parse_question(struct dns_query *q,
                                                                     const uint8_t *wire,
                                                                     size_t len)
{
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

/*
 * Big-endian loads of 8, 2 and 4 bytes, in host order: the header read as
 * words. One load each; dns_get16/dns_get32's byte-wise form made the A
 * query's parse 10 instructions longer (callgrind).
 */
static inline uint64_t get64(const uint8_t *p)
{
	uint64_t v;
	memcpy(&v, p, sizeof(v));
#if __BYTE_ORDER__ == __ORDER_LITTLE_ENDIAN__
	v = __builtin_bswap64(v);
#endif
	return v;
}

static inline uint16_t get16(const uint8_t *p)
{
	uint16_t v;
	memcpy(&v, p, sizeof(v));
#if __BYTE_ORDER__ == __ORDER_LITTLE_ENDIAN__
	v = __builtin_bswap16(v);
#endif
	return v;
}

static inline uint32_t get32(const uint8_t *p)
{
	uint32_t v;
	memcpy(&v, p, sizeof(v));
#if __BYTE_ORDER__ == __ORDER_LITTLE_ENDIAN__
	v = __builtin_bswap32(v);
#endif
	return v;
}

/* Where dns_query_parse stores the words of get64 and get32 (see struct dns_query). */
#if __BYTE_ORDER__ == __ORDER_LITTLE_ENDIAN__
#define WORD_FIRST(a, b) b
#else
#define WORD_FIRST(a, b) a
#endif
#define OFF(f) offsetof(struct dns_query, f)
static_assert(OFF(WORD_FIRST(id, ancount)) + 2 == OFF(WORD_FIRST(flags, qdcount)) &&
              OFF(WORD_FIRST(id, ancount)) + 4 == OFF(WORD_FIRST(qdcount, flags)) &&
              OFF(WORD_FIRST(id, ancount)) + 6 == OFF(WORD_FIRST(ancount, id)),
              "ID, flags, QDCOUNT, ANCOUNT: one word as get64 reads it");
static_assert(OFF(WORD_FIRST(qtype, qclass)) + 2 == OFF(WORD_FIRST(qclass, qtype)),
              "QTYPE, QCLASS: one word as get32 reads it");

static inline void put_word64(struct dns_query *q, size_t off, uint64_t v)
{
	memcpy((uint8_t *)q + off, &v, sizeof(v));
}

static inline void put_word32(struct dns_query *q, size_t off, uint32_t v)
{
	memcpy((uint8_t *)q + off, &v, sizeof(v));
}

static_assert(OFF(tsig_pos) - OFF(WORD_FIRST(nscount, arcount)) == 8 &&
              OFF(has_tsig) - OFF(has_edns) == 3,
              "what the common query sets to constants: two runs of 16 and 4 bytes");

/*
 * The common query, with (edns) or without an OPT at its end: the header
 * checked by dns_query_parse. `edns` is a constant in each of the two
 * copies, so that each knows where the question name must end.
 */
static inline __attribute__((always_inline)) enum dns_parse_result
parse_common(struct dns_query *q, const uint8_t *wire, size_t len, uint64_t h, bool edns)
{
	/*
	 * OPT (RFC 6891 6.1.2) as the last 11 bytes: root owner, type 41, UDP
	 * size, extended rcode, version, flags, and an RDLENGTH of 0 (no
	 * options to walk). Version 0 only (another is BADVERS, 6.1.3) and a
	 * UDP size of at least 512 (below is read as 512, 6.2.3; 512 is 0x0200,
	 * so its high byte tells): parse_full does the rest. Checked first, so
	 * that a query with options (a COOKIE) leaves this path after a few
	 * instructions.
	 */
	const uint8_t *last = wire + len;   /* the OPT is last[-11] to last[-1] */
	if (edns && (last[-11] != 0 || get16(last - 10) != DNS_T_OPT || last[-8] < DNS_UDP_MIN >> 8 ||
	             last[-5] != 0 || get16(last - 2) != 0)) {
		/* the header as parse_full leaves it, so that only the rest is parsed again */
		memset(q, 0, sizeof(*q));
		q->wire = wire;
		q->len = len;
		put_word64(q, OFF(WORD_FIRST(id, ancount)), h);
		q->arcount = 1;
		q->opcode = (uint8_t)DNS_OPCODE(h >> 32);
		return parse_question(q, wire, len);
	}
	/*
	 * So the question name's root label can only be at `root`: before the
	 * type and class, and the OPT when there is one. The name has at least
	 * one label (the root name is left to parse_full) and fits in 255
	 * octets, or this is not our case.
	 */
	size_t root = len - (edns ? 5 + 11 : 5);
	if (root - (DNS_HDR_LEN + 1) > DNS_NAME_MAXLEN - 2 || wire[root] != 0)
		return parse_full(q, wire, len);
	/*
	 * Stored now, so that they need no register through the walk (should
	 * the walk fail, parse_full zeroes the struct and starts again).
	 */
	q->wire = wire;
	q->len = len;
	put_word64(q, OFF(WORD_FIRST(id, ancount)), h);
	q->opcode = (uint8_t)DNS_OPCODE(h >> 32);
	q->qname = wire + DNS_HDR_LEN;

	/*
	 * The question name, no pointer possible (nothing precedes it): labels
	 * of 1 to 63 octets that end exactly at `root` (a label of 0 octets
	 * before it would be the name's end, one over 63 a pointer or a
	 * reserved type). Every byte read lies before `root`.
	 */
	size_t pos = DNS_HDR_LEN;
	unsigned labels = 0;
	for (;;) {
		uint8_t l = wire[pos];
		if (__builtin_expect((uint8_t)(l - 1) >= DNS_LABEL_MAXLEN, 0))
			return parse_full(q, wire, len);
		pos += (size_t)l + 1;
		labels++;
		if (pos >= root)
			break;
	}
	if (pos != root)
		return parse_full(q, wire, len);
	size_t end = root + 1 + 4;
	q->qname_len = (uint8_t)(root + 1 - DNS_HDR_LEN);
	q->qname_labels = (uint8_t)labels;   /* < 128: each takes two of 255 bytes */
	put_word32(q, OFF(WORD_FIRST(qtype, qclass)), get32(wire + root + 1));
	q->question_end = end;
	if (!edns) {
		q->arcount = 0;
		q->nscount = 0;
		q->edns_cookie_off = 0;
		q->edns_cookie_len = 0;
		q->tsig_pos = 0;
		q->has_edns = false;
		q->edns_version = 0;
		q->edns_nsid = false;
		q->has_tsig = false;
		q->edns_do = false;
		q->edns_udp_size = 0;
		q->opt_pos = 0;
		return DNS_PARSE_OK;
	}
	q->edns_do = last[-4] >> 7;
	q->edns_udp_size = get16(last - 8);
	q->opt_pos = end;
	/* ARCOUNT 1; NSCOUNT, the COOKIE offset and length, the TSIG's offset 0 */
	put_word64(q, OFF(WORD_FIRST(nscount, arcount)), WORD_FIRST((uint64_t)1 << 32, 1));
	q->tsig_pos = 0;
	q->has_edns = true;
	q->edns_version = 0;
	q->edns_nsid = false;
	q->has_tsig = false;
	return DNS_PARSE_OK;
}

/*
 * The common query decided once: QR clear, QDCOUNT 1, ANCOUNT and NSCOUNT
 * 0, ARCOUNT 0 (the message ends with the question) or 1 (it ends with an
 * OPT without options, 11 bytes). Anything else, and every message that
 * fails a check on the way, goes to parse_full, which starts again from
 * the first byte: so this path only ever returns OK, and it sets every
 * field of `q` to what parse_full would have left there (nothing is zeroed
 * first; test_parse_ref and fuzz-query compare each field of each return
 * with the parse as it was before this path).
 */
enum dns_parse_result dns_query_parse(struct dns_query *q, const uint8_t *wire, size_t len)
{
	if (wire == NULL || len < DNS_HDR_LEN)
		return parse_full(q, wire, len);
	uint64_t h = get64(wire);           /* ID, flags, QDCOUNT, ANCOUNT */
	uint32_t c = get32(wire + 8);       /* NSCOUNT, ARCOUNT */
	/* QR clear (a response gets no answer), QDCOUNT 1, ANCOUNT 0 */
	if ((h & ((uint64_t)DNS_QR << 32 | 0xffffffffu)) != (uint64_t)1 << 16)
		return parse_full(q, wire, len);
	if (c == 1)
		return parse_common(q, wire, len, h, true);
	if (c == 0)
		return parse_common(q, wire, len, h, false);
	return parse_full(q, wire, len);
}

/* ------------------------------------------------------------------------ */
/* Response writer                                                          */
/* ------------------------------------------------------------------------ */

/*
 * Compression. The table holds the offsets of names written with at least
 * one label in full (the question name first) and their label counts. To
 * compress a name of n labels against an entry of m labels, both are
 * aligned on their last min(n, m) labels and compared label by label from
 * there (following the entry's pointers inside the message); the longest
 * common suffix starts right after the last mismatch. Names written by this
 * writer only point backwards, so a walk is at most 127 labels plus the
 * pointers between them; it is bounded by a step count all the same.
 */

struct suffix {
	uint16_t off;     /* where the matched suffix starts in the message */
	uint8_t labels;   /* how many labels of the name it covers (0: none) */
};

/* Label starts of a wire name; returns the label count. */
static int name_labels(const uint8_t *name, const uint8_t *lab[DNS_NAME_MAXLABELS])
{
	int n = 0;

	while (*name != 0 && n < DNS_NAME_MAXLABELS) {
		lab[n++] = name;
		name += *name + 1;
	}
	return n;
}

static inline bool label_eq(const uint8_t *a, const uint8_t *b)
{
	if (a[0] != b[0])
		return false;
	for (uint8_t i = 1; i <= a[0]; i++)
		if (lc(a[i]) != lc(b[i]))
			return false;
	return true;
}

/*
 * Offset of the next label at or after `p`, following pointers; SIZE_MAX if
 * the walk leaves the written message or runs too long.
 */
static inline size_t follow(const struct dns_writer *w, size_t p, unsigned *steps)
{
	while (p < w->len && (w->buf[p] & 0xc0) == 0xc0) {
		if (p + 1 >= w->len || ++*steps > 2 * DNS_NAME_MAXLABELS)
			return SIZE_MAX;
		p = (size_t)(w->buf[p] & 0x3f) << 8 | w->buf[p + 1];
	}
	return p < w->len ? p : SIZE_MAX;
}

static struct suffix best_suffix(const struct dns_writer *w, const uint8_t **lab, int n)
{
	struct suffix best = { 0, 0 };

	for (unsigned e = 0; e < w->ncompr && best.labels < n; e++) {
		int m = w->compr[e].labels;
		int k = m < n ? m : n;
		unsigned steps = 0;
		size_t p = w->compr[e].off;

		/* Skip the entry's extra leading labels. */
		for (int s = 0; s < m - k && p != SIZE_MAX; s++) {
			p = follow(w, p, &steps);
			if (p != SIZE_MAX)
				p += (size_t)w->buf[p] + 1;
		}
		size_t cand = SIZE_MAX;
		int cand_i = 0;
		for (int i = n - k; i < n && p != SIZE_MAX; i++) {
			p = follow(w, p, &steps);
			if (p == SIZE_MAX || w->buf[p] == 0 || p + 1 + w->buf[p] > w->len)
				break;
			if (!label_eq(w->buf + p, lab[i]))
				cand = SIZE_MAX;
			else if (cand == SIZE_MAX && p <= PTR_MAX)
				cand = p, cand_i = i;
			p += (size_t)w->buf[p] + 1;
			if (i + 1 == n && cand != SIZE_MAX && n - cand_i > best.labels) {
				best.off = (uint16_t)cand;
				best.labels = (uint8_t)(n - cand_i);
			}
		}
	}
	return best;
}

/*
 * How `owner` will be written: its first n - s.labels labels in full, then
 * a pointer to s.off, or the root label when nothing matched. Returns the
 * encoded length.
 */
static size_t owner_plan(const struct dns_writer *w, const uint8_t *owner, int *n_out,
                         size_t *prefix_out, struct suffix *s_out)
{
	const uint8_t *lab[DNS_NAME_MAXLABELS];
	int n = name_labels(owner, lab);
	struct suffix s = best_suffix(w, lab, n);
	size_t prefix;

	if (s.labels == 0)
		prefix = dns_name_len(owner) - 1;
	else if (s.labels < n)
		prefix = (size_t)(lab[n - s.labels] - owner);
	else
		prefix = 0;
	*n_out = n;
	*prefix_out = prefix;
	*s_out = s;
	return prefix + (s.labels > 0 ? 2 : 1);
}

/* Write the planned owner at w->len (room already checked) and remember it. */
static void owner_write(struct dns_writer *w, const uint8_t *owner, int n, size_t prefix,
                        struct suffix s)
{
	uint8_t *d = w->buf + w->len;
	size_t at = w->len;

	memcpy(d, owner, prefix);
	if (s.labels > 0) {
		dns_put16(d + prefix, (uint16_t)(0xc000 | s.off));
		w->len += prefix + 2;
	} else {
		d[prefix] = 0;
		w->len += prefix + 1;
	}
	if (prefix > 0 && at <= PTR_MAX && w->ncompr < DNS_COMPR_SLOTS) {
		w->compr[w->ncompr].off = (uint16_t)at;
		w->compr[w->ncompr].labels = (uint8_t)n;
		w->ncompr++;
	}
}

int dns_writer_init(struct dns_writer *w, const struct dns_query *q, uint8_t *buf,
                    size_t max, bool with_question)
{
	if (w == NULL || q == NULL || buf == NULL || q->wire == NULL || q->len < DNS_HDR_LEN)
		return DDI_EINVAL;
	if (with_question && (q->qname == NULL || q->question_end > q->len))
		return DDI_EINVAL;
	size_t keep = with_question ? q->question_end : DNS_HDR_LEN;
	if (max > DNS_MSG_MAX)
		max = DNS_MSG_MAX;
	if (keep > max)
		return DDI_ESPACE;

	memset(w, 0, sizeof(*w));
	w->buf = buf;
	w->max = max;
	w->len = keep;
	w->section = DNS_SEC_ANSWER;
	if (buf != q->wire)
		memmove(buf, q->wire, keep);

	/* RFC 1035 4.1.1: QR set, ID/opcode/RD copied; RFC 4035 3.2.2: CD too. */
	uint16_t f = q->flags & (0x7800 | DNS_RD | DNS_CD);
	dns_put16(buf + 2, (uint16_t)(f | DNS_QR));
	dns_put16(buf + 4, with_question ? 1 : 0);
	memset(buf + 6, 0, 6);
	if (with_question && q->qname_len > 1) {
		w->compr[0].off = DNS_HDR_LEN;
		w->compr[0].labels = (uint8_t)dns_name_labels(buf + DNS_HDR_LEN);
		w->ncompr = 1;
	}
	return DDI_EOK;
}

void dns_writer_set_flags(struct dns_writer *w, uint16_t flags)
{
	/* QR, opcode and rcode have their own rules; only the flag bits here. */
	flags &= (uint16_t)~(DNS_QR | 0x7800 | 0x000f);
	dns_put16(w->buf + 2, dns_get16(w->buf + 2) | flags);
}

void dns_writer_set_rcode(struct dns_writer *w, uint8_t rcode)
{
	dns_put16(w->buf + 2, (uint16_t)((dns_get16(w->buf + 2) & ~0x000f) | (rcode & 0x0f)));
}

void dns_writer_section(struct dns_writer *w, enum dns_section s)
{
	/* Records are appended, so a section once left cannot be reopened. */
	if (s > w->section && s <= DNS_SEC_ADDITIONAL)
		w->section = s;
}

/* rr = type class ttl rdlength rdata, and rdlength must match rrlen. */
static inline bool rr_ok(const uint8_t *rr, size_t rrlen)
{
	return rr != NULL && rrlen >= RR_FIXED && rrlen - RR_FIXED == dns_get16(rr + 8);
}

int dns_writer_put_rr(struct dns_writer *w, const uint8_t *owner, const uint8_t *rr, size_t rrlen)
{
	int n;
	size_t prefix;
	struct suffix s;

	if (owner == NULL || !rr_ok(rr, rrlen))
		return DDI_EINVAL;
	if (w->count[w->section] == UINT16_MAX)
		return DDI_ESPACE;
	size_t olen = owner_plan(w, owner, &n, &prefix, &s);
	if (w->len + olen + rrlen > w->max)
		return DDI_ESPACE;
	owner_write(w, owner, n, prefix, s);
	memcpy(w->buf + w->len, rr, rrlen);
	w->len += rrlen;
	w->count[w->section]++;
	return DDI_EOK;
}

int dns_writer_put_rr_at(struct dns_writer *w, uint16_t owner_off, const uint8_t *rr, size_t rrlen)
{
	if (!rr_ok(rr, rrlen) || owner_off < DNS_HDR_LEN || owner_off > PTR_MAX ||
	    owner_off >= w->len)
		return DDI_EINVAL;
	if (w->count[w->section] == UINT16_MAX)
		return DDI_ESPACE;
	if (w->len + 2 + rrlen > w->max)
		return DDI_ESPACE;
	uint8_t *d = w->buf + w->len;
	dns_put16(d, (uint16_t)(0xc000 | owner_off));
	memcpy(d + 2, rr, rrlen);
	w->len += 2 + rrlen;
	w->count[w->section]++;
	return DDI_EOK;
}

/* Walk a blob: every RR is 2 + 10 + rdlength bytes and they fill it exactly. */
static bool blob_ok(const uint8_t *blob, size_t len, uint16_t count)
{
	size_t p = 0;

	for (uint16_t i = 0; i < count; i++) {
		if (len - p < 2 + RR_FIXED)
			return false;
		p += 2 + RR_FIXED + dns_get16(blob + p + 2 + 8);
		if (p > len)
			return false;
	}
	return p == len;
}

int dns_writer_put_rrset(struct dns_writer *w, const uint8_t *owner, uint16_t owner_off,
                         const uint8_t *blob, size_t len, uint16_t count)
{
	if (blob == NULL || count == 0)
		return count == 0 && len == 0 ? DDI_EOK : DDI_EINVAL;
	if ((uint32_t)w->count[w->section] + count > UINT16_MAX)
		return DDI_ESPACE;

	/* Fast path: the owner is the question name, the blob is the answer. */
	if (owner_off == DNS_HDR_LEN) {
		if (dns_get16(w->buf + 4) == 0)
			return DDI_EINVAL;  /* no question to point at */
		if (w->len + len > w->max)
			return DDI_ESPACE;
		memcpy(w->buf + w->len, blob, len);
		w->len += len;
		w->count[w->section] += count;
		return DDI_EOK;
	}

	if (!blob_ok(blob, len, count))
		return DDI_EINVAL;

	if (owner_off != 0) {
		if (owner_off < DNS_HDR_LEN || owner_off > PTR_MAX || owner_off >= w->len)
			return DDI_EINVAL;
		if (w->len + len > w->max)
			return DDI_ESPACE;
		uint8_t *d = w->buf + w->len;
		memcpy(d, blob, len);
		uint16_t ptr = (uint16_t)(0xc000 | owner_off);
		for (size_t p = 0; p < len; p += 2 + RR_FIXED + dns_get16(d + p + 2 + 8))
			dns_put16(d + p, ptr);
		w->len += len;
		w->count[w->section] += count;
		return DDI_EOK;
	}

	/*
	 * Owner by name: written (compressed) before the first RR, the others
	 * point at it. Where it cannot be pointed to (past 16 KiB, TCP only),
	 * each RR repeats the same compressed form.
	 */
	if (owner == NULL)
		return DDI_EINVAL;
	int n;
	size_t prefix;
	struct suffix s;
	size_t olen = owner_plan(w, owner, &n, &prefix, &s);
	size_t at = w->len;
	uint16_t ref;
	size_t rest_owner;
	if (prefix > 0 && at <= PTR_MAX) {
		ref = (uint16_t)at;
		rest_owner = 2;
	} else if (prefix == 0 && s.labels > 0) {
		ref = s.off;             /* the owner is one pointer already */
		rest_owner = 2;
	} else if (prefix == 0) {
		ref = 0;                 /* the root: one byte is shorter than a pointer */
		rest_owner = 1;
	} else {
		ref = 0;
		rest_owner = olen;
	}
	/* Each RR of the blob brings 2 bytes of owner pointer, replaced here. */
	size_t need = len - 2 * (size_t)count + olen + rest_owner * (count - 1u);
	if (w->len + need > w->max)
		return DDI_ESPACE;

	owner_write(w, owner, n, prefix, s);
	const uint8_t *first_owner = w->buf + at;
	size_t p = 0;
	for (uint16_t i = 0; i < count; i++) {
		size_t body = RR_FIXED + dns_get16(blob + p + 2 + 8);
		uint8_t *d = w->buf + w->len;
		if (i > 0) {
			if (rest_owner == 2) {
				dns_put16(d, (uint16_t)(0xc000 | ref));
			} else {
				/* memmove: first_owner lies in the same buffer, earlier. */
				memmove(d, first_owner, rest_owner);
			}
			d += rest_owner;
			w->len += rest_owner;
		}
		memcpy(d, blob + p + 2, body);
		w->len += body;
		p += 2 + body;
	}
	w->count[w->section] += count;
	return DDI_EOK;
}

uint16_t dns_writer_find_name(const struct dns_writer *w, const uint8_t *name)
{
	const uint8_t *lab[DNS_NAME_MAXLABELS];
	int n = name_labels(name, lab);

	if (n == 0)
		return 0;
	struct suffix s = best_suffix(w, lab, n);
	return s.labels == n ? s.off : 0;
}

size_t dns_opt_size(uint16_t nsid_len)
{
	/* Root owner, type, class, TTL, rdlength; NSID adds code, length, data. */
	return 1 + RR_FIXED + (nsid_len > 0 ? 4u + nsid_len : 0u);
}

int dns_writer_put_opt(struct dns_writer *w, uint16_t udp_size, uint16_t ext_rcode,
                       bool do_bit, const uint8_t *nsid, uint16_t nsid_len, size_t bufcap)
{
	if (nsid == NULL)
		nsid_len = 0;
	size_t need = dns_opt_size(nsid_len);
	if (w->count[DNS_SEC_ADDITIONAL] == UINT16_MAX)
		return DDI_ESPACE;
	/* The caller reserved this room below `max`: only the buffer limits it. */
	if (w->len + need > bufcap || w->len + need > DNS_MSG_MAX)
		return DDI_ESPACE;

	uint8_t *d = w->buf + w->len;
	d[0] = 0;
	dns_put16(d + 1, DNS_T_OPT);
	dns_put16(d + 3, udp_size < DNS_UDP_MIN ? DNS_UDP_MIN : udp_size);
	/* RFC 6891 6.1.3: extended rcode (upper 8 bits), version 0, DO, Z = 0. */
	dns_put32(d + 5, (uint32_t)(ext_rcode & 0xff) << 24 | (do_bit ? 0x8000u : 0u));
	dns_put16(d + 9, (uint16_t)(need - 1 - RR_FIXED));
	if (nsid_len > 0) {
		dns_put16(d + 11, DNS_EDNS_OPT_NSID);
		dns_put16(d + 13, nsid_len);
		memcpy(d + 15, nsid, nsid_len);
	}
	w->len += need;
	w->section = DNS_SEC_ADDITIONAL;
	w->count[DNS_SEC_ADDITIONAL]++;
	return DDI_EOK;
}

size_t dns_opt_append_option(uint8_t *msg, size_t len, size_t cap, size_t opt_pos,
                             uint16_t code, const uint8_t *data, uint16_t dlen)
{
	if (opt_pos < DNS_HDR_LEN || opt_pos + 1 + RR_FIXED > len || msg[opt_pos] != 0 ||
	    dns_get16(msg + opt_pos + 1) != DNS_T_OPT)
		return 0;
	size_t rdlen = dns_get16(msg + opt_pos + 9);
	size_t grown = rdlen + 4u + dlen;
	if (opt_pos + 1 + RR_FIXED + rdlen != len || grown > UINT16_MAX ||
	    len + 4u + dlen > cap || len + 4u + dlen > DNS_MSG_MAX)
		return 0;
	dns_put16(msg + len, code);
	dns_put16(msg + len + 2, dlen);
	memcpy(msg + len + 4, data, dlen);
	dns_put16(msg + opt_pos + 9, (uint16_t)grown);
	return len + 4u + dlen;
}

size_t dns_writer_finish(struct dns_writer *w)
{
	dns_put16(w->buf + 6, w->count[DNS_SEC_ANSWER]);
	dns_put16(w->buf + 8, w->count[DNS_SEC_AUTHORITY]);
	dns_put16(w->buf + 10, w->count[DNS_SEC_ADDITIONAL]);
	return w->len;
}
