/* mlgate scan: the model gate on files and directories, no config needed. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "cli.h"
#include "scan.h"
#include "types.h"

static const char *const scan_formats[] = {"text", "json", NULL};

static void scan_help(void)
{
  printf(
    "Usage: mlgate scan FILE|DIR... [options]\n"
    "\n"
    "Scans model artifacts with the model-gate policies, without a config: every\n"
    "file (directories recursively) is judged by its content, whatever its name or\n"
    "extension: pickles and PyTorch checkpoints (zip, legacy, tar), NumPy .npy/.npz,\n"
    "joblib, Keras .keras/.h5, safetensors, GGUF, ONNX, and zip/tar/7z archives.\n"
    "Exit codes as for eval: 0 nothing blocks, 1 a blocking finding, 2 an error.\n"
    "\n"
    "Options:\n"
    "  --format F[:FILE]  text or json, to FILE or standard output (repeatable)\n"
    "  --policies DIR     also run the model-gate policies under DIR\n"
    "  --fail-on SEV      lowest severity that blocks (default low)\n"
    "  -j, --jobs N       policies evaluated in parallel (default: CPUs)\n"
    "  -v, --verbose      show policy debug logs\n"
    "  --no-progress      no progress line on standard error\n"
    "\n"
    "Examples:\n"
    "  mlgate scan model.pt\n"
    "  mlgate scan checkpoints/ --format json:scan.json --format text\n");
}

int cmd_scan(int argc, char **argv)
{
  const char *paths[256], *dirs[CLI_MAX_DIRS];
  mlg_scan_opts o;
  cli_outputs outs;
  mlg_report *r = NULL;
  mlg_err err;
  int i, rc, progress = 1;

  memset(&o, 0, sizeof o);
  memset(&outs, 0, sizeof outs);
  o.fail_on = -1;
  for (i = 1; i < argc; i++) {
    const char *a = argv[i], *v;
    if (strcmp(a, "-h") == 0 || strcmp(a, "--help") == 0) {
      scan_help();
      return cli_finish_stdout(0);
    } else if (cli_is_opt(a, "--format")) {
      if (!(v = cli_value(argc, argv, &i, "--format")) ||
          cli_add_output(&outs, v, scan_formats, "scan"))
        return 2;
    } else if (cli_is_opt(a, "--policies")) {
      if (!(v = cli_value(argc, argv, &i, "--policies")))
        return 2;
      if (o.npolicy_dirs == CLI_MAX_DIRS)
        return cli_usage_error("scan", "too many --policies options");
      dirs[o.npolicy_dirs++] = v;
    } else if (cli_is_opt(a, "--fail-on")) {
      if (!(v = cli_value(argc, argv, &i, "--fail-on")))
        return 2;
      if ((o.fail_on = mlg_severity_parse(v)) < 0)
        return cli_usage_error("scan", "--fail-on must be one of info, low, medium, high, "
                                       "critical (got '%s')", v);
    } else if (cli_is_opt(a, "--jobs") || strcmp(a, "-j") == 0) {
      char *end;
      long n;
      if (!(v = cli_value(argc, argv, &i, "--jobs")))
        return 2;
      n = strtol(v, &end, 10);
      if (*end || n < 1 || n > 8)
        return cli_usage_error("scan", "--jobs must be a number from 1 to 8");
      o.jobs = (unsigned)n;
    } else if (strcmp(a, "-v") == 0 || strcmp(a, "--verbose") == 0) {
      o.verbose = 1;
    } else if (strcmp(a, "--no-progress") == 0) {
      progress = 0;
    } else if (a[0] == '-' && a[1]) {
      return cli_usage_error("scan", "unknown option %s", a);
    } else {
      if (o.npaths == sizeof paths / sizeof *paths)
        return cli_usage_error("scan", "too many paths (at most 256; give directories)");
      paths[o.npaths++] = a;
    }
  }
  if (o.npaths == 0)
    return cli_usage_error("scan", "what should be scanned? Give files or directories");
  o.paths = paths;
  o.policy_dirs = dirs;
  o.progress = progress && isatty(STDERR_FILENO);
  if (outs.len == 0)
    cli_add_output(&outs, "text", scan_formats, "scan");
  if (mlg_scan(&r, &o, &err) != 0 && !r) {
    fprintf(stderr, "mlgate: %s\n", err.msg);
    return 2;
  }
  rc = cli_write_report(&outs, r, o.verbose);
  if (rc == 0)
    rc = r->exit_code;
  mlg_report_free(r);
  return rc;
}
