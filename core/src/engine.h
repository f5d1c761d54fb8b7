/*
 * The parent side of policy evaluation: runs policies in isolated
 * children (policy_run.c), turns their records into policy metadata,
 * findings and errors, and turns every way a child can die into an error
 * that names the policy (fail closed).
 */
#ifndef MLG_ENGINE_H
#define MLG_ENGINE_H

#include <stddef.h>

#include "config.h"
#include "fsx.h"
#include "policy.h"
#include "report.h"

typedef struct mlg_engine_opts {
  const mlg_ws *ws;        /* NULL: load metadata only */
  const mlg_config *cfg;   /* limits, params, includes (may be NULL: defaults) */
  unsigned gates;          /* gate mask to evaluate (0: metadata only) */
  const mlg_node *params;  /* params override (mlgate test), or NULL */
  int verbose;             /* print policy debug logs */
  int progress;            /* progress line on stderr */
  unsigned jobs;           /* concurrent children; 0 = CPUs */
  int all_files;           /* every file to every check, by content (mlgate scan) */
} mlg_engine_opts;

/* Runs the policies set->items[idx[0..n)]. Metadata lands in the policy
 * set (a policy whose metadata is invalid gets an error in r), findings
 * and errors in r (which may be NULL when only metadata is wanted; load
 * errors then go to err... and the first is returned). */
int mlg_engine_run(mlg_policy_set *set, const size_t *idx, size_t n, const mlg_engine_opts *o,
                   mlg_report *r, mlg_err *err);

/* Loads metadata of every policy in the set; errors (invalid metadata,
 * load failures, duplicate ids) are appended to r. */
int mlg_engine_load_all(mlg_policy_set *set, const mlg_config *cfg, mlg_report *r,
                        mlg_err *err);

/* Reports loaded policies that share an id (the later one is unloaded). */
int mlg_engine_check_ids(mlg_policy_set *set, mlg_report *r, mlg_err *err);

#endif
