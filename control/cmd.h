/* cmd -- the interface of a control command: who asks, with which role, and the reply's shape */
#ifndef DDI_CONTROL_CMD_H
#define DDI_CONTROL_CMD_H

#include <stdbool.h>
#include <stdint.h>

#include <jansson.h>

/*
 * Every room that offers control commands (mgmt/ for zones, records and
 * the journal, ipam/ for prefixes and allocations) implements them against
 * this header alone and exports a table of struct cmd_def; mgmt/commands.c
 * joins the tables and dispatches (cmd_exec). So a room depends on this
 * contract, never on another room's command code, and no include cycle
 * forms between mgmt/ and the rooms it dispatches to.
 *
 * A request is {"command": "record-add", "arguments": {...}} and its reply
 * {"result": R, "text": "...", "arguments": {...}}, the shape of ISC Kea's
 * control channel.
 */

enum cmd_result {
	CMD_OK = 0,            /* done */
	CMD_ERROR = 1,         /* failed: "text" says why; nothing was changed */
	CMD_UNSUPPORTED = 2,   /* unknown command, or not available here */
	CMD_EMPTY = 3,         /* done, nothing found */
};

enum cmd_role {
	CMD_ROLE_NONE = 0,     /* may do nothing */
	CMD_ROLE_READ = 1,     /* read-only: status, stats, lists, exports, journal */
	CMD_ROLE_ADMIN = 2,    /* everything */
};

struct store;
struct auth_principal;
struct cmd_scope;

/* What only a running server knows; NULL members answer CMD_UNSUPPORTED. */
struct cmd_hooks {
	void *ctx;
	json_t *(*status)(void *ctx);          /* new reference: the "arguments" of status */
	json_t *(*stats)(void *ctx);           /* new reference: the "arguments" of stats */
	void (*shutdown)(void *ctx);
	/*
	 * Re-read the configuration and apply what can change live; new
	 * reference: {"reloaded": [...], "restart_needed": [...]} or
	 * {"error": "why"} with nothing changed.
	 */
	json_t *(*reload)(void *ctx);
	/*
	 * IPAM: the published index version to count addresses from
	 * (ipam_index_ops), valid until index_leave; the calling thread is a
	 * QSBR reader in between. NULL: count from the store.
	 */
	const struct idx_version *(*index_enter)(void *ctx);
	void (*index_leave)(void *ctx);
};

struct cmd_ctx {
	struct store *store;
	const char *actor;           /* journal actor: "unix:alice", "uid:1000" */
	enum cmd_role role;
	/*
	 * A principal with a role scoped per zone and prefix (an API token, a
	 * Unix user given a role: control/mgmt/auth.h). When set, it decides
	 * instead of `role`, for every command (auth_allow); NULL: `role`.
	 */
	const struct auth_principal *principal;
	/*
	 * What of a list the principal sees (struct cmd_scope below): set by
	 * cmd_exec whenever `principal` is, from control/mgmt/auth.c; a
	 * command asks through cmd_sees_name / cmd_sees_prefix per row.
	 */
	const struct cmd_scope *scope;
	const struct cmd_hooks *hooks;   /* NULL: ddictl --db */
	/*
	 * Long work (zone import, IPAM import) reports how far it is: `done`
	 * of about `total` units of `what` ("records", "rows"); called at most
	 * every few thousand units, and once with done == total at the end of
	 * the phase. NULL: nobody watches (the socket, tests).
	 */
	void (*progress)(void *ctx, const char *what, uint64_t done, uint64_t total);
	void *progress_ctx;
};

/*
 * The scope of a principal, asked once per row of a list (zone-list,
 * prefix-list, journal, ...) while the list is walked: is this zone or
 * name (wire form), this prefix (an address is a full-length prefix)
 * inside what the principal may see? The one answer is auth.c's
 * (auth_sees_name, auth_sees_prefix), the same that allows or refuses a
 * read naming one zone, name, prefix or address. `scoped`: the principal
 * has zones or prefixes and is not admin (rows that name neither, such as
 * another principal's record or a journal note, are then hidden).
 */
struct cmd_scope {
	bool (*name)(const struct auth_principal *p, const uint8_t *name);
	bool (*prefix)(const struct auth_principal *p, int family, const uint8_t addr[16],
	               unsigned plen);
	bool (*scoped)(const struct auth_principal *p);
};

/*
 * For a list's rows: true when ctx has no principal (the socket's uid
 * roles, ddictl --db) or the principal sees the row; false when a
 * principal is set without a scope (fail closed).
 */
bool cmd_sees_name(const struct cmd_ctx *ctx, const uint8_t *name);
bool cmd_sees_prefix(const struct cmd_ctx *ctx, int family, const uint8_t addr[16], unsigned plen);
/* A principal with zones or prefixes that is not admin. */
bool cmd_scoped(const struct cmd_ctx *ctx);

/*
 * A command refused for the peer's role, logged with its actor (mgmt
 * subsystem, info), at most CMD_LOG_REFUSED_PER_SEC lines a second.
 */
#define CMD_LOG_REFUSED_PER_SEC 10
void cmd_log_refused(const char *actor, const char *command, const char *needs, const char *has);

/* Lines in text[0..len): the `total` of a progress report over a file's text. */
uint64_t cmd_count_lines(const char *text, size_t len);

/* A reply object {"result": r, "text": text} with optional arguments (stolen). */
json_t *cmd_reply(enum cmd_result r, json_t *arguments, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));

/*
 * One command of a room's table. `fn` takes the request's "arguments"
 * object (never NULL: {} when absent) and returns a reply made with
 * cmd_reply (new reference, NULL only when out of memory); *seq is the
 * journal seq of the commit it made, 0 when none. The caller has already
 * checked ctx->role against `role`.
 */
struct cmd_def {
	const char *name;
	enum cmd_role role;
	json_t *(*fn)(const struct cmd_ctx *ctx, const json_t *args, uint64_t *seq);
};

#endif
