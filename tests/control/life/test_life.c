/* test_life -- the lifecycle on a real store: the lease index, expiry sweeps in batches, scavenging, history and revert as inverses */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <cmocka.h>

#include "control/ipam/ipam.h"
#include "control/life/life.h"
#include "control/store/store.h"
#include "dns/errcode.h"
#include "dns/name.h"
#include "dns/rdata.h"
#include "dns/wire.h"

#define SEC 1000000000LL

struct fx {
	char dir[64];
	struct store *s;
};

static int setup(void **state)
{
	struct fx *f = calloc(1, sizeof(*f));
	struct store_error e;
	struct store_options o = { .create = true, .map_size = 256u << 20 };
	snprintf(f->dir, sizeof(f->dir), "/tmp/ddi-test-life.XXXXXX");
	if (!mkdtemp(f->dir) || store_open(&f->s, f->dir, &o, &e) != 0)
		return -1;
	*state = f;
	return 0;
}

static int teardown(void **state)
{
	struct fx *f = *state;
	char cmd[128];
	store_close(f->s);
	snprintf(cmd, sizeof(cmd), "rm -rf '%s'", f->dir);
	assert_int_equal(system(cmd), 0);
	free(f);
	return 0;
}

static const uint8_t *N(const char *s)
{
	static uint8_t bufs[64][DNS_NAME_MAXLEN];
	static unsigned i;
	uint8_t *b = bufs[i++ & 63];
	assert_true(dns_name_from_str(b, s, strlen(s), NULL) > 0);
	return b;
}

static int64_t now_ns(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_REALTIME, &ts);
	return (int64_t)ts.tv_sec * SEC + ts.tv_nsec;
}

static size_t rd_a(uint8_t *out, uint8_t c, uint8_t d)
{
	dns_put16(out, 4);
	out[2] = 198;
	out[3] = 18;
	out[4] = c;
	out[5] = d;
	return 6;
}

static void commit(struct store *s, const char *actor, const struct store_op *ops, size_t n,
                   uint64_t *seq)
{
	struct store_error e;
	int rc = store_commit(s, NULL, actor, ops, n, seq, &e);
	if (rc)
		fprintf(stderr, "commit: %s\n", e.msg);
	assert_int_equal(rc, DDI_EOK);
}

static void make_zone(struct store *s)
{
	static const uint8_t soa[] = {
		0, 34, 3, 'n', 's', '1', 2, 'e', 'x', 0, 1, 'h', 2, 'e', 'x', 0,
		0, 0, 0, 1, 0, 0, 0x0e, 0x10, 0, 0, 3, 0x84, 0, 0x12, 0x75, 0, 0, 0, 1, 0x2c,
	};
	struct store_op ops[2] = {
		{ .kind = STORE_OP_ZONE_ADD, .zone = N("ex.") },
		{ .kind = STORE_OP_RRSET_REPLACE, .owner = N("ex."), .type = DNS_T_SOA, .ttl = 3600,
		  .count = 1, .rdatas = soa, .rdatas_len = sizeof(soa) },
	};
	commit(s, "test", ops, 2, NULL);
}

/* A dynamic registration of owner A 198.18.c.d with a lease (0: none), as the UPDATE path makes it. */
static void dyn_add(struct store *s, const char *owner, uint8_t c, uint8_t d, uint32_t lease)
{
	uint8_t rd[8];
	struct store_op ops[2] = {
		{ .kind = STORE_OP_RRSET_REPLACE, .flags = STORE_OPF_DYNAMIC | STORE_OPF_MISSING_OK,
		  .owner = N(owner), .type = DNS_T_A, .ttl = 300, .count = 1, .rdatas = rd,
		  .rdatas_len = rd_a(rd, c, d) },
		{ .kind = STORE_OP_DYN_REFRESH, .flags = STORE_OPF_DYNAMIC, .owner = N(owner),
		  .type = DNS_T_A, .lease = lease },
	};
	commit(s, "tsig:k", ops, 2, NULL);
}

static void static_set(struct store *s, const char *owner, uint32_t ttl, uint8_t d, uint64_t *seq)
{
	uint8_t rd[8];
	struct store_op op = { .kind = STORE_OP_RRSET_REPLACE, .owner = N(owner), .type = DNS_T_A,
	                       .ttl = ttl, .count = 1, .rdatas = rd, .rdatas_len = rd_a(rd, 5, d) };
	commit(s, "unix:op", &op, 1, seq);
}

static int nop_cb(void *ctx, const uint8_t *owner, uint16_t type, uint32_t ttl, uint16_t count,
                  const uint8_t *rdatas, size_t len)
{
	(void)ctx, (void)owner, (void)type, (void)ttl, (void)count, (void)rdatas, (void)len;
	return 0;
}

struct lst {
	size_t n;
	char names[4096][32];
	int64_t exp[4096];
};

static int lst_cb(void *ctx, const struct store_lease *l)
{
	struct lst *x = ctx;
	dns_name_to_str(x->names[x->n], 32, l->owner);
	x->exp[x->n++] = l->expires_ns;
	return 0;
}

static struct lst *due(struct store *s, int64_t until, size_t max)
{
	static struct lst x;
	struct store_error e;
	memset(&x, 0, sizeof(x));
	assert_int_equal(store_lease_due(s, NULL, until, max, lst_cb, &x, &e), DDI_EOK);
	for (size_t i = 1; i < x.n; i++)
		assert_true(x.exp[i - 1] <= x.exp[i]);   /* expiry order */
	return &x;
}

static void test_lease_index(void **state)
{
	struct fx *f = *state;
	struct store_error e;
	struct store_lease l;
	make_zone(f->s);
	int64_t t0 = now_ns();
	dyn_add(f->s, "c.ex.", 0, 3, 30);
	dyn_add(f->s, "a.ex.", 0, 1, 10);
	dyn_add(f->s, "b.ex.", 0, 2, 20);
	dyn_add(f->s, "n.ex.", 0, 9, 0);   /* no lease */
	assert_int_equal(store_lease_get(f->s, NULL, N("A.ex."), DNS_T_A, &l, &e), DDI_EOK);
	assert_int_equal(l.granted, 10);
	assert_true(l.expires_ns >= t0 + 10 * SEC && l.expires_ns <= now_ns() + 10 * SEC);
	assert_int_equal(store_lease_get(f->s, NULL, N("n.ex."), DNS_T_A, &l, &e), DDI_ENOENT);
	struct lst *x = due(f->s, INT64_MAX, 0);
	assert_int_equal(x->n, 3);
	assert_string_equal(x->names[0], "a.ex.");
	assert_string_equal(x->names[1], "b.ex.");
	assert_string_equal(x->names[2], "c.ex.");
	assert_int_equal(due(f->s, t0 + 15 * SEC, 0)->n, 0 + (now_ns() + 10 * SEC <= t0 + 15 * SEC));
	assert_int_equal(due(f->s, now_ns() + 25 * SEC, 0)->n, 2);
	assert_int_equal(due(f->s, INT64_MAX, 1)->n, 1);
	/* a refresh moves the lease (and its index entry: a.ex. once, now last) */
	dyn_add(f->s, "a.ex.", 0, 1, 40);
	x = due(f->s, INT64_MAX, 0);
	assert_int_equal(x->n, 3);
	assert_string_equal(x->names[2], "a.ex.");
	/* a refresh without a lease makes it permanent */
	dyn_add(f->s, "b.ex.", 0, 2, 0);
	assert_int_equal(store_lease_get(f->s, NULL, N("b.ex."), DNS_T_A, &l, &e), DDI_ENOENT);
	/* an operator's write makes it static: no lease, no aging stamp */
	int64_t st;
	assert_int_equal(store_aging_stamp(f->s, NULL, N("c.ex."), DNS_T_A, &st, &e), DDI_EOK);
	static_set(f->s, "c.ex.", 300, 7, NULL);
	assert_int_equal(store_lease_get(f->s, NULL, N("c.ex."), DNS_T_A, &l, &e), DDI_ENOENT);
	assert_int_equal(store_aging_stamp(f->s, NULL, N("c.ex."), DNS_T_A, &st, &e), DDI_ENOENT);
	/* a deletion, dynamic or not, drops it */
	struct store_op del = { .kind = STORE_OP_RRSET_DELETE, .flags = STORE_OPF_DYNAMIC,
	                        .owner = N("a.ex."), .type = DNS_T_A };
	commit(f->s, "tsig:k", &del, 1, NULL);
	assert_int_equal(due(f->s, INT64_MAX, 0)->n, 0);
	/* an update adding to an operator's RRset leaves it static: no lease, no stamp */
	static_set(f->s, "op.ex.", 300, 1, NULL);
	dyn_add(f->s, "op.ex.", 5, 2, 60);
	assert_int_equal(store_lease_get(f->s, NULL, N("op.ex."), DNS_T_A, &l, &e), DDI_ENOENT);
	assert_int_equal(store_aging_stamp(f->s, NULL, N("op.ex."), DNS_T_A, &st, &e), DDI_ENOENT);
	/* a refresh of an RRset that does not exist leaves nothing */
	struct store_op r = { .kind = STORE_OP_DYN_REFRESH, .owner = N("zz.ex."), .type = DNS_T_A,
	                      .lease = 5 };
	commit(f->s, "tsig:k", &r, 1, NULL);
	assert_int_equal(due(f->s, INT64_MAX, 0)->n, 0);
}

struct jcount {
	size_t entries, ops;
	const char *actor;
};

static int jcount_cb(void *ctx, const struct store_journal_entry *e)
{
	struct jcount *j = ctx;
	if (strcmp(e->actor, j->actor) == 0) {
		j->entries++;
		j->ops += e->nops;
	}
	return 0;
}

static void test_sweep_batches(void **state)
{
	struct fx *f = *state;
	struct store_error e;
	make_zone(f->s);
	/* 2,500 leased names in one commit each would be slow: one batch of ops */
	enum { NN = 2500 };
	static uint8_t names[NN][DNS_NAME_MAXLEN], rds[NN][8];
	static struct store_op ops[2 * NN];
	for (int i = 0; i < NN; i++) {
		char nb[32];
		snprintf(nb, sizeof(nb), "h%d.ex.", i);
		memcpy(names[i], N(nb), dns_name_len(N(nb)));
		ops[2 * i] = (struct store_op){ .kind = STORE_OP_RRSET_REPLACE,
		                                .flags = STORE_OPF_DYNAMIC, .owner = names[i],
		                                .type = DNS_T_A, .ttl = 60, .count = 1,
		                                .rdatas = rds[i],
		                                .rdatas_len = rd_a(rds[i], (uint8_t)(i >> 8),
		                                                   (uint8_t)i) };
		ops[2 * i + 1] = (struct store_op){ .kind = STORE_OP_DYN_REFRESH, .owner = names[i],
		                                    .type = DNS_T_A, .lease = 5 };
	}
	commit(f->s, "tsig:k", ops, 2 * NN, NULL);
	dyn_add(f->s, "later.ex.", 9, 9, 3600);
	struct life_stats st = { 0 };
	/* nothing is due yet */
	assert_int_equal(life_lease_sweep(f->s, now_ns(), 1000, 0, &st, &e), DDI_EOK);
	assert_int_equal(st.rrsets, 0);
	assert_int_equal(st.batches, 0);
	/* one batch at most: 1000 go, the rest stays */
	int64_t t = now_ns() + 10 * SEC;
	assert_int_equal(life_lease_sweep(f->s, t, 1000, 1, &st, &e), DDI_EOK);
	assert_int_equal(st.rrsets, 1000);
	assert_int_equal(st.batches, 1);
	assert_int_equal(due(f->s, t, 0)->n, NN - 1000);
	/* then the rest, in two batches (1000 + 500), the hour's lease untouched */
	assert_int_equal(life_lease_sweep(f->s, t, 1000, 0, &st, &e), DDI_EOK);
	assert_int_equal(st.rrsets, NN);
	assert_int_equal(st.batches, 3);
	assert_int_equal(due(f->s, INT64_MAX, 0)->n, 1);
	assert_int_equal(store_rrset_get(f->s, NULL, N("h7.ex."), DNS_T_A, nop_cb, NULL, &e), DDI_ENOENT);
	struct jcount j = { .actor = LIFE_LEASE_ACTOR };
	assert_int_equal(store_journal_read(f->s, 1, 0, jcount_cb, &j, &e), DDI_EOK);
	assert_int_equal(j.entries, 3);
	assert_true(j.ops >= NN);   /* one rrset-delete each, plus the serial ops */
}

static int set_prefix(void *ctx, struct store_ipam *t)
{
	(void)ctx;
	struct ipam_prefix p;
	struct ipam_alloc a;
	struct ipam_error ie;
	ipam_prefix_init(&p);
	assert_int_equal(ipam_cidr_parse("198.18.0.0/24", &p.cidr, &ie), DDI_EOK);
	int rc = store_ipam_prefix_put(t, &p);
	/* a dynamic allocation of d.ex., one of another name for the same address family */
	const char *names[2] = { "d.ex.", "other.ex." };
	for (int i = 0; i < 2 && rc == 0; i++) {
		ipam_alloc_init(&a);
		a.family = 4;
		a.addr[0] = 198;
		a.addr[1] = 18;
		a.addr[3] = (uint8_t)(1 + i);
		a.state = IPAM_STATE_DYNAMIC;
		a.name_len = (uint8_t)dns_name_len(N(names[i]));
		memcpy(a.name, N(names[i]), a.name_len);
		rc = store_ipam_alloc_put(t, &a);
	}
	return rc;
}

static int alloc_count(void *ctx, const struct ipam_alloc *a)
{
	(void)a;
	(*(int *)ctx)++;
	return 0;
}

static int count_allocs(void *ctx, struct store_ipam *t)
{
	return store_ipam_alloc_walk(t, NULL, alloc_count, ctx);
}

static void test_sweep_releases_allocations(void **state)
{
	struct fx *f = *state;
	struct store_error e;
	make_zone(f->s);
	assert_int_equal(store_ipam_write(f->s, NULL, "test", set_prefix, NULL, NULL, &e), DDI_EOK);
	dyn_add(f->s, "d.ex.", 0, 1, 1);
	dyn_add(f->s, "e.ex.", 0, 2, 1);   /* its address is other.ex.'s: not released */
	int n = 0;
	assert_int_equal(store_ipam_read(f->s, count_allocs, &n, &e), DDI_EOK);
	assert_int_equal(n, 2);
	struct life_stats st = { 0 };
	assert_int_equal(life_lease_sweep(f->s, now_ns() + 5 * SEC, 0, 0, &st, &e), DDI_EOK);
	assert_int_equal(st.rrsets, 2);
	assert_int_equal(st.allocations, 1);
	n = 0;
	assert_int_equal(store_ipam_read(f->s, count_allocs, &n, &e), DDI_EOK);
	assert_int_equal(n, 1);
}

/* A lease whose zone was removed does not stall the sweep: it is forgotten. */
static void test_sweep_zone_gone(void **state)
{
	struct fx *f = *state;
	struct store_error e;
	struct store_lease l;
	make_zone(f->s);
	dyn_add(f->s, "g.ex.", 0, 1, 1);
	struct store_op rm = { .kind = STORE_OP_ZONE_REMOVE, .zone = N("ex.") };
	commit(f->s, "unix:op", &rm, 1, NULL);
	assert_int_equal(store_lease_get(f->s, NULL, N("g.ex."), DNS_T_A, &l, &e), DDI_EOK);
	struct life_stats st = { 0 };
	assert_int_equal(life_lease_sweep(f->s, now_ns() + 5 * SEC, 0, 0, &st, &e), DDI_EOK);
	assert_int_equal(store_lease_get(f->s, NULL, N("g.ex."), DNS_T_A, &l, &e), DDI_ENOENT);
	assert_int_equal(due(f->s, INT64_MAX, 0)->n, 0);
}

struct names {
	size_t n;
	char v[16][32];
};

static int names_cb(void *ctx, const uint8_t *owner, uint16_t type, int64_t refreshed)
{
	struct names *x = ctx;
	(void)type;
	(void)refreshed;
	dns_name_to_str(x->v[x->n++], 32, owner);
	return 0;
}

static void test_scavenge(void **state)
{
	struct fx *f = *state;
	struct store_error e;
	struct life_stats st = { 0 };
	struct names x = { 0 };
	make_zone(f->s);
	dyn_add(f->s, "old.ex.", 0, 1, 0);
	dyn_add(f->s, "leased.ex.", 0, 2, 3600);
	static_set(f->s, "static.ex.", 300, 3, NULL);
	/* aging off: refused with the reason */
	assert_int_equal(life_scavenge(f->s, N("ex."), now_ns(), true, 0, names_cb, &x, &st, &e),
	                 DDI_ENOENT);
	assert_non_null(strstr(e.msg, "aging is off for ex."));
	struct store_aging a = { .no_refresh = 10, .refresh = 10 };
	assert_int_equal(store_aging_set(f->s, NULL, "unix:op", N("ex."), &a, NULL, &e), DDI_EOK);
	a.refresh = 0;
	assert_int_equal(store_aging_set(f->s, NULL, "unix:op", N("ex."), &a, NULL, &e), DDI_EINVAL);
	assert_int_equal(store_aging_set(f->s, NULL, "unix:op", N("nope."), NULL, NULL, &e),
	                 DDI_ENOZONE);
	/* the no-refresh rule: a refresh within 10 s is not stamped */
	int64_t s1, s2;
	assert_int_equal(store_aging_stamp(f->s, NULL, N("old.ex."), DNS_T_A, &s1, &e), DDI_EOK);
	dyn_add(f->s, "fresh.ex.", 0, 4, 0);
	dyn_add(f->s, "old.ex.", 0, 1, 0);
	assert_int_equal(store_aging_stamp(f->s, NULL, N("old.ex."), DNS_T_A, &s2, &e), DDI_EOK);
	assert_true(s1 == s2);
	/* now: nothing is past 20 s */
	assert_int_equal(life_scavenge(f->s, N("ex."), now_ns(), true, 0, names_cb, &x, &st, &e),
	                 DDI_EOK);
	assert_int_equal(x.n, 0);
	/* in 25 s: old and fresh would go, not the leased one (its lease runs), not the static one */
	int64_t later = now_ns() + 25 * SEC;
	assert_int_equal(life_scavenge(f->s, N("ex."), later, true, 1, names_cb, &x, &st, &e),
	                 DDI_EOK);
	assert_int_equal(x.n, 2);
	assert_string_equal(x.v[0], "fresh.ex.");
	assert_string_equal(x.v[1], "old.ex.");
	assert_int_equal(store_rrset_get(f->s, NULL, N("old.ex."), DNS_T_A, nop_cb, NULL, &e), DDI_EOK);
	/* for real, batches of one */
	memset(&x, 0, sizeof(x));
	st = (struct life_stats){ 0 };
	assert_int_equal(life_scavenge(f->s, N("ex."), later, false, 1, names_cb, &x, &st, &e),
	                 DDI_EOK);
	assert_int_equal(st.rrsets, 2);
	assert_int_equal(st.batches, 2);
	assert_int_equal(store_rrset_get(f->s, NULL, N("old.ex."), DNS_T_A, nop_cb, NULL, &e),
	                 DDI_ENOENT);
	assert_int_equal(store_rrset_get(f->s, NULL, N("static.ex."), DNS_T_A, nop_cb, NULL, &e),
	                 DDI_EOK);
	assert_int_equal(store_rrset_get(f->s, NULL, N("leased.ex."), DNS_T_A, nop_cb, NULL, &e),
	                 DDI_EOK);
	assert_int_equal(store_aging_get(f->s, NULL, N("ex."), &a, &e), DDI_EOK);
	assert_int_equal(a.last_scavenge_ns, later);
	struct jcount j = { .actor = LIFE_SCAVENGE_ACTOR };
	assert_int_equal(store_journal_read(f->s, 1, 0, jcount_cb, &j, &e), DDI_EOK);
	assert_int_equal(j.entries, 2);
}

/* The A RRset of owner as text "ttl:d,d" (last bytes of the addresses), "" when absent. */
static int a_cb(void *ctx, const uint8_t *owner, uint16_t type, uint32_t ttl, uint16_t count,
                const uint8_t *rd, size_t len)
{
	char *out = ctx;
	(void)owner;
	(void)type;
	(void)len;
	int l = sprintf(out, "%u:", ttl);
	for (uint16_t i = 0; i < count; i++)
		l += sprintf(out + l, "%s%u", i ? "," : "", rd[i * 6 + 5]);
	return 0;
}

static const char *a_of(struct store *s, const char *owner)
{
	static char out[256];
	out[0] = 0;
	store_rrset_get(s, NULL, N(owner), DNS_T_A, a_cb, out, NULL);
	return out;
}

static void test_history_revert(void **state)
{
	struct fx *f = *state;
	struct store_error e;
	uint64_t s1, s2, s3, s4, rs, last;
	make_zone(f->s);
	static_set(f->s, "h.ex.", 300, 1, &s1);                     /* add */
	static_set(f->s, "h.ex.", 600, 2, &s2);                     /* replace, new TTL */
	uint8_t rd[8];
	struct store_op add = { .kind = STORE_OP_RR_ADD, .owner = N("h.ex."), .type = DNS_T_A,
	                        .ttl = 600, .count = 1, .rdatas = rd, .rdatas_len = rd_a(rd, 5, 3) };
	commit(f->s, "unix:op", &add, 1, &s3);                       /* a second RR */
	assert_string_equal(a_of(f->s, "h.ex."), "600:2,3");
	/* history: three changes, old and new values */
	json_t *h;
	assert_int_equal(life_history(f->s, N("h.ex."), &h, &e), DDI_EOK);
	assert_int_equal(json_array_size(h), 3);
	json_t *c = json_array_get(json_object_get(json_array_get(h, 1), "changes"), 0);
	assert_string_equal(json_string_value(json_object_get(c, "type")), "A");
	assert_string_equal(json_string_value(json_array_get(
		json_object_get(json_object_get(c, "old"), "rdata"), 0)), "198.18.5.1");
	assert_int_equal(json_integer_value(json_object_get(json_object_get(c, "old"), "ttl")), 300);
	assert_string_equal(json_string_value(json_array_get(
		json_object_get(json_object_get(c, "new"), "rdata"), 0)), "198.18.5.2");
	assert_string_equal(json_string_value(json_object_get(json_array_get(h, 0), "actor")),
	                    "unix:op");
	assert_true(json_is_null(json_object_get(json_array_get(json_object_get(
		json_array_get(h, 0), "changes"), 0), "old")));
	json_decref(h);
	/* an entry the data moved on from is refused and changes nothing */
	assert_int_equal(life_revert(f->s, s2, "revert", NULL, &e), DDI_ECONFLICT);
	assert_non_null(strstr(e.msg, "moved on"));
	assert_string_equal(a_of(f->s, "h.ex."), "600:2,3");
	/* the last one: inverse applied, journaled */
	assert_int_equal(life_revert(f->s, s3, "revert:s3", &rs, &e), DDI_EOK);
	assert_true(rs > s3);
	assert_string_equal(a_of(f->s, "h.ex."), "600:2");
	/* reverting the revert redoes it; reverting s3 again is refused (moved on) */
	assert_int_equal(life_revert(f->s, s3, "revert:s3", NULL, &e), DDI_ECONFLICT);
	assert_int_equal(life_revert(f->s, rs, "revert:rs", &last, &e), DDI_EOK);
	assert_string_equal(a_of(f->s, "h.ex."), "600:2,3");
	assert_int_equal(life_revert(f->s, last, "revert:last", NULL, &e), DDI_EOK);
	/* now s2 is the last change of h.ex. A again? no: the reverts came after it */
	assert_int_equal(life_revert(f->s, s2, "revert", NULL, &e), DDI_ECONFLICT);
	/* a replace undone brings back the old value and TTL; a delete undone the records */
	static_set(f->s, "t.ex.", 300, 7, NULL);
	static_set(f->s, "t.ex.", 900, 8, &s4);
	assert_int_equal(life_revert(f->s, s4, "r", NULL, &e), DDI_EOK);
	assert_string_equal(a_of(f->s, "t.ex."), "300:7");
	struct store_op del = { .kind = STORE_OP_RRSET_DELETE, .owner = N("t.ex."), .type = DNS_T_A };
	uint64_t sd;
	commit(f->s, "unix:op", &del, 1, &sd);
	assert_string_equal(a_of(f->s, "t.ex."), "");
	assert_int_equal(life_revert(f->s, sd, "r", NULL, &e), DDI_EOK);
	assert_string_equal(a_of(f->s, "t.ex."), "300:7");
	/* an add undone removes the RRset */
	uint64_t sa;
	static_set(f->s, "n.ex.", 300, 9, &sa);
	assert_int_equal(life_revert(f->s, sa, "r", NULL, &e), DDI_EOK);
	assert_string_equal(a_of(f->s, "n.ex."), "");
	/* entries that are not record changes */
	uint64_t sn;
	assert_int_equal(store_journal_note(f->s, NULL, "unix:op", "a note", &sn, &e), DDI_EOK);
	assert_int_equal(life_revert(f->s, sn, "r", NULL, &e), DDI_EINVAL);
	assert_int_equal(life_revert(f->s, 1, "r", NULL, &e), DDI_EINVAL);   /* the zone add */
	assert_int_equal(life_revert(f->s, 999999, "r", NULL, &e), DDI_ENOENT);
}

static void test_history_retention(void **state)
{
	struct fx *f = *state;
	struct store_error e;
	uint64_t first;
	make_zone(f->s);
	static_set(f->s, "r.ex.", 300, 0, &first);
	for (int i = 1; i <= 120; i++)
		static_set(f->s, "other.ex.", 300, (uint8_t)i, NULL);
	/* the zone keeps 100 differences: r.ex.'s change is gone from history and revert */
	json_t *h;
	assert_int_equal(life_history(f->s, N("r.ex."), &h, &e), DDI_EOK);
	assert_int_equal(json_array_size(h), 0);
	json_decref(h);
	assert_int_equal(life_revert(f->s, first, "r", NULL, &e), DDI_ENOENT);
	assert_non_null(strstr(e.msg, "no longer kept"));
	assert_int_equal(life_history(f->s, N("x.nozone."), &h, &e), DDI_ENOZONE);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_lease_index, setup, teardown),
		cmocka_unit_test_setup_teardown(test_sweep_batches, setup, teardown),
		cmocka_unit_test_setup_teardown(test_sweep_releases_allocations, setup, teardown),
		cmocka_unit_test_setup_teardown(test_sweep_zone_gone, setup, teardown),
		cmocka_unit_test_setup_teardown(test_scavenge, setup, teardown),
		cmocka_unit_test_setup_teardown(test_history_revert, setup, teardown),
		cmocka_unit_test_setup_teardown(test_history_retention, setup, teardown),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
