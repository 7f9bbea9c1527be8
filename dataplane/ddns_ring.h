/* ddns_ring -- the DDNS thread's source: UPDATE/NOTIFY and signed QUERY frames from the control lcore's ring, answers back on another */
#ifndef DDI_DATAPLANE_DDNS_RING_H
#define DDI_DATAPLANE_DDNS_RING_H

#include "control/ddns/thread.h"
#include "dataplane/worker.h"

/*
 * Implements struct ddns_source (control/ddns/thread.h) over
 * sh->ddns_ring and sh->ddns_ret. The frames were classified DP_ACT_DDNS
 * by the control lcore; take() parses each again with its port's
 * pctx_ctl (dp_packet_parse) to find the payload and the client's
 * address; give() writes the answer's headers (dp_packet_reply) and
 * queues the frame for the control lcore, which sends it through a worker.
 * Both run on the DDNS thread only: the per-burst state lives here.
 */
struct dp_ddns_source {
	struct dp_shared *sh;
	struct rte_mbuf *m[DDNS_BURST];
	const struct dp_port *port[DDNS_BURST];
	struct dp_frame f[DDNS_BURST];
};

/*
 * The source for ddns_thread_conf; `s` must outlive the DDNS thread. Its
 * idx and answer settings (for signed queries) are sh->idx and the first
 * port's (every port shares the daemon's one answer_conf).
 */
struct ddns_source dp_ddns_source(struct dp_ddns_source *s, struct dp_shared *sh);

/* Free every mbuf left on both rings (after the DDNS thread stopped). */
void dp_ddns_rings_drain(struct dp_shared *sh);

#endif
