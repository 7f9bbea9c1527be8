/* fuzz_catalog -- any sequence of RRsets through the catalog reader (RFC 9432 v2, control/xfr/consume.c) */
#include <stdint.h>
#include <string.h>

#include "control/xfr/consume.h"
#include "dns/wire.h"

/*
 * The input is a list of RRsets, each: owner length (1 byte), owner (any
 * bytes, zero-padded to DNS_NAME_MAXLEN), type (2), count (1), rdatas
 * length (2), rdatas. The catalog is cat.example.; seeds in corpus/catalog
 * hold a valid catalog to start from.
 */
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static const uint8_t cat[] = "\3cat\7example";
	struct xfr_cat_reader r;
	size_t p = 0;
	xfr_cat_begin(&r, cat);
	while (p < size) {
		uint8_t owner[DNS_NAME_MAXLEN] = { 0 };
		size_t ol = data[p++];
		if (ol > DNS_NAME_MAXLEN || size - p < ol + 5)
			break;
		memcpy(owner, data + p, ol);
		p += ol;
		uint16_t type = dns_get16(data + p), count = data[p + 2];
		size_t len = dns_get16(data + p + 3);
		p += 5;
		if (size - p < len)
			break;
		(void)xfr_cat_rrset(&r, owner, type, count, data + p, len);
		p += len;
	}
	(void)xfr_cat_end(&r);
	xfr_cat_free(&r);
	return 0;
}
