/* test_zonefile -- master file reader (records, directives, errors, includes) and writer */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cmocka.h>

#include "dns/errcode.h"
#include "dns/name.h"
#include "dns/rdata.h"
#include "dns/zonefile.h"

/* Records as read, kept compactly, plus each one's "owner ttl TYPE rdata" text. */
struct rec {
	uint8_t owner[DNS_NAME_MAXLEN];
	uint16_t type;
	uint16_t rclass;
	uint32_t ttl;
	uint16_t rdlen;
	uint8_t *rdata;
	char *text;
};

struct coll {
	struct rec r[128];
	int n;
	int stop_at;   /* return 99 from the callback at this record (1-based), 0 = never */
};

static int collect(void *ctx, const struct dns_rr *rr)
{
	struct coll *c = ctx;
	struct rec *r;
	char owner[DNS_NAME_STRLEN];
	size_t cap = 4 * (size_t)rr->rdlen + 4096;
	char *rd = malloc(cap);

	assert_true(c->n < 128);
	assert_non_null(rd);
	r = &c->r[c->n++];
	memcpy(r->owner, rr->owner, sizeof(r->owner));
	r->type = rr->type;
	r->rclass = rr->rclass;
	r->ttl = rr->ttl;
	r->rdlen = rr->rdlen;
	r->rdata = malloc(rr->rdlen ? rr->rdlen : 1);
	assert_non_null(r->rdata);
	memcpy(r->rdata, rr->rdata, rr->rdlen);
	assert_true(dns_name_to_str(owner, sizeof(owner), rr->owner) > 0);
	assert_true(dns_rdata_to_str(rd, cap, rr->type, rr->rdata, rr->rdlen) >= 0);
	r->text = malloc(strlen(owner) + strlen(rd) + 64);
	assert_non_null(r->text);
	sprintf(r->text, "%s %u %s %s", owner, rr->ttl, dns_type_name(rr->type), rd);
	free(rd);
	return c->stop_at == c->n ? 99 : 0;
}

static void coll_free(struct coll *c)
{
	for (int i = 0; i < c->n; i++) {
		free(c->r[i].rdata);
		free(c->r[i].text);
	}
	c->n = 0;
}

static uint8_t origin[DNS_NAME_MAXLEN];
static uint8_t root[1] = { 0 };

static int setup(void **state)
{
	(void)state;
	assert_int_equal(dns_name_from_str(origin, "example.com.", 12, NULL), 13);
	return 0;
}

static int read_str(const char *text, size_t len, const struct zf_options *opt, struct coll *c,
                    struct zf_error *err)
{
	return zf_read_string(text, len, "example.zone", opt, collect, c, err);
}

/* ------------------------------------------------------------------------ */
/* A realistic zone                                                         */
/* ------------------------------------------------------------------------ */

static char long_a[256], long_b[46];

static char *zone_text(void)
{
	static const char fmt[] =
		"; ddiplane test zone\n"
		"$ORIGIN example.com.\n"
		"$TTL 1h\n"
		"@\tIN\tSOA\tns1 hostmaster (\n"
		"\t\t\t2024010101 ; serial\n"
		"\t\t\t2h         ; refresh ( a paren in a comment\n"
		"\t\t\t15M        ; retry\n"
		"\t\t\t1w         ; expire\n"
		"\t\t\t300 )      ; minimum\n"
		"\tIN\tNS\tns1\n"
		"\t\tNS\tns2.example.net.\n"
		"\n"
		"   \t  ; a blank line with a comment does not end the owner\n"
		"\t3600 IN MX 10 mail\n"
		"ns1\tIN\tA\t192.0.2.1\n"
		"ns1\tIN\tAAAA\t2001:db8::1\n"
		"mail\t300\tIN\tA\t192.0.2.2\r\n"
		"www\tIN 600\tA\t192.0.2.3 ; class before TTL\n"
		"\tAAAA\t2001:db8::3\n"
		"txt\tTXT\t\"v=spf1 -all\" \"semi;colon (paren\" \"quote\\\"d\" back\\\\slash \"\\065\\066\";c\n"
		"long\tTXT ( \"%s\"\n"
		"\t      \"%s\" )\n"
		"_sip._tcp\tSRV\t0 5 5060 sip\n"
		"caa\tCAA\t0 issue \"ca.example\"\n"
		"\tCAA\t128 iodef \"mailto:sec@example.com\"\n"
		"dhcid\tDHCID\t( AAIBY2/AuCccgoJbsaxcQc9T\n"
		"\t\tUapptP69lOjxfNuVAA2kjEA= )\n"
		"*\tA\t192.0.2.9\n"
		"*.wild\ttxt\t\"wild\"\n"
		"esc\\.dot\tA\t192.0.2.10\n"
		"ptr.example.com. PTR @\n"
		"$ORIGIN sub\n"
		"host\ta\t198.51.100.1\n"
		"@\tNS\tns1.example.com.\n"
		"$TTL 5m\n"
		"alias\tCNAME\thost\n"
		"\tTYPE65280 \\# 3 abcdef\n"
		"abs.example.com.\t1d\tA\t192.0.2.11\n"
		"(\n"
		"abs.example.com. A 192.0.2.12 )";   /* no final newline */
	char *text;
	size_t n;

	memset(long_a, 'a', 255);
	long_a[255] = '\0';
	memset(long_b, 'b', 45);
	long_b[45] = '\0';
	n = sizeof(fmt) + 400;
	text = malloc(n);
	assert_non_null(text);
	snprintf(text, n, fmt, long_a, long_b);
	return text;
}

static const char *const expected[] = {
	"example.com. 3600 SOA ns1.example.com. hostmaster.example.com. 2024010101 7200 900 604800 300",
	"example.com. 3600 NS ns1.example.com.",
	"example.com. 3600 NS ns2.example.net.",
	"example.com. 3600 MX 10 mail.example.com.",
	"ns1.example.com. 3600 A 192.0.2.1",
	"ns1.example.com. 3600 AAAA 2001:db8::1",
	"mail.example.com. 300 A 192.0.2.2",
	"www.example.com. 600 A 192.0.2.3",
	"www.example.com. 3600 AAAA 2001:db8::3",
	"txt.example.com. 3600 TXT \"v=spf1 -all\" \"semi;colon (paren\" \"quote\\\"d\" \"back\\\\slash\" \"AB\"",
	NULL, /* long: built in the test */
	"_sip._tcp.example.com. 3600 SRV 0 5 5060 sip.example.com.",
	"caa.example.com. 3600 CAA 0 issue \"ca.example\"",
	"caa.example.com. 3600 CAA 128 iodef \"mailto:sec@example.com\"",
	"dhcid.example.com. 3600 DHCID AAIBY2/AuCccgoJbsaxcQc9TUapptP69lOjxfNuVAA2kjEA=",
	"*.example.com. 3600 A 192.0.2.9",
	"*.wild.example.com. 3600 TXT \"wild\"",
	"esc\\.dot.example.com. 3600 A 192.0.2.10",
	"ptr.example.com. 3600 PTR example.com.",
	"host.sub.example.com. 3600 A 198.51.100.1",
	"sub.example.com. 3600 NS ns1.example.com.",
	"alias.sub.example.com. 300 CNAME host.sub.example.com.",
	"alias.sub.example.com. 300 TYPE65280 \\# 3 ABCDEF",
	"abs.example.com. 86400 A 192.0.2.11",
	"abs.example.com. 300 A 192.0.2.12",
};
#define NEXPECTED (sizeof(expected) / sizeof(expected[0]))

static void check_zone(struct coll *c)
{
	char longline[600];

	snprintf(longline, sizeof(longline), "long.example.com. 3600 TXT \"%s\" \"%s\"", long_a, long_b);
	assert_int_equal(c->n, NEXPECTED);
	for (size_t i = 0; i < NEXPECTED; i++) {
		const char *want = expected[i] ? expected[i] : longline;

		if (strcmp(c->r[i].text, want) != 0)
			fail_msg("record %zu:\n got  %s\n want %s", i, c->r[i].text, want);
		assert_int_equal(c->r[i].rclass, 1);
		assert_int_equal(dns_rdata_check(c->r[i].type, c->r[i].rdata, c->r[i].rdlen), DDI_EOK);
	}
	/* The 300-byte TXT: two strings, 255 + 45, covering 302 bytes. */
	assert_int_equal(c->r[10].type, DNS_T_TXT);
	assert_int_equal(c->r[10].rdlen, 302);
	assert_int_equal(c->r[10].rdata[0], 255);
	assert_int_equal(c->r[10].rdata[256], 45);
	/* A few in wire form, independently of the printer. */
	assert_int_equal(c->r[4].rdlen, 4);
	assert_memory_equal(c->r[4].rdata, "\xc0\x00\x02\x01", 4);
	assert_memory_equal(c->r[4].owner, "\003ns1\007example\003com\000", 17);
	assert_memory_equal(c->r[15].owner, "\001*\007example\003com\000", 15);
	assert_memory_equal(c->r[17].owner, "\007esc.dot\007example\003com\000", 21);
	assert_int_equal(c->r[3].rdlen, 2 + 18);
	assert_memory_equal(c->r[3].rdata, "\000\012\004mail\007example\003com\000", 20);
	assert_int_equal(dns_soa_serial(c->r[0].rdata, c->r[0].rdlen), 2024010101);
	assert_int_equal(dns_soa_minimum(c->r[0].rdata, c->r[0].rdlen), 300);
}

static void test_zone(void **state)
{
	struct zf_options opt = { .origin = origin, .require_in_zone = true };
	struct zf_error err;
	struct coll *c = calloc(1, sizeof(*c));
	char *text = zone_text();
	int r;
	(void)state;

	r = read_str(text, strlen(text), &opt, c, &err);
	if (r != 0)
		fail_msg("%s:%u: %s (%d)", err.file, err.line, err.msg, r);
	check_zone(c);
	coll_free(c);
	free(c);
	free(text);
}

/* zf_write_rr output reads back to the same records, with any origin. */
static void test_write_read(void **state)
{
	struct zf_options opt = { .origin = origin };
	struct zf_options opt_root = { .origin = root, .default_ttl = 1 };
	struct zf_error err;
	struct coll *c1 = calloc(1, sizeof(*c1)), *c2 = calloc(1, sizeof(*c2));
	char *text = zone_text(), *out = NULL;
	size_t outlen = 0;
	FILE *f;
	int r;
	(void)state;

	assert_int_equal(read_str(text, strlen(text), &opt, c1, &err), 0);
	f = open_memstream(&out, &outlen);
	assert_non_null(f);
	for (int i = 0; i < c1->n; i++)
		assert_int_equal(zf_write_rr(f, c1->r[i].owner, c1->r[i].type, c1->r[i].ttl,
		                             c1->r[i].rdata, c1->r[i].rdlen), 0);
	fclose(f);
	/* The form of a line: owner TTL IN TYPE rdata, absolute names. */
	assert_memory_equal(out,
	                    "example.com. 3600 IN SOA ns1.example.com. hostmaster.example.com. "
	                    "2024010101 7200 900 604800 300\n"
	                    "example.com. 3600 IN NS ns1.example.com.\n",
	                    strlen("example.com. 3600 IN SOA ns1.example.com. hostmaster.example.com. "
	                           "2024010101 7200 900 604800 300\n"
	                           "example.com. 3600 IN NS ns1.example.com.\n"));
	assert_non_null(strstr(out, "\nalias.sub.example.com. 300 IN TYPE65280 \\# 3 ABCDEF\n"));
	assert_non_null(strstr(out, "\nesc\\.dot.example.com. 3600 IN A 192.0.2.10\n"));

	r = zf_read_string(out, outlen, "written", &opt_root, collect, c2, &err);
	if (r != 0)
		fail_msg("%s:%u: %s", err.file, err.line, err.msg);
	assert_int_equal(c2->n, c1->n);
	for (int i = 0; i < c1->n; i++) {
		assert_true(dns_name_equal(c1->r[i].owner, c2->r[i].owner));
		assert_memory_equal(c1->r[i].owner, c2->r[i].owner, dns_name_len(c1->r[i].owner));
		assert_int_equal(c1->r[i].type, c2->r[i].type);
		assert_int_equal(c1->r[i].ttl, c2->r[i].ttl);
		assert_int_equal(c1->r[i].rdlen, c2->r[i].rdlen);
		assert_memory_equal(c1->r[i].rdata, c2->r[i].rdata, c1->r[i].rdlen);
	}

	/* Unprintable owner and rdata bytes survive the trip too. */
	{
		static const uint8_t owner[] = "\004a\001 \"\003x;(\000";   /* "a\001 \"" . "x;(" . */
		static const uint8_t txt[] = "\004\000\377\\\"";
		struct coll *c3 = calloc(1, sizeof(*c3));

		free(out);
		out = NULL;
		f = open_memstream(&out, &outlen);
		assert_int_equal(zf_write_rr(f, owner, DNS_T_TXT, 7, txt, 5), 0);
		fclose(f);
		assert_int_equal(zf_read_string(out, outlen, "odd", &opt_root, collect, c3, &err), 0);
		assert_int_equal(c3->n, 1);
		assert_memory_equal(c3->r[0].owner, owner, sizeof(owner) - 1);
		assert_int_equal(c3->r[0].rdlen, 5);
		assert_memory_equal(c3->r[0].rdata, txt, 5);
		assert_int_equal(c3->r[0].ttl, 7);
		coll_free(c3);
		free(c3);
	}

	free(out);
	free(text);
	coll_free(c1);
	coll_free(c2);
	free(c1);
	free(c2);
}

/* ------------------------------------------------------------------------ */
/* Defaults and small rules                                                 */
/* ------------------------------------------------------------------------ */

static void test_defaults(void **state)
{
	struct zf_options opt = { .origin = origin };
	struct zf_error err;
	struct coll c = { 0 };
	const char *t;
	(void)state;

	/* No $TTL: options' default_ttl, 3600 when 0; the SOA minimum is not used. */
	t = "@ SOA ns hm 1 2 3 4 77\nwww A 192.0.2.1\n";
	assert_int_equal(read_str(t, strlen(t), &opt, &c, &err), 0);
	assert_int_equal(c.n, 2);
	assert_int_equal(c.r[0].ttl, 3600);
	assert_int_equal(c.r[1].ttl, 3600);
	coll_free(&c);

	opt.default_ttl = 42;
	t = "www 10 A 192.0.2.1\nwww A 192.0.2.2\n$TTL 1m\nwww A 192.0.2.3\n";
	assert_int_equal(read_str(t, strlen(t), &opt, &c, &err), 0);
	assert_int_equal(c.n, 3);
	assert_int_equal(c.r[0].ttl, 10);
	assert_int_equal(c.r[1].ttl, 42);   /* not the last explicit TTL */
	assert_int_equal(c.r[2].ttl, 60);
	coll_free(&c);

	/* Empty input, only comments, only blanks: no records, no error. */
	assert_int_equal(read_str("", 0, &opt, &c, &err), 0);
	t = "; nothing\n   \n\t; more\n";
	assert_int_equal(read_str(t, strlen(t), &opt, &c, &err), 0);
	assert_int_equal(c.n, 0);

	/* Outside the zone is fine unless required. */
	t = "www.example.org. A 192.0.2.1\n";
	assert_int_equal(read_str(t, strlen(t), &opt, &c, &err), 0);
	assert_int_equal(c.n, 1);
	coll_free(&c);

	/* Class spellings and TTL/class order. */
	t = "a in 5 A 192.0.2.1\nb 6 CLASS1 A 192.0.2.2\nc IN A 192.0.2.3\n";
	assert_int_equal(read_str(t, strlen(t), &opt, &c, &err), 0);
	assert_int_equal(c.n, 3);
	assert_int_equal(c.r[0].ttl, 5);
	assert_int_equal(c.r[1].ttl, 6);
	coll_free(&c);

	/* The callback stops the read and its value comes back. */
	c.stop_at = 2;
	t = "a A 192.0.2.1\nb A 192.0.2.2\nc A 192.0.2.3\n";
	assert_int_equal(read_str(t, strlen(t), &opt, &c, &err), 99);
	assert_int_equal(c.n, 2);
	assert_int_equal(err.line, 2);
	coll_free(&c);

	/* Bad options. */
	struct zf_options none = { 0 };
	assert_int_equal(read_str(t, strlen(t), &none, &c, &err), DDI_EINVAL);
	assert_int_equal(c.n, 0);
}

/* ------------------------------------------------------------------------ */
/* Errors: file, line and message                                           */
/* ------------------------------------------------------------------------ */

static const struct err_case {
	const char *text;
	unsigned line;
	int code;
	const char *msg;   /* exact, or a prefix when it ends with '*' */
	bool in_zone;
} err_cases[] = {
	{ "www IN A 1.2.3\n", 1, DDI_ESYNTAX, "bad A rdata: expected an IPv4 address, got '1.2.3'" },
	{ "a A 192.0.2.1\n\nwww INN A 192.0.2.1\n", 3, DDI_ESYNTAX,
	  "expected a TTL, class or type, got 'INN'" },
	{ "www 3600 FOO 1.2.3.4\n", 1, DDI_ESYNTAX, "expected a class or type, got 'FOO'" },
	{ "www IN FOO 1.2.3.4\n", 1, DDI_ESYNTAX, "expected a TTL or type, got 'FOO'" },
	{ "www IN 5 FOO 1.2.3.4\n", 1, DDI_ESYNTAX, "expected a type, got 'FOO'" },
	{ "www IN 5 IN A 1.2.3.4\n", 1, DDI_ESYNTAX, "expected a type, got 'IN'" },
	{ "www 1x A 1.2.3.4\n", 1, DDI_ESYNTAX, "expected a TTL, class or type, got '1x'" },
	{ "www\n", 1, DDI_ESYNTAX, "expected a TTL, class or type, got nothing" },
	{ "www \"A\" 1.2.3.4\n", 1, DDI_ESYNTAX, "expected a TTL, class or type, got a quoted string" },
	{ "www 2147483648 A 1.2.3.4\n", 1, DDI_ETTL, "TTL '2147483648' is out of range (0..2147483647)" },
	{ "www CH A 1.2.3.4\n", 1, DDI_ESYNTAX, "class CH is not supported, only IN" },
	{ "www IN HS A 1.2.3.4\n", 1, DDI_ESYNTAX, "expected a TTL or type, got 'HS'" },
	{ "www HS A 1.2.3.4\n", 1, DDI_ESYNTAX, "class HS is not supported, only IN" },
	{ "www ANY \\# 0\n", 1, DDI_ESYNTAX, "class ANY is not supported, only IN" },
	{ "www IN ANY \\# 0\n", 1, DDI_ESYNTAX, "type ANY cannot be used in a zone file" },
	{ "www IN AXFR \\# 0\n", 1, DDI_ESYNTAX, "type AXFR cannot be used in a zone file" },
	{ "www A\n", 1, DDI_ESYNTAX, "bad A rdata: expected an IPv4 address, got end of record" },
	{ " A 1.2.3.4\n", 1, DDI_ESYNTAX, "no previous owner to inherit (the line starts with a blank)" },
	{ "\"www\" A 1.2.3.4\n", 1, DDI_ESYNTAX, "expected an owner name, got a quoted string" },
	{ "a..b A 1.2.3.4\n", 1, DDI_ESYNTAX, "expected an owner name, got 'a..b'*" },
	{ "$INCLUDE other.zone\n", 1, DDI_EINCLUDE,
	  "$INCLUDE is not allowed (includes are disabled for this load)" },
	{ "www A 1.2.3.4 )\n", 1, DDI_ESYNTAX, "')' without '('" },
	{ "a A 192.0.2.1\nwww SOA ( a b 1 2 3 4 5\n\n", 2, DDI_ESYNTAX,
	  "'(' is not closed before the end of the file" },
	{ "www TXT ( ( a )\n", 1, DDI_ESYNTAX, "nested '('" },
	{ "a A 192.0.2.1\nwww TXT \"abc\n\"\n", 2, DDI_ESYNTAX, "unterminated quoted string" },
	{ "www TXT \"abc\"def\n", 1, DDI_ESYNTAX, "expected a blank after the closing quote" },
	{ "www TXT abc\"def\"\n", 1, DDI_ESYNTAX, "unexpected '\"' inside a word (escape it as \\\")" },
	{ "www TXT abc\\\n", 1, DDI_ESYNTAX, "backslash at end of line" },
	{ "www TXT abc\\", 1, DDI_ESYNTAX, "backslash at end of line" },
	{ "www A 192.0.2.1\nx\001 A 1.2.3.4\n", 2, DDI_ESYNTAX,
	  "control character 0x01 in input (write it as \\DDD)" },
	{ "$TTL 2147483648\n", 1, DDI_ETTL, "TTL '2147483648' is out of range (0..2147483647)" },
	{ "$TTL 1y\n", 1, DDI_ESYNTAX, "expected a TTL after $TTL, got '1y'" },
	{ "$TTL\n", 1, DDI_ESYNTAX, "expected $TTL VALUE" },
	{ "$ORIGIN\n", 1, DDI_ESYNTAX, "expected a domain name after $ORIGIN, got nothing" },
	{ "$ORIGIN a b\n", 1, DDI_ESYNTAX, "expected end of line after $ORIGIN NAME, got 'b'" },
	{ "$GENERATE 1-10 h$ A 1.2.3.$\n", 1, DDI_ESYNTAX, "unknown directive '$GENERATE'" },
	{ "www.example.org. A 1.2.3.4\n", 1, DDI_EOUTZONE,
	  "owner www.example.org. is outside the zone example.com.", true },
	{ "$ORIGIN example.net.\nwww A 1.2.3.4\n", 2, DDI_EOUTZONE,
	  "owner www.example.net. is outside the zone example.com.", true },
	{ "@ SOA ns h (\n1\n2\n3\n4\n5 )\nwww A 1.2.3.4.5\n", 7, DDI_ESYNTAX,
	  "bad A rdata: expected an IPv4 address, got '1.2.3.4.5'" },
	{ "@ SOA ns h (\n1\n2\n3\n4 )\nwww A 1.2.3.4\n", 1, DDI_ESYNTAX,
	  "bad SOA rdata: expected a minimum TTL, got end of record" },
	{ "www MX 10 mail extra\n", 1, DDI_ESYNTAX, "bad MX rdata: expected end of record, got 'extra'" },
	{ "www TYPE65280 1 2\n", 1, DDI_ESYNTAX,
	  "bad TYPE65280 rdata: type TYPE65280 needs the RFC 3597 form '\\# LEN HEX'" },
	{ "www A \\# 3 0A0000\n", 1, DDI_ERDATA, "bad A rdata: the \\# data is not valid A rdata" },
	{ "www CAA 0 issue-x \"a\"\n", 1, DDI_ESYNTAX,
	  "bad CAA rdata: expected a CAA tag (1 to 15 letters and digits), got 'issue-x'" },
};

static void test_errors(void **state)
{
	struct zf_options opt = { .origin = origin };
	struct zf_error err;
	struct coll c = { 0 };
	(void)state;

	for (size_t i = 0; i < sizeof(err_cases) / sizeof(err_cases[0]); i++) {
		const struct err_case *e = &err_cases[i];
		size_t ml = strlen(e->msg);
		int r;

		opt.require_in_zone = e->in_zone;
		r = read_str(e->text, strlen(e->text), &opt, &c, &err);
		coll_free(&c);
		if (r != e->code || err.code != e->code || err.line != e->line ||
		    strcmp(err.file, "example.zone") != 0 ||
		    (e->msg[ml - 1] == '*' ? strncmp(err.msg, e->msg, ml - 1) != 0
		                           : strcmp(err.msg, e->msg) != 0))
			fail_msg("case %zu: got %s:%u: %s (%d), want line %u '%s' (%d)", i, err.file,
			         err.line, err.msg, r, e->line, e->msg, e->code);
	}
}

/* Hostile input: NUL bytes, huge lines and records, random bytes. */
static void test_hostile(void **state)
{
	struct zf_options opt = { .origin = origin };
	struct zf_error err;
	struct coll c = { 0 };
	static const char nul[] = "www A 192.0.2.1\nx\0y A 1.2.3.4\n";
	static const char nul_comment[] = "www A 192.0.2.1 ; x\0y\n";
	size_t big = 3u << 20;
	char *t = malloc(big + 64);
	int r;
	(void)state;

	if (t == NULL) {
		fail_msg("out of memory");
		return;
	}
	r = read_str(nul, sizeof(nul) - 1, &opt, &c, &err);
	assert_int_equal(r, DDI_ESYNTAX);
	assert_int_equal(err.line, 2);
	assert_string_equal(err.msg, "NUL byte in input");
	coll_free(&c);
	r = read_str(nul_comment, sizeof(nul_comment) - 1, &opt, &c, &err);
	assert_int_equal(r, DDI_ESYNTAX);
	assert_string_equal(err.msg, "NUL byte in input");
	coll_free(&c);

	/* A 3 MiB comment line is just a comment. */
	memcpy(t, "www A 192.0.2.1 ;", 17);
	memset(t + 17, 'x', big);
	memcpy(t + 17 + big, "\nz A 192.0.2.2\n", 16);
	r = read_str(t, strlen(t), &opt, &c, &err);
	assert_int_equal(r, 0);
	assert_int_equal(c.n, 2);
	coll_free(&c);

	/* A 3 MiB word is refused with a clear message, not read without bound. */
	memcpy(t, "www TXT ", 8);
	memset(t + 8, 'x', big);
	t[8 + big] = '\0';
	r = read_str(t, strlen(t), &opt, &c, &err);
	assert_int_equal(r, DDI_ELIMIT);
	assert_int_equal(err.line, 1);
	assert_string_equal(err.msg, "record longer than 1048576 bytes");

	/* Many strings in one TXT: more than 65535 bytes of rdata is refused. */
	{
		size_t n = 0;

		n += (size_t)sprintf(t, "www TXT (\n");
		for (int i = 0; i < 300; i++)
			n += (size_t)sprintf(t + n, "\"%s\"\n", long_a);
		sprintf(t + n, ")\n");
		r = read_str(t, strlen(t), &opt, &c, &err);
		assert_int_equal(r, DDI_ERDATA);
		assert_string_equal(err.msg, "bad TXT rdata: rdata too long");
		assert_int_equal(c.n, 0);
	}

	/* Random bytes from the zone-file alphabet: never a crash, always a clean answer. */
	{
		static const char alpha[] = "abc.@$;()\"\\ \t\n0123456789AINTXSOMCH*#-\r";
		unsigned seed = 12345;

		for (int it = 0; it < 3000; it++) {
			size_t n = 1 + (size_t)(it % 300);

			for (size_t k = 0; k < n; k++) {
				seed = seed * 1103515245u + 12345u;
				t[k] = alpha[(seed >> 16) % (sizeof(alpha) - 1)];
			}
			memset(&err, 0, sizeof(err));
			r = read_str(t, n, &opt, &c, &err);
			coll_free(&c);
			if (r != 0) {
				assert_true(r < 0);
				assert_int_equal(err.code, r);
				assert_true(err.msg[0] != '\0');
				assert_true(err.line >= 1);
			}
		}
	}
	free(t);
}

/* ------------------------------------------------------------------------ */
/* Files and $INCLUDE                                                       */
/* ------------------------------------------------------------------------ */

static void write_file(const char *dir, const char *name, const char *text)
{
	char path[512];
	FILE *f;

	snprintf(path, sizeof(path), "%s/%s", dir, name);
	f = fopen(path, "w");
	assert_non_null(f);
	fputs(text, f);
	fclose(f);
}

static void test_include(void **state)
{
	char dir[] = "/tmp/ddi-zftest.XXXXXX";
	char path[512], sub[512];
	struct zf_options opt = { .origin = origin };
	struct zf_error err;
	struct coll c = { 0 };
	int r;
	(void)state;

	assert_non_null(mkdtemp(dir));
	assert_int_equal(mkdir(strcat(strcpy(sub, dir), "/inc"), 0700), 0);
	write_file(dir, "main.zone",
	           "$TTL 100\n"
	           "www A 192.0.2.1\n"
	           "$INCLUDE inc/a.zone\n"
	           "\tAAAA 2001:db8::1\n"                  /* owner restored to www */
	           "$INCLUDE inc/a.zone other\n"          /* ORIGIN relative to example.com. */
	           "b A 192.0.2.3\n");                   /* origin restored */
	write_file(dir, "inc/a.zone",
	           "; included\n"
	           "\tTXT \"inherits the includer's owner\"\n"
	           "$ORIGIN changed.example.com.\n"
	           "x A 192.0.2.2\n"
	           "$INCLUDE b.zone\n");                  /* relative to inc/ */
	write_file(dir, "inc/b.zone", "y 7 A 192.0.2.4\n");
	write_file(dir, "bad.zone", "ok A 192.0.2.1\n$INCLUDE inc/broken.zone\n");
	write_file(dir, "inc/broken.zone", "\n\nq A 1.2.3\n");
	write_file(dir, "loop.zone", "$INCLUDE loop.zone\n");
	write_file(dir, "missing.zone", "a A 192.0.2.1\n$INCLUDE nothere.zone\n");

	/* Refused unless allowed. */
	snprintf(path, sizeof(path), "%s/main.zone", dir);
	r = zf_read_file(path, &opt, collect, &c, &err);
	assert_int_equal(r, DDI_EINCLUDE);
	assert_string_equal(err.file, path);
	assert_int_equal(err.line, 3);
	assert_int_equal(c.n, 1);
	coll_free(&c);

	opt.allow_include = true;
	r = zf_read_file(path, &opt, collect, &c, &err);
	if (r != 0)
		fail_msg("%s:%u: %s", err.file, err.line, err.msg);
	{
		static const char *const want[] = {
			"www.example.com. 100 A 192.0.2.1",
			"www.example.com. 100 TXT \"inherits the includer's owner\"",
			"x.changed.example.com. 100 A 192.0.2.2",
			"y.changed.example.com. 7 A 192.0.2.4",
			"www.example.com. 100 AAAA 2001:db8::1",
			"www.example.com. 100 TXT \"inherits the includer's owner\"",
			"x.changed.example.com. 100 A 192.0.2.2",
			"y.changed.example.com. 7 A 192.0.2.4",
			"b.example.com. 100 A 192.0.2.3",
		};
		assert_int_equal(c.n, sizeof(want) / sizeof(want[0]));
		for (int i = 0; i < c.n; i++)
			if (strcmp(c.r[i].text, want[i]) != 0)
				fail_msg("record %d: got '%s', want '%s'", i, c.r[i].text, want[i]);
	}
	coll_free(&c);

	/* The second include's ORIGIN applies inside, until its own $ORIGIN. */
	write_file(dir, "orig.zone", "$INCLUDE inc/b.zone other\n");
	snprintf(path, sizeof(path), "%s/orig.zone", dir);
	assert_int_equal(zf_read_file(path, &opt, collect, &c, &err), 0);
	assert_int_equal(c.n, 1);
	assert_string_equal(c.r[0].text, "y.other.example.com. 7 A 192.0.2.4");
	coll_free(&c);

	/* An error inside an included file names that file and its line. */
	snprintf(path, sizeof(path), "%s/bad.zone", dir);
	r = zf_read_file(path, &opt, collect, &c, &err);
	assert_int_equal(r, DDI_ESYNTAX);
	snprintf(sub, sizeof(sub), "%s/inc/broken.zone", dir);
	assert_string_equal(err.file, sub);
	assert_int_equal(err.line, 3);
	assert_string_equal(err.msg, "bad A rdata: expected an IPv4 address, got '1.2.3'");
	coll_free(&c);

	/* A file that includes itself stops at the depth limit. */
	snprintf(path, sizeof(path), "%s/loop.zone", dir);
	r = zf_read_file(path, &opt, collect, &c, &err);
	assert_int_equal(r, DDI_ELIMIT);
	assert_string_equal(err.msg, "$INCLUDE nested deeper than 8 files");

	/* A missing include: the including file and line, with the reason. */
	snprintf(path, sizeof(path), "%s/missing.zone", dir);
	r = zf_read_file(path, &opt, collect, &c, &err);
	assert_int_equal(r, -ENOENT);
	assert_string_equal(err.file, path);
	assert_int_equal(err.line, 2);
	coll_free(&c);

	/* A missing file. */
	snprintf(path, sizeof(path), "%s/none.zone", dir);
	r = zf_read_file(path, &opt, collect, &c, &err);
	assert_int_equal(r, -ENOENT);
	assert_string_equal(err.file, path);

	/* zf_read_file reads the realistic zone like zf_read_string does. */
	{
		char *text = zone_text();
		struct coll *cz = calloc(1, sizeof(*cz));

		write_file(dir, "example.zone", text);
		snprintf(path, sizeof(path), "%s/example.zone", dir);
		r = zf_read_file(path, &opt, collect, cz, &err);
		if (r != 0)
			fail_msg("%s:%u: %s", err.file, err.line, err.msg);
		check_zone(cz);
		coll_free(cz);
		free(cz);
		free(text);
	}

	static const char *const files[] = { "main.zone", "inc/a.zone", "inc/b.zone", "bad.zone",
	                                     "inc/broken.zone", "loop.zone", "missing.zone",
	                                     "orig.zone", "example.zone" };
	for (size_t i = 0; i < sizeof(files) / sizeof(files[0]); i++) {
		snprintf(path, sizeof(path), "%s/%s", dir, files[i]);
		assert_int_equal(unlink(path), 0);
	}
	snprintf(path, sizeof(path), "%s/inc", dir);
	assert_int_equal(rmdir(path), 0);
	assert_int_equal(rmdir(dir), 0);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_zone),
		cmocka_unit_test(test_write_read),
		cmocka_unit_test(test_defaults),
		cmocka_unit_test(test_errors),
		cmocka_unit_test(test_hostile),
		cmocka_unit_test(test_include),
	};

	return cmocka_run_group_tests(tests, setup, NULL);
}
