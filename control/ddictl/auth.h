/* ddictl_auth -- ddictl's token and role subcommands: API tokens and scoped roles of Unix users */
#ifndef DDI_CONTROL_DDICTL_AUTH_H
#define DDI_CONTROL_DDICTL_AUTH_H

#include <stdbool.h>

#include <jansson.h>

struct ctl;

/* Build the request of token-add/-list/-remove or role-add/-list/-remove; 0 or 2 (usage). */
int ddictl_auth_build(struct ctl *c, int argc, char **argv, json_t **req, const char **cmd);

/* Print the reply of one of them; false when cmd is not one. */
bool ddictl_auth_print(const char *cmd, const json_t *reply);

extern const char ddictl_help_token_add[], ddictl_help_token_list[], ddictl_help_token_remove[],
	ddictl_help_role_add[], ddictl_help_role_list[], ddictl_help_role_remove[];

#endif
