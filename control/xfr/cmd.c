/* xfr/cmd -- zone-acl and diff control commands */
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <jansson.h>

#include "control/store/store.h"
#include "control/xfr/cmd.h"
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

static json_t *c_zone_acl(const struct cmd_ctx *ctx, const json_t *args, uint64_t *seq)
{
	uint8_t apex[DNS_NAME_MAXLEN];
	struct store_error e;
	if (!zone_arg(args, apex))
		return cmd_reply(CMD_ERROR, NULL, "zone-acl: 'zone' (a zone name) is required");
	static const char *const fields[] = { "transfer", "transfer_keys", "notify", "notify_key" };
	json_t *acl = json_object();
	bool any = false;
	for (size_t i = 0; i < 4; i++) {
		json_t *v = json_object_get(args, fields[i]);
		if (v) {
			json_object_set(acl, fields[i], v);
			any = true;
		}
	}
	bool clear = json_is_true(json_object_get(args, "clear"));
	if (!any && !clear) {
		json_decref(acl);
		json_t *cur = NULL;
		int rc = store_acl_get(ctx->store, NULL, apex, show_cb, &cur, &e);
		if (rc == DDI_ENOENT)
			return cmd_reply(CMD_EMPTY, NULL, "no ACL: nobody may transfer the zone");
		if (rc)
			return cmd_reply(CMD_ERROR, NULL, "%s", e.msg[0] ? e.msg : ddi_strerror(rc));
		return cmd_reply(CMD_OK, json_pack("{s:o}", "acl", cur ? cur : json_object()), "ACL");
	}
	char *text = json_dumps(acl, JSON_COMPACT | JSON_SORT_KEYS);
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
	json_t *pkey = cur ? json_object_get(cur, "primary_key") : NULL;
	if (rc == DDI_EOK && (prim || pkey)) {
		json_t *o = clear ? json_object() : json_loads(text, 0, NULL);
		if (o && prim)
			json_object_set(o, "primaries", prim);
		if (o && pkey)
			json_object_set(o, "primary_key", pkey);
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

const struct cmd_def xfr_cmds[] = {
	{ "zone-acl", CMD_ROLE_ADMIN, c_zone_acl },
	{ "diff", CMD_ROLE_READ, c_diff },
};
const size_t xfr_ncmds = sizeof(xfr_cmds) / sizeof(xfr_cmds[0]);
