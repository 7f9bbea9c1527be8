/* tapif -- configure the tap's kernel interface through rtnetlink and ioctl */
#include <errno.h>
#include <stdbool.h>
#include <linux/if_addr.h>
#include <linux/netlink.h>
#include <linux/rtnetlink.h>
#include <net/if.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/socket.h>
#include <unistd.h>

#include "dataplane/tapif.h"
#include "dns/errcode.h"

/* Append one attribute to the message in `buf` (of `cap` bytes); false when it does not fit. */
static bool put_attr(uint8_t *buf, size_t cap, unsigned short type, const void *data, size_t len)
{
	struct nlmsghdr *nh = (struct nlmsghdr *)buf;
	size_t off = NLMSG_ALIGN(nh->nlmsg_len);
	struct rtattr a = { .rta_len = (unsigned short)RTA_LENGTH(len), .rta_type = type };
	if (off + RTA_ALIGN(a.rta_len) > cap)
		return false;
	memcpy(buf + off, &a, sizeof(a));
	memcpy(buf + off + RTA_LENGTH(0), data, len);
	nh->nlmsg_len = (uint32_t)(off + RTA_ALIGN(a.rta_len));
	return true;
}

int tapif_addr_add(const char *ifname, int family, const uint8_t *addr, int plen)
{
	unsigned idx = if_nametoindex(ifname);
	if (idx == 0)
		return -errno;

	uint8_t req[256] __attribute__((aligned(NLMSG_ALIGNTO)));
	struct nlmsghdr nh = {
		.nlmsg_len = NLMSG_LENGTH(sizeof(struct ifaddrmsg)),
		.nlmsg_type = RTM_NEWADDR,
		.nlmsg_flags = NLM_F_REQUEST | NLM_F_ACK | NLM_F_CREATE | NLM_F_REPLACE,
		.nlmsg_seq = 1,
	};
	struct ifaddrmsg ifa = {
		.ifa_family = family == 6 ? AF_INET6 : AF_INET,
		.ifa_prefixlen = (unsigned char)plen,
		.ifa_flags = family == 6 ? IFA_F_NODAD : 0,
		.ifa_scope = RT_SCOPE_UNIVERSE,
		.ifa_index = idx,
	};
	memset(req, 0, sizeof(req));
	memcpy(req, &nh, sizeof(nh));
	memcpy(req + NLMSG_LENGTH(0), &ifa, sizeof(ifa));
	size_t alen = family == 6 ? 16 : 4;
	uint32_t flags = ifa.ifa_flags;
	if (!put_attr(req, sizeof(req), IFA_LOCAL, addr, alen) ||
	    !put_attr(req, sizeof(req), IFA_ADDRESS, addr, alen) ||
	    !put_attr(req, sizeof(req), IFA_FLAGS, &flags, sizeof(flags)))
		return DDI_EINVAL;
	uint32_t reqlen = ((struct nlmsghdr *)req)->nlmsg_len;

	int fd = socket(AF_NETLINK, SOCK_RAW | SOCK_CLOEXEC, NETLINK_ROUTE);
	if (fd < 0)
		return -errno;
	struct sockaddr_nl sa = { .nl_family = AF_NETLINK };
	int ret = DDI_EOK;
	if (sendto(fd, req, reqlen, 0, (struct sockaddr *)&sa, sizeof(sa)) < 0) {
		ret = -errno;
		goto out;
	}
	/* The kernel's ACK is an NLMSG_ERROR carrying 0 or -errno. */
	char buf[4096];
	ssize_t n = recv(fd, buf, sizeof(buf), 0);
	if (n < 0) {
		ret = -errno;
		goto out;
	}
	struct nlmsghdr *rh = (struct nlmsghdr *)buf;
	if (!NLMSG_OK(rh, (size_t)n) || rh->nlmsg_type != NLMSG_ERROR) {
		ret = DDI_EIO;
		goto out;
	}
	const struct nlmsgerr *e = NLMSG_DATA(rh);
	ret = e->error;
out:
	close(fd);
	return ret;
}

int tapif_up(const char *ifname)
{
	int fd = socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0);
	if (fd < 0)
		return -errno;
	struct ifreq ifr;
	memset(&ifr, 0, sizeof(ifr));
	strncpy(ifr.ifr_name, ifname, IFNAMSIZ - 1);
	int ret = DDI_EOK;
	if (ioctl(fd, SIOCGIFFLAGS, &ifr) < 0) {
		ret = -errno;
	} else {
		ifr.ifr_flags |= IFF_UP;
		if (ioctl(fd, SIOCSIFFLAGS, &ifr) < 0)
			ret = -errno;
	}
	close(fd);
	return ret;
}
