/* bench_ipam -- IPAM at scale: bulk CSV import of N allocations into a /8, next free and utilization of that /8 */
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <jansson.h>
#include <urcu-qsbr.h>

#include "control/mgmt/commands.h"
#include "control/follow/follow.h"
#include "control/ipam/ipam.h"
#include "control/ipam/lmdb.h"
#include "control/store/store.h"
#include "dns/errcode.h"
#include "index/index.h"
#include "index/snapshot.h"

/*
 * Usage: bench-ipam DIR [N]   (N allocations, default 1000000; DIR must not exist)
 *
 *   1. import: a NetBox CSV of the prefix 10.0.0.0/8 (zone ipam.bench.) and N
 *      addresses 10.0.0.1.. with a dns_name each, through the ipam-import
 *      command: ONE store transaction writing N allocations, N A records
 *      and the journal entry. Then "answering": the control thread, which
 *      had the index loaded before, follows that entry and publishes an
 *      index version holding the N names and addresses (ctl_wait_seq).
 *   2. next free of the /8 from the index (ipam_next_free over
 *      ipam_index_ops: idx_addr_next_free, O(prefix length)), and the
 *      double-checked form alloc-next runs inside its write transaction
 *      (ipam_next_free_checked: index + one LMDB lookup).
 *   3. utilization of the /8 from the index (ipam_utilization: idx_addr_count).
 * Times are medians of many calls (2, 3) or one wall-clock run (1).
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

static json_t *exec(struct cmd_ctx *ctx, json_t *req, uint64_t *seq)
{
	json_t *r = cmd_exec(ctx, req, seq);
	json_decref(req);
	if (!r || json_integer_value(json_object_get(r, "result")) != 0) {
		fprintf(stderr, "bench_ipam: %s\n", r ? json_string_value(json_object_get(r, "text"))
		                                      : "out of memory");
		exit(1);
	}
	return r;
}

struct chk {
	struct store *s;
	const struct idx_version *v;
	struct ipam_cidr c;
	int rounds;
	double *t;
	uint8_t out[16];
};

static int checked_tx(void *ctx, struct store_ipam *t)
{
	struct chk *k = ctx;
	struct ipam_lmdb l;
	store_ipam_oracle(t, &l);
	for (int i = 0; i < k->rounds; i++) {
		double t0 = now_s();
		int rc = ipam_next_free_checked(&ipam_index_ops, (void *)k->v, &k->c, NULL, 0,
		                                ipam_lmdb_taken, &l, k->out);
		k->t[i] = now_s() - t0;
		if (rc)
			return rc;
	}
	return 0;
}

static struct idx *bench_ix;

static const struct idx_version *index_enter(void *ctx)
{
	(void)ctx;
	rcu_thread_online();
	return idx_acquire(bench_ix);
}

static void index_leave(void *ctx)
{
	(void)ctx;
	rcu_thread_offline();
}

int main(int argc, char **argv)
{
	if (argc < 2) {
		fprintf(stderr, "usage: bench-ipam DIR [N]\n");
		return 2;
	}
	long n = argc > 2 ? strtol(argv[2], NULL, 10) : 1000000;
	if (n < 1 || n > 16000000) {
		fprintf(stderr, "bench_ipam: N must be 1..16000000\n");
		return 2;
	}
	struct store *s;
	struct store_error e;
	struct store_options o = { .create = true, .map_size = (size_t)16 << 30 };
	if (store_open(&s, argv[1], &o, &e) != 0) {
		fprintf(stderr, "bench_ipam: %s\n", e.msg);
		return 1;
	}
	struct cmd_ctx ctx = { .store = s, .actor = "bench", .role = CMD_ROLE_ADMIN };
	json_decref(exec(&ctx, json_pack("{s:s, s:{s:s}}", "command", "zone-add", "arguments",
	                                 "zone", "ipam.bench."), NULL));

	struct idx *ix = idx_new();
	if (!ix || store_load_index(s, ix, NULL, &e) != 0) {
		fprintf(stderr, "bench_ipam: index: %s\n", e.msg);
		return 1;
	}
	struct ctl *ctl;
	struct ctl_conf cc = { .store = s, .idx = ix, .poll_us = 200, .quiet = true };
	if (ctl_start(&ctl, &cc) != 0)
		return 1;
	rcu_register_thread();
	rcu_thread_offline();

	/* the CSV, in memory */
	size_t cap = (size_t)n * 48 + 4096, len = 0;
	char *csv = malloc(cap);
	if (!csv)
		return 1;
	len += (size_t)snprintf(csv + len, cap - len,
	                        "prefix,status,description,dns_zone,dns_policy\n"
	                        "10.0.0.0/8,active,bench,ipam.bench,off\n\n"
	                        "address,status,dns_name\n");
	for (long i = 0; i < n; i++) {
		uint32_t a = 0x0a000001u + (uint32_t)i;
		len += (size_t)snprintf(csv + len, cap - len, "%u.%u.%u.%u/8,active,h%ld.ipam.bench\n",
		                        a >> 24, (a >> 16) & 255, (a >> 8) & 255, a & 255, i);
	}
	json_t *req = json_pack("{s:s, s:{s:s%, s:s}}", "command", "ipam-import", "arguments", "text",
	                        csv, len, "filename", "bench.csv");
	free(csv);
	uint64_t seq = 0;
	double t0 = now_s();
	json_t *r = exec(&ctx, req, &seq);
	double t_import = now_s() - t0;
	printf("import: %s in %.3f s (one transaction, journal seq %" PRIu64 ")\n",
	       json_string_value(json_object_get(r, "text")), t_import, seq);
	json_decref(r);
	if (ctl_wait_seq(ctl, seq, 600000) != 0) {
		fprintf(stderr, "bench_ipam: the control thread did not publish seq %" PRIu64 "\n", seq);
		return 1;
	}
	double t_answer = now_s() - t0;
	printf("import + published in the index (answering): %.3f s\n", t_answer);

	rcu_thread_online();
	const struct idx_version *v = idx_acquire(ix);
	struct ipam_cidr c;
	struct ipam_error ie;
	ipam_cidr_parse("10.0.0.0/8", &c, &ie);
	uint64_t cnt = idx_addr_count(v, 4, c.addr, 8);
	printf("index: %" PRIu64 " addresses in 10.0.0.0/8\n", cnt);

	enum { ROUNDS = 20001 };
	double *t = malloc(ROUNDS * sizeof(*t));
	uint8_t out[16];
	char ab[IPAM_ADDR_STRLEN];
	for (int i = 0; i < ROUNDS; i++) {
		double a0 = now_s();
		int rc = ipam_next_free(&ipam_index_ops, (void *)v, &c, NULL, 0, out);
		t[i] = now_s() - a0;
		if (rc)
			return 1;
	}
	qsort(t, ROUNDS, sizeof(*t), cmp_d);
	ipam_addr_format(4, out, ab, sizeof(ab));
	printf("next free (index) of 10.0.0.0/8: %s, median %.3f us, p99 %.3f us\n", ab,
	       t[ROUNDS / 2] * 1e6, t[ROUNDS * 99 / 100] * 1e6);

	struct ipam_util u;
	for (int i = 0; i < ROUNDS; i++) {
		double a0 = now_s();
		ipam_utilization(&ipam_index_ops, (void *)v, &c, &u);
		t[i] = now_s() - a0;
	}
	qsort(t, ROUNDS, sizeof(*t), cmp_d);
	char used[48], total[48], pct[16];
	ipam_u128_format(u.used, used, sizeof(used));
	ipam_u128_format(u.total, total, sizeof(total));
	ipam_percent_format(u.permyriad, pct, sizeof(pct));
	printf("utilization (index) of 10.0.0.0/8: %s / %s (%s%%), median %.3f us, p99 %.3f us\n",
	       used, total, pct, t[ROUNDS / 2] * 1e6, t[ROUNDS * 99 / 100] * 1e6);

	struct chk k = { .s = s, .v = v, .c = c, .rounds = ROUNDS, .t = t };
	if (store_ipam_read(s, checked_tx, &k, &e) != 0) {
		fprintf(stderr, "bench_ipam: %s\n", e.msg);
		return 1;
	}
	qsort(t, ROUNDS, sizeof(*t), cmp_d);
	printf("next free checked against LMDB (what alloc-next runs in its txn): median %.3f us, "
	       "p99 %.3f us\n", t[ROUNDS / 2] * 1e6, t[ROUNDS * 99 / 100] * 1e6);
	rcu_thread_offline();

	/* the whole command (write transaction, allocation + A record, journal, fsync), with the
	 * server's hooks: the index proposes, the allocations database checks */
	bench_ix = ix;
	static const struct cmd_hooks hooks = { .index_enter = index_enter,
	                                        .index_leave = index_leave };
	ctx.hooks = &hooks;
	enum { CMDS = 51 };
	for (int i = 0; i < CMDS; i++) {
		json_t *q = json_pack("{s:s, s:{s:s, s:s}}", "command", "alloc-next", "arguments",
		                      "prefix", "10.0.0.0/8", "name", "x.ipam.bench.");
		char nm[32];
		snprintf(nm, sizeof(nm), "x%d.ipam.bench.", i);
		json_object_set_new(json_object_get(q, "arguments"), "name", json_string(nm));
		double a0 = now_s();
		json_decref(exec(&ctx, q, NULL));
		t[i] = now_s() - a0;
	}
	qsort(t, CMDS, sizeof(*t), cmp_d);
	printf("alloc-next command (commit with fsync): median %.3f ms\n", t[CMDS / 2] * 1e3);
	for (int i = 0; i < 11; i++) {
		double a0 = now_s();
		json_decref(exec(&ctx, json_pack("{s:s, s:{s:s}}", "command", "utilization", "arguments",
		                                 "prefix", "10.0.0.0/8"), NULL));
		t[i] = now_s() - a0;
	}
	qsort(t, 11, sizeof(*t), cmp_d);
	printf("utilization command (index counts, as in the server): median %.3f ms\n",
	       t[5] * 1e3);
	free(t);
	rcu_unregister_thread();
	ctl_stop(ctl);
	idx_free(ix);
	store_close(s);
	return 0;
}
