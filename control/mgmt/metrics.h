/* metrics -- Prometheus text exposition of ddiplane's counters over HTTP (libmicrohttpd) */
#ifndef DDI_CONTROL_METRICS_H
#define DDI_CONTROL_METRICS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

struct ctl;
struct metrics;

/*
 * GET /health answers 200 "ok ..." when the server answers from a current
 * snapshot and 503 "unhealthy: REASON" otherwise (for load balancers and
 * monitoring): the daemon's `health` hook says whether every worker runs,
 * and the control thread must not lag behind the store for longer than
 * METRICS_HEALTH_LAG_NS (a lag that lasts means the published index no
 * longer follows what was committed).
 *
 * GET /metrics answers text/plain; version=0.0.4 (the Prometheus text
 * format): every series is prefixed "ddiplane_". Any other path is 404,
 * any other method 405. The HTTP server runs in libmicrohttpd's own
 * thread; `write` is called from there for each scrape and must only read
 * (relaxed loads of counters, a mutex-protected copy of the control
 * thread's stats).
 */
typedef void (*metrics_write_fn)(void *ctx, FILE *out);

/* True when every worker runs; otherwise false with the reason in `why`. */
typedef bool (*metrics_health_fn)(void *ctx, char *why, size_t len);

#define METRICS_HEALTH_LAG_NS (5 * 1000000000LL)   /* the follower may lag this long */

struct metrics_conf {
	const char *listen;          /* "127.0.0.1:9153", "[::1]:9153" */
	metrics_write_fn write;      /* the daemon's series (dataplane counters) */
	void *ctx;
	struct ctl *ctl;             /* snapshot, journal and publish series; may be NULL */
	metrics_health_fn health;    /* NULL: the workers are not checked */
};

/*
 * The follower's part of /health, a pure function for the tests: `st` the
 * control thread's counters now, `*caught_up_ns` the last time (ns, any
 * monotonic clock) it was seen with no lag, updated here. Returns true when
 * healthy; else false and the reason in `why`.
 */
struct ctl_stats;
bool metrics_follower_healthy(const struct ctl_stats *st, int64_t now_ns, int64_t *caught_up_ns,
                              char *why, size_t len);

/* Start serving. Errors: DDI_EINVAL (listen address; message in err), DDI_EIO (bind). */
int metrics_start(struct metrics **out, const struct metrics_conf *conf, char *err, size_t errlen);

void metrics_stop(struct metrics *m);

/* The control thread's series: generation, journal seq and lag, publish latency histogram. */
void metrics_write_ctl(FILE *out, struct ctl *c);

/* Parse "IP:PORT" / "[IPv6]:PORT" into a sockaddr_storage; 0 or -1. */
struct sockaddr_storage;
int metrics_parse_addr(const char *s, struct sockaddr_storage *ss);

#endif
