/* zone_load -- import a master file of any size into a store directly (ddictl's import stops at 16 MiB, the control socket's limit) */
#include <stdio.h>
#include <string.h>

#include "control/store/store.h"
#include "dns/errcode.h"
#include "dns/name.h"

/*
 * Usage: zone-load DIR ORIGIN FILE
 * Creates the store in DIR if needed and replaces zone ORIGIN with FILE in
 * one commit (store_zone_import), as `ddictl --db DIR zone import` does for
 * files that fit a control request. For bench/xfr_size.sh (a 1M-record zone).
 */
int main(int argc, char **argv)
{
	struct store *s;
	struct store_error e;
	struct store_options o = { .create = true };
	uint8_t origin[DNS_NAME_MAXLEN];
	if (argc != 4) {
		fprintf(stderr, "usage: zone-load DIR ORIGIN FILE\n");
		return 2;
	}
	if (dns_name_from_str(origin, argv[2], strlen(argv[2]), NULL) <= 0) {
		fprintf(stderr, "zone-load: %s: not a domain name\n", argv[2]);
		return 2;
	}
	if (store_open(&s, argv[1], &o, &e) != DDI_EOK) {
		fprintf(stderr, "zone-load: %s: %s\n", argv[1], e.msg);
		return 1;
	}
	int rc = store_zone_import(s, "bench:zone-load", origin, argv[3], NULL, &e);
	if (rc != DDI_EOK)
		fprintf(stderr, "zone-load: %s\n", e.msg[0] ? e.msg : ddi_strerror(rc));
	store_close(s);
	return rc == DDI_EOK ? 0 : 1;
}
