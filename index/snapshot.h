/* snapshot -- publishing index versions under liburcu QSBR: the one writer, many readers */
#ifndef DDI_INDEX_SNAPSHOT_H
#define DDI_INDEX_SNAPSHOT_H

#include "index/index.h"

/*
 * The protocol, step by step: who calls what, in which thread, who frees what.
 *
 * Readers (worker lcores, TCP server):
 *   R1. rcu_register_thread() once; afterwards the thread is online.
 *   R2. v = idx_acquire(ix) once per burst; use v and anything reached from
 *       it (nodes, RRsets, address leaves) only until the next quiescent
 *       state. Reads never block, never allocate, never write shared memory.
 *   R3. rcu_quiescent_state() once per loop iteration; rcu_thread_offline()
 *       before sleeping, rcu_thread_online() after.
 *   R4. Never keep v or a node pointer in a structure that outlives the burst.
 *   R5. A burst whose lookups are walked together (index/answer.h,
 *       answer_bulk_*) walks and answers with the same v, inside the burst.
 *       The per-thread answer_bulk outlives bursts, but the node pointers
 *       of its slots are dead at the burst's end: a slot is dereferenced
 *       only by the one answer it was prepared and walked for in this
 *       burst (answer_query_bulk marks it used; answer_bulk_prepare resets
 *       every slot of the next burst before its walk).
 *
 * Writer (the control thread, only one, and one transaction at a time):
 *   W0. The writer is a registered QSBR thread (rcu_register_thread) that
 *       stays OFFLINE except while it reads a published version through
 *       idx_acquire. idx_txn_commit goes online just for call_rcu() and
 *       offline again; synchronize_rcu()/rcu_barrier() run offline. The
 *       call_rcu worker thread is created by liburcu on first use.
 *   W1. t = idx_txn_begin(ix): allocates version N+1 as a copy of the root
 *       of the published N (same trees, shared). NULL while another txn is
 *       open.
 *   W2. idx_txn_zone_add/zone_del/rrset_set: each change copies the trie
 *       and radix paths it touches once (copy-on-write); twig arrays and
 *       radix nodes made by this txn carry its stamp and are changed in
 *       place afterwards, so a bulk load of an empty index copies nothing.
 *       Every node block or address leaf that N+1 no longer holds goes on
 *       t's garbage list; every one allocated goes on t's created list
 *       (an object made and replaced within t is on both). Address leaves
 *       point at their owners' nodes: whenever t replaces or removes a
 *       node that holds A/AAAA RRsets (any RRset change of the owner, a
 *       flag, a zone add or remove), it replaces the leaves that point at
 *       it in the same change, so no leaf of N+1 points at a node N+1 does
 *       not hold. Pointers read from idx_txn_version(t) are valid until
 *       the end of t.
 *       A change that fails validation (DDI_EINVAL, DDI_ERDATA, DDI_ETTL,
 *       DDI_EOUTZONE, DDI_ENOZONE, DDI_EEXIST) changed nothing; after
 *       DDI_ENOMEM or DDI_ELIMIT the version may be half-changed: abort.
 *   W3. idx_txn_commit(t, seq): rcu_assign_pointer() of N+1 (the only store
 *       readers see; everything below it was fully built before). The
 *       garbage list plus the root of N go to ONE call_rcu() in a batch
 *       and are freed by the call_rcu thread after every reader passed a
 *       quiescent state (free(), or slab_free() for the blocks of a bulk
 *       load: an arena goes with its last block). Nothing of N+1 is freed.
 *   W3'. Or idx_txn_abort(t): frees the created list, the twig arrays and
 *       radix nodes stamped by t and the root of N+1; forgets the garbage
 *       list (N still uses it). N stays published, untouched.
 *   W4. idx_free(ix): aborts an open txn, waits in rcu_barrier() for every
 *       pending batch, then frees the published version. No reader may use
 *       ix any more.
 */

/* Create an empty index (version 0 published, no names). NULL: no memory. */
struct idx *idx_new(void);

/* Free the index and its current version. No reader may use it any more. */
void idx_free(struct idx *ix);

/*
 * The current version. Caller is a registered, online QSBR reader (R1;
 * asserted in debug builds with rcu_read_ongoing()).
 */
const struct idx_version *idx_acquire(struct idx *ix);

/*
 * Make the calling thread the one writer (W0) from now on: the control
 * thread calls it when it starts, after the main thread's bulk load. No
 * transaction may be open. Without it, the first thread that calls
 * idx_txn_begin is the writer. Every writer function (idx_txn_*) asserts,
 * in debug builds, that it runs on the writer thread.
 */
void idx_writer_claim(struct idx *ix);

struct idx_txn;

/* Start version N+1 (W1). NULL when a transaction is open or no memory. */
struct idx_txn *idx_txn_begin(struct idx *ix);

/*
 * Mark `apex` (wire name) as the apex of a zone we serve: an existing node
 * gets the APEX flag (DELEG/ENT dropped), else an APEX node with no RRsets
 * is made. Names between an enclosing zone's apex and this one, and
 * between this apex and deeper zones already served, become ENTs.
 * DDI_EEXIST if it is an apex already; name errors of dns_name_check.
 */
int idx_txn_zone_add(struct idx_txn *t, const uint8_t *apex);

/*
 * Remove a zone: every name at or below apex that is not inside a deeper
 * zone, with its addresses; the apex stays as an ENT only if an enclosing
 * zone is served and deeper zones remain below it. DDI_ENOZONE if apex is
 * not a zone apex.
 */
int idx_txn_zone_del(struct idx_txn *t, const uint8_t *apex);

/*
 * Replace the RRset (owner, type) with `count` RRs whose rdata are given as
 * a flat buffer of [rdlen(2, network order) rdata] items; count 0 deletes
 * the RRset. Keeps empty non-terminals, the DELEG flag and the address
 * trees (A/AAAA rdata) consistent. Rdata must already be validated
 * (dns/rdata.h); the index checks only the framing. The RRs are class IN.
 * A node keeps the spelling of the owner it was created with.
 * Errors: DDI_EOUTZONE (owner under no zone of idx_txn_zone_add),
 * DDI_ERDATA (items do not fill rdatas_len exactly, A not 4 bytes, AAAA not
 * 16, type 0, OPT or a meta type 128-255), DDI_ETTL (> 2^31-1, RFC 2181 8),
 * DDI_EINVAL, name errors of dns_name_check; DDI_ELIMIT (over 1024 RRsets
 * at a name, over 65535 owners of an address), DDI_ENOMEM: abort then.
 */
int idx_txn_rrset_set(struct idx_txn *t, const uint8_t *owner, uint16_t type, uint32_t ttl,
                      uint16_t count, const uint8_t *rdatas, size_t rdatas_len);

/*
 * Bulk load, for a version being filled from scratch (a start or a reload
 * from the store): zones first with idx_txn_zone_add, then every RRset
 * with idx_txn_bulk_rrset in lookup key order (dns_name_to_key, memcmp
 * order, the RRsets of one owner together), then idx_txn_bulk_end (or
 * idx_txn_commit, which ends it first). The result is the version the same
 * idx_txn_rrset_set calls would have made (ENTs, DELEG, address leaves with
 * their owners in key order), built with one allocation per twig array,
 * node blocks and address leaves from slabs (index/slab.h); an owner's
 * address leaves are made when its node is final (its next owner comes,
 * or the load ends), so that they point at that node. The first call needs a version with no RRsets
 * and no addresses (zones only); until the end the version read through
 * idx_txn_version shows the zones only, and zone_add, zone_del and
 * rrset_set refuse with DDI_EINVAL.
 * idx_txn_bulk_rrset: the errors of idx_txn_rrset_set, and DDI_EINVAL for
 * count 0, an owner before the previous one in key order, a type the owner
 * has already, a version that holds RRsets. idx_txn_bulk_end: DDI_EOK
 * (also without an open bulk load), DDI_ENOMEM, DDI_ELIMIT (over 65535
 * owners of an address). After any error but the validation ones of
 * idx_txn_bulk_rrset (DDI_EINVAL, DDI_ERDATA, DDI_ETTL, DDI_EOUTZONE and
 * name errors, which changed nothing) abort the transaction.
 * idx_txn_commit returns the error of an implied idx_txn_bulk_end, and
 * then has aborted t.
 */
int idx_txn_bulk_rrset(struct idx_txn *t, const uint8_t *owner, uint16_t type, uint32_t ttl,
                       uint16_t count, const uint8_t *rdatas, size_t rdatas_len);
int idx_txn_bulk_end(struct idx_txn *t);

/*
 * Publish (W3); `seq` is the journal sequence the new version reflects.
 * Always DDI_EOK (unless a bulk load was open, see above); t is freed. Without memory for the garbage batch it waits
 * for a grace period (synchronize_rcu) and frees the garbage itself.
 */
int idx_txn_commit(struct idx_txn *t, uint64_t seq);

/* Drop version N+1 (W3'); t is freed. */
void idx_txn_abort(struct idx_txn *t);

/* The version the transaction is building (for reads inside the writer). */
const struct idx_version *idx_txn_version(struct idx_txn *t);

#endif
