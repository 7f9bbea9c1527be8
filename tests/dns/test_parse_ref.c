/* test_parse_ref -- dns_query_parse against the straightforward reference parse (wire_ref.c): outcome and every field, over generated, truncated and mutated messages */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "dns/name.h"
#include "dns/wire.h"
#include "tests/dns/wire_ref.h"

#define MSG_CAP 1024

struct msg {
	uint8_t b[MSG_CAP];
	size_t len;
};

/* Outcomes seen, so that a test shows it reached each one. */
static unsigned long seen[4];
static unsigned long checked;

/* xorshift64*, seeded per test: the same messages on every run. */
static uint64_t rng_state;

static uint32_t rnd(void)
{
	rng_state ^= rng_state >> 12;
	rng_state ^= rng_state << 25;
	rng_state ^= rng_state >> 27;
	return (uint32_t)((rng_state * 0x2545f4914f6cdd1dull) >> 32);
}

static void dump(const uint8_t *b, size_t len)
{
	for (size_t i = 0; i < len; i++)
		fprintf(stderr, "%02x%s", b[i], (i + 1) % 32 == 0 ? "\n" : " ");
	fprintf(stderr, "\n");
}

/*
 * Compare the two parses on the first `len` bytes of `b`, from a heap copy
 * of exactly that size so that ASan sees a read past the end.
 */
static void check(const uint8_t *b, size_t len)
{
	uint8_t *copy = malloc(len ? len : 1);
	assert_non_null(copy);
	memcpy(copy, b, len);
	enum dns_parse_result res;
	const char *diff = ref_query_check(copy, len, &res);
	if (diff != NULL) {
		fprintf(stderr, "dns_query_parse differs from the reference in '%s' (reference %d) on %zu bytes:\n",
		        diff, (int)res, len);
		dump(b, len);
	}
	free(copy);
	assert_null(diff);
	seen[res]++;
	/* and with no message at all, the same length */
	enum dns_parse_result none;
	assert_null(ref_query_check(NULL, len, &none));
	assert_int_equal(none, DNS_PARSE_DROP);
	checked++;
}

/* The message and each of its truncations. */
static void check_cuts(const struct msg *m)
{
	for (size_t l = 0; l <= m->len; l++)
		check(m->b, l);
}

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

static void header(struct msg *m, uint16_t flags, uint16_t qd, uint16_t an, uint16_t ns, uint16_t ar)
{
	m->len = 0;
	put16(m, 0xbeef);
	put16(m, flags);
	put16(m, qd);
	put16(m, an);
	put16(m, ns);
	put16(m, ar);
}

/* ------------------------------------------------------------------------ */
/* Question names, in wire form, valid and not                              */
/* ------------------------------------------------------------------------ */

struct wname {
	uint8_t b[300];
	size_t len;
};

static void label(struct wname *n, size_t l, uint8_t fill)
{
	n->b[n->len++] = (uint8_t)l;
	memset(n->b + n->len, fill, l);
	n->len += l;
}

enum { N_NAMES = 16 };

/* Name number i of the set: root, ordinary, odd bytes, every limit and just past it. */
static void make_name(struct wname *n, int i)
{
	static const uint8_t www[] = "\x03Www\x07" "Example\x03" "COM";
	static const uint8_t odd[] = "\x03" "a\x00" "b\x02\x01" "A\x01\x00";
	n->len = 0;
	switch (i) {
	case 0: break;                                              /* the root */
	case 1: label(n, 1, 'a'); break;
	case 2: memcpy(n->b, www, sizeof(www) - 1); n->len = sizeof(www) - 1; break;
	case 3: memcpy(n->b, odd, sizeof(odd) - 1); n->len = sizeof(odd) - 1; break;
	case 4: label(n, 63, 'X'); break;                           /* the longest label */
	case 5: label(n, 64, 'x'); break;                           /* 0x40: a reserved type */
	case 6:                                                     /* 255 octets */
		for (int k = 0; k < 3; k++)
			label(n, 63, (uint8_t)('a' + k));
		label(n, 61, 0);
		break;
	case 7:                                                     /* 256 octets */
		for (int k = 0; k < 3; k++)
			label(n, 63, (uint8_t)('a' + k));
		label(n, 62, 1);
		break;
	case 8:                                                     /* 127 labels, 255 octets */
		for (int k = 0; k < 127; k++)
			label(n, 1, (uint8_t)k);
		break;
	case 9:                                                     /* 128 labels, 257 octets */
		for (int k = 0; k < 128; k++)
			label(n, 1, 'Z');
		break;
	case 10: n->b[n->len++] = 0xc0; n->b[n->len++] = 0x0c; return;  /* a pointer */
	case 11: label(n, 1, 'a'); n->b[n->len++] = 0x80; n->b[n->len++] = 1; return;
	case 12: label(n, 2, 0); label(n, 1, 0xff); break;
	case 13: label(n, 5, 'h'); label(n, 5, 'b'); label(n, 4, 't'); break;  /* as the benchmark's */
	case 14: label(n, 20, 0x41); n->b[n->len++] = 0xff; return;   /* no root: 0xff */
	default: label(n, 3, 'q'); n->b[n->len++] = 0x3f; return;      /* cut inside the name */
	}
	n->b[n->len++] = 0;
}

/* ------------------------------------------------------------------------ */
/* Records that may follow the question                                     */
/* ------------------------------------------------------------------------ */

enum { R_A_PTR, R_A_NAME, R_OPT, R_OPT_OPTS, R_TSIG, R_OPT_BADOWNER, R_BADPTR, N_RECS };

static void record(struct msg *m, int kind)
{
	static const uint8_t a_ptr[] = { 0xc0, 0x0c, 0, 1, 0, 1, 0, 0, 0, 60, 0, 4, 198, 18, 0, 1 };
	static const uint8_t a_name[] = { 1, 'A', 0, 0, 1, 0, 1, 0, 0, 1, 0, 0, 4, 198, 18, 0, 2 };
	/* OPT, 4096, DO, options: NSID (empty), COOKIE 8 bytes, an unknown one */
	static const uint8_t opt_opts[] = { 0, 0, 41, 0x10, 0, 0, 0, 0x80, 0, 0, 24,
	                                    0, 3, 0, 0, 0, 10, 0, 8, 1, 2, 3, 4, 5, 6, 7, 8,
	                                    0xff, 0xfe, 0, 0 };
	static const uint8_t opt[] = { 0, 0, 41, 0x04, 0xd0, 0, 0, 0, 0, 0, 0 };
	static const uint8_t opt_owner[] = { 1, 'o', 0, 0, 41, 0x04, 0xd0, 0, 0, 0, 0, 0, 0 };
	/* TSIG: owner, type 250, class ANY, ttl 0, and a few bytes of rdata */
	static const uint8_t tsig[] = { 3, 'k', 'e', 'y', 0, 0, 250, 0, 255, 0, 0, 0, 0, 0, 3, 1, 2, 3 };
	static const uint8_t bad_ptr[] = { 0xc0, 0xff, 0, 1, 0, 1, 0, 0, 0, 0, 0, 0 };
	switch (kind) {
	case R_A_PTR: put(m, a_ptr, sizeof(a_ptr)); break;
	case R_A_NAME: put(m, a_name, sizeof(a_name)); break;
	case R_OPT: put(m, opt, sizeof(opt)); break;
	case R_OPT_OPTS: put(m, opt_opts, sizeof(opt_opts)); break;
	case R_TSIG: put(m, tsig, sizeof(tsig)); break;
	case R_OPT_BADOWNER: put(m, opt_owner, sizeof(opt_owner)); break;
	default: put(m, bad_ptr, sizeof(bad_ptr)); break;
	}
}

static void question(struct msg *m, const struct wname *n, uint16_t qtype, uint16_t qclass)
{
	put(m, n->b, n->len);
	put16(m, qtype);
	put16(m, qclass);
}

/* ------------------------------------------------------------------------ */
/* Tests                                                                    */
/* ------------------------------------------------------------------------ */

/* Every name, flags, question and plain OPT variant, and every truncation of each. */
static void test_ref_questions(void **state)
{
	(void)state;
	static const uint16_t flags[] = { 0x0100, 0x0000, 0x8000, 0x2800, 0x7910, 0x0030 };
	static const uint16_t types[][2] = { { 1, 1 }, { 28, 3 }, { 0xffff, 0 } };
	static const uint16_t sizes[] = { 0, 511, 512, 1232, 65535 };
	memset(seen, 0, sizeof(seen));
	for (int ni = 0; ni < N_NAMES; ni++) {
		struct wname n;
		make_name(&n, ni);
		for (size_t fi = 0; fi < sizeof(flags) / sizeof(flags[0]); fi++) {
			for (size_t ti = 0; ti < sizeof(types) / sizeof(types[0]); ti++) {
				struct msg m;
				header(&m, flags[fi], 1, 0, 0, 0);
				question(&m, &n, types[ti][0], types[ti][1]);
				check_cuts(&m);
				/* one more byte than the counts say */
				m.b[m.len++] = 0;
				check(m.b, m.len);
				/* a plain OPT: every size, version, extended rcode, DO and Z */
				for (size_t si = 0; si < sizeof(sizes) / sizeof(sizes[0]); si++) {
					for (int v = 0; v < 4; v++) {
						header(&m, flags[fi], 1, 0, 0, 1);
						question(&m, &n, types[ti][0], types[ti][1]);
						uint8_t o[11] = { 0, 0, 41, (uint8_t)(sizes[si] >> 8), (uint8_t)sizes[si],
						                  (uint8_t)(v == 3 ? 5 : 0), (uint8_t)(v == 1 ? 1 : v == 2 ? 255 : 0),
						                  (uint8_t)((v & 1) ? 0x80 : 0x7f), (uint8_t)(v * 0x55), 0, 0 };
						put(&m, o, sizeof(o));
						check_cuts(&m);
					}
				}
			}
		}
	}
	printf("questions: %lu checked: %lu OK, %lu DROP, %lu FORMERR, %lu BADVERS\n", checked,
	       seen[DNS_PARSE_OK], seen[DNS_PARSE_DROP], seen[DNS_PARSE_FORMERR], seen[DNS_PARSE_BADVERS]);
	for (int r = 0; r < 4; r++)
		assert_true(seen[r] > 0);
}

/*
 * Every combination of QDCOUNT 0..2, ANCOUNT and NSCOUNT 0..2, ARCOUNT
 * 0..3, with every sequence of up to three records after the question (so
 * that the counts match the records, and mostly do not).
 */
static void test_ref_counts(void **state)
{
	(void)state;
	struct wname n;
	make_name(&n, 2);
	memset(seen, 0, sizeof(seen));
	for (int qd = 0; qd < 3; qd++)
		for (int an = 0; an < 3; an++)
			for (int ns = 0; ns < 3; ns++)
				for (int ar = 0; ar < 4; ar++)
					for (int seq = 0; seq < 1 + N_RECS + N_RECS * N_RECS + N_RECS * N_RECS * N_RECS; seq++) {
						struct msg m;
						header(&m, 0x0100, (uint16_t)qd, (uint16_t)an, (uint16_t)ns, (uint16_t)ar);
						question(&m, &n, 1, 1);
						int s = seq, k = s == 0 ? 0 : s <= N_RECS ? 1 : s <= N_RECS + N_RECS * N_RECS ? 2 : 3;
						s -= k == 0 ? 0 : k == 1 ? 1 : k == 2 ? 1 + N_RECS : 1 + N_RECS + N_RECS * N_RECS;
						for (int r = 0; r < k; r++, s /= N_RECS)
							record(&m, s % N_RECS);
						check(m.b, m.len);
						check(m.b, m.len - 1);
						m.b[m.len++] = 0xc0;
						check(m.b, m.len);
					}
	printf("counts: OK %lu, FORMERR %lu, BADVERS %lu\n", seen[DNS_PARSE_OK], seen[DNS_PARSE_FORMERR],
	       seen[DNS_PARSE_BADVERS]);
	assert_true(seen[DNS_PARSE_OK] > 0 && seen[DNS_PARSE_FORMERR] > 0);
	/* and the counts at their highest */
	struct msg m;
	header(&m, 0x0100, 1, 0xffff, 0xffff, 0xffff);
	question(&m, &n, 1, 1);
	record(&m, R_OPT);
	check_cuts(&m);
}

static const uint8_t interesting[] = { 0x00, 0x01, 0x02, 0x0c, 0x29, 0x3e, 0x3f, 0x40, 0x41,
                                       0x7f, 0x80, 0xbf, 0xc0, 0xc1, 0xfe, 0xff, 'A', 'z' };

/* Change 1 to 4 bytes of `m`, or its length, in the ways that move a parse off its path. */
static void mutate(struct msg *m)
{
	int edits = 1 + (int)(rnd() % 4);
	for (int e = 0; e < edits; e++) {
		uint32_t how = rnd() % 8;
		if (how == 0 && m->len > 0) {
			m->len = rnd() % m->len;                              /* cut */
		} else if (how == 1 && m->len + 4 < MSG_CAP) {
			for (int k = 1 + (int)(rnd() % 4); k > 0; k--)        /* extend */
				m->b[m->len++] = (uint8_t)rnd();
		} else if (how == 2 && m->len >= DNS_HDR_LEN) {
			m->b[4 + rnd() % 8] = (uint8_t)(rnd() % 3);           /* a count */
		} else if (m->len > 0) {
			size_t at = rnd() % m->len;
			m->b[at] = how & 1 ? interesting[rnd() % sizeof(interesting)] : (uint8_t)rnd();
		}
	}
}

/* Mutations of the common query (with and without OPT) and of the others. */
static void test_ref_mutated(void **state)
{
	(void)state;
	rng_state = 0x9e3779b97f4a7c15ull;
	memset(seen, 0, sizeof(seen));
	for (int base = 0; base < 40; base++) {
		struct wname n;
		make_name(&n, base % N_NAMES);
		struct msg orig;
		header(&orig, 0x0100, 1, 0, 0, base % 3 ? 1 : 0);
		question(&orig, &n, 1, 1);
		if (base % 3 == 1)
			record(&orig, R_OPT);
		else if (base % 3 == 2)
			record(&orig, (base / 3) % N_RECS);
		for (int i = 0; i < 4000; i++) {
			struct msg m = orig;
			mutate(&m);
			check(m.b, m.len);
		}
	}
	printf("mutated: OK %lu, DROP %lu, FORMERR %lu, BADVERS %lu\n", seen[DNS_PARSE_OK],
	       seen[DNS_PARSE_DROP], seen[DNS_PARSE_FORMERR], seen[DNS_PARSE_BADVERS]);
	for (int r = 0; r < 4; r++)
		assert_true(seen[r] > 0);
}

/*
 * Random bytes: lengths 0 to 300, the header half the time made to look
 * like a query (QR clear, QDCOUNT 1, ANCOUNT and NSCOUNT 0, ARCOUNT 0 or
 * 1), the name's bytes mostly small so that label walks go some way, and
 * half the time a plain OPT at the end.
 */
static void test_ref_random(void **state)
{
	(void)state;
	rng_state = 0x0123456789abcdefull;
	memset(seen, 0, sizeof(seen));
	for (int i = 0; i < 300000; i++) {
		struct msg m;
		m.len = rnd() % 301;
		uint32_t r = rnd();
		for (size_t k = 0; k < m.len; k++)
			m.b[k] = (r & 1) ? (uint8_t)(rnd() % 6) : (uint8_t)rnd();
		if ((r & 2) && m.len >= DNS_HDR_LEN) {
			static const uint8_t h[] = { 0, 0, 0, 0, 0, 1, 0, 0, 0, 0, 0, 0 };
			memcpy(m.b + 2, h + 2, 10);
			m.b[2] &= 0x7f;
			m.b[11] = (uint8_t)((r >> 2) & 1);
			if ((r & 8) && m.len >= DNS_HDR_LEN + 11) {
				static const uint8_t o[] = { 0, 0, 41, 2, 0, 0, 0, 0, 0, 0, 0 };
				memcpy(m.b + m.len - 11, o, sizeof(o));
				m.b[m.len - 5] = (uint8_t)(rnd() % 2);           /* version */
				m.b[m.len - 4] = (uint8_t)rnd();                 /* flags */
			}
			if (r & 16) {                                        /* a name that ends right */
				size_t root = m.len - ((r & 8) ? 16 : 5), p = DNS_HDR_LEN;
				while (p < root && root - DNS_HDR_LEN < 255) {
					size_t l = 1 + rnd() % 8;
					if (p + l + 1 > root)
						l = root - p - 1;
					m.b[p] = (uint8_t)l;
					p += l + 1;
				}
				if (root >= DNS_HDR_LEN && root < m.len)
					m.b[root] = 0;
			}
		}
		check(m.b, m.len);
	}
	printf("random: OK %lu, DROP %lu, FORMERR %lu, BADVERS %lu\n", seen[DNS_PARSE_OK],
	       seen[DNS_PARSE_DROP], seen[DNS_PARSE_FORMERR], seen[DNS_PARSE_BADVERS]);
	for (int r = 0; r < 4; r++)
		assert_true(seen[r] > 0);
}

/* The oracle itself can fail: a field changed by hand is named, and so is an unset one. */
static void test_ref_detects(void **state)
{
	(void)state;
	struct msg m;
	struct wname n;
	make_name(&n, 2);
	header(&m, 0x0100, 1, 0, 0, 1);
	question(&m, &n, 1, 1);
	record(&m, R_OPT);
	struct dns_query a, b;
	assert_int_equal(dns_query_parse(&a, m.b, m.len), DNS_PARSE_OK);
	assert_int_equal(ref_query_parse(&b, m.b, m.len), DNS_PARSE_OK);
	assert_null(ref_query_diff(&a, &b));
	a.qname_labels++;
	assert_string_equal(ref_query_diff(&a, &b), "qname_labels");
	a = b;
	a.tsig_pos = 1;
	assert_string_equal(ref_query_diff(&a, &b), "tsig_pos");
	a = b;
	a.edns_udp_size = 4096;
	assert_string_equal(ref_query_diff(&a, &b), "edns_udp_size");
	assert_int_equal(b.qname_labels, 3);
	assert_int_equal(b.edns_udp_size, 1232);
	assert_int_equal(b.opt_pos, m.len - 11);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_ref_detects),
		cmocka_unit_test(test_ref_questions),
		cmocka_unit_test(test_ref_counts),
		cmocka_unit_test(test_ref_mutated),
		cmocka_unit_test(test_ref_random),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
