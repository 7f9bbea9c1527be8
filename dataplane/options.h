/* options -- ddiplane's own command line (what follows the EAL arguments and "--") */
#ifndef DDI_DATAPLANE_OPTIONS_H
#define DDI_DATAPLANE_OPTIONS_H

#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>

#include "dataplane/packet.h"
#include "dns/name.h"

#define DP_DEFAULT_DB "var/db"
#define DP_DEFAULT_CONTROL "var/ddiplane.sock"
#define DP_DEFAULT_TAP "ddi0"
#define DP_DEFAULT_IDLE_SLEEP_US 100
#define DP_NSID_MAX 128

struct dp_options {
	const char *db;            /* LMDB environment directory */
	const char *control;       /* control socket path */
	bool control_given;        /* --control given: failing to open it is fatal */
	const char *metrics;       /* --metrics IP:PORT, NULL: no HTTP /metrics */
	const char *access;        /* --access FILE: control socket roles, NULL: defaults */
	bool has_catalog;          /* --catalog NAME: serve a catalog zone (RFC 9432) */
	uint8_t catalog[DNS_NAME_MAXLEN];   /* its wire name */
	unsigned poll_us;          /* --journal-poll-us: how often LMDB is polled for commits */
	struct dp_service svc;     /* service addresses */
	uint8_t plen4[DP_MAX_ADDRS], plen6[DP_MAX_ADDRS];  /* prefix lengths for the tap */
	const char *nsid;          /* RFC 5001 NSID, NULL for none */
	unsigned idle_sleep_us;    /* 0: never sleep */
	const char *tap_name;      /* kernel name of the first tap; more ports add 1, 2, ... */
	uint16_t udp_size;         /* our EDNS UDP size */
	bool help;
};

/*
 * Parse ddiplane's options (argv[0] is the program name, as after
 * rte_eal_init). On error writes one line to `err` and returns -1.
 */
int dp_options_parse(struct dp_options *o, int argc, char **argv, FILE *err);

/* The manual page: every option, defaults, examples. */
void dp_options_usage(FILE *f, const char *prog);

/* Parse "IP" or "IP/PLEN" (v4 or v6) into o->svc; 0 or -1. */
int dp_options_add_address(struct dp_options *o, const char *s);

#endif
