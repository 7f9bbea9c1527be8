/* cmd -- the reply every control command makes (control/cmd.h) */
#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#include "control/cmd.h"
#include "control/log.h"

/*
 * Messages quote hostile text (a zone file's token, a name), often cut to a
 * length in bytes that may split a UTF-8 sequence; jansson refuses a string
 * that is not UTF-8, which would leave the reply without its "text". Every
 * byte that does not start a complete, well-formed sequence becomes '?'.
 */
static void utf8_mend(char *s)
{
	unsigned char *p = (unsigned char *)s;
	while (*p) {
		int n = *p < 0x80 ? 1 : (*p >> 5) == 0x6 ? 2 : (*p >> 4) == 0xe ? 3 :
		        (*p >> 3) == 0x1e ? 4 : 0;
		int k = 1;
		while (k < n && (p[k] & 0xc0) == 0x80)
			k++;
		/* overlong 2-byte forms (C0, C1) and anything incomplete are not UTF-8 */
		if (n == 0 || k < n || *p == 0xc0 || *p == 0xc1 || *p > 0xf4) {
			*p++ = '?';
			continue;
		}
		p += n;
	}
}

json_t *cmd_reply(enum cmd_result r, json_t *arguments, const char *fmt, ...)
{
	char msg[1024];
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	utf8_mend(msg);
	json_t *o = json_object();
	if (!o) {
		json_decref(arguments);
		return NULL;
	}
	json_object_set_new(o, "result", json_integer(r));
	json_t *text = json_string(msg);
	/* what jansson still refuses (surrogates, overlong 3/4-byte forms): say so, in ASCII */
	json_object_set_new(o, "text", text ? text : json_string("(message not valid UTF-8)"));
	if (arguments)
		json_object_set_new(o, "arguments", arguments);
	return o;
}

uint64_t cmd_count_lines(const char *text, size_t len)
{
	uint64_t n = 0;
	for (const char *p = text, *end = text + len; p < end && (p = memchr(p, '\n', (size_t)(end - p)));
	     p++)
		n++;
	return n + (len && text[len - 1] != '\n');
}

void cmd_log_refused(const char *actor, const char *command, const char *needs, const char *has)
{
	static struct ddi_log_limit limit;
	if (ddi_log_limit_take(&limit, CMD_LOG_REFUSED_PER_SEC))
		ddi_log(LOG_SUB_MGMT, LOG_LVL_INFO, actor ? actor : "?", "%s refused: needs the %s "
		        "role, the peer has %s", command, needs, has);
}

bool cmd_sees_name(const struct cmd_ctx *ctx, const uint8_t *name)
{
	if (!ctx->principal)
		return true;
	return ctx->scope && ctx->scope->name(ctx->principal, name);
}

bool cmd_sees_prefix(const struct cmd_ctx *ctx, int family, const uint8_t addr[16], unsigned plen)
{
	if (!ctx->principal)
		return true;
	return ctx->scope && ctx->scope->prefix(ctx->principal, family, addr, plen);
}

bool cmd_scoped(const struct cmd_ctx *ctx)
{
	return ctx->principal && (!ctx->scope || ctx->scope->scoped(ctx->principal));
}
