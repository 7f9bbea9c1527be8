/* ddns -- the server side of RFC 2136 dynamic updates: upd_serve() over the LMDB store, then publish */
#ifndef DDI_CONTROL_DDNS_H
#define DDI_CONTROL_DDNS_H

#include <stddef.h>
#include <stdint.h>

#include "control/ddns/update.h"

struct store;
struct store_txn;
struct ctl;

struct pol_set;
struct ddns_refusals;
struct gss_server;

/* Where an update is served: the store, and what the caller shares across a burst. */
struct ddns_env {
	struct store *st;
	struct store_txn *batch;         /* NULL, or the caller's group commit (store_batch_begin):
	                                    every read and write is made in it; answer only after
	                                    store_batch_end committed it */
	const struct pol_set *policy;    /* NULL: read from the store for this message; else the
	                                    rules the caller read once for the burst (in `batch`) */
	struct ctl *ctl;                 /* woken after a change when there is no batch (may be NULL);
	                                    with a batch the caller wakes it after the commit */
	struct ddns_refusals *refusals;  /* updates that changed nothing are counted, logged and
	                                    noted here (control/ddns/refusal.h); NULL: nothing is
	                                    kept of them, not even a journal note */
	/* NOTIFY of a secondary zone (upd_server.notify), set by the daemon; NULL: none */
	int (*notify)(const uint8_t *apex, uint8_t family, const uint8_t *addr, const uint8_t *key);
	/* GSS-TSIG contexts (control/ddns/gss.h): keys looked up before the store's; NULL: none */
	struct gss_server *gss;
};

/*
 * Answer one UPDATE or NOTIFY (UDP payload or TCP message without its
 * length prefix) from `src_addr` (family 4 or 6): TSIG keys and the update
 * policy are read from the store, the prerequisites and changes are
 * evaluated and written in one store_transact() (durable when this
 * returns, or with env->batch when it commits), refusals go to
 * env->refusals (counted, logged at a bounded rate, an authenticated one
 * noted in the journal at most once per key and reason per interval,
 * in env->batch), and the control thread is woken (see ddns_env)
 * so that the change is published to the workers without waiting for its
 * poll.
 * Returns the response length, 0 when nothing is to be sent, or a negative
 * error (DDI_ESPACE). `out` may be NULL. Thread-safe: the store serializes
 * writers; any thread may call it (with a batch: the thread that opened it).
 */
int ddns_serve(const struct ddns_env *env, const uint8_t *req, size_t len, uint8_t src_family,
               const uint8_t *src_addr, uint8_t *resp, size_t cap, struct upd_outcome *out);

#endif
