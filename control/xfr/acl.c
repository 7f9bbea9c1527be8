/* xfr/acl -- the zone_acl value: transfer prefixes and keys, NOTIFY targets, validated as input */
#include <arpa/inet.h>
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <jansson.h>

#include "control/xfr/xfr.h"
#include "dns/errcode.h"

int xfr_net_parse(struct xfr_net *n, const char *s)
{
	char buf[64];
	const char *slash = strchr(s, '/');
	size_t al = slash ? (size_t)(slash - s) : strlen(s);
	if (al == 0 || al >= sizeof(buf))
		return DDI_EINVAL;
	memcpy(buf, s, al);
	buf[al] = 0;
	memset(n, 0, sizeof(*n));
	if (inet_pton(AF_INET, buf, n->addr) == 1)
		n->family = 4;
	else if (inet_pton(AF_INET6, buf, n->addr) == 1)
		n->family = 6;
	else
		return DDI_EINVAL;
	unsigned max = n->family == 4 ? 32 : 128, plen = max;
	if (slash) {
		char *end;
		unsigned long v = strtoul(slash + 1, &end, 10);
		if (!slash[1] || *end || v > max)
			return DDI_EINVAL;
		plen = (unsigned)v;
	}
	n->plen = (uint8_t)plen;
	return DDI_EOK;
}

int xfr_target_parse(struct sockaddr_storage *ss, const char *s)
{
	char buf[80];
	unsigned long port = 53;
	const char *portp = NULL;
	size_t al;
	if (s[0] == '[') {
		const char *e = strchr(s, ']');
		if (!e)
			return DDI_EINVAL;
		al = (size_t)(e - s - 1);
		s++;
		if (e[1] == ':' || e[1] == '@')
			portp = e + 2;
		else if (e[1])
			return DDI_EINVAL;
	} else {
		const char *at = strchr(s, '@');
		al = at ? (size_t)(at - s) : strlen(s);
		portp = at ? at + 1 : NULL;
	}
	if (al == 0 || al >= sizeof(buf))
		return DDI_EINVAL;
	memcpy(buf, s, al);
	buf[al] = 0;
	if (portp) {
		char *end;
		port = strtoul(portp, &end, 10);
		if (!*portp || *end || port == 0 || port > 65535)
			return DDI_EINVAL;
	}
	memset(ss, 0, sizeof(*ss));
	struct sockaddr_in *a4 = (struct sockaddr_in *)ss;
	struct sockaddr_in6 *a6 = (struct sockaddr_in6 *)ss;
	if (inet_pton(AF_INET, buf, &a4->sin_addr) == 1) {
		a4->sin_family = AF_INET;
		a4->sin_port = htons((uint16_t)port);
	} else if (inet_pton(AF_INET6, buf, &a6->sin6_addr) == 1) {
		a6->sin6_family = AF_INET6;
		a6->sin6_port = htons((uint16_t)port);
	} else {
		return DDI_EINVAL;
	}
	return DDI_EOK;
}

static bool key_name(uint8_t out[DNS_NAME_MAXLEN], const char *s)
{
	size_t l = strlen(s);
	if (l == 0 || dns_name_from_str(out, s, l, NULL) <= 0)
		return false;
	dns_name_lower(out);
	return true;
}

int xfr_acl_parse(struct xfr_acl *acl, const char *json, size_t len, char *err, size_t errlen)
{
	json_error_t je;
	size_t i;
	json_t *v, *o = json_loadb(json, len, JSON_REJECT_DUPLICATES, &je);
	memset(acl, 0, sizeof(*acl));
	if (!json_is_object(o)) {
		json_decref(o);
		snprintf(err, errlen, "the ACL is not a JSON object");
		return DDI_EINVAL;
	}
	const char *bad = NULL;
	json_t *nets = json_object_get(o, "transfer"), *keys = json_object_get(o, "transfer_keys"),
	       *tg = json_object_get(o, "notify"), *nk = json_object_get(o, "notify_key");
	if ((nets && (!json_is_array(nets) || json_array_size(nets) > XFR_ACL_MAX)) ||
	    (keys && (!json_is_array(keys) || json_array_size(keys) > XFR_ACL_MAX)) ||
	    (tg && (!json_is_array(tg) || json_array_size(tg) > XFR_ACL_MAX)) ||
	    (nk && !json_is_string(nk)))
		bad = "a field has the wrong type or too many items";
	json_array_foreach(nets, i, v) {
		if (!bad && (!json_is_string(v) ||
		             xfr_net_parse(&acl->nets[acl->nnets++], json_string_value(v)) != 0))
			bad = "transfer: not an address prefix";
	}
	json_array_foreach(keys, i, v) {
		if (!bad && (!json_is_string(v) || !key_name(acl->keys[acl->nkeys++], json_string_value(v))))
			bad = "transfer_keys: not a key name";
	}
	json_array_foreach(tg, i, v) {
		if (!bad && (!json_is_string(v) ||
		             xfr_target_parse(&acl->notify[acl->nnotify++], json_string_value(v)) != 0))
			bad = "notify: not an address[@port]";
	}
	if (!bad && nk) {
		if (!key_name(acl->notify_key, json_string_value(nk)))
			bad = "notify_key: not a key name";
		acl->has_notify_key = true;
	}
	json_decref(o);
	if (bad) {
		snprintf(err, errlen, "%s", bad);
		return DDI_EINVAL;
	}
	return DDI_EOK;
}

static bool net_has(const struct xfr_net *n, uint8_t family, const uint8_t *addr)
{
	if (n->family != family)
		return false;
	unsigned full = n->plen / 8, rest = n->plen % 8;
	if (memcmp(n->addr, addr, full) != 0)
		return false;
	return rest == 0 || ((n->addr[full] ^ addr[full]) & (uint8_t)(0xff << (8 - rest))) == 0;
}

bool xfr_acl_allows(const struct xfr_acl *acl, uint8_t family, const uint8_t *addr,
                    const uint8_t *key)
{
	if (acl->nnets == 0 && acl->nkeys == 0)
		return false;
	bool net_ok = acl->nnets == 0, key_ok = acl->nkeys == 0;
	for (unsigned i = 0; i < acl->nnets && !net_ok; i++)
		net_ok = net_has(&acl->nets[i], family, addr);
	for (unsigned i = 0; i < acl->nkeys && !key_ok && key; i++)
		key_ok = dns_name_equal(acl->keys[i], key);
	return net_ok && key_ok;
}
