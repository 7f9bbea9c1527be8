/* index -- the in-memory snapshot of names and addresses that answers are made from */
#ifndef DDI_INDEX_INDEX_H
#define DDI_INDEX_INDEX_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "dns/name.h"

/*
 * ---------------------------------------------------------------------------
 * The snapshot protocol (read this before touching anything in index/)
 * ---------------------------------------------------------------------------
 * A version (struct idx_version) is one immutable root: the name trie, the
 * IPv4 and IPv6 address radix trees, a generation and the journal sequence
 * it reflects. Readers are liburcu QSBR reader threads; there is one writer,
 * the control thread. The full protocol, with who frees what, is written
 * down in index/snapshot.h next to the functions it governs.
 * ---------------------------------------------------------------------------
 */

/* --- Nodes: one owner name and its RRsets, immutable once published ---- */

/*
 * Flags: APEX is set by idx_txn_zone_add, also on a node with no RRsets yet
 * (a zone added before its SOA); DELEG only without APEX; ENT only on a
 * node with no RRsets, never together with the others.
 */
enum idx_node_flag {
	IDX_NODE_APEX = 1 << 0,   /* zone apex: holds the SOA (and NS) of a zone we serve */
	IDX_NODE_DELEG = 1 << 1,  /* NS RRset below an apex: a zone cut (RFC 1034 4.2.1) */
	IDX_NODE_ENT = 1 << 2,    /* empty non-terminal: no RRsets, exists for its descendants */
};

/*
 * One RRset of a node. The RRs are stored ready to be copied into a
 * response: each starts with the compression pointer 0xC00C (the question
 * name at offset 12), so an answer whose owner is the question name (the
 * common case, also for wildcards) is one memcpy of the blob.
 */
struct idx_rrset {
	uint16_t type;
	uint16_t count;     /* number of RRs */
	uint32_t ttl;
	uint32_t off;       /* offset of the RR blob from the start of the node */
	uint32_t len;       /* blob bytes: count x [C0 0C, type(2) class(2) ttl(4) rdlen(2) rdata] */
};

struct idx_node {
	uint16_t flags;      /* enum idx_node_flag */
	uint16_t nrrsets;
	uint16_t owner_off;  /* offset of the owner's wire name from the node; 0: not stored */
	uint16_t key_off;    /* the block's trie key starts this many bytes before the node;
	                        top bit: the block is from a slab (index/node.h) */
	struct idx_rrset rrsets[];  /* sorted by type; blobs (and a mixed-case owner) follow */
};

/*
 * The owner's wire name, in the spelling the node was created with, into
 * `out`; returns its length. The node keeps a copy of the owner only when
 * it has upper-case letters: otherwise the name is rebuilt from the trie
 * key in front of the node (the lower-case form), a short loop over the key.
 */
size_t idx_node_owner(const struct idx_node *n, uint8_t out[DNS_NAME_MAXLEN]);

static inline const uint8_t *idx_rrset_blob(const struct idx_node *n, const struct idx_rrset *rs)
{
	return (const uint8_t *)n + rs->off;
}

/* The RRset of `type` or NULL. */
const struct idx_rrset *idx_node_rrset(const struct idx_node *n, uint16_t type);

/*
 * Iterate the RRs of an RRset: `*pos` starts at 0; each call returns a
 * pointer to one RR without its 2-byte owner pointer (type .. rdata) and
 * that length, NULL at the end.
 */
const uint8_t *idx_rrset_next(const struct idx_node *n, const struct idx_rrset *rs, uint32_t *pos,
                              uint16_t *rrlen);

/* --- Addresses: the radix trees' leaves ---------------------------------- */

/*
 * Everything known about one address: the nodes of the names whose A/AAAA
 * hold it, in the order they were added. A leaf points at the owners'
 * nodes of its own version: the writer replaces the leaf whenever it
 * replaces one of those nodes (snapshot.c, addrs_repoint), so a reader
 * reaches from a leaf only nodes of the version it acquired.
 */
struct idx_addr {
	uint8_t family;     /* 4 or 6 */
	uint8_t addr[16];   /* network order; IPv4 uses the first 4 bytes */
	uint8_t slab;       /* 1: the leaf comes from a bulk load's slab (index/slab.h) */
	uint16_t nowners;
	uint32_t ttl;       /* PTR TTL: the smallest TTL of the owners' A/AAAA RRsets */
	const struct idx_node *owner[];   /* nowners (>= 1) name nodes */
};

/* --- Versions ------------------------------------------------------------ */

struct idx_version;   /* opaque, see snapshot.h */
struct idx;           /* the published pointer and the writer's state */

/*
 * Exact lookup by lookup key (dns_name_to_key). NULL when absent. What a
 * lookup returns lives as long as the version: for a reader until its next
 * quiescent state, for the writer until the end of its transaction.
 */
const struct idx_node *idx_find(const struct idx_version *v, const uint8_t *key, size_t keylen);

/*
 * The names of the index that are `key` or an ancestor of it, found in one
 * descent of the trie (the zone apex, a zone cut and the closest encloser
 * of a question are among them): path->n entries, shortest key first,
 * path->keylen[i] the lookup key length of path->node[i] (a prefix of `key`
 * ending at a label boundary). Lifetime as for idx_find.
 */
#define IDX_PATH_MAX (DNS_NAME_MAXLABELS + 1)
struct idx_path {
	unsigned n;
	uint16_t keylen[IDX_PATH_MAX];
	const void *node[IDX_PATH_MAX];   /* each a const struct idx_node * */
};
void idx_find_path(const struct idx_version *v, const uint8_t *key, size_t keylen,
                   struct idx_path *path);

/*
 * idx_find_path for n (<= IDX_BULK_MAX) keys at once: keys[i] of lens[i]
 * bytes into *paths[i]. The lookups are walked level by level with
 * prefetches, so their cache misses overlap: a worker's burst costs about
 * as many dependent misses as its deepest lookup, not their sum.
 */
#define IDX_BULK_MAX 64
void idx_find_path_bulk(const struct idx_version *v, unsigned n, const uint8_t *const *keys,
                        const size_t *lens, struct idx_path *const *paths);

/* Exact lookup of an address (4 or 16 bytes, network order). NULL when absent. */
const struct idx_addr *idx_addr_find(const struct idx_version *v, int family, const uint8_t *addr);

/*
 * idx_addr_find for n (<= IDX_BULK_MAX) addresses at once (families[i] 4
 * or 6, else not looked up), into found[i]; walked level by level with
 * prefetches like idx_find_path_bulk.
 */
void idx_addr_find_bulk(const struct idx_version *v, unsigned n, const int *families,
                        const uint8_t *const *addrs, const struct idx_addr **found);

/*
 * Counts kept in the radix tree, O(prefix length):
 * idx_addr_count: addresses in prefix/plen that have an owner.
 * idx_addr_next_free: the lowest address in prefix/plen with no owner,
 * skipping the first `skip_low` and last `skip_high` addresses (IPv4
 * network and broadcast). Returns DDI_EOK or DDI_EFULL.
 */
uint64_t idx_addr_count(const struct idx_version *v, int family, const uint8_t *prefix, int plen);
int idx_addr_next_free(const struct idx_version *v, int family, const uint8_t *prefix, int plen,
                       uint64_t skip_low, uint64_t skip_high, uint8_t out[16]);

uint64_t idx_version_generation(const struct idx_version *v);
uint64_t idx_version_seq(const struct idx_version *v);     /* last journal sequence applied */
size_t idx_version_nodes(const struct idx_version *v);     /* names, ENTs included */

/*
 * In-order walk of every node at or below `key` (a lookup key; keylen 0 is
 * everything, and key may then be NULL), in DNS canonical order. Stops when cb returns non-zero and
 * returns that value.
 */
int idx_walk(const struct idx_version *v, const uint8_t *key, size_t keylen,
             int (*cb)(void *ctx, const struct idx_node *n), void *ctx);

#endif
