/*
 * The child side of a policy evaluation (runs inside an isolate.c child):
 * load the policy in a fresh sandbox, send its metadata, then evaluate it
 * for each requested gate it belongs to, a fresh state per gate, sending
 * findings and errors as they happen.
 *
 * Records (one compact JSON object per line, "t" = type):
 *   {"t":"meta","fields":{...},"functions":["check",...]}
 *   {"t":"load_error","message":..,"where":..}
 *   {"t":"begin","gate":G}
 *   {"t":"file","path":P}                       (before each check call)
 *   {"t":"finding","gate":G,"path":..,"line":..,...}
 *   {"t":"error","gate":G,"path":..,"message":..,"where":..,"limit":bool}
 *   {"t":"log","level":..,"message":..}
 *   {"t":"end","gate":G,"files":N,"instructions":N,"memory_peak":N}
 *   {"t":"done"}
 */
#ifndef MLG_POLICY_RUN_H
#define MLG_POLICY_RUN_H

#include <stddef.h>

#include "config.h"
#include "fsx.h"
#include "node.h"
#include "policy.h"

typedef struct mlg_job {
  const mlg_policy_set *set;
  const size_t *tasks;     /* policy index per task */
  size_t ntasks;
  const mlg_ws *ws;        /* NULL for metadata-only jobs */
  const mlg_config *cfg;   /* limits, params, enabled, includes/excludes */
  unsigned gates;          /* gate mask to evaluate; 0 = metadata only */
  const mlg_node *params;  /* params override for every task (mlgate test), or NULL */
  int all_files;           /* judge every file by content: `files` globs not applied
                            * (mlgate scan; a single-file workspace is always so) */
  int verbose;
} mlg_job;

/* mlg_child_fn for isolate.c: ud is an mlg_job. */
int mlg_policy_child(void *ud, size_t task, int out_fd);

#endif
