#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "eval.h"
#include "parse.h"
#include "report.h"
#include "testrun.h"

/* Fixtures, relative to the repository root (where `make unit` runs us). */
#define FX "tests/unit/fixtures/engine"
#define TR "tests/unit/fixtures/testrun"

static char tmp[64];

static int setup(void **state)
{
  struct stat st;
  if (stat(FX "/ws", &st) != 0) {
    fprintf(stderr, "run from the repository root\n");
    return -1;
  }
  strcpy(tmp, "/tmp/mlg_eval_XXXXXX");
  return mkdtemp(tmp) ? 0 : -1;
}

static int teardown(void **state)
{
  char cmd[128];
  snprintf(cmd, sizeof cmd, "rm -rf '%s'", tmp);
  return system(cmd) == 0 ? 0 : -1;
}

/* Writes a config file and returns its path. */
static const char *config(const char *text)
{
  static char path[128];
  FILE *f;
  snprintf(path, sizeof path, "%s/mlgate.yml", tmp);
  f = fopen(path, "w");
  assert_non_null(f);
  fputs(text, f);
  fclose(f);
  return path;
}

static void dump(const mlg_report *r)
{
  if (getenv("MLG_TEST_DUMP")) {
    mlg_buf b = MLG_BUF_INIT;
    mlg_report_style st = {0, 0};
    mlg_err e;
    mlg_report_write_text(&b, r, &st, &e);
    fprintf(stderr, "%s", b.ptr);
    mlg_buf_free(&b);
  }
}

/* mlg_eval on the fixture workspace with the given policy dirs, gates and
 * config (NULL: --no-config). */
static mlg_report *eval(const char *const *dirs, size_t ndirs, unsigned gates,
                        const char *cfg_path, int fail_on)
{
  mlg_eval_opts o;
  mlg_report *r = NULL;
  mlg_err e;
  memset(&o, 0, sizeof o);
  o.path = FX "/ws";
  o.gates = gates;
  o.config_path = cfg_path;
  o.no_config = cfg_path == NULL;
  o.policy_dirs = dirs;
  o.npolicy_dirs = ndirs;
  o.no_builtins = 1;
  o.fail_on = fail_on;
  o.jobs = 2;
  assert_int_equal(mlg_eval(&r, &o, &e), 0);
  assert_non_null(r);
  dump(r);
  return r;
}

static const char *const P1[] = {FX "/p1"};
#define TRAIN (1u << MLG_GATE_TRAIN)

static size_t count_policy(const mlg_report *r, const char *policy)
{
  size_t i, n = 0;
  for (i = 0; i < r->nfindings; i++)
    n += strcmp(r->findings[i].policy, policy) == 0;
  return n;
}

static void test_eval_fail(void **state)
{
  mlg_report *r = eval(P1, 1, TRAIN, NULL, -1);
  size_t i;

  assert_string_equal(r->root, FX "/ws");
  assert_int_equal(r->verdict, MLG_VERDICT_FAIL);
  assert_int_equal(r->exit_code, 1);
  assert_int_equal(r->nerrors, 0);
  assert_int_equal(r->gates[MLG_GATE_TRAIN].evaluated, 1);
  assert_int_equal(r->gates[MLG_GATE_TRAIN].policies, 2);
  assert_int_equal(r->gates[MLG_GATE_TRAIN].verdict, MLG_VERDICT_FAIL);
  assert_int_equal(r->gates[MLG_GATE_DATA].verdict, MLG_VERDICT_SKIPPED);
  assert_int_equal(r->policies, 2);
  assert_int_equal(r->files, 5);
  assert_int_equal(r->nfindings, 3);
  /* README.md from the advisory run-only policy: not blocking */
  assert_string_equal(r->findings[0].policy, "train/run-only");
  assert_int_equal(r->findings[0].blocking, 0);
  for (i = 1; i < 3; i++) {
    assert_string_equal(r->findings[i].policy, "train/flag-torch");
    assert_int_equal(r->findings[i].blocking, 1);
    assert_int_equal(strlen(r->findings[i].fingerprint), 32);
  }
  assert_int_equal(r->gates[MLG_GATE_TRAIN].blocking, 2);
  mlg_report_free(r);
}

static void test_eval_fail_on(void **state)
{
  mlg_report *r;
  /* --fail-on critical: high findings do not block */
  r = eval(P1, 1, TRAIN, NULL, MLG_SEV_CRITICAL);
  assert_int_equal(r->fail_on, MLG_SEV_CRITICAL);
  assert_int_equal(r->verdict, MLG_VERDICT_PASS);
  assert_int_equal(r->exit_code, 0);
  assert_int_equal(r->nfindings, 3);
  mlg_report_free(r);
  /* the config's fail_on, overridden by the option */
  r = eval(P1, 1, TRAIN, config("version: 1\nfail_on: critical\n"), -1);
  assert_int_equal(r->exit_code, 0);
  mlg_report_free(r);
  r = eval(P1, 1, TRAIN, config("version: 1\nfail_on: critical\n"), MLG_SEV_HIGH);
  assert_int_equal(r->exit_code, 1);
  mlg_report_free(r);
  /* a severity override in the config */
  r = eval(P1, 1, TRAIN, config("version: 1\nfail_on: medium\npolicies:\n  train/flag-torch:\n"
                                "    severity: low\n"),
           -1);
  assert_int_equal(r->exit_code, 0);
  assert_int_equal(r->findings[1].severity, MLG_SEV_LOW);
  mlg_report_free(r);
}

static void test_eval_enforcement(void **state)
{
  mlg_report *r = eval(P1, 1, TRAIN,
                       config("version: 1\npolicies:\n  train/flag-torch:\n"
                              "    enforcement: advisory\n"),
                       -1);
  assert_int_equal(r->verdict, MLG_VERDICT_PASS);
  assert_int_equal(r->nfindings, 3);
  assert_int_equal(r->gates[MLG_GATE_TRAIN].blocking, 0);
  mlg_report_free(r);
  /* disabled: not evaluated, not counted */
  r = eval(P1, 1, TRAIN,
           config("version: 1\npolicies:\n  train/flag-torch:\n    enabled: false\n"), -1);
  assert_int_equal(r->verdict, MLG_VERDICT_PASS);
  assert_int_equal(count_policy(r, "train/flag-torch"), 0);
  assert_int_equal(r->gates[MLG_GATE_TRAIN].policies, 1);
  mlg_report_free(r);
}

static void test_eval_params(void **state)
{
  mlg_report *r = eval(P1, 1, TRAIN,
                       config("version: 1\npolicies:\n  train/flag-torch:\n"
                              "    params: {needle: pickle.load}\n"),
                       -1);
  assert_int_equal(count_policy(r, "train/flag-torch"), 1);
  assert_string_equal(r->findings[1].loc.path, "src/util.py");
  assert_int_equal(r->findings[1].loc.line, 4);
  assert_string_equal(r->findings[1].message, "call to pickle.load can run code from the file");
  mlg_report_free(r);
}

static void test_eval_waivers(void **state)
{
  mlg_report *r;
  char text[1024], fp[33];
  size_t i;

  /* by path, not expired */
  r = eval(P1, 1, TRAIN,
           config("version: 1\nwaivers:\n  - policy: train/flag-torch\n    path: \"src/**\"\n"
                  "    reason: legacy loader, tracked in JIRA-1\n    expires: 2999-12-31\n"),
           -1);
  assert_int_equal(r->verdict, MLG_VERDICT_PASS);
  assert_int_equal(r->exit_code, 0);
  for (i = 1; i < 3; i++) {
    assert_int_equal(r->findings[i].waived, 1);
    assert_int_equal(r->findings[i].blocking, 0);
    assert_string_equal(r->findings[i].waiver_reason, "legacy loader, tracked in JIRA-1");
  }
  assert_int_equal(r->gates[MLG_GATE_TRAIN].waived, 2);
  memcpy(fp, r->findings[2].fingerprint, 33);
  mlg_report_free(r);

  /* by fingerprint prefix: only that finding */
  snprintf(text, sizeof text,
           "version: 1\nwaivers:\n  - policy: train/flag-torch\n    fingerprint: %.12s\n"
           "    reason: reviewed\n    expires: 2999-12-31\n",
           fp);
  r = eval(P1, 1, TRAIN, config(text), -1);
  assert_int_equal(r->exit_code, 1);
  assert_int_equal(r->findings[1].waived, 0);
  assert_int_equal(r->findings[1].blocking, 1);
  assert_int_equal(r->findings[2].waived, 1);
  assert_string_equal(r->findings[2].fingerprint, fp);
  mlg_report_free(r);

  /* a waiver for another path does not apply */
  r = eval(P1, 1, TRAIN,
           config("version: 1\nwaivers:\n  - policy: train/flag-torch\n    path: \"lib/**\"\n"
                  "    reason: r\n    expires: 2999-12-31\n"),
           -1);
  assert_int_equal(r->exit_code, 1);
  assert_int_equal(r->gates[MLG_GATE_TRAIN].waived, 0);
  mlg_report_free(r);
}

static void test_eval_waiver_expired_and_refused(void **state)
{
  mlg_report *r;
  const mlg_finding *f = NULL;
  size_t i;

  r = eval(P1, 1, TRAIN,
           config("version: 1\nwaivers:\n  - policy: train/flag-torch\n    path: \"src/**\"\n"
                  "    reason: old\n    expires: 2001-02-03\n"),
           -1);
  assert_int_equal(r->exit_code, 1);
  for (i = 0; i < r->nfindings; i++)
    if (strcmp(r->findings[i].policy, "mlgate/waiver-expired") == 0)
      f = &r->findings[i];
  assert_non_null(f);
  assert_int_equal(count_policy(r, "mlgate/waiver-expired"), 1); /* once per waiver */
  assert_string_equal(f->message, "waiver for train/flag-torch expired on 2001-02-03 and no longer "
                                  "applies; fix the finding or renew the waiver with a new reason");
  assert_string_equal(f->loc.path, "mlgate.yml");
  assert_int_equal(f->loc.line, 3);
  assert_int_equal(f->severity, MLG_SEV_LOW);
  assert_int_equal(f->gate, MLG_GATE_TRAIN);
  assert_int_equal(count_policy(r, "train/flag-torch"), 2);
  mlg_report_free(r);

  /* hard enforcement refuses waivers */
  r = eval(P1, 1, TRAIN,
           config("version: 1\npolicies:\n  train/flag-torch:\n    enforcement: hard\n"
                  "waivers:\n  - policy: train/flag-torch\n    path: \"src/**\"\n"
                  "    reason: please\n    expires: 2999-01-01\n"),
           -1);
  assert_int_equal(r->exit_code, 1);
  assert_int_equal(r->gates[MLG_GATE_TRAIN].waived, 0);
  for (i = 0; i < r->nfindings; i++)
    if (strcmp(r->findings[i].policy, "mlgate/waiver-refused") == 0)
      assert_string_equal(r->findings[i].message,
                          "waiver for train/flag-torch is refused: the policy's enforcement is "
                          "hard");
  i = count_policy(r, "mlgate/waiver-refused");
  mlg_report_free(r);
  /* one notice per refused waiver, like the expired notice (not one per
   * finding it would have covered: two identical findings at mlgate.yml:6:5
   * are noise) */
  assert_int_equal(i, 1);
}

/* PATH/mlgate.yml is used when present; --no-config ignores it. */
static void test_eval_config_autodetect(void **state)
{
  char cmd[512], ws2[128];
  FILE *f;
  mlg_eval_opts o;
  mlg_report *r = NULL;
  mlg_err e;

  snprintf(ws2, sizeof ws2, "%s/ws2", tmp);
  snprintf(cmd, sizeof cmd, "rm -rf '%s' && cp -r " FX "/ws '%s'", ws2, ws2);
  assert_int_equal(system(cmd), 0);
  snprintf(cmd, sizeof cmd, "%s/mlgate.yml", ws2);
  f = fopen(cmd, "w");
  assert_non_null(f);
  fputs("version: 1\nfail_on: critical\n", f);
  fclose(f);
  memset(&o, 0, sizeof o);
  o.path = ws2;
  o.gates = TRAIN;
  o.policy_dirs = P1;
  o.npolicy_dirs = 1;
  o.no_builtins = 1;
  o.fail_on = -1;
  assert_int_equal(mlg_eval(&r, &o, &e), 0);
  assert_int_equal(r->fail_on, MLG_SEV_CRITICAL);
  assert_int_equal(r->exit_code, 0);
  assert_int_equal(r->files, 6); /* the config is a workspace file too */
  mlg_report_free(r);
  o.no_config = 1;
  assert_int_equal(mlg_eval(&r, &o, &e), 0);
  assert_int_equal(r->exit_code, 1);
  mlg_report_free(r);
}

/* End to end: findings keep their fingerprints when code above them moves
 * them down, and a changed line gets a new one. */
static void test_eval_fingerprints_survive_edits(void **state)
{
  static const char *const moved =
    "\"\"\"A docstring added above.\"\"\"\n"
    "import os\n"
    "import torch\n"
    "\n"
    "model = torch.load(\"weights.pt\")\n"
    "print(model)\n"
    "\n"
    "\n"
    "def again(path):\n"
    "    return   torch.load(path)\n";
  static const char *const changed =
    "import torch\n"
    "\n"
    "model = torch.load(\"other.pt\")\n"
    "print(model)\n"
    "\n"
    "def again(path):\n"
    "    return   torch.load(path)\n";
  char cmd[512], ws2[128], fp[2][33];
  mlg_eval_opts o;
  mlg_report *r = NULL;
  mlg_err e;
  FILE *f;
  int round;

  snprintf(ws2, sizeof ws2, "%s/fpws", tmp);
  memset(&o, 0, sizeof o);
  o.path = ws2;
  o.gates = TRAIN;
  o.no_config = 1;
  o.policy_dirs = P1;
  o.npolicy_dirs = 1;
  o.no_builtins = 1;
  o.fail_on = -1;
  for (round = 0; round < 3; round++) {
    snprintf(cmd, sizeof cmd, "rm -rf '%s' && cp -r " FX "/ws '%s'", ws2, ws2);
    assert_int_equal(system(cmd), 0);
    if (round > 0) {
      snprintf(cmd, sizeof cmd, "%s/src/train.py", ws2);
      f = fopen(cmd, "w");
      assert_non_null(f);
      fputs(round == 1 ? moved : changed, f);
      fclose(f);
    }
    assert_int_equal(mlg_eval(&r, &o, &e), 0);
    dump(r);
    assert_int_equal(count_policy(r, "train/flag-torch"), 2);
    assert_string_equal(r->findings[1].policy, "train/flag-torch");
    if (round == 0) {
      memcpy(fp[0], r->findings[1].fingerprint, 33);
      memcpy(fp[1], r->findings[2].fingerprint, 33);
      assert_string_not_equal(fp[0], fp[1]);
    } else if (round == 1) {
      assert_int_equal(r->findings[1].loc.line, 5);
      assert_int_equal(r->findings[2].loc.line, 10);
      /* moved down */
      assert_string_equal(r->findings[1].fingerprint, fp[0]);
      assert_string_equal(r->findings[2].fingerprint, fp[1]);
    } else {
      assert_string_not_equal(r->findings[1].fingerprint, fp[0]);
      assert_string_equal(r->findings[2].fingerprint, fp[1]);
    }
    mlg_report_free(r);
  }
}

static void test_eval_config_errors(void **state)
{
  mlg_report *r;

  /* unknown policy id: located in the config */
  r = eval(P1, 1, TRAIN,
           config("version: 1\npolicies:\n  train/flag-torhc:\n    enforcement: hard\n"), -1);
  assert_int_equal(r->exit_code, 2);
  assert_int_equal(r->nerrors, 1);
  assert_non_null(strstr(r->errors[0].message,
                         "mlgate.yml:3:3: unknown policy 'train/flag-torhc' (run 'mlgate list' to "
                         "see policy ids)"));
  /* findings are still reported */
  assert_int_equal(r->nfindings, 3);
  mlg_report_free(r);

  /* unknown param, wrong param type */
  r = eval(P1, 1, TRAIN,
           config("version: 1\npolicies:\n  train/flag-torch:\n    params:\n"
                  "      needel: x\n"),
           -1);
  assert_int_equal(r->exit_code, 2);
  assert_non_null(strstr(r->errors[0].message, "mlgate.yml:5:7: policy 'train/flag-torch' has no "
                                               "parameter 'needel' (its parameters are needle)"));
  mlg_report_free(r);
  r = eval(P1, 1, TRAIN,
           config("version: 1\npolicies:\n  train/flag-torch:\n    params:\n"
                  "      needle: [a, b]\n"),
           -1);
  assert_int_equal(r->exit_code, 2);
  assert_non_null(strstr(r->errors[0].message, "mlgate.yml:5:15: parameter 'needle' of policy "
                                               "'train/flag-torch' must be a string, got a "
                                               "sequence"));
  mlg_report_free(r);

  /* a config that does not parse: an error, no evaluation */
  r = eval(P1, 1, TRAIN, config("version: 1\nfail_on: sometimes\n"), -1);
  assert_int_equal(r->exit_code, 2);
  assert_int_equal(r->nfindings, 0);
  assert_int_equal(r->nerrors, 1);
  assert_non_null(strstr(r->errors[0].message, "mlgate.yml:2:10: "));
  mlg_report_free(r);

  /* waiver for an unknown policy */
  r = eval(P1, 1, TRAIN,
           config("version: 1\nwaivers:\n  - policy: train/nope\n    path: x\n    reason: r\n"
                  "    expires: 2999-01-01\n"),
           -1);
  assert_int_equal(r->exit_code, 2);
  assert_non_null(strstr(r->errors[0].message,
                         "mlgate.yml:3:5: waiver for unknown policy 'train/nope'"));
  mlg_report_free(r);
}

static void test_eval_policy_errors(void **state)
{
  static const char *const dirs[] = {FX "/p1", FX "/broken"};
  static const char *const dup[] = {FX "/p1", FX "/dup"};
  mlg_report *r;
  size_t i, bad_meta = 0;

  /* broken policies: one error each, the run fails closed */
  r = eval(dirs, 2, TRAIN | (1u << MLG_GATE_MODEL), NULL, -1);
  assert_int_equal(r->verdict, MLG_VERDICT_ERROR);
  assert_int_equal(r->exit_code, 2);
  for (i = 0; i < r->nerrors; i++)
    bad_meta += strstr(r->errors[i].message, "unknown field 'colour'") != NULL;
  assert_int_equal(bad_meta, 1);
  /* bad-meta, not-table, syntax, wrong-id, and the model gate has no valid
   * policy */
  if (r->nerrors != 5) {
    for (i = 0; i < r->nerrors; i++)
      print_error("error %zu: [%s] %s (%s)\n", i, r->errors[i].policy, r->errors[i].message,
                  r->errors[i].where);
    fail_msg("expected 5 errors, got %zu", r->nerrors);
  }
  /* and the findings of the valid policies are there */
  assert_int_equal(count_policy(r, "train/flag-torch"), 2);
  mlg_report_free(r);

  /* duplicate ids */
  r = eval(dup, 2, TRAIN, NULL, -1);
  assert_int_equal(r->exit_code, 2);
  assert_int_equal(r->nerrors, 1);
  assert_non_null(strstr(r->errors[0].message,
                         "policy id 'train/flag-torch' is declared by both"));
  mlg_report_free(r);
}

static void test_eval_empty(void **state)
{
  static const char *const none[] = {FX "/ws/src"}; /* no .lua files */
  mlg_report *r;

  /* a requested gate without policies is an error */
  r = eval(P1, 1, TRAIN | (1u << MLG_GATE_MONITOR), NULL, -1);
  assert_int_equal(r->exit_code, 2);
  assert_int_equal(r->nerrors, 1);
  assert_int_equal(r->errors[0].gate, MLG_GATE_MONITOR);
  assert_string_equal(r->errors[0].message,
                      "no policies to evaluate in the monitor gate; add policies with "
                      "--policies or enable them in the config");
  assert_int_equal(r->gates[MLG_GATE_MONITOR].verdict, MLG_VERDICT_ERROR);
  mlg_report_free(r);

  /* nothing at all is not a pass */
  r = eval(none, 1, 0, NULL, -1);
  assert_int_equal(r->exit_code, 2);
  assert_int_equal(r->nerrors, 1);
  assert_string_equal(r->errors[0].message,
                      "no policies were evaluated; an empty evaluation is not a pass");
  mlg_report_free(r);

  /* a workspace that does not exist */
  {
    mlg_eval_opts o;
    mlg_err e;
    memset(&o, 0, sizeof o);
    o.path = FX "/nope";
    o.no_config = 1;
    o.no_builtins = 1;
    o.fail_on = -1;
    assert_int_equal(mlg_eval(&r, &o, &e), 0);
    assert_int_equal(r->exit_code, 2);
    assert_int_equal(r->nerrors, 1);
    assert_string_equal(r->errors[0].path, FX "/nope");
    mlg_report_free(r);
  }
}

static void test_eval_single_file(void **state)
{
  static const char *const dirs[] = {FX "/p1"};
  mlg_eval_opts o;
  mlg_report *r = NULL;
  mlg_err e;

  /* a single file is judged by content, paths relative to its directory */
  memset(&o, 0, sizeof o);
  o.path = FX "/ws/src/train.py";
  o.gates = TRAIN;
  o.no_config = 1;
  o.policy_dirs = dirs;
  o.npolicy_dirs = 1;
  o.no_builtins = 1;
  o.fail_on = -1;
  assert_int_equal(mlg_eval(&r, &o, &e), 0);
  dump(r);
  assert_int_equal(r->files, 1);
  assert_int_equal(count_policy(r, "train/flag-torch"), 2);
  assert_string_equal(r->findings[1].loc.path, "train.py");
  mlg_report_free(r);
}

/* --- mlgate test ------------------------------------------------------------ */

static const char *test_run(const char *const *dirs, size_t n, mlg_test_format fmt, int *code)
{
  static mlg_buf out;
  mlg_test_opts o;
  mlg_err e;
  memset(&o, 0, sizeof o);
  o.dirs = dirs;
  o.ndirs = n;
  o.format = fmt;
  mlg_buf_free(&out);
  assert_int_equal(mlg_test_run(&out, code, &o, &e), 0);
  if (getenv("MLG_TEST_DUMP"))
    fprintf(stderr, "%s", out.ptr);
  return out.ptr ? out.ptr : "";
}

static void test_testrun_pass(void **state)
{
  static const char *const dirs[] = {TR "/pass"};
  int code = -1;
  const char *out = test_run(dirs, 1, MLG_TEST_TEXT, &code);

  assert_int_equal(code, 0);
  assert_non_null(strstr(out, TR "/pass/tests/flag.test.yml\n"));
  /* fixtures/ directories are not searched for tests (a decoy lies there) */
  assert_null(strstr(out, "decoy"));
  assert_non_null(strstr(out, "torch.load is flagged (2 findings)\n"));
  assert_non_null(strstr(out, "clean code passes (0 findings)\n"));
  assert_non_null(strstr(out, "a parse failure fails closed (0 findings)\n"));
  assert_non_null(strstr(out, "params override the default (1 finding)\n"));
  assert_non_null(strstr(out, "\n1 test file, 4 cases: 4 passed, 0 failed, 0 errors\n"));
}

static void test_testrun_failures(void **state)
{
  static const char *const dirs[] = {TR "/fail"};
  int code = -1;
  const char *out = test_run(dirs, 1, MLG_TEST_TEXT, &code);

  assert_int_equal(code, 1);
  /* a missing and an unexpected finding, each named */
  assert_non_null(strstr(out, "missing: x.py:4 [train/flag] (expected at line 7 of the test file)\n"));
  assert_non_null(strstr(out, "unexpected: x.py:2:8 high (confidence "));
  assert_non_null(strstr(out, "): call to torch.load [train/flag]\n"));
  /* an unexpected error */
  assert_non_null(strstr(out, "error: "));
  assert_non_null(strstr(out, "cannot parse broken/x.py"));
  assert_non_null(strstr(out, "\n1 test file, 3 cases: 0 passed, 3 failed, 0 errors\n"));
}

static void test_testrun_formats(void **state)
{
  static const char *const dirs[] = {TR "/pass"};
  mlg_doc *doc = NULL;
  mlg_err e;
  int code = -1;
  const char *out = test_run(dirs, 1, MLG_TEST_JSON, &code);
  const mlg_node *sum;

  assert_int_equal(code, 0);
  if (mlg_json_parse(&doc, out, strlen(out), "test.json", NULL, &e) != 0)
    fail_msg("test JSON does not parse: %s", e.msg);
  assert_string_equal(mlg_node_as_str(mlg_map_get(doc->root, "schema"), ""), "mlgate.test/v1");
  sum = mlg_map_get(doc->root, "summary");
  assert_int_equal(mlg_node_as_int(mlg_map_get(sum, "cases"), -1), 4);
  assert_int_equal(mlg_node_as_int(mlg_map_get(sum, "passed"), -1), 4);
  assert_int_equal(mlg_node_as_int(mlg_map_get(sum, "exit_code"), -1), 0);
  mlg_doc_free(doc);

  out = test_run(dirs, 1, MLG_TEST_JUNIT, &code);
  assert_memory_equal(out, "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n", 39);
  assert_non_null(strstr(out, "<testsuites name=\"mlgate test\" tests=\"4\" failures=\"0\" "
                              "errors=\"0\">"));
  assert_non_null(strstr(out, "<testcase classname=\"train/flag\" name=\"torch.load is "
                              "flagged\"/>"));
}

static void test_testrun_broken(void **state)
{
  static const char *const broken[] = {TR "/broken"};
  static const char *const empty[] = {TR "/pass/train"};
  int code = -1;
  const char *out;

  out = test_run(broken, 1, MLG_TEST_TEXT, &code);
  assert_int_equal(code, 2);
  assert_non_null(strstr(out, TR "/broken/bad.test.yml:3:5: unknown key 'expected' in a test "
                              "case"));
  /* no tests is not a pass */
  out = test_run(empty, 1, MLG_TEST_TEXT, &code);
  assert_int_equal(code, 2);
  assert_non_null(strstr(out, "no test files (*.test.yml) found under " TR "/pass/train\n"));
}

int main(void)
{
  const struct CMUnitTest tests[] = {
    cmocka_unit_test(test_eval_fail),
    cmocka_unit_test(test_eval_fail_on),
    cmocka_unit_test(test_eval_enforcement),
    cmocka_unit_test(test_eval_params),
    cmocka_unit_test(test_eval_waivers),
    cmocka_unit_test(test_eval_waiver_expired_and_refused),
    cmocka_unit_test(test_eval_config_autodetect),
    cmocka_unit_test(test_eval_fingerprints_survive_edits),
    cmocka_unit_test(test_eval_config_errors),
    cmocka_unit_test(test_eval_policy_errors),
    cmocka_unit_test(test_eval_empty),
    cmocka_unit_test(test_eval_single_file),
    cmocka_unit_test(test_testrun_pass),
    cmocka_unit_test(test_testrun_failures),
    cmocka_unit_test(test_testrun_formats),
    cmocka_unit_test(test_testrun_broken),
  };
  alarm(600);
  return cmocka_run_group_tests(tests, setup, teardown);
}
