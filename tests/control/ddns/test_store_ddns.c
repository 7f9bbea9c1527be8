/* test_store_ddns -- the store's dynamic-update parts: keys, policies, journal notes, store_transact atomicity, ddns_serve */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <pthread.h>
#include <time.h>
#include <unistd.h>

#include <cmocka.h>

#include "control/ddns/keys.h"
#include "control/ddns/serve.h"
#include "control/ddns/thread.h"
#include "control/ddns/policy.h"
#include "control/store/store.h"
#include "control/ddns/tsig.h"
#include "dns/errcode.h"
#include "dns/name.h"
#include "dns/rdata.h"
#include "dns/wire.h"

struct fx {
	char dir[64];
	struct store *s;
};

static const uint8_t ZONE[] = "\3ddi\4test";
static const uint8_t KEY[] = "\3dyn\3key";

static void name(uint8_t out[DNS_NAME_MAXLEN], const char *s)
{
	assert_true(dns_name_from_str(out, s, strlen(s), NULL) > 0);
}

static int setup(void **state)
{
	struct fx *f = calloc(1, sizeof(*f));
	struct store_options o = { .create = true, .map_size = 64u << 20 };
	struct store_error e;
	snprintf(f->dir, sizeof(f->dir), "/tmp/ddi-test-ddns.XXXXXX");
	if (!f || !mkdtemp(f->dir) || store_open(&f->s, f->dir, &o, &e) != 0)
		return -1;
	/* ddi.test. with an SOA */
	static const uint8_t soa[] = {
		0, 55, 3, 'n', 's', '1', 3, 'd', 'd', 'i', 4, 't', 'e', 's', 't', 0,
		10, 'h', 'o', 's', 't', 'm', 'a', 's', 't', 'e', 'r', 3, 'd', 'd', 'i', 4, 't', 'e', 's', 't', 0,
		0, 0, 0, 1, 0, 0, 0x0e, 0x10, 0, 0, 0x03, 0x84, 0, 0x09, 0x3a, 0x80, 0, 0, 1, 0x2c,
	};
	struct store_op ops[] = {
		{ .kind = STORE_OP_ZONE_ADD, .zone = ZONE },
		{ .kind = STORE_OP_RRSET_REPLACE, .zone = ZONE, .owner = ZONE, .type = DNS_T_SOA,
		  .ttl = 300, .count = 1, .rdatas = soa, .rdatas_len = sizeof(soa) },
	};
	if (store_commit(f->s, NULL, "test", ops, 2, NULL, &e) != 0) {
		fprintf(stderr, "%s\n", e.msg);
		return -1;
	}
	*state = f;
	return 0;
}

static int teardown(void **state)
{
	struct fx *f = *state;
	char cmd[128];
	store_close(f->s);
	snprintf(cmd, sizeof(cmd), "rm -rf '%s'", f->dir);
	assert_int_equal(system(cmd), 0);
	free(f);
	return 0;
}

static void key_add(struct fx *f, const uint8_t *kname, const char *secret_b64)
{
	char v[256];
	struct store_error e;
	snprintf(v, sizeof(v), "{\"algorithm\":\"hmac-sha256\",\"secret\":\"%s\",\"created\":1}",
	         secret_b64);
	struct store_op op = { .kind = STORE_OP_KEY_ADD, .owner = kname, .rdatas = (uint8_t *)v,
	                       .rdatas_len = strlen(v) };
	assert_int_equal(store_commit(f->s, NULL, "unix:test", &op, 1, NULL, &e), 0);
}

static int count_keys(void *ctx, const uint8_t *n, const char *alg, int64_t created)
{
	(void)n;
	assert_string_equal(alg, "hmac-sha256");
	assert_int_equal(created, 1);
	(*(int *)ctx)++;
	return 0;
}

static void test_keys(void **state)
{
	struct fx *f = *state;
	struct store_error e;
	struct tsig_key k;
	int n = 0;
	key_add(f, KEY, "c2VjcmV0c2VjcmV0c2VjcmV0");
	assert_int_equal(ddns_key_get(f->s, NULL, (const uint8_t *)"\3DYN\3KEY", &k, &e), 0);
	assert_int_equal(k.alg, TSIG_HMAC_SHA256);
	assert_int_equal(k.secret_len, 18);
	assert_memory_equal(k.secret, "secretsecretsecret", 18);
	assert_int_equal(ddns_key_list(f->s, NULL, count_keys, &n, &e), 0);
	assert_int_equal(n, 1);
	/* a second add of the same name is refused and changes nothing */
	char v[] = "{\"algorithm\":\"hmac-sha256\",\"secret\":\"eA==\",\"created\":1}";
	struct store_op op = { .kind = STORE_OP_KEY_ADD, .owner = KEY, .rdatas = (uint8_t *)v,
	                       .rdatas_len = strlen(v) };
	assert_int_equal(store_commit(f->s, NULL, "t", &op, 1, NULL, &e), DDI_EEXIST);
	assert_int_equal(ddns_key_get(f->s, NULL, KEY, &k, &e), 0);
	assert_int_equal(k.secret_len, 18);
	/* policy for it, then removing the key removes the policy */
	uint8_t kn[DNS_NAME_MAXLEN];
	name(kn, "dyn.key.");
	char pj[] = "[{\"key\":\"dyn.key.\",\"action\":\"grant\",\"match\":\"subdomain\",\"name\":\"ddi.test.\","
	            "\"types\":[],\"prefixes\":[],\"sources\":[]}]";
	struct store_op pop = { .kind = STORE_OP_POLICY_SET, .owner = kn, .count = 1,
	                        .rdatas = (uint8_t *)pj, .rdatas_len = strlen(pj) };
	assert_int_equal(store_commit(f->s, NULL, "t", &pop, 1, NULL, &e), 0);
	struct pol_set ps = { 0 };
	assert_int_equal(ddns_policy_load(f->s, NULL, &ps, &e), 0);
	assert_int_equal(ps.n, 1);
	assert_int_equal(ps.rules[0].action, POL_GRANT);
	/* a count that does not match the array is refused */
	pop.count = 2;
	assert_int_equal(store_commit(f->s, NULL, "t", &pop, 1, NULL, &e), DDI_EINVAL);
	struct store_op rop = { .kind = STORE_OP_KEY_REMOVE, .owner = KEY };
	assert_int_equal(store_commit(f->s, NULL, "t", &rop, 1, NULL, &e), 0);
	assert_int_equal(ddns_key_get(f->s, NULL, KEY, &k, &e), DDI_ENOENT);
	assert_int_equal(ddns_policy_load(f->s, NULL, &ps, &e), 0);
	assert_int_equal(ps.n, 0);
	assert_int_equal(store_commit(f->s, NULL, "t", &rop, 1, NULL, &e), DDI_ENOENT);
	/* a policy for a key that does not exist is refused */
	pop.count = 1;
	assert_int_equal(store_commit(f->s, NULL, "t", &pop, 1, NULL, &e), DDI_ENOENT);
	pol_set_free(&ps);
}

struct jn {
	int n;
	char last[512];
};

static int journal_cb(void *ctx, const struct store_journal_entry *je)
{
	struct jn *j = ctx;
	j->n++;
	snprintf(j->last, sizeof(j->last), "%s", je->json);
	return 0;
}

static void test_journal_note(void **state)
{
	struct fx *f = *state;
	struct store_error e;
	uint64_t seq, last;
	struct jn j = { 0 };
	assert_int_equal(store_last_seq(f->s, &last, &e), 0);
	assert_int_equal(store_journal_note(f->s, NULL, "tsig:k@198.18.0.2", "update ddi.test. REFUSED", &seq,
	                                    &e), 0);
	assert_int_equal(seq, last + 1);
	assert_int_equal(store_journal_read(f->s, seq, 0, journal_cb, &j, &e), 0);
	assert_int_equal(j.n, 1);
	assert_non_null(strstr(j.last, "\"note\":\"update ddi.test. REFUSED\""));
	assert_non_null(strstr(j.last, "\"actor\":\"tsig:k@198.18.0.2\""));
}

/* store_transact: reads inside see the transaction, errors abort everything */
struct tx {
	struct store *s;
	int fail;
	int seen;
	struct store_op op;
	uint8_t owner[DNS_NAME_MAXLEN];
};

static int seen_cb(void *ctx, const uint8_t *o, uint16_t t, uint32_t ttl, uint16_t c,
                   const uint8_t *r, size_t l)
{
	(void)o, (void)t, (void)ttl, (void)r, (void)l;
	*(int *)ctx = c;
	return 0;
}

static int tx_fn(void *arg, struct store_txn *txn, const struct store_op **ops, size_t *nops)
{
	struct tx *t = arg;
	struct store_error e;
	uint8_t apex[DNS_NAME_MAXLEN];
	assert_int_equal(store_zone_of(t->s, txn, t->owner, apex, &e), 0);
	assert_true(dns_name_equal(apex, ZONE));
	t->seen = 0;
	int rc = store_rrset_get(t->s, txn, t->owner, DNS_T_A, seen_cb, &t->seen, &e);
	assert_true(rc == 0 || rc == DDI_ENOENT);
	if (t->fail)
		return t->fail;
	*ops = &t->op;
	*nops = 1;
	return 0;
}

static void test_transact(void **state)
{
	struct fx *f = *state;
	struct store_error e;
	static const uint8_t rd[] = "\0\4\xc6\x12\0\x32";
	struct tx t = { .s = f->s };
	name(t.owner, "h.ddi.test.");
	t.op = (struct store_op){ .kind = STORE_OP_RR_ADD, .owner = t.owner, .type = DNS_T_A,
	                          .ttl = 60, .count = 1, .rdatas = rd, .rdatas_len = 6 };
	uint64_t s0, s1;
	assert_int_equal(store_last_seq(f->s, &s0, &e), 0);
	t.fail = DDI_EINVAL;
	assert_int_equal(store_transact(f->s, NULL, "a", tx_fn, &t, NULL, &e), DDI_EINVAL);
	assert_int_equal(store_last_seq(f->s, &s1, &e), 0);
	assert_int_equal(s1, s0);
	t.fail = 0;
	assert_int_equal(store_transact(f->s, NULL, "a", tx_fn, &t, &s1, &e), 0);
	assert_int_equal(t.seen, 0);
	assert_int_equal(s1, s0 + 1);
	int c = 0;
	assert_int_equal(store_rrset_get(f->s, NULL, t.owner, DNS_T_A, seen_cb, &c, &e), 0);
	assert_int_equal(c, 1);
	/* a second transaction sees the first one's write from inside */
	assert_int_equal(store_transact(f->s, NULL, "a", tx_fn, &t, NULL, &e), 0);
	assert_int_equal(t.seen, 1);
	/* a store refusal of the ops (TTL) aborts the whole transaction */
	t.op.ttl = 0x80000000u;
	assert_int_equal(store_transact(f->s, NULL, "a", tx_fn, &t, NULL, &e), DDI_ETTL);
	/* and after it, the thread is out of the transaction: plain commits work */
	struct store_op del = { .kind = STORE_OP_RRSET_DELETE, .owner = t.owner, .type = DNS_T_A };
	assert_int_equal(store_commit(f->s, NULL, "a", &del, 1, NULL, &e), 0);
}

/* store_batch: nested transactions, one commit; an aborted batch leaves nothing */
static void test_batch(void **state)
{
	struct fx *f = *state;
	struct store_error e;
	static const uint8_t rd[] = "\0\4\xc6\x12\0\x33";
	struct tx t = { .s = f->s };
	uint64_t s0, s1;
	name(t.owner, "b.ddi.test.");
	t.op = (struct store_op){ .kind = STORE_OP_RR_ADD, .owner = t.owner, .type = DNS_T_A,
	                          .ttl = 60, .count = 1, .rdatas = rd, .rdatas_len = 6 };
	assert_int_equal(store_last_seq(f->s, &s0, &e), 0);
	for (int commit = 0; commit < 2; commit++) {
		struct store_txn *b, *b2 = NULL;
		assert_int_equal(store_batch_begin(f->s, &b, &e), 0);
		assert_int_equal(store_batch_begin(f->s, &b2, &e), DDI_EINVAL);
		assert_null(b2);
		/* a write of its own from the batch's thread would wait for itself: refused */
		assert_int_equal(store_journal_note(f->s, NULL, "a", "refused", NULL, &e), DDI_EINVAL);
		assert_int_equal(store_transact(f->s, b, "a", tx_fn, &t, NULL, &e), 0);
		assert_int_equal(t.seen, 0);
		/* a failing message in the batch leaves the others alone */
		t.fail = DDI_EINVAL;
		assert_int_equal(store_transact(f->s, b, "a", tx_fn, &t, NULL, &e), DDI_EINVAL);
		t.fail = 0;
		assert_int_equal(store_journal_note(f->s, b, "a", "refused", NULL, &e), 0);
		/* the second message sees the first one's write */
		assert_int_equal(store_transact(f->s, b, "a", tx_fn, &t, NULL, &e), 0);
		assert_int_equal(t.seen, 1);
		/* a read of its own sees only what is committed */
		int c = 0;
		assert_int_equal(store_rrset_get(f->s, NULL, t.owner, DNS_T_A, seen_cb, &c, &e),
		                 DDI_ENOENT);
		assert_int_equal(store_rrset_get(f->s, b, t.owner, DNS_T_A, seen_cb, &c, &e), 0);
		assert_int_equal(c, 1);
		assert_int_equal(store_batch_end(b, commit, &e), 0);
		assert_int_equal(store_last_seq(f->s, &s1, &e), 0);
		/* aborted: nothing; committed: the add, the note (the second add changed nothing) */
		assert_int_equal(s1, commit ? s0 + 2 : s0);
	}
	assert_int_equal(store_batch_end(NULL, true, &e), DDI_EINVAL);
}

/* ddns_serve end to end on the store: a signed add granted, then refused outside the rule */
static size_t build_update(uint8_t *m, const char *owner, const uint8_t addr[4])
{
	size_t l = 12;
	memset(m, 0, 12);
	dns_put16(m, 0x1234);
	dns_put16(m + 2, DNS_OP_UPDATE << 11);
	dns_put16(m + 4, 1);
	dns_put16(m + 8, 1);
	memcpy(m + l, ZONE, sizeof(ZONE));
	l += sizeof(ZONE);
	dns_put16(m + l, DNS_T_SOA);
	dns_put16(m + l + 2, 1);
	l += 4;
	uint8_t o[DNS_NAME_MAXLEN];
	int ol = dns_name_from_str(o, owner, strlen(owner), NULL);
	memcpy(m + l, o, (size_t)ol);
	l += (size_t)ol;
	dns_put16(m + l, DNS_T_A);
	dns_put16(m + l + 2, 1);
	dns_put16(m + l + 4, 0);
	dns_put16(m + l + 6, 60);
	dns_put16(m + l + 8, 4);
	memcpy(m + l + 10, addr, 4);
	return l + 14;
}

static void test_serve(void **state)
{
	struct fx *f = *state;
	struct store_error e;
	struct tsig_key k;
	uint8_t m[1024], resp[1024];
	static const uint8_t src[4] = { 198, 18, 0, 2 }, a1[4] = { 198, 18, 0, 50 };
	key_add(f, KEY, "c2VjcmV0c2VjcmV0c2VjcmV0");
	char pj[] = "[{\"key\":\"dyn.key.\",\"action\":\"grant\",\"match\":\"subdomain\",\"name\":\"dyn.ddi.test.\","
	            "\"types\":[\"A\"],\"prefixes\":[\"198.18.0.0/24\"],\"sources\":[]}]";
	struct store_op pop = { .kind = STORE_OP_POLICY_SET, .owner = KEY, .count = 1,
	                        .rdatas = (uint8_t *)pj, .rdatas_len = strlen(pj) };
	assert_int_equal(store_commit(f->s, NULL, "t", &pop, 1, NULL, &e), 0);
	assert_int_equal(ddns_key_get(f->s, NULL, KEY, &k, &e), 0);

	struct upd_outcome out;
	struct ddns_refusals *rf = malloc(sizeof(*rf));
	assert_non_null(rf);
	ddns_refusals_init(rf, NULL);
	struct ddns_env env = { .st = f->s, .refusals = rf };
	size_t l = build_update(m, "a.dyn.ddi.test.", a1);
	assert_true(tsig_sign(&k, NULL, 0, m, &l, sizeof(m), (uint64_t)time(NULL), 300, NULL) > 0);
	int n = ddns_serve(&env, m, l, 4, src, resp, sizeof(resp), &out);
	assert_true(n > 12);
	assert_int_equal(resp[3] & 0xf, DNS_RCODE_NOERROR);
	assert_int_equal(out.nops, 1);
	assert_string_equal(out.actor, "tsig:dyn.key@198.18.0.2");
	int c = 0;
	uint8_t o[DNS_NAME_MAXLEN];
	name(o, "a.dyn.ddi.test.");
	assert_int_equal(store_rrset_get(f->s, NULL, o, DNS_T_A, seen_cb, &c, &e), 0);
	assert_int_equal(c, 1);

	/* refused by the key's rule: authenticated, so on record, once per (key, reason) */
	uint64_t last, again;
	for (int i = 0; i < 5; i++) {
		l = build_update(m, "www.ddi.test.", a1);
		assert_true(tsig_sign(&k, NULL, 0, m, &l, sizeof(m), (uint64_t)time(NULL), 300, NULL) > 0);
		n = ddns_serve(&env, m, l, 4, src, resp, sizeof(resp), &out);
		assert_true(n > 12);
		assert_int_equal(resp[3] & 0xf, DNS_RCODE_REFUSED);
		assert_int_equal(out.why, UPD_WHY_POLICY);
		assert_true(out.authenticated);
		assert_string_equal(out.key, "dyn.key");
		if (i == 0)
			assert_int_equal(store_last_seq(f->s, &last, &e), 0);
	}
	name(o, "www.ddi.test.");
	assert_int_equal(store_rrset_get(f->s, NULL, o, DNS_T_A, seen_cb, &c, &e), DDI_ENOENT);
	struct jn j = { 0 };
	assert_int_equal(store_last_seq(f->s, &again, &e), 0);
	assert_int_equal(again, last);   /* the 4 others were folded into that note */
	assert_int_equal(store_journal_read(f->s, last, 0, journal_cb, &j, &e), 0);
	assert_non_null(strstr(j.last, "REFUSED"));
	assert_non_null(strstr(j.last, "tsig:dyn.key@198.18.0.2"));

	/* unsigned, from a source with no rule: counted, never in the store */
	for (int i = 0; i < 20; i++) {
		l = build_update(m, "www.ddi.test.", a1);
		n = ddns_serve(&env, m, l, 4, src, resp, sizeof(resp), &out);
		assert_int_equal(resp[3] & 0xf, DNS_RCODE_REFUSED);
		assert_int_equal(out.why, UPD_WHY_UNSIGNED);
		assert_false(out.authenticated);
	}
	assert_int_equal(store_last_seq(f->s, &again, &e), 0);
	assert_int_equal(again, last);
	struct ddns_refusal_stats rs;
	ddns_refusals_stats(rf, &rs);
	assert_int_equal(rs.why[UPD_WHY_POLICY], 5);
	assert_int_equal(rs.why[UPD_WHY_UNSIGNED], 20);
	assert_int_equal(rs.notes, 1);
	assert_int_equal(rs.folded, 4);
	assert_int_equal(rs.log_lines + rs.log_suppressed, 25);
	free(rf);
}

/* The DDNS thread: a fake source hands 3 updates at once, TCP submits a NOTIFY meanwhile. */
struct fake_src {
	uint8_t frames[3][512];
	size_t lens[3];
	bool taken;
	int gives;                 /* __atomic */
	bool committed;
	int rcodes[3];
};

static unsigned fake_take(void *ctx, struct ddns_msg *msgs, unsigned max)
{
	struct fake_src *fs = ctx;
	static const uint8_t src[4] = { 198, 18, 0, 2 };
	if (fs->taken || max < 3)
		return 0;
	fs->taken = true;
	for (unsigned i = 0; i < 3; i++) {
		msgs[i] = (struct ddns_msg){ .req = fs->frames[i], .len = fs->lens[i], .family = 4,
		                             .resp = fs->frames[i], .cap = sizeof(fs->frames[i]) };
		memcpy(msgs[i].src, src, 4);
	}
	return 3;
}

static unsigned fake_give(void *ctx, struct ddns_msg *msgs, unsigned n, bool committed)
{
	struct fake_src *fs = ctx;
	assert_int_equal(n, 3);
	fs->committed = committed;
	for (unsigned i = 0; i < n; i++)
		fs->rcodes[i] = msgs[i].n >= 12 ? msgs[i].resp[3] & 0xf : -1;
	__atomic_store_n(&fs->gives, 1, __ATOMIC_RELEASE);
	return 0;
}

static void test_thread(void **state)
{
	struct fx *f = *state;
	struct fake_src fs = { 0 };
	static const uint8_t a1[4] = { 198, 18, 0, 51 }, src[4] = { 198, 18, 0, 2 };
	for (unsigned i = 0; i < 3; i++)
		fs.lens[i] = build_update(fs.frames[i], "t.dyn.ddi.test.", a1);   /* unsigned: REFUSED */
	struct ddns_thread *t;
	struct ddns_thread_conf c = { .store = f->s,
	                              .source = { .take = fake_take, .give = fake_give, .ctx = &fs } };
	assert_int_equal(ddns_thread_start(&t, &c), 0);
	ddns_thread_kick(t);

	/* NOTIFY ddi.test. SOA over "TCP": waits for the thread, NOERROR (a zone we serve) */
	uint8_t m[512], resp[512];
	memset(m, 0, 12);
	dns_put16(m, 0x4242);
	dns_put16(m + 2, DNS_OP_NOTIFY << 11);
	dns_put16(m + 4, 1);
	memcpy(m + 12, ZONE, sizeof(ZONE));
	dns_put16(m + 12 + sizeof(ZONE), DNS_T_SOA);
	dns_put16(m + 14 + sizeof(ZONE), 1);
	int n = ddns_thread_submit(t, m, 16 + sizeof(ZONE), 4, src, resp, sizeof(resp));
	assert_true(n >= 12);
	assert_int_equal(dns_get16(resp), 0x4242);
	assert_int_equal(resp[3] & 0xf, DNS_RCODE_NOERROR);

	for (int i = 0; i < 500 && !__atomic_load_n(&fs.gives, __ATOMIC_ACQUIRE); i++)
		usleep(10000);
	assert_int_equal(__atomic_load_n(&fs.gives, __ATOMIC_ACQUIRE), 1);
	assert_true(fs.committed);
	for (unsigned i = 0; i < 3; i++)
		assert_int_equal(fs.rcodes[i], DNS_RCODE_REFUSED);

	struct ddns_stats st;
	ddns_thread_stats(t, &st);
	assert_int_equal(st.v[DDNS_OUT_UDP], 3);
	assert_int_equal(st.v[DDNS_OUT_TCP], 1);
	assert_int_equal(st.v[DDNS_OUT_REFUSED], 3);
	assert_int_equal(st.refusals.why[UPD_WHY_UNSIGNED], 3);
	assert_int_equal(st.refusals.notes, 0);   /* strangers' refusals leave no note */
	assert_int_equal(st.v[DDNS_OUT_NOERROR], 1);
	assert_int_equal(st.v[DDNS_OUT_BATCH_FAILED], 0);
	assert_true(st.v[DDNS_OUT_BATCHES] >= 1 && st.v[DDNS_OUT_BATCHES] <= 2);
	assert_true(st.max_batch >= 3);
	for (unsigned k = 0; k < DDNS_OUT__COUNT; k++)
		assert_non_null(ddns_outcome_names[k]);
	ddns_thread_stop(t);
}

/* ddns_thread_submit_async: done is called once, off the submitter's thread, with the answer and the tag. */
struct async_seen {
	int calls, n, rcode;
	uint16_t id;
	uint64_t tag;
};

static void async_done(void *dctx, uint64_t tag, const uint8_t *resp, int n)
{
	struct async_seen *a = dctx;
	a->n = n;
	a->tag = tag;
	a->id = n >= 12 ? dns_get16(resp) : 0;
	a->rcode = n >= 12 ? resp[3] & 0xf : -1;
	__atomic_fetch_add(&a->calls, 1, __ATOMIC_RELEASE);
}

static void test_thread_async(void **state)
{
	struct fx *f = *state;
	static const uint8_t src[4] = { 198, 18, 0, 2 };
	struct ddns_thread *t;
	struct ddns_thread_conf c = { .store = f->s };
	assert_int_equal(ddns_thread_start(&t, &c), 0);
	uint8_t m[512], resp[512];
	memset(m, 0, 12);
	dns_put16(m, 0x4343);
	dns_put16(m + 2, DNS_OP_NOTIFY << 11);
	dns_put16(m + 4, 1);
	memcpy(m + 12, ZONE, sizeof(ZONE));
	dns_put16(m + 12 + sizeof(ZONE), DNS_T_SOA);
	dns_put16(m + 14 + sizeof(ZONE), 1);
	struct async_seen a = { 0 };
	int n = ddns_thread_submit_async(t, m, 16 + sizeof(ZONE), 4, src, async_done, &a,
	                                 0x1234567800000009ull, resp, sizeof(resp));
	assert_int_equal(n, 0);   /* queued: no answer here */
	for (int i = 0; i < 500 && !__atomic_load_n(&a.calls, __ATOMIC_ACQUIRE); i++)
		usleep(10000);
	assert_int_equal(__atomic_load_n(&a.calls, __ATOMIC_ACQUIRE), 1);
	assert_int_equal(a.id, 0x4343);
	assert_int_equal(a.rcode, DNS_RCODE_NOERROR);
	assert_true(a.tag == 0x1234567800000009ull);
	ddns_thread_stop(t);
	assert_int_equal(a.calls, 1);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_keys, setup, teardown),
		cmocka_unit_test_setup_teardown(test_journal_note, setup, teardown),
		cmocka_unit_test_setup_teardown(test_transact, setup, teardown),
		cmocka_unit_test_setup_teardown(test_batch, setup, teardown),
		cmocka_unit_test_setup_teardown(test_serve, setup, teardown),
		cmocka_unit_test_setup_teardown(test_thread, setup, teardown),
		cmocka_unit_test_setup_teardown(test_thread_async, setup, teardown),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
