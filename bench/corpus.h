/* corpus -- the benchmarks' synthetic zone: N host names with A (and some AAAA) records, PTR from the address index */
#ifndef DDI_BENCH_CORPUS_H
#define DDI_BENCH_CORPUS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "dns/name.h"

/*
 * Zone bench.test.: h<i>.bench.test. for i in [0, n), each with one A
 * record 10.0.0.0 + i + 1 and, for every 16th name, an AAAA record
 * 2001:2::<the same IPv4 address>. Zone 10.in-addr.arpa. (SOA and NS only)
 * makes PTR questions answerable from the address index. Shared by
 * bench-core, bench-icount and bench-dp-ring so that their numbers describe
 * the same data.
 */

struct idx;

/* Kinds of query the benchmarks send. */
enum bc_kind { BC_A = 0, BC_AAAA, BC_NXDOMAIN, BC_PTR, BC_KINDS };
extern const char *const bc_kind_name[BC_KINDS];

/* h<i>.bench.test. in wire form. */
void bc_host_name(uint8_t out[DNS_NAME_MAXLEN], size_t i);

/* The IPv4 address of name i, host order. */
uint32_t bc_addr(size_t i);

/*
 * Build a new index holding the corpus (one transaction, committed as seq 1).
 * The calling thread is a registered QSBR thread. *bytes (may be NULL) is
 * the heap growth, *build_s (may be NULL) the wall time. Aborts on error.
 */
struct idx *bc_build(size_t n, size_t *bytes, double *build_s);

/*
 * A query message for name h (0 <= h < n) of the given kind, written to buf
 * (at least 512 bytes), with an EDNS OPT record (UDP size 1232) when `edns`.
 * A: h<h>; AAAA: h<h rounded down to a multiple of 16> (it has an AAAA);
 * NXDOMAIN: nx<h>.bench.test.; PTR: the reverse name of name h's address.
 * Returns the length.
 */
size_t bc_query(uint8_t *buf, enum bc_kind kind, size_t h, bool edns);

/* The rcode an answer to a query of this kind has. */
uint8_t bc_expected_rcode(enum bc_kind kind);

double bc_now(void);

#endif
