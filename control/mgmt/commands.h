/* commands -- the control commands (JSON in, JSON out), shared by the control socket and ddictl --db */
#ifndef DDI_CONTROL_COMMANDS_H
#define DDI_CONTROL_COMMANDS_H

#include <stdint.h>

#include <jansson.h>

#include "control/cmd.h"

/*
 * A request is {"command": "record-add", "arguments": {...}} and its reply
 * {"result": R, "text": "...", "arguments": {...}}, the shape of ISC Kea's
 * control channel. R is one of enum cmd_result. Every change is one
 * store_commit (one LMDB write transaction with its journal entry); the
 * reply of a change carries "seq", its journal sequence, and is made only
 * after the commit returned.
 *
 * Commands (arguments in brackets are optional):
 *   list-commands                         every command and the role it needs
 *   status                                version, uptime, workers, generation, seq (server)
 *   stats                                 per-lcore and total counters (server)
 *   zone-list                             zones with serial and sizes
 *   zone-add      zone [soa] [ns[]] [ttl] create a zone with SOA (and NS)
 *   zone-remove   zone                    delete a zone and its names
 *   zone-import   zone text [filename]    replace the zone with a master file's text
 *   zone-export   zone                    the zone as records and as master-file text
 *   record-add    name ttl type rdata     add one record (rdata: text or array of tokens)
 *   record-delete name [type [rdata]]     delete a name, an RRset or one record
 *   record-replace name ttl type rdata|rdatas[]   replace an RRset
 *   record-get    name [type]             the records of a name
 *   record-list   zone [type] [name]      the zone's records; name: only owners ending so
 *   changes       changes[]               several add/delete/replace in ONE commit
 *   journal       [since] [limit] [actor] [zone] [name]
 *   backup        dir                     consistent compacted copy of the store
 *   shutdown                              stop the server (server)
 *   prefix-*, range-add, alloc-*, release, address-show, utilization,
 *   conflicts, ipam-import, ipam-export   IPAM: see control/ipam/cmd.h
 *
 * A principal scoped to zones or prefixes (control/mgmt/auth.h) sees only
 * the rows inside its scope of every list above (zone-list, journal, ...):
 * cmd_exec gives the commands its scope (cmd_ctx.scope).
 */

/*
 * Execute `request` (any JSON value: what is not a well-formed request
 * gets CMD_ERROR with the reason). Returns a new reply object (NULL only
 * when out of memory). *seq (may be NULL) is the journal seq of the commit
 * made, 0 when none.
 */
json_t *cmd_exec(const struct cmd_ctx *ctx, const json_t *request, uint64_t *seq);

/* The role a command needs; CMD_ROLE_NONE for an unknown command. */
enum cmd_role cmd_role_needed(const char *command);

#endif
