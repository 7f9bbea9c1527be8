/* radix -- copy-on-write path-compressed binary radix tree over IPv4/IPv6 addresses, with counts */
#include <stdlib.h>
#include <string.h>

#include "dns/errcode.h"
#include "index/radix.h"

/*
 * Addresses are handled as unsigned 128-bit integers: an IPv4 address is
 * the low 32 bits. Bit b of a W-bit address (b = 0 the most significant)
 * is (a >> (W - 1 - b)) & 1.
 */
typedef unsigned __int128 u128;

struct radix_node {
	/* No copy of the leaves' common prefix: any leaf below has it (as in a
	 * crit-bit tree), and only the writer and the counting queries need it.
	 * 40 bytes: a 48-byte malloc chunk instead of 64, one per address. */
	uint64_t gen;    /* transaction that allocated this node */
	uint64_t count;  /* leaves below */
	void *child[2];  /* tagged: bit 0 set = struct idx_addr * */
	uint8_t bit;     /* the bit the children differ in: child[bit of address] */
};


static inline bool is_leaf(const void *p)
{
	return (uintptr_t)p & 1;
}

static inline struct idx_addr *as_leaf(const void *p)
{
	return (struct idx_addr *)((uintptr_t)p & ~(uintptr_t)1);
}

static inline void *tag_leaf(struct idx_addr *a)
{
	return (void *)((uintptr_t)a | 1);
}

int radix_width(int family)
{
	return family == 4 ? 32 : family == 6 ? 128 : 0;
}

static u128 to_u128(const uint8_t *addr, int w)
{
	u128 a = 0;
	for (int k = 0; k < w / 8; k++)
		a = a << 8 | addr[k];
	return a;
}

static void from_u128(u128 a, int w, uint8_t out[16])
{
	memset(out, 0, 16);
	for (int k = w / 8 - 1; k >= 0; k--) {
		out[k] = (uint8_t)a;
		a >>= 8;
	}
}

static inline unsigned bit_at(u128 a, int w, int b)
{
	return (unsigned)(a >> (w - 1 - b)) & 1;
}

/* The first p of w bits set. */
static inline u128 hi_mask(int w, int p)
{
	if (p == 0)
		return 0;
	return (~(u128)0 << (128 - p)) >> (128 - w);
}

/* The last w - p bits set: the offsets within a /p. */
static inline u128 lo_mask(int w, int p)
{
	if (w - p == 128)
		return ~(u128)0;
	return ((u128)1 << (w - p)) - 1;
}

/* Index of the first bit in which a and b (different) differ. */
static inline int first_diff(u128 a, u128 b, int w)
{
	u128 x = a ^ b;
	uint64_t hi = (uint64_t)(x >> 64);
	int lz = hi ? __builtin_clzll(hi) : 64 + __builtin_clzll((uint64_t)x);
	return lz - (128 - w);
}

static inline u128 leaf_u128(const void *p, int w)
{
	return to_u128(as_leaf(p)->addr, w);
}

/* The first n->bit bits every leaf below n shares, the rest 0: from its leftmost leaf. */
static u128 node_key(const struct radix_node *n, int w)
{
	const void *p = n;
	while (!is_leaf(p))
		p = ((const struct radix_node *)p)->child[0];
	return leaf_u128(p, w) & hi_mask(w, n->bit);
}

static inline uint64_t subtree_count(const void *p)
{
	if (p == NULL)
		return 0;
	return is_leaf(p) ? 1 : ((const struct radix_node *)p)->count;
}

/* ------------------------------------------------------------------------ */
/* Readers                                                                  */
/* ------------------------------------------------------------------------ */

static const void *find_leaf(const void *root, int w, u128 a)
{
	const void *p = root;

	while (p != NULL && !is_leaf(p)) {
		const struct radix_node *n = p;
		p = n->child[bit_at(a, w, n->bit)];
	}
	if (p != NULL && leaf_u128(p, w) == a)
		return p;
	return NULL;
}

static inline uint64_t load64(const uint8_t *b)
{
	uint64_t v = 0;
	for (int k = 0; k < 8; k++)
		v = v << 8 | b[k];
	return v;
}

/*
 * The PTR answer's lookup: a descent of one dependent load per level, so
 * the bit test is done in 32 or 64 bits rather than 128.
 */
const struct idx_addr *radix_find(const void *root, int family, const uint8_t *addr)
{
	const void *p = root;

	if (addr == NULL)
		return NULL;
	if (family == 4) {
		uint32_t a = (uint32_t)addr[0] << 24 | (uint32_t)addr[1] << 16 |
		             (uint32_t)addr[2] << 8 | addr[3];
		while (p != NULL && !is_leaf(p)) {
			const struct radix_node *n = p;
			p = n->child[(a >> (31 - n->bit)) & 1];
		}
		if (p != NULL && memcmp(as_leaf(p)->addr, addr, 4) == 0)
			return as_leaf(p);
		return NULL;
	}
	if (family == 6) {
		uint64_t hi = load64(addr), lo = load64(addr + 8);
		while (p != NULL && !is_leaf(p)) {
			const struct radix_node *n = p;
			unsigned b = n->bit;
			uint64_t bit = b < 64 ? hi >> (63 - b) : lo >> (127 - b);
			p = n->child[bit & 1];
		}
		if (p != NULL && memcmp(as_leaf(p)->addr, addr, 16) == 0)
			return as_leaf(p);
		return NULL;
	}
	return NULL;
}

void radix_find_bulk(struct radix_bulk *q, unsigned n)
{
	unsigned active = 0;
	for (unsigned k = 0; k < n; k++) {
		q[k].found = NULL;
		if (q[k].addr != NULL && (q[k].family == 4 || q[k].family == 6) && q[k].root != NULL)
			active++;
		else
			q[k].root = NULL;   /* done */
	}
	/*
	 * q[k].root is the lane's position (NULL: done); a leaf is prefetched
	 * and compared on the lane's next turn.
	 */
	while (active > 0) {
		for (unsigned k = 0; k < n; k++) {
			const void *p = q[k].root;
			if (p == NULL)
				continue;
			if (is_leaf(p)) {
				size_t w = q[k].family == 4 ? 4 : 16;
				if (memcmp(as_leaf(p)->addr, q[k].addr, w) == 0)
					q[k].found = as_leaf(p);
				q[k].root = NULL;
				active--;
				continue;
			}
			const struct radix_node *nd = p;
			unsigned b = nd->bit;
			const uint8_t *a = q[k].addr;
			unsigned bit = (a[b >> 3] >> (7 - (b & 7))) & 1;
			p = nd->child[bit];
			if (p == NULL) {
				q[k].root = NULL;
				active--;
				continue;
			}
			__builtin_prefetch(is_leaf(p) ? (const void *)as_leaf(p) : p, 0, 3);
			q[k].root = p;
		}
	}
}

uint64_t radix_count(const void *root, int family, const uint8_t *prefix, int plen)
{
	int w = radix_width(family);

	if (w == 0 || prefix == NULL || plen < 0 || plen > w)
		return 0;
	u128 m = hi_mask(w, plen);
	u128 a = to_u128(prefix, w) & m;
	const void *p = root;
	while (p != NULL) {
		if (is_leaf(p))
			return (leaf_u128(p, w) & m) == a;
		const struct radix_node *n = p;
		/* Below n every leaf shares n->bit bits: if that covers the
		 * prefix, the whole subtree is in or out. */
		if (n->bit >= plen)
			return (node_key(n, w) & m) == a ? n->count : 0;
		p = n->child[bit_at(a, w, n->bit)];
	}
	return 0;
}

/*
 * The lowest address in [lo, hi] within the /d whose first d bits are
 * base's that the stored subtree p (the leaves of that /d) does not hold.
 * Steps one bit at a time; a full /d inside the range is skipped at once,
 * so only the two paths along lo and hi go deep: O(w) calls.
 */
/* The prefix of the last node whose prefix next_free needed: it steps
 * through a node's compressed bits one call at a time. */
struct key_memo {
	const struct radix_node *n;
	u128 key;
};

static u128 memo_key(struct key_memo *m, const struct radix_node *n, int w)
{
	if (m->n != n) {
		m->n = n;
		m->key = node_key(n, w);
	}
	return m->key;
}

static bool next_free(const void *p, int w, u128 base, int d, u128 lo, u128 hi, u128 *out,
                      struct key_memo *m)
{
	u128 end = base | lo_mask(w, d);

	if (end < lo || base > hi)
		return false;
	u128 from = base > lo ? base : lo;
	u128 to = end < hi ? end : hi;
	if (p == NULL) {
		*out = from;
		return true;
	}
	if (is_leaf(p)) {
		if (leaf_u128(p, w) != from) {
			*out = from;
			return true;
		}
		if (from < to) {
			*out = from + 1;
			return true;
		}
		return false;
	}
	const struct radix_node *n = p;
	/* Capacity 2^(w-d) exceeds any count when w - d >= 64. */
	if (from == base && to == end && w - d < 64 && n->count == (uint64_t)1 << (w - d))
		return false;
	u128 half = (u128)1 << (w - 1 - d);
	const void *c0, *c1;
	if (n->bit > d) {
		/* The /d+1 holding n's prefix has all of it; the other none. */
		bool right = bit_at(memo_key(m, n, w), w, d);
		c0 = right ? NULL : p;
		c1 = right ? p : NULL;
	} else {
		c0 = n->child[0];
		c1 = n->child[1];
	}
	return next_free(c0, w, base, d + 1, lo, hi, out, m) ||
	       next_free(c1, w, base | half, d + 1, lo, hi, out, m);
}

int radix_next_free(const void *root, int family, const uint8_t *prefix, int plen,
                    uint64_t skip_low, uint64_t skip_high, uint8_t out[16])
{
	int w = radix_width(family);

	if (w == 0 || prefix == NULL || out == NULL || plen < 0 || plen > w)
		return DDI_EINVAL;
	u128 base = to_u128(prefix, w) & hi_mask(w, plen);
	u128 span = lo_mask(w, plen);   /* addresses in the prefix, minus one */
	if ((u128)skip_low > span || (u128)skip_high > span - skip_low)
		return DDI_EFULL;
	u128 lo = base + skip_low, hi = base + span - skip_high, a;
	struct key_memo memo = { NULL, 0 };
	if (!next_free(root, w, 0, 0, lo, hi, &a, &memo))
		return DDI_EFULL;
	from_u128(a, w, out);
	return DDI_EOK;
}

static int walk_rec(const void *p, int (*cb)(void *, const struct idx_addr *), void *ctx)
{
	if (p == NULL)
		return 0;
	if (is_leaf(p))
		return cb(ctx, as_leaf(p));
	const struct radix_node *n = p;
	int r = walk_rec(n->child[0], cb, ctx);
	return r ? r : walk_rec(n->child[1], cb, ctx);
}

int radix_walk(const void *root, int (*cb)(void *ctx, const struct idx_addr *a), void *ctx)
{
	return walk_rec(root, cb, ctx);
}

/* ------------------------------------------------------------------------ */
/* Writer                                                                   */
/* ------------------------------------------------------------------------ */

/* Make *slot (an interior node; slot itself is fresh) belong to this txn. */
static struct radix_node *cow_node(struct radix_cow *c, void **slot)
{
	struct radix_node *n = *slot;

	if (n->gen == c->gen)
		return n;
	struct radix_node *m = malloc(sizeof(*m));
	if (m == NULL)
		return NULL;
	if (idx_gc_push(c->garbage, n) != DDI_EOK) {
		free(m);
		return NULL;
	}
	*m = *n;
	m->gen = c->gen;
	*slot = m;
	return m;
}

/* A new node at bit d over leaf (new) and the existing subtree `other`. */
static struct radix_node *split(struct radix_cow *c, int w, u128 a, int d, void *leaf, void *other)
{
	struct radix_node *m = malloc(sizeof(*m));

	if (m == NULL)
		return NULL;
	memset(m, 0, sizeof(*m));
	m->gen = c->gen;
	m->bit = (uint8_t)d;
	m->count = 1 + subtree_count(other);
	unsigned b = bit_at(a, w, d);
	m->child[b] = leaf;
	m->child[!b] = other;
	return m;
}

int radix_set(struct radix_cow *c, void **root, struct idx_addr *leaf, struct idx_addr **old)
{
	int w = radix_width(leaf ? leaf->family : 0);

	*old = NULL;
	if (w == 0 || c->gen == 0 || ((uintptr_t)leaf & 1))
		return DDI_EINVAL;
	u128 a = to_u128(leaf->addr, w);
	void **slot = root;
	if (*slot == NULL) {
		*slot = tag_leaf(leaf);
		return DDI_EOK;
	}
	/* The leaf a's bits lead to tells where a differs from the tree (crit-bit). */
	const void *p = *root;
	while (!is_leaf(p)) {
		const struct radix_node *n = p;
		p = n->child[bit_at(a, w, n->bit)];
	}
	u128 la = leaf_u128(p, w);
	bool exists = la == a;
	int d = exists ? w : first_diff(a, la, w);

	/* Down to the subtree the new node goes above (or to a's leaf), copying the path. */
	for (;;) {
		void *q = *slot;
		if (is_leaf(q) || ((struct radix_node *)q)->bit > d)
			break;
		struct radix_node *n = cow_node(c, slot);
		if (n == NULL)
			return DDI_ENOMEM;
		if (!exists)
			n->count++;
		slot = &n->child[bit_at(a, w, n->bit)];
	}
	if (exists) {
		*old = as_leaf(*slot);
		*slot = tag_leaf(leaf);
		return DDI_EOK;
	}
	struct radix_node *m = split(c, w, a, d, tag_leaf(leaf), *slot);
	if (m == NULL)
		return DDI_ENOMEM;
	*slot = m;
	return DDI_EOK;
}

int radix_del(struct radix_cow *c, void **root, int family, const uint8_t *addr,
              struct idx_addr **old)
{
	int w = radix_width(family);

	*old = NULL;
	if (w == 0 || addr == NULL || c->gen == 0)
		return DDI_EINVAL;
	u128 a = to_u128(addr, w);
	if (find_leaf(*root, w, a) == NULL)
		return DDI_ENOENT;
	void **slot = root;
	if (is_leaf(*slot)) {
		*old = as_leaf(*slot);
		*slot = NULL;
		return DDI_EOK;
	}
	for (;;) {
		struct radix_node *n = *slot;
		unsigned b = bit_at(a, w, n->bit);
		if (is_leaf(n->child[b])) {
			/* n goes away, its other child takes its place. */
			if (n->gen != c->gen && idx_gc_push(c->garbage, n) != DDI_EOK)
				return DDI_ENOMEM;
			*old = as_leaf(n->child[b]);
			*slot = n->child[!b];
			if (n->gen == c->gen)
				free(n);
			return DDI_EOK;
		}
		if ((n = cow_node(c, slot)) == NULL)
			return DDI_ENOMEM;
		n->count--;
		slot = &n->child[b];
	}
}

/* ------------------------------------------------------------------------ */
/* Freeing                                                                  */
/* ------------------------------------------------------------------------ */

void radix_free_fresh(void *root, uint64_t gen)
{
	if (root == NULL || is_leaf(root))
		return;
	struct radix_node *n = root;
	/* An older node has no fresh descendants (changes copy the path). */
	if (n->gen != gen)
		return;
	radix_free_fresh(n->child[0], gen);
	radix_free_fresh(n->child[1], gen);
	free(n);
}

void radix_free(void *root, void (*leaf)(void *ctx, struct idx_addr *a), void *ctx)
{
	if (root == NULL)
		return;
	if (is_leaf(root)) {
		if (leaf)
			leaf(ctx, as_leaf(root));
		return;
	}
	struct radix_node *n = root;
	radix_free(n->child[0], leaf, ctx);
	radix_free(n->child[1], leaf, ctx);
	free(n);
}
