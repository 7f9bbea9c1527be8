/* test_consume -- the catalog reader (RFC 9432 v2: members, version, malformed) and the member sync against a store */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <cmocka.h>

#include "control/mgmt/commands.h"
#include "control/store/store.h"
#include "control/xfr/consume.h"
#include "control/xfr/secondary.h"
#include "dns/errcode.h"
#include "dns/name.h"
#include "dns/rdata.h"
#include "dns/wire.h"

static const uint8_t *N(const char *s)
{
	static uint8_t bufs[64][DNS_NAME_MAXLEN];
	static unsigned i;
	uint8_t *b = bufs[i++ & 63];
	assert_true(dns_name_from_str(b, s, strlen(s), NULL) > 0);
	return b;
}

/* rdatas of one RR: [rdlen][rdata] */
static size_t one(uint8_t *out, const uint8_t *rd, size_t len)
{
	dns_put16(out, (uint16_t)len);
	memcpy(out + 2, rd, len);
	return len + 2;
}

static int feed(struct xfr_cat_reader *r, const char *owner, uint16_t type, const uint8_t *rd,
                size_t len)
{
	uint8_t buf[600];
	size_t n = one(buf, rd, len);
	return xfr_cat_rrset(r, N(owner), type, 1, buf, n);
}

static int feed_ptr(struct xfr_cat_reader *r, const char *owner, const char *target)
{
	const uint8_t *t = N(target);
	return feed(r, owner, DNS_T_PTR, t, dns_name_len(t));
}

static const uint8_t TWO[] = { 1, '2' };

/* SOA, NS, version, then what the test adds */
static void head(struct xfr_cat_reader *r)
{
	uint8_t soa[40] = { 0, 0 };   /* root MNAME, root RNAME, then the timers */
	xfr_cat_begin(r, N("Cat.Example."));
	assert_int_equal(feed(r, "cat.example.", DNS_T_SOA, soa, 22), 0);
	assert_int_equal(feed(r, "cat.example.", DNS_T_NS, (const uint8_t *)"\7invalid", 9), 0);
	assert_int_equal(feed(r, "version.cat.example.", DNS_T_TXT, TWO, 2), 0);
}

/* ------------------------------------------------------------------------ */
/* The reader                                                               */
/* ------------------------------------------------------------------------ */

static void test_members(void **state)
{
	struct xfr_cat_reader r;
	(void)state;
	head(&r);
	assert_int_equal(feed_ptr(&r, "B2.zones.cat.example.", "Zone-B.test."), 0);
	assert_int_equal(feed_ptr(&r, "a1.zones.cat.example.", "zone-a.test."), 0);
	/* properties and unknown records are ignored (RFC 9432 4.3) */
	assert_int_equal(feed(&r, "group.a1.zones.cat.example.", DNS_T_TXT, TWO, 2), 0);
	assert_int_equal(feed_ptr(&r, "coo.a1.zones.cat.example.", "other.example."), 0);
	assert_int_equal(feed(&r, "x.cat.example.", DNS_T_A, (const uint8_t *)"\xc6\x12\0\1", 4), 0);
	assert_int_equal(feed(&r, "zones.cat.example.", DNS_T_TXT, TWO, 2), 0);
	assert_int_equal(xfr_cat_end(&r), 0);
	assert_true(r.has_soa);
	assert_int_equal(r.n, 2);
	assert_true(dns_name_equal(r.m[0].apex, N("zone-a.test.")));
	assert_string_equal(r.m[0].id, "a1");
	assert_true(dns_name_equal(r.m[1].apex, N("zone-b.test.")));
	assert_string_equal(r.m[1].id, "b2");   /* lower-cased */
	assert_int_equal(r.m[1].apex[1], 'z');  /* the name too */
	xfr_cat_free(&r);
	/* the longest unique ID in presentation form: 63 octets, each escaped \DDD */
	head(&r);
	uint8_t owner[DNS_NAME_MAXLEN], rd[64];
	owner[0] = 63;
	memset(owner + 1, 1, 63);
	memcpy(owner + 64, N("zones.cat.example."), dns_name_len(N("zones.cat.example.")));
	const uint8_t *t = N("odd.test.");
	size_t n = one(rd, t, dns_name_len(t));
	assert_int_equal(xfr_cat_rrset(&r, owner, DNS_T_PTR, 1, rd, n), 0);
	assert_int_equal(xfr_cat_end(&r), 0);
	assert_int_equal(strlen(r.m[0].id), 63 * 4);
	assert_memory_equal(r.m[0].id, "\\001\\001", 8);
	xfr_cat_free(&r);
}

static void test_bad_version(void **state)
{
	struct xfr_cat_reader r;
	static const uint8_t one_[] = { 1, '1' }, two2[] = { 2, '2', ' ' };
	uint8_t two_rrs[] = { 0, 2, 1, '2', 0, 2, 1, '2' };
	(void)state;
	/* version "1" */
	xfr_cat_begin(&r, N("cat.example."));
	assert_int_equal(feed(&r, "version.cat.example.", DNS_T_TXT, one_, 2), DDI_EINVAL);
	assert_non_null(strstr(r.why, "version"));
	assert_int_equal(xfr_cat_end(&r), DDI_EINVAL);
	xfr_cat_free(&r);
	/* "2 " */
	xfr_cat_begin(&r, N("cat.example."));
	assert_int_equal(feed(&r, "version.cat.example.", DNS_T_TXT, two2, 3), DDI_EINVAL);
	xfr_cat_free(&r);
	/* two RRs */
	xfr_cat_begin(&r, N("cat.example."));
	assert_int_equal(xfr_cat_rrset(&r, N("version.cat.example."), DNS_T_TXT, 2, two_rrs, 8),
	                 DDI_EINVAL);
	xfr_cat_free(&r);
	/* missing: members alone are no catalog */
	xfr_cat_begin(&r, N("cat.example."));
	assert_int_equal(feed_ptr(&r, "a.zones.cat.example.", "zone-a.test."), 0);
	assert_int_equal(xfr_cat_end(&r), DDI_EINVAL);
	assert_non_null(strstr(r.why, "no version"));
	xfr_cat_free(&r);
}

static void test_malformed(void **state)
{
	struct xfr_cat_reader r;
	uint8_t rd[600];
	(void)state;
	/* two PTRs at one member node (RFC 9432 4.2.2) */
	head(&r);
	const uint8_t *a = N("a.test."), *b = N("b.test.");
	size_t n = one(rd, a, dns_name_len(a));
	n += one(rd + n, b, dns_name_len(b));
	assert_int_equal(xfr_cat_rrset(&r, N("x.zones.cat.example."), DNS_T_PTR, 2, rd, n),
	                 DDI_EINVAL);
	assert_non_null(strstr(r.why, "more than one"));
	/* once broken, it stays broken */
	assert_int_equal(feed_ptr(&r, "y.zones.cat.example.", "c.test."), DDI_EINVAL);
	assert_int_equal(xfr_cat_end(&r), DDI_EINVAL);
	xfr_cat_free(&r);

	static const struct {
		const char *what;
		uint8_t rd[16];
		size_t len;
	} bad[] = {
		{ "trailing byte", "\1a\4test\0\0", 9 },
		{ "truncated", "\1a\4tes", 7 },
		{ "label too long", "\100aaaa", 6 },
		{ "compression", "\1a\xc0\x0c", 4 },
		{ "empty", "", 0 },
		{ "root", "", 1 },
	};
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		head(&r);
		assert_int_equal(feed(&r, "x.zones.cat.example.", DNS_T_PTR, bad[i].rd, bad[i].len),
		                 DDI_EINVAL);
		assert_true(r.broken);
		xfr_cat_free(&r);
	}
	/* a member that is the catalog or inside it */
	head(&r);
	assert_int_equal(feed_ptr(&r, "x.zones.cat.example.", "sub.cat.example."), DDI_EINVAL);
	xfr_cat_free(&r);
	/* one zone under two IDs */
	head(&r);
	assert_int_equal(feed_ptr(&r, "x.zones.cat.example.", "a.test."), 0);
	assert_int_equal(feed_ptr(&r, "y.zones.cat.example.", "A.test."), 0);
	assert_int_equal(xfr_cat_end(&r), DDI_EINVAL);
	assert_non_null(strstr(r.why, "two unique IDs"));
	xfr_cat_free(&r);
	/* a coo property that is no name */
	head(&r);
	assert_int_equal(feed(&r, "coo.x.zones.cat.example.", DNS_T_PTR, (const uint8_t *)"\5ab", 3),
	                 DDI_EINVAL);
	xfr_cat_free(&r);
	/* an owner outside the catalog */
	head(&r);
	assert_int_equal(feed_ptr(&r, "x.zones.other.example.", "a.test."), DDI_EINVAL);
	xfr_cat_free(&r);
}

static void test_too_many(void **state)
{
	struct xfr_cat_reader r;
	char owner[64], target[64];
	(void)state;
	head(&r);
	for (int i = 0; i < XFR_CAT_MAX_MEMBERS; i++) {
		snprintf(owner, sizeof(owner), "m%d.zones.cat.example.", i);
		snprintf(target, sizeof(target), "z%d.test.", i);
		assert_int_equal(feed_ptr(&r, owner, target), 0);
	}
	assert_int_equal(feed_ptr(&r, "last.zones.cat.example.", "last.test."), DDI_EINVAL);
	assert_non_null(strstr(r.why, "more than"));
	xfr_cat_free(&r);
}

/* ------------------------------------------------------------------------ */
/* The sync, against a store                                                */
/* ------------------------------------------------------------------------ */

struct fx {
	char dir[64];
	struct store *s;
};

static int setup(void **state)
{
	struct fx *f = calloc(1, sizeof(*f));
	struct store_options o = { .create = true, .map_size = 64u << 20 };
	struct store_error e;
	snprintf(f->dir, sizeof(f->dir), "/tmp/ddi-test-consume.XXXXXX");
	if (!mkdtemp(f->dir) || store_open(&f->s, f->dir, &o, &e) != 0)
		return -1;
	*state = f;
	return 0;
}

static int teardown(void **state)
{
	struct fx *f = *state;
	char cmd[128];
	store_close(f->s);
	snprintf(cmd, sizeof(cmd), "rm -rf '%s'", f->dir);
	assert_int_equal(system(cmd), 0);
	free(f);
	return 0;
}

/* A consumed catalog "cat.example." of 198.18.0.5, as catalog-add makes it. */
static void catalog_add(struct fx *f, const char *primary)
{
	char err[128];
	struct store_error e;
	const char *p[1] = { primary };
	char *sec = xfr_sec_acl_json(p, 1, "xfr-key", err, sizeof(err));
	char *acl = xfr_cat_acl_json(sec);
	free(sec);
	assert_non_null(acl);
	struct store_op ops[2] = {
		{ .kind = STORE_OP_ZONE_ADD, .zone = N("cat.example."),
		  .zone_flags = STORE_ZONE_SECONDARY },
		{ .kind = STORE_OP_ACL_SET, .zone = N("cat.example."), .count = 1,
		  .rdatas = (const uint8_t *)acl, .rdatas_len = strlen(acl) },
	};
	int rc = store_commit(f->s, NULL, "test", ops, 2, NULL, &e);
	free(acl);
	assert_int_equal(rc, DDI_EOK);
}

/* "Transfer" a zone's content: serial, then "ID member" pairs (member NULL ends), or a bad version. */
static void transfer(struct fx *f, const char *apex, uint32_t serial, const char *version,
                     const char *const *members)
{
	struct store_rr rrs[16];
	uint8_t soa[22] = { 0, 0 }, owners[16][DNS_NAME_MAXLEN], targets[16][DNS_NAME_MAXLEN];
	uint8_t ver[8];
	size_t n = 0;
	struct store_error e;
	dns_put32(soa + 2, serial);
	dns_put32(soa + 6, 3600);
	dns_put32(soa + 10, 600);
	dns_put32(soa + 14, 86400);
	memcpy(owners[0], N(apex), DNS_NAME_MAXLEN);
	rrs[n++] = (struct store_rr){ owners[0], DNS_T_SOA, 0, 22, soa };
	if (version) {
		char vo[128];
		snprintf(vo, sizeof(vo), "version.%s", apex);
		memcpy(owners[1], N(vo), DNS_NAME_MAXLEN);
		ver[0] = (uint8_t)strlen(version);
		memcpy(ver + 1, version, ver[0]);
		rrs[n++] = (struct store_rr){ owners[1], DNS_T_TXT, 0, (uint16_t)(ver[0] + 1), ver };
	}
	for (size_t i = 0; members && members[2 * i]; i++) {
		char o[128];
		snprintf(o, sizeof(o), "%s.zones.%s", members[2 * i], apex);
		memcpy(owners[n], N(o), DNS_NAME_MAXLEN);
		memcpy(targets[n], N(members[2 * i + 1]), DNS_NAME_MAXLEN);
		rrs[n] = (struct store_rr){ owners[n], DNS_T_PTR, 0,
		                            (uint16_t)dns_name_len(targets[n]), targets[n] };
		n++;
	}
	struct store_op op = { .kind = STORE_OP_ZONE_REPLACE, .flags = STORE_OPF_TRANSFER,
	                       .zone = N(apex), .rrs = rrs, .nrrs = n };
	int rc = store_commit(f->s, NULL, "xfr:198.18.0.5", &op, 1, NULL, &e);
	if (rc)
		fprintf(stderr, "transfer: %s\n", e.msg);
	assert_int_equal(rc, DDI_EOK);
}

static struct xfr_cat_result sync_ok(struct fx *f)
{
	struct xfr_cat_result res;
	char why[256];
	int rc = xfr_cat_sync(f->s, N("cat.example."), &res, why, sizeof(why));
	if (rc)
		fprintf(stderr, "sync: %s\n", why);
	assert_int_equal(rc, DDI_EOK);
	return res;
}

static bool zone_exists(struct fx *f, const char *apex, struct store_zone_info *zi)
{
	struct store_error e;
	struct store_zone_info z;
	return store_zone_get(f->s, NULL, N(apex), false, zi ? zi : &z, &e) == DDI_EOK;
}

static void role(struct fx *f, const char *apex, const char *member_of)
{
	bool cat;
	char of[DNS_NAME_STRLEN];
	assert_true(xfr_cat_role(f->s, N(apex), &cat, of, sizeof(of)));
	assert_false(cat);
	assert_string_equal(of, member_of);
}

static int json_cb(void *ctx, const uint8_t *name, const char *json, size_t len)
{
	(void)name;
	snprintf(ctx, 512, "%.*s", (int)len, json);
	return 0;
}

static int actor_cb(void *ctx, const struct store_journal_entry *je)
{
	snprintf(ctx, 128, "%s", je->actor);
	return 0;
}

static void test_sync(void **state)
{
	struct fx *f = *state;
	struct store_zone_info zi;
	struct store_error e;
	char acl[512], actor[128];
	catalog_add(f, "198.18.0.5");
	/* not transferred yet: no catalog, nothing happens */
	struct xfr_cat_result r = sync_ok(f);
	assert_true(r.empty);
	static const char *const two[] = { "a1", "zone-a.test.", "b2", "zone-b.test.", NULL };
	transfer(f, "cat.example.", 1, "2", two);
	r = sync_ok(f);
	assert_false(r.broken);
	assert_int_equal(r.members, 2);
	assert_int_equal(r.added, 2);
	assert_true(zone_exists(f, "zone-a.test.", &zi));
	assert_true(zi.flags & STORE_ZONE_SECONDARY);
	assert_false(zi.has_soa);   /* empty until its first transfer */
	role(f, "zone-b.test.", "cat.example.");
	assert_int_equal(store_acl_get(f->s, NULL, N("zone-a.test."), json_cb, acl, &e), DDI_EOK);
	assert_string_equal(acl, "{\"member_id\":\"a1\",\"member_of\":\"cat.example.\",\"primaries\":"
	                    "[\"198.18.0.5\"],\"primary_key\":\"xfr-key.\"}");
	assert_int_equal(store_journal_read(f->s, r.seq, 1, actor_cb, actor, &e), DDI_EOK);
	assert_string_equal(actor, "catalog:cat.example.");
	/* the same catalog again: nothing to do */
	r = sync_ok(f);
	assert_int_equal(r.added + r.removed + r.restarted + r.updated, 0);
	assert_int_equal(r.seq, 0);

	/* zone-a gets data (its own transfer), then its ID changes: it starts over */
	transfer(f, "zone-a.test.", 7, NULL, NULL);
	assert_true(zone_exists(f, "zone-a.test.", &zi) && zi.has_soa);
	static const char *const moved[] = { "a9", "zone-a.test.", NULL };
	transfer(f, "cat.example.", 2, "2", moved);
	r = sync_ok(f);
	assert_int_equal(r.restarted, 1);
	assert_int_equal(r.removed, 1);   /* zone-b left the catalog */
	assert_true(zone_exists(f, "zone-a.test.", &zi));
	assert_false(zi.has_soa);
	assert_false(zone_exists(f, "zone-b.test.", NULL));
	assert_int_equal(store_acl_get(f->s, NULL, N("zone-b.test."), json_cb, acl, &e), DDI_ENOENT);
	assert_int_equal(store_acl_get(f->s, NULL, N("zone-a.test."), json_cb, acl, &e), DDI_EOK);
	assert_non_null(strstr(acl, "\"member_id\":\"a9\""));

	/* the catalog's primaries change: the members follow */
	static const char nacl[] = "{\"consume_catalog\":true,\"primaries\":[\"198.18.0.6@5300\"]}";
	struct store_op op = { .kind = STORE_OP_ACL_SET, .zone = N("cat.example."), .count = 1,
	                       .rdatas = (const uint8_t *)nacl, .rdatas_len = strlen(nacl) };
	assert_int_equal(store_commit(f->s, NULL, "test", &op, 1, NULL, &e), DDI_EOK);
	r = sync_ok(f);
	assert_int_equal(r.updated, 1);
	assert_int_equal(store_acl_get(f->s, NULL, N("zone-a.test."), json_cb, acl, &e), DDI_EOK);
	assert_string_equal(acl, "{\"member_id\":\"a9\",\"member_of\":\"cat.example.\",\"primaries\":"
	                    "[\"198.18.0.6@5300\"]}");
}

/* A primary zone with its SOA, and an A record at `a_owner` (may be NULL). */
static void primary_zone(struct fx *f, const char *apex, const char *a_owner)
{
	struct store_error e;
	uint8_t soa[2 + 22] = { 0, 22, 0, 0, 0, 0, 0, 1 };
	struct store_op ops[3] = {
		{ .kind = STORE_OP_ZONE_ADD, .zone = N(apex) },
		{ .kind = STORE_OP_RRSET_REPLACE, .zone = N(apex), .owner = N(apex), .type = DNS_T_SOA,
		  .ttl = 60, .count = 1, .rdatas = soa, .rdatas_len = sizeof(soa) },
		{ .kind = STORE_OP_RR_ADD, .owner = a_owner ? N(a_owner) : NULL, .type = DNS_T_A,
		  .ttl = 60, .count = 1, .rdatas = (const uint8_t *)"\0\4\xc6\x12\0\1", .rdatas_len = 6 },
	};
	int rc = store_commit(f->s, NULL, "test", ops, a_owner ? 3 : 2, NULL, &e);
	if (rc)
		fprintf(stderr, "%s\n", e.msg);
	assert_int_equal(rc, DDI_EOK);
}

static void test_sync_conflict_and_broken(void **state)
{
	struct fx *f = *state;
	catalog_add(f, "198.18.0.5");
	/* a primary zone of ours that a catalog lists: left alone */
	primary_zone(f, "mine.test.", NULL);
	static const char *const m[] = { "x", "mine.test.", "y", "new.test.", NULL };
	transfer(f, "cat.example.", 1, "2", m);
	struct xfr_cat_result r = sync_ok(f);
	assert_int_equal(r.conflicts, 1);
	assert_int_equal(r.added, 1);
	bool cat;
	char of[DNS_NAME_STRLEN];
	assert_false(xfr_cat_role(f->s, N("mine.test."), &cat, of, sizeof(of)));   /* no ACL */
	role(f, "new.test.", "cat.example.");
	/* a broken catalog (version 1) changes nothing: new.test. stays, mine.test. too */
	transfer(f, "cat.example.", 2, "1", NULL);
	char why[256];
	assert_int_equal(xfr_cat_sync(f->s, N("cat.example."), &r, why, sizeof(why)), DDI_EOK);
	assert_true(r.broken);
	assert_non_null(strstr(why, "version"));
	assert_true(zone_exists(f, "new.test.", NULL));
	/* an empty catalog (version 2, no member) removes only what it added */
	transfer(f, "cat.example.", 3, "2", NULL);
	r = sync_ok(f);
	assert_int_equal(r.removed, 1);
	assert_false(zone_exists(f, "new.test.", NULL));
	assert_true(zone_exists(f, "mine.test.", NULL));
}

/* One member that the store refuses does not hold back the others. */
static void test_sync_partial(void **state)
{
	struct fx *f = *state;
	catalog_add(f, "198.18.0.5");
	/* parent.test. holds a name below bad.parent.test.: that zone cannot be added */
	primary_zone(f, "parent.test.", "bad.parent.test.");
	static const char *const m[] = { "x", "bad.parent.test.", "y", "good.test.", NULL };
	transfer(f, "cat.example.", 1, "2", m);
	struct xfr_cat_result r = sync_ok(f);
	assert_int_equal(r.failed, 1);
	assert_int_equal(r.added, 1);
	assert_true(zone_exists(f, "good.test.", NULL));
	assert_false(zone_exists(f, "bad.parent.test.", NULL));
}

static json_t *exec(struct fx *f, enum cmd_role role, const char *text)
{
	uint64_t seq = 0;
	json_t *req = json_loads(text, 0, NULL);
	assert_non_null(req);
	struct cmd_ctx ctx = { .store = f->s, .actor = "unix:test", .role = role };
	json_t *r = cmd_exec(&ctx, req, &seq);
	json_decref(req);
	assert_non_null(r);
	return r;
}

static int result(json_t *r)
{
	return (int)json_integer_value(json_object_get(r, "result"));
}

static const char *text(json_t *r)
{
	return json_string_value(json_object_get(r, "text"));
}

/* The role zone-list gives `zone` (NULL when absent). */
static const char *zrole(json_t *r, const char *zone)
{
	size_t i;
	json_t *z;
	json_array_foreach(json_object_get(json_object_get(r, "arguments"), "zones"), i, z)
		if (strcmp(json_string_value(json_object_get(z, "zone")), zone) == 0)
			return json_string_value(json_object_get(z, "role"));
	return NULL;
}

/* catalog-add, -list, -remove and zone-list/zone-acl through the command table. */
static void test_commands(void **state)
{
	struct fx *f = *state;
	struct store_error e;
	char acl[512];
	json_t *r = exec(f, CMD_ROLE_ADMIN, "{\"command\": \"catalog-add\", \"arguments\": "
	                 "{\"zone\": \"cat.example\", \"primaries\": [\"198.18.0.5@99999\"]}}");
	assert_int_equal(result(r), CMD_ERROR);
	assert_non_null(strstr(text(r), "not ADDR[@PORT]"));
	json_decref(r);
	r = exec(f, CMD_ROLE_ADMIN, "{\"command\": \"catalog-add\", \"arguments\": {\"zone\": "
	         "\"cat.example\"}}");
	assert_int_equal(result(r), CMD_ERROR);
	json_decref(r);
	r = exec(f, CMD_ROLE_READ, "{\"command\": \"catalog-add\", \"arguments\": {\"zone\": "
	         "\"cat.example\", \"primaries\": [\"198.18.0.5\"]}}");
	assert_int_not_equal(result(r), CMD_OK);   /* a read-only peer may not */
	json_decref(r);
	const char *add = "{\"command\": \"catalog-add\", \"arguments\": {\"zone\": \"cat.example\", "
	                  "\"primaries\": [\"198.18.0.5\"], \"key\": \"xfr-key\"}}";
	r = exec(f, CMD_ROLE_ADMIN, add);
	assert_int_equal(result(r), CMD_OK);
	json_decref(r);
	r = exec(f, CMD_ROLE_ADMIN, add);
	assert_int_equal(result(r), CMD_ERROR);   /* it exists */
	json_decref(r);
	static const char *const m[] = { "a1", "zone-a.test.", NULL };
	transfer(f, "cat.example.", 1, "2", m);
	sync_ok(f);
	r = exec(f, CMD_ROLE_READ, "{\"command\": \"zone-list\"}");
	assert_string_equal(zrole(r, "cat.example."), "catalog");
	assert_string_equal(zrole(r, "zone-a.test."), "catalog member");
	json_decref(r);
	/* zone acl on a member keeps what makes it one */
	r = exec(f, CMD_ROLE_ADMIN, "{\"command\": \"zone-acl\", \"arguments\": {\"zone\": "
	         "\"zone-a.test\", \"transfer\": [\"198.18.0.0/24\"]}}");
	assert_int_equal(result(r), CMD_OK);
	json_decref(r);
	assert_int_equal(store_acl_get(f->s, NULL, N("zone-a.test."), json_cb, acl, &e), DDI_EOK);
	assert_non_null(strstr(acl, "\"member_of\":\"cat.example.\""));
	assert_non_null(strstr(acl, "\"transfer\":[\"198.18.0.0/24\"]"));
	/* key names are absolute, a missing final dot added, as on every command line */
	r = exec(f, CMD_ROLE_ADMIN, "{\"command\": \"zone-acl\", \"arguments\": {\"zone\": "
	         "\"zone-a.test\", \"transfer\": [\"198.18.0.0/24\"], \"transfer_keys\": [\"k1\", "
	         "\"k2.\"], \"notify_key\": \"k1\"}}");
	assert_int_equal(result(r), CMD_OK);
	json_decref(r);
	acl[0] = 0;
	assert_int_equal(store_acl_get(f->s, NULL, N("zone-a.test."), json_cb, acl, &e), DDI_EOK);
	assert_non_null(strstr(acl, "\"transfer_keys\":[\"k1.\",\"k2.\"]"));
	assert_non_null(strstr(acl, "\"notify_key\":\"k1.\""));
	assert_non_null(strstr(acl, "\"member_of\":\"cat.example.\""));
	/* the sync keeps the operator's transfer rules */
	assert_int_equal(sync_ok(f).updated, 0);
	r = exec(f, CMD_ROLE_READ, "{\"command\": \"catalog-list\"}");
	assert_int_equal(result(r), CMD_OK);
	json_t *c = json_array_get(json_object_get(json_object_get(r, "arguments"), "catalogs"), 0);
	assert_string_equal(json_string_value(json_object_get(c, "catalog")), "cat.example.");
	assert_int_equal(json_integer_value(json_object_get(c, "member_zones")), 1);
	assert_string_equal(json_string_value(json_object_get(c, "key")), "xfr-key.");
	json_decref(r);
	r = exec(f, CMD_ROLE_ADMIN, "{\"command\": \"catalog-remove\", \"arguments\": {\"zone\": "
	         "\"zone-a.test\"}}");
	assert_int_equal(result(r), CMD_ERROR);   /* a member is no catalog */
	assert_non_null(strstr(text(r), "not a catalog"));
	json_decref(r);
	r = exec(f, CMD_ROLE_ADMIN, "{\"command\": \"catalog-remove\", \"arguments\": {\"zone\": "
	         "\"cat.example\"}}");
	assert_int_equal(result(r), CMD_OK);
	assert_int_equal(json_integer_value(json_object_get(json_object_get(r, "arguments"),
	                                                    "members_removed")), 1);
	json_decref(r);
	assert_false(zone_exists(f, "zone-a.test.", NULL));
	assert_false(zone_exists(f, "cat.example.", NULL));
	r = exec(f, CMD_ROLE_READ, "{\"command\": \"catalog-list\"}");
	assert_int_equal(result(r), CMD_EMPTY);
	json_decref(r);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_members),
		cmocka_unit_test(test_bad_version),
		cmocka_unit_test(test_malformed),
		cmocka_unit_test(test_too_many),
		cmocka_unit_test_setup_teardown(test_sync, setup, teardown),
		cmocka_unit_test_setup_teardown(test_sync_conflict_and_broken, setup, teardown),
		cmocka_unit_test_setup_teardown(test_sync_partial, setup, teardown),
		cmocka_unit_test_setup_teardown(test_commands, setup, teardown),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
