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

static int usage2(const char *synopsis)
{
	fprintf(stderr, "usage: ddictl %s\n", synopsis);
	return 2;
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
