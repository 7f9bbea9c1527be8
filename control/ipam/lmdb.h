/* ipam_lmdb -- the "used address" oracle over the store's allocations database, inside an LMDB transaction */
#ifndef DDI_CONTROL_IPAM_LMDB_H
#define DDI_CONTROL_IPAM_LMDB_H

#include <stdbool.h>
#include <stdint.h>

#include <lmdb.h>

#include "control/ipam/ipam.h"

/*
 * The allocations database maps ipam_alloc_key() (family(1) address(4|16),
 * big-endian, so cursor order is address order) to ipam_alloc_encode()
 * values. These ops answer from it directly, for two uses:
 *   - `ddictl --db` with no server: there is no index to ask;
 *   - ipam_next_free_checked's `taken`: inside the write transaction that
 *     records the allocation, the store is the authority (the index may
 *     lag it), and LMDB's single writer serializes concurrent allocators.
 * count and next_free are cursor walks: O(addresses in the prefix) and
 * O(length of the used run at the start), not O(depth) as the index is.
 * Use them as the fallback and the check, not as the fast path.
 *
 * ctx is a struct ipam_lmdb; the transaction may be read-only or the write
 * transaction itself. An LMDB error inside count/next_free/taken is kept in
 * err (the first one) and makes next_free return DDI_EIO, count 0 and
 * taken true (never hand out an address that could not be checked).
 */
struct ipam_lmdb {
	MDB_txn *txn;
	MDB_dbi dbi;
	int err;   /* first LMDB error seen (an MDB_* or errno value), 0 if none */
};

extern const struct ipam_space_ops ipam_lmdb_ops;

/* The store holds an allocation for the address (an ipam_taken_fn). */
bool ipam_lmdb_taken(void *ctx, int family, const uint8_t addr[16]);

#endif
