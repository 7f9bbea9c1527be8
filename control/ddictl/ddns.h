/* ddictl_ddns -- the --help of ddictl's TSIG key and update-policy subcommands */
#ifndef DDI_CONTROL_DDICTL_DDNS_H
#define DDI_CONTROL_DDICTL_DDNS_H

/* Man-page style texts of key add/list/remove and policy add/list/remove. */
extern const char ddictl_help_kadd[], ddictl_help_klist[], ddictl_help_kremove[],
	ddictl_help_padd[], ddictl_help_plist[], ddictl_help_premove[];

#endif
