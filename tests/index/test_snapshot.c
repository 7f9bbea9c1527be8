/* test_snapshot -- index versions: ENTs, delegations, apexes, address leaves, copy-on-write, QSBR readers */
#include <malloc.h>
#include <pthread.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <cmocka.h>
#include <urcu-qsbr.h>
#if defined(__SANITIZE_ADDRESS__)
#include <sanitizer/asan_interface.h>
#endif

#include "dns/errcode.h"
#include "dns/name.h"
#include "index/answer.h"
#include "index/snapshot.h"
#include "tests/tools/testdns.h"

/*
 * White-box: the test is built with snapshot.c itself (the library's copy
 * is then not linked), to reach the writer's stamp and test its wrap.
 */
#include "index/snapshot.c"

#define T_A 1
#define T_NS 2
#define T_TXT 16
#define T_AAAA 28

/* Wire form of a presentation name (static buffers, a few in rotation). */
static const uint8_t *W(const char *s)
{
	static __thread uint8_t buf[8][DNS_NAME_MAXLEN];
	static __thread int next;
	uint8_t *b = buf[next++ % 8];
	assert_true(dns_name_from_str(b, s, strlen(s), NULL) > 0);
	return b;
}

/* The owner of a node as idx_node_owner spells it (static buffers, a few in rotation). */
static const uint8_t *OWN(const struct idx_node *n)
{
	static __thread uint8_t buf[8][DNS_NAME_MAXLEN];
	static __thread int next;
	uint8_t *b = buf[next++ % 8];
	size_t len = idx_node_owner(n, b);
	assert_int_equal(len, dns_name_len(b));
	return b;
}

static const struct idx_node *find(const struct idx_version *v, const char *name)
{
	uint8_t key[DNS_KEY_MAXLEN];
	int klen = dns_name_to_key(key, W(name));
	assert_true(klen >= 0);
	return idx_find(v, key, (size_t)klen);
}

/* One A or AAAA RR set from addresses. */
static int set_addrs(struct idx_txn *t, const char *owner, uint16_t type, uint32_t ttl, int n,
                     const uint8_t (*addrs)[16])
{
	uint8_t buf[64 * 18];
	size_t alen = type == T_A ? 4 : 16, len = 0;
	for (int k = 0; k < n; k++) {
		buf[len++] = 0;
		buf[len++] = (uint8_t)alen;
		memcpy(buf + len, addrs[k], alen);
		len += alen;
	}
	return idx_txn_rrset_set(t, W(owner), type, ttl, (uint16_t)n, n ? buf : NULL, len);
}

static int set_a(struct idx_txn *t, const char *owner, uint32_t ttl, uint32_t addr)
{
	uint8_t a[1][16] = { { (uint8_t)(addr >> 24), (uint8_t)(addr >> 16), (uint8_t)(addr >> 8),
	                       (uint8_t)addr } };
	return set_addrs(t, owner, T_A, ttl, 1, a);
}

static int set_txt(struct idx_txn *t, const char *owner, const char *text)
{
	uint8_t buf[300];
	size_t n = strlen(text);
	buf[0] = 0;
	buf[1] = (uint8_t)(n + 1);
	buf[2] = (uint8_t)n;
	memcpy(buf + 3, text, n);
	return idx_txn_rrset_set(t, W(owner), T_TXT, 300, 1, buf, n + 3);
}

static int set_ns(struct idx_txn *t, const char *owner, const char *target)
{
	uint8_t buf[300];
	const uint8_t *w = W(target);
	size_t n = dns_name_len(w);
	buf[0] = (uint8_t)(n >> 8);
	buf[1] = (uint8_t)n;
	memcpy(buf + 2, w, n);
	return idx_txn_rrset_set(t, W(owner), T_NS, 3600, 1, buf, n + 2);
}

static int del_rrset(struct idx_txn *t, const char *owner, uint16_t type)
{
	return idx_txn_rrset_set(t, W(owner), type, 0, 0, NULL, 0);
}

/* The test thread is registered once (main) and offline between tests,
 * also after a failed test left it online. */
static void setup_thread(void)
{
	if (rcu_read_ongoing())
		rcu_thread_offline();
}

static void teardown_thread(void)
{
	if (rcu_read_ongoing())
		rcu_thread_offline();
}

/* The node layout readers rely on: sorted RRsets, RR blobs, owner. */
static void test_node_layout(void **state)
{
	(void)state;
	setup_thread();
	struct idx *ix = idx_new();
	struct idx_txn *t = idx_txn_begin(ix);
	assert_non_null(t);
	assert_null(idx_txn_begin(ix));   /* one transaction at a time */
	assert_int_equal(idx_txn_zone_add(t, W("Example.COM")), 0);
	assert_int_equal(idx_txn_zone_add(t, W("example.com")), DDI_EEXIST);
	assert_int_equal(set_txt(t, "Host.Example.com", "hi"), 0);
	uint8_t two[2][16] = { { 198, 18, 0, 1 }, { 198, 18, 0, 2 } };
	assert_int_equal(set_addrs(t, "host.example.com", T_A, 600, 2, two), 0);
	assert_int_equal(idx_txn_commit(t, 42), 0);

	rcu_thread_online();
	const struct idx_version *v = idx_acquire(ix);
	assert_int_equal(idx_version_seq(v), 42);
	assert_int_equal(idx_version_generation(v), 1);
	assert_int_equal(idx_version_nodes(v), 2);
	const struct idx_node *n = find(v, "HOST.example.com");
	assert_non_null(n);
	assert_int_equal(n->flags, 0);
	assert_int_equal(n->nrrsets, 2);
	/* The owner keeps the spelling of its first write. */
	assert_memory_equal(OWN(n), W("Host.Example.com"), 18);
	assert_int_equal(n->rrsets[0].type, T_A);
	assert_int_equal(n->rrsets[1].type, T_TXT);
	const struct idx_rrset *rs = idx_node_rrset(n, T_A);
	assert_ptr_equal(rs, &n->rrsets[0]);
	assert_null(idx_node_rrset(n, T_AAAA));
	assert_int_equal(rs->count, 2);
	assert_int_equal(idx_rrset_ttl(n, rs), 600);
	assert_int_equal(rs->len, 2 * 16);
	static const uint8_t blob[] = { 0xc0, 0x0c, 0, 1, 0, 1, 0, 0, 0x02, 0x58, 0, 4, 198, 18, 0, 1,
	                                0xc0, 0x0c, 0, 1, 0, 1, 0, 0, 0x02, 0x58, 0, 4, 198, 18, 0, 2 };
	assert_memory_equal(idx_rrset_blob(n, rs), blob, sizeof(blob));
	uint32_t pos = 0;
	uint16_t rrlen;
	const uint8_t *rr = idx_rrset_next(n, rs, &pos, &rrlen);
	assert_ptr_equal(rr, idx_rrset_blob(n, rs) + 2);
	assert_int_equal(rrlen, 14);
	rr = idx_rrset_next(n, rs, &pos, &rrlen);
	assert_non_null(rr);
	assert_int_equal(rr[13], 2);
	assert_null(idx_rrset_next(n, rs, &pos, &rrlen));
	/* 8-byte entries, the stored owner (mixed case) after them, the blobs end to end */
	assert_true(idx_node_has_owner(n));
	assert_int_equal(n->blobs_off, 8 + 2 * 8 + 18);
	const struct idx_rrset *txt = idx_node_rrset(n, T_TXT);
	assert_ptr_equal(idx_rrset_blob(n, txt), idx_rrset_blob(n, rs) + rs->len);
	static const uint8_t tblob[] = { 0xc0, 0x0c, 0, 16, 0, 1, 0, 0, 0x01, 0x2c, 0, 3, 2, 'h', 'i' };
	assert_int_equal(txt->len, sizeof(tblob));
	assert_memory_equal(idx_rrset_blob(n, txt), tblob, sizeof(tblob));
	assert_int_equal(idx_rrset_ttl(n, txt), 300);
	assert_int_equal(node_block_len(key_of_node(n)),
	                 (n->key_off & NODE_KEY_OFF_MASK) + n->blobs_off + 32 + sizeof(tblob));
	/* a leaf is sized to its family: 8 + 8 per owner for IPv4, 24 + 8 for IPv6 */
	const struct idx_addr *l4 = idx_addr_find(v, 4, two[1]);
	assert_non_null(l4);
	assert_int_equal(idx_addr_len(l4->family, l4->nowners), 16);
	assert_ptr_equal(idx_addr_owner(l4, 0), n);
	assert_int_equal(idx_addr_ttl(l4), 600);
	assert_int_equal(idx_addr_len(6, 2), 40);
	const struct idx_node *apex = find(v, "example.com");
	assert_non_null(apex);
	assert_int_equal(apex->flags, IDX_NODE_APEX);
	assert_int_equal(apex->nrrsets, 0);
	assert_memory_equal(OWN(apex), W("Example.COM"), 13);
	rcu_thread_offline();
	idx_free(ix);
	teardown_thread();
}

static int count_cb(void *ctx, const struct idx_node *n)
{
	(void)n;
	(*(int *)ctx)++;
	return 0;
}

static void test_ent_deleg_outzone(void **state)
{
	(void)state;
	setup_thread();
	struct idx *ix = idx_new();
	struct idx_txn *t = idx_txn_begin(ix);
	const struct idx_version *v = idx_txn_version(t);

	assert_int_equal(set_a(t, "a.example.com", 60, 0xc6120001), DDI_EOUTZONE);
	assert_int_equal(idx_txn_zone_add(t, W("example.com")), 0);
	assert_int_equal(set_a(t, "a.example.org", 60, 0xc6120001), DDI_EOUTZONE);
	assert_int_equal(set_a(t, "example.com.zz", 60, 0xc6120001), DDI_EOUTZONE);
	assert_int_equal(set_a(t, "x.example.com", 0x80000000U, 0xc6120001), DDI_ETTL);
	uint8_t bad[] = { 0, 5, 1, 2, 3, 4, 5 };
	assert_int_equal(idx_txn_rrset_set(t, W("x.example.com"), T_A, 60, 1, bad, sizeof(bad)),
	                 DDI_ERDATA);
	assert_int_equal(idx_txn_rrset_set(t, W("x.example.com"), T_TXT, 60, 1, bad, 6), DDI_ERDATA);
	assert_int_equal(idx_txn_rrset_set(t, W("x.example.com"), T_TXT, 60, 2, bad, 7), DDI_ERDATA);
	assert_int_equal(idx_txn_rrset_set(t, W("x.example.com"), 255, 60, 1, bad, 7), DDI_ERDATA);
	assert_int_equal(idx_txn_rrset_set(t, W("x.example.com"), 0, 60, 1, bad, 7), DDI_ERDATA);
	uint8_t badname[] = { 0xc0, 0x0c };   /* compressed: not a stored name */
	assert_true(idx_txn_rrset_set(t, badname, T_TXT, 60, 1, bad, 7) < 0);
	assert_int_equal(idx_version_nodes(v), 1);

	/* Deep name: every ancestor below the apex becomes an ENT. */
	assert_int_equal(set_txt(t, "a.b.c.example.com", "deep"), 0);
	assert_int_equal(idx_version_nodes(v), 4);
	assert_int_equal(find(v, "c.example.com")->flags, IDX_NODE_ENT);
	assert_int_equal(find(v, "b.c.example.com")->flags, IDX_NODE_ENT);
	assert_int_equal(find(v, "b.c.example.com")->nrrsets, 0);
	assert_memory_equal(OWN(find(v, "b.c.example.com")), W("b.c.example.com"), 17);
	assert_int_equal(find(v, "a.b.c.example.com")->flags, 0);
	/* Data at an ENT turns it into a normal node; removing it back to ENT. */
	assert_int_equal(set_txt(t, "c.example.com", "c"), 0);
	assert_int_equal(find(v, "c.example.com")->flags, 0);
	assert_int_equal(set_txt(t, "x.b.c.example.com", "x"), 0);
	assert_int_equal(idx_version_nodes(v), 5);
	assert_int_equal(del_rrset(t, "a.b.c.example.com", T_TXT), 0);
	assert_null(find(v, "a.b.c.example.com"));
	assert_int_equal(find(v, "b.c.example.com")->flags, IDX_NODE_ENT);   /* x still below */
	assert_int_equal(del_rrset(t, "c.example.com", T_TXT), 0);
	assert_int_equal(find(v, "c.example.com")->flags, IDX_NODE_ENT);
	assert_int_equal(del_rrset(t, "x.b.c.example.com", T_TXT), 0);
	assert_null(find(v, "x.b.c.example.com"));
	assert_null(find(v, "b.c.example.com"));
	assert_null(find(v, "c.example.com"));
	assert_int_equal(idx_version_nodes(v), 1);
	assert_int_equal(del_rrset(t, "nothing.example.com", T_TXT), 0);   /* no-op */

	/* Delegation: NS below the apex; not at the apex. */
	assert_int_equal(set_ns(t, "example.com", "ns1.example.com"), 0);
	assert_int_equal(find(v, "example.com")->flags, IDX_NODE_APEX);
	assert_int_equal(set_ns(t, "sub.example.com", "ns.sub.example.com"), 0);
	assert_int_equal(set_a(t, "ns.sub.example.com", 60, 0xc6120035), 0);
	assert_int_equal(find(v, "sub.example.com")->flags, IDX_NODE_DELEG);
	assert_int_equal(set_txt(t, "sub.example.com", "t"), 0);
	assert_int_equal(find(v, "sub.example.com")->flags, IDX_NODE_DELEG);
	assert_int_equal(del_rrset(t, "sub.example.com", T_NS), 0);
	assert_int_equal(find(v, "sub.example.com")->flags, 0);
	assert_int_equal(del_rrset(t, "sub.example.com", T_TXT), 0);
	assert_int_equal(find(v, "sub.example.com")->flags, IDX_NODE_ENT);
	/* The apex keeps existing with no data. */
	assert_int_equal(del_rrset(t, "example.com", T_NS), 0);
	assert_int_equal(find(v, "example.com")->flags, IDX_NODE_APEX);

	int all = 0, below = 0;
	assert_int_equal(idx_walk(v, NULL, 0, count_cb, &all), 0);
	assert_int_equal(all, 3);
	uint8_t key[DNS_KEY_MAXLEN];
	int klen = dns_name_to_key(key, W("sub.example.com"));
	assert_int_equal(idx_walk(v, key, (size_t)klen, count_cb, &below), 0);
	assert_int_equal(below, 2);
	assert_int_equal(idx_txn_commit(t, 1), 0);
	idx_free(ix);
	teardown_thread();
}

static void test_nested_zones(void **state)
{
	(void)state;
	setup_thread();
	struct idx *ix = idx_new();
	struct idx_txn *t = idx_txn_begin(ix);
	const struct idx_version *v = idx_txn_version(t);

	/* The inner zone first, the outer after: the names between become ENTs. */
	assert_int_equal(idx_txn_zone_add(t, W("a.b.example.com")), 0);
	assert_int_equal(set_a(t, "h.a.b.example.com", 60, 0xc6120009), 0);
	assert_null(find(v, "b.example.com"));
	assert_int_equal(idx_txn_zone_add(t, W("example.com")), 0);
	assert_int_equal(find(v, "b.example.com")->flags, IDX_NODE_ENT);
	assert_int_equal(set_a(t, "www.example.com", 60, 0xc612000a), 0);
	assert_int_equal(idx_version_nodes(v), 5);
	/* A zone under a served one, over an existing name. */
	assert_int_equal(idx_txn_zone_add(t, W("www.example.com")), 0);
	assert_int_equal(find(v, "www.example.com")->flags, IDX_NODE_APEX);
	assert_int_equal(find(v, "www.example.com")->nrrsets, 1);

	/* Deleting the inner zone drops its names, its address and the ENT. */
	assert_int_equal(idx_txn_zone_del(t, W("a.b.example.com")), 0);
	assert_null(find(v, "a.b.example.com"));
	assert_null(find(v, "h.a.b.example.com"));
	assert_null(find(v, "b.example.com"));
	uint8_t a9[4] = { 198, 18, 0, 9 };
	assert_null(idx_addr_find(v, 4, a9));
	assert_int_equal(idx_txn_zone_del(t, W("a.b.example.com")), DDI_ENOZONE);
	assert_int_equal(idx_txn_zone_del(t, W("b.example.com")), DDI_ENOZONE);
	assert_int_equal(idx_version_nodes(v), 2);

	/* Deleting the outer zone keeps the inner one. */
	assert_int_equal(idx_txn_zone_add(t, W("a.b.example.com")), 0);
	assert_int_equal(set_txt(t, "t.example.com", "t"), 0);
	assert_int_equal(idx_txn_zone_del(t, W("example.com")), 0);
	assert_null(find(v, "example.com"));
	assert_null(find(v, "t.example.com"));
	assert_null(find(v, "b.example.com"));
	assert_non_null(find(v, "a.b.example.com"));
	assert_non_null(find(v, "www.example.com"));
	uint8_t a10[4] = { 198, 18, 0, 10 };
	assert_non_null(idx_addr_find(v, 4, a10));
	assert_int_equal(set_txt(t, "t.example.com", "t"), DDI_EOUTZONE);
	assert_int_equal(idx_version_nodes(v), 2);
	idx_txn_abort(t);
	assert_int_equal(idx_version_nodes(idx_txn_version(t = idx_txn_begin(ix))), 0);
	idx_txn_abort(t);
	idx_free(ix);
	teardown_thread();
}

static void check_owners(const struct idx_addr *a, uint32_t ttl, int n, const char **owners)
{
	assert_non_null(a);
	assert_int_equal(a->nowners, n);
	assert_int_equal(idx_addr_ttl(a), ttl);
	for (int k = 0; k < n; k++) {
		const uint8_t *w = W(owners[k]);
		const uint8_t *o = OWN(idx_addr_owner(a, k));
		assert_int_equal(dns_name_len(o), dns_name_len(w));
		assert_memory_equal(o, w, dns_name_len(w));
	}
}

/*
 * idx_node_owner rebuilds a lower-case owner from the trie key: short and
 * long keys (the word and vector paths), escaped octets 0 and 1, labels of
 * 1..63 octets, ENTs (no RRsets behind the key), a mixed-case owner (stored).
 */
static void test_owner_rebuild(void **state)
{
	(void)state;
	static const char *names[] = {
		"example.com",
		"a.example.com",
		"h123456.bench.example.com",
		"\\000x.example.com",
		"\\001.\\000\\001\\002.example.com",
		"x\\001y.example.com",
		"long-label-with-an-escape-\\000-inside-it.example.com",
		"a-rather-long-label-of-forty-characters-x.example.com",
		"0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcde.example.com",
		"a.b.c.d.e.f.g.h.i.j.k.l.m.n.o.p.q.r.s.t.u.v.w.x.y.z.example.com",
		"1.2.3.4.5.6.7.8.9.0.a.b.c.d.e.f.0.1.2.3.4.5.6.7.8.9.a.b.c.d.e.f.ip6.example.com",
		"Mixed.Case.example.com",
		"deep.ent.below.example.com",
	};
	setup_thread();
	struct idx *ix = idx_new();
	struct idx_txn *t = idx_txn_begin(ix);
	assert_int_equal(idx_txn_zone_add(t, W("example.com")), DDI_EOK);
	for (size_t i = 1; i < sizeof(names) / sizeof(names[0]); i++)
		if (set_txt(t, names[i], "x") != DDI_EOK)
			fail_msg("%s", names[i]);
	const struct idx_version *v = idx_txn_version(t);
	const char *check[] = { "ent.below.example.com", "below.example.com" };   /* ENTs */
	for (size_t i = 0; i < sizeof(names) / sizeof(names[0]) + 2; i++) {
		const char *nm = i < sizeof(names) / sizeof(names[0]) ? names[i]
		                                                     : check[i - sizeof(names) / sizeof(names[0])];
		const struct idx_node *n = find(v, nm);
		assert_non_null(n);
		const uint8_t *w = W(nm);
		uint8_t out[DNS_NAME_MAXLEN];
		memset(out, 0xee, sizeof(out));
		size_t len = idx_node_owner(n, out);
		assert_int_equal(len, dns_name_len(w));
		assert_memory_equal(out, w, len);
		/* stored only when the key cannot spell it */
		assert_int_equal(idx_node_has_owner(n), strcmp(nm, "Mixed.Case.example.com") == 0);
	}
	idx_txn_abort(t);
	idx_free(ix);
	teardown_thread();
}

static void test_addresses(void **state)
{
	(void)state;
	setup_thread();
	struct idx *ix = idx_new();
	struct idx_txn *t = idx_txn_begin(ix);
	const struct idx_version *v = idx_txn_version(t);
	uint8_t a1[4] = { 198, 18, 1, 1 }, a2[4] = { 198, 18, 1, 2 }, out[16];
	uint8_t six[2][16] = { { 0x20, 0x01, 0, 2, [15] = 1 }, { 0x20, 0x01, 0, 2, [15] = 2 } };

	assert_int_equal(idx_txn_zone_add(t, W("example.com")), 0);
	assert_int_equal(set_a(t, "a.example.com", 300, 0xc6120101), 0);
	check_owners(idx_addr_find(v, 4, a1), 300, 1, (const char *[]){ "a.example.com" });
	assert_int_equal(set_a(t, "B.example.com", 100, 0xc6120101), 0);
	check_owners(idx_addr_find(v, 4, a1), 100, 2,
	             (const char *[]){ "a.example.com", "B.example.com" });
	assert_int_equal(idx_addr_count(v, 4, a1, 24), 1);
	assert_int_equal(idx_addr_next_free(v, 4, a1, 24, 1, 1, out), 0);
	assert_memory_equal(out, a2, 4);
	/* b's TTL goes up: the leaf's TTL is a's again. */
	assert_int_equal(set_a(t, "b.example.com", 900, 0xc6120101), 0);
	check_owners(idx_addr_find(v, 4, a1), 300, 2,
	             (const char *[]){ "a.example.com", "B.example.com" });
	/* a moves to .2 */
	assert_int_equal(set_a(t, "a.example.com", 300, 0xc6120102), 0);
	check_owners(idx_addr_find(v, 4, a1), 900, 1, (const char *[]){ "B.example.com" });
	check_owners(idx_addr_find(v, 4, a2), 300, 1, (const char *[]){ "a.example.com" });
	assert_int_equal(idx_addr_count(v, 4, a1, 24), 2);
	assert_int_equal(idx_addr_next_free(v, 4, a1, 32, 0, 0, out), DDI_EFULL);
	assert_int_equal(idx_addr_next_free(v, 4, a1, 30, 1, 1, out), DDI_EFULL);
	assert_int_equal(idx_addr_next_free(v, 4, a1, 30, 0, 0, out), DDI_EOK);
	assert_int_equal(out[3], 0);
	/* The name goes away with its node. */
	assert_int_equal(del_rrset(t, "b.example.com", T_A), 0);
	assert_null(idx_addr_find(v, 4, a1));
	assert_null(find(v, "b.example.com"));
	/* AAAA, two addresses; a TXT beside it does not touch the leaves. */
	assert_int_equal(set_addrs(t, "a.example.com", T_AAAA, 120, 2, six), 0);
	assert_int_equal(set_txt(t, "a.example.com", "x"), 0);
	check_owners(idx_addr_find(v, 6, six[0]), 120, 1, (const char *[]){ "a.example.com" });
	check_owners(idx_addr_find(v, 6, six[1]), 120, 1, (const char *[]){ "a.example.com" });
	assert_int_equal(idx_addr_count(v, 6, six[0], 64), 2);
	assert_int_equal(idx_addr_count(v, 4, a1, 0), 1);
	assert_int_equal(set_addrs(t, "a.example.com", T_AAAA, 120, 1, six + 1), 0);
	assert_null(idx_addr_find(v, 6, six[0]));
	assert_int_equal(idx_addr_count(v, 6, six[0], 0), 1);
	assert_int_equal(idx_txn_commit(t, 7), 0);

	/* Zone removal empties the trees. */
	t = idx_txn_begin(ix);
	v = idx_txn_version(t);
	assert_int_equal(idx_txn_zone_del(t, W("example.com")), 0);
	assert_int_equal(idx_addr_count(v, 6, six[0], 0), 0);
	assert_int_equal(idx_addr_count(v, 4, a1, 0), 0);
	assert_int_equal(idx_version_nodes(v), 0);
	assert_int_equal(idx_txn_commit(t, 8), 0);
	idx_free(ix);
	teardown_thread();
}

/* Old versions read exactly as at their commit; abort leaves the published one. */
static void test_cow_versions(void **state)
{
	(void)state;
	setup_thread();
	struct idx *ix = idx_new();
	struct idx_txn *t = idx_txn_begin(ix);
	uint8_t a[4] = { 198, 18, 2, 0 };

	assert_int_equal(idx_txn_zone_add(t, W("example.com")), 0);
	for (int k = 0; k < 200; k++) {
		char name[64];
		snprintf(name, sizeof(name), "h%d.example.com", k);
		assert_int_equal(set_a(t, name, 60, 0xc6120200 + (uint32_t)k), 0);
	}
	assert_int_equal(idx_txn_commit(t, 1), 0);

	/* Online: the call_rcu thread cannot free what we hold. */
	rcu_thread_online();
	const struct idx_version *v1 = idx_acquire(ix);
	for (int round = 0; round < 20; round++) {
		t = idx_txn_begin(ix);
		for (int k = round * 10; k < round * 10 + 10; k++) {
			char name[64];
			snprintf(name, sizeof(name), "h%d.example.com", k);
			assert_int_equal(del_rrset(t, name, T_A), 0);
		}
		assert_int_equal(set_txt(t, "h5.example.com", "new"), 0);
		if (round % 3 == 2)
			idx_txn_abort(t);
		else
			assert_int_equal(idx_txn_commit(t, 2 + (uint64_t)round), 0);
	}
	for (int k = 0; k < 200; k++) {
		char name[64];
		snprintf(name, sizeof(name), "h%d.example.com", k);
		const struct idx_node *n = find(v1, name);
		assert_non_null(n);
		assert_int_equal(n->nrrsets, 1);
		a[3] = (uint8_t)k;
		check_owners(idx_addr_find(v1, 4, a), 60, 1, (const char *[]){ name });
	}
	assert_int_equal(idx_version_nodes(v1), 201);
	assert_int_equal(idx_addr_count(v1, 4, a, 24), 200);
	const struct idx_version *v2 = idx_acquire(ix);
	/* 20 rounds, every third aborted: 14 committed, 140 deleted. */
	assert_int_equal(idx_version_generation(v2), 15);
	assert_int_equal(idx_addr_count(v2, 4, a, 24), 200 - 140);
	assert_int_equal(idx_version_nodes(v2), 61 + 1);   /* h5 kept alive by its TXT */
	rcu_thread_offline();
	idx_free(ix);
	teardown_thread();
}

/* ------------------------------------------------------------------------ */
/* Random changes against a model                                           */
/* ------------------------------------------------------------------------ */

#define MNAMES 39   /* {a,b,c}, {a,b,c}^2, {a,b,c}^3 below example.com */
#define MADDRS 8    /* 198.18.5.0 .. 198.18.5.7 */

struct model_name {
	uint8_t amask;     /* which pool addresses the A RRset holds; 0 = none */
	uint32_t attl;
	bool txt, ns;
};

struct model {
	struct model_name n[MNAMES];
};

static char mnames[MNAMES][32];

static void mnames_init(void)
{
	static const char l[] = "abc";
	int k = 0;
	for (int a = 0; a < 3; a++)
		snprintf(mnames[k++], 32, "%c.example.com", l[a]);
	for (int a = 0; a < 3; a++)
		for (int b = 0; b < 3; b++)
			snprintf(mnames[k++], 32, "%c.%c.example.com", l[b], l[a]);
	for (int a = 0; a < 3; a++)
		for (int b = 0; b < 3; b++)
			for (int c = 0; c < 3; c++)
				snprintf(mnames[k++], 32, "%c.%c.%c.example.com", l[c], l[b], l[a]);
}

static bool m_data(const struct model_name *m)
{
	return m->amask || m->txt || m->ns;
}

/* Is name j strictly below name i? */
static bool m_below(int j, int i)
{
	size_t li = strlen(mnames[i]), lj = strlen(mnames[j]);
	return lj > li && mnames[j][lj - li - 1] == '.' && strcmp(mnames[j] + lj - li, mnames[i]) == 0;
}

static int order_cb(void *ctx, const struct idx_node *n)
{
	uint8_t *prev = ctx;   /* the previous owner; starts empty (prev[0] == 0xff) */
	const uint8_t *o = OWN(n);
	if (prev[0] != 0xff && dns_name_cmp(prev, o) >= 0)
		return 1;
	memcpy(prev, o, dns_name_len(o));
	return 0;
}

static void model_check(const struct idx_version *v, const struct model *m)
{
	size_t nodes = 1;
	const struct idx_node *apex = find(v, "example.com");
	assert_non_null(apex);
	assert_int_equal(apex->flags, IDX_NODE_APEX);
	for (int i = 0; i < MNAMES; i++) {
		const struct model_name *mn = &m->n[i];
		bool desc = false;
		for (int j = 0; j < MNAMES; j++)
			desc = desc || (m_below(j, i) && m_data(&m->n[j]));
		const struct idx_node *n = find(v, mnames[i]);
		if (!m_data(mn) && !desc) {
			assert_null(n);
			continue;
		}
		nodes++;
		assert_non_null(n);
		assert_int_equal(n->flags, !m_data(mn) ? IDX_NODE_ENT : mn->ns ? IDX_NODE_DELEG : 0);
		assert_int_equal(n->nrrsets, (mn->amask != 0) + mn->txt + mn->ns);
		const struct idx_rrset *rs = idx_node_rrset(n, T_A);
		if (mn->amask == 0) {
			assert_null(rs);
		} else {
			assert_non_null(rs);
			assert_int_equal(idx_rrset_ttl(n, rs), mn->attl);
			assert_int_equal(rs->count, __builtin_popcount(mn->amask));
			uint32_t pos = 0;
			uint16_t rrlen;
			const uint8_t *rr;
			uint8_t seen = 0;
			while ((rr = idx_rrset_next(n, rs, &pos, &rrlen)) != NULL) {
				assert_int_equal(rrlen, 14);
				seen |= (uint8_t)(1u << rr[13]);
			}
			assert_int_equal(seen, mn->amask);
		}
		assert_int_equal(idx_node_rrset(n, T_TXT) != NULL, mn->txt);
		assert_int_equal(idx_node_rrset(n, T_NS) != NULL, mn->ns);
	}
	assert_int_equal(idx_version_nodes(v), nodes);
	uint8_t prev[DNS_NAME_MAXLEN] = { 0xff };
	assert_int_equal(idx_walk(v, NULL, 0, order_cb, prev), 0);

	for (int k = 0; k < MADDRS; k++) {
		uint8_t addr[4] = { 198, 18, 5, (uint8_t)k };
		const struct idx_addr *a = idx_addr_find(v, 4, addr);
		int owners = 0;
		uint32_t ttl = UINT32_MAX;
		for (int i = 0; i < MNAMES; i++) {
			if (!(m->n[i].amask & (1u << k)))
				continue;
			owners++;
			ttl = m->n[i].attl < ttl ? m->n[i].attl : ttl;
			assert_non_null(a);
			bool listed = false;
			for (uint16_t x = 0; x < a->nowners; x++)
				listed = listed || dns_name_equal(OWN(idx_addr_owner(a, x)), W(mnames[i]));
			assert_true(listed);
		}
		if (owners == 0) {
			assert_null(a);
		} else {
			assert_int_equal(a->nowners, owners);
			assert_int_equal(idx_addr_ttl(a), ttl);
		}
	}
	uint8_t p24[4] = { 198, 18, 5, 0 };
	uint64_t used = 0;
	for (int k = 0; k < MADDRS; k++)
		for (int i = 0; i < MNAMES; i++)
			if (m->n[i].amask & (1u << k)) {
				used++;
				break;
			}
	assert_int_equal(idx_addr_count(v, 4, p24, 24), used);
}

static void model_run(bool wrap)
{
	enum { TXNS = 400, KEEP = 3 };
	uint64_t rng = 0x1234567;
	struct model pub = { 0 }, old_m[KEEP];
	const struct idx_version *old_v[KEEP];
	int nold = 0, commits = 0;

	setup_thread();
	mnames_init();
	struct idx *ix = idx_new();
	struct idx_txn *t = idx_txn_begin(ix);
	assert_int_equal(idx_txn_zone_add(t, W("example.com")), 0);
	assert_int_equal(idx_txn_commit(t, 0), 0);
	/* Online throughout: versions held below stay allocated. */
	rcu_thread_online();
	for (int x = 0; x < TXNS; x++) {
		struct model m = pub;
		if (wrap && x == TXNS / 2)
			ix->trie_stamp = TRIE_STAMP_MAX - 3;   /* branches stamped 1..200 live on */
		t = idx_txn_begin(ix);
		int nops = 1 + (int)((rng = rng * 6364136223846793005ULL + 1442695040888963407ULL) >> 60);
		for (int op = 0; op < nops; op++) {
			rng = rng * 6364136223846793005ULL + 1442695040888963407ULL;
			int i = (int)((rng >> 33) % MNAMES);
			struct model_name *mn = &m.n[i];
			switch ((rng >> 20) % 6) {
			case 0:
			case 1: {
				uint8_t mask = (uint8_t)(1u << ((rng >> 40) % MADDRS));
				if ((rng >> 50) & 1)
					mask |= (uint8_t)(1u << ((rng >> 45) % MADDRS));
				uint8_t addrs[MADDRS][16];
				int n = 0;
				for (int k = 0; k < MADDRS; k++)
					if (mask & (1u << k)) {
						uint8_t a4[16] = { 198, 18, 5, (uint8_t)k };
						memcpy(addrs[n++], a4, 16);
					}
				uint32_t ttl = 60 + (uint32_t)((rng >> 52) % 4) * 60;
				assert_int_equal(set_addrs(t, mnames[i], T_A, ttl, n, addrs), 0);
				mn->amask = mask;
				mn->attl = ttl;
				break;
			}
			case 2:
				assert_int_equal(del_rrset(t, mnames[i], T_A), 0);
				mn->amask = 0;
				break;
			case 3:
				assert_int_equal(set_txt(t, mnames[i], "t"), 0);
				mn->txt = true;
				break;
			case 4:
				assert_int_equal(del_rrset(t, mnames[i], T_TXT), 0);
				mn->txt = false;
				break;
			default:
				if ((rng >> 58) & 1) {
					assert_int_equal(set_ns(t, mnames[i], "ns.example.net"), 0);
					mn->ns = true;
				} else {
					assert_int_equal(del_rrset(t, mnames[i], T_NS), 0);
					mn->ns = false;
				}
				break;
			}
		}
		model_check(idx_txn_version(t), &m);
		if ((rng >> 61) == 0) {
			idx_txn_abort(t);
			model_check(idx_acquire(ix), &pub);
			continue;
		}
		if (nold == KEEP) {
			memmove(old_v, old_v + 1, (KEEP - 1) * sizeof(*old_v));
			memmove(old_m, old_m + 1, (KEEP - 1) * sizeof(*old_m));
			nold--;
		}
		old_v[nold] = idx_acquire(ix);
		old_m[nold] = pub;
		nold++;
		assert_int_equal(idx_txn_commit(t, (uint64_t)x + 1), 0);
		commits++;
		pub = m;
		model_check(idx_acquire(ix), &pub);
		for (int k = 0; k < nold; k++)
			model_check(old_v[k], &old_m[k]);
		if (x % 50 == 49) {
			/* Let the call_rcu thread free what no one holds any more. */
			nold = 0;
			rcu_quiescent_state();
		}
	}
	assert_true(commits > 300);
	if (wrap)
		assert_true(ix->trie_stamp < (uint64_t)TXNS);   /* it wrapped */
	rcu_thread_offline();
	idx_free(ix);
	teardown_thread();
}

static void test_model(void **state)
{
	(void)state;
	model_run(false);
}

/*
 * Trie stamps wrap after 2^36 transactions. Version 1's branches carry
 * stamp 1; after the wrap the next txn has stamp 1 again and must still
 * copy them (trie_stamp_reset), or version 1 would change under a reader.
 */
static void test_stamp_wrap(void **state)
{
	(void)state;
	setup_thread();
	struct idx *ix = idx_new();
	struct idx_txn *t = idx_txn_begin(ix);
	char name[64];
	assert_int_equal(idx_txn_zone_add(t, W("example.com")), 0);
	for (int k = 0; k < 50; k++) {
		snprintf(name, sizeof(name), "h%d.example.com", k);
		assert_int_equal(set_txt(t, name, "x"), 0);
	}
	assert_int_equal(idx_txn_commit(t, 1), 0);
	assert_int_equal(ix->trie_stamp, 1);
	ix->trie_stamp = TRIE_STAMP_MAX;
	rcu_thread_online();
	const struct idx_version *v1 = idx_acquire(ix);
	t = idx_txn_begin(ix);
	assert_int_equal(t->tc.stamp, 1);
	for (int k = 0; k < 50; k += 2) {
		snprintf(name, sizeof(name), "h%d.example.com", k);
		assert_int_equal(del_rrset(t, name, T_TXT), 0);
	}
	assert_int_equal(idx_txn_commit(t, 2), 0);
	for (int k = 0; k < 50; k++) {
		snprintf(name, sizeof(name), "h%d.example.com", k);
		assert_non_null(find(v1, name));
		assert_int_equal(find(idx_acquire(ix), name) != NULL, k % 2 == 1);
	}
	rcu_thread_offline();
	idx_free(ix);
	teardown_thread();
}

/* Trie stamps wrap after 2^36 transactions: jump to just before, halfway. */
static void test_model_stamp_wrap(void **state)
{
	(void)state;
	model_run(true);
}

/* ------------------------------------------------------------------------ */
/* A reader thread against thousands of commits                             */
/* ------------------------------------------------------------------------ */

#define WINDOW 50

struct stress {
	struct idx *ix;
	volatile int stop;
	uint64_t reads;
	uint64_t bad;
	uint64_t max_gen;
};

static void name_of(char *buf, size_t len, uint64_t g)
{
	snprintf(buf, len, "h%llu.example.com", (unsigned long long)g);
}

/*
 * Version g (committed by round g) holds h(g-WINDOW+1) .. h(g), each with
 * A = g's number, and cnt.example.com with A = g. Any read must see
 * exactly one version's state.
 */
static void *reader(void *arg)
{
	struct stress *s = arg;
	rcu_register_thread();
	while (!__atomic_load_n(&s->stop, __ATOMIC_ACQUIRE)) {
		const struct idx_version *v = idx_acquire(s->ix);
		uint64_t g = idx_version_generation(v);
		if (g >= 2) {
			uint64_t rg = g - 1;   /* generation 1 is the zone */
			const struct idx_node *cnt = find(v, "cnt.example.com");
			const struct idx_rrset *rs = cnt ? idx_node_rrset(cnt, T_A) : NULL;
			uint32_t pos = 0;
			uint16_t rrlen;
			const uint8_t *rr = rs ? idx_rrset_next(cnt, rs, &pos, &rrlen) : NULL;
			uint32_t val = rr ? (uint32_t)rr[10] << 24 | rr[11] << 16 | rr[12] << 8 | rr[13] : 0;
			char name[64];
			name_of(name, sizeof(name), rg);
			bool ok = rr && val == (uint32_t)rg && find(v, name) != NULL;
			if (rg > WINDOW) {
				name_of(name, sizeof(name), rg - WINDOW);
				ok = ok && find(v, name) == NULL;
			}
			uint8_t addr[4] = { (uint8_t)(rg >> 24), (uint8_t)(rg >> 16), (uint8_t)(rg >> 8),
			                    (uint8_t)rg };
			const struct idx_addr *a = idx_addr_find(v, 4, addr);
			ok = ok && a && a->nowners >= 1;
			uint64_t expect = 1 + 1 + (rg < WINDOW ? rg : WINDOW);
			ok = ok && idx_version_nodes(v) == expect;
			if (!ok)
				s->bad++;
			if (g > s->max_gen)
				s->max_gen = g;
		}
		__atomic_fetch_add(&s->reads, 1, __ATOMIC_RELEASE);
		rcu_quiescent_state();
	}
	rcu_unregister_thread();
	return NULL;
}

static void test_reader_stress(void **state)
{
	(void)state;
	enum { ROUNDS = 3000 };
	setup_thread();
	struct stress s = { .ix = idx_new() };
	pthread_t th;
	struct idx_txn *t = idx_txn_begin(s.ix);
	assert_int_equal(idx_txn_zone_add(t, W("example.com")), 0);
	assert_int_equal(idx_txn_commit(t, 1), 0);
	assert_int_equal(pthread_create(&th, NULL, reader, &s), 0);
	/* On a loaded machine the writer's rounds can all end before the reader
	 * is first scheduled, and then nothing was tested: start once it reads. */
	for (int spin = 0; __atomic_load_n(&s.reads, __ATOMIC_ACQUIRE) == 0 && spin < 100000; spin++)
		usleep(100);
	assert_true(__atomic_load_n(&s.reads, __ATOMIC_ACQUIRE) > 0);
	for (uint64_t g = 1; g <= ROUNDS; g++) {
		char name[64];
		t = idx_txn_begin(s.ix);
		assert_non_null(t);
		name_of(name, sizeof(name), g);
		assert_int_equal(set_a(t, name, 60, (uint32_t)g), 0);
		assert_int_equal(set_a(t, "cnt.example.com", 60, (uint32_t)g), 0);
		if (g > WINDOW) {
			name_of(name, sizeof(name), g - WINDOW);
			assert_int_equal(del_rrset(t, name, T_A), 0);
		}
		if (g % 97 == 0) {   /* an aborted change in between */
			idx_txn_abort(t);
			t = idx_txn_begin(s.ix);
			name_of(name, sizeof(name), g);
			assert_int_equal(set_a(t, name, 60, (uint32_t)g), 0);
			assert_int_equal(set_a(t, "cnt.example.com", 60, (uint32_t)g), 0);
			if (g > WINDOW) {
				name_of(name, sizeof(name), g - WINDOW);
				assert_int_equal(del_rrset(t, name, T_A), 0);
			}
		}
		assert_int_equal(idx_txn_commit(t, g + 1), 0);
	}
	__atomic_store_n(&s.stop, 1, __ATOMIC_RELEASE);
	pthread_join(th, NULL);
	print_message("reader: %llu reads of up to generation %llu, %llu inconsistent\n",
	              (unsigned long long)s.reads, (unsigned long long)s.max_gen,
	              (unsigned long long)s.bad);
	assert_int_equal(s.bad, 0);
	assert_true(s.reads > 0);
	idx_free(s.ix);
	teardown_thread();
}

/* ------------------------------------------------------------------------ */
/* Bulk build: time and memory per name (printed, not asserted)             */
/* ------------------------------------------------------------------------ */

static double now(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

/*
 * N names host<8 digits>.example.com, one RRset each of 4 bytes of rdata:
 * A (names and address trees) or TXT (names only). `scrambled` inserts in
 * an order unrelated to the key order (every trie access a cache miss);
 * otherwise in key order, as a rebuild from a name-ordered store does.
 */
static void bulk_run(uint32_t n, bool scrambled, uint16_t type)
{
	setup_thread();
	size_t before = mallinfo2().uordblks + slab_bytes();   /* slabs are mmap()ed */
	struct idx *ix = idx_new();
	struct idx_txn *t = idx_txn_begin(ix);
	uint8_t owner[DNS_NAME_MAXLEN], rd[6] = { 0, 4 };

	assert_int_equal(idx_txn_zone_add(t, W("example.com")), 0);
	memcpy(owner, "\x0chost00000000\x07" "example\x03" "com", 26);
	double t0 = now();
	for (uint32_t k = 0; k < n; k++) {
		/* A bijection of [0, 10^8): distinct names in scrambled order. */
		uint32_t x = scrambled ? (uint32_t)((uint64_t)k * 12345677U % 100000000U) : k;
		for (int d = 12; d >= 5; d--) {
			owner[d] = (uint8_t)('0' + x % 10);
			x /= 10;
		}
		uint32_t addr = 0x0a000000U + k;
		rd[2] = (uint8_t)(addr >> 24);
		rd[3] = (uint8_t)(addr >> 16);
		rd[4] = (uint8_t)(addr >> 8);
		rd[5] = (uint8_t)addr;
		int r = idx_txn_rrset_set(t, owner, type, 300, 1, rd, sizeof(rd));
		if (r != 0)
			fail_msg("insert %u: %d", k, r);
	}
	double t1 = now();
	assert_int_equal(idx_txn_commit(t, 1), 0);
	double t2 = now();
	rcu_thread_online();
	const struct idx_version *v = idx_acquire(ix);
	assert_int_equal(idx_version_nodes(v), (size_t)n + 1);
	uint8_t key[DNS_KEY_MAXLEN];
	uint32_t hits = 0;
	for (uint32_t k = 0; k < n; k++) {
		uint32_t x = scrambled ? (uint32_t)((uint64_t)k * 12345677U % 100000000U) : k;
		for (int d = 12; d >= 5; d--) {
			owner[d] = (uint8_t)('0' + x % 10);
			x /= 10;
		}
		int klen = dns_name_to_key(key, owner);
		const struct idx_node *node = idx_find(v, key, (size_t)klen);
		hits += node != NULL && idx_node_rrset(node, type) != NULL;
	}
	double t3 = now();
	assert_int_equal(hits, n);
	uint8_t p[4] = { 10, 0, 0, 0 };
	assert_int_equal(idx_addr_count(v, 4, p, 8), type == T_A ? n : 0);
	rcu_thread_offline();
	size_t after = mallinfo2().uordblks + slab_bytes();   /* ASan: its own heap, slabs only */
	print_message("bulk: %u single-%s names, %s order, one txn: %.3f s (%.0f ns/name), "
	              "commit %.3f s, lookup %.0f ns (key + find); heap %.1f bytes/name (%s)\n",
	              n, type == T_A ? "A" : "TXT", scrambled ? "scrambled" : "key", t1 - t0,
	              (t1 - t0) / n * 1e9, t2 - t1, (t3 - t2) / n * 1e9,
	              (double)(after - before) / n,
	              type == T_A ? "names + address trees" : "names: node, key, trie");
	idx_free(ix);
	teardown_thread();
}

#if defined(__SANITIZE_ADDRESS__)
#define BULK_N 100000
#else
#define BULK_N 1000000
#endif

static void test_bulk(void **state)
{
	(void)state;
	bulk_run(BULK_N, false, T_A);
	bulk_run(BULK_N, true, T_A);
	bulk_run(BULK_N, false, T_TXT);
}

/*
 * Bulk load: the same RRsets through idx_txn_rrset_set and, in key order,
 * through idx_txn_bulk_rrset give the same version, node by node (key,
 * flags, owner spelling, RRsets byte for byte) and address by address.
 */
struct bulk_rr {
	const char *owner;
	uint16_t type;
	uint32_t ttl;
	uint16_t count;
	uint8_t rd[4 * 18];
	size_t rdlen;
	uint8_t key[DNS_KEY_MAXLEN];
	size_t klen;
};

static int bulk_rr_cmp(const void *x, const void *y)
{
	const struct bulk_rr *a = x, *b = y;
	int c = key_cmp(a->key, a->klen, b->key, b->klen);
	return c ? c : (a->type > b->type) - (a->type < b->type);
}

static void bulk_rr_add(struct bulk_rr *r, const char *owner, uint16_t type, uint32_t ttl,
                        int n, const uint32_t *v4)
{
	r->owner = owner;
	r->type = type;
	r->ttl = ttl;
	r->count = (uint16_t)n;
	r->rdlen = 0;
	for (int k = 0; k < n; k++) {
		size_t alen = type == T_AAAA ? 16 : 4;
		uint8_t *p = r->rd + r->rdlen;
		memset(p, 0, 2 + alen);
		p[1] = (uint8_t)alen;
		if (type == T_AAAA)
			p[2] = 0x20, p[3] = 0x01;
		p[2 + alen - 4] = (uint8_t)(v4[k] >> 24);
		p[2 + alen - 3] = (uint8_t)(v4[k] >> 16);
		p[2 + alen - 2] = (uint8_t)(v4[k] >> 8);
		p[2 + alen - 1] = (uint8_t)v4[k];
		r->rdlen += 2 + alen;
	}
	int kl = dns_name_to_key(r->key, W(owner));
	assert_true(kl >= 0);
	r->klen = (size_t)kl;
}

struct node_list {
	const struct idx_node *v[64];
	int n;
};

static int list_cb(void *ctx, const struct idx_node *n)
{
	struct node_list *l = ctx;
	assert_true(l->n < 64);
	l->v[l->n++] = n;
	return 0;
}

static void bulk_zones(struct idx_txn *t)
{
	assert_int_equal(idx_txn_zone_add(t, W("example.")), DDI_EOK);
	assert_int_equal(idx_txn_zone_add(t, W("x.y.example.")), DDI_EOK);
	assert_int_equal(idx_txn_zone_add(t, W("10.in-addr.arpa.")), DDI_EOK);
	assert_int_equal(idx_txn_zone_add(t, W("empty.test.")), DDI_EOK);
}

static void test_bulk_same_as_incremental(void **state)
{
	(void)state;
	static struct bulk_rr rrs[32];
	int n = 0;
	uint32_t a1 = 0x0a000001, a2 = 0x0a000002, a3 = 0x0a000003, two[2] = { 0x0a000005, 0x0a000004 };
	uint32_t dup[2] = { 0x0a000007, 0x0a000007 };
	bulk_rr_add(&rrs[n++], "example.", T_NS, 3600, 0, NULL);
	bulk_rr_add(&rrs[n++], "example.", T_A, 300, 1, &a1);
	bulk_rr_add(&rrs[n++], "www.example.", T_A, 600, 1, &a1);
	bulk_rr_add(&rrs[n++], "WWW2.Example.", T_A, 100, 1, &a1);
	bulk_rr_add(&rrs[n++], "www2.example.", T_AAAA, 100, 1, &a1);
	bulk_rr_add(&rrs[n++], "a.b.c.example.", T_A, 60, 2, two);
	bulk_rr_add(&rrs[n++], "d.c.example.", T_TXT, 60, 0, NULL);
	bulk_rr_add(&rrs[n++], "deleg.example.", T_NS, 3600, 0, NULL);
	bulk_rr_add(&rrs[n++], "ns.deleg.example.", T_A, 3600, 1, &a2);
	bulk_rr_add(&rrs[n++], "*.w.example.", T_A, 30, 1, &a3);
	bulk_rr_add(&rrs[n++], "x.y.example.", T_A, 30, 1, &a3);
	bulk_rr_add(&rrs[n++], "q.x.y.example.", T_A, 30, 2, dup);
	bulk_rr_add(&rrs[n++], "z.y.example.", T_A, 20, 1, &a2);
	bulk_rr_add(&rrs[n++], "\\000.example.", T_AAAA, 20, 1, &a2);
	bulk_rr_add(&rrs[n++], "1.0.0.10.in-addr.arpa.", T_TXT, 20, 0, NULL);
	/* TXT and NS rdata: one item of a name or a string */
	for (int k = 0; k < n; k++) {
		if (rrs[k].type == T_NS) {
			const uint8_t *w = W("ns.deleg.example.");
			size_t l = dns_name_len(w);
			rrs[k].rd[0] = 0, rrs[k].rd[1] = (uint8_t)l;
			memcpy(rrs[k].rd + 2, w, l);
			rrs[k].rdlen = l + 2, rrs[k].count = 1;
		} else if (rrs[k].type == T_TXT) {
			memcpy(rrs[k].rd, "\x00\x03\x02hi", 5);
			rrs[k].rdlen = 5, rrs[k].count = 1;
		}
	}
	qsort(rrs, (size_t)n, sizeof(rrs[0]), bulk_rr_cmp);

	struct idx *inc = idx_new(), *blk = idx_new();
	assert_non_null(inc);
	assert_non_null(blk);
	struct idx_txn *ti = idx_txn_begin(inc), *tb = idx_txn_begin(blk);
	bulk_zones(ti);
	bulk_zones(tb);
	for (int k = 0; k < n; k++) {
		const struct bulk_rr *r = &rrs[k];
		assert_int_equal(idx_txn_rrset_set(ti, W(r->owner), r->type, r->ttl, r->count, r->rd,
		                                   r->rdlen), DDI_EOK);
		assert_int_equal(idx_txn_bulk_rrset(tb, W(r->owner), r->type, r->ttl, r->count, r->rd,
		                                    r->rdlen), DDI_EOK);
	}
	/* refusals that change nothing */
	const struct bulk_rr *last = &rrs[n - 1];
	static const uint8_t ard[6] = { 0, 4, 10, 0, 0, 9 }, txt[5] = { 0, 3, 2, 'h', 'i' };
	assert_int_equal(idx_txn_bulk_rrset(tb, W("a.example."), T_A, 1, 1, ard, 6), DDI_EINVAL);
	assert_int_equal(idx_txn_bulk_rrset(tb, W(last->owner), last->type, 1, last->count, last->rd,
	                                    last->rdlen), DDI_EINVAL);
	assert_int_equal(idx_txn_bulk_rrset(tb, W("zz.nowhere."), T_TXT, 1, 1, txt, 5),
	                 DDI_EOUTZONE);
	assert_int_equal(idx_txn_bulk_rrset(tb, W(last->owner), 99, 1, 0, NULL, 0), DDI_EINVAL);
	assert_int_equal(set_a(tb, "late.example.", 1, 1), DDI_EINVAL);
	assert_int_equal(idx_txn_zone_add(tb, W("late.test.")), DDI_EINVAL);
	assert_int_equal(idx_txn_commit(ti, 1), DDI_EOK);
	assert_int_equal(idx_txn_commit(tb, 1), DDI_EOK);   /* ends the bulk load */

	rcu_thread_online();
	const struct idx_version *vi = idx_acquire(inc), *vb = idx_acquire(blk);
	struct node_list li = { .n = 0 }, lb = { .n = 0 };
	assert_int_equal(idx_walk(vi, NULL, 0, list_cb, &li), 0);
	assert_int_equal(idx_walk(vb, NULL, 0, list_cb, &lb), 0);
	assert_int_equal(li.n, lb.n);
	assert_int_equal(idx_version_nodes(vi), (size_t)li.n);
	assert_int_equal(idx_version_nodes(vb), (size_t)lb.n);
	assert_int_equal(li.n, 21);   /* data, ENTs (c, b, y, w, two in arpa), the empty zone */
	for (int k = 0; k < li.n; k++) {
		const struct idx_node *a = li.v[k], *b = lb.v[k];
		const uint8_t *oa = OWN(a), *ob = OWN(b);
		assert_int_equal(dns_name_len(oa), dns_name_len(ob));
		assert_memory_equal(oa, ob, dns_name_len(oa));
		assert_int_equal(a->flags, b->flags);
		assert_int_equal(a->nrrsets, b->nrrsets);
		uint8_t key[DNS_KEY_MAXLEN];
		int kl = dns_name_to_key(key, oa);
		assert_ptr_equal(idx_find(vb, key, (size_t)kl), b);
		for (int r = 0; r < a->nrrsets; r++) {
			const struct idx_rrset *ra = &a->rrsets[r], *rb = &b->rrsets[r];
			assert_int_equal(ra->type, rb->type);
			assert_int_equal(ra->count, rb->count);
			assert_int_equal(idx_rrset_ttl(a, ra), idx_rrset_ttl(b, rb));
			assert_int_equal(ra->len, rb->len);
			assert_memory_equal(idx_rrset_blob(a, ra), idx_rrset_blob(b, rb), ra->len);
		}
	}
	/* Address leaves: owners in the same order, same TTL. */
	static const uint32_t addrs[] = { 0x0a000001, 0x0a000002, 0x0a000003, 0x0a000004,
	                                  0x0a000005, 0x0a000007, 0x0a000009 };
	int found = 0;
	for (size_t k = 0; k < sizeof(addrs) / sizeof(addrs[0]); k++) {
		for (int fam = 4; fam <= 6; fam += 2) {
			uint8_t ad[16] = { 0 };
			uint8_t *p = fam == 4 ? ad : ad + 12;
			if (fam == 6)
				ad[0] = 0x20, ad[1] = 0x01;
			p[0] = (uint8_t)(addrs[k] >> 24), p[1] = (uint8_t)(addrs[k] >> 16);
			p[2] = (uint8_t)(addrs[k] >> 8), p[3] = (uint8_t)addrs[k];
			const struct idx_addr *x = idx_addr_find(vi, fam, ad), *y = idx_addr_find(vb, fam, ad);
			assert_true((x == NULL) == (y == NULL));
			if (x == NULL)
				continue;
			found++;
			assert_int_equal(x->nowners, y->nowners);
			assert_int_equal(idx_addr_ttl(x), idx_addr_ttl(y));
			for (uint16_t o = 0; o < x->nowners; o++) {
				const uint8_t *ox = OWN(idx_addr_owner(x, o)), *oy = OWN(idx_addr_owner(y, o));
				assert_int_equal(dns_name_len(ox), dns_name_len(oy));
				assert_memory_equal(ox, oy, dns_name_len(ox));
				uint8_t key[DNS_KEY_MAXLEN];
				int kl = dns_name_to_key(key, oy);
				assert_ptr_equal(idx_find(vb, key, (size_t)kl), idx_addr_owner(y, o));
				assert_ptr_equal(idx_find(vi, key, (size_t)kl), idx_addr_owner(x, o));
			}
		}
	}
	assert_int_equal(found, 8);
	/* 10.0.0.1: example., www, WWW2 in key order; TTL the smallest */
	uint8_t ad1[4] = { 10, 0, 0, 1 };
	const char *own1[] = { "example.", "www.example.", "WWW2.Example." };
	check_owners(idx_addr_find(vb, 4, ad1), 100, 3, own1);
	uint8_t ad7[4] = { 10, 0, 0, 7 };
	const char *own7[] = { "q.x.y.example." };
	check_owners(idx_addr_find(vb, 4, ad7), 30, 1, own7);
	rcu_thread_offline();

	/* A bulk load needs a version without RRsets. */
	struct idx_txn *t2 = idx_txn_begin(blk);
	assert_int_equal(idx_txn_bulk_rrset(t2, W(rrs[0].owner), rrs[0].type, 1, rrs[0].count,
	                                    rrs[0].rd, rrs[0].rdlen), DDI_EINVAL);
	idx_txn_abort(t2);
	/* An aborted bulk load frees what it made (ASan checks). */
	struct idx *ab = idx_new();
	t2 = idx_txn_begin(ab);
	bulk_zones(t2);
	for (int k = 0; k < n; k++)
		assert_int_equal(idx_txn_bulk_rrset(t2, W(rrs[k].owner), rrs[k].type, rrs[k].ttl,
		                                    rrs[k].count, rrs[k].rd, rrs[k].rdlen), DDI_EOK);
	idx_txn_abort(t2);
	t2 = idx_txn_begin(ab);
	bulk_zones(t2);
	for (int k = 0; k < n; k++)
		assert_int_equal(idx_txn_bulk_rrset(t2, W(rrs[k].owner), rrs[k].type, rrs[k].ttl,
		                                    rrs[k].count, rrs[k].rd, rrs[k].rdlen), DDI_EOK);
	assert_int_equal(idx_txn_bulk_end(t2), DDI_EOK);
	idx_txn_abort(t2);
	idx_free(ab);
	idx_free(inc);
	idx_free(blk);
}

/* ------------------------------------------------------------------------ */
/* Address leaves against the trie, after random changes                    */
/* ------------------------------------------------------------------------ */

/*
 * The oracle is the version itself: for every pool address, the nodes of
 * its trie whose A/AAAA hold it are exactly the leaf's owners (the same
 * pointers, each once: a leaf pointing at a replaced node fails here, and
 * under ASan reads freed memory once the version that held it is gone),
 * the leaf's TTL is the smallest of their RRsets' TTLs, and the PTR answer
 * names exactly those owners, spelled as their nodes are.
 */
#define LPOOL 8   /* 198.18.5.0..7 and 2001:2::5:0..7 */

static void pool_addr(int fam, int k, uint8_t out[16])
{
	memset(out, 0, 16);
	if (fam == 4) {
		out[0] = 198, out[1] = 18, out[2] = 5, out[3] = (uint8_t)k;
	} else {
		out[0] = 0x20, out[1] = 0x01, out[3] = 0x02, out[13] = 5, out[15] = (uint8_t)k;
	}
}

static void reverse_name(char *buf, size_t len, int fam, const uint8_t *a)
{
	if (fam == 4) {
		snprintf(buf, len, "%u.%u.%u.%u.in-addr.arpa.", a[3], a[2], a[1], a[0]);
		return;
	}
	size_t at = 0;
	for (int i = 15; i >= 0; i--)
		at += (size_t)snprintf(buf + at, len - at, "%x.%x.", a[i] & 15, a[i] >> 4);
	snprintf(buf + at, len - at, "ip6.arpa.");
}

struct node_set {
	int n;
	const struct idx_node *v[256];
};

static int set_cb(void *ctx, const struct idx_node *n)
{
	struct node_set *s = ctx;
	assert_true(s->n < 256);
	s->v[s->n++] = n;
	return 0;
}

static bool node_holds(const struct idx_node *n, int fam, const uint8_t *addr, uint32_t *ttl)
{
	const struct idx_rrset *rs = idx_node_rrset(n, fam == 4 ? T_A : T_AAAA);
	size_t alen = fam == 4 ? 4 : 16;
	uint32_t pos = 0;
	uint16_t rrlen;
	const uint8_t *rr;
	while (rs != NULL && (rr = idx_rrset_next(n, rs, &pos, &rrlen)) != NULL)
		if (rrlen == 10 + alen && memcmp(rr + 10, addr, alen) == 0) {
			*ttl = idx_rrset_ttl(n, rs);
			return true;
		}
	return false;
}

static void leaves_check(const struct idx_version *v, bool ptr)
{
	static struct node_set all;
	all.n = 0;
	assert_int_equal(idx_walk(v, NULL, 0, set_cb, &all), 0);
	for (int fam = 4; fam <= 6; fam += 2) {
		for (int k = 0; k < LPOOL; k++) {
			uint8_t addr[16];
			pool_addr(fam, k, addr);
			const struct idx_addr *a = idx_addr_find(v, fam, addr);
			int want = 0;
			uint32_t ttl = UINT32_MAX, t1;
			for (int i = 0; i < all.n; i++) {
				if (!node_holds(all.v[i], fam, addr, &t1))
					continue;
				want++;
				ttl = t1 < ttl ? t1 : ttl;
				assert_non_null(a);
				int seen = 0;
				for (uint16_t x = 0; x < a->nowners; x++)
					seen += idx_addr_owner(a, x) == all.v[i];
				assert_int_equal(seen, 1);
			}
			if (want == 0) {
				assert_null(a);
			} else {
				assert_int_equal(a->family, fam);
				assert_memory_equal(a->addr, addr, fam == 4 ? 4 : 16);
				assert_int_equal(a->nowners, want);
				assert_int_equal(idx_addr_ttl(a), ttl);
				for (uint16_t x = 0; x < a->nowners; x++) {
					/* the node the trie returns for the owner's name */
					uint8_t key[DNS_KEY_MAXLEN];
					int kl = dns_name_to_key(key, OWN(idx_addr_owner(a, x)));
					assert_ptr_equal(idx_find(v, key, (size_t)kl), idx_addr_owner(a, x));
				}
			}
			if (!ptr)
				continue;
			char rev[128];
			reverse_name(rev, sizeof(rev), fam, addr);
			static uint8_t q[512], out[4096];
			static struct td_msg msg;
			static const struct answer_conf conf = { .udp_max = 4096 };
			struct answer_info info;
			int ql = td_query(q, sizeof(q), 7, rev, DNS_T_PTR, DNS_CLASS_IN, DNS_OP_QUERY, 0, 4096,
			                  0, false, false);
			assert_true(ql > 0);
			size_t len = answer_message(v, &conf, ANSWER_UDP, q, (size_t)ql, out, sizeof(out),
			                            &info);
			assert_true(len > 0);
			assert_int_equal(td_parse(&msg, out, len), DDI_EOK);
			if (want == 0) {
				assert_int_equal(msg.rcode, DNS_RCODE_NXDOMAIN);
				assert_int_equal(msg.nrr[0], 0);
				continue;
			}
			assert_int_equal(msg.rcode, DNS_RCODE_NOERROR);
			assert_int_equal(msg.nrr[0], want);
			for (int r = 0; r < want; r++) {
				const struct td_rr *rr = &msg.rr[0][r];
				assert_int_equal(rr->type, DNS_T_PTR);
				assert_int_equal(rr->ttl, idx_addr_ttl(a));
				/* the r-th owner, in the leaf's order, spelled as its node */
				const uint8_t *o = OWN(idx_addr_owner(a, r));
				assert_int_equal(rr->rdlen, dns_name_len(o));
				assert_memory_equal(rr->rdata, o, rr->rdlen);
			}
		}
	}
}

/* Random spelling of a name: each letter upper-case with probability 1/4. */
static const char *spell(const char *name, uint64_t *rng)
{
	static __thread char buf[4][64];
	static __thread int next;
	char *b = buf[next++ % 4];
	size_t i = 0;
	for (; name[i] && i < 63; i++) {
		*rng = *rng * 6364136223846793005ULL + 1442695040888963407ULL;
		b[i] = (*rng >> 62) == 0 && name[i] >= 'a' && name[i] <= 'z' ? (char)(name[i] - 32)
		                                                                  : name[i];
	}
	b[i] = 0;
	return b;
}

static void soa_at(struct idx_txn *t, const char *apex)
{
	uint8_t soa[24] = { 0, 22 };   /* . . 0 0 0 0 0 */
	assert_int_equal(idx_txn_rrset_set(t, W(apex), 6, 60, 1, soa, 24), DDI_EOK);
}

/* A copy of v made by a bulk load (zones, then every RRset in key order). */
static struct idx *bulk_copy(const struct idx_version *v)
{
	static struct node_set all;
	all.n = 0;
	assert_int_equal(idx_walk(v, NULL, 0, set_cb, &all), 0);
	struct idx *ix = idx_new();
	struct idx_txn *t = idx_txn_begin(ix);
	for (int i = 0; i < all.n; i++)
		if (all.v[i]->flags & IDX_NODE_APEX)
			assert_int_equal(idx_txn_zone_add(t, OWN(all.v[i])), DDI_EOK);
	for (int i = 0; i < all.n; i++) {
		const struct idx_node *n = all.v[i];
		for (uint16_t r = 0; r < n->nrrsets; r++) {
			static uint8_t rd[8192];
			size_t len = 0;
			uint32_t pos = 0;
			uint16_t rrlen;
			const uint8_t *rr;
			while ((rr = idx_rrset_next(n, &n->rrsets[r], &pos, &rrlen)) != NULL) {
				memcpy(rd + len, rr + 8, (size_t)rrlen - 8);   /* rdlen rdata */
				len += (size_t)rrlen - 8;
			}
			uint32_t rttl = idx_rrset_ttl(n, &n->rrsets[r]);
			assert_int_equal(idx_txn_bulk_rrset(t, OWN(n), n->rrsets[r].type, rttl,
			                                    n->rrsets[r].count, rd, len), DDI_EOK);
		}
	}
	assert_int_equal(idx_txn_commit(t, 1), DDI_EOK);
	return ix;
}

/* The leaves of a and b hold the same owners (by spelling; order may differ) and TTLs. */
static void leaves_same(const struct idx_version *a, const struct idx_version *b)
{
	for (int fam = 4; fam <= 6; fam += 2)
		for (int k = 0; k < LPOOL; k++) {
			uint8_t addr[16];
			pool_addr(fam, k, addr);
			const struct idx_addr *x = idx_addr_find(a, fam, addr), *y = idx_addr_find(b, fam, addr);
			assert_true((x == NULL) == (y == NULL));
			if (x == NULL)
				continue;
			assert_int_equal(x->nowners, y->nowners);
			assert_int_equal(idx_addr_ttl(x), idx_addr_ttl(y));
			for (uint16_t i = 0; i < x->nowners; i++) {
				const uint8_t *ox = OWN(idx_addr_owner(x, i));
				bool found = false;
				for (uint16_t j = 0; j < y->nowners; j++) {
					const uint8_t *oy = OWN(idx_addr_owner(y, j));
					found = found || (dns_name_len(ox) == dns_name_len(oy) &&
					                  memcmp(ox, oy, dns_name_len(ox)) == 0);
				}
				assert_true(found);
			}
		}
}

/* One random change; the outcomes the index may give for it. */
static void leaves_op(struct idx_txn *t, uint64_t *rng)
{
	static const char *zones[] = { "b.example.com", "a.b.example.com", "c.example.com" };
	*rng = *rng * 6364136223846793005ULL + 1442695040888963407ULL;
	uint64_t r = *rng;
	const char *name = spell(mnames[(r >> 33) % MNAMES], rng);
	int ret;
	switch ((r >> 20) % 10) {
	case 0:
	case 1:
	case 2:
	case 3: {
		/* A or AAAA: one or two pool addresses, or (1 in 8) the RRset removed */
		uint16_t type = (r >> 18) & 1 ? T_AAAA : T_A;
		uint8_t addrs[2][16];
		int n = 1 + (int)((r >> 50) & 1);
		pool_addr(type == T_A ? 4 : 6, (int)((r >> 40) % LPOOL), addrs[0]);
		pool_addr(type == T_A ? 4 : 6, (int)((r >> 45) % LPOOL), addrs[1]);
		if (((r >> 51) & 7) == 0)
			n = 0;
		uint32_t ttl = 60 + (uint32_t)((r >> 52) % 4) * 60;
		ret = set_addrs(t, name, type, ttl, n, addrs);
		break;
	}
	case 4:
		ret = del_rrset(t, name, (r >> 18) & 1 ? T_AAAA : T_A);
		break;
	case 5:
		ret = (r >> 18) & 1 ? set_txt(t, name, (r >> 19) & 1 ? "t" : "u") : del_rrset(t, name, T_TXT);
		break;
	case 6:
		ret = (r >> 18) & 1 ? set_ns(t, name, "ns.example.net") : del_rrset(t, name, T_NS);
		break;
	case 7:
	case 8: {
		/* a zone below example.com added or removed */
		const char *z = spell(zones[(r >> 40) % 3], rng);
		ret = (r >> 18) & 1 ? idx_txn_zone_add(t, W(z)) : idx_txn_zone_del(t, W(z));
		assert_true(ret == DDI_EOK || ret == DDI_EEXIST || ret == DDI_ENOZONE);
		return;
	}
	default:
		/* rarely the whole zone goes, and comes back */
		if (((r >> 40) & 7) != 0)
			return;
		ret = idx_txn_zone_del(t, W("example.com"));
		assert_true(ret == DDI_EOK || ret == DDI_ENOZONE);
		assert_int_equal(idx_txn_zone_add(t, W(spell("example.com", rng))), DDI_EOK);
		return;
	}
	assert_true(ret == DDI_EOK || ret == DDI_EOUTZONE);
}

static void test_leaves_random(void **state)
{
	(void)state;
	enum { TXNS = 300, KEEP = 4 };
	uint64_t rng = 0x5eed;
	const struct idx_version *old_v[KEEP];
	int nold = 0;

	setup_thread();
	mnames_init();
	struct idx *ix = idx_new();
	struct idx_txn *t = idx_txn_begin(ix);
	assert_int_equal(idx_txn_zone_add(t, W("example.com")), DDI_EOK);
	assert_int_equal(idx_txn_zone_add(t, W("5.18.198.in-addr.arpa")), DDI_EOK);
	assert_int_equal(idx_txn_zone_add(t, W("2.0.0.0.1.0.0.2.ip6.arpa")), DDI_EOK);
	soa_at(t, "5.18.198.in-addr.arpa");
	soa_at(t, "2.0.0.0.1.0.0.2.ip6.arpa");
	assert_int_equal(idx_txn_commit(t, 0), DDI_EOK);
	rcu_thread_online();   /* versions held below stay allocated */
	for (int x = 0; x < TXNS; x++) {
		t = idx_txn_begin(ix);
		int nops = 1 + (int)((rng = rng * 6364136223846793005ULL + 1442695040888963407ULL) >> 61);
		for (int op = 0; op < nops; op++)
			leaves_op(t, &rng);
		leaves_check(idx_txn_version(t), false);
		if ((rng >> 58) == 0) {
			idx_txn_abort(t);
			leaves_check(idx_acquire(ix), true);
			continue;
		}
		if (nold == KEEP) {
			memmove(old_v, old_v + 1, (KEEP - 1) * sizeof(*old_v));
			nold--;
		}
		old_v[nold++] = idx_acquire(ix);
		assert_int_equal(idx_txn_commit(t, (uint64_t)x + 1), DDI_EOK);
		const struct idx_version *v = idx_acquire(ix);
		leaves_check(v, true);
		for (int k = 0; k < nold; k++)
			leaves_check(old_v[k], true);
		if (x % 10 == 9) {
			/* the bulk load of the same data makes the same leaves */
			struct idx *copy = bulk_copy(v);
			const struct idx_version *cv = idx_acquire(copy);
			leaves_check(cv, true);
			leaves_same(v, cv);
			rcu_thread_offline();   /* a quiescent state: held versions may go */
			idx_free(copy);
			rcu_thread_online();
			nold = 0;
		}
		if (x % 25 == 24) {
			/* let the call_rcu thread free what no one holds any more */
			nold = 0;
			rcu_quiescent_state();
		}
	}
	rcu_thread_offline();
	idx_free(ix);
	teardown_thread();
}

/*
 * Slabs: a bulk load's node blocks and leaves come from arenas; changes
 * replace them one by one (copy-on-write), and an arena is unmapped once
 * the call_rcu thread freed its last block. Aborted loads and idx_free
 * give everything back.
 */
static void slab_load(struct idx_txn *t, int n)
{
	char name[64];
	/* key order of hNNNNN: fixed width */
	for (int k = 0; k < n; k++) {
		snprintf(name, sizeof(name), "h%05d.example.com", k);
		uint8_t rd[6] = { 0, 4, 198, 18, (uint8_t)(k >> 8), (uint8_t)k };
		assert_int_equal(idx_txn_bulk_rrset(t, W(name), T_A, 60, 1, rd, 6), DDI_EOK);
		if (k % 3 == 0) {
			uint8_t txt[4] = { 0, 2, 1, 'x' };
			assert_int_equal(idx_txn_bulk_rrset(t, W(name), T_TXT, 60, 1, txt, 4), DDI_EOK);
		}
	}
}

static void test_slab(void **state)
{
	(void)state;
	enum { N = 20000 };
	char name[64];
	setup_thread();
	size_t base = slab_bytes();

	/* the module alone: an arena goes with its last block, not before */
	struct slab sl = { 0 };
	void *p[3];
	for (int k = 0; k < 3; k++)
		assert_non_null(p[k] = slab_alloc(&sl, 40, 8));
	assert_null(slab_alloc(&sl, SLAB_BLOCK_MAX + 1, 8));
	slab_close(&sl);
	assert_int_equal(slab_bytes(), base + SLAB_ARENA);
	slab_free(p[0], 40);
	slab_free(p[2], 40);
	assert_int_equal(slab_bytes(), base + SLAB_ARENA);
#if defined(__SANITIZE_ADDRESS__)
	/* a freed block of a live arena is poisoned: a stale pointer shows */
	assert_true(__asan_address_is_poisoned(p[0]));
	assert_false(__asan_address_is_poisoned(p[1]));
#endif
	slab_free(p[1], 40);
	assert_int_equal(slab_bytes(), base);

	/* an aborted bulk load */
	struct idx *ix = idx_new();
	struct idx_txn *t = idx_txn_begin(ix);
	assert_int_equal(idx_txn_zone_add(t, W("example.com")), DDI_EOK);
	slab_load(t, N);
	assert_true(slab_bytes() > base);
	idx_txn_abort(t);
	assert_int_equal(slab_bytes(), base);

	/* a committed one, then every node and leaf replaced, in ten txns */
	t = idx_txn_begin(ix);
	assert_int_equal(idx_txn_zone_add(t, W("example.com")), DDI_EOK);
	slab_load(t, N);
	/* a name's node grows in place for its TXT (no dead copy on the garbage
	 * list), except where its arena had no room left */
	assert_non_null(t->bulk);
	assert_true(t->garbage.n <= t->bulk->slab.arenas);
	assert_int_equal(idx_txn_commit(t, 1), DDI_EOK);
	size_t loaded = slab_bytes();
	assert_true(loaded >= base + 2 * SLAB_ARENA);
	for (int round = 0; round < 10; round++) {
		t = idx_txn_begin(ix);
		for (int k = round; k < N; k += 10) {
			snprintf(name, sizeof(name), "h%05d.example.com", k);
			assert_int_equal(set_a(t, name, 120, 0xc6120000u | (uint32_t)k), DDI_EOK);
		}
		assert_int_equal(idx_txn_commit(t, 2 + (uint64_t)round), DDI_EOK);
		rcu_barrier();   /* offline: the replaced blocks are freed */
		if (round < 9)
			assert_true(slab_bytes() > base);
	}
	/* every block of the load is replaced: its arenas are gone */
	assert_int_equal(slab_bytes(), base);
	rcu_thread_online();
	const struct idx_version *v = idx_acquire(ix);
	for (int k = 0; k < N; k++) {
		snprintf(name, sizeof(name), "h%05d.example.com", k);
		const struct idx_node *n = find(v, name);
		uint8_t a[4] = { 198, 18, (uint8_t)(k >> 8), (uint8_t)k };
		const struct idx_addr *l = idx_addr_find(v, 4, a);
		assert_non_null(n);
		assert_non_null(l);
		assert_int_equal(idx_rrset_ttl(n, idx_node_rrset(n, T_A)), 120);
		assert_int_equal(l->nowners, 1);
		assert_ptr_equal(idx_addr_owner(l, 0), n);
		assert_int_equal(idx_addr_ttl(l), 120);
		assert_int_equal(l->slab, 0);
		assert_int_equal(n->key_off & NODE_KEY_SLAB, 0);
	}
	rcu_thread_offline();
	idx_free(ix);

	/* idx_free gives a loaded version's arenas back */
	ix = idx_new();
	t = idx_txn_begin(ix);
	assert_int_equal(idx_txn_zone_add(t, W("example.com")), DDI_EOK);
	slab_load(t, N);
	assert_int_equal(idx_txn_commit(t, 1), DDI_EOK);
	assert_true(slab_bytes() > base);
	idx_free(ix);
	assert_int_equal(slab_bytes(), base);
	teardown_thread();
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_node_layout),
		cmocka_unit_test(test_ent_deleg_outzone),
		cmocka_unit_test(test_nested_zones),
		cmocka_unit_test(test_owner_rebuild),
		cmocka_unit_test(test_addresses),
		cmocka_unit_test(test_cow_versions),
		cmocka_unit_test(test_model),
		cmocka_unit_test(test_leaves_random),
		cmocka_unit_test(test_slab),
		cmocka_unit_test(test_model_stamp_wrap),
		cmocka_unit_test(test_stamp_wrap),
		cmocka_unit_test(test_reader_stress),
		cmocka_unit_test(test_bulk),
		cmocka_unit_test(test_bulk_same_as_incremental),
	};
	rcu_register_thread();
	rcu_thread_offline();
	int ret = cmocka_run_group_tests(tests, NULL, NULL);
	rcu_thread_online();
	rcu_unregister_thread();
	return ret;
}
