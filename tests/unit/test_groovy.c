/*
 * mlg_groovy_lex: token kinds and positions, every string form with its
 * escapes, text maps and GString interpolation parts, comments, slashy
 * strings against division, bracket matching, errors and limits.
 */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "groovy.h"

static mlg_groovy *lex(const char *src)
{
  mlg_groovy *g = NULL;
  mlg_err err = {0};
  int rc = mlg_groovy_lex(&g, src, strlen(src), "J", &err);
  if (rc)
    print_error("unexpected error: %s\n", err.msg);
  assert_int_equal(rc, 0);
  assert_non_null(g);
  return g;
}

static void expect_err(const char *src, int code, const char *msg)
{
  mlg_groovy *g = (mlg_groovy *)1;
  mlg_err err = {0};
  assert_int_equal(mlg_groovy_lex(&g, src, strlen(src), "J", &err), code);
  assert_null(g);
  assert_string_equal(err.msg, msg);
}

/* The i-th token, checked to be a string with that text. */
static const mlg_gtok *str_tok(const mlg_groovy *g, size_t i, int style, const char *text)
{
  const mlg_gtok *t;
  assert_true(i < g->ntoks);
  t = &g->toks[i];
  assert_int_equal(t->kind, MLG_GT_STRING);
  assert_int_equal(t->style, style);
  assert_int_equal(t->len, strlen(text));
  assert_memory_equal(t->text, text, t->len);
  assert_non_null(t->str);
  return t;
}

static void tok_is(const mlg_groovy *g, size_t i, int kind, const char *text)
{
  const mlg_gtok *t;
  assert_true(i < g->ntoks);
  t = &g->toks[i];
  assert_int_equal(t->kind, kind);
  assert_int_equal(t->len, strlen(text));
  assert_memory_equal(t->text, text, t->len);
}

/* File position of text offset x of a string token (groovy.h's rule). */
static void pos_of(const mlg_gtok *t, uint32_t x, uint32_t *line, uint32_t *col)
{
  uint32_t k = 0, i;
  for (i = 0; i < t->str->nmap; i++)
    if (t->str->map[i].t <= x)
      k = i;
  *line = t->str->map[k].line;
  *col = t->str->map[k].col;
  for (i = t->str->map[k].t; i < x; i++)
    if (((unsigned char)t->text[i] & 0xC0) != 0x80)
      (*col)++;
}

static void test_tokens(void **state)
{
  mlg_groovy *g = lex("pipeline {\n  agent any\n  x?.y *.z -> a >>>= 1.5e-3 0x1F 1..10\n}\n");
  (void)state;
  tok_is(g, 0, MLG_GT_IDENT, "pipeline");
  assert_int_equal(g->toks[0].line, 1);
  assert_int_equal(g->toks[0].col, 1);
  tok_is(g, 1, MLG_GT_OP, "{");
  assert_int_equal(g->toks[1].col, 10);
  assert_int_equal(g->toks[1].match, 17);
  tok_is(g, 2, MLG_GT_IDENT, "agent");
  assert_int_equal(g->toks[2].nl, 1);
  assert_int_equal(g->toks[2].line, 2);
  assert_int_equal(g->toks[2].col, 3);
  tok_is(g, 3, MLG_GT_IDENT, "any");
  assert_int_equal(g->toks[3].nl, 0);
  tok_is(g, 4, MLG_GT_IDENT, "x");
  tok_is(g, 5, MLG_GT_OP, "?.");
  tok_is(g, 6, MLG_GT_IDENT, "y");
  tok_is(g, 7, MLG_GT_OP, "*.");
  tok_is(g, 9, MLG_GT_OP, "->");
  tok_is(g, 11, MLG_GT_OP, ">>>=");
  tok_is(g, 12, MLG_GT_NUMBER, "1.5e-3");
  tok_is(g, 13, MLG_GT_NUMBER, "0x1F");
  tok_is(g, 14, MLG_GT_NUMBER, "1");
  tok_is(g, 15, MLG_GT_OP, "..");
  tok_is(g, 16, MLG_GT_NUMBER, "10");
  tok_is(g, 17, MLG_GT_OP, "}");
  assert_int_equal(g->toks[17].match, 1);
  assert_int_equal(g->toks[17].line, 4);
  assert_int_equal(g->ntoks, 19);
  assert_int_equal(g->toks[18].kind, MLG_GT_EOF);
  assert_int_equal(g->toks[18].off, 64);
  mlg_groovy_free(g);
}

static void test_strings_simple(void **state)
{
  mlg_groovy *g = lex("sh 'a\\'b' \"c\\\"d\" 'x\\ty\\u00e9\\$\\\\'");
  const mlg_gtok *t;
  (void)state;
  t = str_tok(g, 1, MLG_GS_SINGLE, "a'b");
  assert_int_equal(t->col, 4);
  assert_int_equal(t->off, 3);
  assert_int_equal(t->end_off, 9);
  /* a point after the escape: "b" is at column 8 */
  assert_int_equal(t->str->nmap, 2);
  assert_int_equal(t->str->map[0].col, 5);
  assert_int_equal(t->str->map[1].t, 2);
  assert_int_equal(t->str->map[1].col, 8);
  str_tok(g, 2, MLG_GS_DOUBLE, "c\"d");
  t = str_tok(g, 3, MLG_GS_SINGLE, "x\ty\xC3\xA9$\\");
  assert_int_equal(t->str->nparts, 0);
  mlg_groovy_free(g);
}

static void test_triple_map(void **state)
{
  const char *src = "steps {\n  sh '''\n    set -e\n    pip install x\\\n  y\n  '''\n}\n";
  mlg_groovy *g = lex(src);
  const mlg_gtok *t;
  uint32_t line, col;
  (void)state;
  t = str_tok(g, 3, MLG_GS_TRIPLE_SINGLE, "\n    set -e\n    pip install x  y\n  ");
  assert_int_equal(t->line, 2);
  assert_int_equal(t->col, 6);
  /* "pip" is at 4:5 */
  pos_of(t, 16, &line, &col);
  assert_int_equal(line, 4);
  assert_int_equal(col, 5);
  /* "  y" after the continuation: line 5, column 1 */
  pos_of(t, 29, &line, &col);
  assert_int_equal(line, 5);
  assert_int_equal(col, 1);
  assert_int_equal(t->str->map[0].t, 0);
  assert_int_equal(t->str->map[0].line, 2);
  assert_int_equal(t->str->map[0].col, 9);
  mlg_groovy_free(g);
}

static void test_crlf(void **state)
{
  mlg_groovy *g = lex("sh \"\"\"a\r\nb\"\"\"\r\nx");
  const mlg_gtok *t;
  uint32_t line, col;
  (void)state;
  t = str_tok(g, 1, MLG_GS_TRIPLE_DOUBLE, "a\nb");
  pos_of(t, 2, &line, &col);
  assert_int_equal(line, 2);
  assert_int_equal(col, 1);
  assert_int_equal(t->str->map[1].off, 9);
  tok_is(g, 2, MLG_GT_IDENT, "x");
  assert_int_equal(g->toks[2].line, 3);
  assert_int_equal(g->toks[2].nl, 1);
  mlg_groovy_free(g);
}

static void test_gstring_parts(void **state)
{
  const char *src = "sh \"echo ${params.TAG} $env.BRANCH_NAME \\${X} ${m[\"k\"] ?: \"}\"} $\"";
  mlg_groovy *g = lex(src);
  const mlg_gtok *t;
  const mlg_gpart *p;
  (void)state;
  t = str_tok(g, 1, MLG_GS_DOUBLE,
              "echo ${params.TAG} $env.BRANCH_NAME ${X} ${m[\"k\"] ?: \"}\"} $");
  assert_int_equal(t->str->nparts, 3);
  p = &t->str->parts[0];
  assert_int_equal(p->braced, 1);
  assert_int_equal(p->t, 5);
  assert_int_equal(p->t_end, 18);
  assert_int_equal(p->expr_len, 10);
  assert_memory_equal(t->text + p->expr, "params.TAG", 10);
  assert_int_equal(p->line, 1);
  assert_int_equal(p->col, 10);
  assert_int_equal(p->off, 9);
  assert_int_equal(p->end_off, 22);
  assert_int_equal(p->end_col, 23);
  p = &t->str->parts[1];
  assert_int_equal(p->braced, 0);
  assert_int_equal(p->expr_len, 15);
  assert_memory_equal(t->text + p->expr, "env.BRANCH_NAME", 15);
  assert_int_equal(p->col, 24);
  /* \${X} is text; the third part has a nested string holding "}" */
  p = &t->str->parts[2];
  assert_int_equal(p->braced, 1);
  assert_memory_equal(t->text + p->expr, "m[\"k\"] ?: \"}\"", p->expr_len);
  assert_int_equal(p->expr_len, 13);
  assert_int_equal(p->col, 47);
  mlg_groovy_free(g);
}

static void test_nested_gstring(void **state)
{
  mlg_groovy *g = lex("x = \"a ${ \"b ${c + \"${d}\"}\" } e\"\ny");
  const mlg_gtok *t;
  (void)state;
  t = str_tok(g, 2, MLG_GS_DOUBLE, "a ${ \"b ${c + \"${d}\"}\" } e");
  assert_int_equal(t->str->nparts, 1);
  assert_int_equal(t->str->parts[0].expr_len, 19);
  tok_is(g, 3, MLG_GT_IDENT, "y");
  mlg_groovy_free(g);
}

static void test_slashy(void **state)
{
  mlg_groovy *g = lex("a = /x\\/y\\d$v/\nb = c / d / e\nif (s ==~ /^v[0-9]+$/) {}\n"
                      "p = $/C:\\x $$ $/ ${q}/$\n");
  const mlg_gtok *t;
  (void)state;
  t = str_tok(g, 2, MLG_GS_SLASHY, "x/y\\d$v");
  assert_int_equal(t->str->nparts, 1);
  assert_memory_equal(t->text + t->str->parts[0].expr, "v", 1);
  tok_is(g, 6, MLG_GT_OP, "/");
  tok_is(g, 8, MLG_GT_OP, "/");
  str_tok(g, 14, MLG_GS_SLASHY, "^v[0-9]+$");
  t = str_tok(g, 20, MLG_GS_DOLLAR_SLASHY, "C:\\x $ / ${q}");
  assert_int_equal(t->str->nparts, 1);
  assert_int_equal(t->str->parts[0].braced, 1);
  mlg_groovy_free(g);
}

static void test_comments(void **state)
{
  mlg_groovy *g = lex("#!/usr/bin/env groovy\n// first  \nx /* block\n c */ y // tail\n"
                      "s = 'not // a comment'\n");
  (void)state;
  assert_int_equal(g->ncomments, 4);
  assert_int_equal(g->comments[0].line, 1);
  assert_int_equal(g->comments[0].len, strlen("/usr/bin/env groovy"));
  assert_memory_equal(g->comments[1].text, "first", 5);
  assert_int_equal(g->comments[1].len, 5);
  assert_int_equal(g->comments[1].line, 2);
  assert_int_equal(g->comments[2].block, 1);
  assert_int_equal(g->comments[2].line, 3);
  assert_int_equal(g->comments[2].col, 3);
  assert_memory_equal(g->comments[2].text, "block\n c", 8);
  assert_int_equal(g->comments[3].col, 9);
  tok_is(g, 0, MLG_GT_IDENT, "x");
  tok_is(g, 1, MLG_GT_IDENT, "y");
  assert_int_equal(g->toks[1].line, 4);
  str_tok(g, 4, MLG_GS_SINGLE, "not // a comment");
  mlg_groovy_free(g);
}

static void test_columns_utf8(void **state)
{
  mlg_groovy *g = lex("echo 'é€' ; x");
  (void)state;
  tok_is(g, 2, MLG_GT_OP, ";");
  assert_int_equal(g->toks[2].col, 11);
  assert_int_equal(g->toks[2].off, 13);
  mlg_groovy_free(g);
}

static void test_errors(void **state)
{
  (void)state;
  expect_err("pipeline {\n  sh '''\n echo\n", MLG_EPARSE, "J:2:6: unterminated ''' string");
  expect_err("x = 'abc\n'", MLG_EPARSE,
             "J:1:5: unterminated single-quoted string: the line ends before its closing quote");
  expect_err("a /* b", MLG_EPARSE, "J:1:3: unterminated comment: '/*' is never closed");
  expect_err("pipeline {\n stages {\n }\n", MLG_EPARSE, "J:1:10: '{' is never closed");
  expect_err("a(]", MLG_EPARSE, "J:1:3: ']' does not close the '(' at 1:2");
  expect_err("}", MLG_EPARSE, "J:1:1: '}' closes nothing");
  expect_err("sh \"a ${b\"", MLG_EPARSE, "J:1:7: unterminated string: '${' is never closed");
  expect_err("x = $/abc/", MLG_EPARSE, "J:1:5: unterminated dollar-slashy string");
}

static void test_limits(void **state)
{
  char *s = malloc(5000);
  mlg_groovy *g = NULL;
  mlg_err err = {0};
  size_t i;
  (void)state;
  for (i = 0; i < 300; i++)
    s[i] = '(';
  s[300] = '\0';
  expect_err(s, MLG_ELIMIT, "J:1:257: nesting deeper than 256 levels");
  /* interpolations count too */
  strcpy(s, "x = \"");
  for (i = 0; i < 300; i++)
    strcat(s, "${\"");
  expect_err(s, MLG_ELIMIT, "J:1:390: nesting deeper than 256 levels");
  free(s);
  /* tokens: len/3 + 4096 */
  s = malloc(30001);
  for (i = 0; i < 30000; i++)
    s[i] = i % 2 ? ';' : 'a';
  s[30000] = '\0';
  assert_int_equal(mlg_groovy_lex(&g, s, 30000, "J", &err), MLG_ELIMIT);
  assert_string_equal(err.msg, "J:1:14097: more than 14096 tokens, the limit for this input");
  free(s);
}

static void test_empty(void **state)
{
  mlg_groovy *g = lex("");
  (void)state;
  assert_int_equal(g->ntoks, 1);
  assert_int_equal(g->toks[0].kind, MLG_GT_EOF);
  mlg_groovy_free(g);
  g = lex("\xEF\xBB\xBF  x");
  assert_int_equal(g->toks[0].col, 3);
  mlg_groovy_free(g);
  mlg_groovy_free(NULL);
}

int main(void)
{
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(test_tokens),        cmocka_unit_test(test_strings_simple),
      cmocka_unit_test(test_triple_map),    cmocka_unit_test(test_crlf),
      cmocka_unit_test(test_gstring_parts), cmocka_unit_test(test_nested_gstring),
      cmocka_unit_test(test_slashy),        cmocka_unit_test(test_comments),
      cmocka_unit_test(test_columns_utf8),  cmocka_unit_test(test_errors),
      cmocka_unit_test(test_limits),        cmocka_unit_test(test_empty),
  };
  return cmocka_run_group_tests(tests, NULL, NULL);
}
