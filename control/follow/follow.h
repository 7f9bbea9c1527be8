/* ctl -- the control thread: follows the LMDB journal, applies batches copy-on-write, publishes */
#ifndef DDI_CONTROL_CTL_H
#define DDI_CONTROL_CTL_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/*
 * The control thread is the single writer of the index (index/snapshot.h,
 * W0..W4). It owns no data: LMDB is the truth, the index a cache of it.
 *
 *   1. It sleeps on an eventfd for at most poll_us. ctl_wake() (the control
 *      socket, after its store_commit returned) ends the sleep at once;
 *      commits made by other processes (ddictl --db) are seen by the
 *      timeout, a cheap read transaction of the journal's last sequence.
 *   2. When the store is ahead of the published version it calls
 *      store_follow(): ONE LMDB read transaction that yields every journal
 *      entry after the published sequence together with the RRsets those
 *      entries name (whole zones for zone-level entries), as they are in
 *      that same transaction. So the state applied is exactly a committed
 *      state of the store, never half of a commit.
 *   3. Everything read goes into ONE idx_txn (copy-on-write), committed with
 *      the sequence of the last entry: one pointer store publishes it; the
 *      replaced nodes go to call_rcu (index/snapshot.c).
 *   4. Batching comes for free: every entry committed while the previous
 *      batch was being applied is applied by the next one, so under a storm
 *      the publish rate is bounded by the apply time, and no change waits
 *      longer than one apply plus one wake-up.
 *   5. After each publish the generation, sequence and latency are recorded
 *      (ctl_stats) and the publish eventfd is written, and waiters in
 *      ctl_wait_seq() are woken.
 */

struct store;
struct idx;
struct ctl;

#define CTL_POLL_US_DEFAULT 1000   /* commits by other processes are seen within this */

/* Publish latency histogram bounds, microseconds (the last bucket is +Inf). */
#define CTL_LAT_BUCKETS 12
extern const double ctl_lat_bounds_us[CTL_LAT_BUCKETS - 1];

struct ctl_conf {
	struct store *store;       /* shared with the control socket; outlives the thread */
	struct idx *idx;           /* the index this thread writes; already loaded */
	unsigned poll_us;          /* 0: CTL_POLL_US_DEFAULT */
	bool quiet;                /* no log lines on stderr (tests) */
};

struct ctl_stats {
	uint64_t published_seq;    /* journal seq of the published version */
	uint64_t store_seq;        /* last journal seq seen in the store */
	uint64_t generation;       /* of the published version */
	uint64_t publishes;        /* versions published by this thread */
	uint64_t entries;          /* journal entries applied */
	uint64_t rrsets;           /* RRsets written into the index */
	uint64_t errors;           /* follow or apply failures (retried) */
	uint64_t lat_count;        /* publish latency: read txn start .. pointer published */
	double lat_sum_us;
	uint64_t lat_buckets[CTL_LAT_BUCKETS];   /* not cumulative */
	uint64_t max_batch;        /* most entries applied in one version */
};

/*
 * Start the thread. The index must already hold the store's state at some
 * sequence (store_load_index); the thread follows from there.
 * Errors: -errno (eventfd, pthread_create), DDI_ENOMEM.
 */
int ctl_start(struct ctl **out, const struct ctl_conf *conf);

/* Stop the thread (it finishes the batch in hand) and free. NULL is ignored. */
void ctl_stop(struct ctl *c);

/* Something was committed: look at the journal now. Any thread; never blocks. */
void ctl_wake(struct ctl *c);

/* Journal seq of the published version (any thread). */
uint64_t ctl_published_seq(struct ctl *c);

/*
 * Wait until the published version reflects at least `seq`, at most
 * timeout_ms. DDI_EOK, or DDI_EAGAIN on timeout.
 */
int ctl_wait_seq(struct ctl *c, uint64_t seq, unsigned timeout_ms);

/*
 * An eventfd that becomes readable after each publish (one reader: the
 * control socket's event loop, which reads it to clear it).
 */
int ctl_publish_fd(struct ctl *c);

/* A consistent copy of the counters. */
void ctl_get_stats(struct ctl *c, struct ctl_stats *st);

#endif
