/* ipam_csv -- NetBox-style CSV import and export of prefixes and IP addresses (RFC 4180) */
#include "control/ipam/csv.h"

#include <ctype.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>

#include "dns/errcode.h"

/*
 * Bounds on one row, so that a hostile file cannot make the reader grow:
 * a description is at most 200 bytes, a NetBox export has a few dozen
 * columns; these leave room for both.
 */
#define CSV_MAX_FIELDS 96
#define CSV_MAX_RECORD 16384

/* ------------------------------------------------------------------------ */
/* RFC 4180 records                                                         */
/* ------------------------------------------------------------------------ */

struct src {
	FILE *f;                 /* or: */
	const char *buf;
	size_t len, pos;
	unsigned long line;      /* current physical line, 1-based */
};

static int src_getc(struct src *s)
{
	int c;
	if (s->f != NULL)
		c = getc_unlocked(s->f);
	else
		c = s->pos < s->len ? (unsigned char)s->buf[s->pos++] : EOF;
	if (c == '\n')
		s->line++;
	return c;
}

struct rec {
	char buf[CSV_MAX_RECORD];
	size_t len;
	size_t off[CSV_MAX_FIELDS];
	size_t nf;
	unsigned long line;      /* where the record starts */
	bool blank;              /* an empty line: ends a table */
};

static bool rec_put(struct rec *r, char c)
{
	if (r->len >= sizeof(r->buf))
		return false;
	r->buf[r->len++] = c;
	return true;
}

/* End the current field (NUL-terminate it) and open the next one if `more`. */
static bool rec_field_end(struct rec *r, bool more)
{
	if (!rec_put(r, '\0'))
		return false;
	if (more) {
		if (r->nf >= CSV_MAX_FIELDS)
			return false;
		r->off[r->nf++] = r->len;
	}
	return true;
}

/*
 * Read one record. Returns 1, 0 at the end of input (nothing read), or
 * DDI_ESYNTAX with err->msg set (without the "file:line: " part; the
 * record's first line is in r->line).
 */
static int read_record(struct src *s, struct rec *r, struct ipam_error *err)
{
	enum { FIELD_START, UNQUOTED, QUOTED, QUOTE_IN_QUOTED } st = FIELD_START;
	bool any = false, quoted_any = false;

	r->len = 0;
	r->nf = 1;
	r->off[0] = 0;
	r->line = s->line;
	r->blank = false;
	for (;;) {
		int c = src_getc(s);
		if (c == EOF) {
			if (st == QUOTED)
				return ipam_fail(err, DDI_ESYNTAX, "a quoted field is not closed");
			if (!any)
				return 0;
			if (!rec_field_end(r, false))
				goto toolong;
			return 1;
		}
		any = true;
		if (c == '\0')
			return ipam_fail(err, DDI_ESYNTAX, "NUL byte in the file");
		switch (st) {
		case FIELD_START:
			if (c == '"') {
				st = QUOTED;
				quoted_any = true;
				continue;
			}
			st = UNQUOTED;
			/* fall through */
		case UNQUOTED:
			if (c == ',') {
				if (!rec_field_end(r, true))
					goto toolong;
				st = FIELD_START;
			} else if (c == '\n' || c == '\r') {
				if (c == '\r' && src_getc(s) != '\n')
					return ipam_fail(err, DDI_ESYNTAX, "carriage return not followed by a line feed");
				r->blank = r->nf == 1 && r->len == 0 && !quoted_any;
				if (!rec_field_end(r, false))
					goto toolong;
				return 1;
			} else if (c == '"') {
				return ipam_fail(err, DDI_ESYNTAX,
				            "a quote inside an unquoted field (quote the whole field)");
			} else if (!rec_put(r, (char)c)) {
				goto toolong;
			}
			continue;
		case QUOTED:
			if (c == '"')
				st = QUOTE_IN_QUOTED;
			else if (!rec_put(r, (char)c))
				goto toolong;
			continue;
		case QUOTE_IN_QUOTED:
			if (c == '"') {
				if (!rec_put(r, '"'))
					goto toolong;
				st = QUOTED;
			} else if (c == ',') {
				if (!rec_field_end(r, true))
					goto toolong;
				st = FIELD_START;
			} else if (c == '\n' || c == '\r') {
				if (c == '\r' && src_getc(s) != '\n')
					return ipam_fail(err, DDI_ESYNTAX, "carriage return not followed by a line feed");
				if (!rec_field_end(r, false))
					goto toolong;
				return 1;
			} else {
				return ipam_fail(err, DDI_ESYNTAX, "characters after a closing quote");
			}
			continue;
		}
	}
toolong:
	return ipam_fail(err, DDI_ESYNTAX, "row longer than %d bytes or %d columns", CSV_MAX_RECORD,
	            CSV_MAX_FIELDS);
}

static const char *rec_field(const struct rec *r, size_t i)
{
	return r->buf + r->off[i];
}

/* ------------------------------------------------------------------------ */
/* Headers                                                                  */
/* ------------------------------------------------------------------------ */

enum col {
	COL_IGNORE = 0,
	COL_PREFIX,
	COL_ADDRESS,
	COL_STATUS,
	COL_DESC,
	COL_ZONE,
	COL_POLICY,
	COL_VRF,
	COL_DNS_NAME,
	COL_MAC,
	COL_CLIENTID,
	COL_OWNER,
	COL_EXPIRES,
	COL_TAGS,
	COL_TENANT,
	COL_FIELD,     /* a custom field: its key in table.keys */
	COL_COUNT,
};

static const struct {
	const char *name;
	enum col col;
} col_names[] = {
	{"prefix", COL_PREFIX},
	{"address", COL_ADDRESS},
	{"ip_address", COL_ADDRESS},   /* NetBox's table export: "IP Address" */
	{"status", COL_STATUS},
	{"description", COL_DESC},
	{"dns_zone", COL_ZONE},
	{"zone", COL_ZONE},
	{"dns_policy", COL_POLICY},
	{"vrf", COL_VRF},
	{"dns_name", COL_DNS_NAME},
	{"mac_address", COL_MAC},
	{"mac", COL_MAC},
	{"client_id", COL_CLIENTID},
	{"owner", COL_OWNER},
	{"lease_expires", COL_EXPIRES},
	{"tags", COL_TAGS},
	{"tenant", COL_TENANT},
};

/* NetBox export columns that carry nothing ddiplane keeps. */
static const char *const ignored_names[] = {
	"id", "tenant_group", "site", "site_group", "region", "location", "vlan",
	"vlan_group", "role", "comments", "created", "last_updated", "is_pool",
	"mark_utilized", "scope_type", "scope_id", "scope", "family", "depth", "children",
	"utilization", "display", "url", "assigned_object_type", "assigned_object_id",
	"assigned_object", "assigned", "interface", "device", "virtual_machine", "parent",
	"nat_inside", "nat_outside", "is_primary", "is_oob", "fhrp_group", "contacts",
	"mask_length", "vrf_rd",
};

struct table {
	enum ipam_csv_kind kind;
	size_t ncols;
	enum col cols[CSV_MAX_FIELDS];
	char names[CSV_MAX_FIELDS][48];   /* the header as written, for messages */
	char keys[CSV_MAX_FIELDS][IPAM_FIELD_KEY_MAX + 1];   /* of COL_FIELD columns */
	size_t nignored;
	char ignored[CSV_MAX_FIELDS][48]; /* names of the columns not kept */
};

/* Lower-case, trimmed, spaces as '_', "cf_" dropped; false if too long. */
static bool normalize(const char *in, char *out, size_t outlen, bool *custom)
{
	while (*in == ' ')
		in++;
	size_t n = strlen(in);
	while (n > 0 && in[n - 1] == ' ')
		n--;
	*custom = n > 3 && strncasecmp(in, "cf_", 3) == 0;
	if (*custom) {
		in += 3;
		n -= 3;
	}
	if (n >= outlen)
		return false;
	for (size_t i = 0; i < n; i++)
		out[i] = in[i] == ' ' ? '_' : (char)tolower((unsigned char)in[i]);
	out[n] = '\0';
	return true;
}

static bool col_allowed(enum ipam_csv_kind kind, enum col c)
{
	switch (c) {
	case COL_IGNORE: case COL_STATUS: case COL_DESC: case COL_VRF:
	case COL_TAGS: case COL_TENANT: case COL_FIELD:
		return true;
	case COL_PREFIX: case COL_ZONE: case COL_POLICY:
		return kind == IPAM_CSV_PREFIXES;
	default:
		return kind == IPAM_CSV_ADDRESSES;
	}
}

static int parse_header(const struct rec *r, struct table *t, struct ipam_error *err)
{
	char sb[80], norm[64];
	bool seen[COL_COUNT] = {false};

	memset(t, 0, sizeof(*t));
	t->ncols = r->nf;
	for (size_t i = 0; i < r->nf; i++) {
		const char *h = rec_field(r, i);
		bool custom, known = false;
		snprintf(t->names[i], sizeof(t->names[i]), "%.*s", (int)sizeof(t->names[i]) - 1, ipam_shown(h, sb));
		if (!normalize(h, norm, sizeof(norm), &custom))
			return ipam_fail(err, DDI_ESYNTAX, "unknown column '%s'", ipam_shown(h, sb));
		t->cols[i] = COL_IGNORE;
		for (size_t k = 0; k < sizeof(col_names) / sizeof(col_names[0]); k++)
			if (strcmp(norm, col_names[k].name) == 0) {
				t->cols[i] = col_names[k].col;
				known = true;
			}
		for (size_t k = 0; !known && k < sizeof(ignored_names) / sizeof(ignored_names[0]); k++)
			if (strcmp(norm, ignored_names[k]) == 0)
				known = true;
		if (!known && !custom)
			return ipam_fail(err, DDI_ESYNTAX, "unknown column '%s'", ipam_shown(h, sb));
		if (!known) {
			/* Another custom field: kept as one, under its NetBox name. */
			struct ipam_meta probe = {0};
			struct ipam_error e;
			if (ipam_meta_field_set(&probe, norm, "x", &e) != DDI_EOK)
				return ipam_fail(err, DDI_ESYNTAX, "column '%s': %s", ipam_shown(h, sb), e.msg);
			for (size_t k = 0; k < i; k++)
				if (t->cols[k] == COL_FIELD && strcmp(t->keys[k], norm) == 0)
					return ipam_fail(err, DDI_ESYNTAX, "column '%s' appears twice",
					                 ipam_shown(h, sb));
			t->cols[i] = COL_FIELD;
			snprintf(t->keys[i], sizeof(t->keys[i]), "%.50s", norm);
			continue;
		}
		if (t->cols[i] == COL_IGNORE) {
			snprintf(t->ignored[t->nignored++], sizeof(t->ignored[0]), "%s", t->names[i]);
			continue;
		}
		if (t->cols[i] != COL_FIELD) {
			if (seen[t->cols[i]])
				return ipam_fail(err, DDI_ESYNTAX, "column '%s' appears twice", ipam_shown(h, sb));
			seen[t->cols[i]] = true;
		}
	}
	if (seen[COL_PREFIX] && seen[COL_ADDRESS])
		return ipam_fail(err, DDI_ESYNTAX,
		            "a header with both 'prefix' and 'address' (one table per kind)");
	if (!seen[COL_PREFIX] && !seen[COL_ADDRESS])
		return ipam_fail(err, DDI_ESYNTAX, "the header has neither a 'prefix' nor an 'address' column");
	t->kind = seen[COL_PREFIX] ? IPAM_CSV_PREFIXES : IPAM_CSV_ADDRESSES;
	for (size_t i = 0; i < t->ncols; i++)
		if (!col_allowed(t->kind, t->cols[i]))
			return ipam_fail(err, DDI_ESYNTAX, "column '%s' does not belong in a%s table",
			            t->names[i], t->kind == IPAM_CSV_PREFIXES ? " prefixes" : "n addresses");
	return DDI_EOK;
}

/* ------------------------------------------------------------------------ */
/* Values                                                                   */
/* ------------------------------------------------------------------------ */

static void lower(const char *in, char *out, size_t outlen)
{
	size_t i = 0;
	for (; in[i] != '\0' && i + 1 < outlen; i++)
		out[i] = (char)tolower((unsigned char)in[i]);
	out[i] = '\0';
}

/* A domain name, absolute with or without the final dot. */
static int parse_dname(const char *v, uint8_t *out, uint8_t *len, struct ipam_error *err)
{
	char sb[80];
	int r = dns_name_from_str(out, v, strlen(v), NULL);
	if (r < 0)
		return ipam_fail(err, DDI_ESYNTAX, "'%s' is not a domain name (%s)", ipam_shown(v, sb),
		            ddi_strerror(r));
	*len = (uint8_t)r;
	return DDI_EOK;
}

static int parse_text(const char *v, char *out, size_t max, struct ipam_error *err)
{
	size_t n = strlen(v);
	if (n > max)
		return ipam_fail(err, DDI_ESYNTAX, "longer than %zu bytes", max);
	memcpy(out, v, n + 1);
	return DDI_EOK;
}

/* "YYYY-MM-DDTHH:MM:SSZ" (UTC) or unix seconds. */
static int parse_time(const char *v, uint64_t *out, struct ipam_error *err)
{
	char sb[80];
	size_t n = strlen(v);
	bool digits = n > 0 && n <= 19;
	for (size_t i = 0; digits && i < n; i++)
		digits = v[i] >= '0' && v[i] <= '9';
	if (digits) {
		*out = strtoull(v, NULL, 10);
		if (*out <= INT64_MAX)
			return DDI_EOK;
	}
	/* Every position checked by hand: sscanf would take signs and spaces. */
	static const char shape[] = "dddd-dd-ddTdd:dd:ddZ";
	bool ok = n == sizeof(shape) - 1;
	for (size_t i = 0; ok && i < n; i++)
		ok = shape[i] == 'd' ? (v[i] >= '0' && v[i] <= '9') : v[i] == shape[i];
	if (ok) {
#define NUM2(i) ((v[i] - '0') * 10 + (v[(i) + 1] - '0'))
		int y = NUM2(0) * 100 + NUM2(2), mo = NUM2(5), d = NUM2(8);
		int h = NUM2(11), mi = NUM2(14), sec = NUM2(17);
#undef NUM2
		struct tm tm = {.tm_year = y - 1900, .tm_mon = mo - 1, .tm_mday = d,
		                .tm_hour = h, .tm_min = mi, .tm_sec = sec};
		time_t t = timegm(&tm);
		/* timegm normalizes 31 February into March: refuse what changed. */
		if (y >= 1970 && h <= 23 && mi <= 59 && sec <= 59 && t >= 0 && tm.tm_mday == d &&
		    tm.tm_mon == mo - 1 && tm.tm_year == y - 1900) {
			*out = (uint64_t)t;
			return DDI_EOK;
		}
	}
	return ipam_fail(err, DDI_ESYNTAX, "'%s' is not a time (YYYY-MM-DDTHH:MM:SSZ or unix seconds)",
	            ipam_shown(v, sb));
}

static int prefix_value(enum col c, const char *v, struct ipam_csv_row *row, struct ipam_error *err)
{
	struct ipam_prefix *p = &row->prefix;
	char lv[32], sb[80];
	int r;
	switch (c) {
	case COL_PREFIX:
		return ipam_cidr_parse(v, &p->cidr, err);
	case COL_STATUS:
		lower(v, lv, sizeof(lv));
		if (*v == '\0' || strcmp(lv, "container") == 0) {
			p->status = IPAM_STATUS_ACTIVE;
			return DDI_EOK;
		}
		r = ipam_status_parse(lv);
		if (r < 0 || strlen(v) >= sizeof(lv))
			return ipam_fail(err, DDI_ESYNTAX,
			            "'%s' is not a prefix status (active, reserved, deprecated)", ipam_shown(v, sb));
		p->status = (uint8_t)r;
		return DDI_EOK;
	case COL_DESC:
		return parse_text(v, p->description, IPAM_DESC_MAX, err);
	case COL_ZONE:
		if (*v == '\0')
			return DDI_EOK;
		return parse_dname(v, p->zone, &p->zone_len, err);
	case COL_POLICY:
		lower(v, lv, sizeof(lv));
		if (*v == '\0')
			return DDI_EOK;
		r = ipam_policy_parse(lv);
		if (r < 0 || strlen(v) >= sizeof(lv))
			return ipam_fail(err, DDI_ESYNTAX, "'%s' is not a DNS policy (strict, auto, off)",
			            ipam_shown(v, sb));
		p->policy = (uint8_t)r;
		return DDI_EOK;
	default:
		return DDI_EOK;
	}
}

static int alloc_value(enum col c, const char *v, struct ipam_csv_row *row, bool *has_status,
                       struct ipam_error *err)
{
	struct ipam_alloc *a = &row->alloc;
	char lv[32], sb[80];
	size_t n = 0;
	int r;
	switch (c) {
	case COL_ADDRESS: {
		struct ipam_cidr h;
		r = ipam_host_parse(v, &h, err);
		if (r != DDI_EOK)
			return r;
		a->family = h.family;
		memcpy(a->addr, h.addr, 16);
		row->mask = h.plen;
		return DDI_EOK;
	}
	case COL_STATUS:
		if (*v == '\0')
			return DDI_EOK;
		*has_status = true;
		lower(v, lv, sizeof(lv));
		if (strlen(v) >= sizeof(lv))
			lv[0] = '\0';
		if (strcmp(lv, "active") == 0 || strcmp(lv, "static") == 0)
			a->state = IPAM_STATE_STATIC;
		else if (strcmp(lv, "dhcp") == 0 || strcmp(lv, "slaac") == 0 || strcmp(lv, "dynamic") == 0)
			a->state = IPAM_STATE_DYNAMIC;
		else if (strcmp(lv, "reserved") == 0)
			a->state = IPAM_STATE_RESERVED;
		else if (strcmp(lv, "deprecated") == 0)
			return ipam_fail(err, DDI_ESYNTAX,
			            "status 'deprecated' is not kept for addresses (release the address, "
			            "or use reserved)");
		else
			return ipam_fail(err, DDI_ESYNTAX,
			            "'%s' is not an address status (active, reserved, dhcp, slaac)",
			            ipam_shown(v, sb));
		return DDI_EOK;
	case COL_DNS_NAME:
		if (*v == '\0')
			return DDI_EOK;
		return parse_dname(v, a->name, &a->name_len, err);
	case COL_DESC:
		return parse_text(v, a->description, IPAM_DESC_MAX, err);
	case COL_OWNER:
		return parse_text(v, a->owner, IPAM_OWNER_MAX, err);
	case COL_MAC:
		if (*v == '\0')
			return DDI_EOK;
		if (a->hw_type != IPAM_HW_NONE)
			return ipam_fail(err, DDI_ESYNTAX, "both a MAC address and a client id");
		r = ipam_mac_parse(v, a->hw, err);
		a->hw_type = IPAM_HW_MAC;
		a->hw_len = 6;
		return r;
	case COL_CLIENTID:
		if (*v == '\0')
			return DDI_EOK;
		if (a->hw_type != IPAM_HW_NONE)
			return ipam_fail(err, DDI_ESYNTAX, "both a MAC address and a client id");
		r = ipam_clientid_parse(v, a->hw, &n, err);
		a->hw_type = IPAM_HW_CLIENTID;
		a->hw_len = (uint8_t)n;
		return r;
	case COL_EXPIRES:
		if (*v == '\0')
			return DDI_EOK;
		return parse_time(v, &a->expires, err);
	default:
		return DDI_EOK;
	}
}

static int parse_row(const struct table *t, const struct rec *r, struct ipam_csv_row *row,
                     struct ipam_error *err)
{
	struct ipam_error e;
	bool has_status = false;
	char sb[80];

	if (r->nf != t->ncols)
		return ipam_fail(err, DDI_ESYNTAX, "%zu fields, the header has %zu", r->nf, t->ncols);
	row->kind = t->kind;
	row->line = r->line;
	row->nignored = t->nignored;
	row->ignored = t->ignored;
	/* only the record of this table: each is ~5 KiB with its metadata */
	if (t->kind == IPAM_CSV_PREFIXES)
		ipam_prefix_init(&row->prefix);
	else
		ipam_alloc_init(&row->alloc);
	row->mask = 0;
	for (size_t i = 0; i < t->ncols; i++) {
		const char *v = rec_field(r, i);
		int rc;
		if (t->cols[i] == COL_VRF) {
			if (*v != '\0')
				return ipam_fail(err, DDI_ESYNTAX,
				            "column '%s': VRF '%s' is not supported (ddiplane has one "
				            "global address space)", t->names[i], ipam_shown(v, sb));
			continue;
		}
		struct ipam_meta *m = t->kind == IPAM_CSV_PREFIXES ? &row->prefix.meta : &row->alloc.meta;
		if (t->cols[i] == COL_TAGS)
			rc = ipam_meta_tags_parse(m, v, &e);
		else if (t->cols[i] == COL_TENANT)
			rc = ipam_meta_set_tenant(m, v, &e);
		else if (t->cols[i] == COL_FIELD)
			rc = ipam_meta_field_set(m, t->keys[i], v, &e);
		else if (t->kind == IPAM_CSV_PREFIXES)
			rc = prefix_value(t->cols[i], v, row, &e);
		else
			rc = alloc_value(t->cols[i], v, row, &has_status, &e);
		if (rc != DDI_EOK)
			return ipam_fail(err, DDI_ESYNTAX, "column '%s': %s", t->names[i], e.msg);
	}
	if (t->kind == IPAM_CSV_PREFIXES) {
		if (ipam_prefix_check(&row->prefix, &e) != DDI_EOK)
			return ipam_fail(err, DDI_ESYNTAX, "%s", e.msg);
		return DDI_EOK;
	}
	if (!has_status)
		row->alloc.state = row->alloc.name_len ? IPAM_STATE_STATIC : IPAM_STATE_RESERVED;
	if (ipam_alloc_check(&row->alloc, &e) != DDI_EOK)
		return ipam_fail(err, DDI_ESYNTAX, "%s", e.msg);
	return DDI_EOK;
}

/* ------------------------------------------------------------------------ */
/* Reader                                                                   */
/* ------------------------------------------------------------------------ */

static int read_all(struct src *s, const char *fname, ipam_csv_cb cb, void *ctx,
                    struct ipam_error *err)
{
	/* ~16 KiB record + 4 KiB table + a row: heap, not stack, they are big. */
	struct state {
		struct rec r;
		struct table t;
		struct ipam_csv_row row;
	} *st = calloc(1, sizeof(*st));
	struct ipam_error e = {0};
	bool have_header = false;
	unsigned tables = 0;
	int rc;

	if (st == NULL)
		return ipam_fail(err, DDI_ENOMEM, "%s: out of memory", fname);
	/* A UTF-8 byte order mark, as spreadsheet programs write. */
	int c1 = src_getc(s);
	if (c1 == 0xef) {
		if (src_getc(s) != 0xbb || src_getc(s) != 0xbf) {
			rc = ipam_fail(err, DDI_ESYNTAX, "%s:1: a broken byte order mark", fname);
			goto out;
		}
	} else if (s->f != NULL) {
		if (c1 != EOF)
			ungetc(c1, s->f);
	} else if (c1 != EOF) {
		s->pos--;
		if (c1 == '\n')
			s->line--;
	}
	for (;;) {
		rc = read_record(s, &st->r, &e);
		if (rc < 0) {
			rc = ipam_fail(err, rc, "%s:%lu: %s", fname, st->r.line, e.msg);
			goto out;
		}
		if (rc == 0)
			break;
		if (st->r.blank) {
			have_header = false;   /* the next table starts */
			continue;
		}
		if (!have_header) {
			rc = parse_header(&st->r, &st->t, &e);
			if (rc != DDI_EOK) {
				rc = ipam_fail(err, rc, "%s:%lu: %s", fname, st->r.line, e.msg);
				goto out;
			}
			have_header = true;
			tables++;
			continue;
		}
		rc = parse_row(&st->t, &st->r, &st->row, &e);
		st->row.table = tables;
		if (rc == DDI_EOK) {
			e.msg[0] = '\0';
			rc = cb(ctx, &st->row, &e);
		}
		if (rc != DDI_EOK) {
			rc = ipam_fail(err, rc, "%s:%lu: %s", fname, st->r.line,
			          e.msg[0] ? e.msg : ddi_strerror(rc));
			goto out;
		}
	}
	if (s->f != NULL && ferror(s->f))
		rc = ipam_fail(err, DDI_EIO, "%s: read error", fname);
	else
		rc = DDI_EOK;
out:
	free(st);
	return rc;
}

int ipam_csv_read(FILE *in, const char *fname, ipam_csv_cb cb, void *ctx, struct ipam_error *err)
{
	struct src s = {.f = in, .line = 1};
	return read_all(&s, fname, cb, ctx, err);
}

int ipam_csv_read_mem(const char *buf, size_t len, const char *fname, ipam_csv_cb cb, void *ctx,
                      struct ipam_error *err)
{
	struct src s = {.buf = buf, .len = len, .line = 1};
	return read_all(&s, fname, cb, ctx, err);
}

/* ------------------------------------------------------------------------ */
/* Writers                                                                  */
/* ------------------------------------------------------------------------ */

/* One field, quoted when it must be (RFC 4180 2.6, and spaces kept at the ends). */
static void put_field(FILE *out, const char *v, bool last)
{
	size_t n = strlen(v);
	bool q = n > 0 && (strpbrk(v, ",\"\r\n") != NULL || v[0] == ' ' || v[n - 1] == ' ');
	if (q) {
		putc('"', out);
		for (const char *p = v; *p; p++) {
			if (*p == '"')
				putc('"', out);
			putc(*p, out);
		}
		putc('"', out);
	} else {
		fputs(v, out);
	}
	putc(last ? '\n' : ',', out);
}

/* A name as NetBox writes it: no final dot (the root stays "."). */
static void name_text(const uint8_t *name, size_t len, char *buf, size_t buflen)
{
	buf[0] = '\0';
	if (len == 0)
		return;
	int n = dns_name_to_str(buf, buflen, name);
	if (n > 1 && buf[n - 1] == '.')
		buf[n - 1] = '\0';
}

static int finish(FILE *out)
{
	return ferror(out) ? DDI_EIO : DDI_EOK;
}

int ipam_csv_keys_add(struct ipam_csv_keys *k, const struct ipam_meta *m)
{
	for (size_t f = 0; f < m->nfields; f++) {
		size_t i = 0;
		while (i < k->n && strcmp(k->key[i], m->fields[f].key) < 0)
			i++;
		if (i < k->n && strcmp(k->key[i], m->fields[f].key) == 0)
			continue;
		if (k->n == IPAM_CSV_KEYS_MAX)
			return DDI_ELIMIT;
		memmove(k->key[i + 1], k->key[i], (k->n - i) * sizeof(k->key[0]));
		snprintf(k->key[i], sizeof(k->key[i]), "%s", m->fields[f].key);
		k->n++;
	}
	return DDI_EOK;
}

/* The columns every table ends with: tags, tenant, cf_KEY... */
static void put_meta_header(FILE *out, const struct ipam_csv_keys *keys)
{
	fputs(",tags,tenant", out);
	for (size_t i = 0; keys && i < keys->n; i++)
		fprintf(out, ",cf_%s", keys->key[i]);
	putc('\n', out);
}

static void put_meta(FILE *out, const struct ipam_meta *m, const struct ipam_csv_keys *keys)
{
	char tags[IPAM_TAGS_STRLEN];
	ipam_meta_tags_join(m, tags);
	put_field(out, tags, false);
	put_field(out, m->tenant, !keys || keys->n == 0);
	for (size_t i = 0; keys && i < keys->n; i++) {
		const char *v = ipam_meta_field_get(m, keys->key[i]);
		put_field(out, v ? v : "", i + 1 == keys->n);
	}
}

int ipam_csv_write_prefix_header(FILE *out, const struct ipam_csv_keys *keys)
{
	fputs("prefix,status,description,dns_zone,dns_policy", out);
	put_meta_header(out, keys);
	return finish(out);
}

int ipam_csv_write_prefix(FILE *out, const struct ipam_prefix *p, const struct ipam_csv_keys *keys)
{
	char c[IPAM_CIDR_STRLEN], z[DNS_NAME_STRLEN];
	if (ipam_prefix_check(p, NULL) != DDI_EOK || ipam_cidr_format(&p->cidr, c, sizeof(c)) < 0)
		return DDI_EINVAL;
	name_text(p->zone, p->zone_len, z, sizeof(z));
	put_field(out, c, false);
	put_field(out, ipam_status_name(p->status), false);
	put_field(out, p->description, false);
	put_field(out, z, false);
	put_field(out, ipam_policy_name(p->policy), false);
	put_meta(out, &p->meta, keys);
	return finish(out);
}

int ipam_csv_write_alloc_header(FILE *out, const struct ipam_csv_keys *keys)
{
	fputs("address,status,dns_name,description,mac_address,client_id,owner,lease_expires", out);
	put_meta_header(out, keys);
	return finish(out);
}

int ipam_csv_write_alloc(FILE *out, const struct ipam_alloc *a, int mask,
                         const struct ipam_csv_keys *keys)
{
	char addr[IPAM_ADDR_STRLEN], c[IPAM_CIDR_STRLEN + 8], n[DNS_NAME_STRLEN];
	char hw[IPAM_CLIENTID_MAX * 3 + 1] = "", t[32] = "";
	int w = ipam_width(a->family);
	if (ipam_alloc_check(a, NULL) != DDI_EOK || mask < 0 || mask > w ||
	    ipam_addr_format(a->family, a->addr, addr, sizeof(addr)) < 0)
		return DDI_EINVAL;
	snprintf(c, sizeof(c), "%s/%d", addr, mask);
	name_text(a->name, a->name_len, n, sizeof(n));
	if (a->hw_type != IPAM_HW_NONE)
		ipam_hex_format(a->hw, a->hw_len, hw, sizeof(hw));
	if (a->expires != 0) {
		struct tm tm;
		time_t tt = (time_t)a->expires;
		if (gmtime_r(&tt, &tm) == NULL || strftime(t, sizeof(t), "%Y-%m-%dT%H:%M:%SZ", &tm) == 0)
			snprintf(t, sizeof(t), "%llu", (unsigned long long)a->expires);
	}
	static const char *const netbox_status[] = {
		[IPAM_STATE_STATIC] = "active",
		[IPAM_STATE_DYNAMIC] = "dhcp",
		[IPAM_STATE_RESERVED] = "reserved",
	};
	put_field(out, c, false);
	put_field(out, netbox_status[a->state], false);
	put_field(out, n, false);
	put_field(out, a->description, false);
	put_field(out, a->hw_type == IPAM_HW_MAC ? hw : "", false);
	put_field(out, a->hw_type == IPAM_HW_CLIENTID ? hw : "", false);
	put_field(out, a->owner, false);
	put_field(out, t, false);
	put_meta(out, &a->meta, keys);
	return finish(out);
}
