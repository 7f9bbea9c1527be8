/* test_policy_krb -- update policy for GSS-TSIG principals (self, realm-wide) and the per-rule TTL policy (default, min, max, clamp, refuse) */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "control/ddns/policy.h"
#include "dns/errcode.h"
#include "dns/name.h"
#include "dns/rdata.h"

/* A principal or name as the policy keys it (what gss_principal_name makes). */
static const uint8_t *wn(const char *s)
{
	static uint8_t buf[8][DNS_NAME_MAXLEN];
	static int i;
	char t[DNS_NAME_STRLEN + 2];
	uint8_t *b = buf[i++ % 8];
	size_t n = strlen(s);
	snprintf(t, sizeof(t), "%s%s", s, n && s[n - 1] == '.' ? "" : ".");
	assert_true(dns_name_from_str(b, t, strlen(t), NULL) > 0);
	dns_name_lower(b);
	return b;
}

static int parse(struct pol_rule *r, const char *key, const char *text, char *err, size_t errlen)
{
	char copy[512], *argv[32], *save = NULL;
	int argc = 0;
	snprintf(copy, sizeof(copy), "%s", text);
	for (char *t = strtok_r(copy, " ", &save); t != NULL; t = strtok_r(NULL, " ", &save))
		argv[argc++] = t;
	return pol_rule_from_argv(r, key, argc, argv, err, errlen);
}

static void add(struct pol_set *s, const char *key, const char *text)
{
	struct pol_rule r;
	char err[256];
	if (parse(&r, key, text, err, sizeof(err)) != DDI_EOK)
		fail_msg("rule '%s': %s", text, err);
	assert_int_equal(pol_set_add(s, &r), DDI_EOK);
}

struct msgb {
	struct upd_msg m;
	struct upd_rr rr[8];
	uint8_t rd[8][4];
};

static void mb_reset(struct msgb *b)
{
	memset(b, 0, sizeof(*b));
	memcpy(b->m.zone, wn("ddi.test."), dns_name_len(wn("ddi.test.")));
	b->m.update = b->rr;
}

static struct upd_rr *mb_add(struct msgb *b, int kind, const char *owner, uint32_t ttl)
{
	struct upd_rr *u = &b->rr[b->m.nupdate];
	memset(u, 0, sizeof(*u));
	u->kind = kind;
	memcpy(u->owner, wn(owner), dns_name_len(wn(owner)));
	u->type = DNS_T_A;
	u->ttl = ttl;
	if (kind == UPD_OP_ADD) {
		memcpy(b->rd[b->m.nupdate], "\xc6\x12\x00\x07", 4);
		u->rdata = b->rd[b->m.nupdate];
		u->rdlen = 4;
	}
	b->m.nupdate++;
	return u;
}

static uint8_t src4[4] = { 198, 18, 0, 2 };

static bool allowed(const struct pol_set *s, const char *principal, const char *owner)
{
	struct msgb b;
	struct pol_verdict v;
	uint8_t k[DNS_NAME_MAXLEN];
	memcpy(k, wn(principal), dns_name_len(wn(principal)));
	mb_reset(&b);
	mb_add(&b, UPD_OP_ADD, owner, 300);
	assert_true(pol_may_update(s, k, 4, src4));
	assert_int_equal(pol_check(s, k, 4, src4, &b.m, NULL, &v), DDI_EOK);
	return v.allowed;
}

/* ------------------------------------------------------------------------ */
/* Principals                                                               */
/* ------------------------------------------------------------------------ */

static void test_key_covers(void **state)
{
	(void)state;
	assert_true(pol_key_covers(wn("@DDI.TEST"), wn("host/h1.ddi.test@DDI.TEST")));
	assert_true(pol_key_covers(wn("@ddi.test"), wn("alice@DDI.TEST")));
	assert_true(pol_key_covers(wn("alice@DDI.TEST"), wn("alice@ddi.test")));
	assert_false(pol_key_covers(wn("@DDI.TEST"), wn("alice@OTHER.DDI.TEST")));   /* a subrealm */
	assert_false(pol_key_covers(wn("@OTHER.DDI.TEST"), wn("alice@DDI.TEST")));
	assert_false(pol_key_covers(wn("@DDI.TEST"), wn("ddi.test")));            /* a TSIG key */
	assert_false(pol_key_covers(wn("@DDI.TEST"), wn("@DDI.TEST.x")));
	assert_false(pol_key_covers(wn("bob@DDI.TEST"), wn("alice@DDI.TEST")));
}

static void test_principal_self(void **state)
{
	struct pol_set s = { 0 };
	(void)state;
	add(&s, "@DDI.TEST", "grant self ddi.test. A");
	/* host/NAME@REALM: exactly NAME */
	assert_true(allowed(&s, "host/h1.ddi.test@DDI.TEST", "h1.ddi.test."));
	assert_true(allowed(&s, "host/H1.ddi.test@DDI.TEST", "h1.ddi.test."));
	assert_false(allowed(&s, "host/h1.ddi.test@DDI.TEST", "h2.ddi.test."));
	assert_false(allowed(&s, "host/h1.ddi.test@DDI.TEST", "x.h1.ddi.test."));
	assert_false(allowed(&s, "host/h1.example.com@DDI.TEST", "h1.example.com."));  /* not under ddi.test. */
	/* MACHINE$@REALM: exactly MACHINE.<the rule's name> */
	assert_true(allowed(&s, "WIN7$@DDI.TEST", "win7.ddi.test."));
	assert_false(allowed(&s, "WIN7$@DDI.TEST", "win7.site1.ddi.test."));
	assert_false(allowed(&s, "WIN7$@DDI.TEST", "win8.ddi.test."));
	assert_false(allowed(&s, "WIN7$@DDI.TEST", "win77.ddi.test."));
	assert_false(allowed(&s, "WIN7$@DDI.TEST", "ddi.test."));
	/* a user principal is no host */
	assert_false(allowed(&s, "alice@DDI.TEST", "alice.ddi.test."));
	/* another realm has no rule at all */
	uint8_t k[DNS_NAME_MAXLEN];
	memcpy(k, wn("host/h1.ddi.test@EVIL.TEST"), dns_name_len(wn("host/h1.ddi.test@EVIL.TEST")));
	assert_false(pol_may_update(&s, k, 4, src4));
	pol_set_free(&s);
}

static void test_principal_order(void **state)
{
	struct pol_set s = { 0 };
	(void)state;
	/* the realm grants a subdomain; one principal is denied part of it, by its own rule */
	add(&s, "@DDI.TEST", "grant subdomain hosts.ddi.test. A");
	add(&s, "mallory@DDI.TEST", "deny subdomain db.hosts.ddi.test.");
	assert_true(allowed(&s, "alice@DDI.TEST", "db.hosts.ddi.test."));
	assert_true(allowed(&s, "mallory@DDI.TEST", "web.hosts.ddi.test."));
	assert_false(allowed(&s, "mallory@DDI.TEST", "db.hosts.ddi.test."));
	assert_false(allowed(&s, "alice@DDI.TEST", "other.ddi.test."));
	/* a TSIG key with the same labels as a realm is not a principal */
	struct msgb b;
	struct pol_verdict v;
	mb_reset(&b);
	mb_add(&b, UPD_OP_ADD, "x.hosts.ddi.test.", 300);
	assert_int_equal(pol_check(&s, wn("ddi.test."), 4, src4, &b.m, NULL, &v), DDI_EOK);
	assert_false(v.allowed);
	pol_set_free(&s);
}

/* ------------------------------------------------------------------------ */
/* TTL policy                                                               */
/* ------------------------------------------------------------------------ */

static void test_ttl_parse(void **state)
{
	struct pol_rule r;
	char err[256], buf[512];
	(void)state;
	assert_int_equal(parse(&r, "k.", "grant subdomain ddi.test. A --prefix 198.18.0.0/24 "
	                 "--ttl-default 120 --ttl-min 60 --ttl-max 600 --ttl-over refuse", err,
	                 sizeof(err)), DDI_EOK);
	assert_int_equal(r.ttl_default, 120);
	assert_int_equal(r.ttl_min, 60);
	assert_int_equal(r.ttl_max, 600);
	assert_int_equal(r.ttl_over, POL_TTL_REFUSE);
	assert_int_equal(r.nprefixes, 1);
	assert_true(pol_rule_format(buf, sizeof(buf), &r) > 0);
	assert_string_equal(buf, "grant subdomain ddi.test. A --prefix 198.18.0.0/24 --ttl-default 120 "
	                    "--ttl-min 60 --ttl-max 600 --ttl-over refuse");
	/* JSON round trip, and a rule without a TTL policy keeps its old JSON form */
	json_t *j = pol_rule_to_json(&r);
	struct pol_rule back;
	assert_int_equal(pol_rule_from_json(&back, j), DDI_EOK);
	assert_memory_equal(&back, &r, sizeof(r));
	json_decref(j);
	assert_int_equal(parse(&r, "k.", "grant name a.ddi.test. A", err, sizeof(err)), DDI_EOK);
	j = pol_rule_to_json(&r);
	assert_null(json_object_get(j, "ttl_max"));
	json_decref(j);
	/* refusals, each with a reason */
	static const char *const bad[] = {
		"grant name a.ddi.test. A --ttl-max",
		"grant name a.ddi.test. A --ttl-max 0",
		"grant name a.ddi.test. A --ttl-max -5",
		"grant name a.ddi.test. A --ttl-max 2147483648",
		"grant name a.ddi.test. A --ttl-max 10x",
		"grant name a.ddi.test. A --ttl-min 600 --ttl-max 60",
		"grant name a.ddi.test. A --ttl-default 5 --ttl-min 60",
		"grant name a.ddi.test. A --ttl-over sometimes",
		"grant name a.ddi.test. A --ttl-often 5",
		"grant name a.ddi.test. --ttl-max 60 A",
		"grant name a.ddi.test. A --prefix --ttl-max 60",
	};
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		err[0] = 0;
		assert_int_equal(parse(&r, "k.", bad[i], err, sizeof(err)), DDI_ESYNTAX);
		assert_true(strlen(err) > 0);
	}
	/* JSON from the store is checked the same way */
	json_t *badj = json_pack("{s:s, s:s, s:s, s:s, s:i, s:i}", "key", "k.", "action", "grant",
	                         "match", "name", "name", "a.ddi.test.", "ttl_min", 600, "ttl_max", 60);
	assert_int_equal(pol_rule_from_json(&r, badj), DDI_ESYNTAX);
	json_decref(badj);
	badj = json_pack("{s:s, s:s, s:s, s:s, s:s}", "key", "k.", "action", "grant", "match", "name",
	                 "name", "a.ddi.test.", "ttl_over", "never");
	assert_int_equal(pol_rule_from_json(&r, badj), DDI_ESYNTAX);
	json_decref(badj);
	badj = json_pack("{s:s, s:s, s:s, s:s, s:i}", "key", "k.", "action", "grant", "match", "name",
	                 "name", "a.ddi.test.", "ttl_sometimes", 5);
	assert_int_equal(pol_rule_from_json(&r, badj), DDI_ESYNTAX);
	json_decref(badj);
}

static void test_ttl_apply(void **state)
{
	struct pol_set s = { 0 };
	struct msgb b;
	struct pol_verdict v;
	uint8_t k[DNS_NAME_MAXLEN];
	(void)state;
	memcpy(k, wn("k."), dns_name_len(wn("k.")));
	add(&s, "k.", "grant subdomain clamp.ddi.test. A --ttl-default 120 --ttl-min 60 --ttl-max 600");
	add(&s, "k.", "grant subdomain refuse.ddi.test. A --ttl-min 60 --ttl-max 600 --ttl-over refuse");
	add(&s, "k.", "grant subdomain free.ddi.test. A");
	add(&s, "k.", "deny subdomain denied.ddi.test. A --ttl-max 5");

	mb_reset(&b);
	struct upd_rr *hi = mb_add(&b, UPD_OP_ADD, "a.clamp.ddi.test.", 86400);
	struct upd_rr *lo = mb_add(&b, UPD_OP_ADD, "b.clamp.ddi.test.", 5);
	struct upd_rr *zero = mb_add(&b, UPD_OP_ADD, "c.clamp.ddi.test.", 0);
	struct upd_rr *mid = mb_add(&b, UPD_OP_ADD, "d.clamp.ddi.test.", 300);
	struct upd_rr *free_ = mb_add(&b, UPD_OP_ADD, "x.free.ddi.test.", 0);
	struct upd_rr *del = mb_add(&b, UPD_OP_DEL_RR, "e.clamp.ddi.test.", 0);
	struct upd_rr *deny = mb_add(&b, UPD_OP_ADD, "x.denied.ddi.test.", 9999);
	assert_int_equal(pol_ttl_apply(&s, k, 4, src4, &b.m, &v), 3);
	assert_true(v.allowed);
	assert_int_equal(hi->ttl, 600);
	assert_int_equal(lo->ttl, 60);
	assert_int_equal(zero->ttl, 120);     /* TTL 0: the rule's default */
	assert_int_equal(mid->ttl, 300);
	assert_int_equal(free_->ttl, 0);      /* no TTL policy: as asked */
	assert_int_equal(del->ttl, 0);        /* deletions are not looked at */
	assert_int_equal(deny->ttl, 9999);    /* a deny is pol_check's to refuse */

	/* refuse: above the maximum, below the minimum; inside passes */
	static const struct { uint32_t ttl; bool ok; } cases[] = {
		{ 601, false }, { 86400, false }, { 59, false }, { 0, false }, { 60, true }, { 600, true },
	};
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		mb_reset(&b);
		mb_add(&b, UPD_OP_ADD, "a.refuse.ddi.test.", 300);
		struct upd_rr *u = mb_add(&b, UPD_OP_ADD, "b.refuse.ddi.test.", cases[i].ttl);
		assert_int_equal(pol_ttl_apply(&s, k, 4, src4, &b.m, &v), 0);
		assert_int_equal(v.allowed, cases[i].ok);
		assert_int_equal(u->ttl, cases[i].ttl);   /* nothing changed on refusal either */
		if (!cases[i].ok) {
			assert_int_equal(v.rr, 1);
			assert_non_null(strstr(v.reason, "b.refuse.ddi.test."));
			assert_non_null(strstr(v.reason, cases[i].ttl > 600 ? "maximum" : "minimum"));
		}
	}
	/* no policy at all, unsigned: nothing changes */
	mb_reset(&b);
	mb_add(&b, UPD_OP_ADD, "a.clamp.ddi.test.", 86400);
	assert_int_equal(pol_ttl_apply(NULL, NULL, 4, src4, &b.m, &v), 0);
	assert_true(v.allowed);
	pol_set_free(&s);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_key_covers),
		cmocka_unit_test(test_principal_self),
		cmocka_unit_test(test_principal_order),
		cmocka_unit_test(test_ttl_parse),
		cmocka_unit_test(test_ttl_apply),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
