/*
 * The GitHub Actions expression engine: GitHub's own known-answer suite
 * (../shared/peer-fixtures/gha-expressions/testdata, read at run time;
 * MLG_GHA_EXPR_TESTDATA overrides the folder), then refs, find, constancy,
 * limits and malformed input with exact messages.
 */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <dirent.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "gha_expr.h"
#include "parse.h"

/* --- GitHub's suite -------------------------------------------------------- */

static char *read_file(const char *path, size_t *len)
{
  FILE *f = fopen(path, "rb");
  char *buf = NULL;
  long n;
  if (!f)
    return NULL;
  if (fseek(f, 0, SEEK_END) == 0 && (n = ftell(f)) >= 0 && fseek(f, 0, SEEK_SET) == 0 &&
      (buf = malloc((size_t)n + 1)) && fread(buf, 1, (size_t)n, f) == (size_t)n) {
    buf[n] = '\0';
    *len = (size_t)n;
  } else {
    free(buf);
    buf = NULL;
  }
  fclose(f);
  return buf;
}

static int same_value(const mlg_node *a, const mlg_node *b)
{
  size_t i;
  const char *ka = mlg_gx_kind(a), *kb = mlg_gx_kind(b);
  if (strcmp(ka, kb) != 0)
    return 0;
  switch (a->type) {
  case MLG_NULL: return 1;
  case MLG_BOOL: return !a->u.boolean == !b->u.boolean;
  case MLG_INT:
  case MLG_FLOAT: {
    double x = a->type == MLG_INT ? (double)a->u.integer : a->u.number;
    double y = b->type == MLG_INT ? (double)b->u.integer : b->u.number;
    return x == y || (isnan(x) && isnan(y));
  }
  case MLG_STR:
    return a->u.str.len == b->u.str.len && memcmp(a->u.str.ptr, b->u.str.ptr, a->u.str.len) == 0;
  case MLG_SEQ:
    if (a->u.seq.len != b->u.seq.len)
      return 0;
    for (i = 0; i < a->u.seq.len; i++) {
      if (!same_value(a->u.seq.items[i], b->u.seq.items[i]))
        return 0;
    }
    return 1;
  default:
    if (a->u.map.len != b->u.map.len)
      return 0;
    for (i = 0; i < a->u.map.len; i++) {
      if (!same_value(a->u.map.pairs[i].key, b->u.map.pairs[i].key) ||
          !same_value(a->u.map.pairs[i].val, b->u.map.pairs[i].val))
        return 0;
    }
    return 1;
  }
}

static const char *phase_name(mlg_gx_phase p)
{
  switch (p) {
  case MLG_GX_LEXING: return "lexing";
  case MLG_GX_PARSING: return "parsing";
  case MLG_GX_EVALUATION: return "evaluation";
  default: return "none";
  }
}

static int skipped(const mlg_node *c)
{
  const mlg_node *skip = mlg_map_get(mlg_map_get(c, "options"), "skip");
  size_t i;
  if (!skip || skip->type != MLG_SEQ)
    return 0;
  for (i = 0; i < skip->u.seq.len; i++) {
    if (strcmp(mlg_node_as_str(skip->u.seq.items[i], ""), "mlgate") == 0)
      return 1;
  }
  return 0;
}

/* Runs one case; returns NULL when it passes, else why not (static). */
static const char *run_case(const mlg_node *c, char *why, size_t whylen)
{
  const mlg_node *expr = mlg_map_get(c, "expr"), *ctx = mlg_map_get(c, "contexts");
  const mlg_node *want = mlg_map_get(c, "result"), *want_err = mlg_map_get(c, "err");
  const char *names[64];
  static const char *none[1] = {NULL};
  mlg_gx_opts opts = {none, 0, 0};
  mlg_gx *gx = NULL;
  mlg_gx_phase phase;
  mlg_err err = {0};
  mlg_doc *doc = NULL;
  mlg_node *got = NULL;
  const char *fail = NULL;
  size_t i;
  int rc;

  if (!expr || expr->type != MLG_STR || (!want == !want_err))
    return "malformed case";
  if (ctx && ctx->type == MLG_MAP) { /* as GitHub's harness: the keys are the names */
    for (i = 0; i < ctx->u.map.len && i < 64; i++)
      names[i] = ctx->u.map.pairs[i].key->u.str.ptr;
    opts.contexts = names;
    opts.ncontexts = i;
  }
  rc = mlg_gx_parse(&gx, expr->u.str.ptr, expr->u.str.len, &opts, &phase, &err);
  if (rc == 0) {
    doc = mlg_doc_new("result");
    rc = mlg_gx_eval(&got, doc, gx, ctx, &phase, &err);
  }
  if (want_err) {
    const char *kind = mlg_node_as_str(mlg_map_get(want_err, "kind"), "");
    if (rc == 0)
      fail = "expected an error, got a value";
    else if (strcmp(kind, phase_name(phase)) != 0)
      fail = "error in the wrong phase";
  } else if (rc != 0) {
    fail = "unexpected error";
  } else {
    const char *kind = mlg_node_as_str(mlg_map_get(want, "kind"), "");
    const mlg_node *value = mlg_map_get(want, "value");
    if (strcmp(kind, mlg_gx_kind(got)) != 0)
      fail = "wrong kind";
    else if (!value || !same_value(got, value))
      fail = "wrong value";
  }
  if (fail) {
    char *s = NULL;
    if (got)
      mlg_gx_to_string(&s, got);
    snprintf(why, whylen, "%s (rc %d, phase %s, err '%.400s', got %s '%.200s')", fail, rc,
             phase_name(phase), rc ? err.msg : "", got ? mlg_gx_kind(got) : "-",
             s ? s : "");
    free(s);
    fail = why;
  }
  mlg_doc_free(doc);
  mlg_gx_free(gx);
  return fail;
}

static int name_cmp(const void *a, const void *b)
{
  return strcmp(*(char *const *)a, *(char *const *)b);
}

static void test_github_suite(void **state)
{
  const char *dir = getenv("MLG_GHA_EXPR_TESTDATA");
  DIR *d;
  struct dirent *de;
  char *names[256];
  size_t nfiles = 0, f, total = 0, passed = 0, skips = 0;
  (void)state;

  if (!dir)
    dir = "../shared/peer-fixtures/gha-expressions/testdata";
  d = opendir(dir);
  if (!d)
    print_error("cannot open %s (run from the repository root or set MLG_GHA_EXPR_TESTDATA)\n",
                dir);
  assert_non_null(d);
  while ((de = readdir(d)) && nfiles < 256) {
    size_t n = strlen(de->d_name);
    if (n > 5 && strcmp(de->d_name + n - 5, ".json") == 0)
      names[nfiles++] = strdup(de->d_name);
  }
  closedir(d);
  qsort(names, nfiles, sizeof *names, name_cmp);
  for (f = 0; f < nfiles; f++) {
    char path[4096], why[1024];
    size_t len = 0, g, k;
    char *text;
    mlg_doc *doc = NULL;
    mlg_err err = {0};
    snprintf(path, sizeof path, "%s/%s", dir, names[f]);
    text = read_file(path, &len);
    assert_non_null(text);
    if (mlg_json_parse(&doc, text, len, path, NULL, &err) != 0)
      print_error("%s\n", err.msg);
    assert_non_null(doc);
    assert_int_equal(doc->root->type, MLG_MAP);
    for (g = 0; g < doc->root->u.map.len; g++) {
      const mlg_node *cases = doc->root->u.map.pairs[g].val;
      assert_int_equal(cases->type, MLG_SEQ);
      for (k = 0; k < cases->u.seq.len; k++) {
        const mlg_node *c = cases->u.seq.items[k];
        const char *why_not;
        total++;
        if (skipped(c)) {
          skips++;
          continue;
        }
        why_not = run_case(c, why, sizeof why);
        if (why_not)
          print_message("FAIL %s [%s] %s: %s\n", names[f],
                        doc->root->u.map.pairs[g].key->u.str.ptr,
                        mlg_node_as_str(mlg_map_get(c, "expr"), "?"), why_not);
        else
          passed++;
      }
    }
    mlg_doc_free(doc);
    free(text);
    free(names[f]);
  }
  print_message("GitHub expression suite: %zu of %zu cases pass (%zu skipped) in %zu files\n",
                passed, total, skips, nfiles);
  assert_int_equal(nfiles, 28);
  assert_int_equal(total, 1020);
  assert_int_equal(passed, total - skips);
}

/* --- helpers for the targeted tests ---------------------------------------- */

static const mlg_gx_opts any_ctx = {NULL, 0, 1};

static mlg_gx *parse_ok(const char *text, const mlg_gx_opts *o)
{
  mlg_gx *gx = NULL;
  mlg_gx_phase phase = MLG_GX_LEXING;
  mlg_err err = {0};
  int rc = mlg_gx_parse(&gx, text, strlen(text), o, &phase, &err);
  if (rc)
    print_error("'%s': %s\n", text, err.msg);
  assert_int_equal(rc, 0);
  assert_int_equal(phase, MLG_GX_OK);
  assert_non_null(gx);
  assert_non_null(gx->root);
  return gx;
}

static void parse_err_n(const char *text, size_t len, const mlg_gx_opts *o, int code,
                        mlg_gx_phase want_phase, const char *msg)
{
  mlg_gx *gx = (mlg_gx *)1;
  mlg_gx_phase phase = MLG_GX_OK;
  mlg_err err = {0};
  int rc = mlg_gx_parse(&gx, text, len, o, &phase, &err);
  if (rc != code || phase != want_phase || strcmp(err.msg, msg) != 0)
    print_error("'%.80s': rc %d phase %d msg '%s'\n", text, rc, (int)phase, err.msg);
  assert_int_equal(rc, code);
  assert_int_equal(phase, want_phase);
  assert_null(gx);
  assert_string_equal(err.msg, msg);
}

static void parse_err(const char *text, const mlg_gx_opts *o, int code, mlg_gx_phase phase,
                      const char *msg)
{
  parse_err_n(text, strlen(text), o, code, phase, msg);
}

static mlg_doc *json_doc(const char *json)
{
  mlg_doc *doc = NULL;
  mlg_err err = {0};
  if (mlg_json_parse(&doc, json, strlen(json), "ctx.json", NULL, &err))
    print_error("%s\n", err.msg);
  assert_non_null(doc);
  return doc;
}

/* Evaluates text against ctx: "Kind:string form", or "ERR <rc>:<message>". */
static char *eval_node(const char *text, const mlg_node *ctx)
{
  mlg_gx *gx = parse_ok(text, &any_ctx);
  mlg_doc *doc = mlg_doc_new("result");
  mlg_node *r = NULL;
  mlg_gx_phase phase = MLG_GX_OK;
  mlg_err err = {0};
  char *s = NULL, *out;
  int rc = mlg_gx_eval(&r, doc, gx, ctx, &phase, &err);
  if (rc) {
    assert_int_equal(phase, MLG_GX_EVALUATION);
    assert_null(r);
    out = malloc(strlen(err.msg) + 16);
    sprintf(out, "ERR %d:%s", rc, err.msg);
  } else {
    assert_int_equal(phase, MLG_GX_OK);
    assert_int_equal(mlg_gx_to_string(&s, r), 0);
    out = malloc(strlen(s) + 16);
    sprintf(out, "%s:%s", mlg_gx_kind(r), s);
    free(s);
  }
  mlg_doc_free(doc);
  mlg_gx_free(gx);
  return out;
}

static void expect_eval(const char *text, const mlg_node *ctx, const char *want)
{
  char *got = eval_node(text, ctx);
  if (strcmp(got, want) != 0)
    print_error("'%.80s': got '%.300s'\n", text, got);
  assert_string_equal(got, want);
  free(got);
}

static void expect_eval_json(const char *text, const char *ctx_json, const char *want)
{
  mlg_doc *doc = ctx_json ? json_doc(ctx_json) : NULL;
  expect_eval(text, doc ? doc->root : NULL, want);
  mlg_doc_free(doc);
}

/* --- parse errors ------------------------------------------------------------ */

static void test_parse_errors(void **state)
{
  (void)state;
  parse_err("1 <", NULL, MLG_EPARSE, MLG_GX_PARSING,
            "Unexpected end of expression: '<'. Located at position 3 within expression: 1 <");
  parse_err("github.()", NULL, MLG_EPARSE, MLG_GX_PARSING,
            "Unexpected symbol: '('. Located at position 8 within expression: github.()");
  parse_err("foo", NULL, MLG_EPARSE, MLG_GX_PARSING,
            "Unrecognized named-value: 'foo'. Located at position 1 within expression: foo");
  parse_err("1 = 2", NULL, MLG_EPARSE, MLG_GX_LEXING,
            "Unexpected symbol: '='. Located at position 3 within expression: 1 = 2");
  parse_err("'it''s", NULL, MLG_EPARSE, MLG_GX_LEXING,
            "Unexpected symbol: ''it''s'. Located at position 1 within expression: 'it''s");
  /* Positions count characters, not bytes. */
  parse_err("\xC3\xA9 == 1", NULL, MLG_EPARSE, MLG_GX_LEXING,
            "Unexpected symbol: '\xC3\xA9'. Located at position 1 within expression: "
            "\xC3\xA9 == 1");
  parse_err("'\xC3\xA9' == )", NULL, MLG_EPARSE, MLG_GX_PARSING,
            "Unexpected symbol: ')'. Located at position 8 within expression: '\xC3\xA9' == )");
  /* At the end, the last token is named (a string by its value). */
  parse_err("format('{0}'", NULL, MLG_EPARSE, MLG_GX_PARSING,
            "Unexpected end of expression: '{0}'. Located at position 8 within expression: "
            "format('{0}'");
  parse_err("!", NULL, MLG_EPARSE, MLG_GX_PARSING,
            "Unexpected end of expression: '!'. Located at position 1 within expression: !");
  parse_err("github.", NULL, MLG_EPARSE, MLG_GX_PARSING,
            "Unexpected end of expression: '.'. Located at position 7 within expression: github.");
  parse_err("(1", NULL, MLG_EPARSE, MLG_GX_PARSING,
            "Unexpected end of expression: '1'. Located at position 2 within expression: (1");
  parse_err("foo[", &any_ctx, MLG_EPARSE, MLG_GX_PARSING,
            "Unexpected end of expression: '['. Located at position 4 within expression: foo[");
  parse_err("join(,1)", NULL, MLG_EPARSE, MLG_GX_PARSING,
            "Unexpected symbol: ','. Located at position 6 within expression: join(,1)");
  parse_err("contains(1)", NULL, MLG_EPARSE, MLG_GX_PARSING,
            "Too few parameters supplied: 'contains'. Located at position 1 within expression: "
            "contains(1)");
  parse_err("1 && Success(1)", NULL, MLG_EPARSE, MLG_GX_PARSING,
            "Too many parameters supplied: 'Success'. Located at position 6 within expression: "
            "1 && Success(1)");
  parse_err("case(true, 1, false, 2)", NULL, MLG_EPARSE, MLG_GX_PARSING,
            "Even number of parameters supplied, requires an odd number of parameters: 'case'. "
            "Located at position 1 within expression: case(true, 1, false, 2)");
  parse_err("case(true, 1)", NULL, MLG_EPARSE, MLG_GX_PARSING,
            "Too few parameters supplied: 'case'. Located at position 1 within expression: "
            "case(true, 1)");
  parse_err("nope()", NULL, MLG_EPARSE, MLG_GX_PARSING,
            "Unrecognized function: 'nope'. Located at position 1 within expression: nope()");
  parse_err("'a'[0]", NULL, MLG_EPARSE, MLG_GX_PARSING,
            "Unexpected symbol: '['. Located at position 4 within expression: 'a'[0]");
  parse_err("a\nb", &any_ctx, MLG_EPARSE, MLG_GX_PARSING,
            "Unexpected symbol: 'b'. Located at position 3 within expression: a\\nb");
  parse_err_n("1\0", 2, NULL, MLG_EPARSE, MLG_GX_LEXING,
              "Unexpected symbol: '1\\x00'. Located at position 1 within expression: 1\\x00");
  parse_err_n("1 \0", 3, NULL, MLG_EPARSE, MLG_GX_LEXING,
              "Unexpected symbol: '\\x00'. Located at position 3 within expression: 1 \\x00");
  parse_err("-", NULL, MLG_EPARSE, MLG_GX_LEXING,
            "Unexpected symbol: '-'. Located at position 1 within expression: -");
  parse_err("1.2.3", NULL, MLG_EPARSE, MLG_GX_LEXING,
            "Unexpected symbol: '1.2.3'. Located at position 1 within expression: 1.2.3");
  parse_err("1\xEF\xBB\xBF", NULL, MLG_EPARSE, MLG_GX_LEXING,
            "Unexpected symbol: '1\xEF\xBB\xBF'. Located at position 1 within expression: "
            "1\xEF\xBB\xBF");
  /* An empty list of names allows none; the contexts of a case are GitHub's
   * test harness's list. */
  {
    static const char *none[1] = {NULL};
    static const char *one[] = {"Foo"};
    mlg_gx_opts no = {none, 0, 0}, foo = {one, 1, 0};
    parse_err("github", &no, MLG_EPARSE, MLG_GX_PARSING,
              "Unrecognized named-value: 'github'. Located at position 1 within expression: "
              "github");
    mlg_gx_free(parse_ok("FOO.bar", &foo));
  }
}

static void test_parse_long_message(void **state)
{
  char text[2048], msg[MLG_ERR_MSG_MAX];
  mlg_gx *gx = NULL;
  mlg_err err = {0};
  (void)state;
  memset(text, 'a', 1500);
  text[1500] = '\0';
  assert_int_equal(mlg_gx_parse(&gx, text, 1500, NULL, NULL, &err), MLG_EPARSE);
  /* Token and text are cut to keep the message one readable line. */
  snprintf(msg, sizeof msg, "Unrecognized named-value: '%.125s...'. Located at position 1 "
                            "within expression: %.477s...", text, text);
  assert_string_equal(err.msg, msg);
}

/* --- trees --------------------------------------------------------------- */

static void test_parse_tree(void **state)
{
  mlg_gx *gx;
  const mlg_gx_node *n;
  (void)state;

  gx = parse_ok("  ", NULL);
  assert_int_equal(gx->root->type, MLG_GX_LITERAL);
  assert_int_equal(gx->root->value->type, MLG_NULL);
  mlg_gx_free(gx);

  gx = parse_ok("a || b && c == !d[1].E || Contains(x, 'y''z')", &any_ctx);
  n = gx->root;
  assert_int_equal(n->type, MLG_GX_OR);
  assert_int_equal(n->nargs, 3);
  assert_int_equal(n->offset, 0);
  assert_int_equal(n->len, strlen(gx->text));
  assert_int_equal(n->args[0]->type, MLG_GX_CONTEXT);
  assert_string_equal(n->args[0]->name, "a");
  assert_int_equal(n->args[1]->type, MLG_GX_AND);
  assert_int_equal(n->args[1]->nargs, 2);
  n = n->args[1]->args[1];
  assert_int_equal(n->type, MLG_GX_COMPARE);
  assert_string_equal(n->name, "==");
  assert_int_equal(n->offset, 10);
  assert_int_equal(n->len, 12);
  n = n->right;
  assert_int_equal(n->type, MLG_GX_NOT);
  n = n->left;
  assert_int_equal(n->type, MLG_GX_PROPERTY);
  assert_string_equal(n->name, "E");
  assert_int_equal(n->offset, 16);
  assert_int_equal(n->len, 6);
  assert_int_equal(n->left->type, MLG_GX_INDEX);
  assert_int_equal(n->left->right->value->type, MLG_FLOAT);
  n = gx->root->args[2];
  assert_int_equal(n->type, MLG_GX_CALL);
  assert_string_equal(n->name, "contains"); /* canonical spelling */
  assert_int_equal(n->nargs, 2);
  assert_int_equal(n->args[1]->value->type, MLG_STR);
  assert_string_equal(n->args[1]->value->u.str.ptr, "y'z");
  assert_int_equal(n->args[1]->offset, 38);
  assert_int_equal(n->args[1]->len, 6);
  mlg_gx_free(gx);

  /* A trailing comma is accepted, as GitHub's parser does. */
  gx = parse_ok("join('a',)", NULL);
  assert_int_equal(gx->root->nargs, 1);
  mlg_gx_free(gx);

  /* Keywords are case-sensitive; after a dot every word is a name. */
  gx = parse_ok("x.true == True", &any_ctx);
  assert_string_equal(gx->root->left->name, "true");
  assert_int_equal(gx->root->right->type, MLG_GX_CONTEXT);
  mlg_gx_free(gx);
  gx = parse_ok("github.*[*]", NULL);
  assert_int_equal(gx->root->type, MLG_GX_STAR);
  assert_int_equal(gx->root->left->type, MLG_GX_STAR);
  assert_int_equal(gx->root->len, 11);
  mlg_gx_free(gx);

  /* Unicode whitespace separates tokens (NBSP, U+3000). */
  gx = parse_ok("1\xC2\xA0==\xE3\x80\x80" "1", NULL);
  assert_int_equal(gx->root->type, MLG_GX_COMPARE);
  mlg_gx_free(gx);
}

static void test_limits(void **state)
{
  char *text = malloc(MLG_GX_MAX_LEN + 2), msg[MLG_ERR_MSG_MAX];
  mlg_gx *gx = NULL;
  mlg_err err = {0};
  mlg_gx_phase phase;
  size_t i;
  (void)state;

  /* Length: at the limit is fine, one byte more is not. */
  memset(text, ' ', MLG_GX_MAX_LEN + 1);
  text[0] = '1';
  assert_int_equal(mlg_gx_parse(&gx, text, MLG_GX_MAX_LEN, NULL, &phase, &err), 0);
  mlg_gx_free(gx);
  parse_err_n(text, MLG_GX_MAX_LEN + 1, NULL, MLG_ELIMIT, MLG_GX_LEXING,
              "Exceeded max expression length 65536 (got 65537 bytes)");

  /* GitHub's depth: 49 nots are fine, 50 are not. */
  memset(text, '!', 50);
  strcpy(text + 49, "true");
  mlg_gx_free(parse_ok(text, NULL));
  memset(text, '!', 50);
  strcpy(text + 50, "true");
  snprintf(msg, sizeof msg, "Exceeded max expression depth 50: 'true'. Located at position 51 "
                            "within expression: %s", text);
  parse_err(text, NULL, MLG_EPARSE, MLG_GX_PARSING, msg);

  /* Chains of comparisons: the height of the tree. */
  text[0] = '\0';
  for (i = 0; i < 255; i++)
    strcat(text, "1 == ");
  strcat(text, "1");
  mlg_gx_free(parse_ok(text, NULL));
  strcat(text, " == 1");
  parse_err(text, NULL, MLG_ELIMIT, MLG_GX_PARSING,
            "Expression too complex: more than 256 levels of operators at position 1278");

  /* Long flat || chains are one node, not a deep tree. */
  text[0] = '\0';
  for (i = 0; i < 10000; i++)
    strcat(text + i * 5, "1 || ");
  strcat(text, "0");
  gx = parse_ok(text, NULL);
  assert_int_equal(gx->root->nargs, 10001);
  mlg_gx_free(gx);
  free(text);
}

/* --- refs, constancy, find ------------------------------------------------- */

typedef struct want_ref {
  const char *path, *fn;
  size_t offset, len;
} want_ref;

static void expect_refs(const char *text, const want_ref *want, size_t nwant)
{
  mlg_gx *gx = parse_ok(text, &any_ctx);
  mlg_gx_ref *refs = (mlg_gx_ref *)1;
  size_t n = 99, i;
  mlg_err err = {0};
  assert_int_equal(mlg_gx_refs(&refs, &n, gx, &err), 0);
  if (n != nwant)
    print_error("'%s': %zu refs\n", text, n);
  assert_int_equal(n, nwant);
  if (n == 0)
    assert_null(refs);
  for (i = 0; i < n; i++) {
    assert_string_equal(refs[i].path, want[i].path);
    assert_string_equal(refs[i].fn, want[i].fn);
    assert_int_equal(refs[i].offset, want[i].offset);
    assert_int_equal(refs[i].len, want[i].len);
  }
  mlg_gx_refs_free(refs, n);
  mlg_gx_free(gx);
}

static void test_refs(void **state)
{
  (void)state;
  {
    want_ref w[] = {{"github.event.issue.title", "", 0, 24}};
    expect_refs("github.event.issue.title", w, 1);
  }
  {
    want_ref w[] = {{"github.event.pull_request.labels.*.name", "contains", 9, 39}};
    expect_refs("contains(github.event.pull_request.labels.*.name, 'x')", w, 1);
  }
  {
    want_ref w[] = {{"steps.build.outputs.tag", "format", 21, 26}};
    expect_refs("toJSON(format('{0}', Steps.Build.outputs['TAG']))", w, 1);
  }
  {
    want_ref w[] = {{"github.event.title", "", 0, 20}};
    expect_refs("(github.event).title", w, 1);
  }
  {
    want_ref w[] = {{"github.event.?.x", "", 0, 26}, {"github.sha", "", 13, 10}};
    expect_refs("github.event[github.sha].x", w, 2);
  }
  {
    want_ref w[] = {{"matrix.0.*", "", 0, 12}, {"inputs.true", "", 16, 12},
                    {"inputs.1.5", "", 32, 11}};
    expect_refs("matrix[0][*] && inputs[true] && inputs[1.5]", w, 3);
  }
  {
    want_ref w[] = {{"inputs.x", "fromJSON", 9, 8}};
    expect_refs("fromJSON(inputs.x).y", w, 1);
  }
  {
    want_ref w[] = {{"github", "", 0, 6}, {"env.a", "", 10, 5}, {"vars.b", "", 20, 6}};
    expect_refs("github && env.A || !vars.B", w, 3);
  }
  expect_refs("1 == 1 && success()", NULL, 0);
}

static void test_constant(void **state)
{
  static const char *yes[] = {"1 == 1", "format('{0}', 1)", "", "fromJSON('[1]')[0]",
                              "!(true && 'x')", "case(true, 1, 2)"};
  static const char *no[] = {"github.x", "success()", "hashFiles('a')", "Always()",
                             "contains(toJSON(env), 'x')", "(1)[inputs.i]", "!failure()",
                             "cancelled()"};
  size_t i;
  (void)state;
  for (i = 0; i < sizeof yes / sizeof yes[0]; i++) {
    mlg_gx *gx = parse_ok(yes[i], NULL);
    assert_int_equal(mlg_gx_is_constant(gx), 1);
    mlg_gx_free(gx);
  }
  for (i = 0; i < sizeof no / sizeof no[0]; i++) {
    mlg_gx *gx = parse_ok(no[i], NULL);
    assert_int_equal(mlg_gx_is_constant(gx), 0);
    mlg_gx_free(gx);
  }
  assert_int_equal(mlg_gx_is_constant(NULL), 0);
}

static void expect_spans(const char *text, size_t max, const size_t *want, size_t nwant,
                         int want_more)
{
  mlg_gx_span spans[8];
  int more = -1;
  size_t n = mlg_gx_find(spans, max, text, strlen(text), &more), i;
  if (n != nwant)
    print_error("'%s': %zu spans\n", text, n);
  assert_int_equal(n, nwant);
  assert_int_equal(more, want_more);
  for (i = 0; i < n; i++) {
    assert_int_equal(spans[i].start, want[i * 5]);
    assert_int_equal(spans[i].end, want[i * 5 + 1]);
    assert_int_equal(spans[i].inner, want[i * 5 + 2]);
    assert_int_equal(spans[i].inner_len, want[i * 5 + 3]);
    assert_int_equal(spans[i].closed, (int)want[i * 5 + 4]);
  }
}

static void test_find(void **state)
{
  (void)state;
  expect_spans("", 8, NULL, 0, 0);
  expect_spans("no ${ { here } }", 8, NULL, 0, 0);
  {
    size_t w[] = {2, 10, 5, 3, 1};
    expect_spans("x ${{ a }} y", 8, w, 1, 0);
  }
  { /* "}}" inside a quoted string does not close */
    size_t w[] = {0, 13, 3, 8, 1};
    expect_spans("${{ 'a}}b' }} z", 8, w, 1, 0);
  }
  { /* '' is a quote inside a string: it toggles twice */
    size_t w[] = {0, 16, 3, 11, 1};
    expect_spans("${{ 'it''s}}' }}", 8, w, 1, 0);
  }
  {
    size_t w[] = {0, 8, 3, 3, 1};
    expect_spans("${{ a }}}", 8, w, 1, 0);
  }
  {
    size_t w[] = {0, 5, 3, 0, 1};
    expect_spans("${{}}", 8, w, 1, 0);
  }
  { /* a nested opener is just text */
    size_t w[] = {1, 15, 4, 9, 1};
    expect_spans("$${{ a ${{ b }}", 8, w, 1, 0);
  }
  { /* never closed: the last span runs to the end */
    size_t w[] = {0, 6, 3, 1, 1, 7, 16, 10, 6, 0};
    expect_spans("${{ }} ${{ 'a }}", 8, w, 2, 0);
  }
  {
    size_t w[] = {0, 6, 3, 1, 1, 6, 12, 9, 1, 1, 12, 18, 15, 1, 1};
    expect_spans("${{1}}${{2}}${{3}}", 2, w, 2, 1);
    expect_spans("${{1}}${{2}}${{3}}", 3, w, 3, 0);
    expect_spans("${{1}}${{2}}${{3}}", 0, NULL, 0, 1);
  }
  assert_int_equal(mlg_gx_find(NULL, 0, "abc", 3, NULL), 0);
}

/* --- evaluation ------------------------------------------------------------ */

static void test_eval_numbers(void **state)
{
  (void)state;
  expect_eval("format('{0}', 1e21)", NULL, "String:1e+21");
  expect_eval("format('{0}', 123456789.123456789)", NULL, "String:123456789.12345679");
  /* toFixed(15) rounds the halfway case up, where printf would go to even. */
  expect_eval("format('{0}', 0.0000152587890625)", NULL, "String:0.000015258789063");
  expect_eval("format('{0}', -0.0000152587890625)", NULL, "String:-0.000015258789063");
  expect_eval("format('{0}', 1e-7)", NULL, "String:1e-7");
  expect_eval("format('{0}', 0.0000001234)", NULL, "String:1.234e-7");
  expect_eval("format('{0}', 1e-16)", NULL, "String:0");
  expect_eval("format('{0}', 1.7976931348623157e308)", NULL,
              "String:1.7976931348623157e+308");
  expect_eval("toJSON(0.000001)", NULL, "String:0.000001");
  expect_eval("toJSON(1e300)", NULL, "String:1e+300");
  expect_eval("toJSON(NaN)", NULL, "String:null");
  expect_eval("' 0b101 ' == 5 && '1_0' != 10 && 'inf' != Infinity && '0x' != 0", NULL,
              "Boolean:true");
  expect_eval("'1e1000' == Infinity && '+0x10' != 16 && '.' != 0 && '5.' == 5", NULL,
              "Boolean:true");
}

static void test_eval_strings(void **state)
{
  mlg_doc *doc = mlg_doc_new("ctx");
  mlg_node *ctx = mlg_node_map(doc), *env = mlg_node_map(doc);
  size_t i;
  char key[8];
  (void)state;

  /* toJSON escapes like JSON.stringify; bytes that are not UTF-8 become U+FFFD. */
  assert_int_equal(mlg_map_set(doc, ctx, "s", mlg_node_strn(doc, "\x01\"\\\n\xE2\x80\xA8\xFF", 8)),
                   0);
  expect_eval("toJSON(s)", ctx, "String:\"\\u0001\\\"\\\\\\n\xE2\x80\xA8\xEF\xBF\xBD\"");
  /* Keys that differ in case: the first one wins, for lookup, .* and toJSON
   * alike (small maps and large ones take different paths). */
  assert_int_equal(mlg_map_set(doc, ctx, "env", env), 0);
  assert_int_equal(mlg_map_set_int(doc, env, "Foo", 1), 0);
  assert_int_equal(mlg_map_set_int(doc, env, "foo", 2), 0);
  expect_eval("env.FOO", ctx, "Number:1");
  expect_eval("toJSON(env)", ctx, "String:{\n  \"Foo\": 1\n}");
  expect_eval("join(env.*)", ctx, "String:1");
  for (i = 0; i < 12; i++) {
    snprintf(key, sizeof key, "K%zu", i);
    assert_int_equal(mlg_map_set_int(doc, env, key, (int64_t)i), 0);
    snprintf(key, sizeof key, "k%zu", i);
    assert_int_equal(mlg_map_set_int(doc, env, key, 100), 0);
  }
  expect_eval("join(env.*)", ctx, "String:1,0,1,2,3,4,5,6,7,8,9,10,11");
  expect_eval("env.k11 == 11 && contains(toJSON(env), '100') == false", ctx, "Boolean:true");
  expect_eval("contains(fromJSON('[1, \"a\"]'), 'A') && !contains(fromJSON('[[]]'), '')", NULL,
              "Boolean:true");
  /* UTF-16 order: a supplementary character sorts below U+FFFF. */
  expect_eval("'\xF0\x9F\x98\x80' < '\xEF\xBF\xBF' && '\xF0\x9F\x98\x80' > '\xC3\xAD'", NULL,
              "Boolean:true");
  expect_eval("startsWith('\xC3\xA9t\xC3\xA9', '\xC3\x89T') && endsWith('abc', '')", NULL,
              "Boolean:true");
  mlg_doc_free(doc);
}

static void test_eval_functions(void **state)
{
  (void)state;
  /* case() evaluates lazily, as the runner does. */
  expect_eval("case(true, 1, fromJSON('x'))", NULL, "Number:1");
  expect_eval("case(false, fromJSON('x'), 2)", NULL, "Number:2");
  expect_eval("case('true', 1, 2)", NULL,
              "ERR -1:case predicate must evaluate to a boolean value");
  expect_eval("success() && always() && !failure() && !cancelled() && hashFiles('**') == ''",
              NULL, "Boolean:true");
  expect_eval("fromJSON(' \t\xC2\xA0 ')", NULL,
              "ERR -1:Error parsing JSON when evaluating fromJSON: empty input");
  expect_eval("format('{0} {1}', 'a')", NULL,
              "ERR -1:The following format string references more arguments than were "
              "supplied: {0} {1}");
  expect_eval("format('{0:x}-{1}', 'a', 'b')", NULL, "String:a-b");
  expect_eval("format('a}b', 1)", NULL,
              "ERR -1:The following format string is invalid: a}b");
  expect_eval("join(fromJSON('[1, null, [], {}, \"x\"]'), fromJSON('[]'))", NULL,
              "String:1,,Array,Object,x");
  expect_eval("toJSON(fromJSON('{\"a\": [], \"b\": {}, \"c\": [1, {\"d\": null}]}'))", NULL,
              "String:{\n  \"a\": [],\n  \"b\": {},\n  \"c\": [\n    1,\n    {\n"
              "      \"d\": null\n    }\n  ]\n}");
  expect_eval("fromJSON('{\"a\": 1, \"a\": 2}').a", NULL, "Number:2");
  {
    char *got = eval_node("fromJSON('{')", NULL);
    assert_non_null(strstr(got, "ERR -1:Error parsing JSON when evaluating fromJSON: "));
    free(got);
  }
  /* Too deep: fromJSON past 200 levels is a limit, toJSON past 256 an error. */
  {
    char text[600];
    mlg_doc *doc = mlg_doc_new("deep");
    mlg_node *ctx = mlg_node_map(doc), *n = mlg_node_null(doc), *seq;
    int i;
    strcpy(text, "fromJSON('");
    for (i = 0; i < 201; i++)
      strcat(text, "[");
    for (i = 0; i < 201; i++)
      strcat(text, "]");
    strcat(text, "')");
    expect_eval(text, NULL, "ERR -5:Error parsing JSON when evaluating fromJSON: fromJSON:1:201: "
                            "nesting deeper than 200 levels");
    for (i = 0; i < 300; i++) {
      seq = mlg_node_seq(doc);
      assert_int_equal(mlg_seq_push(doc, seq, n), 0);
      n = seq;
    }
    assert_int_equal(mlg_map_set(doc, ctx, "deep", n), 0);
    expect_eval("toJSON(deep)", ctx,
                "ERR -1:toJSON: the value is nested more than 256 levels deep");
    mlg_doc_free(doc);
  }
}

static void test_eval_access(void **state)
{
  static const char ctx[] = "{\"foo\": [{\"a\": 1}, {\"a\": [2, 3]}, 4],"
                            " \"m\": {\"x\": {\"y\": 5}}}";
  mlg_gx *gx = parse_ok("foo.*.a", &any_ctx);
  mlg_doc *c = json_doc(ctx), *doc = mlg_doc_new("r");
  mlg_node *r = NULL;
  mlg_err err = {0};
  (void)state;

  /* Filtered arrays come back as plain sequences. */
  assert_int_equal(mlg_gx_eval(&r, doc, gx, c->root, NULL, &err), 0);
  assert_int_equal(r->type, MLG_SEQ);
  assert_null(r->tag);
  assert_int_equal(r->u.seq.len, 2);
  mlg_doc_free(doc);
  mlg_gx_free(gx);
  expect_eval("toJSON(foo.*.a)", c->root, "String:[\n  1,\n  [\n    2,\n    3\n  ]\n]");
  expect_eval("toJSON(foo.*.a[1])", c->root, "String:[\n  3\n]");
  expect_eval("toJSON(foo.*.a.*)", c->root, "String:[\n  2,\n  3\n]");
  expect_eval("(foo.*)[2]", c->root, "Array:Array");
  expect_eval("toJSON((foo.*)[2])", c->root, "String:[]");
  expect_eval("M.X['Y']", c->root, "Number:5");
  expect_eval_json("Github.Event_Name == 'PUSH' && github.nope == null",
                   "{\"github\": {\"event_name\": \"push\"}}", "Boolean:true");
  expect_eval_json("github.x || 'none'", NULL, "String:none");
  mlg_doc_free(c);
}

static void test_eval_memory(void **state)
{
  mlg_doc *doc = mlg_doc_new("ctx");
  mlg_node *ctx = mlg_node_map(doc), *n = mlg_node_str(doc, "leaf"), *seq;
  char *big, *got;
  int d, k;
  clock_t t0;
  (void)state;

  /* A shared-node value (a YAML alias bomb): 8^9 items through star
   * chains stop at the budget instead of eating the machine. */
  for (d = 0; d < 9; d++) {
    seq = mlg_node_seq(doc);
    for (k = 0; k < 8; k++)
      assert_int_equal(mlg_seq_push(doc, seq, n), 0);
    n = seq;
  }
  assert_int_equal(mlg_map_set(doc, ctx, "dag", n), 0);
  expect_eval("dag.*.*.*.*.*.*.*.*.*", ctx,
              "ERR -5:The maximum allowed memory size was exceeded while evaluating the "
              "following expression: dag.*.*.*.*.*.*.*.*.*");
  expect_eval("toJSON(dag)", ctx,
              "ERR -5:The maximum allowed memory size was exceeded while evaluating the "
              "following expression: toJSON(dag)");

  /* GitHub's budget: one 400,000-character string (800 KB as GitHub counts
   * it) is fine, two alive at once are not. */
  big = malloc(300001);
  memset(big, 'x', 300000);
  big[300000] = '\0';
  big[200000] = '\0';
  assert_int_equal(mlg_map_set_str(doc, ctx, "s", big), 0);
  got = eval_node("format('{0}{0}', s)", ctx);
  assert_int_equal(strlen(got), 7 + 400000);
  free(got);
  expect_eval("format('{0}{0}', s) == format('{0}{0}', s)", ctx,
              "ERR -5:The maximum allowed memory size was exceeded while evaluating the "
              "following expression: format('{0}{0}', s) == format('{0}{0}', s)");
  /* One string past the budget on its own. */
  expect_eval("format('{0}{0}{0}', s)", ctx,
              "ERR -5:The maximum allowed memory size was exceeded while evaluating the "
              "following expression: format('{0}{0}{0}', s)");

  /* Work in proportion to the operands is bounded too: 400 searches of a
   * 200,000-character string are too many. */
  {
    char *text = malloc(400 * 20 + 8);
    text[0] = '\0';
    for (k = 0; k < 400; k++)
      strcat(text + k * 20, "contains(s, 'x') && ");
    strcat(text, "true");
    got = eval_node(text, ctx);
    assert_non_null(strstr(got, "ERR -5:The expression is too expensive to evaluate (over 64 MiB "
                                "of text and members to go through): contains(s, 'x') && "));
    free(got);
    text[20 * 100] = '\0';
    strcat(text, "true");
    expect_eval(text, ctx, "Boolean:true");
    free(text);
  }

  /* Braces everywhere: format stays linear. */
  for (k = 0; k < 300000; k++)
    big[k] = k % 4 < 2 ? '{' : '}';
  big[300000] = '\0';
  assert_int_equal(mlg_map_set_str(doc, ctx, "b", big), 0);
  t0 = clock();
  got = eval_node("format(b) == format(b)", ctx);
  assert_string_equal(got, "Boolean:true");
  free(got);
  assert_true((double)(clock() - t0) / CLOCKS_PER_SEC < 5.0);
  free(big);
  mlg_doc_free(doc);
}

static void test_coercions_api(void **state)
{
  mlg_doc *doc = mlg_doc_new("v");
  char *s = NULL;
  (void)state;
  assert_int_equal(mlg_gx_truthy(NULL), 0);
  assert_int_equal(mlg_gx_truthy(mlg_node_float(doc, NAN)), 0);
  assert_int_equal(mlg_gx_truthy(mlg_node_int(doc, -3)), 1);
  assert_int_equal(mlg_gx_truthy(mlg_node_str(doc, "")), 0);
  assert_int_equal(mlg_gx_truthy(mlg_node_seq(doc)), 1);
  assert_int_equal(mlg_gx_to_string(&s, mlg_node_map(doc)), 0);
  assert_string_equal(s, "Object");
  free(s);
  assert_int_equal(mlg_gx_to_string(&s, mlg_node_float(doc, -2.50)), 0);
  assert_string_equal(s, "-2.5");
  free(s);
  assert_int_equal(mlg_gx_to_string(&s, NULL), 0);
  assert_string_equal(s, "");
  free(s);
  assert_string_equal(mlg_gx_kind(mlg_node_int(doc, 1)), "Number");
  assert_string_equal(mlg_gx_kind(NULL), "Null");
  mlg_doc_free(doc);
}

int main(void)
{
  const struct CMUnitTest tests[] = {
    cmocka_unit_test(test_github_suite),
    cmocka_unit_test(test_parse_errors),
    cmocka_unit_test(test_parse_long_message),
    cmocka_unit_test(test_parse_tree),
    cmocka_unit_test(test_limits),
    cmocka_unit_test(test_refs),
    cmocka_unit_test(test_constant),
    cmocka_unit_test(test_find),
    cmocka_unit_test(test_eval_numbers),
    cmocka_unit_test(test_eval_strings),
    cmocka_unit_test(test_eval_functions),
    cmocka_unit_test(test_eval_access),
    cmocka_unit_test(test_eval_memory),
    cmocka_unit_test(test_coercions_api),
  };
  return cmocka_run_group_tests(tests, NULL, NULL);
}
