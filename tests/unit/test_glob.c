#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "glob.h"

typedef struct gcase {
  const char *pattern, *path;
  int match;
} gcase;

static void run_cases(const gcase *c, size_t n)
{
  size_t i;
  for (i = 0; i < n; i++) {
    int got = mlg_glob_match(c[i].pattern, c[i].path);
    if (got != c[i].match)
      fail_msg("mlg_glob_match(\"%s\", \"%s\") = %d, expected %d", c[i].pattern, c[i].path,
               got, c[i].match);
  }
}

#define RUN(cases) run_cases(cases, sizeof cases / sizeof cases[0])

static void test_literal(void **state)
{
  static const gcase cases[] = {
    {"a.py", "a.py", 1},
    {"a.py", "b.py", 0},
    {"a.py", "x/a.py", 0},
    {"x/a.py", "x/a.py", 1},
    {"", "", 1},
    {"", "a", 0},
    {"a,b", "a,b", 1},
    {"a]", "a]", 1},
  };
  RUN(cases);
}

static void test_star(void **state)
{
  static const gcase cases[] = {
    {"*.py", "a.py", 1},
    {"*.py", ".py", 1},
    {"*.py", "dir/a.py", 0}, /* '*' never crosses '/' */
    {"*", "", 1},
    {"*", "abc", 1},
    {"*", "a/b", 0},
    {"a*", "a", 1},
    {"*a", "bba", 1},
    {"*a", "bab", 0},
    {"a*b*c", "abc", 1},
    {"a*b*c", "axxbyyc", 1},
    {"a*b*c", "axxbyycd", 0},
    {"a*b*c", "acb", 0},
    {"*ab*ab", "abab", 1},
    {"*ab*ab", "ababab", 1},
    {"*aab", "aaab", 1},
    {"data/*.csv", "data/x.csv", 1},
    {"data/*.csv", "data/sub/x.csv", 0},
    {"*/*.csv", "data/x.csv", 1},
    {"a**b", "axyb", 1},   /* not a whole segment: plain star */
    {"a**b", "ax/yb", 0},
    {"**.py", "a.py", 1},
    {"**.py", "d/a.py", 0},
  };
  RUN(cases);
}

static void test_globstar(void **state)
{
  static const gcase cases[] = {
    {"**/*.py", "a.py", 1},
    {"**/*.py", "d/a.py", 1},
    {"**/*.py", "d/e/f/a.py", 1},
    {"**/*.py", "d/e/f/a.pyc", 0},
    {"**", "a", 1},
    {"**", "a/b/c", 1},
    {"a/**", "a/b", 1},
    {"a/**", "a/b/c", 1},
    {"a/**", "a", 1},   /* zero segments */
    {"a/**", "b/a", 0},
    {"a/**/b", "a/b", 1},
    {"a/**/b", "a/x/b", 1},
    {"a/**/b", "a/x/y/b", 1},
    {"a/**/b", "a/x/y/c", 0},
    {"a/**/b", "a/x/y/b/c", 0},
    {"**/a/**/b", "x/a/y/b", 1},
    {"**/a/**/b", "a/b", 1},
    {"**/a/**/b", "a/a/a/b", 1},
    {"**/a/**/b", "b/a", 0},
    {"**/**", "x/y", 1},
    {"**/**/c", "c", 1},
    {"models/**/*.pt", "models/a.pt", 1},
    {"models/**/*.pt", "models/x/y/a.pt", 1},
    {"models/**/*.pt", "other/models/a.pt", 0},
    {"**/.github/workflows/*.yml", ".github/workflows/ci.yml", 1},
    {"**/.github/workflows/*.yml", "sub/.github/workflows/ci.yml", 1},
    {"**/.github/workflows/*.yml", ".github/workflows/sub/ci.yml", 0},
    {"\\**/x", "*/x", 1},   /* escaped: not a globstar */
    {"\\**/x", "*b/x", 1},
    {"\\**/x", "a/b/x", 0},
    {"\\**/x", "x", 0},
    {"\\*\\*/x", "**/x", 1},
    {"***/x", "ab/x", 1},   /* three stars: plain star */
    {"***/x", "a/b/x", 0},
  };
  RUN(cases);
}

static void test_question_and_class(void **state)
{
  static const gcase cases[] = {
    {"?", "a", 1},
    {"?", "", 0},
    {"?", "ab", 0},
    {"?", "/", 0},
    {"a?c", "a/c", 0},
    {"a?c", "abc", 1},
    {"?", "\xc3\xa9", 1},     /* one UTF-8 character */
    {"??", "\xc3\xa9", 0},
    {"?", "\xff", 1},         /* invalid byte: one character */
    {"[abc]", "b", 1},
    {"[abc]", "d", 0},
    {"[a-z]x", "qx", 1},
    {"[a-z]x", "Qx", 0},
    {"[!a-z]", "Q", 1},
    {"[!a-z]", "q", 0},
    {"[^a-z]", "Q", 1},
    {"[^a-z]", "q", 0},
    {"[!a]", "/", 0},         /* never '/' */
    {"a[/]b", "a/b", 0},
    {"[]]", "]", 1},
    {"[]a]", "a", 1},
    {"[!]]", "]", 0},
    {"[!]]", "x", 1},
    {"[a-]", "-", 1},
    {"[-a]", "-", 1},
    {"[\\]]", "]", 1},
    {"[\\-a]", "-", 1},
    {"[*]", "*", 1},
    {"[*]", "x", 0},
    {"[{}]", "{", 1},
    {"[,]", ",", 1},
    {"[\xc3\xa9]", "\xc3\xa9", 1},
    {"[\xc3\xa0-\xc3\xbf]", "\xc3\xa9", 1},
    {"[\xc3\xa0-\xc3\xbf]", "e", 0},
    {"[!e]", "\xc3\xa9", 1},
    {"*.[ch]", "x.c", 1},
    {"*.[ch]", "x.o", 0},
  };
  RUN(cases);
}

static void test_braces(void **state)
{
  static const gcase cases[] = {
    {"{a,b}", "a", 1},
    {"{a,b}", "b", 1},
    {"{a,b}", "c", 0},
    {"*.{yml,yaml}", "x.yaml", 1},
    {"*.{yml,yaml}", "x.yml", 1},
    {"*.{yml,yaml}", "x.json", 0},
    {"{,x}a", "a", 1},
    {"{,x}a", "xa", 1},
    {"{a,{b,c}d}", "cd", 1},
    {"{a,{b,c}d}", "c", 0},
    {"{a/b,c}/d", "a/b/d", 1},
    {"{a/b,c}/d", "c/d", 1},
    {"{**/,}x.py", "x.py", 1},
    {"{**/,}x.py", "a/b/x.py", 1},
    {"{a,b}{c,d}{e,f}", "bcf", 1},
    {"{a}", "a", 1},
    {"{}", "", 1},
    {"\\{a,b}", "{a,b}", 0}, /* '}' unmatched: invalid */
    {"\\{a,b\\}", "{a,b}", 1},
    {"a\\,b", "a,b", 1},
    {"{[,],x}", ",", 1},
    {"{[,],x}", "x", 1},
  };
  RUN(cases);
}

static void test_escape(void **state)
{
  static const gcase cases[] = {
    {"\\*", "*", 1},
    {"\\*", "a", 0},
    {"\\?", "?", 1},
    {"\\[a]", "[a]", 1},
    {"\\\\", "\\", 1},
    {"a\\/b", "a/b", 1},
    {"\\a", "a", 1},
  };
  RUN(cases);
}

static void test_invalid_never_matches(void **state)
{
  static const gcase cases[] = {
    {"a/[b", "a/[b", 0},
    {"a/[b", "a/b", 0},
    {"{a,b", "a", 0},
    {"a}", "a}", 0},
    {"a\\", "a\\", 0},
    {"[z-a]", "m", 0},
  };
  RUN(cases);
}

static void check_error(const char *pattern, const char *msg)
{
  mlg_err err;
  mlg_err_clear(&err);
  assert_int_equal(mlg_glob_check(pattern, &err), MLG_EINVAL);
  assert_int_equal(err.code, MLG_EINVAL);
  assert_string_equal(err.msg, msg);
}

static void test_check(void **state)
{
  mlg_err err;
  mlg_err_clear(&err);
  assert_int_equal(mlg_glob_check("**/*.{py,ipynb}", &err), 0);
  assert_int_equal(mlg_glob_check("", &err), 0);
  assert_int_equal(mlg_glob_check("[]]", &err), 0);
  assert_int_equal(mlg_glob_check(NULL, NULL), MLG_EINVAL);

  check_error("a/[b", "glob 'a/[b': unterminated character class");
  check_error("[]", "glob '[]': unterminated character class");
  check_error("[!]", "glob '[!]': unterminated character class");
  check_error("[a\\", "glob '[a\\': unterminated character class");
  check_error("[z-a]", "glob '[z-a]': reversed range in character class");
  check_error("a\\", "glob 'a\\': trailing backslash");
  check_error("{a,b", "glob '{a,b': unmatched '{'");
  check_error("{a,{b}", "glob '{a,{b}': unmatched '{'");
  check_error("a}", "glob 'a}': unmatched '}'");
  check_error("{a,b}}", "glob '{a,b}}': unmatched '}'");
  /* 4 * 4 * 4 = 64 is fine, 65 is not */
  assert_int_equal(mlg_glob_check("{a,b,c,d}{a,b,c,d}{a,b,c,d}", &err), 0);
  check_error("{a,b,c,d}{a,b,c,d}{a,b,c,d}{a,b}",
              "glob '{a,b,c,d}{a,b,c,d}{a,b,c,d}{a,b}': more than 64 brace alternatives");
  check_error("{a,b}{a,b}{a,b}{a,b}{a,b}{a,b}{a,b}",
              "glob '{a,b}{a,b}{a,b}{a,b}{a,b}{a,b}{a,b}': more than 64 brace alternatives");
  /* must not overflow counting 2^40 expansions */
  {
    char p[256] = "";
    int i;
    for (i = 0; i < 40; i++)
      strcat(p, "{a,b}");
    assert_int_equal(mlg_glob_check(p, &err), MLG_EINVAL);
    assert_non_null(strstr(err.msg, "more than 64 brace alternatives"));
    assert_int_equal(mlg_glob_match(p, "aaaa"), 0);
  }
}

static void test_limits(void **state)
{
  mlg_err err;
  char *p = malloc(5000);
  int i;

  /* nesting depth */
  memset(p, 0, 5000);
  for (i = 0; i < 64; i++)
    strcat(p, "{");
  strcat(p, "a");
  for (i = 0; i < 64; i++)
    strcat(p, "}");
  assert_int_equal(mlg_glob_check(p, &err), 0);
  assert_int_equal(mlg_glob_match(p, "a"), 1);
  memmove(p + 1, p, strlen(p) + 1);
  p[0] = '{';
  strcat(p, "}");
  assert_int_equal(mlg_glob_check(p, &err), MLG_EINVAL);
  assert_non_null(strstr(err.msg, ": braces nested too deeply"));

  /* length */
  memset(p, 'a', 4097);
  p[4097] = '\0';
  p[0] = '*';
  assert_int_equal(mlg_glob_check(p, &err), MLG_EINVAL);
  assert_non_null(strstr(err.msg, "...': pattern longer than 4096 bytes"));
  assert_true(strlen(err.msg) < 300);
  p[4096] = '\0';
  assert_int_equal(mlg_glob_check(p, &err), 0);
  assert_int_equal(mlg_glob_match(p, "x"), 0);
  /* a plain (metacharacter-free) pattern that is too long never matches */
  memset(p, 'a', 4097);
  p[4097] = '\0';
  assert_int_equal(mlg_glob_check(p, &err), MLG_EINVAL);
  assert_int_equal(mlg_glob_match(p, p), 0);
  p[4096] = '\0';
  assert_int_equal(mlg_glob_match(p, p), 1);
  free(p);
}

/* Patterns that make naive backtracking exponential must stay fast. */
static void test_no_exponential(void **state)
{
  char pat[512], path[4096];
  clock_t t0 = clock();
  int i;

  strcpy(pat, "");
  for (i = 0; i < 30; i++)
    strcat(pat, "a*");
  strcat(pat, "b");
  memset(path, 'a', 3000);
  path[3000] = '\0';
  assert_int_equal(mlg_glob_match(pat, path), 0);

  strcpy(pat, "");
  for (i = 0; i < 30; i++)
    strcat(pat, "**/a/");
  strcat(pat, "b");
  for (i = 0; i < 1000; i++)
    memcpy(path + 2 * i, "a/", 2);
  strcpy(path + 2000, "c");
  assert_int_equal(mlg_glob_match(pat, path), 0);
  strcpy(path + 2000, "b");
  assert_int_equal(mlg_glob_match(pat, path), 1);

  /* 64 alternatives, each full of stars, against a long path */
  strcpy(pat, "{a,b,c,d}{a,b,c,d}{a,b,c,d}");
  for (i = 0; i < 20; i++)
    strcat(pat, "*a");
  strcat(pat, "x");
  memset(path, 'a', 2000);
  path[2000] = '\0';
  assert_int_equal(mlg_glob_match(pat, path), 0);
  assert_true((double)(clock() - t0) / CLOCKS_PER_SEC < 2.0);
}

static void test_null_args(void **state)
{
  assert_int_equal(mlg_glob_match(NULL, "a"), 0);
  assert_int_equal(mlg_glob_match("a", NULL), 0);
}

int main(void)
{
  const struct CMUnitTest tests[] = {
    cmocka_unit_test(test_literal),
    cmocka_unit_test(test_star),
    cmocka_unit_test(test_globstar),
    cmocka_unit_test(test_question_and_class),
    cmocka_unit_test(test_braces),
    cmocka_unit_test(test_escape),
    cmocka_unit_test(test_invalid_never_matches),
    cmocka_unit_test(test_check),
    cmocka_unit_test(test_limits),
    cmocka_unit_test(test_no_exponential),
    cmocka_unit_test(test_null_args),
  };
  return cmocka_run_group_tests(tests, NULL, NULL);
}
