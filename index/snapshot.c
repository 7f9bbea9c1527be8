/* snapshot -- index versions: readers' lookups, the writer's copy-on-write transactions, publication under QSBR */
#include <assert.h>
#include <pthread.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>

#include <urcu-qsbr.h>

#include "dns/errcode.h"
#include "index/node.h"
#include "index/radix.h"
#include "index/slab.h"
#include "index/snapshot.h"
#include "index/trie.h"

#define TYPE_A 1
#define TYPE_NS 2
#define TYPE_AAAA 28
#define TYPE_OPT 41

struct idx_version {
	trie_node_t names;    /* lookup key -> struct idx_node */
	void *v4, *v6;        /* radix roots, leaves struct idx_addr */
	uint64_t generation;  /* 0 for the empty version of idx_new, +1 per commit */
	uint64_t seq;
	size_t nodes;
};

struct idx {
	struct idx_version *cur;   /* published; stored only by the writer */
	struct idx_txn *txn;       /* the open transaction, if any */
	uint64_t trie_stamp;       /* stamp of the latest transaction */
	pthread_t writer;          /* W0: the one writer thread (debug checks) */
	bool has_writer;
};

/*
 * W0, checked in debug builds: the writer is one thread. The first writer
 * call records it (the start's bulk load on the main thread), and
 * idx_writer_claim hands the role over (to the control thread).
 */
static bool on_writer_thread(struct idx *ix)
{
	if (!ix->has_writer) {
		ix->writer = pthread_self();
		ix->has_writer = true;
	}
	return pthread_equal(ix->writer, pthread_self());
}

struct idx_txn {
	struct idx *ix;
	struct idx_version *v;     /* version N+1, private until commit */
	struct idx_gc garbage;     /* reachable from N (or an earlier txn state), not from N+1 */
	struct idx_gc created;     /* node blocks and address leaves allocated by this txn */
	struct trie_cow tc;
	struct radix_cow rc;
	struct bulk *bulk;         /* an open bulk load (idx_txn_bulk_rrset), or NULL */
};

static void bulk_free(struct bulk *b);

/* What one commit hands to call_rcu. */
struct gc_batch {
	struct rcu_head head;
	struct idx_gc list;
};

/*
 * The garbage and created lists hold twig arrays and radix nodes (trie.c,
 * radix.c push them; free()), version roots (free()), node blocks and
 * address leaves (pushed here). A node block or leaf from a slab goes on
 * a list with bit 0 of its pointer set, and bit 1 too for a leaf (keys are
 * 4-aligned, leaves 8-aligned), so that the list can be freed with
 * free() for the others without reading them.
 */
#define GC_SLAB 1u
#define GC_LEAF 2u

static void *gc_node(const struct trie_key *k)
{
	const struct idx_node *n = node_of_key(k);
	return (void *)((uintptr_t)k | ((n->key_off & NODE_KEY_SLAB) ? GC_SLAB : 0));
}

static void *gc_leaf(const struct idx_addr *a)
{
	return (void *)((uintptr_t)a | (a->slab ? GC_SLAB | GC_LEAF : 0));
}

static void leaf_free(struct idx_addr *a)
{
	if (a->slab)
		slab_free(a, sizeof(*a) + a->nowners * sizeof(a->owner[0]));
	else
		free(a);
}

/* idx_gc_free_all for lists that may hold slab blocks. */
static void gc_free_all(struct idx_gc *g)
{
	for (size_t k = 0; k < g->n; k++) {
		uintptr_t p = (uintptr_t)g->v[k];
		if (!(p & GC_SLAB))
			free((void *)p);
		else if (p & GC_LEAF)
			leaf_free((struct idx_addr *)(p & ~(uintptr_t)3));
		else
			node_free((const struct trie_key *)(p & ~(uintptr_t)3));
	}
	idx_gc_clear(g);
}

/* ------------------------------------------------------------------------ */
/* Readers                                                                  */
/* ------------------------------------------------------------------------ */

const struct idx_version *idx_acquire(struct idx *ix)
{
	/* R1: registered and online, else the version may be freed under us */
	assert(rcu_read_ongoing());
	return rcu_dereference(ix->cur);
}

const struct idx_node *idx_find(const struct idx_version *v, const uint8_t *key, size_t keylen)
{
	return trie_get(&v->names, key, keylen);
}

void idx_find_path(const struct idx_version *v, const uint8_t *key, size_t keylen,
                   struct idx_path *path)
{
	path->n = trie_get_prefixes(&v->names, key, keylen, path->keylen, path->node, IDX_PATH_MAX);
}

_Static_assert(IDX_BULK_MAX <= TRIE_BULK_MAX, "bulk sizes");

void idx_find_path_bulk(const struct idx_version *v, unsigned n, const uint8_t *const *keys,
                        const size_t *lens, struct idx_path *const *paths)
{
	struct trie_bulk q[IDX_BULK_MAX];
	assert(n <= IDX_BULK_MAX);
	for (unsigned i = 0; i < n; i++) {
		q[i].key = keys[i];
		q[i].len = lens[i];
		q[i].lens = paths[i]->keylen;
		q[i].vals = paths[i]->node;
		q[i].max = IDX_PATH_MAX;
	}
	trie_get_prefixes_bulk(&v->names, q, n);
	for (unsigned i = 0; i < n; i++)
		paths[i]->n = q[i].n;
}

static void *addr_root(const struct idx_version *v, int family)
{
	return family == 4 ? v->v4 : family == 6 ? v->v6 : NULL;
}

const struct idx_addr *idx_addr_find(const struct idx_version *v, int family, const uint8_t *addr)
{
	return radix_find(addr_root(v, family), family, addr);
}

void idx_addr_find_bulk(const struct idx_version *v, unsigned n, const int *families,
                        const uint8_t *const *addrs, const struct idx_addr **found)
{
	struct radix_bulk q[IDX_BULK_MAX];
	assert(n <= IDX_BULK_MAX);
	for (unsigned i = 0; i < n; i++) {
		q[i].root = addr_root(v, families[i]);
		q[i].family = families[i];
		q[i].addr = addrs[i];
	}
	radix_find_bulk(q, n);
	for (unsigned i = 0; i < n; i++) {
		found[i] = q[i].found;
		/* The PTR answer reads the owner's node header and the key in
		 * front of it (idx_node_owner): fetch them for the whole burst. */
		if (found[i] != NULL && found[i]->nowners > 0) {
			const uint8_t *o = (const uint8_t *)found[i]->owner[0];
			__builtin_prefetch(o);
			__builtin_prefetch(o - 32);
		}
	}
}

uint64_t idx_addr_count(const struct idx_version *v, int family, const uint8_t *prefix, int plen)
{
	return radix_count(addr_root(v, family), family, prefix, plen);
}

int idx_addr_next_free(const struct idx_version *v, int family, const uint8_t *prefix, int plen,
                       uint64_t skip_low, uint64_t skip_high, uint8_t out[16])
{
	return radix_next_free(addr_root(v, family), family, prefix, plen, skip_low, skip_high, out);
}

uint64_t idx_version_generation(const struct idx_version *v)
{
	return v->generation;
}

uint64_t idx_version_seq(const struct idx_version *v)
{
	return v->seq;
}

size_t idx_version_nodes(const struct idx_version *v)
{
	return v->nodes;
}

struct walk_adapter {
	int (*cb)(void *ctx, const struct idx_node *n);
	void *ctx;
};

static int walk_adapt(void *ctx, const struct trie_key *key, void *val)
{
	struct walk_adapter *w = ctx;
	(void)key;
	return w->cb(w->ctx, val);
}

int idx_walk(const struct idx_version *v, const uint8_t *key, size_t keylen,
             int (*cb)(void *ctx, const struct idx_node *n), void *ctx)
{
	struct walk_adapter w = { cb, ctx };
	return trie_walk(&v->names, key, keylen, walk_adapt, &w);
}

/* ------------------------------------------------------------------------ */
/* Lifetime                                                                 */
/* ------------------------------------------------------------------------ */

struct idx *idx_new(void)
{
	struct idx *ix = calloc(1, sizeof(*ix));
	struct idx_version *v = calloc(1, sizeof(*v));

	if (ix == NULL || v == NULL) {
		free(ix);
		free(v);
		return NULL;
	}
	trie_init(&v->names);
	ix->cur = v;
	return ix;
}

static void free_node_leaf(void *ctx, const struct trie_key *key, void *val)
{
	(void)ctx;
	(void)val;
	node_free(key);   /* the node block starts with its key */
}

static void free_addr_leaf(void *ctx, struct idx_addr *a)
{
	(void)ctx;
	leaf_free(a);
}

static void version_free_all(struct idx_version *v)
{
	trie_free(&v->names, free_node_leaf, NULL);
	radix_free(v->v4, free_addr_leaf, NULL);
	radix_free(v->v6, free_addr_leaf, NULL);
	free(v);
}

/*
 * QSBR: a thread that waits for a grace period (synchronize_rcu,
 * rcu_barrier) must not be online, or it waits for itself; call_rcu wants
 * an online caller. These keep the caller's state as they found it.
 */
static bool go_offline(void)
{
	bool online = rcu_read_ongoing();
	if (online)
		rcu_thread_offline();
	return online;
}

void idx_free(struct idx *ix)
{
	if (ix == NULL)
		return;
	ix->writer = pthread_self();   /* W4: no other thread uses ix any more */
	ix->has_writer = true;
	if (ix->txn != NULL)
		idx_txn_abort(ix->txn);
	bool online = go_offline();
	rcu_barrier();   /* every batch of earlier commits is freed */
	if (online)
		rcu_thread_online();
	version_free_all(ix->cur);
	free(ix);
}

/* ------------------------------------------------------------------------ */
/* Transactions                                                             */
/* ------------------------------------------------------------------------ */

void idx_writer_claim(struct idx *ix)
{
	assert(ix->txn == NULL);
	ix->writer = pthread_self();
	ix->has_writer = true;
}

struct idx_txn *idx_txn_begin(struct idx *ix)
{
	if (ix == NULL)
		return NULL;
	assert(on_writer_thread(ix));
	if (ix->txn != NULL)
		return NULL;
	struct idx_txn *t = calloc(1, sizeof(*t));
	struct idx_version *v = malloc(sizeof(*v));
	if (t == NULL || v == NULL) {
		free(t);
		free(v);
		return NULL;
	}
	*v = *ix->cur;
	v->generation++;
	if (ix->trie_stamp == TRIE_STAMP_MAX) {
		/* Stamps are about to repeat: clear the ones still in the tree,
		 * so that no published branch looks fresh. Once per 2^36 txns. */
		trie_stamp_reset(&v->names);
		ix->trie_stamp = 0;
	}
	t->ix = ix;
	t->v = v;
	t->tc.stamp = ix->trie_stamp + 1;
	t->tc.garbage = &t->garbage;
	t->rc.gen = v->generation;
	t->rc.garbage = &t->garbage;
	ix->txn = t;
	return t;
}

const struct idx_version *idx_txn_version(struct idx_txn *t)
{
	return t->v;
}

static void batch_free(struct rcu_head *head)
{
	struct gc_batch *b = caa_container_of(head, struct gc_batch, head);
	gc_free_all(&b->list);
	free(b);
}

int idx_txn_commit(struct idx_txn *t, uint64_t seq)
{
	assert(t == NULL || on_writer_thread(t->ix));
	if (t == NULL)
		return DDI_EINVAL;
	if (t->bulk != NULL) {
		int ret = idx_txn_bulk_end(t);
		if (ret != DDI_EOK) {
			idx_txn_abort(t);
			return ret;
		}
	}
	struct idx *ix = t->ix;
	struct idx_version *old = ix->cur;
	struct gc_batch *b = malloc(sizeof(*b));
	bool queued = b != NULL && idx_gc_push(&t->garbage, old) == DDI_EOK;

	t->v->seq = seq;
	rcu_assign_pointer(ix->cur, t->v);
	ix->trie_stamp = t->tc.stamp;
	if (queued) {
		b->list = t->garbage;
		bool online = rcu_read_ongoing();
		if (!online)
			rcu_thread_online();
		call_rcu(&b->head, batch_free);
		if (!online)
			rcu_thread_offline();
	} else {
		/* No memory for the batch: wait for the readers here instead. */
		free(b);
		bool online = go_offline();
		synchronize_rcu();
		if (online)
			rcu_thread_online();
		gc_free_all(&t->garbage);
		free(old);   /* not on the list when the push failed; else already freed */
	}
	idx_gc_clear(&t->created);
	ix->txn = NULL;
	free(t);
	return DDI_EOK;
}

void idx_txn_abort(struct idx_txn *t)
{
	assert(t == NULL || on_writer_thread(t->ix));
	if (t == NULL)
		return;
	/* Objects made and then replaced in this txn sit on both lists:
	 * freed here through `created`, the garbage list is only forgotten. */
	bulk_free(t->bulk);
	trie_free_fresh(&t->v->names, t->tc.stamp);
	radix_free_fresh(t->v->v4, t->rc.gen);
	radix_free_fresh(t->v->v6, t->rc.gen);
	gc_free_all(&t->created);
	idx_gc_clear(&t->garbage);
	t->ix->txn = NULL;
	free(t->v);
	free(t);
}

/* ------------------------------------------------------------------------ */
/* Writer helpers                                                           */
/* ------------------------------------------------------------------------ */

/*
 * A name seen two ways: its wire form (offs[i] = offset of label i, label 0
 * first, offs[nlabels] = the root label) and its lookup key (ends[j] =
 * length of the key prefix that is the ancestor with j labels).
 */
struct name_ref {
	const uint8_t *wire;
	size_t wirelen;
	uint8_t key[DNS_KEY_MAXLEN];
	size_t keylen;
	int nlabels;
	uint16_t ends[DNS_NAME_MAXLABELS + 1];
	uint8_t offs[DNS_NAME_MAXLABELS + 1];
	uint8_t spell[DNS_NAME_MAXLEN];   /* the wire of ref_spelling */
};

static int name_ref(struct name_ref *r, const uint8_t *wire)
{
	if (wire == NULL)
		return DDI_EINVAL;
	int len = dns_name_check(wire, DNS_NAME_MAXLEN);
	if (len < 0)
		return len;
	r->wire = wire;
	r->wirelen = (size_t)len;
	r->nlabels = 0;
	for (size_t p = 0; wire[p] != 0; p += wire[p] + 1u)
		r->offs[r->nlabels++] = (uint8_t)p;
	r->offs[r->nlabels] = (uint8_t)(len - 1);
	/*
	 * The lookup key (as dns_name_to_key: labels root first, lower-case,
	 * 0x00/0x01 escaped, each ended by 0) and the ancestors' key lengths
	 * in one pass over the checked name: a bulk load does this per RRset.
	 */
	size_t k = 0;
	r->ends[0] = 0;
	for (int i = r->nlabels - 1; i >= 0; i--) {
		const uint8_t *l = wire + r->offs[i];
		for (unsigned j = 1; j <= l[0]; j++) {
			uint8_t ch = l[j];
			if (ch <= 1) {
				r->key[k++] = 1;
				r->key[k++] = (uint8_t)(ch + 1);
			} else {
				r->key[k++] = (uint8_t)((unsigned)(ch - 'A') < 26u ? ch + ('a' - 'A') : ch);
			}
		}
		r->key[k++] = 0;
		r->ends[r->nlabels - i] = (uint16_t)k;
	}
	r->keylen = k;
	return DDI_EOK;
}

/*
 * r spelled as node n's owner (the same name, maybe another case): a name
 * keeps the spelling it was created with. Same labels, same offsets.
 */
static void ref_spelling(struct name_ref *r, const struct idx_node *n)
{
	idx_node_owner(n, r->spell);
	r->wire = r->spell;
}

/* The ancestor of r with j labels, as a wire name and length. */
static const uint8_t *ancestor_wire(const struct name_ref *r, int j, size_t *len)
{
	size_t off = r->offs[r->nlabels - j];
	*len = r->wirelen - off;
	return r->wire + off;
}

/* Labels of the deepest zone apex at or above r's ancestor with `maxj` labels; -1 if none. */
static int find_apex(const struct idx_version *v, const struct name_ref *r, int maxj)
{
	for (int j = maxj; j >= 0; j--) {
		const struct idx_node *n = trie_get(&v->names, r->key, r->ends[j]);
		if (n != NULL && (n->flags & IDX_NODE_APEX))
			return j;
	}
	return -1;
}

/* Link a freshly built node in place of whatever the key had. */
static int put_node(struct idx_txn *t, struct idx_node *n, const struct trie_key *tk)
{
	const struct trie_key *ok;
	void *ov;

	if (idx_gc_push(&t->created, gc_node(tk)) != DDI_EOK) {
		node_free(tk);
		return DDI_ENOMEM;
	}
	int ret = trie_set(&t->tc, &t->v->names, tk, n, &ok, &ov);
	if (ret != DDI_EOK)
		return ret;
	if (ok == NULL)
		t->v->nodes++;
	else if (idx_gc_push(&t->garbage, gc_node(ok)) != DDI_EOK)
		return DDI_ENOMEM;
	return DDI_EOK;
}

static int del_node(struct idx_txn *t, const uint8_t *key, size_t keylen)
{
	const struct trie_key *ok;
	void *ov;

	int ret = trie_del(&t->tc, &t->v->names, key, keylen, &ok, &ov);
	if (ret != DDI_EOK)
		return ret;
	t->v->nodes--;
	return idx_gc_push(&t->garbage, gc_node(ok));
}

/* An ENT node for every missing ancestor of r with more than `from` labels. */
static int fill_ents(struct idx_txn *t, const struct name_ref *r, int from)
{
	for (int j = from + 1; j < r->nlabels; j++) {
		if (trie_get(&t->v->names, r->key, r->ends[j]) != NULL)
			continue;
		size_t wlen;
		const uint8_t *w = ancestor_wire(r, j, &wlen);
		struct idx_node *n;
		const struct trie_key *tk;
		int ret = node_build(&n, &tk, r->key, r->ends[j], w, wlen, IDX_NODE_ENT, NULL, 0, 0,
		                     0, NULL, 0, NULL);
		if (ret == DDI_EOK)
			ret = put_node(t, n, tk);
		if (ret != DDI_EOK)
			return ret;
	}
	return DDI_EOK;
}

/* Remove ENT ancestors of r (more than `stop` labels) left without descendants. */
static int prune_ents(struct idx_txn *t, const struct name_ref *r, int stop)
{
	for (int j = r->nlabels - 1; j > stop; j--) {
		const struct idx_node *n = trie_get(&t->v->names, r->key, r->ends[j]);
		if (n == NULL || !(n->flags & IDX_NODE_ENT) ||
		    trie_has_below(&t->v->names, r->key, r->ends[j]))
			break;
		int ret = del_node(t, r->key, r->ends[j]);
		if (ret != DDI_EOK)
			return ret;
	}
	return DDI_EOK;
}

/* The TTL of node n's A (family 4) or AAAA RRset; UINT32_MAX if none. */
static uint32_t node_ttl(const struct idx_node *n, int family)
{
	const struct idx_rrset *rs = idx_node_rrset(n, family == 4 ? TYPE_A : TYPE_AAAA);
	return rs ? rs->ttl : UINT32_MAX;
}

/* A new address leaf with room for `nowners` owners (from slab sl if given), on the created list. */
static struct idx_addr *leaf_new(struct idx_txn *t, int family, const uint8_t *addr,
                                 size_t nowners, struct slab *sl)
{
	size_t len = sizeof(struct idx_addr) + nowners * sizeof(((struct idx_addr *)0)->owner[0]);
	struct idx_addr *a = sl != NULL ? slab_alloc(sl, len, _Alignof(struct idx_addr)) : NULL;
	bool slab = a != NULL;
	if (a == NULL && (a = malloc(len)) == NULL)
		return NULL;
	memset(a, 0, sizeof(*a));
	a->slab = slab;
	if (idx_gc_push(&t->created, gc_leaf(a)) != DDI_EOK) {
		leaf_free(a);
		return NULL;
	}
	a->family = (uint8_t)family;
	memcpy(a->addr, addr, family == 4 ? 4 : 16);
	a->nowners = (uint16_t)nowners;
	return a;
}

/*
 * Bring the address leaf of addr up to date after one owner's node went
 * from `old` to `n` (old NULL: a new owner; n NULL: the owner is gone):
 * the owner is listed, as n, when `present`, and not at all otherwise.
 * The other owners' nodes are the txn's current ones (the leaf is kept so
 * by every replacement); the TTL is recomputed from them.
 */
static int addr_refresh(struct idx_txn *t, int family, const uint8_t *addr,
                        const struct idx_node *old, const struct idx_node *n, bool present)
{
	void **root = family == 4 ? &t->v->v4 : &t->v->v6;
	const struct idx_addr *had = radix_find(*root, family, addr);
	size_t m = present ? 1 : 0;
	struct idx_addr *ol;

	for (uint16_t k = 0; had != NULL && k < had->nowners; k++)
		m += had->owner[k] != old && had->owner[k] != n;
	if (m == 0) {
		if (had == NULL)
			return DDI_EOK;
		int ret = radix_del(&t->rc, root, family, addr, &ol);
		if (ret == DDI_EOK)
			ret = idx_gc_push(&t->garbage, gc_leaf(ol));
		return ret;
	}
	if (m > UINT16_MAX)
		return DDI_ELIMIT;
	struct idx_addr *a = leaf_new(t, family, addr, m, NULL);
	if (a == NULL)
		return DDI_ENOMEM;
	/* Keep the owners' order; the changed owner keeps its place or comes last. */
	size_t w = 0;
	bool placed = !present;
	for (uint16_t k = 0; had != NULL && k < had->nowners; k++) {
		const struct idx_node *e = had->owner[k];
		if (e != old && e != n)
			a->owner[w++] = e;
		else if (!placed)
			a->owner[w++] = n, placed = true;
	}
	if (!placed)
		a->owner[w++] = n;
	uint32_t ttl = UINT32_MAX;
	for (size_t k = 0; k < w; k++) {
		uint32_t ot = node_ttl(a->owner[k], family);
		ttl = ot < ttl ? ot : ttl;
	}
	a->ttl = ttl;
	int ret = radix_set(&t->rc, root, a, &ol);
	if (ret == DDI_EOK && ol != NULL)
		ret = idx_gc_push(&t->garbage, gc_leaf(ol));
	return ret;
}

/* Is `addr` (alen bytes) the rdata of one of the first `upto` blob bytes of rs in n? */
static bool blob_has(const struct idx_node *n, const struct idx_rrset *rs, uint32_t upto,
                     const uint8_t *addr, size_t alen)
{
	uint32_t pos = 0;
	uint16_t rrlen;
	const uint8_t *rr;
	while (pos < upto && (rr = idx_rrset_next(n, rs, &pos, &rrlen)) != NULL)
		if (rrlen == 10 + alen && memcmp(rr + 10, addr, alen) == 0)
			return true;
	return false;
}

/*
 * One owner's node went from `old` to `n` (either NULL: created, deleted):
 * every address leaf that lists old, or that n's A/AAAA RRsets now need,
 * is replaced so that it lists n (or drops the owner). Called for every
 * node replacement that touches a node with addresses (an RRset of any
 * type, a flag, a zone change): a leaf never points at a node its
 * version does not hold.
 */
static int addrs_repoint(struct idx_txn *t, const struct idx_node *old, const struct idx_node *n)
{
	static const uint16_t types[] = { TYPE_A, TYPE_AAAA };
	for (size_t f = 0; f < 2; f++) {
		int family = f == 0 ? 4 : 6;
		size_t alen = family == 4 ? 4 : 16;
		const struct idx_rrset *ors = old ? idx_node_rrset(old, types[f]) : NULL;
		const struct idx_rrset *nrs = n ? idx_node_rrset(n, types[f]) : NULL;
		uint32_t pos = 0;
		uint16_t rrlen;
		const uint8_t *rr;
		/* rr: type class ttl rdlen rdata */
		while (ors != NULL && (rr = idx_rrset_next(old, ors, &pos, &rrlen)) != NULL) {
			if (rrlen != 10 + alen)
				continue;
			bool keep = nrs != NULL && blob_has(n, nrs, nrs->len, rr + 10, alen);
			int ret = addr_refresh(t, family, rr + 10, old, n, keep);
			if (ret != DDI_EOK)
				return ret;
		}
		pos = 0;
		while (nrs != NULL && (rr = idx_rrset_next(n, nrs, &pos, &rrlen)) != NULL) {
			if (rrlen != 10 + alen || (ors != NULL && blob_has(old, ors, ors->len, rr + 10, alen)))
				continue;
			int ret = addr_refresh(t, family, rr + 10, old, n, true);
			if (ret != DDI_EOK)
				return ret;
		}
	}
	return DDI_EOK;
}

/* ------------------------------------------------------------------------ */
/* Changes                                                                  */
/* ------------------------------------------------------------------------ */

/* Types that are never data: 0, OPT, and the QTYPE/meta range (RFC 6895 3.1). */
static bool type_storable(uint16_t type)
{
	return type != 0 && type != TYPE_OPT && !(type >= 128 && type <= 255);
}

/* The checks idx_txn_rrset_set and idx_txn_bulk_rrset make on an RRset's framing. */
static int rrset_check(uint16_t type, uint32_t ttl, uint16_t count, const uint8_t *rdatas,
                       size_t rdatas_len)
{
	if ((count > 0 && rdatas == NULL) || (count == 0 && rdatas_len != 0))
		return DDI_EINVAL;
	if (!type_storable(type))
		return DDI_ERDATA;
	if (ttl > 0x7fffffffU)   /* RFC 2181 8 */
		return DDI_ETTL;
	/* Every item inside the buffer, the buffer exactly used up. */
	size_t pos = 0;
	for (uint16_t k = 0; k < count; k++) {
		if (rdatas_len - pos < 2)
			return DDI_ERDATA;
		size_t rdlen = (size_t)(rdatas[pos] << 8 | rdatas[pos + 1]);
		if (rdatas_len - pos - 2 < rdlen)
			return DDI_ERDATA;
		if ((type == TYPE_A && rdlen != 4) || (type == TYPE_AAAA && rdlen != 16))
			return DDI_ERDATA;
		pos += 2 + rdlen;
	}
	if (pos != rdatas_len)
		return DDI_ERDATA;
	return DDI_EOK;
}

int idx_txn_rrset_set(struct idx_txn *t, const uint8_t *owner, uint16_t type, uint32_t ttl,
                      uint16_t count, const uint8_t *rdatas, size_t rdatas_len)
{
	struct name_ref r;
	int ret;

	assert(t == NULL || on_writer_thread(t->ix));

	if (t == NULL || t->bulk != NULL)
		return DDI_EINVAL;
	if ((ret = rrset_check(type, ttl, count, rdatas, rdatas_len)) != DDI_EOK)
		return ret;
	if ((ret = name_ref(&r, owner)) != DDI_EOK)
		return ret;
	const struct idx_node *old = trie_get(&t->v->names, r.key, r.keylen);
	int apex = old && (old->flags & IDX_NODE_APEX) ? r.nlabels : find_apex(t->v, &r, r.nlabels - 1);
	if (apex < 0)
		return DDI_EOUTZONE;
	const struct idx_rrset *oldrs = old ? idx_node_rrset(old, type) : NULL;
	if (old != NULL)
		ref_spelling(&r, old);   /* the first spelling stays */
	if (count == 0 && oldrs == NULL)
		return DDI_EOK;
	size_t nrr = (old ? old->nrrsets : 0) - (oldrs ? 1 : 0) + (count ? 1 : 0);
	uint16_t isapex = old ? (old->flags & IDX_NODE_APEX) : 0;

	struct idx_node *n = NULL;
	if (nrr == 0 && !isapex && !trie_has_below(&t->v->names, r.key, r.keylen)) {
		if ((ret = del_node(t, r.key, r.keylen)) != DDI_EOK)
			return ret;
		if ((ret = prune_ents(t, &r, apex)) != DDI_EOK)
			return ret;
	} else {
		uint16_t flags = isapex;
		if (nrr == 0 && !isapex)
			flags |= IDX_NODE_ENT;
		bool has_ns = type == TYPE_NS ? count > 0 : (old && idx_node_rrset(old, TYPE_NS));
		if (has_ns && !isapex)
			flags |= IDX_NODE_DELEG;
		const struct trie_key *tk;
		ret = node_build(&n, &tk, r.key, r.keylen, r.wire, r.wirelen, flags, old, type, ttl,
		                 count, rdatas, rdatas_len, NULL);
		if (ret == DDI_EOK)
			ret = put_node(t, n, tk);
		if (ret == DDI_EOK && old == NULL)
			ret = fill_ents(t, &r, apex);
		if (ret != DDI_EOK)
			return ret;
	}
	/* `old` stays readable: it is on the garbage list, freed after commit.
	 * Its address leaves (of any RRset change, not only A/AAAA) now list n. */
	return addrs_repoint(t, old, n);
}

struct collect {
	const uint8_t *apex;
	size_t apexlen;
	const struct trie_key *skip;   /* a deeper zone's apex: its subtree is not ours */
	struct idx_gc keys;
	struct idx_gc nodes;
};

static int collect_cb(void *ctx, const struct trie_key *key, void *val)
{
	struct collect *c = ctx;
	const struct idx_node *n = val;

	if (key->len == c->apexlen)
		return 0;   /* the apex itself, handled apart */
	if (c->skip && key->len >= c->skip->len && memcmp(key->data, c->skip->data, c->skip->len) == 0)
		return 0;
	if (n->flags & IDX_NODE_APEX) {
		c->skip = key;
		return 0;
	}
	if (idx_gc_push(&c->keys, (void *)key) != DDI_EOK ||
	    idx_gc_push(&c->nodes, (void *)n) != DDI_EOK)
		return DDI_ENOMEM;
	return 0;
}

static int apexes_cb(void *ctx, const struct trie_key *key, void *val)
{
	struct collect *c = ctx;
	const struct idx_node *n = val;

	if (key->len > c->apexlen && (n->flags & IDX_NODE_APEX) &&
	    idx_gc_push(&c->nodes, (void *)n) != DDI_EOK)
		return DDI_ENOMEM;
	return 0;
}

int idx_txn_zone_add(struct idx_txn *t, const uint8_t *apex)
{
	struct name_ref r;
	int ret;

	assert(t == NULL || on_writer_thread(t->ix));

	if (t == NULL || t->bulk != NULL)
		return DDI_EINVAL;
	if ((ret = name_ref(&r, apex)) != DDI_EOK)
		return ret;
	const struct idx_node *old = trie_get(&t->v->names, r.key, r.keylen);
	if (old != NULL && (old->flags & IDX_NODE_APEX))
		return DDI_EEXIST;
	if (old != NULL)
		ref_spelling(&r, old);
	int outer = find_apex(t->v, &r, r.nlabels - 1);

	/* Deeper zones already served become descendants: note them first. */
	struct collect c = { .apex = r.key, .apexlen = r.keylen };
	ret = trie_walk(&t->v->names, r.key, r.keylen, apexes_cb, &c);

	struct idx_node *n;
	const struct trie_key *tk;
	if (ret == DDI_EOK)
		ret = node_build(&n, &tk, r.key, r.keylen, r.wire, r.wirelen, IDX_NODE_APEX, old, 0, 0,
		                 0, NULL, 0, NULL);
	if (ret == DDI_EOK)
		ret = put_node(t, n, tk);
	if (ret == DDI_EOK && old != NULL)
		ret = addrs_repoint(t, old, n);   /* a name with addresses became an apex */
	if (ret == DDI_EOK && old == NULL && outer >= 0)
		ret = fill_ents(t, &r, outer);
	/* Names between this apex and a deeper one are now ours: ENTs. */
	for (size_t k = 0; ret == DDI_EOK && k < c.nodes.n; k++) {
		struct name_ref d;
		uint8_t w[DNS_NAME_MAXLEN];
		idx_node_owner(c.nodes.v[k], w);
		ret = name_ref(&d, w);
		if (ret == DDI_EOK)
			ret = fill_ents(t, &d, r.nlabels);
	}
	idx_gc_clear(&c.nodes);
	return ret;
}

int idx_txn_zone_del(struct idx_txn *t, const uint8_t *apex)
{
	struct name_ref r;
	int ret;

	assert(t == NULL || on_writer_thread(t->ix));

	if (t == NULL || t->bulk != NULL)
		return DDI_EINVAL;
	if ((ret = name_ref(&r, apex)) != DDI_EOK)
		return ret;
	const struct idx_node *top = trie_get(&t->v->names, r.key, r.keylen);
	if (top == NULL || !(top->flags & IDX_NODE_APEX))
		return DDI_ENOZONE;
	ref_spelling(&r, top);

	/* Keys and nodes stay valid while we delete: replaced blocks are only
	 * put on the garbage list, freed after the commit. */
	struct collect c = { .apex = r.key, .apexlen = r.keylen };
	ret = trie_walk(&t->v->names, r.key, r.keylen, collect_cb, &c);
	for (size_t k = 0; ret == DDI_EOK && k < c.keys.n; k++) {
		const struct trie_key *key = c.keys.v[k];
		const struct idx_node *n = c.nodes.v[k];
		ret = del_node(t, key->data, key->len);
		if (ret == DDI_EOK)
			ret = addrs_repoint(t, n, NULL);
	}
	idx_gc_clear(&c.keys);
	idx_gc_clear(&c.nodes);
	if (ret != DDI_EOK)
		return ret;

	/* The apex: an ENT of the enclosing zone if deeper zones remain below. */
	int outer = find_apex(t->v, &r, r.nlabels - 1);
	if (outer >= 0 && trie_has_below(&t->v->names, r.key, r.keylen)) {
		struct idx_node *n;
		const struct trie_key *tk;
		ret = node_build(&n, &tk, r.key, r.keylen, r.wire, r.wirelen, IDX_NODE_ENT, NULL, 0, 0, 0,
		                 NULL, 0, NULL);
		if (ret == DDI_EOK)
			ret = put_node(t, n, tk);
	} else {
		ret = del_node(t, r.key, r.keylen);
		if (ret == DDI_EOK && outer >= 0)
			ret = prune_ents(t, &r, outer);
	}
	if (ret == DDI_EOK)
		ret = addrs_repoint(t, top, NULL);
	return ret;
}

/* ------------------------------------------------------------------------ */
/* Bulk load                                                                */
/* ------------------------------------------------------------------------ */

/*
 * A bulk load gets the RRsets in lookup key order. Nodes are built as they
 * come and kept in a sorted array (ENTs slotted in before their first
 * descendant); idx_txn_bulk_end builds the trie in one pass from it
 * (trie_build). Address leaves go into the radix trees at once. What
 * idx_txn_rrset_set does per RRset (a lookup of the owner in the full
 * trie, of its apex, a copy-on-write insert, the owners' TTL lookups for
 * each leaf) is skipped.
 */
struct bulk {
	const struct trie_key **keys;   /* node blocks (node_of_key) in key order */
	size_t n, cap;
	bool addrs_due;   /* the last node has A/AAAA whose leaves are not made yet */
	struct slab slab; /* node blocks and address leaves of the load */
};

static void bulk_free(struct bulk *b)
{
	if (b == NULL)
		return;
	slab_close(&b->slab);
	free(b->keys);
	free(b);
}

/* memcmp() order, a key before its extensions: the trie's and the store's order. */
static int key_cmp(const uint8_t *a, size_t al, const uint8_t *b, size_t bl)
{
	int c = memcmp(a, b, al < bl ? al : bl);
	return c != 0 ? c : (al > bl) - (al < bl);
}

static int no_rrsets_cb(void *ctx, const struct trie_key *key, void *val)
{
	(void)ctx;
	(void)key;
	return ((const struct idx_node *)val)->nrrsets != 0 ? DDI_EINVAL : 0;
}

/* Start a bulk load: only zones (apexes, ENTs) may be there, no RRsets, no addresses. */
static int bulk_start(struct idx_txn *t)
{
	if (t->v->v4 != NULL || t->v->v6 != NULL)
		return DDI_EINVAL;
	int ret = trie_walk(&t->v->names, NULL, 0, no_rrsets_cb, NULL);
	if (ret != DDI_EOK)
		return ret;
	t->bulk = calloc(1, sizeof(*t->bulk));
	return t->bulk ? DDI_EOK : DDI_ENOMEM;
}

/* Append a node built by node_build (its block already on the created list). */
static int bulk_push(struct bulk *b, const struct trie_key *tk, struct idx_node *n)
{
	if (b->n == b->cap) {
		size_t cap = b->cap ? b->cap * 2 : 1024;
		const struct trie_key **k = realloc(b->keys, cap * sizeof(*k));
		if (k == NULL)
			return DDI_ENOMEM;
		b->keys = k;
		b->cap = cap;
	}
	(void)n;
	b->keys[b->n++] = tk;
	return DDI_EOK;
}

/* node_build, and the block on the created list. */
static int bulk_node(struct idx_txn *t, struct idx_node **n, const struct trie_key **tk,
                     const struct name_ref *r, const uint8_t *wire, size_t wirelen, size_t keylen,
                     uint16_t flags, const struct idx_node *old, uint16_t type, uint32_t ttl,
                     uint16_t count, const uint8_t *rdatas, size_t rdatas_len)
{
	int ret = node_build(n, tk, r->key, keylen, wire, wirelen, flags, old, type, ttl, count,
	                     rdatas, rdatas_len, &t->bulk->slab);
	if (ret != DDI_EOK)
		return ret;
	if (idx_gc_push(&t->created, gc_node(*tk)) != DDI_EOK) {
		node_free(*tk);
		return DDI_ENOMEM;
	}
	return DDI_EOK;
}

/*
 * Another RRset of the last owner: its node is rebuilt. Nothing else comes
 * from the slab between an owner's RRsets (its ENTs come before, its
 * address leaves after), so the node is the slab's last block: the new one
 * is built aside and copied over it, grown in place, when the arena has
 * room. Otherwise it is a new block and the old one garbage.
 */
static int bulk_rebuild(struct idx_txn *t, const struct name_ref *r, uint16_t flags,
                        uint16_t type, uint32_t ttl, uint16_t count, const uint8_t *rdatas,
                        size_t rdatas_len)
{
	struct bulk *b = t->bulk;
	const struct trie_key *last = b->keys[b->n - 1], *tk;
	const struct idx_node *old = node_of_key(last);
	struct idx_node *n;
	int ret;
	if (old->key_off & NODE_KEY_SLAB) {
		ret = node_build(&n, &tk, r->key, r->keylen, r->wire, r->wirelen, flags, old, type, ttl,
		                 count, rdatas, rdatas_len, NULL);
		if (ret != DDI_EOK)
			return ret;
		size_t len = node_block_len(tk);
		bool grown = slab_grow_last(&b->slab, (void *)last, node_block_len(last), len);
		if (grown) {
			memcpy((void *)last, tk, len);   /* same key, same offsets: the block is position-free */
			node_of_key(last)->key_off |= NODE_KEY_SLAB;
		}
		free((void *)tk);
		if (grown)
			return DDI_EOK;   /* the same block, on the created list already */
	}
	ret = bulk_node(t, &n, &tk, r, r->wire, r->wirelen, r->keylen, flags, old, type, ttl, count,
	                rdatas, rdatas_len);
	if (ret != DDI_EOK)
		return ret;
	if (idx_gc_push(&t->garbage, gc_node(last)) != DDI_EOK)
		return DDI_ENOMEM;
	b->keys[b->n - 1] = tk;
	return DDI_EOK;
}

/*
 * The address leaves of an owner's final node (the bulk path rebuilds the
 * last node while RRsets of its owner come, so its leaves are made when
 * the next owner comes or the load ends): a leaf with this one owner, and
 * if the address had a leaf already (another owner's, rare) one with both,
 * owners in key order like the load that adds them. No lookup first:
 * radix_set hands back the leaf it replaced.
 */
static int bulk_addrs(struct idx_txn *t, const struct idx_node *n)
{
	static const uint16_t types[] = { TYPE_A, TYPE_AAAA };
	for (size_t f = 0; f < 2; f++) {
		const struct idx_rrset *rs = idx_node_rrset(n, types[f]);
		int family = f == 0 ? 4 : 6;
		size_t alen = family == 4 ? 4 : 16;
		void **root = family == 4 ? &t->v->v4 : &t->v->v6;
		uint32_t pos = 0, at;
		uint16_t rrlen;
		const uint8_t *rr;
		while (rs != NULL && (at = pos, rr = idx_rrset_next(n, rs, &pos, &rrlen)) != NULL) {
			const uint8_t *addr = rr + 10;
			if (rrlen != 10 + alen || blob_has(n, rs, at, addr, alen))
				continue;   /* the same address twice in one RRset: once is enough */
			struct idx_addr *old = NULL, *a = leaf_new(t, family, addr, 1, &t->bulk->slab);
			if (a == NULL)
				return DDI_ENOMEM;
			a->owner[0] = n;
			a->ttl = rs->ttl;
			int ret = radix_set(&t->rc, root, a, &old);
			if (ret != DDI_EOK)
				return ret;
			if (old == NULL)
				continue;
			/* a (alone) goes as soon as the leaf with every owner is in */
			if (old->nowners == UINT16_MAX)
				return DDI_ELIMIT;
			struct idx_addr *both = leaf_new(t, family, addr, old->nowners + 1u, &t->bulk->slab);
			if (both == NULL || idx_gc_push(&t->garbage, gc_leaf(old)) != DDI_EOK)
				return DDI_ENOMEM;
			memcpy(both->owner, old->owner, old->nowners * sizeof(old->owner[0]));
			both->owner[old->nowners] = n;
			both->ttl = old->ttl < rs->ttl ? old->ttl : rs->ttl;
			struct idx_addr *alone;
			if ((ret = radix_set(&t->rc, root, both, &alone)) != DDI_EOK ||
			    (ret = idx_gc_push(&t->garbage, gc_leaf(alone))) != DDI_EOK)
				return ret;
		}
	}
	return DDI_EOK;
}

/* Make the leaves of the last node if they are due (bulk_addrs). */
static int bulk_addrs_due(struct idx_txn *t)
{
	struct bulk *b = t->bulk;
	if (!b->addrs_due)
		return DDI_EOK;
	b->addrs_due = false;
	return bulk_addrs(t, node_of_key(b->keys[b->n - 1]));
}

int idx_txn_bulk_rrset(struct idx_txn *t, const uint8_t *owner, uint16_t type, uint32_t ttl,
                       uint16_t count, const uint8_t *rdatas, size_t rdatas_len)
{
	struct name_ref r;
	struct idx_node *n;
	const struct trie_key *tk;
	int ret;

	assert(t == NULL || on_writer_thread(t->ix));

	if (t == NULL || count == 0)
		return DDI_EINVAL;
	if ((ret = rrset_check(type, ttl, count, rdatas, rdatas_len)) != DDI_EOK)
		return ret;
	if ((ret = name_ref(&r, owner)) != DDI_EOK)
		return ret;
	if (t->bulk == NULL && (ret = bulk_start(t)) != DDI_EOK)
		return ret;
	struct bulk *b = t->bulk;
	if (b->n > UINT32_MAX - 2)
		return DDI_ELIMIT;
	const struct trie_key *last = b->n ? b->keys[b->n - 1] : NULL;
	int cmp = last ? key_cmp(r.key, r.keylen, last->data, last->len) : 1;
	if (cmp < 0)
		return DDI_EINVAL;   /* not in key order */
	if (cmp == 0) {
		/* Another RRset of the last owner: rebuild its node (not published yet). */
		struct idx_node *old = node_of_key(last);
		if (idx_node_rrset(old, type) != NULL)
			return DDI_EINVAL;
		uint16_t flags = old->flags;
		if (type == TYPE_NS && !(flags & IDX_NODE_APEX))
			flags |= IDX_NODE_DELEG;
		ref_spelling(&r, old);   /* the first spelling stays */
		if ((ret = bulk_rebuild(t, &r, flags, type, ttl, count, rdatas, rdatas_len)) != DDI_EOK)
			return ret;
	} else {
		/* A new owner: the zones are in the trie, the bulk nodes are not. */
		const struct idx_node *old = trie_get(&t->v->names, r.key, r.keylen);
		int apex = old && (old->flags & IDX_NODE_APEX) ? r.nlabels
		                                               : find_apex(t->v, &r, r.nlabels - 1);
		if (apex < 0)
			return DDI_EOUTZONE;
		if (old != NULL)
			ref_spelling(&r, old);
		/* The previous owner is complete: its address leaves now. */
		if ((ret = bulk_addrs_due(t)) != DDI_EOK)
			return ret;
		/* Missing ancestors below the apex become ENTs. An ancestor came
		 * before (in key order, everything between it and this owner is
		 * its descendant) iff the last key is it or below it. */
		for (int j = apex + 1; j < r.nlabels; j++) {
			size_t al = r.ends[j];
			if (last != NULL && last->len >= al && memcmp(last->data, r.key, al) == 0)
				continue;
			if (trie_get(&t->v->names, r.key, al) != NULL)
				continue;
			size_t wlen;
			const uint8_t *w = ancestor_wire(&r, j, &wlen);
			ret = bulk_node(t, &n, &tk, &r, w, wlen, al, IDX_NODE_ENT, NULL, 0, 0, 0, NULL, 0);
			if (ret == DDI_EOK)
				ret = bulk_push(b, tk, n);
			if (ret != DDI_EOK)
				return ret;
			last = tk;
		}
		uint16_t flags = old ? (old->flags & IDX_NODE_APEX) : 0;
		if (type == TYPE_NS && !flags)
			flags |= IDX_NODE_DELEG;
		ret = bulk_node(t, &n, &tk, &r, r.wire, r.wirelen, r.keylen, flags, old, type, ttl,
		                count, rdatas, rdatas_len);
		if (ret == DDI_EOK)
			ret = bulk_push(b, tk, n);
		if (ret != DDI_EOK)
			return ret;
	}
	if (type == TYPE_A || type == TYPE_AAAA)
		b->addrs_due = true;
	return DDI_EOK;
}

static int bulk_collect_cb(void *ctx, const struct trie_key *key, void *val)
{
	(void)val;
	return idx_gc_push(ctx, (void *)key);
}

/* Every node block starts with its key. */
static void *bulk_val(const struct trie_key *key)
{
	return node_of_key(key);
}

int idx_txn_bulk_end(struct idx_txn *t)
{
	assert(t == NULL || on_writer_thread(t->ix));
	if (t == NULL)
		return DDI_EINVAL;
	struct bulk *b = t->bulk;
	if (b == NULL)
		return DDI_EOK;
	int ret = bulk_addrs_due(t);
	/* The zones' nodes leave the trie and are merged with the bulk nodes
	 * (a bulk node replaces a zone's node of the same key), in place: from
	 * the back of the bulk array grown by the zones' count. */
	struct idx_gc c = { 0 };
	if (ret == DDI_EOK)
		ret = trie_walk(&t->v->names, NULL, 0, bulk_collect_cb, &c);
	for (size_t k = 0; ret == DDI_EOK && k < c.n; k++) {
		const struct trie_key *ok;
		void *ov;
		const struct trie_key *key = c.v[k];
		ret = trie_del(&t->tc, &t->v->names, key->data, key->len, &ok, &ov);
	}
	if (ret == DDI_EOK && c.n > 0) {
		const struct trie_key **k = realloc(b->keys, (b->n + c.n) * sizeof(*k));
		if (k == NULL)
			ret = DDI_ENOMEM;
		else
			b->keys = k;
	}
	size_t w = b->n + c.n, i = b->n, j = c.n;
	while (ret == DDI_EOK && j > 0) {
		const struct trie_key *zk = c.v[j - 1];
		const struct trie_key *bk = i > 0 ? b->keys[i - 1] : NULL;
		int cmp = !bk ? -1 : key_cmp(bk->data, bk->len, zk->data, zk->len);
		if (cmp >= 0) {
			b->keys[--w] = bk;
			i--;
			if (cmp == 0 && (ret = idx_gc_push(&t->garbage, gc_node(zk))) == DDI_EOK)
				j--;
		} else {
			b->keys[--w] = zk;
			j--;
		}
	}
	/* The rest of the bulk array is where it was unless a zone node was dropped. */
	if (ret == DDI_EOK && w > i) {
		memmove(b->keys + (w - i), b->keys, i * sizeof(*b->keys));
		w -= i;
	} else {
		w = 0;
	}
	size_t m = b->n + c.n - w;
	if (ret == DDI_EOK)
		ret = trie_build(&t->v->names, b->keys + w, bulk_val, m, t->tc.stamp);
	if (ret == DDI_EOK)
		t->v->nodes = m;
	idx_gc_clear(&c);
	bulk_free(b);
	t->bulk = NULL;
	return ret;
}
