/* ddictl_life -- ddictl's lifecycle subcommands: zone aging, scavenge, lease sweep, stale, history, revert */
#include <getopt.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "control/ddictl/life.h"

const char ddictl_help_zone_aging[] =
"NAME\n    ddictl zone aging - aging and scavenging of a zone's dynamic records\n\n"
"SYNOPSIS\n    ddictl zone aging ZONE [--no-refresh SECONDS --refresh SECONDS [--period SECONDS]]\n"
"    ddictl zone aging ZONE --off\n\n"
"DESCRIPTION\n"
"    Off by default. Every RRset a dynamic update (RFC 2136) adds or\n"
"    refreshes carries the time of its last refresh; records written by an\n"
"    operator (record add, zone import, IPAM) carry none and are never\n"
"    scavenged. As in Windows DNS: a refresh within --no-refresh seconds of\n"
"    the last one is not recorded (so that refreshes do not rewrite the\n"
"    store); after that the client has --refresh seconds to refresh; an\n"
"    RRset refreshed neither in the no-refresh nor in the refresh interval\n"
"    may be scavenged. --period SECONDS: the server scavenges the zone that\n"
"    often (0, the default: only by 'ddictl scavenge'). A client that\n"
"    refreshes every R seconds needs no-refresh + refresh > R; Windows uses\n"
"    7 days each. Without options, shows the settings. The change is\n"
"    journaled (a note with the actor).\n";

const char ddictl_help_scavenge[] =
"NAME\n    ddictl scavenge - remove a zone's dynamic records that were not refreshed\n\n"
"SYNOPSIS\n    ddictl scavenge ZONE [--dry-run]\n\n"
"DESCRIPTION\n"
"    Removes now every dynamic RRset of ZONE whose last refresh is older\n"
"    than no-refresh + refresh (ddictl zone aging), with the dynamic IPAM\n"
"    allocations of its addresses registered to the same name (their PTRs\n"
"    go with them), in batches of 1000 RRsets, each one journaled commit\n"
"    with actor \"scavenger\". --dry-run lists what would go and changes\n"
"    nothing. Refused when aging is off for the zone.\n";

const char ddictl_help_lease_sweep[] =
"NAME\n    ddictl lease sweep - remove the records whose update lease ended\n\n"
"SYNOPSIS\n    ddictl lease sweep\n\n"
"DESCRIPTION\n"
"    What the server's lease thread does every --sweep-interval-ms: every\n"
"    RRset whose RFC 9664 lease ended goes, with the dynamic IPAM\n"
"    allocations of its addresses registered to the same name, journaled\n"
"    with actor \"lease-expiry\" in batches of 1000. Useful with --db when\n"
"    no server runs.\n";

const char ddictl_help_stale[] =
"NAME\n    ddictl stale - what in DNS and IPAM no longer matches\n\n"
"SYNOPSIS\n    ddictl stale [ZONE | PREFIX] [--within SECONDS] [--limit N]\n\n"
"DESCRIPTION\n"
"    Four lists, each cut at --limit items (default 1000):\n"
"      unallocated  A/AAAA records whose address lies in a strict or auto\n"
"                   IPAM prefix without an allocation for that name;\n"
"      unresolved   allocations whose name has no A/AAAA for the address;\n"
"      expiring     leases and scavenging deadlines within --within seconds\n"
"                   (default 3600);\n"
"      expired      leases past their time that were not removed yet (the\n"
"                   server was down, or the sweep is behind).\n"
"    ZONE limits the report to names at or below it, PREFIX (198.18.0.0/24,\n"
"    2001:2::/48) to addresses inside it.\n";

const char ddictl_help_history[] =
"NAME\n    ddictl history - every change to a name, with who made it\n\n"
"SYNOPSIS\n    ddictl history NAME\n\n"
"DESCRIPTION\n"
"    From the zone's differences (the last changes the store keeps per zone,\n"
"    see 'ddictl diff'), oldest first: the journal seq, the time, the actor,\n"
"    and per type the old values (removed, with their TTL) and the new ones\n"
"    (added). The SOA is left out (every commit advances the serial).\n";

const char ddictl_help_revert[] =
"NAME\n    ddictl revert - undo one journaled change\n\n"
"SYNOPSIS\n    ddictl revert SEQ\n\n"
"DESCRIPTION\n"
"    Applies the inverse of journal entry SEQ (what it added is removed,\n"
"    what it removed comes back, TTLs too) as a new commit journaled with\n"
"    actor \"revert:SEQ by USER\". Refused, changing nothing, when the data\n"
"    moved on since (a later change touched the same RRsets, or they no\n"
"    longer hold what SEQ left), when the zone's differences no longer go\n"
"    back to SEQ, and for changes of whole zones (import, remove) or of\n"
"    keys and policies. Serials advance; reverse zones follow by themselves.\n";

static int usage2(const char *synopsis)
{
	fprintf(stderr, "usage: ddictl %s\n", synopsis);
	return 2;
}

static const char *synopsis(const char *cmd)
{
	return strcmp(cmd, "zone-aging") == 0 ? "zone aging ZONE [--no-refresh S --refresh S "
	                                        "[--period S]] | --off"
	       : strcmp(cmd, "scavenge") == 0 ? "scavenge ZONE [--dry-run]"
	       : strcmp(cmd, "lease-sweep") == 0 ? "lease sweep"
	       : strcmp(cmd, "stale") == 0 ? "stale [ZONE|PREFIX] [--within S] [--limit N]"
	       : strcmp(cmd, "history") == 0 ? "history NAME" : "revert SEQ";
}

/* A whole non-negative number, for the JSON request. */
static bool number(const char *s, json_int_t max, json_int_t *out)
{
	char *end;
	if (!s || *s < '0' || *s > '9')
		return false;
	unsigned long long v = strtoull(s, &end, 10);
	if (*end || v > (unsigned long long)max)
		return false;
	*out = (json_int_t)v;
	return true;
}

int ddictl_life_build(struct ctl *c, int argc, char **argv, json_t **req, const char **cmd)
{
	(void)c;
	static const struct option opts[] = {
		{ "no-refresh", required_argument, NULL, 'n' },
		{ "refresh", required_argument, NULL, 'r' },
		{ "period", required_argument, NULL, 'p' },
		{ "off", no_argument, NULL, 'o' },
		{ "dry-run", no_argument, NULL, 'd' },
		{ "within", required_argument, NULL, 'w' },
		{ "limit", required_argument, NULL, 'l' },
		{ 0 },
	};
	static const char *const keys[] = { ['n'] = "no_refresh", ['r'] = "refresh",
	                                    ['p'] = "period", ['w'] = "within", ['l'] = "limit" };
	json_t *a = json_object();
	int o;
	optind = 0;
	while ((o = getopt_long(argc, argv, "", opts, NULL)) != -1) {
		json_int_t v;
		if ((o == 'n' || o == 'r' || o == 'p' || o == 'w' || o == 'l') &&
		    number(optarg, 0x7fffffff, &v)) {
			json_object_set_new(a, keys[o], json_integer(v));
		} else if (o == 'o' || o == 'd') {
			json_object_set_new(a, o == 'o' ? "off" : "dry_run", json_true());
		} else {
			if (o == 'n' || o == 'r' || o == 'p' || o == 'w' || o == 'l')
				fprintf(stderr, "ddictl: '%s' is not a whole number of seconds or items\n",
				        optarg);
			json_decref(a);
			return usage2(synopsis(*cmd));
		}
	}
	int npos = argc - optind;
	const char *arg = npos == 1 ? argv[optind] : NULL;
	bool ok = strcmp(*cmd, "lease-sweep") == 0 ? npos == 0
	          : strcmp(*cmd, "stale") == 0 ? npos <= 1 : npos == 1;
	if (!ok) {
		json_decref(a);
		return usage2(synopsis(*cmd));
	}
	if (strcmp(*cmd, "revert") == 0) {
		json_int_t seq;
		if (!number(arg, INT64_MAX, &seq) || seq < 1) {
			json_decref(a);
			fprintf(stderr, "ddictl: '%s' is not a journal sequence\n", arg);
			return 2;
		}
		json_object_set_new(a, "seq", json_integer(seq));
	} else if (strcmp(*cmd, "history") == 0) {
		json_object_set_new(a, "name", json_string(arg));
	} else if (strcmp(*cmd, "stale") == 0 && arg) {
		/* a prefix has a '/' or a ':' or is all digits and dots; anything else is a zone */
		bool pfx = strchr(arg, '/') != NULL || strchr(arg, ':') != NULL;
		json_object_set_new(a, pfx ? "prefix" : "zone", json_string(arg));
	} else if (arg) {
		json_object_set_new(a, "zone", json_string(arg));
	}
	*req = json_pack("{s:s, s:o}", "command", *cmd, "arguments", a);
	return 0;
}

static const char *jstr(const json_t *o, const char *k)
{
	const char *s = json_string_value(json_object_get(o, k));
	return s ? s : "";
}

static long long jint(const json_t *o, const char *k)
{
	return (long long)json_integer_value(json_object_get(o, k));
}

static void when(char *buf, size_t len, long long ns)
{
	time_t t = (time_t)(ns / 1000000000);
	struct tm tm;
	if (!gmtime_r(&t, &tm) || !strftime(buf, len, "%Y-%m-%dT%H:%M:%SZ", &tm))
		snprintf(buf, len, "%lld", ns);
}

static void print_values(const char *mark, const json_t *v)
{
	size_t i;
	json_t *r;
	if (json_is_null(v) || !v)
		return;
	json_array_foreach(json_object_get(v, "rdata"), i, r)
		printf("      %s %lld %s\n", mark, jint(v, "ttl"), json_string_value(r));
}

static void print_history(const json_t *a)
{
	size_t i, j;
	json_t *e, *ch;
	char tb[64];
	json_array_foreach(json_object_get(a, "changes"), i, e) {
		when(tb, sizeof(tb), jint(e, "time"));
		printf("seq %lld  %s  %s\n", jint(e, "seq"), tb, jstr(e, "actor"));
		json_array_foreach(json_object_get(e, "changes"), j, ch) {
			printf("    %s\n", jstr(ch, "type"));
			print_values("old", json_object_get(ch, "old"));
			print_values("new", json_object_get(ch, "new"));
		}
	}
}

static void print_stale(const json_t *a)
{
	static const char *const lists[] = { "unallocated", "unresolved", "expiring", "expired" };
	for (size_t l = 0; l < 4; l++) {
		const json_t *arr = json_object_get(a, lists[l]);
		size_t i;
		json_t *x;
		char tk[32];
		snprintf(tk, sizeof(tk), "%s_truncated", lists[l]);
		printf("%s: %zu%s\n", lists[l], json_array_size(arr),
		       json_is_true(json_object_get(a, tk)) ? " (truncated: --limit)" : "");
		json_array_foreach(arr, i, x) {
			if (l == 0)
				printf("    %-40s %-39s %s (%s %s)\n", jstr(x, "name"), jstr(x, "address"),
				       jstr(x, "why"), jstr(x, "prefix"), jstr(x, "policy"));
			else if (l == 1)
				printf("    %-39s %-40s %s\n", jstr(x, "address"), jstr(x, "name"),
				       jstr(x, "state"));
			else
				printf("    %-40s %-6s %-10s %s %llds\n", jstr(x, "name"), jstr(x, "type"),
				       jstr(x, "why"), l == 2 ? "in" : "overdue by",
				       l == 2 ? jint(x, "in") : -jint(x, "in"));
		}
	}
}

bool ddictl_life_print(const char *cmd, const json_t *reply)
{
	const json_t *a = json_object_get(reply, "arguments");
	const char *text = jstr(reply, "text");
	if (strcmp(cmd, "history") == 0) {
		print_history(a);
		if (!json_array_size(json_object_get(a, "changes")))
			printf("%s\n", text);
	} else if (strcmp(cmd, "stale") == 0) {
		print_stale(a);
	} else if (strcmp(cmd, "scavenge") == 0) {
		size_t i;
		json_t *x;
		char tb[64];
		json_array_foreach(json_object_get(a, "rrsets"), i, x) {
			when(tb, sizeof(tb), jint(x, "refreshed"));
			printf("%-40s %-6s refreshed %s\n", jstr(x, "name"), jstr(x, "type"), tb);
		}
		printf("%s\n", text);
	} else if (strcmp(cmd, "zone-aging") == 0 && json_is_true(json_object_get(a, "enabled"))) {
		printf("no-refresh %llds refresh %llds period %llds\n", jint(a, "no_refresh"),
		       jint(a, "refresh"), jint(a, "period"));
	} else if (strcmp(cmd, "revert") == 0 || strcmp(cmd, "lease-sweep") == 0 ||
	           strcmp(cmd, "zone-aging") == 0) {
		printf("%s\n", text);
	} else {
		return false;
	}
	return true;
}
