/* test_xfr -- AXFR/IXFR out against a store: framing, SOA first and last, compression, PTR synthesis, ACL, IXFR shapes */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <cmocka.h>

#include "control/store/store.h"
#include "control/xfr/xfr.h"
#include "dns/errcode.h"
#include "dns/name.h"
#include "dns/rdata.h"
#include "dns/wire.h"
#include "dns/zonefile.h"

struct fx {
	char dir[64];
	struct store *s;
	struct xfr_stats st;
	struct xfr_out *x;
};

static int setup(void **state)
{
	struct fx *f = calloc(1, sizeof(*f));
	struct store_options o = { .create = true, .map_size = 64u << 20 };
	struct store_error e;
	snprintf(f->dir, sizeof(f->dir), "/tmp/ddi-test-xfr.XXXXXX");
	if (!mkdtemp(f->dir) || store_open(&f->s, f->dir, &o, &e) != 0)
		return -1;
	f->x = xfr_out_new(f->s, &f->st);
	*state = f;
	return 0;
}

static int teardown(void **state)
{
	struct fx *f = *state;
	char cmd[128];
	xfr_out_free(f->x);
	store_close(f->s);
	snprintf(cmd, sizeof(cmd), "rm -rf '%s'", f->dir);
	assert_int_equal(system(cmd), 0);
	free(f);
	return 0;
}

static const uint8_t *N(const char *s)
{
	static uint8_t bufs[32][DNS_NAME_MAXLEN];
	static unsigned i;
	uint8_t *b = bufs[i++ & 31];
	assert_true(dns_name_from_str(b, s, strlen(s), NULL) > 0);
	return b;
}

static void import(struct fx *f, const char *origin, const char *text)
{
	char path[96];
	struct store_error e;
	snprintf(path, sizeof(path), "%s/z", f->dir);
	FILE *z = fopen(path, "w");
	assert_non_null(z);
	fputs(text, z);
	fclose(z);
	int rc = store_zone_import(f->s, "test", N(origin), path, NULL, &e);
	if (rc)
		fprintf(stderr, "import: %s\n", e.msg);
	assert_int_equal(rc, DDI_EOK);
}

static void acl(struct fx *f, const char *zone, const char *json)
{
	struct store_error e;
	struct store_op op = { .kind = STORE_OP_ACL_SET, .zone = N(zone), .count = 1,
	                       .rdatas = (const uint8_t *)json, .rdatas_len = strlen(json) };
	assert_int_equal(store_commit(f->s, NULL, "test", &op, 1, NULL, &e), DDI_EOK);
}

static void add_a(struct fx *f, const char *owner, uint8_t last)
{
	struct store_error e;
	uint8_t rd[6] = { 0, 4, 198, 18, 1, last };
	struct store_op op = { .kind = STORE_OP_RR_ADD, .owner = N(owner), .type = DNS_T_A,
	                       .ttl = 120, .count = 1, .rdatas = rd, .rdatas_len = 6 };
	assert_int_equal(store_commit(f->s, NULL, "test", &op, 1, NULL, &e), DDI_EOK);
}

/* A query: AXFR, or IXFR with the client's SOA serial in the authority section. */
static size_t query(uint8_t *m, const char *zone, uint16_t qtype, uint32_t serial)
{
	const uint8_t *z = N(zone);
	size_t zl = dns_name_len(z), p = DNS_HDR_LEN;
	memset(m, 0, DNS_HDR_LEN);
	dns_put16(m, 0x1234);
	dns_put16(m + 4, 1);
	memcpy(m + p, z, zl);
	p += zl;
	dns_put16(m + p, qtype);
	dns_put16(m + p + 2, DNS_CLASS_IN);
	p += 4;
	if (qtype == DNS_T_IXFR) {
		dns_put16(m + 8, 1);
		dns_put16(m + p, 0xc00c);
		dns_put16(m + p + 2, DNS_T_SOA);
		dns_put16(m + p + 4, DNS_CLASS_IN);
		dns_put32(m + p + 6, 0);
		dns_put16(m + p + 10, 2 + 2 + 20);
		p += 12;
		dns_put16(m + p, 0xc00c);
		dns_put16(m + p + 2, 0xc00c);
		memset(m + p + 4, 0, 20);
		dns_put32(m + p + 4, serial);
		p += 24;
	}
	return p;
}

/* What came back: messages, rcode of the first, every RR's type/owner/rdata as text. */
struct got {
	unsigned nmsg;
	uint8_t rcode;
	unsigned nrr;
	bool compressed;
	char rrs[64][2200];
	size_t bytes;
};

static int emit(void *ctx, const uint8_t *m, size_t len)
{
	struct got *g = ctx;
	assert_true(len >= DNS_HDR_LEN && len <= 65535);
	assert_int_equal(dns_get16(m), 0x1234);
	assert_true(dns_get16(m + 2) & DNS_QR);
	if (g->nmsg++ == 0)
		g->rcode = (uint8_t)(dns_get16(m + 2) & 0xf);
	g->bytes += len;
	size_t p = DNS_HDR_LEN;
	uint8_t name[DNS_NAME_MAXLEN];
	for (unsigned q = 0; q < dns_get16(m + 4); q++) {
		assert_true(dns_name_parse(m, len, &p, name) > 0);
		p += 4;
	}
	for (unsigned i = 0; i < dns_get16(m + 6); i++) {
		size_t at = p;
		assert_true(dns_name_parse(m, len, &p, name) > 0);
		for (size_t k = at; k < p; k++)
			if ((m[k] & 0xc0) == 0xc0)
				g->compressed = true;
		uint16_t type = dns_get16(m + p), rdlen = dns_get16(m + p + 8);
		p += 10;
		char nb[DNS_NAME_STRLEN], rb[DNS_NAME_STRLEN] = "";
		dns_name_to_str(nb, sizeof(nb), name);
		if (type == DNS_T_SOA)
			snprintf(rb, sizeof(rb), "%u", dns_soa_serial(m + p, rdlen));
		else if (type == DNS_T_PTR)
			dns_name_to_str(rb, sizeof(rb), m + p);
		else if (type == DNS_T_A)
			snprintf(rb, sizeof(rb), "%u.%u.%u.%u", m[p], m[p + 1], m[p + 2], m[p + 3]);
		if (g->nrr < 64)
			snprintf(g->rrs[g->nrr], sizeof(g->rrs[0]), "%s %s %s", nb, dns_type_name(type), rb);
		g->nrr++;
		p += rdlen;
	}
	assert_int_equal(p, len);   /* every byte accounted for (no TSIG here) */
	return 0;
}

static struct got ask(struct fx *f, const char *zone, uint16_t qtype, uint32_t serial,
                      const char *src)
{
	uint8_t q[512], a[16];
	struct got g = { 0 };
	struct xfr_net n;
	assert_int_equal(xfr_net_parse(&n, src), 0);
	memcpy(a, n.addr, 16);
	size_t ql = query(q, zone, qtype, serial);
	assert_int_equal(xfr_out_serve(f->x, q, ql, n.family, a, 0, emit, &g), DDI_EOK);
	return g;
}

static const char ZONE[] = "$ORIGIN example.com.\n@ 3600 SOA ns1 h 100 3600 900 1209600 300\n"
                           "@ 3600 NS ns1\nns1 300 A 198.18.1.1\nwww 300 A 198.18.1.2\n";
static const char REV[] = "$ORIGIN 18.198.in-addr.arpa.\n@ 3600 SOA ns1.example.com. h 7 3600 900 "
                          "1209600 300\n@ 3600 NS ns1.example.com.\n"
                          "2.1 60 PTR stored.example.com.\n";

static void test_axfr(void **state)
{
	struct fx *f = *state;
	import(f, "example.com.", ZONE);
	import(f, "18.198.in-addr.arpa.", REV);
	/* nobody by default: REFUSED */
	struct got g = ask(f, "example.com.", DNS_T_AXFR, 0, "198.18.0.9");
	assert_int_equal(g.rcode, DNS_RCODE_REFUSED);
	assert_int_equal(f->st.refused, 1);
	acl(f, "example.com.", "{\"transfer\":[\"198.18.0.0/24\"]}");
	g = ask(f, "example.com.", DNS_T_AXFR, 0, "198.18.5.9");   /* outside the prefix */
	assert_int_equal(g.rcode, DNS_RCODE_REFUSED);
	g = ask(f, "nope.example.", DNS_T_AXFR, 0, "198.18.0.9");
	assert_int_equal(g.rcode, DNS_RCODE_NOTAUTH);
	g = ask(f, "example.com.", DNS_T_AXFR, 0, "198.18.0.9");
	assert_int_equal(g.rcode, 0);
	assert_int_equal(g.nmsg, 1);
	assert_int_equal(g.nrr, 5);   /* SOA NS A A SOA */
	assert_string_equal(g.rrs[0], "example.com. SOA 100");
	assert_string_equal(g.rrs[4], "example.com. SOA 100");
	assert_string_equal(g.rrs[2], "ns1.example.com. A 198.18.1.1");
	assert_true(g.compressed);
	assert_int_equal(f->st.axfr, 1);
	/* the reverse zone: the stored PTR, and the synthesized one for ns1 (198.18.1.1) */
	acl(f, "18.198.in-addr.arpa.", "{\"transfer\":[\"198.18.0.0/15\"]}");
	g = ask(f, "18.198.in-addr.arpa.", DNS_T_AXFR, 0, "198.18.0.9");
	assert_int_equal(g.rcode, 0);
	assert_int_equal(g.nrr, 5);
	assert_string_equal(g.rrs[2], "2.1.18.198.in-addr.arpa. PTR stored.example.com.");
	assert_string_equal(g.rrs[3], "1.1.18.198.in-addr.arpa. PTR ns1.example.com.");
	assert_string_equal(g.rrs[4], "18.198.in-addr.arpa. SOA 7");
}

/* Many records: several messages, each under 64 KiB, SOA only first and last. */
static void test_axfr_big(void **state)
{
	struct fx *f = *state;
	import(f, "example.com.", ZONE);
	acl(f, "example.com.", "{\"transfer\":[\"198.18.0.0/15\"]}");
	size_t cap = 1 << 20, len = 0;
	char *z = malloc(cap);
	len += (size_t)snprintf(z, cap, "%s", ZONE);
	for (int i = 0; i < 6000; i++)
		len += (size_t)snprintf(z + len, cap - len, "host-%d 300 A 198.18.%d.%d\n", i, 2 + i / 250,
		                        i % 250);
	import(f, "example.com.", z);
	free(z);
	struct got g = ask(f, "example.com.", DNS_T_AXFR, 0, "198.18.0.1");
	assert_true(g.nmsg >= 2);
	assert_int_equal(g.nrr, 6005);
	assert_string_equal(g.rrs[0], "example.com. SOA 101");
	/* compression keeps the zone at ~20 bytes per A record, not ~40 */
	assert_true(g.bytes < 6005 * 30);
}

static void test_ixfr(void **state)
{
	struct fx *f = *state;
	import(f, "example.com.", ZONE);
	acl(f, "example.com.", "{\"transfer\":[\"198.18.0.0/15\"]}");
	add_a(f, "new.example.com.", 7);     /* 100 -> 101 */
	add_a(f, "new2.example.com.", 8);    /* 101 -> 102 */
	struct got g = ask(f, "example.com.", DNS_T_IXFR, 100, "198.18.0.1");
	assert_int_equal(g.rcode, 0);
	static const char *const want[] = {
		"example.com. SOA 102", "example.com. SOA 100", "example.com. SOA 101",
		"new.example.com. A 198.18.1.7", "example.com. SOA 101", "example.com. SOA 102",
		"new2.example.com. A 198.18.1.8", "example.com. SOA 102",
	};
	assert_int_equal(g.nrr, 8);
	for (int i = 0; i < 8; i++)
		assert_string_equal(g.rrs[i], want[i]);
	assert_int_equal(f->st.ixfr, 1);
	/* current: the SOA alone (RFC 1995 2) */
	g = ask(f, "example.com.", DNS_T_IXFR, 102, "198.18.0.1");
	assert_int_equal(g.nrr, 1);
	assert_int_equal(f->st.ixfr_current, 1);
	/* older than the differences: the whole zone, AXFR-style (RFC 1995 4) */
	g = ask(f, "example.com.", DNS_T_IXFR, 50, "198.18.0.1");
	assert_int_equal(g.nrr, 7);
	assert_string_equal(g.rrs[0], "example.com. SOA 102");
	assert_string_equal(g.rrs[1], "example.com. NS ");
	assert_int_equal(f->st.ixfr_axfr, 1);
}

/*
 * An address gaining an owner changes the synthesized PTRs of the reverse
 * zone: its serial advances (secondaries refresh it) and IXFR from before
 * carries just the new PTR (the difference store/diff.c recorded), not the
 * whole zone; losing it removes the PTR the same way.
 */
static void test_reverse_serial(void **state)
{
	struct fx *f = *state;
	import(f, "example.com.", ZONE);
	import(f, "18.198.in-addr.arpa.", REV);
	acl(f, "18.198.in-addr.arpa.", "{\"transfer\":[\"198.18.0.0/15\"]}");
	add_a(f, "new.example.com.", 7);
	struct got g = ask(f, "18.198.in-addr.arpa.", DNS_T_IXFR, 7, "198.18.0.9");
	assert_int_equal(g.rcode, 0);
	static const char *const want[] = {
		"18.198.in-addr.arpa. SOA 8", "18.198.in-addr.arpa. SOA 7", "18.198.in-addr.arpa. SOA 8",
		"7.1.18.198.in-addr.arpa. PTR new.example.com.", "18.198.in-addr.arpa. SOA 8",
	};
	assert_int_equal(g.nrr, 5);
	for (int i = 0; i < 5; i++)
		assert_string_equal(g.rrs[i], want[i]);
	assert_int_equal(f->st.ixfr, 1);
	assert_int_equal(f->st.ixfr_axfr, 0);
	g = ask(f, "18.198.in-addr.arpa.", DNS_T_IXFR, 8, "198.18.0.9");
	assert_int_equal(g.nrr, 1);   /* current */
	struct store_error e;
	uint8_t rd[6] = { 0, 4, 198, 18, 1, 7 };
	struct store_op del = { .kind = STORE_OP_RR_DELETE, .owner = N("new.example.com."),
	                        .type = DNS_T_A, .count = 1, .rdatas = rd, .rdatas_len = 6 };
	assert_int_equal(store_commit(f->s, NULL, "test", &del, 1, NULL, &e), DDI_EOK);
	g = ask(f, "18.198.in-addr.arpa.", DNS_T_IXFR, 8, "198.18.0.9");
	static const char *const gone[] = {
		"18.198.in-addr.arpa. SOA 9", "18.198.in-addr.arpa. SOA 8",
		"7.1.18.198.in-addr.arpa. PTR new.example.com.", "18.198.in-addr.arpa. SOA 9",
		"18.198.in-addr.arpa. SOA 9",
	};
	assert_int_equal(g.nrr, 5);
	for (int i = 0; i < 5; i++)
		assert_string_equal(g.rrs[i], gone[i]);
}

/* The catalog zone (RFC 9432): members are the zones someone may transfer; rewritten on change. */
/*
 * An SOA query (what the TCP server routes here when it is TSIG-signed: a
 * secondary's refresh) is answered with the zone's SOA, whatever the
 * transfer ACL; a name below the apex is no zone: NOTAUTH.
 */
static void test_soa_query(void **state)
{
	struct fx *f = *state;
	import(f, "example.com.", ZONE);
	struct got g = ask(f, "example.com.", DNS_T_SOA, 0, "203.0.113.9");
	assert_int_equal(g.rcode, 0);
	assert_int_equal(g.nmsg, 1);
	assert_int_equal(g.nrr, 1);
	assert_string_equal(g.rrs[0], "example.com. SOA 100");
	assert_int_equal(f->st.refused, 0);
	g = ask(f, "www.example.com.", DNS_T_SOA, 0, "203.0.113.9");
	assert_int_equal(g.rcode, DNS_RCODE_NOTAUTH);
	assert_int_equal(g.nrr, 0);
}

/*
 * xfr_out_check: the checks alone, on the TCP server's query loop. An
 * allowed AXFR/IXFR emits nothing and says "run it" (XFR_OUT_RUN); with
 * `full` the same request is answered REFUSED and counted apart from the
 * ACL's refusals; what the checks refuse is answered and counted as
 * xfr_out_serve would; a signed SOA query is answered here.
 */
static struct got check(struct fx *f, const char *zone, uint16_t qtype, const char *src, bool full,
                        int want)
{
	uint8_t q[512], a[16];
	struct got g = { 0 };
	struct xfr_net n;
	assert_int_equal(xfr_net_parse(&n, src), 0);
	memcpy(a, n.addr, 16);
	size_t ql = query(q, zone, qtype, 100);
	assert_int_equal(xfr_out_check(f->x, q, ql, n.family, a, 0, full, emit, &g), want);
	return g;
}

static void test_check(void **state)
{
	struct fx *f = *state;
	import(f, "example.com.", ZONE);
	acl(f, "example.com.", "{\"transfer\": [\"198.18.0.0/15\"]}");
	struct got g = check(f, "example.com.", DNS_T_AXFR, "198.18.0.2", false, XFR_OUT_RUN);
	assert_int_equal(g.nmsg, 0);
	g = check(f, "example.com.", DNS_T_IXFR, "198.18.0.2", false, XFR_OUT_RUN);
	assert_int_equal(g.nmsg, 0);
	assert_int_equal(f->st.axfr + f->st.ixfr + f->st.messages, 0);   /* nothing served yet */

	/* over the limit: REFUSED at once, one message, counted as such and not as the ACL's */
	g = check(f, "example.com.", DNS_T_AXFR, "198.18.0.2", true, 0);
	assert_int_equal(g.nmsg, 1);
	assert_int_equal(g.rcode, DNS_RCODE_REFUSED);
	assert_int_equal(g.nrr, 0);
	assert_int_equal(f->st.out_refused_limit, 1);
	assert_int_equal(f->st.refused, 0);

	/* the ACL refuses first, full or not: counted as the ACL's refusal */
	g = check(f, "example.com.", DNS_T_AXFR, "203.0.113.9", true, 0);
	assert_int_equal(g.rcode, DNS_RCODE_REFUSED);
	assert_int_equal(f->st.refused, 1);
	assert_int_equal(f->st.out_refused_limit, 1);
	g = check(f, "example.org.", DNS_T_AXFR, "198.18.0.2", false, 0);
	assert_int_equal(g.rcode, DNS_RCODE_NOTAUTH);
	assert_int_equal(f->st.notauth, 1);
	g = check(f, "example.com.", DNS_T_SOA, "198.18.0.2", true, 0);   /* the SOA: answered here */
	assert_int_equal(g.nrr, 1);
	assert_string_equal(g.rrs[0], "example.com. SOA 100");
	assert_int_equal(f->st.out_running, 0);

	/* not even a header: nothing emitted, an error for the caller */
	uint8_t bad[4] = { 0 };
	assert_true(xfr_out_check(f->x, bad, sizeof(bad), 4, (const uint8_t *)"\xc6\x12\0\2", 0,
	                          false, emit, &g) < 0);
}

/*
 * The emitter's time bound (the TCP server's -ETIMEDOUT) ends the transfer
 * and is counted apart from other failures (out_timeout, within aborted);
 * a failure of the connection is aborted alone; out_running is back to 0.
 */
static int emit_fail_after;
static int emit_fail_code;
static int emit_failing(void *ctx, const uint8_t *m, size_t len)
{
	(void)m;
	(void)len;
	int *n = ctx;
	return (*n)++ >= emit_fail_after ? emit_fail_code : 0;
}

static void test_timeout(void **state)
{
	struct fx *f = *state;
	import(f, "example.com.", ZONE);
	acl(f, "example.com.", "{\"transfer\": [\"198.18.0.0/15\"]}");
	uint8_t q[512], a[4] = { 198, 18, 0, 2 };
	size_t ql = query(q, "example.com.", DNS_T_AXFR, 0);
	int n = 0;
	emit_fail_after = 0;
	emit_fail_code = -ETIMEDOUT;
	assert_int_equal(xfr_out_serve(f->x, q, ql, 4, a, 0, emit_failing, &n), -ETIMEDOUT);
	assert_int_equal(f->st.out_timeout, 1);
	assert_int_equal(f->st.aborted, 1);
	assert_int_equal(f->st.failed, 0);
	assert_int_equal(f->st.out_running, 0);
	n = 0;
	emit_fail_code = -EPIPE;
	assert_int_equal(xfr_out_serve(f->x, q, ql, 4, a, 0, emit_failing, &n), DDI_EIO);
	assert_int_equal(f->st.out_timeout, 1);
	assert_int_equal(f->st.aborted, 2);
	assert_int_equal(f->st.out_running, 0);
}

static void test_catalog(void **state)
{
	struct fx *f = *state;
	struct store_error e;
	import(f, "example.com.", ZONE);
	import(f, "18.198.in-addr.arpa.", REV);
	acl(f, "example.com.", "{\"transfer\":[\"198.18.0.0/24\"]}");
	static const char cacl[] = "{\"transfer\":[\"198.18.0.0/24\"]}";
	struct store_op op = { .kind = STORE_OP_ACL_SET, .flags = STORE_OPF_NO_ZONE,
	                       .zone = N("catalog.invalid."), .count = 1,
	                       .rdatas = (const uint8_t *)cacl, .rdatas_len = strlen(cacl) };
	assert_int_equal(store_commit(f->s, NULL, "test", &op, 1, NULL, &e), DDI_EOK);
	assert_int_equal(xfr_catalog_sync(f->s, N("catalog.invalid."), &e), DDI_EOK);
	struct got g = ask(f, "catalog.invalid.", DNS_T_AXFR, 0, "198.18.0.9");
	assert_int_equal(g.rcode, 0);
	assert_int_equal(g.nrr, 5);   /* SOA NS version-TXT one-member-PTR SOA */
	assert_string_equal(g.rrs[0], "catalog.invalid. SOA 1");
	assert_non_null(strstr(g.rrs[3], ".zones.catalog.invalid. PTR example.com."));
	/* the reverse zone becomes transferable: a second member, a newer serial */
	acl(f, "18.198.in-addr.arpa.", "{\"transfer\":[\"198.18.0.0/15\"]}");
	assert_int_equal(xfr_catalog_sync(f->s, N("catalog.invalid."), &e), DDI_EOK);
	g = ask(f, "catalog.invalid.", DNS_T_AXFR, 0, "198.18.0.9");
	assert_int_equal(g.nrr, 6);
	assert_string_equal(g.rrs[0], "catalog.invalid. SOA 2");
	/* nothing changed: no new serial */
	assert_int_equal(xfr_catalog_sync(f->s, N("catalog.invalid."), &e), DDI_EOK);
	g = ask(f, "catalog.invalid.", DNS_T_IXFR, 2, "198.18.0.9");
	assert_int_equal(g.nrr, 1);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_axfr, setup, teardown),
		cmocka_unit_test_setup_teardown(test_axfr_big, setup, teardown),
		cmocka_unit_test_setup_teardown(test_ixfr, setup, teardown),
		cmocka_unit_test_setup_teardown(test_reverse_serial, setup, teardown),
		cmocka_unit_test_setup_teardown(test_soa_query, setup, teardown),
		cmocka_unit_test_setup_teardown(test_catalog, setup, teardown),
		cmocka_unit_test_setup_teardown(test_check, setup, teardown),
		cmocka_unit_test_setup_teardown(test_timeout, setup, teardown),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
