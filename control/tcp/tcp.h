/* tcp -- DNS over TCP (RFC 7766) on the kernel side: one thread, epoll, non-blocking sockets */
#ifndef DDI_CONTROL_TCP_H
#define DDI_CONTROL_TCP_H

#include <stddef.h>
#include <stdint.h>
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
	 * address (family 4 or 6), the response buffer. Returns the response
	 * length, 0 for none, or a negative error. Runs on the server thread,
	 * which goes RCU-offline around it because it may block: ddiplane
	 * points it at ddns_thread_submit (control/ddns/thread.h), which waits
	 * for the DDNS thread's group commit.
	 */
	int (*update)(void *ctx, const uint8_t *req, size_t len, uint8_t src_family,
	              const uint8_t *src_addr, uint8_t *resp, size_t cap);
	void *update_ctx;
	/* TKEY queries (GSS-TSIG negotiation, control/ddns/tkey.h) go to `update` too */
	bool update_tkey;
	/*
	 * AXFR and IXFR queries go here (NULL: answer_message(), which answers
	 * them NOTIMP): the query, the peer, and `emit`, which queues one
	 * response message (no length prefix) on the connection, in order.
	 * emit keeps at most ~128 KiB queued: past that it waits (poll) for
	 * the socket to take it, so a transfer's memory is a few messages
	 * whatever the zone's size; it fails (DDI_EIO) when the peer stops
	 * reading or once the transfer has waited idle_timeout_ms in all (the
	 * wait holds this thread: every other TCP client waits too). Runs on the server
	 * thread, RCU-offline (it reads the store, not the index). ddiplane points it at xfr_out_serve (control/xfr/xfr.h).
	 */
	int (*xfr)(void *ctx, const uint8_t *req, size_t len, uint8_t src_family,
	           const uint8_t *src_addr, int (*emit)(void *ectx, const uint8_t *msg, size_t len),
	           void *ectx);
	void *xfr_ctx;
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
};

/*
 * Bind every listen address (IP_FREEBIND / IPV6_FREEBIND: the address may
 * appear on an interface later, e.g. the tap), then start the server
 * thread, a liburcu QSBR reader that is online only while it answers.
 * The idx and answer conf must outlive the server.
 * Errors: -errno of socket/bind/listen (the message in `err` names the
 * address), DDI_ENOMEM, DDI_EINVAL when max_conns exceeds TCP_MAX_CONNS_LIMIT
 * or the file descriptor limit (RLIMIT_NOFILE, raised to its hard limit
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

/* Stop the thread, close every socket, free. NULL is ignored. */
void tcp_server_stop(struct tcp_server *s);

/* A copy of the counters. */
void tcp_server_stats(const struct tcp_server *s, struct tcp_stats *st);

#endif
