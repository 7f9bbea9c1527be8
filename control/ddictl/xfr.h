/* ddictl_xfr -- ddictl's zone transfer subcommands: zone acl, diff, catalog add/remove/list */
#ifndef DDI_CONTROL_DDICTL_XFR_H
#define DDI_CONTROL_DDICTL_XFR_H

#include <stdbool.h>

#include <jansson.h>

struct ctl;

/* Build the request of "zone-acl", "diff" or "catalog-*"; 0, 1 (error) or 2 (usage). */
int ddictl_xfr_build(struct ctl *c, int argc, char **argv, json_t **req, const char **cmd);

/* Print the reply of zone-acl or diff; false when cmd is not one. */
bool ddictl_xfr_print(const char *cmd, const json_t *reply);

extern const char ddictl_help_zone_acl[], ddictl_help_diff[];
extern const char ddictl_help_catalog_add[], ddictl_help_catalog_remove[],
	ddictl_help_catalog_list[];

#endif
