/* consume -- ddiplane as a catalog consumer (RFC 9432 version 2): the catalog reader and the member sync */
#ifndef DDI_CONTROL_XFR_CONSUME_H
#define DDI_CONTROL_XFR_CONSUME_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#include <jansson.h>

#include "dns/name.h"

struct store;

/*
 * A consumed catalog is a secondary zone (control/xfr/secondary.h) whose
 * zone_acl value says so:
 *   {"primaries": ["198.18.0.5"], "primary_key": "xfr-key.", "consume_catalog": true}
 * The refresh thread transfers it like any secondary zone (SOA, IXFR,
 * AXFR, NOTIFY from its primaries). After each successful refresh it calls
 * xfr_cat_sync(), which
 *   1. reads the catalog zone from the store and checks every record of it
 *      (xfr_cat_reader below); a broken catalog is logged and changes nothing;
 *   2. makes the secondary zones of the store match its members, in ONE
 *      store_commit (actor "catalog:ORIGIN"):
 *        - a member that is no zone of ours: ZONE_ADD (STORE_ZONE_SECONDARY)
 *          and its zone_acl {"primaries", "primary_key" of the catalog,
 *          "member_of": "ORIGIN", "member_id": "ID"};
 *        - a zone we added from this catalog that is no longer listed:
 *          its zone_acl removed, ZONE_REMOVE;
 *        - a member whose unique ID changed (RFC 9432 4.1: a new zone that
 *          happens to have the same name): emptied (ZONE_REPLACE without
 *          records, STORE_OPF_TRANSFER) and its new ID written, so its next
 *          refresh is an AXFR from nothing;
 *        - a member whose primaries or key differ from the catalog's (the
 *          catalog was added again with other primaries): its zone_acl.
 *      A member name that is already a zone of ours not added from this
 *      catalog (a primary zone, a secondary configured by hand, a member
 *      of another catalog) is left alone and counted as a conflict.
 *      If that one commit fails (e.g. a member below a zone that already
 *      holds its names), each member's change is tried on its own in the
 *      same batch, so one bad member does not hold back the others.
 * Only zones whose "member_of" names this catalog are ever removed.
 * An empty catalog zone (not transferred yet, or expired) is no catalog:
 * members stay as they are until a transfer says otherwise.
 */

#define XFR_CAT_MAX_MEMBERS 4096     /* more in one catalog: broken (bounded memory) */
#define XFR_CAT_ID_STRLEN (63 * 4 + 2)  /* a label in presentation form, escaped, + "." and NUL */

/* One member zone of a catalog. */
struct xfr_cat_member {
	uint8_t apex[DNS_NAME_MAXLEN];   /* lower-case wire name */
	char id[XFR_CAT_ID_STRLEN];      /* the unique ID label, lower-case presentation form */
};

/*
 * The catalog reader: feed it every RRset of the catalog zone
 * (xfr_cat_rrset, the store's RRset form), then xfr_cat_end. It checks
 * (RFC 9432 4.2 and 4.1):
 *   - version.CATALOG TXT: exactly one RR of one string "2" (4.2.1);
 *     missing, another value or several RRs: broken;
 *   - ID.zones.CATALOG PTR: exactly one RR (4.2.2), whose rdata is one
 *     uncompressed well-formed name filling the rdata; not the root, not
 *     the catalog nor a name inside it; a name listed under two IDs: broken;
 *   - coo.ID.zones.CATALOG PTR (4.4.1): one RR and a well-formed name
 *     (the change of ownership itself is not acted on);
 *   - at most XFR_CAT_MAX_MEMBERS members;
 *   - every owner at or below CATALOG.
 * Other records (the SOA, NS, group and other properties, unknown ones)
 * are ignored, as 4.3 asks of consumers. The first reason for calling the
 * catalog broken is kept in `why`.
 */
struct xfr_cat_reader {
	uint8_t catalog[DNS_NAME_MAXLEN];   /* lower-case */
	struct xfr_cat_member *m;           /* sorted by apex after xfr_cat_end */
	size_t n, cap;
	bool version_ok, broken, has_soa;
	char why[256];
};

void xfr_cat_begin(struct xfr_cat_reader *r, const uint8_t *catalog);
/*
 * One RRset: `rdatas` holds `count` items [rdlen(2, big-endian) rdata]
 * in `len` bytes. Returns 0, or DDI_EINVAL once the catalog is broken
 * (r->why says why; later calls return it again).
 */
int xfr_cat_rrset(struct xfr_cat_reader *r, const uint8_t *owner, uint16_t type, uint16_t count,
                  const uint8_t *rdatas, size_t len);
/* The final checks (version present, no member twice). 0, or DDI_EINVAL with r->why. */
int xfr_cat_end(struct xfr_cat_reader *r);
void xfr_cat_free(struct xfr_cat_reader *r);

/* What one xfr_cat_sync did. */
struct xfr_cat_result {
	size_t members;                  /* listed in the catalog */
	size_t added, removed, restarted, updated, conflicts, failed;
	uint64_t seq;                    /* the journal seq of the last change (0: none) */
	bool broken;                     /* the catalog did not validate: nothing changed */
	bool empty;                      /* the catalog zone holds no data yet */
};

/*
 * Make the member zones of the consumed catalog `catalog` match it (see
 * above). Own transactions; called by the refresh thread. Returns DDI_EOK
 * (res filled; res->broken with `why` when the catalog did not validate)
 * or a store error (`why`).
 */
int xfr_cat_sync(struct store *s, const uint8_t *catalog, struct xfr_cat_result *res, char *why,
                 size_t wlen);

/*
 * The zone_acl value of a consumed catalog: a secondary zone's value
 * (xfr_sec_acl_json) with "consume_catalog": true. Malloc'd; NULL when
 * `sec_json` is no JSON object or out of memory.
 */
char *xfr_cat_acl_json(const char *sec_json);

/*
 * What the zone_acl value of `apex` says of catalogs: is_catalog (a
 * consumed catalog), or member_of (the catalog that added it, presentation
 * form, "" when none). False when the zone has no zone_acl value.
 */
bool xfr_cat_role(struct store *s, const uint8_t *apex, bool *is_catalog, char *member_of,
                  size_t len);

/* For zone list: "role": "catalog" or "catalog member" (and "catalog": ORIGIN) into `o`. */
void xfr_cat_role_json(struct store *s, const uint8_t *apex, json_t *o);

#endif
