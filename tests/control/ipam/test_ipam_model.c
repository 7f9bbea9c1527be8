/* test_ipam_model -- the IPAM model commands through cmd_exec and the store: edit, remove, reserve, list, rename, metadata, import DNS */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "control/mgmt/commands.h"
#include "control/store/store.h"
#include "dns/errcode.h"

/*
 * Every request goes through cmd_exec, the code behind the control socket
 * and ddictl --db, against a store of its own; the DNS side is checked with
 * record-get (what the dataplane would answer is tested by ipam_model.sh).
 */

struct fx {
	char dir[64], db[80];
	struct store *s;
};

static json_t *run(struct fx *f, uint64_t *seq, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));

static json_t *run(struct fx *f, uint64_t *seq, const char *fmt, ...)
{
	char buf[8192];
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(buf, sizeof(buf), fmt, ap);
	va_end(ap);
	json_error_t je;
	json_t *req = json_loads(buf, 0, &je);
	if (!req)
		fail_msg("bad test request %s: %s", buf, je.text);
	struct cmd_ctx ctx = { .store = f->s, .actor = "unix:test", .role = CMD_ROLE_ADMIN };
	uint64_t s = 0;
	json_t *r = cmd_exec(&ctx, req, seq ? seq : &s);
	json_decref(req);
	assert_non_null(r);
	return r;
}

static int result(const json_t *r)
{
	return (int)json_integer_value(json_object_get(r, "result"));
}

static const char *text(const json_t *r)
{
	return json_string_value(json_object_get(r, "text"));
}

static const json_t *args(const json_t *r)
{
	return json_object_get(r, "arguments");
}

/* Run a command that must succeed; the reply (caller frees). */
#define OK(f, ...) ok_((f), run((f), NULL, __VA_ARGS__))
static json_t *ok_(struct fx *f, json_t *r)
{
	(void)f;
	if (result(r) != CMD_OK && result(r) != CMD_EMPTY)
		fail_msg("expected success: %s", text(r));
	return r;
}

/* Run a command that must fail with a reason holding `why`. */
#define FAILS(f, why, ...) fails_((f), (why), run((f), NULL, __VA_ARGS__))
static void fails_(struct fx *f, const char *why, json_t *r)
{
	(void)f;
	if (result(r) != CMD_ERROR)
		fail_msg("expected an error holding '%s', got: %s", why, text(r));
	if (!strstr(text(r), why))
		fail_msg("expected an error holding '%s', got: %s", why, text(r));
	json_decref(r);
}

/* The A/AAAA rdatas of name, "" when none, comma-separated. */
static void rr(struct fx *f, const char *name, const char *type, char *out, size_t len)
{
	json_t *r = run(f, NULL, "{\"command\": \"record-get\", \"arguments\": {\"name\": \"%s\", "
	                         "\"type\": \"%s\"}}", name, type);
	size_t i, off = 0;
	json_t *v;
	out[0] = '\0';
	json_array_foreach(json_object_get(args(r), "records"), i, v) {
		int n = snprintf(out + off, len - off, "%s%s", i ? "," : "",
		                 json_string_value(json_object_get(v, "rdata")));
		off += n > 0 ? (size_t)n : 0;
	}
	json_decref(r);
}

static void expect_rr(struct fx *f, const char *name, const char *type, const char *want)
{
	char got[512];
	rr(f, name, type, got, sizeof(got));
	if (strcmp(got, want) != 0)
		fail_msg("%s %s: expected '%s', got '%s'", name, type, want, got);
}

static uint64_t last_seq(struct fx *f)
{
	json_t *r = OK(f, "{\"command\": \"status\"}");
	uint64_t s = (uint64_t)json_integer_value(json_object_get(args(r), "store_seq"));
	json_decref(r);
	return s;
}

static int setup(void **state)
{
	struct fx *f = calloc(1, sizeof(*f));
	strcpy(f->dir, "/tmp/test-ipam-model.XXXXXX");
	assert_non_null(mkdtemp(f->dir));
	snprintf(f->db, sizeof(f->db), "%s/db", f->dir);
	struct store_options o = { .create = true, .map_size = 256u << 20 };
	struct store_error e;
	assert_int_equal(store_open(&f->s, f->db, &o, &e), 0);
	json_decref(OK(f, "{\"command\": \"zone-add\", \"arguments\": {\"zone\": \"example.test\"}}"));
	json_decref(OK(f, "{\"command\": \"zone-add\", \"arguments\": {\"zone\": \"lab.example.test.\"}}"));
	json_decref(OK(f, "{\"command\": \"prefix-add\", \"arguments\": {\"prefix\": \"198.18.0.0/24\"}}"));
	*state = f;
	return 0;
}

static int teardown(void **state)
{
	struct fx *f = *state;
	char cmd[128];
	store_close(f->s);
	snprintf(cmd, sizeof(cmd), "rm -rf '%s'", f->dir);
	if (system(cmd) != 0)
		fprintf(stderr, "could not remove %s\n", f->dir);
	free(f);
	return 0;
}

/* A name publishes in the served zone closest to it, whatever the prefix says. */
static void test_alloc_closest_zone(void **state)
{
	struct fx *f = *state;
	json_t *r = OK(f, "{\"command\": \"alloc-next\", \"arguments\": {\"prefix\": \"198.18.0.0/24\", "
	                  "\"name\": \"web1.lab.example.test\", \"tags\": [\"web\"], "
	                  "\"tenant\": \"acme\", \"fields\": {\"rack\": \"r1\"}}}");
	assert_string_equal(json_string_value(json_object_get(args(r), "address")), "198.18.0.1");
	const json_t *al = json_object_get(args(r), "allocation");
	assert_string_equal(json_string_value(json_object_get(al, "tenant")), "acme");
	json_decref(r);
	expect_rr(f, "web1.lab.example.test.", "A", "198.18.0.1");
	/* lab.example.test. holds it, not example.test.: a record there is in lab's zone */
	r = OK(f, "{\"command\": \"zone-export\", \"arguments\": {\"zone\": \"lab.example.test.\"}}");
	assert_non_null(strstr(json_string_value(json_object_get(args(r), "text")), "web1.lab"));
	json_decref(r);

	/* a name in no served zone: refused, nothing changed */
	uint64_t before = last_seq(f);
	FAILS(f, "is in no served zone",
	      "{\"command\": \"alloc-next\", \"arguments\": {\"prefix\": \"198.18.0.0/24\", "
	      "\"name\": \"host.nowhere.test\"}}");
	FAILS(f, "is in no served zone",
	      "{\"command\": \"alloc-address\", \"arguments\": {\"address\": \"198.18.0.9\", "
	      "\"name\": \"host.nowhere.test\"}}");
	assert_int_equal(last_seq(f), before);
	/* ... unless no_dns: allocated, nothing published */
	r = OK(f, "{\"command\": \"alloc-next\", \"arguments\": {\"prefix\": \"198.18.0.0/24\", "
	          "\"name\": \"host.nowhere.test\", \"no_dns\": true}}");
	assert_string_equal(json_string_value(json_object_get(args(r), "address")), "198.18.0.2");
	assert_true(json_is_false(json_object_get(args(r), "published")));
	json_decref(r);
	expect_rr(f, "host.nowhere.test.", "A", "");
	/* bad metadata is refused with its reason */
	FAILS(f, "custom field name", "{\"command\": \"alloc-next\", \"arguments\": {\"prefix\": "
	      "\"198.18.0.0/24\", \"name\": \"x.example.test\", \"fields\": {\"Bad\": \"1\"}}}");
	FAILS(f, "comma", "{\"command\": \"alloc-next\", \"arguments\": {\"prefix\": "
	      "\"198.18.0.0/24\", \"name\": \"x.example.test\", \"tags\": [\"a,b\"]}}");
	FAILS(f, "must be true or false", "{\"command\": \"alloc-next\", \"arguments\": {\"prefix\": "
	      "\"198.18.0.0/24\", \"name\": \"x.example.test\", \"no_dns\": \"maybe\"}}");
	assert_int_equal(last_seq(f), before + 1);
}

static void test_alloc_edit(void **state)
{
	struct fx *f = *state;
	json_decref(OK(f, "{\"command\": \"alloc-address\", \"arguments\": {\"address\": \"198.18.0.5\", "
	                  "\"name\": \"old.example.test.\"}}"));
	expect_rr(f, "old.example.test.", "A", "198.18.0.5");
	uint64_t before = last_seq(f);
	json_t *r = OK(f, "{\"command\": \"alloc-edit\", \"arguments\": {\"address\": \"198.18.0.5\", "
	                  "\"name\": \"new.lab.example.test\"}}");
	const json_t *rec = json_object_get(args(r), "records");
	assert_string_equal(json_string_value(json_object_get(rec, "removed")), "old.example.test.");
	assert_string_equal(json_string_value(json_object_get(rec, "added")), "new.lab.example.test.");
	json_decref(r);
	assert_int_equal(last_seq(f), before + 1);   /* one journaled change */
	expect_rr(f, "old.example.test.", "A", "");
	expect_rr(f, "new.lab.example.test.", "A", "198.18.0.5");
	/* into no zone: refused, the old record stays */
	FAILS(f, "is in no served zone", "{\"command\": \"alloc-edit\", \"arguments\": {\"address\": "
	      "\"198.18.0.5\", \"name\": \"x.nowhere.test\"}}");
	expect_rr(f, "new.lab.example.test.", "A", "198.18.0.5");
	/* metadata: tags added and removed, a field set then removed, the tenant */
	json_decref(OK(f, "{\"command\": \"alloc-edit\", \"arguments\": {\"address\": \"198.18.0.5\", "
	                  "\"tags\": [\"b\", \"a\"], \"fields\": {\"rack\": \"r7\", \"row\": \"3\"}, "
	                  "\"tenant\": \"acme\"}}"));
	r = OK(f, "{\"command\": \"alloc-edit\", \"arguments\": {\"address\": \"198.18.0.5\", "
	          "\"untag\": [\"a\"], \"fields\": {\"row\": \"\"}, \"description\": \"moved\"}}");
	const json_t *al = json_object_get(args(r), "allocation");
	char *s = json_dumps(al, JSON_SORT_KEYS | JSON_COMPACT);
	assert_non_null(strstr(s, "\"fields\":{\"rack\":\"r7\"}"));
	assert_non_null(strstr(s, "\"tags\":[\"b\"]"));
	assert_non_null(strstr(s, "\"tenant\":\"acme\""));
	assert_non_null(strstr(s, "\"description\":\"moved\""));
	assert_non_null(strstr(s, "\"name\":\"new.lab.example.test.\""));
	free(s);
	json_decref(r);
	expect_rr(f, "new.lab.example.test.", "A", "198.18.0.5");   /* metadata leaves DNS alone */
	FAILS(f, "no tag", "{\"command\": \"alloc-edit\", \"arguments\": {\"address\": \"198.18.0.5\", "
	      "\"untag\": [\"zzz\"]}}");
	FAILS(f, "nothing to change", "{\"command\": \"alloc-edit\", \"arguments\": {\"address\": "
	      "\"198.18.0.5\"}}");
	FAILS(f, "is not allocated", "{\"command\": \"alloc-edit\", \"arguments\": {\"address\": "
	      "\"198.18.0.77\", \"name\": \"a.example.test\"}}");
	FAILS(f, "longer than", "{\"command\": \"alloc-edit\", \"arguments\": {\"address\": "
	      "\"198.18.0.5\", \"tenant\": \"%0150d\"}}", 0);
	/* no_dns renames without publishing: the old record goes */
	json_decref(OK(f, "{\"command\": \"alloc-edit\", \"arguments\": {\"address\": \"198.18.0.5\", "
	                  "\"name\": \"quiet.nowhere.test\", \"no_dns\": true}}"));
	expect_rr(f, "new.lab.example.test.", "A", "");
}

static void test_reserve(void **state)
{
	struct fx *f = *state;
	json_t *r = OK(f, "{\"command\": \"alloc-reserve\", \"arguments\": {\"address\": \"198.18.0.1\", "
	                  "\"note\": \"gateway\"}}");
	const json_t *al = json_object_get(args(r), "allocation");
	assert_string_equal(json_string_value(json_object_get(al, "state")), "reserved");
	assert_string_equal(json_string_value(json_object_get(al, "description")), "gateway");
	json_decref(r);
	FAILS(f, "already reserved", "{\"command\": \"alloc-reserve\", \"arguments\": {\"address\": "
	      "\"198.18.0.1\"}}");
	FAILS(f, "no prefix holds", "{\"command\": \"alloc-reserve\", \"arguments\": {\"address\": "
	      "\"198.19.0.1\"}}");
	/* alloc next steps over it */
	r = OK(f, "{\"command\": \"alloc-next\", \"arguments\": {\"prefix\": \"198.18.0.0/24\", "
	          "\"name\": \"a.example.test\"}}");
	assert_string_equal(json_string_value(json_object_get(args(r), "address")), "198.18.0.2");
	json_decref(r);
	/* a reservation with a name publishes nothing */
	json_decref(OK(f, "{\"command\": \"alloc-reserve\", \"arguments\": {\"address\": \"198.18.0.3\", "
	                  "\"name\": \"future.example.test\"}}"));
	expect_rr(f, "future.example.test.", "A", "");
	/* released like an allocation */
	json_decref(OK(f, "{\"command\": \"release\", \"arguments\": {\"address\": \"198.18.0.1\"}}"));
	r = OK(f, "{\"command\": \"alloc-next\", \"arguments\": {\"prefix\": \"198.18.0.0/24\", "
	          "\"name\": \"b.example.test\"}}");
	assert_string_equal(json_string_value(json_object_get(args(r), "address")), "198.18.0.1");
	json_decref(r);
}

/* Pages: every allocation once, in order, whatever the page size. */
static void test_alloc_list(void **state)
{
	struct fx *f = *state;
	json_decref(OK(f, "{\"command\": \"prefix-add\", \"arguments\": {\"prefix\": \"2001:2::/48\"}}"));
	const char *addrs[] = { "2001:2::1", "2001:2::2", "2001:2:0:1::5", "2001:2:0:ff00::1",
	                        "2001:2:0:ffff:ffff:ffff:ffff:ffff" };
	for (size_t i = 0; i < 5; i++)
		json_decref(OK(f, "{\"command\": \"alloc-address\", \"arguments\": {\"address\": \"%s\", "
		                  "\"name\": \"h%zu.example.test\"}}", addrs[i], i));
	for (int limit = 1; limit <= 6; limit++) {
		char after[64] = "";
		size_t seen = 0;
		for (int page = 0; page < 10; page++) {
			json_t *r = OK(f, "{\"command\": \"alloc-list\", \"arguments\": {\"prefix\": "
			                  "\"2001:2::/48\", \"limit\": %d%s%s%s}}", limit,
			               after[0] ? ", \"after\": \"" : "", after, after[0] ? "\"" : "");
			size_t i;
			json_t *v;
			json_array_foreach(json_object_get(args(r), "allocations"), i, v) {
				assert_true(seen < 5);
				assert_string_equal(json_string_value(json_object_get(v, "address")),
				                    addrs[seen]);
				seen++;
			}
			const json_t *next = json_object_get(args(r), "next");
			if (json_is_null(next)) {
				json_decref(r);
				break;
			}
			snprintf(after, sizeof(after), "%s", json_string_value(next));
			json_decref(r);
		}
		assert_int_equal(seen, 5);
	}
	FAILS(f, "1..4096", "{\"command\": \"alloc-list\", \"arguments\": {\"prefix\": "
	      "\"2001:2::/48\", \"limit\": 0}}");
	FAILS(f, "1..4096", "{\"command\": \"alloc-list\", \"arguments\": {\"prefix\": "
	      "\"2001:2::/48\", \"limit\": \"5x\"}}");
	FAILS(f, "is not inside", "{\"command\": \"alloc-list\", \"arguments\": {\"prefix\": "
	      "\"2001:2::/48\", \"after\": \"2001:3::1\"}}");
	FAILS(f, "address family", "{\"command\": \"alloc-list\", \"arguments\": {\"prefix\": "
	      "\"2001:2::/48\", \"after\": \"198.18.0.1\"}}");
	FAILS(f, "no prefix", "{\"command\": \"alloc-list\", \"arguments\": {\"prefix\": "
	      "\"2001:2::/64\"}}");
}

static void test_prefix_remove(void **state)
{
	struct fx *f = *state;
	json_decref(OK(f, "{\"command\": \"prefix-add\", \"arguments\": {\"prefix\": \"198.18.0.0/16\"}}"));
	json_decref(OK(f, "{\"command\": \"alloc-address\", \"arguments\": {\"address\": \"198.18.1.1\", "
	                  "\"name\": \"p1.example.test\"}}"));
	json_decref(OK(f, "{\"command\": \"alloc-reserve\", \"arguments\": {\"address\": \"198.18.1.2\"}}"));
	/* 198.18.0.7 belongs to the child 198.18.0.0/24, which stays */
	json_decref(OK(f, "{\"command\": \"alloc-address\", \"arguments\": {\"address\": \"198.18.0.7\", "
	                  "\"name\": \"c7.example.test\"}}"));
	uint64_t before = last_seq(f);
	FAILS(f, "holds 2 allocations (the first is 198.18.1.1)",
	      "{\"command\": \"prefix-remove\", \"arguments\": {\"prefix\": \"198.18.0.0/16\"}}");
	assert_int_equal(last_seq(f), before);
	expect_rr(f, "p1.example.test.", "A", "198.18.1.1");
	json_t *r = OK(f, "{\"command\": \"prefix-remove\", \"arguments\": {\"prefix\": "
	                  "\"198.18.0.0/16\", \"release\": true}}");
	assert_int_equal(json_integer_value(json_object_get(args(r), "released")), 2);
	json_decref(r);
	assert_int_equal(last_seq(f), before + 1);   /* one journaled change */
	expect_rr(f, "p1.example.test.", "A", "");
	expect_rr(f, "c7.example.test.", "A", "198.18.0.7");
	r = run(f, NULL, "{\"command\": \"address-show\", \"arguments\": {\"address\": \"198.18.1.2\"}}");
	assert_true(json_is_null(json_object_get(args(r), "allocation")));
	json_decref(r);
	FAILS(f, "no prefix", "{\"command\": \"prefix-remove\", \"arguments\": {\"prefix\": "
	      "\"198.18.0.0/16\"}}");
	/* an empty prefix goes without --release */
	json_decref(OK(f, "{\"command\": \"prefix-add\", \"arguments\": {\"prefix\": \"198.19.0.0/24\"}}"));
	json_decref(OK(f, "{\"command\": \"prefix-remove\", \"arguments\": {\"prefix\": \"198.19.0.0/24\"}}"));
	FAILS(f, "must be true or false", "{\"command\": \"prefix-remove\", \"arguments\": {\"prefix\": "
	      "\"198.18.0.0/24\", \"release\": 1}}");
}

static void test_prefix_edit(void **state)
{
	struct fx *f = *state;
	json_t *r = OK(f, "{\"command\": \"prefix-edit\", \"arguments\": {\"prefix\": \"198.18.0.0/24\", "
	                  "\"tenant\": \"acme\", \"tags\": [\"prod\"], \"fields\": {\"site\": \"FRA1\"}, "
	                  "\"description\": \"web\", \"policy\": \"strict\", \"zone\": \"example.test\"}}");
	char *s = json_dumps(json_object_get(args(r), "prefix"), JSON_SORT_KEYS | JSON_COMPACT);
	assert_non_null(strstr(s, "\"fields\":{\"site\":\"FRA1\"}"));
	assert_non_null(strstr(s, "\"policy\":\"strict\""));
	assert_non_null(strstr(s, "\"zone\":\"example.test.\""));
	free(s);
	json_decref(r);
	FAILS(f, "nothing to change", "{\"command\": \"prefix-edit\", \"arguments\": {\"prefix\": "
	      "\"198.18.0.0/24\"}}");
	FAILS(f, "policy must be", "{\"command\": \"prefix-edit\", \"arguments\": {\"prefix\": "
	      "\"198.18.0.0/24\", \"policy\": \"lax\"}}");
	FAILS(f, "the description is not UTF-8 text", "{\"command\": \"prefix-edit\", \"arguments\": "
	      "{\"prefix\": \"198.18.0.0/24\", \"description\": \"bell\\u0007\"}}");
	FAILS(f, "the description is longer than 200", "{\"command\": \"range-add\", \"arguments\": "
	      "{\"first\": \"198.18.0.1\", \"last\": \"198.18.0.2\", \"description\": \"%0201d\"}}", 0);
	FAILS(f, "no prefix", "{\"command\": \"prefix-edit\", \"arguments\": {\"prefix\": "
	      "\"198.18.9.0/24\", \"tenant\": \"x\"}}");
	r = OK(f, "{\"command\": \"prefix-list\"}");
	s = json_dumps(args(r), JSON_SORT_KEYS | JSON_COMPACT);
	assert_non_null(strstr(s, "\"tenant\":\"acme\""));
	free(s);
	json_decref(r);
}

static void test_ranges(void **state)
{
	struct fx *f = *state;
	json_decref(OK(f, "{\"command\": \"range-add\", \"arguments\": {\"first\": \"198.18.0.100\", "
	                  "\"last\": \"198.18.0.150\", \"dynamic\": true}}"));
	json_decref(OK(f, "{\"command\": \"range-add\", \"arguments\": {\"first\": \"198.18.0.200\", "
	                  "\"last\": \"198.18.0.210\"}}"));
	json_t *r = OK(f, "{\"command\": \"range-list\", \"arguments\": {\"prefix\": \"198.18.0.0/24\"}}");
	assert_int_equal(json_array_size(json_object_get(args(r), "ranges")), 2);
	json_decref(r);
	r = OK(f, "{\"command\": \"range-list\", \"arguments\": {\"prefix\": \"198.18.0.128/25\"}}");
	assert_int_equal(json_array_size(json_object_get(args(r), "ranges")), 1);
	json_decref(r);
	FAILS(f, "overlaps the range 198.18.0.200-198.18.0.210",
	      "{\"command\": \"range-edit\", \"arguments\": {\"first\": \"198.18.0.100\", \"last\": "
	      "\"198.18.0.150\", \"new_last\": \"198.18.0.205\"}}");
	FAILS(f, "no prefix holds", "{\"command\": \"range-edit\", \"arguments\": {\"first\": "
	      "\"198.18.0.100\", \"last\": \"198.18.0.150\", \"new_last\": \"198.18.1.5\"}}");
	FAILS(f, "no range", "{\"command\": \"range-edit\", \"arguments\": {\"first\": "
	      "\"198.18.0.100\", \"last\": \"198.18.0.151\", \"dynamic\": false}}");
	FAILS(f, "nothing to change", "{\"command\": \"range-edit\", \"arguments\": {\"first\": "
	      "\"198.18.0.100\", \"last\": \"198.18.0.150\"}}");
	r = OK(f, "{\"command\": \"range-edit\", \"arguments\": {\"first\": \"198.18.0.100\", "
	          "\"last\": \"198.18.0.150\", \"new_first\": \"198.18.0.90\", \"new_last\": "
	          "\"198.18.0.199\", \"dynamic\": \"no\", \"description\": \"pool\"}}");
	const json_t *rg = json_object_get(args(r), "range");
	assert_string_equal(json_string_value(json_object_get(rg, "first")), "198.18.0.90");
	assert_true(json_is_false(json_object_get(rg, "dynamic")));
	json_decref(r);
	/* the old bounds are gone, the new ones exclude addresses from alloc next */
	FAILS(f, "no range", "{\"command\": \"range-remove\", \"arguments\": {\"first\": "
	      "\"198.18.0.100\", \"last\": \"198.18.0.150\"}}");
	json_decref(OK(f, "{\"command\": \"range-remove\", \"arguments\": {\"first\": \"198.18.0.200\", "
	                  "\"last\": \"198.18.0.210\"}}"));
	r = OK(f, "{\"command\": \"range-list\"}");
	assert_int_equal(json_array_size(json_object_get(args(r), "ranges")), 1);
	json_decref(r);
}

/*
 * A NetBox export: prefixes without a zone, addresses with dns_name. Each
 * name gets its A in the zone closest to it; a name in no zone is a
 * warning; the columns not kept are named; metadata is kept and exported.
 */
static void test_import_dns(void **state)
{
	struct fx *f = *state;
	const char *csv =
		"ID,Prefix,Status,Site,Tenant,Tags,cf_site_code\\n"
		"1,198.19.0.0/24,active,FRA1,acme,\\\"prod,edge\\\",FRA1\\n"
		"\\n"
		"ID,IP Address,Status,DNS Name,Tenant,Tags,cf_rack,Assigned\\n"
		"10,198.19.0.10/24,active,a.example.test,acme,web,r1,\\n"
		"11,198.19.0.11/24,active,b.lab.example.test,,,,\\n"
		"12,198.19.0.12/24,active,c.nowhere.test,,,,\\n"
		"13,198.19.0.13/24,reserved,,,,,\\n";
	json_t *r = OK(f, "{\"command\": \"ipam-import\", \"arguments\": {\"text\": \"%s\", "
	                  "\"filename\": \"netbox.csv\"}}", csv);
	const json_t *a = args(r);
	assert_int_equal(json_integer_value(json_object_get(a, "addresses")), 4);
	assert_int_equal(json_integer_value(json_object_get(a, "records")), 2);
	assert_int_equal(json_integer_value(json_object_get(a, "warnings_total")), 1);
	const json_t *w = json_array_get(json_object_get(a, "warnings"), 0);
	assert_int_equal(json_integer_value(json_object_get(w, "line")), 7);
	assert_string_equal(json_string_value(json_object_get(w, "name")), "c.nowhere.test.");
	char *s = json_dumps(json_object_get(a, "ignored_columns"), JSON_COMPACT);
	assert_string_equal(s, "[\"ID\",\"Site\",\"Assigned\"]");
	free(s);
	assert_non_null(strstr(text(r), "1 warning"));
	json_decref(r);
	expect_rr(f, "a.example.test.", "A", "198.19.0.10");
	expect_rr(f, "b.lab.example.test.", "A", "198.19.0.11");
	r = OK(f, "{\"command\": \"address-show\", \"arguments\": {\"address\": \"198.19.0.12\"}}");
	assert_string_equal(json_string_value(json_object_get(json_object_get(args(r), "allocation"),
	                                                      "state")), "static");
	json_decref(r);

	/* export -> import into a fresh store: the same export */
	r = OK(f, "{\"command\": \"ipam-export\"}");
	char *exp1 = strdup(json_string_value(json_object_get(args(r), "text")));
	json_decref(r);
	assert_non_null(strstr(exp1, "tags,tenant,cf_site_code\n"));
	assert_non_null(strstr(exp1, "198.19.0.0/24,active,,,off,\"edge,prod\",acme,FRA1\n"));
	assert_non_null(strstr(exp1, "198.19.0.10/24,active,a.example.test,,,,,,web,acme,r1\n"));
	struct fx g = { 0 };
	void *gs = &g;
	strcpy(g.dir, "/tmp/test-ipam-model2.XXXXXX");
	assert_non_null(mkdtemp(g.dir));
	snprintf(g.db, sizeof(g.db), "%s/db", g.dir);
	struct store_options o = { .create = true, .map_size = 64u << 20 };
	struct store_error e;
	assert_int_equal(store_open(&g.s, g.db, &o, &e), 0);
	json_t *req = json_pack("{s:s, s:{s:s}}", "command", "ipam-import", "arguments", "text", exp1);
	struct cmd_ctx ctx = { .store = g.s, .actor = "unix:test", .role = CMD_ROLE_ADMIN };
	uint64_t seq = 0;
	r = cmd_exec(&ctx, req, &seq);
	json_decref(req);
	assert_int_equal(result(r), CMD_OK);
	json_decref(r);
	r = run(&g, NULL, "{\"command\": \"ipam-export\"}");
	assert_string_equal(json_string_value(json_object_get(args(r), "text")), exp1);
	json_decref(r);
	free(exp1);
	store_close(g.s);
	g.s = NULL;
	char cmd[128];
	snprintf(cmd, sizeof(cmd), "rm -rf '%s'", g.dir);
	assert_int_equal(system(cmd), 0);
	(void)gs;

	/* a bad cell anywhere: nothing of the file lands */
	uint64_t before = last_seq(f);
	FAILS(f, "bad.csv:3: column 'tags'", "{\"command\": \"ipam-import\", \"arguments\": {\"text\": "
	      "\"address,dns_name,tags\\n198.19.0.20,d.example.test,ok\\n198.19.0.21,e.example.test,"
	      "\\\"a,\\u0001\\\"\\n\", \"filename\": \"bad.csv\"}}");
	assert_int_equal(last_seq(f), before);
	expect_rr(f, "d.example.test.", "A", "");
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_alloc_closest_zone, setup, teardown),
		cmocka_unit_test_setup_teardown(test_alloc_edit, setup, teardown),
		cmocka_unit_test_setup_teardown(test_reserve, setup, teardown),
		cmocka_unit_test_setup_teardown(test_alloc_list, setup, teardown),
		cmocka_unit_test_setup_teardown(test_prefix_remove, setup, teardown),
		cmocka_unit_test_setup_teardown(test_prefix_edit, setup, teardown),
		cmocka_unit_test_setup_teardown(test_ranges, setup, teardown),
		cmocka_unit_test_setup_teardown(test_import_dns, setup, teardown),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
