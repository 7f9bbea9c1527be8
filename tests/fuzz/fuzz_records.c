/* fuzz_records -- values read back from LMDB as hostile input: journal entries, differences, keys, policies, IPAM records */
/*
 * The store validates everything it reads (control/store/store.h): a value
 * written by an older or broken build, or by someone with the file, must
 * give DDI_ECORRUPT naming it, never a crash. The harness writes the input
 * as the value of a real key of the scratch store (through the store's own
 * environment: control/store/internal.h), reads it back through the public
 * read path, and deletes it again, so every input starts from the same store.
 *
 * The first input byte chooses the database: 0 journal, 1 diffs, 2 keys,
 * 3 policies, 4 IPAM prefixes, 5 IPAM allocations; the rest is the value.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <lmdb.h>

#include "control/ipam/ipam.h"
#include "control/store/internal.h"
#include "control/store/store.h"
#include "dns/errcode.h"
#include "tests/fuzz/fuzz_store.h"

static int journal_cb(void *ctx, const struct store_journal_entry *e)
{
	(void)ctx;
	for (size_t i = 0; i < e->nops; i++)   /* what was accepted is read in full */
		if (dns_name_check(e->ops[i].zone, DNS_NAME_MAXLEN) <= 0)
			__builtin_trap();
	return 0;
}

static int diff_cb(void *ctx, const struct store_diff *d)
{
	(void)ctx;
	size_t off = 0;
	struct store_rr rr;
	uint32_t n = 0;
	while (store_diff_rr_next(d, &off, &rr) == 1)
		n++;
	if (n != d->nrem + d->nadd)   /* validated means: exactly the RRs it announces */
		__builtin_trap();
	return 0;
}

static int value_cb(void *ctx, const uint8_t *name, const char *json, size_t len)
{
	(void)ctx, (void)name, (void)json, (void)len;
	return 0;
}

static int prefix_cb(void *ctx, const struct ipam_prefix *p)
{
	(void)ctx;
	if (!ipam_cidr_valid(&p->cidr))
		__builtin_trap();
	return 0;
}

static int alloc_cb(void *ctx, const struct ipam_alloc *a)
{
	(void)ctx, (void)a;
	return 0;
}

static int ipam_walks(void *ctx, struct store_ipam *t)
{
	(void)ctx;
	store_ipam_prefix_walk(t, NULL, prefix_cb, NULL);
	store_ipam_alloc_walk(t, NULL, alloc_cb, NULL);
	return 0;
}

/* The key the value is written under, in the database `which` chooses. */
static size_t make_key(struct store *s, unsigned which, MDB_dbi *dbi, uint8_t *key)
{
	static const uint8_t apex[] = "\003ddi\004test";
	switch (which) {
	case 0:   /* a sequence past every real entry */
		*dbi = s->journal;
		put64(key, (uint64_t)1 << 40);
		return 8;
	case 1: { /* ddi.test.'s differences, a sequence past every real one */
		*dbi = s->diffs;
		size_t n = zkey_make(key, apex);
		put64(key + n, (uint64_t)1 << 40);
		return n + 8;
	}
	case 2:
	case 3: { /* a key name that exists nowhere else */
		static const uint8_t kn[] = "\002fz\003key";
		*dbi = which == 2 ? s->keys : s->policies;
		return zkey_make(key, kn);
	}
	case 4: { /* 198.18.99.0/24 */
		struct ipam_cidr c = { .family = 4, .plen = 24, .addr = { 198, 18, 99, 0 } };
		*dbi = s->ipam_prefixes;
		return ipam_prefix_key(&c, key);
	}
	default: {
		uint8_t a[16] = { 198, 18, 99, 7 };
		*dbi = s->ipam_allocs;
		return ipam_alloc_key(4, a, key);
	}
	}
}

static void read_back(struct store *s, unsigned which)
{
	static const uint8_t apex[] = "\003ddi\004test";
	struct store_error e;
	switch (which) {
	case 0: store_journal_read(s, (uint64_t)1 << 40, 0, journal_cb, NULL, &e); break;
	case 1: store_diff_walk(s, NULL, apex, diff_cb, NULL, &e); break;
	case 2: store_key_walk(s, NULL, value_cb, NULL, &e); break;
	case 3: store_policy_walk(s, NULL, value_cb, NULL, &e); break;
	default: store_ipam_read(s, ipam_walks, NULL, &e); break;
	}
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct store *s = fuzz_store();
	if (size < 2 || size > 65536)
		return 0;
	unsigned which = data[0] % 6;
	uint8_t key[512];
	MDB_dbi dbi;
	size_t klen = make_key(s, which, &dbi, key);
	MDB_val k = { klen, key }, v = { size - 1, (void *)(data + 1) };
	MDB_txn *txn;
	if (mdb_txn_begin(s->env, NULL, 0, &txn) != 0)
		abort();
	int rc = mdb_put(txn, dbi, &k, &v, 0);
	if (rc == 0)
		rc = mdb_txn_commit(txn);
	else
		mdb_txn_abort(txn);
	if (rc != 0)
		return 0;   /* LMDB refused the value itself (MDB_BAD_VALSIZE...): nothing to read */
	read_back(s, which);
	if (mdb_txn_begin(s->env, NULL, 0, &txn) != 0)
		abort();
	mdb_del(txn, dbi, &k, NULL);
	if (mdb_txn_commit(txn) != 0)
		abort();
	return 0;
}
