/* tapif -- the kernel side of the exception path: service addresses on the tap interface */
#ifndef DDI_DATAPLANE_TAPIF_H
#define DDI_DATAPLANE_TAPIF_H

#include <stdint.h>

/*
 * Add an address to a kernel interface with rtnetlink (RTM_NEWADDR), the
 * way `ip addr add ADDR/PLEN dev IF nodad` does; IPv6 addresses are added
 * with IFA_F_NODAD so they answer at once. Called at start only, never on
 * the packet path. family is 4 or 6. Returns DDI_EOK or a negative error.
 */
int tapif_addr_add(const char *ifname, int family, const uint8_t *addr, int plen);

/* Bring a kernel interface up (SIOCSIFFLAGS). */
int tapif_up(const char *ifname);

#endif
