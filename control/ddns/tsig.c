/* tsig -- RFC 8945 transaction signatures: keys, request verification, response signing */
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include <openssl/core_names.h>
#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <openssl/params.h>
#include <openssl/rand.h>

#include "control/ddns/tsig.h"
#include "dns/errcode.h"
#include "dns/name.h"
#include "dns/rdata.h"
#include "dns/wire.h"

/* ------------------------------------------------------------------------ */
/* Algorithms                                                               */
/* ------------------------------------------------------------------------ */

struct alg_info {
	const char *name;          /* short form, as nsupdate -y takes it */
	const uint8_t *wire;       /* RFC 8945 6 name */
	const char *digest;        /* OpenSSL digest name */
	size_t len;                /* output bytes */
};

static const struct alg_info algs[] = {
	[TSIG_HMAC_MD5] = { "hmac-md5",
		(const uint8_t *)"\x08hmac-md5\x07sig-alg\x03reg\x03int", "MD5", 16 },
	[TSIG_HMAC_SHA1] = { "hmac-sha1", (const uint8_t *)"\x09hmac-sha1", "SHA1", 20 },
	[TSIG_HMAC_SHA224] = { "hmac-sha224", (const uint8_t *)"\x0bhmac-sha224", "SHA224", 28 },
	[TSIG_HMAC_SHA256] = { "hmac-sha256", (const uint8_t *)"\x0bhmac-sha256", "SHA256", 32 },
	[TSIG_HMAC_SHA384] = { "hmac-sha384", (const uint8_t *)"\x0bhmac-sha384", "SHA384", 48 },
	[TSIG_HMAC_SHA512] = { "hmac-sha512", (const uint8_t *)"\x0bhmac-sha512", "SHA512", 64 },
	/* RFC 3645: no digest of ours; the MIC's length is the mechanism's (tsig_key.mic) */
	[TSIG_GSS] = { "gss-tsig", (const uint8_t *)"\x08gss-tsig", NULL, 0 },
};
#define NALGS ((int)(sizeof(algs) / sizeof(algs[0])))

static const struct alg_info *alg_get(enum tsig_alg alg)
{
	if ((int)alg <= TSIG_ALG_NONE || (int)alg >= NALGS)
		return NULL;
	return &algs[alg];
}

const char *tsig_alg_name(enum tsig_alg alg)
{
	const struct alg_info *a = alg_get(alg);
	return a ? a->name : "";
}

const uint8_t *tsig_alg_wire(enum tsig_alg alg)
{
	const struct alg_info *a = alg_get(alg);
	return a ? a->wire : NULL;
}

size_t tsig_alg_digest_len(enum tsig_alg alg)
{
	const struct alg_info *a = alg_get(alg);
	return a ? a->len : 0;
}

enum tsig_alg tsig_alg_from_wire(const uint8_t *name)
{
	if (name == NULL)
		return TSIG_ALG_NONE;
	for (int i = 1; i < NALGS; i++)
		if (dns_name_equal(name, algs[i].wire))
			return (enum tsig_alg)i;
	return TSIG_ALG_NONE;
}

enum tsig_alg tsig_alg_from_str(const char *s, size_t len)
{
	uint8_t wire[DNS_NAME_MAXLEN];

	if (s == NULL || len == 0)
		return TSIG_ALG_NONE;
	/* "hmac-md5" is short for the historical hmac-md5.sig-alg.reg.int. */
	if ((len == 8 || (len == 9 && s[8] == '.')) && strncasecmp(s, "hmac-md5", 8) == 0)
		return TSIG_HMAC_MD5;
	if (dns_name_from_str(wire, s, len, NULL) < 0)
		return TSIG_ALG_NONE;
	enum tsig_alg a = tsig_alg_from_wire(wire);
	return a == TSIG_GSS ? TSIG_ALG_NONE : a;   /* gss-tsig keys come from TKEY, never from text */
}

/* ------------------------------------------------------------------------ */
/* base64 and keys                                                          */
/* ------------------------------------------------------------------------ */

int tsig_b64_encode(char *out, size_t outcap, const uint8_t *in, size_t len)
{
	size_t need = 4 * ((len + 2) / 3) + 1;

	if (out == NULL || outcap < need || len > (size_t)INT32_MAX / 2)
		return DDI_ESPACE;
	return EVP_EncodeBlock((unsigned char *)out, in, (int)len);
}

static int b64_val(char c)
{
	if (c >= 'A' && c <= 'Z') return c - 'A';
	if (c >= 'a' && c <= 'z') return c - 'a' + 26;
	if (c >= '0' && c <= '9') return c - '0' + 52;
	if (c == '+') return 62;
	if (c == '/') return 63;
	return -1;
}

/*
 * Decoded by hand rather than with EVP_DecodeBlock, which accepts
 * whitespace, needs padding and reports padded lengths: a secret must
 * decode to exactly the bytes it names or be refused.
 */
int tsig_b64_decode(uint8_t *out, size_t outcap, const char *in, size_t len)
{
	size_t n = 0, pad = 0;
	uint32_t acc = 0;
	int bits = 0;

	if (in == NULL || out == NULL)
		return DDI_EINVAL;
	while (pad < 2 && len > 0 && in[len - 1] == '=') {
		len--;
		pad++;
	}
	if (pad > 0 && (len + pad) % 4 != 0)
		return DDI_EINVAL;
	if (len % 4 == 1)
		return DDI_EINVAL;   /* 6 bits cannot end a byte */
	for (size_t i = 0; i < len; i++) {
		int v = b64_val(in[i]);
		if (v < 0)
			return DDI_EINVAL;
		acc = (acc << 6) | (uint32_t)v;
		bits += 6;
		if (bits >= 8) {
			bits -= 8;
			if (n >= outcap)
				return DDI_ESPACE;
			out[n++] = (uint8_t)(acc >> bits);
			acc &= (1u << bits) - 1;
		}
	}
	/* RFC 4648 3.5: the bits left over must be zero (canonical encoding). */
	if (acc != 0)
		return DDI_EINVAL;
	return (int)n;
}

int tsig_key_parse(struct tsig_key *k, const char *s)
{
	const char *c1, *c2, *name, *secret;
	size_t name_len;
	enum tsig_alg alg = TSIG_ALG_DEFAULT;
	int r;

	if (k == NULL || s == NULL)
		return DDI_EINVAL;
	memset(k, 0, sizeof(*k));
	c1 = strchr(s, ':');
	c2 = strrchr(s, ':');
	if (c1 == NULL)
		return DDI_EINVAL;
	if (c1 != c2) {
		/* ALG:NAME:SECRET; a name holding ':' still splits at the first and last. */
		alg = tsig_alg_from_str(s, (size_t)(c1 - s));
		if (alg == TSIG_ALG_NONE)
			return DDI_EINVAL;
		name = c1 + 1;
		name_len = (size_t)(c2 - name);
	} else {
		name = s;
		name_len = (size_t)(c1 - s);
	}
	secret = c2 + 1;
	if (name_len == 0 || *secret == '\0')
		return DDI_EINVAL;
	if ((r = dns_name_from_str(k->name, name, name_len, NULL)) < 0)
		return r;
	dns_name_lower(k->name);
	r = tsig_b64_decode(k->secret, sizeof(k->secret), secret, strlen(secret));
	if (r < 0)
		return DDI_EINVAL;
	if (r == 0)
		return DDI_EINVAL;
	k->secret_len = (uint16_t)r;
	k->alg = alg;
	return DDI_EOK;
}

int tsig_key_generate(struct tsig_key *k, const uint8_t *name, enum tsig_alg alg)
{
	size_t len = tsig_alg_digest_len(alg);

	if (k == NULL || name == NULL || len == 0)
		return DDI_EINVAL;
	memset(k, 0, sizeof(*k));
	memcpy(k->name, name, dns_name_len(name));
	dns_name_lower(k->name);
	k->alg = alg;
	if (RAND_bytes(k->secret, (int)len) != 1)
		return DDI_EIO;
	k->secret_len = (uint16_t)len;
	return DDI_EOK;
}

int tsig_key_format(char *buf, size_t buflen, const struct tsig_key *k)
{
	char name[DNS_NAME_STRLEN], b64[4 * ((TSIG_SECRET_MAX + 2) / 3) + 1];
	int nl, r;

	if (k == NULL || alg_get(k->alg) == NULL)
		return DDI_EINVAL;
	if ((nl = dns_name_to_str(name, sizeof(name), k->name)) < 0)
		return nl;
	if (nl > 1)
		name[nl - 1] = '\0';   /* BIND's tools print key names without the dot */
	if ((r = tsig_b64_encode(b64, sizeof(b64), k->secret, k->secret_len)) < 0)
		return r;
	r = snprintf(buf, buflen, "%s:%s:%s", tsig_alg_name(k->alg), name, b64);
	if (r < 0 || (size_t)r >= buflen)
		return DDI_ESPACE;
	return r;
}

/* ------------------------------------------------------------------------ */
/* The TSIG record                                                          */
/* ------------------------------------------------------------------------ */

/* RDATA fixed parts around the names and the MAC (RFC 8945 4.2). */
#define TSIG_RR_FIXED 10    /* type class ttl rdlength */

int tsig_rr_parse(struct tsig_rr *t, const uint8_t *msg, size_t len, size_t pos)
{
	size_t end;
	uint16_t rdlen;

	memset(t, 0, sizeof(*t));
	if (pos >= len)
		return DDI_EMALF;
	if (dns_name_parse(msg, len, &pos, t->key_name) < 0)
		return DDI_EMALF;
	if (len - pos < TSIG_RR_FIXED)
		return DDI_EMALF;
	/* RFC 8945 4.2: CLASS ANY, TTL 0. The TTL is not checked: BIND and Knot do not either. */
	if (dns_get16(msg + pos) != DNS_T_TSIG || dns_get16(msg + pos + 2) != DNS_CLASS_ANY)
		return DDI_EMALF;
	rdlen = dns_get16(msg + pos + 8);
	pos += TSIG_RR_FIXED;
	if (rdlen != len - pos)
		return DDI_EMALF;   /* the TSIG RR is the last thing in the message */
	end = len;
	/* The algorithm name must not run past the rdata; parse inside [0, end). */
	if (dns_name_parse(msg, end, &pos, t->alg_name) < 0)
		return DDI_EMALF;
	if (end - pos < 10)
		return DDI_EMALF;
	t->time_signed = (uint64_t)dns_get16(msg + pos) << 32 | dns_get32(msg + pos + 2);
	t->fudge = dns_get16(msg + pos + 6);
	t->mac_len = dns_get16(msg + pos + 8);
	pos += 10;
	if (t->mac_len > TSIG_MAC_MAX || end - pos < (size_t)t->mac_len + 6)
		return DDI_EMALF;
	memcpy(t->mac, msg + pos, t->mac_len);
	pos += t->mac_len;
	t->orig_id = dns_get16(msg + pos);
	t->error = dns_get16(msg + pos + 2);
	t->other_len = dns_get16(msg + pos + 4);
	pos += 6;
	if (t->other_len > sizeof(t->other) || end - pos != t->other_len)
		return DDI_EMALF;
	memcpy(t->other, msg + pos, t->other_len);
	dns_name_lower(t->key_name);
	dns_name_lower(t->alg_name);
	return DDI_EOK;
}

int tsig_find(const uint8_t *msg, size_t len, size_t *pos)
{
	uint8_t name[DNS_NAME_MAXLEN];
	size_t p = DNS_HDR_LEN, last = 0;
	uint32_t qd, total;
	uint16_t type = 0;

	if (msg == NULL || len < DNS_HDR_LEN)
		return DDI_EMALF;
	qd = dns_get16(msg + 4);
	total = (uint32_t)dns_get16(msg + 6) + dns_get16(msg + 8) + dns_get16(msg + 10);
	for (uint32_t i = 0; i < qd; i++) {
		if (dns_name_parse(msg, len, &p, name) < 0 || len - p < 4)
			return DDI_EMALF;
		p += 4;
	}
	for (uint32_t i = 0; i < total; i++) {
		last = p;
		if (dns_name_parse(msg, len, &p, name) < 0 || len - p < TSIG_RR_FIXED)
			return DDI_EMALF;
		type = dns_get16(msg + p);
		uint16_t rdlen = dns_get16(msg + p + 8);
		p += TSIG_RR_FIXED;
		if (rdlen > len - p)
			return DDI_EMALF;
		p += rdlen;
		/* RFC 8945 5.1: a TSIG anywhere but last makes the message malformed. */
		if (type == DNS_T_TSIG && (i + 1 != total || dns_get16(msg + 10) == 0))
			return DDI_EMALF;
	}
	if (p != len)
		return DDI_EMALF;
	if (total == 0 || type != DNS_T_TSIG)
		return DDI_ENOENT;
	*pos = last;
	return DDI_EOK;
}

/* ------------------------------------------------------------------------ */
/* The MAC                                                                  */
/* ------------------------------------------------------------------------ */

/* Everything a MAC covers (RFC 8945 4.3). */
struct mac_input {
	const uint8_t *prior;      /* request MAC when signing/verifying a response, else NULL */
	uint16_t prior_len;
	const uint8_t *msg;        /* the message without its TSIG RR */
	size_t msg_len;
	uint16_t id;               /* the ID to put in the header (Original ID) */
	uint16_t arcount;          /* ARCOUNT without the TSIG RR */
	const uint8_t *key_name;   /* lower-case wire */
	const uint8_t *alg_name;   /* lower-case wire */
	uint64_t time_signed;
	uint16_t fudge;
	uint16_t error;
	uint16_t other_len;
	const uint8_t *other;
	bool timers_only;          /* RFC 8945 5.3.1: later messages of a stream: Time Signed, Fudge */
};

/*
 * GSS-TSIG (RFC 3645 3.3, 4): the same bytes an HMAC covers, in one buffer,
 * handed to the context's gss_get_mic (signing: check NULL, MIC to out) or
 * gss_verify_mic (check: the received MIC; DDI_EOK when it verifies,
 * DDI_EACCES when not). The buffer is bounded by the message (64 KiB).
 */
static int gss_mac(const struct tsig_key *k, const struct mac_input *in, const uint8_t *hdr,
                   const uint8_t *vars, size_t vl, uint8_t out[TSIG_MAC_MAX], size_t *out_len,
                   const uint8_t *check, size_t check_len)
{
	if (k->mic == NULL)
		return DDI_EINVAL;
	size_t n = (in->prior ? 2 + (size_t)in->prior_len : 0) + in->msg_len + vl;
	uint8_t *buf = malloc(n), *p = buf;
	if (buf == NULL)
		return DDI_ENOMEM;
	if (in->prior) {
		dns_put16(p, in->prior_len);
		memcpy(p + 2, in->prior, in->prior_len);
		p += 2 + in->prior_len;
	}
	memcpy(p, hdr, DNS_HDR_LEN);
	memcpy(p + DNS_HDR_LEN, in->msg + DNS_HDR_LEN, in->msg_len - DNS_HDR_LEN);
	memcpy(p + in->msg_len, vars, vl);
	int r;
	if (check != NULL) {
		r = k->mic->verify(k->mic_ctx, buf, n, check, check_len) == 0 ? DDI_EOK : DDI_EACCES;
	} else {
		r = k->mic->sign(k->mic_ctx, buf, n, out, TSIG_MAC_MAX);
		if (r >= 0) {
			*out_len = (size_t)r;
			r = DDI_EOK;
		}
	}
	free(buf);
	return r;
}

/*
 * The MAC over `in` with key k into out. For TSIG_GSS with `check` given,
 * verify that MAC instead (DDI_EOK or DDI_EACCES); HMAC callers compare.
 */
static int mac_compute(const struct tsig_key *k, const struct mac_input *in,
                       uint8_t out[TSIG_MAC_MAX], size_t *out_len, const uint8_t *check,
                       size_t check_len)
{
	const struct alg_info *a = alg_get(k->alg);
	uint8_t hdr[DNS_HDR_LEN], vars[DNS_NAME_MAXLEN * 2 + 32], b2[2];
	size_t vl = 0, kl, al;
	EVP_MAC *mac = NULL;
	EVP_MAC_CTX *c = NULL;
	int ret = DDI_EIO;

	if (a == NULL || in->msg_len < DNS_HDR_LEN)
		return DDI_EINVAL;
	memcpy(hdr, in->msg, DNS_HDR_LEN);
	dns_put16(hdr, in->id);
	dns_put16(hdr + 10, in->arcount);

	/* TSIG variables (4.3.3): NAME CLASS TTL ALG TIME FUDGE ERROR OTHERLEN OTHER. */
	kl = dns_name_len(in->key_name);
	memcpy(vars, in->key_name, kl);
	vl = kl;
	dns_put16(vars + vl, DNS_CLASS_ANY);
	dns_put32(vars + vl + 2, 0);
	vl += 6;
	al = dns_name_len(in->alg_name);
	memcpy(vars + vl, in->alg_name, al);
	vl += al;
	if (in->timers_only)
		vl = 0;   /* 4.3.1/5.3.1: only the timers follow a later message of a stream */
	dns_put16(vars + vl, (uint16_t)(in->time_signed >> 32));
	dns_put32(vars + vl + 2, (uint32_t)in->time_signed);
	dns_put16(vars + vl + 6, in->fudge);
	if (in->timers_only) {
		vl += 8;
	} else {
		dns_put16(vars + vl + 8, in->error);
		dns_put16(vars + vl + 10, in->other_len);
		vl += 12;
		if (in->other_len > 6)
			return DDI_EINVAL;
		if (in->other_len > 0)
			memcpy(vars + vl, in->other, in->other_len);
		vl += in->other_len;
	}

	if (k->alg == TSIG_GSS)
		return gss_mac(k, in, hdr, vars, vl, out, out_len, check, check_len);

	OSSL_PARAM params[] = {
		OSSL_PARAM_construct_utf8_string(OSSL_MAC_PARAM_DIGEST, (char *)a->digest, 0),
		OSSL_PARAM_construct_end(),
	};
	if ((mac = EVP_MAC_fetch(NULL, "HMAC", NULL)) == NULL)
		goto out;
	if ((c = EVP_MAC_CTX_new(mac)) == NULL)
		goto out;
	if (EVP_MAC_init(c, k->secret, k->secret_len, params) != 1)
		goto out;
	if (in->prior != NULL) {
		dns_put16(b2, in->prior_len);
		if (EVP_MAC_update(c, b2, 2) != 1 || EVP_MAC_update(c, in->prior, in->prior_len) != 1)
			goto out;
	}
	if (EVP_MAC_update(c, hdr, sizeof(hdr)) != 1 ||
	    EVP_MAC_update(c, in->msg + DNS_HDR_LEN, in->msg_len - DNS_HDR_LEN) != 1 ||
	    EVP_MAC_update(c, vars, vl) != 1)
		goto out;
	if (EVP_MAC_final(c, out, out_len, TSIG_MAC_MAX) != 1 || *out_len != a->len)
		goto out;
	ret = DDI_EOK;
out:
	EVP_MAC_CTX_free(c);
	EVP_MAC_free(mac);
	return ret;
}

/* RFC 8945 5.2.2.1 rules 1 and 3: a MAC size we must treat as FORMERR. */
static bool mac_size_bad(enum tsig_alg alg, uint16_t mac_len)
{
	if (alg == TSIG_GSS)
		return mac_len == 0;   /* a MIC's length is the mechanism's: gss_verify_mic judges it */
	size_t full = tsig_alg_digest_len(alg), min = full / 2;

	if (min < 10)
		min = 10;
	return mac_len > full || mac_len < min;
}

static bool time_bad(uint64_t time_signed, uint16_t fudge, uint64_t now)
{
	uint64_t d = now > time_signed ? now - time_signed : time_signed - now;
	return d > fudge;
}

/* Check the MAC of the message whose TSIG RR `t` starts at `pos`. */
static enum tsig_result mac_check(const struct tsig_key *k, const struct tsig_rr *t,
                                  const uint8_t *prior, uint16_t prior_len,
                                  const uint8_t *msg, size_t pos)
{
	uint8_t mac[TSIG_MAC_MAX];
	size_t mac_len = 0;
	struct mac_input in = {
		.prior = prior, .prior_len = prior_len, .msg = msg, .msg_len = pos,
		.id = t->orig_id, .arcount = (uint16_t)(dns_get16(msg + 10) - 1),
		.key_name = t->key_name, .alg_name = t->alg_name, .time_signed = t->time_signed,
		.fudge = t->fudge, .error = t->error, .other_len = t->other_len, .other = t->other,
	};

	if (k->alg == TSIG_GSS)   /* a MIC is checked by the mechanism, not recomputed */
		return mac_compute(k, &in, NULL, NULL, t->mac, t->mac_len) == DDI_EOK ? TSIG_OK
		                                                                      : TSIG_BADSIG;
	if (mac_compute(k, &in, mac, &mac_len, NULL, 0) != DDI_EOK)
		return TSIG_BADSIG;
	/* 5.2.2.1 rule 4: a truncated MAC is compared with as many leading bytes. */
	if (CRYPTO_memcmp(mac, t->mac, t->mac_len) != 0)
		return TSIG_BADSIG;
	return TSIG_OK;
}

enum tsig_result tsig_verify(struct tsig_ctx *t, const uint8_t *msg, size_t len, size_t tsig_pos,
                             uint64_t now, tsig_lookup_fn lookup, void *lookup_ctx)
{
	enum tsig_alg alg;
	enum tsig_result r;

	memset(t, 0, sizeof(*t));
	if (msg == NULL || len < DNS_HDR_LEN || tsig_pos < DNS_HDR_LEN || dns_get16(msg + 10) == 0 ||
	    tsig_rr_parse(&t->req, msg, len, tsig_pos) != DDI_EOK)
		return TSIG_FORMERR;

	/* 5.2.1: the key, then its algorithm. */
	alg = tsig_alg_from_wire(t->req.alg_name);
	if (lookup == NULL || lookup(lookup_ctx, t->req.key_name, &t->key) != DDI_EOK ||
	    alg == TSIG_ALG_NONE || t->key.alg != alg ||
	    !dns_name_equal(t->key.name, t->req.key_name)) {
		memset(&t->key, 0, sizeof(t->key));
		t->error = TSIG_ERR_BADKEY;
		return TSIG_BADKEY;
	}
	t->have_key = true;

	/* 5.2.2 */
	if (mac_size_bad(alg, t->req.mac_len))
		return TSIG_FORMERR;
	r = mac_check(&t->key, &t->req, NULL, 0, msg, tsig_pos);
	if (r != TSIG_OK) {
		t->error = TSIG_ERR_BADSIG;
		return r;
	}

	/* 5.2.3 */
	if (time_bad(t->req.time_signed, t->req.fudge, now)) {
		t->error = TSIG_ERR_BADTIME;
		return TSIG_BADTIME;
	}
	return TSIG_OK;
}

uint8_t tsig_result_rcode(enum tsig_result r)
{
	switch (r) {
	case TSIG_OK: return DNS_RCODE_NOERROR;
	case TSIG_FORMERR: return DNS_RCODE_FORMERR;
	default: return DNS_RCODE_NOTAUTH;
	}
}

/* ------------------------------------------------------------------------ */
/* Signing                                                                  */
/* ------------------------------------------------------------------------ */

/* Append a TSIG RR: owner key_name, class ANY, TTL 0, the rdata; bump ARCOUNT. */
static int put_tsig_rr(uint8_t *msg, size_t *len, size_t cap, const uint8_t *key_name,
                       const uint8_t *alg_name, uint64_t time_signed, uint16_t fudge,
                       const uint8_t *mac, uint16_t mac_len, uint16_t orig_id, uint16_t error,
                       const uint8_t *other, uint16_t other_len)
{
	size_t kl = dns_name_len(key_name), al = dns_name_len(alg_name);
	size_t rdlen = al + 10 + mac_len + 6 + other_len;
	size_t need = kl + TSIG_RR_FIXED + rdlen;
	uint16_t ar = dns_get16(msg + 10);
	uint8_t *p;

	if (*len < DNS_HDR_LEN || cap < *len || cap - *len < need || ar == 0xffff)
		return DDI_ESPACE;
	p = msg + *len;
	memcpy(p, key_name, kl);
	p += kl;
	dns_put16(p, DNS_T_TSIG);
	dns_put16(p + 2, DNS_CLASS_ANY);
	dns_put32(p + 4, 0);
	dns_put16(p + 8, (uint16_t)rdlen);
	p += TSIG_RR_FIXED;
	memcpy(p, alg_name, al);
	p += al;
	dns_put16(p, (uint16_t)(time_signed >> 32));
	dns_put32(p + 2, (uint32_t)time_signed);
	dns_put16(p + 6, fudge);
	dns_put16(p + 8, mac_len);
	p += 10;
	if (mac_len > 0)
		memcpy(p, mac, mac_len);
	p += mac_len;
	dns_put16(p, orig_id);
	dns_put16(p + 2, error);
	dns_put16(p + 4, other_len);
	p += 6;
	if (other_len > 0)
		memcpy(p, other, other_len);
	*len += need;
	dns_put16(msg + 10, (uint16_t)(ar + 1));
	return DDI_EOK;
}

int tsig_sign(const struct tsig_key *k, const uint8_t *prior_mac, uint16_t prior_mac_len,
              uint8_t *msg, size_t *len, size_t cap, uint64_t time_signed, uint16_t fudge,
              uint8_t mac_out[TSIG_MAC_MAX])
{
	const uint8_t *alg_name;
	uint8_t mac[TSIG_MAC_MAX];
	size_t mac_len = 0;
	int r;

	if (k == NULL || msg == NULL || len == NULL || *len < DNS_HDR_LEN ||
	    (alg_name = tsig_alg_wire(k->alg)) == NULL)
		return DDI_EINVAL;
	struct mac_input in = {
		.prior = prior_mac, .prior_len = prior_mac_len, .msg = msg, .msg_len = *len,
		.id = dns_get16(msg), .arcount = dns_get16(msg + 10), .key_name = k->name,
		.alg_name = alg_name, .time_signed = time_signed, .fudge = fudge,
	};
	if ((r = mac_compute(k, &in, mac, &mac_len, NULL, 0)) != DDI_EOK)
		return r;
	r = put_tsig_rr(msg, len, cap, k->name, alg_name, time_signed, fudge, mac,
	                (uint16_t)mac_len, dns_get16(msg), 0, NULL, 0);
	if (r != DDI_EOK)
		return r;
	if (mac_out != NULL)
		memcpy(mac_out, mac, mac_len);
	return (int)mac_len;
}

int tsig_sign_response(const struct tsig_ctx *t, uint8_t *msg, size_t *len, size_t cap, uint64_t now)
{
	uint8_t mac[TSIG_MAC_MAX], other[6];
	size_t mac_len = 0;
	uint16_t other_len = 0;
	uint64_t time_signed = now;
	int r;

	/* A request whose TSIG did not parse (alg_name still the root) cannot be answered signed. */
	if (t == NULL || msg == NULL || len == NULL || *len < DNS_HDR_LEN || t->req.alg_name[0] == 0)
		return DDI_EINVAL;

	/* 5.3.2: errors about the key or the MAC go back unsigned. */
	if (t->error == TSIG_ERR_BADKEY || t->error == TSIG_ERR_BADSIG || !t->have_key)
		return put_tsig_rr(msg, len, cap, t->req.key_name, t->req.alg_name, now,
		                   t->req.fudge, NULL, 0, dns_get16(msg), t->error, NULL, 0);

	if (t->error == TSIG_ERR_BADTIME) {
		/* 5.2.3: the request's time, and ours in Other Data for the client to see the skew. */
		time_signed = t->req.time_signed;
		dns_put16(other, (uint16_t)(now >> 32));
		dns_put32(other + 2, (uint32_t)now);
		other_len = 6;
	}
	struct mac_input in = {
		.prior = t->req.mac, .prior_len = t->req.mac_len, .msg = msg, .msg_len = *len,
		.id = dns_get16(msg), .arcount = dns_get16(msg + 10), .key_name = t->req.key_name,
		.alg_name = t->req.alg_name, .time_signed = time_signed, .fudge = t->req.fudge,
		.error = t->error, .other_len = other_len, .other = other,
	};
	if ((r = mac_compute(&t->key, &in, mac, &mac_len, NULL, 0)) != DDI_EOK)
		return r;
	return put_tsig_rr(msg, len, cap, t->req.key_name, t->req.alg_name, time_signed,
	                   t->req.fudge, mac, (uint16_t)mac_len, dns_get16(msg), t->error,
	                   other, other_len);
}

int tsig_sign_multi(const struct tsig_ctx *t, bool first, const uint8_t *prior, uint16_t prior_len,
                    uint8_t *msg, size_t *len, size_t cap, uint64_t now,
                    uint8_t mac_out[TSIG_MAC_MAX])
{
	uint8_t mac[TSIG_MAC_MAX];
	size_t mac_len = 0;
	if (t == NULL || !t->have_key || t->error != TSIG_ERR_NONE || msg == NULL || len == NULL ||
	    *len < DNS_HDR_LEN)
		return DDI_EINVAL;
	struct mac_input in = {
		.prior = prior, .prior_len = prior_len, .msg = msg, .msg_len = *len,
		.id = dns_get16(msg), .arcount = dns_get16(msg + 10), .key_name = t->req.key_name,
		.alg_name = t->req.alg_name, .time_signed = now, .fudge = t->req.fudge,
		.timers_only = !first,
	};
	int r = mac_compute(&t->key, &in, mac, &mac_len, NULL, 0);
	if (r != DDI_EOK)
		return r;
	r = put_tsig_rr(msg, len, cap, t->req.key_name, t->req.alg_name, now, t->req.fudge, mac,
	                (uint16_t)mac_len, dns_get16(msg), 0, NULL, 0);
	if (r != DDI_EOK)
		return r;
	if (mac_out)
		memcpy(mac_out, mac, mac_len);
	return (int)mac_len;
}

enum tsig_result tsig_verify_response(struct tsig_rr *t, const struct tsig_key *k,
                                      const uint8_t *req_mac, uint16_t req_mac_len,
                                      const uint8_t *msg, size_t len, uint64_t now)
{
	size_t pos;
	enum tsig_alg alg;

	if (msg == NULL || k == NULL || tsig_find(msg, len, &pos) != DDI_EOK ||
	    tsig_rr_parse(t, msg, len, pos) != DDI_EOK)
		return TSIG_FORMERR;
	alg = tsig_alg_from_wire(t->alg_name);
	if (alg == TSIG_ALG_NONE || alg != k->alg || !dns_name_equal(t->key_name, k->name))
		return TSIG_BADKEY;
	/* An unsigned error answer carries nothing to check. */
	if (t->mac_len == 0 && t->error == TSIG_ERR_BADKEY)
		return TSIG_BADKEY;
	if (t->mac_len == 0 && t->error == TSIG_ERR_BADSIG)
		return TSIG_BADSIG;
	if (mac_size_bad(alg, t->mac_len))
		return TSIG_FORMERR;
	if (mac_check(k, t, req_mac, req_mac_len, msg, pos) != TSIG_OK)
		return TSIG_BADSIG;
	if (t->error == TSIG_ERR_BADTIME)
		return TSIG_BADTIME;
	if (t->error != TSIG_ERR_NONE)
		return TSIG_BADSIG;
	if (time_bad(t->time_signed, t->fudge, now))
		return TSIG_BADTIME;
	return TSIG_OK;
}

enum tsig_result tsig_verify_next(struct tsig_rr *t, const struct tsig_key *k,
                                  const uint8_t *prior, uint16_t prior_len,
                                  const uint8_t *msg, size_t len, uint64_t now)
{
	uint8_t mac[TSIG_MAC_MAX];
	size_t pos, mac_len = 0;
	enum tsig_alg alg;

	if (msg == NULL || k == NULL || prior == NULL || tsig_find(msg, len, &pos) != DDI_EOK ||
	    tsig_rr_parse(t, msg, len, pos) != DDI_EOK)
		return TSIG_FORMERR;
	alg = tsig_alg_from_wire(t->alg_name);
	if (alg == TSIG_ALG_NONE || alg != k->alg || !dns_name_equal(t->key_name, k->name))
		return TSIG_BADKEY;
	if (mac_size_bad(alg, t->mac_len))
		return TSIG_FORMERR;
	struct mac_input in = {
		.prior = prior, .prior_len = prior_len, .msg = msg, .msg_len = pos,
		.id = t->orig_id, .arcount = (uint16_t)(dns_get16(msg + 10) - 1),
		.key_name = t->key_name, .alg_name = t->alg_name, .time_signed = t->time_signed,
		.fudge = t->fudge, .timers_only = true,
	};
	if (mac_compute(k, &in, mac, &mac_len, NULL, 0) != DDI_EOK ||
	    CRYPTO_memcmp(mac, t->mac, t->mac_len) != 0)
		return TSIG_BADSIG;
	if (t->error != TSIG_ERR_NONE)
		return t->error == TSIG_ERR_BADTIME ? TSIG_BADTIME : TSIG_BADSIG;
	if (time_bad(t->time_signed, t->fudge, now))
		return TSIG_BADTIME;
	return TSIG_OK;
}
