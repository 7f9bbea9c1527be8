/* test_load -- store_load_index on a corrupt store: values cut and flipped are refused or loaded, never a crash; a data file cut short is refused */
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
#include <urcu-qsbr.h>

#include "control/store/store.h"
#include "dns/errcode.h"
#include "dns/name.h"
#include "dns/rdata.h"
#include "dns/wire.h"
#include "index/index.h"
#include "index/snapshot.h"

#define MAP_SIZE (64u << 20)

struct kv {
	const char *db;
	uint8_t k[300], v[600];
	size_t kl, vl;
};

struct fx {
	char dir[64];
	struct kv kvs[64];
	size_t n;
};

static const uint8_t *N(const char *s)
{
	static uint8_t bufs[16][DNS_NAME_MAXLEN];
	static unsigned i;
	uint8_t *b = bufs[i++ & 15];
	assert_true(dns_name_from_str(b, s, strlen(s), NULL) > 0);
	return b;
}

/* Flat [rdlen rdata] from presentation rdata (one field or several, space-separated). */
static size_t rd(uint8_t *out, uint16_t type, const char *text)
{
	char buf[256], *fields[8], *save = NULL, err[128];
	bool quoted[8] = { false };
	int n = 0;
	snprintf(buf, sizeof(buf), "%s", text);
	for (char *t = strtok_r(buf, " ", &save); t && n < 8; t = strtok_r(NULL, " ", &save))
		fields[n++] = t;
	int len = dns_rdata_from_str(out + 2, 400, type, (const char *const *)fields, quoted, n, NULL,
	                             err, sizeof(err));
	assert_true(len >= 0);
	dns_put16(out, (uint16_t)len);
	return 2 + (size_t)len;
}

/* One zone with a value of each kind of rdata the loader sees. */
static void fill(struct store *s)
{
	static const struct { const char *owner; uint16_t type; const char *rdata; } rr[] = {
		{ "example.com.", DNS_T_SOA, "ns1.example.com. hostmaster.example.com. 1 3600 900 1209600 300" },
		{ "example.com.", DNS_T_NS, "ns1.example.com." },
		{ "example.com.", DNS_T_MX, "10 mail.example.com." },
		{ "example.com.", DNS_T_TXT, "v=spf1" },
		{ "ns1.example.com.", DNS_T_A, "198.18.0.53" },
		{ "www.example.com.", DNS_T_AAAA, "2001:2::80" },
		{ "alias.example.com.", DNS_T_CNAME, "www.example.com." },
		{ "_sip._udp.example.com.", DNS_T_SRV, "0 5 5060 sip.example.com." },
		{ "sub.example.com.", DNS_T_NS, "ns.sub.example.com." },
	};
	enum { NRR = sizeof(rr) / sizeof(rr[0]) };
	static uint8_t rdata[NRR][512];
	struct store_op ops[NRR + 1] = { { .kind = STORE_OP_ZONE_ADD, .zone = N("example.com.") } };
	for (size_t i = 0; i < NRR; i++) {
		size_t l = rd(rdata[i], rr[i].type, rr[i].rdata);
		ops[i + 1] = (struct store_op){ .kind = STORE_OP_RRSET_REPLACE,
		                                .owner = N(rr[i].owner), .type = rr[i].type,
		                                .ttl = 300, .count = 1, .rdatas = rdata[i],
		                                .rdatas_len = l };
	}
	struct store_error e;
	uint64_t seq;
	int rc = store_commit(s, NULL, "test:setup", ops, NRR + 1, &seq, &e);
	if (rc)
		fprintf(stderr, "fill: %s\n", e.msg);
	assert_int_equal(rc, DDI_EOK);
}

static void raw(const char *dir, const char *db, const struct kv *kv, const uint8_t *v, size_t vl)
{
	MDB_env *env;
	MDB_txn *txn;
	MDB_dbi dbi;
	assert_int_equal(mdb_env_create(&env), 0);
	assert_int_equal(mdb_env_set_maxdbs(env, 16), 0);
	assert_int_equal(mdb_env_set_mapsize(env, MAP_SIZE), 0);
	assert_int_equal(mdb_env_open(env, dir, MDB_NOTLS, 0640), 0);
	assert_int_equal(mdb_txn_begin(env, NULL, 0, &txn), 0);
	assert_int_equal(mdb_dbi_open(txn, db, 0, &dbi), 0);
	MDB_val key = { kv->kl, (void *)kv->k }, val = { vl, (void *)v };
	assert_int_equal(mdb_put(txn, dbi, &key, &val, 0), 0);
	assert_int_equal(mdb_txn_commit(txn), 0);
	mdb_env_close(env);
}

/* Every entry of the zones and rrsets databases, as written by the store. */
static void snapshot(struct fx *f)
{
	static const char *const dbs[] = { "zones", "rrsets" };
	MDB_env *env;
	MDB_txn *txn;
	assert_int_equal(mdb_env_create(&env), 0);
	assert_int_equal(mdb_env_set_maxdbs(env, 16), 0);
	assert_int_equal(mdb_env_open(env, f->dir, MDB_NOTLS | MDB_RDONLY, 0640), 0);
	assert_int_equal(mdb_txn_begin(env, NULL, MDB_RDONLY, &txn), 0);
	for (size_t d = 0; d < 2; d++) {
		MDB_dbi dbi;
		MDB_cursor *cur;
		MDB_val k, v;
		assert_int_equal(mdb_dbi_open(txn, dbs[d], 0, &dbi), 0);
		assert_int_equal(mdb_cursor_open(txn, dbi, &cur), 0);
		for (int rc = mdb_cursor_get(cur, &k, &v, MDB_FIRST); rc == 0;
		     rc = mdb_cursor_get(cur, &k, &v, MDB_NEXT)) {
			assert_true(f->n < 64 && k.mv_size <= 300 && v.mv_size <= 600);
			struct kv *kv = &f->kvs[f->n++];
			kv->db = dbs[d];
			memcpy(kv->k, k.mv_data, kv->kl = k.mv_size);
			memcpy(kv->v, v.mv_data, kv->vl = v.mv_size);
		}
		mdb_cursor_close(cur);
	}
	mdb_txn_abort(txn);
	mdb_env_close(env);
}

static int setup(void **state)
{
	struct fx *f = calloc(1, sizeof(*f));
	struct store_options o = { .create = true, .map_size = MAP_SIZE };
	struct store_error e;
	struct store *s;
	snprintf(f->dir, sizeof(f->dir), "/tmp/ddi-test-load.XXXXXX");
	if (!f || !mkdtemp(f->dir) || store_open(&s, f->dir, &o, &e) != DDI_EOK)
		return -1;
	fill(s);
	store_close(s);
	snapshot(f);
	*state = f;
	return 0;
}

static int teardown(void **state)
{
	struct fx *f = *state;
	char cmd[128];
	snprintf(cmd, sizeof(cmd), "rm -rf '%s'", f->dir);
	assert_int_equal(system(cmd), 0);
	free(f);
	return 0;
}

/* Load the store as it is on disk into ix; the error text in *e. */
static int load(struct fx *f, struct idx *ix, struct store_load_stats *st, struct store_error *e)
{
	struct store *s;
	assert_int_equal(store_open(&s, f->dir, NULL, e), DDI_EOK);
	int rc = store_load_index_stats(s, ix, NULL, st, e);
	store_close(s);
	return rc;
}

static size_t nodes(struct idx *ix)
{
	rcu_register_thread();
	size_t n = idx_version_nodes(idx_acquire(ix));
	rcu_quiescent_state();
	rcu_unregister_thread();
	return n;
}

/* The intact store loads, and says what it loaded. */
static void test_load_intact(void **state)
{
	struct fx *f = *state;
	struct store_error e;
	struct store_load_stats st;
	struct idx *ix = idx_new();
	assert_int_equal(load(f, ix, &st, &e), DDI_EOK);
	assert_int_equal(st.zones, 1);
	assert_int_equal(st.rrsets, 9);
	assert_int_equal(st.rrs, 9);
	assert_true(st.released_kb > 0);   /* the map's pages were given back */
	assert_true(nodes(ix) >= 7);   /* 6 owners and the ENT _udp */
	idx_free(ix);
}

/*
 * Each value cut short at every length: the framing of every value fixes
 * its length (the count of rdatas, each rdlen, the zone's apex name), so
 * each cut is refused with a message naming the database, and the index
 * keeps what it held.
 */
static void test_load_truncated(void **state)
{
	struct fx *f = *state;
	struct store_error e;
	struct idx *ix = idx_new();
	assert_int_equal(load(f, ix, NULL, &e), DDI_EOK);
	size_t held = nodes(ix), cuts = 0;
	for (size_t i = 0; i < f->n; i++) {
		const struct kv *kv = &f->kvs[i];
		for (size_t l = 0; l < kv->vl; l++) {
			raw(f->dir, kv->db, kv, kv->v, l);
			int rc = load(f, ix, NULL, &e);
			if (rc != DDI_ECORRUPT)
				fprintf(stderr, "%s value %zu cut to %zu bytes: %d %s\n", kv->db, i, l, rc,
				        e.msg);
			assert_int_equal(rc, DDI_ECORRUPT);
			assert_non_null(strstr(e.msg, kv->db));
			assert_int_equal(nodes(ix), held);
			cuts++;
		}
		raw(f->dir, kv->db, kv, kv->v, kv->vl);
	}
	assert_true(cuts > 100);
	assert_int_equal(load(f, ix, NULL, &e), DDI_EOK);
	idx_free(ix);
}

/*
 * Each byte of each value flipped three ways: the load either takes the
 * value (an address or a TTL changed is still a valid value) or refuses
 * it (DDI_ECORRUPT), never anything else; under ASan and UBSan, never a
 * read out of bounds. A name inside rdata that no longer parses is refused.
 */
static void test_load_flipped(void **state)
{
	static const uint8_t masks[] = { 0x01, 0x80, 0xff };
	struct fx *f = *state;
	struct store_error e;
	struct idx *ix = idx_new();
	size_t refused = 0, taken = 0;
	for (size_t i = 0; i < f->n; i++) {
		const struct kv *kv = &f->kvs[i];
		uint8_t v[600];
		for (size_t b = 0; b < kv->vl; b++) {
			for (size_t m = 0; m < sizeof(masks); m++) {
				memcpy(v, kv->v, kv->vl);
				v[b] ^= masks[m];
				raw(f->dir, kv->db, kv, v, kv->vl);
				int rc = load(f, ix, NULL, &e);
				assert_true(rc == DDI_EOK || rc == DDI_ECORRUPT);
				refused += rc == DDI_ECORRUPT;
				taken += rc == DDI_EOK;
			}
		}
		raw(f->dir, kv->db, kv, kv->v, kv->vl);
	}
	assert_true(refused > 100);
	assert_true(taken > 10);
	/* a name in rdata with a label length past its end: refused, named */
	for (size_t i = 0; i < f->n; i++) {
		const struct kv *kv = &f->kvs[i];
		/* the CNAME's value: ttl(4) count(2) rdlen(2), then the name */
		if (strcmp(kv->db, "rrsets") != 0 || kv->kl < 2 ||
		    dns_get16(kv->k + kv->kl - 2) != DNS_T_CNAME)
			continue;
		uint8_t v[600];
		memcpy(v, kv->v, kv->vl);
		v[8] = 63;
		raw(f->dir, kv->db, kv, v, kv->vl);
		assert_int_equal(load(f, ix, NULL, &e), DDI_ECORRUPT);
		assert_non_null(strstr(e.msg, "does not validate"));
		raw(f->dir, kv->db, kv, kv->v, kv->vl);
	}
	assert_int_equal(load(f, ix, NULL, &e), DDI_EOK);
	idx_free(ix);
}

/* A data file cut short is refused by store_open (LMDB alone would SIGBUS reading it). */
static void test_load_file_cut(void **state)
{
	struct fx *f = *state;
	char path[96];
	struct store_error e;
	struct store *s = NULL;
	snprintf(path, sizeof(path), "%s/data.mdb", f->dir);
	assert_int_equal(truncate(path, 3 * 4096), 0);
	assert_int_equal(store_open(&s, f->dir, NULL, &e), DDI_ECORRUPT);
	assert_null(s);
	assert_non_null(strstr(e.msg, "cut short"));
	assert_non_null(strstr(e.msg, f->dir));
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_load_intact, setup, teardown),
		cmocka_unit_test_setup_teardown(test_load_truncated, setup, teardown),
		cmocka_unit_test_setup_teardown(test_load_flipped, setup, teardown),
		cmocka_unit_test_setup_teardown(test_load_file_cut, setup, teardown),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
