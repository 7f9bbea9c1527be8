/* ctlsock -- the JSON control socket: Unix stream, SO_PEERCRED roles, one epoll thread, many clients */
#ifndef DDI_CONTROL_CTLSOCK_H
#define DDI_CONTROL_CTLSOCK_H

#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#include "control/mgmt/commands.h"

#define CTLSOCK_MAX_REQUEST_DEFAULT ((size_t)16 << 20)   /* a zone import is one request */
#define CTLSOCK_TIMEOUT_MS_DEFAULT 10000    /* a request must arrive whole within this */
#define CTLSOCK_WAIT_MS_DEFAULT 2000        /* a change's reply waits this long for publishing */
#define CTLSOCK_MAX_CONNS 256

struct store;
struct ctl;
struct ctlsock;

/*
 * Access rules, first match wins:
 *   uid:N ROLE | user:NAME ROLE | gid:N ROLE | group:NAME ROLE | * ROLE
 * ROLE is "admin", "read-only" or "none". '#' starts a comment.
 * Without a file (or when no rule matches): uid 0 and the server's own uid
 * are admin, everyone else read-only. gid rules match the peer's primary
 * group (SO_PEERCRED) and its supplementary groups.
 */
struct ctl_access;

/* Load rules from `path`; on error (file, line) a message in err. NULL path: defaults only. */
int ctl_access_load(struct ctl_access **out, const char *path, char *err, size_t errlen);
void ctl_access_free(struct ctl_access *a);
enum cmd_role ctl_access_role(const struct ctl_access *a, uid_t uid, gid_t gid);

struct ctlsock;
/*
 * A new access table (ctl_access_load) in force for every peer that
 * connects from now on (a reload); connected peers keep the role they got.
 * The socket takes `a` over (frees it). Any thread; never blocks.
 */
void ctlsock_set_access(struct ctlsock *s, struct ctl_access *a);

struct ctlsock_conf {
	const char *path;              /* the socket; an old socket file there is replaced */
	struct store *store;
	struct ctl *ctl;               /* woken after commits, waited for; may be NULL */
	const struct cmd_hooks *hooks;
	const struct ctl_access *access;   /* NULL: the defaults */
	size_t max_request;            /* 0: CTLSOCK_MAX_REQUEST_DEFAULT */
	unsigned timeout_ms;           /* 0: CTLSOCK_TIMEOUT_MS_DEFAULT */
	unsigned wait_ms;              /* 0: CTLSOCK_WAIT_MS_DEFAULT */
};

struct ctlsock_stats {
	uint64_t accepted, requests, errors, denied, malformed, oversized, timeouts;
};

/*
 * Framing: a client writes one JSON object (any whitespace around it) and
 * gets one JSON object and "\n" back; it may send more requests on the
 * same connection. A request that is not JSON gets result 1 with the
 * parser's reason and the connection is closed; so is one larger than
 * max_request. A change is answered after its commit and, when a control
 * thread is given, after the version holding it is published (or wait_ms
 * passed: then "published": false), so that a query sent after the reply
 * sees the change.
 * Errors: -errno (socket, bind: the message names the path), DDI_ENOMEM.
 */
int ctlsock_start(struct ctlsock **out, const struct ctlsock_conf *conf, char *err, size_t errlen);

/* Stop the thread, close every connection, remove the socket file. NULL is ignored. */
void ctlsock_stop(struct ctlsock *s);

void ctlsock_get_stats(struct ctlsock *s, struct ctlsock_stats *st);

#endif
