/* leasefill -- write N dynamic AAAA names with one update lease into a store, as accepted UPDATEs would (bench/lease_sweep.sh) */
/*
 *   leasefill DB ZONE N LEASE_SECONDS
 *
 * Names l0.ZONE .. l(N-1).ZONE, each with AAAA 2001:2:0:ff::HI:LO, written
 * as the UPDATE path writes them (RRSET_REPLACE flagged dynamic, then
 * DYN_REFRESH with the lease) in commits of 1,000 names. Each commit asks
 * for what is left of LEASE_SECONDS counted from the start, so that all
 * the leases end in the same second however long the writing takes (it
 * must take less than LEASE_SECONDS). Prints the first and last expiry
 * (unix ns) and exits 0.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "control/store/store.h"
#include "dns/errcode.h"
#include "dns/name.h"
#include "dns/rdata.h"
#include "dns/wire.h"

#define CHUNK 1000

static int first_last(void *ctx, const struct store_lease *l)
{
	int64_t *fl = ctx;
	if (fl[0] == 0)
		fl[0] = l->expires_ns;
	fl[1] = l->expires_ns;
	return 0;
}

int main(int argc, char **argv)
{
	struct store *s;
	struct store_error e;
	uint8_t zone[DNS_NAME_MAXLEN];
	if (argc != 5 || dns_name_from_str(zone, argv[2], strlen(argv[2]), NULL) <= 0) {
		fprintf(stderr, "usage: leasefill DB ZONE N LEASE_SECONDS\n");
		return 2;
	}
	long n = strtol(argv[3], NULL, 10), lease = strtol(argv[4], NULL, 10);
	struct store_options o = { .map_size = (size_t)8 << 30 };
	if (store_open(&s, argv[1], &o, &e) != 0) {
		fprintf(stderr, "leasefill: %s\n", e.msg);
		return 1;
	}
	time_t target = time(NULL) + lease;
	static uint8_t names[CHUNK][DNS_NAME_MAXLEN], rds[CHUNK][18];
	static struct store_op ops[2 * CHUNK];
	for (long base = 0; base < n; base += CHUNK) {
		long m = n - base < CHUNK ? n - base : CHUNK;
		long left = (long)(target - time(NULL));
		if (left < 1) {
			fprintf(stderr, "leasefill: LEASE_SECONDS too short for N names\n");
			return 1;
		}
		for (long i = 0; i < m; i++) {
			char nb[DNS_NAME_STRLEN];
			long k = base + i + 1;
			snprintf(nb, sizeof(nb), "l%ld.%s", base + i, argv[2]);
			if (dns_name_from_str(names[i], nb, strlen(nb), NULL) <= 0)
				return 2;
			static const uint8_t pfx[12] = { 0x20, 0x01, 0, 2, 0, 0, 0, 0xff };
			dns_put16(rds[i], 16);
			memcpy(rds[i] + 2, pfx, 12);
			dns_put32(rds[i] + 14, (uint32_t)k);
			ops[2 * i] = (struct store_op){ .kind = STORE_OP_RRSET_REPLACE,
			                                .flags = STORE_OPF_DYNAMIC | STORE_OPF_MISSING_OK,
			                                .owner = names[i], .type = DNS_T_AAAA, .ttl = 60,
			                                .count = 1, .rdatas = rds[i], .rdatas_len = 18 };
			ops[2 * i + 1] = (struct store_op){ .kind = STORE_OP_DYN_REFRESH,
			                                    .flags = STORE_OPF_DYNAMIC, .owner = names[i],
			                                    .type = DNS_T_AAAA, .lease = (uint32_t)left };
		}
		if (store_commit(s, NULL, "bench:leasefill", ops, (size_t)(2 * m), NULL, &e) != 0) {
			fprintf(stderr, "leasefill: %s\n", e.msg);
			return 1;
		}
	}
	int64_t fl[2] = { 0, 0 };
	if (store_lease_due(s, NULL, INT64_MAX, 0, first_last, fl, &e) != 0) {
		fprintf(stderr, "leasefill: %s\n", e.msg);
		return 1;
	}
	printf("first=%lld last=%lld\n", (long long)fl[0], (long long)fl[1]);
	store_close(s);
	return 0;
}
