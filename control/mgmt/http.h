/* http -- the automation API: REST-shaped JSON resources over the command table, HTTPS with bearer tokens (libmicrohttpd) */
#ifndef DDI_CONTROL_MGMT_HTTP_H
#define DDI_CONTROL_MGMT_HTTP_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#include <jansson.h>

#include "control/cmd.h"

/*
 * Every resource is a command of the table (control/mgmt/commands.c) run
 * as the token's principal (control/mgmt/auth.h): the same checks, the
 * same journal, the same replies as the control socket. The document of
 * the API is control/mgmt/openapi.json, served at GET /api/v1/openapi.json
 * (the one path that needs no token); tests/integration/openapi_check.py
 * checks that it and the route table below agree.
 *
 * Requests: "Authorization: Bearer ddi_NAME_HEX" (ddictl token add); a
 * JSON object body for POST and PUT (its members become the command's
 * arguments; path parameters win over them); query parameters become
 * arguments too, except `limit` and `cursor`, which page a list: at most
 * `limit` items (default HTTP_PAGE_DEFAULT, at most HTTP_PAGE_MAX) from
 * the opaque `cursor` of the previous page; the reply's "next_cursor" is
 * null on the last page, and "total" the length of the whole list (null
 * where the command reads only up to the page: the journal, a zone's
 * records).
 *
 * Replies: the command's "arguments" with its "text" as "message"; a
 * change also carries "seq" and "published" (the reply waits, at most
 * wait_ms, until the workers answer from a version holding it, as the
 * socket does). Errors: {"error": {"status": N, "reason": "..."}} with
 * 400 (bad request), 401 (no token, unknown or revoked token), 403
 * (outside the principal's role or scope), 404 (no such resource), 405,
 * 409 (exists, or allocated to another name), 413 (body too large), 501
 * (a command this build has not got).
 *
 * Idempotent for configuration tools: PUT /records/{name}/{type} replaces
 * the RRset (the same PUT again is no change and journals nothing), DELETE
 * of a missing RRset or allocation is 200 with "changed": false, PUT
 * /allocations/{address} of an address already allocated to that name is
 * 200 with "changed": false (another name: 409).
 *
 * Bounds: body max_body bytes (a larger Content-Length is answered 413
 * before the body is read; a chunked body that passes the bound has its
 * connection closed), request headers HTTP_HEADER_MEMORY bytes,
 * max_conns connections (a thread each) and HTTP_PER_IP_CONNS per client
 * address, timeout_s of inactivity per connection.
 */

#define HTTP_PAGE_DEFAULT 100
#define HTTP_PAGE_MAX 1000
#define HTTP_MAX_BODY_DEFAULT ((size_t)4 << 20)
#define HTTP_HEADER_MEMORY (64u << 10)
#define HTTP_MAX_CONNS_DEFAULT 64u
#define HTTP_PER_IP_CONNS 32u
#define HTTP_TIMEOUT_S_DEFAULT 10u
#define HTTP_WAIT_MS_DEFAULT 2000u

/* What a route does beyond running its command. */
enum http_route_kind {
	HTTP_R_PLAIN = 0,          /* run the command */
	HTTP_R_LIST,               /* run it, page the array `list` of its arguments */
	HTTP_R_RRSET_DELETE,       /* idempotent: a missing RRset is no change */
	HTTP_R_ALLOC_PUT,          /* idempotent: allocated to that name already is no change */
	HTTP_R_ALLOC_DELETE,       /* idempotent: not allocated is no change */
	HTTP_R_OPENAPI,            /* the document, no token needed */
	HTTP_R_COMMAND,            /* the body is a whole request {"command", "arguments"} */
};

/* A request mapped onto the command table. */
struct http_call {
	enum http_route_kind kind;
	const char *list;          /* HTTP_R_LIST: the arguments' array to page */
	bool created;              /* 201 on success (POST that creates) */
	json_t *request;           /* {"command": ..., "arguments": {...}}, new reference */
	size_t limit, offset;      /* the page */
	bool capped;               /* the command read only up to the page's end: no total */
};

/*
 * Map (method, path, query, body) to a call: 0, or the HTTP status (400,
 * 404, 405, 413) with the reason in why. `query` is an object of strings
 * (may be NULL); `body`/`len` the request body (may be empty). Pure: no
 * store, no I/O (tests/fuzz/fuzz_http.c drives it).
 */
unsigned http_route(const char *method, const char *path, const json_t *query, const char *body,
                    size_t len, struct http_call *call, char *why, size_t wlen);

/* The HTTP status of a command's reply made for `call` (200 and 201 for success). */
unsigned http_status_of(const struct http_call *call, const json_t *reply);

/* Every route as "METHOD /api/v1/path/{param}" lines, for the OpenAPI check (ddiplane --http-routes). */
void http_routes_write(FILE *out);

struct store;
struct ctl;
struct http;

struct http_conf {
	const char *listen;        /* "IP:PORT" or "[IPv6]:PORT" */
	const char *cert, *key;    /* PEM files; both or neither: then listen must be loopback */
	struct store *store;
	struct ctl *ctl;           /* woken after commits, waited for; may be NULL */
	const struct cmd_hooks *hooks;
	size_t max_body;           /* 0: HTTP_MAX_BODY_DEFAULT */
	unsigned max_conns;        /* 0: HTTP_MAX_CONNS_DEFAULT */
	unsigned timeout_s;        /* 0: HTTP_TIMEOUT_S_DEFAULT */
	unsigned wait_ms;          /* 0: HTTP_WAIT_MS_DEFAULT */
};

/* Counters, relaxed atomics. */
struct http_stats {
	uint64_t requests, ok, changes, client_errors, unauthorized, forbidden, too_large,
	         server_errors, unpublished;
};

/*
 * Start serving (libmicrohttpd's threads). Errors: DDI_EINVAL (address,
 * plain HTTP on an address that is not loopback, one of cert/key; the
 * message in err), -errno (reading cert/key), DDI_EIO (cannot listen).
 */
int http_start(struct http **out, const struct http_conf *conf, char *err, size_t errlen);
void http_stop(struct http *h);
void http_get_stats(struct http *h, struct http_stats *st);

/* The API's series for /metrics (ddiplane_http_requests_total{outcome}). */
void http_metrics_write(struct http *h, FILE *out);

#endif
