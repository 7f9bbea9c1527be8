/* xfr/catalog -- the catalog zone (RFC 9432 version 2) generated from the store's zone list */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "control/store/store.h"
#include "control/xfr/xfr.h"
#include "dns/errcode.h"
#include "dns/rdata.h"
#include "dns/wire.h"

/*
 * The catalog is a zone of the store that the control plane writes: the
 * NOTIFY thread regenerates it whenever the list of members changes
 * (xfr_catalog_sync, one ZONE_REPLACE commit, actor "catalog"), so it is
 * in the index (SOA queries over UDP are answered: a secondary's refresh
 * asks them first), transferred by AXFR and by IXFR from its differences,
 * NOTIFYed on each new serial and guarded by its ACL like any zone:
 *   CATALOG           0 SOA  invalid. invalid. SERIAL 3600 600 2147483646 0
 *   CATALOG           0 NS   invalid.               (RFC 9432 4.1: NS, invalid.)
 *   version.CATALOG   0 TXT  "2"                    (4.2.1: schema version 2)
 *   ID.zones.CATALOG  0 PTR  member.                (4.2.2: one per member zone)
 * A member is a zone other than the catalog whose ACL lets someone transfer
 * it (prefixes or keys): a zone nobody may transfer is of no use to a
 * consumer, which would only fail to refresh it. ID is the FNV-1a 64 hash
 * of the member's lower-case wire name in hex: stable while the zone
 * exists, so a consumer keeps its copy (4.1: a new unique ID means "a new
 * zone, start over"). SERIAL is the store's: a replace that changes
 * something advances it (store.h, ZONE_REPLACE).
 */

#define CAT_TTL 0

static const uint8_t INVALID[] = "\7invalid";

struct member_walk {
	struct store *s;
	struct store_txn *txn;
	const uint8_t *catalog;
	int (*cb)(void *ctx, const uint8_t *apex);
	void *ctx;
};

static int acl_cb(void *ctx, const uint8_t *name, const char *json, size_t len)
{
	bool *ok = ctx;
	struct xfr_acl *acl = malloc(sizeof(*acl));
	char err[128];
	(void)name;
	*ok = acl && xfr_acl_parse(acl, json, len, err, sizeof(err)) == 0 &&
	      (acl->nnets || acl->nkeys);
	free(acl);
	return 0;
}

static int member_cb(void *ctx, const struct store_zone_info *zi)
{
	struct member_walk *w = ctx;
	struct store_error e;
	bool ok = false;
	if (dns_name_equal(zi->apex, w->catalog))
		return 0;
	int rc = store_acl_get(w->s, w->txn, zi->apex, acl_cb, &ok, &e);
	if (rc && rc != DDI_ENOENT)
		return rc;
	return ok && zi->has_soa ? w->cb(w->ctx, zi->apex) : 0;
}

/* Each member zone in canonical order. */
static int members(struct store *s, struct store_txn *txn, const uint8_t *catalog,
                   int (*cb)(void *ctx, const uint8_t *apex), void *ctx)
{
	struct store_error e;
	struct member_walk w = { s, txn, catalog, cb, ctx };
	return store_zone_list_in(s, txn, false, member_cb, &w, &e);
}

static uint64_t fnv1a(const uint8_t *p, size_t n, uint64_t h)
{
	for (size_t i = 0; i < n; i++)
		h = (h ^ p[i]) * 0x100000001b3ull;
	return h;
}

/* `label` then the catalog name: "\4zones" + catalog, "\7version" + catalog ... */
static bool under(uint8_t out[DNS_NAME_MAXLEN], const uint8_t *labels, size_t llen,
                  const uint8_t *catalog)
{
	size_t cl = dns_name_len(catalog);
	if (llen + cl > DNS_NAME_MAXLEN)
		return false;
	memcpy(out, labels, llen);
	memcpy(out + llen, catalog, cl);
	return true;
}

/* The SOA of a generated catalog: serial 1, the store advances it on each change. */
static uint16_t catalog_soa(uint8_t *rdata)
{
	size_t p = 0;
	memcpy(rdata, INVALID, sizeof(INVALID));   /* MNAME, then RNAME: invalid. */
	p += sizeof(INVALID);
	memcpy(rdata + p, INVALID, sizeof(INVALID));
	p += sizeof(INVALID);
	dns_put32(rdata + p, 1);
	dns_put32(rdata + p + 4, 3600);
	dns_put32(rdata + p + 8, 600);
	dns_put32(rdata + p + 12, 2147483646);
	dns_put32(rdata + p + 16, 0);
	return (uint16_t)(p + 20);
}

struct body {
	const uint8_t *catalog;
	xfr_rr_fn cb;
	void *ctx;
};

static int member_rr(void *ctx, const uint8_t *apex)
{
	struct body *b = ctx;
	uint8_t owner[DNS_NAME_MAXLEN], lab[1 + 16 + 6];
	char hex[17];
	uint8_t lc[DNS_NAME_MAXLEN];
	size_t al = dns_name_len(apex);
	memcpy(lc, apex, al);
	dns_name_lower(lc);
	snprintf(hex, sizeof(hex), "%016llx", (unsigned long long)fnv1a(lc, al, 0xcbf29ce484222325ull));
	lab[0] = 16;
	memcpy(lab + 1, hex, 16);
	memcpy(lab + 17, "\5zones", 6);
	if (!under(owner, lab, sizeof(lab), b->catalog))
		return 0;   /* a catalog name too long for members: none can be listed */
	return b->cb(b->ctx, owner, DNS_T_PTR, CAT_TTL, apex, (uint16_t)al);
}

static int catalog_body(struct store *s, struct store_txn *txn, const uint8_t *catalog,
                     xfr_rr_fn cb, void *ctx)
{
	uint8_t owner[DNS_NAME_MAXLEN];
	static const uint8_t ver[] = "\1" "2";
	int rc = cb(ctx, catalog, DNS_T_NS, CAT_TTL, INVALID, sizeof(INVALID));
	if (rc)
		return rc;
	if (under(owner, (const uint8_t *)"\7version", 8, catalog) &&
	    (rc = cb(ctx, owner, DNS_T_TXT, CAT_TTL, ver, 2)) != 0)
		return rc;
	struct body b = { catalog, cb, ctx };
	return members(s, txn, catalog, member_rr, &b);
}

static int digest_cb(void *ctx, const uint8_t *apex)
{
	uint64_t *h = ctx;
	*h = fnv1a(apex, dns_name_len(apex), *h);
	return 0;
}

int xfr_catalog_digest(struct store *s, const uint8_t *catalog, uint64_t *digest)
{
	struct store_error e;
	struct store_txn *txn;
	int rc = store_read_begin(s, &txn, &e);
	if (rc)
		return rc;
	*digest = 0xcbf29ce484222325ull;
	rc = members(s, txn, catalog, digest_cb, digest);
	store_read_end(txn);
	return rc;
}

/* The RRs of the new catalog, copied (the read transaction ends before the commit). */
struct gen {
	struct store_rr *rrs;
	size_t n, cap;
	int err;
};

static int gen_rr(void *ctx, const uint8_t *owner, uint16_t type, uint32_t ttl,
                  const uint8_t *rdata, uint16_t rdlen)
{
	struct gen *g = ctx;
	if (g->n == g->cap) {
		size_t nc = g->cap ? g->cap * 2 : 64;
		struct store_rr *r = realloc(g->rrs, nc * sizeof(*r));
		if (!r)
			return DDI_ENOMEM;
		g->rrs = r;
		g->cap = nc;
	}
	size_t ol = dns_name_len(owner);
	uint8_t *mem = malloc(ol + rdlen + 1);
	if (!mem)
		return DDI_ENOMEM;
	memcpy(mem, owner, ol);
	memcpy(mem + ol, rdata, rdlen);
	g->rrs[g->n++] = (struct store_rr){ .owner = mem, .type = type, .ttl = ttl,
	                                    .rdlen = rdlen, .rdata = mem + ol };
	return 0;
}

int xfr_catalog_sync(struct store *s, const uint8_t *catalog, struct store_error *err)
{
	struct store_txn *txn;
	struct gen g = { 0 };
	uint8_t soa[2 * sizeof(INVALID) + 20];
	uint16_t sl = catalog_soa(soa);
	int rc = gen_rr(&g, catalog, DNS_T_SOA, CAT_TTL, soa, sl);
	if (rc == 0 && (rc = store_read_begin(s, &txn, err)) == 0) {
		rc = catalog_body(s, txn, catalog, gen_rr, &g);
		store_read_end(txn);
	}
	if (rc == 0) {
		struct store_op op = { .kind = STORE_OP_ZONE_REPLACE, .zone = catalog, .rrs = g.rrs,
		                       .nrrs = g.n };
		uint64_t seq;
		rc = store_commit(s, NULL, "catalog", &op, 1, &seq, err);
	}
	for (size_t i = 0; i < g.n; i++)
		free((void *)g.rrs[i].owner);
	free(g.rrs);
	return rc;
}
