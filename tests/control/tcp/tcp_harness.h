/* tcp_harness -- what the TCP server's unit tests share: a network namespace of their own, a loopback client, framed messages */
#ifndef DDI_TESTS_TCP_HARNESS_H
#define DDI_TESTS_TCP_HARNESS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "control/tcp/tcp.h"

/*
 * Move this process into a network namespace of its own with loopback up
 * (unshare(CLONE_NEWNET)), so that no other test's port or address is in
 * the way. False (after a line on stderr naming `who`) without the right
 * to: the caller skips its tests then.
 */
bool tcph_netns(const char *who);

/* Monotonic milliseconds. */
int64_t tcph_now_ms(void);

/* The server listens on 127.0.0.1 port 53 only (c->listen[0], nlisten 1). */
void tcph_listen_lo(struct tcp_conf *c);

/* A connected client of 127.0.0.1:53, 5 s receive timeout; rcvbuf > 0 sets SO_RCVBUF. */
int tcph_client(int rcvbuf);

/*
 * A length-prefixed message for "t." class IN with `id`, `opcode` and
 * `qtype`, written at `out` (at least 64 bytes); its length with the prefix.
 */
size_t tcph_put_msg(uint8_t *out, uint16_t id, uint8_t opcode, uint16_t qtype);

/* tcph_put_msg, then send it whole (asserted). */
void tcph_send_msg(int fd, uint16_t id, uint8_t opcode, uint16_t qtype);

/* Exactly n bytes; false at EOF, error or timeout. */
bool tcph_read_exact(int fd, uint8_t *b, size_t n);

#endif
