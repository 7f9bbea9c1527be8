/* sdnotify -- systemd readiness and watchdog through sd_notify(3) (dataplane/sdnotify.h) */
#include <errno.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <time.h>

#include <systemd/sd-daemon.h>

#include "dataplane/sdnotify.h"
#include "dns/errcode.h"

#define READY_POLL_NS 20000000L   /* how often readiness is looked at before READY=1 */

struct dp_notify {
	pthread_t thread;
	atomic_bool quit;
	dp_health_fn healthy;
	void *ctx;
	uint64_t watchdog_us;        /* 0: no watchdog */
};

static void nap(long ns)
{
	struct timespec ts = { ns / 1000000000L, ns % 1000000000L };
	while (nanosleep(&ts, &ts) != 0 && errno == EINTR)
		;
}

static void *notify_main(void *arg)
{
	struct dp_notify *n = arg;
	char why[256] = "";
	/* READY=1 only once the server answers: systemd orders dependent units after it */
	while (!atomic_load(&n->quit) && !n->healthy(n->ctx, why, sizeof(why)))
		nap(READY_POLL_NS);
	if (atomic_load(&n->quit))
		return NULL;
	sd_notify(0, "READY=1\nSTATUS=answering");
	if (!n->watchdog_us)
		return NULL;
	/* half the period (sd_watchdog_enabled(3)), in short naps so that stop is prompt */
	long period_ns = (long)(n->watchdog_us * 1000 / 2);
	bool was_ok = true;
	while (!atomic_load(&n->quit)) {
		for (long slept = 0; slept < period_ns && !atomic_load(&n->quit); slept += READY_POLL_NS)
			nap(READY_POLL_NS);
		if (atomic_load(&n->quit))
			break;
		bool ok = n->healthy(n->ctx, why, sizeof(why));
		if (ok)
			sd_notify(0, was_ok ? "WATCHDOG=1" : "WATCHDOG=1\nSTATUS=answering");
		else   /* no ping: if it lasts a whole period systemd restarts the server */
			sd_notifyf(0, "STATUS=unhealthy: %s", why);
		was_ok = ok;
	}
	return NULL;
}

int dp_notify_start(struct dp_notify **out, dp_health_fn healthy, void *ctx)
{
	*out = NULL;
	if (!getenv("NOTIFY_SOCKET"))
		return DDI_EOK;
	struct dp_notify *n = calloc(1, sizeof(*n));
	if (!n)
		return DDI_ENOMEM;
	n->healthy = healthy;
	n->ctx = ctx;
	uint64_t usec = 0;
	if (sd_watchdog_enabled(0, &usec) > 0)
		n->watchdog_us = usec;
	int rc = pthread_create(&n->thread, NULL, notify_main, n);
	if (rc) {
		free(n);
		return -rc;
	}
	pthread_setname_np(n->thread, "ddi-notify");
	*out = n;
	return DDI_EOK;
}

void dp_notify_stop(struct dp_notify *n)
{
	if (!n)
		return;
	sd_notify(0, "STOPPING=1");
	atomic_store(&n->quit, true);
	pthread_join(n->thread, NULL);
	free(n);
}
