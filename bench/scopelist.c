/* scopelist -- the cost of lists filtered by a principal's scope: the journal and zone-list read as admin, as an unscoped reader and as a reader scoped to one zone of ten, side by side */
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "control/mgmt/auth.h"
#include "control/mgmt/commands.h"
#include "control/store/store.h"

#define TENANTS 10
#define ENTRIES 200          /* journal entries, each of OPS changes across every tenant */
#define OPS 100
#define ROUNDS 5

static double now_ms(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec * 1e3 + ts.tv_nsec / 1e6;
}

static json_t *exec(const struct cmd_ctx *c, json_t *req)
{
	json_t *rep = cmd_exec(c, req, NULL);
	if (!rep || json_integer_value(json_object_get(rep, "result")) > 0) {
		char *t = json_dumps(rep, 0);
		fprintf(stderr, "scopelist: %s\n", t ? t : "out of memory");
		exit(1);
	}
	return rep;
}

int main(int argc, char **argv)
{
	char dir[] = "/tmp/bench-scopelist.XXXXXX", why[128];
	struct store *s;
	struct store_error e;
	struct store_options o = { .create = true, .map_size = 1u << 30 };
	const char *command = argc > 1 ? argv[1] : "journal";
	if (!mkdtemp(dir) || store_open(&s, dir, &o, &e) != 0)
		return 1;
	struct cmd_ctx adm = { .store = s, .actor = "unix:root", .role = CMD_ROLE_ADMIN };
	for (int t = 0; t < TENANTS; t++) {
		char z[32];
		snprintf(z, sizeof(z), "t%d.test.", t);
		json_decref(exec(&adm, json_pack("{s:s, s:{s:s}}", "command", "zone-add", "arguments",
		                                 "zone", z)));
	}
	for (int i = 0; i < ENTRIES; i++) {
		json_t *ch = json_array();
		for (int k = 0; k < OPS; k++) {
			char name[64], rd[32];
			snprintf(name, sizeof(name), "h%d-%d.t%d.test.", i, k, k % TENANTS);
			snprintf(rd, sizeof(rd), "198.18.%d.%d", k % 200, i % 250 + 1);
			json_array_append_new(ch, json_pack("{s:s, s:s, s:i, s:s, s:s}", "op", "add", "name",
			                                    name, "ttl", 60, "type", "A", "rdata", rd));
		}
		json_decref(exec(&adm, json_pack("{s:s, s:{s:o}}", "command", "changes", "arguments",
		                                 "changes", ch)));
	}
	static const char *const who[3] = {
		"{\"kind\":\"token\",\"name\":\"adm\",\"role\":\"admin\"}",
		"{\"kind\":\"token\",\"name\":\"ro\",\"role\":\"reader\"}",
		"{\"kind\":\"token\",\"name\":\"t3\",\"role\":\"reader\",\"zones\":[\"t3.test\"]}",
	};
	struct auth_principal p[3];
	double best[3] = { 1e18, 1e18, 1e18 };
	size_t rows[3] = { 0 }, bytes[3] = { 0 };
	for (int i = 0; i < 3; i++)
		if (!auth_principal_parse(&p[i], who[i], strlen(who[i]), why, sizeof(why)))
			return 1;
	json_t *req = json_pack("{s:s}", "command", command);
	for (int r = 0; r < ROUNDS; r++)
		for (int i = 0; i < 3; i++) {   /* interleaved: the machine's load falls on all three */
			struct cmd_ctx c = { .store = s, .actor = p[i].actor, .principal = &p[i] };
			double t0 = now_ms();
			json_t *rep = exec(&c, req);
			double dt = now_ms() - t0;
			char *text = json_dumps(rep, JSON_COMPACT);
			const json_t *a = json_object_get(rep, "arguments");
			rows[i] = json_array_size(json_object_get(a, strcmp(command, "journal") == 0 ? "entries"
			                                                                            : "zones"));
			bytes[i] = strlen(text);
			free(text);
			json_decref(rep);
			if (dt < best[i])
				best[i] = dt;
		}
	json_decref(req);
	printf("| principal | %s rows | reply bytes | best of %d, ms | vs admin |\n|---|---|---|---|---|\n",
	       command, ROUNDS);
	for (int i = 0; i < 3; i++)
		printf("| %s | %zu | %zu | %.2f | %.2f |\n", p[i].actor, rows[i], bytes[i], best[i],
		       best[i] / best[0]);
	store_close(s);
	char cmd[128];
	snprintf(cmd, sizeof(cmd), "rm -rf %s", dir);
	return system(cmd) == 0 ? 0 : 1;
}
