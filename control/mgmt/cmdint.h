/* cmdint -- what the mgmt room's command files share: a request, its arguments, the replies */
#ifndef DDI_CONTROL_MGMT_CMDINT_H
#define DDI_CONTROL_MGMT_CMDINT_H

#include <stdbool.h>
#include <stdint.h>

#include <jansson.h>

#include "control/cmd.h"
#include "dns/name.h"

struct store_error;

/*
 * Private to control/mgmt (commands.c and keycmd.c): other rooms export
 * their own command tables (control/cmd.h) and never include this.
 */

/* One request being served: the caller's context, its arguments, the first error. */
struct req {
	const struct cmd_ctx *ctx;
	const json_t *args;        /* object, possibly empty */
	char err[1024];
};

/* The reply for a request whose arguments failed: q->err as the text. */
#define FAIL(q) cmd_reply(CMD_ERROR, NULL, "%s", (q)->err)

/*
 * Arguments: NULL/false with q->err set when required and missing or of
 * the wrong JSON type. A name is absolute, a missing final dot implied.
 */
const char *arg_str(struct req *r, const char *key, bool required);
bool arg_name(struct req *r, const char *key, uint8_t out[DNS_NAME_MAXLEN], bool required,
              bool *given);
bool arg_type(struct req *r, const char *key, uint16_t *type, bool required);
bool arg_u64(struct req *r, const char *key, uint64_t *out, bool required);

/* A store error as a reply (a secondary zone's refusal names its primaries). */
json_t *store_err_q(const struct cmd_ctx *ctx, const struct store_error *e, int rc);
/* A change's reply: `args` (may be NULL) with "seq", the text from fmt. */
json_t *changed(uint64_t seq, json_t *args, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));
/* A name as text into buf ("?" when it cannot be). */
const char *name_str(char buf[DNS_NAME_STRLEN], const uint8_t *name);
/* Nanoseconds since 1970 as "YYYY-MM-DDTHH:MM:SSZ". */
void fmt_time(char *buf, size_t len, int64_t ns);

/* The key and policy commands (keycmd.c), in commands.c's table. */
json_t *c_key_add(struct req *q, uint64_t *seq);
json_t *c_key_list(struct req *q, uint64_t *seq);
json_t *c_key_remove(struct req *q, uint64_t *seq);
json_t *c_policy_add(struct req *q, uint64_t *seq);
json_t *c_policy_list(struct req *q, uint64_t *seq);
json_t *c_policy_remove(struct req *q, uint64_t *seq);

#endif
