/* answer -- the one function that answers a DNS question from a snapshot */
#ifndef DDI_INDEX_ANSWER_H
#define DDI_INDEX_ANSWER_H

#include <stddef.h>
#include <stdint.h>

#include "dns/wire.h"
#include "index/index.h"

enum answer_transport { ANSWER_UDP = 0, ANSWER_TCP = 1 };

/* Every way a question can end, each counted by the callers. */
enum answer_outcome {
	ANS_ANSWER = 0,    /* NOERROR with data (incl. CNAME chains, wildcards) */
	ANS_NODATA,        /* NOERROR, empty answer, SOA in authority (RFC 2308 2.2) */
	ANS_NXDOMAIN,      /* RFC 2308 2.1 */
	ANS_REFERRAL,      /* delegation: NS in authority, glue in additional */
	ANS_REFUSED,       /* not in any zone we serve, or a class we do not serve */
	ANS_NOTIMP,        /* opcode other than QUERY */
	ANS_FORMERR,
	ANS_BADVERS,
	ANS_SERVFAIL,
	ANS_DROP,          /* nothing sent (RFC 1035 4.1.1: QR set, or no header) */
	ANS__COUNT
};

struct answer_conf {
	const uint8_t *nsid;     /* RFC 5001 NSID, NULL for none */
	uint16_t nsid_len;
	uint16_t udp_max;        /* our EDNS UDP size, default DNS_EDNS_DEFAULT */
	/*
	 * DNS cookies (RFC 7873) are served by the caller, which alone knows
	 * the client's address: answer_query() answers a malformed COOKIE
	 * option FORMERR (5.2.2) and, for a query with a well-formed one,
	 * keeps DNS_COOKIE_OPT_ROOM bytes of the client's UDP size free so
	 * that the caller can append the COOKIE to the OPT (at info->opt_pos)
	 * with dns_opt_append_option() without breaking the size limit and the
	 * TC logic (RFC 2181 9). false: the option is ignored (RFC 7873 5.2.1).
	 */
	bool cookies;
};

struct answer_info {
	enum answer_outcome outcome;
	uint8_t rcode;
	bool truncated;          /* TC was set */
	uint16_t qtype;
	uint16_t opt_pos;        /* offset of the response's OPT RR (its last record), 0: none */
};

/*
 * Answer the parsed query `q` from version `v` into `out` (capacity `cap`
 * bytes; `out` may be q->wire: header and question stay in place, the rest
 * is overwritten). For UDP the response is limited to the client's size;
 * what does not fit is dropped whole RRsets at a time and TC set (RFC 2181
 * 9). Returns the response length, or 0 when nothing must be sent.
 * `parse` is the result of dns_query_parse on q.
 */
size_t answer_query(const struct idx_version *v, const struct answer_conf *conf,
                    enum answer_transport tr, const struct dns_query *q,
                    enum dns_parse_result parse, uint8_t *out, size_t cap,
                    struct answer_info *info);

/*
 * A worker's burst, answered with its lookups walked together: call
 * answer_bulk_prepare() for each parsed query i (< ANSWER_BULK_MAX; it
 * reads the question only), answer_bulk_lookup() once with the version
 * the answers will use, then answer_query_bulk() for each i, which is
 * answer_query() with the question's lookup already done. The trie
 * descents of the burst advance level by level with prefetches
 * (index/index.h, idx_find_path_bulk), so their cache misses overlap.
 * A slot serves the one answer it was prepared for (its question name
 * pointer must be the same; else the lookup is simply done again).
 * answer_bulk_new() is the only allocation (at start-up): about
 * ANSWER_BULK_MAX x 3 KiB. One answer_bulk per thread.
 */
#define ANSWER_BULK_MAX 32
struct answer_bulk;
/*
 * Whether walking a burst's lookups together pays on version v: not when
 * the index is small enough to stay in the caches, where there is no miss
 * to hide and the lockstep walk's bookkeeping (~140 instructions a query)
 * is pure cost (bench-bulk-ab, CPU time one by one / in bursts: 0.83 at
 * 1,000 names, 0.96 at 10,000, 1.22 at 30,000, 2.0 at 100,000, 3.4 at
 * 1M). The walk in lockstep starts at 16,384 names.
 */
bool answer_bulk_worth(const struct idx_version *v);
struct answer_bulk *answer_bulk_new(void);
void answer_bulk_free(struct answer_bulk *b);
void answer_bulk_prepare(struct answer_bulk *b, unsigned i, const struct dns_query *q,
                         enum dns_parse_result parse);
void answer_bulk_lookup(const struct idx_version *v, struct answer_bulk *b, unsigned n);
size_t answer_query_bulk(const struct idx_version *v, const struct answer_conf *conf,
                         enum answer_transport tr, const struct dns_query *q,
                         enum dns_parse_result parse, uint8_t *out, size_t cap,
                         struct answer_info *info, struct answer_bulk *b, unsigned i);

/* Parse `wire` and answer it: the convenience entry for tests and TCP. */
size_t answer_message(const struct idx_version *v, const struct answer_conf *conf,
                      enum answer_transport tr, const uint8_t *wire, size_t len,
                      uint8_t *out, size_t cap, struct answer_info *info);

#endif
