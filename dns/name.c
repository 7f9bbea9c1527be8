/* name -- domain names: wire, presentation and canonical lookup-key forms */
#include <string.h>

#include "dns/errcode.h"
#include "dns/name.h"

/* ASCII-only lower-casing (RFC 4343 2): octets >= 0x80 are not letters. */
static inline uint8_t lc(uint8_t c)
{
	return (c >= 'A' && c <= 'Z') ? (uint8_t)(c + ('a' - 'A')) : c;
}

/* Label-type bits of a length octet (RFC 1035 4.1.4, RFC 6891 5). */
#define LABEL_PTR 0xc0

/* ------------------------------------------------------------------------ */
/* Wire form                                                                */
/* ------------------------------------------------------------------------ */

size_t dns_name_len(const uint8_t *name)
{
	const uint8_t *p = name;

	while (*p != 0)
		p += *p + 1;
	return (size_t)(p - name) + 1;
}

int dns_name_check(const uint8_t *name, size_t maxlen)
{
	size_t pos = 0;

	if (name == NULL)
		return DDI_EINVAL;
	for (;;) {
		if (pos >= maxlen)
			return DDI_ETRUNC;
		uint8_t l = name[pos];
		if (l == 0)
			break;
		if ((l & LABEL_PTR) == LABEL_PTR)
			return DDI_ECOMPR;
		if (l > DNS_LABEL_MAXLEN)
			return DDI_ELABEL;
		pos += (size_t)l + 1;
		/* Checked before the next read so that a long name fails as too
		 * long, not as truncated, whatever maxlen is. */
		if (pos + 1 > DNS_NAME_MAXLEN)
			return DDI_ENAMELEN;
	}
	return (int)pos + 1;
}

int dns_name_parse(const uint8_t *msg, size_t msglen, size_t *pos,
                   uint8_t out[DNS_NAME_MAXLEN])
{
	size_t p = *pos;
	size_t seg = p;          /* start of the run being read; pointers must go below it */
	size_t after = 0;        /* *pos result, set at the first pointer */
	size_t olen = 0;

	/*
	 * Every pointer must target an offset strictly below the start of the
	 * run of labels that contains it. The run starts thus decrease strictly,
	 * so the walk ends after at most msglen jumps: no loop is possible, and
	 * every compliant compressor (which points at names written earlier)
	 * passes.
	 */
	for (;;) {
		if (p >= msglen)
			return DDI_ETRUNC;
		uint8_t l = msg[p];
		if ((l & LABEL_PTR) == LABEL_PTR) {
			if (p + 1 >= msglen)
				return DDI_ETRUNC;
			size_t target = (size_t)(l & 0x3f) << 8 | msg[p + 1];
			if (target >= seg)
				return DDI_ECOMPR;
			if (after == 0)
				after = p + 2;
			p = seg = target;
			continue;
		}
		if (l > DNS_LABEL_MAXLEN)
			return DDI_ELABEL;  /* 0x40 and 0x80 label types, or 64..63 */
		if (l == 0) {
			out[olen++] = 0;
			break;
		}
		if (p + 1 + l > msglen)
			return DDI_ETRUNC;
		/* The label, its length byte and the root label still to come. */
		if (olen + l + 2 > DNS_NAME_MAXLEN)
			return DDI_ENAMELEN;
		memcpy(out + olen, msg + p, (size_t)l + 1);
		olen += (size_t)l + 1;
		p += (size_t)l + 1;
	}
	*pos = after != 0 ? after : p + 1;
	return (int)olen;
}

/* ------------------------------------------------------------------------ */
/* Presentation form                                                        */
/* ------------------------------------------------------------------------ */

int dns_name_from_str(uint8_t out[DNS_NAME_MAXLEN], const char *str, size_t len,
                      const uint8_t *origin)
{
	static const uint8_t root[1] = { 0 };
	const uint8_t *s = (const uint8_t *)str;
	size_t olen = 0;     /* bytes of out in use */
	size_t lab = 0;      /* offset of the current label's length byte */
	size_t llen = 0;     /* length of the current label */
	bool absolute = false;

	if (str == NULL)
		return DDI_EINVAL;
	if (origin == NULL)
		origin = root;
	if (len == 0)
		return DDI_ESYNTAX;
	if (len == 1 && s[0] == '@') {
		size_t ol = dns_name_len(origin);
		memcpy(out, origin, ol);
		return (int)ol;
	}
	if (len == 1 && s[0] == '.') {
		out[0] = 0;
		return 1;
	}

	out[0] = 0;
	olen = 1;
	for (size_t i = 0; i < len; i++) {
		uint8_t c = s[i];

		if (c == '.') {
			if (llen == 0)
				return DDI_ESYNTAX;  /* empty label: leading dot or ".." */
			out[lab] = (uint8_t)llen;
			lab = olen;
			llen = 0;
			if (i + 1 == len) {
				absolute = true;
				break;
			}
			/* Room for this label's length byte plus the root label. */
			if (olen + 1 > DNS_NAME_MAXLEN - 1)
				return DDI_ENAMELEN;
			out[olen++] = 0;
			continue;
		}
		if (c == '\\') {
			if (++i == len)
				return DDI_ESYNTAX;
			c = s[i];
			if (c >= '0' && c <= '9') {
				/* \DDD: exactly three decimal digits, value <= 255. */
				if (i + 2 >= len || s[i + 1] < '0' || s[i + 1] > '9' ||
				    s[i + 2] < '0' || s[i + 2] > '9')
					return DDI_ESYNTAX;
				unsigned v = (unsigned)(c - '0') * 100 + (unsigned)(s[i + 1] - '0') * 10 +
				             (unsigned)(s[i + 2] - '0');
				if (v > 255)
					return DDI_ESYNTAX;
				c = (uint8_t)v;
				i += 2;
			}
		}
		if (llen == DNS_LABEL_MAXLEN)
			return DDI_ELABEL;
		if (olen + 1 > DNS_NAME_MAXLEN - 1)
			return DDI_ENAMELEN;
		out[olen++] = c;
		llen++;
	}

	if (absolute) {
		/* out[lab] is the root label the last dot left room for. */
		out[lab] = 0;
		return (int)lab + 1;
	}

	/* Relative: close the last label and append the origin. */
	out[lab] = (uint8_t)llen;
	size_t ol = dns_name_len(origin);
	if (olen + ol > DNS_NAME_MAXLEN)
		return DDI_ENAMELEN;
	memcpy(out + olen, origin, ol);
	return (int)(olen + ol);
}

/* Octets that must be escaped with a backslash in presentation form. */
static inline bool needs_backslash(uint8_t c)
{
	switch (c) {
	case '.': case '\\': case '"': case '(': case ')': case ';': case '@': case '$': case ' ':
		return true;
	default:
		return false;
	}
}

int dns_name_to_str(char *buf, size_t buflen, const uint8_t *name)
{
	size_t o = 0;
	const uint8_t *p = name;

	if (buf == NULL || name == NULL)
		return DDI_EINVAL;
	if (*p == 0) {
		if (buflen < 2)
			return DDI_ESPACE;
		buf[0] = '.';
		buf[1] = '\0';
		return 1;
	}
	while (*p != 0) {
		uint8_t l = *p++;
		for (uint8_t i = 0; i < l; i++) {
			uint8_t c = p[i];
			bool ddd = c < 0x20 || c >= 0x7f;
			size_t need = ddd ? 4 : (needs_backslash(c) ? 2 : 1);
			/* The label's dot and the final NUL must still fit after it. */
			if (o + need + 2 > buflen)
				return DDI_ESPACE;
			if (ddd) {
				buf[o++] = '\\';
				buf[o++] = (char)('0' + c / 100);
				buf[o++] = (char)('0' + c / 10 % 10);
				buf[o++] = (char)('0' + c % 10);
			} else {
				if (need == 2)
					buf[o++] = '\\';
				buf[o++] = (char)c;
			}
		}
		if (o + 2 > buflen)
			return DDI_ESPACE;
		buf[o++] = '.';
		p += l;
	}
	buf[o] = '\0';
	return (int)o;
}

/* ------------------------------------------------------------------------ */
/* Lookup key                                                               */
/* ------------------------------------------------------------------------ */

/* Label start offsets of a validated wire name; returns the label count. */
static int label_offsets(const uint8_t *name, uint8_t offs[DNS_NAME_MAXLABELS])
{
	int n = 0;
	uint8_t o = 0;

	while (name[o] != 0) {
		offs[n++] = o;
		o = (uint8_t)(o + name[o] + 1);
	}
	return n;
}

int dns_name_to_key(uint8_t key[DNS_KEY_MAXLEN], const uint8_t *name)
{
	uint8_t offs[DNS_NAME_MAXLABELS];
	int n = label_offsets(name, offs);
	size_t k = 0;

	/* 255 octets give at most 254 label octets (each 2 key bytes when
	 * escaped) plus one terminator per label: always < DNS_KEY_MAXLEN. */
	for (int i = n - 1; i >= 0; i--) {
		const uint8_t *l = name + offs[i];
		for (uint8_t j = 1; j <= l[0]; j++) {
			uint8_t c = lc(l[j]);
			if (c <= 1) {
				key[k++] = 1;
				key[k++] = (uint8_t)(c + 1);
			} else {
				key[k++] = c;
			}
		}
		key[k++] = 0;
	}
	return (int)k;
}

int dns_key_to_name(uint8_t out[DNS_NAME_MAXLEN], const uint8_t *key, size_t keylen)
{
	/* Decode the labels root-first into tmp, then write them out reversed. */
	uint8_t tmp[DNS_NAME_MAXLEN];
	uint8_t starts[DNS_NAME_MAXLABELS];
	size_t tlen = 0;
	int n = 0;
	size_t i = 0;

	if (key == NULL && keylen > 0)
		return DDI_EINVAL;
	if (keylen > 0 && key[keylen - 1] != 0)
		return DDI_EINVAL;  /* every label is terminated */
	while (i < keylen) {
		size_t lstart = tlen;
		if (n == DNS_NAME_MAXLABELS)
			return DDI_ENAMELEN;
		starts[n++] = (uint8_t)lstart;
		tmp[tlen++] = 0;  /* length byte, filled below */
		while (key[i] != 0) {
			uint8_t c = key[i++];
			if (c == 1) {
				/* i < keylen: the key ends with 0x00, which is not 1 or 2. */
				if (key[i] != 1 && key[i] != 2)
					return DDI_EINVAL;
				c = (uint8_t)(key[i++] - 1);
			} else if (c >= 'A' && c <= 'Z') {
				return DDI_EINVAL;  /* keys are lower-cased: not injective otherwise */
			}
			if (tlen - lstart - 1 == DNS_LABEL_MAXLEN)
				return DDI_ELABEL;
			if (tlen + 1 >= DNS_NAME_MAXLEN)
				return DDI_ENAMELEN;
			tmp[tlen++] = c;
		}
		i++;  /* the terminator */
		size_t llen = tlen - lstart - 1;
		if (llen == 0)
			return DDI_EINVAL;  /* empty label */
		tmp[lstart] = (uint8_t)llen;
	}
	/* tlen + 1 <= 255 was kept above, the root label fits. */
	size_t o = 0;
	for (int j = n - 1; j >= 0; j--) {
		size_t l = (size_t)tmp[starts[j]] + 1;
		memcpy(out + o, tmp + starts[j], l);
		o += l;
	}
	out[o++] = 0;
	return (int)o;
}

/* ------------------------------------------------------------------------ */
/* Comparison and structure                                                 */
/* ------------------------------------------------------------------------ */

/* Case-insensitive comparison of two labels, shorter prefix first. */
static int label_cmp(const uint8_t *a, const uint8_t *b)
{
	uint8_t la = a[0], lb = b[0];
	uint8_t m = la < lb ? la : lb;

	for (uint8_t i = 1; i <= m; i++) {
		uint8_t ca = lc(a[i]), cb = lc(b[i]);
		if (ca != cb)
			return ca < cb ? -1 : 1;
	}
	return la == lb ? 0 : (la < lb ? -1 : 1);
}

int dns_name_cmp(const uint8_t *a, const uint8_t *b)
{
	uint8_t oa[DNS_NAME_MAXLABELS], ob[DNS_NAME_MAXLABELS];
	int na = label_offsets(a, oa);
	int nb = label_offsets(b, ob);

	/* RFC 4034 6.1: compare from the most significant (rightmost) label. */
	for (int i = na - 1, j = nb - 1; i >= 0 && j >= 0; i--, j--) {
		int r = label_cmp(a + oa[i], b + ob[j]);
		if (r != 0)
			return r;
	}
	return na == nb ? 0 : (na < nb ? -1 : 1);
}

bool dns_name_equal(const uint8_t *a, const uint8_t *b)
{
	for (;;) {
		if (*a != *b)
			return false;
		uint8_t l = *a;
		if (l == 0)
			return true;
		for (uint8_t i = 1; i <= l; i++)
			if (lc(a[i]) != lc(b[i]))
				return false;
		a += l + 1;
		b += l + 1;
	}
}

int dns_name_labels(const uint8_t *name)
{
	int n = 0;

	while (*name != 0) {
		name += *name + 1;
		n++;
	}
	return n;
}

bool dns_name_is_sub(const uint8_t *name, const uint8_t *parent)
{
	int d = dns_name_labels(name) - dns_name_labels(parent);

	if (d < 0)
		return false;
	while (d-- > 0)
		name += *name + 1;
	return dns_name_equal(name, parent);
}

const uint8_t *dns_name_parent(const uint8_t *name)
{
	if (*name == 0)
		return NULL;
	return name + *name + 1;
}

void dns_name_lower(uint8_t *name)
{
	while (*name != 0) {
		uint8_t l = *name;
		for (uint8_t i = 1; i <= l; i++)
			name[i] = lc(name[i]);
		name += l + 1;
	}
}

bool dns_name_is_wildcard(const uint8_t *name)
{
	return name[0] == 1 && name[1] == '*';
}
