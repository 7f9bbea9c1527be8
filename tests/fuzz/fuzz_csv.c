/* fuzz_csv -- the NetBox CSV reader of IPAM imports (control/ipam/csv.c) on hostile text */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "control/ipam/csv.h"
#include "dns/errcode.h"

/* What the reader handed out, written by the CSV writer and read back, must be the same record. */
struct back {
	const struct ipam_csv_row *want;
	int seen;
};

static int back_row(void *ctx, const struct ipam_csv_row *r, struct ipam_error *err)
{
	(void)err;
	struct back *b = ctx;
	if (r->kind != b->want->kind ||
	    (r->kind == IPAM_CSV_PREFIXES
	         ? memcmp(&r->prefix.meta, &b->want->prefix.meta, sizeof(r->prefix.meta)) != 0
	         : memcmp(&r->alloc.meta, &b->want->alloc.meta, sizeof(r->alloc.meta)) != 0)) {
		fprintf(stderr, "row %lu: the metadata written and read back differs\n", b->want->line);
		__builtin_trap();
	}
	b->seen++;
	return DDI_EOK;
}

static void round_trip(const struct ipam_csv_row *r)
{
	struct ipam_csv_keys *k = calloc(1, sizeof(*k));
	const struct ipam_meta *m = r->kind == IPAM_CSV_PREFIXES ? &r->prefix.meta : &r->alloc.meta;
	char *buf = NULL;
	size_t len = 0;
	FILE *f = open_memstream(&buf, &len);
	if (!k || !f || ipam_csv_keys_add(k, m) != DDI_EOK)
		__builtin_trap();
	int rc = r->kind == IPAM_CSV_PREFIXES
	             ? ipam_csv_write_prefix_header(f, k) || ipam_csv_write_prefix(f, &r->prefix, k)
	             : ipam_csv_write_alloc_header(f, k) ||
	                   ipam_csv_write_alloc(f, &r->alloc, ipam_width(r->alloc.family), k);
	fclose(f);
	struct back b = { .want = r };
	struct ipam_error e;
	if (rc != DDI_EOK || ipam_csv_read_mem(buf, len, "back.csv", back_row, &b, &e) != DDI_EOK ||
	    b.seen != 1) {
		fprintf(stderr, "row %lu: written (%d) but not read back: %s\n", r->line, rc, e.msg);
		__builtin_trap();
	}
	free(buf);
	free(k);
}

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
	for (size_t i = 0; i < r->nignored; i++)
		if (strnlen(r->ignored[i], 48) == 48)
			__builtin_trap();
	round_trip(r);
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
