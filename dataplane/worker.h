/* worker -- the lcore loops: workers (RX, answer, TX) and the control lcore (tap, control ring) */
#ifndef DDI_DATAPLANE_WORKER_H
#define DDI_DATAPLANE_WORKER_H

#include <assert.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stdint.h>

#include "dataplane/packet.h"
#include "dataplane/rrl.h"

#define DP_MAX_PORTS 8
#define DP_BURST 32
#define DP_IDLE_LOOPS 256        /* empty polls before a worker sleeps */
#define RTE_MAX_LCORE_DP 128     /* workers at most */
#define DP_DDNS_RING_SIZE 256    /* UPDATE/NOTIFY waiting for the DDNS thread at most */
#define DP_DDNS_SIGNED_SHARE (DP_DDNS_RING_SIZE / 2)  /* signed queries queued only below this */

struct rte_mbuf;
struct rte_ring;
struct qlog_ring;
struct idx;

/* One DPDK port and its tap. Read-only once the workers run. */
struct dp_port {
	uint16_t port_id;
	uint16_t tap_id;
	uint16_t tap_nq;             /* tap RX/TX queues (one per worker) */
	struct dp_pctx pctx;         /* worker context: offloads of this port */
	struct dp_pctx pctx_ctl;     /* control lcore context: answers every opcode */
	char tap_name[16];
};

/*
 * Everything the lcores share, read-only while they run except `quit`.
 *
 * Queues: worker w owns RX queue w and TX queue w of every port and TX
 * queue w of every tap; the control lcore polls every RX queue of the
 * taps. No queue is used by two lcores, so no lock is taken.
 *
 * Hand-off: a worker puts a DNS message with an opcode other than QUERY on
 * `ctl_ring` (multi-producer, single-consumer). The control lcore answers
 * it NOTIMP, except UPDATE and NOTIFY, which it only classifies and puts
 * on `ddns_ring` (single-producer: the control lcore; single-consumer: the
 * DDNS thread, control/ddns/thread.h), then kicks that thread with
 * `ddns_kick` (one non-blocking eventfd write per burst). When `ddns_ring`
 * is full the message is counted (DP_OUT_DDNS_FULL) and dropped: the
 * control lcore never waits for the store, whose write lock another
 * process may hold for seconds. The DDNS thread turns each frame into its
 * answer in place and puts it on `ddns_ret` (single-producer: the DDNS
 * thread; single-consumer: the control lcore).
 *
 * What the control lcore sends out of a port (answers, and what the kernel
 * sends through a tap) goes back to a worker through that worker's
 * `to_worker` ring (single-producer, single-consumer; mbuf->port names the
 * port) and leaves through the worker's own TX queue. Why not a TX queue
 * of its own: a port then needs exactly one queue pair per worker, which
 * is what net_af_packet (qpairs=N, whose extra RX queues would receive
 * packets nobody polls), VFs and small NICs offer.
 */
struct dp_shared {
	struct dp_port ports[DP_MAX_PORTS];
	unsigned nports;
	struct idx *idx;
	struct rte_ring *ctl_ring;
	struct rte_ring *ddns_ring;          /* NULL: no DDNS thread (UPDATE/NOTIFY get NOTIMP) */
	struct rte_ring *ddns_ret;
	void (*ddns_kick)(void *ctx);        /* never blocks */
	void *ddns_kick_ctx;
	struct rte_ring *to_worker[RTE_MAX_LCORE_DP];
	struct qlog_ring *qlog[RTE_MAX_LCORE_DP];   /* per worker queue; NULL: no query log */
	struct rrl_live rrl_live;            /* rate and slip of a reload, taken at each burst */
	unsigned nworkers;
	unsigned idle_sleep_us;
	/*
	 * Each lcore's own answer-path state (rate-limiting table, clock),
	 * indexed by lcore id, written by that lcore only.
	 */
	struct dp_lcore lcore[DP_MAX_LCORES];
	/* The lcores' clock: TSC at start, TSC ticks per millisecond, Unix time at start. */
	uint64_t tsc_base, tsc_per_ms;
	uint32_t unix_base;
	/*
	 * DNS cookie secrets, NULL when cookies are off: the control lcore
	 * makes a new one every `cookie_rotate_tsc` TSC ticks (getrandom) and
	 * publishes it with dns_cookie_rotate(); the workers only read.
	 */
	struct dns_cookie_secrets *cookies;
	uint64_t cookie_rotate_tsc;
	/* Set once (signal handler, `shutdown` command), read by every lcore. */
	atomic_bool quit;
};

static inline bool dp_quitting(struct dp_shared *sh)
{
	return atomic_load_explicit(&sh->quit, memory_order_acquire);
}

/* Async-signal-safe (atomic_bool is lock-free on every target DPDK supports). */
static inline void dp_quit(struct dp_shared *sh)
{
	atomic_store_explicit(&sh->quit, true, memory_order_release);
}

struct dp_worker {
	struct dp_shared *sh;
	uint16_t queue;
};

/* The lcores' clock base (sh->tsc_base, tsc_per_ms, unix_base): before any lcore runs. */
void dp_shared_clock_init(struct dp_shared *sh);

/* lcore entry of a worker (rte_eal_remote_launch); arg is a struct dp_worker. */
int dp_worker_main(void *arg);

/* The control lcore's loop, on the main lcore; returns when sh->quit is set. */
void dp_control_loop(struct dp_shared *sh);

/*
 * The mbuf side of a frame dp_packet_process()/dp_packet_reply() turned
 * into a response of r->len bytes: lengths and TX offload flags of pc's
 * port. Any thread (it touches only m).
 */
void dp_mbuf_tx_prepare(const struct dp_pctx *pc, struct rte_mbuf *m, const struct dp_result *r);

#endif
