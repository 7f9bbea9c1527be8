/* test_ipam_meta -- tags, tenant and custom fields: the model's rules, version 2 values, JSON and the NetBox CSV columns */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "control/ipam/csv.h"
#include "control/ipam/ipam.h"
#include "dns/errcode.h"

static void test_tags(void **state)
{
	(void)state;
	struct ipam_meta m = { 0 };
	struct ipam_error e;
	char joined[IPAM_TAGS_STRLEN], t[IPAM_TAG_MAX + 8];
	assert_true(ipam_meta_empty(&m));
	assert_int_equal(ipam_meta_tag_add(&m, "prod", &e), DDI_EOK);
	assert_int_equal(ipam_meta_tag_add(&m, "edge", &e), DDI_EOK);
	assert_int_equal(ipam_meta_tag_add(&m, "prod", &e), DDI_EOK);   /* present: no change */
	assert_int_equal(m.ntags, 2);
	assert_string_equal(m.tags[0], "edge");   /* kept sorted */
	assert_false(ipam_meta_empty(&m));
	ipam_meta_tags_join(&m, joined);
	assert_string_equal(joined, "edge,prod");
	/* refused, and nothing changes */
	assert_int_equal(ipam_meta_tag_add(&m, "", &e), DDI_EINVAL);
	assert_int_equal(ipam_meta_tag_add(&m, "a,b", &e), DDI_EINVAL);
	assert_int_equal(ipam_meta_tag_add(&m, " lead", &e), DDI_EINVAL);
	assert_int_equal(ipam_meta_tag_add(&m, "tab\there", &e), DDI_EINVAL);
	assert_int_equal(ipam_meta_tag_add(&m, "bad\xff", &e), DDI_EINVAL);
	memset(t, 'x', IPAM_TAG_MAX + 1);
	t[IPAM_TAG_MAX + 1] = '\0';
	assert_int_equal(ipam_meta_tag_add(&m, t, &e), DDI_EINVAL);
	t[IPAM_TAG_MAX] = '\0';
	assert_int_equal(ipam_meta_tag_add(&m, t, &e), DDI_EOK);   /* exactly the bound */
	assert_int_equal(ipam_meta_tag_add(&m, "r\xc3\xa9seau", &e), DDI_EOK);   /* UTF-8 */
	assert_int_equal(m.ntags, 4);
	assert_int_equal(ipam_meta_tag_del(&m, "edge", &e), DDI_EOK);
	assert_int_equal(ipam_meta_tag_del(&m, "edge", &e), DDI_ENOENT);
	assert_int_equal(m.ntags, 3);
	for (int i = 0; m.ntags < IPAM_TAGS_MAX; i++) {
		snprintf(t, sizeof(t), "t%02d", i);
		assert_int_equal(ipam_meta_tag_add(&m, t, &e), DDI_EOK);
	}
	assert_int_equal(ipam_meta_tag_add(&m, "one-more", &e), DDI_ELIMIT);
	assert_int_equal(m.ntags, IPAM_TAGS_MAX);
	assert_int_equal(ipam_meta_check(&m, &e), DDI_EOK);

	/* the same tags added in any order (and removed again) are the same bytes */
	struct ipam_meta x = { 0 }, y = { 0 };
	assert_int_equal(ipam_meta_tag_add(&x, "iiiiiiiiiiiiiiiiiiiiiiiiiiiiii", &e), DDI_EOK);
	assert_int_equal(ipam_meta_tag_add(&x, "Short", &e), DDI_EOK);
	assert_int_equal(ipam_meta_tag_add(&x, "gone", &e), DDI_EOK);
	assert_int_equal(ipam_meta_tag_del(&x, "gone", &e), DDI_EOK);
	assert_int_equal(ipam_meta_field_set(&x, "k", "a long value to be replaced", &e), DDI_EOK);
	assert_int_equal(ipam_meta_field_set(&x, "k", "v", &e), DDI_EOK);
	assert_int_equal(ipam_meta_field_set(&x, "a", "zzzzzzzzzzzz", &e), DDI_EOK);
	assert_int_equal(ipam_meta_field_set(&x, "a", "", &e), DDI_EOK);
	assert_int_equal(ipam_meta_set_tenant(&x, "a longer tenant", &e), DDI_EOK);
	assert_int_equal(ipam_meta_set_tenant(&x, "t", &e), DDI_EOK);
	assert_int_equal(ipam_meta_set_tenant(&y, "t", &e), DDI_EOK);
	assert_int_equal(ipam_meta_field_set(&y, "k", "v", &e), DDI_EOK);
	assert_int_equal(ipam_meta_tag_add(&y, "Short", &e), DDI_EOK);
	assert_int_equal(ipam_meta_tag_add(&y, "iiiiiiiiiiiiiiiiiiiiiiiiiiiiii", &e), DDI_EOK);
	assert_memory_equal(&x, &y, sizeof(x));

	/* a CSV cell */
	struct ipam_meta c = { 0 };
	assert_int_equal(ipam_meta_tags_parse(&c, " b , a,,c ", &e), DDI_EOK);
	ipam_meta_tags_join(&c, joined);
	assert_string_equal(joined, "a,b,c");
	assert_int_equal(ipam_meta_tags_parse(&c, "", &e), DDI_EOK);
	assert_int_equal(c.ntags, 3);
}

static void test_fields_tenant(void **state)
{
	(void)state;
	struct ipam_meta m = { 0 };
	struct ipam_error e;
	char v[IPAM_FIELD_VALUE_MAX + 2], k[IPAM_FIELD_KEY_MAX + 2];
	assert_int_equal(ipam_meta_field_set(&m, "site_code", "FRA1", &e), DDI_EOK);
	assert_int_equal(ipam_meta_field_parse(&m, "rack=r12=b", &e), DDI_EOK);   /* first '=' splits */
	assert_string_equal(ipam_meta_field_get(&m, "rack"), "r12=b");
	assert_string_equal(m.fields[0].key, "rack");   /* sorted by key */
	assert_int_equal(ipam_meta_field_set(&m, "rack", "r13", &e), DDI_EOK);   /* replaced */
	assert_int_equal(m.nfields, 2);
	assert_string_equal(ipam_meta_field_get(&m, "rack"), "r13");
	assert_int_equal(ipam_meta_field_parse(&m, "rack=", &e), DDI_EOK);   /* removed */
	assert_null(ipam_meta_field_get(&m, "rack"));
	assert_int_equal(ipam_meta_field_parse(&m, "gone=", &e), DDI_EOK);   /* absent: no change */
	assert_int_equal(m.nfields, 1);
	/* bad names and values */
	assert_int_equal(ipam_meta_field_parse(&m, "novalue", &e), DDI_EINVAL);
	assert_int_equal(ipam_meta_field_parse(&m, "=x", &e), DDI_EINVAL);
	assert_int_equal(ipam_meta_field_set(&m, "Upper", "x", &e), DDI_EINVAL);
	assert_int_equal(ipam_meta_field_set(&m, "1st", "x", &e), DDI_EINVAL);
	assert_int_equal(ipam_meta_field_set(&m, "has-dash", "x", &e), DDI_EINVAL);
	assert_int_equal(ipam_meta_field_set(&m, "ok", "line\nbreak", &e), DDI_EINVAL);
	memset(k, 'k', IPAM_FIELD_KEY_MAX + 1);
	k[IPAM_FIELD_KEY_MAX + 1] = '\0';
	assert_int_equal(ipam_meta_field_set(&m, k, "x", &e), DDI_EINVAL);
	memset(v, 'v', IPAM_FIELD_VALUE_MAX + 1);
	v[IPAM_FIELD_VALUE_MAX + 1] = '\0';
	assert_int_equal(ipam_meta_field_set(&m, "ok", v, &e), DDI_EINVAL);
	v[IPAM_FIELD_VALUE_MAX] = '\0';
	assert_int_equal(ipam_meta_field_set(&m, "ok", v, &e), DDI_EOK);
	assert_int_equal(m.nfields, 2);
	for (int i = 0; m.nfields < IPAM_FIELDS_MAX; i++) {
		snprintf(k, sizeof(k), "f%02d", i);
		assert_int_equal(ipam_meta_field_set(&m, k, "x", &e), DDI_EOK);
	}
	assert_int_equal(ipam_meta_field_set(&m, "zz", "x", &e), DDI_ELIMIT);
	assert_int_equal(ipam_meta_check(&m, &e), DDI_EOK);

	assert_int_equal(ipam_meta_set_tenant(&m, "acme \xe2\x82\xac", &e), DDI_EOK);
	assert_string_equal(m.tenant, "acme \xe2\x82\xac");
	assert_int_equal(ipam_meta_set_tenant(&m, "bad\x01", &e), DDI_EINVAL);
	char big[IPAM_TENANT_MAX + 2];
	memset(big, 't', sizeof(big) - 1);
	big[sizeof(big) - 1] = '\0';
	assert_int_equal(ipam_meta_set_tenant(&m, big, &e), DDI_EINVAL);
	assert_string_equal(m.tenant, "acme \xe2\x82\xac");

	/* the whole-record check catches what the setters never make */
	struct ipam_meta bad = m;
	strcpy(bad.tags[0], "b");
	strcpy(bad.tags[1], "a");
	bad.ntags = 2;
	assert_int_equal(ipam_meta_check(&bad, &e), DDI_EINVAL);
	bad = m;
	bad.nfields = IPAM_FIELDS_MAX + 1;
	assert_int_equal(ipam_meta_check(&bad, &e), DDI_EINVAL);
	bad = m;
	strcpy(bad.fields[1].key, bad.fields[0].key);
	assert_int_equal(ipam_meta_check(&bad, &e), DDI_EINVAL);
}

static void sample(struct ipam_prefix *p, struct ipam_alloc *a)
{
	struct ipam_error e;
	int f;
	ipam_prefix_init(p);
	assert_int_equal(ipam_cidr_parse("198.18.0.0/24", &p->cidr, &e), DDI_EOK);
	ipam_meta_set_tenant(&p->meta, "acme", &e);
	ipam_meta_tag_add(&p->meta, "prod", &e);
	ipam_meta_field_set(&p->meta, "site_code", "FRA1", &e);
	ipam_alloc_init(a);
	ipam_addr_parse("198.18.0.5", &f, a->addr, &e);
	a->family = 4;
	a->name_len = (uint8_t)ipam_host_name("web5.example.test", a->name, &e);
	ipam_meta_tag_add(&a->meta, "web", &e);
	ipam_meta_tag_add(&a->meta, "tier 1", &e);
	ipam_meta_field_set(&a->meta, "rack", "r\xc3\xa9" "12, \"north\"", &e);
}

static void test_binary_v2(void **state)
{
	(void)state;
	struct ipam_prefix p, p2;
	struct ipam_alloc a, a2;
	uint8_t v[IPAM_VALUE_MAX], buf[IPAM_VALUE_MAX + 1];
	sample(&p, &a);
	int n = ipam_prefix_encode(&p, v, sizeof(v));
	assert_true(n > 0);
	assert_int_equal(v[0], IPAM_VALUE_VERSION_META);
	assert_int_equal(ipam_prefix_decode(v, (size_t)n, &p2), DDI_EOK);
	assert_memory_equal(&p, &p2, sizeof(p));
	n = ipam_alloc_encode(&a, v, sizeof(v));
	assert_true(n > 0);
	assert_int_equal(v[0], IPAM_VALUE_VERSION_META);
	assert_int_equal(ipam_alloc_decode(v, (size_t)n, &a2), DDI_EOK);
	assert_memory_equal(&a, &a2, sizeof(a));
	/* hostile: every truncation, a trailing byte, every single-byte change */
	for (int k = 0; k < n; k++)
		assert_int_equal(ipam_alloc_decode(v, (size_t)k, &a2) < 0, 1);
	memcpy(buf, v, (size_t)n);
	buf[n] = 0;
	assert_int_equal(ipam_alloc_decode(buf, (size_t)n + 1, &a2), DDI_ECORRUPT);
	for (int i = 1; i < n; i++)
		for (int b = 0; b < 256; b += 37) {
			memcpy(buf, v, (size_t)n);
			buf[i] = (uint8_t)b;
			int r = ipam_alloc_decode(buf, (size_t)n, &a2);
			assert_true(r == DDI_EOK || r == DDI_ECORRUPT);
			if (r == DDI_EOK)
				assert_int_equal(ipam_alloc_check(&a2, NULL), DDI_EOK);
		}
	/* a version 2 value with empty metadata is not what the encoder writes: corrupt */
	struct ipam_alloc plain = a;
	memset(&plain.meta, 0, sizeof(plain.meta));
	n = ipam_alloc_encode(&plain, v, sizeof(v));
	assert_int_equal(v[0], IPAM_VALUE_VERSION);   /* no metadata: still version 1 */
	memcpy(buf, v, (size_t)n);
	buf[0] = IPAM_VALUE_VERSION_META;
	buf[n] = buf[n + 1] = buf[n + 2] = 0;
	assert_int_equal(ipam_alloc_decode(buf, (size_t)n + 3, &a2), DDI_ECORRUPT);
	/* an encoder refuses a record whose metadata does not check */
	a.meta.ntags = IPAM_TAGS_MAX + 1;
	assert_int_equal(ipam_alloc_encode(&a, v, sizeof(v)), DDI_EINVAL);
}

static void test_json_meta(void **state)
{
	(void)state;
	struct ipam_prefix p, p2;
	struct ipam_alloc a, a2;
	struct ipam_error e;
	sample(&p, &a);
	json_t *j = ipam_alloc_to_json(&a);
	char *s = json_dumps(json_object_get(j, "fields"), JSON_COMPACT | JSON_ENSURE_ASCII);
	assert_string_equal(s, "{\"rack\":\"r\\u00E912, \\\"north\\\"\"}");
	free(s);
	assert_int_equal(json_array_size(json_object_get(j, "tags")), 2);
	assert_int_equal(ipam_alloc_from_json(j, &a2, &e), DDI_EOK);
	assert_memory_equal(&a, &a2, sizeof(a));
	json_decref(j);
	j = ipam_prefix_to_json(&p);
	assert_string_equal(json_string_value(json_object_get(j, "tenant")), "acme");
	assert_int_equal(ipam_prefix_from_json(j, &p2, &e), DDI_EOK);
	assert_memory_equal(&p, &p2, sizeof(p));
	/* bad members name themselves */
	json_object_set_new(j, "tags", json_pack("[s, i]", "a", 1));
	assert_int_equal(ipam_prefix_from_json(j, &p2, &e), DDI_EINVAL);
	json_object_set_new(j, "tags", json_string("a,b"));
	assert_int_equal(ipam_prefix_from_json(j, &p2, &e), DDI_EINVAL);
	assert_non_null(strstr(e.msg, "'tags'"));
	json_object_set_new(j, "tags", json_array());
	json_object_set_new(j, "fields", json_pack("{s:s}", "Bad-Key", "x"));
	assert_int_equal(ipam_prefix_from_json(j, &p2, &e), DDI_EINVAL);
	json_object_set_new(j, "fields", json_pack("{s:i}", "k", 1));
	assert_int_equal(ipam_prefix_from_json(j, &p2, &e), DDI_EINVAL);
	json_object_set_new(j, "fields", json_object());
	json_object_set_new(j, "tenant", json_integer(3));
	assert_int_equal(ipam_prefix_from_json(j, &p2, &e), DDI_EINVAL);
	json_decref(j);
}

struct rows {
	size_t n;
	struct ipam_csv_row r[4];
	size_t nignored;
	char ignored[8][48];
};

static int collect(void *ctx, const struct ipam_csv_row *row, struct ipam_error *err)
{
	(void)err;
	struct rows *g = ctx;
	if (g->n < 4)
		g->r[g->n++] = *row;
	g->nignored = row->nignored;
	for (size_t i = 0; i < row->nignored && i < 8; i++)
		snprintf(g->ignored[i], sizeof(g->ignored[i]), "%s", row->ignored[i]);
	return DDI_EOK;
}

static void test_csv_columns(void **state)
{
	(void)state;
	struct ipam_error e;
	struct rows *g = calloc(1, sizeof(*g));
	/* NetBox's export: tags and tenant kept, cf_* kept as fields, id/site/vlan reported */
	const char *in =
		"Prefix,Status,Tenant,Site,Tags,cf_site_code,cf_dns_zone\n"
		"198.18.0.0/24,active,acme,FRA1,\"prod, edge\",FRA1,\n"
		"\n"
		"ID,Address,DNS name,Tags,Tenant,VLAN,cf_rack,cf_owner\n"
		"7,198.18.0.5/24,web5.example.test,web,acme,,r12,alice\n";
	assert_int_equal(ipam_csv_read_mem(in, strlen(in), "nb.csv", collect, g, &e), DDI_EOK);
	assert_int_equal(g->n, 2);
	const struct ipam_prefix *p = &g->r[0].prefix;
	assert_string_equal(p->meta.tenant, "acme");
	assert_int_equal(p->meta.ntags, 2);
	assert_string_equal(p->meta.tags[0], "edge");
	assert_string_equal(ipam_meta_field_get(&p->meta, "site_code"), "FRA1");
	assert_int_equal(p->zone_len, 0);   /* cf_dns_zone is ddiplane's own column, empty */
	const struct ipam_alloc *a = &g->r[1].alloc;
	assert_string_equal(ipam_meta_field_get(&a->meta, "rack"), "r12");
	assert_null(ipam_meta_field_get(&a->meta, "owner"));   /* cf_owner is the owner column */
	assert_string_equal(a->owner, "alice");
	assert_int_equal(g->r[0].table, 1);
	assert_int_equal(g->r[1].table, 2);
	assert_int_equal(g->nignored, 2);
	assert_string_equal(g->ignored[0], "ID");
	assert_string_equal(g->ignored[1], "VLAN");

	/* bad values name the line and column; a bad custom field name is an error */
	const char *bad[] = {
		"prefix,tags\n198.18.0.0/24,\"a,\xff\"\n",
		"prefix,cf_Bad-Name\n198.18.0.0/24,x\n",
		"prefix,cf_x,cf_X\n198.18.0.0/24,1,2\n",
		"prefix,tenant\n198.18.0.0/24,\"a\x01\"\n",
		"prefix,tenantt\n198.18.0.0/24,a\n",
	};
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		g->n = 0;
		assert_int_equal(ipam_csv_read_mem(bad[i], strlen(bad[i]), "bad.csv", collect, g, &e),
		                 DDI_ESYNTAX);
		assert_non_null(strstr(e.msg, "bad.csv:"));
	}

	/* the writer: tags, tenant, the cf_ columns given, quoting; read back equal */
	struct ipam_prefix wp;
	struct ipam_alloc wa;
	struct ipam_csv_keys pk = { 0 }, ak = { 0 };
	sample(&wp, &wa);
	assert_int_equal(ipam_csv_keys_add(&pk, &wp.meta), DDI_EOK);
	assert_int_equal(ipam_csv_keys_add(&ak, &wa.meta), DDI_EOK);
	assert_int_equal(ipam_csv_keys_add(&ak, &wa.meta), DDI_EOK);   /* a union: once each */
	assert_int_equal(ak.n, 1);
	char *buf = NULL;
	size_t len = 0;
	FILE *out = open_memstream(&buf, &len);
	assert_int_equal(ipam_csv_write_prefix_header(out, &pk), DDI_EOK);
	assert_int_equal(ipam_csv_write_prefix(out, &wp, &pk), DDI_EOK);
	fputs("\n", out);
	assert_int_equal(ipam_csv_write_alloc_header(out, &ak), DDI_EOK);
	assert_int_equal(ipam_csv_write_alloc(out, &wa, 24, &ak), DDI_EOK);
	fclose(out);
	assert_string_equal(buf,
		"prefix,status,description,dns_zone,dns_policy,tags,tenant,cf_site_code\n"
		"198.18.0.0/24,active,,,off,prod,acme,FRA1\n"
		"\n"
		"address,status,dns_name,description,mac_address,client_id,owner,lease_expires,tags,"
		"tenant,cf_rack\n"
		"198.18.0.5/24,active,web5.example.test,,,,,,\"tier 1,web\",,\"r\xc3\xa9" "12, "
		"\"\"north\"\"\"\n");
	g->n = 0;
	assert_int_equal(ipam_csv_read_mem(buf, len, "rt.csv", collect, g, &e), DDI_EOK);
	assert_int_equal(g->n, 2);
	assert_memory_equal(&g->r[0].prefix.meta, &wp.meta, sizeof(wp.meta));
	assert_memory_equal(&g->r[1].alloc.meta, &wa.meta, sizeof(wa.meta));
	free(buf);

	/* more custom field names than a table has columns for */
	struct ipam_csv_keys many = { 0 };
	struct ipam_meta m = { 0 };
	for (int i = 0; i < IPAM_CSV_KEYS_MAX / IPAM_FIELDS_MAX + 1; i++) {
		memset(&m, 0, sizeof(m));
		for (int k = 0; k < IPAM_FIELDS_MAX; k++) {
			char key[16];
			snprintf(key, sizeof(key), "k%d_%d", i, k);
			ipam_meta_field_set(&m, key, "x", &e);
		}
		int r = ipam_csv_keys_add(&many, &m);
		assert_int_equal(r, i < IPAM_CSV_KEYS_MAX / IPAM_FIELDS_MAX ? DDI_EOK : DDI_ELIMIT);
	}
	free(g);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_tags),
		cmocka_unit_test(test_fields_tenant),
		cmocka_unit_test(test_binary_v2),
		cmocka_unit_test(test_json_meta),
		cmocka_unit_test(test_csv_columns),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
