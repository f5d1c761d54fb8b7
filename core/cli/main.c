/* mlgate: argument dispatch. Each command parses its own options
 * (cli_<command>.c); the work is done in core/src. */
#include <stdio.h>
#include <string.h>

#include <lua.h>

#include "atlas.h"
#include "cli.h"
#include "mlgate/version.h"

static void help(void)
{
  printf(
    "mlgate %s: SecMLOps policy engine. Evaluates Lua security policies at each\n"
    "MLOps lifecycle gate (pipeline, data, train, model, deploy, monitor), mapped\n"
    "to MITRE ATLAS, and fails the CI job when a blocking policy fails.\n"
    "\n"
    "Usage: mlgate COMMAND [options]\n"
    "\n"
    "Commands:\n"
    "  eval [PATH]      evaluate the gates on a workspace (exit 0 pass, 1 blocked, 2 error)\n"
    "  scan PATH...     scan model artifacts (model gate, no config, judged by content)\n"
    "  test [DIR]...    run policy tests (fixtures and expected findings)\n"
    "  list             list policies with gates, severity and enforcement\n"
    "  explain POLICY   what a policy checks, why, and how to fix its findings\n"
    "  version          versions of mlgate and what it was built with\n"
    "\n"
    "'mlgate COMMAND --help' describes a command. Configuration: mlgate.yml\n"
    "(docs/config.md); writing policies: docs/policy-authoring.md.\n",
    MLGATE_VERSION);
}

static int version(void)
{
  printf("mlgate %s\n", MLGATE_VERSION);
  printf("report schema  %s\n", MLGATE_REPORT_SCHEMA);
  printf("MITRE ATLAS    %s\n", mlg_atlas_version());
  printf("Lua            %s\n", LUA_RELEASE + 4);
  return 0;
}

int main(int argc, char **argv)
{
  const char *cmd = argc > 1 ? argv[1] : NULL;
  char help_flag[] = "--help";
  char *sub[4] = {NULL, NULL, help_flag, NULL};

  if (!cmd || strcmp(cmd, "-h") == 0 || strcmp(cmd, "--help") == 0 || strcmp(cmd, "help") == 0) {
    if (cmd && strcmp(cmd, "help") == 0 && argc > 2) {
      sub[0] = argv[0];
      sub[1] = argv[2];
      argv = sub; /* "mlgate help eval" is "mlgate eval --help" */
      argc = 3;
      cmd = sub[1];
    } else {
      help();
      return cli_finish_stdout(cmd ? 0 : 2);
    }
  }
  if (strcmp(cmd, "eval") == 0)
    return cmd_eval(argc - 1, argv + 1);
  if (strcmp(cmd, "test") == 0)
    return cmd_test(argc - 1, argv + 1);
  if (strcmp(cmd, "scan") == 0)
    return cmd_scan(argc - 1, argv + 1);
  if (strcmp(cmd, "list") == 0)
    return cmd_list(argc - 1, argv + 1);
  if (strcmp(cmd, "explain") == 0)
    return cmd_explain(argc - 1, argv + 1);
  if (strcmp(cmd, "version") == 0 || strcmp(cmd, "--version") == 0) {
    if (argc > 2 && (strcmp(argv[2], "--help") == 0 || strcmp(argv[2], "-h") == 0)) {
      printf("Usage: mlgate version\n\nPrints the versions of mlgate, its report schema, "
             "the MITRE ATLAS data and Lua.\n");
      return 0;
    }
    return cli_finish_stdout(version());
  }
  return cli_usage_error(NULL, "unknown command '%s'", cmd);
}
