/* ddns_ring -- struct ddns_source over two rte_rings: frames in, answers (turned around in place) out */
#include <string.h>

#include <rte_mbuf.h>
#include <rte_ring.h>

#include "dataplane/ddns_ring.h"

static const struct dp_port *port_of(const struct dp_shared *sh, uint16_t port_id)
{
	for (unsigned p = 0; p < sh->nports; p++)
		if (sh->ports[p].port_id == port_id)
			return &sh->ports[p];
	return NULL;
}

static unsigned take(void *ctx, struct ddns_msg *msgs, unsigned max)
{
	struct dp_ddns_source *s = ctx;
	struct rte_mbuf *pkts[DDNS_BURST];
	if (max > DDNS_BURST)
		max = DDNS_BURST;
	unsigned n = rte_ring_sc_dequeue_burst(s->sh->ddns_ring, (void **)pkts, max, NULL);
	unsigned k = 0;
	for (unsigned i = 0; i < n; i++) {
		struct rte_mbuf *m = pkts[i];
		const struct dp_port *port = port_of(s->sh, m->port);
		struct dp_result r;
		size_t cap = rte_pktmbuf_data_len(m) + rte_pktmbuf_tailroom(m);
		/* cannot fail: the control lcore parsed this very frame (dp_packet_parse) */
		if (!port || dp_packet_parse(&port->pctx_ctl, rte_pktmbuf_mtod(m, uint8_t *),
		                             rte_pktmbuf_data_len(m), cap, &s->f[k], &r) < 0) {
			rte_pktmbuf_free(m);
			continue;
		}
		const struct dp_frame *f = &s->f[k];
		msgs[k] = (struct ddns_msg){ .req = f->dns, .len = f->dns_len, .family = f->v6 ? 6 : 4,
		                             .resp = f->dns, .cap = f->cap - f->dns_off };
		memcpy(msgs[k].src, dp_frame_source(f), f->v6 ? 16 : 4);
		s->m[k] = m;
		s->port[k++] = port;
	}
	return k;
}

static unsigned give(void *ctx, struct ddns_msg *msgs, unsigned n, bool committed)
{
	struct dp_ddns_source *s = ctx;
	struct rte_mbuf *out[DDNS_BURST];
	unsigned nout = 0;
	for (unsigned i = 0; i < n; i++) {
		struct rte_mbuf *m = s->m[i];
		const struct dp_pctx *pc = &s->port[i]->pctx_ctl;
		struct dp_result r = { 0 };
		r.l2_len = (uint16_t)(s->f[i].ip - s->f[i].frame);
		r.l3_len = (uint16_t)(s->f[i].udp - s->f[i].ip);
		r.ipv6 = s->f[i].v6;
		if (committed && msgs[i].n > 0 &&
		    dp_packet_reply(pc, &s->f[i], (size_t)msgs[i].n, &r) == 0) {
			dp_mbuf_tx_prepare(pc, m, &r);
			out[nout++] = m;
		} else {
			rte_pktmbuf_free(m);
		}
	}
	unsigned done = rte_ring_sp_enqueue_burst(s->sh->ddns_ret, (void **)out, nout, NULL);
	if (done < nout)
		rte_pktmbuf_free_bulk(out + done, nout - done);
	return nout - done;
}

struct ddns_source dp_ddns_source(struct dp_ddns_source *s, struct dp_shared *sh)
{
	s->sh = sh;
	/* signed queries (control/ddns/query.h) are answered like the workers answer: their settings */
	return (struct ddns_source){ .take = take, .give = give, .ctx = s, .idx = sh->idx,
	                             .answer = sh->nports ? sh->ports[0].pctx_ctl.conf : NULL };
}

void dp_ddns_rings_drain(struct dp_shared *sh)
{
	struct rte_ring *rings[] = { sh->ddns_ring, sh->ddns_ret };
	struct rte_mbuf *m;
	for (unsigned i = 0; i < 2; i++)
		while (rings[i] && rte_ring_dequeue(rings[i], (void **)&m) == 0)
			rte_pktmbuf_free(m);
}
