/* radix -- copy-on-write multibit radix tree (8-bit strides, bitmap-packed children) over IPv4/IPv6 addresses, with counts */
#ifndef DDI_INDEX_RADIX_H
#define DDI_INDEX_RADIX_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "index/index.h"
#include "index/trie.h"

/*
 * One tree per family: IPv4 is 32 bits wide, IPv6 128. Leaves are struct
 * idx_addr (caller-allocated, never changed once linked; a change is a new
 * leaf). An interior node branches on one byte of the address (256 ways at
 * most, only the children that exist stored, packed behind a bitmap), skips
 * the bytes all its leaves share (path compression; a lookup compares the
 * whole address at the leaf), and keeps how many leaves it holds and which
 * of its children are full. So a lookup is at most 4 node steps for IPv4
 * and 16 for IPv6; radix_count is a descent, plus at the partial byte of a
 * prefix length that is not a multiple of 8 a popcount or the sum of at
 * most 128 children's counts; radix_next_free passes full children on the
 * bitmap and goes deep only along the two ends of the range: O(levels).
 *
 * A root is a tagged pointer: NULL is empty, bit 0 set is a leaf.
 *
 * Copy-on-write as in trie.h: an interior node carries the generation of
 * the transaction that allocated it; a writer copies older nodes on the
 * path it changes (the old ones go to the garbage list) and changes its own
 * in place. Readers need no lock.
 */

struct radix_cow {
	uint64_t gen;             /* non-zero, unique among live nodes */
	struct idx_gc *garbage;   /* replaced nodes of older versions */
};

/* 32 for family 4, 128 for 6, 0 otherwise. */
int radix_width(int family);

const struct idx_addr *radix_find(const void *root, int family, const uint8_t *addr);

/* One lookup of radix_find_bulk: in root, family, addr; out found. */
struct radix_bulk {
	const void *root;
	int family;
	const uint8_t *addr;
	const struct idx_addr *found;
};

/*
 * radix_find for n lookups at once, walked level by level with each
 * lookup's next node prefetched while the others take their step, so that
 * their cache misses overlap (as trie_get_prefixes_bulk).
 */
void radix_find_bulk(struct radix_bulk *q, unsigned n);

/*
 * Insert `leaf` (its family and addr say where) or replace the leaf of the
 * same address, which goes to *old (else NULL) for the caller to free.
 * DDI_ENOMEM: abort the transaction.
 */
int radix_set(struct radix_cow *c, void **root, struct idx_addr *leaf, struct idx_addr **old);

/* Remove the leaf of addr into *old. DDI_ENOENT if absent. */
int radix_del(struct radix_cow *c, void **root, int family, const uint8_t *addr,
              struct idx_addr **old);

/* Leaves within prefix/plen (bits after plen are ignored); 0 for a bad plen. */
uint64_t radix_count(const void *root, int family, const uint8_t *prefix, int plen);

/*
 * The lowest address of prefix/plen that has no leaf, skipping the first
 * skip_low and the last skip_high addresses of the prefix. DDI_EOK, or
 * DDI_EFULL, or DDI_EINVAL for a bad family or plen.
 */
int radix_next_free(const void *root, int family, const uint8_t *prefix, int plen,
                    uint64_t skip_low, uint64_t skip_high, uint8_t out[16]);

/* In-order walk of the leaves; stops at and returns cb's first non-zero. */
int radix_walk(const void *root, int (*cb)(void *ctx, const struct idx_addr *a), void *ctx);

/* Free the interior nodes of generation gen (an aborted transaction's). */
void radix_free_fresh(void *root, uint64_t gen);

/* Free every interior node, calling leaf(ctx, a) for each leaf. */
void radix_free(void *root, void (*leaf)(void *ctx, struct idx_addr *a), void *ctx);

#endif
