/* test_rrl -- dataplane/rrl.c on a fake clock: rate, refill, slip, prefixes, kinds, exempt, an oracle */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "dataplane/rrl.h"

static const uint8_t A1[4] = { 198, 18, 0, 2 };
static const uint8_t A2[4] = { 198, 18, 0, 77 };     /* same /24 as A1 */
static const uint8_t B[4] = { 198, 18, 3, 2 };       /* another /24 */

static struct rrl_table *table(struct rrl_conf *c, uint32_t rate, uint32_t slip, uint32_t size)
{
	rrl_conf_init(c);
	c->rate = rate;
	c->slip = slip;
	c->table_size = size;
	struct rrl_table *t = rrl_new(c, 0x1234567890abcdefULL);
	assert_non_null(t);
	return t;
}

/* n responses at `now`; how many of each verdict */
static void burst(struct rrl_table *t, uint32_t now, const uint8_t *a, bool v6, enum rrl_kind k,
                  unsigned n, unsigned count[4])
{
	memset(count, 0, 4 * sizeof(unsigned));
	for (unsigned i = 0; i < n; i++)
		count[rrl_decide(t, now, a, v6, k)]++;
}

/* A reload's rate and slip: taken at the next refresh, not before; off stays a restart. */
static void test_live(void **state)
{
	(void)state;
	struct rrl_conf c;
	struct rrl_table *t = table(&c, 10, 0, 1024);
	struct rrl_live live = { 0 };
	unsigned n[4];
	rrl_refresh(t, &live);   /* nothing published yet: unchanged */
	burst(t, 1000, A1, false, RRL_K_ANSWER, 30, n);
	assert_int_equal(n[RRL_PASS], 10);
	rrl_live_set(&live, 40, 1);
	burst(t, 3000, B, false, RRL_K_ANSWER, 60, n);   /* not refreshed: still 10/s */
	assert_int_equal(n[RRL_PASS], 10);
	rrl_refresh(t, &live);
	burst(t, 5000, A2, false, RRL_K_ANSWER, 60, n);   /* A1's /24 refilled at 40/s: 40 pass, 20 slip */
	assert_int_equal(n[RRL_PASS], 40);
	assert_int_equal(n[RRL_SLIP], 20);
	rrl_live_set(&live, 0, 1);   /* 0 (off) is not taken live: the rate stays */
	rrl_refresh(t, &live);
	burst(t, 9000, A1, false, RRL_K_NXDOMAIN, 60, n);
	assert_int_equal(n[RRL_PASS], 40);
	rrl_free(t);
}

static void test_rate_and_slip(void **state)
{
	(void)state;
	struct rrl_conf c;
	struct rrl_table *t = table(&c, 10, 2, 1024);
	unsigned n[4];

	/* a new client starts with one second's worth, then every 2nd limited one slips */
	burst(t, 5000, A1, false, RRL_K_ANSWER, 10, n);
	assert_int_equal(n[RRL_PASS], 10);
	assert_int_equal(rrl_decide(t, 5000, A1, false, RRL_K_ANSWER), RRL_DROP);
	assert_int_equal(rrl_decide(t, 5000, A1, false, RRL_K_ANSWER), RRL_SLIP);
	assert_int_equal(rrl_decide(t, 5000, A1, false, RRL_K_ANSWER), RRL_DROP);
	assert_int_equal(rrl_decide(t, 5000, A1, false, RRL_K_ANSWER), RRL_SLIP);
	/* the same /24 shares the bucket */
	assert_int_equal(rrl_decide(t, 5000, A2, false, RRL_K_ANSWER), RRL_DROP);
	/* another /24 and another kind have their own */
	burst(t, 5000, B, false, RRL_K_ANSWER, 10, n);
	assert_int_equal(n[RRL_PASS], 10);
	burst(t, 5000, A1, false, RRL_K_NXDOMAIN, 10, n);
	assert_int_equal(n[RRL_PASS], 10);

	/* refill: 10/s is one response per 100 ms, none before */
	assert_true(rrl_decide(t, 5099, A1, false, RRL_K_ANSWER) >= RRL_DROP);
	assert_int_equal(rrl_decide(t, 5199, A1, false, RRL_K_ANSWER), RRL_PASS);
	assert_true(rrl_decide(t, 5199, A1, false, RRL_K_ANSWER) >= RRL_DROP);
	/* a long pause refills one second's worth, not more */
	burst(t, 60000, A1, false, RRL_K_ANSWER, 20, n);
	assert_int_equal(n[RRL_PASS], 10);
	assert_int_equal(n[RRL_DROP], 5);
	assert_int_equal(n[RRL_SLIP], 5);
	rrl_free(t);
}

/* Over 3 s at 1000 queries per second against 50/s: about 50 + 3 * 50 pass, half the rest slips. */
static void test_flood(void **state)
{
	(void)state;
	struct rrl_conf c;
	struct rrl_table *t = table(&c, 50, 2, 1024);
	unsigned v[4] = { 0 };
	for (uint32_t ms = 0; ms < 3000; ms++)
		v[rrl_decide(t, 100000 + ms, A1, false, RRL_K_ANSWER)]++;
	assert_true(v[RRL_PASS] >= 195 && v[RRL_PASS] <= 201);
	unsigned limited = v[RRL_DROP] + v[RRL_SLIP];
	assert_int_equal(limited, 3000 - v[RRL_PASS]);
	assert_true(v[RRL_SLIP] == limited / 2);
	rrl_free(t);
}

static void test_slip_settings(void **state)
{
	(void)state;
	struct rrl_conf c;
	unsigned n[4];
	struct rrl_table *t = table(&c, 1, 0, 64);
	burst(t, 0, A1, false, RRL_K_ERROR, 11, n);
	assert_int_equal(n[RRL_PASS], 1);
	assert_int_equal(n[RRL_DROP], 10);       /* slip 0: never */
	rrl_free(t);
	t = table(&c, 1, 1, 64);
	burst(t, 0, A1, false, RRL_K_ERROR, 11, n);
	assert_int_equal(n[RRL_SLIP], 10);       /* slip 1: always */
	rrl_free(t);
	t = table(&c, 1, 3, 64);
	burst(t, 0, A1, false, RRL_K_ERROR, 10, n);
	assert_int_equal(n[RRL_SLIP], 3);        /* slip 3: every third of 9 limited */
	rrl_free(t);
}

static void test_ipv6_prefix(void **state)
{
	(void)state;
	struct rrl_conf c;
	struct rrl_table *t = table(&c, 2, 0, 64);
	uint8_t a[16] = { 0x20, 0x01, 0x00, 0x02, [15] = 2 };
	uint8_t same56[16] = { 0x20, 0x01, 0x00, 0x02, 0, 0, 0, 0xff, [15] = 9 };   /* byte 7: /64 */
	uint8_t other56[16] = { 0x20, 0x01, 0x00, 0x02, 0, 0, 0x01, [15] = 2 };      /* byte 6 */
	assert_int_equal(rrl_decide(t, 0, a, true, RRL_K_ANSWER), RRL_PASS);
	assert_int_equal(rrl_decide(t, 0, same56, true, RRL_K_ANSWER), RRL_PASS);
	assert_int_equal(rrl_decide(t, 0, a, true, RRL_K_ANSWER), RRL_DROP);
	assert_int_equal(rrl_decide(t, 0, other56, true, RRL_K_ANSWER), RRL_PASS);
	/* an IPv4 client whose bytes equal the IPv6 prefix's start is another bucket */
	const uint8_t v4[4] = { 0x20, 0x01, 0x00, 0x02 };
	assert_int_equal(rrl_decide(t, 0, v4, false, RRL_K_ANSWER), RRL_PASS);
	rrl_free(t);
}

static void test_exempt(void **state)
{
	(void)state;
	struct rrl_prefix p;
	assert_int_equal(rrl_prefix_parse("198.18.3.77/24", &p), 0);
	assert_false(p.v6);
	assert_int_equal(p.plen, 24);
	assert_int_equal(p.addr[3], 0);            /* host bits cleared */
	assert_int_equal(rrl_prefix_parse("2001:2::/48", &p), 0);
	assert_true(p.v6);
	assert_int_equal(rrl_prefix_parse("198.18.0.2", &p), 0);
	assert_int_equal(p.plen, 32);
	assert_int_equal(rrl_prefix_parse("198.18.0.0/33", &p), -1);
	assert_int_equal(rrl_prefix_parse("2001:2::/129", &p), -1);
	assert_int_equal(rrl_prefix_parse("198.18.0.0/", &p), -1);
	assert_int_equal(rrl_prefix_parse("nonsense", &p), -1);

	struct rrl_conf c;
	struct rrl_table *t = table(&c, 1, 1, 64);
	assert_int_equal(rrl_prefix_parse("198.18.3.0/25", &c.exempt[c.nexempt++]), 0);
	assert_int_equal(rrl_prefix_parse("198.18.0.2", &c.exempt[c.nexempt++]), 0);
	assert_true(rrl_exempt(&c, B, false));
	assert_false(rrl_exempt(&c, (uint8_t[]){ 198, 18, 3, 200 }, false));
	assert_false(rrl_exempt(&c, A2, false));
	assert_false(rrl_exempt(&c, A1, true));   /* family matters */
	unsigned n[4];
	burst(t, 0, B, false, RRL_K_ANSWER, 5, n);
	assert_int_equal(n[RRL_PASS], 1);
	assert_int_equal(n[RRL_EXEMPT], 4);
	burst(t, 0, A2, false, RRL_K_ANSWER, 5, n);  /* A2 shares A1's /24 but is not exempt */
	assert_int_equal(n[RRL_SLIP], 4);
	rrl_free(t);
}

static void test_clock_wrap(void **state)
{
	(void)state;
	struct rrl_conf c;
	struct rrl_table *t = table(&c, 10, 0, 64);
	unsigned n[4];
	burst(t, UINT32_MAX - 50, A1, false, RRL_K_ANSWER, 10, n);
	assert_int_equal(n[RRL_PASS], 10);
	/* 100 ms later, across the wrap: exactly one more */
	burst(t, 49, A1, false, RRL_K_ANSWER, 3, n);
	assert_int_equal(n[RRL_PASS], 1);
	rrl_free(t);
}

static void test_new_rejects(void **state)
{
	(void)state;
	struct rrl_conf c;
	rrl_conf_init(&c);
	assert_int_equal(c.slip, 2);
	assert_int_equal(c.rate, 0);
	assert_null(rrl_new(&c, 1));              /* rate 0: off, no table */
	c.rate = 10;
	c.table_size = 1000;
	assert_null(rrl_new(&c, 1));
	c.table_size = 8;
	assert_null(rrl_new(&c, 1));
	c.table_size = 16;
	struct rrl_table *t = rrl_new(&c, 1);
	assert_non_null(t);
	rrl_free(t);
}

/*
 * Against an oracle: the same token bucket per (prefix, kind) in a plain
 * array. With a table large enough that no set fills, every verdict is the
 * oracle's; with a tiny table (evictions) no (prefix, kind) has had fewer
 * responses passed than the oracle passed, at any moment (an evicted
 * bucket comes back full: eviction only lets more through).
 */
struct oracle {
	uint32_t stamp, tokens;
	bool used;
};

static void run_oracle(uint32_t table_size, bool exact)
{
	enum { NPFX = 40, STEPS = 20000, RATE = 3 };   /* ~5 queries/s per key: some limited */
	struct rrl_conf c;
	struct rrl_table *t = table(&c, RATE, 0, table_size);
	struct oracle o[NPFX][RRL_K__COUNT];
	static unsigned got[NPFX][RRL_K__COUNT], want[NPFX][RRL_K__COUNT];
	memset(o, 0, sizeof(o));
	memset(got, 0, sizeof(got));
	memset(want, 0, sizeof(want));
	srandom(7);
	uint32_t now = 1000;
	unsigned more = 0;
	for (int i = 0; i < STEPS; i++) {
		now += (uint32_t)(random() % 3);
		unsigned p = (unsigned)(random() % NPFX);
		enum rrl_kind k = (enum rrl_kind)(random() % RRL_K__COUNT);
		uint8_t a[4] = { 10, (uint8_t)p, (uint8_t)(p * 7), (uint8_t)random() };
		struct oracle *b = &o[p][k];
		if (!b->used) {
			b->used = true;
			b->stamp = now;
			b->tokens = RATE * 1000;
		}
		uint64_t tk = b->tokens + (uint64_t)(now - b->stamp) * RATE;
		b->tokens = tk > RATE * 1000 ? RATE * 1000 : (uint32_t)tk;
		b->stamp = now;
		bool opass = b->tokens >= 1000;
		if (opass)
			b->tokens -= 1000;
		bool pass = rrl_decide(t, now, a, false, k) == RRL_PASS;
		got[p][k] += pass;
		want[p][k] += opass;
		if (exact)
			assert_int_equal(pass, opass);
		else
			assert_true(got[p][k] >= want[p][k]);
		more += pass && !opass;
	}
	unsigned passed = 0;
	for (unsigned p = 0; p < NPFX; p++)
		for (unsigned k = 0; k < RRL_K__COUNT; k++)
			passed += want[p][k];
	assert_true(passed < STEPS * 9 / 10);   /* the oracle limited a fair share */
	if (!exact)
		assert_true(more > 0);   /* the tiny table did evict */
	rrl_free(t);
}

static void test_oracle(void **state)
{
	(void)state;
	run_oracle(1u << 16, true);
	run_oracle(16, false);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_rate_and_slip),
		cmocka_unit_test(test_live),
		cmocka_unit_test(test_flood),
		cmocka_unit_test(test_slip_settings),
		cmocka_unit_test(test_ipv6_prefix),
		cmocka_unit_test(test_exempt),
		cmocka_unit_test(test_clock_wrap),
		cmocka_unit_test(test_new_rejects),
		cmocka_unit_test(test_oracle),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
