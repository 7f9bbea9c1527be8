/* counters -- every outcome of a packet on the fast path, counted per lcore */
#ifndef DDI_DATAPLANE_COUNTERS_H
#define DDI_DATAPLANE_COUNTERS_H

#include <stdint.h>
#include <stdio.h>

/*
 * Each packet a worker receives ends in exactly one of these outcomes
 * (DP_OUT_TRUNCATED and the DP_OUT_RX/TX totals are counted besides it).
 * The order is the order of the printed table.
 */
enum dp_outcome {
	/* Answered by the worker (or the control lcore for DP_OUT_NOTIMP). */
	DP_OUT_NOERROR = 0,     /* NOERROR with data */
	DP_OUT_NODATA,          /* NOERROR, empty answer (RFC 2308 2.2) */
	DP_OUT_REFERRAL,        /* delegation */
	DP_OUT_NXDOMAIN,
	DP_OUT_REFUSED,
	DP_OUT_FORMERR,
	DP_OUT_NOTIMP,
	DP_OUT_SERVFAIL,
	DP_OUT_BADVERS,
	DP_OUT_TRUNCATED,       /* also counted under its rcode: TC was set */
	DP_OUT_NO_ANSWER,       /* answer_query said send nothing (QR set, ...) */
	/*
	 * Response rate limiting (dataplane/rrl.h), with --rrl-rate: each UDP
	 * response a worker computed ends in one of these four. Passed and
	 * exempt ones are also counted under their rcode above; dropped and
	 * slipped ones are their packet's outcome.
	 */
	DP_OUT_RRL_PASSED,      /* within the rate of its prefix and kind: sent */
	DP_OUT_RRL_EXEMPT,      /* sent without being charged or limited: a valid server cookie,
	                           or an --rrl-exempt prefix over the rate */
	DP_OUT_RRL_DROPPED,     /* over the rate: nothing sent */
	DP_OUT_RRL_SLIPPED,     /* over the rate: sent truncated (TC=1, no records) */
	/*
	 * DNS cookies (RFC 7873, dns/cookie.h): a query with a COOKIE option,
	 * counted besides its rcode (malformed: FORMERR).
	 */
	DP_OUT_COOKIE_NEW,      /* client cookie only: a server cookie made */
	DP_OUT_COOKIE_VALID,    /* our valid server cookie: echoed */
	DP_OUT_COOKIE_REFRESHED,/* valid, older than 30 min or of the previous secret: a new one */
	DP_OUT_COOKIE_BAD,      /* a server cookie that is not a valid one of ours: a new one */
	DP_OUT_COOKIE_MALFORMED,/* option length not 8 or 16..40: FORMERR (RFC 7873 5.2.2) */
	/* Not for the fast path: handed to the kernel through the tap. */
	DP_OUT_NOT_FOR_US,      /* UDP to an address that is not a service address */
	DP_OUT_EXC_ARP,
	DP_OUT_EXC_ICMP,        /* ICMP and ICMPv6 (ND included) */
	DP_OUT_EXC_TCP,
	DP_OUT_EXC_FRAGMENT,    /* IPv4 fragment or IPv6 fragment header */
	DP_OUT_EXC_IPV6_EXT,    /* IPv6 extension header before the transport */
	DP_OUT_EXC_OTHER,       /* UDP to another port, other protocols, other ethertypes */
	/* Dropped. */
	DP_OUT_MALF_LENGTH,     /* Ethernet/IP/UDP lengths that do not add up */
	DP_OUT_MALF_CHECKSUM,   /* bad IPv4 header or UDP checksum, or IPv6 UDP checksum 0 */
	DP_OUT_MALF_DNS_HDR,    /* UDP payload shorter than a DNS header */
	DP_OUT_MALF_PORT,       /* UDP source port 0: nowhere to answer */
	/* Hand-offs and queues. */
	DP_OUT_TO_CONTROL,      /* opcode other than QUERY, queued to the control lcore */
	DP_OUT_RING_FULL,       /* control ring full: dropped */
	DP_OUT_TO_DDNS,         /* UPDATE/NOTIFY queued by the control lcore to the DDNS thread */
	DP_OUT_DDNS_FULL,       /* the DDNS thread's ring full: dropped, the client retries */
	DP_OUT_SIGNED_TO_DDNS,  /* a TSIG-signed QUERY queued by the control lcore to the DDNS thread
	                           (control/ddns/query.h); the worker counted it to_control */
	DP_OUT_SIGNED_FULL,     /* a signed QUERY beyond its share of the DDNS ring (half): dropped */
	DP_OUT_TX_DROP,         /* the port's TX queue did not take the answer */
	DP_OUT_EXC_DROP,        /* the tap did not take an exception packet */
	/* Totals. */
	DP_OUT_RX,              /* packets received from the port */
	DP_OUT_TX,              /* packets sent out of the port by this lcore */
	DP_OUT__COUNT
};

/* Short names for tables and, later, metrics labels ("noerror", "exc_arp", ...). */
extern const char *const dp_outcome_names[DP_OUT__COUNT];

/*
 * One lcore's counters. Only that lcore writes them (plain increments, no
 * atomics); others read them with relaxed loads, a torn read of a 64-bit
 * aligned counter cannot happen on the 64-bit targets DPDK supports.
 * Cache-aligned so that no two lcores share a line.
 */
/* Question types counted for every answered query (the common ones by name). */
enum dp_qtype {
	DP_Q_A = 0, DP_Q_AAAA, DP_Q_PTR, DP_Q_MX, DP_Q_TXT, DP_Q_NS, DP_Q_SOA, DP_Q_CNAME,
	DP_Q_SRV, DP_Q_ANY, DP_Q_OTHER,
	DP_Q__COUNT
};

/* "A", "AAAA", ..., "OTHER": metrics labels. */
extern const char *const dp_qtype_names[DP_Q__COUNT];

static inline enum dp_qtype dp_qtype_of(uint16_t type)
{
	switch (type) {
	case 1: return DP_Q_A;
	case 28: return DP_Q_AAAA;
	case 12: return DP_Q_PTR;
	case 15: return DP_Q_MX;
	case 16: return DP_Q_TXT;
	case 2: return DP_Q_NS;
	case 6: return DP_Q_SOA;
	case 5: return DP_Q_CNAME;
	case 33: return DP_Q_SRV;
	case 255: return DP_Q_ANY;
	default: return DP_Q_OTHER;
	}
}

struct dp_counters {
	uint64_t v[DP_OUT__COUNT];
	uint64_t qtype[DP_Q__COUNT];   /* answered queries (any rcode) by question type */
} __attribute__((aligned(64)));

#define DP_MAX_LCORES 128

/* The counters of every lcore, indexed by lcore id: what the control plane exports. */
extern struct dp_counters dp_counters[DP_MAX_LCORES];

static inline void dp_count(struct dp_counters *c, enum dp_outcome o)
{
	c->v[o]++;
}

/* Sum of every lcore's counters into `out`. */
void dp_counters_sum(struct dp_counters *out);

/* Print a table: one row per non-zero outcome, one column per lcore that counted, and the total. */
void dp_counters_print(FILE *f);

#endif
