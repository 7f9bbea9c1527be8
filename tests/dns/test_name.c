/* test_name -- dns/name.c: presentation, wire, lookup-key forms and canonical order */
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

/* Presentation -> wire, asserting success; returns the wire length. */
static int from_str(uint8_t out[DNS_NAME_MAXLEN], const char *s, const uint8_t *origin)
{
	int r = dns_name_from_str(out, s, strlen(s), origin);
	assert_true(r > 0);
	return r;
}

static void test_from_str_basic(void **state)
{
	(void)state;
	uint8_t n[DNS_NAME_MAXLEN];

	assert_int_equal(from_str(n, "www.example.com.", NULL), 17);
	assert_memory_equal(n, "\3www\7example\3com\0", 17);
	assert_int_equal(from_str(n, ".", NULL), 1);
	assert_int_equal(n[0], 0);
	/* Relative without origin: the root is appended. */
	assert_int_equal(from_str(n, "a", NULL), 3);
	assert_memory_equal(n, "\1a\0", 3);
	/* Case is kept. */
	assert_int_equal(from_str(n, "WwW.Ex.", NULL), 8);
	assert_memory_equal(n, "\3WwW\2Ex\0", 8);
}

static void test_from_str_escapes(void **state)
{
	(void)state;
	uint8_t n[DNS_NAME_MAXLEN];

	/* \. is a dot inside a label. */
	assert_int_equal(from_str(n, "a\\.b.c.", NULL), 7);
	assert_memory_equal(n, "\3a.b\1c\0", 7);
	/* \\ is a backslash. */
	assert_int_equal(from_str(n, "a\\\\b.", NULL), 5);
	assert_memory_equal(n, "\3a\\b\0", 5);
	/* \065 is 'A', \000 a zero octet, \255 the largest. */
	assert_int_equal(from_str(n, "\\065\\000\\255.", NULL), 5);
	assert_memory_equal(n, "\3A\0\377\0", 5);
	/* A name ending in an escaped dot is relative. */
	uint8_t org[DNS_NAME_MAXLEN];
	from_str(org, "org.", NULL);
	assert_int_equal(from_str(n, "a\\.", org), 8);
	assert_memory_equal(n, "\2a.\3org\0", 8);
	/* Bad escapes. */
	assert_int_equal(dns_name_from_str(n, "a\\", 2, NULL), DDI_ESYNTAX);
	assert_int_equal(dns_name_from_str(n, "\\25", 3, NULL), DDI_ESYNTAX);
	assert_int_equal(dns_name_from_str(n, "\\256.", 5, NULL), DDI_ESYNTAX);
	assert_int_equal(dns_name_from_str(n, "\\2a5.", 5, NULL), DDI_ESYNTAX);
}

static void test_from_str_origin(void **state)
{
	(void)state;
	uint8_t org[DNS_NAME_MAXLEN], n[DNS_NAME_MAXLEN];

	from_str(org, "example.com.", NULL);
	assert_int_equal(from_str(n, "www", org), 17);
	assert_memory_equal(n, "\3www\7example\3com\0", 17);
	assert_int_equal(from_str(n, "a.b", org), 17);
	assert_memory_equal(n, "\1a\1b\7example\3com\0", 17);
	/* Absolute names ignore the origin. */
	assert_int_equal(from_str(n, "x.", org), 3);
	/* '@' is the origin, and the root without one. */
	assert_int_equal(from_str(n, "@", org), 13);
	assert_memory_equal(n, org, 13);
	assert_int_equal(from_str(n, "@", NULL), 1);
	assert_int_equal(n[0], 0);
	/* '@' inside a name is an ordinary octet. */
	assert_int_equal(from_str(n, "a@b.", NULL), 5);
	assert_memory_equal(n, "\3a@b\0", 5);
}

static void test_from_str_limits(void **state)
{
	(void)state;
	uint8_t n[DNS_NAME_MAXLEN];
	char s[DNS_NAME_STRLEN];

	/* Label of 63 is fine, 64 is not. */
	memset(s, 'a', 63);
	strcpy(s + 63, ".");
	assert_int_equal(dns_name_from_str(n, s, 64, NULL), 65);
	memset(s, 'a', 64);
	strcpy(s + 64, ".");
	assert_int_equal(dns_name_from_str(n, s, 65, NULL), DDI_ELABEL);
	/* Also through escapes. */
	s[0] = 0;
	for (int i = 0; i < 64; i++)
		strcat(s, "\\097");
	assert_int_equal(dns_name_from_str(n, s, strlen(s), NULL), DDI_ELABEL);

	/* 255 octets: 3 x 63 + 61, plus 4 length bytes and the root. */
	char l63[64], l61[62], l62[63];
	memset(l63, 'x', 63); l63[63] = 0;
	memset(l61, 'y', 61); l61[61] = 0;
	memset(l62, 'y', 62); l62[62] = 0;
	snprintf(s, sizeof(s), "%s.%s.%s.%s.", l63, l63, l63, l61);
	assert_int_equal(dns_name_from_str(n, s, strlen(s), NULL), 255);
	assert_int_equal(dns_name_check(n, 255), 255);
	snprintf(s, sizeof(s), "%s.%s.%s.%s.", l63, l63, l63, l62);
	assert_int_equal(dns_name_from_str(n, s, strlen(s), NULL), DDI_ENAMELEN);
	/* Relative: the origin pushes it over. */
	uint8_t org[DNS_NAME_MAXLEN];
	from_str(org, "z.", NULL);
	snprintf(s, sizeof(s), "%s.%s.%s.%s", l63, l63, l63, l61);
	assert_int_equal(dns_name_from_str(n, s, strlen(s), NULL), 255);
	assert_int_equal(dns_name_from_str(n, s, strlen(s), org), DDI_ENAMELEN);
	l61[59] = 0;
	snprintf(s, sizeof(s), "%s.%s.%s.%s", l63, l63, l63, l61); /* 3 x 64 + 60 + "\1z\0" */
	assert_int_equal(dns_name_from_str(n, s, strlen(s), org), 255);
	/* Many one-octet labels: 127 fit, 128 do not. */
	s[0] = 0;
	for (int i = 0; i < 127; i++)
		strcat(s, "a.");
	assert_int_equal(dns_name_from_str(n, s, strlen(s), NULL), 255);
	assert_int_equal(dns_name_labels(n), 127);
	strcat(s, "a.");
	assert_int_equal(dns_name_from_str(n, s, strlen(s), NULL), DDI_ENAMELEN);
}

static void test_from_str_empty_label(void **state)
{
	(void)state;
	uint8_t n[DNS_NAME_MAXLEN];

	assert_int_equal(dns_name_from_str(n, "", 0, NULL), DDI_ESYNTAX);
	assert_int_equal(dns_name_from_str(n, "a..b.", 5, NULL), DDI_ESYNTAX);
	assert_int_equal(dns_name_from_str(n, ".a.", 3, NULL), DDI_ESYNTAX);
	assert_int_equal(dns_name_from_str(n, "..", 2, NULL), DDI_ESYNTAX);
	assert_int_equal(dns_name_from_str(n, "a..", 3, NULL), DDI_ESYNTAX);
}

static void test_to_str(void **state)
{
	(void)state;
	char buf[DNS_NAME_STRLEN];
	uint8_t n[DNS_NAME_MAXLEN];

	assert_int_equal(dns_name_to_str(buf, sizeof(buf), (const uint8_t *)"\0"), 1);
	assert_string_equal(buf, ".");
	assert_int_equal(dns_name_to_str(buf, sizeof(buf), (const uint8_t *)"\3www\2Ex\0"), 7);
	assert_string_equal(buf, "www.Ex.");
	/* Specials get a backslash, non-printables \DDD. */
	n[0] = 13;
	memcpy(n + 1, "a.b\\\"();@$ \x7f\x00", 13);
	n[14] = 0;
	assert_int_equal(dns_name_to_str(buf, sizeof(buf), n), 29);
	assert_string_equal(buf, "a\\.b\\\\\\\"\\(\\)\\;\\@\\$\\ \\127\\000.");
	/* Too small buffers. */
	assert_int_equal(dns_name_to_str(buf, 7, (const uint8_t *)"\3www\2ex\0"), DDI_ESPACE);
	assert_int_equal(dns_name_to_str(buf, 8, (const uint8_t *)"\3www\2ex\0"), 7);
	assert_int_equal(dns_name_to_str(buf, 1, (const uint8_t *)"\0"), DDI_ESPACE);
	assert_int_equal(dns_name_to_str(buf, 4, (const uint8_t *)"\1\1\0"), DDI_ESPACE);
	assert_int_equal(dns_name_to_str(buf, 7, (const uint8_t *)"\1\1\0"), 5);
	assert_string_equal(buf, "\\001.");

	/* Worst case fits DNS_NAME_STRLEN: 255 octets of zero bytes. */
	memset(n, 0, sizeof(n));
	for (int i = 0; i < 4; i++)
		n[i * 64] = 63;
	n[192] = 61;
	n[254] = 0;
	assert_int_equal(dns_name_check(n, 255), 255);
	assert_int_equal(dns_name_to_str(buf, sizeof(buf), n), 250 * 4 + 4);
}

static void test_check(void **state)
{
	(void)state;

	assert_int_equal(dns_name_check((const uint8_t *)"\1a\0", 3), 3);
	assert_int_equal(dns_name_check((const uint8_t *)"\1a\0", 2), DDI_ETRUNC);
	assert_int_equal(dns_name_check((const uint8_t *)"\1a\300\014", 4), DDI_ECOMPR);
	assert_int_equal(dns_name_check((const uint8_t *)"\100", 1), DDI_ELABEL);
	assert_int_equal(dns_name_check((const uint8_t *)"\200", 1), DDI_ELABEL);
	assert_int_equal(dns_name_check((const uint8_t *)"", 0), DDI_ETRUNC);
	uint8_t big[300];
	memset(big, 'a', sizeof(big));
	for (int i = 0; i < 5; i++)
		big[i * 64] = 63;
	assert_int_equal(dns_name_check(big, sizeof(big)), DDI_ENAMELEN);
}

static void test_parse(void **state)
{
	(void)state;
	uint8_t out[DNS_NAME_MAXLEN];
	/* 12 bytes of header, then "www.example.com", then "mail" + pointer to
	 * "example.com" (offset 16), then a pointer to offset 33 ("mail..."). */
	uint8_t m[64] = { 0 };
	size_t len = 12;
	memcpy(m + len, "\3www\7example\3com\0", 17);
	len += 17;
	memcpy(m + len, "\4mail\300\020", 7);
	len += 7;
	m[len++] = 0xc0;
	m[len++] = 29;

	size_t pos = 12;
	assert_int_equal(dns_name_parse(m, len, &pos, out), 17);
	assert_int_equal(pos, 29);
	assert_int_equal(dns_name_parse(m, len, &pos, out), 18);
	assert_memory_equal(out, "\4mail\7example\3com\0", 18);
	assert_int_equal(pos, 36);
	assert_int_equal(dns_name_parse(m, len, &pos, out), 18);
	assert_int_equal(pos, 38);

	/* A pointer to itself and a forward pointer. */
	pos = 36;
	m[37] = 36;
	assert_int_equal(dns_name_parse(m, len, &pos, out), DDI_ECOMPR);
	pos = 36;
	m[37] = 37;
	assert_int_equal(dns_name_parse(m, len, &pos, out), DDI_ECOMPR);
	/* Pointer into the very run that holds it ("mail" then back to "mail"). */
	pos = 29;
	m[34] = 0xc0;
	m[35] = 29;
	assert_int_equal(dns_name_parse(m, len, &pos, out), DDI_ECOMPR);
	/* Truncated pointer and label. */
	pos = 12;
	assert_int_equal(dns_name_parse(m, 20, &pos, out), DDI_ETRUNC);
	m[40] = 0xc0;
	pos = 40;
	assert_int_equal(dns_name_parse(m, 41, &pos, out), DDI_ETRUNC);
	/* Reserved label types. */
	m[40] = 0x41;
	pos = 40;
	assert_int_equal(dns_name_parse(m, 50, &pos, out), DDI_ELABEL);
	m[40] = 0x80;
	pos = 40;
	assert_int_equal(dns_name_parse(m, 50, &pos, out), DDI_ELABEL);
}

static void test_parse_too_long(void **state)
{
	(void)state;
	uint8_t m[400] = { 0 }, out[DNS_NAME_MAXLEN];
	size_t len = 0;

	/* A chain of 63-octet labels each pointing back at the previous one:
	 * every pointer is legal, the expanded name is not. */
	m[len++] = 0;  /* root at offset 0 */
	size_t prev = 0;
	for (int i = 0; i < 5; i++) {
		size_t start = len;
		m[len++] = 63;
		memset(m + len, 'a' + i, 63);
		len += 63;
		m[len++] = 0xc0 | (uint8_t)(prev >> 8);
		m[len++] = (uint8_t)prev;
		prev = start;
	}
	size_t pos = 0;
	/* 4 labels: 4*64 + 1 = 257 > 255; 3 labels: 193 fine. */
	pos = 1 + 66 * 2;
	assert_int_equal(dns_name_parse(m, len, &pos, out), 3 * 64 + 1);
	pos = 1 + 66 * 3;
	assert_int_equal(dns_name_parse(m, len, &pos, out), DDI_ENAMELEN);
	pos = 1 + 66 * 4;
	assert_int_equal(dns_name_parse(m, len, &pos, out), DDI_ENAMELEN);
}

static void test_structure(void **state)
{
	(void)state;
	uint8_t a[DNS_NAME_MAXLEN], b[DNS_NAME_MAXLEN];

	from_str(a, "WWW.Example.COM.", NULL);
	from_str(b, "www.example.com.", NULL);
	assert_true(dns_name_equal(a, b));
	assert_int_equal(dns_name_cmp(a, b), 0);
	assert_int_equal(dns_name_labels(a), 3);
	assert_int_equal(dns_name_len(a), 17);
	assert_true(dns_name_is_sub(a, dns_name_parent(b)));
	assert_true(dns_name_is_sub(a, b));
	assert_false(dns_name_is_sub(dns_name_parent(a), b));
	assert_true(dns_name_is_sub(a, (const uint8_t *)"\0"));
	assert_null(dns_name_parent((const uint8_t *)"\0"));
	assert_memory_equal(dns_name_parent(a), "\7Example\3COM\0", 13);
	dns_name_lower(a);
	assert_memory_equal(a, b, 17);
	from_str(a, "*.example.com.", NULL);
	assert_true(dns_name_is_wildcard(a));
	assert_false(dns_name_is_wildcard(b));
	from_str(a, "\\*x.example.com.", NULL);
	assert_false(dns_name_is_wildcard(a));
	/* "example.com" is not below "ample.com". */
	from_str(a, "ample.com.", NULL);
	assert_false(dns_name_is_sub(b, a));
}

static void test_key(void **state)
{
	(void)state;
	uint8_t n[DNS_NAME_MAXLEN], back[DNS_NAME_MAXLEN], key[DNS_KEY_MAXLEN];

	assert_int_equal(dns_name_to_key(key, (const uint8_t *)"\0"), 0);
	assert_int_equal(dns_key_to_name(back, key, 0), 1);
	assert_int_equal(back[0], 0);

	from_str(n, "WwW.Example.com.", NULL);
	assert_int_equal(dns_name_to_key(key, n), 3 + 1 + 7 + 1 + 3 + 1);
	assert_memory_equal(key, "com\0example\0www\0", 16);
	assert_int_equal(dns_key_to_name(back, key, 16), 17);
	assert_memory_equal(back, "\3www\7example\3com\0", 17);

	/* 0x00 -> 01 01, 0x01 -> 01 02, 0x02 stays. */
	from_str(n, "\\000\\001\\002.", NULL);
	assert_int_equal(dns_name_to_key(key, n), 6);
	assert_memory_equal(key, "\1\1\1\2\2\0", 6);
	assert_int_equal(dns_key_to_name(back, key, 6), 5);
	assert_memory_equal(back, n, 5);

	/* The key of an ancestor is a prefix of its descendant's key. */
	uint8_t k2[DNS_KEY_MAXLEN];
	int l1 = dns_name_to_key(key, (const uint8_t *)"\7example\3com\0");
	int l2 = dns_name_to_key(k2, (const uint8_t *)"\1a\7example\3com\0");
	assert_true(l1 < l2);
	assert_memory_equal(key, k2, (size_t)l1);

	/* Malformed keys. */
	assert_true(dns_key_to_name(back, (const uint8_t *)"com", 3) < 0);         /* no terminator */
	assert_true(dns_key_to_name(back, (const uint8_t *)"\0", 1) < 0);          /* empty label */
	assert_true(dns_key_to_name(back, (const uint8_t *)"a\1\3\0", 4) < 0);     /* bad escape */
	assert_true(dns_key_to_name(back, (const uint8_t *)"a\1\0", 3) < 0);       /* escape cut */
	assert_true(dns_key_to_name(back, (const uint8_t *)"Com\0", 4) < 0);       /* not lower-cased */
	uint8_t big[200];
	memset(big, 'a', sizeof(big));
	big[199] = 0;
	assert_int_equal(dns_key_to_name(back, big, 200), DDI_ELABEL);
	/* 127 one-octet labels fit, 128 are one too many. */
	uint8_t big2[256];
	for (int i = 0; i < 128; i++) {
		big2[2 * i] = 'a';
		big2[2 * i + 1] = 0;
	}
	assert_int_equal(dns_key_to_name(back, big2, 254), 255);
	assert_int_equal(dns_key_to_name(back, big2, 256), DDI_ENAMELEN);
}

/* ------------------------------------------------------------------------ */
/* Randomized: key order == dns_name_cmp == an independent RFC 4034 6.1 oracle */
/* ------------------------------------------------------------------------ */

static uint64_t rng_state = 0x9e3779b97f4a7c15ull;

static uint32_t rnd(void)
{
	/* xorshift64*: deterministic so a failure is reproducible. */
	rng_state ^= rng_state >> 12;
	rng_state ^= rng_state << 25;
	rng_state ^= rng_state >> 27;
	return (uint32_t)((rng_state * 0x2545f4914f6cdd1dull) >> 32);
}

/* Octets that stress the encoding and case folding: 0x00, 0x01 (escaped),
 * 0x02, letters of both cases, '[' and '_' (between 'Z' and 'a'), 0xff, and
 * the octets that presentation form must escape. */
static const uint8_t alphabet[] = { 0x00, 0x01, 0x02, 'a', 'A', 'b', 'B', 'z', 'Z', '[', '_', 0xff, '-', '0',
                                    '.', '\\', ' ', '@', '$', '"', ';', '(', 0x7f, '9' };

/* A random valid name; small label counts and lengths so that names share
 * suffixes and prefixes often. */
static int random_name(uint8_t out[DNS_NAME_MAXLEN])
{
	int labels = (int)(rnd() % 5);
	size_t len = 0;

	if (rnd() % 50 == 0) {
		/* Now and then a long one, to exercise the size limits. */
		labels = 3 + (int)(rnd() % 2);
		for (int i = 0; i < labels; i++) {
			uint8_t l = (uint8_t)(40 + rnd() % 20);
			out[len++] = l;
			for (uint8_t j = 0; j < l; j++)
				out[len++] = alphabet[rnd() % sizeof(alphabet)];
		}
		out[len++] = 0;
		return (int)len;
	}
	for (int i = 0; i < labels; i++) {
		uint8_t l = (uint8_t)(1 + rnd() % 3);
		out[len++] = l;
		for (uint8_t j = 0; j < l; j++)
			out[len++] = alphabet[rnd() % 4 == 0 ? rnd() % sizeof(alphabet) : rnd() % 5];
	}
	out[len++] = 0;
	return (int)len;
}

static uint8_t fold(uint8_t c)
{
	return (c >= 'A' && c <= 'Z') ? (uint8_t)(c + 32) : c;
}

/* RFC 4034 6.1 written out the slow, obvious way: list the labels, walk them
 * from the right, compare each as a left-justified lower-cased octet string. */
static int oracle_cmp(const uint8_t *a, const uint8_t *b)
{
	const uint8_t *la[128], *lb[128];
	int na = 0, nb = 0;

	for (const uint8_t *p = a; *p; p += *p + 1)
		la[na++] = p;
	for (const uint8_t *p = b; *p; p += *p + 1)
		lb[nb++] = p;
	while (na > 0 && nb > 0) {
		const uint8_t *x = la[--na], *y = lb[--nb];
		for (int i = 1; i <= x[0] && i <= y[0]; i++) {
			if (fold(x[i]) != fold(y[i]))
				return fold(x[i]) < fold(y[i]) ? -1 : 1;
		}
		if (x[0] != y[0])
			return x[0] < y[0] ? -1 : 1;
	}
	if (na == nb)
		return 0;
	return na < nb ? -1 : 1;
}

static int sign(int v)
{
	return (v > 0) - (v < 0);
}

static int key_cmp(const uint8_t *ka, int la, const uint8_t *kb, int lb)
{
	int m = la < lb ? la : lb;
	int r = memcmp(ka, kb, (size_t)m);
	if (r != 0)
		return sign(r);
	return (la > lb) - (la < lb);
}

static void test_random_order(void **state)
{
	(void)state;
	enum { N = 20000 };

	for (int i = 0; i < N; i++) {
		uint8_t a[DNS_NAME_MAXLEN], b[DNS_NAME_MAXLEN];
		uint8_t ka[DNS_KEY_MAXLEN], kb[DNS_KEY_MAXLEN], back[DNS_NAME_MAXLEN];
		int al = random_name(a);
		int bl;

		/* Half the time b is a related name: a with a changed first label,
		 * or a's parent, or a with its case flipped. */
		switch (rnd() % 4) {
		case 0:
			bl = random_name(b);
			break;
		case 1:
			memcpy(b, a, (size_t)al);
			bl = al;
			if (b[0] != 0)
				b[1 + rnd() % b[0]] = alphabet[rnd() % sizeof(alphabet)];
			break;
		case 2:
			memcpy(b, a, (size_t)al);
			bl = al;
			for (int j = 0; j < bl; j++)
				if (rnd() % 2 && ((b[j] | 0x20) >= 'a' && (b[j] | 0x20) <= 'z'))
					b[j] ^= 0x20;  /* may flip length bytes too: check below */
			if (dns_name_check(b, (size_t)bl) != bl) {
				memcpy(b, a, (size_t)al);
			}
			break;
		default: {
			const uint8_t *p = dns_name_parent(a);
			if (p == NULL)
				p = a;
			bl = (int)dns_name_len(p);
			memmove(b, p, (size_t)bl);
			break;
		}
		}
		assert_int_equal(dns_name_check(a, (size_t)al), al);
		assert_int_equal(dns_name_check(b, dns_name_len(b)), (int)dns_name_len(b));

		int kal = dns_name_to_key(ka, a);
		int kbl = dns_name_to_key(kb, b);
		int o = oracle_cmp(a, b);
		assert_int_equal(sign(dns_name_cmp(a, b)), o);
		assert_int_equal(sign(dns_name_cmp(b, a)), -o);
		assert_int_equal(key_cmp(ka, kal, kb, kbl), o);
		assert_int_equal(dns_name_equal(a, b), o == 0);
		if (o == 0)
			assert_int_equal(kal, kbl);

		/* Key round trip gives the lower-cased name. */
		int r = dns_key_to_name(back, ka, (size_t)kal);
		assert_int_equal(r, al);
		uint8_t low[DNS_NAME_MAXLEN];
		memcpy(low, a, (size_t)al);
		dns_name_lower(low);
		assert_memory_equal(back, low, (size_t)al);

		/* Presentation round trip gives the name itself. */
		char s[DNS_NAME_STRLEN];
		int sl = dns_name_to_str(s, sizeof(s), a);
		assert_true(sl > 0);
		assert_int_equal((int)strlen(s), sl);
		r = dns_name_from_str(back, s, (size_t)sl, NULL);
		assert_int_equal(r, al);
		assert_memory_equal(back, a, (size_t)al);
	}
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_from_str_basic),
		cmocka_unit_test(test_from_str_escapes),
		cmocka_unit_test(test_from_str_origin),
		cmocka_unit_test(test_from_str_limits),
		cmocka_unit_test(test_from_str_empty_label),
		cmocka_unit_test(test_to_str),
		cmocka_unit_test(test_check),
		cmocka_unit_test(test_parse),
		cmocka_unit_test(test_parse_too_long),
		cmocka_unit_test(test_structure),
		cmocka_unit_test(test_key),
		cmocka_unit_test(test_random_order),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
