#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <string.h>

#include "suppress.h"

static const char *const aliases[] = {"catalog:INJ-EXPR", "zizmor:template-injection"};

static int find(mlg_suppression *s, const char *text, uint32_t line, uint32_t end)
{
  return mlg_suppress_find(s, text, strlen(text), line, end, "pipeline/template-injection",
                           aliases, 2);
}

static void test_match_by_id_and_alias(void **state)
{
  mlg_suppression s;
  const char *t = "a: 1\n"
                  "run: echo ${{ x }} # mlgate: ignore[pipeline/template-injection] trusted input\n"
                  "b: 2  #mlgate: ignore[other, zizmor:template-injection]   why not  \r\n"
                  "c: 3\n";
  (void)state;
  assert_int_equal(find(&s, t, 2, 0), 1);
  assert_int_equal(s.line, 2);
  assert_int_equal(s.col, 20);
  assert_int_equal(s.reason_len, strlen("trusted input"));
  assert_memory_equal(s.reason, "trusted input", s.reason_len);
  assert_int_equal(find(&s, t, 3, 3), 1);
  assert_int_equal(s.line, 3);
  assert_memory_equal(s.reason, "why not", s.reason_len);
  assert_int_equal(s.reason_len, 7);
  assert_int_equal(find(&s, t, 1, 1), 0);
  assert_int_equal(find(&s, t, 4, 9), 0);
  /* A span covers every line of it. */
  assert_int_equal(find(&s, t, 1, 2), 1);
  assert_int_equal(s.line, 2);
}

static void test_no_match(void **state)
{
  mlg_suppression s;
  (void)state;
  assert_int_equal(find(&s, "x # mlgate: ignore[pipeline/template] r\n", 1, 1), 0);
  assert_int_equal(find(&s, "x # mlgate: ignore[catalog:INJ-EXPRX] r\n", 1, 1), 0);
  assert_int_equal(find(&s, "x # mlgate: ignore[catalog:INJ-EXPR r\n", 1, 1), 0);
  assert_int_equal(find(&s, "x # zizmor: ignore[template-injection]\n", 1, 1), 0);
  assert_int_equal(find(&s, "x mlgate: ignore[catalog:INJ-EXPR] not a comment\n", 1, 1), 0);
  assert_int_equal(find(&s, "", 1, 1), 0);
  assert_int_equal(mlg_suppress_find(&s, NULL, 0, 1, 1, "p", NULL, 0), 0);
}

static void test_slashes_and_no_reason(void **state)
{
  mlg_suppression s;
  (void)state;
  assert_int_equal(find(&s, "curl https://x.example/a # mlgate: ignore[catalog:INJ-EXPR]\n", 1,
                        1), 1);
  assert_int_equal(s.reason_len, 0);
  assert_int_equal(find(&s, "sh 'x' // mlgate: ignore[catalog:INJ-EXPR] groovy\n", 1, 1), 1);
  assert_int_equal(s.col, 8);
  assert_int_equal(s.reason_len, 6);
  /* The first comment marker that names the policy wins. */
  assert_int_equal(find(&s, "# a # mlgate: ignore[catalog:INJ-EXPR] ok", 1, 1), 1);
  assert_int_equal(s.col, 5);
}

int main(void)
{
  const struct CMUnitTest tests[] = {
    cmocka_unit_test(test_match_by_id_and_alias),
    cmocka_unit_test(test_no_match),
    cmocka_unit_test(test_slashes_and_no_reason),
  };
  return cmocka_run_group_tests(tests, NULL, NULL);
}
