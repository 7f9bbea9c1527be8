/* name -- domain names: wire, presentation and canonical lookup-key forms */
#ifndef DDI_DNS_NAME_H
#define DDI_DNS_NAME_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define DNS_NAME_MAXLEN 255    /* RFC 1035 2.3.4, wire form including the root label */
#define DNS_LABEL_MAXLEN 63    /* RFC 1035 2.3.4 */
#define DNS_NAME_MAXLABELS 127 /* 255 octets hold at most 127 one-octet labels + root */
#define DNS_NAME_STRLEN 1024   /* presentation form, worst case every octet as \DDD */
#define DNS_KEY_MAXLEN 512     /* lookup key, worst case every octet escaped */

/*
 * Forms:
 * - wire: uncompressed sequence of length-prefixed labels ending with the
 *   root label (0). All functions taking `const uint8_t *name` expect a
 *   wire name that has already been validated (by dns_name_parse,
 *   dns_name_from_str or dns_name_check).
 * - presentation: "www.example.com." with RFC 1035 5.1 escapes (\. \\ \DDD).
 * - lookup key: labels in reverse order (root first), each lower-cased
 *   (ASCII only, RFC 4343) and terminated by 0x00; inside a label 0x00 is
 *   written 0x01 0x01 and 0x01 is written 0x01 0x02. The encoding is
 *   injective and memcmp() order of keys equals DNS canonical order
 *   (RFC 4034 6.1). The root name has the empty key; the key of an ancestor
 *   is a prefix of the key of each descendant, ending at a label boundary.
 */

/* Length of a validated wire name, including the root label. */
size_t dns_name_len(const uint8_t *name);

/*
 * Check an uncompressed wire name of at most `maxlen` bytes: label lengths
 * <= 63, no compression, total <= 255. Returns its length or a negative error.
 */
int dns_name_check(const uint8_t *name, size_t maxlen);

/*
 * Read a possibly compressed name from a message at *pos and write its
 * uncompressed wire form to `out`. Pointers must point strictly backwards
 * (RFC 1035 4.1.4), so they cannot loop; every read stays inside
 * [msg, msg+msglen). On success *pos is advanced past the name as it stands
 * in the message and the uncompressed length is returned.
 * Errors: DDI_ETRUNC, DDI_ELABEL (label type 01/10 or > 63), DDI_ENAMELEN,
 * DDI_ECOMPR.
 */
int dns_name_parse(const uint8_t *msg, size_t msglen, size_t *pos,
                   uint8_t out[DNS_NAME_MAXLEN]);

/*
 * Presentation -> wire. `str` of `len` bytes. A name not ending in an
 * unescaped '.' is relative and `origin` (a wire name, may be NULL meaning
 * root) is appended; "@" alone is the origin. Returns the wire length or
 * DDI_ESYNTAX (empty label, bad escape), DDI_ELABEL, DDI_ENAMELEN.
 */
int dns_name_from_str(uint8_t out[DNS_NAME_MAXLEN], const char *str, size_t len,
                      const uint8_t *origin);

/*
 * Wire -> presentation, always absolute (trailing dot; root is "."),
 * escaping '.', '\\', '"', '(', ')', ';', '@', '$' and spaces with a
 * backslash and non-printable octets as \DDD. Returns the string length, or
 * DDI_ESPACE if `buflen` is too small (DNS_NAME_STRLEN always suffices).
 */
int dns_name_to_str(char *buf, size_t buflen, const uint8_t *name);

/* Wire -> lookup key. Returns the key length (0 for the root). */
int dns_name_to_key(uint8_t key[DNS_KEY_MAXLEN], const uint8_t *name);

/* Lookup key -> wire name. Returns the wire length or a negative error. */
int dns_key_to_name(uint8_t out[DNS_NAME_MAXLEN], const uint8_t *key, size_t keylen);

/* Canonical order (RFC 4034 6.1): <0, 0, >0. Case-insensitive. */
int dns_name_cmp(const uint8_t *a, const uint8_t *b);

/* Case-insensitive equality. */
bool dns_name_equal(const uint8_t *a, const uint8_t *b);

/* True when `name` is `parent` or below it. */
bool dns_name_is_sub(const uint8_t *name, const uint8_t *parent);

/* Number of labels, not counting the root label. */
int dns_name_labels(const uint8_t *name);

/* The name with its first label removed (NULL for the root). */
const uint8_t *dns_name_parent(const uint8_t *name);

/* Lower-case the ASCII letters of a wire name in place. */
void dns_name_lower(uint8_t *name);

/* True when the first label is "*" (RFC 4592 wildcard). */
bool dns_name_is_wildcard(const uint8_t *name);

#endif
