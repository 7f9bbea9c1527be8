/* store/load -- store_load_index: the whole store into the index in one pass */
#include <stdlib.h>
#include <string.h>

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

int store_load_index(struct store *s, struct idx *ix, uint64_t *seqp, struct store_error *err)
{
	char hb[128];
	struct keylist zk = { 0 };
	size_t zlast = SIZE_MAX;
	MDB_txn *txn;
	MDB_cursor *cur = NULL;
	MDB_val k, v;
	struct zrec z;
	struct rread *r = NULL;
	struct idx_txn *t = NULL;
	uint64_t next;
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
	r = malloc(sizeof(*r));
	t = idx_txn_begin(ix);
	if (!r || !t) {
		rc = seterr(err, DDI_ENOMEM, -1, "out of memory");
		goto out;
	}
	r->oklen = SIZE_MAX;

	/* a reload replaces everything: the zones the index holds go first (deepest first) */
	{
		struct apexes ap = { 0 };
		rc = idx_walk(idx_txn_version(t), NULL, 0, apex_cb, &ap);
		for (size_t i = ap.n; rc == 0 && i-- > 0;)
			rc = idx_txn_zone_del(t, ap.v[i]);
		free(ap.v);
		if (rc) {
			rc = seterr(err, rc, -1, "emptying the index: %s", ddi_strerror(rc));
			goto out;
		}
	}

	if ((rc = mdb_cursor_open(txn, s->zones, &cur)) != 0) {
		rc = mdb_fail(err, rc, "zones");
		goto out;
	}
	for (rc = mdb_cursor_get(cur, &k, &v, MDB_FIRST); rc == 0;
	     rc = mdb_cursor_get(cur, &k, &v, MDB_NEXT)) {
		if (!zrec_parse(&k, &v, &z)) {
			rc = seterr(err, DDI_ECORRUPT, -1, "zones entry %s does not validate",
			            khex(hb, k.mv_data, k.mv_size));
			goto out;
		}
		if (keylist_add(&zk, k.mv_data, k.mv_size - 1) != 0) {
			rc = seterr(err, DDI_ENOMEM, -1, "out of memory");
			goto out;
		}
		if ((rc = idx_txn_zone_add(t, z.apex)) != 0) {
			char nb[DNS_NAME_STRLEN];
			rc = seterr(err, rc == DDI_ENOMEM ? rc : DDI_ECORRUPT, -1,
			            "the index refuses zone %s: %s", nstr(nb, z.apex), ddi_strerror(rc));
			goto out;
		}
	}
	if (rc != MDB_NOTFOUND) {
		rc = mdb_fail(err, rc, "zones");
		goto out;
	}
	mdb_cursor_close(cur);
	cur = NULL;

	if ((rc = mdb_cursor_open(txn, s->rrsets, &cur)) != 0) {
		rc = mdb_fail(err, rc, "rrsets");
		goto out;
	}
	for (rc = mdb_cursor_get(cur, &k, &v, MDB_FIRST); rc == 0;
	     rc = mdb_cursor_get(cur, &k, &v, MDB_NEXT)) {
		if ((rc = rread_entry(r, &k, &v, err)) != 0)
			goto out;
		if (!zones_hold(&zk, &zlast, r->okey, r->oklen)) {
			rc = seterr(err, DDI_ECORRUPT, -1, "rrsets key %s is in no zone",
			            khex(hb, k.mv_data, k.mv_size));
			goto out;
		}
		/* key order is the index's bulk load order: one pass, no per-RRset lookups */
		rc = idx_txn_bulk_rrset(t, r->owner, r->type, r->val.ttl, r->val.count, r->val.rdatas,
		                        r->val.len);
		if (rc) {
			/* what the store holds must never be refused: it was checked on the way in */
			char nb[DNS_NAME_STRLEN];
			rc = seterr(err, rc == DDI_ENOMEM ? rc : DDI_ECORRUPT, -1,
			            "the index refuses rrsets key %s (%s %s): %s",
			            khex(hb, k.mv_data, k.mv_size), nstr(nb, r->owner),
			            dns_type_name(r->type), ddi_strerror(rc));
			goto out;
		}
	}
	if (rc != MDB_NOTFOUND) {
		rc = mdb_fail(err, rc, "rrsets");
		goto out;
	}
	mdb_cursor_close(cur);
	cur = NULL;
	if ((rc = idx_txn_bulk_end(t)) != DDI_EOK) {
		rc = seterr(err, rc == DDI_ENOMEM ? rc : DDI_ECORRUPT, -1, "building the index: %s",
		            ddi_strerror(rc));
		goto out;
	}
	rc = idx_txn_commit(t, next - 1);
	t = NULL;
	if (rc)
		seterr(err, rc, -1, "index commit: %s", ddi_strerror(rc));
	else if (seqp)
		*seqp = next - 1;
out:
	if (cur)
		mdb_cursor_close(cur);
	if (t)
		idx_txn_abort(t);
	mdb_txn_abort(txn);
	keylist_free(&zk);
	free(r);
	return rc;
}
