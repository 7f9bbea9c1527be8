/* ddictl_life -- ddictl's lifecycle subcommands: zone aging, scavenge, lease sweep, stale, history, revert */
#ifndef DDI_CONTROL_DDICTL_LIFE_H
#define DDI_CONTROL_DDICTL_LIFE_H

#include <stdbool.h>

#include <jansson.h>

struct ctl;

/* Build the request of one of them; 0, 1 (error) or 2 (usage). */
int ddictl_life_build(struct ctl *c, int argc, char **argv, json_t **req, const char **cmd);

/* Print the reply of one of them; false when cmd is not one. */
bool ddictl_life_print(const char *cmd, const json_t *reply);

extern const char ddictl_help_zone_aging[], ddictl_help_scavenge[], ddictl_help_lease_sweep[],
	ddictl_help_stale[], ddictl_help_history[], ddictl_help_revert[];

#endif
