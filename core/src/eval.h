/*
 * `mlgate eval`: config + workspace + policies -> evaluated report with
 * enforcement, waivers and verdicts applied.
 */
#ifndef MLG_EVAL_H
#define MLG_EVAL_H

#include <stddef.h>

#include "err.h"
#include "report.h"

typedef struct mlg_eval_opts {
  const char *path;         /* workspace root or a single file; NULL = "." */
  unsigned gates;           /* mask of requested gates; 0 = every gate */
  const char *config_path;  /* --config, or NULL for PATH/mlgate.yml when present */
  int no_config;            /* --no-config: built-in defaults */
  const char *const *policy_dirs;
  size_t npolicy_dirs;
  int no_builtins;          /* evaluate only --policies (tests) */
  int fail_on;              /* --fail-on severity, or -1 */
  int profile;              /* --profile (mlg_profile), or -1 for the config's */
  unsigned jobs;
  int verbose;
  int progress;
  int all_files;            /* judge every file by content, whatever policies' `files` say */
} mlg_eval_opts;

/* Always produces a report when memory allows (config, workspace and
 * policy problems become report errors with exit code 2); returns a
 * negative code only when no report could be made. */
int mlg_eval(mlg_report **out, const mlg_eval_opts *o, mlg_err *err);

#endif
