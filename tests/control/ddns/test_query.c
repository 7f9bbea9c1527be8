/* test_query -- signed queries on the DDNS thread: verify, answer from the index, sign; every TSIG error; truncation (RFC 8945 5.3) */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include <cmocka.h>
#include <urcu-qsbr.h>

#include "control/ddns/query.h"
#include "control/ddns/tsig.h"
#include "dns/errcode.h"
#include "dns/wire.h"
#include "index/answer.h"
#include "index/snapshot.h"
#include "tests/tools/testdns.h"

#define NOW 1796000000u

static const char *zone =
	"@ 3600 IN SOA ns.example. h.example. 7 3600 600 86400 300\n"
	"@ 3600 IN NS ns\n"
	"ns 3600 IN A 198.18.0.53\n"
	"www 3600 IN A 198.18.0.10\n"
	/* an answer of 489 bytes: fits 512 alone, not with a TSIG of q.key. */
	"t 3600 IN TXT \"aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa\" \"bbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbb\"\n"
	/* an answer of about 840 bytes: more than 512 even unsigned */
	"big 3600 IN TXT \"cccccccccccccccccccccccccccccccccccccccccccccccccccccccccccccccccccccccccccccccccccccccccccccccccccccccccccccccccccccccccccccccccccccccccccccccccccccccccccccccccccccccccccccccccccccccccccccccccccccccc\" \"cccccccccccccccccccccccccccccccccccccccccccccccccccccccccccccccccccccccccccccccccccccccccccccccccccccccccccccccccccccccccccccccccccccccccccccccccccccccccccccccccccccccccccccccccccccccccccccccccccccccc\" \"cccccccccccccccccccccccccccccccccccccccccccccccccccccccccccccccccccccccccccccccccccccccccccccccccccccccccccccccccccccccccccccccccccccccccccccccccccccccccccccccccccccccccccccccccccccccccccccccccccccccc\" \"cccccccccccccccccccccccccccccccccccccccccccccccccccccccccccccccccccccccccccccccccccccccccccccccccccccccccccccccccccccccccccccccccccccccccccccccccccccccccccccccccccccccccccccccccccccccccccccccccccccccc\"\n";

static struct idx *ix;
static struct tsig_key known, wrong, stranger;
static const struct answer_conf conf = { .udp_max = 1232 };

static int lookup(void *ctx, const uint8_t *name, struct tsig_key *out)
{
	(void)ctx;
	if (!dns_name_equal(name, known.name))
		return DDI_ENOENT;
	*out = known;
	return DDI_EOK;
}

static struct ddns_query_env env = { .answer = &conf, .lookup = lookup };

static int setup(void **state)
{
	(void)state;
	rcu_register_thread();
	ix = idx_new();
	assert_non_null(ix);
	struct idx_txn *t = idx_txn_begin(ix);
	struct zf_error err = { 0 };
	int rc = td_load_string(t, "example.", zone, &err);
	if (rc != DDI_EOK)
		fprintf(stderr, "line %u: %s\n", err.line, err.msg);
	assert_int_equal(rc, DDI_EOK);
	assert_int_equal(idx_txn_commit(t, 1), DDI_EOK);
	env.idx = ix;
	assert_int_equal(tsig_key_parse(&known, "hmac-sha256:q.key:c2VjcmV0LXNlY3JldC1zZWNyZXQtc2VjcmV0LTMyYg=="), DDI_EOK);
	assert_int_equal(tsig_key_parse(&wrong, "hmac-sha256:q.key:bm90LXRoZS1zZWNyZXQtbm90LXRoZS1zZWNyZXQ="), DDI_EOK);
	assert_int_equal(tsig_key_parse(&stranger, "hmac-sha256:who.key:c2VjcmV0LXNlY3JldC1zZWNyZXQtc2VjcmV0LTMyYg=="), DDI_EOK);
	rcu_thread_offline();   /* as the DDNS thread: offline but inside ddns_query_serve */
	return 0;
}

static int teardown(void **state)
{
	(void)state;
	rcu_thread_online();
	idx_free(ix);
	rcu_unregister_thread();
	return 0;
}

struct signed_q {
	uint8_t buf[1024];
	size_t len;
	uint8_t mac[TSIG_MAC_MAX];
	int mac_len;
};

/* A query for name/type (EDNS size edns, 0: none), signed with k at time `at`. */
static void make(struct signed_q *s, const char *name, uint16_t type, uint16_t edns,
                 const struct tsig_key *k, uint64_t at)
{
	int n = td_query(s->buf, sizeof(s->buf), 0x4711, name, type, DNS_CLASS_IN, DNS_OP_QUERY,
	                 0, edns, 0, false, false);
	assert_true(n > 0);
	s->len = (size_t)n;
	s->mac_len = k ? tsig_sign(k, NULL, 0, s->buf, &s->len, sizeof(s->buf), at, 300, s->mac) : 0;
	assert_true(!k || s->mac_len > 0);
}

static uint8_t resp[4096];

static int serve(const struct signed_q *s, size_t cap, enum ddns_query_result *res)
{
	memset(resp, 0xee, sizeof(resp));
	int n = ddns_query_serve(&env, s->buf, s->len, NOW, true, resp, cap, res);
	/* R3: never left online (index/snapshot.h) */
	assert_false(rcu_read_ongoing());
	return n;
}

static void test_round_trip(void **state)
{
	(void)state;
	struct signed_q s;
	enum ddns_query_result res;
	make(&s, "www.example.", DNS_T_A, 1232, &known, NOW - 5);
	int n = serve(&s, sizeof(resp), &res);
	assert_int_equal(res, DDNS_Q_ANSWERED);
	assert_true(n > DNS_HDR_LEN);
	struct tsig_rr rr;
	assert_int_equal(tsig_verify_response(&rr, &known, s.mac, (uint16_t)s.mac_len, resp,
	                                      (size_t)n, NOW), TSIG_OK);
	assert_int_equal(rr.error, 0);
	assert_int_equal(rr.orig_id, 0x4711);
	assert_int_equal(dns_get16(resp), 0x4711);
	uint16_t f = dns_get16(resp + 2);
	assert_true(f & DNS_QR);
	assert_true(f & 0x0400);   /* AA */
	assert_int_equal(DNS_RCODE(f), DNS_RCODE_NOERROR);
	assert_int_equal(dns_get16(resp + 6), 1);
	struct td_msg m;
	assert_int_equal(td_parse(&m, resp, (size_t)n), DDI_EOK);
	char line[256];
	td_rr_str(line, sizeof(line), &m.rr[0][0], true);
	assert_string_equal(line, "www.example. 3600 IN A 198.18.0.10");

	/* a response answers nothing; a query without TSIG is not this module's */
	struct signed_q u;
	make(&u, "www.example.", DNS_T_A, 0, NULL, 0);
	assert_int_equal(serve(&u, sizeof(resp), &res), 0);
	assert_int_equal(res, DDNS_Q_DROPPED);
	s.buf[2] |= 0x80;
	assert_int_equal(serve(&s, sizeof(resp), &res), 0);
	assert_int_equal(res, DDNS_Q_DROPPED);
}

/* An error answer: NOTAUTH, header and question only, and the TSIG with `error`. */
static void check_error(int n, uint16_t error, struct tsig_rr *rr)
{
	assert_true(n > DNS_HDR_LEN);
	assert_int_equal(DNS_RCODE(dns_get16(resp + 2)), DNS_RCODE_NOTAUTH);
	assert_int_equal(dns_get16(resp + 4), 1);
	assert_int_equal(dns_get16(resp + 6), 0);
	assert_int_equal(dns_get16(resp + 8), 0);
	assert_int_equal(dns_get16(resp + 10), 1);
	size_t pos;
	assert_int_equal(tsig_find(resp, (size_t)n, &pos), DDI_EOK);
	assert_int_equal(tsig_rr_parse(rr, resp, (size_t)n, pos), DDI_EOK);
	assert_int_equal(rr->error, error);
}

static void test_badkey(void **state)
{
	(void)state;
	struct signed_q s;
	enum ddns_query_result res;
	struct tsig_rr rr;
	make(&s, "www.example.", DNS_T_A, 1232, &stranger, NOW);
	int n = serve(&s, sizeof(resp), &res);
	assert_int_equal(res, DDNS_Q_BADKEY);
	check_error(n, TSIG_ERR_BADKEY, &rr);
	assert_int_equal(rr.mac_len, 0);   /* RFC 8945 5.3.2: unsigned */
}

static void test_badsig(void **state)
{
	(void)state;
	struct signed_q s;
	enum ddns_query_result res;
	struct tsig_rr rr;
	make(&s, "www.example.", DNS_T_A, 0, &wrong, NOW);
	int n = serve(&s, sizeof(resp), &res);
	assert_int_equal(res, DDNS_Q_BADSIG);
	check_error(n, TSIG_ERR_BADSIG, &rr);
	assert_int_equal(rr.mac_len, 0);
	/* a MAC changed in flight is BADSIG too */
	make(&s, "www.example.", DNS_T_A, 0, &known, NOW);
	s.buf[s.len - 10] ^= 1;
	n = serve(&s, sizeof(resp), &res);
	assert_int_equal(res, DDNS_Q_BADSIG);
	check_error(n, TSIG_ERR_BADSIG, &rr);
}

static void test_badtime(void **state)
{
	(void)state;
	struct signed_q s;
	enum ddns_query_result res;
	struct tsig_rr rr;
	make(&s, "www.example.", DNS_T_A, 1232, &known, NOW - 1000);
	int n = serve(&s, sizeof(resp), &res);
	assert_int_equal(res, DDNS_Q_BADTIME);
	check_error(n, TSIG_ERR_BADTIME, &rr);
	/* signed, Time Signed the request's, the server's time in Other Data (5.3.2) */
	assert_int_equal(rr.mac_len, 32);
	assert_int_equal(rr.time_signed, NOW - 1000);
	assert_int_equal(rr.other_len, 6);
	uint64_t other = 0;
	for (int i = 0; i < 6; i++)
		other = other << 8 | rr.other[i];
	assert_int_equal(other, NOW);
	/* and the client can check it with its key */
	assert_int_equal(tsig_verify_response(&rr, &known, s.mac, (uint16_t)s.mac_len, resp,
	                                      (size_t)n, NOW - 1000), TSIG_BADTIME);
}

/* RFC 8945 5.3: TC, NOERROR, the question and a TSIG, nothing else; signed. */
static void check_truncated(const struct signed_q *s, int n, size_t limit)
{
	assert_true(n > DNS_HDR_LEN);
	assert_true((size_t)n <= limit);
	uint16_t f = dns_get16(resp + 2);
	assert_true(f & DNS_TC);
	assert_int_equal(DNS_RCODE(f), DNS_RCODE_NOERROR);
	assert_int_equal(dns_get16(resp + 4), 1);
	assert_int_equal(dns_get16(resp + 6), 0);
	assert_int_equal(dns_get16(resp + 8), 0);
	assert_int_equal(dns_get16(resp + 10), 1);
	struct tsig_rr rr;
	assert_int_equal(tsig_verify_response(&rr, &known, s->mac, (uint16_t)s->mac_len, resp,
	                                      (size_t)n, NOW), TSIG_OK);
}

static void test_truncation(void **state)
{
	(void)state;
	struct signed_q s;
	enum ddns_query_result res;
	/* the unsigned answer fits 512 bytes: the premise of the test */
	rcu_thread_online();
	uint8_t plain[1024];
	struct answer_info info;
	make(&s, "t.example.", DNS_T_TXT, 0, NULL, 0);
	size_t un = answer_message(idx_acquire(ix), &conf, ANSWER_UDP, s.buf, s.len, plain,
	                           sizeof(plain), &info);
	rcu_thread_offline();
	assert_false(info.truncated);
	assert_true(un <= 512 && un + 60 > 512);

	/* signed, no EDNS: the answer and its TSIG do not fit 512 */
	make(&s, "t.example.", DNS_T_TXT, 0, &known, NOW);
	int n = serve(&s, sizeof(resp), &res);
	assert_int_equal(res, DDNS_Q_TRUNCATED);
	check_truncated(&s, n, 512);

	/* with EDNS 1232 it fits: answered and signed */
	make(&s, "t.example.", DNS_T_TXT, 1232, &known, NOW);
	n = serve(&s, sizeof(resp), &res);
	assert_int_equal(res, DDNS_Q_ANSWERED);
	assert_int_equal(dns_get16(resp + 6), 1);
	struct tsig_rr rr;
	assert_int_equal(tsig_verify_response(&rr, &known, s.mac, (uint16_t)s.mac_len, resp,
	                                      (size_t)n, NOW), TSIG_OK);

	/* larger than 512 even unsigned: the same signed TC answer */
	make(&s, "big.example.", DNS_T_TXT, 0, &known, NOW);
	n = serve(&s, sizeof(resp), &res);
	assert_int_equal(res, DDNS_Q_TRUNCATED);
	check_truncated(&s, n, 512);

	/* a buffer too small for anything but the header: nothing, never an overrun */
	make(&s, "www.example.", DNS_T_A, 0, &known, NOW);
	n = serve(&s, 40, &res);
	assert_true(n == 0 || (n > 0 && n <= 40));
	assert_int_equal(resp[40], 0xee);
}

static void test_formerr(void **state)
{
	(void)state;
	struct signed_q s;
	enum ddns_query_result res;
	make(&s, "www.example.", DNS_T_A, 0, &known, NOW);
	/* trailing garbage after the TSIG: the message does not parse */
	s.buf[s.len++] = 0;
	int n = serve(&s, sizeof(resp), &res);
	assert_int_equal(res, DDNS_Q_FORMERR);
	assert_true(n >= DNS_HDR_LEN);
	assert_int_equal(DNS_RCODE(dns_get16(resp + 2)), DNS_RCODE_FORMERR);
	/* a MAC size the algorithm forbids (5.2.2.1: below max(10, 32/2)): FORMERR, unsigned */
	make(&s, "www.example.", DNS_T_A, 0, &known, NOW);
	size_t pos;
	assert_int_equal(tsig_find(s.buf, s.len, &pos), DDI_EOK);
	struct tsig_rr rr;
	assert_int_equal(tsig_rr_parse(&rr, s.buf, s.len, pos), DDI_EOK);
	/* MAC size field: after the owner, the fixed part, the algorithm and 8 bytes of times */
	size_t msz = pos + dns_name_len(known.name) + 10 + dns_name_len(rr.alg_name) + 8;
	assert_int_equal(dns_get16(s.buf + msz), 32);
	/* keep 8 bytes of MAC: shift the rest of the record down and fix the lengths */
	size_t cut = 24;
	memmove(s.buf + msz + 2 + 8, s.buf + msz + 2 + 32, s.len - (msz + 2 + 32));
	s.len -= cut;
	dns_put16(s.buf + msz, 8);
	size_t rdl = pos + dns_name_len(known.name) + 8;
	dns_put16(s.buf + rdl, (uint16_t)(dns_get16(s.buf + rdl) - cut));
	n = serve(&s, sizeof(resp), &res);
	assert_int_equal(res, DDNS_Q_FORMERR);
	assert_int_equal(DNS_RCODE(dns_get16(resp + 2)), DNS_RCODE_FORMERR);
	assert_int_equal(dns_get16(resp + 10), 0);   /* unsigned: no TSIG */
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_round_trip),
		cmocka_unit_test(test_badkey),
		cmocka_unit_test(test_badsig),
		cmocka_unit_test(test_badtime),
		cmocka_unit_test(test_truncation),
		cmocka_unit_test(test_formerr),
	};
	return cmocka_run_group_tests(tests, setup, teardown);
}
