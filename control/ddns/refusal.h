/* refusal -- what an UPDATE that changed nothing leaves behind: a count by reason, stderr at a bounded rate, a journal note at most once per (key, reason) per interval */
#ifndef DDI_CONTROL_DDNS_REFUSAL_H
#define DDI_CONTROL_DDNS_REFUSAL_H

#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>

#include "control/ddns/update.h"

/*
 * Why this exists: anyone who reaches port 53 can send UPDATEs, and they
 * used to leave one journal entry each (about 200 bytes and a sync per
 * burst, forever). The journal records changes; a refusal is an event of
 * the traffic, so it is counted and logged, and nothing a stranger sends
 * may grow the store:
 *
 *   - every UPDATE that changed nothing is counted by reason
 *     (enum upd_why: ddictl stats "ddns"/"refused_by",
 *     ddiplane_ddns_refused_total{reason} in /metrics);
 *   - every refusal (not a no-change update) is logged to stderr, at most
 *     DDNS_LOG_PER_SEC lines a second; the rest is counted and summed up
 *     in one "N more suppressed" line once that second is over;
 *   - an update AUTHENTICATED by TSIG (verified, in time) that was refused
 *     by policy, by a prerequisite, by the store, or changed nothing, is
 *     noted in the journal at most once per (key, reason) per
 *     DDNS_NOTE_INTERVAL_MS: the first one of an interval is noted, later
 *     ones are folded (counted in its slot); the next note of that pair
 *     says how many were folded since the last one, and a pair that went
 *     quiet with folded refusals gets one closing note when its interval
 *     ends. The table has DDNS_NOTE_SLOTS slots and never evicts a live
 *     one: when every slot is live, a refusal of a new pair is not noted
 *     (counted as table_full, still logged). So authenticated senders add
 *     at most DDNS_NOTE_SLOTS notes per interval to the store, and
 *     strangers none.
 *
 * Not authenticated, hence never noted: unsigned updates, BADKEY, BADSIG,
 * malformed TSIG, and BADTIME too: its MAC verified, but an old capture
 * replayed by anyone on the path gets exactly that answer.
 *
 * Threads: one struct ddns_refusals belongs to one thread (the DDNS
 * thread); only its counters may be read from others
 * (ddns_refusals_stats, relaxed atomics). The ratelog and notetab below
 * are plain data with the clock passed in, for tests.
 */

#define DDNS_LOG_PER_SEC 10                 /* refusal lines on stderr per second */
#define DDNS_NOTE_INTERVAL_MS 60000u        /* one journal note per (key, reason) per minute */
#define DDNS_NOTE_SLOTS 64                  /* (key, reason) pairs noted per interval, at most */

/* ------------------------------------------------------------------------ */
/* A rate-limited log: at most per_sec lines in each second of the clock     */
/* ------------------------------------------------------------------------ */

struct ratelog {
	unsigned per_sec;
	uint64_t sec;            /* the second `used` counts in (now_ms / 1000) */
	unsigned used;           /* lines written in it */
	uint64_t suppressed;     /* lines refused in it (or an earlier second not yet reported) */
};

void ratelog_init(struct ratelog *r, unsigned per_sec);

/*
 * May one line be written at now_ms? *summary gets the number of lines
 * suppressed in an earlier second that nobody reported yet: write that
 * summary first when it is not 0 (then it is cleared here).
 */
bool ratelog_take(struct ratelog *r, uint64_t now_ms, uint64_t *summary);

/*
 * The lines suppressed in a second that is over at now_ms, to report now
 * (cleared); 0 when none, or when the second is still running.
 */
uint64_t ratelog_flush(struct ratelog *r, uint64_t now_ms);

/* ------------------------------------------------------------------------ */
/* The (key, reason) note table                                             */
/* ------------------------------------------------------------------------ */

struct notetab_slot {
	bool used;
	uint8_t why;               /* enum upd_why */
	uint64_t start_ms;         /* the interval began with a note at this time */
	uint64_t folded;           /* refusals of the pair since that note, not noted */
	char key[256];
	char actor[256];           /* of the last refusal folded (for the closing note) */
	char text[768];
};

struct notetab {
	uint64_t interval_ms;
	struct notetab_slot slot[DDNS_NOTE_SLOTS];
};

enum notetab_verdict {
	NOTETAB_NOTE,   /* write a note now; *folded = refusals folded since the pair's last note */
	NOTETAB_FOLD,   /* folded into the note of this interval: write nothing */
	NOTETAB_FULL,   /* every slot holds a live pair: write nothing */
};

void notetab_init(struct notetab *t, uint64_t interval_ms);

/* A refusal of (key, why) at now_ms, by `actor`, described by `text`. */
enum notetab_verdict notetab_hit(struct notetab *t, const char *key, enum upd_why why,
                                 const char *actor, const char *text, uint64_t now_ms,
                                 uint64_t *folded);

/*
 * End the intervals that are over at now_ms: a pair with folded refusals
 * gets one closing note (cb, with the count; its interval restarts then,
 * so a pair is still noted at most once per interval), a quiet pair frees
 * its slot. Returns how many closing notes cb got.
 */
unsigned notetab_sweep(struct notetab *t, uint64_t now_ms,
                       void (*cb)(void *ctx, const struct notetab_slot *s, uint64_t folded),
                       void *ctx);

/* ------------------------------------------------------------------------ */
/* The DDNS thread's bookkeeping                                            */
/* ------------------------------------------------------------------------ */

struct store;
struct store_txn;

/* Counters, relaxed atomics. */
struct ddns_refusal_stats {
	uint64_t why[UPD_WHY__COUNT];  /* every UPDATE that changed nothing, by reason */
	uint64_t log_lines;            /* refusal lines written to the log */
	uint64_t log_suppressed;       /* refusals not logged (rate limit) */
	uint64_t notes;                /* journal notes written (closing notes included) */
	uint64_t folded;               /* authenticated refusals folded into a note */
	uint64_t table_full;           /* authenticated refusals not noted: table full */
	uint64_t note_failed;          /* notes the store did not take */
};

struct ddns_refusals {
	FILE *log;                     /* non-NULL: refusal lines go to control/log.h (ddns
	                                  subsystem, info; its target); NULL: none (still counted) */
	struct ratelog rl;
	struct notetab notes;
	struct ddns_refusal_stats st;
};

void ddns_refusals_init(struct ddns_refusals *r, FILE *log);

/*
 * Count, log and perhaps note an update that changed nothing (o->why !=
 * UPD_WHY_NONE; others are ignored). Notes are written with
 * store_journal_note in `txn` (the burst's batch, or NULL: their own
 * transaction); a failure is counted, never answered differently.
 */
void ddns_refusals_record(struct ddns_refusals *r, struct store *st, struct store_txn *txn,
                          const struct upd_outcome *o, uint64_t now_ms);

/*
 * The clock went on: report suppressed log lines of a second that is
 * over, write closing notes of intervals that are over. Call between
 * bursts (txn NULL) or at the start of one (its batch).
 */
void ddns_refusals_tick(struct ddns_refusals *r, struct store *st, struct store_txn *txn,
                        uint64_t now_ms);

/* A copy of the counters. Any thread. */
void ddns_refusals_stats(const struct ddns_refusals *r, struct ddns_refusal_stats *out);

#endif
