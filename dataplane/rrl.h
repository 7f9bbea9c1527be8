/* rrl -- response rate limiting per client prefix and response kind, one table per lcore */
#ifndef DDI_DATAPLANE_RRL_H
#define DDI_DATAPLANE_RRL_H

#include <stdatomic.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/*
 * In the shape of Knot DNS's RRL (mod-rrl: rate-limit, slip, table-size,
 * whitelist) and NSD's (rrl-ratelimit, rrl-slip, rrl-size,
 * rrl-whitelist): a UDP response is charged to its client's prefix (/24
 * for IPv4, /56 for IPv6, as Knot) and to its kind (below). Each (prefix,
 * kind) has a token bucket that holds one second of responses and refills
 * at `rate` per second; a response that finds it empty is limited: dropped,
 * or every `slip`-th one sent truncated (TC=1, no records) so that a real
 * client behind a spoofed flood retries over TCP, which cannot be spoofed.
 *
 * Unlike NSD and BIND the question name is not part of the key: the limit
 * is per client prefix and kind, which is what a reflection attack against
 * one victim network looks like whatever names it asks.
 *
 * Threading: a table belongs to one lcore (no lock, no atomics); the
 * configuration is read-only and shared. rrl_decide() allocates nothing
 * and makes no system call: the caller passes its clock.
 */

#define RRL_DEFAULT_SLIP 2
#define RRL_DEFAULT_TABLE_SIZE (1u << 18)   /* buckets per lcore, 16 bytes each: 4 MiB */
#define RRL_TABLE_SIZE_MIN 16u
#define RRL_TABLE_SIZE_MAX (1u << 26)
#define RRL_RATE_MAX 1000000u
#define RRL_SLIP_MAX 100u                   /* as Knot */
#define RRL_EXEMPT_MAX 32
#define RRL_PREFIX4 24                      /* the client prefix a bucket stands for */
#define RRL_PREFIX6 56

/* Kinds of response, each limited on its own (Knot's classes, coarser). */
enum rrl_kind {
	RRL_K_ANSWER = 0,    /* NOERROR with data */
	RRL_K_NODATA,        /* NOERROR, empty */
	RRL_K_NXDOMAIN,
	RRL_K_REFERRAL,      /* delegation */
	RRL_K_ERROR,         /* REFUSED, FORMERR, SERVFAIL, NOTIMP, BADVERS */
	RRL_K__COUNT
};

/* What to do with one response. */
enum rrl_verdict {
	RRL_PASS = 0,        /* within the rate: send it */
	RRL_EXEMPT,          /* over the rate, but the client is in an exempt prefix: send it */
	RRL_DROP,            /* over the rate: send nothing */
	RRL_SLIP,            /* over the rate: send it truncated (TC=1, no records) */
};

/* An IPv4 or IPv6 prefix (--rrl-exempt). */
struct rrl_prefix {
	bool v6;
	uint8_t plen;
	uint8_t addr[16];    /* bits past plen are zero */
};

/* The configuration every lcore's table reads. rate 0: off. */
struct rrl_conf {
	uint32_t rate;            /* responses per second per prefix and kind */
	uint32_t slip;            /* 0: drop every limited response; N: slip every Nth */
	uint32_t table_size;      /* buckets, a power of two */
	unsigned nexempt;
	struct rrl_prefix exempt[RRL_EXEMPT_MAX];
};

struct rrl_table;

/* Defaults: off, slip 2, RRL_DEFAULT_TABLE_SIZE buckets, nothing exempt. */
void rrl_conf_init(struct rrl_conf *c);

/*
 * Parse "IP[/PLEN]" (no PLEN: the whole address) into `p`. 0, or -1 when
 * malformed or PLEN is too long for the family.
 */
int rrl_prefix_parse(const char *s, struct rrl_prefix *p);

/* `addr` (4 or 16 bytes as `v6` says) is inside one of c's exempt prefixes. */
bool rrl_exempt(const struct rrl_conf *c, const uint8_t *addr, bool v6);

/*
 * A table for one lcore: `conf` must outlive it; `seed` keys its hash (a
 * random value, so that a spoofer cannot aim collisions at a victim's
 * bucket). NULL when out of memory or conf->table_size is not a power of
 * two within RRL_TABLE_SIZE_MIN..MAX. Setup only: it allocates.
 */
struct rrl_table *rrl_new(const struct rrl_conf *conf, uint64_t seed);
void rrl_free(struct rrl_table *t);

/*
 * Charge one response of kind `k` to the client `addr` at `now_ms` (a
 * monotonic millisecond clock, read once per burst; it may wrap) and say
 * what to do with it. Fast path: one hashed lookup in a 4-way set of one
 * cache line, no allocation.
 */
enum rrl_verdict rrl_decide(struct rrl_table *t, uint32_t now_ms, const uint8_t *addr, bool v6,
                            enum rrl_kind k);

/*
 * Rate and slip changed while the server runs (a reload): any thread
 * publishes them with rrl_live_set; each lcore takes them into its own
 * table at its next burst (rrl_refresh: one relaxed load when nothing
 * changed). The table size and the exempt list are not live (a restart).
 */
struct rrl_live {
	_Atomic uint32_t gen;     /* bumped after rate and slip are stored */
	_Atomic uint32_t rate, slip;
};
void rrl_live_set(struct rrl_live *l, uint32_t rate, uint32_t slip);
void rrl_refresh(struct rrl_table *t, const struct rrl_live *l);

#endif
