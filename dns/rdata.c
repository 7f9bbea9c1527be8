/* rdata -- RR types: type table, presentation <-> wire rdata, validation */
#include <arpa/inet.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include <strings.h>

#include "dns/errcode.h"
#include "dns/rdata.h"
#include "dns/wire.h"

/* ------------------------------------------------------------------------ */
/* Type table                                                               */
/* ------------------------------------------------------------------------ */

static const struct {
	uint16_t type;
	const char *name;
} type_names[] = {
	{ DNS_T_A, "A" },         { DNS_T_NS, "NS" },       { DNS_T_CNAME, "CNAME" },
	{ DNS_T_SOA, "SOA" },     { DNS_T_PTR, "PTR" },     { DNS_T_MX, "MX" },
	{ DNS_T_TXT, "TXT" },     { DNS_T_AAAA, "AAAA" },   { DNS_T_SRV, "SRV" },
	{ DNS_T_OPT, "OPT" },     { DNS_T_DHCID, "DHCID" }, { DNS_T_TKEY, "TKEY" },
	{ DNS_T_TSIG, "TSIG" },   { DNS_T_IXFR, "IXFR" },   { DNS_T_AXFR, "AXFR" },
	{ DNS_T_ANY, "ANY" },     { DNS_T_CAA, "CAA" },
};

#define NTYPES (sizeof(type_names) / sizeof(type_names[0]))

const char *dns_type_name(uint16_t type)
{
	/* Thread-local so that workers and the control thread may both call it. */
	static __thread char buf[sizeof("TYPE65535")];

	for (size_t i = 0; i < NTYPES; i++)
		if (type_names[i].type == type)
			return type_names[i].name;
	snprintf(buf, sizeof(buf), "TYPE%u", (unsigned)type);
	return buf;
}

/* Decimal digits only, no sign, no blanks; value <= max. */
static bool parse_uint(const char *s, size_t len, uint64_t max, uint64_t *out)
{
	uint64_t v = 0;

	if (len == 0 || len > 20)
		return false;
	for (size_t i = 0; i < len; i++) {
		if (s[i] < '0' || s[i] > '9')
			return false;
		v = v * 10 + (uint64_t)(s[i] - '0');
		/* At most 20 digits are read and max < 2^63 here, so a check per digit keeps v exact. */
		if (v > max)
			return false;
	}
	*out = v;
	return true;
}

uint16_t dns_type_from_str(const char *s, size_t len)
{
	uint64_t v;

	if (s == NULL || len == 0)
		return 0;
	for (size_t i = 0; i < NTYPES; i++)
		if (strlen(type_names[i].name) == len && strncasecmp(type_names[i].name, s, len) == 0)
			return type_names[i].type;
	/* RFC 3597 5: TYPEnnn, any type by number. */
	if (len > 4 && strncasecmp(s, "TYPE", 4) == 0 && len <= 9 &&
	    parse_uint(s + 4, len - 4, 65535, &v))
		return (uint16_t)v;
	return 0;
}

bool dns_type_is_meta(uint16_t type)
{
	/* RFC 6895 3.1: 0 is reserved, 128..255 are meta-types and q-types; OPT is a pseudo-RR. */
	return type == 0 || type == DNS_T_OPT || (type >= 128 && type <= 255);
}

/* ------------------------------------------------------------------------ */
/* TTL                                                                      */
/* ------------------------------------------------------------------------ */

/*
 * Seconds, or number+unit groups ("1w2d3h4m5s", any order, case-insensitive),
 * each group a number followed by one of w d h m s. Sum must not exceed max.
 */
static int parse_ttl(const char *s, size_t len, uint64_t max, uint32_t *out)
{
	uint64_t total = 0, num = 0;
	bool have_digit = false, all_digits = true;

	if (s == NULL || len == 0)
		return DDI_ESYNTAX;
	for (size_t i = 0; i < len; i++)
		if (s[i] < '0' || s[i] > '9')
			all_digits = false;
	if (all_digits) {
		/* Strip leading zeros so a long "000...1" is not taken as an overflow. */
		while (len > 1 && s[0] == '0') {
			s++;
			len--;
		}
		if (len > 10)
			return DDI_ETTL;
		if (!parse_uint(s, len, max, &num))
			return DDI_ETTL;
		*out = (uint32_t)num;
		return DDI_EOK;
	}
	for (size_t i = 0; i < len; i++) {
		char c = s[i];
		uint64_t mul;

		if (c >= '0' && c <= '9') {
			num = num * 10 + (uint64_t)(c - '0');
			have_digit = true;
			if (num > max)
				return DDI_ETTL;
			continue;
		}
		switch (c | 0x20) {
		case 'w': mul = 604800; break;
		case 'd': mul = 86400; break;
		case 'h': mul = 3600; break;
		case 'm': mul = 60; break;
		case 's': mul = 1; break;
		default: return DDI_ESYNTAX;
		}
		if (!have_digit)
			return DDI_ESYNTAX;
		/* num <= max < 2^33 and mul < 2^20: the product cannot wrap. */
		total += num * mul;
		if (total > max)
			return DDI_ETTL;
		num = 0;
		have_digit = false;
	}
	if (have_digit)   /* "1h30": a trailing number without its unit */
		return DDI_ESYNTAX;
	*out = (uint32_t)total;
	return DDI_EOK;
}

int dns_ttl_from_str(uint32_t *ttl, const char *s, size_t len)
{
	/* RFC 2181 8: TTLs are 0..2^31-1. */
	return parse_ttl(s, len, 0x7fffffffu, ttl);
}

/* ------------------------------------------------------------------------ */
/* Helpers for presentation -> wire                                         */
/* ------------------------------------------------------------------------ */

static void seterr(char *err, size_t errlen, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));

static void seterr(char *err, size_t errlen, const char *fmt, ...)
{
	va_list ap;

	if (err == NULL || errlen == 0)
		return;
	va_start(ap, fmt);
	vsnprintf(err, errlen, fmt, ap);
	va_end(ap);
}

/* A field shown in an error message: at most 40 bytes, marked when cut. */
#define SHOWN_MAX 40
static const char *shown(char buf[SHOWN_MAX + 4], const char *f)
{
	size_t n = strlen(f);

	if (n <= SHOWN_MAX)
		return f;
	memcpy(buf, f, SHOWN_MAX);
	memcpy(buf + SHOWN_MAX, "...", 4);
	return buf;
}

/*
 * RFC 1035 5.1 unescaping of one character-string: \DDD (exactly three
 * decimal digits, <= 255) and \X (X taken literally). Returns the length
 * written, or -1 for a bad escape, or -2 when more than `cap` bytes result.
 */
static int unescape(uint8_t *out, size_t cap, const char *s)
{
	size_t n = 0;

	while (*s) {
		unsigned c = (unsigned char)*s++;

		if (c == '\\') {
			if (*s == '\0')
				return -1;
			if (*s >= '0' && *s <= '9') {
				if (s[1] < '0' || s[1] > '9' || s[2] < '0' || s[2] > '9')
					return -1;
				c = (unsigned)(s[0] - '0') * 100 + (unsigned)(s[1] - '0') * 10 +
				    (unsigned)(s[2] - '0');
				if (c > 255)
					return -1;
				s += 3;
			} else {
				c = (unsigned char)*s++;
			}
		}
		if (n >= cap)
			return -2;
		out[n++] = (uint8_t)c;
	}
	return (int)n;
}

/* Output buffer with a bound, shared by the per-type encoders. */
struct wbuf {
	uint8_t *p;
	size_t cap;
	size_t len;
};

static bool wput(struct wbuf *w, const void *data, size_t n)
{
	if (n > w->cap - w->len)
		return false;
	memcpy(w->p + w->len, data, n);
	w->len += n;
	return true;
}

static bool wput16(struct wbuf *w, uint16_t v)
{
	uint8_t b[2];

	dns_put16(b, v);
	return wput(w, b, 2);
}

static bool wput32(struct wbuf *w, uint32_t v)
{
	uint8_t b[4];

	dns_put32(b, v);
	return wput(w, b, 4);
}

/* Context of one dns_rdata_from_str call, so encoders report uniformly. */
struct pctx {
	const char *const *f;
	const bool *q;
	int n;
	const uint8_t *origin;
	char *err;
	size_t errlen;
	struct wbuf w;
};

#define E_SPACE(c) (seterr((c)->err, (c)->errlen, "rdata too long"), DDI_ESPACE)

static int need_fields(struct pctx *c, int want, const char *what)
{
	if (c->n < want) {
		seterr(c->err, c->errlen, "expected %s, got end of record", what);
		return DDI_ESYNTAX;
	}
	return DDI_EOK;
}

static int no_more_fields(struct pctx *c, int used)
{
	char b[SHOWN_MAX + 4];

	if (c->n > used) {
		seterr(c->err, c->errlen, "expected end of record, got '%s'", shown(b, c->f[used]));
		return DDI_ESYNTAX;
	}
	return DDI_EOK;
}

static int put_name(struct pctx *c, int i)
{
	uint8_t name[DNS_NAME_MAXLEN];
	char b[SHOWN_MAX + 4];
	int r;

	if (c->q != NULL && c->q[i]) {
		seterr(c->err, c->errlen, "expected a domain name, got a quoted string");
		return DDI_ESYNTAX;
	}
	r = dns_name_from_str(name, c->f[i], strlen(c->f[i]), c->origin);
	if (r < 0) {
		seterr(c->err, c->errlen, "expected a domain name, got '%s' (%s)", shown(b, c->f[i]),
		       ddi_strerror(r));
		return DDI_ESYNTAX;
	}
	if (!wput(&c->w, name, (size_t)r))
		return E_SPACE(c);
	return DDI_EOK;
}

static int get_uint(struct pctx *c, int i, uint64_t max, const char *what, uint64_t *v)
{
	char b[SHOWN_MAX + 4];

	if ((c->q != NULL && c->q[i]) || !parse_uint(c->f[i], strlen(c->f[i]), max, v)) {
		seterr(c->err, c->errlen, "expected %s (0..%llu), got '%s'", what,
		       (unsigned long long)max, shown(b, c->f[i]));
		return DDI_ESYNTAX;
	}
	return DDI_EOK;
}

static int put_u16(struct pctx *c, int i, const char *what)
{
	uint64_t v;
	int r = get_uint(c, i, 65535, what, &v);

	if (r < 0)
		return r;
	return wput16(&c->w, (uint16_t)v) ? DDI_EOK : E_SPACE(c);
}

/* One character-string: length octet + up to 255 unescaped bytes. */
static int put_charstr(struct pctx *c, int i)
{
	uint8_t s[256];
	char b[SHOWN_MAX + 4];
	int r = unescape(s, 255, c->f[i]);

	if (r == -1) {
		seterr(c->err, c->errlen, "bad escape in string '%s'", shown(b, c->f[i]));
		return DDI_ESYNTAX;
	}
	if (r == -2) {
		seterr(c->err, c->errlen, "string longer than 255 bytes: '%s'", shown(b, c->f[i]));
		return DDI_ESYNTAX;
	}
	if (!wput(&c->w, (uint8_t[]){ (uint8_t)r }, 1) || !wput(&c->w, s, (size_t)r))
		return E_SPACE(c);
	return DDI_EOK;
}

/* ------------------------------------------------------------------------ */
/* Base64 (RFC 4648 4), strict: canonical padding, no stray characters      */
/* ------------------------------------------------------------------------ */

static const char b64chars[] =
	"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";

static int b64val(char ch)
{
	const char *p = ch ? strchr(b64chars, ch) : NULL;

	return p ? (int)(p - b64chars) : -1;
}

/*
 * Decode the concatenation of fields[from..n) (RFC 4701 3.2 allows the
 * base64 text to be split by blanks). Returns the length or -1.
 */
static int b64_decode(struct wbuf *w, const char *const *f, int from, int n)
{
	int quad[4], nq = 0, pad = 0;

	for (int i = from; i < n; i++) {
		for (const char *s = f[i]; *s; s++) {
			int v;

			if (*s == '=') {
				/* Padding only in the last two places of a quad. */
				if (nq < 2)
					return -1;
				pad++;
				v = 0;
			} else {
				if (pad)   /* data after padding */
					return -1;
				v = b64val(*s);
				if (v < 0)
					return -1;
			}
			quad[nq++] = v;
			if (nq == 4) {
				uint8_t o[3] = {
					(uint8_t)(quad[0] << 2 | quad[1] >> 4),
					(uint8_t)((quad[1] & 0xf) << 4 | quad[2] >> 2),
					(uint8_t)((quad[2] & 3) << 6 | quad[3]),
				};
				/* Unused bits must be zero, so that each value has one text form. */
				if ((pad == 1 && (quad[2] & 3)) || (pad == 2 && (quad[1] & 0xf)))
					return -1;
				if (!wput(w, o, (size_t)(3 - pad)))
					return -2;
				nq = 0;
				if (pad) {
					/* Nothing may follow the padded quad. */
					if (s[1] != '\0')
						return -1;
					for (int j = i + 1; j < n; j++)
						if (f[j][0])
							return -1;
					return 0;
				}
			}
		}
	}
	return nq == 0 ? 0 : -1;
}

/* ------------------------------------------------------------------------ */
/* Presentation -> wire, per type                                           */
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

/* RFC 3597 5: "\# LEN HEX...", hex may be split into several words. */
static int from_generic(struct pctx *c, uint16_t type)
{
	uint64_t want;
	char b[SHOWN_MAX + 4];
	int hi = -1, r;

	if ((r = need_fields(c, 2, "the rdata length after '\\#'")) < 0)
		return r;
	if ((r = get_uint(c, 1, 65535, "the rdata length", &want)) < 0)
		return r;
	if (want > c->w.cap)
		return E_SPACE(c);
	for (int i = 2; i < c->n; i++) {
		if (c->q != NULL && c->q[i]) {
			seterr(c->err, c->errlen, "expected hex digits, got a quoted string");
			return DDI_ESYNTAX;
		}
		for (const char *s = c->f[i]; *s; s++) {
			int v = hexval(*s);

			if (v < 0) {
				seterr(c->err, c->errlen, "expected hex digits, got '%s'", shown(b, c->f[i]));
				return DDI_ESYNTAX;
			}
			if (hi < 0) {
				hi = v;
				continue;
			}
			if (c->w.len >= want) {
				seterr(c->err, c->errlen, "more hex data than the %llu bytes announced",
				       (unsigned long long)want);
				return DDI_ESYNTAX;
			}
			c->w.p[c->w.len++] = (uint8_t)(hi << 4 | v);
			hi = -1;
		}
	}
	if (hi >= 0) {
		seterr(c->err, c->errlen, "odd number of hex digits");
		return DDI_ESYNTAX;
	}
	if (c->w.len != want) {
		seterr(c->err, c->errlen, "%zu bytes of hex data, %llu announced", c->w.len,
		       (unsigned long long)want);
		return DDI_ESYNTAX;
	}
	/* The opaque form of a known type must still be valid rdata of that type. */
	if (dns_rdata_check(type, c->w.p, (uint16_t)c->w.len) != DDI_EOK) {
		seterr(c->err, c->errlen, "the \\# data is not valid %s rdata", dns_type_name(type));
		return DDI_ERDATA;
	}
	return DDI_EOK;
}

static int from_addr(struct pctx *c, int af)
{
	char tmp[INET6_ADDRSTRLEN + 1];
	char b[SHOWN_MAX + 4];
	uint8_t a[16];
	const char *what = af == AF_INET ? "an IPv4 address" : "an IPv6 address";
	size_t n;
	int r;

	if ((r = need_fields(c, 1, what)) < 0)
		return r;
	n = strlen(c->f[0]);
	/* A field longer than any address is refused before inet_pton sees it. */
	if ((c->q != NULL && c->q[0]) || n >= sizeof(tmp))
		goto bad;
	memcpy(tmp, c->f[0], n + 1);
	if (inet_pton(af, tmp, a) != 1)
		goto bad;
	if ((r = no_more_fields(c, 1)) < 0)
		return r;
	return wput(&c->w, a, af == AF_INET ? 4 : 16) ? DDI_EOK : E_SPACE(c);
bad:
	seterr(c->err, c->errlen, "expected %s, got '%s'", what, shown(b, c->f[0]));
	return DDI_ESYNTAX;
}

static int from_name(struct pctx *c)
{
	int r;

	if ((r = need_fields(c, 1, "a domain name")) < 0 || (r = put_name(c, 0)) < 0)
		return r;
	return no_more_fields(c, 1);
}

static int from_soa(struct pctx *c)
{
	static const char *const what[] = { "a serial", "a refresh time", "a retry time",
	                                    "an expire time", "a minimum TTL" };
	char b[SHOWN_MAX + 4];
	int r;

	if ((r = need_fields(c, 1, "the primary server name")) < 0 || (r = put_name(c, 0)) < 0)
		return r;
	if ((r = need_fields(c, 2, "the mailbox name")) < 0 || (r = put_name(c, 1)) < 0)
		return r;
	for (int i = 0; i < 5; i++) {
		uint64_t v;
		uint32_t t;

		if ((r = need_fields(c, 3 + i, what[i])) < 0)
			return r;
		if (i == 0) {
			/* RFC 1982 serial: a plain 32-bit number, no units. */
			if ((r = get_uint(c, 2, 0xffffffffu, what[0], &v)) < 0)
				return r;
			t = (uint32_t)v;
		} else if ((c->q != NULL && c->q[2 + i]) ||
		           parse_ttl(c->f[2 + i], strlen(c->f[2 + i]), 0xffffffffu, &t) < 0) {
			/* Timers take TTL units; up to 2^32-1 so any wire value reads back. */
			seterr(c->err, c->errlen, "expected %s, got '%s'", what[i],
			       shown(b, c->f[2 + i]));
			return DDI_ESYNTAX;
		}
		if (!wput32(&c->w, t))
			return E_SPACE(c);
	}
	return no_more_fields(c, 7);
}

static int from_mx(struct pctx *c)
{
	int r;

	if ((r = need_fields(c, 1, "a preference")) < 0 || (r = put_u16(c, 0, "a preference")) < 0)
		return r;
	if ((r = need_fields(c, 2, "a mail exchanger name")) < 0 || (r = put_name(c, 1)) < 0)
		return r;
	return no_more_fields(c, 2);
}

static int from_srv(struct pctx *c)
{
	static const char *const what[] = { "a priority", "a weight", "a port" };
	int r;

	for (int i = 0; i < 3; i++)
		if ((r = need_fields(c, i + 1, what[i])) < 0 || (r = put_u16(c, i, what[i])) < 0)
			return r;
	if ((r = need_fields(c, 4, "a target name")) < 0 || (r = put_name(c, 3)) < 0)
		return r;
	return no_more_fields(c, 4);
}

static int from_txt(struct pctx *c)
{
	int r;

	if ((r = need_fields(c, 1, "a character-string")) < 0)
		return r;
	for (int i = 0; i < c->n; i++)
		if ((r = put_charstr(c, i)) < 0)
			return r;
	return DDI_EOK;
}

static bool caa_tag_ok(const uint8_t *t, size_t n)
{
	if (n < 1 || n > 15)
		return false;
	for (size_t i = 0; i < n; i++) {
		uint8_t ch = t[i];

		if (!((ch >= 'a' && ch <= 'z') || (ch >= 'A' && ch <= 'Z') || (ch >= '0' && ch <= '9')))
			return false;
	}
	return true;
}

/* RFC 8659 4.1: flags tag value; the value is the rest of the rdata, no length octet. */
static int from_caa(struct pctx *c)
{
	char b[SHOWN_MAX + 4];
	uint64_t flags;
	size_t tl;
	int r;

	if ((r = need_fields(c, 1, "CAA flags")) < 0 || (r = get_uint(c, 0, 255, "CAA flags", &flags)) < 0)
		return r;
	if ((r = need_fields(c, 2, "a CAA tag")) < 0)
		return r;
	tl = strlen(c->f[1]);
	if ((c->q != NULL && c->q[1]) || !caa_tag_ok((const uint8_t *)c->f[1], tl)) {
		seterr(c->err, c->errlen, "expected a CAA tag (1 to 15 letters and digits), got '%s'",
		       shown(b, c->f[1]));
		return DDI_ESYNTAX;
	}
	if ((r = need_fields(c, 3, "a CAA value")) < 0)
		return r;
	if (!wput(&c->w, (uint8_t[]){ (uint8_t)flags, (uint8_t)tl }, 2) || !wput(&c->w, c->f[1], tl))
		return E_SPACE(c);
	r = unescape(c->w.p + c->w.len, c->w.cap - c->w.len, c->f[2]);
	if (r == -1) {
		seterr(c->err, c->errlen, "bad escape in CAA value '%s'", shown(b, c->f[2]));
		return DDI_ESYNTAX;
	}
	if (r == -2)
		return E_SPACE(c);
	c->w.len += (size_t)r;
	return no_more_fields(c, 3);
}

static int from_dhcid(struct pctx *c)
{
	int r;

	if ((r = need_fields(c, 1, "base64 data")) < 0)
		return r;
	for (int i = 0; i < c->n; i++)
		if (c->q != NULL && c->q[i]) {
			seterr(c->err, c->errlen, "expected base64 data, got a quoted string");
			return DDI_ESYNTAX;
		}
	r = b64_decode(&c->w, c->f, 0, c->n);
	if (r == -2)
		return E_SPACE(c);
	if (r < 0) {
		seterr(c->err, c->errlen, "expected base64 data");
		return DDI_ESYNTAX;
	}
	/* RFC 4701 3.3: identifier type (2), digest type (1), digest. */
	if (c->w.len < 3) {
		seterr(c->err, c->errlen, "DHCID data shorter than 3 bytes");
		return DDI_ERDATA;
	}
	return DDI_EOK;
}

int dns_rdata_from_str(uint8_t *out, size_t outcap, uint16_t type,
                       const char *const *fields, const bool *quoted, int nfields,
                       const uint8_t *origin, char *err, size_t errlen)
{
	struct pctx c = {
		.f = fields, .q = quoted, .n = nfields, .origin = origin,
		.err = err, .errlen = errlen,
		.w = { .p = out, .cap = outcap > DNS_RDATA_MAXLEN ? DNS_RDATA_MAXLEN : outcap },
	};
	int r;

	if (err != NULL && errlen > 0)
		err[0] = '\0';
	if (out == NULL || nfields < 0 || (nfields > 0 && fields == NULL)) {
		seterr(err, errlen, "bad arguments");
		return DDI_EINVAL;
	}
	for (int i = 0; i < nfields; i++)
		if (fields[i] == NULL) {
			seterr(err, errlen, "bad arguments");
			return DDI_EINVAL;
		}

	if (nfields >= 1 && !(quoted != NULL && quoted[0]) && strcmp(fields[0], "\\#") == 0)
		r = from_generic(&c, type);
	else
		switch (type) {
		case DNS_T_A: r = from_addr(&c, AF_INET); break;
		case DNS_T_AAAA: r = from_addr(&c, AF_INET6); break;
		case DNS_T_NS:
		case DNS_T_CNAME:
		case DNS_T_PTR: r = from_name(&c); break;
		case DNS_T_SOA: r = from_soa(&c); break;
		case DNS_T_MX: r = from_mx(&c); break;
		case DNS_T_TXT: r = from_txt(&c); break;
		case DNS_T_SRV: r = from_srv(&c); break;
		case DNS_T_CAA: r = from_caa(&c); break;
		case DNS_T_DHCID: r = from_dhcid(&c); break;
		default:
			seterr(err, errlen, "type %s needs the RFC 3597 form '\\# LEN HEX'",
			       dns_type_name(type));
			r = DDI_ESYNTAX;
		}
	return r < 0 ? r : (int)c.w.len;
}

/* ------------------------------------------------------------------------ */
/* Wire -> presentation                                                     */
/* ------------------------------------------------------------------------ */

struct sbuf {
	char *p;
	size_t cap;
	size_t len;
	bool full;
};

static void sput(struct sbuf *s, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

static void sput(struct sbuf *s, const char *fmt, ...)
{
	va_list ap;
	int n;

	if (s->full)
		return;
	va_start(ap, fmt);
	n = vsnprintf(s->p + s->len, s->cap - s->len, fmt, ap);
	va_end(ap);
	if (n < 0 || (size_t)n >= s->cap - s->len) {
		s->full = true;
		return;
	}
	s->len += (size_t)n;
}

static void sputc(struct sbuf *s, char ch)
{
	if (s->full || s->cap - s->len < 2) {
		s->full = true;
		return;
	}
	s->p[s->len++] = ch;
	s->p[s->len] = '\0';
}

static void sput_name(struct sbuf *s, const uint8_t *name)
{
	int n;

	if (s->full)
		return;
	n = dns_name_to_str(s->p + s->len, s->cap - s->len, name);
	if (n < 0 || (size_t)n >= s->cap - s->len) {
		s->full = true;
		return;
	}
	s->len += (size_t)n;
}

/* A quoted string as dig prints it: '"' and '\' escaped, non-printables as \DDD. */
static void sput_quoted(struct sbuf *s, const uint8_t *d, size_t n)
{
	sputc(s, '"');
	for (size_t i = 0; i < n; i++) {
		if (d[i] == '"' || d[i] == '\\') {
			sputc(s, '\\');
			sputc(s, (char)d[i]);
		} else if (d[i] < 0x20 || d[i] >= 0x7f) {
			sput(s, "\\%03u", d[i]);
		} else {
			sputc(s, (char)d[i]);
		}
	}
	sputc(s, '"');
}

static void sput_generic(struct sbuf *s, const uint8_t *d, uint16_t n)
{
	static const char hex[] = "0123456789ABCDEF";

	sput(s, "\\# %u", (unsigned)n);
	if (n > 0)
		sputc(s, ' ');
	for (size_t i = 0; i < n; i++) {
		sputc(s, hex[d[i] >> 4]);
		sputc(s, hex[d[i] & 15]);
	}
}

static void sput_b64(struct sbuf *s, const uint8_t *d, size_t n)
{
	for (size_t i = 0; i < n; i += 3) {
		uint32_t v = (uint32_t)d[i] << 16;
		size_t k = n - i;

		if (k > 1)
			v |= (uint32_t)d[i + 1] << 8;
		if (k > 2)
			v |= d[i + 2];
		sputc(s, b64chars[v >> 18 & 63]);
		sputc(s, b64chars[v >> 12 & 63]);
		sputc(s, k > 1 ? b64chars[v >> 6 & 63] : '=');
		sputc(s, k > 2 ? b64chars[v & 63] : '=');
	}
}

int dns_rdata_to_str(char *buf, size_t buflen, uint16_t type, const uint8_t *rdata, uint16_t rdlen)
{
	struct sbuf s = { .p = buf, .cap = buflen };
	char addr[INET6_ADDRSTRLEN];
	size_t off, n;

	if (buf == NULL || buflen == 0)
		return DDI_ESPACE;
	buf[0] = '\0';
	if (dns_rdata_check(type, rdata, rdlen) != DDI_EOK)
		return DDI_ERDATA;

	switch (type) {
	case DNS_T_A:
	case DNS_T_AAAA:
		inet_ntop(type == DNS_T_A ? AF_INET : AF_INET6, rdata, addr, sizeof(addr));
		sput(&s, "%s", addr);
		break;
	case DNS_T_NS:
	case DNS_T_CNAME:
	case DNS_T_PTR:
		sput_name(&s, rdata);
		break;
	case DNS_T_SOA:
		off = dns_name_len(rdata);
		sput_name(&s, rdata);
		sputc(&s, ' ');
		sput_name(&s, rdata + off);
		off = rdlen - 20u;
		sput(&s, " %u %u %u %u %u", dns_get32(rdata + off), dns_get32(rdata + off + 4),
		     dns_get32(rdata + off + 8), dns_get32(rdata + off + 12),
		     dns_get32(rdata + off + 16));
		break;
	case DNS_T_MX:
		sput(&s, "%u ", dns_get16(rdata));
		sput_name(&s, rdata + 2);
		break;
	case DNS_T_SRV:
		sput(&s, "%u %u %u ", dns_get16(rdata), dns_get16(rdata + 2), dns_get16(rdata + 4));
		sput_name(&s, rdata + 6);
		break;
	case DNS_T_TXT:
		for (off = 0; off < rdlen; off += 1 + n) {
			n = rdata[off];
			if (off > 0)
				sputc(&s, ' ');
			sput_quoted(&s, rdata + off + 1, n);
		}
		break;
	case DNS_T_CAA:
		n = rdata[1];
		sput(&s, "%u %.*s ", rdata[0], (int)n, (const char *)rdata + 2);
		sput_quoted(&s, rdata + 2 + n, rdlen - 2 - n);
		break;
	case DNS_T_DHCID:
		sput_b64(&s, rdata, rdlen);
		break;
	default:
		sput_generic(&s, rdata, rdlen);
	}
	if (s.full)
		return DDI_ESPACE;
	return (int)s.len;
}

/* ------------------------------------------------------------------------ */
/* Wire validation and message parsing                                      */
/* ------------------------------------------------------------------------ */

/* Length of a valid uncompressed name at rdata[off], within rdlen, or -1. */
static int name_at(const uint8_t *rdata, size_t rdlen, size_t off)
{
	int r;

	if (off >= rdlen)
		return -1;
	r = dns_name_check(rdata + off, rdlen - off);
	return r < 0 ? -1 : r;
}

int dns_rdata_check(uint16_t type, const uint8_t *rdata, uint16_t rdlen)
{
	int a, b;
	size_t off;

	if (rdlen > 0 && rdata == NULL)
		return DDI_ERDATA;
	switch (type) {
	case DNS_T_A:
		return rdlen == 4 ? DDI_EOK : DDI_ERDATA;
	case DNS_T_AAAA:
		return rdlen == 16 ? DDI_EOK : DDI_ERDATA;
	case DNS_T_NS:
	case DNS_T_CNAME:
	case DNS_T_PTR:
		a = name_at(rdata, rdlen, 0);
		return a == rdlen ? DDI_EOK : DDI_ERDATA;
	case DNS_T_SOA:
		if ((a = name_at(rdata, rdlen, 0)) < 0 || (b = name_at(rdata, rdlen, (size_t)a)) < 0)
			return DDI_ERDATA;
		return (size_t)a + (size_t)b + 20 == rdlen ? DDI_EOK : DDI_ERDATA;
	case DNS_T_MX:
		a = name_at(rdata, rdlen, 2);
		return a >= 0 && 2 + (size_t)a == rdlen ? DDI_EOK : DDI_ERDATA;
	case DNS_T_SRV:
		a = name_at(rdata, rdlen, 6);
		return a >= 0 && 6 + (size_t)a == rdlen ? DDI_EOK : DDI_ERDATA;
	case DNS_T_TXT:
		/* RFC 1035 3.3.14: one or more strings that cover the rdata exactly. */
		if (rdlen == 0)
			return DDI_ERDATA;
		for (off = 0; off < rdlen; off += 1 + (size_t)rdata[off])
			;
		return off == rdlen ? DDI_EOK : DDI_ERDATA;
	case DNS_T_CAA:
		if (rdlen < 2 || (size_t)2 + rdata[1] > rdlen || !caa_tag_ok(rdata + 2, rdata[1]))
			return DDI_ERDATA;
		return DDI_EOK;
	case DNS_T_DHCID:
		return rdlen >= 3 ? DDI_EOK : DDI_ERDATA;
	default:
		/* Unknown and meta types are opaque (RFC 3597). */
		return DDI_EOK;
	}
}

/*
 * The message is cut at the end of the rdata: pointers only point backwards
 * (dns_name_parse enforces it), so no byte of a valid embedded name lies
 * past the rdata, and nothing outside [msg, end) is ever read.
 */
static int parse_name(struct wbuf *w, const uint8_t *msg, size_t end, size_t *pos)
{
	uint8_t name[DNS_NAME_MAXLEN];
	int r = dns_name_parse(msg, end, pos, name);

	if (r < 0)
		return r;
	if (!wput(w, name, (size_t)r))
		return DDI_ESPACE;
	return DDI_EOK;
}

int dns_rdata_parse(uint8_t *out, size_t outcap, uint16_t type, const uint8_t *msg,
                    size_t msglen, size_t pos, uint16_t rdlen)
{
	struct wbuf w = { .p = out, .cap = outcap > DNS_RDATA_MAXLEN ? DNS_RDATA_MAXLEN : outcap };
	size_t end, fixed = 0;
	int names = 0, r;

	if (msg == NULL || out == NULL)
		return DDI_EINVAL;
	if (pos > msglen || rdlen > msglen - pos)
		return DDI_ETRUNC;
	end = pos + rdlen;
	/* Empty rdata (RFC 2136 2.5 deletions) is passed through; callers check it if it must be a record. */
	if (rdlen == 0)
		return 0;

	switch (type) {
	case DNS_T_NS:
	case DNS_T_CNAME:
	case DNS_T_PTR: names = 1; break;
	case DNS_T_SOA: names = 2; break;
	case DNS_T_MX: fixed = 2; names = 1; break;
	case DNS_T_SRV: fixed = 6; names = 1; break;
	default: break;
	}
	if (names > 0) {
		if (fixed > rdlen)
			return DDI_EMALF;
		if (!wput(&w, msg + pos, fixed))
			return DDI_ESPACE;
		pos += fixed;
		for (int i = 0; i < names; i++) {
			if (pos >= end)
				return DDI_EMALF;
			if ((r = parse_name(&w, msg, end, &pos)) < 0)
				return r == DDI_ETRUNC ? DDI_EMALF : r;
		}
	}
	/* What follows the names (SOA's 20 bytes) or the whole rdata of other types. */
	if (!wput(&w, msg + pos, end - pos))
		return DDI_ESPACE;
	if (dns_rdata_check(type, w.p, (uint16_t)w.len) != DDI_EOK)
		return DDI_ERDATA;
	return (int)w.len;
}

const uint8_t *dns_rdata_target(uint16_t type, const uint8_t *rdata, uint16_t rdlen)
{
	size_t off;

	switch (type) {
	case DNS_T_NS: off = 0; break;
	case DNS_T_MX: off = 2; break;
	case DNS_T_SRV: off = 6; break;
	default: return NULL;
	}
	if (rdata == NULL || rdlen <= off)
		return NULL;
	return rdata + off;
}

/* SOA: the 20 fixed bytes end the rdata, so the fields are found from the end. */
uint32_t dns_soa_serial(const uint8_t *rdata, uint16_t rdlen)
{
	return rdlen >= 22 ? dns_get32(rdata + rdlen - 20) : 0;
}

uint32_t dns_soa_minimum(const uint8_t *rdata, uint16_t rdlen)
{
	return rdlen >= 22 ? dns_get32(rdata + rdlen - 4) : 0;
}

void dns_soa_set_serial(uint8_t *rdata, uint16_t rdlen, uint32_t serial)
{
	if (rdlen >= 22)
		dns_put32(rdata + rdlen - 20, serial);
}
