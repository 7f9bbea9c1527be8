/* qlog -- the sampled query log: workers put records in rings of their own, one thread writes them to a file */
#ifndef DDI_DATAPLANE_QLOG_H
#define DDI_DATAPLANE_QLOG_H

#include <stdatomic.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>

/*
 * Off by default (--query-log FILE). A worker samples one answered query
 * in `sample` and copies it (client address and port, name, type, rcode,
 * size) from its response frame into its own single-producer ring: no
 * lock, no allocation, no system call. When the ring is full the record
 * is dropped and counted (qlog_dropped): a slow disk never slows the
 * workers. One writer thread drains every ring each QLOG_DRAIN_MS into the
 * file with buffered stdio, one line per query:
 *   2026-12-03T10:00:00.123Z 198.18.0.2#40000 www.ddi.test. A NOERROR 61
 */
#define QLOG_RING 4096          /* records per worker (a power of two) */
#define QLOG_DRAIN_MS 100

struct qlog_rec {
	uint64_t unix_ms;
	uint8_t family;             /* 4 or 6 */
	uint8_t rcode;
	uint16_t port, qtype, size;
	uint8_t addr[16];
	uint8_t qname_len;          /* wire form below, 0: none */
	uint8_t qname[255];
};

struct qlog_ring {
	_Alignas(64) atomic_uint head;      /* written by the worker */
	_Alignas(64) atomic_uint tail;      /* written by the writer thread */
	_Alignas(64) uint32_t sample, count;   /* the worker's own */
	atomic_ullong dropped;
	struct qlog_rec rec[QLOG_RING];
};

/*
 * Worker side, for a response frame that is about to be sent (DP_ACT_TX of
 * an answer: l2/l3 offsets of dp_result, the frame already rewritten, so
 * the client is its destination). Samples, copies, never blocks.
 */
void qlog_put(struct qlog_ring *r, const uint8_t *frame, uint16_t len, uint16_t l2_len,
              uint16_t l3_len, bool ipv6, uint64_t unix_ms);

/* Writer side: every record of `r` as lines on `out`; how many. */
unsigned qlog_drain(struct qlog_ring *r, FILE *out);

struct qlog;
/*
 * Open `path` (append) and start the writer thread over `rings` (one per
 * worker; the caller owns them and keeps them until qlog_stop). Errors:
 * -errno (the file), DDI_ENOMEM.
 */
int qlog_start(struct qlog **out, const char *path, struct qlog_ring **rings, unsigned n);
/* A last drain, then stop and close. NULL is ignored. */
void qlog_stop(struct qlog *q);

#endif
