/* ipam_cmd -- the IPAM control commands (prefix, range, alloc, release, utilization, conflicts, CSV) */
#ifndef DDI_CONTROL_IPAM_CMD_H
#define DDI_CONTROL_IPAM_CMD_H

#include <stdint.h>

#include <jansson.h>

#include "control/cmd.h"

/*
 * Each takes the request's "arguments" object and returns a reply made
 * with cmd_reply (new reference); *seq is the journal seq of the commit
 * made, 0 when none. Every change is ONE store_ipam_write transaction.
 *
 *   prefix-add     prefix [zone] [policy] [description] [status]
 *                  also creates the missing reverse zones (ipam_reverse_zones)
 *   prefix-list                         every prefix
 *   prefix-tree    [prefix]             prefixes in tree order with "depth"
 *   prefix-show    prefix               the prefix, its utilization, ranges
 *   prefix-remove  prefix
 *   range-add      first last [dynamic] [description]
 *   alloc-next     prefix name [mac] [description]   next free address + A/AAAA
 *   alloc-address  address name [mac] [description]  that address + A/AAAA
 *   alloc-prefix   parent length [description]       next free child prefix
 *   release        address              the allocation and its A/AAAA record
 *   address-show   address              allocation, prefix, DNS owners
 *   utilization    prefix               used/total addresses, child coverage
 *   conflicts                           records vs allocations, overlapping ranges
 *   ipam-import    text [filename]      NetBox CSV, all or nothing
 *   ipam-export                         NetBox CSV text (prefixes, blank line, addresses)
 * 128-bit totals (IPv6) are JSON integers up to 2^63-1, strings beyond.
 */
json_t *ipam_cmd_prefix_add(const struct cmd_ctx *ctx, const json_t *args, uint64_t *seq);
json_t *ipam_cmd_prefix_list(const struct cmd_ctx *ctx, const json_t *args, uint64_t *seq);
json_t *ipam_cmd_prefix_tree(const struct cmd_ctx *ctx, const json_t *args, uint64_t *seq);
json_t *ipam_cmd_prefix_show(const struct cmd_ctx *ctx, const json_t *args, uint64_t *seq);
json_t *ipam_cmd_prefix_remove(const struct cmd_ctx *ctx, const json_t *args, uint64_t *seq);
json_t *ipam_cmd_range_add(const struct cmd_ctx *ctx, const json_t *args, uint64_t *seq);
json_t *ipam_cmd_alloc_next(const struct cmd_ctx *ctx, const json_t *args, uint64_t *seq);
json_t *ipam_cmd_alloc_address(const struct cmd_ctx *ctx, const json_t *args, uint64_t *seq);
json_t *ipam_cmd_alloc_prefix(const struct cmd_ctx *ctx, const json_t *args, uint64_t *seq);
json_t *ipam_cmd_release(const struct cmd_ctx *ctx, const json_t *args, uint64_t *seq);
json_t *ipam_cmd_address_show(const struct cmd_ctx *ctx, const json_t *args, uint64_t *seq);
json_t *ipam_cmd_utilization(const struct cmd_ctx *ctx, const json_t *args, uint64_t *seq);
json_t *ipam_cmd_conflicts(const struct cmd_ctx *ctx, const json_t *args, uint64_t *seq);
json_t *ipam_cmd_import(const struct cmd_ctx *ctx, const json_t *args, uint64_t *seq);
json_t *ipam_cmd_export(const struct cmd_ctx *ctx, const json_t *args, uint64_t *seq);

/* The table of the commands above, for mgmt/commands.c to dispatch (control/cmd.h). */
extern const struct cmd_def ipam_cmds[];
extern const size_t ipam_ncmds;

#endif
