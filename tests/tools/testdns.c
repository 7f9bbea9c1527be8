/* testdns -- helpers for the answer tests: load master files into an index, parse responses */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "dns/errcode.h"
#include "dns/rdata.h"
#include "dns/wire.h"
#include "tests/tools/testdns.h"

/* ------------------------------------------------------------------------ */
/* Loading                                                                   */
/* ------------------------------------------------------------------------ */

struct rec {
	uint8_t owner[DNS_NAME_MAXLEN];
	uint16_t type;
	uint32_t ttl;
	uint16_t rdlen;
	uint8_t *rdata;
	size_t seq;
};

struct recs {
	struct rec *v;
	size_t n, cap;
};

static int collect(void *ctx, const struct dns_rr *rr)
{
	struct recs *rs = ctx;
	if (rs->n == rs->cap) {
		size_t cap = rs->cap ? rs->cap * 2 : 256;
		struct rec *v = realloc(rs->v, cap * sizeof(*v));
		if (v == NULL)
			return DDI_ENOMEM;
		rs->v = v;
		rs->cap = cap;
	}
	struct rec *r = &rs->v[rs->n];
	memcpy(r->owner, rr->owner, dns_name_len(rr->owner));
	r->type = rr->type;
	r->ttl = rr->ttl;
	r->rdlen = rr->rdlen;
	r->rdata = malloc(rr->rdlen ? rr->rdlen : 1);
	if (r->rdata == NULL)
		return DDI_ENOMEM;
	memcpy(r->rdata, rr->rdata, rr->rdlen);
	r->seq = rs->n++;
	return 0;
}

static int rec_cmp(const void *a, const void *b)
{
	const struct rec *x = a, *y = b;
	int c = dns_name_cmp(x->owner, y->owner);
	if (c != 0)
		return c;
	if (x->type != y->type)
		return x->type < y->type ? -1 : 1;
	return x->seq < y->seq ? -1 : x->seq > y->seq;
}

static int commit_recs(struct idx_txn *t, const uint8_t *apex, struct recs *rs)
{
	int ret = idx_txn_zone_add(t, apex);
	qsort(rs->v, rs->n, sizeof(*rs->v), rec_cmp);
	uint8_t *buf = malloc(1 << 20);
	if (buf == NULL)
		ret = DDI_ENOMEM;
	for (size_t i = 0; i < rs->n && ret == DDI_EOK;) {
		size_t j = i, len = 0;
		uint16_t count = 0;
		for (; j < rs->n && rs->v[j].type == rs->v[i].type &&
		       dns_name_equal(rs->v[j].owner, rs->v[i].owner); j++) {
			bool dup = false;
			for (size_t k = i; k < j; k++)
				dup |= rs->v[k].rdlen == rs->v[j].rdlen &&
				       memcmp(rs->v[k].rdata, rs->v[j].rdata, rs->v[j].rdlen) == 0;
			if (dup)
				continue;
			if (len + 2 + rs->v[j].rdlen > (1 << 20)) {
				ret = DDI_ESPACE;
				break;
			}
			dns_put16(buf + len, rs->v[j].rdlen);
			memcpy(buf + len + 2, rs->v[j].rdata, rs->v[j].rdlen);
			len += 2 + (size_t)rs->v[j].rdlen;
			count++;
		}
		if (ret == DDI_EOK)
			ret = idx_txn_rrset_set(t, rs->v[i].owner, rs->v[i].type, rs->v[i].ttl, count,
			                        buf, len);
		i = j;
	}
	free(buf);
	for (size_t i = 0; i < rs->n; i++)
		free(rs->v[i].rdata);
	free(rs->v);
	return ret;
}

static int load(struct idx_txn *t, const char *origin, const char *path, const char *text,
                struct zf_error *err)
{
	uint8_t apex[DNS_NAME_MAXLEN];
	int ret = dns_name_from_str(apex, origin, strlen(origin), NULL);
	if (ret < 0)
		return ret;
	struct zf_options opt = { .origin = apex, .require_in_zone = true };
	struct recs rs = { 0 };
	ret = path ? zf_read_file(path, &opt, collect, &rs, err)
	           : zf_read_string(text, strlen(text), "string", &opt, collect, &rs, err);
	if (ret != DDI_EOK) {
		for (size_t i = 0; i < rs.n; i++)
			free(rs.v[i].rdata);
		free(rs.v);
		return ret;
	}
	return commit_recs(t, apex, &rs);
}

int td_load_file(struct idx_txn *t, const char *origin, const char *path, struct zf_error *err)
{
	return load(t, origin, path, NULL, err);
}

int td_load_string(struct idx_txn *t, const char *origin, const char *text, struct zf_error *err)
{
	return load(t, origin, NULL, text, err);
}

/* ------------------------------------------------------------------------ */
/* Responses                                                                 */
/* ------------------------------------------------------------------------ */

int td_parse(struct td_msg *m, const uint8_t *wire, size_t len)
{
	memset(m, 0, sizeof(*m));
	if (len < DNS_HDR_LEN)
		return DDI_ETRUNC;
	m->id = dns_get16(wire);
	m->flags = dns_get16(wire + 2);
	m->qdcount = dns_get16(wire + 4);
	for (int s = 0; s < 3; s++)
		m->count[s] = dns_get16(wire + 6 + 2 * s);
	m->rcode = DNS_RCODE(m->flags);
	size_t pos = DNS_HDR_LEN;
	for (unsigned i = 0; i < m->qdcount; i++) {
		int r = dns_name_parse(wire, len, &pos, m->qname);
		if (r < 0)
			return r;
		if (pos + 4 > len)
			return DDI_ETRUNC;
		m->qtype = dns_get16(wire + pos);
		m->qclass = dns_get16(wire + pos + 2);
		pos += 4;
	}
	for (int s = 0; s < 3; s++) {
		for (unsigned i = 0; i < m->count[s]; i++) {
			uint8_t owner[DNS_NAME_MAXLEN];
			int r = dns_name_parse(wire, len, &pos, owner);
			if (r < 0)
				return r;
			if (pos + 10 > len)
				return DDI_ETRUNC;
			uint16_t type = dns_get16(wire + pos), rdlen = dns_get16(wire + pos + 8);
			if (pos + 10 + rdlen > len)
				return DDI_ETRUNC;
			if (type == DNS_T_OPT) {
				if (s != 2 || m->has_opt || owner[0] != 0)
					return DDI_EMALF;
				m->has_opt = true;
				m->opt_udp = dns_get16(wire + pos + 2);
				m->rcode |= wire[pos + 4] << 4;
				m->opt_do = (dns_get16(wire + pos + 6) & 0x8000) != 0;
				for (size_t o = pos + 10; o + 4 <= pos + 10 + rdlen;) {
					uint16_t code = dns_get16(wire + o), olen = dns_get16(wire + o + 2);
					if (o + 4 + olen > pos + 10 + rdlen)
						return DDI_EMALF;
					if (code == DNS_EDNS_OPT_NSID && olen <= sizeof(m->nsid)) {
						m->nsid_len = olen;
						memcpy(m->nsid, wire + o + 4, olen);
					}
					o += 4 + (size_t)olen;
				}
				pos += 10 + (size_t)rdlen;
				continue;
			}
			if (m->nrr[s] == TD_MAX_RR) {
				/* counted in the header, walked, not kept */
				m->overflow = true;
				pos += 10 + (size_t)rdlen;
				continue;
			}
			struct td_rr *rr = &m->rr[s][m->nrr[s]++];
			memcpy(rr->owner, owner, (size_t)r);
			rr->type = type;
			rr->rclass = dns_get16(wire + pos + 2);
			rr->ttl = dns_get32(wire + pos + 4);
			r = dns_rdata_parse(rr->rdata, sizeof(rr->rdata), type, wire, len, pos + 10, rdlen);
			if (r < 0)
				return r;
			rr->rdlen = (uint16_t)r;
			pos += 10 + (size_t)rdlen;
		}
	}
	return pos == len ? DDI_EOK : DDI_EMALF;
}

int td_rr_str(char *buf, size_t buflen, const struct td_rr *rr, bool lower)
{
	uint8_t owner[DNS_NAME_MAXLEN];
	memcpy(owner, rr->owner, dns_name_len(rr->owner));
	/* names inside rdata too: a server may compress them against the question */
	uint8_t rd[sizeof(rr->rdata)];
	memcpy(rd, rr->rdata, rr->rdlen);
	if (lower) {
		dns_name_lower(owner);
		size_t at = rr->type == DNS_T_MX ? 2 : rr->type == DNS_T_SRV ? 6 : 0;
		int names = rr->type == DNS_T_SOA ? 2
		          : (rr->type == DNS_T_NS || rr->type == DNS_T_CNAME || rr->type == DNS_T_PTR ||
		             rr->type == DNS_T_MX || rr->type == DNS_T_SRV) ? 1 : 0;
		for (int i = 0; i < names; i++) {
			if (at >= rr->rdlen || dns_name_check(rd + at, rr->rdlen - at) < 0)
				break;
			dns_name_lower(rd + at);
			at += dns_name_len(rd + at);
		}
	}
	char name[DNS_NAME_STRLEN], rdata[4096];
	if (dns_name_to_str(name, sizeof(name), owner) < 0)
		return DDI_EINVAL;
	if (dns_rdata_to_str(rdata, sizeof(rdata), rr->type, rd, rr->rdlen) < 0)
		snprintf(rdata, sizeof(rdata), "<bad rdata, %u bytes>", rr->rdlen);
	const char *cls = rr->rclass == DNS_CLASS_IN ? "IN" : "CLASS?";
	int n = snprintf(buf, buflen, "%s %u %s %s %s", name, rr->ttl, cls, dns_type_name(rr->type),
	                 rdata);
	return n < 0 || (size_t)n >= buflen ? DDI_ESPACE : n;
}

int td_query(uint8_t *buf, size_t cap, uint16_t id, const char *name, uint16_t type,
             uint16_t qclass, uint8_t opcode, uint16_t flags, uint16_t edns_size,
             uint8_t edns_ver, bool edns_do, bool nsid)
{
	uint8_t qname[DNS_NAME_MAXLEN];
	int nlen = dns_name_from_str(qname, name, strlen(name), NULL);
	if (nlen < 0)
		return nlen;
	size_t need = DNS_HDR_LEN + (size_t)nlen + 4 + (edns_size ? 11 + (nsid ? 4 : 0) : 0);
	if (need > cap)
		return DDI_ESPACE;
	memset(buf, 0, DNS_HDR_LEN);
	dns_put16(buf, id);
	dns_put16(buf + 2, (uint16_t)((flags & ~0x7800) | (opcode & 0xf) << 11));
	dns_put16(buf + 4, 1);
	dns_put16(buf + 10, edns_size ? 1 : 0);
	size_t pos = DNS_HDR_LEN;
	memcpy(buf + pos, qname, (size_t)nlen);
	pos += (size_t)nlen;
	dns_put16(buf + pos, type);
	dns_put16(buf + pos + 2, qclass);
	pos += 4;
	if (edns_size) {
		buf[pos] = 0;
		dns_put16(buf + pos + 1, DNS_T_OPT);
		dns_put16(buf + pos + 3, edns_size);
		dns_put32(buf + pos + 5, (uint32_t)edns_ver << 16 | (edns_do ? 0x8000u : 0));
		dns_put16(buf + pos + 9, nsid ? 4 : 0);
		pos += 11;
		if (nsid) {
			dns_put16(buf + pos, DNS_EDNS_OPT_NSID);
			dns_put16(buf + pos + 2, 0);
			pos += 4;
		}
	}
	return (int)pos;
}
