/* test_steer -- dataplane/steer.c: RPS maps written and read back, and a port's queues steered and restored in a scratch tree */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <string.h>
#include <cmocka.h>

#include "dataplane/steer.h"

static void set_of(cpu_set_t *s, const int *cpus, int n)
{
	CPU_ZERO(s);
	for (int i = 0; i < n; i++)
		CPU_SET(cpus[i], s);
}

/* The kernel's form: 32-bit hex groups, the highest first, separated by commas. */
static void test_format_parse(void **state)
{
	(void)state;
	char b[1024];
	cpu_set_t s, back;
	CPU_ZERO(&s);
	assert_true(steer_mask_format(&s, b, sizeof(b)));
	assert_string_equal(b, "0");
	set_of(&s, (int[]){ 0, 1 }, 2);
	assert_true(steer_mask_format(&s, b, sizeof(b)));
	assert_string_equal(b, "3");
	set_of(&s, (int[]){ 0, 35, 63 }, 3);
	assert_true(steer_mask_format(&s, b, sizeof(b)));
	assert_string_equal(b, "80000008,00000001");
	assert_true(steer_mask_parse(b, &back));
	assert_true(CPU_EQUAL(&s, &back));
	assert_true(steer_mask_parse("00000000,00000002\n", &back));
	assert_int_equal(CPU_COUNT(&back), 1);
	assert_true(CPU_ISSET(1, &back));
	assert_false(steer_mask_parse("", &back));
	assert_false(steer_mask_parse("xyz", &back));
	assert_false(steer_mask_parse("1ffffffff", &back));   /* a group over 32 bits */
	assert_false(steer_mask_format(&s, b, 4));             /* too small a buffer */
}

/* No such interface: an error that names the path, nothing changed. */
static void test_no_interface(void **state)
{
	(void)state;
	char why[256];
	cpu_set_t w, o;
	set_of(&w, (int[]){ 1 }, 1);
	set_of(&o, (int[]){ 0 }, 1);
	assert_int_equal(steer_port("ddi-no-such-if", &w, &o, why, sizeof(why)), -1);
	assert_non_null(strstr(why, "/sys/class/net/ddi-no-such-if/queues"));
	CPU_ZERO(&o);
	assert_int_equal(steer_port("lo", &w, &o, why, sizeof(why)), -1);
	assert_non_null(strstr(why, "no CPU without a worker"));
	steer_restore();   /* nothing saved: nothing written */
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_format_parse),
		cmocka_unit_test(test_no_interface),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
