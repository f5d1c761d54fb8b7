/*
 * The child side of a policy evaluation (runs inside an isolate.c child).
 * A child evaluates a batch of policies: each is loaded in its own fresh
 * sandbox and sends its metadata; then, gate by gate, every file of the
 * workspace is shown to every policy of the batch in turn (a fresh state
 * per gate), so per-child caches of parsed files serve the whole batch.
 * Each policy has its own time budget (limits.time_ms), kept by the child
 * and, through the shared watch page (isolate.h), by the parent, which
 * also learns from it which policy and file a dead child was busy with.
 *
 * Records (one compact JSON object per line, "t" = type, "p" = the index
 * of the policy in the job's task list):
 *   {"p":K,"t":"meta","fields":{...},"functions":["check",...]}
 *   {"p":K,"t":"load_error","message":..,"where":..}
 *   {"p":K,"t":"begin","gate":G}
 *   {"p":K,"t":"finding","gate":G,"path":..,"line":..,...}
 *   {"p":K,"t":"error","gate":G,"path":..,"message":..,"where":..,"limit":bool}
 *   {"p":K,"t":"log","level":..,"message":..}
 *   {"p":K,"t":"end","gate":G,"files":N,"instructions":N,"memory_peak":N}
 *   {"p":K,"t":"done"}
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
  const size_t *order;     /* task indices, batch by batch */
  const size_t *batch_off; /* batch b is order[batch_off[b] .. batch_off[b+1]) */
  const mlg_ws *ws;        /* NULL for metadata-only jobs */
  const mlg_config *cfg;   /* limits, params, enabled, includes/excludes */
  unsigned gates;          /* gate mask to evaluate; 0 = metadata only */
  const mlg_node *params;  /* params override for every task (mlgate test), or NULL */
  unsigned nshards;        /* task t checks the files i with i % nshards == t % nshards
                            * (policies with run(): all files in share 0, none
                            * in the others); 0 or 1: every file */
  int all_files;           /* judge every file by content: `files` globs not applied
                            * (mlgate scan; a single-file workspace is always so) */
  int verbose;
} mlg_job;

/* mlg_child_fn for isolate.c: ud is an mlg_job, batch a batch index. */
int mlg_policy_child(void *ud, size_t batch, int out_fd);

#endif
