/* cookie -- DNS cookies (RFC 7873) with interoperable server cookies (RFC 9018), SipHash-2-4 */
#ifndef DDI_DNS_COOKIE_H
#define DDI_DNS_COOKIE_H

#include <stdatomic.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define DNS_EDNS_OPT_COOKIE 10        /* RFC 7873 4 */
#define DNS_COOKIE_CLIENT_LEN 8       /* RFC 7873 4: exactly 8 bytes */
#define DNS_COOKIE_SERVER_MIN 8       /* RFC 7873 4: 8..32 bytes */
#define DNS_COOKIE_SERVER_MAX 32
#define DNS_COOKIE_SERVER_LEN 16      /* ours, RFC 9018 4: version, reserved, time, hash */
#define DNS_COOKIE_LEN (DNS_COOKIE_CLIENT_LEN + DNS_COOKIE_SERVER_LEN)
#define DNS_COOKIE_OPT_ROOM (4 + DNS_COOKIE_LEN)  /* option code, length, both cookies */
#define DNS_COOKIE_SECRET_LEN 16      /* SipHash-2-4 key */
#define DNS_COOKIE_VERSION 1          /* RFC 9018 4.1 */

/* RFC 9018 4.3: how old (or how far ahead) a server cookie may be, in seconds. */
#define DNS_COOKIE_MAX_AGE 3600       /* "more than 1 hour in the past": invalid */
#define DNS_COOKIE_MAX_AHEAD 300      /* "more than 5 minutes in the future": invalid */
#define DNS_COOKIE_REFRESH_AGE 1800   /* older than half an hour: send a new one */

/* SipHash-2-4 (Aumasson and Bernstein, 2012) of `len` bytes under a 128-bit key, little-endian. */
uint64_t dns_siphash24(const uint8_t key[16], const uint8_t *data, size_t len);

/*
 * A COOKIE option's length is well formed (RFC 7873 5.2.2: "If the COOKIE
 * option is too short to contain a Client Cookie, or is present but its
 * length is between 9 and 15 inclusive, or is too long [more than 40]",
 * FORMERR): 8 (client cookie alone) or 16..40 (with a server cookie).
 */
static inline bool dns_cookie_len_ok(size_t len)
{
	return len == DNS_COOKIE_CLIENT_LEN ||
	       (len >= DNS_COOKIE_CLIENT_LEN + DNS_COOKIE_SERVER_MIN &&
	        len <= DNS_COOKIE_CLIENT_LEN + DNS_COOKIE_SERVER_MAX);
}

/*
 * The server cookie of RFC 9018 4.2 into `out` (16 bytes): version 1,
 * three reserved zero bytes, the 32-bit timestamp `now` (seconds since
 * 1970, serial arithmetic), then the first 8 bytes of
 * SipHash-2-4(client cookie | version | reserved | timestamp | client IP)
 * keyed with `secret`. `ip` is 4 or 16 bytes (`iplen`).
 */
void dns_cookie_server_make(uint8_t out[DNS_COOKIE_SERVER_LEN],
                            const uint8_t client[DNS_COOKIE_CLIENT_LEN], uint32_t now,
                            const uint8_t *ip, size_t iplen,
                            const uint8_t secret[DNS_COOKIE_SECRET_LEN]);

/*
 * The secrets, as RFC 9018 4.4 asks for rollover: a current one that makes
 * new cookies and the previous one, still accepted so that cookies handed
 * out just before a rotation stay valid.
 *
 * Threading: one writer (dns_cookie_rotate, the control lcore), any number
 * of readers (the workers) with no lock. Three slots: `gen % 3` is the
 * current secret, `(gen - 1) % 3` the previous one, and a rotation writes
 * the third slot, which no reader uses, before it publishes gen + 1 with a
 * release store. A reader that loaded `gen` reads only slots that stay
 * unchanged until the rotation after next (hours later).
 */
struct dns_cookie_secrets {
	uint8_t slot[3][DNS_COOKIE_SECRET_LEN];
	_Atomic uint32_t gen;        /* rotations so far: 0 means no previous secret yet */
};

/* Start with `secret` (getrandom() at start), no previous one. Not thread-safe. */
void dns_cookie_secrets_init(struct dns_cookie_secrets *s, const uint8_t secret[DNS_COOKIE_SECRET_LEN]);

/*
 * A secret written as DNS_COOKIE_SECRET_LEN * 2 hexadecimal digits (either
 * case, nothing else: no prefix, no spaces), as BIND's cookie-secret and
 * Knot's mod-cookies secret take it. Servers that share a secret accept
 * each other's cookies (RFC 9018 6, anycast). Returns 0, or -1 when `s`
 * (`len` characters) is not exactly that.
 */
int dns_cookie_secret_from_hex(const char *s, size_t len, uint8_t out[DNS_COOKIE_SECRET_LEN]);

/* Make `secret` the current one and the current one the previous one. One writer at a time. */
void dns_cookie_rotate(struct dns_cookie_secrets *s, const uint8_t secret[DNS_COOKIE_SECRET_LEN]);

/* What a query's COOKIE option amounts to (RFC 7873 5.2), each counted by the callers. */
enum dns_cookie_verdict {
	DNS_COOKIE_NONE = 0,     /* no COOKIE option: nothing to add */
	DNS_COOKIE_NEW,          /* client cookie only: a fresh server cookie (5.2.3) */
	DNS_COOKIE_VALID,        /* our server cookie, valid and recent: echoed as it came (5.2.5) */
	DNS_COOKIE_REFRESHED,    /* valid, but older than 30 min or made with the previous
	                            secret: a new one (RFC 9018 4.3) */
	DNS_COOKIE_BAD,          /* a server cookie that is not a valid one of ours: answered
	                            normally with a fresh one (5.2.4) */
	DNS_COOKIE_MALFORMED,    /* length not 8 or 16..40: FORMERR, no cookie (5.2.2) */
};

/*
 * Check the COOKIE option data `opt` (`len` bytes, as found by
 * dns_query_parse) of a query from `ip` at time `now` (seconds since 1970)
 * against the secrets. Does not make a new cookie: dns_cookie_respond()
 * does, only for the queries that are answered (a rate-limited flood costs
 * one hash per query only when it carries a server cookie).
 * Lock-free, no allocation; reads `s` with one acquire load.
 */
enum dns_cookie_verdict dns_cookie_check(const struct dns_cookie_secrets *s, uint32_t now,
                                         const uint8_t *opt, size_t len,
                                         const uint8_t *ip, size_t iplen);

/*
 * The cookie to send back for `verdict` into `out` (DNS_COOKIE_LEN bytes):
 * the client cookie followed by the query's own server cookie
 * (DNS_COOKIE_VALID) or a new one under the current secret (NEW,
 * REFRESHED, BAD). Returns the length written (DNS_COOKIE_LEN), or 0 for
 * NONE and MALFORMED (nothing to send).
 */
size_t dns_cookie_respond(const struct dns_cookie_secrets *s, enum dns_cookie_verdict verdict,
                          uint32_t now, const uint8_t *opt, const uint8_t *ip, size_t iplen,
                          uint8_t out[DNS_COOKIE_LEN]);

#endif
