/* node -- building index nodes and reading their RRsets */
#include <stdlib.h>
#include <string.h>

#include "dns/errcode.h"
#include "index/node.h"

#define CLASS_IN 1

_Static_assert(sizeof(struct idx_node) == 8, "node header");
_Static_assert(sizeof(struct idx_rrset) == 16, "rrset entry");
_Static_assert(_Alignof(struct idx_node) == 4, "node alignment");
_Static_assert(((sizeof(struct trie_key) + TRIE_KEY_MAXLEN + 3) & ~3u) <= UINT16_MAX, "key_off");

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
	 * escaped as 1 1 and 1 2): the wire length first, then each label
	 * written from the end of `out` backwards. The key was made by
	 * node_build's caller from a checked name: it decodes to <= 255 bytes.
	 */
	const struct trie_key *k = key_of_node(n);
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

int node_build(struct idx_node **out, const struct trie_key **keyout, const uint8_t *key,
               size_t keylen, const uint8_t *owner, size_t ownerlen, uint16_t flags,
               const struct idx_node *old, uint16_t type, uint32_t ttl, uint16_t count,
               const uint8_t *rdatas, size_t rdatas_len)
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
	uint8_t *blk = malloc(keyblk + nodelen);
	if (blk == NULL)
		return DDI_ENOMEM;

	struct trie_key *tk = (struct trie_key *)blk;
	tk->len = (uint16_t)keylen;
	memcpy(tk->data, key, keylen);
	struct idx_node *n = node_of_key(tk);   /* blk + keyblk, the one definition of the layout */
	uint8_t *base = (uint8_t *)n;
	n->flags = flags;
	n->nrrsets = (uint16_t)nrr;
	n->owner_off = ownerlen ? (uint16_t)owner_off : 0;
	n->key_off = (uint16_t)keyblk;
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
