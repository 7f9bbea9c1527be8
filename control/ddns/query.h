/* query -- TSIG-signed QUERY over UDP: verified, answered from the index, the answer signed (RFC 8945 5.3) */
#ifndef DDI_CONTROL_DDNS_QUERY_H
#define DDI_CONTROL_DDNS_QUERY_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "control/ddns/tsig.h"

/*
 * Why here: a worker answers a query from the index in place and signs
 * nothing (it holds no key and must not read the store). A query whose
 * last additional record is a TSIG (dns_query_parse has_tsig) is handed
 * by the worker to the control lcore and by it to the DDNS thread, which
 * already verifies TSIG for UPDATE; ddns_query_serve() answers it there.
 *
 * Which key may ask: any key the server knows (the store's TSIG keys and,
 * with GSS-TSIG, the contexts negotiated by TKEY) may ask any question.
 * Zone ACLs (control/xfr/acl.h) govern zone transfers only, and the
 * update policy governs changes only; neither restricts queries, signed
 * or not (an unsigned query gets the same answer from a worker).
 *
 * Rate limiting and cookies: a signed query bypasses the workers' RRL and
 * cookies; it is bounded instead by its share of the DDNS ring (the
 * control lcore queues signed queries only while that ring is less than
 * half full, dataplane/worker.c), and an answer that fails verification
 * is never larger than the query (header, question, TSIG with no MAC).
 */

struct idx;
struct answer_conf;

/* What became of one signed query (counted by the DDNS thread). */
enum ddns_query_result {
	DDNS_Q_ANSWERED = 0,     /* verified, answered from the index, answer signed */
	DDNS_Q_TRUNCATED,        /* verified; the signed answer did not fit: TC, question and TSIG */
	DDNS_Q_FORMERR,          /* malformed TSIG or query: FORMERR, unsigned */
	DDNS_Q_BADKEY,           /* unknown key or algorithm: NOTAUTH, TSIG error BADKEY, unsigned */
	DDNS_Q_BADSIG,           /* MAC does not verify: NOTAUTH, TSIG error BADSIG, unsigned */
	DDNS_Q_BADTIME,          /* outside fudge: NOTAUTH, BADTIME, signed, server time in Other Data */
	DDNS_Q_DROPPED,          /* nothing sent: a response (QR), no TSIG, not a QUERY, no index */
	DDNS_Q__COUNT
};

struct ddns_query_env {
	struct idx *idx;                  /* the index answered from (NULL: every query dropped) */
	const struct answer_conf *answer; /* the workers' answer settings; NULL: defaults. Cookies
	                                     are not served here (the option is ignored) */
	tsig_lookup_fn lookup;            /* the keys (control/ddns/tsig.h) */
	void *lookup_ctx;
};

/*
 * Answer one signed QUERY `req` (len bytes, a UDP payload when `udp`,
 * else a TCP message without its length prefix) into resp (cap bytes;
 * resp must not overlap req). The checks and answers, RFC 8945 5.2/5.3:
 *  - TSIG verified (tsig_verify: key, MAC, time at `now`); failures get
 *    NOTAUTH with the TSIG error: unsigned for BADKEY and BADSIG, signed
 *    for BADTIME; a malformed TSIG gets FORMERR unsigned. Header and
 *    question are echoed, no other record.
 *  - verified: answer_query() (index/answer.h, the workers' one answer
 *    function) over UDP sized to the client's limit less the room of the
 *    TSIG RR, then tsig_sign_response().
 *  - a UDP answer that would not fit with its TSIG (answer_query set TC)
 *    becomes header and question only, TC set, NOERROR, signed (RFC 8945
 *    5.3, as BIND does): the client asks again over TCP.
 * Returns the answer length, 0 when nothing is to be sent. *res (may be
 * NULL) says which outcome.
 *
 * RCU: the caller is a registered liburcu QSBR thread that is OFFLINE;
 * this goes online for the lookup and offline again before signing
 * (index/snapshot.h R1-R3), so no snapshot is held across the key lookup
 * (which may read the store) or between calls.
 */
int ddns_query_serve(const struct ddns_query_env *env, const uint8_t *req, size_t len,
                     uint64_t now, bool udp, uint8_t *resp, size_t cap,
                     enum ddns_query_result *res);

/* "answered", "truncated", ... for metrics labels. */
extern const char *const ddns_query_result_names[DDNS_Q__COUNT];

#endif
