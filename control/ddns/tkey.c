/* tkey -- RFC 2930 TKEY: parse a query, negotiate a GSS-API context (RFC 3645 4.1) or delete a key, write the answer */
#include <string.h>

#include "control/ddns/gss.h"
#include "control/ddns/tkey.h"
#include "control/ddns/tsig.h"
#include "dns/errcode.h"
#include "dns/name.h"
#include "dns/rdata.h"
#include "dns/wire.h"

#define RR_FIXED 10   /* type, class, TTL, rdlength */

/* The rdata of a TKEY RR at [p, end). */
static int rdata_parse(struct tkey_rr *t, const uint8_t *msg, size_t len, size_t p, size_t end)
{
	if (dns_name_parse(msg, end, &p, t->alg) < 0)
		return DDI_EMALF;
	dns_name_lower(t->alg);
	if (end - p < 14)
		return DDI_EMALF;
	t->inception = dns_get32(msg + p);
	t->expiration = dns_get32(msg + p + 4);
	t->mode = dns_get16(msg + p + 8);
	t->error = dns_get16(msg + p + 10);
	t->key_len = dns_get16(msg + p + 12);
	p += 14;
	if (end - p < (size_t)t->key_len + 2)
		return DDI_EMALF;
	t->key = msg + p;
	p += t->key_len;
	t->other_len = dns_get16(msg + p);
	p += 2;
	if (end - p != t->other_len)
		return DDI_EMALF;
	(void)len;
	return DDI_EOK;
}

int tkey_parse(struct tkey_query *q, const uint8_t *msg, size_t len)
{
	uint8_t owner[DNS_NAME_MAXLEN];
	bool found = false;

	memset(q, 0, sizeof(*q));
	if (!tkey_is_query(msg, len))
		return DDI_EMALF;
	size_t p = DNS_HDR_LEN;
	if (dns_name_parse(msg, len, &p, q->qname) < 0 || len - p < 4)
		return DDI_EMALF;
	dns_name_lower(q->qname);
	q->qclass = dns_get16(msg + p + 2);
	p += 4;
	q->q_end = p;
	/* every record of the answer, authority and additional sections; the count is bounded
	 * by the message: each record takes at least 11 bytes */
	unsigned total = (unsigned)dns_get16(msg + 6) + dns_get16(msg + 8) + dns_get16(msg + 10);
	for (unsigned i = 0; i < total; i++) {
		size_t start = p;
		if (dns_name_parse(msg, len, &p, owner) < 0 || len - p < RR_FIXED)
			return DDI_EMALF;
		uint16_t type = dns_get16(msg + p);
		size_t rdlen = dns_get16(msg + p + 8);
		p += RR_FIXED;
		if (rdlen > len - p)
			return DDI_EMALF;
		if (type == DNS_T_TSIG) {
			if (i + 1 != total)   /* RFC 8945 5.1: only last */
				return DDI_EMALF;
			q->has_tsig = true;
			q->tsig_pos = start;
		} else if (type == DNS_T_TKEY) {
			if (found || !dns_name_equal(owner, q->qname) ||
			    rdata_parse(&q->tk, msg, len, p, p + rdlen) != DDI_EOK)
				return DDI_EMALF;
			found = true;
		}
		p += rdlen;
	}
	return found && p == len ? DDI_EOK : DDI_EMALF;
}

/* Header and question of the answer; the TKEY RR, when given, in the answer section. */
static int answer(const uint8_t *req, const struct tkey_query *q, uint8_t rcode,
                  const struct tkey_rr *tk, uint8_t *resp, size_t cap)
{
	size_t qlen = q->q_end - DNS_HDR_LEN;
	size_t need = DNS_HDR_LEN + qlen;
	size_t al = tk ? dns_name_len(tsig_alg_wire(TSIG_GSS)) : 0;
	if (tk)
		need += 2 + RR_FIXED + al + 16 + tk->key_len;   /* pointer, fixed part, rdata */
	if (cap < need)
		return DDI_ESPACE;
	memmove(resp, req, 2);
	uint16_t flags = dns_get16(req + 2);
	dns_put16(resp + 2, (uint16_t)(DNS_QR | (flags & (0x7800 | DNS_RD)) | rcode));
	dns_put16(resp + 4, 1);
	dns_put16(resp + 6, tk ? 1 : 0);
	dns_put16(resp + 8, 0);
	dns_put16(resp + 10, 0);
	memmove(resp + DNS_HDR_LEN, req + DNS_HDR_LEN, qlen);
	if (tk == NULL)
		return (int)need;
	uint8_t *p = resp + DNS_HDR_LEN + qlen;
	dns_put16(p, 0xc000 | DNS_HDR_LEN);   /* the question's name */
	dns_put16(p + 2, DNS_T_TKEY);
	dns_put16(p + 4, DNS_CLASS_ANY);
	dns_put32(p + 6, 0);
	/* rdata: algorithm, inception, expiration, mode, error, key size, key, other size (0) */
	dns_put16(p + 10, (uint16_t)(al + 16 + tk->key_len));
	p += 2 + RR_FIXED;
	memcpy(p, tsig_alg_wire(TSIG_GSS), al);
	p += al;
	dns_put32(p, tk->inception);
	dns_put32(p + 4, tk->expiration);
	dns_put16(p + 8, tk->mode);
	dns_put16(p + 10, tk->error);
	dns_put16(p + 12, tk->key_len);
	p += 14;
	if (tk->key_len)
		memcpy(p, tk->key, tk->key_len);
	dns_put16(p + tk->key_len, 0);
	return (int)need;
}

/* Mode 5 (RFC 2930 4.2): only the key's holder may delete it, so the query is signed with it. */
static int serve_delete(struct gss_server *g, const uint8_t *req, size_t len,
                        const struct tkey_query *q, uint64_t now, uint8_t *resp, size_t cap)
{
	struct tsig_ctx tc;
	enum tsig_result r = q->has_tsig ? tsig_verify(&tc, req, len, q->tsig_pos, now, gss_lookup, g)
	                                 : TSIG_BADKEY;
	if (r == TSIG_OK && !dns_name_equal(tc.req.key_name, q->qname))
		r = TSIG_BADKEY;   /* signed, but with another key */
	if (r != TSIG_OK) {
		int n = answer(req, q, r == TSIG_FORMERR ? DNS_RCODE_FORMERR : DNS_RCODE_NOTAUTH, NULL,
		               resp, cap);
		return n;
	}
	struct tkey_rr tk = { .inception = q->tk.inception, .expiration = q->tk.expiration,
	                      .mode = TKEY_MODE_DELETE };
	int n = answer(req, q, DNS_RCODE_NOERROR, &tk, resp, cap);
	if (n < 0)
		return n;
	size_t rlen = (size_t)n;
	int s = tsig_sign_response(&tc, resp, &rlen, cap, now);
	gss_delete(g, q->qname);   /* after signing: the MIC needs the context */
	return s == DDI_EOK ? (int)rlen : s;
}

int tkey_serve(struct gss_server *g, const uint8_t *req, size_t len, uint64_t now, uint8_t *resp,
               size_t cap)
{
	static uint8_t token[GSS_TOKEN_MAX];   /* the DDNS thread's alone (tkey.h) */
	struct tkey_query q;

	if (req == NULL || len < DNS_HDR_LEN || (dns_get16(req + 2) & DNS_QR))
		return 0;
	if (tkey_parse(&q, req, len) != DDI_EOK) {
		gss_count(g, GSS_OUT_TKEY_FORMERR);
		if (cap < DNS_HDR_LEN)
			return DDI_ESPACE;
		/* header alone: the question may be what is malformed */
		memmove(resp, req, 2);
		dns_put16(resp + 2, (uint16_t)(DNS_QR | (dns_get16(req + 2) & (0x7800 | DNS_RD)) |
		                               DNS_RCODE_FORMERR));
		memset(resp + 4, 0, DNS_HDR_LEN - 4);
		return DNS_HDR_LEN;
	}
	struct tkey_rr tk = { .inception = (uint32_t)now, .expiration = (uint32_t)now,
	                      .mode = q.tk.mode };
	if (tsig_alg_from_wire(q.tk.alg) != TSIG_GSS) {
		gss_count(g, GSS_OUT_TKEY_BADALG);
		tk.error = TKEY_ERR_BADALG;
		return answer(req, &q, DNS_RCODE_NOERROR, &tk, resp, cap);
	}
	if (q.tk.mode == TKEY_MODE_DELETE)
		return serve_delete(g, req, len, &q, now, resp, cap);
	if (q.tk.mode != TKEY_MODE_GSSAPI) {
		gss_count(g, GSS_OUT_TKEY_BADMODE);
		tk.error = TKEY_ERR_BADMODE;
		return answer(req, &q, DNS_RCODE_NOERROR, &tk, resp, cap);
	}
	if (g == NULL)   /* GSS-TSIG off (no --gss-principal): nothing to negotiate with */
		return answer(req, &q, DNS_RCODE_REFUSED, NULL, resp, cap);
	size_t out_len = 0;
	uint64_t expires = now;
	switch (gss_accept(g, q.qname, q.tk.key, q.tk.key_len, now, token, sizeof(token), &out_len,
	                   &expires)) {
	case GSS_ACCEPT_COMPLETE:
		tk.expiration = (uint32_t)expires;
		/* fall through */
	case GSS_ACCEPT_CONTINUE:
		tk.key = token;
		tk.key_len = (uint16_t)out_len;
		break;
	case GSS_ACCEPT_REJECTED:
		tk.error = TKEY_ERR_BADKEY;
		break;
	case GSS_ACCEPT_BADNAME:
		tk.error = TKEY_ERR_BADNAME;
		break;
	case GSS_ACCEPT_FULL:
		return answer(req, &q, DNS_RCODE_REFUSED, NULL, resp, cap);
	}
	return answer(req, &q, DNS_RCODE_NOERROR, &tk, resp, cap);
}
