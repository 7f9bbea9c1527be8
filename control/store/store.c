/* store -- the LMDB store: schema, validation, the one commit path, import/export, index load, journal */
#include <errno.h>
#include <limits.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>

#include <jansson.h>
#include <lmdb.h>

#include "control/ipam/ipam.h"
#include "control/ipam/lmdb.h"
#include "control/store/store.h"
#include "control/ddns/policy.h"
#include "control/ddns/tsig.h"
#include "dns/errcode.h"
#include "dns/name.h"
#include "dns/rdata.h"
#include "dns/wire.h"
#include "dns/zonefile.h"
#include "index/snapshot.h"

/* The layout is described in store.h; this file only implements it. */

#define ZKEY_MAX (DNS_KEY_MAXLEN + 1)   /* K(apex) 0x00 */
#define RKEY_MAX (DNS_KEY_MAXLEN + 3)   /* K(owner) 0x00 type(2) */
#define RRVAL_HDR 6                      /* ttl(4) count(2) */
#define ZVAL_HDR 13                      /* version(1) flags(4) created(8) */
#define ZVAL_VERSION 1
#define JOURNAL_VERSION 1
#define ACTOR_MAX 255

/* Types allowed beside a CNAME (RFC 2181 10.1, RFC 4035 2.5). */
#define DNS_T_RRSIG 46
#define DNS_T_NSEC 47

struct store {
	MDB_env *env;
	MDB_dbi meta, zones, rrsets, addrs, journal;
	MDB_dbi keys, policies;      /* TSIG keys and update policy (RFC 2136) */
	bool ddns_dbs;               /* keys and policies exist (a store made before them may lack them) */
	MDB_dbi ipam_prefixes, ipam_ranges, ipam_allocs;   /* see "IPAM" at the end */
	unsigned max_rrsets, max_rrs;
};

struct cctx;
static int ipam_policy_check(struct cctx *c, const struct store_op *ops, size_t nops, long base);
static int ipam_dbis_open(struct store *s, struct store_error *err);

/* ------------------------------------------------------------------------ */
/* Errors and small helpers                                                 */
/* ------------------------------------------------------------------------ */

static int seterr(struct store_error *err, int code, long op, const char *fmt, ...)
	__attribute__((format(printf, 4, 5)));

static int seterr(struct store_error *err, int code, long op, const char *fmt, ...)
{
	if (err) {
		va_list ap;
		err->code = code;
		err->op = op;
		va_start(ap, fmt);
		vsnprintf(err->msg, sizeof(err->msg), fmt, ap);
		va_end(ap);
	}
	return code;
}

static void clearerr_(struct store_error *err)
{
	if (err) {
		err->code = DDI_EOK;
		err->op = -1;
		err->msg[0] = '\0';
	}
}

static int mdb_code(int rc)
{
	switch (rc) {
	case MDB_SUCCESS:
		return DDI_EOK;
	case MDB_NOTFOUND:
		return DDI_ENOENT;
	case MDB_MAP_FULL:
		return DDI_ENOSPC;
	case MDB_CORRUPTED:
	case MDB_PAGE_NOTFOUND:
	case MDB_INVALID:
		return DDI_ECORRUPT;
	case MDB_VERSION_MISMATCH:
		return DDI_ESCHEMA;
	case MDB_READERS_FULL:
	case MDB_TXN_FULL:
	case MDB_CURSOR_FULL:
	case MDB_PAGE_FULL:
	case MDB_DBS_FULL:
		return DDI_ELIMIT;
	case MDB_BAD_VALSIZE:
		return DDI_EINVAL;
	default:
		return rc > 0 ? -rc : DDI_EIO;
	}
}

static int mdb_fail(struct store_error *err, int rc, const char *what)
{
	return seterr(err, mdb_code(rc), -1, "%s: %s", what, mdb_strerror(rc));
}

static int64_t now_ns(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_REALTIME, &ts);
	return (int64_t)ts.tv_sec * 1000000000 + ts.tv_nsec;
}

static uint64_t get64(const uint8_t *p)
{
	return (uint64_t)dns_get32(p) << 32 | dns_get32(p + 4);
}

static void put64(uint8_t *p, uint64_t v)
{
	dns_put32(p, (uint32_t)(v >> 32));
	dns_put32(p + 4, (uint32_t)v);
}

/* Presentation form of a validated wire name, for messages. */
static const char *nstr(char buf[DNS_NAME_STRLEN], const uint8_t *name)
{
	if (dns_name_to_str(buf, DNS_NAME_STRLEN, name) < 0)
		snprintf(buf, DNS_NAME_STRLEN, "(bad name)");
	return buf;
}

/* A key as hex for ECORRUPT messages (first 48 bytes). */
static const char *khex(char buf[128], const void *key, size_t len)
{
	const uint8_t *k = key;
	size_t n = len > 48 ? 48 : len, o = 0;
	for (size_t i = 0; i < n; i++)
		o += (size_t)snprintf(buf + o, 128 - o, "%02x", k[i]);
	if (n < len)
		snprintf(buf + o, 128 - o, "...");
	else if (len == 0)
		snprintf(buf, 128, "(empty)");
	return buf;
}

/* RFC 1982: a is newer than b. */
static bool serial_gt(uint32_t a, uint32_t b)
{
	return a != b && (uint32_t)(a - b) < 0x80000000u;
}

static bool type_storable(uint16_t type)
{
	return type != 0 && !dns_type_is_meta(type);
}

static size_t zkey_make(uint8_t out[ZKEY_MAX], const uint8_t *apex)
{
	int n = dns_name_to_key(out, apex);
	out[n] = 0;
	return (size_t)n + 1;
}

static size_t rkey_make(uint8_t out[RKEY_MAX], const uint8_t *okey, size_t oklen, uint16_t type)
{
	memcpy(out, okey, oklen);
	out[oklen] = 0;
	dns_put16(out + oklen + 1, type);
	return oklen + 3;
}

/* Split an rrsets key; false when it is not of the form K 0x00 type. */
static bool rkey_split(const MDB_val *k, size_t *oklen, uint16_t *type)
{
	const uint8_t *p = k->mv_data;
	if (k->mv_size < 3 || k->mv_size > RKEY_MAX || p[k->mv_size - 3] != 0)
		return false;
	*oklen = k->mv_size - 3;
	*type = dns_get16(p + k->mv_size - 2);
	return true;
}

/* Lookup key -> wire name, for keys read from the store. */
static bool key_to_name(uint8_t name[DNS_NAME_MAXLEN], const uint8_t *key, size_t len)
{
	if (len > 0 && key[len - 1] != 0)
		return false;
	return dns_key_to_name(name, key, len) > 0;
}

static bool has_prefix(const MDB_val *k, const uint8_t *p, size_t n)
{
	return k->mv_size >= n && memcmp(k->mv_data, p, n) == 0;
}

/* ------------------------------------------------------------------------ */
/* Values                                                                   */
/* ------------------------------------------------------------------------ */

struct rrval {
	uint32_t ttl;
	uint16_t count;
	const uint8_t *rdatas;
	size_t len;
};

/*
 * Walk `count` items of [rdlen rdata] that must fill exactly `len` bytes,
 * each valid rdata of `type`. Returns DDI_EOK, DDI_EINVAL (framing) or
 * DDI_ERDATA (content); *bad is the index of the failing item.
 */
static int rdatas_check(uint16_t type, uint16_t count, const uint8_t *p, size_t len, size_t *bad)
{
	size_t off = 0;
	for (size_t i = 0; i < count; i++) {
		*bad = i;
		if (len - off < 2)
			return DDI_EINVAL;
		uint16_t rdlen = dns_get16(p + off);
		off += 2;
		if (len - off < rdlen)
			return DDI_EINVAL;
		if (dns_rdata_check(type, p + off, rdlen) != DDI_EOK)
			return DDI_ERDATA;
		off += rdlen;
	}
	*bad = count;
	return off == len ? DDI_EOK : DDI_EINVAL;
}

/* Parse and validate an rrsets value read from the store. */
static bool rrval_parse(const MDB_val *v, uint16_t type, struct rrval *out)
{
	const uint8_t *p = v->mv_data;
	size_t bad;
	if (v->mv_size < RRVAL_HDR)
		return false;
	out->ttl = dns_get32(p);
	out->count = dns_get16(p + 4);
	out->rdatas = p + RRVAL_HDR;
	out->len = v->mv_size - RRVAL_HDR;
	if (out->ttl > STORE_TTL_MAX || out->count == 0)
		return false;
	return rdatas_check(type, out->count, out->rdatas, out->len, &bad) == DDI_EOK;
}

struct zrec {
	uint8_t apex[DNS_NAME_MAXLEN];
	uint32_t flags;
	int64_t created;
	uint8_t key[ZKEY_MAX];   /* K(apex) 0x00 */
	size_t klen;
};

/* Parse a zones entry; false when it does not validate. */
static bool zrec_parse(const MDB_val *k, const MDB_val *v, struct zrec *z)
{
	const uint8_t *p = v->mv_data;
	if (v->mv_size <= ZVAL_HDR || v->mv_size > ZVAL_HDR + DNS_NAME_MAXLEN || p[0] != ZVAL_VERSION)
		return false;
	size_t nlen = v->mv_size - ZVAL_HDR;
	if (dns_name_check(p + ZVAL_HDR, nlen) != (int)nlen)
		return false;
	memcpy(z->apex, p + ZVAL_HDR, nlen);
	z->flags = dns_get32(p + 1);
	z->created = (int64_t)get64(p + 5);
	z->klen = zkey_make(z->key, z->apex);
	return z->klen == k->mv_size && memcmp(z->key, k->mv_data, z->klen) == 0;
}

/* Read a zone by its key. DDI_EOK, DDI_ENOENT, DDI_ECORRUPT (err set) or an LMDB error. */
static int zone_read(struct store *s, MDB_txn *txn, const uint8_t *zk, size_t zklen,
                     struct zrec *z, struct store_error *err)
{
	char hb[128];
	uint8_t kb[ZKEY_MAX];
	if (zklen > ZKEY_MAX)
		return DDI_ENOENT;
	memcpy(kb, zk, zklen);   /* callers may pass z->key, which zrec_parse rewrites */
	MDB_val k = { zklen, kb }, v;
	int rc = mdb_get(txn, s->zones, &k, &v);
	if (rc == MDB_NOTFOUND)
		return DDI_ENOENT;
	if (rc)
		return mdb_fail(err, rc, "zones");
	if (!zrec_parse(&k, &v, z))
		return seterr(err, DDI_ECORRUPT, -1, "zones entry %s does not validate",
		              khex(hb, kb, zklen));
	return DDI_EOK;
}

/* The deepest zone whose apex is at or above the owner with key okey. */
static int zone_find(struct store *s, MDB_txn *txn, const uint8_t *okey, size_t oklen,
                     struct zrec *z, struct store_error *err)
{
	uint8_t zk[ZKEY_MAX];
	for (size_t l = oklen + 1; l-- > 0;) {
		if (l > 0 && okey[l - 1] != 0)
			continue;   /* not a label boundary */
		memcpy(zk, okey, l);
		zk[l] = 0;
		int rc = zone_read(s, txn, zk, l + 1, z, err);
		if (rc != DDI_ENOENT)
			return rc;
	}
	return DDI_ENOENT;
}

/* ------------------------------------------------------------------------ */
/* Zone scans: the RRsets of one zone, deeper zones skipped                  */
/* ------------------------------------------------------------------------ */

struct subzones {
	size_t n, cap;
	struct subkey { size_t len; uint8_t key[DNS_KEY_MAXLEN]; } *v;   /* K(apex), no 0x00 sep */
};

static void subzones_free(struct subzones *sz)
{
	free(sz->v);
	memset(sz, 0, sizeof(*sz));
}

/* The zones strictly below the apex whose key is ak (K(apex), aklen bytes). */
static int subzones_load(struct store *s, MDB_txn *txn, const uint8_t *ak, size_t aklen,
                         struct subzones *sz, struct store_error *err)
{
	MDB_cursor *cur;
	MDB_val k, v;
	char hb[128];
	int rc = mdb_cursor_open(txn, s->zones, &cur);
	memset(sz, 0, sizeof(*sz));
	if (rc)
		return mdb_fail(err, rc, "zones cursor");
	if (aklen == 0) {
		rc = mdb_cursor_get(cur, &k, &v, MDB_FIRST);
	} else {
		k.mv_size = aklen;
		k.mv_data = (void *)ak;
		rc = mdb_cursor_get(cur, &k, &v, MDB_SET_RANGE);
	}
	for (; rc == 0 && has_prefix(&k, ak, aklen); rc = mdb_cursor_get(cur, &k, &v, MDB_NEXT)) {
		const uint8_t *kp = k.mv_data;
		bool valid = k.mv_size <= ZKEY_MAX && kp[k.mv_size - 1] == 0;
		if (valid && k.mv_size == aklen + 1)
			continue;   /* the apex itself */
		if (!valid || k.mv_size < 2 || kp[k.mv_size - 2] != 0) {
			mdb_cursor_close(cur);
			subzones_free(sz);
			return seterr(err, DDI_ECORRUPT, -1, "zones key %s does not validate",
			              khex(hb, k.mv_data, k.mv_size));
		}
		if (sz->n == sz->cap) {
			size_t nc = sz->cap ? sz->cap * 2 : 4;
			void *nv = realloc(sz->v, nc * sizeof(*sz->v));
			if (!nv) {
				mdb_cursor_close(cur);
				subzones_free(sz);
				return seterr(err, DDI_ENOMEM, -1, "out of memory");
			}
			sz->v = nv;
			sz->cap = nc;
		}
		sz->v[sz->n].len = k.mv_size - 1;
		memcpy(sz->v[sz->n].key, k.mv_data, k.mv_size - 1);
		sz->n++;
	}
	mdb_cursor_close(cur);
	if (rc && rc != MDB_NOTFOUND) {
		subzones_free(sz);
		return mdb_fail(err, rc, "zones");
	}
	return DDI_EOK;
}

/* Index of the deeper zone that holds key k (an rrsets or owner key), or -1. */
static long subzones_match(const struct subzones *sz, const uint8_t *k, size_t klen)
{
	for (size_t i = 0; i < sz->n; i++)
		if (klen >= sz->v[i].len && memcmp(k, sz->v[i].key, sz->v[i].len) == 0)
			return (long)i;
	return -1;
}

struct zscan {
	MDB_cursor *cur;
	const uint8_t *ak;
	size_t aklen;
	const struct subzones *sz;
	bool started;
	MDB_val k, v;
};

/* Next RRset of the zone: 1 with z->k/z->v set, 0 at the end, < 0 on error. */
static int zscan_next(struct zscan *z)
{
	int rc;
	if (!z->started) {
		z->started = true;
		if (z->aklen == 0) {
			rc = mdb_cursor_get(z->cur, &z->k, &z->v, MDB_FIRST);
		} else {
			z->k.mv_size = z->aklen;
			z->k.mv_data = (void *)z->ak;
			rc = mdb_cursor_get(z->cur, &z->k, &z->v, MDB_SET_RANGE);
		}
	} else {
		rc = mdb_cursor_get(z->cur, &z->k, &z->v, MDB_NEXT);
	}
	for (;;) {
		if (rc == MDB_NOTFOUND)
			return 0;
		if (rc)
			return mdb_code(rc);
		if (!has_prefix(&z->k, z->ak, z->aklen))
			return 0;
		long i = subzones_match(z->sz, z->k.mv_data, z->k.mv_size);
		if (i < 0)
			return 1;
		/*
		 * Skip the deeper zone in one seek: K(sub) ends in 0x00 and every
		 * key below it continues K(sub); K(sub) with its last byte made
		 * 0x01 is greater than all of them and smaller than anything else.
		 */
		uint8_t seek[DNS_KEY_MAXLEN];
		size_t l = z->sz->v[i].len;
		memcpy(seek, z->sz->v[i].key, l);
		seek[l - 1] = 1;
		z->k.mv_size = l;
		z->k.mv_data = seek;
		rc = mdb_cursor_get(z->cur, &z->k, &z->v, MDB_SET_RANGE);
	}
}

/* ------------------------------------------------------------------------ */
/* Open and close                                                           */
/* ------------------------------------------------------------------------ */

static int meta_get64(struct store *s, MDB_txn *txn, const char *name, uint64_t *out,
                      struct store_error *err)
{
	MDB_val k = { strlen(name), (void *)name }, v;
	int rc = mdb_get(txn, s->meta, &k, &v);
	if (rc)
		return rc == MDB_NOTFOUND ? seterr(err, DDI_ECORRUPT, -1, "meta has no %s", name)
		                          : mdb_fail(err, rc, "meta");
	if (v.mv_size != 8)
		return seterr(err, DDI_ECORRUPT, -1, "meta %s has %zu bytes, not 8", name, v.mv_size);
	*out = get64(v.mv_data);
	return DDI_EOK;
}

static int meta_put64(struct store *s, MDB_txn *txn, const char *name, uint64_t val,
                      struct store_error *err)
{
	uint8_t b[8];
	put64(b, val);
	MDB_val k = { strlen(name), (void *)name }, v = { 8, b };
	int rc = mdb_put(txn, s->meta, &k, &v, 0);
	return rc ? mdb_fail(err, rc, "meta") : DDI_EOK;
}

/* Check (or, in a fresh store, write) the schema. */
static int meta_init(struct store *s, MDB_txn *txn, bool create, struct store_error *err)
{
	static const char sv[] = "schema_version";
	MDB_val k = { sizeof(sv) - 1, (void *)sv }, v;
	int rc = mdb_get(txn, s->meta, &k, &v);
	if (rc == MDB_NOTFOUND && create) {
		uint8_t b[4];
		dns_put32(b, STORE_SCHEMA_VERSION);
		v.mv_size = 4;
		v.mv_data = b;
		rc = mdb_put(txn, s->meta, &k, &v, 0);
		if (rc)
			return mdb_fail(err, rc, "meta");
		rc = meta_put64(s, txn, "created", (uint64_t)now_ns(), err);
		if (rc == 0)
			rc = meta_put64(s, txn, "next_seq", 1, err);
		return rc;
	}
	if (rc == MDB_NOTFOUND)
		return seterr(err, DDI_ECORRUPT, -1, "meta has no schema_version");
	if (rc)
		return mdb_fail(err, rc, "meta");
	if (v.mv_size != 4)
		return seterr(err, DDI_ECORRUPT, -1, "meta schema_version has %zu bytes, not 4",
		              v.mv_size);
	uint32_t ver = dns_get32(v.mv_data);
	if (ver != STORE_SCHEMA_VERSION)
		return seterr(err, DDI_ESCHEMA, -1,
		              "store schema version %u, this build supports %u", ver,
		              STORE_SCHEMA_VERSION);
	uint64_t seq;
	return meta_get64(s, txn, "next_seq", &seq, err);
}

static int open_dbis(struct store *s, MDB_txn *txn, bool create, struct store_error *err)
{
	static const struct { const char *name; unsigned flags; size_t off; } dbs[] = {
		{ "meta", 0, offsetof(struct store, meta) },
		{ "zones", 0, offsetof(struct store, zones) },
		{ "rrsets", 0, offsetof(struct store, rrsets) },
		{ "addresses", MDB_DUPSORT, offsetof(struct store, addrs) },
		{ "journal", 0, offsetof(struct store, journal) },
	};
	for (size_t i = 0; i < sizeof(dbs) / sizeof(dbs[0]); i++) {
		MDB_dbi *dbi = (MDB_dbi *)((char *)s + dbs[i].off);
		int rc = mdb_dbi_open(txn, dbs[i].name, dbs[i].flags | (create ? MDB_CREATE : 0), dbi);
		if (rc == MDB_NOTFOUND)
			return seterr(err, i == 0 ? DDI_ENOENT : DDI_ECORRUPT, -1,
			              "the store has no \"%s\" database", dbs[i].name);
		if (rc == MDB_INCOMPATIBLE)
			return seterr(err, DDI_ESCHEMA, -1, "database \"%s\" has other flags",
			              dbs[i].name);
		if (rc)
			return mdb_fail(err, rc, dbs[i].name);
	}
	return DDI_EOK;
}

/*
 * The write transaction store_transact() holds on this thread: every
 * transaction this thread begins on that store meanwhile is nested in it
 * (a nested write transaction, aborted by readers), so reads see it.
 */
static __thread struct { struct store *s; MDB_txn *txn; MDB_txn *batch; } tx_outer;

static int txn_begin(struct store *s, unsigned flags, MDB_txn **txn)
{
	if (tx_outer.s == s)
		return mdb_txn_begin(s->env, tx_outer.txn, flags & ~(unsigned)MDB_RDONLY, txn);
	int rc = mdb_txn_begin(s->env, NULL, flags, txn);
	if (rc == MDB_MAP_RESIZED) {
		/*
		 * Another process grew the map: adopt its size and retry once.
		 * LMDB allows this only while this process has no transaction
		 * open; a server that shares the store between threads opens it
		 * with a map_size at least as large as any writer's.
		 */
		rc = mdb_env_set_mapsize(s->env, 0);
		if (rc == 0)
			rc = mdb_txn_begin(s->env, NULL, flags, txn);
	}
	return rc;
}

static int open_ddns_dbis(struct store *s, struct store_error *err);

int store_open(struct store **out, const char *dir, const struct store_options *opt,
               struct store_error *err)
{
	struct store_options o = { 0 };
	struct stat st;
	char path[PATH_MAX];
	MDB_txn *txn;
	int rc;

	clearerr_(err);
	*out = NULL;
	if (opt)
		o = *opt;
	if (!o.map_size)
		o.map_size = STORE_MAP_SIZE_DEFAULT;
	if (!o.max_rrsets)
		o.max_rrsets = STORE_MAX_RRSETS_DEFAULT;
	if (!o.max_rrs || o.max_rrs > 65535)
		o.max_rrs = o.max_rrs ? 65535 : STORE_MAX_RRS_DEFAULT;

	if (o.create && mkdir(dir, 0750) != 0 && errno != EEXIST)
		return seterr(err, -errno, -1, "%s: %s", dir, strerror(errno));
	if (snprintf(path, sizeof(path), "%s/data.mdb", dir) >= (int)sizeof(path))
		return seterr(err, DDI_EINVAL, -1, "%s: path too long", dir);
	/* LMDB would create an empty environment: refuse unless asked */
	if (!o.create && stat(path, &st) != 0)
		return seterr(err, errno == ENOENT ? DDI_ENOENT : -errno, -1, "no store in %s: %s",
		              dir, strerror(errno));

	struct store *s = calloc(1, sizeof(*s));
	if (!s)
		return seterr(err, DDI_ENOMEM, -1, "out of memory");
	s->max_rrsets = o.max_rrsets;
	s->max_rrs = o.max_rrs;
	rc = mdb_env_create(&s->env);
	if (rc == 0)
		rc = mdb_env_set_maxdbs(s->env, 16);
	if (rc == 0)
		rc = mdb_env_set_mapsize(s->env, o.map_size);
	if (rc == 0)
		rc = mdb_env_open(s->env, dir, MDB_NOTLS, 0640);
	if (rc) {
		rc = mdb_fail(err, rc, dir);
		goto fail;
	}
	rc = txn_begin(s, o.create ? 0 : MDB_RDONLY, &txn);
	if (rc) {
		rc = mdb_fail(err, rc, dir);
		goto fail;
	}
	rc = open_dbis(s, txn, o.create, err);
	if (rc == 0)
		rc = meta_init(s, txn, o.create, err);
	if (rc) {
		mdb_txn_abort(txn);
		goto fail;
	}
	/* commit (also of the read txn) makes the dbi handles usable by all txns */
	rc = mdb_txn_commit(txn);
	if (rc) {
		rc = mdb_fail(err, rc, dir);
		goto fail;
	}
	if ((rc = open_ddns_dbis(s, err)) != 0)
		goto fail;
	if ((rc = ipam_dbis_open(s, err)) != 0)
		goto fail;
	*out = s;
	return DDI_EOK;
fail:
	if (s->env)
		mdb_env_close(s->env);
	free(s);
	return rc;
}

void store_close(struct store *s)
{
	if (!s)
		return;
	mdb_env_close(s->env);
	free(s);
}

int store_last_seq(struct store *s, uint64_t *seq, struct store_error *err)
{
	MDB_txn *txn;
	uint64_t next;
	clearerr_(err);
	int rc = txn_begin(s, MDB_RDONLY, &txn);
	if (rc)
		return mdb_fail(err, rc, "read transaction");
	rc = meta_get64(s, txn, "next_seq", &next, err);
	mdb_txn_abort(txn);
	if (rc == 0) {
		if (next == 0)
			return seterr(err, DDI_ECORRUPT, -1, "meta next_seq is 0");
		*seq = next - 1;
	}
	return rc;
}

/* ------------------------------------------------------------------------ */
/* Commit                                                                   */
/* ------------------------------------------------------------------------ */

static const char *const jop_names[] = {
	[STORE_J_ZONE_ADD] = "zone-add",
	[STORE_J_ZONE_REMOVE] = "zone-remove",
	[STORE_J_ZONE_REPLACE] = "zone-replace",
	[STORE_J_RRSET_REPLACE] = "rrset-replace",
	[STORE_J_RRSET_DELETE] = "rrset-delete",
	[STORE_J_RR_ADD] = "rr-add",
	[STORE_J_RR_DELETE] = "rr-delete",
	[STORE_J_SERIAL] = "serial",
	[STORE_J_KEY_ADD] = "key-add",
	[STORE_J_KEY_REMOVE] = "key-remove",
	[STORE_J_POLICY_SET] = "policy-set",
};

const char *store_jop_name(enum store_jop op)
{
	if (op < STORE_J_ZONE_ADD || op > STORE_J_POLICY_SET || !jop_names[op])
		return "?";
	return jop_names[op];
}

struct tzone {               /* a zone touched by the commit */
	struct zrec z;
	long op;                 /* last op that touched it */
	bool removed, added, soa_explicit;
	bool changed;            /* some RRset of it was written */
};

struct towner {              /* a name touched by rrset-level ops: checked at the end */
	long op;
	uint16_t len;
	uint8_t key[DNS_KEY_MAXLEN];
};

struct cctx {
	struct store *s;
	MDB_txn *txn;
	struct store_error *err;
	long op;
	json_t *jops;
	struct tzone *zones;
	size_t nzones, capzones;
	struct towner *owners;
	size_t nowners, capowners;
	uint8_t *buf;            /* scratch for building RRset values */
	size_t bufcap;
	json_t *jipam;           /* IPAM changes of the commit (journal "ipam"), NULL: none */
	bool bulk;               /* IPAM bulk: RRset ops not journaled, one zone-replace per zone */
};

static int c_nomem(struct cctx *c)
{
	return seterr(c->err, DDI_ENOMEM, c->op, "out of memory");
}

static int c_mdb(struct cctx *c, int rc, const char *what)
{
	return seterr(c->err, mdb_code(rc), c->op, "%s: %s", what, mdb_strerror(rc));
}

static int buf_need(struct cctx *c, size_t n)
{
	if (n <= c->bufcap)
		return DDI_EOK;
	size_t nc = c->bufcap ? c->bufcap : 4096;
	while (nc < n)
		nc *= 2;
	uint8_t *nb = realloc(c->buf, nc);
	if (!nb)
		return c_nomem(c);
	c->buf = nb;
	c->bufcap = nc;
	return DDI_EOK;
}

static int journal_op(struct cctx *c, enum store_jop op, const uint8_t *zone, const uint8_t *owner,
                      uint16_t type, uint64_t oldc, uint64_t newc)
{
	char zb[DNS_NAME_STRLEN], ob[DNS_NAME_STRLEN];
	if (c->bulk && op >= STORE_J_RRSET_REPLACE && op <= STORE_J_RR_DELETE)
		return DDI_EOK;   /* ipam_run journals the zone whole */
	json_t *o = json_pack("{s:s, s:s, s:s, s:I, s:I}", "op", store_jop_name(op), "zone",
	                      nstr(zb, zone), "owner", nstr(ob, owner), "old", (json_int_t)oldc,
	                      "new", (json_int_t)newc);
	if (!o)
		return c_nomem(c);
	if (type && json_object_set_new(o, "type", json_string(dns_type_name(type))) != 0) {
		json_decref(o);
		return c_nomem(c);
	}
	if (json_array_append_new(c->jops, o) != 0)
		return c_nomem(c);
	return DDI_EOK;
}

static struct tzone *touch_zone(struct cctx *c, const struct zrec *z)
{
	for (size_t i = 0; i < c->nzones; i++) {
		if (c->zones[i].z.klen == z->klen && memcmp(c->zones[i].z.key, z->key, z->klen) == 0) {
			c->zones[i].op = c->op;
			return &c->zones[i];
		}
	}
	if (c->nzones == c->capzones) {
		size_t nc = c->capzones ? c->capzones * 2 : 4;
		void *nz = realloc(c->zones, nc * sizeof(*c->zones));
		if (!nz)
			return NULL;
		c->zones = nz;
		c->capzones = nc;
	}
	struct tzone *t = &c->zones[c->nzones++];
	memset(t, 0, sizeof(*t));
	t->z = *z;
	t->op = c->op;
	return t;
}

static int touch_owner(struct cctx *c, const uint8_t *okey, size_t oklen)
{
	if (c->nowners && c->owners[c->nowners - 1].len == oklen &&
	    memcmp(c->owners[c->nowners - 1].key, okey, oklen) == 0) {
		c->owners[c->nowners - 1].op = c->op;
		return DDI_EOK;
	}
	if (c->nowners == c->capowners) {
		size_t nc = c->capowners ? c->capowners * 2 : 8;
		void *no = realloc(c->owners, nc * sizeof(*c->owners));
		if (!no)
			return c_nomem(c);
		c->owners = no;
		c->capowners = nc;
	}
	struct towner *t = &c->owners[c->nowners++];
	t->op = c->op;
	t->len = (uint16_t)oklen;
	memcpy(t->key, okey, oklen);
	return DDI_EOK;
}

/* Address key for an A/AAAA rdata: family(1) address; 0 for other types. */
static size_t addr_key(uint8_t out[17], uint16_t type, const uint8_t *rd, uint16_t rdlen)
{
	if (type == DNS_T_A && rdlen == 4)
		out[0] = 4;
	else if (type == DNS_T_AAAA && rdlen == 16)
		out[0] = 6;
	else
		return 0;
	memcpy(out + 1, rd, rdlen);
	return (size_t)rdlen + 1;
}

/* Add or remove `owner_lc` as an owner of each address in rdatas (already validated). */
static int addrs_update(struct cctx *c, const uint8_t *owner_lc, uint16_t type,
                        const uint8_t *rdatas, size_t len, bool add)
{
	uint8_t ak[17];
	MDB_val v = { dns_name_len(owner_lc), (void *)owner_lc };
	for (size_t off = 0; off + 2 <= len;) {
		uint16_t rdlen = dns_get16(rdatas + off);
		size_t kl = addr_key(ak, type, rdatas + off + 2, rdlen);
		off += 2 + (size_t)rdlen;
		if (!kl)
			continue;
		MDB_val k = { kl, ak };
		int rc = add ? mdb_put(c->txn, c->s->addrs, &k, &v, MDB_NODUPDATA)
		             : mdb_del(c->txn, c->s->addrs, &k, &v);
		if (rc && rc != MDB_KEYEXIST && rc != MDB_NOTFOUND)
			return c_mdb(c, rc, "addresses");
	}
	return DDI_EOK;
}

/*
 * Read the RRset (okey, type). DDI_EOK with *val set (pointing into the
 * map: valid until the next write), DDI_ENOENT, or an error.
 */
static int rrset_read(struct cctx *c, const uint8_t *okey, size_t oklen, uint16_t type,
                      struct rrval *val)
{
	uint8_t rk[RKEY_MAX];
	char hb[128];
	MDB_val k = { rkey_make(rk, okey, oklen, type), rk }, v;
	int rc = mdb_get(c->txn, c->s->rrsets, &k, &v);
	if (rc == MDB_NOTFOUND)
		return DDI_ENOENT;
	if (rc)
		return c_mdb(c, rc, "rrsets");
	if (!rrval_parse(&v, type, val))
		return seterr(c->err, DDI_ECORRUPT, c->op, "rrsets value of key %s does not validate",
		              khex(hb, k.mv_data, k.mv_size));
	return DDI_EOK;
}

/*
 * Write (count > 0) or delete (count 0) the RRset, keeping the addresses
 * database in step. rdatas must not point into the map. *oldcount gets the
 * previous RR count (0 when there was none); *changed (may be NULL) tells
 * whether anything was written: writing what is already there is a no-op,
 * so that a repeated registration neither advances the serial nor fills
 * the journal.
 */
static int rrset_write(struct cctx *c, const uint8_t *okey, size_t oklen, uint16_t type,
                       uint32_t ttl, uint16_t count, const uint8_t *rdatas, size_t len,
                       uint16_t *oldcount, bool *changed)
{
	uint8_t rk[RKEY_MAX], owner[DNS_NAME_MAXLEN];
	struct rrval old;
	bool isaddr = type == DNS_T_A || type == DNS_T_AAAA;
	int rc = rrset_read(c, okey, oklen, type, &old);
	*oldcount = 0;
	if (changed)
		*changed = false;
	if (rc && rc != DDI_ENOENT)
		return rc;
	if (rc == DDI_EOK)
		*oldcount = old.count;
	if (rc == DDI_ENOENT ? count == 0
	                     : (count && old.ttl == ttl && old.count == count && old.len == len &&
	                        memcmp(old.rdatas, rdatas, len) == 0))
		return DDI_EOK;
	if (changed)
		*changed = true;
	if (isaddr && dns_key_to_name(owner, okey, oklen) < 0)
		return seterr(c->err, DDI_EINVAL, c->op, "bad owner key");
	if (rc == DDI_EOK) {
		if (isaddr) {
			/* copy out of the map before writing anything */
			uint8_t *cp = malloc(old.len ? old.len : 1);
			if (!cp)
				return c_nomem(c);
			memcpy(cp, old.rdatas, old.len);
			rc = addrs_update(c, owner, type, cp, old.len, false);
			free(cp);
			if (rc)
				return rc;
		}
	}
	MDB_val k = { rkey_make(rk, okey, oklen, type), rk };
	if (count == 0) {
		if (*oldcount) {
			rc = mdb_del(c->txn, c->s->rrsets, &k, NULL);
			if (rc)
				return c_mdb(c, rc, "rrsets");
		}
		return DDI_EOK;
	}
	MDB_val v = { RRVAL_HDR + len, NULL };
	rc = mdb_put(c->txn, c->s->rrsets, &k, &v, MDB_RESERVE);
	if (rc)
		return c_mdb(c, rc, "rrsets");
	uint8_t *p = v.mv_data;
	dns_put32(p, ttl);
	dns_put16(p + 4, count);
	memcpy(p + RRVAL_HDR, rdatas, len);
	if (isaddr)
		return addrs_update(c, owner, type, rdatas, len, true);
	return DDI_EOK;
}

/* True when the rdata item (rdlen rdata) occurs among `count` items at p. */
static bool rdatas_has(const uint8_t *p, size_t len, const uint8_t *item, size_t itemlen)
{
	for (size_t off = 0; off + 2 <= len;) {
		size_t l = 2 + (size_t)dns_get16(p + off);
		if (l == itemlen && memcmp(p + off, item, l) == 0)
			return true;
		off += l;
	}
	return false;
}

/* Append the items of src to c->buf[*len..] skipping duplicates; counts them in *count. */
static int rdatas_merge(struct cctx *c, size_t *len, uint32_t *count, const uint8_t *src,
                        size_t srclen, const uint8_t *skip, size_t skiplen)
{
	for (size_t off = 0; off + 2 <= srclen;) {
		size_t l = 2 + (size_t)dns_get16(src + off);
		if (!rdatas_has(c->buf, *len, src + off, l) &&
		    !(skip && rdatas_has(skip, skiplen, src + off, l))) {
			int rc = buf_need(c, *len + l);
			if (rc)
				return rc;
			memcpy(c->buf + *len, src + off, l);
			*len += l;
			(*count)++;
		}
		off += l;
	}
	return DDI_EOK;
}

/* Common checks of an rrset-level op; fills the owner key and its zone. */
static int op_target(struct cctx *c, const struct store_op *op, uint8_t okey[DNS_KEY_MAXLEN],
                     size_t *oklen, struct zrec *z)
{
	char nb[DNS_NAME_STRLEN], zb[DNS_NAME_STRLEN], fb[DNS_NAME_STRLEN];
	if (!op->owner || dns_name_check(op->owner, DNS_NAME_MAXLEN) <= 0)
		return seterr(c->err, DDI_EINVAL, c->op, "op %ld: no valid owner name", c->op);
	if (op->kind != STORE_OP_RRSET_DELETE || (op->type != 0 && op->type != DNS_T_ANY)) {
		if (!type_storable(op->type))
			return seterr(c->err, DDI_ERDATA, c->op, "%s: type %s cannot be stored",
			              nstr(nb, op->owner), dns_type_name(op->type));
	}
	*oklen = (size_t)dns_name_to_key(okey, op->owner);
	int rc = zone_find(c->s, c->txn, okey, *oklen, z, c->err);
	if (rc == DDI_ENOENT)
		return seterr(c->err, DDI_EOUTZONE, c->op, "%s is in no zone of this store",
		              nstr(nb, op->owner));
	if (rc) {
		c->err->op = c->op;
		return rc;
	}
	if (op->zone) {
		uint8_t zk[ZKEY_MAX];
		if (dns_name_check(op->zone, DNS_NAME_MAXLEN) <= 0)
			return seterr(c->err, DDI_EINVAL, c->op, "op %ld: no valid zone name", c->op);
		size_t zl = zkey_make(zk, op->zone);
		if (zl != z->klen || memcmp(zk, z->key, zl) != 0)
			return seterr(c->err, DDI_EOUTZONE, c->op, "%s is not in zone %s (it is in %s)",
			              nstr(nb, op->owner), nstr(zb, op->zone),
			              nstr(fb, z->apex));
	}
	bool apex = *oklen + 1 == z->klen;
	if (op->type == DNS_T_SOA && !apex &&
	    (op->kind == STORE_OP_RRSET_REPLACE || op->kind == STORE_OP_RR_ADD))
		return seterr(c->err, DDI_ESOA, c->op, "%s: an SOA belongs only at the apex %s",
		              nstr(nb, op->owner), nstr(zb, z->apex));
	return DDI_EOK;
}

/* Validate the op's own rdatas and TTL. */
static int op_rdatas(struct cctx *c, const struct store_op *op)
{
	char nb[DNS_NAME_STRLEN];
	size_t bad;
	if (op->ttl > STORE_TTL_MAX && op->kind != STORE_OP_RR_DELETE)
		return seterr(c->err, DDI_ETTL, c->op, "%s %s: TTL %u is above 2^31-1",
		              nstr(nb, op->owner), dns_type_name(op->type), op->ttl);
	if (op->count && !op->rdatas)
		return seterr(c->err, DDI_EINVAL, c->op, "op %ld: count without rdatas", c->op);
	int rc = rdatas_check(op->type, op->count, op->rdatas, op->count ? op->rdatas_len : 0, &bad);
	if (rc == DDI_ERDATA)
		return seterr(c->err, rc, c->op, "%s %s: rdata %zu is not valid for the type",
		              nstr(nb, op->owner), dns_type_name(op->type), bad + 1);
	if (rc)
		return seterr(c->err, rc, c->op, "op %ld: rdatas do not hold %u items of [rdlen rdata]",
		              c->op, op->count);
	return DDI_EOK;
}

static int op_rrset(struct cctx *c, const struct store_op *op)
{
	char nb[DNS_NAME_STRLEN];
	uint8_t okey[DNS_KEY_MAXLEN];
	size_t oklen = 0;
	struct zrec z;
	struct rrval old;
	uint16_t oldcount;
	int rc = op_target(c, op, okey, &oklen, &z);
	if (rc == 0 && op->kind != STORE_OP_RRSET_DELETE)
		rc = op_rdatas(c, op);
	if (rc)
		return rc;
	struct tzone *tz = touch_zone(c, &z);
	if (!tz)
		return c_nomem(c);
	if ((rc = touch_owner(c, okey, oklen)) != 0)
		return rc;

	if (op->kind == STORE_OP_RRSET_DELETE && (op->type == 0 || op->type == DNS_T_ANY)) {
		/*
		 * Every RRset of the owner, one at a time: find the first left,
		 * delete it, look again (a cursor does not outlive the write).
		 */
		uint8_t pk[DNS_KEY_MAXLEN + 1];
		size_t nt = 0;
		memcpy(pk, okey, oklen);
		pk[oklen] = 0;
		for (;;) {
			MDB_cursor *cur;
			MDB_val k = { oklen + 1, pk }, v;
			if ((rc = mdb_cursor_open(c->txn, c->s->rrsets, &cur)) != 0)
				return c_mdb(c, rc, "rrsets");
			rc = mdb_cursor_get(cur, &k, &v, MDB_SET_RANGE);
			bool found = rc == 0 && k.mv_size == oklen + 3 && has_prefix(&k, pk, oklen + 1);
			uint16_t type = found ? dns_get16((uint8_t *)k.mv_data + oklen + 1) : 0;
			mdb_cursor_close(cur);
			if (rc && rc != MDB_NOTFOUND)
				return c_mdb(c, rc, "rrsets");
			if (!found)
				break;
			if ((rc = rrset_write(c, okey, oklen, type, 0, 0, NULL, 0, &oldcount, NULL)) != 0)
				return rc;
			tz->changed = true;
			nt++;
			if ((rc = journal_op(c, STORE_J_RRSET_DELETE, z.apex, op->owner, type, oldcount,
			                     0)) != 0)
				return rc;
		}
		if (nt == 0 && !(op->flags & STORE_OPF_MISSING_OK))
			return seterr(c->err, DDI_ENOENT, c->op, "%s has no records", nstr(nb, op->owner));
		return DDI_EOK;
	}

	rc = rrset_read(c, okey, oklen, op->type, &old);
	if (rc && rc != DDI_ENOENT)
		return rc;
	bool exists = rc == DDI_EOK;
	rc = DDI_EOK;
	size_t len = 0;
	uint32_t count = 0, ttl = op->ttl;
	enum store_jop jop;

	switch (op->kind) {
	case STORE_OP_RRSET_REPLACE:
		jop = STORE_J_RRSET_REPLACE;
		rc = rdatas_merge(c, &len, &count, op->rdatas, op->count ? op->rdatas_len : 0, NULL, 0);
		break;
	case STORE_OP_RRSET_DELETE:
		jop = STORE_J_RRSET_DELETE;
		if (!exists && !(op->flags & STORE_OPF_MISSING_OK))
			return seterr(c->err, DDI_ENOENT, c->op, "%s has no %s records",
			              nstr(nb, op->owner), dns_type_name(op->type));
		break;
	case STORE_OP_RR_ADD:
		jop = STORE_J_RR_ADD;
		if (op->type != DNS_T_SOA && exists)
			rc = rdatas_merge(c, &len, &count, old.rdatas, old.len, NULL, 0);
		if (rc == 0)
			rc = rdatas_merge(c, &len, &count, op->rdatas, op->count ? op->rdatas_len : 0,
			                  NULL, 0);
		break;
	case STORE_OP_RR_DELETE:
		jop = STORE_J_RR_DELETE;
		if (!(op->flags & STORE_OPF_MISSING_OK)) {
			for (size_t off = 0; op->count && off + 2 <= op->rdatas_len;) {
				size_t l = 2 + (size_t)dns_get16(op->rdatas + off);
				if (!exists || !rdatas_has(old.rdatas, old.len, op->rdatas + off, l))
					return seterr(c->err, DDI_ENOENT, c->op,
					              "%s %s: no such record to delete",
					              nstr(nb, op->owner), dns_type_name(op->type));
				off += l;
			}
		}
		if (exists) {
			ttl = old.ttl;
			rc = rdatas_merge(c, &len, &count, old.rdatas, old.len, op->rdatas,
			                  op->count ? op->rdatas_len : 0);
		}
		break;
	default:
		return seterr(c->err, DDI_EINVAL, c->op, "op %ld: unknown kind %d", c->op, op->kind);
	}
	if (rc)
		return rc;
	if (count > c->s->max_rrs)
		return seterr(c->err, DDI_ELIMIT, c->op, "%s %s: %u records, the limit is %u",
		              nstr(nb, op->owner), dns_type_name(op->type), count, c->s->max_rrs);
	if (op->type == DNS_T_SOA && count > 1)
		return seterr(c->err, DDI_ESOA, c->op, "%s: more than one SOA", nstr(nb, op->owner));
	bool changed;
	if ((rc = rrset_write(c, okey, oklen, op->type, ttl, (uint16_t)count, c->buf, len,
	                      &oldcount, &changed)) != 0)
		return rc;
	if (!changed)
		return DDI_EOK;
	tz->changed = true;
	if (op->type == DNS_T_SOA && count == 1)
		tz->soa_explicit = true;
	return journal_op(c, jop, z.apex, op->owner, op->type, oldcount, count);
}

/* Count the RRsets (and RRs) of a zone. */
static int zone_count(struct store *s, MDB_txn *txn, const struct zrec *z, uint64_t *nrrsets,
                      uint64_t *nrrs, struct store_error *err)
{
	struct subzones sz;
	struct zscan zs = { 0 };
	char hb[128];
	int rc = subzones_load(s, txn, z->key, z->klen - 1, &sz, err);
	if (rc)
		return rc;
	*nrrsets = 0;
	if (nrrs)
		*nrrs = 0;
	if ((rc = mdb_cursor_open(txn, s->rrsets, &zs.cur)) != 0) {
		subzones_free(&sz);
		return mdb_fail(err, rc, "rrsets");
	}
	zs.ak = z->key;
	zs.aklen = z->klen - 1;
	zs.sz = &sz;
	while ((rc = zscan_next(&zs)) == 1) {
		(*nrrsets)++;
		if (nrrs) {
			if (zs.v.mv_size < RRVAL_HDR) {
				rc = seterr(err, DDI_ECORRUPT, -1, "rrsets value of key %s is short",
				            khex(hb, zs.k.mv_data, zs.k.mv_size));
				break;
			}
			*nrrs += dns_get16((uint8_t *)zs.v.mv_data + 4);
		}
	}
	mdb_cursor_close(zs.cur);
	subzones_free(&sz);
	if (rc < 0 && err && err->code != rc)
		seterr(err, rc, -1, "rrsets: %s", ddi_strerror(rc));
	return rc < 0 ? rc : DDI_EOK;
}

/* Keys of the zone's RRsets, copied, in order (they are deleted or compared afterwards). */
struct keylist {
	size_t n, cap, used, acap;
	size_t *off;
	uint8_t *arena;
};

static void keylist_free(struct keylist *kl)
{
	free(kl->off);
	free(kl->arena);
	memset(kl, 0, sizeof(*kl));
}

static int keylist_add(struct keylist *kl, const void *key, size_t len)
{
	if (kl->n + 1 >= kl->cap) {
		size_t nc = kl->cap ? kl->cap * 2 : 64;
		size_t *no = realloc(kl->off, nc * sizeof(*no));
		if (!no)
			return DDI_ENOMEM;
		kl->off = no;
		kl->cap = nc;
	}
	if (kl->used + len > kl->acap) {
		size_t nc = kl->acap ? kl->acap * 2 : 4096;
		while (nc < kl->used + len)
			nc *= 2;
		uint8_t *na = realloc(kl->arena, nc);
		if (!na)
			return DDI_ENOMEM;
		kl->arena = na;
		kl->acap = nc;
	}
	memcpy(kl->arena + kl->used, key, len);
	kl->off[kl->n++] = kl->used;
	kl->used += len;
	kl->off[kl->n] = kl->used;
	return DDI_EOK;
}

static int zone_keys(struct cctx *c, const struct zrec *z, struct keylist *kl)
{
	struct subzones sz;
	struct zscan zs = { 0 };
	int rc = subzones_load(c->s, c->txn, z->key, z->klen - 1, &sz, c->err);
	memset(kl, 0, sizeof(*kl));
	if (rc)
		return rc;
	if ((rc = mdb_cursor_open(c->txn, c->s->rrsets, &zs.cur)) != 0) {
		subzones_free(&sz);
		return c_mdb(c, rc, "rrsets");
	}
	zs.ak = z->key;
	zs.aklen = z->klen - 1;
	zs.sz = &sz;
	while ((rc = zscan_next(&zs)) == 1) {
		if (keylist_add(kl, zs.k.mv_data, zs.k.mv_size) != 0) {
			rc = DDI_ENOMEM;
			break;
		}
	}
	mdb_cursor_close(zs.cur);
	subzones_free(&sz);
	if (rc < 0) {
		keylist_free(kl);
		return seterr(c->err, rc, c->op, "rrsets scan: %s", ddi_strerror(rc));
	}
	return DDI_EOK;
}

/* Delete one RRset given its full key (addresses kept in step). */
static int rrset_delete_key(struct cctx *c, const uint8_t *rk, size_t rklen)
{
	uint16_t oldcount;
	return rrset_write(c, rk, rklen - 3, dns_get16(rk + rklen - 2), 0, 0, NULL, 0, &oldcount,
	                   NULL);
}

/* No data of the enclosing zone may sit at or below a new apex. */
static int zone_add_check(struct cctx *c, const uint8_t *apex, const uint8_t *ak, size_t aklen)
{
	char nb[DNS_NAME_STRLEN], pb[DNS_NAME_STRLEN];
	struct zrec parent;
	int rc = zone_find(c->s, c->txn, ak, aklen, &parent, c->err);
	if (rc == DDI_ENOENT)
		return DDI_EOK;   /* no enclosing zone: nothing can be below */
	if (rc)
		return rc;
	struct subzones sz;
	struct zscan zs = { 0 };
	if ((rc = subzones_load(c->s, c->txn, ak, aklen, &sz, c->err)) != 0)
		return rc;
	if ((rc = mdb_cursor_open(c->txn, c->s->rrsets, &zs.cur)) != 0) {
		subzones_free(&sz);
		return c_mdb(c, rc, "rrsets");
	}
	zs.ak = ak;
	zs.aklen = aklen;
	zs.sz = &sz;
	rc = zscan_next(&zs);
	mdb_cursor_close(zs.cur);
	subzones_free(&sz);
	if (rc < 0)
		return seterr(c->err, rc, c->op, "rrsets scan: %s", ddi_strerror(rc));
	if (rc == 1)
		return seterr(c->err, DDI_EEXIST, c->op,
		              "zone %s holds names at or below %s: remove them first",
		              nstr(pb, parent.apex), nstr(nb, apex));
	return DDI_EOK;
}

static int zone_create(struct cctx *c, const uint8_t *apex, uint32_t flags, struct zrec *z)
{
	uint8_t val[ZVAL_HDR + DNS_NAME_MAXLEN];
	size_t nlen = dns_name_len(apex);
	val[0] = ZVAL_VERSION;
	dns_put32(val + 1, flags);
	put64(val + 5, (uint64_t)now_ns());
	memcpy(val + ZVAL_HDR, apex, nlen);
	dns_name_lower(val + ZVAL_HDR);
	z->klen = zkey_make(z->key, apex);
	MDB_val k = { z->klen, z->key }, v = { ZVAL_HDR + nlen, val };
	if (!zrec_parse(&k, &v, z))
		return seterr(c->err, DDI_EINVAL, c->op, "bad apex");
	int rc = mdb_put(c->txn, c->s->zones, &k, &v, MDB_NOOVERWRITE);
	return rc ? c_mdb(c, rc, "zones") : DDI_EOK;
}

static int op_zone_add(struct cctx *c, const struct store_op *op)
{
	char nb[DNS_NAME_STRLEN];
	struct zrec z;
	if (!op->zone || dns_name_check(op->zone, DNS_NAME_MAXLEN) <= 0)
		return seterr(c->err, DDI_EINVAL, c->op, "op %ld: no valid zone name", c->op);
	z.klen = zkey_make(z.key, op->zone);
	int rc = zone_read(c->s, c->txn, z.key, z.klen, &z, c->err);
	if (rc == DDI_EOK)
		return seterr(c->err, DDI_EEXIST, c->op, "zone %s exists", nstr(nb, op->zone));
	if (rc != DDI_ENOENT)
		return rc;
	if ((rc = zone_add_check(c, op->zone, z.key, z.klen - 1)) != 0)
		return rc;
	if ((rc = zone_create(c, op->zone, op->zone_flags, &z)) != 0)
		return rc;
	struct tzone *tz = touch_zone(c, &z);
	if (!tz)
		return c_nomem(c);
	tz->added = true;
	tz->removed = false;
	return journal_op(c, STORE_J_ZONE_ADD, z.apex, z.apex, 0, 0, 0);
}

static int op_zone_remove(struct cctx *c, const struct store_op *op)
{
	char nb[DNS_NAME_STRLEN];
	struct zrec z;
	struct keylist kl;
	if (!op->zone || dns_name_check(op->zone, DNS_NAME_MAXLEN) <= 0)
		return seterr(c->err, DDI_EINVAL, c->op, "op %ld: no valid zone name", c->op);
	z.klen = zkey_make(z.key, op->zone);
	int rc = zone_read(c->s, c->txn, z.key, z.klen, &z, c->err);
	if (rc == DDI_ENOENT) {
		if (op->flags & STORE_OPF_MISSING_OK)
			return DDI_EOK;
		return seterr(c->err, DDI_ENOZONE, c->op, "no zone %s", nstr(nb, op->zone));
	}
	if (rc)
		return rc;
	if ((rc = zone_keys(c, &z, &kl)) != 0)
		return rc;
	for (size_t i = 0; i < kl.n && rc == 0; i++)
		rc = rrset_delete_key(c, kl.arena + kl.off[i], kl.off[i + 1] - kl.off[i]);
	size_t n = kl.n;
	keylist_free(&kl);
	if (rc)
		return rc;
	MDB_val k = { z.klen, z.key };
	if ((rc = mdb_del(c->txn, c->s->zones, &k, NULL)) != 0)
		return c_mdb(c, rc, "zones");
	struct tzone *tz = touch_zone(c, &z);
	if (!tz)
		return c_nomem(c);
	tz->removed = true;
	tz->added = false;
	return journal_op(c, STORE_J_ZONE_REMOVE, z.apex, z.apex, 0, n, 0);
}

/* ZONE_REPLACE: one entry per record, sorted by RRset key. */
struct rent {
	uint32_t idx;     /* position in op->rrs: file order, the tie-break */
	uint32_t koff;    /* RRset key in the arena */
	uint16_t klen;
};

static int rent_cmp(const void *a, const void *b, void *arena)
{
	const struct rent *x = a, *y = b;
	const uint8_t *ar = arena;
	size_t l = x->klen < y->klen ? x->klen : y->klen;
	int r = memcmp(ar + x->koff, ar + y->koff, l);
	if (r)
		return r;
	if (x->klen != y->klen)
		return x->klen < y->klen ? -1 : 1;
	return x->idx < y->idx ? -1 : x->idx > y->idx;
}

static int op_zone_replace(struct cctx *c, const struct store_op *op)
{
	char nb[DNS_NAME_STRLEN], zb[DNS_NAME_STRLEN];
	struct zrec z;
	struct subzones sz = { 0 };
	struct keylist old = { 0 };
	struct rent *ents = NULL;
	uint8_t *arena = NULL;
	bool existed;
	uint32_t old_serial = 0;
	bool had_soa = false;
	uint64_t nnew = 0, nchanged = 0;
	uint8_t soabuf[2 + 2 * DNS_NAME_MAXLEN + 20];   /* one [rdlen rdata] SOA item */
	size_t soalen = 0;
	uint32_t soattl = 0;
	bool soa_stale = false;   /* the new SOA's serial is not newer than the stored one */
	int rc;

	if (!op->zone || dns_name_check(op->zone, DNS_NAME_MAXLEN) <= 0)
		return seterr(c->err, DDI_EINVAL, c->op, "op %ld: no valid zone name", c->op);
	if (op->nrrs > UINT32_MAX / 2 || (op->nrrs && !op->rrs))
		return seterr(c->err, DDI_EINVAL, c->op, "op %ld: bad record list", c->op);
	z.klen = zkey_make(z.key, op->zone);
	rc = zone_read(c->s, c->txn, z.key, z.klen, &z, c->err);
	if (rc && rc != DDI_ENOENT)
		return rc;
	existed = rc == DDI_EOK;
	if (existed) {
		struct rrval soa;
		rc = rrset_read(c, z.key, z.klen - 1, DNS_T_SOA, &soa);
		if (rc && rc != DDI_ENOENT)
			return rc;
		if (rc == DDI_EOK) {
			had_soa = true;
			old_serial = dns_soa_serial(soa.rdatas + 2, dns_get16(soa.rdatas));
		}
	}
	if ((rc = subzones_load(c->s, c->txn, z.key, z.klen - 1, &sz, c->err)) != 0)
		return rc;

	/* 1. every record on its own: name, zone, type, TTL, rdata */
	size_t acap = 4096, aused = 0;
	ents = malloc((op->nrrs ? op->nrrs : 1) * sizeof(*ents));
	arena = malloc(acap);
	if (!ents || !arena) {
		rc = c_nomem(c);
		goto out;
	}
	for (size_t i = 0; i < op->nrrs; i++) {
		const struct store_rr *rr = &op->rrs[i];
		if (!rr->owner || dns_name_check(rr->owner, DNS_NAME_MAXLEN) <= 0) {
			rc = seterr(c->err, DDI_EINVAL, c->op, "record %zu: no valid owner name", i + 1);
			goto out;
		}
		if (!dns_name_is_sub(rr->owner, op->zone)) {
			rc = seterr(c->err, DDI_EOUTZONE, c->op, "%s is outside the zone %s",
			            nstr(nb, rr->owner), nstr(zb, op->zone));
			goto out;
		}
		if (!type_storable(rr->type)) {
			rc = seterr(c->err, DDI_ERDATA, c->op, "%s: type %s cannot be stored",
			            nstr(nb, rr->owner), dns_type_name(rr->type));
			goto out;
		}
		if (rr->ttl > STORE_TTL_MAX) {
			rc = seterr(c->err, DDI_ETTL, c->op, "%s %s: TTL %u is above 2^31-1",
			            nstr(nb, rr->owner), dns_type_name(rr->type), rr->ttl);
			goto out;
		}
		if ((rr->rdlen && !rr->rdata) ||
		    dns_rdata_check(rr->type, rr->rdata, rr->rdlen) != DDI_EOK) {
			rc = seterr(c->err, DDI_ERDATA, c->op, "%s %s: rdata is not valid for the type",
			            nstr(nb, rr->owner), dns_type_name(rr->type));
			goto out;
		}
		if (aused + RKEY_MAX > acap) {
			uint8_t *na = realloc(arena, acap * 2);
			if (!na) {
				rc = c_nomem(c);
				goto out;
			}
			arena = na;
			acap *= 2;
		}
		int kl = dns_name_to_key(arena + aused, rr->owner);
		long sub = subzones_match(&sz, arena + aused, (size_t)kl);
		if (sub >= 0) {
			uint8_t sn[DNS_NAME_MAXLEN];
			if (dns_key_to_name(sn, sz.v[sub].key, sz.v[sub].len) < 0)
				sn[0] = 0;
			rc = seterr(c->err, DDI_EOUTZONE, c->op, "%s belongs to the zone %s",
			            nstr(nb, rr->owner), nstr(zb, sn));
			goto out;
		}
		if (rr->type == DNS_T_SOA && (size_t)kl + 1 != z.klen) {
			rc = seterr(c->err, DDI_ESOA, c->op, "%s: an SOA belongs only at the apex %s",
			            nstr(nb, rr->owner), nstr(zb, op->zone));
			goto out;
		}
		ents[i].idx = (uint32_t)i;
		ents[i].koff = (uint32_t)aused;
		arena[aused + (size_t)kl] = 0;   /* K(owner) is in place: add 0x00 type */
		dns_put16(arena + aused + (size_t)kl + 1, rr->type);
		ents[i].klen = (uint16_t)(kl + 3);
		aused += ents[i].klen;
	}

	/* 2. group into RRsets and names; check names as wholes */
	qsort_r(ents, op->nrrs, sizeof(*ents), rent_cmp, arena);
	bool soa_seen = false;
	for (size_t i = 0; i < op->nrrs;) {
		/* one owner: [i, j) */
		size_t oklen = ents[i].klen - 3u, j = i, nrrsets = 0;
		const uint8_t *ok = arena + ents[i].koff;
		const struct store_rr *first = &op->rrs[ents[i].idx];
		bool cname = false, other = false;
		while (j < op->nrrs && ents[j].klen == oklen + 3 &&
		       memcmp(arena + ents[j].koff, ok, oklen + 1) == 0) {
			size_t k = j;
			uint16_t type = op->rrs[ents[j].idx].type;
			while (k < op->nrrs && ents[k].klen == ents[j].klen &&
			       memcmp(arena + ents[k].koff, arena + ents[j].koff, ents[j].klen) == 0)
				k++;
			/* one RRset: [j, k) */
			nrrsets++;
			if (k - j > c->s->max_rrs) {
				rc = seterr(c->err, DDI_ELIMIT, c->op, "%s %s: %zu records, the limit is %u",
				            nstr(nb, first->owner), dns_type_name(type), k - j,
				            c->s->max_rrs);
				goto out;
			}
			if (type == DNS_T_CNAME) {
				cname = true;
				if (k - j > 1)
					other = true;
			} else if (type != DNS_T_RRSIG && type != DNS_T_NSEC) {
				other = true;
			}
			if (type == DNS_T_SOA) {
				/* duplicates of one SOA are one record (RFC 2181 5) */
				for (size_t m = j + 1; m < k; m++) {
					const struct store_rr *a = &op->rrs[ents[j].idx];
					const struct store_rr *b = &op->rrs[ents[m].idx];
					if (a->rdlen != b->rdlen || memcmp(a->rdata, b->rdata, a->rdlen) != 0) {
						rc = seterr(c->err, DDI_ESOA, c->op,
						            "%s: more than one SOA", nstr(nb, first->owner));
						goto out;
					}
				}
				soa_seen = true;
			}
			j = k;
		}
		if (cname && other) {
			rc = seterr(c->err, DDI_ECNAME, c->op,
			            "%s: a CNAME cannot be beside other data or another CNAME",
			            nstr(nb, first->owner));
			goto out;
		}
		if (nrrsets > c->s->max_rrsets) {
			rc = seterr(c->err, DDI_ELIMIT, c->op, "%s: %zu RRsets, the limit is %u",
			            nstr(nb, first->owner), nrrsets, c->s->max_rrsets);
			goto out;
		}
		i = j;
	}
	if (!soa_seen) {
		rc = seterr(c->err, DDI_ESOA, c->op, "zone %s has no SOA at its apex",
		            nstr(zb, op->zone));
		goto out;
	}

	/* 3. write: create the zone, delete RRsets that are gone, store the rest */
	if (!existed) {
		if ((rc = zone_add_check(c, op->zone, z.key, z.klen - 1)) != 0 ||
		    (rc = zone_create(c, op->zone, op->zone_flags, &z)) != 0)
			goto out;
	}
	if ((rc = zone_keys(c, &z, &old)) != 0)
		goto out;
	size_t oi = 0;
	for (size_t i = 0; i < op->nrrs;) {
		const uint8_t *rk = arena + ents[i].koff;
		size_t rkl = ents[i].klen, j = i;
		/* old RRsets sorting before this one are gone */
		for (; oi < old.n; oi++) {
			const uint8_t *ok = old.arena + old.off[oi];
			size_t okl = old.off[oi + 1] - old.off[oi], l = okl < rkl ? okl : rkl;
			int r = memcmp(ok, rk, l);
			if (r > 0 || (r == 0 && okl >= rkl))
				break;
			if ((rc = rrset_delete_key(c, ok, okl)) != 0)
				goto out;
			nchanged++;
		}
		if (oi < old.n && old.off[oi + 1] - old.off[oi] == rkl &&
		    memcmp(old.arena + old.off[oi], rk, rkl) == 0)
			oi++;   /* replaced below */
		size_t len = 0;
		uint32_t count = 0;
		const struct store_rr *first = &op->rrs[ents[i].idx];
		for (; j < op->nrrs && ents[j].klen == rkl && memcmp(arena + ents[j].koff, rk, rkl) == 0;
		     j++) {
			const struct store_rr *rr = &op->rrs[ents[j].idx];
			uint8_t item[2];
			dns_put16(item, rr->rdlen);
			/* [rdlen rdata] items; duplicates dropped (RFC 2181 5) */
			bool dup = false;
			for (size_t off = 0; off < len;) {
				size_t l = 2 + (size_t)dns_get16(c->buf + off);
				if (l == 2u + rr->rdlen && memcmp(c->buf + off + 2, rr->rdata, rr->rdlen) == 0) {
					dup = true;
					break;
				}
				off += l;
			}
			if (dup)
				continue;
			if ((rc = buf_need(c, len + 2 + rr->rdlen)) != 0)
				goto out;
			memcpy(c->buf + len, item, 2);
			memcpy(c->buf + len + 2, rr->rdata, rr->rdlen);
			len += 2 + (size_t)rr->rdlen;
			count++;
		}
		if (first->type == DNS_T_SOA && len <= sizeof(soabuf)) {
			/*
			 * A serial that is not newer than the stored one is taken as
			 * the stored one, so that importing the same content again
			 * is no change; if anything did change, the serial advances
			 * below, once all changes are known.
			 */
			uint16_t sl = dns_get16(c->buf);
			if (had_soa && !serial_gt(dns_soa_serial(c->buf + 2, sl), old_serial)) {
				dns_soa_set_serial(c->buf + 2, sl, old_serial);
				soa_stale = true;
			}
			soalen = len;
			soattl = first->ttl;
			memcpy(soabuf, c->buf, len);
		}
		uint16_t oldcount;
		bool changed;
		/* the TTL of an RRset is its first record's in file order (RFC 2181 5.2) */
		if ((rc = rrset_write(c, rk, rkl - 3, first->type, first->ttl, (uint16_t)count, c->buf,
		                      len, &oldcount, &changed)) != 0)
			goto out;
		nchanged += changed;
		nnew++;
		i = j;
	}
	for (; oi < old.n; oi++, nchanged++)
		if ((rc = rrset_delete_key(c, old.arena + old.off[oi], old.off[oi + 1] - old.off[oi])) != 0)
			goto out;
	if (nchanged && soa_stale) {
		uint8_t *soa = soabuf + 2;
		uint16_t sl = dns_get16(soabuf);
		{
			/* content changed under a serial secondaries already have */
			uint16_t oldcount;
			dns_soa_set_serial(soa, sl, old_serial + 1);
			if ((rc = rrset_write(c, z.key, z.klen - 1, DNS_T_SOA, soattl, 1, soabuf, soalen,
			                      &oldcount, NULL)) != 0 ||
			    (rc = journal_op(c, STORE_J_SERIAL, z.apex, z.apex, DNS_T_SOA, old_serial,
			                     (uint32_t)(old_serial + 1))) != 0)
				goto out;
		}
	}

	struct tzone *tz = touch_zone(c, &z);
	if (!tz) {
		rc = c_nomem(c);
		goto out;
	}
	tz->soa_explicit = true;
	tz->removed = false;
	if (nchanged) {
		tz->changed = true;
		rc = journal_op(c, STORE_J_ZONE_REPLACE, z.apex, z.apex, 0, old.n, nnew);
	}
out:
	keylist_free(&old);
	subzones_free(&sz);
	free(ents);
	free(arena);
	return rc;
}

/* Checks of one name after all ops: CNAME alone, RRsets per name. */
static int owner_check(struct cctx *c, const struct towner *t)
{
	uint8_t pk[DNS_KEY_MAXLEN + 1], name[DNS_NAME_MAXLEN];
	char nb[DNS_NAME_STRLEN];
	MDB_cursor *cur;
	MDB_val k, v;
	size_t n = 0;
	bool cname = false, other = false;
	int rc = mdb_cursor_open(c->txn, c->s->rrsets, &cur);
	if (rc)
		return c_mdb(c, rc, "rrsets");
	memcpy(pk, t->key, t->len);
	pk[t->len] = 0;
	k.mv_size = t->len + 1u;
	k.mv_data = pk;
	for (rc = mdb_cursor_get(cur, &k, &v, MDB_SET_RANGE);
	     rc == 0 && k.mv_size == t->len + 3u && has_prefix(&k, pk, t->len + 1u);
	     rc = mdb_cursor_get(cur, &k, &v, MDB_NEXT)) {
		uint16_t type = dns_get16((uint8_t *)k.mv_data + t->len + 1);
		n++;
		if (type == DNS_T_CNAME) {
			cname = true;
			if (v.mv_size >= RRVAL_HDR && dns_get16((uint8_t *)v.mv_data + 4) > 1)
				other = true;
		} else if (type != DNS_T_RRSIG && type != DNS_T_NSEC) {
			other = true;
		}
	}
	mdb_cursor_close(cur);
	if (rc && rc != MDB_NOTFOUND)
		return c_mdb(c, rc, "rrsets");
	if (dns_key_to_name(name, t->key, t->len) < 0)
		name[0] = 0;
	if (cname && other)
		return seterr(c->err, DDI_ECNAME, t->op,
		              "%s: a CNAME cannot be beside other data or another CNAME",
		              nstr(nb, name));
	if (n > c->s->max_rrsets)
		return seterr(c->err, DDI_ELIMIT, t->op, "%s: %zu RRsets, the limit is %u",
		              nstr(nb, name), n, c->s->max_rrsets);
	return DDI_EOK;
}

/* By key, then the latest op first. */
static int towner_cmp(const void *a, const void *b)
{
	const struct towner *x = a, *y = b;
	if (x->len != y->len)
		return x->len < y->len ? -1 : 1;
	int r = memcmp(x->key, y->key, x->len);
	if (r)
		return r;
	return x->op > y->op ? -1 : x->op < y->op;
}

/* After all ops: each zone still there has one SOA; advance serials. */
static int zone_finish(struct cctx *c, struct tzone *tz)
{
	char zb[DNS_NAME_STRLEN];
	struct rrval soa;
	uint16_t oldcount;
	int rc = rrset_read(c, tz->z.key, tz->z.klen - 1, DNS_T_SOA, &soa);
	if (rc == DDI_ENOENT)
		return seterr(c->err, DDI_ESOA, tz->op, "zone %s has no SOA at its apex",
		              nstr(zb, tz->z.apex));
	if (rc) {
		c->err->op = tz->op;
		return rc;
	}
	if (soa.count != 1)
		return seterr(c->err, DDI_ESOA, tz->op, "zone %s has %u SOA records",
		              nstr(zb, tz->z.apex), soa.count);
	if (tz->soa_explicit || tz->added || !tz->changed)
		return DDI_EOK;
	if ((rc = buf_need(c, soa.len)) != 0)
		return rc;
	memcpy(c->buf, soa.rdatas, soa.len);
	uint16_t sl = dns_get16(c->buf);
	uint32_t old = dns_soa_serial(c->buf + 2, sl), nw = old + 1;
	if (tz->z.flags & STORE_ZONE_SERIAL_UNIXTIME) {
		uint32_t now = (uint32_t)(now_ns() / 1000000000);
		if (serial_gt(now, nw))
			nw = now;
	}
	dns_soa_set_serial(c->buf + 2, sl, nw);
	c->op = tz->op;
	if ((rc = rrset_write(c, tz->z.key, tz->z.klen - 1, DNS_T_SOA, soa.ttl, 1, c->buf, soa.len,
	                      &oldcount, NULL)) != 0)
		return rc;
	return journal_op(c, STORE_J_SERIAL, tz->z.apex, tz->z.apex, DNS_T_SOA, old, nw);
}

static int journal_write(struct cctx *c, const char *actor, uint64_t *seqp)
{
	uint64_t seq;
	int rc = meta_get64(c->s, c->txn, "next_seq", &seq, c->err);
	if (rc)
		return rc;
	if (seq == 0 || seq == UINT64_MAX)
		return seterr(c->err, DDI_ECORRUPT, -1, "meta next_seq is %llu",
		              (unsigned long long)seq);
	if (json_array_size(c->jops) == 0 && json_array_size(c->jipam) == 0) {
		/* nothing changed: no entry; the caller sees the last seq */
		if (seqp)
			*seqp = seq - 1;
		return DDI_EOK;
	}
	json_t *e = json_pack("{s:i, s:I, s:I, s:s, s:O}", "v", JOURNAL_VERSION, "seq",
	                      (json_int_t)seq, "time", (json_int_t)now_ns(), "actor", actor, "ops",
	                      c->jops);
	if (!e)
		return seterr(c->err, DDI_EINVAL, -1, "journal entry: actor is not valid UTF-8");
	if (e && json_array_size(c->jipam))
		json_object_set(e, "ipam", c->jipam);
	char *text = json_dumps(e, JSON_COMPACT);
	json_decref(e);
	if (!text)
		return c_nomem(c);
	uint8_t kb[8];
	put64(kb, seq);
	MDB_val k = { 8, kb }, v = { strlen(text), text };
	rc = mdb_put(c->txn, c->s->journal, &k, &v, MDB_NOOVERWRITE);
	free(text);
	if (rc)
		return c_mdb(c, rc, "journal");
	if ((rc = meta_put64(c->s, c->txn, "next_seq", seq + 1, c->err)) != 0)
		return rc;
	if (seqp)
		*seqp = seq;
	return DDI_EOK;
}

static int op_key(struct cctx *c, const struct store_op *op);

int store_commit(struct store *s, const char *actor, const struct store_op *ops, size_t nops,
                 uint64_t *seq, struct store_error *err)
{
	struct store_error localerr;
	struct cctx c = { .s = s, .err = err ? err : &localerr, .op = -1 };
	int rc;

	clearerr_(c.err);
	if (!actor || strlen(actor) > ACTOR_MAX)
		return seterr(c.err, DDI_EINVAL, -1, "actor missing or longer than %d bytes", ACTOR_MAX);
	if (nops && !ops)
		return seterr(c.err, DDI_EINVAL, -1, "no ops");
	c.jops = json_array();
	if (!c.jops)
		return seterr(c.err, DDI_ENOMEM, -1, "out of memory");
	if ((rc = txn_begin(s, 0, &c.txn)) != 0) {
		json_decref(c.jops);
		return mdb_fail(c.err, rc, "write transaction");
	}
	for (size_t i = 0; i < nops && rc == 0; i++) {
		c.op = (long)i;
		switch (ops[i].kind) {
		case STORE_OP_ZONE_ADD:
			rc = op_zone_add(&c, &ops[i]);
			break;
		case STORE_OP_ZONE_REMOVE:
			rc = op_zone_remove(&c, &ops[i]);
			break;
		case STORE_OP_ZONE_REPLACE:
			rc = op_zone_replace(&c, &ops[i]);
			break;
		case STORE_OP_RRSET_REPLACE:
		case STORE_OP_RRSET_DELETE:
		case STORE_OP_RR_ADD:
		case STORE_OP_RR_DELETE:
			rc = op_rrset(&c, &ops[i]);
			break;
		case STORE_OP_KEY_ADD:
		case STORE_OP_KEY_REMOVE:
		case STORE_OP_POLICY_SET:
			rc = op_key(&c, &ops[i]);
			break;
		default:
			rc = seterr(c.err, DDI_EINVAL, c.op, "op %zu: unknown kind %d", i, ops[i].kind);
		}
	}
	if (rc == 0)
		rc = ipam_policy_check(&c, ops, nops, 0);
	/* each name once, blamed on the last op that touched it */
	if (c.nowners > 1)
		qsort(c.owners, c.nowners, sizeof(*c.owners), towner_cmp);
	for (size_t i = 0; i < c.nowners && rc == 0; i++)
		if (i == 0 || c.owners[i - 1].len != c.owners[i].len ||
		    memcmp(c.owners[i - 1].key, c.owners[i].key, c.owners[i].len) != 0)
			rc = owner_check(&c, &c.owners[i]);
	for (size_t i = 0; i < c.nzones && rc == 0; i++)
		if (!c.zones[i].removed)
			rc = zone_finish(&c, &c.zones[i]);
	if (rc == 0)
		rc = journal_write(&c, actor, seq);
	if (rc == 0) {
		rc = mdb_txn_commit(c.txn);
		if (rc)
			rc = mdb_fail(c.err, rc, "commit");
	} else {
		mdb_txn_abort(c.txn);
	}
	json_decref(c.jops);
	json_decref(c.jipam);
	free(c.zones);
	free(c.owners);
	free(c.buf);
	return rc;
}

/* ------------------------------------------------------------------------ */
/* Import                                                                   */
/* ------------------------------------------------------------------------ */

struct collect {
	struct store_rr *rrs;
	size_t n, cap;
	uint8_t **chunks;     /* record data lives in chunks that never move */
	size_t nchunks, chunkcap, used, size;
};

#define CHUNK_SIZE (1u << 20)

static void *collect_alloc(struct collect *cl, size_t n)
{
	if (cl->nchunks == 0 || cl->size - cl->used < n) {
		size_t sz = n > CHUNK_SIZE ? n : CHUNK_SIZE;
		if (cl->nchunks == cl->chunkcap) {
			size_t nc = cl->chunkcap ? cl->chunkcap * 2 : 16;
			uint8_t **ncs = realloc(cl->chunks, nc * sizeof(*ncs));
			if (!ncs)
				return NULL;
			cl->chunks = ncs;
			cl->chunkcap = nc;
		}
		uint8_t *ch = malloc(sz);
		if (!ch)
			return NULL;
		cl->chunks[cl->nchunks++] = ch;
		cl->used = 0;
		cl->size = sz;
	}
	void *p = cl->chunks[cl->nchunks - 1] + cl->used;
	cl->used += n;
	return p;
}

static int collect_cb(void *ctx, const struct dns_rr *rr)
{
	struct collect *cl = ctx;
	if (cl->n == cl->cap) {
		size_t nc = cl->cap ? cl->cap * 2 : 256;
		struct store_rr *nr = realloc(cl->rrs, nc * sizeof(*nr));
		if (!nr)
			return DDI_ENOMEM;
		cl->rrs = nr;
		cl->cap = nc;
	}
	size_t nl = dns_name_len(rr->owner);
	uint8_t *p = collect_alloc(cl, nl + rr->rdlen);
	if (!p)
		return DDI_ENOMEM;
	memcpy(p, rr->owner, nl);
	memcpy(p + nl, rr->rdata, rr->rdlen);
	cl->rrs[cl->n++] = (struct store_rr){ .owner = p, .type = rr->type, .ttl = rr->ttl,
	                                      .rdlen = rr->rdlen, .rdata = p + nl };
	return 0;
}

static void collect_free(struct collect *cl)
{
	for (size_t i = 0; i < cl->nchunks; i++)
		free(cl->chunks[i]);
	free(cl->chunks);
	free(cl->rrs);
}

int store_zone_import(struct store *s, const char *actor, const uint8_t *origin, const char *path,
                      uint64_t *seq, struct store_error *err)
{
	struct collect cl = { 0 };
	struct zf_error zerr;
	struct zf_options zo = { .origin = origin, .require_in_zone = true, .allow_include = false };
	clearerr_(err);
	if (!origin || dns_name_check(origin, DNS_NAME_MAXLEN) <= 0)
		return seterr(err, DDI_EINVAL, -1, "no valid origin");
	memset(&zerr, 0, sizeof(zerr));
	int rc = zf_read_file(path, &zo, collect_cb, &cl, &zerr);
	if (rc) {
		if (rc == DDI_ENOMEM && !zerr.msg[0])
			seterr(err, rc, -1, "%s: out of memory", path);
		else if (zerr.line)
			seterr(err, rc, -1, "%s:%u: %s", zerr.file[0] ? zerr.file : path, zerr.line,
			       zerr.msg[0] ? zerr.msg : ddi_strerror(rc));
		else
			seterr(err, rc, -1, "%s: %s", zerr.file[0] ? zerr.file : path,
			       zerr.msg[0] ? zerr.msg : ddi_strerror(rc));
		collect_free(&cl);
		return rc;
	}
	struct store_op op = { .kind = STORE_OP_ZONE_REPLACE, .zone = origin, .rrs = cl.rrs,
	                       .nrrs = cl.n };
	rc = store_commit(s, actor, &op, 1, seq, err);
	if (rc && err) {
		char tmp[sizeof(err->msg)];
		memcpy(tmp, err->msg, sizeof(tmp));
		if (snprintf(err->msg, sizeof(err->msg), "%s: %s", path, tmp) >= (int)sizeof(err->msg))
			err->msg[sizeof(err->msg) - 2] = '~';   /* cut: say so */
	}
	collect_free(&cl);
	return rc;
}

/* ------------------------------------------------------------------------ */
/* Reading                                                                  */
/* ------------------------------------------------------------------------ */

/* Validate one rrsets entry read from the store; fills owner (cached by key), type, value. */
struct rread {
	uint8_t owner[DNS_NAME_MAXLEN];
	uint8_t okey[DNS_KEY_MAXLEN];
	size_t oklen;   /* SIZE_MAX: nothing cached */
	uint16_t type;
	struct rrval val;
};

static int rread_entry(struct rread *r, const MDB_val *k, const MDB_val *v, struct store_error *err)
{
	char hb[128];
	size_t oklen;
	uint16_t type;
	if (!rkey_split(k, &oklen, &type) || !type_storable(type))
		return seterr(err, DDI_ECORRUPT, -1, "rrsets key %s does not validate",
		              khex(hb, k->mv_data, k->mv_size));
	if (oklen != r->oklen || memcmp(r->okey, k->mv_data, oklen) != 0) {
		if (!key_to_name(r->owner, k->mv_data, oklen)) {
			r->oklen = SIZE_MAX;
			return seterr(err, DDI_ECORRUPT, -1, "rrsets key %s holds no valid name",
			              khex(hb, k->mv_data, k->mv_size));
		}
		memcpy(r->okey, k->mv_data, oklen);
		r->oklen = oklen;
	}
	r->type = type;
	if (!rrval_parse(v, type, &r->val))
		return seterr(err, DDI_ECORRUPT, -1, "rrsets value of key %s does not validate",
		              khex(hb, k->mv_data, k->mv_size));
	return DDI_EOK;
}

static int zone_walk_txn(struct store *s, MDB_txn *txn, const struct zrec *z, store_rrset_cb cb,
                         void *ctx, struct store_error *err)
{
	struct subzones sz;
	struct zscan zs = { 0 };
	struct rread *r = malloc(sizeof(*r));
	int rc;
	if (!r)
		return seterr(err, DDI_ENOMEM, -1, "out of memory");
	r->oklen = SIZE_MAX;
	if ((rc = subzones_load(s, txn, z->key, z->klen - 1, &sz, err)) != 0) {
		free(r);
		return rc;
	}
	if ((rc = mdb_cursor_open(txn, s->rrsets, &zs.cur)) != 0) {
		subzones_free(&sz);
		free(r);
		return mdb_fail(err, rc, "rrsets");
	}
	zs.ak = z->key;
	zs.aklen = z->klen - 1;
	zs.sz = &sz;
	while ((rc = zscan_next(&zs)) == 1) {
		if ((rc = rread_entry(r, &zs.k, &zs.v, err)) != 0)
			break;
		rc = cb(ctx, r->owner, r->type, r->val.ttl, r->val.count, r->val.rdatas, r->val.len);
		if (rc)
			break;
	}
	if (rc < 0 && err && err->code == DDI_EOK)
		seterr(err, rc, -1, "%s", ddi_strerror(rc));
	mdb_cursor_close(zs.cur);
	subzones_free(&sz);
	free(r);
	return rc;
}

/*
 * Open a read transaction and read the zone `apex` into *z. On success the
 * caller owns *txn (mdb_txn_abort); on error nothing is left open.
 * Errors: DDI_EINVAL (bad name), DDI_ENOZONE, LMDB and validation errors.
 */
static int zone_open_read(struct store *s, const uint8_t *apex, MDB_txn **txn, struct zrec *z,
                          struct store_error *err)
{
	char nb[DNS_NAME_STRLEN];
	clearerr_(err);
	if (!apex || dns_name_check(apex, DNS_NAME_MAXLEN) <= 0)
		return seterr(err, DDI_EINVAL, -1, "no valid zone name");
	int rc = txn_begin(s, MDB_RDONLY, txn);
	if (rc)
		return mdb_fail(err, rc, "read transaction");
	z->klen = zkey_make(z->key, apex);
	rc = zone_read(s, *txn, z->key, z->klen, z, err);
	if (rc == DDI_ENOENT)
		rc = seterr(err, DDI_ENOZONE, -1, "no zone %s", nstr(nb, apex));
	if (rc != 0)
		mdb_txn_abort(*txn);
	return rc;
}

int store_zone_walk(struct store *s, const uint8_t *apex, store_rrset_cb cb, void *ctx,
                    struct store_error *err)
{
	MDB_txn *txn;
	struct zrec z;
	int rc = zone_open_read(s, apex, &txn, &z, err);
	if (rc)
		return rc;
	rc = zone_walk_txn(s, txn, &z, cb, ctx, err);
	mdb_txn_abort(txn);
	return rc;
}

int store_rrset_get(struct store *s, const uint8_t *owner, uint16_t type, store_rrset_cb cb,
                    void *ctx, struct store_error *err)
{
	char nb[DNS_NAME_STRLEN];
	uint8_t pk[RKEY_MAX];
	struct rread r;
	MDB_txn *txn;
	MDB_cursor *cur;
	MDB_val k, v;
	size_t n = 0;
	int cbrc = 0;
	clearerr_(err);
	if (!owner || dns_name_check(owner, DNS_NAME_MAXLEN) <= 0)
		return seterr(err, DDI_EINVAL, -1, "no valid owner name");
	int rc = txn_begin(s, MDB_RDONLY, &txn);
	if (rc)
		return mdb_fail(err, rc, "read transaction");
	if ((rc = mdb_cursor_open(txn, s->rrsets, &cur)) != 0) {
		mdb_txn_abort(txn);
		return mdb_fail(err, rc, "rrsets");
	}
	size_t oklen = (size_t)dns_name_to_key(pk, owner);
	bool all = type == 0 || type == DNS_T_ANY;
	r.oklen = SIZE_MAX;
	pk[oklen] = 0;
	dns_put16(pk + oklen + 1, type);
	k.mv_size = all ? oklen + 1 : oklen + 3;
	k.mv_data = pk;
	for (rc = mdb_cursor_get(cur, &k, &v, all ? MDB_SET_RANGE : MDB_SET_KEY);
	     rc == 0 && k.mv_size == oklen + 3 && has_prefix(&k, pk, oklen + 1);
	     rc = mdb_cursor_get(cur, &k, &v, MDB_NEXT)) {
		if ((rc = rread_entry(&r, &k, &v, err)) != 0)
			break;
		n++;
		cbrc = cb(ctx, r.owner, r.type, r.val.ttl, r.val.count, r.val.rdatas, r.val.len);
		if (cbrc || !all) {
			rc = MDB_NOTFOUND;
			break;
		}
	}
	mdb_cursor_close(cur);
	mdb_txn_abort(txn);
	if (cbrc)
		return cbrc;
	if (rc == MDB_NOTFOUND || rc == 0) {
		if (n == 0)
			return seterr(err, DDI_ENOENT, -1, "%s has no %s%srecords", nstr(nb, owner),
			              all ? "" : dns_type_name(type), all ? "" : " ");
		return DDI_EOK;
	}
	if (rc > 0)
		return mdb_fail(err, rc, "rrsets");
	return rc;
}

struct export_ctx {
	FILE *out;
	bool soa_pass, soa_done;
};

static int export_rrset(void *ctx, const uint8_t *owner, uint16_t type, uint32_t ttl,
                        uint16_t count, const uint8_t *rdatas, size_t len)
{
	struct export_ctx *e = ctx;
	(void)count;
	if ((type == DNS_T_SOA) != e->soa_pass)
		return 0;
	if (e->soa_pass)
		e->soa_done = true;
	for (size_t off = 0; off + 2 <= len;) {
		uint16_t rdlen = dns_get16(rdatas + off);
		int rc = zf_write_rr(e->out, owner, type, ttl, rdatas + off + 2, rdlen);
		if (rc < 0)
			return rc;
		off += 2 + (size_t)rdlen;
	}
	return e->soa_pass ? 1 : 0;   /* the apex comes first: one SOA and stop */
}

int store_zone_export(struct store *s, const uint8_t *origin, FILE *out, struct store_error *err)
{
	char nb[DNS_NAME_STRLEN];
	struct export_ctx e = { .out = out, .soa_pass = true };
	MDB_txn *txn;
	struct zrec z;
	clearerr_(err);
	if (!origin || dns_name_check(origin, DNS_NAME_MAXLEN) <= 0)
		return seterr(err, DDI_EINVAL, -1, "no valid zone name");
	int rc = txn_begin(s, MDB_RDONLY, &txn);
	if (rc)
		return mdb_fail(err, rc, "read transaction");
	z.klen = zkey_make(z.key, origin);
	rc = zone_read(s, txn, z.key, z.klen, &z, err);
	if (rc == DDI_ENOENT)
		rc = seterr(err, DDI_ENOZONE, -1, "no zone %s", nstr(nb, origin));
	/* SOA first (only the apex has one), then everything else in canonical order */
	if (rc == 0)
		rc = zone_walk_txn(s, txn, &z, export_rrset, &e, err);
	if (rc == 1 || rc == 0) {
		e.soa_pass = false;
		rc = zone_walk_txn(s, txn, &z, export_rrset, &e, err);
	}
	mdb_txn_abort(txn);
	if (rc < 0 && err && err->code == DDI_EOK)
		seterr(err, rc, -1, "writing the zone: %s", ddi_strerror(rc));
	return rc;
}

static int zone_info_txn(struct store *s, MDB_txn *txn, const struct zrec *z, bool count,
                         struct store_zone_info *zi, struct store_error *err)
{
	struct cctx c = { .s = s, .txn = txn, .err = err, .op = -1 };
	struct store_error localerr;
	struct rrval soa;
	if (!err)
		c.err = &localerr;
	memset(zi, 0, sizeof(*zi));
	memcpy(zi->apex, z->apex, dns_name_len(z->apex));
	zi->flags = z->flags;
	zi->created_ns = z->created;
	int rc = rrset_read(&c, z->key, z->klen - 1, DNS_T_SOA, &soa);
	if (rc == DDI_EOK) {
		zi->has_soa = true;
		zi->serial = dns_soa_serial(soa.rdatas + 2, dns_get16(soa.rdatas));
	} else if (rc != DDI_ENOENT) {
		return rc;
	}
	if (count)
		return zone_count(s, txn, z, &zi->nrrsets, &zi->nrrs, err);
	return DDI_EOK;
}

int store_zone_get(struct store *s, const uint8_t *apex, bool count, struct store_zone_info *zi,
                   struct store_error *err)
{
	MDB_txn *txn;
	struct zrec z;
	int rc = zone_open_read(s, apex, &txn, &z, err);
	if (rc)
		return rc;
	rc = zone_info_txn(s, txn, &z, count, zi, err);
	mdb_txn_abort(txn);
	return rc;
}

int store_zone_list(struct store *s, bool count,
                    int (*cb)(void *ctx, const struct store_zone_info *z), void *ctx,
                    struct store_error *err)
{
	char hb[128];
	MDB_txn *txn;
	MDB_cursor *cur;
	MDB_val k, v;
	struct zrec z;
	struct store_zone_info zi;
	int cbrc = 0;
	clearerr_(err);
	int rc = txn_begin(s, MDB_RDONLY, &txn);
	if (rc)
		return mdb_fail(err, rc, "read transaction");
	if ((rc = mdb_cursor_open(txn, s->zones, &cur)) != 0) {
		mdb_txn_abort(txn);
		return mdb_fail(err, rc, "zones");
	}
	for (rc = mdb_cursor_get(cur, &k, &v, MDB_FIRST); rc == 0;
	     rc = mdb_cursor_get(cur, &k, &v, MDB_NEXT)) {
		if (!zrec_parse(&k, &v, &z)) {
			rc = seterr(err, DDI_ECORRUPT, -1, "zones entry %s does not validate",
			            khex(hb, k.mv_data, k.mv_size));
			break;
		}
		if ((rc = zone_info_txn(s, txn, &z, count, &zi, err)) != 0)
			break;
		if ((cbrc = cb(ctx, &zi)) != 0)
			break;
	}
	mdb_cursor_close(cur);
	mdb_txn_abort(txn);
	if (cbrc)
		return cbrc;
	if (rc == MDB_NOTFOUND)
		return DDI_EOK;
	if (rc > 0)
		return mdb_fail(err, rc, "zones");
	return rc;
}

int store_addr_owners(struct store *s, int family, const uint8_t *addr,
                      int (*cb)(void *ctx, const uint8_t *owner), void *ctx,
                      struct store_error *err)
{
	uint8_t ak[17], name[DNS_NAME_MAXLEN];
	char hb[128];
	int cbrc = 0;
	MDB_txn *txn;
	MDB_cursor *cur;
	MDB_val k, v;
	clearerr_(err);
	if (family != 4 && family != 6)
		return seterr(err, DDI_EINVAL, -1, "family must be 4 or 6");
	size_t kl = addr_key(ak, family == 4 ? DNS_T_A : DNS_T_AAAA, addr, family == 4 ? 4 : 16);
	int rc = txn_begin(s, MDB_RDONLY, &txn);
	if (rc)
		return mdb_fail(err, rc, "read transaction");
	if ((rc = mdb_cursor_open(txn, s->addrs, &cur)) != 0) {
		mdb_txn_abort(txn);
		return mdb_fail(err, rc, "addresses");
	}
	k.mv_size = kl;
	k.mv_data = ak;
	for (rc = mdb_cursor_get(cur, &k, &v, MDB_SET_KEY); rc == 0;
	     rc = mdb_cursor_get(cur, &k, &v, MDB_NEXT_DUP)) {
		if (v.mv_size > DNS_NAME_MAXLEN ||
		    dns_name_check(v.mv_data, v.mv_size) != (int)v.mv_size) {
			rc = seterr(err, DDI_ECORRUPT, -1, "addresses entry %s holds a bad name",
			            khex(hb, ak, kl));
			break;
		}
		memcpy(name, v.mv_data, v.mv_size);
		if ((cbrc = cb(ctx, name)) != 0)
			break;
	}
	mdb_cursor_close(cur);
	mdb_txn_abort(txn);
	if (cbrc)
		return cbrc;
	if (rc == MDB_NOTFOUND)
		return DDI_EOK;
	if (rc > 0)
		return mdb_fail(err, rc, "addresses");
	return rc;
}

/* ------------------------------------------------------------------------ */
/* Index load                                                               */
/* ------------------------------------------------------------------------ */

/* memcmp order, then length (LMDB's default key order). */
static int memn_cmp(const uint8_t *a, size_t al, const uint8_t *b, size_t bl)
{
	int r = memcmp(a, b, al < bl ? al : bl);
	return r ? r : (al > bl) - (al < bl);
}

/*
 * True when some zone (keys: K(apex) in order) is at or above the owner
 * key. *last caches the zone found last: consecutive owners share it.
 */
static bool zones_hold(const struct keylist *zk, size_t *last, const uint8_t *ok, size_t oklen)
{
	if (*last < zk->n) {
		size_t l = zk->off[*last + 1] - zk->off[*last];
		if (l <= oklen && memcmp(zk->arena + zk->off[*last], ok, l) == 0)
			return true;
	}
	for (size_t l = oklen + 1; l-- > 0;) {
		if (l > 0 && ok[l - 1] != 0)
			continue;   /* not a label boundary */
		size_t lo = 0, hi = zk->n;
		while (lo < hi) {
			size_t mid = lo + (hi - lo) / 2;
			int r = memn_cmp(zk->arena + zk->off[mid], zk->off[mid + 1] - zk->off[mid], ok, l);
			if (r == 0) {
				*last = mid;
				return true;
			}
			if (r < 0)
				lo = mid + 1;
			else
				hi = mid;
		}
	}
	return false;
}

/* The apexes of the zones an index holds (to empty it before a reload). */
struct apexes {
	size_t n, cap;
	uint8_t (*v)[DNS_NAME_MAXLEN];
};

static int apex_cb(void *ctx, const struct idx_node *n)
{
	struct apexes *a = ctx;
	if (!(n->flags & IDX_NODE_APEX))
		return 0;
	if (a->n == a->cap) {
		size_t nc = a->cap ? a->cap * 2 : 16;
		void *nv = realloc(a->v, nc * sizeof(*a->v));
		if (!nv)
			return DDI_ENOMEM;
		a->v = nv;
		a->cap = nc;
	}
	memcpy(a->v[a->n++], idx_node_owner(n), dns_name_len(idx_node_owner(n)));
	return 0;
}

int store_load_index(struct store *s, struct idx *ix, uint64_t *seqp, struct store_error *err)
{
	char hb[128];
	struct keylist zk = { 0 };
	size_t zlast = SIZE_MAX;
	MDB_txn *txn;
	MDB_cursor *cur = NULL;
	MDB_val k, v;
	struct zrec z;
	struct rread *r = NULL;
	struct idx_txn *t = NULL;
	uint64_t next;
	int rc;

	clearerr_(err);
	if ((rc = txn_begin(s, MDB_RDONLY, &txn)) != 0)
		return mdb_fail(err, rc, "read transaction");
	if ((rc = meta_get64(s, txn, "next_seq", &next, err)) != 0)
		goto out;
	if (next == 0) {
		rc = seterr(err, DDI_ECORRUPT, -1, "meta next_seq is 0");
		goto out;
	}
	r = malloc(sizeof(*r));
	t = idx_txn_begin(ix);
	if (!r || !t) {
		rc = seterr(err, DDI_ENOMEM, -1, "out of memory");
		goto out;
	}
	r->oklen = SIZE_MAX;

	/* a reload replaces everything: the zones the index holds go first (deepest first) */
	{
		struct apexes ap = { 0 };
		rc = idx_walk(idx_txn_version(t), NULL, 0, apex_cb, &ap);
		for (size_t i = ap.n; rc == 0 && i-- > 0;)
			rc = idx_txn_zone_del(t, ap.v[i]);
		free(ap.v);
		if (rc) {
			rc = seterr(err, rc, -1, "emptying the index: %s", ddi_strerror(rc));
			goto out;
		}
	}

	if ((rc = mdb_cursor_open(txn, s->zones, &cur)) != 0) {
		rc = mdb_fail(err, rc, "zones");
		goto out;
	}
	for (rc = mdb_cursor_get(cur, &k, &v, MDB_FIRST); rc == 0;
	     rc = mdb_cursor_get(cur, &k, &v, MDB_NEXT)) {
		if (!zrec_parse(&k, &v, &z)) {
			rc = seterr(err, DDI_ECORRUPT, -1, "zones entry %s does not validate",
			            khex(hb, k.mv_data, k.mv_size));
			goto out;
		}
		if (keylist_add(&zk, k.mv_data, k.mv_size - 1) != 0) {
			rc = seterr(err, DDI_ENOMEM, -1, "out of memory");
			goto out;
		}
		if ((rc = idx_txn_zone_add(t, z.apex)) != 0) {
			char nb[DNS_NAME_STRLEN];
			rc = seterr(err, rc == DDI_ENOMEM ? rc : DDI_ECORRUPT, -1,
			            "the index refuses zone %s: %s", nstr(nb, z.apex), ddi_strerror(rc));
			goto out;
		}
	}
	if (rc != MDB_NOTFOUND) {
		rc = mdb_fail(err, rc, "zones");
		goto out;
	}
	mdb_cursor_close(cur);
	cur = NULL;

	if ((rc = mdb_cursor_open(txn, s->rrsets, &cur)) != 0) {
		rc = mdb_fail(err, rc, "rrsets");
		goto out;
	}
	for (rc = mdb_cursor_get(cur, &k, &v, MDB_FIRST); rc == 0;
	     rc = mdb_cursor_get(cur, &k, &v, MDB_NEXT)) {
		if ((rc = rread_entry(r, &k, &v, err)) != 0)
			goto out;
		if (!zones_hold(&zk, &zlast, r->okey, r->oklen)) {
			rc = seterr(err, DDI_ECORRUPT, -1, "rrsets key %s is in no zone",
			            khex(hb, k.mv_data, k.mv_size));
			goto out;
		}
		/* key order is the index's bulk load order: one pass, no per-RRset lookups */
		rc = idx_txn_bulk_rrset(t, r->owner, r->type, r->val.ttl, r->val.count, r->val.rdatas,
		                        r->val.len);
		if (rc) {
			/* what the store holds must never be refused: it was checked on the way in */
			char nb[DNS_NAME_STRLEN];
			rc = seterr(err, rc == DDI_ENOMEM ? rc : DDI_ECORRUPT, -1,
			            "the index refuses rrsets key %s (%s %s): %s",
			            khex(hb, k.mv_data, k.mv_size), nstr(nb, r->owner),
			            dns_type_name(r->type), ddi_strerror(rc));
			goto out;
		}
	}
	if (rc != MDB_NOTFOUND) {
		rc = mdb_fail(err, rc, "rrsets");
		goto out;
	}
	mdb_cursor_close(cur);
	cur = NULL;
	if ((rc = idx_txn_bulk_end(t)) != DDI_EOK) {
		rc = seterr(err, rc == DDI_ENOMEM ? rc : DDI_ECORRUPT, -1, "building the index: %s",
		            ddi_strerror(rc));
		goto out;
	}
	rc = idx_txn_commit(t, next - 1);
	t = NULL;
	if (rc)
		seterr(err, rc, -1, "index commit: %s", ddi_strerror(rc));
	else if (seqp)
		*seqp = next - 1;
out:
	if (cur)
		mdb_cursor_close(cur);
	if (t)
		idx_txn_abort(t);
	mdb_txn_abort(txn);
	keylist_free(&zk);
	free(r);
	return rc;
}

/* ------------------------------------------------------------------------ */
/* Journal                                                                  */
/* ------------------------------------------------------------------------ */

static bool jname(const json_t *o, const char *field, uint8_t out[DNS_NAME_MAXLEN])
{
	const char *str = json_string_value(json_object_get(o, field));
	if (!str)
		return false;
	size_t l = strlen(str);
	return l && str[l - 1] == '.' && dns_name_from_str(out, str, l, NULL) > 0;
}

static enum store_jop jop_from(const char *str)
{
	for (int i = STORE_J_ZONE_ADD; i <= STORE_J_POLICY_SET; i++)
		if (str && jop_names[i] && strcmp(str, jop_names[i]) == 0)
			return (enum store_jop)i;
	return 0;
}

/* Parse one entry; *ops is grown as needed. false when it does not validate. */
static bool journal_parse(json_t *e, uint64_t seq, struct store_journal_entry *out,
                          struct store_journal_op **ops, size_t *cap)
{
	json_t *jops = json_object_get(e, "ops"), *o;
	json_t *jseq = json_object_get(e, "seq"), *jtime = json_object_get(e, "time");
	size_t i;
	if (!json_is_object(e) || json_integer_value(json_object_get(e, "v")) != JOURNAL_VERSION ||
	    !json_is_integer(jseq) || (uint64_t)json_integer_value(jseq) != seq ||
	    !json_is_integer(jtime) || !json_is_array(jops))
		return false;
	out->seq = seq;
	out->time_ns = json_integer_value(jtime);
	out->actor = json_string_value(json_object_get(e, "actor"));
	if (!out->actor)
		return false;
	out->nops = json_array_size(jops);
	if (out->nops > *cap) {
		struct store_journal_op *no = realloc(*ops, out->nops * sizeof(*no));
		if (!no)
			return false;
		*ops = no;
		*cap = out->nops;
	}
	json_array_foreach(jops, i, o) {
		struct store_journal_op *jo = &(*ops)[i];
		json_t *jo_old = json_object_get(o, "old"), *jo_new = json_object_get(o, "new");
		const char *ty = json_string_value(json_object_get(o, "type"));
		jo->op = jop_from(json_string_value(json_object_get(o, "op")));
		if (!jo->op || !jname(o, "zone", jo->zone) || !jname(o, "owner", jo->owner) ||
		    !json_is_integer(jo_old) || !json_is_integer(jo_new) ||
		    json_integer_value(jo_old) < 0 || json_integer_value(jo_new) < 0)
			return false;
		jo->type = ty ? dns_type_from_str(ty, strlen(ty)) : 0;
		if (ty && !jo->type)
			return false;
		jo->old_count = (uint64_t)json_integer_value(jo_old);
		jo->new_count = (uint64_t)json_integer_value(jo_new);
	}
	out->ops = *ops;
	return true;
}

/* The journal read of store_journal_read, inside the caller's read transaction. */
static int journal_read_txn(struct store *s, MDB_txn *txn, uint64_t from_seq, size_t max,
                            int (*cb)(void *ctx, const struct store_journal_entry *e), void *ctx,
                            struct store_error *err)
{
	MDB_cursor *cur;
	MDB_val k, v;
	uint8_t kb[8];
	struct store_journal_op *ops = NULL;
	size_t cap = 0, n = 0;
	int cbrc = 0;
	char *text = NULL;
	size_t textcap = 0;
	int rc;
	if ((rc = mdb_cursor_open(txn, s->journal, &cur)) != 0)
		return mdb_fail(err, rc, "journal");
	put64(kb, from_seq);
	k.mv_size = 8;
	k.mv_data = kb;
	for (rc = mdb_cursor_get(cur, &k, &v, MDB_SET_RANGE); rc == 0 && (!max || n < max);
	     rc = mdb_cursor_get(cur, &k, &v, MDB_NEXT), n++) {
		struct store_journal_entry e;
		json_error_t je;
		if (k.mv_size != 8) {
			char hb[128];
			rc = seterr(err, DDI_ECORRUPT, -1, "journal key %s is not 8 bytes",
			            khex(hb, k.mv_data, k.mv_size));
			break;
		}
		uint64_t seq = get64(k.mv_data);
		if (v.mv_size + 1 > textcap) {
			char *nt = realloc(text, v.mv_size + 1);
			if (!nt) {
				rc = seterr(err, DDI_ENOMEM, -1, "out of memory");
				break;
			}
			text = nt;
			textcap = v.mv_size + 1;
		}
		memcpy(text, v.mv_data, v.mv_size);
		text[v.mv_size] = '\0';
		json_t *j = json_loadb(text, v.mv_size, JSON_REJECT_DUPLICATES, &je);
		bool ok = j && journal_parse(j, seq, &e, &ops, &cap);
		if (!ok) {
			json_decref(j);
			rc = seterr(err, DDI_ECORRUPT, -1, "journal entry %llu does not validate",
			            (unsigned long long)seq);
			break;
		}
		e.json = text;
		cbrc = cb(ctx, &e);
		json_decref(j);
		if (cbrc)
			break;
	}
	mdb_cursor_close(cur);
	free(ops);
	free(text);
	if (cbrc)
		return cbrc;
	if (rc == MDB_NOTFOUND || (rc == 0 && max && n >= max))
		return DDI_EOK;
	if (rc > 0)
		return mdb_fail(err, rc, "journal");
	return rc;
}

int store_journal_read(struct store *s, uint64_t from_seq, size_t max,
                       int (*cb)(void *ctx, const struct store_journal_entry *e), void *ctx,
                       struct store_error *err)
{
	MDB_txn *txn;
	clearerr_(err);
	int rc = txn_begin(s, MDB_RDONLY, &txn);
	if (rc)
		return mdb_fail(err, rc, "read transaction");
	rc = journal_read_txn(s, txn, from_seq, max, cb, ctx, err);
	mdb_txn_abort(txn);
	return rc;
}

/* ------------------------------------------------------------------------ */
/* Following the journal                                                    */
/* ------------------------------------------------------------------------ */

/*
 * RRsets already given in this transaction, by rrsets key: all reads see
 * the same state, so one RRset changed by many entries of a batch (a storm
 * on a few names) is read and given once. Forgotten at each zone-level op,
 * whose whole-zone walk comes after (and may replace) what was given.
 */
struct seen {
	size_t n, cap;             /* cap: a power of two, 0 before the first insert */
	struct seen_key {
		uint16_t len;
		uint8_t k[RKEY_MAX];
	} *v;                      /* open addressing, len 0 = empty */
};

static uint64_t seen_hash(const uint8_t *k, size_t len)
{
	uint64_t h = 1469598103934665603ull;   /* FNV-1a */
	for (size_t i = 0; i < len; i++)
		h = (h ^ k[i]) * 1099511628211ull;
	return h;
}

/* true if k was there already; false after inserting it (or when out of memory). */
static bool seen_test_set(struct seen *sn, const uint8_t *k, size_t len)
{
	if (sn->n * 2 >= sn->cap) {
		size_t nc = sn->cap ? sn->cap * 2 : 256;
		struct seen_key *nv = calloc(nc, sizeof(*nv));
		if (!nv)
			return false;   /* then simply not deduplicated */
		for (size_t i = 0; i < sn->cap; i++) {
			if (!sn->v[i].len)
				continue;
			size_t j = seen_hash(sn->v[i].k, sn->v[i].len) & (nc - 1);
			while (nv[j].len)
				j = (j + 1) & (nc - 1);
			nv[j] = sn->v[i];
		}
		free(sn->v);
		sn->v = nv;
		sn->cap = nc;
	}
	size_t j = seen_hash(k, len) & (sn->cap - 1);
	for (; sn->v[j].len; j = (j + 1) & (sn->cap - 1))
		if (sn->v[j].len == len && memcmp(sn->v[j].k, k, len) == 0)
			return true;
	sn->v[j].len = (uint16_t)len;
	memcpy(sn->v[j].k, k, len);
	sn->n++;
	return false;
}

static void seen_clear(struct seen *sn)
{
	if (sn->n)
		memset(sn->v, 0, sn->cap * sizeof(*sn->v));
	sn->n = 0;
}

struct follow {
	struct store *s;
	MDB_txn *txn;
	const struct store_follow_ops *ops;
	void *ctx;
	struct store_error *err;
	struct rread r;
	struct seen seen;
	uint64_t last;
};

/* One RRset as it is in the follower's transaction; count 0 when absent. */
static int follow_rrset(struct follow *f, const uint8_t *owner, uint16_t type)
{
	uint8_t okey[DNS_KEY_MAXLEN], rk[RKEY_MAX];
	int oklen = dns_name_to_key(okey, owner);
	if (oklen <= 0)
		return seterr(f->err, DDI_ECORRUPT, -1, "journal names an invalid owner");
	MDB_val k = { rkey_make(rk, okey, (size_t)oklen, type), rk }, v;
	if (seen_test_set(&f->seen, rk, k.mv_size))
		return 0;
	int rc = mdb_get(f->txn, f->s->rrsets, &k, &v);
	if (rc == MDB_NOTFOUND)
		return f->ops->rrset(f->ctx, owner, type, 0, 0, NULL, 0);
	if (rc)
		return mdb_fail(f->err, rc, "rrsets");
	if ((rc = rread_entry(&f->r, &k, &v, f->err)) != 0)
		return rc;
	return f->ops->rrset(f->ctx, f->r.owner, type, f->r.val.ttl, f->r.val.count,
	                     f->r.val.rdatas, f->r.val.len);
}

static int follow_entry(void *ctx, const struct store_journal_entry *e)
{
	struct follow *f = ctx;
	int rc = 0;
	for (size_t i = 0; i < e->nops && rc == 0; i++) {
		const struct store_journal_op *o = &e->ops[i];
		switch (o->op) {
		case STORE_J_ZONE_ADD:
		case STORE_J_ZONE_REMOVE:
		case STORE_J_ZONE_REPLACE: {
			struct zrec z;
			uint8_t zk[ZKEY_MAX];
			size_t zklen = zkey_make(zk, o->zone);
			rc = zone_read(f->s, f->txn, zk, zklen, &z, f->err);
			if (rc != 0 && rc != DDI_ENOENT)
				break;
			bool exists = rc == 0;
			seen_clear(&f->seen);
			if ((rc = f->ops->zone(f->ctx, o->zone, exists)) == 0 && exists)
				rc = zone_walk_txn(f->s, f->txn, &z, f->ops->rrset, f->ctx, f->err);
			break;
		}
		case STORE_J_SERIAL:
			rc = follow_rrset(f, o->owner, DNS_T_SOA);
			break;
		case STORE_J_KEY_ADD:
		case STORE_J_KEY_REMOVE:
		case STORE_J_POLICY_SET:
			break;   /* not in the index: read from the store when used */
		case STORE_J_RRSET_REPLACE:
		case STORE_J_RRSET_DELETE:
		case STORE_J_RR_ADD:
		case STORE_J_RR_DELETE:
			rc = o->type ? follow_rrset(f, o->owner, o->type) : 0;
			break;
		}
	}
	if (rc == 0 && f->ops->entry)
		rc = f->ops->entry(f->ctx, e);
	f->last = e->seq;
	return rc;
}

int store_follow(struct store *s, uint64_t from_seq, const struct store_follow_ops *ops, void *ctx,
                 uint64_t *last_seq, struct store_error *err)
{
	struct follow f = { .s = s, .ops = ops, .ctx = ctx, .err = err,
	                    .last = from_seq ? from_seq - 1 : 0 };
	clearerr_(err);
	f.r.oklen = SIZE_MAX;
	int rc = txn_begin(s, MDB_RDONLY, &f.txn);
	if (rc)
		return mdb_fail(err, rc, "read transaction");
	rc = journal_read_txn(s, f.txn, from_seq, 0, follow_entry, &f, err);
	mdb_txn_abort(f.txn);
	free(f.seen.v);
	if (rc < 0 && err && err->code == DDI_EOK)
		seterr(err, rc, -1, "following the journal: %s", ddi_strerror(rc));
	if (rc == 0)
		*last_seq = f.last;
	return rc;
}

int store_backup(struct store *s, const char *dir, uint64_t *seq, struct store_error *err)
{
	clearerr_(err);
	if (mkdir(dir, 0750) != 0 && errno != EEXIST)
		return seterr(err, -errno, -1, "backup directory %s: %s", dir, strerror(errno));
	char path[4096];
	struct stat st;
	snprintf(path, sizeof(path), "%s/data.mdb", dir);
	if (stat(path, &st) == 0)
		return seterr(err, DDI_EEXIST, -1, "backup directory %s already holds a store", dir);
	/* The copy is one read transaction: its journal seq is the one the copy holds. */
	if (seq && store_last_seq(s, seq, err) != 0)
		return err ? err->code : DDI_EIO;
	int rc = mdb_env_copy2(s->env, dir, MDB_CP_COMPACT);
	if (rc)
		return mdb_fail(err, rc, "backup (mdb_env_copy2)");
	return DDI_EOK;
}

/* ------------------------------------------------------------------------ */
/* Keys and update policy                                                   */
/* ------------------------------------------------------------------------ */

/*
 * Open keys and policies; a store created before they existed gets them
 * in a write transaction of their own (additive: older builds ignore
 * them). When that is impossible (read-only files), the store opens
 * without them: key reads find nothing and key writes fail.
 */
static int open_ddns_dbis(struct store *s, struct store_error *err)
{
	MDB_txn *txn;
	for (int pass = 0; pass < 2; pass++) {
		int rc = mdb_txn_begin(s->env, NULL, pass ? 0 : MDB_RDONLY, &txn);
		if (rc)
			return pass ? DDI_EOK : mdb_fail(err, rc, "keys");
		unsigned fl = pass ? MDB_CREATE : 0;
		rc = mdb_dbi_open(txn, "keys", fl, &s->keys);
		if (rc == 0)
			rc = mdb_dbi_open(txn, "policies", fl, &s->policies);
		if (rc == 0 && (rc = mdb_txn_commit(txn)) == 0) {
			s->ddns_dbs = true;
			return DDI_EOK;
		}
		if (rc)
			mdb_txn_abort(txn);
		if (rc != MDB_NOTFOUND)
			return pass ? DDI_EOK : mdb_fail(err, rc, "keys");
	}
	return DDI_EOK;
}

/* K(name) 0x00, the key of both databases. */
static size_t kkey_make(uint8_t out[ZKEY_MAX], const uint8_t *name)
{
	return zkey_make(out, name);
}

/* STORE_OP_KEY_ADD, STORE_OP_KEY_REMOVE, STORE_OP_POLICY_SET inside a commit. */
static int op_key(struct cctx *c, const struct store_op *op)
{
	static const uint8_t root[1] = { 0 };
	char nb[DNS_NAME_STRLEN];
	uint8_t kb[ZKEY_MAX];
	if (!op->owner || dns_name_check(op->owner, DNS_NAME_MAXLEN) <= 0)
		return seterr(c->err, DDI_EINVAL, c->op, "op %ld: no valid key name", c->op);
	if (!c->s->ddns_dbs)
		return seterr(c->err, DDI_ESCHEMA, c->op, "the store has no keys database "
		              "(opened read-only?)");
	uint8_t lc[DNS_NAME_MAXLEN];
	memcpy(lc, op->owner, (size_t)dns_name_check(op->owner, DNS_NAME_MAXLEN));
	dns_name_lower(lc);
	MDB_val k = { kkey_make(kb, lc), kb }, v;
	bool is_root = lc[0] == 0;
	int rc;
	if (op->kind != STORE_OP_KEY_REMOVE &&
	    (!op->rdatas || !op->rdatas_len || op->rdatas_len > 1u << 20))
		return seterr(c->err, DDI_EINVAL, c->op, "op %ld: no value", c->op);
	/* the value is ours, but check it is JSON of the right shape before storing it */
	if (op->kind != STORE_OP_KEY_REMOVE) {
		json_t *j = json_loadb((const char *)op->rdatas, op->rdatas_len, 0, NULL);
		bool ok = op->kind == STORE_OP_KEY_ADD ? json_is_object(j)
		                                         : json_is_array(j) &&
		                                           json_array_size(j) == op->count;
		json_decref(j);
		if (!ok)
			return seterr(c->err, DDI_EINVAL, c->op, "op %ld: value is not the JSON expected",
			              c->op);
	}
	switch (op->kind) {
	case STORE_OP_KEY_ADD:
		if (is_root)
			return seterr(c->err, DDI_EINVAL, c->op, "the root name cannot be a key");
		v.mv_size = op->rdatas_len;
		v.mv_data = (void *)op->rdatas;
		rc = mdb_put(c->txn, c->s->keys, &k, &v, MDB_NOOVERWRITE);
		if (rc == MDB_KEYEXIST)
			return seterr(c->err, DDI_EEXIST, c->op, "key %s exists", nstr(nb, lc));
		if (rc)
			return c_mdb(c, rc, "keys");
		return journal_op(c, STORE_J_KEY_ADD, root, lc, 0, 0, 1);
	case STORE_OP_KEY_REMOVE: {
		rc = mdb_del(c->txn, c->s->keys, &k, NULL);
		if (rc == MDB_NOTFOUND)
			return (op->flags & STORE_OPF_MISSING_OK)
			               ? DDI_EOK
			               : seterr(c->err, DDI_ENOENT, c->op, "no key %s", nstr(nb, lc));
		if (rc)
			return c_mdb(c, rc, "keys");
		rc = mdb_del(c->txn, c->s->policies, &k, NULL);
		if (rc && rc != MDB_NOTFOUND)
			return c_mdb(c, rc, "policies");
		return journal_op(c, STORE_J_KEY_REMOVE, root, lc, 0, 1, 0);
	}
	case STORE_OP_POLICY_SET: {
		uint64_t oldn = 0;
		if (!is_root && (rc = mdb_get(c->txn, c->s->keys, &k, &v)) != 0)
			return rc == MDB_NOTFOUND
			               ? seterr(c->err, DDI_ENOENT, c->op, "no key %s", nstr(nb, lc))
			               : c_mdb(c, rc, "keys");
		if ((rc = mdb_get(c->txn, c->s->policies, &k, &v)) == 0) {
			json_t *j = json_loadb(v.mv_data, v.mv_size, 0, NULL);
			oldn = json_array_size(j);
			json_decref(j);
			if (op->rdatas_len == v.mv_size && memcmp(op->rdatas, v.mv_data, v.mv_size) == 0)
				return DDI_EOK;   /* no change */
		} else if (rc != MDB_NOTFOUND) {
			return c_mdb(c, rc, "policies");
		}
		if (op->count == 0) {
			rc = mdb_del(c->txn, c->s->policies, &k, NULL);
			if (rc == MDB_NOTFOUND)
				return DDI_EOK;
		} else {
			v.mv_size = op->rdatas_len;
			v.mv_data = (void *)op->rdatas;
			rc = mdb_put(c->txn, c->s->policies, &k, &v, 0);
		}
		if (rc)
			return c_mdb(c, rc, "policies");
		return journal_op(c, STORE_J_POLICY_SET, root, lc, 0, oldn, op->count);
	}
	default:
		return seterr(c->err, DDI_EINVAL, c->op, "op %ld: not a key op", c->op);
	}
}

/* Decode a keys value. */
static bool key_parse(const MDB_val *v, const uint8_t *name, struct tsig_key *out,
                      const char **alg, int64_t *created)
{
	json_t *j = json_loadb(v->mv_data, v->mv_size, 0, NULL);
	const char *a = json_string_value(json_object_get(j, "algorithm"));
	const char *sec = json_string_value(json_object_get(j, "secret"));
	json_t *jc = json_object_get(j, "created");
	bool ok = a && sec && json_is_integer(jc) && tsig_alg_from_str(a, strlen(a)) != TSIG_ALG_NONE;
	if (ok && out) {
		memset(out, 0, sizeof(*out));
		memcpy(out->name, name, (size_t)dns_name_check(name, DNS_NAME_MAXLEN));
		out->alg = tsig_alg_from_str(a, strlen(a));
		int n = tsig_b64_decode(out->secret, sizeof(out->secret), sec, strlen(sec));
		ok = n > 0;
		out->secret_len = ok ? (uint16_t)n : 0;
	}
	if (ok && alg) {
		/* the static name, not the JSON's string, so it outlives j */
		*alg = tsig_alg_name(tsig_alg_from_str(a, strlen(a)));
		*created = json_integer_value(jc);
	}
	json_decref(j);
	return ok;
}

int store_key_get(struct store *s, const uint8_t *name, struct tsig_key *out,
                  struct store_error *err)
{
	char nb[DNS_NAME_STRLEN];
	uint8_t kb[ZKEY_MAX], lc[DNS_NAME_MAXLEN];
	MDB_txn *txn;
	clearerr_(err);
	int nl = name ? dns_name_check(name, DNS_NAME_MAXLEN) : -1;
	if (nl <= 0)
		return seterr(err, DDI_EINVAL, -1, "no valid key name");
	memcpy(lc, name, (size_t)nl);
	dns_name_lower(lc);
	if (!s->ddns_dbs)
		return seterr(err, DDI_ENOENT, -1, "no keys database");
	int rc = txn_begin(s, MDB_RDONLY, &txn);
	if (rc)
		return mdb_fail(err, rc, "read transaction");
	MDB_val k = { kkey_make(kb, lc), kb }, v;
	rc = mdb_get(txn, s->keys, &k, &v);
	if (rc == MDB_NOTFOUND)
		rc = seterr(err, DDI_ENOENT, -1, "no key %s", nstr(nb, lc));
	else if (rc)
		rc = mdb_fail(err, rc, "keys");
	else if (!key_parse(&v, lc, out, NULL, NULL))
		rc = seterr(err, DDI_ECORRUPT, -1, "key %s does not validate", nstr(nb, lc));
	mdb_txn_abort(txn);
	return rc;
}

int store_key_list(struct store *s,
                   int (*cb)(void *ctx, const uint8_t *name, const char *algorithm,
                             int64_t created_ns),
                   void *ctx, struct store_error *err)
{
	char hb[128];
	uint8_t name[DNS_NAME_MAXLEN];
	MDB_txn *txn;
	MDB_cursor *cur;
	MDB_val k, v;
	int cbrc = 0;
	clearerr_(err);
	if (!s->ddns_dbs)
		return DDI_EOK;
	int rc = txn_begin(s, MDB_RDONLY, &txn);
	if (rc)
		return mdb_fail(err, rc, "read transaction");
	if ((rc = mdb_cursor_open(txn, s->keys, &cur)) != 0) {
		mdb_txn_abort(txn);
		return mdb_fail(err, rc, "keys");
	}
	for (rc = mdb_cursor_get(cur, &k, &v, MDB_FIRST); rc == 0;
	     rc = mdb_cursor_get(cur, &k, &v, MDB_NEXT)) {
		const char *alg;
		int64_t created;
		if (k.mv_size < 1 || ((uint8_t *)k.mv_data)[k.mv_size - 1] != 0 ||
		    !key_to_name(name, k.mv_data, k.mv_size - 1) ||
		    !key_parse(&v, name, NULL, &alg, &created)) {
			rc = seterr(err, DDI_ECORRUPT, -1, "keys entry %s does not validate",
			            khex(hb, k.mv_data, k.mv_size));
			break;
		}
		if ((cbrc = cb(ctx, name, alg, created)) != 0)
			break;
	}
	mdb_cursor_close(cur);
	mdb_txn_abort(txn);
	if (cbrc)
		return cbrc;
	if (rc == MDB_NOTFOUND)
		return DDI_EOK;
	return rc > 0 ? mdb_fail(err, rc, "keys") : rc;
}

int store_policy_load(struct store *s, struct pol_set *out, struct store_error *err)
{
	char hb[128];
	MDB_txn *txn;
	MDB_cursor *cur;
	MDB_val k, v;
	clearerr_(err);
	pol_set_free(out);
	if (!s->ddns_dbs)
		return DDI_EOK;
	int rc = txn_begin(s, MDB_RDONLY, &txn);
	if (rc)
		return mdb_fail(err, rc, "read transaction");
	if ((rc = mdb_cursor_open(txn, s->policies, &cur)) != 0) {
		mdb_txn_abort(txn);
		return mdb_fail(err, rc, "policies");
	}
	for (rc = mdb_cursor_get(cur, &k, &v, MDB_FIRST); rc == 0;
	     rc = mdb_cursor_get(cur, &k, &v, MDB_NEXT)) {
		json_t *j = json_loadb(v.mv_data, v.mv_size, 0, NULL), *o;
		size_t i;
		bool ok = json_is_array(j);
		json_array_foreach(j, i, o) {
			struct pol_rule r;
			if (!ok || pol_rule_from_json(&r, o) != DDI_EOK) {
				ok = false;
				break;
			}
			if (pol_set_add(out, &r) != DDI_EOK) {
				json_decref(j);
				rc = seterr(err, DDI_ENOMEM, -1, "out of memory");
				goto done;
			}
		}
		json_decref(j);
		if (!ok) {
			rc = seterr(err, DDI_ECORRUPT, -1, "policies entry %s does not validate",
			            khex(hb, k.mv_data, k.mv_size));
			break;
		}
	}
done:
	mdb_cursor_close(cur);
	mdb_txn_abort(txn);
	if (rc == MDB_NOTFOUND)
		return DDI_EOK;
	if (rc)
		pol_set_free(out);
	return rc > 0 ? mdb_fail(err, rc, "policies") : rc;
}

int store_journal_note(struct store *s, const char *actor, const char *text, uint64_t *seq,
                       struct store_error *err)
{
	struct store_error localerr;
	struct cctx c = { .s = s, .err = err ? err : &localerr, .op = -1 };
	uint64_t n;
	clearerr_(c.err);
	if (!actor || strlen(actor) > ACTOR_MAX || !text)
		return seterr(c.err, DDI_EINVAL, -1, "actor or text missing, or actor too long");
	int rc = txn_begin(s, 0, &c.txn);
	if (rc)
		return mdb_fail(c.err, rc, "write transaction");
	if ((rc = meta_get64(s, c.txn, "next_seq", &n, c.err)) == 0) {
		json_t *e = json_pack("{s:i, s:I, s:I, s:s, s:[], s:s}", "v", JOURNAL_VERSION, "seq",
		                      (json_int_t)n, "time", (json_int_t)now_ns(), "actor", actor,
		                      "ops", "note", text);
		char *t = e ? json_dumps(e, JSON_COMPACT) : NULL;
		json_decref(e);
		if (!t) {
			rc = seterr(c.err, DDI_EINVAL, -1, "journal note: not valid UTF-8");
		} else {
			uint8_t kb[8];
			put64(kb, n);
			MDB_val k = { 8, kb }, v = { strlen(t), t };
			rc = mdb_put(c.txn, s->journal, &k, &v, MDB_NOOVERWRITE);
			free(t);
			if (rc)
				rc = c_mdb(&c, rc, "journal");
			else
				rc = meta_put64(s, c.txn, "next_seq", n + 1, c.err);
		}
	}
	if (rc == 0 && (rc = mdb_txn_commit(c.txn)) != 0)
		return mdb_fail(c.err, rc, "commit");
	if (rc) {
		mdb_txn_abort(c.txn);
		return rc;
	}
	if (seq)
		*seq = n;
	return DDI_EOK;
}

int store_zone_of(struct store *s, const uint8_t *name, uint8_t apex[DNS_NAME_MAXLEN],
                  struct store_error *err)
{
	uint8_t okey[DNS_KEY_MAXLEN];
	struct zrec z;
	MDB_txn *txn;
	clearerr_(err);
	if (!name || dns_name_check(name, DNS_NAME_MAXLEN) <= 0)
		return seterr(err, DDI_EINVAL, -1, "no valid name");
	size_t oklen = (size_t)dns_name_to_key(okey, name);
	int rc = txn_begin(s, MDB_RDONLY, &txn);
	if (rc)
		return mdb_fail(err, rc, "read transaction");
	rc = zone_find(s, txn, okey, oklen, &z, err);
	mdb_txn_abort(txn);
	if (rc == DDI_ENOENT)
		return DDI_ENOZONE;
	if (rc == 0)
		memcpy(apex, z.apex, (size_t)dns_name_check(z.apex, DNS_NAME_MAXLEN));
	return rc;
}

int store_transact(struct store *s, const char *actor, store_txn_fn fn, void *arg,
                   uint64_t *seq, struct store_error *err)
{
	struct store_error localerr;
	const struct store_op *ops = NULL;
	size_t nops = 0;
	MDB_txn *txn;
	if (!err)
		err = &localerr;
	clearerr_(err);
	/* inside a batch: nested in it; otherwise nothing may be open on this thread */
	if (tx_outer.s && !(tx_outer.s == s && tx_outer.batch && tx_outer.txn == tx_outer.batch))
		return seterr(err, DDI_EINVAL, -1, "store_transact inside store_transact");
	int rc = txn_begin(s, 0, &txn);
	if (rc)
		return mdb_fail(err, rc, "write transaction");
	MDB_txn *batch = tx_outer.batch;
	tx_outer.s = s;
	tx_outer.txn = txn;
	rc = fn(arg, &ops, &nops);
	if (rc == 0 && nops > 0)
		rc = store_commit(s, actor, ops, nops, seq, err);
	else if (rc == 0 && seq)
		rc = store_last_seq(s, seq, err);
	tx_outer.s = batch ? s : NULL;
	tx_outer.txn = batch;
	if (rc) {
		mdb_txn_abort(txn);
		return rc;
	}
	if ((rc = mdb_txn_commit(txn)) != 0)
		return mdb_fail(err, rc, "commit");
	return DDI_EOK;
}

/* ------------------------------------------------------------------------ */
/* IPAM: prefixes, ranges, allocations (control/ipam/ipam.h records)             */
/* ------------------------------------------------------------------------ */

/*
 * Three more databases, written only inside the write transaction of a
 * commit (so together with the DNS records and the journal entry):
 *   ipam_prefixes     ipam_prefix_key -> ipam_prefix_encode
 *   ipam_ranges       ipam_range_key  -> ipam_range_encode
 *   ipam_allocations  ipam_alloc_key  -> ipam_alloc_encode
 * A store made before they existed gets them at the first open.
 */
static int ipam_dbis_open(struct store *s, struct store_error *err)
{
	static const struct { const char *name; size_t off; } dbs[] = {
		{ "ipam_prefixes", offsetof(struct store, ipam_prefixes) },
		{ "ipam_ranges", offsetof(struct store, ipam_ranges) },
		{ "ipam_allocations", offsetof(struct store, ipam_allocs) },
	};
	for (int pass = 0; pass < 2; pass++) {
		MDB_txn *txn;
		int rc = txn_begin(s, pass ? 0 : MDB_RDONLY, &txn);
		if (rc)
			return mdb_fail(err, rc, "ipam databases");
		for (size_t i = 0; i < sizeof(dbs) / sizeof(dbs[0]) && rc == 0; i++)
			rc = mdb_dbi_open(txn, dbs[i].name, pass ? MDB_CREATE : 0,
			                  (MDB_dbi *)((char *)s + dbs[i].off));
		if (rc == MDB_NOTFOUND && pass == 0) {
			mdb_txn_abort(txn);
			continue;   /* an older store: create them */
		}
		if (rc) {
			mdb_txn_abort(txn);
			return mdb_fail(err, rc, "ipam databases");
		}
		if ((rc = mdb_txn_commit(txn)) != 0)
			return mdb_fail(err, rc, "ipam databases");
		return DDI_EOK;
	}
	return DDI_EOK;
}

struct store_ipam {
	struct cctx c;
	bool write;
	bool quiet;   /* bulk: records are not journaled one by one (store_ipam_quiet) */
};

struct store_error *store_ipam_error(struct store_ipam *t)
{
	return t->c.err;
}

static int ipam_jlog(struct store_ipam *t, const char *op, json_t *rec)
{
	if (t->quiet) {
		json_decref(rec);
		return DDI_EOK;
	}
	if (!rec)
		return c_nomem(&t->c);
	if (!t->c.jipam && !(t->c.jipam = json_array())) {
		json_decref(rec);
		return c_nomem(&t->c);
	}
	if (json_object_set_new(rec, "op", json_string(op)) != 0 ||
	    json_array_append_new(t->c.jipam, rec) != 0)
		return c_nomem(&t->c);
	return DDI_EOK;
}

void store_ipam_quiet(struct store_ipam *t, bool quiet)
{
	t->quiet = quiet;
	if (quiet)
		t->c.bulk = true;   /* for the whole transaction: see ipam_run */
}

int store_ipam_note(struct store_ipam *t, const char *op, json_t *rec)
{
	bool q = t->quiet;
	t->quiet = false;
	int rc = ipam_jlog(t, op, rec);
	t->quiet = q;
	return rc;
}

static int ipam_need_write(struct store_ipam *t)
{
	if (!t->write)
		return seterr(t->c.err, DDI_EINVAL, -1, "IPAM change inside a read transaction");
	return DDI_EOK;
}

/* Put an encoded record; `what` names it in errors. */
static int ipam_db_put(struct store_ipam *t, MDB_dbi dbi, const uint8_t *key, size_t klen,
                       const uint8_t *val, int vlen, const char *what)
{
	if (vlen < 0)
		return seterr(t->c.err, vlen, t->c.op, "%s does not encode", what);
	MDB_val k = { klen, (void *)key }, v = { (size_t)vlen, (void *)val };
	int rc = mdb_put(t->c.txn, dbi, &k, &v, 0);
	return rc ? c_mdb(&t->c, rc, what) : DDI_EOK;
}

static int ipam_db_del(struct store_ipam *t, MDB_dbi dbi, const uint8_t *key, size_t klen,
                       const char *what)
{
	MDB_val k = { klen, (void *)key };
	int rc = mdb_del(t->c.txn, dbi, &k, NULL);
	if (rc == MDB_NOTFOUND)
		return seterr(t->c.err, DDI_ENOENT, t->c.op, "no %s", what);
	return rc ? c_mdb(&t->c, rc, what) : DDI_EOK;
}

static int ipam_db_get(struct store_ipam *t, MDB_dbi dbi, const uint8_t *key, size_t klen,
                       MDB_val *v, const char *what)
{
	MDB_val k = { klen, (void *)key };
	int rc = mdb_get(t->c.txn, dbi, &k, v);
	if (rc == MDB_NOTFOUND)
		return DDI_ENOENT;
	return rc ? c_mdb(&t->c, rc, what) : DDI_EOK;
}

int store_ipam_prefix_get(struct store_ipam *t, const struct ipam_cidr *c, struct ipam_prefix *out)
{
	uint8_t key[IPAM_KEY_MAX];
	MDB_val v;
	int rc = ipam_db_get(t, t->c.s->ipam_prefixes, key, ipam_prefix_key(c, key), &v,
	                     "ipam_prefixes");
	if (rc)
		return rc;
	if (ipam_prefix_decode(v.mv_data, v.mv_size, out) != 0)
		return seterr(t->c.err, DDI_ECORRUPT, -1, "ipam_prefixes value does not validate");
	return DDI_EOK;
}

int store_ipam_prefix_holding(struct store_ipam *t, int family, const uint8_t addr[16], int maxplen,
                              struct ipam_prefix *out)
{
	int w = ipam_width(family);
	if (!w)
		return seterr(t->c.err, DDI_EINVAL, -1, "family must be 4 or 6");
	if (maxplen > w)
		maxplen = w;
	ipam_u128 a = ipam_addr_to_u128(family, addr);
	for (int plen = maxplen; plen >= 0; plen--) {
		struct ipam_cidr c = { .family = (uint8_t)family, .plen = (uint8_t)plen };
		ipam_u128 mask = plen == 0 ? 0 : ~(ipam_u128)0 << (w - plen);
		if (w == 32)
			mask &= 0xffffffffu;
		ipam_addr_from_u128(family, a & mask, c.addr);
		int rc = store_ipam_prefix_get(t, &c, out);
		if (rc != DDI_ENOENT)
			return rc;
	}
	return DDI_ENOENT;
}

int store_ipam_prefix_put(struct store_ipam *t, const struct ipam_prefix *p)
{
	uint8_t key[IPAM_KEY_MAX], val[IPAM_VALUE_MAX];
	int rc = ipam_need_write(t);
	if (rc == 0)
		rc = ipam_db_put(t, t->c.s->ipam_prefixes, key, ipam_prefix_key(&p->cidr, key), val,
		                 ipam_prefix_encode(p, val, sizeof(val)), "prefix");
	return rc ? rc : ipam_jlog(t, "prefix-put", ipam_prefix_to_json(p));
}

int store_ipam_prefix_del(struct store_ipam *t, const struct ipam_cidr *c)
{
	uint8_t key[IPAM_KEY_MAX];
	char cb[IPAM_CIDR_STRLEN];
	int rc = ipam_need_write(t);
	if (rc == 0)
		rc = ipam_db_del(t, t->c.s->ipam_prefixes, key, ipam_prefix_key(c, key), "such prefix");
	if (rc)
		return rc;
	ipam_cidr_format(c, cb, sizeof(cb));
	return ipam_jlog(t, "prefix-delete", json_pack("{s:s}", "prefix", cb));
}

int store_ipam_range_put(struct store_ipam *t, const struct ipam_range *r)
{
	uint8_t key[IPAM_KEY_MAX], val[IPAM_VALUE_MAX];
	int rc = ipam_need_write(t);
	if (rc == 0)
		rc = ipam_db_put(t, t->c.s->ipam_ranges, key, ipam_range_key(r, key), val,
		                 ipam_range_encode(r, val, sizeof(val)), "range");
	return rc ? rc : ipam_jlog(t, "range-put", ipam_range_to_json(r));
}

int store_ipam_range_del(struct store_ipam *t, const struct ipam_range *r)
{
	uint8_t key[IPAM_KEY_MAX];
	int rc = ipam_need_write(t);
	if (rc == 0)
		rc = ipam_db_del(t, t->c.s->ipam_ranges, key, ipam_range_key(r, key), "such range");
	return rc ? rc : ipam_jlog(t, "range-delete", ipam_range_to_json(r));
}

int store_ipam_alloc_get(struct store_ipam *t, int family, const uint8_t addr[16],
                         struct ipam_alloc *out)
{
	uint8_t key[IPAM_KEY_MAX];
	MDB_val v;
	int rc = ipam_db_get(t, t->c.s->ipam_allocs, key, ipam_alloc_key(family, addr, key), &v,
	                     "ipam_allocations");
	if (rc)
		return rc;
	if (ipam_alloc_decode(v.mv_data, v.mv_size, out) != 0)
		return seterr(t->c.err, DDI_ECORRUPT, -1, "ipam_allocations value does not validate");
	return DDI_EOK;
}

int store_ipam_alloc_put(struct store_ipam *t, const struct ipam_alloc *a)
{
	uint8_t key[IPAM_KEY_MAX], val[IPAM_VALUE_MAX];
	int rc = ipam_need_write(t);
	if (rc == 0)
		rc = ipam_db_put(t, t->c.s->ipam_allocs, key, ipam_alloc_key(a->family, a->addr, key),
		                 val, ipam_alloc_encode(a, val, sizeof(val)), "allocation");
	return rc ? rc : ipam_jlog(t, "alloc-put", ipam_alloc_to_json(a));
}

int store_ipam_alloc_del(struct store_ipam *t, int family, const uint8_t addr[16])
{
	uint8_t key[IPAM_KEY_MAX];
	char ab[IPAM_ADDR_STRLEN];
	int rc = ipam_need_write(t);
	if (rc == 0)
		rc = ipam_db_del(t, t->c.s->ipam_allocs, key, ipam_alloc_key(family, addr, key),
		                 "allocation for this address");
	if (rc)
		return rc;
	ipam_addr_format(family, addr, ab, sizeof(ab));
	return ipam_jlog(t, "alloc-delete", json_pack("{s:s}", "address", ab));
}

/* Cursor walk over [from, ...) while the key starts with pfx (plen bytes). */
static int ipam_walk(struct store_ipam *t, MDB_dbi dbi, const uint8_t *from, size_t flen,
                     size_t plen, int (*fn)(void *ctx, const MDB_val *v), void *ctx,
                     const char *what)
{
	MDB_cursor *cur;
	MDB_val k = { flen, (void *)from }, v;
	int rc = mdb_cursor_open(t->c.txn, dbi, &cur), cbrc = 0;
	if (rc)
		return c_mdb(&t->c, rc, what);
	uint8_t pfx[IPAM_KEY_MAX];
	if (plen)
		memcpy(pfx, from, plen);
	for (rc = mdb_cursor_get(cur, &k, &v, flen ? MDB_SET_RANGE : MDB_FIRST); rc == 0;
	     rc = mdb_cursor_get(cur, &k, &v, MDB_NEXT)) {
		if (k.mv_size < plen || memcmp(k.mv_data, pfx, plen) != 0)
			break;
		if ((cbrc = fn(ctx, &v)) != 0)
			break;
	}
	mdb_cursor_close(cur);
	if (cbrc)
		return cbrc;
	if (rc && rc != MDB_NOTFOUND)
		return c_mdb(&t->c, rc, what);
	return DDI_EOK;
}

struct ipam_wcb {
	struct store_ipam *t;
	const struct ipam_cidr *within;
	void *fn;
	void *ctx;
};

static int prefix_wcb(void *ctx, const MDB_val *v)
{
	struct ipam_wcb *w = ctx;
	struct ipam_prefix p;
	if (ipam_prefix_decode(v->mv_data, v->mv_size, &p) != 0)
		return seterr(w->t->c.err, DDI_ECORRUPT, -1, "ipam_prefixes value does not validate");
	if (w->within && !ipam_cidr_contains(w->within, &p.cidr))
		return 0;
	return ((int (*)(void *, const struct ipam_prefix *))w->fn)(w->ctx, &p);
}

/* The prefix key bytes shared by every address of c: family + whole bytes of the prefix. */
static size_t ipam_within_key(const struct ipam_cidr *c, uint8_t key[IPAM_KEY_MAX], size_t *plen)
{
	key[0] = c->family;
	size_t n = c->family == 4 ? 4 : 16;
	memcpy(key + 1, c->addr, n);
	*plen = 1 + (size_t)c->plen / 8;
	return 1 + n;
}

int store_ipam_prefix_walk(struct store_ipam *t, const struct ipam_cidr *within,
                           int (*cb)(void *ctx, const struct ipam_prefix *p), void *ctx)
{
	struct ipam_wcb w = { t, within, (void *)cb, ctx };
	uint8_t key[IPAM_KEY_MAX];
	size_t plen = 0, flen = within ? ipam_within_key(within, key, &plen) : 0;
	return ipam_walk(t, t->c.s->ipam_prefixes, key, flen, plen, prefix_wcb, &w, "ipam_prefixes");
}

static int range_wcb(void *ctx, const MDB_val *v)
{
	struct ipam_wcb *w = ctx;
	struct ipam_range r;
	if (ipam_range_decode(v->mv_data, v->mv_size, &r) != 0)
		return seterr(w->t->c.err, DDI_ECORRUPT, -1, "ipam_ranges value does not validate");
	return ((int (*)(void *, const struct ipam_range *))w->fn)(w->ctx, &r);
}

int store_ipam_range_walk(struct store_ipam *t, int (*cb)(void *ctx, const struct ipam_range *r),
                          void *ctx)
{
	struct ipam_wcb w = { t, NULL, (void *)cb, ctx };
	return ipam_walk(t, t->c.s->ipam_ranges, NULL, 0, 0, range_wcb, &w, "ipam_ranges");
}

static int alloc_wcb(void *ctx, const MDB_val *v)
{
	struct ipam_wcb *w = ctx;
	struct ipam_alloc a;
	if (ipam_alloc_decode(v->mv_data, v->mv_size, &a) != 0)
		return seterr(w->t->c.err, DDI_ECORRUPT, -1, "ipam_allocations value does not validate");
	if (w->within && !ipam_cidr_contains_addr(w->within, a.family, a.addr))
		return 0;
	return ((int (*)(void *, const struct ipam_alloc *))w->fn)(w->ctx, &a);
}

int store_ipam_alloc_walk(struct store_ipam *t, const struct ipam_cidr *within,
                          int (*cb)(void *ctx, const struct ipam_alloc *a), void *ctx)
{
	struct ipam_wcb w = { t, within, (void *)cb, ctx };
	uint8_t key[IPAM_KEY_MAX];
	size_t plen = 0, flen = within ? ipam_within_key(within, key, &plen) : 0;
	return ipam_walk(t, t->c.s->ipam_allocs, key, flen, plen, alloc_wcb, &w,
	                 "ipam_allocations");
}

int store_ipam_addr_walk(struct store_ipam *t,
                         int (*cb)(void *ctx, int family, const uint8_t addr[16],
                                   const uint8_t *owner),
                         void *ctx)
{
	MDB_cursor *cur;
	MDB_val k, v;
	int rc = mdb_cursor_open(t->c.txn, t->c.s->addrs, &cur), cbrc = 0;
	if (rc)
		return c_mdb(&t->c, rc, "addresses");
	for (rc = mdb_cursor_get(cur, &k, &v, MDB_FIRST); rc == 0;
	     rc = mdb_cursor_get(cur, &k, &v, MDB_NEXT)) {
		const uint8_t *kp = k.mv_data;
		uint8_t addr[16] = { 0 }, name[DNS_NAME_MAXLEN];
		if (!((k.mv_size == 5 && kp[0] == 4) || (k.mv_size == 17 && kp[0] == 6)) ||
		    v.mv_size > DNS_NAME_MAXLEN ||
		    dns_name_check(v.mv_data, v.mv_size) != (int)v.mv_size) {
			rc = seterr(t->c.err, DDI_ECORRUPT, -1, "addresses entry does not validate");
			break;
		}
		memcpy(addr, kp + 1, k.mv_size - 1);
		memcpy(name, v.mv_data, v.mv_size);
		if ((cbrc = cb(ctx, kp[0], addr, name)) != 0)
			break;
	}
	mdb_cursor_close(cur);
	if (cbrc)
		return cbrc;
	if (rc == MDB_NOTFOUND)
		return DDI_EOK;
	if (rc > 0 || (rc >= MDB_KEYEXIST && rc <= MDB_LAST_ERRCODE))
		return c_mdb(&t->c, rc, "addresses");
	return rc;   /* ours (DDI_ECORRUPT) */
}

bool store_ipam_addr_has_owner(struct store_ipam *t, int family, const uint8_t addr[16],
                               const uint8_t *owner)
{
	uint8_t ak[17], lc[DNS_NAME_MAXLEN];
	size_t n = dns_name_len(owner);
	memcpy(lc, owner, n);
	dns_name_lower(lc);
	size_t kl = addr_key(ak, family == 4 ? DNS_T_A : DNS_T_AAAA, addr, family == 4 ? 4 : 16);
	MDB_cursor *cur;
	MDB_val k = { kl, ak }, v = { n, lc };
	if (!kl || mdb_cursor_open(t->c.txn, t->c.s->addrs, &cur) != 0)
		return false;
	int rc = mdb_cursor_get(cur, &k, &v, MDB_GET_BOTH);
	mdb_cursor_close(cur);
	return rc == 0;
}

bool store_ipam_zone_exists(struct store_ipam *t, const uint8_t *apex)
{
	uint8_t zk[ZKEY_MAX];
	struct zrec z;
	return zone_read(t->c.s, t->c.txn, zk, zkey_make(zk, apex), &z, NULL) == 0;
}

void store_ipam_oracle(struct store_ipam *t, struct ipam_lmdb *l)
{
	l->txn = t->c.txn;
	l->dbi = t->c.s->ipam_allocs;
	l->err = 0;
}

int store_ipam_dns(struct store_ipam *t, const struct store_op *ops, size_t nops)
{
	struct cctx *c = &t->c;
	int rc = ipam_need_write(t);
	long base = c->op + 1;
	for (size_t i = 0; i < nops && rc == 0; i++) {
		c->op = base + (long)i;
		switch (ops[i].kind) {
		case STORE_OP_ZONE_ADD:
			rc = op_zone_add(c, &ops[i]);
			break;
		case STORE_OP_ZONE_REMOVE:
			rc = op_zone_remove(c, &ops[i]);
			break;
		case STORE_OP_RRSET_REPLACE:
		case STORE_OP_RRSET_DELETE:
		case STORE_OP_RR_ADD:
		case STORE_OP_RR_DELETE:
			rc = op_rrset(c, &ops[i]);
			break;
		default:
			rc = seterr(c->err, DDI_EINVAL, c->op, "op %zu: kind %d not allowed here", i,
			            ops[i].kind);
		}
	}
	/* bulk: the caller (import) writes records only for what it allocated to that name */
	if (rc == 0 && !t->quiet)
		rc = ipam_policy_check(c, ops, nops, base);
	return rc;
}

/*
 * The DNS policy of the IPAM prefixes over the A/AAAA records a commit
 * adds (RR_ADD, RRSET_REPLACE): ipam_record_verdict for each address.
 * ALLOCATE (policy auto) records a static allocation in the same
 * transaction; DDI_EPOLICY / DDI_ECONFLICT refuse the commit with the
 * verdict's reason. Zone replaces (imports) are not checked.
 */
static int ipam_policy_check(struct cctx *c, const struct store_op *ops, size_t nops, long base)
{
	struct store_ipam t = { .write = true };
	MDB_stat st;
	if (mdb_stat(c->txn, c->s->ipam_prefixes, &st) == 0 && st.ms_entries == 0)
		return DDI_EOK;   /* no IPAM: nothing to check, and bulk loads stay fast */
	for (size_t i = 0; i < nops; i++) {
		const struct store_op *op = &ops[i];
		if ((op->kind != STORE_OP_RR_ADD && op->kind != STORE_OP_RRSET_REPLACE) ||
		    (op->type != DNS_T_A && op->type != DNS_T_AAAA) || !op->owner)
			continue;
		t.c = *c;   /* shares txn, err and the journal arrays */
		t.c.op = base + (long)i;
		for (size_t off = 0; off + 2 <= op->rdatas_len;) {
			uint16_t rdlen = dns_get16(op->rdatas + off);
			const uint8_t *rd = op->rdatas + off + 2;
			off += 2 + (size_t)rdlen;
			int family = op->type == DNS_T_A ? 4 : 6;
			if (rdlen != (family == 4 ? 4 : 16))
				continue;
			uint8_t addr[16] = { 0 };
			memcpy(addr, rd, rdlen);
			struct ipam_prefix p;
			struct ipam_alloc a;
			int rc = store_ipam_prefix_holding(&t, family, addr, 128, &p);
			if (rc == DDI_ENOENT)
				continue;
			if (rc == 0) {
				rc = store_ipam_alloc_get(&t, family, addr, &a);
				if (rc == 0 || rc == DDI_ENOENT) {
					struct ipam_error ie = { 0 };
					int v = ipam_record_verdict(&p, rc == 0 ? &a : NULL, op->owner,
					                            family, addr, &ie);
					if (v < 0)
						rc = seterr(c->err, v, t.c.op, "%s", ie.msg);
					else if (v == IPAM_VERDICT_ALLOCATE) {
						ipam_alloc_init(&a);
						a.family = (uint8_t)family;
						memcpy(a.addr, addr, 16);
						a.state = IPAM_STATE_STATIC;
						a.name_len = (uint8_t)dns_name_len(op->owner);
						memcpy(a.name, op->owner, a.name_len);
						dns_name_lower(a.name);
						a.created = a.updated = (uint64_t)(now_ns() / 1000000000);
						rc = store_ipam_alloc_put(&t, &a);
					} else
						rc = DDI_EOK;
				}
			}
			c->jipam = t.c.jipam;
			if (rc)
				return rc;
		}
	}
	return DDI_EOK;
}

static int ipam_run(struct store *s, const char *actor, bool write, store_ipam_fn fn, void *ctx,
                    uint64_t *seq, struct store_error *err)
{
	struct store_error localerr;
	struct store_ipam t = { .c = { .s = s, .err = err ? err : &localerr, .op = -1 },
	                        .write = write };
	struct cctx *c = &t.c;
	int rc;

	clearerr_(c->err);
	if (seq)
		*seq = 0;
	if (write && (!actor || strlen(actor) > ACTOR_MAX))
		return seterr(c->err, DDI_EINVAL, -1, "actor missing or longer than %d bytes", ACTOR_MAX);
	if (!(c->jops = json_array()))
		return seterr(c->err, DDI_ENOMEM, -1, "out of memory");
	if ((rc = txn_begin(s, write ? 0 : MDB_RDONLY, &c->txn)) != 0) {
		json_decref(c->jops);
		return mdb_fail(c->err, rc, write ? "write transaction" : "read transaction");
	}
	rc = fn(ctx, &t);
	if (rc < 0 && c->err->code == DDI_EOK)
		seterr(c->err, rc, -1, "%s", ddi_strerror(rc));
	if (write) {
		/*
		 * Bulk: each zone whose RRsets changed is journaled as one
		 * zone-replace (old/new 0), so that a follower reloads it whole
		 * instead of one RRset at a time.
		 */
		for (size_t i = 0; c->bulk && i < c->nzones && rc == 0; i++)
			if (c->zones[i].changed && !c->zones[i].removed)
				rc = journal_op(c, STORE_J_ZONE_REPLACE, c->zones[i].z.apex,
				                c->zones[i].z.apex, 0, 0, 0);
		if (c->nowners > 1)
			qsort(c->owners, c->nowners, sizeof(*c->owners), towner_cmp);
		for (size_t i = 0; i < c->nowners && rc == 0; i++)
			if (i == 0 || c->owners[i - 1].len != c->owners[i].len ||
			    memcmp(c->owners[i - 1].key, c->owners[i].key, c->owners[i].len) != 0)
				rc = owner_check(c, &c->owners[i]);
		for (size_t i = 0; i < c->nzones && rc == 0; i++)
			if (!c->zones[i].removed)
				rc = zone_finish(c, &c->zones[i]);
		if (rc == 0)
			rc = journal_write(c, actor, seq);
	}
	if (rc == 0 && write) {
		rc = mdb_txn_commit(c->txn);
		if (rc)
			rc = mdb_fail(c->err, rc, "commit");
	} else {
		mdb_txn_abort(c->txn);
	}
	json_decref(c->jops);
	json_decref(c->jipam);
	free(c->zones);
	free(c->owners);
	free(c->buf);
	return rc;
}

int store_ipam_write(struct store *s, const char *actor, store_ipam_fn fn, void *ctx,
                     uint64_t *seq, struct store_error *err)
{
	return ipam_run(s, actor, true, fn, ctx, seq, err);
}

int store_ipam_read(struct store *s, store_ipam_fn fn, void *ctx, struct store_error *err)
{
	return ipam_run(s, NULL, false, fn, ctx, NULL, err);
}

int store_batch_begin(struct store *s, struct store_error *err)
{
	MDB_txn *txn;
	clearerr_(err);
	if (tx_outer.s)
		return seterr(err, DDI_EINVAL, -1, "a transaction is already open on this thread");
	int rc = txn_begin(s, 0, &txn);
	if (rc)
		return mdb_fail(err, rc, "write transaction");
	tx_outer.s = s;
	tx_outer.txn = txn;
	tx_outer.batch = txn;
	return DDI_EOK;
}

int store_batch_end(struct store *s, bool commit, struct store_error *err)
{
	clearerr_(err);
	if (tx_outer.s != s || !tx_outer.batch || tx_outer.txn != tx_outer.batch)
		return seterr(err, DDI_EINVAL, -1, "no batch open on this thread");
	MDB_txn *txn = tx_outer.batch;
	tx_outer.s = NULL;
	tx_outer.txn = NULL;
	tx_outer.batch = NULL;
	if (!commit) {
		mdb_txn_abort(txn);
		return DDI_EOK;
	}
	int rc = mdb_txn_commit(txn);
	return rc ? mdb_fail(err, rc, "commit") : DDI_EOK;
}
