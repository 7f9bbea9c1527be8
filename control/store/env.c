/* store/env -- the LMDB environment: open and close, meta, error mapping, transactions, backup, batch */
#include <errno.h>
#include <pthread.h>
#include <limits.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>

#include <jansson.h>
#include <lmdb.h>

#include "control/store/internal.h"

/* ------------------------------------------------------------------------ */
/* Errors and small helpers                                                 */
/* ------------------------------------------------------------------------ */

int seterr(struct store_error *err, int code, long op, const char *fmt, ...)
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

void clearerr_(struct store_error *err)
{
	if (err) {
		err->code = DDI_EOK;
		err->op = -1;
		err->msg[0] = '\0';
	}
}

int mdb_code(int rc)
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

int mdb_fail(struct store_error *err, int rc, const char *what)
{
	return seterr(err, mdb_code(rc), -1, "%s: %s", what, mdb_strerror(rc));
}

int64_t now_ns(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_REALTIME, &ts);
	return (int64_t)ts.tv_sec * 1000000000 + ts.tv_nsec;
}

const char *nstr(char buf[DNS_NAME_STRLEN], const uint8_t *name)
{
	if (dns_name_to_str(buf, DNS_NAME_STRLEN, name) < 0)
		snprintf(buf, DNS_NAME_STRLEN, "(bad name)");
	return buf;
}

const char *khex(char buf[128], const void *key, size_t len)
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

/* ------------------------------------------------------------------------ */
/* Open and close                                                           */
/* ------------------------------------------------------------------------ */

int meta_get64(struct store *s, MDB_txn *txn, const char *name, uint64_t *out,
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

int meta_put64(struct store *s, MDB_txn *txn, const char *name, uint64_t val,
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

/* A top-level LMDB transaction (no parent). */
int txn_begin(struct store *s, unsigned flags, MDB_txn **txn)
{
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

/*
 * LMDB has one writer at a time and its writer lock is not recursive: a
 * thread that holds a write transaction and begins another top-level one
 * would wait for itself forever. The store remembers which thread holds
 * its write transaction so that this mistake is an error (DDI_EINVAL)
 * instead of a hang.
 */
static int writer_claim(struct store *s, struct store_error *err)
{
	pthread_mutex_lock(&s->wlock);
	bool mine = s->wheld && pthread_equal(s->wthread, pthread_self());
	pthread_mutex_unlock(&s->wlock);
	if (mine)
		return seterr(err, DDI_EINVAL, -1,
		              "a write transaction of this store is open on this thread: pass it");
	return DDI_EOK;
}

static void writer_mark(struct store *s, bool held)
{
	pthread_mutex_lock(&s->wlock);
	s->wheld = held;
	s->wthread = pthread_self();
	pthread_mutex_unlock(&s->wlock);
}

int txn_open(struct store *s, struct store_txn *parent, bool write, struct store_txn *t,
             struct store_error *err)
{
	const char *what = write ? "write transaction" : "read transaction";
	int rc;
	memset(t, 0, sizeof(*t));
	t->s = s;
	t->write = write;
	t->parent = parent;
	if (parent) {
		if (parent->s != s || !parent->write || parent->child)
			return seterr(err, DDI_EINVAL, -1, "%s: the parent transaction is %s", what,
			              parent->s != s ? "of another store"
			              : !parent->write ? "read-only" : "busy with a nested one");
		/* a read inside a write transaction is a nested write one, aborted at the end */
		if ((rc = mdb_txn_begin(s->env, parent->txn, 0, &t->txn)) != 0)
			return mdb_fail(err, rc, what);
		parent->child = true;
		return DDI_EOK;
	}
	if (write && (rc = writer_claim(s, err)) != 0)
		return rc;
	if ((rc = txn_begin(s, write ? 0 : MDB_RDONLY, &t->txn)) != 0)
		return mdb_fail(err, rc, what);
	if (write)
		writer_mark(s, true);
	return DDI_EOK;
}

int txn_close(struct store_txn *t, bool commit, struct store_error *err)
{
	int rc = DDI_EOK;
	if (!t->txn)
		return DDI_EOK;
	if (commit && t->write) {
		int mrc = mdb_txn_commit(t->txn);
		if (mrc)
			rc = mdb_fail(err, mrc, "commit");
	} else {
		mdb_txn_abort(t->txn);
	}
	t->txn = NULL;
	if (t->parent)
		t->parent->child = false;
	else if (t->write)
		writer_mark(t->s, false);
	return rc;
}

int read_begin(struct store *s, struct store_txn *txn, struct store_txn *own, MDB_txn **out,
               struct store_error *err)
{
	memset(own, 0, sizeof(*own));
	if (!txn) {
		int rc = txn_open(s, NULL, false, own, err);
		*out = own->txn;
		return rc;
	}
	if (txn->s != s || txn->child || !txn->txn)
		return seterr(err, DDI_EINVAL, -1, "read: the transaction is %s",
		              txn->s != s ? "of another store" : "busy with a nested one");
	*out = txn->txn;   /* LMDB lets a transaction read what it wrote */
	return DDI_EOK;
}

void read_end(struct store_txn *own)
{
	txn_close(own, false, NULL);
}

/*
 * The data file holds every page its meta page counts. LMDB maps the file
 * and trusts that count: a file cut short (a copy that stopped, a full
 * disk) would be read past its end, SIGBUS at the first such page, instead
 * of being refused.
 */
static int file_covers_pages(struct store *s, const char *dir, struct store_error *err)
{
	MDB_envinfo info;
	MDB_stat ms;
	struct stat st;
	int fd;
	if (mdb_env_info(s->env, &info) != 0 || mdb_env_stat(s->env, &ms) != 0 ||
	    mdb_env_get_fd(s->env, &fd) != 0 || fstat(fd, &st) != 0)
		return seterr(err, DDI_ECORRUPT, -1, "%s: cannot read the size of the data file", dir);
	uint64_t need = ((uint64_t)info.me_last_pgno + 1) * ms.ms_psize;
	if ((uint64_t)st.st_size < need)
		return seterr(err, DDI_ECORRUPT, -1, "%s: the data file has %llu bytes but its pages "
		              "reach %llu: it was cut short (restore it from a backup)", dir,
		              (unsigned long long)st.st_size, (unsigned long long)need);
	return DDI_EOK;
}

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
	pthread_mutex_init(&s->wlock, NULL);
	s->max_rrsets = o.max_rrsets;
	s->max_rrs = o.max_rrs;
	s->diff_max_depth = o.diff_max_depth ? o.diff_max_depth : STORE_DIFF_MAX_DEPTH_DEFAULT;
	s->diff_max_usage = o.diff_max_usage ? o.diff_max_usage : STORE_DIFF_MAX_USAGE_DEFAULT;
	rc = mdb_env_create(&s->env);
	if (rc == 0)
		rc = mdb_env_set_maxdbs(s->env, 32);
	if (rc == 0)
		rc = mdb_env_set_mapsize(s->env, o.map_size);
	if (rc == 0)
		rc = mdb_env_open(s->env, dir, MDB_NOTLS, 0640);
	if (rc) {
		rc = mdb_fail(err, rc, dir);
		goto fail;
	}
	if ((rc = file_covers_pages(s, dir, err)) != 0)
		goto fail;
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
	if ((rc = open_ddns_dbis(s, err)) != 0 || (rc = open_auth_dbi(s, err)) != 0)
		goto fail;
	if ((rc = ipam_dbis_open(s, err)) != 0)
		goto fail;
	if ((rc = open_xfr_dbis(s, err)) != 0)
		goto fail;
	if ((rc = open_life_dbis(s, err)) != 0)
		goto fail;
	*out = s;
	return DDI_EOK;
fail:
	if (s->env)
		mdb_env_close(s->env);
	pthread_mutex_destroy(&s->wlock);
	free(s);
	return rc;
}

void store_close(struct store *s)
{
	if (!s)
		return;
	mdb_env_close(s->env);
	pthread_mutex_destroy(&s->wlock);
	free(s);
}

int last_seq_txn(struct store *s, MDB_txn *txn, uint64_t *seq, struct store_error *err)
{
	uint64_t next;
	int rc = meta_get64(s, txn, "next_seq", &next, err);
	if (rc)
		return rc;
	if (next == 0)
		return seterr(err, DDI_ECORRUPT, -1, "meta next_seq is 0");
	*seq = next - 1;
	return DDI_EOK;
}

int store_last_seq(struct store *s, uint64_t *seq, struct store_error *err)
{
	MDB_txn *txn;
	clearerr_(err);
	int rc = txn_begin(s, MDB_RDONLY, &txn);
	if (rc)
		return mdb_fail(err, rc, "read transaction");
	rc = last_seq_txn(s, txn, seq, err);
	mdb_txn_abort(txn);
	return rc;
}

int store_used_bytes(struct store *s, uint64_t *bytes, struct store_error *err)
{
	MDB_envinfo info;
	MDB_stat st;
	int rc = mdb_env_info(s->env, &info);
	if (rc == 0)
		rc = mdb_env_stat(s->env, &st);
	if (rc)
		return mdb_fail(err, rc, "store size");
	*bytes = ((uint64_t)info.me_last_pgno + 1) * st.ms_psize;
	return DDI_EOK;
}

int store_last_seq_in(struct store *s, struct store_txn *tx, uint64_t *seq,
                      struct store_error *err)
{
	if (!tx)
		return store_last_seq(s, seq, err);
	clearerr_(err);
	return last_seq_txn(s, tx->txn, seq, err);
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

int store_batch_begin(struct store *s, struct store_txn **batch, struct store_error *err)
{
	clearerr_(err);
	*batch = malloc(sizeof(**batch));
	if (!*batch)
		return seterr(err, DDI_ENOMEM, -1, "out of memory");
	int rc = txn_open(s, NULL, true, *batch, err);
	if (rc) {
		free(*batch);
		*batch = NULL;
	}
	return rc;
}

int store_batch_end(struct store_txn *batch, bool commit, struct store_error *err)
{
	clearerr_(err);
	if (!batch || batch->parent || !batch->write)
		return seterr(err, DDI_EINVAL, -1, "no batch");
	if (batch->child)
		return seterr(err, DDI_EINVAL, -1, "the batch has a nested transaction open");
	int rc = txn_close(batch, commit, err);
	free(batch);
	return rc;
}
