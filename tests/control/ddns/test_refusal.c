/* test_refusal -- the rate-limited refusal log and the (key, reason) note table, against simple oracles */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <cmocka.h>

#include "control/ddns/refusal.h"

/* At most per_sec lines in each second; what was refused is reported once, after its second. */
static void test_ratelog_bound(void **state)
{
	(void)state;
	struct ratelog r;
	ratelog_init(&r, 10);
	uint64_t summary, written = 0, reported = 0, refused = 0;
	uint64_t t0 = 5000000;   /* a monotonic clock far from 0 */
	/* 20,000 lines over 4 s (one every 0.2 ms) */
	for (unsigned i = 0; i < 20000; i++) {
		uint64_t now = t0 + i / 5;
		bool ok = ratelog_take(&r, now, &summary);
		reported += summary;
		written += ok;
		refused += !ok;
	}
	assert_int_equal(written, 4 * 10);
	assert_int_equal(refused, 20000 - 40);
	/* the last second's suppressed lines wait for a second that is over */
	assert_int_equal(ratelog_flush(&r, t0 + 3999), 0);
	reported += ratelog_flush(&r, t0 + 4000);
	assert_int_equal(reported, refused);
	assert_int_equal(ratelog_flush(&r, t0 + 9000), 0);   /* reported once */
}

/* Against an oracle: in any second, lines written <= per_sec, summaries <= 1. */
static void test_ratelog_random(void **state)
{
	(void)state;
	struct ratelog r;
	ratelog_init(&r, 3);
	uint64_t now = 1000, summary, lines_in_sec = 0, sums_in_sec = 0, sec = now / 1000;
	uint64_t refused = 0, reported = 0;
	srand(7);
	for (unsigned i = 0; i < 100000; i++) {
		now += (uint64_t)(rand() % 50);
		if (now / 1000 != sec) {
			sec = now / 1000;
			lines_in_sec = sums_in_sec = 0;
		}
		bool ok = ratelog_take(&r, now, &summary);
		if (summary) {
			sums_in_sec++;
			reported += summary;
		}
		lines_in_sec += ok;
		refused += !ok;
		assert_true(lines_in_sec <= 3);
		assert_true(sums_in_sec <= 1);
	}
	reported += ratelog_flush(&r, now + 1000);
	assert_int_equal(reported, refused);
}

static unsigned closings;
static uint64_t closed_folded;
static void on_close(void *ctx, const struct notetab_slot *s, uint64_t folded)
{
	(void)ctx;
	(void)s;
	closings++;
	closed_folded += folded;
}

/* One note per (key, reason) per interval; the next note says how many were folded. */
static void test_notetab_fold(void **state)
{
	(void)state;
	struct notetab *t = malloc(sizeof(*t));
	assert_non_null(t);
	notetab_init(t, 60000);
	uint64_t folded, now = 1000000;
	assert_int_equal(notetab_hit(t, "k1", UPD_WHY_POLICY, "tsig:k1@a", "x", now, &folded),
	                 NOTETAB_NOTE);
	assert_int_equal(folded, 0);
	for (int i = 0; i < 99; i++)
		assert_int_equal(notetab_hit(t, "k1", UPD_WHY_POLICY, "tsig:k1@a", "x", now + i * 10,
		                             &folded), NOTETAB_FOLD);
	/* another reason or another key is another pair */
	assert_int_equal(notetab_hit(t, "k1", UPD_WHY_YXDOMAIN, "a", "y", now, &folded), NOTETAB_NOTE);
	assert_int_equal(notetab_hit(t, "k2", UPD_WHY_POLICY, "a", "z", now, &folded), NOTETAB_NOTE);
	/* after the interval: a note again, with the 99 folded */
	assert_int_equal(notetab_hit(t, "k1", UPD_WHY_POLICY, "a", "x", now + 60000, &folded),
	                 NOTETAB_NOTE);
	assert_int_equal(folded, 99);
	assert_int_equal(notetab_hit(t, "k1", UPD_WHY_POLICY, "a", "x", now + 60001, &folded),
	                 NOTETAB_FOLD);

	/* the sweep: a closing note for the folded pair (its interval restarts), quiet pairs freed */
	closings = 0;
	closed_folded = 0;
	assert_int_equal(notetab_sweep(t, now + 60000 + 59999, on_close, NULL), 0);
	assert_int_equal(notetab_sweep(t, now + 120000, on_close, NULL), 1);
	assert_int_equal(closed_folded, 1);
	/* ...so the pair is folded again, not noted, within the interval the closing note opened */
	assert_int_equal(notetab_hit(t, "k1", UPD_WHY_POLICY, "a", "x", now + 120001, &folded),
	                 NOTETAB_FOLD);
	unsigned used = 0;
	for (unsigned i = 0; i < DDNS_NOTE_SLOTS; i++)
		used += t->slot[i].used;
	assert_int_equal(used, 1);   /* k1/yxdomain and k2/policy were quiet: freed */
	free(t);
}

/* A full table never evicts a live pair (that would note it twice) and refills once intervals end. */
static void test_notetab_full(void **state)
{
	(void)state;
	struct notetab *t = malloc(sizeof(*t));
	assert_non_null(t);
	notetab_init(t, 1000);
	uint64_t folded, now = 50000;
	char key[32];
	for (unsigned i = 0; i < DDNS_NOTE_SLOTS; i++) {
		snprintf(key, sizeof(key), "k%u", i);
		assert_int_equal(notetab_hit(t, key, UPD_WHY_POLICY, "a", "x", now, &folded), NOTETAB_NOTE);
	}
	assert_int_equal(notetab_hit(t, "late", UPD_WHY_POLICY, "a", "x", now + 10, &folded),
	                 NOTETAB_FULL);
	assert_int_equal(notetab_hit(t, "k3", UPD_WHY_POLICY, "a", "x", now + 10, &folded),
	                 NOTETAB_FOLD);
	/* the quiet slots' intervals end: the newcomer gets one (k3 folded: it waits for its sweep) */
	assert_int_equal(notetab_hit(t, "late", UPD_WHY_POLICY, "a", "x", now + 1000, &folded),
	                 NOTETAB_NOTE);
	free(t);
}

/* Random oracle: per pair, notes are at least an interval apart, and no refusal is lost. */
static void test_notetab_random(void **state)
{
	(void)state;
	struct notetab *t = malloc(sizeof(*t));
	assert_non_null(t);
	notetab_init(t, 5000);
	enum { KEYS = 8, WHYS = 3 };
	uint64_t last_note[KEYS][WHYS], hits = 0, notes = 0, folded_sum = 0, full = 0, now = 100000;
	memset(last_note, 0, sizeof(last_note));
	closings = 0;
	closed_folded = 0;
	srand(11);
	for (unsigned i = 0; i < 200000; i++) {
		now += (uint64_t)(rand() % 20);
		unsigned k = (unsigned)rand() % KEYS, w = (unsigned)rand() % WHYS;
		char key[16];
		snprintf(key, sizeof(key), "key%u", k);
		uint64_t folded;
		unsigned c0 = closings;
		if (rand() % 100 == 0)
			notetab_sweep(t, now, on_close, NULL);
		assert_true(closings - c0 <= KEYS * WHYS);
		enum notetab_verdict v = notetab_hit(t, key, (enum upd_why)(UPD_WHY_POLICY + w), "a", "x",
		                                     now, &folded);
		hits++;
		if (v == NOTETAB_NOTE) {
			if (last_note[k][w])
				assert_true(now - last_note[k][w] >= 5000);
			last_note[k][w] = now;
			notes++;
			folded_sum += folded;
		}
		full += v == NOTETAB_FULL;
	}
	assert_int_equal(full, 0);   /* 24 pairs never fill 64 slots */
	/* every hit is a note, a fold reported by a later note or a closing note, or still pending */
	uint64_t pending = 0;
	for (unsigned i = 0; i < DDNS_NOTE_SLOTS; i++)
		pending += t->slot[i].used ? t->slot[i].folded : 0;
	assert_int_equal(hits, notes + folded_sum + closed_folded + pending);
	free(t);
}

/* The thread's bookkeeping without a store: strangers are counted and logged, never noted. */
static void test_refusals_log(void **state)
{
	(void)state;
	/* the lines go to control/log.h's target, stderr here: catch it in a file */
	char path[] = "/tmp/test_refusal.XXXXXX";
	int fd = mkstemp(path);
	assert_true(fd >= 0);
	fflush(stderr);
	int saved = dup(2);
	dup2(fd, 2);
	struct ddns_refusals *r = malloc(sizeof(*r));
	assert_non_null(r);
	ddns_refusals_init(r, stderr);
	struct upd_outcome o;
	memset(&o, 0, sizeof(o));
	o.why = UPD_WHY_UNSIGNED;
	snprintf(o.actor, sizeof(o.actor), "unsigned@198.18.0.2");
	snprintf(o.text, sizeof(o.text), "update ddi.test. REFUSED: unsigned");
	for (unsigned i = 0; i < 1000; i++)
		ddns_refusals_record(r, NULL, NULL, &o, 7000000 + i);   /* 1000 in one second */
	ddns_refusals_tick(r, NULL, NULL, 7001000);
	fflush(stderr);
	dup2(saved, 2);
	close(saved);
	static char buf[65536];
	ssize_t n = pread(fd, buf, sizeof(buf) - 1, 0);
	close(fd);
	unlink(path);
	assert_true(n > 0);
	size_t len = (size_t)n;
	buf[len] = 0;
	unsigned lines = 0;
	for (size_t i = 0; i < len; i++)
		lines += buf[i] == '\n';
	assert_int_equal(lines, DDNS_LOG_PER_SEC + 1);
	assert_non_null(strstr(buf, "990 more refused updates not logged"));
	struct ddns_refusal_stats st;
	ddns_refusals_stats(r, &st);
	assert_int_equal(st.why[UPD_WHY_UNSIGNED], 1000);
	assert_int_equal(st.log_lines, DDNS_LOG_PER_SEC);
	assert_int_equal(st.log_suppressed, 1000 - DDNS_LOG_PER_SEC);
	assert_int_equal(st.notes + st.folded + st.note_failed, 0);
	free(r);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_ratelog_bound),
		cmocka_unit_test(test_ratelog_random),
		cmocka_unit_test(test_notetab_fold),
		cmocka_unit_test(test_notetab_full),
		cmocka_unit_test(test_notetab_random),
		cmocka_unit_test(test_refusals_log),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
