/* test_log -- levels per subsystem, the spec parser, the stderr line format */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <cmocka.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "control/log.h"

static void test_names(void **state)
{
	(void)state;
	for (int i = 0; i < LOG_SUB__COUNT; i++)
		assert_int_equal(ddi_log_sub_parse(ddi_log_sub_name(i)), i);
	for (int l = LOG_LVL_ERR; l <= LOG_LVL_DEBUG; l++)
		assert_int_equal(ddi_log_level_parse(ddi_log_level_name(l)), l);
	assert_int_equal(ddi_log_sub_parse("nope"), -1);
	assert_int_equal(ddi_log_level_parse("verbose"), -1);
	assert_int_equal(ddi_log_target_set("carrier-pigeon"), -1);
}

static void test_levels(void **state)
{
	(void)state;
	char why[128] = "";
	assert_int_equal(ddi_log_levels_set("info", why, sizeof(why)), 0);
	assert_true(ddi_log_enabled(LOG_SUB_DDNS, LOG_LVL_INFO));
	assert_false(ddi_log_enabled(LOG_SUB_DDNS, LOG_LVL_DEBUG));
	assert_int_equal(ddi_log_levels_set("warning,ddns=debug", why, sizeof(why)), 0);
	assert_true(ddi_log_enabled(LOG_SUB_DDNS, LOG_LVL_DEBUG));
	assert_false(ddi_log_enabled(LOG_SUB_STORE, LOG_LVL_NOTICE));
	assert_true(ddi_log_enabled(LOG_SUB_STORE, LOG_LVL_ERR));
	/* a bad word changes nothing and says which */
	assert_int_equal(ddi_log_levels_set("err,ddns=loud", why, sizeof(why)), -1);
	assert_non_null(strstr(why, "unknown log level 'loud'"));
	assert_true(ddi_log_enabled(LOG_SUB_DDNS, LOG_LVL_DEBUG));
	assert_int_equal(ddi_log_levels_set("dns=info", why, sizeof(why)), -1);
	assert_non_null(strstr(why, "unknown log subsystem 'dns'"));
	assert_false(ddi_log_enabled(LOG_SUB__COUNT, LOG_LVL_ERR));
	assert_int_equal(ddi_log_levels_set("info", why, sizeof(why)), 0);
}

static void test_stderr_lines(void **state)
{
	(void)state;
	char path[] = "/tmp/test_log.XXXXXX";
	int fd = mkstemp(path);
	assert_true(fd >= 0);
	fflush(stderr);
	int saved = dup(2);
	dup2(fd, 2);
	assert_int_equal(ddi_log_target_set("stderr"), 0);
	ddi_log(LOG_SUB_FOLLOW, LOG_LVL_INFO, "unix:alice", "change %d applied", 7);
	ddi_log(LOG_SUB_DDNS, LOG_LVL_DEBUG, NULL, "not written at info");
	ddi_log(LOG_SUB_MGMT, LOG_LVL_WARNING, NULL, "no actor");
	fflush(stderr);
	dup2(saved, 2);
	close(saved);
	char buf[512] = "";
	FILE *f = fopen(path, "r");
	size_t n = fread(buf, 1, sizeof(buf) - 1, f);
	buf[n] = 0;
	fclose(f);
	close(fd);
	unlink(path);
	assert_string_equal(buf, "ddiplane: follow: info: change 7 applied actor=unix:alice\n"
	                         "ddiplane: mgmt: warning: no actor\n");
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_names),
		cmocka_unit_test(test_levels),
		cmocka_unit_test(test_stderr_lines),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
