/* store -- the LMDB store: ddiplane's only durable state (zones, RRsets, addresses, journal) */
#ifndef DDI_CONTROL_STORE_H
#define DDI_CONTROL_STORE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#include "dns/name.h"

/*
 * ---------------------------------------------------------------------------
 * Layout
 * ---------------------------------------------------------------------------
 * One LMDB environment (a directory holding data.mdb and lock.mdb) with five
 * named databases (and the keys, policies, IPAM, diffs and zone_acl ones
 * described further down). All integers are big-endian. "K(name)" is the lookup key
 * of dns/name.h: labels root first, lower-cased, each ending in 0x00, with
 * 0x00 and 0x01 inside a label escaped as 0x01 0x01 / 0x01 0x02. So 0x00
 * occurs in K(name) only as a label terminator and never twice in a row.
 *
 *   meta      "schema_version" -> u32 (STORE_SCHEMA_VERSION)
 *             "created"        -> u64 unix ns
 *             "next_seq"       -> u64, the sequence the next journal entry gets
 *   zones     K(apex) 0x00 -> version(1)=1 flags(4) created_ns(8) apex wire name
 *   rrsets    K(owner) 0x00 type(2) -> ttl(4) count(2) count x [rdlen(2) rdata]
 *   addresses family(1: 4|6) address(4|16) -> owner wire names, lower-case
 *             (MDB_DUPSORT: one duplicate per owner whose A/AAAA holds it)
 *   journal   seq(8) -> JSON text, see "Journal" below
 *
 * Why the 0x00 after K(owner): an ancestor's key is a proper prefix of its
 * descendants' keys, followed there by a label byte (never 0x00). Appending
 * 0x00 to the owner's key therefore sorts an owner's RRsets before all of
 * its descendants, keeps each owner's RRsets contiguous (ordered by type),
 * and makes memcmp order of RRset keys DNS canonical order of owners
 * (RFC 4034 6.1). The key is unambiguous: the type is the last two bytes,
 * the byte before them is the 0x00 separator, the rest is K(owner).
 * Every key that starts with K(apex) belongs to an owner at or below apex
 * (a shorter K(x) 0x00 cannot be a prefix of K(apex), which never holds
 * 0x00 0x00), so a prefix range scan over K(apex) yields exactly the names
 * at or below the apex. The zones database uses the same "K 0x00" form, so
 * the zones below an apex are a prefix scan too, and the root zone gets a
 * non-empty key (LMDB refuses empty keys).
 *
 * A name belongs to the deepest zone whose apex is at or above it. Owner
 * names are kept in their lower-case form (the key): exports print them
 * lower-cased; names inside rdata keep their case.
 *
 * ---------------------------------------------------------------------------
 * Threads and processes
 * ---------------------------------------------------------------------------
 * The environment is opened with MDB_NOTLS: one struct store may be used by
 * several threads at once. Other processes (another ddictl --db, a server)
 * may read and write the same directory at the same time: LMDB's lock file
 * serializes writers and readers never block. store_close() must not race
 * with any other call. After fork() the child must not use the parent's
 * struct store (LMDB's rule); it opens its own.
 *
 * ---------------------------------------------------------------------------
 * Transactions
 * ---------------------------------------------------------------------------
 * Every call runs in one LMDB transaction. Calls that can run inside a
 * larger one take a `struct store_txn *` (as Knot passes knot_lmdb_txn_t):
 *   - NULL: the call opens and ends a transaction of its own (a read-only
 *     one for reads, a write one for writes);
 *   - a handle: reads read it (they see what it wrote and not yet
 *     committed); writes run in a transaction nested in it (LMDB child
 *     transaction), applied wholly or not at all, durable only when the
 *     outermost transaction commits.
 * Handles come from store_batch_begin() (a group commit), from
 * store_transact() (given to its fn) and from store_ipam_txn() (inside a
 * store_ipam_write/read fn). Rules:
 *   - a handle belongs to the thread that opened it and is valid until it
 *     ends (store_batch_end, or the return of the fn it was given to);
 *   - while a write nested in a handle runs (e.g. inside a store_transact
 *     fn), the handle itself must not be used: pass the inner one
 *     (DDI_EINVAL otherwise);
 *   - a thread that holds a write handle must pass it (or one nested in
 *     it) to every write it makes on that store: LMDB has one writer, and
 *     a top-level write from that thread is refused (DDI_EINVAL) instead
 *     of waiting for itself forever. Reads with NULL still work meanwhile
 *     and see only what is committed.
 * Calls without a handle (walk, export, list, journal, follow, index
 * load, backup, last seq, import) always use a transaction of their own.
 *
 * ---------------------------------------------------------------------------
 * Errors
 * ---------------------------------------------------------------------------
 * Every function returns DDI_EOK or a negative code of dns/errcode.h and,
 * when given a struct store_error, fills it with the code, the index of the
 * op that failed (commits) and a sentence naming the record, key or file.
 * LMDB's own codes map to: MDB_MAP_FULL -> DDI_ENOSPC (raise map_size),
 * MDB_CORRUPTED/MDB_PAGE_NOTFOUND/MDB_INVALID -> DDI_ECORRUPT,
 * MDB_VERSION_MISMATCH -> DDI_ESCHEMA, MDB_READERS_FULL/MDB_TXN_FULL ->
 * DDI_ELIMIT, errno values -> -errno, anything else -> DDI_EIO.
 */

#define STORE_SCHEMA_VERSION 1
#define STORE_MAP_SIZE_DEFAULT ((size_t)8 << 30)   /* 8 GiB, sparse */
#define STORE_MAX_RRSETS_DEFAULT 64                /* RRsets per owner name */
#define STORE_MAX_RRS_DEFAULT 4096                 /* RRs per RRset */
#define STORE_TTL_MAX 0x7fffffffu                  /* RFC 2181 8 */
#define STORE_DIFF_MAX_DEPTH_DEFAULT 100           /* differences per zone (Knot: journal-max-depth) */
#define STORE_DIFF_MAX_USAGE_DEFAULT ((size_t)16 << 20)   /* bytes per zone (journal-max-usage) */

struct store;
struct store_txn;    /* an open transaction: see "Transactions" above */

struct store_error {
	int code;        /* the value the function returned */
	long op;         /* index of the failing op in a commit, -1 when not about one op */
	char msg[640];   /* one line, no trailing newline; "" on success */
};

struct store_options {
	size_t map_size;             /* 0: STORE_MAP_SIZE_DEFAULT */
	bool create;                 /* create the directory and databases if missing */
	unsigned max_rrsets;         /* per owner name; 0: STORE_MAX_RRSETS_DEFAULT */
	unsigned max_rrs;            /* per RRset; 0: STORE_MAX_RRS_DEFAULT (at most 65535) */
	unsigned diff_max_depth;     /* differences kept per zone; 0: STORE_DIFF_MAX_DEPTH_DEFAULT */
	size_t diff_max_usage;       /* bytes of differences per zone; 0: STORE_DIFF_MAX_USAGE_DEFAULT */
};

/*
 * Open the store in directory `dir`. `opt` may be NULL (defaults, no
 * create). On success *out is set; close it with store_close().
 * Errors: DDI_ENOENT (no directory or no store in it and !create),
 * DDI_ESCHEMA (schema_version newer than this build knows, or the LMDB
 * file format differs), DDI_ECORRUPT (meta unreadable), -errno (directory
 * or file access), DDI_ENOMEM.
 */
int store_open(struct store **out, const char *dir, const struct store_options *opt,
               struct store_error *err);

/* Close the store. No other call on `s` may be running. NULL is ignored. */
void store_close(struct store *s);

/* Last committed journal sequence (0 when nothing was ever committed). Own read transaction. */
int store_last_seq(struct store *s, uint64_t *seq, struct store_error *err);

/* ------------------------------------------------------------------------ */
/* Writing: one function, one LMDB write transaction                         */
/* ------------------------------------------------------------------------ */

enum store_op_kind {
	STORE_OP_ZONE_ADD = 1,     /* zone: create an empty zone; give its SOA (and NS) as
	                              rrset ops in the same commit */
	STORE_OP_ZONE_REMOVE,      /* zone: delete the zone and every name of it (not the
	                              names of deeper zones) */
	STORE_OP_RRSET_REPLACE,    /* owner, type, ttl, count, rdatas: replace the RRset;
	                              count 0 deletes it */
	STORE_OP_RRSET_DELETE,     /* owner, type: delete the RRset; type 0 or ANY: every
	                              RRset of the owner */
	STORE_OP_RR_ADD,           /* owner, type, ttl, count, rdatas: add RRs (present ones
	                              are kept once); the RRset takes `ttl`. SOA: replaces */
	STORE_OP_RR_DELETE,        /* owner, type, count, rdatas: delete these RRs */
	STORE_OP_ZONE_REPLACE,     /* zone, rrs, nrrs: the zone's whole new content (creates
	                              the zone if needed); see store_zone_import */
	/* TSIG keys and update policy (RFC 2136), see "Keys and update policy" below */
	STORE_OP_KEY_ADD = 32,     /* owner: key name; rdatas/rdatas_len: the key's JSON */
	STORE_OP_KEY_REMOVE,       /* owner: key name; its policy rules go with it */
	STORE_OP_POLICY_SET,       /* owner: key name ("." unsigned); rdatas/rdatas_len: the JSON
	                              array of its rules, count: how many (0 removes them) */
	/* Principals of the control socket and the HTTP API, see "Principals" below */
	STORE_OP_AUTH_SET = 40,    /* owner: the principal's name; rdatas/rdatas_len: a JSON object
	                              (count 1), or count 0: remove it */
	/* Who may transfer a zone and whom to notify, see "Zone transfer" below */
	STORE_OP_ACL_SET = 48,     /* zone: apex; rdatas/rdatas_len: a JSON object (count 1),
	                              or count 0: remove it */
	/* Leases and aging of dynamic RRsets, see "Leases and aging" below */
	STORE_OP_DYN_REFRESH = 64, /* owner, type, lease: a dynamic update refreshed the RRset */
};

/* Op flags. */
#define STORE_OPF_MISSING_OK 0x1   /* deleting what does not exist is not an error */
#define STORE_OPF_TRANSFER 0x2     /* the op applies a zone transfer (control/xfr/secondary.c):
                                      the only ops a secondary zone takes, see below */
#define STORE_OPF_NO_ZONE 0x4      /* ACL_SET: the name need not be a zone of the store (the
                                      catalog zone control/xfr generates, RFC 9432) */
#define STORE_OPF_DYNAMIC 0x8      /* RRset ops of a dynamic update (RFC 2136), a lease expiry
                                      or the scavenger: the RRset keeps its lease and aging
                                      stamp; any other write makes it static (see below) */

/* One record for STORE_OP_ZONE_REPLACE (the caller owns the memory). */
struct store_rr {
	const uint8_t *owner;      /* wire name */
	uint16_t type;
	uint32_t ttl;
	uint16_t rdlen;
	const uint8_t *rdata;      /* uncompressed wire rdata */
};

/* Zone flags (zones database, serial policy). */
#define STORE_ZONE_SERIAL_UNIXTIME 0x1   /* advance to max(serial + 1, now in unix seconds) */
#define STORE_ZONE_SECONDARY 0x2         /* the zone follows a primary, see below */

/*
 * Secondary zones (ddiplane as a secondary, control/xfr/secondary.h).
 * A zone created with STORE_ZONE_SECONDARY (ZONE_ADD zone_flags; the flag
 * never changes afterwards) holds exactly what its primary transferred:
 *   - Its role is the flag; its primaries and transfer key are in its
 *     zone_acl value ("primaries", "primary_key"), written by ACL_SET in
 *     the same commit as the ZONE_ADD, so both are journaled.
 *   - Before its first transfer, and after it expired (RFC 1035 4.3.5:
 *     EXPIRE seconds without a successful refresh), the zone is EMPTY: no
 *     RRset at all, not even an SOA. That is the one state in which a
 *     zone may lack its SOA, and the index answers every question of a
 *     zone whose apex has no SOA with SERVFAIL (index/answer.c). An
 *     expiry is a ZONE_REPLACE with no records; the next refresh is an AXFR.
 *   - Only ops flagged STORE_OPF_TRANSFER change its RRsets (ZONE_REPLACE
 *     for AXFR and expiry, RR_ADD/RR_DELETE for IXFR); any other RRset or
 *     zone-replace op on it is DDI_ESECONDARY, whoever makes it (the
 *     control socket, ddictl --db, UPDATE, IPAM). ZONE_REMOVE and ACL_SET
 *     are allowed (they are configuration).
 *   - Its serial is the primary's: no automatic advance, and ZONE_REPLACE
 *     keeps the transferred serial as it is. The differences of each
 *     transfer are recorded like any commit's, so it can serve IXFR on.
 *   - The IPAM DNS policy is not applied to transferred A/AAAA records
 *     (they are the primary's data, checked there).
 */

/*
 * One change. The memory it points to is the caller's and is only read
 * during store_commit().
 * `zone`: the apex (wire). Required for ZONE_* ops; for the others NULL
 * means "the deepest zone that holds owner", and when given it must be
 * that zone.
 * `rdatas`: count items of [rdlen(2, big-endian) rdata], rdatas_len bytes
 * in all (the form idx_txn_rrset_set takes).
 */
struct store_op {
	enum store_op_kind kind;
	uint32_t flags;            /* STORE_OPF_* */
	const uint8_t *zone;
	const uint8_t *owner;
	uint16_t type;
	uint32_t ttl;
	uint16_t count;
	const uint8_t *rdatas;
	size_t rdatas_len;
	const struct store_rr *rrs;    /* ZONE_REPLACE */
	size_t nrrs;
	uint32_t zone_flags;       /* ZONE_ADD (and ZONE_REPLACE that creates): STORE_ZONE_* */
	uint32_t lease;            /* DYN_REFRESH: seconds granted (RFC 9664), 0: no lease */
};

/*
 * Apply `ops` in order in ONE write transaction, together with one journal
 * entry (time, `actor`, what each op changed) and the SOA serial advance of
 * every zone touched. Commit or nothing: on any error no byte of the store
 * changes.
 *
 * Checked (codes): owner names valid and inside an existing zone
 * (DDI_EOUTZONE; ZONE_* ops on a missing zone: DDI_ENOZONE, ZONE_ADD of an
 * existing zone or of an apex that already holds data of its parent zone:
 * DDI_EEXIST), type storable (DDI_ERDATA for 0 and meta types), TTL <=
 * 2^31-1 (DDI_ETTL), rdata valid for its type (DDI_ERDATA, dns_rdata_check),
 * rdatas well formed (DDI_EINVAL), a CNAME alone at its name and single
 * (DDI_ECNAME), exactly one SOA per zone and only at the apex (DDI_ESOA),
 * RRsets per name and RRs per RRset within the limits (DDI_ELIMIT),
 * deleting what does not exist without STORE_OPF_MISSING_OK (DDI_ENOENT).
 * Name-level checks (CNAME, limits, SOA presence) are made on the state
 * after the last op, so the order of ops inside one commit does not matter
 * for them; the error names the last op that touched the name or zone.
 *
 * Serial: each zone touched gets serial + 1 (RFC 1982 arithmetic, mod 2^32;
 * STORE_ZONE_SERIAL_UNIXTIME zones: max(serial + 1, now)) unless an op of
 * the commit set its SOA (RRSET_REPLACE/RR_ADD of the SOA, ZONE_ADD with its
 * SOA). ZONE_REPLACE keeps the serial of the new content when it is newer
 * than the stored one, else stored + 1, so that secondaries see the change.
 *
 * Writing what is already there is no change: an RRset written with the
 * same TTL and rdata, a missing one deleted with STORE_OPF_MISSING_OK, a
 * zone imported again with the same content. No change means no serial
 * advance and no journal entry (a zone's serial moves only when it did).
 *
 * `actor` (e.g. "unix:alice", "tsig:dhcp-key") is stored verbatim (at most
 * 255 bytes). On success *seq (may be NULL) is the journal entry's seq, or
 * the last seq of the store when nothing changed.
 * Errors also: DDI_ENOSPC (map full), DDI_ENOMEM, DDI_EINVAL (bad op, or
 * a busy or foreign `txn`).
 *
 * `txn`: NULL, or the transaction to nest the commit in (see "Transactions":
 * then nothing is durable before the outermost one commits, and *seq is
 * the seq the entry will have when it does).
 */
int store_commit(struct store *s, struct store_txn *txn, const char *actor,
                 const struct store_op *ops, size_t nops, uint64_t *seq,
                 struct store_error *err);

/*
 * Read the master file `path` (zf_read_file: $INCLUDE refused, every record
 * inside `origin`) and replace the zone's whole content with it in one
 * commit (STORE_OP_ZONE_REPLACE), creating the zone if it does not exist.
 * Any error (syntax: err->msg is "file:line: reason"; validation: names the
 * record) changes nothing. The file must hold exactly one SOA, at origin.
 */
int store_zone_import(struct store *s, const char *actor, const uint8_t *origin, const char *path,
                      uint64_t *seq, struct store_error *err);

/* ------------------------------------------------------------------------ */
/* Reading                                                                  */
/* ------------------------------------------------------------------------ */

/*
 * One RRset as read from the store. All pointers are valid only during the
 * callback (they point into LMDB's map or a stack buffer). Returning
 * non-zero from a callback stops the walk; the walk returns that value.
 */
typedef int (*store_rrset_cb)(void *ctx, const uint8_t *owner, uint16_t type, uint32_t ttl,
                              uint16_t count, const uint8_t *rdatas, size_t rdatas_len);

/*
 * Every RRset of the zone `apex` in DNS canonical order (owner, then type),
 * names of deeper zones left out. Values are validated: DDI_ECORRUPT names
 * the key. DDI_ENOZONE when the zone does not exist.
 */
int store_zone_walk(struct store *s, const uint8_t *apex, store_rrset_cb cb, void *ctx,
                    struct store_error *err);

/*
 * The RRsets of `owner`: only `type`, or all when type is 0 or ANY. None:
 * DDI_ENOENT. Reads `txn` (its uncommitted writes too), or a read
 * transaction of its own when NULL.
 */
int store_rrset_get(struct store *s, struct store_txn *txn, const uint8_t *owner, uint16_t type,
                    store_rrset_cb cb, void *ctx, struct store_error *err);

/* The zone as a master file on `out` (zf_write_rr): the SOA first, then canonical order. */
int store_zone_export(struct store *s, const uint8_t *origin, FILE *out, struct store_error *err);

struct store_zone_info {
	uint8_t apex[DNS_NAME_MAXLEN];
	uint32_t flags;            /* STORE_ZONE_* */
	int64_t created_ns;
	bool has_soa;
	uint32_t serial;           /* when has_soa */
	uint64_t nrrsets, nrrs;    /* only counted when asked (walks the zone) */
};

/* Every zone in canonical order of apexes. With `count`, nrrsets and nrrs are filled. */
int store_zone_list(struct store *s, bool count,
                    int (*cb)(void *ctx, const struct store_zone_info *z), void *ctx,
                    struct store_error *err);

/* One zone, read in `txn` (NULL: its own read transaction). DDI_ENOZONE when absent. */
int store_zone_get(struct store *s, struct store_txn *txn, const uint8_t *apex, bool count,
                   struct store_zone_info *z, struct store_error *err);

/*
 * The owners whose A (family 4, 4 bytes) or AAAA (family 6, 16 bytes) hold
 * `addr`, lower-case wire names in canonical-ish (memcmp of wire) order,
 * read in `txn` (NULL: its own read transaction).
 */
int store_addr_owners(struct store *s, struct store_txn *txn, int family, const uint8_t *addr,
                      int (*cb)(void *ctx, const uint8_t *owner), void *ctx,
                      struct store_error *err);

/* ------------------------------------------------------------------------ */
/* Index                                                                    */
/* ------------------------------------------------------------------------ */

struct idx;

/*
 * Build the index from the store: one read transaction, one pass over
 * zones and rrsets into one idx_txn (idx_txn_zone_add per zone,
 * idx_txn_rrset_set per RRset), committed with the last journal seq, which
 * is also returned in *seq (may be NULL). Everything read is validated as
 * hostile input: a value or key that does not validate gives DDI_ECORRUPT
 * naming it, and the index is left as it was (the txn is aborted).
 * An index that already holds zones is replaced whole: its zones are
 * removed in the same idx_txn, so readers switch from the old content to
 * the new at the commit (a full reload).
 * Caller: the index's single writer (see index/snapshot.h).
 */
int store_load_index(struct store *s, struct idx *ix, uint64_t *seq, struct store_error *err);

/* What one store_load_index_stats read, and where its time went (the start-up log). */
struct store_load_stats {
	uint64_t zones, rrsets, rrs;   /* loaded */
	uint64_t scan_ns;      /* the one pass: read each entry, check its structure, insert it */
	uint64_t build_ns;     /* idx_txn_bulk_end: the name trie made from the sorted nodes */
	uint64_t publish_ns;   /* idx_txn_commit: the version published */
	uint64_t released_kb;  /* the LMDB map's pages this process gave back after the load */
};

/*
 * store_load_index, filling *st (may be NULL). After a load that succeeded
 * the pages of the LMDB map the pass touched are unmapped from the process
 * (madvise MADV_DONTNEED on the read-only map): they stay in the kernel's
 * page cache, shared and reclaimable, and later reads fault them back in.
 * A full load reads every value once; afterwards only changes are read,
 * so the pass would otherwise leave the whole map resident in the process.
 */
int store_load_index_stats(struct store *s, struct idx *ix, uint64_t *seq,
                           struct store_load_stats *st, struct store_error *err);

/* ------------------------------------------------------------------------ */
/* Journal                                                                  */
/* ------------------------------------------------------------------------ */

/*
 * Each commit writes one entry, a JSON object (compact, UTF-8):
 *   {"v":1,"seq":N,"time":unix_ns,"actor":"unix:alice",
 *    "ops":[{"op":"rrset-replace","zone":"example.com.","owner":"www.example.com.",
 *            "type":"A","old":1,"new":2}, ...]}
 * "old"/"new" are the RR counts of the RRset before and after; for
 * "zone-add", "zone-remove" and "zone-replace" they are the zone's RRset
 * counts (owner is the apex, no type); for "serial" (the automatic SOA
 * advance) they are the old and new serial. The journal holds what
 * changed, not the data: a follower re-reads the named RRsets (or the whole
 * zone for zone-* ops) from the store, which is at least as new.
 */
enum store_jop {
	STORE_J_ZONE_ADD = 1, STORE_J_ZONE_REMOVE, STORE_J_ZONE_REPLACE, STORE_J_RRSET_REPLACE,
	STORE_J_RRSET_DELETE, STORE_J_RR_ADD, STORE_J_RR_DELETE, STORE_J_SERIAL,
	STORE_J_KEY_ADD = 32, STORE_J_KEY_REMOVE, STORE_J_POLICY_SET,   /* zone ".", owner: the key */
	STORE_J_AUTH_SET = 40,     /* zone ".", owner: the principal; old/new: 0 or 1 */
	STORE_J_ACL_SET = 48,      /* zone and owner: the apex; old/new: 0 or 1 (absent, present) */
};

/* "zone-add", ..., "serial"; "?" for anything else. */
const char *store_jop_name(enum store_jop op);

struct store_journal_op {
	enum store_jop op;
	uint8_t zone[DNS_NAME_MAXLEN];
	uint8_t owner[DNS_NAME_MAXLEN];
	uint16_t type;             /* 0 for zone-level ops */
	uint64_t old_count, new_count;
};

/* One entry; every pointer is valid only during the callback. */
struct store_journal_entry {
	uint64_t seq;
	int64_t time_ns;
	const char *actor;
	size_t nops;
	const struct store_journal_op *ops;
	const char *json;          /* the stored text, NUL-terminated */
};

/*
 * Call cb for every entry with seq >= from_seq, in order, at most `max`
 * entries (0: no limit), from one read transaction. An entry that does not
 * parse gives DDI_ECORRUPT naming its seq. cb returning non-zero stops.
 */
int store_journal_read(struct store *s, uint64_t from_seq, size_t max,
                       int (*cb)(void *ctx, const struct store_journal_entry *e), void *ctx,
                       struct store_error *err);

/* ------------------------------------------------------------------------ */
/* Following (the control thread)                                           */
/* ------------------------------------------------------------------------ */

struct store_follow_ops {
	/*
	 * A zone-level entry (zone-add, zone-remove, zone-replace): the zone's
	 * whole content is replaced. `exists` tells whether the zone is in the
	 * store in the transaction read; when it is, every RRset of it follows
	 * through rrset().
	 */
	int (*zone)(void *ctx, const uint8_t *apex, bool exists);
	/* An RRset named by an entry as it is in the transaction read; count 0 when absent. */
	store_rrset_cb rrset;
	/* After each entry's RRsets (may be NULL). */
	int (*entry)(void *ctx, const struct store_journal_entry *e);
};

/*
 * In ONE read transaction: every journal entry with seq >= from_seq, in
 * order, and for each of its ops the data it names as it is in that same
 * transaction (the RRset, or the whole zone for zone-level ops; "serial"
 * ops give the apex SOA). So what the callbacks see, applied in order,
 * is exactly the store's state at the last entry: a committed state, never
 * half of a commit, even while other processes write. An RRset named by
 * many entries is given once (until the next zone-level op, after which
 * it may be given again): all reads see the same state. *last_seq is the
 * last entry's seq (from_seq - 1 when there was none). A callback
 * returning non-zero stops and is returned. Errors: as store_journal_read.
 */
int store_follow(struct store *s, uint64_t from_seq, const struct store_follow_ops *ops, void *ctx,
                 uint64_t *last_seq, struct store_error *err);

/*
 * A consistent, compacted copy of the environment into directory `dir`
 * (created if missing; it must not hold a store yet): mdb_env_copy2 with
 * MDB_CP_COMPACT, one read transaction, writers are not blocked. *seq (may
 * be NULL) is the journal seq just before the copy: the copy holds at least
 * that. Errors: DDI_EEXIST, -errno, LMDB codes as above.
 */
int store_backup(struct store *s, const char *dir, uint64_t *seq, struct store_error *err);

/* Bytes of the store's pages in use (an upper bound of a compacted backup's size). */
int store_used_bytes(struct store *s, uint64_t *bytes, struct store_error *err);

/* ------------------------------------------------------------------------ */
/* Checking and restoring (control/store/restore.c)                        */
/* ------------------------------------------------------------------------ */

/*
 * A running server claims its store directory: an exclusive flock(2) on
 * DIR/server.lock (holding its pid, for messages), kept until
 * store_server_release(). A second server on the same directory, and a
 * restore over it, get DDI_EAGAIN ("a server runs on DIR (pid N)").
 * ddictl --db does not claim: it may write beside a server (LMDB
 * serializes writers) but never replace the store under one.
 */
#define STORE_SERVER_LOCK "server.lock"
int store_server_claim(const char *dir, int *fd, struct store_error *err);
void store_server_release(int fd);   /* -1 is ignored */

struct store_check {
	uint64_t last_seq;         /* the store's last journal sequence */
	uint64_t entries;          /* journal entries, each parsed and validated */
	uint64_t zones, rrsets, rrs;   /* every zone walked, every RRset validated */
	uint64_t keys, policies;   /* TSIG keys and policy entries read */
	uint64_t diffs;            /* differences (IXFR history) of every zone, validated */
	uint64_t prefixes, allocations;   /* IPAM records, decoded */
};

/*
 * Read the whole store as hostile input: every journal entry parses and
 * the sequences grow up to the last one, every zone's RRsets and
 * differences validate, every key and policy value has its shape, every
 * IPAM prefix and allocation decodes. DDI_ECORRUPT (or the read's
 * error) names the first thing that does not.
 */
int store_check(struct store *s, struct store_check *c, struct store_error *err);

/*
 * Put the backup in directory `backup` (made by store_backup / `ddictl
 * backup`) in place of the store in `target`:
 *   1. the backup is opened and checked whole (store_check) — a backup that
 *      does not check changes nothing;
 *   2. a target that holds a store is refused unless `replace`, and refused
 *      while a server runs on it (store_server_claim, held until step 4);
 *   3. a compacted copy is made next to it (TARGET.restore-PID) and checked
 *      again;
 *   4. the old store is renamed TARGET.replaced-TIME (its name in `moved`)
 *      and the copy renamed to TARGET: two renames in one directory, so at
 *      no moment is there a half-restored store under the target's name.
 * On success *c describes what was restored. The target is untouched on
 * any error (the half-made copy is removed).
 */
int store_restore(const char *backup, const char *target, bool replace, struct store_check *c,
                  char *moved, size_t movedlen, struct store_error *err);

/* ------------------------------------------------------------------------ */
/* Keys and update policy (RFC 2136 / RFC 8945)                             */
/* ------------------------------------------------------------------------ */

/*
 * Two more databases:
 *   keys      K(key name) 0x00 -> JSON {"algorithm":"hmac-sha256","secret":"base64",
 *                                       "created":unix_ns}
 *   policies  K(key name) 0x00 -> JSON array of the key's rules in order
 *             (control/ddns/policy.h form); the root name holds the unsigned rules
 * Both are written only through store_commit (STORE_OP_KEY_*, POLICY_SET),
 * so every change is journaled with its actor ("key-add", "key-remove",
 * "policy-set" ops; zone ".", owner the key; old/new: rule counts).
 * The store checks only that a value is JSON of the expected shape (an
 * object for a key, an array of `count` items for a policy) and at most
 * 1 MiB; it does not interpret them. control/ddns/keys.h decodes them.
 *
 * Reads give the stored bytes (`json`, `len` bytes, not NUL-terminated),
 * valid only during the callback (they point into LMDB's map), with the
 * lower-case wire name. Read in `txn` (NULL: its own read transaction).
 * A callback returning non-zero stops and is returned.
 */
typedef int (*store_value_cb)(void *ctx, const uint8_t *name, const char *json, size_t len);

/* The key `name` (any case). DDI_ENOENT when absent ("no key NAME"). */
int store_key_value(struct store *s, struct store_txn *txn, const uint8_t *name,
                    store_value_cb cb, void *ctx, struct store_error *err);

/* Every key (with its secret: do not show it) in canonical order of names. */
int store_key_walk(struct store *s, struct store_txn *txn, store_value_cb cb, void *ctx,
                   struct store_error *err);

/* Every policy entry (the root name first: the unsigned rules), in canonical order of names. */
int store_policy_walk(struct store *s, struct store_txn *txn, store_value_cb cb, void *ctx,
                      struct store_error *err);

/*
 * Principals (API tokens, Unix users with a scoped role: control/mgmt/auth.h):
 *   principals  K(name) 0x00 -> JSON object, opaque to the store
 * The name is a wire name the caller derives ("ci.token.", "alice.user.").
 * Written only through store_commit (STORE_OP_AUTH_SET), journaled as
 * "auth-set" (zone ".", owner the name; old/new 0 or 1); writing the same
 * value again is no change. The store checks only that a value is a JSON
 * object of at most 64 KiB. Reads as for keys (the value is valid during
 * the callback only); a store opened read-only that predates the database
 * finds nothing. DDI_ENOENT when absent.
 */
int store_auth_value(struct store *s, struct store_txn *txn, const uint8_t *name,
                     store_value_cb cb, void *ctx, struct store_error *err);
int store_auth_walk(struct store *s, struct store_txn *txn, store_value_cb cb, void *ctx,
                    struct store_error *err);

/*
 * One journal entry that changes no data: {"v":1,...,"actor":A,"ops":[],"note":TEXT}
 * (a refused or no-op dynamic update, so that every attempt is on record),
 * nested in `txn` when given (see "Transactions").
 */
int store_journal_note(struct store *s, struct store_txn *txn, const char *actor,
                       const char *text, uint64_t *seq, struct store_error *err);

/* The apex of the deepest zone holding `name`, read in `txn` (or NULL). DDI_ENOZONE when none. */
int store_zone_of(struct store *s, struct store_txn *txn, const uint8_t *name,
                  uint8_t apex[DNS_NAME_MAXLEN], struct store_error *err);

/*
 * Read, decide and write in ONE write transaction (a dynamic update's
 * prerequisites and its changes), nested in `txn` when given.
 * fn runs inside the transaction and receives its handle, `txn` of fn:
 * the reads fn makes with it (store_rrset_get(s, txn, ...),
 * store_addr_owners, store_zone_of, ...) see exactly what the write will
 * change, and writes fn makes with it (store_ipam_write(s, txn, ...)) are
 * part of it. The handle is valid only until fn returns. When fn returns
 * DDI_EOK with nops > 0, the ops are applied by store_commit nested in
 * the transaction and everything commits at once; any error aborts and
 * nothing changes. fn must not use the parent `txn` (it is busy).
 * Returns fn's error, or the store's (err set); *seq as store_commit.
 */
typedef int (*store_txn_fn)(void *arg, struct store_txn *txn, const struct store_op **ops,
                            size_t *nops);
int store_transact(struct store *s, struct store_txn *txn, const char *actor, store_txn_fn fn,
                   void *arg, uint64_t *seq, struct store_error *err);

/* ------------------------------------------------------------------------ */
/* IPAM: prefixes, ranges and allocations beside the DNS data               */
/* ------------------------------------------------------------------------ */

/*
 * Three more databases hold the records of control/ipam/ipam.h:
 *   ipam_prefixes     ipam_prefix_key -> ipam_prefix_encode
 *   ipam_ranges       ipam_range_key  -> ipam_range_encode
 *   ipam_allocations  ipam_alloc_key  -> ipam_alloc_encode
 * They change only inside store_ipam_write(): ONE write transaction in
 * which `fn` reads and writes IPAM records and DNS data (store_ipam_dns:
 * the ops of store_commit, with its checks), ending with one journal entry
 * (the DNS ops in "ops" as for store_commit, the IPAM changes in an extra
 * "ipam" array: {"op": "alloc-put", ...the record's JSON form} and
 * "prefix-put", "prefix-delete", "range-put", "range-delete",
 * "alloc-delete"). fn returning non-zero aborts everything; the LMDB
 * writer lock serializes every writer of every process, so what fn reads
 * is still true when it commits (two `alloc next` never get one address).
 *
 * The DNS policy: every commit (store_commit and store_ipam_dns) that adds
 * or replaces an A/AAAA record looks up the deepest prefix holding the
 * address and its allocation (ipam_record_verdict): policy auto allocates
 * the address to the owner in the same commit, strict and conflicts
 * refuse with DDI_EPOLICY / DDI_ECONFLICT and the reason.
 *
 * store_ipam_write() nests its transaction in `txn` when given (see
 * "Transactions"). store_ipam_read() runs fn in a read transaction of its
 * own (writes fail there). store_ipam_txn() is the handle of the
 * transaction fn runs in, for the reads above (store_rrset_get, ...);
 * valid until fn returns.
 * Reads return DDI_EOK, DDI_ENOENT (not found) or an error; walks stop when
 * the callback returns non-zero and return that value.
 */
struct store_ipam;
struct ipam_cidr;
struct ipam_prefix;
struct ipam_range;
struct ipam_alloc;
struct ipam_lmdb;

typedef int (*store_ipam_fn)(void *ctx, struct store_ipam *t);

int store_ipam_write(struct store *s, struct store_txn *txn, const char *actor,
                     store_ipam_fn fn, void *ctx, uint64_t *seq, struct store_error *err);
int store_ipam_read(struct store *s, store_ipam_fn fn, void *ctx, struct store_error *err);

struct store_txn *store_ipam_txn(struct store_ipam *t);

/* The error the calls below fill (fn may fill it with its own reason too). */
struct store_error *store_ipam_error(struct store_ipam *t);

/*
 * Bulk changes (CSV import): with quiet set, IPAM records are not written
 * into the journal one by one; the caller adds one summary with
 * store_ipam_note ({"op": op, ...rec}; rec is stolen), the DNS policy is
 * not checked (the caller writes records only for what it allocated), and
 * the DNS changes are journaled as one "zone-replace" per zone touched
 * (old/new 0) instead of one op per RRset: a follower reloads such a zone
 * whole, which is faster than a million single RRsets.
 */
void store_ipam_quiet(struct store_ipam *t, bool quiet);
struct json_t;
int store_ipam_note(struct store_ipam *t, const char *op, struct json_t *rec);

/* DNS ops in the same transaction (no ZONE_REPLACE). */
int store_ipam_dns(struct store_ipam *t, const struct store_op *ops, size_t nops);
bool store_ipam_zone_exists(struct store_ipam *t, const uint8_t *apex);
/* `owner` has an A/AAAA record holding the address. */
bool store_ipam_addr_has_owner(struct store_ipam *t, int family, const uint8_t addr[16],
                               const uint8_t *owner);
/* Every (address, owner) of the addresses database, in key order. */
int store_ipam_addr_walk(struct store_ipam *t,
                         int (*cb)(void *ctx, int family, const uint8_t addr[16],
                                   const uint8_t *owner),
                         void *ctx);
/* The allocations database as an ipam_lmdb oracle (ipam_lmdb_ops, ipam_lmdb_taken). */
void store_ipam_oracle(struct store_ipam *t, struct ipam_lmdb *l);

int store_ipam_prefix_get(struct store_ipam *t, const struct ipam_cidr *c, struct ipam_prefix *out);
/* The deepest stored prefix of length <= maxplen holding the address. */
int store_ipam_prefix_holding(struct store_ipam *t, int family, const uint8_t addr[16], int maxplen,
                              struct ipam_prefix *out);
int store_ipam_prefix_put(struct store_ipam *t, const struct ipam_prefix *p);
int store_ipam_prefix_del(struct store_ipam *t, const struct ipam_cidr *c);
/* Prefixes inside `within` (NULL: all) in ipam_cidr_cmp order. */
int store_ipam_prefix_walk(struct store_ipam *t, const struct ipam_cidr *within,
                           int (*cb)(void *ctx, const struct ipam_prefix *p), void *ctx);

int store_ipam_range_put(struct store_ipam *t, const struct ipam_range *r);
int store_ipam_range_del(struct store_ipam *t, const struct ipam_range *r);
int store_ipam_range_walk(struct store_ipam *t, int (*cb)(void *ctx, const struct ipam_range *r),
                          void *ctx);

int store_ipam_alloc_get(struct store_ipam *t, int family, const uint8_t addr[16],
                         struct ipam_alloc *out);
int store_ipam_alloc_put(struct store_ipam *t, const struct ipam_alloc *a);
int store_ipam_alloc_del(struct store_ipam *t, int family, const uint8_t addr[16]);
/* Allocations inside `within` (NULL: all) in address order. */
int store_ipam_alloc_walk(struct store_ipam *t, const struct ipam_cidr *within,
                          int (*cb)(void *ctx, const struct ipam_alloc *a), void *ctx);

/*
 * Group commit. store_batch_begin() opens one write transaction and sets
 * *batch to its handle; pass it as `txn` to store_transact(),
 * store_commit(), store_journal_note() and store_ipam_write(): each is a
 * nested transaction of the batch, still applied wholly or not at all,
 * and later ones see earlier ones, but nothing is durable (or visible to
 * others) until store_batch_end(batch, true) commits them all with one
 * sync. Until then, acknowledge nothing. With commit false, or when the
 * commit fails (returned), all of them are lost. store_batch_end() frees
 * the handle in every case (DDI_EINVAL, and nothing freed, when batch is
 * NULL or a nested transaction of it is still open).
 * The store's write lock is held from begin to end: keep batches short.
 * Thread: the one that called store_batch_begin(), until the end; it must
 * pass the batch to every write on `s` meanwhile (see "Transactions"):
 * a second store_batch_begin() on it is DDI_EINVAL.
 */
int store_batch_begin(struct store *s, struct store_txn **batch, struct store_error *err);
int store_batch_end(struct store_txn *batch, bool commit, struct store_error *err);

/* ------------------------------------------------------------------------ */
/* Differences (IXFR, history) and zone transfer settings                   */
/* ------------------------------------------------------------------------ */

/*
 * Two more databases:
 *   diffs     K(apex) 0x00 seq(8) -> one difference of the zone, binary:
 *               version(1)=1 flags(1) seq(8) time_ns(8) serial_from(4)
 *               serial_to(4) nrem(4) nadd(4), then nrem + nadd RRs, each
 *               owner (wire, lower-case) type(2) ttl(4) rdlen(2) rdata.
 *             The removed RRs come first, the old SOA first among them; then
 *             the added ones, the new SOA first: the shape of one IXFR
 *             difference sequence (RFC 1995 4). flags 0x01 (BREAK): the
 *             change could not be recorded (an IPAM bulk import, a change
 *             larger than diff_max_usage, an SOA set without a newer
 *             serial): no RRs, and IXFR from before it must fall back to
 *             AXFR.
 *   zone_acl  K(apex) 0x00 -> JSON object, opaque to the store (control/xfr
 *             decodes it): who may transfer the zone, whom to notify.
 * Every commit that changes a zone's RRsets writes ONE difference per zone
 * in the same write transaction as the change, keyed by the commit's
 * journal seq: the store remembers the first value of each RRset it
 * writes in the commit and compares it with the last, so a commit that
 * writes an RRset twice records the net change (condensed per commit).
 * A TTL change removes the old RRs and adds the new ones. A reverse
 * zone's difference also carries the PTR RRs it synthesizes (see
 * store_synth_ptr) that left and came because the commit changed an
 * address's owners, their A/AAAA TTLs or a PTR stored at its reverse
 * name: the store reads them before the first such change of each
 * address and again at the end. Zone add
 * records nothing (the history starts with the zone); zone remove deletes
 * the zone's differences and its zone_acl entry in the same transaction.
 *
 * Retention per zone (same transaction, oldest removed first): at most
 * diff_max_depth entries and diff_max_usage bytes (keys + values).
 */
#define STORE_DIFF_VERSION 1
#define STORE_DIFF_BREAK 0x01

struct store_diff {
	uint64_t seq;              /* the journal entry of the commit */
	int64_t time_ns;
	uint32_t flags;            /* STORE_DIFF_* */
	uint32_t serial_from, serial_to;
	uint32_t nrem, nadd;
	const uint8_t *rrs;        /* the RRs as stored (validated); valid only in the callback */
	size_t rrs_len;
};

/*
 * The next RR of a difference: *off starts at 0; returns 1 with *rr set
 * (pointers into d->rrs), 0 after the last. The RRs were validated when
 * the entry was read, so this cannot fail.
 */
int store_diff_rr_next(const struct store_diff *d, size_t *off, struct store_rr *rr);

/*
 * Every difference of the zone `apex` (any case) in seq order, read in `txn`
 * (NULL: a read transaction of its own). Each entry is validated as
 * hostile input (framing, counts, names, types, TTLs, rdata, the SOAs
 * first in each part carrying serial_from and serial_to): DDI_ECORRUPT
 * names the key. cb returning non-zero stops and is returned.
 */
int store_diff_walk(struct store *s, struct store_txn *txn, const uint8_t *apex,
                    int (*cb)(void *ctx, const struct store_diff *d), void *ctx,
                    struct store_error *err);

/* The zone's zone_acl value (see store_value_cb). DDI_ENOENT when it has none. */
int store_acl_get(struct store *s, struct store_txn *txn, const uint8_t *apex, store_value_cb cb,
                  void *ctx, struct store_error *err);

/*
 * A read-only snapshot: one LMDB read transaction for a zone transfer
 * (store_zone_walk_in, store_addr_walk_in, store_diff_walk, store_acl_get,
 * store_zone_get and store_rrset_get all read it). The thread that opened
 * it ends it with store_read_end (NULL is ignored). Keep it short: LMDB
 * cannot reuse pages freed after it began.
 */
int store_read_begin(struct store *s, struct store_txn **txn, struct store_error *err);
void store_read_end(struct store_txn *txn);

/* store_zone_list in `txn` (NULL: its own read transaction). */
int store_zone_list_in(struct store *s, struct store_txn *txn, bool count,
                       int (*cb)(void *ctx, const struct store_zone_info *z), void *ctx,
                       struct store_error *err);

/* store_last_seq in `txn` (NULL: its own read transaction). */
int store_last_seq_in(struct store *s, struct store_txn *txn, uint64_t *seq,
                      struct store_error *err);

/* store_zone_walk in `txn` (NULL: its own read transaction). */
int store_zone_walk_in(struct store *s, struct store_txn *txn, const uint8_t *apex,
                       store_rrset_cb cb, void *ctx, struct store_error *err);

/*
 * Every (address, owner) of the addresses database whose address starts
 * with the first `plen` bits of `prefix` (family 4: 4 bytes, 6: 16), in
 * address order, read in `txn`. Owner: lower-case wire name. cb returning
 * non-zero stops and is returned. Entries that do not validate: DDI_ECORRUPT.
 */
int store_addr_walk_in(struct store *s, struct store_txn *txn, int family, const uint8_t *prefix,
                       unsigned plen,
                       int (*cb)(void *ctx, int family, const uint8_t *addr, const uint8_t *owner),
                       void *ctx, struct store_error *err);

/* ------------------------------------------------------------------------ */
/* Leases and aging of dynamic RRsets (control/store/life.c)                */
/* ------------------------------------------------------------------------ */

/*
 * Four more databases (created with the store, or on the first writable
 * open of an older one):
 *   leases      K(owner) 0x00 type(2) -> expires_ns(8) granted(4)
 *   lease_exp   expires_ns(8) K(owner) 0x00 type(2) -> empty: the same
 *               leases ordered by expiry, so that finding what is due is a
 *               cursor walk over exactly the due entries, not a scan
 *   aging       K(owner) 0x00 type(2) -> refreshed_ns(8): when a dynamic
 *               update last refreshed the RRset
 *   aging_zones K(apex) 0x00 -> version(1)=1 no_refresh(4) refresh(4)
 *               period(4) last_scavenge_ns(8): the zone's aging settings
 *               (absent: aging off, the default)
 * They change in the transaction of the data they describe:
 *   - STORE_OP_DYN_REFRESH (owner, type, lease), after the RRset ops of a
 *     dynamic update in the same commit: when the RRset exists and is
 *     dynamic (it has an aging stamp, or this commit created it; an
 *     operator's RRset an update adds to stays static, so that neither a
 *     lease nor the scavenger ever removes an operator's record), its aging
 *     stamp becomes now (unless the zone has aging on and the stamp is
 *     younger than the no-refresh interval: Windows DNS's rule, which
 *     keeps refreshes from rewriting the stamp), and its lease becomes
 *     now + lease (lease 0: the RRset has no lease any more). The op
 *     changes no data and is not journaled.
 *   - any RRset op that leaves the RRset absent, and any op without
 *     STORE_OPF_DYNAMIC that changes it (an operator's edit makes a
 *     record static), drop its lease and aging stamp.
 * Zone remove and replace do not touch them: a lease whose RRset is gone
 * is dropped by the expiry sweep, which deletes with STORE_OPF_MISSING_OK,
 * and one whose zone is gone (or is a secondary now) with store_lease_drop.
 * Reads: `txn` as everywhere (NULL: a read transaction of its own).
 */
struct store_lease {
	uint8_t owner[DNS_NAME_MAXLEN];  /* lower-case wire */
	uint16_t type;
	int64_t expires_ns;
	uint32_t granted;                /* seconds, as granted */
};

/* The lease of one RRset. DDI_ENOENT when it has none. */
int store_lease_get(struct store *s, struct store_txn *txn, const uint8_t *owner, uint16_t type,
                    struct store_lease *out, struct store_error *err);

/*
 * Leases in expiry order, from the earliest: those with expires_ns <=
 * until_ns (INT64_MAX: all), at most `max` (0: no limit). cb returning
 * non-zero stops and is returned. Entries that do not validate:
 * DDI_ECORRUPT naming the key.
 */
int store_lease_due(struct store *s, struct store_txn *txn, int64_t until_ns, size_t max,
                    int (*cb)(void *ctx, const struct store_lease *l), void *ctx,
                    struct store_error *err);

struct store_aging {
	uint32_t no_refresh;             /* seconds after a refresh in which a refresh is not stamped */
	uint32_t refresh;                /* then seconds in which a refresh must come */
	uint32_t period;                 /* scavenge every `period` seconds; 0: only when asked */
	int64_t last_scavenge_ns;        /* 0: never */
};

/* The zone's aging settings. DDI_ENOENT: aging is off. DDI_ENOZONE: no such zone. */
int store_aging_get(struct store *s, struct store_txn *txn, const uint8_t *apex,
                    struct store_aging *out, struct store_error *err);

/*
 * Set (cfg) or turn off (NULL) aging of zone `apex`, journaled as a note
 * ("aging ZONE no-refresh N refresh N period N" or "aging ZONE off") with
 * `actor`, in one write transaction nested in `txn` when given.
 * DDI_ENOZONE, DDI_EINVAL (refresh or no_refresh 0).
 */
int store_aging_set(struct store *s, struct store_txn *txn, const char *actor,
                    const uint8_t *apex, const struct store_aging *cfg, uint64_t *seq,
                    struct store_error *err);

/* Record that the zone was scavenged at `when_ns` (no journal entry). */
int store_aging_scavenged(struct store *s, struct store_txn *txn, const uint8_t *apex,
                          int64_t when_ns, struct store_error *err);

/*
 * The aging stamps of the RRsets of zone `apex` (names of deeper zones
 * left out), in canonical order, starting after (after_owner, after_type)
 * when after_owner is not NULL; at most `max` (0: no limit). cb returning
 * non-zero stops and is returned.
 */
int store_aging_walk(struct store *s, struct store_txn *txn, const uint8_t *apex,
                     const uint8_t *after_owner, uint16_t after_type, size_t max,
                     int (*cb)(void *ctx, const uint8_t *owner, uint16_t type,
                               int64_t refreshed_ns),
                     void *ctx, struct store_error *err);

/*
 * Forget the lease and aging stamp of one RRset without touching its data
 * (its zone was removed, or became a secondary), in a write transaction
 * nested in `txn` when given. Nothing to forget is not an error.
 */
int store_lease_drop(struct store *s, struct store_txn *txn, const uint8_t *owner, uint16_t type,
                     struct store_error *err);

/* The aging stamp of one RRset. DDI_ENOENT: none (a static RRset). */
int store_aging_stamp(struct store *s, struct store_txn *txn, const uint8_t *owner,
                      uint16_t type, int64_t *refreshed_ns, struct store_error *err);

/*
 * The PTR RRs ddiplane synthesizes for an address from the addresses
 * database: the ONE rule that zone transfers (control/xfr/out.c) and the
 * differences of a commit (diff.c) share, so that an IXFR of a reverse
 * zone carries what its AXFR would.
 *   owner   the reverse name of the address (d.c.b.a.in-addr.arpa., or 32
 *           nibble labels + ip6.arpa.), lower-case;
 *   rdata   one PTR per owner name of the address, in the addresses
 *           database's order (wire bytes), the first STORE_SYNTH_MAX;
 *   ttl     the smallest TTL of those owners' A (AAAA) RRsets;
 * nothing when a PTR RRset is stored at the reverse name (it answers
 * instead) or when no zone of the store holds the reverse name; `zone`
 * is the deepest zone that holds it.
 */
#define STORE_SYNTH_MAX 16

struct store_synth {
	int family;                            /* 4 or 6 */
	uint8_t addr[16];
	uint8_t rev[DNS_NAME_MAXLEN];          /* owner of the PTRs */
	uint8_t zone[DNS_NAME_MAXLEN];         /* apex of the zone that holds rev */
	uint32_t ttl;
	unsigned n;                            /* 1..STORE_SYNTH_MAX */
	uint8_t targets[STORE_SYNTH_MAX][DNS_NAME_MAXLEN];
};

/*
 * The synthesized PTRs of one address (family 4: 4 bytes, 6: 16), read in
 * `txn` (NULL: its own read transaction). Returns 1 with *out set, 0 when
 * nothing is synthesized (see above), or an error (DDI_ECORRUPT names the
 * key that does not validate).
 */
int store_synth_ptr(struct store *s, struct store_txn *txn, int family, const uint8_t *addr,
                    struct store_synth *out, struct store_error *err);

/*
 * Every synthesized PTR RRset the zone `apex` holds, in address order,
 * read in `txn`: nothing for a zone that is no reverse zone
 * (in-addr.arpa. or ip6.arpa. with whole octet/nibble labels; RFC 2317
 * classless zones synthesize nothing). cb returning non-zero stops and is
 * returned. The walk keeps one address in memory, whatever the zone's size.
 */
int store_synth_walk_in(struct store *s, struct store_txn *txn, const uint8_t *apex,
                        int (*cb)(void *ctx, const struct store_synth *sy), void *ctx,
                        struct store_error *err);

#endif
