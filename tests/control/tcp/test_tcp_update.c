/* test_tcp_update -- updates over TCP do not hold the query loop: in flight apart, answers in order, late answers of closed connections discarded */
#include <errno.h>
#include <pthread.h>
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
#include "dns/rdata.h"
#include "dns/wire.h"
#include "index/snapshot.h"
#include "tests/control/tcp/tcp_harness.h"

/*
 * The update hook is a stand-in for ddns_thread_submit_async: it keeps
 * each submission (its `done`, context, tag and the request's ID) until
 * the test releases it, as a DDNS thread held by a slow commit would. The
 * server runs in a network namespace of this process's own, as in
 * test_tcp.c; without root the tests are skipped.
 */
#define HELD_MAX 16

struct held {
	void (*done)(void *dctx, uint64_t tag, const uint8_t *resp, int n);
	void *dctx;
	uint64_t tag;
	uint16_t id;
};

static bool netns_ok;
static struct idx *ix;
static const struct answer_conf aconf = { .udp_max = 1232 };
static pthread_mutex_t held_mu = PTHREAD_MUTEX_INITIALIZER;
static struct held held[HELD_MAX];
static unsigned nheld;
static bool refuse_now;   /* the hook answers SERVFAIL at once (a full DDNS queue) */

static int update_hook(void *ctx, const uint8_t *req, size_t len, uint8_t fam,
                       const uint8_t *addr,
                       void (*done)(void *dctx, uint64_t tag, const uint8_t *resp, int n),
                       void *dctx, uint64_t tag, uint8_t *resp, size_t cap)
{
	(void)ctx, (void)len, (void)fam, (void)addr, (void)cap;
	if (__atomic_load_n(&refuse_now, __ATOMIC_SEQ_CST)) {
		memset(resp, 0, DNS_HDR_LEN);
		memcpy(resp, req, 2);
		resp[2] = (uint8_t)(0x80 | (req[2] & 0x78));
		resp[3] = DNS_RCODE_SERVFAIL;
		return DNS_HDR_LEN;
	}
	pthread_mutex_lock(&held_mu);
	assert_true(nheld < HELD_MAX);
	held[nheld++] = (struct held){ done, dctx, tag, dns_get16(req) };
	pthread_mutex_unlock(&held_mu);
	return 0;
}

static unsigned held_count(void)
{
	pthread_mutex_lock(&held_mu);
	unsigned n = nheld;
	pthread_mutex_unlock(&held_mu);
	return n;
}

/* The oldest held submission gets its answer: NOERROR with its ID (this thread, not the loop). */
static uint16_t release_one(void)
{
	pthread_mutex_lock(&held_mu);
	assert_true(nheld > 0);
	struct held h = held[0];
	memmove(held, held + 1, (--nheld) * sizeof(held[0]));
	pthread_mutex_unlock(&held_mu);
	uint8_t r[DNS_HDR_LEN] = { 0 };
	dns_put16(r, h.id);
	r[2] = 0x80 | (DNS_OP_UPDATE << 3);
	h.done(h.dctx, h.tag, r, sizeof(r));
	return h.id;
}

static struct tcp_server *start_max(unsigned max_conns)
{
	struct tcp_conf c = { .idx = ix, .answer = &aconf, .update = update_hook,
	                      .max_conns = max_conns };
	tcph_listen_lo(&c);
	struct tcp_server *s = NULL;
	char err[256];
	nheld = 0;
	refuse_now = false;
	int rc = tcp_server_start(&s, &c, err, sizeof(err));
	if (rc)
		fprintf(stderr, "tcp_server_start: %s\n", err);
	assert_int_equal(rc, DDI_EOK);
	return s;
}

static struct tcp_server *start(void)
{
	return start_max(0);
}

/* A length-prefixed message for "t." with `opcode`, `id` (a QUERY asks A); appended at out. */
static size_t put_msg(uint8_t *out, uint16_t id, uint8_t opcode)
{
	return tcph_put_msg(out, id, opcode, opcode == DNS_OP_UPDATE ? DNS_T_SOA : DNS_T_A);
}

static void send_msg(int fd, uint16_t id, uint8_t opcode)
{
	tcph_send_msg(fd, id, opcode, opcode == DNS_OP_UPDATE ? DNS_T_SOA : DNS_T_A);
}

/* The ID of the next response; -1 at EOF or timeout. */
static int read_id(int fd)
{
	uint8_t b[1024], p[2];
	if (!tcph_read_exact(fd, p, 2))
		return -1;
	size_t n = dns_get16(p);
	if (n < DNS_HDR_LEN || n > sizeof(b) || !tcph_read_exact(fd, b, n))
		return -1;
	return dns_get16(b);
}

/* Nothing to read within ms. */
static bool quiet(int fd, int ms)
{
	struct pollfd p = { .fd = fd, .events = POLLIN };
	return poll(&p, 1, ms) == 0;
}

static struct tcp_stats stats(struct tcp_server *s)
{
	struct tcp_stats st;
	tcp_server_stats(s, &st);
	return st;
}

/* Wait (at most 2 s) until `cond` holds of the stats. */
#define WAIT_STATS(s, cond)                                                           \
	do {                                                                              \
		int64_t t0_ = tcph_now_ms();                                                       \
		struct tcp_stats st;                                                          \
		while (st = stats(s), !(cond) && tcph_now_ms() - t0_ < 2000)                       \
			usleep(5000);                                                             \
		assert_true(cond);                                                            \
	} while (0)

/*
 * An UPDATE held by its commit: another connection's query is answered
 * at once; the query pipelined behind the UPDATE waits, and both come in
 * order once the UPDATE's answer is back.
 */
static void test_inflight_apart_in_order(void **state)
{
	(void)state;
	if (!netns_ok)
		skip();
	struct tcp_server *s = start();
	int a = tcph_client(0), b = tcph_client(0);
	uint8_t q[128];
	size_t n = put_msg(q, 10, DNS_OP_UPDATE);
	n += put_msg(q + n, 11, DNS_OP_QUERY);
	assert_int_equal(send(a, q, n, 0), (ssize_t)n);
	WAIT_STATS(s, st.updates_in_flight == 1);
	assert_int_equal(held_count(), 1);

	int64_t t0 = tcph_now_ms();
	send_msg(b, 20, DNS_OP_QUERY);
	assert_int_equal(read_id(b), 20);
	assert_true(tcph_now_ms() - t0 < 1000);
	assert_true(quiet(a, 200));              /* the query behind the UPDATE waits its turn */

	assert_int_equal(release_one(), 10);
	assert_int_equal(read_id(a), 10);
	assert_int_equal(read_id(a), 11);
	WAIT_STATS(s, st.updates_in_flight == 0);
	assert_int_equal(stats(s).updates_discarded, 0);

	/* one in flight per connection: a second UPDATE goes out after the first's answer */
	n = put_msg(q, 12, DNS_OP_UPDATE);
	n += put_msg(q + n, 13, DNS_OP_UPDATE);
	assert_int_equal(send(a, q, n, 0), (ssize_t)n);
	WAIT_STATS(s, st.updates_in_flight == 1);
	usleep(100 * 1000);
	assert_int_equal(held_count(), 1);
	assert_int_equal(release_one(), 12);
	assert_int_equal(read_id(a), 12);
	WAIT_STATS(s, st.updates_in_flight == 1);
	assert_int_equal(release_one(), 13);
	assert_int_equal(read_id(a), 13);
	close(a);
	close(b);
	tcp_server_stop(s);
}

/*
 * A connection reset with its UPDATE in flight: the late answer is
 * discarded, and not given to the next connection in the same slot,
 * which gets its own.
 */
static void test_closed_discarded(void **state)
{
	(void)state;
	if (!netns_ok)
		skip();
	struct tcp_server *s = start();
	int a = tcph_client(0);
	send_msg(a, 30, DNS_OP_UPDATE);
	WAIT_STATS(s, st.updates_in_flight == 1);
	struct linger lg = { .l_onoff = 1, .l_linger = 0 };
	setsockopt(a, SOL_SOCKET, SO_LINGER, &lg, sizeof(lg));
	close(a);                                  /* a reset */
	WAIT_STATS(s, st.open == 0);

	int c = tcph_client(0);                          /* the slot the closed one had */
	send_msg(c, 31, DNS_OP_UPDATE);
	WAIT_STATS(s, st.updates_in_flight == 2);
	assert_int_equal(release_one(), 30);
	WAIT_STATS(s, st.updates_discarded == 1);
	assert_true(quiet(c, 200));                /* not someone else's answer */
	assert_int_equal(release_one(), 31);
	assert_int_equal(read_id(c), 31);
	WAIT_STATS(s, st.updates_in_flight == 0);
	send_msg(c, 32, DNS_OP_QUERY);
	assert_int_equal(read_id(c), 32);
	close(c);
	tcp_server_stop(s);
}

/* An answer given at once (a full DDNS queue: SERVFAIL) goes out at once; nothing in flight. */
static void test_answered_at_once(void **state)
{
	(void)state;
	if (!netns_ok)
		skip();
	struct tcp_server *s = start();
	refuse_now = true;
	int a = tcph_client(0);
	uint8_t q[128];
	size_t n = put_msg(q, 40, DNS_OP_UPDATE);
	n += put_msg(q + n, 41, DNS_OP_QUERY);
	assert_int_equal(send(a, q, n, 0), (ssize_t)n);
	assert_int_equal(read_id(a), 40);
	assert_int_equal(read_id(a), 41);
	assert_int_equal(stats(s).updates_in_flight, 0);
	assert_int_equal(held_count(), 0);
	close(a);
	tcp_server_stop(s);
}

/*
 * At most max_conns in flight in all, so that the completion queue never
 * fills: with one connection allowed, a reset one's UPDATE still out and
 * a new connection's UPDATE is answered SERVFAIL at once, not queued.
 */
static void test_bound_in_all(void **state)
{
	(void)state;
	if (!netns_ok)
		skip();
	struct tcp_server *s = start_max(1);
	int a = tcph_client(0);
	send_msg(a, 60, DNS_OP_UPDATE);
	WAIT_STATS(s, st.updates_in_flight == 1);
	struct linger lg = { .l_onoff = 1, .l_linger = 0 };
	setsockopt(a, SOL_SOCKET, SO_LINGER, &lg, sizeof(lg));
	close(a);
	WAIT_STATS(s, st.open == 0);
	int b = tcph_client(0);
	uint8_t q[128], r[64], p[2];
	size_t n = put_msg(q, 61, DNS_OP_UPDATE);
	assert_int_equal(send(b, q, n, 0), (ssize_t)n);
	assert_true(tcph_read_exact(b, p, 2) && dns_get16(p) == DNS_HDR_LEN && tcph_read_exact(b, r, DNS_HDR_LEN));
	assert_int_equal(dns_get16(r), 61);
	assert_int_equal(r[3] & 0xf, DNS_RCODE_SERVFAIL);
	assert_int_equal(held_count(), 1);       /* not handed over */
	assert_int_equal(release_one(), 60);
	WAIT_STATS(s, st.updates_discarded == 1 && st.updates_in_flight == 0);
	send_msg(b, 62, DNS_OP_UPDATE);          /* room again: in flight */
	WAIT_STATS(s, st.updates_in_flight == 1);
	assert_int_equal(release_one(), 62);
	assert_int_equal(read_id(b), 62);
	close(b);
	tcp_server_stop(s);
}

/* The server stops with an UPDATE in flight: its answer comes later and lands nowhere, safely. */
static void test_answer_after_stop(void **state)
{
	(void)state;
	if (!netns_ok)
		skip();
	struct tcp_server *s = start();
	int a = tcph_client(0);
	send_msg(a, 50, DNS_OP_UPDATE);
	WAIT_STATS(s, st.updates_in_flight == 1);
	tcp_server_stop(s);
	assert_int_equal(release_one(), 50);       /* under ASan: no use after free */
	assert_int_equal(read_id(a), -1);          /* closed, no answer */
	close(a);
}

static int group_setup(void **state)
{
	(void)state;
	ix = idx_new();
	if (!ix)
		return -1;
	netns_ok = tcph_netns("test_tcp_update");
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
		cmocka_unit_test(test_inflight_apart_in_order),
		cmocka_unit_test(test_closed_discarded),
		cmocka_unit_test(test_answered_at_once),
		cmocka_unit_test(test_bound_in_all),
		cmocka_unit_test(test_answer_after_stop),
	};
	return cmocka_run_group_tests(tests, group_setup, group_teardown);
}
