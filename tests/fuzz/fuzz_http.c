/* fuzz_http -- an HTTP API request from anyone: method, path, query and JSON body through the router, then the command table as a scoped and as an admin principal on a scratch store */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <jansson.h>

#include "control/mgmt/auth.h"
#include "control/mgmt/commands.h"
#include "control/mgmt/http.h"
#include "tests/fuzz/fuzz_store.h"

/*
 * Input: "METHOD PATH[?k=v&k=v...]\n" then the body (what libmicrohttpd
 * hands the handler: the path unescaped, the query split into pairs).
 */
static json_t *query_of(char *q)
{
	json_t *o = json_object();
	for (char *kv = strtok(q, "&"); kv && json_object_size(o) < 32; kv = strtok(NULL, "&")) {
		char *eq = strchr(kv, '=');
		if (eq)
			*eq = '\0';
		json_t *v = json_string(eq ? eq + 1 : "");
		if (v)
			json_object_set_new(o, kv, v);
	}
	return o;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	const char *nl = memchr(data, '\n', size);
	if (!nl || nl - (const char *)data > 2048)
		return 0;
	size_t hl = (size_t)(nl - (const char *)data);
	char *head = strndup((const char *)data, hl);
	char *sp = head ? strchr(head, ' ') : NULL;
	if (!sp) {
		free(head);
		return 0;
	}
	*sp = '\0';
	char *path = sp + 1, *qm = strchr(path, '?');
	if (qm)
		*qm = '\0';
	json_t *query = query_of(qm ? qm + 1 : (char *)"");
	struct http_call call;
	char why[512];
	unsigned st = http_route(head, path, query, nl + 1, size - hl - 1, &call, why, sizeof(why));
	if (st && (st < 400 || st > 599 || call.request || !why[0]))
		__builtin_trap();   /* a refusal is an error status with a reason and no request */
	const char *cmd = json_string_value(json_object_get(call.request, "command"));
	if (!st && call.request && cmd && strcmp(cmd, "backup") != 0 && strcmp(cmd, "shutdown") != 0) {
		static const char *const who[] = {
			"{\"kind\":\"token\",\"name\":\"ed\",\"role\":\"dns-editor\",\"zones\":[\"ddi.test.\"]}",
			"{\"kind\":\"token\",\"name\":\"ip\",\"role\":\"ipam-editor\",\"prefixes\":[\"198.18.0.0/24\"]}",
			"{\"kind\":\"token\",\"name\":\"adm\",\"role\":\"admin\"}",
		};
		struct store *s = fuzz_store();
		for (size_t i = 0; i < sizeof(who) / sizeof(who[0]); i++) {
			struct auth_principal p;
			if (!auth_principal_parse(&p, who[i], strlen(who[i]), why, sizeof(why)))
				__builtin_trap();
			struct cmd_ctx ctx = { .store = s, .actor = p.actor, .principal = &p };
			uint64_t seq;
			json_t *rep = cmd_exec(&ctx, call.request, &seq);
			unsigned hs = http_status_of(&call, rep);
			if (!rep || !json_is_string(json_object_get(rep, "text")) || hs < 200 || hs > 599)
				__builtin_trap();
			json_decref(rep);
		}
	}
	json_decref(call.request);
	json_decref(query);
	free(head);
	return 0;
}
