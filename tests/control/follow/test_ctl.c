/* test_ctl -- control thread (follow, batch, publish), commands, the control socket and access rules */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <pthread.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cmocka.h>
#include <jansson.h>
#include <urcu-qsbr.h>

#include "control/mgmt/commands.h"
#include "control/follow/follow.h"
#include "control/mgmt/ctlsock.h"
#include "control/mgmt/metrics.h"
#include "control/store/store.h"
#include "dns/errcode.h"
#include "dns/name.h"
#include "dns/rdata.h"
#include "dns/wire.h"
#include "index/index.h"
#include "index/snapshot.h"

struct fx {
	char dir[64];
	char db[96];
	struct store *s;
	struct idx *ix;
	struct ctl *ctl;
};

static void rmtree(const char *dir)
{
	char cmd[512];
	snprintf(cmd, sizeof(cmd), "rm -rf '%s'", dir);
	assert_int_equal(system(cmd), 0);
}

static json_t *exec(struct fx *f, const char *actor, enum cmd_role role, const char *text,
                    uint64_t *seq)
{
	json_error_t je;
	json_t *req = json_loads(text, 0, &je);
	assert_non_null(req);
	struct cmd_ctx ctx = { .store = f->s, .actor = actor, .role = role };
	json_t *r = cmd_exec(&ctx, req, seq);
	json_decref(req);
	assert_non_null(r);
	return r;
}

static int result(json_t *r)
{
	return (int)json_integer_value(json_object_get(r, "result"));
}

/* Commit, then wait for the control thread to publish it. */
static uint64_t change(struct fx *f, const char *text)
{
	uint64_t seq = 0;
	json_t *r = exec(f, "unix:test", CMD_ROLE_ADMIN, text, &seq);
	if (result(r) != 0)
		fail_msg("%s -> %s", text, json_string_value(json_object_get(r, "text")));
	json_decref(r);
	assert_true(seq > 0);
	ctl_wake(f->ctl);
	assert_int_equal(ctl_wait_seq(f->ctl, seq, 5000), DDI_EOK);
	return seq;
}

/* The TXT/A RRset of a name in the published version: the RR count, -1 when no node. */
static int rr_count(struct fx *f, const char *name, uint16_t type)
{
	uint8_t w[DNS_NAME_MAXLEN], key[DNS_KEY_MAXLEN];
	assert_true(dns_name_from_str(w, name, strlen(name), NULL) > 0);
	int klen = dns_name_to_key(key, w);
	rcu_thread_online();
	const struct idx_version *v = idx_acquire(f->ix);
	const struct idx_node *n = idx_find(v, key, (size_t)klen);
	int c = -1;
	if (n) {
		const struct idx_rrset *rs = idx_node_rrset(n, type);
		c = rs ? rs->count : 0;
	}
	rcu_thread_offline();
	return c;
}

static const char zone_text[] =
	"$ORIGIN ex.test.\\n$TTL 60\\n@ IN SOA ns1 host 1 3600 900 604800 60\\n@ IN NS ns1\\n"
	"ns1 IN A 198.18.0.1\\nwww IN A 198.18.0.10\\nold IN A 198.18.0.11\\n";

static int setup(void **state)
{
	struct fx *f = calloc(1, sizeof(*f));
	strcpy(f->dir, "/tmp/test-ctl.XXXXXX");
	assert_non_null(mkdtemp(f->dir));
	snprintf(f->db, sizeof(f->db), "%s/db", f->dir);
	struct store_options o = { .create = true, .map_size = 64u << 20 };
	struct store_error e;
	assert_int_equal(store_open(&f->s, f->db, &o, &e), 0);
	char req[1024];
	snprintf(req, sizeof(req), "{\"command\": \"zone-import\", \"arguments\": {\"zone\": "
	         "\"ex.test.\", \"text\": \"%s\"}}", zone_text);
	json_t *r = exec(f, "unix:test", CMD_ROLE_ADMIN, req, NULL);
	assert_int_equal(result(r), 0);
	json_decref(r);
	f->ix = idx_new();
	assert_non_null(f->ix);
	assert_int_equal(store_load_index(f->s, f->ix, NULL, &e), 0);
	struct ctl_conf cc = { .store = f->s, .idx = f->ix, .poll_us = 500, .quiet = true };
	assert_int_equal(ctl_start(&f->ctl, &cc), 0);
	rcu_register_thread();
	rcu_thread_offline();
	*state = f;
	return 0;
}

static int teardown(void **state)
{
	struct fx *f = *state;
	rcu_unregister_thread();
	ctl_stop(f->ctl);
	idx_free(f->ix);
	store_close(f->s);
	rmtree(f->dir);
	free(f);
	return 0;
}

static void test_follow_rrsets(void **state)
{
	struct fx *f = *state;
	assert_int_equal(rr_count(f, "www.ex.test.", DNS_T_A), 1);
	change(f, "{\"command\": \"record-add\", \"arguments\": {\"name\": \"new.ex.test.\", "
	          "\"ttl\": 60, \"type\": \"A\", \"rdata\": \"198.18.0.20\"}}");
	assert_int_equal(rr_count(f, "new.ex.test.", DNS_T_A), 1);
	change(f, "{\"command\": \"record-add\", \"arguments\": {\"name\": \"new.ex.test.\", "
	          "\"ttl\": 60, \"type\": \"A\", \"rdata\": [\"198.18.0.21\"]}}");
	assert_int_equal(rr_count(f, "new.ex.test.", DNS_T_A), 2);
	change(f, "{\"command\": \"record-replace\", \"arguments\": {\"name\": \"new.ex.test.\", "
	          "\"ttl\": 60, \"type\": \"TXT\", \"rdatas\": [\"\\\"a\\\"\", \"\\\"b\\\"\", "
	          "\"\\\"c\\\"\"]}}");
	assert_int_equal(rr_count(f, "new.ex.test.", DNS_T_TXT), 3);
	change(f, "{\"command\": \"record-delete\", \"arguments\": {\"name\": \"new.ex.test.\"}}");
	assert_int_equal(rr_count(f, "new.ex.test.", DNS_T_A), -1);
	struct ctl_stats st;
	ctl_get_stats(f->ctl, &st);
	assert_int_equal(st.published_seq, ctl_published_seq(f->ctl));
	assert_true(st.publishes >= 4);
	assert_int_equal(st.errors, 0);
}

static void test_zone_replace_drops_names(void **state)
{
	struct fx *f = *state;
	assert_int_equal(rr_count(f, "old.ex.test.", DNS_T_A), 1);
	change(f, "{\"command\": \"zone-import\", \"arguments\": {\"zone\": \"ex.test.\", \"text\": "
	          "\"$ORIGIN ex.test.\\n@ 60 IN SOA ns1 host 5 1 1 1 1\\n@ 60 IN NS ns1\\n"
	          "ns1 60 IN A 198.18.0.1\\nfresh 60 IN A 198.18.0.30\\n\"}}");
	assert_int_equal(rr_count(f, "old.ex.test.", DNS_T_A), -1);
	assert_int_equal(rr_count(f, "www.ex.test.", DNS_T_A), -1);
	assert_int_equal(rr_count(f, "fresh.ex.test.", DNS_T_A), 1);
	change(f, "{\"command\": \"zone-remove\", \"arguments\": {\"zone\": \"ex.test.\"}}");
	assert_int_equal(rr_count(f, "fresh.ex.test.", DNS_T_A), -1);
	assert_int_equal(rr_count(f, "ex.test.", DNS_T_SOA), -1);
}

/* A batch: many commits land before the thread looks; fewer versions than commits. */
static void test_batching(void **state)
{
	struct fx *f = *state;
	struct ctl_stats before, after;
	/* A follower that looks only once a second unless woken: the commits pile up. */
	ctl_stop(f->ctl);
	struct ctl_conf cc = { .store = f->s, .idx = f->ix, .poll_us = 1000000, .quiet = true };
	assert_int_equal(ctl_start(&f->ctl, &cc), 0);
	ctl_get_stats(f->ctl, &before);
	uint64_t seq = 0;
	for (int i = 0; i < 300; i++) {
		char req[256];
		snprintf(req, sizeof(req), "{\"command\": \"record-add\", \"arguments\": {\"name\": "
		         "\"b%d.ex.test.\", \"ttl\": 60, \"type\": \"A\", \"rdata\": \"198.18.1.%d\"}}",
		         i, i % 250 + 1);
		json_t *r = exec(f, "unix:test", CMD_ROLE_ADMIN, req, &seq);
		assert_int_equal(result(r), 0);
		json_decref(r);
	}
	ctl_wake(f->ctl);
	assert_int_equal(ctl_wait_seq(f->ctl, seq, 5000), 0);
	ctl_get_stats(f->ctl, &after);
	assert_int_equal(after.entries - before.entries, 300);
	/* at most one version per second of commits, plus the woken one */
	assert_true(after.publishes - before.publishes < 30);
	for (int i = 0; i < 300; i += 37) {
		char n[64];
		snprintf(n, sizeof(n), "b%d.ex.test.", i);
		assert_int_equal(rr_count(f, n, DNS_T_A), 1);
	}
}

/* One name changed by many commits of one batch: the version holds the last value. */
static void test_batch_same_name(void **state)
{
	struct fx *f = *state;
	uint64_t seq = 0;
	for (int i = 1; i <= 200; i++) {
		char req[256];
		snprintf(req, sizeof(req), "{\"command\": \"record-replace\", \"arguments\": "
		         "{\"name\": \"www.ex.test.\", \"ttl\": 60, \"type\": \"A\", \"rdata\": "
		         "\"198.18.3.%d\"}}", i);
		json_t *r = exec(f, "unix:test", CMD_ROLE_ADMIN, req, &seq);
		assert_int_equal(result(r), 0);
		json_decref(r);
	}
	ctl_wake(f->ctl);
	assert_int_equal(ctl_wait_seq(f->ctl, seq, 5000), 0);
	uint8_t w[DNS_NAME_MAXLEN], key[DNS_KEY_MAXLEN];
	assert_true(dns_name_from_str(w, "www.ex.test.", 12, NULL) > 0);
	int klen = dns_name_to_key(key, w);
	rcu_thread_online();
	const struct idx_node *n = idx_find(idx_acquire(f->ix), key, (size_t)klen);
	assert_non_null(n);
	const struct idx_rrset *rs = idx_node_rrset(n, DNS_T_A);
	assert_non_null(rs);
	assert_int_equal(rs->count, 1);
	uint32_t pos = 0;
	uint16_t rrlen;
	const uint8_t *rr = idx_rrset_next(n, rs, &pos, &rrlen);
	assert_non_null(rr);
	/* type(2) class(2) ttl(4) rdlen(2) rdata */
	assert_int_equal(rrlen, 14);
	static const uint8_t want[4] = { 198, 18, 3, 200 };
	assert_memory_equal(rr + 10, want, 4);
	rcu_thread_offline();
}

/* Another process writes the store: the thread sees it by polling. */
static void test_other_process(void **state)
{
	struct fx *f = *state;
	pid_t pid = fork();
	assert_true(pid >= 0);
	if (pid == 0) {
		struct store *s2;
		struct store_error e;
		if (store_open(&s2, f->db, NULL, &e) != 0)
			_exit(1);
		json_t *req = json_loads("{\"command\": \"record-add\", \"arguments\": {\"name\": "
		                         "\"forked.ex.test.\", \"ttl\": 60, \"type\": \"A\", \"rdata\": "
		                         "\"198.18.0.99\"}}", 0, NULL);
		struct cmd_ctx ctx = { .store = s2, .actor = "unix:child", .role = CMD_ROLE_ADMIN };
		json_t *r = cmd_exec(&ctx, req, NULL);
		int ok = r && json_integer_value(json_object_get(r, "result")) == 0;
		store_close(s2);
		_exit(ok ? 0 : 1);
	}
	int st;
	assert_int_equal(waitpid(pid, &st, 0), pid);
	assert_true(WIFEXITED(st) && WEXITSTATUS(st) == 0);
	uint64_t last;
	struct store_error e;
	assert_int_equal(store_last_seq(f->s, &last, &e), 0);
	/* no wake-up: the poll alone must find it */
	assert_int_equal(ctl_wait_seq(f->ctl, last, 2000), 0);
	assert_int_equal(rr_count(f, "forked.ex.test.", DNS_T_A), 1);
}

static void test_commands_errors(void **state)
{
	struct fx *f = *state;
	json_t *r = exec(f, "unix:ro", CMD_ROLE_READ, "{\"command\": \"record-add\", \"arguments\": "
	                 "{\"name\": \"x.ex.test.\", \"ttl\": 1, \"type\": \"A\", \"rdata\": "
	                 "\"198.18.0.1\"}}", NULL);
	assert_int_equal(result(r), 1);
	assert_non_null(strstr(json_string_value(json_object_get(r, "text")), "access denied"));
	json_decref(r);
	r = exec(f, "unix:ro", CMD_ROLE_READ, "{\"command\": \"zone-list\"}", NULL);
	assert_int_equal(result(r), 0);
	json_decref(r);
	r = exec(f, "unix:a", CMD_ROLE_ADMIN, "{\"command\": \"nope\"}", NULL);
	assert_int_equal(result(r), 2);
	json_decref(r);
	r = exec(f, "unix:a", CMD_ROLE_ADMIN, "{\"command\": \"record-add\", \"arguments\": "
	         "{\"name\": \"x.ex.test.\", \"ttl\": 1, \"type\": \"A\", \"rdata\": \"1.2.3\"}}", NULL);
	assert_int_equal(result(r), 1);
	json_decref(r);
	r = exec(f, "unix:a", CMD_ROLE_ADMIN, "{\"command\": \"record-add\", \"arguments\": "
	         "{\"name\": \"x.ex.test.\", \"ttl\": 1, \"type\": \"A\", \"rdata\": "
	         "\"198.18.0.1\\n@ IN SOA a b 1 1 1 1 1\"}}", NULL);
	assert_int_equal(result(r), 1);   /* no second line smuggled in */
	json_decref(r);
	/* changes: one commit, all or nothing */
	uint64_t seq = 0;
	r = exec(f, "unix:a", CMD_ROLE_ADMIN, "{\"command\": \"changes\", \"arguments\": {\"changes\": "
	         "[{\"op\": \"add\", \"name\": \"c1.ex.test.\", \"ttl\": 5, \"type\": \"A\", \"rdata\": "
	         "\"198.18.0.5\"}, {\"op\": \"add\", \"name\": \"c1.ex.test.\", \"ttl\": 5, \"type\": "
	         "\"CNAME\", \"rdata\": \"www.ex.test.\"}]}}", &seq);
	assert_int_equal(result(r), 1);
	assert_int_equal(seq, 0);
	json_decref(r);
	r = exec(f, "unix:a", CMD_ROLE_ADMIN, "{\"command\": \"record-get\", \"arguments\": "
	         "{\"name\": \"c1.ex.test.\"}}", NULL);
	assert_int_equal(result(r), 3);
	json_decref(r);
	r = exec(f, "unix:a", CMD_ROLE_ADMIN, "{\"command\": \"journal\", \"arguments\": "
	         "{\"actor\": \"unix:test\", \"limit\": 1}}", NULL);
	assert_int_equal(result(r), 0);
	assert_int_equal(json_array_size(json_object_get(json_object_get(r, "arguments"),
	                                                 "entries")), 1);
	json_decref(r);
}

static void test_access_rules(void **state)
{
	struct fx *f = *state;
	char path[128], err[256];
	snprintf(path, sizeof(path), "%s/access", f->dir);
	FILE *fp = fopen(path, "w");
	fputs("# roles\nuid:1234 admin\ngid:4321 read-only\nuid:99 none\n* read-only\n", fp);
	fclose(fp);
	struct ctl_access *a;
	assert_int_equal(ctl_access_load(&a, path, err, sizeof(err)), 0);
	assert_int_equal(ctl_access_role(a, 1234, 1), CMD_ROLE_ADMIN);
	assert_int_equal(ctl_access_role(a, 5000, 4321), CMD_ROLE_READ);
	assert_int_equal(ctl_access_role(a, 99, 99), CMD_ROLE_NONE);
	assert_int_equal(ctl_access_role(a, 0, 0), CMD_ROLE_READ);   /* "*" matched first */
	ctl_access_free(a);
	assert_int_equal(ctl_access_load(&a, NULL, err, sizeof(err)), 0);
	assert_int_equal(ctl_access_role(a, 0, 0), CMD_ROLE_ADMIN);
	ctl_access_free(a);
	fp = fopen(path, "w");
	fputs("uid:x admin\n", fp);
	fclose(fp);
	assert_true(ctl_access_load(&a, path, err, sizeof(err)) < 0);
	assert_non_null(strstr(err, ":1:"));
}

static int sock_connect(const char *path)
{
	struct sockaddr_un sa = { .sun_family = AF_UNIX };
	strcpy(sa.sun_path, path);
	int fd = socket(AF_UNIX, SOCK_STREAM, 0);
	assert_true(fd >= 0);
	assert_int_equal(connect(fd, (struct sockaddr *)&sa, sizeof(sa)), 0);
	struct timeval tv = { .tv_sec = 5 };
	setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv));
	return fd;
}

static char rest[65536];

static json_t *sock_call(int fd, const char *text)
{
	assert_int_equal(send(fd, text, strlen(text), MSG_NOSIGNAL), (ssize_t)strlen(text));
	char buf[65536];
	size_t len = 0;
	while (len < sizeof(buf) - 1) {
		ssize_t n = recv(fd, buf + len, sizeof(buf) - 1 - len, 0);
		if (n <= 0)
			break;
		len += (size_t)n;
		if (buf[len - 1] == '\n')
			break;
	}
	buf[len] = '\0';
	if (getenv("TEST_CTL_DEBUG"))
		fprintf(stderr, "reply (%zu): %s [%s]\n", len, buf, strerror(errno));
	/* pipelined replies may come in one read: the first, the rest kept */
	char *nl = strchr(buf, '\n');
	rest[0] = '\0';
	if (nl && nl[1])
		snprintf(rest, sizeof(rest), "%s", nl + 1);
	return json_loadb(buf, nl ? (size_t)(nl - buf) : len, 0, NULL);
}

#define PIPELINED 6000

static void *pipeline_sender(void *arg)
{
	int fd = *(int *)arg;
	static const char req[] = "{\"command\": \"list-commands\"}\n";
	for (int i = 0; i < PIPELINED; i++)
		if (send(fd, req, sizeof(req) - 1, MSG_NOSIGNAL) != (ssize_t)sizeof(req) - 1)
			break;
	return NULL;
}

static void test_socket(void **state)
{
	struct fx *f = *state;
	char path[128], err[256];
	snprintf(path, sizeof(path), "%s/ctl.sock", f->dir);
	struct ctlsock *cs;
	struct ctlsock_conf sc = { .path = path, .store = f->s, .ctl = f->ctl, .max_request = 4096,
	                           .timeout_ms = 3000 };
	assert_int_equal(ctlsock_start(&cs, &sc, err, sizeof(err)), 0);

	/* a client that leaves mid-request, one that idles, then real work */
	int gone = sock_connect(path);
	assert_int_equal(send(gone, "{\"command\": \"st", 16, 0), 16);
	close(gone);
	int idle = sock_connect(path);
	assert_int_equal(send(idle, "{\"comm", 6, 0), 6);

	int fd = sock_connect(path);
	json_t *r = sock_call(fd, "{\"command\": \"record-add\", \"arguments\": {\"name\": "
	                      "\"sock.ex.test.\", \"ttl\": 60, \"type\": \"A\", \"rdata\": "
	                      "\"198.18.0.7\"}} {\"command\": \"list-commands\"}");
	assert_non_null(r);
	assert_int_equal(result(r), 0);
	/* acknowledged after publish: visible now */
	assert_true(json_is_true(json_object_get(json_object_get(r, "arguments"), "published")));
	json_decref(r);
	assert_int_equal(rr_count(f, "sock.ex.test.", DNS_T_A), 1);
	/* the pipelined second request */
	char buf[sizeof(rest)];
	ssize_t n;
	if (!rest[0]) {
		n = recv(fd, buf, sizeof(buf) - 1, 0);
		assert_true(n > 0);
		buf[n] = '\0';
	} else {
		snprintf(buf, sizeof(buf), "%s", rest);
	}
	assert_non_null(strstr(buf, "\"commands\""));

	r = sock_call(fd, "{\"command\": ]");
	assert_non_null(r);
	assert_int_equal(result(r), 1);
	assert_non_null(strstr(json_string_value(json_object_get(r, "text")), "malformed JSON"));
	json_decref(r);
	close(fd);

	fd = sock_connect(path);
	char big[6000];
	memset(big, ' ', sizeof(big));
	static const char head[] = "{\"command\": \"status\", \"arguments\": {\"x\": \"";
	memcpy(big, head, sizeof(head) - 1);
	big[sizeof(big) - 1] = '\0';
	r = sock_call(fd, big);
	assert_non_null(r);
	assert_non_null(strstr(json_string_value(json_object_get(r, "text")), "larger than"));
	json_decref(r);
	close(fd);

	/* a client that pipelines 6000 requests before reading (replies > CONN_OUT_MAX) */
	fd = sock_connect(path);
	pthread_t snd;
	assert_int_equal(pthread_create(&snd, NULL, pipeline_sender, &fd), 0);
	size_t lines = 0, total = 0;
	while (lines < PIPELINED) {
		ssize_t got = recv(fd, buf, sizeof(buf), 0);
		if (got <= 0)
			break;
		total += (size_t)got;
		for (ssize_t i = 0; i < got; i++)
			lines += buf[i] == '\n';
	}
	pthread_join(snd, NULL);
	assert_int_equal(lines, PIPELINED);
	assert_true(total > ((size_t)4 << 20));
	close(fd);

	/* the idle client was timed out (3 s: long enough that a reader slowed by
	 * sanitizers and a loaded machine is not timed out in the pipelining part) */
	usleep(3500 * 1000);
	n = recv(idle, buf, sizeof(buf), 0);
	assert_int_equal(n, 0);
	close(idle);
	struct ctlsock_stats st;
	ctlsock_get_stats(cs, &st);
	assert_int_equal(st.malformed, 2);   /* the bad JSON and the request cut off by EOF */
	assert_int_equal(st.oversized, 1);
	assert_int_equal(st.timeouts, 1);
	ctlsock_stop(cs);
	assert_int_equal(access(path, F_OK), -1);
}

static void extra_series(void *ctx, FILE *out)
{
	fprintf(out, "ddiplane_test_series %d\n", *(int *)ctx);
}

static size_t http_get(unsigned port, const char *path, char *buf, size_t cap)
{
	int fd = socket(AF_INET, SOCK_STREAM, 0);
	struct sockaddr_in sa = { .sin_family = AF_INET, .sin_port = htons((uint16_t)port) };
	sa.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	assert_int_equal(connect(fd, (struct sockaddr *)&sa, sizeof(sa)), 0);
	char req[256];
	int n = snprintf(req, sizeof(req), "GET %s HTTP/1.0\r\nHost: x\r\n\r\n", path);
	assert_int_equal(send(fd, req, (size_t)n, 0), n);
	size_t len = 0;
	ssize_t r;
	while (len < cap - 1 && (r = recv(fd, buf + len, cap - 1 - len, 0)) > 0)
		len += (size_t)r;
	buf[len] = '\0';
	close(fd);
	return len;
}

static void test_metrics(void **state)
{
	struct fx *f = *state;
	struct sockaddr_storage ss;
	assert_int_equal(metrics_parse_addr("127.0.0.1:9153", &ss), 0);
	assert_int_equal(metrics_parse_addr("[::1]:9153", &ss), 0);
	assert_int_equal(metrics_parse_addr("127.0.0.1", &ss), -1);
	assert_int_equal(metrics_parse_addr("127.0.0.1:0", &ss), -1);
	assert_int_equal(metrics_parse_addr("host:80", &ss), -1);
	change(f, "{\"command\": \"record-add\", \"arguments\": {\"name\": \"m.ex.test.\", "
	          "\"ttl\": 60, \"type\": \"A\", \"rdata\": \"198.18.0.20\"}}");
	int val = 42;
	char err[256], listen[64];
	struct metrics *m = NULL;
	unsigned port = 0;
	for (unsigned p = 19153; p < 19173 && !m; p++) {
		snprintf(listen, sizeof(listen), "127.0.0.1:%u", p);
		struct metrics_conf mc = { .listen = listen, .write = extra_series, .ctx = &val,
		                           .ctl = f->ctl };
		if (metrics_start(&m, &mc, err, sizeof(err)) == 0)
			port = p;
	}
	assert_non_null(m);
	static char buf[65536];
	http_get(port, "/metrics", buf, sizeof(buf));
	assert_true(strncmp(buf, "HTTP/1.", 7) == 0 && strstr(buf, " 200 OK") != NULL);
	assert_non_null(strstr(buf, "text/plain; version=0.0.4"));
	assert_non_null(strstr(buf, "\nddiplane_test_series 42\n"));
	assert_non_null(strstr(buf, "\nddiplane_journal_lag 0\n"));
	assert_non_null(strstr(buf, "\nddiplane_publish_latency_seconds_bucket{le=\"+Inf\"} "));
	char want[64];
	snprintf(want, sizeof(want), "\nddiplane_journal_published_seq %llu\n",
	         (unsigned long long)ctl_published_seq(f->ctl));
	assert_non_null(strstr(buf, want));
	http_get(port, "/other", buf, sizeof(buf));
	assert_non_null(strstr(buf, " 404 "));
	metrics_stop(m);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_follow_rrsets, setup, teardown),
		cmocka_unit_test_setup_teardown(test_zone_replace_drops_names, setup, teardown),
		cmocka_unit_test_setup_teardown(test_batching, setup, teardown),
		cmocka_unit_test_setup_teardown(test_batch_same_name, setup, teardown),
		cmocka_unit_test_setup_teardown(test_other_process, setup, teardown),
		cmocka_unit_test_setup_teardown(test_commands_errors, setup, teardown),
		cmocka_unit_test_setup_teardown(test_access_rules, setup, teardown),
		cmocka_unit_test_setup_teardown(test_socket, setup, teardown),
		cmocka_unit_test_setup_teardown(test_metrics, setup, teardown),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
