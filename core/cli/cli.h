/* Shared pieces of the command-line front end (argument parsing only; the
 * work happens in core/src). */
#ifndef MLG_CLI_H
#define MLG_CLI_H

#include <stddef.h>

#include "report.h"

#define CLI_MAX_OUTPUTS 8
#define CLI_MAX_DIRS 32

typedef struct cli_output {
  const char *format; /* writer name */
  const char *file;   /* NULL = stdout */
} cli_output;

typedef struct cli_outputs {
  cli_output items[CLI_MAX_OUTPUTS];
  size_t len;
} cli_outputs;

/* Prints "mlgate: <message>" and a hint to stderr; returns 2. */
int cli_usage_error(const char *cmd, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

/* Parses "F[:FILE]" into outs, checking F against the names allowed. */
int cli_add_output(cli_outputs *outs, const char *spec, const char *const *allowed,
                   const char *cmd);

/* Writes buf to the output's file (or stdout). Returns 0 or 2. */
int cli_emit(const cli_output *o, const char *data, size_t len);

/* Writes the report in every requested format (0, or 2 when one could not
 * be written). */
int cli_write_report(const cli_outputs *outs, const mlg_report *r, int verbose);

/* Flushes stdout; returns 2 (after saying why) when it could not be
 * written, else rc. Commands printing to stdout end with it. */
int cli_finish_stdout(int rc);

/* Colour on stdout: a terminal, NO_COLOR unset, TERM not dumb; or forced
 * by CLICOLOR_FORCE / FORCE_COLOR. */
int cli_stdout_color(void);

/* Option value helper: "--opt=value" or "--opt value"; advances *i. */
const char *cli_value(int argc, char **argv, int *i, const char *name);
int cli_is_opt(const char *arg, const char *name);

int cmd_eval(int argc, char **argv);
int cmd_list(int argc, char **argv);
int cmd_explain(int argc, char **argv);
int cmd_test(int argc, char **argv);
int cmd_scan(int argc, char **argv);

#endif
