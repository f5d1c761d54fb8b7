/*
 * mlg_jenkins_load: the Jenkinsfile model of every realistic file in
 * tests/corpus/jenkins (declarative and scripted, docker agents and
 * docker.image().inside, credentials, shared libraries, parallel, matrix,
 * post, change-request reach, parameters, multi-line scripts), positions
 * that point at the bytes they name, skipped constructs, errors, limits.
 */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <dirent.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "buf.h"
#include "pipeline.h"

#define CORPUS "tests/corpus/jenkins/"

static char *src_text;
static size_t src_len;

/* --- helpers -------------------------------------------------------------- */

static char *slurp(const char *path, size_t *len)
{
  FILE *f = fopen(path, "rb");
  char *d;
  long n;
  assert_non_null(f);
  fseek(f, 0, SEEK_END);
  n = ftell(f);
  fseek(f, 0, SEEK_SET);
  d = malloc((size_t)n + 1);
  assert_int_equal(fread(d, 1, (size_t)n, f), (size_t)n);
  d[n] = '\0';
  fclose(f);
  *len = (size_t)n;
  return d;
}

static mlg_doc *load_text(const char *text, size_t len)
{
  mlg_doc *doc = NULL;
  mlg_err err = {0};
  int rc = mlg_pipeline_load(&doc, text, len, "J", MLG_PK_JENKINS, &err);
  if (rc)
    print_error("unexpected error: %s\n", err.msg);
  assert_int_equal(rc, 0);
  assert_non_null(doc);
  return doc;
}

static mlg_doc *load_file(const char *name)
{
  char path[256];
  snprintf(path, sizeof path, CORPUS "%s", name);
  free(src_text);
  src_text = slurp(path, &src_len);
  return load_text(src_text, src_len);
}

static mlg_doc *load(const char *text)
{
  free(src_text);
  src_text = strdup(text);
  src_len = strlen(text);
  return load_text(src_text, src_len);
}

static void expect_err(const char *text, int code, const char *msg)
{
  mlg_doc *doc = (mlg_doc *)1;
  mlg_err err = {0};
  assert_int_equal(mlg_pipeline_load(&doc, text, strlen(text), "J", MLG_PK_JENKINS, &err),
                   code);
  assert_null(doc);
  assert_string_equal(err.msg, msg);
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
  assert_non_null(seq);
  assert_int_equal(seq->type, MLG_SEQ);
  return seq->u.seq.len;
}

#define str_is(n, key, want)                                                                   \
  do {                                                                                         \
    const mlg_node *v_ = get((n), (key));                                                      \
    assert_int_equal(v_->type, MLG_STR);                                                       \
    assert_string_equal(v_->u.str.ptr, (want));                                                \
  } while (0)

/* Macros so a failure names the caller's line. */
#define int_is(n, key, want)                                                                   \
  do {                                                                                         \
    const mlg_node *v_ = get((n), (key));                                                      \
    assert_int_equal(v_->type, MLG_INT);                                                       \
    assert_int_equal(v_->u.integer, (want));                                                   \
  } while (0)

#define bool_is(n, key, want)                                                                  \
  do {                                                                                         \
    const mlg_node *v_ = get((n), (key));                                                      \
    assert_int_equal(v_->type, MLG_BOOL);                                                      \
    assert_int_equal(v_->u.boolean, (want));                                                   \
  } while (0)

#define pos_is(n, line, col)                                                                   \
  do {                                                                                         \
    int_is((n), "line", (line));                                                               \
    int_is((n), "col", (col));                                                                 \
  } while (0)

static const mlg_node *job(const mlg_node *m, const char *id)
{
  const mlg_node *jobs = get(m, "jobs");
  size_t i;
  for (i = 0; i < len(jobs); i++)
    if (!strcmp(get(at(jobs, i), "id")->u.str.ptr, id))
      return at(jobs, i);
  print_error("no job '%s'\n", id);
  fail();
  return NULL;
}

/* File line of text offset x of a val (pipeline.h's map rule). */
static int64_t val_line_of(const mlg_node *v, const char *needle)
{
  const mlg_node *text = get(v, "text"), *map = mlg_map_get(v, "map");
  const char *hit = strstr(text->u.str.ptr, needle);
  size_t x, i;
  int64_t line;
  assert_non_null(hit);
  x = (size_t)(hit - text->u.str.ptr);
  line = get(v, "line")->u.integer;
  for (i = 0; map && i < map->u.seq.len; i += 3)
    if ((size_t)map->u.seq.items[i]->u.integer <= x)
      line = map->u.seq.items[i + 1]->u.integer;
  return line;
}

/* Byte offset of line/col in the source. */
static size_t src_off(int64_t line, int64_t col)
{
  size_t i = 0;
  int64_t l = 1, c = 1;
  while (i < src_len && (l < line || c < col)) {
    if (src_text[i] == '\n') {
      l++;
      c = 1;
    } else if (((unsigned char)src_text[i] & 0xC0) != 0x80) {
      c++;
    }
    i++;
    while (i < src_len && ((unsigned char)src_text[i] & 0xC0) == 0x80)
      i++;
  }
  return i;
}

/* Every position points at what it names: expressions at their "$",
 * steps at their shell name, literal vals at their own bytes. */
static void check_positions(const mlg_node *n, int depth)
{
  size_t i;
  const mlg_node *t, *st;
  assert_true(depth < 100);
  if (n->type == MLG_SEQ)
    for (i = 0; i < n->u.seq.len; i++)
      check_positions(n->u.seq.items[i], depth + 1);
  if (n->type != MLG_MAP)
    return;
  if ((t = mlg_map_get(n, "syntax"))) { /* expr */
    size_t off = (size_t)get(n, "offset")->u.integer, end = (size_t)get(n, "end_offset")->u.integer;
    const char *x = get(n, "text")->u.str.ptr;
    assert_int_equal(src_text[off], '$');
    assert_int_equal(src_off(get(n, "line")->u.integer, get(n, "col")->u.integer), off);
    assert_non_null(memmem(src_text + off, end - off, x, strlen(x)));
  }
  if ((st = mlg_map_get(n, "shell")) && mlg_map_get(n, "run")) { /* step */
    size_t off = src_off(get(n, "line")->u.integer, get(n, "col")->u.integer);
    assert_memory_equal(src_text + off, st->u.str.ptr, strlen(st->u.str.ptr));
  }
  if ((st = mlg_map_get(n, "style")) && st->type == MLG_STR && mlg_map_get(n, "text") &&
      !mlg_map_get(n, "map") && strcmp(st->u.str.ptr, "code") && strcmp(st->u.str.ptr, "plain")) {
    size_t off = (size_t)get(n, "offset")->u.integer, end = (size_t)get(n, "end_offset")->u.integer;
    const mlg_node *x = get(n, "text");
    assert_int_equal(end - off, x->u.str.len);
    assert_memory_equal(src_text + off, x->u.str.ptr, x->u.str.len);
    assert_int_equal(src_off(get(n, "line")->u.integer, get(n, "col")->u.integer), off);
  }
  for (i = 0; i < n->u.map.len; i++)
    check_positions(n->u.map.pairs[i].val, depth + 1);
}

/* --- the corpus ------------------------------------------------------------- */

static void test_train_docker(void **state)
{
  mlg_doc *d = load_file("train-docker.Jenkinsfile");
  const mlg_node *m = d->root, *a, *img, *env, *j, *s, *c, *e;
  (void)state;
  str_is(m, "platform", "jenkins");
  str_is(m, "kind", "jenkinsfile");
  str_is(m, "style", "declarative");
  pos_is(m, 1, 1);
  a = get(m, "agent");
  str_is(a, "kind", "docker");
  pos_is(a, 3, 3);
  img = get(a, "image");
  str_is(img, "raw", "nvcr.io/nvidia/pytorch:24.05-py3");
  str_is(img, "registry", "nvcr.io");
  str_is(img, "name", "nvidia/pytorch");
  str_is(img, "tag", "24.05-py3");
  str_is(img, "pin", "tag");
  pos_is(img, 5, 14);
  str_is(get(a, "label"), "text", "gpu");
  str_is(get(a, "args"), "text", "-v /data/hf-cache:/root/.cache/huggingface --gpus all");
  env = get(m, "environment");
  assert_int_equal(len(env), 3);
  str_is(at(env, 1), "name", "WANDB_API_KEY");
  str_is(get(at(env, 1), "value"), "text", "wandb-key");
  bool_is(at(env, 1), "credential", 1);
  assert_null(mlg_map_get(at(env, 0), "credential"));
  str_is(at(env, 2), "vtype", "string");
  str_is(get(at(env, 2), "value"), "style", "double");
  assert_int_equal(len(get(m, "options")), 2);
  str_is(at(get(m, "options"), 1), "name", "disableConcurrentBuilds");
  assert_int_equal(len(get(m, "jobs")), 4);
  j = job(m, "Train");
  pos_is(j, 25, 5);
  str_is(j, "route", "stages[\"Train\"]");
  str_is(j, "path", "J");
  str_is(at(get(get(j, "runs_on"), "labels"), 0), "text", "gpu");
  pos_is(get(j, "runs_on"), 6, 7);
  str_is(get(j, "container"), "name", "nvidia/pytorch");
  s = at(get(j, "steps"), 0);
  int_is(s, "index", 1);
  pos_is(s, 27, 9);
  str_is(s, "route", "stages[\"Train\"].steps[0]");
  str_is(s, "job", "Train");
  str_is(s, "shell", "sh");
  bool_is(s, "interp", 0);
  str_is(get(s, "run"), "style", "triple-single");
  /* the backslash-newline joins the lines as Groovy does; the map still
   * knows where each part came from */
  assert_non_null(strstr(get(get(s, "run"), "text")->u.str.ptr, "Llama-3.1-8B             --output_dir"));
  assert_int_equal(val_line_of(get(s, "run"), "python train.py"), 29);
  assert_int_equal(val_line_of(get(s, "run"), "--output_dir"), 30);
  c = at(get(j, "calls"), 0);
  str_is(c, "name", "archiveArtifacts");
  pos_is(c, 32, 9);
  str_is(at(get(c, "args"), 0), "name", "artifacts");
  str_is(get(at(get(c, "args"), 0), "value"), "text", "out/**");
  str_is(get(at(get(c, "args"), 1), "value"), "style", "plain");
  /* Upload: branch 'main' takes change requests out; two credentials */
  j = job(m, "Upload");
  bool_is(get(j, "reach"), "merge_request", 0);
  bool_is(get(j, "reach"), "branch", 1);
  str_is(at(get(get(j, "when"), "branches"), 0), "text", "main");
  assert_int_equal(len(get(j, "credentials")), 2);
  c = at(get(j, "credentials"), 1);
  str_is(get(c, "id"), "text", "hf-token");
  str_is(c, "kind", "string");
  str_is(c, "via", "withCredentials");
  assert_string_equal(at(get(c, "variables"), 0)->u.str.ptr, "HF_TOKEN");
  pos_is(c, 38, 26);
  s = at(get(j, "steps"), 0);
  bool_is(s, "interp", 1);
  assert_int_equal(len(get(s, "credentials")), 4);
  assert_string_equal(at(get(s, "credentials"), 3)->u.str.ptr, "HF_TOKEN");
  /* expressions in file order */
  e = get(m, "exprs");
  assert_int_equal(len(e), 4);
  str_is(at(e, 0), "text", "BUILD_NUMBER");
  str_is(at(e, 0), "field", "environment");
  str_is(at(e, 0), "key", "MODEL_ID");
  str_is(at(e, 2), "text", "HF_TOKEN");
  pos_is(at(e, 2), 39, 63);
  int_is(at(e, 2), "end_col", 74);
  str_is(at(e, 2), "field", "sh");
  str_is(at(e, 2), "route", "stages[\"Upload\"].steps[0]");
  str_is(at(e, 2), "job", "Upload");
  int_is(at(e, 2), "step", 1);
  str_is(at(e, 2), "syntax", "groovy");
  bool_is(at(e, 2), "braced", 1);
  str_is(at(e, 3), "field", "echo");
  /* post */
  assert_int_equal(len(get(m, "post")), 2);
  str_is(at(get(m, "post"), 1), "condition", "failure");
  pos_is(at(get(m, "post"), 1), 48, 5);
  str_is(job(m, "(post)"), "route", "post");
  str_is(at(get(job(m, "(post)"), "calls"), 1), "name", "mail");
  str_is(at(get(m, "comments"), 0), "text",
         "Declarative training pipeline: GPU docker agent, HF upload with a token.");
  assert_int_equal(len(get(m, "notes")), 0);
  check_positions(m, 0);
  mlg_doc_free(d);
}

static void test_scripted_gpu(void **state)
{
  mlg_doc *d = load_file("scripted-gpu.Jenkinsfile");
  const mlg_node *m = d->root, *j, *s, *img;
  (void)state;
  str_is(m, "style", "scripted");
  assert_null(mlg_map_get(m, "agent"));
  assert_int_equal(len(get(m, "jobs")), 4);
  j = job(m, "Checkout");
  pos_is(get(j, "runs_on"), 3, 1);
  str_is(at(get(get(j, "runs_on"), "labels"), 0), "text", "gpu && linux");
  str_is(at(get(j, "calls"), 0), "name", "checkout");
  str_is(get(at(get(at(get(j, "calls"), 0), "args"), 0), "value"), "style", "code");
  j = job(m, "Eval");
  img = get(j, "container");
  str_is(img, "raw", "pytorch/pytorch:latest");
  str_is(img, "pin", "latest");
  pos_is(img, 7, 27);
  assert_int_equal(len(get(j, "steps")), 2);
  s = at(get(j, "steps"), 0);
  /* \' decoded */
  assert_non_null(strstr(get(get(s, "run"), "text")->u.str.ptr, "from_pretrained('org/m')"));
  s = at(get(j, "steps"), 1);
  pos_is(s, 12, 7);
  assert_non_null(strstr(get(get(s, "run"), "text")->u.str.ptr, "trust_remote_code=True"));
  str_is(get(job(m, "Report"), "container"), "raw", "python:3.11-slim");
  j = job(m, "(no stage)");
  str_is(at(get(j, "calls"), 0), "name", "docker.image");
  str_is(at(get(j, "calls"), 1), "name", "img.pull");
  str_is(at(get(j, "calls"), 4), "name", ".inside");
  str_is(at(get(m, "comments"), 0), "text", "/usr/bin/env groovy");
  check_positions(m, 0);
  mlg_doc_free(d);
}

static void test_shared_lib(void **state)
{
  mlg_doc *d = load_file("shared-lib.Jenkinsfile");
  const mlg_node *m = d->root, *l = get(m, "libraries");
  static const char *const want[][5] = {
      {"ml-shared", "master", "branch", "@Library", "1"},
      {"infra-lib", "v2.1.0", "tag", "@Library", "1"},
      {"pinned", "0123456789abcdef0123456789abcdef01234567", "sha", "@Library", "2"},
      {"utils", "main", "branch", "library", "4"},
      {"ml-steps", "feature/x", "branch", "identifier", "5"},
      {"dyn", "${params.LIB_REF}", "expr", "library", "9"}};
  size_t i;
  (void)state;
  assert_int_equal(len(l), 6);
  for (i = 0; i < 6; i++) {
    str_is(at(l, i), "name", want[i][0]);
    str_is(at(l, i), "ref", want[i][1]);
    str_is(at(l, i), "pin", want[i][2]);
    str_is(at(l, i), "form", want[i][3]);
    int_is(at(l, i), "line", atoi(want[i][4]));
  }
  int_is(at(l, 0), "col", 1);
  pos_is(get(at(l, 1), "raw"), 1, 32);
  /* the library's retriever is not a step; the shared step call is */
  assert_int_equal(len(get(job(m, "(no stage)"), "calls")), 1);
  str_is(at(get(job(m, "(no stage)"), "calls"), 0), "name", "mlTrain");
  mlg_doc_free(d);
  d = load("library 'plain'\n");
  str_is(at(get(d->root, "libraries"), 0), "pin", "none");
  assert_null(mlg_map_get(at(get(d->root, "libraries"), 0), "ref"));
  mlg_doc_free(d);
}

static void test_parallel(void **state)
{
  mlg_doc *d = load_file("parallel.Jenkinsfile");
  const mlg_node *m = d->root, *j;
  (void)state;
  str_is(get(m, "agent"), "kind", "none");
  assert_int_equal(len(get(m, "jobs")), 3);
  j = job(m, "unit");
  str_is(j, "route", "stages[\"Test\"].parallel[\"unit\"]");
  str_is(get(j, "agent"), "kind", "label");
  pos_is(get(j, "runs_on"), 7, 19);
  j = job(m, "gpu");
  str_is(get(j, "agent"), "kind", "node");
  str_is(at(get(get(j, "runs_on"), "labels"), 0), "text", "gpu-a100");
  str_is(at(get(j, "calls"), 0), "name", "stash");
  j = job(m, "Publish");
  str_is(get(j, "agent"), "kind", "any");
  assert_null(mlg_map_get(j, "runs_on"));
  assert_int_equal(len(get(j, "steps")), 0);
  assert_int_equal(len(get(j, "calls")), 2);
  check_positions(m, 0);
  mlg_doc_free(d);
}

static void test_matrix(void **state)
{
  mlg_doc *d = load_file("matrix.Jenkinsfile");
  const mlg_node *m = d->root, *j, *e;
  (void)state;
  assert_int_equal(len(get(m, "jobs")), 1);
  j = job(m, "test");
  str_is(j, "route", "stages[\"Compat\"].matrix.stages[\"test\"]");
  str_is(get(j, "container"), "pin", "expr");
  str_is(get(j, "container"), "raw", "python:${PY}");
  e = get(m, "exprs");
  assert_int_equal(len(e), 2);
  str_is(at(e, 0), "text", "PY");
  str_is(at(e, 0), "field", "image");
  str_is(at(e, 0), "route", "stages[\"Compat\"].matrix.stages[\"test\"]");
  str_is(at(e, 1), "text", "TORCH");
  pos_is(at(e, 1), 20, 38);
  check_positions(m, 0);
  mlg_doc_free(d);
}

static void test_pr_build(void **state)
{
  mlg_doc *d = load_file("pr-build.Jenkinsfile");
  const mlg_node *m = d->root, *j, *r, *c, *w;
  (void)state;
  j = job(m, "PR eval");
  r = get(j, "reach");
  bool_is(r, "merge_request", 1);
  bool_is(r, "fork", 1);
  bool_is(r, "branch", 0);
  bool_is(r, "default_branch", 0);
  bool_is(r, "tag", 0);
  bool_is(r, "schedule", 0);
  w = get(j, "when");
  bool_is(w, "change_request", 1);
  str_is(w, "raw", "changeRequest()");
  pos_is(w, 6, 7);
  assert_int_equal(len(get(j, "credentials")), 2);
  c = at(get(j, "credentials"), 1);
  str_is(c, "kind", "usernamePassword");
  str_is(get(c, "id"), "text", "reg");
  assert_string_equal(at(get(c, "variables"), 0)->u.str.ptr, "REG_USER");
  assert_string_equal(at(get(c, "variables"), 1)->u.str.ptr, "REG_PASS");
  pos_is(c, 9, 26);
  assert_int_equal(len(get(at(get(j, "steps"), 1), "credentials")), 3);
  assert_null(mlg_map_get(j, "input"));
  j = job(m, "Deploy prod");
  r = get(j, "reach");
  bool_is(r, "merge_request", 0);
  bool_is(r, "fork", 0);
  bool_is(r, "branch", 1);
  bool_is(get(j, "when"), "change_request", 0);
  pos_is(get(j, "input"), 23, 7);
  c = at(get(j, "credentials"), 0);
  str_is(c, "via", "environment");
  str_is(c, "kind", "unknown");
  pos_is(c, 28, 9);
  assert_string_equal(at(get(c, "variables"), 2)->u.str.ptr, "DEPLOY_KEY_PSW");
  str_is(at(get(j, "env"), 0), "name", "DEPLOY_KEY");
  str_is(at(get(m, "exprs"), 0), "text", "env.CHANGE_BRANCH");
  pos_is(at(get(m, "exprs"), 0), 11, 28);
  check_positions(m, 0);
  mlg_doc_free(d);
}

static void test_params(void **state)
{
  mlg_doc *d = load_file("params.Jenkinsfile");
  const mlg_node *m = d->root, *p, *t, *j, *e;
  (void)state;
  p = get(m, "parameters");
  assert_int_equal(len(p), 5);
  str_is(at(p, 0), "name", "TAG");
  str_is(at(p, 0), "type", "string");
  str_is(get(at(p, 0), "default"), "text", "latest");
  pos_is(at(p, 0), 4, 5);
  str_is(at(p, 1), "type", "booleanParam");
  str_is(get(at(p, 1), "default"), "style", "plain");
  str_is(get(at(p, 2), "default"), "text", "staging");
  str_is(at(p, 3), "type", "password");
  t = get(m, "triggers");
  assert_int_equal(len(t), 2);
  str_is(t->u.seq.items[0], "name", "cron");
  str_is(get(at(get(at(t, 0), "args"), 0), "value"), "text", "H 2 * * *");
  str_is(at(get(m, "environment"), 0), "name", "PASS");
  assert_null(mlg_map_get(at(get(m, "environment"), 0), "credential"));
  j = job(m, "Build");
  assert_int_equal(len(get(j, "steps")), 2);
  str_is(at(get(j, "steps"), 1), "route", "stages[\"Build\"].steps[1]");
  pos_is(at(get(j, "steps"), 1), 23, 13);
  e = get(m, "exprs");
  assert_int_equal(len(e), 3);
  str_is(at(e, 2), "text", "params.TAG");
  bool_is(at(e, 2), "braced", 0);
  pos_is(at(e, 2), 25, 36);
  int_is(at(e, 2), "end_col", 47);
  check_positions(m, 0);
  mlg_doc_free(d);
}

static void test_heredoc(void **state)
{
  mlg_doc *d = load_file("heredoc.Jenkinsfile");
  const mlg_node *m = d->root, *j, *run;
  (void)state;
  j = job(m, "Prepare data");
  assert_int_equal(len(get(j, "steps")), 4);
  run = get(at(get(j, "steps"), 0), "run");
  str_is(run, "style", "triple-double");
  pos_is(run, 6, 15);
  assert_int_equal(val_line_of(run, "aws s3 cp"), 7);
  assert_int_equal(val_line_of(run, "python - <<'PY'"), 8);
  assert_int_equal(val_line_of(run, "import pandas"), 9);
  assert_int_equal(val_line_of(run, "echo \"rows"), 13);
  assert_non_null(strstr(get(run, "text")->u.str.ptr, "${env.BUILD_TAG}"));
  bool_is(at(get(j, "steps"), 0), "interp", 1);
  str_is(at(get(j, "steps"), 1), "shell", "powershell");
  str_is(at(get(j, "steps"), 2), "shell", "bat");
  str_is(at(get(j, "steps"), 3), "shell", "pwsh");
  str_is(get(at(get(j, "steps"), 3), "run"), "text", "Write-Host done");
  str_is(get(j, "container"), "pin", "tag");
  check_positions(m, 0);
  mlg_doc_free(d);
}

static void test_scripted_creds(void **state)
{
  mlg_doc *d = load_file("scripted-creds.Jenkinsfile");
  const mlg_node *m = d->root, *j, *c;
  (void)state;
  j = job(m, "(no stage)");
  str_is(j, "route", "stages[\"(no stage)\"]");
  assert_int_equal(len(get(j, "steps")), 2);
  str_is(get(at(get(j, "steps"), 0), "run"), "text", "git rev-parse --short HEAD");
  str_is(get(at(get(j, "steps"), 1), "run"), "text", "echo outside any stage");
  j = job(m, "Publish");
  assert_int_equal(len(get(j, "steps")), 3);
  c = get(j, "credentials");
  assert_int_equal(len(c), 2);
  str_is(at(c, 0), "kind", "file");
  str_is(at(c, 1), "kind", "sshUserPrivateKey");
  assert_string_equal(at(get(at(c, 1), "variables"), 0)->u.str.ptr, "KEY");
  /* in timeout { retry { dir { } } } and in try/finally */
  str_is(get(at(get(j, "steps"), 0), "run"), "text",
         "gsutil cp gs://ml/ckpt.pt . && echo ${GOOGLE_APPLICATION_CREDENTIALS}");
  assert_int_equal(len(get(at(get(j, "steps"), 2), "credentials")), 2);
  str_is(get(at(get(j, "steps"), 2), "run"), "text", "rm -f key");
  str_is(at(get(j, "calls"), 0), "name", "timeout");
  assert_int_equal(len(get(job(m, "shard b"), "steps")), 1);
  pos_is(at(get(m, "loads"), 0), 33, 3);
  str_is(get(at(get(m, "loads"), 0), "path"), "text", "ci/common.groovy");
  str_is(at(get(m, "parameters"), 0), "name", "MODEL");
  str_is(get(at(get(m, "parameters"), 0), "default"), "text", "org/m");
  check_positions(m, 0);
  mlg_doc_free(d);
}

static void test_helper(void **state)
{
  mlg_doc *d = load_file("helper.groovy.Jenkinsfile");
  (void)state;
  str_is(d->root, "style", "scripted");
  assert_int_equal(len(get(d->root, "jobs")), 0);
  assert_int_equal(len(get(d->root, "exprs")), 1);
  str_is(at(get(d->root, "exprs"), 0), "field", "other");
  mlg_doc_free(d);
}

/* Every corpus file loads and its positions check out. */
static void test_corpus_all(void **state)
{
  DIR *dir = opendir(CORPUS);
  struct dirent *e;
  size_t n = 0;
  (void)state;
  assert_non_null(dir);
  while ((e = readdir(dir))) {
    mlg_doc *d;
    if (e->d_name[0] == '.')
      continue;
    d = load_file(e->d_name);
    check_positions(d->root, 0);
    mlg_doc_free(d);
    n++;
  }
  closedir(dir);
  assert_true(n >= 10);
}

/* --- forms, skipping, errors, limits ------------------------------------------ */

static void test_forms(void **state)
{
  mlg_doc *d;
  const mlg_node *j, *s;
  (void)state;
  d = load("node {\n  stage 'legacy'\n  sh 'make'\n  def cmd = 'x'\n  sh cmd\n"
           "  sh script: \"echo ${A}\", returnStdout: true\n"
           "  withEnv([\"A=${b}\", 'C=d']) { bat 'set' }\n}\n");
  j = job(d->root, "legacy");
  assert_int_equal(len(get(j, "steps")), 4);
  s = at(get(j, "steps"), 1);
  str_is(get(s, "run"), "style", "code");
  str_is(get(s, "run"), "text", "cmd");
  bool_is(s, "interp", 1);
  s = at(get(j, "steps"), 2);
  str_is(get(s, "run"), "text", "echo ${A}");
  bool_is(s, "interp", 1);
  str_is(at(get(j, "env"), 1), "name", "C");
  str_is(get(at(get(j, "env"), 0), "value"), "text", "${b}");
  pos_is(get(at(get(j, "env"), 0), "value"), 7, 15);
  mlg_doc_free(d);
  /* unknown directives are notes, never errors */
  d = load("pipeline {\n  agent any\n  frobnicate { x }\n  stages {\n    stage('a') {\n"
           "      weird 'y'\n      steps { sh 'ok' }\n    }\n  }\n}\n");
  assert_int_equal(len(get(d->root, "notes")), 2);
  str_is(at(get(d->root, "notes"), 0), "text", "unknown pipeline section 'frobnicate' skipped");
  pos_is(at(get(d->root, "notes"), 0), 3, 3);
  str_is(at(get(d->root, "notes"), 1), "text", "unknown stage directive 'weird' skipped");
  assert_int_equal(len(get(job(d->root, "a"), "steps")), 1);
  mlg_doc_free(d);
  /* tag-only stages and when { not { changeRequest() } } */
  d = load("pipeline { agent { docker 'alpine' } stages { stage('rel') { when { buildingTag() }"
           " steps { sh 'x' } } } }");
  j = job(d->root, "rel");
  bool_is(get(j, "reach"), "tag", 1);
  bool_is(get(j, "reach"), "branch", 0);
  bool_is(get(j, "reach"), "merge_request", 0);
  str_is(get(get(j, "agent"), "image"), "pin", "latest");
  mlg_doc_free(d);
  /* the pipeline.c entry chooses the Jenkins loader by path */
  assert_int_equal(mlg_pipeline_kind_of_path("ci/train.Jenkinsfile"), MLG_PK_JENKINS);
}

static void test_errors(void **state)
{
  (void)state;
  expect_err("pipeline {\n  stages {\n    stage('x') {\n      steps {\n        sh '''\n"
             "          echo\n      }\n    }\n  }\n}\n",
             MLG_EPARSE, "J:5:12: unterminated ''' string");
  expect_err("pipeline {\n  agent any\n  stages {\n  }\n", MLG_EPARSE,
             "J:1:10: '{' is never closed");
  expect_err("pipeline { } }", MLG_EPARSE, "J:1:14: '}' closes nothing");
  expect_err("sh \"echo ${x\"\n", MLG_EPARSE, "J:1:10: unterminated string: '${' is never closed");
}

static void test_limits(void **state)
{
  mlg_buf b = MLG_BUF_INIT;
  mlg_doc *d;
  clock_t t0;
  double secs;
  size_t i;
  char *deep;
  (void)state;
  /* about 10 MB of realistic stages */
  mlg_buf_puts(&b, "pipeline {\n  agent { label 'gpu' }\n  stages {\n");
  for (i = 0; b.len < ((size_t)10 << 20); i++)
    mlg_buf_printf(&b,
                   "    stage('s%zu') {\n      steps {\n        withCredentials([string("
                   "credentialsId: 'hf', variable: 'HF_TOKEN')]) {\n          sh \"\"\"\n"
                   "            python train.py --epochs ${params.EPOCHS} --seed %zu\n"
                   "            hf upload org/m out/ --token $HF_TOKEN\n          \"\"\"\n"
                   "        }\n        archiveArtifacts 'out/**'\n      }\n    }\n",
                   i, i);
  mlg_buf_puts(&b, "  }\n}\n");
  free(src_text);
  src_text = NULL;
  t0 = clock();
  d = load_text(b.ptr, b.len);
  secs = (double)(clock() - t0) / CLOCKS_PER_SEC;
  print_message("10 MB Jenkinsfile: %zu stages in %.2f s (%.1f MB/s)\n", i, secs,
                (double)b.len / (1 << 20) / (secs > 0 ? secs : 1e-9));
  assert_int_equal(len(get(d->root, "jobs")), i);
  assert_int_equal(len(get(d->root, "exprs")), 2 * i);
  mlg_doc_free(d);
  mlg_buf_free(&b);
  /* one long line of words, each a command call of the next: linear */
  for (i = 0; i < ((size_t)1 << 18); i++)
    mlg_buf_puts(&b, i % 3 ? "abcdefghijklmnopqrstuvwxyz0123456789 " : "sh xyzw ");
  t0 = clock();
  d = load_text(b.ptr, b.len);
  secs = (double)(clock() - t0) / CLOCKS_PER_SEC;
  assert_true(secs < 20); /* quadratic would be hours */
  assert_int_equal(len(get(at(get(d->root, "jobs"), 0), "steps")), 87382);
  mlg_doc_free(d);
  mlg_buf_free(&b);
  /* nesting */
  deep = malloc(1001);
  for (i = 0; i < 1000; i++)
    deep[i] = i < 500 ? '{' : '}';
  deep[1000] = '\0';
  expect_err(deep, MLG_ELIMIT, "J:1:257: nesting deeper than 256 levels");
  free(deep);
}

static int teardown(void **state)
{
  (void)state;
  free(src_text);
  src_text = NULL;
  return 0;
}

int main(void)
{
  const struct CMUnitTest tests[] = {
      cmocka_unit_test_teardown(test_train_docker, teardown),
      cmocka_unit_test_teardown(test_scripted_gpu, teardown),
      cmocka_unit_test_teardown(test_shared_lib, teardown),
      cmocka_unit_test_teardown(test_parallel, teardown),
      cmocka_unit_test_teardown(test_matrix, teardown),
      cmocka_unit_test_teardown(test_pr_build, teardown),
      cmocka_unit_test_teardown(test_params, teardown),
      cmocka_unit_test_teardown(test_heredoc, teardown),
      cmocka_unit_test_teardown(test_scripted_creds, teardown),
      cmocka_unit_test_teardown(test_helper, teardown),
      cmocka_unit_test_teardown(test_corpus_all, teardown),
      cmocka_unit_test_teardown(test_forms, teardown),
      cmocka_unit_test_teardown(test_errors, teardown),
      cmocka_unit_test_teardown(test_limits, teardown),
  };
  return cmocka_run_group_tests(tests, NULL, NULL);
}
