/* answer -- authoritative answer for one DNS question from an index snapshot (RFC 1034 4.3.2) */

/*
 * The fast path of ddiplane: the DPDK workers and the TCP server call
 * answer_query() for every query. It allocates nothing, takes no lock and
 * makes no system call; everything it needs lives on the stack (about 2 KiB).
 *
 * How a question is answered (RFC 1034 4.3.2, RFC 2308, RFC 4592):
 *  1. The question name and its ancestors are looked up in one descent of
 *     the trie (the lookup key of an ancestor is a prefix of the name's key
 *     ending at a label boundary, see dns/name.h; idx_find_path): the
 *     deepest zone apex picks the zone; none: REFUSED.
 *  2. Below the apex, the highest node with a zone cut (IDX_NODE_DELEG)
 *     turns the answer into a referral; the deepest existing node is the
 *     closest encloser (empty non-terminals are nodes of their own in the
 *     index, so a missing node has no descendants).
 *  3. An exact match answers from its RRsets (CNAME chains followed inside
 *     the zone); no match: the synthesized reverse answer from the address
 *     index, then the wildcard at the closest encloser, else NXDOMAIN.
 *
 * Names already in the message (the question and every name inside the
 * rdata of records written so far) are reused through compression pointers,
 * so an RRset is written as its stored blob with the owner pointer rewritten:
 * one memcpy per RRset, no name compression work on the fast path.
 *
 * Where Knot DNS 3.2 behaves in a particular way and RFCs allow several,
 * this file does what Knot does (tests/integration/differential.sh checks
 * it): minimal ANY (the RRset of the lowest type, RFC 8482), TC keeps the
 * answer RRsets that fitted, qtype OPT/TSIG/TKEY answered as NODATA, AXFR
 * over UDP NOTIMP, IXFR over UDP answered with the SOA (RFC 1995 2).
 */

#include <stdlib.h>
#include <string.h>

#include "dns/cookie.h"
#include "dns/errcode.h"
#include "dns/rdata.h"
#include "index/answer.h"

#define CNAME_MAX_HOPS 8      /* bounds the chain walk, and with it loops */
#define ADDITIONAL_MAX 16     /* names given additional A/AAAA per response */
#define PTR_OFF_MAX 0x3fff    /* largest offset a compression pointer reaches */
#define DNS_T_DS 43
#define OPT_LEN 11            /* an OPT RR without options */

#define KEY_FRONT 8           /* bytes in front of a walk's key (walk_key_fast) */

/* The ancestors of one name, as found in the trie. */
struct walk {
	const uint8_t *name;                 /* wire name being resolved */
	uint16_t name_off;                   /* its offset in the response, 0 if unusable */
	int nlabels;
	uint8_t loff[DNS_NAME_MAXLABELS + 1]; /* offset of label i in name; loff[nlabels] = root */
	uint16_t kend[DNS_NAME_MAXLABELS + 1]; /* key length of the ancestor with k labels */
	uint8_t labels_at[DNS_KEY_MAXLEN + 1]; /* k for key length kend[k]; other entries unset */
	const struct idx_node *exact;        /* the name itself, or NULL */
	const struct idx_node *apex;         /* the deepest apex above or at it, or NULL */
	const struct idx_node *cut;          /* the highest cut below the apex, or NULL */
	/*
	 * The lookup key at kbuf + KEY_FRONT (wk_key): room for the "*" label
	 * of a wildcard and for 8-byte stores past the end, and in front for
	 * walk_key_fast's stores that end with a label.
	 */
	uint8_t kbuf[KEY_FRONT + DNS_KEY_MAXLEN + 2 + 8];
	/*
	 * Found by walk_resolve, as key lengths (-1: none): the deepest apex,
	 * the highest cut below it, the deepest existing ancestor. As label
	 * counts (the *_k) only once walk_depths has run: the common answers
	 * need neither these nor loff/kend/labels_at.
	 */
	int apex_kl, cut_kl, encloser_kl;
	int apex_k;                          /* labels of the deepest apex, -1 for none */
	int cut_k;                           /* labels of the zone cut, -1 for none */
	int encloser_k;                      /* labels of the deepest existing ancestor */
	bool labels;                         /* loff, kend and labels_at are filled */
	bool depths;                         /* the *_k are */
	uint16_t klen;                       /* key length of the name itself */
	bool addr_known;                     /* addr holds the reverse name's address leaf */
	const struct idx_addr *addr;         /* (answer_bulk_lookup), NULL: none */
};

struct ctx {
	const struct idx_version *v;
	const struct dns_query *q;
	struct dns_writer w;
	const struct idx_node *apex;         /* the zone's apex node */
	uint16_t apex_off;                   /* the apex name's offset in the question */
	const uint8_t *apex_name;
	bool truncated;
	uint8_t nadd;
	const struct idx_node *added[ADDITIONAL_MAX];
};

/* ------------------------------------------------------------------------ */
/* Names and the walk                                                        */
/* ------------------------------------------------------------------------ */

/* A name's byte in a lookup key: ASCII upper case folded (0x00/0x01 are escaped apart). */
static const uint8_t key_byte[256] = {
	0x00, 0x01, 0x02, 0x03, 0x04, 0x05, 0x06, 0x07, 0x08, 0x09, 0x0a, 0x0b, 0x0c, 0x0d, 0x0e, 0x0f,
	0x10, 0x11, 0x12, 0x13, 0x14, 0x15, 0x16, 0x17, 0x18, 0x19, 0x1a, 0x1b, 0x1c, 0x1d, 0x1e, 0x1f,
	0x20, 0x21, 0x22, 0x23, 0x24, 0x25, 0x26, 0x27, 0x28, 0x29, 0x2a, 0x2b, 0x2c, 0x2d, 0x2e, 0x2f,
	0x30, 0x31, 0x32, 0x33, 0x34, 0x35, 0x36, 0x37, 0x38, 0x39, 0x3a, 0x3b, 0x3c, 0x3d, 0x3e, 0x3f,
	0x40, 0x61, 0x62, 0x63, 0x64, 0x65, 0x66, 0x67, 0x68, 0x69, 0x6a, 0x6b, 0x6c, 0x6d, 0x6e, 0x6f,
	0x70, 0x71, 0x72, 0x73, 0x74, 0x75, 0x76, 0x77, 0x78, 0x79, 0x7a, 0x5b, 0x5c, 0x5d, 0x5e, 0x5f,
	0x60, 0x61, 0x62, 0x63, 0x64, 0x65, 0x66, 0x67, 0x68, 0x69, 0x6a, 0x6b, 0x6c, 0x6d, 0x6e, 0x6f,
	0x70, 0x71, 0x72, 0x73, 0x74, 0x75, 0x76, 0x77, 0x78, 0x79, 0x7a, 0x7b, 0x7c, 0x7d, 0x7e, 0x7f,
	0x80, 0x81, 0x82, 0x83, 0x84, 0x85, 0x86, 0x87, 0x88, 0x89, 0x8a, 0x8b, 0x8c, 0x8d, 0x8e, 0x8f,
	0x90, 0x91, 0x92, 0x93, 0x94, 0x95, 0x96, 0x97, 0x98, 0x99, 0x9a, 0x9b, 0x9c, 0x9d, 0x9e, 0x9f,
	0xa0, 0xa1, 0xa2, 0xa3, 0xa4, 0xa5, 0xa6, 0xa7, 0xa8, 0xa9, 0xaa, 0xab, 0xac, 0xad, 0xae, 0xaf,
	0xb0, 0xb1, 0xb2, 0xb3, 0xb4, 0xb5, 0xb6, 0xb7, 0xb8, 0xb9, 0xba, 0xbb, 0xbc, 0xbd, 0xbe, 0xbf,
	0xc0, 0xc1, 0xc2, 0xc3, 0xc4, 0xc5, 0xc6, 0xc7, 0xc8, 0xc9, 0xca, 0xcb, 0xcc, 0xcd, 0xce, 0xcf,
	0xd0, 0xd1, 0xd2, 0xd3, 0xd4, 0xd5, 0xd6, 0xd7, 0xd8, 0xd9, 0xda, 0xdb, 0xdc, 0xdd, 0xde, 0xdf,
	0xe0, 0xe1, 0xe2, 0xe3, 0xe4, 0xe5, 0xe6, 0xe7, 0xe8, 0xe9, 0xea, 0xeb, 0xec, 0xed, 0xee, 0xef,
	0xf0, 0xf1, 0xf2, 0xf3, 0xf4, 0xf5, 0xf6, 0xf7, 0xf8, 0xf9, 0xfa, 0xfb, 0xfc, 0xfd, 0xfe, 0xff,
};

static inline uint8_t *wk_key(struct walk *wk)
{
	return wk->kbuf + KEY_FRONT;
}

static inline const uint8_t *wk_key_c(const struct walk *wk)
{
	return wk->kbuf + KEY_FRONT;
}

/* The offset of the suffix of w->name with k labels, as a pointer target (0 if none). */
static uint16_t suffix_off(const struct walk *wk, int k)
{
	if (wk->name_off == 0)
		return 0;
	unsigned off = wk->name_off + wk->loff[wk->nlabels - k];
	return off <= PTR_OFF_MAX ? (uint16_t)off : 0;
}

static const uint8_t *suffix_name(const struct walk *wk, int k)
{
	return wk->name + wk->loff[wk->nlabels - k];
}

/* A word of 8 name bytes with ASCII upper case folded to lower case. */
static inline uint64_t fold8(uint64_t x)
{
	const uint64_t ones = 0x0101010101010101ULL;
	uint64_t h = x & (0x7f * ones);
	uint64_t ge_a = h + (0x80 - 'A') * ones;       /* high bit: byte >= 'A' */
	uint64_t gt_z = h + (0x80 - 'Z' - 1) * ones;   /* high bit: byte > 'Z' */
	uint64_t upper = ge_a & ~gt_z & ~x & (0x80 * ones);
	return x | upper >> 2;                          /* + 0x20 */
}

/* True when one of the low `r` bytes (1..8) of x is 0x00 or 0x01 (escaped in keys). */
static inline bool low8(uint64_t x, unsigned r)
{
	const uint64_t ones = 0x0101010101010101ULL;
	uint64_t t = x & (0xfe * ones);
	if (r < 8)
		t |= ~0ULL << (8 * r);    /* bytes past the label cannot match */
	return ((t - ones) & ~t & (0x80 * ones)) != 0;
}

/*
 * Append the lookup-key form of the label at `l` to `dst` (lower case; a
 * label with 0x00/0x01 returns false and is redone escaped by the caller).
 * Eight bytes at a time; the last word is read so that it ends with the
 * label, which for a short first label reads up to 7 bytes before the
 * name: walk_name's names always lie in a DNS message after its 12-byte
 * header. Stores may write up to 7 bytes past the label in `dst`.
 */
static inline bool key_label(uint8_t *dst, const uint8_t *l)
{
	unsigned len = l[0];
	const uint8_t *src = l + 1;
	unsigned j = 0;
	uint64_t x;
	for (; j + 8 < len; j += 8) {
		memcpy(&x, src + j, 8);
		if (low8(x, 8))
			return false;
		x = fold8(x);
		memcpy(dst + j, &x, 8);
	}
	unsigned r = len - j;    /* 1..8 */
	memcpy(&x, src + len - 8, 8);
	x >>= 64 - 8 * r;        /* the label's last r bytes, in the low bytes */
	if (low8(x, r))
		return false;
	x = fold8(x);
	memcpy(dst + j, &x, 8);
	return true;
}

_Static_assert(__BYTE_ORDER__ == __ORDER_LITTLE_ENDIAN__, "key_label's word order");

typedef int8_t key_v16 __attribute__((vector_size(16)));
typedef uint8_t key_u16 __attribute__((vector_size(16)));
typedef uint64_t key_w2 __attribute__((vector_size(16)));

/*
 * label_ramp + take (1..8): in lanes 0-7, those of a word's high `take`
 * bytes (the upper lanes are not looked at).
 */
static const int8_t label_ramp[24] = {
	0, 0, 0, 0, 0, 0, 0, 0, -1, -1, -1, -1, -1, -1, -1, -1,
	0, 0, 0, 0, 0, 0, 0, 0,
};

/*
 * A word of a label (its high `take` bytes are the label's) folded to lower
 * case, in a vector register; a 0x00 or 0x01 among the label's bytes sets
 * lanes of the low half of *bad.
 */
static inline uint64_t fold_word(uint64_t w, unsigned take, key_v16 *bad)
{
	key_w2 t = { w, 0 };
	key_v16 x = (key_v16)t;
	/* 'A'..'Z': x - 'A' is 0..25 unsigned, so (x - 'A') ^ 0x80 = x + 0x3f is below -102 signed */
	x |= ((key_v16)((key_u16)x + 0x3f) < -102) & 0x20;   /* wraps: unsigned */
	key_v16 in;
	memcpy(&in, label_ramp + take, sizeof(in));
	*bad |= ((x & (int8_t)0xfe) == 0) & in;
	return ((key_w2)x)[0];
}

/*
 * walk_key for the question name: `wlen` is its wire length and `nlabels`
 * its label count as dns_query_parse measured them. The lookup key has the
 * labels in the reverse order, each followed by 0, so it is wlen - 1 bytes
 * long when nothing needs escaping, and label i (at wire offset pos) ends
 * at key offset wlen - 2 - pos. Each label is folded to lower case eight
 * bytes at a time from its end, in a register (fold_word), and stored
 * once: every store ends with the bytes it owns, and what it writes below
 * the label (at most 7 bytes, into the KEY_FRONT room for the last label)
 * belongs to the labels still to come, which write it afterwards. Nothing
 * stored is read back here: a load that spans several fresh stores waits
 * for them (store forwarding fails), which cost more than the instructions
 * it saved. false: a byte needs escaping (0x00/0x01), or the name is not
 * `wlen` bytes of `nlabels` labels; walk_key_general does it then. Reads
 * up to 7 bytes before a label, as
 * key_label.
 */
static inline __attribute__((always_inline)) bool
walk_key_fast(struct walk *wk, const uint8_t *name, size_t wlen, unsigned nlabels)
{
	if (wlen < 2 || wlen > DNS_NAME_MAXLEN || nlabels > DNS_NAME_MAXLABELS)
		return false;
	const unsigned klen = (unsigned)wlen - 1;
	uint8_t *key = wk_key(wk);
	unsigned pos = 0;
	key_v16 bad = { 0 };
	/*
	 * k counts down the labels of the suffix at pos. The parse found
	 * `nlabels` labels of 1..63 bytes in `wlen` bytes; the check keeps
	 * every read inside the name (and the 7 bytes before a label) even if
	 * they did not match: a count that does not fails at the end.
	 */
	for (unsigned k = nlabels; k != 0; k--) {
		unsigned len = name[pos];
		if (pos + len >= klen)
			return false;
		unsigned end = klen - pos;                     /* the key of this suffix ends here */
		const uint8_t *src = name + pos + 1 + len;    /* end of the label */
		uint8_t *dst = key + end - 1;                  /* where its 0 goes */
		pos += len + 1;
		for (;;) {
			uint64_t w;
			memcpy(&w, src - 8, 8);
			w = fold_word(w, len < 8 ? len : 8, &bad);
			memcpy(dst - 8, &w, 8);
			if (len <= 8)
				break;
			len -= 8, src -= 8, dst -= 8;
		}
		key[end - 1] = 0;
	}
	if (pos != klen || ((key_w2)bad)[0] != 0)
		return false;
	wk->nlabels = (int)nlabels;
	wk->klen = (uint16_t)klen;
	wk->labels = false;   /* walk_labels, when they are needed */
	return true;
}

/*
 * loff, kend and labels_at of a key walk_key_fast built: label i at wire
 * offset pos ends the key of its suffix at klen - pos.
 */
static void walk_labels(struct walk *wk)
{
	if (wk->labels)
		return;
	unsigned pos = 0, klen = wk->klen, n = (unsigned)wk->nlabels;
	for (unsigned k = n; k != 0; k--) {
		wk->loff[n - k] = (uint8_t)pos;
		wk->kend[k] = (uint16_t)(klen - pos);
		wk->labels_at[klen - pos] = (uint8_t)k;
		pos += wk->name[pos] + 1u;
	}
	wk->loff[n] = (uint8_t)klen;
	wk->kend[0] = 0;
	wk->labels_at[0] = 0;
	wk->labels = true;
}

/*
 * walk_key for any name: the label offsets first, then the key label by
 * label from the root, escaping what needs it. DDI_EMALF for a name the
 * walk cannot hold.
 */
static __attribute__((noinline)) int walk_key_general(struct walk *wk, const uint8_t *name)
{
	int n = 0;
	size_t pos = 0;
	while (name[pos] != 0) {
		if (n == DNS_NAME_MAXLABELS || pos + name[pos] + 1 >= DNS_NAME_MAXLEN)
			return DDI_EMALF;
		wk->loff[n++] = (uint8_t)pos;
		pos += (size_t)name[pos] + 1;
	}
	wk->loff[n] = (uint8_t)pos;
	wk->nlabels = n;

	/*
	 * The lookup key (dns_name_to_key: labels root first, lower-cased,
	 * 0x00/0x01 escaped, each ended by 0) and the key length of every
	 * ancestor, in one pass: no second scan of the key for label ends.
	 */
	size_t k = 0;
	wk->kend[0] = 0;
	for (int i = n - 1; i >= 0; i--) {
		const uint8_t *l = name + wk->loff[i];
		unsigned len = l[0];
		if (key_label(wk_key(wk) + k, l)) {
			k += len;
		} else {
			for (unsigned j = 1; j <= len; j++) {
				uint8_t ch = l[j];
				if (ch <= 1) {
					wk_key(wk)[k++] = 1;
					wk_key(wk)[k++] = (uint8_t)(ch + 1);
				} else {
					wk_key(wk)[k++] = key_byte[ch];
				}
			}
		}
		wk_key(wk)[k++] = 0;
		wk->kend[n - i] = (uint16_t)k;
		wk->labels_at[k] = (uint8_t)(n - i);
	}
	wk->labels_at[0] = 0;
	wk->klen = (uint16_t)k;
	wk->labels = true;
	return DDI_EOK;
}

/*
 * The label offsets and the lookup key of `name` and of each of its
 * ancestors. `name` lies in a DNS message at or after its question (see
 * key_label); `wlen` is its wire length and `nlabels` its label count when
 * known (wlen 0: not known).
 * DDI_EMALF for a name the walk cannot hold.
 */
static inline __attribute__((always_inline)) int
walk_key(struct walk *wk, const uint8_t *name, uint16_t name_off, size_t wlen, unsigned nlabels)
{
	wk->name = name;
	wk->name_off = name_off <= PTR_OFF_MAX ? name_off : 0;
	wk->addr_known = false;
	if (wlen != 0 && walk_key_fast(wk, name, wlen, nlabels))
		return DDI_EOK;
	return walk_key_general(wk, name);
}

/*
 * From the ancestors that exist (`path`, found by one descent, see
 * index/index.h idx_find_path), deepest first as RFC 1034 4.3.2 reads:
 * the closest encloser, the highest cut below the apex, the deepest apex,
 * each with its key length (walk_depths gives their label counts).
 */
static inline __attribute__((always_inline)) void walk_resolve(struct walk *wk,
                                                               const struct idx_path *p)
{
	const struct idx_node *exact = NULL, *apex = NULL, *cut = NULL;
	int apex_kl = -1, cut_kl = -1, encloser_kl = -1;
	int j = (int)p->n - 1;
	if (j >= 0) {
		encloser_kl = p->keylen[j];
		if (encloser_kl == wk->klen)
			exact = p->node[j];
		for (; j >= 0; j--) {
			const struct idx_node *nd = p->node[j];
			if (nd->flags & IDX_NODE_APEX) {
				apex_kl = p->keylen[j];
				apex = nd;
				break;
			}
			if (nd->flags & IDX_NODE_DELEG) {
				cut_kl = p->keylen[j];   /* the highest cut below the apex wins */
				cut = nd;
			}
		}
	}
	wk->exact = exact;
	wk->apex = apex;
	wk->cut = cut;
	wk->apex_kl = apex_kl;
	wk->cut_kl = cut_kl;
	wk->encloser_kl = encloser_kl;
	wk->depths = false;
}

/* The label counts of what walk_resolve found (an ancestor's key ends at a label end). */
static void walk_depths(struct walk *wk)
{
	if (wk->depths)
		return;
	walk_labels(wk);
	wk->apex_k = wk->apex_kl < 0 ? -1 : wk->labels_at[wk->apex_kl];
	wk->cut_k = wk->cut_kl < 0 ? -1 : wk->labels_at[wk->cut_kl];
	wk->encloser_k = wk->encloser_kl < 0 ? -1 : wk->labels_at[wk->encloser_kl];
	wk->depths = true;
}

/*
 * Find the ancestors of `name` that exist in one descent: the name itself,
 * the deepest zone apex, the highest cut below it and the closest encloser.
 * `name` lies in a DNS message at or after its question (see key_label).
 * walk_find leaves the label counts to walk_depths; walk_name does all.
 */
static inline __attribute__((always_inline)) int
walk_find(const struct idx_version *v, struct walk *wk, const uint8_t *name, uint16_t name_off,
          size_t wlen, unsigned nlabels)
{
	int ret = walk_key(wk, name, name_off, wlen, nlabels);
	if (ret != DDI_EOK)
		return ret;
	struct idx_path path;
	idx_find_path(v, wk_key(wk), wk->klen, &path);
	walk_resolve(wk, &path);
	return DDI_EOK;
}

static int walk_name(const struct idx_version *v, struct walk *wk, const uint8_t *name,
                     uint16_t name_off, size_t wlen, unsigned nlabels)
{
	int ret = walk_find(v, wk, name, name_off, wlen, nlabels);
	if (ret == DDI_EOK)
		walk_depths(wk);
	return ret;
}

/* "*" below the closest encloser (RFC 4592 3.3.1), or NULL. */
static const struct idx_node *find_wildcard(const struct idx_version *v, struct walk *wk)
{
	size_t kl = wk->kend[wk->encloser_k];
	uint8_t *key = wk_key(wk);
	key[kl] = '*';
	key[kl + 1] = 0;
	return idx_find(v, key, kl + 2);
}

/* Skip one (possibly compressed) name written by us in the response. */
static size_t skip_name(const uint8_t *buf, size_t pos)
{
	while (buf[pos] != 0) {
		if (buf[pos] >= 0xc0)
			return pos + 2;
		pos += (size_t)buf[pos] + 1;
	}
	return pos + 1;
}

/* ------------------------------------------------------------------------ */
/* Writing RRsets                                                            */
/* ------------------------------------------------------------------------ */

/* An RRset of node `n` with the owner given as a name in the message (or written). */
static int put_rrset(struct ctx *c, const struct idx_node *n, const struct idx_rrset *rs,
                     const uint8_t *owner, uint16_t owner_off)
{
	return dns_writer_put_rrset(&c->w, owner, owner_off, idx_rrset_blob(n, rs), rs->len,
	                            rs->count);
}

/* The SOA of the zone in authority, TTL = min(SOA TTL, MINIMUM) (RFC 2308 3, 5). */
static int put_negative_soa(struct ctx *c)
{
	const struct idx_rrset *rs = idx_node_rrset(c->apex, DNS_T_SOA);
	if (rs == NULL)
		return DDI_EOK;
	uint32_t pos = 0;
	uint16_t rrlen = 0;
	const uint8_t *rr = idx_rrset_next(c->apex, rs, &pos, &rrlen);
	if (rr == NULL || rrlen < 10 + 22 || rrlen > 10 + 2 * DNS_NAME_MAXLEN + 20)
		return DDI_EOK;
	uint8_t buf[10 + 2 * DNS_NAME_MAXLEN + 20];
	memcpy(buf, rr, rrlen);
	uint32_t ttl = dns_get32(rr + 4);
	uint32_t min = dns_soa_minimum(rr + 10, (uint16_t)(rrlen - 10));
	dns_put32(buf + 4, ttl < min ? ttl : min);
	dns_writer_section(&c->w, DNS_SEC_AUTHORITY);
	if (c->apex_off != 0)
		return dns_writer_put_rr_at(&c->w, c->apex_off, buf, rrlen);
	return dns_writer_put_rr(&c->w, c->apex_name, buf, rrlen);
}

/*
 * A/AAAA for the names in the rdata of the `count` records written from
 * offset `from` (NS, MX, SRV), when the name is at or below `within`.
 * Required glue (RFC 9471) that does not fit sets TC; other additional data
 * is dropped silently (RFC 2181 9).
 */
static void put_additional(struct ctx *c, size_t from, uint16_t count, const uint8_t *within,
                           bool required)
{
	dns_writer_section(&c->w, DNS_SEC_ADDITIONAL);
	size_t pos = from;
	for (uint16_t i = 0; i < count; i++) {
		pos = skip_name(c->w.buf, pos);
		uint16_t type = dns_get16(c->w.buf + pos);
		uint16_t rdlen = dns_get16(c->w.buf + pos + 8);
		const uint8_t *rdata = c->w.buf + pos + 10;
		pos += 10 + (size_t)rdlen;

		const uint8_t *target = dns_rdata_target(type, rdata, rdlen);
		if (target == NULL || !dns_name_is_sub(target, within))
			continue;
		uint8_t key[DNS_KEY_MAXLEN];
		int klen = dns_name_to_key(key, target);
		if (klen < 0)
			continue;
		const struct idx_node *n = idx_find(c->v, key, (size_t)klen);
		if (n == NULL)
			continue;
		bool seen = false;
		for (unsigned j = 0; j < c->nadd; j++)
			seen |= c->added[j] == n;
		if (seen || c->nadd == ADDITIONAL_MAX)
			continue;
		c->added[c->nadd++] = n;

		size_t toff = (size_t)(target - c->w.buf);
		uint16_t off = toff <= PTR_OFF_MAX ? (uint16_t)toff : 0;
		static const uint16_t types[2] = { DNS_T_A, DNS_T_AAAA };
		for (int t = 0; t < 2; t++) {
			const struct idx_rrset *rs = idx_node_rrset(n, types[t]);
			if (rs == NULL)
				continue;
			if (put_rrset(c, n, rs, target, off) != DDI_EOK) {
				if (required)
					c->truncated = true;
				return;
			}
		}
	}
}

/* ------------------------------------------------------------------------ */
/* Reverse names answered from the address index                             */
/* ------------------------------------------------------------------------ */

static int hex_digit(uint8_t ch)
{
	if (ch >= '0' && ch <= '9')
		return ch - '0';
	if (ch >= 'a' && ch <= 'f')
		return ch - 'a' + 10;
	if (ch >= 'A' && ch <= 'F')
		return ch - 'A' + 10;
	return -1;
}

/*
 * d.c.b.a.in-addr.arpa (four decimal labels 0-255, no leading zeros) or
 * 32 nibble labels + ip6.arpa -> family and address; 0 for anything else.
 */
static int reverse_addr(const struct walk *wk, uint8_t addr[16])
{
	const uint8_t *name = wk->name;
	/* the last labels, as the lookup key has them: root first, lower case */
	if (wk->nlabels == 6 && wk->kend[2] == 13 && memcmp(wk_key_c(wk), "arpa\0in-addr\0", 13) == 0) {
		for (int i = 0; i < 4; i++) {
			const uint8_t *l = name + wk->loff[i];
			if (l[0] < 1 || l[0] > 3 || (l[0] > 1 && l[1] == '0'))
				return 0;
			unsigned val = 0;
			for (int j = 1; j <= l[0]; j++) {
				if (l[j] < '0' || l[j] > '9')
					return 0;
				val = val * 10 + (unsigned)(l[j] - '0');
			}
			if (val > 255)
				return 0;
			addr[3 - i] = (uint8_t)val;
		}
		return 4;
	}
	if (wk->nlabels == 34 && wk->kend[2] == 9 && memcmp(wk_key_c(wk), "arpa\0ip6\0", 9) == 0) {
		memset(addr, 0, 16);
		for (int i = 0; i < 32; i++) {
			const uint8_t *l = name + wk->loff[i];
			int d = l[0] == 1 ? hex_digit(l[1]) : -1;
			if (d < 0)
				return 0;
			/* label 0 is the last nibble of the address */
			int nib = 31 - i;
			addr[nib / 2] |= (uint8_t)(nib % 2 == 0 ? d << 4 : d);
		}
		return 6;
	}
	return 0;
}

/* The owners of the address a reverse name spells, or NULL. */
static const struct idx_addr *reverse_owners(const struct ctx *c, const struct walk *wk)
{
	const struct idx_addr *a;
	if (wk->addr_known) {
		a = wk->addr;   /* looked up with its burst */
	} else {
		uint8_t addr[16];
		int family = reverse_addr(wk, addr);
		if (family == 0)
			return NULL;
		a = idx_addr_find(c->v, family, addr);
	}
	return a != NULL && a->nowners > 0 ? a : NULL;
}

/*
 * One PTR per owner of the address, owner = the name being answered, the
 * target spelled as the owner's node has it. All or nothing.
 */
static int put_synth_ptr(struct ctx *c, const struct walk *wk, const struct idx_addr *a)
{
	struct dns_writer saved = c->w;
	uint8_t rr[10 + DNS_NAME_MAXLEN];
	dns_put16(rr, DNS_T_PTR);
	dns_put16(rr + 2, DNS_CLASS_IN);
	dns_put32(rr + 4, idx_addr_ttl(a));
	for (uint16_t i = 0; i < a->nowners; i++) {
		size_t olen = idx_node_owner(idx_addr_owner(a, i), rr + 10);
		dns_put16(rr + 8, (uint16_t)olen);
		int ret = wk->name_off != 0
		        ? dns_writer_put_rr_at(&c->w, wk->name_off, rr, 10 + olen)
		        : dns_writer_put_rr(&c->w, wk->name, rr, 10 + olen);
		if (ret != DDI_EOK) {
			c->w = saved;
			return ret;
		}
	}
	return DDI_EOK;
}

/* ------------------------------------------------------------------------ */
/* The lookup                                                                */
/* ------------------------------------------------------------------------ */

/* The answer section did not fit: keep the RRsets that did, set TC (as Knot DNS). */
static enum answer_outcome truncate_answer(struct ctx *c, enum answer_outcome o)
{
	c->truncated = true;
	return o;
}

/*
 * NS in authority and glue below the cut in additional (RFC 1034 4.3.2 3b).
 * Not authoritative: AA stays clear.
 */
static enum answer_outcome referral(struct ctx *c, const struct walk *wk)
{
	const struct idx_node *cut = wk->cut;
	const struct idx_rrset *ns = idx_node_rrset(cut, DNS_T_NS);
	if (ns == NULL)
		return ANS_REFERRAL;
	dns_writer_section(&c->w, DNS_SEC_AUTHORITY);
	size_t from = c->w.len;
	const uint8_t *cut_name = suffix_name(wk, wk->cut_k);
	if (put_rrset(c, cut, ns, cut_name, suffix_off(wk, wk->cut_k)) != DDI_EOK) {
		c->truncated = true;
		return ANS_REFERRAL;
	}
	put_additional(c, from, ns->count, cut_name, true);
	return ANS_REFERRAL;
}

/*
 * Answer from one node (an exact match or the wildcard that stands for the
 * name, RFC 4592 3.3.1) for the name of `wk`. Sets *next to a CNAME target
 * to follow, with its offset in the message.
 */
static enum answer_outcome answer_node(struct ctx *c, const struct walk *wk,
                                       const struct idx_node *n, uint16_t qtype,
                                       const uint8_t **next, uint16_t *next_off)
{
	const uint8_t *owner = wk->name;
	uint16_t owner_off = wk->name_off;

	if (qtype == DNS_T_ANY) {
		/* RFC 8482 4.1: one RRset; the lowest type, as Knot DNS does. */
		if (n->nrrsets == 0) {
			const struct idx_addr *a = reverse_owners(c, wk);
			if (a != NULL)
				return put_synth_ptr(c, wk, a) == DDI_EOK
				       ? ANS_ANSWER : truncate_answer(c, ANS_ANSWER);
			return ANS_NODATA;
		}
		if (put_rrset(c, n, &n->rrsets[0], owner, owner_off) != DDI_EOK)
			return truncate_answer(c, ANS_ANSWER);
		return ANS_ANSWER;
	}

	const struct idx_rrset *rs = idx_node_rrset(n, qtype);
	if (rs == NULL && qtype != DNS_T_CNAME) {
		const struct idx_rrset *cn = idx_node_rrset(n, DNS_T_CNAME);
		if (cn != NULL) {
			size_t at = c->w.len;
			if (put_rrset(c, n, cn, owner, owner_off) != DDI_EOK)
				return truncate_answer(c, ANS_ANSWER);
			/* the target, uncompressed in the rdata just written */
			size_t rd = skip_name(c->w.buf, at) + 10;
			*next = c->w.buf + rd;
			*next_off = rd <= PTR_OFF_MAX ? (uint16_t)rd : 0;
			return ANS_ANSWER;
		}
	}
	if (rs == NULL) {
		if (qtype == DNS_T_PTR) {
			const struct idx_addr *a = reverse_owners(c, wk);
			if (a != NULL)
				return put_synth_ptr(c, wk, a) == DDI_EOK
				       ? ANS_ANSWER : truncate_answer(c, ANS_ANSWER);
		}
		return ANS_NODATA;
	}
	size_t from = c->w.len;
	if (put_rrset(c, n, rs, owner, owner_off) != DDI_EOK)
		return truncate_answer(c, ANS_ANSWER);
	if (qtype == DNS_T_MX || qtype == DNS_T_SRV || qtype == DNS_T_NS)
		put_additional(c, from, rs->count, c->apex_name, false);
	return ANS_ANSWER;
}

/*
 * Resolve the question: the walk, then the exact match, the synthesized
 * reverse answer, the wildcard or NXDOMAIN; CNAMEs are followed inside the
 * zone of the question.
 */
static enum answer_outcome resolve(struct ctx *c, struct walk *wk, bool prewalked,
                                   uint16_t qtype)
{
	const uint8_t *name = c->q->qname;
	uint16_t name_off = DNS_HDR_LEN;
	const struct idx_node *visited[CNAME_MAX_HOPS];
	enum answer_outcome o = ANS_ANSWER;

	for (int hop = 0; hop < CNAME_MAX_HOPS; hop++) {
		if (hop > 0 && !dns_name_is_sub(name, c->apex_name))
			return ANS_ANSWER;  /* leaves the zone: the CNAMEs are the answer */
		if (hop == 0 && prewalked) {
			/* the question's walk, done with its burst or by try_fast */
			walk_depths(wk);
		} else if (walk_name(c->v, wk, name, name_off, hop == 0 ? c->q->qname_len : 0,
		                     c->q->qname_labels) != DDI_EOK) {
			return hop == 0 ? ANS_FORMERR : ANS_ANSWER;
		}
		if (hop == 0) {
			if (c->w.ncompr == 1 && c->w.compr[0].labels == 0)
				c->w.compr[0].labels = (uint8_t)wk->nlabels;   /* writer_start */
			if (wk->apex_k < 0)
				return ANS_REFUSED;
			c->apex = wk->apex;
			c->apex_off = suffix_off(wk, wk->apex_k);
			c->apex_name = suffix_name(wk, wk->apex_k);
			/*
			 * A zone whose apex has no SOA is a secondary that has not
			 * loaded yet or has expired (control/store/store.h, "Secondary
			 * zones"): not authoritative, SERVFAIL (RFC 1035 4.3.5, as
			 * BIND and Knot answer for an expired zone).
			 */
			if (idx_node_rrset(c->apex, DNS_T_SOA) == NULL)
				return ANS_SERVFAIL;
		} else if (wk->apex_k < 0 || wk->apex != c->apex) {
			return ANS_ANSWER;  /* into another zone we serve: not followed, as Knot */
		}

		if (wk->cut_k >= 0 && !(qtype == DNS_T_DS && wk->cut_k == wk->nlabels)) {
			if (hop > 0) {
				/* CNAME into a delegation: the chain, and the cut's NS as Knot DNS does */
				referral(c, wk);
				return ANS_ANSWER;
			}
			return referral(c, wk);  /* RFC 1034 4.3.2 3b */
		}

		const struct idx_node *n = wk->exact;
		if (n == NULL) {
			const struct idx_addr *a = reverse_owners(c, wk);
			if (a != NULL) {
				/* the address exists in IPAM: the name exists */
				if (qtype != DNS_T_PTR && qtype != DNS_T_ANY)
					return ANS_NODATA;
				return put_synth_ptr(c, wk, a) == DDI_EOK
				       ? ANS_ANSWER : truncate_answer(c, ANS_ANSWER);
			}
			n = find_wildcard(c->v, wk);
			if (n == NULL)
				return ANS_NXDOMAIN;
		}

		for (int i = 0; i < hop; i++)
			if (visited[i] == n)
				return ANS_ANSWER;  /* CNAME loop: what was written is the answer */
		visited[hop] = n;

		const uint8_t *next = NULL;
		uint16_t next_off = 0;
		o = answer_node(c, wk, n, qtype, &next, &next_off);
		if (next == NULL || c->truncated)
			return o;
		name = next;
		name_off = next_off;
	}
	return o;
}

/* ------------------------------------------------------------------------ */
/* Entry points                                                              */
/* ------------------------------------------------------------------------ */

/*
 * What dns_writer_init does for a query with its one question, without
 * clearing the whole writer: the header made a response in place (QR set,
 * ID, opcode, RD and CD kept, RFC 1035 4.1.1, RFC 4035 3.2.2; AA, TC and the
 * rcode are set at the end), counts 1/0/0/0, the question kept. The
 * question name is the first compression target; its label count is
 * filled in by resolve() once the walk has counted them.
 */
static void writer_start(struct dns_writer *w, const struct dns_query *q, uint8_t *out,
                         size_t max)
{
	w->buf = out;
	w->max = max;
	w->len = q->question_end;
	w->section = DNS_SEC_ANSWER;
	w->count[0] = w->count[1] = w->count[2] = 0;
	w->ncompr = 0;
	if (out != q->wire)
		memmove(out, q->wire, q->question_end);
	uint16_t f = (uint16_t)((q->flags & (0x7800 | DNS_RD | DNS_CD)) | DNS_QR);
	out[2] = (uint8_t)(f >> 8);
	out[3] = (uint8_t)f;
	static const uint8_t counts[8] = { 0, 1, 0, 0, 0, 0, 0, 0 };
	memcpy(out + 4, counts, 8);
	if (q->qname_len > 1) {
		w->compr[0].off = DNS_HDR_LEN;
		w->compr[0].labels = 0;   /* set by resolve() */
		w->ncompr = 1;
	}
}

/* The common OPT (no option) at d: OPT_LEN bytes, as dns_writer_put_opt writes it. */
static inline void put_opt_template(uint8_t *d, uint16_t udp, uint16_t rcode, bool dnssec_ok)
{
	uint16_t size = udp < DNS_UDP_MIN ? DNS_UDP_MIN : udp;
	uint64_t head = 0x29ULL << 16 | (uint64_t)(size >> 8) << 24 |
	                (uint64_t)(size & 0xff) << 32 | (uint64_t)((rcode >> 4) & 0xff) << 40;
	memcpy(d, &head, 8);   /* 00 | 00 29 | size | ext rcode | version 0 | DO.. */
	uint32_t tail = dnssec_ok ? 0x80 : 0;   /* DO, Z 0, RDLENGTH 0 (little-endian bytes) */
	memcpy(d + 7, &tail, 4);
}

/* OPT for an EDNS query; the room for it was reserved from the limit. Returns its offset, 0: none. */
static uint16_t finish_opt(struct ctx *c, const struct answer_conf *conf, uint16_t rcode,
                           size_t cap)
{
	if (!c->q->has_edns)
		return 0;
	bool nsid = c->q->edns_nsid && conf->nsid != NULL;
	uint16_t udp = conf->udp_max != 0 ? conf->udp_max : DNS_EDNS_DEFAULT;
	dns_writer_section(&c->w, DNS_SEC_ADDITIONAL);
	size_t pos = c->w.len;
	if (!nsid && pos + OPT_LEN <= cap && pos + OPT_LEN <= DNS_MSG_MAX &&
	    c->w.count[DNS_SEC_ADDITIONAL] < UINT16_MAX) {
		/*
		 * The common OPT (no option) from a template, as
		 * dns_writer_put_opt writes it: root owner, type OPT, our UDP
		 * size, the extended rcode (RFC 6891 6.1.3), version 0, DO, Z 0,
		 * no rdata. The room was reserved from the limit.
		 */
		put_opt_template(c->w.buf + pos, udp, rcode, c->q->edns_do);
		c->w.len = pos + OPT_LEN;
		c->w.count[DNS_SEC_ADDITIONAL]++;
		return (uint16_t)pos;
	}
	/* the OPT carries the upper 8 bits of the 12-bit rcode (RFC 6891 6.1.3) */
	if (dns_writer_put_opt(&c->w, udp, (uint16_t)(rcode >> 4), c->q->edns_do,
	                       nsid ? conf->nsid : NULL, nsid ? conf->nsid_len : 0, cap) != DDI_EOK)
		return 0;
	return (uint16_t)pos;
}

/*
 * The common answer without the general writer: an A or AAAA question
 * (parsed clean, class IN, no NSID or COOKIE to add) whose name exists in a
 * zone with its SOA, is not at or below a cut, and has the RRset, which
 * fits: header and question kept, the stored RRset (its owners already
 * point at the question) copied after it, the plain OPT. The bytes are
 * those the general path writes (test_answer checks it on every answer it
 * has; tests/integration/differential.sh against Knot and NSD). Returns the
 * length, 0: not this case, the general path answers.
 */
/* idx_node_rrset inline, for the fast path's two look-ups (the same scan, no call). */
static inline const struct idx_rrset *node_rrset(const struct idx_node *n, uint16_t type)
{
	const struct idx_rrset *rs = n->rrsets, *end = rs + n->nrrsets;
	for (; rs < end; rs++)
		if (rs->type >= type)
			return rs->type == type ? rs : NULL;
	return NULL;
}

/* memcpy of one RRset's bytes; the common sizes (an A or AAAA RR or two, 12-32 bytes) inline. */
static inline void copy_rrset(uint8_t *d, const uint8_t *s, size_t len)
{
	if (len >= 8 && len <= 16) {
		uint64_t a, b;
		memcpy(&a, s, 8);
		memcpy(&b, s + len - 8, 8);
		memcpy(d, &a, 8);
		memcpy(d + len - 8, &b, 8);
	} else if (len > 16 && len <= 32) {
		uint8_t a[16], b[16];
		memcpy(a, s, 16);
		memcpy(b, s + len - 16, 16);
		memcpy(d, a, 16);
		memcpy(d + len - 16, b, 16);
	} else {
		memcpy(d, s, len);
	}
}

/* The header of a fast answer: QR, AA; opcode, RD and CD kept; TC and Z clear (writer_start). */
static inline void fast_header(uint8_t *out, const struct dns_query *q, uint8_t rcode,
                               uint16_t ancount, uint16_t nscount)
{
	uint16_t f = (uint16_t)((q->flags & (0x7800 | DNS_RD | DNS_CD)) | DNS_QR | DNS_AA | rcode);
	out[2] = (uint8_t)(f >> 8);
	out[3] = (uint8_t)f;
	dns_put16(out + 4, 1);
	dns_put16(out + 6, ancount);
	dns_put16(out + 8, nscount);
	dns_put16(out + 10, 0);
}

/*
 * True when a fast answer of `len` bytes and its plain OPT (for an EDNS
 * query) fit `cap` and the limit the general path takes: the query's UDP
 * size (never below 512, dns_query_udp_max) or a TCP message. Answers of
 * at most 512 bytes, nearly all, need no more than the first comparison.
 */
static inline bool fast_fits(const struct answer_conf *conf, enum answer_transport tr,
                             const struct dns_query *q, size_t cap, size_t len)
{
	size_t need = len + (q->has_edns ? OPT_LEN : 0);
	if (need > cap)
		return false;
	if (need <= DNS_UDP_MIN)
		return true;
	size_t max = tr == ANSWER_UDP
	           ? dns_query_udp_max(q, conf->udp_max ? conf->udp_max : DNS_EDNS_DEFAULT)
	           : DNS_MSG_MAX;
	return need <= max;
}

/*
 * The common negative answer without the general writer: NXDOMAIN for a
 * name that does not exist in a zone with its SOA, not at or below a cut,
 * not a reverse name (whose address may exist) and with no wildcard at the
 * closest encloser (RFC 4592 3.3.1): header and question kept, the zone's
 * SOA in authority with its owner pointing at the apex in the question and
 * TTL min(SOA TTL, MINIMUM) (RFC 2308 3, 5), the plain OPT. The bytes are
 * those resolve(), put_negative_soa and finish_opt write (test_answer
 * compares them). Returns the length, 0: the general path answers. The
 * wildcard's look-up writes its key after the encloser's in wk (as
 * find_wildcard does for the general path, which then looks it up again).
 */
static size_t answer_nx_fast(const struct idx_version *v, const struct answer_conf *conf,
                             enum answer_transport tr, const struct dns_query *q, uint8_t *out,
                             size_t cap, struct walk *wk, const struct idx_rrset *soa,
                             struct answer_info *info)
{
	/* a reverse name may name an address of IPAM (reverse_owners): the general path */
	if (wk->nlabels == 6 || wk->nlabels == 34 || wk->addr_known)
		return 0;
	uint16_t owner_off = suffix_off(wk, wk->apex_k);
	if (owner_off < DNS_HDR_LEN)
		return 0;
	uint32_t pos = 0;
	uint16_t rrlen = 0;
	const uint8_t *rr = idx_rrset_next(wk->apex, soa, &pos, &rrlen);
	/* what put_negative_soa and dns_writer_put_rr_at take, else theirs to decide */
	if (rr == NULL || rrlen < 10 + 22 || rrlen > 10 + 2 * DNS_NAME_MAXLEN + 20 ||
	    dns_get16(rr + 8) != rrlen - 10)
		return 0;
	size_t qend = q->question_end;
	size_t len = qend + 2 + rrlen;
	if (!fast_fits(conf, tr, q, cap, len))
		return 0;
	if (find_wildcard(v, wk) != NULL)
		return 0;
	if (out != q->wire)
		memmove(out, q->wire, qend);
	fast_header(out, q, DNS_RCODE_NXDOMAIN, 0, 1);
	uint8_t *d = out + qend;
	dns_put16(d, (uint16_t)(0xc000 | owner_off));
	memcpy(d + 2, rr, rrlen);
	uint32_t ttl = dns_get32(rr + 4);
	uint32_t min = dns_soa_minimum(rr + 10, (uint16_t)(rrlen - 10));
	dns_put32(d + 2 + 4, ttl < min ? ttl : min);
	info->opt_pos = 0;
	if (q->has_edns) {
		put_opt_template(out + len, conf->udp_max != 0 ? conf->udp_max : DNS_EDNS_DEFAULT,
		                 DNS_RCODE_NXDOMAIN, q->edns_do);
		out[11] = 1;
		info->opt_pos = (uint16_t)len;
		len += OPT_LEN;
	}
	info->outcome = ANS_NXDOMAIN;
	info->rcode = DNS_RCODE_NXDOMAIN;
	info->truncated = false;
	info->qtype = q->qtype;
	return len;
}

static inline __attribute__((always_inline)) size_t
answer_fast(const struct idx_version *v, const struct answer_conf *conf, enum answer_transport tr,
            const struct dns_query *q, uint8_t *out, size_t cap, struct walk *wk,
            struct answer_info *info)
{
	if (wk->apex == NULL || wk->cut != NULL)
		return 0;
	const struct idx_rrset *soa = node_rrset(wk->apex, DNS_T_SOA);
	if (soa == NULL)
		return 0;
	const struct idx_node *n = wk->exact;
	if (n == NULL) {
		walk_depths(wk);
		return answer_nx_fast(v, conf, tr, q, out, cap, wk, soa, info);
	}
	/* a name that exists: A and AAAA only (others may add records or follow a CNAME) */
	if (q->qtype != DNS_T_A && q->qtype != DNS_T_AAAA)
		return 0;
	const struct idx_rrset *rs = node_rrset(n, q->qtype);
	if (rs == NULL)
		return 0;
	size_t qend = q->question_end;
	size_t len = qend + rs->len;
	if (!fast_fits(conf, tr, q, cap, len))
		return 0;
	if (out != q->wire)
		memmove(out, q->wire, qend);
	fast_header(out, q, DNS_RCODE_NOERROR, rs->count, 0);
	copy_rrset(out + qend, idx_rrset_blob(n, rs), rs->len);
	info->opt_pos = 0;
	if (q->has_edns) {
		put_opt_template(out + len, conf->udp_max != 0 ? conf->udp_max : DNS_EDNS_DEFAULT,
		                 DNS_RCODE_NOERROR, q->edns_do);
		out[11] = 1;
		info->opt_pos = (uint16_t)len;
		len += OPT_LEN;
	}
	info->outcome = ANS_ANSWER;
	info->rcode = DNS_RCODE_NOERROR;
	info->truncated = false;
	info->qtype = q->qtype;
	return len;
}

/*
 * answer_fast if the question is of its kind, after the walk (into `local`
 * unless *pre has one; *pre then points at it, for the general path). No
 * NSID and no COOKIE to make room for: the limit is the general path's
 * with a plain OPT. Returns the length with every field of *info set, 0:
 * the general path answers (and sets *info).
 */
static inline __attribute__((always_inline)) size_t
try_fast(const struct idx_version *v, const struct answer_conf *conf, enum answer_transport tr,
         const struct dns_query *q, enum dns_parse_result parse, uint8_t *out, size_t cap,
         struct answer_info *info, struct walk **pre, struct walk *local)
{
	/*
	 * A miss answers the same for every type but the transfers
	 * (answer_nx_fast); PTR questions are nearly all reverse names, which
	 * the general path answers from the address index: not tried here.
	 */
	/* DNS_PARSE_OK: one question, question_end within the message (dns/wire.h) */
	if (!(parse == DNS_PARSE_OK && q->opcode == DNS_OP_QUERY && q->qclass == DNS_CLASS_IN &&
	      (q->qtype == DNS_T_A || q->qtype == DNS_T_AAAA ||
	       (q->qtype != DNS_T_AXFR && q->qtype != DNS_T_IXFR && q->qtype != DNS_T_PTR)) &&
	      q->qname_len > 1 &&
	      !(q->edns_cookie_off && conf->cookies) && !(q->edns_nsid && conf->nsid)))
		return 0;
	if (*pre == NULL) {
		if (walk_find(v, local, q->qname, DNS_HDR_LEN, q->qname_len, q->qname_labels) !=
		    DDI_EOK)
			return 0;
		*pre = local;
	}
	return answer_fast(v, conf, tr, q, out, cap, *pre, info);
}

/*
 * Every answer try_fast leaves: `wk` is the question's walk when
 * `prewalked` (done by try_fast or with the burst), else room for it.
 */
static __attribute__((noinline)) size_t
answer_general(const struct idx_version *v, const struct answer_conf *conf,
               enum answer_transport tr, const struct dns_query *q, enum dns_parse_result parse,
               uint8_t *out, size_t cap, struct answer_info *info, struct walk *wk,
               bool prewalked)
{
	info->outcome = ANS_DROP;
	info->rcode = 0;
	info->truncated = false;
	info->qtype = q->qtype;
	info->opt_pos = 0;
	if (parse == DNS_PARSE_DROP)
		return 0;

	size_t max = tr == ANSWER_UDP ? dns_query_udp_max(q, conf->udp_max ? conf->udp_max
	                                                                  : DNS_EDNS_DEFAULT)
	                              : DNS_MSG_MAX;
	if (max > cap)
		max = cap;
	bool cookie_malformed = false;
	if (q->has_edns) {
		size_t opt = dns_opt_size(q->edns_nsid && conf->nsid ? conf->nsid_len : 0);
		if (q->edns_cookie_off && conf->cookies) {
			/* RFC 7873 5.2.2: a COOKIE option of a length no cookie has is FORMERR */
			if (dns_cookie_len_ok(q->edns_cookie_len))
				opt += DNS_COOKIE_OPT_ROOM;   /* appended by the caller */
			else
				cookie_malformed = true;
		}
		max = max > opt ? max - opt : 0;
	}

	/* Field by field: zeroing the whole context (the writer, the added[]
	 * table) is a measurable share of a query's instructions. */
	struct ctx c;
	c.v = v;
	c.q = q;
	c.apex = NULL;
	c.apex_off = 0;
	c.apex_name = NULL;
	c.truncated = false;
	c.nadd = 0;
	bool question = q->question_end != 0 && q->qdcount == 1;
	uint16_t rcode = DNS_RCODE_NOERROR;
	enum answer_outcome o;

	if (parse == DNS_PARSE_FORMERR) {
		o = ANS_FORMERR;
		rcode = DNS_RCODE_FORMERR;
	} else if (parse == DNS_PARSE_BADVERS) {
		o = ANS_BADVERS;   /* RFC 6891 6.1.3 */
		rcode = DNS_RCODE_BADVERS;
	} else if (cookie_malformed) {
		o = ANS_FORMERR;
		rcode = DNS_RCODE_FORMERR;
	} else if (q->opcode != DNS_OP_QUERY) {
		o = ANS_NOTIMP;
		rcode = DNS_RCODE_NOTIMP;
	} else if (q->qclass != DNS_CLASS_IN && q->qclass != DNS_CLASS_ANY) {
		o = ANS_REFUSED;
		rcode = DNS_RCODE_REFUSED;
	} else if (q->qtype == DNS_T_AXFR || (q->qtype == DNS_T_IXFR && tr == ANSWER_TCP)) {
		/* transfers are served by the control thread; AXFR never over UDP (RFC 5936 4.2) */
		o = ANS_NOTIMP;
		rcode = DNS_RCODE_NOTIMP;
	} else {
		o = ANS_ANSWER;
	}

	if (o == ANS_ANSWER && !question) {
		o = ANS_FORMERR;   /* a QUERY without its one question */
		rcode = DNS_RCODE_FORMERR;
	}
	if (o == ANS_ANSWER && q->question_end <= max && q->question_end <= q->len) {
		/* the common case: header and question from the query (writer_start) */
		writer_start(&c.w, q, out, max);
	} else if (dns_writer_init(&c.w, q, out, max, question) != DDI_EOK) {
		return 0;
	}

	if (o == ANS_ANSWER) {
		/* RFC 1995 2: IXFR over UDP that cannot be served: the SOA alone says "use TCP" */
		uint16_t qtype = q->qtype == DNS_T_IXFR ? DNS_T_SOA : q->qtype;
		o = resolve(&c, wk, prewalked, qtype);
		if (q->qtype == DNS_T_IXFR && o != ANS_ANSWER && o != ANS_REFUSED) {
			/* IXFR is asked of an apex only; anything else is not ours to transfer */
			(void)dns_writer_init(&c.w, q, out, max, true);
			c.truncated = false;
			o = ANS_REFUSED;
		}
		switch (o) {
		case ANS_NXDOMAIN:
			rcode = DNS_RCODE_NXDOMAIN;
			/* fall through */
		case ANS_NODATA:
			if (!c.truncated && put_negative_soa(&c) != DDI_EOK)
				c.truncated = true;  /* RFC 2181 9: the SOA must fit */
			break;
		case ANS_REFUSED:
			rcode = DNS_RCODE_REFUSED;
			break;
		case ANS_SERVFAIL:
			rcode = DNS_RCODE_SERVFAIL;
			break;
		case ANS_FORMERR:
			rcode = DNS_RCODE_FORMERR;
			break;
		default:
			break;
		}
		/* authoritative data, also when negative (RFC 2308); a referral is not */
		if (o == ANS_ANSWER || o == ANS_NODATA || o == ANS_NXDOMAIN)
			out[2] |= DNS_AA >> 8;
	}

	if (c.truncated)
		out[2] |= DNS_TC >> 8;
	out[3] = (uint8_t)((out[3] & 0xf0) | (rcode & 0xf));
	info->opt_pos = finish_opt(&c, conf, rcode, cap);
	size_t len = dns_writer_finish(&c.w);

	info->outcome = o;
	info->rcode = (uint8_t)rcode;
	info->truncated = c.truncated;
	return len;
}

/*
 * answer_query, with the question's walk already done (pre) or not (NULL):
 * the common case first (try_fast), with a walk the general path reuses.
 */
static inline __attribute__((always_inline)) size_t
answer_core(const struct idx_version *v, const struct answer_conf *conf, enum answer_transport tr,
            const struct dns_query *q, enum dns_parse_result parse, uint8_t *out, size_t cap,
            struct answer_info *info, struct walk *pre)
{
	static const struct answer_conf defaults = { .udp_max = DNS_EDNS_DEFAULT };
	if (conf == NULL)
		conf = &defaults;
	struct walk local;
	size_t fast = try_fast(v, conf, tr, q, parse, out, cap, info, &pre, &local);
	if (fast != 0)
		return fast;
	return answer_general(v, conf, tr, q, parse, out, cap, info, pre != NULL ? pre : &local,
	                      pre != NULL);
}

size_t answer_query(const struct idx_version *v, const struct answer_conf *conf,
                    enum answer_transport tr, const struct dns_query *q,
                    enum dns_parse_result parse, uint8_t *out, size_t cap,
                    struct answer_info *info)
{
	return answer_core(v, conf, tr, q, parse, out, cap, info, NULL);
}

/* ------------------------------------------------------------------------ */
/* Bursts: the questions' lookups walked together                            */
/* ------------------------------------------------------------------------ */

enum slot_state { SLOT_EMPTY = 0, SLOT_KEYED, SLOT_WALKED };

struct bulk_slot {
	struct walk wk;
	struct idx_path path;
	const uint8_t *qname;    /* the question this slot was prepared for */
	uint8_t addr[16];        /* a reverse name's address */
	uint8_t state;           /* enum slot_state */
};

struct answer_bulk {
	struct bulk_slot slot[ANSWER_BULK_MAX];
};

_Static_assert(ANSWER_BULK_MAX <= IDX_BULK_MAX, "a burst is one idx_find_path_bulk");

struct answer_bulk *answer_bulk_new(void)
{
	struct answer_bulk *b = calloc(1, sizeof(*b));
	return b;
}

void answer_bulk_free(struct answer_bulk *b)
{
	free(b);
}

#define BULK_MIN_NODES 16384

bool answer_bulk_worth(const struct idx_version *v)
{
	return idx_version_nodes(v) >= BULK_MIN_NODES;
}

void answer_bulk_prepare(struct answer_bulk *b, unsigned i, const struct dns_query *q,
                         enum dns_parse_result parse)
{
	struct bulk_slot *s = &b->slot[i];
	s->state = SLOT_EMPTY;
	s->qname = NULL;
	if (parse != DNS_PARSE_OK || q->question_end == 0 || q->qdcount != 1 || q->qname == NULL)
		return;
	if (walk_key(&s->wk, q->qname, DNS_HDR_LEN, q->qname_len, q->qname_labels) != DDI_EOK)
		return;   /* answer_query_bulk walks it again and answers FORMERR */
	s->qname = q->qname;
	s->state = SLOT_KEYED;
}

void answer_bulk_lookup(const struct idx_version *v, struct answer_bulk *b, unsigned n)
{
	const uint8_t *keys[ANSWER_BULK_MAX];
	size_t lens[ANSWER_BULK_MAX];
	struct idx_path *paths[ANSWER_BULK_MAX];
	unsigned idx[ANSWER_BULK_MAX];
	unsigned m = 0;

	for (unsigned i = 0; i < n && i < ANSWER_BULK_MAX; i++) {
		struct bulk_slot *s = &b->slot[i];
		if (s->state != SLOT_KEYED)
			continue;
		keys[m] = wk_key(&s->wk);
		lens[m] = s->wk.klen;
		paths[m] = &s->path;
		idx[m++] = i;
	}
	if (m == 0)
		return;
	idx_find_path_bulk(v, m, keys, lens, paths);
	/* the reverse names' address leaves, walked together too (synthesized PTR) */
	int fams[ANSWER_BULK_MAX];
	const uint8_t *addrs[ANSWER_BULK_MAX];
	const struct idx_addr *found[ANSWER_BULK_MAX];
	unsigned na = 0, aidx[ANSWER_BULK_MAX];
	for (unsigned j = 0; j < m; j++) {
		struct bulk_slot *s = &b->slot[idx[j]];
		walk_resolve(&s->wk, &s->path);
		s->state = SLOT_WALKED;
		/* a reverse name without a PTR RRset of its own: its PTRs come from the address */
		int fam = 0;
		if (s->wk.nlabels == 6 || s->wk.nlabels == 34) {
			walk_depths(&s->wk);   /* reverse_addr reads the labels */
			fam = reverse_addr(&s->wk, s->addr);
		}
		if (fam != 0 && s->wk.exact != NULL && idx_node_rrset(s->wk.exact, DNS_T_PTR) != NULL)
			fam = 0;
		if (fam != 0) {
			fams[na] = fam;
			addrs[na] = s->addr;
			aidx[na++] = idx[j];
		}
	}
	if (na == 0)
		return;
	idx_addr_find_bulk(v, na, fams, addrs, found);
	for (unsigned j = 0; j < na; j++) {
		struct walk *wk = &b->slot[aidx[j]].wk;
		wk->addr = found[j];
		wk->addr_known = true;
	}
}

size_t answer_query_bulk(const struct idx_version *v, const struct answer_conf *conf,
                         enum answer_transport tr, const struct dns_query *q,
                         enum dns_parse_result parse, uint8_t *out, size_t cap,
                         struct answer_info *info, struct answer_bulk *b, unsigned i)
{
	struct bulk_slot *s = i < ANSWER_BULK_MAX ? &b->slot[i] : NULL;
	struct walk *pre = NULL;
	if (s != NULL && s->state == SLOT_WALKED && s->qname == q->qname)
		pre = &s->wk;
	if (s != NULL)
		s->state = SLOT_EMPTY;   /* a walk serves one answer */
	return answer_core(v, conf, tr, q, parse, out, cap, info, pre);
}

size_t answer_message(const struct idx_version *v, const struct answer_conf *conf,
                      enum answer_transport tr, const uint8_t *wire, size_t len,
                      uint8_t *out, size_t cap, struct answer_info *info)
{
	struct dns_query q;
	memset(&q, 0, sizeof(q));
	enum dns_parse_result r = dns_query_parse(&q, wire, len);
	return answer_query(v, conf, tr, &q, r, out, cap, info);
}
