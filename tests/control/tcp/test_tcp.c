/* test_tcp -- the TCP server's transfer threads: a stalled transfer holds only itself, the limit, pipelining, stop */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>
#include <arpa/inet.h>
#include <netinet/in.h>
#include <poll.h>
#include <sys/socket.h>

#include <cmocka.h>

#include "control/tcp/tcp.h"
#include "dns/errcode.h"
#include "dns/wire.h"
#include "index/snapshot.h"
#include "tests/control/tcp/tcp_harness.h"

/*
 * The server runs in a network namespace of this process's own
 * (unshare(CLONE_NEWNET), loopback only), so no other test's port or
 * address is in the way; without root the tests are skipped.
 * The transfer hook is a stand-in for xfr_out_serve: XFR_MSGS messages of
 * XFR_MSG_LEN bytes (12 MB, far more than the socket buffers: 4 MB at most), each with
 * the request's ID.
 */
#define XFR_MSGS 200
#define XFR_MSG_LEN 60000

static bool netns_ok;
static struct idx *ix;
static const struct answer_conf aconf = { .udp_max = 1232 };

/* What the hooks saw (set on the transfer threads and the loop, read after waits). */
static int xfr_calls, check_calls, check_full;
static int last_xfr_rc;

static int xfr_hook(void *ctx, const uint8_t *req, size_t len, uint8_t fam, const uint8_t *addr,
                    int (*emit)(void *ectx, const uint8_t *msg, size_t len), void *ectx)
{
	(void)ctx, (void)len, (void)fam, (void)addr;
	__atomic_fetch_add(&xfr_calls, 1, __ATOMIC_SEQ_CST);
	int rc = 0;
	for (int i = 0; i < XFR_MSGS && rc == 0; i++) {
		uint8_t m[XFR_MSG_LEN];
		memset(m, 0, sizeof(m));
		memcpy(m, req, 2);
		m[2] = 0x80;
		rc = emit(ectx, m, sizeof(m));
	}
	__atomic_store_n(&last_xfr_rc, rc, __ATOMIC_SEQ_CST);
	return rc;
}

/* Over the limit: REFUSED; otherwise run it. */
static int check_hook(void *ctx, const uint8_t *req, size_t len, uint8_t fam, const uint8_t *addr,
                      bool full, int (*emit)(void *ectx, const uint8_t *msg, size_t len),
                      void *ectx)
{
	(void)ctx, (void)len, (void)fam, (void)addr;
	__atomic_fetch_add(&check_calls, 1, __ATOMIC_SEQ_CST);
	if (!full)
		return TCP_XFR_RUN;
	__atomic_fetch_add(&check_full, 1, __ATOMIC_SEQ_CST);
	uint8_t r[DNS_HDR_LEN] = { req[0], req[1], 0x80, DNS_RCODE_REFUSED };
	return emit(ectx, r, sizeof(r)) ? -1 : 0;
}

static struct tcp_server *start(unsigned xfr_max, unsigned idle_ms)
{
	struct tcp_conf c = { .idx = ix, .answer = &aconf, .xfr = xfr_hook,
	                      .xfr_check = check_hook, .xfr_max = xfr_max,
	                      .idle_timeout_ms = idle_ms };
	tcph_listen_lo(&c);
	struct tcp_server *s = NULL;
	char err[256];
	__atomic_store_n(&xfr_calls, 0, __ATOMIC_SEQ_CST);
	__atomic_store_n(&check_calls, 0, __ATOMIC_SEQ_CST);
	__atomic_store_n(&check_full, 0, __ATOMIC_SEQ_CST);
	__atomic_store_n(&last_xfr_rc, 1, __ATOMIC_SEQ_CST);
	int rc = tcp_server_start(&s, &c, err, sizeof(err));
	if (rc)
		fprintf(stderr, "tcp_server_start: %s\n", err);
	assert_int_equal(rc, DDI_EOK);
	return s;
}

/* One response: its ID and RCODE; its length, 0 at EOF or timeout. */
static size_t read_msg(int fd, uint16_t *id, uint8_t *rcode)
{
	static uint8_t b[65535];
	uint8_t p[2];
	if (!tcph_read_exact(fd, p, 2))
		return 0;
	size_t n = dns_get16(p);
	if (n < DNS_HDR_LEN || !tcph_read_exact(fd, b, n))
		return 0;
	*id = dns_get16(b);
	*rcode = b[3] & 0xf;
	return n;
}

/* The whole transfer with `id`: XFR_MSGS messages. */
static void read_transfer(int fd, uint16_t want)
{
	uint16_t id;
	uint8_t rc;
	for (int i = 0; i < XFR_MSGS; i++) {
		assert_int_equal(read_msg(fd, &id, &rc), XFR_MSG_LEN);
		assert_int_equal(id, want);
	}
}

/*
 * A reader that stops holds only its transfer: a query on another
 * connection is answered at once; with the limit at 1, a second transfer
 * is refused at once; at the time bound the stalled transfer ends with
 * -ETIMEDOUT and the next transfer runs in full.
 */
static void test_stall(void **state)
{
	(void)state;
	if (!netns_ok)
		skip();
	struct tcp_server *s = start(1, 1000);
	int a = tcph_client(4096);
	tcph_send_msg(a, 7, DNS_OP_QUERY, 252);
	usleep(300 * 1000);   /* the transfer fills the buffers and waits */
	assert_int_equal(__atomic_load_n(&xfr_calls, __ATOMIC_SEQ_CST), 1);

	int64_t t0 = tcph_now_ms();
	int b = tcph_client(0);
	tcph_send_msg(b, 8, DNS_OP_QUERY, 1);
	uint16_t id;
	uint8_t rc;
	assert_true(read_msg(b, &id, &rc) > 0);
	assert_int_equal(id, 8);
	assert_true(tcph_now_ms() - t0 < 300);

	t0 = tcph_now_ms();
	int c = tcph_client(0);
	tcph_send_msg(c, 9, DNS_OP_QUERY, 252);
	assert_true(read_msg(c, &id, &rc) > 0);
	assert_int_equal(id, 9);
	assert_int_equal(rc, DNS_RCODE_REFUSED);
	assert_true(tcph_now_ms() - t0 < 300);
	assert_int_equal(__atomic_load_n(&check_full, __ATOMIC_SEQ_CST), 1);
	assert_int_equal(__atomic_load_n(&xfr_calls, __ATOMIC_SEQ_CST), 1);

	/* the bound: 1 s of waiting in all; then the slot is free again */
	for (int i = 0; i < 40 && __atomic_load_n(&last_xfr_rc, __ATOMIC_SEQ_CST) == 1; i++)
		usleep(100 * 1000);
	assert_int_equal(__atomic_load_n(&last_xfr_rc, __ATOMIC_SEQ_CST), -ETIMEDOUT);
	/* the stalled connection was closed: what was queued, then EOF (or a reset) */
	uint8_t buf[65536];
	ssize_t r;
	while ((r = recv(a, buf, sizeof(buf), 0)) > 0)
		;
	assert_true(r == 0 || errno == ECONNRESET);
	int d = tcph_client(0);
	tcph_send_msg(d, 10, DNS_OP_QUERY, 252);
	read_transfer(d, 10);
	for (int i = 0; i < 20 && __atomic_load_n(&last_xfr_rc, __ATOMIC_SEQ_CST) != 0; i++)
		usleep(50 * 1000);   /* the hook returns after its last message left */
	assert_int_equal(__atomic_load_n(&last_xfr_rc, __ATOMIC_SEQ_CST), 0);
	assert_int_equal(__atomic_load_n(&xfr_calls, __ATOMIC_SEQ_CST), 2);
	close(a);
	close(b);
	close(c);
	close(d);
	tcp_server_stop(s);
}

/* RFC 7766 6.2.1.1: a query pipelined after a transfer is answered after it, not dropped. */
static void test_pipeline(void **state)
{
	(void)state;
	if (!netns_ok)
		skip();
	struct tcp_server *s = start(2, 5000);
	int fd = tcph_client(0);
	uint8_t q[256];
	size_t n = tcph_put_msg(q, 1, DNS_OP_QUERY, 252);
	n += tcph_put_msg(q + n, 2, DNS_OP_QUERY, 1);
	n += tcph_put_msg(q + n, 3, DNS_OP_QUERY, 252);
	n += tcph_put_msg(q + n, 4, DNS_OP_QUERY, 1);
	assert_int_equal(send(fd, q, n, 0), (ssize_t)n);
	uint16_t id;
	uint8_t rc;
	read_transfer(fd, 1);
	assert_true(read_msg(fd, &id, &rc) > 0);
	assert_int_equal(id, 2);
	read_transfer(fd, 3);
	assert_true(read_msg(fd, &id, &rc) > 0);
	assert_int_equal(id, 4);
	assert_int_equal(__atomic_load_n(&xfr_calls, __ATOMIC_SEQ_CST), 2);
	close(fd);
	tcp_server_stop(s);
}

/* Stopping the server while a transfer waits for its reader: the transfer gives up at once. */
static void test_stop_during_stall(void **state)
{
	(void)state;
	if (!netns_ok)
		skip();
	struct tcp_server *s = start(0, 60000);
	int a = tcph_client(4096);
	tcph_send_msg(a, 7, DNS_OP_QUERY, 252);
	usleep(300 * 1000);
	int64_t t0 = tcph_now_ms();
	tcp_server_stop(s);
	assert_true(tcph_now_ms() - t0 < 1000);
	assert_int_equal(__atomic_load_n(&last_xfr_rc, __ATOMIC_SEQ_CST), DDI_EIO);
	close(a);
}

/* The limit is checked when the server starts. */
static void test_limit_conf(void **state)
{
	(void)state;
	if (!netns_ok)
		skip();
	struct tcp_conf c = { .idx = ix, .answer = &aconf, .xfr = xfr_hook,
	                      .xfr_max = TCP_XFR_MAX_LIMIT + 1 };
	struct tcp_server *s = NULL;
	char err[256] = "";
	assert_int_equal(tcp_server_start(&s, &c, err, sizeof(err)), DDI_EINVAL);
	assert_non_null(strstr(err, "transfers out"));
}

static int group_setup(void **state)
{
	(void)state;
	ix = idx_new();
	if (!ix)
		return -1;
	netns_ok = tcph_netns("test_tcp");
	return 0;
}

static int group_teardown(void **state)
{
	(void)state;
	idx_free(ix);
	return 0;
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_stall),
		cmocka_unit_test(test_pipeline),
		cmocka_unit_test(test_stop_during_stall),
		cmocka_unit_test(test_limit_conf),
	};
	return cmocka_run_group_tests(tests, group_setup, group_teardown);
}
