/* test_gss -- GSS-TSIG without a KDC: the TKEY parser and answers, the context table's bounds (SPNEGO legs, expiry), gss-tsig MIC dispatch in TSIG */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cmocka.h>
#include <krb5.h>

#include "control/ddns/gss.h"
#include "control/ddns/tkey.h"
#include "control/ddns/tsig.h"
#include "dns/errcode.h"
#include "dns/name.h"
#include "dns/rdata.h"
#include "dns/wire.h"

#define NOW 1700000000u
#define PRINCIPAL "DNS/ns1.ddi.test@DDI.TEST"

/* ------------------------------------------------------------------------ */
/* Building TKEY queries                                                    */
/* ------------------------------------------------------------------------ */

static size_t put_name(uint8_t *p, const char *s)
{
	uint8_t w[DNS_NAME_MAXLEN];
	int n = dns_name_from_str(w, s, strlen(s), NULL);
	assert_true(n > 0);
	memcpy(p, w, (size_t)n);
	return (size_t)n;
}

struct tq {
	const char *qname, *owner, *alg;
	uint16_t qtype, mode, an, ar, qd;
	const uint8_t *token;
	size_t token_len;
	int rdlen_delta;     /* lie in the rdlength */
	bool tsig_first;     /* a TSIG RR before the TKEY RR */
};

/* A TKEY query as nsupdate -g sends it (TKEY in the additional section), varied by `t`. */
static size_t tkey_msg(uint8_t *m, const struct tq *t)
{
	size_t p = DNS_HDR_LEN;
	uint16_t an = t->an, ar = t->ar;
	if (an == 0 && ar == 0)
		ar = 1;
	memset(m, 0, DNS_HDR_LEN);
	dns_put16(m, 0x4242);
	dns_put16(m + 4, t->qd ? t->qd : 1);
	dns_put16(m + 6, an);
	dns_put16(m + 10, (uint16_t)(ar + (t->tsig_first ? 1 : 0)));
	p += put_name(m + p, t->qname ? t->qname : "1.sig-h1.ddi.test.");
	dns_put16(m + p, t->qtype ? t->qtype : DNS_T_TKEY);
	dns_put16(m + p + 2, DNS_CLASS_ANY);
	p += 4;
	if (t->tsig_first) {   /* an (empty) TSIG RR that is not last */
		p += put_name(m + p, t->qname ? t->qname : "1.sig-h1.ddi.test.");
		dns_put16(m + p, DNS_T_TSIG);
		dns_put16(m + p + 2, DNS_CLASS_ANY);
		dns_put32(m + p + 4, 0);
		dns_put16(m + p + 8, 0);
		p += 10;
	}
	p += put_name(m + p, t->owner ? t->owner : t->qname ? t->qname : "1.sig-h1.ddi.test.");
	dns_put16(m + p, DNS_T_TKEY);
	dns_put16(m + p + 2, DNS_CLASS_ANY);
	dns_put32(m + p + 4, 0);
	size_t rdl_at = p + 8;
	p += 10;
	size_t rd = p;
	p += put_name(m + p, t->alg ? t->alg : "gss-tsig.");
	dns_put32(m + p, NOW);
	dns_put32(m + p + 4, NOW + 3600);
	dns_put16(m + p + 8, t->mode ? t->mode : TKEY_MODE_GSSAPI);
	dns_put16(m + p + 10, 0);
	dns_put16(m + p + 12, (uint16_t)t->token_len);
	p += 14;
	if (t->token_len)
		memcpy(m + p, t->token, t->token_len);
	p += t->token_len;
	dns_put16(m + p, 0);
	p += 2;
	dns_put16(m + rdl_at, (uint16_t)((int)(p - rd) + t->rdlen_delta));
	return p;
}

static const uint8_t junk_token[] = "\x60\x10not-a-kerberos-token";

/* The TKEY answer's mode and error (the RR after the echoed question). */
static void answer_tkey(const uint8_t *r, int n, uint16_t *mode, uint16_t *error, uint16_t *klen)
{
	assert_true(n > DNS_HDR_LEN);
	assert_int_equal(dns_get16(r + 6), 1);
	size_t p = DNS_HDR_LEN;
	while (r[p] != 0)
		p += 1 + r[p];
	p += 5;
	assert_int_equal(dns_get16(r + p), 0xc000 | DNS_HDR_LEN);
	assert_int_equal(dns_get16(r + p + 2), DNS_T_TKEY);
	size_t rdlen = dns_get16(r + p + 10);
	p += 12;
	assert_int_equal(p + rdlen, (size_t)n);   /* the rdata ends the message exactly */
	p += 10;                                  /* "\x08gss-tsig\0" */
	*mode = dns_get16(r + p + 8);
	*error = dns_get16(r + p + 10);
	*klen = dns_get16(r + p + 12);
	assert_int_equal(rdlen, 10 + 14 + *klen + 2);
}

/* ------------------------------------------------------------------------ */
/* The parser                                                               */
/* ------------------------------------------------------------------------ */

static void test_is_query(void **state)
{
	uint8_t m[512];
	(void)state;
	size_t n = tkey_msg(m, &(struct tq){ 0 });
	assert_true(tkey_is_query(m, n));
	assert_false(tkey_is_query(m, 11));
	m[2] |= 0x80;                            /* a response */
	assert_false(tkey_is_query(m, n));
	m[2] &= 0x7f;
	m[2] |= DNS_OP_UPDATE << 3;              /* another opcode */
	assert_false(tkey_is_query(m, n));
	n = tkey_msg(m, &(struct tq){ .qtype = DNS_T_A });
	assert_false(tkey_is_query(m, n));
	n = tkey_msg(m, &(struct tq){ 0 });
	assert_false(tkey_is_query(m, 20));      /* the question cut short */
	/* the O(1) answers: no record past the question, or only an empty OPT */
	dns_put16(m + 10, 0);
	assert_false(tkey_is_query(m, n));
	uint8_t q[64] = { 0x12, 0x34, 0x01, 0x00, 0, 1, 0, 0, 0, 0, 0, 1 };
	size_t p = DNS_HDR_LEN + put_name(q + DNS_HDR_LEN, "k.");
	dns_put16(q + p, DNS_T_TKEY);
	dns_put16(q + p + 2, DNS_CLASS_ANY);
	p += 4;
	static const uint8_t opt[11] = { 0, 0, 41, 0x04, 0xd0, 0, 0, 0x80, 0, 0, 0 };
	memcpy(q + p, opt, sizeof(opt));
	assert_false(tkey_is_query(q, p + sizeof(opt)));
	q[p + 6] = 1;                            /* EDNS version 1: not the common case, walked */
	assert_true(tkey_is_query(q, p + sizeof(opt)));
}

static void test_parse(void **state)
{
	uint8_t m[512];
	struct tkey_query q;
	(void)state;
	size_t n = tkey_msg(m, &(struct tq){ .token = junk_token, .token_len = 18 });
	assert_int_equal(tkey_parse(&q, m, n), DDI_EOK);
	uint8_t want[DNS_NAME_MAXLEN];
	put_name(want, "1.SIG-h1.ddi.test.");
	assert_true(dns_name_equal(q.qname, want));
	assert_int_equal(q.qname[3], 's');   /* lower-cased */
	assert_int_equal(q.tk.mode, TKEY_MODE_GSSAPI);
	assert_int_equal(q.tk.key_len, 18);
	assert_memory_equal(q.tk.key, junk_token, 18);
	assert_int_equal(q.tk.inception, NOW);
	assert_false(q.has_tsig);
	/* the answer section, as Windows sends it */
	n = tkey_msg(m, &(struct tq){ .an = 1 });
	assert_int_equal(tkey_parse(&q, m, n), DDI_EOK);
	/* every malformed form */
	n = tkey_msg(m, &(struct tq){ .owner = "other.ddi.test." });
	assert_int_equal(tkey_parse(&q, m, n), DDI_EMALF);           /* owner is not the question */
	n = tkey_msg(m, &(struct tq){ .rdlen_delta = 1 });
	assert_int_equal(tkey_parse(&q, m, n), DDI_EMALF);           /* rdlength past the end */
	n = tkey_msg(m, &(struct tq){ .rdlen_delta = -1 });
	assert_int_equal(tkey_parse(&q, m, n), DDI_EMALF);           /* rdata not filled */
	n = tkey_msg(m, &(struct tq){ .tsig_first = true });
	assert_int_equal(tkey_parse(&q, m, n), DDI_EMALF);           /* a TSIG not last */
	n = tkey_msg(m, &(struct tq){ 0 });
	dns_put16(m + 10, 0);
	assert_int_equal(tkey_parse(&q, m, n), DDI_EMALF);           /* no TKEY RR, bytes left */
	n = tkey_msg(m, &(struct tq){ 0 });
	assert_int_equal(tkey_parse(&q, m, n - 1), DDI_EMALF);       /* truncated */
	dns_put16(m + 10, 2);
	assert_int_equal(tkey_parse(&q, m, n), DDI_EMALF);           /* a record announced, none */
	n = tkey_msg(m, &(struct tq){ .qd = 2 });
	assert_int_equal(tkey_parse(&q, m, n), DDI_EMALF);           /* two questions */
	/* every prefix of a good message is refused, none read past the end */
	n = tkey_msg(m, &(struct tq){ .token = junk_token, .token_len = 18 });
	for (size_t k = 0; k < n; k++) {
		uint8_t *c = malloc(k ? k : 1);
		memcpy(c, m, k);
		assert_int_equal(tkey_parse(&q, c, k), DDI_EMALF);
		free(c);
	}
}

/* FORMERR, BADALG, BADMODE and (GSS off) REFUSED need no GSS-API at all. */
static void test_serve_without_gss(void **state)
{
	uint8_t m[512], r[1024];
	uint16_t mode, err, klen;
	(void)state;
	size_t n = tkey_msg(m, &(struct tq){ .owner = "x.ddi.test." });
	int rn = tkey_serve(NULL, m, n, NOW, r, sizeof(r));
	assert_int_equal(rn, DNS_HDR_LEN);
	assert_int_equal(DNS_RCODE(dns_get16(r + 2)), DNS_RCODE_FORMERR);
	assert_true(dns_get16(r + 2) & DNS_QR);
	assert_int_equal(dns_get16(r), 0x4242);

	n = tkey_msg(m, &(struct tq){ .alg = "hmac-sha256." });
	rn = tkey_serve(NULL, m, n, NOW, r, sizeof(r));
	assert_int_equal(DNS_RCODE(dns_get16(r + 2)), DNS_RCODE_NOERROR);
	answer_tkey(r, rn, &mode, &err, &klen);
	assert_int_equal(err, TKEY_ERR_BADALG);

	n = tkey_msg(m, &(struct tq){ .mode = 2 });   /* Diffie-Hellman: not offered */
	rn = tkey_serve(NULL, m, n, NOW, r, sizeof(r));
	answer_tkey(r, rn, &mode, &err, &klen);
	assert_int_equal(err, TKEY_ERR_BADMODE);
	assert_int_equal(mode, 2);
	assert_int_equal(klen, 0);

	n = tkey_msg(m, &(struct tq){ .token = junk_token, .token_len = 18 });
	rn = tkey_serve(NULL, m, n, NOW, r, sizeof(r));
	assert_int_equal(DNS_RCODE(dns_get16(r + 2)), DNS_RCODE_REFUSED);
	assert_int_equal(dns_get16(r + 6), 0);

	/* deletion unsigned: NOTAUTH, and no answer bigger than the buffer */
	n = tkey_msg(m, &(struct tq){ .mode = TKEY_MODE_DELETE });
	rn = tkey_serve(NULL, m, n, NOW, r, sizeof(r));
	assert_int_equal(DNS_RCODE(dns_get16(r + 2)), DNS_RCODE_NOTAUTH);
	n = tkey_msg(m, &(struct tq){ .mode = 2 });
	assert_int_equal(tkey_serve(NULL, m, n, NOW, r, 20), DDI_ESPACE);
	/* a response or a runt: no answer */
	m[2] |= 0x80;
	assert_int_equal(tkey_serve(NULL, m, n, NOW, r, sizeof(r)), 0);
	assert_int_equal(tkey_serve(NULL, m, 5, NOW, r, sizeof(r)), 0);
}

/* ------------------------------------------------------------------------ */
/* The context table, with a keytab made here (no KDC: nobody can log in)   */
/* ------------------------------------------------------------------------ */

static char keytab[64];

static int make_keytab(void **state)
{
	krb5_context kc;
	krb5_keytab kt;
	krb5_keytab_entry e;
	char ktname[96];
	(void)state;
	snprintf(keytab, sizeof(keytab), "/tmp/ddi-test-gss-%d.keytab", (int)getpid());
	snprintf(ktname, sizeof(ktname), "FILE:%s", keytab);
	unlink(keytab);
	if (krb5_init_context(&kc) != 0)
		return -1;
	memset(&e, 0, sizeof(e));
	int rc = krb5_kt_resolve(kc, ktname, &kt);
	rc = rc ? rc : krb5_parse_name(kc, PRINCIPAL, &e.principal);
	rc = rc ? rc : krb5_c_make_random_key(kc, ENCTYPE_AES256_CTS_HMAC_SHA1_96, &e.key);
	e.vno = 1;
	rc = rc ? rc : krb5_kt_add_entry(kc, kt, &e);
	krb5_free_keyblock_contents(kc, &e.key);
	krb5_free_principal(kc, e.principal);
	krb5_kt_close(kc, kt);
	krb5_free_context(kc);
	setenv("KRB5RCACHEDIR", "/tmp", 1);
	return rc ? -1 : 0;
}

static int drop_keytab(void **state)
{
	(void)state;
	unlink(keytab);
	return 0;
}

static void test_server_new(void **state)
{
	struct gss_server *g;
	char err[512];
	(void)state;
	assert_int_equal(gss_server_new(&g, &(struct gss_conf){ .keytab = keytab }, err, sizeof(err)),
	                 DDI_EINVAL);
	assert_non_null(strstr(err, "principal"));
	/*
	 * A principal the keytab does not hold: the library's reason, at
	 * startup. In a child that ends with _exit: MIT's gss_acquire_cred
	 * leaks a principal copy on this failure (LeakSanitizer sees it in
	 * libgssapi_krb5), and ddiplane exits on it anyway.
	 */
	int fd[2];
	assert_int_equal(pipe(fd), 0);
	pid_t pid = fork();
	assert_true(pid >= 0);
	if (pid == 0) {
		int rc = gss_server_new(&g, &(struct gss_conf){ .keytab = keytab,
		                        .principal = "DNS/other.ddi.test@DDI.TEST" }, err, sizeof(err));
		if (write(fd[1], err, strlen(err) + 1) < 0)
			_exit(3);
		_exit(rc == DDI_EACCES ? 0 : 1);
	}
	close(fd[1]);
	memset(err, 0, sizeof(err));
	assert_true(read(fd[0], err, sizeof(err) - 1) > 0);
	close(fd[0]);
	int status;
	assert_int_equal(waitpid(pid, &status, 0), pid);
	assert_true(WIFEXITED(status) && WEXITSTATUS(status) == 0);
	assert_non_null(strstr(err, "DNS/other.ddi.test@DDI.TEST"));
	assert_int_equal(gss_server_new(&g, &(struct gss_conf){ .keytab = keytab,
	                 .principal = PRINCIPAL }, err, sizeof(err)), DDI_EOK);
	gss_server_free(g);
}

/*
 * A SPNEGO NegTokenInit that offers Kerberos but carries no mechanism
 * token (RFC 4178 4.2.1: the optimistic token is optional): the acceptor
 * answers "accept-incomplete", so a context waits for a second leg. This
 * is what a stranger can make without a ticket.
 */
static const uint8_t spnego_init[] = {
	0x60, 0x1b, 0x06, 0x06, 0x2b, 0x06, 0x01, 0x05, 0x05, 0x02,      /* SPNEGO */
	0xa0, 0x11, 0x30, 0x0f, 0xa0, 0x0d, 0x30, 0x0b,                    /* NegTokenInit, mechTypes */
	0x06, 0x09, 0x2a, 0x86, 0x48, 0x86, 0xf7, 0x12, 0x01, 0x02, 0x02,  /* krb5 */
};

static void test_tkey_with_gss(void **state)
{
	struct gss_server *g;
	struct gss_stats st;
	uint8_t m[512], r[GSS_TOKEN_MAX + 512];
	uint16_t mode, err, klen;
	char e[512], qn[64];
	(void)state;
	assert_int_equal(gss_server_new(&g, &(struct gss_conf){ .keytab = keytab, .principal = PRINCIPAL,
	                 .max_contexts = 8 }, e, sizeof(e)), DDI_EOK);

	/* a token that is no Kerberos ticket: BADKEY, nothing kept */
	size_t n = tkey_msg(m, &(struct tq){ .token = junk_token, .token_len = 18 });
	int rn = tkey_serve(g, m, n, NOW, r, sizeof(r));
	answer_tkey(r, rn, &mode, &err, &klen);
	assert_int_equal(err, TKEY_ERR_BADKEY);
	assert_int_equal(klen, 0);
	gss_stats(g, &st);
	assert_int_equal(st.v[GSS_OUT_REJECTED], 1);
	assert_int_equal(st.contexts, 0);

	/* SPNEGO without a token: continue needed, one pending context, no key yet */
	n = tkey_msg(m, &(struct tq){ .token = spnego_init, .token_len = sizeof(spnego_init) });
	rn = tkey_serve(g, m, n, NOW, r, sizeof(r));
	answer_tkey(r, rn, &mode, &err, &klen);
	assert_int_equal(err, 0);
	assert_true(klen > 0);
	gss_stats(g, &st);
	assert_int_equal(st.v[GSS_OUT_CONTINUE], 1);
	assert_int_equal(st.contexts, 1);
	struct tsig_key k;
	uint8_t pend[DNS_NAME_MAXLEN];
	put_name(pend, "1.sig-h1.ddi.test.");
	gss_expire(g, NOW);
	assert_int_equal(gss_lookup(g, pend, &k), DDI_ENOENT);   /* pending is not a key */

	/* strangers' pending contexts: at most a quarter of the table (2 of 8), oldest evicted */
	for (int i = 0; i < 10; i++) {
		snprintf(qn, sizeof(qn), "%d.sig-stranger.ddi.test.", i);
		n = tkey_msg(m, &(struct tq){ .qname = qn, .token = spnego_init,
		                              .token_len = sizeof(spnego_init) });
		rn = tkey_serve(g, m, n, NOW + 1 + (unsigned)i, r, sizeof(r));
		answer_tkey(r, rn, &mode, &err, &klen);
		assert_int_equal(err, 0);
	}
	gss_stats(g, &st);
	assert_int_equal(st.contexts, 2);
	assert_int_equal(st.v[GSS_OUT_PENDING_EVICTED], 9);
	assert_int_equal(st.v[GSS_OUT_FULL], 0);

	/* a second leg that is junk: the pending context is dropped, BADKEY */
	snprintf(qn, sizeof(qn), "9.sig-stranger.ddi.test.");
	n = tkey_msg(m, &(struct tq){ .qname = qn, .token = junk_token, .token_len = 18 });
	rn = tkey_serve(g, m, n, NOW + 20, r, sizeof(r));
	answer_tkey(r, rn, &mode, &err, &klen);
	assert_int_equal(err, TKEY_ERR_BADKEY);
	gss_stats(g, &st);
	assert_int_equal(st.contexts, 1);

	/* pending contexts expire after GSS_PENDING_LIFETIME */
	gss_expire(g, NOW + 10 + GSS_PENDING_LIFETIME);
	gss_stats(g, &st);
	assert_int_equal(st.contexts, 0);
	assert_true(st.v[GSS_OUT_EXPIRED] >= 1);
	/* deleting what does not exist */
	assert_int_equal(gss_delete(g, (const uint8_t *)"\x01x\x00"), DDI_ENOENT);
	gss_server_free(g);
}

static void test_principal_name(void **state)
{
	uint8_t w[DNS_NAME_MAXLEN];
	char s[DNS_NAME_STRLEN];
	(void)state;
	assert_true(gss_principal_name(w, "host/h1.ddi.test@DDI.TEST") > 0);
	assert_true(dns_name_to_str(s, sizeof(s), w) > 0);
	assert_string_equal(s, "host/h1.ddi.test\\@ddi.test.");
	assert_true(gss_principal_name(w, "WIN7$@DDI.TEST") > 0);
	assert_int_equal(gss_principal_name(w, ""), DDI_ESYNTAX);
	assert_int_equal(gss_principal_name(w, "a\\.b@R"), DDI_ESYNTAX);   /* no escapes */
	assert_int_equal(gss_principal_name(w, "a..b@R"), DDI_ESYNTAX);
	char longp[300];
	memset(longp, 'a', sizeof(longp) - 1);
	longp[sizeof(longp) - 1] = 0;
	assert_true(gss_principal_name(w, longp) < 0);
}

/* ------------------------------------------------------------------------ */
/* gss-tsig in TSIG: the MIC functions are called, the HMAC rules are not   */
/* ------------------------------------------------------------------------ */

/* A stand-in mechanism: the "MIC" is a 28-byte sum of the data, so a change is seen. */
static int fake_calls_verify, fake_calls_sign;

static void fake_mic(const uint8_t *d, size_t len, uint8_t out[28])
{
	uint32_t h = 2166136261u;
	for (size_t i = 0; i < len; i++)
		h = (h ^ d[i]) * 16777619u;
	for (int i = 0; i < 28; i++)
		out[i] = (uint8_t)(h >> (8 * (i % 4))) ^ (uint8_t)i;
}

static int fake_verify(void *ctx, const uint8_t *data, size_t len, const uint8_t *mic,
                       size_t mic_len)
{
	uint8_t want[28];
	(void)ctx;
	fake_calls_verify++;
	fake_mic(data, len, want);
	return mic_len == 28 && memcmp(mic, want, 28) == 0 ? 0 : -1;
}

static int fake_sign(void *ctx, const uint8_t *data, size_t len, uint8_t *out, size_t cap)
{
	(void)ctx;
	fake_calls_sign++;
	if (cap < 28)
		return DDI_ESPACE;
	fake_mic(data, len, out);
	return 28;
}

static const struct tsig_mic_ops fake_ops = { fake_verify, fake_sign };
static const uint8_t gss_keyname[] = "\x03" "123\x09" "sig-h1ddi\x00";
static const uint8_t identity[] = "\x07" "host/h1\x03" "ddi\x09" "test@ddi\x04" "test";

static int fake_lookup(void *ctx, const uint8_t *name, struct tsig_key *out)
{
	(void)ctx;
	if (!dns_name_equal(name, gss_keyname))
		return DDI_ENOENT;
	memset(out, 0, sizeof(*out));
	memcpy(out->name, gss_keyname, dns_name_len(gss_keyname));
	out->alg = TSIG_GSS;
	out->mic = &fake_ops;
	out->identity = identity;
	return DDI_EOK;
}

static size_t update_msg(uint8_t *m)
{
	memset(m, 0, DNS_HDR_LEN);
	dns_put16(m, 0x1111);
	dns_put16(m + 2, DNS_OP_UPDATE << 11);
	dns_put16(m + 4, 1);
	size_t p = DNS_HDR_LEN + put_name(m + DNS_HDR_LEN, "ddi.test.");
	dns_put16(m + p, DNS_T_SOA);
	dns_put16(m + p + 2, 1);
	return p + 4;
}

static void test_tsig_dispatch(void **state)
{
	uint8_t m[1024], r[1024];
	struct tsig_key k;
	struct tsig_ctx tc;
	size_t pos;
	(void)state;
	assert_int_equal(tsig_alg_from_wire((const uint8_t *)"\x08gss-tsig"), TSIG_GSS);
	/* gss-tsig is never a shared-secret key */
	assert_int_equal(tsig_alg_from_str("gss-tsig", 8), TSIG_ALG_NONE);
	assert_int_not_equal(tsig_key_parse(&k, "gss-tsig:x.:c2VjcmV0"), DDI_EOK);
	assert_int_equal(tsig_key_generate(&k, gss_keyname, TSIG_GSS), DDI_EINVAL);

	/* the client signs with the stand-in mechanism through the same dispatch */
	assert_int_equal(fake_lookup(NULL, gss_keyname, &k), DDI_EOK);
	size_t len = update_msg(m);
	assert_int_equal(tsig_sign(&k, NULL, 0, m, &len, sizeof(m), NOW, 300, NULL), 28);
	assert_int_equal(fake_calls_sign, 1);
	assert_int_equal(tsig_find(m, len, &pos), DDI_EOK);
	assert_int_equal(tsig_verify(&tc, m, len, pos, NOW, fake_lookup, NULL), TSIG_OK);
	assert_int_equal(fake_calls_verify, 1);
	assert_ptr_equal(tc.key.identity, identity);   /* update.c checks the policy with it */

	/* the answer is signed with a MIC over the request's MIC and the answer */
	memcpy(r, m, DNS_HDR_LEN);
	dns_put16(r + 2, DNS_QR | DNS_OP_UPDATE << 11);
	dns_put16(r + 10, 0);
	size_t rl = DNS_HDR_LEN;
	dns_put16(r + 4, 0);
	assert_int_equal(tsig_sign_response(&tc, r, &rl, sizeof(r), NOW), DDI_EOK);
	assert_int_equal(fake_calls_sign, 2);
	struct tsig_rr rr;
	assert_int_equal(tsig_verify_response(&rr, &k, tc.req.mac, tc.req.mac_len, r, rl, NOW),
	                 TSIG_OK);

	/* a flipped byte in the signed part: the mechanism says no, BADSIG */
	m[DNS_HDR_LEN + 1] ^= 1;
	assert_int_equal(tsig_verify(&tc, m, len, pos, NOW, fake_lookup, NULL), TSIG_BADSIG);
	m[DNS_HDR_LEN + 1] ^= 1;
	/* outside the fudge: BADTIME after a good MIC */
	assert_int_equal(tsig_verify(&tc, m, len, pos, NOW + 301, fake_lookup, NULL), TSIG_BADTIME);
	/* a context that is gone (expired, deleted): BADKEY */
	assert_int_equal(tsig_verify(&tc, m, len, pos, NOW, NULL, NULL), TSIG_BADKEY);
	/* a gss-tsig key with no mechanism cannot sign */
	k.mic = NULL;
	len = update_msg(m);
	assert_true(tsig_sign(&k, NULL, 0, m, &len, sizeof(m), NOW, 300, NULL) < 0);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_is_query),
		cmocka_unit_test(test_parse),
		cmocka_unit_test(test_serve_without_gss),
		cmocka_unit_test(test_principal_name),
		cmocka_unit_test(test_tsig_dispatch),
		cmocka_unit_test(test_server_new),
		cmocka_unit_test(test_tkey_with_gss),
	};
	return cmocka_run_group_tests(tests, make_keytab, drop_keytab);
}
