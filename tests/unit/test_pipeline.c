/*
 * mlg_pipeline_load: the model's shape and exact values (uses, images,
 * permissions, expressions and their positions, text maps, comments,
 * aliases), validation errors, limits, and every peer fixture (valid ones
 * load, invalid ones fail with a located message, and every position the
 * model gives points at the bytes it names).
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
#include <sys/stat.h>
#include <time.h>

#include "pipeline.h"

#define ACTIONLINT "../shared/peer-fixtures/actionlint-ok/ok"
#define ZIZMOR "../shared/peer-fixtures/zizmor/test-data"

/* --- helpers ------------------------------------------------------------ */

static mlg_doc *load_k(const char *text, mlg_pipeline_kind kind)
{
  mlg_doc *doc = NULL;
  mlg_err err = {0};
  int rc = mlg_pipeline_load(&doc, text, strlen(text), "t.yml", kind, &err);
  if (rc)
    print_error("unexpected error: %s\n", err.msg);
  assert_int_equal(rc, 0);
  assert_non_null(doc);
  return doc;
}

static mlg_doc *load(const char *text)
{
  return load_k(text, MLG_PK_GHA_WORKFLOW);
}

static void expect_err_k(const char *text, mlg_pipeline_kind kind, int code, const char *msg)
{
  mlg_doc *doc = (mlg_doc *)1;
  mlg_err err = {0};
  int rc = mlg_pipeline_load(&doc, text, strlen(text), "t.yml", kind, &err);
  assert_int_equal(rc, code);
  assert_null(doc);
  if (msg)
    assert_string_equal(err.msg, msg);
}

static void expect_err(const char *text, const char *msg)
{
  expect_err_k(text, MLG_PK_GHA_WORKFLOW, MLG_EPARSE, msg);
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

static int64_t geti(const mlg_node *n, const char *key)
{
  const mlg_node *v = get(n, key);
  assert_int_equal(v->type, MLG_INT);
  return v->u.integer;
}

static const char *gets(const mlg_node *n, const char *key)
{
  const mlg_node *v = get(n, key);
  assert_int_equal(v->type, MLG_STR);
  return v->u.str.ptr;
}

static int getb(const mlg_node *n, const char *key)
{
  const mlg_node *v = get(n, key);
  assert_int_equal(v->type, MLG_BOOL);
  return v->u.boolean;
}

static void absent(const mlg_node *n, const char *key)
{
  if (mlg_map_get(n, key))
    print_error("key '%s' should be absent\n", key);
  assert_null(mlg_map_get(n, key));
}

static const mlg_node *job(const mlg_doc *d, size_t i)
{
  return at(get(d->root, "jobs"), i);
}

static const mlg_node *step(const mlg_doc *d, size_t j, size_t i)
{
  return at(get(job(d, j), "steps"), i);
}

static const mlg_node *expr(const mlg_doc *d, size_t i)
{
  return at(get(d->root, "exprs"), i);
}

static void pos(const mlg_node *n, int64_t line, int64_t col)
{
  assert_int_equal(geti(n, "line"), line);
  assert_int_equal(geti(n, "col"), col);
}

/* --- position checks (also run on every fixture) -------------------------- */

typedef struct src {
  const char *text;
  size_t len;
  size_t *lines; /* byte offset of each line start (1-based index) */
  size_t nlines;
} src;

static size_t brk(const char *s, size_t n, size_t i)
{
  unsigned char c = (unsigned char)s[i];
  if (c == '\n')
    return 1;
  if (c == '\r')
    return i + 1 < n && s[i + 1] == '\n' ? 2 : 1;
  if (c == 0xC2 && i + 1 < n && (unsigned char)s[i + 1] == 0x85)
    return 2;
  if (c == 0xE2 && i + 2 < n && (unsigned char)s[i + 1] == 0x80 &&
      ((unsigned char)s[i + 2] & 0xFE) == 0xA8)
    return 3;
  return 0;
}

static void src_init(src *s, const char *text, size_t n)
{
  size_t i = 0, cap = 64;
  s->text = text;
  s->len = n;
  s->lines = malloc(cap * sizeof *s->lines);
  s->nlines = 1;
  s->lines[0] = 0;
  s->lines[1] = n >= 3 && memcmp(text, "\xEF\xBB\xBF", 3) == 0 ? 3 : 0;
  i = s->lines[1];
  s->nlines = 2;
  while (i < n) {
    size_t b = brk(text, n, i);
    if (!b) {
      i++;
      continue;
    }
    i += b;
    if (s->nlines == cap)
      s->lines = realloc(s->lines, (cap *= 2) * sizeof *s->lines);
    s->lines[s->nlines++] = i;
  }
}

/* Byte offset of a 1-based line and (character) column. */
static size_t src_off(const src *s, int64_t line, int64_t col)
{
  size_t o;
  int64_t c = 1;
  assert_true(line >= 1 && (size_t)line < s->nlines);
  o = s->lines[line];
  while (c < col && o < s->len) {
    o++;
    while (o < s->len && ((unsigned char)s->text[o] & 0xC0) == 0x80)
      o++;
    c++;
  }
  return o;
}

static size_t checked_vals, checked_points, checked_exprs;

static void check_val(const src *s, const mlg_node *v)
{
  const mlg_node *text = get(v, "text"), *map = mlg_map_get(v, "map");
  const char *style = gets(v, "style");
  size_t off = (size_t)geti(v, "offset"), i;

  assert_int_equal(src_off(s, geti(v, "line"), geti(v, "col")), off);
  assert_true(off <= (size_t)geti(v, "end_offset"));
  assert_true((size_t)geti(v, "end_offset") <= s->len);
  checked_vals++;
  if (!map)
    return;
  assert_int_equal(len(map) % 3, 0);
  assert_int_equal(at(map, 0)->u.integer, 0);
  for (i = 0; i < len(map); i += 3) {
    int64_t t = at(map, i)->u.integer;
    size_t o = src_off(s, at(map, i + 1)->u.integer, at(map, i + 2)->u.integer);
    assert_true(t >= 0 && (size_t)t <= text->u.str.len);
    if (i)
      assert_true(t > at(map, i - 3)->u.integer);
    /* The text at a point is the file's byte there, except at the
     * leading line break of a block scalar and at an escape. */
    if ((size_t)t < text->u.str.len && text->u.str.ptr[t] != '\n' &&
        !(strcmp(style, "double") == 0 && s->text[o] == '\\')) {
      if (s->text[o] != text->u.str.ptr[t])
        print_error("map point t=%lld line %lld col %lld: file has '%c', text '%c'\n",
                    (long long)t, (long long)at(map, i + 1)->u.integer,
                    (long long)at(map, i + 2)->u.integer, s->text[o], text->u.str.ptr[t]);
      assert_int_equal(s->text[o], text->u.str.ptr[t]);
    }
    checked_points++;
  }
}

static void check_expr(const src *s, const mlg_node *e)
{
  size_t off = (size_t)geti(e, "offset"), end = (size_t)geti(e, "end_offset");
  assert_int_equal(src_off(s, geti(e, "line"), geti(e, "col")), off);
  assert_int_equal(src_off(s, geti(e, "end_line"), geti(e, "end_col")), end);
  assert_true(off < end && end <= s->len);
  if (getb(e, "fenced")) {
    assert_memory_equal(s->text + off, "${{", 3);
    if (end - off >= 5 && memcmp(s->text + end - 2, "}}", 2) != 0)
      print_error("expr at %zu does not end in }}\n", off);
    assert_memory_equal(s->text + end - 2, "}}", 2);
  }
  get(e, "route");
  get(e, "field");
  checked_exprs++;
}

/* Every val, expr and position of a model (a DAG: bounded walk). */
static void check_tree(const src *s, const mlg_node *n, int depth)
{
  size_t i;
  assert_true(depth < 64);
  if (n->type == MLG_SEQ) {
    for (i = 0; i < n->u.seq.len; i++)
      check_tree(s, n->u.seq.items[i], depth + 1);
    return;
  }
  if (n->type != MLG_MAP)
    return;
  if (mlg_map_get(n, "style") && mlg_map_get(n, "text")) {
    check_val(s, n);
    return;
  }
  if (mlg_map_get(n, "fenced")) {
    check_expr(s, n);
    return;
  }
  if (mlg_map_get(n, "line") && mlg_map_get(n, "col") &&
      mlg_map_get(n, "line")->type == MLG_INT) {
    int64_t l = geti(n, "line");
    assert_true(l >= 1 && (size_t)l < s->nlines);
  }
  for (i = 0; i < n->u.map.len; i++)
    if (strcmp(n->u.map.pairs[i].key->u.str.ptr, "include") != 0 &&
        strcmp(n->u.map.pairs[i].key->u.str.ptr, "exclude") != 0)
      check_tree(s, n->u.map.pairs[i].val, depth + 1);
}

static void check_doc(const char *text, size_t n, const mlg_doc *d)
{
  src s;
  src_init(&s, text, n);
  check_tree(&s, d->root, 0);
  free(s.lines);
}

static mlg_doc *load_checked(const char *text, mlg_pipeline_kind kind)
{
  mlg_doc *d = load_k(text, kind);
  check_doc(text, strlen(text), d);
  return d;
}

static char *slurp(const char *path, size_t *n)
{
  FILE *f = fopen(path, "rb");
  char *buf;
  long sz;
  if (!f)
    return NULL;
  fseek(f, 0, SEEK_END);
  sz = ftell(f);
  fseek(f, 0, SEEK_SET);
  buf = malloc((size_t)sz + 1);
  *n = fread(buf, 1, (size_t)sz, f);
  buf[*n] = '\0';
  fclose(f);
  return buf;
}

/* --- workflows ------------------------------------------------------------- */

static void test_workflow_shape(void **state)
{
  mlg_doc *d = load_checked("name: CI\n"
                            "on:\n"
                            "  push:\n"
                            "    branches: [main]\n"
                            "    paths-ignore: ['**.md']\n"
                            "  pull_request_target:\n"
                            "    types: [opened, synchronize]\n"
                            "  workflow_dispatch:\n"
                            "    inputs:\n"
                            "      level:\n"
                            "        type: choice\n"
                            "        required: true\n"
                            "        default: low\n"
                            "        options: [low, high]\n"
                            "  schedule:\n"
                            "    - cron: '0 3 * * *'\n"
                            "env:\n"
                            "  A: 1\n"
                            "  B: ${{ github.ref }}\n"
                            "defaults:\n"
                            "  run:\n"
                            "    shell: bash\n"
                            "concurrency:\n"
                            "  group: ci-${{ github.ref }}\n"
                            "  cancel-in-progress: true\n"
                            "jobs:\n"
                            "  build:\n"
                            "    runs-on: [self-hosted, linux]\n"
                            "    needs: [lint]\n"
                            "    environment: prod\n"
                            "    timeout-minutes: 30\n"
                            "    steps:\n"
                            "      - uses: actions/checkout@v4\n"
                            "        with:\n"
                            "          fetch-depth: 0\n"
                            "      - id: s\n"
                            "        run: make\n"
                            "        env:\n"
                            "          T: ${{ secrets.T }}\n"
                            "  call:\n"
                            "    uses: o/r/.github/workflows/w.yml@main\n"
                            "    with:\n"
                            "      x: 1\n"
                            "    secrets: inherit\n",
                            MLG_PK_GHA_WORKFLOW);
  const mlg_node *r = d->root, *on, *ev, *in, *j, *s, *kv;
  (void)state;

  assert_string_equal(gets(r, "platform"), "github");
  assert_string_equal(gets(r, "kind"), "workflow");
  assert_string_equal(gets(r, "path"), "t.yml");
  pos(r, 1, 1);
  assert_string_equal(gets(get(r, "name"), "text"), "CI");
  absent(r, "permissions");
  on = get(r, "on");
  pos(on, 2, 1);
  assert_int_equal(len(get(on, "events")), 4);
  assert_true(getb(get(on, "names"), "pull_request_target"));
  ev = at(get(on, "events"), 0);
  assert_string_equal(gets(ev, "name"), "push");
  pos(ev, 3, 3);
  assert_string_equal(at(get(ev, "branches"), 0)->u.str.ptr, "main");
  assert_string_equal(at(get(ev, "paths_ignore"), 0)->u.str.ptr, "**.md");
  absent(ev, "types");
  ev = at(get(on, "events"), 1);
  assert_string_equal(at(get(ev, "types"), 1)->u.str.ptr, "synchronize");
  in = at(get(at(get(on, "events"), 2), "inputs"), 0);
  assert_string_equal(gets(in, "name"), "level");
  pos(in, 10, 7);
  assert_string_equal(gets(in, "type"), "choice");
  assert_true(getb(in, "required"));
  assert_string_equal(gets(get(in, "default"), "text"), "low");
  assert_int_equal(len(get(in, "options")), 2);
  ev = at(get(on, "events"), 3);
  assert_string_equal(gets(at(get(ev, "crons"), 0), "text"), "0 3 * * *");
  pos(at(get(ev, "crons"), 0), 16, 14);

  kv = at(get(r, "env"), 0);
  assert_string_equal(gets(kv, "name"), "A");
  assert_string_equal(gets(kv, "vtype"), "int");
  assert_string_equal(gets(get(kv, "value"), "text"), "1");
  pos(kv, 18, 3);
  assert_string_equal(gets(get(get(r, "defaults"), "shell"), "text"), "bash");
  assert_string_equal(gets(get(get(r, "concurrency"), "cancel_in_progress"), "text"), "true");

  j = job(d, 0);
  assert_string_equal(gets(j, "id"), "build");
  assert_string_equal(gets(j, "route"), "jobs.build");
  assert_string_equal(gets(j, "kind"), "normal");
  pos(j, 27, 3);
  assert_int_equal(len(get(get(j, "runs_on"), "labels")), 2);
  assert_false(getb(get(j, "runs_on"), "expr"));
  assert_string_equal(at(get(j, "needs"), 0)->u.str.ptr, "lint");
  assert_string_equal(gets(get(get(j, "environment"), "name"), "text"), "prod");
  assert_string_equal(gets(get(j, "timeout_minutes"), "text"), "30");
  s = step(d, 0, 0);
  assert_int_equal(geti(s, "index"), 1);
  pos(s, 33, 9);
  assert_string_equal(gets(s, "route"), "jobs.build.steps[0]");
  assert_string_equal(gets(s, "job"), "build");
  assert_string_equal(gets(at(get(s, "with"), 0), "name"), "fetch-depth");
  s = step(d, 0, 1);
  assert_string_equal(gets(get(s, "id"), "text"), "s");
  assert_string_equal(gets(get(s, "run"), "text"), "make");
  absent(s, "uses");

  j = job(d, 1);
  assert_string_equal(gets(j, "kind"), "reusable");
  assert_int_equal(len(get(j, "steps")), 0);
  assert_string_equal(gets(get(j, "uses"), "kind"), "reusable");
  assert_true(getb(get(j, "secrets"), "inherit"));
  assert_int_equal(len(get(get(j, "secrets"), "items")), 0);

  assert_int_equal(len(get(r, "exprs")), 3);
  assert_string_equal(gets(expr(d, 0), "field"), "env");
  assert_string_equal(gets(expr(d, 0), "key"), "B");
  assert_string_equal(gets(expr(d, 0), "route"), "env.B");
  absent(expr(d, 0), "job");
  assert_string_equal(gets(expr(d, 1), "field"), "concurrency");
  assert_string_equal(gets(expr(d, 2), "route"), "jobs.build.steps[1].env.T");
  assert_string_equal(gets(expr(d, 2), "job"), "build");
  assert_int_equal(geti(expr(d, 2), "step"), 2);
  assert_string_equal(gets(expr(d, 2), "text"), " secrets.T ");
  mlg_doc_free(d);
}

static void test_exprs_positions(void **state)
{
  mlg_doc *d = load_checked("on: push\n"
                            "jobs:\n"
                            "  j:\n"
                            "    runs-on: ${{ matrix.os }}\n"
                            "    if: github.event_name == 'push'\n"
                            "    steps:\n"
                            "      - run: |\n"
                            "          echo start\n"
                            "\n"
                            "          echo \"${{ github.event.issue.title }}\" ${{ a }}\n"
                            "        if: ${{ always() }}\n"
                            "      - run: >-\n"
                            "          one\n"
                            "          ${{ b }}\n"
                            "      - run: \"x\\ty ${{ c }}\"\n"
                            "      - run: 'it''s ${{ d }}'\n"
                            "      - uses: o/r@v1\n"
                            "        with:\n"
                            "          s: a\n"
                            "            ${{ e }}\n"
                            "          u: \"${{ '}}' }}\"\n",
                            MLG_PK_GHA_WORKFLOW);
  const mlg_node *e, *run;
  (void)state;

  assert_int_equal(len(get(d->root, "exprs")), 10);
  e = expr(d, 0);
  assert_string_equal(gets(e, "field"), "runs-on");
  pos(e, 4, 14);
  assert_int_equal(geti(e, "end_col"), 30);
  e = expr(d, 1);
  assert_false(getb(e, "fenced"));
  assert_string_equal(gets(e, "text"), "github.event_name == 'push'");
  assert_string_equal(gets(e, "field"), "if");
  assert_string_equal(gets(e, "route"), "jobs.j.if");
  pos(e, 5, 9);
  absent(e, "step");
  e = expr(d, 2);
  assert_string_equal(gets(e, "text"), " github.event.issue.title ");
  assert_string_equal(gets(e, "route"), "jobs.j.steps[0].run");
  pos(e, 10, 17);
  assert_int_equal(geti(e, "end_line"), 10);
  assert_int_equal(geti(e, "end_col"), 48);
  pos(expr(d, 3), 10, 50);
  e = expr(d, 4);
  assert_true(getb(e, "fenced"));
  assert_string_equal(gets(e, "field"), "if");
  pos(e, 11, 13);
  pos(expr(d, 5), 14, 11); /* folded: the physical line */
  pos(expr(d, 6), 15, 20); /* after the \t escape */
  pos(expr(d, 7), 16, 21); /* after the '' escape */
  e = expr(d, 8);
  pos(e, 20, 13);
  assert_string_equal(gets(e, "field"), "with");
  assert_string_equal(gets(e, "key"), "s");
  assert_int_equal(geti(e, "step"), 5);

  run = get(step(d, 0, 0), "run");
  assert_string_equal(gets(run, "style"), "literal");
  pos(run, 8, 11); /* the first content line, not the indicator */
  assert_int_equal(geti(run, "key_line"), 7);
  /* {0,8,11, 11,10,11}: the text after "echo start\n\n" is on line 10 */
  assert_int_equal(len(get(run, "map")), 6);
  assert_int_equal(at(get(run, "map"), 3)->u.integer, 12);
  assert_int_equal(at(get(run, "map"), 4)->u.integer, 10);
  assert_int_equal(at(get(run, "map"), 5)->u.integer, 11);
  run = get(step(d, 0, 1), "run");
  assert_string_equal(gets(run, "text"), "one ${{ b }}");
  assert_string_equal(gets(run, "style"), "folded");
  /* a '}}' inside a quoted string does not close the expression */
  mlg_doc_free(d);
  d = load("on: push\njobs:\n  j:\n    runs-on: x\n    steps:\n"
           "      - run: \"${{ '}}' }} and ${{ x\"\n");
  assert_int_equal(len(get(d->root, "exprs")), 2);
  assert_string_equal(gets(expr(d, 0), "text"), " '}}' ");
  assert_string_equal(gets(expr(d, 1), "text"), " x");
  mlg_doc_free(d);
}

static void test_uses(void **state)
{
  static const struct {
    const char *uses, *kind, *owner, *repo, *subpath, *ref, *pin;
  } cases[] = {
      {"actions/checkout@v4", "action", "actions", "checkout", NULL, "v4", "tag"},
      {"actions/checkout@11bd71901bbe5b1630ceea73d27597364c9af683", "action", "actions",
       "checkout", NULL, "11bd71901bbe5b1630ceea73d27597364c9af683", "sha"},
      {"actions/checkout@11bd719", "action", "actions", "checkout", NULL, "11bd719",
       "short-sha"},
      {"actions/checkout@main", "action", "actions", "checkout", NULL, "main", "branch"},
      {"actions/checkout@v1.2.3-rc.1", "action", "actions", "checkout", NULL, "v1.2.3-rc.1",
       "tag"},
      {"actions/checkout@2.0", "action", "actions", "checkout", NULL, "2.0", "tag"},
      {"actions/checkout", "action", "actions", "checkout", NULL, NULL, "none"},
      {"github/codeql-action/init@v3", "action", "github", "codeql-action", "init", "v3",
       "tag"},
      {"./.github/actions/build", "local", NULL, NULL, ".github/actions/build", NULL, "local"},
      {"docker://alpine:3", "docker", NULL, NULL, NULL, NULL, "tag"},
      {"docker://alpine", "docker", NULL, NULL, NULL, NULL, "none"},
      {"docker://alpine:latest", "docker", NULL, NULL, NULL, NULL, "branch"},
      {"docker://x@sha256:abcd", "docker", NULL, NULL, NULL, NULL, "sha"},
      {"o/r/.github/workflows/w.yml@ref", "reusable", "o", "r", ".github/workflows/w.yml",
       "ref", "branch"},
      {"o/r@${{ inputs.ref }}", "action", "o", "r", NULL, "${{ inputs.ref }}", "expr"},
      {"${{ inputs.action }}", "invalid", NULL, NULL, NULL, NULL, "expr"},
      {"checkout@v4", "invalid", NULL, NULL, NULL, NULL, "none"},
      {"/r@v4", "invalid", NULL, NULL, NULL, NULL, "none"},
  };
  size_t i;
  char buf[512];
  (void)state;

  for (i = 0; i < sizeof cases / sizeof cases[0]; i++) {
    mlg_doc *d;
    const mlg_node *u;
    snprintf(buf, sizeof buf,
             "on: push\njobs:\n  j:\n    runs-on: x\n    steps:\n      - uses: %s  # v9\n",
             cases[i].uses);
    d = load(buf);
    u = get(step(d, 0, 0), "uses");
    assert_string_equal(gets(u, "raw"), cases[i].uses);
    assert_string_equal(gets(u, "kind"), cases[i].kind);
    assert_string_equal(gets(u, "pin"), cases[i].pin);
#define OPT(k)                                                                   \
  if (cases[i].k)                                                                \
    assert_string_equal(gets(u, #k), cases[i].k);                                \
  else                                                                           \
    absent(u, #k)
    OPT(owner);
    OPT(repo);
    OPT(subpath);
    OPT(ref);
#undef OPT
    pos(u, 6, 15);
    assert_int_equal(geti(u, "key_line"), 6);
    assert_string_equal(gets(u, "comment"), "v9");
    if (strcmp(cases[i].kind, "docker") == 0)
      pos(get(u, "image"), 6, 24);
    else
      absent(u, "image");
    mlg_doc_free(d);
  }
}

static void test_images(void **state)
{
  mlg_doc *d = load_checked("on: push\n"
                            "jobs:\n"
                            "  j:\n"
                            "    runs-on: x\n"
                            "    container: ghcr.io/o/img:1.2@sha256:ff\n"
                            "    services:\n"
                            "      db:\n"
                            "        image: \"postgres\"\n"
                            "        credentials:\n"
                            "          username: u\n"
                            "          password: ${{ secrets.P }}\n"
                            "        env:\n"
                            "          X: y\n"
                            "        options: --rm\n"
                            "      cache: localhost:5000/redis:7\n"
                            "      e: ${{ matrix.image }}\n"
                            "      none: {}\n"
                            "  k:\n"
                            "    runs-on: x\n"
                            "    container:\n"
                            "      image: python:latest\n"
                            "    steps: []\n",
                            MLG_PK_GHA_WORKFLOW);
  const mlg_node *img = get(job(d, 0), "container"), *sv = get(job(d, 0), "services"), *c;
  (void)state;

  assert_string_equal(gets(img, "raw"), "ghcr.io/o/img:1.2@sha256:ff");
  assert_string_equal(gets(img, "registry"), "ghcr.io");
  assert_string_equal(gets(img, "name"), "o/img");
  assert_string_equal(gets(img, "tag"), "1.2");
  assert_string_equal(gets(img, "digest"), "sha256:ff");
  assert_string_equal(gets(img, "pin"), "digest");
  pos(img, 5, 16);
  assert_int_equal(len(sv), 4);
  assert_string_equal(gets(at(sv, 0), "name"), "db");
  pos(at(sv, 0), 7, 7);
  img = get(at(sv, 0), "image");
  assert_string_equal(gets(img, "name"), "postgres");
  absent(img, "registry");
  absent(img, "tag");
  assert_string_equal(gets(img, "pin"), "latest");
  pos(img, 8, 17);
  c = get(img, "credentials");
  pos(c, 9, 9);
  assert_string_equal(gets(get(c, "username"), "text"), "u");
  assert_string_equal(gets(get(c, "password"), "text"), "${{ secrets.P }}");
  assert_string_equal(gets(at(get(img, "env"), 0), "name"), "X");
  assert_string_equal(gets(get(img, "options"), "text"), "--rm");
  img = get(at(sv, 1), "image");
  assert_string_equal(gets(img, "registry"), "localhost:5000");
  assert_string_equal(gets(img, "name"), "redis");
  assert_string_equal(gets(img, "tag"), "7");
  assert_string_equal(gets(img, "pin"), "tag");
  assert_string_equal(gets(get(at(sv, 2), "image"), "pin"), "expr");
  img = get(at(sv, 3), "image");
  assert_string_equal(gets(img, "pin"), "none");
  pos(img, 17, 7);
  img = get(job(d, 1), "container");
  assert_string_equal(gets(img, "pin"), "latest");
  assert_string_equal(gets(img, "tag"), "latest");
  pos(img, 21, 14);
  /* image exprs: the container password and the service image */
  assert_int_equal(len(get(d->root, "exprs")), 2);
  assert_string_equal(gets(expr(d, 0), "field"), "other");
  assert_string_equal(gets(expr(d, 0), "route"), "jobs.j.services.db.credentials.password");
  assert_string_equal(gets(expr(d, 1), "field"), "image");
  mlg_doc_free(d);
}

static void test_permissions(void **state)
{
  mlg_doc *d = load_checked("on: push\n"
                            "permissions: read-all\n"
                            "jobs:\n"
                            "  a: {runs-on: x, permissions: write-all, steps: []}\n"
                            "  b: {runs-on: x, permissions: {}, steps: []}\n"
                            "  c:\n"
                            "    runs-on: x\n"
                            "    permissions:\n"
                            "      contents: read # to clone\n"
                            "      id-token: write\n"
                            "    steps: []\n"
                            "  d: {runs-on: x, permissions: '${{ inputs.p }}', steps: []}\n"
                            "  e: {runs-on: x, permissions: read, steps: []}\n",
                            MLG_PK_GHA_WORKFLOW);
  const mlg_node *p;
  (void)state;

  p = get(d->root, "permissions");
  assert_string_equal(gets(p, "kind"), "read-all");
  pos(p, 2, 1);
  assert_string_equal(gets(get(job(d, 0), "permissions"), "kind"), "write-all");
  assert_string_equal(gets(get(job(d, 1), "permissions"), "kind"), "none");
  p = get(job(d, 2), "permissions");
  assert_string_equal(gets(p, "kind"), "map");
  pos(p, 8, 5);
  assert_int_equal(len(get(p, "scopes")), 2);
  assert_string_equal(gets(at(get(p, "scopes"), 0), "name"), "contents");
  assert_string_equal(gets(at(get(p, "scopes"), 0), "level"), "read");
  assert_string_equal(gets(at(get(p, "scopes"), 0), "comment"), "to clone");
  pos(at(get(p, "scopes"), 0), 9, 7);
  absent(at(get(p, "scopes"), 1), "comment");
  assert_string_equal(gets(get(p, "levels"), "id-token"), "write");
  assert_string_equal(gets(get(job(d, 3), "permissions"), "kind"), "expr");
  assert_string_equal(gets(get(job(d, 4), "permissions"), "kind"), "invalid");
  mlg_doc_free(d);
}

static void test_strategy_and_misc(void **state)
{
  mlg_doc *d = load_checked("on: [push, pull_request]\n"
                            "jobs:\n"
                            "  j:\n"
                            "    runs-on:\n"
                            "      group: big\n"
                            "      labels: linux\n"
                            "    environment:\n"
                            "      name: prod\n"
                            "      url: ${{ steps.d.outputs.url }}\n"
                            "    strategy:\n"
                            "      fail-fast: false\n"
                            "      matrix:\n"
                            "        os: [ubuntu, macos]\n"
                            "        py: ['3.10', 3.11]\n"
                            "        include:\n"
                            "          - os: windows\n"
                            "        exclude: ${{ fromJSON(inputs.x) }}\n"
                            "    outputs:\n"
                            "      o: ${{ steps.d.outputs.o }}\n"
                            "    steps:\n"
                            "      - run: echo\n"
                            "        shell: bash\n"
                            "        working-directory: sub\n"
                            "        continue-on-error: true\n",
                            MLG_PK_GHA_WORKFLOW);
  const mlg_node *j = job(d, 0), *m, *on = get(d->root, "on");
  (void)state;

  assert_int_equal(len(get(on, "events")), 2);
  pos(at(get(on, "events"), 1), 1, 12);
  assert_string_equal(gets(get(get(j, "runs_on"), "group"), "text"), "big");
  assert_string_equal(gets(at(get(get(j, "runs_on"), "labels"), 0), "text"), "linux");
  assert_string_equal(gets(get(get(j, "environment"), "url"), "text"),
                      "${{ steps.d.outputs.url }}");
  assert_string_equal(gets(get(get(j, "strategy"), "fail_fast"), "text"), "false");
  m = get(get(j, "strategy"), "matrix");
  pos(m, 12, 7);
  assert_true(getb(m, "expr"));
  assert_int_equal(len(get(get(m, "keys"), "os")), 2);
  assert_string_equal(gets(at(get(get(m, "keys"), "py"), 0), "text"), "3.10");
  assert_string_equal(gets(at(get(get(m, "keys"), "py"), 1), "text"), "3.11");
  assert_string_equal(gets(at(get(m, "include"), 0), "os"), "windows");
  assert_int_equal(len(get(m, "exclude")), 1);
  assert_string_equal(gets(at(get(j, "outputs"), 0), "name"), "o");
  assert_string_equal(gets(get(step(d, 0, 0), "shell"), "text"), "bash");
  assert_string_equal(gets(get(step(d, 0, 0), "working_directory"), "text"), "sub");
  assert_string_equal(gets(get(step(d, 0, 0), "continue_on_error"), "text"), "true");
  assert_string_equal(gets(expr(d, 0), "field"), "environment");
  assert_string_equal(gets(expr(d, 1), "field"), "matrix");
  assert_string_equal(gets(expr(d, 2), "field"), "outputs");
  assert_string_equal(gets(expr(d, 2), "key"), "o");
  mlg_doc_free(d);
}

/* `env:`/`with:` written as one expression: the list stays empty and the
 * expression is kept (env_expr/with_expr), with its position. */
static void test_whole_expression_maps(void **state)
{
  mlg_doc *d = load_checked("on: push\n"
                            "env: ${{ fromJSON(vars.ENV) }}\n"
                            "jobs:\n"
                            "  j:\n"
                            "    runs-on: ubuntu-latest\n"
                            "    env: ${{ fromJSON(inputs.e) }}\n"
                            "    steps:\n"
                            "      - uses: o/a@v1\n"
                            "        with: ${{ fromJSON(vars.W) }}\n"
                            "        env: ${{ matrix.e }}\n"
                            "      - run: echo\n"
                            "        env: {A: b}\n",
                            MLG_PK_GHA_WORKFLOW);
  const mlg_node *e;
  (void)state;

  e = get(d->root, "env_expr");
  assert_string_equal(gets(e, "text"), "${{ fromJSON(vars.ENV) }}");
  pos(e, 2, 6);
  assert_int_equal(geti(e, "key_line"), 2);
  assert_int_equal(len(get(d->root, "env")), 0);
  assert_string_equal(gets(get(job(d, 0), "env_expr"), "text"), "${{ fromJSON(inputs.e) }}");
  assert_string_equal(gets(get(step(d, 0, 0), "with_expr"), "text"), "${{ fromJSON(vars.W) }}");
  pos(get(step(d, 0, 0), "with_expr"), 9, 15);
  assert_string_equal(gets(get(step(d, 0, 0), "env_expr"), "text"), "${{ matrix.e }}");
  absent(step(d, 0, 1), "env_expr");
  assert_int_equal(len(get(step(d, 0, 1), "env")), 1);
  mlg_doc_free(d);
}

static void test_anchors(void **state)
{
  mlg_doc *d = load_checked("on: [pull_request]\n"
                            "jobs:\n"
                            "  first:\n"
                            "    runs-on: ubuntu-latest\n"
                            "    steps: &steps\n"
                            "      - run: echo \"${{ github.event.issue.title }}\"\n"
                            "  second:\n"
                            "    runs-on: ubuntu-latest\n"
                            "    steps: *steps\n",
                            MLG_PK_GHA_WORKFLOW);
  const mlg_node *a = step(d, 0, 0), *b = step(d, 1, 0);
  (void)state;

  assert_string_equal(gets(a, "route"), "jobs.first.steps[0]");
  assert_string_equal(gets(b, "route"), "jobs.second.steps[0]");
  assert_string_equal(gets(b, "job"), "second");
  pos(a, 6, 9);
  pos(b, 6, 9);
  pos(get(b, "run"), 6, 14);
  assert_int_equal(len(get(d->root, "exprs")), 2);
  pos(expr(d, 0), 6, 20);
  pos(expr(d, 1), 6, 20);
  assert_string_equal(gets(expr(d, 0), "job"), "first");
  assert_string_equal(gets(expr(d, 1), "job"), "second");
  assert_string_equal(gets(expr(d, 1), "route"), "jobs.second.steps[0].run");
  mlg_doc_free(d);

  /* A scalar alias: its val has the text's position and its own key. */
  d = load_checked("on: push\njobs:\n  j:\n    runs-on: x\n    steps:\n"
                   "      - run: &cmd echo \"${{ github.ref }}\"\n"
                   "      - run: *cmd\n",
                   MLG_PK_GHA_WORKFLOW);
  pos(get(step(d, 0, 1), "run"), 6, 19);
  assert_int_equal(geti(get(step(d, 0, 1), "run"), "key_line"), 7);
  assert_int_equal(len(get(d->root, "exprs")), 2);
  pos(expr(d, 1), 6, 25);
  mlg_doc_free(d);
}

static void test_crlf_and_comments(void **state)
{
  const char *text = "# top\r\n"
                     "on: push\r\n"
                     "jobs:\r\n"
                     "  j: # the job\r\n"
                     "    runs-on: x\r\n"
                     "    steps:\r\n"
                     "      - uses: a/b@0123456789abcdef0123456789abcdef01234567 # v1.2.3\r\n"
                     "      - run: |\r\n"
                     "          echo '#not'\r\n"
                     "          echo ${{ x }}\r\n"
                     "        name: \"a # b\" #c\r\n";
  mlg_doc *d = load_checked(text, MLG_PK_GHA_WORKFLOW);
  const mlg_node *c = get(d->root, "comments");
  (void)state;

  assert_int_equal(len(c), 4);
  assert_string_equal(gets(at(c, 0), "text"), "top");
  pos(at(c, 0), 1, 1);
  assert_string_equal(gets(at(c, 1), "text"), "the job");
  pos(at(c, 1), 4, 6);
  assert_string_equal(gets(at(c, 2), "text"), "v1.2.3");
  assert_string_equal(gets(at(c, 3), "text"), "c");
  pos(at(c, 3), 11, 23);
  assert_string_equal(gets(get(step(d, 0, 0), "uses"), "comment"), "v1.2.3");
  assert_string_equal(gets(get(step(d, 0, 0), "uses"), "pin"), "sha");
  assert_string_equal(gets(get(step(d, 0, 1), "run"), "text"), "echo '#not'\necho ${{ x }}\n");
  pos(expr(d, 0), 10, 16);
  assert_int_equal(geti(expr(d, 0), "offset"), (int64_t)(strstr(text, "${{") - text));
  mlg_doc_free(d);
}

static void test_val_maps(void **state)
{
  mlg_doc *d = load_checked("on: push\n"
                            "jobs:\n"
                            "  j:\n"
                            "    runs-on: x\n"
                            "    steps:\n"
                            "      - run: a plain\n"
                            "          scalar\n"
                            "\n"
                            "          on lines\n"
                            "      - run: 'single\n"
                            "          ''quoted'''\n"
                            "      - run: \"dq \\u00e9\\\n"
                            "          joined\"\n"
                            "      - run: >\n"
                            "          folded\n"
                            "          text\n"
                            "\n"
                            "            more\n"
                            "      - run: |2\n"
                            "           indented\n"
                            "          x\n",
                            MLG_PK_GHA_WORKFLOW);
  const mlg_node *v, *m;
  (void)state;

  v = get(step(d, 0, 0), "run");
  assert_string_equal(gets(v, "text"), "a plain scalar\non lines");
  m = get(v, "map");
  assert_int_equal(len(m), 9);
  assert_int_equal(at(m, 3)->u.integer, 8); /* "scalar" at line 7, col 11 */
  assert_int_equal(at(m, 4)->u.integer, 7);
  assert_int_equal(at(m, 5)->u.integer, 11);
  assert_int_equal(at(m, 6)->u.integer, 15);
  assert_int_equal(at(m, 7)->u.integer, 9);
  v = get(step(d, 0, 1), "run");
  assert_string_equal(gets(v, "text"), "single 'quoted'");
  pos(v, 10, 15);
  v = get(step(d, 0, 2), "run");
  assert_string_equal(gets(v, "text"), "dq \xC3\xA9joined");
  assert_string_equal(gets(v, "style"), "double");
  v = get(step(d, 0, 3), "run");
  assert_string_equal(gets(v, "text"), "folded text\n\n  more\n");
  pos(v, 15, 11);
  v = get(step(d, 0, 4), "run");
  assert_string_equal(gets(v, "text"), " indented\nx\n");
  pos(v, 20, 11);
  mlg_doc_free(d);

  /* Found by fuzzing: an escaped backslash before trailing blanks, and a
   * line starting with an escaped space after a folded line break. */
  d = load_checked("on: push\njobs:\n  j:\n    runs-on: x\n    steps:\n"
                   "      - run: \"a\\\\   \n          \\ b ${{ y }}\"\n",
                   MLG_PK_GHA_WORKFLOW);
  assert_string_equal(gets(get(step(d, 0, 0), "run"), "text"), "a\\  b ${{ y }}");
  pos(expr(d, 0), 7, 15);
  assert_int_equal(len(get(get(step(d, 0, 0), "run"), "map")), 12);
  mlg_doc_free(d);
}

static void test_positions_misc(void **state)
{
  /* BOM, non-ASCII columns (characters), tags, a header comment on a
   * block scalar, '#' inside it, exprs in workflow_call inputs/outputs. */
  mlg_doc *d = load_checked("\xEF\xBB\xBF"
                            "on:\n"
                            "  workflow_call:\n"
                            "    inputs:\n"
                            "      v:\n"
                            "        description: v ${{ 1 }}\n"
                            "        type: string\n"
                            "    outputs:\n"
                            "      o:\n"
                            "        value: ${{ jobs.j.outputs.o }}\n"
                            "run-name: by ${{ github.actor }}\n"
                            "jobs:\n"
                            "  j:\n"
                            "    runs-on: x\n"
                            "    steps:\n"
                            "      - run: \"\xC3\xA9t\xC3\xA9 ${{ x }}\"\n"
                            "      - run: !!str ${{ y }}\n"
                            "      - run: | # header\n"
                            "          # not a comment ${{ z }}\n",
                            MLG_PK_GHA_WORKFLOW);
  const mlg_node *ev = at(get(get(d->root, "on"), "events"), 0), *c;
  (void)state;

  pos(ev, 2, 3);
  assert_int_equal(len(get(ev, "inputs")), 1);
  assert_string_equal(gets(at(get(ev, "outputs"), 0), "name"), "o");
  assert_int_equal(len(get(d->root, "exprs")), 6);
  assert_string_equal(gets(expr(d, 0), "field"), "inputs");
  assert_string_equal(gets(expr(d, 0), "route"), "on.workflow_call.inputs.v.description");
  assert_string_equal(gets(expr(d, 0), "key"), "v");
  assert_string_equal(gets(expr(d, 1), "field"), "outputs");
  assert_string_equal(gets(expr(d, 1), "key"), "o");
  assert_string_equal(gets(expr(d, 2), "field"), "name");
  pos(expr(d, 3), 15, 19); /* after two 2-byte characters */
  assert_int_equal(geti(expr(d, 3), "offset") + 3,
                   geti(expr(d, 3), "offset") + (int64_t)strlen("${{"));
  pos(get(step(d, 0, 1), "run"), 16, 20);
  pos(expr(d, 4), 16, 20);
  pos(expr(d, 5), 18, 27);
  c = get(d->root, "comments");
  assert_int_equal(len(c), 1);
  assert_string_equal(gets(at(c, 0), "text"), "header");
  pos(at(c, 0), 17, 16);
  mlg_doc_free(d);
}

/* --- actions, dependabot, pre-commit ------------------------------------------ */

static void test_action(void **state)
{
  mlg_doc *d = load_checked("name: My action\n"
                            "description: does things\n"
                            "inputs:\n"
                            "  token:\n"
                            "    description: a token\n"
                            "    required: false\n"
                            "    default: ${{ github.token }}\n"
                            "outputs:\n"
                            "  out:\n"
                            "    value: ${{ steps.s.outputs.x }}\n"
                            "runs:\n"
                            "  using: composite\n"
                            "  steps:\n"
                            "    - uses: actions/checkout@v4\n"
                            "    - run: echo ${{ inputs.token }}\n"
                            "      shell: bash\n",
                            MLG_PK_GHA_ACTION);
  const mlg_node *r = d->root, *runs, *in;
  (void)state;

  assert_string_equal(gets(r, "kind"), "action");
  assert_string_equal(gets(get(r, "name"), "text"), "My action");
  in = at(get(r, "inputs"), 0);
  assert_string_equal(gets(in, "name"), "token");
  assert_false(getb(in, "required"));
  assert_string_equal(gets(get(in, "description"), "text"), "a token");
  assert_string_equal(gets(at(get(r, "outputs"), 0), "name"), "out");
  assert_string_equal(gets(at(get(r, "outputs"), 0), "vtype"), "map");
  absent(at(get(r, "outputs"), 0), "value");
  runs = get(r, "runs");
  pos(runs, 11, 1);
  assert_string_equal(gets(get(runs, "using"), "text"), "composite");
  assert_ptr_equal(get(runs, "steps"), get(r, "steps"));
  assert_int_equal(len(get(r, "steps")), 2);
  assert_string_equal(gets(at(get(r, "steps"), 1), "route"), "runs.steps[1]");
  absent(at(get(r, "steps"), 1), "job");
  assert_int_equal(len(get(r, "exprs")), 3);
  assert_string_equal(gets(expr(d, 0), "field"), "default");
  assert_string_equal(gets(expr(d, 0), "route"), "inputs.token.default");
  assert_string_equal(gets(expr(d, 1), "field"), "outputs");
  assert_string_equal(gets(expr(d, 1), "key"), "out");
  assert_string_equal(gets(expr(d, 2), "route"), "runs.steps[1].run");
  assert_int_equal(geti(expr(d, 2), "step"), 2);
  absent(expr(d, 2), "job");
  mlg_doc_free(d);

  d = load_checked("runs:\n  using: docker\n  image: docker://alpine:3\n"
                   "  entrypoint: /e.sh\n  args: [a, '${{ inputs.x }}']\n  env:\n    A: b\n",
                   MLG_PK_GHA_ACTION);
  runs = get(d->root, "runs");
  assert_string_equal(gets(get(runs, "image"), "raw"), "alpine:3");
  assert_string_equal(gets(get(runs, "image"), "pin"), "tag");
  assert_string_equal(gets(get(runs, "entrypoint"), "text"), "/e.sh");
  assert_int_equal(len(get(runs, "args")), 2);
  assert_int_equal(len(get(runs, "steps")), 0);
  assert_string_equal(gets(expr(d, 0), "field"), "args");
  mlg_doc_free(d);
  d = load_checked("runs:\n  using: docker\n  image: Dockerfile\n", MLG_PK_GHA_ACTION);
  assert_string_equal(gets(get(get(d->root, "runs"), "image"), "text"), "Dockerfile");
  mlg_doc_free(d);
  d = load_checked("runs:\n  using: node20\n  main: dist/index.js\n  post: dist/post.js\n",
                   MLG_PK_GHA_ACTION);
  assert_string_equal(gets(get(get(d->root, "runs"), "main"), "text"), "dist/index.js");
  assert_string_equal(gets(get(get(d->root, "runs"), "post"), "text"), "dist/post.js");
  mlg_doc_free(d);
}

static void test_dependabot_precommit(void **state)
{
  mlg_doc *d = load_checked("version: 2\n"
                            "registries:\n"
                            "  npm-gh:\n"
                            "    type: npm-registry\n"
                            "    url: https://npm.pkg.github.com\n"
                            "updates:\n"
                            "  - package-ecosystem: pip\n"
                            "    directory: /\n"
                            "    schedule:\n"
                            "      interval: weekly\n"
                            "    cooldown:\n"
                            "      default-days: 7\n"
                            "    insecure-external-code-execution: allow\n"
                            "    registries: '*'\n"
                            "    groups:\n"
                            "      all:\n"
                            "        patterns: ['*']\n",
                            MLG_PK_DEPENDABOT);
  const mlg_node *u;
  (void)state;

  assert_string_equal(gets(d->root, "kind"), "dependabot");
  assert_string_equal(gets(get(d->root, "version"), "text"), "2");
  u = at(get(d->root, "updates"), 0);
  pos(u, 7, 5);
  assert_string_equal(gets(get(u, "ecosystem"), "text"), "pip");
  assert_string_equal(gets(get(u, "directory"), "text"), "/");
  assert_string_equal(gets(get(get(u, "schedule"), "interval"), "text"), "weekly");
  pos(get(u, "cooldown"), 11, 5);
  assert_string_equal(gets(get(get(u, "cooldown"), "default_days"), "text"), "7");
  absent(get(u, "cooldown"), "semver_major_days");
  assert_string_equal(gets(get(u, "insecure_external_code_execution"), "text"), "allow");
  assert_string_equal(gets(at(get(u, "registries"), 0), "text"), "*");
  assert_string_equal(gets(at(get(u, "groups"), 0), "name"), "all");
  assert_string_equal(gets(at(get(d->root, "registries"), 0), "name"), "npm-gh");
  absent(d->root, "exprs");
  mlg_doc_free(d);

  d = load_checked("repos:\n"
                   "  - repo: https://github.com/psf/black\n"
                   "    rev: 24.1.0  # frozen\n"
                   "    hooks:\n"
                   "      - id: black\n",
                   MLG_PK_PRECOMMIT);
  u = at(get(d->root, "repos"), 0);
  pos(u, 2, 5);
  assert_string_equal(gets(get(u, "repo"), "text"), "https://github.com/psf/black");
  assert_string_equal(gets(get(u, "rev"), "text"), "24.1.0");
  assert_string_equal(gets(get(at(get(u, "hooks"), 0), "id"), "text"), "black");
  pos(at(get(u, "hooks"), 0), 5, 9);
  assert_string_equal(gets(at(get(d->root, "comments"), 0), "text"), "frozen");
  mlg_doc_free(d);
}

static void test_kinds(void **state)
{
  mlg_doc *d = (mlg_doc *)1;
  mlg_err err = {0};
  (void)state;

  assert_int_equal(mlg_pipeline_kind_of_path(".github/workflows/ci.yml"), MLG_PK_GHA_WORKFLOW);
  assert_int_equal(mlg_pipeline_kind_of_path("a/.github/workflows/ci.yaml"),
                   MLG_PK_GHA_WORKFLOW);
  assert_int_equal(mlg_pipeline_kind_of_path(".github/workflows/sub/ci.yml"), MLG_PK_UNKNOWN);
  assert_int_equal(mlg_pipeline_kind_of_path("x.github/workflows/ci.yml"), MLG_PK_UNKNOWN);
  assert_int_equal(mlg_pipeline_kind_of_path(".github/workflows/ci.json"), MLG_PK_UNKNOWN);
  assert_int_equal(mlg_pipeline_kind_of_path("action.yml"), MLG_PK_GHA_ACTION);
  assert_int_equal(mlg_pipeline_kind_of_path("sub/dir/action.yaml"), MLG_PK_GHA_ACTION);
  assert_int_equal(mlg_pipeline_kind_of_path(".github/dependabot.yml"), MLG_PK_DEPENDABOT);
  assert_int_equal(mlg_pipeline_kind_of_path("x/.github/dependabot.yaml"), MLG_PK_DEPENDABOT);
  assert_int_equal(mlg_pipeline_kind_of_path("dependabot.yml"), MLG_PK_UNKNOWN);
  assert_int_equal(mlg_pipeline_kind_of_path(".pre-commit-config.yaml"), MLG_PK_PRECOMMIT);
  assert_int_equal(mlg_pipeline_kind_of_path("x.yml"), MLG_PK_UNKNOWN);
  assert_string_equal(mlg_pipeline_kind_name(MLG_PK_PRECOMMIT), "precommit");

  d = load_k("on: push\njobs: {j: {runs-on: x, steps: []}}\n", MLG_PK_UNKNOWN);
  assert_string_equal(gets(d->root, "kind"), "workflow");
  mlg_doc_free(d);
  d = load_k("runs: {using: node20, main: x.js}\n", MLG_PK_UNKNOWN);
  assert_string_equal(gets(d->root, "kind"), "action");
  mlg_doc_free(d);
  d = load_k("version: 2\nupdates: []\n", MLG_PK_UNKNOWN);
  assert_string_equal(gets(d->root, "kind"), "dependabot");
  mlg_doc_free(d);
  d = load_k("repos: []\n", MLG_PK_UNKNOWN);
  assert_string_equal(gets(d->root, "kind"), "precommit");
  mlg_doc_free(d);
  d = (mlg_doc *)1;
  assert_int_equal(mlg_pipeline_load(&d, "a: 1\n", 5, "x.yml", MLG_PK_UNKNOWN, &err),
                   MLG_ENOENT);
  assert_null(d);
  assert_int_equal(mlg_pipeline_load(&d, "[1", 2, "x.yml", MLG_PK_UNKNOWN, &err), MLG_ENOENT);
  assert_int_equal(mlg_pipeline_load(&d, "", 0, "x.yml", MLG_PK_UNKNOWN, &err), MLG_ENOENT);
  assert_int_equal(mlg_pipeline_load(&d, "- a\n", 4, "x.yml", MLG_PK_UNKNOWN, &err),
                   MLG_ENOENT);
  assert_int_equal(mlg_pipeline_load(NULL, "", 0, "x.yml", MLG_PK_UNKNOWN, &err), MLG_EINVAL);
}

/* --- validation ------------------------------------------------------------------ */

static void test_validation(void **state)
{
  (void)state;
  expect_err("", "t.yml:1:1: empty document: no workflow here");
  expect_err("# only a comment\n", "t.yml:1:1: empty document: no workflow here");
  expect_err("- a\n", "t.yml:1:1: the top level of a workflow must be a mapping, not sequence");
  expect_err("on: push\njobs:\n  j: {runs-on: x}\n  j: {runs-on: y}\n",
             "t.yml:4:3: duplicate key 'j' (first at line 3)");
  expect_err("on: push\nboom: 1\njobs: {}\n",
             "t.yml:2:1: unknown key 'boom' in the workflow (accepted: name, run-name, on, "
             "permissions, env, defaults, concurrency, jobs)");
  expect_err("jobs: {}\n", "t.yml:1:1: the workflow has no 'on' (the events that run it)");
  expect_err("on: push\n", "t.yml:1:1: the workflow has no 'jobs'");
  expect_err("on: push\njobs:\n  build:\n    steps: []\n",
             "t.yml:3:3: job 'build' has neither 'runs-on' nor 'uses'");
  expect_err("on: push\njobs:\n  build:\n    runs-on: x\n    step: []\n",
             "t.yml:5:5: unknown key 'step' in job 'build' (accepted: name, permissions, needs, "
             "if, runs-on, snapshot, environment, concurrency, outputs, env, defaults, steps, "
             "timeout-minutes, strategy, continue-on-error, container, services, uses, with, "
             "secrets)");
  expect_err("on: push\njobs:\n  b:\n    runs-on: x\n    steps:\n      - name: x\n",
             "t.yml:6:9: step 1 of job 'b' has neither 'uses' nor 'run'");
  expect_err("on: push\njobs:\n  b:\n    runs-on: x\n    steps:\n      - run: x\n"
             "        uses: a/b@v1\n",
             "t.yml:7:9: step 1 of job 'b' has both 'uses' and 'run'");
  expect_err("on: push\njobs:\n  b:\n    runs-on: x\n    steps:\n      - run: x\n"
             "        wiht: {}\n",
             "t.yml:7:9: unknown key 'wiht' in step 1 of job 'b' (accepted: id, if, name, uses, "
             "run, working-directory, shell, with, env, continue-on-error, timeout-minutes)");
  expect_err("on: push\njobs:\n  b:\n    runs-on: x\n    steps: run\n",
             "t.yml:5:12: 'steps' of job 'b' must be a sequence of steps, not string");
  expect_err("on: push\njobs:\n  b:\n    runs-on: x\n    steps:\n      - echo\n",
             "t.yml:6:9: step 1 of job 'b' must be a mapping, not string");
  expect_err("on: push\njobs: [a]\n",
             "t.yml:2:7: 'jobs' must be a mapping of job ids to jobs, not sequence");
  expect_err("on: push\njobs:\n  a: x\n", "t.yml:3:6: job 'a' must be a mapping, not string");
  expect_err("on: 3\njobs: {}\n",
             "t.yml:1:5: 'on' must be an event name, a list or a mapping of events, not integer");
  expect_err("on: [push, {a: 1}]\njobs: {}\n",
             "t.yml:1:12: events in 'on' must be names, not mapping");
  expect_err("on: push\n  bad: indent\n", NULL);
  expect_err_k("name: x\n", MLG_PK_GHA_ACTION, MLG_EPARSE, "t.yml:1:1: the action has no 'runs'");
  expect_err_k("runs:\n  main: x\n", MLG_PK_GHA_ACTION, MLG_EPARSE,
               "t.yml:1:1: 'runs' has no 'using' (composite, docker, node20, ...)");
  expect_err_k("runs:\n  using: composite\n  steps:\n    - uses: a/b@v1\n      run: x\n",
               MLG_PK_GHA_ACTION, MLG_EPARSE,
               "t.yml:5:7: step 1 of the action has both 'uses' and 'run'");
  expect_err_k("updates: x\n", MLG_PK_DEPENDABOT, MLG_EPARSE,
               "t.yml:1:10: 'updates' must be a sequence, not string");
  expect_err_k("repos: {}\n", MLG_PK_PRECOMMIT, MLG_EPARSE,
               "t.yml:1:8: 'repos' must be a sequence, not mapping");
  /* GitHub's runner ignores unknown keys of an action */
  mlg_doc_free(load_k("runs: {using: node20, main: a.js}\nconcurrency: x\n", MLG_PK_GHA_ACTION));
}

static void test_limits(void **state)
{
  /* Each level multiplies the steps by 9: 9^6 steps through aliases. */
  const char *bomb = "on: push\n"
                     "x: &a [{run: \"${{ a }}\"},{run: b},{run: b},{run: b},{run: b},{run: b},"
                     "{run: b},{run: b},{run: b}]\n";
  char buf[4096];
  mlg_doc *d = (mlg_doc *)1;
  mlg_err err = {0};
  int rc, i;
  size_t n;
  (void)state;

  n = (size_t)snprintf(buf, sizeof buf, "on: push\nx0: &a0 [{run: \"${{ a }}\"}]\n");
  for (i = 1; i <= 7; i++)
    n += (size_t)snprintf(buf + n, sizeof buf - n,
                          "x%d: &a%d [*a%d,*a%d,*a%d,*a%d,*a%d,*a%d,*a%d,*a%d,*a%d]\n", i, i,
                          i - 1, i - 1, i - 1, i - 1, i - 1, i - 1, i - 1, i - 1, i - 1);
  (void)bomb;
  /* The junk keys are refused before anything is expanded... */
  rc = mlg_pipeline_load(&d, buf, n, "t.yml", MLG_PK_GHA_WORKFLOW, &err);
  assert_int_equal(rc, MLG_EPARSE);
  /* ...so put the bomb where it is modelled: as a job's steps. */
  n = (size_t)snprintf(buf, sizeof buf, "on: push\nenv:\n  x0: &a0 [{run: \"${{ a }}\"}]\n");
  for (i = 1; i <= 7; i++)
    n += (size_t)snprintf(buf + n, sizeof buf - n,
                          "  x%d: &a%d [*a%d,*a%d,*a%d,*a%d,*a%d,*a%d,*a%d,*a%d,*a%d]\n", i, i,
                          i - 1, i - 1, i - 1, i - 1, i - 1, i - 1, i - 1, i - 1, i - 1);
  n += (size_t)snprintf(buf + n, sizeof buf - n, "jobs:\n  j:\n    runs-on: x\n    steps: *a7\n");
  d = (mlg_doc *)1;
  rc = mlg_pipeline_load(&d, buf, n, "t.yml", MLG_PK_GHA_WORKFLOW, &err);
  assert_int_equal(rc, MLG_ELIMIT);
  assert_null(d);
  assert_string_equal(err.msg, "t.yml:3:18: the pipeline model needs more than 8415552 bytes, "
                               "the limit for this input (aliases expanding too much?)");
}

/* --- fixtures ------------------------------------------------------------------ */

typedef struct walk {
  size_t ok, not_ci, invalid;
} walk;

static int is_yaml(const char *name)
{
  size_t n = strlen(name);
  return (n > 4 && strcmp(name + n - 4, ".yml") == 0) ||
         (n > 5 && strcmp(name + n - 5, ".yaml") == 0);
}

/* zizmor's own configuration files sit among its fixtures. */
static int is_zizmor_config(const char *path)
{
  return strstr(path, "/configs/") || strstr(path, "zizmor.y") || strstr(path, "zizmor.inv");
}

static void load_file(const char *path, int invalid, walk *w)
{
  size_t n = 0;
  char *text = slurp(path, &n);
  mlg_pipeline_kind kind = mlg_pipeline_kind_of_path(path);
  mlg_doc *d = NULL;
  mlg_err err = {0};
  int rc;

  assert_non_null(text);
  if (invalid && kind == MLG_PK_UNKNOWN)
    kind = MLG_PK_GHA_WORKFLOW;
  rc = mlg_pipeline_load(&d, text, n, path, kind, &err);
  if (invalid) {
    char prefix[2100];
    unsigned line = 0, col = 0;
    if (rc != MLG_EPARSE)
      print_error("%s: expected an error, got %d\n", path, rc);
    assert_int_equal(rc, MLG_EPARSE);
    snprintf(prefix, sizeof prefix, "%s:", path);
    assert_true(strncmp(err.msg, prefix, strlen(prefix)) == 0);
    assert_int_equal(sscanf(err.msg + strlen(prefix), "%u:%u: ", &line, &col), 2);
    assert_true(line >= 1 && col >= 1);
    w->invalid++;
  } else if (is_zizmor_config(path)) {
    assert_int_equal(rc, MLG_ENOENT);
    w->not_ci++;
  } else {
    if (rc)
      print_error("%s: %s\n", path, err.msg);
    assert_int_equal(rc, 0);
    check_doc(text, n, d);
    w->ok++;
  }
  mlg_doc_free(d);
  free(text);
}

static void walk_dir(const char *dir, int invalid, walk *w)
{
  DIR *dp = opendir(dir);
  struct dirent *e;
  char path[2048];
  struct stat st;

  if (!dp)
    print_error("cannot open %s\n", dir);
  assert_non_null(dp);
  while ((e = readdir(dp)) != NULL) {
    if (strcmp(e->d_name, ".") == 0 || strcmp(e->d_name, "..") == 0)
      continue;
    snprintf(path, sizeof path, "%s/%s", dir, e->d_name);
    assert_int_equal(stat(path, &st), 0);
    if (S_ISDIR(st.st_mode)) {
      if (!invalid && strcmp(e->d_name, "invalid") == 0)
        continue;
      walk_dir(path, invalid, w);
    } else if (invalid || is_yaml(e->d_name)) {
      load_file(path, invalid, w);
    }
  }
  closedir(dp);
}

static void test_fixtures_actionlint(void **state)
{
  walk w = {0, 0, 0};
  (void)state;
  walk_dir(ACTIONLINT, 0, &w);
  assert_int_equal(w.ok, 84);
}

static void test_fixtures_zizmor(void **state)
{
  walk w = {0, 0, 0};
  (void)state;
  checked_vals = checked_points = checked_exprs = 0;
  walk_dir(ZIZMOR, 0, &w);
  print_message("zizmor fixtures: %zu loaded, %zu not CI definitions; %zu vals, %zu map "
                "points, %zu exprs checked\n",
                w.ok, w.not_ci, checked_vals, checked_points, checked_exprs);
  assert_true(w.ok >= 200);
  assert_true(w.not_ci >= 30);
  assert_true(checked_points > 200);
  walk_dir(ZIZMOR "/invalid", 1, &w);
  assert_int_equal(w.invalid, 12);
}

/* --- speed ---------------------------------------------------------------------- */

/* A typical 100-line ML workflow. */
static const char typical[] =
    "name: Train and publish model\n"
    "on:\n"
    "  push:\n"
    "    branches: [main, 'release/**']\n"
    "    paths-ignore: ['docs/**', '**.md']\n"
    "  pull_request:\n"
    "    types: [opened, synchronize, reopened]\n"
    "  workflow_dispatch:\n"
    "    inputs:\n"
    "      epochs:\n"
    "        description: Number of training epochs\n"
    "        required: false\n"
    "        default: '10'\n"
    "        type: string\n"
    "permissions:\n"
    "  contents: read\n"
    "  id-token: write # for OIDC to the model registry\n"
    "env:\n"
    "  PYTHON_VERSION: '3.11'\n"
    "  HF_HOME: /tmp/hf\n"
    "concurrency:\n"
    "  group: ${{ github.workflow }}-${{ github.ref }}\n"
    "  cancel-in-progress: true\n"
    "jobs:\n"
    "  lint:\n"
    "    runs-on: ubuntu-latest\n"
    "    steps:\n"
    "      - uses: actions/checkout@11bd71901bbe5b1630ceea73d27597364c9af683 # v4.2.2\n"
    "      - uses: actions/setup-python@v5\n"
    "        with:\n"
    "          python-version: ${{ env.PYTHON_VERSION }}\n"
    "          cache: pip\n"
    "      - name: Install\n"
    "        run: |\n"
    "          python -m pip install --upgrade pip\n"
    "          pip install -r requirements-dev.txt\n"
    "      - name: Lint\n"
    "        run: ruff check . && mypy src\n"
    "  train:\n"
    "    needs: lint\n"
    "    runs-on: [self-hosted, gpu]\n"
    "    timeout-minutes: 360\n"
    "    strategy:\n"
    "      fail-fast: false\n"
    "      matrix:\n"
    "        model: [small, base, large]\n"
    "        seed: [1, 2]\n"
    "        include:\n"
    "          - model: large\n"
    "            batch: 8\n"
    "    container:\n"
    "      image: nvcr.io/nvidia/pytorch:24.01-py3\n"
    "      options: --gpus all\n"
    "    env:\n"
    "      WANDB_API_KEY: ${{ secrets.WANDB_API_KEY }}\n"
    "    steps:\n"
    "      - uses: actions/checkout@v4\n"
    "      - name: Train ${{ matrix.model }}\n"
    "        run: |\n"
    "          python train.py \\\n"
    "            --model ${{ matrix.model }} \\\n"
    "            --seed ${{ matrix.seed }} \\\n"
    "            --epochs ${{ inputs.epochs || 10 }}\n"
    "      - name: Evaluate\n"
    "        if: success() && matrix.seed == 1\n"
    "        run: python eval.py --model ${{ matrix.model }} > metrics.json\n"
    "      - uses: actions/upload-artifact@v4\n"
    "        with:\n"
    "          name: model-${{ matrix.model }}-${{ matrix.seed }}\n"
    "          path: out/\n"
    "  publish:\n"
    "    needs: train\n"
    "    if: github.event_name == 'push' && github.ref == 'refs/heads/main'\n"
    "    runs-on: ubuntu-latest\n"
    "    environment:\n"
    "      name: production\n"
    "      url: https://huggingface.co/org/model\n"
    "    permissions:\n"
    "      contents: read\n"
    "      id-token: write\n"
    "    steps:\n"
    "      - uses: actions/download-artifact@v4\n"
    "        with:\n"
    "          path: out\n"
    "      - name: Comment\n"
    "        uses: actions/github-script@v7\n"
    "        with:\n"
    "          script: |\n"
    "            github.rest.issues.createComment({\n"
    "              issue_number: context.issue.number,\n"
    "              owner: context.repo.owner,\n"
    "              repo: context.repo.repo,\n"
    "              body: 'Published ${{ github.sha }}'\n"
    "            })\n"
    "      - name: Push to hub\n"
    "        env:\n"
    "          HF_TOKEN: ${{ secrets.HF_TOKEN }}\n"
    "        run: |\n"
    "          huggingface-cli upload org/model out/ --token \"$HF_TOKEN\"\n";

static double cpu_now(void)
{
  struct timespec t;
  clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &t);
  return (double)t.tv_sec + (double)t.tv_nsec / 1e9;
}

/* CPU microseconds per KB to load text (repeated for at least 0.2 s). */
static double us_per_kb(const char *text, size_t n, mlg_pipeline_kind kind, size_t *arena)
{
  double a = cpu_now(), s;
  size_t reps = 0;
  do {
    mlg_doc *d = NULL;
    mlg_err err = {0};
    if (mlg_pipeline_load(&d, text, n, "x.yml", kind, &err))
      print_error("%s\n", err.msg);
    assert_non_null(d);
    if (arena)
      *arena = d->used_bytes;
    mlg_doc_free(d);
    reps++;
    s = cpu_now() - a;
  } while (s < 0.2);
  return s * 1e6 / (double)reps / ((double)n / 1024);
}

static void test_speed(void **state)
{
  size_t arena = 0, n = strlen(typical);
  double t = us_per_kb(typical, n, MLG_PK_GHA_WORKFLOW, &arena);
  (void)state;
  print_message("typical %zu-line workflow (%zu bytes): %.1f us/KB CPU, %.1f us per file, "
                "model arena %zu bytes\n",
                (size_t)100, n, t, t * (double)n / 1024, arena);
  mlg_doc_free(load_checked(typical, MLG_PK_GHA_WORKFLOW));
}

/* Work grows with the input, not faster: 16 times the jobs cost at most
 * 4 times as much per byte (a quadratic loader would cost 16 times). */
static void test_linear(void **state)
{
  static const char head[] = "on: push\njobs:\n";
  static const char jobt[] = "  j%zu:\n    runs-on: x\n    steps:\n"
                             "      - run: |\n          echo ${{ github.ref }} # %zu\n"
                             "      - uses: a/b@v1 # c\n        with: {k: '${{ x }}'}\n";
  char *small = malloc(1 << 16), *big = malloc(1 << 20);
  size_t ns = 0, nb = 0, i;
  double ts, tb;
  (void)state;

  ns = (size_t)sprintf(small, "%s", head);
  for (i = 0; i < 100; i++)
    ns += (size_t)sprintf(small + ns, jobt, i, i);
  nb = (size_t)sprintf(big, "%s", head);
  for (i = 0; i < 1600; i++)
    nb += (size_t)sprintf(big + nb, jobt, i, i);
  ts = us_per_kb(small, ns, MLG_PK_GHA_WORKFLOW, NULL);
  tb = us_per_kb(big, nb, MLG_PK_GHA_WORKFLOW, NULL);
  print_message("%zu bytes: %.1f us/KB; %zu bytes: %.1f us/KB\n", ns, ts, nb, tb);
  assert_true(tb < 4 * ts);
  free(small);
  free(big);
}

#ifdef MLG_SANITIZE
#define CPU_BOUND 8.0
#else
#define CPU_BOUND 1.0
#endif

/* Shapes that were quadratic once: many expressions on one line, long
 * values reached through many aliases. Each must load in well under a
 * second of CPU. */
static void test_no_quadratic(void **state)
{
  size_t cap = 4 << 20, n, i;
  char *t = malloc(cap);
  double a;
  mlg_doc *d;
  (void)state;

  n = (size_t)sprintf(t, "on: push\njobs:\n  j:\n    runs-on: x\n    steps:\n      - run: \"");
  for (i = 0; i < 50000; i++)
    n += (size_t)sprintf(t + n, "${{ a }} x ");
  n += (size_t)sprintf(t + n, "\"\n");
  a = cpu_now();
  d = load_k(t, MLG_PK_GHA_WORKFLOW);
  assert_int_equal(len(get(d->root, "exprs")), 50000);
  pos(expr(d, 49999), 6, 15 + 49999 * 11);
  mlg_doc_free(d);
  assert_true(cpu_now() - a < CPU_BOUND);

  n = (size_t)sprintf(t, "on: push\nenv:\n  X: &a {k: \"");
  memset(t + n, 'a', 500000);
  n += 500000;
  n += (size_t)sprintf(t + n, " ${{ x }}\"}\njobs:\n  j:\n    runs-on: x\n    steps:\n");
  for (i = 0; i < 3000; i++)
    n += (size_t)sprintf(t + n, "      - run: x\n        env: *a\n        with: *a\n");
  a = cpu_now();
  d = load_k(t, MLG_PK_GHA_WORKFLOW);
  assert_int_equal(len(get(d->root, "exprs")), 6001);
  assert_ptr_equal(get(step(d, 0, 0), "env"), get(step(d, 0, 2999), "with"));
  pos(expr(d, 6000), 3, 500015);
  mlg_doc_free(d);
  assert_true(cpu_now() - a < CPU_BOUND);
  free(t);
}

int main(void)
{
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(test_workflow_shape),
      cmocka_unit_test(test_exprs_positions),
      cmocka_unit_test(test_uses),
      cmocka_unit_test(test_images),
      cmocka_unit_test(test_permissions),
      cmocka_unit_test(test_strategy_and_misc),
      cmocka_unit_test(test_whole_expression_maps),
      cmocka_unit_test(test_anchors),
      cmocka_unit_test(test_crlf_and_comments),
      cmocka_unit_test(test_val_maps),
      cmocka_unit_test(test_positions_misc),
      cmocka_unit_test(test_action),
      cmocka_unit_test(test_dependabot_precommit),
      cmocka_unit_test(test_kinds),
      cmocka_unit_test(test_validation),
      cmocka_unit_test(test_limits),
      cmocka_unit_test(test_fixtures_actionlint),
      cmocka_unit_test(test_fixtures_zizmor),
      cmocka_unit_test(test_speed),
      cmocka_unit_test(test_linear),
      cmocka_unit_test(test_no_quadratic),
  };
  return cmocka_run_group_tests(tests, NULL, NULL);
}
