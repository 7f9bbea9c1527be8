/* store/journal -- the journal: parse and read entries, follow them with their data, notes */
#include <stdlib.h>
#include <string.h>

#include <jansson.h>
#include <lmdb.h>

#include "control/store/internal.h"
#include "dns/errcode.h"
#include "dns/rdata.h"

/* ------------------------------------------------------------------------ */
/* Commit                                                                   */
/* ------------------------------------------------------------------------ */

const char *const jop_names[] = {
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
	[STORE_J_AUTH_SET] = "auth-set",
	[STORE_J_ACL_SET] = "acl-set",
};

const char *store_jop_name(enum store_jop op)
{
	if (op < STORE_J_ZONE_ADD || op > STORE_J_ACL_SET || !jop_names[op])
		return "?";
	return jop_names[op];
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
	for (int i = STORE_J_ZONE_ADD; i <= STORE_J_ACL_SET; i++)
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
		case STORE_J_AUTH_SET:
		case STORE_J_ACL_SET:
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

int store_journal_note(struct store *s, struct store_txn *parent, const char *actor,
                       const char *text, uint64_t *seq, struct store_error *err)
{
	struct store_error localerr;
	struct cctx c = { .s = s, .err = err ? err : &localerr, .op = -1 };
	struct store_txn tx;
	uint64_t n;
	clearerr_(c.err);
	if (!actor || strlen(actor) > ACTOR_MAX || !text)
		return seterr(c.err, DDI_EINVAL, -1, "actor or text missing, or actor too long");
	int rc = txn_open(s, parent, true, &tx, c.err);
	if (rc)
		return rc;
	c.txn = tx.txn;
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
	int crc = txn_close(&tx, rc == 0, c.err);
	if (rc || crc)
		return rc ? rc : crc;
	if (seq)
		*seq = n;
	return DDI_EOK;
}
