/* xfr/notify -- NOTIFY out (RFC 1996): a control-plane thread that tells secondaries of new serials */
#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <poll.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>
#include <sys/random.h>
#include <time.h>
#include <unistd.h>

#include "control/log.h"
#include "control/ddns/keys.h"
#include "control/ddns/tsig.h"
#include "control/store/store.h"
#include "control/xfr/xfr.h"
#include "dns/errcode.h"
#include "dns/rdata.h"
#include "dns/wire.h"

/*
 * The thread polls the store's last journal seq (200 ms). When it moved,
 * it lists the zones and compares each serial with the one it notified
 * last; a zone whose serial changed (or that it has not seen yet) gets a
 * NOTIFY to each target of its ACL. A pending NOTIFY is resent every
 * XFR_NOTIFY_INTERVAL_MS until answered or XFR_NOTIFY_TRIES were sent;
 * a newer serial replaces a pending one for the same target. Bounded:
 * at most NOTIFY_PENDING_MAX notifications are pending.
 */

#define POLL_MS 200
#define NOTIFY_PENDING_MAX 1024
#define ZONES_MAX 4096

struct pending {
	uint8_t apex[DNS_NAME_MAXLEN];
	struct sockaddr_storage to;
	uint16_t id;
	unsigned tries;
	uint64_t next_ms;
	uint8_t msg[512 + 512];
	size_t len;
	bool used;
};

struct seen_zone {
	uint8_t apex[DNS_NAME_MAXLEN];
	uint32_t serial;
};

struct xfr_notifier {
	struct store *s;
	struct xfr_stats *st;
	pthread_t thread;
	int fd4, fd6;
	int stopfd[2];
	uint64_t last_seq;
	bool first;
	struct seen_zone *zones;
	size_t nzones;
	struct pending *p;
	bool has_catalog, catalog_seen;
	uint8_t catalog[DNS_NAME_MAXLEN];
	uint64_t catalog_digest;   /* of the member list last notified */
};

static uint64_t mono_ms(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000 + (uint64_t)ts.tv_nsec / 1000000;
}

static void count(uint64_t *c)
{
	__atomic_fetch_add(c, 1, __ATOMIC_RELAXED);
}

/* RFC 1996 3.7: QUERY section the SOA question, ANSWER the SOA (its serial a hint). AA set. */
static size_t notify_build(uint8_t *m, size_t cap, uint16_t id, const uint8_t *apex,
                           uint32_t ttl, const uint8_t *soa, uint16_t soalen)
{
	size_t al = dns_name_len(apex), need = DNS_HDR_LEN + al + 4 + 2 + 10 + soalen;
	if (need > cap)
		return 0;
	memset(m, 0, DNS_HDR_LEN);
	dns_put16(m, id);
	dns_put16(m + 2, (uint16_t)(DNS_OP_NOTIFY << 11 | DNS_AA));
	dns_put16(m + 4, 1);
	dns_put16(m + 6, 1);
	size_t p = DNS_HDR_LEN;
	memcpy(m + p, apex, al);
	p += al;
	dns_put16(m + p, DNS_T_SOA);
	dns_put16(m + p + 2, DNS_CLASS_IN);
	p += 4;
	dns_put16(m + p, 0xc000 | DNS_HDR_LEN);
	dns_put16(m + p + 2, DNS_T_SOA);
	dns_put16(m + p + 4, DNS_CLASS_IN);
	dns_put32(m + p + 6, ttl);
	dns_put16(m + p + 10, soalen);
	memcpy(m + p + 12, soa, soalen);
	return p + 12 + soalen;
}

struct zinfo {
	uint32_t ttl;
	uint16_t len;
	uint8_t soa[DNS_RDATA_MAXLEN];
	struct xfr_acl acl;
	bool acl_ok;
};

static int soa_cb(void *ctx, const uint8_t *owner, uint16_t type, uint32_t ttl, uint16_t count_,
                  const uint8_t *rdatas, size_t len)
{
	struct zinfo *z = ctx;
	(void)owner, (void)type, (void)count_;
	if (len < 2 || len != 2u + dns_get16(rdatas))
		return DDI_ECORRUPT;
	z->ttl = ttl;
	z->len = dns_get16(rdatas);
	memcpy(z->soa, rdatas + 2, z->len);
	return 0;
}

static int acl_cb(void *ctx, const uint8_t *name, const char *json, size_t len)
{
	struct zinfo *z = ctx;
	char err[128];
	(void)name;
	z->acl_ok = xfr_acl_parse(&z->acl, json, len, err, sizeof(err)) == 0;
	return 0;
}

static void queue(struct xfr_notifier *n, const uint8_t *apex, const struct sockaddr_storage *to,
                  const struct zinfo *z)
{
	struct pending *slot = NULL;
	for (size_t i = 0; i < NOTIFY_PENDING_MAX; i++) {
		struct pending *p = &n->p[i];
		if (p->used && dns_name_equal(p->apex, apex) &&
		    memcmp(&p->to, to, sizeof(*to)) == 0) {
			slot = p;   /* a newer serial replaces the pending one */
			break;
		}
		if (!p->used && !slot)
			slot = p;
	}
	if (!slot) {
		count(&n->st->notify_failed);   /* too many pending: this one is dropped */
		return;
	}
	uint16_t id;
	if (getrandom(&id, sizeof(id), 0) != sizeof(id))
		id = (uint16_t)mono_ms();
	memset(slot, 0, sizeof(*slot));
	memcpy(slot->apex, apex, dns_name_len(apex));
	slot->to = *to;
	slot->id = id;
	slot->len = notify_build(slot->msg, sizeof(slot->msg) - 400, id, apex, z->ttl, z->soa, z->len);
	if (slot->len && z->acl.has_notify_key) {
		struct tsig_key k;
		struct store_error e;
		if (ddns_key_get(n->s, NULL, z->acl.notify_key, &k, &e) != 0 ||
		    tsig_sign(&k, NULL, 0, slot->msg, &slot->len, sizeof(slot->msg),
		              (uint64_t)time(NULL), TSIG_FUDGE_DEFAULT, NULL) < 0)
			slot->len = 0;
	}
	if (!slot->len) {
		count(&n->st->notify_failed);
		ddi_log(LOG_SUB_XFR, LOG_LVL_WARNING, NULL,
		        "cannot build a NOTIFY (SOA too large, or notify_key missing)");
		return;
	}
	slot->used = true;
	slot->next_ms = 0;   /* now */
}

/* Notify the targets of every zone whose serial is new to us. */
static int zone_cb(void *ctx, const struct store_zone_info *zi)
{
	struct xfr_notifier *n = ctx;
	struct store_error e;
	if (!zi->has_soa)
		return 0;
	size_t i;
	for (i = 0; i < n->nzones; i++)
		if (dns_name_equal(n->zones[i].apex, zi->apex))
			break;
	if (i < n->nzones && n->zones[i].serial == zi->serial)
		return 0;
	if (i == n->nzones) {
		if (n->nzones == ZONES_MAX)
			return 0;
		memcpy(n->zones[n->nzones++].apex, zi->apex, dns_name_len(zi->apex));
	}
	n->zones[i].serial = zi->serial;
	struct zinfo *z = calloc(1, sizeof(*z));
	if (!z)
		return 0;
	if (store_acl_get(n->s, NULL, zi->apex, acl_cb, z, &e) == 0 && z->acl_ok &&
	    z->acl.nnotify && store_rrset_get(n->s, NULL, zi->apex, DNS_T_SOA, soa_cb, z, &e) == 0)
		for (unsigned t = 0; t < z->acl.nnotify; t++)
			queue(n, zi->apex, &z->acl.notify[t], z);
	free(z);
	return 0;
}

/*
 * RFC 9432 5.1: consumers learn of members coming and going from the
 * catalog's new serial. Rewrite the catalog when its member list changed;
 * the commit's new serial is NOTIFYed by zone_cb on the next poll.
 */
static void catalog_check(struct xfr_notifier *n)
{
	struct store_error e;
	uint64_t d;
	if (!n->has_catalog || xfr_catalog_digest(n->s, n->catalog, &d) != 0)
		return;
	if (n->catalog_seen && d == n->catalog_digest)
		return;
	int rc = xfr_catalog_sync(n->s, n->catalog, &e);
	if (rc) {
		ddi_log(LOG_SUB_XFR, LOG_LVL_ERR, NULL, "catalog: cannot write the catalog zone: %s",
		        e.msg[0] ? e.msg : ddi_strerror(rc));
		return;   /* tried again on the next change */
	}
	n->catalog_seen = true;
	n->catalog_digest = d;
}

static void send_due(struct xfr_notifier *n, uint64_t now)
{
	for (size_t i = 0; i < NOTIFY_PENDING_MAX; i++) {
		struct pending *p = &n->p[i];
		if (!p->used || p->next_ms > now)
			continue;
		if (p->tries == XFR_NOTIFY_TRIES) {
			count(&n->st->notify_failed);
			p->used = false;
			continue;
		}
		int fd = p->to.ss_family == AF_INET6 ? n->fd6 : n->fd4;
		socklen_t sl = p->to.ss_family == AF_INET6 ? sizeof(struct sockaddr_in6)
		                                           : sizeof(struct sockaddr_in);
		if (fd >= 0)
			sendto(fd, p->msg, p->len, 0, (struct sockaddr *)&p->to, sl);
		p->tries++;
		count(&n->st->notify_sent);
		p->next_ms = now + XFR_NOTIFY_INTERVAL_MS;
	}
}

/* RFC 1996 3.6/4.7: a response with our ID, opcode NOTIFY, QR, from the target, ends the retries. */
static void recv_acks(struct xfr_notifier *n, int fd)
{
	uint8_t buf[1024];
	struct sockaddr_storage from;
	for (int k = 0; k < 64; k++) {
		socklen_t fl = sizeof(from);
		ssize_t r = recvfrom(fd, buf, sizeof(buf), MSG_DONTWAIT, (struct sockaddr *)&from, &fl);
		if (r < DNS_HDR_LEN)
			return;
		uint16_t id = dns_get16(buf), fl2 = dns_get16(buf + 2);
		if (!(fl2 & DNS_QR) || ((fl2 >> 11) & 0xf) != DNS_OP_NOTIFY)
			continue;
		for (size_t i = 0; i < NOTIFY_PENDING_MAX; i++) {
			struct pending *p = &n->p[i];
			if (!p->used || p->id != id || p->to.ss_family != from.ss_family)
				continue;
			bool same = from.ss_family == AF_INET
			                    ? memcmp(&((struct sockaddr_in *)&p->to)->sin_addr,
			                             &((struct sockaddr_in *)&from)->sin_addr, 4) == 0
			                    : memcmp(&((struct sockaddr_in6 *)&p->to)->sin6_addr,
			                             &((struct sockaddr_in6 *)&from)->sin6_addr, 16) == 0;
			if (same) {
				p->used = false;
				count(&n->st->notify_acked);
			}
		}
	}
}

static void *notifier_main(void *arg)
{
	struct xfr_notifier *n = arg;
	for (;;) {
		struct pollfd pf[3] = { { n->stopfd[0], POLLIN, 0 }, { n->fd4, POLLIN, 0 },
		                        { n->fd6, POLLIN, 0 } };
		int r = poll(pf, 3, POLL_MS);
		if (r > 0 && pf[0].revents)
			break;
		if (n->fd4 >= 0 && pf[1].revents & POLLIN)
			recv_acks(n, n->fd4);
		if (n->fd6 >= 0 && pf[2].revents & POLLIN)
			recv_acks(n, n->fd6);
		uint64_t seq = 0;
		struct store_error e;
		if (store_last_seq(n->s, &seq, &e) == 0 && (seq != n->last_seq || n->first)) {
			n->first = false;
			n->last_seq = seq;
			store_zone_list(n->s, false, zone_cb, n, &e);
			catalog_check(n);
		}
		send_due(n, mono_ms());
	}
	return NULL;
}

int xfr_notifier_start(struct xfr_notifier **out, struct store *s, struct xfr_stats *st,
                       const uint8_t *catalog)
{
	struct xfr_notifier *n = calloc(1, sizeof(*n));
	if (!n)
		return DDI_ENOMEM;
	n->s = s;
	if ((n->has_catalog = catalog != NULL)) {
		memcpy(n->catalog, catalog, dns_name_len(catalog));
		dns_name_lower(n->catalog);
	}
	n->st = st;
	n->first = true;
	n->zones = calloc(ZONES_MAX, sizeof(*n->zones));
	n->p = calloc(NOTIFY_PENDING_MAX, sizeof(*n->p));
	n->fd4 = socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0);
	n->fd6 = socket(AF_INET6, SOCK_DGRAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0);
	if (!n->zones || !n->p || pipe2(n->stopfd, O_CLOEXEC) != 0) {
		xfr_notifier_stop(n);
		return DDI_ENOMEM;
	}
	if (pthread_create(&n->thread, NULL, notifier_main, n) != 0) {
		close(n->stopfd[0]);
		close(n->stopfd[1]);
		n->stopfd[0] = n->stopfd[1] = -1;
		xfr_notifier_stop(n);
		return DDI_ENOMEM;
	}
	pthread_setname_np(n->thread, "ddi-notify");
	*out = n;
	return DDI_EOK;
}

void xfr_notifier_stop(struct xfr_notifier *n)
{
	if (!n)
		return;
	if (n->stopfd[1] > 0) {
		(void)!write(n->stopfd[1], "q", 1);
		pthread_join(n->thread, NULL);
		close(n->stopfd[0]);
		close(n->stopfd[1]);
	}
	if (n->fd4 >= 0)
		close(n->fd4);
	if (n->fd6 >= 0)
		close(n->fd6);
	free(n->zones);
	free(n->p);
	free(n);
}
