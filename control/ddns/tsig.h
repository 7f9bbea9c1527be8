/* tsig -- RFC 8945 transaction signatures: keys, request verification, response signing */
#ifndef DDI_CONTROL_TSIG_H
#define DDI_CONTROL_TSIG_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "dns/name.h"

/*
 * What this module does and does not do
 * -------------------------------------
 * It knows the TSIG record (RFC 8945 4.2), the digest components (4.3),
 * the order of the server's checks (5.2: key, MAC, time) and the shape of
 * the answers to each failure (5.3). It does not know where keys live:
 * verification asks the caller through a lookup callback, so the store, a
 * configuration file or a test can supply them. HMACs come from OpenSSL
 * (EVP_MAC); no function keeps state between calls, so every function may
 * be called from any thread.
 *
 * GSS-TSIG (RFC 3645): a key of algorithm gss-tsig. carries the MIC
 * functions of a context negotiated by TKEY (control/ddns/gss.h) instead
 * of a secret; the same digest data (4.3) is then handed to gss_get_mic /
 * gss_verify_mic, and the MAC-size rules of 5.2.2.1 are the mechanism's.
 *
 * Times are unix seconds given by the caller (`now`), so tests can move the
 * clock. Multi-message responses (zone transfers) are signed with
 * tsig_sign_multi (RFC 8945 5.3.1).
 */

/* Algorithms (RFC 8945 6). Numbers are ours, not on the wire. */
enum tsig_alg {
	TSIG_ALG_NONE = 0,
	TSIG_HMAC_MD5,        /* hmac-md5.sig-alg.reg.int. */
	TSIG_HMAC_SHA1,       /* hmac-sha1. */
	TSIG_HMAC_SHA224,     /* hmac-sha224. */
	TSIG_HMAC_SHA256,     /* hmac-sha256. (the default) */
	TSIG_HMAC_SHA384,     /* hmac-sha384. */
	TSIG_HMAC_SHA512,     /* hmac-sha512. */
	TSIG_GSS,             /* gss-tsig. (RFC 3645): the MAC is a GSS-API MIC made with a
	                         context negotiated by TKEY (tsig_key.mic), never a shared secret */
};
#define TSIG_ALG_DEFAULT TSIG_HMAC_SHA256

/* TSIG error field values (RFC 8945 3, IANA "DNS RCODEs"). */
enum tsig_error {
	TSIG_ERR_NONE = 0,
	TSIG_ERR_BADSIG = 16,
	TSIG_ERR_BADKEY = 17,
	TSIG_ERR_BADTIME = 18,
	TSIG_ERR_BADTRUNC = 22,
};

#define TSIG_SECRET_MAX 256    /* bytes; longer secrets are refused by tsig_key_parse */
#define TSIG_MAC_MAX 64        /* SHA-512 output */
#define TSIG_FUDGE_DEFAULT 300 /* seconds, RFC 8945 10 recommends 300 */
#define TSIG_KEY_STRLEN 1024   /* "hmac-sha512:" + name + ":" + base64(256) fits */

/*
 * GSS-TSIG (RFC 3645 3.3, 4): what a TSIG_GSS key signs and verifies with.
 * `data` is exactly what an HMAC would cover (RFC 8945 4.3). verify returns
 * 0 when `mic` is a valid MIC of data for the context (gss_verify_mic),
 * else non-zero; sign writes the MIC (gss_get_mic) to `out` (cap bytes)
 * and returns its length, or a negative error. Called on the thread that
 * owns the context only.
 */
struct tsig_mic_ops {
	int (*verify)(void *ctx, const uint8_t *data, size_t len, const uint8_t *mic, size_t mic_len);
	int (*sign)(void *ctx, const uint8_t *data, size_t len, uint8_t *out, size_t cap);
};

/* A shared secret (or, for TSIG_GSS, a negotiated context) and what it is called. */
struct tsig_key {
	uint8_t name[DNS_NAME_MAXLEN];   /* wire form, lower-case */
	enum tsig_alg alg;
	uint16_t secret_len;             /* 1..TSIG_SECRET_MAX; 0 for TSIG_GSS */
	uint8_t secret[TSIG_SECRET_MAX];
	/*
	 * TSIG_GSS only (NULL otherwise): the context's MIC functions and the
	 * authenticated identity, the client's Kerberos principal as a wire
	 * name ("host/h1.example.com@EXAMPLE.COM" read as a domain name, as
	 * BIND does), which the update policy is keyed by instead of the
	 * TKEY name. Both point into the context table (control/ddns/gss.h)
	 * and stay valid until the thread that owns it expires contexts.
	 */
	const struct tsig_mic_ops *mic;
	void *mic_ctx;
	const uint8_t *identity;
};

/* ------------------------------------------------------------------------ */
/* Algorithms and keys                                                      */
/* ------------------------------------------------------------------------ */

/* "hmac-sha256" etc. (no trailing dot); "" for TSIG_ALG_NONE or out of range. */
const char *tsig_alg_name(enum tsig_alg alg);

/* The algorithm's name in wire form as it goes into a TSIG RR (NULL if none). */
const uint8_t *tsig_alg_wire(enum tsig_alg alg);

/*
 * "hmac-sha256", "HMAC-SHA256.", "hmac-md5", "hmac-md5.sig-alg.reg.int" ...
 * -> algorithm, case-insensitive, with or without the trailing dot.
 * TSIG_ALG_NONE when unknown, and for "gss-tsig" (no shared-secret key
 * can have it: its keys come from TKEY only).
 */
enum tsig_alg tsig_alg_from_str(const char *s, size_t len);

/* A wire name (validated) -> algorithm, case-insensitive, gss-tsig. included. TSIG_ALG_NONE when unknown. */
enum tsig_alg tsig_alg_from_wire(const uint8_t *name);

/* Output length of the algorithm's HMAC in bytes (0 for TSIG_ALG_NONE). */
size_t tsig_alg_digest_len(enum tsig_alg alg);

/*
 * Parse a key in the form nsupdate -y, knsupdate -y and Kea take:
 * "[ALG:]NAME:SECRET", SECRET in base64 (RFC 4648, padding optional),
 * ALG as for tsig_alg_from_str, default hmac-sha256 when absent. NAME is
 * made absolute (a trailing dot is optional) and lower-cased.
 * Errors: DDI_EINVAL (no ':', unknown algorithm, empty or bad base64,
 * secret longer than TSIG_SECRET_MAX), DDI_ESYNTAX/DDI_ELABEL/DDI_ENAMELEN
 * for the name.
 */
int tsig_key_parse(struct tsig_key *k, const char *s);

/*
 * Make a key with a fresh random secret (RAND_bytes) as long as the
 * algorithm's digest (RFC 2104's recommended length). `name` is a wire
 * name. Errors: DDI_EINVAL (no algorithm), DDI_EIO (no randomness).
 */
int tsig_key_generate(struct tsig_key *k, const uint8_t *name, enum tsig_alg alg);

/*
 * "hmac-sha256:NAME:BASE64" (NAME without the trailing dot, as BIND's tools
 * print it; both forms parse back to the same key). Returns the length or
 * DDI_ESPACE (TSIG_KEY_STRLEN always suffices).
 */
int tsig_key_format(char *buf, size_t buflen, const struct tsig_key *k);

/* base64 of `len` bytes, NUL-terminated. Returns the length or DDI_ESPACE. */
int tsig_b64_encode(char *out, size_t outcap, const uint8_t *in, size_t len);

/*
 * base64 (whitespace not allowed, padding optional) -> bytes. Returns the
 * length or DDI_EINVAL (bad character, bad length) / DDI_ESPACE.
 */
int tsig_b64_decode(uint8_t *out, size_t outcap, const char *in, size_t len);

/* ------------------------------------------------------------------------ */
/* Messages                                                                 */
/* ------------------------------------------------------------------------ */

/* The TSIG RR of a message, parsed (RFC 8945 4.2). */
struct tsig_rr {
	uint8_t key_name[DNS_NAME_MAXLEN];  /* lower-cased, as used in the digest */
	uint8_t alg_name[DNS_NAME_MAXLEN];  /* lower-cased */
	uint64_t time_signed;               /* 48 bits */
	uint16_t fudge;
	uint16_t mac_len;
	uint8_t mac[TSIG_MAC_MAX];          /* only when mac_len <= TSIG_MAC_MAX */
	uint16_t orig_id;
	uint16_t error;
	uint16_t other_len;
	uint8_t other[6];                   /* only when other_len <= 6 */
};

/*
 * Parse the TSIG RR that starts at `pos` and must end exactly at `len`
 * (the last record of the message). Checks: owner and algorithm names
 * (compression in the owner tolerated), type TSIG, class ANY, the rdata
 * fields within rdlength and filling it exactly, MAC no longer than
 * TSIG_MAC_MAX, Other Len <= 6. Errors: DDI_EMALF.
 */
int tsig_rr_parse(struct tsig_rr *t, const uint8_t *msg, size_t len, size_t pos);

/*
 * Find the TSIG RR of any message (query or response): walks every
 * section with bounds checked. On success *pos is the offset of the TSIG
 * RR, which is the last record. DDI_ENOENT when the message has none,
 * DDI_EMALF when the message does not parse or a TSIG is not last.
 */
int tsig_find(const uint8_t *msg, size_t len, size_t *pos);

/*
 * Key lookup: fill *out with the key called `name` (lower-case wire name)
 * and return DDI_EOK, or return DDI_ENOENT. The algorithm is compared by
 * the caller. May be called from inside a store read transaction.
 */
typedef int (*tsig_lookup_fn)(void *ctx, const uint8_t *name, struct tsig_key *out);

enum tsig_result {
	TSIG_OK = 0,        /* signed and verified: answer, and sign the answer */
	TSIG_FORMERR,       /* malformed TSIG (or a MAC size 5.2.2.1 forbids): FORMERR, unsigned */
	TSIG_BADKEY,        /* unknown key or algorithm: NOTAUTH + BADKEY, unsigned */
	TSIG_BADSIG,        /* MAC does not verify: NOTAUTH + BADSIG, unsigned */
	TSIG_BADTIME,       /* outside fudge: NOTAUTH + BADTIME, signed, server time in Other Data */
};

/*
 * What verification learned, kept to sign the answer: the request's TSIG
 * fields, the key when it was found, and the TSIG error to send back.
 * Self-contained (no pointer into the request): it may outlive the
 * request buffer, e.g. while the update is applied.
 */
struct tsig_ctx {
	struct tsig_rr req;        /* the request's TSIG record */
	struct tsig_key key;       /* valid when have_key */
	bool have_key;
	uint16_t error;            /* TSIG error for the response (enum tsig_error) */
};

/*
 * Verify a request whose TSIG RR starts at `tsig_pos` (from dns_query_parse:
 * has_tsig/tsig_pos) and ends the message. The checks, in RFC 8945 5.2's
 * order:
 *  - the TSIG RR parses (5.1)                                 else TSIG_FORMERR
 *  - a key of that name exists and has that algorithm (5.2.1) else TSIG_BADKEY
 *  - MAC size: not above the digest length, not below
 *    max(10, digest/2) (5.2.2.1)                              else TSIG_FORMERR
 *  - the MAC over: the message with the TSIG RR removed, ARCOUNT - 1 and
 *    ID = Original ID, then the TSIG variables (4.3.3), truncated to the
 *    received MAC size, compared in constant time (CRYPTO_memcmp)
 *                                                              else TSIG_BADSIG
 *  - |now - Time Signed| <= Fudge (5.2.3)                     else TSIG_BADTIME
 * `t` is filled as far as the checks got, so tsig_sign_response() can
 * answer any outcome but TSIG_FORMERR. `lookup` errors other than
 * DDI_ENOENT are treated as an unknown key.
 */
enum tsig_result tsig_verify(struct tsig_ctx *t, const uint8_t *msg, size_t len, size_t tsig_pos,
                             uint64_t now, tsig_lookup_fn lookup, void *lookup_ctx);

/* The DNS rcode of a verification outcome: NOERROR, FORMERR or NOTAUTH. */
uint8_t tsig_result_rcode(enum tsig_result r);

/*
 * Append the TSIG RR to a response in msg[0..*len) (capacity `cap`) and
 * bump ARCOUNT. Per RFC 8945 5.3: after TSIG_OK the response is signed
 * over [request MAC size, request MAC (as received, truncated or not)],
 * the response, and the variables with Time Signed = now; after
 * TSIG_BADTIME it is signed likewise with Error = BADTIME, Time Signed =
 * the request's and Other Data = now (48 bits); after TSIG_BADKEY or
 * TSIG_BADSIG the TSIG RR carries the error and an empty MAC (unsigned).
 * Key and algorithm names are the request's. The response's ID is used
 * as Original ID. Errors: DDI_ESPACE (buffer too small; *len unchanged),
 * DDI_EINVAL (t comes from TSIG_FORMERR or an unsigned request),
 * DDI_EIO (OpenSSL failed).
 */
int tsig_sign_response(const struct tsig_ctx *t, uint8_t *msg, size_t *len, size_t cap, uint64_t now);

/*
 * Sign a message as a client does (a request), or as a server does when
 * `prior_mac` is given (a response to a request with that MAC): append a
 * TSIG RR with `time_signed`, `fudge`, error 0, no Other Data, the full
 * MAC, Original ID = the message ID, and bump ARCOUNT. The MAC is copied
 * to mac_out (TSIG_MAC_MAX bytes, may be NULL) and its length returned.
 * Errors: DDI_ESPACE, DDI_EINVAL (no algorithm), DDI_EIO.
 */
int tsig_sign(const struct tsig_key *k, const uint8_t *prior_mac, uint16_t prior_mac_len,
              uint8_t *msg, size_t *len, size_t cap, uint64_t time_signed, uint16_t fudge,
              uint8_t mac_out[TSIG_MAC_MAX]);

/*
 * RFC 8945 5.3.1: sign one message of a multi-message response (AXFR,
 * IXFR) to a request verified with TSIG_OK. The first message (`first`)
 * is signed as tsig_sign_response does, prior = the request's MAC; each
 * later one over [prior MAC size, prior MAC] (the MAC of the previous
 * message), the message, and the timers only (Time Signed, Fudge). The
 * MAC goes to mac_out for the next message; its length is returned.
 * Errors: DDI_EINVAL (no key, or an error outcome), DDI_ESPACE, DDI_EIO.
 */
int tsig_sign_multi(const struct tsig_ctx *t, bool first, const uint8_t *prior, uint16_t prior_len,
                    uint8_t *msg, size_t *len, size_t cap, uint64_t now,
                    uint8_t mac_out[TSIG_MAC_MAX]);

/*
 * Client side: verify a signed response to a request whose MAC was
 * `req_mac`. Same checks and outcomes as tsig_verify with the given key
 * (a different key name or algorithm is TSIG_BADKEY). A response carrying
 * a TSIG error is reported as that error (BADKEY, BADSIG, BADTIME) after
 * the MAC check that applies to it (unsigned error answers are not
 * checked). `t` receives the response's TSIG fields.
 */
enum tsig_result tsig_verify_response(struct tsig_rr *t, const struct tsig_key *k,
                                      const uint8_t *req_mac, uint16_t req_mac_len,
                                      const uint8_t *msg, size_t len, uint64_t now);

/*
 * Client side, RFC 8945 5.3.1: verify a LATER message of a signed
 * multi-message response (AXFR, IXFR; the first one is checked with
 * tsig_verify_response against the request's MAC). Its MAC covers
 * [prior MAC size, prior MAC] (the MAC of the previous signed message),
 * the message without its TSIG RR (ARCOUNT - 1, ID = Original ID) and the
 * timers only (Time Signed, Fudge). Every message must be signed here:
 * the 5.3.1 allowance of up to 99 unsigned messages in between is not
 * taken (Knot DNS and BIND sign each one), so an unsigned message is
 * TSIG_FORMERR. Key and algorithm must be the same (else TSIG_BADKEY);
 * Time Signed within Fudge of `now` (else TSIG_BADTIME).
 */
enum tsig_result tsig_verify_next(struct tsig_rr *t, const struct tsig_key *k,
                                  const uint8_t *prior, uint16_t prior_len,
                                  const uint8_t *msg, size_t len, uint64_t now);

#endif
