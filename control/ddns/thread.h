/* thread -- the DDNS thread: RFC 2136 UPDATE and NOTIFY (and TKEY for GSS-TSIG) from the dataplane and TCP, one group commit per burst */
#ifndef DDI_CONTROL_DDNS_THREAD_H
#define DDI_CONTROL_DDNS_THREAD_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "control/ddns/refusal.h"

/*
 * Why a thread: serving an update takes the LMDB write lock and syncs to
 * disk. The lock may be held for seconds by another process (a `ddictl
 * --db` import, a backup), and no lcore may wait on it: the control lcore
 * forwards the kernel's packets (ARP/ND, ping, every TCP answer) and must
 * keep passing QSBR quiescent states. So the control lcore and the TCP
 * thread only queue messages here, and this thread does the waiting.
 *
 * The loop, one burst at a time:
 *   1. Sleep on an eventfd (ddns_thread_kick) for at most DDNS_POLL_MS.
 *   2. Take up to DDNS_BURST messages: the dataplane's through the source's
 *      take(), then TCP submissions (ddns_thread_submit).
 *   3. Serve them in ONE store batch (ddns_serve between store_batch_begin
 *      and store_batch_end): N updates cost one sync. TKEY queries (GSS-TSIG
 *      on) are answered by tkey_serve in the same loop; they write nothing. If the batch does not
 *      commit, every answer of the burst is dropped (nothing unsynced is
 *      acknowledged; clients retry) and TCP submitters get no answer.
 *   4. Hand the answers back: give() for the dataplane's, a condition
 *      variable for each waiting TCP submitter, the `done` callback for
 *      each asynchronous one (ddns_thread_submit_async).
 * While one burst syncs, the next messages queue and form the next burst.
 *
 * Refusals (control/ddns/refusal.h): an update that changed nothing is
 * counted by reason and logged at a bounded rate; only one authenticated
 * by TSIG is noted in the journal, at most once per (key, reason) per
 * minute, in the burst's batch. Between bursts the thread reports what the
 * log suppressed and writes the closing notes of intervals that are over.
 *
 * Signed queries (control/ddns/query.h): a QUERY with a TSIG that the
 * source hands over is verified and answered from the source's index in
 * the same burst, and counted by outcome (DDNS_OUT_SQ_*), not by rcode.
 * A burst of signed queries only opens no store batch (no write lock: the
 * keys are read in read transactions); in a burst with updates the keys
 * are read in its batch and the answers wait for its commit like the others.
 *
 * RCU: with a source index (signed queries) this thread registers with
 * liburcu QSBR and is offline at all times but inside ddns_query_serve's
 * lookup; it never holds a snapshot while it waits or writes. Updates are
 * not read from the index: the control thread publishes what this thread
 * commits (woken by ddns_serve).
 */

#define DDNS_BURST 128           /* messages per batch (one sync) */
#define DDNS_POLL_MS 100         /* sleep bound: a lost kick costs at most this */
#define DDNS_TCP_QUEUE 64        /* TCP submissions waiting at most; more get SERVFAIL */

struct store;
struct ctl;
struct ddns_thread;
struct gss_server;
struct idx;
struct answer_conf;

/* One message of a burst. */
struct ddns_msg {
	const uint8_t *req;      /* the DNS message (UDP payload / TCP message without prefix) */
	size_t len;
	uint8_t family;          /* 4 or 6 */
	uint8_t src[16];         /* the client's address (a copy: req may be overwritten) */
	uint8_t *resp;           /* the answer goes here; may be the same memory as req */
	size_t cap;
	int n;                   /* out: answer length, 0 none (dropped) */
	uint8_t query;           /* out: 0, or 1 + enum ddns_query_result of a signed QUERY */
};

/*
 * Where the dataplane's messages come from and their answers go, on this
 * thread only (so the source may keep per-burst state between take and
 * give). control/ knows no DPDK: dataplane/ implements these with rings.
 *
 * take: fill up to `max` messages, return how many (0: nothing queued).
 *   Must not block.
 * give: the same messages, in the same order, after the batch; `committed`
 *   false means the batch did not commit: drop every one. Otherwise send
 *   those with n > 0, drop the others. Returns how many it could not send
 *   (counted as give_dropped). Must not block.
 */
struct ddns_source {
	unsigned (*take)(void *ctx, struct ddns_msg *msgs, unsigned max);
	unsigned (*give)(void *ctx, struct ddns_msg *msgs, unsigned n, bool committed);
	void *ctx;
	/*
	 * Signed queries (control/ddns/query.h): a QUERY the source hands over
	 * (a TSIG on it) is answered from this index with these settings, the
	 * workers' own. idx NULL: such messages get no answer. The thread then
	 * registers with liburcu (QSBR) and stays offline but for each lookup.
	 */
	struct idx *idx;
	const struct answer_conf *answer;
};

struct ddns_thread_conf {
	struct store *store;
	struct ctl *ctl;                 /* woken after each commit to publish; may be NULL */
	struct ddns_source source;       /* take NULL: TCP submissions only */
	/* NOTIFY of a secondary zone: see ddns_env.notify (NULL: none) */
	int (*notify)(const uint8_t *apex, uint8_t family, const uint8_t *addr, const uint8_t *key);
	/*
	 * GSS-TSIG (control/ddns/gss.h), NULL: off. The thread answers TKEY
	 * queries with it (control/ddns/tkey.h), verifies and signs gss-tsig
	 * updates with its contexts, and expires them between bursts; it is
	 * the thread's alone until ddns_thread_stop (the caller frees it after).
	 */
	struct gss_server *gss;
};

/*
 * Every outcome of a message handed to the thread, by rcode of the answer
 * (RFC 2136 2.2: NOERROR, FORMERR, SERVFAIL, NXDOMAIN, NOTIMP, REFUSED,
 * YXDOMAIN, YXRRSET, NXRRSET, NOTAUTH, NOTZONE; TSIG errors are NOTAUTH),
 * and of the thread's batches.
 */
enum ddns_outcome {
	DDNS_OUT_NOERROR = 0,
	DDNS_OUT_FORMERR,
	DDNS_OUT_SERVFAIL,
	DDNS_OUT_NXDOMAIN,
	DDNS_OUT_NOTIMP,
	DDNS_OUT_REFUSED,
	DDNS_OUT_YXDOMAIN,
	DDNS_OUT_YXRRSET,
	DDNS_OUT_NXRRSET,
	DDNS_OUT_NOTAUTH,
	DDNS_OUT_NOTZONE,
	DDNS_OUT_OTHER_RCODE,
	DDNS_OUT_NO_ANSWER,      /* ddns_serve gave nothing to send */
	DDNS_OUT_UNCOMMITTED,    /* answered, but the batch did not commit: dropped */
	DDNS_OUT_GIVE_DROPPED,   /* the source could not send the answer (return ring full) */
	DDNS_OUT_TCP_FULL,       /* TCP submission refused, DDNS_TCP_QUEUE waiting: SERVFAIL */
	DDNS_OUT_UDP,            /* messages taken from the dataplane */
	DDNS_OUT_TCP,            /* messages submitted over TCP */
	DDNS_OUT_BATCHES,        /* bursts served (each one store batch, one sync) */
	DDNS_OUT_UNBATCHED,      /* bursts whose batch could not begin: one commit per update */
	DDNS_OUT_BATCH_FAILED,   /* bursts whose batch did not commit: answers dropped */
	/*
	 * TSIG-signed QUERY over UDP (control/ddns/query.h), counted here
	 * instead of by rcode: one per signed query taken, by enum
	 * ddns_query_result (queue drops are the dataplane's signed_ddns_full).
	 */
	DDNS_OUT_SQ_ANSWERED,    /* verified, answered, signed */
	DDNS_OUT_SQ_TRUNCATED,   /* verified, did not fit with its TSIG: TC, signed */
	DDNS_OUT_SQ_FORMERR,     /* malformed: FORMERR, unsigned */
	DDNS_OUT_SQ_BADKEY,      /* refused: NOTAUTH + BADKEY, unsigned */
	DDNS_OUT_SQ_BADSIG,      /* refused: NOTAUTH + BADSIG, unsigned */
	DDNS_OUT_SQ_BADTIME,     /* refused: NOTAUTH + BADTIME, signed */
	DDNS_OUT_SQ_DROPPED,     /* no answer (no index, no room) */
	DDNS_OUT__COUNT
};

/* "noerror", ..., "tcp_queue_full": stats keys and metrics labels. */
extern const char *const ddns_outcome_names[DDNS_OUT__COUNT];

struct ddns_stats {
	uint64_t v[DDNS_OUT__COUNT];
	uint64_t max_batch;      /* largest burst served */
	struct ddns_refusal_stats refusals;  /* updates that changed nothing, by reason; their
	                                        log lines and journal notes (refusal.h) */
};

/*
 * Start the thread. The store and ctl must outlive it. Errors: DDI_ENOMEM,
 * -errno of eventfd or pthread_create. Any thread; once.
 */
int ddns_thread_start(struct ddns_thread **out, const struct ddns_thread_conf *conf);

/*
 * Stop: the thread finishes its burst, answers nothing more (waiting TCP
 * submitters are released with no answer) and is joined. Call after the
 * source stopped calling ddns_thread_kick and after the TCP server
 * stopped. NULL is ignored.
 */
void ddns_thread_stop(struct ddns_thread *t);

/*
 * Wake the thread after queueing to its source: one non-blocking eventfd
 * write, never waits (a full counter means a wake is pending anyway).
 * Any thread, lcores included.
 */
void ddns_thread_kick(struct ddns_thread *t);

/*
 * Serve one message on the thread and wait for its answer, for a caller
 * that may wait (the TCP server uses ddns_thread_submit_async below
 * instead, so that its query loop never waits). Copies req and src_addr before queueing; resp (cap bytes)
 * is written by the thread before this returns. Returns the answer length,
 * 0 for none (batch not committed, thread stopping), or the length of a
 * SERVFAIL written in place when DDNS_TCP_QUEUE submissions wait already.
 * Blocks: only for threads that may wait (not an lcore, not an online
 * QSBR reader).
 */
int ddns_thread_submit(void *t, const uint8_t *req, size_t len, uint8_t src_family,
                       const uint8_t *src_addr, uint8_t *resp, size_t cap);

/*
 * The answer to an asynchronous submission: `resp` (n bytes, 0 for none:
 * batch not committed, thread stopping) is valid only during the call.
 * Runs on the DDNS thread (or in ddns_thread_stop), exactly once per
 * submission that returned 0; it must not block (queue and wake, no more).
 */
typedef void (*ddns_done_fn)(void *dctx, uint64_t tag, const uint8_t *resp, int n);

/*
 * Queue one message and return at once: the TCP server's update hook
 * (control/tcp/tcp.h tcp_conf.update, ctx is the ddns_thread), so the TCP
 * query loop never waits for a commit. Copies req and src_addr. Returns 0
 * when queued (`done` is called later with `dctx` and `tag`), or the
 * length of a SERVFAIL written in resp (cap bytes) when DDNS_TCP_QUEUE
 * submissions wait already, the thread stops or memory is short (then
 * `done` is never called). Never blocks but on the queue's short lock; any
 * thread, online QSBR readers included.
 */
int ddns_thread_submit_async(void *t, const uint8_t *req, size_t len, uint8_t src_family,
                             const uint8_t *src_addr, ddns_done_fn done, void *dctx,
                             uint64_t tag, uint8_t *resp, size_t cap);

/* A copy of the counters. Any thread. NULL: zeros. */
void ddns_thread_stats(const struct ddns_thread *t, struct ddns_stats *out);

#endif
