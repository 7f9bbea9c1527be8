/* msg -- an RFC 2136 UPDATE message parsed and checked (control/ddns/msg.h) */
#include <stdlib.h>
#include <string.h>

#include "control/ddns/msg.h"
#include "dns/errcode.h"
#include "dns/name.h"
#include "dns/rdata.h"
#include "dns/wire.h"

#define RR_FIXED 10   /* type class ttl rdlength */

/* ------------------------------------------------------------------------ */
/* Parsing (RFC 2136 3.1, 3.2.1, 3.2.3, 3.4.1.3)                            */
/* ------------------------------------------------------------------------ */

void upd_msg_free(struct upd_msg *m)
{
	if (m == NULL)
		return;
	for (size_t i = 0; i < m->nprereq; i++)
		free(m->prereq[i].rdata);
	for (size_t i = 0; i < m->nupdate; i++)
		free(m->update[i].rdata);
	free(m->prereq);
	free(m->update);
	memset(m, 0, sizeof(*m));
}

/* The record at *pos: owner, fixed fields, rdata offset. */
struct raw_rr {
	uint8_t owner[DNS_NAME_MAXLEN];
	uint16_t type, rclass, rdlen;
	uint32_t ttl;
	size_t rdpos;
};

static int read_rr(const uint8_t *w, size_t len, size_t *pos, struct raw_rr *rr)
{
	if (dns_name_parse(w, len, pos, rr->owner) < 0)
		return DDI_EMALF;
	if (len - *pos < RR_FIXED)
		return DDI_EMALF;
	rr->type = dns_get16(w + *pos);
	rr->rclass = dns_get16(w + *pos + 2);
	rr->ttl = dns_get32(w + *pos + 4);
	rr->rdlen = dns_get16(w + *pos + 8);
	*pos += RR_FIXED;
	if (rr->rdlen > len - *pos)
		return DDI_EMALF;
	rr->rdpos = *pos;
	*pos += rr->rdlen;
	dns_name_lower(rr->owner);
	return DDI_EOK;
}

/* A type that may be stored: not 0, not OPT, not a meta or query type (RFC 6895 3.1). */
static bool storable(uint16_t type)
{
	return !dns_type_is_meta(type);
}

/*
 * Decompress and check the rdata of `raw` into out->rdata. FORMERR for
 * anything that is not a valid record of its type (RFC 2136 3.4.1.3 leaves
 * the rdata check to the server; a record we could not store is malformed).
 */
static int take_rdata(struct upd_rr *out, const struct raw_rr *raw, const uint8_t *w, size_t len,
                      uint8_t *scratch, uint8_t *rcode)
{
	int n = dns_rdata_parse(scratch, DNS_RDATA_MAXLEN, raw->type, w, len, raw->rdpos, raw->rdlen);
	if (n < 0 || (n == 0 && dns_rdata_check(raw->type, scratch, 0) != DDI_EOK)) {
		*rcode = DNS_RCODE_FORMERR;
		return DDI_EOK;
	}
	out->rdlen = (uint16_t)n;
	if (n > 0) {
		if ((out->rdata = malloc((size_t)n)) == NULL)
			return DDI_ENOMEM;
		memcpy(out->rdata, scratch, (size_t)n);
	}
	return DDI_EOK;
}

static void rr_from_raw(struct upd_rr *out, const struct raw_rr *raw)
{
	memcpy(out->owner, raw->owner, dns_name_len(raw->owner));
	out->type = raw->type;
	out->rclass = raw->rclass;
	out->ttl = raw->ttl;
	out->rdlen = 0;
	out->rdata = NULL;
}

/* 3.2.1 and 3.2.3: one prerequisite RR. Sets *rcode on a refusal. */
static int prereq_one(struct upd_msg *m, const struct raw_rr *raw, const uint8_t *w, size_t len,
                      uint8_t *scratch, uint8_t *rcode)
{
	struct upd_rr *p = &m->prereq[m->nprereq];

	if (raw->ttl != 0) {
		*rcode = DNS_RCODE_FORMERR;
		return DDI_EOK;
	}
	if (!dns_name_is_sub(raw->owner, m->zone)) {
		*rcode = DNS_RCODE_NOTZONE;
		return DDI_EOK;
	}
	rr_from_raw(p, raw);
	switch (raw->rclass) {
	case DNS_CLASS_ANY:
	case DNS_CLASS_NONE:
		if (raw->rdlen != 0 || (raw->type != DNS_T_ANY && !storable(raw->type))) {
			*rcode = DNS_RCODE_FORMERR;
			return DDI_EOK;
		}
		if (raw->rclass == DNS_CLASS_ANY)
			p->kind = raw->type == DNS_T_ANY ? UPD_PRE_NAME_IN_USE : UPD_PRE_RRSET_EXISTS;
		else
			p->kind = raw->type == DNS_T_ANY ? UPD_PRE_NAME_FREE : UPD_PRE_RRSET_ABSENT;
		break;
	case DNS_CLASS_IN:
		if (!storable(raw->type)) {
			*rcode = DNS_RCODE_FORMERR;
			return DDI_EOK;
		}
		p->kind = UPD_PRE_RRSET_VALUE;
		m->nprereq++;   /* counted now so upd_msg_free releases the rdata */
		return take_rdata(p, raw, w, len, scratch, rcode);
	default:
		*rcode = DNS_RCODE_FORMERR;
		return DDI_EOK;
	}
	m->nprereq++;
	return DDI_EOK;
}

/* 3.4.1.3: the pre-scan of one update RR. */
static int update_one(struct upd_msg *m, const struct raw_rr *raw, const uint8_t *w, size_t len,
                      uint8_t *scratch, uint8_t *rcode)
{
	struct upd_rr *u = &m->update[m->nupdate];

	if (!dns_name_is_sub(raw->owner, m->zone)) {
		*rcode = DNS_RCODE_NOTZONE;
		return DDI_EOK;
	}
	rr_from_raw(u, raw);
	switch (raw->rclass) {
	case DNS_CLASS_IN:
		if (!storable(raw->type)) {
			*rcode = DNS_RCODE_FORMERR;
			return DDI_EOK;
		}
		u->kind = UPD_OP_ADD;
		m->nupdate++;
		return take_rdata(u, raw, w, len, scratch, rcode);
	case DNS_CLASS_ANY:
		if (raw->ttl != 0 || raw->rdlen != 0 ||
		    (raw->type != DNS_T_ANY && !storable(raw->type))) {
			*rcode = DNS_RCODE_FORMERR;
			return DDI_EOK;
		}
		u->kind = raw->type == DNS_T_ANY ? UPD_OP_DEL_NAME : UPD_OP_DEL_RRSET;
		break;
	case DNS_CLASS_NONE:
		if (raw->ttl != 0 || !storable(raw->type)) {
			*rcode = DNS_RCODE_FORMERR;
			return DDI_EOK;
		}
		u->kind = UPD_OP_DEL_RR;
		m->nupdate++;
		return take_rdata(u, raw, w, len, scratch, rcode);
	default:
		*rcode = DNS_RCODE_FORMERR;
		return DDI_EOK;
	}
	m->nupdate++;
	return DDI_EOK;
}

int upd_parse(struct upd_msg *m, const uint8_t *wire, size_t len, uint8_t *rcode)
{
	struct raw_rr raw;
	size_t pos = DNS_HDR_LEN;
	uint16_t zo, pr, up, ad;
	uint8_t *scratch = NULL;
	int r = DDI_EOK;

	memset(m, 0, sizeof(*m));
	*rcode = DNS_RCODE_FORMERR;
	if (wire == NULL || len < DNS_HDR_LEN)
		return DDI_EOK;
	m->id = dns_get16(wire);
	m->flags = dns_get16(wire + 2);
	zo = dns_get16(wire + 4);
	pr = dns_get16(wire + 6);
	up = dns_get16(wire + 8);
	ad = dns_get16(wire + 10);
	if ((m->flags & DNS_QR) || DNS_OPCODE(m->flags) != DNS_OP_UPDATE || zo != 1)
		return DDI_EOK;

	/* 3.1.1: the zone section. */
	if (dns_name_parse(wire, len, &pos, m->zone) < 0 || len - pos < 4)
		return DDI_EOK;
	if (dns_get16(wire + pos) != DNS_T_SOA || dns_get16(wire + pos + 2) != DNS_CLASS_IN)
		return DDI_EOK;
	pos += 4;
	dns_name_lower(m->zone);

	if ((pr > 0 && (m->prereq = calloc(pr, sizeof(*m->prereq))) == NULL) ||
	    (up > 0 && (m->update = calloc(up, sizeof(*m->update))) == NULL) ||
	    ((pr > 0 || up > 0) && (scratch = malloc(DNS_RDATA_MAXLEN)) == NULL)) {
		*rcode = DNS_RCODE_SERVFAIL;
		r = DDI_ENOMEM;
		goto out;
	}
	*rcode = DNS_RCODE_NOERROR;
	for (uint16_t i = 0; i < pr && *rcode == DNS_RCODE_NOERROR; i++) {
		if (read_rr(wire, len, &pos, &raw) != DDI_EOK) {
			*rcode = DNS_RCODE_FORMERR;
			break;
		}
		if ((r = prereq_one(m, &raw, wire, len, scratch, rcode)) != DDI_EOK)
			goto nomem;
	}
	for (uint16_t i = 0; i < up && *rcode == DNS_RCODE_NOERROR; i++) {
		if (read_rr(wire, len, &pos, &raw) != DDI_EOK) {
			*rcode = DNS_RCODE_FORMERR;
			break;
		}
		if ((r = update_one(m, &raw, wire, len, scratch, rcode)) != DDI_EOK)
			goto nomem;
	}
	/* The additional section: bounds only (OPT and TSIG were dealt with by the caller). */
	for (uint16_t i = 0; i < ad && *rcode == DNS_RCODE_NOERROR; i++)
		if (read_rr(wire, len, &pos, &raw) != DDI_EOK)
			*rcode = DNS_RCODE_FORMERR;
	if (*rcode == DNS_RCODE_NOERROR && pos != len)
		*rcode = DNS_RCODE_FORMERR;
	goto out;
nomem:
	*rcode = DNS_RCODE_SERVFAIL;
out:
	free(scratch);
	return r;
}
