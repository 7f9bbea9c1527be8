/* life -- the DDI lifecycle: lease expiry, aging and scavenging, stale data, history and revert */
#ifndef DDI_CONTROL_LIFE_H
#define DDI_CONTROL_LIFE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <jansson.h>

#include "control/store/store.h"

/*
 * A room of control/ (shared/DESIGN.md): it uses the store (store.h,
 * "Leases and aging", "Differences") and nothing of the other rooms.
 * Every removal it makes is an ordinary journaled commit (actor
 * "lease-expiry", "scavenger" or "revert:SEQ by USER"), so the follower
 * publishes it and secondaries get it by IXFR like any other change.
 * Removals go in bounded batches (one write transaction each) so that
 * the store's write lock is never held for long and a backlog of 100,000
 * expired leases does not stall dynamic updates.
 */

#define LIFE_BATCH_DEFAULT 1000   /* RRsets per write transaction */
#define LIFE_LEASE_ACTOR "lease-expiry"
#define LIFE_SCAVENGE_ACTOR "scavenger"

struct life_stats {
	uint64_t rrsets;          /* RRsets removed */
	uint64_t allocations;     /* dynamic IPAM allocations released with them */
	uint64_t batches;         /* write transactions committed */
};

/*
 * Remove every RRset whose lease ended at or before now_ns, with the
 * dynamic IPAM allocations of their addresses that belong to the same
 * name (their PTRs go with the addresses), at most `batch` RRsets (0:
 * LIFE_BATCH_DEFAULT) per journaled commit, at most `max_batches` commits
 * (0: until none is due). Adds what it did to *st. Returns DDI_EOK or the
 * store's error (err set; the batches committed before stay).
 */
int life_lease_sweep(struct store *s, int64_t now_ns, size_t batch, size_t max_batches,
                     struct life_stats *st, struct store_error *err);

/*
 * Scavenge zone `apex` as Windows DNS does: every dynamic RRset (one with
 * an aging stamp) whose stamp is older than no-refresh + refresh goes
 * (unless it has a lease that has not ended: the lease decides),
 * with its dynamic allocations, in batches as above (actor "scavenger").
 * With dry_run nothing changes: cb is called for each RRset that would go.
 * cb (may be NULL) is also called for each RRset removed. DDI_ENOENT
 * (err: "aging is off for ZONE") when the zone has no aging settings.
 */
int life_scavenge(struct store *s, const uint8_t *apex, int64_t now_ns, bool dry_run,
                  size_t batch,
                  int (*cb)(void *ctx, const uint8_t *owner, uint16_t type, int64_t refreshed_ns),
                  void *ctx, struct life_stats *st, struct store_error *err);

/*
 * Every change to `name` the zone's differences still hold (the last
 * diff_max_depth commits of the zone, store.h), oldest first, as a JSON
 * array of {"seq", "time" (unix ns), "actor", "changes": [{"type",
 * "old": {"ttl", "rdata": [...]}, "new": {...}}]} ("old"/"new" null when
 * the RRset did not exist). SOA changes are left out (every commit
 * advances the serial). *out is a new reference. DDI_ENOZONE.
 */
int life_history(struct store *s, const uint8_t *name, json_t **out, struct store_error *err);

/*
 * Apply the inverse of journal entry `seq` as a new commit with `actor`,
 * in one write transaction that first checks that the data has not moved
 * on: no later difference touches an RRset the entry changed, and each
 * such RRset still holds what the entry added and lacks what it removed.
 * Refused (DDI_ECONFLICT, err names the RRset and the later seq) when it
 * did; DDI_ENOENT when the entry or its differences are no longer kept;
 * DDI_EINVAL when the entry changed no records (a note, keys, policies)
 * or was recorded without its records (a bulk import: BREAK). The
 * automatic serial advance and synthesized reverse zones are not
 * reverted (they follow). *newseq: the revert's own journal seq.
 */
int life_revert(struct store *s, uint64_t seq, const char *actor, uint64_t *newseq,
                struct store_error *err);

/*
 * The stale-data report, a JSON object of four arrays:
 *   "unallocated": A/AAAA records whose address lies in a strict or auto
 *                  IPAM prefix but has no allocation for that name;
 *   "unresolved":  allocations whose name has no A/AAAA for the address;
 *   "expiring":    leases and aging deadlines within `within_s` seconds;
 *   "expired":     leases past their time (not swept yet).
 * Limited to names at or below `zone` (may be NULL) and to addresses in
 * `prefix` (family 0: all), and, `scope` given, to the names and addresses
 * its principal sees (cmd_sees_name / cmd_sees_prefix; NULL: all). Each
 * list is cut at `limit` items ("truncated": true). *out is a new reference.
 */
struct cmd_ctx;
int life_stale(struct store *s, const uint8_t *zone, int family, const uint8_t prefix[16],
               unsigned plen, int64_t now_ns, uint32_t within_s, size_t limit, json_t **out,
               struct store_error *err, const struct cmd_ctx *scope);

/* ------------------------------------------------------------------------ */
/* The sweeper thread (thread.c)                                            */
/* ------------------------------------------------------------------------ */

/*
 * A control-plane thread (never a worker): every `interval_ms` it sweeps
 * the leases that are due (batches of `batch`, yielding the write lock
 * between them) and scavenges the zones whose aging period is due.
 */
struct life_thread;
struct life_thread_conf {
	struct store *store;
	unsigned interval_ms;      /* 0: 1000 */
	size_t batch;              /* 0: LIFE_BATCH_DEFAULT */
};

int life_thread_start(struct life_thread **out, const struct life_thread_conf *c);
void life_thread_stop(struct life_thread *t);   /* NULL is ignored */
/* What it removed so far (for stats and /metrics); t may be NULL. */
void life_thread_stats(const struct life_thread *t, struct life_stats *leases,
                       struct life_stats *scavenged);

#endif
