/* auth -- principals with roles scoped per zone and prefix (API tokens, Unix users), token hashes, one authorization decision */
#ifndef DDI_CONTROL_MGMT_AUTH_H
#define DDI_CONTROL_MGMT_AUTH_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <jansson.h>

#include "control/cmd.h"
#include "dns/name.h"

/*
 * A principal is who asks: a bearer token of the HTTP API ("token:ci") or
 * a Unix user of the control socket given a scoped role ("unix:alice",
 * the actor the socket already journals). Its record is a JSON object in
 * the store's principals database (store_auth_value), opaque to the store:
 *   {"kind": "token"|"user", "name": N, "role": R, "zones": [..],
 *    "prefixes": [..], "created": unix_ns, "hash": hex}
 * where "hash" (tokens only) is the SHA-256 of the whole token; the token
 * itself is shown once by token-add and never stored.
 *
 * Roles:
 *   reader       every read command (lists, exports, journal, stats)
 *   dns-editor   reads, and record changes (record-add/-delete/-replace,
 *                changes) of names inside its zones
 *   ipam-editor  reads, and prefixes, ranges and allocations inside its
 *                prefixes (alloc-next, alloc-address, release, ...), with
 *                the A/AAAA and PTR records the IPAM writes for them
 *   admin        everything
 * An editor without any --zone (--prefix) has every zone (prefix).
 *
 * Scopes also say what a principal sees (every role but admin): a read
 * naming one zone, name, prefix or address must name one inside its zones
 * (prefixes), and every list shows only the rows inside them, filtered
 * while it is walked (auth_sees_name / auth_sees_prefix, through
 * cmd_ctx.scope): zone-list (its zones and the zones below them),
 * prefix-list and prefix-tree (its prefixes and those inside them; never
 * a parent holding them: its name, utilization and siblings are another
 * tenant's), range-list, catalog-list, policy-list (rules granting names
 * inside its zones), key-list (the keys of those rules; secrets are never
 * listed for anyone), token-list and role-list (its own record only), and
 * the journal (entries with an op inside its scope, with only those ops;
 * the entry's seq, time and actor as stored, notes only its own). A
 * principal with zones but no prefixes sees every prefix, as it may read
 * any one (and the other way round). status, stats and list-commands are
 * counters, not tenant data, and are shown whole. The stale (no zone
 * given) and conflicts reports show the rows of its names and addresses,
 * ipam-export the prefixes and allocations inside its prefixes. history
 * with no name is refused to a scoped principal. Every
 * command that changes something is either declared in auth.c's scope
 * table (which argument names the zone's name or the prefix/address it
 * touches) or needs admin; tests/control/mgmt/test_auth.c checks that
 * every command of the table is one or the other.
 *
 * Token form: "ddi_" NAME "_" 64 hex digits (32 random bytes), so that the
 * record is found by name and compared in constant time (CRYPTO_memcmp).
 */

enum auth_role {
	AUTH_ROLE_READER = 1,
	AUTH_ROLE_DNS_EDITOR,
	AUTH_ROLE_IPAM_EDITOR,
	AUTH_ROLE_ADMIN,
};

#define AUTH_SCOPES_MAX 32       /* zones, and prefixes, of one principal */
#define AUTH_NAME_MAX 32         /* a token's or user's name: [a-z0-9_-], 1..32 */
#define AUTH_TOKEN_LEN (4 + AUTH_NAME_MAX + 1 + 64)   /* without the NUL */
#define AUTH_HASH_HEX 64

struct auth_prefix {
	int family;                  /* 4 or 6 */
	uint8_t addr[16];
	unsigned plen;
};

struct auth_principal {
	char actor[AUTH_NAME_MAX + 8];   /* "token:NAME", "unix:NAME": the journal actor */
	enum auth_role role;
	unsigned nzones, nprefixes;
	uint8_t zones[AUTH_SCOPES_MAX][DNS_NAME_MAXLEN];
	struct auth_prefix prefixes[AUTH_SCOPES_MAX];
};

const char *auth_role_name(enum auth_role r);
bool auth_role_parse(const char *s, enum auth_role *r);

/* "198.18.0.0/15", "2001:2::/48", or one address (a /32, /128); host bits must be 0. */
bool auth_prefix_parse(const char *s, struct auth_prefix *p);
bool auth_prefix_within(const struct auth_prefix *inner, const struct auth_prefix *outer);

/* [a-z0-9_-], 1..AUTH_NAME_MAX bytes (upper case is refused, not folded). */
bool auth_name_valid(const char *name);

/*
 * A principal from its stored record (`json`, `len` bytes). false with the
 * reason in why when the record does not validate (then deny).
 */
bool auth_principal_parse(struct auth_principal *p, const char *json, size_t len, char *why,
                          size_t wlen);

/*
 * THE decision: may p run `command` (needing `needed` by the command
 * table) with `args`? true, or false with the reason in why ("token:ci
 * (dns-editor for a.test.) may not change b.test.: outside its zones").
 * Reads (needed <= CMD_ROLE_READ) are allowed to every role, inside
 * its scope (above).
 */
bool auth_allow(const struct auth_principal *p, const char *command, enum cmd_role needed,
                const json_t *args, char *why, size_t wlen);

/*
 * cmd_exec's check for ctx->principal: NULL when allowed, else the reply
 * "COMMAND: access denied: REASON" (result 1), the refusal remembered
 * (auth_refused).
 */
json_t *auth_check(const struct cmd_ctx *ctx, const char *command, enum cmd_role needed,
                   const json_t *args);

/* Whether `command` is declared in the scope table (for the table's test). */
bool auth_command_declared(const char *command);

/*
 * Whether the read `command` is declared: a read naming one thing
 * (scoped by its argument), a list that filters its rows, or counters
 * (for the test that no read is left undecided).
 */
bool auth_read_declared(const char *command);

/*
 * THE scope question, for one row of a list and for a read naming one
 * thing: is the name (wire form, any case; a zone or an owner) inside p's
 * zones, the prefix (an address: plen 32 or 128) inside p's prefixes?
 * true for admin, and for a principal with no zones (no prefixes).
 */
bool auth_sees_name(const struct auth_principal *p, const uint8_t *name);
bool auth_sees_prefix(const struct auth_principal *p, int family, const uint8_t addr[16],
                      unsigned plen);
/* Not admin, and has zones or prefixes: rows naming neither are hidden from it. */
bool auth_scoped(const struct auth_principal *p);

/* The three above, for cmd_ctx.scope (cmd_exec sets it with the principal). */
extern const struct cmd_scope auth_scope;

/* ------------------------------------------------------------------------ */
/* Tokens                                                                   */
/* ------------------------------------------------------------------------ */

/* A new token for NAME into out (AUTH_TOKEN_LEN + 1 bytes): DDI_EOK or an error of the RNG. */
int auth_token_make(char out[AUTH_TOKEN_LEN + 1], const char *name);

/* NAME of a token of the right form, or false. */
bool auth_token_name(const char *token, char name[AUTH_NAME_MAX + 1]);

/* The SHA-256 of the token text, in lower-case hex. */
void auth_token_hash(const char *token, char hex[AUTH_HASH_HEX + 1]);

/* Constant-time comparison of two hashes in hex (false when a length differs). */
bool auth_hash_equal(const char *a, const char *b);

struct store;

/*
 * The principal of a bearer token: DDI_EOK, or DDI_EACCES with the reason
 * ("unknown or revoked token", never which part was wrong).
 */
int auth_token_principal(struct store *s, const char *token, struct auth_principal *p, char *why,
                         size_t wlen);

/* The scoped role given to Unix user `user` (role-add): DDI_EOK, DDI_ENOENT when none. */
int auth_user_principal(struct store *s, const char *user, struct auth_principal *p);

/*
 * A refused request, remembered: logged through cmd_log_refused's limiter,
 * counted, and noted in the journal (actor: the principal) at most once
 * per (principal, reason) per AUTH_NOTE_INTERVAL_MS, from a table of
 * AUTH_NOTE_SLOTS pairs that never evicts a live one (full: not noted,
 * counted). Any thread.
 */
#define AUTH_NOTE_INTERVAL_MS 60000u
#define AUTH_NOTE_SLOTS 64
void auth_refused(struct store *s, const char *actor, const char *command, const char *why);

struct auth_stats {
	uint64_t refused, noted, folded, table_full;
};
void auth_get_stats(struct auth_stats *st);

/* token-add, token-list, token-remove, role-add, role-list, role-remove (control/cmd.h). */
extern const struct cmd_def auth_cmds[];
extern const size_t auth_ncmds;

#endif
