/* secondary -- ddiplane as a secondary: the refresh thread (SOA timers, NOTIFY, IXFR/AXFR in) */
#ifndef DDI_CONTROL_XFR_SECONDARY_H
#define DDI_CONTROL_XFR_SECONDARY_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <sys/socket.h>

#include <jansson.h>

#include "control/xfr/in.h"
#include "dns/name.h"

struct store;
struct ctl;

/*
 * A secondary zone is a zone with STORE_ZONE_SECONDARY whose zone_acl
 * value names its primaries (control/store/store.h, "Secondary zones"):
 *   {"primaries": ["198.18.0.5", "198.18.0.6@5300"], "primary_key": "xfr-key."}
 * The key is a TSIG key of the store (ddictl key add); with one, every
 * query is signed and every answer message verified (RFC 8945 5.3.1), and
 * a NOTIFY must be signed with it.
 *
 * One control-plane thread (never a worker, never the control lcore) keeps
 * them current, as RFC 1035 4.3.5 and RFC 1996 say:
 *   1. Every XFR_SEC_TICK_MS, or when woken (NOTIFY, a command, a change
 *      of the store's zones), it reads the secondary zones from the store
 *      (the list is rebuilt whenever the journal moved).
 *   2. A zone is due at its next refresh: at start (so a restarted
 *      secondary resumes from its stored serial at once), REFRESH seconds
 *      after a success, RETRY after a failure (the SOA's timers, clamped
 *      to [XFR_SEC_MIN_S, XFR_SEC_MAX_S]; without an SOA yet RETRY is
 *      XFR_SEC_EMPTY_RETRY_S), or now after a NOTIFY from one of its
 *      primaries (RFC 1996 3.10).
 *   3. Refresh: the primaries in order; for each an SOA query over UDP
 *      (XFR_SEC_UDP_TIMEOUT_MS, RFC 1996 3.11; over TCP when the zone has
 *      a key: a ddiplane primary signs answers on TCP only), and when the primary's
 *      serial is newer (RFC 1982) or the zone is empty, a transfer over
 *      TCP: IXFR from our SOA (RFC 1995), falling back to AXFR when the
 *      primary cannot (an error rcode), or the differences do not apply
 *      to our copy; AXFR when the zone is empty (RFC 5936).
 *   4. The transfer is parsed whole (in.h) before anything is applied,
 *      then applied in ONE store_commit (ZONE_REPLACE for AXFR, RR ops
 *      for IXFR, STORE_OPF_TRANSFER); the commit writes the journal entry
 *      and the differences and the control thread publishes it like any
 *      change (woken with ctl_wake).
 *   5. EXPIRE seconds after the last success the zone is emptied (a
 *      ZONE_REPLACE without records): it answers SERVFAIL until a
 *      transfer succeeds.
 * Any refusal leaves the zone unchanged, its reason in the zone's last
 * error and one log line (subsystem xfr).
 *
 * Timers are kept in memory: after a restart every zone is refreshed at
 * once (Knot DNS keeps them in a timer database; we start over, which
 * only costs one SOA query per zone).
 */

#define XFR_SEC_TICK_MS 200
#define XFR_SEC_MIN_S 2              /* refresh/retry clamped to [MIN, MAX] */
#define XFR_SEC_MAX_S 86400
#define XFR_SEC_EMPTY_RETRY_S 5      /* an empty zone retries this often */
#define XFR_SEC_UDP_TIMEOUT_MS 2000
#define XFR_SEC_TCP_TIMEOUT_MS 10000 /* connect, and each read */
#define XFR_SEC_MAX_PRIMARIES 8
#define XFR_SEC_MAX_ZONES 4096

/* Counters, in all zones (relaxed atomics). */
struct xfr_sec_stats {
	uint64_t soa_queries, soa_failed;
	uint64_t axfr, ixfr, uptodate, ixfr_fallback;
	uint64_t refused[XFR_IN__COUNT];   /* by outcome of the transfer parser */
	uint64_t commit_failed;            /* the store refused the data */
	uint64_t notify_accepted, notify_refused;
	uint64_t expired;
	/* catalog consumption (control/xfr/consume.h), in all consumed catalogs */
	uint64_t cat_syncs, cat_broken, cat_failed;   /* syncs run; refused as broken; store errors */
	uint64_t cat_added, cat_removed, cat_restarted, cat_updated, cat_conflicts, cat_member_failed;
};

struct xfr_sec_conf {
	struct store *store;
	struct ctl *ctl;                 /* woken after each commit (may be NULL) */
	struct xfr_in_limits lim;        /* zeros: defaults */
};

struct xfr_secondary;

/* Start the refresh thread. Only one runs in a process (xfr_sec_notify etc. reach it). */
int xfr_secondary_start(struct xfr_secondary **out, const struct xfr_sec_conf *conf);
/* Stop and join it. NULL is ignored. */
void xfr_secondary_stop(struct xfr_secondary *s);

/* What a NOTIFY for `apex` from (family, addr) signed with `key` (NULL: unsigned) is. */
enum xfr_sec_notify {
	XFR_SEC_NOTIFY_NOT_SECONDARY = 0,  /* not a secondary zone of ours: answer as before */
	XFR_SEC_NOTIFY_ACCEPTED,           /* a refresh is scheduled now: NOERROR */
	XFR_SEC_NOTIFY_REFUSED,            /* not from a primary, or not with its key: REFUSED */
};

/*
 * RFC 1996 3.10: called by the DDNS thread for each verified NOTIFY.
 * Never blocks beyond a short mutex. Without a running thread every zone
 * is XFR_SEC_NOTIFY_NOT_SECONDARY.
 */
enum xfr_sec_notify xfr_sec_notify(const uint8_t *apex, uint8_t family, const uint8_t *addr,
                                   const uint8_t *key);

/* Refresh `apex` now (force: AXFR without asking the SOA first). DDI_ENOZONE when unknown. */
int xfr_sec_refresh(const uint8_t *apex, bool force);

/* One zone's state for `zone list` and /metrics. */
struct xfr_sec_status {
	uint8_t apex[DNS_NAME_MAXLEN];
	char primaries[256];             /* "198.18.0.5, 198.18.0.6@5300" */
	bool loaded;                     /* holds data (an SOA) */
	uint32_t serial;
	int64_t last_refresh, next_refresh, expires;   /* unix seconds, 0: never */
	char last_error[256];            /* "" when the last refresh succeeded */
	uint64_t transfers, failures;
	char last_kind[8];               /* "AXFR", "IXFR", "" */
	bool catalog;                    /* a consumed catalog (control/xfr/consume.h) */
	uint32_t members;                /* its members at the last sync */
	char catalog_error[256];         /* "" when its last sync succeeded */
};

/* The status of `apex` (false when it is not a secondary zone or no thread runs). */
bool xfr_sec_status(const uint8_t *apex, struct xfr_sec_status *st);
/* Every zone's status (cb returning non-zero stops); false when no thread runs. */
bool xfr_sec_status_all(int (*cb)(void *ctx, const struct xfr_sec_status *st), void *ctx,
                        struct xfr_sec_stats *totals);

/*
 * Prometheus text for /metrics: ddiplane_xfr_in_total{outcome} (every
 * outcome of xfr_sec_stats and of the transfer parser) and per zone
 * ddiplane_secondary_serial, _loaded, _last_refresh_seconds,
 * _next_refresh_seconds, _expires_seconds, _failures_total, _ok (1 when
 * the last refresh succeeded), ddiplane_catalog_total{outcome} (member
 * zones added, removed, restarted ... by catalog consumption) and per
 * consumed catalog ddiplane_catalog_members and _ok. Nothing when no
 * thread runs.
 */

void xfr_sec_metrics(FILE *f);

/*
 * The zone_acl value of a new secondary zone: {"primaries": [...], "primary_key": KEY}
 * (key may be NULL). Each primary must parse as xfr_target_parse. Returns a
 * malloc'd compact JSON string, or NULL with `err` set.
 */
char *xfr_sec_acl_json(const char *const *primaries, size_t n, const char *key, char *err,
                       size_t errlen);

/*
 * zone list: each object of `zones` ({"zone": NAME, "role": ...}) that is a
 * consumed catalog gets "role": "catalog", a zone a catalog added "role":
 * "catalog member" and "catalog": ORIGIN (control/xfr/consume.h).
 */
void xfr_sec_zone_roles(struct store *s, json_t *zones);

/* The primaries of a secondary zone as text ("198.18.0.5, ...") from its zone_acl. */
bool xfr_sec_primaries_text(struct store *s, const uint8_t *apex, char *buf, size_t len);

#endif
