#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "config.h"
#include "scope.h"

static mlg_config *cfg_of(const char *text)
{
  mlg_config *cfg = NULL;
  mlg_err e;
  if (mlg_config_parse(&cfg, text, strlen(text), "mlgate.yml", &e) != 0)
    fail_msg("config: %s", e.msg);
  return cfg;
}

static void test_any(void **state)
{
  char *items[] = {"**/*.py", "Dockerfile", "docs/{a,b}.md"};
  mlg_globs g = {items, 3}, empty = {NULL, 0};

  assert_int_equal(mlg_scope_any(&g, "x.py"), 1);
  assert_int_equal(mlg_scope_any(&g, "src/deep/x.py"), 1);
  assert_int_equal(mlg_scope_any(&g, "Dockerfile"), 1);
  assert_int_equal(mlg_scope_any(&g, "sub/Dockerfile"), 0);
  assert_int_equal(mlg_scope_any(&g, "docs/b.md"), 1);
  assert_int_equal(mlg_scope_any(&g, "docs/c.md"), 0);
  assert_int_equal(mlg_scope_any(&g, "x.pyc"), 0);
  assert_int_equal(mlg_scope_any(&empty, "x.py"), 0);
  assert_int_equal(mlg_scope_any(NULL, "x.py"), 0);
}

static void test_visible_without_config(void **state)
{
  assert_int_equal(mlg_scope_visible(NULL, MLG_GATE_TRAIN, "anything/at/all"), 1);
  assert_int_equal(mlg_scope_visible(NULL, -1, ".git/config"), 1);
}

static void test_visible_defaults(void **state)
{
  mlg_config *cfg = NULL;
  mlg_err e;
  int g;
  assert_int_equal(mlg_config_new(&cfg, &e), 0);
  for (g = 0; g < MLG_GATE_COUNT; g++)
    assert_int_equal(mlg_scope_visible(cfg, g, "src/train.py"), 1);
  mlg_config_free(cfg);
}

static void test_visible_excludes_includes(void **state)
{
  mlg_config *cfg = cfg_of("version: 1\n"
                           "exclude: [\"vendor/**\", \"**/*.min.js\"]\n"
                           "gates:\n"
                           "  train:\n"
                           "    include: [\"src/**\", \"train.py\"]\n"
                           "    exclude: [\"src/generated/**\"]\n"
                           "  model:\n"
                           "    exclude: [\"models/legacy/**\"]\n");

  /* global excludes hide files from every gate, and from gate -1 */
  assert_int_equal(mlg_scope_visible(cfg, MLG_GATE_TRAIN, "vendor/lib/x.py"), 0);
  assert_int_equal(mlg_scope_visible(cfg, MLG_GATE_MODEL, "vendor/m.pkl"), 0);
  assert_int_equal(mlg_scope_visible(cfg, -1, "vendor/m.pkl"), 0);
  assert_int_equal(mlg_scope_visible(cfg, MLG_GATE_DEPLOY, "web/app.min.js"), 0);
  /* a gate's includes narrow that gate only */
  assert_int_equal(mlg_scope_visible(cfg, MLG_GATE_TRAIN, "src/a.py"), 1);
  assert_int_equal(mlg_scope_visible(cfg, MLG_GATE_TRAIN, "train.py"), 1);
  assert_int_equal(mlg_scope_visible(cfg, MLG_GATE_TRAIN, "scripts/a.py"), 0);
  assert_int_equal(mlg_scope_visible(cfg, MLG_GATE_DATA, "scripts/a.py"), 1);
  /* and its excludes win over its includes */
  assert_int_equal(mlg_scope_visible(cfg, MLG_GATE_TRAIN, "src/generated/a.py"), 0);
  assert_int_equal(mlg_scope_visible(cfg, MLG_GATE_MODEL, "src/generated/a.py"), 1);
  assert_int_equal(mlg_scope_visible(cfg, MLG_GATE_MODEL, "models/legacy/a.pkl"), 0);
  assert_int_equal(mlg_scope_visible(cfg, MLG_GATE_MODEL, "models/new/a.pkl"), 1);
  /* outside the gate range: only the global excludes apply */
  assert_int_equal(mlg_scope_visible(cfg, -1, "scripts/a.py"), 1);
  assert_int_equal(mlg_scope_visible(cfg, MLG_GATE_COUNT, "models/legacy/a.pkl"), 1);
  assert_int_equal(mlg_scope_visible(cfg, 99, "src/generated/a.py"), 1);
  mlg_config_free(cfg);
}

int main(void)
{
  const struct CMUnitTest tests[] = {
    cmocka_unit_test(test_any),
    cmocka_unit_test(test_visible_without_config),
    cmocka_unit_test(test_visible_defaults),
    cmocka_unit_test(test_visible_excludes_includes),
  };
  alarm(600);
  return cmocka_run_group_tests(tests, NULL, NULL);
}
