/* gss -- GSS-TSIG contexts (RFC 3645) over the system GSS-API: acceptor credentials, the bounded context table, MICs */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <gssapi/gssapi.h>
#include <gssapi/gssapi_krb5.h>

#include "control/ddns/gss.h"
#include "control/log.h"
#include "dns/errcode.h"
#include "dns/name.h"

const char *const gss_outcome_names[GSS_OUT__COUNT] = {
	[GSS_OUT_ESTABLISHED] = "established",
	[GSS_OUT_CONTINUE] = "continue",
	[GSS_OUT_REJECTED] = "rejected",
	[GSS_OUT_BADNAME] = "badname",
	[GSS_OUT_FULL] = "table_full",
	[GSS_OUT_PENDING_EVICTED] = "pending_evicted",
	[GSS_OUT_EXPIRED] = "expired",
	[GSS_OUT_DELETED] = "deleted",
	[GSS_OUT_TKEY_FORMERR] = "tkey_formerr",
	[GSS_OUT_TKEY_BADMODE] = "tkey_badmode",
	[GSS_OUT_TKEY_BADALG] = "tkey_badalg",
	[GSS_OUT_MIC_OK] = "mic_ok",
	[GSS_OUT_MIC_BAD] = "mic_bad",
	[GSS_OUT_SIGNED] = "signed",
};

struct gss_entry {
	struct gss_server *g;            /* for the counters of the MIC functions */
	bool used, established;
	uint8_t name[DNS_NAME_MAXLEN];   /* the TKEY name, lower-case wire */
	uint8_t identity[DNS_NAME_MAXLEN];
	gss_ctx_id_t ctx;
	uint64_t created, expires;       /* unix seconds */
};

struct gss_server {
	gss_cred_id_t cred;
	unsigned max, lifetime;
	uint64_t now;                    /* of the last gss_expire: the lookups' clock */
	struct gss_entry *tab;           /* max entries */
	uint64_t st[GSS_OUT__COUNT];     /* __atomic: gss_stats reads them from another thread */
	uint64_t live;                   /* __atomic */
	uint64_t log_sec;                /* the second the log lines below were counted in */
	unsigned log_n;                  /* lines logged in it */
	uint64_t log_suppressed;         /* lines not logged in it */
};

#define GSS_LOG_PER_SEC 10   /* a flood of bogus TKEYs must not flood the log: counted instead */

/* May a negotiation's outcome be logged at `now`? Reports what the last second suppressed. */
static bool log_ok(struct gss_server *g, uint64_t now)
{
	if (now != g->log_sec) {
		if (g->log_suppressed > 0)
			ddi_log(LOG_SUB_DDNS, LOG_LVL_NOTICE, NULL, "GSS-TSIG: %llu more TKEY log lines "
			        "suppressed (ddiplane_gss_total counts every outcome)",
			        (unsigned long long)g->log_suppressed);
		g->log_sec = now;
		g->log_n = 0;
		g->log_suppressed = 0;
	}
	if (g->log_n < GSS_LOG_PER_SEC) {
		g->log_n++;
		return true;
	}
	g->log_suppressed++;
	return false;
}

void gss_count(struct gss_server *g, enum gss_outcome o)
{
	if (g != NULL)
		__atomic_fetch_add(&g->st[o], 1, __ATOMIC_RELAXED);
}

void gss_stats(const struct gss_server *g, struct gss_stats *out)
{
	memset(out, 0, sizeof(*out));
	if (g == NULL)
		return;
	for (unsigned i = 0; i < GSS_OUT__COUNT; i++)
		out->v[i] = __atomic_load_n(&g->st[i], __ATOMIC_RELAXED);
	out->contexts = __atomic_load_n(&g->live, __ATOMIC_RELAXED);
}

/* The GSS-API's own words for a failure: "major: minor", at most errlen bytes. */
static void gss_err(char *err, size_t errlen, const char *what, OM_uint32 major, OM_uint32 minor)
{
	char mj[256] = "", mn[256] = "";
	OM_uint32 m, ctx = 0;
	gss_buffer_desc b = GSS_C_EMPTY_BUFFER;

	if (gss_display_status(&m, major, GSS_C_GSS_CODE, GSS_C_NO_OID, &ctx, &b) == GSS_S_COMPLETE) {
		snprintf(mj, sizeof(mj), "%.*s", (int)b.length, (const char *)b.value);
		gss_release_buffer(&m, &b);
	}
	ctx = 0;
	if (minor != 0 &&
	    gss_display_status(&m, minor, GSS_C_MECH_CODE, GSS_C_NO_OID, &ctx, &b) == GSS_S_COMPLETE) {
		snprintf(mn, sizeof(mn), "%.*s", (int)b.length, (const char *)b.value);
		gss_release_buffer(&m, &b);
	}
	snprintf(err, errlen, "%s: %s%s%s", what, mj, mn[0] ? ": " : "", mn);
}

int gss_principal_name(uint8_t out[DNS_NAME_MAXLEN], const char *principal)
{
	char buf[DNS_NAME_STRLEN + 2];
	size_t n = strlen(principal);

	/* a backslash would be an escape of the name syntax, not of the principal */
	if (n == 0 || n >= DNS_NAME_STRLEN || strchr(principal, '\\') != NULL ||
	    principal[n - 1] == '.')
		return DDI_ESYNTAX;
	memcpy(buf, principal, n);
	buf[n] = '.';
	int r = dns_name_from_str(out, buf, n + 1, NULL);
	if (r < 0)
		return r;
	dns_name_lower(out);
	return r;
}

int gss_server_new(struct gss_server **out, const struct gss_conf *conf, char *err, size_t errlen)
{
	OM_uint32 major, minor;
	gss_name_t name = GSS_C_NO_NAME;

	*out = NULL;
	if (conf->principal == NULL || conf->principal[0] == '\0') {
		snprintf(err, errlen, "no GSS-TSIG principal given (--gss-principal DNS/host@REALM)");
		return DDI_EINVAL;
	}
	if (conf->keytab != NULL &&
	    krb5_gss_register_acceptor_identity(conf->keytab) != GSS_S_COMPLETE) {
		snprintf(err, errlen, "cannot use keytab %s", conf->keytab);
		return DDI_EACCES;
	}
	gss_buffer_desc nb = { strlen(conf->principal), (void *)conf->principal };
	major = gss_import_name(&minor, &nb, GSS_KRB5_NT_PRINCIPAL_NAME, &name);
	if (GSS_ERROR(major)) {
		gss_err(err, errlen, "bad principal", major, minor);
		return DDI_EINVAL;
	}
	struct gss_server *g = calloc(1, sizeof(*g));
	if (g == NULL) {
		gss_release_name(&minor, &name);
		return DDI_ENOMEM;
	}
	g->max = conf->max_contexts ? conf->max_contexts : GSS_DEFAULT_MAX_CONTEXTS;
	g->lifetime = conf->lifetime ? conf->lifetime : GSS_DEFAULT_LIFETIME;
	g->tab = calloc(g->max, sizeof(*g->tab));
	if (g->tab == NULL) {
		gss_release_name(&minor, &name);
		free(g);
		return DDI_ENOMEM;
	}
	/* fail now, with the library's words, rather than at the first TKEY */
	major = gss_acquire_cred(&minor, name, GSS_C_INDEFINITE, GSS_C_NO_OID_SET, GSS_C_ACCEPT,
	                         &g->cred, NULL, NULL);
	gss_release_name(&minor, &name);
	if (GSS_ERROR(major)) {
		char what[512];
		snprintf(what, sizeof(what), "no credentials for %s in %s", conf->principal,
		         conf->keytab ? conf->keytab : "the default keytab");
		gss_err(err, errlen, what, major, minor);
		free(g->tab);
		free(g);
		return DDI_EACCES;
	}
	*out = g;
	return DDI_EOK;
}

static void entry_drop(struct gss_server *g, struct gss_entry *e)
{
	OM_uint32 minor;
	if (e->ctx != GSS_C_NO_CONTEXT)
		gss_delete_sec_context(&minor, &e->ctx, GSS_C_NO_BUFFER);
	memset(e, 0, sizeof(*e));
	__atomic_fetch_sub(&g->live, 1, __ATOMIC_RELAXED);
}

void gss_server_free(struct gss_server *g)
{
	OM_uint32 minor;
	if (g == NULL)
		return;
	for (unsigned i = 0; i < g->max; i++)
		if (g->tab[i].used)
			entry_drop(g, &g->tab[i]);
	gss_release_cred(&minor, &g->cred);
	free(g->tab);
	free(g);
}

static struct gss_entry *find(struct gss_server *g, const uint8_t *name)
{
	for (unsigned i = 0; i < g->max; i++)
		if (g->tab[i].used && dns_name_equal(g->tab[i].name, name))
			return &g->tab[i];
	return NULL;
}

void gss_expire(struct gss_server *g, uint64_t now)
{
	if (g == NULL)
		return;
	g->now = now;
	for (unsigned i = 0; i < g->max; i++)
		if (g->tab[i].used && g->tab[i].expires <= now) {
			entry_drop(g, &g->tab[i]);
			gss_count(g, GSS_OUT_EXPIRED);
		}
}

int gss_delete(struct gss_server *g, const uint8_t *name)
{
	struct gss_entry *e = find(g, name);
	if (e == NULL)
		return DDI_ENOENT;
	entry_drop(g, e);
	gss_count(g, GSS_OUT_DELETED);
	return DDI_EOK;
}

/* The oldest pending (half-negotiated) context other than `keep`, and how many are pending. */
static struct gss_entry *oldest_pending(struct gss_server *g, const struct gss_entry *keep,
                                        unsigned *pending)
{
	struct gss_entry *oldest = NULL;
	*pending = 0;
	for (unsigned i = 0; i < g->max; i++) {
		struct gss_entry *e = &g->tab[i];
		if (!e->used || e->established)
			continue;
		(*pending)++;
		if (e != keep && (oldest == NULL || e->created < oldest->created))
			oldest = e;
	}
	return oldest;
}

/*
 * A free slot for a new negotiation: an empty or expired one; else the
 * oldest pending one (a stranger's half-negotiation never keeps a client
 * with a ticket out). NULL: every slot holds a live established key.
 */
static struct gss_entry *slot(struct gss_server *g, uint64_t now)
{
	for (unsigned i = 0; i < g->max; i++) {
		struct gss_entry *e = &g->tab[i];
		if (!e->used)
			return e;
		if (e->expires <= now) {
			entry_drop(g, e);
			gss_count(g, GSS_OUT_EXPIRED);
			return e;
		}
	}
	unsigned pending;
	struct gss_entry *old = oldest_pending(g, NULL, &pending);
	if (old != NULL) {
		entry_drop(g, old);
		gss_count(g, GSS_OUT_PENDING_EVICTED);
	}
	return old;
}

/* At most a quarter of the table pending: the oldest others make room for `e`. */
static void pending_bound(struct gss_server *g, const struct gss_entry *e)
{
	unsigned pending, cap = (g->max + 3) / 4;
	struct gss_entry *old;
	while ((old = oldest_pending(g, e, &pending)) != NULL && pending > cap) {
		entry_drop(g, old);
		gss_count(g, GSS_OUT_PENDING_EVICTED);
	}
}

/* The initiator's name as our policy knows it; false when it is not a principal we can name. */
static bool identity_of(gss_name_t src, uint8_t out[DNS_NAME_MAXLEN], char *text, size_t tlen)
{
	OM_uint32 minor;
	gss_buffer_desc b = GSS_C_EMPTY_BUFFER;
	if (GSS_ERROR(gss_display_name(&minor, src, &b, NULL)))
		return false;
	bool ok = b.length > 0 && b.length < tlen && memchr(b.value, 0, b.length) == NULL;
	if (ok) {
		memcpy(text, b.value, b.length);
		text[b.length] = '\0';
		ok = gss_principal_name(out, text) > 0;
	}
	gss_release_buffer(&minor, &b);
	return ok;
}

enum gss_accept_result gss_accept(struct gss_server *g, const uint8_t *name, const uint8_t *token,
                                  size_t token_len, uint64_t now, uint8_t *out, size_t cap,
                                  size_t *out_len, uint64_t *expires)
{
	OM_uint32 major, minor, flags = 0, time_rec = 0;
	gss_name_t src = GSS_C_NO_NAME;
	gss_buffer_desc in = { token_len, (void *)token }, ob = GSS_C_EMPTY_BUFFER;
	char who[DNS_NAME_STRLEN], tname[DNS_NAME_STRLEN] = "?";

	*out_len = 0;
	dns_name_to_str(tname, sizeof(tname), name);
	struct gss_entry *e = find(g, name);
	if (e != NULL && (e->established || e->expires <= now)) {
		if (e->established && e->expires > now) {
			gss_count(g, GSS_OUT_BADNAME);
			return GSS_ACCEPT_BADNAME;
		}
		entry_drop(g, e);   /* an expired one: the name is free again */
		gss_count(g, GSS_OUT_EXPIRED);
		e = NULL;
	}
	if (e == NULL) {
		if ((e = slot(g, now)) == NULL) {
			gss_count(g, GSS_OUT_FULL);
			if (log_ok(g, now))
				ddi_log(LOG_SUB_DDNS, LOG_LVL_WARNING, NULL, "TKEY %s refused: %u GSS-TSIG "
				        "contexts live (--gss-max-contexts)", tname, g->max);
			return GSS_ACCEPT_FULL;
		}
		e->used = true;
		e->g = g;
		e->ctx = GSS_C_NO_CONTEXT;
		e->created = now;
		e->expires = now + GSS_PENDING_LIFETIME;
		memcpy(e->name, name, dns_name_len(name));
		dns_name_lower(e->name);
		__atomic_fetch_add(&g->live, 1, __ATOMIC_RELAXED);
	}
	major = gss_accept_sec_context(&minor, &e->ctx, g->cred, &in, GSS_C_NO_CHANNEL_BINDINGS,
	                               &src, NULL, &ob, &flags, &time_rec, NULL);
	enum gss_accept_result res;
	if (GSS_ERROR(major) || ob.length > cap || ob.length > GSS_TOKEN_MAX) {
		char why[512];
		gss_err(why, sizeof(why), "rejected", major, minor);
		if (log_ok(g, now))
			ddi_log(LOG_SUB_DDNS, LOG_LVL_NOTICE, NULL, "TKEY %s: GSS-API negotiation %s",
			        tname, GSS_ERROR(major) ? why : "rejected: output token too long");
		entry_drop(g, e);
		gss_count(g, GSS_OUT_REJECTED);
		res = GSS_ACCEPT_REJECTED;
	} else if (major & GSS_S_CONTINUE_NEEDED) {
		gss_count(g, GSS_OUT_CONTINUE);
		pending_bound(g, e);
		res = GSS_ACCEPT_CONTINUE;
	} else if (!(flags & GSS_C_INTEG_FLAG) || !identity_of(src, e->identity, who, sizeof(who))) {
		/* no MICs, or an initiator we could never name in a policy: useless as a key */
		if (log_ok(g, now))
			ddi_log(LOG_SUB_DDNS, LOG_LVL_NOTICE, NULL, "TKEY %s: GSS-API context without "
			        "integrity or with an unusable principal", tname);
		entry_drop(g, e);
		gss_count(g, GSS_OUT_REJECTED);
		res = GSS_ACCEPT_REJECTED;
	} else {
		uint64_t life = g->lifetime;
		if (time_rec != GSS_C_INDEFINITE && time_rec < life)
			life = time_rec;
		e->established = true;
		e->expires = now + (life ? life : 1);
		*expires = e->expires;
		gss_count(g, GSS_OUT_ESTABLISHED);
		if (log_ok(g, now))
			ddi_log(LOG_SUB_DDNS, LOG_LVL_INFO, NULL, "TKEY %s: GSS-TSIG key for %s, %llu s",
			        tname, who, (unsigned long long)life);
		res = GSS_ACCEPT_COMPLETE;
	}
	if (res == GSS_ACCEPT_COMPLETE || res == GSS_ACCEPT_CONTINUE) {
		if (ob.length > 0)
			memcpy(out, ob.value, ob.length);
		*out_len = ob.length;
	}
	gss_release_buffer(&minor, &ob);
	if (src != GSS_C_NO_NAME)
		gss_release_name(&minor, &src);
	return res;
}

/* RFC 3645 3.3/4: the MAC of a GSS-TSIG message is a MIC of the TSIG digest data. */
static int mic_verify(void *ctx, const uint8_t *data, size_t len, const uint8_t *mic,
                      size_t mic_len)
{
	struct gss_entry *e = ctx;
	OM_uint32 minor, major;
	gss_buffer_desc m = { len, (void *)data }, t = { mic_len, (void *)mic };
	major = gss_verify_mic(&minor, e->ctx, &m, &t, NULL);
	/* supplementary bits (a duplicate or out-of-order token) are not errors: TSIG's time check
	 * bounds replays, and UDP reorders */
	bool ok = !GSS_ERROR(major);
	gss_count(e->g, ok ? GSS_OUT_MIC_OK : GSS_OUT_MIC_BAD);
	return ok ? 0 : -1;
}

static int mic_sign(void *ctx, const uint8_t *data, size_t len, uint8_t *out, size_t cap)
{
	struct gss_entry *e = ctx;
	OM_uint32 minor, major;
	gss_buffer_desc m = { len, (void *)data }, t = GSS_C_EMPTY_BUFFER;
	major = gss_get_mic(&minor, e->ctx, GSS_C_QOP_DEFAULT, &m, &t);
	if (GSS_ERROR(major))
		return DDI_EIO;
	int r = t.length <= cap ? (int)t.length : DDI_ESPACE;
	if (r > 0)
		memcpy(out, t.value, t.length);
	gss_release_buffer(&minor, &t);
	if (r > 0)
		gss_count(e->g, GSS_OUT_SIGNED);
	return r;
}

static const struct tsig_mic_ops mic_ops = { .verify = mic_verify, .sign = mic_sign };

int gss_lookup(void *ctx, const uint8_t *name, struct tsig_key *out)
{
	struct gss_server *g = ctx;
	struct gss_entry *e = g ? find(g, name) : NULL;
	if (e == NULL || !e->established || e->expires <= g->now)
		return DDI_ENOENT;
	memset(out, 0, sizeof(*out));
	memcpy(out->name, e->name, dns_name_len(e->name));
	out->alg = TSIG_GSS;
	out->mic = &mic_ops;
	out->mic_ctx = e;
	out->identity = e->identity;
	return DDI_EOK;
}
