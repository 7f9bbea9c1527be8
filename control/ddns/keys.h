/* ddns/keys -- TSIG keys and update policy decoded from the store's opaque key and policy records */
#ifndef DDI_CONTROL_DDNS_KEYS_H
#define DDI_CONTROL_DDNS_KEYS_H

#include <stdint.h>

#include "control/store/store.h"

struct tsig_key;
struct pol_set;

/*
 * The store keeps keys and policies as JSON values it does not interpret
 * (control/store/store.h, "Keys and update policy"); these functions read
 * them through store_key_value / store_key_walk / store_policy_walk and
 * decode them. `txn` as for those: NULL reads in a read transaction of its
 * own; a handle (inside store_transact's fn, or a batch) reads it.
 * A value that does not decode is DDI_ECORRUPT naming the key. The values:
 *   keys      JSON {"algorithm":"hmac-sha256","secret":"base64","created":unix_ns}
 *   policies  JSON array of the key's rules in order (control/ddns/policy.h
 *             form); the root name holds the unsigned rules
 */

/* A key by name (wire, any case). DDI_ENOENT when absent; DDI_ECORRUPT when it does not validate. */
int ddns_key_get(struct store *s, struct store_txn *txn, const uint8_t *name,
                 struct tsig_key *out, struct store_error *err);

/* Every key in canonical order of names, without secrets. cb returning non-zero stops. */
int ddns_key_list(struct store *s, struct store_txn *txn,
                  int (*cb)(void *ctx, const uint8_t *name, const char *algorithm,
                            int64_t created_ns),
                  void *ctx, struct store_error *err);

/* Every rule of every key into `out` (emptied first), keys in canonical order. */
int ddns_policy_load(struct store *s, struct store_txn *txn, struct pol_set *out,
                     struct store_error *err);

#endif
