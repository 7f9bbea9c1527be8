/* updloop -- closed-loop RFC 2136 updates with TSIG: WINDOW outstanding at most, each adding a name of its own, for SECONDS */
/*
 * dnsperf -u paces itself at about 75 messages per second when only one
 * is outstanding (-q 1), whatever the server's latency (bench/RESULTS.md
 * "Dynamic DNS"), so at one outstanding update it measures itself. This
 * client sends the next update the moment the previous answer arrived.
 *
 *   updloop SERVER alg:name:secret ZONE PREFIX RUN SECONDS [WINDOW]
 *
 * Update i adds PREFIX-i.ZONE AAAA 2001:2:0:RUN::HI:LO (i+1 split in two
 * groups): distinct names and addresses, so each NOERROR is a real commit.
 * Prints "sent=N noerror=N other=N lost=N seconds=S rate=R p50_ms=X
 * p99_ms=Y": rate counts NOERROR answers only; an answer is matched to its
 * update by the message ID; an update unanswered for 2 s is lost.
 */
#include <arpa/inet.h>
#include <netinet/in.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include "control/ddns/tsig.h"
#include "dns/name.h"
#include "dns/wire.h"

#define WINDOW_MAX 256
#define LOST_NS 2000000000LL

static int64_t now_ns(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (int64_t)ts.tv_sec * 1000000000LL + ts.tv_nsec;
}

static int cmp64(const void *a, const void *b)
{
	int64_t x = *(const int64_t *)a, y = *(const int64_t *)b;
	return x < y ? -1 : x > y;
}

/* One update of name PREFIX-i.ZONE, signed; returns its length. */
static size_t build(uint8_t *msg, size_t cap, uint16_t id, const struct tsig_key *k,
                    const uint8_t *zone, int zlen, const char *prefix, unsigned run, unsigned i)
{
	char label[64];
	int ll = snprintf(label, sizeof(label), "%s-%u", prefix, i);
	dns_put16(msg, id);
	dns_put16(msg + 2, DNS_OP_UPDATE << 11);
	dns_put16(msg + 4, 1);
	dns_put16(msg + 6, 0);
	dns_put16(msg + 8, 1);
	dns_put16(msg + 10, 0);
	size_t len = 12;
	memcpy(msg + len, zone, (size_t)zlen);
	len += (size_t)zlen;
	dns_put16(msg + len, 6);
	dns_put16(msg + len + 2, 1);
	len += 4;
	msg[len++] = (uint8_t)ll;
	memcpy(msg + len, label, (size_t)ll);
	len += (size_t)ll;
	memcpy(msg + len, zone, (size_t)zlen);
	len += (size_t)zlen;
	dns_put16(msg + len, 28);         /* AAAA */
	dns_put16(msg + len + 2, 1);
	dns_put16(msg + len + 4, 0);
	dns_put16(msg + len + 6, 300);
	dns_put16(msg + len + 8, 16);
	uint8_t *a = msg + len + 10;
	memset(a, 0, 16);
	a[0] = 0x20, a[1] = 0x01, a[3] = 0x02;
	dns_put16(a + 6, (uint16_t)run);
	dns_put16(a + 12, (uint16_t)((i + 1) >> 16));
	dns_put16(a + 14, (uint16_t)(i + 1));
	len += 26;
	if (tsig_sign(k, NULL, 0, msg, &len, cap, (uint64_t)time(NULL), 300, NULL) < 0) {
		fprintf(stderr, "updloop: cannot sign\n");
		exit(2);
	}
	return len;
}

int main(int argc, char **argv)
{
	struct tsig_key k;
	struct in_addr srv;
	uint8_t zone[DNS_NAME_MAXLEN];
	if (argc < 7 || argc > 8 || tsig_key_parse(&k, argv[2]) != 0 ||
	    inet_pton(AF_INET, argv[1], &srv) != 1) {
		fprintf(stderr, "usage: updloop SERVER alg:name:secret ZONE PREFIX RUN SECONDS [WINDOW]\n");
		return 2;
	}
	int zlen = dns_name_from_str(zone, argv[3], strlen(argv[3]), NULL);
	unsigned run = (unsigned)strtoul(argv[5], NULL, 0);
	double secs = atof(argv[6]);
	int window = argc == 8 ? atoi(argv[7]) : 1;
	if (zlen <= 0 || secs <= 0 || window < 1 || window > WINDOW_MAX) {
		fprintf(stderr, "updloop: bad zone, seconds or window (1..%d)\n", WINDOW_MAX);
		return 2;
	}
	int fd = socket(AF_INET, SOCK_DGRAM, 0);
	struct sockaddr_in sa = { .sin_family = AF_INET, .sin_port = htons(53), .sin_addr = srv };
	if (fd < 0 || connect(fd, (struct sockaddr *)&sa, sizeof(sa)) != 0) {
		perror("updloop: socket");
		return 1;
	}
	size_t maxlat = 1 << 22;
	int64_t *lat = malloc(maxlat * sizeof(*lat));
	int64_t sent_at[WINDOW_MAX] = { 0 };   /* slot by id % WINDOW_MAX; 0: free */
	uint16_t slot_id[WINDOW_MAX];
	unsigned long sent = 0, ok = 0, other = 0, lost = 0, nlat = 0;
	int outstanding = 0;
	uint16_t next_id = (uint16_t)(getpid() * 7919);
	int64_t start = now_ns(), end = start + (int64_t)(secs * 1e9);
	uint8_t msg[1024], resp[4096];
	for (;;) {
		int64_t t = now_ns();
		while (t < end && outstanding < window) {
			uint16_t id = next_id++;
			int s = id % WINDOW_MAX;
			if (sent_at[s])
				break;   /* that slot still waits: let the window drain */
			size_t len = build(msg, sizeof(msg), id, &k, zone, zlen, argv[4], run,
			                   (unsigned)sent);
			if (send(fd, msg, len, 0) != (ssize_t)len) {
				perror("updloop: send");
				return 1;
			}
			sent_at[s] = now_ns();
			slot_id[s] = id;
			sent++;
			outstanding++;
		}
		if (outstanding == 0 && t >= end)
			break;
		struct pollfd p = { fd, POLLIN, 0 };
		if (poll(&p, 1, 10) > 0) {
			ssize_t n = recv(fd, resp, sizeof(resp), 0);
			if (n >= 12) {
				uint16_t id = dns_get16(resp);
				int s = id % WINDOW_MAX;
				if (sent_at[s] && slot_id[s] == id) {
					int64_t d = now_ns() - sent_at[s];
					sent_at[s] = 0;
					outstanding--;
					if ((resp[3] & 0xf) == 0) {
						ok++;
						if (nlat < maxlat)
							lat[nlat++] = d;
					} else {
						other++;
					}
				}
			}
		}
		t = now_ns();
		for (int s = 0; s < WINDOW_MAX; s++)
			if (sent_at[s] && t - sent_at[s] > LOST_NS) {
				sent_at[s] = 0;
				outstanding--;
				lost++;
			}
	}
	double el = (double)(now_ns() - start) / 1e9;
	qsort(lat, nlat, sizeof(*lat), cmp64);
	double p50 = nlat ? (double)lat[nlat / 2] / 1e6 : 0;
	double p99 = nlat ? (double)lat[nlat * 99 / 100] / 1e6 : 0;
	printf("sent=%lu noerror=%lu other=%lu lost=%lu seconds=%.2f rate=%.0f p50_ms=%.3f "
	       "p99_ms=%.3f\n", sent, ok, other, lost, el, (double)ok / el, p50, p99);
	free(lat);
	close(fd);
	return 0;
}
