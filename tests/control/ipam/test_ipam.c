/* test_ipam -- IPAM model: parsers, reverse zones, encodings, next-free and utilization against oracles */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "control/ipam/ipam.h"
#include "dns/errcode.h"
#include "dns/name.h"

/* ------------------------------------------------------------------------ */
/* Helpers                                                                  */
/* ------------------------------------------------------------------------ */

static struct ipam_cidr P(const char *s)
{
	struct ipam_cidr c;
	struct ipam_error e;
	int r = ipam_cidr_parse(s, &c, &e);
	if (r != DDI_EOK)
		fail_msg("%s: %s", s, e.msg);
	return c;
}

static ipam_u128 A(const char *s)
{
	uint8_t a[16];
	int f;
	assert_int_equal(ipam_addr_parse(s, &f, a, NULL), DDI_EOK);
	return ipam_addr_to_u128(f, a);
}

static const char *name_str(const uint8_t *wire)
{
	static char buf[DNS_NAME_STRLEN];
	assert_true(dns_name_to_str(buf, sizeof(buf), wire) > 0);
	return buf;
}

static const char *cidr_str(const struct ipam_cidr *c)
{
	static char buf[4][IPAM_CIDR_STRLEN];
	static int k;
	k = (k + 1) % 4;
	assert_true(ipam_cidr_format(c, buf[k], sizeof(buf[k])) > 0);
	return buf[k];
}

/* Deterministic PRNG (xorshift64*), so a failure replays. */
static uint64_t rng_state = 0x9e3779b97f4a7c15ull;
static uint64_t rnd(void)
{
	rng_state ^= rng_state >> 12;
	rng_state ^= rng_state << 25;
	rng_state ^= rng_state >> 27;
	return rng_state * 0x2545f4914f6cdd1dull;
}

/* ------------------------------------------------------------------------ */
/* Addresses and prefixes                                                   */
/* ------------------------------------------------------------------------ */

static void test_addr_parse(void **state)
{
	(void)state;
	uint8_t a[16];
	int f;
	char buf[IPAM_ADDR_STRLEN];
	struct ipam_error e;

	assert_int_equal(ipam_addr_parse("198.18.0.5", &f, a, &e), DDI_EOK);
	assert_int_equal(f, 4);
	assert_memory_equal(a, "\xc6\x12\x00\x05\0\0\0\0\0\0\0\0\0\0\0\0", 16);
	assert_int_equal(ipam_addr_format(4, a, buf, sizeof(buf)), 10);
	assert_string_equal(buf, "198.18.0.5");
	assert_int_equal(ipam_addr_parse("2001:2:0:0:0:0:0:1", &f, a, &e), DDI_EOK);
	assert_int_equal(f, 6);
	assert_int_equal(ipam_addr_format(6, a, buf, sizeof(buf)), 9);
	assert_string_equal(buf, "2001:2::1");   /* RFC 5952 */
	assert_int_equal(ipam_addr_format(6, a, buf, 9), DDI_ESPACE);

	static const char *const bad[] = {"198.18.0.300", "198.18.0", "198.018.0.1", " 198.18.0.1",
	                                  "198.18.0.1 ", "fe80::1%eth0", "2001:2::1::", "", "abc",
	                                  "1.2.3.4.5", "::ffff:1.2.3", "2001:2:0:0:0:0:0:0:1"};
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		assert_int_equal(ipam_addr_parse(bad[i], &f, a, &e), DDI_ESYNTAX);
		char want[128];
		snprintf(want, sizeof(want), "'%s' is not an IP address", bad[i]);
		assert_string_equal(e.msg, want);
	}
	assert_int_equal(ipam_addr_parse("198.18.0.1\x01", &f, a, &e), DDI_ESYNTAX);
	assert_string_equal(e.msg, "'198.18.0.1?' is not an IP address");
}

static void test_cidr_parse(void **state)
{
	(void)state;
	struct ipam_cidr c;
	struct ipam_error e;

	assert_int_equal(ipam_cidr_parse("198.18.0.0/24", &c, &e), DDI_EOK);
	assert_int_equal(c.family, 4);
	assert_int_equal(c.plen, 24);
	assert_string_equal(cidr_str(&c), "198.18.0.0/24");
	assert_int_equal(ipam_cidr_parse("2001:2::/48", &c, &e), DDI_EOK);
	assert_int_equal(c.family, 6);
	assert_int_equal(c.plen, 48);
	assert_string_equal(cidr_str(&c), "2001:2::/48");
	assert_int_equal(ipam_cidr_parse("0.0.0.0/0", &c, &e), DDI_EOK);
	assert_int_equal(ipam_cidr_parse("::/0", &c, &e), DDI_EOK);
	assert_int_equal(ipam_cidr_parse("198.18.0.1/32", &c, &e), DDI_EOK);
	assert_int_equal(ipam_cidr_parse("2001:2::1/128", &c, &e), DDI_EOK);

	static const struct {
		const char *in, *msg;
	} bad[] = {
		{"198.18.0.1/24", "198.18.0.1/24 has host bits set; did you mean 198.18.0.0/24?"},
		{"2001:2::1/48", "2001:2::1/48 has host bits set; did you mean 2001:2::/48?"},
		{"198.19.255.255/15", "198.19.255.255/15 has host bits set; did you mean 198.18.0.0/15?"},
		{"198.18.0.0", "'198.18.0.0' has no prefix length (ADDRESS/LENGTH)"},
		{"198.18.0.0/33", "'198.18.0.0/33': prefix length 33 is out of range for IPv4 (0-32)"},
		{"2001:2::/129", "'2001:2::/129': prefix length 129 is out of range for IPv6 (0-128)"},
		{"198.18.0.0/024", "'198.18.0.0/024' is not an IP prefix: '024' is not a prefix length"},
		{"198.18.0.0/", "'198.18.0.0/' is not an IP prefix: '' is not a prefix length"},
		{"198.18.0.0/2a", "'198.18.0.0/2a' is not an IP prefix: '2a' is not a prefix length"},
		{"198.18.0.0/-1", "'198.18.0.0/-1' is not an IP prefix: '-1' is not a prefix length"},
		{"198.18.0.0/24/1", "'198.18.0.0/24/1' is not an IP prefix: '24/1' is not a prefix length"},
		{"198.18.0.300/24",
		 "'198.18.0.300/24' is not an IP prefix: '198.18.0.300' is not an IP address"},
		{"", "'' is not an IP address"},
	};
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		e.msg[0] = 0;
		assert_int_equal(ipam_cidr_parse(bad[i].in, &c, &e), DDI_ESYNTAX);
		assert_int_equal(e.code, DDI_ESYNTAX);
		assert_string_equal(e.msg, bad[i].msg);
	}

	/* Interface form: host bits allowed, no length means the width. */
	assert_int_equal(ipam_host_parse("198.18.0.5/24", &c, &e), DDI_EOK);
	assert_int_equal(c.plen, 24);
	assert_int_equal(c.addr[3], 5);
	assert_int_equal(ipam_host_parse("2001:2::5", &c, &e), DDI_EOK);
	assert_int_equal(c.plen, 128);
	assert_int_equal(ipam_host_parse("198.18.0.5/40", &c, &e), DDI_ESYNTAX);
	assert_false(ipam_cidr_valid(&(struct ipam_cidr){.family = 4, .plen = 24, .addr = {1, 2, 3, 4}}));
	assert_false(ipam_cidr_valid(&(struct ipam_cidr){.family = 5, .plen = 0}));
	assert_false(ipam_cidr_valid(&(struct ipam_cidr){.family = 4, .plen = 0, .addr = {[4] = 1}}));
}

static void test_containment(void **state)
{
	(void)state;
	struct ipam_cidr a = P("198.18.0.0/15"), b = P("198.19.4.0/24"), c = P("198.18.0.0/24");
	struct ipam_cidr d = P("198.18.1.0/24"), v6 = P("2001:2::/48");
	uint8_t addr[16];
	int f;

	assert_true(ipam_cidr_contains(&a, &b));
	assert_true(ipam_cidr_contains(&a, &a));
	assert_false(ipam_cidr_contains(&b, &a));
	assert_false(ipam_cidr_contains(&c, &d));
	assert_false(ipam_cidr_contains(&a, &v6));
	assert_true(ipam_cidr_overlap(&a, &c));
	assert_true(ipam_cidr_overlap(&c, &a));
	assert_false(ipam_cidr_overlap(&c, &d));
	assert_false(ipam_cidr_overlap(&c, &v6));
	ipam_addr_parse("198.18.0.255", &f, addr, NULL);
	assert_true(ipam_cidr_contains_addr(&c, 4, addr));
	assert_false(ipam_cidr_contains_addr(&d, 4, addr));
	assert_false(ipam_cidr_contains_addr(&v6, 4, addr));
	/* Pre-order: parents first, then by address. */
	assert_true(ipam_cidr_cmp(&a, &c) < 0);
	assert_true(ipam_cidr_cmp(&c, &d) < 0);
	assert_true(ipam_cidr_cmp(&d, &b) < 0);
	assert_true(ipam_cidr_cmp(&b, &v6) < 0);
	assert_int_equal(ipam_cidr_cmp(&b, &b), 0);
	assert_true(ipam_cidr_first(&a) == A("198.18.0.0"));
	assert_true(ipam_cidr_last(&a) == A("198.19.255.255"));
	struct ipam_cidr all6 = P("::/0");
	assert_true(ipam_cidr_last(&all6) == ~(ipam_u128)0);
}

/* ------------------------------------------------------------------------ */
/* Reverse zones                                                            */
/* ------------------------------------------------------------------------ */

static void check_zones(const char *prefix, size_t want_n, const char *first, const char *last)
{
	struct ipam_cidr c = P(prefix), z[256];
	uint8_t name[DNS_NAME_MAXLEN];
	size_t n = 0;

	assert_int_equal(ipam_reverse_zones(&c, z, 256, &n), DDI_EOK);
	assert_int_equal(n, want_n);
	assert_true(ipam_reverse_name(&z[0], name) > 0);
	assert_string_equal(name_str(name), first);
	assert_true(ipam_reverse_name(&z[n - 1], name) > 0);
	assert_string_equal(name_str(name), last);
	for (size_t i = 0; i < n; i++) {
		/* Each zone covers part of the prefix, or the prefix lies in it. */
		assert_true(ipam_cidr_overlap(&z[i], &c));
		assert_int_equal(dns_name_check(name, DNS_NAME_MAXLEN) > 0, 1);
	}
}

static void test_reverse_zones(void **state)
{
	(void)state;
	check_zones("198.18.0.0/24", 1, "0.18.198.in-addr.arpa.", "0.18.198.in-addr.arpa.");
	check_zones("198.18.0.0/20", 1, "18.198.in-addr.arpa.", "18.198.in-addr.arpa.");
	check_zones("198.18.0.0/16", 1, "18.198.in-addr.arpa.", "18.198.in-addr.arpa.");
	check_zones("198.18.0.0/15", 1, "198.in-addr.arpa.", "198.in-addr.arpa.");
	check_zones("10.0.0.0/8", 1, "10.in-addr.arpa.", "10.in-addr.arpa.");
	check_zones("198.18.0.64/26", 1, "0.18.198.in-addr.arpa.", "0.18.198.in-addr.arpa.");
	check_zones("198.18.0.5/32", 1, "0.18.198.in-addr.arpa.", "0.18.198.in-addr.arpa.");
	check_zones("198.18.0.4/31", 1, "0.18.198.in-addr.arpa.", "0.18.198.in-addr.arpa.");
	check_zones("10.0.0.0/7", 2, "10.in-addr.arpa.", "11.in-addr.arpa.");
	check_zones("0.0.0.0/0", 256, "0.in-addr.arpa.", "255.in-addr.arpa.");
	check_zones("2001:2::/48", 1, "0.0.0.0.2.0.0.0.1.0.0.2.ip6.arpa.",
	            "0.0.0.0.2.0.0.0.1.0.0.2.ip6.arpa.");
	check_zones("2001:2::/50", 1, "0.0.0.0.2.0.0.0.1.0.0.2.ip6.arpa.",
	            "0.0.0.0.2.0.0.0.1.0.0.2.ip6.arpa.");
	check_zones("2001:2:0:ab00::/56", 1, "b.a.0.0.0.0.2.0.0.0.1.0.0.2.ip6.arpa.",
	            "b.a.0.0.0.0.2.0.0.0.1.0.0.2.ip6.arpa.");
	check_zones("2001:2:0:1::/64", 1, "1.0.0.0.0.0.0.0.2.0.0.0.1.0.0.2.ip6.arpa.",
	            "1.0.0.0.0.0.0.0.2.0.0.0.1.0.0.2.ip6.arpa.");
	check_zones("2001:2:0:1::4/127", 1, "1.0.0.0.0.0.0.0.2.0.0.0.1.0.0.2.ip6.arpa.",
	            "1.0.0.0.0.0.0.0.2.0.0.0.1.0.0.2.ip6.arpa.");
	check_zones("2001:2::/31", 1, "0.0.0.1.0.0.2.ip6.arpa.", "0.0.0.1.0.0.2.ip6.arpa.");
	check_zones("2000::/3", 2, "2.ip6.arpa.", "3.ip6.arpa.");   /* below /4: split */
	check_zones("::/0", 16, "0.ip6.arpa.", "f.ip6.arpa.");
	check_zones("8000::/1", 8, "8.ip6.arpa.", "f.ip6.arpa.");

	struct ipam_cidr c = P("0.0.0.0/0"), z[4];
	size_t n;
	assert_int_equal(ipam_reverse_zones(&c, z, 4, &n), DDI_ESPACE);

	uint8_t name[DNS_NAME_MAXLEN], a[16];
	int f;
	ipam_addr_parse("198.18.0.5", &f, a, NULL);
	assert_int_equal(ipam_ptr_name(f, a, name), 25);
	assert_string_equal(name_str(name), "5.0.18.198.in-addr.arpa.");
	ipam_addr_parse("2001:2::abcd", &f, a, NULL);
	assert_int_equal(ipam_ptr_name(f, a, name), 74);
	assert_string_equal(name_str(name),
	                    "d.c.b.a.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.2.0.0.0.1.0.0.2.ip6.arpa.");
	struct ipam_cidr odd = P("198.18.0.0/20");
	assert_int_equal(ipam_reverse_name(&odd, name), DDI_EINVAL);
	struct ipam_cidr all = P("0.0.0.0/0");
	assert_int_equal(ipam_reverse_name(&all, name), 14);
	assert_string_equal(name_str(name), "in-addr.arpa.");
}

/* ------------------------------------------------------------------------ */
/* MAC, client id, enums                                                    */
/* ------------------------------------------------------------------------ */

static void test_mac(void **state)
{
	(void)state;
	uint8_t m[6], id[IPAM_CLIENTID_MAX];
	size_t n;
	char buf[IPAM_CLIENTID_MAX * 3 + 1];
	struct ipam_error e;
	static const uint8_t want[6] = {0x00, 0x1a, 0x2b, 0x3c, 0x4d, 0x5e};
	static const char *const good[] = {"00:1a:2b:3c:4d:5e", "00-1A-2B-3C-4D-5E", "001a.2b3c.4d5e",
	                                   "001A2b3C4d5E"};
	for (size_t i = 0; i < 4; i++) {
		memset(m, 0xff, 6);
		assert_int_equal(ipam_mac_parse(good[i], m, &e), DDI_EOK);
		assert_memory_equal(m, want, 6);
	}
	assert_int_equal(ipam_hex_format(m, 6, buf, sizeof(buf)), 17);
	assert_string_equal(buf, "00:1a:2b:3c:4d:5e");
	assert_int_equal(ipam_hex_format(m, 6, buf, 17), DDI_ESPACE);
	static const char *const bad[] = {"00:1a:2b:3c:4d", "00:1a:2b:3c:4d:5g", "00:1a-2b:3c:4d:5e",
	                                  "001a.2b3c:4d5e", "001a2b3c4d5", "", "00:1a:2b:3c:4d:5e:"};
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		assert_int_equal(ipam_mac_parse(bad[i], m, &e), DDI_ESYNTAX);
		char w[128];
		snprintf(w, sizeof(w), "'%s' is not a MAC address", bad[i]);
		assert_string_equal(e.msg, w);
	}
	assert_int_equal(ipam_clientid_parse("01:00:1a:2b:3c:4d:5e", id, &n, &e), DDI_EOK);
	assert_int_equal(n, 7);
	assert_int_equal(id[0], 1);
	assert_int_equal(ipam_clientid_parse("ff", id, &n, &e), DDI_EOK);
	assert_int_equal(n, 1);
	assert_int_equal(ipam_clientid_parse("01:0", id, &n, &e), DDI_ESYNTAX);
	assert_string_equal(e.msg, "'01:0' is not a client identifier (1 to 130 hex bytes separated by ':')");
	assert_int_equal(ipam_clientid_parse("01-02", id, &n, &e), DDI_ESYNTAX);
	assert_int_equal(ipam_clientid_parse("", id, &n, &e), DDI_ESYNTAX);
	char longid[131 * 3];
	for (int i = 0; i < 131; i++)
		memcpy(longid + 3 * i, "ab:", 3);
	longid[131 * 3 - 1] = 0;
	assert_int_equal(ipam_clientid_parse(longid, id, &n, &e), DDI_ESYNTAX);
	longid[130 * 3 - 1] = 0;
	assert_int_equal(ipam_clientid_parse(longid, id, &n, &e), DDI_EOK);
	assert_int_equal(n, 130);
}

static void test_enums(void **state)
{
	(void)state;
	assert_string_equal(ipam_status_name(IPAM_STATUS_DEPRECATED), "deprecated");
	assert_int_equal(ipam_status_parse("reserved"), IPAM_STATUS_RESERVED);
	assert_int_equal(ipam_status_parse("Reserved"), DDI_EINVAL);
	assert_null(ipam_status_name(0));
	assert_null(ipam_status_name(4));
	assert_int_equal(ipam_policy_parse("strict"), IPAM_POLICY_STRICT);
	assert_int_equal(ipam_policy_parse("auto"), IPAM_POLICY_AUTO);
	assert_int_equal(ipam_policy_parse("off"), IPAM_POLICY_OFF);
	assert_int_equal(ipam_policy_parse(""), DDI_EINVAL);
	assert_string_equal(ipam_policy_name(IPAM_POLICY_OFF), "off");
	assert_int_equal(ipam_state_parse("dynamic"), IPAM_STATE_DYNAMIC);
	assert_string_equal(ipam_state_name(IPAM_STATE_RESERVED), "reserved");
	assert_null(ipam_state_name(-1));
	assert_string_equal(ddi_strerror(DDI_EFULL), "prefix full");
}

/* ------------------------------------------------------------------------ */
/* Records: binary and JSON                                                 */
/* ------------------------------------------------------------------------ */

static void sample_prefix(struct ipam_prefix *p)
{
	ipam_prefix_init(p);
	p->cidr = P("198.18.0.0/24");
	p->status = IPAM_STATUS_RESERVED;
	p->policy = IPAM_POLICY_STRICT;
	p->zone_len = (uint8_t)dns_name_from_str(p->zone, "example.com.", 12, NULL);
	p->created = 1700000000;
	p->updated = 1700000001;
	strcpy(p->description, "rack 3, r\xc3\xa9seau \"A\"");
}

static void sample_alloc(struct ipam_alloc *a)
{
	int f;
	ipam_alloc_init(a);
	ipam_addr_parse("2001:2::42", &f, a->addr, NULL);
	a->family = (uint8_t)f;
	a->state = IPAM_STATE_DYNAMIC;
	a->name_len = (uint8_t)dns_name_from_str(a->name, "host42.example.com.", 19, NULL);
	a->hw_type = IPAM_HW_CLIENTID;
	a->hw_len = 3;
	memcpy(a->hw, "\x00\x01\x02", 3);
	a->created = 1;
	a->updated = 2;
	a->expires = 1800000000;
	strcpy(a->owner, "kea-ddns");
	strcpy(a->description, "lease");
}

static void sample_range(struct ipam_range *r)
{
	int f;
	ipam_range_init(r);
	ipam_addr_parse("198.18.0.100", &f, r->first, NULL);
	ipam_addr_parse("198.18.0.199", &f, r->last, NULL);
	r->family = 4;
	r->dynamic = true;
	r->created = 5;
	r->updated = 6;
	strcpy(r->description, "DHCP pool");
}

/* Every truncation and every single-byte change: an error or a valid record, never a crash. */
typedef int (*decode_fn)(const uint8_t *v, size_t len, void *out);

static void hostile(const uint8_t *v, size_t len, decode_fn dec, void *out)
{
	uint8_t buf[IPAM_VALUE_MAX + 1];
	for (size_t n = 0; n < len; n++) {
		int r = dec(v, n, out);
		assert_true(r == DDI_ECORRUPT || r == DDI_ESCHEMA);
	}
	memcpy(buf, v, len);
	buf[len] = 0;
	assert_int_equal(dec(buf, len + 1, out), DDI_ECORRUPT);   /* trailing byte */
	buf[0] = 3;
	assert_int_equal(dec(buf, len, out), DDI_ESCHEMA);
	for (size_t i = 1; i < len; i++) {
		for (int k = 0; k < 8; k++) {
			memcpy(buf, v, len);
			buf[i] = (uint8_t)rnd();
			int r = dec(buf, len, out);
			assert_true(r == DDI_EOK || r == DDI_ECORRUPT);
		}
	}
}

static int dec_prefix(const uint8_t *v, size_t len, void *o) { return ipam_prefix_decode(v, len, o); }
static int dec_range(const uint8_t *v, size_t len, void *o) { return ipam_range_decode(v, len, o); }
static int dec_alloc(const uint8_t *v, size_t len, void *o) { return ipam_alloc_decode(v, len, o); }

static void test_binary(void **state)
{
	(void)state;
	struct ipam_prefix p, p2;
	struct ipam_range r, r2;
	struct ipam_alloc a, a2;
	uint8_t v[IPAM_VALUE_MAX], key[IPAM_KEY_MAX];
	int n;

	sample_prefix(&p);
	n = ipam_prefix_encode(&p, v, sizeof(v));
	assert_int_equal(n, 1 + 2 + 4 + 2 + 16 + 1 + 13 + 2 + (int)strlen(p.description));
	assert_int_equal(ipam_prefix_decode(v, (size_t)n, &p2), DDI_EOK);
	assert_memory_equal(&p, &p2, sizeof(p));
	assert_int_equal(ipam_prefix_encode(&p, v, (size_t)n - 1), DDI_ESPACE);
	hostile(v, (size_t)n, dec_prefix, &p2);
	p.cidr.addr[3] = 1;   /* host bits */
	assert_int_equal(ipam_prefix_encode(&p, v, sizeof(v)), DDI_EINVAL);

	sample_range(&r);
	n = ipam_range_encode(&r, v, sizeof(v));
	assert_true(n > 0);
	assert_int_equal(ipam_range_decode(v, (size_t)n, &r2), DDI_EOK);
	assert_memory_equal(&r, &r2, sizeof(r));
	hostile(v, (size_t)n, dec_range, &r2);
	r.last[3] = 99;   /* last < first */
	assert_int_equal(ipam_range_encode(&r, v, sizeof(v)), DDI_EINVAL);

	sample_alloc(&a);
	n = ipam_alloc_encode(&a, v, sizeof(v));
	assert_true(n > 0);
	assert_int_equal(ipam_alloc_decode(v, (size_t)n, &a2), DDI_EOK);
	assert_memory_equal(&a, &a2, sizeof(a));
	hostile(v, (size_t)n, dec_alloc, &a2);

	/* The checks the decoder relies on. */
	struct ipam_error e;
	a2 = a;
	a2.state = IPAM_STATE_STATIC;
	assert_int_equal(ipam_alloc_check(&a2, &e), DDI_EINVAL);
	assert_string_equal(e.msg, "only a dynamic allocation has a lease expiry");
	a2.expires = 0;
	a2.name_len = 0;
	assert_int_equal(ipam_alloc_check(&a2, &e), DDI_EINVAL);
	assert_string_equal(e.msg, "a static allocation needs a name");
	a2 = a;
	a2.hw_type = IPAM_HW_MAC;
	assert_int_equal(ipam_alloc_check(&a2, &e), DDI_EINVAL);
	assert_string_equal(e.msg, "bad hardware address (type 1, 3 bytes)");
	a2 = a;
	strcpy(a2.description, "bad\xc3");
	assert_int_equal(ipam_alloc_check(&a2, &e), DDI_EINVAL);
	assert_string_equal(e.msg, "the description is not UTF-8 text without control characters");
	strcpy(a2.description, "tab\there");
	assert_int_equal(ipam_alloc_check(&a2, &e), DDI_EINVAL);
	strcpy(a2.description, "\xed\xa0\x80");   /* a surrogate */
	assert_int_equal(ipam_alloc_check(&a2, &e), DDI_EINVAL);
	strcpy(a2.description, "\xc0\xaf");       /* overlong */
	assert_int_equal(ipam_alloc_check(&a2, &e), DDI_EINVAL);
	strcpy(a2.description, "\xf0\x9f\x98\x80 ok");
	assert_int_equal(ipam_alloc_check(&a2, &e), DDI_EOK);
	a2 = a;
	memset(a2.owner, 'x', IPAM_OWNER_MAX);
	a2.owner[IPAM_OWNER_MAX] = 0;
	assert_int_equal(ipam_alloc_check(&a2, &e), DDI_EOK);
	a2.name[0] = 70;   /* label too long for the name's length */
	assert_int_equal(ipam_alloc_check(&a2, &e), DDI_EINVAL);
	assert_string_equal(e.msg, "the name is not a valid domain name");

	/* Keys sort in address order, parents before children. */
	uint8_t k2[IPAM_KEY_MAX];
	struct ipam_cidr c1 = P("198.18.0.0/15"), c2 = P("198.18.0.0/24");
	size_t l1 = ipam_prefix_key(&c1, key), l2 = ipam_prefix_key(&c2, k2);
	assert_int_equal(l1, 6);
	assert_int_equal(l2, 6);
	assert_true(memcmp(key, k2, 6) < 0);
	assert_int_equal(ipam_alloc_key(6, a.addr, key), 17);
	assert_int_equal(ipam_range_key(&r, key), 9);
}

static void test_json(void **state)
{
	(void)state;
	struct ipam_prefix p, p2;
	struct ipam_range r, r2;
	struct ipam_alloc a, a2;
	struct ipam_error e;

	sample_prefix(&p);
	json_t *j = ipam_prefix_to_json(&p);
	assert_non_null(j);
	char *s = json_dumps(j, JSON_SORT_KEYS | JSON_COMPACT | JSON_ENSURE_ASCII);
	assert_string_equal(s, "{\"created\":1700000000,\"description\":\"rack 3, r\\u00E9seau \\\"A\\\"\","
	                       "\"fields\":{},\"policy\":\"strict\",\"prefix\":\"198.18.0.0/24\",\"status\":\"reserved\","
	                       "\"tags\":[],\"tenant\":\"\",\"updated\":1700000001,\"zone\":\"example.com.\"}");
	free(s);
	assert_int_equal(ipam_prefix_from_json(j, &p2, &e), DDI_EOK);
	assert_memory_equal(&p, &p2, sizeof(p));
	json_decref(j);

	sample_range(&r);
	j = ipam_range_to_json(&r);
	assert_int_equal(ipam_range_from_json(j, &r2, &e), DDI_EOK);
	assert_memory_equal(&r, &r2, sizeof(r));
	json_decref(j);

	sample_alloc(&a);
	j = ipam_alloc_to_json(&a);
	s = json_dumps(j, JSON_SORT_KEYS | JSON_COMPACT);
	assert_string_equal(s, "{\"address\":\"2001:2::42\",\"client_id\":\"00:01:02\",\"created\":1,"
	                       "\"description\":\"lease\",\"expires\":1800000000,\"fields\":{},\"name\":"
	                       "\"host42.example.com.\",\"owner\":\"kea-ddns\",\"state\":\"dynamic\","
	                       "\"tags\":[],\"tenant\":\"\","
	                       "\"updated\":2}");
	free(s);
	assert_int_equal(ipam_alloc_from_json(j, &a2, &e), DDI_EOK);
	assert_memory_equal(&a, &a2, sizeof(a));
	json_decref(j);

	static const struct {
		int kind;   /* 0 prefix, 1 range, 2 alloc */
		const char *json, *msg;
	} bad[] = {
		{0, "[]", "a prefix must be a JSON object"},
		{0, "{}", "'prefix' is missing"},
		{0, "{\"prefix\": \"198.18.0.1/24\"}",
		 "'prefix': 198.18.0.1/24 has host bits set; did you mean 198.18.0.0/24?"},
		{0, "{\"prefix\": 5}", "'prefix' must be a string"},
		{0, "{\"prefix\": \"198.18.0.0/24\", \"policy\": \"loose\"}", "'policy': 'loose' is not a known value"},
		{0, "{\"prefix\": \"198.18.0.0/24\", \"colour\": 1}", "unknown key 'colour' in a prefix"},
		{0, "{\"prefix\": \"198.18.0.0/24\", \"zone\": \"a..b\"}",
		 "'zone': 'a..b' is not a domain name (syntax error)"},
		{0, "{\"prefix\": \"198.18.0.0/24\", \"created\": -1}", "'created' must be a non-negative integer"},
		{0, "{\"prefix\": \"198.18.0.0/24\", \"description\": \"a\\u0000b\"}", "'description' holds a NUL byte"},
		{0, "{\"prefix\": \"198.18.0.0/24\", \"description\": \"a\\nb\"}",
		 "'description' is not UTF-8 text without control characters"},
		{1, "{\"first\": \"198.18.0.1\"}", "'first' and 'last' are required"},
		{1, "{\"first\": \"198.18.0.1\", \"last\": \"2001:2::1\"}",
		 "'first' and 'last' are of different address families"},
		{1, "{\"first\": \"198.18.0.9\", \"last\": \"198.18.0.1\"}",
		 "the range's first address is after its last"},
		{1, "{\"first\": \"198.18.0.1\", \"last\": \"198.18.0.9\", \"dynamic\": 1}",
		 "'dynamic' must be true or false"},
		{2, "{\"address\": \"198.18.0.256\"}", "'address': '198.18.0.256' is not an IP address"},
		{2, "{\"address\": \"198.18.0.1\"}", "a static allocation needs a name"},
		{2, "{\"address\": \"198.18.0.1\", \"state\": \"reserved\", \"mac\": \"zz\"}",
		 "'mac': 'zz' is not a MAC address"},
		{2, "{\"address\": \"198.18.0.1\", \"mac\": \"00:00:00:00:00:01\", \"client_id\": \"01\"}",
		 "'mac' and 'client_id' exclude each other"},
	};
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		json_error_t je;
		j = json_loads(bad[i].json, JSON_ALLOW_NUL, &je);
		assert_non_null(j);
		int rc = bad[i].kind == 0 ? ipam_prefix_from_json(j, &p2, &e)
		       : bad[i].kind == 1 ? ipam_range_from_json(j, &r2, &e)
		                          : ipam_alloc_from_json(j, &a2, &e);
		assert_int_equal(rc, DDI_EINVAL);
		assert_string_equal(e.msg, bad[i].msg);
		json_decref(j);
	}
	j = json_loads("{\"address\": \"198.18.0.1\", \"state\": \"reserved\", \"mac\": \"00-01-02-03-04-05\"}",
	               0, NULL);
	assert_int_equal(ipam_alloc_from_json(j, &a2, &e), DDI_EOK);
	assert_int_equal(a2.hw_type, IPAM_HW_MAC);
	assert_int_equal(a2.name_len, 0);
	json_decref(j);
}

/* ------------------------------------------------------------------------ */
/* The oracle: a plain sorted set of used addresses                         */
/* ------------------------------------------------------------------------ */

struct oracle {
	ipam_u128 *v;
	size_t n, cap;
	unsigned long calls;
};

static size_t o_lower(const struct oracle *o, ipam_u128 x)
{
	size_t lo = 0, hi = o->n;
	while (lo < hi) {
		size_t m = (lo + hi) / 2;
		if (o->v[m] < x)
			lo = m + 1;
		else
			hi = m;
	}
	return lo;
}

static bool o_has(const struct oracle *o, ipam_u128 x)
{
	size_t i = o_lower(o, x);
	return i < o->n && o->v[i] == x;
}

static void o_add(struct oracle *o, ipam_u128 x)
{
	size_t i = o_lower(o, x);
	assert_false(i < o->n && o->v[i] == x);   /* never handed out twice */
	if (o->n == o->cap) {
		o->cap = o->cap ? 2 * o->cap : 64;
		o->v = realloc(o->v, o->cap * sizeof(*o->v));
		assert_non_null(o->v);
	}
	memmove(o->v + i + 1, o->v + i, (o->n - i) * sizeof(*o->v));
	o->v[i] = x;
	o->n++;
}

static void o_del_at(struct oracle *o, size_t i)
{
	memmove(o->v + i, o->v + i + 1, (o->n - i - 1) * sizeof(*o->v));
	o->n--;
}

static ipam_u128 span_of(int family, int plen)
{
	int w = ipam_width(family);
	return w - plen == 128 ? ~(ipam_u128)0 : (((ipam_u128)1 << (w - plen)) - 1);
}

static uint64_t o_count(void *ctx, int family, const uint8_t *prefix, int plen)
{
	struct oracle *o = ctx;
	ipam_u128 f = ipam_addr_to_u128(family, prefix) & ~span_of(family, plen);
	ipam_u128 l = f | span_of(family, plen);
	size_t i = o_lower(o, f), k = i;
	while (k < o->n && o->v[k] <= l)
		k++;
	return k - i;
}

static int o_next_free(void *ctx, int family, const uint8_t *prefix, int plen, uint64_t skip_low,
                       uint64_t skip_high, uint8_t out[16])
{
	struct oracle *o = ctx;
	o->calls++;
	ipam_u128 span = span_of(family, plen);
	ipam_u128 f = ipam_addr_to_u128(family, prefix) & ~span;
	if (skip_low > span || skip_high > span - skip_low)
		return DDI_EFULL;
	ipam_u128 a = f + skip_low, l = f + span - skip_high;
	/* Walk the used addresses from a: at most n steps. */
	for (size_t i = o_lower(o, a); i < o->n && o->v[i] == a; i++) {
		if (a == l)
			return DDI_EFULL;
		a++;
	}
	ipam_addr_from_u128(family, a, out);
	return DDI_EOK;
}

static const struct ipam_space_ops oracle_ops = {.count = o_count, .next_free = o_next_free};

/* The expected answer, by brute force: the lowest usable, unused, unexcluded address. */
static bool expect_free(const struct oracle *o, ipam_u128 first, ipam_u128 last,
                        const struct ipam_span *ex, size_t nex, ipam_u128 *out)
{
	ipam_u128 a = first;
	for (;;) {
		bool moved = false;
		for (size_t i = 0; i < nex; i++)
			if (a >= ex[i].first && a <= ex[i].last) {
				if (ex[i].last >= last)
					return false;
				a = ex[i].last + 1;
				moved = true;
			}
		if (o_has(o, a)) {
			if (a >= last)
				return false;
			a++;
			moved = true;
		}
		if (!moved)
			break;
	}
	if (a > last)
		return false;
	*out = a;
	return true;
}

/*
 * Random allocate/release on one prefix: every next-free answer equals the
 * brute-force one, no address is handed out twice, utilization agrees
 * with a count, and a full prefix says DDI_EFULL.
 */
static void random_run(const char *prefix, const struct ipam_span *ex_in, size_t nex_in,
                       int steps, bool fill)
{
	struct ipam_cidr c = P(prefix);
	struct oracle o = {0};
	struct ipam_span ex[16];
	uint8_t out[16];
	ipam_u128 first, last, want;
	size_t nex = nex_in;

	if (nex_in > 0)
		memcpy(ex, ex_in, nex_in * sizeof(*ex));
	nex = ipam_spans_normalize(ex, nex);
	ipam_cidr_usable(&c, &first, &last);
	for (int step = 0; step < steps; step++) {
		bool alloc = fill || o.n == 0 || rnd() % 3 != 0;
		if (alloc) {
			int r = ipam_next_free(&oracle_ops, &o, &c, ex, nex, out);
			bool have = expect_free(&o, first, last, ex, nex, &want);
			if (!have) {
				assert_int_equal(r, DDI_EFULL);
				assert_string_equal(ddi_strerror(r), "prefix full");
				if (fill)
					break;
				continue;
			}
			assert_int_equal(r, DDI_EOK);
			ipam_u128 got = ipam_addr_to_u128(c.family, out);
			if (got != want)
				fail_msg("%s step %d: got %s", prefix, step, cidr_str(&c));
			assert_true(ipam_cidr_contains_addr(&c, c.family, out));
			o_add(&o, got);
		} else {
			o_del_at(&o, (size_t)(rnd() % o.n));
		}
		struct ipam_util u;
		assert_int_equal(ipam_utilization(&oracle_ops, &o, &c, &u), DDI_EOK);
		assert_true(u.used == o.n);   /* the runs never use network/broadcast */
		assert_int_equal(u.permyriad, ipam_permyriad(o.n, u.total));
	}
	free(o.v);
}

static void test_next_free_random(void **state)
{
	(void)state;
	struct ipam_span ex[3] = {
		{A("198.18.0.10"), A("198.18.0.19")},
		{A("198.18.0.15"), A("198.18.0.30")},     /* overlaps: normalize merges */
		{A("198.18.0.200"), A("198.18.0.255")},   /* covers the broadcast too */
	};
	random_run("198.18.0.0/24", NULL, 0, 2000, false);
	random_run("198.18.0.0/24", ex, 3, 2000, false);
	random_run("198.18.0.0/24", ex, 3, 400, true);
	random_run("198.18.0.0/26", NULL, 0, 200, true);
	random_run("198.18.0.0/30", NULL, 0, 10, true);
	random_run("198.18.0.4/31", NULL, 0, 10, true);
	random_run("198.18.0.7/32", NULL, 0, 10, true);
	random_run("10.0.0.0/8", NULL, 0, 2000, false);
	random_run("0.0.0.0/0", NULL, 0, 300, false);
	struct ipam_span ex6[2] = {
		{A("2001:2::1"), A("2001:2::ff")},
		{A("2001:2::1:0"), A("2001:2::1:ffff")},
	};
	random_run("2001:2::/64", NULL, 0, 2000, false);
	random_run("2001:2::/64", ex6, 2, 2000, false);
	random_run("2001:2::/120", NULL, 0, 400, true);
	random_run("2001:2::/120", ex6, 1, 400, true);
	random_run("2001:2::4/127", NULL, 0, 10, true);
	random_run("2001:2::5/128", NULL, 0, 10, true);
	random_run("::/0", NULL, 0, 300, false);
}

static void test_next_free_edges(void **state)
{
	(void)state;
	struct oracle o = {0};
	uint8_t out[16];
	char buf[IPAM_ADDR_STRLEN];
	static const struct {
		const char *prefix;
		const char *want[3];   /* the addresses handed out in order, then full */
	} cases[] = {
		{"198.18.0.0/30", {"198.18.0.1", "198.18.0.2", NULL}},
		{"198.18.0.4/31", {"198.18.0.4", "198.18.0.5", NULL}},
		{"198.18.0.9/32", {"198.18.0.9", NULL, NULL}},
		{"2001:2::/126", {"2001:2::1", "2001:2::2", "2001:2::3"}},
		{"2001:2::4/127", {"2001:2::4", "2001:2::5", NULL}},
		{"2001:2::9/128", {"2001:2::9", NULL, NULL}},
		{"255.255.255.254/31", {"255.255.255.254", "255.255.255.255", NULL}},
		{"ffff:ffff:ffff:ffff:ffff:ffff:ffff:fffe/127",
		 {"ffff:ffff:ffff:ffff:ffff:ffff:ffff:fffe", "ffff:ffff:ffff:ffff:ffff:ffff:ffff:ffff", NULL}},
	};
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		struct ipam_cidr c = P(cases[i].prefix);
		o.n = 0;
		for (int k = 0; k < 3 && cases[i].want[k]; k++) {
			assert_int_equal(ipam_next_free(&oracle_ops, &o, &c, NULL, 0, out), DDI_EOK);
			ipam_addr_format(c.family, out, buf, sizeof(buf));
			assert_string_equal(buf, cases[i].want[k]);
			o_add(&o, ipam_addr_to_u128(c.family, out));
		}
		assert_int_equal(ipam_next_free(&oracle_ops, &o, &c, NULL, 0, out), DDI_EFULL);
	}
	/* Exclusions through the span path: the whole of a /30 reserved. */
	struct ipam_cidr c = P("198.18.0.0/30");
	struct ipam_span ex = {A("198.18.0.1"), A("198.18.0.2")};
	o.n = 0;
	assert_int_equal(ipam_next_free(&oracle_ops, &o, &c, &ex, 1, out), DDI_EFULL);
	/* A span at the very top of IPv6 does not wrap. */
	assert_int_equal(ipam_next_free_span(&oracle_ops, &o, 6, ~(ipam_u128)0, ~(ipam_u128)0, NULL, 0,
	                                     out), DDI_EOK);
	o_add(&o, ~(ipam_u128)0);
	assert_int_equal(ipam_next_free_span(&oracle_ops, &o, 6, ~(ipam_u128)0 - 1, ~(ipam_u128)0, NULL, 0,
	                                     out), DDI_EOK);
	assert_true(ipam_addr_to_u128(6, out) == ~(ipam_u128)0 - 1);
	assert_int_equal(ipam_next_free_span(&oracle_ops, &o, 4, 5, 4, NULL, 0, out), DDI_EINVAL);
	assert_int_equal(ipam_next_free_span(&oracle_ops, &o, 4, 0, (ipam_u128)1 << 32, NULL, 0, out),
	                 DDI_EINVAL);
	/* The whole range, nothing used, no exclusion: one oracle call. */
	struct ipam_cidr all = P("10.0.0.0/8");
	o.n = 0;
	o.calls = 0;
	assert_int_equal(ipam_next_free(&oracle_ops, &o, &all, NULL, 0, out), DDI_EOK);
	assert_int_equal(o.calls, 1);
	/* [10.0.0.1, 10.255.255.254] as a span: at most 2W blocks. */
	o.calls = 0;
	for (int i = 1; i <= 100; i++)
		o_add(&o, A("10.0.0.0") + (ipam_u128)i);
	assert_int_equal(ipam_next_free_span(&oracle_ops, &o, 4, A("10.0.0.1"), A("10.255.255.254"), NULL,
	                                     0, out), DDI_EOK);
	assert_true(ipam_addr_to_u128(4, out) == A("10.0.0.101"));
	assert_int_equal(o.calls, 1);   /* one window of the enclosing /8 */
	/* An IPv6 piece whose skips do not fit 64 bits: aligned blocks, more calls, same answer. */
	ipam_u128 lo6 = ((ipam_u128)1 << 100) + 5, hi6 = ((ipam_u128)1 << 127) - 7;
	o.n = 0;
	o.calls = 0;
	for (int i = 0; i < 11; i++)
		o_add(&o, lo6 + (ipam_u128)i);
	assert_int_equal(ipam_next_free_span(&oracle_ops, &o, 6, lo6, hi6, NULL, 0, out), DDI_EOK);
	assert_true(ipam_addr_to_u128(6, out) == lo6 + 11);
	assert_true(o.calls > 1);
	/* The whole piece used: full after walking its blocks. */
	o.n = 0;
	o.calls = 0;
	for (int i = 0; i < 4; i++)
		o_add(&o, hi6 - 3 + (ipam_u128)i);
	assert_int_equal(ipam_next_free_span(&oracle_ops, &o, 6, hi6 - 3, hi6, NULL, 0, out), DDI_EFULL);
	free(o.v);
}

/* The store's view (a second set) is authoritative; the oracle lags it. */
static bool o_taken(void *ctx, int family, const uint8_t addr[16])
{
	return o_has(ctx, ipam_addr_to_u128(family, addr));
}

static void test_next_free_checked(void **state)
{
	(void)state;
	struct oracle idx = {0}, store = {0};
	uint8_t out[16];
	for (int round = 0; round < 2000; round++) {
		struct ipam_cidr c = P(round % 2 ? "198.18.0.0/26" : "2001:2::/122");
		ipam_u128 first, last, want;
		ipam_cidr_usable(&c, &first, &last);
		idx.n = store.n = 0;
		/* The store holds everything the index holds, and some more. */
		for (int i = 0; i < 50; i++) {
			ipam_u128 x = ipam_cidr_first(&c) + rnd() % 64;
			if (!o_has(&store, x))
				o_add(&store, x);
			if (rnd() % 2 && !o_has(&idx, x))
				o_add(&idx, x);
		}
		struct ipam_span ex[1] = {{first + rnd() % 64, 0}};
		ex[0].last = ex[0].first + rnd() % 4;
		size_t nex = rnd() % 2;
		bool have = expect_free(&store, first, last, ex, nex, &want);
		int r = ipam_next_free_checked(&oracle_ops, &idx, &c, ex, nex, o_taken, &store, out);
		if (!have) {
			assert_int_equal(r, DDI_EFULL);
		} else {
			assert_int_equal(r, DDI_EOK);
			assert_true(ipam_addr_to_u128(c.family, out) == want);
		}
	}
	free(idx.v);
	free(store.v);
}

/* Random spans [a, b] with random exclusions against brute force. */
static void test_next_free_span_random(void **state)
{
	(void)state;
	struct oracle o = {0};
	uint8_t out[16];
	for (int round = 0; round < 3000; round++) {
		o.n = 0;
		ipam_u128 base = A("198.18.0.0");
		for (int i = 0; i < 40; i++) {
			ipam_u128 x = base + rnd() % 256;
			if (!o_has(&o, x))
				o_add(&o, x);
		}
		ipam_u128 a = base + rnd() % 256, b = base + rnd() % 256;
		if (a > b) {
			ipam_u128 t = a;
			a = b;
			b = t;
		}
		struct ipam_span ex[6];
		size_t nex = rnd() % 6;
		for (size_t i = 0; i < nex; i++) {
			ex[i].first = base + rnd() % 256;
			ex[i].last = ex[i].first + rnd() % 8;
		}
		nex = ipam_spans_normalize(ex, nex);
		for (size_t i = 1; i < nex; i++)
			assert_true(ex[i].first > ex[i - 1].last + 1);
		ipam_u128 want;
		bool have = expect_free(&o, a, b, ex, nex, &want);
		int r = ipam_next_free_span(&oracle_ops, &o, 4, a, b, ex, nex, out);
		if (!have) {
			assert_int_equal(r, DDI_EFULL);
		} else {
			assert_int_equal(r, DDI_EOK);
			assert_true(ipam_addr_to_u128(4, out) == want);
		}
	}
	free(o.v);
}

/* ------------------------------------------------------------------------ */
/* Next free child prefix                                                   */
/* ------------------------------------------------------------------------ */

static void test_next_child(void **state)
{
	(void)state;
	struct ipam_cidr parent = P("198.18.0.0/16"), out;
	struct ipam_cidr kids[] = {P("198.18.0.0/24"), P("198.18.0.0/25"), P("198.18.1.0/26"),
	                           P("198.18.2.0/23"), P("198.18.5.0/24")};

	assert_int_equal(ipam_next_free_child(&parent, 24, kids, 5, &out), DDI_EOK);
	assert_string_equal(cidr_str(&out), "198.18.4.0/24");
	assert_int_equal(ipam_next_free_child(&parent, 26, kids, 5, &out), DDI_EOK);
	assert_string_equal(cidr_str(&out), "198.18.1.64/26");
	assert_int_equal(ipam_next_free_child(&parent, 23, kids, 5, &out), DDI_EOK);
	assert_string_equal(cidr_str(&out), "198.18.6.0/23");
	assert_int_equal(ipam_next_free_child(&parent, 17, kids, 5, &out), DDI_EOK);
	assert_string_equal(cidr_str(&out), "198.18.128.0/17");
	assert_int_equal(ipam_next_free_child(&parent, 16, kids, 5, &out), DDI_EINVAL);
	assert_int_equal(ipam_next_free_child(&parent, 33, kids, 5, &out), DDI_EINVAL);
	assert_int_equal(ipam_next_free_child(&parent, 24, NULL, 0, &out), DDI_EOK);
	assert_string_equal(cidr_str(&out), "198.18.0.0/24");
	/* A child that contains the parent blocks everything. */
	struct ipam_cidr big = P("198.16.0.0/12");
	assert_int_equal(ipam_next_free_child(&parent, 24, &big, 1, &out), DDI_EFULL);
	/* Full: two halves. */
	struct ipam_cidr halves[] = {P("198.18.0.0/17"), P("198.18.128.0/17")};
	assert_int_equal(ipam_next_free_child(&parent, 32, halves, 2, &out), DDI_EFULL);
	/* The top of the IPv6 space. */
	struct ipam_cidr all6 = P("::/0"), top[] = {P("::/1"), P("8000::/2"), P("c000::/3")};
	assert_int_equal(ipam_next_free_child(&all6, 3, top, 3, &out), DDI_EOK);
	assert_string_equal(cidr_str(&out), "e000::/3");
	assert_int_equal(ipam_next_free_child(&all6, 2, top, 3, &out), DDI_EFULL);
	struct ipam_cidr v6p = P("2001:2::/48"), v6k[] = {P("2001:2::/64"), P("2001:2:0:1::/64")};
	assert_int_equal(ipam_next_free_child(&v6p, 64, v6k, 2, &out), DDI_EOK);
	assert_string_equal(cidr_str(&out), "2001:2:0:2::/64");
	assert_int_equal(ipam_next_free_child(&v6p, 63, v6k, 2, &out), DDI_EOK);
	assert_string_equal(cidr_str(&out), "2001:2:0:2::/63");
	/* Other families in the list are ignored. */
	assert_int_equal(ipam_next_free_child(&v6p, 64, kids, 5, &out), DDI_EOK);
	assert_string_equal(cidr_str(&out), "2001:2::/64");
}

static int cidr_qsort(const void *a, const void *b)
{
	return ipam_cidr_cmp(a, b);
}

/* Random children of a /20 against a brute-force scan of aligned blocks. */
static void test_next_child_random(void **state)
{
	(void)state;
	struct ipam_cidr parent = P("198.18.16.0/20"), kids[24], out;
	for (int round = 0; round < 3000; round++) {
		size_t n = rnd() % 24;
		for (size_t i = 0; i < n; i++) {
			int plen = 18 + (int)(rnd() % 15);   /* some larger than the parent, some outside */
			ipam_u128 a = A("198.18.0.0") + rnd() % (1u << 16);
			a &= ~span_of(4, plen);
			kids[i].family = 4;
			kids[i].plen = (uint8_t)plen;
			ipam_addr_from_u128(4, a, kids[i].addr);
		}
		qsort(kids, n, sizeof(kids[0]), cidr_qsort);
		int plen = 21 + (int)(rnd() % 12);
		ipam_u128 size = (ipam_u128)1 << (32 - plen), want = 0;
		bool have = false;
		for (ipam_u128 c = ipam_cidr_first(&parent); c <= ipam_cidr_last(&parent) && !have; c += size) {
			struct ipam_cidr cand = {.family = 4, .plen = (uint8_t)plen};
			ipam_addr_from_u128(4, c, cand.addr);
			bool free_ = true;
			for (size_t i = 0; i < n && free_; i++)
				free_ = !ipam_cidr_overlap(&cand, &kids[i]);
			if (free_) {
				have = true;
				want = c;
			}
		}
		int r = ipam_next_free_child(&parent, plen, kids, n, &out);
		if (!have) {
			assert_int_equal(r, DDI_EFULL);
		} else {
			assert_int_equal(r, DDI_EOK);
			assert_int_equal(out.plen, plen);
			assert_true(ipam_cidr_first(&out) == want);
		}
	}
}

/* ------------------------------------------------------------------------ */
/* Utilization and numbers                                                  */
/* ------------------------------------------------------------------------ */

static void test_utilization(void **state)
{
	(void)state;
	struct oracle o = {0};
	struct ipam_util u;
	char buf[48];

	struct ipam_cidr c = P("198.18.0.0/24");
	o_add(&o, A("198.18.0.0"));     /* a record on the network address: not counted */
	o_add(&o, A("198.18.0.1"));
	o_add(&o, A("198.18.0.2"));
	o_add(&o, A("198.18.0.255"));
	o_add(&o, A("198.18.1.1"));     /* outside */
	assert_int_equal(ipam_utilization(&oracle_ops, &o, &c, &u), DDI_EOK);
	assert_true(u.used == 2);
	assert_true(u.total == 254);
	assert_int_equal(u.permyriad, 78);   /* 2/254 = 0.787% */
	ipam_percent_format(u.permyriad, buf, sizeof(buf));
	assert_string_equal(buf, "0.78");

	struct ipam_cidr c31 = P("198.18.0.0/31"), c32 = P("198.18.0.2/32");
	assert_int_equal(ipam_utilization(&oracle_ops, &o, &c31, &u), DDI_EOK);
	assert_true(u.used == 2 && u.total == 2 && u.permyriad == 10000);
	assert_int_equal(ipam_utilization(&oracle_ops, &o, &c32, &u), DDI_EOK);
	assert_true(u.used == 1 && u.total == 1 && u.permyriad == 10000);
	ipam_percent_format(u.permyriad, buf, sizeof(buf));
	assert_string_equal(buf, "100.00");

	struct ipam_cidr v6 = P("2001:2::/64");
	o.n = 0;
	o_add(&o, A("2001:2::"));
	o_add(&o, A("2001:2::1"));
	assert_int_equal(ipam_utilization(&oracle_ops, &o, &v6, &u), DDI_EOK);
	assert_true(u.used == 2);
	assert_true(u.total == (ipam_u128)1 << 64);
	assert_int_equal(u.permyriad, 0);
	ipam_u128_format(u.total, buf, sizeof(buf));
	assert_string_equal(buf, "18446744073709551616");
	struct ipam_cidr all6 = P("::/0");
	assert_int_equal(ipam_utilization(&oracle_ops, &o, &all6, &u), DDI_EOK);
	assert_true(u.total == ~(ipam_u128)0);
	ipam_u128_format(u.total, buf, sizeof(buf));
	assert_string_equal(buf, "340282366920938463463374607431768211455");
	assert_int_equal(ipam_u128_format(u.total, buf, 39), DDI_ESPACE);
	ipam_u128_format(0, buf, sizeof(buf));
	assert_string_equal(buf, "0");
	struct ipam_cidr v4all = P("0.0.0.0/0");
	o.n = 0;
	assert_int_equal(ipam_utilization(&oracle_ops, &o, &v4all, &u), DDI_EOK);
	assert_true(u.total == 4294967294u);

	/* permyriad: exact floor, also where part * 10000 overflows 128 bits. */
	for (int i = 0; i < 20000; i++) {
		uint64_t w = rnd() >> (rnd() % 64), p = w ? rnd() % (w + (w < UINT64_MAX)) : 0;
		if (w == 0)
			continue;
		ipam_u128 exp = (ipam_u128)p * 10000 / w;
		assert_int_equal(ipam_permyriad(p, w), (uint32_t)exp);
		/* Scaled by 2^64: the same quotient. */
		assert_int_equal(ipam_permyriad((ipam_u128)p << 60, (ipam_u128)w << 60), (uint32_t)exp);
	}
	assert_int_equal(ipam_permyriad(~(ipam_u128)0 - 1, ~(ipam_u128)0), 9999);
	assert_int_equal(ipam_permyriad((ipam_u128)1 << 127, ~(ipam_u128)0), 5000);
	assert_int_equal(ipam_permyriad(5, 0), 0);

	/* Children coverage: nested and overlapping children counted once. */
	struct ipam_cidr parent = P("198.18.0.0/16");
	struct ipam_cidr kids[] = {P("198.16.0.0/15"), P("198.18.0.0/24"), P("198.18.0.0/25"),
	                           P("198.18.1.0/24"), P("198.18.4.0/22"), P("198.20.0.0/24")};
	/* 198.16.0.0/15 ends at 198.17.255.255: outside; then 256+256+1024. */
	assert_true(ipam_children_coverage(&parent, kids, 6) == 1536);
	assert_int_equal(ipam_permyriad(1536, 65536), 234);
	struct ipam_cidr whole = P("198.18.0.0/15");
	assert_true(ipam_children_coverage(&parent, &whole, 1) == 65536);
	assert_true(ipam_children_coverage(&all6, &all6, 1) == ~(ipam_u128)0);
	free(o.v);
}

/* ------------------------------------------------------------------------ */
/* Ranges, names and the DNS policy                                         */
/* ------------------------------------------------------------------------ */

static void test_spans_and_ranges(void **state)
{
	(void)state;
	struct ipam_cidr out[256];
	int n = ipam_span_to_cidrs(4, A("198.18.0.1"), A("198.18.0.254"), out, 256);
	assert_int_equal(n, 14);   /* /32 /31 /30 /29 /28 /27 /26 /26 /27 /28 /29 /30 /31 /32 */
	assert_string_equal(cidr_str(&out[0]), "198.18.0.1/32");
	assert_string_equal(cidr_str(&out[6]), "198.18.0.64/26");
	assert_string_equal(cidr_str(&out[13]), "198.18.0.254/32");
	assert_int_equal(ipam_span_to_cidrs(4, 0, 0xffffffffu, out, 256), 1);
	assert_string_equal(cidr_str(&out[0]), "0.0.0.0/0");
	assert_int_equal(ipam_span_to_cidrs(4, 1, 0xfffffffeu, out, 256), 62);   /* 2W - 2 */
	assert_int_equal(ipam_span_to_cidrs(6, 1, ~(ipam_u128)0 - 1, out, 256), 254);
	assert_int_equal(ipam_span_to_cidrs(6, 0, ~(ipam_u128)0, out, 256), 1);
	assert_string_equal(cidr_str(&out[0]), "::/0");
	assert_int_equal(ipam_span_to_cidrs(4, 1, 0xfffffffeu, out, 61), DDI_ESPACE);
	assert_int_equal(ipam_span_to_cidrs(4, 5, 4, out, 256), DDI_EINVAL);
	assert_int_equal(ipam_span_to_cidrs(4, 0, (ipam_u128)1 << 32, out, 256), DDI_EINVAL);
	/* Random spans: the blocks are aligned, contiguous and cover the span exactly. */
	for (int i = 0; i < 2000; i++) {
		ipam_u128 a = rnd() % (1u << 20), b = a + rnd() % (1u << (rnd() % 20));
		n = ipam_span_to_cidrs(4, a, b, out, 256);
		assert_true(n >= 1 && n <= 62);
		ipam_u128 cur = a;
		for (int k = 0; k < n; k++) {
			assert_true(ipam_cidr_valid(&out[k]));
			assert_true(ipam_cidr_first(&out[k]) == cur);
			cur = ipam_cidr_last(&out[k]) + 1;
		}
		assert_true(cur == b + 1);
	}

	struct ipam_range r1, r2;
	ipam_range_init(&r1);
	ipam_range_init(&r2);
	int f;
	r1.family = r2.family = 4;
	ipam_addr_parse("198.18.0.100", &f, r1.first, NULL);
	ipam_addr_parse("198.18.0.199", &f, r1.last, NULL);
	ipam_addr_parse("198.18.0.199", &f, r2.first, NULL);
	ipam_addr_parse("198.18.0.250", &f, r2.last, NULL);
	assert_true(ipam_range_overlap(&r1, &r2));
	r2.first[3] = 200;
	assert_false(ipam_range_overlap(&r1, &r2));
	struct ipam_cidr c24 = P("198.18.0.0/24"), c25 = P("198.18.0.0/25");
	assert_true(ipam_range_within(&c24, &r1));
	assert_false(ipam_range_within(&c25, &r1));
	struct ipam_span sp = ipam_range_span(&r1);
	assert_true(sp.first == A("198.18.0.100") && sp.last == A("198.18.0.199"));

	uint8_t a[16];
	ipam_addr_parse("198.18.0.0", &f, a, NULL);
	assert_false(ipam_addr_usable(&c24, 4, a));
	a[3] = 255;
	assert_false(ipam_addr_usable(&c24, 4, a));
	a[3] = 1;
	assert_true(ipam_addr_usable(&c24, 4, a));
	struct ipam_cidr c31 = P("198.18.0.0/31"), v6 = P("2001:2::/64"), v127 = P("2001:2::/127");
	a[3] = 0;
	assert_true(ipam_addr_usable(&c31, 4, a));
	ipam_addr_parse("2001:2::", &f, a, NULL);
	assert_false(ipam_addr_usable(&v6, 6, a));
	assert_true(ipam_addr_usable(&v127, 6, a));
	assert_false(ipam_addr_usable(&c24, 6, a));
}

static void test_host_name(void **state)
{
	(void)state;
	struct ipam_error e;
	uint8_t out[DNS_NAME_MAXLEN];
	/* one rule: absolute, a missing final dot added (never completed with a zone) */
	assert_int_equal(ipam_host_name("web1.example.com.", out, &e), 18);
	assert_string_equal(name_str(out), "web1.example.com.");
	assert_int_equal(ipam_host_name("web1.example.com", out, &e), 18);
	assert_string_equal(name_str(out), "web1.example.com.");
	assert_true(ipam_host_name("host1.corp.example.test", out, &e) > 0);
	assert_string_equal(name_str(out), "host1.corp.example.test.");
	assert_int_equal(ipam_host_name("a..b", out, &e), DDI_ESYNTAX);
	assert_string_equal(e.msg, "'a..b' is not a host name (syntax error)");
	assert_int_equal(ipam_host_name("", out, &e), DDI_ESYNTAX);
	assert_string_equal(e.msg, "the host name is empty");
	/* An escaped final dot is part of the label; the root is added after it. */
	assert_true(ipam_host_name("odd\\.", out, &e) > 0);
	assert_string_equal(name_str(out), "odd\\..");
}

static void test_verdict(void **state)
{
	(void)state;
	struct ipam_prefix p;
	struct ipam_alloc a;
	struct ipam_error e;
	uint8_t web1[DNS_NAME_MAXLEN], web2[DNS_NAME_MAXLEN], addr[16];
	int f;
	dns_name_from_str(web1, "web1.example.com.", 17, NULL);
	dns_name_from_str(web2, "WEB2.example.com.", 17, NULL);
	ipam_addr_parse("198.18.0.7", &f, addr, NULL);
	ipam_prefix_init(&p);
	p.cidr = P("198.18.0.0/24");
	ipam_alloc_init(&a);
	a.family = 4;
	memcpy(a.addr, addr, 16);
	a.name_len = (uint8_t)dns_name_from_str(a.name, "Web1.Example.com.", 17, NULL);

	assert_int_equal(ipam_record_verdict(NULL, NULL, web1, 4, addr, &e), IPAM_VERDICT_ALLOW);
	assert_int_equal(ipam_record_verdict(&p, NULL, web1, 4, addr, &e), IPAM_VERDICT_ALLOW);   /* off */
	p.policy = IPAM_POLICY_STRICT;
	assert_int_equal(ipam_record_verdict(&p, NULL, web1, 4, addr, &e), DDI_EPOLICY);
	assert_string_equal(e.msg, "198.18.0.7 is not allocated (198.18.0.0/24 has DNS policy strict)");
	assert_int_equal(ipam_record_verdict(&p, &a, web1, 4, addr, &e), IPAM_VERDICT_ALLOW);   /* case */
	assert_int_equal(ipam_record_verdict(&p, &a, web2, 4, addr, &e), DDI_ECONFLICT);
	assert_string_equal(e.msg, "198.18.0.7 is allocated to Web1.Example.com. (198.18.0.0/24 has DNS "
	                           "policy strict)");
	p.policy = IPAM_POLICY_AUTO;
	assert_int_equal(ipam_record_verdict(&p, NULL, web2, 4, addr, &e), IPAM_VERDICT_ALLOCATE);
	assert_int_equal(ipam_record_verdict(&p, &a, web2, 4, addr, &e), DDI_ECONFLICT);
	a.state = IPAM_STATE_RESERVED;
	a.name_len = 0;
	assert_int_equal(ipam_record_verdict(&p, &a, web2, 4, addr, &e), DDI_ECONFLICT);
	assert_string_equal(e.msg, "198.18.0.7 is reserved without a name (198.18.0.0/24 has DNS policy auto)");
	addr[3] = 255;
	assert_int_equal(ipam_record_verdict(&p, NULL, web2, 4, addr, &e), DDI_EPOLICY);
	assert_string_equal(e.msg, "198.18.0.255 cannot be allocated in 198.18.0.0/24 (network, "
	                           "broadcast or subnet-router anycast address)");
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_addr_parse),
		cmocka_unit_test(test_cidr_parse),
		cmocka_unit_test(test_containment),
		cmocka_unit_test(test_reverse_zones),
		cmocka_unit_test(test_mac),
		cmocka_unit_test(test_enums),
		cmocka_unit_test(test_binary),
		cmocka_unit_test(test_json),
		cmocka_unit_test(test_next_free_random),
		cmocka_unit_test(test_next_free_edges),
		cmocka_unit_test(test_next_free_span_random),
		cmocka_unit_test(test_next_free_checked),
		cmocka_unit_test(test_next_child),
		cmocka_unit_test(test_next_child_random),
		cmocka_unit_test(test_utilization),
		cmocka_unit_test(test_spans_and_ranges),
		cmocka_unit_test(test_host_name),
		cmocka_unit_test(test_verdict),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
