#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "atlas.h"
#include "config.h"
#include "glob.h"
#include "parse.h"
#include "policy.h"

#define PATH "pol/train/x.lua"

/* Valid metadata for PATH, as the child sends it; %s slots let a test add or
 * replace fields. */
#define BASE_FIELDS                                                                    \
  "\"id\": \"train/x\", \"title\": \"No unsafe loads\", \"gate\": \"train\", "         \
  "\"severity\": \"high\", \"atlas\": [\"AML.T0011.000\", \"AML.M0016\"], "            \
  "\"files\": [\"**/*.py\"]"

static mlg_doc *parse_json(const char *text)
{
  mlg_doc *doc = NULL;
  mlg_err e;
  if (mlg_json_parse(&doc, text, strlen(text), "meta", NULL, &e) != 0)
    fail_msg("bad test JSON: %s\n%s", e.msg, text);
  return doc;
}

static void policy_clear(mlg_policy *p)
{
  free(p->atlas.items);
  free(p->aliases.items);
  free(p->files.items);
  free(p->references.items);
  memset(p, 0, sizeof *p);
}

/* Validates {"fields": {fields}, "functions": [fns]} for a policy at path;
 * returns the code, message in e. The document is returned for successes
 * (the policy's strings point into it). */
static int meta(mlg_policy *p, mlg_doc **docp, const char *path, const char *fields,
                const char *fns, mlg_err *e)
{
  char text[4096];
  mlg_doc *doc;
  int rc;
  snprintf(text, sizeof text, "{\"t\": \"meta\", \"fields\": {%s}, \"functions\": [%s]}", fields,
           fns);
  doc = parse_json(text);
  memset(p, 0, sizeof *p);
  p->path = (char *)path;
  mlg_err_clear(e);
  rc = mlg_policy_set_meta(p, doc->root, e);
  *docp = doc;
  return rc;
}

static void expect_error(const char *fields, const char *fns, const char *msg)
{
  mlg_policy p;
  mlg_doc *doc;
  mlg_err e;
  int rc = meta(&p, &doc, PATH, fields, fns, &e);
  if (rc != MLG_EPOLICY)
    fail_msg("expected MLG_EPOLICY for fields {%s} functions [%s], got %d", fields, fns, rc);
  assert_int_equal(e.code, MLG_EPOLICY);
  assert_int_equal(p.loaded, 0);
  if (strcmp(e.msg, msg) != 0)
    fail_msg("fields {%s}:\n  got      \"%s\"\n  expected \"%s\"", fields, e.msg, msg);
  policy_clear(&p);
  mlg_doc_free(doc);
}

/* --- valid metadata ---------------------------------------------------------- */

static void test_valid_and_defaults(void **state)
{
  mlg_policy p;
  mlg_doc *doc;
  mlg_err e;

  assert_int_equal(meta(&p, &doc, PATH, BASE_FIELDS, "\"check\"", &e), 0);
  assert_int_equal(p.loaded, 1);
  assert_string_equal(p.id, "train/x");
  assert_string_equal(p.title, "No unsafe loads");
  assert_null(p.description);
  assert_null(p.remediation);
  assert_int_equal(p.gates, 1u << MLG_GATE_TRAIN);
  assert_int_equal(p.severity, MLG_SEV_HIGH);
  assert_int_equal(p.confidence, MLG_CONF_HIGH);
  assert_int_equal(p.enforcement, MLG_ENF_SOFT);
  assert_int_equal(p.atlas.len, 2);
  assert_string_equal(p.atlas.items[0], "AML.T0011.000");
  assert_string_equal(p.atlas.items[1], "AML.M0016");
  assert_int_equal(p.aliases.len, 0);
  assert_int_equal(p.references.len, 0);
  assert_int_equal(p.files.len, 1);
  assert_string_equal(p.files.items[0], "**/*.py");
  assert_null(p.params);
  assert_int_equal(p.has_check, 1);
  assert_int_equal(p.has_run, 0);
  policy_clear(&p);
  mlg_doc_free(doc);
}

static void test_valid_full(void **state)
{
  mlg_policy p;
  mlg_doc *doc;
  mlg_err e;

  assert_int_equal(
    meta(&p, &doc, "train/x.lua",
         "\"id\": \"train/x\", \"title\": \"T\", \"description\": \"long text\", "
         "\"remediation\": \"do this\", \"gates\": [\"train\", \"deploy\"], "
         "\"severity\": \"informational\", \"confidence\": \"low\", \"enforcement\": \"hard\", "
         "\"atlas\": \"AML.T0011\", \"aliases\": [\"catalog:ML-UNSAFE-LOAD\", \"zizmor:x\"], "
         "\"references\": [\"https://example.org/a\"], \"files\": \"*.py\", "
         "\"params\": {\"allow\": [\"numpy.load\"], \"max\": 3}",
         "\"run\", \"check\"", &e),
    0);
  assert_string_equal(p.description, "long text");
  assert_string_equal(p.remediation, "do this");
  assert_int_equal(p.gates, (1u << MLG_GATE_TRAIN) | (1u << MLG_GATE_DEPLOY));
  assert_int_equal(p.severity, MLG_SEV_INFO);
  assert_int_equal(p.confidence, MLG_CONF_LOW);
  assert_int_equal(p.enforcement, MLG_ENF_HARD);
  assert_int_equal(p.atlas.len, 1); /* a single string is a list of one */
  assert_string_equal(p.atlas.items[0], "AML.T0011");
  assert_int_equal(p.aliases.len, 2);
  assert_string_equal(p.aliases.items[1], "zizmor:x");
  assert_int_equal(p.references.len, 1);
  assert_int_equal(p.files.len, 1);
  assert_non_null(p.params);
  assert_int_equal(p.params->type, MLG_MAP);
  assert_int_equal(p.params->u.map.len, 2);
  assert_non_null(mlg_map_get(p.params, "max"));
  assert_int_equal(p.has_check, 1);
  assert_int_equal(p.has_run, 1);
  policy_clear(&p);
  mlg_doc_free(doc);

  /* run only: no files needed; empty lists written as {} from Lua */
  assert_int_equal(meta(&p, &doc, PATH,
                        "\"id\": \"train/x\", \"title\": \"T\", \"gates\": \"model\", "
                        "\"severity\": \"low\", \"atlas\": [\"AML.M0016\"], \"aliases\": {}, "
                        "\"files\": {}, \"params\": {}",
                        "\"run\"", &e),
                   0);
  assert_int_equal(p.gates, 1u << MLG_GATE_MODEL);
  assert_int_equal(p.has_run, 1);
  assert_int_equal(p.has_check, 0);
  assert_int_equal(p.files.len, 0);
  assert_int_equal(p.aliases.len, 0);
  assert_non_null(p.params); /* an empty table of params */
  assert_int_equal(p.params->u.map.len, 0);
  policy_clear(&p);
  mlg_doc_free(doc);
}

/* --- every validation message ------------------------------------------------ */

static void test_unknown_field(void **state)
{
  expect_error(BASE_FIELDS ", \"colour\": \"red\"", "\"check\"",
               PATH ": unknown field 'colour' (fields are id, title, description, remediation, "
                    "gate or gates, severity, confidence, enforcement, atlas, aliases, files, "
                    "references, params, check, run)");
  expect_error(BASE_FIELDS, "\"check\", \"helper\"",
               PATH ": unknown field 'helper' (a policy's functions are check and run)");
}

static void test_not_a_policy(void **state)
{
  mlg_policy p;
  mlg_doc *doc = parse_json("{\"t\": \"meta\", \"functions\": []}");
  mlg_err e;
  memset(&p, 0, sizeof p);
  p.path = PATH;
  assert_int_equal(mlg_policy_set_meta(&p, doc->root, &e), MLG_EPOLICY);
  assert_string_equal(e.msg, PATH ": the file must return mlgate.policy{...}");
  policy_clear(&p);
  mlg_doc_free(doc);
}

static void test_id(void **state)
{
  static const char *const bad_ids[] = {"Train/x", "train", "train/", "/x", "train//x",
                                        "train/-x", "train/x y", "train/x!", NULL};
  char fields[512], msg[700];
  size_t i;

  expect_error("\"title\": \"T\", \"gate\": \"train\", \"severity\": \"high\", "
               "\"atlas\": [\"AML.M0016\"], \"files\": [\"*.py\"]",
               "\"check\"",
               PATH ": field 'id' is required (\"<gate>/<name>\", matching the file name)");
  expect_error("\"id\": 5, \"title\": \"T\", \"gate\": \"train\", \"severity\": \"high\", "
               "\"atlas\": [\"AML.M0016\"], \"files\": [\"*.py\"]",
               "\"check\"",
               PATH ": field 'id' is required (\"<gate>/<name>\", matching the file name)");
  for (i = 0; bad_ids[i]; i++) {
    snprintf(fields, sizeof fields,
             "\"id\": \"%s\", \"title\": \"T\", \"gate\": \"train\", \"severity\": \"high\", "
             "\"atlas\": [\"AML.M0016\"], \"files\": [\"*.py\"]",
             bad_ids[i]);
    snprintf(msg, sizeof msg,
             PATH ": field 'id' must be lower-case segments separated by '/', like "
                  "\"model/pickle-unsafe-import\" (got '%s')",
             bad_ids[i]);
    expect_error(fields, "\"check\"", msg);
  }
  /* id/path mismatch */
  expect_error("\"id\": \"train/y\", \"title\": \"T\", \"gate\": \"train\", \"severity\": "
               "\"high\", \"atlas\": [\"AML.M0016\"], \"files\": [\"*.py\"]",
               "\"check\"",
               PATH ": field 'id' is 'train/y' but the file must then be named 'train/y.lua'");
  expect_error("\"id\": \"ain/x\", \"title\": \"T\", \"gate\": \"train\", \"severity\": "
               "\"high\", \"atlas\": [\"AML.M0016\"], \"files\": [\"*.py\"]",
               "\"check\"",
               PATH ": field 'id' is 'ain/x' but the file must then be named 'ain/x.lua'");
}

static void test_id_path_forms(void **state)
{
  static const char *const ok_paths[] = {"train/x.lua", "/abs/dir/train/x.lua",
                                         "policies/train/x.lua", NULL};
  static const char *const bad_paths[] = {"pol/mytrain/x.lua", "pol/train/x.lu",
                                          "pol/train/x", "x.lua", NULL};
  size_t i;
  for (i = 0; ok_paths[i]; i++) {
    mlg_policy p;
    mlg_doc *doc;
    mlg_err e;
    if (meta(&p, &doc, ok_paths[i], BASE_FIELDS, "\"check\"", &e) != 0)
      fail_msg("path %s: %s", ok_paths[i], e.msg);
    policy_clear(&p);
    mlg_doc_free(doc);
  }
  for (i = 0; bad_paths[i]; i++) {
    mlg_policy p;
    mlg_doc *doc;
    mlg_err e;
    char expect[512];
    assert_int_equal(meta(&p, &doc, bad_paths[i], BASE_FIELDS, "\"check\"", &e), MLG_EPOLICY);
    snprintf(expect, sizeof expect,
             "%s: field 'id' is 'train/x' but the file must then be named 'train/x.lua'",
             bad_paths[i]);
    assert_string_equal(e.msg, expect);
    policy_clear(&p);
    mlg_doc_free(doc);
  }
}

#define ID_TITLE "\"id\": \"train/x\", \"title\": \"T\", "
#define REST "\"severity\": \"high\", \"atlas\": [\"AML.M0016\"], \"files\": [\"*.py\"]"

static void test_title(void **state)
{
  expect_error("\"id\": \"train/x\", \"gate\": \"train\", " REST, "\"check\"",
               PATH ": field 'title' is required (one line saying what the policy enforces)");
  expect_error("\"id\": \"train/x\", \"title\": \"\", \"gate\": \"train\", " REST, "\"check\"",
               PATH ": field 'title' is required (one line saying what the policy enforces)");
  expect_error("\"id\": \"train/x\", \"title\": \"two\\nlines\", \"gate\": \"train\", " REST,
               "\"check\"", PATH ": field 'title' must be one line of at most 200 characters");
  expect_error(ID_TITLE "\"description\": 3, \"gate\": \"train\", " REST, "\"check\"",
               PATH ": field 'description' must be a string");
  expect_error(ID_TITLE "\"remediation\": [], \"gate\": \"train\", " REST, "\"check\"",
               PATH ": field 'remediation' must be a string");
}

static void test_gates(void **state)
{
  expect_error(ID_TITLE "\"gate\": \"train\", \"gates\": [\"deploy\"], " REST, "\"check\"",
               PATH ": give either 'gate' or 'gates', not both");
  expect_error(ID_TITLE REST, "\"check\"",
               PATH ": field 'gate' is required (one of pipeline, data, train, model, deploy, "
                    "monitor)");
  expect_error(ID_TITLE "\"gate\": [\"train\"], " REST, "\"check\"",
               PATH ": field 'gate' must be a string (one of pipeline, data, train, model, "
                    "deploy, monitor)");
  expect_error(ID_TITLE "\"gate\": \"build\", " REST, "\"check\"",
               PATH ": unknown gate 'build' (gates are pipeline, data, train, model, deploy, "
                    "monitor)");
  expect_error(ID_TITLE "\"gates\": [\"train\", \"Deploy\"], " REST, "\"check\"",
               PATH ": unknown gate 'Deploy' (gates are pipeline, data, train, model, deploy, "
                    "monitor)");
  expect_error(ID_TITLE "\"gates\": [], " REST, "\"check\"",
               PATH ": field 'gates' must name at least one gate");
  expect_error(ID_TITLE "\"gates\": [1], " REST, "\"check\"",
               PATH ": field 'gates' must be a list of non-empty strings");
  expect_error(ID_TITLE "\"gates\": 7, " REST, "\"check\"",
               PATH ": field 'gates' must be a list of strings");
}

static void test_severity_confidence_enforcement(void **state)
{
  mlg_policy p;
  mlg_doc *doc;
  mlg_err e;
  size_t n;

  expect_error(ID_TITLE "\"gate\": \"train\", \"atlas\": [\"AML.M0016\"], \"files\": [\"*.py\"]",
               "\"check\"",
               PATH ": field 'severity' is required: one of info, low, medium, high, critical");
  /* A present but unknown severity: the message must name it and read as a
   * sentence (it used to end in "(got extreme" with no closing parenthesis). */
  assert_int_equal(meta(&p, &doc, PATH,
                        ID_TITLE "\"gate\": \"train\", \"severity\": \"extreme\", "
                                 "\"atlas\": [\"AML.M0016\"], \"files\": [\"*.py\"]",
                        "\"check\"", &e),
                   MLG_EPOLICY);
  assert_non_null(strstr(e.msg, PATH ": field 'severity'"));
  assert_non_null(strstr(e.msg, "one of info, low, medium, high, critical"));
  assert_non_null(strstr(e.msg, "extreme"));
  n = strlen(e.msg);
  if (strchr(e.msg, '(') && e.msg[n - 1] != ')' && e.msg[n - 2] != ')')
    fail_msg("unbalanced parenthesis in \"%s\"", e.msg);
  policy_clear(&p);
  mlg_doc_free(doc);

  expect_error(ID_TITLE "\"gate\": \"train\", \"confidence\": \"sure\", " REST, "\"check\"",
               PATH ": field 'confidence' must be one of low, medium, high");
  expect_error(ID_TITLE "\"gate\": \"train\", \"confidence\": 1, " REST, "\"check\"",
               PATH ": field 'confidence' must be one of low, medium, high");
  expect_error(ID_TITLE "\"gate\": \"train\", \"enforcement\": \"strict\", " REST, "\"check\"",
               PATH ": field 'enforcement' must be one of advisory, soft, hard");
  expect_error(ID_TITLE "\"gate\": \"train\", \"enforcement\": \"default\", " REST, "\"check\"",
               PATH ": field 'enforcement' must be one of advisory, soft, hard");
}

#define HEAD ID_TITLE "\"gate\": \"train\", \"severity\": \"high\", "

static void test_atlas_and_aliases(void **state)
{
  char msg[512];
  const char *atlas_msg = PATH ": field 'atlas' must list the MITRE ATLAS techniques and "
                               "mitigations the policy addresses, like "
                               "{\"AML.T0011.000\", \"AML.M0016\"}";
  expect_error(HEAD "\"files\": [\"*.py\"]", "\"check\"", atlas_msg);
  expect_error(HEAD "\"atlas\": [], \"files\": [\"*.py\"]", "\"check\"", atlas_msg);
  expect_error(HEAD "\"atlas\": {}, \"files\": [\"*.py\"]", "\"check\"", atlas_msg);
  snprintf(msg, sizeof msg, PATH ": field 'atlas': 'AML.T9999' is not a MITRE ATLAS %s id",
           mlg_atlas_version());
  expect_error(HEAD "\"atlas\": [\"AML.M0016\", \"AML.T9999\"], \"files\": [\"*.py\"]",
               "\"check\"", msg);
  snprintf(msg, sizeof msg, PATH ": field 'atlas': 'aml.m0016' is not a MITRE ATLAS %s id",
           mlg_atlas_version());
  expect_error(HEAD "\"atlas\": [\"aml.m0016\"], \"files\": [\"*.py\"]", "\"check\"", msg);
  expect_error(HEAD "\"atlas\": [\"AML.M0016\", \"\"], \"files\": [\"*.py\"]", "\"check\"",
               PATH ": field 'atlas' must be a list of non-empty strings");

  expect_error(HEAD "\"atlas\": [\"AML.M0016\"], \"aliases\": [\"picklescan\"], "
                    "\"files\": [\"*.py\"]",
               "\"check\"",
               PATH ": field 'aliases': 'picklescan' must be \"<tool>:<id>\", like "
                    "\"picklescan:dangerous\"");
  expect_error(HEAD "\"atlas\": [\"AML.M0016\"], \"aliases\": [\":x\"], \"files\": [\"*.py\"]",
               "\"check\"",
               PATH ": field 'aliases': ':x' must be \"<tool>:<id>\", like "
                    "\"picklescan:dangerous\"");
  expect_error(HEAD "\"atlas\": [\"AML.M0016\"], \"aliases\": [\"x:\"], \"files\": [\"*.py\"]",
               "\"check\"",
               PATH ": field 'aliases': 'x:' must be \"<tool>:<id>\", like "
                    "\"picklescan:dangerous\"");
  expect_error(HEAD "\"atlas\": [\"AML.M0016\"], \"references\": {\"a\": 1}, "
                    "\"files\": [\"*.py\"]",
               "\"check\"", PATH ": field 'references' must be a list of strings");
}

#define ATLAS "\"atlas\": [\"AML.M0016\"]"

static void test_files_and_functions(void **state)
{
  char msg[1200];
  mlg_err ge;

  expect_error(HEAD ATLAS ", \"files\": [\"*.py\"]", "\"run\"",
               PATH ": field 'files' needs a 'check' function to receive the files");
  expect_error(HEAD ATLAS, "\"check\"",
               PATH ": field 'files' is required with 'check': the globs of the files it "
                    "checks, like {\"**/*.py\"}");
  expect_error(HEAD ATLAS ", \"files\": []", "\"check\"",
               PATH ": field 'files' is required with 'check': the globs of the files it "
                    "checks, like {\"**/*.py\"}");
  expect_error(HEAD ATLAS ", \"files\": [\"*.py\"]", "",
               PATH ": a policy needs a 'check' function (called per file) or a 'run' "
                    "function (called once per gate)");
  /* invalid glob: the glob module's message, prefixed */
  assert_int_not_equal(mlg_glob_check("src/[abc", &ge), 0);
  snprintf(msg, sizeof msg, PATH ": field 'files': %s", ge.msg);
  expect_error(HEAD ATLAS ", \"files\": [\"**/*.py\", \"src/[abc\"]", "\"check\"", msg);
  expect_error(HEAD ATLAS ", \"files\": [\"*.py\", 3]", "\"check\"",
               PATH ": field 'files' must be a list of non-empty strings");
}

static void test_params(void **state)
{
  const char *msg = PATH ": field 'params' must be a table of name = default value";
  expect_error(HEAD ATLAS ", \"files\": [\"*.py\"], \"params\": \"x\"", "\"check\"", msg);
  expect_error(HEAD ATLAS ", \"files\": [\"*.py\"], \"params\": [1, 2]", "\"check\"", msg);
  expect_error(HEAD ATLAS ", \"files\": [\"*.py\"], \"params\": 4", "\"check\"", msg);
  {
    mlg_policy p;
    mlg_doc *doc;
    mlg_err e;
    /* [] is how an empty Lua table may arrive: no params */
    assert_int_equal(meta(&p, &doc, PATH, HEAD ATLAS ", \"files\": [\"*.py\"], \"params\": []",
                          "\"check\"", &e),
                     0);
    assert_null(p.params);
    policy_clear(&p);
    mlg_doc_free(doc);
  }
}

/* The parent must treat what a child sends as untrusted: a child whose VM
 * was subverted could send any JSON. A non-string item in "functions" (or a
 * non-string "t"-less record) must be an error, not a read through a
 * garbage pointer. Run in a child so a crash fails only this test. */
static void test_meta_hostile_functions(void **state)
{
  static const char *const bad[] = {
    "{\"fields\": {" BASE_FIELDS "}, \"functions\": [1]}",
    "{\"fields\": {" BASE_FIELDS "}, \"functions\": [{\"a\": 1}]}",
    "{\"fields\": {" BASE_FIELDS "}, \"functions\": [null, \"check\"]}",
    NULL};
  size_t i;

  for (i = 0; bad[i]; i++) {
    int status = 0;
    pid_t pid = fork();
    assert_true(pid >= 0);
    if (pid == 0) {
      mlg_policy p;
      mlg_doc *doc = NULL;
      mlg_err e;
      signal(SIGSEGV, SIG_DFL);
      signal(SIGBUS, SIG_DFL);
      if (mlg_json_parse(&doc, bad[i], strlen(bad[i]), "m", NULL, &e) != 0)
        _exit(3);
      memset(&p, 0, sizeof p);
      p.path = PATH;
      _exit(mlg_policy_set_meta(&p, doc->root, &e) == MLG_EPOLICY ? 0 : 1);
    }
    assert_int_equal(waitpid(pid, &status, 0), pid);
    if (WIFSIGNALED(status))
      fail_msg("mlg_policy_set_meta crashed (signal %d) on %s", WTERMSIG(status), bad[i]);
    if (WEXITSTATUS(status) != 0)
      fail_msg("mlg_policy_set_meta accepted %s", bad[i]);
  }
}

/* --- policy sources ------------------------------------------------------------- */

static char tmp[64];

static void put(const char *rel, const char *text)
{
  char p[512];
  FILE *f;
  snprintf(p, sizeof p, "%s/%s", tmp, rel);
  f = fopen(p, "w");
  assert_non_null(f);
  fputs(text, f);
  fclose(f);
}

static void dir(const char *rel)
{
  char p[512];
  snprintf(p, sizeof p, "%s/%s", tmp, rel);
  assert_int_equal(mkdir(p, 0755), 0);
}

static int make_tree(void **state)
{
  strcpy(tmp, "/tmp/mlg_policy_XXXXXX");
  if (!mkdtemp(tmp))
    return -1;
  dir("b");
  dir("a");
  dir("a/tests");
  dir("a/sub");
  dir(".hidden");
  dir("tests");
  dir("z.lua"); /* a directory named like a policy */
  put("b/z.lua", "return 'b/z'");
  put("a/y.lua", "return 'a/y'");
  put("a/x.lua", "return 'a/x'");
  put("a/B.lua", "return 'a/B'");
  put("a/sub/w.lua", "return 'a/sub/w'");
  put("a/.x.lua", "hidden file");
  put("a/notes.txt", "not a policy");
  put("a/lua", "not a policy either");
  put("a/.lua", "hidden");
  put("a/tests/t.lua", "fixture");
  put(".hidden/h.lua", "hidden dir");
  put("tests/t.lua", "fixture");
  put("z.lua/inner.lua", "return 'inner'");
  put("top.lua", "return 'top'");
  return 0;
}

static int remove_tree(void **state)
{
  char cmd[128];
  snprintf(cmd, sizeof cmd, "rm -rf '%s'", tmp);
  return system(cmd) == 0 ? 0 : -1;
}

static void test_add_dir_order(void **state)
{
  static const char *const expect[] = {"a/B.lua", "a/sub/w.lua", "a/x.lua", "a/y.lua",
                                       "b/z.lua", "top.lua", "z.lua/inner.lua", NULL};
  mlg_policy_set set = {NULL, 0};
  mlg_err e;
  size_t i;

  assert_int_equal(mlg_policy_add_dir(&set, tmp, &e), 0);
  for (i = 0; expect[i] && i < set.len; i++) {
    char want[256];
    snprintf(want, sizeof want, "%s/%s", tmp, expect[i]);
    assert_string_equal(set.items[i].path, want);
    assert_int_equal(set.items[i].builtin, 0);
    assert_int_equal(set.items[i].loaded, 0);
  }
  assert_int_equal(set.len, 7);
  /* the text is read */
  assert_int_equal(set.items[2].len, strlen("return 'a/x'"));
  assert_memory_equal(set.items[2].text, "return 'a/x'", set.items[2].len);
  assert_null(mlg_policy_find(&set, "a/x")); /* nothing loaded yet */
  mlg_policy_set_free(&set);
  assert_int_equal(set.len, 0);
  assert_null(set.items);
  mlg_policy_set_free(&set);
  mlg_policy_set_free(NULL);
}

static void test_add_dir_file_and_errors(void **state)
{
  mlg_policy_set set = {NULL, 0};
  char p[256], expect[512];
  mlg_err e;
  FILE *f;
  size_t i;

  /* a file given as a directory is added as is */
  snprintf(p, sizeof p, "%s/a/x.lua", tmp);
  assert_int_equal(mlg_policy_add_dir(&set, p, &e), 0);
  assert_int_equal(set.len, 1);
  assert_string_equal(set.items[0].path, p);
  mlg_policy_set_free(&set);

  snprintf(p, sizeof p, "%s/missing", tmp);
  assert_int_equal(mlg_policy_add_dir(&set, p, &e), MLG_EIO);
  snprintf(expect, sizeof expect, "cannot read policy directory %s: No such file or directory",
           p);
  assert_string_equal(e.msg, expect);
  assert_int_equal(set.len, 0);
  assert_int_equal(mlg_policy_add_file(&set, p, &e), MLG_EIO);
  snprintf(expect, sizeof expect, "cannot read policy %s: No such file or directory", p);
  assert_string_equal(e.msg, expect);

  /* larger than 4 MiB */
  snprintf(p, sizeof p, "%s/big.lua", tmp);
  f = fopen(p, "w");
  assert_non_null(f);
  for (i = 0; i <= ((size_t)4 << 20) / 16; i++)
    fputs("-- padding pad.\n", f); /* 16 bytes */
  fclose(f);
  assert_int_equal(mlg_policy_add_file(&set, p, &e), MLG_ELIMIT);
  snprintf(expect, sizeof expect, "policy %s is larger than 4194304 bytes", p);
  assert_string_equal(e.msg, expect);
  assert_int_equal(set.len, 0);
  unlink(p);
  mlg_policy_set_free(&set);
}

static void test_add_dir_symlink_loop(void **state)
{
  mlg_policy_set set = {NULL, 0};
  char d[256], l[300];
  mlg_err e;
  int rc;

  /* a directory symlink back up: an error, not a hang or a crash */
  snprintf(d, sizeof d, "%s/loop", tmp);
  assert_int_equal(mkdir(d, 0755), 0);
  snprintf(l, sizeof l, "%s/loop/again", tmp);
  assert_int_equal(symlink("..", l), 0);
  rc = mlg_policy_add_dir(&set, d, &e);
  assert_int_equal(rc, MLG_ELIMIT);
  assert_non_null(strstr(e.msg, "is nested too deeply"));
  mlg_policy_set_free(&set);
  unlink(l);
  rmdir(d);
}

static void test_builtins(void **state)
{
  mlg_policy_set set = {NULL, 0};
  mlg_err e;
  size_t i;
  assert_int_equal(mlg_policy_add_builtins(&set, &e), 0);
  for (i = 0; i < set.len; i++) {
    assert_int_equal(set.items[i].builtin, 1);
    assert_memory_equal(set.items[i].path, "policies/", 9);
    assert_non_null(set.items[i].text);
    assert_null(set.items[i].owned_text);
  }
  mlg_policy_set_free(&set);
}

/* --- find and enforcement ---------------------------------------------------- */

static void test_find_and_enforcement(void **state)
{
  static const char cfg_text[] = "version: 1\n"
                                 "policies:\n"
                                 "  train/x:\n"
                                 "    enforcement: hard\n"
                                 "  train/y:\n"
                                 "    enabled: false\n";
  mlg_policy_set set = {NULL, 0};
  mlg_config *cfg = NULL;
  mlg_doc *docs[2];
  mlg_err e;
  mlg_policy *p;

  set.items = calloc(2, sizeof *set.items);
  set.len = 2;
  set.items[0].path = strdup("p/train/x.lua");
  set.items[1].path = strdup("p/train/y.lua");
  docs[0] = parse_json("{\"fields\": {" BASE_FIELDS ", \"enforcement\": \"advisory\"}, "
                       "\"functions\": [\"check\"]}");
  docs[1] = parse_json("{\"fields\": {\"id\": \"train/y\", \"title\": \"Y\", \"gate\": "
                       "\"train\", \"severity\": \"low\", \"atlas\": \"AML.M0016\"}, "
                       "\"functions\": [\"run\"]}");
  assert_int_equal(mlg_policy_set_meta(&set.items[0], docs[0]->root, &e), 0);
  assert_int_equal(mlg_policy_set_meta(&set.items[1], docs[1]->root, &e), 0);
  set.items[0].doc = docs[0]; /* freed with the set */
  set.items[1].doc = docs[1];

  p = mlg_policy_find(&set, "train/y");
  assert_ptr_equal(p, &set.items[1]);
  assert_null(mlg_policy_find(&set, "train/z"));
  assert_null(mlg_policy_find(&set, "train"));

  assert_int_equal(mlg_policy_enforcement(&set.items[0], NULL), MLG_ENF_ADVISORY);
  assert_int_equal(mlg_policy_enforcement(&set.items[1], NULL), MLG_ENF_SOFT);
  assert_int_equal(mlg_config_parse(&cfg, cfg_text, sizeof cfg_text - 1, "mlgate.yml", &e), 0);
  assert_int_equal(mlg_policy_enforcement(&set.items[0], cfg), MLG_ENF_HARD);
  /* an entry without enforcement keeps the policy's default */
  assert_int_equal(mlg_policy_enforcement(&set.items[1], cfg), MLG_ENF_SOFT);
  mlg_config_free(cfg);
  mlg_policy_set_free(&set);
}

int main(void)
{
  const struct CMUnitTest tests[] = {
    cmocka_unit_test(test_valid_and_defaults),
    cmocka_unit_test(test_valid_full),
    cmocka_unit_test(test_unknown_field),
    cmocka_unit_test(test_not_a_policy),
    cmocka_unit_test(test_id),
    cmocka_unit_test(test_id_path_forms),
    cmocka_unit_test(test_title),
    cmocka_unit_test(test_gates),
    cmocka_unit_test(test_severity_confidence_enforcement),
    cmocka_unit_test(test_atlas_and_aliases),
    cmocka_unit_test(test_files_and_functions),
    cmocka_unit_test(test_params),
    cmocka_unit_test(test_meta_hostile_functions),
    cmocka_unit_test(test_add_dir_order),
    cmocka_unit_test(test_add_dir_file_and_errors),
    cmocka_unit_test(test_add_dir_symlink_loop),
    cmocka_unit_test(test_builtins),
    cmocka_unit_test(test_find_and_enforcement),
  };
  alarm(600);
  return cmocka_run_group_tests(tests, make_tree, remove_tree);
}
