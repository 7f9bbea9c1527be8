/* radix -- copy-on-write multibit (8-bit stride, bitmap-packed) radix tree over IPv4/IPv6 addresses, with counts */
#include <assert.h>
#include <stdlib.h>
#include <string.h>

#include "dns/errcode.h"
#include "index/radix.h"

/*
 * Each interior node branches on one byte of the address (its `pos`) and
 * holds only the children that exist, packed in byte order behind a 256-bit
 * bitmap (as poptrie): the child for byte value c is child[rank of c], the
 * number of set bits below c. The bytes before `pos` are the same for every
 * leaf below the node and are not stored (path compression, as in a
 * crit-bit tree): a lookup skips them and compares the whole address with
 * the leaf it ends at. So an IPv4 lookup is at most 4 node steps, an IPv6
 * one at most 16, and a dense /24 is one node of 256 pointers.
 *
 * Every node has at least two children; the root may be a single leaf.
 *
 * The 8-bit stride was chosen over 4 bits: a 4-bit node saves nothing on
 * the pointers (a dense /24 is 256 pointers either way) but doubles the
 * dependent loads of a lookup (8 instead of 4 for IPv4), and the header of
 * a 256-bit bitmap with its ranks fits one 64-byte line with the counts.
 */

/* POPCNT is in DPDK's x86 baseline (-march=corei7), which the daemon needs
 * anyway; without it every popcount is a call into libgcc. */
#if defined(__x86_64__) && defined(__GNUC__) && !defined(__clang__) && !defined(__POPCNT__)
#pragma GCC target("popcnt")
#endif

/*
 * Addresses are handled as unsigned 128-bit integers where arithmetic is
 * needed (counts and next free): an IPv4 address is the low 32 bits.
 */
typedef unsigned __int128 u128;

struct radix_node {
	/* What a lookup reads first. */
	uint64_t bitmap[4];  /* bit c: a child for byte value c */
	uint8_t rank[4];     /* children for byte values below 64 * k */
	uint8_t pos;         /* the byte the children differ in (0 = first) */
	uint8_t pad_;
	uint16_t n;          /* children, 2..256 */
	uint16_t cap;        /* room allocated for children */
	uint64_t gen;        /* transaction that allocated this node */
	uint64_t count;      /* leaves below */
	/* What only next free reads: bit c set when the child for byte value c
	 * holds every address of its block (2^(width - 8 * (pos + 1))). */
	uint64_t full[4];
	void *child[];       /* n, by byte value; tagged: bit 0 set = struct idx_addr * */
};

static_assert(offsetof(struct radix_node, full) == 64, "what a lookup reads is the first line");

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

static inline unsigned pop64(uint64_t x)
{
	return (unsigned)__builtin_popcountll(x);
}

static inline bool has_child(const struct radix_node *n, unsigned c)
{
	return (n->bitmap[c >> 6] >> (c & 63)) & 1;
}

static inline void bit_set(uint64_t *bits, unsigned c, bool on)
{
	if (on)
		bits[c >> 6] |= (uint64_t)1 << (c & 63);
	else
		bits[c >> 6] &= ~((uint64_t)1 << (c & 63));
}

/* Children for byte values below c (0..256): the index of c's child. */
static inline unsigned rank_of(const struct radix_node *n, unsigned c)
{
	if (c >= 256)
		return n->n;
	return n->rank[c >> 6] + pop64(n->bitmap[c >> 6] & (((uint64_t)1 << (c & 63)) - 1));
}

static void set_ranks(struct radix_node *n)
{
	n->rank[0] = 0;
	for (int k = 1; k < 4; k++)
		n->rank[k] = (uint8_t)(n->rank[k - 1] + pop64(n->bitmap[k - 1]));
}

static inline uint64_t subtree_count(const void *p)
{
	if (p == NULL)
		return 0;
	return is_leaf(p) ? 1 : ((const struct radix_node *)p)->count;
}

static const struct idx_addr *leftmost(const void *p)
{
	while (!is_leaf(p))
		p = ((const struct radix_node *)p)->child[0];
	return as_leaf(p);
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

/* The first `bits` bits of a and b are equal. */
static bool prefix_eq(const uint8_t *a, const uint8_t *b, int bits)
{
	int full = bits / 8, rest = bits % 8;
	if (memcmp(a, b, (size_t)full) != 0)
		return false;
	if (rest == 0)
		return true;
	uint8_t m = (uint8_t)(0xff << (8 - rest));
	return ((a[full] ^ b[full]) & m) == 0;
}

/* ------------------------------------------------------------------------ */
/* Readers                                                                  */
/* ------------------------------------------------------------------------ */

/* The leaf's address is addr: word loads, not a call to memcmp. */
static inline bool same_addr(const struct idx_addr *l, const uint8_t *addr, int family)
{
	if (family == 4) {
		uint32_t x, y;
		memcpy(&x, l->addr, 4);
		memcpy(&y, addr, 4);
		return x == y;
	}
	uint64_t x[2], y[2];
	memcpy(x, l->addr, 16);
	memcpy(y, addr, 16);
	return ((x[0] ^ y[0]) | (x[1] ^ y[1])) == 0;
}

/*
 * The PTR answer's lookup: per level one read of the node's first line
 * (pos, the bitmap word, its rank) and one of the child slot.
 */
const struct idx_addr *radix_find(const void *root, int family, const uint8_t *addr)
{
	const void *p = root;

	if (addr == NULL || p == NULL || (family != 4 && family != 6))
		return NULL;
	while (!is_leaf(p)) {
		const struct radix_node *n = p;
		unsigned c = addr[n->pos];
		uint64_t word = n->bitmap[c >> 6], bit = (uint64_t)1 << (c & 63);
		if (!(word & bit))
			return NULL;
		p = n->child[n->rank[c >> 6] + pop64(word & (bit - 1))];
	}
	if (same_addr(as_leaf(p), addr, family))
		return as_leaf(p);
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
	 * q[k].root is the lane's position (NULL: done); the node or leaf it
	 * moves to is prefetched and read on the lane's next turn.
	 */
	while (active > 0) {
		for (unsigned k = 0; k < n; k++) {
			const void *p = q[k].root;
			if (p == NULL)
				continue;
			if (is_leaf(p)) {
				if (same_addr(as_leaf(p), q[k].addr, q[k].family))
					q[k].found = as_leaf(p);
				q[k].root = NULL;
				active--;
				continue;
			}
			const struct radix_node *nd = p;
			unsigned c = q[k].addr[nd->pos];
			uint64_t word = nd->bitmap[c >> 6], bit = (uint64_t)1 << (c & 63);
			if (!(word & bit)) {
				q[k].root = NULL;
				active--;
				continue;
			}
			p = nd->child[nd->rank[c >> 6] + pop64(word & (bit - 1))];
			__builtin_prefetch(is_leaf(p) ? (const void *)as_leaf(p) : p, 0, 3);
			q[k].root = p;
		}
	}
}

/* Leaves below n whose byte at n->pos is in [lo, hi]. */
static uint64_t range_count(const struct radix_node *n, unsigned lo, unsigned hi)
{
	unsigned from = rank_of(n, lo), to = rank_of(n, hi + 1);
	if (n->count == n->n)   /* every child a leaf: the popcount is the count */
		return to - from;
	uint64_t sum = 0;
	for (unsigned k = from; k < to; k++)
		sum += subtree_count(n->child[k]);
	return sum;
}

/*
 * O(levels): down the prefix's full bytes; a node below the prefix length
 * counts whole, a node at its partial byte sums the children in range.
 */
uint64_t radix_count(const void *root, int family, const uint8_t *prefix, int plen)
{
	int w = radix_width(family);

	if (w == 0 || prefix == NULL || plen < 0 || plen > w)
		return 0;
	const void *p = root;
	while (p != NULL) {
		if (is_leaf(p))
			return prefix_eq(as_leaf(p)->addr, prefix, plen);
		const struct radix_node *n = p;
		/* Every leaf below n shares its first 8 * pos bits. */
		if (8 * n->pos >= plen)
			return prefix_eq(leftmost(n)->addr, prefix, plen) ? n->count : 0;
		if (8 * n->pos + 8 <= plen) {
			unsigned c = prefix[n->pos];
			p = has_child(n, c) ? n->child[rank_of(n, c)] : NULL;
			continue;
		}
		/* The prefix ends inside this node's byte. */
		if (!prefix_eq(leftmost(n)->addr, prefix, 8 * n->pos))
			return 0;
		int rest = plen - 8 * n->pos;
		unsigned lo = prefix[n->pos] & (0xffu << (8 - rest)) & 0xff;
		return range_count(n, lo, lo | (0xffu >> rest));
	}
	return 0;
}

/* The first c in [c0, c1] whose bit is clear, or -1. */
static int first_clear(const uint64_t bits[4], unsigned c0, unsigned c1)
{
	for (unsigned c = c0; c <= c1;) {
		uint64_t free_bits = ~bits[c >> 6] & (~(uint64_t)0 << (c & 63));
		if (free_bits) {
			unsigned f = (c & ~63u) + (unsigned)__builtin_ctzll(free_bits);
			return f <= c1 ? (int)f : -1;
		}
		c = (c & ~63u) + 64;
	}
	return -1;
}

/*
 * The lowest address in [lo, hi] within the /d (d a multiple of 8) whose
 * first d bits are base's that the subtree p (every stored address of that
 * /d) does not hold. A node's children are tried in byte order, the full
 * ones passed over on the node's bitmap of full children; a child wholly
 * inside [lo, hi] that is not full has a free address, so only the two
 * children at the ends of the range can come back empty: only the paths
 * along lo and hi go deep, O(levels) calls.
 */
static bool next_free(const void *p, int w, int d, u128 base, u128 lo, u128 hi, u128 *out)
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
		if (to_u128(as_leaf(p)->addr, w) != from) {
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
	int nd = 8 * n->pos;
	if (nd > d) {
		/* n's leaves all lie in one /nd: what is outside it is free. */
		u128 nb = to_u128(leftmost(n)->addr, w) & hi_mask(w, nd);
		u128 nend = nb | lo_mask(w, nd);
		if (from < nb || from > nend) {
			*out = from;
			return true;
		}
		if (next_free(p, w, nd, nb, lo, hi, out))
			return true;
		if (nend < to) {
			*out = nend + 1;
			return true;
		}
		return false;
	}
	/* Capacity 2^(w-d) exceeds any count when w - d >= 64. */
	if (from == base && to == end && w - d < 64 && n->count == (uint64_t)1 << (w - d))
		return false;
	int sh = w - d - 8;
	unsigned c0 = (unsigned)(from >> sh) & 0xff, c1 = (unsigned)(to >> sh) & 0xff;
	for (int c = first_clear(n->full, c0, c1); c >= 0;
	     c = (unsigned)c < c1 ? first_clear(n->full, (unsigned)c + 1, c1) : -1) {
		u128 cb = base | (u128)(unsigned)c << sh;
		if (!has_child(n, (unsigned)c)) {
			*out = cb > from ? cb : from;
			return true;
		}
		if (next_free(n->child[rank_of(n, (unsigned)c)], w, d + 8, cb, lo, hi, out))
			return true;
	}
	return false;
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
	if (!next_free(root, w, 0, 0, lo, hi, &a))
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
	for (unsigned k = 0; k < n->n; k++) {
		int r = walk_rec(n->child[k], cb, ctx);
		if (r)
			return r;
	}
	return 0;
}

int radix_walk(const void *root, int (*cb)(void *ctx, const struct idx_addr *a), void *ctx)
{
	return walk_rec(root, cb, ctx);
}

/* ------------------------------------------------------------------------ */
/* Writer                                                                   */
/* ------------------------------------------------------------------------ */

/* Set n's full bit for byte value b from its child there (w: the width). */
static void update_full(struct radix_node *n, unsigned b, int w)
{
	int bits = w - 8 * n->pos - 8;   /* the child's block holds 2^bits addresses */
	uint64_t have = has_child(n, b) ? subtree_count(n->child[rank_of(n, b)]) : 0;
	bit_set(n->full, b, bits < 64 && have == (uint64_t)1 << bits);
}

/* The nodes a change went through and the byte it took in each, root first. */
struct path {
	struct radix_node *n[16];
	uint8_t b[16];
	int depth;
};

/* After a change below them, the full bits of the path's nodes, bottom up. */
static void path_update_full(const struct path *pa, int w)
{
	for (int i = pa->depth - 1; i >= 0; i--)
		update_full(pa->n[i], pa->b[i], w);
}

static struct radix_node *node_alloc(const struct radix_cow *c, unsigned cap)
{
	struct radix_node *m = malloc(sizeof(*m) + cap * sizeof(void *));
	if (m == NULL)
		return NULL;
	memset(m, 0, sizeof(*m));
	m->gen = c->gen;
	m->cap = (uint16_t)cap;
	return m;
}

/* Room for a node growing in place: some slack, so a bulk load of a dense
 * prefix reallocates O(log n) times, not once per address. */
static unsigned grown_cap(unsigned n)
{
	unsigned cap = n < 4 ? n : n + n / 4;
	return cap > 256 ? 256 : cap;
}

/* Make *slot (an interior node; slot itself is fresh) belong to this txn. */
static struct radix_node *cow_node(struct radix_cow *c, void **slot)
{
	struct radix_node *n = *slot;

	if (n->gen == c->gen)
		return n;
	struct radix_node *m = node_alloc(c, n->n);
	if (m == NULL)
		return NULL;
	if (idx_gc_push(c->garbage, n) != DDI_EOK) {
		free(m);
		return NULL;
	}
	memcpy(m, n, sizeof(*n) + n->n * sizeof(void *));
	m->gen = c->gen;
	m->cap = n->n;
	*slot = m;
	return m;
}

/*
 * Add child p for byte value b (absent) to *slot's node n, one more leaf
 * below: in place if n is this transaction's (reallocated when it has no
 * room), else into a copy, the old one to the garbage list.
 */
static int add_child(struct radix_cow *c, void **slot, unsigned b, void *p, int w)
{
	struct radix_node *n = *slot;
	unsigned at = rank_of(n, b);

	if (n->gen == c->gen && n->n == n->cap) {
		unsigned cap = grown_cap(n->n + 1u);
		struct radix_node *m = realloc(n, sizeof(*n) + cap * sizeof(void *));
		if (m == NULL)
			return DDI_ENOMEM;
		m->cap = (uint16_t)cap;
		*slot = n = m;
	} else if (n->gen != c->gen) {
		struct radix_node *m = node_alloc(c, grown_cap(n->n + 1u));
		if (m == NULL)
			return DDI_ENOMEM;
		if (idx_gc_push(c->garbage, n) != DDI_EOK) {
			free(m);
			return DDI_ENOMEM;
		}
		uint16_t cap = m->cap;
		memcpy(m, n, sizeof(*n) + n->n * sizeof(void *));
		m->gen = c->gen;
		m->cap = cap;
		*slot = n = m;
	}
	memmove(&n->child[at + 1], &n->child[at], (n->n - at) * sizeof(void *));
	n->child[at] = p;
	n->n++;
	bit_set(n->bitmap, b, true);
	set_ranks(n);
	n->count += subtree_count(p);
	update_full(n, b, w);
	return DDI_EOK;
}

/*
 * Take the leaf child for byte value b (at index k) out of *slot's node n:
 * with two children n goes and the other takes its place (it keeps its own
 * byte position), else n loses the child, in place or in a copy.
 */
static int remove_child(struct radix_cow *c, void **slot, unsigned b, unsigned k,
                        struct idx_addr **old)
{
	struct radix_node *n = *slot;
	struct idx_addr *gone = as_leaf(n->child[k]);

	if (n->n == 2) {
		if (n->gen != c->gen && idx_gc_push(c->garbage, n) != DDI_EOK)
			return DDI_ENOMEM;
		*old = gone;
		*slot = n->child[!k];
		if (n->gen == c->gen)
			free(n);
		return DDI_EOK;
	}
	struct radix_node *m = n;
	if (n->gen != c->gen) {
		if ((m = node_alloc(c, n->n - 1u)) == NULL)
			return DDI_ENOMEM;
		if (idx_gc_push(c->garbage, n) != DDI_EOK) {
			free(m);
			return DDI_ENOMEM;
		}
		memcpy(m, n, sizeof(*n));
		m->gen = c->gen;
		m->cap = (uint16_t)(n->n - 1u);
		memcpy(m->child, n->child, k * sizeof(void *));
		memcpy(m->child + k, n->child + k + 1, (n->n - k - 1u) * sizeof(void *));
	} else {
		memmove(m->child + k, m->child + k + 1, (n->n - k - 1u) * sizeof(void *));
	}
	*old = gone;
	m->n--;
	m->count--;
	bit_set(m->bitmap, b, false);
	bit_set(m->full, b, false);
	set_ranks(m);
	*slot = m;
	return DDI_EOK;
}

/* A new node at byte d over the leaf (new, byte value a) and the subtree `other` (byte o). */
static struct radix_node *split(struct radix_cow *c, int w, int d, unsigned a, void *leaf,
                                unsigned o, void *other)
{
	struct radix_node *m = node_alloc(c, 2);

	if (m == NULL)
		return NULL;
	m->pos = (uint8_t)d;
	m->n = 2;
	m->count = 1 + subtree_count(other);
	m->bitmap[a >> 6] |= (uint64_t)1 << (a & 63);
	m->bitmap[o >> 6] |= (uint64_t)1 << (o & 63);
	set_ranks(m);
	m->child[a > o] = leaf;
	m->child[a < o] = other;
	update_full(m, a, w);
	update_full(m, o, w);
	return m;
}

int radix_set(struct radix_cow *c, void **root, struct idx_addr *leaf, struct idx_addr **old)
{
	int w = radix_width(leaf ? leaf->family : 0);

	*old = NULL;
	if (w == 0 || c->gen == 0 || ((uintptr_t)leaf & 1))
		return DDI_EINVAL;
	const uint8_t *a = leaf->addr;
	int bytes = w / 8;
	void **slot = root;
	if (*slot == NULL) {
		*slot = tag_leaf(leaf);
		return DDI_EOK;
	}
	/* A leaf that shares the longest prefix with a: its first difference
	 * is where a leaves the tree (crit-bit, by bytes). */
	const void *p = *root;
	while (!is_leaf(p)) {
		const struct radix_node *n = p;
		unsigned b = a[n->pos];
		p = n->child[has_child(n, b) ? rank_of(n, b) : 0];
	}
	const uint8_t *la = as_leaf(p)->addr;
	int d = 0;
	while (d < bytes && la[d] == a[d])
		d++;
	bool exists = d == bytes;

	/* Down to where a branches off, copying the path. */
	struct path pa = { .depth = 0 };
	for (;;) {
		struct radix_node *n = *slot;
		if (is_leaf(n) || n->pos > d)
			break;
		if (n->pos == d) {   /* a new byte value here (exists means d > every pos) */
			int ret = add_child(c, slot, a[d], tag_leaf(leaf), w);
			if (ret == DDI_EOK)
				path_update_full(&pa, w);
			return ret;
		}
		if ((n = cow_node(c, slot)) == NULL)
			return DDI_ENOMEM;
		if (!exists)
			n->count++;
		pa.n[pa.depth] = n;
		pa.b[pa.depth++] = a[n->pos];
		slot = &n->child[rank_of(n, a[n->pos])];
	}
	if (exists) {
		*old = as_leaf(*slot);
		*slot = tag_leaf(leaf);
		return DDI_EOK;
	}
	struct radix_node *m = split(c, w, d, a[d], tag_leaf(leaf), la[d], *slot);
	if (m == NULL)
		return DDI_ENOMEM;
	*slot = m;
	path_update_full(&pa, w);
	return DDI_EOK;
}

int radix_del(struct radix_cow *c, void **root, int family, const uint8_t *addr,
              struct idx_addr **old)
{
	int w = radix_width(family);

	*old = NULL;
	if (w == 0 || addr == NULL || c->gen == 0)
		return DDI_EINVAL;
	if (radix_find(*root, family, addr) == NULL)
		return DDI_ENOENT;
	void **slot = root;
	if (is_leaf(*slot)) {
		*old = as_leaf(*slot);
		*slot = NULL;
		return DDI_EOK;
	}
	struct path pa = { .depth = 0 };
	for (;;) {
		struct radix_node *n = *slot;
		unsigned b = addr[n->pos], k = rank_of(n, b);
		if (is_leaf(n->child[k])) {
			int ret = remove_child(c, slot, b, k, old);
			if (ret == DDI_EOK)
				path_update_full(&pa, w);
			return ret;
		}
		if ((n = cow_node(c, slot)) == NULL)
			return DDI_ENOMEM;
		n->count--;
		pa.n[pa.depth] = n;
		pa.b[pa.depth++] = (uint8_t)b;
		slot = &n->child[k];
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
	for (unsigned k = 0; k < n->n; k++)
		radix_free_fresh(n->child[k], gen);
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
	for (unsigned k = 0; k < n->n; k++)
		radix_free(n->child[k], leaf, ctx);
	free(n);
}
