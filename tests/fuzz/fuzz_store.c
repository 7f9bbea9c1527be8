/* fuzz_store -- a scratch LMDB store for the control-plane harnesses (fuzz_store.h) */
#include <ftw.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "control/mgmt/commands.h"
#include "control/store/store.h"
#include "dns/errcode.h"
#include "tests/fuzz/fuzz_store.h"

static struct store *st;
static char dir[] = "/dev/shm/ddi-fuzz-XXXXXX";

static int rm_one(const char *path, const struct stat *sb, int flag, struct FTW *ftw)
{
	(void)sb, (void)flag, (void)ftw;
	return remove(path);
}

static void cleanup(void)
{
	store_close(st);
	st = NULL;
	nftw(dir, rm_one, 8, FTW_DEPTH | FTW_PHYS);
}

void fuzz_store_cmd(const char *json)
{
	json_error_t je;
	json_t *req = json_loads(json, 0, &je);
	struct cmd_ctx ctx = { .store = st, .actor = "fuzz", .role = CMD_ROLE_ADMIN };
	json_t *rep = req ? cmd_exec(&ctx, req, NULL) : NULL;
	json_t *res = rep ? json_object_get(rep, "result") : NULL;
	if (!res || json_integer_value(res) != CMD_OK) {
		char *t = rep ? json_dumps(rep, 0) : NULL;
		fprintf(stderr, "fuzz_store: %s -> %s\n", json, t ? t : "(no reply)");
		abort();
	}
	json_decref(req);
	json_decref(rep);
}

/* A zone file of share/ as a zone-import command. */
static void import(const char *origin)
{
	char path[1024];
	snprintf(path, sizeof(path), "%s/%szone", FUZZ_SHARE_DIR, origin);
	FILE *f = fopen(path, "r");
	static char text[1 << 16];
	size_t n = f ? fread(text, 1, sizeof(text) - 1, f) : 0;
	if (!f || n == 0) {
		perror(path);
		abort();
	}
	fclose(f);
	text[n] = 0;
	json_t *req = json_pack("{s:s, s:{s:s, s:s}}", "command", "zone-import", "arguments", "zone",
	                        origin, "text", text);
	char *s = json_dumps(req, 0);
	fuzz_store_cmd(s);
	free(s);
	json_decref(req);
}

struct store *fuzz_store(void)
{
	if (st)
		return st;
	struct store_error e;
	struct store_options opt = { .create = true, .map_size = (size_t)1 << 30 };
	if (!mkdtemp(dir) || store_open(&st, dir, &opt, &e) != DDI_EOK) {
		fprintf(stderr, "fuzz_store: %s: %s\n", dir, st ? "" : e.msg);
		abort();
	}
	atexit(cleanup);
	import("ddi.test.");
	import("0.18.198.in-addr.arpa.");
	import("0.0.0.0.0.0.0.0.2.0.0.0.1.0.0.2.ip6.arpa.");
	fuzz_store_cmd("{\"command\": \"policy-add\", \"arguments\": {\"key\": \".\", "
	               "\"rule\": [\"grant\", \"subdomain\", \"ddi.test.\", \"--source\", \"198.18.0.0/15\"]}}");
	fuzz_store_cmd("{\"command\": \"key-add\", \"arguments\": {\"name\": \"fuzz.key.\", "
	               "\"algorithm\": \"hmac-sha256\"}}");
	fuzz_store_cmd("{\"command\": \"policy-add\", \"arguments\": {\"key\": \"fuzz.key.\", "
	               "\"rule\": [\"grant\", \"subdomain\", \"ddi.test.\", \"A\", \"AAAA\", \"TXT\"]}}");
	return st;
}
