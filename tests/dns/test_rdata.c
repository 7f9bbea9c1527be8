/* test_rdata -- RR type table, TTLs, rdata presentation <-> wire, checks, message parsing */
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
#include "dns/rdata.h"

#define MAXF 64

/* Split rdata text as the zone-file tokenizer would: blanks separate, "..." quotes (escapes kept). */
struct fields {
	char buf[4096];
	const char *f[MAXF];
	bool q[MAXF];
	int n;
};

static void split(struct fields *fs, const char *s)
{
	char *o = fs->buf;

	fs->n = 0;
	while (*s) {
		if (*s == ' ') {
			s++;
			continue;
		}
		assert_true(fs->n < MAXF);
		fs->f[fs->n] = o;
		fs->q[fs->n] = *s == '"';
		if (*s == '"') {
			s++;
			while (*s && *s != '"') {
				if (*s == '\\' && s[1])
					*o++ = *s++;
				*o++ = *s++;
			}
			assert_int_equal(*s, '"');
			s++;
		} else {
			while (*s && *s != ' ') {
				if (*s == '\\' && s[1])
					*o++ = *s++;
				*o++ = *s++;
			}
		}
		*o++ = '\0';
		fs->n++;
	}
}

static uint8_t origin[DNS_NAME_MAXLEN];

static int setup(void **state)
{
	(void)state;
	assert_int_equal(dns_name_from_str(origin, "example.com.", 12, NULL), 13);
	return 0;
}

/* Parse rdata text; returns the length or the error, with `err` filled. */
static int from(uint16_t type, const char *text, uint8_t *out, char *err, size_t errlen)
{
	struct fields fs;

	split(&fs, text);
	return dns_rdata_from_str(out, DNS_RDATA_MAXLEN, type, fs.f, fs.q, fs.n, origin, err, errlen);
}

static size_t unhex(uint8_t *out, const char *hex)
{
	size_t n = 0;

	for (; hex[0] && hex[1]; hex += 2) {
		unsigned v;

		assert_int_equal(sscanf(hex, "%2x", &v), 1);
		out[n++] = (uint8_t)v;
	}
	return n;
}

/* ------------------------------------------------------------------------ */

static void test_type_table(void **state)
{
	(void)state;
	assert_int_equal(dns_type_from_str("A", 1), DNS_T_A);
	assert_int_equal(dns_type_from_str("a", 1), DNS_T_A);
	assert_int_equal(dns_type_from_str("aaaa", 4), DNS_T_AAAA);
	assert_int_equal(dns_type_from_str("Caa", 3), DNS_T_CAA);
	assert_int_equal(dns_type_from_str("dhcid", 5), DNS_T_DHCID);
	assert_int_equal(dns_type_from_str("SOA", 3), DNS_T_SOA);
	assert_int_equal(dns_type_from_str("TYPE65280", 9), 65280);
	assert_int_equal(dns_type_from_str("type1", 5), DNS_T_A);
	assert_int_equal(dns_type_from_str("TYPE65536", 9), 0);
	assert_int_equal(dns_type_from_str("TYPE", 4), 0);
	assert_int_equal(dns_type_from_str("TYPE1x", 6), 0);
	assert_int_equal(dns_type_from_str("FOO", 3), 0);
	assert_int_equal(dns_type_from_str("AAAAX", 4), DNS_T_AAAA);   /* only len bytes count */
	assert_int_equal(dns_type_from_str("AA", 2), 0);
	assert_int_equal(dns_type_from_str("", 0), 0);
	assert_string_equal(dns_type_name(DNS_T_A), "A");
	assert_string_equal(dns_type_name(DNS_T_SRV), "SRV");
	assert_string_equal(dns_type_name(DNS_T_CAA), "CAA");
	assert_string_equal(dns_type_name(DNS_T_AXFR), "AXFR");
	assert_string_equal(dns_type_name(65280), "TYPE65280");
	assert_string_equal(dns_type_name(0), "TYPE0");
	assert_true(dns_type_is_meta(DNS_T_ANY));
	assert_true(dns_type_is_meta(DNS_T_OPT));
	assert_true(dns_type_is_meta(DNS_T_TSIG));
	assert_true(dns_type_is_meta(DNS_T_AXFR));
	assert_true(dns_type_is_meta(0));
	assert_false(dns_type_is_meta(DNS_T_A));
	assert_false(dns_type_is_meta(DNS_T_CAA));
	assert_false(dns_type_is_meta(65280));
}

static void test_ttl(void **state)
{
	static const struct { const char *s; int r; uint32_t v; } cases[] = {
		{ "3600", DDI_EOK, 3600 },
		{ "0", DDI_EOK, 0 },
		{ "1h", DDI_EOK, 3600 },
		{ "1H30m", DDI_EOK, 5400 },
		{ "1w2d3h4m5s", DDI_EOK, 604800 + 2 * 86400 + 3 * 3600 + 4 * 60 + 5 },
		{ "1W2D3H4M5S", DDI_EOK, 604800 + 2 * 86400 + 3 * 3600 + 4 * 60 + 5 },
		{ "2147483647", DDI_EOK, 2147483647 },
		{ "0000000000003600", DDI_EOK, 3600 },
		{ "2147483648", DDI_ETTL, 0 },
		{ "4294967296", DDI_ETTL, 0 },
		{ "99999999999999999999999", DDI_ETTL, 0 },
		{ "3551w", DDI_ETTL, 0 },
		{ "3550w3551w", DDI_ETTL, 0 },
		{ "", DDI_ESYNTAX, 0 },
		{ "h", DDI_ESYNTAX, 0 },
		{ "1h30", DDI_ESYNTAX, 0 },
		{ "-1", DDI_ESYNTAX, 0 },
		{ "1y", DDI_ESYNTAX, 0 },
		{ "1 h", DDI_ESYNTAX, 0 },
	};
	(void)state;
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		uint32_t v = 12345;
		int r = dns_ttl_from_str(&v, cases[i].s, strlen(cases[i].s));

		if (r != cases[i].r)
			fail_msg("'%s': got %d, want %d", cases[i].s, r, cases[i].r);
		if (r == DDI_EOK)
			assert_int_equal(v, cases[i].v);
	}
	/* Only len bytes are read. */
	uint32_t v;
	assert_int_equal(dns_ttl_from_str(&v, "12xyz", 2), DDI_EOK);
	assert_int_equal(v, 12);
}

/* text in, canonical text out, wire hex */
static const struct rt_case {
	uint16_t type;
	const char *in;
	const char *out;
	const char *hex;
} rt_cases[] = {
	{ DNS_T_A, "192.0.2.1", "192.0.2.1", "C0000201" },
	{ DNS_T_A, "0.0.0.0", "0.0.0.0", "00000000" },
	{ DNS_T_AAAA, "2001:db8::1", "2001:db8::1", "20010DB8000000000000000000000001" },
	{ DNS_T_AAAA, "2001:DB8:0:0:0:0:0:ff", "2001:db8::ff", "20010DB80000000000000000000000FF" },
	{ DNS_T_AAAA, "::ffff:192.0.2.1", "::ffff:192.0.2.1", "00000000000000000000FFFFC0000201" },
	{ DNS_T_NS, "ns1", "ns1.example.com.", "036E7331076578616D706C6503636F6D00" },
	{ DNS_T_NS, "ns.example.net.", "ns.example.net.", "026E73076578616D706C65036E657400" },
	{ DNS_T_CNAME, "@", "example.com.", "076578616D706C6503636F6D00" },
	{ DNS_T_PTR, ".", ".", "00" },
	{ DNS_T_SOA, "ns1 hostmaster 2024010101 2h 15M 1w 300",
	  "ns1.example.com. hostmaster.example.com. 2024010101 7200 900 604800 300",
	  "036E7331076578616D706C6503636F6D00"
	  "0A686F73746D6173746572076578616D706C6503636F6D00"
	  "78A3F175" "00001C20" "00000384" "00093A80" "0000012C" },
	{ DNS_T_SOA, "a. b. 4294967295 4294967295 0 1 2", "a. b. 4294967295 4294967295 0 1 2",
	  "016100016200" "FFFFFFFF" "FFFFFFFF" "00000000" "00000001" "00000002" },
	{ DNS_T_MX, "10 mail", "10 mail.example.com.", "000A046D61696C076578616D706C6503636F6D00" },
	{ DNS_T_MX, "0 .", "0 .", "000000" },
	{ DNS_T_TXT, "\"hello world\"", "\"hello world\"", "0B68656C6C6F20776F726C64" },
	{ DNS_T_TXT, "abc", "\"abc\"", "03616263" },
	{ DNS_T_TXT, "\"\"", "\"\"", "00" },
	{ DNS_T_TXT, "\"a\\\"b\" c\\\\d \"\\255\\000x\" \\;", "\"a\\\"b\" \"c\\\\d\" \"\\255\\000x\" \";\"",
	  "03612262" "03635C64" "03FF0078" "013B" },
	{ DNS_T_TXT, "\"tab\\009\\127\"", "\"tab\\009\\127\"", "05746162097F" },
	{ DNS_T_SRV, "0 5 5060 sip", "0 5 5060 sip.example.com.",
	  "0000000513C403736970076578616D706C6503636F6D00" },
	{ DNS_T_SRV, "65535 65535 65535 .", "65535 65535 65535 .", "FFFFFFFFFFFF00" },
	{ DNS_T_CAA, "0 issue \"ca.example\"", "0 issue \"ca.example\"",
	  "0005697373756563612E6578616D706C65" },
	{ DNS_T_CAA, "128 iodef mailto:sec@example.com", "128 iodef \"mailto:sec@example.com\"",
	  "800569" "6F646566" "6D61696C746F3A736563406578616D706C652E636F6D" },
	{ DNS_T_CAA, "0 issue \"\"", "0 issue \"\"", "000569737375" "65" },
	{ DNS_T_DHCID, "AAIBY2/AuCccgoJbsaxcQc9TUapptP69lOjxfNuVAA2kjEA=",
	  "AAIBY2/AuCccgoJbsaxcQc9TUapptP69lOjxfNuVAA2kjEA=",
	  "000201636FC0B8271C82825BB1AC5C41CF5351AA69B4FEBD94E8F17CDB95000DA48C40" },
	{ DNS_T_DHCID, "AAEB AQID", "AAEBAQID", "000101010203" },
	{ 65280, "\\# 3 abcdef", "\\# 3 ABCDEF", "ABCDEF" },
	{ 65280, "\\# 4 0a00 0001", "\\# 4 0A000001", "0A000001" },
	{ 65280, "\\# 0", "\\# 0", "" },
	{ DNS_T_A, "\\# 4 C0000201", "192.0.2.1", "C0000201" },
};

static void test_roundtrip(void **state)
{
	static uint8_t w1[DNS_RDATA_MAXLEN], w2[DNS_RDATA_MAXLEN], want[4096];
	char text[8192], err[256];
	(void)state;

	for (size_t i = 0; i < sizeof(rt_cases) / sizeof(rt_cases[0]); i++) {
		const struct rt_case *c = &rt_cases[i];
		size_t wn = unhex(want, c->hex);
		int n1, n2, t;

		n1 = from(c->type, c->in, w1, err, sizeof(err));
		if (n1 < 0)
			fail_msg("%s '%s': %d %s", dns_type_name(c->type), c->in, n1, err);
		assert_int_equal(n1, wn);
		if (memcmp(w1, want, wn) != 0)
			fail_msg("%s '%s': wire differs", dns_type_name(c->type), c->in);
		assert_int_equal(dns_rdata_check(c->type, w1, (uint16_t)n1), DDI_EOK);

		t = dns_rdata_to_str(text, sizeof(text), c->type, w1, (uint16_t)n1);
		assert_true(t >= 0);
		assert_int_equal((size_t)t, strlen(text));
		assert_string_equal(text, c->out);

		n2 = from(c->type, text, w2, err, sizeof(err));
		if (n2 < 0)
			fail_msg("%s '%s' (second pass): %d %s", dns_type_name(c->type), text, n2, err);
		assert_int_equal(n2, n1);
		assert_memory_equal(w2, w1, (size_t)n1);
	}
}

/* RFC 3597 5: the generic form of a known type gives the same wire as its normal form. */
static void test_generic_known(void **state)
{
	static const struct { uint16_t type; const char *normal; } cases[] = {
		{ DNS_T_A, "192.0.2.1" },
		{ DNS_T_AAAA, "2001:db8::1" },
		{ DNS_T_NS, "ns1.example.com." },
		{ DNS_T_MX, "10 mail.example.com." },
		{ DNS_T_SOA, "ns1 hostmaster 1 2 3 4 5" },
		{ DNS_T_TXT, "\"a b\" c" },
		{ DNS_T_SRV, "1 2 3 t.example." },
		{ DNS_T_CAA, "0 issue \"ca.example\"" },
		{ DNS_T_DHCID, "AAEBAQID" },
	};
	static uint8_t w1[DNS_RDATA_MAXLEN], w2[DNS_RDATA_MAXLEN];
	char text[8192], err[256];
	(void)state;

	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		int n1 = from(cases[i].type, cases[i].normal, w1, err, sizeof(err)), n2;
		int len;

		assert_true(n1 > 0);
		len = snprintf(text, sizeof(text), "\\# %d ", n1);
		for (int k = 0; k < n1; k++)
			len += snprintf(text + len, sizeof(text) - (size_t)len, "%02x", w1[k]);
		n2 = from(cases[i].type, text, w2, err, sizeof(err));
		if (n2 < 0)
			fail_msg("%s '%s': %s", dns_type_name(cases[i].type), text, err);
		assert_int_equal(n2, n1);
		assert_memory_equal(w1, w2, (size_t)n1);
	}
}

/* Bad input: refused with the code and a message naming what was expected. */
static const struct bad_case {
	uint16_t type;
	const char *in;
	int code;
	const char *msg;   /* exact message, or a prefix when it ends with '*' */
} bad_cases[] = {
	{ DNS_T_A, "1.2.3", DDI_ESYNTAX, "expected an IPv4 address, got '1.2.3'" },
	{ DNS_T_A, "1.2.3.4.5", DDI_ESYNTAX, "expected an IPv4 address, got '1.2.3.4.5'" },
	{ DNS_T_A, "256.1.1.1", DDI_ESYNTAX, "expected an IPv4 address, got '256.1.1.1'" },
	{ DNS_T_A, "1.2.3.4/24", DDI_ESYNTAX, "expected an IPv4 address, got '1.2.3.4/24'" },
	{ DNS_T_A, "\"1.2.3.4\"", DDI_ESYNTAX, "expected an IPv4 address, got '1.2.3.4'" },
	{ DNS_T_A, "1.2.3.4 5.6.7.8", DDI_ESYNTAX, "expected end of record, got '5.6.7.8'" },
	{ DNS_T_A, "", DDI_ESYNTAX, "expected an IPv4 address, got end of record" },
	{ DNS_T_A, "2001:db8::1", DDI_ESYNTAX, "expected an IPv4 address, got '2001:db8::1'" },
	{ DNS_T_A, "11111111111111111111111111111111111111111111111111", DDI_ESYNTAX,
	  "expected an IPv4 address, got '1111111111111111111111111111111111111111...'" },
	{ DNS_T_AAAA, "2001:db8::g", DDI_ESYNTAX, "expected an IPv6 address, got '2001:db8::g'" },
	{ DNS_T_AAAA, "192.0.2.1", DDI_ESYNTAX, "expected an IPv6 address, got '192.0.2.1'" },
	{ DNS_T_AAAA, "1:2:3:4:5:6:7:8:9", DDI_ESYNTAX, "expected an IPv6 address, got '1:2:3:4:5:6:7:8:9'" },
	{ DNS_T_NS, "\"ns1\"", DDI_ESYNTAX, "expected a domain name, got a quoted string" },
	{ DNS_T_NS, "a..b", DDI_ESYNTAX, "expected a domain name, got 'a..b'*" },
	{ DNS_T_NS, "", DDI_ESYNTAX, "expected a domain name, got end of record" },
	{ DNS_T_CNAME, "a b", DDI_ESYNTAX, "expected end of record, got 'b'" },
	{ DNS_T_PTR, "aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa.", DDI_ESYNTAX,
	  "expected a domain name, got*" },
	{ DNS_T_SOA, "ns1 hostmaster 1 2 3 4", DDI_ESYNTAX, "expected a minimum TTL, got end of record" },
	{ DNS_T_SOA, "ns1", DDI_ESYNTAX, "expected the mailbox name, got end of record" },
	{ DNS_T_SOA, "ns1 hm x 2 3 4 5", DDI_ESYNTAX, "expected a serial (0..4294967295), got 'x'" },
	{ DNS_T_SOA, "ns1 hm 4294967296 2 3 4 5", DDI_ESYNTAX,
	  "expected a serial (0..4294967295), got '4294967296'" },
	{ DNS_T_SOA, "ns1 hm 1h 2 3 4 5", DDI_ESYNTAX, "expected a serial (0..4294967295), got '1h'" },
	{ DNS_T_SOA, "ns1 hm 1 1x 3 4 5", DDI_ESYNTAX, "expected a refresh time, got '1x'" },
	{ DNS_T_SOA, "ns1 hm 1 2 3 4 5 6", DDI_ESYNTAX, "expected end of record, got '6'" },
	{ DNS_T_MX, "mail", DDI_ESYNTAX, "expected a preference (0..65535), got 'mail'" },
	{ DNS_T_MX, "65536 mail", DDI_ESYNTAX, "expected a preference (0..65535), got '65536'" },
	{ DNS_T_MX, "-1 mail", DDI_ESYNTAX, "expected a preference (0..65535), got '-1'" },
	{ DNS_T_MX, "10", DDI_ESYNTAX, "expected a mail exchanger name, got end of record" },
	{ DNS_T_TXT, "", DDI_ESYNTAX, "expected a character-string, got end of record" },
	{ DNS_T_TXT, "\"abc\\25\"", DDI_ESYNTAX, "bad escape in string 'abc\\25'" },
	{ DNS_T_TXT, "\"\\256\"", DDI_ESYNTAX, "bad escape in string '\\256'" },
	{ DNS_T_TXT, "abc\\", DDI_ESYNTAX, "bad escape in string 'abc\\'" },
	{ DNS_T_SRV, "1 2 sip", DDI_ESYNTAX, "expected a port (0..65535), got 'sip'" },
	{ DNS_T_SRV, "1 2 70000 t", DDI_ESYNTAX, "expected a port (0..65535), got '70000'" },
	{ DNS_T_SRV, "1 2 3", DDI_ESYNTAX, "expected a target name, got end of record" },
	{ DNS_T_CAA, "0 is-sue \"x\"", DDI_ESYNTAX,
	  "expected a CAA tag (1 to 15 letters and digits), got 'is-sue'" },
	{ DNS_T_CAA, "0 abcdefghijklmnop \"x\"", DDI_ESYNTAX,
	  "expected a CAA tag (1 to 15 letters and digits), got 'abcdefghijklmnop'" },
	{ DNS_T_CAA, "256 issue \"x\"", DDI_ESYNTAX, "expected CAA flags (0..255), got '256'" },
	{ DNS_T_CAA, "0 issue", DDI_ESYNTAX, "expected a CAA value, got end of record" },
	{ DNS_T_CAA, "0 issue a b", DDI_ESYNTAX, "expected end of record, got 'b'" },
	{ DNS_T_DHCID, "not*base64", DDI_ESYNTAX, "expected base64 data" },
	{ DNS_T_DHCID, "AAEBA", DDI_ESYNTAX, "expected base64 data" },
	{ DNS_T_DHCID, "AAEBAQ=D", DDI_ESYNTAX, "expected base64 data" },
	{ DNS_T_DHCID, "AAEBAQ== AAAA", DDI_ESYNTAX, "expected base64 data" },
	{ DNS_T_DHCID, "AAEBAR==", DDI_ESYNTAX, "expected base64 data" },   /* non-zero pad bits */
	{ DNS_T_DHCID, "AAE=", DDI_ERDATA, "DHCID data shorter than 3 bytes" },
	{ DNS_T_DHCID, "\"AAEBAQID\"", DDI_ESYNTAX, "expected base64 data, got a quoted string" },
	{ 65280, "abc", DDI_ESYNTAX, "type TYPE65280 needs the RFC 3597 form '\\# LEN HEX'" },
	{ 65280, "\\# 2 abcdef", DDI_ESYNTAX, "more hex data than the 2 bytes announced" },
	{ 65280, "\\# 3 abcd", DDI_ESYNTAX, "2 bytes of hex data, 3 announced" },
	{ 65280, "\\# 3 abcde", DDI_ESYNTAX, "odd number of hex digits" },
	{ 65280, "\\# 2 abxy", DDI_ESYNTAX, "expected hex digits, got 'abxy'" },
	{ 65280, "\\# x", DDI_ESYNTAX, "expected the rdata length (0..65535), got 'x'" },
	{ 65280, "\\# 65536", DDI_ESYNTAX, "expected the rdata length (0..65535), got '65536'" },
	{ 65280, "\\#", DDI_ESYNTAX, "expected the rdata length after '\\#', got end of record" },
	{ DNS_T_A, "\\# 3 0A0000", DDI_ERDATA, "the \\# data is not valid A rdata" },
	{ DNS_T_NS, "\\# 2 C00C", DDI_ERDATA, "the \\# data is not valid NS rdata" },
};

static void test_bad_input(void **state)
{
	static uint8_t w[DNS_RDATA_MAXLEN];
	char err[256];
	(void)state;

	for (size_t i = 0; i < sizeof(bad_cases) / sizeof(bad_cases[0]); i++) {
		const struct bad_case *c = &bad_cases[i];
		size_t ml = strlen(c->msg);
		int r = from(c->type, c->in, w, err, sizeof(err));

		if (r != c->code)
			fail_msg("%s '%s': got %d (%s), want %d", dns_type_name(c->type), c->in, r, err, c->code);
		if (c->msg[ml - 1] == '*' ? strncmp(err, c->msg, ml - 1) != 0 : strcmp(err, c->msg) != 0)
			fail_msg("%s '%s': message '%s', want '%s'", dns_type_name(c->type), c->in, err, c->msg);
	}
}

static void test_txt_limits(void **state)
{
	static uint8_t w[DNS_RDATA_MAXLEN];
	char s255[300], s256[300], esc[1100], err[256], text[4096];
	const char *f[3];
	bool q[3] = { true, true, true };
	int r;
	(void)state;

	memset(s255, 'a', 255);
	s255[255] = '\0';
	memset(s256, 'a', 256);
	s256[256] = '\0';
	f[0] = s255;
	f[1] = "b";
	r = dns_rdata_from_str(w, sizeof(w), DNS_T_TXT, f, q, 2, origin, err, sizeof(err));
	assert_int_equal(r, 258);
	assert_int_equal(w[0], 255);
	assert_int_equal(w[256], 1);
	assert_int_equal(w[257], 'b');

	f[0] = s256;
	r = dns_rdata_from_str(w, sizeof(w), DNS_T_TXT, f, q, 1, origin, err, sizeof(err));
	assert_int_equal(r, DDI_ESYNTAX);
	assert_string_equal(err, "string longer than 255 bytes: 'aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa...'");

	/* 255 bytes written as \DDD unescape to exactly 255: accepted. */
	for (int i = 0; i < 255; i++)
		memcpy(esc + 4 * i, "\\001", 4);
	esc[4 * 255] = '\0';
	f[0] = esc;
	r = dns_rdata_from_str(w, sizeof(w), DNS_T_TXT, f, q, 1, origin, err, sizeof(err));
	assert_int_equal(r, 256);
	r = dns_rdata_to_str(text, sizeof(text), DNS_T_TXT, w, 256);
	assert_int_equal(r, 2 + 4 * 255);

	/* Too small an output buffer. */
	f[0] = "abc";
	r = dns_rdata_from_str(w, 3, DNS_T_TXT, f, q, 1, origin, err, sizeof(err));
	assert_int_equal(r, DDI_ESPACE);
	assert_int_equal(dns_rdata_to_str(text, 5, DNS_T_TXT, (const uint8_t *)"\003abc", 4), DDI_ESPACE);
	assert_int_equal(dns_rdata_to_str(text, 6, DNS_T_TXT, (const uint8_t *)"\003abc", 4), 5);
}

static void test_check(void **state)
{
	static const struct { uint16_t type; const char *hex; int ok; } cases[] = {
		{ DNS_T_A, "C0000201", 1 },
		{ DNS_T_A, "C00002", 0 },
		{ DNS_T_A, "C000020100", 0 },
		{ DNS_T_AAAA, "20010DB8000000000000000000000001", 1 },
		{ DNS_T_AAAA, "C0000201", 0 },
		{ DNS_T_NS, "036E733100", 1 },
		{ DNS_T_NS, "036E7331", 0 },             /* no root label */
		{ DNS_T_NS, "036E73310000", 0 },         /* trailing byte */
		{ DNS_T_NS, "C00C", 0 },                 /* compressed */
		{ DNS_T_NS, "", 0 },
		{ DNS_T_CNAME, "4061", 0 },              /* label type 01 */
		{ DNS_T_SOA, "0161000162000000000100000002000000030000000400000005", 1 },
		{ DNS_T_SOA, "01610001620000000001000000020000000300000004000000", 0 },
		{ DNS_T_SOA, "016100", 0 },
		{ DNS_T_MX, "000A00", 1 },
		{ DNS_T_MX, "000A", 0 },
		{ DNS_T_MX, "00", 0 },
		{ DNS_T_SRV, "00010002000300", 1 },
		{ DNS_T_SRV, "000100020003", 0 },
		{ DNS_T_TXT, "00", 1 },
		{ DNS_T_TXT, "0361626300", 1 },
		{ DNS_T_TXT, "04616263", 0 },           /* string runs past the end */
		{ DNS_T_TXT, "", 0 },
		{ DNS_T_CAA, "0005697373756578", 1 },
		{ DNS_T_CAA, "000069", 0 },             /* tag length 0 */
		{ DNS_T_CAA, "00066973737565", 0 },     /* tag past the end */
		{ DNS_T_CAA, "00022D2D", 0 },           /* tag not alnum */
		{ DNS_T_CAA, "00", 0 },
		{ DNS_T_DHCID, "000102", 1 },
		{ DNS_T_DHCID, "0001", 0 },
		{ 65280, "", 1 },
		{ 65280, "FF", 1 },
	};
	uint8_t w[256];
	(void)state;

	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		size_t n = unhex(w, cases[i].hex);
		int r = dns_rdata_check(cases[i].type, w, (uint16_t)n);

		if ((r == DDI_EOK) != cases[i].ok || (r != DDI_EOK && r != DDI_ERDATA))
			fail_msg("%s %s: got %d", dns_type_name(cases[i].type), cases[i].hex, r);
	}
	/* Invalid wire is not printed. */
	char text[64];
	assert_int_equal(dns_rdata_to_str(text, sizeof(text), DNS_T_A, w, 3), DDI_ERDATA);
}

static void test_parse(void **state)
{
	/* header (12) | example.com. at 12 | rdata under test at 25 */
	uint8_t msg[512], out[DNS_RDATA_MAXLEN], want[256];
	size_t base, n, wn;
	int r;
	(void)state;

	memset(msg, 0, 12);
	base = 12 + unhex(msg + 12, "076578616D706C6503636F6D00");
	assert_int_equal(base, 25);

	/* MX 10 mail.<ptr to example.com.> */
	n = unhex(msg + base, "000A046D61696CC00C");
	r = dns_rdata_parse(out, sizeof(out), DNS_T_MX, msg, base + n, base, (uint16_t)n);
	wn = unhex(want, "000A046D61696C076578616D706C6503636F6D00");
	assert_int_equal(r, wn);
	assert_memory_equal(out, want, wn);

	/* SOA with both names compressed, the second pointing into the first. */
	n = unhex(msg + base, "036E7331C00C" "0A686F73746D6173746572C00C"
	          "0000000100000002000000030000000400000005");
	r = dns_rdata_parse(out, sizeof(out), DNS_T_SOA, msg, base + n, base, (uint16_t)n);
	wn = unhex(want, "036E7331076578616D706C6503636F6D00"
	           "0A686F73746D6173746572076578616D706C6503636F6D00"
	           "0000000100000002000000030000000400000005");
	assert_int_equal(r, wn);
	assert_memory_equal(out, want, wn);
	assert_int_equal(dns_soa_serial(out, (uint16_t)r), 1);
	assert_int_equal(dns_soa_minimum(out, (uint16_t)r), 5);
	dns_soa_set_serial(out, (uint16_t)r, 0xdeadbeef);
	assert_int_equal(dns_soa_serial(out, (uint16_t)r), 0xdeadbeef);
	assert_int_equal(dns_soa_minimum(out, (uint16_t)r), 5);

	/* NS, CNAME and PTR: one name, all of the rdata. */
	n = unhex(msg + base, "C00C");
	r = dns_rdata_parse(out, sizeof(out), DNS_T_CNAME, msg, base + n, base, (uint16_t)n);
	assert_int_equal(r, 13);
	assert_memory_equal(out, msg + 12, 13);

	/* SRV target compressed: tolerated. */
	n = unhex(msg + base, "000100020003C00C");
	r = dns_rdata_parse(out, sizeof(out), DNS_T_SRV, msg, base + n, base, (uint16_t)n);
	assert_int_equal(r, 6 + 13);

	/* A is copied and checked. */
	n = unhex(msg + base, "C0000201");
	r = dns_rdata_parse(out, sizeof(out), DNS_T_A, msg, base + n, base, (uint16_t)n);
	assert_int_equal(r, 4);
	r = dns_rdata_parse(out, sizeof(out), DNS_T_A, msg, base + n, base, 3);
	assert_int_equal(r, DDI_ERDATA);

	/* Empty rdata (RFC 2136 deletions) passes through. */
	r = dns_rdata_parse(out, sizeof(out), DNS_T_A, msg, base, base, 0);
	assert_int_equal(r, 0);

	/* rdlength past the message. */
	r = dns_rdata_parse(out, sizeof(out), DNS_T_A, msg, base + 2, base, 4);
	assert_int_equal(r, DDI_ETRUNC);

	/* Forward pointer (to itself) is refused. */
	n = unhex(msg + base, "C019");
	r = dns_rdata_parse(out, sizeof(out), DNS_T_NS, msg, base + n, base, (uint16_t)n);
	assert_true(r < 0);

	/* A name that runs past the rdata into the next bytes is refused. */
	n = unhex(msg + base, "036E7331" "00");
	r = dns_rdata_parse(out, sizeof(out), DNS_T_NS, msg, base + n, base, 4);
	assert_true(r < 0);

	/* A name shorter than the rdata leaves garbage: refused. */
	n = unhex(msg + base, "C00C" "FF");
	r = dns_rdata_parse(out, sizeof(out), DNS_T_NS, msg, base + n, base, (uint16_t)n);
	assert_int_equal(r, DDI_ERDATA);

	/* MX shorter than its preference. */
	n = unhex(msg + base, "00");
	r = dns_rdata_parse(out, sizeof(out), DNS_T_MX, msg, base + n, base, (uint16_t)n);
	assert_true(r < 0);

	/* Output too small for the decompressed name. */
	n = unhex(msg + base, "C00C");
	r = dns_rdata_parse(out, 5, DNS_T_NS, msg, base + n, base, (uint16_t)n);
	assert_int_equal(r, DDI_ESPACE);
}

static void test_target(void **state)
{
	uint8_t w[64];
	size_t n;
	(void)state;

	n = unhex(w, "000A046D61696C00");
	assert_ptr_equal(dns_rdata_target(DNS_T_MX, w, (uint16_t)n), w + 2);
	assert_ptr_equal(dns_rdata_target(DNS_T_NS, w, (uint16_t)n), w);
	assert_ptr_equal(dns_rdata_target(DNS_T_SRV, w, (uint16_t)n), w + 6);
	assert_null(dns_rdata_target(DNS_T_A, w, 4));
	assert_null(dns_rdata_target(DNS_T_CNAME, w, (uint16_t)n));
	assert_null(dns_rdata_target(DNS_T_MX, w, 2));
}

/* ------------------------------------------------------------------------ */
/* Randomized: every valid wire rdata prints and reads back to itself       */
/* ------------------------------------------------------------------------ */

static unsigned rnd_state = 2024;

static unsigned rnd(unsigned n)
{
	rnd_state = rnd_state * 1103515245u + 12345u;
	return (rnd_state >> 8) % n;
}

static size_t rnd_bytes(uint8_t *p, size_t n)
{
	for (size_t i = 0; i < n; i++)
		p[i] = (uint8_t)rnd(256);
	return n;
}

/* A random name whose labels hold any octet, specials included. */
static size_t rnd_name(uint8_t *p)
{
	static const char special[] = ".\\\"();@$ *";
	unsigned labels = rnd(4);
	size_t n = 0;

	for (unsigned l = 0; l < labels; l++) {
		unsigned len = 1 + rnd(6);

		p[n++] = (uint8_t)len;
		for (unsigned k = 0; k < len; k++)
			p[n++] = rnd(3) == 0 ? (uint8_t)special[rnd(sizeof(special) - 1)] : (uint8_t)rnd(256);
	}
	p[n++] = 0;
	return n;
}

static void test_random_roundtrip(void **state)
{
	static const uint16_t types[] = { DNS_T_A, DNS_T_AAAA, DNS_T_NS, DNS_T_CNAME, DNS_T_PTR,
	                                  DNS_T_SOA, DNS_T_MX, DNS_T_SRV, DNS_T_TXT, DNS_T_CAA,
	                                  DNS_T_DHCID, 65280, 99 };
	static const char alnum[] = "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789";
	static uint8_t w[DNS_RDATA_MAXLEN], back[DNS_RDATA_MAXLEN];
	static struct fields fs;
	char text[4096], err[256];
	(void)state;

	for (int it = 0; it < 20000; it++) {
		uint16_t type = types[rnd(sizeof(types) / sizeof(types[0]))];
		size_t n = 0;
		int t, r;

		switch (type) {
		case DNS_T_A: n = rnd_bytes(w, 4); break;
		case DNS_T_AAAA: n = rnd_bytes(w, 16); break;
		case DNS_T_NS:
		case DNS_T_CNAME:
		case DNS_T_PTR: n = rnd_name(w); break;
		case DNS_T_SOA:
			n = rnd_name(w);
			n += rnd_name(w + n);
			n += rnd_bytes(w + n, 20);
			break;
		case DNS_T_MX:
			n = rnd_bytes(w, 2);
			n += rnd_name(w + n);
			break;
		case DNS_T_SRV:
			n = rnd_bytes(w, 6);
			n += rnd_name(w + n);
			break;
		case DNS_T_TXT:
			for (unsigned k = 0, ns = 1 + rnd(3); k < ns; k++) {
				unsigned len = rnd(12);

				w[n++] = (uint8_t)len;
				n += rnd_bytes(w + n, len);
			}
			break;
		case DNS_T_CAA: {
			unsigned tl = 1 + rnd(15);

			w[n++] = (uint8_t)rnd(256);
			w[n++] = (uint8_t)tl;
			for (unsigned k = 0; k < tl; k++)
				w[n++] = (uint8_t)alnum[rnd(sizeof(alnum) - 1)];
			n += rnd_bytes(w + n, rnd(12));
			break;
		}
		case DNS_T_DHCID: n = rnd_bytes(w, 3 + rnd(20)); break;
		default: n = rnd_bytes(w, rnd(20)); break;
		}
		assert_int_equal(dns_rdata_check(type, w, (uint16_t)n), DDI_EOK);
		t = dns_rdata_to_str(text, sizeof(text), type, w, (uint16_t)n);
		assert_true(t >= 0);
		split(&fs, text);
		r = dns_rdata_from_str(back, sizeof(back), type, fs.f, fs.q, fs.n, origin, err, sizeof(err));
		if (r != (int)n || memcmp(back, w, n) != 0)
			fail_msg("%s '%s' read back as %d (%s)", dns_type_name(type), text, r, r < 0 ? err : "");
	}
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_type_table),
		cmocka_unit_test(test_ttl),
		cmocka_unit_test(test_roundtrip),
		cmocka_unit_test(test_generic_known),
		cmocka_unit_test(test_bad_input),
		cmocka_unit_test(test_txt_limits),
		cmocka_unit_test(test_check),
		cmocka_unit_test(test_parse),
		cmocka_unit_test(test_target),
		cmocka_unit_test(test_random_roundtrip),
	};

	return cmocka_run_group_tests(tests, setup, NULL);
}
