/* fuzz_ctl -- a control-socket request from anyone: JSON parsed as the socket does, then the command table on a scratch store */
#include <stdint.h>
#include <string.h>

#include <jansson.h>

#include "control/mgmt/commands.h"
#include "tests/fuzz/fuzz_store.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct store *st = fuzz_store();
	json_error_t je;
	json_t *req = json_loadb((const char *)data, size, JSON_REJECT_DUPLICATES, &je);
	if (!req)
		return 0;
	/*
	 * Commands that act on the machine rather than on the store are left
	 * out: backup writes a directory wherever it is told, shutdown asks the
	 * server to stop (no server here, but no reason to try).
	 */
	json_t *c = json_is_object(req) ? json_object_get(req, "command") : NULL;
	const char *name = json_is_string(c) ? json_string_value(c) : "";
	if (strcmp(name, "backup") != 0 && strcmp(name, "shutdown") != 0) {
		for (int role = CMD_ROLE_READ; role <= CMD_ROLE_ADMIN; role++) {
			struct cmd_ctx ctx = { .store = st, .actor = "fuzz", .role = role };
			uint64_t seq;
			json_t *rep = cmd_exec(&ctx, req, &seq);
			/* every request gets a reply in the documented shape */
			if (!rep || !json_is_integer(json_object_get(rep, "result")) ||
			    !json_is_string(json_object_get(rep, "text")))
				__builtin_trap();
			json_decref(rep);
		}
	}
	json_decref(req);
	return 0;
}
