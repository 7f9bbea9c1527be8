/* ctl -- the control thread: journal follower, copy-on-write apply, publish, batching */
#include <errno.h>
#include <poll.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/eventfd.h>
#include <time.h>
#include <unistd.h>

#include <urcu-qsbr.h>

#include "control/follow/follow.h"
#include "control/log.h"
#include "control/store/store.h"
#include "dns/errcode.h"
#include "dns/rdata.h"
#include "index/snapshot.h"

const double ctl_lat_bounds_us[CTL_LAT_BUCKETS - 1] = {
	50, 100, 250, 500, 1000, 2500, 5000, 10000, 25000, 50000, 100000,
};

struct ctl {
	struct ctl_conf conf;
	pthread_t thread;
	int wake_fd;               /* eventfd: ctl_wake() */
	int pub_fd;                /* eventfd: written after each publish */
	volatile bool quit;
	bool started;
	uint64_t last_log_ns;      /* rate limit of repeated follow errors */

	pthread_mutex_t lock;      /* stats and the published seq for waiters */
	pthread_cond_t cond;
	struct ctl_stats st;
	uint64_t pub_seq;          /* atomic reads too */
};

static uint64_t now_ns(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000000u + (uint64_t)ts.tv_nsec;
}

/* ------------------------------------------------------------------------ */
/* Apply: store_follow callbacks into one idx_txn                           */
/* ------------------------------------------------------------------------ */

struct apply {
	struct ctl *c;
	struct idx_txn *t;
	uint64_t entries, rrsets;
	int fatal;                 /* DDI_ENOMEM/DDI_ELIMIT from the index: abort the txn */
	FILE *log;                 /* "actor\tline\n" per entry, logged once published (NULL: off) */
	char *logbuf;
	size_t loglen;
};

static void log_skip(struct apply *a, const char *what, const uint8_t *name, uint16_t type, int rc)
{
	char nb[DNS_NAME_STRLEN];
	if (a->c->conf.quiet)
		return;
	if (dns_name_to_str(nb, sizeof(nb), name) < 0)
		snprintf(nb, sizeof(nb), "?");
	ddi_log(LOG_SUB_FOLLOW, LOG_LVL_ERR, NULL, "%s %s %s not applied to the index: %s", what, nb,
	        type ? dns_type_name(type) : "", ddi_strerror(rc));
}

static int apply_zone(void *ctx, const uint8_t *apex, bool exists)
{
	struct apply *a = ctx;
	/*
	 * A zone-level entry replaces the zone's whole content: drop every name
	 * of it from the index (names the store no longer holds go too), then
	 * the store's content follows through apply_rrset. Deeper zones are not
	 * touched by idx_txn_zone_del.
	 */
	int rc = idx_txn_zone_del(a->t, apex);
	if (rc == DDI_ENOMEM || rc == DDI_ELIMIT)
		return a->fatal = rc;
	if (!exists)
		return 0;
	rc = idx_txn_zone_add(a->t, apex);
	if (rc == DDI_ENOMEM || rc == DDI_ELIMIT)
		return a->fatal = rc;
	if (rc != 0 && rc != DDI_EEXIST)
		log_skip(a, "zone", apex, 0, rc);
	return 0;
}

static int apply_rrset(void *ctx, const uint8_t *owner, uint16_t type, uint32_t ttl,
                       uint16_t count, const uint8_t *rdatas, size_t len)
{
	struct apply *a = ctx;
	int rc = idx_txn_rrset_set(a->t, owner, type, ttl, count, rdatas, len);
	if (rc == DDI_ENOMEM || rc == DDI_ELIMIT)
		return a->fatal = rc;
	a->rrsets++;
	/* Deleting under a zone that a later entry of the batch removed is no error. */
	if (rc != 0 && !(count == 0 && (rc == DDI_EOUTZONE || rc == DDI_ENOZONE ||
	                                rc == DDI_ENOENT)))
		log_skip(a, "RRset", owner, type, rc);
	return 0;
}

/* At most this many ops of one entry are named in its log line; the rest are counted. */
#define LOG_OPS_MAX 3

static int apply_entry(void *ctx, const struct store_journal_entry *e)
{
	struct apply *a = ctx;
	a->entries++;
	if (!a->log)
		return 0;
	/* every change, with who made it: written after the publish, never before it */
	fprintf(a->log, "%s\tchange %llu:", e->actor[0] ? e->actor : "?", (unsigned long long)e->seq);
	for (size_t i = 0; i < e->nops && i < LOG_OPS_MAX; i++) {
		const struct store_journal_op *o = &e->ops[i];
		char nb[DNS_NAME_STRLEN];
		if (dns_name_to_str(nb, sizeof(nb), o->owner[0] ? o->owner : o->zone) < 0)
			snprintf(nb, sizeof(nb), "?");
		fprintf(a->log, "%s %s %s%s%s %llu->%llu", i ? "," : "", store_jop_name(o->op), nb,
		        o->type ? " " : "", o->type ? dns_type_name(o->type) : "",
		        (unsigned long long)o->old_count, (unsigned long long)o->new_count);
	}
	if (e->nops > LOG_OPS_MAX)
		fprintf(a->log, " (+%zu ops)", e->nops - LOG_OPS_MAX);
	if (e->nops == 0)
		fprintf(a->log, " a note, no data changed");
	fputc('\n', a->log);
	return 0;
}

/* The entries of a published batch, one log line each (follow subsystem, info). */
static void log_changes(struct apply *a)
{
	if (!a->log)
		return;
	fclose(a->log);
	a->log = NULL;
	ddi_log_hold(true);
	for (char *line = a->logbuf, *nl; line && *line; line = nl + 1) {
		nl = strchr(line, '\n');
		if (!nl)
			break;
		*nl = 0;
		char *tab = strchr(line, '\t');
		if (tab) {
			*tab = 0;
			ddi_log(LOG_SUB_FOLLOW, LOG_LVL_INFO, line, "%s", tab + 1);
		}
	}
	ddi_log_hold(false);
	free(a->logbuf);
	a->logbuf = NULL;
}

static void lat_record(struct ctl_stats *st, uint64_t ns)
{
	double us = (double)ns / 1000.0;
	unsigned b = 0;
	while (b < CTL_LAT_BUCKETS - 1 && us > ctl_lat_bounds_us[b])
		b++;
	st->lat_buckets[b]++;
	st->lat_count++;
	st->lat_sum_us += us;
}

/* One batch: everything after the published seq, from one read transaction. 1 if published. */
static int follow_once(struct ctl *c, uint64_t store_seq)
{
	static const struct store_follow_ops ops = {
		.zone = apply_zone, .rrset = apply_rrset, .entry = apply_entry,
	};
	struct store_error err;
	struct apply a = { .c = c };
	uint64_t t0 = now_ns(), last = 0;
	uint64_t from = __atomic_load_n(&c->pub_seq, __ATOMIC_ACQUIRE) + 1;

	a.t = idx_txn_begin(c->conf.idx);
	if (!a.t)
		return DDI_ENOMEM;
	if (!c->conf.quiet && ddi_log_enabled(LOG_SUB_FOLLOW, LOG_LVL_INFO))
		a.log = open_memstream(&a.logbuf, &a.loglen);
	int rc = store_follow(c->conf.store, from, &ops, &a, &last, &err);
	if (rc == 0 && a.fatal)
		rc = a.fatal;
	if (rc != 0 || last < from) {
		idx_txn_abort(a.t);
		if (a.log)
			fclose(a.log);
		free(a.logbuf);
		/* A lasting store error repeats every retry: say it once per minute. */
		if (rc != 0 && !c->conf.quiet && t0 - c->last_log_ns > 60000000000ull) {
			c->last_log_ns = t0;
			ddi_log(LOG_SUB_FOLLOW, LOG_LVL_ERR, NULL, "following the journal from %llu: %s "
			        "(retrying)", (unsigned long long)from,
			        err.msg[0] ? err.msg : ddi_strerror(rc));
		}
		return rc;
	}
	rc = idx_txn_commit(a.t, last);
	uint64_t t1 = now_ns();
	pthread_mutex_lock(&c->lock);
	if (rc == 0) {
		__atomic_store_n(&c->pub_seq, last, __ATOMIC_RELEASE);
		c->st.published_seq = last;
		c->st.publishes++;
		c->st.entries += a.entries;
		c->st.rrsets += a.rrsets;
		if (a.entries > c->st.max_batch)
			c->st.max_batch = a.entries;
		if (store_seq > c->st.store_seq)
			c->st.store_seq = store_seq;
		if (last > c->st.store_seq)
			c->st.store_seq = last;
		c->st.generation++;
		lat_record(&c->st, t1 - t0);
		pthread_cond_broadcast(&c->cond);
	} else {
		c->st.errors++;
	}
	pthread_mutex_unlock(&c->lock);
	if (rc == 0) {
		uint64_t one = 1;
		if (write(c->pub_fd, &one, sizeof(one)) < 0) {
			/* EAGAIN: the counter is saturated, the reader is woken anyway */
		}
		log_changes(&a);
		return 1;
	}
	if (a.log)
		fclose(a.log);
	free(a.logbuf);
	return rc;
}

static void *ctl_main(void *arg)
{
	struct ctl *c = arg;
	unsigned poll_us = c->conf.poll_us ? c->conf.poll_us : CTL_POLL_US_DEFAULT;
	struct timespec ts = { .tv_sec = poll_us / 1000000, .tv_nsec = (long)(poll_us % 1000000) * 1000 };

	rcu_register_thread();
	idx_writer_claim(c->conf.idx);   /* from here on the one index writer (index/snapshot.h W0) */
	/* The published version is where we start. */
	const struct idx_version *v = idx_acquire(c->conf.idx);
	pthread_mutex_lock(&c->lock);
	c->pub_seq = idx_version_seq(v);
	c->st.published_seq = c->pub_seq;
	c->st.generation = idx_version_generation(v);
	c->started = true;
	pthread_cond_broadcast(&c->cond);
	pthread_mutex_unlock(&c->lock);
	rcu_thread_offline();
	while (!c->quit) {
		struct pollfd pfd = { .fd = c->wake_fd, .events = POLLIN };
		/* ppoll: sub-millisecond timeouts for the LMDB poll */
		int n = ppoll(&pfd, 1, &ts, NULL);
		if (n > 0) {
			uint64_t cnt;
			if (read(c->wake_fd, &cnt, sizeof(cnt)) < 0) {
				/* EAGAIN: another read drained it */
			}
		}
		if (c->quit)
			break;
		uint64_t seq = 0;
		struct store_error err;
		if (store_last_seq(c->conf.store, &seq, &err) != 0)
			continue;
		pthread_mutex_lock(&c->lock);
		if (seq > c->st.store_seq)
			c->st.store_seq = seq;
		pthread_mutex_unlock(&c->lock);
		if (seq <= __atomic_load_n(&c->pub_seq, __ATOMIC_ACQUIRE))
			continue;
		int rc = follow_once(c, seq);
		if (rc < 0) {
			pthread_mutex_lock(&c->lock);
			c->st.errors++;
			pthread_mutex_unlock(&c->lock);
			/* back off: a store error repeats; do not spin on it */
			struct timespec bo = { .tv_sec = 0, .tv_nsec = 100 * 1000 * 1000 };
			nanosleep(&bo, NULL);
		}
	}
	rcu_unregister_thread();
	return NULL;
}

int ctl_start(struct ctl **out, const struct ctl_conf *conf)
{
	struct ctl *c = calloc(1, sizeof(*c));
	if (!c)
		return DDI_ENOMEM;
	c->conf = *conf;
	c->wake_fd = eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC);
	c->pub_fd = eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC);
	if (c->wake_fd < 0 || c->pub_fd < 0) {
		int e = -errno;
		if (c->wake_fd >= 0)
			close(c->wake_fd);
		if (c->pub_fd >= 0)
			close(c->pub_fd);
		free(c);
		return e;
	}
	pthread_mutex_init(&c->lock, NULL);
	pthread_condattr_t ca;
	pthread_condattr_init(&ca);
	pthread_condattr_setclock(&ca, CLOCK_MONOTONIC);
	pthread_cond_init(&c->cond, &ca);
	pthread_condattr_destroy(&ca);

	uint64_t seq = 0;
	struct store_error err;
	store_last_seq(conf->store, &seq, &err);
	c->st.store_seq = seq;

	int rc = pthread_create(&c->thread, NULL, ctl_main, c);
	if (rc != 0) {
		close(c->wake_fd);
		close(c->pub_fd);
		pthread_mutex_destroy(&c->lock);
		pthread_cond_destroy(&c->cond);
		free(c);
		return -rc;
	}
	pthread_setname_np(c->thread, "ddi-ctl");
	/* The thread reads the published version's seq first: wait for it. */
	pthread_mutex_lock(&c->lock);
	while (!c->started)
		pthread_cond_wait(&c->cond, &c->lock);
	pthread_mutex_unlock(&c->lock);
	*out = c;
	return DDI_EOK;
}

void ctl_stop(struct ctl *c)
{
	if (!c)
		return;
	c->quit = true;
	ctl_wake(c);
	pthread_join(c->thread, NULL);
	close(c->wake_fd);
	close(c->pub_fd);
	pthread_mutex_destroy(&c->lock);
	pthread_cond_destroy(&c->cond);
	free(c);
}

void ctl_wake(struct ctl *c)
{
	uint64_t one = 1;
	if (write(c->wake_fd, &one, sizeof(one)) < 0) {
		/* EAGAIN: already pending */
	}
}

uint64_t ctl_published_seq(struct ctl *c)
{
	return __atomic_load_n(&c->pub_seq, __ATOMIC_ACQUIRE);
}

int ctl_wait_seq(struct ctl *c, uint64_t seq, unsigned timeout_ms)
{
	struct timespec dl;
	clock_gettime(CLOCK_MONOTONIC, &dl);
	dl.tv_sec += timeout_ms / 1000;
	dl.tv_nsec += (long)(timeout_ms % 1000) * 1000000;
	if (dl.tv_nsec >= 1000000000) {
		dl.tv_sec++;
		dl.tv_nsec -= 1000000000;
	}
	int rc = DDI_EOK;
	pthread_mutex_lock(&c->lock);
	while (c->pub_seq < seq) {
		if (pthread_cond_timedwait(&c->cond, &c->lock, &dl) == ETIMEDOUT) {
			rc = c->pub_seq < seq ? DDI_EAGAIN : DDI_EOK;
			break;
		}
	}
	pthread_mutex_unlock(&c->lock);
	return rc;
}

int ctl_publish_fd(struct ctl *c)
{
	return c->pub_fd;
}

void ctl_get_stats(struct ctl *c, struct ctl_stats *st)
{
	pthread_mutex_lock(&c->lock);
	*st = c->st;
	pthread_mutex_unlock(&c->lock);
}
