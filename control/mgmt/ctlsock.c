/* ctlsock -- the control socket server: epoll, non-blocking Unix stream sockets, JSON requests */
#include <errno.h>
#include <stdatomic.h>
#include <grp.h>
#include <pthread.h>
#include <pwd.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/eventfd.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <time.h>
#include <unistd.h>

#include "control/follow/follow.h"
#include "control/mgmt/auth.h"
#include "control/mgmt/ctlsock.h"
#include "dns/errcode.h"

/* ------------------------------------------------------------------------ */
/* Access rules                                                             */
/* ------------------------------------------------------------------------ */

enum rule_kind { R_UID, R_GID, R_ANY };

struct ctl_access {
	size_t n;
	struct rule {
		enum rule_kind kind;
		unsigned id;
		enum cmd_role role;
	} r[];
};

static bool parse_role(const char *s, enum cmd_role *r)
{
	if (strcmp(s, "admin") == 0)
		*r = CMD_ROLE_ADMIN;
	else if (strcmp(s, "read-only") == 0 || strcmp(s, "readonly") == 0)
		*r = CMD_ROLE_READ;
	else if (strcmp(s, "none") == 0)
		*r = CMD_ROLE_NONE;
	else
		return false;
	return true;
}

static bool parse_id(const char *s, unsigned *out)
{
	char *end;
	errno = 0;
	unsigned long v = strtoul(s, &end, 10);
	if (!s[0] || s[0] == '-' || *end || errno || v > 0xffffffffu)
		return false;
	*out = (unsigned)v;
	return true;
}

int ctl_access_load(struct ctl_access **out, const char *path, char *err, size_t errlen)
{
	struct ctl_access *a = calloc(1, sizeof(*a));
	if (!a)
		return DDI_ENOMEM;
	*out = a;
	if (!path)
		return DDI_EOK;
	FILE *f = fopen(path, "r");
	if (!f) {
		int e = -errno;
		snprintf(err, errlen, "access file %s: %s", path, strerror(errno));
		free(a);
		*out = NULL;
		return e;
	}
	char line[512];
	unsigned lineno = 0;
	int rc = DDI_EOK;
	while (fgets(line, sizeof(line), f)) {
		lineno++;
		char *hash = strchr(line, '#');
		if (hash)
			*hash = '\0';
		char who[256], role[64], extra[8];
		int n = sscanf(line, "%255s %63s %7s", who, role, extra);
		if (n <= 0)
			continue;
		struct rule r = { 0 };
		bool ok = n == 2 && parse_role(role, &r.role);
		if (ok && strcmp(who, "*") == 0) {
			r.kind = R_ANY;
		} else if (ok && strncmp(who, "uid:", 4) == 0) {
			r.kind = R_UID;
			ok = parse_id(who + 4, &r.id);
		} else if (ok && strncmp(who, "gid:", 4) == 0) {
			r.kind = R_GID;
			ok = parse_id(who + 4, &r.id);
		} else if (ok && strncmp(who, "user:", 5) == 0) {
			struct passwd *pw = getpwnam(who + 5);
			r.kind = R_UID;
			ok = pw != NULL;
			if (ok)
				r.id = pw->pw_uid;
		} else if (ok && strncmp(who, "group:", 6) == 0) {
			struct group *gr = getgrnam(who + 6);
			r.kind = R_GID;
			ok = gr != NULL;
			if (ok)
				r.id = gr->gr_gid;
		} else {
			ok = false;
		}
		if (!ok) {
			snprintf(err, errlen, "%s:%u: expected 'uid:N|gid:N|user:NAME|group:NAME|* "
			         "admin|read-only|none' (unknown user or group?)", path, lineno);
			rc = DDI_ESYNTAX;
			break;
		}
		struct ctl_access *na = realloc(a, sizeof(*a) + (a->n + 1) * sizeof(a->r[0]));
		if (!na) {
			rc = DDI_ENOMEM;
			break;
		}
		a = na;
		a->r[a->n++] = r;
	}
	fclose(f);
	if (rc) {
		free(a);
		*out = NULL;
		return rc;
	}
	*out = a;
	return DDI_EOK;
}

void ctl_access_free(struct ctl_access *a)
{
	free(a);
}

static bool in_groups(uid_t uid, gid_t gid, unsigned want)
{
	if (gid == want)
		return true;
	struct passwd *pw = getpwuid(uid);
	if (!pw)
		return false;
	gid_t groups[64];
	int n = 64;
	if (getgrouplist(pw->pw_name, gid, groups, &n) < 0)
		n = 64;
	for (int i = 0; i < n; i++)
		if (groups[i] == want)
			return true;
	return false;
}

enum cmd_role ctl_access_role(const struct ctl_access *a, uid_t uid, gid_t gid)
{
	for (size_t i = 0; a && i < a->n; i++) {
		const struct rule *r = &a->r[i];
		if (r->kind == R_ANY || (r->kind == R_UID && r->id == uid) ||
		    (r->kind == R_GID && in_groups(uid, gid, r->id)))
			return r->role;
	}
	return uid == 0 || uid == getuid() ? CMD_ROLE_ADMIN : CMD_ROLE_READ;
}

/* ------------------------------------------------------------------------ */
/* Connections                                                              */
/* ------------------------------------------------------------------------ */

#define CONN_OUT_MAX ((size_t)4 << 20)   /* queued reply bytes before we stop reading requests */

struct conn {
	int fd;
	enum cmd_role role;
	uid_t uid;
	char actor[300];
	char *in;                  /* bytes received, not yet a whole request */
	size_t inlen, incap;
	char *out;                 /* reply bytes not yet sent */
	size_t outlen, outoff;
	uint64_t last_ns;          /* last activity: read timeout */
	uint64_t wait_seq;         /* parked: reply after this seq is published */
	uint64_t wait_until_ns;
	json_t *parked;            /* the reply held back until then */
	bool closing;              /* close once out is sent */
	bool draining;             /* reply sent, write side shut: discard input until EOF */
	struct conn *next;
};

struct ctlsock {
	struct ctlsock_conf conf;
	char path[108];
	int lfd, epfd, stopfd;
	pthread_t thread;
	struct conn *conns;
	unsigned nconns;
	pthread_mutex_t lock;
	struct ctlsock_stats st;
	struct ctl_access *_Atomic pending;   /* ctlsock_set_access: in force from the next peer */
	struct ctl_access *owned;             /* the last one swapped in (freed here) */
};

static uint64_t now_ns(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000000u + (uint64_t)ts.tv_nsec;
}

#define STAT_INC(s, f) do { pthread_mutex_lock(&(s)->lock); (s)->st.f++; pthread_mutex_unlock(&(s)->lock); } while (0)

static void conn_close(struct ctlsock *s, struct conn *c)
{
	epoll_ctl(s->epfd, EPOLL_CTL_DEL, c->fd, NULL);
	close(c->fd);
	struct conn **pp = &s->conns;
	while (*pp && *pp != c)
		pp = &(*pp)->next;
	if (*pp)
		*pp = c->next;
	json_decref(c->parked);
	free(c->in);
	free(c->out);
	free(c);
	s->nconns--;
}

static void conn_events(struct ctlsock *s, struct conn *c)
{
	struct epoll_event ev = { .data.ptr = c };
	ev.events = c->outlen > c->outoff ? EPOLLOUT
	            : c->draining ? EPOLLIN : (c->parked || c->closing ? 0 : EPOLLIN);
	epoll_ctl(s->epfd, EPOLL_CTL_MOD, c->fd, &ev);
}

/* Try to send what is queued; false when the connection is gone. */
static bool conn_flush(struct ctlsock *s, struct conn *c)
{
	while (c->outoff < c->outlen) {
		ssize_t n = send(c->fd, c->out + c->outoff, c->outlen - c->outoff, MSG_NOSIGNAL);
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK))
			break;
		if (n <= 0) {
			conn_close(s, c);
			return false;
		}
		c->outoff += (size_t)n;
		c->last_ns = now_ns();
	}
	if (c->outoff == c->outlen) {
		c->outoff = c->outlen = 0;
		if (c->closing && !c->draining) {
			/*
			 * Closing a Unix socket with unread input makes the peer's
			 * recv fail with ECONNRESET before it reads our reply: shut
			 * our side, discard what still comes, close at its EOF (or
			 * after the timeout).
			 */
			shutdown(c->fd, SHUT_WR);
			c->draining = true;
			c->inlen = 0;
			c->last_ns = now_ns();
		}
	}
	conn_events(s, c);
	return true;
}

static void conn_queue(struct conn *c, json_t *reply)
{
	char *text = reply ? json_dumps(reply, JSON_COMPACT) : NULL;
	json_decref(reply);
	if (!text) {
		text = strdup("{\"result\":1,\"text\":\"out of memory\"}");
		c->closing = true;
		if (!text)
			return;
	}
	size_t len = strlen(text);
	char *no = realloc(c->out, c->outlen + len + 1);
	if (no) {
		memcpy(no + c->outlen, text, len);
		no[c->outlen + len] = '\n';
		c->out = no;
		c->outlen += len + 1;
	} else {
		c->closing = true;
	}
	free(text);
}

/* Release a parked reply, noting whether its version was published in time. */
static void conn_unpark(struct conn *c, bool published)
{
	json_t *args = json_object_get(c->parked, "arguments");
	if (args)
		json_object_set_new(args, "published", json_boolean(published));
	conn_queue(c, c->parked);
	c->parked = NULL;
	c->wait_seq = 0;
}

static void handle_request(struct ctlsock *s, struct conn *c, json_t *req)
{
	struct cmd_ctx ctx = { .store = s->conf.store, .actor = c->actor, .role = c->role,
	                       .hooks = s->conf.hooks };
	uint64_t seq = 0;
	/*
	 * A user given a scoped role (role-add) has it instead of the access
	 * file's; read at every request, so that a change applies at once.
	 * uid 0 stays admin.
	 */
	struct auth_principal *pr = NULL;
	if (c->uid != 0 && strncmp(c->actor, "unix:", 5) == 0 && (pr = malloc(sizeof(*pr))) &&
	    auth_user_principal(s->conf.store, c->actor + 5, pr) != DDI_EOK) {
		free(pr);
		pr = NULL;
	}
	ctx.principal = pr;
	const char *cmd = json_string_value(json_object_get(req, "command"));
	STAT_INC(s, requests);
	if (cmd && !pr && c->role < cmd_role_needed(cmd) && cmd_role_needed(cmd) != CMD_ROLE_NONE)
		STAT_INC(s, denied);
	json_t *reply = cmd_exec(&ctx, req, &seq);
	free(pr);
	if (json_integer_value(json_object_get(reply, "result")) != CMD_OK)
		STAT_INC(s, errors);
	if (seq && s->conf.ctl) {
		/* Committed: wake the follower, answer once the change is published. */
		ctl_wake(s->conf.ctl);
		if (ctl_published_seq(s->conf.ctl) >= seq) {
			c->parked = reply;
			conn_unpark(c, true);
		} else {
			c->parked = reply;
			c->wait_seq = seq;
			unsigned w = s->conf.wait_ms ? s->conf.wait_ms : CTLSOCK_WAIT_MS_DEFAULT;
			c->wait_until_ns = now_ns() + (uint64_t)w * 1000000u;
		}
		return;
	}
	conn_queue(c, reply);
}

/*
 * Whether the bytes held may end a JSON text. A request of a few KiB is
 * simply parsed at each read; for a large one (a zone import arriving in
 * many reads) parsing again at every read would cost O(n^2), so it is
 * tried only when the input ends in '}' or ']' (every request is an
 * object), at EOF, or when the buffer is full.
 */
static bool may_be_whole(const struct conn *c, size_t off, bool eof)
{
	size_t end = c->inlen;
	if (eof || c->inlen - off <= 65536 || c->inlen == c->incap)
		return true;
	while (end > off && strchr(" \t\r\n", c->in[end - 1]))
		end--;
	return end > off && (c->in[end - 1] == '}' || c->in[end - 1] == ']');
}

/* Parse whole requests out of c->in; false when the connection is gone. */
static bool conn_parse(struct ctlsock *s, struct conn *c, bool eof)
{
	size_t max = s->conf.max_request ? s->conf.max_request : CTLSOCK_MAX_REQUEST_DEFAULT;
	size_t off = 0;   /* consumed; the buffer is compacted once at the end */
	/* A client that sends without reading gets no more answers queued than CONN_OUT_MAX. */
	while (off < c->inlen && !c->parked && !c->closing && !c->draining &&
	       c->outlen - c->outoff < CONN_OUT_MAX) {
		while (off < c->inlen && strchr(" \t\r\n", c->in[off]))
			off++;
		if (off == c->inlen || !may_be_whole(c, off, eof))
			break;
		json_error_t je;
		json_t *req = json_loadb(c->in + off, c->inlen - off,
		                         JSON_DISABLE_EOF_CHECK | JSON_REJECT_DUPLICATES, &je);
		if (!req) {
			bool premature = json_error_code(&je) == json_error_premature_end_of_input;
			if (premature && c->inlen - off > max) {
				STAT_INC(s, oversized);
				conn_queue(c, cmd_reply(CMD_ERROR, NULL, "request larger than %zu bytes",
				                        max));
			} else if (premature && !eof) {
				break;   /* wait for the rest */
			} else {
				STAT_INC(s, malformed);
				conn_queue(c, cmd_reply(CMD_ERROR, NULL, "malformed JSON request: %s "
				                        "(line %d, column %d)", je.text, je.line, je.column));
			}
			c->closing = true;
			off = c->inlen;
			break;
		}
		size_t used = (size_t)je.position;
		off = used > c->inlen - off ? c->inlen : off + used;
		handle_request(s, c, req);
		json_decref(req);
	}
	bool held = c->outlen - c->outoff >= CONN_OUT_MAX;
	if (off) {
		memmove(c->in, c->in + off, c->inlen - off);
		c->inlen -= off;
	}
	if (eof && !c->parked)
		c->closing = true;
	if (!conn_flush(s, c))
		return false;
	/*
	 * Requests held back by CONN_OUT_MAX whose answers all went out at once:
	 * no event would bring us back for them (they are read already).
	 */
	if (held && c->outlen == 0 && c->inlen > 0)
		return conn_parse(s, c, eof);
	return true;
}

static void conn_read(struct ctlsock *s, struct conn *c)
{
	size_t max = s->conf.max_request ? s->conf.max_request : CTLSOCK_MAX_REQUEST_DEFAULT;
	bool eof = false;
	if (c->draining) {
		char sink[16384];
		for (int i = 0; i < 64; i++) {   /* bounded: others get their turn */
			ssize_t n = recv(c->fd, sink, sizeof(sink), 0);
			if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK))
				return;
			if (n <= 0) {
				conn_close(s, c);
				return;
			}
		}
		return;
	}
	/*
	 * Read while there is room; the buffer holds at most max_request + 4 KiB.
	 * Several pipelined requests may be in it: only one request that does
	 * not end within max_request bytes is refused (conn_parse). What we do
	 * not read stays in the kernel; epoll (level-triggered) tells again.
	 */
	for (;;) {
		if (c->incap - c->inlen < 4096) {
			size_t nc = c->incap ? c->incap * 2 : 8192;
			if (nc > max + 4096)
				nc = max + 4096;
			if (nc <= c->incap)
				break;   /* full: parse first */
			char *ni = realloc(c->in, nc);
			if (!ni) {
				conn_close(s, c);
				return;
			}
			c->in = ni;
			c->incap = nc;
		}
		if (c->incap == c->inlen)
			break;
		ssize_t n = recv(c->fd, c->in + c->inlen, c->incap - c->inlen, 0);
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK))
			break;
		if (n <= 0) {
			eof = true;
			break;
		}
		c->inlen += (size_t)n;
		c->last_ns = now_ns();
	}
	if (eof && c->inlen == 0 && !c->parked && c->outlen == 0) {
		conn_close(s, c);
		return;
	}
	conn_parse(s, c, eof);
}

static void accept_all(struct ctlsock *s)
{
	for (;;) {
		int fd = accept4(s->lfd, NULL, NULL, SOCK_NONBLOCK | SOCK_CLOEXEC);
		if (fd < 0)
			return;
		STAT_INC(s, accepted);
		if (s->nconns >= CTLSOCK_MAX_CONNS) {
			close(fd);
			continue;
		}
		struct ucred cr;
		socklen_t crlen = sizeof(cr);
		struct conn *c = calloc(1, sizeof(*c));
		if (!c || getsockopt(fd, SOL_SOCKET, SO_PEERCRED, &cr, &crlen) != 0) {
			free(c);
			close(fd);
			continue;
		}
		c->fd = fd;
		/* a reloaded access file: this thread alone swaps it, so no reader is left */
		struct ctl_access *na = atomic_exchange(&s->pending, NULL);
		if (na) {
			ctl_access_free(s->owned);
			s->owned = na;
			s->conf.access = na;
		}
		c->role = ctl_access_role(s->conf.access, cr.uid, cr.gid);
		c->uid = cr.uid;
		struct passwd pwb, *pw = NULL;
		char buf[1024];
		if (getpwuid_r(cr.uid, &pwb, buf, sizeof(buf), &pw) == 0 && pw && pw->pw_name[0])
			snprintf(c->actor, sizeof(c->actor), "unix:%.250s", pw->pw_name);
		else
			snprintf(c->actor, sizeof(c->actor), "uid:%u", (unsigned)cr.uid);
		c->last_ns = now_ns();
		struct epoll_event ev = { .events = EPOLLIN, .data.ptr = c };
		if (epoll_ctl(s->epfd, EPOLL_CTL_ADD, fd, &ev) != 0) {
			free(c);
			close(fd);
			continue;
		}
		c->next = s->conns;
		s->conns = c;
		s->nconns++;
	}
}

/* Parked replies whose version is published (or whose wait ran out); idle connections. */
static void sweep(struct ctlsock *s)
{
	uint64_t now = now_ns(), pub = s->conf.ctl ? ctl_published_seq(s->conf.ctl) : 0;
	uint64_t tmo = (uint64_t)(s->conf.timeout_ms ? s->conf.timeout_ms
	                                            : CTLSOCK_TIMEOUT_MS_DEFAULT) * 1000000u;
	for (struct conn *c = s->conns, *next; c; c = next) {
		next = c->next;
		if (c->parked) {
			if (pub >= c->wait_seq || now >= c->wait_until_ns) {
				conn_unpark(c, pub >= c->wait_seq);
				/* requests pipelined behind the change */
				if (conn_flush(s, c))
					conn_parse(s, c, false);
			}
			continue;
		}
		if (now - c->last_ns > tmo) {
			if (c->inlen > 0 && !c->draining)
				STAT_INC(s, timeouts);
			conn_close(s, c);
		}
	}
}

static void *ctlsock_main(void *arg)
{
	struct ctlsock *s = arg;
	struct epoll_event evs[64];
	for (;;) {
		bool parked = false;
		for (struct conn *c = s->conns; c; c = c->next)
			parked = parked || c->parked;
		int n = epoll_wait(s->epfd, evs, 64, parked ? 1 : 100);
		bool stop = false, pub = false;
		for (int i = 0; i < n; i++) {
			void *p = evs[i].data.ptr;
			if (p == &s->stopfd) {
				stop = true;
			} else if (p == &s->lfd) {
				accept_all(s);
			} else if (p == s) {
				uint64_t v;
				if (read(ctl_publish_fd(s->conf.ctl), &v, sizeof(v)) < 0) {
					/* drained already */
				}
				pub = true;
			} else {
				struct conn *c = p;
				if (c->parked && (evs[i].events & (EPOLLHUP | EPOLLERR)))
					conn_close(s, c);   /* gone while its change is published */
				else if (evs[i].events & EPOLLOUT) {
					/* room again: requests held back by CONN_OUT_MAX */
					if (conn_flush(s, c) && c->inlen && !c->parked && c->outlen == 0)
						conn_parse(s, c, false);
				}
				else if (evs[i].events & (EPOLLIN | EPOLLHUP | EPOLLERR))
					conn_read(s, c);
			}
		}
		if (stop)
			break;
		(void)pub;
		sweep(s);
	}
	return NULL;
}

int ctlsock_start(struct ctlsock **out, const struct ctlsock_conf *conf, char *err, size_t errlen)
{
	struct sockaddr_un sa = { .sun_family = AF_UNIX };
	if (strlen(conf->path) >= sizeof(sa.sun_path)) {
		snprintf(err, errlen, "control socket path too long (at most %zu bytes): %s",
		         sizeof(sa.sun_path) - 1, conf->path);
		return DDI_EINVAL;
	}
	struct ctlsock *s = calloc(1, sizeof(*s));
	if (!s)
		return DDI_ENOMEM;
	s->conf = *conf;
	snprintf(s->path, sizeof(s->path), "%s", conf->path);
	strcpy(sa.sun_path, conf->path);
	s->epfd = s->stopfd = -1;
	s->lfd = socket(AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
	int rc;
	if (s->lfd < 0)
		goto fail_errno;
	/* A socket file left by a killed server: replace it; anything else: refuse. */
	struct stat stb;
	if (lstat(conf->path, &stb) == 0) {
		if (!S_ISSOCK(stb.st_mode)) {
			snprintf(err, errlen, "control socket %s: exists and is not a socket", conf->path);
			rc = DDI_EEXIST;
			goto fail;
		}
		unlink(conf->path);
	}
	mode_t old = umask(0117);   /* 0660: owner and group */
	rc = bind(s->lfd, (struct sockaddr *)&sa, sizeof(sa));
	umask(old);
	if (rc != 0 || chmod(conf->path, 0660) != 0 || listen(s->lfd, 64) != 0)
		goto fail_errno;
	s->epfd = epoll_create1(EPOLL_CLOEXEC);
	s->stopfd = eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC);
	if (s->epfd < 0 || s->stopfd < 0)
		goto fail_errno;
	struct epoll_event ev = { .events = EPOLLIN, .data.ptr = &s->lfd };
	epoll_ctl(s->epfd, EPOLL_CTL_ADD, s->lfd, &ev);
	ev.data.ptr = &s->stopfd;
	epoll_ctl(s->epfd, EPOLL_CTL_ADD, s->stopfd, &ev);
	if (conf->ctl) {
		ev.data.ptr = s;
		epoll_ctl(s->epfd, EPOLL_CTL_ADD, ctl_publish_fd(conf->ctl), &ev);
	}
	pthread_mutex_init(&s->lock, NULL);
	if ((rc = pthread_create(&s->thread, NULL, ctlsock_main, s)) != 0) {
		errno = rc;
		pthread_mutex_destroy(&s->lock);
		goto fail_errno;
	}
	pthread_setname_np(s->thread, "ddi-ctlsock");
	*out = s;
	return DDI_EOK;
fail_errno:
	rc = -errno;
	snprintf(err, errlen, "control socket %s: %s", conf->path, strerror(errno));
fail:
	if (s->lfd >= 0)
		close(s->lfd);
	if (s->epfd >= 0)
		close(s->epfd);
	if (s->stopfd >= 0)
		close(s->stopfd);
	free(s);
	return rc;
}

void ctlsock_set_access(struct ctlsock *s, struct ctl_access *a)
{
	/* an access set before the swap happened is replaced unused */
	ctl_access_free(atomic_exchange(&s->pending, a));
}

void ctlsock_stop(struct ctlsock *s)
{
	if (!s)
		return;
	uint64_t one = 1;
	if (write(s->stopfd, &one, sizeof(one)) < 0) {
		/* cannot fail for an eventfd below its maximum */
	}
	pthread_join(s->thread, NULL);
	while (s->conns)
		conn_close(s, s->conns);
	close(s->lfd);
	close(s->epfd);
	close(s->stopfd);
	unlink(s->path);
	ctl_access_free(atomic_exchange(&s->pending, NULL));
	ctl_access_free(s->owned);
	pthread_mutex_destroy(&s->lock);
	free(s);
}

void ctlsock_get_stats(struct ctlsock *s, struct ctlsock_stats *st)
{
	pthread_mutex_lock(&s->lock);
	*st = s->st;
	pthread_mutex_unlock(&s->lock);
}
