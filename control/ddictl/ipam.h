/* ddictl_ipam -- ddictl's IPAM subcommands (prefix, range, alloc, release, address, utilization, conflicts, ipam) */
#ifndef DDI_CONTROL_DDICTL_IPAM_H
#define DDI_CONTROL_DDICTL_IPAM_H

#include <stdbool.h>

#include <jansson.h>

struct ctl;

/* Build the request of an IPAM subcommand (*cmd: "prefix-add", ...); 0, 1 (error) or 2 (usage). */
int ddictl_ipam_build(struct ctl *c, int argc, char **argv, json_t **req, const char **cmd);

/* Print the reply of an IPAM command as a table; false when cmd is not one. */
bool ddictl_ipam_print(const char *cmd, const json_t *reply);

/* The man-page style --help of each subcommand. */
extern const char ddictl_help_prefix_add[], ddictl_help_prefix_list[], ddictl_help_prefix_tree[],
	ddictl_help_prefix_show[], ddictl_help_prefix_remove[], ddictl_help_range_add[],
	ddictl_help_alloc_next[], ddictl_help_alloc_address[], ddictl_help_alloc_prefix[],
	ddictl_help_release[], ddictl_help_address_show[], ddictl_help_utilization[],
	ddictl_help_conflicts[], ddictl_help_ipam_import[], ddictl_help_ipam_export[],
	ddictl_help_prefix_edit[], ddictl_help_range_list[], ddictl_help_range_edit[],
	ddictl_help_range_remove[], ddictl_help_alloc_reserve[], ddictl_help_alloc_list[],
	ddictl_help_alloc_edit[];

#endif
