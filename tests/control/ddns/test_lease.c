/* test_lease -- the Update Lease option codec (RFC 9664): byte-by-byte parsing, bounds, the answer's OPT; lease bounds of policy rules */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>

#include "control/ddns/lease.h"
#include "control/ddns/policy.h"
#include "dns/errcode.h"
#include "dns/name.h"
#include "dns/wire.h"

static void test_parse_valid(void **state)
{
	(void)state;
	struct ul_lease l;
	/* LEASE only */
	const uint8_t a[] = { 0, 2, 0, 4, 0, 0, 0x0e, 0x10 };
	assert_int_equal(ul_parse_options(a, sizeof(a), &l), DDI_EOK);
	assert_true(l.present);
	assert_false(l.has_key_lease);
	assert_int_equal(l.lease, 3600);
	/* LEASE and KEY-LEASE, between two other options (cookie, padding) */
	const uint8_t b[] = { 0, 10, 0, 8, 1, 2, 3, 4, 5, 6, 7, 8,
	                      0, 2, 0, 8, 0, 0, 0, 5, 0, 1, 0, 0,
	                      0, 12, 0, 0 };
	assert_int_equal(ul_parse_options(b, sizeof(b), &l), DDI_EOK);
	assert_true(l.present && l.has_key_lease);
	assert_int_equal(l.lease, 5);
	assert_int_equal(l.key_lease, 65536);
	/* none at all, and other options only */
	assert_int_equal(ul_parse_options(NULL, 0, &l), DDI_EOK);
	assert_false(l.present);
	const uint8_t c[] = { 0, 3, 0, 0 };
	assert_int_equal(ul_parse_options(c, sizeof(c), &l), DDI_EOK);
	assert_false(l.present);
	/* the largest value the wire can carry */
	const uint8_t d[] = { 0, 2, 0, 4, 0xff, 0xff, 0xff, 0xff };
	assert_int_equal(ul_parse_options(d, sizeof(d), &l), DDI_EOK);
	assert_int_equal(l.lease, 0xffffffffu);
}

static void test_parse_malformed(void **state)
{
	(void)state;
	struct ul_lease l = { .present = true, .lease = 77 };
	/* every length but 4 and 8 */
	for (unsigned len = 0; len <= 16; len++) {
		uint8_t o[4 + 16] = { 0, 2, 0, (uint8_t)len };
		int rc = ul_parse_options(o, 4 + len, &l);
		assert_int_equal(rc, len == 4 || len == 8 ? DDI_EOK : DDI_EMALF);
	}
	l = (struct ul_lease){ .lease = 77 };
	/* twice */
	const uint8_t twice[] = { 0, 2, 0, 4, 0, 0, 0, 1, 0, 2, 0, 4, 0, 0, 0, 2 };
	assert_int_equal(ul_parse_options(twice, sizeof(twice), &l), DDI_EMALF);
	assert_int_equal(l.lease, 77);   /* nothing set on error */
	/* every truncation of a valid option is refused */
	const uint8_t ok[] = { 0, 2, 0, 8, 0, 0, 0, 5, 0, 0, 0, 6 };
	for (size_t n = 1; n < sizeof(ok); n++)
		assert_int_equal(ul_parse_options(ok, n, &l), DDI_EMALF);
	/* another option overrunning the rdata, a header cut short */
	const uint8_t over[] = { 0, 10, 0, 9, 1, 2, 3, 4, 5, 6, 7, 8 };
	assert_int_equal(ul_parse_options(over, sizeof(over), &l), DDI_EMALF);
	const uint8_t hdr[] = { 0, 2, 0, 4, 0, 0, 0, 1, 0, 3, 0 };
	assert_int_equal(ul_parse_options(hdr, sizeof(hdr), &l), DDI_EMALF);
	assert_int_equal(ul_parse_options(NULL, 4, &l), DDI_EMALF);
}

/* An OPT RR at the end of a message: root, type 41, class, ttl, rdlen, rdata. */
static size_t opt_msg(uint8_t *m, const uint8_t *rd, uint16_t rdlen)
{
	memset(m, 0, 12);
	size_t p = 12;
	m[p] = 0;
	dns_put16(m + p + 1, 41);
	dns_put16(m + p + 3, 1232);
	dns_put32(m + p + 5, 0);
	dns_put16(m + p + 9, rdlen);
	memcpy(m + p + 11, rd, rdlen);
	return p + 11 + rdlen;
}

static void test_parse_message(void **state)
{
	(void)state;
	uint8_t m[128];
	struct ul_lease l;
	const uint8_t rd[] = { 0, 2, 0, 4, 0, 0, 0, 9 };
	size_t len = opt_msg(m, rd, sizeof(rd));
	assert_int_equal(ul_parse_message(m, len, 12, &l), DDI_EOK);
	assert_true(l.present);
	assert_int_equal(l.lease, 9);
	/* rdlength beyond the message, the message cut inside the RR header */
	assert_int_equal(ul_parse_message(m, len - 1, 12, &l), DDI_EMALF);
	for (size_t n = 12; n < 23; n++)
		assert_int_equal(ul_parse_message(m, n, 12, &l), DDI_EMALF);
	assert_int_equal(ul_parse_message(m, len, len, &l), DDI_EMALF);
	/* not an OPT: another type, a non-root owner */
	dns_put16(m + 13, 1);
	assert_int_equal(ul_parse_message(m, len, 12, &l), DDI_EMALF);
	dns_put16(m + 13, 41);
	m[12] = 1;
	assert_int_equal(ul_parse_message(m, len, 12, &l), DDI_EMALF);
	assert_int_equal(ul_parse_message(NULL, 0, 0, &l), DDI_EMALF);
}

static void test_grant(void **state)
{
	(void)state;
	assert_int_equal(ul_grant(5, 0, 0), 5);
	assert_int_equal(ul_grant(0, 0, 0), 0);
	assert_int_equal(ul_grant(UL_DEFAULT_MAX + 1, 0, 0), UL_DEFAULT_MAX);
	assert_int_equal(ul_grant(0xffffffffu, 0, 0), UL_DEFAULT_MAX);
	assert_int_equal(ul_grant(10, 60, 0), 60);
	assert_int_equal(ul_grant(7200, 60, 3600), 3600);
	assert_int_equal(ul_grant(100, 60, 3600), 100);
	assert_int_equal(ul_grant(100, 9000, 3600), 3600);   /* min above max: max wins */
}

static void test_append(void **state)
{
	(void)state;
	uint8_t m[64] = { 0 };
	dns_put16(m + 10, 0);
	struct ul_lease g = { .present = true, .lease = 3600 }, back;
	int n = ul_append(m, 12, sizeof(m), &g);
	assert_int_equal(n, 12 + 11 + 8);
	assert_int_equal(dns_get16(m + 10), 1);
	assert_int_equal(ul_parse_message(m, (size_t)n, 12, &back), DDI_EOK);
	assert_true(back.present && !back.has_key_lease);
	assert_int_equal(back.lease, 3600);
	g.has_key_lease = true;
	g.key_lease = 7200;
	n = ul_append(m, 12, sizeof(m), &g);
	assert_int_equal(n, 12 + 11 + 12);
	assert_int_equal(dns_get16(m + 10), 2);
	assert_int_equal(ul_parse_message(m, (size_t)n, 12, &back), DDI_EOK);
	assert_int_equal(back.key_lease, 7200);
	assert_int_equal(ul_append(m, 12, 12 + 22, &g), DDI_ESPACE);
	assert_int_equal(ul_append(m, 11, sizeof(m), &g), DDI_EMALF);
}

static void test_policy_bounds(void **state)
{
	(void)state;
	struct pol_set s = { 0 };
	struct pol_rule r;
	char err[256];
	uint8_t key[DNS_NAME_MAXLEN], other[DNS_NAME_MAXLEN];
	assert_true(dns_name_from_str(key, "k.", 2, NULL) > 0);
	assert_true(dns_name_from_str(other, "o.", 2, NULL) > 0);
	char *a1[] = { "grant", "subdomain", "dyn.", "--lease-min", "30", "--lease-max", "7200" };
	assert_int_equal(pol_rule_from_argv(&r, "k.", 7, a1, err, sizeof(err)), DDI_EOK);
	assert_int_equal(r.lease_min, 30);
	assert_int_equal(r.lease_max, 7200);
	assert_int_equal(pol_set_add(&s, &r), DDI_EOK);
	char *a2[] = { "grant", "name", "x.dyn.", "A", "--lease-max", "600" };
	assert_int_equal(pol_rule_from_argv(&r, "k.", 6, a2, err, sizeof(err)), DDI_EOK);
	assert_int_equal(pol_set_add(&s, &r), DDI_EOK);
	uint32_t mn, mx;
	pol_lease_bounds(&s, key, &mn, &mx);
	assert_int_equal(mn, 30);
	assert_int_equal(mx, 600);
	pol_lease_bounds(&s, other, &mn, &mx);
	assert_int_equal(mn, 0);
	assert_int_equal(mx, 0);
	/* JSON round trip keeps them; refused values */
	json_t *j = pol_rule_to_json(&s.rules[0]);
	assert_non_null(j);
	assert_int_equal(json_integer_value(json_object_get(j, "lease_min")), 30);
	struct pol_rule back;
	assert_int_equal(pol_rule_from_json(&back, j), DDI_EOK);
	assert_int_equal(back.lease_max, 7200);
	json_object_set_new(j, "lease_max", json_integer(0));
	assert_int_equal(pol_rule_from_json(&back, j), DDI_ESYNTAX);
	json_object_set_new(j, "lease_max", json_string("60"));
	assert_int_equal(pol_rule_from_json(&back, j), DDI_ESYNTAX);
	json_object_set_new(j, "lease_max", json_integer(10));   /* below lease_min 30 */
	assert_int_equal(pol_rule_from_json(&back, j), DDI_ESYNTAX);
	json_decref(j);
	char *bad1[] = { "grant", "subdomain", "dyn.", "--lease-max" };
	assert_int_equal(pol_rule_from_argv(&r, "k.", 4, bad1, err, sizeof(err)), DDI_ESYNTAX);
	char *bad2[] = { "grant", "subdomain", "dyn.", "--lease-max", "-5" };
	assert_int_equal(pol_rule_from_argv(&r, "k.", 5, bad2, err, sizeof(err)), DDI_ESYNTAX);
	char *bad3[] = { "grant", "subdomain", "dyn.", "--lease-min", "100", "--lease-max", "50" };
	assert_int_equal(pol_rule_from_argv(&r, "k.", 7, bad3, err, sizeof(err)), DDI_ESYNTAX);
	char line[512];
	assert_true(pol_rule_format(line, sizeof(line), &s.rules[0]) > 0);
	assert_string_equal(line, "grant subdomain dyn. --lease-min 30 --lease-max 7200");
	pol_set_free(&s);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_parse_valid),
		cmocka_unit_test(test_parse_malformed),
		cmocka_unit_test(test_parse_message),
		cmocka_unit_test(test_grant),
		cmocka_unit_test(test_append),
		cmocka_unit_test(test_policy_bounds),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
