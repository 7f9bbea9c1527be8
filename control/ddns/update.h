/* update -- RFC 2136 dynamic update: prerequisite and update evaluation, responses, serving; RFC 1996 NOTIFY answers */
#ifndef DDI_CONTROL_UPDATE_H
#define DDI_CONTROL_UPDATE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "control/store/store.h"
#include "control/ddns/msg.h"
#include "control/ddns/tsig.h"
#include "dns/name.h"

struct pol_set;    /* control/ddns/policy.h */
struct pol_view;

/*
 * How an UPDATE is served (upd_serve() below does exactly this):
 *
 *  1. dns_query_parse() the message; if it has a TSIG, tsig_verify() it
 *     (control/ddns/tsig.h) and answer a TSIG failure before anything else.
 *     A GSS-TSIG key is checked by the policy under its principal
 *     (tsig_key.identity), not its TKEY name; the TTL policy of the rules
 *     (pol_ttl_apply) then clamps or refuses the added RRs' TTLs.
 *  2. upd_parse(): the zone section, the prerequisite and update sections
 *     (RFC 2136 3.1, the form checks of 3.2.1/3.2.3, the pre-scan of
 *     3.4.1.3). A non-zero rcode (FORMERR, NOTZONE) is the answer.
 *  3. pol_may_update() (control/ddns/policy.h): a requester with no rule at all
 *     (an unsigned one: no rule for its source) is REFUSED here and
 *     learns nothing about the zone.
 *  4. In ONE store write transaction: upd_evaluate() against a view that
 *     reads from that transaction (NOTAUTH, NOTZONE for names of a child
 *     zone, the prerequisite rcodes of 3.2.5, or the list of store ops of
 *     3.4.2), then pol_check() (3.3, REFUSED) on views of the same
 *     transaction, then apply the ops in it and commit. Nothing else can
 *     change the data between the checks and the write: the message is
 *     applied wholly or not at all.
 *  5. upd_response() (+ tsig_sign_response() when the request was signed).
 *
 * Nothing here keeps global state; every function may run on any thread.
 */

/* ------------------------------------------------------------------------ */
/* Evaluation                                                               */
/* ------------------------------------------------------------------------ */

/*
 * One RRset as the view hands it: the same shape as store_rrset_cb
 * (rdatas = count x [rdlen(2, big-endian) rdata]). Pointers are only valid
 * during the call; the evaluation copies what it keeps.
 */
typedef int (*upd_rrset_cb)(void *ctx, const uint8_t *owner, uint16_t type, uint32_t ttl,
                            uint16_t count, const uint8_t *rdatas, size_t rdatas_len);

/*
 * A read-only view of the current data. Control plugs in reads made from
 * inside its store write transaction, so what is checked is what is
 * written.
 */
struct upd_view {
	void *ctx;
	/*
	 * Call cb once per RRset of `owner` (every type; `type` is always 0
	 * here, meaning all). Return DDI_EOK, DDI_ENOENT when the name has no
	 * RRset, or another negative error (the evaluation stops with it). A
	 * non-zero return of cb must be passed back unchanged.
	 */
	int (*rrsets)(void *ctx, const uint8_t *owner, uint16_t type, upd_rrset_cb cb, void *cbctx);
	/*
	 * Write the apex of the deepest zone that holds `name` (at or above
	 * it) to `apex` and return DDI_EOK, or DDI_ENOZONE.
	 */
	int (*zone_of)(void *ctx, const uint8_t *name, uint8_t apex[DNS_NAME_MAXLEN]);
};

/* One RRset as the update leaves it, before and after (for policy and the journal). */
struct upd_change {
	const uint8_t *owner;            /* lower-case wire */
	uint16_t type;
	uint16_t old_count, new_count;
};

/*
 * The outcome of upd_evaluate(). Owns every buffer the ops point to:
 * release with upd_plan_free() after the store commit.
 */
struct upd_plan {
	uint8_t rcode;                   /* NOERROR, or why nothing is to be done */
	size_t nops;
	struct store_op *ops;            /* RRSET_REPLACE per changed RRset (count 0 deletes) */
	struct upd_change *changes;      /* nops items, same order as ops */
	void *priv;
};

/*
 * Evaluate a parsed UPDATE against `v`:
 *  - the zone section names a zone of ours exactly (3.1.1)   else NOTAUTH
 *  - every prerequisite and update owner belongs to that zone
 *    and not to a deeper zone we also hold (3.1.1, 3.4.1.3)   else NOTZONE
 *  - prerequisites in order (3.2.5): RRSET_EXISTS -> NXRRSET,
 *    RRSET_ABSENT -> YXRRSET, NAME_IN_USE -> NXDOMAIN,
 *    NAME_FREE -> YXDOMAIN; value-dependent ones are grouped by
 *    (name, type) and must equal the RRset exactly, TTLs ignored
 *    (3.2.3)                                                 else NXRRSET
 *  - the updates in order (3.4.2) on a copy of the names they touch:
 *    ADD: SOA only at the apex and only with a serial newer than the
 *         zone's (RFC 1982); CNAME ignored where other data exists, other
 *         data ignored where a CNAME exists, a CNAME replaces a CNAME;
 *         duplicates ignored; the RRset takes the added RR's TTL
 *    DEL_RRSET: SOA and NS at the apex ignored
 *    DEL_NAME: at the apex, SOA and NS kept
 *    DEL_RR: SOA ignored; the last NS at the apex ignored
 *    (names in rdata compare case-insensitively, RFC 4034 6.2 forms).
 * On success plan->rcode is NOERROR and plan->ops holds one
 * STORE_OP_RRSET_REPLACE (zone set, STORE_OPF_MISSING_OK) per RRset whose
 * content differs from the view's; nops 0 when nothing changes. Apply them
 * with the same transaction the view read from. The SOA serial is left to
 * the store (it advances it unless an op sets the SOA).
 * Returns DDI_EOK (with plan->rcode), DDI_ENOMEM, or the view's error (the
 * caller answers SERVFAIL). Free the plan in every case.
 */
int upd_evaluate(const struct upd_msg *m, const struct upd_view *v, struct upd_plan *plan);

void upd_plan_free(struct upd_plan *plan);

/* ------------------------------------------------------------------------ */
/* Responses                                                                */
/* ------------------------------------------------------------------------ */

/*
 * Write the response to an UPDATE request `req` (`len` bytes) into `buf`
 * (RFC 2136 3.8): the request's ID and opcode, QR set, RD copied, the
 * rcode, and the zone section echoed (ZOCOUNT 1) when it parses, else
 * the header alone. Works for any request that has a 12-byte header (the
 * rcode may then be FORMERR or NOTIMP). Returns the length or DDI_ESPACE /
 * DDI_EMALF (shorter than a header).
 */
int upd_response(const uint8_t *req, size_t len, uint8_t rcode, uint8_t *buf, size_t cap);

/*
 * Answer a NOTIFY (opcode 4, RFC 1996): ID, opcode, QR and AA set, the
 * question echoed (3.7). `known` says whether the question names a zone
 * we serve: NOERROR when it does, NOTAUTH when not. A request that is not
 * a NOTIFY or has QDCOUNT != 1 gets FORMERR with the header alone.
 * Returns the length or DDI_ESPACE / DDI_EMALF (shorter than a header).
 */
int upd_notify_response(const uint8_t *req, size_t len, bool known, uint8_t *buf, size_t cap);

/* The question (zone) name of a NOTIFY or UPDATE, lower-cased, for the `known` lookup. */
int upd_zone_name(const uint8_t *req, size_t len, uint8_t name[DNS_NAME_MAXLEN]);

/* ------------------------------------------------------------------------ */
/* Serving one message: the steps above, transport-independent               */
/* ------------------------------------------------------------------------ */

/*
 * Called by the backend inside its write transaction with views reading
 * that transaction. It runs the permission check and upd_evaluate() and
 * hands back the ops to apply (valid until the transaction function
 * returns). Returns DDI_EOK (nops may be 0: nothing to write) or an error
 * (nothing is to be written; the backend aborts).
 */
typedef int (*upd_txn_fn)(void *arg, const struct upd_view *v, const struct pol_view *pv,
                          const struct store_op **ops, size_t *nops);

struct upd_outcome;

/* What upd_serve() needs from the server. Every callback runs on the caller's thread. */
struct upd_server {
	void *ctx;
	tsig_lookup_fn key_lookup;          /* TSIG keys */
	const struct pol_set *policy;       /* update policy (NULL: refuse every update) */
	/*
	 * Open one write transaction, build the views on it, call fn; when fn
	 * returns DDI_EOK with nops > 0, apply the ops exactly as store_commit
	 * does (data + journal entry with `actor` + serial) in that same
	 * transaction and commit; otherwise abort. Return fn's error, or the
	 * store's error for the ops (then nothing changed).
	 */
	int (*transact)(void *ctx, const char *actor, upd_txn_fn fn, void *arg);
	/*
	 * An UPDATE that changed nothing (refused, failed, or no change), with
	 * the whole outcome (why, who, the text "update ZONE RCODE: reason").
	 * What to keep of it is the server's choice: ddiplane counts it, logs
	 * it at a bounded rate and notes an authenticated one in the journal
	 * at most once per (key, reason) per interval (control/ddns/refusal.h);
	 * nothing a stranger sends may grow the store. May be NULL.
	 */
	void (*unchanged)(void *ctx, const struct upd_outcome *o);
	/* Is `apex` a zone we serve (NOTIFY)? NULL: no. */
	bool (*zone_known)(void *ctx, const uint8_t *apex);
	/*
	 * Is `apex` a secondary zone (UPDATE: NOTAUTH, RFC 2136 3.1)? May be NULL.
	 * For a NOTIFY of a secondary zone `notify` (may be NULL) is asked: it
	 * returns -1 (not a secondary zone: answered as above), or the rcode
	 * (NOERROR: a refresh is scheduled, REFUSED: not from its primary or
	 * not signed with its key), RFC 1996 3.10.
	 */
	bool (*zone_secondary)(void *ctx, const uint8_t *apex);
	int (*notify)(void *ctx, const uint8_t *apex, uint8_t family, const uint8_t *addr,
	              const uint8_t *key);
};

/*
 * Why an UPDATE changed nothing, one name per outcome (counters, metrics
 * labels, the (key, reason) of journal notes). The rcode says what the
 * client saw; this says which check answered it.
 */
enum upd_why {
	UPD_WHY_NONE = 0,        /* changed something (journaled by the commit) */
	UPD_WHY_NOCHANGE,        /* NOERROR, but the data already was so */
	UPD_WHY_FORMERR,         /* malformed message or update sections (RFC 2136 3.1, 3.2.1, 3.4.1) */
	UPD_WHY_NOTIMP,          /* an opcode other than UPDATE/NOTIFY */
	UPD_WHY_TSIG_FORMERR,    /* malformed TSIG (RFC 8945 5.2) */
	UPD_WHY_TSIG_BADKEY,     /* unknown key or algorithm (RFC 8945 5.2.1) */
	UPD_WHY_TSIG_BADSIG,     /* MAC does not verify (5.2.2) */
	UPD_WHY_TSIG_BADTIME,    /* outside the fudge (5.2.3): also what a replayed capture gets */
	UPD_WHY_UNSIGNED,        /* unsigned, and no rule for its source (policy step 3) */
	UPD_WHY_NO_POLICY,       /* signed with a key that has no rule */
	UPD_WHY_POLICY,          /* a rule of the key refused it (RFC 2136 3.3) */
	UPD_WHY_NOTAUTH,         /* the zone section names no zone of ours (3.1.1) */
	UPD_WHY_NOTZONE,         /* a name outside the zone (3.1.1, 3.4.1.3) */
	UPD_WHY_YXDOMAIN,        /* prerequisites (3.2.5) */
	UPD_WHY_NXDOMAIN,
	UPD_WHY_YXRRSET,
	UPD_WHY_NXRRSET,
	UPD_WHY_STORE,           /* the store refused the result (CNAME, limits, TTL...): REFUSED */
	UPD_WHY_SERVFAIL,        /* our failure (store error, memory) */
	UPD_WHY__COUNT
};

/* "none", "nochange", "formerr", ..., "servfail": stats keys and metrics labels. */
extern const char *const upd_why_names[UPD_WHY__COUNT];

/* What upd_serve() did, for logs and counters. */
struct upd_outcome {
	uint8_t opcode;                /* of the request */
	uint8_t rcode;                 /* answered */
	enum tsig_result tsig;         /* TSIG_OK also when unsigned */
	bool is_signed;
	size_t nops;                   /* RRsets changed */
	char actor[256];               /* "tsig:KEY@ADDR" or "unsigned@ADDR" */
	char reason[256];              /* why it was refused, "" otherwise */
	enum upd_why why;              /* UPD_WHY_NONE when it changed something */
	bool authenticated;            /* signed and verified (TSIG_OK): `key` is who sent it */
	char key[256];                 /* the key, presentation without the final dot; "" otherwise */
	char text[768];                /* "update ZONE RCODE: reason", when why != UPD_WHY_NONE */
};

/*
 * Answer one UPDATE or NOTIFY received over UDP or TCP (without the TCP
 * length prefix) from `src_addr` (family 4 or 6) at unix time `now`:
 * parse (FORMERR, NOTIMP for other opcodes), TSIG (RFC 8945: NOTAUTH with
 * BADKEY/BADSIG unsigned, BADTIME signed), NOTIFY (NOERROR/NOTAUTH),
 * UPDATE parse (FORMERR, NOTZONE), then in one transaction the policy
 * (REFUSED; an unsigned request only through a rule with sources), the
 * zone and prerequisites (NOTAUTH, NOTZONE, YXDOMAIN, NXDOMAIN, YXRRSET,
 * NXRRSET) and the changes; a store refusal of the result (CNAME, limits)
 * answers REFUSED, any other failure SERVFAIL. Responses to signed
 * requests are signed. Refusals and no-change updates go to s->unchanged.
 * Returns the response length, 0 when nothing is to be sent (a response
 * or a message shorter than a header), or DDI_ESPACE.
 */
int upd_serve(const struct upd_server *s, const uint8_t *req, size_t len, uint8_t src_family,
              const uint8_t *src_addr, uint64_t now, uint8_t *resp, size_t cap,
              struct upd_outcome *out);

#endif
