/* ddictl_xfr -- ddictl zone acl / ddictl diff: who may transfer a zone, and its differences */
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "control/ddictl/xfr.h"

const char ddictl_help_zone_acl[] =
"NAME\n    ddictl zone acl - who may transfer a zone (AXFR/IXFR), whom to NOTIFY\n\n"
"SYNOPSIS\n    ddictl zone acl ZONE [--transfer PREFIX]... [--transfer-key KEY]...\n"
"                    [--notify ADDR[@PORT]]... [--notify-key KEY] [--catalog] | --clear\n\n"
"DESCRIPTION\n"
"    Without options, shows the ACL. With options, replaces it in one commit\n"
"    (journaled as acl-set). A transfer is allowed when the ACL names prefixes\n"
"    or keys, the source is inside one of the prefixes (when it names any) and\n"
"    the request is TSIG-signed with one of the keys (when it names any).\n"
"    No ACL: nobody (REFUSED). NOTIFY goes to every --notify target after each\n"
"    change of the zone's serial, signed with --notify-key when given.\n"
"    --catalog: ZONE is the catalog zone ddiplane generates (ddiplane\n"
"    --catalog NAME, RFC 9432), not a zone of the store; its NOTIFY goes out\n"
"    when member zones come and go. A member is a zone whose ACL lets someone\n"
"    transfer it.\n"
"    A secondary zone's primaries and their key (ddictl zone add --primary)\n"
"    are kept, by --clear too.\n";

const char ddictl_help_diff[] =
"NAME\n    ddictl diff - the differences of a zone, as IXFR serves them\n\n"
"SYNOPSIS\n    ddictl diff ZONE [SERIAL]\n\n"
"DESCRIPTION\n"
"    Each difference the store keeps for the zone (oldest first), or the one\n"
"    starting at SERIAL: journal seq, serials, the records removed (-) and\n"
"    added (+), SOA first. 'break' marks a change that was not recorded\n"
"    (IXFR from before it falls back to AXFR).\n";

const char ddictl_help_catalog_add[] =
"NAME\n    ddictl catalog add - follow a catalog zone (RFC 9432) from a primary\n\n"
"SYNOPSIS\n    ddictl catalog add ORIGIN --primary ADDR[@PORT] [--primary ...] [--key NAME]\n\n"
"DESCRIPTION\n"
"    ORIGIN becomes a secondary zone that ddiplane transfers from its\n"
"    primaries like any other (SOA refresh, NOTIFY, IXFR, AXFR), signed with\n"
"    the TSIG key NAME (ddictl key add) when given. After each refresh the\n"
"    catalog is read: it must hold version.ORIGIN TXT \"2\" and one PTR per\n"
"    member at ID.zones.ORIGIN (RFC 9432 version 2). Each member zone becomes\n"
"    a secondary zone with the catalog's primaries and key (role \"catalog\n"
"    member\" in zone list); a member that leaves the catalog is removed; a\n"
"    member whose unique ID changes is emptied and transferred anew\n"
"    (RFC 9432 4.1). These changes are journaled with the actor\n"
"    catalog:ORIGIN. Only zones added from this catalog are ever removed: a\n"
"    member that is already a zone of ours is left alone (counted as a\n"
"    conflict). A broken catalog (wrong version, several PTRs at a member,\n"
"    a malformed name, a member listed twice, more than 4096 members)\n"
"    changes nothing; the reason is logged and shown by catalog list.\n"
"    Counted in /metrics as ddiplane_catalog_total{outcome}.\n"
"    ADDR is IPv4 or IPv6, PORT 53 by default (\"[2001:2::1]:53\" also works).\n";

const char ddictl_help_catalog_remove[] =
"NAME\n    ddictl catalog remove - stop following a catalog zone\n\n"
"SYNOPSIS\n    ddictl catalog remove ORIGIN\n\n"
"DESCRIPTION\n"
"    Removes the catalog zone ORIGIN and every member zone that was added\n"
"    from it, in one commit. Zones that were not added from it stay.\n";

const char ddictl_help_catalog_list[] =
"NAME\n    ddictl catalog list - the catalog zones ddiplane follows\n\n"
"SYNOPSIS\n    ddictl catalog list\n\n"
"DESCRIPTION\n"
"    One line per consumed catalog: its serial, the member zones it added,\n"
"    its primaries and key; from a running server also the time of the last\n"
"    refresh, how many members the catalog listed at the last sync and the\n"
"    last error (of the transfer, or of reading the catalog).\n";

static int usage2(const char *synopsis)
{
	fprintf(stderr, "usage: ddictl %s\n", synopsis);
	return 2;
}

static int catalog_build(int argc, char **argv, json_t **req, const char **cmd)
{
	static const struct option opts[] = {
		{ "primary", required_argument, NULL, 'p' },
		{ "key", required_argument, NULL, 'k' },
		{ 0 },
	};
	bool add = strcmp(*cmd, "catalog-add") == 0, list = strcmp(*cmd, "catalog-list") == 0;
	const char *syn = add ? "catalog add ORIGIN --primary ADDR[@PORT]... [--key NAME]"
	                : list ? "catalog list" : "catalog remove ORIGIN";
	json_t *a = json_object(), *prim = json_array();
	int o;
	optind = 0;
	while ((o = getopt_long(argc, argv, "", add ? opts : opts + 2, NULL)) != -1) {
		if (o == 'p') {
			json_array_append_new(prim, json_string(optarg));
		} else if (o == 'k') {
			json_object_set_new(a, "key", json_string(optarg));
		} else {
			json_decref(a);
			json_decref(prim);
			return usage2(syn);
		}
	}
	int npos = argc - optind;
	if (npos != (list ? 0 : 1) || (add && json_array_size(prim) == 0)) {
		json_decref(a);
		json_decref(prim);
		return usage2(syn);
	}
	if (add)
		json_object_set_new(a, "primaries", prim);
	else
		json_decref(prim);
	if (!list)
		json_object_set_new(a, "zone", json_string(argv[optind]));
	*req = json_pack("{s:s, s:o}", "command", *cmd, "arguments", a);
	return 0;
}

int ddictl_xfr_build(struct ctl *c, int argc, char **argv, json_t **req, const char **cmd)
{
	(void)c;
	static const struct option opts[] = {
		{ "transfer", required_argument, NULL, 't' },
		{ "transfer-key", required_argument, NULL, 'k' },
		{ "notify", required_argument, NULL, 'n' },
		{ "notify-key", required_argument, NULL, 'K' },
		{ "clear", no_argument, NULL, 'c' },
		{ "catalog", no_argument, NULL, 'C' },
		{ 0 },
	};
	if (strncmp(*cmd, "catalog-", 8) == 0)
		return catalog_build(argc, argv, req, cmd);
	bool acl = strcmp(*cmd, "zone-acl") == 0;
	json_t *a = json_object();
	int o;
	optind = 0;
	while ((o = getopt_long(argc, argv, "", acl ? opts : opts + 6, NULL)) != -1) {
		const char *f = o == 't' ? "transfer" : o == 'k' ? "transfer_keys" : o == 'n' ? "notify"
		                                                                            : NULL;
		if (f) {
			json_t *arr = json_object_get(a, f);
			if (!arr)
				json_object_set_new(a, f, arr = json_array());
			json_array_append_new(arr, json_string(optarg));
		} else if (o == 'K') {
			json_object_set_new(a, "notify_key", json_string(optarg));
		} else if (o == 'c') {
			json_object_set_new(a, "clear", json_true());
		} else if (o == 'C') {
			json_object_set_new(a, "catalog", json_true());
		} else {
			json_decref(a);
			return usage2(acl ? "zone acl ZONE [--transfer P]... [--transfer-key K]... "
			                    "[--notify A[@PORT]]... [--notify-key K] [--catalog] | --clear"
			                  : "diff ZONE [SERIAL]");
		}
	}
	int npos = argc - optind;
	if (npos < 1 || npos > (acl ? 1 : 2)) {
		json_decref(a);
		return usage2(acl ? "zone acl ZONE [options]" : "diff ZONE [SERIAL]");
	}
	json_object_set_new(a, "zone", json_string(argv[optind]));
	if (npos == 2)
		json_object_set_new(a, "serial", json_string(argv[optind + 1]));
	*req = json_pack("{s:s, s:o}", "command", *cmd, "arguments", a);
	return 0;
}

bool ddictl_xfr_print(const char *cmd, const json_t *reply)
{
	const json_t *a = json_object_get(reply, "arguments");
	size_t i, j;
	json_t *d, *r;
	if (strcmp(cmd, "zone-acl") == 0 && json_object_get(a, "acl")) {
		char *s = json_dumps(json_object_get(a, "acl"), JSON_INDENT(2) | JSON_SORT_KEYS);
		printf("%s\n", s ? s : "");
		free(s);
		return true;
	}
	if (strcmp(cmd, "catalog-list") == 0) {
		printf("%-32s %10s %8s  %-28s %s\n", "CATALOG", "SERIAL", "MEMBERS", "PRIMARIES",
		       "LAST ERROR");
		json_array_foreach(json_object_get(a, "catalogs"), i, d) {
			char prim[256] = "";
			size_t off = 0;
			json_array_foreach(json_object_get(d, "primaries"), j, r)
				if (off < sizeof(prim))
					off += (size_t)snprintf(prim + off, sizeof(prim) - off, "%s%s",
					                        j ? "," : "", json_string_value(r));
			const char *ce = json_string_value(json_object_get(d, "catalog_error"));
			const char *le = json_string_value(json_object_get(d, "last_error"));
			printf("%-32s %10lld %8lld  %-28s %s\n",
			       json_string_value(json_object_get(d, "catalog")),
			       (long long)json_integer_value(json_object_get(d, "serial")),
			       (long long)json_integer_value(json_object_get(d, "member_zones")), prim,
			       ce && *ce ? ce : le && *le ? le : "-");
		}
		return true;
	}
	if (strcmp(cmd, "diff") != 0)
		return false;
	json_array_foreach(json_object_get(a, "diffs"), i, d) {
		printf("; seq %lld: serial %lld -> %lld%s\n",
		       (long long)json_integer_value(json_object_get(d, "seq")),
		       (long long)json_integer_value(json_object_get(d, "serial_from")),
		       (long long)json_integer_value(json_object_get(d, "serial_to")),
		       json_is_true(json_object_get(d, "break")) ? " (break: not recorded)" : "");
		json_array_foreach(json_object_get(d, "removed"), j, r)
			printf("-%s\n", json_string_value(r));
		json_array_foreach(json_object_get(d, "added"), j, r)
			printf("+%s\n", json_string_value(r));
	}
	return true;
}
