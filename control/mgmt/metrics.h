/* metrics -- Prometheus text exposition of ddiplane's counters over HTTP (libmicrohttpd) */
#ifndef DDI_CONTROL_METRICS_H
#define DDI_CONTROL_METRICS_H

#include <stdio.h>

struct ctl;
struct metrics;

/*
 * GET /metrics answers text/plain; version=0.0.4 (the Prometheus text
 * format): every series is prefixed "ddiplane_". Any other path is 404,
 * any other method 405. The HTTP server runs in libmicrohttpd's own
 * thread; `write` is called from there for each scrape and must only read
 * (relaxed loads of counters, a mutex-protected copy of the control
 * thread's stats).
 */
typedef void (*metrics_write_fn)(void *ctx, FILE *out);

struct metrics_conf {
	const char *listen;          /* "127.0.0.1:9153", "[::1]:9153" */
	metrics_write_fn write;      /* the daemon's series (dataplane counters) */
	void *ctx;
	struct ctl *ctl;             /* snapshot, journal and publish series; may be NULL */
};

/* Start serving. Errors: DDI_EINVAL (listen address; message in err), DDI_EIO (bind). */
int metrics_start(struct metrics **out, const struct metrics_conf *conf, char *err, size_t errlen);

void metrics_stop(struct metrics *m);

/* The control thread's series: generation, journal seq and lag, publish latency histogram. */
void metrics_write_ctl(FILE *out, struct ctl *c);

/* Parse "IP:PORT" / "[IPv6]:PORT" into a sockaddr_storage; 0 or -1. */
struct sockaddr_storage;
int metrics_parse_addr(const char *s, struct sockaddr_storage *ss);

#endif
