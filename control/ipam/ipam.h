/* ipam -- the IPAM data model: prefixes, ranges, allocations, their encodings, next-free and utilization */
#ifndef DDI_CONTROL_IPAM_H
#define DDI_CONTROL_IPAM_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <jansson.h>

#include "dns/name.h"

/*
 * ---------------------------------------------------------------------------
 * What lives here
 * ---------------------------------------------------------------------------
 * Pure functions, no LMDB, no index: the records an IPAM store keeps
 * (prefix, range, allocation), their binary form for LMDB values and their
 * JSON form for the control protocol, CIDR and MAC text forms, containment,
 * the reverse zones of a prefix, and the searches (next free address, next
 * free child prefix, utilization) written against an abstract "which
 * addresses are used" oracle (struct ipam_space_ops) whose real source is
 * the index's radix counts (idx_addr_count, idx_addr_next_free).
 *
 * Addresses are 16-byte arrays in network order; IPv4 uses the first 4
 * bytes and the other 12 are zero (every function that builds one zeroes
 * them, every decoder refuses anything else). Family is 4 or 6.
 *
 * Errors: negative codes of dns/errcode.h. Functions that parse text fill a
 * struct ipam_error with the code and one sentence naming the input
 * (err may be NULL).
 * ---------------------------------------------------------------------------
 */

#define IPAM_DESC_MAX 200       /* description bytes (NetBox's max_length) */
#define IPAM_OWNER_MAX 64       /* owner (user, team, key name) bytes */
#define IPAM_CLIENTID_MAX 130   /* DHCPv6 DUID: type(2) + at most 128 (RFC 8415 11.1) */
#define IPAM_VALUE_VERSION 1    /* first byte of a value without metadata */
#define IPAM_VALUE_VERSION_META 2 /* ... and of a prefix or allocation with metadata */
#define IPAM_VALUE_MAX 8192     /* no encoded value is longer */
#define IPAM_TENANT_MAX 100     /* tenant name bytes (NetBox's max_length) */
#define IPAM_TAGS_MAX 16        /* tags on one record */
#define IPAM_TAG_MAX 50         /* bytes of one tag */
#define IPAM_FIELDS_MAX 16      /* custom fields on one record */
#define IPAM_FIELD_KEY_MAX 50   /* custom field name bytes (NetBox's max_length) */
#define IPAM_FIELD_VALUE_MAX 200 /* custom field value bytes */
#define IPAM_CIDR_STRLEN 50     /* "ffff:...:ffff/128" plus NUL, with room */
#define IPAM_ADDR_STRLEN 46     /* INET6_ADDRSTRLEN */

typedef unsigned __int128 ipam_u128;

struct ipam_error {
	int code;
	char msg[256];   /* one line, no trailing newline */
};

/* Fill err (may be NULL) with `code` and a printf-style sentence; returns code. */
int ipam_fail(struct ipam_error *err, int code, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));

/* Hostile text for a message: printable ASCII only, at most 64 bytes then "...". */
const char *ipam_shown(const char *s, char buf[80]);

/* Bytes of an address of `family` in the 16-byte arrays below: 4 or 16. */
size_t ipam_addr_bytes(int family);

/* `s` is text of at most `max` bytes, UTF-8 without control characters; else DDI_EINVAL naming `what`. */
int ipam_check_text(const char *s, size_t max, const char *what, struct ipam_error *err);

/* --- Enums and their names ------------------------------------------------ */

enum ipam_status {        /* of a prefix (NetBox's prefix statuses, minus "container") */
	IPAM_STATUS_ACTIVE = 1,
	IPAM_STATUS_RESERVED = 2,
	IPAM_STATUS_DEPRECATED = 3,
};

enum ipam_policy {        /* how DNS records for the prefix's addresses are checked */
	IPAM_POLICY_OFF = 0,      /* not managed */
	IPAM_POLICY_STRICT = 1,   /* an A/AAAA may exist only for an address allocated to that name */
	IPAM_POLICY_AUTO = 2,     /* a new A/AAAA allocates its address */
};

enum ipam_state {         /* of an allocation */
	IPAM_STATE_STATIC = 1,
	IPAM_STATE_DYNAMIC = 2,   /* inside a dynamic range, registered by RFC 2136, may expire */
	IPAM_STATE_RESERVED = 3,  /* held, never handed out; a name is optional */
};

enum ipam_hw {            /* what identifies the client of an allocation */
	IPAM_HW_NONE = 0,
	IPAM_HW_MAC = 1,          /* 6 bytes */
	IPAM_HW_CLIENTID = 2,     /* DHCPv4 client identifier or DHCPv6 DUID, 1..130 bytes */
};

/* "active", "reserved", "deprecated"; NULL for an unknown value. */
const char *ipam_status_name(int status);
/* Name -> value (exact, lower-case); DDI_EINVAL if unknown. */
int ipam_status_parse(const char *s);
const char *ipam_policy_name(int policy);   /* "off", "strict", "auto" */
int ipam_policy_parse(const char *s);
const char *ipam_state_name(int state);     /* "static", "dynamic", "reserved" */
int ipam_state_parse(const char *s);

/* --- Addresses and CIDR prefixes ---------------------------------------- */

struct ipam_cidr {
	uint8_t family;      /* 4 or 6 */
	uint8_t plen;        /* 0..32 or 0..128 */
	uint8_t addr[16];    /* host bits zero for a prefix */
};

/* 32 for family 4, 128 for 6, 0 otherwise. */
int ipam_width(int family);

ipam_u128 ipam_addr_to_u128(int family, const uint8_t addr[16]);
void ipam_addr_from_u128(int family, ipam_u128 v, uint8_t out[16]);

/*
 * Parse an address (dotted quad without leading zeros, or RFC 4291 text;
 * no zone index, no spaces). Sets *family and out (zero-filled).
 * DDI_ESYNTAX: "'x' is not an IP address".
 */
int ipam_addr_parse(const char *s, int *family, uint8_t out[16], struct ipam_error *err);

/* Text form (RFC 5952 for IPv6). Returns the length or DDI_ESPACE/DDI_EINVAL. */
int ipam_addr_format(int family, const uint8_t addr[16], char *buf, size_t buflen);

/*
 * Parse a prefix "ADDR/LEN", strictly: LEN is decimal without leading
 * zeros, within the family's width, and the host bits must be zero:
 * "198.18.0.1/24 has host bits set; did you mean 198.18.0.0/24?".
 * DDI_ESYNTAX for anything else, with the reason.
 */
int ipam_cidr_parse(const char *s, struct ipam_cidr *out, struct ipam_error *err);

/*
 * Parse an interface-style address "ADDR" or "ADDR/LEN" (NetBox's IP
 * address form, where LEN is the mask of the enclosing network): host bits
 * are allowed; without /LEN the length is the full width.
 */
int ipam_host_parse(const char *s, struct ipam_cidr *out, struct ipam_error *err);

/* "ADDR/LEN". Returns the length or DDI_ESPACE/DDI_EINVAL. */
int ipam_cidr_format(const struct ipam_cidr *c, char *buf, size_t buflen);

/* First and last address of a prefix as integers. */
ipam_u128 ipam_cidr_first(const struct ipam_cidr *c);
ipam_u128 ipam_cidr_last(const struct ipam_cidr *c);

/* True when the host bits of c are zero and family/plen are valid. */
bool ipam_cidr_valid(const struct ipam_cidr *c);

/* `inner` lies within `outer` (equal prefixes count); false across families. */
bool ipam_cidr_contains(const struct ipam_cidr *outer, const struct ipam_cidr *inner);
bool ipam_cidr_contains_addr(const struct ipam_cidr *c, int family, const uint8_t addr[16]);
/* The two share at least one address (for prefixes: one contains the other). */
bool ipam_cidr_overlap(const struct ipam_cidr *a, const struct ipam_cidr *b);
/*
 * Order: family (4 first), then first address, then length (shorter
 * first). Sorting by this is a pre-order walk of the prefix tree: every
 * prefix comes before the prefixes it contains.
 */
int ipam_cidr_cmp(const struct ipam_cidr *a, const struct ipam_cidr *b);

/* --- Reverse zones ------------------------------------------------------- */

/*
 * The reverse zone(s) that hold the PTR names of a prefix. The rule
 * (BIND's and NetBox-DNS's convention): the zone at the octet (IPv4) or
 * nibble (IPv6) boundary that encloses the prefix, so
 *   IPv4 /8../15 -> the /8 zone, /16../23 -> the /16 zone,
 *        /24../32 -> the /24 zone (no RFC 2317 classless delegation: the
 *        addresses of a /26 are answered from its /24 zone);
 *   IPv6 /L -> the /(L rounded down to a multiple of 4) zone (a /48 is 12
 *        nibbles, a /50 lives in its /48 zone), but at most /64: a longer
 *        prefix (a /127 link, a /112) uses its /64 zone.
 * Sibling prefixes can therefore share one zone (10.1.0.0/20 and
 * 10.1.16.0/20 both map to 1.10.in-addr.arpa.): the caller creates a zone
 * that does not exist yet and keeps one that does.
 * A prefix shorter than the smallest useful zone (IPv4 < /8, IPv6 < /4) is
 * split into the zones of that size it covers (a /7 gives two /8 zones; at
 * most 256 for 0.0.0.0/0, 16 for ::/0), never the whole in-addr.arpa.
 *
 * Writes up to `max` zones to out (as prefixes) and their count to *n.
 * DDI_ESPACE if max is too small (256 always suffices), DDI_EINVAL for an
 * invalid prefix.
 */
int ipam_reverse_zones(const struct ipam_cidr *c, struct ipam_cidr *out, size_t max, size_t *n);

/*
 * The reverse name of a prefix whose length is a multiple of 8 (IPv4) or 4
 * (IPv6): "0.18.198.in-addr.arpa." for 198.18.0.0/24; the full PTR owner
 * for a /32 or /128. Wire form into out; returns the wire length or
 * DDI_EINVAL for other lengths.
 */
int ipam_reverse_name(const struct ipam_cidr *c, uint8_t out[DNS_NAME_MAXLEN]);

/* The PTR owner name of one address (wire form); returns the length. */
int ipam_ptr_name(int family, const uint8_t addr[16], uint8_t out[DNS_NAME_MAXLEN]);

/* --- MAC addresses and client identifiers --------------------------------- */

/*
 * "00:1a:2b:3c:4d:5e", "00-1A-2B-3C-4D-5E", "001a.2b3c.4d5e" (Cisco) or
 * "001a2b3c4d5e"; any case. DDI_ESYNTAX: "'x' is not a MAC address".
 */
int ipam_mac_parse(const char *s, uint8_t out[6], struct ipam_error *err);

/* Colon-separated hex bytes "01:00:1a:..": 1..IPAM_CLIENTID_MAX bytes. */
int ipam_clientid_parse(const char *s, uint8_t *out, size_t *len, struct ipam_error *err);

/* Lower-case colon-separated hex of len bytes; returns the length or DDI_ESPACE. */
int ipam_hex_format(const uint8_t *b, size_t len, char *buf, size_t buflen);

/* --- Metadata: tags, tenant, custom fields ------------------------------- */

/*
 * What NetBox and Infoblox users hang on prefixes and addresses to find
 * them again: a tenant (who it belongs to), tags (labels), and free-form
 * custom fields (NetBox's cf_*, Infoblox's extensible attributes).
 *   tenant   UTF-8 text without control characters, at most
 *            IPAM_TENANT_MAX bytes; "" for none.
 *   tags     at most IPAM_TAGS_MAX, each 1..IPAM_TAG_MAX bytes of UTF-8
 *            text without control characters or commas (a CSV cell holds
 *            them comma-separated, as NetBox writes them), no space at
 *            either end, no two equal; kept sorted (bytewise).
 *   fields   at most IPAM_FIELDS_MAX, keys 1..IPAM_FIELD_KEY_MAX bytes of
 *            [a-z0-9_] starting with a letter (NetBox's custom field
 *            names), values 1..IPAM_FIELD_VALUE_MAX bytes of UTF-8 text
 *            without control characters; no two keys equal; kept sorted
 *            by key.
 * Every function keeps those rules or fails with DDI_EINVAL and the
 * reason, changing nothing; DDI_ELIMIT when a bound on the count is hit.
 * They also keep every unused byte zero (after a string's NUL, slots past
 * the counts), so two equal metadata are equal bytes (memcmp), as the
 * decoder builds them.
 */
struct ipam_field {
	char key[IPAM_FIELD_KEY_MAX + 1];
	char value[IPAM_FIELD_VALUE_MAX + 1];
};

struct ipam_meta {
	char tenant[IPAM_TENANT_MAX + 1];
	uint8_t ntags, nfields;
	char tags[IPAM_TAGS_MAX][IPAM_TAG_MAX + 1];
	struct ipam_field fields[IPAM_FIELDS_MAX];
};

/* No tenant, no tags, no fields. */
bool ipam_meta_empty(const struct ipam_meta *m);
/* The rules above, as a whole (the decoder and the encoders call it). */
int ipam_meta_check(const struct ipam_meta *m, struct ipam_error *err);
int ipam_meta_set_tenant(struct ipam_meta *m, const char *tenant, struct ipam_error *err);
/* Add a tag (present already: no change, DDI_EOK); remove one (absent: DDI_ENOENT). */
int ipam_meta_tag_add(struct ipam_meta *m, const char *tag, struct ipam_error *err);
int ipam_meta_tag_del(struct ipam_meta *m, const char *tag, struct ipam_error *err);
/* Set key to value; an empty value removes the key (absent: no change). */
int ipam_meta_field_set(struct ipam_meta *m, const char *key, const char *value,
                        struct ipam_error *err);
/* "KEY=VALUE" as given on a command line: ipam_meta_field_set(KEY, VALUE). */
int ipam_meta_field_parse(struct ipam_meta *m, const char *kv, struct ipam_error *err);
/* The value of key, NULL when absent. */
const char *ipam_meta_field_get(const struct ipam_meta *m, const char *key);
/*
 * A CSV cell of comma-separated tags ("a, b,c"): each trimmed of spaces
 * and added; empty pieces are skipped. The joined form is what the
 * writer puts in a cell: "a,b,c" (at most IPAM_TAGS_MAX * (IPAM_TAG_MAX + 1) bytes).
 */
int ipam_meta_tags_parse(struct ipam_meta *m, const char *cell, struct ipam_error *err);
#define IPAM_TAGS_STRLEN (IPAM_TAGS_MAX * (IPAM_TAG_MAX + 1) + 1)
void ipam_meta_tags_join(const struct ipam_meta *m, char out[IPAM_TAGS_STRLEN]);

/*
 * JSON: the members "tenant" (string), "tags" (array of strings) and
 * "fields" (object of strings) are added to / read from a record's object.
 * ipam_meta_from_json_member reads one member by key into m: DDI_EOK,
 * DDI_ENOENT when k is none of the three (not an error: the caller goes
 * on), DDI_EINVAL naming the key.
 */
int ipam_meta_to_json(const struct ipam_meta *m, json_t *obj);
int ipam_meta_from_json_member(struct ipam_meta *m, const char *k, const json_t *v,
                               struct ipam_error *err);

/* --- Records ------------------------------------------------------------- */

struct ipam_prefix {
	struct ipam_cidr cidr;
	uint8_t status;                     /* enum ipam_status */
	uint8_t policy;                     /* enum ipam_policy */
	uint8_t zone_len;                   /* 0: no forward zone */
	uint8_t zone[DNS_NAME_MAXLEN];      /* wire name of the forward zone of its hosts */
	uint64_t created, updated;          /* unix seconds */
	char description[IPAM_DESC_MAX + 1];
	struct ipam_meta meta;
};

struct ipam_range {
	uint8_t family;
	uint8_t first[16], last[16];        /* first <= last, inclusive */
	bool dynamic;                       /* a DHCP pool: its addresses come from dynamic updates */
	uint64_t created, updated;
	char description[IPAM_DESC_MAX + 1];
};

struct ipam_alloc {
	uint8_t family;
	uint8_t addr[16];
	uint8_t state;                      /* enum ipam_state */
	uint8_t name_len;                   /* 0: no name (reserved, nameless lease) */
	uint8_t name[DNS_NAME_MAXLEN];      /* wire name of the host */
	uint8_t hw_type;                    /* enum ipam_hw */
	uint8_t hw_len;
	uint8_t hw[IPAM_CLIENTID_MAX];
	uint64_t created, updated;
	uint64_t expires;                   /* lease end (unix s) for dynamic ones, else 0 */
	char owner[IPAM_OWNER_MAX + 1];
	char description[IPAM_DESC_MAX + 1];
	struct ipam_meta meta;
};

/* Zero-filled records with the defaults (status active, policy off, state static). */
void ipam_prefix_init(struct ipam_prefix *p);
void ipam_range_init(struct ipam_range *r);
void ipam_alloc_init(struct ipam_alloc *a);

/*
 * Check a record as a whole (everything the decoder checks): valid prefix,
 * enums in range, zone a valid wire name, texts valid UTF-8 without control
 * characters and within their bounds, range first <= last in one family,
 * a static allocation has a name, only a dynamic one has an expiry,
 * hw_len fits hw_type. DDI_EINVAL with the reason.
 */
int ipam_prefix_check(const struct ipam_prefix *p, struct ipam_error *err);
int ipam_range_check(const struct ipam_range *r, struct ipam_error *err);
int ipam_alloc_check(const struct ipam_alloc *a, struct ipam_error *err);

/*
 * LMDB keys. Big-endian so memcmp order is address order:
 *   prefixes     family(1) addr(4|16) plen(1)   (ipam_cidr_cmp order)
 *   ranges       family(1) first(4|16) last(4|16)
 *   allocations  family(1) addr(4|16)
 * Return the key length (at most 33).
 */
#define IPAM_KEY_MAX 33
size_t ipam_prefix_key(const struct ipam_cidr *c, uint8_t out[IPAM_KEY_MAX]);
size_t ipam_range_key(const struct ipam_range *r, uint8_t out[IPAM_KEY_MAX]);
size_t ipam_alloc_key(int family, const uint8_t addr[16], uint8_t out[IPAM_KEY_MAX]);

/*
 * LMDB values, version 1, integers big-endian, strings length-prefixed:
 *   prefix  ver(1)=1 family(1) plen(1) addr(4|16) status(1) policy(1)
 *           created(8) updated(8) zone_len(1) zone desc_len(2) desc
 *   range   ver(1)=1 family(1) flags(1: bit0 dynamic) first(4|16) last(4|16)
 *           created(8) updated(8) desc_len(2) desc
 *   alloc   ver(1)=1 family(1) addr(4|16) state(1) created(8) updated(8)
 *           expires(8) name_len(1) name hw_type(1) hw_len(1) hw
 *           owner_len(1) owner desc_len(2) desc
 * A prefix or allocation with metadata (not ipam_meta_empty) is written as
 * version 2: the same bytes with 2 as the first, then
 *           tenant_len(1) tenant ntags(1) {tag_len(1) tag}...
 *           nfields(1) {key_len(1) key value_len(1) value}...
 * Both versions decode; one without metadata is still written as version
 * 1, so the store stays readable by a ddiplane that knows only version 1.
 * The encoders check the record first (DDI_EINVAL) and return the value
 * length or DDI_ESPACE; IPAM_VALUE_MAX always suffices. The decoders treat
 * the value as hostile: every length is bounded by the value, no trailing
 * bytes, and the decoded record must pass the check. Errors:
 * DDI_ESCHEMA (unknown version), DDI_ECORRUPT (anything else).
 */
int ipam_prefix_encode(const struct ipam_prefix *p, uint8_t *out, size_t outlen);
int ipam_prefix_decode(const uint8_t *v, size_t len, struct ipam_prefix *p);
int ipam_range_encode(const struct ipam_range *r, uint8_t *out, size_t outlen);
int ipam_range_decode(const uint8_t *v, size_t len, struct ipam_range *r);
int ipam_alloc_encode(const struct ipam_alloc *a, uint8_t *out, size_t outlen);
int ipam_alloc_decode(const uint8_t *v, size_t len, struct ipam_alloc *a);

/*
 * JSON forms for the control protocol and the journal:
 *   prefix {"prefix": "198.18.0.0/24", "status": "active", "policy": "strict",
 *           "zone": "example.com." | null, "description": "", "created": N, "updated": N}
 *   range  {"first": "198.18.0.100", "last": "198.18.0.199", "dynamic": true,
 *           "description": "", "created": N, "updated": N}
 *   alloc  {"address": "198.18.0.5", "state": "static", "name": "web1.example.com." | null,
 *           "mac": "00:1a:..." (only for IPAM_HW_MAC), "client_id": "01:.." (only for
 *           IPAM_HW_CLIENTID), "owner": "", "description": "", "created": N,
 *           "updated": N, "expires": N (only when non-zero)}
 *   prefixes and allocations also carry "tenant": "", "tags": [...],
 *   "fields": {"key": "value", ...} (ipam_meta_to_json).
 * to_json returns a new reference or NULL (no memory). from_json reads the
 * same shape: the key naming the record is required, the others default;
 * an unknown key, a wrong JSON type or a bad value is DDI_EINVAL with the
 * key named in err.
 */
json_t *ipam_prefix_to_json(const struct ipam_prefix *p);
json_t *ipam_range_to_json(const struct ipam_range *r);
json_t *ipam_alloc_to_json(const struct ipam_alloc *a);
int ipam_prefix_from_json(const json_t *j, struct ipam_prefix *p, struct ipam_error *err);
int ipam_range_from_json(const json_t *j, struct ipam_range *r, struct ipam_error *err);
int ipam_alloc_from_json(const json_t *j, struct ipam_alloc *a, struct ipam_error *err);

/* --- Ranges, names and the DNS policy ----------------------------------- */

/* A range as a span of integers; two ranges overlap (same family, shared address). */
struct ipam_span ipam_range_span(const struct ipam_range *r);
bool ipam_range_overlap(const struct ipam_range *a, const struct ipam_range *b);
/* The range lies inside the prefix. */
bool ipam_range_within(const struct ipam_cidr *c, const struct ipam_range *r);

/*
 * The CIDR blocks that make up [first, last] exactly, in order: at most
 * 2W of them (62 for IPv4, 254 for IPv6). Returns the count, DDI_ESPACE if
 * max is too small, DDI_EINVAL for a bad family or first > last.
 */
int ipam_span_to_cidrs(int family, ipam_u128 first, ipam_u128 last, struct ipam_cidr *out,
                       size_t max);

/*
 * The address can be handed out in the prefix (ipam_cidr_usable): not the
 * IPv4 network or broadcast address of a prefix shorter than /31, not the
 * IPv6 Subnet-Router anycast address of one shorter than /127.
 */
bool ipam_addr_usable(const struct ipam_cidr *c, int family, const uint8_t addr[16]);

/*
 * The host name given to `alloc next PREFIX NAME`: absolute, as every name
 * on a command line ("web1.example.com" and "web1.example.com." are the
 * same name; a missing final dot is added). Wire form to out; returns the
 * length or DDI_ESYNTAX with the reason.
 */
int ipam_host_name(const char *name, uint8_t out[DNS_NAME_MAXLEN], struct ipam_error *err);

/*
 * What the DNS policy of the prefix that holds `addr` says about an A/AAAA
 * record at `owner` for it. `p` is the deepest prefix holding the address
 * (NULL: none), `a` the address's allocation (NULL: none).
 *   IPAM_VERDICT_ALLOW     keep the record as it is (policy off, no prefix,
 *                          or the address is allocated to this very name)
 *   IPAM_VERDICT_ALLOCATE  policy auto and the address is free: the caller
 *                          records a static allocation for owner in the
 *                          same transaction
 *   DDI_EPOLICY            strict and the address is not allocated, or
 *                          auto and the address cannot be handed out
 *                          (network, broadcast, anycast)
 *   DDI_ECONFLICT          the address is allocated to another name, or
 *                          reserved (policy strict or auto)
 * err->msg names the address, the prefix and the policy, for example
 * "198.18.0.7 is not allocated (198.18.0.0/24 has DNS policy strict)".
 * The conflicts report classifies existing records with the same rules.
 */
enum ipam_verdict {
	IPAM_VERDICT_ALLOW = 0,
	IPAM_VERDICT_ALLOCATE = 1,
};

int ipam_record_verdict(const struct ipam_prefix *p, const struct ipam_alloc *a,
                        const uint8_t *owner, int family, const uint8_t addr[16],
                        struct ipam_error *err);

/* --- Searches over an abstract "used" oracle ---------------------------- */

/*
 * The source of truth for "is this address used": in the server the
 * index's radix tree (idx_addr_count / idx_addr_next_free on a version),
 * in tests a simple set. Both must be O(prefix length).
 *   count:     used addresses in prefix/plen.
 *   next_free: lowest unused address of prefix/plen, skipping the first
 *              skip_low and last skip_high addresses; DDI_EOK or DDI_EFULL.
 */
struct ipam_space_ops {
	uint64_t (*count)(void *ctx, int family, const uint8_t *prefix, int plen);
	int (*next_free)(void *ctx, int family, const uint8_t *prefix, int plen,
	                 uint64_t skip_low, uint64_t skip_high, uint8_t out[16]);
};

/* The ops over an index version (ctx is a const struct idx_version *). */
extern const struct ipam_space_ops ipam_index_ops;

/* An inclusive span of addresses that is not handed out (reserved, other ranges). */
struct ipam_span {
	ipam_u128 first, last;
};

/*
 * Sort spans by first and merge overlapping or adjacent ones in place;
 * returns the new count. The searches below need this form.
 */
size_t ipam_spans_normalize(struct ipam_span *s, size_t n);

/*
 * The lowest address in [first, last] that the oracle calls free and that
 * lies in none of `excl` (normalized). The interval is cut at the
 * exclusions; each piece is one next_free call on its smallest enclosing
 * prefix with skip_low/skip_high (always for IPv4; for IPv6 when the skips
 * fit 64 bits), else its at most 2W aligned blocks, one call each until
 * one answers. So O(nexcl + 1) calls for IPv4, O((nexcl + 1) * W) at worst.
 * DDI_EOK, DDI_EFULL ("prefix full"), DDI_EINVAL (bad family, first > last).
 */
int ipam_next_free_span(const struct ipam_space_ops *ops, void *ctx, int family,
                        ipam_u128 first, ipam_u128 last, const struct ipam_span *excl,
                        size_t nexcl, uint8_t out[16]);

/*
 * The addresses of a prefix that can be handed out (NetBox's rule):
 * IPv4 shorter than /31 without the network and broadcast addresses,
 * IPv6 shorter than /127 without the Subnet-Router anycast address (the
 * all-zero host, RFC 4291 2.6.1); /31, /32, /127, /128 all of them.
 */
void ipam_cidr_usable(const struct ipam_cidr *c, ipam_u128 *first, ipam_u128 *last);

/* Next free address of a prefix: ipam_next_free_span over its usable span. */
int ipam_next_free(const struct ipam_space_ops *ops, void *ctx, const struct ipam_cidr *prefix,
                   const struct ipam_span *excl, size_t nexcl, uint8_t out[16]);

/*
 * Next free address, double-checked against the authoritative record of
 * allocations. The index a server answers from may lag the LMDB store by
 * the journal entries not yet applied, and it knows only addresses that
 * have an A/AAAA record; two concurrent `alloc next` must still never get
 * the same address. So the caller runs this inside its LMDB write
 * transaction (which serializes allocators) with `taken` answering "is
 * this address allocated in the store": a candidate the oracle calls free
 * but the store holds is stepped over and the search goes on after it.
 * The answer is the lowest usable address free in both. taken() is called
 * once per stale address below the answer, plus once.
 */
typedef bool (*ipam_taken_fn)(void *ctx, int family, const uint8_t addr[16]);

int ipam_next_free_checked(const struct ipam_space_ops *ops, void *ctx, const struct ipam_cidr *prefix,
                           const struct ipam_span *excl, size_t nexcl, ipam_taken_fn taken,
                           void *tctx, uint8_t out[16]);

/*
 * The lowest aligned /plen inside `parent` that overlaps none of
 * `children` (sorted by ipam_cidr_cmp; nested ones and ones outside the
 * parent are allowed; one that contains the parent blocks everything).
 * O(nchildren). DDI_EINVAL unless parent is valid and parent->plen < plen
 * <= width; DDI_EFULL when no such block is left.
 */
int ipam_next_free_child(const struct ipam_cidr *parent, int plen,
                         const struct ipam_cidr *children, size_t nchildren,
                         struct ipam_cidr *out);

/*
 * Utilization of a prefix, from counts only (O(prefix length)):
 *   used  = used addresses among the usable ones (IPv4 < /31: the network
 *           and broadcast addresses are not counted even if they have a
 *           record; IPv6: every address counts, as in NetBox),
 *   total = IPv4 < /31: 2^(32-plen) - 2; else 2^(W-plen) (NetBox counts
 *           the IPv6 anycast address in the size). ::/0 saturates at
 *           2^128-1, which changes no displayed digit.
 *   permyriad = floor(used * 10000 / total) (hundredths of a percent).
 */
struct ipam_util {
	ipam_u128 used;
	ipam_u128 total;
	uint32_t permyriad;
};

int ipam_utilization(const struct ipam_space_ops *ops, void *ctx, const struct ipam_cidr *prefix,
                     struct ipam_util *u);

/* Addresses of `parent` covered by the union of `children` (sorted). */
ipam_u128 ipam_children_coverage(const struct ipam_cidr *parent, const struct ipam_cidr *children,
                                 size_t nchildren);

/* floor(part * 10000 / whole), 0 for whole 0; exact for any 128-bit values. */
uint32_t ipam_permyriad(ipam_u128 part, ipam_u128 whole);

/* Decimal text of a 128-bit value; returns the length or DDI_ESPACE (40 bytes suffice). */
int ipam_u128_format(ipam_u128 v, char *buf, size_t buflen);

/* "12.34" from a permyriad; returns the length or DDI_ESPACE. */
int ipam_percent_format(uint32_t permyriad, char *buf, size_t buflen);

#endif
