/* test_ipam_store -- IPAM through the store, the commands and the followed index: next free and utilization against an oracle */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>
#include <urcu-qsbr.h>

#include "control/mgmt/commands.h"
#include "control/follow/follow.h"
#include "control/ipam/ipam.h"
#include "control/store/store.h"
#include "dns/errcode.h"
#include "index/index.h"
#include "index/snapshot.h"

/*
 * Random allocate/release sequences go through cmd_exec (the code behind
 * the control socket and ddictl --db), so each is one store transaction;
 * the control thread follows the journal into the index. After each step
 * the answers are checked against a plain bitmap: the address alloc-next
 * returned, the "prefix full" error, the utilization command, and the
 * index's own counts (ipam_index_ops: idx_addr_count/idx_addr_next_free)
 * once the control thread has published the commit.
 */

struct fx {
	char dir[64], db[80];
	struct store *s;
	struct idx *ix;
	struct ctl *ctl;
};

static void rmtree(const char *dir)
{
	char cmd[128];
	snprintf(cmd, sizeof(cmd), "rm -rf '%s'", dir);
	if (system(cmd) != 0)
		fprintf(stderr, "could not remove %s\n", dir);
}

static json_t *run(struct fx *f, uint64_t *seq, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));

static json_t *run(struct fx *f, uint64_t *seq, const char *fmt, ...)
{
	char buf[2048];
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(buf, sizeof(buf), fmt, ap);
	va_end(ap);
	json_error_t je;
	json_t *req = json_loads(buf, 0, &je);
	assert_non_null(req);
	struct cmd_ctx ctx = { .store = f->s, .actor = "unix:test", .role = CMD_ROLE_ADMIN };
	json_t *r = cmd_exec(&ctx, req, seq);
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

static void ok(struct fx *f, const char *req)
{
	json_t *r = run(f, NULL, "%s", req);
	if (result(r) != CMD_OK)
		fail_msg("%s: %s", req, text(r));
	json_decref(r);
}

static int setup(void **state)
{
	struct fx *f = calloc(1, sizeof(*f));
	strcpy(f->dir, "/tmp/test-ipam-store.XXXXXX");
	assert_non_null(mkdtemp(f->dir));
	snprintf(f->db, sizeof(f->db), "%s/db", f->dir);
	struct store_options o = { .create = true, .map_size = 256u << 20 };
	struct store_error e;
	assert_int_equal(store_open(&f->s, f->db, &o, &e), 0);
	ok(f, "{\"command\": \"zone-add\", \"arguments\": {\"zone\": \"ipam.test.\"}}");
	f->ix = idx_new();
	assert_non_null(f->ix);
	assert_int_equal(store_load_index(f->s, f->ix, NULL, &e), 0);
	struct ctl_conf cc = { .store = f->s, .idx = f->ix, .poll_us = 200, .quiet = true };
	assert_int_equal(ctl_start(&f->ctl, &cc), 0);
	rcu_register_thread();
	rcu_thread_offline();
	*state = f;
	return 0;
}

static int teardown(void **state)
{
	struct fx *f = *state;
	rcu_unregister_thread();
	ctl_stop(f->ctl);
	idx_free(f->ix);
	store_close(f->s);
	rmtree(f->dir);
	free(f);
	return 0;
}

/* The oracle: which host numbers (offsets from the prefix start) are used. */
#define MAXN 256

static int oracle_next(const bool *used, int lo, int hi)
{
	for (int i = lo; i <= hi; i++)
		if (!used[i])
			return i;
	return -1;
}

static void sequence(struct fx *f, const char *prefix, int plen, int steps, unsigned seed)
{
	struct ipam_cidr c;
	struct ipam_error ie;
	assert_int_equal(ipam_cidr_parse(prefix, &c, &ie), 0);
	ipam_u128 first = ipam_cidr_first(&c), ufirst, ulast;
	ipam_cidr_usable(&c, &ufirst, &ulast);
	int lo = (int)(ufirst - first), hi = (int)(ulast - first);
	int n = hi - lo + 1;
	int total = (c.family == 4 && plen < 31) ? n : (int)(ipam_cidr_last(&c) - first + 1);
	bool used[MAXN] = { 0 };
	int nused = 0;
	char req[512];
	srand(seed);
	snprintf(req, sizeof(req), "{\"command\": \"prefix-add\", \"arguments\": {\"prefix\": \"%s\", "
	         "\"zone\": \"ipam.test.\", \"policy\": \"strict\"}}", prefix);
	ok(f, req);
	for (int step = 0; step < steps; step++) {
		uint64_t seq = 0;
		bool alloc = nused == 0 || (rand() % 100) < (nused == n ? 30 : 60);
		if (alloc) {
			int want = oracle_next(used, lo, hi);
			json_t *r = run(f, &seq, "{\"command\": \"alloc-next\", \"arguments\": "
			                "{\"prefix\": \"%s\", \"name\": \"h%d.ipam.test.\"}}", prefix, step);
			if (want < 0) {
				assert_int_equal(result(r), CMD_ERROR);
				assert_non_null(strstr(text(r), "prefix full"));
			} else {
				if (result(r) != CMD_OK)
					fail_msg("step %d: alloc-next: %s", step, text(r));
				int fam;
				uint8_t a[16];
				const char *as = json_string_value(
					json_object_get(json_object_get(r, "arguments"), "address"));
				assert_non_null(as);
				assert_int_equal(ipam_addr_parse(as, &fam, a, &ie), 0);
				int got = (int)(ipam_addr_to_u128(fam, a) - first);
				if (got != want)
					fail_msg("step %d: alloc-next gave offset %d, the oracle %d", step, got,
					         want);
				used[got] = true;
				nused++;
			}
			json_decref(r);
		} else {
			int k = rand() % nused, off = -1;
			for (int i = lo; i <= hi; i++)
				if (used[i] && k-- == 0) {
					off = i;
					break;
				}
			uint8_t a[16];
			char as[IPAM_ADDR_STRLEN];
			ipam_addr_from_u128(c.family, first + (ipam_u128)off, a);
			ipam_addr_format(c.family, a, as, sizeof(as));
			json_t *r = run(f, &seq, "{\"command\": \"release\", \"arguments\": "
			                "{\"address\": \"%s\"}}", as);
			if (result(r) != CMD_OK)
				fail_msg("step %d: release %s: %s", step, as, text(r));
			json_decref(r);
			used[off] = false;
			nused--;
		}
		/* the utilization command (allocations database) */
		json_t *r = run(f, NULL, "{\"command\": \"utilization\", \"arguments\": "
		                "{\"prefix\": \"%s\"}}", prefix);
		assert_int_equal(result(r), CMD_OK);
		json_t *a = json_object_get(r, "arguments");
		assert_int_equal(json_integer_value(json_object_get(a, "used")), nused);
		assert_int_equal(json_integer_value(json_object_get(a, "total")), total);
		json_decref(r);
		/* the index, once the control thread published the commit */
		if (seq) {
			assert_int_equal(ctl_wait_seq(f->ctl, seq, 5000), 0);
			rcu_thread_online();
			const struct idx_version *v = idx_acquire(f->ix);
			struct ipam_util u;
			uint8_t out[16];
			assert_int_equal(ipam_utilization(&ipam_index_ops, (void *)v, &c, &u), 0);
			assert_true(u.used == (ipam_u128)nused);
			int want = oracle_next(used, lo, hi);
			int rc = ipam_next_free(&ipam_index_ops, (void *)v, &c, NULL, 0, out);
			rcu_thread_offline();
			if (want < 0) {
				assert_int_equal(rc, DDI_EFULL);
			} else {
				assert_int_equal(rc, 0);
				assert_int_equal((int)(ipam_addr_to_u128(c.family, out) - first), want);
			}
		}
	}
}

static void test_random_v4(void **state)
{
	sequence(*state, "198.18.0.0/26", 26, 400, 1);
}

static void test_random_v6(void **state)
{
	sequence(*state, "2001:2::/122", 122, 400, 2);
}

static void test_random_v4_small(void **state)
{
	sequence(*state, "198.18.1.0/29", 29, 120, 3);
}

static void test_edges(void **state)
{
	/* /31 /32 /127 /128: every address usable, then "prefix full" */
	sequence(*state, "198.18.2.0/31", 31, 40, 4);
	sequence(*state, "198.18.2.8/32", 32, 30, 5);
	sequence(*state, "2001:2:0:1::/127", 127, 40, 6);
	sequence(*state, "2001:2:0:1::8/128", 128, 30, 7);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_random_v4, setup, teardown),
		cmocka_unit_test_setup_teardown(test_random_v6, setup, teardown),
		cmocka_unit_test_setup_teardown(test_random_v4_small, setup, teardown),
		cmocka_unit_test_setup_teardown(test_edges, setup, teardown),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
