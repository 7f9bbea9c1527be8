/* tcp -- DNS over TCP (RFC 7766): one epoll loop for queries, transfers out on threads of their own */
#ifndef DDI_CONTROL_TCP_H
#define DDI_CONTROL_TCP_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <sys/socket.h>

#include "index/answer.h"

/*
 * Limits (RFC 7766 6.2.2, 6.2.3; Knot's tcp-max-clients, tcp-idle-timeout):
 *
 * - 256 connections in all. TCP here carries truncated answers' retries,
 *   UPDATEs from a few DHCP servers and zone transfers: a busy site needs
 *   tens. 256 sits between NSD's tcp-count 100 and BIND's tcp-clients 150
 *   on one side and Knot's fd-derived default on the other, and with the
 *   store, the tap and the sockets stays far inside the usual 1024 file
 *   descriptors (ulimit -n) without any tuning.
 * - 16 per client (an IPv4 address, an IPv6 /64: one host owns a /64, so a
 *   per-/128 limit would be no limit). 6.2.2: servers "MAY impose limits on
 *   the number of concurrent TCP connections being handled for any
 *   particular client IP address or subnet. These limits SHOULD be much
 *   looser than the client guidelines above, because the server does not
 *   know [...] if a client IP address [...] is multiple clients behind a
 *   device performing Network Address Translation (NAT)". Clients keep
 *   one or two (6.2.2); 16 leaves room for a NAT of resolvers and still
 *   lets no one client take more than 1/16 of the server.
 * - 10 s idle (Knot's default; 6.2.3: "on the order of seconds [...] at
 *   least a few seconds is advisable [...] to support those clients that
 *   expect the SOA and AXFR request sequence to be made on a single
 *   connection"). Idle means: no complete message received and no answer
 *   bytes taken by the client. A partial message does not count, so one
 *   byte every few seconds (slowloris) does not keep a connection open.
 */
#define TCP_MAX_CONNS_DEFAULT 256
#define TCP_MAX_PER_CLIENT_DEFAULT 16
#define TCP_IDLE_TIMEOUT_MS_DEFAULT 10000
#define TCP_MAX_CONNS_LIMIT 16384           /* the per-client count is a scan of the slots */
#define TCP_MAX_LISTEN 32

/*
 * Transfers out (AXFR, IXFR) run apart from the query loop, on a pool of
 * xfr_max threads (Knot DNS and NSD serve transfers apart from queries
 * too): a transfer is generated from one LMDB read transaction by walks
 * with callbacks (control/xfr/out.c), and its emitter must wait while the
 * reader is slow. A thread may wait; the loop never does, so a reader that
 * stops costs only its own transfer and one of the threads, and every
 * other TCP client is answered meanwhile. (A resumable state machine in
 * the loop would have to cut the store's walks into steps that can be
 * resumed; threads keep one straight reading of one snapshot.)
 *
 * While a transfer runs, its connection belongs to its thread: out of the
 * epoll set, no idle sweep; the input after the request (RFC 7766 6.2.1.1
 * pipelining) stays where it is. When the transfer ends the connection is
 * handed back to the loop, which sends what is still queued and answers
 * the pipelined requests that followed, in order.
 *
 * The limit: 8 by default (BIND's transfers-out is 10), at most 64: each
 * running transfer holds an LMDB reader slot (126 in all, shared with
 * ddictl, the HTTP API and every other reader) and keeps the pages of its
 * snapshot from being reused while it runs. A transfer over the limit is
 * answered REFUSED at once, as BIND answers one over its transfers-out
 * quota: the request was well-formed and allowed, the server declines it
 * for now (SERVFAIL would say the zone is broken), and a secondary retries
 * later or asks another primary.
 */
#define TCP_XFR_MAX_DEFAULT 8
#define TCP_XFR_MAX_LIMIT 64
#define TCP_XFR_RUN 1                       /* xfr_check: run the transfer on a thread */

struct idx;
struct tcp_server;
struct dns_cookie_secrets;

struct tcp_conf {
	struct idx *idx;                 /* answers come from idx_acquire(idx) */
	const struct answer_conf *answer;
	struct sockaddr_storage listen[TCP_MAX_LISTEN];  /* addresses with their port */
	unsigned nlisten;
	unsigned max_conns;              /* 0: TCP_MAX_CONNS_DEFAULT; at most TCP_MAX_CONNS_LIMIT */
	unsigned max_per_client;         /* 0: TCP_MAX_PER_CLIENT_DEFAULT */
	unsigned idle_timeout_ms;        /* 0: TCP_IDLE_TIMEOUT_MS_DEFAULT */
	/*
	 * UPDATE and NOTIFY messages go here instead of answer_message() (NULL:
	 * answered NOTIMP like every other opcode): the message, the peer's
	 * address (family 4 or 6), `done` with `dctx` and `tag` for the answer,
	 * and a buffer (cap bytes) for an answer given at once. Returns 0 when
	 * the message was queued: `done` then gives the answer later, exactly
	 * once, from any thread, without blocking (resp valid during the call,
	 * n 0 for none); returns the length of an answer written in resp (a
	 * SERVFAIL when the queue is full), or a negative error (no answer),
	 * and `done` is not called. It must not wait: it runs on the query
	 * loop, online as an RCU reader. ddiplane points it at
	 * ddns_thread_submit_async (control/ddns/thread.h).
	 *
	 * The loop does not wait for the answer (the DDNS thread's group
	 * commit: the store's lock, a sync). Its connection waits instead: one
	 * update in flight per connection, and the requests pipelined after it
	 * are answered only once its answer is queued (RFC 7766 6.2.1.1 allows
	 * any order; answers stay in order per connection, which every client
	 * understands). Other connections go on. In all at most max_conns are
	 * in flight (more are answered SERVFAIL at once), so the completion
	 * queue, sized max_conns, never fills. A connection closed meanwhile
	 * does not receive the late answer: a completion names a slot and the
	 * slot's generation, never a pointer, and is discarded (counted) when
	 * the slot was closed or reused; the completion queue itself lives
	 * until its last completion, after tcp_server_stop if need be.
	 */
	int (*update)(void *ctx, const uint8_t *req, size_t len, uint8_t src_family,
	              const uint8_t *src_addr,
	              void (*done)(void *dctx, uint64_t tag, const uint8_t *resp, int n), void *dctx,
	              uint64_t tag, uint8_t *resp, size_t cap);
	void *update_ctx;
	/* TKEY queries (GSS-TSIG negotiation, control/ddns/tkey.h) go to `update` too */
	bool update_tkey;
	/*
	 * AXFR and IXFR queries go here (NULL: answer_message(), which answers
	 * them NOTIMP): the query, the peer, and `emit`, which queues one
	 * response message (no length prefix) on the connection, in order.
	 * Runs on a transfer thread (see above), never on the query loop, and not
	 * as an RCU reader (it reads the store, not the index). emit keeps at
	 * most ~128 KiB queued: past that it waits (poll) for the socket to take
	 * it, so a transfer's memory is a few messages whatever the zone's size;
	 * it fails with DDI_EIO when the peer stops reading or the server stops,
	 * and with -ETIMEDOUT once the transfer has waited idle_timeout_ms in
	 * all (progress or not: a reader that trickles is not kept for ever).
	 * Only this connection waits meanwhile. ddiplane points it at
	 * xfr_out_serve (control/xfr/xfr.h).
	 */
	int (*xfr)(void *ctx, const uint8_t *req, size_t len, uint8_t src_family,
	           const uint8_t *src_addr, int (*emit)(void *ectx, const uint8_t *msg, size_t len),
	           void *ectx);
	void *xfr_ctx;   /* for xfr and xfr_check */
	/*
	 * The checks of a transfer request, on the query loop, before a
	 * transfer thread is taken (NULL: every request runs on a thread, and
	 * over the limit the TCP server answers REFUSED itself, unsigned). It
	 * must not wait: `emit` only queues (one answer, at most). `full` says
	 * that every transfer thread is busy. Returns TCP_XFR_RUN when the
	 * request is a transfer to run (`xfr` on a thread; never when `full`),
	 * 0 when it answered here (a refusal, REFUSED over the limit, a signed
	 * SOA), negative when nothing could be sent (the connection is closed).
	 * It runs RCU-offline. ddiplane points it at xfr_out_check_now.
	 */
	int (*xfr_check)(void *ctx, const uint8_t *req, size_t len, uint8_t src_family,
	                 const uint8_t *src_addr, bool full,
	                 int (*emit)(void *ectx, const uint8_t *msg, size_t len), void *ectx);
	unsigned xfr_max;                /* transfer threads: 0 is TCP_XFR_MAX_DEFAULT; <= TCP_XFR_MAX_LIMIT */
	/*
	 * DNS cookies (RFC 7873, dns/cookie.h), NULL: off. The same secrets the
	 * workers use, so a cookie learnt over UDP is valid over TCP and back;
	 * `answer` must then have cookies on (answer_conf.cookies).
	 */
	const struct dns_cookie_secrets *cookies;
};

/* Counters, written by the server thread only, read with relaxed loads. */
struct tcp_stats {
	uint64_t accepted;
	uint64_t refused_total_limit;  /* reset at once: max_conns open */
	uint64_t refused_client_limit; /* reset at once: max_per_client open from its address/64 */
	uint64_t queries;          /* messages answered */
	uint64_t no_answer;        /* messages answer_message() did not answer */
	uint64_t bad_length;       /* length prefix < 12: connection closed */
	uint64_t idle_closed;      /* idle timeout */
	uint64_t closed_peer;      /* EOF or error from the peer */
	uint64_t open;             /* connections open now (a gauge) */
	uint64_t cookie_new;       /* a client cookie alone: a server cookie sent */
	uint64_t cookie_valid;     /* our server cookie, echoed */
	uint64_t cookie_refreshed; /* ours but old or of the previous secret: a new one sent */
	uint64_t cookie_bad;       /* not ours: answered normally with a new one (RFC 7873 5.2.4) */
	uint64_t cookie_malformed; /* bad COOKIE length: FORMERR */
	uint64_t updates_in_flight;  /* UPDATE/NOTIFY/TKEY handed to `update`, answer not back (a gauge) */
	uint64_t updates_discarded;  /* answers that came back after their connection closed */
};

/*
 * Bind every listen address (IP_FREEBIND / IPV6_FREEBIND: the address may
 * appear on an interface later, e.g. the tap), then start the server
 * thread, a liburcu QSBR reader that is online only while it answers, and
 * (with `xfr`) the xfr_max transfer threads, which are no RCU readers.
 * The idx and answer conf must outlive the server.
 * Errors: -errno of socket/bind/listen (the message in `err` names the
 * address), DDI_ENOMEM, DDI_EINVAL when max_conns exceeds TCP_MAX_CONNS_LIMIT,
 * xfr_max exceeds TCP_XFR_MAX_LIMIT, or the file descriptor limit (RLIMIT_NOFILE, raised to its hard limit
 * when needed) cannot hold max_conns connections beside the rest.
 *
 * Protocol (RFC 7766): each message has a 2-byte length prefix; several
 * messages per connection, answered in order (pipelined queries are read
 * and answered as they come, responses queued in order); a length below
 * the DNS header size closes the connection; idle connections are closed
 * after idle_timeout_ms.
 *
 * Refusal when full (max_conns open, or max_per_client from the peer's
 * address): the connection is accepted and reset at once (SO_LINGER 0),
 * counted by which limit. Why accept and not leave it in the listen
 * backlog: the client learns at once and tries another server or later
 * (6.2.3 allows servers "zero timeouts when they are experiencing heavy
 * load or are under attack", 6.2.4 lets either end close "when defending
 * against an attack"), where a full backlog makes it wait for SYN
 * retransmissions; the per-client limit needs the peer's address, known
 * only after accept(); and a listen socket left readable would spin the
 * epoll loop. Why a reset and not a FIN: an active close would park every
 * refused connection of a flood in TIME_WAIT on our side for a minute.
 * The backlog itself stays bounded (listen(128), capped by somaxconn).
 */
int tcp_server_start(struct tcp_server **out, const struct tcp_conf *conf, char *err,
                     size_t errlen);

/*
 * Stop the threads (a transfer that waits for its reader gives up at
 * once), close every socket, free. NULL is ignored.
 */
void tcp_server_stop(struct tcp_server *s);

/* A copy of the counters. */
void tcp_server_stats(const struct tcp_server *s, struct tcp_stats *st);

/* The counters of updates over TCP in the Prometheus text format (for /metrics). */
void tcp_stats_metrics(FILE *f, const struct tcp_stats *st);

#endif
