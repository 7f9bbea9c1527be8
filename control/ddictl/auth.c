/* ddictl_auth -- ddictl token add/list/remove, role add/list/remove */
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "control/ddictl/auth.h"

#define ROLES \
"    ROLE is one of:\n" \
"      reader       reads (lists, exports, journal, stats); no change\n" \
"      dns-editor   reads, and record changes of names inside its --zone\n" \
"                   zones (record add/delete/replace, changes)\n" \
"      ipam-editor  reads, and prefixes, ranges and allocations inside its\n" \
"                   --prefix prefixes (alloc next/address/prefix/reserve/\n" \
"                   edit, release, prefix add/edit/remove, range add/edit/\n" \
"                   remove), with the A/AAAA and PTR records that follow\n" \
"      admin        everything\n" \
"    A role given no --zone (--prefix) has every zone (prefix). With them,\n" \
"    reads that name one zone, name, prefix or address (record get/list,\n" \
"    zone export, diff, prefix show, alloc list, utilization, address show,\n" \
"    history, stale) are inside them too, for any role but admin, and every\n" \
"    list shows only what is inside them: zone list (its zones and the zones\n" \
"    below), prefix list and tree (its prefixes and those inside them, not\n" \
"    a parent holding them), range list, catalog list, key list (keys of\n" \
"    rules inside its zones; secrets are never listed), policy list (rules\n" \
"    granting names inside its zones), token and role list (its own), and\n" \
"    the journal (entries that touch its zones or prefixes, with only those\n" \
"    changes; seq, time and actor as stored; notes only its own), and the\n" \
"    stale (no ZONE) and conflicts reports (rows of its names and\n" \
"    addresses) and ipam export (the rows of its prefixes). status and\n" \
"    stats are counters and are shown whole. Anything\n" \
"    else (zones, keys, policies, tokens, roles, imports) needs admin. A\n" \
"    request outside the role or scope is refused with the reason, counted\n" \
"    (ddiplane_auth_refused_total) and noted in the journal at most once per\n" \
"    principal and reason a minute.\n"

const char ddictl_help_token_add[] =
"NAME\n    ddictl token add - a bearer token for the HTTP API\n\n"
"SYNOPSIS\n    ddictl ... token add NAME --role ROLE [--zone ZONE]... [--prefix PREFIX]...\n\n"
"DESCRIPTION\n"
"    Makes a random token ddi_NAME_HEX (256 bits), stores only its SHA-256\n"
"    with the role and scope (journaled as auth-set) and prints the token\n"
"    ONCE on stdout: keep it, no command shows it again. Clients send it as\n"
"    \"Authorization: Bearer TOKEN\" (ddiplane --http); every change made with\n"
"    it is journaled with actor token:NAME. NAME: 1 to 32 of a-z 0-9 - _.\n"
ROLES
"\nEXAMPLE\n    ddictl -s /run/ddiplane.sock token add ci --role dns-editor --zone example.test.\n";

const char ddictl_help_token_list[] =
"NAME\n    ddictl token list - the API tokens\n\n"
"SYNOPSIS\n    ddictl ... token list\n\n"
"DESCRIPTION\n    Name, role, zones and prefixes of every token (never the token); a\n"
"    principal scoped to zones or prefixes sees only its own.\n";

const char ddictl_help_token_remove[] =
"NAME\n    ddictl token remove - revoke an API token\n\n"
"SYNOPSIS\n    ddictl ... token remove NAME\n\n"
"DESCRIPTION\n    The token is refused (401) from the next request on; journaled.\n";

const char ddictl_help_role_add[] =
"NAME\n    ddictl role add - a scoped role for a Unix user of the control socket\n\n"
"SYNOPSIS\n    ddictl ... role add user:NAME --role ROLE [--zone ZONE]... [--prefix PREFIX]...\n\n"
"DESCRIPTION\n"
"    The user (identified by SO_PEERCRED: its uid's name) gets ROLE on the\n"
"    control socket instead of the role of the access file (ddiplane\n"
"    --access), from its next request on; it replaces the user's previous\n"
"    role. Changes are journaled with actor unix:NAME as before. uid 0\n"
"    stays admin.\n"
ROLES
"\nEXAMPLE\n    ddictl role add user:alice --role ipam-editor --prefix 198.18.1.0/24\n";

const char ddictl_help_role_list[] =
"NAME\n    ddictl role list - the Unix users given a scoped role\n\n"
"SYNOPSIS\n    ddictl ... role list\n";

const char ddictl_help_role_remove[] =
"NAME\n    ddictl role remove - take a Unix user's scoped role away\n\n"
"SYNOPSIS\n    ddictl ... role remove user:NAME\n\n"
"DESCRIPTION\n    The user falls back to the access file's role.\n";

static int usage3(const char *synopsis)
{
	fprintf(stderr, "usage: ddictl %s\n", synopsis);
	return 2;
}

/* user:NAME (or NAME) -> NAME */
static const char *user_of(const char *s)
{
	return strncmp(s, "user:", 5) == 0 ? s + 5 : s;
}

int ddictl_auth_build(struct ctl *c, int argc, char **argv, json_t **req, const char **cmd)
{
	static const struct option opts[] = {
		{ "role", required_argument, NULL, 'r' },
		{ "zone", required_argument, NULL, 'z' },
		{ "prefix", required_argument, NULL, 'p' },
		{ 0 },
	};
	bool token = strncmp(*cmd, "token-", 6) == 0;
	bool add = strstr(*cmd, "-add") != NULL, list = strstr(*cmd, "-list") != NULL;
	const char *syn = token ? (add ? "token add NAME --role ROLE [--zone Z]... [--prefix P]..."
	                          : list ? "token list" : "token remove NAME")
	                        : (add ? "role add user:NAME --role ROLE [--zone Z]... [--prefix P]..."
	                          : list ? "role list" : "role remove user:NAME");
	json_t *a = json_object();
	int o;
	(void)c;
	optind = 0;
	while ((o = getopt_long(argc, argv, "", add ? opts : opts + 3, NULL)) != -1) {
		const char *f = o == 'z' ? "zones" : o == 'p' ? "prefixes" : NULL;
		if (f) {
			json_t *arr = json_object_get(a, f);
			if (!arr)
				json_object_set_new(a, f, arr = json_array());
			json_array_append_new(arr, json_string(optarg));
		} else if (o == 'r') {
			json_object_set_new(a, "role", json_string(optarg));
		} else {
			json_decref(a);
			return usage3(syn);
		}
	}
	int npos = argc - optind;
	if (npos != (list ? 0 : 1) || (add && !json_object_get(a, "role"))) {
		json_decref(a);
		return usage3(syn);
	}
	if (!list)
		json_object_set_new(a, token ? "name" : "user",
		                    json_string(token ? argv[optind] : user_of(argv[optind])));
	*req = json_pack("{s:s, s:o}", "command", *cmd, "arguments", a);
	return 0;
}

static void print_scope(const json_t *o)
{
	size_t i;
	json_t *v;
	int n = 0;
	json_array_foreach(json_object_get(o, "zones"), i, v)
		printf("%s%s", n++ ? " " : "", json_string_value(v));
	json_array_foreach(json_object_get(o, "prefixes"), i, v)
		printf("%s%s", n++ ? " " : "", json_string_value(v));
	printf("%s\n", n ? "" : "(all)");
}

bool ddictl_auth_print(const char *cmd, const json_t *reply)
{
	const json_t *a = json_object_get(reply, "arguments");
	size_t i;
	json_t *o;
	if (strcmp(cmd, "token-add") == 0) {
		printf("%s\n", json_string_value(json_object_get(a, "token")));
		fprintf(stderr, "ddictl: token %s added (journal seq %lld); the token above is shown "
		        "only this once\n", json_string_value(json_object_get(a, "name")),
		        (long long)json_integer_value(json_object_get(a, "seq")));
		return true;
	}
	bool tl = strcmp(cmd, "token-list") == 0;
	if (!tl && strcmp(cmd, "role-list") != 0)
		return false;
	printf("%-34s %-12s %s\n", tl ? "TOKEN" : "USER", "ROLE", "SCOPE");
	json_array_foreach(json_object_get(a, tl ? "tokens" : "roles"), i, o) {
		printf("%-34s %-12s ", json_string_value(json_object_get(o, "name")),
		       json_string_value(json_object_get(o, "role")));
		print_scope(o);
	}
	return true;
}
