/* tcp -- DNS over TCP (RFC 7766) on the kernel side: one thread, epoll, non-blocking sockets */
#ifndef DDI_CONTROL_TCP_H
#define DDI_CONTROL_TCP_H

#include <stddef.h>
#include <stdint.h>
#include <sys/socket.h>

#include "index/answer.h"

#define TCP_MAX_CONNS_DEFAULT 512
#define TCP_IDLE_TIMEOUT_MS_DEFAULT 10000   /* RFC 7766 6.2.3: "on the order of seconds" */
#define TCP_MAX_LISTEN 32

struct idx;
struct tcp_server;

struct tcp_conf {
	struct idx *idx;                 /* answers come from idx_acquire(idx) */
	const struct answer_conf *answer;
	struct sockaddr_storage listen[TCP_MAX_LISTEN];  /* addresses with their port */
	unsigned nlisten;
	unsigned max_conns;              /* 0: TCP_MAX_CONNS_DEFAULT */
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
	/*
	 * AXFR and IXFR queries go here (NULL: answer_message(), which answers
	 * them NOTIMP): the query, the peer, and `emit`, which queues one
	 * response message (no length prefix) on the connection, in order.
	 * Runs on the server thread, RCU-offline (it reads the store, not the
	 * index). ddiplane points it at xfr_out_serve (control/xfr/xfr.h).
	 */
	int (*xfr)(void *ctx, const uint8_t *req, size_t len, uint8_t src_family,
	           const uint8_t *src_addr, int (*emit)(void *ectx, const uint8_t *msg, size_t len),
	           void *ectx);
	void *xfr_ctx;
};

/* Counters, written by the server thread only, read with relaxed loads. */
struct tcp_stats {
	uint64_t accepted;
	uint64_t refused_full;     /* connections closed at once: max_conns reached */
	uint64_t queries;          /* messages answered */
	uint64_t no_answer;        /* messages answer_message() did not answer */
	uint64_t bad_length;       /* length prefix < 12: connection closed */
	uint64_t closed_idle;      /* idle timeout */
	uint64_t closed_peer;      /* EOF or error from the peer */
};

/*
 * Bind every listen address (IP_FREEBIND / IPV6_FREEBIND: the address may
 * appear on an interface later, e.g. the tap), then start the server
 * thread, a liburcu QSBR reader that is online only while it answers.
 * The idx and answer conf must outlive the server.
 * Errors: -errno of socket/bind/listen (the message in `err` names the
 * address), DDI_ENOMEM.
 *
 * Protocol (RFC 7766): each message has a 2-byte length prefix; several
 * messages per connection, answered in order (pipelined queries are read
 * and answered as they come, responses queued in order); a length below
 * the DNS header size closes the connection; idle connections are closed
 * after idle_timeout_ms; at most max_conns at once (more are accepted and
 * closed at once so that they fail fast instead of waiting in the backlog).
 */
int tcp_server_start(struct tcp_server **out, const struct tcp_conf *conf, char *err,
                     size_t errlen);

/* Stop the thread, close every socket, free. NULL is ignored. */
void tcp_server_stop(struct tcp_server *s);

/* A copy of the counters. */
void tcp_server_stats(const struct tcp_server *s, struct tcp_stats *st);

#endif
