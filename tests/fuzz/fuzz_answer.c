/* fuzz_answer -- a DNS message from anyone: dns_query_parse and answer_query (one by one and as a burst) over UDP and TCP on a loaded index */
#include <stdint.h>
#include <string.h>

#include "dns/cookie.h"
#include "dns/wire.h"
#include "index/answer.h"
#include "tests/fuzz/fuzz_index.h"

#define MSG_MAX 65535

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static uint8_t buf[MSG_MAX], out[MSG_MAX];
	const struct idx_version *v = fuzz_index();
	static const uint8_t nsid[] = "fuzz";
	struct answer_conf conf = { .nsid = nsid, .nsid_len = 4, .udp_max = 1232 };
	if (size > MSG_MAX)
		return 0;
	for (int tr = 0; tr < 2; tr++) {
		conf.cookies = tr == 0;   /* UDP with the COOKIE room reserved, TCP without */
		/* in place, as the workers answer (the response overwrites the request) */
		memcpy(buf, data, size);
		struct dns_query q;
		enum dns_parse_result pr = dns_query_parse(&q, buf, size);
		struct answer_info info;
		size_t n = answer_query(v, &conf, tr ? ANSWER_TCP : ANSWER_UDP, &q, pr, buf,
		                        tr ? MSG_MAX : 1232, &info);
		if (n > (tr ? MSG_MAX : 1232u))
			__builtin_trap();
		/* the room kept for the cookie is there: appending it stays within the client's size */
		if (n && tr == 0 && q.edns_cookie_off && dns_cookie_len_ok(q.edns_cookie_len) &&
		    info.opt_pos && n + DNS_COOKIE_OPT_ROOM > dns_query_udp_max(&q, 1232))
			__builtin_trap();
		/* the worker's burst path (lookups walked together) answers byte for byte alike */
		static uint8_t buf2[MSG_MAX];
		static struct answer_bulk *bulk;
		if (bulk == NULL && (bulk = answer_bulk_new()) == NULL)
			__builtin_trap();
		memcpy(buf2, data, size);
		struct dns_query q2;
		enum dns_parse_result pr2 = dns_query_parse(&q2, buf2, size);
		answer_bulk_prepare(bulk, 0, &q2, pr2);
		answer_bulk_lookup(v, bulk, 1);
		struct answer_info info2;
		size_t n2 = answer_query_bulk(v, &conf, tr ? ANSWER_TCP : ANSWER_UDP, &q2, pr2, buf2,
		                              tr ? MSG_MAX : 1232, &info2, bulk, 0);
		if (n2 != n || memcmp(buf2, buf, n) != 0 || info2.outcome != info.outcome)
			__builtin_trap();
		/* into another buffer too, as the TCP server does */
		n = answer_message(v, &conf, tr ? ANSWER_TCP : ANSWER_UDP, data, size, out,
		                   sizeof(out), &info);
		if (n > sizeof(out))
			__builtin_trap();
	}
	return 0;
}
