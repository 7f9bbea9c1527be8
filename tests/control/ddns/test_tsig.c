/* test_tsig -- RFC 8945 TSIG: keys, sign/verify for every algorithm, captured nsupdate/knsupdate requests, errors */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include <cmocka.h>
#include <openssl/evp.h>
#include <openssl/hmac.h>

#include "control/ddns/tsig.h"
#include "dns/errcode.h"
#include "dns/name.h"
#include "dns/rdata.h"
#include "dns/wire.h"

/* ------------------------------------------------------------------------ */
/* Captured requests                                                        */
/* ------------------------------------------------------------------------ */

/*
 * Produced once with a one-shot UDP catcher (python3: bind 127.0.0.1:PORT,
 * recvfrom, write the bytes to a file) and:
 *   printf 'server 127.0.0.1 PORT\nzone example.com.\nprereq nxdomain host.example.com.\n
 *           update add host.example.com. 300 A 198.18.0.5\nsend\n' |
 *     nsupdate -t 1 -u 1 -r 0 -y hmac-sha256:ddns-key:c2VjcmV0LXNlY3JldC1zZWNyZXQtc2VjcmV0LTMyYg==
 * (BIND 9 nsupdate; Time Signed 1795375869, fudge 300, 32-byte MAC, the
 * owner names compressed against the zone name.)
 */
static const uint8_t nsupdate_req[] = {
	0x57, 0xa5, 0x28, 0x00, 0x00, 0x01, 0x00, 0x01, 0x00, 0x01, 0x00, 0x01,
	0x07, 0x65, 0x78, 0x61, 0x6d, 0x70, 0x6c, 0x65, 0x03, 0x63, 0x6f, 0x6d,
	0x00, 0x00, 0x06, 0x00, 0x01, 0x04, 0x68, 0x6f, 0x73, 0x74, 0xc0, 0x0c,
	0x00, 0xff, 0x00, 0xfe, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0xc0, 0x1d,
	0x00, 0x01, 0x00, 0x01, 0x00, 0x00, 0x01, 0x2c, 0x00, 0x04, 0xc6, 0x12,
	0x00, 0x05, 0x08, 0x64, 0x64, 0x6e, 0x73, 0x2d, 0x6b, 0x65, 0x79, 0x00,
	0x00, 0xfa, 0x00, 0xff, 0x00, 0x00, 0x00, 0x00, 0x00, 0x3d, 0x0b, 0x68,
	0x6d, 0x61, 0x63, 0x2d, 0x73, 0x68, 0x61, 0x32, 0x35, 0x36, 0x00, 0x00,
	0x00, 0x6b, 0x03, 0x42, 0xfd, 0x01, 0x2c, 0x00, 0x20, 0x91, 0xea, 0x96,
	0xb7, 0x85, 0xb0, 0x0a, 0xfa, 0xbe, 0xb6, 0x2a, 0x06, 0x53, 0x40, 0x96,
	0x68, 0xd9, 0x7d, 0x55, 0x98, 0x03, 0x24, 0xc1, 0xc1, 0xf4, 0x91, 0x98,
	0x77, 0xc8, 0xc5, 0x3b, 0xc5, 0x57, 0xa5, 0x00, 0x00, 0x00, 0x00,
};
#define NSUPDATE_KEY "hmac-sha256:ddns-key:c2VjcmV0LXNlY3JldC1zZWNyZXQtc2VjcmV0LTMyYg=="
#define NSUPDATE_TIME 1795375869u

/*
 * The same way with Knot's knsupdate:
 *   printf 'server 127.0.0.1 PORT\nzone example.com.\nupdate delete old.example.com. A\n
 *           update add host.example.com. 300 AAAA 2001:2::5\nsend\n' |
 *     knsupdate -t 1 -r 0 -y hmac-sha512:dhcp.key.:c2VjcmV0LXNlY3JldC1zZWNyZXQtc2VjcmV0LTMyYg==
 * (Time Signed 1795375872, 64-byte MAC.)
 */
static const uint8_t knsupdate_req[] = {
	0x9a, 0x29, 0x28, 0x00, 0x00, 0x01, 0x00, 0x00, 0x00, 0x02, 0x00, 0x01,
	0x07, 0x65, 0x78, 0x61, 0x6d, 0x70, 0x6c, 0x65, 0x03, 0x63, 0x6f, 0x6d,
	0x00, 0x00, 0x06, 0x00, 0x01, 0x03, 0x6f, 0x6c, 0x64, 0xc0, 0x0c, 0x00,
	0x01, 0x00, 0xff, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x04, 0x68, 0x6f,
	0x73, 0x74, 0xc0, 0x0c, 0x00, 0x1c, 0x00, 0x01, 0x00, 0x00, 0x01, 0x2c,
	0x00, 0x10, 0x20, 0x01, 0x00, 0x02, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00,
	0x00, 0x00, 0x00, 0x00, 0x00, 0x05, 0x04, 0x64, 0x68, 0x63, 0x70, 0x03,
	0x6b, 0x65, 0x79, 0x00, 0x00, 0xfa, 0x00, 0xff, 0x00, 0x00, 0x00, 0x00,
	0x00, 0x5d, 0x0b, 0x68, 0x6d, 0x61, 0x63, 0x2d, 0x73, 0x68, 0x61, 0x35,
	0x31, 0x32, 0x00, 0x00, 0x00, 0x6b, 0x03, 0x43, 0x00, 0x01, 0x2c, 0x00,
	0x40, 0x20, 0xa1, 0x44, 0xa4, 0x88, 0x57, 0xd8, 0x72, 0x65, 0x1c, 0xa5,
	0x95, 0x86, 0x28, 0x61, 0x82, 0x75, 0xdb, 0x52, 0x22, 0x43, 0x0a, 0x4b,
	0xdb, 0x84, 0x63, 0xad, 0x1d, 0x00, 0x32, 0x5a, 0x1d, 0x92, 0xd4, 0xc0,
	0x43, 0xdc, 0x6f, 0x4f, 0xea, 0x35, 0xde, 0x48, 0xa6, 0x2b, 0xc9, 0xf2,
	0x80, 0x6e, 0xfd, 0x46, 0xae, 0xd0, 0x9e, 0x9f, 0x5b, 0x5f, 0xfc, 0x35,
	0xb2, 0xb3, 0x4a, 0xeb, 0xf8, 0x9a, 0x29, 0x00, 0x00, 0x00, 0x00,
};
#define KNSUPDATE_KEY "hmac-sha512:dhcp.key.:c2VjcmV0LXNlY3JldC1zZWNyZXQtc2VjcmV0LTMyYg=="
#define KNSUPDATE_TIME 1795375872u

/* ------------------------------------------------------------------------ */
/* Helpers                                                                  */
/* ------------------------------------------------------------------------ */

/* A key table for the lookup callback. */
struct keyring {
	const struct tsig_key *keys;
	int n;
	int calls;
};

static int ring_lookup(void *ctx, const uint8_t *name, struct tsig_key *out)
{
	struct keyring *r = ctx;
	r->calls++;
	for (int i = 0; i < r->n; i++)
		if (dns_name_equal(r->keys[i].name, name)) {
			*out = r->keys[i];
			return DDI_EOK;
		}
	return DDI_ENOENT;
}

static struct tsig_key key_of(const char *s)
{
	struct tsig_key k;
	assert_int_equal(tsig_key_parse(&k, s), DDI_EOK);
	return k;
}

/* An UPDATE request for example.com. with one A addition; returns its length. */
static size_t build_request(uint8_t *buf, uint16_t id)
{
	static const uint8_t body[] = {
		0, 0, 0x28, 0x00, 0, 1, 0, 0, 0, 1, 0, 0,
		7, 'e', 'x', 'a', 'm', 'p', 'l', 'e', 3, 'c', 'o', 'm', 0, 0, 6, 0, 1,
		3, 'w', 'w', 'w', 0xc0, 12, 0, 1, 0, 1, 0, 0, 0x0e, 0x10, 0, 4, 198, 18, 0, 1,
	};
	memcpy(buf, body, sizeof(body));
	dns_put16(buf, id);
	return sizeof(body);
}

/* Offset of the MAC size field in the TSIG RR at pos (owner and alg uncompressed). */
static size_t mac_size_off(const uint8_t *msg, size_t pos)
{
	size_t p = pos + dns_name_len(msg + pos) + 10;
	return p + dns_name_len(msg + p) + 8;
}

/* Rewrite the TSIG RR at `pos` with its MAC cut to `newlen` bytes. */
static size_t truncate_mac(uint8_t *msg, size_t len, size_t pos, uint16_t newlen)
{
	size_t ms = mac_size_off(msg, pos);
	uint16_t old = dns_get16(msg + ms);
	size_t rdl_off = pos + dns_name_len(msg + pos) + 8;

	assert_true(newlen <= old);
	memmove(msg + ms + 2 + newlen, msg + ms + 2 + old, len - (ms + 2 + old));
	dns_put16(msg + ms, newlen);
	dns_put16(msg + rdl_off, (uint16_t)(dns_get16(msg + rdl_off) - (old - newlen)));
	return len - (old - newlen);
}

/*
 * An HMAC computed independently of tsig.c (OpenSSL's one-shot HMAC() over a
 * buffer laid out by hand from RFC 8945 4.3.3), for a request signed by
 * tsig_sign with error 0 and no Other Data.
 */
static void independent_mac(const struct tsig_key *k, const char *md, const uint8_t *msg,
                            size_t unsigned_len, uint64_t t, uint16_t fudge, uint8_t *out,
                            unsigned *outlen)
{
	uint8_t buf[1024];
	size_t n = 0;
	const uint8_t *alg = tsig_alg_wire(k->alg);

	memcpy(buf, msg, unsigned_len);
	dns_put16(buf + 10, 0);   /* ARCOUNT as it was before the TSIG RR */
	n = unsigned_len;
	memcpy(buf + n, k->name, dns_name_len(k->name));
	n += dns_name_len(k->name);
	buf[n++] = 0; buf[n++] = 255;                 /* class ANY */
	buf[n++] = 0; buf[n++] = 0; buf[n++] = 0; buf[n++] = 0;  /* TTL */
	memcpy(buf + n, alg, dns_name_len(alg));
	n += dns_name_len(alg);
	buf[n++] = (uint8_t)(t >> 40); buf[n++] = (uint8_t)(t >> 32);
	buf[n++] = (uint8_t)(t >> 24); buf[n++] = (uint8_t)(t >> 16);
	buf[n++] = (uint8_t)(t >> 8); buf[n++] = (uint8_t)t;
	buf[n++] = (uint8_t)(fudge >> 8); buf[n++] = (uint8_t)fudge;
	buf[n++] = 0; buf[n++] = 0;                   /* error */
	buf[n++] = 0; buf[n++] = 0;                   /* other len */
	assert_non_null(HMAC(EVP_get_digestbyname(md), k->secret, k->secret_len, buf, n, out, outlen));
}

/* ------------------------------------------------------------------------ */
/* Algorithms and keys                                                      */
/* ------------------------------------------------------------------------ */

static void test_alg_names(void **state)
{
	(void)state;
	assert_int_equal(tsig_alg_from_str("hmac-sha256", 11), TSIG_HMAC_SHA256);
	assert_int_equal(tsig_alg_from_str("HMAC-SHA256.", 12), TSIG_HMAC_SHA256);
	assert_int_equal(tsig_alg_from_str("hmac-md5", 8), TSIG_HMAC_MD5);
	assert_int_equal(tsig_alg_from_str("hmac-md5.", 9), TSIG_HMAC_MD5);
	assert_int_equal(tsig_alg_from_str("hmac-md5.sig-alg.reg.int", 24), TSIG_HMAC_MD5);
	assert_int_equal(tsig_alg_from_str("hmac-sha1", 9), TSIG_HMAC_SHA1);
	assert_int_equal(tsig_alg_from_str("hmac-sha224", 11), TSIG_HMAC_SHA224);
	assert_int_equal(tsig_alg_from_str("hmac-sha384", 11), TSIG_HMAC_SHA384);
	assert_int_equal(tsig_alg_from_str("hmac-sha512", 11), TSIG_HMAC_SHA512);
	assert_int_equal(tsig_alg_from_str("hmac-sha3", 9), TSIG_ALG_NONE);
	assert_int_equal(tsig_alg_from_str("gss-tsig", 8), TSIG_ALG_NONE);
	assert_int_equal(tsig_alg_from_str("", 0), TSIG_ALG_NONE);
	for (int a = TSIG_HMAC_MD5; a <= TSIG_HMAC_SHA512; a++) {
		const char *n = tsig_alg_name(a);
		assert_int_equal(tsig_alg_from_str(n, strlen(n)), a);
		assert_int_equal(tsig_alg_from_wire(tsig_alg_wire(a)), a);
	}
	assert_int_equal(tsig_alg_digest_len(TSIG_HMAC_MD5), 16);
	assert_int_equal(tsig_alg_digest_len(TSIG_HMAC_SHA1), 20);
	assert_int_equal(tsig_alg_digest_len(TSIG_HMAC_SHA224), 28);
	assert_int_equal(tsig_alg_digest_len(TSIG_HMAC_SHA384), 48);
	assert_int_equal(tsig_alg_digest_len(TSIG_ALG_NONE), 0);
	assert_string_equal(tsig_alg_name(TSIG_ALG_NONE), "");
	assert_null(tsig_alg_wire(99));
	assert_int_equal(tsig_alg_from_wire((const uint8_t *)"\x0bHMAC-SHA256"), TSIG_HMAC_SHA256);
}

static void test_b64(void **state)
{
	uint8_t out[16];
	char s[32];
	(void)state;

	assert_int_equal(tsig_b64_decode(out, sizeof(out), "Zm9vYg==", 8), 4);
	assert_memory_equal(out, "foob", 4);
	assert_int_equal(tsig_b64_decode(out, sizeof(out), "Zm9vYg", 6), 4);   /* unpadded */
	assert_int_equal(tsig_b64_decode(out, sizeof(out), "Zm9vYmE=", 8), 5);
	assert_int_equal(tsig_b64_decode(out, sizeof(out), "Zm9v", 4), 3);
	assert_int_equal(tsig_b64_decode(out, sizeof(out), "Zm9vY", 5), DDI_EINVAL);     /* 6 bits */
	assert_int_equal(tsig_b64_decode(out, sizeof(out), "Zm9vYh==", 8), DDI_EINVAL);  /* stray bits */
	assert_int_equal(tsig_b64_decode(out, sizeof(out), "Zm9v Yg==", 9), DDI_EINVAL);
	assert_int_equal(tsig_b64_decode(out, sizeof(out), "Zm9vYg=", 7), DDI_EINVAL);   /* bad pad */
	assert_int_equal(tsig_b64_decode(out, 2, "Zm9v", 4), DDI_ESPACE);
	assert_int_equal(tsig_b64_encode(s, sizeof(s), (const uint8_t *)"foob", 4), 8);
	assert_string_equal(s, "Zm9vYg==");
	assert_int_equal(tsig_b64_encode(s, 8, (const uint8_t *)"foob", 4), DDI_ESPACE);
}

static void test_key_parse(void **state)
{
	struct tsig_key k;
	char buf[TSIG_KEY_STRLEN];
	(void)state;

	assert_int_equal(tsig_key_parse(&k, NSUPDATE_KEY), DDI_EOK);
	assert_int_equal(k.alg, TSIG_HMAC_SHA256);
	assert_memory_equal(k.name, "\x08" "ddns-key", 10);
	assert_int_equal(k.secret_len, 31);
	assert_memory_equal(k.secret, "secret-secret-secret-secret-32b", 31);

	/* No algorithm: hmac-sha256. Name case folded, trailing dot optional. */
	assert_int_equal(tsig_key_parse(&k, "Dhcp.Key.:Zm9vYg=="), DDI_EOK);
	assert_int_equal(k.alg, TSIG_HMAC_SHA256);
	assert_memory_equal(k.name, "\x04" "dhcp" "\x03" "key", 10);
	assert_int_equal(k.secret_len, 4);
	assert_int_equal(tsig_key_parse(&k, "hmac-md5:k:Zm9vYg=="), DDI_EOK);
	assert_int_equal(k.alg, TSIG_HMAC_MD5);

	assert_int_equal(tsig_key_parse(&k, "nocolon"), DDI_EINVAL);
	assert_int_equal(tsig_key_parse(&k, "k:"), DDI_EINVAL);
	assert_int_equal(tsig_key_parse(&k, ":Zm9v"), DDI_EINVAL);
	assert_int_equal(tsig_key_parse(&k, "hmac-sha3:k:Zm9v"), DDI_EINVAL);
	assert_int_equal(tsig_key_parse(&k, "k:not base64"), DDI_EINVAL);
	assert_int_equal(tsig_key_parse(&k, "a..b:Zm9v"), DDI_ESYNTAX);

	/* Format and parse back. */
	assert_int_equal(tsig_key_parse(&k, KNSUPDATE_KEY), DDI_EOK);
	assert_true(tsig_key_format(buf, sizeof(buf), &k) > 0);
	assert_string_equal(buf, "hmac-sha512:dhcp.key:c2VjcmV0LXNlY3JldC1zZWNyZXQtc2VjcmV0LTMyYg==");
	assert_int_equal(tsig_key_format(buf, 10, &k), DDI_ESPACE);
}

static void test_key_generate(void **state)
{
	struct tsig_key a, b, c;
	char buf[TSIG_KEY_STRLEN];
	(void)state;

	for (int alg = TSIG_HMAC_MD5; alg <= TSIG_HMAC_SHA512; alg++) {
		assert_int_equal(tsig_key_generate(&a, (const uint8_t *)"\x03KEY", alg), DDI_EOK);
		assert_int_equal(a.secret_len, tsig_alg_digest_len(alg));
		assert_memory_equal(a.name, "\x03key", 5);
		assert_true(tsig_key_format(buf, sizeof(buf), &a) > 0);
		assert_int_equal(tsig_key_parse(&c, buf), DDI_EOK);
		assert_int_equal(c.alg, alg);
		assert_int_equal(c.secret_len, a.secret_len);
		assert_memory_equal(c.secret, a.secret, a.secret_len);
	}
	assert_int_equal(tsig_key_generate(&b, (const uint8_t *)"\x03key", TSIG_HMAC_SHA512), DDI_EOK);
	assert_memory_not_equal(a.secret, b.secret, 64);
	assert_int_equal(tsig_key_generate(&b, (const uint8_t *)"\x03key", TSIG_ALG_NONE), DDI_EINVAL);
}

/* ------------------------------------------------------------------------ */
/* Captured requests                                                        */
/* ------------------------------------------------------------------------ */

static void test_nsupdate_vector(void **state)
{
	struct tsig_key k = key_of(NSUPDATE_KEY);
	struct keyring ring = { &k, 1, 0 };
	struct tsig_ctx t;
	struct dns_query q;
	(void)state;

	memset(&q, 0, sizeof(q));
	assert_int_equal(dns_query_parse(&q, nsupdate_req, sizeof(nsupdate_req)), DNS_PARSE_OK);
	assert_true(q.has_tsig);
	assert_int_equal(q.opcode, DNS_OP_UPDATE);

	assert_int_equal(tsig_verify(&t, nsupdate_req, sizeof(nsupdate_req), q.tsig_pos,
	                             NSUPDATE_TIME, ring_lookup, &ring), TSIG_OK);
	assert_true(t.have_key);
	assert_int_equal(t.error, 0);
	assert_int_equal(t.req.time_signed, NSUPDATE_TIME);
	assert_int_equal(t.req.fudge, 300);
	assert_int_equal(t.req.mac_len, 32);
	assert_int_equal(t.req.orig_id, 0x57a5);
	/* At the edges of the fudge window, and past them. */
	assert_int_equal(tsig_verify(&t, nsupdate_req, sizeof(nsupdate_req), q.tsig_pos,
	                             NSUPDATE_TIME + 300, ring_lookup, &ring), TSIG_OK);
	assert_int_equal(tsig_verify(&t, nsupdate_req, sizeof(nsupdate_req), q.tsig_pos,
	                             NSUPDATE_TIME - 300, ring_lookup, &ring), TSIG_OK);
	assert_int_equal(tsig_verify(&t, nsupdate_req, sizeof(nsupdate_req), q.tsig_pos,
	                             NSUPDATE_TIME + 301, ring_lookup, &ring), TSIG_BADTIME);
	assert_int_equal(t.error, TSIG_ERR_BADTIME);
	assert_int_equal(tsig_verify(&t, nsupdate_req, sizeof(nsupdate_req), q.tsig_pos,
	                             NSUPDATE_TIME - 301, ring_lookup, &ring), TSIG_BADTIME);

	/* The same name with another secret: BADSIG. */
	struct tsig_key other = key_of("hmac-sha256:ddns-key:Zm9vYmFy");
	struct keyring ring2 = { &other, 1, 0 };
	assert_int_equal(tsig_verify(&t, nsupdate_req, sizeof(nsupdate_req), q.tsig_pos,
	                             NSUPDATE_TIME, ring_lookup, &ring2), TSIG_BADSIG);
	assert_int_equal(t.error, TSIG_ERR_BADSIG);
	/* The same secret under another algorithm: BADKEY. */
	struct tsig_key wrongalg = key_of("hmac-sha512:ddns-key:c2VjcmV0LXNlY3JldC1zZWNyZXQtc2VjcmV0LTMyYg==");
	struct keyring ring3 = { &wrongalg, 1, 0 };
	assert_int_equal(tsig_verify(&t, nsupdate_req, sizeof(nsupdate_req), q.tsig_pos,
	                             NSUPDATE_TIME, ring_lookup, &ring3), TSIG_BADKEY);
	assert_false(t.have_key);
	/* No such key. */
	struct keyring empty = { NULL, 0, 0 };
	assert_int_equal(tsig_verify(&t, nsupdate_req, sizeof(nsupdate_req), q.tsig_pos,
	                             NSUPDATE_TIME, ring_lookup, &empty), TSIG_BADKEY);
	assert_int_equal(empty.calls, 1);
	assert_int_equal(tsig_result_rcode(TSIG_BADKEY), DNS_RCODE_NOTAUTH);

	/* Any byte of the signed part changed: BADSIG (a bit of the A rdata). */
	uint8_t m[sizeof(nsupdate_req)];
	memcpy(m, nsupdate_req, sizeof(m));
	m[0x3b] ^= 1;   /* 198.18.0.5 -> 198.19.0.5 */
	assert_int_equal(tsig_verify(&t, m, sizeof(m), q.tsig_pos, NSUPDATE_TIME, ring_lookup, &ring),
	                 TSIG_BADSIG);
	/* The time in the TSIG RR is covered too. */
	memcpy(m, nsupdate_req, sizeof(m));
	m[q.tsig_pos + 11 + 10 + 13 + 5] ^= 1;
	assert_int_equal(tsig_verify(&t, m, sizeof(m), q.tsig_pos, NSUPDATE_TIME, ring_lookup, &ring),
	                 TSIG_BADSIG);
	/* A forwarder's new ID does not matter: the Original ID is what was signed. */
	memcpy(m, nsupdate_req, sizeof(m));
	dns_put16(m, 0x1111);
	assert_int_equal(tsig_verify(&t, m, sizeof(m), q.tsig_pos, NSUPDATE_TIME, ring_lookup, &ring),
	                 TSIG_OK);
}

static void test_knsupdate_vector(void **state)
{
	struct tsig_key k = key_of(KNSUPDATE_KEY);
	struct keyring ring = { &k, 1, 0 };
	struct tsig_ctx t;
	size_t pos;
	(void)state;

	assert_int_equal(tsig_find(knsupdate_req, sizeof(knsupdate_req), &pos), DDI_EOK);
	assert_int_equal(pos, 0x4e);
	assert_int_equal(tsig_verify(&t, knsupdate_req, sizeof(knsupdate_req), pos, KNSUPDATE_TIME,
	                             ring_lookup, &ring), TSIG_OK);
	assert_int_equal(t.req.mac_len, 64);
	assert_memory_equal(t.req.key_name, "\x04" "dhcp\x03key", 10);
}

/* ------------------------------------------------------------------------ */
/* Round trips                                                              */
/* ------------------------------------------------------------------------ */

static const char *const digest_names[] = {
	[TSIG_HMAC_MD5] = "MD5", [TSIG_HMAC_SHA1] = "SHA1", [TSIG_HMAC_SHA224] = "SHA224",
	[TSIG_HMAC_SHA256] = "SHA256", [TSIG_HMAC_SHA384] = "SHA384", [TSIG_HMAC_SHA512] = "SHA512",
};

static void test_round_trip_every_alg(void **state)
{
	(void)state;
	for (int alg = TSIG_HMAC_MD5; alg <= TSIG_HMAC_SHA512; alg++) {
		struct tsig_key k;
		struct keyring ring = { &k, 1, 0 };
		struct tsig_ctx t;
		struct tsig_rr rr;
		uint8_t req[1024], resp[1024], mac[TSIG_MAC_MAX], ind[EVP_MAX_MD_SIZE];
		unsigned ind_len = 0;
		size_t len, ulen, rlen;
		size_t pos;
		const uint64_t now = 1700000000;

		assert_int_equal(tsig_key_generate(&k, (const uint8_t *)"\x04upd1\x07" "example", alg),
		                 DDI_EOK);
		ulen = len = build_request(req, 0xbeef);
		int ml = tsig_sign(&k, NULL, 0, req, &len, sizeof(req), now, 300, mac);
		assert_int_equal(ml, (int)tsig_alg_digest_len(alg));
		assert_int_equal(dns_get16(req + 10), 1);

		/* The MAC equals one computed independently from RFC 8945 4.3.3. */
		independent_mac(&k, digest_names[alg], req, ulen, now, 300, ind, &ind_len);
		assert_int_equal(ind_len, (unsigned)ml);
		assert_memory_equal(ind, mac, ind_len);
		/* And is what the TSIG RR carries. */
		assert_memory_equal(req + mac_size_off(req, ulen) + 2, mac, ml);

		struct dns_query q;
		memset(&q, 0, sizeof(q));
		assert_int_equal(dns_query_parse(&q, req, len), DNS_PARSE_OK);
		assert_true(q.has_tsig);
		assert_int_equal(q.tsig_pos, ulen);
		assert_int_equal(tsig_verify(&t, req, len, q.tsig_pos, now + 10, ring_lookup, &ring),
		                 TSIG_OK);

		/* The response: header + zone, signed with the request MAC. */
		memcpy(resp, req, ulen);
		resp[2] |= 0x80;
		dns_put16(resp + 8, 0);
		rlen = 29;
		dns_put16(resp + 10, 0);
		assert_int_equal(tsig_sign_response(&t, resp, &rlen, sizeof(resp), now + 11), DDI_EOK);
		assert_int_equal(dns_get16(resp + 10), 1);
		assert_int_equal(tsig_find(resp, rlen, &pos), DDI_EOK);
		assert_int_equal(pos, 29);
		assert_int_equal(tsig_verify_response(&rr, &k, mac, (uint16_t)ml, resp, rlen, now + 12),
		                 TSIG_OK);
		assert_int_equal(rr.time_signed, now + 11);
		assert_int_equal(rr.error, 0);
		/* Verified against another request MAC it fails. */
		mac[0] ^= 0x80;
		assert_int_equal(tsig_verify_response(&rr, &k, mac, (uint16_t)ml, resp, rlen, now + 12),
		                 TSIG_BADSIG);
	}
}

/* ------------------------------------------------------------------------ */
/* Truncation (RFC 8945 5.2.2.1)                                            */
/* ------------------------------------------------------------------------ */

static void test_truncated_mac(void **state)
{
	struct tsig_key k;
	struct keyring ring = { &k, 1, 0 };
	struct tsig_ctx t;
	uint8_t req[1024], resp[1024], mac[TSIG_MAC_MAX];
	size_t len, ulen, l2, rlen;
	const uint64_t now = 1700000000;
	(void)state;

	/* SHA-256: 16 bytes (half) and 20 accepted; 15 and below FORMERR. */
	assert_int_equal(tsig_key_generate(&k, (const uint8_t *)"\x01k", TSIG_HMAC_SHA256), DDI_EOK);
	ulen = len = build_request(req, 7);
	assert_int_equal(tsig_sign(&k, NULL, 0, req, &len, sizeof(req), now, 300, mac), 32);
	uint8_t copy[1024];
	memcpy(copy, req, len);
	l2 = truncate_mac(copy, len, ulen, 20);
	assert_int_equal(tsig_verify(&t, copy, l2, ulen, now, ring_lookup, &ring), TSIG_OK);
	assert_int_equal(t.req.mac_len, 20);
	memcpy(copy, req, len);
	l2 = truncate_mac(copy, len, ulen, 16);
	assert_int_equal(tsig_verify(&t, copy, l2, ulen, now, ring_lookup, &ring), TSIG_OK);

	/* The response is signed over the truncated request MAC (rule 4). */
	memcpy(resp, copy, ulen);
	resp[2] |= 0x80;
	dns_put16(resp + 8, 0);
	dns_put16(resp + 10, 0);
	rlen = 29;
	assert_int_equal(tsig_sign_response(&t, resp, &rlen, sizeof(resp), now), DDI_EOK);
	struct tsig_rr rr;
	assert_int_equal(tsig_verify_response(&rr, &k, mac, 16, resp, rlen, now), TSIG_OK);
	assert_int_equal(tsig_verify_response(&rr, &k, mac, 32, resp, rlen, now), TSIG_BADSIG);
	assert_int_equal(rr.mac_len, 32);

	/* A truncated MAC with one wrong byte inside what is left. */
	memcpy(copy, req, len);
	l2 = truncate_mac(copy, len, ulen, 16);
	copy[mac_size_off(copy, ulen) + 2 + 15] ^= 1;
	assert_int_equal(tsig_verify(&t, copy, l2, ulen, now, ring_lookup, &ring), TSIG_BADSIG);

	memcpy(copy, req, len);
	l2 = truncate_mac(copy, len, ulen, 15);
	assert_int_equal(tsig_verify(&t, copy, l2, ulen, now, ring_lookup, &ring), TSIG_FORMERR);
	memcpy(copy, req, len);
	l2 = truncate_mac(copy, len, ulen, 0);
	assert_int_equal(tsig_verify(&t, copy, l2, ulen, now, ring_lookup, &ring), TSIG_FORMERR);
	assert_int_equal(tsig_result_rcode(TSIG_FORMERR), DNS_RCODE_FORMERR);

	/* MD5 (16 bytes): the floor is 10 (larger than half = 8). */
	assert_int_equal(tsig_key_generate(&k, (const uint8_t *)"\x01k", TSIG_HMAC_MD5), DDI_EOK);
	ulen = len = build_request(req, 7);
	assert_int_equal(tsig_sign(&k, NULL, 0, req, &len, sizeof(req), now, 300, mac), 16);
	memcpy(copy, req, len);
	l2 = truncate_mac(copy, len, ulen, 10);
	assert_int_equal(tsig_verify(&t, copy, l2, ulen, now, ring_lookup, &ring), TSIG_OK);
	memcpy(copy, req, len);
	l2 = truncate_mac(copy, len, ulen, 9);
	assert_int_equal(tsig_verify(&t, copy, l2, ulen, now, ring_lookup, &ring), TSIG_FORMERR);

	/* A MAC longer than the digest (rule 1): a SHA-256-signed request under an MD5 key name. */
	struct tsig_key k256;
	assert_int_equal(tsig_key_generate(&k256, (const uint8_t *)"\x01k", TSIG_HMAC_SHA256), DDI_EOK);
	ulen = len = build_request(req, 7);
	assert_int_equal(tsig_sign(&k256, NULL, 0, req, &len, sizeof(req), now, 300, mac), 32);
	/* Rewrite the algorithm name to hmac-md5 (same owner, longer alg name): build by hand. */
	uint8_t m2[1024];
	size_t p = ulen;
	memcpy(m2, req, ulen);
	memcpy(m2 + p, "\x01k", 3);
	p += 3;
	const uint8_t *md5 = tsig_alg_wire(TSIG_HMAC_MD5);
	size_t al = dns_name_len(md5);
	size_t rdlen = al + 10 + 32 + 6;
	dns_put16(m2 + p, DNS_T_TSIG); dns_put16(m2 + p + 2, DNS_CLASS_ANY);
	dns_put32(m2 + p + 4, 0); dns_put16(m2 + p + 8, (uint16_t)rdlen);
	p += 10;
	memcpy(m2 + p, md5, al);
	p += al;
	memset(m2 + p, 0, 6); dns_put32(m2 + p + 2, (uint32_t)now);
	dns_put16(m2 + p + 6, 300); dns_put16(m2 + p + 8, 32);
	p += 10;
	memcpy(m2 + p, mac, 32);
	p += 32;
	dns_put16(m2 + p, 7); dns_put16(m2 + p + 2, 0); dns_put16(m2 + p + 4, 0);
	p += 6;
	assert_int_equal(tsig_verify(&t, m2, p, ulen, now, ring_lookup, &ring), TSIG_FORMERR);
}

/* ------------------------------------------------------------------------ */
/* Errors and their answers                                                 */
/* ------------------------------------------------------------------------ */

static void test_badtime_answer(void **state)
{
	struct tsig_key k;
	struct keyring ring = { &k, 1, 0 };
	struct tsig_ctx t;
	struct tsig_rr rr;
	uint8_t req[1024], resp[1024], mac[TSIG_MAC_MAX];
	size_t len, ulen, rlen;
	const uint64_t signed_at = 1700000000, now = signed_at + 1000;
	(void)state;

	assert_int_equal(tsig_key_generate(&k, (const uint8_t *)"\x01k", TSIG_HMAC_SHA256), DDI_EOK);
	ulen = len = build_request(req, 9);
	int ml = tsig_sign(&k, NULL, 0, req, &len, sizeof(req), signed_at, 300, mac);
	assert_int_equal(tsig_verify(&t, req, len, ulen, now, ring_lookup, &ring), TSIG_BADTIME);
	assert_true(t.have_key);

	memcpy(resp, req, ulen);
	resp[2] |= 0x80;
	dns_put16(resp + 8, 0);
	dns_put16(resp + 10, 0);
	resp[3] = (resp[3] & 0xf0) | DNS_RCODE_NOTAUTH;
	rlen = 29;
	assert_int_equal(tsig_sign_response(&t, resp, &rlen, sizeof(resp), now), DDI_EOK);
	/* Signed: the client's clock check passes (its own time), the error is BADTIME. */
	assert_int_equal(tsig_verify_response(&rr, &k, mac, (uint16_t)ml, resp, rlen, signed_at + 1),
	                 TSIG_BADTIME);
	assert_int_equal(rr.error, TSIG_ERR_BADTIME);
	assert_int_equal(rr.mac_len, 32);
	assert_int_equal(rr.time_signed, signed_at);
	assert_int_equal(rr.other_len, 6);
	assert_int_equal(dns_get32(rr.other + 2), (uint32_t)now);
	assert_int_equal(dns_get16(rr.other), 0);
	/* Its MAC is real: one flipped byte and it no longer verifies. */
	resp[5] ^= 0;   /* untouched QDCOUNT */
	resp[13] ^= 0x20;
	assert_int_equal(tsig_verify_response(&rr, &k, mac, (uint16_t)ml, resp, rlen, signed_at + 1),
	                 TSIG_BADSIG);
}

static void test_unsigned_error_answers(void **state)
{
	struct tsig_key k, bad;
	struct keyring ring = { &bad, 1, 0 };
	struct tsig_ctx t;
	struct tsig_rr rr;
	uint8_t req[1024], resp[1024], mac[TSIG_MAC_MAX];
	size_t len, ulen, rlen;
	const uint64_t now = 1700000000;
	(void)state;

	assert_int_equal(tsig_key_generate(&k, (const uint8_t *)"\x01k", TSIG_HMAC_SHA256), DDI_EOK);
	assert_int_equal(tsig_key_generate(&bad, (const uint8_t *)"\x01k", TSIG_HMAC_SHA256), DDI_EOK);
	ulen = len = build_request(req, 9);
	int ml = tsig_sign(&k, NULL, 0, req, &len, sizeof(req), now, 300, mac);

	/* BADSIG: the TSIG RR carries the error, an empty MAC, the request's names. */
	assert_int_equal(tsig_verify(&t, req, len, ulen, now, ring_lookup, &ring), TSIG_BADSIG);
	memcpy(resp, req, ulen);
	dns_put16(resp + 10, 0);
	rlen = ulen;
	assert_int_equal(tsig_sign_response(&t, resp, &rlen, sizeof(resp), now), DDI_EOK);
	assert_int_equal(tsig_rr_parse(&rr, resp, rlen, ulen), DDI_EOK);
	assert_int_equal(rr.error, TSIG_ERR_BADSIG);
	assert_int_equal(rr.mac_len, 0);
	assert_memory_equal(rr.key_name, "\x01k", 3);
	assert_int_equal(tsig_verify_response(&rr, &k, mac, (uint16_t)ml, resp, rlen, now), TSIG_BADSIG);

	/* BADKEY: unknown key name. */
	struct keyring none = { NULL, 0, 0 };
	assert_int_equal(tsig_verify(&t, req, len, ulen, now, ring_lookup, &none), TSIG_BADKEY);
	rlen = ulen;
	dns_put16(resp + 10, 0);
	assert_int_equal(tsig_sign_response(&t, resp, &rlen, sizeof(resp), now), DDI_EOK);
	assert_int_equal(tsig_rr_parse(&rr, resp, rlen, ulen), DDI_EOK);
	assert_int_equal(rr.error, TSIG_ERR_BADKEY);
	assert_int_equal(rr.mac_len, 0);
	assert_int_equal(tsig_verify_response(&rr, &k, mac, (uint16_t)ml, resp, rlen, now), TSIG_BADKEY);

	/* No room: nothing written. */
	rlen = ulen;
	dns_put16(resp + 10, 0);
	assert_int_equal(tsig_sign_response(&t, resp, &rlen, ulen + 10, now), DDI_ESPACE);
	assert_int_equal(rlen, ulen);
	assert_int_equal(dns_get16(resp + 10), 0);
}

/* ------------------------------------------------------------------------ */
/* Malformed TSIG records                                                   */
/* ------------------------------------------------------------------------ */

static void test_malformed(void **state)
{
	struct tsig_key k;
	struct keyring ring = { &k, 1, 0 };
	struct tsig_ctx t;
	uint8_t req[1024], m[1024], mac[TSIG_MAC_MAX];
	size_t len, ulen, pos;
	const uint64_t now = 1700000000;
	(void)state;

	assert_int_equal(tsig_key_generate(&k, (const uint8_t *)"\x01k", TSIG_HMAC_SHA256), DDI_EOK);
	ulen = len = build_request(req, 9);
	assert_int_equal(tsig_sign(&k, NULL, 0, req, &len, sizeof(req), now, 300, mac), 32);
	size_t rdl = ulen + 3 + 8;   /* rdlength field */

	/* Class not ANY. */
	memcpy(m, req, len);
	dns_put16(m + ulen + 3 + 2, DNS_CLASS_IN);
	assert_int_equal(tsig_verify(&t, m, len, ulen, now, ring_lookup, &ring), TSIG_FORMERR);
	/* rdlength one short and one long of the message. */
	memcpy(m, req, len);
	dns_put16(m + rdl, (uint16_t)(dns_get16(m + rdl) - 1));
	assert_int_equal(tsig_verify(&t, m, len, ulen, now, ring_lookup, &ring), TSIG_FORMERR);
	assert_int_equal(tsig_verify(&t, m, len - 1, ulen, now, ring_lookup, &ring), TSIG_FORMERR);
	memcpy(m, req, len);
	dns_put16(m + rdl, (uint16_t)(dns_get16(m + rdl) + 1));
	assert_int_equal(tsig_verify(&t, m, len, ulen, now, ring_lookup, &ring), TSIG_FORMERR);
	/* MAC size running past the rdata. */
	memcpy(m, req, len);
	dns_put16(m + mac_size_off(m, ulen), 33);
	assert_int_equal(tsig_verify(&t, m, len, ulen, now, ring_lookup, &ring), TSIG_FORMERR);
	/* Other Len that does not match what is left. */
	memcpy(m, req, len);
	dns_put16(m + len - 2, 6);
	assert_int_equal(tsig_verify(&t, m, len, ulen, now, ring_lookup, &ring), TSIG_FORMERR);
	/* Algorithm name with a forward pointer. */
	memcpy(m, req, len);
	m[ulen + 13] = 0xc0;
	m[ulen + 14] = 0xff;
	assert_int_equal(tsig_verify(&t, m, len, ulen, now, ring_lookup, &ring), TSIG_FORMERR);
	/* Cut anywhere inside the TSIG RR. */
	for (size_t cut = ulen; cut < len; cut++)
		assert_int_equal(tsig_verify(&t, req, cut, ulen, now, ring_lookup, &ring), TSIG_FORMERR);
	/* ARCOUNT 0 with a TSIG position given. */
	memcpy(m, req, len);
	dns_put16(m + 10, 0);
	assert_int_equal(tsig_verify(&t, m, len, ulen, now, ring_lookup, &ring), TSIG_FORMERR);
	/* An unparsed context cannot sign. */
	size_t rl = ulen;
	assert_int_equal(tsig_sign_response(&t, m, &rl, sizeof(m), now), DDI_EINVAL);

	/* tsig_find: none, not last, and fine. */
	memcpy(m, req, ulen);
	dns_put16(m + 10, 0);
	assert_int_equal(tsig_find(m, ulen, &pos), DDI_ENOENT);
	assert_int_equal(tsig_find(req, ulen, &pos), DDI_EMALF);   /* ARCOUNT 1, no record */
	assert_int_equal(tsig_find(req, len, &pos), DDI_EOK);
	assert_int_equal(pos, ulen);
	assert_int_equal(tsig_find(req, len - 1, &pos), DDI_EMALF);
	memcpy(m, req, len);
	memcpy(m + len, req + 29, ulen - 29);     /* the A record again, after the TSIG */
	dns_put16(m + 10, 2);
	assert_int_equal(tsig_find(m, len + ulen - 29, &pos), DDI_EMALF);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_alg_names),
		cmocka_unit_test(test_b64),
		cmocka_unit_test(test_key_parse),
		cmocka_unit_test(test_key_generate),
		cmocka_unit_test(test_nsupdate_vector),
		cmocka_unit_test(test_knsupdate_vector),
		cmocka_unit_test(test_round_trip_every_alg),
		cmocka_unit_test(test_truncated_mac),
		cmocka_unit_test(test_badtime_answer),
		cmocka_unit_test(test_unsigned_error_answers),
		cmocka_unit_test(test_malformed),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
