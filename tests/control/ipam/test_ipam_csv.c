/* test_ipam_csv -- NetBox-style CSV: round trips, NetBox headers, and every error with its line */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "control/ipam/ipam.h"
#include "control/ipam/csv.h"
#include "dns/errcode.h"
#include "dns/name.h"

/* Rows collected by the callback; fail_at makes the callback refuse one. */
struct got {
	struct ipam_csv_row rows[16];
	size_t n;
	size_t fail_at;   /* 1-based row to refuse, 0 never */
};

static int collect(void *ctx, const struct ipam_csv_row *row, struct ipam_error *err)
{
	struct got *g = ctx;
	if (g->fail_at != 0 && g->n + 1 == g->fail_at) {
		snprintf(err->msg, sizeof(err->msg), "refused by the test");
		return DDI_ECONFLICT;
	}
	assert_true(g->n < 16);
	g->rows[g->n++] = *row;
	return DDI_EOK;
}

static int read_str(const char *csv, struct got *g, struct ipam_error *e)
{
	memset(e, 0, sizeof(*e));
	g->n = 0;
	return ipam_csv_read_mem(csv, strlen(csv), "ipam.csv", collect, g, e);
}

static const char *name_str(const uint8_t *wire, size_t len)
{
	static char buf[DNS_NAME_STRLEN];
	if (len == 0)
		return "";
	assert_true(dns_name_to_str(buf, sizeof(buf), wire) > 0);
	return buf;
}

static void test_netbox_prefixes(void **state)
{
	(void)state;
	struct got g = {0};
	struct ipam_error e;
	char c[IPAM_CIDR_STRLEN];
	/* A NetBox export: BOM, CRLF, display-style headers, columns we ignore. */
	const char *csv =
		"\xef\xbb\xbfID,Prefix,Status,VRF,Tenant,Site,Description,cf_dns_zone,cf_dns_policy,Tags,cf_owner_team\r\n"
		"7,198.18.0.0/15,Container,,Acme,DC1,benchmark space,,,\"a,b\",netops\r\n"
		"8,198.18.0.0/24,active,,,,\"servers, rack 3\",example.com,strict,,\r\n"
		"9,2001:2::/48,Reserved,,,, spaced ,example.com.,AUTO,,\r\n"
		"10,2001:2:0:1::/64,deprecated,,,,,,,,\r\n";
	assert_int_equal(read_str(csv, &g, &e), DDI_EOK);
	assert_int_equal(g.n, 4);
	for (size_t i = 0; i < 4; i++)
		assert_int_equal(g.rows[i].kind, IPAM_CSV_PREFIXES);
	ipam_cidr_format(&g.rows[0].prefix.cidr, c, sizeof(c));
	assert_string_equal(c, "198.18.0.0/15");
	assert_int_equal(g.rows[0].prefix.status, IPAM_STATUS_ACTIVE);
	assert_int_equal(g.rows[0].prefix.policy, IPAM_POLICY_OFF);
	assert_int_equal(g.rows[0].prefix.zone_len, 0);
	assert_string_equal(g.rows[0].prefix.description, "benchmark space");
	assert_int_equal(g.rows[0].line, 2);
	assert_string_equal(g.rows[1].prefix.description, "servers, rack 3");
	assert_string_equal(name_str(g.rows[1].prefix.zone, g.rows[1].prefix.zone_len), "example.com.");
	assert_int_equal(g.rows[1].prefix.policy, IPAM_POLICY_STRICT);
	assert_int_equal(g.rows[2].prefix.status, IPAM_STATUS_RESERVED);
	assert_int_equal(g.rows[2].prefix.policy, IPAM_POLICY_AUTO);
	assert_string_equal(g.rows[2].prefix.description, " spaced ");
	assert_string_equal(name_str(g.rows[2].prefix.zone, g.rows[2].prefix.zone_len), "example.com.");
	assert_int_equal(g.rows[3].prefix.status, IPAM_STATUS_DEPRECATED);
	assert_int_equal(g.rows[3].line, 5);
}

static void test_netbox_addresses(void **state)
{
	(void)state;
	struct got g = {0};
	struct ipam_error e;
	char a[IPAM_ADDR_STRLEN];
	const char *csv =
		"address,status,DNS name,description,cf_mac_address,assigned_object_type,lease_expires\n"
		"198.18.0.5/24,active,web1.example.com,web server,00:1A:2B:3C:4D:5E,dcim.interface,\n"
		"198.18.0.6/24,reserved,,gateway spare,,,\n"
		"198.18.0.7/24,dhcp,lease7.example.com.,,,,2026-11-22T19:00:00Z\n"
		"2001:2::8/64,slaac,,,,,1800000000\n"
		"2001:2::9,,host9.example.com,,,,\n"
		"2001:2::a,,,,,,\n";
	assert_int_equal(read_str(csv, &g, &e), DDI_EOK);
	assert_int_equal(g.n, 6);
	const struct ipam_alloc *r = &g.rows[0].alloc;
	assert_int_equal(g.rows[0].kind, IPAM_CSV_ADDRESSES);
	assert_int_equal(g.rows[0].mask, 24);
	ipam_addr_format(r->family, r->addr, a, sizeof(a));
	assert_string_equal(a, "198.18.0.5");
	assert_int_equal(r->state, IPAM_STATE_STATIC);
	assert_string_equal(name_str(r->name, r->name_len), "web1.example.com.");
	assert_int_equal(r->hw_type, IPAM_HW_MAC);
	assert_memory_equal(r->hw, "\x00\x1a\x2b\x3c\x4d\x5e", 6);
	assert_string_equal(r->description, "web server");
	assert_int_equal(g.rows[1].alloc.state, IPAM_STATE_RESERVED);
	assert_int_equal(g.rows[1].alloc.name_len, 0);
	assert_int_equal(g.rows[2].alloc.state, IPAM_STATE_DYNAMIC);
	assert_int_equal(g.rows[2].alloc.expires, 1795374000);
	assert_int_equal(g.rows[3].alloc.state, IPAM_STATE_DYNAMIC);
	assert_int_equal(g.rows[3].alloc.expires, 1800000000);
	assert_int_equal(g.rows[3].mask, 64);
	/* No status: static with a name, reserved without. */
	assert_int_equal(g.rows[4].alloc.state, IPAM_STATE_STATIC);
	assert_int_equal(g.rows[4].mask, 128);
	assert_int_equal(g.rows[5].alloc.state, IPAM_STATE_RESERVED);
}

/* Records through the writers and back: the same records. */
static void test_round_trip(void **state)
{
	(void)state;
	struct ipam_prefix p[3];
	struct ipam_alloc al[4];
	struct ipam_error e;
	struct got g = {0};
	char *buf = NULL;
	size_t len = 0;
	int f;

	for (int i = 0; i < 3; i++)
		ipam_prefix_init(&p[i]);
	ipam_cidr_parse("198.18.0.0/15", &p[0].cidr, NULL);
	ipam_cidr_parse("198.18.0.0/24", &p[1].cidr, NULL);
	p[1].status = IPAM_STATUS_RESERVED;
	p[1].policy = IPAM_POLICY_STRICT;
	p[1].zone_len = (uint8_t)dns_name_from_str(p[1].zone, "ex\\,ample.com.", 14, NULL);
	strcpy(p[1].description, "quote \" comma , and \xc3\xa9");
	ipam_cidr_parse("2001:2::/48", &p[2].cidr, NULL);
	p[2].policy = IPAM_POLICY_AUTO;
	p[2].zone_len = 1;   /* the root zone, written "." */
	strcpy(p[2].description, " lead and trail ");

	for (int i = 0; i < 4; i++)
		ipam_alloc_init(&al[i]);
	ipam_addr_parse("198.18.0.5", &f, al[0].addr, NULL);
	al[0].family = 4;
	al[0].name_len = (uint8_t)dns_name_from_str(al[0].name, "web1.example.com.", 17, NULL);
	al[0].hw_type = IPAM_HW_MAC;
	al[0].hw_len = 6;
	memcpy(al[0].hw, "\x00\x1a\x2b\x3c\x4d\x5e", 6);
	strcpy(al[0].owner, "alice");
	strcpy(al[0].description, "line one, \"two\"");
	ipam_addr_parse("198.18.0.6", &f, al[1].addr, NULL);
	al[1].family = 4;
	al[1].state = IPAM_STATE_RESERVED;
	ipam_addr_parse("2001:2::7", &f, al[2].addr, NULL);
	al[2].family = 6;
	al[2].state = IPAM_STATE_DYNAMIC;
	al[2].name_len = (uint8_t)dns_name_from_str(al[2].name, "lease.example.com.", 18, NULL);
	al[2].hw_type = IPAM_HW_CLIENTID;
	al[2].hw_len = 4;
	memcpy(al[2].hw, "\x00\x03\x00\x01", 4);
	al[2].expires = 1795374000;
	ipam_addr_parse("2001:2::8", &f, al[3].addr, NULL);
	al[3].family = 6;
	al[3].state = IPAM_STATE_DYNAMIC;   /* nameless lease */

	FILE *out = open_memstream(&buf, &len);
	assert_non_null(out);
	assert_int_equal(ipam_csv_write_prefix_header(out, NULL), DDI_EOK);
	for (int i = 0; i < 3; i++)
		assert_int_equal(ipam_csv_write_prefix(out, &p[i], NULL), DDI_EOK);
	fputc('\n', out);
	assert_int_equal(ipam_csv_write_alloc_header(out, NULL), DDI_EOK);
	for (int i = 0; i < 4; i++)
		assert_int_equal(ipam_csv_write_alloc(out, &al[i], i < 2 ? 24 : 48, NULL), DDI_EOK);
	struct ipam_alloc bad = al[0];
	bad.name_len = 0;
	assert_int_equal(ipam_csv_write_alloc(out, &bad, 24, NULL), DDI_EINVAL);
	assert_int_equal(ipam_csv_write_alloc(out, &al[0], 33, NULL), DDI_EINVAL);
	fclose(out);
	assert_string_equal(buf,
		"prefix,status,description,dns_zone,dns_policy,tags,tenant\n"
		"198.18.0.0/15,active,,,off,,\n"
		"198.18.0.0/24,reserved,\"quote \"\" comma , and \xc3\xa9\",\"ex,ample.com\",strict,,\n"
		"2001:2::/48,active,\" lead and trail \",.,auto,,\n"
		"\n"
		"address,status,dns_name,description,mac_address,client_id,owner,lease_expires,tags,tenant\n"
		"198.18.0.5/24,active,web1.example.com,\"line one, \"\"two\"\"\",00:1a:2b:3c:4d:5e,,alice,,,\n"
		"198.18.0.6/24,reserved,,,,,,,,\n"
		"2001:2::7/48,dhcp,lease.example.com,,,00:03:00:01,,2026-11-22T19:00:00Z,,\n"
		"2001:2::8/48,dhcp,,,,,,,,\n");

	assert_int_equal(ipam_csv_read_mem(buf, len, "export.csv", collect, &g, &e), DDI_EOK);
	assert_int_equal(g.n, 7);
	for (int i = 0; i < 3; i++) {
		assert_int_equal(g.rows[i].kind, IPAM_CSV_PREFIXES);
		assert_memory_equal(&g.rows[i].prefix, &p[i], sizeof(p[i]));
	}
	for (int i = 0; i < 4; i++) {
		assert_int_equal(g.rows[3 + i].kind, IPAM_CSV_ADDRESSES);
		assert_memory_equal(&g.rows[3 + i].alloc, &al[i], sizeof(al[i]));
		assert_int_equal(g.rows[3 + i].mask, i < 2 ? 24 : 48);
	}
	assert_int_equal(g.rows[3].line, 7);

	/* Through a FILE as well (ungetc after the BOM check). */
	FILE *in = fmemopen(buf, len, "r");
	g.n = 0;
	assert_int_equal(ipam_csv_read(in, "export.csv", collect, &g, &e), DDI_EOK);
	assert_int_equal(g.n, 7);
	fclose(in);
	free(buf);

	/* Nothing at all is a valid, empty import. */
	assert_int_equal(read_str("", &g, &e), DDI_EOK);
	assert_int_equal(g.n, 0);
	assert_int_equal(read_str("\n\n", &g, &e), DDI_EOK);
	assert_int_equal(read_str("prefix\n", &g, &e), DDI_EOK);
	assert_int_equal(g.n, 0);
}

static void test_errors(void **state)
{
	(void)state;
	static const struct {
		const char *csv;
		int code;
		size_t rows;   /* rows handed out before the error */
		const char *msg;
	} cases[] = {
		{"address,dns_name\n198.18.0.1,a.example.com\n198.18.0.300,b.example.com\n", DDI_ESYNTAX, 1,
		 "ipam.csv:3: column 'address': '198.18.0.300' is not an IP address"},
		{"prefix,descripton\n", DDI_ESYNTAX, 0, "ipam.csv:1: unknown column 'descripton'"},
		{"prefix,status\n198.18.0.0/24,active,x\n", DDI_ESYNTAX, 0,
		 "ipam.csv:2: 3 fields, the header has 2"},
		{"prefix,status\n198.18.0.0/24\n", DDI_ESYNTAX, 0, "ipam.csv:2: 1 fields, the header has 2"},
		{"prefix,description\n198.18.0.0/24,\"open\n", DDI_ESYNTAX, 0,
		 "ipam.csv:2: a quoted field is not closed"},
		{"prefix,description\n198.18.0.0/24,a\"b\n", DDI_ESYNTAX, 0,
		 "ipam.csv:2: a quote inside an unquoted field (quote the whole field)"},
		{"prefix,description\n198.18.0.0/24,\"a\"b\n", DDI_ESYNTAX, 0,
		 "ipam.csv:2: characters after a closing quote"},
		{"prefix,description\r198.18.0.0/24,a\n", DDI_ESYNTAX, 0,
		 "ipam.csv:1: carriage return not followed by a line feed"},
		{"prefix,vrf\n198.18.0.0/24,\n198.18.1.0/24,red\n", DDI_ESYNTAX, 1,
		 "ipam.csv:3: column 'vrf': VRF 'red' is not supported (ddiplane has one global address space)"},
		{"Prefix\n198.18.0.1/24\n", DDI_ESYNTAX, 0,
		 "ipam.csv:2: column 'Prefix': 198.18.0.1/24 has host bits set; did you mean 198.18.0.0/24?"},
		{"address,status\n198.18.0.1/24,deprecated\n", DDI_ESYNTAX, 0,
		 "ipam.csv:2: column 'status': status 'deprecated' is not kept for addresses (release the "
		 "address, or use reserved)"},
		{"address,status\n198.18.0.1,leased\n", DDI_ESYNTAX, 0,
		 "ipam.csv:2: column 'status': 'leased' is not an address status (active, reserved, dhcp, slaac)"},
		{"prefix,status\n198.18.0.0/24,used\n", DDI_ESYNTAX, 0,
		 "ipam.csv:2: column 'status': 'used' is not a prefix status (active, reserved, deprecated)"},
		{"prefix,dns_policy\n198.18.0.0/24,loose\n", DDI_ESYNTAX, 0,
		 "ipam.csv:2: column 'dns_policy': 'loose' is not a DNS policy (strict, auto, off)"},
		{"prefix,dns_zone\n198.18.0.0/24,a..b\n", DDI_ESYNTAX, 0,
		 "ipam.csv:2: column 'dns_zone': 'a..b' is not a domain name (syntax error)"},
		{"prefix,Status,status\n", DDI_ESYNTAX, 0, "ipam.csv:1: column 'status' appears twice"},
		{"prefix,address\n", DDI_ESYNTAX, 0,
		 "ipam.csv:1: a header with both 'prefix' and 'address' (one table per kind)"},
		{"status,description\n", DDI_ESYNTAX, 0,
		 "ipam.csv:1: the header has neither a 'prefix' nor an 'address' column"},
		{"address,dns_zone\n", DDI_ESYNTAX, 0,
		 "ipam.csv:1: column 'dns_zone' does not belong in an addresses table"},
		{"prefix,dns_name\n", DDI_ESYNTAX, 0,
		 "ipam.csv:1: column 'dns_name' does not belong in a prefixes table"},
		{"address,status\n198.18.0.1,active\n", DDI_ESYNTAX, 0,
		 "ipam.csv:2: a static allocation needs a name"},
		{"address,status,lease_expires,dns_name\n198.18.0.1,active,1000,a.example\n", DDI_ESYNTAX, 0,
		 "ipam.csv:2: only a dynamic allocation has a lease expiry"},
		{"address,status,lease_expires\n198.18.0.1,dhcp,2026-02-31T00:00:00Z\n", DDI_ESYNTAX, 0,
		 "ipam.csv:2: column 'lease_expires': '2026-02-31T00:00:00Z' is not a time "
		 "(YYYY-MM-DDTHH:MM:SSZ or unix seconds)"},
		{"address,status,lease_expires\n198.18.0.1,dhcp,2026-1-01T00:00:00Z\n", DDI_ESYNTAX, 0,
		 "ipam.csv:2: column 'lease_expires': '2026-1-01T00:00:00Z' is not a time "
		 "(YYYY-MM-DDTHH:MM:SSZ or unix seconds)"},
		{"address,mac\n198.18.0.1,00:11:22\n", DDI_ESYNTAX, 0,
		 "ipam.csv:2: column 'mac': '00:11:22' is not a MAC address"},
		{"address,mac,client_id\n198.18.0.1,00:11:22:33:44:55,01:02\n", DDI_ESYNTAX, 0,
		 "ipam.csv:2: column 'client_id': both a MAC address and a client id"},
		/* A quoted field spanning lines: the error names the line its row starts on. */
		{"prefix,description\n198.18.0.0/24,\"two\nlines\"\n198.18.1.0/24,x\n198.18.2.1/24,y\n",
		 DDI_ESYNTAX, 0,
		 "ipam.csv:2: the description is not UTF-8 text without control characters"},
		{"prefix,description\n198.18.1.0/24,x\n198.18.0.0/24,\"two\nlines\"\n198.18.2.1/24,y\n",
		 DDI_ESYNTAX, 1, "ipam.csv:3: the description is not UTF-8 text without control characters"},
		/* A blank line starts a new table: the next line is a header. */
		{"prefix\n198.18.0.0/24\n\n198.18.1.0/24\n", DDI_ESYNTAX, 1,
		 "ipam.csv:4: unknown column '198.18.1.0/24'"},
		{"\xef\xbb\x01prefix\n", DDI_ESYNTAX, 0, "ipam.csv:1: a broken byte order mark"},
		{"IP Address,DNS Name\n198.18.0.1/24,a.example\n198.18.0.2/24,b.example\n"
		 "198.18.0.3/24,c..example\n", DDI_ESYNTAX, 2,
		 "ipam.csv:4: column 'DNS Name': 'c..example' is not a domain name (syntax error)"},
		{"address,status,lease_expires\n198.18.0.1,dhcp,9223372036854775808\n", DDI_ESYNTAX, 0,
		 "ipam.csv:2: column 'lease_expires': '9223372036854775808' is not a time "
		 "(YYYY-MM-DDTHH:MM:SSZ or unix seconds)"},
	};
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		struct got g = {0};
		struct ipam_error e;
		int r = read_str(cases[i].csv, &g, &e);
		if (r != cases[i].code || strcmp(e.msg, cases[i].msg) != 0)
			fail_msg("case %zu: %d '%s'", i, r, e.msg);
		assert_int_equal(e.code, cases[i].code);
		assert_int_equal(g.n, cases[i].rows);
	}

	/* A description too long; a NUL byte; a row too wide. */
	struct got g = {0};
	struct ipam_error e;
	char big[20000];
	int n = snprintf(big, sizeof(big), "prefix,description\n198.18.0.0/24,");
	memset(big + n, 'x', 201);
	strcpy(big + n + 201, "\n");
	assert_int_equal(read_str(big, &g, &e), DDI_ESYNTAX);
	assert_string_equal(e.msg, "ipam.csv:2: column 'description': longer than 200 bytes");
	memset(big + n, 'x', 17000);
	strcpy(big + n + 17000, "\n");
	assert_int_equal(read_str(big, &g, &e), DDI_ESYNTAX);
	assert_string_equal(e.msg, "ipam.csv:2: row longer than 16384 bytes or 96 columns");
	static const char nul[] = "prefix\n198.18.0.0/24\0\n";
	assert_int_equal(ipam_csv_read_mem(nul, sizeof(nul) - 1, "ipam.csv", collect, &g, &e), DDI_ESYNTAX);
	assert_string_equal(e.msg, "ipam.csv:2: NUL byte in the file");

	/* The callback's refusal stops the reader at that row, with its line. */
	g.fail_at = 2;
	assert_int_equal(read_str("prefix\n198.18.0.0/24\n198.18.1.0/24\n198.18.2.0/24\n", &g, &e),
	                 DDI_ECONFLICT);
	assert_string_equal(e.msg, "ipam.csv:3: refused by the test");
	assert_int_equal(g.n, 1);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_netbox_prefixes),
		cmocka_unit_test(test_netbox_addresses),
		cmocka_unit_test(test_round_trip),
		cmocka_unit_test(test_errors),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
