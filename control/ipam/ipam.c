/* ipam -- the IPAM data model: prefixes, ranges, allocations, their checks, next-free and utilization */
#include "control/ipam/ipam.h"

#include <arpa/inet.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "dns/errcode.h"
#include "index/index.h"

#define U128_MAX (~(ipam_u128)0)

int ipam_fail(struct ipam_error *err, int code, const char *fmt, ...)
{
	if (err != NULL) {
		va_list ap;
		va_start(ap, fmt);
		vsnprintf(err->msg, sizeof(err->msg), fmt, ap);
		va_end(ap);
		err->code = code;
	}
	return code;
}

/* Quote at most 64 bytes of hostile text into an error message, safely printable. */
const char *ipam_shown(const char *s, char buf[80])
{
	size_t i = 0, o = 0;
	for (; s[i] != '\0' && o < 64; i++)
		buf[o++] = (s[i] >= 0x20 && s[i] < 0x7f) ? s[i] : '?';
	if (s[i] != '\0') {
		memcpy(buf + o, "...", 3);
		o += 3;
	}
	buf[o] = '\0';
	return buf;
}

/* ------------------------------------------------------------------------ */
/* Enums                                                                    */
/* ------------------------------------------------------------------------ */

static const char *const status_names[] = {
	[IPAM_STATUS_ACTIVE] = "active",
	[IPAM_STATUS_RESERVED] = "reserved",
	[IPAM_STATUS_DEPRECATED] = "deprecated",
};
static const char *const policy_names[] = {
	[IPAM_POLICY_OFF] = "off",
	[IPAM_POLICY_STRICT] = "strict",
	[IPAM_POLICY_AUTO] = "auto",
};
static const char *const state_names[] = {
	[IPAM_STATE_STATIC] = "static",
	[IPAM_STATE_DYNAMIC] = "dynamic",
	[IPAM_STATE_RESERVED] = "reserved",
};

#define NELEM(a) (sizeof(a) / sizeof((a)[0]))

static const char *enum_name(const char *const *names, size_t n, int v)
{
	return (v >= 0 && (size_t)v < n) ? names[v] : NULL;
}

static int enum_parse(const char *const *names, size_t n, const char *s)
{
	if (s == NULL)
		return DDI_EINVAL;
	for (size_t i = 0; i < n; i++)
		if (names[i] != NULL && strcmp(names[i], s) == 0)
			return (int)i;
	return DDI_EINVAL;
}

const char *ipam_status_name(int v) { return enum_name(status_names, NELEM(status_names), v); }
int ipam_status_parse(const char *s) { return enum_parse(status_names, NELEM(status_names), s); }
const char *ipam_policy_name(int v) { return enum_name(policy_names, NELEM(policy_names), v); }
int ipam_policy_parse(const char *s) { return enum_parse(policy_names, NELEM(policy_names), s); }
const char *ipam_state_name(int v) { return enum_name(state_names, NELEM(state_names), v); }
int ipam_state_parse(const char *s) { return enum_parse(state_names, NELEM(state_names), s); }

/* ------------------------------------------------------------------------ */
/* Addresses and prefixes                                                   */
/* ------------------------------------------------------------------------ */

int ipam_width(int family)
{
	return family == 4 ? 32 : family == 6 ? 128 : 0;
}

size_t ipam_addr_bytes(int family)
{
	return family == 4 ? 4 : 16;
}

ipam_u128 ipam_addr_to_u128(int family, const uint8_t addr[16])
{
	ipam_u128 v = 0;
	for (size_t i = 0; i < ipam_addr_bytes(family); i++)
		v = (v << 8) | addr[i];
	return v;
}

void ipam_addr_from_u128(int family, ipam_u128 v, uint8_t out[16])
{
	size_t n = ipam_addr_bytes(family);
	memset(out, 0, 16);
	for (size_t i = 0; i < n; i++)
		out[n - 1 - i] = (uint8_t)(v >> (8 * i));
}

/* Mask of the host bits of a /plen in a w-bit space (as an integer). */
static ipam_u128 host_mask(int w, int plen)
{
	if (plen >= w)
		return 0;
	if (w - plen == 128)
		return U128_MAX;
	return ((ipam_u128)1 << (w - plen)) - 1;
}

int ipam_addr_parse(const char *s, int *family, uint8_t out[16], struct ipam_error *err)
{
	char shownbuf[80];
	memset(out, 0, 16);
	/* inet_pton refuses leading zeros in dotted quads (no octal surprise),
	 * zone indexes and spaces; the length cap keeps the copy bounded. */
	if (s != NULL && strlen(s) < IPAM_ADDR_STRLEN) {
		if (strchr(s, ':') == NULL) {
			if (inet_pton(AF_INET, s, out) == 1) {
				*family = 4;
				return DDI_EOK;
			}
		} else if (inet_pton(AF_INET6, s, out) == 1) {
			*family = 6;
			return DDI_EOK;
		}
	}
	memset(out, 0, 16);
	return ipam_fail(err, DDI_ESYNTAX, "'%s' is not an IP address", s ? ipam_shown(s, shownbuf) : "");
}

int ipam_addr_format(int family, const uint8_t addr[16], char *buf, size_t buflen)
{
	char tmp[IPAM_ADDR_STRLEN];
	if (family != 4 && family != 6)
		return DDI_EINVAL;
	if (inet_ntop(family == 4 ? AF_INET : AF_INET6, addr, tmp, sizeof(tmp)) == NULL)
		return DDI_EINVAL;
	size_t n = strlen(tmp);
	if (n + 1 > buflen)
		return DDI_ESPACE;
	memcpy(buf, tmp, n + 1);
	return (int)n;
}

/* Split "ADDR/LEN" and parse both parts. has_len tells whether '/' was there. */
static int split_parse(const char *s, struct ipam_cidr *out, bool *has_len, struct ipam_error *err)
{
	char a[IPAM_ADDR_STRLEN], shownbuf[80];
	const char *slash = strchr(s, '/');
	size_t alen = slash ? (size_t)(slash - s) : strlen(s);
	int family;

	memset(out, 0, sizeof(*out));
	*has_len = slash != NULL;
	if (alen >= sizeof(a))
		return ipam_fail(err, DDI_ESYNTAX, "'%s' is not an IP prefix", ipam_shown(s, shownbuf));
	memcpy(a, s, alen);
	a[alen] = '\0';
	if (ipam_addr_parse(a, &family, out->addr, NULL) != DDI_EOK) {
		if (!slash)
			return ipam_fail(err, DDI_ESYNTAX, "'%s' is not an IP address", ipam_shown(s, shownbuf));
		return ipam_fail(err, DDI_ESYNTAX, "'%s' is not an IP prefix: '%s' is not an IP address",
		            ipam_shown(s, shownbuf), a);
	}
	out->family = (uint8_t)family;
	int w = ipam_width(family);
	if (!slash) {
		out->plen = (uint8_t)w;
		return DDI_EOK;
	}
	const char *p = slash + 1;
	size_t n = strlen(p);
	unsigned v = 0;
	bool ok = n >= 1 && n <= 3 && !(n > 1 && p[0] == '0');
	for (size_t i = 0; ok && i < n; i++) {
		if (p[i] < '0' || p[i] > '9')
			ok = false;
		else
			v = v * 10 + (unsigned)(p[i] - '0');
	}
	if (!ok)
		return ipam_fail(err, DDI_ESYNTAX, "'%s' is not an IP prefix: '%s' is not a prefix length",
		            ipam_shown(s, shownbuf), p);
	if (v > (unsigned)w)
		return ipam_fail(err, DDI_ESYNTAX, "'%s': prefix length %u is out of range for IPv%d (0-%d)",
		            ipam_shown(s, shownbuf), v, family, w);
	out->plen = (uint8_t)v;
	return DDI_EOK;
}

int ipam_cidr_parse(const char *s, struct ipam_cidr *out, struct ipam_error *err)
{
	char shownbuf[80];
	bool has_len;
	if (s == NULL)
		s = "";
	int r = split_parse(s, out, &has_len, err);
	if (r != DDI_EOK)
		return r;
	if (!has_len)
		return ipam_fail(err, DDI_ESYNTAX, "'%s' has no prefix length (ADDRESS/LENGTH)",
		            ipam_shown(s, shownbuf));
	int w = ipam_width(out->family);
	ipam_u128 v = ipam_addr_to_u128(out->family, out->addr);
	if (v & host_mask(w, out->plen)) {
		struct ipam_cidr fixed = *out;
		char fb[IPAM_CIDR_STRLEN];
		ipam_addr_from_u128(out->family, v & ~host_mask(w, out->plen), fixed.addr);
		ipam_cidr_format(&fixed, fb, sizeof(fb));
		return ipam_fail(err, DDI_ESYNTAX, "%s has host bits set; did you mean %s?",
		            ipam_shown(s, shownbuf), fb);
	}
	return DDI_EOK;
}

int ipam_host_parse(const char *s, struct ipam_cidr *out, struct ipam_error *err)
{
	bool has_len;
	return split_parse(s ? s : "", out, &has_len, err);
}

int ipam_cidr_format(const struct ipam_cidr *c, char *buf, size_t buflen)
{
	char a[IPAM_ADDR_STRLEN];
	int n = ipam_addr_format(c->family, c->addr, a, sizeof(a));
	if (n < 0)
		return n;
	int m = snprintf(buf, buflen, "%s/%u", a, c->plen);
	if (m < 0 || (size_t)m >= buflen)
		return DDI_ESPACE;
	return m;
}

bool ipam_cidr_valid(const struct ipam_cidr *c)
{
	int w = ipam_width(c->family);
	if (w == 0 || c->plen > w)
		return false;
	for (size_t i = ipam_addr_bytes(c->family); i < 16; i++)
		if (c->addr[i] != 0)
			return false;
	return (ipam_addr_to_u128(c->family, c->addr) & host_mask(w, c->plen)) == 0;
}

ipam_u128 ipam_cidr_first(const struct ipam_cidr *c)
{
	int w = ipam_width(c->family);
	return ipam_addr_to_u128(c->family, c->addr) & ~host_mask(w, c->plen);
}

ipam_u128 ipam_cidr_last(const struct ipam_cidr *c)
{
	int w = ipam_width(c->family);
	return ipam_cidr_first(c) | host_mask(w, c->plen);
}

bool ipam_cidr_contains(const struct ipam_cidr *outer, const struct ipam_cidr *inner)
{
	return outer->family == inner->family && outer->plen <= inner->plen &&
	       ipam_cidr_first(inner) >= ipam_cidr_first(outer) &&
	       ipam_cidr_last(inner) <= ipam_cidr_last(outer);
}

bool ipam_cidr_contains_addr(const struct ipam_cidr *c, int family, const uint8_t addr[16])
{
	if (c->family != family)
		return false;
	ipam_u128 v = ipam_addr_to_u128(family, addr);
	return v >= ipam_cidr_first(c) && v <= ipam_cidr_last(c);
}

bool ipam_cidr_overlap(const struct ipam_cidr *a, const struct ipam_cidr *b)
{
	return a->family == b->family && ipam_cidr_first(a) <= ipam_cidr_last(b) &&
	       ipam_cidr_first(b) <= ipam_cidr_last(a);
}

int ipam_cidr_cmp(const struct ipam_cidr *a, const struct ipam_cidr *b)
{
	if (a->family != b->family)
		return a->family < b->family ? -1 : 1;
	ipam_u128 x = ipam_cidr_first(a), y = ipam_cidr_first(b);
	if (x != y)
		return x < y ? -1 : 1;
	return (a->plen > b->plen) - (a->plen < b->plen);
}

/* ------------------------------------------------------------------------ */
/* Reverse zones                                                            */
/* ------------------------------------------------------------------------ */

int ipam_reverse_zones(const struct ipam_cidr *c, struct ipam_cidr *out, size_t max, size_t *n)
{
	if (!ipam_cidr_valid(c))
		return DDI_EINVAL;
	int w = ipam_width(c->family);
	int unit = c->family == 4 ? 8 : 4;       /* octet or nibble */
	int cap = c->family == 4 ? 24 : 64;      /* no zone per host, see the header */
	int zp = c->plen < unit ? unit : c->plen - c->plen % unit;
	if (zp > cap)
		zp = cap;
	/* Only plen < unit splits, so the count is 2^(unit-plen) <= 256. */
	size_t count = zp > c->plen ? (size_t)1 << (zp - c->plen) : 1;
	if (count > max)
		return DDI_ESPACE;
	ipam_u128 base = ipam_cidr_first(c) & ~host_mask(w, zp);
	for (size_t i = 0; i < count; i++) {
		out[i].family = c->family;
		out[i].plen = (uint8_t)zp;
		ipam_addr_from_u128(c->family, base + ((ipam_u128)i << (w - zp)), out[i].addr);
	}
	*n = count;
	return DDI_EOK;
}

static const char hexdig[] = "0123456789abcdef";

int ipam_reverse_name(const struct ipam_cidr *c, uint8_t out[DNS_NAME_MAXLEN])
{
	size_t o = 0;
	if (!ipam_cidr_valid(c))
		return DDI_EINVAL;
	if (c->family == 4) {
		if (c->plen % 8 != 0)
			return DDI_EINVAL;
		for (int i = c->plen / 8 - 1; i >= 0; i--) {
			int len = snprintf((char *)out + o + 1, 4, "%u", c->addr[i]);
			out[o] = (uint8_t)len;
			o += 1 + (size_t)len;
		}
		memcpy(out + o, "\7in-addr\4arpa", 14);   /* with the root label */
		return (int)(o + 14);
	}
	if (c->plen % 4 != 0)
		return DDI_EINVAL;
	for (int i = c->plen / 4 - 1; i >= 0; i--) {
		uint8_t b = c->addr[i / 2];
		out[o++] = 1;
		out[o++] = (uint8_t)hexdig[(i % 2) ? (b & 0xf) : (b >> 4)];
	}
	memcpy(out + o, "\3ip6\4arpa", 10);
	return (int)(o + 10);
}

int ipam_ptr_name(int family, const uint8_t addr[16], uint8_t out[DNS_NAME_MAXLEN])
{
	struct ipam_cidr c = {.family = (uint8_t)family, .plen = (uint8_t)ipam_width(family)};
	if (c.plen == 0)
		return DDI_EINVAL;
	memcpy(c.addr, addr, ipam_addr_bytes(family));
	return ipam_reverse_name(&c, out);
}

/* ------------------------------------------------------------------------ */
/* MAC addresses and client identifiers                                     */
/* ------------------------------------------------------------------------ */

static int hexval(char ch)
{
	if (ch >= '0' && ch <= '9')
		return ch - '0';
	if (ch >= 'a' && ch <= 'f')
		return ch - 'a' + 10;
	if (ch >= 'A' && ch <= 'F')
		return ch - 'A' + 10;
	return -1;
}

int ipam_mac_parse(const char *s, uint8_t out[6], struct ipam_error *err)
{
	char shownbuf[80];
	size_t n = s ? strlen(s) : 0;
	char digits[12];
	size_t nd = 0;
	bool ok = true;

	if (n == 17 && (s[2] == ':' || s[2] == '-')) {
		char sep = s[2];
		for (size_t i = 0; i < 17 && ok; i++) {
			if (i % 3 == 2)
				ok = s[i] == sep;
			else
				digits[nd++] = s[i];
		}
	} else if (n == 14 && s[4] == '.' && s[9] == '.') {
		for (size_t i = 0; i < 14 && ok; i++) {
			if (i % 5 == 4)
				ok = s[i] == '.';
			else
				digits[nd++] = s[i];
		}
	} else if (n == 12) {
		memcpy(digits, s, 12);
		nd = 12;
	} else {
		ok = false;
	}
	for (size_t i = 0; ok && i < 6; i++) {
		int h = hexval(digits[2 * i]), l = hexval(digits[2 * i + 1]);
		if (h < 0 || l < 0)
			ok = false;
		else
			out[i] = (uint8_t)(h << 4 | l);
	}
	if (!ok || nd != 12)
		return ipam_fail(err, DDI_ESYNTAX, "'%s' is not a MAC address", s ? ipam_shown(s, shownbuf) : "");
	return DDI_EOK;
}

int ipam_clientid_parse(const char *s, uint8_t *out, size_t *len, struct ipam_error *err)
{
	char shownbuf[80];
	size_t n = s ? strlen(s) : 0, nb = 0;
	bool ok = n >= 2 && (n + 1) % 3 == 0 && (n + 1) / 3 <= IPAM_CLIENTID_MAX;
	for (size_t i = 0; ok && i < n; i += 3) {
		int h = hexval(s[i]), l = hexval(s[i + 1]);
		if (h < 0 || l < 0 || (i + 2 < n && s[i + 2] != ':'))
			ok = false;
		else
			out[nb++] = (uint8_t)(h << 4 | l);
	}
	if (!ok)
		return ipam_fail(err, DDI_ESYNTAX,
		            "'%s' is not a client identifier (1 to %d hex bytes separated by ':')",
		            s ? ipam_shown(s, shownbuf) : "", IPAM_CLIENTID_MAX);
	*len = nb;
	return DDI_EOK;
}

int ipam_hex_format(const uint8_t *b, size_t len, char *buf, size_t buflen)
{
	size_t need = len ? len * 3 : 1;   /* "xx:" each, the last ':' becomes the NUL */
	if (need > buflen)
		return DDI_ESPACE;
	size_t o = 0;
	for (size_t i = 0; i < len; i++) {
		buf[o++] = hexdig[b[i] >> 4];
		buf[o++] = hexdig[b[i] & 0xf];
		if (i + 1 < len)
			buf[o++] = ':';
	}
	buf[o] = '\0';
	return (int)o;
}

/* ------------------------------------------------------------------------ */
/* Records: defaults and checks                                             */
/* ------------------------------------------------------------------------ */

void ipam_prefix_init(struct ipam_prefix *p)
{
	memset(p, 0, sizeof(*p));
	p->status = IPAM_STATUS_ACTIVE;
	p->policy = IPAM_POLICY_OFF;
}

void ipam_range_init(struct ipam_range *r)
{
	memset(r, 0, sizeof(*r));
}

void ipam_alloc_init(struct ipam_alloc *a)
{
	memset(a, 0, sizeof(*a));
	a->state = IPAM_STATE_STATIC;
}

/*
 * Text fields: valid UTF-8 (RFC 3629: shortest form, no surrogates, at most
 * U+10FFFF), no C0/C1 control characters or DEL, so they print on one line
 * and survive CSV and JSON unchanged.
 */
static bool text_ok(const char *s, size_t len)
{
	const uint8_t *p = (const uint8_t *)s;
	size_t i = 0;
	while (i < len) {
		uint8_t c = p[i];
		if (c < 0x20 || c == 0x7f)
			return false;
		if (c < 0x80) {
			i++;
			continue;
		}
		size_t n;
		uint32_t cp;
		if (c >= 0xc2 && c <= 0xdf) {
			n = 2;
			cp = c & 0x1f;
		} else if (c >= 0xe0 && c <= 0xef) {
			n = 3;
			cp = c & 0x0f;
		} else if (c >= 0xf0 && c <= 0xf4) {
			n = 4;
			cp = c & 0x07;
		} else {
			return false;
		}
		if (len - i < n)
			return false;
		for (size_t k = 1; k < n; k++) {
			if ((p[i + k] & 0xc0) != 0x80)
				return false;
			cp = cp << 6 | (p[i + k] & 0x3f);
		}
		if ((n == 3 && cp < 0x800) || (n == 4 && (cp < 0x10000 || cp > 0x10ffff)) ||
		    (cp >= 0xd800 && cp <= 0xdfff) || (cp >= 0x80 && cp <= 0x9f))
			return false;
		i += n;
	}
	return true;
}

int ipam_check_text(const char *s, size_t max, const char *what, struct ipam_error *err)
{
	size_t n = strnlen(s, max + 1);
	if (n > max)
		return ipam_fail(err, DDI_EINVAL, "%s is longer than %zu bytes", what, max);
	if (!text_ok(s, n))
		return ipam_fail(err, DDI_EINVAL, "%s is not UTF-8 text without control characters", what);
	return DDI_EOK;
}

static int check_zone(const uint8_t *zone, size_t len, const char *what, struct ipam_error *err)
{
	if (len == 0)
		return DDI_EOK;
	int r = dns_name_check(zone, len);
	if (r < 0 || (size_t)r != len)
		return ipam_fail(err, DDI_EINVAL, "%s is not a valid domain name", what);
	return DDI_EOK;
}

int ipam_prefix_check(const struct ipam_prefix *p, struct ipam_error *err)
{
	if (!ipam_cidr_valid(&p->cidr))
		return ipam_fail(err, DDI_EINVAL, "not a valid prefix (family, length or host bits)");
	if (ipam_status_name(p->status) == NULL)
		return ipam_fail(err, DDI_EINVAL, "status %u is unknown", p->status);
	if (ipam_policy_name(p->policy) == NULL)
		return ipam_fail(err, DDI_EINVAL, "DNS policy %u is unknown", p->policy);
	if (p->created > INT64_MAX || p->updated > INT64_MAX)
		return ipam_fail(err, DDI_EINVAL, "a time beyond 2^63 seconds");
	int r = check_zone(p->zone, p->zone_len, "the zone", err);
	if (r != DDI_EOK)
		return r;
	r = ipam_check_text(p->description, IPAM_DESC_MAX, "the description", err);
	return r != DDI_EOK ? r : ipam_meta_check(&p->meta, err);
}

int ipam_range_check(const struct ipam_range *r, struct ipam_error *err)
{
	if (ipam_width(r->family) == 0)
		return ipam_fail(err, DDI_EINVAL, "address family %u is unknown", r->family);
	for (size_t i = ipam_addr_bytes(r->family); i < 16; i++)
		if (r->first[i] != 0 || r->last[i] != 0)
			return ipam_fail(err, DDI_EINVAL, "IPv4 range with bytes beyond the address");
	if (ipam_addr_to_u128(r->family, r->first) > ipam_addr_to_u128(r->family, r->last))
		return ipam_fail(err, DDI_EINVAL, "the range's first address is after its last");
	if (r->created > INT64_MAX || r->updated > INT64_MAX)
		return ipam_fail(err, DDI_EINVAL, "a time beyond 2^63 seconds");
	return ipam_check_text(r->description, IPAM_DESC_MAX, "the description", err);
}

int ipam_alloc_check(const struct ipam_alloc *a, struct ipam_error *err)
{
	if (ipam_width(a->family) == 0)
		return ipam_fail(err, DDI_EINVAL, "address family %u is unknown", a->family);
	for (size_t i = ipam_addr_bytes(a->family); i < 16; i++)
		if (a->addr[i] != 0)
			return ipam_fail(err, DDI_EINVAL, "IPv4 address with bytes beyond the address");
	if (ipam_state_name(a->state) == NULL)
		return ipam_fail(err, DDI_EINVAL, "allocation state %u is unknown", a->state);
	if (a->state == IPAM_STATE_STATIC && a->name_len == 0)
		return ipam_fail(err, DDI_EINVAL, "a static allocation needs a name");
	if (a->state != IPAM_STATE_DYNAMIC && a->expires != 0)
		return ipam_fail(err, DDI_EINVAL, "only a dynamic allocation has a lease expiry");
	/* JSON integers are signed 64-bit: keep every time representable there. */
	if (a->created > INT64_MAX || a->updated > INT64_MAX || a->expires > INT64_MAX)
		return ipam_fail(err, DDI_EINVAL, "a time beyond 2^63 seconds");
	int r = check_zone(a->name, a->name_len, "the name", err);
	if (r != DDI_EOK)
		return r;
	if ((a->hw_type == IPAM_HW_NONE && a->hw_len != 0) ||
	    (a->hw_type == IPAM_HW_MAC && a->hw_len != 6) ||
	    (a->hw_type == IPAM_HW_CLIENTID && (a->hw_len < 1 || a->hw_len > IPAM_CLIENTID_MAX)) ||
	    a->hw_type > IPAM_HW_CLIENTID)
		return ipam_fail(err, DDI_EINVAL, "bad hardware address (type %u, %u bytes)", a->hw_type,
		            a->hw_len);
	r = ipam_check_text(a->owner, IPAM_OWNER_MAX, "the owner", err);
	if (r != DDI_EOK)
		return r;
	r = ipam_check_text(a->description, IPAM_DESC_MAX, "the description", err);
	return r != DDI_EOK ? r : ipam_meta_check(&a->meta, err);
}

/* ------------------------------------------------------------------------ */
/* Ranges, names and the DNS policy                                         */
/* ------------------------------------------------------------------------ */

struct ipam_span ipam_range_span(const struct ipam_range *r)
{
	struct ipam_span sp = {ipam_addr_to_u128(r->family, r->first),
	                       ipam_addr_to_u128(r->family, r->last)};
	return sp;
}

bool ipam_range_overlap(const struct ipam_range *a, const struct ipam_range *b)
{
	struct ipam_span x = ipam_range_span(a), y = ipam_range_span(b);
	return a->family == b->family && x.first <= y.last && y.first <= x.last;
}

bool ipam_range_within(const struct ipam_cidr *c, const struct ipam_range *r)
{
	struct ipam_span x = ipam_range_span(r);
	return c->family == r->family && x.first >= ipam_cidr_first(c) && x.last <= ipam_cidr_last(c);
}

static int block_bits(int w, ipam_u128 a, ipam_u128 b);

int ipam_span_to_cidrs(int family, ipam_u128 first, ipam_u128 last, struct ipam_cidr *out,
                       size_t max)
{
	int w = ipam_width(family);
	if (w == 0 || first > last || (w < 128 && last >> w != 0))
		return DDI_EINVAL;
	size_t n = 0;
	ipam_u128 cur = first;
	for (;;) {
		int k = block_bits(w, cur, last);
		if (n == max)
			return DDI_ESPACE;
		out[n].family = (uint8_t)family;
		out[n].plen = (uint8_t)(w - k);
		ipam_addr_from_u128(family, cur, out[n].addr);
		n++;
		ipam_u128 bend = k == 128 ? U128_MAX : cur + (((ipam_u128)1 << k) - 1);
		if (bend >= last)
			return (int)n;
		cur = bend + 1;
	}
}

bool ipam_addr_usable(const struct ipam_cidr *c, int family, const uint8_t addr[16])
{
	ipam_u128 first, last, v = ipam_addr_to_u128(family, addr);
	if (!ipam_cidr_contains_addr(c, family, addr))
		return false;
	ipam_cidr_usable(c, &first, &last);
	return v >= first && v <= last;
}

int ipam_host_name(const char *name, uint8_t out[DNS_NAME_MAXLEN], struct ipam_error *err)
{
	char sb[80];
	size_t n = name ? strlen(name) : 0;
	if (n == 0)
		return ipam_fail(err, DDI_ESYNTAX, "the host name is empty");
	/* absolute, with or without its final dot: the one rule of every command line */
	int r = dns_name_from_str(out, name, n, NULL);
	if (r < 0)
		return ipam_fail(err, DDI_ESYNTAX, "'%s' is not a host name (%s)", ipam_shown(name, sb),
		            ddi_strerror(r));
	return r;
}

int ipam_record_verdict(const struct ipam_prefix *p, const struct ipam_alloc *a,
                        const uint8_t *owner, int family, const uint8_t addr[16],
                        struct ipam_error *err)
{
	char ab[IPAM_ADDR_STRLEN], pb[IPAM_CIDR_STRLEN], nb[DNS_NAME_STRLEN];
	if (p == NULL || p->policy == IPAM_POLICY_OFF)
		return IPAM_VERDICT_ALLOW;
	if (a != NULL && a->name_len != 0 && dns_name_equal(a->name, owner))
		return IPAM_VERDICT_ALLOW;
	ipam_addr_format(family, addr, ab, sizeof(ab));
	ipam_cidr_format(&p->cidr, pb, sizeof(pb));
	const char *pol = ipam_policy_name(p->policy);
	if (a != NULL) {
		if (a->name_len == 0)
			return ipam_fail(err, DDI_ECONFLICT, "%s is %s without a name (%s has DNS policy %s)", ab,
			            a->state == IPAM_STATE_RESERVED ? "reserved" : "allocated", pb, pol);
		if (dns_name_to_str(nb, sizeof(nb), a->name) < 0)
			nb[0] = '\0';
		return ipam_fail(err, DDI_ECONFLICT, "%s is allocated to %s (%s has DNS policy %s)", ab, nb,
		            pb, pol);
	}
	if (p->policy == IPAM_POLICY_STRICT)
		return ipam_fail(err, DDI_EPOLICY, "%s is not allocated (%s has DNS policy strict)", ab, pb);
	if (!ipam_addr_usable(&p->cidr, family, addr))
		return ipam_fail(err, DDI_EPOLICY, "%s cannot be allocated in %s (network, broadcast or "
		            "subnet-router anycast address)", ab, pb);
	return IPAM_VERDICT_ALLOCATE;
}

/* ------------------------------------------------------------------------ */
/* Next free address                                                        */
/* ------------------------------------------------------------------------ */

static uint64_t idx_ops_count(void *ctx, int family, const uint8_t *prefix, int plen)
{
	return idx_addr_count(ctx, family, prefix, plen);
}

static int idx_ops_next_free(void *ctx, int family, const uint8_t *prefix, int plen,
                             uint64_t skip_low, uint64_t skip_high, uint8_t out[16])
{
	return idx_addr_next_free(ctx, family, prefix, plen, skip_low, skip_high, out);
}

const struct ipam_space_ops ipam_index_ops = {
	.count = idx_ops_count,
	.next_free = idx_ops_next_free,
};

static int span_cmp(const void *a, const void *b)
{
	const struct ipam_span *x = a, *y = b;
	if (x->first != y->first)
		return x->first < y->first ? -1 : 1;
	return (x->last > y->last) - (x->last < y->last);
}

size_t ipam_spans_normalize(struct ipam_span *s, size_t n)
{
	if (n == 0)
		return 0;
	qsort(s, n, sizeof(*s), span_cmp);
	size_t o = 0;
	for (size_t i = 1; i < n; i++) {
		/* Adjacent spans merge too; s[o].last + 1 cannot wrap unless it is the top. */
		if (s[o].last == U128_MAX || s[i].first <= s[o].last + 1) {
			if (s[i].last > s[o].last)
				s[o].last = s[i].last;
		} else {
			s[++o] = s[i];
		}
	}
	return o + 1;
}

/* The largest aligned block that starts at `a` and ends at or before `b`: its length bits. */
static int block_bits(int w, ipam_u128 a, ipam_u128 b)
{
	int k = 0;
	/* Grow while a stays aligned and the block stays inside [a, b]. */
	while (k < w) {
		ipam_u128 m = ((ipam_u128)1 << k << 1) - 1;   /* mask of k+1 bits */
		if (k + 1 == 128)
			m = U128_MAX;
		if ((a & m) != 0 || b - a < m)
			break;
		k++;
	}
	return k;
}

/*
 * The lowest free address in [cur, end]. One call when the piece, as a
 * window of its smallest enclosing prefix, has skips that fit the oracle's
 * 64-bit arguments (always for IPv4); else the piece's aligned blocks in
 * order, at most 2W calls.
 */
static int piece_next_free(const struct ipam_space_ops *ops, void *ctx, int family, int w,
                           ipam_u128 cur, ipam_u128 end, uint8_t out[16])
{
	ipam_u128 diff = cur ^ end;
	int plen = w;
	while (diff != 0) {
		diff >>= 1;
		plen--;
	}
	ipam_u128 pfirst = cur & ~host_mask(w, plen), plast = pfirst | host_mask(w, plen);
	if (cur - pfirst <= UINT64_MAX && plast - end <= UINT64_MAX) {
		uint8_t base[16];
		ipam_addr_from_u128(family, pfirst, base);
		return ops->next_free(ctx, family, base, plen, (uint64_t)(cur - pfirst),
		                      (uint64_t)(plast - end), out);
	}
	for (;;) {
		int k = block_bits(w, cur, end);
		uint8_t base[16];
		ipam_addr_from_u128(family, cur, base);
		int r = ops->next_free(ctx, family, base, w - k, 0, 0, out);
		if (r != DDI_EFULL)
			return r;
		ipam_u128 bend = k == 128 ? U128_MAX : cur + (((ipam_u128)1 << k) - 1);
		if (bend >= end)
			return DDI_EFULL;
		cur = bend + 1;
	}
}

int ipam_next_free_span(const struct ipam_space_ops *ops, void *ctx, int family,
                        ipam_u128 first, ipam_u128 last, const struct ipam_span *excl,
                        size_t nexcl, uint8_t out[16])
{
	int w = ipam_width(family);
	if (w == 0 || first > last || (w < 128 && last >> w != 0))
		return DDI_EINVAL;
	ipam_u128 cur = first;
	size_t e = 0;
	/* Exclusions that end before the start play no part. */
	while (e < nexcl && excl[e].last < cur)
		e++;
	for (;;) {
		/* Step over an exclusion that covers cur. */
		if (e < nexcl && excl[e].first <= cur) {
			if (excl[e].last >= last)
				return DDI_EFULL;
			cur = excl[e].last + 1;
			e++;
			continue;
		}
		/* The piece [cur, end] that no exclusion touches. */
		ipam_u128 end = last;
		if (e < nexcl && excl[e].first <= end)
			end = excl[e].first - 1;
		int r = piece_next_free(ops, ctx, family, w, cur, end, out);
		if (r != DDI_EFULL)
			return r;
		if (end == last)
			return DDI_EFULL;
		cur = end + 1;   /* the exclusion's first address; the top of the loop steps over it */
	}
}

void ipam_cidr_usable(const struct ipam_cidr *c, ipam_u128 *first, ipam_u128 *last)
{
	*first = ipam_cidr_first(c);
	*last = ipam_cidr_last(c);
	if (c->family == 4 && c->plen < 31) {
		*first += 1;
		*last -= 1;
	} else if (c->family == 6 && c->plen < 127) {
		*first += 1;
	}
}

int ipam_next_free(const struct ipam_space_ops *ops, void *ctx, const struct ipam_cidr *prefix,
                   const struct ipam_span *excl, size_t nexcl, uint8_t out[16])
{
	if (!ipam_cidr_valid(prefix))
		return DDI_EINVAL;
	ipam_u128 first, last;
	ipam_cidr_usable(prefix, &first, &last);
	/* Nothing excluded inside: one O(depth) call over the whole prefix. */
	bool clear = true;
	for (size_t i = 0; i < nexcl && clear; i++)
		if (excl[i].first <= last && excl[i].last >= first)
			clear = false;
	if (clear) {
		uint64_t lo = (uint64_t)(first - ipam_cidr_first(prefix));
		uint64_t hi = (uint64_t)(ipam_cidr_last(prefix) - last);
		return ops->next_free(ctx, prefix->family, prefix->addr, prefix->plen, lo, hi, out);
	}
	return ipam_next_free_span(ops, ctx, prefix->family, first, last, excl, nexcl, out);
}

int ipam_next_free_checked(const struct ipam_space_ops *ops, void *ctx, const struct ipam_cidr *prefix,
                           const struct ipam_span *excl, size_t nexcl, ipam_taken_fn taken,
                           void *tctx, uint8_t out[16])
{
	if (!ipam_cidr_valid(prefix))
		return DDI_EINVAL;
	int r = ipam_next_free(ops, ctx, prefix, excl, nexcl, out);
	if (r != DDI_EOK || taken == NULL || !taken(tctx, prefix->family, out))
		return r;
	ipam_u128 first, last;
	ipam_cidr_usable(prefix, &first, &last);
	/* Each round moves past one address the store holds: bounded by them. */
	for (;;) {
		ipam_u128 cur = ipam_addr_to_u128(prefix->family, out);
		if (cur >= last)
			return DDI_EFULL;
		r = ipam_next_free_span(ops, ctx, prefix->family, cur + 1, last, excl, nexcl, out);
		if (r != DDI_EOK || !taken(tctx, prefix->family, out))
			return r;
	}
}

/* ------------------------------------------------------------------------ */
/* Next free child prefix                                                   */
/* ------------------------------------------------------------------------ */

int ipam_next_free_child(const struct ipam_cidr *parent, int plen,
                         const struct ipam_cidr *children, size_t nchildren,
                         struct ipam_cidr *out)
{
	int w = ipam_width(parent->family);
	if (!ipam_cidr_valid(parent) || plen <= parent->plen || plen > w)
		return DDI_EINVAL;
	ipam_u128 pfirst = ipam_cidr_first(parent), plast = ipam_cidr_last(parent);
	ipam_u128 mask = host_mask(w, plen);   /* block size - 1 */
	ipam_u128 cur = pfirst;                /* every address below cur is blocked */

	for (size_t i = 0; i <= nchildren; i++) {
		/* Candidate: the first aligned block at or after cur (aligned up). */
		ipam_u128 cand = cur;
		if (cand & mask) {
			cand = (cand | mask);
			if (cand == plast)   /* aligning up runs out of the parent */
				return DDI_EFULL;
			cand += 1;
		}
		ipam_u128 cend = cand | mask;
		if (cend > plast || cend < cand)
			return DDI_EFULL;
		if (i == nchildren)
			break;
		const struct ipam_cidr *ch = &children[i];
		if (ch->family != parent->family)
			continue;
		ipam_u128 f = ipam_cidr_first(ch), l = ipam_cidr_last(ch);
		if (l < cur)
			continue;            /* nested in one already passed, or before the parent */
		if (f > plast)
			break;               /* sorted: nothing further can block */
		if (cend < f)
			break;               /* the candidate fits before this child */
		if (l >= plast)
			return DDI_EFULL;
		cur = l + 1;
	}
	ipam_u128 cand = cur;
	if (cand & mask)
		cand = (cand | mask) + 1;
	out->family = parent->family;
	out->plen = (uint8_t)plen;
	ipam_addr_from_u128(parent->family, cand, out->addr);
	return DDI_EOK;
}

/* ------------------------------------------------------------------------ */
/* Utilization                                                              */
/* ------------------------------------------------------------------------ */

uint32_t ipam_permyriad(ipam_u128 part, ipam_u128 whole)
{
	if (whole == 0)
		return 0;
	if (part >= whole)
		return 10000;   /* never more than all of it */
	/*
	 * Long division by decimal digits without overflow: r < whole always,
	 * and 10r mod whole is built by ten additions that never exceed 2 whole.
	 */
	ipam_u128 r = part;
	uint32_t q = 0;
	for (int digit = 0; digit < 4; digit++) {
		ipam_u128 t = 0;
		uint32_t d = 0;
		for (int i = 0; i < 10; i++) {
			if (t >= whole - r) {
				t -= whole - r;
				d++;
			} else {
				t += r;
			}
		}
		q = q * 10 + d;
		r = t;
	}
	return q;
}

int ipam_utilization(const struct ipam_space_ops *ops, void *ctx, const struct ipam_cidr *prefix,
                     struct ipam_util *u)
{
	if (!ipam_cidr_valid(prefix))
		return DDI_EINVAL;
	int w = ipam_width(prefix->family);
	uint64_t used = ops->count(ctx, prefix->family, prefix->addr, prefix->plen);
	ipam_u128 size_m1 = host_mask(w, prefix->plen);
	if (prefix->family == 4 && prefix->plen < 31) {
		uint8_t a[16];
		ipam_addr_from_u128(4, ipam_cidr_first(prefix), a);
		used -= ops->count(ctx, 4, a, 32);
		ipam_addr_from_u128(4, ipam_cidr_last(prefix), a);
		used -= ops->count(ctx, 4, a, 32);
		u->total = size_m1 - 1;
	} else {
		u->total = size_m1 == U128_MAX ? U128_MAX : size_m1 + 1;
	}
	u->used = used;
	u->permyriad = ipam_permyriad(u->used, u->total);
	return DDI_EOK;
}

ipam_u128 ipam_children_coverage(const struct ipam_cidr *parent, const struct ipam_cidr *children,
                                 size_t nchildren)
{
	ipam_u128 pf = ipam_cidr_first(parent), pl = ipam_cidr_last(parent);
	ipam_u128 covered = 0, cur = pf;   /* addresses below cur are counted */
	bool done = false;
	for (size_t i = 0; i < nchildren && !done; i++) {
		const struct ipam_cidr *ch = &children[i];
		if (ch->family != parent->family)
			continue;
		ipam_u128 f = ipam_cidr_first(ch), l = ipam_cidr_last(ch);
		if (l < cur || f > pl)
			continue;
		if (f < cur)
			f = cur;
		if (l > pl)
			l = pl;
		/* l - f + 1 overflows only for ::/0 itself, saturate there. */
		ipam_u128 n = l - f;
		covered = (n == U128_MAX || covered > U128_MAX - n - 1) ? U128_MAX : covered + n + 1;
		if (l == pl)
			done = true;
		else
			cur = l + 1;
	}
	return covered;
}

int ipam_u128_format(ipam_u128 v, char *buf, size_t buflen)
{
	char tmp[48];
	size_t n = 0;
	do {
		tmp[n++] = (char)('0' + (int)(v % 10));
		v /= 10;
	} while (v != 0);
	if (n + 1 > buflen)
		return DDI_ESPACE;
	for (size_t i = 0; i < n; i++)
		buf[i] = tmp[n - 1 - i];
	buf[n] = '\0';
	return (int)n;
}

int ipam_percent_format(uint32_t permyriad, char *buf, size_t buflen)
{
	int n = snprintf(buf, buflen, "%u.%02u", permyriad / 100, permyriad % 100);
	if (n < 0 || (size_t)n >= buflen)
		return DDI_ESPACE;
	return n;
}
