/* test_store -- the LMDB store: schema, validation, journal, serials, import/export, index load */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <pthread.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include <cmocka.h>
#include <lmdb.h>
#include <urcu-qsbr.h>

#include "control/store/store.h"
#include "dns/errcode.h"
#include "dns/name.h"
#include "dns/rdata.h"
#include "dns/wire.h"
#include "index/index.h"
#include "index/snapshot.h"

/* ------------------------------------------------------------------------ */
/* Fixtures and helpers                                                     */
/* ------------------------------------------------------------------------ */

struct fx {
	char dir[64];
	struct store *s;
};

static void rmtree(const char *dir)
{
	char cmd[128];
	snprintf(cmd, sizeof(cmd), "rm -rf '%s'", dir);
	assert_int_equal(system(cmd), 0);
}

static int setup(void **state)
{
	struct fx *f = calloc(1, sizeof(*f));
	struct store_options o = { .create = true, .map_size = 256u << 20 };
	struct store_error e;
	snprintf(f->dir, sizeof(f->dir), "/tmp/ddi-test-store.XXXXXX");
	if (!mkdtemp(f->dir))
		return -1;
	if (store_open(&f->s, f->dir, &o, &e) != 0) {
		fprintf(stderr, "store_open: %s\n", e.msg);
		return -1;
	}
	*state = f;
	return 0;
}

static int teardown(void **state)
{
	struct fx *f = *state;
	store_close(f->s);
	rmtree(f->dir);
	free(f);
	return 0;
}

static const uint8_t *N(const char *s)
{
	/* a ring of buffers (per thread) so that a call can take several names */
	static __thread uint8_t bufs[256][DNS_NAME_MAXLEN];
	static __thread unsigned i;
	uint8_t *b = bufs[i++ & 255];
	int rc = dns_name_from_str(b, s, strlen(s), NULL);
	assert_true(rc > 0);
	return b;
}

/* Flat [rdlen rdata] for one A record. */
static size_t rd_a(uint8_t *out, uint8_t a, uint8_t b, uint8_t c, uint8_t d)
{
	dns_put16(out, 4);
	out[2] = a;
	out[3] = b;
	out[4] = c;
	out[5] = d;
	return 6;
}

/* Flat [rdlen rdata] from presentation rdata. */
static size_t rd_str(uint8_t *out, uint16_t type, const char *text)
{
	char buf[512], *fields[16], *save = NULL;
	bool quoted[16] = { false };
	char err[128];
	int n = 0;
	snprintf(buf, sizeof(buf), "%s", text);
	for (char *t = strtok_r(buf, " ", &save); t && n < 16; t = strtok_r(NULL, " ", &save))
		fields[n++] = t;
	int len = dns_rdata_from_str(out + 2, 4096, type, (const char *const *)fields, quoted, n, NULL,
	                             err, sizeof(err));
	if (len < 0)
		fprintf(stderr, "rdata '%s': %s\n", text, err);
	assert_true(len >= 0);
	dns_put16(out, (uint16_t)len);
	return 2 + (size_t)len;
}

static struct store_op op_replace(const char *owner, uint16_t type, uint32_t ttl,
                                  const uint8_t *rd, size_t len, uint16_t count)
{
	return (struct store_op){ .kind = STORE_OP_RRSET_REPLACE, .owner = N(owner), .type = type,
	                          .ttl = ttl, .count = count, .rdatas = rd, .rdatas_len = len };
}

#define SOA_EX "ns1.example.com. hostmaster.example.com. 100 3600 900 1209600 300"

/* Zone example.com. with SOA, NS and www A. */
static void make_zone(struct store *s, const char *soa)
{
	uint8_t soard[512], nsrd[512], ard[16];
	size_t sl = rd_str(soard, DNS_T_SOA, soa), nl = rd_str(nsrd, DNS_T_NS, "ns1.example.com.");
	size_t al = rd_a(ard, 198, 18, 0, 1);
	struct store_op ops[4] = {
		{ .kind = STORE_OP_ZONE_ADD, .zone = N("example.com.") },
		op_replace("example.com.", DNS_T_SOA, 3600, soard, sl, 1),
		op_replace("example.com.", DNS_T_NS, 3600, nsrd, nl, 1),
		op_replace("www.example.com.", DNS_T_A, 300, ard, al, 1),
	};
	struct store_error e;
	uint64_t seq;
	int rc = store_commit(s, NULL, "test:setup", ops, 4, &seq, &e);
	if (rc)
		fprintf(stderr, "make_zone: %s\n", e.msg);
	assert_int_equal(rc, DDI_EOK);
}

/* The zone as exported text (caller frees). */
static char *export(struct store *s, const char *zone, int *rc)
{
	char *buf = NULL;
	size_t len = 0;
	struct store_error e;
	FILE *f = open_memstream(&buf, &len);
	assert_non_null(f);
	*rc = store_zone_export(s, N(zone), f, &e);
	fclose(f);
	return buf;
}

static uint32_t serial_of(struct store *s, const char *zone)
{
	struct store_zone_info zi;
	struct store_error e;
	assert_int_equal(store_zone_get(s, NULL, N(zone), false, &zi, &e), DDI_EOK);
	assert_true(zi.has_soa);
	return zi.serial;
}

static uint64_t last_seq(struct store *s)
{
	uint64_t seq = 99999;
	struct store_error e;
	assert_int_equal(store_last_seq(s, &seq, &e), DDI_EOK);
	return seq;
}

static void write_file(const char *path, const char *text)
{
	FILE *f = fopen(path, "w");
	assert_non_null(f);
	assert_int_equal(fputs(text, f) >= 0, 1);
	assert_int_equal(fclose(f), 0);
}

/*
 * Raw LMDB access to the store's files, as an attacker or another version
 * would. LMDB forbids opening one environment twice in a process, so the
 * fixture's store is closed around it (reopen_put).
 */
static void raw_put(const char *dir, const char *db, const void *k, size_t kl, const void *v,
                    size_t vl)
{
	MDB_env *env;
	MDB_txn *txn;
	MDB_dbi dbi;
	assert_int_equal(mdb_env_create(&env), 0);
	assert_int_equal(mdb_env_set_maxdbs(env, 8), 0);
	assert_int_equal(mdb_env_set_mapsize(env, 256u << 20), 0);
	assert_int_equal(mdb_env_open(env, dir, MDB_NOTLS, 0640), 0);
	assert_int_equal(mdb_txn_begin(env, NULL, 0, &txn), 0);
	assert_int_equal(mdb_dbi_open(txn, db, 0, &dbi), 0);
	MDB_val key = { kl, (void *)k }, val = { vl, (void *)v };
	assert_int_equal(mdb_put(txn, dbi, &key, &val, 0), 0);
	assert_int_equal(mdb_txn_commit(txn), 0);
	mdb_env_close(env);
}

static void reopen_put(struct fx *f, const char *db, const void *k, size_t kl, const void *v,
                       size_t vl)
{
	struct store_error e;
	store_close(f->s);
	f->s = NULL;
	raw_put(f->dir, db, k, kl, v, vl);
	assert_int_equal(store_open(&f->s, f->dir, NULL, &e), DDI_EOK);
}

/* ------------------------------------------------------------------------ */
/* Open, create, schema                                                     */
/* ------------------------------------------------------------------------ */

static void test_open_schema(void **state)
{
	(void)state;
	char dir[64] = "/tmp/ddi-test-open.XXXXXX";
	char sub[96];
	struct store *s = NULL;
	struct store_error e;
	struct store_options create = { .create = true, .map_size = 64u << 20 };
	assert_non_null(mkdtemp(dir));
	snprintf(sub, sizeof(sub), "%s/db", dir);

	/* nothing there and not asked to create */
	assert_int_equal(store_open(&s, sub, NULL, &e), DDI_ENOENT);
	assert_null(s);
	assert_non_null(strstr(e.msg, sub));

	/* created, then opened again without create */
	assert_int_equal(store_open(&s, sub, &create, &e), DDI_EOK);
	assert_int_equal(last_seq(s), 0);
	store_close(s);
	assert_int_equal(store_open(&s, sub, NULL, &e), DDI_EOK);
	make_zone(s, SOA_EX);
	assert_int_equal(last_seq(s), 1);
	store_close(s);

	/* a store written by a future version is refused, not misread */
	uint8_t v2[4] = { 0, 0, 0, STORE_SCHEMA_VERSION + 1 };
	raw_put(sub, "meta", "schema_version", 14, v2, 4);
	s = NULL;
	assert_int_equal(store_open(&s, sub, NULL, &e), DDI_ESCHEMA);
	assert_null(s);
	assert_non_null(strstr(e.msg, "schema version"));
	assert_int_equal(store_open(&s, sub, &create, &e), DDI_ESCHEMA);

	/* a malformed schema_version is corruption */
	raw_put(sub, "meta", "schema_version", 14, "x", 1);
	assert_int_equal(store_open(&s, sub, NULL, &e), DDI_ECORRUPT);
	rmtree(dir);
}

/* ------------------------------------------------------------------------ */
/* Commit validation: every error changes nothing                           */
/* ------------------------------------------------------------------------ */

static void expect_refused(struct store *s, const struct store_op *ops, size_t n, int code,
                           long op, const char *before, uint64_t seq_before)
{
	struct store_error e;
	uint64_t seq = 77;
	int rc = store_commit(s, NULL, "test:bad", ops, n, &seq, &e);
	if (rc != code)
		fprintf(stderr, "expected %s, got %d: %s\n", ddi_strerror(code), rc, e.msg);
	assert_int_equal(rc, code);
	assert_int_equal(e.code, code);
	if (e.op != op)
		fprintf(stderr, "op %ld: %s\n", e.op, e.msg);
	assert_int_equal(e.op, op);
	assert_true(e.msg[0] != '\0');
	assert_int_equal(seq, 77);   /* untouched */
	char *after = export(s, "example.com.", &rc);
	assert_int_equal(rc, DDI_EOK);
	assert_string_equal(after, before);
	free(after);
	assert_int_equal(last_seq(s), seq_before);
}

static void test_commit_validation(void **state)
{
	struct fx *f = *state;
	uint8_t a[16], a2[16], cn[300], soa2[512], bad[8], ns[300];
	size_t al = rd_a(a, 198, 18, 0, 2), a2l = rd_a(a2, 198, 18, 0, 3);
	size_t cnl = rd_str(cn, DNS_T_CNAME, "www.example.com.");
	size_t soa2l = rd_str(soa2, DNS_T_SOA, "ns2.example.com. h.example.com. 5 1 1 1 1");
	size_t nsl = rd_str(ns, DNS_T_NS, "ns9.example.com.");
	int rc;
	make_zone(f->s, SOA_EX);
	char *before = export(f->s, "example.com.", &rc);
	assert_int_equal(rc, DDI_EOK);
	uint64_t seq0 = last_seq(f->s);

	/* outside every zone */
	struct store_op o1[] = { op_replace("www.example.org.", DNS_T_A, 60, a, al, 1) };
	expect_refused(f->s, o1, 1, DDI_EOUTZONE, 0, before, seq0);

	/* the op names a zone that does not hold the owner */
	struct store_op o1b[] = { op_replace("www.example.com.", DNS_T_A, 60, a, al, 1) };
	o1b[0].zone = N("org.");
	expect_refused(f->s, o1b, 1, DDI_EOUTZONE, 0, before, seq0);

	/* CNAME beside an A, in either order, and two CNAMEs */
	struct store_op o2[] = { { .kind = STORE_OP_RR_ADD, .owner = N("www.example.com."),
	                           .type = DNS_T_CNAME, .ttl = 60, .count = 1, .rdatas = cn,
	                           .rdatas_len = cnl } };
	expect_refused(f->s, o2, 1, DDI_ECNAME, 0, before, seq0);
	uint8_t cn2[600];
	size_t cn2l = rd_str(cn2, DNS_T_CNAME, "a.example.com.");
	cn2l += rd_str(cn2 + cn2l, DNS_T_CNAME, "b.example.com.");
	struct store_op o2b[] = { op_replace("c.example.com.", DNS_T_CNAME, 60, cn2, cn2l, 2) };
	expect_refused(f->s, o2b, 1, DDI_ECNAME, 0, before, seq0);
	/* a CNAME at the apex is beside the SOA */
	struct store_op o2c[] = { op_replace("example.com.", DNS_T_CNAME, 60, cn, cnl, 1) };
	expect_refused(f->s, o2c, 1, DDI_ECNAME, 0, before, seq0);

	/* SOA below the apex, two SOAs, SOA deleted */
	struct store_op o3[] = { op_replace("sub.example.com.", DNS_T_SOA, 60, soa2, soa2l, 1) };
	expect_refused(f->s, o3, 1, DDI_ESOA, 0, before, seq0);
	uint8_t twosoa[1024];
	memcpy(twosoa, soa2, soa2l);
	size_t tl = soa2l + rd_str(twosoa + soa2l, DNS_T_SOA, "ns3.example.com. h.example.com. 6 1 1 1 1");
	struct store_op o3b[] = { op_replace("example.com.", DNS_T_SOA, 60, twosoa, tl, 2) };
	expect_refused(f->s, o3b, 1, DDI_ESOA, 0, before, seq0);
	struct store_op o3c[] = { { .kind = STORE_OP_RRSET_DELETE, .owner = N("example.com."),
	                            .type = DNS_T_SOA } };
	expect_refused(f->s, o3c, 1, DDI_ESOA, 0, before, seq0);
	struct store_op o3d[] = { { .kind = STORE_OP_RRSET_DELETE, .owner = N("example.com."),
	                            .type = 0 } };
	expect_refused(f->s, o3d, 1, DDI_ESOA, 0, before, seq0);

	/* TTL above 2^31-1 (RFC 2181 8) */
	struct store_op o4[] = { op_replace("www.example.com.", DNS_T_A, 0x80000000u, a, al, 1) };
	expect_refused(f->s, o4, 1, DDI_ETTL, 0, before, seq0);

	/* rdata that is not an A; framing that lies about lengths; meta types */
	dns_put16(bad, 3);
	bad[2] = bad[3] = bad[4] = 1;
	struct store_op o5[] = { op_replace("www.example.com.", DNS_T_A, 60, bad, 5, 1) };
	expect_refused(f->s, o5, 1, DDI_ERDATA, 0, before, seq0);
	struct store_op o5b[] = { op_replace("www.example.com.", DNS_T_A, 60, a, al, 2) };
	expect_refused(f->s, o5b, 1, DDI_EINVAL, 0, before, seq0);
	struct store_op o5c[] = { op_replace("www.example.com.", DNS_T_A, 60, a, al - 1, 1) };
	expect_refused(f->s, o5c, 1, DDI_EINVAL, 0, before, seq0);
	struct store_op o5d[] = { op_replace("www.example.com.", DNS_T_ANY, 60, a, al, 1) };
	expect_refused(f->s, o5d, 1, DDI_ERDATA, 0, before, seq0);
	struct store_op o5e[] = { op_replace("www.example.com.", DNS_T_OPT, 60, a, al, 1) };
	expect_refused(f->s, o5e, 1, DDI_ERDATA, 0, before, seq0);

	/* deleting what is not there */
	struct store_op o6[] = { { .kind = STORE_OP_RR_DELETE, .owner = N("www.example.com."),
	                           .type = DNS_T_A, .count = 1, .rdatas = a2, .rdatas_len = a2l } };
	expect_refused(f->s, o6, 1, DDI_ENOENT, 0, before, seq0);
	struct store_op o6b[] = { { .kind = STORE_OP_ZONE_REMOVE, .zone = N("example.net.") } };
	expect_refused(f->s, o6b, 1, DDI_ENOZONE, 0, before, seq0);
	struct store_op o6c[] = { { .kind = STORE_OP_ZONE_ADD, .zone = N("example.com.") } };
	expect_refused(f->s, o6c, 1, DDI_EEXIST, 0, before, seq0);

	/* a zone added without an SOA */
	struct store_op o6d[] = { { .kind = STORE_OP_ZONE_ADD, .zone = N("example.net.") } };
	expect_refused(f->s, o6d, 1, DDI_ESOA, 0, before, seq0);

	/* a good op followed by a bad one: nothing of either lands; err names op 2 */
	struct store_op o7[] = {
		op_replace("ok.example.com.", DNS_T_A, 60, a, al, 1),
		op_replace("ns.example.com.", DNS_T_NS, 60, ns, nsl, 1),
		op_replace("www.example.com.", DNS_T_A, 0xffffffffu, a, al, 1),
	};
	expect_refused(f->s, o7, 3, DDI_ETTL, 2, before, seq0);
	/* a CNAME conflict created across two ops is found at the end, named by the last op */
	struct store_op o7b[] = {
		op_replace("x.example.com.", DNS_T_CNAME, 60, cn, cnl, 1),
		op_replace("y.example.com.", DNS_T_A, 60, a, al, 1),
		op_replace("x.example.com.", DNS_T_A, 60, a, al, 1),
	};
	expect_refused(f->s, o7b, 3, DDI_ECNAME, 2, before, seq0);

	/* ... while the same ops in a valid order (A replaced by a CNAME) pass */
	struct store_op o8[] = {
		op_replace("x.example.com.", DNS_T_A, 60, a, al, 1),
	};
	struct store_error e;
	assert_int_equal(store_commit(f->s, NULL, "test:ok", o8, 1, NULL, &e), DDI_EOK);
	struct store_op o8b[] = {
		op_replace("x.example.com.", DNS_T_CNAME, 60, cn, cnl, 1),
		{ .kind = STORE_OP_RRSET_DELETE, .owner = N("x.example.com."), .type = DNS_T_A },
	};
	assert_int_equal(store_commit(f->s, NULL, "test:ok", o8b, 2, NULL, &e), DDI_EOK);
	free(before);
}

static void test_limits(void **state)
{
	(void)state;
	char dir[64] = "/tmp/ddi-test-limit.XXXXXX";
	struct store *s;
	struct store_error e;
	struct store_options o = { .create = true, .map_size = 64u << 20, .max_rrs = 3,
	                           .max_rrsets = 3 };
	uint8_t rd[64], txt[64];
	size_t l = 0;
	int rc;
	assert_non_null(mkdtemp(dir));
	assert_int_equal(store_open(&s, dir, &o, &e), DDI_EOK);
	make_zone(s, SOA_EX);
	char *before = export(s, "example.com.", &rc);
	uint64_t seq0 = last_seq(s);
	for (int i = 0; i < 4; i++)
		l += rd_a(rd + l, 198, 18, 1, (uint8_t)i);
	struct store_op o1[] = { op_replace("many.example.com.", DNS_T_A, 60, rd, l, 4) };
	expect_refused(s, o1, 1, DDI_ELIMIT, 0, before, seq0);
	o1[0].count = 3;
	o1[0].rdatas_len = 18;
	assert_int_equal(store_commit(s, NULL, "t", o1, 1, NULL, &e), DDI_EOK);
	char *b2 = export(s, "example.com.", &rc);
	/* adding a fourth through rr-add is the same limit */
	struct store_op o2[] = { { .kind = STORE_OP_RR_ADD, .owner = N("many.example.com."),
	                           .type = DNS_T_A, .ttl = 60, .count = 1, .rdatas = rd + 18,
	                           .rdatas_len = 6 } };
	expect_refused(s, o2, 1, DDI_ELIMIT, 0, b2, last_seq(s));
	/* four RRsets at one name */
	size_t tl = rd_str(txt, DNS_T_TXT, "x");
	struct store_op o3[] = {
		op_replace("many.example.com.", DNS_T_TXT, 60, txt, tl, 1),
		op_replace("many.example.com.", DNS_T_AAAA, 60, (const uint8_t *)"\0\x10" "0123456789abcdef", 18, 1),
		op_replace("many.example.com.", DNS_T_MX, 60, (const uint8_t *)"\0\x03\0\x0a\0", 5, 1),
	};
	expect_refused(s, o3, 3, DDI_ELIMIT, 2, b2, last_seq(s));
	free(before);
	free(b2);
	store_close(s);
	rmtree(dir);
}

/* ------------------------------------------------------------------------ */
/* Journal                                                                  */
/* ------------------------------------------------------------------------ */

struct jcollect {
	size_t n;
	uint64_t seq[16];
	char actor[16][64];
	size_t nops[16];
	struct store_journal_op op0[16];
};

static int jcollect_cb(void *ctx, const struct store_journal_entry *e)
{
	struct jcollect *j = ctx;
	if (j->n == 16)
		return 1;
	j->seq[j->n] = e->seq;
	snprintf(j->actor[j->n], 64, "%s", e->actor);
	j->nops[j->n] = e->nops;
	if (e->nops)
		j->op0[j->n] = e->ops[0];
	assert_non_null(strstr(e->json, "\"actor\""));
	j->n++;
	return 0;
}

static void test_journal(void **state)
{
	struct fx *f = *state;
	struct store_error e;
	uint8_t a[8];
	size_t al = rd_a(a, 198, 18, 0, 5);
	uint64_t seq;
	make_zone(f->s, SOA_EX);
	struct store_op add = { .kind = STORE_OP_RR_ADD, .owner = N("h1.example.com."),
	                        .type = DNS_T_A, .ttl = 60, .count = 1, .rdatas = a,
	                        .rdatas_len = al };
	assert_int_equal(store_commit(f->s, NULL, "unix:alice", &add, 1, &seq, &e), DDI_EOK);
	assert_int_equal(seq, 2);
	struct store_op del = { .kind = STORE_OP_RRSET_DELETE, .owner = N("h1.example.com."),
	                        .type = DNS_T_A };
	assert_int_equal(store_commit(f->s, NULL, "tsig:dhcp-key", &del, 1, &seq, &e), DDI_EOK);
	assert_int_equal(seq, 3);

	struct jcollect j = { 0 };
	assert_int_equal(store_journal_read(f->s, 1, 0, jcollect_cb, &j, &e), DDI_EOK);
	assert_int_equal(j.n, 3);
	assert_int_equal(j.seq[0], 1);
	assert_int_equal(j.seq[1], 2);
	assert_int_equal(j.seq[2], 3);
	assert_string_equal(j.actor[0], "test:setup");
	assert_string_equal(j.actor[1], "unix:alice");
	assert_string_equal(j.actor[2], "tsig:dhcp-key");
	/* setup: zone-add, 3 rrset-replace (the new zone keeps its SOA: no serial op) */
	assert_int_equal(j.nops[0], 4);
	assert_int_equal(j.op0[0].op, STORE_J_ZONE_ADD);
	/* rr-add then the serial advance */
	assert_int_equal(j.nops[1], 2);
	assert_int_equal(j.op0[1].op, STORE_J_RR_ADD);
	assert_true(dns_name_equal(j.op0[1].owner, N("h1.example.com.")));
	assert_true(dns_name_equal(j.op0[1].zone, N("example.com.")));
	assert_int_equal(j.op0[1].type, DNS_T_A);
	assert_int_equal(j.op0[1].old_count, 0);
	assert_int_equal(j.op0[1].new_count, 1);
	assert_int_equal(j.op0[2].op, STORE_J_RRSET_DELETE);
	assert_int_equal(j.op0[2].old_count, 1);
	assert_int_equal(j.op0[2].new_count, 0);

	/* from a later seq, and with a limit */
	memset(&j, 0, sizeof(j));
	assert_int_equal(store_journal_read(f->s, 3, 0, jcollect_cb, &j, &e), DDI_EOK);
	assert_int_equal(j.n, 1);
	assert_int_equal(j.seq[0], 3);
	memset(&j, 0, sizeof(j));
	assert_int_equal(store_journal_read(f->s, 1, 2, jcollect_cb, &j, &e), DDI_EOK);
	assert_int_equal(j.n, 2);
	memset(&j, 0, sizeof(j));
	assert_int_equal(store_journal_read(f->s, 4, 0, jcollect_cb, &j, &e), DDI_EOK);
	assert_int_equal(j.n, 0);

	/* an actor that is too long is refused */
	char longactor[300];
	memset(longactor, 'x', sizeof(longactor) - 1);
	longactor[sizeof(longactor) - 1] = 0;
	assert_int_equal(store_commit(f->s, NULL, longactor, &add, 1, &seq, &e), DDI_EINVAL);

	/* a garbage journal entry is reported as corruption, naming its seq */
	uint8_t k[8] = { 0, 0, 0, 0, 0, 0, 0, 9 };
	reopen_put(f, "journal", k, 8, "{\"v\":1,", 7);
	memset(&j, 0, sizeof(j));
	assert_int_equal(store_journal_read(f->s, 1, 0, jcollect_cb, &j, &e), DDI_ECORRUPT);
	assert_non_null(strstr(e.msg, "9"));
	assert_int_equal(j.n, 3);
}

/* ------------------------------------------------------------------------ */
/* Serials                                                                  */
/* ------------------------------------------------------------------------ */

static void test_serial(void **state)
{
	struct fx *f = *state;
	struct store_error e;
	uint8_t a[8], soa[512];
	size_t al = rd_a(a, 198, 18, 0, 7);
	make_zone(f->s, "ns1.example.com. hostmaster.example.com. 4294967294 3600 900 1209600 300");
	assert_int_equal(serial_of(f->s, "example.com."), 4294967294u);
	struct store_op add = { .kind = STORE_OP_RR_ADD, .owner = N("s.example.com."),
	                        .type = DNS_T_A, .ttl = 60, .count = 1, .rdatas = a,
	                        .rdatas_len = al };
	assert_int_equal(store_commit(f->s, NULL, "t", &add, 1, NULL, &e), DDI_EOK);
	assert_int_equal(serial_of(f->s, "example.com."), 4294967295u);
	/* RFC 1982: 2^32-1 + 1 is 0 */
	struct store_op del = { .kind = STORE_OP_RR_DELETE, .owner = N("s.example.com."),
	                        .type = DNS_T_A, .count = 1, .rdatas = a, .rdatas_len = al };
	assert_int_equal(store_commit(f->s, NULL, "t", &del, 1, NULL, &e), DDI_EOK);
	assert_int_equal(serial_of(f->s, "example.com."), 0);
	assert_int_equal(store_commit(f->s, NULL, "t", &add, 1, NULL, &e), DDI_EOK);
	assert_int_equal(serial_of(f->s, "example.com."), 1);

	/* an op that sets the SOA itself keeps its serial */
	size_t sl = rd_str(soa, DNS_T_SOA, "ns1.example.com. hostmaster.example.com. 500 1 1 1 1");
	struct store_op set[2] = {
		op_replace("example.com.", DNS_T_SOA, 3600, soa, sl, 1),
		{ .kind = STORE_OP_RR_DELETE, .owner = N("s.example.com."), .type = DNS_T_A,
		  .count = 1, .rdatas = a, .rdatas_len = al },
	};
	assert_int_equal(store_commit(f->s, NULL, "t", set, 2, NULL, &e), DDI_EOK);
	assert_int_equal(serial_of(f->s, "example.com."), 500);

	/* one commit touching one zone twice advances once */
	struct store_op two[2] = { add, add };
	uint8_t b[8];
	two[1].owner = N("s2.example.com.");
	two[1].rdatas = b;
	rd_a(b, 198, 18, 0, 8);
	assert_int_equal(store_commit(f->s, NULL, "t", two, 2, NULL, &e), DDI_EOK);
	assert_int_equal(serial_of(f->s, "example.com."), 501);

	/* writing what is there changes nothing: no serial, no journal entry */
	uint64_t seq_before = last_seq(f->s), seq = 0;
	two[0].owner = N("s.example.com.");
	two[1].owner = N("s2.example.com.");
	assert_int_equal(store_commit(f->s, NULL, "t", two, 2, &seq, &e), DDI_EOK);
	assert_int_equal(seq, seq_before);
	assert_int_equal(last_seq(f->s), seq_before);
	assert_int_equal(serial_of(f->s, "example.com."), 501);
	struct store_op gone = { .kind = STORE_OP_RRSET_DELETE, .owner = N("zz.example.com."),
	                         .type = DNS_T_A, .flags = STORE_OPF_MISSING_OK };
	assert_int_equal(store_commit(f->s, NULL, "t", &gone, 1, &seq, &e), DDI_EOK);
	assert_int_equal(last_seq(f->s), seq_before);
	assert_int_equal(serial_of(f->s, "example.com."), 501);

	/* an import with an older serial gets stored + 1; a newer one is kept */
	char path[128];
	snprintf(path, sizeof(path), "%s/z.zone", f->dir);
	write_file(path, "@ 3600 IN SOA ns1 hostmaster 7 1 1 1 1\n@ 3600 IN NS ns1\n");
	assert_int_equal(store_zone_import(f->s, "t", N("example.com."), path, NULL, &e), DDI_EOK);
	assert_int_equal(serial_of(f->s, "example.com."), 502);
	write_file(path, "@ 3600 IN SOA ns1 hostmaster 9000 1 1 1 1\n@ 3600 IN NS ns1\n");
	assert_int_equal(store_zone_import(f->s, "t", N("example.com."), path, NULL, &e), DDI_EOK);
	assert_int_equal(serial_of(f->s, "example.com."), 9000);
	/* the same file again: nothing changed, nothing advances */
	seq_before = last_seq(f->s);
	assert_int_equal(store_zone_import(f->s, "t", N("example.com."), path, &seq, &e), DDI_EOK);
	assert_int_equal(seq, seq_before);
	assert_int_equal(serial_of(f->s, "example.com."), 9000);
	/* other content under the same serial: stored + 1 */
	write_file(path, "@ 3600 IN SOA ns1 hostmaster 9000 1 1 1 1\n@ 3600 IN NS ns2\n");
	assert_int_equal(store_zone_import(f->s, "t", N("example.com."), path, &seq, &e), DDI_EOK);
	assert_int_equal(seq, seq_before + 1);
	assert_int_equal(serial_of(f->s, "example.com."), 9001);
}

/* ------------------------------------------------------------------------ */
/* Addresses and serial policy                                              */
/* ------------------------------------------------------------------------ */

struct owners {
	size_t n;
	uint8_t v[8][DNS_NAME_MAXLEN];
};

static int owners_cb(void *ctx, const uint8_t *owner)
{
	struct owners *o = ctx;
	assert_true(o->n < 8);
	memcpy(o->v[o->n++], owner, dns_name_len(owner));
	return 0;
}

static void test_addresses(void **state)
{
	struct fx *f = *state;
	struct store_error e;
	uint8_t a[8], six[32];
	static const uint8_t v6[16] = { 0x20, 0x01, 0, 2, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0x10 };
	size_t al = rd_a(a, 198, 18, 0, 1);   /* www already holds it (make_zone) */
	dns_put16(six, 16);
	memcpy(six + 2, v6, 16);
	make_zone(f->s, SOA_EX);
	struct store_op ops[] = {
		op_replace("Host.Example.COM.", DNS_T_A, 60, a, al, 1),
		op_replace("host.example.com.", DNS_T_AAAA, 60, six, 18, 1),
		op_replace("v6.example.com.", DNS_T_AAAA, 60, six, 18, 1),
	};
	assert_int_equal(store_commit(f->s, NULL, "u", ops, 3, NULL, &e), DDI_EOK);
	struct owners o = { 0 };
	assert_int_equal(store_addr_owners(f->s, NULL, 4, a + 2, owners_cb, &o, &e), DDI_EOK);
	assert_int_equal(o.n, 2);
	/* lower-cased wire names, in memcmp order of the wire form */
	assert_memory_equal(o.v[0], "\3www\7example\3com", 17);
	assert_memory_equal(o.v[1], "\4host\7example\3com", 18);
	memset(&o, 0, sizeof(o));
	assert_int_equal(store_addr_owners(f->s, NULL, 6, v6, owners_cb, &o, &e), DDI_EOK);
	assert_int_equal(o.n, 2);
	/* replacing an RRset moves the address; deleting a name drops it */
	uint8_t b[8];
	size_t bl = rd_a(b, 198, 18, 0, 2);
	struct store_op mv[] = {
		op_replace("www.example.com.", DNS_T_A, 60, b, bl, 1),
		{ .kind = STORE_OP_RRSET_DELETE, .owner = N("v6.example.com."), .type = 0 },
	};
	assert_int_equal(store_commit(f->s, NULL, "u", mv, 2, NULL, &e), DDI_EOK);
	memset(&o, 0, sizeof(o));
	assert_int_equal(store_addr_owners(f->s, NULL, 4, a + 2, owners_cb, &o, &e), DDI_EOK);
	assert_int_equal(o.n, 1);
	assert_true(dns_name_equal(o.v[0], N("host.example.com.")));
	memset(&o, 0, sizeof(o));
	assert_int_equal(store_addr_owners(f->s, NULL, 4, b + 2, owners_cb, &o, &e), DDI_EOK);
	assert_int_equal(o.n, 1);
	assert_true(dns_name_equal(o.v[0], N("www.example.com.")));
	memset(&o, 0, sizeof(o));
	assert_int_equal(store_addr_owners(f->s, NULL, 6, v6, owners_cb, &o, &e), DDI_EOK);
	assert_int_equal(o.n, 1);
	/* removing the zone leaves no address behind */
	struct store_op rm = { .kind = STORE_OP_ZONE_REMOVE, .zone = N("example.com.") };
	assert_int_equal(store_commit(f->s, NULL, "u", &rm, 1, NULL, &e), DDI_EOK);
	memset(&o, 0, sizeof(o));
	assert_int_equal(store_addr_owners(f->s, NULL, 4, a + 2, owners_cb, &o, &e), DDI_EOK);
	assert_int_equal(store_addr_owners(f->s, NULL, 4, b + 2, owners_cb, &o, &e), DDI_EOK);
	assert_int_equal(store_addr_owners(f->s, NULL, 6, v6, owners_cb, &o, &e), DDI_EOK);
	assert_int_equal(o.n, 0);
	assert_int_equal(store_addr_owners(f->s, NULL, 5, v6, owners_cb, &o, &e), DDI_EINVAL);
}

static void test_serial_unixtime(void **state)
{
	struct fx *f = *state;
	struct store_error e;
	uint8_t soard[512], a[8];
	size_t sl = rd_str(soard, DNS_T_SOA, "ns1.example.com. h.example.com. 1 1 1 1 1");
	size_t al = rd_a(a, 198, 18, 0, 1);
	struct store_op ops[] = {
		{ .kind = STORE_OP_ZONE_ADD, .zone = N("example.com."),
		  .zone_flags = STORE_ZONE_SERIAL_UNIXTIME },
		op_replace("example.com.", DNS_T_SOA, 60, soard, sl, 1),
	};
	assert_int_equal(store_commit(f->s, NULL, "u", ops, 2, NULL, &e), DDI_EOK);
	assert_int_equal(serial_of(f->s, "example.com."), 1);
	uint32_t now = (uint32_t)time(NULL);
	struct store_op add = op_replace("a.example.com.", DNS_T_A, 60, a, al, 1);
	assert_int_equal(store_commit(f->s, NULL, "u", &add, 1, NULL, &e), DDI_EOK);
	uint32_t s1 = serial_of(f->s, "example.com.");
	assert_true(s1 >= now && s1 <= now + 5);
	/* two changes in the same second still advance */
	add.ttl = 61;
	assert_int_equal(store_commit(f->s, NULL, "u", &add, 1, NULL, &e), DDI_EOK);
	assert_true(serial_of(f->s, "example.com.") >= s1 + 1);
	struct store_zone_info zi;
	assert_int_equal(store_zone_get(f->s, NULL, N("example.com."), false, &zi, &e), DDI_EOK);
	assert_int_equal(zi.flags, STORE_ZONE_SERIAL_UNIXTIME);
}

/* ------------------------------------------------------------------------ */
/* Import and export                                                        */
/* ------------------------------------------------------------------------ */

/* Already in export form: SOA first, then canonical order, one record per line. */
static const char zone_text[] =
	"example.com. 3600 IN SOA ns1.example.com. hostmaster.example.com. 2024010101 3600 900 1209600 300\n"
	"example.com. 3600 IN NS ns1.example.com.\n"
	"example.com. 3600 IN NS ns2.example.com.\n"
	"example.com. 3600 IN MX 10 mail.example.com.\n"
	"example.com. 300 IN TXT \"v=spf1 -all\"\n"
	"_sip._tcp.example.com. 3600 IN SRV 10 20 5060 sip.example.com.\n"
	"alias.example.com. 3600 IN CNAME www.example.com.\n"
	"mail.example.com. 3600 IN A 198.18.0.20\n"
	"ns1.example.com. 3600 IN A 198.18.0.1\n"
	"ns2.example.com. 3600 IN A 198.18.0.2\n"
	"ns2.example.com. 3600 IN AAAA 2001:2::2\n"
	"*.wild.example.com. 3600 IN A 198.18.0.30\n"
	"www.example.com. 300 IN A 198.18.0.10\n"
	"www.example.com. 300 IN A 198.18.0.11\n"
	"www.example.com. 300 IN AAAA 2001:2::10\n";

static int www_cb(void *ctx, const uint8_t *owner)
{
	int *count = ctx;
	assert_true(dns_name_equal(owner, N("www.example.com.")));
	(*count)++;
	return 0;
}

static void test_import_export(void **state)
{
	struct fx *f = *state;
	struct store_error e;
	char path[128];
	uint64_t seq;
	int rc;
	snprintf(path, sizeof(path), "%s/example.zone", f->dir);
	write_file(path, zone_text);
	assert_int_equal(store_zone_import(f->s, "unix:test", N("example.com."), path, &seq, &e),
	                 DDI_EOK);
	assert_int_equal(seq, 1);
	char *out = export(f->s, "example.com.", &rc);
	assert_int_equal(rc, DDI_EOK);
	assert_string_equal(out, zone_text);
	free(out);

	struct store_zone_info zi;
	assert_int_equal(store_zone_get(f->s, NULL, N("example.com."), true, &zi, &e), DDI_EOK);
	assert_int_equal(zi.serial, 2024010101);
	assert_int_equal(zi.nrrsets, 13);
	assert_int_equal(zi.nrrs, 15);

	/* the addresses database follows A/AAAA */
	uint8_t addr[4] = { 198, 18, 0, 10 };
	int count = 0;
	assert_int_equal(store_addr_owners(f->s, NULL, 4, addr, www_cb, &count, &e), DDI_EOK);
	assert_int_equal(count, 1);

	/* a syntax error in line 3: file:3 named, the previous content intact */
	write_file(path, "$ORIGIN example.com.\n@ 60 IN SOA a b 1 2 3 4 5\nwww 60 IN A 198.18.0.300\n");
	rc = store_zone_import(f->s, "unix:test", N("example.com."), path, &seq, &e);
	assert_true(rc == DDI_ERDATA || rc == DDI_ESYNTAX);
	char want[160];
	snprintf(want, sizeof(want), "%s:3:", path);
	assert_non_null(strstr(e.msg, want));
	out = export(f->s, "example.com.", &rc);
	assert_string_equal(out, zone_text);
	free(out);
	/* a validation error (CNAME beside data) and an out-of-zone record: the same */
	write_file(path, "@ 60 IN SOA a b 1 2 3 4 5\nx 60 IN A 198.18.0.1\nx 60 IN CNAME www\n");
	assert_int_equal(store_zone_import(f->s, "u", N("example.com."), path, &seq, &e), DDI_ECNAME);
	assert_non_null(strstr(e.msg, "x.example.com."));
	write_file(path, "@ 60 IN SOA a b 1 2 3 4 5\nwww.example.org. 60 IN A 198.18.0.1\n");
	assert_int_equal(store_zone_import(f->s, "u", N("example.com."), path, &seq, &e),
	                 DDI_EOUTZONE);
	write_file(path, "www 60 IN A 198.18.0.1\n");
	assert_int_equal(store_zone_import(f->s, "u", N("example.com."), path, &seq, &e), DDI_ESOA);
	write_file(path, "@ 60 IN SOA a b 1 2 3 4 5\n$INCLUDE /etc/passwd\n");
	assert_int_equal(store_zone_import(f->s, "u", N("example.com."), path, &seq, &e),
	                 DDI_EINCLUDE);
	out = export(f->s, "example.com.", &rc);
	assert_string_equal(out, zone_text);
	free(out);
	assert_int_equal(last_seq(f->s), 1);
	count = 0;
	assert_int_equal(store_addr_owners(f->s, NULL, 4, addr, www_cb, &count, &e), DDI_EOK);
	assert_int_equal(count, 1);

	/* re-import of a smaller zone: gone names are gone, addresses too */
	write_file(path, "@ 60 IN SOA a b 2024010102 2 3 4 5\nwww 60 IN A 198.18.0.99\n");
	assert_int_equal(store_zone_import(f->s, "u", N("example.com."), path, &seq, &e), DDI_EOK);
	out = export(f->s, "example.com.", &rc);
	assert_string_equal(out, "example.com. 60 IN SOA a.example.com. b.example.com. 2024010102 2 3 4 5\n"
	                         "www.example.com. 60 IN A 198.18.0.99\n");
	free(out);
	count = 0;
	assert_int_equal(store_addr_owners(f->s, NULL, 4, addr, www_cb, &count, &e), DDI_EOK);
	assert_int_equal(count, 0);
	addr[3] = 99;
	assert_int_equal(store_addr_owners(f->s, NULL, 4, addr, www_cb, &count, &e), DDI_EOK);
	assert_int_equal(count, 1);
}

static void test_subzones(void **state)
{
	struct fx *f = *state;
	struct store_error e;
	char path[128];
	int rc;
	snprintf(path, sizeof(path), "%s/p.zone", f->dir);
	write_file(path, "@ 60 IN SOA a b 1 2 3 4 5\nwww 60 IN A 198.18.0.1\n"
	                 "host.sub 60 IN A 198.18.0.2\n");
	assert_int_equal(store_zone_import(f->s, "u", N("example.com."), path, NULL, &e), DDI_EOK);
	/* a zone whose apex would take names of the parent is refused */
	write_file(path, "@ 60 IN SOA a b 1 2 3 4 5\n");
	assert_int_equal(store_zone_import(f->s, "u", N("sub.example.com."), path, NULL, &e),
	                 DDI_EEXIST);
	/* once the parent lets them go, the child zone can be made */
	struct store_op del = { .kind = STORE_OP_RRSET_DELETE, .owner = N("host.sub.example.com."),
	                        .type = 0 };
	assert_int_equal(store_commit(f->s, NULL, "u", &del, 1, NULL, &e), DDI_EOK);
	write_file(path, "@ 60 IN SOA a b 1 2 3 4 5\nhost 60 IN A 198.18.0.3\n");
	assert_int_equal(store_zone_import(f->s, "u", N("sub.example.com."), path, NULL, &e), DDI_EOK);
	/* the parent's export leaves the child out; the child's is only the child */
	char *out = export(f->s, "example.com.", &rc);
	assert_string_equal(out, "example.com. 60 IN SOA a.example.com. b.example.com. 2 2 3 4 5\n"
	                         "www.example.com. 60 IN A 198.18.0.1\n");
	free(out);
	out = export(f->s, "sub.example.com.", &rc);
	assert_string_equal(out, "sub.example.com. 60 IN SOA a.sub.example.com. b.sub.example.com. 1 2 3 4 5\n"
	                         "host.sub.example.com. 60 IN A 198.18.0.3\n");
	free(out);
	/* a record below the child lands in the child (its serial moves, not the parent's) */
	uint8_t a[8];
	size_t al = rd_a(a, 198, 18, 0, 4);
	struct store_op add = { .kind = STORE_OP_RR_ADD, .owner = N("h2.sub.example.com."),
	                        .type = DNS_T_A, .ttl = 60, .count = 1, .rdatas = a,
	                        .rdatas_len = al };
	assert_int_equal(store_commit(f->s, NULL, "u", &add, 1, NULL, &e), DDI_EOK);
	assert_int_equal(serial_of(f->s, "sub.example.com."), 2);
	assert_int_equal(serial_of(f->s, "example.com."), 2);
	/* importing the parent with a name of the child is refused */
	write_file(path, "@ 60 IN SOA a b 3 2 3 4 5\nx.sub 60 IN A 198.18.0.1\n");
	assert_int_equal(store_zone_import(f->s, "u", N("example.com."), path, NULL, &e),
	                 DDI_EOUTZONE);
	assert_non_null(strstr(e.msg, "sub.example.com."));
	/* removing the parent leaves the child whole */
	struct store_op rm = { .kind = STORE_OP_ZONE_REMOVE, .zone = N("example.com.") };
	assert_int_equal(store_commit(f->s, NULL, "u", &rm, 1, NULL, &e), DDI_EOK);
	out = export(f->s, "example.com.", &rc);
	assert_int_equal(rc, DDI_ENOZONE);
	free(out);
	out = export(f->s, "sub.example.com.", &rc);
	assert_int_equal(rc, DDI_EOK);
	assert_non_null(strstr(out, "h2.sub.example.com."));
	free(out);
}

/* ------------------------------------------------------------------------ */
/* Index load                                                               */
/* ------------------------------------------------------------------------ */

struct cmp_ctx {
	const struct idx_version *v;
	size_t rrsets;
};

/* Every RRset of the store is in the index with the same TTL and rdata. */
static int cmp_rrset(void *ctx, const uint8_t *owner, uint16_t type, uint32_t ttl, uint16_t count,
                     const uint8_t *rdatas, size_t len)
{
	struct cmp_ctx *c = ctx;
	uint8_t key[DNS_KEY_MAXLEN];
	int kl = dns_name_to_key(key, owner);
	const struct idx_node *n = idx_find(c->v, key, (size_t)kl);
	assert_non_null(n);
	const struct idx_rrset *rs = idx_node_rrset(n, type);
	assert_non_null(rs);
	assert_int_equal(rs->count, count);
	assert_int_equal(idx_rrset_ttl(n, rs), ttl);
	uint32_t pos = 0;
	uint16_t rrlen;
	const uint8_t *rr;
	size_t off = 0;
	while ((rr = idx_rrset_next(n, rs, &pos, &rrlen)) != NULL) {
		uint16_t rdlen = dns_get16(rdatas + off);
		assert_true(off + 2 + rdlen <= len);
		assert_int_equal(rrlen, 10 + rdlen);
		assert_int_equal(dns_get16(rr), type);
		assert_memory_equal(rr + 10, rdatas + off + 2, rdlen);
		off += 2 + (size_t)rdlen;
	}
	assert_int_equal(off, len);
	c->rrsets++;
	return 0;
}

static void test_load_index(void **state)
{
	struct fx *f = *state;
	struct store_error e;
	char path[128];
	uint64_t seq = 0;
	snprintf(path, sizeof(path), "%s/example.zone", f->dir);
	write_file(path, zone_text);
	assert_int_equal(store_zone_import(f->s, "u", N("example.com."), path, NULL, &e), DDI_EOK);
	write_file(path, "@ 60 IN SOA a b 1 2 3 4 5\n@ 60 IN NS a\na 60 IN A 198.18.0.1\n");
	assert_int_equal(store_zone_import(f->s, "u", N("example.org."), path, NULL, &e), DDI_EOK);

	struct idx *ix = idx_new();
	assert_non_null(ix);
	assert_int_equal(store_load_index(f->s, ix, &seq, &e), DDI_EOK);
	assert_int_equal(seq, 2);
	rcu_register_thread();
	const struct idx_version *v = idx_acquire(ix);
	assert_int_equal(idx_version_seq(v), 2);
	struct cmp_ctx c = { .v = v };
	assert_int_equal(store_zone_walk(f->s, N("example.com."), cmp_rrset, &c, &e), DDI_EOK);
	assert_int_equal(c.rrsets, 13);
	assert_int_equal(store_zone_walk(f->s, N("example.org."), cmp_rrset, &c, &e), DDI_EOK);
	assert_int_equal(c.rrsets, 16);
	/* the apexes are apexes; a name that is not there is not found */
	uint8_t key[DNS_KEY_MAXLEN];
	int kl = dns_name_to_key(key, N("example.org."));
	const struct idx_node *n = idx_find(v, key, (size_t)kl);
	assert_non_null(n);
	assert_true(n->flags & IDX_NODE_APEX);
	kl = dns_name_to_key(key, N("nope.example.com."));
	assert_null(idx_find(v, key, (size_t)kl));
	/* and the address tree knows the A records */
	uint8_t addr[4] = { 198, 18, 0, 10 };
	const struct idx_addr *ad = idx_addr_find(v, 4, addr);
	assert_non_null(ad);
	assert_int_equal(ad->nowners, 1);
	rcu_quiescent_state();
	rcu_unregister_thread();

	/* a reload into the same index replaces it whole: a removed zone is gone */
	struct store_op rm = { .kind = STORE_OP_ZONE_REMOVE, .zone = N("example.org.") };
	assert_int_equal(store_commit(f->s, NULL, "u", &rm, 1, NULL, &e), DDI_EOK);
	assert_int_equal(store_load_index(f->s, ix, &seq, &e), DDI_EOK);
	assert_int_equal(seq, 3);
	rcu_register_thread();
	v = idx_acquire(ix);
	kl = dns_name_to_key(key, N("a.example.org."));
	assert_null(idx_find(v, key, (size_t)kl));
	c.v = v;
	c.rrsets = 0;
	assert_int_equal(store_zone_walk(f->s, N("example.com."), cmp_rrset, &c, &e), DDI_EOK);
	assert_int_equal(c.rrsets, 13);
	rcu_quiescent_state();
	rcu_unregister_thread();
	idx_free(ix);
}

static void test_corrupt(void **state)
{
	struct fx *f = *state;
	struct store_error e;
	int rc;
	make_zone(f->s, SOA_EX);
	/* a value whose rdlen runs past its end, under www.example.com. A */
	uint8_t key[DNS_KEY_MAXLEN + 3];
	int kl = dns_name_to_key(key, N("www.example.com."));
	key[kl] = 0;
	dns_put16(key + kl + 1, DNS_T_A);
	static const uint8_t garbage[] = { 0, 0, 0, 60, 0, 1, 0, 200, 1, 2 };
	reopen_put(f, "rrsets", key, (size_t)kl + 3, garbage, sizeof(garbage));

	struct idx *ix = idx_new();
	assert_non_null(ix);
	assert_int_equal(store_load_index(f->s, ix, NULL, &e), DDI_ECORRUPT);
	assert_non_null(strstr(e.msg, "rrsets"));
	assert_non_null(strstr(e.msg, "does not validate"));
	char *out = export(f->s, "example.com.", &rc);
	assert_int_equal(rc, DDI_ECORRUPT);
	free(out);

	/* an A of 5 bytes (framing right, rdata wrong), a TTL over 2^31-1, an empty set */
	static const uint8_t a5[] = { 0, 0, 0, 60, 0, 1, 0, 5, 1, 2, 3, 4, 5 };
	static const uint8_t bigttl[] = { 0x80, 0, 0, 0, 0, 1, 0, 4, 1, 2, 3, 4 };
	static const uint8_t empty[] = { 0, 0, 0, 60, 0, 0 };
	const uint8_t *bad[] = { a5, bigttl, empty };
	size_t badlen[] = { sizeof(a5), sizeof(bigttl), sizeof(empty) };
	for (int i = 0; i < 3; i++) {
		reopen_put(f, "rrsets", key, (size_t)kl + 3, bad[i], badlen[i]);
		assert_int_equal(store_load_index(f->s, ix, NULL, &e), DDI_ECORRUPT);
	}
	/* a key that is no name (0x00 0x00 inside), and a key too short for a type */
	static const uint8_t k2[] = { 'c', 'o', 'm', 0, 0, 0, 0, 1 };
	static const uint8_t good[] = { 0, 0, 0, 60, 0, 1, 0, 4, 198, 18, 0, 1 };
	reopen_put(f, "rrsets", key, (size_t)kl + 3, good, sizeof(good));
	reopen_put(f, "rrsets", k2, sizeof(k2), a5, 12);
	assert_int_equal(store_load_index(f->s, ix, NULL, &e), DDI_ECORRUPT);
	/* a zones entry whose apex does not match its key */
	uint8_t zk[DNS_KEY_MAXLEN + 1];
	int zl = dns_name_to_key(zk, N("example.net."));
	zk[zl] = 0;
	uint8_t zv[64] = { 1, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0 };
	memcpy(zv + 13, N("example.org."), 13);
	reopen_put(f, "zones", zk, (size_t)zl + 1, zv, 26);
	assert_int_equal(store_load_index(f->s, ix, NULL, &e), DDI_ECORRUPT);
	assert_non_null(strstr(e.msg, "zones"));
	/* the index stayed as it was: empty */
	rcu_register_thread();
	assert_int_equal(idx_version_nodes(idx_acquire(ix)), 0);
	rcu_quiescent_state();
	rcu_unregister_thread();
	idx_free(ix);
}

/*
 * Randomized: a key or value of rrsets or zones replaced by garbage or by a
 * mutation of a valid one; every reader must answer OK or an error (mostly
 * DDI_ECORRUPT), never crash (ASan watches), and the index stays usable.
 */
struct kv {
	size_t kl, vl;
	uint8_t k[512], v[600];
	bool zones;
};

static size_t raw_all(const char *dir, struct kv *out, size_t max)
{
	MDB_env *env;
	MDB_txn *txn;
	MDB_dbi dbi;
	MDB_cursor *cur;
	MDB_val k, v;
	size_t n = 0;
	assert_int_equal(mdb_env_create(&env), 0);
	assert_int_equal(mdb_env_set_maxdbs(env, 8), 0);
	assert_int_equal(mdb_env_open(env, dir, MDB_NOTLS | MDB_RDONLY, 0640), 0);
	assert_int_equal(mdb_txn_begin(env, NULL, MDB_RDONLY, &txn), 0);
	for (int d = 0; d < 2; d++) {
		assert_int_equal(mdb_dbi_open(txn, d ? "zones" : "rrsets", 0, &dbi), 0);
		assert_int_equal(mdb_cursor_open(txn, dbi, &cur), 0);
		for (int rc = mdb_cursor_get(cur, &k, &v, MDB_FIRST); rc == 0 && n < max;
		     rc = mdb_cursor_get(cur, &k, &v, MDB_NEXT)) {
			if (v.mv_size > sizeof(out[n].v))
				continue;
			out[n].kl = k.mv_size;
			out[n].vl = v.mv_size;
			out[n].zones = d == 1;
			memcpy(out[n].k, k.mv_data, k.mv_size);
			memcpy(out[n].v, v.mv_data, v.mv_size);
			n++;
		}
		mdb_cursor_close(cur);
	}
	mdb_txn_abort(txn);
	mdb_env_close(env);
	return n;
}

static void raw_del(const char *dir, const char *db, const void *k, size_t kl)
{
	MDB_env *env;
	MDB_txn *txn;
	MDB_dbi dbi;
	assert_int_equal(mdb_env_create(&env), 0);
	assert_int_equal(mdb_env_set_maxdbs(env, 8), 0);
	assert_int_equal(mdb_env_set_mapsize(env, 256u << 20), 0);
	assert_int_equal(mdb_env_open(env, dir, MDB_NOTLS, 0640), 0);
	assert_int_equal(mdb_txn_begin(env, NULL, 0, &txn), 0);
	assert_int_equal(mdb_dbi_open(txn, db, 0, &dbi), 0);
	MDB_val key = { kl, (void *)k };
	int rc = mdb_del(txn, dbi, &key, NULL);
	assert_true(rc == 0 || rc == MDB_NOTFOUND);
	assert_int_equal(mdb_txn_commit(txn), 0);
	mdb_env_close(env);
}

static int ignore_rrset(void *ctx, const uint8_t *owner, uint16_t type, uint32_t ttl,
                        uint16_t count, const uint8_t *rdatas, size_t len)
{
	(void)ctx, (void)owner, (void)type, (void)ttl, (void)count, (void)rdatas, (void)len;
	return 0;
}

static int ignore_zone(void *ctx, const struct store_zone_info *z)
{
	(void)ctx, (void)z;
	return 0;
}

static bool fine(int rc)
{
	return rc == DDI_EOK || rc == DDI_ECORRUPT || rc == DDI_ENOENT || rc == DDI_ENOZONE;
}

static void test_corrupt_random(void **state)
{
	struct fx *f = *state;
	struct store_error e;
	char path[128];
	static struct kv kvs[64];
	snprintf(path, sizeof(path), "%s/example.zone", f->dir);
	write_file(path, zone_text);
	assert_int_equal(store_zone_import(f->s, "u", N("example.com."), path, NULL, &e), DDI_EOK);
	store_close(f->s);
	f->s = NULL;
	size_t n = raw_all(f->dir, kvs, 64);
	assert_true(n >= 14);
	srandom(20261122);
	struct idx *ix = idx_new();
	assert_non_null(ix);
	size_t corrupt = 0;
	for (int it = 0; it < 300; it++) {
		const struct kv *base = &kvs[(size_t)random() % n];
		uint8_t k[512], v[600];
		size_t kl = base->kl, vl = base->vl;
		memcpy(k, base->k, kl);
		memcpy(v, base->v, vl);
		switch (random() % 5) {
		case 0:   /* flip bytes of the value */
			for (int m = 0; m < 1 + random() % 3 && vl; m++)
				v[(size_t)random() % vl] ^= (uint8_t)(1 + random() % 255);
			break;
		case 1:   /* cut the value */
			vl = vl ? (size_t)random() % vl : 0;
			break;
		case 2:   /* random value */
			vl = (size_t)random() % 40;
			for (size_t m = 0; m < vl; m++)
				v[m] = (uint8_t)random();
			break;
		case 3:   /* flip bytes of the key (a new key beside the valid one) */
			for (int m = 0; m < 1 + random() % 2; m++)
				k[(size_t)random() % kl] ^= (uint8_t)(1 + random() % 255);
			break;
		default:  /* random key */
			kl = 1 + (size_t)random() % 40;
			for (size_t m = 0; m < kl; m++)
				k[m] = (uint8_t)(random() % 4 ? 'a' + random() % 4 : random() % 3);
			break;
		}
		const char *db = base->zones ? "zones" : "rrsets";
		raw_put(f->dir, db, k, kl, v, vl);
		assert_int_equal(store_open(&f->s, f->dir, NULL, &e), DDI_EOK);
		int rc = store_load_index(f->s, ix, NULL, &e);
		if (!fine(rc))
			fprintf(stderr, "load_index: %d %s\n", rc, e.msg);
		assert_true(fine(rc));
		corrupt += rc == DDI_ECORRUPT;
		char *out = export(f->s, "example.com.", &rc);
		free(out);
		assert_true(fine(rc));
		assert_true(fine(store_zone_list(f->s, true, ignore_zone, NULL, &e)));
		assert_true(fine(store_rrset_get(f->s, NULL, N("www.example.com."), 0, ignore_rrset, NULL, &e)));
		assert_true(fine(store_zone_walk(f->s, N("example.com."), ignore_rrset, NULL, &e)));
		store_close(f->s);
		f->s = NULL;
		/* put things back: the key written may be any valid one */
		const struct kv *orig = NULL;
		for (size_t m = 0; m < n && !orig; m++)
			if (kvs[m].zones == base->zones && kvs[m].kl == kl && memcmp(kvs[m].k, k, kl) == 0)
				orig = &kvs[m];
		if (orig)
			raw_put(f->dir, db, orig->k, orig->kl, orig->v, orig->vl);
		else
			raw_del(f->dir, db, k, kl);
	}
	assert_true(corrupt > 100);
	/* after all that, the restored store loads */
	assert_int_equal(store_open(&f->s, f->dir, NULL, &e), DDI_EOK);
	int rc = store_load_index(f->s, ix, NULL, &e);
	if (rc)
		fprintf(stderr, "load_index: %s\n", e.msg);
	assert_int_equal(rc, DDI_EOK);
	idx_free(ix);
}

/* ------------------------------------------------------------------------ */
/* Two writers at once                                                      */
/* ------------------------------------------------------------------------ */

static int commit_hosts(struct store *s, const char *actor, uint8_t third, int n)
{
	struct store_error e;
	for (int i = 0; i < n; i++) {
		uint8_t a[8];
		char name[64];
		size_t al = rd_a(a, 198, 18, third, (uint8_t)i);
		snprintf(name, sizeof(name), "h%d-%u.example.com.", i, third);
		struct store_op add = { .kind = STORE_OP_RR_ADD, .owner = N(name), .type = DNS_T_A,
		                        .ttl = 60, .count = 1, .rdatas = a, .rdatas_len = al };
		int rc = store_commit(s, NULL, actor, &add, 1, NULL, &e);
		if (rc) {
			fprintf(stderr, "%s: %s\n", actor, e.msg);
			return rc;
		}
	}
	return 0;
}

static int count_entries(void *ctx, const struct store_journal_entry *je)
{
	int *c = ctx;
	assert_int_equal(je->seq, (uint64_t)*c + 2);
	(*c)++;
	return 0;
}

static void test_concurrent(void **state)
{
	struct fx *f = *state;
	struct store_error e;
	const int n = 100;
	make_zone(f->s, SOA_EX);
	fflush(NULL);
	pid_t pid = fork();
	assert_true(pid >= 0);
	if (pid == 0) {
		/* the child must not use the parent's environment: it opens its own */
		struct store *cs;
		if (store_open(&cs, f->dir, NULL, &e) != 0)
			_exit(2);
		int rc = commit_hosts(cs, "child", 1, n);
		store_close(cs);
		_exit(rc ? 1 : 0);
	}
	int rc = commit_hosts(f->s, "parent", 2, n);
	int status;
	assert_int_equal(waitpid(pid, &status, 0), pid);
	assert_int_equal(rc, 0);
	assert_true(WIFEXITED(status));
	assert_int_equal(WEXITSTATUS(status), 0);
	/* every commit landed, each with its own seq, and the serial counted each */
	struct store_zone_info zi;
	assert_int_equal(store_zone_get(f->s, NULL, N("example.com."), true, &zi, &e), DDI_EOK);
	assert_int_equal(zi.nrrsets, 3 + 2 * (uint64_t)n);
	assert_int_equal(zi.serial, 100 + 2 * n);
	assert_int_equal(last_seq(f->s), 1 + 2 * (uint64_t)n);
	int entries = 0;
	assert_int_equal(store_journal_read(f->s, 2, 0, count_entries, &entries, &e), DDI_EOK);
	assert_int_equal(entries, 2 * n);
}

/* Threads of one process share one struct store (MDB_NOTLS). */
struct thr {
	struct store *s;
	uint8_t third;
	int rc;
};

static void *thr_main(void *arg)
{
	struct thr *t = arg;
	char actor[32];
	snprintf(actor, sizeof(actor), "thread-%u", t->third);
	t->rc = commit_hosts(t->s, actor, t->third, 50);
	return NULL;
}

static void test_threads(void **state)
{
	struct fx *f = *state;
	struct store_error e;
	pthread_t th[3];
	struct thr t[3];
	make_zone(f->s, SOA_EX);
	for (int i = 0; i < 3; i++) {
		t[i] = (struct thr){ .s = f->s, .third = (uint8_t)(10 + i) };
		assert_int_equal(pthread_create(&th[i], NULL, thr_main, &t[i]), 0);
	}
	for (int i = 0; i < 3; i++) {
		assert_int_equal(pthread_join(th[i], NULL), 0);
		assert_int_equal(t[i].rc, 0);
	}
	struct store_zone_info zi;
	assert_int_equal(store_zone_get(f->s, NULL, N("example.com."), true, &zi, &e), DDI_EOK);
	assert_int_equal(zi.nrrsets, 3 + 150);
	assert_int_equal(zi.serial, 100 + 150);
	assert_int_equal(last_seq(f->s), 151);
}

/* ------------------------------------------------------------------------ */
/* Scale: 1M records in, index built (timed; DDI_STORE_BIG=N to change N)   */
/* ------------------------------------------------------------------------ */

static double now_s(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static int count_rrsets(void *ctx, const uint8_t *owner, uint16_t type, uint32_t ttl,
                        uint16_t count, const uint8_t *rdatas, size_t len)
{
	size_t *n = ctx;
	(void)owner, (void)type, (void)ttl, (void)count, (void)rdatas, (void)len;
	(*n)++;
	return 0;
}

static void test_big(void **state)
{
	struct fx *f = *state;
	struct store_error e;
	const char *env = getenv("DDI_STORE_BIG");
	size_t n = env ? strtoul(env, NULL, 10) : 20000;
	if (n == 0)
		skip();
	size_t cap = n + 1;
	struct store_rr *rrs = calloc(cap, sizeof(*rrs));
	uint8_t *names = malloc(cap * 32), *rdata = malloc(cap * 4);
	static const uint8_t soa[] = "\1a\0\1b\0\0\0\0\1\0\0\0\2\0\0\0\3\0\0\0\4\0\0\0\5";
	assert_non_null(rrs);
	assert_non_null(names);
	assert_non_null(rdata);
	memcpy(names, N("big.test."), 10);
	rrs[0] = (struct store_rr){ .owner = names, .type = DNS_T_SOA, .ttl = 60, .rdlen = 26,
	                            .rdata = soa };
	for (size_t i = 1; i < cap; i++) {
		char s[32];
		uint8_t *nm = names + i * 32;
		snprintf(s, sizeof(s), "h%zu.big.test.", i);
		assert_true(dns_name_from_str(nm, s, strlen(s), NULL) > 0);
		uint8_t *rd = rdata + i * 4;
		rd[0] = 10;
		rd[1] = (uint8_t)(i >> 16);
		rd[2] = (uint8_t)(i >> 8);
		rd[3] = (uint8_t)i;
		rrs[i] = (struct store_rr){ .owner = nm, .type = DNS_T_A, .ttl = 60, .rdlen = 4,
		                            .rdata = rd };
	}
	struct store_op op = { .kind = STORE_OP_ZONE_REPLACE, .zone = N("big.test."), .rrs = rrs,
	                       .nrrs = cap };
	double t0 = now_s();
	int rc = store_commit(f->s, NULL, "bench", &op, 1, NULL, &e);
	if (rc)
		fprintf(stderr, "big commit: %s\n", e.msg);
	assert_int_equal(rc, DDI_EOK);
	double t1 = now_s();
	struct idx *ix = idx_new();
	assert_non_null(ix);
	assert_int_equal(store_load_index(f->s, ix, NULL, &e), DDI_EOK);
	double t2 = now_s();
	size_t seen = 0;
	assert_int_equal(store_zone_walk(f->s, N("big.test."), count_rrsets, &seen, &e), DDI_EOK);
	assert_int_equal(seen, cap);
	double t3 = now_s();
	/* the store's own share of load_index: the same read, validation and owner decoding */
	printf("# store: %zu records: commit %.3f s, load_index %.3f s (store scan alone %.3f s)\n",
	       cap, t1 - t0, t2 - t1, t3 - t2);
	rcu_register_thread();
	assert_int_equal(idx_version_nodes(idx_acquire(ix)) >= cap, 1);
	rcu_quiescent_state();
	rcu_unregister_thread();
	idx_free(ix);
	free(rrs);
	free(names);
	free(rdata);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_open_schema),
		cmocka_unit_test_setup_teardown(test_commit_validation, setup, teardown),
		cmocka_unit_test(test_limits),
		cmocka_unit_test_setup_teardown(test_journal, setup, teardown),
		cmocka_unit_test_setup_teardown(test_serial, setup, teardown),
		cmocka_unit_test_setup_teardown(test_addresses, setup, teardown),
		cmocka_unit_test_setup_teardown(test_serial_unixtime, setup, teardown),
		cmocka_unit_test_setup_teardown(test_import_export, setup, teardown),
		cmocka_unit_test_setup_teardown(test_subzones, setup, teardown),
		cmocka_unit_test_setup_teardown(test_load_index, setup, teardown),
		cmocka_unit_test_setup_teardown(test_corrupt, setup, teardown),
		cmocka_unit_test_setup_teardown(test_corrupt_random, setup, teardown),
		cmocka_unit_test_setup_teardown(test_concurrent, setup, teardown),
		cmocka_unit_test_setup_teardown(test_threads, setup, teardown),
		cmocka_unit_test_setup_teardown(test_big, setup, teardown),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
