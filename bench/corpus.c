/* corpus -- the benchmarks' synthetic zone and the queries sent to it */
#include <arpa/inet.h>
#include <malloc.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "bench/corpus.h"
#include "dns/errcode.h"
#include "dns/rdata.h"
#include "dns/wire.h"
#include "index/slab.h"
#include "index/snapshot.h"

const char *const bc_kind_name[BC_KINDS] = { "A", "AAAA", "NXDOMAIN", "PTR" };

double bc_now(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static void name_from(uint8_t out[DNS_NAME_MAXLEN], const char *s)
{
	if (dns_name_from_str(out, s, strlen(s), NULL) < 0) {
		fprintf(stderr, "bench: bad name %s\n", s);
		abort();
	}
}

void bc_host_name(uint8_t out[DNS_NAME_MAXLEN], size_t i)
{
	char buf[64];
	snprintf(buf, sizeof(buf), "h%zu.bench.test.", i);
	name_from(out, buf);
}

uint32_t bc_addr(size_t i)
{
	return 0x0a000000u + (uint32_t)i + 1; /* 10.0.0.1 ... */
}

static void set_rrset(struct idx_txn *t, const uint8_t *owner, uint16_t type, const void *rd,
                      uint16_t len)
{
	uint8_t buf[2 + 512];
	dns_put16(buf, len);
	memcpy(buf + 2, rd, len);
	int ret = idx_txn_rrset_set(t, owner, type, 3600, 1, buf, 2u + len);
	if (ret != DDI_EOK) {
		fprintf(stderr, "bench: rrset_set: %s\n", ddi_strerror(ret));
		abort();
	}
}

static void add_zone(struct idx_txn *t, const char *apex_str)
{
	uint8_t apex[DNS_NAME_MAXLEN], soa[512], ns[DNS_NAME_MAXLEN];
	name_from(apex, apex_str);
	if (idx_txn_zone_add(t, apex) != DDI_EOK)
		abort();
	const char *f[] = { "ns.bench.test.", "hostmaster.bench.test.", "1", "3600", "600",
	                    "86400", "300" };
	bool q[7] = { false };
	char err[128];
	int len = dns_rdata_from_str(soa, sizeof(soa), DNS_T_SOA, f, q, 7, apex, err, sizeof(err));
	if (len < 0)
		abort();
	set_rrset(t, apex, DNS_T_SOA, soa, (uint16_t)len);
	name_from(ns, "ns.bench.test.");
	set_rrset(t, apex, DNS_T_NS, ns, (uint16_t)dns_name_len(ns));
}

struct idx *bc_build(size_t n, size_t *bytes, double *build_s)
{
	struct mallinfo2 before = mallinfo2();
	size_t slab_before = slab_bytes();   /* slab arenas are mmap()ed, not in mallinfo2 */
	double t0 = bc_now();
	struct idx *ix = idx_new();
	if (!ix)
		abort();
	struct idx_txn *t = idx_txn_begin(ix);
	add_zone(t, "bench.test.");
	add_zone(t, "10.in-addr.arpa.");
	for (size_t i = 0; i < n; i++) {
		uint8_t owner[DNS_NAME_MAXLEN];
		bc_host_name(owner, i);
		uint32_t a = htonl(bc_addr(i));
		set_rrset(t, owner, DNS_T_A, &a, 4);
		if (i % 16 == 0) {
			uint8_t a6[16] = { 0x20, 0x01, 0x00, 0x02 };
			memcpy(a6 + 12, &a, 4);
			set_rrset(t, owner, DNS_T_AAAA, a6, 16);
		}
	}
	if (idx_txn_commit(t, 1) != DDI_EOK)
		abort();
	if (build_s)
		*build_s = bc_now() - t0;
	struct mallinfo2 after = mallinfo2();
	if (bytes)
		*bytes = (after.uordblks + after.hblkhd + slab_bytes()) -
		         (before.uordblks + before.hblkhd + slab_before);
	return ix;
}

size_t bc_query(uint8_t *buf, enum bc_kind kind, size_t h, bool edns)
{
	char name[128];
	uint16_t type = DNS_T_A;
	switch (kind) {
	case BC_A:
	case BC_KINDS:
		snprintf(name, sizeof(name), "h%zu.bench.test.", h);
		break;
	case BC_AAAA:
		snprintf(name, sizeof(name), "h%zu.bench.test.", h & ~(size_t)15);
		type = DNS_T_AAAA;
		break;
	case BC_NXDOMAIN:
		snprintf(name, sizeof(name), "nx%zu.bench.test.", h);
		break;
	case BC_PTR: {
		uint32_t a = bc_addr(h);
		snprintf(name, sizeof(name), "%u.%u.%u.10.in-addr.arpa.", a & 0xff, (a >> 8) & 0xff,
		         (a >> 16) & 0xff);
		type = DNS_T_PTR;
		break;
	}
	}
	uint8_t wname[DNS_NAME_MAXLEN];
	name_from(wname, name);
	size_t nl = dns_name_len(wname);
	memset(buf, 0, DNS_HDR_LEN);
	dns_put16(buf, (uint16_t)(0x1000 + h));
	dns_put16(buf + 4, 1);
	memcpy(buf + DNS_HDR_LEN, wname, nl);
	size_t p = DNS_HDR_LEN + nl;
	dns_put16(buf + p, type);
	dns_put16(buf + p + 2, DNS_CLASS_IN);
	p += 4;
	if (edns) {
		dns_put16(buf + 10, 1);
		buf[p] = 0;
		dns_put16(buf + p + 1, DNS_T_OPT);
		dns_put16(buf + p + 3, 1232);
		memset(buf + p + 5, 0, 6);
		p += 11;
	}
	return p;
}

uint8_t bc_expected_rcode(enum bc_kind kind)
{
	return kind == BC_NXDOMAIN ? DNS_RCODE_NXDOMAIN : DNS_RCODE_NOERROR;
}
