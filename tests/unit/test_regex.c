#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "regex.h"

static mlg_regex *compile(const char *pat, unsigned flags)
{
  mlg_regex *re = NULL;
  mlg_err err;
  mlg_err_clear(&err);
  if (mlg_regex_compile(&re, pat, strlen(pat), flags, NULL, &err) != 0)
    fail_msg("compile '%s': %s", pat, err.msg);
  return re;
}

/* Runs re on s from start; returns the result code, ovec filled. */
static int run(const mlg_regex *re, const char *s, size_t start, size_t *ovec, size_t pairs)
{
  mlg_err err;
  mlg_err_clear(&err);
  return mlg_regex_exec(re, s, strlen(s), start, ovec, pairs, &err);
}

static void test_basic_and_captures(void **state)
{
  mlg_regex *re = compile("(\\w+)@(\\w+)\\.com", 0);
  size_t ov[6];
  assert_int_equal(mlg_regex_groups(re), 2);
  assert_int_equal(run(re, "mail bob@example.com now", 0, ov, 3), 3);
  assert_int_equal(ov[0], 5);
  assert_int_equal(ov[1], 20);
  assert_int_equal(ov[2], 5);
  assert_int_equal(ov[3], 8);
  assert_int_equal(ov[4], 9);
  assert_int_equal(ov[5], 16);
  /* fewer pairs than groups: truncated, still a match */
  assert_int_equal(run(re, "bob@example.com", 0, ov, 1), 1);
  assert_int_equal(ov[0], 0);
  assert_int_equal(ov[1], 15);
  /* no pairs asked for: a match is still positive */
  assert_int_equal(run(re, "bob@example.com", 0, NULL, 0), 1);
  assert_int_equal(run(re, "nothing here", 0, ov, 3), 0);
  mlg_regex_free(re);
  mlg_regex_free(NULL);
  assert_int_equal(mlg_regex_groups(NULL), 0);
}

static void test_unset_groups(void **state)
{
  mlg_regex *re = compile("(a)|(b)(c)?", 0);
  size_t ov[8];
  memset(ov, 0x5a, sizeof ov);
  assert_int_equal(mlg_regex_groups(re), 3);
  /* more pairs than groups + 1: only groups + 1 are written */
  assert_int_equal(run(re, "xb", 0, ov, 4), 4);
  assert_int_equal(ov[0], 1);
  assert_int_equal(ov[1], 2);
  assert_true(ov[2] == SIZE_MAX && ov[3] == SIZE_MAX); /* (a) unset */
  assert_int_equal(ov[4], 1);
  assert_int_equal(ov[5], 2);
  assert_true(ov[6] == SIZE_MAX && ov[7] == SIZE_MAX); /* (c)? unset, past rc */
  assert_int_equal(run(re, "a", 0, ov, 4), 4);
  assert_int_equal(ov[2], 0);
  assert_int_equal(ov[3], 1);
  assert_true(ov[4] == SIZE_MAX && ov[5] == SIZE_MAX);
  assert_true(ov[6] == SIZE_MAX && ov[7] == SIZE_MAX);
  mlg_regex_free(re);

  re = compile("x", 0);
  memset(ov, 0x5a, sizeof ov);
  assert_int_equal(run(re, "x", 0, ov, 4), 1);
  assert_int_equal(ov[2], 0x5a5a5a5a5a5a5a5aull); /* untouched */
  mlg_regex_free(re);
}

static void test_flags(void **state)
{
  mlg_regex *re;
  size_t ov[2];

  re = compile("^key: (\\w+)$", 0);
  assert_int_equal(run(re, "a: b\nkey: v\n", 0, ov, 1), 0);
  mlg_regex_free(re);
  re = compile("^key: (\\w+)$", MLG_RE_MULTILINE);
  assert_int_equal(run(re, "a: b\nkey: v\n", 0, ov, 1), 1);
  assert_int_equal(ov[0], 5);
  assert_int_equal(ov[1], 11);
  mlg_regex_free(re);

  re = compile("secret", MLG_RE_CASELESS);
  assert_int_equal(run(re, "My SeCrEt", 0, ov, 1), 1);
  assert_int_equal(ov[0], 3);
  mlg_regex_free(re);
  re = compile("secret", 0);
  assert_int_equal(run(re, "My SeCrEt", 0, ov, 1), 0);
  mlg_regex_free(re);

  re = compile("a.b", 0);
  assert_int_equal(run(re, "a\nb", 0, ov, 1), 0);
  mlg_regex_free(re);
  re = compile("a.b", MLG_RE_DOTALL);
  assert_int_equal(run(re, "a\nb", 0, ov, 1), 1);
  mlg_regex_free(re);

  re = compile("a b  # comment\n c", MLG_RE_EXTENDED);
  assert_int_equal(run(re, "xabc", 0, ov, 1), 1);
  assert_int_equal(ov[0], 1);
  mlg_regex_free(re);
}

static void test_start_offset(void **state)
{
  mlg_regex *re = compile("\\d+", 0);
  mlg_err err;
  size_t ov[2];
  assert_int_equal(run(re, "a12b345", 0, ov, 1), 1);
  assert_int_equal(ov[0], 1);
  assert_int_equal(ov[1], 3);
  assert_int_equal(run(re, "a12b345", 3, ov, 1), 1);
  assert_int_equal(ov[0], 4);
  assert_int_equal(ov[1], 7);
  assert_int_equal(run(re, "a12b345", 2, ov, 1), 1);
  assert_int_equal(ov[0], 2);
  assert_int_equal(run(re, "a12b345", 7, ov, 1), 0);
  assert_int_equal(mlg_regex_exec(re, "a12", 3, 4, ov, 1, &err), MLG_EINVAL);
  assert_string_equal(err.msg, "regex: start offset 4 is past the subject end (3)");
  mlg_regex_free(re);

  /* lookbehind sees before the start offset; ^ does not match there */
  re = compile("(?<=a)b", 0);
  assert_int_equal(run(re, "ab", 1, ov, 1), 1);
  mlg_regex_free(re);
  re = compile("^b", 0);
  assert_int_equal(run(re, "ab", 1, ov, 1), 0);
  mlg_regex_free(re);
}

static void test_empty_matches(void **state)
{
  mlg_regex *re = compile("x*", 0);
  size_t ov[2];
  assert_int_equal(run(re, "abc", 0, ov, 1), 1);
  assert_int_equal(ov[0], 0);
  assert_int_equal(ov[1], 0);
  assert_int_equal(run(re, "abc", 3, ov, 1), 1);
  assert_int_equal(ov[0], 3);
  assert_int_equal(ov[1], 3);
  assert_int_equal(run(re, "", 0, ov, 1), 1);
  assert_int_equal(mlg_regex_exec(re, NULL, 0, 0, ov, 1, NULL), 1);
  assert_int_equal(mlg_regex_exec(re, NULL, 5, 0, ov, 1, NULL), MLG_EINVAL);
  mlg_regex_free(re);

  re = compile("", 0);
  assert_int_equal(mlg_regex_groups(re), 0);
  assert_int_equal(run(re, "abc", 1, ov, 1), 1);
  assert_int_equal(ov[0], 1);
  assert_int_equal(ov[1], 1);
  mlg_regex_free(re);

  /* NULL pattern with length 0 is the empty pattern */
  assert_int_equal(mlg_regex_compile(&re, NULL, 0, 0, NULL, NULL), 0);
  mlg_regex_free(re);
}

static void test_binary_subjects(void **state)
{
  mlg_regex *re = compile("b.c", 0);
  size_t ov[2];
  mlg_err err;
  /* an embedded NUL and invalid UTF-8 are just bytes without MLG_RE_UTF */
  assert_int_equal(mlg_regex_exec(re, "a\0b\xff" "c", 5, 0, ov, 1, &err), 1);
  assert_int_equal(ov[0], 2);
  assert_int_equal(ov[1], 5);
  mlg_regex_free(re);

  /* (*UTF) cannot turn UTF mode on behind the caller's back */
  assert_int_equal(mlg_regex_compile(&re, "(*UTF)a", 7, 0, NULL, &err), MLG_EINVAL);
  assert_non_null(strstr(err.msg, "regex offset "));
  /* \C is refused: it can split UTF-8 characters */
  assert_int_equal(mlg_regex_compile(&re, "a\\Cb", 4, MLG_RE_UTF, NULL, &err), MLG_EINVAL);
  assert_int_equal(mlg_regex_compile(&re, "a\\Cb", 4, 0, NULL, &err), MLG_EINVAL);
  assert_string_equal(err.msg, "regex offset 3: using \\C is disabled by the application");
}

static void test_utf(void **state)
{
  mlg_regex *re = compile("\xc3\xa9(.)", MLG_RE_UTF);
  size_t ov[4];
  mlg_err err;
  assert_int_equal(run(re, "x\xc3\xa9\xe2\x82\xac", 0, ov, 2), 2);
  assert_int_equal(ov[2], 3); /* '.' is one character: the 3-byte euro sign */
  assert_int_equal(ov[3], 6);
  mlg_err_clear(&err);
  assert_int_equal(mlg_regex_exec(re, "ab\xc3(", 4, 0, ov, 2, &err), MLG_EINVAL);
  assert_string_equal(err.msg, "invalid UTF-8 in subject at offset 2: UTF-8 error: byte 2 "
                               "top bits not 0x80");
  assert_int_equal(mlg_regex_exec(re, "abc\xff", 4, 0, ov, 2, &err), MLG_EINVAL);
  assert_non_null(strstr(err.msg, "invalid UTF-8 in subject at offset 3: "));
  assert_int_equal(mlg_regex_exec(re, "\xc3\xa9\xc3\xa9", 4, 1, ov, 2, &err), MLG_EINVAL);
  assert_string_equal(err.msg, "regex: start offset 1 is inside a UTF-8 character");
  mlg_regex_free(re);

  /* invalid UTF-8 in the pattern itself */
  assert_int_equal(mlg_regex_compile(&re, "ab\xff", 3, MLG_RE_UTF, NULL, &err), MLG_EINVAL);
  assert_int_equal(strncmp(err.msg, "regex offset 2: ", 16), 0);
}

static void test_compile_errors(void **state)
{
  mlg_regex *re = (mlg_regex *)&re;
  mlg_err err;
  mlg_err_clear(&err);
  assert_int_equal(mlg_regex_compile(&re, "a(b", 3, 0, NULL, &err), MLG_EINVAL);
  assert_null(re);
  assert_int_equal(err.code, MLG_EINVAL);
  assert_string_equal(err.msg, "regex offset 3: missing closing parenthesis");
  assert_int_equal(mlg_regex_compile(&re, "a[b", 3, 0, NULL, &err), MLG_EINVAL);
  assert_string_equal(err.msg, "regex offset 3: missing terminating ] for character class");
  assert_int_equal(mlg_regex_compile(&re, "*a", 2, 0, NULL, &err), MLG_EINVAL);
  assert_string_equal(err.msg, "regex offset 0: quantifier does not follow a repeatable item");
  assert_int_equal(mlg_regex_compile(&re, "a{2,1}", 6, 0, NULL, &err), MLG_EINVAL);
  assert_string_equal(err.msg, "regex offset 5: numbers out of order in {} quantifier");
  assert_int_equal(mlg_regex_compile(&re, "x", 1, 1024, NULL, &err), MLG_EINVAL);
  assert_string_equal(err.msg, "regex: unknown flags 0x400");
  assert_int_equal(mlg_regex_compile(&re, NULL, 3, 0, NULL, &err), MLG_EINVAL);
  /* the length is honoured: the bytes after it are not part of the pattern */
  assert_int_equal(mlg_regex_compile(&re, "ab(", 2, 0, NULL, &err), 0);
  mlg_regex_free(re);
  assert_int_equal(mlg_regex_exec(NULL, "a", 1, 0, NULL, 0, &err), MLG_EINVAL);
}

static double now(void)
{
  struct timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static void test_catastrophic(void **state)
{
  mlg_regex *re = compile("(a+)+$", 0);
  char s[64];
  mlg_err err;
  size_t ov[4];
  double t0;
  int rc;

  memset(s, 'a', 40);
  strcpy(s + 40, "b");
  mlg_err_clear(&err);
  t0 = now();
  rc = mlg_regex_exec(re, s, strlen(s), 0, ov, 2, &err);
  assert_int_equal(rc, MLG_ELIMIT);
  assert_string_equal(err.msg, "regex match limit exceeded");
  assert_true(now() - t0 < 5.0);
  /* an ordinary subject still works with the same regex afterwards */
  assert_int_equal(run(re, "aaa", 0, ov, 2), 2);
  mlg_regex_free(re);
}

static void test_custom_limits(void **state)
{
  mlg_regex_limits lim = {1000, 0, 0};
  mlg_regex *re = NULL;
  mlg_err err;
  size_t ov[2];
  char s[64];

  /* a small match limit is reached on a modest subject */
  assert_int_equal(mlg_regex_compile(&re, "(a+)+$", 6, 0, &lim, &err), 0);
  memset(s, 'a', 20);
  strcpy(s + 20, "b");
  assert_int_equal(mlg_regex_exec(re, s, strlen(s), 0, ov, 1, &err), MLG_ELIMIT);
  assert_int_equal(run(re, "aa", 0, ov, 1), 1);
  mlg_regex_free(re);

  /* a pattern cannot raise its own limit above the configured one */
  assert_int_equal(mlg_regex_compile(&re, "(*LIMIT_MATCH=100000000)(a+)+$", 30, 0, &lim, &err),
                   0);
  assert_int_equal(mlg_regex_exec(re, s, strlen(s), 0, ov, 1, &err), MLG_ELIMIT);
  mlg_regex_free(re);

  /* the depth and heap limits bind the interpreter ((*NO_JIT) forces it) */
  lim.match_limit = 0;
  lim.depth_limit = 10;
  assert_int_equal(
      mlg_regex_compile(&re, "(*NO_JIT)(?:(a)|b)*c", 20, 0, &lim, &err), 0);
  {
    char big[4001];
    /* 'c' present so the required-character check cannot short-cut */
    memset(big, 'a', 4000);
    big[3999] = 'c';
    big[4000] = '\0';
    assert_int_equal(mlg_regex_exec(re, big, 4000, 0, ov, 1, &err), MLG_ELIMIT);
    assert_string_equal(err.msg, "regex match limit exceeded");
    mlg_regex_free(re);

    lim.depth_limit = 0;
    lim.heap_kib = 1;
    assert_int_equal(mlg_regex_compile(&re, "(*NO_JIT)(?:(a)|b)*c", 20, 0, &lim, &err), 0);
    assert_int_equal(mlg_regex_exec(re, big, 4000, 0, ov, 1, &err), MLG_ELIMIT);
    mlg_regex_free(re);
    /* with the default limits a shorter subject is fine */
    assert_int_equal(mlg_regex_compile(&re, "(*NO_JIT)(?:(a)|b)*c", 20, 0, NULL, &err), 0);
    assert_int_equal(mlg_regex_exec(re, big + 3000, 1000, 0, ov, 1, &err), 1);
    assert_int_equal(ov[1], 1000);
  }
  mlg_regex_free(re);
}

static void test_reuse_many(void **state)
{
  /* exec reuses the regex's own match data: results must not leak
   * between calls */
  mlg_regex *re = compile("(x)?(y)", 0);
  size_t ov[6];
  int i;
  for (i = 0; i < 1000; i++) {
    assert_int_equal(run(re, (i & 1) ? "xy" : "y", 0, ov, 3), 3);
    if (i & 1) {
      assert_int_equal(ov[2], 0);
    } else {
      assert_true(ov[2] == SIZE_MAX);
    }
  }
  mlg_regex_free(re);
}

int main(void)
{
  const struct CMUnitTest tests[] = {
    cmocka_unit_test(test_basic_and_captures),
    cmocka_unit_test(test_unset_groups),
    cmocka_unit_test(test_flags),
    cmocka_unit_test(test_start_offset),
    cmocka_unit_test(test_empty_matches),
    cmocka_unit_test(test_binary_subjects),
    cmocka_unit_test(test_utf),
    cmocka_unit_test(test_compile_errors),
    cmocka_unit_test(test_catastrophic),
    cmocka_unit_test(test_custom_limits),
    cmocka_unit_test(test_reuse_many),
  };
  return cmocka_run_group_tests(tests, NULL, NULL);
}
