/* counters -- per-lcore packet outcome counters and their table */
#include <inttypes.h>
#include <stdbool.h>
#include <string.h>

#include "dataplane/counters.h"

const char *const dp_qtype_names[DP_Q__COUNT] = {
	[DP_Q_A] = "A", [DP_Q_AAAA] = "AAAA", [DP_Q_PTR] = "PTR", [DP_Q_MX] = "MX",
	[DP_Q_TXT] = "TXT", [DP_Q_NS] = "NS", [DP_Q_SOA] = "SOA", [DP_Q_CNAME] = "CNAME",
	[DP_Q_SRV] = "SRV", [DP_Q_ANY] = "ANY", [DP_Q_OTHER] = "OTHER",
};

const char *const dp_outcome_names[DP_OUT__COUNT] = {
	[DP_OUT_NOERROR] = "noerror",
	[DP_OUT_NODATA] = "nodata",
	[DP_OUT_REFERRAL] = "referral",
	[DP_OUT_NXDOMAIN] = "nxdomain",
	[DP_OUT_REFUSED] = "refused",
	[DP_OUT_FORMERR] = "formerr",
	[DP_OUT_NOTIMP] = "notimp",
	[DP_OUT_SERVFAIL] = "servfail",
	[DP_OUT_BADVERS] = "badvers",
	[DP_OUT_TRUNCATED] = "truncated",
	[DP_OUT_NO_ANSWER] = "no_answer",
	[DP_OUT_RRL_PASSED] = "rrl_passed",
	[DP_OUT_RRL_EXEMPT] = "rrl_exempt",
	[DP_OUT_RRL_DROPPED] = "rrl_dropped",
	[DP_OUT_RRL_SLIPPED] = "rrl_slipped",
	[DP_OUT_COOKIE_NEW] = "cookie_new",
	[DP_OUT_COOKIE_VALID] = "cookie_valid",
	[DP_OUT_COOKIE_REFRESHED] = "cookie_refreshed",
	[DP_OUT_COOKIE_BAD] = "cookie_bad",
	[DP_OUT_COOKIE_MALFORMED] = "cookie_malformed",
	[DP_OUT_NOT_FOR_US] = "not_for_us",
	[DP_OUT_EXC_ARP] = "exc_arp",
	[DP_OUT_EXC_ICMP] = "exc_icmp",
	[DP_OUT_EXC_TCP] = "exc_tcp",
	[DP_OUT_EXC_FRAGMENT] = "exc_fragment",
	[DP_OUT_EXC_IPV6_EXT] = "exc_ipv6_ext",
	[DP_OUT_EXC_OTHER] = "exc_other",
	[DP_OUT_MALF_LENGTH] = "malformed_length",
	[DP_OUT_MALF_CHECKSUM] = "malformed_checksum",
	[DP_OUT_MALF_DNS_HDR] = "malformed_dns_header",
	[DP_OUT_MALF_PORT] = "malformed_port",
	[DP_OUT_TO_CONTROL] = "to_control",
	[DP_OUT_RING_FULL] = "ring_full",
	[DP_OUT_TO_DDNS] = "to_ddns",
	[DP_OUT_DDNS_FULL] = "ddns_queue_full",
	[DP_OUT_SIGNED_TO_DDNS] = "signed_to_ddns",
	[DP_OUT_SIGNED_FULL] = "signed_ddns_full",
	[DP_OUT_TX_DROP] = "tx_dropped",
	[DP_OUT_EXC_DROP] = "exc_dropped",
	[DP_OUT_RX] = "rx",
	[DP_OUT_TX] = "tx",
};

struct dp_counters dp_counters[DP_MAX_LCORES];

void dp_counters_sum(struct dp_counters *out)
{
	memset(out, 0, sizeof(*out));
	for (unsigned l = 0; l < DP_MAX_LCORES; l++)
		for (unsigned o = 0; o < DP_OUT__COUNT; o++)
			out->v[o] += __atomic_load_n(&dp_counters[l].v[o], __ATOMIC_RELAXED);
}

void dp_counters_print(FILE *f)
{
	bool used[DP_MAX_LCORES] = { false };
	struct dp_counters total;

	dp_counters_sum(&total);
	for (unsigned l = 0; l < DP_MAX_LCORES; l++)
		for (unsigned o = 0; o < DP_OUT__COUNT; o++)
			if (dp_counters[l].v[o] != 0)
				used[l] = true;

	fprintf(f, "%-22s", "outcome");
	for (unsigned l = 0; l < DP_MAX_LCORES; l++)
		if (used[l])
			fprintf(f, " %11s%-3u", "lcore", l);
	fprintf(f, " %14s\n", "total");
	for (unsigned o = 0; o < DP_OUT__COUNT; o++) {
		if (total.v[o] == 0 && o != DP_OUT_RX && o != DP_OUT_TX)
			continue;
		fprintf(f, "%-22s", dp_outcome_names[o]);
		for (unsigned l = 0; l < DP_MAX_LCORES; l++)
			if (used[l])
				fprintf(f, " %14" PRIu64, dp_counters[l].v[o]);
		fprintf(f, " %14" PRIu64 "\n", total.v[o]);
	}
}
