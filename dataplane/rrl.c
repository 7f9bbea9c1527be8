/* rrl -- token buckets per (client prefix, response kind) in a 4-way set-associative table */
#include <arpa/inet.h>
#include <assert.h>
#include <errno.h>
#include <stdatomic.h>
#include <stdlib.h>
#include <string.h>

#include "dataplane/rrl.h"

/*
 * A bucket is 16 bytes, four to a 64-byte line: a key hashes to one set of
 * four buckets, all in one cache line, so a lookup costs one miss at most.
 *
 * Tokens are counted in thousandths of a response, so that a millisecond
 * clock refills `rate` of them per millisecond with no division: a
 * response costs RRL_MILLI, a full bucket holds one second of responses
 * (rate * RRL_MILLI <= 10^9 fits 32 bits).
 */
#define RRL_WAYS 4
#define RRL_MILLI 1000u
#define KEY_USED 0x80u      /* in the key's low byte: a key is never 0, 0 is an empty bucket */

struct rrl_bucket {
	uint64_t key;       /* prefix (56 bits) << 8 | KEY_USED | v6 << 3 | kind */
	uint32_t stamp;     /* now_ms of the last refill */
	uint32_t tokens;    /* thousandths of a response */
};
static_assert(sizeof(struct rrl_bucket) * RRL_WAYS == 64, "a set is one cache line");

struct rrl_table {
	struct rrl_bucket *b;
	uint64_t seed;
	uint32_t mask;          /* of set indexes */
	uint32_t rate;
	uint32_t cap;           /* rate * RRL_MILLI */
	uint32_t slip;
	uint32_t slip_count;    /* limited responses since the last slip */
	const struct rrl_conf *conf;
	uint32_t gen;           /* of the rrl_live taken last */
};

void rrl_conf_init(struct rrl_conf *c)
{
	memset(c, 0, sizeof(*c));
	c->slip = RRL_DEFAULT_SLIP;
	c->table_size = RRL_DEFAULT_TABLE_SIZE;
}

int rrl_prefix_parse(const char *s, struct rrl_prefix *p)
{
	char buf[INET6_ADDRSTRLEN + 8];
	long plen = -1;
	if (strlen(s) >= sizeof(buf))
		return -1;
	strcpy(buf, s);
	char *slash = strchr(buf, '/');
	if (slash) {
		char *end;
		*slash = '\0';
		errno = 0;
		plen = strtol(slash + 1, &end, 10);
		if (errno || end == slash + 1 || *end != '\0' || plen < 0)
			return -1;
	}
	memset(p, 0, sizeof(*p));
	if (inet_pton(AF_INET, buf, p->addr) == 1) {
		if (plen > 32)
			return -1;
		p->plen = (uint8_t)(plen < 0 ? 32 : plen);
	} else if (inet_pton(AF_INET6, buf, p->addr) == 1) {
		if (plen > 128)
			return -1;
		p->v6 = true;
		p->plen = (uint8_t)(plen < 0 ? 128 : plen);
	} else {
		return -1;
	}
	/* bits past the prefix length are cleared: 198.18.3.7/24 means 198.18.3.0/24 */
	for (unsigned bit = p->plen; bit < 128; bit++)
		p->addr[bit / 8] &= (uint8_t)~(0x80u >> (bit % 8));
	return 0;
}

static bool prefix_has(const struct rrl_prefix *p, const uint8_t *addr)
{
	unsigned full = p->plen / 8, rest = p->plen % 8;
	if (memcmp(p->addr, addr, full) != 0)
		return false;
	if (rest == 0)
		return true;
	uint8_t m = (uint8_t)(0xff00u >> rest);
	return (addr[full] & m) == p->addr[full];
}

bool rrl_exempt(const struct rrl_conf *c, const uint8_t *addr, bool v6)
{
	for (unsigned i = 0; i < c->nexempt; i++)
		if (c->exempt[i].v6 == v6 && prefix_has(&c->exempt[i], addr))
			return true;
	return false;
}

struct rrl_table *rrl_new(const struct rrl_conf *conf, uint64_t seed)
{
	uint32_t n = conf->table_size;
	if (n < RRL_TABLE_SIZE_MIN || n > RRL_TABLE_SIZE_MAX || (n & (n - 1)) != 0 ||
	    conf->rate == 0 || conf->rate > RRL_RATE_MAX)
		return NULL;
	struct rrl_table *t = calloc(1, sizeof(*t));
	if (!t)
		return NULL;
	t->b = aligned_alloc(64, (size_t)n * sizeof(struct rrl_bucket));
	if (!t->b) {
		free(t);
		return NULL;
	}
	memset(t->b, 0, (size_t)n * sizeof(struct rrl_bucket));
	t->seed = seed;
	t->mask = n / RRL_WAYS - 1;
	t->rate = conf->rate;
	t->cap = conf->rate * RRL_MILLI;
	t->slip = conf->slip;
	t->conf = conf;
	return t;
}

void rrl_free(struct rrl_table *t)
{
	if (!t)
		return;
	free(t->b);
	free(t);
}

/* The bucket key: the client's /24 or /56, the family and the kind. */
static inline uint64_t bucket_key(const uint8_t *a, bool v6, enum rrl_kind k)
{
	uint64_t p;
	if (v6)   /* the first 7 bytes: /56 */
		p = (uint64_t)a[0] << 48 | (uint64_t)a[1] << 40 | (uint64_t)a[2] << 32 |
		    (uint64_t)a[3] << 24 | (uint64_t)a[4] << 16 | (uint64_t)a[5] << 8 | a[6];
	else      /* the first 3 bytes: /24 */
		p = (uint64_t)a[0] << 16 | (uint64_t)a[1] << 8 | a[2];
	return p << 8 | KEY_USED | (uint64_t)v6 << 3 | (uint64_t)k;
}
static_assert(RRL_K__COUNT <= 8, "the kind takes 3 bits of the key");
static_assert(RRL_PREFIX4 == 24 && RRL_PREFIX6 == 56, "bucket_key() packs /24 and /56");

/* A keyed mix (the seed unknown outside the process) of the key into a set index. */
static inline uint32_t set_of(const struct rrl_table *t, uint64_t key)
{
	uint64_t h = (key ^ t->seed) * 0x9e3779b97f4a7c15ULL;
	h ^= h >> 29;
	h *= 0xbf58476d1ce4e5b9ULL;
	h ^= h >> 32;
	return (uint32_t)h & t->mask;
}

/*
 * The key's bucket in its set, or the one to take over for it: an empty
 * one, else the one refilled longest ago (a prefix that stopped sending;
 * when all four are busy the oldest loses its history, which can only let
 * more responses through, never fewer).
 */
static struct rrl_bucket *find(struct rrl_table *t, uint64_t key, uint32_t now)
{
	struct rrl_bucket *set = t->b + (size_t)set_of(t, key) * RRL_WAYS;
	struct rrl_bucket *victim = &set[0];
	uint32_t oldest = 0;
	for (unsigned i = 0; i < RRL_WAYS; i++) {
		if (set[i].key == key)
			return &set[i];
		uint32_t age = set[i].key == 0 ? UINT32_MAX : now - set[i].stamp;
		if (age >= oldest) {
			oldest = age;
			victim = &set[i];
		}
	}
	victim->key = key;
	victim->stamp = now;
	victim->tokens = t->cap;     /* a new client starts with one second's worth */
	return victim;
}

enum rrl_verdict rrl_decide(struct rrl_table *t, uint32_t now_ms, const uint8_t *addr, bool v6,
                            enum rrl_kind k)
{
	struct rrl_bucket *b = find(t, bucket_key(addr, v6, k), now_ms);

	/* Refill: `rate` thousandths per millisecond, at most one second's worth. */
	uint32_t elapsed = now_ms - b->stamp;
	if (elapsed) {
		uint64_t tk = (uint64_t)b->tokens + (uint64_t)elapsed * t->rate;
		b->tokens = tk > t->cap ? t->cap : (uint32_t)tk;
		b->stamp = now_ms;
	}
	if (b->tokens >= RRL_MILLI) {
		b->tokens -= RRL_MILLI;
		return RRL_PASS;
	}
	/* Limited. The exempt list is looked at only now: the common case does not pay for it. */
	if (t->conf->nexempt && rrl_exempt(t->conf, addr, v6))
		return RRL_EXEMPT;
	if (t->slip == 0)
		return RRL_DROP;
	if (++t->slip_count >= t->slip) {
		t->slip_count = 0;
		return RRL_SLIP;
	}
	return RRL_DROP;
}

void rrl_live_set(struct rrl_live *l, uint32_t rate, uint32_t slip)
{
	atomic_store_explicit(&l->rate, rate, memory_order_relaxed);
	atomic_store_explicit(&l->slip, slip, memory_order_relaxed);
	atomic_fetch_add_explicit(&l->gen, 1, memory_order_release);
}

void rrl_refresh(struct rrl_table *t, const struct rrl_live *l)
{
	uint32_t g = atomic_load_explicit(&l->gen, memory_order_acquire);
	if (g == t->gen)
		return;
	uint32_t rate = atomic_load_explicit(&l->rate, memory_order_relaxed);
	if (rate >= 1 && rate <= RRL_RATE_MAX) {   /* turning it off or on is a restart */
		t->rate = rate;
		t->cap = rate * RRL_MILLI;
		t->slip = atomic_load_explicit(&l->slip, memory_order_relaxed);
	}
	t->gen = g;
}
