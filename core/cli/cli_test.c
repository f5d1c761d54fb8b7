/* mlgate test: runs policy tests (see core/src/testrun.h for the format). */
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "cli.h"
#include "testrun.h"

static void test_help(void)
{
  printf(
    "Usage: mlgate test [DIR|FILE]... [--format text|json|junit] [-v]\n"
    "\n"
    "Runs the policy tests (*.test.yml) found under each DIR (default: the\n"
    "current directory), against the policies (*.lua) under the same DIRs and\n"
    "the built-in ones. A test case evaluates one policy on a fixture tree or\n"
    "file and fails on a missing finding, an unexpected finding, or an error.\n"
    "Exit code: 0 all passed, 1 a case failed, 2 a test or policy could not be\n"
    "loaded (or no tests were found).\n"
    "\n"
    "Test file format: docs/policy-authoring.md, section 'Testing policies'.\n");
}

int cmd_test(int argc, char **argv)
{
  const char *dirs[CLI_MAX_DIRS];
  mlg_test_opts o;
  mlg_buf out = MLG_BUF_INIT;
  cli_output dest = {"text", NULL};
  mlg_err err;
  int i, code = 2;

  memset(&o, 0, sizeof o);
  for (i = 1; i < argc; i++) {
    const char *a = argv[i];
    if (strcmp(a, "-h") == 0 || strcmp(a, "--help") == 0) {
      test_help();
      return 0;
    } else if (cli_is_opt(a, "--format")) {
      const char *v = cli_value(argc, argv, &i, "--format");
      const char *colon;
      size_t n;
      if (!v)
        return 2;
      colon = strchr(v, ':');
      n = colon ? (size_t)(colon - v) : strlen(v);
      if (n == 4 && strncmp(v, "text", 4) == 0)
        o.format = MLG_TEST_TEXT;
      else if (n == 4 && strncmp(v, "json", 4) == 0)
        o.format = MLG_TEST_JSON;
      else if (n == 5 && strncmp(v, "junit", 5) == 0)
        o.format = MLG_TEST_JUNIT;
      else
        return cli_usage_error("test", "--format must be text, json or junit");
      dest.file = colon && colon[1] ? colon + 1 : NULL;
    } else if (strcmp(a, "-v") == 0 || strcmp(a, "--verbose") == 0) {
      o.verbose = 1;
    } else if (strcmp(a, "--coverage") == 0 || cli_is_opt(a, "--threshold")) {
      return cli_usage_error("test", "%s: policy coverage is not part of this version of "
                                     "mlgate", a);
    } else if (a[0] == '-' && a[1]) {
      return cli_usage_error("test", "unknown option %s", a);
    } else {
      if (o.ndirs == CLI_MAX_DIRS)
        return cli_usage_error("test", "too many directories");
      dirs[o.ndirs++] = a;
    }
  }
  o.dirs = dirs;
  o.color = !dest.file && o.format == MLG_TEST_TEXT && cli_stdout_color();
  if (mlg_test_run(&out, &code, &o, &err) != 0) {
    fprintf(stderr, "mlgate: %s\n", err.msg);
    mlg_buf_free(&out);
    return 2;
  }
  if (cli_emit(&dest, out.ptr ? out.ptr : "", out.len) != 0)
    code = 2;
  mlg_buf_free(&out);
  return code;
}
