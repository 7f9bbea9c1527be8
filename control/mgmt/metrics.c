/* metrics -- /metrics over HTTP with libmicrohttpd, in the Prometheus text format */
#include <arpa/inet.h>
#include <stdio.h>
#include <errno.h>
#include <inttypes.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>

#include <microhttpd.h>

#include "control/follow/follow.h"
#include "control/mgmt/metrics.h"
#include "dns/errcode.h"

struct metrics {
	struct metrics_conf conf;
	struct MHD_Daemon *d;
	int64_t caught_up_ns;        /* /health: the follower was last seen without lag */
};

static enum MHD_Result send_text(struct MHD_Connection *conn, unsigned status, char *text,
                                 size_t len);

static int64_t mono_ns(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (int64_t)ts.tv_sec * 1000000000LL + ts.tv_nsec;
}

bool metrics_follower_healthy(const struct ctl_stats *st, int64_t now_ns, int64_t *caught_up_ns,
                              char *why, size_t len)
{
	if (st->published_seq >= st->store_seq) {
		*caught_up_ns = now_ns;
		return true;
	}
	int64_t behind = now_ns - *caught_up_ns;
	if (behind <= METRICS_HEALTH_LAG_NS)
		return true;   /* catching up: a burst of commits is applied in one publish */
	snprintf(why, len, "the published index is %" PRIu64 " journal entries behind the store "
	         "for %.1f s (%" PRIu64 " follow errors)", st->store_seq - st->published_seq,
	         (double)behind / 1e9, st->errors);
	return false;
}

/* GET /health: 200 or 503 with one line. */
static enum MHD_Result health(struct metrics *m, struct MHD_Connection *conn)
{
	char why[256] = "", *text = NULL;
	bool ok = !m->conf.health || m->conf.health(m->conf.ctx, why, sizeof(why));
	struct ctl_stats st = { 0 };
	if (ok && m->conf.ctl) {
		ctl_get_stats(m->conf.ctl, &st);
		ok = metrics_follower_healthy(&st, mono_ns(), &m->caught_up_ns, why, sizeof(why));
	}
	int n = ok ? asprintf(&text, "ok: generation %" PRIu64 ", journal seq %" PRIu64 "\n",
	                      st.generation, st.published_seq)
	           : asprintf(&text, "unhealthy: %s\n", why);
	if (n < 0)
		return MHD_NO;
	return send_text(conn, ok ? MHD_HTTP_OK : MHD_HTTP_SERVICE_UNAVAILABLE, text, (size_t)n);
}

int metrics_parse_addr(const char *s, struct sockaddr_storage *ss)
{
	char host[INET6_ADDRSTRLEN + 2];
	const char *colon;
	memset(ss, 0, sizeof(*ss));
	if (s[0] == '[') {
		const char *end = strchr(s, ']');
		if (!end || end[1] != ':' || (size_t)(end - s - 1) >= sizeof(host))
			return -1;
		memcpy(host, s + 1, (size_t)(end - s - 1));
		host[end - s - 1] = '\0';
		colon = end + 1;
	} else {
		colon = strrchr(s, ':');
		if (!colon || (size_t)(colon - s) >= sizeof(host))
			return -1;
		memcpy(host, s, (size_t)(colon - s));
		host[colon - s] = '\0';
	}
	char *pe;
	errno = 0;
	unsigned long port = strtoul(colon + 1, &pe, 10);
	if (!colon[1] || *pe || errno || port == 0 || port > 65535)
		return -1;
	struct sockaddr_in *s4 = (struct sockaddr_in *)ss;
	struct sockaddr_in6 *s6 = (struct sockaddr_in6 *)ss;
	if (inet_pton(AF_INET, host, &s4->sin_addr) == 1) {
		s4->sin_family = AF_INET;
		s4->sin_port = htons((uint16_t)port);
		return 0;
	}
	if (inet_pton(AF_INET6, host, &s6->sin6_addr) == 1) {
		s6->sin6_family = AF_INET6;
		s6->sin6_port = htons((uint16_t)port);
		return 0;
	}
	return -1;
}

void metrics_write_ctl(FILE *out, struct ctl *c)
{
	struct ctl_stats st;
	ctl_get_stats(c, &st);
	fprintf(out,
	        "# HELP ddiplane_snapshot_generation Generation of the published index version.\n"
	        "# TYPE ddiplane_snapshot_generation gauge\n"
	        "ddiplane_snapshot_generation %" PRIu64 "\n"
	        "# HELP ddiplane_journal_published_seq Journal sequence the published version reflects.\n"
	        "# TYPE ddiplane_journal_published_seq gauge\n"
	        "ddiplane_journal_published_seq %" PRIu64 "\n"
	        "# HELP ddiplane_journal_store_seq Last journal sequence seen in the store.\n"
	        "# TYPE ddiplane_journal_store_seq gauge\n"
	        "ddiplane_journal_store_seq %" PRIu64 "\n"
	        "# HELP ddiplane_journal_lag Journal entries committed but not yet published.\n"
	        "# TYPE ddiplane_journal_lag gauge\n"
	        "ddiplane_journal_lag %" PRIu64 "\n"
	        "# HELP ddiplane_publishes_total Index versions published by the control thread.\n"
	        "# TYPE ddiplane_publishes_total counter\n"
	        "ddiplane_publishes_total %" PRIu64 "\n"
	        "# HELP ddiplane_journal_entries_applied_total Journal entries applied to the index.\n"
	        "# TYPE ddiplane_journal_entries_applied_total counter\n"
	        "ddiplane_journal_entries_applied_total %" PRIu64 "\n"
	        "# HELP ddiplane_rrsets_applied_total RRsets written into the index by the follower.\n"
	        "# TYPE ddiplane_rrsets_applied_total counter\n"
	        "ddiplane_rrsets_applied_total %" PRIu64 "\n"
	        "# HELP ddiplane_follow_errors_total Failed follow or apply attempts (retried).\n"
	        "# TYPE ddiplane_follow_errors_total counter\n"
	        "ddiplane_follow_errors_total %" PRIu64 "\n"
	        "# HELP ddiplane_publish_latency_seconds From the journal read to the published pointer.\n"
	        "# TYPE ddiplane_publish_latency_seconds histogram\n",
	        st.generation, st.published_seq, st.store_seq,
	        st.store_seq > st.published_seq ? st.store_seq - st.published_seq : 0, st.publishes,
	        st.entries, st.rrsets, st.errors);
	uint64_t cum = 0;
	for (unsigned b = 0; b < CTL_LAT_BUCKETS; b++) {
		cum += st.lat_buckets[b];
		if (b < CTL_LAT_BUCKETS - 1)
			fprintf(out, "ddiplane_publish_latency_seconds_bucket{le=\"%g\"} %" PRIu64 "\n",
			        ctl_lat_bounds_us[b] / 1e6, cum);
		else
			fprintf(out, "ddiplane_publish_latency_seconds_bucket{le=\"+Inf\"} %" PRIu64 "\n",
			        cum);
	}
	fprintf(out, "ddiplane_publish_latency_seconds_sum %.9f\n"
	        "ddiplane_publish_latency_seconds_count %" PRIu64 "\n", st.lat_sum_us / 1e6,
	        st.lat_count);
}

static enum MHD_Result send_text(struct MHD_Connection *conn, unsigned status, char *text,
                                 size_t len)
{
	struct MHD_Response *r = MHD_create_response_from_buffer(len, text, MHD_RESPMEM_MUST_FREE);
	if (!r) {
		free(text);
		return MHD_NO;
	}
	MHD_add_response_header(r, "Content-Type", "text/plain; version=0.0.4; charset=utf-8");
	enum MHD_Result ret = MHD_queue_response(conn, status, r);
	MHD_destroy_response(r);
	return ret;
}

static enum MHD_Result handler(void *cls, struct MHD_Connection *conn, const char *url,
                               const char *method, const char *version, const char *upload,
                               size_t *upload_size, void **con_cls)
{
	struct metrics *m = cls;
	(void)version;
	(void)upload;
	(void)con_cls;
	if (*upload_size)
		return MHD_NO;   /* no request bodies */
	if (strcmp(method, "GET") != 0 && strcmp(method, "HEAD") != 0)
		return send_text(conn, MHD_HTTP_METHOD_NOT_ALLOWED, strdup("GET /metrics\n"), 13);
	if (strcmp(url, "/health") == 0)
		return health(m, conn);
	if (strcmp(url, "/metrics") != 0)
		return send_text(conn, MHD_HTTP_NOT_FOUND, strdup("not found: try /metrics or /health\n"),
		                 35);
	char *buf = NULL;
	size_t len = 0;
	FILE *f = open_memstream(&buf, &len);
	if (!f)
		return MHD_NO;
	if (m->conf.write)
		m->conf.write(m->conf.ctx, f);
	if (m->conf.ctl)
		metrics_write_ctl(f, m->conf.ctl);
	if (fclose(f) != 0) {
		free(buf);
		return MHD_NO;
	}
	return send_text(conn, MHD_HTTP_OK, buf, len);
}

int metrics_start(struct metrics **out, const struct metrics_conf *conf, char *err, size_t errlen)
{
	struct sockaddr_storage ss;
	if (metrics_parse_addr(conf->listen, &ss) < 0) {
		snprintf(err, errlen, "--metrics '%s': give IP:PORT, e.g. 127.0.0.1:9153 or [::1]:9153",
		         conf->listen);
		return DDI_EINVAL;
	}
	struct metrics *m = calloc(1, sizeof(*m));
	if (!m)
		return DDI_ENOMEM;
	m->conf = *conf;
	m->caught_up_ns = mono_ns();
	unsigned flags = MHD_USE_INTERNAL_POLLING_THREAD | MHD_USE_ERROR_LOG;
	if (ss.ss_family == AF_INET6)
		flags |= MHD_USE_IPv6;
	uint16_t port = ss.ss_family == AF_INET6 ? ntohs(((struct sockaddr_in6 *)&ss)->sin6_port)
	                                         : ntohs(((struct sockaddr_in *)&ss)->sin_port);
	m->d = MHD_start_daemon(flags, port, NULL, NULL, handler, m, MHD_OPTION_SOCK_ADDR,
	                        (struct sockaddr *)&ss, MHD_OPTION_CONNECTION_LIMIT, 64u,
	                        MHD_OPTION_CONNECTION_TIMEOUT, 10u, MHD_OPTION_END);
	if (!m->d) {
		snprintf(err, errlen, "--metrics %s: cannot listen there (address in use, or not "
		         "local?)", conf->listen);
		free(m);
		return DDI_EIO;
	}
	*out = m;
	return DDI_EOK;
}

void metrics_stop(struct metrics *m)
{
	if (!m)
		return;
	MHD_stop_daemon(m->d);
	free(m);
}
