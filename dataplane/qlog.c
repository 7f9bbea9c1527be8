/* qlog -- the sampled query log (dataplane/qlog.h): lock-free rings, one writer thread */
#include <arpa/inet.h>
#include <errno.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "dataplane/qlog.h"
#include "dns/errcode.h"
#include "dns/name.h"
#include "dns/rdata.h"
#include "dns/wire.h"

void qlog_put(struct qlog_ring *r, const uint8_t *frame, uint16_t len, uint16_t l2_len,
              uint16_t l3_len, bool ipv6, uint64_t unix_ms)
{
	if (++r->count < r->sample)
		return;
	r->count = 0;
	unsigned head = atomic_load_explicit(&r->head, memory_order_relaxed);
	unsigned tail = atomic_load_explicit(&r->tail, memory_order_acquire);
	if (head - tail >= QLOG_RING) {
		atomic_fetch_add_explicit(&r->dropped, 1, memory_order_relaxed);
		return;
	}
	size_t dns_off = (size_t)l2_len + l3_len + 8;
	if (len < dns_off + DNS_HDR_LEN)
		return;
	struct qlog_rec *q = &r->rec[head & (QLOG_RING - 1)];
	const uint8_t *ip = frame + l2_len, *udp = ip + l3_len, *dns = frame + dns_off;
	q->unix_ms = unix_ms;
	q->family = ipv6 ? 6 : 4;
	memset(q->addr, 0, sizeof(q->addr));
	memcpy(q->addr, ipv6 ? ip + 24 : ip + 16, ipv6 ? 16 : 4);   /* the response's destination */
	q->port = dns_get16(udp + 2);
	q->rcode = dns[3] & 0xf;
	q->size = (uint16_t)(len - dns_off);
	q->qname_len = 0;
	q->qtype = 0;
	/* the question as the response echoes it: uncompressed, checked again here */
	if (dns_get16(dns + 4) == 1) {
		int nl = dns_name_check(dns + DNS_HDR_LEN, len - dns_off - DNS_HDR_LEN);
		if (nl > 0 && dns_off + DNS_HDR_LEN + (size_t)nl + 4 <= len) {
			memcpy(q->qname, dns + DNS_HDR_LEN, (size_t)nl);
			q->qname_len = (uint8_t)nl;
			q->qtype = dns_get16(dns + DNS_HDR_LEN + nl);
		}
	}
	atomic_store_explicit(&r->head, head + 1, memory_order_release);
}

static const char *rcode_name(uint8_t rc)
{
	static const char *const n[] = { "NOERROR", "FORMERR", "SERVFAIL", "NXDOMAIN", "NOTIMP",
	                                 "REFUSED" };
	return rc < sizeof(n) / sizeof(n[0]) ? n[rc] : "RCODE";
}

unsigned qlog_drain(struct qlog_ring *r, FILE *out)
{
	unsigned tail = atomic_load_explicit(&r->tail, memory_order_relaxed);
	unsigned head = atomic_load_explicit(&r->head, memory_order_acquire);
	unsigned n = 0;
	for (; tail != head; tail++, n++) {
		const struct qlog_rec *q = &r->rec[tail & (QLOG_RING - 1)];
		char ts[32], addr[64], name[DNS_NAME_STRLEN];
		time_t s = (time_t)(q->unix_ms / 1000);
		struct tm tm;
		gmtime_r(&s, &tm);
		strftime(ts, sizeof(ts), "%Y-%m-%dT%H:%M:%S", &tm);
		if (!inet_ntop(q->family == 6 ? AF_INET6 : AF_INET, q->addr, addr, sizeof(addr)))
			snprintf(addr, sizeof(addr), "?");
		if (!q->qname_len || dns_name_to_str(name, sizeof(name), q->qname) < 0)
			snprintf(name, sizeof(name), "-");
		fprintf(out, "%s.%03uZ %s#%u %s %s %s %u\n", ts, (unsigned)(q->unix_ms % 1000), addr,
		        q->port, name, q->qname_len ? dns_type_name(q->qtype) : "-",
		        rcode_name(q->rcode), q->size);
	}
	atomic_store_explicit(&r->tail, tail, memory_order_release);
	return n;
}

struct qlog {
	FILE *f;
	struct qlog_ring **rings;
	unsigned n;
	pthread_t thread;
	atomic_bool quit;
};

static void *writer(void *arg)
{
	struct qlog *q = arg;
	for (;;) {
		bool last = atomic_load(&q->quit);
		unsigned got = 0;
		for (unsigned i = 0; i < q->n; i++)
			got += qlog_drain(q->rings[i], q->f);
		if (got)
			fflush(q->f);
		if (last)
			break;
		struct timespec ts = { 0, QLOG_DRAIN_MS * 1000000L };
		nanosleep(&ts, NULL);
	}
	return NULL;
}

int qlog_start(struct qlog **out, const char *path, struct qlog_ring **rings, unsigned n)
{
	struct qlog *q = calloc(1, sizeof(*q));
	if (!q)
		return DDI_ENOMEM;
	q->f = fopen(path, "a");
	if (!q->f) {
		int e = errno;
		free(q);
		return -e;
	}
	q->rings = rings;
	q->n = n;
	int rc = pthread_create(&q->thread, NULL, writer, q);
	if (rc) {
		fclose(q->f);
		free(q);
		return -rc;
	}
	pthread_setname_np(q->thread, "ddi-qlog");
	*out = q;
	return DDI_EOK;
}

void qlog_stop(struct qlog *q)
{
	if (!q)
		return;
	atomic_store(&q->quit, true);
	pthread_join(q->thread, NULL);
	fclose(q->f);
	free(q);
}
