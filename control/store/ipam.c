/* store/ipam -- the IPAM databases: prefixes, ranges, allocations beside the DNS data */
#include <stdlib.h>
#include <string.h>

#include <jansson.h>
#include <lmdb.h>

#include "control/ipam/ipam.h"
#include "control/ipam/lmdb.h"
#include "control/store/internal.h"
#include "dns/errcode.h"
#include "dns/rdata.h"

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
int ipam_dbis_open(struct store *s, struct store_error *err)
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
	struct store_txn tx;   /* c.txn is tx.txn */
	bool write;
	bool quiet;   /* bulk: records are not journaled one by one (store_ipam_quiet) */
};

struct store_error *store_ipam_error(struct store_ipam *t)
{
	return t->c.err;
}

struct store_txn *store_ipam_txn(struct store_ipam *t)
{
	return &t->tx;
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

/*
 * Is there a prefix of `family` whose key sorts at or below (family, addr,
 * 255)? Every prefix holding addr does (its network address is <= addr), so
 * DDI_ENOENT here spares the one lookup per prefix length below: a dynamic
 * update adding an address where IPAM has no prefix (the common case of a
 * zone without IPAM) costs one cursor seek, not up to 129 gets.
 */
static int prefix_below(struct store_ipam *t, int family, const uint8_t addr[16])
{
	uint8_t key[IPAM_KEY_MAX];
	size_t n = ipam_addr_bytes(family);
	key[0] = (uint8_t)family;
	memcpy(key + 1, addr, n);
	key[1 + n] = 0xff;
	MDB_cursor *cur;
	MDB_val k = { n + 2, key }, v;
	int rc = mdb_cursor_open(t->c.txn, t->c.s->ipam_prefixes, &cur);
	if (rc)
		return c_mdb(&t->c, rc, "ipam_prefixes");
	rc = mdb_cursor_get(cur, &k, &v, MDB_SET_RANGE);
	rc = mdb_cursor_get(cur, &k, &v, rc == 0 ? MDB_PREV : MDB_LAST);
	bool found = rc == 0 && k.mv_size > 0 && ((const uint8_t *)k.mv_data)[0] == family;
	mdb_cursor_close(cur);
	if (rc && rc != MDB_NOTFOUND)
		return c_mdb(&t->c, rc, "ipam_prefixes");
	return found ? DDI_EOK : DDI_ENOENT;
}

int store_ipam_prefix_holding(struct store_ipam *t, int family, const uint8_t addr[16], int maxplen,
                              struct ipam_prefix *out)
{
	int w = ipam_width(family);
	if (!w)
		return seterr(t->c.err, DDI_EINVAL, -1, "family must be 4 or 6");
	if (maxplen > w)
		maxplen = w;
	int rc = prefix_below(t, family, addr);
	if (rc)
		return rc;   /* DDI_ENOENT: no prefix of the family starts at or below addr */
	ipam_u128 a = ipam_addr_to_u128(family, addr);
	for (int plen = maxplen; plen >= 0; plen--) {
		struct ipam_cidr c = { .family = (uint8_t)family, .plen = (uint8_t)plen };
		ipam_u128 mask = plen == 0 ? 0 : ~(ipam_u128)0 << (w - plen);
		if (w == 32)
			mask &= 0xffffffffu;
		ipam_addr_from_u128(family, a & mask, c.addr);
		rc = store_ipam_prefix_get(t, &c, out);
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
	/* quiet (bulk): no JSON built only to be dropped (a record with metadata is ~10 objects) */
	return rc ? rc : t->quiet ? DDI_EOK : ipam_jlog(t, "prefix-put", ipam_prefix_to_json(p));
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
	return rc ? rc : t->quiet ? DDI_EOK : ipam_jlog(t, "alloc-put", ipam_alloc_to_json(a));
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
		/* DNS data only: zones and RRsets (no ZONE_REPLACE, keys, policies or ACLs here) */
		bool dns = ops[i].kind == STORE_OP_ZONE_ADD || ops[i].kind == STORE_OP_ZONE_REMOVE ||
		           ops[i].kind == STORE_OP_RRSET_REPLACE || ops[i].kind == STORE_OP_RRSET_DELETE ||
		           ops[i].kind == STORE_OP_RR_ADD || ops[i].kind == STORE_OP_RR_DELETE ||
		           ops[i].kind == STORE_OP_DYN_REFRESH;
		rc = dns ? commit_op(c, &ops[i])
		         : seterr(c->err, DDI_EINVAL, c->op, "op %zu: kind %d not allowed here", i,
		                  ops[i].kind);
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
int ipam_policy_check(struct cctx *c, const struct store_op *ops, size_t nops, long base)
{
	struct store_ipam t = { .write = true };
	MDB_stat st;
	if (mdb_stat(c->txn, c->s->ipam_prefixes, &st) == 0 && st.ms_entries == 0)
		return DDI_EOK;   /* no IPAM: nothing to check, and bulk loads stay fast */
	for (size_t i = 0; i < nops; i++) {
		const struct store_op *op = &ops[i];
		if ((op->flags & STORE_OPF_TRANSFER) ||   /* the primary's data (store.h) */
		    (op->kind != STORE_OP_RR_ADD && op->kind != STORE_OP_RRSET_REPLACE) ||
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

static int ipam_run(struct store *s, struct store_txn *parent, const char *actor, bool write,
                    store_ipam_fn fn, void *ctx, uint64_t *seq, struct store_error *err)
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
	if ((rc = txn_open(s, parent, write, &t.tx, c->err)) != 0) {
		json_decref(c->jops);
		return rc;
	}
	c->txn = t.tx.txn;
	rc = fn(ctx, &t);
	if (rc < 0 && c->err->code == DDI_EOK)
		seterr(c->err, rc, -1, "%s", ddi_strerror(rc));
	if (rc == 0 && t.tx.child)
		rc = seterr(c->err, DDI_EINVAL, -1, "IPAM: fn left a nested transaction open");
	/*
	 * Bulk: each zone whose RRsets changed is journaled as one
	 * zone-replace (old/new 0), so that a follower reloads it whole
	 * instead of one RRset at a time.
	 */
	for (size_t i = 0; write && c->bulk && i < c->nzones && rc == 0; i++)
		if (c->zones[i].changed && !c->zones[i].removed)
			rc = journal_op(c, STORE_J_ZONE_REPLACE, c->zones[i].z.apex, c->zones[i].z.apex, 0,
			                0, 0);
	if (write && rc == 0)
		rc = commit_finish(c, actor, seq);
	int crc = txn_close(&t.tx, write && rc == 0, c->err);
	cctx_free(c);
	return rc ? rc : crc;
}

int store_ipam_write(struct store *s, struct store_txn *parent, const char *actor,
                     store_ipam_fn fn, void *ctx, uint64_t *seq, struct store_error *err)
{
	return ipam_run(s, parent, actor, true, fn, ctx, seq, err);
}

int store_ipam_read(struct store *s, store_ipam_fn fn, void *ctx, struct store_error *err)
{
	return ipam_run(s, NULL, NULL, false, fn, ctx, NULL, err);
}
