/* cmd -- the reply every control command makes (control/cmd.h) */
#include <stdarg.h>
#include <stdio.h>

#include "control/cmd.h"

json_t *cmd_reply(enum cmd_result r, json_t *arguments, const char *fmt, ...)
{
	char msg[1024];
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	json_t *o = json_object();
	if (!o) {
		json_decref(arguments);
		return NULL;
	}
	json_object_set_new(o, "result", json_integer(r));
	json_object_set_new(o, "text", json_string(msg));
	if (arguments)
		json_object_set_new(o, "arguments", arguments);
	return o;
}
