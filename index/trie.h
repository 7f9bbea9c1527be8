/* trie -- copy-on-write qp-trie from byte-string keys to values (Finch's design, one level per common byte) */
#ifndef DDI_INDEX_TRIE_H
#define DDI_INDEX_TRIE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/*
 * Design (after Tony Finch's qp-trie, as in Knot DNS's trie.c):
 * - A branch twig says at which key byte its children differ and keeps a
 *   53-bit bitmap: bit 0 "the key ends here", then one bit per position of
 *   the byte: common bytes of DNS lookup keys (label end, digits, letters,
 *   '-', '_', ...) have a position each, rare bytes share one with up to 31
 *   neighbours and are told apart by a second branch on the same byte (as
 *   in BIND 9.20's qp-trie; see trie.c). Its children are a packed array,
 *   one 16-byte twig per set bit, in bitmap order, so an in-order walk is
 *   memcmp() order of the keys (a key that is a prefix of another comes
 *   first).
 * - A leaf twig holds a pointer to its key (struct trie_key, owned by the
 *   caller, usually inside the value's own allocation) and the value.
 * - Copy-on-write: every twig array carries (in the 8 bytes before it) the
 *   stamp of the transaction that allocated it. A writer with stamp S
 *   copies a twig array whose stamp is not S the first time it changes
 *   anything below it (the old array goes to the garbage list) and changes
 *   arrays stamped S in place. A path from the root to a changed twig is therefore all fresh,
 *   and readers of older roots never see a change.
 *
 * Readers need no lock: get, walk and the iterator only read. Writers are
 * one thread at a time, and must not change a tree reachable from a root
 * published to readers except through the functions here, with a stamp no
 * published branch carries.
 */

#define TRIE_KEY_MAXLEN 512          /* longest key; DNS_KEY_MAXLEN */
#define TRIE_STAMP_MAX ((1ULL << 36) - 1)   /* stamps are 1..TRIE_STAMP_MAX, 0 is "old" */
#define TRIE_DEPTH_MAX (2 * TRIE_KEY_MAXLEN + 2)

/* A key as the trie refers to it. Immutable while any version holds it. */
struct trie_key {
	uint16_t len;
	uint8_t data[];
};

/* One twig: a leaf (key, value) or a branch (index word, twig array). */
typedef struct trie_node {
	uintptr_t i;
	void *p;
} trie_node_t;

/* A growable list of pointers to free() later (garbage, or what a txn made). */
struct idx_gc {
	void **v;
	size_t n, cap;
};

int idx_gc_push(struct idx_gc *g, void *p);
void idx_gc_free_all(struct idx_gc *g);   /* free() every entry, empty the list */
void idx_gc_clear(struct idx_gc *g);      /* forget the entries, release the list */

/* A writer's copy-on-write context. */
struct trie_cow {
	uint64_t stamp;           /* 1..TRIE_STAMP_MAX, unique among live branches */
	struct idx_gc *garbage;   /* replaced twig arrays of older versions go here */
};

static inline void trie_init(trie_node_t *root)
{
	root->i = 0;
	root->p = NULL;
}

static inline bool trie_empty(const trie_node_t *root)
{
	return root->i == 0;
}

/* The value of exactly `key`, or NULL. */
void *trie_get(const trie_node_t *root, const uint8_t *key, size_t len);

/*
 * Every key of the tree that is a prefix of `key` (`key` itself included),
 * shortest first, at most `max` of them: lens[i] and vals[i]; returns how
 * many. One descent: a shorter key that is a prefix of `key` ends at a
 * branch on the way down (its "ends here" twig), and one comparison of
 * `key` with the leaf the descent reaches confirms all of them at once
 * (every key below a branch agrees with that branch's shorter keys on their
 * bytes). The exact match, if any, is the last entry, with lens[i] == len.
 *
 * key[0] to key[TRIE_KEY_MAXLEN - 1] must be readable, whatever len is
 * (`key` at the start of a DNS_KEY_MAXLEN buffer): the descent reads the
 * byte of every branch it meets without testing it against len first, so
 * also bytes past len. What they hold (even uninitialised memory) does not
 * change the result, but valgrind's memcheck may report the read.
 */
unsigned trie_get_prefixes(const trie_node_t *root, const uint8_t *key, size_t len,
                           uint16_t *lens, const void **vals, unsigned max);

#define TRIE_BULK_MAX 64

/* One lookup of trie_get_prefixes_bulk: in key, len, lens, vals, max; out n. */
struct trie_bulk {
	const uint8_t *key;
	size_t len;
	uint16_t *lens;
	const void **vals;
	unsigned max;
	unsigned n;
};

/*
 * trie_get_prefixes for `n` (<= TRIE_BULK_MAX) keys at once, walked level
 * by level, each lookup's next twig prefetched while the others take their
 * step, so that the cache misses of the lookups overlap (as DPDK's LPM and
 * hash bulk lookups do) instead of following one another. Each key has
 * TRIE_KEY_MAXLEN readable bytes, as for trie_get_prefixes.
 */
void trie_get_prefixes_bulk(const trie_node_t *root, struct trie_bulk *q, unsigned n);

/*
 * Insert or replace. On replace *oldkey and *oldval get what was there (else
 * NULL); freeing them is the caller's business (after a grace period if a
 * published version holds them). Errors: DDI_EINVAL (key too long),
 * DDI_ENOMEM. After DDI_ENOMEM the tree is valid but the change may be
 * missing: abort the transaction.
 */
int trie_set(struct trie_cow *c, trie_node_t *root, const struct trie_key *key, void *val,
             const struct trie_key **oldkey, void **oldval);

/* Remove `key`. DDI_ENOENT if absent; DDI_ENOMEM as for trie_set. */
int trie_del(struct trie_cow *c, trie_node_t *root, const uint8_t *key, size_t len,
             const struct trie_key **oldkey, void **oldval);

typedef int (*trie_walk_cb)(void *ctx, const struct trie_key *key, void *val);

/*
 * In-order walk of every key that starts with prefix (plen 0: all keys).
 * Stops at the first non-zero return of cb and returns it.
 */
int trie_walk(const trie_node_t *root, const uint8_t *prefix, size_t plen, trie_walk_cb cb,
              void *ctx);

/* True when some key longer than `len` starts with `key`. */
bool trie_has_below(const trie_node_t *root, const uint8_t *key, size_t len);

/* Ordered iterator: a stack of twigs from the root down to a leaf. */
struct trie_it {
	unsigned depth;   /* 0: past the end */
	const trie_node_t *stack[TRIE_DEPTH_MAX];
};

void trie_it_first(struct trie_it *it, const trie_node_t *root);
/* Position at the first key >= key (memcmp order, shorter first). */
void trie_it_seek(struct trie_it *it, const trie_node_t *root, const uint8_t *key, size_t len);
void trie_it_next(struct trie_it *it);

static inline bool trie_it_valid(const struct trie_it *it)
{
	return it->depth > 0;
}

static inline const struct trie_key *trie_it_key(const struct trie_it *it)
{
	return (const struct trie_key *)it->stack[it->depth - 1]->i;
}

static inline void *trie_it_val(const struct trie_it *it)
{
	return it->stack[it->depth - 1]->p;
}

/*
 * Build a whole tree at once from n keys in strictly increasing memcmp()
 * order (a key before its extensions), each with the value val_of(key)
 * (a key is usually the start of its value's allocation), twig arrays
 * stamped `stamp`; *root must be empty. Same tree as n trie_set() calls,
 * without the intermediate copies. The order is the caller's duty: some
 * violations (duplicates) are found, not all. DDI_EINVAL (not empty,
 * key too long, disorder found), DDI_ENOMEM; the root stays empty then.
 */
int trie_build(trie_node_t *root, const struct trie_key *const *keys,
               void *(*val_of)(const struct trie_key *key), size_t n, uint64_t stamp);

/*
 * Free the twig arrays stamped `stamp` (what an aborted transaction made);
 * the older ones are left alone. Values are not touched.
 */
void trie_free_fresh(trie_node_t *root, uint64_t stamp);

/* Free every twig array; call leaf(ctx, key, val) for each leaf first. */
void trie_free(trie_node_t *root, void (*leaf)(void *ctx, const struct trie_key *key, void *val),
               void *ctx);

/*
 * Set every stamp to 0 (in place, each with one atomic store, so
 * concurrent readers are safe: they never look at stamps). Needed once
 * every TRIE_STAMP_MAX transactions, before stamps are reused.
 */
void trie_stamp_reset(trie_node_t *root);

#endif
