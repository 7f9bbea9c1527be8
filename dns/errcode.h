/* errcode -- the one error space of ddiplane: negative ints, errno mapped directly */
#ifndef DDI_DNS_ERRCODE_H
#define DDI_DNS_ERRCODE_H

#include <errno.h>

/*
 * Every function that can fail returns DDI_EOK (0) or one of these negative
 * values. errno values are used as themselves (negated), so a failed system
 * call maps with `return -errno;`. Project-specific codes start at -1000.
 */
enum ddi_err {
	DDI_EOK = 0,

	DDI_ENOMEM = -ENOMEM,
	DDI_EINVAL = -EINVAL,
	DDI_ENOENT = -ENOENT,
	DDI_EEXIST = -EEXIST,
	DDI_ENOSPC = -ENOSPC,
	DDI_EACCES = -EACCES,
	DDI_EIO = -EIO,
	DDI_ERANGE = -ERANGE,
	DDI_EAGAIN = -EAGAIN,
	DDI_ENOTSUP = -ENOTSUP,

	DDI_ERROR_BASE = -1000,
	DDI_EMALF = -1000,      /* malformed DNS message */
	DDI_ETRUNC = -1001,     /* message ends before the data it announces */
	DDI_ELABEL = -1002,     /* label longer than 63 octets */
	DDI_ENAMELEN = -1003,   /* name longer than 255 octets */
	DDI_ECOMPR = -1004,     /* bad compression pointer (forward, loop, out of bounds) */
	DDI_ESPACE = -1005,     /* not enough room in the output buffer */
	DDI_ESYNTAX = -1006,    /* syntax error in presentation format */
	DDI_ERDATA = -1007,     /* rdata does not match its type */
	DDI_EOUTZONE = -1008,   /* name outside the zone */
	DDI_ECNAME = -1009,     /* CNAME beside other data */
	DDI_ESOA = -1010,       /* SOA missing, duplicated or not at the apex */
	DDI_ETTL = -1011,       /* TTL out of bounds */
	DDI_ELIMIT = -1012,     /* a configured limit was reached */
	DDI_ESCHEMA = -1013,    /* the store's schema version is not supported */
	DDI_ECORRUPT = -1014,   /* the store holds data that does not validate */
	DDI_ENOZONE = -1015,    /* no such zone */
	DDI_EFULL = -1016,      /* prefix full: no free address or prefix left */
	DDI_ECONFLICT = -1017,  /* address or name owned by someone else */
	DDI_EPOLICY = -1018,    /* refused by policy */
	DDI_EINCLUDE = -1019,   /* $INCLUDE not allowed */
	DDI_ESECONDARY = -1020, /* the zone is a secondary: it changes only by zone transfer */
	DDI_ERROR_LAST = -1020,
};

/* A static, human-readable text for an error code (never NULL). */
const char *ddi_strerror(int code);

#endif
