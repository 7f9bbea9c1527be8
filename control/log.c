/* log -- ddiplane's log to stderr, syslog(3) or the systemd journal (control/log.h) */
#include <stdarg.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <syslog.h>

#define SD_JOURNAL_SUPPRESS_LOCATION
#include <systemd/sd-journal.h>

#include "control/log.h"

static const char *const sub_names[LOG_SUB__COUNT] = {
	"dataplane", "store", "follow", "ddns", "xfr", "mgmt", "tcp",
};

static const char *const level_names[] = {
	[LOG_LVL_ERR] = "err", [LOG_LVL_WARNING] = "warning", [LOG_LVL_NOTICE] = "notice",
	[LOG_LVL_INFO] = "info", [LOG_LVL_DEBUG] = "debug",
};

/* Relaxed atomics: a reload changes them while other threads log. */
static _Atomic int target = LOG_TO_STDERR;
static _Atomic int threshold[LOG_SUB__COUNT] = {
	LOG_LVL_INFO, LOG_LVL_INFO, LOG_LVL_INFO, LOG_LVL_INFO, LOG_LVL_INFO, LOG_LVL_INFO,
	LOG_LVL_INFO,
};

const char *ddi_log_sub_name(enum ddi_log_sub s)
{
	return (unsigned)s < LOG_SUB__COUNT ? sub_names[s] : "?";
}

int ddi_log_sub_parse(const char *s)
{
	for (int i = 0; i < LOG_SUB__COUNT; i++)
		if (strcmp(s, sub_names[i]) == 0)
			return i;
	return -1;
}

const char *ddi_log_level_name(enum ddi_log_level l)
{
	return l >= LOG_LVL_ERR && l <= LOG_LVL_DEBUG ? level_names[l] : "?";
}

int ddi_log_level_parse(const char *s)
{
	for (int i = LOG_LVL_ERR; i <= LOG_LVL_DEBUG; i++)
		if (strcmp(s, level_names[i]) == 0)
			return i;
	return -1;
}

int ddi_log_target_set(const char *name)
{
	int t;
	if (strcmp(name, "stderr") == 0)
		t = LOG_TO_STDERR;
	else if (strcmp(name, "syslog") == 0)
		t = LOG_TO_SYSLOG;
	else if (strcmp(name, "journal") == 0)
		t = LOG_TO_JOURNAL;
	else if (strcmp(name, "auto") == 0)
		t = getenv("JOURNAL_STREAM") ? LOG_TO_JOURNAL : LOG_TO_STDERR;
	else
		return -1;
	if (t == LOG_TO_SYSLOG)
		openlog("ddiplane", LOG_PID | LOG_NDELAY, LOG_DAEMON);
	atomic_store_explicit(&target, t, memory_order_relaxed);
	return 0;
}

enum ddi_log_target ddi_log_target(void)
{
	return (enum ddi_log_target)atomic_load_explicit(&target, memory_order_relaxed);
}

/* The thresholds `spec` gives, from the current ones: 0, or -1 with the reason. */
static int levels_parse(const char *spec, int next[LOG_SUB__COUNT], char *why, size_t len)
{
	for (int i = 0; i < LOG_SUB__COUNT; i++)
		next[i] = LOG_LVL_INFO;   /* a spec is whole: what it does not name is at the default */
	char buf[256];
	if (snprintf(buf, sizeof(buf), "%s", spec) >= (int)sizeof(buf)) {
		snprintf(why, len, "log level spec longer than %zu bytes", sizeof(buf) - 1);
		return -1;
	}
	char *save = NULL;
	for (char *w = strtok_r(buf, ",", &save); w; w = strtok_r(NULL, ",", &save)) {
		char *eq = strchr(w, '=');
		int sub = -1, lvl;
		if (eq) {
			*eq = 0;
			if ((sub = ddi_log_sub_parse(w)) < 0) {
				snprintf(why, len, "unknown log subsystem '%.40s' (dataplane, store, follow, "
				         "ddns, xfr, mgmt, tcp)", w);
				return -1;
			}
		}
		if ((lvl = ddi_log_level_parse(eq ? eq + 1 : w)) < 0) {
			snprintf(why, len, "unknown log level '%.40s' (err, warning, notice, info, debug)",
			         eq ? eq + 1 : w);
			return -1;
		}
		for (int i = 0; i < LOG_SUB__COUNT; i++)
			if (sub < 0 || sub == i)
				next[i] = lvl;
	}
	return 0;
}

int ddi_log_levels_check(const char *spec, char *why, size_t len)
{
	int next[LOG_SUB__COUNT];
	return levels_parse(spec, next, why, len);
}

int ddi_log_levels_set(const char *spec, char *why, size_t len)
{
	int next[LOG_SUB__COUNT];
	if (levels_parse(spec, next, why, len) < 0)
		return -1;
	for (int i = 0; i < LOG_SUB__COUNT; i++)
		atomic_store_explicit(&threshold[i], next[i], memory_order_relaxed);
	return 0;
}

/* ddi_log_hold: this thread's stderr lines, written at once by the release */
static __thread FILE *held;
static __thread char *held_buf;
static __thread size_t held_len;

void ddi_log_hold(bool on)
{
	if (on && !held) {
		held = open_memstream(&held_buf, &held_len);
		return;
	}
	if (!on && held) {
		fclose(held);
		held = NULL;
		if (held_len)
			fwrite(held_buf, 1, held_len, stderr);   /* one write for the batch */
		free(held_buf);
		held_buf = NULL;
		held_len = 0;
	}
}

bool ddi_log_enabled(enum ddi_log_sub sub, enum ddi_log_level level)
{
	return (unsigned)sub < LOG_SUB__COUNT &&
	       (int)level <= atomic_load_explicit(&threshold[sub], memory_order_relaxed);
}

void ddi_log(enum ddi_log_sub sub, enum ddi_log_level level, const char *actor, const char *fmt,
             ...)
{
	if (!ddi_log_enabled(sub, level))
		return;
	char msg[1024];
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	switch (ddi_log_target()) {
	case LOG_TO_JOURNAL:
		if (actor)
			sd_journal_send("MESSAGE=%s: %s", sub_names[sub], msg, "PRIORITY=%d", level,
			                "DDI_SUBSYSTEM=%s", sub_names[sub], "DDI_ACTOR=%s", actor,
			                "SYSLOG_IDENTIFIER=ddiplane", NULL);
		else
			sd_journal_send("MESSAGE=%s: %s", sub_names[sub], msg, "PRIORITY=%d", level,
			                "DDI_SUBSYSTEM=%s", sub_names[sub], "SYSLOG_IDENTIFIER=ddiplane",
			                NULL);
		break;
	case LOG_TO_SYSLOG:
		syslog(LOG_DAEMON | (int)level, "%s: %s%s%s", sub_names[sub], msg,
		       actor ? " actor=" : "", actor ? actor : "");
		break;
	case LOG_TO_STDERR:
	default:
		/* one fprintf: stdio locks the stream, so lines of two threads do not mix */
		fprintf(held ? held : stderr, "ddiplane: %s: %s: %s%s%s\n", sub_names[sub],
		        level_names[level], msg, actor ? " actor=" : "", actor ? actor : "");
		break;
	}
}
