/* cookie -- RFC 7873 DNS cookies, RFC 9018 server cookies, SipHash-2-4 */
#include <string.h>

#include "dns/cookie.h"

/* ------------------------------------------------------------------------ */
/* SipHash-2-4, after the reference implementation (github.com/veorq/SipHash) */
/* ------------------------------------------------------------------------ */

static inline uint64_t rotl(uint64_t x, unsigned b)
{
	return (x << b) | (x >> (64 - b));
}

/* One unaligned little-endian load (a single mov on x86 and arm64; memcpy is how C says it). */
static inline uint64_t le64(const uint8_t *p)
{
	uint64_t v;
	memcpy(&v, p, sizeof(v));
#if __BYTE_ORDER__ == __ORDER_BIG_ENDIAN__
	v = __builtin_bswap64(v);
#endif
	return v;
}

#define SIPROUND(v0, v1, v2, v3) do { \
		v0 += v1; v1 = rotl(v1, 13); v1 ^= v0; v0 = rotl(v0, 32); \
		v2 += v3; v3 = rotl(v3, 16); v3 ^= v2; \
		v0 += v3; v3 = rotl(v3, 21); v3 ^= v0; \
		v2 += v1; v1 = rotl(v1, 17); v1 ^= v2; v2 = rotl(v2, 32); \
	} while (0)

uint64_t dns_siphash24(const uint8_t key[16], const uint8_t *data, size_t len)
{
	uint64_t k0 = le64(key), k1 = le64(key + 8);
	uint64_t v0 = 0x736f6d6570736575ULL ^ k0;   /* "somepseudorandomlygeneratedbytes" */
	uint64_t v1 = 0x646f72616e646f6dULL ^ k1;
	uint64_t v2 = 0x6c7967656e657261ULL ^ k0;
	uint64_t v3 = 0x7465646279746573ULL ^ k1;
	size_t full = len & ~(size_t)7;

	for (size_t i = 0; i < full; i += 8) {
		uint64_t m = le64(data + i);
		v3 ^= m;
		SIPROUND(v0, v1, v2, v3);    /* c = 2 compression rounds */
		SIPROUND(v0, v1, v2, v3);
		v0 ^= m;
	}
	/* The last block: the remaining bytes, the length's low byte on top. */
	uint8_t last[8] = { 0 };
	memcpy(last, data + full, len - full);
	uint64_t b = le64(last) | (uint64_t)len << 56;
	v3 ^= b;
	SIPROUND(v0, v1, v2, v3);
	SIPROUND(v0, v1, v2, v3);
	v0 ^= b;
	v2 ^= 0xff;
	SIPROUND(v0, v1, v2, v3);        /* d = 4 finalization rounds */
	SIPROUND(v0, v1, v2, v3);
	SIPROUND(v0, v1, v2, v3);
	SIPROUND(v0, v1, v2, v3);
	return v0 ^ v1 ^ v2 ^ v3;
}

/* ------------------------------------------------------------------------ */
/* Server cookies (RFC 9018 4)                                              */
/* ------------------------------------------------------------------------ */

/* The 8-byte hash of RFC 9018 4.4, as the reference code writes it (little-endian). */
static void cookie_hash(uint8_t out[8], const uint8_t client[DNS_COOKIE_CLIENT_LEN],
                        const uint8_t head[8], const uint8_t *ip, size_t iplen,
                        const uint8_t secret[DNS_COOKIE_SECRET_LEN])
{
	/* Client Cookie | Version | Reserved | Timestamp | Client-IP: at most 8 + 8 + 16 bytes */
	uint8_t in[DNS_COOKIE_CLIENT_LEN + 8 + 16];
	memcpy(in, client, DNS_COOKIE_CLIENT_LEN);
	memcpy(in + DNS_COOKIE_CLIENT_LEN, head, 8);
	memcpy(in + DNS_COOKIE_CLIENT_LEN + 8, ip, iplen);
	uint64_t h = dns_siphash24(secret, in, DNS_COOKIE_CLIENT_LEN + 8 + iplen);
	for (int i = 0; i < 8; i++)
		out[i] = (uint8_t)(h >> (8 * i));
}

void dns_cookie_server_make(uint8_t out[DNS_COOKIE_SERVER_LEN],
                            const uint8_t client[DNS_COOKIE_CLIENT_LEN], uint32_t now,
                            const uint8_t *ip, size_t iplen,
                            const uint8_t secret[DNS_COOKIE_SECRET_LEN])
{
	/* RFC 9018 4.2: Version = 1, Reserved = 0 (3 bytes), Timestamp (network order) */
	out[0] = DNS_COOKIE_VERSION;
	out[1] = out[2] = out[3] = 0;
	out[4] = (uint8_t)(now >> 24);
	out[5] = (uint8_t)(now >> 16);
	out[6] = (uint8_t)(now >> 8);
	out[7] = (uint8_t)now;
	cookie_hash(out + 8, client, out, ip, iplen, secret);
}

static int hexval(char c)
{
	if (c >= '0' && c <= '9')
		return c - '0';
	if (c >= 'a' && c <= 'f')
		return c - 'a' + 10;
	if (c >= 'A' && c <= 'F')
		return c - 'A' + 10;
	return -1;
}

int dns_cookie_secret_from_hex(const char *s, size_t len, uint8_t out[DNS_COOKIE_SECRET_LEN])
{
	if (len != 2 * DNS_COOKIE_SECRET_LEN)
		return -1;
	for (size_t i = 0; i < DNS_COOKIE_SECRET_LEN; i++) {
		int hi = hexval(s[2 * i]), lo = hexval(s[2 * i + 1]);
		if (hi < 0 || lo < 0)
			return -1;
		out[i] = (uint8_t)(hi << 4 | lo);
	}
	return 0;
}

void dns_cookie_secrets_init(struct dns_cookie_secrets *s, const uint8_t secret[DNS_COOKIE_SECRET_LEN])
{
	memset(s->slot, 0, sizeof(s->slot));
	memcpy(s->slot[0], secret, DNS_COOKIE_SECRET_LEN);
	atomic_store_explicit(&s->gen, 0, memory_order_release);
}

void dns_cookie_rotate(struct dns_cookie_secrets *s, const uint8_t secret[DNS_COOKIE_SECRET_LEN])
{
	uint32_t g = atomic_load_explicit(&s->gen, memory_order_relaxed);
	/* the slot neither the current (g) nor the previous (g - 1) generation uses */
	memcpy(s->slot[(g + 1) % 3], secret, DNS_COOKIE_SECRET_LEN);
	atomic_store_explicit(&s->gen, g + 1, memory_order_release);
}

/* Equal hashes, in time that does not depend on where they differ. */
static bool hash_equal(const uint8_t *a, const uint8_t *b)
{
	uint8_t d = 0;
	for (int i = 0; i < 8; i++)
		d |= a[i] ^ b[i];
	return d == 0;
}

static bool cookie_matches(const uint8_t *opt, const uint8_t *ip, size_t iplen,
                           const uint8_t secret[DNS_COOKIE_SECRET_LEN])
{
	uint8_t h[8];
	const uint8_t *server = opt + DNS_COOKIE_CLIENT_LEN;
	cookie_hash(h, opt, server, ip, iplen, secret);
	return hash_equal(h, server + 8);
}

enum dns_cookie_verdict dns_cookie_check(const struct dns_cookie_secrets *s, uint32_t now,
                                         const uint8_t *opt, size_t len,
                                         const uint8_t *ip, size_t iplen)
{
	if (opt == NULL)
		return DNS_COOKIE_NONE;
	if (!dns_cookie_len_ok(len))
		return DNS_COOKIE_MALFORMED;
	if (len == DNS_COOKIE_CLIENT_LEN)
		return DNS_COOKIE_NEW;
	/* Another server's cookie (a different size or version) is not ours to accept. */
	const uint8_t *server = opt + DNS_COOKIE_CLIENT_LEN;
	if (len != DNS_COOKIE_LEN || server[0] != DNS_COOKIE_VERSION)
		return DNS_COOKIE_BAD;
	/* RFC 9018 4.3, serial number arithmetic (RFC 1982) on the 32-bit timestamp */
	uint32_t ts = (uint32_t)server[4] << 24 | (uint32_t)server[5] << 16 |
	              (uint32_t)server[6] << 8 | server[7];
	int32_t age = (int32_t)(now - ts);
	if (age > DNS_COOKIE_MAX_AGE || age < -DNS_COOKIE_MAX_AHEAD)
		return DNS_COOKIE_BAD;

	uint32_t g = atomic_load_explicit(&s->gen, memory_order_acquire);
	if (cookie_matches(opt, ip, iplen, s->slot[g % 3]))
		return age > DNS_COOKIE_REFRESH_AGE ? DNS_COOKIE_REFRESHED : DNS_COOKIE_VALID;
	/* RFC 9018 4.4: the previous secret is still accepted; the answer moves to the new one */
	if (g > 0 && cookie_matches(opt, ip, iplen, s->slot[(g + 2) % 3]))
		return DNS_COOKIE_REFRESHED;
	return DNS_COOKIE_BAD;
}

size_t dns_cookie_respond(const struct dns_cookie_secrets *s, enum dns_cookie_verdict verdict,
                          uint32_t now, const uint8_t *opt, const uint8_t *ip, size_t iplen,
                          uint8_t out[DNS_COOKIE_LEN])
{
	switch (verdict) {
	case DNS_COOKIE_VALID:
		memcpy(out, opt, DNS_COOKIE_LEN);
		return DNS_COOKIE_LEN;
	case DNS_COOKIE_NEW:
	case DNS_COOKIE_REFRESHED:
	case DNS_COOKIE_BAD: {
		uint32_t g = atomic_load_explicit(&s->gen, memory_order_acquire);
		memcpy(out, opt, DNS_COOKIE_CLIENT_LEN);
		dns_cookie_server_make(out + DNS_COOKIE_CLIENT_LEN, opt, now, ip, iplen, s->slot[g % 3]);
		return DNS_COOKIE_LEN;
	}
	case DNS_COOKIE_NONE:
	case DNS_COOKIE_MALFORMED:
		break;
	}
	return 0;
}
