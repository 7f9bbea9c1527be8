/* fuzz_signedq -- ddns_query_serve() on any UDP payload: TSIG verification, answer, signing, truncation (control/ddns/query.h) */
#include <stdint.h>
#include <string.h>

#include <urcu-qsbr.h>

#include "control/ddns/query.h"
#include "dns/errcode.h"
#include "dns/wire.h"
#include "index/answer.h"
#include "tests/fuzz/fuzz_index.h"

/*
 * Input: one byte of mode, then a DNS message. Mode bit 0 set: the message
 * is signed with the known key first (at NOW), so that the verified paths
 * (answer, signing, truncation) are reached, not only the refusals; the
 * other bits pick the response buffer (40 bytes to 64 KiB) and TCP or UDP.
 */
#define NOW 1796000000u

static struct tsig_key key;

static int lookup(void *ctx, const uint8_t *name, struct tsig_key *out)
{
	(void)ctx;
	if (!dns_name_equal(name, key.name))
		return DDI_ENOENT;
	*out = key;
	return DDI_EOK;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static struct ddns_query_env env;
	static const struct answer_conf conf = { .udp_max = 1232, .cookies = true };
	static uint8_t req[DNS_MSG_MAX], resp[DNS_MSG_MAX];
	static const size_t caps[] = { 40, 512, 1232, 4096, sizeof(resp) };
	if (!env.idx) {
		env.idx = fuzz_index_idx();
		rcu_thread_offline();   /* as the DDNS thread: online only inside the call */
		env.answer = &conf;
		env.lookup = lookup;
		if (tsig_key_parse(&key, "hmac-sha256:q.key:c2VjcmV0LXNlY3JldC1zZWNyZXQtc2VjcmV0LTMyYg==")
		    != DDI_EOK)
			__builtin_trap();
	}
	if (size < 1 || size - 1 > sizeof(req) - 200)
		return 0;
	uint8_t mode = data[0];
	size_t len = size - 1;
	memcpy(req, data + 1, len);
	if ((mode & 1) && len >= DNS_HDR_LEN &&
	    tsig_sign(&key, NULL, 0, req, &len, sizeof(req), NOW, 300, NULL) < 0)
		return 0;
	size_t cap = caps[(mode >> 1) % (sizeof(caps) / sizeof(caps[0]))];
	bool udp = !(mode & 0x80);
	enum ddns_query_result res;
	int n = ddns_query_serve(&env, req, len, NOW, udp, resp, cap, &res);
	if (n < 0 || (size_t)n > cap || res >= DDNS_Q__COUNT || rcu_read_ongoing())
		__builtin_trap();
	if (udp && n > 0 && res != DDNS_Q_DROPPED && (size_t)n > 1232 && cap > 1232)
		__builtin_trap();   /* a UDP answer never exceeds the size asked for or ours */
	return 0;
}
