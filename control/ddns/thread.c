/* thread -- the DDNS thread: takes UPDATE/NOTIFY bursts, serves each burst in one store batch, hands answers back */
#include <assert.h>
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

#include "control/ddns/gss.h"
#include "control/ddns/keys.h"
#include "control/ddns/policy.h"
#include "control/ddns/query.h"
#include "control/ddns/refusal.h"
#include "control/ddns/serve.h"
#include "control/follow/follow.h"
#include "control/log.h"
#include "control/ddns/thread.h"
#include "control/ddns/tkey.h"
#include "control/store/store.h"
#include "dns/errcode.h"
#include "dns/wire.h"

const char *const ddns_outcome_names[DDNS_OUT__COUNT] = {
	[DDNS_OUT_NOERROR] = "noerror",
	[DDNS_OUT_FORMERR] = "formerr",
	[DDNS_OUT_SERVFAIL] = "servfail",
	[DDNS_OUT_NXDOMAIN] = "nxdomain",
	[DDNS_OUT_NOTIMP] = "notimp",
	[DDNS_OUT_REFUSED] = "refused",
	[DDNS_OUT_YXDOMAIN] = "yxdomain",
	[DDNS_OUT_YXRRSET] = "yxrrset",
	[DDNS_OUT_NXRRSET] = "nxrrset",
	[DDNS_OUT_NOTAUTH] = "notauth",
	[DDNS_OUT_NOTZONE] = "notzone",
	[DDNS_OUT_OTHER_RCODE] = "other_rcode",
	[DDNS_OUT_NO_ANSWER] = "no_answer",
	[DDNS_OUT_UNCOMMITTED] = "uncommitted",
	[DDNS_OUT_GIVE_DROPPED] = "answer_ring_full",
	[DDNS_OUT_TCP_FULL] = "tcp_queue_full",
	[DDNS_OUT_UDP] = "udp",
	[DDNS_OUT_TCP] = "tcp",
	[DDNS_OUT_BATCHES] = "batches",
	[DDNS_OUT_UNBATCHED] = "unbatched",
	[DDNS_OUT_BATCH_FAILED] = "batch_failed",
	[DDNS_OUT_SQ_ANSWERED] = "signed_query_answered",
	[DDNS_OUT_SQ_TRUNCATED] = "signed_query_truncated",
	[DDNS_OUT_SQ_FORMERR] = "signed_query_formerr",
	[DDNS_OUT_SQ_BADKEY] = "signed_query_badkey",
	[DDNS_OUT_SQ_BADSIG] = "signed_query_badsig",
	[DDNS_OUT_SQ_BADTIME] = "signed_query_badtime",
	[DDNS_OUT_SQ_DROPPED] = "signed_query_dropped",
};

/* enum ddns_query_result -> its counter, in the same order */
static_assert(DDNS_OUT_SQ_DROPPED - DDNS_OUT_SQ_ANSWERED == DDNS_Q_DROPPED - DDNS_Q_ANSWERED &&
              DDNS_Q__COUNT == DDNS_Q_DROPPED + 1, "signed query outcomes map one to one");

/* A TCP submission: the submitter allocates it and frees it once `done`. */
struct job {
	struct ddns_msg m;
	uint8_t req[DNS_MSG_MAX];
	bool done;
	struct job *next;
	/* asynchronous (ddns_thread_submit_async): called once with the answer, then freed here */
	ddns_done_fn on_done;
	void *dctx;
	uint64_t tag;
};

struct ddns_thread {
	struct ddns_thread_conf conf;
	pthread_t thread;
	int wake_fd;                     /* eventfd: ddns_thread_kick */
	bool quit;                       /* __atomic */

	pthread_mutex_t lock;            /* guards the TCP queue and `done` of its jobs */
	pthread_cond_t done_cond;        /* a job finished (submitters wait on it) */
	struct job *head, **tail;        /* TCP submissions, oldest first */
	unsigned queued;                 /* jobs on the list or in the current burst */

	struct ddns_stats st;            /* written by the thread (and submitters for TCP_FULL), __atomic */
	struct ddns_refusals refusals;   /* the thread's alone; its counters are atomics */
	uint8_t copy[DNS_MSG_MAX];       /* the request while its answer overwrites it */
};

static uint64_t mono_ms(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000 + (uint64_t)ts.tv_nsec / 1000000;
}

static void count(struct ddns_thread *t, enum ddns_outcome o, uint64_t n)
{
	__atomic_fetch_add(&t->st.v[o], n, __ATOMIC_RELAXED);
}

static enum ddns_outcome outcome_of_answer(const struct ddns_msg *m)
{
	static const enum ddns_outcome by_rcode[] = {
		DDNS_OUT_NOERROR, DDNS_OUT_FORMERR, DDNS_OUT_SERVFAIL, DDNS_OUT_NXDOMAIN,
		DDNS_OUT_NOTIMP, DDNS_OUT_REFUSED, DDNS_OUT_YXDOMAIN, DDNS_OUT_YXRRSET,
		DDNS_OUT_NXRRSET, DDNS_OUT_NOTAUTH, DDNS_OUT_NOTZONE,
	};
	if (m->n < DNS_HDR_LEN)
		return DDNS_OUT_NO_ANSWER;
	unsigned rc = DNS_RCODE(dns_get16(m->resp + 2));
	return rc < sizeof(by_rcode) / sizeof(by_rcode[0]) ? by_rcode[rc] : DDNS_OUT_OTHER_RCODE;
}

/*
 * The one place that talks to the store: serve a burst as one group
 * commit (control/store/store.h store_batch_begin). Each update still
 * applies wholly or not at all; nothing is acknowledged before the sync.
 * Returns false when the batch did not commit: the answers must be dropped.
 * If the batch cannot begin, each update commits on its own (slower, still
 * durable before its answer).
 */
/* Keys for signed queries: GSS-TSIG contexts first, then the store's (read in the burst's batch). */
struct qkeys {
	struct ddns_thread *t;
	struct store_txn *batch;
};

static int query_key_lookup(void *ctx, const uint8_t *name, struct tsig_key *out)
{
	struct qkeys *k = ctx;
	struct store_error e;
	if (k->t->conf.gss != NULL && gss_lookup(k->t->conf.gss, name, out) == DDI_EOK)
		return DDI_EOK;
	int rc = ddns_key_get(k->t->conf.store, k->batch, name, out, &e);
	return rc == DDI_EOK ? DDI_EOK : DDI_ENOENT;
}

/* A QUERY (opcode 0, not TKEY) from the dataplane: a signed query for query.c. */
static bool is_query(const struct ddns_msg *m)
{
	return m->len >= DNS_HDR_LEN && DNS_OPCODE(dns_get16(m->req + 2)) == DNS_OP_QUERY;
}

/* One signed query of the burst, with the keys of `qk` (control/ddns/query.h). */
static void serve_query(struct ddns_thread *t, struct qkeys *qk, struct ddns_msg *m, uint64_t now)
{
	struct ddns_query_env qenv = { .idx = t->conf.source.idx, .answer = t->conf.source.answer,
	                               .lookup = query_key_lookup, .lookup_ctx = qk };
	enum ddns_query_result qr;
	int rc = ddns_query_serve(&qenv, t->copy, m->len, now, true, m->resp, m->cap, &qr);
	m->query = (uint8_t)(1 + qr);
	m->n = rc > 0 ? rc : 0;
}

/*
 * A burst of signed queries only (no UPDATE, NOTIFY, TKEY) opens no store
 * batch: a batch takes the store's write lock, which another process may
 * hold for seconds, and a query writes nothing. Each key is read in a read
 * transaction of its own. Returns false (nothing served) when the burst
 * holds anything else.
 */
static bool serve_queries_only(struct ddns_thread *t, struct ddns_msg *msgs, unsigned n,
                               unsigned nu)
{
	if (nu != n)
		return false;
	for (unsigned i = 0; i < n; i++)
		if (!is_query(&msgs[i]) || (t->conf.gss && tkey_is_query(msgs[i].req, msgs[i].len)))
			return false;
	struct qkeys qk = { .t = t, .batch = NULL };
	uint64_t now = (uint64_t)time(NULL);
	for (unsigned i = 0; i < n; i++) {
		memcpy(t->copy, msgs[i].req, msgs[i].len);
		serve_query(t, &qk, &msgs[i], now);
	}
	return true;
}

static bool serve_burst(struct ddns_thread *t, struct ddns_msg *msgs, unsigned n, unsigned nu)
{
	if (serve_queries_only(t, msgs, n, nu))
		return true;
	struct store_error e;
	struct store_txn *batch = NULL;
	bool batched = store_batch_begin(t->conf.store, &batch, &e) == DDI_EOK;
	if (!batched)
		count(t, DDNS_OUT_UNBATCHED, 1);
	/*
	 * The policy is read once per burst, in the batch: no update changes
	 * it (policies change through the control socket only, whose commit
	 * waits for this batch's write lock), so every message of the burst
	 * sees the rules in force when the burst began.
	 */
	struct pol_set pol = { 0 };
	bool have_pol = batched && ddns_policy_load(t->conf.store, batch, &pol, &e) == DDI_EOK;
	if (!have_pol)
		pol_set_free(&pol);
	struct ddns_env env = { .st = t->conf.store, .batch = batch,
	                        .policy = have_pol ? &pol : NULL, .ctl = t->conf.ctl,
	                        .refusals = &t->refusals, .notify = t->conf.notify,
	                        .gss = t->conf.gss };
	/* GSS-TSIG contexts whose time is over go between bursts, never inside one (gss.h) */
	uint64_t now = (uint64_t)time(NULL);
	gss_expire(t->conf.gss, now);
	/* closing notes of (key, reason) intervals that are over ride on this batch's sync */
	ddns_refusals_tick(&t->refusals, t->conf.store, batch, mono_ms());
	struct qkeys qk = { .t = t, .batch = batch };
	for (unsigned i = 0; i < n; i++) {
		struct ddns_msg *m = &msgs[i];
		/* req and resp may be the same frame: serve from a copy */
		memcpy(t->copy, m->req, m->len);
		int rc;
		m->query = 0;
		if (t->conf.gss && tkey_is_query(t->copy, m->len)) {
			rc = tkey_serve(t->conf.gss, t->copy, m->len, now, m->resp, m->cap);
		} else if (i < nu && is_query(m)) {
			serve_query(t, &qk, m, now);   /* keys read in the batch */
			continue;
		} else {
			rc = ddns_serve(&env, t->copy, m->len, m->family, m->src, m->resp, m->cap, NULL);
		}
		m->n = rc > 0 ? rc : 0;
	}
	pol_set_free(&pol);
	if (batched && store_batch_end(batch, true, &e) != DDI_EOK) {
		ddi_log(LOG_SUB_DDNS, LOG_LVL_ERR, NULL, "dynamic updates not committed, %u answers "
		        "dropped: %s", n, e.msg);
		return false;
	}
	/* the wakes ddns_serve gave inside the batch came before the commit: publish now */
	if (batched && t->conf.ctl)
		ctl_wake(t->conf.ctl);
	return true;
}

/* Move up to `max` TCP submissions into the burst. */
static unsigned take_tcp(struct ddns_thread *t, struct ddns_msg *msgs, struct job **jobs,
                         unsigned max)
{
	unsigned n = 0;
	pthread_mutex_lock(&t->lock);
	while (t->head && n < max) {
		struct job *j = t->head;
		t->head = j->next;
		if (!t->head)
			t->tail = &t->head;
		jobs[n] = j;
		msgs[n++] = j->m;
	}
	pthread_mutex_unlock(&t->lock);
	return n;
}

/* An asynchronous job's answer (0: none) to its submitter, outside the lock; the job is freed. */
static void job_complete(struct job *j, int n)
{
	j->on_done(j->dctx, j->tag, j->req, n);
	free(j);
}

static void give_tcp(struct ddns_thread *t, struct ddns_msg *msgs, struct job **jobs, unsigned n,
                     bool committed)
{
	struct job *async[DDNS_BURST];
	unsigned na = 0;
	pthread_mutex_lock(&t->lock);
	for (unsigned i = 0; i < n; i++) {
		jobs[i]->m.n = committed ? msgs[i].n : 0;
		if (jobs[i]->on_done)
			async[na++] = jobs[i];   /* the submitter does not wait: it is told below */
		else
			jobs[i]->done = true;
	}
	t->queued -= n;
	pthread_cond_broadcast(&t->done_cond);
	pthread_mutex_unlock(&t->lock);
	for (unsigned i = 0; i < na; i++)
		job_complete(async[i], async[i]->m.n);
}

/* One burst: take, serve, count, give back. Returns the number of messages. */
static unsigned run_burst(struct ddns_thread *t)
{
	struct ddns_msg msgs[DDNS_BURST];
	struct job *jobs[DDNS_BURST];
	const struct ddns_source *src = &t->conf.source;
	unsigned nu = src->take ? src->take(src->ctx, msgs, DDNS_BURST) : 0;
	unsigned nt = take_tcp(t, msgs + nu, jobs, DDNS_BURST - nu);
	unsigned n = nu + nt;
	if (n == 0)
		return 0;
	count(t, DDNS_OUT_UDP, nu);
	count(t, DDNS_OUT_TCP, nt);

	bool committed = serve_burst(t, msgs, n, nu);
	bool writes = false;   /* a burst of signed queries only had no store batch */
	for (unsigned i = 0; i < n && !writes; i++)
		writes = msgs[i].query == 0;
	if (writes)
		count(t, DDNS_OUT_BATCHES, 1);
	if (!committed)
		count(t, DDNS_OUT_BATCH_FAILED, 1);
	for (unsigned i = 0; i < n; i++)
		count(t, !committed ? DDNS_OUT_UNCOMMITTED
		         : msgs[i].query ? (enum ddns_outcome)(DDNS_OUT_SQ_ANSWERED + msgs[i].query - 1)
		                         : outcome_of_answer(&msgs[i]), 1);
	if (n > __atomic_load_n(&t->st.max_batch, __ATOMIC_RELAXED))
		__atomic_store_n(&t->st.max_batch, n, __ATOMIC_RELAXED);

	if (nu) {
		unsigned lost = src->give(src->ctx, msgs, nu, committed);
		count(t, DDNS_OUT_GIVE_DROPPED, lost);
	}
	if (nt)
		give_tcp(t, msgs + nu, jobs, nt, committed);
	return n;
}

static void *ddns_main(void *arg)
{
	struct ddns_thread *t = arg;
	/* signed queries read the index: a QSBR reader, offline but for each lookup (query.h) */
	bool reader = t->conf.source.idx != NULL;
	if (reader) {
		rcu_register_thread();
		rcu_thread_offline();
	}
	while (!__atomic_load_n(&t->quit, __ATOMIC_ACQUIRE)) {
		struct pollfd pfd = { .fd = t->wake_fd, .events = POLLIN };
		if (poll(&pfd, 1, DDNS_POLL_MS) > 0) {
			uint64_t cnt;
			/* clear the kick BEFORE draining: a later enqueue kicks again */
			if (read(t->wake_fd, &cnt, sizeof(cnt)) < 0) {
				/* EAGAIN: nothing pending */
			}
		}
		/* Drain what is queued; bounded so that quit is seen under a flood. */
		unsigned b = 0;
		for (; b < 64 && !__atomic_load_n(&t->quit, __ATOMIC_ACQUIRE); b++)
			if (run_burst(t) == 0)
				break;
		/*
		 * Idle: report the log lines a flood suppressed and close the note
		 * intervals that are over, even if no update comes any more. At most
		 * one small write per (key, reason) and interval, in its own
		 * transaction (this thread may wait for the store).
		 */
		if (b == 0) {
			ddns_refusals_tick(&t->refusals, t->conf.store, NULL, mono_ms());
			gss_expire(t->conf.gss, (uint64_t)time(NULL));
		}
	}
	/* Release TCP submitters still queued: no answer (they were never served). */
	pthread_mutex_lock(&t->lock);
	struct job *async = NULL, *next;
	for (struct job *j = t->head; j; j = next) {
		next = j->next;
		j->m.n = 0;
		t->queued--;
		if (j->on_done) {
			j->next = async;
			async = j;
		} else {
			j->done = true;
		}
	}
	t->head = NULL;
	t->tail = &t->head;
	pthread_cond_broadcast(&t->done_cond);
	pthread_mutex_unlock(&t->lock);
	for (struct job *j = async; j; j = next) {
		next = j->next;
		job_complete(j, 0);
	}
	if (reader) {
		rcu_thread_online();   /* unregister from the state it registered in */
		rcu_unregister_thread();
	}
	return NULL;
}

int ddns_thread_start(struct ddns_thread **out, const struct ddns_thread_conf *conf)
{
	struct ddns_thread *t = calloc(1, sizeof(*t));
	if (!t)
		return DDI_ENOMEM;
	t->conf = *conf;
	ddns_refusals_init(&t->refusals, stderr);
	t->head = NULL;
	t->tail = &t->head;
	t->wake_fd = eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC);
	if (t->wake_fd < 0) {
		int e = -errno;
		free(t);
		return e;
	}
	pthread_mutex_init(&t->lock, NULL);
	pthread_cond_init(&t->done_cond, NULL);
	int rc = pthread_create(&t->thread, NULL, ddns_main, t);
	if (rc != 0) {
		close(t->wake_fd);
		pthread_mutex_destroy(&t->lock);
		pthread_cond_destroy(&t->done_cond);
		free(t);
		return -rc;
	}
	pthread_setname_np(t->thread, "ddi-ddns");
	*out = t;
	return DDI_EOK;
}

void ddns_thread_stop(struct ddns_thread *t)
{
	if (!t)
		return;
	__atomic_store_n(&t->quit, true, __ATOMIC_RELEASE);
	ddns_thread_kick(t);
	pthread_join(t->thread, NULL);
	close(t->wake_fd);
	pthread_mutex_destroy(&t->lock);
	pthread_cond_destroy(&t->done_cond);
	free(t);
}

void ddns_thread_kick(struct ddns_thread *t)
{
	uint64_t one = 1;
	if (write(t->wake_fd, &one, sizeof(one)) < 0) {
		/* EAGAIN: the counter is full, a wake is pending anyway */
	}
}

/* SERVFAIL with the request's ID and opcode and empty sections (RFC 2136 3.8). */
static int servfail(const uint8_t *req, size_t len, uint8_t *resp, size_t cap)
{
	if (len < DNS_HDR_LEN || cap < DNS_HDR_LEN)
		return 0;
	uint16_t flags = dns_get16(req + 2);
	memmove(resp, req, 2);
	memset(resp + 2, 0, DNS_HDR_LEN - 2);
	dns_put16(resp + 2, (uint16_t)(DNS_QR | (flags & 0x7800) | DNS_RCODE_SERVFAIL));
	return DNS_HDR_LEN;
}

/*
 * A job for the queue: the request copied, the answer written over the
 * copy unless `resp` says where. NULL when out of memory or too long.
 */
static struct job *job_new(const uint8_t *req, size_t len, uint8_t src_family,
                           const uint8_t *src_addr, uint8_t *resp, size_t cap)
{
	/* on the heap: a 64 KiB copy does not belong on a thread's stack */
	struct job *j = len <= DNS_MSG_MAX ? calloc(1, sizeof(*j)) : NULL;
	if (!j)
		return NULL;
	memcpy(j->req, req, len);
	j->m = (struct ddns_msg){ .req = j->req, .len = len, .family = src_family,
	                          .resp = resp ? resp : j->req, .cap = resp ? cap : DNS_MSG_MAX };
	memcpy(j->m.src, src_addr, src_family == 6 ? 16 : 4);
	return j;
}

/* Queue a job; false (nothing queued) when DDNS_TCP_QUEUE wait already or the thread stops. */
static bool job_queue(struct ddns_thread *t, struct job *j)
{
	if (t->queued >= DDNS_TCP_QUEUE || __atomic_load_n(&t->quit, __ATOMIC_ACQUIRE)) {
		count(t, DDNS_OUT_TCP_FULL, 1);
		return false;
	}
	*t->tail = j;
	t->tail = &j->next;
	t->queued++;
	ddns_thread_kick(t);
	return true;
}

int ddns_thread_submit(void *ctx, const uint8_t *req, size_t len, uint8_t src_family,
                       const uint8_t *src_addr, uint8_t *resp, size_t cap)
{
	struct ddns_thread *t = ctx;
	struct job *j = job_new(req, len, src_family, src_addr, resp, cap);
	if (!j)
		return servfail(req, len, resp, cap);
	pthread_mutex_lock(&t->lock);
	if (!job_queue(t, j)) {
		pthread_mutex_unlock(&t->lock);
		free(j);
		return servfail(req, len, resp, cap);
	}
	while (!j->done)
		pthread_cond_wait(&t->done_cond, &t->lock);
	pthread_mutex_unlock(&t->lock);
	int n = j->m.n;
	free(j);
	return n;
}

int ddns_thread_submit_async(void *ctx, const uint8_t *req, size_t len, uint8_t src_family,
                             const uint8_t *src_addr, ddns_done_fn done, void *dctx,
                             uint64_t tag, uint8_t *resp, size_t cap)
{
	struct ddns_thread *t = ctx;
	struct job *j = job_new(req, len, src_family, src_addr, NULL, 0);
	if (!j)
		return servfail(req, len, resp, cap);
	j->on_done = done;
	j->dctx = dctx;
	j->tag = tag;
	pthread_mutex_lock(&t->lock);
	bool queued = job_queue(t, j);
	pthread_mutex_unlock(&t->lock);
	if (!queued) {
		free(j);
		return servfail(req, len, resp, cap);
	}
	return 0;
}

void ddns_thread_stats(const struct ddns_thread *t, struct ddns_stats *out)
{
	memset(out, 0, sizeof(*out));
	if (!t)
		return;
	for (unsigned k = 0; k < DDNS_OUT__COUNT; k++)
		out->v[k] = __atomic_load_n(&t->st.v[k], __ATOMIC_RELAXED);
	out->max_batch = __atomic_load_n(&t->st.max_batch, __ATOMIC_RELAXED);
	ddns_refusals_stats(&t->refusals, &out->refusals);
}
