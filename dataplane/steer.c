/* steer -- keep the kernel's receive work for a packet-socket port off the worker cores (RPS) */
#include <dirent.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "dataplane/steer.h"

#define STEER_MAX 64          /* receive queues remembered for the restore */
#define MASK_LEN 1024         /* CPU_SETSIZE bits as 32-bit hex groups, with commas */

static struct saved {
	char path[160];
	char mask[MASK_LEN];
} saved[STEER_MAX];
static unsigned nsaved;

bool steer_mask_format(const cpu_set_t *set, char *buf, size_t len)
{
	int top = -1;
	for (int c = CPU_SETSIZE - 1; c >= 0 && top < 0; c--)
		if (CPU_ISSET(c, set))
			top = c;
	int groups = top < 0 ? 1 : top / 32 + 1;
	size_t off = 0;
	for (int g = groups - 1; g >= 0; g--) {
		unsigned v = 0;
		for (int b = 0; b < 32; b++)
			if (CPU_ISSET(g * 32 + b, set))
				v |= 1u << b;
		int n = snprintf(buf + off, len - off, g == groups - 1 ? "%x" : ",%08x", v);
		if (n < 0 || (size_t)n >= len - off)
			return false;
		off += (size_t)n;
	}
	return true;
}

bool steer_mask_parse(const char *s, cpu_set_t *set)
{
	unsigned groups[CPU_SETSIZE / 32];
	int n = 0;
	CPU_ZERO(set);
	while (*s && *s != '\n') {
		char *end;
		errno = 0;
		unsigned long v = strtoul(s, &end, 16);
		if (end == s || errno || v > 0xffffffffUL || n == CPU_SETSIZE / 32)
			return false;
		groups[n++] = (unsigned)v;
		s = *end == ',' ? end + 1 : end;
	}
	for (int g = 0; g < n; g++)          /* the last group holds CPUs 0..31 */
		for (int b = 0; b < 32; b++)
			if (groups[n - 1 - g] & (1u << b))
				CPU_SET(g * 32 + b, set);
	return n > 0;
}

static int write_mask(const char *path, const char *mask)
{
	FILE *f = fopen(path, "w");
	if (!f)
		return -1;
	int rc = fputs(mask, f) < 0 ? -1 : 0;
	if (fclose(f) != 0)
		rc = -1;
	return rc;
}

int steer_port(const char *ifname, const cpu_set_t *workers, const cpu_set_t *others, char *why,
               size_t whylen)
{
	char dir[128], path[160], cur[MASK_LEN], want[MASK_LEN];
	if (CPU_COUNT(others) == 0 || !steer_mask_format(others, want, sizeof(want))) {
		snprintf(why, whylen, "no CPU without a worker to steer %s's receive work to", ifname);
		return -1;
	}
	snprintf(dir, sizeof(dir), "/sys/class/net/%s/queues", ifname);
	DIR *d = opendir(dir);
	if (!d) {
		snprintf(why, whylen, "%s: %s", dir, strerror(errno));
		return -1;
	}
	int changed = 0;
	struct dirent *e;
	while ((e = readdir(d)) != NULL && changed >= 0) {
		if (strncmp(e->d_name, "rx-", 3) != 0 ||
		    (size_t)snprintf(path, sizeof(path), "%s/%s/rps_cpus", dir, e->d_name) >= sizeof(path))
			continue;
		FILE *f = fopen(path, "r");
		cpu_set_t now, both;
		bool ok = f && fgets(cur, sizeof(cur), f) && steer_mask_parse(cur, &now);
		if (f)
			fclose(f);
		if (!ok)
			continue;   /* a kernel without RPS: nothing to steer */
		CPU_AND(&both, &now, workers);
		if (CPU_COUNT(&both) == 0)
			continue;
		if (nsaved == STEER_MAX || write_mask(path, want) < 0) {
			snprintf(why, whylen, "%s: %s", path, nsaved == STEER_MAX ? "too many queues"
			                                                        : strerror(errno));
			changed = -1;
			break;
		}
		snprintf(saved[nsaved].path, sizeof(saved[nsaved].path), "%s", path);
		cur[strcspn(cur, "\n")] = '\0';
		snprintf(saved[nsaved].mask, sizeof(saved[nsaved].mask), "%s", cur);
		nsaved++;
		changed++;
	}
	closedir(d);
	return changed;
}

void steer_restore(void)
{
	while (nsaved > 0) {
		nsaved--;
		(void)write_mask(saved[nsaved].path, saved[nsaved].mask);
	}
}
