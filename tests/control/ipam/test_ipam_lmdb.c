/* test_ipam_lmdb -- the allocations-database oracle: counts and next-free against a set, 50 concurrent allocators */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <pthread.h>

#include <cmocka.h>
#include <lmdb.h>

#include "control/ipam/ipam.h"
#include "control/ipam/lmdb.h"
#include "dns/errcode.h"
#include "dns/name.h"

struct fx {
	char dir[64];
	MDB_env *env;
	MDB_dbi dbi;
};

static uint64_t rng_state = 0x9e3779b97f4a7c15ull;
static uint64_t rnd(void)
{
	rng_state ^= rng_state >> 12;
	rng_state ^= rng_state << 25;
	rng_state ^= rng_state >> 27;
	return rng_state * 0x2545f4914f6cdd1dull;
}

static int setup(void **state)
{
	struct fx *f = calloc(1, sizeof(*f));
	MDB_txn *txn;
	assert_non_null(f);
	strcpy(f->dir, "/tmp/ddi-test-ipam-XXXXXX");
	assert_non_null(mkdtemp(f->dir));
	assert_int_equal(mdb_env_create(&f->env), 0);
	assert_int_equal(mdb_env_set_maxdbs(f->env, 4), 0);
	assert_int_equal(mdb_env_set_mapsize(f->env, (size_t)64 << 20), 0);
	assert_int_equal(mdb_env_open(f->env, f->dir, 0, 0600), 0);
	assert_int_equal(mdb_txn_begin(f->env, NULL, 0, &txn), 0);
	assert_int_equal(mdb_dbi_open(txn, "ipam_allocations", MDB_CREATE, &f->dbi), 0);
	assert_int_equal(mdb_txn_commit(txn), 0);
	*state = f;
	return 0;
}

static int teardown(void **state)
{
	struct fx *f = *state;
	char cmd[128];
	mdb_env_close(f->env);
	snprintf(cmd, sizeof(cmd), "rm -rf '%s'", f->dir);
	assert_int_equal(system(cmd), 0);
	free(f);
	return 0;
}

/* Record an allocation of `a` (a static one named after it). */
static int put_alloc(MDB_txn *txn, MDB_dbi dbi, int family, ipam_u128 a)
{
	struct ipam_alloc al;
	uint8_t key[IPAM_KEY_MAX], val[IPAM_VALUE_MAX];
	char name[64];
	ipam_alloc_init(&al);
	al.family = (uint8_t)family;
	ipam_addr_from_u128(family, a, al.addr);
	snprintf(name, sizeof(name), "h%llx.example.", (unsigned long long)a);
	al.name_len = (uint8_t)dns_name_from_str(al.name, name, strlen(name), NULL);
	int n = ipam_alloc_encode(&al, val, sizeof(val));
	assert_true(n > 0);
	MDB_val k = {.mv_size = ipam_alloc_key(family, al.addr, key), .mv_data = key};
	MDB_val d = {.mv_size = (size_t)n, .mv_data = val};
	return mdb_put(txn, dbi, &k, &d, MDB_NOOVERWRITE);
}

static void del_alloc(MDB_txn *txn, MDB_dbi dbi, int family, ipam_u128 a)
{
	uint8_t key[IPAM_KEY_MAX], addr[16];
	ipam_addr_from_u128(family, a, addr);
	MDB_val k = {.mv_size = ipam_alloc_key(family, addr, key), .mv_data = key};
	assert_int_equal(mdb_del(txn, dbi, &k, NULL), 0);
}

/* Random allocate/release in one prefix, v4 and v6 side by side in one database. */
static void lmdb_run(struct fx *f, const char *prefix, int steps)
{
	struct ipam_cidr c;
	assert_int_equal(ipam_cidr_parse(prefix, &c, NULL), DDI_EOK);
	ipam_u128 first, last;
	ipam_cidr_usable(&c, &first, &last);
	size_t size = (size_t)(last - first + 1);
	bool *used = calloc(size, 1);
	size_t nused = 0;
	MDB_txn *txn;
	assert_int_equal(mdb_txn_begin(f->env, NULL, 0, &txn), 0);
	/* Neighbours outside the prefix, and the other family, hold allocations too. */
	assert_int_equal(put_alloc(txn, f->dbi, c.family, ipam_cidr_first(&c) - 1), 0);
	assert_int_equal(put_alloc(txn, f->dbi, c.family, ipam_cidr_last(&c) + 1), 0);
	struct ipam_lmdb l = {.txn = txn, .dbi = f->dbi};
	for (int step = 0; step < steps; step++) {
		uint8_t out[16];
		if (nused == 0 || rnd() % 3 != 0) {
			size_t want = 0;
			while (want < size && used[want])
				want++;
			int r = ipam_next_free_checked(&ipam_lmdb_ops, &l, &c, NULL, 0, ipam_lmdb_taken, &l, out);
			if (want == size) {
				assert_int_equal(r, DDI_EFULL);
				continue;
			}
			assert_int_equal(r, DDI_EOK);
			assert_true(ipam_addr_to_u128(c.family, out) == first + want);
			assert_int_equal(put_alloc(txn, f->dbi, c.family, first + want), 0);
			used[want] = true;
			nused++;
		} else {
			size_t i = (size_t)(rnd() % size);
			while (!used[i])
				i = (i + 1) % size;
			del_alloc(txn, f->dbi, c.family, first + i);
			used[i] = false;
			nused--;
		}
		struct ipam_util u;
		assert_int_equal(ipam_utilization(&ipam_lmdb_ops, &l, &c, &u), DDI_EOK);
		assert_true(u.used == nused);
	}
	assert_int_equal(l.err, 0);
	mdb_txn_abort(txn);
	free(used);
}

static void test_lmdb_oracle(void **state)
{
	struct fx *f = *state;
	lmdb_run(f, "198.18.0.0/24", 1500);
	lmdb_run(f, "198.18.0.0/28", 200);
	lmdb_run(f, "198.18.0.4/31", 20);
	lmdb_run(f, "198.18.0.9/32", 20);
	lmdb_run(f, "2001:2::/120", 1500);
	lmdb_run(f, "2001:2::4/127", 20);
	lmdb_run(f, "2001:2::9/128", 20);

	/* taken() and the store's read side. */
	MDB_txn *txn;
	uint8_t a[16];
	int fam;
	assert_int_equal(mdb_txn_begin(f->env, NULL, 0, &txn), 0);
	ipam_addr_parse("198.18.0.7", &fam, a, NULL);
	struct ipam_lmdb l = {.txn = txn, .dbi = f->dbi};
	assert_false(ipam_lmdb_taken(&l, 4, a));
	assert_int_equal(put_alloc(txn, f->dbi, 4, ipam_addr_to_u128(4, a)), 0);
	assert_true(ipam_lmdb_taken(&l, 4, a));
	a[3] = 8;
	assert_false(ipam_lmdb_taken(&l, 4, a));
	mdb_txn_abort(txn);
}

/*
 * 50 allocators at once, each: one write transaction that finds the next
 * free address (checked against the store) and records it. LMDB's single
 * writer serializes them, so all 50 addresses differ and are the lowest 50.
 */
struct worker {
	struct fx *f;
	struct ipam_cidr c;
	ipam_u128 got;
	int rc;
};

static void *alloc_one(void *arg)
{
	struct worker *w = arg;
	MDB_txn *txn;
	uint8_t out[16];
	w->rc = mdb_txn_begin(w->f->env, NULL, 0, &txn);
	if (w->rc != 0)
		return NULL;
	struct ipam_lmdb l = {.txn = txn, .dbi = w->f->dbi};
	w->rc = ipam_next_free_checked(&ipam_lmdb_ops, &l, &w->c, NULL, 0, ipam_lmdb_taken, &l, out);
	if (w->rc == DDI_EOK) {
		w->got = ipam_addr_to_u128(w->c.family, out);
		w->rc = put_alloc(txn, w->f->dbi, w->c.family, w->got);
	}
	if (w->rc == 0)
		w->rc = mdb_txn_commit(txn);
	else
		mdb_txn_abort(txn);
	return NULL;
}

static void test_concurrent(void **state)
{
	struct fx *f = *state;
	struct worker w[50];
	pthread_t th[50];
	struct ipam_cidr c;
	assert_int_equal(ipam_cidr_parse("198.18.1.0/26", &c, NULL), DDI_EOK);
	for (int i = 0; i < 50; i++) {
		w[i] = (struct worker){.f = f, .c = c};
		assert_int_equal(pthread_create(&th[i], NULL, alloc_one, &w[i]), 0);
	}
	bool seen[64] = {false};
	for (int i = 0; i < 50; i++) {
		assert_int_equal(pthread_join(th[i], NULL), 0);
		assert_int_equal(w[i].rc, 0);
		size_t off = (size_t)(w[i].got - ipam_cidr_first(&c));
		assert_true(off >= 1 && off <= 50);
		assert_false(seen[off]);
		seen[off] = true;
	}
	/* 62 usable: 12 left, then full. */
	for (int i = 0; i < 13; i++) {
		struct worker x = {.f = f, .c = c};
		alloc_one(&x);
		assert_int_equal(x.rc, i < 12 ? 0 : DDI_EFULL);
	}
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_lmdb_oracle, setup, teardown),
		cmocka_unit_test_setup_teardown(test_concurrent, setup, teardown),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
