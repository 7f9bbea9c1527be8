/* gss -- GSS-TSIG contexts (RFC 3645): the server's Kerberos credentials and the contexts TKEY negotiates, bounded in number and lifetime */
#ifndef DDI_CONTROL_DDNS_GSS_H
#define DDI_CONTROL_DDNS_GSS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "control/ddns/tsig.h"
#include "dns/name.h"

/*
 * What this module does
 * ---------------------
 * It holds the server's acceptor credentials (a keytab and a principal,
 * "DNS/ns1.example.com@EXAMPLE.COM"), runs gss_accept_sec_context for the
 * tokens TKEY carries (control/ddns/tkey.h), and keeps each established
 * context as a dynamic TSIG key named by the TKEY name, whose MICs
 * (gss_get_mic, gss_verify_mic) sign and verify GSS-TSIG messages
 * (tsig_key.mic). GSS-API comes from the system (MIT Kerberos).
 *
 * Bounds (nothing a stranger sends grows without limit):
 *  - at most `max_contexts` contexts, established and pending together;
 *  - a pending context (gss_accept_sec_context asked for another leg,
 *    SPNEGO) lives GSS_PENDING_LIFETIME seconds, and at most a quarter of
 *    the table is pending: a new one then evicts the oldest pending one
 *    (counted), as does any new negotiation when the table is full. Only
 *    a client with a valid ticket establishes a context;
 *  - an established context lives min(its Kerberos lifetime, `lifetime`)
 *    seconds; when the table holds `max_contexts` live ones a new
 *    negotiation is refused (counted), never an older key dropped.
 * Expired contexts are removed by gss_expire, which the DDNS thread calls
 * between bursts: pointers a lookup handed out (tsig_key.mic_ctx,
 * .identity) stay valid until then.
 *
 * Threads: one thread owns a gss_server (the DDNS thread) and calls every
 * function but gss_stats, which any thread may call.
 */

#define GSS_DEFAULT_MAX_CONTEXTS 1024
#define GSS_DEFAULT_LIFETIME 3600      /* seconds; BIND's tkey-gssapi keys last one hour */
#define GSS_PENDING_LIFETIME 30        /* seconds a half-negotiated context is kept */
#define GSS_TOKEN_MAX 16384            /* the longest output token we send (TCP fits 64 KiB) */

struct gss_conf {
	const char *keytab;          /* the server's keytab; NULL: KRB5_KTNAME or the system's */
	const char *principal;       /* the acceptor principal, "DNS/host@REALM" */
	unsigned max_contexts;       /* 0: GSS_DEFAULT_MAX_CONTEXTS */
	unsigned lifetime;           /* 0: GSS_DEFAULT_LIFETIME */
};

/* Every outcome, counted (metrics: ddiplane_gss_total{outcome=...}). */
enum gss_outcome {
	GSS_OUT_ESTABLISHED = 0,     /* TKEY: context complete, kept as a key */
	GSS_OUT_CONTINUE,            /* TKEY: the mechanism wants another leg (kept pending) */
	GSS_OUT_REJECTED,            /* gss_accept_sec_context failed: TKEY error BADKEY */
	GSS_OUT_BADNAME,             /* TKEY for a name that holds an established context */
	GSS_OUT_FULL,                /* max_contexts live contexts: TKEY refused */
	GSS_OUT_PENDING_EVICTED,     /* a pending context made room for a newer one */
	GSS_OUT_EXPIRED,             /* contexts removed at the end of their lifetime */
	GSS_OUT_DELETED,             /* TKEY mode 5 (RFC 2930 4.2) removed one */
	GSS_OUT_TKEY_FORMERR,        /* malformed TKEY query: FORMERR */
	GSS_OUT_TKEY_BADMODE,        /* a mode other than 3 (and 5): TKEY error BADMODE */
	GSS_OUT_TKEY_BADALG,         /* an algorithm other than gss-tsig: TKEY error BADALG */
	GSS_OUT_MIC_OK,              /* GSS-TSIG MACs verified */
	GSS_OUT_MIC_BAD,             /* GSS-TSIG MACs that did not verify (BADSIG) */
	GSS_OUT_SIGNED,              /* answers signed with gss_get_mic */
	GSS_OUT__COUNT
};

/* "established", ...: stats keys and metrics labels. */
extern const char *const gss_outcome_names[GSS_OUT__COUNT];

struct gss_stats {
	uint64_t v[GSS_OUT__COUNT];
	uint64_t contexts;           /* live now (established + pending) */
};

struct gss_server;

/*
 * Acquire the acceptor credentials for conf->principal from conf->keytab
 * (krb5_gss_register_acceptor_identity: process-wide, as GSS-API has it).
 * Fails fast with a sentence in `err` (the GSS-API's own messages) when
 * the keytab cannot be read or has no key for the principal.
 * Errors: DDI_EINVAL (no principal, or one that does not import),
 * DDI_EACCES (no credentials), DDI_ENOMEM.
 */
int gss_server_new(struct gss_server **out, const struct gss_conf *conf, char *err, size_t errlen);
void gss_server_free(struct gss_server *g);

enum gss_accept_result {
	GSS_ACCEPT_COMPLETE = 0,     /* established: out holds the last token (may be empty) */
	GSS_ACCEPT_CONTINUE,         /* send out, the client answers with the next leg */
	GSS_ACCEPT_REJECTED,         /* the token does not authenticate: BADKEY */
	GSS_ACCEPT_BADNAME,          /* the name holds an established context */
	GSS_ACCEPT_FULL,             /* no room: refused */
};

/*
 * One leg of a negotiation for TKEY name `name` (lower-case wire) with the
 * client's token. The output token goes to out (cap bytes, *out_len), and
 * on COMPLETE *expires is the unix time the key ends. A failed leg drops
 * the pending context of that name. `now` is unix seconds.
 */
enum gss_accept_result gss_accept(struct gss_server *g, const uint8_t *name, const uint8_t *token,
                                  size_t token_len, uint64_t now, uint8_t *out, size_t cap,
                                  size_t *out_len, uint64_t *expires);

/*
 * A TSIG key lookup (tsig_lookup_fn, ctx = the gss_server) that finds
 * established, unexpired contexts by TKEY name: fills alg TSIG_GSS, the
 * MIC functions and the identity (see struct tsig_key). DDI_ENOENT else.
 * Uses the time of the last gss_expire call.
 */
int gss_lookup(void *g, const uint8_t *name, struct tsig_key *out);

/* Remove the context called `name` (TKEY mode 5). DDI_ENOENT when there is none. */
int gss_delete(struct gss_server *g, const uint8_t *name);

/* Remove contexts whose time is over at `now` (and set the lookups' clock). */
void gss_expire(struct gss_server *g, uint64_t now);

/* Count one outcome (tkey.c counts its own refusals here). NULL is ignored. */
void gss_count(struct gss_server *g, enum gss_outcome o);

/* A copy of the counters. Any thread. NULL: zeros. */
void gss_stats(const struct gss_server *g, struct gss_stats *out);

/*
 * A principal ("host/h1.example.com@EXAMPLE.COM") as the wire name the
 * policy keys it by: labels split at dots, lower-cased. DDI_ESYNTAX,
 * DDI_ELABEL, DDI_ENAMELEN when it does not fit a name.
 */
int gss_principal_name(uint8_t out[DNS_NAME_MAXLEN], const char *principal);

#endif
