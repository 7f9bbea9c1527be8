/* ipam_cmdutil -- what the IPAM commands share: the request being served, argument readers, replies, DNS records */
#ifndef DDI_CONTROL_IPAM_CMDUTIL_H
#define DDI_CONTROL_IPAM_CMDUTIL_H

#include <stdbool.h>
#include <stdint.h>

#include <jansson.h>

#include "control/cmd.h"
#include "control/ipam/ipam.h"
#include "control/ipam/lmdb.h"
#include "control/store/store.h"

/*
 * Private to control/ipam/: cmd.c (prefixes, ranges, allocations,
 * conflicts), cmd_model.c (listing, editing and removing them, metadata)
 * and cmd_csv.c (import, export) serve requests with these.
 */

#define IPAM_TTL 3600         /* TTL of the A/AAAA records an allocation writes */

struct icmd {
	const struct cmd_ctx *ctx;
	const json_t *args;
	char err[1024];
	int code;          /* DDI_* of the failure */
	json_t *out;       /* reply arguments being built */
	const char *what;  /* text of the OK reply */
	char text[512];
};

/* Fill q's reason and code; returns code. */
int ic_fail(struct icmd *q, int code, const char *fmt, ...) __attribute__((format(printf, 3, 4)));

uint64_t ic_now(void);
/* A JSON integer up to 2^63-1, a decimal string beyond. */
json_t *ic_u128_json(ipam_u128 v);

/* Argument readers: false (or NULL) with q's reason set when the argument is bad. */
const char *ic_str(struct icmd *q, const char *key, bool required);
bool ic_cidr(struct icmd *q, const char *key, struct ipam_cidr *c);
bool ic_addr(struct icmd *q, const char *key, int *family, uint8_t addr[16]);
bool ic_desc(struct icmd *q, char out[IPAM_DESC_MAX + 1]);

/* The reply of a request after its transaction returned rc. */
json_t *ic_reply(struct icmd *q, int rc, struct store_error *e, uint64_t seq);
/* Keep the store's reason when a store call failed without ours. */
int ic_st_fail(struct icmd *q, struct store_ipam *t, int rc);

const char *ic_cidr_s(const struct ipam_cidr *c, char b[IPAM_CIDR_STRLEN]);
const char *ic_addr_s(int family, const uint8_t *a, char b[IPAM_ADDR_STRLEN]);

/*
 * The "used addresses" oracle: the server's published index when the
 * hooks give one (O(prefix length) counts), else the allocations database
 * (ddictl --db: a cursor walk). ic_space_leave() must follow ic_space_enter().
 */
struct ic_space {
	const struct ipam_space_ops *ops;
	void *ctx;
	struct ipam_lmdb l;
	const struct cmd_hooks *h;
};

void ic_space_enter(struct icmd *q, struct store_ipam *t, struct ic_space *sp);
void ic_space_leave(struct ic_space *sp);

/* Create every missing reverse zone of prefix c (SOA only: PTRs come from the index). */
int ic_reverse_zones(struct icmd *q, struct store_ipam *t, const struct ipam_cidr *c,
                     json_t *created);
/* Add (add) or delete the A/AAAA record name -> addr in the same transaction. */
int ic_host_record(struct icmd *q, struct store_ipam *t, const uint8_t *name, int family,
                   const uint8_t addr[16], bool add);
/*
 * The served zone that holds `name` (its closest enclosing zone), read in
 * t's transaction: DDI_EOK with its apex, DDI_ENOZONE (q's reason says
 * the name is in no served zone), or the store's error.
 */
int ic_name_zone(struct icmd *q, struct store_ipam *t, const uint8_t *name,
                 uint8_t apex[DNS_NAME_MAXLEN]);

/*
 * The metadata arguments of a request applied to m: "tenant" (string),
 * "tags" (array of strings: added), "untag" (array: removed; an absent
 * one is an error), "fields" (object of strings: set; "" removes).
 * false with q's reason when one is bad (m may then be half changed:
 * the caller drops it); *changed tells whether any was given.
 */
bool ic_meta(struct icmd *q, struct ipam_meta *m, bool *changed);
#endif
