/* ipam_lmdb -- the "used address" oracle over the store's allocations database, inside an LMDB transaction */
#include "control/ipam/lmdb.h"

#include <string.h>

#include "dns/errcode.h"

static void keep_err(struct ipam_lmdb *l, int rc)
{
	if (l->err == 0)
		l->err = rc;
}

/* The key of the integer address v. */
static size_t key_of(int family, ipam_u128 v, uint8_t key[IPAM_KEY_MAX])
{
	uint8_t a[16];
	ipam_addr_from_u128(family, v, a);
	return ipam_alloc_key(family, a, key);
}

/* The address of a cursor key, false when the key is not one of this family's. */
static bool addr_of(int family, const MDB_val *k, ipam_u128 *v)
{
	size_t n = family == 4 ? 4 : 16;
	const uint8_t *p = k->mv_data;
	if (k->mv_size != n + 1 || p[0] != family)
		return false;
	uint8_t a[16] = {0};
	memcpy(a, p + 1, n);
	*v = ipam_addr_to_u128(family, a);
	return true;
}

static ipam_u128 span_of(int family, int plen)
{
	int w = ipam_width(family);
	return w - plen >= 128 ? ~(ipam_u128)0 : (((ipam_u128)1 << (w - plen)) - 1);
}

static uint64_t lmdb_count(void *ctx, int family, const uint8_t *prefix, int plen)
{
	struct ipam_lmdb *l = ctx;
	int w = ipam_width(family);
	if (w == 0 || plen < 0 || plen > w)
		return 0;
	ipam_u128 first = ipam_addr_to_u128(family, prefix) & ~span_of(family, plen);
	ipam_u128 last = first | span_of(family, plen), v;
	uint8_t key[IPAM_KEY_MAX];
	MDB_val k = {.mv_size = key_of(family, first, key), .mv_data = key}, d;
	MDB_cursor *cur;
	uint64_t n = 0;
	int rc = mdb_cursor_open(l->txn, l->dbi, &cur);
	if (rc != MDB_SUCCESS) {
		keep_err(l, rc);
		return 0;
	}
	for (rc = mdb_cursor_get(cur, &k, &d, MDB_SET_RANGE); rc == MDB_SUCCESS;
	     rc = mdb_cursor_get(cur, &k, &d, MDB_NEXT)) {
		if (!addr_of(family, &k, &v) || v > last)
			break;
		n++;
	}
	if (rc != MDB_SUCCESS && rc != MDB_NOTFOUND)
		keep_err(l, rc);
	mdb_cursor_close(cur);
	return n;
}

static int lmdb_next_free(void *ctx, int family, const uint8_t *prefix, int plen,
                          uint64_t skip_low, uint64_t skip_high, uint8_t out[16])
{
	struct ipam_lmdb *l = ctx;
	int w = ipam_width(family);
	if (w == 0 || plen < 0 || plen > w)
		return DDI_EINVAL;
	ipam_u128 span = span_of(family, plen);
	ipam_u128 base = ipam_addr_to_u128(family, prefix) & ~span;
	if ((ipam_u128)skip_low > span || (ipam_u128)skip_high > span - skip_low)
		return DDI_EFULL;
	ipam_u128 a = base + skip_low, last = base + span - skip_high, v;
	uint8_t key[IPAM_KEY_MAX];
	MDB_val k = {.mv_size = key_of(family, a, key), .mv_data = key}, d;
	MDB_cursor *cur;
	int rc = mdb_cursor_open(l->txn, l->dbi, &cur);
	if (rc != MDB_SUCCESS) {
		keep_err(l, rc);
		return DDI_EIO;
	}
	/* Walk the run of allocated addresses that starts at a. */
	int ret = DDI_EOK;
	for (rc = mdb_cursor_get(cur, &k, &d, MDB_SET_RANGE); rc == MDB_SUCCESS;
	     rc = mdb_cursor_get(cur, &k, &d, MDB_NEXT)) {
		if (!addr_of(family, &k, &v) || v != a)
			break;
		if (a == last) {
			ret = DDI_EFULL;
			break;
		}
		a++;
	}
	if (rc != MDB_SUCCESS && rc != MDB_NOTFOUND) {
		keep_err(l, rc);
		ret = DDI_EIO;
	}
	mdb_cursor_close(cur);
	if (ret == DDI_EOK)
		ipam_addr_from_u128(family, a, out);
	return ret;
}

const struct ipam_space_ops ipam_lmdb_ops = {
	.count = lmdb_count,
	.next_free = lmdb_next_free,
};

bool ipam_lmdb_taken(void *ctx, int family, const uint8_t addr[16])
{
	struct ipam_lmdb *l = ctx;
	uint8_t key[IPAM_KEY_MAX];
	MDB_val k = {.mv_size = ipam_alloc_key(family, addr, key), .mv_data = key}, d;
	int rc = mdb_get(l->txn, l->dbi, &k, &d);
	if (rc == MDB_NOTFOUND)
		return false;
	if (rc != MDB_SUCCESS)
		keep_err(l, rc);
	return true;
}
