/* errcode -- texts for the project's error codes */
#include <string.h>

#include "dns/errcode.h"

static const char *const texts[] = {
	[-(DDI_EMALF - DDI_ERROR_BASE)] = "malformed DNS message",
	[-(DDI_ETRUNC - DDI_ERROR_BASE)] = "message truncated",
	[-(DDI_ELABEL - DDI_ERROR_BASE)] = "label longer than 63 octets",
	[-(DDI_ENAMELEN - DDI_ERROR_BASE)] = "name longer than 255 octets",
	[-(DDI_ECOMPR - DDI_ERROR_BASE)] = "bad compression pointer",
	[-(DDI_ESPACE - DDI_ERROR_BASE)] = "not enough space",
	[-(DDI_ESYNTAX - DDI_ERROR_BASE)] = "syntax error",
	[-(DDI_ERDATA - DDI_ERROR_BASE)] = "malformed rdata",
	[-(DDI_EOUTZONE - DDI_ERROR_BASE)] = "name outside the zone",
	[-(DDI_ECNAME - DDI_ERROR_BASE)] = "CNAME cannot exist beside other data",
	[-(DDI_ESOA - DDI_ERROR_BASE)] = "zone needs exactly one SOA, at its apex",
	[-(DDI_ETTL - DDI_ERROR_BASE)] = "TTL out of bounds",
	[-(DDI_ELIMIT - DDI_ERROR_BASE)] = "limit reached",
	[-(DDI_ESCHEMA - DDI_ERROR_BASE)] = "unsupported store schema version",
	[-(DDI_ECORRUPT - DDI_ERROR_BASE)] = "store data does not validate",
	[-(DDI_ENOZONE - DDI_ERROR_BASE)] = "no such zone",
	[-(DDI_EFULL - DDI_ERROR_BASE)] = "prefix full",
	[-(DDI_ECONFLICT - DDI_ERROR_BASE)] = "conflict with an existing owner",
	[-(DDI_EPOLICY - DDI_ERROR_BASE)] = "refused by policy",
	[-(DDI_EINCLUDE - DDI_ERROR_BASE)] = "$INCLUDE is not allowed",
	[-(DDI_ESECONDARY - DDI_ERROR_BASE)] = "a secondary zone changes only by zone transfer: change it on its primary",
};

const char *ddi_strerror(int code)
{
	if (code == DDI_EOK)
		return "ok";
	if (code <= DDI_ERROR_BASE && code >= DDI_ERROR_LAST) {
		const char *t = texts[-(code - DDI_ERROR_BASE)];
		return t ? t : "unknown error";
	}
	if (code < 0 && code > DDI_ERROR_BASE)
		return strerror(-code);
	return "unknown error";
}
