/* test_packet -- dataplane/packet.c on hand-made Ethernet frames: parse, classify, answer in place */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>
#include <urcu-qsbr.h>

#include "dataplane/packet.h"
#include "dns/name.h"
#include "dns/rdata.h"
#include "dns/wire.h"
#include "index/snapshot.h"

#define T_A 1
#define T_SOA 6

/* ------------------------------------------------------------------------ */
/* The index: zone t. with www.t. A 198.18.0.10                             */
/* ------------------------------------------------------------------------ */

static struct idx *ix;
static struct dp_service svc;
static struct answer_conf aconf = { .udp_max = DNS_EDNS_DEFAULT };

static const uint8_t SRV4[4] = { 198, 18, 0, 1 }, CLI4[4] = { 198, 18, 0, 2 };
static const uint8_t SRV6[16] = { 0x20, 0x01, 0, 2, [15] = 1 };
static const uint8_t CLI6[16] = { 0x20, 0x01, 0, 2, [15] = 2 };
static const uint8_t SRVMAC[6] = { 2, 0, 0, 0, 0, 1 }, CLIMAC[6] = { 2, 0, 0, 0, 0, 2 };

static void name(uint8_t out[DNS_NAME_MAXLEN], const char *s)
{
	assert_true(dns_name_from_str(out, s, strlen(s), NULL) > 0);
}

static int setup(void **state)
{
	(void)state;
	rcu_register_thread();
	ix = idx_new();
	assert_non_null(ix);
	struct idx_txn *t = idx_txn_begin(ix);
	assert_non_null(t);
	uint8_t apex[DNS_NAME_MAXLEN], www[DNS_NAME_MAXLEN];
	name(apex, "t.");
	name(www, "www.t.");
	assert_int_equal(idx_txn_zone_add(t, apex), 0);

	/* SOA: ns.t. h.t. 1 2 3 4 5 */
	uint8_t soa[128];
	size_t n = 2;
	uint8_t mn[DNS_NAME_MAXLEN];
	name(mn, "ns.t.");
	memcpy(soa + n, mn, dns_name_len(mn));
	n += dns_name_len(mn);
	name(mn, "h.t.");
	memcpy(soa + n, mn, dns_name_len(mn));
	n += dns_name_len(mn);
	for (uint32_t i = 1; i <= 5; i++, n += 4)
		dns_put32(soa + n, i);
	dns_put16(soa, (uint16_t)(n - 2));
	assert_int_equal(idx_txn_rrset_set(t, apex, T_SOA, 300, 1, soa, n), 0);
	uint8_t a[6] = { 0, 4, 198, 18, 0, 10 };
	assert_int_equal(idx_txn_rrset_set(t, www, T_A, 60, 1, a, sizeof(a)), 0);
	assert_int_equal(idx_txn_commit(t, 1), 0);

	memcpy(svc.v4[0], SRV4, 4);
	svc.n4 = 1;
	memcpy(svc.v6[0], SRV6, 16);
	svc.n6 = 1;
	return 0;
}

static int teardown(void **state)
{
	(void)state;
	rcu_thread_offline();
	idx_free(ix);
	rcu_thread_online();
	rcu_unregister_thread();
	return 0;
}

/* ------------------------------------------------------------------------ */
/* Frame building                                                           */
/* ------------------------------------------------------------------------ */

struct frame {
	uint8_t b[2048];
	size_t len;
	size_t l3;      /* offset of the IP header */
	size_t l4;      /* offset of the UDP header */
};

enum fr_kind { FR_V4, FR_V6 };

struct fr_opts {
	enum fr_kind kind;
	int vlans;              /* 0, 1 or 2 tags */
	int ip4_optwords;       /* IPv4 option words (IHL = 5 + this) */
	uint16_t dport;
	uint16_t sport;
	uint16_t opcode;
	bool qr;
	const char *qname;
	uint16_t qtype;
	const uint8_t *dst;     /* destination address, default the service address */
	size_t pad;             /* Ethernet trailer bytes after the IP datagram */
	bool no_csum;           /* IPv4: UDP checksum 0 */
	const uint8_t *cookie;  /* an OPT with this COOKIE option (cookie_len bytes) */
	size_t cookie_len;
	bool tsig;              /* a last additional record of type TSIG (empty: routing only) */
};

static uint16_t csum_of(const uint8_t *p, size_t n, uint32_t init)
{
	return (uint16_t)~dp_csum_fold(dp_csum_add(init, p, n));
}

/* Recompute the UDP checksum of the frame (after a test changed something). */
static void fix_udp_csum(struct frame *f, bool v6)
{
	uint8_t *ip = f->b + f->l3, *udp = f->b + f->l4;
	uint16_t ulen = dns_get16(udp + 4);
	uint32_t ps = (v6 ? dp_csum_add(0, ip + 8, 32) : dp_csum_add(0, ip + 12, 8)) + 17 + ulen;
	dns_put16(udp + 6, 0);
	uint16_t c = csum_of(udp, ulen, ps);
	dns_put16(udp + 6, c ? c : 0xffff);
}

static void build(struct frame *f, const struct fr_opts *o)
{
	memset(f, 0, sizeof(*f));
	uint8_t *p = f->b;
	memcpy(p, SRVMAC, 6);
	memcpy(p + 6, CLIMAC, 6);
	size_t off = 12;
	for (int i = 0; i < o->vlans; i++) {
		dns_put16(p + off, i == 0 && o->vlans == 2 ? 0x88a8 : 0x8100);
		dns_put16(p + off + 2, (uint16_t)(100 + i));
		off += 4;
	}
	dns_put16(p + off, o->kind == FR_V6 ? 0x86dd : 0x0800);
	off += 2;
	f->l3 = off;

	/* DNS message */
	uint8_t dns[512];
	size_t dl = 0;
	memset(dns, 0, sizeof(dns));
	dns_put16(dns, 0x1234);
	dns_put16(dns + 2, (uint16_t)((o->qr ? DNS_QR : 0) | (o->opcode << 11)));
	dns_put16(dns + 4, 1);
	dl = DNS_HDR_LEN;
	uint8_t qn[DNS_NAME_MAXLEN];
	name(qn, o->qname ? o->qname : "www.t.");
	memcpy(dns + dl, qn, dns_name_len(qn));
	dl += dns_name_len(qn);
	dns_put16(dns + dl, o->qtype ? o->qtype : T_A);
	dns_put16(dns + dl + 2, 1);
	dl += 4;
	if (o->cookie) {
		dns_put16(dns + 10, 1);
		dns[dl] = 0;                             /* OPT: root, 1232, rdlength */
		dns_put16(dns + dl + 1, 41);
		dns_put16(dns + dl + 3, 1232);
		dns_put16(dns + dl + 9, (uint16_t)(4 + o->cookie_len));
		dns_put16(dns + dl + 11, DNS_EDNS_OPT_COOKIE);
		dns_put16(dns + dl + 13, (uint16_t)o->cookie_len);
		memcpy(dns + dl + 15, o->cookie, o->cookie_len);
		dl += 15 + o->cookie_len;
	}
	if (o->tsig) {                               /* root owner, TSIG, ANY, TTL 0, no rdata */
		dns_put16(dns + 10, (uint16_t)(dns_get16(dns + 10) + 1));
		dns[dl] = 0;
		dns_put16(dns + dl + 1, 250);
		dns_put16(dns + dl + 3, 255);
		memset(dns + dl + 5, 0, 6);
		dl += 11;
	}

	size_t ihl = o->kind == FR_V6 ? 40 : 20 + 4 * (size_t)o->ip4_optwords;
	f->l4 = off + ihl;
	uint8_t *ip = p + off, *udp = p + f->l4;
	uint16_t ulen = (uint16_t)(8 + dl);
	dns_put16(udp, o->sport ? o->sport : 40000);
	dns_put16(udp + 2, o->dport ? o->dport : 53);
	dns_put16(udp + 4, ulen);
	memcpy(udp + 8, dns, dl);
	if (o->kind == FR_V6) {
		ip[0] = 0x60;
		dns_put16(ip + 4, ulen);
		ip[6] = 17;
		ip[7] = 64;
		memcpy(ip + 8, CLI6, 16);
		memcpy(ip + 24, o->dst ? o->dst : SRV6, 16);
	} else {
		ip[0] = (uint8_t)(0x40 | (ihl / 4));
		dns_put16(ip + 2, (uint16_t)(ihl + ulen));
		dns_put16(ip + 4, 77);
		ip[8] = 64;
		ip[9] = 17;
		memcpy(ip + 12, CLI4, 4);
		memcpy(ip + 16, o->dst ? o->dst : SRV4, 4);
		for (int i = 0; i < o->ip4_optwords; i++)
			ip[20 + 4 * i] = 1;          /* NOP options */
		dns_put16(ip + 10, csum_of(ip, ihl, 0));
	}
	f->len = f->l4 + ulen + o->pad;
	if (!o->no_csum)
		fix_udp_csum(f, o->kind == FR_V6);
}

static void fix_ip4_csum(struct frame *f)
{
	uint8_t *ip = f->b + f->l3;
	size_t ihl = (size_t)(ip[0] & 0xf) * 4;
	dns_put16(ip + 10, 0);
	dns_put16(ip + 10, csum_of(ip, ihl, 0));
}

static void run(struct frame *f, struct dp_result *r, bool all_opcodes)
{
	struct dp_pctx pc = { .svc = &svc, .conf = &aconf, .answer_all_opcodes = all_opcodes };
	const struct idx_version *v = idx_acquire(ix);
	dp_packet_process(&pc, v, f->b, f->len, sizeof(f->b), r);
	rcu_quiescent_state();
}

/* Check a response frame: MACs, addresses and ports swapped, lengths and checksums right. */
static void check_response(const struct frame *f, const struct dp_result *r, bool v6, size_t l3)
{
	const uint8_t *p = f->b;
	assert_int_equal(r->action, DP_ACT_TX);
	assert_memory_equal(p, CLIMAC, 6);
	assert_memory_equal(p + 6, SRVMAC, 6);
	assert_int_equal(r->l2_len, l3);
	const uint8_t *ip = p + l3;
	const uint8_t *udp;
	if (v6) {
		assert_int_equal(r->l3_len, 40);
		assert_memory_equal(ip + 8, SRV6, 16);
		assert_memory_equal(ip + 24, CLI6, 16);
		udp = ip + 40;
		assert_int_equal(dns_get16(ip + 4), dns_get16(udp + 4));
		uint32_t ps = dp_csum_add(0, ip + 8, 32) + 17 + dns_get16(udp + 4);
		assert_int_equal(dp_csum_fold(dp_csum_add(ps, udp, dns_get16(udp + 4))), 0xffff);
	} else {
		assert_int_equal(r->l3_len, 20);
		assert_int_equal(ip[0], 0x45);
		assert_memory_equal(ip + 12, SRV4, 4);
		assert_memory_equal(ip + 16, CLI4, 4);
		assert_int_equal(dp_csum_fold(dp_csum_add(0, ip, 20)), 0xffff);
		udp = ip + 20;
		assert_int_equal(dns_get16(ip + 2), 20 + dns_get16(udp + 4));
		uint32_t ps = dp_csum_add(0, ip + 12, 8) + 17 + dns_get16(udp + 4);
		assert_int_equal(dp_csum_fold(dp_csum_add(ps, udp, dns_get16(udp + 4))), 0xffff);
	}
	assert_int_equal(dns_get16(udp), 53);
	assert_int_equal(dns_get16(udp + 2), 40000);
	assert_int_equal(r->len, (size_t)(udp - p) + dns_get16(udp + 4));
	const uint8_t *dns = udp + 8;
	assert_int_equal(dns_get16(dns), 0x1234);
	assert_true(dns_get16(dns + 2) & DNS_QR);
}

/* The A record 198.18.0.10 is the last 4 bytes of a one-answer response. */
static void check_www_a(const struct frame *f, const struct dp_result *r)
{
	assert_int_equal(r->outcome, DP_OUT_NOERROR);
	assert_true(r->answered);
	assert_int_equal(r->qtype, DNS_T_A);
	assert_int_equal(dp_qtype_of(r->qtype), DP_Q_A);
	const uint8_t *end = f->b + r->len;
	const uint8_t want[4] = { 198, 18, 0, 10 };
	assert_memory_equal(end - 4, want, 4);
}

/* ------------------------------------------------------------------------ */
/* Tests                                                                    */
/* ------------------------------------------------------------------------ */

static void test_ipv4_answer(void **state)
{
	(void)state;
	struct frame f;
	struct dp_result r;
	build(&f, &(struct fr_opts){ .kind = FR_V4 });
	run(&f, &r, false);
	check_response(&f, &r, false, 14);
	check_www_a(&f, &r);
	const uint8_t *dns = f.b + 14 + 20 + 8;
	assert_int_equal(dns_get16(dns + 6), 1);           /* ANCOUNT */
	assert_true(dns_get16(dns + 2) & DNS_AA);
	assert_int_equal(f.b[14 + 8], 64);                /* TTL */
	assert_false(r.truncated);
}

static void test_ipv4_options(void **state)
{
	(void)state;
	struct frame f;
	struct dp_result r;
	build(&f, &(struct fr_opts){ .kind = FR_V4, .ip4_optwords = 3 });
	run(&f, &r, false);
	check_response(&f, &r, false, 14);     /* options gone: IHL 5 */
	check_www_a(&f, &r);
}

static void test_vlan(void **state)
{
	(void)state;
	struct frame f;
	struct dp_result r;
	build(&f, &(struct fr_opts){ .kind = FR_V4, .vlans = 1 });
	run(&f, &r, false);
	check_response(&f, &r, false, 18);
	assert_int_equal(dns_get16(f.b + 12), 0x8100);
	assert_int_equal(dns_get16(f.b + 14), 100);
	check_www_a(&f, &r);

	build(&f, &(struct fr_opts){ .kind = FR_V6, .vlans = 2 });
	run(&f, &r, false);
	check_response(&f, &r, true, 22);
	assert_int_equal(dns_get16(f.b + 12), 0x88a8);
	assert_int_equal(dns_get16(f.b + 16), 0x8100);
	check_www_a(&f, &r);
}

static void test_ipv6_answer(void **state)
{
	(void)state;
	struct frame f;
	struct dp_result r;
	build(&f, &(struct fr_opts){ .kind = FR_V6 });
	run(&f, &r, false);
	check_response(&f, &r, true, 14);
	check_www_a(&f, &r);
	assert_true(r.ipv6);
	assert_int_equal(f.b[14 + 7], 64);
}

static void test_padding_and_no_checksum(void **state)
{
	(void)state;
	struct frame f;
	struct dp_result r;
	/* Ethernet padding after the datagram is ignored; IPv4 UDP checksum 0 is "none". */
	build(&f, &(struct fr_opts){ .kind = FR_V4, .pad = 20, .no_csum = true });
	run(&f, &r, false);
	check_response(&f, &r, false, 14);
	check_www_a(&f, &r);
}

static void test_outcomes(void **state)
{
	(void)state;
	struct frame f;
	struct dp_result r;
	build(&f, &(struct fr_opts){ .kind = FR_V4, .qname = "nope.t." });
	run(&f, &r, false);
	check_response(&f, &r, false, 14);
	assert_int_equal(r.outcome, DP_OUT_NXDOMAIN);
	assert_int_equal(DNS_RCODE(dns_get16(f.b + 14 + 28 + 2)), DNS_RCODE_NXDOMAIN);

	build(&f, &(struct fr_opts){ .kind = FR_V6, .qname = "www.other." });
	run(&f, &r, false);
	check_response(&f, &r, true, 14);
	assert_int_equal(r.outcome, DP_OUT_REFUSED);

	build(&f, &(struct fr_opts){ .kind = FR_V4, .qtype = 28 });
	run(&f, &r, false);
	assert_int_equal(r.outcome, DP_OUT_NODATA);

	/* A response (QR set) is never answered (RFC 1035 4.1.1). */
	build(&f, &(struct fr_opts){ .kind = FR_V4, .qr = true });
	run(&f, &r, false);
	assert_int_equal(r.action, DP_ACT_DROP);
	assert_int_equal(r.outcome, DP_OUT_NO_ANSWER);
}

static void test_opcode_to_control(void **state)
{
	(void)state;
	struct frame f;
	struct dp_result r;
	build(&f, &(struct fr_opts){ .kind = FR_V4, .opcode = DNS_OP_NOTIFY, .ip4_optwords = 1 });
	size_t before = f.len;
	run(&f, &r, false);
	assert_int_equal(r.action, DP_ACT_CONTROL);
	assert_int_equal(r.outcome, DP_OUT_TO_CONTROL);
	assert_int_equal(r.len, before - 4);    /* options already dropped */
	/* The control lcore runs the same frame again and answers NOTIMP. */
	f.len = r.len;
	run(&f, &r, true);
	check_response(&f, &r, false, 14);
	assert_int_equal(r.outcome, DP_OUT_NOTIMP);
	assert_int_equal(DNS_RCODE(dns_get16(f.b + 14 + 28 + 2)), DNS_RCODE_NOTIMP);
	assert_int_equal(DNS_OPCODE(dns_get16(f.b + 14 + 28 + 2)), DNS_OP_NOTIFY);
}

/*
 * The DDNS hand-off: a worker hands an UPDATE over, the control lcore (with
 * a DDNS thread) only classifies it, leaving the frame as it was; the DDNS
 * side parses it again, finds the payload and the client, writes an answer
 * there and turns the frame into the response.
 */
static void handoff(enum fr_kind kind, uint16_t opcode, int optwords, int vlans)
{
	struct frame f;
	struct dp_result r;
	struct dp_frame df;
	bool v6 = kind == FR_V6;
	size_t l2 = 14 + 4 * (size_t)vlans;
	build(&f, &(struct fr_opts){ .kind = kind, .opcode = opcode, .ip4_optwords = optwords,
	                              .vlans = vlans, .pad = 6 });
	run(&f, &r, false);
	assert_int_equal(r.action, DP_ACT_CONTROL);
	f.len = r.len;                         /* options and padding gone, as the worker sets it */

	struct dp_pctx pc = { .svc = &svc, .conf = &aconf, .answer_all_opcodes = true, .ddns = true };
	uint8_t before[sizeof(f.b)];
	memcpy(before, f.b, f.len);
	const struct idx_version *v = idx_acquire(ix);
	dp_packet_process(&pc, v, f.b, f.len, sizeof(f.b), &r);
	assert_int_equal(r.action, DP_ACT_DDNS);
	assert_int_equal(r.outcome, DP_OUT_TO_DDNS);
	assert_int_equal(r.len, f.len);
	assert_memory_equal(f.b, before, f.len);   /* classified only: nothing rewritten */

	/* the DDNS thread's side */
	assert_int_equal(dp_packet_parse(&pc, f.b, f.len, sizeof(f.b), &df, &r), 0);
	assert_int_equal(df.v6, v6);
	assert_int_equal(df.dns_off, l2 + (v6 ? 40 : 20) + 8);
	assert_ptr_equal(df.dns, f.b + df.dns_off);
	assert_int_equal(df.dns_off + df.dns_len, f.len);
	assert_memory_equal(dp_frame_source(&df), v6 ? CLI6 : CLI4, v6 ? 16 : 4);
	assert_int_equal(DNS_OPCODE(dns_get16(df.dns + 2)), opcode);

	/* an answer of 12 bytes: the header, QR set, NOERROR */
	dns_put16(df.dns + 2, (uint16_t)(DNS_QR | opcode << 11));
	memset(df.dns + 4, 0, 8);
	struct dp_result rr = { 0 };
	assert_int_equal(dp_packet_reply(&pc, &df, DNS_HDR_LEN, &rr), 0);
	rr.l2_len = (uint16_t)l2;
	rr.l3_len = v6 ? 40 : 20;
	check_response(&f, &rr, v6, l2);
	assert_int_equal(rr.len, df.dns_off + DNS_HDR_LEN);
	rcu_quiescent_state();
}

/*
 * A TSIG-signed QUERY (control/ddns/query.h): the worker hands it to the
 * control lcore, which (with a DDNS thread) classifies it for the DDNS
 * thread, frame unchanged; without one it answers as before. Unsigned
 * queries and signed non-QUERY messages are routed as before.
 */
static void test_signed_route(void **state)
{
	struct frame f;
	struct dp_result r;
	const struct idx_version *v = idx_acquire(ix);
	(void)state;
	struct dp_pctx worker = { .svc = &svc, .conf = &aconf };
	struct dp_pctx ctl = { .svc = &svc, .conf = &aconf, .answer_all_opcodes = true, .ddns = true };
	struct dp_pctx ctl_alone = { .svc = &svc, .conf = &aconf, .answer_all_opcodes = true };
	const struct fr_opts sq[] = { { .kind = FR_V4, .tsig = true }, { .kind = FR_V6, .tsig = true },
	                              { .kind = FR_V4, .tsig = true, .cookie = (const uint8_t *)"12345678",
	                                .cookie_len = 8 } };
	for (size_t i = 0; i < sizeof(sq) / sizeof(sq[0]); i++) {
		build(&f, &sq[i]);
		uint8_t before[sizeof(f.b)];
		size_t len = f.len;
		memcpy(before, f.b, f.len);
		dp_packet_process(&worker, v, f.b, f.len, sizeof(f.b), &r);
		assert_int_equal(r.action, DP_ACT_CONTROL);
		assert_int_equal(r.outcome, DP_OUT_TO_CONTROL);
		dp_packet_process(&ctl, v, f.b, f.len, sizeof(f.b), &r);
		assert_int_equal(r.action, DP_ACT_DDNS);
		assert_int_equal(r.outcome, DP_OUT_SIGNED_TO_DDNS);
		assert_int_equal(r.len, len);
		assert_memory_equal(f.b, before, len);    /* classified only */
		dp_packet_process(&ctl_alone, v, f.b, f.len, sizeof(f.b), &r);
		assert_int_equal(r.action, DP_ACT_TX);     /* no DDNS thread: answered, unsigned */
	}
	/* unsigned: the worker answers */
	build(&f, &(struct fr_opts){ .kind = FR_V4 });
	dp_packet_process(&worker, v, f.b, f.len, sizeof(f.b), &r);
	assert_int_equal(r.action, DP_ACT_TX);
	/* a signed NOTIFY goes the way of NOTIFY, counted as such */
	build(&f, &(struct fr_opts){ .kind = FR_V4, .opcode = DNS_OP_NOTIFY, .tsig = true });
	dp_packet_process(&ctl, v, f.b, f.len, sizeof(f.b), &r);
	assert_int_equal(r.action, DP_ACT_DDNS);
	assert_int_equal(r.outcome, DP_OUT_TO_DDNS);
	rcu_quiescent_state();
}

/*
 * GSS-TSIG on (pctx.tkey): a TKEY query goes the way of an UPDATE, worker
 * to control lcore to DDNS thread; off, and for every other query, it is
 * answered where it arrived.
 */
static void test_tkey_route(void **state)
{
	struct frame f;
	struct dp_result r;
	static const uint8_t ck[8] = { 1, 2, 3, 4, 5, 6, 7, 8 };
	const struct fr_opts tkey = { .kind = FR_V4, .qtype = 249, .cookie = ck, .cookie_len = 8 };
	const struct idx_version *v = idx_acquire(ix);
	(void)state;
	struct dp_pctx worker = { .svc = &svc, .conf = &aconf };
	struct dp_pctx ctl = { .svc = &svc, .conf = &aconf, .answer_all_opcodes = true, .ddns = true };

	build(&f, &tkey);
	dp_packet_process(&worker, v, f.b, f.len, sizeof(f.b), &r);
	assert_int_equal(r.action, DP_ACT_TX);          /* off: answered like any query */
	worker.tkey = ctl.tkey = true;
	build(&f, &tkey);
	dp_packet_process(&worker, v, f.b, f.len, sizeof(f.b), &r);
	assert_int_equal(r.action, DP_ACT_CONTROL);
	assert_int_equal(r.outcome, DP_OUT_TO_CONTROL);
	dp_packet_process(&ctl, v, f.b, f.len, sizeof(f.b), &r);
	assert_int_equal(r.action, DP_ACT_DDNS);
	assert_int_equal(r.outcome, DP_OUT_TO_DDNS);
	/* on, other queries are answered by the worker: an A query, a TKEY question with no record */
	build(&f, &(struct fr_opts){ .kind = FR_V4, .cookie = ck, .cookie_len = 8 });
	dp_packet_process(&worker, v, f.b, f.len, sizeof(f.b), &r);
	assert_int_equal(r.action, DP_ACT_TX);
	build(&f, &(struct fr_opts){ .kind = FR_V6, .qtype = 249 });
	dp_packet_process(&worker, v, f.b, f.len, sizeof(f.b), &r);
	assert_int_equal(r.action, DP_ACT_TX);
	rcu_quiescent_state();
}

static void test_ddns_handoff(void **state)
{
	(void)state;
	handoff(FR_V4, DNS_OP_UPDATE, 0, 0);
	handoff(FR_V4, DNS_OP_UPDATE, 2, 1);       /* options dropped by the worker, VLAN kept */
	handoff(FR_V6, DNS_OP_NOTIFY, 0, 2);

	/* No answer (n 0, or more than fits): dropped, frame unchanged. */
	struct frame f;
	struct dp_result r;
	struct dp_frame df;
	struct dp_pctx pc = { .svc = &svc, .conf = &aconf, .answer_all_opcodes = true, .ddns = true };
	build(&f, &(struct fr_opts){ .kind = FR_V4, .opcode = DNS_OP_UPDATE });
	assert_int_equal(dp_packet_parse(&pc, f.b, f.len, sizeof(f.b), &df, &r), 0);
	uint8_t before[sizeof(f.b)];
	memcpy(before, f.b, f.len);
	assert_int_equal(dp_packet_reply(&pc, &df, 0, &r), -1);
	assert_int_equal(r.action, DP_ACT_DROP);
	assert_int_equal(r.outcome, DP_OUT_NO_ANSWER);
	assert_int_equal(dp_packet_reply(&pc, &df, sizeof(f.b), &r), -1);
	assert_memory_equal(f.b, before, f.len);

	/* An UPDATE response (QR set) is no hand-off: dropped like any response. */
	build(&f, &(struct fr_opts){ .kind = FR_V4, .opcode = DNS_OP_UPDATE, .qr = true });
	const struct idx_version *v = idx_acquire(ix);
	dp_packet_process(&pc, v, f.b, f.len, sizeof(f.b), &r);
	assert_int_equal(r.action, DP_ACT_DROP);
	assert_int_equal(r.outcome, DP_OUT_NO_ANSWER);

	/* Without a DDNS thread the control lcore answers NOTIMP, as for other opcodes. */
	pc.ddns = false;
	build(&f, &(struct fr_opts){ .kind = FR_V4, .opcode = DNS_OP_UPDATE });
	dp_packet_process(&pc, v, f.b, f.len, sizeof(f.b), &r);
	check_response(&f, &r, false, 14);
	assert_int_equal(r.outcome, DP_OUT_NOTIMP);
	rcu_quiescent_state();
}

static void test_exceptions(void **state)
{
	(void)state;
	struct frame f;
	struct dp_result r;

	/* IPv4 fragments: first (MF) and later (offset) */
	build(&f, &(struct fr_opts){ .kind = FR_V4 });
	dns_put16(f.b + 14 + 6, 0x2000);
	fix_ip4_csum(&f);
	run(&f, &r, false);
	assert_int_equal(r.action, DP_ACT_EXCEPTION);
	assert_int_equal(r.outcome, DP_OUT_EXC_FRAGMENT);
	build(&f, &(struct fr_opts){ .kind = FR_V4 });
	dns_put16(f.b + 14 + 6, 0x0010);
	fix_ip4_csum(&f);
	run(&f, &r, false);
	assert_int_equal(r.outcome, DP_OUT_EXC_FRAGMENT);

	/* IPv6 fragment header, hop-by-hop options */
	build(&f, &(struct fr_opts){ .kind = FR_V6 });
	f.b[14 + 6] = 44;
	run(&f, &r, false);
	assert_int_equal(r.action, DP_ACT_EXCEPTION);
	assert_int_equal(r.outcome, DP_OUT_EXC_FRAGMENT);
	f.b[14 + 6] = 0;
	run(&f, &r, false);
	assert_int_equal(r.outcome, DP_OUT_EXC_IPV6_EXT);
	f.b[14 + 6] = 58;
	run(&f, &r, false);
	assert_int_equal(r.outcome, DP_OUT_EXC_ICMP);

	/* ICMP, TCP */
	build(&f, &(struct fr_opts){ .kind = FR_V4 });
	f.b[14 + 9] = 1;
	fix_ip4_csum(&f);
	run(&f, &r, false);
	assert_int_equal(r.outcome, DP_OUT_EXC_ICMP);
	f.b[14 + 9] = 6;
	fix_ip4_csum(&f);
	run(&f, &r, false);
	assert_int_equal(r.outcome, DP_OUT_EXC_TCP);

	/* UDP to another port, to another address */
	build(&f, &(struct fr_opts){ .kind = FR_V4, .dport = 5353 });
	run(&f, &r, false);
	assert_int_equal(r.action, DP_ACT_EXCEPTION);
	assert_int_equal(r.outcome, DP_OUT_EXC_OTHER);
	const uint8_t other[4] = { 198, 18, 0, 99 };
	build(&f, &(struct fr_opts){ .kind = FR_V4, .dst = other });
	run(&f, &r, false);
	assert_int_equal(r.outcome, DP_OUT_NOT_FOR_US);
	build(&f, &(struct fr_opts){ .kind = FR_V6, .dst = CLI6 });
	run(&f, &r, false);
	assert_int_equal(r.outcome, DP_OUT_NOT_FOR_US);

	/* ARP and an unknown ethertype */
	memset(&f, 0, sizeof(f));
	dns_put16(f.b + 12, 0x0806);
	f.len = 60;
	run(&f, &r, false);
	assert_int_equal(r.action, DP_ACT_EXCEPTION);
	assert_int_equal(r.outcome, DP_OUT_EXC_ARP);
	dns_put16(f.b + 12, 0x88cc);
	run(&f, &r, false);
	assert_int_equal(r.outcome, DP_OUT_EXC_OTHER);
}

static void test_malformed(void **state)
{
	(void)state;
	struct frame f;
	struct dp_result r;

	/* Bad UDP checksum, v4 and v6; IPv6 checksum 0 */
	build(&f, &(struct fr_opts){ .kind = FR_V4 });
	f.b[f.l4 + 6] ^= 0x55;
	run(&f, &r, false);
	assert_int_equal(r.action, DP_ACT_DROP);
	assert_int_equal(r.outcome, DP_OUT_MALF_CHECKSUM);
	build(&f, &(struct fr_opts){ .kind = FR_V6 });
	f.b[f.len - 1] ^= 1;
	run(&f, &r, false);
	assert_int_equal(r.outcome, DP_OUT_MALF_CHECKSUM);
	build(&f, &(struct fr_opts){ .kind = FR_V6 });
	dns_put16(f.b + f.l4 + 6, 0);
	run(&f, &r, false);
	assert_int_equal(r.outcome, DP_OUT_MALF_CHECKSUM);

	/* Bad IPv4 header checksum */
	build(&f, &(struct fr_opts){ .kind = FR_V4 });
	f.b[14 + 8] = 3;
	run(&f, &r, false);
	assert_int_equal(r.outcome, DP_OUT_MALF_CHECKSUM);

	/* UDP length larger, then smaller than the IP payload */
	build(&f, &(struct fr_opts){ .kind = FR_V4 });
	dns_put16(f.b + f.l4 + 4, (uint16_t)(dns_get16(f.b + f.l4 + 4) + 10));
	fix_udp_csum(&f, false);
	run(&f, &r, false);
	assert_int_equal(r.action, DP_ACT_DROP);
	assert_int_equal(r.outcome, DP_OUT_MALF_LENGTH);
	build(&f, &(struct fr_opts){ .kind = FR_V4 });
	dns_put16(f.b + f.l4 + 4, (uint16_t)(dns_get16(f.b + f.l4 + 4) - 1));
	run(&f, &r, false);
	assert_int_equal(r.outcome, DP_OUT_MALF_LENGTH);

	/* IP total length past the frame; frame cut inside the IP header / VLAN tag */
	build(&f, &(struct fr_opts){ .kind = FR_V4 });
	f.len -= 5;
	run(&f, &r, false);
	assert_int_equal(r.outcome, DP_OUT_MALF_LENGTH);
	build(&f, &(struct fr_opts){ .kind = FR_V6 });
	f.len = 14 + 30;
	run(&f, &r, false);
	assert_int_equal(r.outcome, DP_OUT_MALF_LENGTH);
	build(&f, &(struct fr_opts){ .kind = FR_V4, .vlans = 1 });
	f.len = 15;
	run(&f, &r, false);
	assert_int_equal(r.outcome, DP_OUT_MALF_LENGTH);
	f.len = 10;
	run(&f, &r, false);
	assert_int_equal(r.outcome, DP_OUT_MALF_LENGTH);

	/* IHL below 5 */
	build(&f, &(struct fr_opts){ .kind = FR_V4 });
	f.b[14] = 0x44;
	run(&f, &r, false);
	assert_int_equal(r.outcome, DP_OUT_MALF_LENGTH);

	/* DNS header cut short: 8 bytes of DNS */
	build(&f, &(struct fr_opts){ .kind = FR_V4 });
	uint16_t ul = 8 + 8;
	dns_put16(f.b + f.l4 + 4, ul);
	dns_put16(f.b + 14 + 2, (uint16_t)(20 + ul));
	fix_ip4_csum(&f);
	fix_udp_csum(&f, false);
	f.len = f.l4 + ul;
	run(&f, &r, false);
	assert_int_equal(r.action, DP_ACT_DROP);
	assert_int_equal(r.outcome, DP_OUT_MALF_DNS_HDR);

	/* Source port 0 */
	build(&f, &(struct fr_opts){ .kind = FR_V4 });
	dns_put16(f.b + f.l4, 0);
	fix_udp_csum(&f, false);
	run(&f, &r, false);
	assert_int_equal(r.outcome, DP_OUT_MALF_PORT);
}

static void test_tx_offload(void **state)
{
	(void)state;
	struct frame f;
	struct dp_result r;
	struct dp_pctx pc = { .svc = &svc, .conf = &aconf, .tx_ip4_cksum_offload = true,
	                      .tx_udp_cksum_offload = true };
	build(&f, &(struct fr_opts){ .kind = FR_V4 });
	dp_packet_process(&pc, idx_acquire(ix), f.b, f.len, sizeof(f.b), &r);
	rcu_quiescent_state();
	assert_int_equal(r.action, DP_ACT_TX);
	const uint8_t *ip = f.b + 14, *udp = ip + 20;
	assert_int_equal(dns_get16(ip + 10), 0);          /* left to the NIC */
	/* The UDP checksum field holds the pseudo-header sum, not complemented. */
	uint32_t ps = dp_csum_add(0, ip + 12, 8) + 17 + dns_get16(udp + 4);
	assert_int_equal(dns_get16(udp + 6), dp_csum_fold(ps));
}

static void test_counter_names(void **state)
{
	(void)state;
	for (int i = 0; i < DP_OUT__COUNT; i++)
		assert_non_null(dp_outcome_names[i]);
	dp_count(&dp_counters[3], DP_OUT_NXDOMAIN);
	dp_count(&dp_counters[5], DP_OUT_NXDOMAIN);
	struct dp_counters sum;
	dp_counters_sum(&sum);
	assert_int_equal(sum.v[DP_OUT_NXDOMAIN], 2);
}

/* ------------------------------------------------------------------------ */
/* Cookies and rate limiting after the answer                               */
/* ------------------------------------------------------------------------ */

static const uint8_t CLIENT_COOKIE[8] = { 1, 2, 3, 4, 5, 6, 7, 8 };

static void run_lc(struct frame *f, struct dp_result *r, struct dp_lcore *lc,
                   const struct dns_cookie_secrets *cs)
{
	struct answer_conf conf = aconf;
	conf.cookies = cs != NULL;
	struct dp_pctx pc = { .svc = &svc, .conf = &conf, .cookies = cs };
	dp_packet_process_lc(&pc, lc, idx_acquire(ix), f->b, f->len, sizeof(f->b), r);
	rcu_quiescent_state();
}

static bool also(const struct dp_result *r, enum dp_outcome o)
{
	for (unsigned i = 0; i < r->nalso; i++)
		if (r->also[i] == o)
			return true;
	return false;
}

/* The COOKIE option of a response frame (the last option of its last RR, the OPT), or NULL. */
static const uint8_t *resp_cookie(const struct frame *f, const struct dp_result *r, size_t *len)
{
	const uint8_t *end = f->b + r->len;
	const uint8_t *c = end - DNS_COOKIE_LEN;
	if (dns_get16(c - 4) != DNS_EDNS_OPT_COOKIE || dns_get16(c - 2) != DNS_COOKIE_LEN)
		return NULL;
	*len = DNS_COOKIE_LEN;
	return c;
}

static void test_cookies(void **state)
{
	(void)state;
	struct dns_cookie_secrets cs;
	uint8_t secret[16] = { 9 };
	dns_cookie_secrets_init(&cs, secret);
	struct dp_lcore lc = { .now_s = 1700000000 };
	struct frame f;
	struct dp_result r;
	size_t clen;
	uint8_t got[DNS_COOKIE_LEN];

	for (int v6 = 0; v6 < 2; v6++) {
		/* client cookie alone: the answer, then client cookie and a new server cookie */
		build(&f, &(struct fr_opts){ .kind = v6 ? FR_V6 : FR_V4, .cookie = CLIENT_COOKIE,
		                             .cookie_len = 8 });
		run_lc(&f, &r, &lc, &cs);
		check_response(&f, &r, v6, 14);
		assert_int_equal(r.outcome, DP_OUT_NOERROR);
		assert_true(also(&r, DP_OUT_COOKIE_NEW));
		const uint8_t *c = resp_cookie(&f, &r, &clen);
		assert_non_null(c);
		assert_memory_equal(c, CLIENT_COOKIE, 8);
		memcpy(got, c, sizeof(got));

		/* sent back: valid, echoed */
		build(&f, &(struct fr_opts){ .kind = v6 ? FR_V6 : FR_V4, .cookie = got,
		                             .cookie_len = 24 });
		run_lc(&f, &r, &lc, &cs);
		check_response(&f, &r, v6, 14);
		assert_true(also(&r, DP_OUT_COOKIE_VALID));
		c = resp_cookie(&f, &r, &clen);
		assert_non_null(c);
		assert_memory_equal(c, got, 24);

		/* forged: answered normally with a fresh cookie (RFC 7873 5.2.4) */
		got[23] ^= 1;
		build(&f, &(struct fr_opts){ .kind = v6 ? FR_V6 : FR_V4, .cookie = got,
		                             .cookie_len = 24 });
		run_lc(&f, &r, &lc, &cs);
		assert_int_equal(r.outcome, DP_OUT_NOERROR);
		assert_true(also(&r, DP_OUT_COOKIE_BAD));
		c = resp_cookie(&f, &r, &clen);
		assert_non_null(c);
		assert_memory_not_equal(c, got, 24);

		/* malformed: FORMERR, no cookie (RFC 7873 5.2.2) */
		build(&f, &(struct fr_opts){ .kind = v6 ? FR_V6 : FR_V4, .cookie = got,
		                             .cookie_len = 12 });
		run_lc(&f, &r, &lc, &cs);
		check_response(&f, &r, v6, 14);
		assert_int_equal(r.outcome, DP_OUT_FORMERR);
		assert_true(also(&r, DP_OUT_COOKIE_MALFORMED));
		assert_null(resp_cookie(&f, &r, &clen));
	}
	/* cookies off: the option is ignored, even a malformed one */
	build(&f, &(struct fr_opts){ .cookie = CLIENT_COOKIE, .cookie_len = 5 });
	run_lc(&f, &r, &lc, NULL);
	check_response(&f, &r, false, 14);
	assert_int_equal(r.outcome, DP_OUT_NOERROR);
	assert_int_equal(r.nalso, 0);
	assert_null(resp_cookie(&f, &r, &clen));
}

static void test_rrl(void **state)
{
	(void)state;
	struct rrl_conf rc;
	rrl_conf_init(&rc);
	rc.rate = 1;
	rc.slip = 2;
	rc.table_size = 64;
	struct dp_lcore lc = { .rrl = rrl_new(&rc, 42), .now_ms = 1000, .now_s = 1700000000 };
	struct dns_cookie_secrets cs;
	uint8_t secret[16] = { 3 };
	dns_cookie_secrets_init(&cs, secret);
	struct frame f;
	struct dp_result r;
	size_t clen;

	/* within the rate */
	build(&f, &(struct fr_opts){ .kind = FR_V4 });
	run_lc(&f, &r, &lc, NULL);
	check_response(&f, &r, false, 14);
	check_www_a(&f, &r);
	assert_true(also(&r, DP_OUT_RRL_PASSED));
	/* over it: dropped, then slipped (TC, no records), with the client's cookie */
	build(&f, &(struct fr_opts){ .kind = FR_V4 });
	run_lc(&f, &r, &lc, NULL);
	assert_int_equal(r.action, DP_ACT_DROP);
	assert_int_equal(r.outcome, DP_OUT_RRL_DROPPED);
	assert_false(r.truncated);
	build(&f, &(struct fr_opts){ .kind = FR_V4, .cookie = CLIENT_COOKIE, .cookie_len = 8 });
	run_lc(&f, &r, &lc, &cs);
	check_response(&f, &r, false, 14);
	assert_int_equal(r.outcome, DP_OUT_RRL_SLIPPED);
	assert_true(r.truncated);
	assert_true(also(&r, DP_OUT_COOKIE_NEW));
	const uint8_t *dns = f.b + 14 + 20 + 8;
	assert_true(dns_get16(dns + 2) & DNS_TC);
	assert_int_equal(dns_get16(dns + 6), 0);
	assert_int_equal(dns_get16(dns + 8), 0);
	assert_int_equal(dns_get16(dns + 10), 1);   /* the OPT */
	const uint8_t *c = resp_cookie(&f, &r, &clen);
	assert_non_null(c);
	struct dns_query q;
	assert_int_equal(dns_query_parse(&q, dns, r.len - 14 - 20 - 8), DNS_PARSE_DROP); /* QR */

	/* a valid server cookie proved the address: not limited */
	uint8_t valid[DNS_COOKIE_LEN];
	memcpy(valid, c, sizeof(valid));
	for (int i = 0; i < 3; i++) {
		build(&f, &(struct fr_opts){ .kind = FR_V4, .cookie = valid, .cookie_len = 24 });
		run_lc(&f, &r, &lc, &cs);
		assert_int_equal(r.outcome, DP_OUT_NOERROR);
		assert_true(also(&r, DP_OUT_RRL_EXEMPT));
		assert_true(also(&r, DP_OUT_COOKIE_VALID));
	}
	/* another kind has its own bucket; a second later the answer passes again */
	build(&f, &(struct fr_opts){ .kind = FR_V4, .qname = "nope.t." });
	run_lc(&f, &r, &lc, NULL);
	assert_int_equal(r.outcome, DP_OUT_NXDOMAIN);
	assert_true(also(&r, DP_OUT_RRL_PASSED));
	lc.now_ms += 1000;
	build(&f, &(struct fr_opts){ .kind = FR_V4 });
	run_lc(&f, &r, &lc, NULL);
	check_www_a(&f, &r);
	rrl_free(lc.rrl);
}

/*
 * dp_csum_add sums eight bytes at a time: against the RFC 1071 sum of
 * big-endian words byte by byte, on every length 0..200 (odd ones too), at
 * every alignment, with all-zero and all-ones data (the folds' edge cases)
 * and random bytes, with and without a pseudo-header sum in front.
 */
static uint32_t csum_ref(uint32_t sum, const uint8_t *p, size_t n)
{
	for (; n >= 2; p += 2, n -= 2)
		sum += (uint32_t)p[0] << 8 | p[1];
	if (n)
		sum += (uint32_t)p[0] << 8;
	return sum;
}

static void test_csum_oracle(void **state)
{
	(void)state;
	uint8_t buf[216];
	srandom(1624);
	for (int fill = 0; fill < 3; fill++) {
		for (size_t i = 0; i < sizeof(buf); i++)
			buf[i] = fill == 0 ? 0 : fill == 1 ? 0xff : (uint8_t)random();
		for (size_t n = 0; n <= 200; n++) {
			for (size_t a = 0; a < 8; a++) {
				uint32_t init = (n + a) % 3 == 0 ? 0 : (uint32_t)random() % 0x3ffff;
				uint32_t got = dp_csum_add(init, buf + a, n);
				assert_int_equal(dp_csum_fold(got), dp_csum_fold(csum_ref(init, buf + a, n)));
				assert_true(got <= init + 0xffff);
			}
		}
	}
	/* the largest datagrams: the 64-bit sum's carries folded back */
	static uint8_t big[65536];
	static const size_t sizes[] = { 1500, 9001, 65535 };
	for (int fill = 0; fill < 2; fill++) {
		for (size_t i = 0; i < sizeof(big); i++)
			big[i] = fill == 0 ? 0xff : (uint8_t)random();
		for (size_t k = 0; k < sizeof(sizes) / sizeof(sizes[0]); k++)
			assert_int_equal(dp_csum_fold(dp_csum_add(17, big + 1, sizes[k])),
			                 dp_csum_fold(csum_ref(17, big + 1, sizes[k]) % 0xffff + 0xffff));
	}
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_csum_oracle),
		cmocka_unit_test(test_ipv4_answer),
		cmocka_unit_test(test_ipv4_options),
		cmocka_unit_test(test_vlan),
		cmocka_unit_test(test_ipv6_answer),
		cmocka_unit_test(test_padding_and_no_checksum),
		cmocka_unit_test(test_outcomes),
		cmocka_unit_test(test_opcode_to_control),
		cmocka_unit_test(test_ddns_handoff),
		cmocka_unit_test(test_tkey_route),
		cmocka_unit_test(test_signed_route),
		cmocka_unit_test(test_exceptions),
		cmocka_unit_test(test_malformed),
		cmocka_unit_test(test_tx_offload),
		cmocka_unit_test(test_counter_names),
		cmocka_unit_test(test_cookies),
		cmocka_unit_test(test_rrl),
	};
	return cmocka_run_group_tests(tests, setup, teardown);
}
