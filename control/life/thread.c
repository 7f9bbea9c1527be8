/* life/thread -- the control-plane thread that expires leases and scavenges zones on time */
#include <errno.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <time.h>
#include <unistd.h>

#include "control/life/life.h"
#include "control/log.h"
#include "dns/errcode.h"

/*
 * Never a worker: the workers only see the result, published by the
 * follower like any commit. Each tick sweeps what is due in batches of
 * `batch` RRsets; between two batches the store's write lock is free, so
 * dynamic updates and operators interleave with a large expiry instead
 * of waiting for all of it. Zones are checked for a due scavenge once a
 * second at most. The thread runs at nice 10 (LIFE_NICE): removing what
 * expired is background work that yields the control core to what a client
 * waits for (the DDNS thread, the follower, the control lcore).
 */
#define LIFE_NICE 10

struct life_thread {
	struct store *st;
	unsigned interval_ms;
	size_t batch;
	pthread_t thread;
	pthread_mutex_t mu;
	pthread_cond_t cv;
	bool stop;
	struct life_stats leases, scavenged;   /* under mu */
};

static int64_t now_ns(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_REALTIME, &ts);
	return (int64_t)ts.tv_sec * 1000000000 + ts.tv_nsec;
}

struct zones_due {
	struct life_thread *t;
	int64_t now;
	size_t n;
	uint8_t apex[64][DNS_NAME_MAXLEN];
};

static int zone_due(void *ctx, const struct store_zone_info *z)
{
	struct zones_due *d = ctx;
	struct store_aging a;
	if (store_aging_get(d->t->st, NULL, z->apex, &a, NULL) != DDI_EOK || a.period == 0 ||
	    d->now - a.last_scavenge_ns < (int64_t)a.period * 1000000000)
		return 0;
	memcpy(d->apex[d->n++], z->apex, dns_name_len(z->apex));
	return d->n == 64;   /* the rest next time */
}

static void tick(struct life_thread *t, int64_t *last_zones)
{
	struct store_error e = { 0 };
	struct life_stats st = { 0 };
	int64_t now = now_ns();
	int rc = life_lease_sweep(t->st, now, t->batch, 0, &st, &e);
	if (rc)
		ddi_log(LOG_SUB_STORE, LOG_LVL_ERR, LIFE_LEASE_ACTOR, "lease expiry: %s", e.msg[0] ? e.msg : ddi_strerror(rc));
	struct zones_due *d = NULL;
	struct life_stats sc = { 0 };
	if (now - *last_zones >= 1000000000 && (d = calloc(1, sizeof(*d))) != NULL) {
		*last_zones = now;
		d->t = t;
		d->now = now;
		store_zone_list(t->st, false, zone_due, d, NULL);
		for (size_t i = 0; i < d->n; i++) {
			rc = life_scavenge(t->st, d->apex[i], now, false, t->batch, NULL, NULL, &sc, &e);
			if (rc)
				ddi_log(LOG_SUB_STORE, LOG_LVL_ERR, LIFE_SCAVENGE_ACTOR, "scavenging: %s",
				        e.msg[0] ? e.msg : ddi_strerror(rc));
		}
		free(d);
	}
	if (st.rrsets || sc.rrsets)
		ddi_log(LOG_SUB_STORE, LOG_LVL_INFO, "life", "removed %llu leased and %llu scavenged RRsets",
		        (unsigned long long)st.rrsets, (unsigned long long)sc.rrsets);
	pthread_mutex_lock(&t->mu);
	t->leases.rrsets += st.rrsets;
	t->leases.allocations += st.allocations;
	t->leases.batches += st.batches;
	t->scavenged.rrsets += sc.rrsets;
	t->scavenged.allocations += sc.allocations;
	t->scavenged.batches += sc.batches;
	pthread_mutex_unlock(&t->mu);
}

static void *run(void *arg)
{
	struct life_thread *t = arg;
	int64_t last_zones = 0;
	/* Linux: a thread's nice value is its own (the tid as the "process"); failing is harmless */
	(void)setpriority(PRIO_PROCESS, (id_t)gettid(), LIFE_NICE);
	pthread_mutex_lock(&t->mu);
	while (!t->stop) {
		pthread_mutex_unlock(&t->mu);
		tick(t, &last_zones);
		pthread_mutex_lock(&t->mu);
		struct timespec ts;
		clock_gettime(CLOCK_REALTIME, &ts);
		ts.tv_sec += t->interval_ms / 1000;
		ts.tv_nsec += (long)(t->interval_ms % 1000) * 1000000;
		if (ts.tv_nsec >= 1000000000) {
			ts.tv_sec++;
			ts.tv_nsec -= 1000000000;
		}
		while (!t->stop && pthread_cond_timedwait(&t->cv, &t->mu, &ts) != ETIMEDOUT)
			;
	}
	pthread_mutex_unlock(&t->mu);
	return NULL;
}

int life_thread_start(struct life_thread **out, const struct life_thread_conf *c)
{
	struct life_thread *t = calloc(1, sizeof(*t));
	if (!t)
		return DDI_ENOMEM;
	t->st = c->store;
	t->interval_ms = c->interval_ms ? c->interval_ms : 1000;
	t->batch = c->batch ? c->batch : LIFE_BATCH_DEFAULT;
	pthread_mutex_init(&t->mu, NULL);
	pthread_cond_init(&t->cv, NULL);
	int rc = pthread_create(&t->thread, NULL, run, t);
	if (rc) {
		pthread_cond_destroy(&t->cv);
		pthread_mutex_destroy(&t->mu);
		free(t);
		return -rc;
	}
	pthread_setname_np(t->thread, "ddi-life");
	*out = t;
	return DDI_EOK;
}

void life_thread_stop(struct life_thread *t)
{
	if (!t)
		return;
	pthread_mutex_lock(&t->mu);
	t->stop = true;
	pthread_cond_signal(&t->cv);
	pthread_mutex_unlock(&t->mu);
	pthread_join(t->thread, NULL);
	pthread_cond_destroy(&t->cv);
	pthread_mutex_destroy(&t->mu);
	free(t);
}

void life_thread_stats(const struct life_thread *t, struct life_stats *leases,
                       struct life_stats *scavenged)
{
	memset(leases, 0, sizeof(*leases));
	memset(scavenged, 0, sizeof(*scavenged));
	if (!t)
		return;
	pthread_mutex_lock((pthread_mutex_t *)&t->mu);
	*leases = t->leases;
	*scavenged = t->scavenged;
	pthread_mutex_unlock((pthread_mutex_t *)&t->mu);
}
