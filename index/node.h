/* node -- building index nodes: key, header, RRsets, owner and RR blobs in one allocation */
#ifndef DDI_INDEX_NODE_H
#define DDI_INDEX_NODE_H

#include <stddef.h>
#include <stdint.h>

#include "index/index.h"
#include "index/slab.h"
#include "index/trie.h"

/*
 * A node block is one malloc(), or one block of a bulk load's slab:
 *
 *   struct trie_key (2) + key bytes | pad to 4 | struct idx_node (8)
 *   | rrsets[nrrsets] (16 each) | [owner wire name] | RR blobs
 *
 * The trie leaf points at the key (the block's start) and at the node, so
 * node_free(key) frees the whole node; the node finds its key by key_off. The
 * owner's wire name is there only when its spelling is not the lower-case
 * form the key gives (it has upper-case letters): most names are written
 * lower-case, and their node then holds the name once, as its key. The
 * owner sits before the blobs so that its 16-bit offset always fits.
 */

#define NODE_MAX_RRSETS 1024   /* keeps owner_off in 16 bits */

/* The node of a block, from its key (the block's start): the layout above. */
static inline struct idx_node *node_of_key(const struct trie_key *k)
{
	const size_t al = _Alignof(struct idx_node);
	return (struct idx_node *)((uint8_t *)k + ((sizeof(struct trie_key) + k->len + al - 1) & ~(al - 1)));
}

/* key_off: the distance back to the key (keys are short), and a flag. */
#define NODE_KEY_OFF_MASK 0x7fffu
#define NODE_KEY_SLAB 0x8000u   /* the block comes from a slab (node_free) */

/* The trie key of a node's block. */
static inline const struct trie_key *key_of_node(const struct idx_node *n)
{
	return (const struct trie_key *)((const uint8_t *)n - (n->key_off & NODE_KEY_OFF_MASK));
}

/*
 * Build a node for `owner` (wire, original case) with lookup key `key`:
 * the RRsets of `old` (may be NULL) with the RRset of `type` replaced by
 * `count` RRs of class IN from `rdatas` ([rdlen(2) rdata] items, already
 * checked to be exactly rdatas_len bytes); count 0 removes it; type 0
 * keeps old's RRsets unchanged. Flags are set to `flags`. The block comes
 * from slab `sl` when given (and the block fits one), else from malloc().
 * Returns DDI_EOK and the node and its key, or DDI_ENOMEM, DDI_ELIMIT.
 */
int node_build(struct idx_node **out, const struct trie_key **keyout, const uint8_t *key,
               size_t keylen, const uint8_t *owner, size_t ownerlen, uint16_t flags,
               const struct idx_node *old, uint16_t type, uint32_t ttl, uint16_t count,
               const uint8_t *rdatas, size_t rdatas_len, struct slab *sl);

/* Bytes of a node block, from its key to the end of its last part. */
size_t node_block_len(const struct trie_key *k);

/* Free a node block by its key: free() or slab_free(), as it was made. */
void node_free(const struct trie_key *k);

#endif
