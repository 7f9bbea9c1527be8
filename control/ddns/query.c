/* query -- a signed QUERY verified, answered from the index by answer_query() and signed, on the DDNS thread */
#include <string.h>

#include <urcu-qsbr.h>

#include "control/ddns/query.h"
#include "dns/errcode.h"
#include "dns/wire.h"
#include "index/answer.h"
#include "index/snapshot.h"

const char *const ddns_query_result_names[DDNS_Q__COUNT] = {
	[DDNS_Q_ANSWERED] = "answered",
	[DDNS_Q_TRUNCATED] = "truncated",
	[DDNS_Q_FORMERR] = "formerr",
	[DDNS_Q_BADKEY] = "badkey",
	[DDNS_Q_BADSIG] = "badsig",
	[DDNS_Q_BADTIME] = "badtime",
	[DDNS_Q_DROPPED] = "dropped",
};

/*
 * Header and question of the request, no other record: the shape of a
 * TSIG error answer (RFC 8945 5.3.2) and of a truncated signed answer
 * (5.3). `flags` are the response's flags (QR, opcode, RD, AA ...) with
 * the rcode. Returns the length, 0 when it does not fit.
 */
static size_t head_only(const struct dns_query *q, uint16_t flags, uint8_t *resp, size_t cap)
{
	size_t end = q->question_end && q->qdcount == 1 ? q->question_end : DNS_HDR_LEN;
	if (end > cap || end > q->len)
		return 0;
	memcpy(resp, q->wire, end);
	dns_put16(resp + 2, flags);
	dns_put16(resp + 4, end > DNS_HDR_LEN ? 1 : 0);
	memset(resp + 6, 0, 6);
	return end;
}

/* Bytes the TSIG RR of the answer takes at most (RFC 8945 4.2), key and algorithm as verified. */
static size_t tsig_room(const struct tsig_ctx *t)
{
	size_t mac = t->have_key ? tsig_alg_digest_len(t->key.alg) : 0;
	if (mac == 0)
		mac = TSIG_MAC_MAX;   /* gss-tsig: the mechanism's MIC, never above TSIG_MAC_MAX */
	return dns_name_len(t->req.key_name) + 10 + dns_name_len(t->req.alg_name) +
	       6 + 2 + 2 + mac + 2 + 2 + 2 + 6;
}

static enum ddns_query_result result_of(enum tsig_result r)
{
	switch (r) {
	case TSIG_OK: return DDNS_Q_ANSWERED;
	case TSIG_BADKEY: return DDNS_Q_BADKEY;
	case TSIG_BADSIG: return DDNS_Q_BADSIG;
	case TSIG_BADTIME: return DDNS_Q_BADTIME;
	case TSIG_FORMERR: break;
	}
	return DDNS_Q_FORMERR;
}

/* RFC 8945 5.3.2: NOTAUTH (FORMERR) with the TSIG error; signed only for BADTIME. */
static int answer_error(const struct dns_query *q, const struct tsig_ctx *tc, enum tsig_result r,
                        uint64_t now, uint8_t *resp, size_t cap)
{
	uint16_t f = (uint16_t)(DNS_QR | (q->flags & (0x7800 | DNS_RD)) | tsig_result_rcode(r));
	size_t n = head_only(q, f, resp, cap);
	if (n == 0)
		return 0;
	if (r != TSIG_FORMERR && tsig_sign_response(tc, resp, &n, cap, now) != DDI_EOK)
		return 0;
	return (int)n;
}

/* The answer from the current snapshot, online only for the lookup (index/snapshot.h R1-R3). */
static size_t lookup(const struct ddns_query_env *env, const struct answer_conf *conf, bool udp,
                     const struct dns_query *q, enum dns_parse_result pr, uint8_t *resp,
                     size_t cap, struct answer_info *info)
{
	rcu_thread_online();
	const struct idx_version *v = idx_acquire(env->idx);
	size_t n = answer_query(v, conf, udp ? ANSWER_UDP : ANSWER_TCP, q, pr, resp, cap, info);
	rcu_thread_offline();
	return n;
}

int ddns_query_serve(const struct ddns_query_env *env, const uint8_t *req, size_t len,
                     uint64_t now, bool udp, uint8_t *resp, size_t cap,
                     enum ddns_query_result *res)
{
	enum ddns_query_result local;
	if (!res)
		res = &local;
	*res = DDNS_Q_DROPPED;
	struct dns_query q;
	enum dns_parse_result pr = dns_query_parse(&q, req, len);
	if (pr == DNS_PARSE_DROP || !q.has_tsig || q.opcode != DNS_OP_QUERY || !env->idx ||
	    cap < DNS_HDR_LEN)
		return 0;
	if (pr != DNS_PARSE_OK) {
		/* the TSIG cannot be trusted to delimit anything: FORMERR/BADVERS, unsigned */
		*res = DDNS_Q_FORMERR;
		uint16_t f = (uint16_t)(DNS_QR | (q.flags & (0x7800 | DNS_RD)) | DNS_RCODE_FORMERR);
		return (int)head_only(&q, f, resp, cap);
	}
	struct tsig_ctx tc;
	enum tsig_result tr = tsig_verify(&tc, req, len, q.tsig_pos, now, env->lookup,
	                                  env->lookup_ctx);
	*res = result_of(tr);
	if (tr != TSIG_OK)
		return answer_error(&q, &tc, tr, now, resp, cap);

	/* cookies are the workers' (they alone know the secret); ignored here, RFC 7873 5.2.1 */
	struct answer_conf conf = { .udp_max = DNS_EDNS_DEFAULT };
	if (env->answer)
		conf = *env->answer;
	conf.cookies = false;
	size_t limit = udp ? dns_query_udp_max(&q, conf.udp_max ? conf.udp_max : DNS_EDNS_DEFAULT)
	                   : DNS_MSG_MAX;
	if (limit > cap)
		limit = cap;
	size_t room = tsig_room(&tc);
	struct answer_info info = { 0 };
	size_t n = limit > room + DNS_HDR_LEN
	           ? lookup(env, &conf, udp, &q, pr, resp, limit - room, &info) : 0;
	if (n == 0) {
		*res = DDNS_Q_DROPPED;
		return 0;
	}
	if (n > DNS_HDR_LEN && !info.truncated &&
	    tsig_sign_response(&tc, resp, &n, limit, now) == DDI_EOK)
		return (int)n;
	/*
	 * RFC 8945 5.3: "If addition of the TSIG record will cause the message
	 * to be truncated, the server MUST alter the response so that a TSIG
	 * can be included. This response contains only the question and a
	 * TSIG record, has the TC bit set, and has an RCODE of 0 (NOERROR)."
	 */
	*res = DDNS_Q_TRUNCATED;
	uint16_t f = (uint16_t)((dns_get16(resp + 2) & ~0x000fu) | DNS_TC);
	n = head_only(&q, f, resp, limit);
	if (n == 0 || tsig_sign_response(&tc, resp, &n, limit, now) != DDI_EOK) {
		*res = DDNS_Q_DROPPED;
		return 0;
	}
	return (int)n;
}
