/* dp_ring -- one worker core's packet rate with no kernel in the way: generator lcore -> ring port -> dp_worker_main -> ring port */
#include <arpa/inet.h>
#include <dirent.h>
#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <rte_cycles.h>
#include <rte_eal.h>
#include <rte_eth_ring.h>
#include <rte_ethdev.h>
#include <rte_launch.h>
#include <rte_lcore.h>
#include <rte_mbuf.h>
#include <rte_memcpy.h>
#include <rte_ring.h>
#include <urcu-qsbr.h>

#include "bench/corpus.h"
#include "dataplane/packet.h"
#include "dataplane/worker.h"
#include "dns/wire.h"
#include "index/snapshot.h"

/*
 * What is measured: the real worker loop (dp_worker_main: RX burst, parse,
 * lookup, render in place, rewrite headers, TX burst, one quiescent state
 * per loop) on one lcore, fed by a generator on another lcore through an
 * ethdev made of rte_rings (librte_net_ring). The generator copies prepared
 * Ethernet/IPv4/UDP query frames into mbufs, keeps the port's RX ring full,
 * takes the answers off its TX ring, checks their rcodes and frees them.
 * No NIC, no kernel, no copy into a socket: what is left is the worker's
 * own cost per packet plus the ring hand-off.
 *
 * The rate is answers per second over a timed window after a warm-up. If
 * the generator could not keep the RX ring from running dry, the number is
 * the generator's, not the worker's: `rx_ring_empty` (the share of the
 * generator's looks at the RX ring that found it below one burst) says so.
 *
 * Usage: bench-dp-ring [EAL args --] [--names N] [--seconds S] [--runs R]
 *                      [--mix A,AAAA,NXDOMAIN,PTR]   (percentages)
 * Without EAL args: -l 0,1 --no-huge -m 1024 --no-pci --no-shconf, the worker
 * on lcore 1 and the generator on the main lcore 0.
 */

#define NTEMPLATES (1u << 18)     /* distinct query frames (spread over the names) */
#define SLOT 128                  /* bytes per prepared frame */
/*
 * Deep rings: on a machine where the generator's core is shared, the
 * worker must not run dry (nor its TX ring fill up) while the generator is
 * not scheduled, or the rate would measure the scheduler. 16K packets are
 * ~10 ms of work at 1.5 Mpps, more than a scheduler time slice.
 */
#define RING_SIZE 16384
#define SMALL_RING 1024
#define NB_MBUF 65535
#define GEN_BURST 32

static const uint8_t svc_addr[4] = { 198, 18, 0, 1 };
static const uint8_t cli_addr[4] = { 198, 18, 0, 2 };
static const uint8_t svc_mac[6] = { 0x02, 0, 0, 0, 0, 0x01 };
static const uint8_t cli_mac[6] = { 0x02, 0, 0, 0, 0, 0x02 };

struct tmpl {
	uint8_t *frames;          /* NTEMPLATES slots of SLOT bytes */
	uint16_t *len;
	uint8_t *kind;
};

static void die(const char *what)
{
	fprintf(stderr, "bench-dp-ring: %s (%s)\n", what, rte_strerror(rte_errno));
	exit(1);
}

/* Ethernet + IPv4 + UDP around a DNS message, checksums filled in. */
static uint16_t make_frame(uint8_t *f, const uint8_t *dns, size_t dlen, uint16_t sport)
{
	memcpy(f, svc_mac, 6);
	memcpy(f + 6, cli_mac, 6);
	f[12] = 0x08, f[13] = 0x00;
	uint8_t *ip = f + 14;
	uint16_t ulen = (uint16_t)(8 + dlen);
	memset(ip, 0, 20);
	ip[0] = 0x45;
	dns_put16(ip + 2, (uint16_t)(20 + ulen));
	ip[6] = 0x40;                           /* DF */
	ip[8] = 64;
	ip[9] = 17;
	memcpy(ip + 12, cli_addr, 4);
	memcpy(ip + 16, svc_addr, 4);
	dns_put16(ip + 10, (uint16_t)~dp_csum_fold(dp_csum_add(0, ip, 20)));
	uint8_t *udp = ip + 20;
	dns_put16(udp, sport);
	dns_put16(udp + 2, DP_DNS_PORT);
	dns_put16(udp + 4, ulen);
	dns_put16(udp + 6, 0);
	memcpy(udp + 8, dns, dlen);
	uint32_t s = dp_csum_add(0, ip + 12, 8) + 17 + ulen;
	s = dp_csum_add(s, udp, ulen);
	uint16_t c = (uint16_t)~dp_csum_fold(s);
	dns_put16(udp + 6, c ? c : 0xffff);
	return (uint16_t)(14 + 20 + ulen);
}

static void make_templates(struct tmpl *t, size_t names, const unsigned mix[BC_KINDS])
{
	t->frames = malloc((size_t)NTEMPLATES * SLOT);
	t->len = malloc(NTEMPLATES * sizeof(*t->len));
	t->kind = malloc(NTEMPLATES);
	if (!t->frames || !t->len || !t->kind) {
		fprintf(stderr, "bench-dp-ring: no memory for templates\n");
		exit(1);
	}
	srandom(11);
	for (unsigned i = 0; i < NTEMPLATES; i++) {
		unsigned r = (unsigned)random() % 100, k = 0, acc = mix[0];
		while (k + 1 < BC_KINDS && r >= acc)
			acc += mix[++k];
		uint8_t dns[512];
		size_t dlen = bc_query(dns, (enum bc_kind)k, (size_t)random() % names, true);
		if (14 + 20 + 8 + dlen > SLOT)
			abort();
		t->len[i] = make_frame(t->frames + (size_t)i * SLOT, dns, dlen,
		                       (uint16_t)(1024 + (i & 0x7fff)));
		t->kind[i] = (uint8_t)k;
	}
}

/* A ring-backed ethdev with one RX and one TX queue; returns its port id. */
static uint16_t ring_port(const char *name, struct rte_ring *rx, struct rte_ring *tx,
                          struct rte_mempool *mp)
{
	int port = rte_eth_from_rings(name, &rx, 1, &tx, 1, (unsigned)rte_socket_id());
	if (port < 0)
		die("rte_eth_from_rings");
	struct rte_eth_conf conf;
	memset(&conf, 0, sizeof(conf));
	uint16_t pid = (uint16_t)port;
	if (rte_eth_dev_configure(pid, 1, 1, &conf) < 0 ||
	    rte_eth_rx_queue_setup(pid, 0, RING_SIZE, (unsigned)rte_socket_id(), NULL, mp) < 0 ||
	    rte_eth_tx_queue_setup(pid, 0, RING_SIZE, (unsigned)rte_socket_id(), NULL) < 0 ||
	    rte_eth_dev_start(pid) < 0)
		die("ring port setup");
	return pid;
}

static struct rte_ring *ring(const char *name)
{
	bool port = strncmp(name, "port_", 5) == 0;
	struct rte_ring *r = rte_ring_create(name, port ? RING_SIZE : SMALL_RING, (int)rte_socket_id(),
	                                     RING_F_SP_ENQ | RING_F_SC_DEQ);
	if (!r)
		die(name);
	return r;
}

/*
 * CPU time the worker thread was given, in ns (/proc/self/task/TID/schedstat,
 * first field), or -1. On a machine where other work competes for the
 * cores, answers per second of the worker's CPU time is the worker's own
 * rate; on an idle machine it equals the wall-clock rate.
 */
static int worker_tid = -1;

static void find_worker_tid(unsigned lcore)
{
	char want[32], path[64], comm[32];
	snprintf(want, sizeof(want), "rte-worker-%u", lcore);
	DIR *d = opendir("/proc/self/task");
	if (!d)
		return;
	struct dirent *e;
	while ((e = readdir(d)) != NULL) {
		if (e->d_name[0] == '.')
			continue;
		snprintf(path, sizeof(path), "/proc/self/task/%.16s/comm", e->d_name);
		FILE *f = fopen(path, "r");
		if (!f)
			continue;
		if (fgets(comm, sizeof(comm), f) && strncmp(comm, want, strlen(want)) == 0 &&
		    (comm[strlen(want)] == '\n' || comm[strlen(want)] == 0))
			worker_tid = atoi(e->d_name);
		fclose(f);
	}
	closedir(d);
}

static double worker_cpu_ns(void)
{
	char path[64];
	unsigned long long ns = 0;
	if (worker_tid < 0)
		return -1;
	snprintf(path, sizeof(path), "/proc/self/task/%d/schedstat", worker_tid);
	FILE *f = fopen(path, "r");
	if (!f)
		return -1;
	int ok = fscanf(f, "%llu", &ns);
	fclose(f);
	return ok == 1 ? (double)ns : -1;
}

struct run {
	double mpps;
	double mpps_cpu;          /* answers per second of the worker's CPU time */
	double worker_share;      /* worker CPU time / wall time */
	double rx_ring_empty;     /* share of generator polls that found the RX ring short */
	uint64_t answers, bad, exceptions;
	uint64_t rcode[16];
};

struct gen {
	struct rte_ring *rxr, *txr, *tap_txr;
	struct rte_mempool *mp;
	const struct tmpl *t;
	unsigned next;
};

/* Keep the worker's RX ring full; take answers off its TX ring. */
static void gen_run(struct gen *g, double seconds, struct run *out, bool count)
{
	struct rte_mbuf *pkts[GEN_BURST * 2];
	uint64_t hz = rte_get_tsc_hz(), t0 = rte_rdtsc(), end = t0 + (uint64_t)(seconds * (double)hz);
	uint64_t polls = 0, short_polls = 0, answers = 0, bad = 0;
	double cpu0 = worker_cpu_ns();
	while (rte_rdtsc() < end) {
		for (int round = 0; round < 4; round++) {
			unsigned n = rte_ring_sc_dequeue_burst(g->txr, (void **)pkts, GEN_BURST * 2, NULL);
			for (unsigned i = 0; i < n; i++) {
				const uint8_t *f = rte_pktmbuf_mtod(pkts[i], const uint8_t *);
				/* Ethernet 14 + IPv4 20 + UDP 8: the DNS header, QR must be set */
				if (pkts[i]->data_len < 42 + DNS_HDR_LEN || !(f[42 + 2] & 0x80))
					bad++;
				else if (count)
					out->rcode[f[42 + 3] & 0x0f]++;
			}
			answers += n;
			if (n)
				rte_pktmbuf_free_bulk(pkts, n);
		}
		unsigned nexc = rte_ring_sc_dequeue_burst(g->tap_txr, (void **)pkts, GEN_BURST, NULL);
		if (nexc) {
			out->exceptions += nexc;
			rte_pktmbuf_free_bulk(pkts, nexc);
		}

		polls++;
		if (rte_ring_count(g->rxr) < GEN_BURST)
			short_polls++;
		while (rte_ring_free_count(g->rxr) >= GEN_BURST) {
			if (rte_pktmbuf_alloc_bulk(g->mp, pkts, GEN_BURST) != 0)
				break;
			for (unsigned i = 0; i < GEN_BURST; i++) {
				unsigned k = g->next++ & (NTEMPLATES - 1);
				struct rte_mbuf *m = pkts[i];
				uint16_t len = g->t->len[k];
				rte_memcpy(rte_pktmbuf_mtod(m, void *), g->t->frames + (size_t)k * SLOT, len);
				m->data_len = len;
				m->pkt_len = len;
			}
			unsigned done = rte_ring_sp_enqueue_burst(g->rxr, (void **)pkts, GEN_BURST, NULL);
			if (done < GEN_BURST)
				rte_pktmbuf_free_bulk(pkts + done, GEN_BURST - done);
		}
	}
	double el = (double)(rte_rdtsc() - t0) / (double)hz;
	double cpu = worker_cpu_ns() - cpu0;
	if (count) {
		out->mpps_cpu = cpu0 >= 0 && cpu > 0 ? (double)answers / (cpu / 1e9) / 1e6 : 0;
		out->worker_share = cpu0 >= 0 ? cpu / 1e9 / el : 0;
		out->answers = answers;
		out->bad = bad;
		out->mpps = (double)answers / el / 1e6;
		out->rx_ring_empty = polls ? (double)short_polls / (double)polls : 0;
	}
}

static int cmp_double(const void *a, const void *b)
{
	double x = *(const double *)a, y = *(const double *)b;
	return x < y ? -1 : x > y;
}

int main(int argc, char **argv)
{
	/* EAL arguments come before "--"; without any, the defaults below. */
	int sep = -1;
	for (int i = 1; i < argc; i++)
		if (strcmp(argv[i], "--") == 0) {
			sep = i;
			break;
		}
	char *defaults[] = { argv[0], "-l", "0,1", "--no-huge", "-m", "1024", "--no-pci",
	                     "--no-shconf", "--log-level", "*:warning", NULL };
	int eal_argc;
	char **eal_argv;
	char **own = argv + 1;
	int nown = argc - 1;
	if (sep > 0) {
		eal_argc = sep;
		eal_argv = argv;
		own = argv + sep + 1;
		nown = argc - sep - 1;
	} else {
		eal_argc = (int)(sizeof(defaults) / sizeof(defaults[0])) - 1;
		eal_argv = defaults;
	}

	size_t names = 1000000;
	double seconds = 2.0;
	int runs = 5;
	unsigned mix[BC_KINDS] = { 60, 15, 15, 10 };
	for (int i = 0; i < nown; i++) {
		const char *a = own[i], *v = i + 1 < nown ? own[i + 1] : NULL;
		if (!v) {
			fprintf(stderr, "bench-dp-ring: %s needs a value\n", a);
			return 2;
		}
		if (strcmp(a, "--names") == 0)
			names = strtoul(v, NULL, 10);
		else if (strcmp(a, "--seconds") == 0)
			seconds = strtod(v, NULL);
		else if (strcmp(a, "--runs") == 0)
			runs = atoi(v);
		else if (strcmp(a, "--mix") == 0) {
			if (sscanf(v, "%u,%u,%u,%u", &mix[0], &mix[1], &mix[2], &mix[3]) != 4 ||
			    mix[0] + mix[1] + mix[2] + mix[3] != 100) {
				fprintf(stderr, "bench-dp-ring: --mix A,AAAA,NXDOMAIN,PTR summing to 100\n");
				return 2;
			}
		} else {
			fprintf(stderr, "bench-dp-ring: unknown option %s\n", a);
			return 2;
		}
		i++;
	}
	if (names == 0 || seconds <= 0 || runs < 1 || runs > 100) {
		fprintf(stderr, "bench-dp-ring: bad --names/--seconds/--runs\n");
		return 2;
	}

	if (rte_eal_init(eal_argc, eal_argv) < 0)
		die("rte_eal_init");
	unsigned wl = rte_get_next_lcore(-1, 1, 0);   /* the first lcore that is not the main one */
	if (wl >= RTE_MAX_LCORE) {
		fprintf(stderr, "bench-dp-ring: needs two lcores (-l 0,1)\n");
		return 2;
	}

	rcu_register_thread();
	size_t bytes = 0;
	double build_s = 0;
	struct idx *ix = bc_build(names, &bytes, &build_s);
	rcu_thread_offline();   /* the generator reads no snapshot */
	struct tmpl t;
	make_templates(&t, names, mix);

	struct rte_mempool *mp = rte_pktmbuf_pool_create("bench", NB_MBUF, 256, 0,
	                                                 RTE_MBUF_DEFAULT_BUF_SIZE,
	                                                 (int)rte_socket_id());
	if (!mp)
		die("mbuf pool");
	struct rte_ring *rxr = ring("port_rx"), *txr = ring("port_tx");
	struct rte_ring *tap_rxr = ring("tap_rx"), *tap_txr = ring("tap_tx");

	static struct dp_service svc;
	memcpy(svc.v4[0], svc_addr, 4);
	svc.n4 = 1;
	static const struct answer_conf conf = { .udp_max = DNS_EDNS_DEFAULT };
	static struct dp_shared sh;
	sh.nports = 1;
	sh.ports[0].port_id = ring_port("bench_port", rxr, txr, mp);
	sh.ports[0].tap_id = ring_port("bench_tap", tap_rxr, tap_txr, mp);
	sh.ports[0].tap_nq = 1;
	sh.ports[0].pctx = (struct dp_pctx){ .svc = &svc, .conf = &conf };
	sh.ports[0].pctx_ctl = (struct dp_pctx){ .svc = &svc, .conf = &conf,
	                                         .answer_all_opcodes = true };
	snprintf(sh.ports[0].tap_name, sizeof(sh.ports[0].tap_name), "none");
	sh.idx = ix;
	sh.ctl_ring = rte_ring_create("ctl", SMALL_RING, (int)rte_socket_id(), RING_F_SC_DEQ);
	sh.to_worker[0] = ring("to_worker0");
	if (!sh.ctl_ring)
		die("ctl ring");
	sh.nworkers = 1;
	sh.idle_sleep_us = 0;     /* never sleep: the worker polls like on a NIC */
	dp_shared_clock_init(&sh);
	static struct dp_worker w = { .sh = &sh, .queue = 0 };
	if (rte_eal_remote_launch(dp_worker_main, &w, wl) != 0)
		die("remote launch");

	printf("bench-dp-ring: %zu names (index %.1f s, %.0f bytes/name), mix A/AAAA/NXDOMAIN/PTR "
	       "%u/%u/%u/%u %%, worker lcore %u, generator lcore %u, %d runs of %.1f s\n",
	       names, build_s, (double)bytes / (double)names, mix[0], mix[1], mix[2], mix[3], wl,
	       rte_lcore_id(), runs, seconds);
	find_worker_tid(wl);
	struct gen g = { rxr, txr, tap_txr, mp, &t, 0 };
	struct run warm;
	memset(&warm, 0, sizeof(warm));
	gen_run(&g, 0.5, &warm, false);
	double mpps[100], mpps_cpu[100];
	int ret = 0;
	for (int r = 0; r < runs; r++) {
		struct run one;
		memset(&one, 0, sizeof(one));
		gen_run(&g, seconds, &one, true);
		mpps[r] = one.mpps;
		mpps_cpu[r] = one.mpps_cpu;
		printf("run %d: %.3f Mpps (%.0f ns/packet), per worker CPU second %.3f Mpps (worker had "
		       "%.0f %% of a core), %" PRIu64 " answers, rx ring short %.1f %% "
		       "of polls, noerror %" PRIu64 " nxdomain %" PRIu64 " other %" PRIu64
		       ", bad %" PRIu64 ", exceptions %" PRIu64 "\n",
		       r + 1, one.mpps, 1e3 / one.mpps, one.mpps_cpu, 100 * one.worker_share, one.answers, 100 * one.rx_ring_empty,
		       one.rcode[0], one.rcode[3], one.answers - one.rcode[0] - one.rcode[3] - one.bad,
		       one.bad, one.exceptions);
		if (one.bad || one.exceptions || one.answers == 0)
			ret = 1;
		/* the NXDOMAIN share of the answers is the mix's, to a few per mille */
		double nx = one.answers ? (double)one.rcode[3] / (double)one.answers : 0;
		if (nx < mix[2] / 100.0 - 0.01 || nx > mix[2] / 100.0 + 0.01) {
			fprintf(stderr, "bench-dp-ring: NXDOMAIN share %.3f, mix says %.2f\n", nx,
			        mix[2] / 100.0);
			ret = 1;
		}
	}
	qsort(mpps, (size_t)runs, sizeof(double), cmp_double);
	double med = runs % 2 ? mpps[runs / 2] : (mpps[runs / 2 - 1] + mpps[runs / 2]) / 2;
	printf("median: %.3f Mpps per worker core (%.0f ns/packet), min %.3f, max %.3f\n", med,
	       1e3 / med, mpps[0], mpps[runs - 1]);
	qsort(mpps_cpu, (size_t)runs, sizeof(double), cmp_double);
	med = runs % 2 ? mpps_cpu[runs / 2] : (mpps_cpu[runs / 2 - 1] + mpps_cpu[runs / 2]) / 2;
	if (med > 0)
		printf("median per worker CPU second: %.3f Mpps (%.0f ns of worker CPU per packet), "
		       "min %.3f, max %.3f\n", med, 1e3 / med, mpps_cpu[0], mpps_cpu[runs - 1]);

	sh.quit = true;
	rte_eal_mp_wait_lcore();
	struct dp_counters wc = dp_counters[wl];
	printf("worker counters: rx %" PRIu64 " tx %" PRIu64 " noerror %" PRIu64 " nxdomain %" PRIu64
	       " tx_drop %" PRIu64 "\n",
	       wc.v[DP_OUT_RX], wc.v[DP_OUT_TX], wc.v[DP_OUT_NOERROR], wc.v[DP_OUT_NXDOMAIN],
	       wc.v[DP_OUT_TX_DROP]);
	idx_free(ix);
	rcu_unregister_thread();
	rte_eal_cleanup();
	free(t.frames);
	free(t.len);
	free(t.kind);
	return ret;
}
