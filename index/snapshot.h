/* snapshot -- publishing index versions under liburcu QSBR: the one writer, many readers */
#ifndef DDI_INDEX_SNAPSHOT_H
#define DDI_INDEX_SNAPSHOT_H

#include "index/index.h"

/*
 * The protocol, step by step. (Filled in by the implementation: who calls
 * what, in which thread, and who frees what.)
 *
 * Readers (worker lcores, TCP server):
 *   R1. rcu_register_thread() once; afterwards the thread is online.
 *   R2. v = idx_acquire(ix) once per burst; use v and anything reached from
 *       it only until the next quiescent state.
 *   R3. rcu_quiescent_state() once per loop iteration; rcu_thread_offline()
 *       before sleeping, rcu_thread_online() after.
 *   R4. Never keep v or a node pointer in a structure that outlives the burst.
 *
 * Writer (the control thread, only one):
 *   W1. t = idx_txn_begin(ix): starts version N+1 from the published N.
 *   W2. idx_txn_* changes: every trie/radix path touched is copied once
 *       (copy-on-write); nodes created in this transaction are changed in
 *       place; each replaced node of version N is put on t's garbage list.
 *   W3. idx_txn_commit(t, seq): rcu_assign_pointer() of the new root; the
 *       garbage list goes to call_rcu(), freed after every reader passed a
 *       quiescent state. Or idx_txn_abort(t): frees what t created, N stays.
 */

/* Create an empty index (version 0 published, no names). */
struct idx *idx_new(void);

/* Free the index and its current version. No reader may use it any more. */
void idx_free(struct idx *ix);

/* The current version. Caller is a registered, online QSBR reader. */
const struct idx_version *idx_acquire(struct idx *ix);

struct idx_txn;

struct idx_txn *idx_txn_begin(struct idx *ix);

/* Mark `apex` (wire name) as the apex of a zone we serve. */
int idx_txn_zone_add(struct idx_txn *t, const uint8_t *apex);

/* Remove a zone: every name at or below apex that is not inside a deeper zone. */
int idx_txn_zone_del(struct idx_txn *t, const uint8_t *apex);

/*
 * Replace the RRset (owner, type) with `count` RRs whose rdata are given as
 * a flat buffer of [rdlen(2, network order) rdata] items; count 0 deletes
 * the RRset. Keeps empty non-terminals, the DELEG flag and the address
 * trees (A/AAAA rdata) consistent. Rdata must already be validated.
 */
int idx_txn_rrset_set(struct idx_txn *t, const uint8_t *owner, uint16_t type, uint32_t ttl,
                      uint16_t count, const uint8_t *rdatas, size_t rdatas_len);

/* Publish; `seq` is the journal sequence the new version reflects. */
int idx_txn_commit(struct idx_txn *t, uint64_t seq);

void idx_txn_abort(struct idx_txn *t);

/* The version the transaction is building (for reads inside the writer). */
const struct idx_version *idx_txn_version(struct idx_txn *t);

#endif
