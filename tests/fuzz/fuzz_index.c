/* fuzz_index -- one index for the answer and frame harnesses (fuzz_index.h) */
#include <stdio.h>
#include <stdlib.h>
#include <urcu-qsbr.h>

#include "dns/errcode.h"
#include "tests/fuzz/fuzz_index.h"
#include "tests/tools/testdns.h"

static const char shapes[] =
	"$TTL 300\n"
	"@ IN SOA ns1 hostmaster 1 7200 3600 1209600 300\n"
	"@ IN NS ns1\n"
	"ns1 IN A 198.18.7.1\n"
	"ns1 IN AAAA 2001:2:0:7::1\n"
	"www IN A 198.18.7.80\n"
	"alias IN CNAME www\n"
	"c1 IN CNAME c2\n"
	"c2 IN CNAME c3\n"
	"c3 IN CNAME alias\n"
	"loop1 IN CNAME loop2\n"
	"loop2 IN CNAME loop1\n"
	"out IN CNAME www.example.net.\n"
	"*.wild IN A 198.18.7.100\n"
	"*.wild IN TXT \"wildcard\"\n"
	"*.cw IN CNAME www\n"
	"sub IN NS ns.sub\n"
	"sub IN NS ns.example.net.\n"
	"ns.sub IN A 198.18.7.53\n"
	"ns.sub IN AAAA 2001:2:0:7::53\n"
	"mx IN MX 10 www\n"
	"mx IN MX 20 ns.sub\n"
	"srv IN SRV 0 0 53 ns1\n"
	"caa IN CAA 0 issue \"ca.example\"\n"
	"big IN TXT \"0123456789012345678901234567890123456789012345678901234567890123456789\" "
	"\"0123456789012345678901234567890123456789012345678901234567890123456789\"\n"
	"big IN TXT \"1123456789012345678901234567890123456789012345678901234567890123456789\" "
	"\"0123456789012345678901234567890123456789012345678901234567890123456789\"\n"
	"big IN TXT \"2123456789012345678901234567890123456789012345678901234567890123456789\" "
	"\"0123456789012345678901234567890123456789012345678901234567890123456789\"\n"
	"a.b.c.ent IN A 198.18.7.2\n";

static void die(const char *what, const struct zf_error *e)
{
	fprintf(stderr, "fuzz_index: %s: %s:%u: %s\n", what, e->file, e->line, e->msg);
	abort();
}

static struct idx *ix;

struct idx *fuzz_index_idx(void)
{
	if (!ix)
		fuzz_index();
	return ix;
}

const struct idx_version *fuzz_index(void)
{
	if (ix)
		return idx_acquire(ix);
	rcu_register_thread();
	ix = idx_new();
	struct idx_txn *t = ix ? idx_txn_begin(ix) : NULL;
	struct zf_error e = { 0 };
	if (!t)
		die("no memory", &e);
	static const char *const zones[] = {
		"ddi.test.", "0.18.198.in-addr.arpa.", "0.0.0.0.0.0.0.0.2.0.0.0.1.0.0.2.ip6.arpa.",
	};
	for (size_t i = 0; i < sizeof(zones) / sizeof(zones[0]); i++) {
		char path[1024];
		snprintf(path, sizeof(path), "%s/%szone", FUZZ_SHARE_DIR, zones[i]);
		if (td_load_file(t, zones[i], path, &e) != DDI_EOK)
			die(path, &e);
	}
	if (td_load_string(t, "shapes.test.", shapes, &e) != DDI_EOK)
		die("shapes.test.", &e);
	if (idx_txn_commit(t, 1) != DDI_EOK)
		die("commit", &e);
	return idx_acquire(ix);
}
