/* policy -- who may change what through RFC 2136: per-key grant/deny rules by name, type, address scope and source */
#include <arpa/inet.h>
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "control/ddns/policy.h"
#include "dns/errcode.h"
#include "dns/name.h"
#include "dns/rdata.h"
#include "dns/wire.h"

/* DNSSEC types a rule without a type list does not cover (besides SOA and NS). */
#define DNS_T_DNSKEY 48
#define DNS_T_RRSIG 46
#define DNS_T_NSEC 47
#define DNS_T_NSEC3 50
#define DNS_T_CDS 59
#define DNS_T_CDNSKEY 60

static const uint8_t root_name[1] = { 0 };

/* ------------------------------------------------------------------------ */
/* The set                                                                  */
/* ------------------------------------------------------------------------ */

void pol_set_free(struct pol_set *s)
{
	if (s == NULL)
		return;
	free(s->rules);
	memset(s, 0, sizeof(*s));
}

int pol_set_add(struct pol_set *s, const struct pol_rule *r)
{
	if (s->n == s->cap) {
		size_t nc = s->cap ? s->cap * 2 : 8;
		struct pol_rule *p = realloc(s->rules, nc * sizeof(*p));
		if (p == NULL)
			return DDI_ENOMEM;
		s->rules = p;
		s->cap = nc;
	}
	s->rules[s->n++] = *r;
	return DDI_EOK;
}

int pol_set_remove(struct pol_set *s, const uint8_t *key, size_t index)
{
	size_t seen = 0;

	for (size_t i = 0; i < s->n; i++) {
		if (!dns_name_equal(s->rules[i].key, key))
			continue;
		if (seen++ == index) {
			memmove(&s->rules[i], &s->rules[i + 1], (s->n - i - 1) * sizeof(s->rules[0]));
			s->n--;
			return DDI_EOK;
		}
	}
	return DDI_ENOENT;
}

size_t pol_set_remove_key(struct pol_set *s, const uint8_t *key)
{
	size_t w = 0, removed = 0;

	for (size_t i = 0; i < s->n; i++) {
		if (dns_name_equal(s->rules[i].key, key))
			removed++;
		else
			s->rules[w++] = s->rules[i];
	}
	s->n = w;
	return removed;
}

/* ------------------------------------------------------------------------ */
/* Prefixes                                                                 */
/* ------------------------------------------------------------------------ */

static void prefix_mask(struct pol_prefix *p)
{
	size_t bytes = p->family == 4 ? 4 : 16;
	for (size_t i = 0; i < bytes; i++) {
		int keep = (int)p->len - (int)(i * 8);
		if (keep >= 8)
			continue;
		p->addr[i] &= keep <= 0 ? 0 : (uint8_t)(0xff << (8 - keep));
	}
}

int pol_prefix_parse(struct pol_prefix *p, const char *s)
{
	char buf[INET6_ADDRSTRLEN + 8];
	const char *slash;
	size_t alen;
	long len = -1;

	memset(p, 0, sizeof(*p));
	if (s == NULL)
		return DDI_ESYNTAX;
	slash = strchr(s, '/');
	alen = slash ? (size_t)(slash - s) : strlen(s);
	if (alen == 0 || alen >= INET6_ADDRSTRLEN)
		return DDI_ESYNTAX;
	memcpy(buf, s, alen);
	buf[alen] = '\0';
	if (inet_pton(AF_INET, buf, p->addr) == 1)
		p->family = 4;
	else if (inet_pton(AF_INET6, buf, p->addr) == 1)
		p->family = 6;
	else
		return DDI_ESYNTAX;
	if (slash != NULL) {
		char *end;
		if (slash[1] < '0' || slash[1] > '9')
			return DDI_ESYNTAX;
		len = strtol(slash + 1, &end, 10);
		if (*end != '\0')
			return DDI_ESYNTAX;
	} else {
		len = p->family == 4 ? 32 : 128;
	}
	if (len < 0 || len > (p->family == 4 ? 32 : 128))
		return DDI_ESYNTAX;
	p->len = (uint8_t)len;
	prefix_mask(p);
	return DDI_EOK;
}

int pol_prefix_format(char *buf, size_t buflen, const struct pol_prefix *p)
{
	char a[INET6_ADDRSTRLEN];
	if (inet_ntop(p->family == 4 ? AF_INET : AF_INET6, p->addr, a, sizeof(a)) == NULL)
		return DDI_EINVAL;
	int r = snprintf(buf, buflen, "%s/%u", a, p->len);
	if (r < 0 || (size_t)r >= buflen)
		return DDI_ESPACE;
	return r;
}

bool pol_prefix_contains(const struct pol_prefix *p, uint8_t family, const uint8_t *addr)
{
	if (p->family != family)
		return false;
	size_t full = p->len / 8, rem = p->len % 8;
	if (memcmp(p->addr, addr, full) != 0)
		return false;
	if (rem == 0)
		return true;
	uint8_t m = (uint8_t)(0xff << (8 - rem));
	return (addr[full] & m) == p->addr[full];
}

static bool in_any(const struct pol_prefix *list, size_t n, uint8_t family, const uint8_t *addr)
{
	for (size_t i = 0; i < n; i++)
		if (pol_prefix_contains(&list[i], family, addr))
			return true;
	return false;
}

/* ------------------------------------------------------------------------ */
/* Text                                                                     */
/* ------------------------------------------------------------------------ */

static const char *const action_names[] = { [POL_GRANT] = "grant", [POL_DENY] = "deny" };
static const char *const match_names[] = {
	[POL_SELF] = "self", [POL_NAME] = "name", [POL_SUBDOMAIN] = "subdomain", [POL_PATTERN] = "pattern",
};

static int action_from(const char *s)
{
	for (int i = POL_GRANT; i <= POL_DENY; i++)
		if (strcmp(s, action_names[i]) == 0)
			return i;
	return 0;
}

static int match_from(const char *s)
{
	for (int i = POL_SELF; i <= POL_PATTERN; i++)
		if (strcmp(s, match_names[i]) == 0)
			return i;
	return 0;
}

static int seterr(char *err, size_t errlen, int code, const char *fmt, ...)
	__attribute__((format(printf, 4, 5)));
static int seterr(char *err, size_t errlen, int code, const char *fmt, ...)
{
	va_list ap;
	if (err != NULL && errlen > 0) {
		va_start(ap, fmt);
		vsnprintf(err, errlen, fmt, ap);
		va_end(ap);
	}
	return code;
}

static int name_parse(uint8_t out[DNS_NAME_MAXLEN], const char *s)
{
	int r = dns_name_from_str(out, s, strlen(s), NULL);
	if (r < 0)
		return r;
	dns_name_lower(out);
	return DDI_EOK;
}

/* A pattern: a wildcard only as the whole leftmost label. */
static bool pattern_ok(const uint8_t *name)
{
	const uint8_t *p = dns_name_parent(name);
	for (; p != NULL && *p != 0; p = dns_name_parent(p))
		for (uint8_t i = 1; i <= p[0]; i++)
			if (p[i] == '*')
				return false;
	return true;
}

/* --ttl-default/--ttl-min/--ttl-max N (1..2^31-1), --ttl-over clamp|refuse. */
static int ttl_option(struct pol_rule *r, const char *opt, const char *val, char *err,
                      size_t errlen)
{
	if (strcmp(opt, "--ttl-over") == 0) {
		if (strcmp(val, "clamp") == 0)
			r->ttl_over = POL_TTL_CLAMP;
		else if (strcmp(val, "refuse") == 0)
			r->ttl_over = POL_TTL_REFUSE;
		else
			return seterr(err, errlen, DDI_ESYNTAX, "--ttl-over takes clamp or refuse, not '%s'",
			              val);
		return DDI_EOK;
	}
	uint32_t *dst = strcmp(opt, "--ttl-default") == 0 ? &r->ttl_default
	              : strcmp(opt, "--ttl-min") == 0 ? &r->ttl_min
	              : strcmp(opt, "--ttl-max") == 0 ? &r->ttl_max : NULL;
	if (dst == NULL)
		return seterr(err, errlen, DDI_ESYNTAX, "unknown option '%s' (--ttl-default, --ttl-min, "
		              "--ttl-max, --ttl-over)", opt);
	char *end;
	errno = 0;
	unsigned long v = strtoul(val, &end, 10);
	if (errno || end == val || *end || val[0] == '-' || v < 1 || v > POL_TTL_LIMIT)
		return seterr(err, errlen, DDI_ESYNTAX, "%s takes seconds, 1..%u, not '%s'", opt,
		              POL_TTL_LIMIT, val);
	*dst = (uint32_t)v;
	return DDI_EOK;
}

static bool ttl_consistent(const struct pol_rule *r)
{
	if (r->ttl_min && r->ttl_max && r->ttl_min > r->ttl_max)
		return false;
	if (r->ttl_default && ((r->ttl_min && r->ttl_default < r->ttl_min) ||
	                       (r->ttl_max && r->ttl_default > r->ttl_max)))
		return false;
	return r->ttl_over <= POL_TTL_REFUSE && r->ttl_default <= POL_TTL_LIMIT &&
	       r->ttl_min <= POL_TTL_LIMIT && r->ttl_max <= POL_TTL_LIMIT;
}

int pol_rule_from_argv(struct pol_rule *r, const char *key, int argc, char *const *argv,
                       char *err, size_t errlen)
{
	int i = 0;
	enum { TYPES, PREFIXES, SOURCES, AFTER_TTL } mode = TYPES;

	memset(r, 0, sizeof(*r));
	if (key == NULL || name_parse(r->key, key) != DDI_EOK)
		return seterr(err, errlen, DDI_ESYNTAX, "'%s' is not a key name", key ? key : "");
	if (argc < 3)
		return seterr(err, errlen, DDI_ESYNTAX,
		              "expected grant|deny self|name|subdomain|pattern NAME [TYPE...]");
	if ((r->action = action_from(argv[0])) == 0)
		return seterr(err, errlen, DDI_ESYNTAX, "expected grant or deny, got '%s'", argv[0]);
	if ((r->match = match_from(argv[1])) == 0)
		return seterr(err, errlen, DDI_ESYNTAX,
		              "expected self, name, subdomain or pattern, got '%s'", argv[1]);
	if (name_parse(r->name, argv[2]) != DDI_EOK)
		return seterr(err, errlen, DDI_ESYNTAX, "'%s' is not a domain name", argv[2]);
	if (r->match == POL_PATTERN && !pattern_ok(r->name))
		return seterr(err, errlen, DDI_ESYNTAX,
		              "pattern '%s': '*' may only be the whole leftmost label", argv[2]);
	for (i = 3; i < argc; i++) {
		const char *a = argv[i];
		if (strcmp(a, "--prefix") == 0) {
			mode = PREFIXES;
			continue;
		}
		if (strcmp(a, "--source") == 0) {
			mode = SOURCES;
			continue;
		}
		if (strcmp(a, "--lease-min") == 0 || strcmp(a, "--lease-max") == 0) {
			char *end;
			unsigned long v = i + 1 < argc ? strtoul(argv[i + 1], &end, 10) : 0;
			if (i + 1 >= argc || argv[i + 1][0] < '0' || argv[i + 1][0] > '9' || *end ||
			    v == 0 || v > 0x7fffffffu)
				return seterr(err, errlen, DDI_ESYNTAX,
				              "%s takes a number of seconds from 1 to 2147483647", a);
			*(a[9] == 'i' ? &r->lease_min : &r->lease_max) = (uint32_t)v;
			i++;
			continue;
		}
		if (strncmp(a, "--ttl-", 6) == 0) {
			if ((mode == PREFIXES && r->nprefixes == 0) || (mode == SOURCES && r->nsources == 0))
				return seterr(err, errlen, DDI_ESYNTAX, "an option without a prefix");
			if (i + 1 >= argc)
				return seterr(err, errlen, DDI_ESYNTAX, "%s needs a value", a);
			int e = ttl_option(r, a, argv[++i], err, errlen);
			if (e != DDI_EOK)
				return e;
			mode = AFTER_TTL;
			continue;
		}
		if (mode == AFTER_TTL)
			return seterr(err, errlen, DDI_ESYNTAX, "'%s': types and prefixes go before the "
			              "--ttl-* options", a);
		if (mode == TYPES) {
			uint16_t t = dns_type_from_str(a, strlen(a));
			if (t == 0 || (t != DNS_T_ANY && dns_type_is_meta(t)))
				return seterr(err, errlen, DDI_ESYNTAX, "'%s' is not an RR type", a);
			if (r->ntypes >= POL_MAX_TYPES)
				return seterr(err, errlen, DDI_ELIMIT, "more than %d types", POL_MAX_TYPES);
			r->types[r->ntypes++] = t;
			continue;
		}
		struct pol_prefix *list = mode == PREFIXES ? r->prefixes : r->sources;
		uint8_t *n = mode == PREFIXES ? &r->nprefixes : &r->nsources;
		if (*n >= POL_MAX_PREFIXES)
			return seterr(err, errlen, DDI_ELIMIT, "more than %d prefixes", POL_MAX_PREFIXES);
		if (pol_prefix_parse(&list[*n], a) != DDI_EOK)
			return seterr(err, errlen, DDI_ESYNTAX, "'%s' is not an address prefix", a);
		(*n)++;
	}
	if ((mode == PREFIXES && r->nprefixes == 0) || (mode == SOURCES && r->nsources == 0))
		return seterr(err, errlen, DDI_ESYNTAX, "an option without a prefix");
	if (r->key[0] == 0 && r->nsources == 0)
		return seterr(err, errlen, DDI_ESYNTAX,
		              "a rule for unsigned updates (key '.') needs --source");
	if (r->lease_min && r->lease_max && r->lease_min > r->lease_max)
		return seterr(err, errlen, DDI_ESYNTAX, "--lease-min is above --lease-max");
	if (!ttl_consistent(r))
		return seterr(err, errlen, DDI_ESYNTAX, "--ttl-min is above --ttl-max, or "
		              "--ttl-default lies outside them");
	return DDI_EOK;
}

int pol_rule_format(char *buf, size_t buflen, const struct pol_rule *r)
{
	char name[DNS_NAME_STRLEN], pfx[64];
	size_t len = 0;
	int n;

#define PUT(...)                                                        \
	do {                                                            \
		n = snprintf(buf + len, buflen - len, __VA_ARGS__);     \
		if (n < 0 || (size_t)n >= buflen - len)                 \
			return DDI_ESPACE;                              \
		len += (size_t)n;                                       \
	} while (0)

	if (buf == NULL || buflen == 0 || r->action < POL_GRANT || r->action > POL_DENY ||
	    r->match < POL_SELF || r->match > POL_PATTERN)
		return DDI_EINVAL;
	if (dns_name_to_str(name, sizeof(name), r->name) < 0)
		return DDI_EINVAL;
	PUT("%s %s %s", action_names[r->action], match_names[r->match], name);
	for (uint8_t i = 0; i < r->ntypes; i++)
		PUT(" %s", dns_type_name(r->types[i]));
	if (r->nprefixes > 0)
		PUT(" --prefix");
	for (uint8_t i = 0; i < r->nprefixes; i++) {
		if (pol_prefix_format(pfx, sizeof(pfx), &r->prefixes[i]) < 0)
			return DDI_EINVAL;
		PUT(" %s", pfx);
	}
	if (r->nsources > 0)
		PUT(" --source");
	for (uint8_t i = 0; i < r->nsources; i++) {
		if (pol_prefix_format(pfx, sizeof(pfx), &r->sources[i]) < 0)
			return DDI_EINVAL;
		PUT(" %s", pfx);
	}
	if (r->lease_min)
		PUT(" --lease-min %u", (unsigned)r->lease_min);
	if (r->lease_max)
		PUT(" --lease-max %u", (unsigned)r->lease_max);
	if (r->ttl_default)
		PUT(" --ttl-default %u", r->ttl_default);
	if (r->ttl_min)
		PUT(" --ttl-min %u", r->ttl_min);
	if (r->ttl_max)
		PUT(" --ttl-max %u", r->ttl_max);
	if (r->ttl_over == POL_TTL_REFUSE)
		PUT(" --ttl-over refuse");
#undef PUT
	return (int)len;
}

/* ------------------------------------------------------------------------ */
/* JSON                                                                     */
/* ------------------------------------------------------------------------ */

static json_t *prefixes_json(const struct pol_prefix *list, size_t n)
{
	json_t *a = json_array();
	char buf[64];
	for (size_t i = 0; a != NULL && i < n; i++) {
		if (pol_prefix_format(buf, sizeof(buf), &list[i]) < 0 ||
		    json_array_append_new(a, json_string(buf)) != 0) {
			json_decref(a);
			return NULL;
		}
	}
	return a;
}

json_t *pol_rule_to_json(const struct pol_rule *r)
{
	char key[DNS_NAME_STRLEN], name[DNS_NAME_STRLEN];
	json_t *types, *o;

	if (r->action < POL_GRANT || r->action > POL_DENY || r->match < POL_SELF ||
	    r->match > POL_PATTERN || dns_name_to_str(key, sizeof(key), r->key) < 0 ||
	    dns_name_to_str(name, sizeof(name), r->name) < 0)
		return NULL;
	if ((types = json_array()) == NULL)
		return NULL;
	for (uint8_t i = 0; i < r->ntypes; i++)
		if (json_array_append_new(types, json_string(dns_type_name(r->types[i]))) != 0) {
			json_decref(types);
			return NULL;
		}
	o = json_pack("{s:s, s:s, s:s, s:s, s:o, s:o*, s:o*}", "key", key, "action",
	              action_names[r->action], "match", match_names[r->match], "name", name,
	              "types", types, "prefixes", prefixes_json(r->prefixes, r->nprefixes),
	              "sources", prefixes_json(r->sources, r->nsources));
	if (o != NULL && r->lease_min)
		json_object_set_new(o, "lease_min", json_integer(r->lease_min));
	if (o != NULL && r->lease_max)
		json_object_set_new(o, "lease_max", json_integer(r->lease_max));
	/* the TTL policy only when set: rules without one keep their old form */
	if (o != NULL && r->ttl_default)
		json_object_set_new(o, "ttl_default", json_integer(r->ttl_default));
	if (o != NULL && r->ttl_min)
		json_object_set_new(o, "ttl_min", json_integer(r->ttl_min));
	if (o != NULL && r->ttl_max)
		json_object_set_new(o, "ttl_max", json_integer(r->ttl_max));
	if (o != NULL && r->ttl_over == POL_TTL_REFUSE)
		json_object_set_new(o, "ttl_over", json_string("refuse"));
	return o;
}

/* "ttl_default" etc.: absent, or an integer 1..2^31-1. */
static int ttl_from(uint32_t *dst, const json_t *v)
{
	if (v == NULL)
		return DDI_EOK;
	if (!json_is_integer(v) || json_integer_value(v) < 1 ||
	    json_integer_value(v) > (json_int_t)POL_TTL_LIMIT)
		return DDI_ESYNTAX;
	*dst = (uint32_t)json_integer_value(v);
	return DDI_EOK;
}

static int ttl_json(struct pol_rule *r, const json_t *j)
{
	const json_t *over = json_object_get(j, "ttl_over");
	if (ttl_from(&r->ttl_default, json_object_get(j, "ttl_default")) != DDI_EOK ||
	    ttl_from(&r->ttl_min, json_object_get(j, "ttl_min")) != DDI_EOK ||
	    ttl_from(&r->ttl_max, json_object_get(j, "ttl_max")) != DDI_EOK)
		return DDI_ESYNTAX;
	if (over != NULL) {
		const char *o = json_string_value(over);
		if (o == NULL || (strcmp(o, "clamp") && strcmp(o, "refuse")))
			return DDI_ESYNTAX;
		r->ttl_over = strcmp(o, "refuse") == 0 ? POL_TTL_REFUSE : POL_TTL_CLAMP;
	}
	return ttl_consistent(r) ? DDI_EOK : DDI_ESYNTAX;
}

static int prefixes_from(struct pol_prefix *list, uint8_t *n, const json_t *a)
{
	size_t i;
	json_t *v;

	*n = 0;
	if (a == NULL)
		return DDI_EOK;
	if (!json_is_array(a) || json_array_size(a) > POL_MAX_PREFIXES)
		return DDI_ESYNTAX;
	json_array_foreach(a, i, v) {
		if (!json_is_string(v) || pol_prefix_parse(&list[*n], json_string_value(v)) != DDI_EOK)
			return DDI_ESYNTAX;
		(*n)++;
	}
	return DDI_EOK;
}

int pol_rule_from_json(struct pol_rule *r, const json_t *j)
{
	const char *key, *action, *match, *name, *k;
	json_t *types = NULL, *prefixes = NULL, *sources = NULL, *v;
	size_t i;

	memset(r, 0, sizeof(*r));
	if (!json_is_object(j))
		return DDI_ESYNTAX;
	json_object_foreach((json_t *)j, k, v) {
		if (strcmp(k, "key") && strcmp(k, "action") && strcmp(k, "match") && strcmp(k, "name") &&
		    strcmp(k, "types") && strcmp(k, "prefixes") && strcmp(k, "sources") &&
		    strncmp(k, "ttl_", 4) && strcmp(k, "lease_min") && strcmp(k, "lease_max"))
			return DDI_ESYNTAX;
		if (strncmp(k, "ttl_", 4) == 0 && strcmp(k, "ttl_default") && strcmp(k, "ttl_min") &&
		    strcmp(k, "ttl_max") && strcmp(k, "ttl_over"))
			return DDI_ESYNTAX;
		if (strncmp(k, "lease_", 6) == 0) {
			if (!json_is_integer(v) || json_integer_value(v) < 1 ||
			    json_integer_value(v) > 0x7fffffff)
				return DDI_ESYNTAX;
			*(k[7] == 'i' ? &r->lease_min : &r->lease_max) = (uint32_t)json_integer_value(v);
		}
	}
	if (json_unpack((json_t *)j, "{s:s, s:s, s:s, s:s, s?o, s?o, s?o}", "key", &key, "action",
	                &action, "match", &match, "name", &name, "types", &types, "prefixes",
	                &prefixes, "sources", &sources) != 0)
		return DDI_ESYNTAX;
	if (name_parse(r->key, key) != DDI_EOK || name_parse(r->name, name) != DDI_EOK ||
	    (r->action = action_from(action)) == 0 || (r->match = match_from(match)) == 0)
		return DDI_ESYNTAX;
	if (r->match == POL_PATTERN && !pattern_ok(r->name))
		return DDI_ESYNTAX;
	if (types != NULL) {
		if (!json_is_array(types) || json_array_size(types) > POL_MAX_TYPES)
			return DDI_ESYNTAX;
		json_array_foreach(types, i, v) {
			const char *s = json_string_value(v);
			uint16_t t = s ? dns_type_from_str(s, strlen(s)) : 0;
			if (t == 0 || (t != DNS_T_ANY && dns_type_is_meta(t)))
				return DDI_ESYNTAX;
			r->types[r->ntypes++] = t;
		}
	}
	if (prefixes_from(r->prefixes, &r->nprefixes, prefixes) != DDI_EOK ||
	    prefixes_from(r->sources, &r->nsources, sources) != DDI_EOK)
		return DDI_ESYNTAX;
	if (r->key[0] == 0 && r->nsources == 0)
		return DDI_ESYNTAX;
	if (r->lease_min && r->lease_max && r->lease_min > r->lease_max)
		return DDI_ESYNTAX;
	return ttl_json(r, j);
}

void pol_lease_bounds(const struct pol_set *s, const uint8_t *key, uint32_t *min, uint32_t *max)
{
	*min = *max = 0;
	for (size_t i = 0; s != NULL && i < s->n; i++) {
		const struct pol_rule *r = &s->rules[i];
		if (key != NULL ? !pol_key_covers(r->key, key) : r->key[0] != 0)
			continue;   /* the key's own rules, and a realm's for its principals (GSS-TSIG) */
		if (r->lease_min > *min)
			*min = r->lease_min;
		if (r->lease_max && (*max == 0 || r->lease_max < *max))
			*max = r->lease_max;
	}
}

json_t *pol_set_to_json(const struct pol_set *s)
{
	json_t *a = json_array();
	for (size_t i = 0; a != NULL && i < s->n; i++) {
		json_t *o = pol_rule_to_json(&s->rules[i]);
		if (o == NULL || json_array_append_new(a, o) != 0) {
			json_decref(a);
			return NULL;
		}
	}
	return a;
}

int pol_set_from_json(struct pol_set *s, const json_t *j)
{
	size_t i;
	json_t *v;
	struct pol_rule r;
	int e;

	s->n = 0;
	if (!json_is_array(j))
		return DDI_ESYNTAX;
	json_array_foreach(j, i, v) {
		if ((e = pol_rule_from_json(&r, v)) != DDI_EOK || (e = pol_set_add(s, &r)) != DDI_EOK) {
			s->n = 0;
			return e;
		}
	}
	return DDI_EOK;
}

/* ------------------------------------------------------------------------ */
/* Matching                                                                 */
/* ------------------------------------------------------------------------ */

/* A wire name's labels joined by dots, no escaping, no final dot ("" for the root). */
static void plain(char *buf, size_t cap, const uint8_t *name)
{
	size_t n = 0;
	for (const uint8_t *p = name; *p != 0 && n + *p + 2 <= cap; p += 1 + *p) {
		if (n > 0)
			buf[n++] = '.';
		memcpy(buf + n, p + 1, *p);
		n += *p;
	}
	buf[n] = '\0';
}

/* A principal's text and where its realm begins (the last '@'); NULL when not a principal. */
static const char *principal_of(char *buf, size_t cap, const uint8_t *key)
{
	plain(buf, cap, key);
	return key[0] != 0 && key[1] != '@' ? strrchr(buf, '@') : NULL;
}

bool pol_key_covers(const uint8_t *rule_key, const uint8_t *key)
{
	char rk[DNS_NAME_STRLEN], k[DNS_NAME_STRLEN];
	if (dns_name_equal(rule_key, key))
		return true;
	/* "@realm": every principal whose realm it is (names are lower-case already) */
	if (rule_key[0] == 0 || rule_key[1] != '@')
		return false;
	const char *at = principal_of(k, sizeof(k), key);
	plain(rk, sizeof(rk), rule_key);
	return at != NULL && at != k && strcmp(at, rk) == 0;
}

/*
 * `self` for a Kerberos principal (policy.h): host/HOST@REALM may change
 * HOST at or below the rule's NAME, MACHINE$@REALM exactly MACHINE.NAME.
 */
static bool principal_self(const struct pol_rule *r, const uint8_t *key, const uint8_t *owner)
{
	char k[DNS_NAME_STRLEN];
	const char *at = principal_of(k, sizeof(k), key);
	if (at == NULL || !dns_name_is_sub(owner, r->name))
		return false;
	size_t plen = (size_t)(at - k);
	if (plen > 5 && strncmp(k, "host/", 5) == 0) {
		uint8_t host[DNS_NAME_MAXLEN];
		char hs[DNS_NAME_STRLEN + 1];
		snprintf(hs, sizeof(hs), "%.*s.", (int)(plen - 5), k + 5);
		return strchr(hs, '/') == NULL &&
		       dns_name_from_str(host, hs, strlen(hs), NULL) > 0 && dns_name_equal(owner, host);
	}
	if (plen > 1 && k[plen - 1] == '$')
		return owner[0] == plen - 1 && strncasecmp((const char *)owner + 1, k, plen - 1) == 0 &&
		       dns_name_equal(dns_name_parent(owner), r->name);
	return false;
}

bool pol_name_matches(const struct pol_rule *r, const uint8_t *key, const uint8_t *owner)
{
	switch (r->match) {
	case POL_SELF:
		if (key != NULL && key[0] != 0 && principal_self(r, key, owner))
			return true;
		return key != NULL && key[0] != 0 && dns_name_equal(owner, key);
	case POL_NAME:
		return dns_name_equal(owner, r->name);
	case POL_SUBDOMAIN:
		return dns_name_is_sub(owner, r->name);
	case POL_PATTERN: {
		if (!dns_name_is_wildcard(r->name))
			return dns_name_equal(owner, r->name);
		const uint8_t *base = dns_name_parent(r->name);
		return dns_name_is_sub(owner, base) && dns_name_labels(owner) > dns_name_labels(base);
	}
	default:
		return false;
	}
}

static bool type_matches(const struct pol_rule *r, uint16_t type)
{
	if (r->ntypes == 0) {
		switch (type) {
		case DNS_T_SOA: case DNS_T_NS: case DNS_T_RRSIG: case DNS_T_NSEC: case DNS_T_NSEC3:
		case DNS_T_DNSKEY: case DNS_T_CDS: case DNS_T_CDNSKEY:
			return false;
		default:
			return true;   /* ANY (a name deletion) included, see policy.h */
		}
	}
	for (uint8_t i = 0; i < r->ntypes; i++)
		if (r->types[i] == type || r->types[i] == DNS_T_ANY)
			return true;
	return false;
}

static bool source_matches(const struct pol_rule *r, bool is_unsigned, uint8_t fam,
                           const uint8_t *addr)
{
	if (r->nsources == 0)
		return !is_unsigned;   /* unsigned requests need an explicit source */
	return addr != NULL && in_any(r->sources, r->nsources, fam, addr);
}

bool pol_may_update(const struct pol_set *s, const uint8_t *key, uint8_t src_family,
                    const uint8_t *src_addr)
{
	const uint8_t *rkey = key != NULL ? key : root_name;

	for (size_t j = 0; s != NULL && j < s->n; j++)
		if (pol_key_covers(s->rules[j].key, rkey) &&
		    (s->rules[j].nsources == 0 ? key != NULL
		                               : src_addr != NULL && in_any(s->rules[j].sources,
		                                                            s->rules[j].nsources,
		                                                            src_family, src_addr)))
			return true;
	return false;
}

/* ------------------------------------------------------------------------ */
/* Checking                                                                 */
/* ------------------------------------------------------------------------ */

static void addr_str(char *buf, size_t len, uint8_t fam, const uint8_t *a)
{
	if (inet_ntop(fam == 4 ? AF_INET : AF_INET6, a, buf, (socklen_t)len) == NULL)
		snprintf(buf, len, "?");
}

struct scope_ctx {
	const struct pol_rule *r;
	uint8_t fam;
	bool outside;
	char bad[INET6_ADDRSTRLEN];
};

static int scope_cb(void *ctx, const uint8_t *addr)
{
	struct scope_ctx *c = ctx;
	if (!in_any(c->r->prefixes, c->r->nprefixes, c->fam, addr)) {
		c->outside = true;
		addr_str(c->bad, sizeof(c->bad), c->fam, addr);
		return 1;   /* stop: one is enough */
	}
	return 0;
}

struct owner_ctx {
	const uint8_t *self;
	bool other;
	uint8_t who[DNS_NAME_MAXLEN];
};

static int owner_cb(void *ctx, const uint8_t *owner)
{
	struct owner_ctx *c = ctx;
	if (dns_name_equal(owner, c->self))
		return 0;
	c->other = true;
	memcpy(c->who, owner, dns_name_len(owner));
	return 1;
}

static void refuse(struct pol_verdict *v, long rr, long rule, const char *fmt, ...)
	__attribute__((format(printf, 4, 5)));
static void refuse(struct pol_verdict *v, long rr, long rule, const char *fmt, ...)
{
	va_list ap;
	v->allowed = false;
	v->rr = rr;
	v->rule = rule;
	va_start(ap, fmt);
	vsnprintf(v->reason, sizeof(v->reason), fmt, ap);
	va_end(ap);
}

/* The address scope of one granted update RR. Returns DDI_EOK (v filled on refusal) or a view error. */
static int check_scope(const struct pol_rule *r, long rule, long idx, const struct upd_rr *u,
                       const struct pol_view *view, struct pol_verdict *v, const char *owner_s)
{
	struct scope_ctx sc = { .r = r };
	int e;

	for (uint8_t fam = 4; fam <= 6; fam += 2) {
		uint16_t t = fam == 4 ? DNS_T_A : DNS_T_AAAA;
		bool removes_set = (u->kind == UPD_OP_DEL_RRSET && u->type == t) || u->kind == UPD_OP_DEL_NAME;
		bool has_addr = (u->kind == UPD_OP_ADD || u->kind == UPD_OP_DEL_RR) && u->type == t;

		sc.fam = fam;
		if (r->nprefixes > 0 && has_addr) {
			scope_cb(&sc, u->rdata);
		} else if (r->nprefixes > 0 && removes_set) {
			if (view == NULL || view->addresses == NULL) {
				refuse(v, idx, rule, "%s: cannot check the addresses it deletes against the key's prefixes",
				       owner_s);
				return DDI_EOK;
			}
			e = view->addresses(view->ctx, u->owner, fam, scope_cb, &sc);
			if (e < 0 && e != DDI_ENOENT)
				return e;
		}
		if (sc.outside) {
			refuse(v, idx, rule, "%s: address %s is outside the key's prefixes", owner_s, sc.bad);
			return DDI_EOK;
		}
		if (u->kind == UPD_OP_ADD && u->type == t && view != NULL && view->owners != NULL) {
			struct owner_ctx oc = { .self = u->owner };
			e = view->owners(view->ctx, fam, u->rdata, owner_cb, &oc);
			if (e < 0 && e != DDI_ENOENT)
				return e;
			if (oc.other) {
				char a[INET6_ADDRSTRLEN], who[DNS_NAME_STRLEN];
				addr_str(a, sizeof(a), fam, u->rdata);
				dns_name_to_str(who, sizeof(who), oc.who);
				refuse(v, idx, rule, "%s: address %s is registered to %s", owner_s, a, who);
				return DDI_EOK;
			}
		}
	}
	return DDI_EOK;
}

/*
 * The deciding rule of one update RR: the first of the key's own rules
 * that matches, else the first of a realm-wide key's (GSS-TSIG principals,
 * policy.h); -1 when none.
 */
static long rule_for(const struct pol_set *s, const uint8_t *rkey, const uint8_t *key,
                     const struct upd_rr *u, uint16_t type, uint8_t src_family,
                     const uint8_t *src_addr)
{
	for (int pass = 0; pass < 2; pass++)
		for (size_t j = 0; s != NULL && j < s->n; j++) {
			const struct pol_rule *r = &s->rules[j];
			bool own = dns_name_equal(r->key, rkey);
			if ((pass == 0 ? own : !own && pol_key_covers(r->key, rkey)) &&
			    pol_name_matches(r, key, u->owner) && type_matches(r, type) &&
			    source_matches(r, key == NULL, src_family, src_addr))
				return (long)j;
		}
	return -1;
}

int pol_ttl_apply(const struct pol_set *s, const uint8_t *key, uint8_t src_family,
                  const uint8_t *src_addr, struct upd_msg *m, struct pol_verdict *v)
{
	const uint8_t *rkey = key != NULL ? key : root_name;
	char owner_s[DNS_NAME_STRLEN];
	int changed = 0;

	memset(v, 0, sizeof(*v));
	v->allowed = true;
	v->rr = -1;
	v->rule = -1;
	for (size_t i = 0; i < m->nupdate; i++) {
		struct upd_rr *u = &m->update[i];
		if (u->kind != UPD_OP_ADD)
			continue;
		long j = rule_for(s, rkey, key, u, u->type, src_family, src_addr);
		if (j < 0 || s->rules[j].action != POL_GRANT)
			continue;   /* pol_check refuses it */
		const struct pol_rule *r = &s->rules[j];
		uint32_t ttl = u->ttl == 0 && r->ttl_default ? r->ttl_default : u->ttl;
		uint32_t bound = r->ttl_max && ttl > r->ttl_max ? r->ttl_max
		               : r->ttl_min && ttl < r->ttl_min ? r->ttl_min : ttl;
		if (bound != ttl && r->ttl_over == POL_TTL_REFUSE) {
			if (dns_name_to_str(owner_s, sizeof(owner_s), u->owner) < 0)
				snprintf(owner_s, sizeof(owner_s), "?");
			refuse(v, (long)i, j, "%s: TTL %u is %s the rule's %s of %u", owner_s, ttl,
			       bound < ttl ? "above" : "below", bound < ttl ? "maximum" : "minimum", bound);
			return changed;
		}
		if (bound != u->ttl) {
			u->ttl = bound;
			changed++;
		}
	}
	return changed;
}

int pol_check(const struct pol_set *s, const uint8_t *key, uint8_t src_family,
              const uint8_t *src_addr, const struct upd_msg *m, const struct pol_view *view,
              struct pol_verdict *v)
{
	const uint8_t *rkey = key != NULL ? key : root_name;
	bool is_unsigned = key == NULL;
	char owner_s[DNS_NAME_STRLEN], key_s[DNS_NAME_STRLEN];

	memset(v, 0, sizeof(*v));
	v->allowed = true;
	v->rr = -1;
	v->rule = -1;
	if (is_unsigned)
		snprintf(key_s, sizeof(key_s), "unsigned request");
	else if (dns_name_to_str(key_s, sizeof(key_s), key) < 0)
		snprintf(key_s, sizeof(key_s), "?");

	for (size_t i = 0; i < m->nupdate; i++) {
		const struct upd_rr *u = &m->update[i];
		uint16_t type = u->kind == UPD_OP_DEL_NAME ? DNS_T_ANY : u->type;
		long found = -1;

		if (dns_name_to_str(owner_s, sizeof(owner_s), u->owner) < 0)
			snprintf(owner_s, sizeof(owner_s), "?");
		found = rule_for(s, rkey, key, u, type, src_family, src_addr);
		if (found < 0) {
			refuse(v, (long)i, -1, "%s: no rule grants %s %s", owner_s, key_s,
			       type == DNS_T_ANY ? "deleting the name" : dns_type_name(type));
			return DDI_EOK;
		}
		const struct pol_rule *r = &s->rules[found];
		if (r->action == POL_DENY) {
			refuse(v, (long)i, found, "%s: %s %s denied by a rule", owner_s, key_s,
			       type == DNS_T_ANY ? "deleting the name" : dns_type_name(type));
			return DDI_EOK;
		}
		int e = check_scope(r, found, (long)i, u, view, v, owner_s);
		if (e != DDI_EOK || !v->allowed)
			return e;
	}
	return DDI_EOK;
}
