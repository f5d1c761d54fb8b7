/*
 * `mlgate scan FILE|DIR...`: the model gate on anything given, without a
 * config: every file (directories recursively) judged by its content,
 * whatever its name, with the built-in model policies (plus --policies).
 * One report for all arguments; finding paths start with the argument as
 * given ("models/a.pt").
 */
#ifndef MLG_SCAN_H
#define MLG_SCAN_H

#include <stddef.h>

#include "err.h"
#include "report.h"

typedef struct mlg_scan_opts {
  const char *const *paths;
  size_t npaths;
  const char *const *policy_dirs;
  size_t npolicy_dirs;
  int fail_on;    /* -1 = default */
  unsigned jobs;
  int verbose;
  int progress;
} mlg_scan_opts;

int mlg_scan(mlg_report **out, const mlg_scan_opts *o, mlg_err *err);

#endif
