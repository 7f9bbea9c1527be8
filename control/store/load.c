/* store/load -- store_load_index: the whole store into the index in one pass */
#include <stdlib.h>
#include <inttypes.h>
#include <stdio.h>
#include <string.h>
#include <sys/mman.h>
#include <time.h>

#include <jansson.h>
#include <lmdb.h>

#include "control/store/internal.h"
#include "dns/errcode.h"
#include "dns/rdata.h"
#include "index/snapshot.h"

/* ------------------------------------------------------------------------ */
/* Index load                                                               */
/* ------------------------------------------------------------------------ */

/* memcmp order, then length (LMDB's default key order). */
static int memn_cmp(const uint8_t *a, size_t al, const uint8_t *b, size_t bl)
{
	int r = memcmp(a, b, al < bl ? al : bl);
	return r ? r : (al > bl) - (al < bl);
}

/*
 * True when some zone (keys: K(apex) in order) is at or above the owner
 * key. *last caches the zone found last: consecutive owners share it.
 */
static bool zones_hold(const struct keylist *zk, size_t *last, const uint8_t *ok, size_t oklen)
{
	if (*last < zk->n) {
		size_t l = zk->off[*last + 1] - zk->off[*last];
		if (l <= oklen && memcmp(zk->arena + zk->off[*last], ok, l) == 0)
			return true;
	}
	for (size_t l = oklen + 1; l-- > 0;) {
		if (l > 0 && ok[l - 1] != 0)
			continue;   /* not a label boundary */
		size_t lo = 0, hi = zk->n;
		while (lo < hi) {
			size_t mid = lo + (hi - lo) / 2;
			int r = memn_cmp(zk->arena + zk->off[mid], zk->off[mid + 1] - zk->off[mid], ok, l);
			if (r == 0) {
				*last = mid;
				return true;
			}
			if (r < 0)
				lo = mid + 1;
			else
				hi = mid;
		}
	}
	return false;
}

/* The apexes of the zones an index holds (to empty it before a reload). */
struct apexes {
	size_t n, cap;
	uint8_t (*v)[DNS_NAME_MAXLEN];
};

static int apex_cb(void *ctx, const struct idx_node *n)
{
	struct apexes *a = ctx;
	if (!(n->flags & IDX_NODE_APEX))
		return 0;
	if (a->n == a->cap) {
		size_t nc = a->cap ? a->cap * 2 : 16;
		void *nv = realloc(a->v, nc * sizeof(*a->v));
		if (!nv)
			return DDI_ENOMEM;
		a->v = nv;
		a->cap = nc;
	}
	idx_node_owner(n, a->v[a->n++]);
	return 0;
}

static uint64_t mono_ns(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000000u + (uint64_t)ts.tv_nsec;
}

/* Empty the index first: a reload replaces everything (deepest zones first). */
static int load_empty(struct idx_txn *t, struct store_error *err)
{
	struct apexes ap = { 0 };
	int rc = idx_walk(idx_txn_version(t), NULL, 0, apex_cb, &ap);
	for (size_t i = ap.n; rc == 0 && i-- > 0;)
		rc = idx_txn_zone_del(t, ap.v[i]);
	free(ap.v);
	if (rc)
		return seterr(err, rc, -1, "emptying the index: %s", ddi_strerror(rc));
	return DDI_EOK;
}

/* Every zone into the index, its key into zk (in key order). */
static int load_zones(struct store *s, MDB_txn *txn, struct idx_txn *t, struct keylist *zk,
                      struct store_load_stats *st, struct store_error *err)
{
	char hb[128];
	MDB_cursor *cur;
	MDB_val k, v;
	struct zrec z;
	int rc;

	if ((rc = mdb_cursor_open(txn, s->zones, &cur)) != 0)
		return mdb_fail(err, rc, "zones");
	for (rc = mdb_cursor_get(cur, &k, &v, MDB_FIRST); rc == 0;
	     rc = mdb_cursor_get(cur, &k, &v, MDB_NEXT)) {
		if (!zrec_parse(&k, &v, &z)) {
			rc = seterr(err, DDI_ECORRUPT, -1, "zones entry %s does not validate",
			            khex(hb, k.mv_data, k.mv_size));
			goto done;
		}
		if (keylist_add(zk, k.mv_data, k.mv_size - 1) != 0) {
			rc = seterr(err, DDI_ENOMEM, -1, "out of memory");
			goto done;
		}
		if ((rc = idx_txn_zone_add(t, z.apex)) != 0) {
			char nb[DNS_NAME_STRLEN];
			rc = seterr(err, rc == DDI_ENOMEM ? rc : DDI_ECORRUPT, -1,
			            "the index refuses zone %s: %s", nstr(nb, z.apex), ddi_strerror(rc));
			goto done;
		}
		st->zones++;
	}
	rc = rc == MDB_NOTFOUND ? DDI_EOK : mdb_fail(err, rc, "zones");
done:
	mdb_cursor_close(cur);
	return rc;
}

/* Every RRset, in key order (the index's bulk load order: one pass, no lookups). */
static int load_rrsets(struct store *s, MDB_txn *txn, struct idx_txn *t,
                       const struct keylist *zk, struct store_load_stats *st,
                       const void **inmap, struct store_error *err)
{
	char hb[128];
	size_t zlast = SIZE_MAX;
	MDB_cursor *cur;
	MDB_val k, v;
	struct rread *r = malloc(sizeof(*r));
	int rc;

	if (!r)
		return seterr(err, DDI_ENOMEM, -1, "out of memory");
	r->oklen = SIZE_MAX;
	if ((rc = mdb_cursor_open(txn, s->rrsets, &cur)) != 0) {
		free(r);
		return mdb_fail(err, rc, "rrsets");
	}
	for (rc = mdb_cursor_get(cur, &k, &v, MDB_FIRST); rc == 0;
	     rc = mdb_cursor_get(cur, &k, &v, MDB_NEXT)) {
		if ((rc = rread_entry(r, &k, &v, err)) != 0)
			goto done;
		if (!zones_hold(zk, &zlast, r->okey, r->oklen)) {
			rc = seterr(err, DDI_ECORRUPT, -1, "rrsets key %s is in no zone",
			            khex(hb, k.mv_data, k.mv_size));
			goto done;
		}
		rc = idx_txn_bulk_rrset(t, r->owner, r->type, r->val.ttl, r->val.count, r->val.rdatas,
		                        r->val.len);
		if (rc) {
			/* what the store holds must never be refused: it was checked on the way in */
			char nb[DNS_NAME_STRLEN];
			rc = seterr(err, rc == DDI_ENOMEM ? rc : DDI_ECORRUPT, -1,
			            "the index refuses rrsets key %s (%s %s): %s",
			            khex(hb, k.mv_data, k.mv_size), nstr(nb, r->owner),
			            dns_type_name(r->type), ddi_strerror(rc));
			goto done;
		}
		st->rrsets++;
		st->rrs += r->val.count;
		*inmap = v.mv_data;
	}
	rc = rc == MDB_NOTFOUND ? DDI_EOK : mdb_fail(err, rc, "rrsets");
done:
	mdb_cursor_close(cur);
	free(r);
	return rc;
}

/*
 * Unmap the LMDB map from this process: its pages stay in the page cache
 * and fault back in when read. `inmap` is a value read in the load (LMDB
 * returns values as pointers into its read-only map): the mapping that
 * holds it, in /proc/self/maps, is the map (mdb_env_info's me_mapaddr is
 * set only for MDB_FIXEDMAP, so LMDB does not say). Returns the KiB released: the
 * part of the map up to the last page the store uses
 * (0 when it is not found or madvise refuses; the load has succeeded
 * anyway, the pages just stay).
 */
static uint64_t map_release(struct store *s, const void *inmap)
{
	MDB_envinfo info;
	MDB_stat ms;
	char *line = NULL, perm[5];
	size_t cap = 0;
	uintptr_t p = (uintptr_t)inmap, lo, hi;
	uint64_t kb = 0;
	FILE *f = inmap ? fopen("/proc/self/maps", "re") : NULL;
	if (!f)
		return 0;
	/* the part of the map that holds pages (the rest was never touched) */
	uint64_t used = UINT64_MAX;
	if (mdb_env_info(s->env, &info) == 0 && mdb_env_stat(s->env, &ms) == 0)
		used = ((uint64_t)info.me_last_pgno + 1) * ms.ms_psize;
	while (getline(&line, &cap, f) > 0) {
		if (sscanf(line, "%" SCNxPTR "-%" SCNxPTR " %4s", &lo, &hi, perm) != 3 || p < lo ||
		    p >= hi)
			continue;
		/* only a read-only shared mapping: never anything a write could lose */
		size_t len = hi - lo < used ? hi - lo : (size_t)used;
		if (strcmp(perm, "r--s") == 0 &&
		    madvise((void *)lo, len, MADV_DONTNEED) == 0)
			kb = len / 1024;
		break;
	}
	free(line);
	fclose(f);
	return kb;
}

int store_load_index_stats(struct store *s, struct idx *ix, uint64_t *seqp,
                           struct store_load_stats *stp, struct store_error *err)
{
	struct store_load_stats st = { 0 };
	struct keylist zk = { 0 };
	struct idx_txn *t = NULL;
	const void *inmap = NULL;
	MDB_txn *txn;
	uint64_t next, t0 = mono_ns();
	int rc;

	clearerr_(err);
	if ((rc = txn_begin(s, MDB_RDONLY, &txn)) != 0)
		return mdb_fail(err, rc, "read transaction");
	if ((rc = meta_get64(s, txn, "next_seq", &next, err)) != 0)
		goto out;
	if (next == 0) {
		rc = seterr(err, DDI_ECORRUPT, -1, "meta next_seq is 0");
		goto out;
	}
	if (!(t = idx_txn_begin(ix))) {
		rc = seterr(err, DDI_ENOMEM, -1, "out of memory");
		goto out;
	}
	if ((rc = load_empty(t, err)) != 0 || (rc = load_zones(s, txn, t, &zk, &st, err)) != 0 ||
	    (rc = load_rrsets(s, txn, t, &zk, &st, &inmap, err)) != 0)
		goto out;
	uint64_t t1 = mono_ns();
	st.scan_ns = t1 - t0;
	if ((rc = idx_txn_bulk_end(t)) != DDI_EOK) {
		rc = seterr(err, rc == DDI_ENOMEM ? rc : DDI_ECORRUPT, -1, "building the index: %s",
		            ddi_strerror(rc));
		goto out;
	}
	uint64_t t2 = mono_ns();
	st.build_ns = t2 - t1;
	rc = idx_txn_commit(t, next - 1);
	t = NULL;
	st.publish_ns = mono_ns() - t2;
	if (rc)
		seterr(err, rc, -1, "index commit: %s", ddi_strerror(rc));
	else if (seqp)
		*seqp = next - 1;
out:
	if (t)
		idx_txn_abort(t);
	mdb_txn_abort(txn);
	keylist_free(&zk);
	if (rc == DDI_EOK)
		st.released_kb = map_release(s, inmap);
	if (stp)
		*stp = st;
	return rc;
}

int store_load_index(struct store *s, struct idx *ix, uint64_t *seqp, struct store_error *err)
{
	return store_load_index_stats(s, ix, seqp, NULL, err);
}
