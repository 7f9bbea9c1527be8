/* sdnotify -- systemd readiness and watchdog: READY=1 once the workers answer, WATCHDOG=1 while healthy */
#ifndef DDI_DATAPLANE_SDNOTIFY_H
#define DDI_DATAPLANE_SDNOTIFY_H

#include <stdbool.h>
#include <stddef.h>

struct dp_notify;

/* True when the server answers from a current snapshot; else false and the reason in `why`. */
typedef bool (*dp_health_fn)(void *ctx, char *why, size_t len);

/*
 * Under systemd (Type=notify: $NOTIFY_SOCKET set), start a small thread
 * that sends READY=1 (with a STATUS= line) as soon as `healthy` first holds
 * (the workers run their loops and the index follows the store), and,
 * when the unit sets WatchdogSec= ($WATCHDOG_USEC), WATCHDOG=1 every half
 * period while `healthy` holds: a server whose workers stopped or whose
 * index no longer follows the store is restarted by systemd. Without
 * $NOTIFY_SOCKET nothing is started (*out NULL, DDI_EOK).
 * The thread is not an RCU reader and takes no lock of the fast path.
 */
int dp_notify_start(struct dp_notify **out, dp_health_fn healthy, void *ctx);

/* STOPPING=1, then stop the thread. NULL is ignored. */
void dp_notify_stop(struct dp_notify *n);

#endif
