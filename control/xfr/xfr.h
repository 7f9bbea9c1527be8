/* xfr -- ddiplane as a primary: transfer ACLs, AXFR/IXFR out over TCP, NOTIFY out */
#ifndef DDI_CONTROL_XFR_H
#define DDI_CONTROL_XFR_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <sys/socket.h>

#include "dns/name.h"

struct store;
struct store_txn;
struct store_error;

/* ------------------------------------------------------------------------ */
/* Who may transfer a zone, whom to notify (the store's zone_acl value)      */
/* ------------------------------------------------------------------------ */

/*
 * The value is a JSON object, opaque to the store:
 *   {"transfer": ["198.18.0.0/15", "2001:2::/48"],   source prefixes
 *    "transfer_keys": ["xfr-key."],                   TSIG key names
 *    "notify": ["198.18.0.2@53", "[2001:2::2]:5300"], NOTIFY targets
 *    "notify_key": "xfr-key."}                        sign NOTIFY with it
 * A transfer is allowed when (Knot DNS's acl semantics, address AND key):
 *   - the ACL names prefixes or keys (none: nobody, REFUSED);
 *   - when it names prefixes, the source is inside one of them;
 *   - when it names keys, the request is TSIG-signed, verified, with one of them.
 * Everything is validated when read (xfr_acl_parse): the store is input.
 */
#define XFR_ACL_MAX 32

struct xfr_net {
	uint8_t family;            /* 4 or 6 */
	uint8_t plen;
	uint8_t addr[16];
};

struct xfr_acl {
	unsigned nnets, nkeys, nnotify;
	struct xfr_net nets[XFR_ACL_MAX];
	uint8_t keys[XFR_ACL_MAX][DNS_NAME_MAXLEN];   /* lower-case wire names */
	struct sockaddr_storage notify[XFR_ACL_MAX];
	bool has_notify_key;
	uint8_t notify_key[DNS_NAME_MAXLEN];
};

/* Parse a zone_acl value. DDI_EINVAL with `err` naming the field when it does not validate. */
int xfr_acl_parse(struct xfr_acl *acl, const char *json, size_t len, char *err, size_t errlen);

/* "198.18.0.0/15" (a bare address is /32 or /128). DDI_EINVAL when it does not parse. */
int xfr_net_parse(struct xfr_net *n, const char *s);

/* "198.18.0.2", "198.18.0.2@5300", "2001:2::2@53", "[2001:2::2]:53" -> address, port 53 by default. */
int xfr_target_parse(struct sockaddr_storage *ss, const char *s);

/* The source (family 4/6, address) and the verified key (NULL: unsigned) may transfer. */
bool xfr_acl_allows(const struct xfr_acl *acl, uint8_t family, const uint8_t *addr,
                    const uint8_t *key_name);

/* ------------------------------------------------------------------------ */
/* Transfers out (RFC 5936 AXFR, RFC 1995 IXFR) over TCP                    */
/* ------------------------------------------------------------------------ */

/* Every outcome, counted (relaxed atomics: read from any thread). */
struct xfr_stats {
	uint64_t axfr;              /* AXFR served */
	uint64_t ixfr;              /* IXFR served from differences */
	uint64_t ixfr_axfr;         /* IXFR answered with the whole zone (RFC 1995 4) */
	uint64_t ixfr_current;      /* IXFR answered with the SOA alone: the client is current */
	uint64_t soa_signed;        /* TSIG-signed SOA queries over TCP answered signed (refresh) */
	uint64_t refused;           /* no ACL, or the ACL does not allow the source/key */
	uint64_t notauth;           /* not a zone of ours (RFC 5936 2.2.1), or TSIG failed */
	uint64_t formerr;           /* malformed request */
	uint64_t failed;            /* store error while reading: SERVFAIL */
	uint64_t aborted;           /* the connection failed or the client stopped reading mid-way */
	uint64_t out_timeout;       /* of those aborted: the reader too slow for the time bound */
	uint64_t out_refused_limit; /* allowed, but --xfr-out-max transfers ran: REFUSED */
	uint64_t out_running;       /* a gauge: transfers out running now (xfr_out_serve) */
	uint64_t messages, rrs;     /* sent in transfers */
	uint64_t notify_sent, notify_acked, notify_failed;   /* NOTIFY out (per target and serial) */
};

struct xfr_out;

/* Transfers from `s`; `st` is where outcomes are counted (must outlive the result). */
struct xfr_out *xfr_out_new(struct store *s, struct xfr_stats *st);
void xfr_out_free(struct xfr_out *x);

/*
 * Emit one response message (without the TCP length prefix) in order;
 * non-zero stops the transfer.
 */
typedef int (*xfr_emit_fn)(void *ctx, const uint8_t *msg, size_t len);

/*
 * Answer an AXFR or IXFR query (opcode QUERY, one question, class IN)
 * received over TCP from (family, addr): every message through emit.
 * Also a TSIG-signed SOA query (a secondary's refresh, RFC 8945 5.3: a
 * signed request gets a signed answer): the zone's SOA in one message,
 * signed, whatever the transfer ACL (the SOA is public).
 * The zone is read from ONE LMDB read transaction (a consistent snapshot);
 * messages are at most 64 KiB, owner names compressed per message, the SOA
 * first and last (RFC 5936 2.2), TSIG-signed when the request was
 * (RFC 8945 5.3.1: every message, each MAC chained to the prior one).
 * Reverse zones (in-addr.arpa, ip6.arpa) carry the PTR records the index
 * synthesizes from the addresses database as real PTR RRs.
 * `now` is unix seconds (TSIG). Runs on the caller's thread; not an RCU reader.
 * Returns DDI_EOK when something was emitted (an error answer too), or an
 * error when nothing could be (the caller closes the connection).
 */
int xfr_out_serve(struct xfr_out *x, const uint8_t *req, size_t len, uint8_t family,
                  const uint8_t *addr, uint64_t now, xfr_emit_fn emit, void *ctx);

/*
 * The checks of xfr_out_serve, for a TCP server that runs transfers apart
 * from its query loop (control/tcp/tcp.h xfr_check): parse, TSIG, zone,
 * ACL, in a read transaction of its own, quickly and without waiting
 * (emit must only queue). Returns XFR_OUT_RUN for an AXFR or IXFR that
 * may go ahead (nothing emitted: run xfr_out_serve for it, which checks
 * again in its own snapshot); with `full` (no transfer may start now) that
 * request is answered REFUSED instead (signed when the request was) and
 * counted in out_refused_limit. Everything else is answered and counted
 * as xfr_out_serve would (FORMERR, NOTAUTH, REFUSED by the ACL, a signed
 * SOA query) and 0 returned; an error when nothing could be emitted.
 */
#define XFR_OUT_RUN 1
int xfr_out_check(struct xfr_out *x, const uint8_t *req, size_t len, uint8_t family,
                  const uint8_t *addr, uint64_t now, bool full, xfr_emit_fn emit, void *ctx);

/* xfr_out_check at the current time, in the shape of control/tcp/tcp.h's xfr_check hook. */
int xfr_out_check_now(void *x, const uint8_t *req, size_t len, uint8_t family,
                      const uint8_t *addr, bool full, xfr_emit_fn emit, void *ctx);

/*
 * The transfers-out series of /metrics that are no outcome counters:
 * ddiplane_xfr_out_running (a gauge). The outcomes themselves, with
 * out_timeout and out_refused_limit, are ddiplane_xfr_total{outcome}.
 */
void xfr_out_metrics(FILE *f, const struct xfr_stats *st);

/* The QTYPE of a message's only question, or 0 (for routing AXFR/IXFR). */
uint16_t xfr_qtype(const uint8_t *msg, size_t len);

/* ------------------------------------------------------------------------ */
/* The catalog zone (RFC 9432 version 2), control/xfr/catalog.c             */
/* ------------------------------------------------------------------------ */

/* One RR of a generated zone. Non-zero stops and is returned. */
typedef int (*xfr_rr_fn)(void *ctx, const uint8_t *owner, uint16_t type, uint32_t ttl,
                         const uint8_t *rdata, uint16_t rdlen);

/* A digest of the catalog's member list (own read transaction): regenerate when it changes. */
int xfr_catalog_digest(struct store *s, const uint8_t *catalog, uint64_t *digest);

/*
 * Write the catalog zone `catalog` (a lower-case wire name) into the store
 * from the members of one read snapshot: one ZONE_REPLACE commit (actor
 * "catalog") that creates it the first time; a replace that changes
 * nothing is no commit. Own transactions; the NOTIFY thread calls it.
 */
int xfr_catalog_sync(struct store *s, const uint8_t *catalog, struct store_error *err);

/* ------------------------------------------------------------------------ */
/* NOTIFY out (RFC 1996)                                                    */
/* ------------------------------------------------------------------------ */

#define XFR_NOTIFY_TRIES 3
#define XFR_NOTIFY_INTERVAL_MS 2000

struct xfr_notifier;

/*
 * A control-plane thread that watches the store (its last journal seq,
 * every 200 ms) and, for each zone whose serial changed since it last
 * looked, sends NOTIFY (SOA, the new serial in the answer section, RFC
 * 1996 3.7) over UDP to the targets of the zone's ACL, each up to
 * XFR_NOTIFY_TRIES times XFR_NOTIFY_INTERVAL_MS apart until a response
 * with the same ID, opcode NOTIFY and QR arrives (RFC 1996 3.6), TSIG
 * signed with notify_key when the ACL names one. Zones present at start
 * are notified once too (secondaries learn of changes made while we
 * were down), as Knot does.
 * With `catalog` (a wire name; NULL: none), the thread also keeps that
 * catalog zone (RFC 9432) current: when the member list changes (a zone
 * added or removed, an ACL that makes a zone transferable or not) it
 * rewrites it (xfr_catalog_sync); its new serial is then NOTIFYed to the
 * targets of its ACL like any zone's.
 */
int xfr_notifier_start(struct xfr_notifier **out, struct store *s, struct xfr_stats *st,
                       const uint8_t *catalog);
void xfr_notifier_stop(struct xfr_notifier *n);

#endif
