/* log -- ddiplane's log: levels and subsystems, to stderr, syslog(3) or the systemd journal */
#ifndef DDI_CONTROL_LOG_H
#define DDI_CONTROL_LOG_H

#include <stdbool.h>
#include <stddef.h>

/*
 * One line per event, with a level (syslog's) and the subsystem it comes
 * from. The targets:
 *   LOG_TO_STDERR   "ddiplane: SUBSYS: LEVEL: text" on stderr (a terminal, the tests)
 *   LOG_TO_SYSLOG   syslog(3), ident "ddiplane", facility daemon, the subsystem in the text
 *   LOG_TO_JOURNAL  sd_journal_send(3): MESSAGE, PRIORITY, DDI_SUBSYSTEM and, for a
 *                   change or a refusal, DDI_ACTOR, so `journalctl DDI_ACTOR=tsig:dhcp`
 *                   finds what one key did
 * Each subsystem has its own threshold (default info). Thread-safe; never
 * called by a worker lcore (the fast path makes no system call): the
 * workers count, the control plane logs.
 */
enum ddi_log_sub {
	LOG_SUB_DATAPLANE = 0,   /* start, ports, taps, lcores, stop */
	LOG_SUB_STORE,           /* the LMDB store */
	LOG_SUB_FOLLOW,          /* the control thread: every change applied, with its actor */
	LOG_SUB_DDNS,            /* dynamic updates: refusals (bounded), the DDNS thread */
	LOG_SUB_XFR,             /* zone transfers and NOTIFY */
	LOG_SUB_MGMT,            /* control socket, /metrics, access */
	LOG_SUB_TCP,             /* DNS over TCP */
	LOG_SUB__COUNT
};

/* syslog's numbers (LOG_ERR ... LOG_DEBUG of <syslog.h>). */
enum ddi_log_level {
	LOG_LVL_ERR = 3,
	LOG_LVL_WARNING = 4,
	LOG_LVL_NOTICE = 5,
	LOG_LVL_INFO = 6,
	LOG_LVL_DEBUG = 7,
};

enum ddi_log_target { LOG_TO_STDERR = 0, LOG_TO_SYSLOG, LOG_TO_JOURNAL };

/* "dataplane", ..., "tcp"; and back (-1 when unknown). */
const char *ddi_log_sub_name(enum ddi_log_sub s);
int ddi_log_sub_parse(const char *s);
/* "err", "warning", "notice", "info", "debug"; and back (-1 when unknown). */
const char *ddi_log_level_name(enum ddi_log_level l);
int ddi_log_level_parse(const char *s);

/*
 * Choose the target ("stderr", "syslog", "journal" or "auto": the journal
 * when stderr is connected to it ($JOURNAL_STREAM), else stderr). Returns
 * 0, or -1 for an unknown name. Call before the threads start; may be
 * called again (a reload) at any time.
 */
int ddi_log_target_set(const char *name);
enum ddi_log_target ddi_log_target(void);

/*
 * Thresholds from a spec: "LEVEL" for every subsystem, "SUBSYS=LEVEL" for
 * one, several separated by commas ("info,ddns=debug"); what the spec does
 * not name is at info. On an error nothing changes and `why` says which
 * word is wrong. Any thread.
 */
int ddi_log_levels_set(const char *spec, char *why, size_t len);
/* The same check, nothing changed: 0, or -1 with the reason. */
int ddi_log_levels_check(const char *spec, char *why, size_t len);

/* Would a line at `level` from `sub` be written? (cheap; check before building costly text) */
bool ddi_log_enabled(enum ddi_log_sub sub, enum ddi_log_level level);

/*
 * Between ddi_log_hold(true) and ddi_log_hold(false) this thread's lines
 * for stderr are kept and then written with one write(2): a thread that
 * logs a burst (the control thread, one line per change of a published
 * batch) makes one system call for it, not one per line. Other targets
 * are not held (syslog and the journal take a line at a time).
 */
void ddi_log_hold(bool on);

/* One line; `actor` (may be NULL) is who caused it ("unix:alice", "tsig:dhcp-key@198.18.0.2"). */
void ddi_log(enum ddi_log_sub sub, enum ddi_log_level level, const char *actor, const char *fmt,
             ...) __attribute__((format(printf, 4, 5)));

#endif
