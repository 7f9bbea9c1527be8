/* ddictl -- the operator's command line: a running server's control socket, or a store directly */
#include <errno.h>
#include <getopt.h>
#include <inttypes.h>
#include <poll.h>
#include <pwd.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <time.h>
#include <unistd.h>

#include <jansson.h>

#include "control/mgmt/commands.h"
#include "control/ddictl/ddns.h"
#include "control/ddictl/ipam.h"
#include "control/ddictl/auth.h"
#include "control/ddictl/xfr.h"
#include "control/ddictl/life.h"
#include "control/store/store.h"
#include "dns/errcode.h"

/*
 * Every subcommand is turned into one JSON request of control/mgmt/commands.h.
 * With -s the request goes to the server's control socket; with --db it is
 * executed here, by the same code, against the store. The reply is printed
 * as a table (or master-file lines) by default, as JSON with --json.
 */

enum { EXIT_OK = 0, EXIT_ERR = 1, EXIT_USAGE = 2 };

#define IMPORT_MAX ((size_t)16 << 20)   /* the control socket's request limit */

struct ctl {
	const char *db;
	const char *sock;
	size_t map_size;
	unsigned timeout_ms;
	bool json;
	char actor[300];
};

/* ------------------------------------------------------------------------ */
/* Help texts                                                               */
/* ------------------------------------------------------------------------ */

static const char help_main[] =
"NAME\n"
"    ddictl - manage a ddiplane server or store: zones, records, journal, stats\n"
"\n"
"SYNOPSIS\n"
"    ddictl (-s SOCKET | --db DIR) [--json] COMMAND [ARGS...]\n"
"    ddictl COMMAND --help\n"
"\n"
"DESCRIPTION\n"
"    With -s SOCKET, ddictl sends each command as one JSON request to a\n"
"    running ddiplane's control socket ({\"command\": ..., \"arguments\": {...}},\n"
"    answered by {\"result\": 0|1|2|3, \"text\": ..., \"arguments\": {...}}, the\n"
"    shape of ISC Kea's control channel). The server knows who asks\n"
"    (SO_PEERCRED): read-only peers may read, admins may change.\n"
"\n"
"    With --db DIR, ddictl executes the same command code directly against\n"
"    the LMDB store, with or without a server running on it: a running\n"
"    server follows the store's journal and serves the change within a few\n"
"    milliseconds.\n"
"\n"
"    Every change is one transaction holding the data and a journal entry\n"
"    (sequence, time, actor \"unix:USER\", what changed, the SOA serial\n"
"    advance): it lands whole or not at all, and it is acknowledged only\n"
"    once committed. Through the socket, the reply also waits until the\n"
"    server publishes the change (\"published\": true), so that a query sent\n"
"    afterwards sees it.\n"
"\n"
"COMMANDS\n"
"    status                     version, uptime, workers, generation, journal seq\n"
"    stats                      per-lcore and total packet counters (server)\n"
"    zone list                  the zones with serial and sizes\n"
"    zone add ORIGIN [--soa SOA] [--ns NAME]... [--ttl TTL]\n"
"    zone remove ORIGIN\n"
"    zone import ORIGIN FILE    replace the zone's content with a master file\n"
"    zone export ORIGIN         print the zone as a master file, SOA first\n"
"    zone add ORIGIN --primary ADDR[@PORT]... [--key KEY]   a secondary zone\n"
"    zone refresh ORIGIN [--force]   ask a secondary zone's primary now\n"
"    zone acl ZONE [--transfer P]... [--transfer-key K]... [--notify A]...\n"
"             [--notify-key K] [--catalog] | --clear\n"
"                               who may transfer the zone, whom to NOTIFY\n"
"    diff ZONE [SERIAL]         the zone's differences, as IXFR serves them\n"
"    catalog add ORIGIN --primary ADDR[@PORT]... [--key KEY]\n"
"    catalog remove ORIGIN      the catalog zone and the zones it added\n"
"    catalog list               the catalog zones followed, their members\n"
"    record add NAME TTL TYPE RDATA...\n"
"    record delete NAME [TYPE [RDATA...]]\n"
"    record replace NAME TTL TYPE RDATA... [--rdata RDATA]...\n"
"    record get NAME [TYPE]\n"
"    record list ZONE [--type TYPE] [--name SUFFIX] [--limit N]\n"
"    journal [--since SEQ] [--limit N] [--actor A] [--zone Z] [--name N]\n"
"    backup DIR                 a consistent compacted copy of the store\n"
"    restore BACKUP [--replace] put a checked backup in place of --db DIR\n"
"    shutdown                   stop the server\n"
"    reload                     re-read the configuration: log settings, access file\n"
"    send JSON                  send one raw request, print the raw reply\n"
"    key add NAME [--algorithm ALG] [--secret B64|-]\n"
"                                     a TSIG key; prints ALG:NAME:SECRET once\n"
"    key list | key remove NAME\n"
"    policy add KEY grant|deny self|name|subdomain|pattern NAME [TYPE...]\n"
"               [--prefix PREFIX...] [--source PREFIX...] [--ttl-min N]\n"
"               [--ttl-max N] [--ttl-over clamp|refuse] [--ttl-default N]\n"
"               [--lease-min SECONDS] [--lease-max SECONDS]\n"
"    policy list [KEY] | policy remove KEY INDEX\n"
"    prefix add PREFIX [--zone ZONE] [--policy strict|auto|off] [--description TEXT]\n"
"    prefix list | prefix tree [PREFIX] | prefix show PREFIX\n"
"    prefix edit PREFIX [--tenant T] [--tag TAG]... [--field KEY=VALUE]... [...]\n"
"    prefix remove PREFIX [--release]\n"
"    range add FIRST LAST [--dynamic] | range list [PREFIX]\n"
"    range edit FIRST LAST [--new-first IP] [--new-last IP] | range remove FIRST LAST\n"
"    alloc next PREFIX NAME [--mac MAC] [--no-dns] | alloc address IP NAME\n"
"    alloc reserve IP [--note TEXT] | alloc list PREFIX [--after IP] [--limit N]\n"
"    alloc edit IP [--name NAME] [--tag TAG]... [--field KEY=VALUE]...\n"
"    alloc prefix PARENT LENGTH [--description TEXT]\n"
"    release IP | address show IP | utilization PREFIX | conflicts\n"
"    ipam import FILE.csv | ipam export    NetBox-style CSV, all or nothing\n"
"    zone aging ZONE --no-refresh S --refresh S [--period S] | --off\n"
"    scavenge ZONE [--dry-run]  remove dynamic records not refreshed in time\n"
"    lease sweep                remove records whose update lease ended\n"
"    stale [ZONE|PREFIX]        records without allocations, and the reverse; leases\n"
"    history NAME               every change to a name: actor, time, old and new\n"
"    revert SEQ                 undo one journal entry (refused if the data moved on)\n"
"    token add NAME --role ROLE [--zone Z]... [--prefix P]...   an HTTP API token, once\n"
"    token list | token remove NAME\n"
"    role add user:NAME --role ROLE [--zone Z]... [--prefix P]...   a socket user's role\n"
"    role list | role remove user:NAME\n"
"\n"
"OPTIONS\n"
"    -s, --socket PATH   the server's control socket\n"
"    --db DIR            the store directory (LMDB environment)\n"
"    --json              print the JSON reply instead of tables\n"
"    --timeout MS        how long to wait for the server (default 30000)\n"
"    --map-size BYTES    LMDB map size with --db (default 8 GiB, sparse)\n"
"    -h, --help          this text; after a command, that command's help\n"
"    -V, --version       print the version\n"
"\n"
"    Names are absolute (\"www.example.com.\"; a missing final dot is added).\n"
"    RDATA is written as in a master file; an argument holding spaces is one\n"
"    quoted string (TXT \"hello world\").\n"
"\n"
"EXIT STATUS\n"
"    0 success (result 0, or 3: nothing found), 1 error (the message says\n"
"    why; nothing was changed), 2 usage error.\n"
"\n"
"EXAMPLES\n"
"    ddictl -s /run/ddiplane.sock record add www.example.com. 300 A 198.18.0.10\n"
"    ddictl -s /run/ddiplane.sock record get www.example.com.\n"
"    ddictl --db /var/lib/ddiplane zone import example.com. example.com.zone\n"
"    ddictl -s /run/ddiplane.sock journal --actor unix:alice --zone example.com.\n"
"    ddictl -s /run/ddiplane.sock --json stats\n";

struct sub {
	const char *group, *name;    /* "zone", "add"; name NULL for one-word commands */
	const char *help;
	int (*build)(struct ctl *c, int argc, char **argv, json_t **req, const char **cmd);
};

static const char help_status[] =
"NAME\n    ddictl status - what the server is doing\n\n"
"SYNOPSIS\n    ddictl -s SOCKET [--json] status\n\n"
"DESCRIPTION\n"
"    Version, process id, uptime (seconds), worker lcores, ports, the\n"
"    generation and journal sequence of the published index version, the\n"
"    number of versions published, and the store's last journal sequence\n"
"    (the difference is the journal lag). With --db: version and store_seq.\n";

static const char help_stats[] =
"NAME\n    ddictl stats - packet counters of the running server\n\n"
"SYNOPSIS\n    ddictl -s SOCKET [--json] stats\n\n"
"DESCRIPTION\n"
"    One row per packet outcome that happened (noerror, nxdomain, ...,\n"
"    malformed_*, tx_dropped, rx, tx), one column per lcore and the total;\n"
"    then the TCP server's and the control thread's counters.\n";

static const char help_zlist[] =
"NAME\n    ddictl zone list - list the zones\n\n"
"SYNOPSIS\n    ddictl (-s SOCKET | --db DIR) [--json] zone list\n\n"
"DESCRIPTION\n"
"    One line per zone in canonical order: apex, SOA serial, number of\n"
"    RRsets and of records, creation time (UTC).\n";

static const char help_zadd[] =
"NAME\n    ddictl zone add - create a zone\n\n"
"SYNOPSIS\n"
"    ddictl ... zone add ORIGIN [--soa \"MNAME RNAME SERIAL REFRESH RETRY EXPIRE MINIMUM\"]\n"
"                               [--ns NAME]... [--ttl TTL]\n"
"    ddictl ... zone add ORIGIN --primary ADDR[@PORT] [--primary ...] [--key NAME]\n\n"
"DESCRIPTION\n"
"    With --primary: a secondary zone that follows its primaries by zone\n"
"    transfer (SOA refresh, NOTIFY, IXFR with AXFR fallback, TSIG with the\n"
"    store's key NAME when given). It is empty (SERVFAIL) until the first\n"
"    transfer; records and dynamic updates are refused on it.\n"
"    Otherwise: creates the zone with its SOA and NS records in one transaction.\n"
"    Names in --soa and --ns are absolute like every name on the command\n"
"    line (a missing final dot is added: --ns ns1.example.com is\n"
"    ns1.example.com.). Without --soa the SOA is \"MNAME hostmaster.ORIGIN\n"
"    1 3600 900 1209600 300\", MNAME being the first --ns or ns1.ORIGIN.\n"
"    Refused when the zone exists or when the enclosing zone holds names at\n"
"    or below ORIGIN.\n";

static const char help_zremove[] =
"NAME\n    ddictl zone remove - delete a zone\n\n"
"SYNOPSIS\n    ddictl ... zone remove ORIGIN\n\n"
"DESCRIPTION\n"
"    Deletes the zone and every record of it in one transaction. Zones\n"
"    below it are not touched.\n";

static const char help_zimport[] =
"NAME\n    ddictl zone import - replace a zone's content with a master file\n\n"
"SYNOPSIS\n    ddictl ... zone import ORIGIN FILE\n\n"
"DESCRIPTION\n"
"    ddictl reads FILE (RFC 1035 master format; $ORIGIN, $TTL, parentheses,\n"
"    TTL units; $INCLUDE is refused; at most 16 MiB) and sends its text; the\n"
"    initial origin is ORIGIN. Every record must be at or below ORIGIN, the\n"
"    file must hold exactly one SOA, at ORIGIN, and a CNAME must stand alone\n"
"    at its name. The zone is created if it does not exist. Its whole\n"
"    content is replaced in one transaction: on any error (syntax, reported\n"
"    as FILE:LINE, or validation) the previous content stays as it was.\n"
"    The file's SOA serial is kept when it is newer than the stored one;\n"
"    otherwise the stored serial + 1 is used, so secondaries see the change.\n";

static const char help_zexport[] =
"NAME\n    ddictl zone export - print a zone as a master file\n\n"
"SYNOPSIS\n    ddictl ... [--json] zone export ORIGIN\n\n"
"DESCRIPTION\n"
"    Every record of the zone, one per line as \"owner TTL IN TYPE rdata\"\n"
"    with absolute names: the SOA first, then DNS canonical order (RFC 4034\n"
"    6.1). Names of zones below ORIGIN are left out. The output can be\n"
"    imported again as it is. With --json: \"records\", an array of {\"name\",\n"
"    \"ttl\", \"type\", \"rdata\"}, and \"text\", the master file.\n";

static const char help_radd[] =
"NAME\n    ddictl record add - add one record\n\n"
"SYNOPSIS\n    ddictl ... record add NAME TTL TYPE RDATA...\n\n"
"DESCRIPTION\n"
"    Adds the record to the zone that holds NAME (the deepest zone at or\n"
"    above it). A record already present is kept once. The whole RRset takes\n"
"    TTL (RFC 2181 5.2). An SOA replaces the zone's SOA. The zone's serial\n"
"    advances by one (RFC 1982), unless the record is the SOA.\n\n"
"EXAMPLES\n"
"    ddictl -s SOCK record add www.example.com. 300 A 198.18.0.10\n"
"    ddictl -s SOCK record add example.com. 3600 MX 10 mail.example.com.\n"
"    ddictl -s SOCK record add example.com. 300 TXT \"v=spf1 -all\"\n";

static const char help_rdel[] =
"NAME\n    ddictl record delete - delete records\n\n"
"SYNOPSIS\n    ddictl ... record delete NAME [TYPE [RDATA...]]\n\n"
"DESCRIPTION\n"
"    Without TYPE: every record of NAME. With TYPE: the RRset. With RDATA:\n"
"    that one record. Deleting what does not exist is an error. The zone's\n"
"    SOA cannot be deleted (remove the zone instead).\n";

static const char help_rrep[] =
"NAME\n    ddictl record replace - replace an RRset\n\n"
"SYNOPSIS\n    ddictl ... record replace NAME TTL TYPE RDATA... [--rdata RDATA]...\n\n"
"DESCRIPTION\n"
"    The RRset (NAME, TYPE) becomes exactly the records given: RDATA... is\n"
"    the first one, each --rdata \"RDATA\" one more. In one transaction, so a\n"
"    query sees the old RRset or the new one, never a mix.\n\n"
"EXAMPLES\n"
"    ddictl -s SOCK record replace www.example.com. 300 A 198.18.0.11\n"
"    ddictl -s SOCK record replace t.example.com. 60 TXT \"gen 2\" --rdata '\"gen 2 b\"'\n";

static const char help_rget[] =
"NAME\n    ddictl record get - print the records of a name\n\n"
"SYNOPSIS\n    ddictl ... [--json] record get NAME [TYPE]\n\n"
"DESCRIPTION\n"
"    NAME's records (all types, or TYPE) as master-file lines; with --json\n"
"    \"records\", an array of {\"name\", \"ttl\", \"type\", \"rdata\"}. Nothing\n"
"    found is result 3 and exit status 1.\n";

static const char help_rlist[] =
"NAME\n    ddictl record list - list a zone's records, with filters\n\n"
"SYNOPSIS\n    ddictl ... [--json] record list ZONE [--type TYPE] [--name SUFFIX] [--limit N]\n\n"
"DESCRIPTION\n"
"    The zone's records in canonical order; --type keeps one type, --name\n"
"    the owners at or below SUFFIX, --limit the first N records.\n";

static const char help_journal[] =
"NAME\n    ddictl journal - who changed what, when\n\n"
"SYNOPSIS\n"
"    ddictl ... [--json] journal [--since SEQ] [--limit N] [--actor ACTOR]\n"
"                               [--zone ZONE] [--name NAME]\n\n"
"DESCRIPTION\n"
"    Every change of the store is one journal entry: sequence, time (UTC),\n"
"    actor (\"unix:USER\", \"uid:N\"; later \"tsig:KEY\") and for each op the\n"
"    zone, owner, type and RR count before -> after (\"serial\" lines show the\n"
"    SOA serial advance).\n\n"
"OPTIONS\n"
"    --since SEQ     start at entry SEQ (inclusive; default 1)\n"
"    --limit N       at most N entries\n"
"    --actor ACTOR   only entries of this actor\n"
"    --zone ZONE     only entries touching this zone\n"
"    --name NAME     only entries touching this owner name\n";

static const char help_backup[] =
"NAME\n    ddictl backup - copy the store, consistent and compacted\n\n"
"SYNOPSIS\n    ddictl ... backup DIR\n\n"
"DESCRIPTION\n"
"    Writes a copy of the LMDB environment into DIR (created if missing; it\n"
"    must not hold a store yet) with mdb_env_copy2(MDB_CP_COMPACT): one read\n"
"    transaction, so the copy is one committed state; writers go on. Through\n"
"    the socket, DIR is a path on the server's machine, written by the\n"
"    server's user. Start a server on the copy with --db DIR.\n";

static const char help_restore[] =
"NAME\n    ddictl restore - put a backup in place of a store, checked\n\n"
"SYNOPSIS\n    ddictl --db DIR restore BACKUP [--replace]\n\n"
"DESCRIPTION\n"
"    Reads the store in BACKUP (made by \"ddictl backup\") whole, as the\n"
"    server would: every journal entry parses and the sequences grow, every\n"
"    zone's records validate, every key and policy has its shape. A backup\n"
"    that does not check is refused and nothing changes. Then a compacted\n"
"    copy is made next to DIR, checked again, and renamed to DIR.\n"
"\n"
"    DIR may not exist yet. A DIR that holds a store is replaced only with\n"
"    --replace, and never while a server runs on it (each server claims its\n"
"    store with a lock on DIR/server.lock): stop the server first, restore,\n"
"    start it again. The replaced store is kept as DIR.replaced-TIME.\n"
"\n"
"    Only with --db: a restore never goes through a server's socket.\n"
"\n"
"PROCEDURE\n"
"    ddictl -s SOCK backup /var/backups/ddiplane/$(date +%F)   # while serving\n"
"    systemctl stop ddiplane\n"
"    ddictl --db /var/lib/ddiplane restore /var/backups/ddiplane/2026-12-01 --replace\n"
"    systemctl start ddiplane\n"
"\n"
"EXIT STATUS\n"
"    0 restored; 1 refused (the message says why); 2 usage.\n";

static int usage(const char *fmt, ...) __attribute__((format(printf, 1, 2)));

/* restore: the store's own procedure, never through a server (control/store/store.h) */
static int do_restore(const struct ctl *c, int argc, char **argv)
{
	const char *backup = NULL;
	bool replace = false;
	for (int i = 1; i < argc; i++) {
		if (strcmp(argv[i], "--replace") == 0)
			replace = true;
		else if (argv[i][0] == '-' || backup)
			return usage("restore takes BACKUP [--replace], not '%s'", argv[i]);
		else
			backup = argv[i];
	}
	if (!backup)
		return usage("restore takes BACKUP: the directory a backup was written to");
	if (!c->db || c->sock)
		return usage("restore works on a store directory: give --db DIR (not -s SOCKET)");
	struct store_check chk;
	struct store_error e;
	char moved[4096];
	if (store_restore(backup, c->db, replace, &chk, moved, sizeof(moved), &e) != DDI_EOK) {
		fprintf(stderr, "ddictl: restore refused: %s\n", e.msg);
		return EXIT_ERR;
	}
	if (c->json) {
		json_t *o = json_pack("{s:s, s:s, s:I, s:I, s:I, s:I, s:I, s:I, s:I, s:I, s:I, s:I, "
		                      "s:s?}", "restored",
		                      c->db, "from", backup, "seq", (json_int_t)chk.last_seq,
		                      "journal_entries", (json_int_t)chk.entries, "zones",
		                      (json_int_t)chk.zones, "rrsets", (json_int_t)chk.rrsets, "records",
		                      (json_int_t)chk.rrs, "keys", (json_int_t)chk.keys, "policies",
		                      (json_int_t)chk.policies, "differences", (json_int_t)chk.diffs,
		                      "prefixes", (json_int_t)chk.prefixes, "allocations",
		                      (json_int_t)chk.allocations, "replaced", moved[0] ? moved : NULL);
		json_dumpf(o, stdout, JSON_INDENT(2));
		fputc('\n', stdout);
		json_decref(o);
	} else {
		printf("restored %s from %s: journal seq %" PRIu64 " (%" PRIu64 " entries), %" PRIu64
		       " zones, %" PRIu64 " records, %" PRIu64 " keys, %" PRIu64 " policies, %" PRIu64
		       " differences, %" PRIu64 " IPAM prefixes, %" PRIu64 " allocations\n",
		       c->db, backup, chk.last_seq, chk.entries, chk.zones, chk.rrs, chk.keys,
		       chk.policies, chk.diffs, chk.prefixes, chk.allocations);
		if (moved[0])
			printf("the replaced store is kept in %s\n", moved);
	}
	return EXIT_OK;
}

static const char help_shutdown[] =
"NAME\n    ddictl shutdown - stop the server\n\n"
"SYNOPSIS\n    ddictl -s SOCKET shutdown\n\n"
"DESCRIPTION\n"
"    The server stops as on SIGTERM: workers, ports, tap, store; exit 0.\n";

static const char help_reload[] =
"NAME\n    ddictl reload - re-read the server's configuration\n\n"
"SYNOPSIS\n    ddictl -s SOCKET reload\n\n"
"DESCRIPTION\n"
"    The server parses its command line again with the configuration file\n"
"    it names (--config, else /etc/ddiplane/ddiplane.conf), as SIGHUP does,\n"
"    and applies what can change while it runs: the log target and levels\n"
"    (--log, --log-level), the control socket's access file (--access;\n"
"    for every peer that connects afterwards), and the rate and slip of a\n"
"    rate limiter that runs (--rrl-rate, --rrl-slip; each worker takes them\n"
"    at its next burst), and the cookie secrets of --cookie-secret-file\n"
"    (a new first secret becomes current, the one before stays accepted).\n"
"    A file that does not parse\n"
"    is refused with its line and nothing changes. Settings that only a\n"
"    restart applies (ports, addresses, TCP limits, RRL, cookies, ...) are\n"
"    listed as \"restart needed\" and keep their values. Transfer ACLs and\n"
"    NOTIFY targets live in the store: they change without any reload.\n";

static const char help_send[] =
"NAME\n    ddictl send - send one raw JSON request\n\n"
"SYNOPSIS\n    ddictl (-s SOCKET | --db DIR) send JSON\n\n"
"DESCRIPTION\n"
"    JSON is sent as it is (with --db it is parsed and executed); the reply\n"
"    is printed as it is. For scripts and tests of the protocol.\n";

/* ------------------------------------------------------------------------ */
/* Helpers                                                                  */
/* ------------------------------------------------------------------------ */

static int usage(const char *fmt, ...) __attribute__((format(printf, 1, 2)));

static int usage(const char *fmt, ...)
{
	va_list ap;
	fprintf(stderr, "ddictl: ");
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fprintf(stderr, "\nTry 'ddictl --help'.\n");
	return EXIT_USAGE;
}

static bool parse_u64(const char *s, uint64_t *v)
{
	char *end;
	if (!s[0] || s[0] == '-')
		return false;
	errno = 0;
	unsigned long long x = strtoull(s, &end, 10);
	if (errno || *end)
		return false;
	*v = x;
	return true;
}

/* argv[0] is the subcommand; skip it and a leading "--". */
static int positional(int *argc, char ***argv)
{
	(*argc)--;
	(*argv)++;
	if (*argc > 0 && strcmp((*argv)[0], "--") == 0) {
		(*argc)--;
		(*argv)++;
	}
	return *argc;
}

static json_t *tokens(char **argv, int n)
{
	json_t *a = json_array();
	for (int i = 0; a && i < n; i++)
		json_array_append_new(a, json_string(argv[i]));
	return a;
}

static json_t *request(const char *cmd, json_t *args)
{
	return json_pack("{s:s, s:o}", "command", cmd, "arguments", args ? args : json_object());
}

/* ------------------------------------------------------------------------ */
/* Building requests from the command line                                  */
/* ------------------------------------------------------------------------ */

static int b_status(struct ctl *c, int argc, char **argv, json_t **req, const char **cmd)
{
	(void)c;
	(void)argv;
	if (positional(&argc, &argv) != 0)
		return usage("%s takes no arguments", *cmd);
	*req = request(*cmd, NULL);
	return EXIT_OK;
}

static int b_zone_one(struct ctl *c, int argc, char **argv, json_t **req, const char **cmd)
{
	(void)c;
	if (positional(&argc, &argv) != 1)
		return usage("%s takes ORIGIN", *cmd);
	*req = request(*cmd, json_pack("{s:s}", "zone", argv[0]));
	return EXIT_OK;
}

static const char help_zrefresh[] =
"NAME\n    ddictl zone refresh - refresh a secondary zone now\n\n"
"SYNOPSIS\n    ddictl -s SOCKET zone refresh ORIGIN [--force]\n\n"
"DESCRIPTION\n"
"    Asks the primaries for the SOA now and transfers when newer (IXFR, AXFR\n"
"    fallback); with --force, transfers the whole zone (AXFR) without asking.\n";

static int b_zone_refresh(struct ctl *c, int argc, char **argv, json_t **req, const char **cmd)
{
	bool force = false;
	(void)c;
	for (int i = 1; i < argc; i++)
		if (strcmp(argv[i], "--force") == 0) {
			force = true;
			memmove(argv + i, argv + i + 1, (size_t)(argc - i - 1) * sizeof(*argv));
			argc--;
			i--;
		}
	if (positional(&argc, &argv) != 1)
		return usage("%s takes ORIGIN [--force]", *cmd);
	*req = request(*cmd, json_pack("{s:s, s:b}", "zone", argv[0], "force", force));
	return EXIT_OK;
}

static int b_zone_add(struct ctl *c, int argc, char **argv, json_t **req, const char **cmd)
{
	static const struct option opts[] = {
		{ "soa", required_argument, NULL, 'S' },
		{ "ns", required_argument, NULL, 'n' },
		{ "ttl", required_argument, NULL, 't' },
		{ "primary", required_argument, NULL, 'p' },
		{ "key", required_argument, NULL, 'k' },
		{ 0 },
	};
	json_t *a = json_object(), *ns = json_array();
	json_t *prim = NULL;
	uint64_t ttl;
	int o;
	(void)c;
	optind = 0;
	while ((o = getopt_long(argc, argv, "", opts, NULL)) != -1) {
		switch (o) {
		case 'S':
			json_object_set_new(a, "soa", json_string(optarg));
			break;
		case 'n':
			json_array_append_new(ns, json_string(optarg));
			break;
		case 'p':
			if (!prim)
				json_object_set_new(a, "primaries", prim = json_array());
			json_array_append_new(prim, json_string(optarg));
			break;
		case 'k':
			json_object_set_new(a, "key", json_string(optarg));
			break;
		case 't':
			if (!parse_u64(optarg, &ttl)) {
				json_decref(a);
				json_decref(ns);
				return usage("--ttl wants a number of seconds, not '%s'", optarg);
			}
			json_object_set_new(a, "ttl", json_integer((json_int_t)ttl));
			break;
		default:
			json_decref(a);
			json_decref(ns);
			return usage("zone add: bad option");
		}
	}
	if (argc - optind != 1) {
		json_decref(a);
		json_decref(ns);
		return usage("zone add takes ORIGIN [--soa SOA] [--ns NAME]... [--ttl TTL]");
	}
	json_object_set_new(a, "zone", json_string(argv[optind]));
	json_object_set_new(a, "ns", ns);
	*req = request(*cmd, a);
	return EXIT_OK;
}

static int b_zone_import(struct ctl *c, int argc, char **argv, json_t **req, const char **cmd)
{
	(void)c;
	if (positional(&argc, &argv) != 2)
		return usage("zone import takes ORIGIN FILE");
	FILE *f = fopen(argv[1], "r");
	if (!f) {
		fprintf(stderr, "ddictl: %s: %s\n", argv[1], strerror(errno));
		return EXIT_ERR;
	}
	char *buf = malloc(IMPORT_MAX + 1);
	size_t n = buf ? fread(buf, 1, IMPORT_MAX + 1, f) : 0;
	bool bad = ferror(f);
	fclose(f);
	if (!buf || bad || n > IMPORT_MAX) {
		free(buf);
		fprintf(stderr, "ddictl: %s: %s\n", argv[1], !buf ? "out of memory" : bad ?
		        "read error" : "larger than 16 MiB: import it with --db");
		return EXIT_ERR;
	}
	json_t *text = json_stringn(buf, n);
	free(buf);
	if (!text) {
		fprintf(stderr, "ddictl: %s is not UTF-8 text\n", argv[1]);
		return EXIT_ERR;
	}
	*req = request(*cmd, json_pack("{s:s, s:o, s:s}", "zone", argv[0], "text", text,
	                               "filename", argv[1]));
	return EXIT_OK;
}

static int b_record_add(struct ctl *c, int argc, char **argv, json_t **req, const char **cmd)
{
	static const struct option opts[] = {
		{ "rdata", required_argument, NULL, 'r' },
		{ 0 },
	};
	json_t *more = json_array();
	int o;
	(void)c;
	/* optind 0: a fresh (permuting) scan, --rdata may follow the positionals */
	optind = 0;
	while (strcmp(*cmd, "record-replace") == 0 &&
	       (o = getopt_long(argc, argv, "", opts, NULL)) != -1) {
		if (o != 'r') {
			json_decref(more);
			return usage("record replace: bad option");
		}
		json_array_append_new(more, json_string(optarg));
	}
	if (strcmp(*cmd, "record-replace") == 0) {
		argc -= optind - 1;
		argv += optind - 1;
	}
	if (positional(&argc, &argv) < 4) {
		json_decref(more);
		return usage("%s takes NAME TTL TYPE RDATA...", *cmd);
	}
	json_t *a = json_pack("{s:s, s:s, s:s}", "name", argv[0], "ttl", argv[1], "type", argv[2]);
	if (json_array_size(more) == 0) {
		json_object_set_new(a, "rdata", tokens(argv + 3, argc - 3));
		json_decref(more);
	} else {
		json_array_insert_new(more, 0, tokens(argv + 3, argc - 3));
		json_object_set_new(a, "rdatas", more);
	}
	*req = request(*cmd, a);
	return EXIT_OK;
}

static int b_record_delete(struct ctl *c, int argc, char **argv, json_t **req, const char **cmd)
{
	(void)c;
	if (positional(&argc, &argv) < 1)
		return usage("record delete takes NAME [TYPE [RDATA...]]");
	json_t *a = json_pack("{s:s}", "name", argv[0]);
	if (argc >= 2)
		json_object_set_new(a, "type", json_string(argv[1]));
	if (argc >= 3)
		json_object_set_new(a, "rdata", tokens(argv + 2, argc - 2));
	*req = request(*cmd, a);
	return EXIT_OK;
}

static int b_record_get(struct ctl *c, int argc, char **argv, json_t **req, const char **cmd)
{
	(void)c;
	if (positional(&argc, &argv) < 1 || argc > 2)
		return usage("record get takes NAME [TYPE]");
	json_t *a = json_pack("{s:s}", "name", argv[0]);
	if (argc == 2)
		json_object_set_new(a, "type", json_string(argv[1]));
	*req = request(*cmd, a);
	return EXIT_OK;
}

/* Options of the form --key VALUE into arguments; numeric keys as integers. */
static int opts_to_args(int argc, char **argv, const char *const *keys, const char *const *nums,
                        json_t *a, int *first_pos)
{
	int i = 1;
	for (; i < argc; i++) {
		if (strcmp(argv[i], "--") == 0) {
			i++;
			break;
		}
		if (strncmp(argv[i], "--", 2) != 0)
			break;
		const char *k = argv[i] + 2;
		bool known = false, num = false;
		for (const char *const *p = keys; *p; p++)
			known = known || strcmp(*p, k) == 0;
		for (const char *const *p = nums; *p; p++)
			num = num || strcmp(*p, k) == 0;
		if (!known && !num)
			return usage("unknown option '%s'", argv[i]);
		if (i + 1 >= argc)
			return usage("option '%s' needs a value", argv[i]);
		uint64_t v;
		if (num && !parse_u64(argv[i + 1], &v))
			return usage("option '%s' wants a number, not '%s'", argv[i], argv[i + 1]);
		json_object_set_new(a, k, num ? json_integer((json_int_t)v) : json_string(argv[i + 1]));
		i++;
	}
	*first_pos = i;
	return EXIT_OK;
}

static int b_record_list(struct ctl *c, int argc, char **argv, json_t **req, const char **cmd)
{
	static const char *const keys[] = { "type", "name", NULL }, *const nums[] = { "limit", NULL };
	(void)c;
	json_t *a = json_object();
	/* ZONE may come before or after the options */
	int pos = 1, rc;
	const char *zone = NULL;
	if (argc > 1 && strncmp(argv[1], "--", 2) != 0) {
		zone = argv[1];
		argv++;
		argc--;
	}
	if ((rc = opts_to_args(argc, argv, keys, nums, a, &pos)) != 0) {
		json_decref(a);
		return rc;
	}
	if (!zone && pos < argc)
		zone = argv[pos++];
	if (!zone || pos != argc) {
		json_decref(a);
		return usage("record list takes ZONE [--type TYPE] [--name SUFFIX] [--limit N]");
	}
	json_object_set_new(a, "zone", json_string(zone));
	*req = request(*cmd, a);
	return EXIT_OK;
}

static int b_journal(struct ctl *c, int argc, char **argv, json_t **req, const char **cmd)
{
	static const char *const keys[] = { "actor", "zone", "name", NULL },
	                         *const nums[] = { "since", "limit", NULL };
	(void)c;
	json_t *a = json_object();
	int pos, rc;
	if ((rc = opts_to_args(argc, argv, keys, nums, a, &pos)) != 0) {
		json_decref(a);
		return rc;
	}
	if (pos != argc) {
		json_decref(a);
		return usage("journal takes only options (see ddictl journal --help)");
	}
	*req = request(*cmd, a);
	return EXIT_OK;
}

static int b_backup(struct ctl *c, int argc, char **argv, json_t **req, const char **cmd)
{
	(void)c;
	if (positional(&argc, &argv) != 1)
		return usage("backup takes DIR");
	char *abs = realpath(argv[0], NULL);
	/* the server resolves relative paths from its own directory: send an absolute one */
	if (!abs && argv[0][0] != '/') {
		char cwd[4096];
		if (getcwd(cwd, sizeof(cwd))) {
			size_t l = strlen(cwd) + strlen(argv[0]) + 2;
			abs = malloc(l);
			if (abs)
				snprintf(abs, l, "%s/%s", cwd, argv[0]);
		}
	}
	*req = request(*cmd, json_pack("{s:s}", "dir", abs ? abs : argv[0]));
	free(abs);
	return EXIT_OK;
}

/* ------------------------------------------------------------------------ */
/* TSIG keys and update policy (RFC 2136)                                   */
/* ------------------------------------------------------------------------ */

/* --secret -: the first line of standard input, without its line end. */
static int secret_stdin(char *buf, size_t cap)
{
	if (!fgets(buf, (int)cap, stdin))
		return -1;
	size_t n = strcspn(buf, "\r\n");
	if (!buf[n] && !feof(stdin))
		return -1;   /* longer than any secret */
	buf[n] = '\0';
	return 0;
}

static int b_key_add(struct ctl *c, int argc, char **argv, json_t **req, const char **cmd)
{
	const char *name = NULL, *alg = NULL, *secret = NULL;
	char line[1024];
	(void)c;
	for (int i = 1; i < argc; i++) {
		if (strcmp(argv[i], "--algorithm") == 0 && i + 1 < argc && !alg)
			alg = argv[++i];
		else if (strncmp(argv[i], "--algorithm=", 12) == 0 && !alg)
			alg = argv[i] + 12;
		else if (strcmp(argv[i], "--secret") == 0 && i + 1 < argc && !secret)
			secret = argv[++i];
		else if (strncmp(argv[i], "--secret=", 9) == 0 && !secret)
			secret = argv[i] + 9;
		else if (argv[i][0] != '-' && !name)
			name = argv[i];
		else
			return usage("key add takes NAME [--algorithm ALG] [--secret BASE64|-], not '%s'",
			             argv[i]);
	}
	if (!name)
		return usage("key add takes NAME [--algorithm ALG] [--secret BASE64|-]");
	if (secret && strcmp(secret, "-") == 0) {
		if (secret_stdin(line, sizeof(line)) < 0)
			return usage("key add --secret -: no secret line (at most %zu characters) on "
			             "standard input", sizeof(line) - 2);
		secret = line;
	}
	json_t *a = json_pack("{s:s}", "name", name);
	if (alg)
		json_object_set_new(a, "algorithm", json_string(alg));
	json_t *sv = secret ? json_string(secret) : NULL;
	explicit_bzero(line, sizeof(line));
	if (secret && !sv) {
		json_decref(a);
		return usage("key add --secret: the secret is not text (base64 expected)");
	}
	if (sv)
		json_object_set_new(a, "secret", sv);
	*req = request(*cmd, a);
	return EXIT_OK;
}

static int b_key_one(struct ctl *c, int argc, char **argv, json_t **req, const char **cmd)
{
	(void)c;
	if (positional(&argc, &argv) != 1)
		return usage("%s takes NAME", *cmd);
	*req = request(*cmd, json_pack("{s:s}", "name", argv[0]));
	return EXIT_OK;
}

static int b_policy_add(struct ctl *c, int argc, char **argv, json_t **req, const char **cmd)
{
	(void)c;
	/* no "--" skipping: the rule's own options (--prefix, --source) follow */
	if (argc < 3)
		return usage("policy add takes KEY grant|deny self|name|subdomain|pattern NAME "
		             "[TYPE...] [--prefix PREFIX...] [--source PREFIX...] [--ttl-default N] "
		             "[--ttl-min N] [--ttl-max N] [--ttl-over clamp|refuse]");
	*req = request(*cmd, json_pack("{s:s, s:o}", "key", argv[1], "rule",
	                               tokens(argv + 2, argc - 2)));
	return EXIT_OK;
}

static int b_policy_list(struct ctl *c, int argc, char **argv, json_t **req, const char **cmd)
{
	(void)c;
	if (positional(&argc, &argv) > 1)
		return usage("policy list takes [KEY]");
	*req = request(*cmd, argc ? json_pack("{s:s}", "key", argv[0]) : json_object());
	return EXIT_OK;
}

static int b_policy_remove(struct ctl *c, int argc, char **argv, json_t **req, const char **cmd)
{
	uint64_t idx;
	(void)c;
	if (positional(&argc, &argv) != 2 || !parse_u64(argv[1], &idx))
		return usage("policy remove takes KEY INDEX");
	*req = request(*cmd, json_pack("{s:s, s:I}", "key", argv[0], "index", (json_int_t)idx));
	return EXIT_OK;
}

/* Tables for the key and policy commands; false when `cmd` is not one of them. */
static bool print_ddns(const char *cmd, const json_t *a)
{
	size_t i;
	json_t *o;
	if (strcmp(cmd, "key-add") == 0) {
		printf("%s\n", json_string_value(json_object_get(a, "key")));
		fprintf(stderr, "ddictl: key %s added (journal seq %lld); the secret above is shown "
		        "only this once\n", json_string_value(json_object_get(a, "name")),
		        (long long)json_integer_value(json_object_get(a, "seq")));
	} else if (strcmp(cmd, "key-list") == 0) {
		printf("%-40s %-12s %s\n", "KEY", "ALGORITHM", "CREATED");
		json_array_foreach(json_object_get(a, "keys"), i, o)
			printf("%-40s %-12s %s\n", json_string_value(json_object_get(o, "name")),
			       json_string_value(json_object_get(o, "algorithm")),
			       json_string_value(json_object_get(o, "created")));
	} else if (strcmp(cmd, "policy-list") == 0) {
		printf("%-30s %5s  %s\n", "KEY", "INDEX", "RULE");
		json_array_foreach(json_object_get(a, "rules"), i, o)
			printf("%-30s %5lld  %s\n", json_string_value(json_object_get(o, "key")),
			       (long long)json_integer_value(json_object_get(o, "index")),
			       json_string_value(json_object_get(o, "text")));
	} else {
		return false;
	}
	return true;
}

static int b_send(struct ctl *c, int argc, char **argv, json_t **req, const char **cmd)
{
	(void)c;
	(void)cmd;
	if (positional(&argc, &argv) != 1)
		return usage("send takes one JSON text");
	*req = json_string(argv[0]);   /* marker: raw text */
	return EXIT_OK;
}

static const struct sub subs[] = {
	{ "status", NULL, help_status, b_status },
	{ "stats", NULL, help_stats, b_status },
	{ "zone", "list", help_zlist, b_status },
	{ "zone", "add", help_zadd, b_zone_add },
	{ "zone", "remove", help_zremove, b_zone_one },
	{ "zone", "refresh", help_zrefresh, b_zone_refresh },
	{ "zone", "import", help_zimport, b_zone_import },
	{ "zone", "export", help_zexport, b_zone_one },
	{ "record", "add", help_radd, b_record_add },
	{ "record", "delete", help_rdel, b_record_delete },
	{ "record", "replace", help_rrep, b_record_add },
	{ "record", "get", help_rget, b_record_get },
	{ "record", "list", help_rlist, b_record_list },
	{ "journal", NULL, help_journal, b_journal },
	{ "zone", "acl", ddictl_help_zone_acl, ddictl_xfr_build },
	{ "diff", NULL, ddictl_help_diff, ddictl_xfr_build },
	{ "zone", "aging", ddictl_help_zone_aging, ddictl_life_build },
	{ "scavenge", NULL, ddictl_help_scavenge, ddictl_life_build },
	{ "lease", "sweep", ddictl_help_lease_sweep, ddictl_life_build },
	{ "stale", NULL, ddictl_help_stale, ddictl_life_build },
	{ "history", NULL, ddictl_help_history, ddictl_life_build },
	{ "revert", NULL, ddictl_help_revert, ddictl_life_build },
	{ "catalog", "add", ddictl_help_catalog_add, ddictl_xfr_build },
	{ "catalog", "remove", ddictl_help_catalog_remove, ddictl_xfr_build },
	{ "catalog", "list", ddictl_help_catalog_list, ddictl_xfr_build },
	{ "backup", NULL, help_backup, b_backup },
	{ "shutdown", NULL, help_shutdown, b_status },
	{ "reload", NULL, help_reload, b_status },
	{ "send", NULL, help_send, b_send },
	{ "key", "add", ddictl_help_kadd, b_key_add },
	{ "key", "list", ddictl_help_klist, b_status },
	{ "key", "remove", ddictl_help_kremove, b_key_one },
	{ "policy", "add", ddictl_help_padd, b_policy_add },
	{ "policy", "list", ddictl_help_plist, b_policy_list },
	{ "policy", "remove", ddictl_help_premove, b_policy_remove },
	{ "prefix", "add", ddictl_help_prefix_add, ddictl_ipam_build },
	{ "prefix", "list", ddictl_help_prefix_list, ddictl_ipam_build },
	{ "prefix", "tree", ddictl_help_prefix_tree, ddictl_ipam_build },
	{ "prefix", "show", ddictl_help_prefix_show, ddictl_ipam_build },
	{ "prefix", "remove", ddictl_help_prefix_remove, ddictl_ipam_build },
	{ "prefix", "edit", ddictl_help_prefix_edit, ddictl_ipam_build },
	{ "range", "add", ddictl_help_range_add, ddictl_ipam_build },
	{ "range", "list", ddictl_help_range_list, ddictl_ipam_build },
	{ "range", "edit", ddictl_help_range_edit, ddictl_ipam_build },
	{ "range", "remove", ddictl_help_range_remove, ddictl_ipam_build },
	{ "alloc", "next", ddictl_help_alloc_next, ddictl_ipam_build },
	{ "alloc", "address", ddictl_help_alloc_address, ddictl_ipam_build },
	{ "alloc", "prefix", ddictl_help_alloc_prefix, ddictl_ipam_build },
	{ "alloc", "reserve", ddictl_help_alloc_reserve, ddictl_ipam_build },
	{ "alloc", "list", ddictl_help_alloc_list, ddictl_ipam_build },
	{ "alloc", "edit", ddictl_help_alloc_edit, ddictl_ipam_build },
	{ "release", NULL, ddictl_help_release, ddictl_ipam_build },
	{ "address", "show", ddictl_help_address_show, ddictl_ipam_build },
	{ "utilization", NULL, ddictl_help_utilization, ddictl_ipam_build },
	{ "conflicts", NULL, ddictl_help_conflicts, ddictl_ipam_build },
	{ "ipam", "import", ddictl_help_ipam_import, ddictl_ipam_build },
	{ "ipam", "export", ddictl_help_ipam_export, ddictl_ipam_build },
	{ "token", "add", ddictl_help_token_add, ddictl_auth_build },
	{ "token", "list", ddictl_help_token_list, ddictl_auth_build },
	{ "token", "remove", ddictl_help_token_remove, ddictl_auth_build },
	{ "role", "add", ddictl_help_role_add, ddictl_auth_build },
	{ "role", "list", ddictl_help_role_list, ddictl_auth_build },
	{ "role", "remove", ddictl_help_role_remove, ddictl_auth_build },
};

/* ------------------------------------------------------------------------ */
/* Transport                                                                */
/* ------------------------------------------------------------------------ */

static int64_t mono_ms(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

/* Send `text` to the socket, read one JSON reply. NULL on error (printed). */
static json_t *over_socket(const struct ctl *c, const char *text)
{
	struct sockaddr_un sa = { .sun_family = AF_UNIX };
	if (strlen(c->sock) >= sizeof(sa.sun_path)) {
		fprintf(stderr, "ddictl: socket path too long: %s\n", c->sock);
		return NULL;
	}
	strcpy(sa.sun_path, c->sock);
	int fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
	if (fd < 0 || connect(fd, (struct sockaddr *)&sa, sizeof(sa)) != 0) {
		fprintf(stderr, "ddictl: cannot connect to %s: %s (is ddiplane running with "
		        "--control %s? or use --db DIR)\n", c->sock, strerror(errno), c->sock);
		if (fd >= 0)
			close(fd);
		return NULL;
	}
	int64_t deadline = mono_ms() + c->timeout_ms;
	size_t len = strlen(text), off = 0;
	while (off < len) {
		ssize_t n = send(fd, text + off, len - off, MSG_NOSIGNAL);
		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0) {
			fprintf(stderr, "ddictl: sending to %s: %s\n", c->sock, strerror(errno));
			close(fd);
			return NULL;
		}
		off += (size_t)n;
	}
	char *buf = NULL;
	size_t blen = 0, bcap = 0;
	json_t *reply = NULL;
	for (;;) {
		int64_t left = deadline - mono_ms();
		struct pollfd pfd = { .fd = fd, .events = POLLIN };
		if (left <= 0 || poll(&pfd, 1, (int)left) <= 0) {
			fprintf(stderr, "ddictl: no reply from %s within %u ms\n", c->sock, c->timeout_ms);
			break;
		}
		if (bcap - blen < 65536) {
			bcap = bcap ? bcap * 2 : 131072;
			char *nb = realloc(buf, bcap);
			if (!nb)
				break;
			buf = nb;
		}
		ssize_t n = recv(fd, buf + blen, bcap - blen, 0);
		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0) {
			json_error_t je;
			reply = blen ? json_loadb(buf, blen, 0, &je) : NULL;
			if (!reply)
				fprintf(stderr, "ddictl: %s closed the connection without a whole reply\n",
				        c->sock);
			break;
		}
		blen += (size_t)n;
		if (buf[blen - 1] == '\n') {
			json_error_t je;
			if ((reply = json_loadb(buf, blen, 0, &je)) != NULL)
				break;
		}
	}
	free(buf);
	close(fd);
	return reply;
}

/*
 * Progress of long work on a terminal: one line rewritten in place (at
 * most every 200 ms), "COMMAND: N of about M WHAT, R/s, T s left", and a
 * final newline. Only when stderr is a terminal and without --json.
 */
struct progress {
	const char *cmd;
	struct timespec t0, last;
	bool shown;
};

static double since(const struct timespec *a, const struct timespec *b)
{
	return (double)(b->tv_sec - a->tv_sec) + (double)(b->tv_nsec - a->tv_nsec) / 1e9;
}

static void show_progress(void *ctx, const char *what, uint64_t done, uint64_t total)
{
	struct progress *p = ctx;
	struct timespec now;
	clock_gettime(CLOCK_MONOTONIC, &now);
	bool end = done >= total;
	if (!end && p->shown && since(&p->last, &now) < 0.2)
		return;
	double el = since(&p->t0, &now), rate = el > 0 ? (double)done / el : 0;
	fprintf(stderr, "\rddictl: %s: %" PRIu64 " of about %" PRIu64 " %s, %.0f/s", p->cmd, done,
	        total, what, rate);
	if (!end && rate > 0 && total > done)
		fprintf(stderr, ", %.0f s left   ", (double)(total - done) / rate);
	else
		fprintf(stderr, "%s", !end ? "   " : strcmp(what, "records read") == 0 ?
		        ", writing the store...\n" : ", done\n");
	p->last = now;
	p->shown = true;
}

static json_t *locally(const struct ctl *c, const json_t *req)
{
	struct store *s = NULL;
	struct store_error e;
	struct store_options o = { .map_size = c->map_size };
	const char *cmd = json_string_value(json_object_get(req, "command"));
	/* the commands that begin a store: a zone, a followed catalog, a secondary's key */
	o.create = cmd && (strcmp(cmd, "zone-import") == 0 || strcmp(cmd, "zone-add") == 0 ||
	                    strcmp(cmd, "catalog-add") == 0 || strcmp(cmd, "key-add") == 0);
	int rc = store_open(&s, c->db, &o, &e);
	if (rc)
		return cmd_reply(CMD_ERROR, NULL, "%s", e.msg[0] ? e.msg : ddi_strerror(rc));
	/* The local user owns the files: every role. */
	struct cmd_ctx ctx = { .store = s, .actor = c->actor, .role = CMD_ROLE_ADMIN };
	struct progress pr = { .cmd = cmd ? cmd : "?" };
	if (!c->json && isatty(STDERR_FILENO)) {
		clock_gettime(CLOCK_MONOTONIC, &pr.t0);
		ctx.progress = show_progress;
		ctx.progress_ctx = &pr;
	}
	json_t *reply = cmd_exec(&ctx, req, NULL);
	store_close(s);
	return reply;
}

/* ------------------------------------------------------------------------ */
/* Output                                                                   */
/* ------------------------------------------------------------------------ */

static const char *jstr(const json_t *o, const char *k)
{
	const char *s = json_string_value(json_object_get(o, k));
	return s ? s : "";
}

static long long jint(const json_t *o, const char *k)
{
	return (long long)json_integer_value(json_object_get(o, k));
}

static void print_records(const json_t *recs)
{
	size_t i;
	json_t *r;
	json_array_foreach(recs, i, r)
		printf("%s %lld IN %s %s\n", jstr(r, "name"), jint(r, "ttl"), jstr(r, "type"),
		       jstr(r, "rdata"));
}

static void print_stats(const json_t *a)
{
	const json_t *lc = json_object_get(a, "lcores"), *tot = json_object_get(a, "total");
	const char *k;
	json_t *v;
	size_t i;
	json_t *l;
	printf("%-22s", "outcome");
	json_array_foreach(lc, i, l)
		printf(" %8s%-6lld", "lcore", jint(l, "lcore"));
	printf(" %14s\n", "total");
	json_object_foreach((json_t *)tot, k, v) {
		if (json_integer_value(v) == 0 && strcmp(k, "rx") != 0 && strcmp(k, "tx") != 0)
			continue;
		printf("%-22s", k);
		json_array_foreach(lc, i, l)
			printf(" %14lld", jint(l, k));
		printf(" %14lld\n", (long long)json_integer_value(v));
	}
	const char *groups[] = { "tcp", "control", "ddns" };
	for (size_t g = 0; g < sizeof(groups) / sizeof(groups[0]); g++) {
		const json_t *o = json_object_get(a, groups[g]);
		if (!o)
			continue;
		printf("%s:", groups[g]);
		json_object_foreach((json_t *)o, k, v) {
			if (!json_is_object(v)) {
				printf(" %s=%lld", k, (long long)json_integer_value(v));
				continue;
			}
			/* a sub-group (ddns refusals by reason): its own line, zeros left out */
			const char *k2;
			json_t *v2;
			printf("\n%s.%s:", groups[g], k);
			json_object_foreach(v, k2, v2)
				if (json_integer_value(v2))
					printf(" %s=%lld", k2, (long long)json_integer_value(v2));
			printf("\n%s:", groups[g]);
		}
		printf("\n");
	}
}

static void fmt_time(char *buf, size_t len, long long ns)
{
	time_t t = (time_t)(ns / 1000000000);
	struct tm tm;
	if (!gmtime_r(&t, &tm) || !strftime(buf, len, "%Y-%m-%dT%H:%M:%SZ", &tm))
		snprintf(buf, len, "?");
}

static void print_journal(const json_t *entries)
{
	size_t i, j;
	json_t *e, *o;
	printf("%-8s %-20s  %s\n", "SEQ", "TIME", "ACTOR");
	json_array_foreach(entries, i, e) {
		char tb[64];
		json_t *ops = json_object_get(e, "ops");
		fmt_time(tb, sizeof(tb), jint(e, "time"));
		printf("%-8lld %s  %s  %zu op%s\n", jint(e, "seq"), tb, jstr(e, "actor"),
		       json_array_size(ops), json_array_size(ops) == 1 ? "" : "s");
		if (json_object_get(e, "note"))
			printf("         %s\n", jstr(e, "note"));
		json_array_foreach(ops, j, o)
			printf("         %-14s %-30s %-30s %-6s %lld -> %lld\n", jstr(o, "op"),
			       jstr(o, "zone"), jstr(o, "owner"), json_object_get(o, "type") ?
			       jstr(o, "type") : "-", jint(o, "old"), jint(o, "new"));
	}
}

static void print_human(const char *cmd, const json_t *reply)
{
	const json_t *a = json_object_get(reply, "arguments");
	const char *text = jstr(reply, "text");
	const char *k;
	json_t *v;
	if (strcmp(cmd, "status") == 0) {
		json_object_foreach((json_t *)a, k, v) {
			char *s = json_dumps(v, JSON_ENCODE_ANY);
			printf("%-12s %s\n", k, s && json_is_string(v) ? json_string_value(v) : s ? s : "");
			free(s);
		}
	} else if (strcmp(cmd, "stats") == 0) {
		print_stats(a);
	} else if (strcmp(cmd, "reload") == 0) {
		size_t i;
		json_t *x;
		printf("%s\n", text);
		json_array_foreach(json_object_get(a, "restart_needed"), i, x)
			printf("restart needed: %s\n", json_string_value(x));
	} else if (strcmp(cmd, "zone-list") == 0) {
		size_t i;
		json_t *z;
		printf("%-32s %-14s %10s %8s %8s  %s\n", "ZONE", "ROLE", "SERIAL", "RRSETS", "RECORDS",
		       "CREATED");
		json_array_foreach(json_object_get(a, "zones"), i, z) {
			printf("%-32s %-14s %10lld %8lld %8lld  %s\n", jstr(z, "zone"), jstr(z, "role"),
			       jint(z, "serial"), jint(z, "rrsets"), jint(z, "records"),
			       jstr(z, "created"));
			if (json_object_get(z, "primaries"))
				printf("    primaries %s, last refresh %lld, next refresh %lld, expires %lld, "
				       "last transfer %s, last error: %s\n", jstr(z, "primaries"),
				       jint(z, "last_refresh"), jint(z, "next_refresh"), jint(z, "expires"),
				       *jstr(z, "last_transfer") ? jstr(z, "last_transfer") : "-",
				       *jstr(z, "last_error") ? jstr(z, "last_error") : "-");
		}
	} else if (strcmp(cmd, "zone-export") == 0) {
		fputs(jstr(a, "text"), stdout);
	} else if (strcmp(cmd, "record-get") == 0 || strcmp(cmd, "record-list") == 0) {
		print_records(json_object_get(a, "records"));
	} else if (strcmp(cmd, "journal") == 0) {
		print_journal(json_object_get(a, "entries"));
	} else if (print_ddns(cmd, a)) {
	} else if (ddictl_xfr_print(cmd, reply)) {
	} else if (ddictl_life_print(cmd, reply)) {
	} else if (ddictl_auth_print(cmd, reply)) {
	} else if (ddictl_ipam_print(cmd, reply)) {
		/* printed */
	} else if (json_object_get(a, "seq") && json_object_get(a, "published")) {
		printf("%s (journal seq %lld%s)\n", text, jint(a, "seq"),
		       json_is_true(json_object_get(a, "published")) ? ", published" :
		       ", not yet published");
	} else if (json_object_get(a, "seq")) {
		printf("%s (journal seq %lld)\n", text, jint(a, "seq"));
	} else {
		printf("%s\n", text);
	}
}

/* ------------------------------------------------------------------------ */
/* main                                                                     */
/* ------------------------------------------------------------------------ */

static void set_actor(struct ctl *c)
{
	uid_t uid = getuid();
	struct passwd *pw = getpwuid(uid);
	if (pw && pw->pw_name && pw->pw_name[0])
		snprintf(c->actor, sizeof(c->actor), "unix:%.250s", pw->pw_name);
	else
		snprintf(c->actor, sizeof(c->actor), "uid:%u", (unsigned)uid);
}

int main(int argc, char **argv)
{
	static const struct option opts[] = {
		{ "db", required_argument, NULL, 'd' },
		{ "socket", required_argument, NULL, 's' },
		{ "json", no_argument, NULL, 'j' },
		{ "map-size", required_argument, NULL, 'm' },
		{ "timeout", required_argument, NULL, 't' },
		{ "help", no_argument, NULL, 'h' },
		{ "version", no_argument, NULL, 'V' },
		{ 0 },
	};
	struct ctl c = { .timeout_ms = 30000 };
	uint64_t v;
	int o;

	while ((o = getopt_long(argc, argv, "+s:hV", opts, NULL)) != -1) {
		switch (o) {
		case 'd':
			c.db = optarg;
			break;
		case 's':
			c.sock = optarg;
			break;
		case 'j':
			c.json = true;
			break;
		case 'm':
			if (!parse_u64(optarg, &v) || v < (1u << 20))
				return usage("--map-size wants a number of bytes >= 1 MiB, not '%s'", optarg);
			c.map_size = (size_t)v;
			break;
		case 't':
			if (!parse_u64(optarg, &v) || v == 0 || v > 3600000)
				return usage("--timeout wants 1..3600000 ms, not '%s'", optarg);
			c.timeout_ms = (unsigned)v;
			break;
		case 'h':
			fputs(help_main, stdout);
			return EXIT_OK;
		case 'V':
			printf("ddictl %s\n", DDI_VERSION);
			return EXIT_OK;
		default:
			return usage("bad option '%s'", argv[optind - 1]);
		}
	}
	argc -= optind;
	argv += optind;
	if (argc < 1)
		return usage("no command given");
	if (strcmp(argv[0], "help") == 0) {
		fputs(help_main, stdout);
		return EXIT_OK;
	}
	if (strcmp(argv[0], "restore") == 0) {
		for (int i = 1; i < argc; i++)
			if (strcmp(argv[i], "--help") == 0 || strcmp(argv[i], "-h") == 0) {
				fputs(help_restore, stdout);
				return EXIT_OK;
			}
		return do_restore(&c, argc, argv);
	}

	const struct sub *sub = NULL;
	bool group = false;
	for (size_t i = 0; i < sizeof(subs) / sizeof(subs[0]) && !sub; i++) {
		if (strcmp(argv[0], subs[i].group) != 0)
			continue;
		group = true;
		if (!subs[i].name || (argc >= 2 && strcmp(argv[1], subs[i].name) == 0))
			sub = &subs[i];
	}
	if (!sub) {
		if (!group)
			return usage("unknown command '%s'", argv[0]);
		if (argc >= 2 && strcmp(argv[1], "--help") != 0 && strcmp(argv[1], "-h") != 0)
			return usage("unknown subcommand '%s %s'", argv[0], argv[1]);
		printf("ddictl %s: subcommands:\n", argv[0]);
		for (size_t i = 0; i < sizeof(subs) / sizeof(subs[0]); i++)
			if (strcmp(argv[0], subs[i].group) == 0)
				printf("    %s %s\n", subs[i].group, subs[i].name);
		return argc >= 2 ? EXIT_OK : EXIT_USAGE;
	}
	if (sub->name) {   /* the subcommand's argv[0] is its own name */
		argc--;
		argv++;
	}
	for (int i = 1; i < argc && strcmp(argv[i], "--") != 0; i++)
		if (strcmp(argv[i], "--help") == 0 || strcmp(argv[i], "-h") == 0) {
			fputs(sub->help, stdout);
			return EXIT_OK;
		}
	if (!c.db == !c.sock)
		return usage(c.db ? "give either --db DIR or -s SOCKET, not both"
		                  : "no server or store given: use -s SOCKET or --db DIR");

	char cmdname[64];
	snprintf(cmdname, sizeof(cmdname), "%s%s%s", sub->group, sub->name ? "-" : "",
	         sub->name ? sub->name : "");
	const char *cmd = cmdname;
	json_t *req = NULL;
	int rc = sub->build(&c, argc, argv, &req, &cmd);
	if (rc)
		return rc;
	if (!req) {
		fprintf(stderr, "ddictl: out of memory\n");
		return EXIT_ERR;
	}
	set_actor(&c);

	bool raw = json_is_string(req);
	json_t *reply = NULL;
	if (c.sock) {
		char *text = raw ? strdup(json_string_value(req)) : json_dumps(req, JSON_COMPACT);
		reply = text ? over_socket(&c, text) : NULL;
		free(text);
	} else if (raw) {
		json_error_t je;
		json_t *r = json_loads(json_string_value(req), 0, &je);
		reply = r ? locally(&c, r) : cmd_reply(CMD_ERROR, NULL, "malformed JSON request: %s",
		                                       je.text);
		json_decref(r);
	} else {
		reply = locally(&c, req);
	}
	json_decref(req);
	if (!reply)
		return EXIT_ERR;
	json_int_t result = json_integer_value(json_object_get(reply, "result"));
	/* A lookup of one name that finds nothing fails; an empty list does not. */
	bool empty_fails = strcmp(cmd, "record-get") == 0;
	if (result == CMD_EMPTY && empty_fails && !raw)
		fprintf(stderr, "ddictl: %s\n", jstr(reply, "text"));
	if (c.json || raw) {
		json_dumpf(reply, stdout, raw ? JSON_COMPACT : JSON_INDENT(2));
		fputc('\n', stdout);
	} else if (result == CMD_OK || result == CMD_EMPTY) {
		print_human(cmd, reply);
	}
	if (result != CMD_OK && result != CMD_EMPTY && !raw)
		fprintf(stderr, "ddictl: %s\n", jstr(reply, "text"));
	json_decref(reply);
	return result == CMD_OK || (result == CMD_EMPTY && !empty_fails) ? EXIT_OK : EXIT_ERR;
}
