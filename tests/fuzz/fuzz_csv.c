/* fuzz_csv -- the NetBox CSV reader of IPAM imports (control/ipam/csv.c) on hostile text */
#include <stdint.h>
#include <stdio.h>

#include "control/ipam/csv.h"
#include "dns/errcode.h"

static int row(void *ctx, const struct ipam_csv_row *r, struct ipam_error *err)
{
	(void)err;
	size_t *n = ctx;
	/* what the reader hands out must pass the model's own checks */
	struct ipam_error e;
	if (r->kind == IPAM_CSV_PREFIXES ? ipam_prefix_check(&r->prefix, &e) != DDI_EOK
	                                 : ipam_alloc_check(&r->alloc, &e) != DDI_EOK) {
		fprintf(stderr, "row %lu passed the reader but not the check: %s\n", r->line, e.msg);
		__builtin_trap();
	}
	(*n)++;
	return DDI_EOK;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct ipam_error err;
	size_t n = 0;
	ipam_csv_read_mem((const char *)data, size, "fuzz.csv", row, &n, &err);
	return 0;
}
