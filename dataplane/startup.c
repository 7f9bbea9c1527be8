/* startup -- ddiplane's start: the store loaded in a thread beside EAL and the ports, and the phase log */
#include <inttypes.h>
#include <malloc.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include <time.h>

#include "control/log.h"
#include "dataplane/counters.h"
#include "dataplane/startup.h"
#include "dns/errcode.h"

static uint64_t mono_ns(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000000u + (uint64_t)ts.tv_nsec;
}

static void add(struct dp_phases *p, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static void add(struct dp_phases *p, const char *fmt, ...)
{
	va_list ap;
	if (p->len >= sizeof(p->text) - 1)
		return;
	va_start(ap, fmt);
	int n = vsnprintf(p->text + p->len, sizeof(p->text) - p->len, fmt, ap);
	va_end(ap);
	if (n > 0)
		p->len += (size_t)n < sizeof(p->text) - p->len ? (size_t)n : sizeof(p->text) - 1 - p->len;
}

void dp_phases_init(struct dp_phases *p)
{
	memset(p, 0, sizeof(*p));
	p->t0 = p->last = mono_ns();
}

void dp_phase(struct dp_phases *p, const char *name)
{
	uint64_t now = mono_ns();
	add(p, "%s%s %" PRIu64 " ms", p->len ? ", " : "", name, (now - p->last) / 1000000);
	p->last = now;
}

void dp_phases_log(const struct dp_phases *p)
{
	ddi_log(LOG_SUB_DATAPLANE, LOG_LVL_INFO, NULL, "start-up: %s; workers answering %" PRIu64
	        " ms after start", p->text, (mono_ns() - p->t0) / 1000000);
}

char **dp_own_args(int argc, char **argv, int *n)
{
	static char *own[DP_OWN_ARGS_MAX + 2];
	int i = 1, k = 0;
	while (i < argc && strcmp(argv[i], "--") != 0)
		i++;
	own[k++] = argv[0];
	for (i++; i < argc; i++) {
		if (k == DP_OWN_ARGS_MAX + 1)
			return NULL;
		own[k++] = argv[i];
	}
	own[k] = NULL;
	*n = k;
	return own;
}

/* ------------------------------------------------------------------------ */
/* The loader                                                               */
/* ------------------------------------------------------------------------ */

static void load(struct dp_loader *l)
{
	struct store_error err;
	uint64_t t = mono_ns();
	int rc = store_open(&l->st, l->db, NULL, &err);
	l->open_ns = mono_ns() - t;
	if (rc == DDI_ENOENT) {
		snprintf(l->msg, sizeof(l->msg),
		         "no database in '%s': %s\n"
		         "  create one with: build/ddictl --db %s zone import ORIGIN ZONEFILE\n"
		         "  (scripts/run.sh creates the default one from share/)",
		         l->db, err.msg[0] ? err.msg : ddi_strerror(rc), l->db);
		goto out;
	}
	if (rc < 0) {
		snprintf(l->msg, sizeof(l->msg), "cannot open the database '%s': %s", l->db,
		         err.msg[0] ? err.msg : ddi_strerror(rc));
		goto out;
	}
	/* one server per store: a second one, or a restore over it, is refused while this runs */
	if ((rc = store_server_claim(l->db, &l->claim_fd, &err)) != DDI_EOK) {
		l->claim_fd = -1;
		snprintf(l->msg, sizeof(l->msg), "%s", err.msg);
		goto out;
	}
	t = mono_ns();
	rc = store_load_index_stats(l->st, l->ix, &l->seq, &l->stats, &err);
	l->load_ns = mono_ns() - t;
	if (rc < 0) {
		snprintf(l->msg, sizeof(l->msg), "cannot load the database '%s': %s", l->db,
		         err.msg[0] ? err.msg : ddi_strerror(rc));
		goto out;
	}
	/* the bulk load's scratch (its sorted node list, grown by doubling) is
	 * freed: give the heap's free pages back rather than keep them resident */
	t = mono_ns();
	malloc_trim(0);
	l->trim_ns = mono_ns() - t;
out:
	l->rc = rc;
	l->end_ns = mono_ns() - l->t0;
}

static void *loader_main(void *arg)
{
	load(arg);
	return NULL;
}

void dp_loader_start(struct dp_loader *l, const char *db, struct idx *ix, uint64_t t0)
{
	memset(l, 0, sizeof(*l));
	l->db = db;
	l->ix = ix;
	l->t0 = t0;
	l->claim_fd = -1;
	l->started = pthread_create(&l->th, NULL, loader_main, l) == 0;
	if (l->started)
		pthread_setname_np(l->th, "ddi-load");
	else
		load(l);
}

/* "1234567" as "1,234,567" */
static const char *thousands(char *buf, size_t len, uint64_t v)
{
	char d[24];
	int n = snprintf(d, sizeof(d), "%" PRIu64, v);
	size_t o = 0;
	for (int i = 0; i < n && o + 2 < len; i++) {
		if (i > 0 && (n - i) % 3 == 0)
			buf[o++] = ',';
		buf[o++] = d[i];
	}
	buf[o] = 0;
	return buf;
}

int dp_loader_join(struct dp_loader *l, struct dp_phases *p)
{
	char a[32], b[32];
	uint64_t t = mono_ns();
	if (l->started)
		pthread_join(l->th, NULL);
	l->started = false;
	uint64_t waited = mono_ns() - t;
	const struct store_load_stats *s = &l->stats;
	add(p, "; store (beside them) open %" PRIu64 " ms, index %" PRIu64 " ms (%s RRsets, %s "
	    "records, %" PRIu64 " zones: read and insert %" PRIu64 " ms, build %" PRIu64
	    " ms, publish %" PRIu64 " ms), LMDB map pages released %" PRIu64 " MiB, heap trim %"
	    PRIu64 " ms, done at %" PRIu64 " ms, waited %" PRIu64 " ms for it",
	    l->open_ns / 1000000, l->load_ns / 1000000, thousands(a, sizeof(a), s->rrsets),
	    thousands(b, sizeof(b), s->rrs), s->zones, s->scan_ns / 1000000, s->build_ns / 1000000,
	    s->publish_ns / 1000000, s->released_kb / 1024, l->trim_ns / 1000000, l->end_ns / 1000000, waited / 1000000);
	p->last = mono_ns();
	if (l->rc < 0)
		fprintf(stderr, "ddiplane: %s\n", l->msg);
	else
		ddi_log(LOG_SUB_DATAPLANE, LOG_LVL_NOTICE, NULL, "database %s loaded at journal seq %"
		        PRIu64, l->db, l->seq);
	return l->rc;
}

/* ------------------------------------------------------------------------ */
/* The first answer                                                         */
/* ------------------------------------------------------------------------ */

/* Answers sent so far, every rcode (the outcomes a worker answers with). */
static uint64_t answered(void)
{
	uint64_t n = 0;
	for (unsigned l = 0; l < DP_MAX_LCORES; l++)
		for (unsigned o = DP_OUT_NOERROR; o <= DP_OUT_BADVERS; o++)
			n += __atomic_load_n(&dp_counters[l].v[o], __ATOMIC_RELAXED);
	return n;
}

static void *first_main(void *arg)
{
	struct dp_first_answer *f = arg;
	const struct timespec ms = { .tv_sec = 0, .tv_nsec = 1000000 };
	/* bounded: a server nobody asks stops looking after the wait */
	for (unsigned i = 0; i < DP_FIRST_ANSWER_WAIT_S * 1000u; i++) {
		if (__atomic_load_n(&f->stop, __ATOMIC_ACQUIRE))
			return NULL;
		if (answered() > 0) {
			ddi_log(LOG_SUB_DATAPLANE, LOG_LVL_INFO, NULL,
			        "start-up: first answer %" PRIu64 " ms after start",
			        (mono_ns() - f->t0) / 1000000);
			return NULL;
		}
		nanosleep(&ms, NULL);
	}
	return NULL;
}

void dp_first_answer_start(struct dp_first_answer *f, uint64_t t0)
{
	f->t0 = t0;
	f->stop = false;
	f->started = pthread_create(&f->th, NULL, first_main, f) == 0;
	if (f->started)
		pthread_setname_np(f->th, "ddi-first");
}

void dp_first_answer_stop(struct dp_first_answer *f)
{
	if (!f->started)
		return;
	__atomic_store_n(&f->stop, true, __ATOMIC_RELEASE);
	pthread_join(f->th, NULL);
	f->started = false;
}
