/* store/internal -- what the store's files share: struct store, the commit context, helpers */
#ifndef DDI_CONTROL_STORE_INTERNAL_H
#define DDI_CONTROL_STORE_INTERNAL_H

/*
 * Private to control/store/. The layout of the databases is described in
 * store.h; these files implement it:
 *   env.c      open/close, meta, error mapping, transactions, last_seq, backup, batch
 *   values.c   validated values (RRsets, zones), zone scans, key lists
 *   commit.c   the commit context, journal writing, store_commit, store_transact, import
 *   rrset.c    the RRset-level ops of a commit and the addresses database
 *   zone.c     the zone-level ops: add, remove
 *   replace.c  the zone-level op that replaces a zone's whole content
 *   read.c     walk, rrset get, export, zone list/get, zone_of, addr_owners
 *   load.c     store_load_index
 *   journal.c  journal parse/read, follow, notes
 *   records.c  TSIG keys and update policy, kept as values the store does not interpret
 *   ipam.c     the IPAM databases (control/ipam/ipam.h records)
 *   diff.c     the differences of a commit (diffs), retention, zone_acl, snapshots,
 *              the synthesized PTRs of an address (transfers and differences)
 *   life.c     leases and aging stamps of dynamic RRsets, zones' aging settings
 */

#include <pthread.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <jansson.h>
#include <lmdb.h>

#include "control/store/store.h"
#include "dns/errcode.h"
#include "dns/name.h"
#include "dns/rdata.h"
#include "dns/wire.h"

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
	MDB_dbi principals;          /* API tokens and scoped roles (records.c) */
	bool auth_db;                /* principals exists */
	MDB_dbi ipam_prefixes, ipam_ranges, ipam_allocs;   /* see ipam.c */
	MDB_dbi diffs, zone_acl;     /* see diff.c */
	bool xfr_dbs;                /* diffs and zone_acl exist */
	MDB_dbi leases, lease_exp, aging, aging_zones;   /* see life.c */
	bool life_dbs;               /* the four above exist */
	unsigned max_rrsets, max_rrs;
	unsigned diff_max_depth;
	size_t diff_max_usage;
	pthread_mutex_t wlock;       /* guards the two below (see writer_claim in env.c) */
	bool wheld;                  /* a top-level write transaction is open */
	pthread_t wthread;           /* the thread that holds it */
};

/*
 * The handle of store.h. A transaction nested in `parent` (an LMDB child
 * transaction) or a top-level one; while a child is open the parent must
 * not be used (LMDB's rule), which `child` enforces.
 */
struct store_txn {
	struct store *s;
	MDB_txn *txn;                /* NULL once closed */
	struct store_txn *parent;
	bool write;
	bool child;                  /* a transaction nested in this one is open */
};

/* ------------------------------------------------------------------------ */
/* Errors and small helpers (env.c)                                         */
/* ------------------------------------------------------------------------ */

int seterr(struct store_error *err, int code, long op, const char *fmt, ...)
	__attribute__((format(printf, 4, 5)));
void clearerr_(struct store_error *err);
int mdb_code(int rc);
int mdb_fail(struct store_error *err, int rc, const char *what);
int64_t now_ns(void);
/* Presentation form of a validated wire name, for messages. */
const char *nstr(char buf[DNS_NAME_STRLEN], const uint8_t *name);
/* A key as hex for ECORRUPT messages (first 48 bytes). */
const char *khex(char buf[128], const void *key, size_t len);

static inline uint64_t get64(const uint8_t *p)
{
	return (uint64_t)dns_get32(p) << 32 | dns_get32(p + 4);
}

static inline void put64(uint8_t *p, uint64_t v)
{
	dns_put32(p, (uint32_t)(v >> 32));
	dns_put32(p + 4, (uint32_t)v);
}

/* RFC 1982: a is newer than b. */
static inline bool serial_gt(uint32_t a, uint32_t b)
{
	return a != b && (uint32_t)(a - b) < 0x80000000u;
}

static inline bool type_storable(uint16_t type)
{
	return type != 0 && !dns_type_is_meta(type);
}

static inline size_t zkey_make(uint8_t out[ZKEY_MAX], const uint8_t *apex)
{
	int n = dns_name_to_key(out, apex);
	out[n] = 0;
	return (size_t)n + 1;
}

static inline size_t rkey_make(uint8_t out[RKEY_MAX], const uint8_t *okey, size_t oklen, uint16_t type)
{
	memcpy(out, okey, oklen);
	out[oklen] = 0;
	dns_put16(out + oklen + 1, type);
	return oklen + 3;
}

/* Split an rrsets key; false when it is not of the form K 0x00 type. */
static inline bool rkey_split(const MDB_val *k, size_t *oklen, uint16_t *type)
{
	const uint8_t *p = k->mv_data;
	if (k->mv_size < 3 || k->mv_size > RKEY_MAX || p[k->mv_size - 3] != 0)
		return false;
	*oklen = k->mv_size - 3;
	*type = dns_get16(p + k->mv_size - 2);
	return true;
}

/* Lookup key -> wire name, for keys read from the store. */
static inline bool key_to_name(uint8_t name[DNS_NAME_MAXLEN], const uint8_t *key, size_t len)
{
	if (len > 0 && key[len - 1] != 0)
		return false;
	return dns_key_to_name(name, key, len) > 0;
}

static inline bool has_prefix(const MDB_val *k, const uint8_t *p, size_t n)
{
	return k->mv_size >= n && memcmp(k->mv_data, p, n) == 0;
}


/* ------------------------------------------------------------------------ */
/* Values and zone scans (values.c)                                         */
/* ------------------------------------------------------------------------ */

struct rrval {
	uint32_t ttl;
	uint16_t count;
	const uint8_t *rdatas;
	size_t len;
};

struct zrec {
	uint8_t apex[DNS_NAME_MAXLEN];
	uint32_t flags;
	int64_t created;
	uint8_t key[ZKEY_MAX];   /* K(apex) 0x00 */
	size_t klen;
};

struct subzones {
	size_t n, cap;
	struct subkey { size_t len; uint8_t key[DNS_KEY_MAXLEN]; } *v;   /* K(apex), no 0x00 sep */
};

struct zscan {
	MDB_cursor *cur;
	const uint8_t *ak;
	size_t aklen;
	const struct subzones *sz;
	bool started;
	MDB_val k, v;
};

/* Keys of the zone's RRsets, copied, in order (they are deleted or compared afterwards). */
struct keylist {
	size_t n, cap, used, acap;
	size_t *off;
	uint8_t *arena;
};

/* Validate one rrsets entry read from the store; fills owner (cached by key), type, value. */
struct rread {
	uint8_t owner[DNS_NAME_MAXLEN];
	uint8_t okey[DNS_KEY_MAXLEN];
	size_t oklen;   /* SIZE_MAX: nothing cached */
	uint16_t type;
	struct rrval val;
};

/*
 * Walk `count` items of [rdlen rdata] that must fill exactly `len` bytes,
 * each valid rdata of `type`. Returns DDI_EOK, DDI_EINVAL (framing) or
 * DDI_ERDATA (content); *bad is the index of the failing item.
 */
int rdatas_check(uint16_t type, uint16_t count, const uint8_t *p, size_t len, size_t *bad);
/* Parse and validate an rrsets value read from the store. */
bool rrval_parse(const MDB_val *v, uint16_t type, struct rrval *out);
/* Parse a zones entry; false when it does not validate. */
bool zrec_parse(const MDB_val *k, const MDB_val *v, struct zrec *z);
/* Read a zone by its key. DDI_EOK, DDI_ENOENT, DDI_ECORRUPT (err set) or an LMDB error. */
int zone_read(struct store *s, MDB_txn *txn, const uint8_t *zk, size_t zklen, struct zrec *z,
              struct store_error *err);
/* The deepest zone whose apex is at or above the owner with key okey. */
int zone_find(struct store *s, MDB_txn *txn, const uint8_t *okey, size_t oklen, struct zrec *z,
              struct store_error *err);
/* The zones strictly below the apex whose key is ak (K(apex), aklen bytes). */
int subzones_load(struct store *s, MDB_txn *txn, const uint8_t *ak, size_t aklen,
                  struct subzones *sz, struct store_error *err);
void subzones_free(struct subzones *sz);
/* Index of the deeper zone that holds key k (an rrsets or owner key), or -1. */
long subzones_match(const struct subzones *sz, const uint8_t *k, size_t klen);
/* Next RRset of the zone: 1 with z->k/z->v set, 0 at the end, < 0 on error. */
int zscan_next(struct zscan *z);
int keylist_add(struct keylist *kl, const void *key, size_t len);
void keylist_free(struct keylist *kl);

/* ------------------------------------------------------------------------ */
/* Environment (env.c)                                                      */
/* ------------------------------------------------------------------------ */

int meta_get64(struct store *s, MDB_txn *txn, const char *name, uint64_t *out,
               struct store_error *err);
int meta_put64(struct store *s, MDB_txn *txn, const char *name, uint64_t val,
               struct store_error *err);
/* A top-level LMDB transaction, adopting a map another process grew. */
int txn_begin(struct store *s, unsigned flags, MDB_txn **txn);
/*
 * Open *t: nested in `parent` (a write transaction of s with no child
 * open; DDI_EINVAL otherwise) or, parent NULL, top-level (a write one
 * refused with DDI_EINVAL when this thread already holds s's writer).
 * Close it with txn_close (commit or abort), which frees the parent for use.
 */
int txn_open(struct store *s, struct store_txn *parent, bool write, struct store_txn *t,
             struct store_error *err);
int txn_close(struct store_txn *t, bool commit, struct store_error *err);
/*
 * The LMDB transaction a read of store.h runs in: txn's own when the
 * caller gave one, else a read-only one opened in *own. Always call
 * read_end(own) afterwards (nothing to do when txn was given).
 */
int read_begin(struct store *s, struct store_txn *txn, struct store_txn *own, MDB_txn **out,
               struct store_error *err);
void read_end(struct store_txn *own);
/* store_last_seq in txn. */
int last_seq_txn(struct store *s, MDB_txn *txn, uint64_t *seq, struct store_error *err);
/* Open keys and policies (records.c) and the IPAM databases (ipam.c). */
int open_ddns_dbis(struct store *s, struct store_error *err);
int open_auth_dbi(struct store *s, struct store_error *err);
int ipam_dbis_open(struct store *s, struct store_error *err);

/* ------------------------------------------------------------------------ */
/* The commit context (commit.c) and its ops                                */
/* ------------------------------------------------------------------------ */

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
	/* differences (diff.c): the first value of each RRset the commit writes */
	struct dcap *caps;
	size_t ncaps, capcaps;
	uint8_t *darena;         /* keys and old values of caps */
	size_t dused, dcap_bytes;
	bool dover;              /* too much to remember: every zone touched gets a BREAK */
	struct acap *acaps;      /* addresses whose synthesized PTRs may change (diff.c) */
	size_t nacaps, capacaps;
};

/* One RRset as it was before the commit first wrote it (diff.c). */
struct dcap {
	size_t koff, voff, vlen; /* in darena: the rrsets key, the old rdatas */
	uint16_t klen, count;    /* count 0: there was no RRset */
	uint32_t ttl;
	size_t order;
};

/*
 * One address as it was before the commit first touched it (diff.c): its
 * synthesized PTRs before (boff) and, filled by diff_finish, after (aoff),
 * each in darena as: zone apex (wire), ttl(4), then [rdlen(2) target]...;
 * length 0: nothing was (is) synthesized.
 */
struct acap {
	uint8_t ak[17];          /* family(1) address */
	size_t order;
	size_t boff, blen, aoff, alen;
};

int c_nomem(struct cctx *c);
int c_mdb(struct cctx *c, int rc, const char *what);
/* Grow c->buf to at least n bytes. */
int buf_need(struct cctx *c, size_t n);
/* Append one op to the journal entry of the commit. */
int journal_op(struct cctx *c, enum store_jop op, const uint8_t *zone, const uint8_t *owner,
               uint16_t type, uint64_t oldc, uint64_t newc);
struct tzone *touch_zone(struct cctx *c, const struct zrec *z);
int touch_owner(struct cctx *c, const uint8_t *okey, size_t oklen);
int owner_check(struct cctx *c, const struct towner *t);
int towner_cmp(const void *a, const void *b);
int zone_finish(struct cctx *c, struct tzone *tz);
int journal_write(struct cctx *c, const char *actor, uint64_t *seqp);
/* After the ops: the name checks, the zones' SOA and serial, the journal entry. */
int commit_finish(struct cctx *c, const char *actor, uint64_t *seq);
/* One op of a commit, any kind (commit.c); c->op names it in errors. */
int commit_op(struct cctx *c, const struct store_op *op);
void cctx_free(struct cctx *c);

/* rrset.c */
/* Address key for an A/AAAA rdata: family(1) address; 0 for other types. */
size_t addr_key(uint8_t out[17], uint16_t type, const uint8_t *rd, uint16_t rdlen);
int rrset_read(struct cctx *c, const uint8_t *okey, size_t oklen, uint16_t type,
               struct rrval *val);
int rrset_write(struct cctx *c, const uint8_t *okey, size_t oklen, uint16_t type, uint32_t ttl,
                uint16_t count, const uint8_t *rdatas, size_t len, uint16_t *oldcount,
                bool *changed);
int op_rrset(struct cctx *c, const struct store_op *op);
/* The reverse name (lower-case wire) of an address key (family, address). */
void addr_reverse(uint8_t out[DNS_NAME_MAXLEN], const uint8_t *ak);

/* zone.c */
int zone_keys(struct cctx *c, const struct zrec *z, struct keylist *kl);
int rrset_delete_key(struct cctx *c, const uint8_t *rk, size_t rklen);
int zone_add_check(struct cctx *c, const uint8_t *apex, const uint8_t *ak, size_t aklen);
int zone_create(struct cctx *c, const uint8_t *apex, uint32_t flags, struct zrec *z);
int op_zone_add(struct cctx *c, const struct store_op *op);
int op_zone_remove(struct cctx *c, const struct store_op *op);

/* replace.c */
int op_zone_replace(struct cctx *c, const struct store_op *op);

/* records.c */
int op_key(struct cctx *c, const struct store_op *op);
int op_auth(struct cctx *c, const struct store_op *op);

/* diff.c */
int open_xfr_dbis(struct store *s, struct store_error *err);
/* Remember the RRset (okey, type) before its first write in the commit; old NULL: absent. */
int diff_capture(struct cctx *c, const uint8_t *okey, size_t oklen, uint16_t type,
                 const struct rrval *old);
/* After the journal entry (seq): one difference per zone changed, retention. */
int diff_finish(struct cctx *c, uint64_t seq);
/*
 * Remember the synthesized PTRs of the address key ak (family, address)
 * before the commit changes what they derive from (its owners, their
 * A/AAAA TTLs, a PTR stored at its reverse name); once per address counts.
 */
int diff_addr_capture(struct cctx *c, const uint8_t ak[17]);
/* ak of a whole reverse name (4 octet labels + in-addr.arpa., 32 nibbles + ip6.arpa.). */
bool reverse_addr_key(const uint8_t *name, uint8_t ak[17]);
/* store_synth_ptr in an LMDB transaction (the commit's, too): 1, 0 or an error. */
int synth_ptr_txn(struct store *s, MDB_txn *txn, const uint8_t ak[17], struct store_synth *out,
                  struct store_error *err);
int op_acl(struct cctx *c, const struct store_op *op);
/* The RRset (okey, type) did not exist before this commit wrote it (true when not remembered). */
bool diff_created(const struct cctx *c, const uint8_t *okey, size_t oklen, uint16_t type);

/* life.c */
int open_life_dbis(struct store *s, struct store_error *err);
/* The RRset (okey, type) is gone or became static: drop its lease and aging stamp. */
int life_forget(struct cctx *c, const uint8_t *okey, size_t oklen, uint16_t type);
int op_dyn_refresh(struct cctx *c, const struct store_op *op);

/* ipam.c */
int ipam_policy_check(struct cctx *c, const struct store_op *ops, size_t nops, long base);

/* ------------------------------------------------------------------------ */
/* Reading (read.c)                                                         */
/* ------------------------------------------------------------------------ */

int rread_entry(struct rread *r, const MDB_val *k, const MDB_val *v, struct store_error *err);
int zone_walk_txn(struct store *s, MDB_txn *txn, const struct zrec *z, store_rrset_cb cb,
                  void *ctx, struct store_error *err);
int zone_count(struct store *s, MDB_txn *txn, const struct zrec *z, uint64_t *nrrsets,
               uint64_t *nrrs, struct store_error *err);

/* journal.c */
extern const char *const jop_names[];

#endif
