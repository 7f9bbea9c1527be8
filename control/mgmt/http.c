/* http -- the automation API: routes onto the command table, bearer tokens, paging, the wait for publication (libmicrohttpd) */
#include <arpa/inet.h>
#include <errno.h>
#include <inttypes.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <time.h>

#include <microhttpd.h>

#include "control/follow/follow.h"
#include "control/mgmt/auth.h"
#include "control/mgmt/commands.h"
#include "control/mgmt/http.h"
#include "control/mgmt/metrics.h"
#include "dns/errcode.h"

/* The OpenAPI document, control/mgmt/openapi.json, embedded at build time (embed.py). */
extern const char ddi_openapi_json[];
extern const size_t ddi_openapi_json_len;

/* ------------------------------------------------------------------------ */
/* Routes                                                                   */
/* ------------------------------------------------------------------------ */

#define API "/api/v1"

/*
 * One route: METHOD and a path whose {segments} become arguments of the
 * same name; {X_address}/{X_length} together become argument X
 * ("198.18.0.0/24"). The OpenAPI document names the same paths.
 */
static const struct route {
	const char *method;
	const char *path;
	const char *command;
	enum http_route_kind kind;
	const char *list;          /* HTTP_R_LIST: the array to page */
	bool created;
} routes[] = {
	{ "GET", API "/openapi.json", NULL, HTTP_R_OPENAPI, NULL, false },
	{ "GET", API "/status", "status", HTTP_R_PLAIN, NULL, false },
	{ "GET", API "/stats", "stats", HTTP_R_PLAIN, NULL, false },
	{ "GET", API "/commands", "list-commands", HTTP_R_LIST, "commands", false },
	{ "POST", API "/commands", NULL, HTTP_R_COMMAND, NULL, false },
	{ "GET", API "/zones", "zone-list", HTTP_R_LIST, "zones", false },
	{ "POST", API "/zones", "zone-add", HTTP_R_PLAIN, NULL, true },
	{ "GET", API "/zones/{zone}", "zone-export", HTTP_R_PLAIN, NULL, false },
	{ "DELETE", API "/zones/{zone}", "zone-remove", HTTP_R_PLAIN, NULL, false },
	{ "GET", API "/zones/{zone}/records", "record-list", HTTP_R_LIST, "records", false },
	{ "POST", API "/records", "record-add", HTTP_R_PLAIN, NULL, true },
	{ "GET", API "/records/{name}", "record-get", HTTP_R_PLAIN, NULL, false },
	{ "DELETE", API "/records/{name}", "record-delete", HTTP_R_RRSET_DELETE, NULL, false },
	{ "GET", API "/records/{name}/{type}", "record-get", HTTP_R_PLAIN, NULL, false },
	{ "PUT", API "/records/{name}/{type}", "record-replace", HTTP_R_PLAIN, NULL, false },
	{ "DELETE", API "/records/{name}/{type}", "record-delete", HTTP_R_RRSET_DELETE, NULL, false },
	{ "POST", API "/changes", "changes", HTTP_R_PLAIN, NULL, false },
	{ "GET", API "/prefixes", "prefix-list", HTTP_R_LIST, "prefixes", false },
	{ "POST", API "/prefixes", "prefix-add", HTTP_R_PLAIN, NULL, true },
	{ "GET", API "/prefixes/{prefix_address}/{prefix_length}", "prefix-show", HTTP_R_PLAIN, NULL,
	  false },
	{ "DELETE", API "/prefixes/{prefix_address}/{prefix_length}", "prefix-remove", HTTP_R_PLAIN,
	  NULL, false },
	{ "GET", API "/prefixes/{prefix_address}/{prefix_length}/utilization", "utilization",
	  HTTP_R_PLAIN, NULL, false },
	{ "POST", API "/prefixes/{prefix_address}/{prefix_length}/allocations", "alloc-next",
	  HTTP_R_PLAIN, NULL, true },
	{ "GET", API "/ranges", "range-list", HTTP_R_LIST, "ranges", false },
	{ "POST", API "/ranges", "range-add", HTTP_R_PLAIN, NULL, true },
	{ "GET", API "/allocations/{address}", "address-show", HTTP_R_PLAIN, NULL, false },
	{ "PUT", API "/allocations/{address}", "alloc-address", HTTP_R_ALLOC_PUT, NULL, false },
	{ "DELETE", API "/allocations/{address}", "release", HTTP_R_ALLOC_DELETE, NULL, false },
	{ "GET", API "/keys", "key-list", HTTP_R_LIST, "keys", false },
	{ "POST", API "/keys", "key-add", HTTP_R_PLAIN, NULL, true },
	{ "DELETE", API "/keys/{name}", "key-remove", HTTP_R_PLAIN, NULL, false },
	{ "GET", API "/policies", "policy-list", HTTP_R_LIST, "rules", false },
	{ "POST", API "/policies", "policy-add", HTTP_R_PLAIN, NULL, true },
	{ "DELETE", API "/policies/{key}/{index}", "policy-remove", HTTP_R_PLAIN, NULL, false },
	{ "GET", API "/journal", "journal", HTTP_R_LIST, "entries", false },
	{ "GET", API "/tokens", "token-list", HTTP_R_LIST, "tokens", false },
	{ "POST", API "/tokens", "token-add", HTTP_R_PLAIN, NULL, true },
	{ "DELETE", API "/tokens/{name}", "token-remove", HTTP_R_PLAIN, NULL, false },
	{ "GET", API "/roles", "role-list", HTTP_R_LIST, "roles", false },
	{ "POST", API "/roles", "role-add", HTTP_R_PLAIN, NULL, false },
	{ "DELETE", API "/roles/{user}", "role-remove", HTTP_R_PLAIN, NULL, false },
};

#define NROUTES (sizeof(routes) / sizeof(routes[0]))
#define SEGS_MAX 8

void http_routes_write(FILE *out)
{
	for (size_t i = 0; i < NROUTES; i++)
		fprintf(out, "%s %s\n", routes[i].method, routes[i].path);
}

/* Split a path into at most SEGS_MAX segments of buf; -1 when there are more or one is empty. */
static int split(char *buf, char *seg[SEGS_MAX])
{
	int n = 0;
	if (buf[0] != '/')
		return -1;
	for (char *p = buf + 1; *p || n == 0;) {
		char *slash = strchr(p, '/');
		if (n == SEGS_MAX || p == slash || (!slash && !*p))
			return -1;
		seg[n++] = p;
		if (!slash)
			break;
		*slash = '\0';
		p = slash + 1;
		if (!*p)
			return -1;   /* a trailing slash */
	}
	return n;
}

/* Whether route r matches the segments; its parameters into args (NULL: only test). */
static bool match(const struct route *r, char *const seg[], int n, json_t *args)
{
	char pb[128], *ps[SEGS_MAX];
	snprintf(pb, sizeof(pb), "%s", r->path);
	if (split(pb, ps) != n)
		return false;
	for (int i = 0; i < n; i++) {
		size_t l = strlen(ps[i]);
		if (ps[i][0] != '{') {
			if (strcmp(ps[i], seg[i]) != 0)
				return false;
			continue;
		}
		if (!args)
			continue;
		ps[i][l - 1] = '\0';
		const char *param = ps[i] + 1;
		size_t pl = strlen(param);
		if (pl > 8 && strcmp(param + pl - 8, "_address") == 0) {
			char key[64], v[512];
			snprintf(key, sizeof(key), "%.*s", (int)(pl - 8), param);
			snprintf(v, sizeof(v), "%.200s/%.200s", seg[i], i + 1 < n ? seg[i + 1] : "");
			json_object_set_new(args, key, json_string(v));
		} else if (pl <= 7 || strcmp(param + pl - 7, "_length") != 0) {
			json_object_set_new(args, param, json_string(seg[i]));
		}
	}
	return true;
}

static unsigned fail(char *why, size_t wlen, unsigned status, const char *fmt, ...)
	__attribute__((format(printf, 4, 5)));

static unsigned fail(char *why, size_t wlen, unsigned status, const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(why, wlen, fmt, ap);
	va_end(ap);
	return status;
}

/* The page: limit and cursor of the query (an offset, or a journal seq). */
static unsigned page_of(const json_t *query, struct http_call *call, char *why, size_t wlen)
{
	const char *ls = json_string_value(json_object_get(query, "limit"));
	const char *cs = json_string_value(json_object_get(query, "cursor"));
	char *end;
	call->limit = HTTP_PAGE_DEFAULT;
	call->offset = 0;
	if (ls) {
		errno = 0;
		unsigned long v = strtoul(ls, &end, 10);
		if (!ls[0] || *end || errno || ls[0] == '-' || v == 0 || v > HTTP_PAGE_MAX)
			return fail(why, wlen, 400, "limit must be 1 to %d, not '%.32s'", HTTP_PAGE_MAX, ls);
		call->limit = v;
	}
	if (cs) {
		errno = 0;
		unsigned long long v = strtoull(cs, &end, 10);
		if (!cs[0] || *end || errno || cs[0] == '-' || v > (1ull << 62))
			return fail(why, wlen, 400, "not a cursor of this API: '%.32s'", cs);
		call->offset = (size_t)v;
	}
	return 0;
}

unsigned http_route(const char *method, const char *path, const json_t *query, const char *body,
                    size_t len, struct http_call *call, char *why, size_t wlen)
{
	char pb[1024], *seg[SEGS_MAX];
	memset(call, 0, sizeof(*call));
	if (strlen(path) >= sizeof(pb))
		return fail(why, wlen, 404, "no such resource (path longer than %zu bytes)", sizeof(pb) - 1);
	snprintf(pb, sizeof(pb), "%s", path);
	int n = split(pb, seg);
	const struct route *r = NULL;
	bool other_method = false;
	for (size_t i = 0; n > 0 && i < NROUTES && !r; i++) {
		if (!match(&routes[i], seg, n, NULL))
			continue;
		if (strcmp(routes[i].method, method) == 0)
			r = &routes[i];
		else
			other_method = true;
	}
	if (!r)
		return other_method ? fail(why, wlen, 405, "%s is not allowed on this resource", method)
		                    : fail(why, wlen, 404, "no such resource: %.200s (see "
		                           API "/openapi.json)", path);
	call->kind = r->kind;
	call->list = r->list;
	call->created = r->created;
	json_t *args = NULL;
	if (len > 0) {
		json_error_t je;
		args = json_loadb(body, len, JSON_REJECT_DUPLICATES, &je);
		if (!json_is_object(args)) {
			json_decref(args);
			return fail(why, wlen, 400, "the body must be a JSON object: %s",
			            args ? "not an object" : je.text);
		}
	}
	if (r->kind == HTTP_R_OPENAPI) {
		json_decref(args);
		return 0;
	}
	if (r->kind == HTTP_R_COMMAND) {
		if (!args || !json_is_string(json_object_get(args, "command"))) {
			json_decref(args);
			return fail(why, wlen, 400, "the body must be {\"command\": ..., \"arguments\": "
			            "{...}}");
		}
		call->request = args;
		return 0;
	}
	if (!args && !(args = json_object()))
		return fail(why, wlen, 500, "out of memory");
	const char *k;
	json_t *v;
	json_object_foreach((json_t *)query, k, v) {
		if (strcmp(k, "limit") != 0 && strcmp(k, "cursor") != 0 && json_is_string(v))
			json_object_set(args, k, v);
	}
	match(r, seg, n, args);
	unsigned st = r->kind == HTTP_R_LIST ? page_of(query, call, why, wlen) : 0;
	if (r->kind == HTTP_R_LIST && strcmp(r->command, "record-list") == 0 && st == 0) {
		/* the zone walk stops one record past the page: a page costs its offset, not the zone */
		json_object_set_new(args, "limit", json_integer((json_int_t)(call->offset + call->limit + 1)));
		call->capped = true;
	}
	if (r->kind == HTTP_R_LIST && strcmp(r->command, "journal") == 0 && st == 0) {
		/* the journal pages by seq: the cursor is the next seq to read */
		json_object_set_new(args, "since", json_integer((json_int_t)(call->offset ? call->offset : 1)));
		json_object_set_new(args, "limit", json_integer((json_int_t)call->limit));
	}
	call->request = st ? NULL : json_pack("{s:s, s:o}", "command", r->command, "arguments", args);
	if (st)
		json_decref(args);
	else if (!call->request)
		return fail(why, wlen, 500, "out of memory");
	return st;
}

unsigned http_status_of(const struct http_call *call, const json_t *reply)
{
	json_int_t r = json_integer_value(json_object_get(reply, "result"));
	const char *t = json_string_value(json_object_get(reply, "text"));
	if (!reply)
		return 500;
	if (r == CMD_OK)
		return call->created ? 201 : 200;
	if (r == CMD_EMPTY)
		return call->kind == HTTP_R_LIST ? 200 : 404;
	if (r == CMD_UNSUPPORTED)
		return t && strncmp(t, "unknown command", 15) == 0 ? 501 : 400;
	if (!t)
		return 400;
	if (strstr(t, "access denied"))
		return 403;
	if (strstr(t, " exists") || strstr(t, "already allocated") || strstr(t, "allocated to"))
		return 409;
	if (strncmp(t, "no ", 3) == 0 || strstr(t, "not found") || strstr(t, ": no such") ||
	    strstr(t, "no zone"))
		return 404;
	return 400;
}

/* ------------------------------------------------------------------------ */
/* The server                                                               */
/* ------------------------------------------------------------------------ */

struct http {
	struct http_conf conf;
	struct MHD_Daemon *d;
	char *cert, *key;
	struct http_stats st;
};

/* One request's state across libmicrohttpd's calls: the body as it arrives. */
struct hreq {
	char *body;
	size_t len, cap;
	bool too_large;
	bool answered;             /* a response is queued (413 before the body's end) */
};

#define INC(h, f) __atomic_fetch_add(&(h)->st.f, 1, __ATOMIC_RELAXED)

static enum MHD_Result send_json(struct http *h, struct MHD_Connection *conn, unsigned status,
                                 json_t *body)
{
	char *text = body ? json_dumps(body, JSON_COMPACT) : NULL;
	json_decref(body);
	if (!text)
		return MHD_NO;
	size_t n = strlen(text);
	char *t2 = realloc(text, n + 2);   /* a final newline, as the control socket ends a reply */
	if (t2) {
		text = t2;
		text[n++] = '\n';
		text[n] = '\0';
	}
	if (status >= 500)
		INC(h, server_errors);
	else if (status >= 400)
		INC(h, client_errors);
	else
		INC(h, ok);
	struct MHD_Response *r = MHD_create_response_from_buffer(n, text, MHD_RESPMEM_MUST_FREE);
	if (!r) {
		free(text);
		return MHD_NO;
	}
	MHD_add_response_header(r, "Content-Type", "application/json");
	if (status == 401)
		MHD_add_response_header(r, "WWW-Authenticate", "Bearer realm=\"ddiplane\"");
	enum MHD_Result ret = MHD_queue_response(conn, status, r);
	MHD_destroy_response(r);
	return ret;
}

static enum MHD_Result send_error(struct http *h, struct MHD_Connection *conn, unsigned status,
                                  const char *reason)
{
	return send_json(h, conn, status, json_pack("{s:{s:i, s:s}}", "error", "status", (int)status,
	                                            "reason", reason));
}

static enum MHD_Result query_cb(void *cls, enum MHD_ValueKind kind, const char *key,
                                const char *value)
{
	(void)kind;
	if (json_object_size(cls) < 32 && value)   /* bounded: a page or a filter needs few */
		json_object_set_new(cls, key, json_string(value));
	return MHD_YES;
}

/* Run one command as the principal; a change waits for its publication. */
static json_t *run(struct http *h, const struct auth_principal *p, const json_t *req,
                   uint64_t *seq, bool *published)
{
	struct cmd_ctx ctx = { .store = h->conf.store, .actor = p->actor, .role = CMD_ROLE_NONE,
	                       .principal = p, .hooks = h->conf.hooks };
	json_t *reply = cmd_exec(&ctx, req, seq);
	*published = true;
	if (*seq == 0 || !h->conf.ctl)
		return reply;
	INC(h, changes);
	ctl_wake(h->conf.ctl);
	unsigned wait = h->conf.wait_ms ? h->conf.wait_ms : HTTP_WAIT_MS_DEFAULT;
	for (unsigned waited = 0; ctl_published_seq(h->conf.ctl) < *seq; waited++) {
		if (waited >= wait * 4) {   /* 250 us a turn */
			*published = false;
			INC(h, unpublished);
			break;
		}
		struct timespec ts = { 0, 250000 };
		nanosleep(&ts, NULL);
	}
	return reply;
}

/* A second command of an idempotent route (its precheck), as the same principal. */
static json_t *run_cmd(struct http *h, const struct auth_principal *p, const char *command,
                       json_t *args)
{
	uint64_t seq = 0;
	bool pub;
	json_t *req = json_pack("{s:s, s:O}", "command", command, "arguments", args);
	json_t *reply = req ? run(h, p, req, &seq, &pub) : NULL;
	json_decref(req);
	return reply;
}

static bool names_equal(const char *a, const char *b)
{
	size_t la = strlen(a), lb = strlen(b);
	la -= la && a[la - 1] == '.';
	lb -= lb && b[lb - 1] == '.';
	return la == lb && strncasecmp(a, b, la) == 0;
}

/*
 * The idempotent routes: the reply when the change is already there (no
 * change: 200, "changed": false) or conflicts (409); NULL to go on.
 */
static json_t *precheck(struct http *h, const struct auth_principal *p, struct http_call *call,
                        unsigned *status)
{
	json_t *args = json_object_get(call->request, "arguments");
	json_t *reply = NULL, *out = NULL;
	*status = 200;
	if (call->kind == HTTP_R_RRSET_DELETE) {
		reply = run_cmd(h, p, "record-get", args);
		if (json_integer_value(json_object_get(reply, "result")) == CMD_EMPTY)
			out = json_pack("{s:b, s:s}", "changed", 0, "message", "no such RRset: nothing to delete");
	} else if (call->kind == HTTP_R_ALLOC_PUT || call->kind == HTTP_R_ALLOC_DELETE) {
		reply = run_cmd(h, p, "address-show", args);
		json_t *al = json_object_get(json_object_get(reply, "arguments"), "allocation");
		const char *have = json_string_value(json_object_get(al, "name"));
		const char *want = json_string_value(json_object_get(args, "name"));
		if (call->kind == HTTP_R_ALLOC_DELETE && json_is_null(al))
			out = json_pack("{s:b, s:s}", "changed", 0, "message", "not allocated: nothing to release");
		else if (call->kind == HTTP_R_ALLOC_PUT && have && want && names_equal(have, want))
			out = json_pack("{s:b, s:s, s:O}", "changed", 0, "message",
			                "allocated to that name already", "allocation", al);
		else if (call->kind == HTTP_R_ALLOC_PUT && json_is_object(al)) {
			*status = 409;
			out = json_pack("{s:{s:i, s:s}}", "error", "status", 409, "reason",
			                "the address is allocated to another name (or has none): release it first");
		}
	}
	json_decref(reply);
	return out;
}

/* The reply to a list: one page of its array. */
static json_t *page(const struct http_call *call, json_t *args)
{
	json_t *arr = json_object_get(args, call->list);
	size_t n = json_array_size(arr);
	json_t *items = json_array(), *next = json_null();
	bool journal = json_is_object(json_array_get(arr, 0)) &&
	               json_object_get(json_array_get(arr, 0), "seq") && strcmp(call->list, "entries") == 0;
	if (journal) {   /* the command read at most `limit` entries from the cursor's seq */
		json_array_extend(items, arr);
		json_int_t last = json_integer_value(json_object_get(json_array_get(arr, n - 1), "seq"));
		if (n >= call->limit)
			next = json_sprintf("%" JSON_INTEGER_FORMAT, last + 1);
	} else {
		for (size_t i = call->offset; i < n && i < call->offset + call->limit; i++)
			json_array_append(items, json_array_get(arr, i));
		if (call->offset + call->limit < n)
			next = json_sprintf("%zu", call->offset + call->limit);
	}
	json_object_set_new(args, call->list, items);
	json_object_set_new(args, "next_cursor", next);
	json_object_set_new(args, "total", journal || call->capped ? json_null()
	                                                           : json_integer((json_int_t)n));
	return args;
}

static enum MHD_Result serve(struct http *h, struct MHD_Connection *conn, const char *url,
                             const char *method, struct hreq *rq)
{
	char why[512];
	struct http_call call;
	INC(h, requests);
	if (rq->too_large) {
		INC(h, too_large);
		snprintf(why, sizeof(why), "the body is larger than %zu bytes", h->conf.max_body);
		return send_error(h, conn, 413, why);
	}
	json_t *query = json_object();
	MHD_get_connection_values(conn, MHD_GET_ARGUMENT_KIND, query_cb, query);
	unsigned st = http_route(method, url, query, rq->body, rq->len, &call, why, sizeof(why));
	json_decref(query);
	if (st)
		return send_error(h, conn, st, why);
	if (call.kind == HTTP_R_OPENAPI) {
		json_t *doc = json_loadb(ddi_openapi_json, ddi_openapi_json_len, 0, NULL);
		return doc ? send_json(h, conn, 200, doc) : send_error(h, conn, 500, "no document");
	}
	/* the principal: a bearer token, looked up in the store for every request */
	const char *authz = MHD_lookup_connection_value(conn, MHD_HEADER_KIND, "Authorization");
	struct auth_principal *p = malloc(sizeof(*p));
	if (!p) {
		json_decref(call.request);
		return send_error(h, conn, 500, "out of memory");
	}
	if (!authz || strncasecmp(authz, "Bearer ", 7) != 0 ||
	    auth_token_principal(h->conf.store, authz + 7, p, why, sizeof(why)) != DDI_EOK) {
		free(p);
		json_decref(call.request);
		INC(h, unauthorized);
		return send_error(h, conn, 401, authz ? "unknown or revoked token"
		                                     : "Authorization: Bearer TOKEN required "
		                                       "(ddictl token add)");
	}
	/* the idempotent routes look before they change, once the principal may change it */
	json_t *req_args = json_object_get(call.request, "arguments");
	const char *req_cmd = json_string_value(json_object_get(call.request, "command"));
	json_t *out = call.kind == HTTP_R_PLAIN || call.kind == HTTP_R_LIST || !req_cmd ||
	              !auth_allow(p, req_cmd, cmd_role_needed(req_cmd), req_args, why, sizeof(why))
	                      ? NULL : precheck(h, p, &call, &st);
	if (out) {
		free(p);
		json_decref(call.request);
		return send_json(h, conn, st, out);
	}
	uint64_t seq = 0;
	bool published;
	json_t *reply = run(h, p, call.request, &seq, &published);
	free(p);
	json_decref(call.request);
	st = http_status_of(&call, reply);
	const char *text = json_string_value(json_object_get(reply, "text"));
	if (st >= 400) {
		if (st == 403)
			INC(h, forbidden);
		enum MHD_Result ret = send_error(h, conn, st, text ? text : "out of memory");
		json_decref(reply);
		return ret;
	}
	json_t *args = json_incref(json_object_get(reply, "arguments"));
	if (!args)
		args = json_object();
	if (call.kind == HTTP_R_LIST)
		args = page(&call, args);
	json_object_set_new(args, "message", json_string(text ? text : ""));
	if (seq) {
		json_object_set_new(args, "seq", json_integer((json_int_t)seq));
		json_object_set_new(args, "published", json_boolean(published));
	}
	json_decref(reply);
	return send_json(h, conn, st, args);
}

/*
 * A body over max_body is refused as soon as it is known to be too large,
 * without reading the rest, so that a stranger cannot keep a thread busy
 * reading garbage: a Content-Length over the bound is answered 413 before
 * the body is read; a chunked body that passes the bound gets its
 * connection closed (libmicrohttpd takes no response in the middle of an
 * upload).
 */
static enum MHD_Result handler(void *cls, struct MHD_Connection *conn, const char *url,
                               const char *method, const char *version, const char *upload,
                               size_t *upload_size, void **con_cls)
{
	struct http *h = cls;
	struct hreq *rq = *con_cls;
	(void)version;
	if (!rq) {
		if (!(rq = calloc(1, sizeof(*rq))))
			return MHD_NO;
		*con_cls = rq;
		const char *cl = MHD_lookup_connection_value(conn, MHD_HEADER_KIND, "Content-Length");
		if (cl && strtoull(cl, NULL, 10) > h->conf.max_body) {
			rq->too_large = rq->answered = true;
			return serve(h, conn, url, method, rq);
		}
		return MHD_YES;
	}
	if (rq->answered) {
		*upload_size = 0;   /* answered already: what still comes is dropped */
		return MHD_YES;
	}
	if (*upload_size) {
		size_t n = *upload_size;
		*upload_size = 0;
		if (rq->len + n > h->conf.max_body) {
			rq->too_large = rq->answered = true;
			free(rq->body);
			rq->body = NULL;
			rq->len = rq->cap = 0;
			return serve(h, conn, url, method, rq);
		}
		if (rq->len + n > rq->cap) {
			size_t nc = rq->cap ? rq->cap : 4096;
			while (nc < rq->len + n)
				nc *= 2;
			char *nb = realloc(rq->body, nc);
			if (!nb)
				return MHD_NO;
			rq->body = nb;
			rq->cap = nc;
		}
		memcpy(rq->body + rq->len, upload, n);
		rq->len += n;
		return MHD_YES;
	}
	return serve(h, conn, url, method, rq);
}

static void completed(void *cls, struct MHD_Connection *conn, void **con_cls,
                      enum MHD_RequestTerminationCode toe)
{
	(void)cls, (void)conn, (void)toe;
	struct hreq *rq = *con_cls;
	if (rq) {
		free(rq->body);
		free(rq);
	}
	*con_cls = NULL;
}

static bool loopback(const struct sockaddr_storage *ss)
{
	if (ss->ss_family == AF_INET)
		return (ntohl(((const struct sockaddr_in *)ss)->sin_addr.s_addr) >> 24) == 127;
	return IN6_IS_ADDR_LOOPBACK(&((const struct sockaddr_in6 *)ss)->sin6_addr);
}

/* A whole PEM file (at most 1 MiB) as a string. */
static char *read_pem(const char *path, char *err, size_t errlen, int *rc)
{
	FILE *f = fopen(path, "r");
	char *buf = NULL;
	struct stat sb;
	if (!f || fstat(fileno(f), &sb) != 0 || sb.st_size <= 0 || sb.st_size > (1 << 20) ||
	    !(buf = calloc(1, (size_t)sb.st_size + 1)) ||
	    fread(buf, 1, (size_t)sb.st_size, f) != (size_t)sb.st_size) {
		*rc = errno ? -errno : DDI_EINVAL;
		snprintf(err, errlen, "%s: %s", path, errno ? strerror(errno) : "empty or over 1 MiB");
		free(buf);
		buf = NULL;
	}
	if (f)
		fclose(f);
	return buf;
}

int http_start(struct http **out, const struct http_conf *conf, char *err, size_t errlen)
{
	struct sockaddr_storage ss;
	int rc = DDI_EINVAL;
	if (metrics_parse_addr(conf->listen, &ss) < 0) {
		snprintf(err, errlen, "--http '%s': give IP:PORT, e.g. 127.0.0.1:8053 or [::1]:8053",
		         conf->listen);
		return DDI_EINVAL;
	}
	if (!conf->cert != !conf->key) {
		snprintf(err, errlen, "--http-cert and --http-key go together");
		return DDI_EINVAL;
	}
	if (!conf->cert && !loopback(&ss)) {
		snprintf(err, errlen, "--http %s: plain HTTP only on a loopback address; give "
		         "--http-cert and --http-key for HTTPS", conf->listen);
		return DDI_EINVAL;
	}
	struct http *h = calloc(1, sizeof(*h));
	if (!h)
		return DDI_ENOMEM;
	h->conf = *conf;
	if (!h->conf.max_body)
		h->conf.max_body = HTTP_MAX_BODY_DEFAULT;
	if (conf->cert && (!(h->cert = read_pem(conf->cert, err, errlen, &rc)) ||
	                   !(h->key = read_pem(conf->key, err, errlen, &rc)))) {
		free(h->cert);
		free(h);
		return rc;
	}
	unsigned flags = MHD_USE_INTERNAL_POLLING_THREAD | MHD_USE_THREAD_PER_CONNECTION |
	                 MHD_USE_ERROR_LOG | (h->cert ? MHD_USE_TLS : 0) |
	                 (ss.ss_family == AF_INET6 ? MHD_USE_IPv6 : 0);
	uint16_t port = ss.ss_family == AF_INET6 ? ntohs(((struct sockaddr_in6 *)&ss)->sin6_port)
	                                         : ntohs(((struct sockaddr_in *)&ss)->sin_port);
	unsigned conns = conf->max_conns ? conf->max_conns : HTTP_MAX_CONNS_DEFAULT;
	unsigned tmo = conf->timeout_s ? conf->timeout_s : HTTP_TIMEOUT_S_DEFAULT;
	struct MHD_OptionItem tls[] = {
		{ h->cert ? MHD_OPTION_HTTPS_MEM_CERT : MHD_OPTION_END, 0, h->cert },
		{ MHD_OPTION_HTTPS_MEM_KEY, 0, h->key },
		{ MHD_OPTION_END, 0, NULL },
	};
	h->d = MHD_start_daemon(flags, port, NULL, NULL, handler, h, MHD_OPTION_SOCK_ADDR,
	                        (struct sockaddr *)&ss, MHD_OPTION_CONNECTION_LIMIT, conns,
	                        MHD_OPTION_PER_IP_CONNECTION_LIMIT, HTTP_PER_IP_CONNS,
	                        MHD_OPTION_CONNECTION_TIMEOUT, tmo,
	                        MHD_OPTION_CONNECTION_MEMORY_LIMIT, (size_t)HTTP_HEADER_MEMORY,
	                        MHD_OPTION_NOTIFY_COMPLETED, completed, h,
	                        MHD_OPTION_ARRAY, tls, MHD_OPTION_END);
	if (!h->d) {
		snprintf(err, errlen, "--http %s: cannot serve there (address in use, not local, or "
		         "a certificate or key GnuTLS does not take)", conf->listen);
		free(h->cert);
		free(h->key);
		free(h);
		return DDI_EIO;
	}
	*out = h;
	return DDI_EOK;
}

void http_stop(struct http *h)
{
	if (!h)
		return;
	MHD_stop_daemon(h->d);
	free(h->cert);
	if (h->key) {
		explicit_bzero(h->key, strlen(h->key));
		free(h->key);
	}
	free(h);
}

#define LD(f) __atomic_load_n(&h->st.f, __ATOMIC_RELAXED)

void http_get_stats(struct http *h, struct http_stats *st)
{
	st->requests = LD(requests);
	st->ok = LD(ok);
	st->changes = LD(changes);
	st->client_errors = LD(client_errors);
	st->unauthorized = LD(unauthorized);
	st->forbidden = LD(forbidden);
	st->too_large = LD(too_large);
	st->server_errors = LD(server_errors);
	st->unpublished = LD(unpublished);
}

void http_metrics_write(struct http *h, FILE *out)
{
	struct http_stats s;
	struct auth_stats a;
	if (!h)
		return;
	http_get_stats(h, &s);
	auth_get_stats(&a);
	fprintf(out,
	        "# HELP ddiplane_http_requests_total API requests by outcome.\n"
	        "# TYPE ddiplane_http_requests_total counter\n"
	        "ddiplane_http_requests_total{outcome=\"ok\"} %" PRIu64 "\n"
	        "ddiplane_http_requests_total{outcome=\"unauthorized\"} %" PRIu64 "\n"
	        "ddiplane_http_requests_total{outcome=\"forbidden\"} %" PRIu64 "\n"
	        "ddiplane_http_requests_total{outcome=\"too_large\"} %" PRIu64 "\n"
	        "ddiplane_http_requests_total{outcome=\"client_error\"} %" PRIu64 "\n"
	        "ddiplane_http_requests_total{outcome=\"server_error\"} %" PRIu64 "\n"
	        "# HELP ddiplane_http_changes_total API requests that committed a change.\n"
	        "# TYPE ddiplane_http_changes_total counter\n"
	        "ddiplane_http_changes_total %" PRIu64 "\n"
	        "# HELP ddiplane_http_unpublished_total Changes answered before their publication.\n"
	        "# TYPE ddiplane_http_unpublished_total counter\n"
	        "ddiplane_http_unpublished_total %" PRIu64 "\n"
	        "# HELP ddiplane_auth_refused_total Requests refused for a principal's role or scope.\n"
	        "# TYPE ddiplane_auth_refused_total counter\n"
	        "ddiplane_auth_refused_total %" PRIu64 "\n"
	        "# HELP ddiplane_auth_refusal_notes_total Refusals noted in the journal.\n"
	        "# TYPE ddiplane_auth_refusal_notes_total counter\n"
	        "ddiplane_auth_refusal_notes_total %" PRIu64 "\n",
	        s.ok, s.unauthorized, s.forbidden, s.too_large,
	        s.client_errors - s.unauthorized - s.forbidden - s.too_large, s.server_errors,
	        s.changes, s.unpublished, a.refused, a.noted);
}
