/* test_wire -- dns/wire.c: query parsing limits, response writer, compression, EDNS0 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "dns/errcode.h"
#include "dns/name.h"
#include "dns/wire.h"

#define T_A 1
#define T_NS 2
#define T_OPT 41
#define T_TSIG 250

/* ------------------------------------------------------------------------ */
/* Message building helpers                                                 */
/* ------------------------------------------------------------------------ */

struct msg {
	uint8_t b[4096];
	size_t len;
};

static void put(struct msg *m, const void *p, size_t n)
{
	assert_true(m->len + n <= sizeof(m->b));
	memcpy(m->b + m->len, p, n);
	m->len += n;
}

static void put16(struct msg *m, uint16_t v)
{
	uint8_t b[2];
	dns_put16(b, v);
	put(m, b, 2);
}

static void put32(struct msg *m, uint32_t v)
{
	uint8_t b[4];
	dns_put32(b, v);
	put(m, b, 4);
}

static size_t wname(uint8_t out[DNS_NAME_MAXLEN], const char *s)
{
	int r = dns_name_from_str(out, s, strlen(s), NULL);
	assert_true(r > 0);
	return (size_t)r;
}

static void put_name(struct msg *m, const char *s)
{
	uint8_t n[DNS_NAME_MAXLEN];
	put(m, n, wname(n, s));
}

static void set_count(struct msg *m, int idx, uint16_t v)
{
	dns_put16(m->b + 4 + 2 * idx, v);
}

/* Header with the given flags and counts 1/0/0/0, then one question. */
static void query(struct msg *m, uint16_t flags, const char *qname, uint16_t qtype)
{
	m->len = 0;
	put16(m, 0x1234);
	put16(m, flags);
	put16(m, 1);
	put16(m, 0);
	put16(m, 0);
	put16(m, 0);
	put_name(m, qname);
	put16(m, qtype);
	put16(m, 1);
}

/* An RR with its fixed part; rdata given verbatim. */
static void rr(struct msg *m, uint16_t type, uint16_t class, uint32_t ttl, const void *rd,
               uint16_t rdlen)
{
	put16(m, type);
	put16(m, class);
	put32(m, ttl);
	put16(m, rdlen);
	if (rdlen > 0)
		put(m, rd, rdlen);
}

/* OPT with root owner; `opts` is the raw option area. */
static void opt(struct msg *m, uint16_t udp, uint8_t version, bool do_bit, const void *opts,
                uint16_t optlen)
{
	uint8_t root = 0;
	put(m, &root, 1);
	rr(m, T_OPT, udp, (uint32_t)version << 16 | (do_bit ? 0x8000u : 0u), opts, optlen);
}

/* Parse a copy in a heap buffer of exactly the message's length, so that
 * ASan sees any read past the end. */
static enum dns_parse_result parse(struct dns_query *q, const struct msg *m, uint8_t **copy)
{
	*copy = malloc(m->len ? m->len : 1);
	assert_non_null(*copy);
	memcpy(*copy, m->b, m->len);
	return dns_query_parse(q, *copy, m->len);
}

static enum dns_parse_result parse_once(const struct msg *m)
{
	struct dns_query q;
	uint8_t *c;
	enum dns_parse_result r = parse(&q, m, &c);
	free(c);
	return r;
}

/* ------------------------------------------------------------------------ */
/* Query parsing                                                            */
/* ------------------------------------------------------------------------ */

static void test_parse_ok(void **state)
{
	(void)state;
	struct msg m;
	struct dns_query q;
	uint8_t *c;

	query(&m, DNS_RD | DNS_CD, "WWW.example.com.", T_A);
	assert_int_equal(parse(&q, &m, &c), DNS_PARSE_OK);
	assert_int_equal(q.id, 0x1234);
	assert_int_equal(q.flags, DNS_RD | DNS_CD);
	assert_int_equal(q.opcode, DNS_OP_QUERY);
	assert_int_equal(q.qdcount, 1);
	assert_ptr_equal(q.qname, c + 12);
	assert_int_equal(q.qname_len, 17);
	assert_memory_equal(q.qname, "\3WWW\7example\3com\0", 17);
	assert_int_equal(q.qtype, T_A);
	assert_int_equal(q.qclass, DNS_CLASS_IN);
	assert_int_equal(q.question_end, 12 + 17 + 4);
	assert_false(q.has_edns);
	assert_false(q.has_tsig);
	assert_int_equal(dns_query_udp_max(&q, 4096), 512);
	free(c);

	/* Root qname. */
	query(&m, 0, ".", T_NS);
	assert_int_equal(parse(&q, &m, &c), DNS_PARSE_OK);
	assert_int_equal(q.qname_len, 1);
	free(c);
}

static void test_parse_drop(void **state)
{
	(void)state;
	struct msg m;
	struct dns_query q;

	query(&m, 0, "a.", T_A);
	assert_int_equal(dns_query_parse(&q, m.b, 11), DNS_PARSE_DROP);
	assert_int_equal(dns_query_parse(&q, m.b, 0), DNS_PARSE_DROP);
	assert_int_equal(dns_query_parse(&q, NULL, 0), DNS_PARSE_DROP);
	/* QR set: never answer a response. */
	query(&m, DNS_QR, "a.", T_A);
	assert_int_equal(parse_once(&m), DNS_PARSE_DROP);
	/* A bare header with QR clear and no question is FORMERR, not DROP. */
	assert_int_equal(dns_query_parse(&q, (const uint8_t *)"\0\1\0\0\0\0\0\0\0\0\0\0", 12),
	                 DNS_PARSE_FORMERR);
	assert_int_equal(q.id, 1);
}

static void test_parse_qdcount(void **state)
{
	(void)state;
	struct msg m;
	struct dns_query q;
	uint8_t *c;

	query(&m, 0, "a.", T_A);
	set_count(&m, 0, 0);
	assert_int_equal(parse(&q, &m, &c), DNS_PARSE_FORMERR);
	assert_null(q.qname);
	assert_int_equal(q.id, 0x1234);
	free(c);
	/* Two questions, both present. */
	query(&m, 0, "a.", T_A);
	put_name(&m, "b.");
	put16(&m, T_A);
	put16(&m, 1);
	set_count(&m, 0, 2);
	assert_int_equal(parse_once(&m), DNS_PARSE_FORMERR);
	/* UPDATE needs exactly one zone, NOTIFY one question. */
	query(&m, DNS_OP_UPDATE << 11, "example.", 6);
	set_count(&m, 0, 0);
	assert_int_equal(parse_once(&m), DNS_PARSE_FORMERR);
	query(&m, DNS_OP_NOTIFY << 11, "example.", 6);
	set_count(&m, 0, 2);
	assert_int_equal(parse_once(&m), DNS_PARSE_FORMERR);
}

static void test_parse_question_truncated(void **state)
{
	(void)state;
	struct msg m;
	struct dns_query q;

	query(&m, 0, "www.example.com.", T_A);
	/* Every cut inside the question is FORMERR, and keeps no qname. */
	for (size_t l = 12; l < m.len; l++) {
		uint8_t *c = malloc(l);
		memcpy(c, m.b, l);
		assert_int_equal(dns_query_parse(&q, c, l), DNS_PARSE_FORMERR);
		assert_null(q.qname);
		free(c);
	}
	assert_int_equal(parse_once(&m), DNS_PARSE_OK);
}

static void test_parse_question_name(void **state)
{
	(void)state;
	struct msg m;

	/* Label of 64 (0x40 is also a reserved label type). */
	query(&m, 0, "a.", T_A);
	m.len = 12;
	uint8_t l64[66];
	l64[0] = 64;
	memset(l64 + 1, 'x', 64);
	l64[65] = 0;
	put(&m, l64, 66);
	put16(&m, T_A);
	put16(&m, 1);
	assert_int_equal(parse_once(&m), DNS_PARSE_FORMERR);
	/* Label of 63 is fine. */
	m.b[12] = 63;
	m.b[12 + 64] = 0;
	m.len = 12 + 65;
	put16(&m, T_A);
	put16(&m, 1);
	assert_int_equal(parse_once(&m), DNS_PARSE_OK);
	/* 0x80 label type. */
	m.b[12] = 0x80;
	assert_int_equal(parse_once(&m), DNS_PARSE_FORMERR);
	/* A pointer in the question (to the header). */
	query(&m, 0, "a.", T_A);
	m.len = 12;
	put(&m, "\300\002", 2);
	put16(&m, T_A);
	put16(&m, 1);
	assert_int_equal(parse_once(&m), DNS_PARSE_FORMERR);
	/* 256 octets: 4 labels of 63 + root = 257. 255 is fine. */
	m.len = 12;
	for (int i = 0; i < 4; i++) {
		uint8_t lab[64];
		lab[0] = i == 3 ? 61 : 63;
		memset(lab + 1, 'a', 63);
		put(&m, lab, (size_t)lab[0] + 1);
	}
	put(&m, "\0", 1);
	put16(&m, T_A);
	put16(&m, 1);
	assert_int_equal(m.len, 12 + 255 + 4);
	assert_int_equal(parse_once(&m), DNS_PARSE_OK);
	m.len = 12;
	for (int i = 0; i < 4; i++) {
		uint8_t lab[64];
		lab[0] = i == 3 ? 62 : 63;
		memset(lab + 1, 'a', 63);
		put(&m, lab, (size_t)lab[0] + 1);
	}
	put(&m, "\0", 1);
	put16(&m, T_A);
	put16(&m, 1);
	assert_int_equal(parse_once(&m), DNS_PARSE_FORMERR);
}

/* The question "a." is at offset 12 ("\1a\0"), so RRs can point at 12. */
static void base(struct msg *m, uint16_t an, uint16_t ns, uint16_t ar)
{
	query(m, 0, "a.", T_A);
	set_count(m, 1, an);
	set_count(m, 2, ns);
	set_count(m, 3, ar);
}

static const uint8_t addr[4] = { 198, 18, 0, 1 };

static void test_parse_records(void **state)
{
	(void)state;
	struct msg m;

	/* A good answer section: owner pointer, plain owner, root owner. */
	base(&m, 3, 0, 0);
	put(&m, "\300\014", 2);
	rr(&m, T_A, 1, 60, addr, 4);
	put_name(&m, "b.a.");
	rr(&m, T_A, 1, 60, addr, 4);
	put(&m, "\1c\300\014", 4);
	rr(&m, T_A, 1, 60, addr, 4);
	assert_int_equal(parse_once(&m), DNS_PARSE_OK);

	/* ancount larger than the records present. */
	set_count(&m, 1, 4);
	assert_int_equal(parse_once(&m), DNS_PARSE_FORMERR);
	set_count(&m, 1, 3);
	/* ... and smaller: the rest is trailing garbage. */
	set_count(&m, 1, 2);
	assert_int_equal(parse_once(&m), DNS_PARSE_FORMERR);
	set_count(&m, 1, 3);
	/* Trailing byte after the last record. */
	put(&m, "\0", 1);
	assert_int_equal(parse_once(&m), DNS_PARSE_FORMERR);
	/* Trailing bytes after a plain question. */
	query(&m, 0, "a.", T_A);
	put(&m, "\0\0", 2);
	assert_int_equal(parse_once(&m), DNS_PARSE_FORMERR);

	/* rdlength past the end. */
	base(&m, 1, 0, 0);
	put(&m, "\300\014", 2);
	rr(&m, T_A, 1, 60, addr, 4);
	dns_put16(m.b + m.len - 6, 5);
	assert_int_equal(parse_once(&m), DNS_PARSE_FORMERR);
	/* Fixed part cut. */
	base(&m, 1, 0, 0);
	put(&m, "\300\014", 2);
	put(&m, "\0\1\0\1\0\0\0", 7);
	assert_int_equal(parse_once(&m), DNS_PARSE_FORMERR);
	/* Records in authority and additional are walked too. */
	base(&m, 0, 1, 1);
	put(&m, "\300\014", 2);
	rr(&m, T_NS, 1, 60, "\1n\300\014", 4);
	put(&m, "\1n\300\014", 4);
	rr(&m, T_A, 1, 60, addr, 4);
	assert_int_equal(parse_once(&m), DNS_PARSE_OK);
	set_count(&m, 3, 2);
	assert_int_equal(parse_once(&m), DNS_PARSE_FORMERR);
}

static void test_parse_bad_pointers(void **state)
{
	(void)state;
	struct msg m;

	/* Forward pointer: to the record's own fixed part. */
	base(&m, 1, 0, 0);
	dns_put16(m.b + m.len, (uint16_t)(0xc000 | (m.len + 2)));
	m.len += 2;
	rr(&m, T_A, 1, 60, addr, 4);
	assert_int_equal(parse_once(&m), DNS_PARSE_FORMERR);

	/* Pointer to itself. */
	base(&m, 1, 0, 0);
	dns_put16(m.b + m.len, (uint16_t)(0xc000 | m.len));
	m.len += 2;
	rr(&m, T_A, 1, 60, addr, 4);
	assert_int_equal(parse_once(&m), DNS_PARSE_FORMERR);

	/* Loop of two: "x" -> pointer to the other name, which points back. */
	base(&m, 2, 0, 0);
	size_t o1 = m.len;
	put(&m, "\1x\300\000", 4);
	rr(&m, T_A, 1, 60, addr, 4);
	size_t o2 = m.len;
	put(&m, "\1y", 2);
	put16(&m, (uint16_t)(0xc000 | o1));
	rr(&m, T_A, 1, 60, addr, 4);
	dns_put16(m.b + o1 + 2, (uint16_t)(0xc000 | o2));
	assert_int_equal(parse_once(&m), DNS_PARSE_FORMERR);

	/* Pointer back to the start of its own name: a loop through one label. */
	base(&m, 1, 0, 0);
	dns_put16(m.b + m.len + 2, (uint16_t)(0xc000 | m.len));
	m.b[m.len] = 1;
	m.b[m.len + 1] = 'x';
	m.len += 4;
	rr(&m, T_A, 1, 60, addr, 4);
	assert_int_equal(parse_once(&m), DNS_PARSE_FORMERR);

	/* Out of bounds. */
	base(&m, 1, 0, 0);
	put(&m, "\377\377", 2);
	rr(&m, T_A, 1, 60, addr, 4);
	assert_int_equal(parse_once(&m), DNS_PARSE_FORMERR);
	/* Pointer cut by the end of the message. */
	base(&m, 1, 0, 0);
	put(&m, "\300", 1);
	assert_int_equal(parse_once(&m), DNS_PARSE_FORMERR);
	/* Label > 63 in an owner. */
	base(&m, 1, 0, 0);
	put(&m, "\100", 1);
	rr(&m, T_A, 1, 60, addr, 4);
	assert_int_equal(parse_once(&m), DNS_PARSE_FORMERR);

	/* Name > 255 through legal backward pointers: each owner is a 63-octet
	 * label plus a pointer to the previous owner. */
	for (int k = 3; k <= 4; k++) {
		base(&m, (uint16_t)k, 0, 0);
		size_t prev = 12;
		for (int i = 0; i < k; i++) {
			size_t here = m.len;
			uint8_t lab[64];
			lab[0] = 63;
			memset(lab + 1, 'a' + i, 63);
			put(&m, lab, 64);
			put16(&m, (uint16_t)(0xc000 | prev));
			rr(&m, T_A, 1, 60, addr, 4);
			prev = here;
		}
		/* k=3: 3*64 + "\1a\0" = 195 octets; k=4: 259. */
		assert_int_equal(parse_once(&m), k == 3 ? DNS_PARSE_OK : DNS_PARSE_FORMERR);
	}
}

static void test_parse_edns(void **state)
{
	(void)state;
	struct msg m;
	struct dns_query q;
	uint8_t *c;

	/* Plain OPT, DO set, small size taken as 512. */
	base(&m, 0, 0, 1);
	size_t at = m.len;
	opt(&m, 100, 0, true, NULL, 0);
	assert_int_equal(parse(&q, &m, &c), DNS_PARSE_OK);
	assert_true(q.has_edns);
	assert_true(q.edns_do);
	assert_false(q.edns_nsid);
	assert_int_equal(q.edns_udp_size, 512);
	assert_int_equal(q.edns_version, 0);
	assert_int_equal(q.opt_pos, at);
	assert_int_equal(dns_query_udp_max(&q, 1232), 512);
	free(c);

	/* NSID requested among unknown options; large size capped by the caller. */
	base(&m, 0, 0, 1);
	opt(&m, 4096, 0, false, "\0\12\0\2ab\0\3\0\0\377\377\0\0", 14);
	assert_int_equal(parse(&q, &m, &c), DNS_PARSE_OK);
	assert_true(q.edns_nsid);
	assert_false(q.edns_do);
	assert_int_equal(q.edns_udp_size, 4096);
	assert_int_equal(dns_query_udp_max(&q, 1232), 1232);
	free(c);
	/* No NSID: unknown options only. */
	base(&m, 0, 0, 1);
	opt(&m, 1232, 0, false, "\0\12\0\2ab", 6);
	assert_int_equal(parse(&q, &m, &c), DNS_PARSE_OK);
	assert_false(q.edns_nsid);
	free(c);

	/* Two OPTs. */
	base(&m, 0, 0, 2);
	opt(&m, 1232, 0, false, NULL, 0);
	opt(&m, 1232, 0, false, NULL, 0);
	assert_int_equal(parse_once(&m), DNS_PARSE_FORMERR);
	/* OPT owner not root, whether plain or by pointer. */
	base(&m, 0, 0, 1);
	put(&m, "\300\014", 2);
	rr(&m, T_OPT, 1232, 0, NULL, 0);
	assert_int_equal(parse_once(&m), DNS_PARSE_FORMERR);
	base(&m, 0, 0, 1);
	put(&m, "\1x\0", 3);
	rr(&m, T_OPT, 1232, 0, NULL, 0);
	assert_int_equal(parse_once(&m), DNS_PARSE_FORMERR);
	/* OPT in the answer or authority section. */
	base(&m, 1, 0, 0);
	opt(&m, 1232, 0, false, NULL, 0);
	assert_int_equal(parse_once(&m), DNS_PARSE_FORMERR);
	base(&m, 0, 1, 0);
	opt(&m, 1232, 0, false, NULL, 0);
	assert_int_equal(parse_once(&m), DNS_PARSE_FORMERR);

	/* Version 1: BADVERS, with what was read kept. */
	base(&m, 0, 0, 1);
	opt(&m, 1400, 1, true, NULL, 0);
	assert_int_equal(parse(&q, &m, &c), DNS_PARSE_BADVERS);
	assert_true(q.has_edns);
	assert_int_equal(q.edns_version, 1);
	assert_true(q.edns_do);
	assert_int_equal(q.edns_udp_size, 1400);
	assert_non_null(q.qname);
	free(c);
	/* ... but a malformed message is FORMERR first. */
	put(&m, "\0", 1);
	assert_int_equal(parse_once(&m), DNS_PARSE_FORMERR);

	/* Option length past the rdata end (the message itself goes on). */
	base(&m, 0, 0, 2);
	opt(&m, 1232, 0, false, "\0\3\0\5abcd", 8);
	put(&m, "\300\014", 2);
	rr(&m, T_A, 1, 60, addr, 4);
	assert_int_equal(parse_once(&m), DNS_PARSE_FORMERR);
	/* Option header cut. */
	base(&m, 0, 0, 1);
	opt(&m, 1232, 0, false, "\0\3", 2);
	assert_int_equal(parse_once(&m), DNS_PARSE_FORMERR);
	/* Option exactly filling the rdata. */
	base(&m, 0, 0, 1);
	opt(&m, 1232, 0, false, "\0\3\0\4abcd", 8);
	assert_int_equal(parse_once(&m), DNS_PARSE_OK);
}

/*
 * A query whose last 11 bytes are a plain OPT is parsed by a shortcut:
 * for every UDP size class, version, DO bit and flag word, the result and
 * the fields are those of the same OPT with an unknown empty option (the
 * general record walk). Near misses (an OPT in the answer section, a byte
 * after it, an OPT rdlength pointing past the end, a non-root owner) are
 * refused as before.
 */
static void test_parse_plain_opt(void **state)
{
	(void)state;
	static const uint16_t sizes[] = { 0, 511, 512, 1232, 4096, 65535 };
	static const uint8_t unknown[4] = { 0xff, 0x01, 0, 0 };
	for (size_t si = 0; si < sizeof(sizes) / sizeof(sizes[0]); si++) {
		for (int ver = 0; ver < 3; ver++) {
			for (int dob = 0; dob < 2; dob++) {
				struct msg a, b;
				query(&a, 0x0100, "Www.Example.COM.", T_A);
				set_count(&a, 3, 1);
				b = a;
				opt(&a, sizes[si], (uint8_t)ver, dob, NULL, 0);
				opt(&b, sizes[si], (uint8_t)ver, dob, unknown, sizeof(unknown));
				struct dns_query qa, qb;
				uint8_t *ca, *cb;
				enum dns_parse_result ra = parse(&qa, &a, &ca), rb = parse(&qb, &b, &cb);
				assert_int_equal(ra, ver == 0 ? DNS_PARSE_OK : DNS_PARSE_BADVERS);
				assert_int_equal(ra, rb);
				assert_true(qa.has_edns);
				assert_int_equal(qa.edns_udp_size, qb.edns_udp_size);
				assert_int_equal(qa.edns_udp_size, sizes[si] < 512 ? 512 : sizes[si]);
				assert_int_equal(qa.edns_version, qb.edns_version);
				assert_int_equal(qa.edns_do, qb.edns_do);
				assert_int_equal(qa.edns_do, dob);
				assert_int_equal(qa.opt_pos, qb.opt_pos);
				assert_int_equal(qa.question_end, qb.question_end);
				assert_int_equal(qa.qname_len, qb.qname_len);
				assert_false(qa.edns_nsid);
				assert_int_equal(qa.edns_cookie_off, 0);
				free(ca);
				free(cb);
			}
		}
	}
	struct msg m;
	/* the OPT in the answer section */
	query(&m, 0x0100, "a.example.", T_A);
	set_count(&m, 1, 1);
	opt(&m, 1232, 0, false, NULL, 0);
	assert_int_equal(parse_once(&m), DNS_PARSE_FORMERR);
	/* a byte after the OPT */
	query(&m, 0x0100, "a.example.", T_A);
	set_count(&m, 3, 1);
	opt(&m, 1232, 0, false, NULL, 0);
	put(&m, "", 1);
	assert_int_equal(parse_once(&m), DNS_PARSE_FORMERR);
	/* rdlength 1 with no byte for it */
	query(&m, 0x0100, "a.example.", T_A);
	set_count(&m, 3, 1);
	opt(&m, 1232, 0, false, NULL, 0);
	m.b[m.len - 1] = 1;
	assert_int_equal(parse_once(&m), DNS_PARSE_FORMERR);
	/* an owner that is not the root: one byte longer, so not the shortcut's 11 */
	query(&m, 0x0100, "a.example.", T_A);
	set_count(&m, 3, 1);
	put(&m, "\001x\000", 3);
	rr(&m, T_OPT, 1232, 0, NULL, 0);
	assert_int_equal(parse_once(&m), DNS_PARSE_FORMERR);
}

static void test_parse_tsig(void **state)
{
	(void)state;
	struct msg m;
	struct dns_query q;
	uint8_t *c;
	uint8_t tsig[20] = { 0 };

	/* OPT then TSIG: both found. */
	base(&m, 0, 0, 2);
	opt(&m, 1232, 0, false, NULL, 0);
	size_t at = m.len;
	put_name(&m, "key.");
	rr(&m, T_TSIG, DNS_CLASS_ANY, 0, tsig, sizeof(tsig));
	assert_int_equal(parse(&q, &m, &c), DNS_PARSE_OK);
	assert_true(q.has_tsig);
	assert_int_equal(q.tsig_pos, at);
	assert_true(q.has_edns);
	free(c);

	/* TSIG not last. */
	base(&m, 0, 0, 2);
	put_name(&m, "key.");
	rr(&m, T_TSIG, DNS_CLASS_ANY, 0, tsig, sizeof(tsig));
	opt(&m, 1232, 0, false, NULL, 0);
	assert_int_equal(parse_once(&m), DNS_PARSE_FORMERR);
	/* TSIG as the only, last record but in the answer section. */
	base(&m, 1, 0, 0);
	put_name(&m, "key.");
	rr(&m, T_TSIG, DNS_CLASS_ANY, 0, tsig, sizeof(tsig));
	assert_int_equal(parse_once(&m), DNS_PARSE_FORMERR);
}

static void test_parse_update(void **state)
{
	(void)state;
	struct msg m;
	struct dns_query q;
	uint8_t *c;

	/* RFC 2136: zone, one prerequisite, two updates with compressed owners. */
	query(&m, DNS_OP_UPDATE << 11, "example.", 6);
	set_count(&m, 1, 1);
	set_count(&m, 2, 2);
	put(&m, "\4host\300\014", 7);
	rr(&m, 255, DNS_CLASS_NONE, 0, NULL, 0);
	put(&m, "\4host\300\014", 7);
	rr(&m, T_A, DNS_CLASS_ANY, 0, NULL, 0);
	put(&m, "\300\031", 2);  /* host.example. at 25 */
	rr(&m, T_A, 1, 300, addr, 4);
	assert_int_equal(parse(&q, &m, &c), DNS_PARSE_OK);
	assert_int_equal(q.opcode, DNS_OP_UPDATE);
	assert_int_equal(q.ancount, 1);
	assert_int_equal(q.nscount, 2);
	free(c);
}

/* ------------------------------------------------------------------------ */
/* Response writer                                                          */
/* ------------------------------------------------------------------------ */

/*
 * Walk a response with dns_name_parse, as a client would: question, then
 * every RR, ending exactly at len. Collects the owners (uncompressed) and
 * the fixed parts. Returns the number of RRs.
 */
struct walked {
	uint8_t owner[64][DNS_NAME_MAXLEN];
	uint16_t type[64];
	size_t rdoff[64];
};

static int walk_response(const uint8_t *b, size_t len, struct walked *out)
{
	uint8_t n[DNS_NAME_MAXLEN];
	size_t pos = 12;
	uint16_t qd = dns_get16(b + 4);
	int total = dns_get16(b + 6) + dns_get16(b + 8) + dns_get16(b + 10);

	assert_true(dns_get16(b + 2) & DNS_QR);
	assert_true(total <= 64);
	for (int i = 0; i < qd; i++) {
		assert_true(dns_name_parse(b, len, &pos, n) > 0);
		pos += 4;
	}
	for (int i = 0; i < total; i++) {
		int r = dns_name_parse(b, len, &pos, out ? out->owner[i] : n);
		assert_true(r > 0);
		assert_true(pos + 10 <= len);
		if (out) {
			out->type[i] = dns_get16(b + pos);
			out->rdoff[i] = pos + 10;
		}
		pos += 10 + dns_get16(b + pos + 8);
	}
	assert_int_equal(pos, len);
	return total;
}

/* A parsed query in `m` (kept alive by the caller's message). */
static void make_query(struct msg *m, struct dns_query *q, uint16_t flags, const char *qname)
{
	query(m, flags, qname, T_A);
	assert_int_equal(dns_query_parse(q, m->b, m->len), DNS_PARSE_OK);
}

static const uint8_t rr_a[] = { 0, 1, 0, 1, 0, 0, 0, 60, 0, 4, 198, 18, 0, 1 };

static void test_writer_init(void **state)
{
	(void)state;
	struct msg m;
	struct dns_query q;
	struct dns_writer w;
	uint8_t out[512];

	make_query(&m, &q, DNS_RD | DNS_CD | DNS_AA | DNS_TC | DNS_AD | 7, "www.example.com.");
	/* Copy into another buffer. */
	memset(out, 0xee, sizeof(out));
	assert_int_equal(dns_writer_init(&w, &q, out, sizeof(out), true), DDI_EOK);
	assert_int_equal(w.len, q.question_end);
	assert_int_equal(dns_writer_finish(&w), 33);
	assert_memory_equal(out, "\x12\x34\x81\x10\0\1\0\0\0\0\0\0", 12);
	assert_memory_equal(out + 12, m.b + 12, 21);
	assert_int_equal(out[33], 0xee);

	/* In place: the question stays where it is, the rest is cut. */
	struct msg m2;
	base(&m2, 0, 0, 1);
	opt(&m2, 1232, 0, true, NULL, 0);
	dns_put16(m2.b + 2, DNS_OP_NOTIFY << 11 | DNS_RD);
	assert_int_equal(dns_query_parse(&q, m2.b, m2.len), DNS_PARSE_OK);
	assert_int_equal(dns_writer_init(&w, &q, m2.b, sizeof(m2.b), true), DDI_EOK);
	assert_int_equal(dns_writer_finish(&w), 12 + 3 + 4);
	assert_int_equal(dns_get16(m2.b + 2), DNS_QR | DNS_OP_NOTIFY << 11 | DNS_RD);
	assert_int_equal(dns_get16(m2.b + 10), 0);

	/* Without the question (FORMERR on a broken question). */
	m.b[12] = 0xc0;
	assert_int_equal(dns_query_parse(&q, m.b, m.len), DNS_PARSE_FORMERR);
	assert_int_equal(dns_writer_init(&w, &q, out, sizeof(out), false), DDI_EOK);
	dns_writer_set_rcode(&w, DNS_RCODE_FORMERR);
	assert_int_equal(dns_writer_finish(&w), 12);
	assert_memory_equal(out, "\x12\x34\x81\x11\0\0\0\0\0\0\0\0", 12);
	assert_int_equal(dns_writer_init(&w, &q, out, sizeof(out), true), DDI_EINVAL);

	/* Not even room for the question. */
	make_query(&m, &q, 0, "www.example.com.");
	assert_int_equal(dns_writer_init(&w, &q, out, 32, true), DDI_ESPACE);
	assert_int_equal(dns_writer_init(&w, &q, out, 33, true), DDI_EOK);
}

static void test_writer_flags(void **state)
{
	(void)state;
	struct msg m;
	struct dns_query q;
	struct dns_writer w;
	uint8_t out[512];

	make_query(&m, &q, DNS_RD, "a.");
	assert_int_equal(dns_writer_init(&w, &q, out, sizeof(out), true), DDI_EOK);
	dns_writer_set_flags(&w, DNS_AA | DNS_TC);
	dns_writer_set_rcode(&w, DNS_RCODE_NXDOMAIN);
	assert_int_equal(dns_get16(out + 2), DNS_QR | DNS_AA | DNS_TC | DNS_RD | 3);
	dns_writer_set_rcode(&w, DNS_RCODE_BADVERS);  /* low 4 bits only: 16 -> 0 */
	assert_int_equal(dns_get16(out + 2), DNS_QR | DNS_AA | DNS_TC | DNS_RD);
	dns_writer_set_rcode(&w, DNS_RCODE_REFUSED);
	assert_int_equal(DNS_RCODE(dns_get16(out + 2)), DNS_RCODE_REFUSED);
}

static void test_writer_sections(void **state)
{
	(void)state;
	struct msg m;
	struct dns_query q;
	struct dns_writer w;
	uint8_t out[512];
	uint8_t n[DNS_NAME_MAXLEN];
	struct walked wk;

	make_query(&m, &q, 0, "a.");
	assert_int_equal(dns_writer_init(&w, &q, out, sizeof(out), true), DDI_EOK);
	assert_int_equal(dns_writer_put_rr_at(&w, 12, rr_a, sizeof(rr_a)), DDI_EOK);
	assert_int_equal(dns_writer_put_rr_at(&w, 12, rr_a, sizeof(rr_a)), DDI_EOK);
	dns_writer_section(&w, DNS_SEC_AUTHORITY);
	wname(n, "ns.a.");
	assert_int_equal(dns_writer_put_rr(&w, n, rr_a, sizeof(rr_a)), DDI_EOK);
	dns_writer_section(&w, DNS_SEC_ADDITIONAL);
	dns_writer_section(&w, DNS_SEC_ANSWER);  /* ignored: cannot go back */
	assert_int_equal(dns_writer_put_rr(&w, n, rr_a, sizeof(rr_a)), DDI_EOK);
	size_t len = dns_writer_finish(&w);
	assert_int_equal(dns_get16(out + 6), 2);
	assert_int_equal(dns_get16(out + 8), 1);
	assert_int_equal(dns_get16(out + 10), 1);
	assert_int_equal(walk_response(out, len, &wk), 4);
	assert_memory_equal(wk.owner[0], "\1a\0", 3);
	assert_memory_equal(wk.owner[2], "\2ns\1a\0", 6);
	assert_memory_equal(wk.owner[3], "\2ns\1a\0", 6);
	/* Exact bytes: ns.a. written as "\2ns" + pointer to 12, then one pointer. */
	size_t at = 12 + 3 + 4 + 2 * 16;
	assert_memory_equal(out + at, "\2ns\300\014", 5);
	assert_memory_equal(out + at + 5 + 14, "\300\063", 2);
	assert_int_equal(at, 0x33);

	/* Bad arguments. */
	assert_int_equal(dns_writer_put_rr(&w, n, rr_a, sizeof(rr_a) - 1), DDI_EINVAL);
	assert_int_equal(dns_writer_put_rr_at(&w, 11, rr_a, sizeof(rr_a)), DDI_EINVAL);
	assert_int_equal(dns_writer_put_rr_at(&w, (uint16_t)w.len, rr_a, sizeof(rr_a)), DDI_EINVAL);
}

static void test_writer_compression(void **state)
{
	(void)state;
	struct msg m;
	struct dns_query q;
	struct dns_writer w;
	uint8_t out[1024];
	uint8_t n[DNS_NAME_MAXLEN];
	struct walked wk;
	const char *owners[] = {
		"mail.EXAMPLE.com.",   /* "\4mail" + pointer to example.com (16) */
		"x.mail.example.com.", /* "\1x" + pointer to the name above */
		"com.",                /* one pointer, into the question (24) */
		"other.org.",          /* nothing in common but the root */
		"www.other.org.",      /* "\3www" + pointer */
		"org.",                /* pointer into other.org. */
		".",                   /* root: one zero byte */
		"www.example.com.",    /* the question itself: pointer to 12 */
		"example.net.",        /* shares only the root */
		"a.example.net.",
	};
	const size_t enclen[] = { 7, 4, 2, 11, 6, 2, 1, 2, 13, 4 };

	make_query(&m, &q, 0, "www.Example.com.");
	assert_int_equal(dns_writer_init(&w, &q, out, sizeof(out), true), DDI_EOK);
	size_t offs[10];
	for (int i = 0; i < 10; i++) {
		offs[i] = w.len;
		wname(n, owners[i]);
		assert_int_equal(dns_writer_put_rr(&w, n, rr_a, sizeof(rr_a)), DDI_EOK);
		assert_int_equal(w.len - offs[i] - sizeof(rr_a), enclen[i]);
	}
	size_t len = dns_writer_finish(&w);
	assert_memory_equal(out + offs[0], "\4mail\300\020", 7);
	dns_put16(n, (uint16_t)(0xc000 | offs[0]));
	assert_memory_equal(out + offs[1], "\1x", 2);
	assert_memory_equal(out + offs[1] + 2, n, 2);
	assert_memory_equal(out + offs[2], "\300\030", 2);
	assert_memory_equal(out + offs[7], "\300\014", 2);
	assert_int_equal(out[offs[6]], 0);

	assert_int_equal(walk_response(out, len, &wk), 10);
	for (int i = 0; i < 10; i++) {
		wname(n, owners[i]);
		assert_true(dns_name_equal(wk.owner[i], n));
		assert_int_equal(wk.type[i], T_A);
		assert_memory_equal(out + wk.rdoff[i], rr_a + 10, 4);
	}

	/* find_name: whole names and suffixes already in the message. */
	wname(n, "example.com.");
	assert_int_equal(dns_writer_find_name(&w, n), 16);
	wname(n, "WWW.example.com.");
	assert_int_equal(dns_writer_find_name(&w, n), 12);
	wname(n, "mail.example.com.");
	assert_int_equal(dns_writer_find_name(&w, n), offs[0]);
	wname(n, "x.mail.example.com.");
	assert_int_equal(dns_writer_find_name(&w, n), offs[1]);
	wname(n, "other.org.");
	assert_int_equal(dns_writer_find_name(&w, n), offs[3]);
	wname(n, "y.example.com.");
	assert_int_equal(dns_writer_find_name(&w, n), 0);
	wname(n, "ample.com.");
	assert_int_equal(dns_writer_find_name(&w, n), 0);
	assert_int_equal(dns_writer_find_name(&w, (const uint8_t *)"\0"), 0);
}

/* More distinct names than slots: later ones are written in full, still valid. */
static void test_writer_many_names(void **state)
{
	(void)state;
	struct msg m;
	struct dns_query q;
	struct dns_writer w;
	uint8_t out[4096];
	uint8_t n[DNS_NAME_MAXLEN];
	struct walked wk;
	char s[64];

	make_query(&m, &q, 0, "zone.");
	assert_int_equal(dns_writer_init(&w, &q, out, sizeof(out), true), DDI_EOK);
	for (int i = 0; i < 40; i++) {
		snprintf(s, sizeof(s), "h%d.sub%d.zone.", i, i % 20);
		wname(n, s);
		assert_int_equal(dns_writer_put_rr(&w, n, rr_a, sizeof(rr_a)), DDI_EOK);
	}
	assert_int_equal(w.ncompr, DNS_COMPR_SLOTS);
	size_t len = dns_writer_finish(&w);
	assert_int_equal(walk_response(out, len, &wk), 40);
	for (int i = 0; i < 40; i++) {
		snprintf(s, sizeof(s), "h%d.sub%d.zone.", i, i % 20);
		wname(n, s);
		assert_true(dns_name_equal(wk.owner[i], n));
	}
}

static void test_writer_espace(void **state)
{
	(void)state;
	struct msg m;
	struct dns_query q;
	struct dns_writer w, before;
	uint8_t out[256], snap[256];
	uint8_t n[DNS_NAME_MAXLEN];

	make_query(&m, &q, 0, "www.example.com.");
	/* 33 of header and question, room for exactly one 2+14 RR. */
	assert_int_equal(dns_writer_init(&w, &q, out, 33 + 16, true), DDI_EOK);
	memset(out + 33, 0xaa, sizeof(out) - 33);
	wname(n, "mail.example.com.");
	memcpy(&before, &w, sizeof(w));
	memcpy(snap, out, sizeof(out));
	/* Owner needs 7 bytes: does not fit. */
	assert_int_equal(dns_writer_put_rr(&w, n, rr_a, sizeof(rr_a)), DDI_ESPACE);
	assert_memory_equal(&w, &before, sizeof(w));
	assert_memory_equal(out, snap, sizeof(out));
	/* A pointer owner fits exactly, then nothing more does. */
	assert_int_equal(dns_writer_put_rr_at(&w, 12, rr_a, sizeof(rr_a)), DDI_EOK);
	assert_int_equal(w.len, w.max);
	memcpy(&before, &w, sizeof(w));
	memcpy(snap, out, sizeof(out));
	assert_int_equal(dns_writer_put_rr_at(&w, 12, rr_a, sizeof(rr_a)), DDI_ESPACE);
	assert_int_equal(dns_writer_put_rr(&w, q.qname, rr_a, sizeof(rr_a)), DDI_ESPACE);
	uint8_t blob[16];
	blob[0] = 0xc0;
	blob[1] = 12;
	memcpy(blob + 2, rr_a, 14);
	assert_int_equal(dns_writer_put_rrset(&w, NULL, 12, blob, 16, 1), DDI_ESPACE);
	assert_int_equal(dns_writer_put_rrset(&w, n, 0, blob, 16, 1), DDI_ESPACE);
	assert_int_equal(dns_writer_put_rrset(&w, NULL, 16, blob, 16, 1), DDI_ESPACE);
	assert_memory_equal(&w, &before, sizeof(w));
	assert_memory_equal(out, snap, sizeof(out));
	assert_int_equal(dns_writer_finish(&w), 49);
	assert_int_equal(dns_get16(out + 6), 1);
}

/* count x [C0 0C type class ttl rdlen rdata] */
static size_t make_blob(uint8_t *blob, int count)
{
	size_t len = 0;
	for (int i = 0; i < count; i++) {
		blob[len++] = 0xc0;
		blob[len++] = 12;
		memcpy(blob + len, rr_a, sizeof(rr_a));
		blob[len + 13] = (uint8_t)i;
		len += sizeof(rr_a);
	}
	return len;
}

static void test_writer_rrset(void **state)
{
	(void)state;
	struct msg m;
	struct dns_query q;
	struct dns_writer w1, w2, w3;
	uint8_t o1[512], o2[512], o3[512], blob[256];
	uint8_t n[DNS_NAME_MAXLEN];
	size_t blen = make_blob(blob, 3);

	make_query(&m, &q, 0, "www.example.com.");
	/* Fast path vs owner by name (the question name, other case) vs put_rr. */
	assert_int_equal(dns_writer_init(&w1, &q, o1, sizeof(o1), true), DDI_EOK);
	assert_int_equal(dns_writer_init(&w2, &q, o2, sizeof(o2), true), DDI_EOK);
	assert_int_equal(dns_writer_init(&w3, &q, o3, sizeof(o3), true), DDI_EOK);
	assert_int_equal(dns_writer_put_rrset(&w1, NULL, DNS_HDR_LEN, blob, blen, 3), DDI_EOK);
	wname(n, "WWW.EXAMPLE.COM.");
	assert_int_equal(dns_writer_put_rrset(&w2, n, 0, blob, blen, 3), DDI_EOK);
	for (int i = 0; i < 3; i++)
		assert_int_equal(dns_writer_put_rr(&w3, n, blob + i * 16 + 2, 14), DDI_EOK);
	size_t l1 = dns_writer_finish(&w1), l2 = dns_writer_finish(&w2), l3 = dns_writer_finish(&w3);
	assert_int_equal(l1, 33 + blen);
	assert_int_equal(l1, l2);
	assert_int_equal(l1, l3);
	assert_memory_equal(o1, o2, l1);
	assert_memory_equal(o1, o3, l1);
	assert_int_equal(dns_get16(o1 + 6), 3);

	/* Owner by name, new: "\4mail" + pointer, then two pointers to it. */
	assert_int_equal(dns_writer_init(&w1, &q, o1, sizeof(o1), true), DDI_EOK);
	wname(n, "mail.example.com.");
	assert_int_equal(dns_writer_put_rrset(&w1, n, 0, blob, blen, 3), DDI_EOK);
	l1 = dns_writer_finish(&w1);
	assert_int_equal(l1, 33 + blen + 5);
	assert_memory_equal(o1 + 33, "\4mail\300\020", 7);
	assert_memory_equal(o1 + 33 + 7 + 14, "\300\041", 2);
	assert_memory_equal(o1 + 33 + 7 + 14 + 16, "\300\041", 2);
	struct walked wk;
	assert_int_equal(walk_response(o1, l1, &wk), 3);
	for (int i = 0; i < 3; i++) {
		assert_true(dns_name_equal(wk.owner[i], n));
		assert_int_equal(o1[wk.rdoff[i] + 3], i);
	}
	/* ... and the same set again by offset: every pointer rewritten. */
	assert_int_equal(dns_writer_put_rrset(&w1, NULL, 33, blob, blen, 3), DDI_EOK);
	l1 = dns_writer_finish(&w1);
	assert_int_equal(walk_response(o1, l1, &wk), 6);
	for (int i = 3; i < 6; i++)
		assert_true(dns_name_equal(wk.owner[i], n));
	/* The blob itself is untouched. */
	assert_int_equal(blob[16], 0xc0);
	assert_int_equal(blob[17], 12);

	/* Root owner. */
	assert_int_equal(dns_writer_init(&w1, &q, o1, sizeof(o1), true), DDI_EOK);
	assert_int_equal(dns_writer_put_rrset(&w1, (const uint8_t *)"\0", 0, blob, blen, 3), DDI_EOK);
	l1 = dns_writer_finish(&w1);
	assert_int_equal(l1, 33 + blen - 3);
	assert_int_equal(walk_response(o1, l1, &wk), 3);
	for (int i = 0; i < 3; i++)
		assert_int_equal(wk.owner[i][0], 0);

	/* A blob whose lengths do not add up is refused, nothing written. */
	assert_int_equal(dns_writer_init(&w1, &q, o1, sizeof(o1), true), DDI_EOK);
	assert_int_equal(dns_writer_put_rrset(&w1, n, 0, blob, blen - 1, 3), DDI_EINVAL);
	assert_int_equal(dns_writer_put_rrset(&w1, n, 0, blob, blen, 4), DDI_EINVAL);
	assert_int_equal(dns_writer_put_rrset(&w1, NULL, 0, blob, blen, 3), DDI_EINVAL);
	assert_int_equal(w1.len, 33);
	assert_int_equal(w1.count[0], 0);
}

static void test_writer_opt(void **state)
{
	(void)state;
	struct msg m;
	struct dns_query q;
	struct dns_writer w;
	uint8_t out[512];

	assert_int_equal(dns_opt_size(0), 11);
	assert_int_equal(dns_opt_size(4), 19);

	make_query(&m, &q, 0, "a.");
	assert_int_equal(dns_writer_init(&w, &q, out, sizeof(out), true), DDI_EOK);
	assert_int_equal(dns_writer_put_rr_at(&w, 12, rr_a, sizeof(rr_a)), DDI_EOK);
	assert_int_equal(dns_writer_put_opt(&w, 1232, 0, true, NULL, 0, sizeof(out)), DDI_EOK);
	size_t len = dns_writer_finish(&w);
	assert_int_equal(len, 19 + 16 + 11);
	assert_memory_equal(out + 35, "\0\0\51\4\320\0\0\200\0\0\0", 11);
	assert_int_equal(dns_get16(out + 10), 1);
	assert_int_equal(dns_get16(out + 6), 1);

	/* BADVERS: upper bits 1, no DO, NSID. */
	assert_int_equal(dns_writer_init(&w, &q, out, sizeof(out), true), DDI_EOK);
	dns_writer_set_rcode(&w, DNS_RCODE_BADVERS & 0xf);
	assert_int_equal(dns_writer_put_opt(&w, 1232, DNS_RCODE_BADVERS >> 4, false,
	                                    (const uint8_t *)"ns01", 4, sizeof(out)), DDI_EOK);
	len = dns_writer_finish(&w);
	assert_int_equal(len, 19 + 19);
	assert_memory_equal(out + 19, "\0\0\51\4\320\1\0\0\0\0\10\0\3\0\4ns01", 19);
	/* It parses back (as a query would, with QR cleared). */
	out[2] &= 0x7f;
	assert_int_equal(dns_query_parse(&q, out, len), DNS_PARSE_OK);
	assert_true(q.has_edns);
	assert_true(q.edns_nsid);
	assert_int_equal(q.edns_udp_size, 1232);

	/* Written past `max` when the buffer holds it, not past the buffer. */
	make_query(&m, &q, 0, "a.");
	assert_int_equal(dns_writer_init(&w, &q, out, 19, true), DDI_EOK);
	assert_int_equal(dns_writer_put_opt(&w, 1232, 0, false, NULL, 0, 29), DDI_ESPACE);
	assert_int_equal(w.len, 19);
	assert_int_equal(w.count[2], 0);
	assert_int_equal(dns_writer_put_opt(&w, 1232, 0, false, NULL, 0, 30), DDI_EOK);
	assert_int_equal(dns_writer_finish(&w), 30);
}

/* ------------------------------------------------------------------------ */
/* Randomized                                                               */
/* ------------------------------------------------------------------------ */

static uint64_t rng_state = 0x2545f4914f6cdd1dull;

static uint32_t rnd(void)
{
	rng_state ^= rng_state >> 12;
	rng_state ^= rng_state << 25;
	rng_state ^= rng_state >> 27;
	return (uint32_t)((rng_state * 0x2545f4914f6cdd1dull) >> 32);
}

/*
 * Independent verdict for the structural checks: walk the message with
 * dns_name_parse. Whenever dns_query_parse says OK or BADVERS, this walk
 * must succeed and end exactly at the end of the message.
 */
static void check_walk(const uint8_t *b, size_t len)
{
	uint8_t n[DNS_NAME_MAXLEN];
	size_t pos = 12;
	int total = dns_get16(b + 6) + dns_get16(b + 8) + dns_get16(b + 10);

	assert_int_equal(dns_get16(b + 4), 1);
	assert_true(dns_name_parse(b, len, &pos, n) > 0);
	pos += 4;
	for (int i = 0; i < total; i++) {
		assert_true(dns_name_parse(b, len, &pos, n) > 0);
		assert_true(pos + 10 <= len);
		pos += 10 + dns_get16(b + pos + 8);
		assert_true(pos <= len);
	}
	assert_int_equal(pos, len);
}

/* A valid message of a random shape to mutate. */
static void random_message(struct msg *m)
{
	static const char *names[] = { "a.", "www.example.com.", "x.y.z.", ".", "Mail.Example.COM." };
	uint16_t an = (uint16_t)(rnd() % 3), ns = (uint16_t)(rnd() % 2), ar = (uint16_t)(rnd() % 3);

	query(m, (uint16_t)((rnd() % 6) << 11 | (rnd() & DNS_RD)), names[rnd() % 5], T_A);
	set_count(m, 1, an);
	set_count(m, 2, ns);
	for (int i = 0; i < an + ns; i++) {
		if (rnd() % 2)
			put(m, "\300\014", 2);
		else
			put_name(m, names[rnd() % 5]);
		rr(m, T_A, 1, 60, addr, 4);
	}
	uint16_t arn = 0;
	if (ar > 0) {
		put(m, "\1n\300\014", 4);
		rr(m, T_NS, 1, 60, "\2ns\300\014", 5);
		arn++;
	}
	if (ar > 1) {
		opt(m, (uint16_t)(rnd() % 5000), (uint8_t)(rnd() % 8 == 0), rnd() % 2,
		    "\0\3\0\0\0\12\0\3abc", 11);
		arn++;
	}
	if (rnd() % 4 == 0) {
		uint8_t t[16] = { 0 };
		put_name(m, "key.");
		rr(m, T_TSIG, DNS_CLASS_ANY, 0, t, sizeof(t));
		arn++;
	}
	set_count(m, 3, arn);
}

static void test_random_robustness(void **state)
{
	(void)state;
	enum { N = 200000 };
	int seen[4] = { 0 };
	struct msg m;
	struct dns_query q;
	uint8_t out[1500];

	for (int it = 0; it < N; it++) {
		if (it % 10 == 0) {
			/* Pure noise, with a plausible header half of the time. */
			m.len = rnd() % 200;
			for (size_t i = 0; i < m.len; i++)
				m.b[i] = (uint8_t)rnd();
			if (m.len >= 12 && rnd() % 2) {
				m.b[2] &= 0x7f;
				dns_put16(m.b + 4, 1);
			}
		} else {
			random_message(&m);
			assert_true(parse_once(&m) != DNS_PARSE_DROP);
			int muts = 1 + (int)(rnd() % 4);
			for (int k = 0; k < muts && m.len > 0; k++) {
				size_t at = rnd() % m.len;
				switch (rnd() % 5) {
				case 0: m.b[at] ^= (uint8_t)(1u << (rnd() % 8)); break;
				case 1: m.b[at] = (uint8_t)rnd(); break;
				case 2: m.b[at] = (uint8_t)(0xc0 | (rnd() % 2)); break;
				case 3: m.len = at; break;
				default:
					if (m.len < sizeof(m.b) - 4)
						m.b[m.len++] = (uint8_t)rnd();
					break;
				}
			}
		}
		uint8_t *c;
		enum dns_parse_result r = parse(&q, &m, &c);
		assert_true(r <= DNS_PARSE_BADVERS);
		seen[r]++;
		if (r == DNS_PARSE_OK || r == DNS_PARSE_BADVERS)
			check_walk(c, m.len);
		if (r != DNS_PARSE_DROP) {
			/* Answer it as a server would, into a separate buffer. */
			struct dns_writer w;
			bool wq = q.qname != NULL;
			assert_int_equal(dns_writer_init(&w, &q, out, 512, wq), DDI_EOK);
			if (wq)
				(void)dns_writer_put_rr(&w, q.qname, rr_a, sizeof(rr_a));
			(void)dns_writer_put_opt(&w, 1232, 0, q.edns_do, NULL, 0, sizeof(out));
			size_t len = dns_writer_finish(&w);
			walk_response(out, len, NULL);
		}
		free(c);
	}
	/* Every outcome was reached, so the mutations do exercise the checks. */
	for (int i = 0; i < 4; i++)
		assert_true(seen[i] > 100);
}

/* Random owners through put_rr / put_rrset against a small budget: every
 * response parses back to exactly the names put, and ESPACE changes nothing. */
static void test_random_compression(void **state)
{
	(void)state;
	static const char *labels[] = { "a", "B", "www", "mail", "example", "EXAMPLE", "com",
	                                "org", "x", "ns1" };
	struct msg m;
	struct dns_query q;
	uint8_t out[1024], snap[1024], blob[256];
	uint8_t names[40][DNS_NAME_MAXLEN];
	struct walked wk;
	size_t blen = make_blob(blob, 2);

	for (int it = 0; it < 3000; it++) {
		char qs[128] = "";
		int ql = (int)(rnd() % 4);
		for (int i = 0; i < ql; i++) {
			strcat(qs, labels[rnd() % 10]);
			strcat(qs, ".");
		}
		if (ql == 0)
			strcpy(qs, ".");
		make_query(&m, &q, 0, qs);
		struct dns_writer w, before;
		size_t max = 40 + rnd() % 600;
		assert_int_equal(dns_writer_init(&w, &q, out, max, true), DDI_EOK);
		int nput = 0, nrr = 0;
		for (int k = 0; k < 40; k++) {
			char s[128] = "";
			int nl = (int)(rnd() % 5);
			for (int i = 0; i < nl; i++) {
				strcat(s, labels[rnd() % 10]);
				strcat(s, ".");
			}
			if (nl == 0)
				strcpy(s, ".");
			wname(names[nput], s);
			memcpy(&before, &w, sizeof(w));
			memcpy(snap, out, sizeof(out));
			bool set = rnd() % 3 == 0;
			int r = set ? dns_writer_put_rrset(&w, names[nput], 0, blob, blen, 2)
			            : dns_writer_put_rr(&w, names[nput], rr_a, sizeof(rr_a));
			if (r == DDI_ESPACE) {
				assert_memory_equal(&w, &before, sizeof(w));
				assert_memory_equal(out, snap, sizeof(out));
				continue;
			}
			assert_int_equal(r, DDI_EOK);
			assert_true(w.len <= max);
			if (set) {
				memcpy(names[nput + 1], names[nput], DNS_NAME_MAXLEN);
				nput++;
			}
			nput++;
			nrr += set ? 2 : 1;
			if (nput >= 38)
				break;
			if (rnd() % 8 == 0)
				dns_writer_section(&w, (enum dns_section)(w.section + (w.section < 2)));
		}
		size_t len = dns_writer_finish(&w);
		assert_int_equal(walk_response(out, len, &wk), nrr);
		for (int i = 0; i < nrr; i++)
			assert_true(dns_name_equal(wk.owner[i], names[i]));
	}
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_parse_ok),
		cmocka_unit_test(test_parse_drop),
		cmocka_unit_test(test_parse_qdcount),
		cmocka_unit_test(test_parse_question_truncated),
		cmocka_unit_test(test_parse_question_name),
		cmocka_unit_test(test_parse_records),
		cmocka_unit_test(test_parse_bad_pointers),
		cmocka_unit_test(test_parse_edns),
		cmocka_unit_test(test_parse_plain_opt),
		cmocka_unit_test(test_parse_tsig),
		cmocka_unit_test(test_parse_update),
		cmocka_unit_test(test_writer_init),
		cmocka_unit_test(test_writer_flags),
		cmocka_unit_test(test_writer_sections),
		cmocka_unit_test(test_writer_compression),
		cmocka_unit_test(test_writer_many_names),
		cmocka_unit_test(test_writer_espace),
		cmocka_unit_test(test_writer_rrset),
		cmocka_unit_test(test_writer_opt),
		cmocka_unit_test(test_random_robustness),
		cmocka_unit_test(test_random_compression),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
