/* life/cmd -- the lifecycle's control commands: zone-aging, scavenge, lease-sweep, stale, history, revert */
#ifndef DDI_CONTROL_LIFE_CMD_H
#define DDI_CONTROL_LIFE_CMD_H

#include <stddef.h>

#include "control/cmd.h"

/*
 *   zone-aging   {"zone", "no_refresh", "refresh", "period"} sets, {"zone", "off": true}
 *                turns off, {"zone"} shows (admin, or a dns-editor of the zone)
 *   scavenge     {"zone", "dry_run"}: the dynamic RRsets past both intervals (admin, or a
 *                dns-editor of the zone)
 *   lease-sweep  {}: remove what is due now (the server's thread does it every second) (admin)
 *   stale        {"zone" | "prefix", "within", "limit"} (read)
 *   history      {"name"} (read)
 *   revert       {"seq"}: actor "revert:SEQ by ACTOR" (admin)
 */
extern const struct cmd_def life_cmds[];
extern const size_t life_ncmds;

#endif
