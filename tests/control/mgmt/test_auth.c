/* test_auth -- scoped roles: the decision, the scope table against the command table, tokens and their hashes, principals in a store, the HTTP router */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <cmocka.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "control/mgmt/auth.h"
#include "control/mgmt/commands.h"
#include "control/mgmt/http.h"
#include "control/store/store.h"
#include "dns/errcode.h"

/* A principal from the JSON form of its record. */
static struct auth_principal *mk(const char *json)
{
	static struct auth_principal p;
	char why[128];
	assert_true(auth_principal_parse(&p, json, strlen(json), why, sizeof(why)));
	return &p;
}

static bool allow(const struct auth_principal *p, const char *cmd, const char *args, char *why)
{
	json_t *a = json_loads(args, 0, NULL);
	assert_non_null(a);
	bool ok = auth_allow(p, cmd, cmd_role_needed(cmd), a, why, 512);
	json_decref(a);
	return ok;
}

static void test_roles(void **state)
{
	char why[512];
	(void)state;
	struct auth_principal *r = mk("{\"kind\":\"token\",\"name\":\"ro\",\"role\":\"reader\"}");
	assert_string_equal(r->actor, "token:ro");
	assert_true(allow(r, "record-list", "{\"zone\":\"a.test.\"}", why));
	assert_true(allow(r, "journal", "{}", why));
	assert_false(allow(r, "record-add", "{\"name\":\"x.a.test.\"}", why));
	assert_non_null(strstr(why, "needs the dns-editor role (or admin), token:ro has reader"));
	assert_false(allow(r, "zone-add", "{\"zone\":\"b.test.\"}", why));
	assert_non_null(strstr(why, "zone-add needs the admin role"));
	struct auth_principal *rs = mk("{\"kind\":\"token\",\"name\":\"ros\",\"role\":\"reader\","
	                               "\"zones\":[\"a.test\"],\"prefixes\":[\"198.18.1.0/24\"]}");
	assert_true(allow(rs, "zone-export", "{\"zone\":\"a.test\"}", why));
	assert_false(allow(rs, "zone-export", "{\"zone\":\"b.test\"}", why));
	assert_non_null(strstr(why, "token:ros (reader for a.test. 198.18.1.0/24) may not read b.test"));
	assert_true(allow(rs, "utilization", "{\"prefix\":\"198.18.1.0/24\"}", why));
	assert_false(allow(rs, "utilization", "{\"prefix\":\"198.18.2.0/24\"}", why));
	assert_false(allow(rs, "record-add", "{\"name\":\"x.a.test.\"}", why));   /* still no change */

	struct auth_principal *d = mk("{\"kind\":\"user\",\"name\":\"alice\",\"role\":\"dns-editor\","
	                              "\"zones\":[\"A.Test\"]}");
	assert_string_equal(d->actor, "unix:alice");
	assert_true(allow(d, "record-add", "{\"name\":\"www.a.test\"}", why));
	assert_true(allow(d, "record-delete", "{\"name\":\"a.test.\"}", why));   /* the apex */
	assert_false(allow(d, "record-add", "{\"name\":\"www.b.test.\"}", why));
	assert_non_null(strstr(why, "unix:alice (dns-editor for a.test.) may not change www.b.test.: "
	                            "outside its zones"));
	assert_false(allow(d, "record-add", "{\"name\":\"xa.test.\"}", why));   /* a label, not a suffix */
	assert_false(allow(d, "record-add", "{}", why));
	assert_true(allow(d, "changes", "{\"changes\":[{\"name\":\"x.a.test\"},{\"name\":\"y.a.test\"}]}",
	                  why));
	assert_false(allow(d, "changes", "{\"changes\":[{\"name\":\"x.a.test\"},{\"name\":\"y.b.test\"}]}",
	                   why));
	assert_false(allow(d, "changes", "{\"changes\":{}}", why));
	assert_false(allow(d, "alloc-next", "{\"prefix\":\"198.18.1.0/24\"}", why));
	assert_false(allow(d, "zone-import", "{\"zone\":\"a.test.\"}", why));
	/* reads that name a zone or name: inside its zones only; lists of everything stay open */
	assert_true(allow(d, "record-list", "{\"zone\":\"a.test.\"}", why));
	assert_true(allow(d, "record-get", "{\"name\":\"www.a.test.\"}", why));
	assert_false(allow(d, "record-get", "{\"name\":\"www.b.test.\"}", why));
	assert_non_null(strstr(why, "unix:alice (dns-editor for a.test.) may not read www.b.test.: "
	                            "outside its zones"));
	assert_false(allow(d, "zone-export", "{\"zone\":\"b.test.\"}", why));
	assert_false(allow(d, "diff", "{\"zone\":\"b.test.\"}", why));
	assert_false(allow(d, "record-list", "{}", why));
	assert_true(allow(d, "zone-list", "{}", why));
	assert_true(allow(d, "prefix-show", "{\"prefix\":\"198.18.9.0/24\"}", why));   /* no prefixes named */

	struct auth_principal *i = mk("{\"kind\":\"token\",\"name\":\"ip\",\"role\":\"ipam-editor\","
	                              "\"prefixes\":[\"198.18.1.0/24\",\"2001:2:0:1::/64\"]}");
	assert_true(allow(i, "alloc-next", "{\"prefix\":\"198.18.1.0/24\",\"name\":\"h.b.test\"}", why));
	assert_true(allow(i, "alloc-next", "{\"prefix\":\"198.18.1.128/25\"}", why));
	assert_true(allow(i, "alloc-address", "{\"address\":\"2001:2:0:1::5\"}", why));
	assert_true(allow(i, "release", "{\"address\":\"198.18.1.9\"}", why));
	assert_false(allow(i, "alloc-next", "{\"prefix\":\"198.18.0.0/23\"}", why));   /* wider */
	assert_false(allow(i, "alloc-address", "{\"address\":\"198.18.2.1\"}", why));
	assert_non_null(strstr(why, "outside its prefixes"));
	assert_true(allow(i, "range-add", "{\"first\":\"198.18.1.10\",\"last\":\"198.18.1.20\"}", why));
	assert_false(allow(i, "range-add", "{\"first\":\"198.18.1.10\",\"last\":\"198.18.2.20\"}", why));
	assert_true(allow(i, "range-edit", "{\"first\":\"198.18.1.10\",\"last\":\"198.18.1.20\","
	                  "\"new_last\":\"198.18.1.30\"}", why));
	assert_false(allow(i, "range-edit", "{\"first\":\"198.18.1.10\",\"last\":\"198.18.1.20\","
	                   "\"new_last\":\"198.18.2.30\"}", why));   /* grown out of its prefix */
	assert_true(allow(i, "alloc-edit", "{\"address\":\"198.18.1.9\",\"name\":\"x.b.test\"}", why));
	assert_false(allow(i, "alloc-reserve", "{\"address\":\"198.18.2.9\"}", why));
	assert_true(allow(i, "alloc-list", "{\"prefix\":\"198.18.1.0/25\"}", why));
	assert_false(allow(i, "alloc-list", "{\"prefix\":\"198.18.2.0/24\"}", why));
	assert_false(allow(i, "utilization", "{\"prefix\":\"198.18.0.0/16\"}", why));   /* wider */
	assert_true(allow(i, "address-show", "{\"address\":\"2001:2:0:1::9\"}", why));
	assert_false(allow(i, "address-show", "{\"address\":\"198.18.2.9\"}", why));
	assert_true(allow(i, "record-get", "{\"name\":\"any.b.test.\"}", why));   /* no zones named */
	assert_false(allow(i, "alloc-next", "{\"prefix\":\"not-an-address\"}", why));
	assert_false(allow(i, "record-add", "{\"name\":\"h.b.test\"}", why));

	struct auth_principal *any = mk("{\"kind\":\"token\",\"name\":\"e\",\"role\":\"dns-editor\"}");
	assert_true(allow(any, "record-add", "{\"name\":\"anything.test.\"}", why));   /* no --zone */
	struct auth_principal *adm = mk("{\"kind\":\"token\",\"name\":\"a\",\"role\":\"admin\"}");
	assert_true(allow(adm, "zone-remove", "{\"zone\":\"a.test.\"}", why));
	assert_true(allow(adm, "token-add", "{}", why));
}

static void test_bad_records(void **state)
{
	struct auth_principal p;
	char why[128];
	(void)state;
	static const char *const bad[] = {
		"not json", "[]", "{\"kind\":\"token\",\"name\":\"x\"}",
		"{\"kind\":\"key\",\"name\":\"x\",\"role\":\"admin\"}",
		"{\"kind\":\"token\",\"name\":\"X\",\"role\":\"admin\"}",
		"{\"kind\":\"token\",\"name\":\"x\",\"role\":\"root\"}",
		"{\"kind\":\"token\",\"name\":\"x\",\"role\":\"dns-editor\",\"zones\":[1]}",
		"{\"kind\":\"token\",\"name\":\"x\",\"role\":\"ipam-editor\",\"prefixes\":[\"198.18.1.1/24\"]}",
	};
	for (size_t k = 0; k < sizeof(bad) / sizeof(bad[0]); k++)
		assert_false(auth_principal_parse(&p, bad[k], strlen(bad[k]), why, sizeof(why)));
}

/*
 * Every command that needs admin in the table is either declared in the
 * scope table or admin-only on purpose, here: a new command must choose.
 */
static void test_every_command_declared(void **state)
{
	static const char *const admin_only[] = {
		"zone-add", "zone-remove", "zone-refresh", "zone-import", "backup", "shutdown", "reload",
		"key-add", "key-remove", "policy-add", "policy-remove", "ipam-import", "zone-acl",
		"token-add", "token-remove", "role-add", "role-remove", "catalog-add", "catalog-remove",
		"lease-sweep", "revert",   /* every zone's leases; a journal entry's names */
		NULL,
	};
	(void)state;
	struct cmd_ctx ctx = { .role = CMD_ROLE_ADMIN };
	json_t *req = json_pack("{s:s}", "command", "list-commands");
	json_t *reply = cmd_exec(&ctx, req, NULL), *c;
	size_t i, n = 0;
	json_array_foreach(json_object_get(json_object_get(reply, "arguments"), "commands"), i, c) {
		const char *name = json_string_value(json_object_get(c, "command"));
		const char *role = json_string_value(json_object_get(c, "role"));
		bool listed = false;
		for (size_t k = 0; admin_only[k]; k++)
			listed = listed || strcmp(admin_only[k], name) == 0;
		if (strcmp(role, "admin") == 0 && !listed && !auth_command_declared(name))
			fail_msg("command %s changes something and declares no scope (auth.c) nor is it "
			         "admin-only (this test)", name);
		n++;
	}
	assert_true(n > 30);
	json_decref(req);
	json_decref(reply);
}

static void test_tokens(void **state)
{
	char tok[AUTH_TOKEN_LEN + 1], tok2[AUTH_TOKEN_LEN + 1], name[AUTH_NAME_MAX + 1];
	char h[AUTH_HASH_HEX + 1], h2[AUTH_HASH_HEX + 1];
	(void)state;
	auth_token_hash("abc", h);   /* FIPS 180-2 B.1 */
	assert_string_equal(h, "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad");
	assert_int_equal(auth_token_make(tok, "ci-1"), DDI_EOK);
	assert_int_equal(auth_token_make(tok2, "ci-1"), DDI_EOK);
	assert_string_not_equal(tok, tok2);
	assert_int_equal(strlen(tok), 4 + 4 + 1 + 64);
	assert_true(auth_token_name(tok, name));
	assert_string_equal(name, "ci-1");
	auth_token_hash(tok, h);
	auth_token_hash(tok2, h2);
	assert_true(auth_hash_equal(h, h));
	assert_false(auth_hash_equal(h, h2));
	assert_false(auth_hash_equal(h, "abc"));
	assert_int_equal(auth_token_make(tok, "Bad"), DDI_EINVAL);
	assert_false(auth_token_name("ddi_ci_1234", name));
	assert_false(auth_token_name("xyz_ci_0000000000000000000000000000000000000000000000000000000000000000", name));
	assert_false(auth_token_name("ddi__0000000000000000000000000000000000000000000000000000000000000000", name));
	assert_false(auth_token_name("ddi_ci_000000000000000000000000000000000000000000000000000000000000000g", name));
	assert_true(auth_token_name("ddi_a_b_0000000000000000000000000000000000000000000000000000000000000000", name));
	assert_string_equal(name, "a_b");
}

static void test_prefixes(void **state)
{
	struct auth_prefix a, b;
	(void)state;
	assert_true(auth_prefix_parse("198.18.0.0/15", &a));
	assert_true(auth_prefix_parse("198.19.255.255", &b));
	assert_int_equal(b.plen, 32);
	assert_true(auth_prefix_within(&b, &a));
	assert_false(auth_prefix_within(&a, &b));
	assert_false(auth_prefix_parse("198.18.0.1/15", &a));    /* host bits */
	assert_false(auth_prefix_parse("198.18.0.0/33", &a));
	assert_false(auth_prefix_parse("198.18.0.0/", &a));
	assert_false(auth_prefix_parse("198.18.0.0/-1", &a));
	assert_false(auth_prefix_parse("/24", &a));
	assert_true(auth_prefix_parse("2001:2::/48", &a));
	assert_true(auth_prefix_parse("2001:2:0:ffff::1", &b));
	assert_true(auth_prefix_within(&b, &a));
	assert_true(auth_prefix_parse("198.18.0.0/15", &b));
	assert_false(auth_prefix_within(&b, &a));   /* families differ */
	assert_true(auth_prefix_parse("0.0.0.0/0", &a));
	assert_true(auth_prefix_within(&b, &a));
}

/* Principals written by the commands and read back the way the API and the socket do. */
static void test_store_principals(void **state)
{
	char dir[] = "/tmp/test-auth.XXXXXX", why[256];
	struct store *s;
	struct store_error e;
	struct store_options o = { .create = true, .map_size = 64u << 20 };
	struct auth_principal p;
	uint64_t seq;
	(void)state;
	assert_non_null(mkdtemp(dir));
	assert_int_equal(store_open(&s, dir, &o, &e), 0);
	struct cmd_ctx ctx = { .store = s, .actor = "unix:root", .role = CMD_ROLE_ADMIN };
	json_t *req = json_pack("{s:s, s:{s:s, s:s, s:[s]}}", "command", "token-add", "arguments",
	                        "name", "ci", "role", "dns-editor", "zones", "a.test");
	json_t *rep = cmd_exec(&ctx, req, &seq);
	assert_int_equal(json_integer_value(json_object_get(rep, "result")), CMD_OK);
	assert_true(seq > 0);
	char *tok = strdup(json_string_value(json_object_get(json_object_get(rep, "arguments"), "token")));
	json_decref(rep);
	rep = cmd_exec(&ctx, req, &seq);   /* the same name again: refused, the first kept */
	assert_int_equal(json_integer_value(json_object_get(rep, "result")), CMD_ERROR);
	assert_non_null(strstr(json_string_value(json_object_get(rep, "text")), "token ci exists"));
	json_decref(rep);
	json_decref(req);

	assert_int_equal(auth_token_principal(s, tok, &p, why, sizeof(why)), DDI_EOK);
	assert_string_equal(p.actor, "token:ci");
	assert_int_equal(p.role, AUTH_ROLE_DNS_EDITOR);
	assert_int_equal(p.nzones, 1);
	tok[strlen(tok) - 1] ^= 1;   /* one bit of the secret */
	assert_int_equal(auth_token_principal(s, tok, &p, why, sizeof(why)), DDI_EACCES);
	assert_string_equal(why, "unknown or revoked token");
	tok[strlen(tok) - 1] ^= 1;

	/* nothing of the token in the store: list shows no hash, no token */
	req = json_pack("{s:s}", "command", "token-list");
	rep = cmd_exec(&ctx, req, NULL);
	char *text = json_dumps(rep, 0);
	assert_null(strstr(text, tok + 8));
	assert_null(strstr(text, "hash"));
	free(text);
	json_decref(rep);
	json_decref(req);

	/* a token used outside its scope: refused, journaled as the token */
	struct cmd_ctx tctx = { .store = s, .actor = p.actor, .principal = &p };
	req = json_pack("{s:s, s:{s:s, s:s, s:i, s:s}}", "command", "record-add", "arguments", "name",
	                "x.b.test.", "type", "A", "ttl", 60, "rdata", "198.18.0.1");
	rep = cmd_exec(&tctx, req, &seq);
	assert_int_equal(json_integer_value(json_object_get(rep, "result")), CMD_ERROR);
	assert_non_null(strstr(json_string_value(json_object_get(rep, "text")), "access denied"));
	assert_int_equal(seq, 0);
	json_decref(rep);
	json_decref(req);

	req = json_pack("{s:s, s:{s:s}}", "command", "token-remove", "arguments", "name", "ci");
	rep = cmd_exec(&ctx, req, &seq);
	assert_int_equal(json_integer_value(json_object_get(rep, "result")), CMD_OK);
	json_decref(rep);
	rep = cmd_exec(&ctx, req, &seq);
	assert_int_equal(json_integer_value(json_object_get(rep, "result")), CMD_ERROR);
	json_decref(rep);
	json_decref(req);
	assert_int_equal(auth_token_principal(s, tok, &p, why, sizeof(why)), DDI_EACCES);

	req = json_pack("{s:s, s:{s:s, s:s, s:[s]}}", "command", "role-add", "arguments", "user",
	                "alice", "role", "ipam-editor", "prefixes", "198.18.4.0/24");
	rep = cmd_exec(&ctx, req, &seq);
	assert_int_equal(json_integer_value(json_object_get(rep, "result")), CMD_OK);
	json_decref(rep);
	uint64_t seq2;
	uint64_t last = 0;
	assert_int_equal(store_last_seq(s, &last, &e), 0);
	rep = cmd_exec(&ctx, req, &seq2);   /* the same role again: no change, no entry */
	assert_int_equal(json_integer_value(json_object_get(rep, "result")), CMD_OK);
	uint64_t after = 0;
	assert_int_equal(store_last_seq(s, &after, &e), 0);
	assert_int_equal(after, last);
	json_decref(rep);
	json_decref(req);
	assert_int_equal(auth_user_principal(s, "alice", &p), DDI_EOK);
	assert_string_equal(p.actor, "unix:alice");
	assert_int_equal(p.nprefixes, 1);
	assert_int_equal(auth_user_principal(s, "bob", &p), DDI_ENOENT);

	struct auth_stats st;
	auth_get_stats(&st);
	assert_true(st.refused >= 1 && st.noted >= 1);
	free(tok);
	store_close(s);
	char cmd[128];
	snprintf(cmd, sizeof(cmd), "rm -rf %s", dir);
	assert_int_equal(system(cmd), 0);
}

static unsigned route(const char *m, const char *path, const char *query, const char *body,
                      struct http_call *c)
{
	char why[512];
	json_t *q = query ? json_loads(query, 0, NULL) : NULL;
	unsigned st = http_route(m, path, q, body, body ? strlen(body) : 0, c, why, sizeof(why));
	json_decref(q);
	return st;
}

static const char *arg(const struct http_call *c, const char *k)
{
	return json_string_value(json_object_get(json_object_get(c->request, "arguments"), k));
}

static void test_router(void **state)
{
	struct http_call c;
	(void)state;
	assert_int_equal(route("PUT", "/api/v1/records/www.a.test/A", NULL, "{\"ttl\":60,\"rdata\":\"198.18.0.1\"}", &c), 0);
	assert_string_equal(json_string_value(json_object_get(c.request, "command")), "record-replace");
	assert_string_equal(arg(&c, "name"), "www.a.test");
	assert_string_equal(arg(&c, "type"), "A");
	assert_string_equal(arg(&c, "rdata"), "198.18.0.1");
	json_decref(c.request);
	/* path parameters win over the body's */
	assert_int_equal(route("PUT", "/api/v1/records/www.a.test/A", NULL, "{\"name\":\"evil.b.test\"}", &c), 0);
	assert_string_equal(arg(&c, "name"), "www.a.test");
	json_decref(c.request);
	assert_int_equal(route("POST", "/api/v1/prefixes/198.18.1.0/24/allocations", NULL, "{\"name\":\"h\"}", &c), 0);
	assert_string_equal(json_string_value(json_object_get(c.request, "command")), "alloc-next");
	assert_string_equal(arg(&c, "prefix"), "198.18.1.0/24");
	assert_true(c.created);
	json_decref(c.request);
	assert_int_equal(route("GET", "/api/v1/zones/a.test/records", "{\"type\":\"A\",\"limit\":\"2\",\"cursor\":\"4\"}", NULL, &c), 0);
	assert_int_equal(c.kind, HTTP_R_LIST);
	assert_int_equal(c.limit, 2);
	assert_int_equal(c.offset, 4);
	assert_string_equal(arg(&c, "type"), "A");
	assert_null(arg(&c, "limit"));
	json_decref(c.request);
	assert_int_equal(route("GET", "/api/v1/journal", "{\"cursor\":\"17\",\"limit\":\"5\"}", NULL, &c), 0);
	assert_int_equal(json_integer_value(json_object_get(json_object_get(c.request, "arguments"), "since")), 17);
	json_decref(c.request);
	assert_int_equal(route("DELETE", "/api/v1/allocations/198.18.1.5", NULL, NULL, &c), 0);
	assert_int_equal(c.kind, HTTP_R_ALLOC_DELETE);
	json_decref(c.request);
	assert_int_equal(route("GET", "/api/v1/openapi.json", NULL, NULL, &c), 0);
	assert_int_equal(c.kind, HTTP_R_OPENAPI);
	assert_int_equal(route("POST", "/api/v1/commands", NULL, "{\"command\":\"status\"}", &c), 0);
	json_decref(c.request);

	assert_int_equal(route("GET", "/api/v1/nothing", NULL, NULL, &c), 404);
	assert_int_equal(route("GET", "/api/v1/zones/", NULL, NULL, &c), 404);
	assert_int_equal(route("GET", "//api/v1/zones", NULL, NULL, &c), 404);
	assert_int_equal(route("GET", "", NULL, NULL, &c), 404);
	assert_int_equal(route("GET", "/a/b/c/d/e/f/g/h/i/j", NULL, NULL, &c), 404);
	assert_int_equal(route("PATCH", "/api/v1/zones", NULL, NULL, &c), 405);
	assert_int_equal(route("POST", "/api/v1/records", NULL, "[1]", &c), 400);
	assert_int_equal(route("POST", "/api/v1/records", NULL, "{\"a\":1,\"a\":2}", &c), 400);
	assert_int_equal(route("POST", "/api/v1/commands", NULL, "{}", &c), 400);
	assert_int_equal(route("GET", "/api/v1/zones", "{\"limit\":\"0\"}", NULL, &c), 400);
	assert_int_equal(route("GET", "/api/v1/zones", "{\"limit\":\"1001\"}", NULL, &c), 400);
	assert_int_equal(route("GET", "/api/v1/zones", "{\"cursor\":\"-1\"}", NULL, &c), 400);

	/* statuses of replies */
	struct http_call lc = { .kind = HTTP_R_LIST }, pc = { .kind = HTTP_R_PLAIN, .created = true };
	json_t *r = cmd_reply(CMD_EMPTY, NULL, "0 zones");
	assert_int_equal(http_status_of(&lc, r), 200);
	assert_int_equal(http_status_of(&pc, r), 404);
	json_decref(r);
	r = cmd_reply(CMD_OK, NULL, "done");
	assert_int_equal(http_status_of(&pc, r), 201);
	json_decref(r);
	r = cmd_reply(CMD_ERROR, NULL, "record-add: access denied: x");
	assert_int_equal(http_status_of(&pc, r), 403);
	json_decref(r);
	r = cmd_reply(CMD_UNSUPPORTED, NULL, "unknown command 'range-list' (see list-commands)");
	assert_int_equal(http_status_of(&pc, r), 501);
	json_decref(r);
}

static void test_http_start_refusals(void **state)
{
	struct http *h = NULL;
	char err[512];
	(void)state;
	struct http_conf c = { .listen = "198.18.0.1:8080" };
	assert_int_equal(http_start(&h, &c, err, sizeof(err)), DDI_EINVAL);
	assert_non_null(strstr(err, "plain HTTP only on a loopback address"));
	c.listen = "[2001:2::1]:8080";
	assert_int_equal(http_start(&h, &c, err, sizeof(err)), DDI_EINVAL);
	c.listen = "127.0.0.1";
	assert_int_equal(http_start(&h, &c, err, sizeof(err)), DDI_EINVAL);
	assert_non_null(strstr(err, "give IP:PORT"));
	c.listen = "127.0.0.1:8080";
	c.cert = "/nonexistent/cert.pem";
	assert_int_equal(http_start(&h, &c, err, sizeof(err)), DDI_EINVAL);
	assert_non_null(strstr(err, "go together"));
	c.key = "/nonexistent/key.pem";
	assert_true(http_start(&h, &c, err, sizeof(err)) < 0);
	assert_non_null(strstr(err, "/nonexistent/cert.pem"));
	assert_null(h);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_roles),
		cmocka_unit_test(test_bad_records),
		cmocka_unit_test(test_every_command_declared),
		cmocka_unit_test(test_tokens),
		cmocka_unit_test(test_prefixes),
		cmocka_unit_test(test_store_principals),
		cmocka_unit_test(test_router),
		cmocka_unit_test(test_http_start_refusals),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
