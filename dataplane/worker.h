/* worker -- the lcore loops: workers (RX, answer, TX) and the control lcore (tap, control ring) */
#ifndef DDI_DATAPLANE_WORKER_H
#define DDI_DATAPLANE_WORKER_H

#include <stdbool.h>
#include <stdint.h>

#include "dataplane/packet.h"

#define DP_MAX_PORTS 8
#define DP_BURST 32
#define DP_IDLE_LOOPS 256        /* empty polls before a worker sleeps */
#define RTE_MAX_LCORE_DP 128     /* workers at most */

struct rte_ring;
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
 * it (answer_query gives NOTIMP for now). What the control lcore sends out
 * of a port (those answers, and what the kernel sends through a tap) goes
 * back to a worker through that worker's `to_worker` ring (single-producer,
 * single-consumer; mbuf->port names the port) and leaves through the
 * worker's own TX queue. Why not a TX queue of its own: a port then needs
 * exactly one queue pair per worker, which is what net_af_packet (qpairs=N,
 * whose extra RX queues would receive packets nobody polls), VFs and
 * small NICs offer.
 */
struct dp_shared {
	struct dp_port ports[DP_MAX_PORTS];
	unsigned nports;
	struct idx *idx;
	struct rte_ring *ctl_ring;
	struct rte_ring *to_worker[RTE_MAX_LCORE_DP];
	unsigned nworkers;
	unsigned idle_sleep_us;
	volatile bool quit;
	/*
	 * Control lcore, around each burst of handed-over messages: group
	 * commit of dynamic updates. begin false: no batch (each update then
	 * commits alone); end false: the batch did not commit, so the burst's
	 * answers are dropped (nothing unsynced is acknowledged; clients
	 * retry). NULL: no batching.
	 */
	bool (*ctl_batch_begin)(void *ctx);
	bool (*ctl_batch_end)(void *ctx);
	void *ctl_batch_ctx;
};

struct dp_worker {
	struct dp_shared *sh;
	uint16_t queue;
};

/* lcore entry of a worker (rte_eal_remote_launch); arg is a struct dp_worker. */
int dp_worker_main(void *arg);

/* The control lcore's loop, on the main lcore; returns when sh->quit is set. */
void dp_control_loop(struct dp_shared *sh);

#endif
