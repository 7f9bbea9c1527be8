/* trie -- copy-on-write qp-trie from byte-string keys to values (Finch's design, one level per common byte) */
#include <assert.h>
#include <stdlib.h>
#include <string.h>

#include "dns/errcode.h"
#include "index/trie.h"

/*
 * Branching. A nibble trie spends two levels (two dependent cache misses)
 * on every key byte; host names are made of a few dozen byte values, so,
 * as BIND 9.20's qp-trie does, a branch here tests a whole byte mapped to
 * one of 52 positions: every byte common in lookup keys (label end, escape,
 * '-', '.', '/', digits, '_', '`', lower-case letters) has a position of its
 * own, the rare ones share a position with a run of up to 32 neighbours.
 * Keys that differ inside such a group are told apart by a second branch
 * at the same byte on the offset within the group. A branch's index is
 * 2 * byte + phase (phase 0: position, 1: offset in the group); positions
 * and offsets grow with the byte value and "the key ends here" sorts before
 * both, so the children in bitmap order are still in memcmp() order of the
 * keys, shorter first.
 *
 * The index word of a twig. A leaf's word is its key pointer (trie_key is
 * 2-byte aligned, so bit 0 is clear; 0 is the empty tree). A branch's word:
 *
 *   bit 0        1 (branch)
 *   bits 1..53   bitmap: bit 1 = key ends here, bit 2 + k = position k
 *                (phase 0) or offset k in the group (phase 1)
 *   bits 54..63  branch index (2 * byte + phase, < 2 * 512)
 *
 * The stamp of the transaction that allocated a twig array is in the 8
 * bytes before the array (in the same malloc chunk size class as without
 * it); only the writer reads it.
 */
#define BR_FLAG 1ULL
#define BMP_SHIFT 1
#define BMP_BITS 53
#define BMP_MASK (((1ULL << BMP_BITS) - 1) << BMP_SHIFT)
#define NIX_SHIFT (BMP_SHIFT + BMP_BITS)
#define NIX_BITS 10
#define NIX_MASK (((1ULL << NIX_BITS) - 1) << NIX_SHIFT)
#define NPOS 52            /* phase-0 positions */
#define GROUP_MAX 32       /* bytes sharing one position at most */

_Static_assert(NIX_SHIFT + NIX_BITS == 64, "index word layout");
_Static_assert(1 + NPOS <= BMP_BITS && 1 + GROUP_MAX <= BMP_BITS, "bitmap holds the positions");
_Static_assert((1U << NIX_BITS) >= 2 * TRIE_KEY_MAXLEN, "branch index fits");
_Static_assert(sizeof(uintptr_t) == 8, "64-bit twigs");
_Static_assert(sizeof(trie_node_t) == 16, "twig is two words");

/*
 * The byte map: the first byte of each group and whether it stands alone.
 * Bytes 0x41-0x5a (upper case) never occur in lookup keys (dns_name_to_key
 * lower-cases), so they share a group with their rare neighbours.
 */
struct bytemap {
	uint8_t pos[256];   /* bitmap bit of the phase-0 position: 2 + 0..NPOS-1 */
	uint8_t sub[256];   /* bitmap bit of the offset in its group: 2 + 0..GROUP_MAX-1 */
};

/* Position or offset k is bitmap bit BMP_SHIFT + 1 + k; the tables hold that bit number. */
#define MAP_BIT0 (BMP_SHIFT + 1)
_Static_assert(MAP_BIT0 == 2 && MAP_BIT0 + NPOS - 1 < BMP_SHIFT + BMP_BITS, "byte map bit numbers");

typedef trie_node_t node_t;

static inline bool isbranch(const node_t *n)
{
	return n->i & BR_FLAG;
}

static inline unsigned nindex(const node_t *n)
{
	return (unsigned)((n->i & NIX_MASK) >> NIX_SHIFT);
}

/* The stamp word in front of a branch's twig array. */
static inline uint64_t *stamp_of(const node_t *n)
{
	return (uint64_t *)n->p - 1;
}

static inline uint64_t nstamp(const node_t *n)
{
	return *stamp_of(n);
}

/* A twig array of cnt twigs stamped `stamp` (uninitialised twigs). */
static node_t *tw_alloc(unsigned cnt, uint64_t stamp)
{
	uint64_t *b = malloc(sizeof(uint64_t) + cnt * sizeof(node_t));
	if (b == NULL)
		return NULL;
	b[0] = stamp;
	return (node_t *)(b + 1);
}

/* What malloc() returned for a twig array: for free() and the garbage list. */
static inline void *tw_block(node_t *t)
{
	return (uint64_t *)t - 1;
}

static inline node_t *twigs(const node_t *n)
{
	return n->p;
}

/*
 * Population count of the bitmap, once per level of every lookup. Without
 * -mpopcnt the builtin is a libgcc call, so on x86-64 this file asks for
 * the POPCNT instruction: every CPU that runs DPDK 22.11 (SSE4.2 baseline)
 * has it. Elsewhere the bit-parallel sum is a handful of instructions.
 */
#if defined(__x86_64__) && !defined(__POPCNT__)
#pragma GCC target("popcnt")
#define TRIE_HW_POPCNT 1
#elif defined(__POPCNT__)
#define TRIE_HW_POPCNT 1
#endif

static inline unsigned popcount(uint64_t x)
{
#ifdef TRIE_HW_POPCNT
	return (unsigned)__builtin_popcountll(x);
#else
	x = x - ((x >> 1) & 0x5555555555555555ULL);
	x = (x & 0x3333333333333333ULL) + ((x >> 2) & 0x3333333333333333ULL);
	x = (x + (x >> 4)) & 0x0f0f0f0f0f0f0f0fULL;
	return (unsigned)((x * 0x0101010101010101ULL) >> 56);
#endif
}

static inline unsigned twig_count(const node_t *n)
{
	return popcount(n->i & BMP_MASK);
}

/* Position of the twig for `bit` among the children (bit need not be set). */
static inline unsigned twig_off(const node_t *n, uint64_t bit)
{
	return popcount(n->i & BMP_MASK & (bit - 1));
}

static inline const struct trie_key *leaf_key(const node_t *n)
{
	return (const struct trie_key *)n->i;
}

/*
 * The groups, in byte order (position: bytes): 0: 00, 1: 01, 2: 02-21,
 * 3: 22-2c, 4: '-', 5: '.', 6: '/', 7-16: '0'-'9', 17: 3a-59, 18: 5a-5e,
 * 19: '_', 20: '`', 21-46: 'a'-'z', 47: 7b-9a, 48: 9b-ba, 49: bb-da,
 * 50: db-fa, 51: fb-ff. Constant tables: readers need no initialisation.
 * Each table is written once, a row of 16 bytes (0x00-0x0f, 0x10-0x1f, ...)
 * per line, and applied to a macro M: the byte map proper takes the bit
 * numbers as they are, the readers' table (to_top below) their distance
 * from bit 63.
 */
#define R16(M, a, b, c, d, e, f, g, h, i, j, k, l, m, n, o, p) \
	M(a), M(b), M(c), M(d), M(e), M(f), M(g), M(h), \
	M(i), M(j), M(k), M(l), M(m), M(n), M(o), M(p)
#define POS_TABLE(M) \
	R16(M,  2,  3,  4,  4,  4,  4,  4,  4,  4,  4,  4,  4,  4,  4,  4,  4),   /* 0x00 */ \
	R16(M,  4,  4,  4,  4,  4,  4,  4,  4,  4,  4,  4,  4,  4,  4,  4,  4),   /* 0x10 */ \
	R16(M,  4,  4,  5,  5,  5,  5,  5,  5,  5,  5,  5,  5,  5,  6,  7,  8),   /* 0x20 */ \
	R16(M,  9, 10, 11, 12, 13, 14, 15, 16, 17, 18, 19, 19, 19, 19, 19, 19),   /* 0x30 */ \
	R16(M, 19, 19, 19, 19, 19, 19, 19, 19, 19, 19, 19, 19, 19, 19, 19, 19),   /* 0x40 */ \
	R16(M, 19, 19, 19, 19, 19, 19, 19, 19, 19, 19, 20, 20, 20, 20, 20, 21),   /* 0x50 */ \
	R16(M, 22, 23, 24, 25, 26, 27, 28, 29, 30, 31, 32, 33, 34, 35, 36, 37),   /* 0x60 */ \
	R16(M, 38, 39, 40, 41, 42, 43, 44, 45, 46, 47, 48, 49, 49, 49, 49, 49),   /* 0x70 */ \
	R16(M, 49, 49, 49, 49, 49, 49, 49, 49, 49, 49, 49, 49, 49, 49, 49, 49),   /* 0x80 */ \
	R16(M, 49, 49, 49, 49, 49, 49, 49, 49, 49, 49, 49, 50, 50, 50, 50, 50),   /* 0x90 */ \
	R16(M, 50, 50, 50, 50, 50, 50, 50, 50, 50, 50, 50, 50, 50, 50, 50, 50),   /* 0xa0 */ \
	R16(M, 50, 50, 50, 50, 50, 50, 50, 50, 50, 50, 50, 51, 51, 51, 51, 51),   /* 0xb0 */ \
	R16(M, 51, 51, 51, 51, 51, 51, 51, 51, 51, 51, 51, 51, 51, 51, 51, 51),   /* 0xc0 */ \
	R16(M, 51, 51, 51, 51, 51, 51, 51, 51, 51, 51, 51, 52, 52, 52, 52, 52),   /* 0xd0 */ \
	R16(M, 52, 52, 52, 52, 52, 52, 52, 52, 52, 52, 52, 52, 52, 52, 52, 52),   /* 0xe0 */ \
	R16(M, 52, 52, 52, 52, 52, 52, 52, 52, 52, 52, 52, 53, 53, 53, 53, 53)    /* 0xf0 */
#define SUB_TABLE(M) \
	R16(M,  2,  2,  2,  3,  4,  5,  6,  7,  8,  9, 10, 11, 12, 13, 14, 15),   /* 0x00 */ \
	R16(M, 16, 17, 18, 19, 20, 21, 22, 23, 24, 25, 26, 27, 28, 29, 30, 31),   /* 0x10 */ \
	R16(M, 32, 33,  2,  3,  4,  5,  6,  7,  8,  9, 10, 11, 12,  2,  2,  2),   /* 0x20 */ \
	R16(M,  2,  2,  2,  2,  2,  2,  2,  2,  2,  2,  2,  3,  4,  5,  6,  7),   /* 0x30 */ \
	R16(M,  8,  9, 10, 11, 12, 13, 14, 15, 16, 17, 18, 19, 20, 21, 22, 23),   /* 0x40 */ \
	R16(M, 24, 25, 26, 27, 28, 29, 30, 31, 32, 33,  2,  3,  4,  5,  6,  2),   /* 0x50 */ \
	R16(M,  2,  2,  2,  2,  2,  2,  2,  2,  2,  2,  2,  2,  2,  2,  2,  2),   /* 0x60 */ \
	R16(M,  2,  2,  2,  2,  2,  2,  2,  2,  2,  2,  2,  2,  3,  4,  5,  6),   /* 0x70 */ \
	R16(M,  7,  8,  9, 10, 11, 12, 13, 14, 15, 16, 17, 18, 19, 20, 21, 22),   /* 0x80 */ \
	R16(M, 23, 24, 25, 26, 27, 28, 29, 30, 31, 32, 33,  2,  3,  4,  5,  6),   /* 0x90 */ \
	R16(M,  7,  8,  9, 10, 11, 12, 13, 14, 15, 16, 17, 18, 19, 20, 21, 22),   /* 0xa0 */ \
	R16(M, 23, 24, 25, 26, 27, 28, 29, 30, 31, 32, 33,  2,  3,  4,  5,  6),   /* 0xb0 */ \
	R16(M,  7,  8,  9, 10, 11, 12, 13, 14, 15, 16, 17, 18, 19, 20, 21, 22),   /* 0xc0 */ \
	R16(M, 23, 24, 25, 26, 27, 28, 29, 30, 31, 32, 33,  2,  3,  4,  5,  6),   /* 0xd0 */ \
	R16(M,  7,  8,  9, 10, 11, 12, 13, 14, 15, 16, 17, 18, 19, 20, 21, 22),   /* 0xe0 */ \
	R16(M, 23, 24, 25, 26, 27, 28, 29, 30, 31, 32, 33,  2,  3,  4,  5,  6)    /* 0xf0 */
#define AS_BIT(b) (b)

static const struct bytemap the_bytemap = {
	.pos = { POS_TABLE(AS_BIT) },
	.sub = { SUB_TABLE(AS_BIT) },
};

static inline const struct bytemap *bytemap(void)
{
	return &the_bytemap;
}

/* The bitmap bit of `key` at branch index `ix`: "ends here", position or offset. */
static inline uint64_t nibbit(unsigned ix, const uint8_t *key, size_t len)
{
	size_t byte = ix >> 1;

	if (byte >= len)
		return 1ULL << BMP_SHIFT;
	const struct bytemap *m = bytemap();
	unsigned bit = (ix & 1) ? m->sub[key[byte]] : m->pos[key[byte]];
	return 1ULL << bit;
}

static inline uint64_t twigbit(const node_t *n, const uint8_t *key, size_t len)
{
	return nibbit(nindex(n), key, len);
}

/* ------------------------------------------------------------------------ */
/* Garbage lists                                                            */
/* ------------------------------------------------------------------------ */

int idx_gc_push(struct idx_gc *g, void *p)
{
	if (g->n == g->cap) {
		size_t cap = g->cap ? g->cap * 2 : 64;
		void **v = realloc(g->v, cap * sizeof(*v));
		if (v == NULL)
			return DDI_ENOMEM;
		g->v = v;
		g->cap = cap;
	}
	g->v[g->n++] = p;
	return DDI_EOK;
}

void idx_gc_free_all(struct idx_gc *g)
{
	for (size_t k = 0; k < g->n; k++)
		free(g->v[k]);
	idx_gc_clear(g);
}

void idx_gc_clear(struct idx_gc *g)
{
	free(g->v);
	g->v = NULL;
	g->n = g->cap = 0;
}

/* ------------------------------------------------------------------------ */
/* Readers                                                                  */
/* ------------------------------------------------------------------------ */

/*
 * The readers' table: to_top[256 * phase + byte] is 63 minus the bitmap
 * bit of `byte` at a branch of that phase, the left shift that moves the
 * byte's bit to bit 63. Shifted so, a branch word has that bit as its sign
 * and every bit below it (the branch flag, "ends here", the positions
 * before) beneath, the rest shifted out: one shift both tests the bit and
 * masks what the twig's offset counts. The same numbers as the byte map.
 */
#define AS_SHIFT(b) (63 - (b))
static const uint8_t to_top[512] = { POS_TABLE(AS_SHIFT), SUB_TABLE(AS_SHIFT) };

/*
 * The branch word bits that take a descent off its common path: a shorter
 * key ends here (recorded by trie_get_prefixes), or the branch tells the
 * bytes of a group apart (phase 1, the second table). Host names have
 * neither at most levels.
 */
#define RARE_BITS ((1ULL << BMP_SHIFT) | (1ULL << NIX_SHIFT))
_Static_assert(NIX_SHIFT + 1 == 55, "the byte index is the top 9 bits");
_Static_assert((1U << (64 - NIX_SHIFT - 1)) == TRIE_KEY_MAXLEN,
               "a branch's byte is inside a buffer of TRIE_KEY_MAXLEN");

/* The twig of branch word i's bit shifted to the top (x < 0 as signed: the bit is set). */
static inline const node_t *twig_at(const node_t *n, uint64_t x)
{
	/* the twigs before: the bits below x's top bit, but the branch flag */
	return twigs(n) + popcount(x) - 2;
}

static inline const node_t *leftmost(const node_t *n)
{
	while (isbranch(n))
		n = twigs(n);
	return n;
}

/*
 * Keys are short (a host name is 20-odd bytes): compared inline, by 8-byte
 * words that overlap rather than loop over a tail byte by byte, their
 * differences or'ed so that the common case, equal keys, takes one branch
 * in the end instead of one per word. No byte outside [0, len) of either
 * is read.
 */
static inline uint64_t ld64(const uint8_t *p)
{
	uint64_t x;
	memcpy(&x, p, 8);
	return x;
}

static uint64_t bytes_differ_long(const uint8_t *a, const uint8_t *b, size_t len)
{
	uint64_t d = ld64(a + len - 8) ^ ld64(b + len - 8);
	for (size_t i = 0; i + 8 < len; i += 8)
		d |= ld64(a + i) ^ ld64(b + i);
	return d;
}

/* Non-zero when the first len bytes of a and b differ. */
static inline uint64_t bytes_differ(const uint8_t *a, const uint8_t *b, size_t len)
{
	if (len > 16) {
		if (__builtin_expect(len > 24, 0))
			return bytes_differ_long(a, b, len);
		return (ld64(a) ^ ld64(b)) | (ld64(a + 8) ^ ld64(b + 8)) |
		       (ld64(a + len - 8) ^ ld64(b + len - 8));
	}
	if (len >= 8)
		return (ld64(a) ^ ld64(b)) | (ld64(a + len - 8) ^ ld64(b + len - 8));
	if (len >= 4) {
		uint32_t u, v, w, z;
		memcpy(&u, a, 4);
		memcpy(&v, b, 4);
		memcpy(&w, a + len - 4, 4);
		memcpy(&z, b + len - 4, 4);
		return (u ^ v) | (w ^ z);
	}
	uint64_t d = 0;
	for (size_t i = 0; i < len; i++)
		d |= (uint64_t)(a[i] ^ b[i]);
	return d;
}

void *trie_get(const trie_node_t *root, const uint8_t *key, size_t len)
{
	const node_t *n = root;

	if (n->i == 0)
		return NULL;
	while (isbranch(n)) {
		uintptr_t i = n->i;
		size_t byte = (size_t)(i >> (NIX_SHIFT + 1));
		if (byte >= len) {
			/* only the "ends here" twig, the first, can be `key` */
			if (!(i & (1ULL << BMP_SHIFT)))
				return NULL;
			n = twigs(n);
			break;
		}
		unsigned phase = (unsigned)(i >> NIX_SHIFT) & 1;
		uint64_t x = (uint64_t)i << to_top[phase << 8 | key[byte]];
		if ((int64_t)x >= 0)
			return NULL;
		n = twig_at(n, x);
	}
	const struct trie_key *k = leaf_key(n);
	return k->len == len && bytes_differ(k->data, key, len) == 0 ? n->p : NULL;
}

#define prefetch(p) __builtin_prefetch((p), 0, 3)

/* How many leading bytes a and b have in common (at most min(alen, blen)). */
static inline size_t common_prefix(const uint8_t *a, size_t alen, const uint8_t *b, size_t blen)
{
	size_t m = alen < blen ? alen : blen;
	size_t i = 0;
	for (; i + 8 <= m; i += 8) {
		uint64_t x, y;
		memcpy(&x, a + i, 8);
		memcpy(&y, b + i, 8);
		if (x != y)
			return i + (size_t)__builtin_ctzll(x ^ y) / 8;   /* little-endian */
	}
	if (i < m && m >= 8) {
		/* the tail as the last 8 bytes: those before i are known equal */
		uint64_t x, y;
		memcpy(&x, a + m - 8, 8);
		memcpy(&y, b + m - 8, 8);
		return x == y ? m : m - 8 + (size_t)__builtin_ctzll(x ^ y) / 8;
	}
	while (i < m && a[i] == b[i])
		i++;
	return i;
}

_Static_assert(__BYTE_ORDER__ == __ORDER_LITTLE_ENDIAN__, "common_prefix counts bytes from the low end");

/*
 * One level of trie_get_prefixes at branch n, whose word is i, for the
 * lookup q (its key and len; the prefixes go to lens, vals, n < max; one
 * lookup of the bulk walk, or trie_get_prefixes's own in registers):
 * records a shorter key that ends here, returns the twig of `key`'s byte. Where
 * `key` has no twig it returns a leaf below n instead, the leftmost: any
 * one does to check the prefixes recorded so far against (every key below
 * n agrees on the bytes before n's), and none below n is a prefix of `key`.
 *
 * The common path is a shift, two table loads, one test of RARE_BITS, the
 * shift to the top, its sign and a popcount: no test of `byte < len`. Past
 * the end of `key` (the caller's buffer has TRIE_KEY_MAXLEN bytes, see
 * trie.h) the byte read is whatever the buffer holds, and the descent may
 * take any twig: below a branch at a byte >= len no key is a prefix of
 * `key` but the "ends here" one (a key of exactly that byte's length), so
 * every leaf there confirms or drops the prefixes recorded above the same
 * way. The "ends here" branches, which must stop there, are rare ones and
 * take the bound test: from one whose byte is len on, only its first twig,
 * the key of length len, can still be a prefix. Records are only made
 * below len.
 */
static inline const node_t *prefix_step(const node_t *n, uintptr_t i, struct trie_bulk *q)
{
	size_t byte = (size_t)(i >> (NIX_SHIFT + 1));
	unsigned c = q->key[byte];   /* byte < TRIE_KEY_MAXLEN: inside the caller's buffer */

	if (__builtin_expect((i & RARE_BITS) != 0, 0)) {
		if (byte >= q->len)
			return leftmost(n);
		/* a shorter key ends at this byte (the likelier of the two): its twig is the first */
		if (__builtin_expect((i & (1ULL << BMP_SHIFT)) != 0, 1) && q->n < q->max) {
			q->lens[q->n] = (uint16_t)byte;
			q->vals[q->n] = twigs(n)->p;
			q->n++;
		}
		c |= (unsigned)(i >> (NIX_SHIFT - 8)) & 0x100;   /* phase 1: the offset in the group */
	}
	uint64_t x = (uint64_t)i << to_top[c];
	if ((int64_t)x >= 0)
		return leftmost(n);
	return twig_at(n, x);
}

/*
 * The end of trie_get_prefixes at leaf n when `key` is not the leaf's key:
 * keep what `key` agrees with. The prefixes recorded on the way are no
 * longer than the leaf's key (they ended at branches above it; as long
 * when a descent that found no twig took the "ends here" one, the leftmost,
 * whose key was recorded), so when `key` agrees with the leaf on the
 * longest that matters (the leaf's key if shorter than `key`, else the
 * longest recorded), it agrees on all: one comparison as for the exact
 * match. Else the common prefix decides.
 */
static unsigned prefix_finish_other(const node_t *n, const uint8_t *key, size_t len,
                                    uint16_t *lens, const void **vals, unsigned max, unsigned cnt)
{
	const struct trie_key *lk = leaf_key(n);
	bool leaf_fits = lk->len < len;   /* of the same length it differs: not here else */
	size_t need = leaf_fits ? lk->len : cnt > 0 ? lens[cnt - 1] : 0;
	size_t same = bytes_differ(lk->data, key, need) == 0 ? need
	                                                     : common_prefix(lk->data, lk->len, key, len);
	/* prefixes seen on the way are keys only as far as `key` agrees with the leaf */
	while (cnt > 0 && lens[cnt - 1] > same)
		cnt--;
	if (leaf_fits && lk->len <= same && (cnt == 0 || lens[cnt - 1] < lk->len) && cnt < max) {
		lens[cnt] = lk->len;
		vals[cnt] = n->p;
		cnt++;
	}
	return cnt;
}

/*
 * The end of trie_get_prefixes at leaf n. The common case first: the leaf
 * is `key` itself, which confirms every prefix recorded on the way (all
 * shorter than it) and comes last.
 */
static inline unsigned prefix_finish(const node_t *n, const uint8_t *key, size_t len,
                                     uint16_t *lens, const void **vals, unsigned max,
                                     unsigned cnt)
{
	const struct trie_key *lk = leaf_key(n);
	if (__builtin_expect(lk->len != len || bytes_differ(lk->data, key, len) != 0, 0))
		return prefix_finish_other(n, key, len, lens, vals, max, cnt);
	if (cnt < max) {
		lens[cnt] = (uint16_t)len;
		vals[cnt] = n->p;
		cnt++;
	}
	return cnt;
}

_Static_assert(TRIE_KEY_MAXLEN <= UINT16_MAX, "prefix lengths fit lens[]");

unsigned trie_get_prefixes(const trie_node_t *root, const uint8_t *key, size_t len,
                           uint16_t *lens, const void **vals, unsigned max)
{
	const node_t *n = root;
	struct trie_bulk q = { key, len, lens, vals, max, 0 };   /* the step's view, in registers */
	uintptr_t i = n->i;

	/* (max == 0 needs no test of its own: nothing is stored past max) */
	if (!(i & BR_FLAG)) {
		if (i == 0)
			return 0;
	} else {
		do {
			n = prefix_step(n, i, &q);
			i = n->i;
		} while (i & BR_FLAG);
	}
	return prefix_finish(n, key, len, lens, vals, max, q.n);
}

void trie_get_prefixes_bulk(const trie_node_t *root, struct trie_bulk *q, unsigned n)
{
	const node_t *at[TRIE_BULK_MAX];
	/* lookups still walking; at a leaf since this round, since the last one */
	uint8_t walk[TRIE_BULK_MAX], leaf_a[TRIE_BULK_MAX], leaf_b[TRIE_BULK_MAX];
	uint8_t *fresh = leaf_a, *ready = leaf_b;
	unsigned nw = 0, nr = 0;

	assert(n <= TRIE_BULK_MAX);
	for (unsigned k = 0; k < n; k++) {
		q[k].n = 0;
		at[k] = root;
		if (root->i != 0 && q[k].max != 0)
			walk[nw++] = (uint8_t)k;
	}
	/*
	 * Round robin, one level per lookup per round: the twig a lookup moves
	 * to (and at its leaf, the key and the value) is prefetched, and by the
	 * time its turn comes again the other lookups' steps have hidden the
	 * miss. A lookup that reached its leaf waits a whole round before the
	 * comparison that reads the leaf's key. The lookups of each state are
	 * kept in a list of their own, so a round visits only the ones it steps.
	 */
	while (nw + nr > 0) {
		unsigned keep = 0, nf = 0;
		for (unsigned a = 0; a < nw; a++) {
			unsigned k = walk[a];
			const node_t *t = at[k];
			uintptr_t i = t->i;
			if (!(i & BR_FLAG)) {
				/* at a leaf: its key for the comparison, its value for the caller */
				prefetch((const void *)i);
				prefetch(t->p);
				fresh[nf++] = (uint8_t)k;
				continue;
			}
			t = prefix_step(t, i, &q[k]);
			at[k] = t;
			prefetch(t);
			walk[keep++] = (uint8_t)k;
		}
		nw = keep;
		for (unsigned a = 0; a < nr; a++) {
			struct trie_bulk *b = &q[ready[a]];
			b->n = prefix_finish(at[ready[a]], b->key, b->len, b->lens, b->vals, b->max, b->n);
		}
		uint8_t *t = ready;
		ready = fresh;
		fresh = t;
		nr = nf;
	}
}

static int walk_rec(const node_t *n, trie_walk_cb cb, void *ctx)
{
	if (!isbranch(n))
		return cb(ctx, leaf_key(n), n->p);
	unsigned cnt = twig_count(n);
	const node_t *t = twigs(n);
	for (unsigned k = 0; k < cnt; k++) {
		int r = walk_rec(&t[k], cb, ctx);
		if (r != 0)
			return r;
	}
	return 0;
}

/* The subtree whose keys are exactly those starting with prefix, or NULL. */
static const node_t *prefix_subtree(const node_t *root, const uint8_t *prefix, size_t plen)
{
	const node_t *n = root;

	if (n->i == 0)
		return NULL;
	while (isbranch(n) && nindex(n) < 2 * plen) {
		uint64_t b = twigbit(n, prefix, plen);
		if (!(n->i & b))
			return NULL;
		n = twigs(n) + twig_off(n, b);
	}
	/* Every key below n agrees on the first nindex(n) >= 2*plen branch steps
	 * (or n is one leaf): one of them tells whether all match. */
	const node_t *l = n;
	while (isbranch(l))
		l = twigs(l);
	const struct trie_key *k = leaf_key(l);
	if (k->len < plen || (plen > 0 && memcmp(k->data, prefix, plen) != 0))
		return NULL;
	return n;
}

int trie_walk(const trie_node_t *root, const uint8_t *prefix, size_t plen, trie_walk_cb cb,
              void *ctx)
{
	const node_t *n = prefix_subtree(root, prefix, plen);
	return n ? walk_rec(n, cb, ctx) : 0;
}

bool trie_has_below(const trie_node_t *root, const uint8_t *key, size_t len)
{
	const node_t *n = prefix_subtree(root, key, len);

	if (n == NULL)
		return false;
	/* A branch holds at least two distinct keys with the prefix, so one
	 * of them is longer; a single leaf is below only if longer. */
	return isbranch(n) || leaf_key(n)->len > len;
}

/* ------------------------------------------------------------------------ */
/* Iterator                                                                 */
/* ------------------------------------------------------------------------ */

static void it_leftmost(struct trie_it *it)
{
	const node_t *n = it->stack[it->depth - 1];
	while (isbranch(n)) {
		n = twigs(n);
		it->stack[it->depth++] = n;
	}
}

void trie_it_first(struct trie_it *it, const trie_node_t *root)
{
	it->depth = 0;
	if (root->i == 0)
		return;
	it->stack[it->depth++] = root;
	it_leftmost(it);
}

/* Move past the whole subtree on top of the stack. */
static void it_skip(struct trie_it *it)
{
	while (it->depth >= 2) {
		const node_t *cur = it->stack[it->depth - 1];
		const node_t *par = it->stack[it->depth - 2];
		unsigned pos = (unsigned)(cur - twigs(par));
		if (pos + 1 < twig_count(par)) {
			it->stack[it->depth - 1] = cur + 1;
			it_leftmost(it);
			return;
		}
		it->depth--;
	}
	it->depth = 0;
}

void trie_it_next(struct trie_it *it)
{
	if (it->depth > 0)
		it_skip(it);
}

/* Branch index where key and k first differ; -1 when equal. */
static long first_diff(const uint8_t *key, size_t len, const struct trie_key *k)
{
	size_t min = len < k->len ? len : k->len;
	size_t i = 0;

	while (i < min && key[i] == k->data[i])
		i++;
	if (i == min)
		return len == k->len ? -1 : (long)(2 * i);
	const struct bytemap *m = bytemap();
	return (long)(2 * i + (m->pos[key[i]] != m->pos[k->data[i]] ? 0 : 1));
}

/* Some leaf that agrees with key wherever the tree branches on key's bytes. */
static const node_t *closest_leaf(const node_t *n, const uint8_t *key, size_t len)
{
	while (isbranch(n)) {
		uint64_t b = twigbit(n, key, len);
		n = twigs(n) + ((n->i & b) ? twig_off(n, b) : 0);
	}
	return n;
}

void trie_it_seek(struct trie_it *it, const trie_node_t *root, const uint8_t *key, size_t len)
{
	it->depth = 0;
	if (root->i == 0)
		return;
	const node_t *l = closest_leaf(root, key, len);
	long d = first_diff(key, len, leaf_key(l));
	unsigned newi = d < 0 ? 2 * TRIE_KEY_MAXLEN + 1 : (unsigned)d;

	/* Go down while the branches test bytes before the difference: on
	 * that path key agrees with l, so its bits are present. */
	const node_t *n = root;
	it->stack[it->depth++] = n;
	while (isbranch(n) && nindex(n) < newi) {
		n = twigs(n) + twig_off(n, twigbit(n, key, len));
		it->stack[it->depth++] = n;
	}
	if (d < 0)
		return;   /* n is the leaf l itself */
	uint64_t newbit = nibbit(newi, key, len);
	if (isbranch(n) && nindex(n) == newi) {
		/* newbit is absent here: the first child with a greater bit. */
		uint64_t bmp = n->i & BMP_MASK;
		if (bmp & ~(newbit | (newbit - 1))) {
			it->stack[it->depth++] = twigs(n) + twig_off(n, newbit);
			it_leftmost(it);
		} else {
			it_skip(it);
		}
		return;
	}
	/* All keys below n share l's position at newi. */
	if (newbit < nibbit(newi, leaf_key(l)->data, leaf_key(l)->len))
		it_leftmost(it);
	else
		it_skip(it);
}

/* ------------------------------------------------------------------------ */
/* Writer                                                                   */
/* ------------------------------------------------------------------------ */

/* Make n's twig array belong to this transaction (n itself must be fresh). */
static int cow_branch(struct trie_cow *c, node_t *n)
{
	if (nstamp(n) == c->stamp)
		return DDI_EOK;
	unsigned cnt = twig_count(n);
	node_t *nt = tw_alloc(cnt, c->stamp);
	if (nt == NULL)
		return DDI_ENOMEM;
	if (idx_gc_push(c->garbage, tw_block(n->p)) != DDI_EOK) {
		free(tw_block(nt));
		return DDI_ENOMEM;
	}
	memcpy(nt, n->p, cnt * sizeof(*nt));
	n->p = nt;
	return DDI_EOK;
}

int trie_set(struct trie_cow *c, trie_node_t *root, const struct trie_key *key, void *val,
             const struct trie_key **oldkey, void **oldval)
{
	const uint8_t *k = key->data;
	size_t len = key->len;
	int ret;

	*oldkey = NULL;
	*oldval = NULL;
	if (len > TRIE_KEY_MAXLEN || ((uintptr_t)key & BR_FLAG) || c->stamp == 0 ||
	    c->stamp > TRIE_STAMP_MAX)
		return DDI_EINVAL;
	if (root->i == 0) {
		root->i = (uintptr_t)key;
		root->p = val;
		return DDI_EOK;
	}
	const node_t *l = closest_leaf(root, k, len);
	const struct trie_key *lk = leaf_key(l);
	long d = first_diff(k, len, lk);
	unsigned newi = d < 0 ? 2 * TRIE_KEY_MAXLEN + 1 : (unsigned)d;

	/* Copy the path down to where the key goes. */
	node_t *n = root;
	while (isbranch(n) && nindex(n) < newi) {
		if ((ret = cow_branch(c, n)) != DDI_EOK)
			return ret;
		n = twigs(n) + twig_off(n, twigbit(n, k, len));
	}
	if (d < 0) {   /* replace the leaf */
		*oldkey = leaf_key(n);
		*oldval = n->p;
		n->i = (uintptr_t)key;
		n->p = val;
		return DDI_EOK;
	}
	uint64_t newbit = nibbit(newi, k, len);
	node_t leaf = { (uintptr_t)key, val };

	if (isbranch(n) && nindex(n) == newi) {
		/* One more child for an existing branch. */
		unsigned cnt = twig_count(n), off = twig_off(n, newbit);
		bool fresh = nstamp(n) == c->stamp;
		/* malloc + copy rather than realloc: glibc's in-place growth
		 * into a large free neighbour frees (and with MALLOC_PERTURB_
		 * memsets) the whole remainder on every call. */
		node_t *nt = tw_alloc(cnt + 1, c->stamp);
		if (nt == NULL)
			return DDI_ENOMEM;
		if (!fresh && idx_gc_push(c->garbage, tw_block(n->p)) != DDI_EOK) {
			free(tw_block(nt));
			return DDI_ENOMEM;
		}
		memcpy(nt, twigs(n), off * sizeof(*nt));
		memcpy(nt + off + 1, twigs(n) + off, (cnt - off) * sizeof(*nt));
		if (fresh)
			free(tw_block(n->p));
		nt[off] = leaf;
		n->p = nt;
		n->i |= newbit;
		return DDI_EOK;
	}

	/* A new branch at newi above n: n's keys all share l's position there. */
	uint64_t oldbit = nibbit(newi, lk->data, lk->len);
	node_t *nt = tw_alloc(2, c->stamp);
	if (nt == NULL)
		return DDI_ENOMEM;
	if (newbit < oldbit) {
		nt[0] = leaf;
		nt[1] = *n;
	} else {
		nt[0] = *n;
		nt[1] = leaf;
	}
	n->p = nt;
	n->i = BR_FLAG | newbit | oldbit | ((uint64_t)newi << NIX_SHIFT);
	return DDI_EOK;
}

int trie_del(struct trie_cow *c, trie_node_t *root, const uint8_t *key, size_t len,
             const struct trie_key **oldkey, void **oldval)
{
	int ret;

	*oldkey = NULL;
	*oldval = NULL;
	if (c->stamp == 0 || c->stamp > TRIE_STAMP_MAX)
		return DDI_EINVAL;
	if (trie_get(root, key, len) == NULL)
		return DDI_ENOENT;
	if (!isbranch(root)) {
		*oldkey = leaf_key(root);
		*oldval = root->p;
		trie_init(root);
		return DDI_EOK;
	}
	/* Copy the path down to the leaf's parent branch. */
	node_t *n = root;
	for (;;) {
		const node_t *child = twigs(n) + twig_off(n, twigbit(n, key, len));
		if (!isbranch(child))
			break;
		if ((ret = cow_branch(c, n)) != DDI_EOK)
			return ret;
		n = twigs(n) + twig_off(n, twigbit(n, key, len));
	}
	uint64_t b = twigbit(n, key, len);
	unsigned cnt = twig_count(n), off = twig_off(n, b);
	bool fresh = nstamp(n) == c->stamp;
	node_t *old = twigs(n);

	if (cnt == 2) {
		/* The branch goes away; its other child takes its place. */
		if (!fresh && idx_gc_push(c->garbage, tw_block(old)) != DDI_EOK)
			return DDI_ENOMEM;
		*oldkey = leaf_key(&old[off]);
		*oldval = old[off].p;
		*n = old[1 - off];
		if (fresh)
			free(tw_block(old));
		return DDI_EOK;
	}
	*oldkey = leaf_key(&old[off]);
	*oldval = old[off].p;
	node_t *nt;
	if (fresh) {
		/* Shrinking in place is enough: the block is ours alone. */
		memmove(old + off, old + off + 1, (cnt - off - 1) * sizeof(*old));
		nt = old;
	} else {
		nt = tw_alloc(cnt - 1, c->stamp);
		if (nt == NULL)
			return DDI_ENOMEM;
		if (idx_gc_push(c->garbage, tw_block(old)) != DDI_EOK) {
			free(tw_block(nt));
			return DDI_ENOMEM;
		}
		memcpy(nt, old, off * sizeof(*nt));
		memcpy(nt + off, old + off + 1, (cnt - off - 1) * sizeof(*nt));
	}
	n->p = nt;
	n->i &= ~b;
	return DDI_EOK;
}

/* ------------------------------------------------------------------------ */
/* Freeing                                                                  */
/* ------------------------------------------------------------------------ */

static void free_fresh_rec(node_t *n, uint64_t stamp)
{
	/* A branch of an older version has no fresh descendants: changing one
	 * would have copied the branch first. */
	if (!isbranch(n) || nstamp(n) != stamp)
		return;
	unsigned cnt = twig_count(n);
	for (unsigned k = 0; k < cnt; k++)
		free_fresh_rec(twigs(n) + k, stamp);
	free(tw_block(n->p));
}

void trie_free_fresh(trie_node_t *root, uint64_t stamp)
{
	if (root->i != 0)
		free_fresh_rec(root, stamp);
}

/*
 * The subtree of n sorted, distinct keys: a qp-trie's shape depends only on
 * its key set, so branching where the first and the last key part (the
 * range's common prefix) and splitting the range at each change of the
 * twig bit gives the tree trie_set would have made, with one allocation
 * per branch and no copies.
 */
static int build_rec(node_t *out, const struct trie_key *const *keys,
                     void *(*val_of)(const struct trie_key *), size_t n, size_t from,
                     uint64_t stamp)
{
	if (n == 1) {
		out->i = (uintptr_t)keys[0];
		out->p = val_of(keys[0]);
		return DDI_EOK;
	}
	/* The range's keys agree on their first `from` bytes (the parent's). */
	const struct trie_key *a = keys[0], *z = keys[n - 1];
	size_t min = a->len < z->len ? a->len : z->len, i = from;
	while (i < min && a->data[i] == z->data[i])
		i++;
	if (i == min && a->len == z->len)
		return DDI_EINVAL;   /* duplicate keys */
	const struct bytemap *m = bytemap();
	unsigned ix = (unsigned)(2 * i);
	if (i < min && m->pos[a->data[i]] == m->pos[z->data[i]])
		ix++;
	/* One pass: where each child's range starts (at most 1 + 52 children). */
	size_t start[BMP_BITS + 1];
	uint64_t bmp = 0, prev = 0;
	unsigned cnt = 0;
	for (size_t k = 0; k < n; k++) {
		uint64_t b = nibbit(ix, keys[k]->data, keys[k]->len);
		if (b == prev)
			continue;
		if (b < prev)
			return DDI_EINVAL;   /* not in order */
		start[cnt++] = k;
		bmp |= b;
		prev = b;
	}
	start[cnt] = n;
	node_t *tw = tw_alloc(cnt, stamp);
	if (tw == NULL)
		return DDI_ENOMEM;
	for (unsigned c = 0; c < cnt; c++) {
		int ret = build_rec(&tw[c], keys + start[c], val_of, start[c + 1] - start[c], i, stamp);
		if (ret != DDI_EOK) {
			for (unsigned j = 0; j < c; j++)
				trie_free_fresh(&tw[j], stamp);
			free(tw_block(tw));
			return ret;
		}
	}
	out->i = BR_FLAG | bmp | ((uint64_t)ix << NIX_SHIFT);
	out->p = tw;
	return DDI_EOK;
}

int trie_build(trie_node_t *root, const struct trie_key *const *keys,
               void *(*val_of)(const struct trie_key *key), size_t n, uint64_t stamp)
{
	if (root->i != 0 || stamp == 0 || stamp > TRIE_STAMP_MAX)
		return DDI_EINVAL;
	for (size_t k = 0; k < n; k++)
		if (keys[k]->len > TRIE_KEY_MAXLEN || ((uintptr_t)keys[k] & BR_FLAG))
			return DDI_EINVAL;
	return n == 0 ? DDI_EOK : build_rec(root, keys, val_of, n, 0, stamp);
}

static void free_rec(node_t *n, void (*leaf)(void *, const struct trie_key *, void *), void *ctx)
{
	if (!isbranch(n)) {
		if (leaf)
			leaf(ctx, leaf_key(n), n->p);
		return;
	}
	unsigned cnt = twig_count(n);
	for (unsigned k = 0; k < cnt; k++)
		free_rec(twigs(n) + k, leaf, ctx);
	free(tw_block(n->p));
}

void trie_free(trie_node_t *root, void (*leaf)(void *ctx, const struct trie_key *key, void *val),
               void *ctx)
{
	if (root->i != 0)
		free_rec(root, leaf, ctx);
	trie_init(root);
}

static void reset_rec(node_t *n)
{
	if (!isbranch(n))
		return;
	if (nstamp(n) != 0)
		__atomic_store_n(stamp_of(n), 0, __ATOMIC_RELAXED);
	unsigned cnt = twig_count(n);
	for (unsigned k = 0; k < cnt; k++)
		reset_rec(twigs(n) + k);
}

void trie_stamp_reset(trie_node_t *root)
{
	if (root->i != 0)
		reset_rec(root);
}
