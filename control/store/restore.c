/* restore -- a backup checked whole and put in place of a store, never under a running server */
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <limits.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "control/ipam/ipam.h"
#include "control/store/internal.h"

/* ------------------------------------------------------------------------ */
/* The server's claim on a store directory                                  */
/* ------------------------------------------------------------------------ */

int store_server_claim(const char *dir, int *fd, struct store_error *err)
{
	char path[PATH_MAX], pid[32];
	if (snprintf(path, sizeof(path), "%s/%s", dir, STORE_SERVER_LOCK) >= (int)sizeof(path))
		return seterr(err, DDI_EINVAL, -1, "%s: path too long", dir);
	*fd = open(path, O_RDWR | O_CREAT | O_CLOEXEC, 0640);
	if (*fd < 0)
		return seterr(err, -errno, -1, "%s: %s", path, strerror(errno));
	if (flock(*fd, LOCK_EX | LOCK_NB) != 0) {
		int e = errno;
		ssize_t n = pread(*fd, pid, sizeof(pid) - 1, 0);
		pid[n > 0 ? n : 0] = 0;
		pid[strcspn(pid, "\n")] = 0;
		close(*fd);
		*fd = -1;
		if (e == EWOULDBLOCK)
			return seterr(err, DDI_EAGAIN, -1, "a server runs on %s (pid %s; %s)", dir,
			              pid[0] ? pid : "?", STORE_SERVER_LOCK);
		return seterr(err, -e, -1, "%s: %s", path, strerror(e));
	}
	/* the pid is for the message above; the lock itself is what counts */
	int n = snprintf(pid, sizeof(pid), "%ld\n", (long)getpid());
	if (ftruncate(*fd, 0) != 0 || pwrite(*fd, pid, (size_t)n, 0) != n) {
		int e = errno;
		close(*fd);
		*fd = -1;
		return seterr(err, -e, -1, "%s: %s", path, strerror(e));
	}
	return DDI_EOK;
}

void store_server_release(int fd)
{
	if (fd >= 0)
		close(fd);   /* the flock goes with the last descriptor */
}

/* ------------------------------------------------------------------------ */
/* Checking a whole store                                                   */
/* ------------------------------------------------------------------------ */

struct jcheck {
	struct store_check *c;
	uint64_t prev;
	struct store_error *err;
};

static int journal_cb(void *ctx, const struct store_journal_entry *e)
{
	struct jcheck *j = ctx;
	if (e->seq <= j->prev)
		return seterr(j->err, DDI_ECORRUPT, -1, "journal entry %" PRIu64 " after %" PRIu64
		              ": sequences must increase", e->seq, j->prev);
	j->prev = e->seq;
	j->c->entries++;
	return 0;
}

static int diff_cb(void *ctx, const struct store_diff *d)
{
	(void)d;
	(*(uint64_t *)ctx)++;
	return 0;
}

struct zcheck {
	struct store *s;
	struct store_check *c;
	struct store_error *err;
};

static int zone_cb(void *ctx, const struct store_zone_info *z)
{
	struct zcheck *zc = ctx;
	zc->c->zones++;
	zc->c->rrsets += z->nrrsets;
	zc->c->rrs += z->nrrs;
	/* its differences (IXFR history) validate too */
	return store_diff_walk(zc->s, NULL, z->apex, diff_cb, &zc->c->diffs, zc->err);
}

static int ipam_prefix_cb(void *ctx, const struct ipam_prefix *p)
{
	(void)p;
	((struct store_check *)ctx)->prefixes++;
	return 0;
}

static int ipam_alloc_cb(void *ctx, const struct ipam_alloc *a)
{
	(void)a;
	((struct store_check *)ctx)->allocations++;
	return 0;
}

static int ipam_check(void *ctx, struct store_ipam *t)
{
	int rc = store_ipam_prefix_walk(t, NULL, ipam_prefix_cb, ctx);
	return rc ? rc : store_ipam_alloc_walk(t, NULL, ipam_alloc_cb, ctx);
}

static int value_cb(void *ctx, const uint8_t *name, const char *json, size_t len)
{
	(void)name, (void)json, (void)len;
	(*(uint64_t *)ctx)++;
	return 0;
}

int store_check(struct store *s, struct store_check *c, struct store_error *err)
{
	memset(c, 0, sizeof(*c));
	int rc = store_last_seq(s, &c->last_seq, err);
	if (rc)
		return rc;
	/* every entry parses (store_journal_read validates it) and the sequence only grows */
	struct jcheck j = { c, 0, err };
	rc = store_journal_read(s, 1, 0, journal_cb, &j, err);
	if (rc)
		return rc;
	if (j.prev > c->last_seq)
		return seterr(err, DDI_ECORRUPT, -1, "journal entry %" PRIu64 " is past the store's "
		              "last sequence %" PRIu64, j.prev, c->last_seq);
	/* every zone walked: every RRset read back and validated, and its differences */
	struct zcheck zc = { s, c, err };
	if ((rc = store_zone_list(s, true, zone_cb, &zc, err)) != 0)
		return rc;
	/* every IPAM prefix and allocation decodes */
	if ((rc = store_ipam_read(s, ipam_check, c, err)) != 0)
		return rc;
	if ((rc = store_key_walk(s, NULL, value_cb, &c->keys, err)) != 0)
		return rc;
	return store_policy_walk(s, NULL, value_cb, &c->policies, err);
}

/* ------------------------------------------------------------------------ */
/* Restore                                                                  */
/* ------------------------------------------------------------------------ */

static bool has_store(const char *dir)
{
	char path[PATH_MAX];
	struct stat st;
	snprintf(path, sizeof(path), "%s/data.mdb", dir);
	return stat(path, &st) == 0;
}

/* Open `dir` read-only and check it whole, in this process. */
static int open_checked(const char *dir, struct store_check *c, struct store_error *err)
{
	struct store *s;
	int rc = store_open(&s, dir, NULL, err);
	if (rc == 0) {
		rc = store_check(s, c, err);
		store_close(s);
	}
	return rc;
}

/*
 * The same in a child process. LMDB trusts its own pages: a damaged file
 * (a page overwritten, a truncated copy) can crash the reader (SIGBUS,
 * SIGSEGV) before any of our checks runs. A crash of the child is the
 * answer "damaged" instead of the end of ddictl. The child opens its own
 * environment (LMDB's rule after fork) and reports through a pipe.
 */
static int check_apart(const char *dir, struct store_check *c, struct store_error *err)
{
	struct { int rc; struct store_check c; struct store_error e; } r = { .rc = DDI_EIO };
	int p[2];
	if (pipe(p) != 0)
		return seterr(err, -errno, -1, "pipe: %s", strerror(errno));
	pid_t pid = fork();
	if (pid < 0) {
		close(p[0]);
		close(p[1]);
		return seterr(err, -errno, -1, "fork: %s", strerror(errno));
	}
	if (pid == 0) {
		close(p[0]);
		r.rc = open_checked(dir, &r.c, &r.e);
		ssize_t w = write(p[1], &r, sizeof(r));
		_exit(w == (ssize_t)sizeof(r) ? 0 : 1);
	}
	close(p[1]);
	ssize_t n = read(p[0], &r, sizeof(r));
	close(p[0]);
	int status = 0;
	while (waitpid(pid, &status, 0) < 0 && errno == EINTR)
		;
	if (WIFSIGNALED(status))
		return seterr(err, DDI_ECORRUPT, -1, "reading %s crashed the checker (signal %d, %s): "
		              "the file is damaged", dir, WTERMSIG(status), strsignal(WTERMSIG(status)));
	if (n != (ssize_t)sizeof(r))
		return seterr(err, DDI_EIO, -1, "checking %s: the checker gave no result", dir);
	*c = r.c;
	if (r.rc && err)
		*err = r.e;
	return r.rc;
}

int store_restore(const char *backup, const char *target, bool replace, struct store_check *c,
                  char *moved, size_t movedlen, struct store_error *err)
{
	struct store *b = NULL;
	char tmp[PATH_MAX];
	int claim = -1, rc;
	clearerr_(err);
	if (moved && movedlen)
		moved[0] = 0;
	if (snprintf(tmp, sizeof(tmp), "%s.restore-%ld", target, (long)getpid()) >= (int)sizeof(tmp))
		return seterr(err, DDI_EINVAL, -1, "%s: path too long", target);

	/* 1. The backup must be a whole, consistent store before anything is touched. */
	if ((rc = check_apart(backup, c, err)) != 0 || (rc = store_open(&b, backup, NULL, err)) != 0) {
		char m[sizeof(err->msg)];
		snprintf(m, sizeof(m), "%s", err->msg);
		return seterr(err, rc, -1, "backup %s does not check: %s", backup, m);
	}

	/* 2. The target: absent, or a store no server runs on (claimed until the swap is done). */
	bool exists = has_store(target);
	if (exists && !replace) {
		rc = seterr(err, DDI_EEXIST, -1, "%s already holds a store: give --replace to move "
		            "it aside (it is kept as %s.replaced-TIME)", target, target);
		goto out;
	}
	if (exists && (rc = store_server_claim(target, &claim, err)) != 0)
		goto out;

	/* 3. A compacted copy next to the target, checked again as it will be served. */
	if ((rc = store_backup(b, tmp, NULL, err)) != 0)
		goto out;
	struct store_check again;
	if ((rc = check_apart(tmp, &again, err)) != 0)
		goto out;
	if (again.last_seq != c->last_seq || again.entries != c->entries ||
	    again.rrs != c->rrs) {
		rc = seterr(err, DDI_ECORRUPT, -1, "the copy in %s differs from the backup", tmp);
		goto out;
	}

	/* 4. Two renames in one directory: the old store aside, the copy in its place. */
	if (exists) {
		char aside[PATH_MAX];
		time_t now = time(NULL);
		struct tm tm;
		gmtime_r(&now, &tm);
		char stamp[32];
		strftime(stamp, sizeof(stamp), "%Y%m%dT%H%M%SZ", &tm);
		snprintf(aside, sizeof(aside), "%s.replaced-%s", target, stamp);
		if (rename(target, aside) != 0) {
			rc = seterr(err, -errno, -1, "moving %s aside to %s: %s", target, aside,
			            strerror(errno));
			goto out;
		}
		if (moved)
			snprintf(moved, movedlen, "%s", aside);
	}
	if (rename(tmp, target) != 0) {
		rc = seterr(err, -errno, -1, "putting the restored store in %s: %s", target,
		            strerror(errno));
		goto out;
	}
	tmp[0] = 0;
out:
	if (tmp[0] && rc) {   /* a half-made copy is removed; the target was not touched */
		char p[PATH_MAX + 16];
		snprintf(p, sizeof(p), "%s/data.mdb", tmp);
		unlink(p);
		snprintf(p, sizeof(p), "%s/lock.mdb", tmp);
		unlink(p);
		rmdir(tmp);
	}
	store_server_release(claim);
	store_close(b);
	return rc;
}
