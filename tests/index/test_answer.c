/* test_answer -- answer_message() on small zones: every outcome, flags, sections and sizes */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <cmocka.h>
#include <stdio.h>
#include <string.h>
#include <urcu-qsbr.h>

#include "dns/cookie.h"
#include "dns/errcode.h"
#include "dns/rdata.h"
#include "dns/wire.h"
#include "index/answer.h"
#include "tests/tools/testdns.h"

static const char *zone_com =
	"$TTL 3600\n"
	"@       IN SOA ns1.example.com. hostmaster.example.com. 2024010101 7200 3600 1209600 300\n"
	"@       IN NS  ns1\n"
	"@       IN NS  ns2.example.net.\n"
	"@       IN MX  10 mail\n"
	"@       IN MX  20 mail2.example.net.\n"
	"@       IN A   192.0.2.1\n"
	"@       IN TXT \"v=spf1 -all\"\n"
	"ns1     IN A   192.0.2.53\n"
	"mail    IN A   192.0.2.25\n"
	"mail    IN AAAA 2001:db8::25\n"
	"alt     300 IN A 192.0.2.25\n"
	"www     IN A   192.0.2.80\n"
	"www     IN AAAA 2001:db8::80\n"
	"alias   IN CNAME www\n"
	"chain1  IN CNAME chain2\n"
	"chain2  IN CNAME chain3\n"
	"chain3  IN CNAME www\n"
	"dangling IN CNAME nothere\n"
	"outside IN CNAME www.example.org.\n"
	"loop1   IN CNAME loop2\n"
	"loop2   IN CNAME loop1\n"
	"*.wild  IN A   192.0.2.100\n"
	"exists.wild IN A 192.0.2.101\n"
	"*.cwild IN CNAME www\n"
	"a.b.c.ent IN A 192.0.2.102\n"
	"_sip._udp IN SRV 10 60 5060 sip\n"
	"sip     IN A   192.0.2.60\n"
	"sub     IN NS  ns1.sub\n"
	"sub     IN NS  ns.example.net.\n"
	"ns1.sub IN A   192.0.2.54\n"
	"ns1.sub IN AAAA 2001:db8::54\n"
	"big     IN TXT \"0123456789012345678901234567890123456789012345678901234567890123456789012345678901234567890123456789\" \"0123456789012345678901234567890123456789012345678901234567890123456789012345678901234567890123456789\"\n"
	"big     IN TXT \"1123456789012345678901234567890123456789012345678901234567890123456789012345678901234567890123456789\" \"0123456789012345678901234567890123456789012345678901234567890123456789012345678901234567890123456789\"\n"
	"big     IN TXT \"2123456789012345678901234567890123456789012345678901234567890123456789012345678901234567890123456789\" \"0123456789012345678901234567890123456789012345678901234567890123456789012345678901234567890123456789\"\n"
	"multi   IN A 192.0.2.11\n"
	"multi   IN A 192.0.2.12\n"
	/* a delegation whose in-bailiwick glue cannot fit in 512 bytes (RFC 9471) */
	"fat IN NS a-long-name-server-name-number-01.fat\n"
	"fat IN NS a-long-name-server-name-number-02.fat\n"
	"fat IN NS a-long-name-server-name-number-03.fat\n"
	"fat IN NS a-long-name-server-name-number-04.fat\n"
	"fat IN NS a-long-name-server-name-number-05.fat\n"
	"fat IN NS a-long-name-server-name-number-06.fat\n"
	"a-long-name-server-name-number-01.fat IN AAAA 2001:db8::f1\n"
	"a-long-name-server-name-number-02.fat IN AAAA 2001:db8::f2\n"
	"a-long-name-server-name-number-03.fat IN AAAA 2001:db8::f3\n"
	"a-long-name-server-name-number-04.fat IN AAAA 2001:db8::f4\n"
	"a-long-name-server-name-number-05.fat IN AAAA 2001:db8::f5\n"
	"a-long-name-server-name-number-06.fat IN AAAA 2001:db8::f6\n";

/* RFC 4592 2.2.1, SOA and SRV rdata filled in */
static const char *zone_4592 =
	"example.                 3600 IN  SOA   ns.example.com. h.example.com. 1 2 3 4 5\n"
	"example.                 3600     NS    ns.example.com.\n"
	"example.                 3600     NS    ns.example.net.\n"
	"*.example.               3600     TXT   \"this is a wildcard\"\n"
	"*.example.               3600     MX    10 host1.example.\n"
	"sub.*.example.           3600     TXT   \"this is not a wildcard\"\n"
	"host1.example.           3600     A     192.0.2.1\n"
	"_ssh._tcp.host1.example. 3600     SRV   0 0 22 host1.example.\n"
	"_ssh._tcp.host2.example. 3600     SRV   0 0 22 host2.example.\n"
	"subdel.example.          3600     NS    ns.example.com.\n"
	"subdel.example.          3600     NS    ns.example.net.\n";

static const char *zone_rev4 =
	"$TTL 3600\n"
	"@   IN SOA ns1.example.com. hostmaster.example.com. 1 7200 3600 1209600 600\n"
	"@   IN NS  ns1.example.com.\n"
	"80  IN PTR explicit.example.com.\n"
	"200 IN PTR unowned.example.com.\n";

/* SOA TTL below its MINIMUM: the negative TTL is the SOA TTL */
static const char *zone_rev6 =
	"$TTL 1800\n"
	"@   60 IN SOA ns1.example.com. hostmaster.example.com. 7 7200 3600 1209600 900\n"
	"@   IN NS  ns1.example.com.\n";

static struct idx *ix;
static const struct idx_version *ver;
static struct td_msg m;
static struct answer_info info;
static struct answer_conf conf = { .udp_max = DNS_EDNS_DEFAULT };
static uint8_t qbuf[512];
static int qlen;
static uint8_t out[65536];

static int setup(void **state)
{
	(void)state;
	rcu_register_thread();
	ix = idx_new();
	assert_non_null(ix);
	struct idx_txn *t = idx_txn_begin(ix);
	assert_non_null(t);
	struct zf_error err = { 0 };
	struct { const char *origin, *text; } z[] = {
		{ "example.com.", zone_com },
		{ "example.", zone_4592 },
		{ "2.0.192.in-addr.arpa.", zone_rev4 },
		{ "8.b.d.0.1.0.0.2.ip6.arpa.", zone_rev6 },
	};
	for (size_t i = 0; i < sizeof(z) / sizeof(z[0]); i++) {
		int ret = td_load_string(t, z[i].origin, z[i].text, &err);
		if (ret != DDI_EOK)
			fprintf(stderr, "%s: line %u: %s\n", z[i].origin, err.line, err.msg);
		assert_int_equal(ret, DDI_EOK);
	}
	/* big.test.: an MX RRset of ~20 KB whose in-zone targets lie past 16 KB */
	static char bigz[64 * 1024];
	size_t bl = (size_t)snprintf(bigz, sizeof(bigz),
	                             "@ 3600 IN SOA ns.big.test. h.big.test. 1 2 3 4 5\n"
	                             "@ 3600 IN NS ns.example.net.\n"
	                             "zz-mail 3600 IN A 198.18.0.25\n");
	for (int i = 0; i < 400; i++)
		bl += (size_t)snprintf(bigz + bl, sizeof(bigz) - bl,
		                       "@ 3600 IN MX %d mail-exchanger-number-%03d.example.net.\n", i, i);
	bl += (size_t)snprintf(bigz + bl, sizeof(bigz) - bl, "@ 3600 IN MX 999 zz-mail\n");
	assert_true(bl < sizeof(bigz));
	assert_int_equal(td_load_string(t, "big.test.", bigz, &err), DDI_EOK);
	assert_int_equal(idx_txn_commit(t, 1), DDI_EOK);
	ver = idx_acquire(ix);
	return 0;
}

static int teardown(void **state)
{
	(void)state;
	idx_free(ix);
	rcu_unregister_thread();
	return 0;
}

/* Ask over `tr` with or without EDNS; the response is parsed into m. */
static size_t ask_full(const char *name, uint16_t type, uint8_t opcode, uint16_t edns,
                       uint8_t ver_, bool nsid, enum answer_transport tr)
{
	qlen = td_query(qbuf, sizeof(qbuf), 0x1234, name, type, DNS_CLASS_IN, opcode, DNS_RD, edns,
	                ver_, edns != 0, nsid);
	assert_true(qlen > 0);
	size_t len = answer_message(ver, &conf, tr, qbuf, (size_t)qlen, out, sizeof(out), &info);
	if (len > 0) {
		assert_int_equal(td_parse(&m, out, len), DDI_EOK);
		assert_int_equal(m.id, 0x1234);
		assert_true(m.flags & DNS_QR);
		assert_false(m.flags & DNS_RA);
		assert_int_equal(info.rcode, m.rcode);
		assert_int_equal(info.truncated, (m.flags & DNS_TC) != 0);
	}
	return len;
}

static size_t ask(const char *name, uint16_t type)
{
	return ask_full(name, type, DNS_OP_QUERY, 0, 0, false, ANSWER_UDP);
}

static size_t ask_edns(const char *name, uint16_t type, uint16_t size)
{
	return ask_full(name, type, DNS_OP_QUERY, size, 0, false, ANSWER_UDP);
}

/* rcode, AA, TC and the three section sizes (OPT excluded). */
static void expect(int rcode, bool aa, bool tc, int an, int ns, int ar)
{
	assert_int_equal(m.rcode, rcode);
	assert_int_equal((m.flags & DNS_AA) != 0, aa);
	assert_int_equal((m.flags & DNS_TC) != 0, tc);
	assert_int_equal(m.nrr[0], an);
	assert_int_equal(m.nrr[1], ns);
	assert_int_equal(m.nrr[2], ar);
}

/* Section s holds exactly this record (presentation, owner case as sent). */
static void expect_rr(int s, const char *text)
{
	char buf[4400];
	for (int i = 0; i < m.nrr[s]; i++) {
		assert_true(td_rr_str(buf, sizeof(buf), &m.rr[s][i], false) > 0);
		if (strcmp(buf, text) == 0)
			return;
	}
	for (int i = 0; i < m.nrr[s]; i++) {
		td_rr_str(buf, sizeof(buf), &m.rr[s][i], false);
		fprintf(stderr, "  section %d: %s\n", s, buf);
	}
	fail_msg("section %d lacks '%s'", s, text);
}

static const char *soa_com =
	"example.com. 300 IN SOA ns1.example.com. hostmaster.example.com. 2024010101 7200 3600 1209600 300";

static void test_a_hit(void **state)
{
	(void)state;
	assert_true(ask("www.example.com.", DNS_T_A) > 0);
	expect(DNS_RCODE_NOERROR, true, false, 1, 0, 0);
	expect_rr(0, "www.example.com. 3600 IN A 192.0.2.80");
	assert_int_equal(info.outcome, ANS_ANSWER);
	assert_int_equal(info.qtype, DNS_T_A);
	assert_false(m.has_opt);

	ask("www.example.com.", DNS_T_AAAA);
	expect(DNS_RCODE_NOERROR, true, false, 1, 0, 0);
	expect_rr(0, "www.example.com. 3600 IN AAAA 2001:db8::80");

	ask("multi.example.com.", DNS_T_A);
	expect(DNS_RCODE_NOERROR, true, false, 2, 0, 0);
	expect_rr(0, "multi.example.com. 3600 IN A 192.0.2.11");
	expect_rr(0, "multi.example.com. 3600 IN A 192.0.2.12");
}

static void test_case_echo(void **state)
{
	(void)state;
	assert_true(ask("WwW.ExAmPlE.CoM.", DNS_T_A) > 0);
	expect(DNS_RCODE_NOERROR, true, false, 1, 0, 0);
	/* question bytes as sent; the owner points at them */
	assert_memory_equal(out + DNS_HDR_LEN, qbuf + DNS_HDR_LEN, (size_t)qlen - DNS_HDR_LEN);
	expect_rr(0, "WwW.ExAmPlE.CoM. 3600 IN A 192.0.2.80");

	/* answered in place, in the query's own buffer */
	uint8_t buf[512];
	memcpy(buf, qbuf, (size_t)qlen);
	size_t len = answer_message(ver, &conf, ANSWER_UDP, buf, (size_t)qlen, buf, sizeof(buf), &info);
	assert_true(len > 0);
	assert_int_equal(td_parse(&m, buf, len), DDI_EOK);
	expect_rr(0, "WwW.ExAmPlE.CoM. 3600 IN A 192.0.2.80");
}

static void test_mx_additional(void **state)
{
	(void)state;
	ask("example.com.", DNS_T_MX);
	expect(DNS_RCODE_NOERROR, true, false, 2, 0, 2);
	expect_rr(0, "example.com. 3600 IN MX 10 mail.example.com.");
	expect_rr(0, "example.com. 3600 IN MX 20 mail2.example.net.");
	expect_rr(2, "mail.example.com. 3600 IN A 192.0.2.25");
	expect_rr(2, "mail.example.com. 3600 IN AAAA 2001:db8::25");

	ask("_sip._udp.example.com.", DNS_T_SRV);
	expect(DNS_RCODE_NOERROR, true, false, 1, 0, 1);
	expect_rr(0, "_sip._udp.example.com. 3600 IN SRV 10 60 5060 sip.example.com.");
	expect_rr(2, "sip.example.com. 3600 IN A 192.0.2.60");

	ask("example.com.", DNS_T_NS);
	expect(DNS_RCODE_NOERROR, true, false, 2, 0, 1);
	expect_rr(2, "ns1.example.com. 3600 IN A 192.0.2.53");
}

static void test_truncation(void **state)
{
	(void)state;
	/* 3 x 215 bytes of TXT: more than 512 */
	ask("big.example.com.", DNS_T_TXT);
	expect(DNS_RCODE_NOERROR, true, true, 0, 0, 0);
	assert_int_equal(info.outcome, ANS_ANSWER);

	ask_edns("big.example.com.", DNS_T_TXT, 512);
	expect(DNS_RCODE_NOERROR, true, true, 0, 0, 0);
	assert_true(m.has_opt);

	ask_edns("big.example.com.", DNS_T_TXT, 4096);
	expect(DNS_RCODE_NOERROR, true, false, 3, 0, 0);
	assert_true(m.has_opt);
	assert_int_equal(m.opt_udp, DNS_EDNS_DEFAULT);
	assert_true(m.opt_do);   /* ask_edns sets DO: echoed */

	ask_full("big.example.com.", DNS_T_TXT, DNS_OP_QUERY, 0, 0, false, ANSWER_TCP);
	expect(DNS_RCODE_NOERROR, true, false, 3, 0, 0);

	/* a response never exceeds the client's size */
	size_t len = ask_edns("big.example.com.", DNS_T_TXT, 600);
	assert_true(len <= 600);
	expect(DNS_RCODE_NOERROR, true, true, 0, 0, 0);
}

static void test_cname(void **state)
{
	(void)state;
	ask("chain1.example.com.", DNS_T_AAAA);
	expect(DNS_RCODE_NOERROR, true, false, 4, 0, 0);
	expect_rr(0, "chain1.example.com. 3600 IN CNAME chain2.example.com.");
	expect_rr(0, "chain2.example.com. 3600 IN CNAME chain3.example.com.");
	expect_rr(0, "chain3.example.com. 3600 IN CNAME www.example.com.");
	expect_rr(0, "www.example.com. 3600 IN AAAA 2001:db8::80");

	ask("alias.example.com.", DNS_T_CNAME);
	expect(DNS_RCODE_NOERROR, true, false, 1, 0, 0);

	/* RFC 6604: the rcode is that of the last name of the chain */
	ask("dangling.example.com.", DNS_T_A);
	expect(DNS_RCODE_NXDOMAIN, true, false, 1, 1, 0);
	expect_rr(0, "dangling.example.com. 3600 IN CNAME nothere.example.com.");
	expect_rr(1, soa_com);
	assert_int_equal(info.outcome, ANS_NXDOMAIN);

	ask("alias.example.com.", DNS_T_MX);
	expect(DNS_RCODE_NOERROR, true, false, 1, 1, 0);
	expect_rr(1, soa_com);
	assert_int_equal(info.outcome, ANS_NODATA);

	ask("outside.example.com.", DNS_T_A);
	expect(DNS_RCODE_NOERROR, true, false, 1, 0, 0);
	expect_rr(0, "outside.example.com. 3600 IN CNAME www.example.org.");

	/* a loop ends; each CNAME once */
	ask("loop1.example.com.", DNS_T_A);
	expect(DNS_RCODE_NOERROR, true, false, 2, 0, 0);
}

static void test_wildcard(void **state)
{
	(void)state;
	ask("Foo.wild.example.com.", DNS_T_A);
	expect(DNS_RCODE_NOERROR, true, false, 1, 0, 0);
	expect_rr(0, "Foo.wild.example.com. 3600 IN A 192.0.2.100");

	ask("exists.wild.example.com.", DNS_T_A);
	expect_rr(0, "exists.wild.example.com. 3600 IN A 192.0.2.101");
	/* below an existing name the wildcard does not apply */
	ask("x.exists.wild.example.com.", DNS_T_A);
	expect(DNS_RCODE_NXDOMAIN, true, false, 0, 1, 0);
	ask("foo.wild.example.com.", DNS_T_MX);
	expect(DNS_RCODE_NOERROR, true, false, 0, 1, 0);
	/* CNAME wildcard, followed */
	ask("x.cwild.example.com.", DNS_T_A);
	expect(DNS_RCODE_NOERROR, true, false, 2, 0, 0);
	expect_rr(0, "x.cwild.example.com. 3600 IN CNAME www.example.com.");
	expect_rr(0, "www.example.com. 3600 IN A 192.0.2.80");
}

static void test_wildcard_rfc4592(void **state)
{
	(void)state;
	/* RFC 4592 2.2.1: synthesized */
	ask("host3.example.", DNS_T_MX);
	expect(DNS_RCODE_NOERROR, true, false, 1, 0, 1);
	expect_rr(0, "host3.example. 3600 IN MX 10 host1.example.");
	expect_rr(2, "host1.example. 3600 IN A 192.0.2.1");
	ask("host3.example.", DNS_T_A);
	expect(DNS_RCODE_NOERROR, true, false, 0, 1, 0);
	ask("foo.bar.example.", DNS_T_TXT);
	expect(DNS_RCODE_NOERROR, true, false, 1, 0, 0);
	expect_rr(0, "foo.bar.example. 3600 IN TXT \"this is a wildcard\"");
	/* not synthesized */
	ask("host1.example.", DNS_T_MX);
	expect(DNS_RCODE_NOERROR, true, false, 0, 1, 0);
	ask("sub.*.example.", DNS_T_MX);
	expect(DNS_RCODE_NOERROR, true, false, 0, 1, 0);
	ask("_telnet._tcp.host1.example.", DNS_T_SRV);
	expect(DNS_RCODE_NXDOMAIN, true, false, 0, 1, 0);
	ask("ghost.*.example.", DNS_T_MX);
	expect(DNS_RCODE_NXDOMAIN, true, false, 0, 1, 0);
	ask("host.subdel.example.", DNS_T_A);
	expect(DNS_RCODE_NOERROR, false, false, 0, 2, 0);
	assert_int_equal(info.outcome, ANS_REFERRAL);
	/* the empty non-terminal _tcp.host1 is no wildcard match either */
	ask("_tcp.host1.example.", DNS_T_TXT);
	expect(DNS_RCODE_NOERROR, true, false, 0, 1, 0);
}

static void test_delegation(void **state)
{
	(void)state;
	ask("a.b.sub.example.com.", DNS_T_A);
	expect(DNS_RCODE_NOERROR, false, false, 0, 2, 2);
	expect_rr(1, "sub.example.com. 3600 IN NS ns1.sub.example.com.");
	expect_rr(1, "sub.example.com. 3600 IN NS ns.example.net.");
	expect_rr(2, "ns1.sub.example.com. 3600 IN A 192.0.2.54");
	expect_rr(2, "ns1.sub.example.com. 3600 IN AAAA 2001:db8::54");
	assert_int_equal(info.outcome, ANS_REFERRAL);

	/* at the cut, NS is a referral too; glue itself is below the cut */
	ask("sub.example.com.", DNS_T_NS);
	expect(DNS_RCODE_NOERROR, false, false, 0, 2, 2);
	ask("ns1.sub.example.com.", DNS_T_A);
	expect(DNS_RCODE_NOERROR, false, false, 0, 2, 2);
	/* DS at the cut: the parent's NODATA */
	ask("sub.example.com.", 43);
	expect(DNS_RCODE_NOERROR, true, false, 0, 1, 0);
	expect_rr(1, soa_com);

	/* RFC 9471: in-bailiwick glue that does not fit sets TC */
	ask("fat.example.com.", DNS_T_A);
	assert_true(m.flags & DNS_TC);
	assert_false(m.flags & DNS_AA);
	assert_int_equal(m.nrr[1], 6);
	ask_edns("fat.example.com.", DNS_T_A, 1232);
	expect(DNS_RCODE_NOERROR, false, false, 0, 6, 6);
}

static void test_negative(void **state)
{
	(void)state;
	/* empty non-terminal */
	ask("c.ent.example.com.", DNS_T_A);
	expect(DNS_RCODE_NOERROR, true, false, 0, 1, 0);
	expect_rr(1, soa_com);
	assert_int_equal(info.outcome, ANS_NODATA);
	ask("ent.example.com.", DNS_T_A);
	expect(DNS_RCODE_NOERROR, true, false, 0, 1, 0);

	/* NXDOMAIN: SOA with TTL min(3600, 300) */
	ask("nx.example.com.", DNS_T_A);
	expect(DNS_RCODE_NXDOMAIN, true, false, 0, 1, 0);
	expect_rr(1, soa_com);
	assert_int_equal(info.outcome, ANS_NXDOMAIN);
	/* min(60, 900) */
	ask("nx.8.b.d.0.1.0.0.2.ip6.arpa.", DNS_T_A);
	expect(DNS_RCODE_NXDOMAIN, true, false, 0, 1, 0);
	expect_rr(1, "8.b.d.0.1.0.0.2.ip6.arpa. 60 IN SOA ns1.example.com. hostmaster.example.com. 7 7200 3600 1209600 900");

	/* qtypes that cannot be stored: NODATA, as Knot DNS */
	ask("www.example.com.", DNS_T_TSIG);
	expect(DNS_RCODE_NOERROR, true, false, 0, 1, 0);
}

static void test_refused(void **state)
{
	(void)state;
	ask("www.example.org.", DNS_T_A);
	expect(DNS_RCODE_REFUSED, false, false, 0, 0, 0);
	assert_int_equal(info.outcome, ANS_REFUSED);
	ask(".", DNS_T_NS);
	expect(DNS_RCODE_REFUSED, false, false, 0, 0, 0);

	qlen = td_query(qbuf, sizeof(qbuf), 0x1234, "www.example.com.", DNS_T_A, DNS_CLASS_CH,
	                DNS_OP_QUERY, 0, 0, 0, false, false);
	size_t len = answer_message(ver, &conf, ANSWER_UDP, qbuf, (size_t)qlen, out, sizeof(out), &info);
	assert_int_equal(td_parse(&m, out, len), DDI_EOK);
	expect(DNS_RCODE_REFUSED, false, false, 0, 0, 0);

	/* class ANY is answered as IN */
	qlen = td_query(qbuf, sizeof(qbuf), 0x1234, "www.example.com.", DNS_T_A, DNS_CLASS_ANY,
	                DNS_OP_QUERY, 0, 0, 0, false, false);
	len = answer_message(ver, &conf, ANSWER_UDP, qbuf, (size_t)qlen, out, sizeof(out), &info);
	assert_int_equal(td_parse(&m, out, len), DDI_EOK);
	expect(DNS_RCODE_NOERROR, true, false, 1, 0, 0);
}

static void test_any(void **state)
{
	(void)state;
	/* RFC 8482: one RRset, the lowest type (as Knot DNS) */
	ask("example.com.", DNS_T_ANY);
	expect(DNS_RCODE_NOERROR, true, false, 1, 0, 0);
	expect_rr(0, "example.com. 3600 IN A 192.0.2.1");
	ask("alias.example.com.", DNS_T_ANY);
	expect(DNS_RCODE_NOERROR, true, false, 1, 0, 0);
	expect_rr(0, "alias.example.com. 3600 IN CNAME www.example.com.");
	ask("ent.example.com.", DNS_T_ANY);
	expect(DNS_RCODE_NOERROR, true, false, 0, 1, 0);
}

static void test_opcodes(void **state)
{
	(void)state;
	static const uint8_t ops[] = { DNS_OP_IQUERY, DNS_OP_STATUS, DNS_OP_NOTIFY, DNS_OP_UPDATE };
	for (size_t i = 0; i < sizeof(ops); i++) {
		ask_full("example.com.", DNS_T_SOA, ops[i], 0, 0, false, ANSWER_UDP);
		expect(DNS_RCODE_NOTIMP, false, false, 0, 0, 0);
		assert_int_equal(DNS_OPCODE(m.flags), ops[i]);
		assert_int_equal(info.outcome, ANS_NOTIMP);
	}
	/* AXFR is never answered here; IXFR over UDP gets the SOA (RFC 1995 2) */
	ask("example.com.", DNS_T_AXFR);
	expect(DNS_RCODE_NOTIMP, false, false, 0, 0, 0);
	ask("example.com.", DNS_T_IXFR);
	expect(DNS_RCODE_NOERROR, true, false, 1, 0, 0);
	expect_rr(0, "example.com. 3600 IN SOA ns1.example.com. hostmaster.example.com. 2024010101 7200 3600 1209600 300");
}

static void test_formerr(void **state)
{
	(void)state;
	/* no question */
	qlen = td_query(qbuf, sizeof(qbuf), 0x1234, ".", DNS_T_A, DNS_CLASS_IN, DNS_OP_QUERY,
	                DNS_RD, 0, 0, false, false);
	dns_put16(qbuf + 4, 0);
	size_t len = answer_message(ver, &conf, ANSWER_UDP, qbuf, DNS_HDR_LEN, out, sizeof(out), &info);
	assert_int_equal(len, DNS_HDR_LEN);
	assert_int_equal(td_parse(&m, out, len), DDI_EOK);
	expect(DNS_RCODE_FORMERR, false, false, 0, 0, 0);
	assert_int_equal(info.outcome, ANS_FORMERR);

	/* trailing garbage after a good question: question echoed */
	qlen = td_query(qbuf, sizeof(qbuf), 0x1234, "www.example.com.", DNS_T_A, DNS_CLASS_IN,
	                DNS_OP_QUERY, DNS_RD, 0, 0, false, false);
	qbuf[qlen] = 0xff;
	len = answer_message(ver, &conf, ANSWER_UDP, qbuf, (size_t)qlen + 1, out, sizeof(out), &info);
	assert_true(len > 0);
	assert_int_equal(td_parse(&m, out, len), DDI_EOK);
	assert_int_equal(m.rcode, DNS_RCODE_FORMERR);
	assert_int_equal(m.nrr[0], 0);

	/* a response (QR set) or a short message is dropped */
	qbuf[2] |= 0x80;
	assert_int_equal(answer_message(ver, &conf, ANSWER_UDP, qbuf, (size_t)qlen, out, sizeof(out),
	                                &info), 0);
	assert_int_equal(info.outcome, ANS_DROP);
	assert_int_equal(answer_message(ver, &conf, ANSWER_UDP, qbuf, 5, out, sizeof(out), &info), 0);
}

static void test_badvers_nsid(void **state)
{
	(void)state;
	ask_full("www.example.com.", DNS_T_A, DNS_OP_QUERY, 1232, 1, false, ANSWER_UDP);
	assert_true(m.has_opt);
	assert_int_equal(m.rcode, DNS_RCODE_BADVERS);
	assert_int_equal(DNS_RCODE(m.flags), 0);
	assert_int_equal(m.nrr[0], 0);
	assert_int_equal(info.outcome, ANS_BADVERS);

	conf.nsid = (const uint8_t *)"test-nsid";
	conf.nsid_len = 9;
	ask_full("www.example.com.", DNS_T_A, DNS_OP_QUERY, 1232, 0, true, ANSWER_UDP);
	expect(DNS_RCODE_NOERROR, true, false, 1, 0, 0);
	assert_true(m.has_opt);
	assert_int_equal(m.nsid_len, 9);
	assert_memory_equal(m.nsid, "test-nsid", 9);
	ask_edns("www.example.com.", DNS_T_A, 1232);
	assert_int_equal(m.nsid_len, 0);
	conf.nsid = NULL;
	conf.nsid_len = 0;
}

static void test_reverse(void **state)
{
	(void)state;
	/* synthesized from the A records that hold the address */
	ask("53.2.0.192.in-addr.arpa.", DNS_T_PTR);
	expect(DNS_RCODE_NOERROR, true, false, 1, 0, 0);
	expect_rr(0, "53.2.0.192.in-addr.arpa. 3600 IN PTR ns1.example.com.");
	/* 192.0.2.1 is held by two zones' apex and host */
	ask("1.2.0.192.in-addr.arpa.", DNS_T_PTR);
	expect(DNS_RCODE_NOERROR, true, false, 2, 0, 0);
	expect_rr(0, "1.2.0.192.in-addr.arpa. 3600 IN PTR example.com.");
	expect_rr(0, "1.2.0.192.in-addr.arpa. 3600 IN PTR host1.example.");
	/* two owners; TTL the smallest of their A RRsets */
	ask("25.2.0.192.IN-ADDR.ARPA.", DNS_T_PTR);
	expect(DNS_RCODE_NOERROR, true, false, 2, 0, 0);
	expect_rr(0, "25.2.0.192.IN-ADDR.ARPA. 300 IN PTR mail.example.com.");
	expect_rr(0, "25.2.0.192.IN-ADDR.ARPA. 300 IN PTR alt.example.com.");
	/* the name exists for other types: NODATA, not NXDOMAIN */
	ask("1.2.0.192.in-addr.arpa.", DNS_T_A);
	expect(DNS_RCODE_NOERROR, true, false, 0, 1, 0);
	/* an explicit PTR wins, owned or not */
	ask("80.2.0.192.in-addr.arpa.", DNS_T_PTR);
	expect(DNS_RCODE_NOERROR, true, false, 1, 0, 0);
	expect_rr(0, "80.2.0.192.in-addr.arpa. 3600 IN PTR explicit.example.com.");
	ask("200.2.0.192.in-addr.arpa.", DNS_T_PTR);
	expect(DNS_RCODE_NOERROR, true, false, 1, 0, 0);
	expect_rr(0, "200.2.0.192.in-addr.arpa. 3600 IN PTR unowned.example.com.");
	/* nobody holds it */
	ask("99.2.0.192.in-addr.arpa.", DNS_T_PTR);
	expect(DNS_RCODE_NXDOMAIN, true, false, 0, 1, 0);
	/* not an address: leading zero */
	ask("01.2.0.192.in-addr.arpa.", DNS_T_PTR);
	expect(DNS_RCODE_NXDOMAIN, true, false, 0, 1, 0);

	/* IPv6 nibbles, 2001:db8::25 */
	const char *v6 = "5.2.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.8.b.d.0.1.0.0.2.ip6.arpa.";
	ask(v6, DNS_T_PTR);
	expect(DNS_RCODE_NOERROR, true, false, 1, 0, 0);
	char want[256];
	snprintf(want, sizeof(want), "%s 3600 IN PTR mail.example.com.", v6);
	expect_rr(0, want);
	ask("5.2.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.8.B.D.0.1.0.0.2.ip6.arpa.", DNS_T_PTR);
	expect(DNS_RCODE_NOERROR, true, false, 1, 0, 0);
	ask("6.2.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.8.b.d.0.1.0.0.2.ip6.arpa.", DNS_T_PTR);
	expect(DNS_RCODE_NXDOMAIN, true, false, 0, 1, 0);
}

/*
 * PTR targets are spelled as their owners' nodes: a lower-case owner is
 * rebuilt from its trie key, a mixed-case one is stored. After another
 * RRset of an owner changes (its node replaced), the PTR still names it,
 * with the new node's TTL.
 */
static void test_reverse_spelling(void **state)
{
	(void)state;
	struct idx *own = idx_new();
	struct idx_txn *t = idx_txn_begin(own);
	struct zf_error err = { 0 };
	assert_int_equal(td_load_string(t, "example.org.",
	                                 "@ 3600 IN SOA ns.example.org. h.example.org. 1 2 3 4 5\n"
	                                 "Web.Example.ORG. 600 IN A 198.18.9.1\n"
	                                 "api.example.org. 300 IN A 198.18.9.1\n"
	                                 "\\000x.example.org. 900 IN A 198.18.9.2\n",
	                                 &err), DDI_EOK);
	assert_int_equal(td_load_string(t, "9.18.198.in-addr.arpa.",
	                                 "@ 3600 IN SOA ns.example.org. h.example.org. 1 2 3 4 5\n",
	                                 &err), DDI_EOK);
	assert_int_equal(idx_txn_commit(t, 1), DDI_EOK);
	const struct idx_version *saved = ver;
	ver = idx_acquire(own);
	ask("1.9.18.198.in-addr.arpa.", DNS_T_PTR);
	expect(DNS_RCODE_NOERROR, true, false, 2, 0, 0);
	expect_rr(0, "1.9.18.198.in-addr.arpa. 300 IN PTR Web.Example.ORG.");
	expect_rr(0, "1.9.18.198.in-addr.arpa. 300 IN PTR api.example.org.");
	/* an escaped octet 0 in the key comes back as itself */
	ask("2.9.18.198.in-addr.arpa.", DNS_T_PTR);
	expect(DNS_RCODE_NOERROR, true, false, 1, 0, 0);
	expect_rr(0, "2.9.18.198.in-addr.arpa. 900 IN PTR \\000x.example.org.");

	/* api's node replaced by a TXT, then its A: the leaf follows each */
	t = idx_txn_begin(own);
	static const uint8_t txt[4] = { 0, 2, 1, 'x' }, a1[6] = { 0, 4, 198, 18, 9, 1 };
	uint8_t api[DNS_NAME_MAXLEN];
	assert_true(dns_name_from_str(api, "api.example.org.", 16, NULL) > 0);
	assert_int_equal(idx_txn_rrset_set(t, api, DNS_T_TXT, 60, 1, txt, 4), DDI_EOK);
	assert_int_equal(idx_txn_rrset_set(t, api, DNS_T_A, 1200, 1, a1, 6), DDI_EOK);
	assert_int_equal(idx_txn_commit(t, 2), DDI_EOK);
	ver = idx_acquire(own);
	ask("1.9.18.198.in-addr.arpa.", DNS_T_PTR);
	expect(DNS_RCODE_NOERROR, true, false, 2, 0, 0);
	expect_rr(0, "1.9.18.198.in-addr.arpa. 600 IN PTR Web.Example.ORG.");
	expect_rr(0, "1.9.18.198.in-addr.arpa. 600 IN PTR api.example.org.");
	ver = saved;
	idx_free(own);
}

static void test_large_tcp(void **state)
{
	(void)state;
	/* over UDP the 1232-byte limit truncates */
	ask_edns("big.test.", DNS_T_MX, 4096);
	expect(DNS_RCODE_NOERROR, true, true, 0, 0, 0);
	/* over TCP all of it; the target past 16 KB cannot be pointed to and is written */
	size_t len = ask_full("big.test.", DNS_T_MX, DNS_OP_QUERY, 0, 0, false, ANSWER_TCP);
	assert_true(len > 0x4000);
	assert_int_equal(m.count[0], 401);
	assert_int_equal(m.nrr[2], 1);
	expect_rr(2, "zz-mail.big.test. 3600 IN A 198.18.0.25");
	/* the caller's buffer bounds the response too */
	len = answer_message(ver, &conf, ANSWER_TCP, qbuf, (size_t)qlen, out, 2000, &info);
	assert_true(len > 0 && len <= 2000);
	assert_true(info.truncated);
}

/*
 * A burst answered with its lookups walked together (answer_bulk_*) gives
 * byte for byte what answer_query gives one query at a time, for every
 * kind of answer; a slot prepared for another question is not used.
 */
static void test_bulk(void **state)
{
	(void)state;
	static const struct { const char *name; uint16_t type; uint16_t edns; } qs[] = {
		{ "www.example.com.", DNS_T_A, 0 }, { "WWW.Example.COM.", DNS_T_AAAA, 1232 },
		{ "example.com.", DNS_T_MX, 1232 }, { "alias.example.com.", DNS_T_A, 0 },
		{ "chain1.example.com.", DNS_T_A, 4096 }, { "loop1.example.com.", DNS_T_A, 0 },
		{ "outside.example.com.", DNS_T_A, 0 }, { "x.wild.example.com.", DNS_T_A, 1232 },
		{ "x.y.cwild.example.com.", DNS_T_AAAA, 0 }, { "b.c.ent.example.com.", DNS_T_A, 0 },
		{ "nothere.example.com.", DNS_T_A, 1232 }, { "www.sub.example.com.", DNS_T_A, 0 },
		{ "sub.example.com.", 43 /* DS */, 0 }, { "x.fat.example.com.", DNS_T_A, 0 },
		{ "big.example.com.", DNS_T_TXT, 0 }, { "example.org.", DNS_T_A, 0 },
		{ "host3.example.", DNS_T_MX, 0 }, { "sub.*.example.", DNS_T_TXT, 0 },
		{ "_ssh._tcp.host1.example.", DNS_T_SRV, 1232 }, { "example.com.", DNS_T_ANY, 0 },
		{ "80.2.0.192.in-addr.arpa.", DNS_T_PTR, 0 }, { "www.example.com.", DNS_T_A, 0 },
		{ "_sip._udp.example.com.", DNS_T_SRV, 0 }, { "multi.example.com.", DNS_T_A, 1232 },
		{ "53.2.0.192.in-addr.arpa.", DNS_T_PTR, 0 }, { "25.2.0.192.IN-ADDR.ARPA.", DNS_T_PTR, 1232 },
		{ "99.2.0.192.in-addr.arpa.", DNS_T_PTR, 0 }, { "1.2.0.192.in-addr.arpa.", DNS_T_ANY, 0 },
		{ "53.2.0.192.in-addr.arpa.", DNS_T_A, 0 },
	};
	enum { N = sizeof(qs) / sizeof(qs[0]) };
	_Static_assert(N <= ANSWER_BULK_MAX, "one burst");
	static uint8_t bufs[N][4096], ref[4096];
	size_t lens[N];
	struct dns_query q[N];
	enum dns_parse_result pr[N];
	struct answer_bulk *b = answer_bulk_new();
	assert_non_null(b);

	for (int round = 0; round < 2; round++) {
		for (unsigned i = 0; i < N; i++) {
			int l = td_query(bufs[i], sizeof(bufs[i]), (uint16_t)(0x100 + i), qs[i].name,
			                 qs[i].type, DNS_CLASS_IN, DNS_OP_QUERY, DNS_RD, qs[i].edns, 0,
			                 qs[i].edns != 0, false);
			assert_true(l > 0);
			lens[i] = (size_t)l;
			pr[i] = dns_query_parse(&q[i], bufs[i], lens[i]);
			answer_bulk_prepare(b, i, &q[i], pr[i]);
		}
		answer_bulk_lookup(ver, b, N);
		for (unsigned i = 0; i < N; i++) {
			struct answer_info ri, bi;
			size_t rl = answer_message(ver, &conf, ANSWER_UDP, bufs[i], lens[i], ref,
			                           sizeof(ref), &ri);
			/* round 1: slot i answers question N-1-i, prepared for another name */
			unsigned slot = round == 0 ? i : N - 1 - i;
			size_t bl = answer_query_bulk(ver, &conf, ANSWER_UDP, &q[i], pr[i], bufs[i],
			                              sizeof(bufs[i]), &bi, b, slot);
			assert_int_equal(bl, rl);
			assert_memory_equal(bufs[i], ref, rl);
			assert_int_equal(bi.outcome, ri.outcome);
			assert_int_equal(bi.rcode, ri.rcode);
		}
	}
	answer_bulk_free(b);
}

/*
 * The question's lookup key is built in one pass from its first label
 * (walk_key_fast), the index's keys by dns_name_to_key: random owners
 * (labels of 1 to 63 bytes, upper and lower case, digits, '.', 0x00, 0x01,
 * 0xff, names up to 255 bytes) are each found when asked in another case
 * mix, and a name one byte off is not.
 */
static size_t key_query(uint8_t *q, const uint8_t *name, size_t nlen, bool edns)
{
	memset(q, 0, DNS_HDR_LEN);
	q[0] = 0x42;
	q[5] = 1;
	q[11] = edns ? 1 : 0;
	memcpy(q + DNS_HDR_LEN, name, nlen);
	size_t p = DNS_HDR_LEN + nlen;
	dns_put16(q + p, DNS_T_A);
	dns_put16(q + p + 2, DNS_CLASS_IN);
	p += 4;
	if (edns) {
		static const uint8_t opt[11] = { 0, 0, 41, 0x04, 0xd0, 0, 0, 0, 0, 0, 0 };
		memcpy(q + p, opt, sizeof(opt));
		p += sizeof(opt);
	}
	return p;
}

static void test_key_random(void **state)
{
	(void)state;
	static const uint8_t alphabet[] = "abcxyzABCXYZ019-_.\x00\x01\x02\x7f\x80\xff@[`{";
	static const uint8_t apex[] = "\x01k\x04test";   /* k.test. */
	enum { NN = 400 };
	static uint8_t names[NN][DNS_NAME_MAXLEN];
	static size_t nlen[NN];
	struct idx *kx = idx_new();
	assert_non_null(kx);
	struct idx_txn *t = idx_txn_begin(kx);
	assert_non_null(t);
	struct zf_error err = { 0 };
	assert_int_equal(td_load_string(t, "k.test.",
	                                "@ 60 IN SOA ns.k.test. h.k.test. 1 2 3 4 5\n@ 60 IN NS ns\n",
	                                &err), DDI_EOK);
	srandom(4034);
	for (int i = 0; i < NN; i++) {
		uint8_t *n = names[i];
		size_t room = DNS_NAME_MAXLEN - sizeof(apex);   /* the apex and its root byte */
		size_t p = 0;
		int labels = 1 + (int)(random() % (i % 7 == 0 ? 60 : 4));
		for (int l = 0; l < labels && room - p >= 2; l++) {
			size_t len = i % 5 == 0 ? 63 : 1 + (size_t)random() % (l % 2 ? 20 : 63);
			if (len > room - p - 1)
				len = room - p - 1;
			n[p++] = (uint8_t)len;
			for (size_t j = 0; j < len; j++)
				n[p++] = i % 3 == 0 ? alphabet[random() % (sizeof(alphabet) - 1)]
				                    : (uint8_t)('a' + random() % 26);
		}
		memcpy(n + p, apex, sizeof(apex));
		nlen[i] = p + sizeof(apex);
		assert_true(nlen[i] <= DNS_NAME_MAXLEN);
		uint8_t rd[2 + 4] = { 0, 4, 198, 18, (uint8_t)(i >> 8), (uint8_t)i };
		int ret = idx_txn_rrset_set(t, n, DNS_T_A, 60, 1, rd, sizeof(rd));
		assert_int_equal(ret, DDI_EOK);
	}
	assert_int_equal(idx_txn_commit(t, 1), DDI_EOK);
	const struct idx_version *kv = idx_acquire(kx);

	static uint8_t q[DNS_HDR_LEN + DNS_NAME_MAXLEN + 4 + 11], r[1024];
	for (int i = 0; i < NN; i++) {
		uint8_t asked[DNS_NAME_MAXLEN];
		memcpy(asked, names[i], nlen[i]);
		/* flip the case of letters at random, label lengths kept */
		for (size_t p = 0; asked[p] != 0; p += asked[p] + 1U)
			for (size_t j = 1; j <= asked[p]; j++) {
				uint8_t ch = asked[p + j];
				if (((ch | 0x20) >= 'a' && (ch | 0x20) <= 'z') && random() % 2)
					asked[p + j] = ch ^ 0x20;
			}
		for (int miss = 0; miss < 2; miss++) {
			if (miss)
				asked[1] = asked[1] == '~' ? '}' : '~';   /* in no owner: alphabet lacks them */
			size_t ql = key_query(q, asked, nlen[i], i % 2 == 0);
			struct answer_info ai;
			size_t len = answer_message(kv, &conf, ANSWER_UDP, q, ql, r, sizeof(r), &ai);
			assert_true(len > 0);
			assert_int_equal(td_parse(&m, r, len), DDI_EOK);
			if (miss) {
				assert_int_equal(ai.rcode, DNS_RCODE_NXDOMAIN);
				continue;
			}
			assert_int_equal(ai.rcode, DNS_RCODE_NOERROR);
			assert_int_equal(m.nrr[0], 1);
			assert_int_equal(m.rr[0][0].rdlen, 4);
			assert_int_equal(m.rr[0][0].rdata[3], (uint8_t)i);
			assert_int_equal(m.rr[0][0].rdata[2], (uint8_t)(i >> 8));
		}
	}
	(void)kv;
	idx_free(kx);
}

/*
 * answer_fast (A/AAAA, exact match) and answer_nx_fast (a miss, any type but
 * the transfers) give byte for byte what the general
 * path gives: the same question answered once plainly (the fast path) and
 * once with a client COOKIE and cookies on (which the fast path leaves to
 * the general one; the cookie itself is the caller's to append), for names
 * that take the fast path and names that fall back from it, DO on and off,
 * in place and into another buffer.
 */
static void test_fast_same(void **state)
{
	(void)state;
	static const char *names[] = {
		"www.example.com.", "WWW.Example.COM.", "multi.example.com.", "mail.example.com.",
		"example.com.", "alias.example.com.", "x.wild.example.com.", "nothere.example.com.",
		"www.sub.example.com.", "sub.example.com.", "b.c.ent.example.com.", "big.example.com.",
		"host1.example.", "example.org.", "ns1.sub.example.com.",
		/* misses: answer_nx_fast, or the general path where it declines */
		"NoThere.Example.COM.", "x.y.z.example.com.", "nx.b.c.ent.example.com.",
		"c.ent.example.com.", "nx.wild.example.com.", "nx.cwild.example.com.",
		"x.sub.example.com.", "nx.example.", "nx.host1.example.", "nx.subdel.example.",
		"nothing.example.org.", "1.2.0.192.in-addr.arpa.", "9.2.0.192.in-addr.arpa.",
		"x.2.0.192.in-addr.arpa.", "x.8.b.d.0.1.0.0.2.ip6.arpa.",
		"a.b.c.d.e.f.0.1.2.3.4.5.6.7.8.9.a.b.c.d.e.f.0.1.8.b.d.0.1.0.0.2.ip6.arpa.",
		"nx.zz-mail.big.test.", "nx.big.test.",
		"A12345678912345678912345678912345678912345678912345678912."
		"b12345678912345678912345678912345678912345678912345678912."
		"c12345678912345678912345678912345678912345678912345678912."
		"D12345678912345678912345678912345678912345678912345678912.example.com.",
	};
	static const uint16_t types[] = { DNS_T_A, DNS_T_AAAA, DNS_T_MX, DNS_T_TXT, DNS_T_NS,
		                          DNS_T_SOA, DNS_T_CNAME, DNS_T_PTR, DNS_T_ANY, 43 /* DS */,
		                          65 /* HTTPS */, DNS_T_OPT, 0, 251 /* IXFR */, 252 /* AXFR */ };
	struct answer_conf cconf = { .udp_max = DNS_EDNS_DEFAULT, .cookies = true };
	static uint8_t q1[512], q2[512], r1[4096], r2[4096];
	static const uint8_t ck[8] = { 1, 2, 3, 4, 5, 6, 7, 8 };
	for (size_t i = 0; i < sizeof(names) / sizeof(names[0]); i++) {
		for (size_t t = 0; t < sizeof(types) / sizeof(types[0]); t++) {
			for (int dnssec = 0; dnssec < 2; dnssec++) {
				int l = td_query(q1, sizeof(q1), 0x77, names[i], types[t], DNS_CLASS_IN,
				                 DNS_OP_QUERY, DNS_RD | DNS_CD, 1232, 0, dnssec, false);
				assert_true(l > 0);
				memcpy(q2, q1, (size_t)l);
				size_t l2 = dns_opt_append_option(q2, (size_t)l, sizeof(q2), (size_t)l - 11,
				                                  DNS_EDNS_OPT_COOKIE, ck, sizeof(ck));
				assert_true(l2 > 0);
				struct answer_info i1, i2;
				for (int inplace = 0; inplace < 2; inplace++) {
					uint8_t *o1 = r1, *o2 = r2;
					if (inplace) {
						memcpy(r1, q1, (size_t)l);
						memcpy(r2, q2, l2);
					}
					size_t n1 = answer_message(ver, &conf, ANSWER_UDP, inplace ? r1 : q1,
					                           (size_t)l, o1, sizeof(r1), &i1);
					size_t n2 = answer_message(ver, &cconf, ANSWER_UDP, inplace ? r2 : q2,
					                           l2, o2, sizeof(r2), &i2);
					assert_true(n1 > 0);
					assert_int_equal(n1, n2);
					assert_memory_equal(r1, r2, n1);
					assert_int_equal(i1.outcome, i2.outcome);
					assert_int_equal(i1.rcode, i2.rcode);
					assert_int_equal(i1.opt_pos, i2.opt_pos);
					assert_int_equal(i1.truncated, i2.truncated);
				}
				/*
				 * No EDNS: the same answer without the OPT, where the fast
				 * paths answer (an A/AAAA answer or NXDOMAIN that fits 512).
				 */
				size_t n1 = answer_message(ver, &conf, ANSWER_UDP, q1, (size_t)l, r1,
				                           sizeof(r1), &i1);
				bool fastkind = (types[t] == DNS_T_A || types[t] == DNS_T_AAAA) ||
				                i1.outcome == ANS_NXDOMAIN;
				if (!fastkind || i1.truncated || n1 > DNS_UDP_MIN + 11 ||
				    (i1.outcome != ANS_ANSWER && i1.outcome != ANS_NXDOMAIN))
					continue;
				int l3 = td_query(q2, sizeof(q2), 0x77, names[i], types[t], DNS_CLASS_IN,
				                  DNS_OP_QUERY, DNS_RD | DNS_CD, 0, 0, false, false);
				assert_true(l3 > 0);
				size_t n3 = answer_message(ver, &conf, ANSWER_UDP, q2, (size_t)l3, r2,
				                           sizeof(r2), &i2);
				assert_int_equal(i1.outcome, i2.outcome);
				assert_int_equal(i1.rcode, i2.rcode);
				assert_int_equal(i2.opt_pos, 0);
				assert_int_equal(i1.opt_pos + 11, n1);
				assert_int_equal(n3, i1.opt_pos);
				r1[11]--;   /* ARCOUNT: the OPT */
				r1[3] &= 0xef;   /* CD is kept; td_query sets it in both */
				r2[3] &= 0xef;
				assert_memory_equal(r1, r2, n3);
			}
		}
	}
}

/*
 * answer_nx_fast against the general path on a name that misses, counted
 * apart: NXDOMAIN, AA, the SOA in authority with the negative TTL, the OPT.
 */
static void test_nx_fast(void **state)
{
	(void)state;
	static uint8_t q[512], r[4096];
	int l = td_query(q, sizeof(q), 0x42, "NoThere.example.COM.", DNS_T_A, DNS_CLASS_IN,
	                 DNS_OP_QUERY, DNS_RD, 1232, 0, false, false);
	assert_true(l > 0);
	struct answer_info ai;
	size_t n = answer_message(ver, &conf, ANSWER_UDP, q, (size_t)l, r, sizeof(r), &ai);
	assert_int_equal(ai.outcome, ANS_NXDOMAIN);
	assert_int_equal(ai.rcode, DNS_RCODE_NXDOMAIN);
	assert_int_equal(td_parse(&m, r, n), DDI_EOK);
	assert_int_equal(m.flags & 0x000f, DNS_RCODE_NXDOMAIN);
	assert_true(m.flags & DNS_AA);
	assert_true(m.flags & DNS_RD);
	assert_int_equal(m.nrr[0], 0);
	assert_int_equal(m.nrr[1], 1);
	assert_int_equal(m.rr[1][0].type, DNS_T_SOA);
	assert_int_equal(m.rr[1][0].ttl, 300);   /* MINIMUM below the TTL */
	assert_int_equal(ai.opt_pos + 11, n);
	/* the SOA's owner points at "example.com" in the question */
	size_t owner = (size_t)l - 11;
	assert_int_equal(r[owner], 0xc0);
	assert_int_equal(r[owner + 1], DNS_HDR_LEN + 8);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_a_hit),
		cmocka_unit_test(test_case_echo),
		cmocka_unit_test(test_mx_additional),
		cmocka_unit_test(test_truncation),
		cmocka_unit_test(test_cname),
		cmocka_unit_test(test_wildcard),
		cmocka_unit_test(test_wildcard_rfc4592),
		cmocka_unit_test(test_delegation),
		cmocka_unit_test(test_negative),
		cmocka_unit_test(test_refused),
		cmocka_unit_test(test_any),
		cmocka_unit_test(test_opcodes),
		cmocka_unit_test(test_formerr),
		cmocka_unit_test(test_badvers_nsid),
		cmocka_unit_test(test_reverse),
		cmocka_unit_test(test_reverse_spelling),
		cmocka_unit_test(test_large_tcp),
		cmocka_unit_test(test_bulk),
		cmocka_unit_test(test_key_random),
		cmocka_unit_test(test_fast_same),
		cmocka_unit_test(test_nx_fast),
	};
	return cmocka_run_group_tests(tests, setup, teardown);
}
