/* startup -- ddiplane's start: the store loaded in a thread beside EAL and the ports, and the phase log */
#ifndef DDI_DATAPLANE_STARTUP_H
#define DDI_DATAPLANE_STARTUP_H

#include <pthread.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "control/store/store.h"

/*
 * The phases of the start, timed from main() on, for one info line once
 * the workers run:
 *   start-up: eal 120 ms, ports 80 ms, ...; store (beside them) open 1 ms,
 *   index 430 ms (200,010 RRsets, 659,598 records, 4 zones) ...; ready 700 ms
 * Only the main thread marks phases.
 */
struct dp_phases {
	uint64_t t0, last;   /* CLOCK_MONOTONIC ns: main(), the last mark */
	size_t len;
	char text[640];
};

void dp_phases_init(struct dp_phases *p);
/* Append "NAME N ms", the time since the previous mark (or since init). */
void dp_phase(struct dp_phases *p, const char *name);
/* Log the line at info: "start-up: PHASES; workers answering N ms after start". */
void dp_phases_log(const struct dp_phases *p);

/*
 * ddiplane's own arguments: argv[0], then what follows "--" (EAL's come
 * before it), NULL-terminated, in a static array (*n of them). The strings
 * are argv's; argv itself is left as it is for rte_eal_init. NULL when more
 * than DP_OWN_ARGS_MAX follow "--".
 */
#define DP_OWN_ARGS_MAX 254
char **dp_own_args(int argc, char **argv, int *n);

/*
 * The store and the index load, in a thread of its own, so that the
 * read of LMDB and the index build run while the main thread brings up
 * EAL, the mbuf pool, the ports and the taps (they need nothing from each
 * other). The index is published (one pointer) by the loader; the workers
 * are launched only after dp_loader_join, so a worker never sees the index
 * before it is whole, and never an index at all before the load is done.
 *
 * The loader opens the store, claims it (store_server_claim: one server
 * per store), and loads it into `ix`, becoming the index's writer
 * (index/snapshot.h W0) until the control thread claims that role.
 */
struct dp_loader {
	const char *db;
	struct idx *ix;
	uint64_t t0;                   /* dp_phases' t0 */
	pthread_t th;
	bool started;
	/* results, valid after dp_loader_join */
	int rc;                        /* DDI_EOK, or the error (msg says it) */
	char msg[1024];
	struct store *st;              /* the open store (also on a load error: close it) */
	int claim_fd;                  /* store_server_claim's fd, -1 for none */
	uint64_t seq;                  /* the journal seq the index is at */
	struct store_load_stats stats;
	uint64_t open_ns, load_ns, trim_ns, end_ns;   /* durations, and the end since t0 */
};

/* Start the loader thread; on failure (no thread) load on the caller's thread. */
void dp_loader_start(struct dp_loader *l, const char *db, struct idx *ix, uint64_t t0);
/*
 * Wait for it; returns l->rc. Appends the loader's figures and the wait to
 * *p, and says the outcome: "ddiplane: <msg>" on stderr on an error, else
 * "database DB loaded at journal seq N" at notice.
 */
int dp_loader_join(struct dp_loader *l, struct dp_phases *p);

/*
 * The first DNS answer, logged once at info ("start-up: first answer N ms
 * after start"): a thread that sums the workers' answer counters
 * (dataplane/counters.h) every millisecond until one is counted, for at
 * most DP_FIRST_ANSWER_WAIT_S seconds, then ends.
 */
#define DP_FIRST_ANSWER_WAIT_S 60
struct dp_first_answer {
	pthread_t th;
	bool started;
	bool stop;          /* atomic: set by dp_first_answer_stop */
	uint64_t t0;        /* dp_phases' t0 */
};

/* Start the watcher (nothing is logged if no thread can be made). */
void dp_first_answer_start(struct dp_first_answer *f, uint64_t t0);
/* Stop it (if it still runs) and wait for it. */
void dp_first_answer_stop(struct dp_first_answer *f);

#endif
