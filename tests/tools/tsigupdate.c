/* tsigupdate -- send one TSIG-signed RFC 2136 UPDATE (add an A record) with a chosen time offset, print the answer's rcode and TSIG error */
/*
 * For tests/integration/ddns.sh: nsupdate and knsupdate always sign with
 * the clock, so a stale request (BADTIME) and a wrong secret are made here.
 *
 *   tsigupdate SERVER KEY ZONE NAME ADDRESS [TIME_OFFSET_SECONDS]
 *
 * KEY is "alg:name:secret". Prints "rcode=N tsig_error=E signed=0|1" (E
 * -1 when the answer has no TSIG) and exits 0 when an answer came, 1 when
 * none came within 2 s, 2 on usage errors.
 */
#include <arpa/inet.h>
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/time.h>
#include <time.h>
#include <unistd.h>

#include "control/ddns/tsig.h"
#include "dns/name.h"
#include "dns/wire.h"

static size_t put_name(uint8_t *p, const char *s)
{
	uint8_t n[DNS_NAME_MAXLEN];
	int l = dns_name_from_str(n, s, strlen(s), NULL);
	if (l <= 0) {
		fprintf(stderr, "tsigupdate: bad name %s\n", s);
		exit(2);
	}
	memcpy(p, n, (size_t)l);
	return (size_t)l;
}

int main(int argc, char **argv)
{
	uint8_t msg[4096];
	struct tsig_key k;
	struct in_addr a, srv;
	if (argc < 6 || argc > 7 || tsig_key_parse(&k, argv[2]) != 0 ||
	    inet_pton(AF_INET, argv[5], &a) != 1 || inet_pton(AF_INET, argv[1], &srv) != 1) {
		fprintf(stderr, "usage: tsigupdate SERVER alg:key:secret ZONE NAME ADDRESS [OFFSET]\n");
		return 2;
	}
	long off = argc == 7 ? strtol(argv[6], NULL, 10) : 0;
	size_t len = 0;
	srand((unsigned)time(NULL) ^ (unsigned)getpid());
	dns_put16(msg, (uint16_t)rand());
	dns_put16(msg + 2, DNS_OP_UPDATE << 11);
	dns_put16(msg + 4, 1);   /* ZOCOUNT */
	dns_put16(msg + 6, 0);   /* PRCOUNT */
	dns_put16(msg + 8, 1);   /* UPCOUNT */
	dns_put16(msg + 10, 0);
	len = 12;
	len += put_name(msg + len, argv[3]);
	dns_put16(msg + len, 6);          /* SOA */
	dns_put16(msg + len + 2, 1);      /* IN */
	len += 4;
	len += put_name(msg + len, argv[4]);
	dns_put16(msg + len, 1);          /* A */
	dns_put16(msg + len + 2, 1);
	dns_put16(msg + len + 4, 0);      /* TTL 300 */
	dns_put16(msg + len + 6, 300);
	dns_put16(msg + len + 8, 4);
	memcpy(msg + len + 10, &a, 4);
	len += 14;
	uint64_t when = (uint64_t)((long)time(NULL) + off);
	if (tsig_sign(&k, NULL, 0, msg, &len, sizeof(msg), when, 300, NULL) < 0) {
		fprintf(stderr, "tsigupdate: cannot sign\n");
		return 2;
	}
	int fd = socket(AF_INET, SOCK_DGRAM, 0);
	struct sockaddr_in sa = { .sin_family = AF_INET, .sin_port = htons(53), .sin_addr = srv };
	struct timeval tv = { 2, 0 };
	setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv));
	if (fd < 0 || sendto(fd, msg, len, 0, (struct sockaddr *)&sa, sizeof(sa)) != (ssize_t)len) {
		perror("tsigupdate: send");
		return 1;
	}
	uint8_t resp[4096];
	ssize_t n = recv(fd, resp, sizeof(resp), 0);
	close(fd);
	if (n < 12) {
		fprintf(stderr, "tsigupdate: no answer\n");
		return 1;
	}
	size_t pos;
	struct tsig_rr t;
	int terr = -1, sig = 0;
	if (tsig_find(resp, (size_t)n, &pos) == 0 && tsig_rr_parse(&t, resp, (size_t)n, pos) == 0) {
		terr = t.error;
		sig = t.mac_len > 0;
	}
	printf("rcode=%u tsig_error=%d signed=%d\n", resp[3] & 0xf, terr, sig);
	return 0;
}
