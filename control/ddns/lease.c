/* lease -- the EDNS Update Lease option (RFC 9664): parse it from an UPDATE, bound it, answer it */
#include <string.h>

#include "control/ddns/lease.h"
#include "dns/errcode.h"
#include "dns/wire.h"

#define OPT_TYPE 41
#define OPT_UDP_SIZE 1232

int ul_parse_options(const uint8_t *rdata, size_t rdlen, struct ul_lease *out)
{
	struct ul_lease l = { 0 };
	size_t pos = 0;

	if (rdata == NULL && rdlen > 0)
		return DDI_EMALF;
	while (pos < rdlen) {
		if (rdlen - pos < 4)
			return DDI_EMALF;   /* a truncated option header */
		uint16_t code = dns_get16(rdata + pos), olen = dns_get16(rdata + pos + 2);
		pos += 4;
		if (olen > rdlen - pos)
			return DDI_EMALF;   /* the option overruns the OPT rdata */
		if (code == UL_OPTION_CODE) {
			if (l.present || (olen != 4 && olen != 8))
				return DDI_EMALF;
			l.present = true;
			l.lease = dns_get32(rdata + pos);
			if (olen == 8) {
				l.has_key_lease = true;
				l.key_lease = dns_get32(rdata + pos + 4);
			}
		}
		pos += olen;
	}
	*out = l;
	return DDI_EOK;
}

int ul_parse_message(const uint8_t *msg, size_t len, size_t opt_pos, struct ul_lease *out)
{
	/* root owner (1) type(2) class(2) ttl(4) rdlength(2) */
	if (msg == NULL || opt_pos >= len || len - opt_pos < 11 || msg[opt_pos] != 0 ||
	    dns_get16(msg + opt_pos + 1) != OPT_TYPE)
		return DDI_EMALF;
	size_t rdlen = dns_get16(msg + opt_pos + 9);
	if (rdlen > len - opt_pos - 11)
		return DDI_EMALF;
	return ul_parse_options(msg + opt_pos + 11, rdlen, out);
}

uint32_t ul_grant(uint32_t asked, uint32_t min, uint32_t max)
{
	if (max == 0)
		max = UL_DEFAULT_MAX;
	if (min > max)
		min = max;
	return asked < min ? min : asked > max ? max : asked;
}

int ul_append(uint8_t *msg, size_t len, size_t cap, const struct ul_lease *g)
{
	size_t olen = g->has_key_lease ? 8 : 4, need = 11 + 4 + olen;
	if (msg == NULL || len < DNS_HDR_LEN)
		return DDI_EMALF;
	if (cap < len || cap - len < need)
		return DDI_ESPACE;
	uint8_t *p = msg + len;
	p[0] = 0;                                   /* root */
	dns_put16(p + 1, OPT_TYPE);
	dns_put16(p + 3, OPT_UDP_SIZE);
	dns_put32(p + 5, 0);                        /* extended rcode, version 0, flags */
	dns_put16(p + 9, (uint16_t)(4 + olen));
	dns_put16(p + 11, UL_OPTION_CODE);
	dns_put16(p + 13, (uint16_t)olen);
	dns_put32(p + 15, g->lease);
	if (g->has_key_lease)
		dns_put32(p + 19, g->key_lease);
	dns_put16(msg + 10, (uint16_t)(dns_get16(msg + 10) + 1));
	return (int)(len + need);
}
