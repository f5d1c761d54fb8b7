#include "scan.h"

#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>

#include "eval.h"
#include "types.h"

static uint64_t now_ms(void)
{
  struct timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return (uint64_t)ts.tv_sec * 1000 + (uint64_t)ts.tv_nsec / 1000000;
}

/* The prefix for finding paths: the argument itself for a directory, its
 * directory part for a file (whose findings already carry its name). */
static char *prefix_of(const char *arg)
{
  struct stat st;
  size_t n = strlen(arg);
  char *p;
  while (n > 1 && arg[n - 1] == '/')
    n--;
  if (stat(arg, &st) == 0 && !S_ISDIR(st.st_mode)) {
    const char *slash = memrchr(arg, '/', n);
    n = slash ? (size_t)(slash - arg) : 0;
  }
  if (n == 1 && arg[0] == '.')
    n = 0;
  p = malloc(n + 1);
  if (p) {
    memcpy(p, arg, n);
    p[n] = '\0';
  }
  return p;
}

int mlg_scan(mlg_report **out, const mlg_scan_opts *o, mlg_err *err)
{
  uint64_t t0 = now_ms();
  mlg_report *all = NULL;
  size_t i;
  int rc;

  if ((rc = mlg_report_new(&all, err)) != 0)
    return rc;
  *out = all;
  all->root = o->npaths == 1 ? mlg_report_str(all, o->paths[0]) : ".";
  for (i = 0; i < o->npaths; i++) {
    mlg_eval_opts eo;
    mlg_report *one = NULL;
    char *prefix;

    memset(&eo, 0, sizeof eo);
    eo.path = o->paths[i];
    eo.gates = 1u << MLG_GATE_MODEL;
    eo.no_config = 1;
    eo.policy_dirs = o->policy_dirs;
    eo.npolicy_dirs = o->npolicy_dirs;
    eo.fail_on = o->fail_on;
    eo.jobs = o->jobs;
    eo.verbose = o->verbose;
    eo.progress = o->progress;
    eo.all_files = 1;
    if (mlg_eval(&one, &eo, err) != 0 && !one)
      return err ? err->code : MLG_ENOMEM;
    prefix = prefix_of(o->paths[i]);
    /* a path that could not be opened is already named in full */
    rc = !prefix ? mlg_err_set(err, MLG_ENOMEM, "out of memory")
                 : mlg_report_merge(all, one, one->files ? prefix : NULL, err);
    all->fail_on = one->fail_on;
    free(prefix);
    mlg_report_free(one);
    if (rc != 0)
      return rc;
  }
  mlg_report_finalize_order(all);
  mlg_report_decide(all);
  all->elapsed_ms = now_ms() - t0;
  return 0;
}
