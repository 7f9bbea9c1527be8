/* ipam_cmd_csv -- the IPAM commands ipam-import and ipam-export: NetBox CSV in one store_ipam transaction */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "control/ipam/cmd.h"
#include "control/ipam/cmdutil.h"
#include "control/ipam/csv.h"
#include "dns/errcode.h"
#include "dns/name.h"

/* ------------------------------------------------------------------------ */
/* CSV import and export                                                    */
/* ------------------------------------------------------------------------ */

/* Bounds on what an import reports (a million rows must not make a million-line reply). */
#define IMPORT_WARN_MAX 100
#define IMPORT_IGNORED_MAX 96

struct imp {
	struct icmd *q;
	struct store_ipam *t;
	const char *text;
	size_t len;
	const char *fname;
	size_t nprefixes, nallocs, nrecords;
	uint64_t rows, lines;      /* progress: rows read, lines of the text (about the total) */
	uint64_t nwarnings;        /* rows whose name has no served zone (all of them) */
	json_t *warnings;          /* the first IMPORT_WARN_MAX of them */
	json_t *ignored;           /* names of the columns not kept, each once */
	unsigned table;            /* the last table whose ignored columns were noted */
};

/* The columns of a new table that the import does not keep, each name once. */
static void note_ignored(struct imp *m, const struct ipam_csv_row *row)
{
	if (row->table == m->table)
		return;
	m->table = row->table;
	for (size_t i = 0; i < row->nignored; i++) {
		size_t k;
		json_t *v;
		bool seen = false;
		json_array_foreach(m->ignored, k, v)
			seen = seen || strcmp(json_string_value(v), row->ignored[i]) == 0;
		if (!seen && json_array_size(m->ignored) < IMPORT_IGNORED_MAX)
			json_array_append_new(m->ignored, json_string(row->ignored[i]));
	}
}

static void warn_row(struct imp *m, const struct ipam_csv_row *row, const struct ipam_alloc *a,
                     const char *reason)
{
	char ab[IPAM_ADDR_STRLEN], nb[DNS_NAME_STRLEN];
	if (m->nwarnings++ >= IMPORT_WARN_MAX)
		return;
	if (dns_name_to_str(nb, sizeof(nb), a->name) < 0)
		snprintf(nb, sizeof(nb), "?");
	json_array_append_new(m->warnings,
	                      json_pack("{s:s, s:I, s:s, s:s, s:s}", "file", m->fname, "line",
	                                (json_int_t)row->line, "address",
	                                ic_addr_s(a->family, a->addr, ab), "name", nb, "reason",
	                                reason));
}

static int import_prefix(struct imp *m, const struct ipam_csv_row *row, struct ipam_error *err)
{
	struct ipam_prefix old, p = row->prefix;
	char cb[IPAM_CIDR_STRLEN];
	int rc;
	if (store_ipam_prefix_get(m->t, &p.cidr, &old) == 0) {
		snprintf(err->msg, sizeof(err->msg), "prefix %s exists", ic_cidr_s(&p.cidr, cb));
		return DDI_EEXIST;
	}
	p.created = p.created ? p.created : ic_now();
	p.updated = p.updated ? p.updated : p.created;
	if ((rc = store_ipam_prefix_put(m->t, &p)) != 0)
		return rc;
	if ((rc = ic_reverse_zones(m->q, m->t, &p.cidr, NULL)) != 0)
		return rc;
	m->nprefixes++;
	return DDI_EOK;
}

static int import_row(void *ctx, const struct ipam_csv_row *row, struct ipam_error *err)
{
	struct imp *m = ctx;
	const struct cmd_ctx *cc = m->q->ctx;
	if (cc->progress && ++m->rows % 8192 == 0)
		cc->progress(cc->progress_ctx, "rows imported", m->rows, m->lines);
	struct store_ipam *t = m->t;
	char ab[IPAM_ADDR_STRLEN], reason[160];
	int rc;
	note_ignored(m, row);
	if (row->kind == IPAM_CSV_PREFIXES) {
		if ((rc = import_prefix(m, row, err)) == DDI_EEXIST)
			return rc;
		if (rc)
			goto store_fail;
		return 0;
	}
	struct ipam_alloc a = row->alloc;
	struct ipam_alloc old;
	if ((rc = store_ipam_alloc_get(t, a.family, a.addr, &old)) == 0) {
		snprintf(err->msg, sizeof(err->msg), "%s is already allocated",
		         ic_addr_s(a.family, a.addr, ab));
		return DDI_ECONFLICT;
	}
	if (rc != DDI_ENOENT)
		goto store_fail;
	a.created = a.created ? a.created : ic_now();
	a.updated = a.updated ? a.updated : a.created;
	if ((rc = store_ipam_alloc_put(t, &a)) != 0)
		goto store_fail;
	m->nallocs++;
	if (!a.name_len || a.state == IPAM_STATE_RESERVED)
		return 0;
	/*
	 * The A/AAAA record goes into the served zone that holds the name (its
	 * closest enclosing zone), as an Infoblox host record does, whether or
	 * not the prefix names a zone. A name in no zone is a warning of the
	 * report: the allocation is kept, with no DNS.
	 */
	uint8_t apex[DNS_NAME_MAXLEN];
	if ((rc = ic_name_zone(m->q, t, a.name, apex)) == DDI_ENOZONE) {
		snprintf(reason, sizeof(reason), "the name is in no served zone: allocated, no DNS record");
		warn_row(m, row, &a, reason);
		return 0;
	}
	if (rc)
		goto store_fail;
	if ((rc = ic_host_record(m->q, t, a.name, a.family, a.addr, true)) != 0)
		goto store_fail;
	m->nrecords++;
	return 0;
store_fail:
	snprintf(err->msg, sizeof(err->msg), "%.200s",
	         m->q->err[0] ? m->q->err : store_ipam_error(t)->msg[0] ? store_ipam_error(t)->msg
	                                                               : ddi_strerror(rc));
	return rc;
}

static int import_tx(void *ctx, struct store_ipam *t)
{
	struct imp *m = ctx;
	struct ipam_error ie = { 0 };
	m->t = t;
	store_ipam_quiet(t, true);
	if (m->q->ctx->progress)
		m->lines = cmd_count_lines(m->text, m->len);
	int rc = ipam_csv_read_mem(m->text, m->len, m->fname, import_row, m, &ie);
	if (rc)
		return ic_fail(m->q, rc, "%s", ie.msg);
	if (m->q->ctx->progress)
		m->q->ctx->progress(m->q->ctx->progress_ctx, "rows imported", m->rows, m->rows);
	rc = store_ipam_note(t, "import", json_pack("{s:s, s:I, s:I}", "file", m->fname,
	                                             "prefixes", (json_int_t)m->nprefixes,
	                                             "addresses", (json_int_t)m->nallocs));
	if (rc)
		return ic_st_fail(m->q, t, rc);
	size_t ni = json_array_size(m->ignored);
	snprintf(m->q->text, sizeof(m->q->text),
	         "%zu prefixes, %zu addresses (%zu records) imported, %llu warning%s, %zu column%s not kept",
	         m->nprefixes, m->nallocs, m->nrecords, (unsigned long long)m->nwarnings,
	         m->nwarnings == 1 ? "" : "s", ni, ni == 1 ? "" : "s");
	m->q->out = json_pack("{s:I, s:I, s:I, s:I, s:O, s:O}", "prefixes", (json_int_t)m->nprefixes,
	                      "addresses", (json_int_t)m->nallocs, "records", (json_int_t)m->nrecords,
	                      "warnings_total", (json_int_t)m->nwarnings, "warnings", m->warnings,
	                      "ignored_columns", m->ignored);
	return m->q->out ? DDI_EOK : ic_fail(m->q, DDI_ENOMEM, "out of memory");
}

json_t *ipam_cmd_import(const struct cmd_ctx *ctx, const json_t *args, uint64_t *seq)
{
	struct icmd q = { .ctx = ctx, .args = args };
	struct imp m = { .q = &q };
	struct store_error e;
	int rc;
	json_t *jt = json_object_get(args, "text");
	if (!json_is_string(jt))
		return cmd_reply(CMD_ERROR, NULL, "missing argument \"text\" (the CSV file's text)");
	m.text = json_string_value(jt);
	m.len = json_string_length(jt);
	m.fname = ic_str(&q, "filename", false);
	if (q.err[0])
		return ic_reply(&q, q.code, NULL, 0);
	if (!m.fname)
		m.fname = "import.csv";
	if (!(m.warnings = json_array()) || !(m.ignored = json_array())) {
		rc = ic_fail(&q, DDI_ENOMEM, "out of memory");
		goto out;
	}
	rc = store_ipam_write(ctx->store, NULL, ctx->actor, import_tx, &m, seq, &e);
out:
	json_decref(m.warnings);
	json_decref(m.ignored);
	return ic_reply(&q, rc, &e, *seq);
}

struct exp {
	struct icmd *q;
	FILE *f;
	struct store_ipam *t;
	struct ipam_csv_keys pk, ak;   /* the cf_ columns of the two tables */
};

/*
 * The rows a scoped principal exports: prefixes inside its prefixes (as
 * prefix-list), allocations of addresses inside them (as alloc-list), and
 * only their custom field names as columns.
 */
static bool prefix_seen(const struct exp *x, const struct ipam_prefix *p)
{
	return cmd_sees_prefix(x->q->ctx, p->cidr.family, p->cidr.addr, p->cidr.plen);
}

static bool alloc_seen(const struct exp *x, const struct ipam_alloc *a)
{
	return cmd_sees_prefix(x->q->ctx, a->family, a->addr, ipam_width(a->family));
}

static int keys_prefix_cb(void *ctx, const struct ipam_prefix *p)
{
	struct exp *x = ctx;
	return prefix_seen(x, p) ? ipam_csv_keys_add(&x->pk, &p->meta) : 0;
}

static int keys_alloc_cb(void *ctx, const struct ipam_alloc *a)
{
	struct exp *x = ctx;
	return alloc_seen(x, a) ? ipam_csv_keys_add(&x->ak, &a->meta) : 0;
}

static int exp_prefix_cb(void *ctx, const struct ipam_prefix *p)
{
	struct exp *x = ctx;
	return prefix_seen(x, p) ? ipam_csv_write_prefix(x->f, p, &x->pk) : 0;
}

static int exp_alloc_cb(void *ctx, const struct ipam_alloc *a)
{
	struct exp *x = ctx;
	struct ipam_prefix p;
	if (!alloc_seen(x, a))
		return 0;
	int mask = ipam_width(a->family);
	if (store_ipam_prefix_holding(x->t, a->family, a->addr, ipam_width(a->family) - 1, &p) == 0)
		mask = p.cidr.plen;
	return ipam_csv_write_alloc(x->f, a, mask, &x->ak);
}

static int export_tx(void *ctx, struct store_ipam *t)
{
	struct exp *x = ctx;
	x->t = t;
	/* First the custom field names: they are columns of the header. */
	int rc = store_ipam_prefix_walk(t, NULL, keys_prefix_cb, x);
	if (rc == 0)
		rc = store_ipam_alloc_walk(t, NULL, keys_alloc_cb, x);
	if (rc == DDI_ELIMIT)
		return ic_fail(x->q, rc, "more than %d custom field names in one table: too many CSV columns",
		               IPAM_CSV_KEYS_MAX);
	if (rc == 0)
		rc = ipam_csv_write_prefix_header(x->f, &x->pk);
	if (rc == 0)
		rc = store_ipam_prefix_walk(t, NULL, exp_prefix_cb, x);
	if (rc == 0 && fputs("\n", x->f) == EOF)
		rc = DDI_EIO;
	if (rc == 0)
		rc = ipam_csv_write_alloc_header(x->f, &x->ak);
	if (rc == 0)
		rc = store_ipam_alloc_walk(t, NULL, exp_alloc_cb, x);
	return rc ? ic_st_fail(x->q, t, rc) : DDI_EOK;
}

json_t *ipam_cmd_export(const struct cmd_ctx *ctx, const json_t *args, uint64_t *seq)
{
	(void)seq;
	struct icmd q = { .ctx = ctx, .args = args };
	struct exp *x = calloc(1, sizeof(*x));   /* the key tables are ~7 KiB */
	struct store_error e;
	char *buf = NULL;
	size_t len = 0;
	if (!x || !(x->f = open_memstream(&buf, &len))) {
		free(x);
		return cmd_reply(CMD_ERROR, NULL, "out of memory");
	}
	x->q = &q;
	int rc = store_ipam_read(ctx->store, export_tx, x, &e);
	if (fclose(x->f) != 0 && rc == 0)
		rc = DDI_ENOMEM;
	free(x);
	if (rc) {
		free(buf);
		return ic_reply(&q, rc, &e, 0);
	}
	json_t *out = json_pack("{s:s%}", "text", buf, len);
	free(buf);
	if (!out)
		return cmd_reply(CMD_ERROR, NULL, "the export is not valid UTF-8");
	return cmd_reply(CMD_OK, out, "%zu bytes", len);
}
