/* steer -- keep the kernel's receive work for a packet-socket port off the worker cores (RPS) */
#ifndef DDI_DATAPLANE_STEER_H
#define DDI_DATAPLANE_STEER_H

#include <sched.h>
#include <stdbool.h>

/*
 * Why: a port driven through a kernel interface (net_af_packet) costs the
 * kernel a receive path per frame (skb, packet socket copy). When Receive
 * Packet Steering sends that work to a CPU where a worker polls, an
 * overload starves the worker (receive livelock: 272,000 replies/s at
 * 400,000 offered, 3,000 at 974,000, bench/RESULTS.md "Overload on the
 * wire"); on the other CPUs the worker keeps answering what arrives.
 *
 * steer_port() looks at every receive queue of interface `ifname`
 * (/sys/class/net/IF/queues/rx-N/rps_cpus, in the caller's network
 * namespace): a queue whose RPS map holds a CPU of `workers` gets the map
 * `others` instead (the CPUs no worker polls), and its old map is kept for
 * steer_restore(). A queue without RPS (map 0: the work stays on the CPU
 * that received the frame) or with no worker CPU in its map is left alone.
 * Returns the number of queues changed, or -1 with `why` filled (no
 * sysfs, no permission, `others` empty). Never on the packet path.
 */
int steer_port(const char *ifname, const cpu_set_t *workers, const cpu_set_t *others, char *why,
               size_t whylen);

/* Put back every map steer_port() changed (at exit). */
void steer_restore(void);

/* A CPU set as an RPS map ("3", "ff,00000001"); false when `len` is too small. */
bool steer_mask_format(const cpu_set_t *set, char *buf, size_t len);
/* An RPS map read back; false when it does not parse. */
bool steer_mask_parse(const char *s, cpu_set_t *set);

#endif
