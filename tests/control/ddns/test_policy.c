/* test_policy -- update policy: rule kinds, first match, default deny, types, address scope, unsigned sources, JSON */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "control/ddns/policy.h"
#include "control/ddns/update.h"
#include "dns/errcode.h"
#include "dns/name.h"
#include "dns/rdata.h"
#include "dns/wire.h"

static const uint8_t *wn(const char *s)
{
	static uint8_t buf[8][DNS_NAME_MAXLEN];
	static int i;
	uint8_t *b = buf[i++ % 8];
	assert_true(dns_name_from_str(b, s, strlen(s), NULL) > 0);
	dns_name_lower(b);
	return b;
}

/* "grant subdomain dhcp.example.com. A AAAA --prefix 198.18.0.0/24" for key `key`. */
static struct pol_rule rule(const char *key, const char *text)
{
	struct pol_rule r;
	char copy[512], *argv[32], err[256], *save = NULL;
	int argc = 0;
	snprintf(copy, sizeof(copy), "%s", text);
	for (char *t = strtok_r(copy, " ", &save); t != NULL; t = strtok_r(NULL, " ", &save))
		argv[argc++] = t;
	int e = pol_rule_from_argv(&r, key, argc, argv, err, sizeof(err));
	if (e != DDI_EOK)
		fail_msg("rule '%s': %s", text, err);
	return r;
}

static int rule_err(const char *key, const char *text, char *err, size_t errlen)
{
	struct pol_rule r;
	char copy[512], *argv[32], *save = NULL;
	int argc = 0;
	snprintf(copy, sizeof(copy), "%s", text);
	for (char *t = strtok_r(copy, " ", &save); t != NULL; t = strtok_r(NULL, " ", &save))
		argv[argc++] = t;
	return pol_rule_from_argv(&r, key, argc, argv, err, errlen);
}

/* A message with the given update RRs (kinds and rdata built by hand). */
struct msgb {
	struct upd_msg m;
	struct upd_rr rr[16];
	uint8_t rd[16][16];
};

static void mb_reset(struct msgb *b)
{
	memset(b, 0, sizeof(*b));
	memcpy(b->m.zone, wn("example.com."), dns_name_len(wn("example.com.")));
	b->m.update = b->rr;
}

static void mb_add(struct msgb *b, int kind, const char *owner, uint16_t type, const char *addr)
{
	struct upd_rr *u = &b->rr[b->m.nupdate];
	const uint8_t *o = wn(owner);
	memset(u, 0, sizeof(*u));
	u->kind = kind;
	memcpy(u->owner, o, dns_name_len(o));
	u->type = type;
	if (addr != NULL) {
		struct pol_prefix p;
		assert_int_equal(pol_prefix_parse(&p, addr), DDI_EOK);
		memcpy(b->rd[b->m.nupdate], p.addr, 16);
		u->rdata = b->rd[b->m.nupdate];
		u->rdlen = p.family == 4 ? 4 : 16;
	} else if (type == DNS_T_TXT && kind == UPD_OP_ADD) {
		memcpy(b->rd[b->m.nupdate], "\x01x", 2);
		u->rdata = b->rd[b->m.nupdate];
		u->rdlen = 2;
	}
	b->m.nupdate++;
}

static uint8_t src4[4] = { 198, 18, 5, 5 };

/* Allowed? With the reason printed on refusal for debugging. */
static bool allowed(const struct pol_set *s, const char *key, const struct msgb *b,
                    const struct pol_view *view, struct pol_verdict *v)
{
	struct pol_verdict local;
	uint8_t k[DNS_NAME_MAXLEN];   /* a copy: the views call wn() and reuse its buffers */
	if (v == NULL)
		v = &local;
	if (key != NULL)
		memcpy(k, wn(key), dns_name_len(wn(key)));
	assert_int_equal(pol_check(s, key ? k : NULL, 4, src4, &b->m, view, v), DDI_EOK);
	if (v->allowed) {
		assert_int_equal(v->rr, -1);
	} else {
		assert_true(v->rr >= 0);
		assert_true(strlen(v->reason) > 0);
	}
	return v->allowed;
}

/* ------------------------------------------------------------------------ */
/* Prefixes and rule text                                                   */
/* ------------------------------------------------------------------------ */

static void test_prefixes(void **state)
{
	struct pol_prefix p;
	char buf[64];
	uint8_t a[16];
	(void)state;

	assert_int_equal(pol_prefix_parse(&p, "198.18.0.0/15"), DDI_EOK);
	assert_int_equal(p.family, 4);
	assert_int_equal(p.len, 15);
	memcpy(a, (uint8_t[]){ 198, 19, 255, 1 }, 4);
	assert_true(pol_prefix_contains(&p, 4, a));
	memcpy(a, (uint8_t[]){ 198, 20, 0, 1 }, 4);
	assert_false(pol_prefix_contains(&p, 4, a));
	assert_false(pol_prefix_contains(&p, 6, a));
	/* Host bits cleared. */
	assert_int_equal(pol_prefix_parse(&p, "198.18.7.9/24"), DDI_EOK);
	assert_int_equal(pol_prefix_format(buf, sizeof(buf), &p), 13);
	assert_string_equal(buf, "198.18.7.0/24");
	assert_int_equal(pol_prefix_parse(&p, "2001:2:0:ffff::1/56"), DDI_EOK);
	assert_true(pol_prefix_format(buf, sizeof(buf), &p) > 0);
	assert_string_equal(buf, "2001:2:0:ff00::/56");
	assert_int_equal(pol_prefix_parse(&p, "198.18.0.1"), DDI_EOK);
	assert_int_equal(p.len, 32);
	assert_int_equal(pol_prefix_parse(&p, "0.0.0.0/0"), DDI_EOK);
	assert_true(pol_prefix_contains(&p, 4, a));
	assert_int_equal(pol_prefix_parse(&p, "198.18.0.0/33"), DDI_ESYNTAX);
	assert_int_equal(pol_prefix_parse(&p, "198.18.0.0/"), DDI_ESYNTAX);
	assert_int_equal(pol_prefix_parse(&p, "198.18.0.0/-1"), DDI_ESYNTAX);
	assert_int_equal(pol_prefix_parse(&p, "198.18.0.0/1x"), DDI_ESYNTAX);
	assert_int_equal(pol_prefix_parse(&p, "2001:2::/129"), DDI_ESYNTAX);
	assert_int_equal(pol_prefix_parse(&p, "example.com"), DDI_ESYNTAX);
	assert_int_equal(pol_prefix_parse(&p, "/8"), DDI_ESYNTAX);
}

static void test_rule_text(void **state)
{
	char buf[512], err[256];
	struct pol_rule r;
	(void)state;

	r = rule("dhcp-key", "grant subdomain DHCP.example.com A AAAA DHCID --prefix 198.18.0.0/24 2001:2::/48");
	assert_int_equal(r.action, POL_GRANT);
	assert_int_equal(r.match, POL_SUBDOMAIN);
	assert_true(dns_name_equal(r.key, wn("dhcp-key.")));
	assert_memory_equal(r.name, "\x04" "dhcp\x07" "example\x03" "com", 18);
	assert_int_equal(r.ntypes, 3);
	assert_int_equal(r.types[2], DNS_T_DHCID);
	assert_int_equal(r.nprefixes, 2);
	assert_int_equal(r.nsources, 0);
	assert_true(pol_rule_format(buf, sizeof(buf), &r) > 0);
	assert_string_equal(buf, "grant subdomain dhcp.example.com. A AAAA DHCID --prefix 198.18.0.0/24 2001:2::/48");
	assert_int_equal(pol_rule_format(buf, 10, &r), DDI_ESPACE);

	r = rule(".", "grant pattern *.dyn.example.com. --source 198.18.5.0/24");
	assert_int_equal(r.key[0], 0);
	assert_int_equal(r.nsources, 1);
	assert_true(pol_rule_format(buf, sizeof(buf), &r) > 0);
	assert_string_equal(buf, "grant pattern *.dyn.example.com. --source 198.18.5.0/24");

	assert_int_equal(rule_err("k", "allow name x.example.com.", err, sizeof(err)), DDI_ESYNTAX);
	assert_string_equal(err, "expected grant or deny, got 'allow'");
	assert_int_equal(rule_err("k", "grant wildcard x.example.com.", err, sizeof(err)), DDI_ESYNTAX);
	assert_int_equal(rule_err("k", "grant name", err, sizeof(err)), DDI_ESYNTAX);
	assert_int_equal(rule_err("k", "grant name x..com", err, sizeof(err)), DDI_ESYNTAX);
	assert_int_equal(rule_err("k", "grant name x.com. BOGUS", err, sizeof(err)), DDI_ESYNTAX);
	assert_string_equal(err, "'BOGUS' is not an RR type");
	assert_int_equal(rule_err("k", "grant name x.com. AXFR", err, sizeof(err)), DDI_ESYNTAX);
	assert_int_equal(rule_err("k", "grant name x.com. A --prefix", err, sizeof(err)), DDI_ESYNTAX);
	assert_int_equal(rule_err("k", "grant name x.com. A --prefix 10.0.0.0/40", err, sizeof(err)),
	                 DDI_ESYNTAX);
	assert_int_equal(rule_err("k", "grant pattern a.*.com.", err, sizeof(err)), DDI_ESYNTAX);
	/* Unsigned rules must name sources. */
	assert_int_equal(rule_err(".", "grant subdomain example.com.", err, sizeof(err)), DDI_ESYNTAX);
	/* Limits. */
	assert_int_equal(rule_err("k", "grant name x.com. A A A A A A A A A A A A A A A A A", err,
	                          sizeof(err)), DDI_ELIMIT);
}

static void test_json(void **state)
{
	struct pol_set s = { 0 }, t = { 0 };
	struct pol_rule r;
	char *text;
	(void)state;

	r = rule("k1", "grant subdomain dhcp.example.com. A AAAA --prefix 198.18.0.0/24");
	assert_int_equal(pol_set_add(&s, &r), DDI_EOK);
	r = rule(".", "deny self x. --source 2001:2::/48");
	assert_int_equal(pol_set_add(&s, &r), DDI_EOK);
	json_t *j = pol_set_to_json(&s);
	assert_non_null(j);
	text = json_dumps(j, JSON_COMPACT);
	assert_string_equal(text,
		"[{\"key\":\"k1.\",\"action\":\"grant\",\"match\":\"subdomain\",\"name\":\"dhcp.example.com.\","
		"\"types\":[\"A\",\"AAAA\"],\"prefixes\":[\"198.18.0.0/24\"],\"sources\":[]},"
		"{\"key\":\".\",\"action\":\"deny\",\"match\":\"self\",\"name\":\"x.\",\"types\":[],"
		"\"prefixes\":[],\"sources\":[\"2001:2::/48\"]}]");
	free(text);
	assert_int_equal(pol_set_from_json(&t, j), DDI_EOK);
	assert_int_equal(t.n, 2);
	assert_memory_equal(&t.rules[0], &s.rules[0], sizeof(struct pol_rule));
	assert_memory_equal(&t.rules[1], &s.rules[1], sizeof(struct pol_rule));
	json_decref(j);

	/* Refusals: unknown field, bad type, bad prefix, missing field, unsigned without sources. */
	static const char *const bad[] = {
		"{\"key\":\"k.\",\"action\":\"grant\",\"match\":\"name\",\"name\":\"x.\",\"extra\":1}",
		"{\"key\":\"k.\",\"action\":\"grant\",\"match\":\"name\",\"name\":\"x.\",\"types\":[\"NOPE\"]}",
		"{\"key\":\"k.\",\"action\":\"grant\",\"match\":\"name\",\"name\":\"x.\",\"types\":[1]}",
		"{\"key\":\"k.\",\"action\":\"grant\",\"match\":\"name\",\"name\":\"x.\",\"prefixes\":[\"1.2.3.4/99\"]}",
		"{\"key\":\"k.\",\"action\":\"grant\",\"match\":\"name\"}",
		"{\"key\":\"k.\",\"action\":\"maybe\",\"match\":\"name\",\"name\":\"x.\"}",
		"{\"key\":\".\",\"action\":\"grant\",\"match\":\"name\",\"name\":\"x.\"}",
		"{\"key\":\"k.\",\"action\":\"grant\",\"match\":\"pattern\",\"name\":\"a.*.x.\"}",
		"[1]",
	};
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		json_t *b = json_loads(bad[i], 0, NULL);
		assert_non_null(b);
		if (json_is_array(b))
			assert_int_equal(pol_set_from_json(&t, b), DDI_ESYNTAX);
		else
			assert_int_equal(pol_rule_from_json(&r, b), DDI_ESYNTAX);
		json_decref(b);
	}
	/* A minimal object (no lists) is fine. */
	json_t *min = json_loads("{\"key\":\"k.\",\"action\":\"grant\",\"match\":\"self\",\"name\":\".\"}", 0, NULL);
	assert_int_equal(pol_rule_from_json(&r, min), DDI_EOK);
	assert_int_equal(r.match, POL_SELF);
	json_decref(min);
	pol_set_free(&s);
	pol_set_free(&t);
}

/* ------------------------------------------------------------------------ */
/* Matching                                                                 */
/* ------------------------------------------------------------------------ */

static void test_name_kinds(void **state)
{
	struct pol_rule r;
	(void)state;

	r = rule("host1.example.com", "grant self .");
	assert_true(pol_name_matches(&r, wn("host1.example.com."), wn("HOST1.example.com.")));
	assert_false(pol_name_matches(&r, wn("host1.example.com."), wn("a.host1.example.com.")));
	assert_false(pol_name_matches(&r, NULL, wn("host1.example.com.")));

	r = rule("k", "grant name www.example.com.");
	assert_true(pol_name_matches(&r, wn("k."), wn("WWW.example.com.")));
	assert_false(pol_name_matches(&r, wn("k."), wn("a.www.example.com.")));
	assert_false(pol_name_matches(&r, wn("k."), wn("example.com.")));

	r = rule("k", "grant subdomain dhcp.example.com.");
	assert_true(pol_name_matches(&r, wn("k."), wn("dhcp.example.com.")));
	assert_true(pol_name_matches(&r, wn("k."), wn("a.b.dhcp.example.com.")));
	assert_false(pol_name_matches(&r, wn("k."), wn("xdhcp.example.com.")));
	assert_false(pol_name_matches(&r, wn("k."), wn("example.com.")));

	r = rule("k", "grant pattern *.dhcp.example.com.");
	assert_true(pol_name_matches(&r, wn("k."), wn("a.dhcp.example.com.")));
	assert_true(pol_name_matches(&r, wn("k."), wn("a.b.dhcp.example.com.")));
	assert_false(pol_name_matches(&r, wn("k."), wn("dhcp.example.com.")));
	assert_false(pol_name_matches(&r, wn("k."), wn("a.other.example.com.")));
	/* A pattern without a wildcard is an exact name. */
	r = rule("k", "grant pattern h.example.com.");
	assert_true(pol_name_matches(&r, wn("k."), wn("h.example.com.")));
	assert_false(pol_name_matches(&r, wn("k."), wn("a.h.example.com.")));
}

static void test_first_match_and_default(void **state)
{
	struct pol_set s = { 0 };
	struct pol_rule r;
	struct msgb b;
	struct pol_verdict v;
	(void)state;

	/* No rules: deny. */
	mb_reset(&b);
	mb_add(&b, UPD_OP_ADD, "h.dhcp.example.com.", DNS_T_A, "198.18.0.5");
	assert_false(allowed(&s, "k", &b, NULL, &v));
	assert_int_equal(v.rule, -1);
	assert_int_equal(v.rr, 0);
	assert_string_equal(v.reason, "h.dhcp.example.com.: no rule grants k. A");

	/* Deny a name first, then grant its parent: the name is refused, the rest allowed. */
	r = rule("k", "deny name static.dhcp.example.com.");
	pol_set_add(&s, &r);
	r = rule("k", "grant subdomain dhcp.example.com.");
	pol_set_add(&s, &r);
	assert_true(allowed(&s, "k", &b, NULL, &v));
	mb_add(&b, UPD_OP_ADD, "static.dhcp.example.com.", DNS_T_A, "198.18.0.6");
	assert_false(allowed(&s, "k", &b, NULL, &v));
	assert_int_equal(v.rr, 1);
	assert_int_equal(v.rule, 0);
	assert_string_equal(v.reason, "static.dhcp.example.com.: k. A denied by a rule");
	/* The other order: the grant matches first. */
	assert_int_equal(pol_set_remove(&s, wn("k."), 0), DDI_EOK);
	r = rule("k", "deny name static.dhcp.example.com.");
	pol_set_add(&s, &r);
	assert_true(allowed(&s, "k", &b, NULL, &v));
	/* Another key's rules do not apply. */
	assert_false(allowed(&s, "other", &b, NULL, &v));
	/* Outside every granted name. */
	mb_reset(&b);
	mb_add(&b, UPD_OP_ADD, "www.example.com.", DNS_T_A, "198.18.0.5");
	assert_false(allowed(&s, "k", &b, NULL, &v));

	/* Set editing. */
	assert_int_equal(pol_set_remove(&s, wn("k."), 5), DDI_ENOENT);
	r = rule("other", "grant name www.example.com.");
	pol_set_add(&s, &r);
	assert_int_equal(pol_set_remove_key(&s, wn("k.")), 2);
	assert_int_equal(s.n, 1);
	assert_true(dns_name_equal(s.rules[0].key, wn("other.")));
	pol_set_free(&s);
}

static void test_types(void **state)
{
	struct pol_set s = { 0 };
	struct pol_rule r;
	struct msgb b;
	(void)state;

	r = rule("k", "grant subdomain example.com.");
	pol_set_add(&s, &r);
	/* No type list: ordinary types and name deletions, not SOA, NS or DNSSEC types. */
	mb_reset(&b);
	mb_add(&b, UPD_OP_ADD, "h.example.com.", DNS_T_TXT, NULL);
	mb_add(&b, UPD_OP_DEL_NAME, "old.example.com.", DNS_T_ANY, NULL);
	mb_add(&b, UPD_OP_DEL_RRSET, "h.example.com.", DNS_T_MX, NULL);
	assert_true(allowed(&s, "k", &b, NULL, NULL));
	mb_reset(&b);
	mb_add(&b, UPD_OP_DEL_RRSET, "sub.example.com.", DNS_T_NS, NULL);
	assert_false(allowed(&s, "k", &b, NULL, NULL));
	mb_reset(&b);
	mb_add(&b, UPD_OP_DEL_RRSET, "example.com.", DNS_T_SOA, NULL);
	assert_false(allowed(&s, "k", &b, NULL, NULL));
	mb_reset(&b);
	mb_add(&b, UPD_OP_DEL_RRSET, "example.com.", 46, NULL);
	assert_false(allowed(&s, "k", &b, NULL, NULL));
	pol_set_free(&s);

	/* A type list: only those; a name deletion needs ANY. */
	r = rule("k", "grant subdomain example.com. A AAAA");
	pol_set_add(&s, &r);
	mb_reset(&b);
	mb_add(&b, UPD_OP_ADD, "h.example.com.", DNS_T_A, "198.18.0.1");
	mb_add(&b, UPD_OP_DEL_RR, "h.example.com.", DNS_T_AAAA, "2001:2::1");
	assert_true(allowed(&s, "k", &b, NULL, NULL));
	mb_add(&b, UPD_OP_ADD, "h.example.com.", DNS_T_TXT, NULL);
	assert_false(allowed(&s, "k", &b, NULL, NULL));
	mb_reset(&b);
	mb_add(&b, UPD_OP_DEL_NAME, "h.example.com.", DNS_T_ANY, NULL);
	assert_false(allowed(&s, "k", &b, NULL, NULL));
	pol_set_free(&s);
	r = rule("k", "grant subdomain example.com. ANY");
	pol_set_add(&s, &r);
	assert_true(allowed(&s, "k", &b, NULL, NULL));
	mb_reset(&b);
	mb_add(&b, UPD_OP_DEL_RRSET, "example.com.", DNS_T_NS, NULL);
	assert_true(allowed(&s, "k", &b, NULL, NULL));   /* ANY named: everything */
	pol_set_free(&s);
}

static void test_unsigned_sources(void **state)
{
	struct pol_set s = { 0 };
	struct pol_rule r;
	struct msgb b;
	struct pol_verdict v;
	uint8_t outside[4] = { 198, 18, 6, 1 };
	uint8_t v6[16] = { 0x20, 0x01, 0, 2 };
	(void)state;

	mb_reset(&b);
	mb_add(&b, UPD_OP_ADD, "h.dyn.example.com.", DNS_T_A, "198.18.0.5");
	/* A key's rule never serves unsigned requests. */
	r = rule("k", "grant subdomain example.com.");
	pol_set_add(&s, &r);
	assert_false(allowed(&s, NULL, &b, NULL, &v));
	assert_string_equal(v.reason, "h.dyn.example.com.: no rule grants unsigned request A");
	r = rule(".", "grant subdomain dyn.example.com. --source 198.18.5.0/24 2001:2::/48");
	pol_set_add(&s, &r);
	assert_true(allowed(&s, NULL, &b, NULL, &v));   /* src4 is 198.18.5.5 */
	assert_int_equal(pol_check(&s, NULL, 4, outside, &b.m, NULL, &v), DDI_EOK);
	assert_false(v.allowed);
	assert_int_equal(pol_check(&s, NULL, 6, v6, &b.m, NULL, &v), DDI_EOK);
	assert_true(v.allowed);
	assert_int_equal(pol_check(&s, NULL, 4, NULL, &b.m, NULL, &v), DDI_EOK);
	assert_false(v.allowed);
	/* A key rule with sources also needs the source. */
	pol_set_free(&s);
	r = rule("k", "grant subdomain example.com. --source 198.18.6.0/24");
	pol_set_add(&s, &r);
	assert_false(allowed(&s, "k", &b, NULL, NULL));
	assert_int_equal(pol_check(&s, wn("k."), 4, outside, &b.m, NULL, &v), DDI_EOK);
	assert_true(v.allowed);
	pol_set_free(&s);
}

/* ------------------------------------------------------------------------ */
/* Address scope                                                            */
/* ------------------------------------------------------------------------ */

struct fake_ipam {
	const char *addrs_of[4][2];    /* owner, address */
	const char *reg[4][2];         /* address, owner it is registered to */
	int fail;
};

static int fake_addresses(void *ctx, const uint8_t *owner, uint8_t family,
                          int (*cb)(void *cbctx, const uint8_t *addr), void *cbctx)
{
	struct fake_ipam *f = ctx;
	int n = 0;
	if (f->fail)
		return DDI_EIO;
	for (int i = 0; i < 4 && f->addrs_of[i][0]; i++) {
		struct pol_prefix p;
		if (!dns_name_equal(wn(f->addrs_of[i][0]), owner))
			continue;
		assert_int_equal(pol_prefix_parse(&p, f->addrs_of[i][1]), DDI_EOK);
		if (p.family != family)
			continue;
		n++;
		if (cb(cbctx, p.addr))
			return 0;
	}
	return n ? DDI_EOK : DDI_ENOENT;
}

static int fake_owners(void *ctx, uint8_t family, const uint8_t *addr,
                       int (*cb)(void *cbctx, const uint8_t *owner), void *cbctx)
{
	struct fake_ipam *f = ctx;
	for (int i = 0; i < 4 && f->reg[i][0]; i++) {
		struct pol_prefix p;
		assert_int_equal(pol_prefix_parse(&p, f->reg[i][0]), DDI_EOK);
		if (p.family == family && memcmp(p.addr, addr, family == 4 ? 4 : 16) == 0)
			if (cb(cbctx, wn(f->reg[i][1])))
				return 0;
	}
	return DDI_EOK;
}

static void test_scope(void **state)
{
	struct pol_set s = { 0 };
	struct pol_rule r;
	struct msgb b;
	struct pol_verdict v;
	struct fake_ipam f = {
		.addrs_of = { { "h.dhcp.example.com.", "198.18.0.9" }, { "h.dhcp.example.com.", "2001:2::9" },
		              { "far.dhcp.example.com.", "198.19.0.1" } },
		.reg = { { "198.18.0.77", "other.example.com." }, { "198.18.0.5", "h.dhcp.example.com." } },
	};
	struct pol_view view = { &f, fake_addresses, fake_owners };
	(void)state;

	r = rule("dhcp", "grant subdomain dhcp.example.com. A AAAA DHCID ANY --prefix 198.18.0.0/24 2001:2::/64");
	pol_set_add(&s, &r);

	mb_reset(&b);
	mb_add(&b, UPD_OP_ADD, "h.dhcp.example.com.", DNS_T_A, "198.18.0.5");
	mb_add(&b, UPD_OP_ADD, "h.dhcp.example.com.", DNS_T_AAAA, "2001:2::5");
	mb_add(&b, UPD_OP_ADD, "h.dhcp.example.com.", DNS_T_DHCID, NULL);
	assert_true(allowed(&s, "dhcp", &b, &view, &v));
	/* A foreign subnet. */
	mb_reset(&b);
	mb_add(&b, UPD_OP_ADD, "h.dhcp.example.com.", DNS_T_A, "198.18.1.5");
	assert_false(allowed(&s, "dhcp", &b, &view, &v));
	assert_string_equal(v.reason, "h.dhcp.example.com.: address 198.18.1.5 is outside the key's prefixes");
	mb_reset(&b);
	mb_add(&b, UPD_OP_ADD, "h.dhcp.example.com.", DNS_T_AAAA, "2001:2:0:1::5");
	assert_false(allowed(&s, "dhcp", &b, &view, &v));
	mb_reset(&b);
	mb_add(&b, UPD_OP_DEL_RR, "h.dhcp.example.com.", DNS_T_A, "198.19.0.1");
	assert_false(allowed(&s, "dhcp", &b, &view, &v));
	/* An address registered to another name. */
	mb_reset(&b);
	mb_add(&b, UPD_OP_ADD, "h.dhcp.example.com.", DNS_T_A, "198.18.0.77");
	assert_false(allowed(&s, "dhcp", &b, &view, &v));
	assert_string_equal(v.reason, "h.dhcp.example.com.: address 198.18.0.77 is registered to other.example.com.");
	/* Without an owners callback that check is skipped. */
	struct pol_view noowners = { &f, fake_addresses, NULL };
	assert_true(allowed(&s, "dhcp", &b, &noowners, &v));
	/* RRset and name deletions: the addresses they remove are read through the view. */
	mb_reset(&b);
	mb_add(&b, UPD_OP_DEL_RRSET, "h.dhcp.example.com.", DNS_T_A, NULL);
	mb_add(&b, UPD_OP_DEL_NAME, "h.dhcp.example.com.", DNS_T_ANY, NULL);
	assert_true(allowed(&s, "dhcp", &b, &view, &v));
	mb_add(&b, UPD_OP_DEL_NAME, "far.dhcp.example.com.", DNS_T_ANY, NULL);
	assert_false(allowed(&s, "dhcp", &b, &view, &v));
	assert_int_equal(v.rr, 2);
	assert_string_equal(v.reason, "far.dhcp.example.com.: address 198.19.0.1 is outside the key's prefixes");
	/* Without a view, a scoped key cannot delete RRsets of addresses. */
	mb_reset(&b);
	mb_add(&b, UPD_OP_DEL_RRSET, "h.dhcp.example.com.", DNS_T_A, NULL);
	assert_false(allowed(&s, "dhcp", &b, NULL, &v));
	/* A view error is returned. */
	f.fail = 1;
	assert_int_equal(pol_check(&s, wn("dhcp."), 4, src4, &b.m, &view, &v), DDI_EIO);
	f.fail = 0;
	/* A rule without prefixes does not look at addresses. */
	pol_set_free(&s);
	r = rule("dhcp", "grant subdomain dhcp.example.com.");
	pol_set_add(&s, &r);
	mb_reset(&b);
	mb_add(&b, UPD_OP_ADD, "h.dhcp.example.com.", DNS_T_A, "198.19.200.1");
	assert_true(allowed(&s, "dhcp", &b, &noowners, &v));
	pol_set_free(&s);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_prefixes),
		cmocka_unit_test(test_rule_text),
		cmocka_unit_test(test_json),
		cmocka_unit_test(test_name_kinds),
		cmocka_unit_test(test_first_match_and_default),
		cmocka_unit_test(test_types),
		cmocka_unit_test(test_unsigned_sources),
		cmocka_unit_test(test_scope),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
