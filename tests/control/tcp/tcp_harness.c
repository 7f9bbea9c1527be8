/* tcp_harness -- what the TCP server's unit tests share: a network namespace of their own, a loopback client, framed messages */
#include "tests/control/tcp/tcp_harness.h"

#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include <time.h>
#include <unistd.h>
#include <arpa/inet.h>
#include <net/if.h>
#include <netinet/in.h>
#include <sched.h>
#include <sys/ioctl.h>
#include <sys/socket.h>

#include <cmocka.h>

#include "dns/wire.h"

bool tcph_netns(const char *who)
{
	if (unshare(CLONE_NEWNET) != 0) {
		fprintf(stderr, "%s: no network namespace of our own (%s): skipped\n", who,
		        strerror(errno));
		return false;
	}
	int fd = socket(AF_INET, SOCK_DGRAM, 0);
	struct ifreq ifr = { 0 };
	strcpy(ifr.ifr_name, "lo");
	bool ok = fd >= 0 && ioctl(fd, SIOCGIFFLAGS, &ifr) == 0 &&
	          (ifr.ifr_flags |= IFF_UP, ioctl(fd, SIOCSIFFLAGS, &ifr) == 0);
	if (fd >= 0)
		close(fd);
	return ok;
}

int64_t tcph_now_ms(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

void tcph_listen_lo(struct tcp_conf *c)
{
	struct sockaddr_in *sin = (struct sockaddr_in *)&c->listen[0];
	sin->sin_family = AF_INET;
	sin->sin_port = htons(53);
	sin->sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	c->nlisten = 1;
}

int tcph_client(int rcvbuf)
{
	int fd = socket(AF_INET, SOCK_STREAM, 0);
	assert_true(fd >= 0);
	if (rcvbuf > 0)
		setsockopt(fd, SOL_SOCKET, SO_RCVBUF, &rcvbuf, sizeof(rcvbuf));
	struct timeval tv = { .tv_sec = 5 };
	setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv));
	struct sockaddr_in sin = { .sin_family = AF_INET, .sin_port = htons(53),
	                           .sin_addr.s_addr = htonl(INADDR_LOOPBACK) };
	assert_int_equal(connect(fd, (struct sockaddr *)&sin, sizeof(sin)), 0);
	return fd;
}

size_t tcph_put_msg(uint8_t *out, uint16_t id, uint8_t opcode, uint16_t qtype)
{
	uint8_t *m = out + 2;
	memset(m, 0, DNS_HDR_LEN);
	dns_put16(m, id);
	m[2] = (uint8_t)(opcode << 3);
	dns_put16(m + 4, 1);
	memcpy(m + DNS_HDR_LEN, "\1t\0", 3);
	dns_put16(m + DNS_HDR_LEN + 3, qtype);
	dns_put16(m + DNS_HDR_LEN + 5, 1);
	dns_put16(out, DNS_HDR_LEN + 7);
	return 2 + DNS_HDR_LEN + 7;
}

void tcph_send_msg(int fd, uint16_t id, uint8_t opcode, uint16_t qtype)
{
	uint8_t q[64];
	size_t n = tcph_put_msg(q, id, opcode, qtype);
	assert_int_equal(send(fd, q, n, 0), (ssize_t)n);
}

bool tcph_read_exact(int fd, uint8_t *b, size_t n)
{
	for (size_t got = 0; got < n;) {
		ssize_t r = recv(fd, b + got, n - got, 0);
		if (r <= 0)
			return false;
		got += (size_t)r;
	}
	return true;
}
