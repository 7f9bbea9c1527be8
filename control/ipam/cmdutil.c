/* ipam_cmdutil -- what the IPAM commands share: the request being served, argument readers, replies, DNS records */
#include "control/ipam/cmdutil.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "dns/errcode.h"
#include "dns/name.h"
#include "dns/rdata.h"
#include "dns/wire.h"

/* ------------------------------------------------------------------------ */
/* Small helpers                                                            */
/* ------------------------------------------------------------------------ */

uint64_t ic_now(void)
{
	return (uint64_t)time(NULL);
}

json_t *ic_u128_json(ipam_u128 v)
{
	if (v <= (ipam_u128)INT64_MAX)
		return json_integer((json_int_t)v);
	char b[48];
	ipam_u128_format(v, b, sizeof(b));
	return json_string(b);
}

/* A request being served: arguments, a reason for failures. */

int ic_fail(struct icmd *q, int code, const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(q->err, sizeof(q->err), fmt, ap);
	va_end(ap);
	q->code = code;
	return code;
}

const char *ic_str(struct icmd *q, const char *key, bool required)
{
	json_t *v = json_object_get(q->args, key);
	if (!v || json_is_null(v)) {
		if (required)
			ic_fail(q, DDI_EINVAL, "missing argument \"%s\"", key);
		return NULL;
	}
	if (!json_is_string(v)) {
		ic_fail(q, DDI_EINVAL, "argument \"%s\" must be a string", key);
		return NULL;
	}
	return json_string_value(v);
}

bool ic_cidr(struct icmd *q, const char *key, struct ipam_cidr *c)
{
	const char *s = ic_str(q, key, true);
	struct ipam_error e = { 0 };
	if (!s)
		return false;
	if (ipam_cidr_parse(s, c, &e) < 0) {
		ic_fail(q, e.code, "%s", e.msg);
		return false;
	}
	return true;
}

bool ic_addr(struct icmd *q, const char *key, int *family, uint8_t addr[16])
{
	const char *s = ic_str(q, key, true);
	struct ipam_error e = { 0 };
	if (!s)
		return false;
	if (ipam_addr_parse(s, family, addr, &e) < 0) {
		ic_fail(q, e.code, "%s", e.msg);
		return false;
	}
	return true;
}

bool ic_desc(struct icmd *q, char out[IPAM_DESC_MAX + 1])
{
	const char *s = ic_str(q, "description", false);
	if (q->err[0])
		return false;
	struct ipam_error ie = { 0 };
	if (s && ipam_check_text(s, IPAM_DESC_MAX, "the description", &ie) < 0) {
		ic_fail(q, DDI_EINVAL, "%s", ie.msg);
		return false;
	}
	if (s) {
		memset(out, 0, IPAM_DESC_MAX + 1);
		memcpy(out, s, strlen(s));
	}
	return true;
}

/* The reply of a request after its transaction returned rc. */
json_t *ic_reply(struct icmd *q, int rc, struct store_error *e, uint64_t seq)
{
	if (rc) {
		json_decref(q->out);
		const char *msg = q->err[0] ? q->err : e && e->msg[0] ? e->msg : ddi_strerror(rc);
		return cmd_reply(CMD_ERROR, NULL, "%s", msg);
	}
	json_t *args = q->out ? q->out : json_object();
	if (seq && args)
		json_object_set_new(args, "seq", json_integer((json_int_t)seq));
	return cmd_reply(CMD_OK, args, "%s", q->text);
}

/* Keep the store's reason when a store call failed without ours. */
int ic_st_fail(struct icmd *q, struct store_ipam *t, int rc)
{
	if (!q->err[0]) {
		struct store_error *e = store_ipam_error(t);
		ic_fail(q, rc, "%s", e->msg[0] ? e->msg : ddi_strerror(rc));
	}
	return rc;
}

const char *ic_cidr_s(const struct ipam_cidr *c, char b[IPAM_CIDR_STRLEN])
{
	if (ipam_cidr_format(c, b, IPAM_CIDR_STRLEN) < 0)
		snprintf(b, IPAM_CIDR_STRLEN, "?");
	return b;
}

const char *ic_addr_s(int family, const uint8_t *a, char b[IPAM_ADDR_STRLEN])
{
	if (ipam_addr_format(family, a, b, IPAM_ADDR_STRLEN) < 0)
		snprintf(b, IPAM_ADDR_STRLEN, "?");
	return b;
}

/*
 * The "used addresses" oracle: the server's published index when the
 * hooks give one (O(prefix length) counts), else the allocations database
 * (ddictl --db: a cursor walk). ic_space_leave() must follow ic_space_enter().
 */

void ic_space_enter(struct icmd *q, struct store_ipam *t, struct ic_space *sp)
{
	store_ipam_oracle(t, &sp->l);
	sp->h = q->ctx->hooks;
	const struct idx_version *v = NULL;
	if (sp->h && sp->h->index_enter && sp->h->index_leave)
		v = sp->h->index_enter(sp->h->ctx);
	if (!v)
		sp->h = NULL;
	sp->ops = v ? &ipam_index_ops : &ipam_lmdb_ops;
	sp->ctx = v ? (void *)v : (void *)&sp->l;
}

void ic_space_leave(struct ic_space *sp)
{
	if (sp->h)
		sp->h->index_leave(sp->h->ctx);
	sp->h = NULL;
}

/* ------------------------------------------------------------------------ */
/* Reverse zones and DNS records                                            */
/* ------------------------------------------------------------------------ */

/* Create every missing reverse zone of prefix c (SOA only: PTRs come from the index). */
int ic_reverse_zones(struct icmd *q, struct store_ipam *t, const struct ipam_cidr *c,
                         json_t *created)
{
	struct ipam_cidr z[256];
	size_t n = 0;
	int rc = ipam_reverse_zones(c, z, 256, &n);
	if (rc < 0)
		return ic_fail(q, rc, "no reverse zones for this prefix");
	for (size_t i = 0; i < n; i++) {
		uint8_t apex[DNS_NAME_MAXLEN], rd[2 + 2 * DNS_NAME_MAXLEN + 20];
		if (ipam_reverse_name(&z[i], apex) < 0)
			return ic_fail(q, DDI_EINVAL, "no reverse name");
		if (store_ipam_zone_exists(t, apex))
			continue;
		/* SOA: MNAME the apex, RNAME hostmaster.<apex> (fits: reverse apexes are short) */
		size_t al = dns_name_len(apex), off = 2;
		memcpy(rd + off, apex, al);
		off += al;
		static const uint8_t hm[] = { 10, 'h', 'o', 's', 't', 'm', 'a', 's', 't', 'e', 'r' };
		if (al + sizeof(hm) > DNS_NAME_MAXLEN)
			return ic_fail(q, DDI_EINVAL, "reverse zone name too long");
		memcpy(rd + off, hm, sizeof(hm));
		memcpy(rd + off + sizeof(hm), apex, al);
		off += sizeof(hm) + al;
		static const uint32_t nums[5] = { 1, 3600, 900, 1209600, 300 };
		for (int k = 0; k < 5; k++, off += 4)
			dns_put32(rd + off, nums[k]);
		dns_put16(rd, (uint16_t)(off - 2));
		struct store_op ops[2] = {
			{ .kind = STORE_OP_ZONE_ADD, .zone = apex },
			{ .kind = STORE_OP_RRSET_REPLACE, .zone = apex, .owner = apex, .type = DNS_T_SOA,
			  .ttl = IPAM_TTL, .count = 1, .rdatas = rd, .rdatas_len = off },
		};
		if ((rc = store_ipam_dns(t, ops, 2)) != 0)
			return ic_st_fail(q, t, rc);
		char nb[DNS_NAME_STRLEN];
		if (created && dns_name_to_str(nb, sizeof(nb), apex) > 0)
			json_array_append_new(created, json_string(nb));
	}
	return DDI_EOK;
}

/* Add (add) or delete the A/AAAA record name -> addr in the same transaction. */
int ic_host_record(struct icmd *q, struct store_ipam *t, const uint8_t *name, int family,
                       const uint8_t addr[16], bool add)
{
	uint8_t rd[18];
	size_t n = family == 4 ? 4 : 16;
	dns_put16(rd, (uint16_t)n);
	memcpy(rd + 2, addr, n);
	struct store_op op = { .kind = add ? STORE_OP_RR_ADD : STORE_OP_RR_DELETE,
	                       .flags = add ? 0 : STORE_OPF_MISSING_OK, .owner = name,
	                       .type = family == 4 ? DNS_T_A : DNS_T_AAAA, .ttl = IPAM_TTL,
	                       .count = 1, .rdatas = rd, .rdatas_len = n + 2 };
	int rc = store_ipam_dns(t, &op, 1);
	return rc ? ic_st_fail(q, t, rc) : DDI_EOK;
}

int ic_name_zone(struct icmd *q, struct store_ipam *t, const uint8_t *name,
                 uint8_t apex[DNS_NAME_MAXLEN])
{
	struct store_error e = { 0 };
	char nb[DNS_NAME_STRLEN];
	int rc = store_zone_of(q->ctx->store, store_ipam_txn(t), name, apex, &e);
	if (rc == DDI_ENOZONE) {
		if (dns_name_to_str(nb, sizeof(nb), name) < 0)
			snprintf(nb, sizeof(nb), "?");
		return ic_fail(q, rc, "%s is in no served zone (add its zone first, or use --no-dns)", nb);
	}
	if (rc)
		return ic_fail(q, rc, "%s", e.msg[0] ? e.msg : ddi_strerror(rc));
	return DDI_EOK;
}

/* Every string of an array argument, to fn; false with q's reason on a bad one. */
static bool each_str(struct icmd *q, struct ipam_meta *m, const char *key,
                     int (*fn)(struct ipam_meta *, const char *, struct ipam_error *), bool *changed)
{
	json_t *arr = json_object_get(q->args, key), *v;
	struct ipam_error ie = { 0 };
	size_t i;
	if (!arr || json_is_null(arr))
		return true;
	if (!json_is_array(arr) || json_array_size(arr) > IPAM_TAGS_MAX) {
		ic_fail(q, DDI_EINVAL, "argument \"%s\" must be an array of at most %d strings", key,
		        IPAM_TAGS_MAX);
		return false;
	}
	json_array_foreach(arr, i, v) {
		if (!json_is_string(v) || strlen(json_string_value(v)) != json_string_length(v)) {
			ic_fail(q, DDI_EINVAL, "argument \"%s\" must be an array of strings", key);
			return false;
		}
		if (fn(m, json_string_value(v), &ie) < 0) {
			ic_fail(q, DDI_EINVAL, "%s", ie.msg);
			return false;
		}
	}
	*changed = true;
	return true;
}

bool ic_meta(struct icmd *q, struct ipam_meta *m, bool *changed)
{
	struct ipam_error ie = { 0 };
	const char *tenant = ic_str(q, "tenant", false);
	*changed = false;
	if (q->err[0])
		return false;
	if (tenant) {
		if (ipam_meta_set_tenant(m, tenant, &ie) < 0) {
			ic_fail(q, DDI_EINVAL, "%s", ie.msg);
			return false;
		}
		*changed = true;
	}
	if (!each_str(q, m, "tags", ipam_meta_tag_add, changed) ||
	    !each_str(q, m, "untag", ipam_meta_tag_del, changed))
		return false;
	json_t *f = json_object_get(q->args, "fields"), *v;
	const char *k;
	if (!f || json_is_null(f))
		return true;
	if (!json_is_object(f) || json_object_size(f) > 2 * IPAM_FIELDS_MAX) {
		ic_fail(q, DDI_EINVAL, "argument \"fields\" must be an object of at most %d strings",
		        2 * IPAM_FIELDS_MAX);
		return false;
	}
	json_object_foreach(f, k, v) {
		if (!json_is_string(v) || strlen(json_string_value(v)) != json_string_length(v)) {
			ic_fail(q, DDI_EINVAL, "custom field \"%.50s\" must be a string", k);
			return false;
		}
		if (ipam_meta_field_set(m, k, json_string_value(v), &ie) < 0) {
			ic_fail(q, DDI_EINVAL, "%s", ie.msg);
			return false;
		}
	}
	*changed = true;
	return true;
}
