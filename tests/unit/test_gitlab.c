/*
 * mlg_gitlab_load: the GitLab CI model (gitlab.h) with exact values:
 * positions and files of resolved values, includes (merge, nesting, pins,
 * errors, limits), extends, default:/inherit, !reference, steps, reach per
 * pipeline kind, $[[ ]] expressions, validation messages, malformed and
 * oversized input.
 */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "pipeline.h"

/* --- an in-memory workspace ------------------------------------------------ */

typedef struct vfile {
  const char *name, *text;
} vfile;

static const vfile *files; /* NULL-terminated, for the reader */
static int reads;

static int rd(void *ud, const char *path, char **data, size_t *len, mlg_err *err)
{
  const vfile *f;
  (void)ud;
  (void)err;
  reads++;
  for (f = files; f && f->name; f++)
    if (strcmp(f->name, path) == 0) {
      *len = strlen(f->text);
      *data = malloc(*len + 1);
      memcpy(*data, f->text, *len + 1);
      return 0;
    }
  return MLG_ENOENT;
}

static mlg_doc *load_fs(const char *text, const vfile *fs)
{
  mlg_doc *doc = NULL;
  mlg_err err = {0};
  int rc;
  files = fs;
  rc = mlg_gitlab_load(&doc, text, strlen(text), ".gitlab-ci.yml", rd, NULL, &err);
  if (rc)
    print_error("unexpected error: %s\n", err.msg);
  assert_int_equal(rc, 0);
  assert_non_null(doc);
  return doc;
}

static mlg_doc *load(const char *text)
{
  return load_fs(text, NULL);
}

static void expect_err_fs(const char *text, const vfile *fs, int code, const char *msg)
{
  mlg_doc *doc = (mlg_doc *)1;
  mlg_err err = {0};
  int rc;
  files = fs;
  rc = mlg_gitlab_load(&doc, text, strlen(text), ".gitlab-ci.yml", rd, NULL, &err);
  if (rc != code)
    print_error("rc %d: %s\n", rc, err.msg);
  assert_int_equal(rc, code);
  assert_null(doc);
  if (msg)
    assert_string_equal(err.msg, msg);
}

static void expect_err(const char *text, const char *msg)
{
  expect_err_fs(text, NULL, MLG_EPARSE, msg);
}

static const mlg_node *get(const mlg_node *n, const char *key)
{
  const mlg_node *v = mlg_map_get(n, key);
  if (!v)
    print_error("no key '%s'\n", key);
  assert_non_null(v);
  return v;
}

static const mlg_node *at(const mlg_node *seq, size_t i)
{
  assert_non_null(seq);
  assert_int_equal(seq->type, MLG_SEQ);
  if (i >= seq->u.seq.len)
    print_error("index %zu past %zu\n", i, seq->u.seq.len);
  assert_true(i < seq->u.seq.len);
  return seq->u.seq.items[i];
}

static size_t len(const mlg_node *seq)
{
  assert_int_equal(seq->type, MLG_SEQ);
  return seq->u.seq.len;
}

static const char *str(const mlg_node *n, const char *key)
{
  const mlg_node *v = get(n, key);
  assert_int_equal(v->type, MLG_STR);
  return v->u.str.ptr;
}

static int64_t num(const mlg_node *n, const char *key)
{
  const mlg_node *v = get(n, key);
  assert_int_equal(v->type, MLG_INT);
  return v->u.integer;
}

static int flag(const mlg_node *n, const char *key)
{
  const mlg_node *v = get(n, key);
  assert_int_equal(v->type, MLG_BOOL);
  return v->u.boolean;
}

static const char *text(const mlg_node *val)
{
  return str(val, "text");
}

static void pos(const mlg_node *n, int64_t line, int64_t col)
{
  assert_int_equal(num(n, "line"), line);
  assert_int_equal(num(n, "col"), col);
}

static const mlg_node *job(const mlg_doc *d, const char *id)
{
  const mlg_node *jobs = get(d->root, "jobs");
  size_t i;
  for (i = 0; i < len(jobs); i++)
    if (strcmp(str(at(jobs, i), "id"), id) == 0)
      return at(jobs, i);
  print_error("no job '%s'\n", id);
  fail();
  return NULL;
}

static const mlg_node *step(const mlg_node *j, size_t i)
{
  return at(get(j, "steps"), i);
}

static const char *run(const mlg_node *j, size_t i)
{
  return text(get(step(j, i), "run"));
}

static const mlg_node *env(const mlg_node *j, const char *name)
{
  const mlg_node *e = get(j, "env");
  size_t i;
  for (i = 0; i < len(e); i++)
    if (strcmp(str(at(e, i), "name"), name) == 0)
      return at(e, i);
  return NULL;
}

/* --- shape ------------------------------------------------------------------- */

static void test_shape(void **state)
{
  const char *y = "# top comment\n"                                  /* 1 */
                  "stages: [build, train]\n"                         /* 2 */
                  "variables:\n"                                     /* 3 */
                  "  PY: \"3.11\"\n"                                 /* 4 */
                  "  HF_TOKEN:\n"                                    /* 5 */
                  "    value: \"\"\n"                                /* 6 */
                  "    description: the token\n"                     /* 7 */
                  "    expand: false\n"                              /* 8 */
                  "workflow:\n"                                      /* 9 */
                  "  name: ML\n"                                     /* 10 */
                  "  rules:\n"                                       /* 11 */
                  "    - if: $CI_COMMIT_BRANCH\n"                    /* 12 */
                  "default:\n"                                       /* 13 */
                  "  image: python:3.11\n"                           /* 14 */
                  "  tags: [docker]\n"                               /* 15 */
                  ".tpl:\n"                                          /* 16 */
                  "  script: [echo tpl]\n"                           /* 17 */
                  "build:\n"                                         /* 18 */
                  "  stage: build\n"                                 /* 19 */
                  "  script:\n"                                      /* 20 */
                  "    - make   # build it\n"                        /* 21 */
                  "    - |\n"                                        /* 22 */
                  "      echo one\n"                                 /* 23 */
                  "      echo two\n"                                 /* 24 */
                  "  after_script: [echo bye]\n"                     /* 25 */
                  "  before_script: echo hi\n"                       /* 26 */
                  "train:\n"                                         /* 27 */
                  "  stage: train\n"                                 /* 28 */
                  "  image:\n"                                       /* 29 */
                  "    name: pytorch/pytorch:latest\n"               /* 30 */
                  "    entrypoint: [\"\"]\n"                         /* 31 */
                  "  services:\n"                                    /* 32 */
                  "    - postgres:15\n"                              /* 33 */
                  "    - name: redis\n"                              /* 34 */
                  "      alias: cache\n"                             /* 35 */
                  "  environment:\n"                                 /* 36 */
                  "    name: production\n"                           /* 37 */
                  "    url: https://x.example\n"                     /* 38 */
                  "  script: python train.py\n";                     /* 39 */
  mlg_doc *d = load(y);
  const mlg_node *m = d->root, *v, *j, *s, *img;
  (void)state;

  assert_string_equal(str(m, "platform"), "gitlab");
  assert_string_equal(str(m, "kind"), "gitlab-ci");
  assert_string_equal(str(m, "path"), ".gitlab-ci.yml");
  pos(m, 1, 1);
  v = get(m, "stages");
  assert_int_equal(len(v), 2);
  assert_string_equal(text(at(v, 1)), "train");
  pos(at(v, 1), 2, 17);
  v = get(m, "variables");
  assert_int_equal(len(v), 2);
  assert_string_equal(str(at(v, 0), "name"), "PY");
  assert_string_equal(text(get(at(v, 0), "value")), "3.11");
  pos(at(v, 1), 5, 3);
  assert_string_equal(text(get(at(v, 1), "value")), "");
  pos(get(at(v, 1), "value"), 6, 13);
  assert_string_equal(text(get(at(v, 1), "description")), "the token");
  assert_string_equal(text(get(at(v, 1), "expand")), "false");
  v = get(m, "workflow");
  pos(v, 9, 1);
  assert_string_equal(text(get(v, "name")), "ML");
  assert_string_equal(text(get(at(get(v, "rules"), 0), "cond")), "$CI_COMMIT_BRANCH");
  pos(at(get(v, "rules"), 0), 12, 7);
  v = get(m, "default");
  pos(v, 13, 1);
  assert_string_equal(str(get(v, "container"), "raw"), "python:3.11");
  pos(get(v, "container"), 14, 10);
  assert_int_equal(len(get(m, "templates")), 1);
  assert_string_equal(str(at(get(m, "templates"), 0), "id"), ".tpl");
  assert_true(flag(at(get(m, "templates"), 0), "hidden"));
  assert_int_equal(len(get(m, "jobs")), 2);
  assert_int_equal(len(get(m, "includes")), 0);
  assert_int_equal(len(get(m, "exprs")), 0);
  v = get(m, "comments");
  assert_int_equal(len(v), 2);
  pos(at(v, 1), 21, 14);
  assert_string_equal(str(at(v, 1), "text"), "build it");

  j = job(d, "build");
  pos(j, 18, 1);
  assert_string_equal(str(j, "route"), "jobs.build");
  assert_string_equal(str(j, "path"), ".gitlab-ci.yml");
  assert_false(flag(j, "hidden"));
  assert_string_equal(text(get(j, "stage")), "build");
  /* default: image and tags inherited, at their own positions */
  assert_string_equal(str(get(j, "container"), "raw"), "python:3.11");
  pos(get(j, "container"), 14, 10);
  pos(get(j, "runs_on"), 15, 3);
  assert_string_equal(text(at(get(get(j, "runs_on"), "labels"), 0)), "docker");
  /* steps in execution order: before_script, script, after_script */
  assert_int_equal(len(get(j, "steps")), 4);
  s = step(j, 0);
  assert_int_equal(num(s, "index"), 1);
  assert_string_equal(str(s, "section"), "before_script");
  assert_string_equal(str(s, "route"), "jobs.build.before_script[0]");
  assert_string_equal(str(s, "shell"), "sh");
  assert_string_equal(str(s, "job"), "build");
  assert_string_equal(str(s, "path"), ".gitlab-ci.yml");
  assert_string_equal(run(j, 0), "echo hi");
  pos(s, 26, 18);
  s = step(j, 1);
  assert_string_equal(run(j, 1), "make");
  assert_string_equal(str(s, "route"), "jobs.build.script[0]");
  pos(s, 21, 7);
  s = step(j, 2);
  assert_string_equal(run(j, 2), "echo one\necho two\n");
  assert_string_equal(str(s, "route"), "jobs.build.script[1]");
  pos(s, 23, 7);
  v = get(get(s, "run"), "map");
  assert_int_equal(len(v), 6);
  assert_int_equal(at(v, 3)->u.integer, 9);  /* "echo two" at text offset 9 */
  assert_int_equal(at(v, 4)->u.integer, 24); /* is on line 24 */
  assert_int_equal(at(v, 5)->u.integer, 7);
  s = step(j, 3);
  assert_string_equal(str(s, "section"), "after_script");
  assert_int_equal(num(s, "index"), 4);
  assert_string_equal(str(s, "route"), "jobs.build.after_script[0]");
  /* env: global variables */
  assert_int_equal(len(get(j, "env")), 2);
  pos(env(j, "PY"), 4, 3);

  j = job(d, "train");
  img = get(j, "container");
  assert_string_equal(str(img, "raw"), "pytorch/pytorch:latest");
  assert_string_equal(str(img, "name"), "pytorch/pytorch");
  assert_string_equal(str(img, "tag"), "latest");
  assert_string_equal(str(img, "pin"), "latest");
  pos(img, 30, 11);
  assert_string_equal(text(at(get(img, "entrypoint"), 0)), "");
  v = get(j, "services");
  assert_int_equal(len(v), 2);
  assert_string_equal(str(at(v, 0), "name"), "postgres:15");
  pos(at(v, 0), 33, 7);
  assert_string_equal(str(get(at(v, 0), "image"), "pin"), "tag");
  assert_string_equal(str(at(v, 1), "name"), "redis");
  pos(at(v, 1), 34, 13);
  assert_string_equal(text(get(at(v, 1), "alias")), "cache");
  assert_string_equal(str(get(at(v, 1), "image"), "pin"), "latest");
  v = get(j, "environment");
  pos(v, 36, 3);
  assert_string_equal(text(get(v, "name")), "production");
  assert_string_equal(text(get(v, "url")), "https://x.example");
  assert_int_equal(len(get(j, "steps")), 1);
  pos(step(j, 0), 39, 11);
  mlg_doc_free(d);
}

static void test_job_keywords(void **state)
{
  const char *y = "stages: [a, b]\n"
                  "up:\n"
                  "  stage: a\n"
                  "  script: x\n"
                  "job:\n"
                  "  stage: b\n"
                  "  script: x\n"
                  "  when: manual\n"
                  "  allow_failure:\n"
                  "    exit_codes: [137]\n"
                  "  needs:\n"
                  "    - up\n"
                  "    - job: lint\n"
                  "      artifacts: false\n"
                  "      optional: true\n"
                  "  dependencies: [up]\n"
                  "  artifacts:\n"
                  "    paths: [model/, .env]\n"
                  "    exclude: ['*.tmp']\n"
                  "    expire_in: 1 week\n"
                  "    reports:\n"
                  "      dotenv: build.env\n"
                  "  cache:\n"
                  "    - key:\n"
                  "        files: [requirements.txt]\n"
                  "      paths: [.cache/pip]\n"
                  "      policy: pull\n"
                  "    - key: hf\n"
                  "      paths: [.cache/huggingface]\n"
                  "  parallel:\n"
                  "    matrix:\n"
                  "      - GPU: [a100, h100]\n"
                  "  resource_group: prod\n"
                  "  retry: 2\n"
                  "  timeout: 1h\n"
                  "  interruptible: true\n"
                  "  id_tokens:\n"
                  "    VAULT:\n"
                  "      aud: https://vault.example\n"
                  "  inherit:\n"
                  "    default: false\n"
                  "    variables: [A]\n"
                  "  only:\n"
                  "    refs: [main, tags]\n"
                  "    variables: [$X == \"1\"]\n"
                  "  extends: []\n"
                  "trig:\n"
                  "  stage: b\n"
                  "  trigger:\n"
                  "    project: ml/deploy\n"
                  "    branch: main\n"
                  "    strategy: depend\n"
                  "    forward:\n"
                  "      pipeline_variables: true\n";
  mlg_doc *d = load(y);
  const mlg_node *j = job(d, "job"), *v, *c;
  (void)state;

  assert_string_equal(text(get(j, "when")), "manual");
  assert_string_equal(text(at(get(get(j, "allow_failure"), "exit_codes"), 0)), "137");
  v = get(j, "needs");
  assert_int_equal(len(v), 2);
  assert_string_equal(str(at(v, 0), "job"), "up");
  pos(at(v, 0), 12, 7);
  assert_string_equal(str(at(v, 1), "job"), "lint");
  pos(at(v, 1), 13, 7);
  assert_false(flag(at(v, 1), "artifacts"));
  assert_true(flag(at(v, 1), "optional"));
  assert_string_equal(text(at(get(j, "dependencies"), 0)), "up");
  v = get(j, "artifacts");
  pos(v, 17, 3);
  assert_int_equal(len(get(v, "paths")), 2);
  assert_string_equal(text(at(get(v, "paths"), 1)), ".env");
  pos(at(get(v, "paths"), 1), 18, 21);
  assert_string_equal(text(at(get(v, "exclude"), 0)), "*.tmp");
  assert_string_equal(text(get(v, "expire_in")), "1 week");
  assert_string_equal(text(at(get(get(v, "reports"), "dotenv"), 0)), "build.env");
  v = get(j, "cache");
  assert_int_equal(len(v), 2);
  c = at(v, 0);
  pos(c, 24, 7);
  assert_string_equal(text(at(get(c, "key_files"), 0)), "requirements.txt");
  assert_string_equal(text(get(c, "policy")), "pull");
  c = at(v, 1);
  assert_string_equal(text(get(c, "key")), "hf");
  assert_string_equal(text(at(get(c, "paths"), 0)), ".cache/huggingface");
  pos(at(get(c, "paths"), 0), 29, 15);
  v = get(j, "parallel");
  assert_int_equal(len(get(v, "matrix")), 1);
  assert_string_equal(text(get(j, "resource_group")), "prod");
  assert_int_equal(get(j, "retry")->u.integer, 2);
  assert_string_equal(text(get(j, "timeout")), "1h");
  assert_string_equal(text(get(j, "interruptible")), "true");
  v = at(get(j, "id_tokens"), 0);
  assert_string_equal(str(v, "name"), "VAULT");
  assert_string_equal(text(get(v, "value")), "https://vault.example");
  v = get(j, "inherit");
  assert_int_equal(get(v, "default")->type, MLG_BOOL);
  assert_string_equal(at(get(v, "variables"), 0)->u.str.ptr, "A");
  v = get(j, "only");
  assert_int_equal(len(get(v, "refs")), 2);
  assert_string_equal(text(at(get(v, "variables"), 0)), "$X == \"1\"");
  assert_int_equal(len(get(j, "extends")), 0);
  v = get(job(d, "trig"), "trigger");
  assert_string_equal(text(get(v, "project")), "ml/deploy");
  assert_string_equal(text(get(v, "branch")), "main");
  assert_string_equal(text(get(v, "strategy")), "depend");
  assert_string_equal(text(get(get(v, "forward"), "pipeline_variables")), "true");
  assert_int_equal(len(get(job(d, "trig"), "steps")), 0);
  mlg_doc_free(d);
}

/* --- includes ------------------------------------------------------------------ */

static void test_includes(void **state)
{
  static const vfile fs[] = {
      {"ci/train.yml", "include: ci/common.yml\n"
                       "variables:\n"
                       "  PY: from-include\n"
                       "  ONLY_INC: \"1\"\n"
                       "train:\n"
                       "  image: pytorch/pytorch:2.3\n"
                       "  script:\n"
                       "    - python train.py\n"
                       "  variables: {A: inc, B: inc}\n"},
      {"ci/common.yml", ".gpu:\n"
                        "  tags: [gpu]\n"
                        "common:\n"
                        "  script: echo common\n"},
      {NULL, NULL}};
  const char *y = "include:\n"
                  "  - local: /ci/train.yml\n"
                  "  - project: ml/tpl\n"
                  "    ref: main\n"
                  "    file: [a.yml, b.yml]\n"
                  "  - remote: https://x.example/ci.yml\n"
                  "  - template: Jobs/SAST.gitlab-ci.yml\n"
                  "  - component: $CI_SERVER_FQDN/ml/comp/train@~latest\n"
                  "  - component: gitlab.com/ml/comp/eval@1.2.0\n"
                  "  - project: ml/tpl2\n"
                  "    ref: 0123456789abcdef0123456789abcdef01234567\n"
                  "    file: x.yml\n"
                  "  - project: ml/tpl3\n"
                  "    file: x.yml\n"
                  "  - local: ci/*.yml\n"
                  "variables:\n"
                  "  PY: main\n"
                  "train:\n"
                  "  extends: .gpu\n"
                  "  variables: {B: main}\n";
  mlg_doc *d;
  const mlg_node *inc, *j, *v;
  (void)state;

  reads = 0;
  d = load_fs(y, fs);
  assert_int_equal(reads, 2);
  inc = get(d->root, "includes");
  assert_int_equal(len(inc), 10);
  v = at(inc, 0);
  pos(v, 2, 5);
  assert_string_equal(str(v, "kind"), "local");
  assert_string_equal(text(get(v, "location")), "/ci/train.yml");
  assert_string_equal(str(v, "pin"), "local");
  assert_true(flag(v, "resolved"));
  assert_string_equal(str(v, "file"), "ci/train.yml");
  /* the nested one comes after the entry that brought it in */
  v = at(inc, 1);
  assert_string_equal(str(v, "kind"), "local");
  assert_string_equal(str(v, "path"), "ci/train.yml");
  pos(v, 1, 10);
  assert_true(flag(v, "resolved"));
  v = at(inc, 2);
  pos(v, 3, 5);
  assert_string_equal(str(v, "kind"), "project");
  assert_string_equal(text(get(v, "location")), "ml/tpl");
  assert_string_equal(text(get(v, "ref")), "main");
  assert_string_equal(str(v, "pin"), "branch");
  assert_int_equal(len(get(v, "files")), 2);
  assert_false(flag(v, "resolved"));
  v = at(inc, 3);
  assert_string_equal(str(v, "kind"), "remote");
  assert_string_equal(str(v, "pin"), "none");
  pos(v, 6, 5);
  v = at(inc, 4);
  assert_string_equal(str(v, "kind"), "template");
  v = at(inc, 5);
  assert_string_equal(str(v, "kind"), "component");
  assert_string_equal(str(v, "version"), "~latest");
  /* the host variable says nothing about the version */
  assert_string_equal(str(v, "pin"), "latest");
  v = at(inc, 6);
  assert_string_equal(str(v, "version"), "1.2.0");
  assert_string_equal(str(v, "pin"), "tag");
  assert_string_equal(str(at(inc, 7), "pin"), "sha");
  assert_string_equal(str(at(inc, 8), "pin"), "none");
  assert_false(flag(at(inc, 9), "resolved"));

  /* jobs of included files first (GitLab's merge order) */
  assert_int_equal(len(get(d->root, "jobs")), 2);
  assert_string_equal(str(at(get(d->root, "jobs"), 0), "id"), "common");
  assert_string_equal(str(at(get(d->root, "jobs"), 1), "id"), "train");
  assert_string_equal(str(at(get(d->root, "jobs"), 0), "path"), "ci/common.yml");
  j = job(d, "train");
  /* the including file's key wins the place: the job is where main says */
  assert_string_equal(str(j, "path"), ".gitlab-ci.yml");
  pos(j, 18, 1);
  /* merged: image and script from the include (with its path), B from main */
  v = get(j, "container");
  assert_string_equal(str(v, "raw"), "pytorch/pytorch:2.3");
  assert_string_equal(str(v, "path"), "ci/train.yml");
  pos(v, 6, 10);
  assert_string_equal(run(j, 0), "python train.py");
  assert_string_equal(str(step(j, 0), "path"), "ci/train.yml");
  assert_string_equal(str(get(step(j, 0), "run"), "path"), "ci/train.yml");
  pos(step(j, 0), 8, 7);
  /* the runner tags from a template two files away */
  v = get(j, "runs_on");
  assert_string_equal(str(v, "path"), "ci/common.yml");
  pos(v, 2, 3);
  /* variables: main wins over the include, job over global */
  assert_string_equal(text(get(env(j, "PY"), "value")), "main");
  assert_null(mlg_map_get(get(env(j, "PY"), "value"), "path"));
  assert_string_equal(text(get(env(j, "ONLY_INC"), "value")), "1");
  assert_string_equal(str(env(j, "ONLY_INC"), "path"), "ci/train.yml");
  assert_string_equal(text(get(env(j, "A"), "value")), "inc");
  assert_string_equal(text(get(env(j, "B"), "value")), "main");
  mlg_doc_free(d);

  /* without a reader: recorded, not resolved */
  {
    mlg_doc *d2 = NULL;
    mlg_err err = {0};
    const char *y2 = "include: ci/x.yml\nj:\n  script: x\n";
    assert_int_equal(mlg_gitlab_load(&d2, y2, strlen(y2), "t.yml", NULL, NULL, &err), 0);
    v = at(get(d2->root, "includes"), 0);
    assert_false(flag(v, "resolved"));
    pos(v, 1, 10);
    mlg_doc_free(d2);
  }
}

static void test_include_errors(void **state)
{
  static const vfile cyc[] = {{"a.yml", "include: b.yml\n"},
                              {"b.yml", "x:\n  script: x\ninclude:\n  - local: a.yml\n"},
                              {"bad.yml", "x: [\n"},
                              {"list.yml", "- a\n"},
                              {"self.yml", "include: .gitlab-ci.yml\n"},
                              {NULL, NULL}};
  char *big;
  size_t i, o = 0;
  (void)state;

  expect_err_fs("include: ci/missing.yml\n", cyc, MLG_EPARSE,
                ".gitlab-ci.yml:1:10: Local file `ci/missing.yml` does not exist!");
  expect_err_fs("include:\n  - local: a.yml\n", cyc, MLG_EPARSE,
                "b.yml:4:12: include cycle: `a.yml` includes itself");
  expect_err_fs("include: self.yml\n", cyc, MLG_EPARSE,
                "self.yml:1:10: include cycle: `.gitlab-ci.yml` includes itself");
  expect_err_fs("include: bad.yml\n", cyc, MLG_EPARSE, NULL);
  expect_err_fs("include: list.yml\n", cyc, MLG_EPARSE,
                "list.yml:1:1: the configuration must be a mapping, not sequence");
  expect_err_fs("include:\n  - {local: a.yml, remote: https://x}\n", cyc, MLG_EPARSE,
                ".gitlab-ci.yml:2:20: include config must use exactly one of local:, project:, "
                "remote:, template: or component:");
  expect_err_fs("include:\n  - ref: main\n", cyc, MLG_EPARSE,
                ".gitlab-ci.yml:2:5: include config must use one of local:, project:, "
                "remote:, template: or component:");
  expect_err_fs("include:\n  - [a]\n", cyc, MLG_EPARSE,
                ".gitlab-ci.yml:2:5: include config should be a string, a hash or an array of "
                "them, not sequence");
  /* 151 includes */
  big = malloc(151 * 40 + 64);
  o += (size_t)sprintf(big + o, "include:\n");
  for (i = 0; i < 151; i++)
    o += (size_t)sprintf(big + o, "  - remote: https://x.example/%zu.yml\n", i);
  sprintf(big + o, "j:\n  script: x\n");
  expect_err_fs(big, NULL, MLG_EPARSE,
                ".gitlab-ci.yml:152:5: Maximum of 150 nested includes are allowed!");
  free(big);
}

/* A chain of includes 101 files deep. */
static void test_include_depth(void **state)
{
  static char names[102][16], texts[102][40];
  static vfile fs[103];
  size_t i;
  (void)state;
  for (i = 0; i < 102; i++) {
    sprintf(names[i], "f%zu.yml", i);
    sprintf(texts[i], "include: f%zu.yml\n", i + 1);
    fs[i].name = names[i];
    fs[i].text = texts[i];
  }
  fs[102].name = NULL;
  expect_err_fs("include: f0.yml\n", fs, MLG_EPARSE,
                "f99.yml:1:10: Maximum of 100 nested includes are allowed!");
}

/* --- extends, default, inherit -------------------------------------------------- */

static void test_extends(void **state)
{
  const char *y = ".a:\n"                            /* 1 */
                  "  image: alpine\n"                /* 2 */
                  "  variables: {A: a, X: a}\n"      /* 3 */
                  "  script: [echo a]\n"             /* 4 */
                  "  artifacts:\n"                   /* 5 */
                  "    paths: [a/]\n"                /* 6 */
                  "    expire_in: 1d\n"              /* 7 */
                  ".b:\n"                            /* 8 */
                  "  extends: .a\n"                  /* 9 */
                  "  variables: {B: b, X: b}\n"      /* 10 */
                  "  artifacts:\n"                   /* 11 */
                  "    paths: [b/]\n"                /* 12 */
                  ".c:\n"                            /* 13 */
                  "  tags: [c]\n"                    /* 14 */
                  "  variables: {X: c}\n"            /* 15 */
                  "job:\n"                           /* 16 */
                  "  extends: [.b, .c]\n"            /* 17 */
                  "  variables: {J: j}\n";           /* 18 */
  mlg_doc *d = load(y);
  const mlg_node *j = job(d, "job"), *v;
  (void)state;

  assert_string_equal(str(get(j, "container"), "raw"), "alpine");
  assert_string_equal(run(j, 0), "echo a");
  pos(step(j, 0), 4, 12);
  /* hashes merged at every level, later parents win, the job wins */
  assert_string_equal(text(get(env(j, "A"), "value")), "a");
  assert_string_equal(text(get(env(j, "B"), "value")), "b");
  assert_string_equal(text(get(env(j, "X"), "value")), "c");
  pos(env(j, "X"), 15, 15);
  assert_string_equal(text(get(env(j, "J"), "value")), "j");
  assert_int_equal(len(get(j, "env")), 4);
  /* arrays replaced: paths from .b, expire_in kept from .a */
  v = get(j, "artifacts");
  assert_int_equal(len(get(v, "paths")), 1);
  assert_string_equal(text(at(get(v, "paths"), 0)), "b/");
  assert_string_equal(text(get(v, "expire_in")), "1d");
  v = get(j, "extends");
  assert_int_equal(len(v), 2);
  assert_string_equal(at(v, 1)->u.str.ptr, ".c");
  assert_string_equal(text(at(get(get(j, "runs_on"), "labels"), 0)), "c");
  mlg_doc_free(d);

  expect_err(".a:\n  extends: .b\n.b:\n  extends: .a\nj:\n  extends: .a\n  script: x\n",
             ".gitlab-ci.yml:4:12: .b: circular dependency detected in `extends`");
  expect_err("j:\n  extends: [.nope]\n  script: x\n",
             ".gitlab-ci.yml:2:13: j: unknown key in `extends` (.nope)");
  expect_err(".s: [x]\nj:\n  extends: .s\n  script: x\n",
             ".gitlab-ci.yml:3:12: j: invalid base hash in `extends`");
  expect_err("j:\n  extends: {a: b}\n  script: x\n",
             ".gitlab-ci.yml:2:12: j: extends should be an array of strings or a string");
  /* 10 ancestors are fine, 11 are not */
  {
    char buf[2048];
    size_t o = 0, i;
    for (i = 1; i <= 9; i++)
      o += (size_t)sprintf(buf + o, ".t%zu:\n  extends: .t%zu\n", i, i + 1);
    o += (size_t)sprintf(buf + o, ".t10:\n  script: x\nj:\n  extends: .t1\n");
    d = load(buf);
    assert_string_equal(run(job(d, "j"), 0), "x");
    mlg_doc_free(d);
    o = 0;
    for (i = 1; i <= 10; i++)
      o += (size_t)sprintf(buf + o, ".t%zu:\n  extends: .t%zu\n", i, i + 1);
    o += (size_t)sprintf(buf + o, ".t11:\n  script: x\nj:\n  extends: .t1\n");
    expect_err(buf, ".gitlab-ci.yml:24:3: j: nested extends for more than 10 levels");
  }
}

static void test_default_inherit(void **state)
{
  const char *y = "variables: {A: ga, B: gb}\n"              /* 1 */
                  "default:\n"                               /* 2 */
                  "  image: python:3.11\n"                   /* 3 */
                  "  before_script: [echo before]\n"         /* 4 */
                  "  after_script: [echo after]\n"           /* 5 */
                  "  tags: [shared]\n"                       /* 6 */
                  "  retry: 1\n"                             /* 7 */
                  "all:\n"                                   /* 8 */
                  "  script: echo all\n"                     /* 9 */
                  "none:\n"                                  /* 10 */
                  "  inherit: {default: false, variables: false}\n"
                  "  script: echo none\n"
                  "some:\n"
                  "  inherit:\n"
                  "    default: [image, after_script]\n"
                  "    variables: [B]\n"
                  "  script: echo some\n"
                  "own:\n"
                  "  image: alpine\n"
                  "  before_script: []\n"
                  "  variables: {A: own}\n"
                  "  script: echo own\n";
  mlg_doc *d = load(y);
  const mlg_node *j;
  (void)state;

  j = job(d, "all");
  assert_int_equal(len(get(j, "steps")), 3);
  assert_string_equal(run(j, 0), "echo before");
  pos(step(j, 0), 4, 19);
  assert_string_equal(run(j, 2), "echo after");
  assert_string_equal(str(get(j, "container"), "raw"), "python:3.11");
  assert_string_equal(text(at(get(get(j, "runs_on"), "labels"), 0)), "shared");
  assert_int_equal(get(j, "retry")->u.integer, 1);
  assert_int_equal(len(get(j, "env")), 2);
  j = job(d, "none");
  assert_int_equal(len(get(j, "steps")), 1);
  assert_null(mlg_map_get(j, "container"));
  assert_null(mlg_map_get(j, "runs_on"));
  assert_int_equal(len(get(j, "env")), 0);
  j = job(d, "some");
  assert_int_equal(len(get(j, "steps")), 2);
  assert_string_equal(run(j, 1), "echo after");
  assert_string_equal(str(get(j, "container"), "raw"), "python:3.11");
  assert_null(mlg_map_get(j, "runs_on"));
  assert_int_equal(len(get(j, "env")), 1);
  assert_non_null(env(j, "B"));
  j = job(d, "own");
  assert_int_equal(len(get(j, "steps")), 2);
  assert_string_equal(run(j, 0), "echo own");
  assert_string_equal(str(get(j, "container"), "raw"), "alpine");
  assert_string_equal(text(get(env(j, "A"), "value")), "own");
  assert_string_equal(str(at(get(j, "env"), 0), "name"), "B");
  mlg_doc_free(d);

  /* deprecated top-level defaults */
  d = load("image: ruby:3\nbefore_script: [bundle]\nrspec:\n  script: rspec\n");
  j = job(d, "rspec");
  assert_string_equal(str(get(j, "container"), "raw"), "ruby:3");
  pos(get(j, "container"), 1, 8);
  assert_string_equal(run(j, 0), "bundle");
  pos(get(d->root, "default"), 1, 1);
  mlg_doc_free(d);
  expect_err("default:\n  image: a\nimage: b\nj:\n  script: x\n",
             ".gitlab-ci.yml:3:1: image is defined in top-level and `default:` entry");
  expect_err("default:\n  script: [x]\nj:\n  script: x\n",
             ".gitlab-ci.yml:2:3: default config contains unknown keys: script (accepted: "
             "after_script, artifacts, before_script, cache, hooks, id_tokens, identity, "
             "image, interruptible, retry, services, tags, timeout)");
}

/* --- !reference ----------------------------------------------------------------- */

static void test_reference(void **state)
{
  const char *y = ".setup:\n"                                         /* 1 */
                  "  script:\n"                                       /* 2 */
                  "    - nvidia-smi\n"                                /* 3 */
                  "    - !reference [.inner, script]\n"               /* 4 */
                  "  variables:\n"                                    /* 5 */
                  "    CUDA: \"12.1\"\n"                              /* 6 */
                  ".inner:\n"                                         /* 7 */
                  "  script: [pip install torch, pip install hf]\n"   /* 8 */
                  ".rules:\n"                                         /* 9 */
                  "  mr:\n"                                           /* 10 */
                  "    - if: $CI_PIPELINE_SOURCE == \"merge_request_event\"\n"
                  "train:\n"                                          /* 12 */
                  "  before_script: !reference [.inner, script]\n"    /* 13 */
                  "  script:\n"                                       /* 14 */
                  "    - !reference [.setup, script]\n"               /* 15 */
                  "    - python train.py\n"                           /* 16 */
                  "  variables:\n"                                    /* 17 */
                  "    CUDA_VERSION: !reference [.setup, variables, CUDA]\n"
                  "  rules:\n"                                        /* 19 */
                  "    - !reference [.rules, mr]\n"                   /* 20 */
                  "    - if: $CI_COMMIT_TAG\n";                       /* 21 */
  mlg_doc *d = load(y);
  const mlg_node *j = job(d, "train"), *r;
  (void)state;

  assert_int_equal(len(get(j, "steps")), 6);
  assert_string_equal(run(j, 0), "pip install torch");
  assert_string_equal(str(step(j, 0), "route"), "jobs.train.before_script[0]");
  pos(step(j, 0), 8, 12);
  assert_string_equal(run(j, 2), "nvidia-smi");
  pos(step(j, 2), 3, 7);
  assert_string_equal(run(j, 3), "pip install torch");
  assert_string_equal(run(j, 4), "pip install hf");
  assert_string_equal(str(step(j, 4), "route"), "jobs.train.script[2]");
  assert_string_equal(run(j, 5), "python train.py");
  assert_int_equal(num(step(j, 5), "index"), 6);
  assert_string_equal(text(get(env(j, "CUDA_VERSION"), "value")), "12.1");
  pos(get(env(j, "CUDA_VERSION"), "value"), 6, 12);
  r = get(j, "rules");
  assert_int_equal(len(r), 2);
  pos(at(r, 0), 11, 7);
  assert_string_equal(text(get(at(r, 1), "cond")), "$CI_COMMIT_TAG");
  assert_true(flag(get(j, "reach"), "merge_request"));
  assert_true(flag(get(j, "reach"), "tag"));
  assert_false(flag(get(j, "reach"), "branch"));
  mlg_doc_free(d);

  expect_err("j:\n  script:\n    - !reference [.nope, script]\n",
             ".gitlab-ci.yml:3:7: !reference [.nope, script] could not be found");
  expect_err(".a:\n  script: !reference [.b, script]\n.b:\n  script: !reference [.a, script]\n"
             "j:\n  script: !reference [.a, script]\n",
             ".gitlab-ci.yml:2:11: !reference [.b, script] is part of a circular chain");
  expect_err("j:\n  script: !reference []\n",
             ".gitlab-ci.yml:2:11: !reference needs a list of keys, such as [.job, script]");
}

/* --- reach ---------------------------------------------------------------------- */

static void reach_is(const mlg_node *j, const char *expect)
{
  static const char *const keys[] = {"merge_request", "fork", "branch", "default_branch",
                                     "tag", "schedule", "manual", "api", "trigger"};
  const mlg_node *r = get(j, "reach");
  char got[16];
  size_t i;
  for (i = 0; i < 9; i++)
    got[i] = flag(r, keys[i]) ? '1' : '0';
  got[9] = '\0';
  if (strcmp(got, expect) != 0)
    print_error("job %s: reach %s, expected %s\n", str(j, "id"), got, expect);
  assert_string_equal(got, expect);
}

static void test_reach(void **state)
{
  /* order: merge_request fork branch default_branch tag schedule manual api trigger */
  const char *y =
      "plain:\n  script: x\n"
      "mr:\n  script: x\n  rules:\n    - if: $CI_PIPELINE_SOURCE == \"merge_request_event\"\n"
      "mr_iid:\n  script: x\n  rules:\n    - if: $CI_MERGE_REQUEST_IID\n"
      "no_fork:\n  script: x\n  rules:\n"
      "    - if: $CI_MERGE_REQUEST_SOURCE_PROJECT_ID != $CI_MERGE_REQUEST_PROJECT_ID\n"
      "      when: never\n    - if: $CI_MERGE_REQUEST_IID\n"
      "fork_path:\n  script: x\n  rules:\n"
      "    - if: $CI_MERGE_REQUEST_SOURCE_PROJECT_PATH != $CI_PROJECT_PATH\n"
      "dflt:\n  script: x\n  rules:\n    - if: $CI_COMMIT_BRANCH == $CI_DEFAULT_BRANCH\n"
      "main_name:\n  script: x\n  rules:\n    - if: $CI_COMMIT_BRANCH == \"main\"\n"
      "tag:\n  script: x\n  rules:\n    - if: $CI_COMMIT_TAG =~ /^v\\d+/\n"
      "never_first:\n  script: x\n  rules:\n    - if: $CI_PIPELINE_SOURCE == \"schedule\"\n"
      "      when: never\n    - when: always\n"
      "sched_web:\n  script: x\n  rules:\n"
      "    - if: '$CI_PIPELINE_SOURCE == \"schedule\" || ($CI_PIPELINE_SOURCE == \"web\" && "
      "$CI_COMMIT_REF_NAME == $CI_DEFAULT_BRANCH)'\n"
      "changes:\n  script: x\n  rules:\n    - changes: [src/*]\n"
      "empty:\n  script: x\n  rules: []\n"
      "never:\n  script: x\n  when: never\n"
      "only_tags:\n  script: x\n  only: [tags]\n"
      "only_mr:\n  script: x\n  only: [merge_requests]\n"
      "except_sched:\n  script: x\n  except: [schedules, triggers, pipelines]\n"
      "only_name:\n  script: x\n  only: [main]\n"
      "null_cmp:\n  script: x\n  rules:\n    - if: $CI_COMMIT_TAG == null && $CI_MERGE_REQUEST_IID == null\n"
      "not_match:\n  script: x\n  rules:\n    - if: $CI_PIPELINE_SOURCE !~ /^(push|web)$/i\n";
  mlg_doc *d = load(y);
  (void)state;

  reach_is(job(d, "plain"), "001111111");
  reach_is(job(d, "mr"), "110000000");
  reach_is(job(d, "mr_iid"), "110000000");
  reach_is(job(d, "no_fork"), "100000000");
  /* unset in other pipelines, so != is true there */
  reach_is(job(d, "fork_path"), "011111111");
  reach_is(job(d, "dflt"), "000101111");
  reach_is(job(d, "main_name"), "001101111");
  reach_is(job(d, "tag"), "000011111"); /* schedules... may run on tags */
  reach_is(job(d, "never_first"), "111110111");
  reach_is(job(d, "sched_web"), "000001100");
  reach_is(job(d, "changes"), "111111111");
  reach_is(job(d, "empty"), "000000000");
  reach_is(job(d, "never"), "000000000");
  reach_is(job(d, "only_tags"), "000011111");
  reach_is(job(d, "only_mr"), "110000000");
  reach_is(job(d, "except_sched"), "001110110");
  reach_is(job(d, "only_name"), "111111111");
  reach_is(job(d, "null_cmp"), "001101111");
  reach_is(job(d, "not_match"), "110001011"); /* tags are pushes */
  mlg_doc_free(d);

  /* workflow:rules decide which pipelines exist; jobs without rules then
   * run in MR pipelines too */
  d = load("workflow:\n  rules:\n"
           "    - if: $CI_PIPELINE_SOURCE == \"merge_request_event\"\n"
           "    - if: $CI_COMMIT_BRANCH && $CI_OPEN_MERGE_REQUESTS\n      when: never\n"
           "    - if: $CI_COMMIT_BRANCH\n"
           "plain:\n  script: x\n"
           "tagged:\n  script: x\n  rules:\n    - if: $CI_COMMIT_TAG\n"
           "only_tags:\n  script: x\n  only: [tags]\n");
  reach_is(job(d, "plain"), "111101111");
  reach_is(job(d, "tagged"), "000000000");
  reach_is(job(d, "only_tags"), "000000000");
  mlg_doc_free(d);

  expect_err("j:\n  script: x\n  rules:\n    - if: $A == \"x\" &&\n",
             ".gitlab-ci.yml:4:11: jobs:j:rules:rule if invalid expression syntax");
  expect_err("j:\n  script: x\n  rules:\n    - if: ($A == \"x\"\n",
             ".gitlab-ci.yml:4:11: jobs:j:rules:rule if invalid expression syntax");
  expect_err("j:\n  script: x\n  rules:\n    - if: $A = \"x\"\n",
             ".gitlab-ci.yml:4:11: jobs:j:rules:rule if invalid expression syntax");
  expect_err("workflow:\n  rules:\n    - if: '\"unterminated'\nj:\n  script: x\n",
             ".gitlab-ci.yml:3:11: workflow:rules:rule if invalid expression syntax");
}

/* --- $[[ ]] --------------------------------------------------------------------- */

static void test_exprs(void **state)
{
  const char *y = "spec:\n"                                                 /* 1 */
                  "  inputs:\n"                                             /* 2 */
                  "    model:\n"                                            /* 3 */
                  "      description: model id\n"                           /* 4 */
                  "    stage:\n"                                            /* 5 */
                  "      default: test\n"                                   /* 6 */
                  "      options: [test, train]\n"                          /* 7 */
                  "    lr:\n"                                               /* 8 */
                  "      type: number\n"                                    /* 9 */
                  "      regex: ^[0-9.]+$\n"                                /* 10 */
                  "---\n"                                                   /* 11 */
                  "train:\n"                                                /* 12 */
                  "  stage: $[[ inputs.stage ]]\n"                          /* 13 */
                  "  image: python:$[[inputs.py]]\n"                        /* 14 */
                  "  variables:\n"                                          /* 15 */
                  "    MODEL: $[[ inputs.model ]]\n"                        /* 16 */
                  "  script:\n"                                             /* 17 */
                  "    - python t.py --m \"$[[ inputs.model | expand_vars ]]\"\n"
                  "    - |\n"                                               /* 19 */
                  "      echo start\n"                                      /* 20 */
                  "      echo é $[[ inputs.lr ]]\n"                         /* 21 */
                  "  rules:\n"                                              /* 22 */
                  "    - if: $X == \"$[[ inputs.stage ]]\"\n";              /* 23 */
  mlg_doc *d = load(y);
  const mlg_node *ex = get(d->root, "exprs"), *e, *sp;
  (void)state;

  sp = get(d->root, "spec");
  pos(sp, 1, 1);
  assert_int_equal(len(get(sp, "inputs")), 3);
  e = at(get(sp, "inputs"), 1);
  assert_string_equal(str(e, "name"), "stage");
  pos(e, 5, 5);
  assert_string_equal(text(get(e, "default")), "test");
  assert_int_equal(len(get(e, "options")), 2);
  e = at(get(sp, "inputs"), 2);
  assert_string_equal(str(e, "type"), "number");
  assert_string_equal(text(get(e, "regex")), "^[0-9.]+$");

  assert_int_equal(len(ex), 6);
  e = at(ex, 0);
  assert_string_equal(str(e, "text"), "inputs.stage");
  assert_string_equal(str(e, "input"), "stage");
  assert_string_equal(str(e, "syntax"), "gitlab-input");
  assert_string_equal(str(e, "field"), "other");
  assert_string_equal(str(e, "route"), "jobs.train.stage");
  assert_string_equal(str(e, "job"), "train");
  assert_true(flag(e, "fenced"));
  pos(e, 13, 10);
  assert_int_equal(num(e, "end_line"), 13);
  assert_int_equal(num(e, "end_col"), 29);
  assert_int_equal(num(e, "end_offset") - num(e, "offset"), 19);
  e = at(ex, 1);
  assert_string_equal(str(e, "text"), "inputs.py");
  assert_string_equal(str(e, "field"), "image");
  pos(e, 14, 17);
  e = at(ex, 2);
  assert_string_equal(str(e, "field"), "variables");
  assert_string_equal(str(e, "key"), "MODEL");
  assert_string_equal(str(e, "route"), "jobs.train.variables.MODEL");
  pos(e, 16, 12);
  e = at(ex, 3);
  assert_string_equal(str(e, "text"), "inputs.model | expand_vars");
  assert_string_equal(str(e, "input"), "model");
  assert_string_equal(str(e, "field"), "script");
  assert_int_equal(num(e, "step"), 1);
  assert_string_equal(str(e, "route"), "jobs.train.script[0]");
  pos(e, 18, 24);
  e = at(ex, 4);
  assert_string_equal(str(e, "input"), "lr");
  assert_int_equal(num(e, "step"), 2);
  pos(e, 21, 14); /* after a two-byte character: columns count characters */
  assert_int_equal(num(e, "end_col"), 30);
  e = at(ex, 5);
  assert_string_equal(str(e, "field"), "rules");
  pos(e, 23, 18);
  mlg_doc_free(d);

  /* include inputs and stages, in the file that holds them */
  {
    static const vfile fs[] = {{"c.yml", "include:\n  - local: d.yml\n    inputs:\n"
                                         "      m: $[[ inputs.model ]]\n"},
                               {"d.yml", "j:\n  script: x\n"},
                               {NULL, NULL}};
    d = load_fs("include:\n  - local: c.yml\n    inputs:\n      m: $[[ inputs.a ]]\n"
                "stages:\n  - $[[ inputs.s ]]\n", fs);
    ex = get(d->root, "exprs");
    assert_int_equal(len(ex), 3);
    e = at(ex, 0);
    assert_string_equal(str(e, "input"), "a");
    assert_string_equal(str(e, "field"), "inputs");
    assert_string_equal(str(e, "route"), "include[0].inputs.m");
    pos(e, 4, 10);
    e = at(ex, 1);
    assert_string_equal(str(e, "input"), "s");
    assert_string_equal(str(e, "route"), "stages[0]");
    pos(e, 6, 5);
    e = at(ex, 2);
    assert_string_equal(str(e, "input"), "model");
    assert_string_equal(str(e, "path"), "c.yml");
    assert_string_equal(str(e, "route"), "include[0].inputs.m");
    pos(e, 4, 10);
    mlg_doc_free(d);
  }

  /* an unclosed $[[ runs to the end of its value */
  d = load("j:\n  script: ['echo $[[ inputs.x']\n");
  e = at(get(d->root, "exprs"), 0);
  assert_string_equal(str(e, "text"), "inputs.x");
  pos(e, 2, 18);
  assert_int_equal(num(e, "end_col"), 30);
  mlg_doc_free(d);
}

/* --- validation ---------------------------------------------------------------- */

static void test_validation(void **state)
{
  (void)state;
  expect_err("build:\n  scirpt:\n    - make\n",
             ".gitlab-ci.yml:2:3: jobs:build config contains unknown keys: scirpt (accepted: "
             "after_script, allow_failure, artifacts, before_script, cache, coverage, "
             "dast_configuration, dependencies, environment, except, extends, hooks, id_tokens, "
             "identity, image, inherit, interruptible, manual_confirmation, needs, only, pages, "
             "parallel, publish, release, resource_group, retry, rules, run, script, secrets, "
             "services, stage, start_in, tags, timeout, trigger, variables, when)");
  expect_err("build:\n  stage: build\n",
             ".gitlab-ci.yml:1:1: jobs:build config should implement the script:, run:, or "
             "trigger: keyword");
  expect_err("build:\n  script:\n    a: b\n",
             ".gitlab-ci.yml:3:5: jobs:build:script config should be a string or a nested "
             "array of strings up to 10 levels deep");
  expect_err("stages: [build]\ntrain:\n  stage: train\n  script: x\n",
             ".gitlab-ci.yml:3:10: train job: chosen stage train does not exist; available "
             "stages are .pre, build, .post");
  expect_err("train:\n  stage: train\n  script: x\n",
             ".gitlab-ci.yml:2:10: train job: chosen stage train does not exist; available "
             "stages are .pre, build, test, deploy, .post");
  expect_err("stages: [build]\nj:\n  script: x\n",
             ".gitlab-ci.yml:2:1: j job: chosen stage test does not exist; available stages "
             "are .pre, build, .post");
  expect_err("build: [make]\n", ".gitlab-ci.yml:1:8: jobs:build config should be a hash");
  expect_err("", ".gitlab-ci.yml:1:1: empty configuration: no jobs here");
  expect_err("# only a comment\n", ".gitlab-ci.yml:1:1: empty configuration: no jobs here");
  expect_err("- a\n- b\n",
             ".gitlab-ci.yml:1:1: the configuration must be a mapping, not sequence");
  expect_err("j:\n  script: \"unterminated\n", NULL);
  expect_err("j:\n  script: x\nj:\n  script: y\n", NULL);
  expect_err("stages: build\nj:\n  script: x\n",
             ".gitlab-ci.yml:1:9: stages config should be an array of strings");
  expect_err("default: [x]\nj:\n  script: x\n",
             ".gitlab-ci.yml:1:10: default config should be a hash");
  expect_err("j:\n  script: x\n  rules: [{when: always}]\n  only: [main]\n",
             ".gitlab-ci.yml:4:3: jobs:j config key may not be used with `rules`: only");
  expect_err("j:\n  script: x\n  variables: [A]\n",
             ".gitlab-ci.yml:3:14: jobs:j:variables config should be a hash of key value "
             "pairs");
  /* a trigger job inherits no default: scripts or image */
  {
    mlg_doc *d = load("default:\n  image: a\n  before_script: [x]\nt:\n  trigger: ml/x\n");
    assert_int_equal(len(get(job(d, "t"), "steps")), 0);
    assert_null(mlg_map_get(job(d, "t"), "container"));
    mlg_doc_free(d);
  }
  /* hidden jobs are not validated, .pre always exists */
  {
    mlg_doc *d = load(".x: [1]\n.y:\n  scirpt: x\nj:\n  stage: .pre\n  script: x\n");
    assert_int_equal(len(get(d->root, "templates")), 1);
    mlg_doc_free(d);
  }
}

/* --- anchors, merge keys, limits -------------------------------------------------- */

static void test_anchors(void **state)
{
  const char *y = ".defaults: &defaults\n"      /* 1 */
                  "  image: python:3.11\n"      /* 2 */
                  "  tags: [docker]\n"          /* 3 */
                  ".s: &s\n"                    /* 4 */
                  "  - python prepare.py\n"     /* 5 */
                  "  - python train.py\n"       /* 6 */
                  "a:\n"                        /* 7 */
                  "  <<: *defaults\n"           /* 8 */
                  "  script: *s\n"              /* 9 */
                  "b:\n"                        /* 10 */
                  "  <<: *defaults\n"           /* 11 */
                  "  image: alpine\n"           /* 12 */
                  "  script:\n"                 /* 13 */
                  "    - *s\n"                  /* 14 */
                  "    - python export.py\n";   /* 15 */
  mlg_doc *d = load(y);
  const mlg_node *j;
  (void)state;
  j = job(d, "a");
  assert_string_equal(str(get(j, "container"), "raw"), "python:3.11");
  pos(get(j, "container"), 2, 10);
  assert_int_equal(len(get(j, "steps")), 2);
  pos(step(j, 1), 6, 5);
  j = job(d, "b");
  assert_string_equal(str(get(j, "container"), "raw"), "alpine");
  assert_int_equal(len(get(j, "steps")), 3);
  assert_string_equal(str(step(j, 1), "route"), "jobs.b.script[1]");
  assert_string_equal(run(j, 2), "python export.py");
  mlg_doc_free(d);
}

static void test_limits(void **state)
{
  size_t n = 10u << 20, i, o;
  char *big = malloc(n + 64);
  clock_t t0;
  mlg_doc *d = NULL;
  mlg_err err = {0};
  int rc;
  (void)state;

  /* 10 MB of long script lines: loads, in linear time */
  o = (size_t)sprintf(big, "j:\n  script:\n");
  while (o + 1100 < n) {
    o += (size_t)sprintf(big + o, "    - echo $[[ inputs.x ]] ");
    memset(big + o, 'a', 1000);
    o += 1000;
    big[o++] = '\n';
  }
  big[o] = '\0';
  t0 = clock();
  files = NULL;
  rc = mlg_gitlab_load(&d, big, o, "big.yml", rd, NULL, &err);
  if (rc)
    print_error("%s\n", err.msg);
  assert_int_equal(rc, 0);
  assert_true((double)(clock() - t0) / CLOCKS_PER_SEC < 30.0);
  assert_true(len(get(job(d, "j"), "steps")) > 9000);
  assert_true(len(get(d->root, "exprs")) > 9000);
  mlg_doc_free(d);

  /* 10 MB of short lines needs a model past the arena limit: a located
   * MLG_ELIMIT, in bounded time */
  o = (size_t)sprintf(big, "j:\n  script:\n");
  while (o + 40 < n)
    o += (size_t)sprintf(big + o, "    - echo $[[ inputs.x ]] line\n");
  big[o] = '\0';
  t0 = clock();
  d = (mlg_doc *)1;
  rc = mlg_gitlab_load(&d, big, o, "big.yml", rd, NULL, &err);
  assert_true((double)(clock() - t0) / CLOCKS_PER_SEC < 60.0);
  if (rc == 0) {
    mlg_doc_free(d);
  } else {
    if (rc != MLG_ELIMIT)
      print_error("%s\n", err.msg);
    assert_int_equal(rc, MLG_ELIMIT);
    assert_null(d);
    assert_memory_equal(err.msg, "big.yml:", 8);
  }

  /* deep nesting: a located parse error, no crash */
  o = (size_t)sprintf(big, "j:\n  script: x\n  variables: ");
  for (i = 0; i < 5000; i++)
    big[o++] = '[';
  big[o] = '\0';
  d = (mlg_doc *)1;
  rc = mlg_gitlab_load(&d, big, o, "deep.yml", rd, NULL, &err);
  assert_true(rc == MLG_EPARSE || rc == MLG_ELIMIT);
  assert_null(d);
  assert_memory_equal(err.msg, "deep.yml:", 9);

  /* an alias bomb inherited by many jobs: bounded */
  o = (size_t)sprintf(big, ".a: &a [x,x,x,x,x,x,x,x,x,x]\n");
  for (i = 0; i < 8; i++)
    o += (size_t)sprintf(big + o, ".%c: &%c [*%c,*%c,*%c,*%c,*%c,*%c,*%c,*%c,*%c,*%c]\n",
                         (char)('b' + i), (char)('b' + i), (char)('a' + i), (char)('a' + i),
                         (char)('a' + i), (char)('a' + i), (char)('a' + i), (char)('a' + i),
                         (char)('a' + i), (char)('a' + i), (char)('a' + i), (char)('a' + i));
  o += (size_t)sprintf(big + o, "default:\n  before_script: *i\n");
  for (i = 0; i < 50; i++)
    o += (size_t)sprintf(big + o, "j%zu:\n  script: x\n", i);
  t0 = clock();
  d = (mlg_doc *)1;
  rc = mlg_gitlab_load(&d, big, o, "bomb.yml", rd, NULL, &err);
  assert_true((double)(clock() - t0) / CLOCKS_PER_SEC < 30.0);
  if (rc == 0) {
    mlg_doc_free(d);
  } else {
    if (rc != MLG_ELIMIT)
      print_error("%s\n", err.msg);
    assert_int_equal(rc, MLG_ELIMIT);
    assert_memory_equal(err.msg, "bomb.yml:", 9);
  }
  free(big);
}

/* Inputs the fuzzer found. */
static void test_fuzz_regressions(void **state)
{
  mlg_doc *d;
  (void)state;
  /* legacy globals without default: the default object had line 0 */
  d = load("image: ruby:3.2\nservices: [postgres]\nrspec:\n  script: rspec\n");
  pos(get(d->root, "default"), 1, 1);
  mlg_doc_free(d);
  /* an empty include list in an included file: merging empty mappings
   * passed NULL to memcpy */
  {
    static const vfile fs[] = {{"a.yml", "include: b.yml\n"},
                               {"b.yml", "include: #a.yml+\n"},
                               {NULL, NULL}};
    d = load_fs("include: a.yml\njob:\n  script: echo\n", fs);
    assert_int_equal(len(get(d->root, "includes")), 2);
    assert_string_equal(run(job(d, "job"), 0), "echo");
    mlg_doc_free(d);
  }
}

int main(void)
{
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(test_shape),
      cmocka_unit_test(test_job_keywords),
      cmocka_unit_test(test_includes),
      cmocka_unit_test(test_include_errors),
      cmocka_unit_test(test_include_depth),
      cmocka_unit_test(test_extends),
      cmocka_unit_test(test_default_inherit),
      cmocka_unit_test(test_reference),
      cmocka_unit_test(test_reach),
      cmocka_unit_test(test_exprs),
      cmocka_unit_test(test_validation),
      cmocka_unit_test(test_anchors),
      cmocka_unit_test(test_limits),
      cmocka_unit_test(test_fuzz_regressions),
  };
  return cmocka_run_group_tests(tests, NULL, NULL);
}
