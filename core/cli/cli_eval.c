/* mlgate eval: argument parsing for the evaluation of lifecycle gates. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "cli.h"
#include "eval.h"
#include "types.h"

static const char *const eval_formats[] = {"text", "json", NULL};

static void eval_help(void)
{
  printf(
    "Usage: mlgate eval [PATH] [options]\n"
    "\n"
    "Evaluates the policies of each lifecycle gate on PATH (default: the current\n"
    "directory; a single file is judged by its content) and exits 0 when nothing\n"
    "blocks, 1 when a blocking policy failed, 2 on a usage, config, policy or\n"
    "engine error (fail closed).\n"
    "\n"
    "Options:\n"
    "  --gate G           evaluate gate G only (repeatable, or G1,G2): pipeline,\n"
    "                     data, train, model, deploy, monitor. Default: all gates\n"
    "                     that have policies.\n"
    "  --config FILE      read FILE instead of PATH/mlgate.yml\n"
    "  --no-config        ignore mlgate.yml: built-in policies with their defaults\n"
    "  --policies DIR     also load the policies under DIR (repeatable)\n"
    "  --format F[:FILE]  report format text or json, to FILE or standard output\n"
    "                     (repeatable; default: text)\n"
    "  --fail-on SEV      lowest severity that blocks: info, low, medium, high,\n"
    "                     critical (default: config fail_on, else low: info\n"
    "                     findings are informational)\n"
    "  --profile P        which checks run: regular (default; what zizmor's\n"
    "                     regular persona shows), pedantic (adds hygiene and\n"
    "                     style checks) or auditor (adds checks a human must\n"
    "                     judge). Default: config profile, else regular\n"
    "  -j, --jobs N       policies evaluated in parallel (default: CPUs)\n"
    "  -v, --verbose      show policy debug logs\n"
    "  --no-progress      no progress line on standard error\n"
    "  -h, --help         this help\n"
    "\n"
    "Examples:\n"
    "  mlgate eval                          # every gate, text report\n"
    "  mlgate eval --gate model models/     # the model gate on one directory\n"
    "  mlgate eval --format json:mlgate.json --format text\n");
}

static int add_gates(unsigned *mask, const char *list)
{
  char buf[256];
  char *tok, *save = NULL;
  snprintf(buf, sizeof buf, "%s", list);
  for (tok = strtok_r(buf, ",", &save); tok; tok = strtok_r(NULL, ",", &save)) {
    int g = mlg_gate_parse(tok);
    if (g < 0)
      return cli_usage_error("eval", "unknown gate '%s' (gates: %s)", tok, mlg_gate_list());
    *mask |= 1u << g;
  }
  return 0;
}

int cmd_eval(int argc, char **argv)
{
  mlg_eval_opts o;
  cli_outputs outs;
  const char *dirs[CLI_MAX_DIRS];
  mlg_report *r = NULL;
  mlg_err err;
  int i, rc = 0, progress = 1;

  memset(&o, 0, sizeof o);
  memset(&outs, 0, sizeof outs);
  o.fail_on = -1;
  o.profile = -1;
  for (i = 1; i < argc; i++) {
    const char *a = argv[i], *v;
    if (strcmp(a, "-h") == 0 || strcmp(a, "--help") == 0) {
      eval_help();
      return 0;
    } else if (cli_is_opt(a, "--gate")) {
      if (!(v = cli_value(argc, argv, &i, "--gate")) || add_gates(&o.gates, v))
        return 2;
    } else if (cli_is_opt(a, "--config")) {
      if (!(o.config_path = cli_value(argc, argv, &i, "--config")))
        return 2;
    } else if (strcmp(a, "--no-config") == 0) {
      o.no_config = 1;
    } else if (cli_is_opt(a, "--policies")) {
      if (!(v = cli_value(argc, argv, &i, "--policies")))
        return 2;
      if (o.npolicy_dirs == CLI_MAX_DIRS)
        return cli_usage_error("eval", "too many --policies options");
      dirs[o.npolicy_dirs++] = v;
    } else if (cli_is_opt(a, "--format")) {
      if (!(v = cli_value(argc, argv, &i, "--format")) ||
          cli_add_output(&outs, v, eval_formats, "eval"))
        return 2;
    } else if (cli_is_opt(a, "--fail-on")) {
      if (!(v = cli_value(argc, argv, &i, "--fail-on")))
        return 2;
      if ((o.fail_on = mlg_severity_parse(v)) < 0)
        return cli_usage_error("eval", "--fail-on must be one of info, low, medium, high, "
                                       "critical (got '%s')", v);
    } else if (cli_is_opt(a, "--profile")) {
      if (!(v = cli_value(argc, argv, &i, "--profile")))
        return 2;
      if ((o.profile = mlg_profile_parse(v)) < 0)
        return cli_usage_error("eval", "--profile must be one of regular, pedantic, auditor "
                                       "(got '%s')", v);
    } else if (cli_is_opt(a, "--jobs") || strcmp(a, "-j") == 0) {
      char *end;
      long n;
      if (!(v = cli_value(argc, argv, &i, "--jobs")))
        return 2;
      n = strtol(v, &end, 10);
      if (*end || n < 1 || n > 8)
        return cli_usage_error("eval", "--jobs must be a number from 1 to 8");
      o.jobs = (unsigned)n;
    } else if (strcmp(a, "-v") == 0 || strcmp(a, "--verbose") == 0) {
      o.verbose = 1;
    } else if (strcmp(a, "--no-progress") == 0) {
      progress = 0;
    } else if (cli_is_opt(a, "--base") || cli_is_opt(a, "--head") ||
               strcmp(a, "--changed-only") == 0 || cli_is_opt(a, "--shard") ||
               cli_is_opt(a, "--runner")) {
      return cli_usage_error("eval", "option %s needs the git and runner integration, which "
                                     "this version of mlgate does not include", a);
    } else if (a[0] == '-' && a[1]) {
      return cli_usage_error("eval", "unknown option %s", a);
    } else if (o.path) {
      return cli_usage_error("eval", "only one PATH may be given (got %s and %s)", o.path, a);
    } else {
      o.path = a;
    }
  }
  o.policy_dirs = dirs;
  if (outs.len == 0)
    cli_add_output(&outs, "text", eval_formats, "eval");
  o.progress = progress && isatty(STDERR_FILENO);

  if (mlg_eval(&r, &o, &err) != 0 && !r) {
    fprintf(stderr, "mlgate: %s\n", err.msg);
    return 2;
  }
  rc = cli_write_report(&outs, r, o.verbose);
  if (rc == 0)
    rc = r->exit_code;
  mlg_report_free(r);
  return rc;
}
