/* ddictl_ipam -- ddictl's IPAM subcommands: command line -> JSON request, reply -> tables */
#include "control/ddictl/ipam.h"

#include <errno.h>
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/*
 * One table describes every IPAM subcommand: its request name, its
 * positional arguments (mapped to request keys in order; a trailing '?'
 * makes one optional), its options with a value and its flag options.
 * An option's request key is its name with '-' as '_', except:
 *   "tag*tags"    --tag V, repeatable -> "tags": [V, ...]
 *   "field=fields" --field K=V, repeatable -> "fields": {"K": "V", ...}
 */
struct ispec {
	const char *cmd;
	const char *pos[3];
	const char *opts[9];     /* --zone VALUE -> "zone": VALUE */
	const char *flags[2];    /* --dynamic -> "dynamic": true */
	const char *synopsis;
};

#define META_OPTS "tenant", "tag*tags", "untag*untag", "field=fields"
#define META_SYN "[--tenant T] [--tag TAG]... [--field KEY=VALUE]..."

static const struct ispec specs[] = {
	{ "prefix-add", { "prefix" }, { "zone", "policy", "description", "status", "tenant",
	  "tag*tags", "field=fields" }, { 0 },
	  "prefix add PREFIX [--zone ZONE] [--policy strict|auto|off] [--description TEXT] "
	  "[--status S] " META_SYN },
	{ "prefix-edit", { "prefix" }, { "zone", "policy", "description", "status", META_OPTS },
	  { 0 },
	  "prefix edit PREFIX [--zone ZONE] [--policy P] [--description TEXT] [--status S] "
	  META_SYN " [--untag TAG]..." },
	{ "prefix-list", { 0 }, { 0 }, { 0 }, "prefix list" },
	{ "prefix-tree", { "prefix?" }, { 0 }, { 0 }, "prefix tree [PREFIX]" },
	{ "prefix-show", { "prefix" }, { 0 }, { 0 }, "prefix show PREFIX" },
	{ "prefix-remove", { "prefix" }, { 0 }, { "release" }, "prefix remove PREFIX [--release]" },
	{ "range-add", { "first", "last" }, { "description" }, { "dynamic" },
	  "range add FIRST LAST [--dynamic] [--description TEXT]" },
	{ "range-list", { "prefix?" }, { 0 }, { 0 }, "range list [PREFIX]" },
	{ "range-edit", { "first", "last" }, { "new-first", "new-last", "dynamic", "description" },
	  { 0 },
	  "range edit FIRST LAST [--new-first IP] [--new-last IP] [--dynamic yes|no] "
	  "[--description TEXT]" },
	{ "range-remove", { "first", "last" }, { 0 }, { 0 }, "range remove FIRST LAST" },
	{ "alloc-next", { "prefix", "name" }, { "mac", "description", "tenant", "tag*tags",
	  "field=fields" }, { "no-dns" },
	  "alloc next PREFIX NAME [--mac MAC] [--description TEXT] [--no-dns] " META_SYN },
	{ "alloc-address", { "address", "name" }, { "mac", "description", "tenant", "tag*tags",
	  "field=fields" }, { "no-dns" },
	  "alloc address IP NAME [--mac MAC] [--description TEXT] [--no-dns] " META_SYN },
	{ "alloc-reserve", { "address" }, { "note", "name", "tenant", "tag*tags", "field=fields" },
	  { 0 }, "alloc reserve IP [--note TEXT] [--name NAME] " META_SYN },
	{ "alloc-list", { "prefix" }, { "after", "limit" }, { 0 },
	  "alloc list PREFIX [--after IP] [--limit N]" },
	{ "alloc-edit", { "address" }, { "name", "description", META_OPTS }, { "no-dns" },
	  "alloc edit IP [--name NAME] [--no-dns] [--description TEXT] " META_SYN
	  " [--untag TAG]..." },
	{ "alloc-prefix", { "parent", "length" }, { "description" }, { 0 },
	  "alloc prefix PARENT LENGTH [--description TEXT]" },
	{ "release", { "address" }, { 0 }, { 0 }, "release IP" },
	{ "address-show", { "address" }, { 0 }, { 0 }, "address show IP" },
	{ "utilization", { "prefix" }, { 0 }, { 0 }, "utilization PREFIX" },
	{ "conflicts", { 0 }, { 0 }, { 0 }, "conflicts" },
	{ "ipam-import", { "file" }, { 0 }, { 0 }, "ipam import FILE.csv" },
	{ "ipam-export", { 0 }, { 0 }, { 0 }, "ipam export" },
};

#define IPAM_HELP_META \
"\nMETADATA (as NetBox's tenant, tags and custom fields cf_*; kept in ipam export)\n" \
"    --tenant T           the tenant (at most 100 bytes of text; \"\" clears it on edit)\n" \
"    --tag TAG            a tag (repeatable; at most 16 tags of 1..50 bytes, no comma)\n" \
"    --field KEY=VALUE    a custom field (repeatable; KEY is 1..50 of a-z 0-9 _ starting\n" \
"                         with a letter, VALUE at most 200 bytes; KEY= removes it on edit)\n"

#define IPAM_HELP_COMMON \
	"\nOPTIONS\n" \
	"    -s SOCKET | --db DIR   as for every ddictl command (ddictl --help)\n" \
	"    --json                 print the JSON reply instead of a table\n" \
	"\nEXIT STATUS\n    0 success, 1 error (the message says why; nothing changed), 2 usage.\n"

const char ddictl_help_prefix_add[] =
"NAME\n    ddictl prefix add - manage an IPv4 or IPv6 prefix\n\n"
"SYNOPSIS\n    ddictl (-s SOCKET | --db DIR) prefix add PREFIX [--zone ZONE]\n"
"        [--policy strict|auto|off] [--description TEXT] [--status active|reserved|deprecated]\n"
"        [--tenant T] [--tag TAG]... [--field KEY=VALUE]...\n\n"
"DESCRIPTION\n"
"    Records PREFIX (ADDR/LEN, host bits zero) in the IPAM, nested under any\n"
"    shorter prefix holding it. ZONE is the forward zone of its hosts.\n"
"    The DNS policy\n"
"    checks every A/AAAA record of its addresses: strict refuses a record\n"
"    for an address not allocated to that name, auto allocates the address\n"
"    of a new record, off does not check. The reverse zones of the prefix\n"
"    (octet or nibble boundary) are created when missing, in the same\n"
"    transaction; their PTR answers follow the A/AAAA records. ZONE is\n"
"    absolute (a missing final dot is added).\n"
IPAM_HELP_META
IPAM_HELP_COMMON
"\nEXAMPLES\n    ddictl -s /run/ddiplane.sock prefix add 198.18.0.0/24 --zone example.com. --policy strict\n";

const char ddictl_help_prefix_list[] =
"NAME\n    ddictl prefix list - every prefix\n\n"
"SYNOPSIS\n    ddictl (-s SOCKET | --db DIR) [--json] prefix list\n\n"
"DESCRIPTION\n    The prefixes in address order (IPv4 first), with status, DNS policy and zone.\n"
IPAM_HELP_COMMON;

const char ddictl_help_prefix_tree[] =
"NAME\n    ddictl prefix tree - the prefixes as a tree\n\n"
"SYNOPSIS\n    ddictl (-s SOCKET | --db DIR) [--json] prefix tree [PREFIX]\n\n"
"DESCRIPTION\n    The prefixes (inside PREFIX when given), each indented under the\n"
"    prefix that holds it.\n"
IPAM_HELP_COMMON;

const char ddictl_help_prefix_show[] =
"NAME\n    ddictl prefix show - one prefix with its utilization and ranges\n\n"
"SYNOPSIS\n    ddictl (-s SOCKET | --db DIR) [--json] prefix show PREFIX\n\n"
"DESCRIPTION\n    The prefix's record, its utilization (see utilization) and its ranges.\n"
IPAM_HELP_COMMON;

const char ddictl_help_prefix_remove[] =
"NAME\n    ddictl prefix remove - forget a prefix\n\n"
"SYNOPSIS\n    ddictl (-s SOCKET | --db DIR) prefix remove PREFIX [--release]\n\n"
"DESCRIPTION\n    Removes the prefix record. While the prefix holds allocations or\n"
"    reservations (its own, not those of a child prefix) it is refused,\n"
"    naming how many and the first. --release releases them with it, in\n"
"    the same journaled change: each allocation goes, and so does the\n"
"    A/AAAA record of its name for the address (its PTR answer follows).\n"
"    Ranges, child prefixes and reverse zones stay.\n"
IPAM_HELP_COMMON
"\nEXAMPLES\n    ddictl -s /run/ddiplane.sock prefix remove 198.18.7.0/24 --release\n";

const char ddictl_help_prefix_edit[] =
"NAME\n    ddictl prefix edit - change a prefix's attributes and metadata\n\n"
"SYNOPSIS\n    ddictl (-s SOCKET | --db DIR) prefix edit PREFIX [--description TEXT]\n"
"        [--status S] [--policy strict|auto|off] [--zone ZONE] [--tenant T]\n"
"        [--tag TAG]... [--untag TAG]... [--field KEY=VALUE]...\n\n"
"DESCRIPTION\n    Changes what is given and keeps the rest, in one journaled change.\n"
"    --tag adds a tag, --untag removes one (an absent tag is an error).\n"
"    --zone \"\" clears the zone. The prefix itself (its address and length)\n"
"    does not change: remove it and add another.\n"
IPAM_HELP_META
IPAM_HELP_COMMON
"\nEXAMPLES\n    ddictl -s /run/ddiplane.sock prefix edit 198.18.0.0/24 --tenant acme --tag prod \\\n"
"        --field site_code=FRA1\n";

const char ddictl_help_range_list[] =
"NAME\n    ddictl range list - the ranges\n\n"
"SYNOPSIS\n    ddictl (-s SOCKET | --db DIR) [--json] range list [PREFIX]\n\n"
"DESCRIPTION\n    Every range (inside PREFIX when given) in address order, dynamic or\n"
"    not, with its description.\n"
IPAM_HELP_COMMON;

const char ddictl_help_range_edit[] =
"NAME\n    ddictl range edit - change a range\n\n"
"SYNOPSIS\n    ddictl (-s SOCKET | --db DIR) range edit FIRST LAST [--new-first IP]\n"
"        [--new-last IP] [--dynamic yes|no] [--description TEXT]\n\n"
"DESCRIPTION\n    The range FIRST..LAST (as it is now) gets new bounds, another kind or\n"
"    another description. New bounds must still lie inside one prefix and\n"
"    overlap no other range; allocations inside it are not touched.\n"
IPAM_HELP_COMMON;

const char ddictl_help_range_remove[] =
"NAME\n    ddictl range remove - remove a range\n\n"
"SYNOPSIS\n    ddictl (-s SOCKET | --db DIR) range remove FIRST LAST\n\n"
"DESCRIPTION\n    Forgets the range FIRST..LAST; its addresses may then be handed out by\n"
"    alloc next. Allocations inside it stay.\n"
IPAM_HELP_COMMON;

const char ddictl_help_alloc_reserve[] =
"NAME\n    ddictl alloc reserve - reserve an address\n\n"
"SYNOPSIS\n    ddictl (-s SOCKET | --db DIR) alloc reserve IP [--note TEXT] [--name NAME]\n"
"        [--tenant T] [--tag TAG]... [--field KEY=VALUE]...\n\n"
"DESCRIPTION\n    Holds IP (inside a prefix, not allocated) so that alloc next never\n"
"    hands it out and the DNS policy refuses records for it. A reservation\n"
"    publishes no DNS, even with --name. --note (at most 200 bytes) says\n"
"    why. Released like an allocation: ddictl release IP.\n"
IPAM_HELP_META
IPAM_HELP_COMMON
"\nEXAMPLES\n    ddictl -s /run/ddiplane.sock alloc reserve 198.18.0.1 --note \"gateway VRRP\"\n";

const char ddictl_help_alloc_list[] =
"NAME\n    ddictl alloc list - the allocations of a prefix, a page at a time\n\n"
"SYNOPSIS\n    ddictl (-s SOCKET | --db DIR) [--json] alloc list PREFIX [--after IP] [--limit N]\n\n"
"DESCRIPTION\n    The allocations and reservations inside PREFIX in address order, at\n"
"    most N (1..4096, default 256) after the address IP. When more follow,\n"
"    the last line says which --after asks for the next page (JSON: \"next\",\n"
"    null on the last page). A page costs the same at any depth of a\n"
"    large prefix.\n"
IPAM_HELP_COMMON
"\nEXAMPLES\n    ddictl -s /run/ddiplane.sock alloc list 198.18.0.0/16 --limit 100 --after 198.18.3.7\n";

const char ddictl_help_alloc_edit[] =
"NAME\n    ddictl alloc edit - rename an allocation or change its metadata\n\n"
"SYNOPSIS\n    ddictl (-s SOCKET | --db DIR) alloc edit IP [--name NAME] [--no-dns]\n"
"        [--description TEXT] [--tenant T] [--tag TAG]... [--untag TAG]...\n"
"        [--field KEY=VALUE]...\n\n"
"DESCRIPTION\n    A new NAME (absolute; a missing final dot is added) moves the DNS in\n"
"    one journaled change: the old name's A/AAAA record for IP goes, the\n"
"    new name's comes, in the served zone that holds it, and the PTR answer\n"
"    follows. A NAME in no served zone is refused unless --no-dns (then\n"
"    the allocation is renamed and publishes nothing). A reservation\n"
"    publishes nothing. --tag adds, --untag removes a tag.\n"
IPAM_HELP_META
IPAM_HELP_COMMON
"\nEXAMPLES\n    ddictl -s /run/ddiplane.sock alloc edit 198.18.0.5 --name web5.example.com\n";

const char ddictl_help_range_add[] =
"NAME\n    ddictl range add - a range of addresses inside a prefix\n\n"
"SYNOPSIS\n    ddictl (-s SOCKET | --db DIR) range add FIRST LAST [--dynamic] [--description TEXT]\n\n"
"DESCRIPTION\n    FIRST..LAST (inclusive) must lie inside one prefix and overlap no other\n"
"    range. --dynamic marks a DHCP pool, whose addresses come from dynamic\n"
"    updates. alloc next never hands out an address of a range.\n"
IPAM_HELP_COMMON;

const char ddictl_help_alloc_next[] =
"NAME\n    ddictl alloc next - allocate the next free address of a prefix\n\n"
"SYNOPSIS\n    ddictl (-s SOCKET | --db DIR) alloc next PREFIX NAME [--mac MAC] [--description TEXT]\n"
"        [--no-dns] [--tenant T] [--tag TAG]... [--field KEY=VALUE]...\n\n"
"DESCRIPTION\n    The lowest free address of PREFIX (not the IPv4 network or broadcast\n"
"    address, not the IPv6 subnet-router anycast, nothing allocated or\n"
"    reserved, nothing inside a range) is allocated to NAME, and NAME gets\n"
"    its A or AAAA record in the served zone that holds it (its closest\n"
"    enclosing zone, as an Infoblox host record), in ONE transaction; the\n"
"    PTR follows. NAME is absolute (a missing final dot is added). A NAME\n"
"    in no served zone is an error unless --no-dns, which allocates and\n"
"    publishes nothing. Concurrent requests, from any number of processes,\n"
"    never get the same address. A prefix with no free address fails with\n"
"    \"prefix full\".\n"
IPAM_HELP_META
IPAM_HELP_COMMON
"\nEXAMPLES\n    ddictl -s /run/ddiplane.sock alloc next 198.18.0.0/24 web1 --mac 00:1a:2b:3c:4d:5e\n";

const char ddictl_help_alloc_address[] =
"NAME\n    ddictl alloc address - allocate a given address\n\n"
"SYNOPSIS\n    ddictl (-s SOCKET | --db DIR) alloc address IP NAME [--mac MAC] [--description TEXT]\n"
"        [--no-dns] [--tenant T] [--tag TAG]... [--field KEY=VALUE]...\n\n"
"DESCRIPTION\n    As alloc next, for the address IP, which must lie in a prefix and be free.\n"
IPAM_HELP_META
IPAM_HELP_COMMON;

const char ddictl_help_alloc_prefix[] =
"NAME\n    ddictl alloc prefix - allocate the next free child prefix\n\n"
"SYNOPSIS\n    ddictl (-s SOCKET | --db DIR) alloc prefix PARENT LENGTH [--description TEXT]\n\n"
"DESCRIPTION\n    The lowest aligned /LENGTH inside PARENT that overlaps none of its\n"
"    child prefixes is recorded as a prefix (inheriting zone and DNS policy)\n"
"    with its reverse zones. \"prefix full\" when none is left.\n"
IPAM_HELP_COMMON;

const char ddictl_help_release[] =
"NAME\n    ddictl release - release an allocated address\n\n"
"SYNOPSIS\n    ddictl (-s SOCKET | --db DIR) release IP\n\n"
"DESCRIPTION\n    Removes the allocation or reservation of IP and the A/AAAA record of\n"
"    its name for IP (so its PTR answer goes too), in one transaction.\n"
IPAM_HELP_COMMON;

const char ddictl_help_address_show[] =
"NAME\n    ddictl address show - what the IPAM and the DNS know about an address\n\n"
"SYNOPSIS\n    ddictl (-s SOCKET | --db DIR) [--json] address show IP\n\n"
"DESCRIPTION\n    Its allocation (or free), the deepest prefix holding it and the names\n"
"    whose A/AAAA records hold it.\n"
IPAM_HELP_COMMON;

const char ddictl_help_utilization[] =
"NAME\n    ddictl utilization - how full a prefix is\n\n"
"SYNOPSIS\n    ddictl (-s SOCKET | --db DIR) [--json] utilization PREFIX\n\n"
"DESCRIPTION\n    Used and total usable addresses (NetBox's rule: an IPv4 prefix shorter\n"
"    than /31 without network and broadcast), the percentage, and how much\n"
"    of the prefix its child prefixes cover. Totals above 2^63 (IPv6) are\n"
"    JSON strings.\n"
IPAM_HELP_COMMON;

const char ddictl_help_conflicts[] =
"NAME\n    ddictl conflicts - where the DNS and the IPAM disagree\n\n"
"SYNOPSIS\n    ddictl (-s SOCKET | --db DIR) [--json] conflicts\n\n"
"DESCRIPTION\n    A/AAAA records inside a prefix whose address is unallocated or\n"
"    allocated to another name, allocations whose name has no record for\n"
"    the address, and overlapping ranges. Exit 0 also when there are none.\n"
IPAM_HELP_COMMON;

const char ddictl_help_ipam_import[] =
"NAME\n    ddictl ipam import - import prefixes and addresses from CSV\n\n"
"SYNOPSIS\n    ddictl (-s SOCKET | --db DIR) ipam import FILE.csv\n\n"
"DESCRIPTION\n    NetBox-style CSV (a prefixes table, an empty line, an addresses table;\n"
"    columns prefix, status, description, dns_zone, dns_policy / address,\n"
"    status, dns_name, description, mac_address, ...; both: tags, tenant\n"
"    and NetBox custom fields cf_KEY). All or nothing: the first error\n"
"    names the line and the column, and nothing is changed. An address\n"
"    with a dns_name gets its A/AAAA record in the served zone that holds\n"
"    the name (its closest enclosing zone), whether or not its prefix names\n"
"    a zone; a name in no served zone is a warning naming the line (the\n"
"    address is allocated, with no DNS). The report also names the columns\n"
"    that are not kept (NetBox's id, site, vlan, ...). Through the socket\n"
"    the file is at most 16 MiB; use --db for more.\n"
IPAM_HELP_COMMON;

const char ddictl_help_ipam_export[] =
"NAME\n    ddictl ipam export - prefixes and addresses as CSV\n\n"
"SYNOPSIS\n    ddictl (-s SOCKET | --db DIR) ipam export > FILE.csv\n\n"
"DESCRIPTION\n    The prefixes table, an empty line, the addresses table, in the format\n"
"    ipam import reads, with tags, tenant and one cf_KEY column per custom\n"
"    field name in use.\n"
IPAM_HELP_COMMON;

static int iusage(const char *synopsis)
{
	fprintf(stderr, "ddictl: usage: ddictl %s\nTry 'ddictl --help'.\n", synopsis);
	return 2;
}

/* The file's text as a JSON string (import). */
static json_t *file_text(const char *path)
{
	FILE *f = fopen(path, "r");
	if (!f) {
		fprintf(stderr, "ddictl: %s: %s\n", path, strerror(errno));
		return NULL;
	}
	char *buf = NULL;
	size_t len = 0, cap = 0;
	for (;;) {
		if (cap - len < 65536) {
			cap = cap ? cap * 2 : 1 << 20;
			char *nb = realloc(buf, cap);
			if (!nb) {
				free(buf);
				fclose(f);
				fprintf(stderr, "ddictl: %s: out of memory\n", path);
				return NULL;
			}
			buf = nb;
		}
		size_t n = fread(buf + len, 1, cap - len, f);
		len += n;
		if (n == 0)
			break;
	}
	bool bad = ferror(f);
	fclose(f);
	json_t *t = bad ? NULL : json_stringn(buf, len);
	free(buf);
	if (!t)
		fprintf(stderr, "ddictl: %s: %s\n", path, bad ? "read error" : "not UTF-8 text");
	return t;
}

int ddictl_ipam_build(struct ctl *c, int argc, char **argv, json_t **req, const char **cmd)
{
	(void)c;
	const struct ispec *sp = NULL;
	for (size_t i = 0; i < sizeof(specs) / sizeof(specs[0]); i++)
		if (strcmp(specs[i].cmd, *cmd) == 0)
			sp = &specs[i];
	if (!sp)
		return 2;
	struct option opts[12];
	char names[12][32], keys[12][32], kinds[12];
	size_t no = 0;
	for (int i = 0; i < 9 && sp->opts[i]; i++, no++) {
		size_t n = strcspn(sp->opts[i], "*=");
		snprintf(names[no], sizeof(names[no]), "%.*s", (int)n, sp->opts[i]);
		kinds[no] = sp->opts[i][n];
		snprintf(keys[no], sizeof(keys[no]), "%s", kinds[no] ? sp->opts[i] + n + 1 : names[no]);
		opts[no] = (struct option){ names[no], required_argument, NULL, 'o' };
	}
	for (int i = 0; i < 2 && sp->flags[i]; i++, no++) {
		snprintf(names[no], sizeof(names[no]), "%s", sp->flags[i]);
		snprintf(keys[no], sizeof(keys[no]), "%s", sp->flags[i]);
		kinds[no] = 0;
		opts[no] = (struct option){ names[no], no_argument, NULL, 'f' };
	}
	for (size_t i = 0; i < no; i++)
		for (char *k = keys[i]; *k; k++)
			*k = *k == '-' ? '_' : *k;
	opts[no] = (struct option){ 0 };
	json_t *args = json_object();
	int o, idx;
	optind = 0;   /* a fresh, permuting scan: options may follow the positionals */
	while ((o = getopt_long(argc, argv, "", opts, &idx)) != -1) {
		if (o == '?' || o == ':') {
			json_decref(args);
			return iusage(sp->synopsis);
		}
		if (o == 'f') {
			json_object_set_new(args, keys[idx], json_true());
		} else if (kinds[idx] == '*') {
			json_t *arr = json_object_get(args, keys[idx]);
			if (!arr)
				json_object_set_new(args, keys[idx], arr = json_array());
			json_array_append_new(arr, json_string(optarg));
		} else if (kinds[idx] == '=') {
			json_t *obj = json_object_get(args, keys[idx]);
			const char *eq = strchr(optarg, '=');
			if (!eq || eq == optarg) {
				fprintf(stderr, "ddictl: --%s wants KEY=VALUE, not '%s'\n", names[idx], optarg);
				json_decref(args);
				return 2;
			}
			if (!obj)
				json_object_set_new(args, keys[idx], obj = json_object());
			char key[64];
			snprintf(key, sizeof(key), "%.*s", (int)(eq - optarg), optarg);
			json_object_set_new(obj, key, json_string(eq + 1));
		} else {
			json_object_set_new(args, keys[idx], json_string(optarg));
		}
	}
	/* argv[0] is the subcommand; the positionals follow from optind */
	int npos = argc - optind;
	char **pos = argv + optind;
	int need = 0, max = 0;
	for (int i = 0; i < 3 && sp->pos[i]; i++, max++)
		if (!strchr(sp->pos[i], '?'))
			need++;
	if (npos < need || npos > max) {
		json_decref(args);
		return iusage(sp->synopsis);
	}
	for (int i = 0; i < npos; i++) {
		char key[32];
		snprintf(key, sizeof(key), "%.*s", (int)strcspn(sp->pos[i], "?"), sp->pos[i]);
		if (strcmp(key, "file") == 0) {
			json_t *t = file_text(pos[i]);
			if (!t) {
				json_decref(args);
				return 1;
			}
			json_object_set_new(args, "text", t);
			json_object_set_new(args, "filename", json_string(pos[i]));
		} else {
			json_object_set_new(args, key, json_string(pos[i]));
		}
	}
	*req = json_pack("{s:s, s:o}", "command", *cmd, "arguments", args);
	return 0;
}

static const char *js(const json_t *o, const char *k)
{
	const char *s = json_string_value(json_object_get(o, k));
	return s ? s : "";
}

/* A number that may be a JSON string (128-bit totals). */
static void jnum(char *buf, size_t len, const json_t *v)
{
	if (json_is_string(v))
		snprintf(buf, len, "%s", json_string_value(v));
	else
		snprintf(buf, len, "%lld", (long long)json_integer_value(v));
}

static void print_prefixes(const json_t *arr, bool tree)
{
	size_t i;
	json_t *p;
	printf("%-44s %-10s %-7s %-30s %s\n", "PREFIX", "STATUS", "POLICY", "ZONE", "DESCRIPTION");
	json_array_foreach(arr, i, p) {
		char name[128];
		int d = tree ? (int)json_integer_value(json_object_get(p, "depth")) : 0;
		snprintf(name, sizeof(name), "%*s%s", 2 * d, "", js(p, "prefix"));
		printf("%-44s %-10s %-7s %-30s %s\n", name, js(p, "status"), js(p, "policy"),
		       json_is_string(json_object_get(p, "zone")) ? js(p, "zone") : "-",
		       js(p, "description"));
	}
}

/* The tags of a record, comma-separated, or "-". */
static void meta_tags(const json_t *rec, char *buf, size_t len)
{
	size_t i, off = 0;
	json_t *t;
	buf[0] = '\0';
	json_array_foreach(json_object_get(rec, "tags"), i, t) {
		int n = snprintf(buf + off, len - off, "%s%s", i ? "," : "", json_string_value(t));
		if (n < 0 || (size_t)n >= len - off)
			break;
		off += (size_t)n;
	}
	if (!buf[0])
		snprintf(buf, len, "-");
}

static void print_import(const json_t *reply, const json_t *a)
{
	size_t i;
	json_t *v;
	printf("%s (journal seq %lld)\n", js(reply, "text"),
	       (long long)json_integer_value(json_object_get(a, "seq")));
	json_array_foreach(json_object_get(a, "warnings"), i, v)
		printf("warning: %s:%lld: %s %s: %s\n", js(v, "file"),
		       (long long)json_integer_value(json_object_get(v, "line")), js(v, "address"),
		       js(v, "name"), js(v, "reason"));
	long long total = json_integer_value(json_object_get(a, "warnings_total"));
	if ((size_t)total > json_array_size(json_object_get(a, "warnings")))
		printf("warning: ... %lld warnings in all, the first %zu shown\n", total,
		       json_array_size(json_object_get(a, "warnings")));
	if (json_array_size(json_object_get(a, "ignored_columns"))) {
		printf("columns not kept:");
		json_array_foreach(json_object_get(a, "ignored_columns"), i, v)
			printf(" %s", json_string_value(v));
		printf("\n");
	}
}

static void print_util(const json_t *u)
{
	char used[48], total[48], cov[48];
	jnum(used, sizeof(used), json_object_get(u, "used"));
	jnum(total, sizeof(total), json_object_get(u, "total"));
	jnum(cov, sizeof(cov), json_object_get(u, "children_coverage"));
	printf("%-44s %s / %s addresses used (%s%%), %lld child prefixes covering %s (%s%%)\n",
	       js(u, "prefix"), used, total, js(u, "percent"),
	       (long long)json_integer_value(json_object_get(u, "children")), cov,
	       js(u, "children_percent"));
}

bool ddictl_ipam_print(const char *cmd, const json_t *reply)
{
	const json_t *a = json_object_get(reply, "arguments");
	size_t i;
	json_t *v;
	if (strcmp(cmd, "prefix-list") == 0 || strcmp(cmd, "prefix-tree") == 0) {
		print_prefixes(json_object_get(a, "prefixes"), strcmp(cmd, "prefix-tree") == 0);
	} else if (strcmp(cmd, "utilization") == 0) {
		print_util(a);
	} else if (strcmp(cmd, "prefix-show") == 0) {
		json_t *p = json_object_get(a, "prefix");
		json_t *arr = json_array();
		json_array_append(arr, p);
		print_prefixes(arr, false);
		json_decref(arr);
		print_util(json_object_get(a, "utilization"));
		json_array_foreach(json_object_get(a, "ranges"), i, v)
			printf("range %s-%s%s %s\n", js(v, "first"), js(v, "last"),
			       json_is_true(json_object_get(v, "dynamic")) ? " dynamic" : "",
			       js(v, "description"));
	} else if (strcmp(cmd, "address-show") == 0) {
		json_t *al = json_object_get(a, "allocation"), *p = json_object_get(a, "prefix");
		printf("address    %s\n", js(a, "address"));
		printf("prefix     %s\n", json_is_object(p) ? js(p, "prefix") : "-");
		if (json_is_object(al)) {
			printf("state      %s\n", js(al, "state"));
			printf("name       %s\n",
			       json_is_string(json_object_get(al, "name")) ? js(al, "name") : "-");
			if (json_object_get(al, "mac"))
				printf("mac        %s\n", js(al, "mac"));
			printf("owner      %s\n", js(al, "owner"));
			if (*js(al, "description"))
				printf("note       %s\n", js(al, "description"));
			char tags[1024];
			meta_tags(al, tags, sizeof(tags));
			printf("tenant     %s\n", *js(al, "tenant") ? js(al, "tenant") : "-");
			printf("tags       %s\n", tags);
			const char *fk;
			json_t *fv;
			json_object_foreach(json_object_get(al, "fields"), fk, fv)
				printf("field      %s=%s\n", fk, json_string_value(fv));
		} else {
			printf("state      free\n");
		}
		json_array_foreach(json_object_get(a, "names"), i, v)
			printf("record     %s\n", json_string_value(v));
	} else if (strcmp(cmd, "conflicts") == 0) {
		printf("%-22s %-40s %s\n", "KIND", "ADDRESS", "REASON");
		json_array_foreach(json_object_get(a, "conflicts"), i, v)
			printf("%-22s %-40s %s\n", js(v, "kind"), js(v, "address"), js(v, "reason"));
	} else if (strcmp(cmd, "ipam-export") == 0) {
		fputs(js(a, "text"), stdout);
	} else if (strcmp(cmd, "ipam-import") == 0) {
		print_import(reply, a);
	} else if (strcmp(cmd, "range-list") == 0) {
		printf("%-40s %-40s %-8s %s\n", "FIRST", "LAST", "KIND", "DESCRIPTION");
		json_array_foreach(json_object_get(a, "ranges"), i, v)
			printf("%-40s %-40s %-8s %s\n", js(v, "first"), js(v, "last"),
			       json_is_true(json_object_get(v, "dynamic")) ? "dynamic" : "static",
			       js(v, "description"));
	} else if (strcmp(cmd, "alloc-list") == 0) {
		printf("%-40s %-9s %-40s %-12s %s\n", "ADDRESS", "STATE", "NAME", "TENANT", "TAGS");
		json_array_foreach(json_object_get(a, "allocations"), i, v) {
			char tags[1024];
			meta_tags(v, tags, sizeof(tags));
			printf("%-40s %-9s %-40s %-12s %s\n", js(v, "address"), js(v, "state"),
			       json_is_string(json_object_get(v, "name")) ? js(v, "name") : "-",
			       *js(v, "tenant") ? js(v, "tenant") : "-", tags);
		}
		if (json_is_string(json_object_get(a, "next")))
			printf("more: ddictl alloc list %s --after %s\n", js(a, "prefix"), js(a, "next"));
	} else if (strcmp(cmd, "alloc-next") == 0 || strcmp(cmd, "alloc-address") == 0) {
		/* the address alone on the first line: scripts read it */
		printf("%s %s (journal seq %lld%s)\n", js(a, "address"), js(a, "name"),
		       (long long)json_integer_value(json_object_get(a, "seq")),
		       json_is_true(json_object_get(a, "published")) ? ", published" : "");
	} else {
		return false;
	}
	return true;
}
