/* SPDX-License-Identifier: GPL-2.0 */
/* The sub-commands, one file each. */
#ifndef KMS_CMDS_H
#define KMS_CMDS_H

#include "cli.h"

extern const struct cli_cmd cmd_probes;
extern const struct cli_cmd cmd_top;
extern const struct cli_cmd cmd_summary;
extern const struct cli_cmd cmd_leaks;
extern const struct cli_cmd cmd_check;
extern const struct cli_cmd cmd_frag;
extern const struct cli_cmd cmd_record;
extern const struct cli_cmd cmd_report;
extern const struct cli_cmd cmd_version;
extern const struct cli_cmd cmd_agent;

/* Shared by commands that trace: session options from the parsed CLI
 * (cmdopts.c). */
struct session_opts;
void cmds__session_opts(const struct cli_opts *o, struct session_opts *so);
/* On a terminal (not --json): "tracing for N s..." or "tracing the command...". */
void cmds__say_tracing(const struct cli_opts *o);

#endif
