/* options -- ddiplane's own command line (what follows the EAL arguments and "--") */
#ifndef DDI_DATAPLANE_OPTIONS_H
#define DDI_DATAPLANE_OPTIONS_H

#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>

#include "dataplane/packet.h"
#include "dataplane/rrl.h"
#include "dns/name.h"

#define DP_DEFAULT_CONFIG "/etc/ddiplane/ddiplane.conf"
#define DP_DEFAULT_DB "var/db"
#define DP_DEFAULT_CONTROL "var/ddiplane.sock"
#define DP_DEFAULT_TAP "ddi0"
#define DP_DEFAULT_IDLE_SLEEP_US 100
#define DP_NSID_MAX 128
#define DP_DEFAULT_COOKIE_LIFETIME_H 26   /* as Knot's mod-cookies secret-lifetime */

struct dp_options {
	const char *db;            /* LMDB environment directory */
	const char *control;       /* control socket path */
	bool control_given;        /* --control given: failing to open it is fatal */
	const char *metrics;       /* --metrics IP:PORT, NULL: no HTTP /metrics */
	const char *http;          /* --http IP:PORT, NULL: no HTTP API */
	const char *http_cert, *http_key;   /* --http-cert/--http-key FILE: HTTPS */
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
	unsigned tcp_max_clients;  /* --tcp-max-clients: TCP connections open at most */
	unsigned tcp_max_per_client; /* --tcp-max-per-client: from one address (IPv6: /64) */
	unsigned tcp_idle_timeout; /* --tcp-idle-timeout: seconds without a complete message */
	unsigned xfr_out_max;      /* --xfr-out-max: zone transfers out at once */
	struct rrl_conf rrl;       /* --rrl-*: rate 0 is off */
	bool no_cookies;           /* --no-cookies */
	bool no_steer_rx;          /* --no-steer-rx: leave af_packet ports' RPS maps alone */
	unsigned cookie_lifetime_h;/* --cookie-secret-lifetime: hours between secret rotations */
	const char *cookie_secret_file; /* --cookie-secret-file: NULL: a random secret, rotated */
	uint8_t cookie_secret[2][16];   /* its secrets: [0] makes cookies, [1] is also accepted */
	unsigned cookie_nsecrets;       /* 1 or 2 with a file, else 0 */
	const char *log_target;    /* --log: NULL: auto */
	const char *log_levels;    /* --log-level: NULL: info everywhere */
	const char *query_log;     /* --query-log FILE, NULL: off */
	unsigned query_log_sample; /* --query-log-sample N: one answered query in N */
	unsigned sweep_ms;         /* --sweep-interval-ms: lease expiry and scavenging tick */
	unsigned sweep_batch;      /* --sweep-batch: RRsets removed per journaled commit */
	const char *gss_keytab;    /* --gss-keytab FILE: the GSS-TSIG acceptor's keytab, NULL: default */
	const char *gss_principal; /* --gss-principal DNS/host@REALM: GSS-TSIG on; NULL: off */
	unsigned gss_max_contexts; /* --gss-max-contexts N: negotiated keys kept at most */
	unsigned gss_lifetime;     /* --gss-key-lifetime SECONDS: a negotiated key's lifetime at most */
	const char *config;        /* the configuration file read, NULL: none */
	char *conf_text;           /* its text, which the settings above point into */
	bool help;
};

/*
 * Parse ddiplane's options (argv[0] is the program name, as after
 * rte_eal_init): the defaults, then the configuration file (--config FILE,
 * else DP_DEFAULT_CONFIG when it exists), then every flag, which overrides
 * the file (a repeatable option given as a flag replaces the file's list).
 * Nothing is applied: log settings are checked and kept in log_target and
 * log_levels for the caller to apply. On error writes one line to `err`
 * ("FILE:LINE: reason" for the file) and returns -1. Free with
 * dp_options_free.
 */
int dp_options_parse(struct dp_options *o, int argc, char **argv, FILE *err);

/*
 * The configuration file: one setting per line, "NAME VALUE" where NAME is
 * a long option without its dashes ("address 198.18.0.1/24", "no-cookies"),
 * '#' starts a comment. Repeatable settings (address, rrl-exempt) may
 * appear several times. Errors name the file and line.
 */
int dp_options_load(struct dp_options *o, const char *path, FILE *err);
void dp_options_free(struct dp_options *o);

/*
 * The settings that differ between `a` (in force) and `b` (re-read) and
 * that only a restart applies (ports, addresses, threads' sizes, the
 * workers' RRL tables and cookies): up to `max` names into `names`; the
 * count. What a reload applies live is not among them: the access file,
 * the log settings, and the rate and slip of a rate limiter that runs
 * (transfer ACLs and NOTIFY targets live in the store and need no reload).
 */
size_t dp_options_restart_needed(const struct dp_options *a, const struct dp_options *b,
                                 const char **names, size_t max);

/* The manual page: every option, defaults, examples. */
void dp_options_usage(FILE *f, const char *prog);

/* Parse "IP" or "IP/PLEN" (v4 or v6) into o->svc; 0 or -1. */
int dp_options_add_address(struct dp_options *o, const char *s);

#endif
