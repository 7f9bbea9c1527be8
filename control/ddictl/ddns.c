/* ddictl_ddns -- the --help of ddictl's TSIG key and update-policy subcommands (key, policy) */
#include "control/ddictl/ddns.h"

const char ddictl_help_kadd[] =
"NAME\n    ddictl key add - make a TSIG key for dynamic updates and transfers\n\n"
"SYNOPSIS\n    ddictl ... [--json] key add NAME [--algorithm ALG] [--secret BASE64|-]\n\n"
"DESCRIPTION\n"
"    Generates a random secret as long as the algorithm's digest, stores the\n"
"    key in the store (journaled) and prints it ONCE as ALG:NAME:SECRET, the\n"
"    form nsupdate -y, knsupdate -y and Kea's key config take. Keep it: no\n"
"    command shows the secret again. The key may update nothing until a\n"
"    rule grants it something (ddictl policy add).\n"
"    With --secret the key is one made elsewhere: the secret a primary or a\n"
"    secondary of this server uses (tsig-keygen, keymgr -t, or key add on\n"
"    another ddiplane), for zone acl --transfer-key/--notify-key and zone or\n"
"    catalog add --key. The name and algorithm must match on both sides.\n\n"
"OPTIONS\n"
"    --algorithm ALG   hmac-sha256 (default), hmac-sha224, hmac-sha384,\n"
"                      hmac-sha512, hmac-sha1, hmac-md5\n"
"    --secret BASE64   the secret, base64 (RFC 4648, padding optional), at\n"
"                      most 256 bytes; '-' reads it from the first line of\n"
"                      standard input (a secret on the command line is seen\n"
"                      by every user of ps)\n\n"
"EXAMPLES\n    ddictl -s /run/ddiplane.sock key add dhcp.key.\n"
"    ddictl -s /run/ddiplane.sock key add xfr.key. --secret - < xfr.secret\n";

const char ddictl_help_klist[] =
"NAME\n    ddictl key list - the TSIG keys\n\n"
"SYNOPSIS\n    ddictl ... [--json] key list\n\n"
"DESCRIPTION\n    Name, algorithm and creation time of every key. Never the secret.\n";

const char ddictl_help_kremove[] =
"NAME\n    ddictl key remove - delete a TSIG key\n\n"
"SYNOPSIS\n    ddictl ... key remove NAME\n\n"
"DESCRIPTION\n"
"    Deletes the key and its update policy rules in one transaction: updates\n"
"    signed with it get NOTAUTH (BADKEY) from then on.\n";

const char ddictl_help_padd[] =
"NAME\n    ddictl policy add - allow or forbid a key some dynamic updates\n\n"
"SYNOPSIS\n"
"    ddictl ... policy add KEY grant|deny self|name|subdomain|pattern NAME [TYPE...]\n"
"                         [--prefix PREFIX...] [--source PREFIX...]\n"
"                         [--ttl-default N] [--ttl-min N] [--ttl-max N]\n"
"                         [--ttl-over clamp|refuse]\n\n"
"DESCRIPTION\n"
"    Appends a rule to KEY's rules (KEY \".\": unsigned updates, which also\n"
"    need --source). An update RR is allowed when the first of its key's\n"
"    rules whose name, type and source match is a grant; none matching is a\n"
"    deny, and one denied RR refuses the whole message (REFUSED).\n\n"
"    self        the key's own name (NAME is ignored but must be given)\n"
"    name        exactly NAME\n"
"    subdomain   NAME and every name below it\n"
"    pattern     a wildcard: \"*.dhcp.example.com.\" matches any name below\n"
"                dhcp.example.com., not the name itself\n\n"
"    TYPE...     the types the rule covers; none: every type but SOA, NS and\n"
"                the DNSSEC types; ANY: every type\n"
"    --prefix    addresses of added or removed A/AAAA records must lie in one\n"
"                of these (IPAM scope), e.g. 198.18.0.0/24 2001:2::/64\n"
"    --source    the request must come from one of these prefixes\n\n"
"    TTL policy of the records the rule grants (after the types and prefixes):\n"
"    --ttl-default N  an added record with TTL 0 (the client chose none: an\n"
"                UPDATE always carries a TTL) gets N seconds\n"
"    --ttl-min N, --ttl-max N  the bounds of an added record's TTL\n"
"    --ttl-over clamp|refuse  outside the bounds, set the TTL to the bound\n"
"                (clamp, the default) or refuse the whole update (REFUSED)\n"
"    The trade-off: a short TTL makes a host that moved reachable at its new\n"
"    address sooner, but every resolver asks again after each TTL, so the\n"
"    query load grows as the TTL shrinks; a long TTL spares the servers but\n"
"    caches keep answering the old address for up to a TTL after a host\n"
"    moved or left. Kea gives a DHCP-registered host a third of its lease\n"
"    as its TTL, as RFC 4702 suggests.\n\n"
"    GSS-TSIG (ddiplane --gss-principal): KEY may be a Kerberos principal,\n"
"    host/h1.example.com@EXAMPLE.COM, alice@EXAMPLE.COM, or a whole realm,\n"
"    @EXAMPLE.COM (its principals' own rules are tried first). With a\n"
"    principal, `self` means: host/HOST@REALM may change HOST if it lies at\n"
"    or below NAME, and a Windows machine account MACHINE$@REALM may change\n"
"    MACHINE.NAME (NAME: the domain it registers in). Principals need no\n"
"    `key add`.\n\n"
"EXAMPLES\n"
"    ddictl -s S policy add dhcp.key. grant subdomain dhcp.example.com. A AAAA PTR DHCID \\\n"
"        --prefix 198.18.0.0/24\n"
"    ddictl -s S policy add . grant name printer.example.com. A --source 198.18.0.7\n"
"    ddictl -s S policy add @EXAMPLE.COM grant self example.com. A AAAA --ttl-max 3600\n"
"    ddictl -s S policy add dhcp.key. grant subdomain dhcp.example.com. A \\\n"
"        --ttl-default 1200 --ttl-min 300 --ttl-max 3600 --ttl-over refuse\n";

const char ddictl_help_plist[] =
"NAME\n    ddictl policy list - the update policy\n\n"
"SYNOPSIS\n    ddictl ... [--json] policy list [KEY]\n\n"
"DESCRIPTION\n"
"    The rules of every key (or of KEY) in the order they are tried, with\n"
"    their INDEX per key (for policy remove).\n";

const char ddictl_help_premove[] =
"NAME\n    ddictl policy remove - delete one rule\n\n"
"SYNOPSIS\n    ddictl ... policy remove KEY INDEX\n\n"
"DESCRIPTION\n    Deletes KEY's rule number INDEX (0-based, as policy list shows it).\n";
