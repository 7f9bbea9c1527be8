/* options -- ddiplane's command line, with getopt_long, and its --help */
#include <arpa/inet.h>
#include <errno.h>
#include <getopt.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "control/ddns/thread.h"
#include "dataplane/options.h"
#include "dataplane/worker.h"
#include "dns/wire.h"

void dp_options_usage(FILE *f, const char *prog)
{
	fprintf(f,
"NAME\n"
"    ddiplane - authoritative DNS server with a DPDK fast path\n"
"\n"
"SYNOPSIS\n"
"    %s [EAL options] -- --address IP[/PLEN] [--address IP[/PLEN] ...]\n"
"             [--db DIR] [--control PATH] [--access FILE] [--metrics IP:PORT]\n"
"             [--catalog NAME]\n"
"             [--journal-poll-us N] [--nsid STR] [--idle-sleep-us N]\n"
"             [--tap-name NAME] [--udp-size N] [--help]\n"
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
"    REFUSED and journaled), the prerequisites (YXDOMAIN, NXRRSET, ...),\n"
"    then writes the change with its journal entry in the LMDB store. An\n"
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
"    NOTIFY (RFC 1996) is answered NOERROR for a zone this server serves\n"
"    and NOTAUTH for any other; FORMERR when malformed.\n"
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
"\n"
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
"    --catalog NAME\n"
"        Serve a catalog zone (RFC 9432, version 2) called NAME (e.g.\n"
"        catalog.invalid.), generated from the store: one member PTR per zone\n"
"        whose ACL lets someone transfer it. Transferred and NOTIFYed like\n"
"        any zone, with the ACL of \"ddictl zone acl NAME --catalog\".\n"
"    --metrics IP:PORT\n"
"        Serve Prometheus metrics at http://IP:PORT/metrics (e.g.\n"
"        127.0.0.1:9153): packets per lcore and outcome, responses by\n"
"        rcode, drops by reason, snapshot generation, journal sequence and\n"
"        lag, publish latency. Off by default. The same server answers\n"
"        http://IP:PORT/health: 200 while every worker runs and the\n"
"        published index follows the store, 503 with the reason when not.\n"
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
"    --udp-size N\n"
"        Our EDNS UDP payload size, 512..%d (default %d): the largest UDP\n"
"        answer, whatever the client advertises. Larger answers are\n"
"        truncated (TC) and the client retries over TCP. Capped to what the\n"
"        port's MTU carries, as ddiplane never fragments.\n"
"    --help\n"
"        Print this text and exit.\n"
"\n"
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
"    ip netns exec ddi-cli dig @198.18.0.1 www.ddi.test A\n",
	        prog, DDNS_BURST, DP_DDNS_RING_SIZE, DDNS_TCP_QUEUE, DP_MAX_ADDRS, DP_DEFAULT_DB, DP_DEFAULT_CONTROL, DP_NSID_MAX,
	        DP_DEFAULT_IDLE_SLEEP_US, DP_DEFAULT_TAP, DNS_MSG_MAX - 48, DNS_EDNS_DEFAULT);
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
       OPT_METRICS, OPT_ACCESS, OPT_POLL, OPT_CATALOG };

int dp_options_parse(struct dp_options *o, int argc, char **argv, FILE *err)
{
	static const struct option longopts[] = {
		{ "db", required_argument, NULL, OPT_DB },
		{ "control", required_argument, NULL, OPT_CONTROL },
		{ "address", required_argument, NULL, OPT_ADDRESS },
		{ "nsid", required_argument, NULL, OPT_NSID },
		{ "idle-sleep-us", required_argument, NULL, OPT_IDLE },
		{ "tap-name", required_argument, NULL, OPT_TAP },
		{ "udp-size", required_argument, NULL, OPT_UDP },
		{ "help", no_argument, NULL, OPT_HELP },
		{ "metrics", required_argument, NULL, OPT_METRICS },
		{ "access", required_argument, NULL, OPT_ACCESS },
		{ "journal-poll-us", required_argument, NULL, OPT_POLL },
		{ "catalog", required_argument, NULL, OPT_CATALOG },
		{ NULL, 0, NULL, 0 },
	};
	memset(o, 0, sizeof(*o));
	o->db = DP_DEFAULT_DB;
	o->control = DP_DEFAULT_CONTROL;
	o->idle_sleep_us = DP_DEFAULT_IDLE_SLEEP_US;
	o->tap_name = DP_DEFAULT_TAP;
	o->udp_size = DNS_EDNS_DEFAULT;

	optind = 1;
	opterr = 0;
	int c;
	unsigned long v;
	while ((c = getopt_long(argc, argv, "h", longopts, NULL)) != -1) {
		switch (c) {
		case OPT_DB: o->db = optarg; break;
		case OPT_CONTROL: o->control = optarg; o->control_given = true; break;
		case OPT_METRICS: o->metrics = optarg; break;
		case OPT_ACCESS: o->access = optarg; break;
		case OPT_CATALOG: {
			char nb[DNS_NAME_STRLEN + 2];
			size_t l = strlen(optarg);
			snprintf(nb, sizeof(nb), "%s%s", optarg, l && optarg[l - 1] == '.' ? "" : ".");
			if (l == 0 || l > DNS_NAME_STRLEN ||
			    dns_name_from_str(o->catalog, nb, strlen(nb), NULL) <= 0) {
				fprintf(err, "ddiplane: bad --catalog '%s': give a domain name\n", optarg);
				return -1;
			}
			dns_name_lower(o->catalog);
			o->has_catalog = true;
			break;
		}
		case OPT_POLL:
			if (parse_uint(optarg, 1000000, &v) < 0 || v < 100) {
				fprintf(err, "ddiplane: --journal-poll-us must be 100..1000000\n");
				return -1;
			}
			o->poll_us = (unsigned)v;
			break;
		case OPT_ADDRESS:
			if (dp_options_add_address(o, optarg) < 0) {
				fprintf(err, "ddiplane: bad --address '%s': give an IPv4 or IPv6 unicast "
				        "address, optionally with /PLEN (at most %d per family)\n",
				        optarg, DP_MAX_ADDRS);
				return -1;
			}
			break;
		case OPT_NSID:
			if (strlen(optarg) == 0 || strlen(optarg) > DP_NSID_MAX) {
				fprintf(err, "ddiplane: --nsid must be 1..%d bytes\n", DP_NSID_MAX);
				return -1;
			}
			o->nsid = optarg;
			break;
		case OPT_IDLE:
			if (parse_uint(optarg, 1000000, &v) < 0) {
				fprintf(err, "ddiplane: --idle-sleep-us must be 0..1000000\n");
				return -1;
			}
			o->idle_sleep_us = (unsigned)v;
			break;
		case OPT_TAP:
			if (strlen(optarg) == 0 || strlen(optarg) > 12 || strchr(optarg, '/') ||
			    strchr(optarg, ',')) {
				fprintf(err, "ddiplane: --tap-name must be 1..12 characters, no '/' or ','\n");
				return -1;
			}
			o->tap_name = optarg;
			break;
		case OPT_UDP:
			if (parse_uint(optarg, DNS_MSG_MAX - 48, &v) < 0 || v < DNS_UDP_MIN) {
				fprintf(err, "ddiplane: --udp-size must be %d..%d\n", DNS_UDP_MIN,
				        DNS_MSG_MAX - 48);
				return -1;
			}
			o->udp_size = (uint16_t)v;
			break;
		case 'h':
		case OPT_HELP: o->help = true; return 0;
		default:
			fprintf(err, "ddiplane: unknown or incomplete option '%s' (see --help)\n",
			        argv[optind - 1]);
			return -1;
		}
	}
	if (optind < argc) {
		fprintf(err, "ddiplane: unexpected argument '%s' (see --help)\n", argv[optind]);
		return -1;
	}
	if (o->svc.n4 + o->svc.n6 == 0) {
		fprintf(err, "ddiplane: no service address: give at least one --address IP[/PLEN]\n");
		return -1;
	}
	return 0;
}
