/* ipam_csv -- NetBox-style CSV import and export of prefixes and IP addresses (RFC 4180) */
#ifndef DDI_CONTROL_IPAM_CSV_H
#define DDI_CONTROL_IPAM_CSV_H

#include <stdint.h>
#include <stdio.h>

#include "control/ipam/ipam.h"

/*
 * ---------------------------------------------------------------------------
 * The file format
 * ---------------------------------------------------------------------------
 * RFC 4180 CSV: comma-separated fields, records end with LF or CRLF, a
 * field may be quoted with '"' ("" inside stands for one quote; a quoted
 * field may span lines). A UTF-8 byte order mark at the start is skipped.
 *
 * A file holds one or more tables. A table is a header row followed by
 * data rows; an empty line ends a table, and the next non-empty line is the
 * header of the next one. `ipam export` writes the prefixes table, an
 * empty line, then the addresses table, so that on import every prefix
 * exists before the addresses inside it.
 *
 * Header names are matched case-insensitively, with spaces read as '_'
 * (NetBox's "DNS name" is dns_name). A NetBox custom field "cf_X" is
 * recognised as X. A header holding "prefix" makes a prefixes table, one
 * holding "address" an addresses table (both: error).
 *
 *   prefixes:  prefix (required, strict: no host bits), status (active,
 *              reserved, deprecated; NetBox's "container" reads as
 *              active), description, dns_zone (or zone), dns_policy
 *              (strict, auto, off), tags, tenant, cf_* (custom fields)
 *   addresses: address or ip_address (required; "ADDR/LEN" as NetBox writes it, LEN being
 *              the mask of the enclosing network, or "ADDR"), status
 *              (NetBox's active -> static, dhcp and slaac -> dynamic,
 *              reserved -> reserved; ddiplane's static/dynamic also read;
 *              NetBox's deprecated is refused), dns_name (absolute, with
 *              or without the final dot; empty for none), description,
 *              mac_address (or mac), client_id, owner, lease_expires
 *              ("YYYY-MM-DDTHH:MM:SSZ" or unix seconds; dynamic only),
 *              tags, tenant, cf_* (custom fields)
 *
 * Both tables: "tags" holds comma-separated tags as NetBox writes them
 * ("a,b"), "tenant" the tenant's name, and a custom field column cf_KEY
 * (KEY not one of the columns above) the value of custom field KEY (an
 * empty cell: not set). Bounds and rules: ipam_meta (ipam.h).
 *
 * Columns NetBox exports that ddiplane has no use for (id, site, vlan,
 * role, comments, created, last_updated, is_pool, ...) are not kept: each
 * row carries their header names (ignored, nignored) so that the importer
 * reports them instead of dropping them silently. "vrf" must be empty:
 * ddiplane has one global address space, and silently merging VRFs would
 * merge overlapping networks. Any other column is an error, so that a
 * misspelt "descripton" is not silently dropped.
 *
 * Empty fields take the defaults of ipam_*_init(); a missing address
 * status is "active" (static) when dns_name is set, else "reserved".
 *
 * ---------------------------------------------------------------------------
 * All or nothing
 * ---------------------------------------------------------------------------
 * The reader hands each row to a callback and stops at the first error,
 * which names the file, the line where the row starts and the column:
 *   "ipam.csv:17: column 'address': '198.18.0.300' is not an IP address".
 * The caller makes the whole import one LMDB write transaction and aborts
 * it on any error, so a file either lands whole or changes nothing; the
 * reader never holds more than one row, so a million rows need no memory.
 */

enum ipam_csv_kind {
	IPAM_CSV_PREFIXES = 1,
	IPAM_CSV_ADDRESSES = 2,
};

struct ipam_csv_row {
	enum ipam_csv_kind kind;
	unsigned long line;              /* line where the row starts, 1-based */
	struct ipam_prefix prefix;       /* kind IPAM_CSV_PREFIXES (else not set) */
	struct ipam_alloc alloc;         /* kind IPAM_CSV_ADDRESSES (else not set) */
	uint8_t mask;                    /* the /LEN of the address column (width if absent) */
	unsigned table;                  /* 1 for the first table of the file, 2 for the next... */
	size_t nignored;                 /* columns of this table that are not kept, */
	const char (*ignored)[48];       /* ...their header names (valid during the callback) */
};

/*
 * Called for every data row. Return DDI_EOK to go on; any other value stops
 * the reader, which returns it; fill err->msg with the reason (the reader
 * prefixes "file:line: ").
 */
typedef int (*ipam_csv_cb)(void *ctx, const struct ipam_csv_row *row, struct ipam_error *err);

/*
 * Read CSV from `in`; `fname` names it in messages. Returns DDI_EOK, the
 * callback's code, DDI_ESYNTAX for a format or value error, DDI_EIO for a
 * read error. err->msg is "fname:line: reason".
 */
int ipam_csv_read(FILE *in, const char *fname, ipam_csv_cb cb, void *ctx, struct ipam_error *err);

/* The same over a buffer of len bytes (the control socket receives the file's text). */
int ipam_csv_read_mem(const char *buf, size_t len, const char *fname, ipam_csv_cb cb, void *ctx,
                      struct ipam_error *err);

/*
 * The custom field columns of a table being written: the union of the
 * keys of its records, sorted, at most IPAM_CSV_KEYS_MAX (a table has at
 * most 96 columns). ipam_csv_keys_add merges the keys of one record:
 * DDI_EOK or DDI_ELIMIT.
 */
#define IPAM_CSV_KEYS_MAX 64
struct ipam_csv_keys {
	size_t n;
	char key[IPAM_CSV_KEYS_MAX][IPAM_FIELD_KEY_MAX + 1];
};
int ipam_csv_keys_add(struct ipam_csv_keys *k, const struct ipam_meta *m);

/*
 * Writers: the header lines and one row each. `mask` is the LEN written
 * after the address (the enclosing prefix's length; the width if unknown).
 * `keys` (NULL: none) are the cf_ columns, written after tags and tenant;
 * the header and the rows of one table take the same keys. Return
 * DDI_EOK, DDI_EIO on a write error, DDI_EINVAL for a record that does
 * not check.
 */
int ipam_csv_write_prefix_header(FILE *out, const struct ipam_csv_keys *keys);
int ipam_csv_write_prefix(FILE *out, const struct ipam_prefix *p, const struct ipam_csv_keys *keys);
int ipam_csv_write_alloc_header(FILE *out, const struct ipam_csv_keys *keys);
int ipam_csv_write_alloc(FILE *out, const struct ipam_alloc *a, int mask,
                         const struct ipam_csv_keys *keys);

#endif
