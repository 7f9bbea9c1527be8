/* xfr/cmd -- zone-acl and diff control commands */
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include <jansson.h>

#include "control/store/store.h"
#include "control/xfr/cmd.h"
#include "control/xfr/consume.h"
#include "control/xfr/secondary.h"
#include "control/xfr/xfr.h"
#include "dns/errcode.h"
#include "dns/rdata.h"
#include "dns/zonefile.h"

static bool zone_arg(const json_t *args, uint8_t apex[DNS_NAME_MAXLEN])
{
	const char *z = json_string_value(json_object_get(args, "zone"));
	size_t l = z ? strlen(z) : 0;
	if (!l)
		return false;
	char buf[DNS_NAME_STRLEN + 2];
	snprintf(buf, sizeof(buf), "%s%s", z, z[l - 1] == '.' ? "" : ".");
	return dns_name_from_str(apex, buf, strlen(buf), NULL) > 0;
}

static int show_cb(void *ctx, const uint8_t *name, const char *json, size_t len)
{
	(void)name;
	*(json_t **)ctx = json_loadb(json, len, 0, NULL);
	return 0;
}

/* A key name as stored: absolute, a missing final dot added (the rule of every command). */
static json_t *abs_name(json_t *v)
{
	const char *t = json_string_value(v);
	size_t l = t ? strlen(t) : 0;
	if (!l || t[l - 1] == '.' || l > DNS_NAME_STRLEN)
		return json_incref(v);   /* not a string, already absolute, or too long: the parser judges */
	char buf[DNS_NAME_STRLEN + 2];
	snprintf(buf, sizeof(buf), "%s.", t);
	return json_string(buf);
}

/* The ACL's fields from the arguments, key names made absolute; NULL when none is given. */
static json_t *acl_fields(const json_t *args)
{
	static const char *const fields[] = { "transfer", "transfer_keys", "notify", "notify_key" };
	json_t *acl = json_object();
	bool any = false;
	for (size_t i = 0; acl && i < 4; i++) {
		json_t *v = json_object_get(args, fields[i]), *k;
		size_t j;
		if (!v)
			continue;
		any = true;
		if (strcmp(fields[i], "notify_key") == 0) {
			json_object_set_new(acl, fields[i], abs_name(v));
		} else if (strcmp(fields[i], "transfer_keys") == 0 && json_is_array(v)) {
			json_t *keys = json_array();
			json_array_foreach(v, j, k)
				json_array_append_new(keys, abs_name(k));
			json_object_set_new(acl, fields[i], keys);
		} else {
			json_object_set(acl, fields[i], v);
		}
	}
	if (!any) {
		json_decref(acl);
		return NULL;
	}
	return acl;
}

static json_t *c_zone_acl(const struct cmd_ctx *ctx, const json_t *args, uint64_t *seq)
{
	uint8_t apex[DNS_NAME_MAXLEN];
	struct store_error e;
	if (!zone_arg(args, apex))
		return cmd_reply(CMD_ERROR, NULL, "zone-acl: 'zone' (a zone name) is required");
	json_t *acl = acl_fields(args);
	bool clear = json_is_true(json_object_get(args, "clear"));
	if (!acl && !clear) {
		json_t *cur = NULL;
		int rc = store_acl_get(ctx->store, NULL, apex, show_cb, &cur, &e);
		if (rc == DDI_ENOENT)
			return cmd_reply(CMD_EMPTY, NULL, "no ACL: nobody may transfer the zone");
		if (rc)
			return cmd_reply(CMD_ERROR, NULL, "%s", e.msg[0] ? e.msg : ddi_strerror(rc));
		return cmd_reply(CMD_OK, json_pack("{s:o}", "acl", cur ? cur : json_object()), "ACL");
	}
	if (!acl)
		acl = json_object();   /* --clear alone */
	char *text = acl ? json_dumps(acl, JSON_COMPACT | JSON_SORT_KEYS) : NULL;
	json_decref(acl);
	if (!text)
		return cmd_reply(CMD_ERROR, NULL, "out of memory");
	struct xfr_acl parsed;
	char why[128];
	if (!clear && xfr_acl_parse(&parsed, text, strlen(text), why, sizeof(why)) != 0) {
		free(text);
		return cmd_reply(CMD_ERROR, NULL, "zone-acl: %s", why);
	}
	/* "catalog": the name is the catalog zone ddiplane generates (--catalog), no zone of the store */
	uint32_t flags = json_is_true(json_object_get(args, "catalog")) ? STORE_OPF_NO_ZONE : 0;
	/*
	 * A secondary zone's primaries live in the same value ("primaries",
	 * "primary_key", control/xfr/secondary.c): they are kept, also by
	 * --clear. Read and write in one batch (the store's write lock), so a
	 * concurrent zone-add or zone-acl is not lost in between.
	 */
	struct store_txn *batch = NULL;
	memset(&e, 0, sizeof(e));
	int rc = store_batch_begin(ctx->store, &batch, &e);
	if (rc) {
		free(text);
		return cmd_reply(CMD_ERROR, NULL, "%s", e.msg[0] ? e.msg : ddi_strerror(rc));
	}
	json_t *cur = NULL;
	rc = store_acl_get(ctx->store, batch, apex, show_cb, &cur, &e);
	if (rc == DDI_ENOENT)
		rc = DDI_EOK;
	json_t *prim = cur ? json_object_get(cur, "primaries") : NULL;
	if (rc == DDI_EOK && (prim || json_object_get(cur, "primary_key"))) {
		json_t *o = clear ? json_object() : json_loads(text, 0, NULL);
		/* what makes it a secondary, a consumed catalog or a catalog's member stays */
		static const char *const keep[] = { "primaries", "primary_key", "consume_catalog",
		                                    "member_of", "member_id" };
		for (size_t i = 0; o && i < sizeof(keep) / sizeof(keep[0]); i++)
			if (json_object_get(cur, keep[i]))
				json_object_set(o, keep[i], json_object_get(cur, keep[i]));
		free(text);
		text = o ? json_dumps(o, JSON_COMPACT | JSON_SORT_KEYS) : NULL;
		json_decref(o);
		clear = false;   /* the primaries stay: an ACL value without transfer rules */
		if (!text)
			rc = DDI_ENOMEM;
	}
	json_decref(cur);
	if (rc == DDI_EOK) {
		struct store_op op = { .kind = STORE_OP_ACL_SET, .flags = flags, .zone = apex, .count = clear ? 0 : 1,
		                       .rdatas = (const uint8_t *)text,
		                       .rdatas_len = text ? strlen(text) : 0 };
		rc = store_commit(ctx->store, batch, ctx->actor, &op, 1, seq, &e);
	}
	free(text);
	struct store_error e2;
	int rc2 = store_batch_end(batch, rc == DDI_EOK, &e2);
	if (rc == DDI_EOK && rc2) {
		rc = rc2;
		e = e2;
	}
	if (rc)
		return cmd_reply(CMD_ERROR, NULL, "%s", e.msg[0] ? e.msg : ddi_strerror(rc));
	return cmd_reply(CMD_OK, json_pack("{s:I}", "seq", (json_int_t)*seq),
	                 clear ? "ACL removed" : "ACL set");
}

struct dctx {
	json_t *arr;
	bool has_serial;
	uint32_t serial;
};

static json_t *rr_text(const struct store_rr *rr)
{
	char *buf = NULL;
	size_t len = 0;
	FILE *f = open_memstream(&buf, &len);
	if (!f)
		return NULL;
	zf_write_rr(f, rr->owner, rr->type, rr->ttl, rr->rdata, rr->rdlen);
	fclose(f);
	while (len && buf[len - 1] == '\n')
		buf[--len] = 0;
	json_t *s = json_string(buf);
	free(buf);
	return s;
}

static int diff_cb(void *ctx, const struct store_diff *d)
{
	struct dctx *x = ctx;
	if (x->has_serial && d->serial_from != x->serial)
		return 0;
	json_t *rem = json_array(), *add = json_array();
	size_t off = 0, i = 0;
	struct store_rr rr;
	while (store_diff_rr_next(d, &off, &rr) == 1)
		json_array_append_new(i++ < d->nrem ? rem : add, rr_text(&rr));
	json_t *o = json_pack("{s:I, s:I, s:I, s:I, s:b, s:o, s:o}", "seq", (json_int_t)d->seq,
	                      "time", (json_int_t)d->time_ns, "serial_from",
	                      (json_int_t)d->serial_from, "serial_to", (json_int_t)d->serial_to,
	                      "break", (d->flags & STORE_DIFF_BREAK) != 0, "removed", rem, "added",
	                      add);
	json_array_append_new(x->arr, o);
	return 0;
}

static json_t *c_diff(const struct cmd_ctx *ctx, const json_t *args, uint64_t *seq)
{
	uint8_t apex[DNS_NAME_MAXLEN];
	struct store_error e;
	struct dctx x = { .arr = json_array() };
	(void)seq;
	if (!zone_arg(args, apex)) {
		json_decref(x.arr);
		return cmd_reply(CMD_ERROR, NULL, "diff: 'zone' (a zone name) is required");
	}
	json_t *sv = json_object_get(args, "serial");
	if (sv) {
		char *end;
		const char *str = json_string_value(sv);
		unsigned long long v = str ? strtoull(str, &end, 10) : (unsigned long long)json_integer_value(sv);
		if ((str && (!*str || *end)) || (!str && !json_is_integer(sv)) || v > UINT32_MAX) {
			json_decref(x.arr);
			return cmd_reply(CMD_ERROR, NULL, "diff: serial is a number below 2^32");
		}
		x.has_serial = true;
		x.serial = (uint32_t)v;
	}
	int rc = store_diff_walk(ctx->store, NULL, apex, diff_cb, &x, &e);
	if (rc) {
		json_decref(x.arr);
		return cmd_reply(CMD_ERROR, NULL, "%s", e.msg[0] ? e.msg : ddi_strerror(rc));
	}
	size_t n = json_array_size(x.arr);
	return cmd_reply(n ? CMD_OK : CMD_EMPTY, json_pack("{s:o}", "diffs", x.arr), "%zu difference%s",
	                 n, n == 1 ? "" : "s");
}

/* ------------------------------------------------------------------------ */
/* Consumed catalogs (RFC 9432), control/xfr/consume.h                      */
/* ------------------------------------------------------------------------ */

static json_t *err_reply(const struct store_error *e, int rc)
{
	return cmd_reply(CMD_ERROR, NULL, "%s", e->msg[0] ? e->msg : ddi_strerror(rc));
}

static json_t *c_catalog_add(const struct cmd_ctx *ctx, const json_t *args, uint64_t *seq)
{
	uint8_t apex[DNS_NAME_MAXLEN];
	char why[160], nb[DNS_NAME_STRLEN];
	const char *list[XFR_SEC_MAX_PRIMARIES];
	struct store_error e;
	if (!zone_arg(args, apex))
		return cmd_reply(CMD_ERROR, NULL, "catalog-add: 'zone' (the catalog's name) is required");
	json_t *prim = json_object_get(args, "primaries"), *key = json_object_get(args, "key");
	size_t n = json_array_size(prim);
	if (!json_is_array(prim) || n == 0 || n > XFR_SEC_MAX_PRIMARIES)
		return cmd_reply(CMD_ERROR, NULL, "catalog-add: 'primaries' is an array of 1 to %d "
		                 "ADDR[@PORT]", XFR_SEC_MAX_PRIMARIES);
	for (size_t i = 0; i < n; i++)
		if (!(list[i] = json_string_value(json_array_get(prim, i))))
			return cmd_reply(CMD_ERROR, NULL, "catalog-add: 'primaries' holds strings ADDR[@PORT]");
	if (key && !json_is_string(key))
		return cmd_reply(CMD_ERROR, NULL, "catalog-add: 'key' is a key name");
	char *sec = xfr_sec_acl_json(list, n, json_string_value(key), why, sizeof(why));
	if (!sec)
		return cmd_reply(CMD_ERROR, NULL, "catalog-add: %s", why);
	char *acl = xfr_cat_acl_json(sec);
	free(sec);
	if (!acl)
		return cmd_reply(CMD_ERROR, NULL, "catalog-add: out of memory");
	struct store_op ops[2] = {
		{ .kind = STORE_OP_ZONE_ADD, .zone = apex, .zone_flags = STORE_ZONE_SECONDARY },
		{ .kind = STORE_OP_ACL_SET, .zone = apex, .count = 1, .rdatas = (const uint8_t *)acl,
		  .rdatas_len = strlen(acl) },
	};
	memset(&e, 0, sizeof(e));
	int rc = store_commit(ctx->store, NULL, ctx->actor, ops, 2, seq, &e);
	free(acl);
	if (rc)
		return err_reply(&e, rc);
	(void)xfr_sec_refresh(apex, false);   /* a running server transfers it at once */
	dns_name_to_str(nb, sizeof(nb), apex);
	return cmd_reply(CMD_OK, json_pack("{s:I}", "seq", (json_int_t)*seq),
	                 "catalog %s added: its members will follow it", nb);
}

/* The zones of the store and what their zone_acl says of catalogs. */
struct catzone {
	uint8_t apex[DNS_NAME_MAXLEN];
	bool is_catalog, loaded;
	uint32_t serial;
	char member_of[DNS_NAME_STRLEN];
	json_t *acl;
};

struct catlist {
	struct store *s;
	struct store_txn *txn;
	struct catzone *z;
	size_t n, cap;
};

static int catlist_cb(void *ctx, const struct store_zone_info *zi)
{
	struct catlist *c = ctx;
	struct store_error e;
	json_t *o = NULL;
	if (!(zi->flags & STORE_ZONE_SECONDARY))
		return 0;
	if (store_acl_get(c->s, c->txn, zi->apex, show_cb, &o, &e) != DDI_EOK || !json_is_object(o)) {
		json_decref(o);
		return 0;
	}
	if (c->n == c->cap) {
		size_t nc = c->cap ? c->cap * 2 : 16;
		struct catzone *z = realloc(c->z, nc * sizeof(*z));
		if (!z) {
			json_decref(o);
			return DDI_ENOMEM;
		}
		c->z = z;
		c->cap = nc;
	}
	struct catzone *z = &c->z[c->n++];
	memset(z, 0, sizeof(*z));
	memcpy(z->apex, zi->apex, dns_name_len(zi->apex));
	dns_name_lower(z->apex);
	z->is_catalog = json_is_true(json_object_get(o, "consume_catalog"));
	z->loaded = zi->has_soa;
	z->serial = zi->serial;
	const char *m = json_string_value(json_object_get(o, "member_of"));
	snprintf(z->member_of, sizeof(z->member_of), "%s", m ? m : "");
	z->acl = o;
	return 0;
}

static void catlist_free(struct catlist *c)
{
	for (size_t i = 0; i < c->n; i++)
		json_decref(c->z[i].acl);
	free(c->z);
}

static json_t *c_catalog_remove(const struct cmd_ctx *ctx, const json_t *args, uint64_t *seq)
{
	uint8_t apex[DNS_NAME_MAXLEN];
	char nb[DNS_NAME_STRLEN];
	struct store_error e;
	struct store_txn *batch = NULL;
	struct catlist c = { .s = ctx->store };
	if (!zone_arg(args, apex))
		return cmd_reply(CMD_ERROR, NULL, "catalog-remove: 'zone' (the catalog's name) is "
		                 "required");
	dns_name_lower(apex);
	dns_name_to_str(nb, sizeof(nb), apex);
	memset(&e, 0, sizeof(e));
	int rc = store_batch_begin(ctx->store, &batch, &e);
	if (rc)
		return err_reply(&e, rc);
	c.txn = batch;
	rc = store_zone_list_in(ctx->store, batch, false, catlist_cb, &c, &e);
	bool found = false;
	size_t nops = 0, members = 0;
	struct store_op *ops = rc ? NULL : malloc((2 * c.n + 2) * sizeof(*ops));
	if (!rc && !ops)
		rc = DDI_ENOMEM;
	/* the members it added first, then the catalog itself: one commit */
	for (size_t i = 0; ops && i < c.n; i++) {
		if (dns_name_equal(c.z[i].apex, apex)) {
			found = c.z[i].is_catalog;
			continue;
		}
		if (strcasecmp(c.z[i].member_of, nb) != 0)
			continue;
		ops[nops++] = (struct store_op){ .kind = STORE_OP_ACL_SET, .zone = c.z[i].apex };
		ops[nops++] = (struct store_op){ .kind = STORE_OP_ZONE_REMOVE, .zone = c.z[i].apex };
		members++;
	}
	if (!rc && !found) {
		rc = DDI_ENOZONE;
		snprintf(e.msg, sizeof(e.msg), "%.300s is not a catalog ddiplane consumes (catalog list)", nb);
	}
	if (!rc) {
		ops[nops++] = (struct store_op){ .kind = STORE_OP_ACL_SET, .zone = apex };
		ops[nops++] = (struct store_op){ .kind = STORE_OP_ZONE_REMOVE, .zone = apex };
		rc = store_commit(ctx->store, batch, ctx->actor, ops, nops, seq, &e);
	}
	free(ops);
	catlist_free(&c);
	struct store_error e2;
	int rc2 = store_batch_end(batch, rc == DDI_EOK, &e2);
	if (!rc && rc2) {
		rc = rc2;
		e = e2;
	}
	if (rc)
		return err_reply(&e, rc);
	return cmd_reply(CMD_OK, json_pack("{s:I, s:I}", "seq", (json_int_t)*seq, "members_removed",
	                                   (json_int_t)members),
	                 "catalog %s removed with its %zu member zone%s", nb, members,
	                 members == 1 ? "" : "s");
}

static json_t *c_catalog_list(const struct cmd_ctx *ctx, const json_t *args, uint64_t *seq)
{
	struct store_error e;
	struct catlist c = { .s = ctx->store };
	(void)args, (void)seq;
	memset(&e, 0, sizeof(e));
	int rc = store_zone_list_in(ctx->store, NULL, false, catlist_cb, &c, &e);
	if (rc) {
		catlist_free(&c);
		return err_reply(&e, rc);
	}
	json_t *arr = json_array();
	for (size_t i = 0; i < c.n; i++) {
		struct catzone *z = &c.z[i];
		char nb[DNS_NAME_STRLEN];
		if (!z->is_catalog || !cmd_sees_name(ctx, z->apex))
			continue;   /* a scoped principal sees the catalogs inside its zones */
		dns_name_to_str(nb, sizeof(nb), z->apex);
		size_t members = 0;
		for (size_t j = 0; j < c.n; j++)
			members += strcasecmp(c.z[j].member_of, nb) == 0;
		json_t *o = json_pack("{s:s, s:b, s:I, s:O, s:I}", "catalog", nb, "loaded", z->loaded,
		                      "serial", (json_int_t)z->serial, "primaries",
		                      json_object_get(z->acl, "primaries"), "member_zones",
		                      (json_int_t)members);
		json_t *k = json_object_get(z->acl, "primary_key");
		if (o && k)
			json_object_set(o, "key", k);
		struct xfr_sec_status st;
		if (o && xfr_sec_status(z->apex, &st)) {   /* what the refresh thread saw */
			json_object_set_new(o, "last_refresh", json_integer(st.last_refresh));
			json_object_set_new(o, "last_error", json_string(st.last_error));
			json_object_set_new(o, "catalog_error", json_string(st.catalog_error));
			json_object_set_new(o, "members_listed", json_integer(st.members));
		}
		if (o)
			json_array_append_new(arr, o);
	}
	catlist_free(&c);
	size_t n = json_array_size(arr);
	return cmd_reply(n ? CMD_OK : CMD_EMPTY, json_pack("{s:o}", "catalogs", arr), "%zu catalog%s",
	                 n, n == 1 ? "" : "s");
}

const struct cmd_def xfr_cmds[] = {
	{ "zone-acl", CMD_ROLE_ADMIN, c_zone_acl },
	{ "diff", CMD_ROLE_READ, c_diff },
	{ "catalog-add", CMD_ROLE_ADMIN, c_catalog_add },
	{ "catalog-remove", CMD_ROLE_ADMIN, c_catalog_remove },
	{ "catalog-list", CMD_ROLE_READ, c_catalog_list },
};
const size_t xfr_ncmds = sizeof(xfr_cmds) / sizeof(xfr_cmds[0]);
