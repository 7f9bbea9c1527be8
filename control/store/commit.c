/* store/commit -- the commit context, the journal entry of a commit, store_commit, store_transact, zone import */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <jansson.h>
#include <lmdb.h>

#include "control/store/internal.h"
#include "dns/errcode.h"
#include "dns/rdata.h"
#include "dns/zonefile.h"

int c_nomem(struct cctx *c)
{
	return seterr(c->err, DDI_ENOMEM, c->op, "out of memory");
}

int c_mdb(struct cctx *c, int rc, const char *what)
{
	return seterr(c->err, mdb_code(rc), c->op, "%s: %s", what, mdb_strerror(rc));
}

int buf_need(struct cctx *c, size_t n)
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

int journal_op(struct cctx *c, enum store_jop op, const uint8_t *zone, const uint8_t *owner,
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

struct tzone *touch_zone(struct cctx *c, const struct zrec *z)
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

int touch_owner(struct cctx *c, const uint8_t *okey, size_t oklen)
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

/* Checks of one name after all ops: CNAME alone, RRsets per name. */
int owner_check(struct cctx *c, const struct towner *t)
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
int towner_cmp(const void *a, const void *b)
{
	const struct towner *x = a, *y = b;
	if (x->len != y->len)
		return x->len < y->len ? -1 : 1;
	int r = memcmp(x->key, y->key, x->len);
	if (r)
		return r;
	return x->op > y->op ? -1 : x->op < y->op;
}

/* A secondary zone without SOA must hold nothing at all (store.h, "Secondary zones"). */
static int zone_empty_check(struct cctx *c, struct tzone *tz)
{
	char zb[DNS_NAME_STRLEN];
	struct subzones sz;
	struct zscan zs = { 0 };
	int rc = subzones_load(c->s, c->txn, tz->z.key, tz->z.klen - 1, &sz, c->err);
	if (rc)
		return rc;
	if ((rc = mdb_cursor_open(c->txn, c->s->rrsets, &zs.cur)) != 0) {
		subzones_free(&sz);
		return c_mdb(c, rc, "rrsets");
	}
	zs.ak = tz->z.key;
	zs.aklen = tz->z.klen - 1;
	zs.sz = &sz;
	rc = zscan_next(&zs);
	mdb_cursor_close(zs.cur);
	subzones_free(&sz);
	if (rc < 0)
		return seterr(c->err, rc, tz->op, "rrsets scan: %s", ddi_strerror(rc));
	if (rc == 1)
		return seterr(c->err, DDI_ESOA, tz->op, "secondary zone %s has data but no SOA",
		              nstr(zb, tz->z.apex));
	return DDI_EOK;
}

/* After all ops: each zone still there has one SOA; advance serials. */
int zone_finish(struct cctx *c, struct tzone *tz)
{
	char zb[DNS_NAME_STRLEN];
	struct rrval soa;
	uint16_t oldcount;
	int rc = rrset_read(c, tz->z.key, tz->z.klen - 1, DNS_T_SOA, &soa);
	if (rc == DDI_ENOENT && (tz->z.flags & STORE_ZONE_SECONDARY))
		return zone_empty_check(c, tz);   /* before the first transfer, or expired */
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
	if (tz->soa_explicit || tz->added || !tz->changed || (tz->z.flags & STORE_ZONE_SECONDARY))
		return DDI_EOK;   /* a secondary's serial is its primary's */
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

int journal_write(struct cctx *c, const char *actor, uint64_t *seqp)
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

/* One op of a commit (c->op already names it for the error). */
int commit_op(struct cctx *c, const struct store_op *op)
{
	switch (op->kind) {
	case STORE_OP_ZONE_ADD:
		return op_zone_add(c, op);
	case STORE_OP_ZONE_REMOVE:
		return op_zone_remove(c, op);
	case STORE_OP_ZONE_REPLACE:
		return op_zone_replace(c, op);
	case STORE_OP_RRSET_REPLACE:
	case STORE_OP_RRSET_DELETE:
	case STORE_OP_RR_ADD:
	case STORE_OP_RR_DELETE:
		return op_rrset(c, op);
	case STORE_OP_KEY_ADD:
	case STORE_OP_KEY_REMOVE:
	case STORE_OP_POLICY_SET:
		return op_key(c, op);
	case STORE_OP_AUTH_SET:
		return op_auth(c, op);
	case STORE_OP_ACL_SET:
		return op_acl(c, op);
	case STORE_OP_DYN_REFRESH:
		return op_dyn_refresh(c, op);
	default:
		return seterr(c->err, DDI_EINVAL, c->op, "op %ld: unknown kind %d", c->op, op->kind);
	}
}

/* The ops of a commit, in order. */
static int commit_ops(struct cctx *c, const struct store_op *ops, size_t nops)
{
	int rc = DDI_EOK;
	for (size_t i = 0; i < nops && rc == 0; i++) {
		c->op = (long)i;
		rc = commit_op(c, &ops[i]);
	}
	return rc;
}

int commit_finish(struct cctx *c, const char *actor, uint64_t *seq)
{
	int rc = DDI_EOK;
	/* each name once, blamed on the last op that touched it */
	if (c->nowners > 1)
		qsort(c->owners, c->nowners, sizeof(*c->owners), towner_cmp);
	for (size_t i = 0; i < c->nowners && rc == 0; i++)
		if (i == 0 || c->owners[i - 1].len != c->owners[i].len ||
		    memcmp(c->owners[i - 1].key, c->owners[i].key, c->owners[i].len) != 0)
			rc = owner_check(c, &c->owners[i]);
	for (size_t i = 0; i < c->nzones && rc == 0; i++)
		if (!c->zones[i].removed)
			rc = zone_finish(c, &c->zones[i]);
	uint64_t jseq = 0;
	if (rc == 0)
		rc = journal_write(c, actor, &jseq);
	if (rc == 0 && seq)
		*seq = jseq;
	if (rc == 0)
		rc = diff_finish(c, jseq);
	return rc;
}

void cctx_free(struct cctx *c)
{
	json_decref(c->jops);
	json_decref(c->jipam);
	free(c->zones);
	free(c->owners);
	free(c->buf);
	free(c->caps);
	free(c->acaps);
	free(c->darena);
}

int store_commit(struct store *s, struct store_txn *parent, const char *actor,
                 const struct store_op *ops, size_t nops, uint64_t *seq, struct store_error *err)
{
	struct store_error localerr;
	struct cctx c = { .s = s, .err = err ? err : &localerr, .op = -1 };
	struct store_txn t;
	int rc;

	clearerr_(c.err);
	if (!actor || strlen(actor) > ACTOR_MAX)
		return seterr(c.err, DDI_EINVAL, -1, "actor missing or longer than %d bytes", ACTOR_MAX);
	if (nops && !ops)
		return seterr(c.err, DDI_EINVAL, -1, "no ops");
	c.jops = json_array();
	if (!c.jops)
		return seterr(c.err, DDI_ENOMEM, -1, "out of memory");
	if ((rc = txn_open(s, parent, true, &t, c.err)) != 0) {
		json_decref(c.jops);
		return rc;
	}
	c.txn = t.txn;
	rc = commit_ops(&c, ops, nops);
	if (rc == 0)
		rc = ipam_policy_check(&c, ops, nops, 0);
	if (rc == 0)
		rc = commit_finish(&c, actor, seq);
	int crc = txn_close(&t, rc == 0, c.err);
	cctx_free(&c);
	return rc ? rc : crc;
}

int store_transact(struct store *s, struct store_txn *parent, const char *actor, store_txn_fn fn,
                   void *arg, uint64_t *seq, struct store_error *err)
{
	struct store_error localerr;
	const struct store_op *ops = NULL;
	size_t nops = 0;
	struct store_txn t;
	if (!err)
		err = &localerr;
	clearerr_(err);
	int rc = txn_open(s, parent, true, &t, err);
	if (rc)
		return rc;
	rc = fn(arg, &t, &ops, &nops);
	if (rc == 0 && t.child)
		rc = seterr(err, DDI_EINVAL, -1, "store_transact: fn left a nested transaction open");
	else if (rc == 0 && nops > 0)
		rc = store_commit(s, &t, actor, ops, nops, seq, err);
	else if (rc == 0 && seq)
		rc = last_seq_txn(s, t.txn, seq, err);
	int crc = txn_close(&t, rc == 0, err);
	return rc ? rc : crc;
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
	rc = store_commit(s, NULL, actor, &op, 1, seq, err);
	if (rc && err) {
		char tmp[sizeof(err->msg)];
		memcpy(tmp, err->msg, sizeof(tmp));
		if (snprintf(err->msg, sizeof(err->msg), "%s: %s", path, tmp) >= (int)sizeof(err->msg))
			err->msg[sizeof(err->msg) - 2] = '~';   /* cut: say so */
	}
	collect_free(&cl);
	return rc;
}
