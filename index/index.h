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
 * common case, also for wildcards) is one memcpy of the blob. The blobs lie
 * end to end in the order of the entries from the node's blobs_off on, so
 * an entry needs no offset (idx_rrset_blob adds up the lengths before it,
 * none for the first); the TTL is in every RR of the blob (idx_rrset_ttl).
 */
struct idx_rrset {
	uint16_t type;
	uint16_t count;     /* number of RRs */
	uint32_t len;       /* blob bytes: count x [C0 0C, type(2) class(2) ttl(4) rdlen(2) rdata] */
};

struct idx_node {
	uint16_t flags;      /* enum idx_node_flag */
	uint16_t nrrsets;
	uint16_t blobs_off;  /* offset of the first RR blob from the node; the owner's wire name
	                        is stored when this is past the rrsets array (it lies between) */
	uint16_t key_off;    /* the block's trie key starts this many bytes before the node;
	                        top bit: the block is from a slab (index/node.h) */
	struct idx_rrset rrsets[];  /* sorted by type; a mixed-case owner, then the blobs, follow */
};

/*
 * The owner's wire name, in the spelling the node was created with, into
 * `out`; returns its length. The node keeps a copy of the owner only when
 * it has upper-case letters: otherwise the name is rebuilt from the trie
 * key in front of the node (the lower-case form), a short loop over the key.
 */
size_t idx_node_owner(const struct idx_node *n, uint8_t out[DNS_NAME_MAXLEN]);

/* Is the owner's spelling stored in the node (it has upper-case letters)? */
static inline bool idx_node_has_owner(const struct idx_node *n)
{
	return n->blobs_off > sizeof(*n) + (size_t)n->nrrsets * sizeof(n->rrsets[0]);
}

/* The RR blob of rs (an entry of n): after the blobs of the entries before it. */
static inline const uint8_t *idx_rrset_blob(const struct idx_node *n, const struct idx_rrset *rs)
{
	size_t off = n->blobs_off;
	for (const struct idx_rrset *p = n->rrsets; p < rs; p++)
		off += p->len;
	return (const uint8_t *)n + off;
}

/* The TTL of rs (an entry of n, count >= 1): its first RR's. */
static inline uint32_t idx_rrset_ttl(const struct idx_node *n, const struct idx_rrset *rs)
{
	const uint8_t *t = idx_rrset_blob(n, rs) + 6;   /* C0 0C type class | ttl */
	return (uint32_t)t[0] << 24 | (uint32_t)t[1] << 16 | (uint32_t)t[2] << 8 | t[3];
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
 *
 * Layout (8-byte aligned): the header, the address sized to its family (4
 * or 16 bytes), padding to 8, then the owner pointers: 8 + 8 x nowners
 * bytes for IPv4, 24 + 8 x nowners for IPv6 (idx_addr_len). The PTR TTL
 * is not stored: idx_addr_ttl reads it from the owners' nodes.
 */
struct idx_addr {
	uint8_t family;     /* 4 or 6 */
	uint8_t slab;       /* 1: the leaf comes from a bulk load's slab (index/slab.h) */
	uint16_t nowners;   /* >= 1 */
	uint8_t addr[];     /* network order, 4 or 16 bytes; the owners follow */
};

#define IDX_ADDR_OWNERS_OFF(family) ((family) == 4 ? 8u : 24u)

/* Bytes of a leaf of `family` with `nowners` owners. */
static inline size_t idx_addr_len(int family, size_t nowners)
{
	return IDX_ADDR_OWNERS_OFF(family) + nowners * sizeof(const struct idx_node *);
}

/* The owners' nodes of a leaf, nowners of them. */
static inline const struct idx_node *const *idx_addr_owners(const struct idx_addr *a)
{
	return (const struct idx_node *const *)(const void *)((const uint8_t *)a +
	                                                      IDX_ADDR_OWNERS_OFF(a->family));
}

static inline const struct idx_node *idx_addr_owner(const struct idx_addr *a, size_t i)
{
	return idx_addr_owners(a)[i];
}

/*
 * The PTR TTL of a leaf: the smallest TTL of its owners' A (IPv4) or AAAA
 * (IPv6) RRsets (index/node.c).
 */
uint32_t idx_addr_ttl(const struct idx_addr *a);

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
 * ending at a label boundary). Lifetime as for idx_find. `key` (and each
 * key of idx_find_path_bulk) starts a buffer of DNS_KEY_MAXLEN readable
 * bytes: the descent reads past keylen (trie_get_prefixes, index/trie.h).
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
