/* main -- ddiplane: EAL, store, index, control thread and socket, metrics, ports, taps, DDNS thread, TCP, lcores */
#include <arpa/inet.h>
#include <errno.h>
#include <net/if.h>
#include <pthread.h>
#include <sched.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <stdatomic.h>
#include <string.h>
#include <sys/random.h>
#include <time.h>
#include <unistd.h>

#include <jansson.h>
#include <urcu-qsbr.h>

#include <rte_dev.h>
#include <rte_eal.h>
#include <rte_errno.h>
#include <rte_ethdev.h>
#include <rte_lcore.h>
#include <rte_mbuf.h>
#include <rte_ring.h>

#include "control/mgmt/commands.h"
#include "control/follow/follow.h"
#include "control/mgmt/ctlsock.h"
#include "control/log.h"
#include "control/mgmt/http.h"
#include "control/mgmt/metrics.h"
#include "control/ddns/gss.h"
#include "control/ddns/thread.h"
#include "control/life/life.h"
#include "control/store/store.h"
#include "control/tcp/tcp.h"
#include "control/xfr/secondary.h"
#include "control/xfr/xfr.h"
#include "dataplane/counters.h"
#include "dataplane/ddns_ring.h"
#include "dataplane/options.h"
#include "dataplane/qlog.h"
#include "dataplane/sdnotify.h"
#include "dataplane/startup.h"
#include "dataplane/steer.h"
#include "dataplane/tapif.h"
#include "dataplane/worker.h"
#include "dns/errcode.h"
#include "index/snapshot.h"

#define RX_DESC 1024
#define TX_DESC 1024
#define TAP_DESC 512
#define CTL_RING_SIZE 1024
#define MBUF_CACHE 256

static struct dp_shared sh;

/*
 * The daemon's parts, made by the steps of main() in order and taken down
 * by teardown() in reverse: a part is NULL (or 0) until its step made it.
 * The control socket and /metrics read it while the daemon runs.
 */
static struct {
	struct dp_options o;
	unsigned nworkers;
	struct idx *idx;
	struct store *st;
	int claim;                       /* store_server_claim's descriptor + 1; 0: none */
	struct rte_mempool *mp;
	unsigned nready;                 /* ports (and taps) started */
	struct answer_conf aconf;
	struct dp_ddns_source ddns_src;
	struct ctl *ctl;
	struct ddns_thread *ddns;
	struct gss_server *gss;          /* GSS-TSIG contexts (--gss-principal), the DDNS thread's */
	struct tcp_server *tcp;
	struct xfr_out *xfr;             /* AXFR/IXFR out, called by the TCP server */
	struct xfr_notifier *notifier;   /* NOTIFY out */
	struct life_thread *life;        /* lease expiry and scavenging */
	struct xfr_secondary *secondary; /* secondary zones: refresh, IXFR/AXFR in */
	struct xfr_stats xst;
	struct ctl_access *access;
	struct ctlsock *csock;
	struct metrics *mx;
	struct http *api;
	struct dns_cookie_secrets cookies;   /* read by the lcores when cookies are on */
	cpu_set_t main_set;              /* the main lcore's CPUs */
	int argc;                        /* ddiplane's own arguments, for a reload */
	char **argv;
	pthread_t reloader;              /* SIGHUP: re-read the configuration */
	bool reloader_started;
	struct qlog *qlog;               /* --query-log: the writer thread */
	time_t started;
	struct dp_phases ph;             /* start-up phase times, logged once */
	struct dp_loader loader;         /* the store's load, beside EAL and the ports */
	struct dp_first_answer first;    /* logs the first answer's time */
} run;

static uint64_t qlog_dropped(void);

/*
 * IPAM counts from the published index. The control socket's thread is a
 * QSBR reader only between enter and leave (registered per call: a
 * registered thread that blocked would stall every publish).
 */
static const struct idx_version *hook_index_enter(void *ctx)
{
	(void)ctx;
	rcu_register_thread();
	return idx_acquire(run.idx);
}

static void hook_index_leave(void *ctx)
{
	(void)ctx;
	rcu_unregister_thread();
}

static json_t *counters_json(const struct dp_counters *c)
{
	json_t *o = json_object();
	for (unsigned k = 0; o && k < DP_OUT__COUNT; k++)
		json_object_set_new(o, dp_outcome_names[k],
		                    json_integer((json_int_t)__atomic_load_n(&c->v[k], __ATOMIC_RELAXED)));
	return o;
}

static bool lcore_used(unsigned l)
{
	return l < RTE_MAX_LCORE && rte_lcore_is_enabled(l);
}

static json_t *hook_status(void *ctx)
{
	(void)ctx;
	struct ctl_stats cs;
	ctl_get_stats(run.ctl, &cs);
	return json_pack("{s:s, s:I, s:I, s:I, s:I, s:I, s:I, s:I, s:s}", "version", DDI_VERSION,
	                 "pid", (json_int_t)getpid(), "uptime", (json_int_t)(time(NULL) - run.started),
	                 "workers", (json_int_t)run.nworkers, "ports", (json_int_t)sh.nports,
	                 "generation", (json_int_t)cs.generation, "seq", (json_int_t)cs.published_seq,
	                 "publishes", (json_int_t)cs.publishes, "db", run.o.db);
}

/* The DDNS thread's outcomes (control/ddns/thread.h), one key each, and its largest burst. */
static json_t *ddns_json(void)
{
	struct ddns_stats ds;
	json_t *o = json_object();
	ddns_thread_stats(run.ddns, &ds);
	for (unsigned k = 0; o && k < DDNS_OUT__COUNT; k++)
		json_object_set_new(o, ddns_outcome_names[k], json_integer((json_int_t)ds.v[k]));
	if (!o)
		return NULL;
	json_object_set_new(o, "max_batch", json_integer((json_int_t)ds.max_batch));
	/* refusals (control/ddns/refusal.h): by reason, and what the log and journal kept */
	const struct ddns_refusal_stats *r = &ds.refusals;
	json_t *why = json_object();
	for (unsigned k = UPD_WHY_NONE + 1; why && k < UPD_WHY__COUNT; k++)
		json_object_set_new(why, upd_why_names[k], json_integer((json_int_t)r->why[k]));
	json_object_set_new(o, "refused_by", why);
	json_object_set_new(o, "refusal_log", json_pack("{s:I, s:I}",
	                    "lines", (json_int_t)r->log_lines, "suppressed",
	                    (json_int_t)r->log_suppressed));
	json_object_set_new(o, "refusal_notes", json_pack("{s:I, s:I, s:I, s:I}",
	                    "journaled", (json_int_t)r->notes, "folded", (json_int_t)r->folded,
	                    "table_full", (json_int_t)r->table_full, "failed",
	                    (json_int_t)r->note_failed));
	if (run.gss) {   /* GSS-TSIG (control/ddns/gss.h): TKEY and MIC outcomes, live contexts */
		struct gss_stats gs;
		json_t *g = json_object();
		gss_stats(run.gss, &gs);
		for (unsigned k = 0; g && k < GSS_OUT__COUNT; k++)
			json_object_set_new(g, gss_outcome_names[k], json_integer((json_int_t)gs.v[k]));
		if (g)
			json_object_set_new(g, "contexts", json_integer((json_int_t)gs.contexts));
		json_object_set_new(o, "gss", g);
	}
	return o;
}

/* The transfer counters: name, value (control/xfr/xfr.h). */
#define XFR_COUNTERS(X) X(axfr) X(ixfr) X(ixfr_axfr) X(ixfr_current) X(soa_signed) X(refused) \
	X(notauth) X(formerr) X(failed) X(aborted) X(messages) X(rrs) X(notify_sent) X(notify_acked) \
	X(notify_failed) X(out_timeout) X(out_refused_limit)

static json_t *xfr_json(void)
{
	json_t *o = json_object();
#define X(f) json_object_set_new(o, #f, json_integer((json_int_t)__atomic_load_n(&run.xst.f, \
	                                                 __ATOMIC_RELAXED)));
	if (o) {
		XFR_COUNTERS(X)
		X(out_running)
	}
#undef X
	return o;
}

/* The NIC's (or PMD's) own counters of every port: what was lost before any lcore saw it. */
static json_t *ports_json(void)
{
	json_t *arr = json_array();
	for (unsigned i = 0; arr && i < sh.nports; i++) {
		struct rte_eth_stats es;
		if (rte_eth_stats_get(sh.ports[i].port_id, &es) != 0)
			continue;
		json_array_append_new(arr, json_pack("{s:i, s:I, s:I, s:I, s:I, s:I, s:I}",
		                                     "port", (int)sh.ports[i].port_id,
		                                     "ipackets", (json_int_t)es.ipackets,
		                                     "opackets", (json_int_t)es.opackets,
		                                     "imissed", (json_int_t)es.imissed,
		                                     "ierrors", (json_int_t)es.ierrors,
		                                     "oerrors", (json_int_t)es.oerrors,
		                                     "rx_nombuf", (json_int_t)es.rx_nombuf));
	}
	return arr;
}

static json_t *hook_stats(void *ctx)
{
	(void)ctx;
	json_t *lc = json_array(), *a;
	struct dp_counters total;
	struct tcp_stats ts;
	struct ctl_stats cs;
	for (unsigned l = 0; lc && l < DP_MAX_LCORES; l++) {
		if (!lcore_used(l))
			continue;
		json_t *o = counters_json(&dp_counters[l]);
		if (o) {
			json_object_set_new(o, "lcore", json_integer(l));
			json_object_set_new(o, "role", json_string(l == rte_get_main_lcore() ? "control"
			                                                                      : "worker"));
		}
		json_array_append_new(lc, o);
	}
	dp_counters_sum(&total);
	tcp_server_stats(run.tcp, &ts);
	ctl_get_stats(run.ctl, &cs);
	a = json_pack("{s:o, s:o, s:{s:I, s:I, s:I, s:I, s:I, s:I, s:I, s:I, s:I}, "
	              "s:{s:I, s:I, s:I, s:I, s:I, s:I}}",
	              "lcores", lc, "total", counters_json(&total),
	              "tcp", "accepted", (json_int_t)ts.accepted, "queries", (json_int_t)ts.queries,
	              "refused_total_limit", (json_int_t)ts.refused_total_limit,
	              "refused_client_limit", (json_int_t)ts.refused_client_limit,
	              "idle_closed", (json_int_t)ts.idle_closed, "closed_peer",
	              (json_int_t)ts.closed_peer, "bad_length", (json_int_t)ts.bad_length,
	              "no_answer", (json_int_t)ts.no_answer, "open", (json_int_t)ts.open,
	              "control", "generation", (json_int_t)cs.generation, "published_seq",
	              (json_int_t)cs.published_seq, "store_seq", (json_int_t)cs.store_seq,
	              "publishes", (json_int_t)cs.publishes, "entries", (json_int_t)cs.entries,
	              "max_batch", (json_int_t)cs.max_batch);
	json_t *tcpc = json_pack("{s:I, s:I, s:I, s:I, s:I, s:I, s:I}", "updates_in_flight",
	                         (json_int_t)ts.updates_in_flight, "updates_discarded",
	                         (json_int_t)ts.updates_discarded, "cookie_new",
	                         (json_int_t)ts.cookie_new, "cookie_valid", (json_int_t)ts.cookie_valid,
	                         "cookie_refreshed", (json_int_t)ts.cookie_refreshed, "cookie_bad",
	                         (json_int_t)ts.cookie_bad, "cookie_malformed",
	                         (json_int_t)ts.cookie_malformed);
	if (a && tcpc)
		json_object_update(json_object_get(a, "tcp"), tcpc);
	json_decref(tcpc);
	if (a)
		json_object_set_new(a, "ddns", ddns_json());
	if (a)
		json_object_set_new(a, "xfr", xfr_json());
	if (a) {
		struct life_stats le, sc;
		life_thread_stats(run.life, &le, &sc);
		json_object_set_new(a, "lifecycle", json_pack("{s:I, s:I, s:I, s:I, s:I, s:I}",
		                    "lease_expired_rrsets", (json_int_t)le.rrsets,
		                    "lease_released_allocations", (json_int_t)le.allocations,
		                    "lease_batches", (json_int_t)le.batches,
		                    "scavenged_rrsets", (json_int_t)sc.rrsets,
		                    "scavenged_allocations", (json_int_t)sc.allocations,
		                    "scavenge_batches", (json_int_t)sc.batches));
	}
	if (a)
		json_object_set_new(a, "ports", ports_json());
	if (a && run.qlog)
		json_object_set_new(a, "query_log", json_pack("{s:s, s:I, s:i}", "file",
		                                              run.o.query_log, "dropped",
		                                              (json_int_t)qlog_dropped(), "sample",
		                                              (int)run.o.query_log_sample));
	return a;
}

static void hook_shutdown(void *ctx)
{
	(void)ctx;
	dp_quit(&sh);
}

/*
 * /health: every worker lcore runs its loop (launched and not returned) and
 * the daemon is not stopping. The control thread's part (a current
 * snapshot) is checked by control/mgmt/metrics.c.
 */
static bool health_dataplane(void *ctx, char *why, size_t len)
{
	(void)ctx;
	unsigned l, n = 0;
	if (dp_quitting(&sh)) {
		snprintf(why, len, "stopping");
		return false;
	}
	RTE_LCORE_FOREACH_WORKER(l) {
		if (rte_eal_get_lcore_state(l) != RUNNING) {
			snprintf(why, len, "worker lcore %u is not running", l);
			return false;
		}
		n++;
	}
	if (n == 0) {
		snprintf(why, len, "no worker lcore");
		return false;
	}
	return true;
}

/* Readiness and the systemd watchdog: the workers run and the index follows the store. */
static bool health_all(void *ctx, char *why, size_t len)
{
	static int64_t caught_up_ns = INT64_MAX;   /* first look: not lagging yet */
	if (!health_dataplane(ctx, why, len))
		return false;
	struct ctl_stats st;
	struct timespec ts;
	ctl_get_stats(run.ctl, &st);
	clock_gettime(CLOCK_MONOTONIC, &ts);
	int64_t now = (int64_t)ts.tv_sec * 1000000000LL + ts.tv_nsec;
	if (caught_up_ns == INT64_MAX)
		caught_up_ns = now;
	return metrics_follower_healthy(&st, now, &caught_up_ns, why, len);
}

/* Updates that changed nothing, by reason, and what the log and the journal kept of them. */
static void metrics_refusals(FILE *f, const struct ddns_refusal_stats *r)
{
	fprintf(f, "# HELP ddiplane_ddns_refused_total UPDATEs that changed nothing, by reason "
	        "(control/ddns/update.h enum upd_why).\n# TYPE ddiplane_ddns_refused_total counter\n");
	for (unsigned k = UPD_WHY_NONE + 1; k < UPD_WHY__COUNT; k++)
		fprintf(f, "ddiplane_ddns_refused_total{reason=\"%s\"} %llu\n", upd_why_names[k],
		        (unsigned long long)r->why[k]);
	fprintf(f, "# HELP ddiplane_ddns_refusal_log_total Refusals written to stderr or "
	        "suppressed by its rate limit.\n# TYPE ddiplane_ddns_refusal_log_total counter\n"
	        "ddiplane_ddns_refusal_log_total{outcome=\"logged\"} %llu\n"
	        "ddiplane_ddns_refusal_log_total{outcome=\"suppressed\"} %llu\n",
	        (unsigned long long)r->log_lines, (unsigned long long)r->log_suppressed);
	fprintf(f, "# HELP ddiplane_ddns_refusal_notes_total Authenticated refusals: noted in the "
	        "journal, folded into a note of the interval, not noted (table full, store error)."
	        "\n# TYPE ddiplane_ddns_refusal_notes_total counter\n"
	        "ddiplane_ddns_refusal_notes_total{outcome=\"journaled\"} %llu\n"
	        "ddiplane_ddns_refusal_notes_total{outcome=\"folded\"} %llu\n"
	        "ddiplane_ddns_refusal_notes_total{outcome=\"table_full\"} %llu\n"
	        "ddiplane_ddns_refusal_notes_total{outcome=\"failed\"} %llu\n",
	        (unsigned long long)r->notes, (unsigned long long)r->folded,
	        (unsigned long long)r->table_full, (unsigned long long)r->note_failed);
}

/* What the lease thread removed: expired leases and scavenged RRsets, their allocations, commits. */
static void metrics_lifecycle(FILE *f)
{
	struct life_stats le, sc;
	life_thread_stats(run.life, &le, &sc);
	fprintf(f, "# HELP ddiplane_lifecycle_removed_rrsets_total Dynamic RRsets removed by the "
	        "server: their update lease ended (lease_expiry) or aging scavenged them (scavenger)."
	        "\n# TYPE ddiplane_lifecycle_removed_rrsets_total counter\n"
	        "ddiplane_lifecycle_removed_rrsets_total{by=\"lease_expiry\"} %llu\n"
	        "ddiplane_lifecycle_removed_rrsets_total{by=\"scavenger\"} %llu\n",
	        (unsigned long long)le.rrsets, (unsigned long long)sc.rrsets);
	fprintf(f, "# HELP ddiplane_lifecycle_released_allocations_total Dynamic IPAM allocations "
	        "released with them.\n# TYPE ddiplane_lifecycle_released_allocations_total counter\n"
	        "ddiplane_lifecycle_released_allocations_total{by=\"lease_expiry\"} %llu\n"
	        "ddiplane_lifecycle_released_allocations_total{by=\"scavenger\"} %llu\n",
	        (unsigned long long)le.allocations, (unsigned long long)sc.allocations);
	fprintf(f, "# HELP ddiplane_lifecycle_batches_total Journaled commits that removed them.\n"
	        "# TYPE ddiplane_lifecycle_batches_total counter\n"
	        "ddiplane_lifecycle_batches_total{by=\"lease_expiry\"} %llu\n"
	        "ddiplane_lifecycle_batches_total{by=\"scavenger\"} %llu\n",
	        (unsigned long long)le.batches, (unsigned long long)sc.batches);
}

/* The ports' own counters for /metrics. */
static void metrics_ports(FILE *f)
{
	fprintf(f, "# HELP ddiplane_port_packets_total Packets the port received and sent (its PMD's "
	        "counters).\n# TYPE ddiplane_port_packets_total counter\n"
	        "# HELP ddiplane_port_drops_total Packets the port lost before an lcore saw them "
	        "(imissed: receive ring full; ierrors, oerrors; rx_nombuf: no mbuf).\n"
	        "# TYPE ddiplane_port_drops_total counter\n");
	for (unsigned i = 0; i < sh.nports; i++) {
		struct rte_eth_stats es;
		unsigned p = sh.ports[i].port_id;
		if (rte_eth_stats_get((uint16_t)p, &es) != 0)
			continue;
		fprintf(f, "ddiplane_port_packets_total{port=\"%u\",direction=\"rx\"} %llu\n"
		        "ddiplane_port_packets_total{port=\"%u\",direction=\"tx\"} %llu\n"
		        "ddiplane_port_drops_total{port=\"%u\",reason=\"imissed\"} %llu\n"
		        "ddiplane_port_drops_total{port=\"%u\",reason=\"ierrors\"} %llu\n"
		        "ddiplane_port_drops_total{port=\"%u\",reason=\"oerrors\"} %llu\n"
		        "ddiplane_port_drops_total{port=\"%u\",reason=\"rx_nombuf\"} %llu\n",
		        p, (unsigned long long)es.ipackets, p, (unsigned long long)es.opackets, p,
		        (unsigned long long)es.imissed, p, (unsigned long long)es.ierrors, p,
		        (unsigned long long)es.oerrors, p, (unsigned long long)es.rx_nombuf);
	}
}

/* The dataplane's series for /metrics: one label set per lcore. */
static void metrics_dataplane(void *ctx, FILE *f)
{
	metrics_ports(f);
	static const struct { enum dp_outcome o; const char *rcode; } rc[] = {
		{ DP_OUT_NOERROR, "NOERROR" }, { DP_OUT_NODATA, "NOERROR" },
		{ DP_OUT_REFERRAL, "NOERROR" }, { DP_OUT_NXDOMAIN, "NXDOMAIN" },
		{ DP_OUT_REFUSED, "REFUSED" }, { DP_OUT_FORMERR, "FORMERR" },
		{ DP_OUT_NOTIMP, "NOTIMP" }, { DP_OUT_SERVFAIL, "SERVFAIL" },
		{ DP_OUT_BADVERS, "BADVERS" },
	};
	static const enum dp_outcome drops[] = {
		DP_OUT_NO_ANSWER, DP_OUT_MALF_LENGTH, DP_OUT_MALF_CHECKSUM, DP_OUT_MALF_DNS_HDR,
		DP_OUT_MALF_PORT, DP_OUT_RING_FULL, DP_OUT_DDNS_FULL, DP_OUT_TX_DROP, DP_OUT_EXC_DROP,
	};
	(void)ctx;
	fprintf(f, "# HELP ddiplane_up 1 while ddiplane serves.\n# TYPE ddiplane_up gauge\n"
	        "ddiplane_up 1\n"
	        "# HELP ddiplane_uptime_seconds Seconds since ddiplane started.\n"
	        "# TYPE ddiplane_uptime_seconds gauge\nddiplane_uptime_seconds %lld\n",
	        (long long)(time(NULL) - run.started));
	fprintf(f, "# HELP ddiplane_packets_total Packets by lcore and outcome (every outcome of "
	        "dataplane/counters.h).\n# TYPE ddiplane_packets_total counter\n");
	for (unsigned l = 0; l < DP_MAX_LCORES; l++)
		for (unsigned k = 0; lcore_used(l) && k < DP_OUT__COUNT; k++)
			fprintf(f, "ddiplane_packets_total{lcore=\"%u\",outcome=\"%s\"} %llu\n", l,
			        dp_outcome_names[k],
			        (unsigned long long)__atomic_load_n(&dp_counters[l].v[k], __ATOMIC_RELAXED));
	fprintf(f, "# HELP ddiplane_responses_total UDP responses by lcore and rcode.\n"
	        "# TYPE ddiplane_responses_total counter\n");
	static const char *const rcodes[] = { "NOERROR", "NXDOMAIN", "REFUSED", "FORMERR", "NOTIMP",
	                                      "SERVFAIL", "BADVERS" };
	for (unsigned l = 0; l < DP_MAX_LCORES; l++) {
		for (unsigned r = 0; lcore_used(l) && r < sizeof(rcodes) / sizeof(rcodes[0]); r++) {
			unsigned long long n = 0;
			for (unsigned k = 0; k < sizeof(rc) / sizeof(rc[0]); k++)
				if (strcmp(rc[k].rcode, rcodes[r]) == 0)
					n += __atomic_load_n(&dp_counters[l].v[rc[k].o], __ATOMIC_RELAXED);
			fprintf(f, "ddiplane_responses_total{lcore=\"%u\",rcode=\"%s\"} %llu\n", l,
			        rcodes[r], n);
		}
	}
	fprintf(f, "# HELP ddiplane_queries_total DNS queries answered or refused by lcore "
	        "(every rcode, TC included).\n# TYPE ddiplane_queries_total counter\n");
	for (unsigned l = 0; l < DP_MAX_LCORES; l++) {
		if (!lcore_used(l))
			continue;
		unsigned long long n = 0;
		for (unsigned k = 0; k < sizeof(rc) / sizeof(rc[0]); k++)
			n += __atomic_load_n(&dp_counters[l].v[rc[k].o], __ATOMIC_RELAXED);
		fprintf(f, "ddiplane_queries_total{lcore=\"%u\"} %llu\n", l, n);
	}
	fprintf(f, "# HELP ddiplane_queries_by_type_total Answered DNS queries by lcore and "
	        "question type.\n# TYPE ddiplane_queries_by_type_total counter\n");
	for (unsigned l = 0; l < DP_MAX_LCORES; l++)
		for (unsigned k = 0; lcore_used(l) && k < DP_Q__COUNT; k++)
			fprintf(f, "ddiplane_queries_by_type_total{lcore=\"%u\",qtype=\"%s\"} %llu\n", l,
			        dp_qtype_names[k],
			        (unsigned long long)__atomic_load_n(&dp_counters[l].qtype[k],
			                                            __ATOMIC_RELAXED));
	fprintf(f, "# HELP ddiplane_drops_total Packets dropped by lcore and reason.\n"
	        "# TYPE ddiplane_drops_total counter\n");
	for (unsigned l = 0; l < DP_MAX_LCORES; l++)
		for (unsigned k = 0; lcore_used(l) && k < sizeof(drops) / sizeof(drops[0]); k++)
			fprintf(f, "ddiplane_drops_total{lcore=\"%u\",reason=\"%s\"} %llu\n", l,
			        dp_outcome_names[drops[k]],
			        (unsigned long long)__atomic_load_n(&dp_counters[l].v[drops[k]],
			                                            __ATOMIC_RELAXED));
	struct tcp_stats ts;
	tcp_server_stats(run.tcp, &ts);
	fprintf(f, "# HELP ddiplane_tcp_queries_total DNS messages answered over TCP.\n"
	        "# TYPE ddiplane_tcp_queries_total counter\nddiplane_tcp_queries_total %llu\n"
	        "# HELP ddiplane_tcp_connections_total TCP connections by outcome: accepted, "
	        "refused (reset at once) by which limit, closed idle.\n"
	        "# TYPE ddiplane_tcp_connections_total counter\n"
	        "ddiplane_tcp_connections_total{outcome=\"accepted\"} %llu\n"
	        "ddiplane_tcp_connections_total{outcome=\"refused_total_limit\"} %llu\n"
	        "ddiplane_tcp_connections_total{outcome=\"refused_client_limit\"} %llu\n"
	        "ddiplane_tcp_connections_total{outcome=\"idle_closed\"} %llu\n"
	        "# HELP ddiplane_tcp_connections_open TCP connections open now.\n"
	        "# TYPE ddiplane_tcp_connections_open gauge\nddiplane_tcp_connections_open %llu\n",
	        (unsigned long long)ts.queries, (unsigned long long)ts.accepted,
	        (unsigned long long)ts.refused_total_limit,
	        (unsigned long long)ts.refused_client_limit, (unsigned long long)ts.idle_closed,
	        (unsigned long long)ts.open);
	fprintf(f, "# HELP ddiplane_tcp_cookies_total DNS cookies of TCP queries by verdict "
	        "(RFC 7873).\n# TYPE ddiplane_tcp_cookies_total counter\n"
	        "ddiplane_tcp_cookies_total{verdict=\"new\"} %llu\n"
	        "ddiplane_tcp_cookies_total{verdict=\"valid\"} %llu\n"
	        "ddiplane_tcp_cookies_total{verdict=\"refreshed\"} %llu\n"
	        "ddiplane_tcp_cookies_total{verdict=\"bad\"} %llu\n"
	        "ddiplane_tcp_cookies_total{verdict=\"malformed\"} %llu\n",
	        (unsigned long long)ts.cookie_new, (unsigned long long)ts.cookie_valid,
	        (unsigned long long)ts.cookie_refreshed, (unsigned long long)ts.cookie_bad,
	        (unsigned long long)ts.cookie_malformed);
	tcp_stats_metrics(f, &ts);
	fprintf(f, "# HELP ddiplane_xfr_total Zone transfers out and NOTIFY out by outcome "
	        "(control/xfr/xfr.h).\n# TYPE ddiplane_xfr_total counter\n");
#define X(n) fprintf(f, "ddiplane_xfr_total{outcome=\"" #n "\"} %llu\n", \
	             (unsigned long long)__atomic_load_n(&run.xst.n, __ATOMIC_RELAXED));
	XFR_COUNTERS(X)
#undef X
	xfr_out_metrics(f, &run.xst);
	xfr_sec_metrics(f);
	struct ddns_stats ds;
	ddns_thread_stats(run.ddns, &ds);
	fprintf(f, "# HELP ddiplane_ddns_messages_total UPDATE, NOTIFY, signed QUERY of the DDNS thread, "
	        "by outcome (rcode of the answer, queue and batch outcomes; control/ddns/thread.h)."
	        "\n# TYPE ddiplane_ddns_messages_total counter\n");
	for (unsigned k = 0; k < DDNS_OUT__COUNT; k++)
		fprintf(f, "ddiplane_ddns_messages_total{outcome=\"%s\"} %llu\n", ddns_outcome_names[k],
		        (unsigned long long)ds.v[k]);
	fprintf(f, "# HELP ddiplane_ddns_batch_max Largest burst of updates committed with one sync.\n"
	        "# TYPE ddiplane_ddns_batch_max gauge\nddiplane_ddns_batch_max %llu\n",
	        (unsigned long long)ds.max_batch);
	metrics_refusals(f, &ds.refusals);
	metrics_lifecycle(f);
	if (run.gss) {
		struct gss_stats gs;
		gss_stats(run.gss, &gs);
		fprintf(f, "# HELP ddiplane_gss_total GSS-TSIG: TKEY negotiations and MICs by outcome "
		        "(control/ddns/gss.h).\n# TYPE ddiplane_gss_total counter\n");
		for (unsigned k = 0; k < GSS_OUT__COUNT; k++)
			fprintf(f, "ddiplane_gss_total{outcome=\"%s\"} %llu\n", gss_outcome_names[k],
			        (unsigned long long)gs.v[k]);
		fprintf(f, "# HELP ddiplane_gss_contexts GSS-TSIG contexts kept now (--gss-max-contexts)."
		        "\n# TYPE ddiplane_gss_contexts gauge\nddiplane_gss_contexts %llu\n",
		        (unsigned long long)gs.contexts);
	}
	http_metrics_write(run.api, f);
}

static void on_signal(int sig)
{
	(void)sig;
	dp_quit(&sh);
}

static bool want_help(int argc, char **argv)
{
	for (int i = 1; i < argc; i++)
		if (strcmp(argv[i], "--help") == 0 || strcmp(argv[i], "-h") == 0)
			return true;
	return false;
}

static bool has_arg(int argc, char **argv, const char *a)
{
	for (int i = 1; i < argc && strcmp(argv[i], "--") != 0; i++)
		if (strcmp(argv[i], a) == 0)
			return true;
	return false;
}

static unsigned free_hugepages(void)
{
	FILE *f = fopen("/proc/meminfo", "r");
	char line[128];
	unsigned n = 0;
	if (!f)
		return 0;
	while (fgets(line, sizeof(line), f))
		if (sscanf(line, "HugePages_Free: %u", &n) == 1)
			break;
	fclose(f);
	return n;
}

/* Configure and start one port: worker queues, the control TX queue, offloads. */
static int port_setup(struct dp_port *p, uint16_t port_id, unsigned nworkers,
                      struct rte_mempool *mp, const struct dp_pctx *base)
{
	struct rte_eth_dev_info info;
	struct rte_eth_conf conf;
	int ret;

	memset(&conf, 0, sizeof(conf));
	if ((ret = rte_eth_dev_info_get(port_id, &info)) != 0) {
		fprintf(stderr, "ddiplane: port %u: no device info: %s\n", port_id, rte_strerror(-ret));
		return -1;
	}
	uint16_t nrx = (uint16_t)nworkers, ntx = (uint16_t)nworkers;
	if (info.max_rx_queues < nrx || info.max_tx_queues < ntx) {
		fprintf(stderr,
		        "ddiplane: port %u (%s) has %u RX / %u TX queues; %u workers need %u / %u "
		        "(one pair per worker). Use fewer lcores (-l) or, for net_af_packet, add "
		        "qpairs=%u to --vdev.\n",
		        port_id, info.driver_name, info.max_rx_queues, info.max_tx_queues, nworkers, nrx,
		        ntx, nrx);
		return -1;
	}
	if (nrx > 1) {
		uint64_t hf = (RTE_ETH_RSS_IP | RTE_ETH_RSS_UDP) & info.flow_type_rss_offloads;
		if (hf) {
			conf.rxmode.mq_mode = RTE_ETH_MQ_RX_RSS;
			conf.rx_adv_conf.rss_conf.rss_hf = hf;
		} else {
			ddi_log(LOG_SUB_DATAPLANE, LOG_LVL_WARNING, NULL, "port %u (%s) has no RSS: the driver "
			        "alone "
			        "spreads packets over the %u RX queues", port_id, info.driver_name, nrx);
		}
	}
	p->pctx = *base;
	uint64_t csum = RTE_ETH_TX_OFFLOAD_IPV4_CKSUM | RTE_ETH_TX_OFFLOAD_UDP_CKSUM;
	if (info.tx_offload_capa & RTE_ETH_TX_OFFLOAD_IPV4_CKSUM)
		p->pctx.tx_ip4_cksum_offload = true;
	if (info.tx_offload_capa & RTE_ETH_TX_OFFLOAD_UDP_CKSUM)
		p->pctx.tx_udp_cksum_offload = true;
	conf.txmode.offloads = info.tx_offload_capa & csum;
	p->pctx_ctl = p->pctx;
	p->pctx_ctl.answer_all_opcodes = true;

	if ((ret = rte_eth_dev_configure(port_id, nrx, ntx, &conf)) != 0) {
		fprintf(stderr, "ddiplane: port %u: configure: %s\n", port_id, rte_strerror(-ret));
		return -1;
	}
	uint16_t nb_rxd = RX_DESC, nb_txd = TX_DESC;
	rte_eth_dev_adjust_nb_rx_tx_desc(port_id, &nb_rxd, &nb_txd);
	int socket = rte_eth_dev_socket_id(port_id);
	for (uint16_t q = 0; q < nrx; q++)
		if ((ret = rte_eth_rx_queue_setup(port_id, q, nb_rxd, socket, NULL, mp)) != 0)
			goto qfail;
	struct rte_eth_txconf txc = info.default_txconf;
	txc.offloads = conf.txmode.offloads;
	for (uint16_t q = 0; q < ntx; q++)
		if ((ret = rte_eth_tx_queue_setup(port_id, q, nb_txd, socket, &txc)) != 0)
			goto qfail;
	if ((ret = rte_eth_dev_start(port_id)) != 0) {
		fprintf(stderr, "ddiplane: port %u: start: %s\n", port_id, rte_strerror(-ret));
		return -1;
	}
	p->port_id = port_id;
	return 0;
qfail:
	fprintf(stderr, "ddiplane: port %u: queue setup: %s\n", port_id, rte_strerror(-ret));
	return -1;
}

/* Create the tap of port index `i` with the port's MAC and the service addresses. */
static int tap_setup(struct dp_port *p, unsigned i, const struct dp_options *o, unsigned nworkers,
                     struct rte_mempool *mp)
{
	struct rte_ether_addr mac;
	char name[32], args[128], macs[RTE_ETHER_ADDR_FMT_SIZE];
	int ret;

	rte_eth_macaddr_get(p->port_id, &mac);
	rte_ether_format_addr(macs, sizeof(macs), &mac);
	if (i == 0)
		snprintf(p->tap_name, sizeof(p->tap_name), "%s", o->tap_name);
	else
		snprintf(p->tap_name, sizeof(p->tap_name), "%s%u", o->tap_name, i);
	snprintf(name, sizeof(name), "net_tap_ddi%u", i);
	snprintf(args, sizeof(args), "iface=%s,mac=%s", p->tap_name, macs);
	/* Hotplug (EAL) rather than rte_vdev_init: the vdev bus library is not in libdpdk.pc. */
	if ((ret = rte_eal_hotplug_add("vdev", name, args)) != 0) {
		fprintf(stderr, "ddiplane: cannot create the tap %s (%s): %s. Is /dev/net/tun there "
		        "and are we root (CAP_NET_ADMIN)? Is an interface of that name left over "
		        "(ip link del %s)?\n", p->tap_name, args, rte_strerror(-ret), p->tap_name);
		return -1;
	}
	uint16_t tap;
	if (rte_eth_dev_get_port_by_name(name, &tap) != 0) {
		fprintf(stderr, "ddiplane: tap %s: no port\n", name);
		return -1;
	}
	p->tap_id = tap;
	p->tap_nq = (uint16_t)nworkers;
	struct rte_eth_conf conf;
	memset(&conf, 0, sizeof(conf));
	if ((ret = rte_eth_dev_configure(tap, p->tap_nq, p->tap_nq, &conf)) != 0) {
		fprintf(stderr, "ddiplane: tap %s: configure: %s\n", p->tap_name, rte_strerror(-ret));
		return -1;
	}
	int socket = rte_eth_dev_socket_id(tap);
	for (uint16_t q = 0; q < p->tap_nq; q++) {
		if ((ret = rte_eth_rx_queue_setup(tap, q, TAP_DESC, socket, NULL, mp)) != 0 ||
		    (ret = rte_eth_tx_queue_setup(tap, q, TAP_DESC, socket, NULL)) != 0) {
			fprintf(stderr, "ddiplane: tap %s: queue setup: %s\n", p->tap_name,
			        rte_strerror(-ret));
			return -1;
		}
	}
	if ((ret = rte_eth_dev_start(tap)) != 0) {
		fprintf(stderr, "ddiplane: tap %s: start: %s\n", p->tap_name, rte_strerror(-ret));
		return -1;
	}
	if ((ret = tapif_up(p->tap_name)) < 0) {
		fprintf(stderr, "ddiplane: tap %s: up: %s\n", p->tap_name, ddi_strerror(ret));
		return -1;
	}
	for (unsigned a = 0; a < o->svc.n4 + o->svc.n6; a++) {
		bool v6 = a >= o->svc.n4;
		const uint8_t *addr = v6 ? o->svc.v6[a - o->svc.n4] : o->svc.v4[a];
		int plen = v6 ? o->plen6[a - o->svc.n4] : o->plen4[a];
		if ((ret = tapif_addr_add(p->tap_name, v6 ? 6 : 4, addr, plen)) < 0) {
			char s[INET6_ADDRSTRLEN];
			inet_ntop(v6 ? AF_INET6 : AF_INET, addr, s, sizeof(s));
			fprintf(stderr, "ddiplane: tap %s: cannot add %s/%d: %s\n", p->tap_name, s, plen,
			        ddi_strerror(ret));
			return -1;
		}
	}
	ddi_log(LOG_SUB_DATAPLANE, LOG_LVL_NOTICE, NULL, "port %u %s, exception path tap %s",
	        p->port_id, macs, p->tap_name);
	return 0;
}

/* ------------------------------------------------------------------------ */
/* The steps of main(), in order                                            */
/* ------------------------------------------------------------------------ */

/* EAL: returns the number of arguments it took, or -1 (with a hint about hugepages). */
static int step_eal(int argc, char **argv)
{
	int n = rte_eal_init(argc, argv);
	if (n < 0) {
		fprintf(stderr, "ddiplane: DPDK EAL initialisation failed: %s\n", rte_strerror(rte_errno));
		if (!has_arg(argc, argv, "--no-huge") && free_hugepages() == 0)
			fprintf(stderr,
			        "  no free hugepages: reserve some (echo 512 > "
			        "/sys/kernel/mm/hugepages/hugepages-2048kB/nr_hugepages) or run without "
			        "them: --no-huge -m 512 --no-shconf (--in-memory is refused with --no-huge in DPDK 22.11)\n");
	}
	return n;
}

/* Our options, and the lcores: one control lcore, 1..RTE_MAX_LCORE_DP workers. */
static json_t *hook_reload(void *ctx);

/* The log settings of the options (checked by the parser) into control/log.h. */
static void log_apply(const struct dp_options *o)
{
	char why[160];
	ddi_log_target_set(o->log_target ? o->log_target : "auto");
	if (ddi_log_levels_set(o->log_levels ? o->log_levels : "info", why, sizeof(why)) < 0)
		fprintf(stderr, "ddiplane: --log-level: %s\n", why);   /* checked already: not reached */
}

/*
 * Our options (after "--"), parsed before EAL so that the store can load
 * while EAL comes up; EAL parses its own part of argv, untouched by this.
 */
static int step_options(int argc, char **argv)
{
	int n;
	char **own = dp_own_args(argc, argv, &n);
	if (!own) {
		fprintf(stderr, "ddiplane: more than %d arguments after --\n", DP_OWN_ARGS_MAX);
		return -2;
	}
	run.argc = n;
	run.argv = own;
	if (dp_options_parse(&run.o, n, own, stderr) < 0)
		return -2;
	log_apply(&run.o);
	return 0;
}

/* One control lcore, 1..RTE_MAX_LCORE_DP workers. */
static int step_lcores(void)
{
	run.nworkers = rte_lcore_count() - 1;
	if (run.nworkers > RTE_MAX_LCORE_DP) {
		fprintf(stderr, "ddiplane: at most %d workers\n", RTE_MAX_LCORE_DP);
		return -1;
	}
	if (run.nworkers == 0) {
		fprintf(stderr, "ddiplane: no worker lcore: give at least two lcores, e.g. -l 0,1 "
		        "(the main lcore is the control lcore)\n");
		return -1;
	}
	return 0;
}

/* The index, and the store's load into it started (dataplane/startup.h). */
static int step_store_start(void)
{
	run.idx = idx_new();
	if (!run.idx) {
		fprintf(stderr, "ddiplane: out of memory for the index\n");
		return -1;
	}
	sh.idx = run.idx;
	dp_loader_start(&run.loader, run.o.db, run.idx, run.ph.t0);
	return 0;
}

/* The load done: the store open and claimed, the index published as version 1. */
static int step_store_join(void)
{
	int rc = dp_loader_join(&run.loader, &run.ph);
	run.st = run.loader.st;
	run.claim = run.loader.claim_fd + 1;
	return rc < 0 ? -1 : 0;
}

/* Answers are never fragmented: the UDP size fits the smallest port MTU. */
static uint16_t udp_size_for_ports(uint16_t udp_max)
{
	for (unsigned i = 0; i < sh.nports; i++) {
		uint16_t mtu = 1500;
		rte_eth_dev_get_mtu(sh.ports[i].port_id, &mtu);
		unsigned room = RTE_MBUF_DEFAULT_DATAROOM - 2 * 4 - 14 - 40 - 8;
		unsigned lim = mtu > 48 ? mtu - 48u : DNS_UDP_MIN;
		if (lim > room)
			lim = room;
		if (udp_max > lim) {
			ddi_log(LOG_SUB_DATAPLANE, LOG_LVL_WARNING, NULL,
			        "--udp-size %u capped to %u (port %u MTU %u)",
			        udp_max, lim, sh.ports[i].port_id, mtu);
			udp_max = (uint16_t)(lim < DNS_UDP_MIN ? DNS_UDP_MIN : lim);
		}
	}
	return udp_max;
}

/*
 * The cookie secrets: the shared ones of --cookie-secret-file (the second,
 * when given, only accepted: init with it, then make the first current),
 * else one from getrandom() that the control lcore replaces every
 * --cookie-secret-lifetime hours.
 */
static int cookies_setup(void)
{
	if (run.o.cookie_nsecrets) {
		dns_cookie_secrets_init(&run.cookies, run.o.cookie_secret[run.o.cookie_nsecrets - 1]);
		if (run.o.cookie_nsecrets == 2)
			dns_cookie_rotate(&run.cookies, run.o.cookie_secret[0]);
		return 0;
	}
	uint8_t secret[DNS_COOKIE_SECRET_LEN];
	if (getrandom(secret, sizeof(secret), 0) != (ssize_t)sizeof(secret)) {
		fprintf(stderr, "ddiplane: no random bytes for the cookie secret (getrandom: %s); "
		        "run with --no-cookies\n", strerror(errno));
		return -1;
	}
	dns_cookie_secrets_init(&run.cookies, secret);
	explicit_bzero(secret, sizeof(secret));
	return 0;
}

/*
 * A reload with the same --cookie-secret-file: when its first secret
 * changed, it becomes the current one and the current one the previous
 * (the roll the --help describes). The only writer then: with a file the
 * control lcore does not rotate. Returns true when it rotated.
 */
static bool cookies_reload(const struct dp_options *n)
{
	if (run.o.no_cookies || !run.o.cookie_nsecrets || !n->cookie_nsecrets ||
	    n->no_cookies || strcmp(run.o.cookie_secret_file, n->cookie_secret_file) != 0)
		return false;
	if (memcmp(run.o.cookie_secret[0], n->cookie_secret[0], DNS_COOKIE_SECRET_LEN) == 0)
		return false;
	dns_cookie_rotate(&run.cookies, n->cookie_secret[0]);
	memcpy(run.o.cookie_secret, n->cookie_secret, sizeof(run.o.cookie_secret));
	return true;
}

/*
 * Receive steering (dataplane/steer.h): the kernel's receive work of a
 * net_af_packet port goes to the CPUs no worker polls. A failure is logged
 * and not fatal: the server answers as before, with the old risk.
 */
static void steer_ports(void)
{
	cpu_set_t workers, others;
	char why[256], ifname[IF_NAMESIZE];
	CPU_ZERO(&workers);
	CPU_ZERO(&others);
	unsigned wl;
	RTE_LCORE_FOREACH_WORKER(wl) {
		rte_cpuset_t ws = rte_lcore_cpuset(wl);
		CPU_OR(&workers, &workers, &ws);
	}
	long ncpu = sysconf(_SC_NPROCESSORS_ONLN);
	for (long cpu = 0; cpu < ncpu && cpu < CPU_SETSIZE; cpu++)
		if (!CPU_ISSET((int)cpu, &workers))
			CPU_SET((int)cpu, &others);
	for (unsigned i = 0; i < sh.nports; i++) {
		struct rte_eth_dev_info di;
		if (rte_eth_dev_info_get(sh.ports[i].port_id, &di) != 0 || !di.driver_name ||
		    strcmp(di.driver_name, "net_af_packet") != 0 || di.if_index == 0 ||
		    !if_indextoname(di.if_index, ifname))
			continue;
		int n = steer_port(ifname, &workers, &others, why, sizeof(why));
		if (n < 0)
			ddi_log(LOG_SUB_DATAPLANE, LOG_LVL_WARNING, NULL, "port %u (%s): receive work left "
			        "where it is: %s", sh.ports[i].port_id, ifname, why);
		else if (n > 0)
			ddi_log(LOG_SUB_DATAPLANE, LOG_LVL_NOTICE, NULL, "port %u (%s): receive steering "
			        "of %d queue%s moved off the worker CPUs (--no-steer-rx leaves it)",
			        sh.ports[i].port_id, ifname, n, n == 1 ? "" : "s");
	}
}

/* Ports, the mbuf pool, the answer configuration, and one tap per port. */
static int step_ports(void)
{
	uint16_t pid;
	unsigned nw = run.nworkers;
	RTE_ETH_FOREACH_DEV(pid) {
		if (sh.nports == DP_MAX_PORTS) {
			fprintf(stderr, "ddiplane: more than %d ports; using the first %d\n", DP_MAX_PORTS,
			        DP_MAX_PORTS);
			break;
		}
		sh.ports[sh.nports++].port_id = pid;
	}
	if (sh.nports == 0) {
		fprintf(stderr, "ddiplane: no DPDK port: give -a PCI or --vdev net_af_packet0,iface=IF\n");
		return -1;
	}

	/* every descriptor and ring slot full at once, plus the per-lcore caches */
	unsigned nmbufs = sh.nports * (nw * (RX_DESC + TX_DESC + 2 * TAP_DESC) + TX_DESC +
	                               2 * TAP_DESC) + (nw + 1) * CTL_RING_SIZE +
	                  2 * DP_DDNS_RING_SIZE + 2 * MBUF_CACHE * (nw + 1);
	run.mp = rte_pktmbuf_pool_create("ddi_mbufs", nmbufs, MBUF_CACHE, 0,
	                                 RTE_MBUF_DEFAULT_BUF_SIZE, rte_socket_id());
	if (!run.mp) {
		fprintf(stderr, "ddiplane: cannot allocate %u mbufs: %s (give more memory with -m)\n",
		        nmbufs, rte_strerror(rte_errno));
		return -1;
	}
	dp_phase(&run.ph, "mbuf pool");

	run.aconf.udp_max = udp_size_for_ports(run.o.udp_size);
	if (run.o.nsid) {
		run.aconf.nsid = (const uint8_t *)run.o.nsid;
		run.aconf.nsid_len = (uint16_t)strlen(run.o.nsid);
	}
	struct dp_pctx base = { .svc = &run.o.svc, .conf = &run.aconf };
	if (!run.o.no_cookies) {
		if (cookies_setup() < 0)
			return -1;
		run.aconf.cookies = true;
		base.cookies = &run.cookies;
	}
	for (unsigned i = 0; i < sh.nports; i++) {
		run.nready = i + 1;   /* teardown stops what this iteration started, even half */
		if (port_setup(&sh.ports[i], sh.ports[i].port_id, nw, run.mp, &base) < 0 ||
		    tap_setup(&sh.ports[i], i, &run.o, nw, run.mp) < 0)
			return -1;
	}
	if (!run.o.no_steer_rx)
		steer_ports();
	dp_phase(&run.ph, "ports and taps");
	return 0;
}

/*
 * Response rate limiting: one table per lcore that answers (the workers
 * and the control lcore), each with its own random hash seed.
 */
static int step_rrl(void)
{
	if (run.o.rrl.rate == 0)
		return 0;
	unsigned l;
	RTE_LCORE_FOREACH(l) {
		uint64_t seed;
		if (getrandom(&seed, sizeof(seed), 0) != (ssize_t)sizeof(seed))
			seed = rte_rdtsc() ^ ((uint64_t)l << 56);
		sh.lcore[l].rrl = rrl_new(&run.o.rrl, seed);
		if (!sh.lcore[l].rrl) {
			fprintf(stderr, "ddiplane: no memory for the rate-limiting table of lcore %u (%u "
			        "buckets of 16 bytes; give a smaller --rrl-table-size)\n", l,
			        run.o.rrl.table_size);
			return -1;
		}
	}
	ddi_log(LOG_SUB_DATAPLANE, LOG_LVL_NOTICE, NULL, "response rate limiting: %u/s per prefix "
	        "and kind, slip %u, %u buckets per lcore, %u exempt prefixes", run.o.rrl.rate, run.o.rrl.slip,
	       run.o.rrl.table_size, run.o.rrl.nexempt);
	return 0;
}

/* The rings between lcores and threads (dataplane/worker.h dp_shared says who uses which). */
static int step_rings(void)
{
	sh.ctl_ring = rte_ring_create("ddi_ctl", CTL_RING_SIZE, rte_socket_id(), RING_F_SC_DEQ);
	sh.ddns_ring = rte_ring_create("ddi_ddns", DP_DDNS_RING_SIZE, rte_socket_id(),
	                               RING_F_SP_ENQ | RING_F_SC_DEQ);
	sh.ddns_ret = rte_ring_create("ddi_ddns_ret", DP_DDNS_RING_SIZE, rte_socket_id(),
	                              RING_F_SP_ENQ | RING_F_SC_DEQ);
	if (!sh.ctl_ring || !sh.ddns_ring || !sh.ddns_ret) {
		fprintf(stderr, "ddiplane: control rings: %s\n", rte_strerror(rte_errno));
		return -1;
	}
	sh.idle_sleep_us = run.o.idle_sleep_us;
	sh.nworkers = run.nworkers;
	for (unsigned k = 0; k < run.nworkers; k++) {
		char rname[32];
		snprintf(rname, sizeof(rname), "ddi_tx%u", k);
		sh.to_worker[k] = rte_ring_create(rname, CTL_RING_SIZE, rte_socket_id(),
		                                  RING_F_SP_ENQ | RING_F_SC_DEQ);
		if (!sh.to_worker[k]) {
			fprintf(stderr, "ddiplane: worker ring: %s\n", rte_strerror(rte_errno));
			return -1;
		}
	}
	return 0;
}

/*
 * The control threads (and liburcu's call_rcu thread) inherit this
 * thread's affinity: the main lcore's CPU only. Let them use every CPU no
 * worker lcore polls, so that they never steal a worker's core and are not
 * confined to one CPU when there are spare ones. step_run() restores it.
 */
static void affinity_for_threads(void)
{
	cpu_set_t ctl_set;
	pthread_getaffinity_np(pthread_self(), sizeof(run.main_set), &run.main_set);
	CPU_ZERO(&ctl_set);
	long ncpu = sysconf(_SC_NPROCESSORS_ONLN);
	for (long cpu = 0; cpu < ncpu && cpu < CPU_SETSIZE; cpu++)
		CPU_SET((int)cpu, &ctl_set);
	unsigned wl;
	RTE_LCORE_FOREACH_WORKER(wl) {
		rte_cpuset_t ws = rte_lcore_cpuset(wl);
		for (int cpu = 0; cpu < CPU_SETSIZE; cpu++)
			if (CPU_ISSET(cpu, &ws))
				CPU_CLR(cpu, &ctl_set);
	}
	if (CPU_COUNT(&ctl_set) == 0 ||
	    pthread_setaffinity_np(pthread_self(), sizeof(ctl_set), &ctl_set) != 0)
		pthread_setaffinity_np(pthread_self(), sizeof(run.main_set), &run.main_set);
}

static void ddns_kick(void *ctx)
{
	ddns_thread_kick(ctx);
}

static int xfr_hook(void *ctx, const uint8_t *req, size_t len, uint8_t fam, const uint8_t *addr,
                    int (*emit)(void *ectx, const uint8_t *msg, size_t len), void *ectx)
{
	return xfr_out_serve(ctx, req, len, fam, addr, (uint64_t)time(NULL), emit, ectx);
}

/* The TCP server on every service address, port 53; its updates go to the DDNS thread. */
static int tcp_start(char *err, size_t errlen)
{
	struct tcp_conf tc = { .idx = run.idx, .answer = &run.aconf,
	                       .update = ddns_thread_submit_async, .update_ctx = run.ddns,
	                       .update_tkey = run.gss != NULL,
	                       .xfr = xfr_hook, .xfr_ctx = run.xfr, .xfr_check = xfr_out_check_now,
	                       .max_conns = run.o.tcp_max_clients, .xfr_max = run.o.xfr_out_max,
	                       .max_per_client = run.o.tcp_max_per_client,
	                       .idle_timeout_ms = run.o.tcp_idle_timeout * 1000,
	                       .cookies = run.o.no_cookies ? NULL : &run.cookies };
	for (unsigned a = 0; a < run.o.svc.n4; a++) {
		struct sockaddr_in *s4 = (struct sockaddr_in *)&tc.listen[tc.nlisten++];
		s4->sin_family = AF_INET;
		s4->sin_port = htons(DP_DNS_PORT);
		memcpy(&s4->sin_addr, run.o.svc.v4[a], 4);
	}
	for (unsigned a = 0; a < run.o.svc.n6; a++) {
		struct sockaddr_in6 *s6 = (struct sockaddr_in6 *)&tc.listen[tc.nlisten++];
		s6->sin6_family = AF_INET6;
		s6->sin6_port = htons(DP_DNS_PORT);
		memcpy(&s6->sin6_addr, run.o.svc.v6[a], 16);
	}
	return tcp_server_start(&run.tcp, &tc, err, errlen);
}

/*
 * The threads, in dependency order: the control thread (the one index
 * writer), the DDNS thread (wakes it after commits), the TCP server
 * (submits to the DDNS thread), the control socket and /metrics.
 */
/* --query-log: one ring per worker (the workers write, one thread drains), before they start. */
static int qlog_setup(void)
{
	if (!run.o.query_log)
		return 0;
	for (unsigned w = 0; w < run.nworkers; w++) {
		sh.qlog[w] = aligned_alloc(64, sizeof(struct qlog_ring));
		if (!sh.qlog[w]) {
			fprintf(stderr, "ddiplane: out of memory for the query log\n");
			return -1;
		}
		memset(sh.qlog[w], 0, sizeof(struct qlog_ring));
		sh.qlog[w]->sample = run.o.query_log_sample;
	}
	int rc = qlog_start(&run.qlog, run.o.query_log, sh.qlog, run.nworkers);
	if (rc < 0) {
		fprintf(stderr, "ddiplane: --query-log %s: %s\n", run.o.query_log, ddi_strerror(rc));
		return -1;
	}
	return 0;
}

static void qlog_teardown(void)
{
	qlog_stop(run.qlog);   /* after the workers stopped: a last drain */
	run.qlog = NULL;
	for (unsigned w = 0; w < RTE_MAX_LCORE_DP; w++) {
		free(sh.qlog[w]);
		sh.qlog[w] = NULL;
	}
}

static uint64_t qlog_dropped(void)
{
	uint64_t n = 0;
	for (unsigned w = 0; w < RTE_MAX_LCORE_DP; w++)
		if (sh.qlog[w])
			n += atomic_load_explicit(&sh.qlog[w]->dropped, memory_order_relaxed);
	return n;
}

/* RFC 1996 3.10: a NOTIFY of a secondary zone goes to the refresh thread (control/xfr/secondary.h). */
static int secondary_notify(const uint8_t *apex, uint8_t family, const uint8_t *addr,
                            const uint8_t *key)
{
	switch (xfr_sec_notify(apex, family, addr, key)) {
	case XFR_SEC_NOTIFY_ACCEPTED:
		return DNS_RCODE_NOERROR;
	case XFR_SEC_NOTIFY_REFUSED:
		return DNS_RCODE_REFUSED;
	default:
		return -1;
	}
}

static int step_threads(void)
{
	char err[256];
	int rc;
	affinity_for_threads();
	if (qlog_setup() < 0)
		return -1;
	struct ctl_conf cc = { .store = run.st, .idx = run.idx, .poll_us = run.o.poll_us };
	if ((rc = ctl_start(&run.ctl, &cc)) < 0) {
		fprintf(stderr, "ddiplane: cannot start the control thread: %s\n", ddi_strerror(rc));
		return -1;
	}
	struct xfr_sec_conf xc = { .store = run.st, .ctl = run.ctl };
	if ((rc = xfr_secondary_start(&run.secondary, &xc)) < 0) {
		fprintf(stderr, "ddiplane: cannot start the zone refresh thread: %s\n", ddi_strerror(rc));
		return -1;
	}
	if (run.o.gss_principal != NULL) {
		struct gss_conf gc = { .keytab = run.o.gss_keytab, .principal = run.o.gss_principal,
		                       .max_contexts = run.o.gss_max_contexts,
		                       .lifetime = run.o.gss_lifetime };
		if ((rc = gss_server_new(&run.gss, &gc, err, sizeof(err))) < 0) {
			fprintf(stderr, "ddiplane: GSS-TSIG: %s\n", err);
			return -1;
		}
	}
	struct ddns_thread_conf dc = { .store = run.st, .ctl = run.ctl,
	                               .source = dp_ddns_source(&run.ddns_src, &sh),
	                               .notify = secondary_notify, .gss = run.gss };
	if ((rc = ddns_thread_start(&run.ddns, &dc)) < 0) {
		fprintf(stderr, "ddiplane: cannot start the DDNS thread: %s\n", ddi_strerror(rc));
		return -1;
	}
	sh.ddns_kick = ddns_kick;
	sh.ddns_kick_ctx = run.ddns;
	for (unsigned i = 0; i < sh.nports; i++)
		sh.ports[i].pctx_ctl.ddns = true;   /* UPDATE/NOTIFY: to the DDNS thread */
	for (unsigned i = 0; run.gss && i < sh.nports; i++)
		sh.ports[i].pctx.tkey = sh.ports[i].pctx_ctl.tkey = true;   /* TKEY too */
	if (!(run.xfr = xfr_out_new(run.st, &run.xst))) {
		fprintf(stderr, "ddiplane: out of memory\n");
		return -1;
	}
	if ((rc = xfr_notifier_start(&run.notifier, run.st, &run.xst,
	                             run.o.has_catalog ? run.o.catalog : NULL)) < 0) {
		fprintf(stderr, "ddiplane: cannot start the NOTIFY thread: %s\n", ddi_strerror(rc));
		return -1;
	}
	struct life_thread_conf lc = { .store = run.st, .interval_ms = run.o.sweep_ms,
	                               .batch = run.o.sweep_batch };
	if ((rc = life_thread_start(&run.life, &lc)) < 0) {
		fprintf(stderr, "ddiplane: cannot start the lease expiry thread: %s\n", ddi_strerror(rc));
		return -1;
	}
	if (tcp_start(err, sizeof(err)) < 0) {
		fprintf(stderr, "ddiplane: %s\n", err);
		return -1;
	}
	if (ctl_access_load(&run.access, run.o.access, err, sizeof(err)) < 0) {
		fprintf(stderr, "ddiplane: %s\n", err);
		return -1;
	}
	static const struct cmd_hooks hooks = {
		.status = hook_status, .stats = hook_stats, .shutdown = hook_shutdown,
		.reload = hook_reload,
		.index_enter = hook_index_enter, .index_leave = hook_index_leave,
	};
	struct ctlsock_conf sc = { .path = run.o.control, .store = run.st, .ctl = run.ctl,
	                           .hooks = &hooks, .access = run.access };
	if (ctlsock_start(&run.csock, &sc, err, sizeof(err)) < 0) {
		if (run.o.control_given) {
			fprintf(stderr, "ddiplane: %s\n", err);
			return -1;
		}
		ddi_log(LOG_SUB_DATAPLANE, LOG_LVL_WARNING, NULL, "%s: running without a control socket (give "
		        "--control PATH)", err);
		run.csock = NULL;
	}
	if (run.o.http) {
		struct http_conf hc = { .listen = run.o.http, .cert = run.o.http_cert,
		                        .key = run.o.http_key, .store = run.st, .ctl = run.ctl,
		                        .hooks = &hooks };
		if (http_start(&run.api, &hc, err, sizeof(err)) < 0) {
			fprintf(stderr, "ddiplane: %s\n", err);
			return -1;
		}
	}
	if (run.o.metrics) {
		struct metrics_conf mc = { .listen = run.o.metrics, .write = metrics_dataplane,
		                           .ctl = run.ctl, .health = health_dataplane };
		if (metrics_start(&run.mx, &mc, err, sizeof(err)) < 0) {
			fprintf(stderr, "ddiplane: %s\n", err);
			return -1;
		}
	}
	return 0;
}

/*
 * Reload (ddictl reload, SIGHUP): parse the command line again, with the
 * configuration file it names, and apply what can change live: the log
 * settings and the control socket's access file. Every other setting that
 * differs is named in "restart_needed" and keeps its value until a restart.
 * One reload at a time (the socket's command and the SIGHUP thread).
 */
static json_t *hook_reload(void *ctx)
{
	static pthread_mutex_t one = PTHREAD_MUTEX_INITIALIZER;
	(void)ctx;
	char *msg = NULL, err[512];
	size_t msglen = 0;
	struct dp_options n;
	struct ctl_access *acc = NULL;
	json_t *out = NULL;
	pthread_mutex_lock(&one);
	FILE *m = open_memstream(&msg, &msglen);
	int rc = m ? dp_options_parse(&n, run.argc, run.argv, m) : -1;
	if (m)
		fclose(m);
	if (rc < 0) {
		out = json_pack("{s:s}", "error", msg && msglen ? msg : "out of memory");
		goto done;
	}
	if (ctl_access_load(&acc, n.access, err, sizeof(err)) < 0) {
		out = json_pack("{s:s}", "error", err);
		dp_options_free(&n);
		goto done;
	}
	log_apply(&n);
	if (run.csock)
		ctlsock_set_access(run.csock, acc);   /* it takes the table over */
	else
		ctl_access_free(acc);
	/* a running rate limiter takes a new rate and slip at each lcore's next burst */
	bool rrl_live = run.o.rrl.rate && n.rrl.rate &&
	                (n.rrl.rate != run.o.rrl.rate || n.rrl.slip != run.o.rrl.slip);
	if (rrl_live)
		rrl_live_set(&sh.rrl_live, n.rrl.rate, n.rrl.slip);
	const char *names[32];
	size_t nr = dp_options_restart_needed(&run.o, &n, names, 32);
	json_t *rn = json_array();
	for (size_t i = 0; rn && i < nr; i++)
		json_array_append_new(rn, json_string(names[i]));
	bool cookies_rolled = cookies_reload(&n);
	json_t *done = json_pack("[s, s]", "log", "access");
	if (done && rrl_live)
		json_array_append_new(done, json_string("rrl-rate/rrl-slip"));
	if (done && cookies_rolled)
		json_array_append_new(done, json_string("cookie-secret-file"));
	out = json_pack("{s:o, s:o, s:s?}", "reloaded", done, "restart_needed", rn, "config",
	                n.config);
	ddi_log(LOG_SUB_MGMT, LOG_LVL_NOTICE, NULL, "configuration reloaded (%s); %zu setting%s "
	        "need%s a restart", n.config ? n.config : "command line only", nr,
	        nr == 1 ? "" : "s", nr == 1 ? "s" : "");
	dp_options_free(&n);
done:
	free(msg);
	pthread_mutex_unlock(&one);
	return out;
}

static atomic_bool reload_asked;

static void on_hup(int sig)
{
	(void)sig;
	atomic_store(&reload_asked, true);
}

/* The SIGHUP side of reload: a thread of its own, off the lcores, looking every 200 ms. */
static void *reloader_main(void *arg)
{
	(void)arg;
	while (!dp_quitting(&sh)) {
		struct timespec ts = { 0, 200 * 1000 * 1000 };
		nanosleep(&ts, NULL);
		if (!atomic_exchange(&reload_asked, false))
			continue;
		json_t *r = hook_reload(NULL);
		json_t *e = r ? json_object_get(r, "error") : NULL;
		if (e)
			ddi_log(LOG_SUB_MGMT, LOG_LVL_ERR, NULL, "SIGHUP: reload refused, nothing "
			        "changed: %s", json_string_value(e));
		json_decref(r);
	}
	return NULL;
}

/* Workers on their lcores, the control loop here, until SIGINT/SIGTERM or `shutdown`. */
static void step_run(void)
{
	static struct dp_worker workers[RTE_MAX_LCORE];
	pthread_setaffinity_np(pthread_self(), sizeof(run.main_set), &run.main_set);

	struct sigaction sa = { .sa_handler = on_signal };
	sigemptyset(&sa.sa_mask);
	sigaction(SIGINT, &sa, NULL);
	sigaction(SIGTERM, &sa, NULL);
	struct sigaction hup = { .sa_handler = on_hup };
	sigemptyset(&hup.sa_mask);
	sigaction(SIGHUP, &hup, NULL);
	run.reloader_started = pthread_create(&run.reloader, NULL, reloader_main, NULL) == 0;
	if (run.reloader_started)
		pthread_setname_np(run.reloader, "ddi-reload");

	dp_shared_clock_init(&sh);
	if (!run.o.no_cookies) {
		sh.cookies = &run.cookies;
		/* shared secrets (a file) change by reload only; 0: the lcore never rotates */
		if (!run.o.cookie_nsecrets)
			sh.cookie_rotate_tsc =
			        (uint64_t)run.o.cookie_lifetime_h * 3600 * 1000 * sh.tsc_per_ms;
	}

	unsigned lcore, w = 0;
	RTE_LCORE_FOREACH_WORKER(lcore) {
		workers[w].sh = &sh;
		workers[w].queue = (uint16_t)w;
		rte_eal_remote_launch(dp_worker_main, &workers[w], lcore);
		w++;
	}
	dp_phase(&run.ph, "signals and workers");
	dp_phases_log(&run.ph);
	dp_first_answer_start(&run.first, run.ph.t0);
	run.started = time(NULL);
	struct dp_notify *notify = NULL;
	int nrc = dp_notify_start(&notify, health_all, NULL);
	if (nrc < 0)
		ddi_log(LOG_SUB_DATAPLANE, LOG_LVL_WARNING, NULL, "no systemd notification thread: %s",
		        ddi_strerror(nrc));
	ddi_log(LOG_SUB_DATAPLANE, LOG_LVL_NOTICE, NULL, "ready: %u worker(s), %u port(s), UDP size "
	        "%u, control socket %s%s%s", run.nworkers, sh.nports, run.aconf.udp_max, run.csock ? run.o.control : "(none)",
	       run.mx ? ", metrics http://" : "", run.mx ? run.o.metrics : "");

	dp_control_loop(&sh);

	dp_notify_stop(notify);
	if (run.reloader_started)
		pthread_join(run.reloader, NULL);
	ddi_log(LOG_SUB_DATAPLANE, LOG_LVL_NOTICE, NULL, "stopping");
	rte_eal_mp_wait_lcore();
}

/*
 * Everything a step made, in reverse. Threads first, each before what it
 * uses: the TCP server submits to the DDNS thread, which wakes the control
 * thread; the rings are drained once no thread uses them.
 */
static void teardown(void)
{
	dp_first_answer_stop(&run.first);
	steer_restore();
	metrics_stop(run.mx);
	http_stop(run.api);
	qlog_teardown();
	ctlsock_stop(run.csock);
	if (run.tcp) {
		struct tcp_stats ts;
		tcp_server_stats(run.tcp, &ts);
		tcp_server_stop(run.tcp);
		printf("TCP: %llu connections (refused: %llu at the total limit, %llu at the client "
		       "limit), %llu answers, %llu closed idle\n",
		       (unsigned long long)ts.accepted, (unsigned long long)ts.refused_total_limit,
		       (unsigned long long)ts.refused_client_limit, (unsigned long long)ts.queries,
		       (unsigned long long)ts.idle_closed);
	}
	life_thread_stop(run.life);
	xfr_notifier_stop(run.notifier);
	xfr_out_free(run.xfr);
	ddns_thread_stop(run.ddns);
	gss_server_free(run.gss);
	xfr_secondary_stop(run.secondary);
	ctl_stop(run.ctl);
	ctl_access_free(run.access);
	dp_ddns_rings_drain(&sh);
	rte_ring_free(sh.ctl_ring);
	rte_ring_free(sh.ddns_ring);
	rte_ring_free(sh.ddns_ret);
	for (unsigned k = 0; k < run.nworkers; k++)
		rte_ring_free(sh.to_worker[k]);
	for (unsigned i = 0; i < run.nready; i++) {
		struct dp_port *p = &sh.ports[i];
		rte_eth_dev_stop(p->port_id);
		rte_eth_dev_close(p->port_id);
		if (p->tap_name[0]) {
			char name[32];
			snprintf(name, sizeof(name), "net_tap_ddi%u", i);
			rte_eth_dev_stop(p->tap_id);
			rte_eth_dev_close(p->tap_id);
			rte_eal_hotplug_remove("vdev", name);
		}
	}
	if (run.mp)
		dp_counters_print(stdout);
	for (unsigned l = 0; l < DP_MAX_LCORES; l++)
		rrl_free(sh.lcore[l].rrl);
	store_close(run.st);
	store_server_release(run.claim - 1);
	dp_options_free(&run.o);
	idx_free(run.idx);
	rte_eal_cleanup();
}

/* EAL failed: the load is waited for, what it opened closed. */
static void teardown_before_eal(void)
{
	dp_loader_join(&run.loader, &run.ph);
	store_close(run.loader.st);
	store_server_release(run.loader.claim_fd);
	idx_free(run.idx);
	dp_options_free(&run.o);
}

int main(int argc, char **argv)
{
	setvbuf(stdout, NULL, _IOLBF, 0);
	if (want_help(argc, argv)) {
		dp_options_usage(stdout, "ddiplane");
		return 0;
	}
	dp_phases_init(&run.ph);
	if (step_options(argc, argv) < 0) {
		dp_options_free(&run.o);
		return 2;
	}
	if (step_store_start() < 0) {
		dp_options_free(&run.o);
		return 1;
	}
	dp_phase(&run.ph, "options");
	if (step_eal(argc, argv) < 0) {
		teardown_before_eal();
		return 1;
	}
	dp_phase(&run.ph, "eal");
	int rc = step_lcores();
	if (rc == 0 && step_ports() == 0 && step_rrl() == 0 && step_rings() == 0 &&
	    step_store_join() == 0 && step_threads() == 0) {
		step_run();
		rc = 0;
	} else {
		rc = 1;
	}
	if (run.loader.started)
		step_store_join();   /* a step failed before the join: the loader still owns run.st */
	teardown();
	return rc;
}
