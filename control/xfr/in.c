/* in -- the transfer client's wire side: queries out, AXFR/IXFR/SOA answers in, every byte checked */
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "control/store/store.h"
#include "control/xfr/in.h"
#include "dns/errcode.h"
#include "dns/rdata.h"
#include "dns/wire.h"

static const char *const result_names[XFR_IN__COUNT] = {
	[XFR_IN_MORE] = "more", [XFR_IN_DONE] = "done", [XFR_IN_E_MALFORMED] = "malformed",
	[XFR_IN_E_HEADER] = "header", [XFR_IN_E_RCODE] = "rcode", [XFR_IN_E_TSIG] = "tsig",
	[XFR_IN_E_FIRST] = "first", [XFR_IN_E_SOA] = "soa", [XFR_IN_E_OUTZONE] = "outzone",
	[XFR_IN_E_IXFR] = "ixfr", [XFR_IN_E_TRAILING] = "trailing", [XFR_IN_E_LIMIT] = "limit",
	[XFR_IN_E_NOMEM] = "nomem",
};

const char *xfr_in_result_name(enum xfr_in_result r)
{
	return (unsigned)r < XFR_IN__COUNT ? result_names[r] : "?";
}

/* ------------------------------------------------------------------------ */
/* The query                                                                */
/* ------------------------------------------------------------------------ */

int xfr_in_query(uint8_t *buf, size_t cap, uint16_t id, const uint8_t *apex, uint16_t qtype,
                 const uint8_t *soa, uint16_t soa_len, const struct tsig_key *key, uint64_t now,
                 uint8_t mac_out[TSIG_MAC_MAX], uint16_t *mac_len)
{
	size_t al = dns_name_len(apex), len = DNS_HDR_LEN;
	bool auth = qtype == DNS_T_IXFR;
	if (cap < DNS_HDR_LEN + al + 4 + (auth ? al + 10u + soa_len : 0u))
		return DDI_ESPACE;
	if (auth && soa == NULL)
		return DDI_EINVAL;
	memset(buf, 0, DNS_HDR_LEN);
	dns_put16(buf, id);
	dns_put16(buf + 4, 1);
	memcpy(buf + len, apex, al);
	len += al;
	dns_put16(buf + len, qtype);
	dns_put16(buf + len + 2, DNS_CLASS_IN);
	len += 4;
	if (auth) {
		/* RFC 1995 3: the client's SOA in the authority section */
		dns_put16(buf + 8, 1);
		dns_put16(buf + len, 0xc000 | DNS_HDR_LEN);
		dns_put16(buf + len + 2, DNS_T_SOA);
		dns_put16(buf + len + 4, DNS_CLASS_IN);
		dns_put32(buf + len + 6, 0);
		dns_put16(buf + len + 10, soa_len);
		memcpy(buf + len + 12, soa, soa_len);
		len += 12u + soa_len;
	}
	if (mac_len)
		*mac_len = 0;
	if (key) {
		int r = tsig_sign(key, NULL, 0, buf, &len, cap, now, TSIG_FUDGE_DEFAULT, mac_out);
		if (r < 0)
			return r;
		if (mac_len)
			*mac_len = (uint16_t)r;
	}
	return (int)len;
}

/* ------------------------------------------------------------------------ */
/* The answer                                                               */
/* ------------------------------------------------------------------------ */

void xfr_in_init(struct xfr_in *x, const uint8_t *apex, uint16_t qtype, uint16_t id,
                 uint32_t serial, const struct tsig_key *key, const uint8_t *mac,
                 uint16_t mac_len, const struct xfr_in_limits *lim)
{
	memset(x, 0, sizeof(*x));
	memcpy(x->apex, apex, dns_name_len(apex));
	dns_name_lower(x->apex);
	x->qtype = qtype;
	x->id = id;
	x->serial = serial;
	x->key = key;
	if (mac && mac_len <= TSIG_MAC_MAX) {
		memcpy(x->mac, mac, mac_len);
		x->mac_len = mac_len;
	}
	x->lim.max_rrs = lim && lim->max_rrs ? lim->max_rrs : XFR_IN_MAX_RRS_DEFAULT;
	x->lim.max_bytes = lim && lim->max_bytes ? lim->max_bytes : XFR_IN_MAX_BYTES_DEFAULT;
}

void xfr_in_free(struct xfr_in *x)
{
	free(x->rrs);
	free(x->arena);
	free(x->seqs);
	x->rrs = NULL;
	x->arena = NULL;
	x->seqs = NULL;
	x->nrrs = x->caprrs = x->used = x->cap = x->nseqs = x->capseqs = 0;
}

__attribute__((format(printf, 3, 4)))
static enum xfr_in_result fail(struct xfr_in *x, enum xfr_in_result r, const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(x->why, sizeof(x->why), fmt, ap);
	va_end(ap);
	x->st = XI_DONE;
	x->kind = XFR_IN_KIND_NONE;   /* refused: xfr_in_ops gives nothing to commit */
	return r;
}

static uint8_t *arena_put(struct xfr_in *x, size_t n, size_t *off)
{
	if (x->cap - x->used < n) {
		size_t nc = x->cap ? x->cap : 65536;
		while (nc - x->used < n)
			nc *= 2;
		uint8_t *na = realloc(x->arena, nc);
		if (!na)
			return NULL;
		x->arena = na;
		x->cap = nc;
	}
	*off = x->used;
	x->used += n;
	return x->arena + *off;
}

/* Keep one record: owner and [rdlen rdata] into the arena. */
static enum xfr_in_result keep(struct xfr_in *x, const uint8_t *owner, uint16_t type, uint32_t ttl,
                               const uint8_t *rd, uint16_t rdlen)
{
	if (x->nrrs >= x->lim.max_rrs)
		return fail(x, XFR_IN_E_LIMIT, "more than %zu records", x->lim.max_rrs);
	if (x->nrrs == x->caprrs) {
		size_t nc = x->caprrs ? x->caprrs * 2 : 1024;
		struct xfr_in_rr *nr = realloc(x->rrs, nc * sizeof(*nr));
		if (!nr)
			return fail(x, XFR_IN_E_NOMEM, "out of memory");
		x->rrs = nr;
		x->caprrs = nc;
	}
	size_t nl = dns_name_len(owner), off;
	uint8_t *p = arena_put(x, nl + 2u + rdlen, &off);
	if (!p)
		return fail(x, XFR_IN_E_NOMEM, "out of memory");
	memcpy(p, owner, nl);
	dns_name_lower(p);
	dns_put16(p + nl, rdlen);
	memcpy(p + nl + 2, rd, rdlen);
	x->rrs[x->nrrs++] = (struct xfr_in_rr){ .owner = off, .rdata = off + nl, .type = type,
	                                        .rdlen = rdlen, .ttl = ttl };
	return XFR_IN_MORE;
}

static enum xfr_in_result seq_open(struct xfr_in *x, uint32_t from)
{
	if (x->nseqs == x->capseqs) {
		size_t nc = x->capseqs ? x->capseqs * 2 : 16;
		struct xfr_in_seq *ns = realloc(x->seqs, nc * sizeof(*ns));
		if (!ns)
			return fail(x, XFR_IN_E_NOMEM, "out of memory");
		x->seqs = ns;
		x->capseqs = nc;
	}
	x->seqs[x->nseqs++] = (struct xfr_in_seq){ .del = x->nrrs, .add = x->nrrs, .end = x->nrrs,
	                                           .from = from };
	return XFR_IN_MORE;
}

static bool is_final_soa(const struct xfr_in *x, const uint8_t *rd, uint16_t rdlen)
{
	return rdlen == x->soa_len && memcmp(rd, x->soa, rdlen) == 0;
}

/* AXFR form: every record until the first SOA again. */
static enum xfr_in_result rr_axfr(struct xfr_in *x, const uint8_t *owner, uint16_t type,
                                  uint32_t ttl, const uint8_t *rd, uint16_t rdlen)
{
	if (type != DNS_T_SOA)
		return keep(x, owner, type, ttl, rd, rdlen);
	if (!dns_name_equal(owner, x->apex))
		return fail(x, XFR_IN_E_OUTZONE, "an SOA below the apex");
	if (!is_final_soa(x, rd, rdlen))
		return fail(x, XFR_IN_E_SOA, "the last SOA (serial %u) differs from the first "
		            "(serial %u)", dns_soa_serial(rd, rdlen), x->soa_serial);
	x->kind = XFR_IN_KIND_AXFR;
	x->st = XI_DONE;
	return XFR_IN_DONE;
}

/* IXFR form: SOA(from) del... SOA(to) add... chained, ended by the first SOA. */
static enum xfr_in_result rr_ixfr(struct xfr_in *x, const uint8_t *owner, uint16_t type,
                                  uint32_t ttl, const uint8_t *rd, uint16_t rdlen)
{
	if (type != DNS_T_SOA)
		return keep(x, owner, type, ttl, rd, rdlen);
	if (!dns_name_equal(owner, x->apex))
		return fail(x, XFR_IN_E_OUTZONE, "an SOA below the apex");
	uint32_t s = dns_soa_serial(rd, rdlen);
	struct xfr_in_seq *q = &x->seqs[x->nseqs - 1];
	if (x->st == XI_DEL) {
		/* the new SOA of this sequence opens its additions */
		q->add = x->nrrs;
		q->to = s;
		x->cur = s;
		x->st = XI_ADD;
		return keep(x, owner, type, ttl, rd, rdlen);
	}
	q->end = x->nrrs;
	if (x->cur == x->soa_serial) {
		/* the last sequence reached S: this SOA ends the stream */
		if (!is_final_soa(x, rd, rdlen))
			return fail(x, XFR_IN_E_SOA, "the last SOA (serial %u) differs from the "
			            "first (serial %u)", s, x->soa_serial);
		x->kind = XFR_IN_KIND_IXFR;
		x->st = XI_DONE;
		return XFR_IN_DONE;
	}
	if (s != x->cur)
		return fail(x, XFR_IN_E_IXFR, "a difference from serial %u follows one to %u", s,
		            x->cur);
	enum xfr_in_result r = seq_open(x, s);
	x->st = XI_DEL;
	return r == XFR_IN_MORE ? keep(x, owner, type, ttl, rd, rdlen) : r;
}

/* One record of the answer section, in stream order. */
static enum xfr_in_result rr_take(struct xfr_in *x, const uint8_t *owner, uint16_t type,
                                  uint32_t ttl, const uint8_t *rd, uint16_t rdlen)
{
	switch (x->st) {
	case XI_FIRST:
		if (type != DNS_T_SOA || !dns_name_equal(owner, x->apex))
			return fail(x, XFR_IN_E_FIRST, "the first record is not the zone's SOA");
		if (rdlen > sizeof(x->soa))
			return fail(x, XFR_IN_E_MALFORMED, "SOA rdata too long");
		memcpy(x->soa, rd, rdlen);
		x->soa_len = rdlen;
		x->soa_serial = dns_soa_serial(rd, rdlen);
		if (x->qtype == DNS_T_SOA) {
			x->st = XI_DONE;
			return XFR_IN_DONE;
		}
		x->st = XI_SECOND;
		/* AXFR keeps the SOA as zone content; IXFR decides on the next record */
		return x->qtype == DNS_T_AXFR ? keep(x, owner, type, ttl, rd, rdlen) : XFR_IN_MORE;
	case XI_SECOND:
		if (x->qtype == DNS_T_IXFR && type == DNS_T_SOA && dns_name_equal(owner, x->apex) &&
		    !is_final_soa(x, rd, rdlen)) {
			/* RFC 1995 4: incremental, the first sequence starts from our serial */
			if (dns_soa_serial(rd, rdlen) != x->serial)
				return fail(x, XFR_IN_E_IXFR, "the differences start at serial %u, "
				            "ours is %u", dns_soa_serial(rd, rdlen), x->serial);
			enum xfr_in_result r = seq_open(x, x->serial);
			x->st = XI_DEL;
			return r == XFR_IN_MORE ? keep(x, owner, type, ttl, rd, rdlen) : r;
		}
		if (x->qtype == DNS_T_IXFR) {
			/* the whole zone in AXFR form: the first SOA is its content too */
			enum xfr_in_result r = keep(x, x->apex, DNS_T_SOA, ttl, x->soa, x->soa_len);
			if (r != XFR_IN_MORE)
				return r;
		}
		x->st = XI_AXFR;
		return rr_axfr(x, owner, type, ttl, rd, rdlen);
	case XI_AXFR:
		return rr_axfr(x, owner, type, ttl, rd, rdlen);
	case XI_DEL:
	case XI_ADD:
		return rr_ixfr(x, owner, type, ttl, rd, rdlen);
	default:
		return fail(x, XFR_IN_E_TRAILING, "a record after the final SOA");
	}
}

/* Header and question of one message. */
static enum xfr_in_result msg_header(struct xfr_in *x, const uint8_t *msg, size_t len,
                                     size_t *pos)
{
	if (len < DNS_HDR_LEN)
		return fail(x, XFR_IN_E_MALFORMED, "a message of %zu bytes", len);
	uint16_t f = dns_get16(msg + 2), qd = dns_get16(msg + 4);
	if (dns_get16(msg) != x->id || !(f & DNS_QR) || DNS_OPCODE(f) != DNS_OP_QUERY)
		return fail(x, XFR_IN_E_HEADER, "not an answer to our query (ID %u, flags 0x%04x)",
		            dns_get16(msg), f);
	if (f & DNS_TC)
		return fail(x, XFR_IN_E_HEADER, "TC set");
	if (qd > 1)
		return fail(x, XFR_IN_E_MALFORMED, "QDCOUNT %u", qd);
	*pos = DNS_HDR_LEN;
	if (qd == 1) {
		/* RFC 5936 2.2.1: when present, the question is ours */
		uint8_t qn[DNS_NAME_MAXLEN];
		if (dns_name_parse(msg, len, pos, qn) < 0 || *pos + 4 > len)
			return fail(x, XFR_IN_E_MALFORMED, "the question does not parse");
		if (!dns_name_equal(qn, x->apex) || dns_get16(msg + *pos) != x->qtype ||
		    dns_get16(msg + *pos + 2) != DNS_CLASS_IN)
			return fail(x, XFR_IN_E_HEADER, "not our question");
		*pos += 4;
	} else if (x->nmsg == 0 && x->qtype == DNS_T_SOA) {
		return fail(x, XFR_IN_E_HEADER, "an SOA answer without its question");
	}
	return XFR_IN_MORE;
}

/* TSIG of one message: missing, unexpected, or verified and chained. */
static enum xfr_in_result msg_tsig(struct xfr_in *x, const uint8_t *msg, size_t len, uint64_t now,
                                   bool has_tsig)
{
	struct tsig_rr t;
	enum tsig_result tr;
	if (!x->key) {
		if (has_tsig)
			return fail(x, XFR_IN_E_TSIG, "a signed answer to an unsigned query");
		return XFR_IN_MORE;
	}
	if (!has_tsig)
		return fail(x, XFR_IN_E_TSIG, "message %u is not signed", x->nmsg + 1);
	if (x->nmsg == 0)
		tr = tsig_verify_response(&t, x->key, x->mac, x->mac_len, msg, len, now);
	else
		tr = tsig_verify_next(&t, x->key, x->mac, x->mac_len, msg, len, now);
	if (tr != TSIG_OK)
		return fail(x, XFR_IN_E_TSIG, "message %u: TSIG %s", x->nmsg + 1,
		            tr == TSIG_BADKEY ? "BADKEY" : tr == TSIG_BADSIG ? "BADSIG" :
		            tr == TSIG_BADTIME ? "BADTIME" : "malformed");
	if (t.mac_len > TSIG_MAC_MAX)
		return fail(x, XFR_IN_E_TSIG, "MAC too long");
	memcpy(x->mac, t.mac, t.mac_len);
	x->mac_len = t.mac_len;
	return XFR_IN_MORE;
}

/* One RR at *pos of section `sec` (0 answer, 1 authority, 2 additional). */
static enum xfr_in_result msg_rr(struct xfr_in *x, const uint8_t *msg, size_t len, size_t *pos,
                                 int sec, bool *tsig_seen, enum xfr_in_result *r)
{
	uint8_t owner[DNS_NAME_MAXLEN], rd[65535];
	size_t start = *pos;
	if (dns_name_parse(msg, len, pos, owner) < 0 || *pos + 10 > len)
		return fail(x, XFR_IN_E_MALFORMED, "record at offset %zu does not parse", start);
	uint16_t type = dns_get16(msg + *pos), cls = dns_get16(msg + *pos + 2);
	uint32_t ttl = dns_get32(msg + *pos + 4);
	uint16_t rdlen = dns_get16(msg + *pos + 8);
	size_t rdpos = *pos + 10;
	if (rdpos + rdlen > len)
		return fail(x, XFR_IN_E_MALFORMED, "rdata at offset %zu runs past the message", rdpos);
	*pos = rdpos + rdlen;
	if (sec == 2 && type == DNS_T_TSIG) {
		*tsig_seen = true;   /* checked by msg_tsig: it must be last */
		return XFR_IN_MORE;
	}
	if (sec != 0 || type == DNS_T_OPT)
		return XFR_IN_MORE;   /* authority, OPT and other additional data carry no zone content */
	if (cls != DNS_CLASS_IN)
		return fail(x, XFR_IN_E_OUTZONE, "a record of class %u", cls);
	if (dns_type_is_meta(type) || type == 0)
		return fail(x, XFR_IN_E_MALFORMED, "a record of meta type %u", type);
	if (!dns_name_is_sub(owner, x->apex)) {
		char nb[DNS_NAME_STRLEN];
		dns_name_to_str(nb, sizeof(nb), owner);
		return fail(x, XFR_IN_E_OUTZONE, "%s is outside the zone", nb);
	}
	if (ttl > STORE_TTL_MAX)
		return fail(x, XFR_IN_E_MALFORMED, "TTL %u above 2^31-1 (RFC 2181 8)", ttl);
	int n = dns_rdata_parse(rd, sizeof(rd), type, msg, len, rdpos, rdlen);
	if (n < 0 || dns_rdata_check(type, rd, (uint16_t)n) != DDI_EOK)
		return fail(x, XFR_IN_E_MALFORMED, "%s rdata at offset %zu is not valid",
		            dns_type_name(type), rdpos);
	*r = rr_take(x, owner, type, ttl, rd, (uint16_t)n);
	return *r;
}

enum xfr_in_result xfr_in_message(struct xfr_in *x, const uint8_t *msg, size_t len, uint64_t now)
{
	size_t pos;
	enum xfr_in_result r = XFR_IN_MORE;
	if (x->st == XI_DONE)
		return fail(x, XFR_IN_E_TRAILING, "a message after the end of the transfer");
	if ((x->bytes += len) > x->lim.max_bytes)
		return fail(x, XFR_IN_E_LIMIT, "more than %zu bytes", x->lim.max_bytes);
	if ((r = msg_header(x, msg, len, &pos)) != XFR_IN_MORE)
		return r;
	uint16_t an = dns_get16(msg + 6), ns = dns_get16(msg + 8), ar = dns_get16(msg + 10);
	/* TSIG first (RFC 8945 5.3.1): nothing of a message that fails it is looked at */
	size_t tpos;
	int tf = tsig_find(msg, len, &tpos);
	if (tf != DDI_EOK && tf != DDI_ENOENT)
		return fail(x, XFR_IN_E_MALFORMED, "message %u does not parse", x->nmsg + 1);
	if ((r = msg_tsig(x, msg, len, now, tf == DDI_EOK)) != XFR_IN_MORE)
		return r;
	uint8_t rcode = (uint8_t)DNS_RCODE(dns_get16(msg + 2));
	if (rcode != DNS_RCODE_NOERROR) {
		x->rcode = rcode;
		return fail(x, XFR_IN_E_RCODE, "the primary answered rcode %u", rcode);
	}
	if (x->nmsg == 0 && an == 0)
		return fail(x, XFR_IN_E_FIRST, "the first message has no answer");
	bool tsig_seen = false;
	enum xfr_in_result last = XFR_IN_MORE;
	unsigned total = (unsigned)an + ns + ar;
	for (unsigned i = 0; i < total; i++) {
		int sec = i < an ? 0 : i < (unsigned)an + ns ? 1 : 2;
		if (sec == 0 && last == XFR_IN_DONE)
			return fail(x, XFR_IN_E_TRAILING, "a record after the final SOA");
		enum xfr_in_result rr = XFR_IN_MORE;
		r = msg_rr(x, msg, len, &pos, sec, &tsig_seen, &rr);
		if (r != XFR_IN_MORE && r != XFR_IN_DONE)
			return r;
		if (sec == 0)
			last = rr;
	}
	if (pos != len)
		return fail(x, XFR_IN_E_MALFORMED, "%zu bytes after the last record", len - pos);
	x->nmsg++;
	if (last == XFR_IN_DONE)
		return XFR_IN_DONE;
	if (x->qtype == DNS_T_IXFR && x->st == XI_SECOND && x->nmsg == 1) {
		/* RFC 1995 4: an answer holding only the SOA says we are current */
		x->kind = XFR_IN_KIND_UPTODATE;
		x->st = XI_DONE;
		return XFR_IN_DONE;
	}
	if (x->qtype == DNS_T_SOA)
		return fail(x, XFR_IN_E_FIRST, "the answer holds no SOA of the zone");
	return XFR_IN_MORE;
}

/* ------------------------------------------------------------------------ */
/* To the store                                                             */
/* ------------------------------------------------------------------------ */

int xfr_in_ops(const struct xfr_in *x, struct store_op **ops, size_t *nops,
               struct store_rr **rrs_out)
{
	*ops = NULL;
	*nops = 0;
	*rrs_out = NULL;
	if (x->kind == XFR_IN_KIND_AXFR) {
		struct store_rr *rrs = malloc((x->nrrs ? x->nrrs : 1) * sizeof(*rrs));
		struct store_op *op = calloc(1, sizeof(*op));
		if (!rrs || !op) {
			free(rrs);
			free(op);
			return DDI_ENOMEM;
		}
		for (size_t i = 0; i < x->nrrs; i++) {
			const struct xfr_in_rr *r = &x->rrs[i];
			rrs[i] = (struct store_rr){ .owner = x->arena + r->owner, .type = r->type,
			                            .ttl = r->ttl, .rdlen = r->rdlen,
			                            .rdata = x->arena + r->rdata + 2 };
		}
		*op = (struct store_op){ .kind = STORE_OP_ZONE_REPLACE, .flags = STORE_OPF_TRANSFER,
		                         .zone = x->apex, .rrs = rrs, .nrrs = x->nrrs,
		                         .zone_flags = STORE_ZONE_SECONDARY };
		*ops = op;
		*nops = 1;
		*rrs_out = rrs;
		return DDI_EOK;
	}
	if (x->kind != XFR_IN_KIND_IXFR)
		return DDI_EOK;
	struct store_op *o = calloc(x->nrrs ? x->nrrs : 1, sizeof(*o));
	if (!o)
		return DDI_ENOMEM;
	size_t n = 0;
	for (size_t s = 0; s < x->nseqs; s++) {
		const struct xfr_in_seq *q = &x->seqs[s];
		for (size_t i = q->del; i < q->end; i++) {
			const struct xfr_in_rr *r = &x->rrs[i];
			o[n++] = (struct store_op){
				.kind = i < q->add ? STORE_OP_RR_DELETE : STORE_OP_RR_ADD,
				.flags = STORE_OPF_TRANSFER, .zone = x->apex,
				.owner = x->arena + r->owner, .type = r->type, .ttl = r->ttl, .count = 1,
				.rdatas = x->arena + r->rdata, .rdatas_len = 2u + r->rdlen,
			};
		}
	}
	*ops = o;
	*nops = n;
	return DDI_EOK;
}
