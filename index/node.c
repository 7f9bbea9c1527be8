/* node -- building index nodes and reading their RRsets */
#include <stdlib.h>
#include <string.h>
#ifdef __SSE2__
#include <emmintrin.h>
#endif

#include "dns/errcode.h"
#include "index/node.h"

#define CLASS_IN 1

_Static_assert(sizeof(struct idx_node) == 8, "node header");
_Static_assert(sizeof(struct idx_rrset) == 16, "rrset entry");
_Static_assert(_Alignof(struct idx_node) == 4, "node alignment");
_Static_assert(((sizeof(struct trie_key) + TRIE_KEY_MAXLEN + 3) & ~3u) <= NODE_KEY_OFF_MASK, "key_off");

static inline void put16(uint8_t *p, uint16_t v)
{
	p[0] = (uint8_t)(v >> 8);
	p[1] = (uint8_t)v;
}

static inline void put32(uint8_t *p, uint32_t v)
{
	p[0] = (uint8_t)(v >> 24);
	p[1] = (uint8_t)(v >> 16);
	p[2] = (uint8_t)(v >> 8);
	p[3] = (uint8_t)v;
}

static inline uint16_t get16(const uint8_t *p)
{
	return (uint16_t)(p[0] << 8 | p[1]);
}

const struct idx_rrset *idx_node_rrset(const struct idx_node *n, uint16_t type)
{
	/* Nodes hold a handful of types: a linear scan of a sorted array
	 * that stops early beats a binary search. */
	for (uint16_t k = 0; k < n->nrrsets; k++) {
		const struct idx_rrset *rs = &n->rrsets[k];
		if (rs->type >= type)
			return rs->type == type ? rs : NULL;
	}
	return NULL;
}

const uint8_t *idx_rrset_next(const struct idx_node *n, const struct idx_rrset *rs, uint32_t *pos,
                              uint16_t *rrlen)
{
	/* RR: C0 0C | type(2) class(2) ttl(4) rdlen(2) | rdata */
	if (*pos + 12 > rs->len)
		return NULL;
	const uint8_t *rr = idx_rrset_blob(n, rs) + *pos;
	uint16_t rdlen = get16(rr + 10);
	*rrlen = (uint16_t)(10 + rdlen);
	*pos += 12 + (uint32_t)rdlen;
	return rr + 2;
}

/* Does a wire name have an upper-case letter (the key would lose it)? Length bytes are < 64. */
static bool has_upper(const uint8_t *wire, size_t len)
{
	for (size_t i = 0; i < len; i++)
		if ((unsigned)(wire[i] - 'A') < 26u)
			return true;
	return false;
}

/* 0x80 in each byte of v that is 0, 0 elsewhere (exact, no borrow between bytes). */
static inline uint64_t zero_bytes(uint64_t v)
{
	const uint64_t low7 = 0x7f7f7f7f7f7f7f7fULL;
	return ~(((v & low7) + low7) | v | low7);
}

_Static_assert(__BYTE_ORDER__ == __ORDER_LITTLE_ENDIAN__, "idx_node_owner reads keys in little-endian words");

/* idx_node_owner for a key with escaped octets (0x01 in the key): two passes. */
static size_t owner_escaped(const struct trie_key *k, uint8_t out[DNS_NAME_MAXLEN])
{
	const uint8_t *p = k->data, *end = p + k->len;
	size_t len = 1;
	for (const uint8_t *q = p; q < end; q++) {
		if (*q == 1)
			q++;
		len++;   /* a label octet, or a label's length octet for its 0 */
	}
	size_t at = len;
	out[--at] = 0;
	while (p < end) {
		size_t ll = 0;
		const uint8_t *l = p;
		for (; *p != 0; p++, ll++)
			p += *p == 1;
		p++;
		at -= 1 + ll;
		uint8_t *w = out + at;
		*w++ = (uint8_t)ll;
		for (; *l != 0; l++)
			*w++ = *l == 1 ? (uint8_t)(*++l - 1) : *l;
	}
	return len;
}

/*
 * idx_node_owner from a key, in 8-byte words: one pass finds the 0s (label
 * ends) and copies each label at once, in words from its end. A word may
 * run before the label in `out` (a part written later, as labels go to
 * lower offsets) and before the label in the key down to the key's length
 * field (same block), never past either; reading the key in words may run
 * past it into the node header behind it (same block).
 */
static size_t owner_words(const struct trie_key *k, uint8_t out[DNS_NAME_MAXLEN])
{
	const uint8_t *d = k->data;
	size_t len = k->len, b = 0;
	for (size_t i = 0; i < len; i += 8) {
		uint64_t v;
		memcpy(&v, d + i, 8);
		if (len - i < 8)
			v |= ~(uint64_t)0 << (8 * (len - i));   /* bytes past the key: not 0 or 1 */
		if (zero_bytes(v ^ 0x0101010101010101ULL) != 0)
			return owner_escaped(k, out);
		for (uint64_t z = zero_bytes(v); z != 0; z &= z - 1) {
			size_t e = i + (size_t)__builtin_ctzll(z) / 8, c = e - b;
			uint8_t *o = out + (len - e);
			const uint8_t *src = d + b;
			while (c >= 8) {
				c -= 8;
				memcpy(o + c, src + c, 8);
			}
			if (c > 0 && len - e + c >= 8 && b + c + 2 >= 8) {
				memcpy(o + c - 8, src + c - 8, 8);   /* o[-1] is written below */
			} else {
				while (c > 0) {
					c--;
					o[c] = src[c];
				}
			}
			o[-1] = (uint8_t)(e - b);
			b = e + 1;
		}
	}
	out[len] = 0;
	return len + 1;
}

#ifdef __SSE2__
/*
 * idx_node_owner from a key of <= 32 bytes with `avail` >= 32 bytes
 * readable from d: two 16-byte loads give the 0s and 1s as bit masks; the
 * labels are copied last to first (wire order) in 32-byte moves from a copy
 * of the key, which run past a label into `out` (written next, or past the
 * name: out has 255 bytes, the name ends before 34).
 */
static size_t owner_sse2(const struct trie_key *k, uint8_t out[DNS_NAME_MAXLEN])
{
	const uint8_t *d = k->data;
	size_t len = k->len;
	__m128i lo = _mm_loadu_si128((const __m128i *)d);
	__m128i hi = _mm_loadu_si128((const __m128i *)(d + 16));
	__m128i zero = _mm_setzero_si128(), one = _mm_set1_epi8(1);
	uint32_t inkey = len == 32 ? ~0u : (1u << len) - 1;
	uint32_t z = ((uint32_t)_mm_movemask_epi8(_mm_cmpeq_epi8(lo, zero)) |
	              (uint32_t)_mm_movemask_epi8(_mm_cmpeq_epi8(hi, zero)) << 16) & inkey;
	uint32_t o1 = ((uint32_t)_mm_movemask_epi8(_mm_cmpeq_epi8(lo, one)) |
	               (uint32_t)_mm_movemask_epi8(_mm_cmpeq_epi8(hi, one)) << 16) & inkey;
	if (o1 != 0)
		return owner_escaped(k, out);
	/* the key again, in a buffer that label copies cannot run out of */
	uint8_t buf[64];
	_mm_storeu_si128((__m128i *)buf, lo);
	_mm_storeu_si128((__m128i *)(buf + 16), hi);
	_mm_storeu_si128((__m128i *)(buf + 32), zero);
	_mm_storeu_si128((__m128i *)(buf + 48), zero);
	size_t at = 0;
	if (z == 0) {
		out[0] = 0;
		return 1;
	}
	/* the last label of the key is the first of the wire name */
	size_t e = 31 - (size_t)__builtin_clz(z);
	for (;;) {
		uint32_t rest = z & ((1u << e) - 1);
		size_t b = rest != 0 ? 32 - (size_t)__builtin_clz(rest) : 0;
		/* 32 bytes whatever the label's length (< 32): at <= 32, so within out */
		out[at] = (uint8_t)(e - b);
		_mm_storeu_si128((__m128i *)(out + at + 1), _mm_loadu_si128((const __m128i *)(buf + b)));
		_mm_storeu_si128((__m128i *)(out + at + 17),
		                 _mm_loadu_si128((const __m128i *)(buf + b + 16)));
		at += e - b + 1;
		if (rest == 0)
			break;
		e = b - 1;
	}
	out[at] = 0;
	return at + 1;
}
#endif

size_t idx_node_owner(const struct idx_node *n, uint8_t out[DNS_NAME_MAXLEN])
{
	if (n->owner_off != 0) {
		const uint8_t *o = (const uint8_t *)n + n->owner_off;
		size_t len = dns_name_len(o);
		memcpy(out, o, len);
		return len;
	}
	/*
	 * From the key (labels root first, each ended by 0, octets 0 and 1
	 * escaped as 1 1 and 1 2; made by node_build's caller from a checked
	 * name). Without escapes (the PTR path's case) the wire name is as
	 * long as the key plus the root label, and the label ended by the 0 at
	 * key offset e goes to wire offset len - e.
	 */
	const struct trie_key *k = key_of_node(n);
#ifdef __SSE2__
	/* Bytes readable from the key's data on: up to the end of the RRset array. */
	size_t avail = (size_t)(n->key_off & NODE_KEY_OFF_MASK) - sizeof(struct trie_key) +
	               sizeof(*n) + (size_t)n->nrrsets * sizeof(n->rrsets[0]);
	if (k->len <= 32 && avail >= 32)
		return owner_sse2(k, out);
#endif
	return owner_words(k, out);
}

size_t node_block_len(const struct trie_key *k)
{
	const struct idx_node *n = node_of_key(k);
	size_t end = sizeof(*n) + (size_t)n->nrrsets * sizeof(n->rrsets[0]);
	if (n->owner_off != 0)
		end = n->owner_off + dns_name_len((const uint8_t *)n + n->owner_off);
	for (uint16_t r = 0; r < n->nrrsets; r++)
		if (n->rrsets[r].off + (size_t)n->rrsets[r].len > end)
			end = n->rrsets[r].off + (size_t)n->rrsets[r].len;
	return (size_t)(n->key_off & NODE_KEY_OFF_MASK) + end;
}

void node_free(const struct trie_key *k)
{
	if (node_of_key(k)->key_off & NODE_KEY_SLAB)
		slab_free((void *)k, node_block_len(k));
	else
		free((void *)k);
}

int node_build(struct idx_node **out, const struct trie_key **keyout, const uint8_t *key,
               size_t keylen, const uint8_t *owner, size_t ownerlen, uint16_t flags,
               const struct idx_node *old, uint16_t type, uint32_t ttl, uint16_t count,
               const uint8_t *rdatas, size_t rdatas_len, struct slab *sl)
{
	/* Which RRsets the new node has: old's, minus `type`, plus the new one. */
	size_t nold = old ? old->nrrsets : 0;
	size_t nrr = 0, blobs = 0;
	bool replace = type != 0;

	for (size_t k = 0; k < nold; k++) {
		if (replace && old->rrsets[k].type == type)
			continue;
		nrr++;
		blobs += old->rrsets[k].len;
	}
	size_t newlen = 0;
	if (replace && count > 0) {
		newlen = (size_t)count * 10 + rdatas_len;   /* each item: +C0 0C +8 header bytes */
		nrr++;
		blobs += newlen;
	}
	if (nrr > NODE_MAX_RRSETS || keylen > TRIE_KEY_MAXLEN || newlen > UINT32_MAX)
		return DDI_ELIMIT;

	/* The node needs only its own alignment (4): every byte counts here. */
	const size_t al = _Alignof(struct idx_node);
	size_t keyblk = (sizeof(struct trie_key) + keylen + al - 1) & ~(al - 1);
	size_t owner_off = sizeof(struct idx_node) + nrr * sizeof(struct idx_rrset);
	if (!has_upper(owner, ownerlen))
		ownerlen = 0;   /* the key spells it: idx_node_owner rebuilds it */
	size_t nodelen = owner_off + ownerlen + blobs;
	if (nodelen > UINT32_MAX)
		return DDI_ELIMIT;
	uint8_t *blk = sl != NULL ? slab_alloc(sl, keyblk + nodelen, al) : NULL;
	bool slab = blk != NULL;
	if (blk == NULL && (blk = malloc(keyblk + nodelen)) == NULL)
		return DDI_ENOMEM;

	struct trie_key *tk = (struct trie_key *)blk;
	tk->len = (uint16_t)keylen;
	memcpy(tk->data, key, keylen);
	struct idx_node *n = node_of_key(tk);   /* blk + keyblk, the one definition of the layout */
	uint8_t *base = (uint8_t *)n;
	n->flags = flags;
	n->nrrsets = (uint16_t)nrr;
	n->owner_off = ownerlen ? (uint16_t)owner_off : 0;
	n->key_off = (uint16_t)(keyblk | (slab ? NODE_KEY_SLAB : 0));
	memcpy(base + owner_off, owner, ownerlen);

	/* Merge old's sorted RRsets with the new one, in type order. */
	size_t at = owner_off + ownerlen, r = 0;
	bool placed = !(replace && count > 0);
	for (size_t k = 0; k <= nold; k++) {
		const struct idx_rrset *ors = k < nold ? &old->rrsets[k] : NULL;
		if (!placed && (ors == NULL || ors->type > type)) {
			struct idx_rrset *rs = &n->rrsets[r++];
			rs->type = type;
			rs->count = count;
			rs->ttl = ttl;
			rs->off = (uint32_t)at;
			rs->len = (uint32_t)newlen;
			const uint8_t *src = rdatas;
			for (uint16_t i = 0; i < count; i++) {
				uint16_t rdlen = get16(src);
				uint8_t *rr = base + at;
				rr[0] = 0xc0;
				rr[1] = 0x0c;
				put16(rr + 2, type);
				put16(rr + 4, CLASS_IN);
				put32(rr + 6, ttl);
				memcpy(rr + 10, src, 2 + (size_t)rdlen);
				at += 12 + (size_t)rdlen;
				src += 2 + (size_t)rdlen;
			}
			placed = true;
		}
		if (ors == NULL || (replace && ors->type == type))
			continue;
		struct idx_rrset *rs = &n->rrsets[r++];
		*rs = *ors;
		rs->off = (uint32_t)at;
		memcpy(base + at, idx_rrset_blob(old, ors), ors->len);
		at += ors->len;
	}
	*out = n;
	*keyout = tk;
	return DDI_EOK;
}
