/* worker -- l2fwd-shaped lcore loops around dp_packet_process() */
#include <sys/random.h>
#include <time.h>
#include <unistd.h>

#include <rte_branch_prediction.h>
#include <rte_cycles.h>
#include <rte_ethdev.h>
#include <rte_lcore.h>
#include <rte_mbuf.h>
#include <rte_prefetch.h>
#include <rte_ring.h>
#include <urcu-qsbr.h>

#include "dataplane/qlog.h"
#include "dataplane/worker.h"
#include "index/snapshot.h"

/* A worker's queue index and the per-lcore counters are both bounded by lcore ids. */
static_assert(RTE_MAX_LCORE_DP <= RTE_MAX_LCORE, "more worker slots than DPDK lcores");
static_assert(DP_MAX_LCORES >= RTE_MAX_LCORE, "dp_counters is indexed by rte_lcore_id()");

/*
 * The next frame's first two cache lines, while this one is answered: a
 * query over IPv4 with an OPT (42 bytes of headers, 12 of DNS header, the
 * question and 11 of OPT) ends in the second line, and the parse reads
 * its end early (the OPT). Where another core wrote the frame (a ring, a
 * PMD's receive thread) each line is a miss of its own (bench/RESULTS.md,
 * "Fast path at scale", fourth round).
 */
static inline void prefetch_frame(const struct rte_mbuf *m)
{
	const char *d = rte_pktmbuf_mtod(m, const char *);
	rte_prefetch0(d);
	rte_prefetch0(d + RTE_CACHE_LINE_SIZE);
}

/*
 * A frame whose VLAN tag the PMD took out into mbuf metadata gets it back
 * in the data, so that the response (built by swapping fields in place)
 * carries the same tag and the tap sees what was on the wire. Rare: most
 * PMDs leave the tag in the data unless asked to strip it.
 */
static inline void restore_vlan(struct rte_mbuf *m)
{
	if (unlikely(m->ol_flags & RTE_MBUF_F_RX_VLAN_STRIPPED)) {
		if (rte_vlan_insert(&m) == 0)
			m->ol_flags &= ~(RTE_MBUF_F_RX_VLAN_STRIPPED | RTE_MBUF_F_RX_VLAN);
	}
}

/*
 * The lcore's clock for this burst: one TSC read and two divisions per
 * burst, none per packet (the RRL refill and cookie timestamps need no
 * more than milliseconds and seconds).
 */
static inline void lcore_clock(const struct dp_shared *sh, struct dp_lcore *lc)
{
	uint64_t ms = (rte_rdtsc() - sh->tsc_base) / sh->tsc_per_ms;
	lc->now_ms = (uint32_t)ms;
	lc->now_s = sh->unix_base + (uint32_t)(ms / 1000);
	if (lc->rrl)   /* a reload's rate and slip, once per burst */
		rrl_refresh(lc->rrl, &sh->rrl_live);
}

void dp_shared_clock_init(struct dp_shared *sh)
{
	uint64_t hz = rte_get_tsc_hz();
	sh->tsc_per_ms = hz >= 1000 ? hz / 1000 : 1;
	sh->tsc_base = rte_rdtsc();
	sh->unix_base = (uint32_t)time(NULL);
	if (sh->cookie_rotate_tsc == 0)
		sh->cookie_rotate_tsc = UINT64_MAX / 2;   /* no rotation asked for */
}

/* The mbuf side of a result: lengths of a frame handed on, offloads of a response. */
static inline void mbuf_after(const struct dp_pctx *pc, struct rte_mbuf *m,
                              const struct dp_result *r)
{
	if (r->action == DP_ACT_CONTROL || r->action == DP_ACT_DDNS) {
		/* IPv4 options and Ethernet padding gone: the frame re-parses alike */
		m->data_len = r->len;
		m->pkt_len = r->len;
	} else if (r->action == DP_ACT_TX) {
		dp_mbuf_tx_prepare(pc, m, r);
	}
}

/*
 * Step 1 of a burst for one mbuf: parse it (dp_packet_begin); true when a
 * query awaits its answer in *p.
 */
static inline bool begin_mbuf(const struct dp_pctx *pc, struct rte_mbuf *m,
                              struct dp_pending *p, struct dp_result *r)
{
	/* Multi-segment frames are not for the fast path (jumbo queries do not exist). */
	if (unlikely(m->nb_segs != 1)) {
		memset(r, 0, sizeof(*r));
		r->action = DP_ACT_EXCEPTION;
		r->outcome = DP_OUT_EXC_OTHER;
		return false;
	}
	uint8_t *frame = rte_pktmbuf_mtod(m, uint8_t *);
	size_t cap = rte_pktmbuf_data_len(m) + rte_pktmbuf_tailroom(m);
	return dp_packet_begin(pc, frame, rte_pktmbuf_data_len(m), cap, p, r);
}

/* Run one mbuf through the core on its own (the control lcore's path). */
static inline void process_mbuf(const struct dp_pctx *pc, struct dp_lcore *lc,
                                const struct idx_version *v, struct rte_mbuf *m,
                                struct dp_result *r)
{
	struct dp_pending p;
	if (begin_mbuf(pc, m, &p, r))
		dp_packet_finish(pc, lc, v, &p, r, NULL, 0);
	mbuf_after(pc, m, r);
}

void dp_mbuf_tx_prepare(const struct dp_pctx *pc, struct rte_mbuf *m, const struct dp_result *r)
{
	m->data_len = r->len;
	m->pkt_len = r->len;
	uint64_t fl = 0;
	if (pc->tx_ip4_cksum_offload && !r->ipv6)
		fl |= RTE_MBUF_F_TX_IP_CKSUM;
	if (pc->tx_udp_cksum_offload)
		fl |= RTE_MBUF_F_TX_UDP_CKSUM;
	if (fl) {
		fl |= r->ipv6 ? RTE_MBUF_F_TX_IPV6 : RTE_MBUF_F_TX_IPV4;
		m->l2_len = r->l2_len;
		m->l3_len = r->l3_len;
	}
	m->ol_flags = fl;
}

static inline void count_result(struct dp_counters *c, const struct dp_result *r)
{
	dp_count(c, r->outcome);
	if (r->truncated)
		dp_count(c, DP_OUT_TRUNCATED);
	if (r->answered)
		c->qtype[dp_qtype_of(r->qtype)]++;
	for (unsigned i = 0; i < r->nalso; i++)
		dp_count(c, (enum dp_outcome)r->also[i]);
}

/* Send what tx_burst took; free and count the rest. */
static inline void send_burst(uint16_t port, uint16_t q, struct rte_mbuf **pkts, uint16_t n,
                              struct dp_counters *c, enum dp_outcome drop, bool count_tx)
{
	if (n == 0)
		return;
	uint16_t sent = rte_eth_tx_burst(port, q, pkts, n);
	if (count_tx)
		c->v[DP_OUT_TX] += sent;
	if (unlikely(sent < n)) {
		c->v[drop] += n - sent;
		rte_pktmbuf_free_bulk(pkts + sent, n - sent);
	}
}

int dp_worker_main(void *arg)
{
	const struct dp_worker *w = arg;
	struct dp_shared *sh = w->sh;
	const uint16_t q = w->queue;
	struct dp_counters *c = &dp_counters[rte_lcore_id()];
	struct dp_lcore *lc = &sh->lcore[rte_lcore_id()];
	struct rte_mbuf *rx[DP_BURST], *tx[DP_BURST], *exc[DP_BURST];
	struct dp_pending pend[DP_BURST];
	unsigned idle = 0;
	/* the burst's lookups walked together; without it (no memory) one by one */
	struct answer_bulk *bulks = answer_bulk_new();

	rcu_register_thread();
	while (!dp_quitting(sh)) {
		/* One quiescent state per loop: no snapshot is held past this point. */
		rcu_quiescent_state();
		unsigned got = 0;

		/* What the control lcore sends out of a port leaves through our TX queue. */
		uint16_t nb = (uint16_t)rte_ring_sc_dequeue_burst(sh->to_worker[q], (void **)rx,
		                                                  DP_BURST, NULL);
		if (nb) {
			got += nb;
			for (unsigned p = 0; p < sh->nports; p++) {
				uint16_t ntx = 0;
				for (uint16_t i = 0; i < nb; i++)
					if (rx[i]->port == sh->ports[p].port_id)
						tx[ntx++] = rx[i];
				send_burst(sh->ports[p].port_id, q, tx, ntx, c, DP_OUT_TX_DROP, true);
			}
		}

		for (unsigned p = 0; p < sh->nports; p++) {
			const struct dp_port *port = &sh->ports[p];
			uint16_t n = rte_eth_rx_burst(port->port_id, q, rx, DP_BURST);
			if (n == 0)
				continue;
			got += n;
			c->v[DP_OUT_RX] += n;
			/* Every mbuf's header at once: the loops below read each one
			 * to find its data, and where the receive side wrote them on
			 * another core each is a miss; this way they overlap. */
			for (uint16_t i = 0; i < n; i++)
				rte_prefetch0(rx[i]);

			/* The snapshot is read once per burst (index/snapshot.h R2). */
			const struct idx_version *v = idx_acquire(sh->idx);
			lcore_clock(sh, lc);
			/*
			 * A large index: the burst in three passes. Parse every
			 * frame and build the lookup keys; walk all lookups
			 * together, level by level, so that their cache misses
			 * overlap (answer_bulk_lookup); then answer and send each.
			 * A small one stays in the caches: each frame is parsed and
			 * answered at once, with nothing kept per frame between
			 * passes (the three passes cost it about 10 %).
			 */
			struct dp_result res[DP_BURST];
			bool live[DP_BURST];
			struct answer_bulk *bulk = bulks && answer_bulk_worth(v) ? bulks : NULL;
			for (uint16_t i = 0; bulk != NULL && i < n; i++) {
				if (i + 1 < n)
					prefetch_frame(rx[i + 1]);
				restore_vlan(rx[i]);
				live[i] = begin_mbuf(&port->pctx, rx[i], &pend[i], &res[i]);
				answer_bulk_prepare(bulk, i, &pend[i].q,
				                    live[i] ? pend[i].pr : DNS_PARSE_DROP);
			}
			if (bulk != NULL)
				answer_bulk_lookup(v, bulk, n);
			uint16_t ntx = 0, nexc = 0;
			for (uint16_t i = 0; i < n; i++) {
				struct rte_mbuf *m = rx[i];
				struct dp_result r;
				if (bulk == NULL) {
					if (i + 1 < n)
						prefetch_frame(rx[i + 1]);
					restore_vlan(m);
					if (begin_mbuf(&port->pctx, m, &pend[0], &r))
						dp_packet_finish(&port->pctx, lc, v, &pend[0], &r, NULL, 0);
				} else {
					r = res[i];
					if (live[i])
						dp_packet_finish(&port->pctx, lc, v, &pend[i], &r, bulk, i);
				}
				mbuf_after(&port->pctx, m, &r);
				count_result(c, &r);
				switch (r.action) {
				case DP_ACT_TX:
					if (unlikely(sh->qlog[q] != NULL) && r.answered)
						qlog_put(sh->qlog[q], rte_pktmbuf_mtod(m, uint8_t *), r.len,
						         r.l2_len, r.l3_len, r.ipv6,
						         (uint64_t)lc->now_s * 1000 + lc->now_ms % 1000);
					tx[ntx++] = m;
					break;
				case DP_ACT_EXCEPTION:
					exc[nexc++] = m;
					break;
				case DP_ACT_CONTROL:
					if (rte_ring_mp_enqueue(sh->ctl_ring, m) != 0) {
						dp_count(c, DP_OUT_RING_FULL);
						rte_pktmbuf_free(m);
					}
					break;
				case DP_ACT_DDNS:       /* control lcore only (pctx_ctl.ddns) */
				case DP_ACT_DROP:
					rte_pktmbuf_free(m);
					break;
				}
			}
			send_burst(port->port_id, q, tx, ntx, c, DP_OUT_TX_DROP, true);
			send_burst(port->tap_id, q, exc, nexc, c, DP_OUT_EXC_DROP, false);
		}

		if (got) {
			idle = 0;
		} else if (++idle >= DP_IDLE_LOOPS && sh->idle_sleep_us) {
			/* Sleeping online would stall every grace period (R3). */
			rcu_thread_offline();
			usleep(sh->idle_sleep_us);
			rcu_thread_online();
		}
	}
	rcu_unregister_thread();
	answer_bulk_free(bulks);
	return 0;
}

/* Hand mbufs (m->port = the port to leave by) to a worker; count what its ring refuses. */
static void to_worker(struct dp_shared *sh, unsigned *rr, struct rte_mbuf **pkts, unsigned n,
                      struct dp_counters *c)
{
	if (n == 0)
		return;
	unsigned w = (*rr)++ % sh->nworkers;
	unsigned done = rte_ring_sp_enqueue_burst(sh->to_worker[w], (void **)pkts, n, NULL);
	if (done < n) {
		c->v[DP_OUT_RING_FULL] += n - done;
		rte_pktmbuf_free_bulk(pkts + done, n - done);
	}
}

static const struct dp_port *port_of(const struct dp_shared *sh, uint16_t port_id)
{
	for (unsigned p = 0; p < sh->nports; p++)
		if (sh->ports[p].port_id == port_id)
			return &sh->ports[p];
	return NULL;
}

/*
 * UPDATE/NOTIFY to the DDNS thread: enqueue, never wait. A full ring means
 * the thread is behind (the store's write lock held elsewhere, a slow
 * disk): drop and count, the client retries (RFC 2136 and every updater
 * retransmit over UDP).
 */
static unsigned ddns_enqueue(struct dp_shared *sh, struct rte_mbuf **pkts, unsigned n,
                             struct dp_counters *c, enum dp_outcome full)
{
	if (n == 0)
		return 0;
	unsigned done = rte_ring_sp_enqueue_burst(sh->ddns_ring, (void **)pkts, n, NULL);
	if (done < n) {
		c->v[full] += n - done;
		rte_pktmbuf_free_bulk(pkts + done, n - done);
	}
	return done;
}

/*
 * Signed queries (control/ddns/query.h) share the DDNS ring with updates
 * but may fill only half of it: they are queued after the burst's
 * UPDATE/NOTIFY and only while the ring holds fewer than
 * DP_DDNS_SIGNED_SHARE messages; beyond that they are dropped and counted
 * (DP_OUT_SIGNED_FULL). A flood of signed queries (valid or not) so always
 * leaves half of the ring to updates; a client whose query was dropped
 * retries, as over any UDP.
 */
static void to_ddns(struct dp_shared *sh, struct rte_mbuf **upd, unsigned nupd,
                    struct rte_mbuf **sq, unsigned nsq, struct dp_counters *c)
{
	unsigned done = ddns_enqueue(sh, upd, nupd, c, DP_OUT_DDNS_FULL);
	if (nsq) {
		unsigned used = rte_ring_count(sh->ddns_ring);
		unsigned room = used < DP_DDNS_SIGNED_SHARE ? DP_DDNS_SIGNED_SHARE - used : 0;
		unsigned take = nsq < room ? nsq : room;
		done += ddns_enqueue(sh, sq, take, c, DP_OUT_SIGNED_FULL);
		if (take < nsq) {
			c->v[DP_OUT_SIGNED_FULL] += nsq - take;
			rte_pktmbuf_free_bulk(sq + take, nsq - take);
		}
	}
	if (done)
		sh->ddns_kick(sh->ddns_kick_ctx);
}

/*
 * Messages the workers handed over: answer the other opcodes (NOTIMP) and
 * send them through a worker; queue UPDATE/NOTIFY and signed queries to
 * the DDNS thread.
 */
static unsigned ctl_ring_burst(struct dp_shared *sh, unsigned *rr, struct dp_counters *c)
{
	struct rte_mbuf *pkts[DP_BURST], *tx[DP_BURST], *dd[DP_BURST], *sq[DP_BURST];
	unsigned n = rte_ring_sc_dequeue_burst(sh->ctl_ring, (void **)pkts, DP_BURST, NULL);
	if (n == 0)
		return 0;
	const struct idx_version *v = idx_acquire(sh->idx);
	struct dp_lcore *lc = &sh->lcore[rte_lcore_id()];
	lcore_clock(sh, lc);
	unsigned ntx = 0, ndd = 0, nsq = 0;
	for (unsigned i = 0; i < n; i++) {
		struct rte_mbuf *m = pkts[i];
		const struct dp_port *port = port_of(sh, m->port);
		struct dp_result r = { .action = DP_ACT_DROP };
		if (port) {
			process_mbuf(&port->pctx_ctl, lc, v, m, &r);
			count_result(c, &r);
		}
		if (r.action == DP_ACT_TX)
			tx[ntx++] = m;
		else if (r.action == DP_ACT_DDNS && r.outcome == DP_OUT_SIGNED_TO_DDNS)
			sq[nsq++] = m;
		else if (r.action == DP_ACT_DDNS)
			dd[ndd++] = m;
		else
			rte_pktmbuf_free(m);
	}
	to_worker(sh, rr, tx, ntx, c);
	to_ddns(sh, dd, ndd, sq, nsq, c);
	return n;
}

/* The DDNS thread's answers (committed, frames already turned around) go out through a worker. */
static unsigned ddns_ret_burst(struct dp_shared *sh, unsigned *rr, struct dp_counters *c)
{
	struct rte_mbuf *pkts[DP_BURST];
	if (!sh->ddns_ret)
		return 0;
	unsigned n = rte_ring_sc_dequeue_burst(sh->ddns_ret, (void **)pkts, DP_BURST, NULL);
	to_worker(sh, rr, pkts, n, c);
	return n;
}

/*
 * A new cookie secret when the current one is due (RFC 9018 4.4: the
 * previous one stays valid, dns/cookie.h). getrandom(GRND_NONBLOCK) on a
 * booted system does not block; if it fails the rotation waits a minute
 * and the current secret stays.
 */
static void cookie_tick(struct dp_shared *sh, uint64_t *next)
{
	if (!sh->cookies)
		return;
	uint64_t now = rte_rdtsc();
	if (now < *next)
		return;
	uint8_t secret[DNS_COOKIE_SECRET_LEN];
	if (getrandom(secret, sizeof(secret), GRND_NONBLOCK) == (ssize_t)sizeof(secret)) {
		dns_cookie_rotate(sh->cookies, secret);
		*next = now + sh->cookie_rotate_tsc;
	} else {
		*next = now + 60 * 1000 * sh->tsc_per_ms;
	}
}

void dp_control_loop(struct dp_shared *sh)
{
	struct dp_counters *c = &dp_counters[rte_lcore_id()];
	struct rte_mbuf *pkts[DP_BURST];
	unsigned idle = 0, rr = 0;
	uint64_t next_rotation = rte_rdtsc() + sh->cookie_rotate_tsc;

	rcu_register_thread();
	while (!dp_quitting(sh)) {
		rcu_quiescent_state();
		unsigned got = 0;

		/* Kernel -> wire: whatever the kernel sends through a tap goes out of its port. */
		for (unsigned p = 0; p < sh->nports; p++) {
			const struct dp_port *port = &sh->ports[p];
			for (uint16_t tq = 0; tq < port->tap_nq; tq++) {
				uint16_t n = rte_eth_rx_burst(port->tap_id, tq, pkts, DP_BURST);
				for (uint16_t i = 0; i < n; i++)
					pkts[i]->port = port->port_id;
				got += n;
				to_worker(sh, &rr, pkts, n, c);
			}
		}

		got += ctl_ring_burst(sh, &rr, c);
		got += ddns_ret_burst(sh, &rr, c);
		cookie_tick(sh, &next_rotation);

		/*
		 * The control lcore is not the benchmark path: it sleeps as soon as a
		 * few polls find nothing (at most 100 us of extra latency for ARP,
		 * ping and TCP), also with --idle-sleep-us 0, which keeps only the
		 * workers spinning: on a small machine its core is the one the load
		 * generator or the control threads need.
		 */
		if (got) {
			idle = 0;
		} else if (++idle >= 16) {
			unsigned us = sh->idle_sleep_us && sh->idle_sleep_us < 100 ? sh->idle_sleep_us : 100;
			rcu_thread_offline();
			usleep(us);
			rcu_thread_online();
		}
	}
	rcu_unregister_thread();
}
