/* tapif -- configure the tap's kernel interface through rtnetlink and ioctl */
#include <errno.h>
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

static void put_attr(struct nlmsghdr *nh, unsigned short type, const void *data, size_t len)
{
	struct rtattr *a = (struct rtattr *)((char *)nh + NLMSG_ALIGN(nh->nlmsg_len));
	a->rta_type = type;
	a->rta_len = (unsigned short)RTA_LENGTH(len);
	memcpy(RTA_DATA(a), data, len);
	nh->nlmsg_len = NLMSG_ALIGN(nh->nlmsg_len) + RTA_ALIGN(a->rta_len);
}

int tapif_addr_add(const char *ifname, int family, const uint8_t *addr, int plen)
{
	unsigned idx = if_nametoindex(ifname);
	if (idx == 0)
		return -errno;

	struct {
		struct nlmsghdr nh;
		struct ifaddrmsg ifa;
		char attrs[128];
	} req;
	memset(&req, 0, sizeof(req));
	size_t alen = family == 6 ? 16 : 4;
	req.nh.nlmsg_len = NLMSG_LENGTH(sizeof(struct ifaddrmsg));
	req.nh.nlmsg_type = RTM_NEWADDR;
	req.nh.nlmsg_flags = NLM_F_REQUEST | NLM_F_ACK | NLM_F_CREATE | NLM_F_REPLACE;
	req.nh.nlmsg_seq = 1;
	req.ifa.ifa_family = family == 6 ? AF_INET6 : AF_INET;
	req.ifa.ifa_prefixlen = (unsigned char)plen;
	req.ifa.ifa_flags = family == 6 ? IFA_F_NODAD : 0;
	req.ifa.ifa_scope = RT_SCOPE_UNIVERSE;
	req.ifa.ifa_index = idx;
	put_attr(&req.nh, IFA_LOCAL, addr, alen);
	put_attr(&req.nh, IFA_ADDRESS, addr, alen);
	uint32_t flags = req.ifa.ifa_flags;
	put_attr(&req.nh, IFA_FLAGS, &flags, sizeof(flags));

	int fd = socket(AF_NETLINK, SOCK_RAW | SOCK_CLOEXEC, NETLINK_ROUTE);
	if (fd < 0)
		return -errno;
	struct sockaddr_nl sa = { .nl_family = AF_NETLINK };
	int ret = DDI_EOK;
	if (sendto(fd, &req, req.nh.nlmsg_len, 0, (struct sockaddr *)&sa, sizeof(sa)) < 0) {
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
