/* tcp -- DNS over TCP (RFC 7766): epoll loop, pipelined answers in order, idle timeout, transfer threads */
#include <errno.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <arpa/inet.h>
#include <pthread.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <poll.h>
#include <sys/epoll.h>
#include <sys/eventfd.h>
#include <sys/resource.h>
#include <time.h>
#include <unistd.h>
#include <urcu-qsbr.h>

#include "control/ddns/tkey.h"
#include "control/tcp/tcp.h"
#include "dns/cookie.h"
#include "dns/errcode.h"
#include "dns/wire.h"
#include "index/snapshot.h"

#define IN_CAP (2 + DNS_MSG_MAX)        /* one whole message always fits */
#define OUT_HIGH (128 * 1024)           /* stop reading while this much output waits */
#define EPOLL_BATCH 64
#define TAG_LISTEN 0x100000000ull       /* epoll data: listen index | TAG, conn index, or stop */
#define TAG_STOP 0x200000000ull
#define TAG_XFR_DONE 0x400000000ull    /* a transfer thread handed a connection back */
#define TAG_UPD_DONE 0x800000000ull    /* an update's answer came back (struct upd_cq) */

struct conn {
	int fd;                  /* -1: free slot */
	bool peer_closed;        /* EOF read: close once the output is flushed */
	uint8_t peer_family;     /* 4 or 6: the source of dynamic updates */
	uint8_t peer[16];        /* also the per-client key: 4 bytes, or the /64 of an IPv6 peer */
	uint32_t events;         /* what epoll currently watches */
	uint64_t last_ms;
	uint8_t *in;
	size_t in_len;
	uint8_t *out;
	size_t out_off, out_len, out_cap;
	/*
	 * A transfer thread owns the connection (tcp.h): set and cleared by
	 * the loop only; while set, the loop reads nothing of it but fd and peer.
	 */
	bool in_xfr;
	bool xfr_close;          /* set by the transfer thread: close when handed back */
	/*
	 * An update is in flight (tcp.h, conf.update): nothing more is answered
	 * on this connection until its answer is back. `gen` changes at every
	 * close, so a late answer for an earlier connection of the slot is told apart.
	 */
	bool upd_wait;
	uint32_t gen;
};

/* One answer back from `update`: the connection (slot << 32 | gen), a copy of the answer. */
struct upd_done {
	uint64_t tag;
	uint8_t *resp;           /* malloc'd, NULL when there is none */
	int n;
};

/*
 * Where the DDNS thread leaves the answers (tcp.h). Allocated apart from
 * the server and freed by whoever drops the last reference: the server
 * holds one, and every submission in flight one, so a completion after
 * tcp_server_stop lands here, finds the server gone and is dropped.
 * Sized max_conns, the bound of submissions in flight: it never fills.
 */
struct upd_cq {
	pthread_mutex_t mu;
	int efd;                 /* eventfd in the loop's epoll set (TAG_UPD_DONE) */
	unsigned refs;           /* the server (until it stops) + submissions in flight */
	bool server_gone;
	unsigned cap, len;
	struct upd_done *q;      /* len waiting, oldest first */
};

/* A transfer thread and the connection it serves. */
struct xfr_worker {
	struct tcp_server *s;
	pthread_t thread;
	pthread_cond_t cv;
	int slot;                /* the connection to serve, -1 none (under s->xmu) */
	bool busy;               /* the loop's view: handed a connection not yet taken back */
	unsigned conn;           /* that connection's slot (the loop's) */
	bool started;
};

struct tcp_server {
	struct tcp_conf conf;
	int lfd[TCP_MAX_LISTEN];
	int epfd, stopfd;
	pthread_t thread;
	bool started;
	struct conn *conns;
	unsigned nconns;
	uint8_t *scratch;        /* 2 + DNS_MSG_MAX: one response being built */
	struct tcp_stats st;
	/* transfers out: conf.xfr_max threads */
	struct xfr_worker *xw;
	unsigned nxw, nxw_busy;  /* nxw_busy: the loop's count of busy workers */
	int donefd;              /* eventfd: a worker has handed a connection back */
	pthread_mutex_t xmu;     /* the workers' slots, `done`, xstop */
	bool xstop;              /* the workers end (under xmu) */
	bool stopping;           /* relaxed atomic: transfers give up at their next message */
	unsigned *done, ndone;   /* workers that handed their connection back (under xmu) */
	/* updates (conf.update): the completion queue and the loop's count in flight */
	struct upd_cq *cq;
	struct upd_done *cq_take;   /* cap entries: the loop's copy of the queue */
	unsigned upd_inflight;
};

static uint64_t now_ms(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000 + (uint64_t)ts.tv_nsec / 1000000;
}

static void stat_inc(uint64_t *c)
{
	__atomic_store_n(c, *c + 1, __ATOMIC_RELAXED);
}

static void stat_set(uint64_t *c, uint64_t v)
{
	__atomic_store_n(c, v, __ATOMIC_RELAXED);
}

static void conn_close(struct tcp_server *s, struct conn *c)
{
	if (c->fd < 0)
		return;
	epoll_ctl(s->epfd, EPOLL_CTL_DEL, c->fd, NULL);
	close(c->fd);
	c->fd = -1;
	c->upd_wait = false;
	c->gen++;                /* an answer still in flight for it is discarded */
	free(c->in);
	free(c->out);
	c->in = c->out = NULL;
	c->in_len = c->out_off = c->out_len = c->out_cap = 0;
	s->nconns--;
	stat_set(&s->st.open, s->nconns);
}

static void conn_watch(struct tcp_server *s, struct conn *c)
{
	uint32_t ev = 0;
	/* a full input behind an update in flight: read again once it is answered */
	if (!c->peer_closed && c->out_len - c->out_off < OUT_HIGH &&
	    !(c->upd_wait && c->in_len == IN_CAP))
		ev |= EPOLLIN;
	if (c->out_len > c->out_off)
		ev |= EPOLLOUT;
	if (ev == c->events)
		return;
	struct epoll_event e = { .events = ev, .data.u64 = (uint64_t)(c - s->conns) };
	epoll_ctl(s->epfd, EPOLL_CTL_MOD, c->fd, &e);
	c->events = ev;
}

static int out_append(struct conn *c, const uint8_t *p, size_t n)
{
	if (c->out_off == c->out_len)
		c->out_off = c->out_len = 0;
	if (c->out_len + n > c->out_cap) {
		/* Compact first; grow only when that is not enough. */
		if (c->out_off) {
			memmove(c->out, c->out + c->out_off, c->out_len - c->out_off);
			c->out_len -= c->out_off;
			c->out_off = 0;
		}
		if (c->out_len + n > c->out_cap) {
			size_t cap = c->out_cap ? c->out_cap : 4096;
			while (cap < c->out_len + n)
				cap *= 2;
			uint8_t *o = realloc(c->out, cap);
			if (!o)
				return DDI_ENOMEM;
			c->out = o;
			c->out_cap = cap;
		}
	}
	memcpy(c->out + c->out_len, p, n);
	c->out_len += n;
	return DDI_EOK;
}

/* Write what the socket takes. Returns false when the connection must close. */
static bool conn_flush(struct conn *c)
{
	while (c->out_len > c->out_off) {
		ssize_t n = send(c->fd, c->out + c->out_off, c->out_len - c->out_off, MSG_NOSIGNAL);
		if (n < 0)
			return errno == EAGAIN || errno == EWOULDBLOCK || errno == EINTR;
		c->out_off += (size_t)n;
	}
	return true;
}

/*
 * For the transfer server: QTYPE AXFR or IXFR in the only question, or an
 * SOA query signed with TSIG (a secondary's refresh; its answer must be
 * signed, which answer_message does not do).
 */
static bool xfr_route(const uint8_t *msg, size_t len)
{
	if (len < DNS_HDR_LEN + 5 || dns_get16(msg + 4) != 1)
		return false;
	size_t p = DNS_HDR_LEN;
	while (p < len && msg[p] != 0 && msg[p] <= 63)
		p += 1 + (size_t)msg[p];
	if (p + 5 > len || msg[p] != 0)
		return false;
	uint16_t t = dns_get16(msg + p + 1);
	if (t == 6 && dns_get16(msg + 10) > 0) {   /* SOA, with additional records */
		struct dns_query q;
		return dns_query_parse(&q, msg, len) == DNS_PARSE_OK && q.has_tsig;
	}
	return t == 251 || t == 252;   /* IXFR, AXFR */
}

/* What xfr_emit needs: the connection, the server's idle timeout, the time waited so far. */
struct xfr_sink {
	struct tcp_server *s;
	struct conn *c;
	uint64_t waited_ms;
	bool may_wait;           /* a transfer thread; false on the loop, which never waits */
};

/*
 * Wait until the socket has taken the output down below OUT_HIGH. A zone
 * transfer is generated message by message from one read transaction;
 * without this wait the whole transfer (30 MB for a million records)
 * would pile up in c->out before the first byte leaves. Only a transfer
 * thread waits here (tcp.h), and only this connection with it. One
 * transfer may wait at most idle_timeout_ms in all, progress or not (a
 * reader that trickles would otherwise hold a thread for ever): past that
 * it is given up (-ETIMEDOUT), and so is it when the server stops
 * (stopfd). A secondary on a slow link that needs longer needs a longer
 * --tcp-idle-timeout.
 */
static int xfr_drain(struct xfr_sink *k)
{
	struct conn *c = k->c;
	uint64_t limit = k->s->conf.idle_timeout_ms;
	while (c->out_len - c->out_off >= OUT_HIGH) {
		size_t off = c->out_off;
		if (!conn_flush(c))
			return DDI_EIO;
		if (c->out_off != off) {
			c->last_ms = now_ms();
			continue;
		}
		if (k->waited_ms >= limit)
			return -ETIMEDOUT;   /* the reader is too slow: give up */
		struct pollfd p[2] = { { .fd = c->fd, .events = POLLOUT },
		                       { .fd = k->s->stopfd, .events = POLLIN } };
		uint64_t t0 = now_ms();
		int n = poll(p, 2, (int)(limit - k->waited_ms));
		k->waited_ms += now_ms() - t0;
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0 || (p[0].revents & (POLLERR | POLLHUP | POLLNVAL)) || p[1].revents)
			return DDI_EIO;   /* the reader went away, or the server stops */
	}
	return DDI_EOK;
}

/*
 * One message of a transfer, length-prefixed, queued on the connection.
 * On a transfer thread it first waits for room (bounded, above); on the
 * loop (xfr_check: one answer) it only queues: conn_process answers
 * nothing more while OUT_HIGH waits, so the queue stays below
 * OUT_HIGH + one message.
 */
static int xfr_emit(void *ectx, const uint8_t *msg, size_t len)
{
	struct xfr_sink *k = ectx;
	uint8_t pfx[2];
	if (len > DNS_MSG_MAX)
		return DDI_EINVAL;
	if (k->may_wait) {
		if (__atomic_load_n(&k->s->stopping, __ATOMIC_RELAXED))
			return DDI_EIO;
		int rc = xfr_drain(k);
		if (rc)
			return rc;
	}
	dns_put16(pfx, (uint16_t)len);
	int rc = out_append(k->c, pfx, 2);
	return rc ? rc : out_append(k->c, msg, len);
}

/* The counter of a cookie verdict, NULL for none. */
static uint64_t *cookie_counter(struct tcp_server *s, enum dns_cookie_verdict v)
{
	switch (v) {
	case DNS_COOKIE_NEW: return &s->st.cookie_new;
	case DNS_COOKIE_VALID: return &s->st.cookie_valid;
	case DNS_COOKIE_REFRESHED: return &s->st.cookie_refreshed;
	case DNS_COOKIE_BAD: return &s->st.cookie_bad;
	case DNS_COOKIE_MALFORMED: return &s->st.cookie_malformed;
	case DNS_COOKIE_NONE: break;
	}
	return NULL;
}

/*
 * A query from the index, with its cookie as the workers serve it
 * (dataplane/packet.c): checked before the answer (answer_query keeps the
 * room for it, and answers a malformed one FORMERR), then appended to the
 * OPT. No rate limiting over TCP: the handshake proved the address.
 */
static size_t answer_tcp(struct tcp_server *s, const struct conn *c, const uint8_t *wire,
                         size_t len, uint8_t *out, size_t cap)
{
	struct dns_query q;
	struct answer_info info;
	memset(&q, 0, sizeof(q));
	enum dns_parse_result pr = dns_query_parse(&q, wire, len);
	enum dns_cookie_verdict cv = DNS_COOKIE_NONE;
	const uint8_t *opt = dns_query_cookie(&q);
	uint8_t client[DNS_COOKIE_LEN];
	size_t iplen = c->peer_family == 6 ? 16 : 4;
	uint32_t now = (uint32_t)time(NULL);
	if (s->conf.cookies && opt && pr == DNS_PARSE_OK) {
		cv = dns_cookie_check(s->conf.cookies, now, opt, q.edns_cookie_len, c->peer, iplen);
		memcpy(client, opt, q.edns_cookie_len < sizeof(client) ? q.edns_cookie_len
		                                                        : sizeof(client));
		uint64_t *ctr = cookie_counter(s, cv);
		if (ctr)
			stat_inc(ctr);
	}
	const struct idx_version *v = idx_acquire(s->conf.idx);
	size_t n = answer_query(v, s->conf.answer, ANSWER_TCP, &q, pr, out, cap, &info);
	if (n && info.opt_pos && cv != DNS_COOKIE_NONE && cv != DNS_COOKIE_MALFORMED) {
		uint8_t cookie[DNS_COOKIE_LEN];
		size_t clen = dns_cookie_respond(s->conf.cookies, cv, now, client, c->peer, iplen,
		                                 cookie);
		size_t grown = dns_opt_append_option(out, n, cap, info.opt_pos, DNS_EDNS_OPT_COOKIE,
		                                     cookie, (uint16_t)clen);
		if (grown)
			n = grown;
	}
	return n;
}

/*
 * Over the limit without an xfr_check hook: REFUSED, the header and the
 * question of the request (xfr_route found the question's end), unsigned.
 */
static int xfr_refuse_plain(struct xfr_sink *k, const uint8_t *m, size_t mlen)
{
	uint8_t r[DNS_HDR_LEN + DNS_NAME_MAXLEN + 4];
	size_t p = DNS_HDR_LEN;
	while (p < mlen && m[p] != 0)
		p += 1 + (size_t)m[p];
	size_t qend = p + 5;
	if (qend > mlen || qend > sizeof(r))
		return DDI_EMALF;
	memcpy(r, m, qend);
	r[2] = (uint8_t)(0x80 | (m[2] & 0x79));     /* QR, the opcode and RD of the query */
	r[3] = DNS_RCODE_REFUSED;
	memset(r + 6, 0, 6);                         /* no answer, authority, additional */
	return xfr_emit(k, r, qend);
}

/*
 * A transfer request (xfr_route): checked here, on the loop, without
 * waiting (tcp.h xfr_check); TCP_XFR_RUN when it is to run on a transfer
 * thread, 0 when answered here, negative when the connection must close.
 */
static int xfr_dispatch(struct tcp_server *s, struct conn *c, const uint8_t *m, size_t mlen)
{
	bool full = s->nxw_busy >= s->nxw;
	struct xfr_sink sink = { s, c, 0, false };
	if (!s->conf.xfr_check)
		return full ? xfr_refuse_plain(&sink, m, mlen) : TCP_XFR_RUN;
	rcu_thread_offline();   /* it reads the store (keys, the ACL), not the index */
	int xr = s->conf.xfr_check(s->conf.xfr_ctx, m, mlen, c->peer_family, c->peer, full, xfr_emit,
	                           &sink);
	rcu_thread_online();
	if (xr == TCP_XFR_RUN && full)
		return xfr_refuse_plain(&sink, m, mlen);   /* the hook broke its contract: still bounded */
	return xr;
}

/* ------------------------------------------------------------------------ */
/* Updates in flight (tcp.h, conf.update)                                   */
/* ------------------------------------------------------------------------ */

/* Drop one reference; the last one frees the queue. */
static void cq_unref(struct upd_cq *q)
{
	pthread_mutex_lock(&q->mu);
	bool last = --q->refs == 0;
	pthread_mutex_unlock(&q->mu);
	if (!last)
		return;
	for (unsigned i = 0; i < q->len; i++)
		free(q->q[i].resp);
	close(q->efd);
	pthread_mutex_destroy(&q->mu);
	free(q->q);
	free(q);
}

/*
 * conf.update's `done`, on the DDNS thread: copy the answer into the
 * queue and wake the loop. Never waits but on the queue's short lock; the
 * queue has room for every submission in flight, so nothing is lost here
 * unless memory is short (then the connection gets no answer, as when a
 * batch does not commit).
 */
static void upd_done(void *dctx, uint64_t tag, const uint8_t *resp, int n)
{
	struct upd_cq *q = dctx;
	uint8_t *copy = n > 0 && n <= DNS_MSG_MAX ? malloc((size_t)n) : NULL;
	if (copy)
		memcpy(copy, resp, (size_t)n);
	pthread_mutex_lock(&q->mu);
	bool queued = !q->server_gone && q->len < q->cap;
	if (queued)
		q->q[q->len++] = (struct upd_done){ tag, copy, copy ? n : 0 };
	pthread_mutex_unlock(&q->mu);
	if (queued) {
		uint64_t one = 1;
		if (write(q->efd, &one, sizeof(one)) < 0) {
			/* EAGAIN: the counter is full, a wake is pending anyway */
		}
	} else {
		free(copy);
	}
	cq_unref(q);
}

/* SERVFAIL with the request's ID and opcode and empty sections (RFC 2136 3.8). */
static size_t upd_servfail(const uint8_t *m, uint8_t *out)
{
	memcpy(out, m, DNS_HDR_LEN);
	out[2] = (uint8_t)(0x80 | (m[2] & 0x78));
	out[3] = DNS_RCODE_SERVFAIL;
	memset(out + 4, 0, DNS_HDR_LEN - 4);
	return DNS_HDR_LEN;
}

/*
 * Hand an UPDATE, NOTIFY or TKEY message to conf.update without waiting.
 * Returns 0 when it is in flight (c->upd_wait set), else the length of an
 * answer in s->scratch + 2 (0: none). Over max_conns in flight (a slot
 * closed and reused while its answer is still out): SERVFAIL at once, so
 * that the completion queue stays big enough.
 */
static int upd_submit(struct tcp_server *s, struct conn *c, const uint8_t *m, size_t mlen)
{
	if (s->upd_inflight >= s->cq->cap)
		return (int)upd_servfail(m, s->scratch + 2);
	uint64_t tag = (uint64_t)(c - s->conns) << 32 | c->gen;
	pthread_mutex_lock(&s->cq->mu);
	s->cq->refs++;           /* the submission's: dropped by upd_done, or below */
	pthread_mutex_unlock(&s->cq->mu);
	int un = s->conf.update(s->conf.update_ctx, m, mlen, c->peer_family, c->peer, upd_done,
	                        s->cq, tag, s->scratch + 2, DNS_MSG_MAX);
	if (un != 0) {
		cq_unref(s->cq);     /* answered at once: `done` is not called */
		return un;
	}
	c->upd_wait = true;
	s->upd_inflight++;
	stat_set(&s->st.updates_in_flight, s->upd_inflight);
	return 0;
}

static void conn_advance(struct tcp_server *s, struct conn *c, bool count_peer_close);

/*
 * The loop takes the answers that came back: each goes to its connection
 * if that is still the one that asked (slot and generation), which then
 * answers what waited behind it; otherwise it is discarded.
 */
static void upd_collect(struct tcp_server *s)
{
	uint64_t v;
	struct upd_cq *q = s->cq;
	if (read(q->efd, &v, sizeof(v)) < 0 && errno != EAGAIN)
		return;
	pthread_mutex_lock(&q->mu);
	unsigned n = q->len;
	memcpy(s->cq_take, q->q, n * sizeof(q->q[0]));
	q->len = 0;
	pthread_mutex_unlock(&q->mu);
	for (unsigned i = 0; i < n; i++) {
		struct upd_done *d = &s->cq_take[i];
		uint64_t slot = d->tag >> 32;
		struct conn *c = slot < s->conf.max_conns ? &s->conns[slot] : NULL;
		s->upd_inflight--;
		if (!c || c->fd < 0 || c->gen != (uint32_t)d->tag || !c->upd_wait) {
			stat_inc(&s->st.updates_discarded);   /* its connection closed meanwhile */
			free(d->resp);
			continue;
		}
		c->upd_wait = false;
		uint8_t pfx[2];
		dns_put16(pfx, (uint16_t)d->n);
		if (d->n <= 0) {
			stat_inc(&s->st.no_answer);
		} else if (out_append(c, pfx, 2) < 0 || out_append(c, d->resp, (size_t)d->n) < 0) {
			free(d->resp);
			conn_close(s, c);
			continue;
		} else {
			stat_inc(&s->st.queries);
		}
		free(d->resp);
		c->last_ms = now_ms();
		conn_advance(s, c, false);   /* the pipelined requests that waited, in order */
	}
	stat_set(&s->st.updates_in_flight, s->upd_inflight);
}

/* With conf.update: the completion queue, its eventfd in the epoll set. */
static int upd_start(struct tcp_server *s, char *err, size_t errlen)
{
	if (!s->conf.update)
		return DDI_EOK;
	struct upd_cq *q = calloc(1, sizeof(*q));
	s->cq_take = calloc(s->conf.max_conns, sizeof(*s->cq_take));
	if (q)
		q->q = calloc(s->conf.max_conns, sizeof(*q->q));
	if (!q || !q->q || !s->cq_take) {
		if (q)
			free(q->q);
		free(q);
		snprintf(err, errlen, "TCP server: out of memory");
		return DDI_ENOMEM;
	}
	q->efd = eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
	if (q->efd < 0) {
		int e = errno;
		free(q->q);
		free(q);
		snprintf(err, errlen, "TCP server: %s", strerror(e));
		return -e;
	}
	pthread_mutex_init(&q->mu, NULL);
	q->refs = 1;
	q->cap = s->conf.max_conns;
	s->cq = q;
	struct epoll_event e = { .events = EPOLLIN, .data.u64 = TAG_UPD_DONE };
	epoll_ctl(s->epfd, EPOLL_CTL_ADD, q->efd, &e);
	return DDI_EOK;
}

/* The server stops: answers still to come are dropped where they land. */
static void upd_stop(struct tcp_server *s)
{
	if (s->cq) {
		pthread_mutex_lock(&s->cq->mu);
		s->cq->server_gone = true;
		pthread_mutex_unlock(&s->cq->mu);
		cq_unref(s->cq);
		s->cq = NULL;
	}
	free(s->cq_take);
	s->cq_take = NULL;
}

/* What conn_process leaves to its caller. */
enum conn_next {
	CONN_OK,                 /* flush, watch */
	CONN_CLOSE,
	CONN_XFR,                /* a transfer request at the start of the input: hand it to a thread */
};

/*
 * Answer every complete message in the input buffer, in order (RFC 7766
 * 6.2.1.1: responses to pipelined queries may be sent in order). Stops
 * while too much output waits, and at a transfer to run on a thread
 * (which then starts the input; what follows it waits its turn).
 */
static enum conn_next conn_process(struct tcp_server *s, struct conn *c)
{
	size_t pos = 0;
	enum conn_next next = CONN_OK;
	while (!c->upd_wait && c->in_len - pos >= 2 && c->out_len - c->out_off < OUT_HIGH) {
		size_t mlen = dns_get16(c->in + pos);
		if (mlen < DNS_HDR_LEN) {     /* not even a header: nothing sensible to answer */
			stat_inc(&s->st.bad_length);
			next = CONN_CLOSE;
			break;
		}
		if (c->in_len - pos < 2 + mlen)
			break;
		size_t n;
		const uint8_t *m = c->in + pos + 2;
		uint8_t opcode = (uint8_t)((m[2] >> 3) & 0xf);
		if (s->conf.update && (opcode == DNS_OP_UPDATE || opcode == DNS_OP_NOTIFY ||
		                       (s->conf.update_tkey && tkey_is_query(m, mlen))) &&
		    !(m[2] & 0x80)) {
			/* queued for the DDNS thread; its answer comes back through s->cq (tcp.h) */
			int un = upd_submit(s, c, m, mlen);
			if (un == 0) {
				pos += 2 + mlen;
				break;   /* c->upd_wait: the rest waits for the answer */
			}
			n = un > 0 ? (size_t)un : 0;
		} else if (s->conf.xfr && opcode == DNS_OP_QUERY && !(m[2] & 0x80) &&
		           xfr_route(m, mlen)) {
			/* a zone transfer: many messages, read from the store, on a transfer thread */
			int xr = xfr_dispatch(s, c, m, mlen);
			if (xr == TCP_XFR_RUN) {
				next = CONN_XFR;
				break;
			}
			pos += 2 + mlen;
			if (xr < 0) {
				next = CONN_CLOSE;
				break;
			}
			stat_inc(&s->st.queries);
			continue;
		} else {
			n = answer_tcp(s, c, m, mlen, s->scratch + 2, DNS_MSG_MAX);
		}
		pos += 2 + mlen;
		if (n == 0 || n > DNS_MSG_MAX) {
			stat_inc(&s->st.no_answer);
			continue;
		}
		dns_put16(s->scratch, (uint16_t)n);
		if (out_append(c, s->scratch, n + 2) < 0) {
			next = CONN_CLOSE;
			break;
		}
		stat_inc(&s->st.queries);
	}
	if (pos) {
		memmove(c->in, c->in + pos, c->in_len - pos);
		c->in_len -= pos;
	}
	return next;
}

/* ------------------------------------------------------------------------ */
/* Transfer threads (tcp.h: why, and who owns a connection when)            */
/* ------------------------------------------------------------------------ */

/* The loop gives connection `c` (its input starts with the request) to an idle worker. */
static void xfr_handoff(struct tcp_server *s, struct conn *c)
{
	struct xfr_worker *w = s->xw;
	while (w->busy)
		w++;            /* one is idle: conn_process saw nxw_busy < nxw */
	epoll_ctl(s->epfd, EPOLL_CTL_DEL, c->fd, NULL);
	c->events = 0;
	c->in_xfr = true;
	c->xfr_close = false;
	w->busy = true;
	w->conn = (unsigned)(c - s->conns);
	s->nxw_busy++;
	pthread_mutex_lock(&s->xmu);
	w->slot = (int)(c - s->conns);
	pthread_cond_signal(&w->cv);
	pthread_mutex_unlock(&s->xmu);
}

/* On the worker: the transfer, then the connection back to the loop. */
static void xfr_serve_conn(struct tcp_server *s, struct conn *c)
{
	struct xfr_sink sink = { s, c, 0, true };
	int xr = s->conf.xfr(s->conf.xfr_ctx, c->in + 2, dns_get16(c->in), c->peer_family, c->peer,
	                     xfr_emit, &sink);
	/* what is still queued (<= OUT_HIGH + a message) the loop sends */
	c->xfr_close = xr < 0;
}

static void *xfr_thread(void *arg)
{
	struct xfr_worker *w = arg;
	struct tcp_server *s = w->s;
	/* No RCU reader: a transfer reads the store in its own LMDB read transaction. */
	pthread_mutex_lock(&s->xmu);
	for (;;) {
		while (w->slot < 0 && !s->xstop)
			pthread_cond_wait(&w->cv, &s->xmu);
		if (w->slot < 0)
			break;
		struct conn *c = &s->conns[w->slot];
		pthread_mutex_unlock(&s->xmu);
		xfr_serve_conn(s, c);
		pthread_mutex_lock(&s->xmu);
		w->slot = -1;
		s->done[s->ndone++] = (unsigned)(w - s->xw);
		uint64_t one = 1;
		if (write(s->donefd, &one, sizeof(one)) < 0)
			perror("tcp transfer thread");   /* cannot happen: the counter is far from full */
	}
	pthread_mutex_unlock(&s->xmu);
	return NULL;
}

/* A whole message waits in the input. */
static bool conn_has_message(const struct conn *c)
{
	return c->in_len >= 2 && c->in_len >= 2 + (size_t)dns_get16(c->in);
}

/* After input came or output left: answer, flush, then hand off, close or watch. */
static void conn_advance(struct tcp_server *s, struct conn *c, bool count_peer_close)
{
	for (;;) {
		enum conn_next next = conn_process(s, c);
		if (next == CONN_CLOSE || !conn_flush(c)) {
			conn_close(s, c);
			return;
		}
		if (next == CONN_XFR) {
			xfr_handoff(s, c);
			return;
		}
		/*
		 * conn_process stopped at OUT_HIGH and the flush took it all below:
		 * answer the requests that waited now, as no event will come for
		 * them (the client waits for their answers, e.g. a query
		 * pipelined after a transfer). Each round answers one at least.
		 */
		if (c->out_len - c->out_off >= OUT_HIGH || !conn_has_message(c) || c->upd_wait)
			break;
	}
	/* half-closed with an update in flight: its answer is still sent */
	if (c->peer_closed && c->out_len == c->out_off && !c->upd_wait) {
		if (count_peer_close)
			stat_inc(&s->st.closed_peer);
		conn_close(s, c);
		return;
	}
	conn_watch(s, c);
}

/* The loop takes back the connections of finished transfers and goes on with them. */
static void xfr_collect(struct tcp_server *s)
{
	uint64_t v;
	unsigned idx[TCP_XFR_MAX_LIMIT], n;
	if (read(s->donefd, &v, sizeof(v)) < 0 && errno != EAGAIN)
		return;
	pthread_mutex_lock(&s->xmu);
	n = s->ndone;
	memcpy(idx, s->done, n * sizeof(idx[0]));
	s->ndone = 0;
	pthread_mutex_unlock(&s->xmu);
	for (unsigned i = 0; i < n; i++) {
		struct xfr_worker *w = &s->xw[idx[i]];
		struct conn *c = &s->conns[w->conn];
		w->busy = false;
		s->nxw_busy--;
		c->in_xfr = false;
		size_t req = 2 + (size_t)dns_get16(c->in);   /* the transfer's request: answered */
		memmove(c->in, c->in + req, c->in_len - req);
		c->in_len -= req;
		if (c->xfr_close) {
			conn_close(s, c);
			continue;
		}
		stat_inc(&s->st.queries);   /* as a query answered on the loop: when it went out */
		c->last_ms = now_ms();      /* idle from the transfer's end, as after any answer */
		struct epoll_event e = { .events = 0, .data.u64 = (uint64_t)(c - s->conns) };
		if (epoll_ctl(s->epfd, EPOLL_CTL_ADD, c->fd, &e) < 0) {
			conn_close(s, c);
			continue;
		}
		c->events = 0;
		conn_advance(s, c, false);   /* the pipelined requests that waited, in order */
	}
}

static void conn_readable(struct tcp_server *s, struct conn *c)
{
	for (;;) {
		if (c->in_len == IN_CAP)
			break;             /* a whole message is there: process, then read on */
		ssize_t n = recv(c->fd, c->in + c->in_len, IN_CAP - c->in_len, 0);
		if (n > 0) {
			c->in_len += (size_t)n;
			continue;
		}
		if (n == 0) {
			c->peer_closed = true;
		} else if (errno != EAGAIN && errno != EWOULDBLOCK && errno != EINTR) {
			stat_inc(&s->st.closed_peer);
			conn_close(s, c);
			return;
		}
		break;
	}
	/*
	 * Idle is "no complete message": a byte now and then of a message that
	 * never completes does not keep the connection (slowloris).
	 */
	if (conn_has_message(c))
		c->last_ms = now_ms();
	conn_advance(s, c, true);
}

static void conn_writable(struct tcp_server *s, struct conn *c)
{
	size_t off = c->out_off;
	if (!conn_flush(c)) {
		conn_close(s, c);
		return;
	}
	if (c->out_off != off)
		c->last_ms = now_ms();   /* the client takes our answer: not idle (a long transfer) */
	/* Output drained below the mark: answer what waited in the input. */
	conn_advance(s, c, false);
}

/* The peer address in the form upd_serve takes; an IPv4-mapped IPv6 peer is IPv4. */
static void conn_set_peer(struct conn *c, const struct sockaddr_storage *ss)
{
	static const uint8_t mapped[12] = { 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xff, 0xff };
	memset(c->peer, 0, sizeof(c->peer));
	c->peer_family = 4;
	if (ss->ss_family == AF_INET) {
		memcpy(c->peer, &((const struct sockaddr_in *)ss)->sin_addr, 4);
	} else if (ss->ss_family == AF_INET6) {
		const uint8_t *a = ((const struct sockaddr_in6 *)ss)->sin6_addr.s6_addr;
		if (memcmp(a, mapped, 12) == 0) {
			memcpy(c->peer, a + 12, 4);
		} else {
			c->peer_family = 6;
			memcpy(c->peer, a, 16);
		}
	}
}

/* Same client: the IPv4 address, or the /64 of an IPv6 one (tcp.h says why). */
static bool same_client(const struct conn *c, uint8_t family, const uint8_t *peer)
{
	return c->fd >= 0 && c->peer_family == family &&
	       memcmp(c->peer, peer, family == 4 ? 4 : 8) == 0;
}

/* Over a limit: reset at once (tcp.h: why accept, why a reset), counted by which limit. */
static void refuse(int fd, uint64_t *counter)
{
	struct linger lg = { .l_onoff = 1, .l_linger = 0 };
	setsockopt(fd, SOL_SOCKET, SO_LINGER, &lg, sizeof(lg));
	close(fd);
	stat_inc(counter);
}

/* Which limit a new connection from `peer` would pass: NULL none, else its counter. */
static uint64_t *over_limit(struct tcp_server *s, const struct conn *peer)
{
	if (s->nconns >= s->conf.max_conns)
		return &s->st.refused_total_limit;
	unsigned same = 0;
	for (unsigned i = 0; i < s->conf.max_conns && same < s->conf.max_per_client; i++)
		same += same_client(&s->conns[i], peer->peer_family, peer->peer);
	return same >= s->conf.max_per_client ? &s->st.refused_client_limit : NULL;
}

static void do_accept(struct tcp_server *s, int lfd)
{
	for (int i = 0; i < 64; i++) {        /* bounded: other sockets get their turn */
		struct sockaddr_storage peer;
		socklen_t plen = sizeof(peer);
		int fd = accept4(lfd, (struct sockaddr *)&peer, &plen, SOCK_NONBLOCK | SOCK_CLOEXEC);
		if (fd < 0)
			return;
		struct conn who;
		conn_set_peer(&who, &peer);
		uint64_t *limit = over_limit(s, &who);
		if (limit) {
			refuse(fd, limit);
			continue;
		}
		int one = 1;
		setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
		unsigned slot = 0;
		while (s->conns[slot].fd >= 0)
			slot++;
		struct conn *c = &s->conns[slot];
		c->in = malloc(IN_CAP);
		if (!c->in) {
			close(fd);
			continue;
		}
		c->fd = fd;
		c->peer_closed = false;
		c->peer_family = who.peer_family;
		memcpy(c->peer, who.peer, sizeof(c->peer));
		c->in_len = 0;
		c->last_ms = now_ms();
		c->events = EPOLLIN;
		struct epoll_event e = { .events = EPOLLIN, .data.u64 = slot };
		if (epoll_ctl(s->epfd, EPOLL_CTL_ADD, fd, &e) < 0) {
			close(fd);
			c->fd = -1;
			free(c->in);
			c->in = NULL;
			continue;
		}
		s->nconns++;
		stat_set(&s->st.open, s->nconns);
		stat_inc(&s->st.accepted);
	}
}

static void *tcp_thread(void *arg)
{
	struct tcp_server *s = arg;
	struct epoll_event ev[EPOLL_BATCH];
	uint64_t last_sweep = now_ms();

	/* A QSBR reader that is online only while it answers (index/snapshot.h R1-R3). */
	rcu_register_thread();
	rcu_thread_offline();
	for (;;) {
		int n = epoll_wait(s->epfd, ev, EPOLL_BATCH, 1000);
		if (n < 0 && errno != EINTR)
			break;
		bool stop = false;
		rcu_thread_online();
		for (int i = 0; i < n; i++) {
			uint64_t d = ev[i].data.u64;
			if (d == TAG_STOP) {
				stop = true;
			} else if (d == TAG_XFR_DONE) {
				xfr_collect(s);
			} else if (d == TAG_UPD_DONE) {
				upd_collect(s);
			} else if (d & TAG_LISTEN) {
				do_accept(s, s->lfd[d & 0xffff]);
			} else {
				struct conn *c = &s->conns[d];
				if (c->fd < 0 || c->in_xfr)
					continue;
				if (ev[i].events & (EPOLLIN | EPOLLHUP | EPOLLERR))
					conn_readable(s, c);
				if (c->fd >= 0 && !c->in_xfr && (ev[i].events & EPOLLOUT))
					conn_writable(s, c);
			}
		}
		rcu_thread_offline();
		if (stop)
			break;
		uint64_t now = now_ms();
		if (now - last_sweep >= 500) {
			last_sweep = now;
			for (unsigned i = 0; i < s->conf.max_conns; i++) {
				struct conn *c = &s->conns[i];
				/* waiting for our own commit is not the client's idleness */
				if (c->fd >= 0 && !c->in_xfr && !c->upd_wait &&
				    now - c->last_ms >= s->conf.idle_timeout_ms) {
					stat_inc(&s->st.idle_closed);
					conn_close(s, c);
				}
			}
		}
	}
	rcu_unregister_thread();
	return NULL;
}

static int listen_one(const struct sockaddr_storage *ss, char *err, size_t errlen)
{
	char host[INET6_ADDRSTRLEN] = "?";
	socklen_t sl;
	if (ss->ss_family == AF_INET) {
		inet_ntop(AF_INET, &((const struct sockaddr_in *)ss)->sin_addr, host, sizeof(host));
		sl = sizeof(struct sockaddr_in);
	} else {
		inet_ntop(AF_INET6, &((const struct sockaddr_in6 *)ss)->sin6_addr, host, sizeof(host));
		sl = sizeof(struct sockaddr_in6);
	}
	int fd = socket(ss->ss_family, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
	if (fd < 0) {
		snprintf(err, errlen, "TCP socket for %s: %s", host, strerror(errno));
		return -errno;
	}
	int one = 1;
	setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one));
	if (ss->ss_family == AF_INET6) {
		setsockopt(fd, IPPROTO_IPV6, IPV6_V6ONLY, &one, sizeof(one));
		setsockopt(fd, IPPROTO_IPV6, IPV6_FREEBIND, &one, sizeof(one));
	} else {
		setsockopt(fd, IPPROTO_IP, IP_FREEBIND, &one, sizeof(one));
	}
	if (bind(fd, (const struct sockaddr *)ss, sl) < 0 || listen(fd, 128) < 0) {
		int e = errno;
		snprintf(err, errlen, "TCP listen on %s: %s", host, strerror(e));
		close(fd);
		return -e;
	}
	return fd;
}

/*
 * Every connection is a descriptor: make sure max_conns fit beside the
 * store, the tap, DPDK's and the control sockets (FD_RESERVE), raising the
 * soft limit up to the hard one when needed. Otherwise accept() would fail
 * with EMFILE at some count below the limit the operator set, silently.
 */
#define FD_RESERVE 128
static int fd_budget(unsigned max_conns, char *err, size_t errlen)
{
	struct rlimit rl;
	rlim_t need = (rlim_t)max_conns + FD_RESERVE;
	if (getrlimit(RLIMIT_NOFILE, &rl) < 0 || rl.rlim_cur >= need)
		return DDI_EOK;
	if (rl.rlim_max == RLIM_INFINITY || rl.rlim_max >= need) {
		rl.rlim_cur = need;
		if (setrlimit(RLIMIT_NOFILE, &rl) == 0)
			return DDI_EOK;
	}
	snprintf(err, errlen, "--tcp-max-clients %u needs %llu file descriptors, the limit is %llu "
	         "(raise it with ulimit -n or LimitNOFILE=, or lower --tcp-max-clients)", max_conns,
	         (unsigned long long)need, (unsigned long long)rl.rlim_max);
	return DDI_EINVAL;
}

/* The transfer threads (with conf.xfr), idle until the loop hands them a connection. */
static int xfr_pool_start(struct tcp_server *s, char *err, size_t errlen)
{
	if (!s->conf.xfr)
		return DDI_EOK;
	s->xw = calloc(s->conf.xfr_max, sizeof(*s->xw));
	s->done = calloc(s->conf.xfr_max, sizeof(*s->done));
	if (!s->xw || !s->done) {
		snprintf(err, errlen, "TCP server: out of memory");
		return DDI_ENOMEM;
	}
	s->donefd = eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
	if (s->donefd < 0) {
		snprintf(err, errlen, "TCP server: %s", strerror(errno));
		return -errno;
	}
	struct epoll_event e = { .events = EPOLLIN, .data.u64 = TAG_XFR_DONE };
	epoll_ctl(s->epfd, EPOLL_CTL_ADD, s->donefd, &e);
	for (unsigned i = 0; i < s->conf.xfr_max; i++) {
		s->xw[i].s = s;
		s->xw[i].slot = -1;
		pthread_cond_init(&s->xw[i].cv, NULL);
	}
	for (unsigned i = 0; i < s->conf.xfr_max; i++) {
		struct xfr_worker *w = &s->xw[i];
		int rc = pthread_create(&w->thread, NULL, xfr_thread, w);
		if (rc) {
			snprintf(err, errlen, "TCP transfer thread: %s", strerror(rc));
			return -rc;
		}
		char name[16];
		snprintf(name, sizeof(name), "ddi-xfr%u", i % 100);
		pthread_setname_np(w->thread, name);
		w->started = true;
		s->nxw++;
	}
	return DDI_EOK;
}

/* After the loop stopped: the workers end (a waiting transfer sees stopfd), joined. */
static void xfr_pool_stop(struct tcp_server *s)
{
	if (!s->xw)
		return;
	pthread_mutex_lock(&s->xmu);
	s->xstop = true;
	for (unsigned i = 0; i < s->conf.xfr_max; i++)
		if (s->xw[i].started)
			pthread_cond_signal(&s->xw[i].cv);
	pthread_mutex_unlock(&s->xmu);
	for (unsigned i = 0; i < s->conf.xfr_max; i++) {
		if (s->xw[i].started)
			pthread_join(s->xw[i].thread, NULL);
		pthread_cond_destroy(&s->xw[i].cv);
	}
	free(s->xw);
	s->xw = NULL;
}

int tcp_server_start(struct tcp_server **out, const struct tcp_conf *conf, char *err,
                     size_t errlen)
{
	struct tcp_server *s = calloc(1, sizeof(*s));
	if (!s)
		return DDI_ENOMEM;
	s->conf = *conf;
	if (s->conf.max_conns == 0)
		s->conf.max_conns = TCP_MAX_CONNS_DEFAULT;
	if (s->conf.max_per_client == 0)
		s->conf.max_per_client = TCP_MAX_PER_CLIENT_DEFAULT;
	if (s->conf.idle_timeout_ms == 0)
		s->conf.idle_timeout_ms = TCP_IDLE_TIMEOUT_MS_DEFAULT;
	if (s->conf.nlisten > TCP_MAX_LISTEN)
		s->conf.nlisten = TCP_MAX_LISTEN;
	if (s->conf.xfr_max == 0)
		s->conf.xfr_max = TCP_XFR_MAX_DEFAULT;
	s->epfd = s->stopfd = s->donefd = -1;
	pthread_mutex_init(&s->xmu, NULL);
	for (unsigned i = 0; i < TCP_MAX_LISTEN; i++)
		s->lfd[i] = -1;

	int ret = DDI_EINVAL;
	if (s->conf.max_conns > TCP_MAX_CONNS_LIMIT) {
		snprintf(err, errlen, "TCP server: at most %u connections", TCP_MAX_CONNS_LIMIT);
		goto fail;
	}
	if (s->conf.xfr_max > TCP_XFR_MAX_LIMIT) {
		snprintf(err, errlen, "TCP server: at most %u transfers out", TCP_XFR_MAX_LIMIT);
		goto fail;
	}
	if ((ret = fd_budget(s->conf.max_conns, err, errlen)) != DDI_EOK)
		goto fail;
	ret = DDI_ENOMEM;
	s->conns = calloc(s->conf.max_conns, sizeof(*s->conns));
	s->scratch = malloc(2 + DNS_MSG_MAX);
	if (!s->conns || !s->scratch) {
		snprintf(err, errlen, "TCP server: out of memory");
		goto fail;
	}
	for (unsigned i = 0; i < s->conf.max_conns; i++)
		s->conns[i].fd = -1;
	s->epfd = epoll_create1(EPOLL_CLOEXEC);
	s->stopfd = eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
	if (s->epfd < 0 || s->stopfd < 0) {
		ret = -errno;
		snprintf(err, errlen, "TCP server: %s", strerror(errno));
		goto fail;
	}
	struct epoll_event e = { .events = EPOLLIN, .data.u64 = TAG_STOP };
	epoll_ctl(s->epfd, EPOLL_CTL_ADD, s->stopfd, &e);
	for (unsigned i = 0; i < s->conf.nlisten; i++) {
		int fd = listen_one(&s->conf.listen[i], err, errlen);
		if (fd < 0) {
			ret = fd;
			goto fail;
		}
		s->lfd[i] = fd;
		e.events = EPOLLIN;
		e.data.u64 = TAG_LISTEN | i;
		epoll_ctl(s->epfd, EPOLL_CTL_ADD, fd, &e);
	}
	if ((ret = xfr_pool_start(s, err, errlen)) != DDI_EOK ||
	    (ret = upd_start(s, err, errlen)) != DDI_EOK)
		goto fail;
	ret = -pthread_create(&s->thread, NULL, tcp_thread, s);
	if (ret < 0) {
		snprintf(err, errlen, "TCP server thread: %s", strerror(-ret));
		goto fail;
	}
	pthread_setname_np(s->thread, "ddi-tcp");
	s->started = true;
	*out = s;
	return DDI_EOK;
fail:
	tcp_server_stop(s);
	return ret;
}

void tcp_server_stop(struct tcp_server *s)
{
	if (!s)
		return;
	__atomic_store_n(&s->stopping, true, __ATOMIC_RELAXED);
	if (s->stopfd >= 0) {
		uint64_t one = 1;
		if (write(s->stopfd, &one, sizeof(one)) < 0)
			perror("tcp_server_stop");
	}
	if (s->started)
		pthread_join(s->thread, NULL);
	xfr_pool_stop(s);
	if (s->conns)
		for (unsigned i = 0; i < s->conf.max_conns; i++)
			conn_close(s, &s->conns[i]);
	for (unsigned i = 0; i < TCP_MAX_LISTEN; i++)
		if (s->lfd[i] >= 0)
			close(s->lfd[i]);
	if (s->epfd >= 0)
		close(s->epfd);
	if (s->stopfd >= 0)
		close(s->stopfd);
	if (s->donefd >= 0)
		close(s->donefd);
	upd_stop(s);
	pthread_mutex_destroy(&s->xmu);
	free(s->done);
	free(s->conns);
	free(s->scratch);
	free(s);
}

void tcp_server_stats(const struct tcp_server *s, struct tcp_stats *st)
{
	const uint64_t *src = (const uint64_t *)&s->st;
	uint64_t *dst = (uint64_t *)st;
	for (size_t i = 0; i < sizeof(*st) / sizeof(uint64_t); i++)
		dst[i] = __atomic_load_n(&src[i], __ATOMIC_RELAXED);
}

void tcp_stats_metrics(FILE *f, const struct tcp_stats *st)
{
	fprintf(f, "# HELP ddiplane_tcp_updates_in_flight UPDATE, NOTIFY and TKEY messages over TCP "
	        "handed to the DDNS thread, answer not back yet.\n"
	        "# TYPE ddiplane_tcp_updates_in_flight gauge\nddiplane_tcp_updates_in_flight %llu\n"
	        "# HELP ddiplane_tcp_updates_discarded_total Answers to updates over TCP that came "
	        "back after their connection closed.\n"
	        "# TYPE ddiplane_tcp_updates_discarded_total counter\n"
	        "ddiplane_tcp_updates_discarded_total %llu\n",
	        (unsigned long long)st->updates_in_flight, (unsigned long long)st->updates_discarded);
}
