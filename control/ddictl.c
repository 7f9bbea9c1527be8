/* ddictl -- the operator's command line: zones, records and the journal of a ddiplane store */
#include <errno.h>
#include <getopt.h>
#include <inttypes.h>
#include <pwd.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <jansson.h>

#include "control/store.h"
#include "dns/errcode.h"
#include "dns/name.h"
#include "dns/rdata.h"
#include "dns/wire.h"
#include "dns/zonefile.h"

/* Exit status: what scripts test. */
enum { EXIT_OK = 0, EXIT_ERR = 1, EXIT_USAGE = 2 };

struct ctl {
	const char *db;
	const char *sock;
	size_t map_size;
	bool json;
	struct store *s;
	char actor[300];
};

/* ------------------------------------------------------------------------ */
/* Help texts                                                               */
/* ------------------------------------------------------------------------ */

static const char help_main[] =
"NAME\n"
"    ddictl - manage the zones, records and journal of a ddiplane store\n"
"\n"
"SYNOPSIS\n"
"    ddictl [--db DIR | -s PATH] [--json] COMMAND [ARGS...]\n"
"    ddictl COMMAND --help\n"
"\n"
"DESCRIPTION\n"
"    ddiplane keeps all of its durable state in one LMDB environment (a\n"
"    directory). With --db DIR, ddictl reads and writes that store directly,\n"
"    through the same code the server uses; no server needs to run. Every\n"
"    change is one transaction that validates everything first and writes\n"
"    the data together with a journal entry naming the actor (\"unix:USER\"\n"
"    of the calling user): it lands whole or not at all, and a running\n"
"    server following the journal picks it up.\n"
"\n"
"COMMANDS\n"
"    zone import ORIGIN FILE    replace the zone's content with a master file\n"
"    zone export ORIGIN         print the zone as a master file, SOA first\n"
"    zone list                  list the zones with serial and sizes\n"
"    zone add ORIGIN [--soa SOA] [--ns NAME]... [--ttl TTL]\n"
"                               create a zone with its SOA and NS records\n"
"    zone remove ORIGIN         delete a zone and all of its names\n"
"    record add NAME TTL TYPE RDATA...\n"
"                               add one record (the RRset takes TTL)\n"
"    record delete NAME [TYPE [RDATA...]]\n"
"                               delete a name's records, an RRset or one record\n"
"    record get NAME [TYPE]     print a name's records\n"
"    journal [--since SEQ] [--limit N]\n"
"                               print the journal of changes\n"
"\n"
"OPTIONS\n"
"    --db DIR        the store directory (LMDB environment)\n"
"    -s, --socket PATH\n"
"                    the server's control socket (not supported yet: use --db)\n"
"    --json          print JSON instead of tables ({\"result\": 0, \"text\": ...,\n"
"                    \"arguments\": ...} for changes)\n"
"    --map-size BYTES\n"
"                    LMDB map size (default 8 GiB, sparse)\n"
"    -h, --help      this text; after a command, that command's help\n"
"    -V, --version   print the version\n"
"\n"
"    Names are absolute (\"www.example.com.\"; a missing final dot is added).\n"
"    RDATA is written as in a master file; an argument holding spaces is\n"
"    one quoted string (TXT \"hello world\").\n"
"\n"
"EXIT STATUS\n"
"    0 success, 1 error (the message names the file and line, or the record\n"
"    and the reason; nothing was changed), 2 usage error.\n"
"\n"
"EXAMPLES\n"
"    ddictl --db /var/lib/ddiplane zone import example.com. example.com.zone\n"
"    ddictl --db /var/lib/ddiplane zone export example.com. > backup.zone\n"
"    ddictl --db /var/lib/ddiplane record add www.example.com. 300 A 198.18.0.10\n"
"    ddictl --db /var/lib/ddiplane --json journal --since 10\n";

static const char help_import[] =
"NAME\n"
"    ddictl zone import - replace a zone's content with a master file\n"
"\n"
"SYNOPSIS\n"
"    ddictl --db DIR zone import ORIGIN FILE\n"
"\n"
"DESCRIPTION\n"
"    Reads FILE (RFC 1035 master format; $ORIGIN, $TTL, parentheses, TTL\n"
"    units; $INCLUDE is refused) with ORIGIN as the initial origin. Every\n"
"    record must be at or below ORIGIN, the file must hold exactly one SOA,\n"
"    at ORIGIN, and a CNAME must stand alone at its name. The zone is\n"
"    created if it does not exist. Its whole content is replaced in one\n"
"    transaction: on any error (syntax, reported as FILE:LINE, or\n"
"    validation) the previous content stays as it was.\n"
"\n"
"    The file's SOA serial is kept when it is newer than the stored one;\n"
"    otherwise the stored serial + 1 is used, so secondaries see the change.\n"
"    Owner names are stored lower-cased.\n";

static const char help_export[] =
"NAME\n"
"    ddictl zone export - print a zone as a master file\n"
"\n"
"SYNOPSIS\n"
"    ddictl --db DIR [--json] zone export ORIGIN\n"
"\n"
"DESCRIPTION\n"
"    Prints every record of the zone, one per line as \"owner TTL IN TYPE\n"
"    rdata\" with absolute names: the SOA first, then DNS canonical order\n"
"    (RFC 4034 6.1). Names of zones below ORIGIN that the store also holds\n"
"    are left out. The output can be imported again as it is. With --json:\n"
"    an array of {\"name\", \"ttl\", \"type\", \"rdata\"} objects.\n";

static const char help_list[] =
"NAME\n"
"    ddictl zone list - list the zones of the store\n"
"\n"
"SYNOPSIS\n"
"    ddictl --db DIR [--json] zone list\n"
"\n"
"DESCRIPTION\n"
"    One line per zone in canonical order: apex, SOA serial, number of\n"
"    RRsets and of records, creation time (UTC).\n";

static const char help_add[] =
"NAME\n"
"    ddictl zone add - create a zone\n"
"\n"
"SYNOPSIS\n"
"    ddictl --db DIR zone add ORIGIN [--soa \"MNAME RNAME SERIAL REFRESH RETRY EXPIRE MINIMUM\"]\n"
"                                    [--ns NAME]... [--ttl TTL]\n"
"\n"
"DESCRIPTION\n"
"    Creates the zone with its SOA and NS records in one transaction.\n"
"    Relative names in --soa and --ns are relative to ORIGIN. Without --soa\n"
"    the SOA is \"MNAME hostmaster 1 3600 900 1209600 300\", MNAME being the\n"
"    first --ns or \"ns1\". Refused when the zone exists or when the enclosing\n"
"    zone holds names at or below ORIGIN.\n"
"\n"
"OPTIONS\n"
"    --soa SOA   the SOA rdata, in master-file form\n"
"    --ns NAME   a name server (repeatable)\n"
"    --ttl TTL   TTL of the SOA and NS records (default 3600)\n";

static const char help_remove[] =
"NAME\n"
"    ddictl zone remove - delete a zone\n"
"\n"
"SYNOPSIS\n"
"    ddictl --db DIR zone remove ORIGIN\n"
"\n"
"DESCRIPTION\n"
"    Deletes the zone and every record of it in one transaction. Zones\n"
"    below it are not touched.\n";

static const char help_radd[] =
"NAME\n"
"    ddictl record add - add one record\n"
"\n"
"SYNOPSIS\n"
"    ddictl --db DIR record add NAME TTL TYPE RDATA...\n"
"\n"
"DESCRIPTION\n"
"    Adds the record to the zone that holds NAME (the deepest zone at or\n"
"    above it). A record already present is kept once. The whole RRset takes\n"
"    TTL (RFC 2181 5.2). An SOA replaces the zone's SOA. The zone's serial\n"
"    advances by one (unless the record is the SOA).\n"
"\n"
"EXAMPLES\n"
"    ddictl --db DIR record add www.example.com. 300 A 198.18.0.10\n"
"    ddictl --db DIR record add example.com. 3600 MX 10 mail.example.com.\n"
"    ddictl --db DIR record add example.com. 300 TXT \"v=spf1 -all\"\n";

static const char help_rdel[] =
"NAME\n"
"    ddictl record delete - delete records\n"
"\n"
"SYNOPSIS\n"
"    ddictl --db DIR record delete NAME [TYPE [RDATA...]]\n"
"\n"
"DESCRIPTION\n"
"    Without TYPE: every record of NAME. With TYPE: the RRset. With RDATA:\n"
"    that one record. Deleting what does not exist is an error. The zone's\n"
"    SOA cannot be deleted (remove the zone instead).\n";

static const char help_rget[] =
"NAME\n"
"    ddictl record get - print the records of a name\n"
"\n"
"SYNOPSIS\n"
"    ddictl --db DIR [--json] record get NAME [TYPE]\n"
"\n"
"DESCRIPTION\n"
"    Prints NAME's records (all types, or TYPE) as master-file lines, or with\n"
"    --json an array of {\"name\", \"ttl\", \"type\", \"rdata\"} objects.\n";

static const char help_journal[] =
"NAME\n"
"    ddictl journal - print the journal of changes\n"
"\n"
"SYNOPSIS\n"
"    ddictl --db DIR [--json] journal [--since SEQ] [--limit N]\n"
"\n"
"DESCRIPTION\n"
"    Every change of the store is one journal entry: its sequence number,\n"
"    time, actor (\"unix:USER\", later \"tsig:KEY\", ...) and what each op\n"
"    changed (zone, owner, type, RR count before and after; \"serial\" lines\n"
"    show the SOA serial advance).\n"
"\n"
"OPTIONS\n"
"    --since SEQ   start at entry SEQ (inclusive; default 1)\n"
"    --limit N     print at most N entries\n";

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

/* Print an error (JSON on stdout with --json) and return EXIT_ERR. */
static int fail(const struct ctl *c, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

static int fail(const struct ctl *c, const char *fmt, ...)
{
	char msg[1024];
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	if (c->json) {
		json_t *o = json_pack("{s:i, s:s}", "result", 1, "text", msg);
		if (o) {
			json_dumpf(o, stdout, JSON_COMPACT);
			fputc('\n', stdout);
			json_decref(o);
		}
	}
	fprintf(stderr, "ddictl: %s\n", msg);
	return EXIT_ERR;
}

static int store_fail(const struct ctl *c, const struct store_error *e, int rc)
{
	return fail(c, "%s", e->msg[0] ? e->msg : ddi_strerror(rc));
}

/* Print the result of a change. */
static int done(const struct ctl *c, uint64_t seq, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));

static int done(const struct ctl *c, uint64_t seq, const char *fmt, ...)
{
	char msg[1024];
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	if (c->json) {
		json_t *o = json_pack("{s:i, s:s, s:{s:I}}", "result", 0, "text", msg, "arguments",
		                      "seq", (json_int_t)seq);
		if (o) {
			json_dumpf(o, stdout, JSON_COMPACT);
			fputc('\n', stdout);
			json_decref(o);
		}
	} else {
		printf("%s (journal seq %" PRIu64 ")\n", msg, seq);
	}
	return EXIT_OK;
}

/* Presentation -> wire; a missing final dot is implied (names are absolute here). */
static bool parse_name(uint8_t out[DNS_NAME_MAXLEN], const char *s)
{
	return s[0] && dns_name_from_str(out, s, strlen(s), NULL) > 0;
}

static const char *name_str(char buf[DNS_NAME_STRLEN], const uint8_t *name)
{
	if (dns_name_to_str(buf, DNS_NAME_STRLEN, name) < 0)
		snprintf(buf, DNS_NAME_STRLEN, "?");
	return buf;
}

static void fmt_time(char *buf, size_t len, int64_t ns)
{
	time_t t = (time_t)(ns / 1000000000);
	struct tm tm;
	if (!gmtime_r(&t, &tm) || !strftime(buf, len, "%Y-%m-%dT%H:%M:%SZ", &tm))
		snprintf(buf, len, "?");
}

static int open_store(struct ctl *c, bool create)
{
	struct store_options o = { .create = create, .map_size = c->map_size };
	struct store_error e;
	if (c->s)
		return EXIT_OK;
	int rc = store_open(&c->s, c->db, &o, &e);
	if (rc)
		return store_fail(c, &e, rc);
	return EXIT_OK;
}

/* A growing text buffer for master-file lines built from arguments. */
struct text {
	char *p;
	size_t len, cap;
};

static bool text_add(struct text *t, const char *s, size_t n)
{
	if (t->len + n + 1 > t->cap) {
		size_t nc = t->cap ? t->cap : 256;
		while (nc < t->len + n + 1)
			nc *= 2;
		char *np = realloc(t->p, nc);
		if (!np)
			return false;
		t->p = np;
		t->cap = nc;
	}
	memcpy(t->p + t->len, s, n);
	t->len += n;
	t->p[t->len] = '\0';
	return true;
}

static bool text_str(struct text *t, const char *s)
{
	return text_add(t, s, strlen(s));
}

/*
 * One argument as a master-file token: an argument holding blanks or
 * master-file specials (or empty) becomes one quoted string, so that
 * `TXT "hello world"` from a shell means what it says.
 */
static bool text_arg(struct text *t, const char *a)
{
	if (a[0] && a[0] != '"' && !strpbrk(a, " \t;()"))
		return text_str(t, a);
	if (a[0] == '"')
		return text_str(t, a);
	if (!text_add(t, "\"", 1))
		return false;
	for (; *a; a++) {
		if (*a == '"' && !text_add(t, "\\", 1))
			return false;
		if (!text_add(t, a, 1))
			return false;
	}
	return text_add(t, "\"", 1);
}

/* Records parsed from a text, each copied to the heap in compact form. */
struct recs {
	size_t n, cap;
	struct rec {
		uint8_t owner[DNS_NAME_MAXLEN];
		uint16_t type;
		uint32_t ttl;
		uint16_t rdlen;
		uint8_t *rdata;
	} *v;
};

static int recs_cb(void *ctx, const struct dns_rr *rr)
{
	struct recs *r = ctx;
	if (r->n == r->cap) {
		size_t nc = r->cap ? r->cap * 2 : 8;
		struct rec *nv = realloc(r->v, nc * sizeof(*nv));
		if (!nv)
			return DDI_ENOMEM;
		r->v = nv;
		r->cap = nc;
	}
	struct rec *x = &r->v[r->n];
	x->rdata = malloc(rr->rdlen ? rr->rdlen : 1);
	if (!x->rdata)
		return DDI_ENOMEM;
	memcpy(x->owner, rr->owner, dns_name_len(rr->owner));
	x->type = rr->type;
	x->ttl = rr->ttl;
	x->rdlen = rr->rdlen;
	memcpy(x->rdata, rr->rdata, rr->rdlen);
	r->n++;
	return 0;
}

static void recs_free(struct recs *r)
{
	for (size_t i = 0; i < r->n; i++)
		free(r->v[i].rdata);
	free(r->v);
	memset(r, 0, sizeof(*r));
}

/* Parse master-file text into records; prints the error. */
static int parse_text(const struct ctl *c, const struct text *t, const uint8_t *origin,
                      struct recs *r)
{
	struct zf_error ze;
	struct zf_options zo = { .origin = origin, .default_ttl = 3600 };
	static const uint8_t root[1] = { 0 };
	if (!zo.origin)
		zo.origin = root;
	memset(&ze, 0, sizeof(ze));
	int rc = zf_read_string(t->p, t->len, "arguments", &zo, recs_cb, r, &ze);
	if (rc)
		return fail(c, "%s", ze.msg[0] ? ze.msg : ddi_strerror(rc));
	return EXIT_OK;
}

/* The [rdlen rdata] items of recs [from, n) of one type. */
static uint8_t *rdatas_of(const struct recs *r, size_t from, uint16_t *count, size_t *len)
{
	size_t total = 0;
	for (size_t i = from; i < r->n; i++)
		total += 2 + (size_t)r->v[i].rdlen;
	uint8_t *p = malloc(total ? total : 1), *q = p;
	if (!p)
		return NULL;
	for (size_t i = from; i < r->n; i++) {
		dns_put16(q, r->v[i].rdlen);
		memcpy(q + 2, r->v[i].rdata, r->v[i].rdlen);
		q += 2 + (size_t)r->v[i].rdlen;
	}
	*count = (uint16_t)(r->n - from);
	*len = total;
	return p;
}

/* Subcommand option parsing: only --help, or the given long options. */
static int want_help(int argc, char **argv, const char *help)
{
	for (int i = 1; i < argc; i++) {
		if (strcmp(argv[i], "--") == 0)
			break;
		if (strcmp(argv[i], "--help") == 0 || strcmp(argv[i], "-h") == 0) {
			fputs(help, stdout);
			return 1;
		}
	}
	return 0;
}

/* argv[0] is the subcommand; skip a leading "--". */
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

/* ------------------------------------------------------------------------ */
/* zone ...                                                                 */
/* ------------------------------------------------------------------------ */

static int cmd_zone_import(struct ctl *c, int argc, char **argv)
{
	uint8_t origin[DNS_NAME_MAXLEN];
	char nb[DNS_NAME_STRLEN];
	struct store_error e;
	struct store_zone_info zi;
	uint64_t seq;
	if (want_help(argc, argv, help_import))
		return EXIT_OK;
	if (positional(&argc, &argv) != 2)
		return usage("zone import takes ORIGIN FILE");
	if (!parse_name(origin, argv[0]))
		return usage("not a valid zone name: '%s'", argv[0]);
	uint64_t before = 0;
	int rc = open_store(c, true);
	if (rc)
		return rc;
	if ((rc = store_last_seq(c->s, &before, &e)) != 0 ||
	    (rc = store_zone_import(c->s, c->actor, origin, argv[1], &seq, &e)) != 0)
		return store_fail(c, &e, rc);
	if ((rc = store_zone_get(c->s, origin, true, &zi, &e)) != 0)
		return store_fail(c, &e, rc);
	return done(c, seq, "zone %s imported from %s: serial %u, %" PRIu64 " RRsets, %" PRIu64
	            " records%s", name_str(nb, origin), argv[1], zi.serial, zi.nrrsets, zi.nrrs,
	            seq == before ? ", no change" : "");
}

struct print_ctx {
	const struct ctl *c;
	json_t *arr;         /* JSON output, or NULL for master-file lines */
	bool skip_soa;
};

/* One RRset as master-file lines or JSON objects. */
static int print_rrset(void *ctx, const uint8_t *owner, uint16_t type, uint32_t ttl,
                       uint16_t count, const uint8_t *rdatas, size_t len)
{
	struct print_ctx *p = ctx;
	char nb[DNS_NAME_STRLEN];
	(void)count;
	if (p->skip_soa && type == DNS_T_SOA)
		return 0;
	for (size_t off = 0; off + 2 <= len;) {
		uint16_t rdlen = dns_get16(rdatas + off);
		const uint8_t *rd = rdatas + off + 2;
		off += 2 + (size_t)rdlen;
		if (!p->arr) {
			int rc = zf_write_rr(stdout, owner, type, ttl, rd, rdlen);
			if (rc)
				return rc;
			continue;
		}
		size_t cap = 4 * (size_t)rdlen + 2 * DNS_NAME_STRLEN + 64;
		char *text = malloc(cap);
		if (!text)
			return DDI_ENOMEM;
		int rc = dns_rdata_to_str(text, cap, type, rd, rdlen);
		json_t *o = rc < 0 ? NULL
		                   : json_pack("{s:s, s:I, s:s, s:s}", "name", name_str(nb, owner), "ttl",
		                               (json_int_t)ttl, "type", dns_type_name(type), "rdata",
		                               text);
		free(text);
		if (!o || json_array_append_new(p->arr, o) != 0)
			return rc < 0 ? rc : DDI_ENOMEM;
	}
	return 0;
}

static void print_json(json_t *j)
{
	json_dumpf(j, stdout, JSON_INDENT(2));
	fputc('\n', stdout);
}

static int cmd_zone_export(struct ctl *c, int argc, char **argv)
{
	uint8_t origin[DNS_NAME_MAXLEN];
	struct store_error e;
	if (want_help(argc, argv, help_export))
		return EXIT_OK;
	if (positional(&argc, &argv) != 1)
		return usage("zone export takes ORIGIN");
	if (!parse_name(origin, argv[0]))
		return usage("not a valid zone name: '%s'", argv[0]);
	int rc = open_store(c, false);
	if (rc)
		return rc;
	if (!c->json) {
		if ((rc = store_zone_export(c->s, origin, stdout, &e)) != 0)
			return store_fail(c, &e, rc);
		if (fflush(stdout) != 0)
			return fail(c, "writing the zone: %s", strerror(errno));
		return EXIT_OK;
	}
	struct print_ctx p = { .c = c, .arr = json_array() };
	if (!p.arr)
		return fail(c, "out of memory");
	/* SOA first, as in the master-file form */
	rc = store_rrset_get(c->s, origin, DNS_T_SOA, print_rrset, &p, &e);
	if (rc == 0 || rc == DDI_ENOENT) {
		p.skip_soa = true;
		rc = store_zone_walk(c->s, origin, print_rrset, &p, &e);
	}
	if (rc) {
		json_decref(p.arr);
		return store_fail(c, &e, rc);
	}
	print_json(p.arr);
	json_decref(p.arr);
	return EXIT_OK;
}

static int list_cb(void *ctx, const struct store_zone_info *z)
{
	struct print_ctx *p = ctx;
	char nb[DNS_NAME_STRLEN], tb[64];
	fmt_time(tb, sizeof(tb), z->created_ns);
	if (p->arr) {
		json_t *o = json_pack("{s:s, s:I, s:I, s:I, s:s, s:I}", "zone", name_str(nb, z->apex),
		                      "serial", (json_int_t)z->serial, "rrsets", (json_int_t)z->nrrsets,
		                      "records", (json_int_t)z->nrrs, "created", tb, "flags",
		                      (json_int_t)z->flags);
		if (!o || json_array_append_new(p->arr, o) != 0)
			return DDI_ENOMEM;
		return 0;
	}
	printf("%-40s %10u %8" PRIu64 " %8" PRIu64 "  %s\n", name_str(nb, z->apex), z->serial,
	       z->nrrsets, z->nrrs, tb);
	return 0;
}

static int cmd_zone_list(struct ctl *c, int argc, char **argv)
{
	struct store_error e;
	if (want_help(argc, argv, help_list))
		return EXIT_OK;
	if (positional(&argc, &argv) != 0)
		return usage("zone list takes no arguments");
	int rc = open_store(c, false);
	if (rc)
		return rc;
	struct print_ctx p = { .c = c, .arr = c->json ? json_array() : NULL };
	if (c->json && !p.arr)
		return fail(c, "out of memory");
	if (!c->json)
		printf("%-40s %10s %8s %8s  %s\n", "ZONE", "SERIAL", "RRSETS", "RECORDS", "CREATED");
	if ((rc = store_zone_list(c->s, true, list_cb, &p, &e)) != 0) {
		json_decref(p.arr);
		return store_fail(c, &e, rc);
	}
	if (p.arr) {
		print_json(p.arr);
		json_decref(p.arr);
	}
	return EXIT_OK;
}

static int cmd_zone_add(struct ctl *c, int argc, char **argv)
{
	static const struct option opts[] = {
		{ "soa", required_argument, NULL, 'S' },
		{ "ns", required_argument, NULL, 'n' },
		{ "ttl", required_argument, NULL, 't' },
		{ "help", no_argument, NULL, 'h' },
		{ 0 },
	};
	const char *soa = NULL, *ttl = "3600";
	const char *ns[64];
	size_t nns = 0;
	uint8_t origin[DNS_NAME_MAXLEN];
	char nb[DNS_NAME_STRLEN];
	int o;
	optind = 0;
	while ((o = getopt_long(argc, argv, "h", opts, NULL)) != -1) {
		switch (o) {
		case 'S':
			soa = optarg;
			break;
		case 'n':
			if (nns == 64)
				return usage("at most 64 --ns");
			ns[nns++] = optarg;
			break;
		case 't':
			ttl = optarg;
			break;
		case 'h':
			fputs(help_add, stdout);
			return EXIT_OK;
		default:
			return usage("zone add: bad option");
		}
	}
	argc -= optind;
	argv += optind;
	if (argc != 1)
		return usage("zone add takes ORIGIN [--soa SOA] [--ns NAME]... [--ttl TTL]");
	if (!parse_name(origin, argv[0]))
		return usage("not a valid zone name: '%s'", argv[0]);

	/* The records as a small master file relative to ORIGIN: one parser for all input. */
	struct text t = { 0 };
	char line[256];
	bool ok = text_str(&t, "@ ") && text_arg(&t, ttl) && text_str(&t, " IN SOA ");
	if (soa) {
		ok = ok && text_str(&t, soa);
	} else {
		snprintf(line, sizeof(line), " hostmaster 1 3600 900 1209600 300");
		ok = ok && text_str(&t, nns ? ns[0] : "ns1") && text_str(&t, line);
	}
	ok = ok && text_str(&t, "\n");
	for (size_t i = 0; i < nns && ok; i++)
		ok = text_str(&t, "@ ") && text_arg(&t, ttl) && text_str(&t, " IN NS ") &&
		     text_arg(&t, ns[i]) && text_str(&t, "\n");
	if (!ok) {
		free(t.p);
		return fail(c, "out of memory");
	}
	struct recs r = { 0 };
	int rc = parse_text(c, &t, origin, &r);
	free(t.p);
	if (rc) {
		recs_free(&r);
		return rc;
	}
	if (r.n != 1 + nns || r.v[0].type != DNS_T_SOA) {
		recs_free(&r);
		return fail(c, "--soa must hold exactly the SOA rdata");
	}
	struct store_op ops[3] = {
		{ .kind = STORE_OP_ZONE_ADD, .zone = origin },
		{ .kind = STORE_OP_RRSET_REPLACE, .zone = origin, .owner = origin, .type = DNS_T_SOA,
		  .ttl = r.v[0].ttl },
		{ .kind = STORE_OP_RRSET_REPLACE, .zone = origin, .owner = origin, .type = DNS_T_NS,
		  .ttl = r.n > 1 ? r.v[1].ttl : 0 },
	};
	uint8_t *soard = NULL, *nsrd = NULL;
	{
		struct recs one = { .n = 1, .v = r.v };
		soard = rdatas_of(&one, 0, &ops[1].count, &ops[1].rdatas_len);
	}
	nsrd = rdatas_of(&r, 1, &ops[2].count, &ops[2].rdatas_len);
	ops[1].rdatas = soard;
	ops[2].rdatas = nsrd;
	struct store_error e;
	uint64_t seq = 0;
	rc = !soard || !nsrd ? fail(c, "out of memory") : open_store(c, true);
	if (rc == 0) {
		rc = store_commit(c->s, c->actor, ops, nns ? 3 : 2, &seq, &e);
		rc = rc ? store_fail(c, &e, rc)
		        : done(c, seq, "zone %s added", name_str(nb, origin));
	}
	free(soard);
	free(nsrd);
	recs_free(&r);
	return rc;
}

static int cmd_zone_remove(struct ctl *c, int argc, char **argv)
{
	uint8_t origin[DNS_NAME_MAXLEN];
	char nb[DNS_NAME_STRLEN];
	struct store_error e;
	uint64_t seq;
	if (want_help(argc, argv, help_remove))
		return EXIT_OK;
	if (positional(&argc, &argv) != 1)
		return usage("zone remove takes ORIGIN");
	if (!parse_name(origin, argv[0]))
		return usage("not a valid zone name: '%s'", argv[0]);
	int rc = open_store(c, false);
	if (rc)
		return rc;
	struct store_op op = { .kind = STORE_OP_ZONE_REMOVE, .zone = origin };
	if ((rc = store_commit(c->s, c->actor, &op, 1, &seq, &e)) != 0)
		return store_fail(c, &e, rc);
	return done(c, seq, "zone %s removed", name_str(nb, origin));
}

/* ------------------------------------------------------------------------ */
/* record ...                                                               */
/* ------------------------------------------------------------------------ */

/* "NAME TTL IN TYPE RDATA..." from arguments, parsed by the master-file reader. */
static int parse_record(struct ctl *c, const char *name, const char *ttl, const char *type,
                        char **rdata, int nrdata, struct recs *r)
{
	struct text t = { 0 };
	bool ok = text_arg(&t, name) && text_str(&t, " ") && text_arg(&t, ttl) &&
	          text_str(&t, " IN ") && text_arg(&t, type);
	for (int i = 0; i < nrdata && ok; i++)
		ok = text_str(&t, " ") && text_arg(&t, rdata[i]);
	ok = ok && text_str(&t, "\n");
	if (!ok) {
		free(t.p);
		return fail(c, "out of memory");
	}
	int rc = parse_text(c, &t, NULL, r);
	free(t.p);
	if (rc == 0 && r->n != 1)
		rc = fail(c, "expected one record");
	return rc;
}

static int cmd_record_add(struct ctl *c, int argc, char **argv)
{
	char nb[DNS_NAME_STRLEN];
	struct store_error e;
	struct recs r = { 0 };
	uint64_t seq;
	if (want_help(argc, argv, help_radd))
		return EXIT_OK;
	if (positional(&argc, &argv) < 4)
		return usage("record add takes NAME TTL TYPE RDATA...");
	uint64_t before = 0;
	int rc = parse_record(c, argv[0], argv[1], argv[2], argv + 3, argc - 3, &r);
	if (rc == 0)
		rc = open_store(c, false);
	if (rc == 0 && (rc = store_last_seq(c->s, &before, &e)) != 0)
		rc = store_fail(c, &e, rc);
	if (rc == 0) {
		uint16_t count;
		size_t len;
		uint8_t *rd = rdatas_of(&r, 0, &count, &len);
		struct store_op op = { .kind = STORE_OP_RR_ADD, .owner = r.v[0].owner,
		                       .type = r.v[0].type, .ttl = r.v[0].ttl, .count = count,
		                       .rdatas = rd, .rdatas_len = len };
		if (!rd)
			rc = fail(c, "out of memory");
		else if ((rc = store_commit(c->s, c->actor, &op, 1, &seq, &e)) != 0)
			rc = store_fail(c, &e, rc);
		else
			rc = done(c, seq, "%s %s %s", seq == before ? "already there, no change:" : "added",
			          name_str(nb, r.v[0].owner), dns_type_name(r.v[0].type));
		free(rd);
	}
	recs_free(&r);
	return rc;
}

static int cmd_record_delete(struct ctl *c, int argc, char **argv)
{
	char nb[DNS_NAME_STRLEN];
	uint8_t owner[DNS_NAME_MAXLEN];
	struct store_error e;
	struct recs r = { 0 };
	struct store_op op = { .kind = STORE_OP_RRSET_DELETE, .owner = owner };
	uint8_t *rd = NULL;
	uint64_t seq;
	int rc;
	if (want_help(argc, argv, help_rdel))
		return EXIT_OK;
	if (positional(&argc, &argv) < 1)
		return usage("record delete takes NAME [TYPE [RDATA...]]");
	if (!parse_name(owner, argv[0]))
		return usage("not a valid name: '%s'", argv[0]);
	if (argc >= 2) {
		op.type = dns_type_from_str(argv[1], strlen(argv[1]));
		if (!op.type)
			return usage("unknown type '%s'", argv[1]);
	}
	if (argc >= 3) {
		if ((rc = parse_record(c, argv[0], "0", argv[1], argv + 2, argc - 2, &r)) != 0) {
			recs_free(&r);
			return rc;
		}
		rd = rdatas_of(&r, 0, &op.count, &op.rdatas_len);
		if (!rd) {
			recs_free(&r);
			return fail(c, "out of memory");
		}
		op.kind = STORE_OP_RR_DELETE;
		op.rdatas = rd;
	}
	rc = open_store(c, false);
	if (rc == 0) {
		if ((rc = store_commit(c->s, c->actor, &op, 1, &seq, &e)) != 0)
			rc = store_fail(c, &e, rc);
		else
			rc = done(c, seq, "deleted %s%s%s", name_str(nb, owner), op.type ? " " : "",
			          op.type ? dns_type_name(op.type) : "");
	}
	free(rd);
	recs_free(&r);
	return rc;
}

static int cmd_record_get(struct ctl *c, int argc, char **argv)
{
	uint8_t owner[DNS_NAME_MAXLEN];
	struct store_error e;
	uint16_t type = 0;
	if (want_help(argc, argv, help_rget))
		return EXIT_OK;
	if (positional(&argc, &argv) < 1 || argc > 2)
		return usage("record get takes NAME [TYPE]");
	if (!parse_name(owner, argv[0]))
		return usage("not a valid name: '%s'", argv[0]);
	if (argc == 2 && !(type = dns_type_from_str(argv[1], strlen(argv[1]))))
		return usage("unknown type '%s'", argv[1]);
	int rc = open_store(c, false);
	if (rc)
		return rc;
	struct print_ctx p = { .c = c, .arr = c->json ? json_array() : NULL };
	if (c->json && !p.arr)
		return fail(c, "out of memory");
	if ((rc = store_rrset_get(c->s, owner, type, print_rrset, &p, &e)) != 0) {
		json_decref(p.arr);
		return store_fail(c, &e, rc);
	}
	if (p.arr) {
		print_json(p.arr);
		json_decref(p.arr);
	}
	return EXIT_OK;
}

/* ------------------------------------------------------------------------ */
/* journal                                                                  */
/* ------------------------------------------------------------------------ */

static int journal_cb(void *ctx, const struct store_journal_entry *je)
{
	struct print_ctx *p = ctx;
	char tb[64], zb[DNS_NAME_STRLEN], ob[DNS_NAME_STRLEN];
	if (p->arr) {
		json_t *o = json_loads(je->json, 0, NULL);
		if (!o || json_array_append_new(p->arr, o) != 0)
			return DDI_ENOMEM;
		return 0;
	}
	fmt_time(tb, sizeof(tb), je->time_ns);
	printf("%-8" PRIu64 " %s  %s  %zu op%s\n", je->seq, tb, je->actor, je->nops,
	       je->nops == 1 ? "" : "s");
	for (size_t i = 0; i < je->nops; i++) {
		const struct store_journal_op *o = &je->ops[i];
		printf("         %-14s %-30s %-30s %-6s %" PRIu64 " -> %" PRIu64 "\n",
		       store_jop_name(o->op), name_str(zb, o->zone), name_str(ob, o->owner),
		       o->type ? dns_type_name(o->type) : "-", o->old_count, o->new_count);
	}
	return 0;
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

static int cmd_journal(struct ctl *c, int argc, char **argv)
{
	static const struct option opts[] = {
		{ "since", required_argument, NULL, 's' },
		{ "limit", required_argument, NULL, 'l' },
		{ "help", no_argument, NULL, 'h' },
		{ 0 },
	};
	uint64_t since = 1, limit = 0;
	struct store_error e;
	int o;
	optind = 0;
	while ((o = getopt_long(argc, argv, "h", opts, NULL)) != -1) {
		switch (o) {
		case 's':
			if (!parse_u64(optarg, &since))
				return usage("--since wants a number, not '%s'", optarg);
			break;
		case 'l':
			if (!parse_u64(optarg, &limit))
				return usage("--limit wants a number, not '%s'", optarg);
			break;
		case 'h':
			fputs(help_journal, stdout);
			return EXIT_OK;
		default:
			return usage("journal: bad option");
		}
	}
	if (argc != optind)
		return usage("journal takes no arguments besides --since and --limit");
	int rc = open_store(c, false);
	if (rc)
		return rc;
	struct print_ctx p = { .c = c, .arr = c->json ? json_array() : NULL };
	if (c->json && !p.arr)
		return fail(c, "out of memory");
	if (!c->json)
		printf("%-8s %-20s  %s\n", "SEQ", "TIME", "ACTOR");
	if ((rc = store_journal_read(c->s, since, (size_t)limit, journal_cb, &p, &e)) != 0) {
		json_decref(p.arr);
		return store_fail(c, &e, rc);
	}
	if (p.arr) {
		print_json(p.arr);
		json_decref(p.arr);
	}
	return EXIT_OK;
}

/* ------------------------------------------------------------------------ */
/* main                                                                     */
/* ------------------------------------------------------------------------ */

static const struct cmd {
	const char *group, *name;
	int (*fn)(struct ctl *c, int argc, char **argv);
} cmds[] = {
	{ "zone", "import", cmd_zone_import },
	{ "zone", "export", cmd_zone_export },
	{ "zone", "list", cmd_zone_list },
	{ "zone", "add", cmd_zone_add },
	{ "zone", "remove", cmd_zone_remove },
	{ "record", "add", cmd_record_add },
	{ "record", "delete", cmd_record_delete },
	{ "record", "get", cmd_record_get },
	{ "journal", NULL, cmd_journal },
};

static void set_actor(struct ctl *c)
{
	uid_t uid = getuid();
	struct passwd *pw = getpwuid(uid);
	if (pw && pw->pw_name && pw->pw_name[0])
		snprintf(c->actor, sizeof(c->actor), "unix:%.250s", pw->pw_name);
	else
		snprintf(c->actor, sizeof(c->actor), "unix:uid=%u", (unsigned)uid);
}

int main(int argc, char **argv)
{
	static const struct option opts[] = {
		{ "db", required_argument, NULL, 'd' },
		{ "socket", required_argument, NULL, 's' },
		{ "json", no_argument, NULL, 'j' },
		{ "map-size", required_argument, NULL, 'm' },
		{ "help", no_argument, NULL, 'h' },
		{ "version", no_argument, NULL, 'V' },
		{ 0 },
	};
	struct ctl c = { 0 };
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
		case 'h':
			fputs(help_main, stdout);
			return EXIT_OK;
		case 'V':
			printf("ddictl %s\n", DDI_VERSION);
			return EXIT_OK;
		default:
			return usage("bad option");
		}
	}
	argc -= optind;
	argv += optind;
	if (argc < 1)
		return usage("no command given");

	const struct cmd *cmd = NULL;
	for (size_t i = 0; i < sizeof(cmds) / sizeof(cmds[0]) && !cmd; i++) {
		if (strcmp(argv[0], cmds[i].group) != 0)
			continue;
		if (!cmds[i].name)
			cmd = &cmds[i];
		else if (argc >= 2 && strcmp(argv[1], cmds[i].name) == 0)
			cmd = &cmds[i];
	}
	if (!cmd && argc >= 2 && (strcmp(argv[1], "--help") == 0 || strcmp(argv[1], "-h") == 0)) {
		fputs(help_main, stdout);
		return EXIT_OK;
	}
	if (!cmd) {
		if (argc >= 1 && (strcmp(argv[0], "zone") == 0 || strcmp(argv[0], "record") == 0))
		{
			if (argc >= 2)
				return usage("unknown subcommand '%s %s'", argv[0], argv[1]);
			return usage("'%s' needs a subcommand", argv[0]);
		}
		if (strcmp(argv[0], "help") == 0) {
			fputs(help_main, stdout);
			return EXIT_OK;
		}
		return usage("unknown command '%s'", argv[0]);
	}
	if (cmd->name) {   /* the subcommand's argv[0] is its own name */
		argc--;
		argv++;
	}
	/* help needs no store */
	bool help = false;
	for (int i = 1; i < argc && strcmp(argv[i], "--") != 0; i++)
		help = help || strcmp(argv[i], "--help") == 0 || strcmp(argv[i], "-h") == 0;
	if (!help && !c.db) {
		if (c.sock) {
			fprintf(stderr, "ddictl: control socket not supported yet, use --db\n");
			return EXIT_ERR;
		}
		return usage("no store given: use --db DIR");
	}
	set_actor(&c);
	int rc = cmd->fn(&c, argc, argv);
	store_close(c.s);
	return rc;
}
