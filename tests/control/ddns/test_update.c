/* test_update -- RFC 2136 UPDATE: parse and pre-scan rcodes, prerequisites, update rules, responses, NOTIFY */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>
#include <arpa/inet.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <poll.h>
#include <signal.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "control/ddns/policy.h"
#include "control/ddns/tsig.h"
#include "control/ddns/update.h"
#include "dns/errcode.h"
#include "dns/name.h"
#include "dns/rdata.h"
#include "dns/wire.h"
#include "dns/zonefile.h"

/* ------------------------------------------------------------------------ */
/* A model zone store behind the view                                       */
/* ------------------------------------------------------------------------ */

#define MAX_RRS 256

struct mrr {
	uint8_t owner[DNS_NAME_MAXLEN];
	uint16_t type;
	uint32_t ttl;
	uint16_t rdlen;
	uint8_t rdata[512];
};

struct model {
	struct mrr rr[MAX_RRS];
	int n;
	uint8_t zones[4][DNS_NAME_MAXLEN];
	int nzones;
	int reads;         /* rrsets() calls */
	int fail_reads;    /* when set, rrsets() fails with DDI_EIO */
};

static const uint8_t *wname(const char *s)
{
	static uint8_t buf[8][DNS_NAME_MAXLEN];
	static int i;
	uint8_t *b = buf[i++ % 8];
	assert_true(dns_name_from_str(b, s, strlen(s), NULL) > 0);
	return b;
}

static int collect_cb(void *ctx, const struct dns_rr *rr)
{
	struct model *m = ctx;
	assert_true(m->n < MAX_RRS);
	assert_true(rr->rdlen <= 512);
	struct mrr *x = &m->rr[m->n++];
	memcpy(x->owner, rr->owner, dns_name_len(rr->owner));
	dns_name_lower(x->owner);
	x->type = rr->type;
	x->ttl = rr->ttl;
	x->rdlen = rr->rdlen;
	memcpy(x->rdata, rr->rdata, rr->rdlen);
	return 0;
}

static void model_load(struct model *m, const char *origin, const char *text)
{
	struct zf_options o = { .origin = wname(origin), .default_ttl = 3600 };
	struct zf_error e;
	int r = zf_read_string(text, strlen(text), "test", &o, collect_cb, m, &e);
	if (r != 0)
		fail_msg("zone text: %u: %s", e.line, e.msg);
}

static void model_zone(struct model *m, const char *apex)
{
	const uint8_t *w = wname(apex);
	memcpy(m->zones[m->nzones++], w, dns_name_len(w));
}

static int view_rrsets(void *ctx, const uint8_t *owner, uint16_t type, upd_rrset_cb cb, void *cbctx)
{
	struct model *m = ctx;
	uint16_t done[64];
	int ndone = 0, found = 0;

	m->reads++;
	if (m->fail_reads)
		return DDI_EIO;
	assert_int_equal(type, 0);
	for (int i = 0; i < m->n; i++) {
		if (!dns_name_equal(m->rr[i].owner, owner))
			continue;
		bool seen = false;
		for (int d = 0; d < ndone; d++)
			seen |= done[d] == m->rr[i].type;
		if (seen)
			continue;
		done[ndone++] = m->rr[i].type;
		uint8_t blob[8192];
		size_t bl = 0;
		uint16_t count = 0;
		for (int j = i; j < m->n; j++) {
			if (m->rr[j].type != m->rr[i].type || !dns_name_equal(m->rr[j].owner, owner))
				continue;
			dns_put16(blob + bl, m->rr[j].rdlen);
			memcpy(blob + bl + 2, m->rr[j].rdata, m->rr[j].rdlen);
			bl += 2 + m->rr[j].rdlen;
			count++;
		}
		found = 1;
		int r = cb(cbctx, owner, m->rr[i].type, m->rr[i].ttl, count, blob, bl);
		if (r != 0)
			return r;
	}
	return found ? DDI_EOK : DDI_ENOENT;
}

static int view_zone_of(void *ctx, const uint8_t *name, uint8_t apex[DNS_NAME_MAXLEN])
{
	struct model *m = ctx;
	int best = -1, bestl = -1;
	for (int i = 0; i < m->nzones; i++)
		if (dns_name_is_sub(name, m->zones[i]) && dns_name_labels(m->zones[i]) > bestl) {
			best = i;
			bestl = dns_name_labels(m->zones[i]);
		}
	if (best < 0)
		return DDI_ENOZONE;
	memcpy(apex, m->zones[best], dns_name_len(m->zones[best]));
	return DDI_EOK;
}

/* What the store would do with the plan's RRSET_REPLACE ops. */
static void model_apply(struct model *m, const struct upd_plan *p)
{
	for (size_t i = 0; i < p->nops; i++) {
		const struct store_op *op = &p->ops[i];
		if (op->kind == STORE_OP_DYN_REFRESH)
			continue;   /* leases and aging: no data change (store.h) */
		assert_int_equal(op->kind, STORE_OP_RRSET_REPLACE);
		assert_true(op->flags & STORE_OPF_MISSING_OK);
		assert_non_null(op->zone);
		int w = 0;
		for (int j = 0; j < m->n; j++)
			if (!(m->rr[j].type == op->type && dns_name_equal(m->rr[j].owner, op->owner)))
				m->rr[w++] = m->rr[j];
		m->n = w;
		size_t pos = 0;
		for (uint16_t c = 0; c < op->count; c++) {
			struct mrr *x = &m->rr[m->n++];
			memcpy(x->owner, op->owner, dns_name_len(op->owner));
			x->type = op->type;
			x->ttl = op->ttl;
			x->rdlen = dns_get16(op->rdatas + pos);
			memcpy(x->rdata, op->rdatas + pos + 2, x->rdlen);
			pos += 2 + x->rdlen;
		}
		assert_int_equal(pos, op->rdatas_len);
	}
}

/* Number of RRs at (owner, type) in the model; with `rdata` text, 1 if that RR is there. */
static int model_has(struct model *m, const char *owner, uint16_t type, const char *rdata_text)
{
	int n = 0;
	for (int i = 0; i < m->n; i++) {
		if (m->rr[i].type != type || !dns_name_equal(m->rr[i].owner, wname(owner)))
			continue;
		if (rdata_text == NULL) {
			n++;
			continue;
		}
		char buf[1024];
		assert_true(dns_rdata_to_str(buf, sizeof(buf), type, m->rr[i].rdata, m->rr[i].rdlen) > 0);
		if (strcmp(buf, rdata_text) == 0)
			n++;
	}
	return n;
}

static uint32_t model_ttl(struct model *m, const char *owner, uint16_t type)
{
	for (int i = 0; i < m->n; i++)
		if (m->rr[i].type == type && dns_name_equal(m->rr[i].owner, wname(owner)))
			return m->rr[i].ttl;
	return 0;
}

static const char *base_zone =
	"$ORIGIN example.com.\n"
	"@ 3600 IN SOA ns1 hostmaster 100 7200 3600 1209600 300\n"
	"@ 3600 IN NS ns1\n"
	"@ 3600 IN NS ns2\n"
	"@ 3600 IN MX 10 mail\n"
	"ns1 3600 IN A 198.18.0.1\n"
	"ns2 3600 IN A 198.18.0.2\n"
	"www 300 IN A 198.18.0.10\n"
	"www 300 IN A 198.18.0.11\n"
	"www 300 IN TXT \"web\"\n"
	"alias 300 IN CNAME www\n"
	"sub 3600 IN NS ns1.sub\n"
	"ns1.sub 3600 IN A 198.18.1.1\n";

static struct model *model_new(void)
{
	struct model *m = calloc(1, sizeof(*m));
	assert_non_null(m);
	model_load(m, "example.com.", base_zone);
	model_zone(m, "example.com.");
	model_zone(m, "child.example.com.");
	return m;
}

/* ------------------------------------------------------------------------ */
/* Building UPDATE messages                                                 */
/* ------------------------------------------------------------------------ */

enum { SEC_PRE = 0, SEC_UPD = 1, SEC_ADD = 2 };

struct mb {
	uint8_t buf[8192];
	size_t len;
	uint16_t count[3];
};

static void mb_init_raw(struct mb *b, const char *zone, uint16_t ztype, uint16_t zclass)
{
	const uint8_t *z = wname(zone);
	memset(b, 0, sizeof(*b));
	dns_put16(b->buf, 0x4242);
	dns_put16(b->buf + 2, DNS_OP_UPDATE << 11);
	dns_put16(b->buf + 4, 1);
	b->len = DNS_HDR_LEN;
	memcpy(b->buf + b->len, z, dns_name_len(z));
	b->len += dns_name_len(z);
	dns_put16(b->buf + b->len, ztype);
	dns_put16(b->buf + b->len + 2, zclass);
	b->len += 4;
}

static void mb_init(struct mb *b, const char *zone)
{
	mb_init_raw(b, zone, DNS_T_SOA, DNS_CLASS_IN);
}

static void mb_put(struct mb *b, int sec, const uint8_t *owner, uint16_t type, uint16_t rclass,
                   uint32_t ttl, const uint8_t *rdata, uint16_t rdlen)
{
	size_t ol = dns_name_len(owner);
	/* Sections in order. */
	for (int s = sec + 1; s < 3; s++)
		assert_int_equal(b->count[s], 0);
	memcpy(b->buf + b->len, owner, ol);
	b->len += ol;
	dns_put16(b->buf + b->len, type);
	dns_put16(b->buf + b->len + 2, rclass);
	dns_put32(b->buf + b->len + 4, ttl);
	dns_put16(b->buf + b->len + 8, rdlen);
	b->len += 10;
	if (rdlen > 0)
		memcpy(b->buf + b->len, rdata, rdlen);
	b->len += rdlen;
	b->count[sec]++;
	dns_put16(b->buf + 6, b->count[0]);
	dns_put16(b->buf + 8, b->count[1]);
	dns_put16(b->buf + 10, b->count[2]);
}

struct one_rr {
	struct dns_rr rr;
	int n;
};

static int one_cb(void *ctx, const struct dns_rr *rr)
{
	struct one_rr *o = ctx;
	o->rr = *rr;
	o->n++;
	return 0;
}

/* A record from a zone-file line ("host 300 A 198.18.0.5", origin example.com.) with `rclass`. */
static void mb_rr(struct mb *b, int sec, uint16_t rclass, const char *line)
{
	static struct one_rr o;
	struct zf_options opt = { .origin = wname("example.com."), .default_ttl = 3600 };
	struct zf_error e;
	o.n = 0;
	if (zf_read_string(line, strlen(line), "rr", &opt, one_cb, &o, &e) != 0)
		fail_msg("rr '%s': %s", line, e.msg);
	assert_int_equal(o.n, 1);
	mb_put(b, sec, o.rr.owner, o.rr.type, rclass, rclass == DNS_CLASS_IN ? o.rr.ttl : 0,
	       o.rr.rdata, o.rr.rdlen);
}

/* A record with no rdata (deletes, the ANY/NONE prerequisites). */
static void mb_empty(struct mb *b, int sec, uint16_t rclass, const char *owner, uint16_t type)
{
	mb_put(b, sec, wname(owner), type, rclass, 0, NULL, 0);
}

static uint8_t parse_rcode(const struct mb *b)
{
	struct upd_msg m;
	uint8_t rc = 0xff;
	assert_int_equal(upd_parse(&m, b->buf, b->len, &rc), DDI_EOK);
	upd_msg_free(&m);
	return rc;
}

/* Parse and evaluate against the model; apply the plan when NOERROR. Returns the rcode. */
static uint8_t run(struct model *mo, const struct mb *b, size_t *nops)
{
	struct upd_msg m;
	struct upd_plan p;
	struct upd_view v = { mo, view_rrsets, view_zone_of };
	uint8_t rc = 0xff;

	assert_int_equal(upd_parse(&m, b->buf, b->len, &rc), DDI_EOK);
	if (rc != DNS_RCODE_NOERROR) {
		upd_msg_free(&m);
		return rc;
	}
	assert_int_equal(upd_evaluate(&m, &v, &p), DDI_EOK);
	rc = p.rcode;
	if (rc == DNS_RCODE_NOERROR)
		model_apply(mo, &p);
	else
		assert_int_equal(p.nops, 0);
	if (nops != NULL)
		*nops = p.nops;
	upd_plan_free(&p);
	upd_msg_free(&m);
	return rc;
}

/* ------------------------------------------------------------------------ */
/* Parse                                                                    */
/* ------------------------------------------------------------------------ */

/* From test_tsig.c: BIND nsupdate, "prereq nxdomain host" + "update add host 300 A 198.18.0.5". */
static const uint8_t nsupdate_req[] = {
	0x57, 0xa5, 0x28, 0x00, 0x00, 0x01, 0x00, 0x01, 0x00, 0x01, 0x00, 0x01,
	0x07, 0x65, 0x78, 0x61, 0x6d, 0x70, 0x6c, 0x65, 0x03, 0x63, 0x6f, 0x6d,
	0x00, 0x00, 0x06, 0x00, 0x01, 0x04, 0x68, 0x6f, 0x73, 0x74, 0xc0, 0x0c,
	0x00, 0xff, 0x00, 0xfe, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0xc0, 0x1d,
	0x00, 0x01, 0x00, 0x01, 0x00, 0x00, 0x01, 0x2c, 0x00, 0x04, 0xc6, 0x12,
	0x00, 0x05, 0x08, 0x64, 0x64, 0x6e, 0x73, 0x2d, 0x6b, 0x65, 0x79, 0x00,
	0x00, 0xfa, 0x00, 0xff, 0x00, 0x00, 0x00, 0x00, 0x00, 0x3d, 0x0b, 0x68,
	0x6d, 0x61, 0x63, 0x2d, 0x73, 0x68, 0x61, 0x32, 0x35, 0x36, 0x00, 0x00,
	0x00, 0x6b, 0x03, 0x42, 0xfd, 0x01, 0x2c, 0x00, 0x20, 0x91, 0xea, 0x96,
	0xb7, 0x85, 0xb0, 0x0a, 0xfa, 0xbe, 0xb6, 0x2a, 0x06, 0x53, 0x40, 0x96,
	0x68, 0xd9, 0x7d, 0x55, 0x98, 0x03, 0x24, 0xc1, 0xc1, 0xf4, 0x91, 0x98,
	0x77, 0xc8, 0xc5, 0x3b, 0xc5, 0x57, 0xa5, 0x00, 0x00, 0x00, 0x00,
};

static void test_parse_nsupdate(void **state)
{
	struct upd_msg m;
	uint8_t rc;
	(void)state;

	assert_int_equal(upd_parse(&m, nsupdate_req, sizeof(nsupdate_req), &rc), DDI_EOK);
	assert_int_equal(rc, DNS_RCODE_NOERROR);
	assert_int_equal(m.id, 0x57a5);
	assert_true(dns_name_equal(m.zone, wname("example.com.")));
	assert_int_equal(m.nprereq, 1);
	assert_int_equal(m.prereq[0].kind, UPD_PRE_NAME_FREE);
	assert_true(dns_name_equal(m.prereq[0].owner, wname("host.example.com.")));
	assert_int_equal(m.nupdate, 1);
	assert_int_equal(m.update[0].kind, UPD_OP_ADD);
	assert_int_equal(m.update[0].type, DNS_T_A);
	assert_int_equal(m.update[0].ttl, 300);
	assert_int_equal(m.update[0].rdlen, 4);
	assert_memory_equal(m.update[0].rdata, "\xc6\x12\x00\x05", 4);
	upd_msg_free(&m);

	/* Against the model: host is free, so it lands. */
	struct model *mo = model_new();
	struct mb b;
	memcpy(b.buf, nsupdate_req, sizeof(nsupdate_req));
	b.len = sizeof(nsupdate_req);
	assert_int_equal(run(mo, &b, NULL), DNS_RCODE_NOERROR);
	assert_int_equal(model_has(mo, "host.example.com.", DNS_T_A, "198.18.0.5"), 1);
	/* A second time the prerequisite fails. */
	assert_int_equal(run(mo, &b, NULL), DNS_RCODE_YXDOMAIN);
	free(mo);
}

static void test_parse_kinds(void **state)
{
	struct mb b;
	struct upd_msg m;
	uint8_t rc;
	(void)state;

	mb_init(&b, "Example.COM.");
	mb_empty(&b, SEC_PRE, DNS_CLASS_ANY, "a.example.com.", DNS_T_A);
	mb_rr(&b, SEC_PRE, DNS_CLASS_IN, "b 0 MX 10 Mail.Example.com.");
	mb_empty(&b, SEC_PRE, DNS_CLASS_NONE, "c.example.com.", DNS_T_TXT);
	mb_empty(&b, SEC_PRE, DNS_CLASS_ANY, "d.example.com.", DNS_T_ANY);
	mb_empty(&b, SEC_PRE, DNS_CLASS_NONE, "e.example.com.", DNS_T_ANY);
	mb_rr(&b, SEC_UPD, DNS_CLASS_IN, "F 60 AAAA 2001:2::1");
	mb_empty(&b, SEC_UPD, DNS_CLASS_ANY, "g.example.com.", DNS_T_A);
	mb_empty(&b, SEC_UPD, DNS_CLASS_ANY, "h.example.com.", DNS_T_ANY);
	mb_rr(&b, SEC_UPD, DNS_CLASS_NONE, "i 0 A 198.18.0.9");
	assert_int_equal(upd_parse(&m, b.buf, b.len, &rc), DDI_EOK);
	assert_int_equal(rc, DNS_RCODE_NOERROR);
	assert_true(dns_name_equal(m.zone, wname("example.com.")));
	assert_memory_equal(m.zone, "\x07" "example" "\x03" "com", 13);   /* lower-cased */
	assert_int_equal(m.nprereq, 5);
	assert_int_equal(m.prereq[0].kind, UPD_PRE_RRSET_EXISTS);
	assert_int_equal(m.prereq[1].kind, UPD_PRE_RRSET_VALUE);
	assert_int_equal(m.prereq[2].kind, UPD_PRE_RRSET_ABSENT);
	assert_int_equal(m.prereq[3].kind, UPD_PRE_NAME_IN_USE);
	assert_int_equal(m.prereq[4].kind, UPD_PRE_NAME_FREE);
	assert_int_equal(m.nupdate, 4);
	assert_int_equal(m.update[0].kind, UPD_OP_ADD);
	assert_memory_equal(m.update[0].owner, "\x01" "f", 2);
	assert_int_equal(m.update[1].kind, UPD_OP_DEL_RRSET);
	assert_int_equal(m.update[2].kind, UPD_OP_DEL_NAME);
	assert_int_equal(m.update[3].kind, UPD_OP_DEL_RR);
	upd_msg_free(&m);
}

static void test_parse_compressed_rdata(void **state)
{
	struct upd_msg m;
	uint8_t rc;
	struct mb b;
	(void)state;

	/* update add mx.example.com. 60 IN MX 10 <pointer to example.com. at 12> */
	mb_init(&b, "example.com.");
	static const uint8_t mx[] = { 0, 10, 4, 'm', 'a', 'i', 'l', 0xc0, 12 };
	mb_put(&b, SEC_UPD, wname("mx.example.com."), DNS_T_MX, DNS_CLASS_IN, 60, mx, sizeof(mx));
	assert_int_equal(upd_parse(&m, b.buf, b.len, &rc), DDI_EOK);
	assert_int_equal(rc, DNS_RCODE_NOERROR);
	assert_int_equal(m.update[0].rdlen, 2 + 18);
	assert_memory_equal(m.update[0].rdata, "\x00\x0a\x04mail\x07" "example" "\x03" "com", 20);
	upd_msg_free(&m);
}

static void test_parse_formerr(void **state)
{
	struct mb b;
	uint8_t rr[4] = { 198, 18, 0, 1 };
	(void)state;

	/* Zone section: two zones, type A, class CH. */
	mb_init(&b, "example.com.");
	dns_put16(b.buf + 4, 2);
	assert_int_equal(parse_rcode(&b), DNS_RCODE_FORMERR);
	mb_init(&b, "example.com.");
	dns_put16(b.buf + 4, 0);
	assert_int_equal(parse_rcode(&b), DNS_RCODE_FORMERR);
	mb_init_raw(&b, "example.com.", DNS_T_A, DNS_CLASS_IN);
	assert_int_equal(parse_rcode(&b), DNS_RCODE_FORMERR);
	mb_init_raw(&b, "example.com.", DNS_T_SOA, DNS_CLASS_CH);
	assert_int_equal(parse_rcode(&b), DNS_RCODE_FORMERR);
	/* Not an UPDATE, or a response. */
	mb_init(&b, "example.com.");
	dns_put16(b.buf + 2, 0);
	assert_int_equal(parse_rcode(&b), DNS_RCODE_FORMERR);
	mb_init(&b, "example.com.");
	dns_put16(b.buf + 2, DNS_QR | DNS_OP_UPDATE << 11);
	assert_int_equal(parse_rcode(&b), DNS_RCODE_FORMERR);

	/* Prerequisites: TTL not 0, rdata with ANY/NONE, other class, meta type. */
	mb_init(&b, "example.com.");
	mb_put(&b, SEC_PRE, wname("a.example.com."), DNS_T_A, DNS_CLASS_ANY, 1, NULL, 0);
	assert_int_equal(parse_rcode(&b), DNS_RCODE_FORMERR);
	mb_init(&b, "example.com.");
	mb_put(&b, SEC_PRE, wname("a.example.com."), DNS_T_A, DNS_CLASS_ANY, 0, rr, 4);
	assert_int_equal(parse_rcode(&b), DNS_RCODE_FORMERR);
	mb_init(&b, "example.com.");
	mb_put(&b, SEC_PRE, wname("a.example.com."), DNS_T_A, DNS_CLASS_NONE, 0, rr, 4);
	assert_int_equal(parse_rcode(&b), DNS_RCODE_FORMERR);
	mb_init(&b, "example.com.");
	mb_put(&b, SEC_PRE, wname("a.example.com."), DNS_T_A, DNS_CLASS_CH, 0, rr, 4);
	assert_int_equal(parse_rcode(&b), DNS_RCODE_FORMERR);
	mb_init(&b, "example.com.");
	mb_put(&b, SEC_PRE, wname("a.example.com."), DNS_T_AXFR, DNS_CLASS_ANY, 0, NULL, 0);
	assert_int_equal(parse_rcode(&b), DNS_RCODE_FORMERR);
	mb_init(&b, "example.com.");
	mb_put(&b, SEC_PRE, wname("a.example.com."), DNS_T_ANY, DNS_CLASS_IN, 0, NULL, 0);
	assert_int_equal(parse_rcode(&b), DNS_RCODE_FORMERR);
	/* A value prerequisite whose rdata is not an A record. */
	mb_init(&b, "example.com.");
	mb_put(&b, SEC_PRE, wname("a.example.com."), DNS_T_A, DNS_CLASS_IN, 0, rr, 3);
	assert_int_equal(parse_rcode(&b), DNS_RCODE_FORMERR);

	/* Updates: class ANY with TTL or rdata, NONE with TTL, meta types, other classes, bad rdata. */
	mb_init(&b, "example.com.");
	mb_put(&b, SEC_UPD, wname("a.example.com."), DNS_T_A, DNS_CLASS_ANY, 5, NULL, 0);
	assert_int_equal(parse_rcode(&b), DNS_RCODE_FORMERR);
	mb_init(&b, "example.com.");
	mb_put(&b, SEC_UPD, wname("a.example.com."), DNS_T_A, DNS_CLASS_ANY, 0, rr, 4);
	assert_int_equal(parse_rcode(&b), DNS_RCODE_FORMERR);
	mb_init(&b, "example.com.");
	mb_put(&b, SEC_UPD, wname("a.example.com."), DNS_T_A, DNS_CLASS_NONE, 5, rr, 4);
	assert_int_equal(parse_rcode(&b), DNS_RCODE_FORMERR);
	mb_init(&b, "example.com.");
	mb_put(&b, SEC_UPD, wname("a.example.com."), DNS_T_ANY, DNS_CLASS_IN, 5, NULL, 0);
	assert_int_equal(parse_rcode(&b), DNS_RCODE_FORMERR);
	mb_init(&b, "example.com.");
	mb_put(&b, SEC_UPD, wname("a.example.com."), DNS_T_IXFR, DNS_CLASS_ANY, 0, NULL, 0);
	assert_int_equal(parse_rcode(&b), DNS_RCODE_FORMERR);
	mb_init(&b, "example.com.");
	mb_put(&b, SEC_UPD, wname("a.example.com."), DNS_T_ANY, DNS_CLASS_NONE, 0, NULL, 0);
	assert_int_equal(parse_rcode(&b), DNS_RCODE_FORMERR);
	mb_init(&b, "example.com.");
	mb_put(&b, SEC_UPD, wname("a.example.com."), DNS_T_TSIG, DNS_CLASS_IN, 5, rr, 4);
	assert_int_equal(parse_rcode(&b), DNS_RCODE_FORMERR);
	mb_init(&b, "example.com.");
	mb_put(&b, SEC_UPD, wname("a.example.com."), DNS_T_A, DNS_CLASS_CH, 5, rr, 4);
	assert_int_equal(parse_rcode(&b), DNS_RCODE_FORMERR);
	mb_init(&b, "example.com.");
	mb_put(&b, SEC_UPD, wname("a.example.com."), DNS_T_AAAA, DNS_CLASS_IN, 5, rr, 4);
	assert_int_equal(parse_rcode(&b), DNS_RCODE_FORMERR);
	mb_init(&b, "example.com.");
	mb_put(&b, SEC_UPD, wname("a.example.com."), DNS_T_A, DNS_CLASS_IN, 5, NULL, 0);
	assert_int_equal(parse_rcode(&b), DNS_RCODE_FORMERR);

	/* Framing: truncated anywhere, trailing byte, counts beyond the data. */
	mb_init(&b, "example.com.");
	mb_rr(&b, SEC_UPD, DNS_CLASS_IN, "x 60 A 198.18.0.1");
	assert_int_equal(parse_rcode(&b), DNS_RCODE_NOERROR);
	struct mb c = b;
	for (size_t cut = 0; cut < b.len; cut++) {
		c.len = cut;
		assert_int_equal(parse_rcode(&c), DNS_RCODE_FORMERR);
	}
	c = b;
	c.buf[c.len++] = 0;
	assert_int_equal(parse_rcode(&c), DNS_RCODE_FORMERR);
	c = b;
	dns_put16(c.buf + 10, 1);
	assert_int_equal(parse_rcode(&c), DNS_RCODE_FORMERR);
}

static void test_parse_notzone(void **state)
{
	struct mb b;
	(void)state;

	mb_init(&b, "example.com.");
	mb_empty(&b, SEC_PRE, DNS_CLASS_ANY, "a.example.org.", DNS_T_A);
	assert_int_equal(parse_rcode(&b), DNS_RCODE_NOTZONE);
	mb_init(&b, "example.com.");
	mb_rr(&b, SEC_UPD, DNS_CLASS_IN, "x.example.net. 60 A 198.18.0.1");
	assert_int_equal(parse_rcode(&b), DNS_RCODE_NOTZONE);
	mb_init(&b, "example.com.");
	mb_empty(&b, SEC_UPD, DNS_CLASS_ANY, "com.", DNS_T_ANY);
	assert_int_equal(parse_rcode(&b), DNS_RCODE_NOTZONE);
	/* The first failing record decides: FORMERR before a later NOTZONE. */
	mb_init(&b, "example.com.");
	mb_put(&b, SEC_UPD, wname("a.example.com."), DNS_T_A, DNS_CLASS_CH, 5, NULL, 0);
	mb_rr(&b, SEC_UPD, DNS_CLASS_IN, "x.example.net. 60 A 198.18.0.1");
	assert_int_equal(parse_rcode(&b), DNS_RCODE_FORMERR);
}

/* ------------------------------------------------------------------------ */
/* Zones: NOTAUTH, NOTZONE for a child zone                                 */
/* ------------------------------------------------------------------------ */

static void test_zone_checks(void **state)
{
	struct model *mo = model_new();
	struct mb b;
	(void)state;

	mb_init(&b, "example.org.");
	mb_rr(&b, SEC_UPD, DNS_CLASS_IN, "x.example.org. 60 A 198.18.0.1");
	assert_int_equal(run(mo, &b, NULL), DNS_RCODE_NOTAUTH);
	/* A name inside a zone of ours is not a zone. */
	mb_init(&b, "www.example.com.");
	mb_rr(&b, SEC_UPD, DNS_CLASS_IN, "www 60 A 198.18.0.1");
	assert_int_equal(run(mo, &b, NULL), DNS_RCODE_NOTAUTH);
	/* child.example.com. is a zone of its own here. */
	mb_init(&b, "example.com.");
	mb_rr(&b, SEC_UPD, DNS_CLASS_IN, "h.child 60 A 198.18.0.1");
	assert_int_equal(run(mo, &b, NULL), DNS_RCODE_NOTZONE);
	mb_init(&b, "example.com.");
	mb_empty(&b, SEC_PRE, DNS_CLASS_NONE, "child.example.com.", DNS_T_ANY);
	assert_int_equal(run(mo, &b, NULL), DNS_RCODE_NOTZONE);
	/* The view failing is an error for the caller (SERVFAIL). */
	struct upd_msg m;
	struct upd_plan p;
	struct upd_view v = { mo, view_rrsets, view_zone_of };
	uint8_t rc;
	mb_init(&b, "example.com.");
	mb_rr(&b, SEC_UPD, DNS_CLASS_IN, "x 60 A 198.18.0.1");
	assert_int_equal(upd_parse(&m, b.buf, b.len, &rc), DDI_EOK);
	mo->fail_reads = 1;
	assert_int_equal(upd_evaluate(&m, &v, &p), DDI_EIO);
	assert_int_equal(p.rcode, DNS_RCODE_SERVFAIL);
	assert_int_equal(p.nops, 0);
	upd_plan_free(&p);
	upd_msg_free(&m);
	free(mo);
}

/* ------------------------------------------------------------------------ */
/* Prerequisites (RFC 2136 3.2.5)                                           */
/* ------------------------------------------------------------------------ */

/* One prerequisite and an add of z.example.com.; returns the rcode, and checks nothing changed unless NOERROR. */
static uint8_t pre1(struct model *mo, void (*fill)(struct mb *b))
{
	struct mb b;
	int before = mo->n;
	mb_init(&b, "example.com.");
	fill(&b);
	mb_rr(&b, SEC_UPD, DNS_CLASS_IN, "z 60 A 198.18.9.9");
	uint8_t rc = run(mo, &b, NULL);
	if (rc != DNS_RCODE_NOERROR) {
		assert_int_equal(mo->n, before);
	} else {
		assert_int_equal(model_has(mo, "z.example.com.", DNS_T_A, "198.18.9.9"), 1);
		/* undo for the next check */
		int w = 0;
		for (int i = 0; i < mo->n; i++)
			if (!dns_name_equal(mo->rr[i].owner, wname("z.example.com.")))
				mo->rr[w++] = mo->rr[i];
		mo->n = w;
	}
	return rc;
}

static void f_exists_www_a(struct mb *b) { mb_empty(b, SEC_PRE, DNS_CLASS_ANY, "www.example.com.", DNS_T_A); }
static void f_exists_www_aaaa(struct mb *b) { mb_empty(b, SEC_PRE, DNS_CLASS_ANY, "www.example.com.", DNS_T_AAAA); }
static void f_absent_www_aaaa(struct mb *b) { mb_empty(b, SEC_PRE, DNS_CLASS_NONE, "www.example.com.", DNS_T_AAAA); }
static void f_absent_www_a(struct mb *b) { mb_empty(b, SEC_PRE, DNS_CLASS_NONE, "www.example.com.", DNS_T_A); }
static void f_inuse_www(struct mb *b) { mb_empty(b, SEC_PRE, DNS_CLASS_ANY, "www.example.com.", DNS_T_ANY); }
static void f_inuse_nope(struct mb *b) { mb_empty(b, SEC_PRE, DNS_CLASS_ANY, "nope.example.com.", DNS_T_ANY); }
static void f_free_nope(struct mb *b) { mb_empty(b, SEC_PRE, DNS_CLASS_NONE, "nope.example.com.", DNS_T_ANY); }
static void f_free_www(struct mb *b) { mb_empty(b, SEC_PRE, DNS_CLASS_NONE, "www.example.com.", DNS_T_ANY); }
/* An empty non-terminal is not "in use" (2.4.4: at least one RR). */
static void f_inuse_ent(struct mb *b) { mb_empty(b, SEC_PRE, DNS_CLASS_ANY, "sub.example.com.", DNS_T_ANY); }
static void f_value_exact(struct mb *b)
{
	mb_rr(b, SEC_PRE, DNS_CLASS_IN, "www 0 A 198.18.0.11");
	mb_rr(b, SEC_PRE, DNS_CLASS_IN, "www 0 A 198.18.0.10");
}
static void f_value_dup(struct mb *b)
{
	f_value_exact(b);
	mb_rr(b, SEC_PRE, DNS_CLASS_IN, "www 0 A 198.18.0.10");
}
static void f_value_subset(struct mb *b) { mb_rr(b, SEC_PRE, DNS_CLASS_IN, "www 0 A 198.18.0.10"); }
static void f_value_superset(struct mb *b)
{
	f_value_exact(b);
	mb_rr(b, SEC_PRE, DNS_CLASS_IN, "www 0 A 198.18.0.12");
}
static void f_value_missing_set(struct mb *b) { mb_rr(b, SEC_PRE, DNS_CLASS_IN, "www 0 AAAA 2001:2::1"); }
/* Names inside rdata compare without case. */
static void f_value_ns_case(struct mb *b)
{
	mb_rr(b, SEC_PRE, DNS_CLASS_IN, "@ 0 NS NS2.EXAMPLE.COM.");
	mb_rr(b, SEC_PRE, DNS_CLASS_IN, "@ 0 NS Ns1");
}
static void f_value_two_sets(struct mb *b)
{
	mb_rr(b, SEC_PRE, DNS_CLASS_IN, "www 0 TXT \"web\"");
	f_value_exact(b);
}
static void f_value_two_sets_bad(struct mb *b)
{
	mb_rr(b, SEC_PRE, DNS_CLASS_IN, "www 0 TXT \"Web\"");
	f_value_exact(b);
}
/* The first failing prerequisite decides. */
static void f_order(struct mb *b)
{
	f_free_www(b);
	f_inuse_nope(b);
}

static void test_prereqs(void **state)
{
	struct model *mo = model_new();
	(void)state;

	assert_int_equal(pre1(mo, f_exists_www_a), DNS_RCODE_NOERROR);
	assert_int_equal(pre1(mo, f_exists_www_aaaa), DNS_RCODE_NXRRSET);
	assert_int_equal(pre1(mo, f_absent_www_aaaa), DNS_RCODE_NOERROR);
	assert_int_equal(pre1(mo, f_absent_www_a), DNS_RCODE_YXRRSET);
	assert_int_equal(pre1(mo, f_inuse_www), DNS_RCODE_NOERROR);
	assert_int_equal(pre1(mo, f_inuse_nope), DNS_RCODE_NXDOMAIN);
	assert_int_equal(pre1(mo, f_inuse_ent), DNS_RCODE_NOERROR);   /* sub has an NS */
	assert_int_equal(pre1(mo, f_free_nope), DNS_RCODE_NOERROR);
	assert_int_equal(pre1(mo, f_free_www), DNS_RCODE_YXDOMAIN);
	assert_int_equal(pre1(mo, f_value_exact), DNS_RCODE_NOERROR);
	assert_int_equal(pre1(mo, f_value_dup), DNS_RCODE_NOERROR);
	assert_int_equal(pre1(mo, f_value_subset), DNS_RCODE_NXRRSET);
	assert_int_equal(pre1(mo, f_value_superset), DNS_RCODE_NXRRSET);
	assert_int_equal(pre1(mo, f_value_missing_set), DNS_RCODE_NXRRSET);
	assert_int_equal(pre1(mo, f_value_ns_case), DNS_RCODE_NOERROR);
	assert_int_equal(pre1(mo, f_value_two_sets), DNS_RCODE_NOERROR);
	assert_int_equal(pre1(mo, f_value_two_sets_bad), DNS_RCODE_NXRRSET);
	assert_int_equal(pre1(mo, f_order), DNS_RCODE_YXDOMAIN);
	free(mo);
}

static void test_prereq_ent(void **state)
{
	struct model *mo = calloc(1, sizeof(*mo));
	(void)state;
	model_load(mo, "example.com.",
	           "@ SOA ns hm 1 2 3 4 5\n@ NS ns\nns A 198.18.0.1\na.b A 198.18.0.2\n");
	model_zone(mo, "example.com.");
	struct mb b;
	mb_init(&b, "example.com.");
	mb_empty(&b, SEC_PRE, DNS_CLASS_ANY, "b.example.com.", DNS_T_ANY);
	assert_int_equal(run(mo, &b, NULL), DNS_RCODE_NXDOMAIN);
	mb_init(&b, "example.com.");
	mb_empty(&b, SEC_PRE, DNS_CLASS_NONE, "b.example.com.", DNS_T_ANY);
	assert_int_equal(run(mo, &b, NULL), DNS_RCODE_NOERROR);
	free(mo);
}

/* ------------------------------------------------------------------------ */
/* Updates (RFC 2136 3.4.2)                                                 */
/* ------------------------------------------------------------------------ */

static void test_add_and_delete(void **state)
{
	struct model *mo = model_new();
	struct mb b;
	size_t nops;
	(void)state;

	/* Add to a new name and to an existing RRset; the RRset takes the new TTL. */
	mb_init(&b, "example.com.");
	mb_rr(&b, SEC_UPD, DNS_CLASS_IN, "host 120 A 198.18.0.5");
	mb_rr(&b, SEC_UPD, DNS_CLASS_IN, "host 120 AAAA 2001:2::5");
	mb_rr(&b, SEC_UPD, DNS_CLASS_IN, "www 600 A 198.18.0.12");
	assert_int_equal(run(mo, &b, &nops), DNS_RCODE_NOERROR);
	assert_int_equal(nops, 3);
	assert_int_equal(model_has(mo, "host.example.com.", DNS_T_A, "198.18.0.5"), 1);
	assert_int_equal(model_has(mo, "host.example.com.", DNS_T_AAAA, "2001:2::5"), 1);
	assert_int_equal(model_has(mo, "www.example.com.", DNS_T_A, NULL), 3);
	assert_int_equal(model_ttl(mo, "www.example.com.", DNS_T_A), 600);

	/* Duplicates are no change at all; a duplicate with another TTL changes the TTL. */
	mb_init(&b, "example.com.");
	mb_rr(&b, SEC_UPD, DNS_CLASS_IN, "www 600 A 198.18.0.12");
	mb_rr(&b, SEC_UPD, DNS_CLASS_IN, "host 120 A 198.18.0.5");
	mb_rr(&b, SEC_UPD, DNS_CLASS_IN, "host 120 A 198.18.0.5");
	assert_int_equal(run(mo, &b, &nops), DNS_RCODE_NOERROR);
	assert_int_equal(nops, 0);
	mb_init(&b, "example.com.");
	mb_rr(&b, SEC_UPD, DNS_CLASS_IN, "host 30 A 198.18.0.5");
	assert_int_equal(run(mo, &b, &nops), DNS_RCODE_NOERROR);
	assert_int_equal(nops, 1);
	assert_int_equal(model_ttl(mo, "host.example.com.", DNS_T_A), 30);

	/* Delete one RR; one that is not there is ignored. */
	mb_init(&b, "example.com.");
	mb_rr(&b, SEC_UPD, DNS_CLASS_NONE, "www 0 A 198.18.0.12");
	mb_rr(&b, SEC_UPD, DNS_CLASS_NONE, "www 0 A 198.18.0.99");
	assert_int_equal(run(mo, &b, &nops), DNS_RCODE_NOERROR);
	assert_int_equal(nops, 1);
	assert_int_equal(model_has(mo, "www.example.com.", DNS_T_A, NULL), 2);
	assert_int_equal(model_has(mo, "www.example.com.", DNS_T_A, "198.18.0.12"), 0);

	/* Delete an RRset; the other RRsets of the name stay. */
	mb_init(&b, "example.com.");
	mb_empty(&b, SEC_UPD, DNS_CLASS_ANY, "www.example.com.", DNS_T_A);
	assert_int_equal(run(mo, &b, &nops), DNS_RCODE_NOERROR);
	assert_int_equal(model_has(mo, "www.example.com.", DNS_T_A, NULL), 0);
	assert_int_equal(model_has(mo, "www.example.com.", DNS_T_TXT, NULL), 1);

	/* Delete a name. */
	mb_init(&b, "example.com.");
	mb_empty(&b, SEC_UPD, DNS_CLASS_ANY, "host.example.com.", DNS_T_ANY);
	assert_int_equal(run(mo, &b, &nops), DNS_RCODE_NOERROR);
	assert_int_equal(nops, 2);
	assert_int_equal(model_has(mo, "host.example.com.", DNS_T_A, NULL), 0);
	assert_int_equal(model_has(mo, "host.example.com.", DNS_T_AAAA, NULL), 0);
	/* Deleting what is not there is no change. */
	assert_int_equal(run(mo, &b, &nops), DNS_RCODE_NOERROR);
	assert_int_equal(nops, 0);

	/* In order: replace = delete the RRset then add, in one message. */
	mb_init(&b, "example.com.");
	mb_empty(&b, SEC_UPD, DNS_CLASS_ANY, "ns2.example.com.", DNS_T_A);
	mb_rr(&b, SEC_UPD, DNS_CLASS_IN, "ns2 3600 A 198.18.0.22");
	assert_int_equal(run(mo, &b, &nops), DNS_RCODE_NOERROR);
	assert_int_equal(nops, 1);
	assert_int_equal(model_has(mo, "ns2.example.com.", DNS_T_A, NULL), 1);
	assert_int_equal(model_has(mo, "ns2.example.com.", DNS_T_A, "198.18.0.22"), 1);
	/* Add then delete the same RR: no change. */
	mb_init(&b, "example.com.");
	mb_rr(&b, SEC_UPD, DNS_CLASS_IN, "tmp 60 A 198.18.0.30");
	mb_rr(&b, SEC_UPD, DNS_CLASS_NONE, "tmp 0 A 198.18.0.30");
	assert_int_equal(run(mo, &b, &nops), DNS_RCODE_NOERROR);
	assert_int_equal(nops, 0);
	free(mo);
}

static void test_apex_rules(void **state)
{
	struct model *mo = model_new();
	struct mb b;
	size_t nops;
	(void)state;

	/* SOA and NS at the apex survive RRset deletes and delete-all. */
	mb_init(&b, "example.com.");
	mb_empty(&b, SEC_UPD, DNS_CLASS_ANY, "example.com.", DNS_T_SOA);
	mb_empty(&b, SEC_UPD, DNS_CLASS_ANY, "example.com.", DNS_T_NS);
	assert_int_equal(run(mo, &b, &nops), DNS_RCODE_NOERROR);
	assert_int_equal(nops, 0);
	mb_init(&b, "example.com.");
	mb_empty(&b, SEC_UPD, DNS_CLASS_ANY, "example.com.", DNS_T_ANY);
	assert_int_equal(run(mo, &b, &nops), DNS_RCODE_NOERROR);
	assert_int_equal(nops, 1);   /* the MX */
	assert_int_equal(model_has(mo, "example.com.", DNS_T_MX, NULL), 0);
	assert_int_equal(model_has(mo, "example.com.", DNS_T_SOA, NULL), 1);
	assert_int_equal(model_has(mo, "example.com.", DNS_T_NS, NULL), 2);

	/* An NS may go while another stays; the last one stays. */
	mb_init(&b, "example.com.");
	mb_rr(&b, SEC_UPD, DNS_CLASS_NONE, "@ 0 NS ns2");
	mb_rr(&b, SEC_UPD, DNS_CLASS_NONE, "@ 0 NS NS1.example.com.");
	assert_int_equal(run(mo, &b, &nops), DNS_RCODE_NOERROR);
	assert_int_equal(nops, 1);
	assert_int_equal(model_has(mo, "example.com.", DNS_T_NS, NULL), 1);
	assert_int_equal(model_has(mo, "example.com.", DNS_T_NS, "ns1.example.com."), 1);
	/* Below the apex NS RRsets are ordinary data (a delegation may go). */
	mb_init(&b, "example.com.");
	mb_rr(&b, SEC_UPD, DNS_CLASS_NONE, "sub 0 NS ns1.sub");
	assert_int_equal(run(mo, &b, &nops), DNS_RCODE_NOERROR);
	assert_int_equal(model_has(mo, "sub.example.com.", DNS_T_NS, NULL), 0);

	/* SOA: deleting one RR is ignored; an older or equal serial is ignored; a newer one replaces. */
	mb_init(&b, "example.com.");
	mb_rr(&b, SEC_UPD, DNS_CLASS_NONE, "@ 0 SOA ns1 hostmaster 100 7200 3600 1209600 300");
	assert_int_equal(run(mo, &b, &nops), DNS_RCODE_NOERROR);
	assert_int_equal(nops, 0);
	mb_init(&b, "example.com.");
	mb_rr(&b, SEC_UPD, DNS_CLASS_IN, "@ 3600 SOA ns1 hostmaster 99 1 1 1 1");
	mb_rr(&b, SEC_UPD, DNS_CLASS_IN, "@ 3600 SOA ns1 hostmaster 100 1 1 1 1");
	assert_int_equal(run(mo, &b, &nops), DNS_RCODE_NOERROR);
	assert_int_equal(nops, 0);
	mb_init(&b, "example.com.");
	mb_rr(&b, SEC_UPD, DNS_CLASS_IN, "@ 3600 SOA ns2 hostmaster 101 1 2 3 4");
	assert_int_equal(run(mo, &b, &nops), DNS_RCODE_NOERROR);
	assert_int_equal(nops, 1);
	assert_int_equal(model_has(mo, "example.com.", DNS_T_SOA, NULL), 1);
	assert_int_equal(model_has(mo, "example.com.", DNS_T_SOA,
	                           "ns2.example.com. hostmaster.example.com. 101 1 2 3 4"), 1);
	/* Serial arithmetic wraps (RFC 1982): 101 + 2^31 - 1 is newer ... */
	mb_init(&b, "example.com.");
	mb_rr(&b, SEC_UPD, DNS_CLASS_IN, "@ 3600 SOA ns2 hostmaster 2147483748 1 2 3 4");
	assert_int_equal(run(mo, &b, &nops), DNS_RCODE_NOERROR);
	assert_int_equal(nops, 1);
	/* ... and from there 101 is not (it is 2^31 - 1 behind). */
	mb_init(&b, "example.com.");
	mb_rr(&b, SEC_UPD, DNS_CLASS_IN, "@ 3600 SOA ns2 hostmaster 101 1 2 3 4");
	assert_int_equal(run(mo, &b, &nops), DNS_RCODE_NOERROR);
	assert_int_equal(nops, 0);
	/* An SOA anywhere but the apex is ignored. */
	mb_init(&b, "example.com.");
	mb_rr(&b, SEC_UPD, DNS_CLASS_IN, "x 3600 SOA ns2 hostmaster 5000 1 2 3 4");
	assert_int_equal(run(mo, &b, &nops), DNS_RCODE_NOERROR);
	assert_int_equal(nops, 0);
	free(mo);
}

static void test_cname_rules(void **state)
{
	struct model *mo = model_new();
	struct mb b;
	size_t nops;
	(void)state;

	/* CNAME where other data is: ignored. Other data where a CNAME is: ignored. */
	mb_init(&b, "example.com.");
	mb_rr(&b, SEC_UPD, DNS_CLASS_IN, "www 60 CNAME elsewhere");
	mb_rr(&b, SEC_UPD, DNS_CLASS_IN, "alias 60 A 198.18.0.7");
	mb_rr(&b, SEC_UPD, DNS_CLASS_IN, "alias 60 TXT \"x\"");
	assert_int_equal(run(mo, &b, &nops), DNS_RCODE_NOERROR);
	assert_int_equal(nops, 0);
	/* A CNAME replaces the CNAME. */
	mb_init(&b, "example.com.");
	mb_rr(&b, SEC_UPD, DNS_CLASS_IN, "alias 60 CNAME ns1");
	assert_int_equal(run(mo, &b, &nops), DNS_RCODE_NOERROR);
	assert_int_equal(nops, 1);
	assert_int_equal(model_has(mo, "alias.example.com.", DNS_T_CNAME, NULL), 1);
	assert_int_equal(model_has(mo, "alias.example.com.", DNS_T_CNAME, "ns1.example.com."), 1);
	/* Delete the name's data, then a CNAME fits, in one message. */
	mb_init(&b, "example.com.");
	mb_empty(&b, SEC_UPD, DNS_CLASS_ANY, "www.example.com.", DNS_T_ANY);
	mb_rr(&b, SEC_UPD, DNS_CLASS_IN, "www 60 CNAME alias");
	assert_int_equal(run(mo, &b, &nops), DNS_RCODE_NOERROR);
	assert_int_equal(nops, 3);
	assert_int_equal(model_has(mo, "www.example.com.", DNS_T_CNAME, NULL), 1);
	assert_int_equal(model_has(mo, "www.example.com.", DNS_T_A, NULL), 0);
	assert_int_equal(model_has(mo, "www.example.com.", DNS_T_TXT, NULL), 0);
	/* A CNAME on a new name. */
	mb_init(&b, "example.com.");
	mb_rr(&b, SEC_UPD, DNS_CLASS_IN, "new 60 CNAME www");
	mb_rr(&b, SEC_UPD, DNS_CLASS_IN, "new 60 A 198.18.0.3");
	assert_int_equal(run(mo, &b, &nops), DNS_RCODE_NOERROR);
	assert_int_equal(nops, 1);
	assert_int_equal(model_has(mo, "new.example.com.", DNS_T_A, NULL), 0);
	free(mo);
}


/*
 * The exchange kea-dhcp-ddns makes (RFC 4703 conflict resolution):
 * add when the name is free; when it is in use, replace only if the DHCID
 * there is the client's; remove only with a matching DHCID.
 */
static void test_kea_sequence(void **state)
{
	struct model *mo = model_new();
	struct mb b;
	const char *dhcid = "h.dyn 0 DHCID AAIBY2/AuCccgoJbsaxcQc9TUapptP69lOjxfNuVAA2kjEA=";
	const char *other = "h.dyn 0 DHCID AAIBxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxx";
	(void)state;

	/* 1. Add: prereq NXDOMAIN; add A and DHCID. */
	mb_init(&b, "example.com.");
	mb_empty(&b, SEC_PRE, DNS_CLASS_NONE, "h.dyn.example.com.", DNS_T_ANY);
	mb_rr(&b, SEC_UPD, DNS_CLASS_IN, "h.dyn 300 A 198.18.0.70");
	mb_rr(&b, SEC_UPD, DNS_CLASS_IN, "h.dyn 300 DHCID AAIBY2/AuCccgoJbsaxcQc9TUapptP69lOjxfNuVAA2kjEA=");
	assert_int_equal(run(mo, &b, NULL), DNS_RCODE_NOERROR);
	/* 2. The same client renews with a new address: the add fails YXDOMAIN ... */
	mb_init(&b, "example.com.");
	mb_empty(&b, SEC_PRE, DNS_CLASS_NONE, "h.dyn.example.com.", DNS_T_ANY);
	mb_rr(&b, SEC_UPD, DNS_CLASS_IN, "h.dyn 300 A 198.18.0.71");
	assert_int_equal(run(mo, &b, NULL), DNS_RCODE_YXDOMAIN);
	/* ... so it replaces under "the DHCID is mine". */
	mb_init(&b, "example.com.");
	mb_rr(&b, SEC_PRE, DNS_CLASS_IN, dhcid);
	mb_empty(&b, SEC_UPD, DNS_CLASS_ANY, "h.dyn.example.com.", DNS_T_A);
	mb_rr(&b, SEC_UPD, DNS_CLASS_IN, "h.dyn 300 A 198.18.0.71");
	assert_int_equal(run(mo, &b, NULL), DNS_RCODE_NOERROR);
	assert_int_equal(model_has(mo, "h.dyn.example.com.", DNS_T_A, NULL), 1);
	assert_int_equal(model_has(mo, "h.dyn.example.com.", DNS_T_A, "198.18.0.71"), 1);
	/* Another client with the same name: its DHCID does not match, nothing changes. */
	mb_init(&b, "example.com.");
	mb_rr(&b, SEC_PRE, DNS_CLASS_IN, other);
	mb_empty(&b, SEC_UPD, DNS_CLASS_ANY, "h.dyn.example.com.", DNS_T_A);
	mb_rr(&b, SEC_UPD, DNS_CLASS_IN, "h.dyn 300 A 198.18.0.99");
	assert_int_equal(run(mo, &b, NULL), DNS_RCODE_NXRRSET);
	assert_int_equal(model_has(mo, "h.dyn.example.com.", DNS_T_A, "198.18.0.71"), 1);
	/* 3. Remove: delete the A under the DHCID, then the DHCID when no address is left. */
	mb_init(&b, "example.com.");
	mb_rr(&b, SEC_PRE, DNS_CLASS_IN, dhcid);
	mb_rr(&b, SEC_UPD, DNS_CLASS_NONE, "h.dyn 0 A 198.18.0.71");
	assert_int_equal(run(mo, &b, NULL), DNS_RCODE_NOERROR);
	mb_init(&b, "example.com.");
	mb_rr(&b, SEC_PRE, DNS_CLASS_IN, dhcid);
	mb_empty(&b, SEC_PRE, DNS_CLASS_NONE, "h.dyn.example.com.", DNS_T_A);
	mb_empty(&b, SEC_PRE, DNS_CLASS_NONE, "h.dyn.example.com.", DNS_T_AAAA);
	mb_empty(&b, SEC_UPD, DNS_CLASS_ANY, "h.dyn.example.com.", DNS_T_DHCID);
	assert_int_equal(run(mo, &b, NULL), DNS_RCODE_NOERROR);
	assert_int_equal(model_has(mo, "h.dyn.example.com.", DNS_T_DHCID, NULL), 0);
	free(mo);
}

static void test_plan_ops(void **state)
{
	struct model *mo = model_new();
	struct upd_msg m;
	struct upd_plan p;
	struct upd_view v = { mo, view_rrsets, view_zone_of };
	struct mb b;
	uint8_t rc;
	(void)state;

	mb_init(&b, "example.com.");
	mb_rr(&b, SEC_UPD, DNS_CLASS_IN, "HOST 300 A 198.18.0.5");
	mb_rr(&b, SEC_UPD, DNS_CLASS_IN, "host 300 A 198.18.0.6");
	mb_empty(&b, SEC_UPD, DNS_CLASS_ANY, "www.example.com.", DNS_T_TXT);
	assert_int_equal(upd_parse(&m, b.buf, b.len, &rc), DDI_EOK);
	assert_int_equal(upd_evaluate(&m, &v, &p), DDI_EOK);
	assert_int_equal(p.rcode, DNS_RCODE_NOERROR);
	assert_int_equal(p.nops, 2);
	/* One replace per RRset, owner lower-case, zone given. */
	assert_int_equal(p.ops[0].kind, STORE_OP_RRSET_REPLACE);
	assert_true(dns_name_equal(p.ops[0].zone, wname("example.com.")));
	assert_memory_equal(p.ops[0].owner, "\x04host\x07" "example" "\x03" "com", 18);
	assert_int_equal(p.ops[0].type, DNS_T_A);
	assert_int_equal(p.ops[0].ttl, 300);
	assert_int_equal(p.ops[0].count, 2);
	assert_int_equal(p.ops[0].rdatas_len, 12);
	assert_memory_equal(p.ops[0].rdatas, "\x00\x04\xc6\x12\x00\x05\x00\x04\xc6\x12\x00\x06", 12);
	assert_int_equal(p.changes[0].old_count, 0);
	assert_int_equal(p.changes[0].new_count, 2);
	assert_int_equal(p.ops[1].type, DNS_T_TXT);
	assert_int_equal(p.ops[1].count, 0);
	assert_int_equal(p.changes[1].old_count, 1);
	assert_int_equal(p.changes[1].new_count, 0);
	/* Each name is read once through the view. */
	assert_int_equal(mo->reads, 2);
	upd_plan_free(&p);
	upd_msg_free(&m);
	free(mo);
}

/* ------------------------------------------------------------------------ */
/* Responses                                                                */
/* ------------------------------------------------------------------------ */

static void test_response(void **state)
{
	uint8_t out[512];
	int n;
	(void)state;

	n = upd_response(nsupdate_req, sizeof(nsupdate_req), DNS_RCODE_YXDOMAIN, out, sizeof(out));
	assert_int_equal(n, 12 + 13 + 4);
	assert_int_equal(dns_get16(out), 0x57a5);
	assert_int_equal(dns_get16(out + 2), DNS_QR | DNS_OP_UPDATE << 11 | DNS_RCODE_YXDOMAIN);
	assert_int_equal(dns_get16(out + 4), 1);
	assert_int_equal(dns_get16(out + 6), 0);
	assert_int_equal(dns_get16(out + 8), 0);
	assert_int_equal(dns_get16(out + 10), 0);
	assert_memory_equal(out + 12, nsupdate_req + 12, 17);
	assert_int_equal(upd_response(nsupdate_req, sizeof(nsupdate_req), 0, out, 28), DDI_ESPACE);
	assert_int_equal(upd_response(nsupdate_req, 11, 0, out, sizeof(out)), DDI_EMALF);
	/* In place. */
	uint8_t inplace[sizeof(nsupdate_req)];
	memcpy(inplace, nsupdate_req, sizeof(inplace));
	n = upd_response(inplace, sizeof(inplace), DNS_RCODE_NOERROR, inplace, sizeof(inplace));
	assert_int_equal(n, 29);
	assert_memory_equal(inplace, out, 2);
	/* A zone section that does not parse: the header alone. */
	uint8_t bad[14] = { 1, 2, 0x28, 0, 0, 1, 0, 0, 0, 0, 0, 0, 0xc0, 0x0c };
	n = upd_response(bad, sizeof(bad), DNS_RCODE_FORMERR, out, sizeof(out));
	assert_int_equal(n, 12);
	assert_int_equal(dns_get16(out + 4), 0);
	assert_int_equal(dns_get16(out + 2) & 0xf, DNS_RCODE_FORMERR);

	uint8_t name[DNS_NAME_MAXLEN];
	assert_int_equal(upd_zone_name(nsupdate_req, sizeof(nsupdate_req), name), DDI_EOK);
	assert_true(dns_name_equal(name, wname("example.com.")));
}

static void test_notify(void **state)
{
	/* kdig-style NOTIFY for example.com. SOA, with AA set by the primary. */
	static const uint8_t req[] = {
		0x12, 0x34, 0x24, 0x00, 0, 1, 0, 0, 0, 0, 0, 0,
		7, 'E', 'x', 'a', 'm', 'p', 'l', 'e', 3, 'c', 'o', 'm', 0, 0, 6, 0, 1,
	};
	uint8_t out[512], name[DNS_NAME_MAXLEN];
	int n;
	(void)state;

	assert_int_equal(upd_zone_name(req, sizeof(req), name), DDI_EOK);
	assert_true(dns_name_equal(name, wname("example.com.")));
	n = upd_notify_response(req, sizeof(req), true, out, sizeof(out));
	assert_int_equal(n, (int)sizeof(req));
	assert_int_equal(dns_get16(out), 0x1234);
	assert_int_equal(dns_get16(out + 2), DNS_QR | DNS_AA | DNS_OP_NOTIFY << 11);
	assert_int_equal(dns_get16(out + 4), 1);
	assert_memory_equal(out + 12, req + 12, sizeof(req) - 12);   /* case kept */
	n = upd_notify_response(req, sizeof(req), false, out, sizeof(out));
	assert_int_equal(dns_get16(out + 2) & 0xf, DNS_RCODE_NOTAUTH);
	/* Two questions: FORMERR, header only. */
	uint8_t two[sizeof(req)];
	memcpy(two, req, sizeof(two));
	dns_put16(two + 4, 2);
	n = upd_notify_response(two, sizeof(two), true, out, sizeof(out));
	assert_int_equal(n, 12);
	assert_int_equal(dns_get16(out + 2) & 0xf, DNS_RCODE_FORMERR);
	/* Not a NOTIFY. */
	memcpy(two, req, sizeof(two));
	two[2] = 0;
	n = upd_notify_response(two, sizeof(two), true, out, sizeof(out));
	assert_int_equal(dns_get16(out + 2) & 0xf, DNS_RCODE_FORMERR);
	assert_int_equal(upd_notify_response(req, sizeof(req), true, out, 20), DDI_ESPACE);
}


/* ------------------------------------------------------------------------ */
/* upd_serve: the whole path with TSIG, policy and a fake store             */
/* ------------------------------------------------------------------------ */

struct fake_server {
	struct model *mo;
	struct tsig_key keys[2];
	int nkeys;
	struct pol_set pol;
	int fail_commit;             /* error the "store" returns when applying */
	int commits, journals;
	char last_actor[256], last_journal[1024];
	enum upd_why last_why;
	bool secondary;              /* every zone is a secondary one (zone_secondary) */
};

static int fs_lookup(void *ctx, const uint8_t *name, struct tsig_key *out)
{
	struct fake_server *f = ctx;
	for (int i = 0; i < f->nkeys; i++)
		if (dns_name_equal(f->keys[i].name, name)) {
			*out = f->keys[i];
			return DDI_EOK;
		}
	return DDI_ENOENT;
}

struct addr_walk {
	int (*cb)(void *, const uint8_t *);
	void *cbctx;
};

static int fs_addresses(void *ctx, const uint8_t *owner, uint8_t family,
                        int (*cb)(void *cbctx, const uint8_t *addr), void *cbctx)
{
	struct model *m = ctx;
	uint16_t t = family == 4 ? DNS_T_A : DNS_T_AAAA;
	for (int i = 0; i < m->n; i++)
		if (m->rr[i].type == t && dns_name_equal(m->rr[i].owner, owner) && cb(cbctx, m->rr[i].rdata))
			return DDI_EOK;
	return DDI_EOK;
}

static int fs_owners(void *ctx, uint8_t family, const uint8_t *addr,
                     int (*cb)(void *cbctx, const uint8_t *owner), void *cbctx)
{
	struct model *m = ctx;
	uint16_t t = family == 4 ? DNS_T_A : DNS_T_AAAA;
	for (int i = 0; i < m->n; i++)
		if (m->rr[i].type == t && memcmp(m->rr[i].rdata, addr, m->rr[i].rdlen) == 0 &&
		    cb(cbctx, m->rr[i].owner))
			return DDI_EOK;
	return DDI_EOK;
}

static int fs_transact(void *ctx, const char *actor, upd_txn_fn fn, void *arg)
{
	struct fake_server *f = ctx;
	struct upd_view v = { f->mo, view_rrsets, view_zone_of };
	struct pol_view pv = { f->mo, fs_addresses, fs_owners };
	const struct store_op *ops;
	size_t nops;
	int r = fn(arg, &v, &pv, &ops, &nops);
	size_t ndata = 0;
	for (size_t i = 0; r == DDI_EOK && i < nops; i++)
		ndata += ops[i].kind != STORE_OP_DYN_REFRESH;
	if (r != DDI_EOK || ndata == 0)
		return r;
	if (f->fail_commit)
		return f->fail_commit;
	struct upd_plan p = { .nops = nops, .ops = (struct store_op *)ops };
	model_apply(f->mo, &p);
	f->commits++;
	snprintf(f->last_actor, sizeof(f->last_actor), "%s", actor);
	return DDI_EOK;
}

static void fs_journal(void *ctx, const struct upd_outcome *o)
{
	struct fake_server *f = ctx;
	f->journals++;
	f->last_why = o->why;
	snprintf(f->last_actor, sizeof(f->last_actor), "%s", o->actor);
	snprintf(f->last_journal, sizeof(f->last_journal), "%s", o->text);
}

static bool fs_zone_known(void *ctx, const uint8_t *apex)
{
	struct fake_server *f = ctx;
	for (int i = 0; i < f->mo->nzones; i++)
		if (dns_name_equal(f->mo->zones[i], apex))
			return true;
	return false;
}

static bool fs_zone_secondary(void *ctx, const uint8_t *apex)
{
	struct fake_server *f = ctx;
	return f->secondary && fs_zone_known(ctx, apex);
}

static struct pol_rule prule(const char *key, const char *text)
{
	struct pol_rule r;
	char copy[512], *argv[32], err[256], *save = NULL;
	int argc = 0;
	snprintf(copy, sizeof(copy), "%s", text);
	for (char *t = strtok_r(copy, " ", &save); t != NULL; t = strtok_r(NULL, " ", &save))
		argv[argc++] = t;
	if (pol_rule_from_argv(&r, key, argc, argv, err, sizeof(err)) != DDI_EOK)
		fail_msg("rule '%s': %s", text, err);
	return r;
}

#define NOW 1800000000u
static const uint8_t client4[4] = { 198, 18, 0, 100 };

static struct fake_server *fs_new(void)
{
	struct fake_server *f = calloc(1, sizeof(*f));
	assert_non_null(f);
	f->mo = model_new();
	assert_int_equal(tsig_key_parse(&f->keys[0],
		"hmac-sha256:dhcp-key:c2VjcmV0LXNlY3JldC1zZWNyZXQtc2VjcmV0LTMyYg=="), DDI_EOK);
	assert_int_equal(tsig_key_parse(&f->keys[1], "hmac-sha512:host1.example.com:Zm9vYmFyYmF6"), DDI_EOK);
	f->nkeys = 2;
	struct pol_rule r = prule("dhcp-key", "grant subdomain dyn.example.com. A AAAA DHCID TXT ANY --prefix 198.18.0.0/24 2001:2::/64");
	assert_int_equal(pol_set_add(&f->pol, &r), DDI_EOK);
	r = prule("host1.example.com", "grant self . A");
	assert_int_equal(pol_set_add(&f->pol, &r), DDI_EOK);
	r = prule(".", "grant name open.example.com. A --source 198.18.0.0/25");
	assert_int_equal(pol_set_add(&f->pol, &r), DDI_EOK);
	return f;
}

static void fs_free(struct fake_server *f)
{
	pol_set_free(&f->pol);
	free(f->mo);
	free(f);
}

/* Serve `b` (signed with key k at time `signed_at` when k != NULL); returns the rcode and checks framing. */
static uint8_t serve(struct fake_server *f, struct mb *b, const struct tsig_key *k, uint64_t signed_at,
                     const uint8_t *src, struct upd_outcome *o, uint8_t *resp, size_t *rlen,
                     uint8_t mac[TSIG_MAC_MAX], int *maclen)
{
	struct upd_server s = { f, fs_lookup, &f->pol, fs_transact, fs_journal, fs_zone_known,
	                        .zone_secondary = fs_zone_secondary };
	if (k != NULL) {
		int ml = tsig_sign(k, NULL, 0, b->buf, &b->len, sizeof(b->buf), signed_at, 300, mac);
		assert_true(ml > 0);
		*maclen = ml;
	}
	int n = upd_serve(&s, b->buf, b->len, 4, src, NOW, resp, 4096, o);
	assert_true(n >= 12);
	*rlen = (size_t)n;
	assert_int_equal(dns_get16(resp), dns_get16(b->buf));
	assert_true(dns_get16(resp + 2) & DNS_QR);
	return (uint8_t)(dns_get16(resp + 2) & 0xf);
}

static void test_serve_signed(void **state)
{
	struct fake_server *f = fs_new();
	struct mb b;
	struct upd_outcome o;
	struct tsig_rr rr;
	uint8_t resp[4096], mac[TSIG_MAC_MAX];
	size_t rlen;
	int ml;
	(void)state;

	/* Accepted: applied once, signed answer, journaled by the commit with key and source. */
	mb_init(&b, "example.com.");
	mb_empty(&b, SEC_PRE, DNS_CLASS_NONE, "h.dyn.example.com.", DNS_T_ANY);
	mb_rr(&b, SEC_UPD, DNS_CLASS_IN, "h.dyn 300 A 198.18.0.5");
	mb_rr(&b, SEC_UPD, DNS_CLASS_IN, "h.dyn 300 DHCID AAIBY2/AuCccgoJbsaxcQc9TUapptP69lOjxfNuVAA2kjEA=");
	assert_int_equal(serve(f, &b, &f->keys[0], NOW - 10, client4, &o, resp, &rlen, mac, &ml),
	                 DNS_RCODE_NOERROR);
	assert_int_equal(o.nops, 2);
	assert_int_equal(f->commits, 1);
	assert_int_equal(f->journals, 0);
	assert_string_equal(f->last_actor, "tsig:dhcp-key@198.18.0.100");
	assert_int_equal(model_has(f->mo, "h.dyn.example.com.", DNS_T_A, "198.18.0.5"), 1);
	assert_int_equal(model_has(f->mo, "h.dyn.example.com.", DNS_T_DHCID, NULL), 1);
	assert_int_equal(dns_get16(resp + 4), 1);          /* zone echoed */
	assert_int_equal(dns_get16(resp + 10), 1);         /* the TSIG */
	assert_int_equal(tsig_verify_response(&rr, &f->keys[0], mac, (uint16_t)ml, resp, rlen, NOW),
	                 TSIG_OK);

	/* The same again: the prerequisite fails, nothing changes, the refusal is journaled. */
	int before = f->mo->n;
	mb_init(&b, "example.com.");
	mb_empty(&b, SEC_PRE, DNS_CLASS_NONE, "h.dyn.example.com.", DNS_T_ANY);
	mb_rr(&b, SEC_UPD, DNS_CLASS_IN, "h.dyn 300 A 198.18.0.6");
	assert_int_equal(serve(f, &b, &f->keys[0], NOW, client4, &o, resp, &rlen, mac, &ml),
	                 DNS_RCODE_YXDOMAIN);
	assert_int_equal(f->mo->n, before);
	assert_int_equal(f->journals, 1);
	assert_string_equal(f->last_journal, "update example.com. YXDOMAIN: a prerequisite does not hold");
	assert_int_equal(tsig_verify_response(&rr, &f->keys[0], mac, (uint16_t)ml, resp, rlen, NOW),
	                 TSIG_OK);

	/* Outside the key's names: REFUSED, signed, journaled, nothing changed. */
	mb_init(&b, "example.com.");
	mb_rr(&b, SEC_UPD, DNS_CLASS_IN, "www 300 A 198.18.0.7");
	assert_int_equal(serve(f, &b, &f->keys[0], NOW, client4, &o, resp, &rlen, mac, &ml),
	                 DNS_RCODE_REFUSED);
	assert_int_equal(f->mo->n, before);
	assert_string_equal(f->last_journal, "update example.com. REFUSED: www.example.com.: no rule grants dhcp-key. A");
	assert_string_equal(f->last_actor, "tsig:dhcp-key@198.18.0.100");
	assert_int_equal(tsig_verify_response(&rr, &f->keys[0], mac, (uint16_t)ml, resp, rlen, NOW),
	                 TSIG_OK);
	/* A foreign subnet. */
	mb_init(&b, "example.com.");
	mb_rr(&b, SEC_UPD, DNS_CLASS_IN, "g.dyn 300 A 198.18.9.7");
	assert_int_equal(serve(f, &b, &f->keys[0], NOW, client4, &o, resp, &rlen, mac, &ml),
	                 DNS_RCODE_REFUSED);
	assert_int_equal(f->mo->n, before);
	/* An address another name holds (ns1's). */
	mb_init(&b, "example.com.");
	mb_rr(&b, SEC_UPD, DNS_CLASS_IN, "g.dyn 300 A 198.18.0.1");
	assert_int_equal(serve(f, &b, &f->keys[0], NOW, client4, &o, resp, &rlen, mac, &ml),
	                 DNS_RCODE_REFUSED);
	assert_string_equal(o.reason, "g.dyn.example.com.: address 198.18.0.1 is registered to ns1.example.com.");
	/* The self key: its own name only. */
	mb_init(&b, "example.com.");
	mb_rr(&b, SEC_UPD, DNS_CLASS_IN, "host1 60 A 198.18.0.50");
	assert_int_equal(serve(f, &b, &f->keys[1], NOW, client4, &o, resp, &rlen, mac, &ml),
	                 DNS_RCODE_NOERROR);
	mb_init(&b, "example.com.");
	mb_rr(&b, SEC_UPD, DNS_CLASS_IN, "host2 60 A 198.18.0.51");
	assert_int_equal(serve(f, &b, &f->keys[1], NOW, client4, &o, resp, &rlen, mac, &ml),
	                 DNS_RCODE_REFUSED);
	/* Zone not ours: NOTAUTH (the zone check comes before permissions). */
	mb_init(&b, "example.org.");
	mb_rr(&b, SEC_UPD, DNS_CLASS_IN, "h.example.org. 60 A 198.18.0.51");
	assert_int_equal(serve(f, &b, &f->keys[0], NOW, client4, &o, resp, &rlen, mac, &ml),
	                 DNS_RCODE_NOTAUTH);
	/* A secondary zone (RFC 2136 3.1): NOTAUTH, counted as notauth, nothing applied. */
	f->secondary = true;
	int commits = f->commits;
	mb_init(&b, "example.com.");
	mb_rr(&b, SEC_UPD, DNS_CLASS_IN, "s.dyn 60 A 198.18.0.53");
	assert_int_equal(serve(f, &b, &f->keys[0], NOW, client4, &o, resp, &rlen, mac, &ml),
	                 DNS_RCODE_NOTAUTH);
	assert_int_equal(f->last_why, UPD_WHY_NOTAUTH);
	assert_string_equal(o.reason, "a secondary zone: update its primary");
	assert_int_equal(f->commits, commits);
	f->secondary = false;
	/* The store refuses the result: REFUSED; the store fails: SERVFAIL. */
	f->fail_commit = DDI_ELIMIT;
	mb_init(&b, "example.com.");
	mb_rr(&b, SEC_UPD, DNS_CLASS_IN, "z.dyn 60 A 198.18.0.52");
	assert_int_equal(serve(f, &b, &f->keys[0], NOW, client4, &o, resp, &rlen, mac, &ml),
	                 DNS_RCODE_REFUSED);
	f->fail_commit = DDI_EIO;
	mb_init(&b, "example.com.");
	mb_rr(&b, SEC_UPD, DNS_CLASS_IN, "z.dyn 60 A 198.18.0.52");
	assert_int_equal(serve(f, &b, &f->keys[0], NOW, client4, &o, resp, &rlen, mac, &ml),
	                 DNS_RCODE_SERVFAIL);
	assert_int_equal(model_has(f->mo, "z.dyn.example.com.", DNS_T_A, NULL), 0);
	fs_free(f);
}

static void test_serve_tsig_failures(void **state)
{
	struct fake_server *f = fs_new();
	struct mb b;
	struct upd_outcome o;
	struct tsig_rr rr;
	uint8_t resp[4096], mac[TSIG_MAC_MAX];
	size_t rlen;
	int ml, before = f->mo->n;
	(void)state;

	/* Unknown key: NOTAUTH, TSIG error BADKEY, unsigned. */
	struct tsig_key stranger;
	assert_int_equal(tsig_key_parse(&stranger, "hmac-sha256:stranger:Zm9vYmFy"), DDI_EOK);
	mb_init(&b, "example.com.");
	mb_rr(&b, SEC_UPD, DNS_CLASS_IN, "h.dyn 300 A 198.18.0.5");
	assert_int_equal(serve(f, &b, &stranger, NOW, client4, &o, resp, &rlen, mac, &ml),
	                 DNS_RCODE_NOTAUTH);
	assert_int_equal(o.tsig, TSIG_BADKEY);
	assert_int_equal(tsig_verify_response(&rr, &stranger, mac, (uint16_t)ml, resp, rlen, NOW),
	                 TSIG_BADKEY);
	assert_int_equal(rr.mac_len, 0);
	assert_string_equal(f->last_journal, "update example.com. NOTAUTH: TSIG BADKEY");
	assert_string_equal(f->last_actor, "tsig:stranger@198.18.0.100");
	/* Right name, wrong secret: BADSIG. */
	struct tsig_key forged = f->keys[0];
	forged.secret[0] ^= 1;
	mb_init(&b, "example.com.");
	mb_rr(&b, SEC_UPD, DNS_CLASS_IN, "h.dyn 300 A 198.18.0.5");
	assert_int_equal(serve(f, &b, &forged, NOW, client4, &o, resp, &rlen, mac, &ml),
	                 DNS_RCODE_NOTAUTH);
	assert_int_equal(o.tsig, TSIG_BADSIG);
	assert_int_equal(tsig_verify_response(&rr, &f->keys[0], mac, (uint16_t)ml, resp, rlen, NOW),
	                 TSIG_BADSIG);
	/* Stale: BADTIME, signed, our time in Other Data. */
	mb_init(&b, "example.com.");
	mb_rr(&b, SEC_UPD, DNS_CLASS_IN, "h.dyn 300 A 198.18.0.5");
	assert_int_equal(serve(f, &b, &f->keys[0], NOW - 1000, client4, &o, resp, &rlen, mac, &ml),
	                 DNS_RCODE_NOTAUTH);
	assert_int_equal(o.tsig, TSIG_BADTIME);
	assert_int_equal(tsig_verify_response(&rr, &f->keys[0], mac, (uint16_t)ml, resp, rlen, NOW - 1000),
	                 TSIG_BADTIME);
	assert_int_equal(dns_get32(rr.other + 2), NOW);
	assert_int_equal(f->mo->n, before);
	assert_int_equal(f->commits, 0);
	assert_int_equal(f->journals, 3);
	fs_free(f);
}

static void test_serve_unsigned_and_misc(void **state)
{
	struct fake_server *f = fs_new();
	struct upd_server s = { f, fs_lookup, &f->pol, fs_transact, fs_journal, fs_zone_known };
	struct mb b;
	struct upd_outcome o;
	uint8_t resp[4096];
	size_t rlen;
	uint8_t far[4] = { 198, 18, 0, 200 };
	(void)state;

	/* Unsigned from the allowed source: only the granted name. */
	mb_init(&b, "example.com.");
	mb_rr(&b, SEC_UPD, DNS_CLASS_IN, "open 60 A 198.18.0.60");
	assert_int_equal(serve(f, &b, NULL, 0, client4, &o, resp, &rlen, NULL, NULL), DNS_RCODE_NOERROR);
	assert_false(o.is_signed);
	assert_int_equal(dns_get16(resp + 10), 0);
	assert_string_equal(f->last_actor, "unsigned@198.18.0.100");
	mb_init(&b, "example.com.");
	mb_rr(&b, SEC_UPD, DNS_CLASS_IN, "open 60 A 198.18.0.61");
	assert_int_equal(serve(f, &b, NULL, 0, far, &o, resp, &rlen, NULL, NULL), DNS_RCODE_REFUSED);
	assert_string_equal(o.reason, "unsigned updates are not allowed from here");
	mb_init(&b, "example.com.");
	mb_rr(&b, SEC_UPD, DNS_CLASS_IN, "closed 60 A 198.18.0.61");
	assert_int_equal(serve(f, &b, NULL, 0, client4, &o, resp, &rlen, NULL, NULL), DNS_RCODE_REFUSED);
	/* Without any policy nothing is allowed. */
	s.policy = NULL;
	mb_init(&b, "example.com.");
	mb_rr(&b, SEC_UPD, DNS_CLASS_IN, "open 60 A 198.18.0.62");
	int n = upd_serve(&s, b.buf, b.len, 4, client4, NOW, resp, sizeof(resp), &o);
	assert_true(n > 0);
	assert_int_equal(o.rcode, DNS_RCODE_REFUSED);
	s.policy = &f->pol;
	/* FORMERR and NOTZONE from the parse. */
	mb_init(&b, "example.com.");
	mb_put(&b, SEC_UPD, wname("a.example.com."), DNS_T_A, DNS_CLASS_CH, 5, NULL, 0);
	assert_int_equal(serve(f, &b, NULL, 0, client4, &o, resp, &rlen, NULL, NULL), DNS_RCODE_FORMERR);
	mb_init(&b, "example.com.");
	mb_rr(&b, SEC_UPD, DNS_CLASS_IN, "x.example.net. 60 A 198.18.0.1");
	assert_int_equal(serve(f, &b, NULL, 0, client4, &o, resp, &rlen, NULL, NULL), DNS_RCODE_NOTZONE);
	/* A QUERY is not ours: NOTIMP. A response gets no answer. */
	mb_init(&b, "example.com.");
	dns_put16(b.buf + 2, 0);
	assert_int_equal(serve(f, &b, NULL, 0, client4, &o, resp, &rlen, NULL, NULL), DNS_RCODE_NOTIMP);
	dns_put16(b.buf + 2, DNS_QR | DNS_OP_UPDATE << 11);
	assert_int_equal(upd_serve(&s, b.buf, b.len, 4, client4, NOW, resp, sizeof(resp), &o), 0);
	assert_int_equal(upd_serve(&s, b.buf, 5, 4, client4, NOW, resp, sizeof(resp), &o), 0);

	/* NOTIFY, signed: answered NOERROR with AA, signed. */
	uint8_t mac[TSIG_MAC_MAX];
	int ml;
	struct tsig_rr rr;
	mb_init(&b, "example.com.");
	dns_put16(b.buf + 2, DNS_OP_NOTIFY << 11 | DNS_AA);
	assert_int_equal(serve(f, &b, &f->keys[0], NOW, client4, &o, resp, &rlen, mac, &ml), DNS_RCODE_NOERROR);
	assert_true(dns_get16(resp + 2) & DNS_AA);
	assert_int_equal(DNS_OPCODE(dns_get16(resp + 2)), DNS_OP_NOTIFY);
	assert_int_equal(tsig_verify_response(&rr, &f->keys[0], mac, (uint16_t)ml, resp, rlen, NOW), TSIG_OK);
	mb_init(&b, "example.org.");
	dns_put16(b.buf + 2, DNS_OP_NOTIFY << 11);
	assert_int_equal(serve(f, &b, NULL, 0, client4, &o, resp, &rlen, NULL, NULL), DNS_RCODE_NOTAUTH);
	fs_free(f);
}

/*
 * Real clients against upd_serve on loopback: BIND's nsupdate and Knot's
 * knsupdate sign the request and check our signed answer, so exit status
 * 0 proves both directions of TSIG and the answer's shape. Skipped when
 * the tools are not installed. Every wait is bounded (10 s per client).
 */
static int64_t client_skew;   /* seconds added to our clock, to make a request stale */

static int run_client(struct fake_server *f, const char *tool, const char *keyarg,
                      const char *script_fmt, char *out, size_t outlen)
{
	struct upd_server s = { f, fs_lookup, &f->pol, fs_transact, fs_journal, fs_zone_known };
	struct sockaddr_in sa = { .sin_family = AF_INET, .sin_addr.s_addr = htonl(INADDR_LOOPBACK) };
	socklen_t sl = sizeof(sa);
	int sock = socket(AF_INET, SOCK_DGRAM, 0), in[2], err[2], status = -1;
	char script[1024];
	pid_t pid;

	assert_true(sock >= 0);
	assert_int_equal(bind(sock, (struct sockaddr *)&sa, sizeof(sa)), 0);
	assert_int_equal(getsockname(sock, (struct sockaddr *)&sa, &sl), 0);
	/* The one "%u" of the script is the port (not a printf format: -Wformat-nonliteral). */
	const char *pp = strstr(script_fmt, "%u");
	assert_non_null(pp);
	snprintf(script, sizeof(script), "%.*s%u%s", (int)(pp - script_fmt), script_fmt,
	         (unsigned)ntohs(sa.sin_port), pp + 2);
	assert_int_equal(pipe(in), 0);
	assert_int_equal(pipe(err), 0);
	pid = fork();
	assert_true(pid >= 0);
	if (pid == 0) {
		dup2(in[0], 0);
		dup2(err[1], 1);
		dup2(err[1], 2);
		close(in[1]);
		close(err[0]);
		execlp(tool, tool, "-t", "3", "-y", keyarg, (char *)NULL);
		_exit(127);
	}
	close(in[0]);
	close(err[1]);
	assert_int_equal(write(in[1], script, strlen(script)), (ssize_t)strlen(script));
	close(in[1]);
	fcntl(err[0], F_SETFL, O_NONBLOCK);
	size_t got = 0;
	for (int i = 0; i < 100; i++) {   /* 100 x 100 ms */
		struct pollfd pfd = { sock, POLLIN, 0 };
		if (poll(&pfd, 1, 100) == 1) {
			uint8_t req[65535], resp[4096];
			struct sockaddr_in from;
			socklen_t fl = sizeof(from);
			ssize_t n = recvfrom(sock, req, sizeof(req), 0, (struct sockaddr *)&from, &fl);
			assert_true(n > 0);
			int rl = upd_serve(&s, req, (size_t)n, 4, (const uint8_t *)&from.sin_addr,
			                   (uint64_t)(time(NULL) + client_skew), resp, sizeof(resp), NULL);
			if (rl > 0)
				sendto(sock, resp, (size_t)rl, 0, (struct sockaddr *)&from, fl);
		}
		ssize_t r = read(err[0], out + got, outlen - 1 - got);
		if (r > 0)
			got += (size_t)r;
		if (waitpid(pid, &status, WNOHANG) == pid)
			break;
		status = -1;
	}
	if (status == -1) {
		kill(pid, SIGKILL);
		waitpid(pid, &status, 0);
		status = -1;
	}
	ssize_t r;
	while ((r = read(err[0], out + got, outlen - 1 - got)) > 0)
		got += (size_t)r;
	out[got] = '\0';
	close(err[0]);
	close(sock);
	return status == -1 ? -1 : WIFEXITED(status) ? WEXITSTATUS(status) : -2;
}

static bool have_tool(const char *tool)
{
	char cmd[128];
	snprintf(cmd, sizeof(cmd), "command -v %s >/dev/null 2>&1", tool);
	return system(cmd) == 0;
}

static void test_serve_real_clients(void **state)
{
	struct fake_server *f;
	char out[4096];
	const char *key = "hmac-sha256:dhcp-key:c2VjcmV0LXNlY3JldC1zZWNyZXQtc2VjcmV0LTMyYg==";
	(void)state;

	if (!have_tool("nsupdate") || !have_tool("knsupdate"))
		skip();
	f = fs_new();
	/* nsupdate: an add that is granted, then one that is not. */
	int rc = run_client(f, "nsupdate", key,
		"server 127.0.0.1 %u\nzone example.com.\nprereq nxdomain n1.dyn.example.com.\n"
		"update add n1.dyn.example.com. 300 A 198.18.0.41\nsend\n", out, sizeof(out));
	if (rc != 0)
		fail_msg("nsupdate exit %d: %s", rc, out);
	assert_int_equal(model_has(f->mo, "n1.dyn.example.com.", DNS_T_A, "198.18.0.41"), 1);
	rc = run_client(f, "nsupdate", key,
		"server 127.0.0.1 %u\nzone example.com.\nupdate add www.example.com. 300 A 198.18.0.42\nsend\n",
		out, sizeof(out));
	assert_int_equal(rc, 2);
	assert_non_null(strstr(out, "REFUSED"));
	/* A prerequisite that fails: nsupdate reports the rcode. */
	rc = run_client(f, "nsupdate", key,
		"server 127.0.0.1 %u\nzone example.com.\nprereq nxdomain n1.dyn.example.com.\n"
		"update add n1.dyn.example.com. 300 A 198.18.0.43\nsend\n", out, sizeof(out));
	assert_int_equal(rc, 2);
	assert_non_null(strstr(out, "YXDOMAIN"));
	/* A wrong secret: NOTAUTH with BADSIG in an unsigned TSIG, as nsupdate expects it. */
	rc = run_client(f, "nsupdate", "hmac-sha256:dhcp-key:Zm9vYmFyYmF6",
		"server 127.0.0.1 %u\nzone example.com.\nupdate add n2.dyn.example.com. 300 A 198.18.0.44\nsend\n",
		out, sizeof(out));
	assert_int_equal(rc, 2);
	assert_non_null(strstr(out, "NOTAUTH(BADSIG)"));
	assert_int_equal(model_has(f->mo, "n2.dyn.example.com.", DNS_T_A, NULL), 0);
	/* Our clock an hour ahead: BADTIME, signed, which nsupdate verifies and reports. */
	client_skew = 3600;
	rc = run_client(f, "nsupdate", key,
		"server 127.0.0.1 %u\nzone example.com.\nupdate add n2.dyn.example.com. 300 A 198.18.0.44\nsend\n",
		out, sizeof(out));
	client_skew = 0;
	assert_int_equal(rc, 2);
	assert_non_null(strstr(out, "NOTAUTH(BADTIME)"));
	assert_int_equal(model_has(f->mo, "n2.dyn.example.com.", DNS_T_A, NULL), 0);
	/* knsupdate: delete and replace. */
	rc = run_client(f, "knsupdate", key,
		"server 127.0.0.1 %u\nzone example.com.\nupdate delete n1.dyn.example.com. A\n"
		"update add n1.dyn.example.com. 60 AAAA 2001:2::41\nsend\n", out, sizeof(out));
	if (rc != 0)
		fail_msg("knsupdate exit %d: %s", rc, out);
	assert_int_equal(model_has(f->mo, "n1.dyn.example.com.", DNS_T_A, NULL), 0);
	assert_int_equal(model_has(f->mo, "n1.dyn.example.com.", DNS_T_AAAA, "2001:2::41"), 1);
	fs_free(f);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_parse_nsupdate),
		cmocka_unit_test(test_parse_kinds),
		cmocka_unit_test(test_parse_compressed_rdata),
		cmocka_unit_test(test_parse_formerr),
		cmocka_unit_test(test_parse_notzone),
		cmocka_unit_test(test_zone_checks),
		cmocka_unit_test(test_prereqs),
		cmocka_unit_test(test_prereq_ent),
		cmocka_unit_test(test_add_and_delete),
		cmocka_unit_test(test_apex_rules),
		cmocka_unit_test(test_cname_rules),
		cmocka_unit_test(test_kea_sequence),
		cmocka_unit_test(test_plan_ops),
		cmocka_unit_test(test_response),
		cmocka_unit_test(test_notify),
		cmocka_unit_test(test_serve_signed),
		cmocka_unit_test(test_serve_tsig_failures),
		cmocka_unit_test(test_serve_unsigned_and_misc),
		cmocka_unit_test(test_serve_real_clients),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
