/* fuzz_zonefile -- the master-file reader (dns/zonefile.c) on hostile text, every record's rdata re-checked */
#include <stdint.h>
#include <string.h>

#include "dns/errcode.h"
#include "dns/name.h"
#include "dns/rdata.h"
#include "dns/zonefile.h"

static int record(void *ctx, const struct dns_rr *rr)
{
	size_t *n = ctx;
	/* what the reader hands out must be what the store would accept */
	if (dns_name_check(rr->owner, DNS_NAME_MAXLEN) <= 0 ||
	    dns_rdata_check(rr->type, rr->rdata, rr->rdlen) != DDI_EOK)
		__builtin_trap();
	(*n)++;
	return 0;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static const uint8_t origin[] = "\004fuzz\004test";
	struct zf_options opt = { .origin = origin, .require_in_zone = true };
	struct zf_error err;
	size_t n = 0;
	zf_read_string((const char *)data, size, "fuzz.zone", &opt, record, &n, &err);
	return 0;
}
