/* policy -- who may change what through RFC 2136: per-key grant/deny rules by name, type, address scope and source */
#ifndef DDI_CONTROL_POLICY_H
#define DDI_CONTROL_POLICY_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <jansson.h>

#include "control/ddns/msg.h"
#include "dns/name.h"

/*
 * The model (in the spirit of BIND's update-policy and Knot's update-owner)
 * ------------------------------------------------------------------------
 * A rule belongs to one TSIG key (or to unsigned requests, key ".") and
 * says grant or deny for:
 *  - a name: `self` (the key's own name), `name` (exactly NAME),
 *    `subdomain` (NAME or below), `pattern` (a wildcard name: a leftmost
 *    "*" label stands for one or more labels, "*.dhcp.example." matches
 *    "a.dhcp.example." and "a.b.dhcp.example." but not "dhcp.example.");
 *  - types: a list; an empty list means every type except SOA, NS and the
 *    DNSSEC types (RRSIG, NSEC, NSEC3, DNSKEY, CDS, CDNSKEY), as BIND does;
 *    those must be named to be granted. ANY in the list matches every type;
 *  - address scope (`prefixes`, IPAM prefixes): when present, every address
 *    that a granted A/AAAA change adds or removes must lie in one of them;
 *  - request source (`sources`): when present, the request must come from
 *    one of these prefixes. Unsigned requests are only matched by rules of
 *    key "." that list sources: an unsigned update is refused unless a rule
 *    allows its source prefix explicitly.
 *
 * Each update RR of a message is checked on its own: the key's rules are
 * tried in order, the first whose name, type and source match decides;
 * none matching is deny. A message is allowed only when every update RR is
 * (RFC 2136 3.3: otherwise REFUSED, and nothing is applied). A deletion of
 * a whole name (class ANY, type ANY) is looked up as type ANY, which a rule
 * with an empty type list or with ANY in its list covers (so `nsupdate`'s
 * "update delete NAME" works for a key granted a subdomain with no types;
 * the update rules themselves never delete the apex SOA and NS).
 *
 * Besides its scope, an A/AAAA addition is refused when the address is
 * registered to another name (IPAM: an address belongs to one host).
 */

#define POL_MAX_TYPES 16
#define POL_MAX_PREFIXES 16

enum pol_action { POL_GRANT = 1, POL_DENY = 2 };
enum pol_match { POL_SELF = 1, POL_NAME, POL_SUBDOMAIN, POL_PATTERN };

struct pol_prefix {
	uint8_t family;            /* 4 or 6 */
	uint8_t len;               /* prefix length */
	uint8_t addr[16];          /* network address, host bits zero */
};

struct pol_rule {
	uint8_t key[DNS_NAME_MAXLEN];     /* lower-case wire; the root name for unsigned requests */
	enum pol_action action;
	enum pol_match match;
	uint8_t name[DNS_NAME_MAXLEN];    /* lower-case wire; kept but unused for POL_SELF */
	uint8_t ntypes;
	uint16_t types[POL_MAX_TYPES];
	uint8_t nprefixes;
	struct pol_prefix prefixes[POL_MAX_PREFIXES];
	uint8_t nsources;
	struct pol_prefix sources[POL_MAX_PREFIXES];
	uint32_t lease_min, lease_max;    /* RFC 9664 lease bounds in seconds, 0: none */
	/* TTL policy of the records the rule grants (pol_ttl_apply); 0: not set */
	uint32_t ttl_default, ttl_min, ttl_max;
	uint8_t ttl_over;                 /* POL_TTL_CLAMP (the default) or POL_TTL_REFUSE */
};

enum pol_ttl_over { POL_TTL_CLAMP = 0, POL_TTL_REFUSE = 1 };
#define POL_TTL_LIMIT 2147483647u     /* RFC 2181 8: TTLs are 0..2^31-1 */

/* An ordered list of rules (all keys). Owns its array. */
struct pol_set {
	struct pol_rule *rules;
	size_t n, cap;
};

void pol_set_free(struct pol_set *s);

/* Append a copy of `r` (it becomes the last rule of its key). DDI_ENOMEM. */
int pol_set_add(struct pol_set *s, const struct pol_rule *r);

/*
 * Remove the `index`-th rule (0-based) among the rules of `key`, keeping
 * the order of the rest. DDI_ENOENT when the key has no such rule.
 */
int pol_set_remove(struct pol_set *s, const uint8_t *key, size_t index);

/* Remove every rule of `key` (when the key is removed). Returns how many. */
size_t pol_set_remove_key(struct pol_set *s, const uint8_t *key);

/*
 * Kerberos principals (GSS-TSIG, control/ddns/gss.h)
 * --------------------------------------------------
 * A GSS-TSIG update is checked under its client's principal, read as a
 * domain name (as BIND does): "host/h1.example.com@EXAMPLE.COM" is the key
 * name host/h1.example.com\@example.com. (labels split at dots, lower-
 * cased), so `policy add host/h1.example.com@EXAMPLE.COM ...` names it
 * like any key. Besides:
 *  - a realm-wide key "@REALM" (e.g. `policy add @EXAMPLE.COM grant
 *    subdomain hosts.example.com. A AAAA`) covers every principal of that
 *    realm; a principal's own rules are tried before its realm's;
 *  - `self` for a principal: "host/HOST@REALM" may change HOST when it
 *    is at or below the rule's NAME (Kerberos host principals, as BIND's
 *    krb5-self), "MACHINE$@REALM" (a Windows machine account) may change
 *    MACHINE.NAME exactly, NAME being the rule's (the domain the machine
 *    registers in, as BIND's ms-self with the domain named by the rule);
 *    with a realm-wide key this is every host of the realm updating only
 *    its own name.
 *
 * TTL policy (per rule, for the records it grants)
 * ------------------------------------------------
 * RFC 2136 carries a TTL with every added RR; there is no "no TTL". A TTL
 * of 0 in an addition is taken as "the client chose none" and, when the
 * rule has --ttl-default N, becomes N. Then --ttl-min and --ttl-max bound
 * it: outside, the TTL is clamped to the bound (--ttl-over clamp, the
 * default) or the whole update is REFUSED (--ttl-over refuse). Deletions
 * carry no TTL and are not looked at. The trade-off: short TTLs make a
 * moved host reachable at its new address sooner but multiply the queries
 * that reach the servers (every resolver asks again after each TTL); long
 * ones spare the servers but let caches answer the old address for up to
 * a TTL after a host moved or left.
 */

/* ------------------------------------------------------------------------ */
/* Text and JSON                                                            */
/* ------------------------------------------------------------------------ */

/* "198.18.0.0/15", "2001:2::/48", a bare address (full length). Host bits are cleared. DDI_ESYNTAX. */
int pol_prefix_parse(struct pol_prefix *p, const char *s);
int pol_prefix_format(char *buf, size_t buflen, const struct pol_prefix *p);
bool pol_prefix_contains(const struct pol_prefix *p, uint8_t family, const uint8_t *addr);

/*
 * The command shape `policy add KEY` takes after the key:
 *   grant|deny self|name|subdomain|pattern NAME [TYPE...] [--prefix P...] [--source P...]
 *   [--ttl-default N] [--ttl-min N] [--ttl-max N] [--ttl-over clamp|refuse]
 * (`--prefix` and `--source` may each repeat and take one or more
 * prefixes up to the next option). `key` is the key name in presentation
 * form, "." for unsigned requests. On error returns DDI_ESYNTAX (or
 * DDI_ELIMIT past POL_MAX_*) and writes a sentence to `err`.
 */
int pol_rule_from_argv(struct pol_rule *r, const char *key, int argc, char *const *argv,
                       char *err, size_t errlen);

/*
 * Lease bounds (RFC 9664) of `key` (NULL: unsigned): the largest
 * lease_min and the smallest non-zero lease_max among its rules, 0 where
 * none sets one (ul_grant then grants up to one week). A rule sets them
 * with `--lease-min SECONDS` / `--lease-max SECONDS` (JSON "lease_min",
 * "lease_max", omitted when 0).
 */
void pol_lease_bounds(const struct pol_set *s, const uint8_t *key, uint32_t *min, uint32_t *max);

/* One line: "grant subdomain dhcp.example.com. A AAAA --prefix 198.18.0.0/24". */
int pol_rule_format(char *buf, size_t buflen, const struct pol_rule *r);

/*
 * JSON form, for the store and the control socket:
 *   {"key":"dhcp.key.","action":"grant","match":"subdomain","name":"dhcp.example.com.",
 *    "types":["A","AAAA"],"prefixes":["198.18.0.0/24"],"sources":[]}
 * to_json returns a new reference (NULL on ENOMEM). from_json checks every
 * field (unknown fields are refused) and returns DDI_EOK or DDI_ESYNTAX.
 */
json_t *pol_rule_to_json(const struct pol_rule *r);
int pol_rule_from_json(struct pol_rule *r, const json_t *j);

/* A whole set as a JSON array, in order, and back (the set is emptied first). */
json_t *pol_set_to_json(const struct pol_set *s);
int pol_set_from_json(struct pol_set *s, const json_t *j);

/* ------------------------------------------------------------------------ */
/* Checking an update                                                       */
/* ------------------------------------------------------------------------ */

/*
 * What the check may need to read (inside the caller's store transaction,
 * like upd_view). Either callback may be NULL: then a rule with prefixes
 * refuses RRset/name deletions (their addresses cannot be known) and the
 * "registered to another name" check is skipped.
 */
struct pol_view {
	void *ctx;
	/* Call cb for every address (4 or 16 bytes) of the A (family 4) or AAAA (6) RRset of owner. */
	int (*addresses)(void *ctx, const uint8_t *owner, uint8_t family,
	                 int (*cb)(void *cbctx, const uint8_t *addr), void *cbctx);
	/* Call cb for every name the address is registered to (lower-case wire). */
	int (*owners)(void *ctx, uint8_t family, const uint8_t *addr,
	              int (*cb)(void *cbctx, const uint8_t *owner), void *cbctx);
};

struct pol_verdict {
	bool allowed;
	long rr;                   /* index of the refused update RR, -1 when allowed */
	long rule;                 /* index in the set of the deciding rule, -1 for the default */
	char reason[256];          /* one sentence for the journal */
};

/*
 * Check every update RR of `m` for the request signed with `key` (lower-
 * case wire, NULL for unsigned) from `source` (family 4 or 6 address).
 * Fills `v` (allowed or the first refusal, with the reason). Returns
 * DDI_EOK, or a negative error from the view (the caller answers SERVFAIL).
 */
int pol_check(const struct pol_set *s, const uint8_t *key, uint8_t src_family,
              const uint8_t *src_addr, const struct upd_msg *m, const struct pol_view *view,
              struct pol_verdict *v);

/*
 * May this requester update anything at all: does `key` (NULL: unsigned)
 * have a rule, and for an unsigned request, a rule whose sources hold
 * `src_addr`? The gate before the prerequisites (RFC 2136 3.3 comes after
 * 3.2, but a requester with no rights learns nothing about the zone).
 */
bool pol_may_update(const struct pol_set *s, const uint8_t *key, uint8_t src_family,
                    const uint8_t *src_addr);

/* Does the rule's name part match `owner` for `key` (exposed for tests and `policy list`)? */
bool pol_name_matches(const struct pol_rule *r, const uint8_t *key, const uint8_t *owner);

/* Does a rule of key `rule_key` apply to requests signed with `key` (same name, or realm-wide)? */
bool pol_key_covers(const uint8_t *rule_key, const uint8_t *key);

/*
 * The TTL policy (see above) of every addition of `m` for `key` (NULL:
 * unsigned) from `source`: the first rule that matches each added RR (as
 * pol_check finds it) sets its TTL in place. `v` says allowed, or the
 * first refusal (--ttl-over refuse) with the reason. Returns how many TTLs
 * were changed. Runs before the transaction: it needs only the rules.
 */
int pol_ttl_apply(const struct pol_set *s, const uint8_t *key, uint8_t src_family,
                  const uint8_t *src_addr, struct upd_msg *m, struct pol_verdict *v);

#endif
