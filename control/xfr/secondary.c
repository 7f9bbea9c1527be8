/* secondary -- the refresh thread: SOA timers and NOTIFY, SOA over UDP (TCP when signed), IXFR/AXFR over TCP, one commit per transfer */
#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <netinet/in.h>
#include <poll.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/random.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include <jansson.h>

#include "control/ddns/keys.h"
#include "control/follow/follow.h"
#include "control/log.h"
#include "control/store/store.h"
#include "control/xfr/consume.h"
#include "control/xfr/secondary.h"
#include "control/xfr/xfr.h"
#include "dns/errcode.h"
#include "dns/rdata.h"
#include "dns/wire.h"

struct szone {
	uint8_t apex[DNS_NAME_MAXLEN];
	struct sockaddr_storage prim[XFR_SEC_MAX_PRIMARIES];
	unsigned nprim;
	bool has_key;
	uint8_t key[DNS_NAME_MAXLEN];
	bool seen;                       /* still in the store at the last sync */
	bool force;                      /* next refresh: AXFR without asking the SOA */
	bool again;                      /* a NOTIFY or command came while it was refreshing */
	struct xfr_sec_status st;
	int64_t due;                     /* unix seconds */
	int64_t last_ok;                 /* last successful refresh: the expiry counts from it */
	uint32_t refresh, retry, expire; /* the SOA's timers */
};

struct xfr_secondary {
	struct xfr_sec_conf conf;
	pthread_t thr;
	pthread_mutex_t mu;              /* zones[], the status; held briefly, never across I/O */
	pthread_cond_t cv;
	bool stop, kick;
	struct szone *zones;
	size_t nzones;
	uint64_t synced_seq;
	struct xfr_sec_stats stats;
};

/* The one running thread of the process: the DDNS thread and commands reach it. */
static pthread_mutex_t g_mu = PTHREAD_MUTEX_INITIALIZER;
static struct xfr_secondary *g_sec;

#define CNT(s, f) atomic_fetch_add_explicit((_Atomic uint64_t *)&(s)->stats.f, 1, memory_order_relaxed)

static int64_t now_s(void)
{
	return (int64_t)time(NULL);
}

static uint32_t clamp(uint32_t v)
{
	return v < XFR_SEC_MIN_S ? XFR_SEC_MIN_S : v > XFR_SEC_MAX_S ? XFR_SEC_MAX_S : v;
}

static void addr_text(const struct sockaddr_storage *ss, char *buf, size_t len)
{
	char a[INET6_ADDRSTRLEN] = "?";
	unsigned port;
	if (ss->ss_family == AF_INET) {
		const struct sockaddr_in *s4 = (const void *)ss;
		inet_ntop(AF_INET, &s4->sin_addr, a, sizeof(a));
		port = ntohs(s4->sin_port);
	} else {
		const struct sockaddr_in6 *s6 = (const void *)ss;
		inet_ntop(AF_INET6, &s6->sin6_addr, a, sizeof(a));
		port = ntohs(s6->sin6_port);
	}
	if (port == 53)
		snprintf(buf, len, "%s", a);
	else
		snprintf(buf, len, "%s@%u", a, port);
}

/* ------------------------------------------------------------------------ */
/* Configuration in the zone_acl value                                      */
/* ------------------------------------------------------------------------ */

char *xfr_sec_acl_json(const char *const *primaries, size_t n, const char *key, char *err,
                       size_t errlen)
{
	struct sockaddr_storage ss;
	if (n == 0 || n > XFR_SEC_MAX_PRIMARIES) {
		snprintf(err, errlen, "give 1 to %d primaries", XFR_SEC_MAX_PRIMARIES);
		return NULL;
	}
	json_t *o = json_object(), *a = json_array();
	for (size_t i = 0; i < n; i++) {
		if (xfr_target_parse(&ss, primaries[i]) != 0) {
			snprintf(err, errlen, "primary '%.80s' is not ADDR[@PORT]", primaries[i]);
			json_decref(o);
			json_decref(a);
			return NULL;
		}
		json_array_append_new(a, json_string(primaries[i]));
	}
	json_object_set_new(o, "primaries", a);
	if (key) {
		uint8_t kn[DNS_NAME_MAXLEN];
		char kb[DNS_NAME_STRLEN + 2];
		size_t kl = strlen(key);
		snprintf(kb, sizeof(kb), "%s%s", key, kl && key[kl - 1] == '.' ? "" : ".");
		if (dns_name_from_str(kn, kb, strlen(kb), NULL) <= 0) {
			snprintf(err, errlen, "key '%.80s' is not a name", key);
			json_decref(o);
			return NULL;
		}
		json_object_set_new(o, "primary_key", json_string(kb));
	}
	char *s = json_dumps(o, JSON_COMPACT | JSON_SORT_KEYS);
	json_decref(o);
	if (!s)
		snprintf(err, errlen, "out of memory");
	return s;
}

struct aclcfg {
	struct szone *z;
	bool ok;
};

static int acl_cb(void *ctx, const uint8_t *name, const char *json, size_t len)
{
	struct aclcfg *c = ctx;
	(void)name;
	json_t *o = json_loadb(json, len, 0, NULL), *v;
	json_t *p = json_object_get(o, "primaries"), *k = json_object_get(o, "primary_key");
	size_t i;
	c->z->nprim = 0;
	json_array_foreach(p, i, v) {
		if (c->z->nprim < XFR_SEC_MAX_PRIMARIES && json_is_string(v) &&
		    xfr_target_parse(&c->z->prim[c->z->nprim], json_string_value(v)) == 0)
			c->z->nprim++;
	}
	c->z->has_key = false;
	c->z->st.catalog = json_is_true(json_object_get(o, "consume_catalog"));
	if (json_is_string(k)) {
		const char *ks = json_string_value(k);
		c->z->has_key = dns_name_from_str(c->z->key, ks, strlen(ks), NULL) > 0;
		if (c->z->has_key)
			dns_name_lower(c->z->key);
	}
	c->ok = c->z->nprim > 0;
	json_decref(o);
	return 0;
}

void xfr_sec_zone_roles(struct store *s, json_t *zones)
{
	size_t i;
	json_t *o;
	json_array_foreach(zones, i, o) {
		uint8_t apex[DNS_NAME_MAXLEN];
		const char *z = json_string_value(json_object_get(o, "zone"));
		const char *role = json_string_value(json_object_get(o, "role"));
		if (z && role && strcmp(role, "secondary") == 0 &&
		    dns_name_from_str(apex, z, strlen(z), NULL) > 0)
			xfr_cat_role_json(s, apex, o);
	}
}

bool xfr_sec_primaries_text(struct store *s, const uint8_t *apex, char *buf, size_t len)
{
	struct szone z;
	struct aclcfg c = { &z, false };
	struct store_error e;
	memset(&z, 0, sizeof(z));
	buf[0] = 0;
	if (store_acl_get(s, NULL, apex, acl_cb, &c, &e) != DDI_EOK || !c.ok)
		return false;
	size_t off = 0;
	for (unsigned i = 0; i < z.nprim && off < len; i++) {
		char a[80];
		addr_text(&z.prim[i], a, sizeof(a));
		off += (size_t)snprintf(buf + off, len - off, "%s%s", i ? ", " : "", a);
	}
	return true;
}

/* ------------------------------------------------------------------------ */
/* The zone list, from the store                                           */
/* ------------------------------------------------------------------------ */

static struct szone *zone_find(struct xfr_secondary *s, const uint8_t *apex)
{
	for (size_t i = 0; i < s->nzones; i++)
		if (dns_name_equal(s->zones[i].apex, apex))
			return &s->zones[i];
	return NULL;
}

struct syncctx {
	struct xfr_secondary *s;
	struct szone *fresh;
	size_t n, cap;
};

static int sync_cb(void *ctx, const struct store_zone_info *zi)
{
	struct syncctx *c = ctx;
	struct store_error e;
	if (!(zi->flags & STORE_ZONE_SECONDARY) || c->n >= XFR_SEC_MAX_ZONES)
		return 0;
	if (c->n == c->cap) {
		size_t nc = c->cap ? c->cap * 2 : 16;
		struct szone *nz = realloc(c->fresh, nc * sizeof(*nz));
		if (!nz)
			return DDI_ENOMEM;
		c->fresh = nz;
		c->cap = nc;
	}
	struct szone *z = &c->fresh[c->n];
	memset(z, 0, sizeof(*z));
	memcpy(z->apex, zi->apex, dns_name_len(zi->apex));
	struct aclcfg a = { z, false };
	if (store_acl_get(c->s->conf.store, NULL, zi->apex, acl_cb, &a, &e) != DDI_EOK || !a.ok)
		return 0;   /* no primaries: nothing to follow */
	bool cat = z->st.catalog;
	memset(&z->st, 0, sizeof(z->st));
	z->st.catalog = cat;
	memcpy(z->st.apex, z->apex, sizeof(z->apex));
	z->st.loaded = zi->has_soa;
	z->st.serial = zi->serial;
	c->n++;
	return 0;
}

/* Rebuild the zone list when the journal moved; keep the timers of zones that stay. */
static void zones_sync(struct xfr_secondary *s)
{
	struct store_error e;
	uint64_t seq = 0;
	if (store_last_seq(s->conf.store, &seq, &e) != DDI_EOK || (seq == s->synced_seq && s->zones))
		return;
	struct syncctx c = { .s = s };
	if (store_zone_list(s->conf.store, false, sync_cb, &c, &e) != DDI_EOK) {
		free(c.fresh);
		return;
	}
	pthread_mutex_lock(&s->mu);
	for (size_t i = 0; i < c.n; i++) {
		struct szone *old = zone_find(s, c.fresh[i].apex);
		if (old) {
			struct szone keep = *old;
			memcpy(keep.prim, c.fresh[i].prim, sizeof(keep.prim));
			keep.nprim = c.fresh[i].nprim;
			keep.has_key = c.fresh[i].has_key;
			memcpy(keep.key, c.fresh[i].key, sizeof(keep.key));
			keep.st.loaded = c.fresh[i].st.loaded;
			keep.st.serial = c.fresh[i].st.serial;
			keep.st.catalog = c.fresh[i].st.catalog;
			c.fresh[i] = keep;
		} else {
			c.fresh[i].due = now_s();   /* new, or at start: refresh now */
		}
		size_t off = 0;
		for (unsigned j = 0; j < c.fresh[i].nprim; j++) {
			char a[80];
			addr_text(&c.fresh[i].prim[j], a, sizeof(a));
			off += (size_t)snprintf(c.fresh[i].st.primaries + off,
			                        sizeof(c.fresh[i].st.primaries) - off, "%s%s",
			                        j ? ", " : "", a);
			if (off >= sizeof(c.fresh[i].st.primaries))
				break;
		}
	}
	free(s->zones);
	s->zones = c.fresh;
	s->nzones = c.n;
	s->synced_seq = seq;
	pthread_mutex_unlock(&s->mu);
}

/* ------------------------------------------------------------------------ */
/* Talking to a primary                                                     */
/* ------------------------------------------------------------------------ */

static socklen_t ss_len(const struct sockaddr_storage *ss)
{
	return ss->ss_family == AF_INET ? sizeof(struct sockaddr_in) : sizeof(struct sockaddr_in6);
}

static uint16_t new_id(void)
{
	uint16_t id = 0;
	if (getrandom(&id, sizeof(id), 0) != sizeof(id))
		id = (uint16_t)(now_s() ^ (int64_t)pthread_self());
	return id;
}

/* Wait for fd to be ready (POLLIN/POLLOUT) within ms. */
static bool wait_fd(int fd, short ev, int ms)
{
	struct pollfd p = { .fd = fd, .events = ev };
	int r;
	do
		r = poll(&p, 1, ms);
	while (r < 0 && errno == EINTR);
	return r == 1 && (p.revents & ev);
}

/* RFC 1996 3.11 / RFC 1035 4.3.5: the primary's SOA over UDP, answer parsed by in.c. */
static enum xfr_in_result soa_query(const struct szone *z, const struct sockaddr_storage *p,
                                    const struct tsig_key *key, struct xfr_in *x)
{
	uint8_t q[512], a[4096];
	uint8_t mac[TSIG_MAC_MAX];
	uint16_t maclen = 0, id = new_id();
	int64_t t = now_s();
	int n = xfr_in_query(q, sizeof(q), id, z->apex, DNS_T_SOA, NULL, 0, key, (uint64_t)t, mac,
	                     &maclen);
	xfr_in_init(x, z->apex, DNS_T_SOA, id, 0, key, mac, maclen, NULL);
	if (n < 0) {
		snprintf(x->why, sizeof(x->why), "cannot build the query: %s", ddi_strerror(n));
		return XFR_IN_E_MALFORMED;
	}
	int fd = socket(p->ss_family, SOCK_DGRAM | SOCK_CLOEXEC, 0);
	if (fd < 0 || connect(fd, (const struct sockaddr *)p, ss_len(p)) != 0 ||
	    send(fd, q, (size_t)n, 0) != n) {
		snprintf(x->why, sizeof(x->why), "SOA query: %s", strerror(errno));
		if (fd >= 0)
			close(fd);
		return XFR_IN_E_HEADER;
	}
	/* other datagrams (late answers to an earlier query) are skipped, bounded by the timeout */
	int64_t deadline = t * 1000 + XFR_SEC_UDP_TIMEOUT_MS;
	for (;;) {
		int64_t left = deadline - now_s() * 1000;
		if (left <= 0 || !wait_fd(fd, POLLIN, (int)left)) {
			snprintf(x->why, sizeof(x->why), "SOA query: no answer within %d ms",
			         XFR_SEC_UDP_TIMEOUT_MS);
			close(fd);
			return XFR_IN_E_HEADER;
		}
		ssize_t r = recv(fd, a, sizeof(a), 0);
		if (r >= DNS_HDR_LEN && dns_get16(a) == id) {
			close(fd);
			return xfr_in_message(x, a, (size_t)r, (uint64_t)now_s());
		}
	}
}

static bool read_all(int fd, uint8_t *buf, size_t n)
{
	size_t got = 0;
	while (got < n) {
		if (!wait_fd(fd, POLLIN, XFR_SEC_TCP_TIMEOUT_MS))
			return false;
		ssize_t r = recv(fd, buf + got, n - got, 0);
		if (r <= 0) {
			if (r < 0 && (errno == EINTR || errno == EAGAIN))
				continue;
			return false;
		}
		got += (size_t)r;
	}
	return true;
}

/* An AXFR or IXFR over TCP (RFC 5936 4.2, RFC 7766 8: two-byte length prefix). */
static enum xfr_in_result tcp_xfr(const struct szone *z, const struct sockaddr_storage *p,
                                  const struct tsig_key *key, uint16_t qtype,
                                  const uint8_t *soa, uint16_t soalen, uint32_t serial,
                                  const struct xfr_in_limits *lim, struct xfr_in *x)
{
	uint8_t q[2 + 1024], mac[TSIG_MAC_MAX];
	uint16_t maclen = 0, id = new_id();
	int n = xfr_in_query(q + 2, sizeof(q) - 2, id, z->apex, qtype, soa, soalen, key,
	                     (uint64_t)now_s(), mac, &maclen);
	xfr_in_init(x, z->apex, qtype, id, serial, key, mac, maclen, lim);
	if (n < 0) {
		snprintf(x->why, sizeof(x->why), "cannot build the query: %s", ddi_strerror(n));
		return XFR_IN_E_MALFORMED;
	}
	dns_put16(q, (uint16_t)n);
	int fd = socket(p->ss_family, SOCK_STREAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0);
	if (fd < 0) {
		snprintf(x->why, sizeof(x->why), "socket: %s", strerror(errno));
		return XFR_IN_E_HEADER;
	}
	int rc = connect(fd, (const struct sockaddr *)p, ss_len(p));
	int soerr = 0;
	socklen_t sl = sizeof(soerr);
	if (rc != 0 && errno == EINPROGRESS) {
		if (wait_fd(fd, POLLOUT, XFR_SEC_TCP_TIMEOUT_MS) &&
		    getsockopt(fd, SOL_SOCKET, SO_ERROR, &soerr, &sl) == 0 && soerr == 0)
			rc = 0;
		else
			errno = soerr ? soerr : ETIMEDOUT;
	}
	if (rc != 0 || send(fd, q, (size_t)n + 2, MSG_NOSIGNAL) != n + 2) {
		snprintf(x->why, sizeof(x->why), "TCP: %s", strerror(errno));
		close(fd);
		return XFR_IN_E_HEADER;
	}
	uint8_t *msg = malloc(65535);
	enum xfr_in_result r = XFR_IN_E_NOMEM;
	while (msg) {
		uint8_t lb[2];
		if (!read_all(fd, lb, 2) || !read_all(fd, msg, dns_get16(lb))) {
			snprintf(x->why, sizeof(x->why), "TCP: the connection ended or stalled after %u "
			         "messages", x->nmsg);
			r = XFR_IN_E_MALFORMED;
			break;
		}
		r = xfr_in_message(x, msg, dns_get16(lb), (uint64_t)now_s());
		if (r != XFR_IN_MORE)
			break;
	}
	free(msg);
	close(fd);
	return r;
}

/* ------------------------------------------------------------------------ */
/* One refresh                                                              */
/* ------------------------------------------------------------------------ */

struct soaread {
	uint8_t rd[2 * DNS_NAME_MAXLEN + 20];
	uint16_t len;
	bool have;
};

static int soa_cb(void *ctx, const uint8_t *owner, uint16_t type, uint32_t ttl, uint16_t count,
                  const uint8_t *rdatas, size_t len)
{
	struct soaread *r = ctx;
	(void)owner, (void)type, (void)ttl;
	if (count == 1 && len >= 2 && dns_get16(rdatas) + 2u == len && len - 2 <= sizeof(r->rd)) {
		r->len = (uint16_t)(len - 2);
		memcpy(r->rd, rdatas + 2, r->len);
		r->have = true;
	}
	return 0;
}

/* RFC 1982: a is newer than b. */
static bool serial_newer(uint32_t a, uint32_t b)
{
	return a != b && (uint32_t)(a - b) < 0x80000000u;
}

/* Apply a complete transfer in ONE commit. */
static int apply(struct xfr_secondary *s, const struct xfr_in *x, const char *actor, char *why,
                 size_t wlen)
{
	struct store_op *ops;
	struct store_rr *rrs;
	size_t nops;
	struct store_error e;
	uint64_t seq;
	int rc = xfr_in_ops(x, &ops, &nops, &rrs);
	if (rc == DDI_EOK && nops)
		rc = store_commit(s->conf.store, NULL, actor, ops, nops, &seq, &e);
	if (rc)
		snprintf(why, wlen, "the store refused the transfer: %.400s",
		         e.msg[0] ? e.msg : ddi_strerror(rc));
	free(ops);
	free(rrs);
	if (rc == DDI_EOK && s->conf.ctl)
		ctl_wake(s->conf.ctl);
	return rc;
}

static void timers_from(struct szone *z, const uint8_t *rd, uint16_t len)
{
	/* SOA rdata: MNAME RNAME SERIAL REFRESH RETRY EXPIRE MINIMUM; the last 20 bytes */
	if (len < 20)
		return;
	z->refresh = clamp(dns_get32(rd + len - 16));
	z->retry = clamp(dns_get32(rd + len - 12));
	z->expire = dns_get32(rd + len - 8);
	if (z->expire < z->refresh)
		z->expire = z->refresh;
}

/* Transfer from one primary: IXFR (falling back to AXFR) or AXFR. 0: applied or current. */
static int transfer(struct xfr_secondary *s, struct szone *z, const struct sockaddr_storage *p,
                    const struct tsig_key *key, const struct soaread *cur, char *why, size_t wlen,
                    const char **kind)
{
	char pa[80], actor[128];
	struct xfr_in x;
	addr_text(p, pa, sizeof(pa));
	snprintf(actor, sizeof(actor), "xfr:%s", pa);
	bool ixfr = cur->have && !z->force;
	for (int pass = 0; pass < 2; pass++, ixfr = false) {
		uint16_t qt = ixfr ? DNS_T_IXFR : DNS_T_AXFR;
		uint32_t ours = cur->have ? dns_soa_serial(cur->rd, cur->len) : 0;
		enum xfr_in_result r = tcp_xfr(z, p, key, qt, cur->rd, cur->len, ours,
		                               &s->conf.lim, &x);
		if (r != XFR_IN_DONE) {
			snprintf(why, wlen, "%s from %s refused (%s): %s", ixfr ? "IXFR" : "AXFR", pa,
			         xfr_in_result_name(r), x.why);
			CNT(s, refused[r < XFR_IN__COUNT ? r : XFR_IN_E_MALFORMED]);
			xfr_in_free(&x);
			/* RFC 1995 4: a server that cannot do IXFR; an error rcode: try AXFR */
			if (ixfr && (r == XFR_IN_E_RCODE || r == XFR_IN_E_IXFR)) {
				CNT(s, ixfr_fallback);
				continue;
			}
			return -1;
		}
		if (x.kind == XFR_IN_KIND_UPTODATE) {
			CNT(s, uptodate);
			*kind = "";
			xfr_in_free(&x);
			return 0;
		}
		int rc = apply(s, &x, actor, why, wlen);
		bool was_ixfr = x.kind == XFR_IN_KIND_IXFR;
		xfr_in_free(&x);
		if (rc == DDI_EOK) {
			*kind = was_ixfr ? "IXFR" : "AXFR";
			if (was_ixfr)
				CNT(s, ixfr);
			else
				CNT(s, axfr);
			return 0;
		}
		CNT(s, commit_failed);
		if (was_ixfr) {
			/* the differences do not apply to our copy: take the whole zone */
			CNT(s, ixfr_fallback);
			continue;
		}
		return -1;
	}
	return -1;
}

/* Refresh zone z (a copy; the result is written back under the mutex). True when it succeeded. */
static bool refresh(struct xfr_secondary *s, struct szone *z)
{
	char why[512] = "", zb[DNS_NAME_STRLEN], pa[80];
	const char *kind = "";
	struct tsig_key key;
	struct store_error e;
	struct soaread cur = { .have = false };
	bool ok = false;
	dns_name_to_str(zb, sizeof(zb), z->apex);
	if (z->has_key && ddns_key_get(s->conf.store, NULL, z->key, &key, &e) != DDI_EOK) {
		char kb[DNS_NAME_STRLEN];
		dns_name_to_str(kb, sizeof(kb), z->key);
		snprintf(why, sizeof(why), "no TSIG key %.255s in the store", kb);
	} else {
		(void)store_rrset_get(s->conf.store, NULL, z->apex, DNS_T_SOA, soa_cb, &cur, &e);
		for (unsigned i = 0; i < z->nprim && !ok; i++) {
			struct xfr_in x;
			addr_text(&z->prim[i], pa, sizeof(pa));
			/*
			 * A consumed catalog is asked by IXFR straight away (an IXFR from
			 * the current serial is one SOA, RFC 1995 2): Knot DNS answers no
			 * ordinary query for a catalog zone it generates, not even SOA.
			 */
			if (!z->force && cur.have && !z->st.catalog) {
				CNT(s, soa_queries);
				/*
				 * A signed SOA query goes over TCP: a signed answer needs the
				 * key, which a ddiplane primary's UDP workers do not hold (its
				 * TCP server answers it signed), and every primary answers
				 * SOA over TCP (BIND's and Knot's too).
				 */
				enum xfr_in_result r = z->has_key
				        ? tcp_xfr(z, &z->prim[i], &key, DNS_T_SOA, NULL, 0, 0, NULL, &x)
				        : soa_query(z, &z->prim[i], NULL, &x);
				uint32_t theirs = x.soa_serial;
				if (r != XFR_IN_DONE) {
					CNT(s, soa_failed);
					snprintf(why, sizeof(why), "SOA query to %s refused (%s): %s", pa,
					         xfr_in_result_name(r), x.why);
					xfr_in_free(&x);
					continue;
				}
				xfr_in_free(&x);
				if (!serial_newer(theirs, dns_soa_serial(cur.rd, cur.len))) {
					ok = true;   /* current (RFC 1035 4.3.5) */
					break;
				}
			}
			ok = transfer(s, z, &z->prim[i], z->has_key ? &key : NULL, &cur, why,
			              sizeof(why), &kind) == 0;
		}
	}
	cur.have = false;
	(void)store_rrset_get(s->conf.store, NULL, z->apex, DNS_T_SOA, soa_cb, &cur, &e);
	int64_t t = now_s();
	z->force = false;
	if (cur.have)
		timers_from(z, cur.rd, cur.len);
	if (ok) {
		z->last_ok = t;
		z->st.last_refresh = t;
		z->st.last_error[0] = 0;
		z->due = t + (cur.have ? z->refresh : XFR_SEC_EMPTY_RETRY_S);
		if (kind[0]) {
			z->st.transfers++;
			snprintf(z->st.last_kind, sizeof(z->st.last_kind), "%s", kind);
			ddi_log(LOG_SUB_XFR, LOG_LVL_INFO, NULL, "%s: %s, serial %u", zb, kind,
			        cur.have ? dns_soa_serial(cur.rd, cur.len) : 0);
		}
	} else {
		z->st.failures++;
		snprintf(z->st.last_error, sizeof(z->st.last_error), "%s", why);
		z->due = t + (cur.have ? z->retry : XFR_SEC_EMPTY_RETRY_S);
		ddi_log(LOG_SUB_XFR, LOG_LVL_WARNING, NULL, "%s: refresh failed: %s", zb, why);
		/* RFC 1035 4.3.5: no refresh for EXPIRE seconds: no longer authoritative */
		if (cur.have && z->last_ok && t - z->last_ok >= (int64_t)z->expire) {
			struct store_op op = { .kind = STORE_OP_ZONE_REPLACE, .flags = STORE_OPF_TRANSFER,
			                       .zone = z->apex };
			if (store_commit(s->conf.store, NULL, "xfr:expire", &op, 1, NULL, &e) == DDI_EOK) {
				CNT(s, expired);
				cur.have = false;
				if (s->conf.ctl)
					ctl_wake(s->conf.ctl);
				ddi_log(LOG_SUB_XFR, LOG_LVL_WARNING, NULL,
				        "%s: expired (%u s without a refresh): SERVFAIL until a transfer",
				        zb, z->expire);
			}
		}
	}
	z->st.loaded = cur.have;
	z->st.serial = cur.have ? dns_soa_serial(cur.rd, cur.len) : 0;
	z->st.next_refresh = z->due;
	z->st.expires = cur.have && z->last_ok ? z->last_ok + z->expire : 0;
	return ok;
}

#define CADD(s, f, n) atomic_fetch_add_explicit((_Atomic uint64_t *)&(s)->stats.f, (n), \
                                                memory_order_relaxed)

/*
 * A consumed catalog was refreshed: make its members follow it
 * (control/xfr/consume.h). True when the store changed, so the zone list
 * is read again and the new (or restarted) members are refreshed at once.
 */
static bool catalog_follow(struct xfr_secondary *s, struct szone *z)
{
	struct xfr_cat_result res;
	char why[512], zb[DNS_NAME_STRLEN], actor[DNS_NAME_STRLEN + 16];
	dns_name_to_str(zb, sizeof(zb), z->apex);
	snprintf(actor, sizeof(actor), "catalog:%s", zb);
	int rc = xfr_cat_sync(s->conf.store, z->apex, &res, why, sizeof(why));
	if (rc == DDI_EOK && res.empty)
		return false;   /* nothing transferred yet: members stay as they are */
	CNT(s, cat_syncs);
	bool was_ok = z->st.catalog_error[0] == 0;
	if (rc || res.broken) {
		if (rc)
			CNT(s, cat_failed);
		else
			CNT(s, cat_broken);
		if (was_ok || strcmp(z->st.catalog_error, why) != 0)
			ddi_log(LOG_SUB_XFR, LOG_LVL_WARNING, actor, "%s, serial %u: nothing changed",
			        rc ? "cannot sync the members" : "broken catalog", z->st.serial);
		if (was_ok || strcmp(z->st.catalog_error, why) != 0)
			ddi_log(LOG_SUB_XFR, LOG_LVL_WARNING, actor, "why: %s", why);
		snprintf(z->st.catalog_error, sizeof(z->st.catalog_error), "%s%.200s",
		         rc ? "" : "broken catalog: ", why);
		return false;
	}
	CADD(s, cat_added, res.added);
	CADD(s, cat_removed, res.removed);
	CADD(s, cat_restarted, res.restarted);
	CADD(s, cat_updated, res.updated);
	CADD(s, cat_conflicts, res.conflicts);
	CADD(s, cat_member_failed, res.failed);
	z->st.members = (uint32_t)res.members;
	if (res.failed)
		snprintf(z->st.catalog_error, sizeof(z->st.catalog_error), "%.200s", why);
	else
		z->st.catalog_error[0] = 0;
	bool changed = res.added || res.removed || res.restarted || res.updated;
	if (changed)
		ddi_log(LOG_SUB_XFR, LOG_LVL_INFO, actor, "serial %u, %zu members: %zu added, %zu "
		        "removed, %zu started over, %zu updated", z->st.serial, res.members, res.added,
		        res.removed, res.restarted, res.updated);
	if (changed && s->conf.ctl)
		ctl_wake(s->conf.ctl);
	return changed;
}

/* ------------------------------------------------------------------------ */
/* The thread                                                               */
/* ------------------------------------------------------------------------ */

/* The members of a catalog changed: read the zones again, refresh the empty ones now. */
static void members_now(struct xfr_secondary *s)
{
	s->synced_seq = 0;
	zones_sync(s);
	int64_t t = now_s();
	pthread_mutex_lock(&s->mu);
	for (size_t i = 0; i < s->nzones; i++)
		if (!s->zones[i].st.loaded && s->zones[i].due != INT64_MAX && s->zones[i].due > t)
			s->zones[i].due = t;
	pthread_mutex_unlock(&s->mu);
}

static void *run(void *arg)
{
	struct xfr_secondary *s = arg;
	for (;;) {
		pthread_mutex_lock(&s->mu);
		if (!s->kick && !s->stop) {
			struct timespec ts;
			clock_gettime(CLOCK_REALTIME, &ts);
			ts.tv_nsec += XFR_SEC_TICK_MS * 1000000L;
			if (ts.tv_nsec >= 1000000000L) {
				ts.tv_sec++;
				ts.tv_nsec -= 1000000000L;
			}
			pthread_cond_timedwait(&s->cv, &s->mu, &ts);
		}
		bool stop = s->stop;
		s->kick = false;
		pthread_mutex_unlock(&s->mu);
		if (stop)
			break;
		zones_sync(s);
		/* one due zone at a time: the copy is refreshed without the mutex held */
		for (;;) {
			struct szone z;
			bool found = false;
			int64_t t = now_s();
			pthread_mutex_lock(&s->mu);
			for (size_t i = 0; i < s->nzones && !found; i++)
				if (s->zones[i].due <= t && s->zones[i].nprim) {
					z = s->zones[i];
					s->zones[i].due = INT64_MAX;   /* in progress */
					found = true;
				}
			bool stopping = s->stop;
			pthread_mutex_unlock(&s->mu);
			if (!found || stopping)
				break;
			bool resync = refresh(s, &z) && z.st.catalog && catalog_follow(s, &z);
			pthread_mutex_lock(&s->mu);
			struct szone *w = zone_find(s, z.apex);
			if (w) {
				bool again = w->again, forced = w->force;
				*w = z;
				if (again) {   /* a NOTIFY came meanwhile: once more */
					w->force = forced;
					w->due = now_s();
				}
				w->again = false;
			}
			pthread_mutex_unlock(&s->mu);
			if (resync)
				members_now(s);
		}
	}
	return NULL;
}

int xfr_secondary_start(struct xfr_secondary **out, const struct xfr_sec_conf *conf)
{
	struct xfr_secondary *s = calloc(1, sizeof(*s));
	if (!s)
		return DDI_ENOMEM;
	s->conf = *conf;
	pthread_mutex_init(&s->mu, NULL);
	pthread_cond_init(&s->cv, NULL);
	int rc = pthread_create(&s->thr, NULL, run, s);
	if (rc) {
		free(s);
		return -rc;
	}
	pthread_setname_np(s->thr, "ddi-xfr-in");
	pthread_mutex_lock(&g_mu);
	g_sec = s;
	pthread_mutex_unlock(&g_mu);
	*out = s;
	return DDI_EOK;
}

void xfr_secondary_stop(struct xfr_secondary *s)
{
	if (!s)
		return;
	pthread_mutex_lock(&g_mu);
	if (g_sec == s)
		g_sec = NULL;
	pthread_mutex_unlock(&g_mu);
	pthread_mutex_lock(&s->mu);
	s->stop = true;
	pthread_cond_signal(&s->cv);
	pthread_mutex_unlock(&s->mu);
	pthread_join(s->thr, NULL);
	free(s->zones);
	free(s);
}

/* ------------------------------------------------------------------------ */
/* From other threads                                                       */
/* ------------------------------------------------------------------------ */

static bool same_addr(const struct sockaddr_storage *ss, uint8_t family, const uint8_t *addr)
{
	if (family == 4 && ss->ss_family == AF_INET)
		return memcmp(&((const struct sockaddr_in *)(const void *)ss)->sin_addr, addr, 4) == 0;
	if (family == 6 && ss->ss_family == AF_INET6)
		return memcmp(&((const struct sockaddr_in6 *)(const void *)ss)->sin6_addr, addr, 16) == 0;
	return false;
}

enum xfr_sec_notify xfr_sec_notify(const uint8_t *apex, uint8_t family, const uint8_t *addr,
                                   const uint8_t *key)
{
	enum xfr_sec_notify v = XFR_SEC_NOTIFY_NOT_SECONDARY;
	pthread_mutex_lock(&g_mu);
	struct xfr_secondary *s = g_sec;
	if (s) {
		pthread_mutex_lock(&s->mu);
		struct szone *z = zone_find(s, apex);
		if (z) {
			bool from = false;
			for (unsigned i = 0; i < z->nprim && !from; i++)
				from = same_addr(&z->prim[i], family, addr);
			/* RFC 1996 3.10: only from a primary; with a key, only signed with it */
			bool keyed = !z->has_key || (key && dns_name_equal(key, z->key));
			v = from && keyed ? XFR_SEC_NOTIFY_ACCEPTED : XFR_SEC_NOTIFY_REFUSED;
			if (v == XFR_SEC_NOTIFY_ACCEPTED) {
				if (z->due == INT64_MAX)
					z->again = true;   /* in progress: run() repeats it */
				else
					z->due = now_s();
				s->kick = true;
				pthread_cond_signal(&s->cv);
				CNT(s, notify_accepted);
			} else {
				CNT(s, notify_refused);
			}
		}
		pthread_mutex_unlock(&s->mu);
	}
	pthread_mutex_unlock(&g_mu);
	return v;
}

int xfr_sec_refresh(const uint8_t *apex, bool force)
{
	int rc = DDI_ENOZONE;
	pthread_mutex_lock(&g_mu);
	struct xfr_secondary *s = g_sec;
	if (s) {
		s->synced_seq = 0;   /* a zone just added: read the store again */
		pthread_mutex_unlock(&g_mu);
		zones_sync(s);
		pthread_mutex_lock(&g_mu);
		s = g_sec;
	}
	if (s) {
		pthread_mutex_lock(&s->mu);
		struct szone *z = zone_find(s, apex);
		if (z) {
			z->force = z->force || force;
			if (z->due == INT64_MAX)
				z->again = true;
			else
				z->due = now_s();
			s->kick = true;
			pthread_cond_signal(&s->cv);
			rc = DDI_EOK;
		}
		pthread_mutex_unlock(&s->mu);
	}
	pthread_mutex_unlock(&g_mu);
	return rc;
}

bool xfr_sec_status(const uint8_t *apex, struct xfr_sec_status *st)
{
	bool found = false;
	pthread_mutex_lock(&g_mu);
	struct xfr_secondary *s = g_sec;
	if (s) {
		pthread_mutex_lock(&s->mu);
		struct szone *z = zone_find(s, apex);
		if (z) {
			*st = z->st;
			found = true;
		}
		pthread_mutex_unlock(&s->mu);
	}
	pthread_mutex_unlock(&g_mu);
	return found;
}

bool xfr_sec_status_all(int (*cb)(void *ctx, const struct xfr_sec_status *st), void *ctx,
                        struct xfr_sec_stats *totals)
{
	pthread_mutex_lock(&g_mu);
	struct xfr_secondary *s = g_sec;
	if (s) {
		pthread_mutex_lock(&s->mu);
		if (totals)
			*totals = s->stats;
		for (size_t i = 0; i < s->nzones; i++)
			if (cb && cb(ctx, &s->zones[i].st))
				break;
		pthread_mutex_unlock(&s->mu);
	}
	pthread_mutex_unlock(&g_mu);
	return s != NULL;
}

static int metric_zone(void *ctx, const struct xfr_sec_status *st)
{
	FILE *f = ctx;
	char zb[DNS_NAME_STRLEN];
	dns_name_to_str(zb, sizeof(zb), st->apex);
#define Z(name, v) fprintf(f, "ddiplane_secondary_" name "{zone=\"%s\"} %lld\n", zb, (long long)(v))
	Z("serial", st->serial);
	Z("loaded", st->loaded);
	Z("ok", st->last_error[0] == 0);
	Z("last_refresh_seconds", st->last_refresh);
	Z("next_refresh_seconds", st->next_refresh);
	Z("expires_seconds", st->expires);
	Z("transfers_total", st->transfers);
	Z("failures_total", st->failures);
	if (st->catalog) {
		fprintf(f, "ddiplane_catalog_members{catalog=\"%s\"} %u\n", zb, st->members);
		fprintf(f, "ddiplane_catalog_ok{catalog=\"%s\"} %d\n", zb, st->catalog_error[0] == 0);
	}
#undef Z
	return 0;
}

void xfr_sec_metrics(FILE *f)
{
	struct xfr_sec_stats t;
	fprintf(f, "# HELP ddiplane_secondary_serial Secondary zones: serial, state and timers "
	        "(control/xfr/secondary.h).\n# TYPE ddiplane_secondary_serial gauge\n");
	if (!xfr_sec_status_all(metric_zone, f, &t))
		return;
	fprintf(f, "# HELP ddiplane_xfr_in_total Zone transfers in, SOA queries and NOTIFY in by "
	        "outcome.\n# TYPE ddiplane_xfr_in_total counter\n");
#define O(n) fprintf(f, "ddiplane_xfr_in_total{outcome=\"" #n "\"} %llu\n", (unsigned long long)t.n)
	O(soa_queries); O(soa_failed); O(axfr); O(ixfr); O(uptodate); O(ixfr_fallback);
	O(commit_failed); O(notify_accepted); O(notify_refused); O(expired);
#undef O
	fprintf(f, "# HELP ddiplane_catalog_total Catalog consumption (RFC 9432): syncs and member "
	        "zones by outcome.\n# TYPE ddiplane_catalog_total counter\n");
#define C(n, v) fprintf(f, "ddiplane_catalog_total{outcome=\"" n "\"} %llu\n", \
                        (unsigned long long)t.v)
	C("sync", cat_syncs); C("broken", cat_broken); C("failed", cat_failed);
	C("added", cat_added); C("removed", cat_removed); C("restarted", cat_restarted);
	C("updated", cat_updated); C("conflict", cat_conflicts); C("member_failed", cat_member_failed);
#undef C
	for (unsigned k = XFR_IN_E_MALFORMED; k < XFR_IN__COUNT; k++)
		fprintf(f, "ddiplane_xfr_in_total{outcome=\"refused_%s\"} %llu\n",
		        xfr_in_result_name((enum xfr_in_result)k), (unsigned long long)t.refused[k]);
}
