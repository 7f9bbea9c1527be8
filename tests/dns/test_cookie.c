/* test_cookie -- dns/cookie.c: SipHash-2-4 vectors, RFC 9018 server cookies, validity window, rotation */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include <cmocka.h>

#include "dns/cookie.h"
#include "dns/wire.h"

static void hex(uint8_t *out, const char *s)
{
	for (size_t i = 0; s[2 * i]; i++) {
		unsigned v;
		assert_int_equal(sscanf(s + 2 * i, "%2x", &v), 1);
		out[i] = (uint8_t)v;
	}
}

/*
 * The reference implementation's vectors (vectors.h of
 * github.com/veorq/SipHash, and the paper's appendix A): key 00..0f,
 * message 00..(n-1); the output as a little-endian 64-bit value.
 */
static void test_siphash_vectors(void **state)
{
	(void)state;
	uint8_t key[16], msg[64];
	for (int i = 0; i < 16; i++)
		key[i] = (uint8_t)i;
	for (int i = 0; i < 64; i++)
		msg[i] = (uint8_t)i;
	assert_true(dns_siphash24(key, msg, 0) == 0x726fdb47dd0e0e31ULL);
	assert_true(dns_siphash24(key, msg, 1) == 0x74f839c593dc67fdULL);
	/* the paper's example: 15 bytes, one full block and 7 in the last */
	assert_true(dns_siphash24(key, msg, 15) == 0xa129ca6149be45e5ULL);
}

/* Another block boundary: every length hashes differently, and the key matters. */
static void test_siphash_lengths(void **state)
{
	(void)state;
	uint8_t key[16] = { 0 }, msg[40] = { 0 };
	uint64_t seen[41];
	for (size_t n = 0; n <= 40; n++) {
		seen[n] = dns_siphash24(key, msg, n);
		for (size_t k = 0; k < n; k++)
			assert_true(seen[k] != seen[n]);
	}
	key[15] = 1;
	assert_true(dns_siphash24(key, msg, 24) != seen[24]);
}

static void test_len_ok(void **state)
{
	(void)state;
	/* RFC 7873 5.2.2 */
	for (size_t n = 0; n < 60; n++)
		assert_int_equal(dns_cookie_len_ok(n), n == 8 || (n >= 16 && n <= 40));
}

/*
 * RFC 9018 appendix A.1: the learning exchange of a client at
 * 198.51.100.100 with a server whose secret is e5e973e5a6b2a43f48e7dc849e37bfcf,
 * at time 1559731985.
 */
static void test_rfc9018_a1(void **state)
{
	(void)state;
	uint8_t secret[16], client[8], expect[16], out[16];
	const uint8_t ip[4] = { 198, 51, 100, 100 };
	hex(secret, "e5e973e5a6b2a43f48e7dc849e37bfcf");
	hex(client, "2464c4abcf10c957");
	hex(expect, "010000005cf79f111f8130c3eee29480");
	dns_cookie_server_make(out, client, 1559731985, ip, 4, secret);
	assert_memory_equal(out, expect, 16);
}

struct fixture {
	struct dns_cookie_secrets s;
	uint8_t ip4[4], ip6[16];
	uint8_t opt[40];
};

static void setup_secrets(struct fixture *f, uint8_t fill)
{
	uint8_t secret[16];
	memset(secret, fill, sizeof(secret));
	dns_cookie_secrets_init(&f->s, secret);
	memcpy(f->ip4, (uint8_t[]){ 198, 18, 0, 2 }, 4);
	memset(f->ip6, 0, 16);
	f->ip6[0] = 0x20; f->ip6[1] = 0x01; f->ip6[3] = 0x02; f->ip6[15] = 2;
	hex(f->opt, "0102030405060708");
}

/* What a client does: send its client cookie, keep what the server gave back. */
static enum dns_cookie_verdict learn(struct fixture *f, uint32_t now, const uint8_t *ip,
                                     size_t iplen, uint8_t out[DNS_COOKIE_LEN])
{
	enum dns_cookie_verdict v = dns_cookie_check(&f->s, now, f->opt, 8, ip, iplen);
	assert_int_equal(dns_cookie_respond(&f->s, v, now, f->opt, ip, iplen, out), DNS_COOKIE_LEN);
	return v;
}

static void test_round_trip(void **state)
{
	(void)state;
	struct fixture f;
	uint8_t c[DNS_COOKIE_LEN], c2[DNS_COOKIE_LEN];
	const uint32_t t = 1700000000;
	setup_secrets(&f, 0x5a);

	assert_int_equal(dns_cookie_check(&f.s, t, NULL, 0, f.ip4, 4), DNS_COOKIE_NONE);
	assert_int_equal(learn(&f, t, f.ip4, 4, c), DNS_COOKIE_NEW);
	assert_memory_equal(c, f.opt, 8);               /* the client cookie comes back first */
	assert_int_equal(c[8], DNS_COOKIE_VERSION);
	assert_int_equal(dns_get32(c + 12), t);

	/* sent back: valid and echoed as it is, up to 30 minutes later */
	assert_int_equal(dns_cookie_check(&f.s, t + 1800, c, 24, f.ip4, 4), DNS_COOKIE_VALID);
	assert_int_equal(dns_cookie_respond(&f.s, DNS_COOKIE_VALID, t + 1800, c, f.ip4, 4, c2), 24);
	assert_memory_equal(c2, c, 24);
	/* RFC 9018 4.3: older than half an hour, still valid but replaced */
	assert_int_equal(dns_cookie_check(&f.s, t + 1801, c, 24, f.ip4, 4), DNS_COOKIE_REFRESHED);
	dns_cookie_respond(&f.s, DNS_COOKIE_REFRESHED, t + 1801, c, f.ip4, 4, c2);
	assert_int_equal(dns_get32(c2 + 12), t + 1801);
	assert_int_equal(dns_cookie_check(&f.s, t + 1801, c2, 24, f.ip4, 4), DNS_COOKIE_VALID);

	/* the same over IPv6 */
	assert_int_equal(learn(&f, t, f.ip6, 16, c), DNS_COOKIE_NEW);
	assert_int_equal(dns_cookie_check(&f.s, t + 10, c, 24, f.ip6, 16), DNS_COOKIE_VALID);
}

static void test_rejections(void **state)
{
	(void)state;
	struct fixture f;
	uint8_t c[DNS_COOKIE_LEN], bad[DNS_COOKIE_LEN];
	const uint32_t t = 1700000000;
	setup_secrets(&f, 0x11);
	learn(&f, t, f.ip4, 4, c);

	/* every byte of the server cookie and of the client cookie counts */
	for (size_t i = 0; i < DNS_COOKIE_LEN; i++) {
		memcpy(bad, c, sizeof(bad));
		bad[i] ^= 0x40;
		assert_int_equal(dns_cookie_check(&f.s, t, bad, 24, f.ip4, 4), DNS_COOKIE_BAD);
	}
	/* another client address */
	uint8_t other[4] = { 198, 18, 0, 3 };
	assert_int_equal(dns_cookie_check(&f.s, t, c, 24, other, 4), DNS_COOKIE_BAD);
	/* RFC 9018 4.3: more than 1 hour in the past, more than 5 minutes in the future */
	assert_int_equal(dns_cookie_check(&f.s, t + 3600, c, 24, f.ip4, 4), DNS_COOKIE_REFRESHED);
	assert_int_equal(dns_cookie_check(&f.s, t + 3601, c, 24, f.ip4, 4), DNS_COOKIE_BAD);
	assert_int_equal(dns_cookie_check(&f.s, t - 300, c, 24, f.ip4, 4), DNS_COOKIE_VALID);
	assert_int_equal(dns_cookie_check(&f.s, t - 301, c, 24, f.ip4, 4), DNS_COOKIE_BAD);
	/* a server cookie of another size (another server's) is not ours */
	uint8_t longer[32] = { 0 };
	memcpy(longer, c, 24);
	assert_int_equal(dns_cookie_check(&f.s, t, longer, 32, f.ip4, 4), DNS_COOKIE_BAD);
	assert_int_equal(dns_cookie_check(&f.s, t, longer, 16, f.ip4, 4), DNS_COOKIE_BAD);
	/* malformed lengths (RFC 7873 5.2.2): nothing to send back */
	for (size_t n = 0; n < 60; n++) {
		if (dns_cookie_len_ok(n))
			continue;
		uint8_t buf[60] = { 0 };
		assert_int_equal(dns_cookie_check(&f.s, t, buf, n, f.ip4, 4), DNS_COOKIE_MALFORMED);
		assert_int_equal(dns_cookie_respond(&f.s, DNS_COOKIE_MALFORMED, t, buf, f.ip4, 4, bad), 0);
	}
	/* serial arithmetic: valid across the 2^32 wrap of the timestamp */
	learn(&f, 0xfffffff0u, f.ip4, 4, c);
	assert_int_equal(dns_cookie_check(&f.s, 0x10, c, 24, f.ip4, 4), DNS_COOKIE_VALID);
}

static void test_rotation(void **state)
{
	(void)state;
	struct fixture f;
	uint8_t c0[DNS_COOKIE_LEN], c1[DNS_COOKIE_LEN], out[DNS_COOKIE_LEN];
	uint8_t next[16];
	const uint32_t t = 1700000000;
	setup_secrets(&f, 0x22);
	learn(&f, t, f.ip4, 4, c0);

	memset(next, 0x33, sizeof(next));
	dns_cookie_rotate(&f.s, next);
	/* made with the previous secret: accepted, and replaced by one of the current secret */
	assert_int_equal(dns_cookie_check(&f.s, t + 5, c0, 24, f.ip4, 4), DNS_COOKIE_REFRESHED);
	dns_cookie_respond(&f.s, DNS_COOKIE_REFRESHED, t + 5, c0, f.ip4, 4, out);
	assert_memory_not_equal(out + 16, c0 + 16, 8);
	assert_int_equal(dns_cookie_check(&f.s, t + 5, out, 24, f.ip4, 4), DNS_COOKIE_VALID);
	learn(&f, t + 5, f.ip4, 4, c1);

	/* a second rotation: the first secret is gone, the second is now the previous one */
	memset(next, 0x44, sizeof(next));
	dns_cookie_rotate(&f.s, next);
	assert_int_equal(dns_cookie_check(&f.s, t + 10, c0, 24, f.ip4, 4), DNS_COOKIE_BAD);
	assert_int_equal(dns_cookie_check(&f.s, t + 10, c1, 24, f.ip4, 4), DNS_COOKIE_REFRESHED);
	/* and a third: the slot of the first secret is reused, its cookies stay invalid */
	memset(next, 0x55, sizeof(next));
	dns_cookie_rotate(&f.s, next);
	assert_int_equal(dns_cookie_check(&f.s, t + 10, c0, 24, f.ip4, 4), DNS_COOKIE_BAD);
	assert_int_equal(dns_cookie_check(&f.s, t + 10, c1, 24, f.ip4, 4), DNS_COOKIE_BAD);
}

/* The COOKIE option as dns_query_parse finds it, and appended to a response's OPT. */
static void test_wire(void **state)
{
	(void)state;
	uint8_t m[128];
	size_t n = 0;
	static const uint8_t hdr[12] = { 0x12, 0x34, 0, 0, 0, 1, 0, 0, 0, 0, 0, 1 };
	memcpy(m, hdr, 12);
	n = 12;
	memcpy(m + n, "\1a\0\0\1\0\1", 7);   /* a. IN A */
	n += 7;
	size_t opt = n;
	memcpy(m + n, "\0\0\51\4\320\0\0\0\0\0\14", 11);  /* OPT, 1232, rdlength 12 */
	n += 11;
	memcpy(m + n, "\0\12\0\10" "ABCDEFGH", 12);
	n += 12;
	struct dns_query q;
	assert_int_equal(dns_query_parse(&q, m, n), DNS_PARSE_OK);
	assert_non_null(dns_query_cookie(&q));
	assert_int_equal(q.edns_cookie_len, 8);
	assert_memory_equal(dns_query_cookie(&q), "ABCDEFGH", 8);

	/* append a second option: RDLENGTH grows, the message still parses */
	size_t n2 = dns_opt_append_option(m, n, sizeof(m), opt, 65001, (const uint8_t *)"xy", 2);
	assert_int_equal(n2, n + 6);
	assert_int_equal(dns_get16(m + opt + 9), 18);
	assert_int_equal(dns_query_parse(&q, m, n2), DNS_PARSE_OK);
	/* not at an OPT, not the last record, no room: refused */
	assert_int_equal(dns_opt_append_option(m, n2, sizeof(m), 12, 1, m, 1), 0);
	assert_int_equal(dns_opt_append_option(m, n2 - 1, sizeof(m), opt, 1, m, 1), 0);
	assert_int_equal(dns_opt_append_option(m, n2, n2 + 4, opt, 1, m, 1), 0);
}

/* Secrets written in hex (--cookie-secret-file): exactly 32 digits, either case. */
static void test_secret_hex(void **state)
{
	(void)state;
	uint8_t k[DNS_COOKIE_SECRET_LEN];
	const char *good = "000102030405060708090A0b0C0d0E0f";
	assert_int_equal(dns_cookie_secret_from_hex(good, strlen(good), k), 0);
	for (int i = 0; i < DNS_COOKIE_SECRET_LEN; i++)
		assert_int_equal(k[i], i);
	const char *bad[] = { "", "00", "000102030405060708090a0b0c0d0e0", /* 31 */
	                      "000102030405060708090a0b0c0d0e0f00",         /* 34 */
	                      "000102030405060708090a0b0c0d0e0g",           /* not hex */
	                      "0x0102030405060708090a0b0c0d0e0f",           /* prefix */
	                      "00010203040506070809 a0b0c0d0e0f" };
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++)
		assert_int_equal(dns_cookie_secret_from_hex(bad[i], strlen(bad[i]), k), -1);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_siphash_vectors),
		cmocka_unit_test(test_siphash_lengths),
		cmocka_unit_test(test_len_ok),
		cmocka_unit_test(test_rfc9018_a1),
		cmocka_unit_test(test_round_trip),
		cmocka_unit_test(test_rejections),
		cmocka_unit_test(test_rotation),
		cmocka_unit_test(test_wire),
		cmocka_unit_test(test_secret_hex),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
