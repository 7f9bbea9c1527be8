/* test_health -- /health's verdict on the control thread: caught up, catching up, stuck */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <cmocka.h>
#include <string.h>

#include "control/follow/follow.h"
#include "control/mgmt/metrics.h"

#define S 1000000000LL

static void test_caught_up(void **state)
{
	(void)state;
	struct ctl_stats st = { .published_seq = 7, .store_seq = 7 };
	int64_t since = 0;
	char why[256] = "";
	assert_true(metrics_follower_healthy(&st, 100 * S, &since, why, sizeof(why)));
	assert_int_equal(since, 100 * S);   /* the last time seen without lag moves on */
	assert_string_equal(why, "");
}

static void test_catching_up(void **state)
{
	(void)state;
	/* behind, but for less than the bound since it was last caught up: healthy */
	struct ctl_stats st = { .published_seq = 7, .store_seq = 9 };
	int64_t since = 100 * S;
	char why[256] = "";
	assert_true(metrics_follower_healthy(&st, 100 * S + METRICS_HEALTH_LAG_NS, &since, why,
	                                     sizeof(why)));
	assert_int_equal(since, 100 * S);   /* not moved while lagging */
}

static void test_stuck(void **state)
{
	(void)state;
	struct ctl_stats st = { .published_seq = 7, .store_seq = 9, .errors = 3 };
	int64_t since = 100 * S;
	char why[256] = "";
	assert_false(metrics_follower_healthy(&st, 100 * S + METRICS_HEALTH_LAG_NS + 1, &since, why,
	                                      sizeof(why)));
	assert_non_null(strstr(why, "2 journal entries behind"));
	assert_non_null(strstr(why, "3 follow errors"));
	/* once it caught up again, healthy at once */
	st.published_seq = 9;
	assert_true(metrics_follower_healthy(&st, 200 * S, &since, why, sizeof(why)));
	assert_int_equal(since, 200 * S);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_caught_up),
		cmocka_unit_test(test_catching_up),
		cmocka_unit_test(test_stuck),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
