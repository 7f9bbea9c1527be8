/* zonefile -- RFC 1035 section 5 master files: tokenizer, reader, writer */
#include <errno.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "dns/errcode.h"
#include "dns/wire.h"
#include "dns/zonefile.h"

/*
 * How the reader works
 *
 * The whole file is read into memory and cut into records: a record is the
 * tokens of one line, or of several lines while a '(' is open. Tokens keep
 * their backslash escapes (the rdata and name parsers undo them); quoted
 * tokens lose their quotes and are flagged. A record whose line starts
 * with a blank has no owner token and takes the previous owner.
 *
 * Choices where RFC 1035 leaves room (documented for zone authors):
 * - A record without a TTL gets the value of the last $TTL, or, before any
 *   $TTL, zf_options.default_ttl (3600 when 0). The SOA minimum is never
 *   used silently as a TTL (it is the negative-caching TTL since RFC 2308),
 *   and neither is the "last explicit TTL" of RFC 1035.
 * - $INCLUDE FILE [ORIGIN]: FILE is relative to the directory of the file
 *   that includes it. The included file starts with the includer's origin
 *   (or ORIGIN) and previous owner; both are restored afterwards (RFC 1035
 *   5.1: an include never changes the parent's origin). $TTL set in an
 *   included file stays in force. Nesting is limited to ZF_INCLUDE_DEPTH.
 * - Input is untrusted: NUL bytes and control characters other than tab,
 *   CR and LF are refused (write them as \DDD), a record may hold at most
 *   ZF_RECORD_MAX bytes of token text, and a file at most ZF_FILE_MAX bytes.
 *   Nothing recurses except $INCLUDE, which is bounded.
 */

#define ZF_INCLUDE_DEPTH 8
#define ZF_RECORD_MAX (1u << 20)        /* token text in one record: \# of 64 KiB is ~128 KiB */
#define ZF_FILE_MAX ((size_t)1 << 31)   /* 2 GiB */
#define ZF_SHOWN 40                     /* at most this much of a token in a message */

struct zf_tok {
	size_t off;     /* into zf_reader.text */
	bool quoted;
};

/* One file or string being read. */
struct zf_src {
	const char *name;   /* as shown in errors */
	const char *buf;
	size_t len;
	size_t pos;
	unsigned line;      /* current physical line, 1-based */
};

struct zf_reader {
	const struct zf_options *opt;
	zf_record_cb cb;
	void *ctx;
	struct zf_error *err;

	uint8_t origin[DNS_NAME_MAXLEN];   /* current $ORIGIN */
	uint8_t owner[DNS_NAME_MAXLEN];    /* last owner, for inheritance */
	bool have_owner;
	uint32_t dir_ttl;                  /* last $TTL */
	bool have_dir_ttl;

	struct dns_rr *rr;                 /* 64 KiB: on the heap */

	/* The current record. */
	char *text;
	size_t textlen, textcap;
	struct zf_tok *toks;
	size_t ntok, tokcap;
	const char **fields;               /* built from toks once the record is complete */
	bool *quoted;
	size_t fieldcap;
	unsigned rec_line;
	bool rec_blank;                    /* its first line starts with a blank */
};

static int read_src(struct zf_reader *rd, struct zf_src *src, int depth);

/* ------------------------------------------------------------------------ */
/* Errors                                                                   */
/* ------------------------------------------------------------------------ */

static int fail(struct zf_reader *rd, const char *file, unsigned line, int code,
                const char *fmt, ...) __attribute__((format(printf, 5, 6)));

static int fail(struct zf_reader *rd, const char *file, unsigned line, int code,
                const char *fmt, ...)
{
	struct zf_error *e = rd->err;
	va_list ap;

	snprintf(e->file, sizeof(e->file), "%s", file ? file : "");
	e->line = line;
	e->code = code;
	va_start(ap, fmt);
	vsnprintf(e->msg, sizeof(e->msg), fmt, ap);
	va_end(ap);
	return code;
}

/* A token as shown in a message: cut after ZF_SHOWN bytes. */
static const char *shown(char buf[ZF_SHOWN + 4], const char *t)
{
	size_t n = strlen(t);

	if (n <= ZF_SHOWN)
		return t;
	memcpy(buf, t, ZF_SHOWN);
	memcpy(buf + ZF_SHOWN, "...", 4);
	return buf;
}

/* ------------------------------------------------------------------------ */
/* Tokenizer                                                                */
/* ------------------------------------------------------------------------ */

static int text_put(struct zf_reader *rd, struct zf_src *src, char ch)
{
	if (rd->textlen >= rd->textcap) {
		size_t cap = rd->textcap ? rd->textcap * 2 : 4096;
		char *p;

		if (rd->textcap >= ZF_RECORD_MAX)
			return fail(rd, src->name, rd->rec_line, DDI_ELIMIT,
			            "record longer than %u bytes", ZF_RECORD_MAX);
		if (cap > ZF_RECORD_MAX)
			cap = ZF_RECORD_MAX;
		p = realloc(rd->text, cap);
		if (p == NULL)
			return fail(rd, src->name, rd->rec_line, DDI_ENOMEM, "out of memory");
		rd->text = p;
		rd->textcap = cap;
	}
	rd->text[rd->textlen++] = ch;
	return DDI_EOK;
}

static int tok_begin(struct zf_reader *rd, struct zf_src *src, bool quoted)
{
	if (rd->ntok == 0)
		rd->rec_line = src->line;
	if (rd->ntok >= rd->tokcap) {
		size_t cap = rd->tokcap ? rd->tokcap * 2 : 64;
		struct zf_tok *p = realloc(rd->toks, cap * sizeof(*p));

		/* Each token needs at least 2 bytes of text, so ZF_RECORD_MAX bounds the count too. */
		if (p == NULL)
			return fail(rd, src->name, rd->rec_line, DDI_ENOMEM, "out of memory");
		rd->toks = p;
		rd->tokcap = cap;
	}
	rd->toks[rd->ntok].off = rd->textlen;
	rd->toks[rd->ntok].quoted = quoted;
	rd->ntok++;
	return DDI_EOK;
}

static bool is_delim(char ch)
{
	return ch == ' ' || ch == '\t' || ch == '\r' || ch == '\n' || ch == ';' || ch == '(' ||
	       ch == ')';
}

/* Bytes no token may hold raw: NUL and control characters but tab. */
static int check_byte(struct zf_reader *rd, struct zf_src *src, unsigned char ch)
{
	if (ch == '\0')
		return fail(rd, src->name, src->line, DDI_ESYNTAX, "NUL byte in input");
	if (ch < 0x20 && ch != '\t')
		return fail(rd, src->name, src->line, DDI_ESYNTAX,
		            "control character 0x%02x in input (write it as \\DDD)", ch);
	if (ch == 0x7f)
		return fail(rd, src->name, src->line, DDI_ESYNTAX,
		            "control character 0x7f in input (write it as \\DDD)");
	return DDI_EOK;
}

/* Backslash and the byte it escapes, both kept: the consumers undo escapes. */
static int take_escape(struct zf_reader *rd, struct zf_src *src)
{
	int r;

	src->pos++;
	if (src->pos >= src->len || src->buf[src->pos] == '\n' || src->buf[src->pos] == '\r')
		return fail(rd, src->name, src->line, DDI_ESYNTAX, "backslash at end of line");
	if ((r = check_byte(rd, src, (unsigned char)src->buf[src->pos])) < 0 ||
	    (r = text_put(rd, src, '\\')) < 0 || (r = text_put(rd, src, src->buf[src->pos])) < 0)
		return r;
	src->pos++;
	return DDI_EOK;
}

static int quoted_token(struct zf_reader *rd, struct zf_src *src)
{
	unsigned start = src->line;
	int r;

	if ((r = tok_begin(rd, src, true)) < 0)
		return r;
	src->pos++;   /* the opening quote */
	for (;;) {
		char ch;

		if (src->pos >= src->len || src->buf[src->pos] == '\n')
			return fail(rd, src->name, start, DDI_ESYNTAX, "unterminated quoted string");
		ch = src->buf[src->pos];
		if (ch == '"')
			break;
		if (ch == '\\') {
			if ((r = take_escape(rd, src)) < 0)
				return r;
			continue;
		}
		if ((r = check_byte(rd, src, (unsigned char)ch)) < 0 || (r = text_put(rd, src, ch)) < 0)
			return r;
		src->pos++;
	}
	src->pos++;   /* the closing quote */
	if (src->pos < src->len && !is_delim(src->buf[src->pos]))
		return fail(rd, src->name, src->line, DDI_ESYNTAX,
		            "expected a blank after the closing quote");
	return text_put(rd, src, '\0');
}

static int plain_token(struct zf_reader *rd, struct zf_src *src)
{
	int r;

	if ((r = tok_begin(rd, src, false)) < 0)
		return r;
	while (src->pos < src->len) {
		char ch = src->buf[src->pos];

		if (is_delim(ch))
			break;
		if (ch == '"')
			return fail(rd, src->name, src->line, DDI_ESYNTAX,
			            "unexpected '\"' inside a word (escape it as \\\")");
		if (ch == '\\') {
			if ((r = take_escape(rd, src)) < 0)
				return r;
			continue;
		}
		if ((r = check_byte(rd, src, (unsigned char)ch)) < 0 || (r = text_put(rd, src, ch)) < 0)
			return r;
		src->pos++;
	}
	return text_put(rd, src, '\0');
}

/*
 * Collect the tokens of the next record. Returns 1 with a record, 0 at the
 * end of the input, or a negative error.
 */
static int next_record(struct zf_reader *rd, struct zf_src *src)
{
	bool in_paren = false, line_start = true;
	unsigned paren_line = 0;
	int r;

	rd->ntok = 0;
	rd->textlen = 0;
	rd->rec_blank = false;
	for (;;) {
		char ch;

		if (src->pos >= src->len) {
			if (in_paren)
				return fail(rd, src->name, paren_line, DDI_ESYNTAX,
				            "'(' is not closed before the end of the file");
			return rd->ntok > 0 ? 1 : 0;
		}
		ch = src->buf[src->pos];
		if (line_start) {
			line_start = false;
			/* The owner field is positional: only a record's first line decides. */
			if (!in_paren && rd->ntok == 0)
				rd->rec_blank = ch == ' ' || ch == '\t';
		}
		switch (ch) {
		case '\n':
			src->pos++;
			src->line++;
			line_start = true;
			if (!in_paren && rd->ntok > 0)
				return 1;
			continue;
		case ' ':
		case '\t':
		case '\r':
			src->pos++;
			continue;
		case ';':
			while (src->pos < src->len && src->buf[src->pos] != '\n') {
				if (src->buf[src->pos] == '\0')
					return fail(rd, src->name, src->line, DDI_ESYNTAX, "NUL byte in input");
				src->pos++;
			}
			continue;
		case '(':
			if (in_paren)
				return fail(rd, src->name, src->line, DDI_ESYNTAX, "nested '('");
			in_paren = true;
			paren_line = src->line;
			if (rd->ntok == 0)
				rd->rec_line = src->line;
			src->pos++;
			continue;
		case ')':
			if (!in_paren)
				return fail(rd, src->name, src->line, DDI_ESYNTAX, "')' without '('");
			in_paren = false;
			src->pos++;
			continue;
		case '"':
			r = quoted_token(rd, src);
			break;
		default:
			r = plain_token(rd, src);
			break;
		}
		if (r < 0)
			return r;
	}
}

/* ------------------------------------------------------------------------ */
/* Records and directives                                                   */
/* ------------------------------------------------------------------------ */

static const char *tok(const struct zf_reader *rd, size_t i)
{
	return rd->text + rd->toks[i].off;
}

static int build_fields(struct zf_reader *rd, struct zf_src *src)
{
	if (rd->ntok > rd->fieldcap) {
		const char **f = realloc(rd->fields, rd->tokcap * sizeof(*f));
		bool *q;

		if (f == NULL)
			return fail(rd, src->name, rd->rec_line, DDI_ENOMEM, "out of memory");
		rd->fields = f;
		q = realloc(rd->quoted, rd->tokcap * sizeof(*q));
		if (q == NULL)
			return fail(rd, src->name, rd->rec_line, DDI_ENOMEM, "out of memory");
		rd->quoted = q;
		rd->fieldcap = rd->tokcap;
	}
	for (size_t i = 0; i < rd->ntok; i++) {
		rd->fields[i] = tok(rd, i);
		rd->quoted[i] = rd->toks[i].quoted;
	}
	return DDI_EOK;
}

/* IN, CH, CS, HS, NONE, ANY, CLASSnnn -> class number; 0 when not a class. */
static uint16_t class_from_str(const char *s)
{
	static const struct { const char *name; uint16_t cls; } classes[] = {
		{ "IN", DNS_CLASS_IN }, { "CS", 2 }, { "CH", DNS_CLASS_CH }, { "HS", 4 },
		{ "NONE", DNS_CLASS_NONE }, { "ANY", DNS_CLASS_ANY },
	};
	size_t n = strlen(s);

	for (size_t i = 0; i < sizeof(classes) / sizeof(classes[0]); i++)
		if (strcasecmp(s, classes[i].name) == 0)
			return classes[i].cls;
	/* RFC 3597 5: CLASSnnn. */
	if (n > 5 && n <= 10 && strncasecmp(s, "CLASS", 5) == 0) {
		unsigned long v = 0;

		for (size_t i = 5; i < n; i++) {
			if (s[i] < '0' || s[i] > '9')
				return 0;
			v = v * 10 + (unsigned long)(s[i] - '0');
		}
		return v >= 1 && v <= 65535 ? (uint16_t)v : 0;
	}
	return 0;
}

static int parse_name_tok(struct zf_reader *rd, struct zf_src *src, size_t i, uint8_t *out,
                          const char *what)
{
	char b[ZF_SHOWN + 4];
	int r;

	if (i >= rd->ntok)
		return fail(rd, src->name, rd->rec_line, DDI_ESYNTAX, "expected %s, got nothing", what);
	if (rd->toks[i].quoted)
		return fail(rd, src->name, rd->rec_line, DDI_ESYNTAX,
		            "expected %s, got a quoted string", what);
	r = dns_name_from_str(out, tok(rd, i), strlen(tok(rd, i)), rd->origin);
	if (r < 0)
		return fail(rd, src->name, rd->rec_line, DDI_ESYNTAX, "expected %s, got '%s' (%s)",
		            what, shown(b, tok(rd, i)), ddi_strerror(r));
	return r;
}

/* The directory part of `name` with a trailing '/', or "" when it has none. */
static size_t dir_len(const char *name)
{
	const char *slash = strrchr(name, '/');

	return slash ? (size_t)(slash - name) + 1 : 0;
}

static int read_path(struct zf_reader *rd, const char *path, const char *shown_name,
                     struct zf_src *from, int depth);

static int do_include(struct zf_reader *rd, struct zf_src *src, int depth)
{
	uint8_t save_origin[DNS_NAME_MAXLEN], save_owner[DNS_NAME_MAXLEN];
	uint8_t new_origin[DNS_NAME_MAXLEN];
	char path[4096];
	bool save_have_owner = rd->have_owner, have_new_origin = false;
	const char *file;
	size_t dl, fl;
	int r;

	if (!rd->opt->allow_include)
		return fail(rd, src->name, rd->rec_line, DDI_EINCLUDE,
		            "$INCLUDE is not allowed (includes are disabled for this load)");
	if (rd->ntok < 2 || rd->ntok > 3)
		return fail(rd, src->name, rd->rec_line, DDI_ESYNTAX,
		            "expected $INCLUDE FILE [ORIGIN]");
	if (depth + 1 > ZF_INCLUDE_DEPTH)
		return fail(rd, src->name, rd->rec_line, DDI_ELIMIT,
		            "$INCLUDE nested deeper than %d files", ZF_INCLUDE_DEPTH);
	file = tok(rd, 1);
	fl = strlen(file);
	dl = file[0] == '/' ? 0 : dir_len(src->name);
	if (fl == 0 || dl + fl >= sizeof(path))
		return fail(rd, src->name, rd->rec_line, DDI_ESYNTAX, "bad $INCLUDE file name");
	memcpy(path, src->name, dl);
	memcpy(path + dl, file, fl + 1);
	if (rd->ntok == 3) {
		if ((r = parse_name_tok(rd, src, 2, new_origin, "an origin after the file name")) < 0)
			return r;
		have_new_origin = true;
	}

	memcpy(save_origin, rd->origin, sizeof(save_origin));
	memcpy(save_owner, rd->owner, sizeof(save_owner));
	if (have_new_origin)
		memcpy(rd->origin, new_origin, sizeof(new_origin));
	r = read_path(rd, path, path, src, depth + 1);
	memcpy(rd->origin, save_origin, sizeof(save_origin));
	memcpy(rd->owner, save_owner, sizeof(save_owner));
	rd->have_owner = save_have_owner;
	return r;
}

static int do_directive(struct zf_reader *rd, struct zf_src *src, int depth)
{
	const char *d = tok(rd, 0);
	char b[ZF_SHOWN + 4];
	int r;

	if (strcasecmp(d, "$ORIGIN") == 0) {
		uint8_t name[DNS_NAME_MAXLEN];

		if ((r = parse_name_tok(rd, src, 1, name, "a domain name after $ORIGIN")) < 0)
			return r;
		if (rd->ntok > 2)
			return fail(rd, src->name, rd->rec_line, DDI_ESYNTAX,
			            "expected end of line after $ORIGIN NAME, got '%s'", shown(b, tok(rd, 2)));
		memcpy(rd->origin, name, (size_t)r);
		return DDI_EOK;
	}
	if (strcasecmp(d, "$TTL") == 0) {
		uint32_t ttl;

		if (rd->ntok != 2 || rd->toks[1].quoted)
			return fail(rd, src->name, rd->rec_line, DDI_ESYNTAX, "expected $TTL VALUE");
		r = dns_ttl_from_str(&ttl, tok(rd, 1), strlen(tok(rd, 1)));
		if (r == DDI_ETTL)
			return fail(rd, src->name, rd->rec_line, DDI_ETTL,
			            "TTL '%s' is out of range (0..2147483647)", shown(b, tok(rd, 1)));
		if (r < 0)
			return fail(rd, src->name, rd->rec_line, DDI_ESYNTAX,
			            "expected a TTL after $TTL, got '%s'", shown(b, tok(rd, 1)));
		rd->dir_ttl = ttl;
		rd->have_dir_ttl = true;
		return DDI_EOK;
	}
	if (strcasecmp(d, "$INCLUDE") == 0)
		return do_include(rd, src, depth);
	return fail(rd, src->name, rd->rec_line, DDI_ESYNTAX, "unknown directive '%s'", shown(b, d));
}

static int do_record(struct zf_reader *rd, struct zf_src *src)
{
	static const char *const expect[2][2] = {
		/* [have_ttl][have_class] */
		{ "a TTL, class or type", "a TTL or type" },
		{ "a class or type", "a type" },
	};
	struct dns_rr *rr = rd->rr;
	char b[ZF_SHOWN + 4], msg[200];
	bool have_ttl = false, have_class = false;
	uint32_t ttl = 0;
	uint16_t type = 0;
	size_t i = 0;
	int r;

	if (rd->rec_blank) {
		if (!rd->have_owner)
			return fail(rd, src->name, rd->rec_line, DDI_ESYNTAX,
			            "no previous owner to inherit (the line starts with a blank)");
		memcpy(rr->owner, rd->owner, sizeof(rr->owner));
	} else {
		if ((r = parse_name_tok(rd, src, 0, rr->owner, "an owner name")) < 0)
			return r;
		memcpy(rd->owner, rr->owner, (size_t)r);
		rd->have_owner = true;
		i = 1;
	}

	/* [TTL] [class] type, TTL and class in either order (RFC 1035 5.1). */
	for (; i < rd->ntok; i++) {
		const char *t = tok(rd, i);
		uint16_t cls;

		if (rd->toks[i].quoted)
			break;
		if (!have_ttl && t[0] >= '0' && t[0] <= '9') {
			r = dns_ttl_from_str(&ttl, t, strlen(t));
			if (r == DDI_ETTL)
				return fail(rd, src->name, rd->rec_line, DDI_ETTL,
				            "TTL '%s' is out of range (0..2147483647)", shown(b, t));
			if (r < 0)
				break;
			have_ttl = true;
			continue;
		}
		if (!have_class && (cls = class_from_str(t)) != 0) {
			if (cls != DNS_CLASS_IN)
				return fail(rd, src->name, rd->rec_line, DDI_ESYNTAX,
				            "class %s is not supported, only IN", shown(b, t));
			have_class = true;
			continue;
		}
		type = dns_type_from_str(t, strlen(t));
		break;
	}
	if (type == 0) {
		if (i >= rd->ntok)
			return fail(rd, src->name, rd->rec_line, DDI_ESYNTAX, "expected %s, got nothing",
			            expect[have_ttl][have_class]);
		if (rd->toks[i].quoted)
			return fail(rd, src->name, rd->rec_line, DDI_ESYNTAX,
			            "expected %s, got a quoted string", expect[have_ttl][have_class]);
		return fail(rd, src->name, rd->rec_line, DDI_ESYNTAX, "expected %s, got '%s'",
		            expect[have_ttl][have_class], shown(b, tok(rd, i)));
	}
	if (dns_type_is_meta(type))
		return fail(rd, src->name, rd->rec_line, DDI_ESYNTAX,
		            "type %s cannot be used in a zone file", dns_type_name(type));
	i++;

	if ((r = build_fields(rd, src)) < 0)
		return r;
	r = dns_rdata_from_str(rr->rdata, sizeof(rr->rdata), type, rd->fields + i, rd->quoted + i,
	                       (int)(rd->ntok - i), rd->origin, msg, sizeof(msg));
	if (r < 0)
		return fail(rd, src->name, rd->rec_line, r == DDI_ESPACE ? DDI_ERDATA : r, "bad %s rdata: %s",
		            dns_type_name(type), msg);
	rr->rdlen = (uint16_t)r;
	rr->type = type;
	rr->rclass = DNS_CLASS_IN;
	if (!have_ttl)
		ttl = rd->have_dir_ttl ? rd->dir_ttl
		      : rd->opt->default_ttl ? rd->opt->default_ttl : 3600;
	rr->ttl = ttl;

	if (rd->opt->require_in_zone && !dns_name_is_sub(rr->owner, rd->opt->origin)) {
		char owner[DNS_NAME_STRLEN], zone[DNS_NAME_STRLEN];

		if (dns_name_to_str(owner, sizeof(owner), rr->owner) < 0)
			owner[0] = '\0';
		if (dns_name_to_str(zone, sizeof(zone), rd->opt->origin) < 0)
			zone[0] = '\0';
		return fail(rd, src->name, rd->rec_line, DDI_EOUTZONE,
		            "owner %.100s is outside the zone %.100s", owner, zone);
	}

	r = rd->cb ? rd->cb(rd->ctx, rr) : 0;
	if (r != 0)
		return fail(rd, src->name, rd->rec_line, r, "stopped by the record callback (%d)", r);
	return DDI_EOK;
}

static int read_src(struct zf_reader *rd, struct zf_src *src, int depth)
{
	int r;

	while ((r = next_record(rd, src)) > 0) {
		const char *t0 = tok(rd, 0);

		/* A directive starts in column one; "$" elsewhere is data. */
		if (!rd->rec_blank && !rd->toks[0].quoted && t0[0] == '$')
			r = do_directive(rd, src, depth);
		else
			r = do_record(rd, src);
		if (r != 0)
			return r;
	}
	return r;
}

/* ------------------------------------------------------------------------ */
/* Entry points                                                             */
/* ------------------------------------------------------------------------ */

/* Read a whole file; any size up to ZF_FILE_MAX, regular file or not. */
static int slurp(const char *path, char **out, size_t *outlen)
{
	FILE *f = fopen(path, "rb");
	char *buf = NULL;
	size_t len = 0, cap = 0;
	int r = DDI_EOK;

	if (f == NULL)
		return -errno;
	for (;;) {
		size_t n;

		if (len == cap) {
			size_t ncap = cap ? cap * 2 : 65536;
			char *p;

			if (cap >= ZF_FILE_MAX) {
				r = DDI_ELIMIT;
				break;
			}
			p = realloc(buf, ncap);
			if (p == NULL) {
				r = DDI_ENOMEM;
				break;
			}
			buf = p;
			cap = ncap;
		}
		n = fread(buf + len, 1, cap - len, f);
		len += n;
		if (n == 0) {
			if (ferror(f))
				r = DDI_EIO;
			break;
		}
	}
	fclose(f);
	if (r < 0) {
		free(buf);
		return r;
	}
	*out = buf;
	*outlen = len;
	return DDI_EOK;
}

static int read_path(struct zf_reader *rd, const char *path, const char *shown_name,
                     struct zf_src *from, int depth)
{
	struct zf_src src = { .name = shown_name, .line = 1 };
	char *buf = NULL;
	int r = slurp(path, &buf, &src.len);

	if (r < 0) {
		const char *why = r == DDI_ELIMIT ? "file too large" : ddi_strerror(r);

		if (from != NULL)
			return fail(rd, from->name, rd->rec_line, r, "cannot read $INCLUDE file %.150s: %s",
			            path, why);
		return fail(rd, shown_name, 0, r, "cannot read: %s", why);
	}
	src.buf = buf;
	r = read_src(rd, &src, depth);
	free(buf);
	return r;
}

static int reader_init(struct zf_reader *rd, const struct zf_options *opt, zf_record_cb cb,
                       void *ctx, struct zf_error *err, const char *name)
{
	int n;

	memset(rd, 0, sizeof(*rd));
	memset(err, 0, sizeof(*err));
	rd->opt = opt;
	rd->cb = cb;
	rd->ctx = ctx;
	rd->err = err;
	if (opt == NULL || opt->origin == NULL ||
	    (n = dns_name_check(opt->origin, DNS_NAME_MAXLEN)) < 0)
		return fail(rd, name, 0, DDI_EINVAL, "no valid origin given");
	memcpy(rd->origin, opt->origin, (size_t)n);
	rd->rr = malloc(sizeof(*rd->rr));
	if (rd->rr == NULL)
		return fail(rd, name, 0, DDI_ENOMEM, "out of memory");
	return DDI_EOK;
}

static void reader_free(struct zf_reader *rd)
{
	free(rd->rr);
	free(rd->text);
	free(rd->toks);
	free(rd->fields);
	free(rd->quoted);
}

int zf_read_file(const char *path, const struct zf_options *opt, zf_record_cb cb, void *ctx,
                 struct zf_error *err)
{
	struct zf_error dummy;
	struct zf_reader rd;
	int r;

	if (err == NULL)
		err = &dummy;
	if (path == NULL) {
		memset(err, 0, sizeof(*err));
		err->code = DDI_EINVAL;
		snprintf(err->msg, sizeof(err->msg), "no file name given");
		return DDI_EINVAL;
	}
	r = reader_init(&rd, opt, cb, ctx, err, path);
	if (r == 0)
		r = read_path(&rd, path, path, NULL, 0);
	reader_free(&rd);
	return r;
}

int zf_read_string(const char *text, size_t len, const char *name, const struct zf_options *opt,
                   zf_record_cb cb, void *ctx, struct zf_error *err)
{
	struct zf_error dummy;
	struct zf_reader rd;
	struct zf_src src = { .name = name ? name : "<string>", .buf = text, .len = len, .line = 1 };
	int r;

	if (err == NULL)
		err = &dummy;
	r = reader_init(&rd, opt, cb, ctx, err, src.name);
	if (r == 0 && text == NULL && len > 0)
		r = fail(&rd, src.name, 0, DDI_EINVAL, "no text given");
	if (r == 0)
		r = read_src(&rd, &src, 0);
	reader_free(&rd);
	return r;
}

int zf_write_rr(FILE *out, const uint8_t *owner, uint16_t type, uint32_t ttl,
                const uint8_t *rdata, uint16_t rdlen)
{
	char name[DNS_NAME_STRLEN];
	/* Worst case: TXT with every byte as \DDD, or two names in presentation form. */
	size_t cap = 4 * (size_t)rdlen + 2 * DNS_NAME_STRLEN + 64;
	char *text;
	int r;

	if (out == NULL || owner == NULL)
		return DDI_EINVAL;
	if ((r = dns_name_to_str(name, sizeof(name), owner)) < 0)
		return r;
	text = malloc(cap);
	if (text == NULL)
		return DDI_ENOMEM;
	r = dns_rdata_to_str(text, cap, type, rdata, rdlen);
	if (r >= 0)
		r = fprintf(out, "%s %u IN %s %s\n", name, (unsigned)ttl, dns_type_name(type), text) < 0
		    ? DDI_EIO : DDI_EOK;
	free(text);
	return r;
}
