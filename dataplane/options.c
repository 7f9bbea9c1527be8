/* options -- ddiplane's command line, with getopt_long, and its --help */
#include <arpa/inet.h>
#include <errno.h>
#include <getopt.h>
#include <limits.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "control/ddns/refusal.h"
#include "control/ddns/thread.h"
#include "control/log.h"
#include "control/tcp/tcp.h"
#include "dataplane/options.h"
#include "dataplane/worker.h"
#include "dns/cookie.h"
#include "dns/name.h"
#include "dns/wire.h"

static void usage_hardening(FILE *f)
{
	fputs(
"RESPONSE RATE LIMITING\n"
"    With --rrl-rate N every UDP response a worker sends is charged to the\n"
"    client's prefix (/24 for IPv4, /56 for IPv6) and to its kind: answer,\n"
"    NODATA, NXDOMAIN, referral, error (REFUSED, FORMERR, SERVFAIL,\n"
"    NOTIMP, BADVERS). Each prefix and kind may receive N responses per\n"
"    second (a bucket holds one second's worth and refills continuously).\n"
"    Over that rate a response is dropped, except every --rrl-slip'th one,\n"
"    which is sent truncated (TC=1, no records) so that a real client\n"
"    behind a spoofed flood retries over TCP, which cannot be spoofed. A\n"
"    query that carries a valid server cookie (below) has proved its\n"
"    address and is not limited. Each worker keeps its own table\n"
"    (--rrl-table-size buckets of 16 bytes; lock-free, nothing allocated\n"
"    per query): with RSS a client's queries meet one worker. Counted as\n"
"    rrl_passed, rrl_exempt, rrl_dropped and rrl_slipped in \"ddictl stats\"\n"
"    and ddiplane_packets_total in /metrics. DNS over TCP is not limited.\n"
"    The same settings elsewhere:\n"
"      ddiplane           Knot DNS (mod-rrl)     NSD\n"
"      --rrl-rate N       rate-limit: N          rrl-ratelimit: N (default 200)\n"
"      --rrl-slip N       slip: N                rrl-slip: N (default 2)\n"
"      --rrl-table-size N table-size: N          rrl-size: N (default 1000000)\n"
"      --rrl-exempt P     whitelist: P           rrl-whitelist-ratelimit (by class)\n"
"      /24 and /56        /24 and /56            rrl-ipv4-prefix-length: 24,\n"
"                                                rrl-ipv6-prefix-length: 64\n"
"    Knot and NSD also put the question name (or zone) in the key; here\n"
"    the key is the prefix and the kind only.\n"
"\n"
"DNS COOKIES\n"
"    On by default (RFC 7873, server cookies as RFC 9018: version 1, a\n"
"    timestamp and SipHash-2-4 of client cookie, timestamp and client\n"
"    address under a 16-byte secret). A query with a client cookie gets it\n"
"    back with a fresh server cookie in the OPT; a valid server cookie (made\n"
"    with the current or the previous secret, at most 1 hour old and at most\n"
"    5 minutes ahead) is echoed, or replaced when older than 30 minutes; an\n"
"    invalid one is answered normally with a new one (RFC 7873 5.2.4: no\n"
"    query here requires a valid cookie, so BADCOOKIE is never sent); a\n"
"    COOKIE option whose length is not 8 or 16..40 bytes is answered\n"
"    FORMERR (5.2.2). The secret is drawn with getrandom() at start and\n"
"    replaced every --cookie-secret-lifetime hours, the previous one\n"
"    staying valid. Counted as cookie_new, cookie_valid, cookie_refreshed,\n"
"    cookie_bad and cookie_malformed. Served by the workers (UDP) and by the\n"
"    TCP server alike (counted there as tcp_cookie_*).\n"
"    Anycast: servers behind one address must accept each other's cookies\n"
"    (RFC 9018 6), so they share a secret: --cookie-secret-file FILE holds\n"
"    it as 32 hexadecimal digits on a line ('#' starts a comment). A second\n"
"    secret line is accepted but makes no cookies; to roll a fleet, put the\n"
"    new secret first and the old one second on every server, reload them\n"
"    (SIGHUP or 'ddictl reload'), and drop the old line an hour later. With\n"
"    a file nothing rotates on its own. Make one with\n"
"      od -An -tx1 -N16 /dev/urandom | tr -d ' \\n'\n"
"\n",
	      f);
}

/* The --rrl-* and cookie options, in the OPTIONS list. */
static void usage_hardening_options(FILE *f)
{
	fprintf(f,
"    --rrl-rate N\n"
"        Response rate limiting (above): at most N responses per second,\n"
"        1..%u, per client prefix and response kind. 0 or absent: off.\n"
"    --rrl-slip N\n"
"        Of the responses over the rate, send every Nth truncated (TC=1)\n"
"        instead of dropping it, 0..%u (default %u, as NSD and BIND): 0 never,\n"
"        1 every one.\n"
"    --rrl-table-size N\n"
"        Rate-limiting buckets per lcore, a power of two, %u..%u (default\n"
"        %u). A bucket is one client prefix and kind seen recently.\n"
"    --rrl-exempt IP[/PLEN]\n"
"        Never limit clients in this prefix (monitoring, resolvers you\n"
"        trust). Repeat for more, at most %d.\n"
"    --no-cookies\n"
"        Ignore the COOKIE option (RFC 7873 5.2.1): no cookie is returned.\n"
"    --cookie-secret-lifetime HOURS\n"
"        Replace the cookie secret every HOURS hours, 1..8760 (default %d,\n"
"        as Knot's mod-cookies). Cookies of the previous secret stay valid.\n"
"    --cookie-secret-file FILE\n"
"        The cookie secret shared by the servers of an anycast address\n"
"        (above; BIND's cookie-secret, Knot's mod-cookies secret): one or\n"
"        two lines of 32 hex digits, the first making cookies. Read at start\n"
"        and at each reload; keep it readable by root only.\n",
	        RRL_RATE_MAX, RRL_SLIP_MAX, RRL_DEFAULT_SLIP, RRL_TABLE_SIZE_MIN, RRL_TABLE_SIZE_MAX,
	        RRL_DEFAULT_TABLE_SIZE, RRL_EXEMPT_MAX, DP_DEFAULT_COOKIE_LIFETIME_H);
}

static void usage_head(FILE *f, const char *prog)
{
	fprintf(f,
"NAME\n"
"    ddiplane - authoritative DNS server with a DPDK fast path\n"
"\n"
"SYNOPSIS\n"
"    %s [EAL options] -- --address IP[/PLEN] [--address IP[/PLEN] ...]\n"
"             [--db DIR] [--control PATH] [--access FILE] [--metrics IP:PORT]\n"
"             [--journal-poll-us N] [--nsid STR] [--idle-sleep-us N]\n"
"             [--tap-name NAME] [--no-steer-rx] [--udp-size N] [--tcp-max-clients N]\n"
"             [--tcp-max-per-client N] [--tcp-idle-timeout SECONDS] [--xfr-out-max N]\n"
"             [--rrl-rate N [--rrl-slip N] [--rrl-table-size N] [--rrl-exempt PREFIX ...]]\n"
"             [--no-cookies] [--cookie-secret-lifetime HOURS]\n"
"             [--cookie-secret-file FILE]\n"
"             [--log auto|stderr|syslog|journal] [--log-level SPEC]\n"
"             [--query-log FILE [--query-log-sample N]] [--catalog NAME]\n"
"             [--gss-principal DNS/HOST@REALM [--gss-keytab FILE]\n"
"              [--gss-max-contexts N] [--gss-key-lifetime SECONDS]]\n"
"             [--http IP:PORT [--http-cert FILE --http-key FILE]]\n"
"             [--sweep-interval-ms N] [--sweep-batch N]\n"
"             [--config FILE] [--help]\n"
"\n"
"DESCRIPTION\n"
"    ddiplane answers DNS queries over UDP on DPDK ports from an in-memory\n"
"    index built from the LMDB store in --db. The main lcore is the control\n"
"    lcore; every other lcore of the EAL core list (-l) is a worker that\n"
"    owns one RX and one TX queue on every port. What the workers do not\n"
"    answer themselves (ARP, ND, ICMP, TCP, fragments, IPv6 extension\n"
"    headers, UDP to other ports or addresses) goes to a tap interface that\n"
"    carries the service addresses and the port's MAC address in the\n"
"    kernel, and what the kernel sends there goes out of the port: ping,\n"
"    ARP/ND and DNS over TCP (served by ddiplane on the kernel side) work.\n"
"    Messages with an opcode other than QUERY are handed to the control\n"
"    lcore: UPDATE and NOTIFY go on to the DDNS thread (below), every\n"
"    other opcode is answered NOTIMP.\n"
"\n"
"DYNAMIC UPDATES AND NOTIFY\n"
"    RFC 2136 UPDATE, over UDP and TCP, is served by one DDNS thread, never\n"
"    by an lcore. It checks the TSIG signature (RFC 8945; keys made with\n"
"    \"ddictl key add\"; unknown key or bad signature: NOTAUTH with BADKEY or\n"
"    BADSIG, clock skew: BADTIME), the update policy (\"ddictl policy add\":\n"
"    which key may change which names, types and subnets; anything else is\n"
"    REFUSED), the prerequisites (YXDOMAIN, NXRRSET, ...), then writes the\n"
"    change with its journal entry in the LMDB store. An\n"
"    A/AAAA inside an IPAM prefix becomes a dynamic allocation owned by the\n"
"    key. Updates that arrive together are committed as one group: one\n"
"    write transaction and one sync for up to %d of them, each still all or\n"
"    nothing. The answer leaves only after the sync (RFC 2136 3.5); if the\n"
"    group cannot be committed, no answer is sent and the clients retry.\n"
"    The workers then answer the change as soon as the control thread has\n"
"    published it (within milliseconds).\n"
"\n"
"    The control lcore only queues an UPDATE or NOTIFY (a ring of %d\n"
"    messages) and wakes the DDNS thread; it never waits for the store.\n"
"    While another process holds the store's write lock (\"ddictl --db\n"
"    DIR zone import\", a backup), updates wait in that queue and ping, ARP,\n"
"    DNS over TCP and queries keep being answered. When the queue is full,\n"
"    a further UDP update is dropped and counted (ddns_queue_full in\n"
"    \"ddictl stats\" and ddiplane_packets_total in /metrics); the client\n"
"    retransmits. Over TCP at most %d updates wait; a further one is\n"
"    answered SERVFAIL at once (tcp_queue_full). The DDNS thread's outcomes\n"
"    (answers by rcode, batches, largest batch) are under \"ddns\" in\n"
"    \"ddictl stats\" and ddiplane_ddns_messages_total in /metrics.\n"
"\n"
"    Queries signed with TSIG (dig -y, kdig -y, a secondary's SOA check)\n"
"    get signed answers (RFC 8945 5.3): the workers hand them to the DDNS\n"
"    thread, which verifies the signature with the store's keys (and\n"
"    GSS-TSIG contexts), answers from the index exactly as the workers do\n"
"    and signs the answer; BADKEY and BADSIG are answered NOTAUTH unsigned,\n"
"    BADTIME NOTAUTH signed; an answer that does not fit UDP with its TSIG\n"
"    is sent as question and TSIG with TC set. Any known key may ask any\n"
"    question. Signed queries pass neither RRL nor cookies; they may take\n"
"    at most half of the DDNS ring, beyond that they are dropped and\n"
"    counted (signed_ddns_full), so that updates always keep half. Counted\n"
"    as signed_to_ddns (packets) and signed_query_answered, _truncated,\n"
"    _formerr, _badkey, _badsig, _badtime (\"ddns\" in \"ddictl stats\",\n"
"    ddiplane_ddns_messages_total{outcome} in /metrics).\n"
"\n"
"    Refusals do not grow the store: the journal records changes, and\n"
"    anyone who reaches port 53 can send UPDATEs. Every update that changed\n"
"    nothing is counted by reason (\"ddns\" -> \"refused_by\" in \"ddictl\n"
"    stats\", ddiplane_ddns_refused_total{reason} in /metrics: unsigned,\n"
"    tsig_badkey, tsig_badsig, tsig_badtime, policy, yxdomain, ...) and each\n"
"    refusal is logged to stderr, at most %d lines a second, the rest summed\n"
"    up in one \"N more refused updates not logged\" line. Only an update\n"
"    signed with a known key (TSIG verified, in time) that was refused by\n"
"    policy, a prerequisite or the store, or changed nothing, is noted in\n"
"    the journal (key, source, zone, reason), and at most once per key and\n"
"    reason every %u s: the next note says how many were folded into the\n"
"    last one. Unsigned, BADKEY, BADSIG and BADTIME (a replayed capture)\n"
"    updates are never noted.\n"
"\n"
"    NOTIFY (RFC 1996) is answered NOERROR for a zone this server serves\n"
"    and NOTAUTH for any other; FORMERR when malformed.\n"
"\n",
	        prog, DDNS_BURST, DP_DDNS_RING_SIZE, DDNS_TCP_QUEUE, DDNS_LOG_PER_SEC, DDNS_NOTE_INTERVAL_MS / 1000);
}

static void usage_tcp(FILE *f)
{
	fprintf(f,
"DNS OVER TCP\n"
"    Queries, UPDATE and NOTIFY over TCP (RFC 7766) are served by one thread\n"
"    on the kernel side of the tap. It holds at most --tcp-max-clients\n"
"    connections, at most --tcp-max-per-client of them from one client (an\n"
"    IPv4 address or an IPv6 /64), and closes a connection that sent no\n"
"    complete message and took no answer for --tcp-idle-timeout seconds.\n"
"    A connection over a limit is accepted and reset at once, so that the\n"
"    client learns it at once instead of waiting in the listen backlog (RFC\n"
"    7766 6.2.3 allows zero timeouts under load or attack). Counted under\n"
"    \"tcp\" in \"ddictl stats\" (accepted, refused_total_limit,\n"
"    refused_client_limit, idle_closed, open) and as\n"
"    ddiplane_tcp_connections_total{outcome} in /metrics.\n"
"    Zone transfers out (AXFR, IXFR) run on --xfr-out-max threads of their\n"
"    own, apart from the thread that answers queries: a secondary that reads\n"
"    slowly or stops reading delays only its own transfer, never another\n"
"    client's query or transfer.\n"
"    An UPDATE, NOTIFY or TKEY over TCP is handed to the DDNS thread and the\n"
"    thread goes on serving other connections while it waits for its commit\n"
"    (the store's write lock, a sync). Its own connection waits: one update\n"
"    in flight per connection, and what the client pipelined after it is\n"
"    answered after it, in order. A connection closed meanwhile loses only\n"
"    its answer; the update itself is applied. Counted under \"tcp\" in\n"
"    \"ddictl stats\" (updates_in_flight, updates_discarded) and as\n"
"    ddiplane_tcp_updates_in_flight, ddiplane_tcp_updates_discarded_total.\n"
"\n"
"EAL OPTIONS (before \"--\"; see the DPDK documentation)\n"
"    -l 0,1           main lcore 0 (control), worker on lcore 1\n"
"    -a PCI           use this PCI device (a port)\n"
"    --vdev net_af_packet0,iface=IF\n"
"                     use the kernel interface IF as a port (no NIC needed)\n"
"    --no-huge -m 512 --no-shconf\n"
"                     run without hugepages (tests, demos); DPDK 22.11 refuses\n"
"                     --in-memory together with --no-huge\n"
"    --file-prefix P  run beside another DPDK process\n"
"\n");
}

static void usage_options(FILE *f)
{
	fprintf(f,
"OPTIONS (after \"--\")\n"
"    --address IP[/PLEN]\n"
"        A service address, IPv4 or IPv6; repeat for more (at most %d per\n"
"        family). UDP to port 53 of a service address is answered by the\n"
"        workers. The address is also configured on the tap in the kernel,\n"
"        with PLEN (default 32 or 128) giving the connected route: use the\n"
"        prefix of the attached network (e.g. 198.18.0.1/24) so that the\n"
"        kernel can answer ping and TCP without a route of its own. Other\n"
"        routes (a default gateway) are added on the tap by the operator.\n"
"        Required.\n"
"    --db DIR\n"
"        The LMDB store (default: %s, relative to the working\n"
"        directory: the embedded default database that scripts/run.sh\n"
"        creates from share/). Create or fill one with\n"
"        \"ddictl --db DIR zone import ORIGIN FILE\".\n"
"    --control PATH\n"
"        The control socket for ddictl (default: %s), a Unix\n"
"        stream socket of mode 0660 speaking JSON in the shape of ISC Kea's\n"
"        control channel (see ddictl --help). When the default cannot be\n"
"        created ddiplane warns and runs without one; an explicit PATH that\n"
"        cannot be created is a start error.\n"
"    --access FILE\n"
"        Roles of control socket peers, identified by SO_PEERCRED; one rule\n"
"        per line, first match wins: \"uid:N ROLE\", \"user:NAME ROLE\",\n"
"        \"gid:N ROLE\", \"group:NAME ROLE\" or \"* ROLE\", ROLE being admin,\n"
"        read-only or none. Without a rule that matches: uid 0 and\n"
"        ddiplane's own uid are admin, every other peer read-only.\n"
"    --metrics IP:PORT\n"
"        Serve Prometheus metrics at http://IP:PORT/metrics (e.g.\n"
"        127.0.0.1:9153): packets per lcore and outcome, responses by\n"
"        rcode, drops by reason, snapshot generation, journal sequence and\n"
"        lag, publish latency. Off by default. The same server answers\n"
"        http://IP:PORT/health: 200 while every worker runs and the\n"
"        published index follows the store, 503 with the reason when not.\n"
"    --http IP:PORT\n"
"        Serve the automation API at IP:PORT/api/v1/ (e.g. 198.18.0.1:8443):\n"
"        zones, records, prefixes, ranges, allocations, keys, policies,\n"
"        journal, stats, tokens and roles as JSON resources over the same\n"
"        commands as the control socket, each request authenticated by a\n"
"        bearer token (ddictl token add NAME --role ROLE) and checked against\n"
"        the token's role and its zones or prefixes; every change is\n"
"        journaled with actor token:NAME. Its OpenAPI 3 document is at\n"
"        /api/v1/openapi.json. Without --http-cert and --http-key the API\n"
"        is plain HTTP, which is allowed only on a loopback address.\n"
"        Bounds: 4 MiB of body, 64 KiB of headers, 64 connections (32 per\n"
"        client address), 10 s of inactivity per connection.\n"
"        Counted in ddiplane_http_requests_total{outcome} in /metrics.\n"
"    --http-cert FILE, --http-key FILE\n"
"        PEM certificate (chain) and private key: the API speaks HTTPS\n"
"        (TLS through libmicrohttpd's GnuTLS). Read once at start.\n"
"    --config FILE\n"
"        Read settings from FILE first (default /etc/ddiplane/ddiplane.conf\n"
"        when it exists): one \"NAME VALUE\" per line, NAME a long option\n"
"        of this page without its dashes, '#' comments; flags override it.\n"
"        Errors name the file and line. ddictl reload and SIGHUP re-read it:\n"
"        the log settings, --access and the rate and slip of a running rate\n"
"        limiter apply at once, the rest at restart.\n"
"    --log auto|stderr|syslog|journal\n"
"        Where the log goes (default auto: the systemd journal when stderr\n"
"        is connected to it, else stderr). Lines have a level and a\n"
"        subsystem (dataplane, store, follow, ddns, xfr, mgmt, tcp); every\n"
"        change the control thread publishes is logged at info with its\n"
"        actor (journal field DDI_ACTOR), refused updates at info at most\n"
"        10 lines a second. The workers never log: they count.\n"
"    --catalog NAME\n"
"        Serve a catalog zone (RFC 9432, version 2) called NAME (e.g.\n"
"        catalog.invalid.), generated from the store: one member PTR per zone\n"
"        whose ACL lets someone transfer it. Transferred and NOTIFYed like\n"
"        any zone, with the ACL of \"ddictl zone acl NAME --catalog\".\n"
"    --sweep-interval-ms N\n"
"        How often (default 1000 ms, 10..60000) a control-plane thread removes\n"
"        the dynamic records whose update lease (RFC 9664) ended, with the\n"
"        dynamic IPAM allocations they registered (their PTRs go with them),\n"
"        journaled with actor \"lease-expiry\", and scavenges the zones whose\n"
"        aging period is due (\"ddictl zone aging\"; actor \"scavenger\").\n"
"        Leases are in the store: they survive a restart, and what expired\n"
"        while the server was down goes at the first tick.\n"
"    --sweep-batch N\n"
"        RRsets removed per journaled commit (default 1000, 1..100000). The\n"
"        store's write lock is released between batches, so dynamic updates\n"
"        interleave with a large expiry; larger batches remove faster and\n"
"        hold the lock longer.\n"
"    --gss-principal DNS/HOST@REALM\n"
"        Accept GSS-TSIG (RFC 3645) dynamic updates, as Windows clients,\n"
"        Active Directory and nsupdate -g send them: TKEY queries (RFC 2930,\n"
"        mode 3) over UDP or TCP negotiate a Kerberos context with this\n"
"        service principal, and the context becomes a key, named as the\n"
"        client chose, that signs its UPDATEs. Clients name the principal\n"
"        after the zone's SOA MNAME: DNS/ns1.example.com@EXAMPLE.COM serves\n"
"        a zone whose primary is ns1.example.com. The update policy then\n"
"        names Kerberos principals instead of TSIG keys (see ddictl policy:\n"
"        \"host/h1.example.com@EXAMPLE.COM\", \"@EXAMPLE.COM\" for a whole\n"
"        realm, `self` for hosts updating their own names). Off by default;\n"
"        startup fails when the keytab holds no key for the principal.\n"
"    --gss-keytab FILE\n"
"        The keytab holding the principal's keys (default: KRB5_KTNAME, else\n"
"        the system's /etc/krb5.keytab). Kerberos settings (realm, KDC) come\n"
"        from krb5.conf or KRB5_CONFIG; the server only needs the keytab: it\n"
"        never contacts the KDC.\n"
"    --gss-max-contexts N\n"
"        Negotiated keys kept at most (default 1024, 1..1048576). Only a\n"
"        client with a valid ticket creates one; a half-done negotiation\n"
"        (SPNEGO's extra leg) is kept 30 seconds and at most a quarter of\n"
"        the table holds them. When N keys are live, a new negotiation is\n"
"        REFUSED and counted (ddiplane_gss_total{outcome=\"table_full\"}).\n"
"    --gss-key-lifetime SECONDS\n"
"        A negotiated key lasts its Kerberos ticket's remaining lifetime, at\n"
"        most this (default 3600, 60..86400), then the client negotiates\n"
"        again.\n"
"    --query-log FILE\n"
"        Append one line per answered query (time, client#port, name,\n"
"        type, rcode, size) to FILE. Off by default. The workers copy each\n"
"        record into a ring of their own (no lock, no system call); one\n"
"        thread writes them every 100 ms; a full ring drops the record and\n"
"        counts it (query_log_dropped): a slow disk never slows the answers.\n"
"    --query-log-sample N\n"
"        Log one answered query in N on each worker (default 1: every one).\n"
"    --log-level SPEC\n"
"        LEVEL for all subsystems, SUBSYSTEM=LEVEL for one, comma-separated\n"
"        (err, warning, notice, info, debug; default info), e.g.\n"
"        \"info,follow=notice\" to keep changes out of the log.\n",
	        DP_MAX_ADDRS, DP_DEFAULT_DB, DP_DEFAULT_CONTROL);
}

static void usage_more_options(FILE *f)
{
	fprintf(f,
"    --journal-poll-us N\n"
"        How often the control thread looks for commits made by other\n"
"        processes (ddictl --db) in the store, 100..1000000 us (default\n"
"        1000). Changes made through the control socket wake it at once.\n"
"    --nsid STR\n"
"        Answer EDNS NSID requests (RFC 5001) with STR (at most %d bytes).\n"
"    --idle-sleep-us N\n"
"        After a run of empty polls a worker goes RCU-offline and sleeps N\n"
"        microseconds (default %d). 0: never sleep (benchmarks; the\n"
"        worker then keeps its core at 100%%).\n"
"    --tap-name NAME\n"
"        Kernel name of the exception-path tap of the first port (default\n"
"        %s); the tap of port i > 0 is NAME followed by i.\n"
"    --no-steer-rx\n"
"        Leave the receive steering of net_af_packet ports alone. By default\n"
"        a port driven through a kernel interface whose Receive Packet\n"
"        Steering map (/sys/class/net/IF/queues/rx-N/rps_cpus) holds a\n"
"        worker's CPU gets the CPUs no worker polls instead, restored at\n"
"        exit: the kernel's receive work for each frame would otherwise\n"
"        take the worker's core and, under overload, starve it (receive\n"
"        livelock). Interrupts of a real NIC under net_af_packet belong off\n"
"        the workers too: /proc/irq/N/smp_affinity.\n"
"    --udp-size N\n"
"        Our EDNS UDP payload size, 512..%d (default %d): the largest UDP\n"
"        answer, whatever the client advertises. Larger answers are\n"
"        truncated (TC) and the client retries over TCP. Capped to what the\n"
"        port's MTU carries, as ddiplane never fragments.\n"
"    --tcp-max-clients N\n"
"        TCP connections open at once, 1..%d (default %d: tens are\n"
"        enough for TC retries, DHCP servers' updates and transfers, and\n"
"        the default ulimit -n of 1024 holds them; the limit is raised to\n"
"        fit when the hard limit allows, else ddiplane does not start).\n"
"    --tcp-max-per-client N\n"
"        TCP connections open at once from one IPv4 address or IPv6 /64,\n"
"        1..N of --tcp-max-clients (default %d: RFC 7766 6.2.2 asks for\n"
"        limits \"much looser\" than a client's one or two, as a client\n"
"        address may be a NAT).\n"
"    --tcp-idle-timeout SECONDS\n"
"        Close a TCP connection that sent no complete message and took no\n"
"        answer for this long, 1..3600 (default %d, as Knot DNS). A zone\n"
"        transfer out may also wait this long in all for its reader to take\n"
"        the answer; past that it is given up and its connection closed\n"
"        (counted as out_timeout under \"xfr\" in \"ddictl stats\").\n"
"    --xfr-out-max N\n"
"        Zone transfers out (AXFR and IXFR over TCP) running at once, 1..%d\n"
"        (default %d; BIND's transfers-out is 10). Each runs on a thread of\n"
"        its own from one LMDB read snapshot, with at most ~128 KiB queued\n"
"        for its reader, so a slow or stopped secondary holds only its own\n"
"        transfer. A transfer the zone's ACL allows while N run is answered\n"
"        REFUSED at once, as BIND answers one over its quota (SERVFAIL would\n"
"        say the zone is broken); the secondary retries later or asks another\n"
"        primary. Counted as out_refused_limit under \"xfr\" in \"ddictl\n"
"        stats\" and ddiplane_xfr_total{outcome=\"out_refused_limit\"}; the\n"
"        transfers running now are out_running and the gauge\n"
"        ddiplane_xfr_out_running. Each running transfer holds one of LMDB's\n"
"        126 reader slots, hence the upper bound.\n"
"    --help\n"
"        Print this text and exit.\n"
"\n",
	        DP_NSID_MAX, DP_DEFAULT_IDLE_SLEEP_US, DP_DEFAULT_TAP, DNS_MSG_MAX - 48, DNS_EDNS_DEFAULT, TCP_MAX_CONNS_LIMIT, TCP_MAX_CONNS_DEFAULT, TCP_MAX_PER_CLIENT_DEFAULT, TCP_IDLE_TIMEOUT_MS_DEFAULT / 1000,
	        TCP_XFR_MAX_LIMIT, TCP_XFR_MAX_DEFAULT);
}

static void usage_tail(FILE *f)
{
	fprintf(f,
"SIGNALS\n"
"    SIGINT, SIGTERM: stop the workers, stop and close the ports, remove\n"
"    the tap, close the store, print the packet counters, exit 0.\n"
"\n"
"EXIT STATUS\n"
"    0 after a signal or --help, 1 on a start error (the message says why\n"
"    and what to do), 2 on a usage error.\n"
"\n"
"EXAMPLES\n"
"    build/ddictl --db var/db zone import ddi.test. share/ddi.test.zone\n"
"    ip netns exec ddi-srv build/ddiplane -l 0,1 --no-huge -m 512 --no-shconf --no-pci \\\n"
"        --vdev net_af_packet0,iface=ddi-s -- --db var/db \\\n"
"        --address 198.18.0.1/24 --address 2001:2::1/64\n"
"    ip netns exec ddi-cli dig @198.18.0.1 www.ddi.test A\n");
}

/* The manual page, in sections (each its own function, to stay readable). */
void dp_options_usage(FILE *f, const char *prog)
{
	usage_head(f, prog);
	usage_tcp(f);
	usage_hardening(f);
	usage_options(f);
	usage_more_options(f);
	usage_hardening_options(f);
	usage_tail(f);
}

int dp_options_add_address(struct dp_options *o, const char *s)
{
	char buf[INET6_ADDRSTRLEN + 8];
	if (strlen(s) >= sizeof(buf))
		return -1;
	strcpy(buf, s);
	long plen = -1;
	char *slash = strchr(buf, '/');
	if (slash) {
		char *end;
		*slash = '\0';
		errno = 0;
		plen = strtol(slash + 1, &end, 10);
		if (errno || end == slash + 1 || *end != '\0' || plen < 0)
			return -1;
	}
	uint8_t a[16];
	if (inet_pton(AF_INET, buf, a) == 1) {
		if (plen > 32 || o->svc.n4 >= DP_MAX_ADDRS)
			return -1;
		memcpy(o->svc.v4[o->svc.n4], a, 4);
		o->plen4[o->svc.n4++] = (uint8_t)(plen < 0 ? 32 : plen);
		return 0;
	}
	if (inet_pton(AF_INET6, buf, a) == 1) {
		if (plen > 128 || o->svc.n6 >= DP_MAX_ADDRS || a[0] == 0xff)
			return -1;
		memcpy(o->svc.v6[o->svc.n6], a, 16);
		o->plen6[o->svc.n6++] = (uint8_t)(plen < 0 ? 128 : plen);
		return 0;
	}
	return -1;
}

static int parse_uint(const char *s, unsigned long max, unsigned long *out)
{
	char *end;
	errno = 0;
	unsigned long v = strtoul(s, &end, 10);
	if (errno || end == s || *end != '\0' || s[0] == '-' || v > max)
		return -1;
	*out = v;
	return 0;
}

enum { OPT_DB = 256, OPT_CONTROL, OPT_ADDRESS, OPT_NSID, OPT_IDLE, OPT_TAP, OPT_UDP, OPT_HELP,
       OPT_METRICS, OPT_ACCESS, OPT_POLL, OPT_TCP_MAX, OPT_TCP_PER_CLIENT, OPT_TCP_IDLE,
       OPT_RRL_RATE, OPT_RRL_SLIP, OPT_RRL_SIZE, OPT_RRL_EXEMPT, OPT_NO_COOKIES,
       OPT_COOKIE_LIFETIME, OPT_LOG, OPT_LOG_LEVEL, OPT_CONFIG, OPT_QLOG, OPT_QLOG_SAMPLE,
       OPT_CATALOG, OPT_COOKIE_FILE, OPT_GSS_KEYTAB, OPT_GSS_PRINCIPAL, OPT_GSS_MAX,
       OPT_GSS_LIFETIME, OPT_HTTP, OPT_HTTP_CERT, OPT_HTTP_KEY, OPT_SWEEP_MS,
       OPT_SWEEP_BATCH, OPT_NO_STEER, OPT_XFR_OUT_MAX };

/* The --rrl-* and cookie options; 1 when `c` is not one of them, 0 or -1 (with a message). */
static int parse_hardening(struct dp_options *o, int c, const char *arg, FILE *err)
{
	unsigned long v;
	switch (c) {
	case OPT_RRL_RATE:
		if (parse_uint(arg, RRL_RATE_MAX, &v) < 0) {
			fprintf(err, "ddiplane: --rrl-rate must be 0..%u responses per second\n",
			        RRL_RATE_MAX);
			return -1;
		}
		o->rrl.rate = (uint32_t)v;
		return 0;
	case OPT_RRL_SLIP:
		if (parse_uint(arg, RRL_SLIP_MAX, &v) < 0) {
			fprintf(err, "ddiplane: --rrl-slip must be 0..%u\n", RRL_SLIP_MAX);
			return -1;
		}
		o->rrl.slip = (uint32_t)v;
		return 0;
	case OPT_RRL_SIZE:
		if (parse_uint(arg, RRL_TABLE_SIZE_MAX, &v) < 0 || v < RRL_TABLE_SIZE_MIN ||
		    (v & (v - 1)) != 0) {
			fprintf(err, "ddiplane: --rrl-table-size must be a power of two, %u..%u\n",
			        RRL_TABLE_SIZE_MIN, RRL_TABLE_SIZE_MAX);
			return -1;
		}
		o->rrl.table_size = (uint32_t)v;
		return 0;
	case OPT_RRL_EXEMPT:
		if (o->rrl.nexempt >= RRL_EXEMPT_MAX ||
		    rrl_prefix_parse(arg, &o->rrl.exempt[o->rrl.nexempt]) < 0) {
			fprintf(err, "ddiplane: bad --rrl-exempt '%s': give IP[/PLEN], IPv4 or IPv6 "
			        "(at most %d)\n", arg, RRL_EXEMPT_MAX);
			return -1;
		}
		o->rrl.nexempt++;
		return 0;
	case OPT_NO_COOKIES:
		o->no_cookies = true;
		return 0;
	case OPT_COOKIE_FILE:
		o->cookie_secret_file = arg;
		return 0;
	case OPT_COOKIE_LIFETIME:
		if (parse_uint(arg, 8760, &v) < 0 || v < 1) {
			fprintf(err, "ddiplane: --cookie-secret-lifetime must be 1..8760 hours\n");
			return -1;
		}
		o->cookie_lifetime_h = (unsigned)v;
		return 0;
	default:
		return 1;
	}
}

/* --log and --log-level (control/log.h); 1 when `c` is not one of them, 0 or -1 (with a message). */
static int parse_log(struct dp_options *o, int c, const char *arg, FILE *err)
{
	char why[160];
	switch (c) {
	case OPT_LOG:
		if (strcmp(arg, "auto") && strcmp(arg, "stderr") && strcmp(arg, "syslog") &&
		    strcmp(arg, "journal")) {
			fprintf(err, "ddiplane: --log must be auto, stderr, syslog or journal, not '%s'\n",
			        arg);
			return -1;
		}
		o->log_target = arg;
		return 0;
	case OPT_LOG_LEVEL:
		if (ddi_log_levels_check(arg, why, sizeof(why)) < 0) {
			fprintf(err, "ddiplane: --log-level: %s\n", why);
			return -1;
		}
		o->log_levels = arg;
		return 0;
	case OPT_QLOG:
		o->query_log = arg;
		return 0;
	case OPT_QLOG_SAMPLE: {
		unsigned long v;
		if (parse_uint(arg, 1000000, &v) < 0 || v < 1) {
			fprintf(err, "ddiplane: --query-log-sample must be 1..1000000\n");
			return -1;
		}
		o->query_log_sample = (unsigned)v;
		return 0;
	}
	default:
		return 1;
	}
}

static const struct option longopts[] = {
	{ "db", required_argument, NULL, OPT_DB },
	{ "control", required_argument, NULL, OPT_CONTROL },
	{ "address", required_argument, NULL, OPT_ADDRESS },
	{ "nsid", required_argument, NULL, OPT_NSID },
	{ "idle-sleep-us", required_argument, NULL, OPT_IDLE },
	{ "tap-name", required_argument, NULL, OPT_TAP },
	{ "no-steer-rx", no_argument, NULL, OPT_NO_STEER },
	{ "udp-size", required_argument, NULL, OPT_UDP },
	{ "help", no_argument, NULL, OPT_HELP },
	{ "metrics", required_argument, NULL, OPT_METRICS },
	{ "http", required_argument, NULL, OPT_HTTP },
	{ "http-cert", required_argument, NULL, OPT_HTTP_CERT },
	{ "http-key", required_argument, NULL, OPT_HTTP_KEY },
	{ "access", required_argument, NULL, OPT_ACCESS },
	{ "journal-poll-us", required_argument, NULL, OPT_POLL },
	{ "rrl-rate", required_argument, NULL, OPT_RRL_RATE },
	{ "rrl-slip", required_argument, NULL, OPT_RRL_SLIP },
	{ "rrl-table-size", required_argument, NULL, OPT_RRL_SIZE },
	{ "rrl-exempt", required_argument, NULL, OPT_RRL_EXEMPT },
	{ "no-cookies", no_argument, NULL, OPT_NO_COOKIES },
	{ "cookie-secret-lifetime", required_argument, NULL, OPT_COOKIE_LIFETIME },
	{ "cookie-secret-file", required_argument, NULL, OPT_COOKIE_FILE },
	{ "log", required_argument, NULL, OPT_LOG },
	{ "log-level", required_argument, NULL, OPT_LOG_LEVEL },
	{ "query-log", required_argument, NULL, OPT_QLOG },
	{ "query-log-sample", required_argument, NULL, OPT_QLOG_SAMPLE },
	{ "tcp-max-clients", required_argument, NULL, OPT_TCP_MAX },
	{ "tcp-max-per-client", required_argument, NULL, OPT_TCP_PER_CLIENT },
	{ "tcp-idle-timeout", required_argument, NULL, OPT_TCP_IDLE },
	{ "xfr-out-max", required_argument, NULL, OPT_XFR_OUT_MAX },
	{ "config", required_argument, NULL, OPT_CONFIG },
	{ "catalog", required_argument, NULL, OPT_CATALOG },
	{ "sweep-interval-ms", required_argument, NULL, OPT_SWEEP_MS },
	{ "sweep-batch", required_argument, NULL, OPT_SWEEP_BATCH },
	{ "gss-keytab", required_argument, NULL, OPT_GSS_KEYTAB },
	{ "gss-principal", required_argument, NULL, OPT_GSS_PRINCIPAL },
	{ "gss-max-contexts", required_argument, NULL, OPT_GSS_MAX },
	{ "gss-key-lifetime", required_argument, NULL, OPT_GSS_LIFETIME },
	{ NULL, 0, NULL, 0 },
};

static void defaults(struct dp_options *o)
{
	memset(o, 0, sizeof(*o));
	o->db = DP_DEFAULT_DB;
	o->control = DP_DEFAULT_CONTROL;
	o->idle_sleep_us = DP_DEFAULT_IDLE_SLEEP_US;
	o->tap_name = DP_DEFAULT_TAP;
	o->udp_size = DNS_EDNS_DEFAULT;
	rrl_conf_init(&o->rrl);
	o->cookie_lifetime_h = DP_DEFAULT_COOKIE_LIFETIME_H;
	o->tcp_max_clients = TCP_MAX_CONNS_DEFAULT;
	o->tcp_max_per_client = TCP_MAX_PER_CLIENT_DEFAULT;
	o->tcp_idle_timeout = TCP_IDLE_TIMEOUT_MS_DEFAULT / 1000;
	o->xfr_out_max = TCP_XFR_MAX_DEFAULT;
	o->query_log_sample = 1;
	o->sweep_ms = 1000;
	o->sweep_batch = 1000;

}

/*
 * One option, from the command line or the configuration file: 0, -1 with
 * a message on `err`, or 1 when `c` is no option.
 */
static int apply(struct dp_options *o, int c, const char *arg, FILE *err)
{
	unsigned long v;
	int hr = parse_hardening(o, c, arg, err);
	if (hr > 0)
		hr = parse_log(o, c, arg, err);
	if (hr <= 0)
		return hr;
	switch (c) {
	case OPT_DB: o->db = arg; break;
	case OPT_CONTROL: o->control = arg; o->control_given = true; break;
	case OPT_METRICS: o->metrics = arg; break;
	case OPT_HTTP: o->http = arg; break;
	case OPT_HTTP_CERT: o->http_cert = arg; break;
	case OPT_HTTP_KEY: o->http_key = arg; break;
	case OPT_ACCESS: o->access = arg; break;
	case OPT_POLL:
		if (parse_uint(arg, 1000000, &v) < 0 || v < 100) {
			fprintf(err, "ddiplane: --journal-poll-us must be 100..1000000\n");
			return -1;
		}
		o->poll_us = (unsigned)v;
		break;
	case OPT_ADDRESS:
		if (dp_options_add_address(o, arg) < 0) {
			fprintf(err, "ddiplane: bad --address '%s': give an IPv4 or IPv6 unicast "
			        "address, optionally with /PLEN (at most %d per family)\n",
			        arg, DP_MAX_ADDRS);
			return -1;
		}
		break;
	case OPT_NSID:
		if (strlen(arg) == 0 || strlen(arg) > DP_NSID_MAX) {
			fprintf(err, "ddiplane: --nsid must be 1..%d bytes\n", DP_NSID_MAX);
			return -1;
		}
		o->nsid = arg;
		break;
	case OPT_IDLE:
		if (parse_uint(arg, 1000000, &v) < 0) {
			fprintf(err, "ddiplane: --idle-sleep-us must be 0..1000000\n");
			return -1;
		}
		o->idle_sleep_us = (unsigned)v;
		break;
	case OPT_TAP:
		if (strlen(arg) == 0 || strlen(arg) > 12 || strchr(arg, '/') ||
		    strchr(arg, ',')) {
			fprintf(err, "ddiplane: --tap-name must be 1..12 characters, no '/' or ','\n");
			return -1;
		}
		o->tap_name = arg;
		break;
	case OPT_NO_STEER:
		o->no_steer_rx = true;
		break;
	case OPT_UDP:
		if (parse_uint(arg, DNS_MSG_MAX - 48, &v) < 0 || v < DNS_UDP_MIN) {
			fprintf(err, "ddiplane: --udp-size must be %d..%d\n", DNS_UDP_MIN,
			        DNS_MSG_MAX - 48);
			return -1;
		}
		o->udp_size = (uint16_t)v;
		break;
	case OPT_TCP_MAX:
	case OPT_TCP_PER_CLIENT:
		if (parse_uint(arg, TCP_MAX_CONNS_LIMIT, &v) < 0 || v < 1) {
			fprintf(err, "ddiplane: --%s must be 1..%d\n", c == OPT_TCP_MAX ?
			        "tcp-max-clients" : "tcp-max-per-client", TCP_MAX_CONNS_LIMIT);
			return -1;
		}
		*(c == OPT_TCP_MAX ? &o->tcp_max_clients : &o->tcp_max_per_client) = (unsigned)v;
		break;
	case OPT_TCP_IDLE:
		if (parse_uint(arg, 3600, &v) < 0 || v < 1) {
			fprintf(err, "ddiplane: --tcp-idle-timeout must be 1..3600 seconds\n");
			return -1;
		}
		o->tcp_idle_timeout = (unsigned)v;
		break;
	case OPT_XFR_OUT_MAX:
		if (parse_uint(arg, TCP_XFR_MAX_LIMIT, &v) < 0 || v < 1) {
			fprintf(err, "ddiplane: --xfr-out-max must be 1..%d\n", TCP_XFR_MAX_LIMIT);
			return -1;
		}
		o->xfr_out_max = (unsigned)v;
		break;
	case OPT_CATALOG: {
		char nb[DNS_NAME_STRLEN + 2];
		size_t l = strlen(arg);
		snprintf(nb, sizeof(nb), "%s%s", arg, l && arg[l - 1] == '.' ? "" : ".");
		if (l == 0 || l > DNS_NAME_STRLEN ||
		    dns_name_from_str(o->catalog, nb, strlen(nb), NULL) <= 0) {
			fprintf(err, "ddiplane: bad --catalog '%s': give a domain name\n", arg);
			return -1;
		}
		dns_name_lower(o->catalog);
		o->has_catalog = true;
		break;
	}
	case OPT_SWEEP_MS:
	case OPT_SWEEP_BATCH:
		if (parse_uint(arg, c == OPT_SWEEP_MS ? 60000 : 100000, &v) < 0 ||
		    v < (c == OPT_SWEEP_MS ? 10 : 1)) {
			fprintf(err, "ddiplane: --%s must be %s\n", c == OPT_SWEEP_MS ?
			        "sweep-interval-ms" : "sweep-batch", c == OPT_SWEEP_MS ? "10..60000" :
			        "1..100000");
			return -1;
		}
		*(c == OPT_SWEEP_MS ? &o->sweep_ms : &o->sweep_batch) = (unsigned)v;
		break;
	case OPT_GSS_KEYTAB:
		o->gss_keytab = arg;
		break;
	case OPT_GSS_PRINCIPAL:
		if (arg[0] == '\0' || strchr(arg, '@') == NULL) {
			fprintf(err, "ddiplane: bad --gss-principal '%s': give DNS/HOST@REALM\n", arg);
			return -1;
		}
		o->gss_principal = arg;
		break;
	case OPT_GSS_MAX:
		if (parse_uint(arg, 1048576, &v) < 0 || v < 1) {
			fprintf(err, "ddiplane: --gss-max-contexts must be 1..1048576\n");
			return -1;
		}
		o->gss_max_contexts = (unsigned)v;
		break;
	case OPT_GSS_LIFETIME:
		if (parse_uint(arg, 86400, &v) < 0 || v < 60) {
			fprintf(err, "ddiplane: --gss-key-lifetime must be 60..86400 seconds\n");
			return -1;
		}
		o->gss_lifetime = (unsigned)v;
		break;
	case 'h':
	case OPT_HELP: o->help = true; return 0;
	case OPT_CONFIG: return 0;   /* read before everything else (dp_options_parse) */
	default:
		return 1;
	}

	return 0;
}

#define CONFIG_MAX (1 << 20)   /* a configuration file larger than this is a mistake */

/* `line` (modified) into name and value; false for a blank or comment line. */
static bool config_split(char *line, char **name, char **value)
{
	char *h = strchr(line, '#');
	/* '#' starts a comment at the start of a line or after blank space */
	while (h && h != line && h[-1] != ' ' && h[-1] != '\t')
		h = strchr(h + 1, '#');
	if (h)
		*h = 0;
	char *e = line + strlen(line);
	while (e > line && strchr(" \t\r", e[-1]))
		*--e = 0;
	line += strspn(line, " \t");
	if (!*line)
		return false;
	*name = line;
	line += strcspn(line, " \t");
	if (*line) {
		*line++ = 0;
		line += strspn(line, " \t");
	}
	*value = line;
	return true;
}

/* One setting of the file: its option id by name, or -1 with the reason. */
static int config_option(const char *name, const char *value, char *why, size_t len)
{
	for (const struct option *lo = longopts; lo->name; lo++) {
		if (strcmp(lo->name, name) != 0)
			continue;
		if (lo->val == OPT_CONFIG || lo->val == OPT_HELP) {
			snprintf(why, len, "'%s' is for the command line only", name);
			return -1;
		}
		if (lo->has_arg == no_argument && *value) {
			snprintf(why, len, "'%s' takes no value", name);
			return -1;
		}
		if (lo->has_arg == required_argument && !*value) {
			snprintf(why, len, "'%s' needs a value", name);
			return -1;
		}
		return lo->val;
	}
	snprintf(why, len, "unknown setting '%.60s' (every long option of ddiplane --help is a "
	         "setting, without its dashes)", name);
	return -1;
}

int dp_options_load(struct dp_options *o, const char *path, FILE *err)
{
	FILE *f = fopen(path, "r");
	if (!f) {
		fprintf(err, "ddiplane: configuration file %s: %s\n", path, strerror(errno));
		return -1;
	}
	char *text = malloc(CONFIG_MAX + 1);
	size_t n = text ? fread(text, 1, CONFIG_MAX + 1, f) : 0;
	bool bad = !text || ferror(f) || n > CONFIG_MAX;
	fclose(f);
	if (bad) {
		fprintf(err, "ddiplane: configuration file %s: %s\n", path,
		        text ? "unreadable or larger than 1 MiB" : "out of memory");
		free(text);
		return -1;
	}
	text[n] = 0;
	if (memchr(text, 0, n)) {
		fprintf(err, "ddiplane: configuration file %s: not text (a NUL byte)\n", path);
		free(text);
		return -1;
	}
	free(o->conf_text);
	o->conf_text = text;   /* the values point into it for the options' lifetime */
	o->config = path;
	unsigned lineno = 0;
	for (char *line = text, *next; line; line = next) {
		next = strchr(line, '\n');
		if (next)
			*next++ = 0;
		lineno++;
		char *name, *value, why[200];
		if (!config_split(line, &name, &value))
			continue;
		int id = config_option(name, value, why, sizeof(why));
		char *msg = NULL;
		size_t msglen = 0;
		FILE *m = id < 0 ? NULL : open_memstream(&msg, &msglen);
		int r = id < 0 ? -1 : m ? apply(o, id, value, m) : -1;
		if (m)
			fclose(m);
		if (r != 0) {
			const char *text_of = id < 0 ? why : msg && strncmp(msg, "ddiplane: ", 10) == 0 ?
			                                     msg + 10 : msg ? msg : "out of memory";
			fprintf(err, "ddiplane: %s:%u: %s%s", path, lineno, text_of,
			        id < 0 ? "\n" : "");
			free(msg);
			return -1;
		}
		free(msg);
	}
	return 0;
}

void dp_options_free(struct dp_options *o)
{
	free(o->conf_text);
	o->conf_text = NULL;
}

/*
 * --cookie-secret-file: one or two secrets of 32 hex digits, one a line;
 * blank lines and '#' comments are skipped. Errors name the file and line
 * and never print a secret.
 */
static int cookie_secrets_read(struct dp_options *o, FILE *err)
{
	const char *path = o->cookie_secret_file;
	FILE *f = fopen(path, "r");
	if (!f) {
		fprintf(err, "ddiplane: --cookie-secret-file %s: %s\n", path, strerror(errno));
		return -1;
	}
	char line[256];
	unsigned lineno = 0;
	int rc = 0;
	o->cookie_nsecrets = 0;
	while (rc == 0 && fgets(line, sizeof(line), f)) {
		lineno++;
		size_t n = strcspn(line, "#\r\n");
		if (!line[n] && !feof(f)) {
			fprintf(err, "ddiplane: %s:%u: line too long\n", path, lineno);
			rc = -1;
			break;
		}
		while (n && (line[n - 1] == ' ' || line[n - 1] == '\t'))
			n--;
		size_t b = strspn(line, " \t");
		if (b >= n)
			continue;
		if (o->cookie_nsecrets == 2) {
			fprintf(err, "ddiplane: %s:%u: more than two secrets\n", path, lineno);
			rc = -1;
		} else if (dns_cookie_secret_from_hex(line + b, n - b,
		                                      o->cookie_secret[o->cookie_nsecrets]) < 0) {
			fprintf(err, "ddiplane: %s:%u: a cookie secret is exactly 32 hexadecimal digits\n", path,
			        lineno);
			rc = -1;
		} else {
			o->cookie_nsecrets++;
		}
	}
	if (rc == 0 && ferror(f)) {
		fprintf(err, "ddiplane: --cookie-secret-file %s: read error\n", path);
		rc = -1;
	}
	fclose(f);
	if (rc == 0 && o->cookie_nsecrets == 0) {
		fprintf(err, "ddiplane: %s: no cookie secret in the file\n", path);
		rc = -1;
	}
	explicit_bzero(line, sizeof(line));
	return rc;
}

int dp_options_parse(struct dp_options *o, int argc, char **argv, FILE *err)
{
	defaults(o);
	/* the file first, so that every flag overrides it */
	const char *path = NULL;
	for (int i = 1; i < argc; i++) {
		if (strcmp(argv[i], "--config") == 0 && i + 1 < argc)
			path = argv[i + 1];
		else if (strncmp(argv[i], "--config=", 9) == 0)
			path = argv[i] + 9;
	}
	if (path ? dp_options_load(o, path, err) < 0
	         : access(DP_DEFAULT_CONFIG, F_OK) == 0 && dp_options_load(o, DP_DEFAULT_CONFIG, err) < 0)
		return -1;
	bool addr_seen = false, exempt_seen = false;
	optind = 1;
	opterr = 0;
	int c;
	while ((c = getopt_long(argc, argv, "h", longopts, NULL)) != -1) {
		/* a repeatable option on the command line replaces the file's list */
		if (c == OPT_ADDRESS && !addr_seen) {
			addr_seen = true;
			o->svc.n4 = o->svc.n6 = 0;
		}
		if (c == OPT_RRL_EXEMPT && !exempt_seen) {
			exempt_seen = true;
			o->rrl.nexempt = 0;
		}
		int r = apply(o, c, optarg, err);
		if (r < 0)
			return -1;
		if (r > 0) {
			fprintf(err, "ddiplane: unknown or incomplete option '%s' (see --help)\n",
			        argv[optind - 1]);
			return -1;
		}
		if (o->help)
			return 0;
	}
	if (optind < argc) {
		fprintf(err, "ddiplane: unexpected argument '%s' (see --help)\n", argv[optind]);
		return -1;
	}
	if (o->tcp_max_per_client > o->tcp_max_clients) {
		fprintf(err, "ddiplane: --tcp-max-per-client %u is more than --tcp-max-clients %u\n",
		        o->tcp_max_per_client, o->tcp_max_clients);
		return -1;
	}
	if (o->svc.n4 + o->svc.n6 == 0) {
		fprintf(err, "ddiplane: no service address: give at least one --address IP[/PLEN]\n");
		return -1;
	}
	if (o->cookie_secret_file && cookie_secrets_read(o, err) < 0)
		return -1;
	return 0;
}

size_t dp_options_restart_needed(const struct dp_options *a, const struct dp_options *b,
                                 const char **names, size_t max)
{
	size_t n = 0;
#define DIFF(cond, name) do { if ((cond) && n < max) names[n++] = (name); } while (0)
#define STRDIFF(x) (((a)->x == NULL) != ((b)->x == NULL) || ((a)->x && strcmp((a)->x, (b)->x)))
	DIFF(STRDIFF(db), "db");
	DIFF(STRDIFF(control), "control");
	DIFF(STRDIFF(metrics), "metrics");
	DIFF(STRDIFF(http) || STRDIFF(http_cert) || STRDIFF(http_key), "http");
	DIFF(a->svc.n4 != b->svc.n4 || a->svc.n6 != b->svc.n6 ||
	     memcmp(a->svc.v4, b->svc.v4, sizeof(a->svc.v4)) ||
	     memcmp(a->svc.v6, b->svc.v6, sizeof(a->svc.v6)) ||
	     memcmp(a->plen4, b->plen4, sizeof(a->plen4)) || memcmp(a->plen6, b->plen6, sizeof(a->plen6)),
	     "address");
	DIFF(STRDIFF(nsid), "nsid");
	DIFF(a->idle_sleep_us != b->idle_sleep_us, "idle-sleep-us");
	DIFF(STRDIFF(tap_name), "tap-name");
	DIFF(a->no_steer_rx != b->no_steer_rx, "no-steer-rx");
	DIFF(a->udp_size != b->udp_size, "udp-size");
	DIFF(a->poll_us != b->poll_us, "journal-poll-us");
	DIFF(a->tcp_max_clients != b->tcp_max_clients, "tcp-max-clients");
	DIFF(a->tcp_max_per_client != b->tcp_max_per_client, "tcp-max-per-client");
	DIFF(a->tcp_idle_timeout != b->tcp_idle_timeout, "tcp-idle-timeout");
	DIFF(a->xfr_out_max != b->xfr_out_max, "xfr-out-max");
	/* rate and slip of a running rate limiter change live; turning it on or off does not */
	DIFF((a->rrl.rate == 0) != (b->rrl.rate == 0), "rrl-rate (on or off)");
	DIFF(a->rrl.table_size != b->rrl.table_size, "rrl-table-size");
	DIFF(a->rrl.nexempt != b->rrl.nexempt ||
	     memcmp(a->rrl.exempt, b->rrl.exempt, sizeof(a->rrl.exempt)), "rrl-exempt");
	DIFF(a->no_cookies != b->no_cookies || a->cookie_lifetime_h != b->cookie_lifetime_h ||
	     STRDIFF(cookie_secret_file), "cookies");
	DIFF(STRDIFF(query_log) || a->query_log_sample != b->query_log_sample, "query-log");
	DIFF(a->has_catalog != b->has_catalog || memcmp(a->catalog, b->catalog, sizeof(a->catalog)),
	     "catalog");
	DIFF(a->sweep_ms != b->sweep_ms || a->sweep_batch != b->sweep_batch, "sweep");
	DIFF(STRDIFF(gss_keytab) || STRDIFF(gss_principal) ||
	     a->gss_max_contexts != b->gss_max_contexts || a->gss_lifetime != b->gss_lifetime, "gss");
#undef STRDIFF
#undef DIFF
	return n;
}

