/* bench_changes -- changes per second committed and published, and publish visibility latency, in process */
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <jansson.h>
#include <urcu-qsbr.h>

#include "control/mgmt/commands.h"
#include "control/follow/follow.h"
#include "control/store/store.h"
#include "dns/errcode.h"
#include "dns/name.h"
#include "index/snapshot.h"

/*
 * What runs here is what ddiplane runs: store_commit through the command
 * code (validation, one LMDB write transaction with its journal entry,
 * fsync at commit as LMDB does by default), and the control thread
 * following the journal and publishing index versions. The dataplane is
 * left out: a worker sees a version at its next burst after the publish,
 * so "visible" here is "published" (the end-to-end figure through a real
 * worker is measured by bench/changes.sh).
 *
 *   1. single: N record-replace commits, one after the other; each waits
 *      for nothing but its commit (the follower publishes behind).
 *   2. batch: M commits of B record changes each ("changes" command).
 *   3. latency: changes paced at R per second; for each, the time from the
 *      acknowledgement (commit returned) to the version holding it being
 *      published: p50, p99, max.
 */

static double now_s(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static int cmp_d(const void *a, const void *b)
{
	double x = *(const double *)a, y = *(const double *)b;
	return x < y ? -1 : x > y;
}

static uint64_t run(struct cmd_ctx *ctx, json_t *req)
{
	uint64_t seq = 0;
	json_t *r = cmd_exec(ctx, req, &seq);
	if (!r || json_integer_value(json_object_get(r, "result")) != 0) {
		fprintf(stderr, "bench_changes: %s\n", r ? json_string_value(json_object_get(r, "text"))
		                                         : "out of memory");
		exit(1);
	}
	json_decref(r);
	return seq;
}

static json_t *replace(unsigned i, unsigned v)
{
	char name[64], addr[32];
	snprintf(name, sizeof(name), "h%u.bench.test.", i);
	snprintf(addr, sizeof(addr), "198.18.%u.%u", (v >> 8) & 255, v & 255);
	return json_pack("{s:s, s:{s:s, s:i, s:s, s:s}}", "command", "record-replace", "arguments",
	                 "name", name, "ttl", 60, "type", "A", "rdata", addr);
}

int main(int argc, char **argv)
{
	unsigned nsingle = argc > 1 ? (unsigned)atoi(argv[1]) : 5000;
	unsigned nbatch = argc > 2 ? (unsigned)atoi(argv[2]) : 100;
	unsigned bsize = argc > 3 ? (unsigned)atoi(argv[3]) : 1000;
	unsigned rate = argc > 4 ? (unsigned)atoi(argv[4]) : 1000;
	unsigned nlat = argc > 5 ? (unsigned)atoi(argv[5]) : 3000;
	const char *base = getenv("BENCH_DIR") ? getenv("BENCH_DIR") : "/tmp";
	char dir[256];
	snprintf(dir, sizeof(dir), "%s/bench-changes.XXXXXX", base);
	if (!mkdtemp(dir)) {
		perror("mkdtemp");
		return 1;
	}
	struct store *s;
	struct store_error e;
	struct store_options so = { .create = true };
	if (store_open(&s, dir, &so, &e) != 0) {
		fprintf(stderr, "store_open: %s\n", e.msg);
		return 1;
	}
	struct cmd_ctx ctx = { .store = s, .actor = "bench", .role = CMD_ROLE_ADMIN };
	json_t *z = json_pack("{s:s, s:{s:s, s:s}}", "command", "zone-import", "arguments", "zone",
	                      "bench.test.", "text",
	                      "$ORIGIN bench.test.\n@ 60 IN SOA ns1 h 1 1 1 1 1\n@ 60 IN NS ns1\n"
	                      "ns1 60 IN A 198.18.0.1\n");
	run(&ctx, z);
	json_decref(z);
	struct idx *ix = idx_new();
	if (!ix || store_load_index(s, ix, NULL, &e) != 0) {
		fprintf(stderr, "load: %s\n", e.msg);
		return 1;
	}
	struct ctl *ctl;
	struct ctl_conf cc = { .store = s, .idx = ix, .quiet = true };
	if (ctl_start(&ctl, &cc) != 0)
		return 1;

	/* 1. single-record commits */
	double t0 = now_s();
	uint64_t seq = 0;
	for (unsigned i = 0; i < nsingle; i++) {
		json_t *r = replace(i % 10000, i);
		seq = run(&ctx, r);
		json_decref(r);
		ctl_wake(ctl);
	}
	double t1 = now_s();
	ctl_wait_seq(ctl, seq, 10000);
	double t2 = now_s();
	struct ctl_stats st0, st1;
	ctl_get_stats(ctl, &st0);
	printf("single: %u commits of 1 record: %.0f committed/s; all published %.1f ms after the "
	       "last commit; %.0f published/s overall; %" PRIu64 " versions\n",
	       nsingle, nsingle / (t1 - t0), (t2 - t1) * 1e3, nsingle / (t2 - t0), st0.publishes);

	/* 2. batches */
	t0 = now_s();
	for (unsigned b = 0; b < nbatch; b++) {
		json_t *ch = json_array();
		for (unsigned k = 0; k < bsize; k++) {
			char name[64], addr[32];
			unsigned v = b * bsize + k;
			snprintf(name, sizeof(name), "b%u.bench.test.", v % 20000);
			snprintf(addr, sizeof(addr), "198.19.%u.%u", (v >> 8) & 255, v & 255);
			json_array_append_new(ch, json_pack("{s:s, s:s, s:i, s:s, s:s}", "op", "replace",
			                                    "name", name, "ttl", 60, "type", "A",
			                                    "rdata", addr));
		}
		json_t *r = json_pack("{s:s, s:{s:o}}", "command", "changes", "arguments", "changes", ch);
		seq = run(&ctx, r);
		json_decref(r);
		ctl_wake(ctl);
	}
	t1 = now_s();
	ctl_wait_seq(ctl, seq, 30000);
	t2 = now_s();
	ctl_get_stats(ctl, &st1);
	printf("batch: %u commits of %u records: %.0f records committed/s; %.0f records "
	       "published/s; %" PRIu64 " versions for %u commits\n", nbatch, bsize,
	       (double)nbatch * bsize / (t1 - t0), (double)nbatch * bsize / (t2 - t0),
	       st1.publishes - st0.publishes, nbatch);

	/* 2b. the same batches as store ops built once: store + follower without the JSON layer */
	{
		struct store_op *ops = calloc(bsize, sizeof(*ops));
		uint8_t(*owners)[DNS_NAME_MAXLEN] = calloc(bsize, DNS_NAME_MAXLEN);
		uint8_t(*rd)[6] = calloc(bsize, 6);
		struct ctl_stats sa, sb;
		ctl_get_stats(ctl, &sa);
		t0 = now_s();
		double tc = 0;
		for (unsigned b = 0; b < nbatch; b++) {
			for (unsigned k = 0; k < bsize; k++) {
				unsigned v = b * bsize + k;
				char name[64];
				snprintf(name, sizeof(name), "o%u.bench.test.", v % 20000);
				dns_name_from_str(owners[k], name, strlen(name), NULL);
				rd[k][0] = 0;
				rd[k][1] = 4;
				rd[k][2] = 198;
				rd[k][3] = 19;
				rd[k][4] = (uint8_t)(v >> 8);
				rd[k][5] = (uint8_t)v;
				ops[k] = (struct store_op){ .kind = STORE_OP_RRSET_REPLACE, .owner = owners[k],
				                            .type = 1, .ttl = 60, .count = 1, .rdatas = rd[k],
				                            .rdatas_len = 6 };
			}
			double tb = now_s();
			if (store_commit(s, NULL, "bench", ops, bsize, &seq, &e) != 0) {
				fprintf(stderr, "store_commit: %s\n", e.msg);
				return 1;
			}
			tc += now_s() - tb;
			ctl_wake(ctl);
		}
		t1 = now_s();
		ctl_wait_seq(ctl, seq, 30000);
		t2 = now_s();
		ctl_get_stats(ctl, &sb);
		printf("batch (store ops, no JSON): %u commits of %u records: %.0f records/s inside "
		       "store_commit; %.0f records published/s; %" PRIu64 " versions\n", nbatch, bsize,
		       (double)nbatch * bsize / tc, (double)nbatch * bsize / (t2 - t0),
		       sb.publishes - sa.publishes);
		(void)t1;
		free(ops);
		free(owners);
		free(rd);
	}

	/* 3. visibility latency at a paced rate */
	double *lat = calloc(nlat, sizeof(*lat));
	double period = 1.0 / rate, next = now_s();
	for (unsigned i = 0; i < nlat; i++) {
		while (now_s() < next)
			;
		next += period;
		json_t *r = replace(i % 100, i + 7);
		seq = run(&ctx, r);
		json_decref(r);
		double ack = now_s();
		ctl_wake(ctl);
		while (ctl_published_seq(ctl) < seq)
			;
		lat[i] = (now_s() - ack) * 1e3;
	}
	qsort(lat, nlat, sizeof(*lat), cmp_d);
	printf("latency: %u changes at %u/s, acknowledgement -> published: p50 %.3f ms, p99 %.3f ms, "
	       "max %.3f ms\n", nlat, rate, lat[nlat / 2], lat[(size_t)(nlat * 0.99)], lat[nlat - 1]);
	free(lat);

	/* The follower's own share: journal read .. pointer published, per version. */
	ctl_get_stats(ctl, &st1);
	printf("publish latency (read txn .. published), %" PRIu64 " versions, mean %.3f ms:",
	       st1.lat_count, st1.lat_count ? st1.lat_sum_us / 1e3 / (double)st1.lat_count : 0.0);
	for (unsigned b = 0; b < CTL_LAT_BUCKETS; b++) {
		if (b < CTL_LAT_BUCKETS - 1)
			printf(" <=%gus:%" PRIu64, ctl_lat_bounds_us[b], st1.lat_buckets[b]);
		else
			printf(" more:%" PRIu64 "\n", st1.lat_buckets[b]);
	}

	ctl_stop(ctl);
	idx_free(ix);
	store_close(s);
	char cmd[300];
	snprintf(cmd, sizeof(cmd), "rm -rf '%s'", dir);
	return system(cmd) == 0 ? 0 : 1;
}
