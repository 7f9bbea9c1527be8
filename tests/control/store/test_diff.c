/* test_diff -- the store's differences per zone: contents, condensing, retention, breaks, corrupt entries */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <cmocka.h>
#include <lmdb.h>

#include "control/store/store.h"
#include "dns/errcode.h"
#include "dns/name.h"
#include "dns/rdata.h"
#include "dns/wire.h"

struct fx {
	char dir[64];
	struct store *s;
	struct store_options o;
};

static int open_with(void **state, unsigned depth, size_t usage)
{
	struct fx *f = calloc(1, sizeof(*f));
	struct store_error e;
	f->o = (struct store_options){ .create = true, .map_size = 64u << 20, .diff_max_depth = depth,
	                               .diff_max_usage = usage };
	snprintf(f->dir, sizeof(f->dir), "/tmp/ddi-test-diff.XXXXXX");
	if (!mkdtemp(f->dir))
		return -1;
	if (store_open(&f->s, f->dir, &f->o, &e) != 0) {
		fprintf(stderr, "store_open: %s\n", e.msg);
		return -1;
	}
	*state = f;
	return 0;
}

static int setup(void **state)
{
	return open_with(state, 0, 0);
}

static int setup_small(void **state)
{
	return open_with(state, 5, 0);
}

static int setup_bytes(void **state)
{
	return open_with(state, 0, 1500);
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

static size_t rd_a(uint8_t *out, uint8_t d)
{
	dns_put16(out, 4);
	out[2] = 198;
	out[3] = 18;
	out[4] = 0;
	out[5] = d;
	return 6;
}

static size_t rd_str(uint8_t *out, uint16_t type, const char *text)
{
	char buf[512], *fields[16], *save = NULL, err[128];
	bool quoted[16] = { false };
	int n = 0;
	snprintf(buf, sizeof(buf), "%s", text);
	for (char *t = strtok_r(buf, " ", &save); t && n < 16; t = strtok_r(NULL, " ", &save))
		fields[n++] = t;
	int len = dns_rdata_from_str(out + 2, 4096, type, (const char *const *)fields, quoted, n, NULL,
	                             err, sizeof(err));
	assert_true(len >= 0);
	dns_put16(out, (uint16_t)len);
	return 2 + (size_t)len;
}

static void commit(struct store *s, const struct store_op *ops, size_t n)
{
	struct store_error e;
	int rc = store_commit(s, NULL, "test:diff", ops, n, NULL, &e);
	if (rc)
		fprintf(stderr, "commit: %s\n", e.msg);
	assert_int_equal(rc, DDI_EOK);
}

static void make_zone(struct store *s)
{
	uint8_t soard[512], nsrd[512], ard[8];
	size_t sl = rd_str(soard, DNS_T_SOA, "ns1.example.com. h.example.com. 100 3600 900 1209600 300");
	size_t nl = rd_str(nsrd, DNS_T_NS, "ns1.example.com.");
	struct store_op ops[4] = {
		{ .kind = STORE_OP_ZONE_ADD, .zone = N("example.com.") },
		{ .kind = STORE_OP_RRSET_REPLACE, .owner = N("example.com."), .type = DNS_T_SOA,
		  .ttl = 3600, .count = 1, .rdatas = soard, .rdatas_len = sl },
		{ .kind = STORE_OP_RRSET_REPLACE, .owner = N("example.com."), .type = DNS_T_NS,
		  .ttl = 3600, .count = 1, .rdatas = nsrd, .rdatas_len = nl },
		{ .kind = STORE_OP_RRSET_REPLACE, .owner = N("www.example.com."), .type = DNS_T_A,
		  .ttl = 300, .count = 1, .rdatas = ard, .rdatas_len = rd_a(ard, 1) },
	};
	commit(s, ops, 4);
}

static void set_a(struct store *s, const char *owner, uint32_t ttl, uint8_t d)
{
	uint8_t rd[8];
	struct store_op op = { .kind = STORE_OP_RRSET_REPLACE, .owner = N(owner), .type = DNS_T_A,
	                       .ttl = ttl, .count = 1, .rdatas = rd, .rdatas_len = rd_a(rd, d) };
	commit(s, &op, 1);
}

/* What the walk saw, as text: one line per entry "from>to flags: -RR... +RR...". */
struct seen {
	char text[8192];
	size_t n;
	uint32_t first_from, last_to;
};

static int seen_cb(void *ctx, const struct store_diff *d)
{
	struct seen *sn = ctx;
	size_t off = 0, i = 0, l = strlen(sn->text);
	struct store_rr rr;
	if (sn->n++ == 0)
		sn->first_from = d->serial_from;
	sn->last_to = d->serial_to;
	l += (size_t)snprintf(sn->text + l, sizeof(sn->text) - l, "%u>%u%s:", d->serial_from,
	                      d->serial_to, d->flags & STORE_DIFF_BREAK ? " break" : "");
	while (store_diff_rr_next(d, &off, &rr) == 1) {
		char nb[DNS_NAME_STRLEN];
		dns_name_to_str(nb, sizeof(nb), rr.owner);
		l += (size_t)snprintf(sn->text + l, sizeof(sn->text) - l, " %c%s/%s/%u",
		                      i < d->nrem ? '-' : '+', nb, dns_type_name(rr.type), rr.ttl);
		if (rr.type == DNS_T_A)
			l += (size_t)snprintf(sn->text + l, sizeof(sn->text) - l, "/%u", rr.rdata[3]);
		i++;
	}
	assert_int_equal(i, (size_t)d->nrem + d->nadd);
	snprintf(sn->text + l, sizeof(sn->text) - l, "\n");
	return 0;
}

static struct seen walk(struct store *s, const char *zone)
{
	struct seen sn = { .text = "" };
	struct store_error e;
	int rc = store_diff_walk(s, NULL, N(zone), seen_cb, &sn, &e);
	if (rc)
		fprintf(stderr, "walk: %s\n", e.msg);
	assert_int_equal(rc, DDI_EOK);
	return sn;
}

static void test_record_change(void **state)
{
	struct fx *f = *state;
	make_zone(f->s);
	assert_int_equal(walk(f->s, "example.com.").n, 0);   /* a new zone has no history */
	set_a(f->s, "www.example.com.", 300, 2);
	struct seen sn = walk(f->s, "example.com.");
	assert_int_equal(sn.n, 1);
	assert_string_equal(sn.text, "100>101: -example.com./SOA/3600 -www.example.com./A/300/1"
	                             " +example.com./SOA/3600 +www.example.com./A/300/2\n");
	/* a TTL change removes and adds the same rdata */
	set_a(f->s, "www.example.com.", 60, 2);
	sn = walk(f->s, "Example.COM.");
	assert_int_equal(sn.n, 2);
	assert_non_null(strstr(sn.text, "101>102: -example.com./SOA/3600 -www.example.com./A/300/2"
	                                " +example.com./SOA/3600 +www.example.com./A/60/2\n"));
	/* writing what is there changes nothing: no entry */
	set_a(f->s, "www.example.com.", 60, 2);
	assert_int_equal(walk(f->s, "example.com.").n, 2);
}

/* Several ops on one RRset in one commit: the net change only. */
static void test_condensed(void **state)
{
	struct fx *f = *state;
	uint8_t r1[8], r2[8], r3[8];
	make_zone(f->s);
	struct store_op ops[3] = {
		{ .kind = STORE_OP_RR_ADD, .owner = N("www.example.com."), .type = DNS_T_A, .ttl = 300,
		  .count = 1, .rdatas = r1, .rdatas_len = rd_a(r1, 7) },
		{ .kind = STORE_OP_RR_DELETE, .owner = N("www.example.com."), .type = DNS_T_A,
		  .count = 1, .rdatas = r2, .rdatas_len = rd_a(r2, 7) },
		{ .kind = STORE_OP_RR_ADD, .owner = N("new.example.com."), .type = DNS_T_A, .ttl = 30,
		  .count = 1, .rdatas = r3, .rdatas_len = rd_a(r3, 9) },
	};
	commit(f->s, ops, 3);
	struct seen sn = walk(f->s, "example.com.");
	assert_int_equal(sn.n, 1);
	assert_string_equal(sn.text, "100>101: -example.com./SOA/3600 +example.com./SOA/3600"
	                             " +new.example.com./A/30/9\n");
}

static void test_retention_depth(void **state)
{
	struct fx *f = *state;
	make_zone(f->s);
	for (int i = 0; i < 12; i++)
		set_a(f->s, "www.example.com.", 300, (uint8_t)(10 + i));
	struct seen sn = walk(f->s, "example.com.");
	assert_int_equal(sn.n, 5);   /* setup_small: 5 kept, the oldest dropped */
	assert_int_equal(sn.first_from, 107);
	assert_int_equal(sn.last_to, 112);
}

static void test_retention_bytes(void **state)
{
	struct fx *f = *state;
	make_zone(f->s);
	for (int i = 0; i < 20; i++)
		set_a(f->s, "www.example.com.", 300, (uint8_t)(10 + i));
	struct seen sn = walk(f->s, "example.com.");
	assert_true(sn.n >= 1 && sn.n < 20);
	assert_int_equal(sn.last_to, 120);
	/* each entry is ~190 bytes here: 1500 bytes keep about 7 */
	assert_true(sn.n <= 8);
}

static void test_zone_remove_and_import(void **state)
{
	struct fx *f = *state;
	struct store_error e;
	make_zone(f->s);
	set_a(f->s, "www.example.com.", 300, 2);
	/* an import that changes one record and adds one: the whole difference */
	char path[96];
	snprintf(path, sizeof(path), "%s/z.zone", f->dir);
	FILE *zf = fopen(path, "w");
	assert_non_null(zf);
	fputs("$ORIGIN example.com.\n@ 3600 SOA ns1 h 200 3600 900 1209600 300\n@ 3600 NS ns1\n"
	      "www 300 A 198.18.0.3\nmail 300 A 198.18.0.4\n", zf);
	fclose(zf);
	assert_int_equal(store_zone_import(f->s, "test:diff", N("example.com."), path, NULL, &e),
	                 DDI_EOK);
	struct seen sn = walk(f->s, "example.com.");
	assert_int_equal(sn.n, 2);
	assert_non_null(strstr(sn.text, "101>200: -example.com./SOA/3600 -www.example.com./A/300/2"
	                                " +example.com./SOA/3600 +mail.example.com./A/300/4"
	                                " +www.example.com./A/300/3\n"));
	/* an ACL goes with the zone too */
	static const char acl[] = "{\"transfer\":[\"198.18.0.0/15\"]}";
	struct store_op aop = { .kind = STORE_OP_ACL_SET, .zone = N("example.com."), .count = 1,
	                        .rdatas = (const uint8_t *)acl, .rdatas_len = strlen(acl) };
	commit(f->s, &aop, 1);
	struct store_op rm = { .kind = STORE_OP_ZONE_REMOVE, .zone = N("example.com.") };
	commit(f->s, &rm, 1);
	make_zone(f->s);
	assert_int_equal(walk(f->s, "example.com.").n, 0);
	assert_int_equal(store_acl_get(f->s, NULL, N("example.com."), NULL, NULL, &e), DDI_ENOENT);
}

/* An SOA set to an older serial cannot be an IXFR difference: a BREAK. */
static void test_break(void **state)
{
	struct fx *f = *state;
	uint8_t soard[512];
	make_zone(f->s);
	size_t sl = rd_str(soard, DNS_T_SOA, "ns1.example.com. h.example.com. 50 3600 900 1209600 300");
	struct store_op op = { .kind = STORE_OP_RRSET_REPLACE, .owner = N("example.com."),
	                       .type = DNS_T_SOA, .ttl = 3600, .count = 1, .rdatas = soard,
	                       .rdatas_len = sl };
	commit(f->s, &op, 1);
	struct seen sn = walk(f->s, "example.com.");
	assert_string_equal(sn.text, "100>50 break:\n");
}

static void raw_put(const char *dir, const void *k, size_t kl, const void *v, size_t vl)
{
	MDB_env *env;
	MDB_txn *txn;
	MDB_dbi dbi;
	assert_int_equal(mdb_env_create(&env), 0);
	assert_int_equal(mdb_env_set_maxdbs(env, 16), 0);
	assert_int_equal(mdb_env_set_mapsize(env, 64u << 20), 0);
	assert_int_equal(mdb_env_open(env, dir, MDB_NOTLS, 0640), 0);
	assert_int_equal(mdb_txn_begin(env, NULL, 0, &txn), 0);
	assert_int_equal(mdb_dbi_open(txn, "diffs", 0, &dbi), 0);
	MDB_val key = { kl, (void *)k }, val = { vl, (void *)v };
	assert_int_equal(mdb_put(txn, dbi, &key, &val, 0), 0);
	assert_int_equal(mdb_txn_commit(txn), 0);
	mdb_env_close(env);
}

/* Entries are hostile input: every field is checked. */
static void test_corrupt(void **state)
{
	struct fx *f = *state;
	struct store_error e;
	make_zone(f->s);
	set_a(f->s, "www.example.com.", 300, 2);
	/* read the good entry's bytes back through a raw walk, then damage copies of it */
	uint8_t key[DNS_KEY_MAXLEN + 16];
	int kl = dns_name_to_key(key, N("example.com."));
	key[kl] = 0;
	struct {
		size_t off;
		uint8_t val;
	} damage[] = { { 0, 2 }, { 1, 0x80 }, { 29, 9 }, { 33, 0 }, { 25, 0 }, { 55, 0xff }, { 48, 0 } };
	uint8_t good[512];
	size_t glen = 0;
	{
		MDB_env *env;
		MDB_txn *txn;
		MDB_dbi dbi;
		MDB_cursor *cur;
		MDB_val k, v;
		store_close(f->s);
		assert_int_equal(mdb_env_create(&env), 0);
		assert_int_equal(mdb_env_set_maxdbs(env, 16), 0);
		assert_int_equal(mdb_env_open(env, f->dir, MDB_NOTLS | MDB_RDONLY, 0640), 0);
		assert_int_equal(mdb_txn_begin(env, NULL, MDB_RDONLY, &txn), 0);
		assert_int_equal(mdb_dbi_open(txn, "diffs", 0, &dbi), 0);
		assert_int_equal(mdb_cursor_open(txn, dbi, &cur), 0);
		assert_int_equal(mdb_cursor_get(cur, &k, &v, MDB_FIRST), 0);
		assert_true(v.mv_size < sizeof(good) && k.mv_size == (size_t)kl + 9);
		memcpy(key, k.mv_data, k.mv_size);
		memcpy(good, v.mv_data, v.mv_size);
		glen = v.mv_size;
		mdb_cursor_close(cur);
		mdb_txn_abort(txn);
		mdb_env_close(env);
	}
	for (size_t i = 0; i < sizeof(damage) / sizeof(damage[0]); i++) {
		uint8_t bad[512];
		memcpy(bad, good, glen);
		bad[damage[i].off] = damage[i].val;
		raw_put(f->dir, key, (size_t)kl + 9, bad, glen);
		assert_int_equal(store_open(&f->s, f->dir, &f->o, &e), DDI_EOK);
		struct seen sn = { .text = "" };
		assert_int_equal(store_diff_walk(f->s, NULL, N("example.com."), seen_cb, &sn, &e),
		                 DDI_ECORRUPT);
		assert_non_null(strstr(e.msg, "diffs"));
		store_close(f->s);
	}
	/* truncated */
	raw_put(f->dir, key, (size_t)kl + 9, good, glen - 1);
	assert_int_equal(store_open(&f->s, f->dir, &f->o, &e), DDI_EOK);
	struct seen sn = { .text = "" };
	assert_int_equal(store_diff_walk(f->s, NULL, N("example.com."), seen_cb, &sn, &e),
	                 DDI_ECORRUPT);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_record_change, setup, teardown),
		cmocka_unit_test_setup_teardown(test_condensed, setup, teardown),
		cmocka_unit_test_setup_teardown(test_retention_depth, setup_small, teardown),
		cmocka_unit_test_setup_teardown(test_retention_bytes, setup_bytes, teardown),
		cmocka_unit_test_setup_teardown(test_zone_remove_and_import, setup, teardown),
		cmocka_unit_test_setup_teardown(test_break, setup, teardown),
		cmocka_unit_test_setup_teardown(test_corrupt, setup, teardown),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
