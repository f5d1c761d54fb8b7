#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "config.h"

#define MIB ((uint64_t)1 << 20)

static mlg_config *parse_ok(const char *yaml)
{
  mlg_config *cfg = NULL;
  mlg_err err;
  mlg_err_clear(&err);
  if (mlg_config_parse(&cfg, yaml, strlen(yaml), "mlgate.yml", &err) != 0)
    fail_msg("unexpected error: %s", err.msg);
  assert_non_null(cfg);
  return cfg;
}

/* Every error is MLG_ECONFIG with the exact "FILE:LINE:COL: message". */
static void expect_error(const char *yaml, const char *msg)
{
  mlg_config *cfg = (mlg_config *)&cfg;
  mlg_err err;
  int rc;
  mlg_err_clear(&err);
  rc = mlg_config_parse(&cfg, yaml, strlen(yaml), "mlgate.yml", &err);
  if (rc != MLG_ECONFIG)
    fail_msg("expected an error for:\n%s\ngot rc %d (%s)", yaml, rc, err.msg);
  assert_int_equal(err.code, MLG_ECONFIG);
  assert_null(cfg);
  assert_string_equal(err.msg, msg);
}

static const char full_yaml[] =
    "version: 1\n"                                             /* 1 */
    "fail_on: medium\n"                                        /* 2 */
    "exclude:\n"                                               /* 3 */
    "  - \"vendor/**\"\n"                                      /* 4 */
    "  - third_party/**\n"                                     /* 5 */
    "gates:\n"                                                 /* 6 */
    "  model:\n"                                               /* 7 */
    "    include: [\"models/**\", \"**/*.safetensors\"]\n"     /* 8 */
    "    exclude: [models/tmp/**]\n"                           /* 9 */
    "  pipeline:\n"                                            /* 10 */
    "    include:\n"                                           /* 11 */
    "      - .github/workflows/*.yml\n"                        /* 12 */
    "  data: {}\n"                                             /* 13 */
    "  train:\n"                                               /* 14 */
    "policies:\n"                                              /* 15 */
    "  model/pickle-unsafe-import: {enforcement: hard}\n"      /* 16 */
    "  data/manifest-verified:\n"                              /* 17 */
    "    enforcement: soft\n"                                  /* 18 */
    "    enabled: true\n"                                      /* 19 */
    "    severity: high\n"                                     /* 20 */
    "    params: {manifest: data/MANIFEST.json, depth: 3}\n"   /* 21 */
    "  pipeline/unpinned-uses: {enforcement: advisory, enabled: false, severity: info}\n"
    "  train/secrets:\n"                                       /* 23 */
    "waivers:\n"                                               /* 24 */
    "  - policy: pipeline/unpinned-uses\n"                     /* 25 */
    "    path: .github/workflows/legacy.yml\n"                 /* 26 */
    "    reason: migrating to SHA pins\n"                      /* 27 */
    "    expires: 2027-01-31\n"                                /* 28 */
    "  - policy: model/pickle-unsafe-import\n"                 /* 29 */
    "    fingerprint: 0123456789ABCDEF0123\n"                  /* 30 */
    "    path: models/{a,b}.pt\n"                              /* 31 */
    "    reason: \"vetted by security (SEC-42)\"\n"            /* 32 */
    "    expires: \"2028-02-29\"\n"                            /* 33 */
    "limits:\n"                                                /* 34 */
    "  time_ms: 10000\n"
    "  memory_mb: 512\n"
    "  instructions: 1000000000\n"
    "  read_mb: 128\n"
    "  findings: 500\n";

static void test_full(void **state)
{
  mlg_config *cfg = parse_ok(full_yaml);
  const mlg_policy_cfg *p;
  const mlg_node *n;
  (void)state;

  assert_string_equal(cfg->path, "mlgate.yml");
  assert_non_null(cfg->doc);
  assert_int_equal(cfg->version, 1);
  assert_int_equal(cfg->fail_on, MLG_SEV_MEDIUM);
  assert_int_equal(cfg->exclude.len, 2);
  assert_string_equal(cfg->exclude.items[0], "vendor/**");
  assert_string_equal(cfg->exclude.items[1], "third_party/**");

  assert_int_equal(cfg->gate_include[MLG_GATE_MODEL].len, 2);
  assert_string_equal(cfg->gate_include[MLG_GATE_MODEL].items[0], "models/**");
  assert_string_equal(cfg->gate_include[MLG_GATE_MODEL].items[1], "**/*.safetensors");
  assert_int_equal(cfg->gate_exclude[MLG_GATE_MODEL].len, 1);
  assert_string_equal(cfg->gate_exclude[MLG_GATE_MODEL].items[0], "models/tmp/**");
  assert_int_equal(cfg->gate_include[MLG_GATE_PIPELINE].len, 1);
  assert_string_equal(cfg->gate_include[MLG_GATE_PIPELINE].items[0], ".github/workflows/*.yml");
  assert_int_equal(cfg->gate_exclude[MLG_GATE_PIPELINE].len, 0);
  assert_int_equal(cfg->gate_include[MLG_GATE_DATA].len, 0);
  assert_int_equal(cfg->gate_include[MLG_GATE_TRAIN].len, 0);
  assert_int_equal(cfg->gate_include[MLG_GATE_DEPLOY].len, 0);

  assert_int_equal(cfg->npolicies, 4);
  p = &cfg->policies[0];
  assert_string_equal(p->id, "model/pickle-unsafe-import");
  assert_int_equal(p->span.line, 16);
  assert_int_equal(p->span.col, 3);
  assert_int_equal(p->enforcement, MLG_ENF_HARD);
  assert_int_equal(p->enabled, -1);
  assert_int_equal(p->severity, -1);
  assert_null(p->params);

  p = mlg_config_policy(cfg, "data/manifest-verified");
  assert_ptr_equal(p, &cfg->policies[1]);
  assert_int_equal(p->span.line, 17);
  assert_int_equal(p->enforcement, MLG_ENF_SOFT);
  assert_int_equal(p->enabled, 1);
  assert_int_equal(p->severity, MLG_SEV_HIGH);
  assert_non_null(p->params);
  assert_int_equal(p->params->type, MLG_MAP);
  assert_int_equal(p->params->span.line, 21);
  assert_string_equal(mlg_node_as_str(mlg_map_get(p->params, "manifest"), ""),
                      "data/MANIFEST.json");
  n = mlg_map_get(p->params, "depth");
  assert_int_equal(mlg_node_as_int(n, -1), 3);
  assert_int_equal(n->span.line, 21);
  assert_int_equal(n->span.col, 51);

  p = mlg_config_policy(cfg, "pipeline/unpinned-uses");
  assert_non_null(p);
  assert_int_equal(p->enforcement, MLG_ENF_ADVISORY);
  assert_int_equal(p->enabled, 0);
  assert_int_equal(p->severity, MLG_SEV_INFO);

  p = mlg_config_policy(cfg, "train/secrets"); /* listed with no settings */
  assert_non_null(p);
  assert_int_equal(p->span.line, 23);
  assert_int_equal(p->enforcement, MLG_ENF_UNSET);
  assert_int_equal(p->enabled, -1);
  assert_int_equal(p->severity, -1);
  assert_null(p->params);

  assert_int_equal(cfg->nwaivers, 2);
  assert_string_equal(cfg->waivers[0].policy, "pipeline/unpinned-uses");
  assert_string_equal(cfg->waivers[0].path, ".github/workflows/legacy.yml");
  assert_null(cfg->waivers[0].fingerprint);
  assert_string_equal(cfg->waivers[0].reason, "migrating to SHA pins");
  assert_string_equal(cfg->waivers[0].expires, "2027-01-31");
  assert_int_equal(cfg->waivers[0].expires_day, 20849);
  assert_int_equal(cfg->waivers[0].span.line, 25);
  assert_int_equal(cfg->waivers[0].span.col, 5);
  assert_string_equal(cfg->waivers[1].policy, "model/pickle-unsafe-import");
  assert_string_equal(cfg->waivers[1].fingerprint, "0123456789abcdef0123");
  assert_string_equal(cfg->waivers[1].path, "models/{a,b}.pt");
  assert_string_equal(cfg->waivers[1].reason, "vetted by security (SEC-42)");
  assert_string_equal(cfg->waivers[1].expires, "2028-02-29");
  assert_int_equal(cfg->waivers[1].expires_day, 21243);
  assert_int_equal(cfg->waivers[1].span.line, 29);

  assert_int_equal(cfg->limits.time_ms, 10000);
  assert_int_equal(cfg->limits.memory_bytes, 512 * MIB);
  assert_int_equal(cfg->limits.instructions, 1000000000);
  assert_int_equal(cfg->limits.read_bytes, 128 * MIB);
  assert_int_equal(cfg->limits.findings, 500);
  mlg_config_free(cfg);
}

static void check_defaults(const mlg_config *cfg)
{
  size_t g;
  assert_int_equal(cfg->version, 1);
  assert_int_equal(cfg->fail_on, -1);
  assert_int_equal(cfg->exclude.len, 0);
  for (g = 0; g < MLG_GATE_COUNT; g++) {
    assert_int_equal(cfg->gate_include[g].len, 0);
    assert_int_equal(cfg->gate_exclude[g].len, 0);
  }
  assert_int_equal(cfg->npolicies, 0);
  assert_int_equal(cfg->nwaivers, 0);
  assert_int_equal(cfg->limits.time_ms, 5000);
  assert_int_equal(cfg->limits.memory_bytes, 256 * MIB);
  assert_int_equal(cfg->limits.instructions, 500000000);
  assert_int_equal(cfg->limits.read_bytes, 64 * MIB);
  assert_int_equal(cfg->limits.findings, 10000);
}

static void test_defaults(void **state)
{
  mlg_config *cfg = NULL;
  mlg_err err;
  (void)state;
  assert_int_equal(mlg_config_new(&cfg, &err), 0);
  check_defaults(cfg);
  assert_null(cfg->path);
  assert_null(cfg->doc);
  assert_null(mlg_config_policy(cfg, "model/x"));
  mlg_config_free(cfg);

  cfg = parse_ok("version: 1\n");
  check_defaults(cfg);
  assert_string_equal(cfg->path, "mlgate.yml");
  mlg_config_free(cfg);

  /* Empty sections are empty, not errors; limits given partially keep the
   * other defaults. */
  cfg = parse_ok("version: 1\nexclude:\ngates:\npolicies:\nwaivers:\nlimits:\n");
  check_defaults(cfg);
  mlg_config_free(cfg);
  cfg = parse_ok("version: 1\nexclude: []\ngates: {}\npolicies: {}\nwaivers: []\n"
                 "limits: {time_ms: 1}\n");
  assert_int_equal(cfg->limits.time_ms, 1);
  assert_int_equal(cfg->limits.memory_bytes, 256 * MIB);
  assert_int_equal(cfg->limits.findings, 10000);
  mlg_config_free(cfg);
  mlg_config_free(NULL);
}

static void test_limits_bounds(void **state)
{
  mlg_config *cfg;
  (void)state;
  cfg = parse_ok("version: 1\nlimits:\n  time_ms: 86400000\n  memory_mb: 1048576\n"
                 "  instructions: 1000000000000000\n  read_mb: 1048576\n"
                 "  findings: 10000000\n");
  assert_int_equal(cfg->limits.time_ms, 86400000);
  assert_int_equal(cfg->limits.memory_bytes, (uint64_t)1048576 * MIB);
  assert_int_equal(cfg->limits.instructions, 1000000000000000);
  assert_int_equal(cfg->limits.read_bytes, (uint64_t)1048576 * MIB);
  assert_int_equal(cfg->limits.findings, 10000000);
  mlg_config_free(cfg);

  expect_error("version: 1\nlimits:\n  time_ms: 0\n",
               "mlgate.yml:3:12: 'time_ms' must be a positive integer, got 0");
  expect_error("version: 1\nlimits:\n  memory_mb: -5\n",
               "mlgate.yml:3:14: 'memory_mb' must be a positive integer, got -5");
  expect_error("version: 1\nlimits:\n  time_ms: 86400001\n",
               "mlgate.yml:3:12: 'time_ms' must be at most 86400000, got 86400001");
  expect_error("version: 1\nlimits:\n  memory_mb: 1048577\n",
               "mlgate.yml:3:14: 'memory_mb' must be at most 1048576, got 1048577");
  expect_error("version: 1\nlimits:\n  read_mb: 9223372036854775807\n",
               "mlgate.yml:3:12: 'read_mb' must be at most 1048576, got 9223372036854775807");
  expect_error("version: 1\nlimits:\n  findings: 4294967296\n",
               "mlgate.yml:3:13: 'findings' must be at most 10000000, got 4294967296");
  expect_error("version: 1\nlimits:\n  instructions: 1000000000000001\n",
               "mlgate.yml:3:17: 'instructions' must be at most 1000000000000000, "
               "got 1000000000000001");
  expect_error("version: 1\nlimits:\n  instructions: 99999999999999999999999\n",
               "mlgate.yml:3:17: 'instructions' must be at most 1000000000000000, got 1e+23");
  expect_error("version: 1\nlimits:\n  memory_mb: \"512\"\n",
               "mlgate.yml:3:14: 'memory_mb' must be a positive integer, got string '512'");
  expect_error("version: 1\nlimits:\n  read_mb: 1.5\n",
               "mlgate.yml:3:12: 'read_mb' must be a positive integer, got number 1.5");
  expect_error("version: 1\nlimits:\n  findings:\n",
               "mlgate.yml:3:12: 'findings' must be a positive integer, got an empty value");
  expect_error("version: 1\nlimits:\n  memory: 5\n",
               "mlgate.yml:3:3: unknown key 'memory' in 'limits' (expected one of: time_ms, "
               "memory_mb, instructions, read_mb, findings)");
  expect_error("version: 1\nlimits: [5]\n",
               "mlgate.yml:2:9: 'limits' must be a mapping (time_ms, memory_mb, instructions, "
               "read_mb, findings), got a list");
}

static void test_policy_lookup(void **state)
{
  mlg_config *cfg = parse_ok("version: 1\npolicies:\n  a/x: {enabled: false}\n"
                             "  a/y: {severity: critical}\n  \"a/x \": {}\n");
  (void)state;
  assert_int_equal(cfg->npolicies, 3);
  assert_ptr_equal(mlg_config_policy(cfg, "a/x"), &cfg->policies[0]);
  assert_ptr_equal(mlg_config_policy(cfg, "a/y"), &cfg->policies[1]);
  assert_ptr_equal(mlg_config_policy(cfg, "a/x "), &cfg->policies[2]);
  assert_int_equal(mlg_config_policy(cfg, "a/y")->severity, MLG_SEV_CRITICAL);
  assert_null(mlg_config_policy(cfg, "a/z"));
  assert_null(mlg_config_policy(cfg, "A/X"));
  assert_null(mlg_config_policy(cfg, ""));
  assert_null(mlg_config_policy(cfg, NULL));
  assert_null(mlg_config_policy(NULL, "a/x"));
  mlg_config_free(cfg);
}

/* The messages given as examples in the brief, at their exact positions. */
static void test_error_examples(void **state)
{
  (void)state;
  expect_error("version: 1\n"
               "fail_on: high\n"
               "exclude:\n"
               "  - vendor/**\n"
               "policies:\n"
               "  train/x:\n"
               "    enforcment: hard\n",
               "mlgate.yml:7:5: unknown key 'enforcment' in policy 'train/x' "
               "(expected one of: enforcement, enabled, severity, params)");
  expect_error("version: 1\n"
               "# block on high and above\n"
               "fail_on: urgent\n",
               "mlgate.yml:3:10: 'fail_on' must be one of info, low, medium, high, critical");
  expect_error("version: 1\n"
               "policies:\n"
               "  model/x: {enforcement: soft}\n"
               "waivers:\n"
               "  - policy: model/x\n"
               "    path: models/a.pt\n"
               "    reason: known\n"
               "    expires: 2027-01-31\n"
               "  - policy: model/x\n"
               "    path: models/b.pt\n"
               "    reason: known\n"
               "    expires: 2026-02-30\n",
               "mlgate.yml:12:14: 'expires' must be a date YYYY-MM-DD, got '2026-02-30'");
  expect_error("fail_on: high\n", "mlgate.yml:1:1: missing required key 'version'");
  expect_error("version: 2\n",
               "mlgate.yml:1:10: version 2 is not supported (this mlgate reads version 1)");
}

static void test_error_document(void **state)
{
  (void)state;
  expect_error("", "mlgate.yml:1:1: missing required key 'version'");
  expect_error("# nothing yet\n\n", "mlgate.yml:1:1: missing required key 'version'");
  expect_error("---\n", "mlgate.yml:1:1: missing required key 'version'");
  expect_error("~\n", "mlgate.yml:1:1: missing required key 'version'");
  expect_error("# comment\nfail_on: low\nversion_: 1\n",
               "mlgate.yml:2:1: missing required key 'version'");
  expect_error("- version: 1\n",
               "mlgate.yml:1:1: the top level must be a mapping starting with 'version: 1', "
               "got a list");
  expect_error("version 1\n",
               "mlgate.yml:1:1: the top level must be a mapping starting with 'version: 1', "
               "got string 'version 1'");
  expect_error("version: '1'\n",
               "mlgate.yml:1:10: 'version' must be the integer 1 (write 'version: 1'), "
               "got string '1'");
  expect_error("version: 1.0\n",
               "mlgate.yml:1:10: 'version' must be the integer 1 (write 'version: 1'), "
               "got number 1.0");
  expect_error("version: 0\n",
               "mlgate.yml:1:10: version 0 is not supported (this mlgate reads version 1)");
  /* the version is checked before anything else: a newer file fails on
   * its version, not on a key this version does not know */
  expect_error("extends: [x]\nversion: 3\n",
               "mlgate.yml:2:10: version 3 is not supported (this mlgate reads version 1)");
  expect_error("version: 1\nextends: []\n",
               "mlgate.yml:2:1: unknown key 'extends' at the top level (expected one of: "
               "version, fail_on, profile, inline_suppressions, exclude, gates, policies, waivers, limits)");
  expect_error("version: 1\n---\nversion: 1\n",
               "mlgate.yml:3:1: a second YAML document ('---'); mlgate.yml must hold "
               "exactly one");
  /* the first problem in document order wins */
  expect_error("version: 1\nfail_on: nope\nbogus: 1\n",
               "mlgate.yml:2:10: 'fail_on' must be one of info, low, medium, high, critical");
  expect_error("version: 1\nbogus: 1\nfail_on: nope\n",
               "mlgate.yml:2:1: unknown key 'bogus' at the top level (expected one of: "
               "version, fail_on, profile, inline_suppressions, exclude, gates, policies, waivers, limits)");
  /* user text in messages is escaped and bounded */
  expect_error("version: 1\n\"a\\x01'b\": 1\n",
               "mlgate.yml:2:1: unknown key 'a\\x01\\x27b' at the top level (expected one of: "
               "version, fail_on, profile, inline_suppressions, exclude, gates, policies, waivers, limits)");
  expect_error("version: 1\nfail_on: 5\n",
               "mlgate.yml:2:10: 'fail_on' must be one of info, low, medium, high, critical");
  expect_error("version: 1\nfail_on:\n",
               "mlgate.yml:2:9: 'fail_on' must be one of info, low, medium, high, critical");
  expect_error("version: 1\nfail_on: HIGH\n",
               "mlgate.yml:2:10: 'fail_on' must be one of info, low, medium, high, critical");
}

static void test_error_parser(void **state)
{
  mlg_config *cfg = (mlg_config *)&cfg;
  mlg_err err;
  const char *dup = "version: 1\nfail_on: high\nfail_on: low\n";
  const char *bad = "version: 1\npolicies: {a: [}\n";
  (void)state;
  /* duplicate keys are refused by the parser; its message is kept */
  assert_int_equal(mlg_config_parse(&cfg, dup, strlen(dup), "mlgate.yml", &err), MLG_ECONFIG);
  assert_int_equal(err.code, MLG_ECONFIG);
  assert_null(cfg);
  assert_true(strncmp(err.msg, "mlgate.yml:3:1: ", 16) == 0);
  assert_non_null(strstr(err.msg, "fail_on"));
  cfg = (mlg_config *)&cfg;
  assert_int_equal(mlg_config_parse(&cfg, bad, strlen(bad), "mlgate.yml", &err), MLG_ECONFIG);
  assert_null(cfg);
  assert_true(strncmp(err.msg, "mlgate.yml:2:", 13) == 0);
}

static void test_error_globs(void **state)
{
  (void)state;
  expect_error("version: 1\nexclude: vendor/**\n",
               "mlgate.yml:2:10: 'exclude' must be a list of globs, got a single string; "
               "write exclude: ['vendor/**']");
  expect_error("version: 1\nexclude: {a: b}\n",
               "mlgate.yml:2:10: 'exclude' must be a list of globs, got a mapping");
  expect_error("version: 1\nexclude: [42]\n",
               "mlgate.yml:2:11: 'exclude' must be a glob string, got integer 42");
  expect_error("version: 1\nexclude: [\"[a\"]\n",
               "mlgate.yml:2:11: invalid glob '[a' in 'exclude': unterminated character class");
  expect_error("version: 1\nexclude:\n  - ok/**\n  - \"{a,b\"\n",
               "mlgate.yml:4:5: invalid glob '{a,b' in 'exclude': unmatched '{'");
  expect_error("version: 1\nexclude: [\"\"]\n", "mlgate.yml:2:11: empty glob in 'exclude'");
  expect_error("version: 1\nexclude: [/etc/**]\n",
               "mlgate.yml:2:11: glob '/etc/**' in 'exclude' must be relative to the "
               "repository root (remove the leading '/')");
  expect_error("version: 1\nexclude: [./x]\n",
               "mlgate.yml:2:11: glob './x' in 'exclude' must not start with './' (paths are "
               "matched relative to the repository root)");
  expect_error("version: 1\ngates:\n  trian:\n    include: ['**']\n",
               "mlgate.yml:3:3: unknown gate 'trian' under 'gates' (expected one of: pipeline, "
               "data, train, model, deploy, monitor)");
  expect_error("version: 1\ngates:\n  model:\n    includes: ['**']\n",
               "mlgate.yml:4:5: unknown key 'includes' in gate 'model' (expected one of: "
               "include, exclude)");
  expect_error("version: 1\ngates:\n  model: ['**']\n",
               "mlgate.yml:3:10: gate 'model' must be a mapping with 'include' and/or "
               "'exclude', got a list");
  expect_error("version: 1\ngates: [model]\n",
               "mlgate.yml:2:8: 'gates' must be a mapping of gate names to {include, exclude}, "
               "got a list");
  expect_error("version: 1\ngates:\n  deploy:\n    exclude: '**/*.tmp'\n",
               "mlgate.yml:4:14: 'exclude' must be a list of globs, got a single string; "
               "write exclude: ['**/*.tmp']");
}

static void test_error_policies(void **state)
{
  (void)state;
  expect_error("version: 1\npolicies:\n  model/x: {enforcement: strict}\n",
               "mlgate.yml:3:26: 'enforcement' must be one of advisory, soft, hard");
  expect_error("version: 1\npolicies:\n  model/x: {enforcement: default}\n",
               "mlgate.yml:3:26: 'enforcement' must be one of advisory, soft, hard");
  expect_error("version: 1\npolicies:\n  model/x: {enabled: 'yes'}\n",
               "mlgate.yml:3:22: 'enabled' must be true or false, got string 'yes'");
  expect_error("version: 1\npolicies:\n  model/x: {enabled: 1}\n",
               "mlgate.yml:3:22: 'enabled' must be true or false, got integer 1");
  expect_error("version: 1\npolicies:\n  model/x: {enabled: 0x01}\n",
               "mlgate.yml:3:22: 'enabled' must be true or false, got integer 0x01");
  expect_error("version: 1\npolicies:\n  model/x: {severity: severe}\n",
               "mlgate.yml:3:23: 'severity' must be one of info, low, medium, high, critical");
  expect_error("version: 1\npolicies:\n  model/x:\n    params: [a]\n",
               "mlgate.yml:4:13: 'params' must be a mapping of parameter names to values, "
               "got a list");
  expect_error("version: 1\npolicies:\n  model/x: hard\n",
               "mlgate.yml:3:12: policy 'model/x' must be a mapping (keys: enforcement, "
               "enabled, severity, params), got string 'hard'");
  expect_error("version: 1\npolicies:\n  \"\": {}\n",
               "mlgate.yml:3:3: empty policy id under 'policies'");
  expect_error("version: 1\npolicies: [model/x]\n",
               "mlgate.yml:2:11: 'policies' must be a mapping of policy ids to settings, "
               "got a list");
}

static const char waiver_head[] = "version: 1\nwaivers:\n";

static void expect_waiver_error(const char *items, const char *msg)
{
  char buf[1024];
  snprintf(buf, sizeof buf, "%s%s", waiver_head, items);
  expect_error(buf, msg);
}

static void test_error_waivers(void **state)
{
  (void)state;
  expect_waiver_error("  - policy: model/x\n    path: a.pt\n    reason: 42\n"
                      "    expires: 2027-01-31\n",
                      "mlgate.yml:5:13: 'reason' must be a string, got integer 42");
  expect_waiver_error("  - policy: model/x\n    path: a.pt\n    reason: \"\"\n"
                      "    expires: 2027-01-31\n",
                      "mlgate.yml:5:13: 'reason' must not be empty: say why this finding "
                      "is accepted");
  expect_waiver_error("  - policy: model/x\n    path: a.pt\n    reason: '  '\n"
                      "    expires: 2027-01-31\n",
                      "mlgate.yml:5:13: 'reason' must not be empty: say why this finding "
                      "is accepted");
  expect_waiver_error("  - policy: model/x\n    path: a.pt\n    reason:\n"
                      "    expires: 2027-01-31\n",
                      "mlgate.yml:5:12: 'reason' must be a string, got an empty value");
  expect_waiver_error("  - policy: model/x\n    path: a.pt\n    expires: 2027-01-31\n",
                      "mlgate.yml:3:5: missing required key 'reason' in waiver");
  expect_waiver_error("  - path: a.pt\n    reason: r\n    expires: 2027-01-31\n",
                      "mlgate.yml:3:5: missing required key 'policy' in waiver");
  expect_waiver_error("  - policy: model/x\n    path: a.pt\n    reason: r\n",
                      "mlgate.yml:3:5: missing required key 'expires' in waiver");
  expect_waiver_error("  - policy: model/x\n    reason: r\n    expires: 2027-01-31\n",
                      "mlgate.yml:3:5: waiver for 'model/x' needs 'path' or 'fingerprint' "
                      "(or both) to say which findings it covers");
  expect_waiver_error("  - policy: 7\n    path: a.pt\n    reason: r\n    expires: 2027-01-31\n",
                      "mlgate.yml:3:13: 'policy' must be a policy id string, got integer 7");
  expect_waiver_error("  - policy: ''\n    path: a.pt\n    reason: r\n    expires: 2027-01-31\n",
                      "mlgate.yml:3:13: 'policy' must not be empty: name the policy this "
                      "waiver is for");
  expect_waiver_error("  - policy: model/x\n    path: \"[z\"\n    reason: r\n"
                      "    expires: 2027-01-31\n",
                      "mlgate.yml:4:11: invalid glob '[z' in 'path': unterminated character "
                      "class");
  expect_waiver_error("  - policy: model/x\n    paths: a.pt\n",
                      "mlgate.yml:4:5: unknown key 'paths' in waiver (expected one of: policy, "
                      "path, fingerprint, reason, expires)");
  expect_waiver_error("  - policy: model/x\n    fingerprint: xyz123456789abc\n",
                      "mlgate.yml:4:18: 'fingerprint' must be hexadecimal (0-9, a-f), got "
                      "'xyz123456789abc'");
  expect_waiver_error("  - policy: model/x\n    fingerprint: abc123\n",
                      "mlgate.yml:4:18: 'fingerprint' must have at least 12 hex digits (a "
                      "prefix of the finding's fingerprint), got 'abc123'");
  expect_waiver_error("  - policy: model/x\n    fingerprint: 12345\n",
                      "mlgate.yml:4:18: 'fingerprint' must have at least 12 hex digits (a "
                      "prefix of the finding's fingerprint), got '12345'");
  expect_waiver_error("  - policy: model/x\n    fingerprint: [ab]\n",
                      "mlgate.yml:4:18: 'fingerprint' must be a string of at least 12 hex "
                      "digits, got a list");
  expect_waiver_error("  - policy: model/x\n    fingerprint: '0x0123456789ab'\n",
                      "mlgate.yml:4:18: 'fingerprint' must be hexadecimal (0-9, a-f), got "
                      "'0x0123456789ab'");
  expect_waiver_error("  - policy: model/x\n    path: a.pt\n    reason: r\n"
                      "    expires: 2027-02-29\n",
                      "mlgate.yml:6:14: 'expires' must be a date YYYY-MM-DD, got '2027-02-29'");
  expect_waiver_error("  - policy: model/x\n    path: a.pt\n    reason: r\n"
                      "    expires: 2027-1-31\n",
                      "mlgate.yml:6:14: 'expires' must be a date YYYY-MM-DD, got '2027-1-31'");
  expect_waiver_error("  - policy: model/x\n    path: a.pt\n    reason: r\n"
                      "    expires: 20270131\n",
                      "mlgate.yml:6:14: 'expires' must be a date YYYY-MM-DD, got integer "
                      "20270131");
  expect_waiver_error("  - policy: model/x\n    path: a.pt\n    reason: r\n"
                      "    expires: 2027-01-31T00:00:00Z\n",
                      "mlgate.yml:6:14: 'expires' must be a date YYYY-MM-DD, got "
                      "'2027-01-31T00:00:00Z'");
  expect_waiver_error("  - model/x\n",
                      "mlgate.yml:3:5: 'waivers' must be a list of mappings (policy, path, "
                      "fingerprint, reason, expires), got string 'model/x'");
  expect_error("version: 1\nwaivers:\n  policy: model/x\n",
               "mlgate.yml:3:3: 'waivers' must be a list of waivers (each item starting with "
               "'- policy:'), got a mapping");
}

static void test_waiver_fingerprints(void **state)
{
  mlg_config *cfg;
  (void)state;
  /* Plain digits are an integer to YAML; the text as written is kept,
   * leading zero included. Same for digits with an exponent. */
  cfg = parse_ok("version: 1\nwaivers:\n"
                 "  - {policy: a/b, fingerprint: 012345678901, reason: r, expires: 2030-01-01}\n"
                 "  - {policy: a/b, fingerprint: 123456789e12, reason: r, expires: 2030-01-01}\n"
                 "  - {policy: a/b, fingerprint: 'ABCDEF012345', reason: r, expires: 2030-01-01}\n"
                 "  - policy: a/b\n    fingerprint: 999999999999999999999999\n"
                 "    reason: r\n    expires: 2030-01-01\n");
  assert_int_equal(cfg->nwaivers, 4);
  assert_string_equal(cfg->waivers[0].fingerprint, "012345678901");
  assert_null(cfg->waivers[0].path);
  assert_string_equal(cfg->waivers[1].fingerprint, "123456789e12");
  assert_string_equal(cfg->waivers[2].fingerprint, "abcdef012345");
  assert_string_equal(cfg->waivers[3].fingerprint, "999999999999999999999999");
  assert_string_equal(cfg->waivers[3].reason, "r");
  mlg_config_free(cfg);
}

/* One anchored waiver with a 64 KiB reason, aliased 400 times: the copies
 * would take 25 MiB from a 90 KiB file. */
static void test_alias_expansion(void **state)
{
  size_t cap = 200000, n = 0, i;
  char *yaml = malloc(cap);
  mlg_config *cfg = (mlg_config *)&cfg;
  mlg_err err;
  (void)state;
  assert_non_null(yaml);
  n += (size_t)snprintf(yaml + n, cap - n,
                        "version: 1\nwaivers:\n  - &w {policy: a/b, path: \"x\", reason: \"");
  for (i = 0; i < 65536; i++)
    yaml[n++] = 'r';
  n += (size_t)snprintf(yaml + n, cap - n, "\", expires: 2030-01-01}\n");
  for (i = 0; i < 400; i++)
    n += (size_t)snprintf(yaml + n, cap - n, "  - *w\n");
  assert_int_equal(mlg_config_parse(&cfg, yaml, n, "mlgate.yml", &err), MLG_ECONFIG);
  assert_null(cfg);
  assert_string_equal(err.msg, "mlgate.yml:3:41: the configuration is too large once aliases "
                      "are expanded (more than 16777216 bytes)");
  /* the same with a few aliases is fine */
  n = (size_t)(strstr(yaml, "  - *w\n") - yaml) + 7 * 10;
  assert_int_equal(mlg_config_parse(&cfg, yaml, n, "mlgate.yml", &err), 0);
  assert_int_equal(cfg->nwaivers, 11);
  assert_int_equal(strlen(cfg->waivers[10].reason), 65536);
  mlg_config_free(cfg);
  free(yaml);
}

/* Found by fuzzing: a numeric fingerprint as the very last bytes of an
 * input that is not NUL-terminated was scanned past its end. */
static void test_fingerprint_at_end(void **state)
{
  static const char text[] = "version: 1\nwaivers:\n- policy: a/b\n  reason: r\n"
                             "  expires: 2030-01-01\n  fingerprint: 012345678901";
  char *exact = malloc(sizeof text - 1);
  mlg_config *cfg = NULL;
  mlg_err err;
  (void)state;
  assert_non_null(exact);
  memcpy(exact, text, sizeof text - 1);
  assert_int_equal(mlg_config_parse(&cfg, exact, sizeof text - 1, "mlgate.yml", &err), 0);
  assert_string_equal(cfg->waivers[0].fingerprint, "012345678901");
  mlg_config_free(cfg);
  free(exact);
}

static void test_dates(void **state)
{
  mlg_err err;
  time_t now;
  int32_t today;
  (void)state;
  assert_int_equal(mlg_date_parse("1970-01-01", &err), 0);
  assert_int_equal(mlg_date_parse("1970-03-01", &err), 59);
  assert_int_equal(mlg_date_parse("2027-01-31", &err), 20849);
  assert_int_equal(mlg_date_parse("2028-02-29", &err), 21243);
  assert_int_equal(mlg_date_parse("2000-02-29", &err), 11016); /* divisible by 400 */
  assert_int_equal(mlg_date_parse("2024-12-31", &err), 20088);
  assert_int_equal(mlg_date_parse("2100-03-01", &err), 47541);
  assert_int_equal(mlg_date_parse("9999-12-31", &err), 2932896);

  mlg_err_clear(&err);
  assert_int_equal(mlg_date_parse("2027-02-29", &err), -1);
  assert_int_equal(err.code, MLG_EINVAL);
  assert_string_equal(err.msg, "'2027-02-29': February 2027 has 28 days");
  assert_int_equal(mlg_date_parse("2100-02-29", &err), -1); /* century, not leap */
  assert_string_equal(err.msg, "'2100-02-29': February 2100 has 28 days");
  assert_int_equal(mlg_date_parse("2026-02-30", &err), -1);
  assert_int_equal(mlg_date_parse("2026-04-31", &err), -1);
  assert_string_equal(err.msg, "'2026-04-31': April 2026 has 30 days");
  assert_int_equal(mlg_date_parse("2026-13-01", &err), -1);
  assert_string_equal(err.msg, "'2026-13-01': the month must be 01 to 12");
  assert_int_equal(mlg_date_parse("2026-00-10", &err), -1);
  assert_int_equal(mlg_date_parse("2026-01-00", &err), -1);
  assert_int_equal(mlg_date_parse("1969-12-31", &err), -1);
  assert_string_equal(err.msg, "'1969-12-31': the year must be 1970 or later");
  assert_int_equal(mlg_date_parse("2027-1-31", &err), -1);
  assert_string_equal(err.msg, "'2027-1-31' is not a date YYYY-MM-DD");
  assert_int_equal(mlg_date_parse("2027-01-31 ", &err), -1);
  assert_int_equal(mlg_date_parse("2027-01-3", &err), -1);
  assert_int_equal(mlg_date_parse("2027/01/31", &err), -1);
  assert_int_equal(mlg_date_parse("+027-01-31", &err), -1);
  assert_int_equal(mlg_date_parse("", &err), -1);
  assert_int_equal(mlg_date_parse(NULL, &err), -1);
  assert_int_equal(mlg_date_parse("2027-01-31", NULL), 20849);
  assert_int_equal(mlg_date_parse("x", NULL), -1);

  now = time(NULL);
  today = mlg_date_today();
  assert_true(today == now / 86400 || today == now / 86400 + 1);
  assert_true(today > 20000);
}

static void test_load(void **state)
{
  char dir[] = "/tmp/mlg-test-config-XXXXXX", path[128];
  mlg_config *cfg = (mlg_config *)&cfg;
  mlg_err err;
  FILE *f;
  (void)state;

  assert_non_null(mkdtemp(dir));
  snprintf(path, sizeof path, "%s/mlgate.yml", dir);
  assert_int_equal(mlg_config_load(&cfg, path, &err), MLG_ENOENT);
  assert_null(cfg);
  assert_non_null(strstr(err.msg, "cannot open"));

  f = fopen(path, "w");
  assert_non_null(f);
  fputs("version: 1\npolicies:\n  model/x: {enforcement: hard}\n", f);
  fclose(f);
  assert_int_equal(mlg_config_load(&cfg, path, &err), 0);
  assert_string_equal(cfg->path, path);
  assert_int_equal(mlg_config_policy(cfg, "model/x")->enforcement, MLG_ENF_HARD);
  mlg_config_free(cfg);

  /* messages name the file as given */
  f = fopen(path, "w");
  assert_non_null(f);
  fputs("version: 1\nfail_on: x\n", f);
  fclose(f);
  assert_int_equal(mlg_config_load(&cfg, path, &err), MLG_ECONFIG);
  assert_null(cfg);
  assert_true(strncmp(err.msg, path, strlen(path)) == 0);
  assert_string_equal(err.msg + strlen(path),
                      ":2:10: 'fail_on' must be one of info, low, medium, high, critical");
  unlink(path);

  assert_int_equal(mlg_config_load(&cfg, dir, &err), MLG_ECONFIG);
  assert_null(cfg);
  assert_non_null(strstr(err.msg, "not a regular file"));
  assert_int_equal(rmdir(dir), 0);
}

int main(void)
{
  const struct CMUnitTest tests[] = {
    cmocka_unit_test(test_full),
    cmocka_unit_test(test_defaults),
    cmocka_unit_test(test_limits_bounds),
    cmocka_unit_test(test_policy_lookup),
    cmocka_unit_test(test_error_examples),
    cmocka_unit_test(test_error_document),
    cmocka_unit_test(test_error_parser),
    cmocka_unit_test(test_error_globs),
    cmocka_unit_test(test_error_policies),
    cmocka_unit_test(test_error_waivers),
    cmocka_unit_test(test_waiver_fingerprints),
    cmocka_unit_test(test_alias_expansion),
    cmocka_unit_test(test_fingerprint_at_end),
    cmocka_unit_test(test_dates),
    cmocka_unit_test(test_load),
  };
  return cmocka_run_group_tests(tests, NULL, NULL);
}
