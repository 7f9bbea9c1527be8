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
		if (rr.type == DNS_T_PTR) {
			dns_name_to_str(nb, sizeof(nb), rr.rdata);
			l += (size_t)snprintf(sn->text + l, sizeof(sn->text) - l, "/%s", nb);
		}
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

/* ------------------------------------------------------------------------ */
/* Reverse zones: the synthesized PTRs in the differences                   */
/* ------------------------------------------------------------------------ */

#define REV "0.18.198.in-addr.arpa."

static size_t rd_a4(uint8_t *out, uint8_t a, uint8_t b, uint8_t c, uint8_t d)
{
	dns_put16(out, 4);
	out[2] = a;
	out[3] = b;
	out[4] = c;
	out[5] = d;
	return 6;
}

/* example.com. (www A 198.18.0.1) and the reverse zone of 198.18.0.0/24, serial 7. */
static void make_rev(struct store *s)
{
	uint8_t soard[512], nsrd[512];
	make_zone(s);
	size_t sl = rd_str(soard, DNS_T_SOA, "ns1.example.com. h.example.com. 7 3600 900 1209600 300");
	size_t nl = rd_str(nsrd, DNS_T_NS, "ns1.example.com.");
	struct store_op ops[3] = {
		{ .kind = STORE_OP_ZONE_ADD, .zone = N(REV) },
		{ .kind = STORE_OP_RRSET_REPLACE, .owner = N(REV), .type = DNS_T_SOA, .ttl = 3600,
		  .count = 1, .rdatas = soard, .rdatas_len = sl },
		{ .kind = STORE_OP_RRSET_REPLACE, .owner = N(REV), .type = DNS_T_NS, .ttl = 3600,
		  .count = 1, .rdatas = nsrd, .rdatas_len = nl },
	};
	commit(s, ops, 3);
}

static void rr_op(struct store *s, enum store_op_kind kind, const char *owner, uint32_t ttl,
                  uint8_t c, uint8_t d)
{
	uint8_t rd[8];
	struct store_op op = { .kind = kind, .owner = N(owner), .type = DNS_T_A, .ttl = ttl,
	                       .count = 1, .rdatas = rd, .rdatas_len = rd_a4(rd, 198, c, 0, d) };
	commit(s, &op, 1);
}

/* An A added: the reverse zone's difference is that PTR (and its SOAs); deleted: removed. */
static void test_synth_add_delete(void **state)
{
	struct fx *f = *state;
	make_rev(f->s);
	assert_int_equal(walk(f->s, REV).n, 0);
	rr_op(f->s, STORE_OP_RR_ADD, "host.example.com.", 120, 18, 5);
	struct seen sn = walk(f->s, REV);
	assert_string_equal(sn.text, "7>8: -" REV "/SOA/3600 +" REV "/SOA/3600 +5." REV
	                             "/PTR/120/host.example.com.\n");
	/* a second owner of the address: one more PTR, the TTL the smaller of the two */
	rr_op(f->s, STORE_OP_RR_ADD, "alias.example.com.", 60, 18, 5);
	sn = walk(f->s, REV);
	assert_non_null(strstr(sn.text, "8>9: -" REV "/SOA/3600 -5." REV "/PTR/120/host.example.com."
	                                " +" REV "/SOA/3600 +5." REV "/PTR/60/host.example.com."
	                                " +5." REV "/PTR/60/alias.example.com.\n"));
	rr_op(f->s, STORE_OP_RR_DELETE, "alias.example.com.", 0, 18, 5);
	rr_op(f->s, STORE_OP_RR_DELETE, "host.example.com.", 0, 18, 5);
	sn = walk(f->s, REV);
	assert_int_equal(sn.n, 4);
	assert_non_null(strstr(sn.text, "10>11: -" REV "/SOA/3600 -5." REV
	                                "/PTR/120/host.example.com. +" REV "/SOA/3600\n"));
	assert_null(strstr(sn.text, "break"));
}

/* An address outside every reverse zone: nothing in the reverse zone, its serial unchanged. */
static void test_synth_outside(void **state)
{
	struct fx *f = *state;
	struct store_error e;
	struct store_synth sy;
	make_rev(f->s);
	rr_op(f->s, STORE_OP_RR_ADD, "far.example.com.", 300, 19, 9);
	assert_int_equal(walk(f->s, REV).n, 0);
	struct seen fw = walk(f->s, "example.com.");
	assert_int_equal(fw.n, 1);
	assert_non_null(strstr(fw.text, "+far.example.com./A/300/9"));
	const uint8_t far[4] = { 198, 19, 0, 9 }, www[4] = { 198, 18, 0, 1 };
	assert_int_equal(store_synth_ptr(f->s, NULL, 4, far, &sy, &e), 0);   /* no zone holds it */
	assert_int_equal(store_synth_ptr(f->s, NULL, 4, www, &sy, &e), 1);
	assert_int_equal(sy.n, 1);
	assert_int_equal(sy.ttl, 300);
	assert_true(dns_name_equal(sy.rev, N("1." REV)));
	assert_true(dns_name_equal(sy.zone, N(REV)));
	assert_true(dns_name_equal(sy.targets[0], N("www.example.com.")));
}

/* A PTR stored at the reverse name hides the synthesized one; removing it shows it again. */
static void test_synth_stored_ptr(void **state)
{
	struct fx *f = *state;
	struct store_error e;
	struct store_synth sy;
	uint8_t rd[512];
	make_rev(f->s);
	size_t l = rd_str(rd, DNS_T_PTR, "named.example.com.");
	struct store_op op = { .kind = STORE_OP_RRSET_REPLACE, .owner = N("1." REV),
	                       .type = DNS_T_PTR, .ttl = 30, .count = 1, .rdatas = rd,
	                       .rdatas_len = l };
	commit(f->s, &op, 1);
	struct seen sn = walk(f->s, REV);
	assert_string_equal(sn.text, "7>8: -" REV "/SOA/3600 -1." REV "/PTR/300/www.example.com."
	                             " +" REV "/SOA/3600 +1." REV "/PTR/30/named.example.com.\n");
	const uint8_t www[4] = { 198, 18, 0, 1 };
	assert_int_equal(store_synth_ptr(f->s, NULL, 4, www, &sy, &e), 0);
	struct store_op del = { .kind = STORE_OP_RRSET_DELETE, .owner = N("1." REV),
	                        .type = DNS_T_PTR };
	commit(f->s, &del, 1);
	sn = walk(f->s, REV);
	assert_non_null(strstr(sn.text, "8>9: -" REV "/SOA/3600 -1." REV "/PTR/30/named.example.com."
	                                " +" REV "/SOA/3600 +1." REV "/PTR/300/www.example.com.\n"));
}

/* A commit touching more addresses than diff_max_usage can remember: a BREAK, memory bounded. */
static void test_synth_bounded(void **state)
{
	struct fx *f = *state;
	static struct store_op ops[200];
	static uint8_t rd[200][8];
	char names[200][32];
	make_rev(f->s);
	for (int i = 0; i < 200; i++) {
		snprintf(names[i], sizeof(names[i]), "h%d.example.com.", i);
		ops[i] = (struct store_op){ .kind = STORE_OP_RR_ADD, .owner = N(names[i]),
		                            .type = DNS_T_A, .ttl = 300, .count = 1, .rdatas = rd[i],
		                            .rdatas_len = rd_a4(rd[i], 198, 18, 0, (uint8_t)(i + 2)) };
		if (i % 50 == 49)   /* N()'s ring holds 64 names: commit in slices of 50 */
			commit(f->s, ops + i - 49, 50);
	}
	struct seen sn = walk(f->s, REV);
	assert_int_equal(sn.n, 4);
	/* setup_bytes: 1500 bytes; 50 addresses with their PTRs are more */
	assert_string_equal(sn.text, "0>8 break:\n0>9 break:\n0>10 break:\n0>11 break:\n");
}

/*
 * The oracle: after every random commit, the reverse zone's last
 * difference turns what a transfer showed before (zone walk + synthesized
 * PTRs, the AXFR's content) into what it shows after.
 */
struct rrtext {
	size_t n;
	char v[256][160];
};

static void rrtext_add(struct rrtext *t, const uint8_t *owner, uint16_t type, uint32_t ttl,
                       const uint8_t *rdata, uint16_t rdlen)
{
	char nb[DNS_NAME_STRLEN], rb[DNS_NAME_STRLEN] = "";
	if (type == DNS_T_SOA)
		return;   /* the framing, checked by the serials */
	dns_name_to_str(nb, sizeof(nb), owner);
	if (type == DNS_T_PTR || type == DNS_T_NS)
		dns_name_to_str(rb, sizeof(rb), rdata);
	else
		snprintf(rb, sizeof(rb), "len%u", rdlen);
	assert_true(t->n < 256);
	snprintf(t->v[t->n++], 160, "%.70s %.10s %u %.70s", nb, dns_type_name(type), ttl, rb);
}

static int rrtext_rrset(void *ctx, const uint8_t *owner, uint16_t type, uint32_t ttl,
                        uint16_t count, const uint8_t *rdatas, size_t len)
{
	(void)count;
	for (size_t off = 0; off + 2 <= len; off += 2 + (size_t)dns_get16(rdatas + off))
		rrtext_add(ctx, owner, type, ttl, rdatas + off + 2, dns_get16(rdatas + off));
	return 0;
}

static int rrtext_synth(void *ctx, const struct store_synth *sy)
{
	for (unsigned i = 0; i < sy->n; i++)
		rrtext_add(ctx, sy->rev, DNS_T_PTR, sy->ttl, sy->targets[i],
		           (uint16_t)dns_name_len(sy->targets[i]));
	return 0;
}

static int rrtext_cmp(const void *a, const void *b)
{
	return strcmp(a, b);
}

static void rrtext_of_zone(struct store *s, struct rrtext *t)
{
	struct store_error e;
	t->n = 0;
	assert_int_equal(store_zone_walk_in(s, NULL, N(REV), rrtext_rrset, t, &e), DDI_EOK);
	assert_int_equal(store_synth_walk_in(s, NULL, N(REV), rrtext_synth, t, &e), DDI_EOK);
	qsort(t->v, t->n, sizeof(t->v[0]), rrtext_cmp);
}

struct lastdiff {
	size_t n;
	uint64_t seq;
	bool brk;
	uint32_t from, to;
	struct rrtext rem, add;
};

static int last_cb(void *ctx, const struct store_diff *d)
{
	struct lastdiff *ld = ctx;
	size_t off = 0, i = 0;
	struct store_rr rr;
	ld->n++;
	ld->seq = d->seq;
	ld->brk = d->flags & STORE_DIFF_BREAK;
	ld->from = d->serial_from;
	ld->to = d->serial_to;
	ld->rem.n = ld->add.n = 0;
	while (store_diff_rr_next(d, &off, &rr) == 1) {
		rrtext_add(i < d->nrem ? &ld->rem : &ld->add, rr.owner, rr.type, rr.ttl, rr.rdata,
		           rr.rdlen);
		i++;
	}
	return 0;
}

static bool rrtext_has(const struct rrtext *t, const char *v)
{
	for (size_t i = 0; i < t->n; i++)
		if (strcmp(t->v[i], v) == 0)
			return true;
	return false;
}

static void test_synth_oracle(void **state)
{
	struct fx *f = *state;
	struct store_error e;
	static struct rrtext before, after, applied;
	static struct lastdiff ld;
	static const char *owners[] = { "a.example.com.", "b.example.com.", "c.example.com." };
	unsigned seed = 11, changes = 0;
	make_rev(f->s);
	rrtext_of_zone(f->s, &before);
	for (int it = 0; it < 200; it++) {
		struct store_op ops[3];
		uint8_t rd[3][512];
		int nops = 1 + (int)(rand_r(&seed) % 3);
		for (int i = 0; i < nops; i++) {
			unsigned r = (unsigned)rand_r(&seed);
			uint8_t d = (uint8_t)(1 + (r >> 8) % 4), c = (r >> 12) % 8 ? 18 : 19;
			ops[i] = (struct store_op){ .owner = N(owners[(r >> 4) % 3]), .type = DNS_T_A,
			                            .ttl = (r >> 16) % 2 ? 300 : 60, .count = 1,
			                            .rdatas = rd[i],
			                            .rdatas_len = rd_a4(rd[i], 198, c, 0, d) };
			switch (r % 5) {
			case 0:
			case 1:
				ops[i].kind = STORE_OP_RR_ADD;
				break;
			case 2:
				ops[i].kind = STORE_OP_RR_DELETE;
				break;
			case 3:
				ops[i].kind = STORE_OP_RRSET_REPLACE;
				break;
			default:   /* a stored PTR at one of the addresses, or none */
				ops[i].owner = N(d == 1 ? "1." REV : d == 2 ? "2." REV : "3." REV);
				ops[i].type = DNS_T_PTR;
				ops[i].kind = (r >> 20) % 2 ? STORE_OP_RRSET_DELETE : STORE_OP_RRSET_REPLACE;
				ops[i].rdatas_len = rd_str(rd[i], DNS_T_PTR, "stored.example.com.");
				break;
			}
		}
		int rc = store_commit(f->s, NULL, "test:oracle", ops, (size_t)nops, NULL, &e);
		assert_true(rc == DDI_EOK || rc == DDI_ENOENT || rc == DDI_EINVAL);
		uint64_t had = ld.seq;
		assert_int_equal(store_diff_walk(f->s, NULL, N(REV), last_cb, &ld, &e), DDI_EOK);
		rrtext_of_zone(f->s, &after);
		if (ld.seq == had) {   /* no difference recorded: the zone must show the same */
			assert_int_equal(after.n, before.n);
			for (size_t i = 0; i < after.n; i++)
				assert_string_equal(after.v[i], before.v[i]);
			continue;
		}
		changes++;
		assert_false(ld.brk);
		/* before - removed + added == after, and every removed RR was there */
		applied.n = 0;
		for (size_t i = 0; i < ld.rem.n; i++)
			assert_true(rrtext_has(&before, ld.rem.v[i]));
		for (size_t i = 0; i < before.n; i++)
			if (!rrtext_has(&ld.rem, before.v[i]))
				memcpy(applied.v[applied.n++], before.v[i], 160);
		for (size_t i = 0; i < ld.add.n; i++) {
			assert_false(rrtext_has(&applied, ld.add.v[i]));
			memcpy(applied.v[applied.n++], ld.add.v[i], 160);
		}
		qsort(applied.v, applied.n, sizeof(applied.v[0]), rrtext_cmp);
		assert_int_equal(applied.n, after.n);
		for (size_t i = 0; i < after.n; i++)
			assert_string_equal(applied.v[i], after.v[i]);
		before = after;
	}
	assert_true(changes > 50);
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
		cmocka_unit_test_setup_teardown(test_synth_add_delete, setup, teardown),
		cmocka_unit_test_setup_teardown(test_synth_outside, setup, teardown),
		cmocka_unit_test_setup_teardown(test_synth_stored_ptr, setup, teardown),
		cmocka_unit_test_setup_teardown(test_synth_oracle, setup, teardown),
		cmocka_unit_test_setup_teardown(test_synth_bounded, setup_bytes, teardown),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
