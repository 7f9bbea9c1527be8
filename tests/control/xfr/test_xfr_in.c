/* test_xfr_in -- the transfer client's parser (control/xfr/in.c) from byte arrays: AXFR over two messages, IXFR, signed chains, and each malformed stream refused with its named outcome */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "control/ddns/tsig.h"
#include "control/store/store.h"
#include "control/xfr/in.h"
#include "dns/errcode.h"
#include "dns/rdata.h"
#include "dns/wire.h"

/* Wire names as C literals: the literal's NUL is the root label. */
#define APEX "\4secv\4test"
#define NS1 "\3ns1\4secv\4test"
#define WWW "\3www\4secv\4test"
#define NEW "\3new\4secv\4test"
#define OUT "\3www\5other\4test"

static const uint8_t *apex = (const uint8_t *)APEX;
#define ID 0x1234
#define NOW 1700000000u

/* A message written byte by byte: header, optional question, uncompressed records. */
struct mb {
	uint8_t b[4096];
	size_t n;
	uint16_t an;
};

static void put16(struct mb *m, uint16_t v) { m->b[m->n++] = (uint8_t)(v >> 8); m->b[m->n++] = (uint8_t)v; }
static void put32(struct mb *m, uint32_t v) { put16(m, (uint16_t)(v >> 16)); put16(m, (uint16_t)v); }
static void putb(struct mb *m, const void *p, size_t n) { memcpy(m->b + m->n, p, n); m->n += n; }
static void putname(struct mb *m, const char *wire) { putb(m, wire, strlen(wire) + 1); }

/* Header (QR AA, rcode 0) and, when qtype != 0, our question. */
static void mb_start(struct mb *m, uint16_t id, uint16_t qtype)
{
	memset(m, 0, sizeof(*m));
	put16(m, id);
	put16(m, DNS_QR | DNS_AA);
	put16(m, qtype ? 1 : 0);
	put16(m, 0);
	put16(m, 0);
	put16(m, 0);
	if (qtype) {
		putname(m, APEX);
		put16(m, qtype);
		put16(m, DNS_CLASS_IN);
	}
}

static void mb_rr(struct mb *m, const char *owner, uint16_t type, const void *rd, uint16_t rdlen)
{
	putname(m, owner);
	put16(m, type);
	put16(m, DNS_CLASS_IN);
	put32(m, 300);
	put16(m, rdlen);
	putb(m, rd, rdlen);
	m->an++;
	m->b[6] = (uint8_t)(m->an >> 8);
	m->b[7] = (uint8_t)m->an;
}

static void mb_soa(struct mb *m, uint32_t serial)
{
	struct mb rd = { .n = 0 };
	putname(&rd, NS1);
	putname(&rd, "\12hostmaster\4secv\4test");
	put32(&rd, serial);
	put32(&rd, 3600);
	put32(&rd, 60);
	put32(&rd, 600);
	put32(&rd, 60);
	mb_rr(m, APEX, DNS_T_SOA, rd.b, (uint16_t)rd.n);
}

static void mb_a(struct mb *m, const char *owner, uint8_t last)
{
	const uint8_t a[4] = { 198, 18, 0, last };
	mb_rr(m, owner, DNS_T_A, a, 4);
}

static void mb_ns(struct mb *m)
{
	mb_rr(m, APEX, DNS_T_NS, NS1, (uint16_t)(strlen(NS1) + 1));
}

/* The refused stream: its outcome, a reason, and nothing to commit. */
#define assert_refused(x, got, want) assert_refused_why(x, got, want, NULL)
static void assert_refused_why(struct xfr_in *x, enum xfr_in_result got, enum xfr_in_result want,
                               const char *why)
{
	if (got != want)
		fail_msg("outcome %s, expected %s (%s)", xfr_in_result_name(got),
		         xfr_in_result_name(want), x->why);
	assert_true(x->why[0] != 0);
	if (why && !strstr(x->why, why))
		fail_msg("reason \"%s\" does not say \"%s\"", x->why, why);
	struct store_op *ops;
	struct store_rr *rrs;
	size_t nops;
	assert_int_equal(xfr_in_ops(x, &ops, &nops, &rrs), DDI_EOK);
	assert_int_equal(nops, 0);
	free(ops);
	free(rrs);
	/* and nothing more is taken */
	struct mb m;
	mb_start(&m, ID, 0);
	mb_soa(&m, 100);
	assert_int_equal(xfr_in_message(x, m.b, m.n, NOW), XFR_IN_E_TRAILING);
}

static void test_names(void **state)
{
	(void)state;
	assert_string_equal(xfr_in_result_name(XFR_IN_E_FIRST), "first");
	assert_string_equal(xfr_in_result_name(XFR_IN_E_SOA), "soa");
	assert_string_equal(xfr_in_result_name(XFR_IN_E_OUTZONE), "outzone");
	assert_string_equal(xfr_in_result_name(XFR_IN_E_TRAILING), "trailing");
	assert_string_equal(xfr_in_result_name(XFR_IN_E_MALFORMED), "malformed");
	assert_string_equal(xfr_in_result_name(XFR_IN__COUNT), "?");
}

/* AXFR in two messages: SOA NS A | A SOA; the second without a question (RFC 5936 2.2.1). */
static void test_axfr_two_messages(void **state)
{
	(void)state;
	struct xfr_in x;
	struct mb m1, m2;
	mb_start(&m1, ID, DNS_T_AXFR);
	mb_soa(&m1, 100);
	mb_ns(&m1);
	mb_a(&m1, NS1, 5);
	mb_start(&m2, ID, 0);
	mb_a(&m2, WWW, 80);
	mb_soa(&m2, 100);
	xfr_in_init(&x, apex, DNS_T_AXFR, ID, 0, NULL, NULL, 0, NULL);
	assert_int_equal(xfr_in_message(&x, m1.b, m1.n, NOW), XFR_IN_MORE);
	assert_int_equal(xfr_in_message(&x, m2.b, m2.n, NOW), XFR_IN_DONE);
	assert_int_equal(x.kind, XFR_IN_KIND_AXFR);
	assert_int_equal(x.soa_serial, 100);
	assert_int_equal(x.nrrs, 4);   /* SOA NS A A: the final SOA is not content */
	assert_string_equal(x.why, "");

	struct store_op *ops;
	struct store_rr *rrs;
	size_t nops;
	assert_int_equal(xfr_in_ops(&x, &ops, &nops, &rrs), DDI_EOK);
	assert_int_equal(nops, 1);
	assert_int_equal(ops[0].kind, STORE_OP_ZONE_REPLACE);
	assert_true(ops[0].flags & STORE_OPF_TRANSFER);
	assert_true(ops[0].zone_flags & STORE_ZONE_SECONDARY);
	assert_int_equal(ops[0].nrrs, 4);
	assert_int_equal(rrs[0].type, DNS_T_SOA);
	assert_int_equal(rrs[3].type, DNS_T_A);
	assert_memory_equal(rrs[3].owner, WWW, sizeof(WWW));
	assert_int_equal(rrs[3].rdlen, 4);
	assert_int_equal(rrs[3].rdata[3], 80);
	free(ops);
	free(rrs);
	/* a message after the end is trailing */
	assert_int_equal(xfr_in_message(&x, m2.b, m2.n, NOW), XFR_IN_E_TRAILING);
	xfr_in_free(&x);
}

/* IXFR 100 -> 101 (RFC 1995 4): SOA(101) SOA(100) -www.80 SOA(101) +www.81 +new.77 SOA(101). */
static void test_ixfr(void **state)
{
	(void)state;
	struct xfr_in x;
	struct mb m;
	mb_start(&m, ID, DNS_T_IXFR);
	mb_soa(&m, 101);
	mb_soa(&m, 100);
	mb_a(&m, WWW, 80);
	mb_soa(&m, 101);
	mb_a(&m, WWW, 81);
	mb_a(&m, NEW, 77);
	mb_soa(&m, 101);
	xfr_in_init(&x, apex, DNS_T_IXFR, ID, 100, NULL, NULL, 0, NULL);
	assert_int_equal(xfr_in_message(&x, m.b, m.n, NOW), XFR_IN_DONE);
	assert_int_equal(x.kind, XFR_IN_KIND_IXFR);
	assert_int_equal(x.nseqs, 1);
	assert_int_equal(x.seqs[0].from, 100);
	assert_int_equal(x.seqs[0].to, 101);

	struct store_op *ops;
	struct store_rr *rrs;
	size_t nops;
	assert_int_equal(xfr_in_ops(&x, &ops, &nops, &rrs), DDI_EOK);
	assert_int_equal(nops, 5);
	static const int kind[5] = { STORE_OP_RR_DELETE, STORE_OP_RR_DELETE, STORE_OP_RR_ADD,
	                             STORE_OP_RR_ADD, STORE_OP_RR_ADD };
	static const uint16_t type[5] = { DNS_T_SOA, DNS_T_A, DNS_T_SOA, DNS_T_A, DNS_T_A };
	for (int i = 0; i < 5; i++) {
		assert_int_equal(ops[i].kind, kind[i]);
		assert_int_equal(ops[i].type, type[i]);
		assert_true(ops[i].flags & STORE_OPF_TRANSFER);
	}
	/* [rdlen(2) rdata]: the deleted www is .80, the added one .81 */
	assert_int_equal(ops[1].rdatas[2 + 3], 80);
	assert_int_equal(ops[3].rdatas[2 + 3], 81);
	assert_memory_equal(ops[4].owner, NEW, sizeof(NEW));
	free(ops);
	free(rrs);
	xfr_in_free(&x);
}

/* IXFR over two sequences and two messages, 100 -> 101 -> 102. */
static void test_ixfr_two_sequences(void **state)
{
	(void)state;
	struct xfr_in x;
	struct mb m1, m2;
	mb_start(&m1, ID, DNS_T_IXFR);
	mb_soa(&m1, 102);
	mb_soa(&m1, 100);
	mb_soa(&m1, 101);
	mb_a(&m1, NEW, 77);
	mb_start(&m2, ID, 0);
	mb_soa(&m2, 101);
	mb_a(&m2, NEW, 77);
	mb_soa(&m2, 102);
	mb_soa(&m2, 102);
	xfr_in_init(&x, apex, DNS_T_IXFR, ID, 100, NULL, NULL, 0, NULL);
	assert_int_equal(xfr_in_message(&x, m1.b, m1.n, NOW), XFR_IN_MORE);
	assert_int_equal(xfr_in_message(&x, m2.b, m2.n, NOW), XFR_IN_DONE);
	assert_int_equal(x.kind, XFR_IN_KIND_IXFR);
	assert_int_equal(x.nseqs, 2);
	assert_int_equal(x.seqs[1].from, 101);
	assert_int_equal(x.seqs[1].to, 102);
	xfr_in_free(&x);
}

/* IXFR answered with the SOA alone: we are current. */
static void test_ixfr_uptodate(void **state)
{
	(void)state;
	struct xfr_in x;
	struct mb m;
	mb_start(&m, ID, DNS_T_IXFR);
	mb_soa(&m, 100);
	xfr_in_init(&x, apex, DNS_T_IXFR, ID, 100, NULL, NULL, 0, NULL);
	assert_int_equal(xfr_in_message(&x, m.b, m.n, NOW), XFR_IN_DONE);
	assert_int_equal(x.kind, XFR_IN_KIND_UPTODATE);
	xfr_in_free(&x);
}

/* IXFR whose differences start elsewhere than our serial, or do not chain. */
static void test_ixfr_not_chained(void **state)
{
	(void)state;
	struct xfr_in x;
	struct mb m;
	mb_start(&m, ID, DNS_T_IXFR);
	mb_soa(&m, 101);
	mb_soa(&m, 99);
	xfr_in_init(&x, apex, DNS_T_IXFR, ID, 100, NULL, NULL, 0, NULL);
	assert_refused(&x, xfr_in_message(&x, m.b, m.n, NOW), XFR_IN_E_IXFR);
	xfr_in_free(&x);

	mb_start(&m, ID, DNS_T_IXFR);
	mb_soa(&m, 102);
	mb_soa(&m, 100);
	mb_soa(&m, 101);
	mb_soa(&m, 105);   /* a sequence from 105 after one to 101 */
	xfr_in_init(&x, apex, DNS_T_IXFR, ID, 100, NULL, NULL, 0, NULL);
	assert_refused(&x, xfr_in_message(&x, m.b, m.n, NOW), XFR_IN_E_IXFR);
	xfr_in_free(&x);
}

static void test_first_not_soa(void **state)
{
	(void)state;
	struct xfr_in x;
	struct mb m;
	mb_start(&m, ID, DNS_T_AXFR);
	mb_ns(&m);
	mb_soa(&m, 100);
	mb_soa(&m, 100);
	xfr_in_init(&x, apex, DNS_T_AXFR, ID, 0, NULL, NULL, 0, NULL);
	assert_refused(&x, xfr_in_message(&x, m.b, m.n, NOW), XFR_IN_E_FIRST);
	xfr_in_free(&x);

	/* an empty first answer */
	mb_start(&m, ID, DNS_T_AXFR);
	xfr_in_init(&x, apex, DNS_T_AXFR, ID, 0, NULL, NULL, 0, NULL);
	assert_refused(&x, xfr_in_message(&x, m.b, m.n, NOW), XFR_IN_E_FIRST);
	xfr_in_free(&x);
}

/* The final SOA (in the second message) is not the first one. */
static void test_soa_mismatch(void **state)
{
	(void)state;
	struct xfr_in x;
	struct mb m1, m2;
	mb_start(&m1, ID, DNS_T_AXFR);
	mb_soa(&m1, 100);
	mb_ns(&m1);
	mb_start(&m2, ID, 0);
	mb_a(&m2, WWW, 80);
	mb_soa(&m2, 101);
	xfr_in_init(&x, apex, DNS_T_AXFR, ID, 0, NULL, NULL, 0, NULL);
	assert_int_equal(xfr_in_message(&x, m1.b, m1.n, NOW), XFR_IN_MORE);
	assert_refused_why(&x, xfr_in_message(&x, m2.b, m2.n, NOW), XFR_IN_E_SOA, "serial 101");
	xfr_in_free(&x);
}

static void test_out_of_zone(void **state)
{
	(void)state;
	struct xfr_in x;
	struct mb m;
	mb_start(&m, ID, DNS_T_AXFR);
	mb_soa(&m, 100);
	mb_a(&m, OUT, 1);
	mb_soa(&m, 100);
	xfr_in_init(&x, apex, DNS_T_AXFR, ID, 0, NULL, NULL, 0, NULL);
	assert_refused_why(&x, xfr_in_message(&x, m.b, m.n, NOW), XFR_IN_E_OUTZONE, "www.other.test");
	xfr_in_free(&x);

	/* an SOA below the apex */
	mb_start(&m, ID, DNS_T_AXFR);
	mb_soa(&m, 100);
	mb_a(&m, WWW, 80);
	size_t at = m.n;
	mb_soa(&m, 100);
	struct mb m2;
	mb_start(&m2, ID, DNS_T_AXFR);
	mb_soa(&m2, 100);
	mb_a(&m2, WWW, 80);
	putname(&m2, WWW);   /* www's SOA: the apex SOA's fields after another owner */
	putb(&m2, m.b + at + sizeof(APEX), m.n - at - sizeof(APEX));
	m2.b[7]++;
	xfr_in_init(&x, apex, DNS_T_AXFR, ID, 0, NULL, NULL, 0, NULL);
	assert_refused(&x, xfr_in_message(&x, m2.b, m2.n, NOW), XFR_IN_E_OUTZONE);
	xfr_in_free(&x);
}

static void test_truncated(void **state)
{
	(void)state;
	struct xfr_in x;
	struct mb m;
	mb_start(&m, ID, DNS_T_AXFR);
	mb_soa(&m, 100);
	mb_a(&m, WWW, 80);
	mb_soa(&m, 100);
	/* cut inside the last record's rdata, then inside its fixed fields, then the header */
	static const size_t cut[] = { 5, 30, 0 };
	for (size_t i = 0; i < sizeof(cut) / sizeof(cut[0]); i++) {
		size_t n = cut[i] ? m.n - cut[i] : 7;
		xfr_in_init(&x, apex, DNS_T_AXFR, ID, 0, NULL, NULL, 0, NULL);
		assert_refused(&x, xfr_in_message(&x, m.b, n, NOW), XFR_IN_E_MALFORMED);
		xfr_in_free(&x);
	}
	/* ANCOUNT says one more record than there is */
	m.b[7]++;
	xfr_in_init(&x, apex, DNS_T_AXFR, ID, 0, NULL, NULL, 0, NULL);
	enum xfr_in_result r = xfr_in_message(&x, m.b, m.n, NOW);
	assert_true(r == XFR_IN_E_MALFORMED || r == XFR_IN_E_TRAILING);
	assert_int_equal(x.kind, XFR_IN_KIND_NONE);
	xfr_in_free(&x);
}

static void test_trailing(void **state)
{
	(void)state;
	struct xfr_in x;
	struct mb m;
	/* bytes after the last record */
	mb_start(&m, ID, DNS_T_AXFR);
	mb_soa(&m, 100);
	mb_soa(&m, 100);
	putb(&m, "\0\0\0", 3);
	xfr_in_init(&x, apex, DNS_T_AXFR, ID, 0, NULL, NULL, 0, NULL);
	assert_refused_why(&x, xfr_in_message(&x, m.b, m.n, NOW), XFR_IN_E_MALFORMED, "does not parse");   /* tsig_find walks the whole message first */
	xfr_in_free(&x);

	/* a record after the final SOA, in the same message */
	mb_start(&m, ID, DNS_T_AXFR);
	mb_soa(&m, 100);
	mb_soa(&m, 100);
	mb_a(&m, WWW, 80);
	xfr_in_init(&x, apex, DNS_T_AXFR, ID, 0, NULL, NULL, 0, NULL);
	assert_refused(&x, xfr_in_message(&x, m.b, m.n, NOW), XFR_IN_E_TRAILING);
	xfr_in_free(&x);
}

static void test_header(void **state)
{
	(void)state;
	struct xfr_in x;
	struct mb m;
	mb_start(&m, ID + 1, DNS_T_AXFR);   /* not our ID */
	mb_soa(&m, 100);
	mb_soa(&m, 100);
	xfr_in_init(&x, apex, DNS_T_AXFR, ID, 0, NULL, NULL, 0, NULL);
	assert_refused(&x, xfr_in_message(&x, m.b, m.n, NOW), XFR_IN_E_HEADER);
	xfr_in_free(&x);

	mb_start(&m, ID, DNS_T_AXFR);
	m.b[3] = DNS_RCODE_NOTAUTH;
	xfr_in_init(&x, apex, DNS_T_AXFR, ID, 0, NULL, NULL, 0, NULL);
	assert_refused(&x, xfr_in_message(&x, m.b, m.n, NOW), XFR_IN_E_RCODE);
	assert_int_equal(x.rcode, DNS_RCODE_NOTAUTH);
	xfr_in_free(&x);
}

/* ---- signed: RFC 8945 5.3.1, each message against the previous MAC ---- */

static struct tsig_key key;

static int lookup(void *ctx, const uint8_t *name, struct tsig_key *out)
{
	(void)ctx;
	(void)name;
	*out = key;
	return DDI_EOK;
}

static void test_axfr_signed(void **state)
{
	(void)state;
	assert_int_equal(tsig_key_parse(&key, "hmac-sha256:xfr.key:c2VjcmV0c2VjcmV0c2VjcmV0c2VjcmV0"), DDI_EOK);
	uint8_t q[512], qmac[TSIG_MAC_MAX], m1mac[TSIG_MAC_MAX], m2mac[TSIG_MAC_MAX];
	uint16_t qmac_len;
	int ql = xfr_in_query(q, sizeof(q), ID, apex, DNS_T_AXFR, NULL, 0, &key, NOW, qmac, &qmac_len);
	assert_true(ql > 0);
	/* the primary's side verifies the query and signs both messages */
	struct tsig_ctx tc;
	size_t tpos;
	assert_int_equal(tsig_find(q, (size_t)ql, &tpos), DDI_EOK);
	assert_int_equal(tsig_verify(&tc, q, (size_t)ql, tpos, NOW, lookup, NULL), TSIG_OK);
	struct mb m1, m2;
	mb_start(&m1, ID, DNS_T_AXFR);
	mb_soa(&m1, 100);
	mb_ns(&m1);
	mb_start(&m2, ID, 0);
	mb_a(&m2, WWW, 80);
	mb_soa(&m2, 100);
	int l1 = tsig_sign_multi(&tc, true, qmac, qmac_len, m1.b, &m1.n, sizeof(m1.b), NOW, m1mac);
	assert_true(l1 > 0);
	struct mb m2bad = m2;
	assert_true(tsig_sign_multi(&tc, false, m1mac, (uint16_t)l1, m2.b, &m2.n, sizeof(m2.b), NOW,
	                            m2mac) > 0);

	struct xfr_in x;
	xfr_in_init(&x, apex, DNS_T_AXFR, ID, 0, &key, qmac, qmac_len, NULL);
	assert_int_equal(xfr_in_message(&x, m1.b, m1.n, NOW), XFR_IN_MORE);
	assert_int_equal(xfr_in_message(&x, m2.b, m2.n, NOW), XFR_IN_DONE);
	assert_int_equal(x.kind, XFR_IN_KIND_AXFR);
	xfr_in_free(&x);

	/* the second message signed over the request's MAC instead of the first message's */
	assert_true(tsig_sign_multi(&tc, false, qmac, qmac_len, m2bad.b, &m2bad.n, sizeof(m2bad.b),
	                            NOW, m2mac) > 0);
	xfr_in_init(&x, apex, DNS_T_AXFR, ID, 0, &key, qmac, qmac_len, NULL);
	assert_int_equal(xfr_in_message(&x, m1.b, m1.n, NOW), XFR_IN_MORE);
	assert_refused(&x, xfr_in_message(&x, m2bad.b, m2bad.n, NOW), XFR_IN_E_TSIG);
	xfr_in_free(&x);

	/* an unsigned message in a signed transfer */
	struct mb m3;
	mb_start(&m3, ID, DNS_T_AXFR);
	mb_soa(&m3, 100);
	mb_soa(&m3, 100);
	xfr_in_init(&x, apex, DNS_T_AXFR, ID, 0, &key, qmac, qmac_len, NULL);
	assert_refused(&x, xfr_in_message(&x, m3.b, m3.n, NOW), XFR_IN_E_TSIG);
	xfr_in_free(&x);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_names),
		cmocka_unit_test(test_axfr_two_messages),
		cmocka_unit_test(test_ixfr),
		cmocka_unit_test(test_ixfr_two_sequences),
		cmocka_unit_test(test_ixfr_uptodate),
		cmocka_unit_test(test_ixfr_not_chained),
		cmocka_unit_test(test_first_not_soa),
		cmocka_unit_test(test_soa_mismatch),
		cmocka_unit_test(test_out_of_zone),
		cmocka_unit_test(test_truncated),
		cmocka_unit_test(test_trailing),
		cmocka_unit_test(test_header),
		cmocka_unit_test(test_axfr_signed),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
