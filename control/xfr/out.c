/* xfr/out -- AXFR (RFC 5936) and IXFR (RFC 1995) out over TCP from one store snapshot */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <arpa/inet.h>
#include <stdatomic.h>
#include <time.h>

#include "control/ddns/keys.h"
#include "control/ddns/tsig.h"
#include "control/log.h"
#include "control/store/store.h"
#include "control/tcp/tcp.h"
#include "control/xfr/xfr.h"
#include "dns/errcode.h"
#include "dns/rdata.h"
#include "dns/wire.h"

/*
 * A transfer, step by step:
 *  1. parse the query (one question, class IN) and verify its TSIG;
 *  2. open ONE read transaction: the zone, its ACL, its SOA, its RRsets,
 *     the addresses and the differences all come from that snapshot;
 *  3. check the ACL (nobody by default);
 *  4. AXFR: SOA, every RRset but the SOA, the synthesized PTRs, SOA.
 *     IXFR: SOA(current), then each difference from the client's serial
 *     (old SOA, removed, new SOA, added), SOA(current); the whole zone
 *     when the differences do not reach back that far (RFC 1995 4);
 *  5. each message is at most 64 KiB, owner names compressed against the
 *     names already in it, TSIG-signed when the request was.
 */

#define MSG_CAP 65535
#define TSIG_ROOM 1024          /* a TSIG RR: two names and a 64-byte MAC fit */
#define MSG_LIMIT (MSG_CAP - TSIG_ROOM)
#define NAME_RING 32            /* names remembered for compression, most recent */
#define PTR_MAX_OFF 0x3fff

_Static_assert(XFR_OUT_RUN == TCP_XFR_RUN, "xfr_out_check_now is tcp_conf.xfr_check");

/* What a call does: the whole transfer, or only the checks (xfr_out_check). */
enum xfr_mode {
	XFR_SERVE,
	XFR_CHECK,               /* stop before the transfer: XFR_OUT_RUN */
	XFR_CHECK_FULL,          /* stop before the transfer: REFUSED, the limit is reached */
};

struct xfr_out {
	struct store *s;
	struct xfr_stats *st;
};

static void count(uint64_t *c)
{
	__atomic_fetch_add(c, 1, __ATOMIC_RELAXED);
}

struct xmsg {
	uint8_t buf[MSG_CAP];
	size_t len;
	uint16_t an;
	uint16_t names[NAME_RING];
	unsigned nnames, next;
};

/* The transfer in progress. */
struct xfr {
	struct xfr_out *x;
	const struct dns_query *q;
	struct store_txn *txn;
	struct tsig_ctx tsig;
	bool signed_;
	unsigned nmsg;
	uint8_t mac[TSIG_MAC_MAX];
	uint16_t mac_len;
	uint64_t now;
	enum xfr_mode mode;
	xfr_emit_fn emit;
	void *ectx;
	struct xmsg *m;
	uint8_t apex[DNS_NAME_MAXLEN];
	uint64_t rrs;
	int err;
};

struct xfr_out *xfr_out_new(struct store *s, struct xfr_stats *st)
{
	struct xfr_out *x = calloc(1, sizeof(*x));
	if (x) {
		x->s = s;
		x->st = st;
	}
	return x;
}

void xfr_out_free(struct xfr_out *x)
{
	free(x);
}

uint16_t xfr_qtype(const uint8_t *msg, size_t len)
{
	if (len < DNS_HDR_LEN + 5 || dns_get16(msg + 4) != 1)
		return 0;
	size_t p = DNS_HDR_LEN;
	while (p < len && msg[p] != 0) {
		if (msg[p] > 63)
			return 0;
		p += 1 + (size_t)msg[p];
	}
	if (p + 5 > len)
		return 0;
	return dns_get16(msg + p + 1);
}

/* ------------------------------------------------------------------------ */
/* Messages                                                                 */
/* ------------------------------------------------------------------------ */

static uint8_t lc(uint8_t c)
{
	return c >= 'A' && c <= 'Z' ? (uint8_t)(c + 32) : c;
}

/* The name at `off` in the message (pointers followed) equals `name` (case-insensitive). */
static bool name_at_eq(const uint8_t *buf, size_t len, size_t off, const uint8_t *name)
{
	for (int hops = 0; hops < 128 && off < len;) {
		uint8_t l = buf[off];
		if ((l & 0xc0) == 0xc0) {
			if (off + 1 >= len)
				return false;
			off = (size_t)(l & 0x3f) << 8 | buf[off + 1];
			hops++;
			continue;
		}
		if (l != *name)
			return false;
		if (l == 0)
			return true;
		if (off + 1 + l > len)
			return false;
		for (unsigned i = 1; i <= l; i++)
			if (lc(buf[off + i]) != lc(name[i]))
				return false;
		off += 1 + (size_t)l;
		name += 1 + l;
	}
	return false;
}

static void remember(struct xmsg *m, size_t off)
{
	if (off > PTR_MAX_OFF)
		return;
	m->names[m->next] = (uint16_t)off;
	m->next = (m->next + 1) % NAME_RING;
	if (m->nnames < NAME_RING)
		m->nnames++;
}

/* Write `name` compressed; DDI_ESPACE when it does not fit below `limit`. */
static int put_name(struct xmsg *m, const uint8_t *name, size_t limit)
{
	size_t lit = dns_name_len(name);
	int found = -1;
	/* the longest suffix already in the message: try suffixes from the whole name down */
	for (size_t p = 0; name[p] != 0 && found < 0; p += 1 + (size_t)name[p]) {
		for (unsigned i = 0; i < m->nnames; i++)
			if (name_at_eq(m->buf, m->len, m->names[i], name + p)) {
				found = m->names[i];
				lit = p;
				break;
			}
	}
	size_t need = lit + (found >= 0 ? 2 : 0);
	if (m->len + need > limit)
		return DDI_ESPACE;
	for (size_t q = 0; q < lit && name[q] != 0; q += 1 + (size_t)name[q])
		remember(m, m->len + q);
	memcpy(m->buf + m->len, name, lit);
	m->len += lit;
	if (found >= 0) {
		dns_put16(m->buf + m->len, (uint16_t)(0xc000 | found));
		m->len += 2;
	}
	return DDI_EOK;
}

static int put_rr(struct xmsg *m, const uint8_t *owner, uint16_t type, uint32_t ttl,
                  const uint8_t *rdata, uint16_t rdlen)
{
	size_t at = m->len;
	unsigned nn = m->nnames, nx = m->next;
	if (put_name(m, owner, MSG_LIMIT) != DDI_EOK || m->len + 10 + rdlen > MSG_LIMIT) {
		m->len = at;
		m->nnames = nn;
		m->next = nx;
		return DDI_ESPACE;
	}
	uint8_t *p = m->buf + m->len;
	dns_put16(p, type);
	dns_put16(p + 2, DNS_CLASS_IN);
	dns_put32(p + 4, ttl);
	dns_put16(p + 8, rdlen);
	memcpy(p + 10, rdata, rdlen);
	m->len += 10 + (size_t)rdlen;
	m->an++;
	return DDI_EOK;
}

/* A new message: header (ID of the query, QR AA), the question in the first one only. */
static void msg_begin(struct xfr *t, uint8_t rcode)
{
	struct xmsg *m = t->m;
	const struct dns_query *q = t->q;
	memset(m->buf, 0, DNS_HDR_LEN);
	dns_put16(m->buf, q->id);
	dns_put16(m->buf + 2, (uint16_t)(DNS_QR | DNS_AA | (q->flags & 0x0100) | rcode));
	m->len = DNS_HDR_LEN;
	m->an = 0;
	m->nnames = m->next = 0;
	/*
	 * RFC 5936 2.2.1: the question in the first message; none when the
	 * request's question did not parse (a FORMERR for a header that
	 * announces no or several questions leaves question_end unset).
	 */
	if (t->nmsg == 0 && q->question_end > DNS_HDR_LEN && q->question_end <= q->len &&
	    q->question_end <= MSG_CAP) {
		memcpy(m->buf + DNS_HDR_LEN, q->wire + DNS_HDR_LEN, q->question_end - DNS_HDR_LEN);
		m->len = q->question_end;
		dns_put16(m->buf + 4, 1);
		remember(m, DNS_HDR_LEN);
	}
}

static int msg_send(struct xfr *t)
{
	struct xmsg *m = t->m;
	dns_put16(m->buf + 6, m->an);
	if (t->signed_) {
		int r = tsig_sign_multi(&t->tsig, t->nmsg == 0, t->nmsg == 0 ? t->tsig.req.mac : t->mac,
		                        t->nmsg == 0 ? t->tsig.req.mac_len : t->mac_len, m->buf,
		                        &m->len, MSG_CAP, t->now, t->mac);
		if (r < 0)
			return r;
		t->mac_len = (uint16_t)r;
	}
	t->nmsg++;
	count(&t->x->st->messages);
	int rc = t->emit(t->ectx, m->buf, m->len);
	return rc == -ETIMEDOUT ? rc : rc ? DDI_EIO : DDI_EOK;   /* the time bound is told apart */
}

/* Add one RR, sending the message first when it is full. */
static int xrr(struct xfr *t, const uint8_t *owner, uint16_t type, uint32_t ttl,
               const uint8_t *rdata, uint16_t rdlen)
{
	if (put_rr(t->m, owner, type, ttl, rdata, rdlen) == DDI_EOK)
		goto ok;
	int rc = msg_send(t);
	if (rc)
		return rc;
	msg_begin(t, 0);
	if (put_rr(t->m, owner, type, ttl, rdata, rdlen) != DDI_EOK)
		return DDI_ESPACE;   /* cannot happen: an RR is at most 255 + 10 + 65535 - TSIG room */
ok:
	t->rrs++;
	return DDI_EOK;
}

/* A response of one message with `rcode` and no records (signed when the request verified). */
static int answer_rcode(struct xfr *t, uint8_t rcode)
{
	msg_begin(t, rcode);
	return msg_send(t);
}

/* ------------------------------------------------------------------------ */
/* The zone                                                                 */
/* ------------------------------------------------------------------------ */

struct soa {
	uint32_t ttl;
	uint16_t rdlen;
	uint8_t rdata[DNS_RDATA_MAXLEN];
	bool have;
};

static int soa_cb(void *ctx, const uint8_t *owner, uint16_t type, uint32_t ttl, uint16_t count,
                  const uint8_t *rdatas, size_t len)
{
	struct soa *so = ctx;
	(void)owner;
	if (type != DNS_T_SOA || count != 1 || len < 2 || len != 2u + dns_get16(rdatas))
		return DDI_ECORRUPT;
	so->ttl = ttl;
	so->rdlen = dns_get16(rdatas);
	memcpy(so->rdata, rdatas + 2, so->rdlen);
	so->have = true;
	return 0;
}

static int rrset_cb(void *ctx, const uint8_t *owner, uint16_t type, uint32_t ttl, uint16_t count,
                    const uint8_t *rdatas, size_t len)
{
	struct xfr *t = ctx;
	(void)count;
	if (type == DNS_T_SOA)
		return 0;   /* first and last, not in between */
	for (size_t off = 0; off + 2 <= len;) {
		uint16_t rl = dns_get16(rdatas + off);
		int rc = xrr(t, owner, type, ttl, rdatas + off + 2, rl);
		if (rc)
			return rc;
		off += 2 + (size_t)rl;
	}
	return 0;
}

/* One synthesized PTR RRset (store_synth_ptr's rule, the one the differences use too). */
static int synth_cb(void *ctx, const struct store_synth *sy)
{
	struct xfr *t = ctx;
	for (unsigned i = 0; i < sy->n; i++) {
		int rc = xrr(t, sy->rev, DNS_T_PTR, sy->ttl, sy->targets[i],
		             (uint16_t)dns_name_len(sy->targets[i]));
		if (rc)
			return rc;
	}
	return 0;
}

static int zone_body(struct xfr *t)
{
	struct store_error e;
	int rc = store_zone_walk_in(t->x->s, t->txn, t->apex, rrset_cb, t, &e);
	if (rc == 0)
		rc = store_synth_walk_in(t->x->s, t->txn, t->apex, synth_cb, t, &e);
	return rc;
}

/* ------------------------------------------------------------------------ */
/* IXFR                                                                     */
/* ------------------------------------------------------------------------ */

/* RFC 1995 3: the client's SOA in the authority section, owner the zone: its serial. */
static bool ixfr_client_serial(const struct dns_query *q, uint32_t *serial)
{
	const uint8_t *m = q->wire;
	size_t pos = q->question_end;
	uint8_t owner[DNS_NAME_MAXLEN], tmp[DNS_NAME_MAXLEN];
	if (q->ancount != 0 || q->nscount != 1)
		return false;
	if (dns_name_parse(m, q->len, &pos, owner) <= 0 || pos + 10 > q->len)
		return false;
	uint16_t type = dns_get16(m + pos), rdlen = dns_get16(m + pos + 8);
	pos += 10;
	size_t end = pos + rdlen;
	if (type != DNS_T_SOA || end > q->len || !dns_name_equal(owner, q->qname))
		return false;
	if (dns_name_parse(m, end, &pos, tmp) <= 0 || dns_name_parse(m, end, &pos, tmp) <= 0 ||
	    pos + 20 != end)
		return false;
	*serial = dns_get32(m + pos);
	return true;
}

/* The differences from the client's serial up to the current one, checked before sending. */
struct chain {
	uint32_t from, to;        /* asked, current */
	bool started, broken;
	uint32_t at;              /* serial reached so far */
	uint64_t first_seq;
	size_t n;
};

static int chain_cb(void *ctx, const struct store_diff *d)
{
	struct chain *c = ctx;
	if (!c->started) {
		if (d->flags & STORE_DIFF_BREAK || d->serial_from != c->from)
			return 0;
		c->started = true;
		c->first_seq = d->seq;
		c->at = d->serial_from;
	}
	if (d->flags & STORE_DIFF_BREAK || d->serial_from != c->at) {
		c->broken = true;   /* a gap, or a change that was not recorded */
		return 1;
	}
	c->at = d->serial_to;
	c->n++;
	return 0;
}

struct isend {
	struct xfr *t;
	uint64_t first_seq;
	uint32_t to;
	bool done;
};

static int send_cb(void *ctx, const struct store_diff *d)
{
	struct isend *is = ctx;
	size_t off = 0;
	struct store_rr rr;
	if (d->seq < is->first_seq || is->done)
		return 0;
	while (store_diff_rr_next(d, &off, &rr) == 1) {
		int rc = xrr(is->t, rr.owner, rr.type, rr.ttl, rr.rdata, rr.rdlen);
		if (rc)
			return rc;
	}
	is->done = d->serial_to == is->to;
	return 0;
}

/* ------------------------------------------------------------------------ */
/* Serving                                                                  */
/* ------------------------------------------------------------------------ */

static int key_lookup(void *ctx, const uint8_t *name, struct tsig_key *out)
{
	struct xfr *t = ctx;
	struct store_error e;
	return ddns_key_get(t->x->s, t->txn, name, out, &e);
}

struct aclread {
	struct xfr_acl acl;
	char err[128];
	int rc;
};

static int acl_cb(void *ctx, const uint8_t *name, const char *json, size_t len)
{
	struct aclread *a = ctx;
	(void)name;
	a->rc = xfr_acl_parse(&a->acl, json, len, a->err, sizeof(a->err));
	return 0;
}

/* The whole transfer after the checks: AXFR, or IXFR from the differences. */
static int transfer(struct xfr *t, const struct soa *soa, bool ixfr, uint32_t client)
{
	struct store_error e;
	uint32_t cur = dns_soa_serial(soa->rdata, soa->rdlen);
	struct chain ch = { .from = client, .to = cur };
	int rc;
	if (ixfr && (client == cur || (uint32_t)(client - cur) < 0x80000000u)) {
		/* RFC 1995 2: the client is current (or newer): the SOA alone */
		count(&t->x->st->ixfr_current);
		msg_begin(t, 0);
		if ((rc = xrr(t, t->apex, DNS_T_SOA, soa->ttl, soa->rdata, soa->rdlen)) != 0)
			return rc;
		return msg_send(t);
	}
	if (ixfr) {
		if ((rc = store_diff_walk(t->x->s, t->txn, t->apex, chain_cb, &ch, &e)) < 0)
			return rc;
		if (!ch.started || ch.broken || ch.at != cur) {
			ixfr = false;   /* RFC 1995 4: not available: the entire zone */
			count(&t->x->st->ixfr_axfr);
		}
	}
	msg_begin(t, 0);
	if ((rc = xrr(t, t->apex, DNS_T_SOA, soa->ttl, soa->rdata, soa->rdlen)) != 0)
		return rc;
	if (ixfr) {
		struct isend is = { .t = t, .first_seq = ch.first_seq, .to = cur };
		rc = store_diff_walk(t->x->s, t->txn, t->apex, send_cb, &is, &e);
		count(&t->x->st->ixfr);
	} else {
		rc = zone_body(t);
		if (t->q->qtype == DNS_T_AXFR)
			count(&t->x->st->axfr);
	}
	if (rc == 0)
		rc = xrr(t, t->apex, DNS_T_SOA, soa->ttl, soa->rdata, soa->rdlen);
	if (rc == 0)
		rc = msg_send(t);
	return rc;
}

/*
 * A refused transfer is logged with who asked, at most XFR_LOG_PER_SEC lines
 * a second (a stranger can ask as often as it likes; every refusal is
 * counted anyway).
 */
#define XFR_LOG_PER_SEC 10

static void log_outcome(const struct xfr *t, uint8_t family, const uint8_t *addr,
                        const char *outcome, const char *what)
{
	static struct ddi_log_limit limit;
	if (!ddi_log_limit_take(&limit, XFR_LOG_PER_SEC))
		return;
	char a[INET6_ADDRSTRLEN] = "?", actor[128], zone[DNS_NAME_STRLEN];
	inet_ntop(family == 6 ? AF_INET6 : AF_INET, addr, a, sizeof(a));
	snprintf(actor, sizeof(actor), "%s@%s", t->signed_ ? "tsig" : "unsigned", a);
	if (dns_name_to_str(zone, sizeof(zone), t->q->qname) < 0)
		snprintf(zone, sizeof(zone), "?");
	ddi_log(LOG_SUB_XFR, LOG_LVL_INFO, actor, "%s of %s %s: %s",
	        dns_type_name(t->q->qtype), zone, outcome, what);
}

static void log_refusal(const struct xfr *t, uint8_t family, const uint8_t *addr, const char *what)
{
	log_outcome(t, family, addr, "refused", what);
}

/* A (signed) SOA query at a zone's apex: the SOA, in one message signed like the request. */
static int answer_soa(struct xfr *t)
{
	struct store_error e;
	struct soa soa = { 0 };
	int rc = store_rrset_get(t->x->s, t->txn, t->apex, DNS_T_SOA, soa_cb, &soa, &e);
	if (rc == 0 && !soa.have)
		rc = DDI_ECORRUPT;
	if (rc) {
		count(&t->x->st->failed);
		return answer_rcode(t, DNS_RCODE_SERVFAIL);
	}
	msg_begin(t, 0);
	if ((rc = xrr(t, t->apex, DNS_T_SOA, soa.ttl, soa.rdata, soa.rdlen)) != 0)
		return rc;
	if (t->signed_)
		count(&t->x->st->soa_signed);
	return msg_send(t);
}

/* Checks in order: zone, TSIG, ACL; then the transfer. Returns <0 when nothing could be sent. */
static int serve(struct xfr *t, uint8_t family, const uint8_t *addr)
{
	const struct dns_query *q = t->q;
	struct store_error e;
	struct store_zone_info zi;
	struct soa soa = { 0 };
	uint32_t client = 0;
	bool ixfr = q->qtype == DNS_T_IXFR;
	if (ixfr && !ixfr_client_serial(q, &client)) {
		count(&t->x->st->formerr);
		return answer_rcode(t, DNS_RCODE_FORMERR);
	}
	if (q->has_tsig) {
		/* RFC 8945 5.2: key, MAC, time; failures answered NOTAUTH with the TSIG error */
		enum tsig_result r = tsig_verify(&t->tsig, q->wire, q->len, q->tsig_pos, t->now,
		                                 key_lookup, t);
		if (r != TSIG_OK) {
			count(&t->x->st->notauth);
			log_refusal(t, family, addr, "TSIG does not verify (NOTAUTH)");
			msg_begin(t, tsig_result_rcode(r));
			dns_put16(t->m->buf + 6, 0);
			if (r != TSIG_FORMERR)
				tsig_sign_response(&t->tsig, t->m->buf, &t->m->len, MSG_CAP, t->now);
			return t->emit(t->ectx, t->m->buf, t->m->len) ? DDI_EIO : DDI_EOK;
		}
		t->signed_ = true;
	}
	memcpy(t->apex, q->qname, q->qname_len);
	dns_name_lower(t->apex);
	int rc = store_zone_get(t->x->s, t->txn, t->apex, false, &zi, &e);
	if (q->qtype == DNS_T_SOA && rc == 0 && dns_name_equal(zi.apex, t->apex))
		return answer_soa(t);
	if (rc == DDI_ENOZONE || (rc == 0 && !dns_name_equal(zi.apex, t->apex))) {
		count(&t->x->st->notauth);   /* RFC 5936 2.2.1: not authoritative for it */
		log_refusal(t, family, addr, "not a zone of this server (NOTAUTH)");
		return answer_rcode(t, DNS_RCODE_NOTAUTH);
	}
	struct aclread *ar = calloc(1, sizeof(*ar));
	if (!ar)
		return DDI_ENOMEM;
	ar->rc = DDI_ENOENT;
	if (rc == 0)
		rc = store_acl_get(t->x->s, t->txn, t->apex, acl_cb, ar, &e);
	if (rc == 0 || rc == DDI_ENOENT) {
		bool ok = ar->rc == 0 && xfr_acl_allows(&ar->acl, family, addr,
		                                          t->signed_ ? t->tsig.key.name : NULL);
		if (ar->rc != 0 && ar->rc != DDI_ENOENT)
			ddi_log(LOG_SUB_XFR, LOG_LVL_WARNING, NULL, "zone_acl of a zone does not "
			        "validate: %s", ar->err);
		free(ar);
		if (!ok) {
			count(&t->x->st->refused);   /* RFC 5936 2.2.1: REFUSED when not allowed */
			log_refusal(t, family, addr, "not allowed by the zone's transfer ACL (REFUSED)");
			return answer_rcode(t, DNS_RCODE_REFUSED);
		}
		if (t->mode == XFR_CHECK)
			return XFR_OUT_RUN;
		if (t->mode == XFR_CHECK_FULL) {
			/* as BIND over its transfers-out quota: REFUSED, the secondary retries */
			count(&t->x->st->out_refused_limit);
			log_refusal(t, family, addr, "too many transfers out running (--xfr-out-max), "
			            "REFUSED");
			return answer_rcode(t, DNS_RCODE_REFUSED);
		}
		rc = store_rrset_get(t->x->s, t->txn, t->apex, DNS_T_SOA, soa_cb, &soa, &e);
	} else {
		free(ar);
	}
	if (rc == 0 && !soa.have)
		rc = DDI_ECORRUPT;
	if (rc == 0)
		rc = transfer(t, &soa, ixfr, client);
	if (rc < 0 && rc != DDI_EIO && rc != -ETIMEDOUT && t->nmsg == 0) {
		count(&t->x->st->failed);
		ddi_log(LOG_SUB_XFR, LOG_LVL_ERR, NULL, "transfer failed: %s",
		        e.msg[0] ? e.msg : ddi_strerror(rc));
		return answer_rcode(t, DNS_RCODE_SERVFAIL);
	}
	return rc;
}

/* A transfer given up on its reader: logged at the refusals' bounded rate, counted by the caller. */
static void log_giveup(const struct xfr *t, uint8_t family, const uint8_t *addr, int rc)
{
	char why[96];
	snprintf(why, sizeof(why), "after %u messages, %s", t->nmsg,
	         rc == -ETIMEDOUT ? "the reader too slow for --tcp-idle-timeout"
	                          : "the connection failed or the server stops");
	log_outcome(t, family, addr, "given up", why);
}

/* Parse, one read transaction, the checks, then (XFR_SERVE) the transfer. */
static int run(struct xfr_out *x, const uint8_t *req, size_t len, uint8_t family,
               const uint8_t *addr, uint64_t now, enum xfr_mode mode, xfr_emit_fn emit, void *ctx)
{
	struct dns_query q;
	struct store_error e;
	enum dns_parse_result pr = dns_query_parse(&q, req, len);
	struct xfr t = { .x = x, .q = &q, .now = now, .mode = mode, .emit = emit, .ectx = ctx };
	if (pr == DNS_PARSE_DROP)
		return DDI_EMALF;
	if (!(t.m = malloc(sizeof(*t.m))))
		return DDI_ENOMEM;
	int rc;
	if (pr != DNS_PARSE_OK || q.opcode != DNS_OP_QUERY || q.qclass != DNS_CLASS_IN ||
	    (q.qtype != DNS_T_AXFR && q.qtype != DNS_T_IXFR && q.qtype != DNS_T_SOA)) {
		count(&x->st->formerr);
		rc = answer_rcode(&t, DNS_RCODE_FORMERR);
	} else if ((rc = store_read_begin(x->s, &t.txn, &e)) != 0) {
		count(&x->st->failed);
		rc = answer_rcode(&t, DNS_RCODE_SERVFAIL);
	} else {
		rc = serve(&t, family, addr);
		store_read_end(t.txn);
	}
	if (rc == DDI_EIO || rc == -ETIMEDOUT) {
		count(&x->st->aborted);   /* emit failed: nothing more can reach the client */
		if (rc == -ETIMEDOUT)
			count(&x->st->out_timeout);
		log_giveup(&t, family, addr, rc);
	}
	__atomic_fetch_add(&x->st->rrs, t.rrs, __ATOMIC_RELAXED);
	free(t.m);
	return rc;
}

int xfr_out_serve(struct xfr_out *x, const uint8_t *req, size_t len, uint8_t family,
                  const uint8_t *addr, uint64_t now, xfr_emit_fn emit, void *ctx)
{
	__atomic_fetch_add(&x->st->out_running, 1, __ATOMIC_RELAXED);
	int rc = run(x, req, len, family, addr, now, XFR_SERVE, emit, ctx);
	__atomic_fetch_sub(&x->st->out_running, 1, __ATOMIC_RELAXED);
	return rc;
}

int xfr_out_check(struct xfr_out *x, const uint8_t *req, size_t len, uint8_t family,
                  const uint8_t *addr, uint64_t now, bool full, xfr_emit_fn emit, void *ctx)
{
	return run(x, req, len, family, addr, now, full ? XFR_CHECK_FULL : XFR_CHECK, emit, ctx);
}

int xfr_out_check_now(void *x, const uint8_t *req, size_t len, uint8_t family,
                      const uint8_t *addr, bool full, xfr_emit_fn emit, void *ctx)
{
	return xfr_out_check(x, req, len, family, addr, (uint64_t)time(NULL), full, emit, ctx);
}

void xfr_out_metrics(FILE *f, const struct xfr_stats *st)
{
	fprintf(f, "# HELP ddiplane_xfr_out_running Zone transfers out (AXFR, IXFR) running now, "
	        "at most --xfr-out-max.\n# TYPE ddiplane_xfr_out_running gauge\n"
	        "ddiplane_xfr_out_running %llu\n",
	        (unsigned long long)__atomic_load_n(&st->out_running, __ATOMIC_RELAXED));
}
