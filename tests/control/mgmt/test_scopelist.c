/* test_scopelist -- every list a principal can call, row by row: a scoped principal sees its zones and prefixes only, admin and unscoped roles everything */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <cmocka.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "control/mgmt/auth.h"
#include "control/mgmt/commands.h"
#include "control/store/store.h"

static struct store *st;
static char dir[] = "/tmp/test-scopelist.XXXXXX";

static json_t *run(const struct cmd_ctx *ctx, const char *command, const char *args)
{
	json_t *a = json_loads(args, 0, NULL);
	assert_non_null(a);
	json_t *req = json_pack("{s:s, s:o}", "command", command, "arguments", a);
	json_t *rep = cmd_exec(ctx, req, NULL);
	json_decref(req);
	assert_non_null(rep);
	return rep;
}

static void ok(const struct cmd_ctx *ctx, const char *command, const char *args)
{
	json_t *rep = run(ctx, command, args);
	if (json_integer_value(json_object_get(rep, "result")) != 0)
		fail_msg("%s %s: %s", command, args, json_string_value(json_object_get(rep, "text")));
	json_decref(rep);
}

static struct auth_principal pr[3];   /* scoped reader, admin, unscoped reader */
static const char *const records[3] = {
	"{\"kind\":\"token\",\"name\":\"ta\",\"role\":\"reader\",\"zones\":[\"a.test\"],"
	"\"prefixes\":[\"198.18.1.0/24\"]}",
	"{\"kind\":\"token\",\"name\":\"adm\",\"role\":\"admin\",\"zones\":[\"a.test\"]}",
	"{\"kind\":\"token\",\"name\":\"ro\",\"role\":\"reader\"}",
};

static int setup(void **state)
{
	struct store_error e;
	struct store_options o = { .create = true, .map_size = 64u << 20 };
	char why[128];
	(void)state;
	assert_non_null(mkdtemp(dir));
	assert_int_equal(store_open(&st, dir, &o, &e), 0);
	struct cmd_ctx a = { .store = st, .actor = "unix:root", .role = CMD_ROLE_ADMIN };
	ok(&a, "zone-add", "{\"zone\":\"a.test.\"}");
	ok(&a, "zone-add", "{\"zone\":\"b.test.\"}");
	ok(&a, "zone-add", "{\"zone\":\"sub.a.test.\"}");
	ok(&a, "record-add", "{\"name\":\"www.a.test.\",\"ttl\":60,\"type\":\"A\","
	   "\"rdata\":\"198.18.1.5\"}");
	ok(&a, "record-add", "{\"name\":\"secret-b.b.test.\",\"ttl\":60,\"type\":\"TXT\","
	   "\"rdata\":\"\\\"tenant-b-value\\\"\"}");
	ok(&a, "prefix-add", "{\"prefix\":\"198.18.0.0/16\",\"description\":\"parent\"}");
	ok(&a, "record-add", "{\"name\":\"www2.b.test.\",\"ttl\":60,\"type\":\"A\","
	   "\"rdata\":\"198.18.2.9\"}");   /* both stale: no allocation in a strict prefix */
	ok(&a, "prefix-add", "{\"prefix\":\"198.18.1.0/24\",\"description\":\"pa\","
	   "\"policy\":\"strict\"}");
	ok(&a, "prefix-add", "{\"prefix\":\"198.18.1.128/25\",\"description\":\"pa-inner\"}");
	ok(&a, "prefix-add", "{\"prefix\":\"198.18.2.0/24\",\"description\":\"pb\","
	   "\"policy\":\"strict\"}");
	ok(&a, "range-add", "{\"first\":\"198.18.1.10\",\"last\":\"198.18.1.20\"}");
	ok(&a, "range-add", "{\"first\":\"198.18.2.10\",\"last\":\"198.18.2.20\"}");
	ok(&a, "range-add", "{\"first\":\"198.18.3.10\",\"last\":\"198.18.3.20\"}");   /* the parent's */
	ok(&a, "alloc-address", "{\"address\":\"198.18.2.7\",\"name\":\"h.b.test.\"}");
	ok(&a, "key-add", "{\"name\":\"ka.\"}");
	ok(&a, "key-add", "{\"name\":\"kb.\"}");
	ok(&a, "policy-add", "{\"key\":\"ka.\",\"rule\":[\"grant\",\"subdomain\",\"a.test.\",\"A\"]}");
	ok(&a, "policy-add", "{\"key\":\"kb.\",\"rule\":[\"grant\",\"subdomain\",\"b.test.\",\"A\"]}");
	ok(&a, "policy-add", "{\"key\":\"kb.\",\"rule\":[\"grant\",\"name\",\"x.sub.a.test.\",\"A\"]}");
	ok(&a, "token-add", "{\"name\":\"ta\",\"role\":\"reader\",\"zones\":[\"a.test\"]}");
	ok(&a, "token-add", "{\"name\":\"tb\",\"role\":\"reader\",\"zones\":[\"b.test\"]}");
	ok(&a, "role-add", "{\"user\":\"bob\",\"role\":\"dns-editor\",\"zones\":[\"b.test\"]}");
	for (int i = 0; i < 3; i++)
		assert_true(auth_principal_parse(&pr[i], records[i], strlen(records[i]), why, sizeof(why)));
	return 0;
}

static int teardown(void **state)
{
	char cmd[128];
	(void)state;
	store_close(st);
	snprintf(cmd, sizeof(cmd), "rm -rf %s", dir);
	return system(cmd);
}

/* The rows of a list: each row's `field`, space-separated, in the reply's order. */
static void rows(const json_t *rep, const char *key, const char *field, char *out, size_t len)
{
	const json_t *arr = json_object_get(json_object_get(rep, "arguments"), key), *r;
	size_t i, off = 0;
	out[0] = '\0';
	json_array_foreach(arr, i, r) {
		const char *v = json_string_value(json_object_get(r, field));
		char num[32];
		if (!v && json_is_integer(json_object_get(r, field))) {
			snprintf(num, sizeof(num), "%lld",
			         (long long)json_integer_value(json_object_get(r, field)));
			v = num;
		}
		off += (size_t)snprintf(out + off, len - off, "%s%s", i ? " " : "", v ? v : "?");
	}
}

/* principals x lists: the rows each one sees, exactly */
#define ALLZ "18.198.in-addr.arpa. 1.18.198.in-addr.arpa. 2.18.198.in-addr.arpa. a.test. " \
             "sub.a.test. b.test."
static const struct row {
	const char *command, *args, *key, *field;
	const char *want[3];   /* scoped reader, admin, unscoped reader */
} table[] = {
	{ "zone-list", "{}", "zones", "zone",
	  /* prefix-add made the reverse zones: names, so outside a principal with zones a.test. */
	  { "a.test. sub.a.test.", ALLZ, ALLZ } },
	{ "prefix-list", "{}", "prefixes", "prefix",
	  { "198.18.1.0/24 198.18.1.128/25",
	    "198.18.0.0/16 198.18.1.0/24 198.18.1.128/25 198.18.2.0/24",
	    "198.18.0.0/16 198.18.1.0/24 198.18.1.128/25 198.18.2.0/24" } },
	{ "prefix-tree", "{}", "prefixes", "depth",
	  { "0 1", "0 1 2 1", "0 1 2 1" } },
	{ "range-list", "{}", "ranges", "first",
	  { "198.18.1.10", "198.18.1.10 198.18.2.10 198.18.3.10",
	    "198.18.1.10 198.18.2.10 198.18.3.10" } },
	{ "key-list", "{}", "keys", "name", { "ka. kb.", "ka. kb.", "ka. kb." } },
	{ "policy-list", "{}", "rules", "name",
	  { "a.test. x.sub.a.test.", "a.test. b.test. x.sub.a.test.",
	    "a.test. b.test. x.sub.a.test." } },
	{ "conflicts", "{}", "conflicts", "name",
	  { "www.a.test.", "www.a.test. www2.b.test.", "www.a.test. www2.b.test." } },
	{ "token-list", "{}", "tokens", "name", { "ta", "ta tb", "ta tb" } },
	{ "role-list", "{}", "roles", "name", { "", "bob", "bob" } },
};

static void test_lists(void **state)
{
	char got[1024];
	(void)state;
	for (size_t t = 0; t < sizeof(table) / sizeof(table[0]); t++)
		for (int p = 0; p < 3; p++) {
			struct cmd_ctx c = { .store = st, .actor = pr[p].actor, .principal = &pr[p] };
			json_t *rep = run(&c, table[t].command, table[t].args);
			rows(rep, table[t].key, table[t].field, got, sizeof(got));
			if (strcmp(got, table[t].want[p]) != 0)
				fail_msg("%s as %s: rows \"%s\", want \"%s\"", table[t].command, pr[p].actor, got,
				         table[t].want[p]);
			json_decref(rep);
		}
}

/* The journal: a scoped principal sees its zones' and prefixes' ops only, nothing of b.test. */
static void test_journal(void **state)
{
	(void)state;
	struct cmd_ctx c = { .store = st, .actor = pr[0].actor, .principal = &pr[0] };
	json_t *rep = run(&c, "journal", "{}");
	char *text = json_dumps(rep, JSON_COMPACT);
	assert_non_null(strstr(text, "www.a.test."));
	assert_non_null(strstr(text, "sub.a.test."));
	assert_non_null(strstr(text, "198.18.1.0/24"));
	static const char *const hidden[] = { "b.test.", "tenant-b", "198.18.2.", "198.18.0.0/16",
	                                      "ka.", "kb.", "\"tb\"", "bob" };
	for (size_t i = 0; i < sizeof(hidden) / sizeof(hidden[0]); i++)
		if (strstr(text, hidden[i]))
			fail_msg("journal as %s shows %s: %s", pr[0].actor, hidden[i], text);
	/* every entry keeps at least one op, and only ops of its scope */
	json_t *e, *op;
	size_t i, k;
	json_array_foreach(json_object_get(json_object_get(rep, "arguments"), "entries"), i, e) {
		assert_true(json_array_size(json_object_get(e, "ops")) +
		            json_array_size(json_object_get(e, "ipam")) > 0);
		json_array_foreach(json_object_get(e, "ops"), k, op) {
			const char *z = json_string_value(json_object_get(op, "zone"));
			assert_true(strcmp(z, "a.test.") == 0 || strcmp(z, "sub.a.test.") == 0);
		}
	}
	free(text);
	json_decref(rep);
	/* a refusal is noted in the journal: the principal sees its own note, no other's */
	struct cmd_ctx b = { .store = st, .actor = "token:tb2", .principal = &pr[0] };
	rep = run(&c, "record-get", "{\"name\":\"www.b.test.\"}");
	json_decref(rep);
	struct auth_principal other = pr[0];
	snprintf(other.actor, sizeof(other.actor), "token:other");
	b.actor = other.actor;
	b.principal = &other;
	rep = run(&b, "zone-export", "{\"zone\":\"b.test.\"}");
	json_decref(rep);
	rep = run(&c, "journal", "{}");
	text = json_dumps(rep, JSON_COMPACT);
	assert_non_null(strstr(text, "refused record-get"));
	assert_null(strstr(text, "token:other"));
	assert_null(strstr(text, "refused zone-export"));
	free(text);
	json_decref(rep);
	/* admin and the unscoped reader: the whole journal, b.test. included */
	for (int p = 1; p < 3; p++) {
		struct cmd_ctx c2 = { .store = st, .actor = pr[p].actor, .principal = &pr[p] };
		rep = run(&c2, "journal", "{}");
		text = json_dumps(rep, JSON_COMPACT);
		assert_non_null(strstr(text, "secret-b.b.test."));
		assert_non_null(strstr(text, "198.18.2.0/24"));
		free(text);
		json_decref(rep);
	}
}

/* Reads that would list every tenant are refused to a scoped principal; counters are not. */
static void test_refused_and_counters(void **state)
{
	(void)state;
	struct cmd_ctx c = { .store = st, .actor = pr[0].actor, .principal = &pr[0] };
	static const char *const refused[] = { "history" };
	for (size_t i = 0; i < sizeof(refused) / sizeof(refused[0]); i++) {
		json_t *rep = run(&c, refused[i], "{}");
		assert_int_equal(json_integer_value(json_object_get(rep, "result")), 1);
		assert_non_null(strstr(json_string_value(json_object_get(rep, "text")), "access denied"));
		json_decref(rep);
	}
	/* stale with no zone: the report of its rows; a zone of another tenant: refused */
	json_t *rep = run(&c, "stale", "{}");
	char *text = json_dumps(rep, JSON_COMPACT);
	assert_non_null(strstr(text, "\"unallocated\":[{\"name\":\"www.a.test.\""));
	assert_true(json_integer_value(json_object_get(rep, "result")) == 0 ||
	            json_integer_value(json_object_get(rep, "result")) == 3);
	assert_null(strstr(text, "b.test."));
	assert_null(strstr(text, "198.18.2."));
	free(text);
	json_decref(rep);
	rep = run(&c, "stale", "{\"zone\":\"b.test.\"}");
	assert_int_equal(json_integer_value(json_object_get(rep, "result")), 1);
	json_decref(rep);
	struct cmd_ctx adm = { .store = st, .actor = pr[1].actor, .principal = &pr[1] };
	rep = run(&adm, "stale", "{}");
	text = json_dumps(rep, JSON_COMPACT);
	assert_non_null(strstr(text, "www.a.test."));   /* admin: both tenants' stale records */
	assert_non_null(strstr(text, "www2.b.test."));
	free(text);
	json_decref(rep);
	rep = run(&c, "status", "{}");
	assert_int_equal(json_integer_value(json_object_get(rep, "result")), 0);
	json_decref(rep);
	/* ipam-export: the CSV rows of its prefixes; an unscoped reader's holds them all */
	rep = run(&c, "ipam-export", "{}");
	const char *csv = json_string_value(json_object_get(json_object_get(rep, "arguments"), "text"));
	assert_non_null(csv);
	assert_non_null(strstr(csv, "198.18.1.0/24"));
	assert_non_null(strstr(csv, "198.18.1.128/25"));
	assert_null(strstr(csv, "198.18.2."));
	assert_null(strstr(csv, "198.18.0.0/16"));
	json_decref(rep);
	struct cmd_ctx r = { .store = st, .actor = pr[2].actor, .principal = &pr[2] };
	rep = run(&r, "ipam-export", "{}");
	csv = json_string_value(json_object_get(json_object_get(rep, "arguments"), "text"));
	assert_non_null(csv);
	assert_non_null(strstr(csv, "198.18.2.7"));
	assert_non_null(strstr(csv, "198.18.0.0/16"));
	json_decref(rep);
}

/* Every read of the command table is decided: scoped by argument, filtered, or counters. */
static void test_every_read_declared(void **state)
{
	(void)state;
	static const char *const refused[] = { NULL };
	struct cmd_ctx ctx = { .role = CMD_ROLE_ADMIN };
	json_t *req = json_pack("{s:s}", "command", "list-commands");
	json_t *reply = cmd_exec(&ctx, req, NULL), *c;
	size_t i;
	json_array_foreach(json_object_get(json_object_get(reply, "arguments"), "commands"), i, c) {
		const char *name = json_string_value(json_object_get(c, "command"));
		bool listed = false;
		for (size_t k = 0; refused[k]; k++)
			listed = listed || strcmp(refused[k], name) == 0;
		if (strcmp(json_string_value(json_object_get(c, "role")), "read-only") == 0 && !listed &&
		    !auth_read_declared(name))
			fail_msg("read %s is neither scoped, filtered nor counters (auth.c)", name);
	}
	json_decref(req);
	json_decref(reply);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_lists),
		cmocka_unit_test(test_journal),
		cmocka_unit_test(test_refused_and_counters),
		cmocka_unit_test(test_every_read_declared),
	};
	return cmocka_run_group_tests(tests, setup, teardown);
}
