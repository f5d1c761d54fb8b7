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

int main(void)
{
  const struct CMUnitTest tests[] = {
    cmocka_unit_test(test_github_suite),
  };
  return cmocka_run_group_tests(tests, NULL, NULL);
}
