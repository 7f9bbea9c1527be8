/* life/cmd -- the lifecycle's control commands: zone-aging, scavenge, lease-sweep, stale, history, revert */
#include <inttypes.h>
#include <stdio.h>
#include <string.h>
#include <time.h>

#include <jansson.h>

#include "control/ipam/ipam.h"
#include "control/life/cmd.h"
#include "control/life/life.h"
#include "control/store/store.h"
#include "dns/errcode.h"
#include "dns/name.h"
#include "dns/rdata.h"

static int64_t now_ns(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_REALTIME, &ts);
	return (int64_t)ts.tv_sec * 1000000000 + ts.tv_nsec;
}

/* A name argument: absolute, a missing final dot added (DESIGN.md's one rule). */
static bool name_arg(const json_t *args, const char *key, uint8_t out[DNS_NAME_MAXLEN])
{
	const char *z = json_string_value(json_object_get(args, key));
	size_t l = z ? strlen(z) : 0;
	if (!l || l > DNS_NAME_STRLEN - 2)
		return false;
	char buf[DNS_NAME_STRLEN + 2];
	snprintf(buf, sizeof(buf), "%s%s", z, z[l - 1] == '.' ? "" : ".");
	if (dns_name_from_str(out, buf, strlen(buf), NULL) <= 0)
		return false;
	dns_name_lower(out);
	return true;
}

static json_t *fail(int rc, const struct store_error *e)
{
	return cmd_reply(CMD_ERROR, NULL, "%s", e->msg[0] ? e->msg : ddi_strerror(rc));
}

/* A non-negative integer argument within [lo, hi]; absent: *out unchanged. */
static bool uint_arg(const json_t *args, const char *key, uint32_t lo, uint32_t hi, uint32_t *out)
{
	json_t *v = json_object_get(args, key);
	if (!v)
		return true;
	if (!json_is_integer(v) || json_integer_value(v) < lo || json_integer_value(v) > hi)
		return false;
	*out = (uint32_t)json_integer_value(v);
	return true;
}

static json_t *c_zone_aging(const struct cmd_ctx *ctx, const json_t *args, uint64_t *seq)
{
	uint8_t apex[DNS_NAME_MAXLEN];
	struct store_error e = { 0 };
	struct store_aging a = { 0 };
	if (!name_arg(args, "zone", apex))
		return cmd_reply(CMD_ERROR, NULL, "zone-aging: 'zone' (a zone name) is required");
	bool off = json_is_true(json_object_get(args, "off"));
	bool set = json_object_get(args, "no_refresh") || json_object_get(args, "refresh") ||
	           json_object_get(args, "period");
	if (!off && !set) {
		int rc = store_aging_get(ctx->store, NULL, apex, &a, &e);
		if (rc == DDI_ENOENT)
			return cmd_reply(CMD_EMPTY, json_pack("{s:b}", "enabled", 0), "aging is off");
		if (rc)
			return fail(rc, &e);
		return cmd_reply(CMD_OK, json_pack("{s:b, s:I, s:I, s:I, s:I}", "enabled", 1,
		                                   "no_refresh", (json_int_t)a.no_refresh, "refresh",
		                                   (json_int_t)a.refresh, "period", (json_int_t)a.period,
		                                   "last_scavenge", (json_int_t)a.last_scavenge_ns),
		                 "aging");
	}
	if (off && set)
		return cmd_reply(CMD_ERROR, NULL, "zone-aging: 'off' excludes the intervals");
	if (set && (!uint_arg(args, "no_refresh", 1, 0x7fffffff, &a.no_refresh) ||
	            !uint_arg(args, "refresh", 1, 0x7fffffff, &a.refresh) ||
	            !uint_arg(args, "period", 0, 0x7fffffff, &a.period) || !a.no_refresh ||
	            !a.refresh))
		return cmd_reply(CMD_ERROR, NULL, "zone-aging: 'no_refresh' and 'refresh' are required, "
		                 "whole seconds from 1 to 2147483647; 'period' 0 or more");
	int rc = store_aging_set(ctx->store, NULL, ctx->actor, apex, off ? NULL : &a, seq, &e);
	if (rc)
		return fail(rc, &e);
	return cmd_reply(CMD_OK, NULL, off ? "aging off" : "aging on");
}

static int item_cb(void *ctx, const uint8_t *owner, uint16_t type, int64_t refreshed)
{
	char nb[DNS_NAME_STRLEN];
	if (dns_name_to_str(nb, sizeof(nb), owner) < 0)
		snprintf(nb, sizeof(nb), "?");
	json_t *a = ctx;
	if (json_array_size(a) >= 10000)
		return 0;   /* the reply stays bounded; the count says the rest */
	return json_array_append_new(a, json_pack("{s:s, s:s, s:I}", "name", nb, "type",
	                                           dns_type_name(type), "refreshed",
	                                           (json_int_t)refreshed)) ? DDI_ENOMEM : 0;
}

static json_t *c_scavenge(const struct cmd_ctx *ctx, const json_t *args, uint64_t *seq)
{
	uint8_t apex[DNS_NAME_MAXLEN];
	struct store_error e = { 0 };
	struct life_stats st = { 0 };
	(void)seq;
	if (!name_arg(args, "zone", apex))
		return cmd_reply(CMD_ERROR, NULL, "scavenge: 'zone' (a zone name) is required");
	bool dry = json_is_true(json_object_get(args, "dry_run"));
	json_t *items = json_array();
	if (!items)
		return NULL;
	int rc = life_scavenge(ctx->store, apex, now_ns(), dry, 0, item_cb, items, &st, &e);
	if (rc) {
		json_decref(items);
		return fail(rc, &e);
	}
	return cmd_reply(st.rrsets ? CMD_OK : CMD_EMPTY,
	                 json_pack("{s:o, s:I, s:I, s:I, s:b}", "rrsets", items, "count",
	                           (json_int_t)st.rrsets, "allocations", (json_int_t)st.allocations,
	                           "batches", (json_int_t)st.batches, "dry_run", dry),
	                 "%s %" PRIu64 " RRsets", dry ? "would remove" : "removed", st.rrsets);
}

static json_t *c_lease_sweep(const struct cmd_ctx *ctx, const json_t *args, uint64_t *seq)
{
	struct store_error e = { 0 };
	struct life_stats st = { 0 };
	(void)args;
	(void)seq;
	int rc = life_lease_sweep(ctx->store, now_ns(), 0, 0, &st, &e);
	if (rc)
		return fail(rc, &e);
	return cmd_reply(CMD_OK, json_pack("{s:I, s:I, s:I}", "rrsets", (json_int_t)st.rrsets,
	                                   "allocations", (json_int_t)st.allocations, "batches",
	                                   (json_int_t)st.batches),
	                 "%" PRIu64 " RRsets expired", st.rrsets);
}

static json_t *c_stale(const struct cmd_ctx *ctx, const json_t *args, uint64_t *seq)
{
	uint8_t zone[DNS_NAME_MAXLEN];
	struct ipam_cidr c = { 0 };
	struct store_error e = { 0 };
	uint32_t within = 3600, limit = 1000;
	(void)seq;
	bool has_zone = json_object_get(args, "zone") != NULL;
	const char *pfx = json_string_value(json_object_get(args, "prefix"));
	if (has_zone && !name_arg(args, "zone", zone))
		return cmd_reply(CMD_ERROR, NULL, "stale: 'zone' is not a domain name");
	if (pfx) {
		struct ipam_error ie = { 0 };
		if (ipam_cidr_parse(pfx, &c, &ie) != DDI_EOK)
			return cmd_reply(CMD_ERROR, NULL, "stale: %s", ie.msg);
	}
	if (!uint_arg(args, "within", 0, 0x7fffffff, &within) ||
	    !uint_arg(args, "limit", 1, 100000, &limit))
		return cmd_reply(CMD_ERROR, NULL, "stale: 'within' is seconds (0 or more), 'limit' "
		                 "1 to 100000");
	json_t *out;
	int rc = life_stale(ctx->store, has_zone ? zone : NULL, pfx ? c.family : 0, c.addr, c.plen,
	                    now_ns(), within, limit, &out, &e, ctx);
	if (rc)
		return fail(rc, &e);
	size_t n = json_array_size(json_object_get(out, "unallocated")) +
	           json_array_size(json_object_get(out, "unresolved")) +
	           json_array_size(json_object_get(out, "expiring")) +
	           json_array_size(json_object_get(out, "expired"));
	return cmd_reply(n ? CMD_OK : CMD_EMPTY, out, "%zu stale items", n);
}

static json_t *c_history(const struct cmd_ctx *ctx, const json_t *args, uint64_t *seq)
{
	uint8_t name[DNS_NAME_MAXLEN];
	struct store_error e = { 0 };
	json_t *out;
	(void)seq;
	if (!name_arg(args, "name", name))
		return cmd_reply(CMD_ERROR, NULL, "history: 'name' (a domain name) is required");
	int rc = life_history(ctx->store, name, &out, &e);
	if (rc)
		return fail(rc, &e);
	size_t n = json_array_size(out);
	return cmd_reply(n ? CMD_OK : CMD_EMPTY, json_pack("{s:o}", "changes", out),
	                 "%zu changes", n);
}

static json_t *c_revert(const struct cmd_ctx *ctx, const json_t *args, uint64_t *seq)
{
	struct store_error e = { 0 };
	json_t *v = json_object_get(args, "seq");
	if (!json_is_integer(v) || json_integer_value(v) < 1)
		return cmd_reply(CMD_ERROR, NULL, "revert: 'seq' (a journal sequence) is required");
	uint64_t target = (uint64_t)json_integer_value(v);
	char actor[256];
	snprintf(actor, sizeof(actor), "revert:%" PRIu64 " by %.200s", target,
	         ctx->actor ? ctx->actor : "?");
	int rc = life_revert(ctx->store, target, actor, seq, &e);
	if (rc)
		return fail(rc, &e);
	return cmd_reply(CMD_OK, json_pack("{s:I, s:I}", "reverted", (json_int_t)target, "seq",
	                                   (json_int_t)*seq),
	                 "reverted %" PRIu64 " as %" PRIu64, target, *seq);
}

const struct cmd_def life_cmds[] = {
	{ "zone-aging", CMD_ROLE_ADMIN, c_zone_aging },   /* or a dns-editor of the zone (mgmt/auth.c) */
	{ "scavenge", CMD_ROLE_ADMIN, c_scavenge },
	{ "lease-sweep", CMD_ROLE_ADMIN, c_lease_sweep },
	{ "stale", CMD_ROLE_READ, c_stale },
	{ "history", CMD_ROLE_READ, c_history },
	{ "revert", CMD_ROLE_ADMIN, c_revert },
};
const size_t life_ncmds = sizeof(life_cmds) / sizeof(life_cmds[0]);
