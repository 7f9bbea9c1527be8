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
 *   prefix-add     prefix [zone] [policy] [description] [status] [META]
 *                  also creates the missing reverse zones (ipam_reverse_zones)
 *   prefix-edit    prefix [zone] [policy] [description] [status] [META]
 *   prefix-list                         every prefix
 *   prefix-tree    [prefix]             prefixes in tree order with "depth"
 *   prefix-show    prefix               the prefix, its utilization, ranges
 *   prefix-remove  prefix [release]     refused while the prefix (not a child
 *                  prefix) holds allocations; with release true they and
 *                  their A/AAAA records go in the same transaction
 *   range-add      first last [dynamic] [description]
 *   range-list     [prefix]             every range (inside prefix)
 *   range-edit     first last [new_first] [new_last] [dynamic] [description]
 *   range-remove   first last
 *   alloc-next     prefix name [mac] [description] [no_dns] [META]
 *                  next free address + A/AAAA in the served zone holding name
 *   alloc-address  address name [mac] [description] [no_dns] [META]
 *                  that address + A/AAAA; a name in no served zone is an
 *                  error unless no_dns (then no record)
 *   alloc-prefix   parent length [description]       next free child prefix
 *   alloc-reserve  address [note] [name] [META]      a reservation (no DNS)
 *   alloc-list     prefix [after] [limit]            one page (limit 1..4096,
 *                  256 by default) of its allocations after `after`;
 *                  "next" is the `after` of the next page, null at the end
 *   alloc-edit     address [name] [no_dns] [description] [META]
 *                  a new name moves the A/AAAA (old out, new in, one change)
 * META: tenant (string), tags (array: added), untag (array: removed),
 * fields (object of strings; "" removes the key) -- ipam_meta in ipam.h.
 *   release        address              the allocation and its A/AAAA record
 *   address-show   address              allocation, prefix, DNS owners
 *   utilization    prefix               used/total addresses, child coverage
 *   conflicts                           records vs allocations, overlapping ranges
 *   ipam-import    text [filename]      NetBox CSV, all or nothing; each dns_name
 *                  published in the served zone holding it; the reply counts
 *                  "warnings_total" (names in no served zone) and lists the
 *                  first 100 ("warnings": file, line, address, name, reason)
 *                  and the columns not kept ("ignored_columns")
 *   ipam-export                         NetBox CSV text (prefixes, blank line, addresses)
 * 128-bit totals (IPv6) are JSON integers up to 2^63-1, strings beyond.
 */
json_t *ipam_cmd_prefix_add(const struct cmd_ctx *ctx, const json_t *args, uint64_t *seq);
json_t *ipam_cmd_prefix_list(const struct cmd_ctx *ctx, const json_t *args, uint64_t *seq);
json_t *ipam_cmd_prefix_tree(const struct cmd_ctx *ctx, const json_t *args, uint64_t *seq);
json_t *ipam_cmd_prefix_show(const struct cmd_ctx *ctx, const json_t *args, uint64_t *seq);
json_t *ipam_cmd_prefix_remove(const struct cmd_ctx *ctx, const json_t *args, uint64_t *seq);
json_t *ipam_cmd_range_add(const struct cmd_ctx *ctx, const json_t *args, uint64_t *seq);
json_t *ipam_cmd_prefix_edit(const struct cmd_ctx *ctx, const json_t *args, uint64_t *seq);
json_t *ipam_cmd_range_list(const struct cmd_ctx *ctx, const json_t *args, uint64_t *seq);
json_t *ipam_cmd_range_edit(const struct cmd_ctx *ctx, const json_t *args, uint64_t *seq);
json_t *ipam_cmd_range_remove(const struct cmd_ctx *ctx, const json_t *args, uint64_t *seq);
json_t *ipam_cmd_alloc_reserve(const struct cmd_ctx *ctx, const json_t *args, uint64_t *seq);
json_t *ipam_cmd_alloc_list(const struct cmd_ctx *ctx, const json_t *args, uint64_t *seq);
json_t *ipam_cmd_alloc_edit(const struct cmd_ctx *ctx, const json_t *args, uint64_t *seq);
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
