/* packet -- parse Ethernet/VLAN/IPv4/IPv6/UDP, answer DNS in place, rewrite the headers */
#include <assert.h>
#include <string.h>

#include "control/ddns/tkey.h"
#include "dataplane/packet.h"
#include "dns/wire.h"

#define ETH_HLEN 14
#define ETH_ALEN 6
#define ETHERTYPE_IPV4 0x0800
#define ETHERTYPE_ARP 0x0806
#define ETHERTYPE_VLAN 0x8100  /* IEEE 802.1Q */
#define ETHERTYPE_QINQ 0x88a8  /* IEEE 802.1ad */
#define ETHERTYPE_IPV6 0x86dd
#define VLAN_HLEN 4
#define VLAN_MAX_TAGS 2        /* one 802.1ad outer tag and one 802.1Q tag */

#define IPV4_HLEN 20
#define IPV4_MF 0x2000
#define IPV4_DF 0x4000
#define IPV4_OFFMASK 0x1fff
#define IPV6_HLEN 40
#define UDP_HLEN 8
#define REPLY_TTL 64

#define IPPROTO_HOPOPTS_ 0
#define IPPROTO_ICMP_ 1
#define IPPROTO_TCP_ 6
#define IPPROTO_UDP_ 17
#define IPPROTO_ROUTING_ 43
#define IPPROTO_FRAGMENT_ 44
#define IPPROTO_ESP_ 50
#define IPPROTO_AH_ 51
#define IPPROTO_ICMPV6_ 58
#define IPPROTO_DSTOPTS_ 60
#define IPPROTO_MH_ 135
#define IPPROTO_HIP_ 139
#define IPPROTO_SHIM6_ 140

/* ------------------------------------------------------------------------ */
/* Checksums                                                                */
/* ------------------------------------------------------------------------ */

/*
 * The ones' complement sum (RFC 1071) sixteen bytes at a time: the 16-bit
 * words are summed in the machine's order as 64-bit words, the carries out
 * of the top counted and added back (end-around) with the 64-bit sum folded
 * to 33 bits, and folded to 16 once per checksum; the sum does not depend on byte order (RFC 1071 2(B)), so a folded
 * sum is the network-order sum byte-swapped. Byte by byte, the checksums
 * were the largest share of the frame path's own instructions
 * (bench/RESULTS.md "Instructions per query, second round").
 */
static inline uint64_t csum_words(const uint8_t *p, size_t n)
{
	/* whole 64-bit words, their carries counted apart and added back at the end */
	uint64_t s = 0, carries = 0;
	for (; n >= 16; p += 16, n -= 16) {
		uint64_t w0, w1;
		memcpy(&w0, p, 8);
		memcpy(&w1, p + 8, 8);
		s += w0;
		carries += s < w0;
		s += w1;
		carries += s < w1;
	}
	if (n >= 8) {
		uint64_t w;
		memcpy(&w, p, 8);
		s += w;
		carries += s < w;
		p += 8;
		n -= 8;
	}
	/* fold to 33 bits: room below for the tail and the caller's additions */
	s = (s & 0xffffffffu) + (s >> 32) + carries;
	if (n >= 4) {
		uint32_t w;
		memcpy(&w, p, 4);
		s += w;
		p += 4;
		n -= 4;
	}
	if (n >= 2) {
		uint16_t w;
		memcpy(&w, p, 2);
		s += w;
		p += 2;
		n -= 2;
	}
	if (n)
		s += p[0];   /* the low byte of a word in little-endian order: padded with zero */
	return s;
}

/* A big-endian 16-bit value as a word of csum_words' sum. */
static inline uint64_t csum_be16(uint16_t v)
{
	return (uint16_t)(v << 8 | v >> 8);
}

/*
 * csum_words' sum folded to 16 bits with the carries added back (x plus
 * itself rotated by half: the high half is the end-around sum, as Linux's
 * csum_fold), in machine order; 0 only for a zero sum.
 */
static inline uint16_t csum_fold64(uint64_t s)
{
	s += s >> 32 | s << 32;
	uint32_t u = (uint32_t)(s >> 32);
	u += u >> 16 | u << 16;
	return (uint16_t)(u >> 16);
}

/* The checksum field for a folded sum, network order as a machine-order word. */
static inline void csum_put(uint8_t *field, uint16_t folded)
{
	uint16_t c = (uint16_t)~folded;
	memcpy(field, &c, 2);
}

_Static_assert(__BYTE_ORDER__ == __ORDER_LITTLE_ENDIAN__, "csum_words sums little-endian words");

/*
 * Sum of big-endian 16-bit words, an odd last byte padded with zero
 * (RFC 1071), added to `sum`. The result is congruent to the plain sum of
 * the words modulo 0xffff and zero only when that sum is, so dp_csum_fold()
 * of it is the same; it is at most sum + 0xffff.
 */
uint32_t dp_csum_add(uint32_t sum, const uint8_t *p, size_t n)
{
	uint16_t f = csum_fold64(csum_words(p, n));
	return sum + (uint16_t)(f << 8 | f >> 8);
}

uint16_t dp_csum_fold(uint32_t sum)
{
	while (sum >> 16)
		sum = (sum & 0xffff) + (sum >> 16);
	return (uint16_t)sum;
}

/* Pseudo-header sum (RFC 768, RFC 8200 8.1) of a UDP datagram of `ulen` bytes, as csum_words'. */
static uint64_t pseudo_words(bool v6, const uint8_t *ip, uint16_t ulen)
{
	uint64_t s = v6 ? csum_words(ip + 8, 32) : csum_words(ip + 12, 8);
	return s + csum_be16(IPPROTO_UDP_) + csum_be16(ulen);
}

static bool is_service4(const struct dp_service *svc, const uint8_t *a)
{
	for (unsigned i = 0; i < svc->n4; i++)
		if (memcmp(svc->v4[i], a, 4) == 0)
			return true;
	return false;
}

static bool is_service6(const struct dp_service *svc, const uint8_t *a)
{
	for (unsigned i = 0; i < svc->n6; i++)
		if (memcmp(svc->v6[i], a, 16) == 0)
			return true;
	return false;
}

static enum dp_outcome outcome_of(const struct answer_info *info)
{
	switch (info->outcome) {
	case ANS_ANSWER: return DP_OUT_NOERROR;
	case ANS_NODATA: return DP_OUT_NODATA;
	case ANS_NXDOMAIN: return DP_OUT_NXDOMAIN;
	case ANS_REFERRAL: return DP_OUT_REFERRAL;
	case ANS_REFUSED: return DP_OUT_REFUSED;
	case ANS_NOTIMP: return DP_OUT_NOTIMP;
	case ANS_FORMERR: return DP_OUT_FORMERR;
	case ANS_BADVERS: return DP_OUT_BADVERS;
	case ANS_SERVFAIL: return DP_OUT_SERVFAIL;
	case ANS_DROP:
	case ANS__COUNT:
		break;
	}
	return DP_OUT_NO_ANSWER;
}

static void set_outcome(struct dp_result *r, enum dp_action a, enum dp_outcome o)
{
	r->action = a;
	r->outcome = o;
}

/* IPv6 next-header values that are extension headers (RFC 8200 4, RFC 7045). */
static bool is_ipv6_ext(uint8_t nh)
{
	switch (nh) {
	case IPPROTO_HOPOPTS_: case IPPROTO_ROUTING_: case IPPROTO_DSTOPTS_:
	case IPPROTO_AH_: case IPPROTO_ESP_: case IPPROTO_MH_:
	case IPPROTO_HIP_: case IPPROTO_SHIM6_: case 253: case 254:
		return true;
	default:
		return false;
	}
}

static enum dp_outcome other_proto(uint8_t proto)
{
	switch (proto) {
	case IPPROTO_ICMP_:
	case IPPROTO_ICMPV6_: return DP_OUT_EXC_ICMP;
	case IPPROTO_TCP_: return DP_OUT_EXC_TCP;
	default: return DP_OUT_EXC_OTHER;
	}
}

/* ------------------------------------------------------------------------ */
/* Parse: Ethernet/VLAN, IPv4, IPv6, UDP                                    */
/* ------------------------------------------------------------------------ */

/* Ethernet and up to two VLAN tags: the ethertype and the L2 length. */
static bool parse_eth(struct dp_frame *f, uint16_t *etype, struct dp_result *r)
{
	if (f->len < ETH_HLEN) {
		set_outcome(r, DP_ACT_DROP, DP_OUT_MALF_LENGTH);
		return false;
	}
	size_t off = 2 * ETH_ALEN;
	*etype = dns_get16(f->frame + off);
	for (int tags = 0; (*etype == ETHERTYPE_VLAN || *etype == ETHERTYPE_QINQ) &&
	                   tags < VLAN_MAX_TAGS; tags++) {
		off += VLAN_HLEN;
		if (off + 2 > f->len) {
			set_outcome(r, DP_ACT_DROP, DP_OUT_MALF_LENGTH);
			return false;
		}
		*etype = dns_get16(f->frame + off);
	}
	off += 2;
	r->l2_len = (uint16_t)off;
	f->ip = f->frame + off;
	return true;
}

/* IPv4 (RFC 791): UDP to a service address, unfragmented, header checksum right. */
static bool parse_ipv4(const struct dp_pctx *ctx, struct dp_frame *f, size_t avail,
                       struct dp_result *r)
{
	uint8_t *ip = f->ip;
	if (avail < IPV4_HLEN || ip[0] >> 4 != 4) {
		set_outcome(r, DP_ACT_DROP, DP_OUT_MALF_LENGTH);
		return false;
	}
	size_t ihl = (size_t)(ip[0] & 0xf) * 4;
	size_t tot = dns_get16(ip + 2);
	if (ihl < IPV4_HLEN || ihl > avail || tot < ihl || tot > avail) {
		set_outcome(r, DP_ACT_DROP, DP_OUT_MALF_LENGTH);
		return false;
	}
	if (csum_fold64(csum_words(ip, ihl)) != 0xffff) {
		set_outcome(r, DP_ACT_DROP, DP_OUT_MALF_CHECKSUM);
		return false;
	}
	if (dns_get16(ip + 6) & (IPV4_MF | IPV4_OFFMASK)) {
		set_outcome(r, DP_ACT_EXCEPTION, DP_OUT_EXC_FRAGMENT);
		return false;
	}
	if (ip[9] != IPPROTO_UDP_) {
		set_outcome(r, DP_ACT_EXCEPTION, other_proto(ip[9]));
		return false;
	}
	if (!is_service4(ctx->svc, ip + 16)) {
		set_outcome(r, DP_ACT_EXCEPTION, DP_OUT_NOT_FOR_US);
		return false;
	}
	f->udp = ip + ihl;
	f->ulen_ip = tot - ihl;
	f->v6 = false;
	r->l3_len = (uint16_t)ihl;
	return true;
}

/* IPv6 (RFC 8200): UDP right after the fixed header, to a service address. */
static bool parse_ipv6(const struct dp_pctx *ctx, struct dp_frame *f, size_t avail,
                       struct dp_result *r)
{
	uint8_t *ip = f->ip;
	if (avail < IPV6_HLEN || ip[0] >> 4 != 6) {
		set_outcome(r, DP_ACT_DROP, DP_OUT_MALF_LENGTH);
		return false;
	}
	size_t plen = dns_get16(ip + 4);
	if (plen > avail - IPV6_HLEN) {
		set_outcome(r, DP_ACT_DROP, DP_OUT_MALF_LENGTH);
		return false;
	}
	uint8_t nh = ip[6];
	if (nh == IPPROTO_FRAGMENT_) {
		set_outcome(r, DP_ACT_EXCEPTION, DP_OUT_EXC_FRAGMENT);
		return false;
	}
	if (is_ipv6_ext(nh)) {
		set_outcome(r, DP_ACT_EXCEPTION, DP_OUT_EXC_IPV6_EXT);
		return false;
	}
	if (nh != IPPROTO_UDP_) {
		set_outcome(r, DP_ACT_EXCEPTION, other_proto(nh));
		return false;
	}
	if (!is_service6(ctx->svc, ip + 24)) {
		set_outcome(r, DP_ACT_EXCEPTION, DP_OUT_NOT_FOR_US);
		return false;
	}
	f->udp = ip + IPV6_HLEN;
	f->ulen_ip = plen;
	f->v6 = true;
	r->l3_len = IPV6_HLEN;
	r->ipv6 = true;
	return true;
}

/* UDP (RFC 768) to port 53: lengths, checksum, a source port to answer, a DNS header. */
static bool parse_udp(struct dp_frame *f, struct dp_result *r)
{
	const uint8_t *udp = f->udp;
	if (f->ulen_ip < UDP_HLEN) {
		set_outcome(r, DP_ACT_DROP, DP_OUT_MALF_LENGTH);
		return false;
	}
	if (dns_get16(udp + 2) != DP_DNS_PORT) {
		set_outcome(r, DP_ACT_EXCEPTION, DP_OUT_EXC_OTHER);
		return false;
	}
	/* The UDP length must be exactly what the IP header leaves for it. */
	uint16_t ulen = dns_get16(udp + 4);
	if (ulen != f->ulen_ip) {
		set_outcome(r, DP_ACT_DROP, DP_OUT_MALF_LENGTH);
		return false;
	}
	uint16_t csum = dns_get16(udp + 6);
	/* IPv4: 0 means "no checksum"; IPv6: 0 is invalid (RFC 8200 8.1). */
	if (csum != 0 || f->v6) {
		if (csum == 0 ||
		    csum_fold64(pseudo_words(f->v6, f->ip, ulen) + csum_words(udp, ulen)) != 0xffff) {
			set_outcome(r, DP_ACT_DROP, DP_OUT_MALF_CHECKSUM);
			return false;
		}
	}
	if (dns_get16(udp) == 0) {
		set_outcome(r, DP_ACT_DROP, DP_OUT_MALF_PORT);
		return false;
	}
	if (ulen < UDP_HLEN + DNS_HDR_LEN) {
		set_outcome(r, DP_ACT_DROP, DP_OUT_MALF_DNS_HDR);
		return false;
	}
	return true;
}

/*
 * IPv4 options are not echoed in the response: move the datagram down to a
 * plain 20-byte header now, so that a hand-off to the control lcore (and on
 * to the DDNS thread) carries a frame that parses the same way again. Rare:
 * no fast path.
 */
static void strip_ipv4_options(struct dp_frame *f, struct dp_result *r)
{
	uint8_t *ip = f->ip;
	uint16_t ulen = (uint16_t)f->ulen_ip;
	memmove(ip + IPV4_HLEN, f->udp, ulen);
	f->udp = ip + IPV4_HLEN;
	ip[0] = 0x45;
	dns_put16(ip + 2, (uint16_t)(IPV4_HLEN + ulen));
	dns_put16(ip + 10, 0);
	csum_put(ip + 10, csum_fold64(csum_words(ip, IPV4_HLEN)));
	r->l3_len = IPV4_HLEN;
}

int dp_packet_parse(const struct dp_pctx *ctx, uint8_t *frame, size_t len, size_t cap,
                    struct dp_frame *f, struct dp_result *r)
{
	uint16_t etype;
	memset(r, 0, sizeof(*r));
	memset(f, 0, sizeof(*f));
	r->len = (uint16_t)(len > UINT16_MAX ? UINT16_MAX : len);
	f->frame = frame;
	f->len = len;
	f->cap = cap;

	if (!parse_eth(f, &etype, r))
		return -1;
	size_t avail = len - r->l2_len;    /* may include Ethernet padding past the IP datagram */
	bool ok;
	if (etype == ETHERTYPE_IPV4) {
		ok = parse_ipv4(ctx, f, avail, r);
	} else if (etype == ETHERTYPE_IPV6) {
		ok = parse_ipv6(ctx, f, avail, r);
	} else {
		set_outcome(r, DP_ACT_EXCEPTION,
		            etype == ETHERTYPE_ARP ? DP_OUT_EXC_ARP : DP_OUT_EXC_OTHER);
		return -1;
	}
	if (!ok || !parse_udp(f, r))
		return -1;
	if (!f->v6 && r->l3_len > IPV4_HLEN)
		strip_ipv4_options(f, r);
	f->dns_off = (size_t)(f->udp - frame) + UDP_HLEN;
	f->dns = frame + f->dns_off;
	f->dns_len = f->ulen_ip - UDP_HLEN;
	r->len = (uint16_t)(f->dns_off + f->dns_len);
	return 0;
}

const uint8_t *dp_frame_source(const struct dp_frame *f)
{
	return f->v6 ? f->ip + 8 : f->ip + 12;
}

/* ------------------------------------------------------------------------ */
/* DNS                                                                      */
/* ------------------------------------------------------------------------ */

/* Which lcore or thread answers this message (RFC 1035 4.1.1 opcode, RFC 2136, RFC 1996). */
static enum dp_action dns_route(const struct dp_pctx *ctx, const struct dp_frame *f,
                                struct dp_result *r)
{
	uint16_t flags = dns_get16(f->dns + 2);
	uint8_t opcode = (uint8_t)DNS_OPCODE(flags);
	bool tkey = opcode == DNS_OP_QUERY && ctx->tkey && tkey_is_query(f->dns, f->dns_len);
	if ((opcode == DNS_OP_QUERY && !tkey) || (flags & DNS_QR))
		return DP_ACT_TX;     /* answered (or dropped, QR set) by answer_query() here */
	if (!ctx->answer_all_opcodes) {
		set_outcome(r, DP_ACT_CONTROL, DP_OUT_TO_CONTROL);
		return DP_ACT_CONTROL;
	}
	if (ctx->ddns && (opcode == DNS_OP_UPDATE || opcode == DNS_OP_NOTIFY || tkey)) {
		set_outcome(r, DP_ACT_DDNS, DP_OUT_TO_DDNS);
		return DP_ACT_DDNS;
	}
	return DP_ACT_TX;         /* other opcodes: NOTIMP from answer_query() */
}

/* ------------------------------------------------------------------------ */
/* Rewrite the headers into the response                                    */
/* ------------------------------------------------------------------------ */

static void swap_eth(uint8_t *frame)
{
	uint8_t tmp[ETH_ALEN];
	memcpy(tmp, frame, ETH_ALEN);
	memcpy(frame, frame + ETH_ALEN, ETH_ALEN);
	memcpy(frame + ETH_ALEN, tmp, ETH_ALEN);
}

/* Addresses swapped, length of a UDP datagram of `rulen` bytes, hop limit 64. */
static void swap_ipv6(uint8_t *ip, uint16_t rulen)
{
	uint8_t tmp[16];
	memcpy(tmp, ip + 8, 16);
	memcpy(ip + 8, ip + 24, 16);
	memcpy(ip + 24, tmp, 16);
	dns_put16(ip + 4, rulen);
	ip[7] = REPLY_TTL;
}

/* Addresses swapped, a fresh 20-byte header around `rulen` bytes of UDP. */
static void swap_ipv4(const struct dp_pctx *ctx, uint8_t *ip, uint16_t rulen)
{
	uint8_t tmp[4];
	memcpy(tmp, ip + 12, 4);
	memcpy(ip + 12, ip + 16, 4);
	memcpy(ip + 16, tmp, 4);
	ip[1] = 0;                              /* TOS */
	dns_put16(ip + 2, (uint16_t)(IPV4_HLEN + rulen));
	dns_put16(ip + 4, 0);                   /* ID: atomic datagram (RFC 6864 4.1) */
	dns_put16(ip + 6, IPV4_DF);
	ip[8] = REPLY_TTL;
	dns_put16(ip + 10, 0);
	if (!ctx->tx_ip4_cksum_offload)
		csum_put(ip + 10, csum_fold64(csum_words(ip, IPV4_HLEN)));
}

/* Ports swapped, length, checksum (or its pseudo-header part for the NIC). */
static void swap_udp(const struct dp_pctx *ctx, const struct dp_frame *f, uint16_t rulen)
{
	uint8_t *udp = f->udp;
	uint16_t sport = dns_get16(udp);
	dns_put16(udp, DP_DNS_PORT);
	dns_put16(udp + 2, sport);
	dns_put16(udp + 4, rulen);
	dns_put16(udp + 6, 0);
	uint64_t ps = pseudo_words(f->v6, f->ip, rulen);
	if (ctx->tx_udp_cksum_offload) {
		uint16_t folded = csum_fold64(ps);   /* the pseudo-header sum, not complemented */
		memcpy(udp + 6, &folded, 2);
	} else {
		uint16_t c = (uint16_t)~csum_fold64(ps + csum_words(udp, rulen));
		if (c == 0)
			c = 0xffff;   /* 0 would mean "none" (RFC 768) */
		memcpy(udp + 6, &c, 2);
	}
}

int dp_packet_reply(const struct dp_pctx *ctx, const struct dp_frame *f, size_t n,
                    struct dp_result *r)
{
	if (n == 0 || n > UINT16_MAX - UDP_HLEN - IPV6_HLEN || f->dns_off + n > f->cap) {
		set_outcome(r, DP_ACT_DROP, DP_OUT_NO_ANSWER);
		return -1;
	}
	uint16_t rulen = (uint16_t)(UDP_HLEN + n);
	swap_eth(f->frame);
	if (f->v6)
		swap_ipv6(f->ip, rulen);
	else
		swap_ipv4(ctx, f->ip, rulen);
	swap_udp(ctx, f, rulen);
	r->action = DP_ACT_TX;
	r->len = (uint16_t)(f->dns_off + n);
	return 0;
}

/* ------------------------------------------------------------------------ */
/* After the answer: cookies and rate limiting                              */
/* ------------------------------------------------------------------------ */

static inline void also_count(struct dp_result *r, enum dp_outcome o)
{
	r->also[r->nalso++] = (uint8_t)o;
}

static_assert(DP_OUT__COUNT <= UINT8_MAX, "dp_result.also holds an outcome in a byte");

static enum dp_outcome cookie_outcome(enum dns_cookie_verdict cv)
{
	switch (cv) {
	case DNS_COOKIE_NEW: return DP_OUT_COOKIE_NEW;
	case DNS_COOKIE_VALID: return DP_OUT_COOKIE_VALID;
	case DNS_COOKIE_REFRESHED: return DP_OUT_COOKIE_REFRESHED;
	case DNS_COOKIE_BAD: return DP_OUT_COOKIE_BAD;
	case DNS_COOKIE_MALFORMED:
	case DNS_COOKIE_NONE:
		break;
	}
	return DP_OUT_COOKIE_MALFORMED;
}

/* The kind a response is limited as (Knot's classes, coarser). */
static enum rrl_kind rrl_kind_of(enum answer_outcome o)
{
	switch (o) {
	case ANS_ANSWER: return RRL_K_ANSWER;
	case ANS_NODATA: return RRL_K_NODATA;
	case ANS_NXDOMAIN: return RRL_K_NXDOMAIN;
	case ANS_REFERRAL: return RRL_K_REFERRAL;
	default: return RRL_K_ERROR;
	}
}

/*
 * A slipped response: header and question kept (flags and rcode too), TC
 * set, no answer and no authority, the OPT (our UDP size, and the cookie
 * to come) moved up behind the question. A client that honours TC asks
 * again over TCP, which a spoofer cannot; the reflected bytes shrink to
 * about the query's size. Returns the new length; *opt_pos follows the OPT.
 */
static size_t slip(uint8_t *dns, size_t n, const struct dns_query *q, uint16_t *opt_pos)
{
	size_t qend = dns_get16(dns + 4) == 1 ? q->question_end : DNS_HDR_LEN;
	size_t optlen = *opt_pos ? n - *opt_pos : 0;
	if (optlen)
		memmove(dns + qend, dns + *opt_pos, optlen);
	*opt_pos = optlen ? (uint16_t)qend : 0;
	dns_put16(dns + 2, dns_get16(dns + 2) | DNS_TC);
	dns_put16(dns + 6, 0);
	dns_put16(dns + 8, 0);
	dns_put16(dns + 10, optlen ? 1 : 0);
	return qend + optlen;
}

/* The query's cookie, kept aside: the answer is written over the query. */
struct qcookie {
	enum dns_cookie_verdict verdict;
	uint8_t bytes[DNS_COOKIE_LEN];   /* client cookie, and our server cookie if it sent one */
};

/* Step 1: RFC 7873 5.2, what the client's COOKIE option is worth. */
static void cookie_take(const struct dp_pctx *ctx, const struct dp_lcore *lc,
                        const struct dp_frame *f, const struct dns_query *q, struct qcookie *qc,
                        struct dp_result *r)
{
	qc->verdict = DNS_COOKIE_NONE;
	const uint8_t *opt = dns_query_cookie(q);
	if (!ctx->cookies || !opt)
		return;
	qc->verdict = dns_cookie_check(ctx->cookies, lc->now_s, opt, q->edns_cookie_len,
	                               dp_frame_source(f), f->v6 ? 16 : 4);
	also_count(r, cookie_outcome(qc->verdict));
	if (qc->verdict != DNS_COOKIE_MALFORMED)
		memcpy(qc->bytes, opt,
		       q->edns_cookie_len < DNS_COOKIE_LEN ? q->edns_cookie_len : DNS_COOKIE_LEN);
}

/*
 * Steps 2 and 3 of dp_packet_process_lc() on the answer of `n` bytes at
 * f->dns. Returns the length to send, or 0 with r saying why nothing is sent.
 */
static size_t harden(const struct dp_pctx *ctx, struct dp_lcore *lc, const struct dp_frame *f,
                     const struct dns_query *q, const struct qcookie *qc,
                     const struct answer_info *info, size_t n, struct dp_result *r)
{
	const uint8_t *src = dp_frame_source(f);
	size_t iplen = f->v6 ? 16 : 4;
	uint16_t opt_pos = info->opt_pos;
	enum dns_cookie_verdict cv = qc->verdict;

	/* 2. rate limiting, unless a valid server cookie proved the source address */
	if (lc->rrl) {
		enum rrl_verdict v = RRL_EXEMPT;
		if (cv != DNS_COOKIE_VALID && cv != DNS_COOKIE_REFRESHED)
			v = rrl_decide(lc->rrl, lc->now_ms, src, f->v6, rrl_kind_of(info->outcome));
		switch (v) {
		case RRL_PASS:
			also_count(r, DP_OUT_RRL_PASSED);
			break;
		case RRL_EXEMPT:
			also_count(r, DP_OUT_RRL_EXEMPT);
			break;
		case RRL_DROP:
			set_outcome(r, DP_ACT_DROP, DP_OUT_RRL_DROPPED);
			r->truncated = false;
			return 0;
		case RRL_SLIP:
			n = slip(f->dns, n, q, &opt_pos);
			r->outcome = DP_OUT_RRL_SLIPPED;
			r->truncated = true;
			break;
		}
	}

	/* 3. the cookie to send back, into the OPT's reserved room (index/answer.h) */
	if (opt_pos && cv != DNS_COOKIE_NONE && cv != DNS_COOKIE_MALFORMED) {
		uint8_t cookie[DNS_COOKIE_LEN];
		size_t clen = dns_cookie_respond(ctx->cookies, cv, lc->now_s, qc->bytes, src, iplen,
		                                 cookie);
		size_t grown = dns_opt_append_option(f->dns, n, f->cap - f->dns_off, opt_pos,
		                                     DNS_EDNS_OPT_COOKIE, cookie, (uint16_t)clen);
		if (grown)
			n = grown;
	}
	return n;
}

/*
 * A QUERY signed with TSIG (RFC 8945 5.3: a signed request gets a signed
 * answer, or an error with the TSIG error set) is not answered here: no
 * lcore holds keys. A worker hands it to the control lcore, which queues
 * it to the DDNS thread (control/ddns/query.h). Without a DDNS thread the
 * control lcore answers it as before, unsigned. Returns true when the
 * query is to be answered here after all.
 */
static bool signed_route(const struct dp_pctx *ctx, const struct dns_query *q, struct dp_result *r)
{
	if (q->opcode != DNS_OP_QUERY)
		return true;
	if (!ctx->answer_all_opcodes) {
		set_outcome(r, DP_ACT_CONTROL, DP_OUT_TO_CONTROL);
		return false;
	}
	if (ctx->ddns) {
		set_outcome(r, DP_ACT_DDNS, DP_OUT_SIGNED_TO_DDNS);
		return false;
	}
	return true;
}

bool dp_packet_begin(const struct dp_pctx *ctx, uint8_t *frame, size_t len, size_t cap,
                     struct dp_pending *p, struct dp_result *r)
{
	if (dp_packet_parse(ctx, frame, len, cap, &p->f, r) < 0)
		return false;
	if (dns_route(ctx, &p->f, r) != DP_ACT_TX)
		return false;
	p->pr = dns_query_parse(&p->q, p->f.dns, p->f.dns_len);
	/* the one branch signed queries add to the fast path: a flag the parse set */
	if (__builtin_expect(p->q.has_tsig, 0))
		return signed_route(ctx, &p->q, r);
	return true;
}

void dp_packet_finish(const struct dp_pctx *ctx, struct dp_lcore *lc, const struct idx_version *v,
                      struct dp_pending *p, struct dp_result *r, struct answer_bulk *bulk,
                      unsigned slot)
{
	const struct dp_frame *f = &p->f;
	struct answer_info info = { 0 };
	size_t n = 0;
	bool hardened = lc && (lc->rrl || ctx->cookies);
	struct qcookie qc;
	if (hardened)
		cookie_take(ctx, lc, f, &p->q, &qc, r);
	if (f->cap > f->dns_off) {
		size_t room = f->cap - f->dns_off;
		n = bulk ? answer_query_bulk(v, ctx->conf, ANSWER_UDP, &p->q, p->pr, f->dns, room,
		                             &info, bulk, slot)
		         : answer_query(v, ctx->conf, ANSWER_UDP, &p->q, p->pr, f->dns, room, &info);
	}
	r->outcome = outcome_of(&info);
	r->truncated = info.truncated;
	if (n && hardened) {
		n = harden(ctx, lc, f, &p->q, &qc, &info, n, r);
		if (n == 0)
			return;       /* rate limited: r says so */
	}
	enum dp_outcome o = r->outcome;
	if (dp_packet_reply(ctx, f, n, r) < 0) {
		r->truncated = false;    /* nothing sent: only DP_OUT_NO_ANSWER counts */
		r->nalso = 0;
		return;
	}
	r->outcome = o;
	r->answered = true;
	r->qtype = info.qtype;
}

void dp_packet_process_lc(const struct dp_pctx *ctx, struct dp_lcore *lc,
                          const struct idx_version *v, uint8_t *frame, size_t len, size_t cap,
                          struct dp_result *r)
{
	struct dp_pending p;
	if (dp_packet_begin(ctx, frame, len, cap, &p, r))
		dp_packet_finish(ctx, lc, v, &p, r, NULL, 0);
}

void dp_packet_process(const struct dp_pctx *ctx, const struct idx_version *v,
                       uint8_t *frame, size_t len, size_t cap, struct dp_result *r)
{
	dp_packet_process_lc(ctx, NULL, v, frame, len, cap, r);
}
