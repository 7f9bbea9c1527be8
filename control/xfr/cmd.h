/* xfr/cmd -- control commands of zone transfer: zone-acl (who may transfer, whom to notify), diff, catalog-* */
#ifndef DDI_CONTROL_XFR_CMD_H
#define DDI_CONTROL_XFR_CMD_H

#include <stddef.h>

#include "control/cmd.h"

/*
 * zone-acl  zone [transfer[]] [transfer_keys[]] [notify[]] [notify_key] [clear] [catalog]
 *           set the zone's ACL (control/xfr/xfr.h) in one commit (journaled "acl-set");
 *           with none of them, show it; clear: remove it (nobody may transfer);
 *           catalog: the zone is the catalog ddiplane generates (--catalog NAME), not a
 *           zone of the store
 * diff      zone [serial]
 *           the zone's differences (or the one starting at serial): seq, time,
 *           serials, the RRs removed and added in presentation form
 * catalog-add     zone primaries[] [key]
 *           consume the catalog zone `zone` (RFC 9432) from its primaries: a
 *           secondary zone marked "consume_catalog" whose members the refresh
 *           thread adds and removes as secondary zones (control/xfr/consume.h)
 * catalog-remove  zone
 *           stop consuming it: the catalog and every member zone it added go,
 *           in one commit
 * catalog-list
 *           the consumed catalogs: serial, primaries, key, member zones, and
 *           from a running server the last refresh and the last sync's error
 */
extern const struct cmd_def xfr_cmds[];
extern const size_t xfr_ncmds;

#endif
