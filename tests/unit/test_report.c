#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <ctype.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "mlgate/version.h"
#include "parse.h"
#include "report.h"

static mlg_report *new_report(void)
{
  mlg_report *r = NULL;
  mlg_err e;
  assert_int_equal(mlg_report_new(&r, &e), 0);
  assert_non_null(r);
  return r;
}

static mlg_finding *add(mlg_report *r, const char *policy, const char *path, uint32_t line,
                        uint32_t col, const char *message)
{
  mlg_finding *f = mlg_report_add_finding(r);
  assert_non_null(f);
  assert_int_equal(f->loc.offset, -1);
  f->policy = mlg_report_str(r, policy);
  f->gate = MLG_GATE_TRAIN;
  f->severity = MLG_SEV_HIGH;
  f->confidence = MLG_CONF_HIGH;
  f->message = mlg_report_str(r, message);
  f->loc.path = mlg_report_str(r, path);
  f->loc.line = line;
  f->loc.column = col;
  return f;
}

static int is_hex32(const char *s)
{
  size_t i;
  for (i = 0; i < 32; i++)
    if (!isxdigit((unsigned char)s[i]) || isupper((unsigned char)s[i]))
      return 0;
  return s[32] == '\0';
}

/* --- construction --------------------------------------------------------- */

static void test_new_defaults(void **state)
{
  mlg_report *r = new_report();
  assert_string_equal(r->runner, "local");
  assert_string_equal(r->shard, "1/1");
  assert_string_equal(r->root, ".");
  assert_string_equal(r->commit, "");
  assert_int_equal(r->nfindings, 0);
  assert_int_equal(r->nerrors, 0);
  assert_int_equal(mlg_report_add_error(r, -1, NULL, NULL, "m", NULL), 0);
  assert_string_equal(r->errors[0].policy, "");
  assert_string_equal(r->errors[0].path, "");
  assert_string_equal(r->errors[0].where, "");
  assert_null(mlg_report_str(r, NULL));
  mlg_report_free(r);
  mlg_report_free(NULL);
}

static void test_many_findings(void **state)
{
  mlg_report *r = new_report();
  char path[32];
  size_t i;
  for (i = 0; i < 1000; i++) {
    snprintf(path, sizeof path, "f%04zu.py", 999 - i);
    add(r, "train/x", path, 1, 1, "m");
  }
  for (i = 0; i < 100; i++)
    assert_int_equal(mlg_report_add_error(r, 1, "p", "x", "m", "w"), 0);
  mlg_report_finalize_order(r);
  assert_int_equal(r->nfindings, 1000);
  assert_string_equal(r->findings[0].loc.path, "f0000.py");
  assert_string_equal(r->findings[999].loc.path, "f0999.py");
  mlg_report_free(r);
}

/* --- ordering ---------------------------------------------------------------- */

static void test_sort_order(void **state)
{
  mlg_report *r = new_report();
  mlg_finding *f;
  static const char *const expect[] = {
    "a.py:2:1 train/x", "a.py:10:1 train/x", "a.py:10:3 train/a", "a.py:10:3 train/b",
    "a.py:10:3 train/b deploy", "b/c.py:0:0 train/x", "b/c.py:1:1 train/x",
    "b/c.py:1:1 train/x msg-a", "b/c.py:1:1 train/x msg-b", "b/c.py:1:1 train/x msg-b",
    "b/c.py:1:1 train/x member", "b/c.py:1:1 train/x end", "b0.py:1:1 train/x", NULL};
  size_t i;

  /* ties broken by gate, end_line, end_column, member, offset, message,
   * severity: a total order, so the report is byte-stable */
  add(r, "train/x", "b0.py", 1, 1, "b0.py:1:1 train/x");
  f = add(r, "train/x", "b/c.py", 1, 1, "b/c.py:1:1 train/x msg-b");
  f->severity = MLG_SEV_CRITICAL;
  add(r, "train/x", "b/c.py", 1, 1, "b/c.py:1:1 train/x msg-b");
  add(r, "train/x", "b/c.py", 1, 1, "b/c.py:1:1 train/x msg-a");
  f = add(r, "train/x", "b/c.py", 1, 1, "b/c.py:1:1 train/x end");
  f->loc.end_line = 2;
  f = add(r, "train/x", "b/c.py", 1, 1, "b/c.py:1:1 train/x member");
  f->loc.member = mlg_report_str(r, "m");
  add(r, "train/x", "b/c.py", 1, 1, "b/c.py:1:1 train/x");
  add(r, "train/x", "b/c.py", 0, 0, "b/c.py:0:0 train/x");
  f = add(r, "train/b", "a.py", 10, 3, "a.py:10:3 train/b deploy");
  f->gate = MLG_GATE_DEPLOY;
  add(r, "train/b", "a.py", 10, 3, "a.py:10:3 train/b");
  add(r, "train/a", "a.py", 10, 3, "a.py:10:3 train/a");
  add(r, "train/x", "a.py", 10, 1, "a.py:10:1 train/x");
  add(r, "train/x", "a.py", 2, 1, "a.py:2:1 train/x");

  mlg_report_finalize_order(r);
  for (i = 0; expect[i]; i++) {
    if (i >= r->nfindings)
      fail_msg("only %zu findings", r->nfindings);
    if (strcmp(r->findings[i].message, expect[i]) != 0)
      fail_msg("position %zu: got '%s', expected '%s'", i, r->findings[i].message, expect[i]);
  }
  assert_int_equal(r->nfindings, i);
  assert_int_equal(r->findings[8].severity, MLG_SEV_HIGH);
  assert_int_equal(r->findings[9].severity, MLG_SEV_CRITICAL);
  for (i = 0; i < r->nfindings; i++)
    assert_true(is_hex32(r->findings[i].fingerprint));
  mlg_report_free(r);
}

static void test_error_order(void **state)
{
  mlg_report *r = new_report();
  assert_int_equal(mlg_report_add_error(r, 2, "train/b", "x.py", "m2", "w"), 0);
  assert_int_equal(mlg_report_add_error(r, 2, "train/a", "y.py", "m", "w"), 0);
  assert_int_equal(mlg_report_add_error(r, -1, "", "mlgate.yml", "config", ""), 0);
  assert_int_equal(mlg_report_add_error(r, 2, "train/b", "x.py", "m1", "w"), 0);
  mlg_report_finalize_order(r);
  assert_string_equal(r->errors[0].message, "config");
  assert_string_equal(r->errors[1].policy, "train/a");
  assert_string_equal(r->errors[2].message, "m1");
  assert_string_equal(r->errors[3].message, "m2");
  mlg_report_free(r);
}

/* --- fingerprints ------------------------------------------------------------ */

/* Fingerprint of one finding, alone in a report. */
static void fp1(char out[33], const char *policy, const char *path, uint32_t line, uint32_t col,
                const char *snippet, int indent, const char *key, const char *message,
                int64_t offset)
{
  mlg_report *r = new_report();
  mlg_finding *f = add(r, policy, path, line, col, message);
  (void)indent; /* columns are not part of fingerprints */
  f->snippet = mlg_report_str(r, snippet);
  f->key = mlg_report_str(r, key);
  f->loc.offset = offset;
  mlg_report_finalize_order(r);
  assert_true(is_hex32(r->findings[0].fingerprint));
  memcpy(out, r->findings[0].fingerprint, 33);
  mlg_report_free(r);
}

static void test_fingerprint_snippet(void **state)
{
  char a[33], b[33], c[33];

  /* the same line of code moved down: same fingerprint */
  fp1(a, "train/x", "a.py", 10, 5, "torch.load(f)", 4, NULL, "unsafe load", -1);
  fp1(b, "train/x", "a.py", 42, 5, "torch.load(f)", 4, NULL, "unsafe load", -1);
  assert_string_equal(a, b);
  /* re-indented along with the column: same */
  fp1(b, "train/x", "a.py", 12, 9, "torch.load(f)", 8, NULL, "unsafe load", -1);
  assert_string_equal(a, b);
  /* the message is not part of a snippet-based fingerprint */
  fp1(b, "train/x", "a.py", 10, 5, "torch.load(f)", 4, NULL, "reworded", -1);
  assert_string_equal(a, b);
  /* different code: different */
  fp1(b, "train/x", "a.py", 10, 5, "torch.load(g)", 4, NULL, "unsafe load", -1);
  assert_string_not_equal(a, b);
  /* another column within the same line text (a formatter re-spaced the
   * line): same; several findings on one line differ by occurrence */
  fp1(b, "train/x", "a.py", 10, 6, "torch.load(f)", 4, NULL, "unsafe load", -1);
  assert_string_equal(a, b);
  /* another file, another policy */
  fp1(b, "train/x", "b.py", 10, 5, "torch.load(f)", 4, NULL, "unsafe load", -1);
  assert_string_not_equal(a, b);
  fp1(c, "train/y", "a.py", 10, 5, "torch.load(f)", 4, NULL, "unsafe load", -1);
  assert_string_not_equal(a, c);
  assert_string_not_equal(b, c);
  /* the NUL separators keep fields apart: ("train/x", "ab") vs ("train/xa", "b") */
  fp1(b, "train/x", "ab.py", 1, 1, "s", 0, NULL, "m", -1);
  fp1(c, "train/xa", "b.py", 1, 1, "s", 0, NULL, "m", -1);
  assert_string_not_equal(b, c);
}

static void test_fingerprint_key_offset_message(void **state)
{
  char a[33], b[33];

  /* a key wins over everything but policy/path/member */
  fp1(a, "model/x", "m.pkl", 3, 1, "line one", 0, "os.system", "m1", -1);
  fp1(b, "model/x", "m.pkl", 90, 7, "other", 2, "os.system", "m2", 77);
  assert_string_equal(a, b);
  fp1(b, "model/x", "m.pkl", 3, 1, "line one", 0, "posix.system", "m1", -1);
  assert_string_not_equal(a, b);
  /* no snippet, no key: offset and message */
  fp1(a, "model/x", "m.pkl", 0, 0, NULL, 0, NULL, "opcode", 100);
  fp1(b, "model/x", "m.pkl", 0, 0, NULL, 0, NULL, "opcode", 100);
  assert_string_equal(a, b);
  fp1(b, "model/x", "m.pkl", 0, 0, NULL, 0, NULL, "opcode", 101);
  assert_string_not_equal(a, b);
  fp1(b, "model/x", "m.pkl", 0, 0, NULL, 0, NULL, "opcode!", 100);
  assert_string_not_equal(a, b);
  /* nothing but the message */
  fp1(a, "model/x", "m.pkl", 0, 0, NULL, 0, NULL, "whole file", -1);
  fp1(b, "model/x", "m.pkl", 5, 0, NULL, 0, NULL, "whole file", -1);
  assert_string_equal(a, b); /* a line without a snippet does not count */
  fp1(b, "model/x", "m.pkl", 0, 0, NULL, 0, NULL, "whole file.", -1);
  assert_string_not_equal(a, b);
}

static void test_fingerprint_occurrences(void **state)
{
  mlg_report *r = new_report(), *r2 = new_report();
  mlg_finding *f;
  char first[33], second[33];
  int i;

  /* two identical lines of code in one file */
  for (i = 0; i < 2; i++) {
    f = add(r, "train/x", "a.py", i ? 20 : 10, 5, "unsafe load");
    f->snippet = mlg_report_str(r, "pickle.load(f)");
  }
  f = add(r, "train/x", "a.py", 30, 5, "unsafe load");
  f->snippet = mlg_report_str(r, "something else");
  mlg_report_finalize_order(r);
  assert_string_not_equal(r->findings[0].fingerprint, r->findings[1].fingerprint);
  assert_string_not_equal(r->findings[0].fingerprint, r->findings[2].fingerprint);
  assert_string_not_equal(r->findings[1].fingerprint, r->findings[2].fingerprint);
  memcpy(first, r->findings[0].fingerprint, 33);
  memcpy(second, r->findings[1].fingerprint, 33);

  /* both move down by five lines, added in the other order: same pair */
  for (i = 0; i < 2; i++) {
    f = add(r2, "train/x", "a.py", i ? 15 : 25, 5, "unsafe load");
    f->snippet = mlg_report_str(r2, "pickle.load(f)");
  }
  mlg_report_finalize_order(r2);
  assert_int_equal(r2->findings[0].loc.line, 15);
  assert_string_equal(r2->findings[0].fingerprint, first);
  assert_string_equal(r2->findings[1].fingerprint, second);
  /* finalizing again changes nothing */
  mlg_report_finalize_order(r2);
  assert_string_equal(r2->findings[0].fingerprint, first);
  assert_string_equal(r2->findings[1].fingerprint, second);
  mlg_report_free(r);
  mlg_report_free(r2);
}

/* --- verdicts ----------------------------------------------------------------- */

static void test_decide(void **state)
{
  mlg_report *r = new_report();
  mlg_finding *f;
  int g;

  /* nothing evaluated, nothing found */
  mlg_report_decide(r);
  assert_int_equal(r->verdict, MLG_VERDICT_PASS);
  assert_int_equal(r->exit_code, 0);
  for (g = 0; g < MLG_GATE_COUNT; g++)
    assert_int_equal(r->gates[g].verdict, MLG_VERDICT_SKIPPED);

  /* a non-blocking finding passes */
  r->gates[MLG_GATE_TRAIN].evaluated = 1;
  r->gates[MLG_GATE_MODEL].evaluated = 1;
  add(r, "train/x", "a.py", 1, 1, "advisory");
  mlg_report_decide(r);
  assert_int_equal(r->verdict, MLG_VERDICT_PASS);
  assert_int_equal(r->exit_code, 0);
  assert_int_equal(r->gates[MLG_GATE_TRAIN].verdict, MLG_VERDICT_PASS);
  assert_int_equal(r->gates[MLG_GATE_TRAIN].findings, 1);
  assert_int_equal(r->gates[MLG_GATE_TRAIN].blocking, 0);

  /* waived */
  f = add(r, "train/x", "a.py", 2, 1, "waived");
  f->waived = 1;
  mlg_report_decide(r);
  assert_int_equal(r->verdict, MLG_VERDICT_PASS);
  assert_int_equal(r->gates[MLG_GATE_TRAIN].waived, 1);

  /* blocking */
  f = add(r, "train/x", "a.py", 3, 1, "blocking");
  f->blocking = 1;
  mlg_report_decide(r);
  assert_int_equal(r->verdict, MLG_VERDICT_FAIL);
  assert_int_equal(r->exit_code, 1);
  assert_int_equal(r->gates[MLG_GATE_TRAIN].verdict, MLG_VERDICT_FAIL);
  assert_int_equal(r->gates[MLG_GATE_MODEL].verdict, MLG_VERDICT_PASS);
  assert_int_equal(r->gates[MLG_GATE_DEPLOY].verdict, MLG_VERDICT_SKIPPED);
  assert_int_equal(r->gates[MLG_GATE_TRAIN].findings, 3);
  assert_int_equal(r->gates[MLG_GATE_TRAIN].blocking, 1);
  assert_int_equal(r->gates[MLG_GATE_TRAIN].waived, 1);
  /* deciding twice counts once */
  mlg_report_decide(r);
  assert_int_equal(r->gates[MLG_GATE_TRAIN].findings, 3);

  /* an error in another gate outranks the fail */
  assert_int_equal(mlg_report_add_error(r, MLG_GATE_MODEL, "model/y", "m.pkl", "crashed", ""), 0);
  mlg_report_decide(r);
  assert_int_equal(r->verdict, MLG_VERDICT_ERROR);
  assert_int_equal(r->exit_code, 2);
  assert_int_equal(r->gates[MLG_GATE_MODEL].verdict, MLG_VERDICT_ERROR);
  assert_int_equal(r->gates[MLG_GATE_TRAIN].verdict, MLG_VERDICT_FAIL);
  mlg_report_free(r);

  /* an engine error (no gate) with a blocking finding */
  r = new_report();
  r->gates[MLG_GATE_TRAIN].evaluated = 1;
  f = add(r, "train/x", "a.py", 3, 1, "blocking");
  f->blocking = 1;
  assert_int_equal(mlg_report_add_error(r, -1, "", "mlgate.yml", "bad config", ""), 0);
  mlg_report_decide(r);
  assert_int_equal(r->verdict, MLG_VERDICT_ERROR);
  assert_int_equal(r->exit_code, 2);
  assert_int_equal(r->gates[MLG_GATE_TRAIN].verdict, MLG_VERDICT_FAIL);
  /* an error in a gate that was not evaluated still shows */
  assert_int_equal(mlg_report_add_error(r, MLG_GATE_DEPLOY, "", "", "no policies", ""), 0);
  mlg_report_decide(r);
  assert_int_equal(r->gates[MLG_GATE_DEPLOY].verdict, MLG_VERDICT_ERROR);
  mlg_report_free(r);

  assert_string_equal(mlg_verdict_name(MLG_VERDICT_PASS), "pass");
  assert_string_equal(mlg_verdict_name(MLG_VERDICT_FAIL), "fail");
  assert_string_equal(mlg_verdict_name(MLG_VERDICT_ERROR), "error");
  assert_string_equal(mlg_verdict_name(MLG_VERDICT_SKIPPED), "skipped");
}

/* --- sanitising ---------------------------------------------------------------- */

static const char *san(const char *s)
{
  static mlg_buf b;
  mlg_buf_free(&b);
  mlg_sanitize_line(&b, s);
  return b.ptr ? b.ptr : "";
}

static void test_sanitize(void **state)
{
  mlg_buf b = MLG_BUF_INIT;

  assert_string_equal(san("plain text, ünïcödé 日本"), "plain text, ünïcödé 日本");
  assert_string_equal(san(NULL), "");
  assert_string_equal(san("a\nb"), "a\\nb");
  assert_string_equal(san("a\r\nb"), "a\\r\\nb");
  assert_string_equal(san("tab\there"), "tab here");
  assert_string_equal(san("\033[31mred\033[0m"), "\\x1b[31mred\\x1b[0m");
  assert_string_equal(san("bell\a del\x7f"), "bell\\x07 del\\x7f");
  /* C1 controls, encoded in UTF-8: U+0085 (NEL), U+009B (CSI) */
  assert_string_equal(san("x\xc2\x85y\xc2\x9b"), "x\\x85y\\x9b");
  /* invalid UTF-8: stray continuation, overlong, surrogate, truncated, > U+10FFFF */
  assert_string_equal(san("\x80"), "\\x80");
  assert_string_equal(san("\xc0\xaf"), "\\xc0\\xaf");
  assert_string_equal(san("\xed\xa0\x80"), "\\xed\\xa0\\x80");
  assert_string_equal(san("ab\xe2\x82"), "ab\\xe2\\x82");
  assert_string_equal(san("\xf4\x90\x80\x80"), "\\xf4\\x90\\x80\\x80");
  assert_string_equal(san("\xff"), "\\xff");
  /* bidi controls: RLO, LRI, PDI, LRM */
  assert_string_equal(san("a\xe2\x80\xae" "b"), "a\\u{202e}b");
  assert_string_equal(san("\xe2\x81\xa6x\xe2\x81\xa9"), "\\u{2066}x\\u{2069}");
  assert_string_equal(san("\xe2\x80\x8e"), "\\u{200e}");
  /* CI workflow commands at the start of the line */
  assert_string_equal(san("::error::pwned"), "'::error::pwned");
  assert_null(strstr(san("##[error]pwned"), "##["));
  assert_string_equal(san(":single colon"), ":single colon");
  assert_string_equal(san("#[x]"), "#[x]");
  assert_string_equal(san("mid ::error:: is harmless"), "mid ::error:: is harmless");
  /* appends after what is already there; the check is on the new part */
  mlg_buf_puts(&b, "prefix: ");
  mlg_sanitize_line(&b, "::warning::x\n");
  assert_string_equal(b.ptr, "prefix: '::warning::x\\n");
  mlg_buf_free(&b);
  mlg_buf_free(&b);
}

/* The GitHub runner trims leading whitespace before looking for "::", and
 * its legacy parser finds "##[" anywhere in a line (ActionCommand.TryParse
 * uses IndexOf). Sanitised text must not be able to issue a command in
 * either form. */
static int ci_command_in(const char *line)
{
  while (*line == ' ' || *line == '\t')
    line++;
  return strncmp(line, "::", 2) == 0 || strstr(line, "##[") != NULL;
}

static void test_sanitize_ci_commands_anywhere(void **state)
{
  static const char *const hostile[] = {
    " ::error::pwned",
    "   ::add-mask::secret",
    "\t::warning::x",
    "text ##[error]pwned",
    "x ##[set-output name=a]b",
    "a\n##[group]b",
    NULL};
  size_t i;
  int bad = 0;
  for (i = 0; hostile[i]; i++) {
    const char *out = san(hostile[i]);
    if (ci_command_in(out)) {
      print_error("sanitised \"%s\" still issues a CI command: \"%s\"\n", hostile[i], out);
      bad = 1;
    }
  }
  assert_false(bad);
}

static void test_sanitize_text(void **state)
{
  mlg_buf b = MLG_BUF_INIT;
  mlg_sanitize_text(&b, "first\n::error::second\n\033[1mthird", "    ");
  assert_string_equal(b.ptr, "    first\n    '::error::second\n    \\x1b[1mthird");
  mlg_buf_clear(&b);
  mlg_sanitize_text(&b, "one line", NULL);
  assert_string_equal(b.ptr, "one line");
  mlg_buf_clear(&b);
  mlg_sanitize_text(&b, "trailing\n", "> ");
  assert_string_equal(b.ptr, "> trailing\n> ");
  mlg_buf_free(&b);
}

/* --- writers ------------------------------------------------------------------- */

static mlg_report *sample(void)
{
  static const char *const atlas[] = {"AML.T0011.000", "AML.M0016"};
  static const char *const aliases[] = {"catalog:ML-UNSAFE-LOAD"};
  mlg_report *r = new_report();
  mlg_finding *f;
  mlg_node *details;

  r->root = "ws";
  r->files = 12;
  r->bytes = 3456;
  r->policies = 2;
  r->elapsed_ms = 78;
  r->gates[MLG_GATE_TRAIN].evaluated = 1;
  r->gates[MLG_GATE_TRAIN].policies = 2;
  f = add(r, "train/unsafe-load", "src/train.py", 8, 5, "torch.load without weights_only");
  f->blocking = 1;
  f->loc.end_line = 8;
  f->loc.end_column = 20;
  f->atlas = atlas;
  f->natlas = 2;
  f->aliases = aliases;
  f->naliases = 1;
  f->snippet = mlg_report_str(r, "x = torch.load(p)");
  details = mlg_node_map(r->doc);
  mlg_map_set_str(r->doc, details, "module", "torch");
  f->details = details;
  f = add(r, "train/notes", "README.md", 0, 0, "advisory note");
  f->severity = MLG_SEV_LOW;
  f->confidence = MLG_CONF_MEDIUM;
  f->loc.member = mlg_report_str(r, "inner/file");
  f->loc.offset = 1234;
  f = add(r, "train/unsafe-load", "src/old.py", 3, 1, "waived one");
  f->waived = 1;
  f->waiver_reason = mlg_report_str(r, "legacy, tracked in JIRA-1");
  mlg_report_finalize_order(r);
  mlg_report_decide(r);
  return r;
}

static const char *text_of(const mlg_report *r, int color)
{
  static mlg_buf b;
  mlg_report_style st = {color, 0};
  mlg_err e;
  mlg_buf_free(&b);
  assert_int_equal(mlg_report_write_text(&b, r, &st, &e), 0);
  if (getenv("MLG_TEST_DUMP"))
    fputs(b.ptr, stderr);
  return b.ptr;
}

static void expect_keys(const mlg_node *map, const char *const *keys)
{
  size_t i;
  assert_non_null(map);
  assert_int_equal(map->type, MLG_MAP);
  for (i = 0; keys[i]; i++) {
    if (i >= map->u.map.len)
      fail_msg("missing key '%s'", keys[i]);
    if (strcmp(map->u.map.pairs[i].key->u.str.ptr, keys[i]) != 0)
      fail_msg("key %zu: got '%s', expected '%s'", i, map->u.map.pairs[i].key->u.str.ptr,
               keys[i]);
  }
  if (map->u.map.len != i)
    fail_msg("unexpected key '%s'", map->u.map.pairs[i].key->u.str.ptr);
}

static const char *str_at(const mlg_node *map, const char *key)
{
  const mlg_node *n = mlg_map_get(map, key);
  assert_non_null(n);
  assert_int_equal(n->type, MLG_STR);
  return n->u.str.ptr;
}

static int64_t int_at(const mlg_node *map, const char *key)
{
  const mlg_node *n = mlg_map_get(map, key);
  assert_non_null(n);
  assert_int_equal(n->type, MLG_INT);
  return n->u.integer;
}

static void test_json_contract(void **state)
{
  static const char *const root_keys[] = {"schema", "tool", "run", "verdict", "exit_code",
                                          "gates", "findings", "errors", "stats", NULL};
  static const char *const tool_keys[] = {"name", "version", NULL};
  static const char *const run_keys[] = {"runner", "repository", "commit", "base", "event",
                                         "shard", NULL};
  static const char *const gate_keys[] = {"name", "verdict", "policies", "findings", NULL};
  static const char *const finding_keys[] = {"policy", "gate", "severity", "confidence",
                                             "blocking", "message", "location", "atlas",
                                             "aliases", "fingerprint", "waived", "details",
                                             NULL};
  static const char *const loc_keys[] = {"path", "line", "column", "end_line", "end_column",
                                         NULL};
  static const char *const loc_keys_full[] = {"path", "line", "column", "end_line",
                                              "end_column", "member", "offset", NULL};
  static const char *const error_keys[] = {"policy", "path", "message", "where", NULL};
  static const char *const stats_keys[] = {"files", "bytes", "policies", "elapsed_ms", NULL};
  mlg_report *r = sample();
  mlg_buf out = MLG_BUF_INIT, again = MLG_BUF_INIT;
  mlg_doc *doc = NULL;
  const mlg_node *root, *n, *f;
  mlg_err e;

  assert_int_equal(mlg_report_add_error(r, MLG_GATE_TRAIN, "train/crash", "src/x.py",
                                        "policy crashed", "p/train/crash.lua:3"),
                   0);
  mlg_report_finalize_order(r);
  mlg_report_decide(r);
  assert_int_equal(mlg_report_write_json(&out, r, NULL, &e), 0);
  assert_int_equal(out.ptr[out.len - 1], '\n');
  if (mlg_json_parse(&doc, out.ptr, out.len, "report.json", NULL, &e) != 0)
    fail_msg("report JSON does not parse: %s\n%s", e.msg, out.ptr);
  root = doc->root;
  expect_keys(root, root_keys);
  assert_string_equal(str_at(root, "schema"), "mlgate.report/v1");
  expect_keys(mlg_map_get(root, "tool"), tool_keys);
  assert_string_equal(str_at(mlg_map_get(root, "tool"), "name"), "mlgate");
  assert_string_equal(str_at(mlg_map_get(root, "tool"), "version"), MLGATE_VERSION);
  expect_keys(mlg_map_get(root, "run"), run_keys);
  assert_string_equal(str_at(mlg_map_get(root, "run"), "runner"), "local");
  assert_string_equal(str_at(mlg_map_get(root, "run"), "shard"), "1/1");
  assert_string_equal(str_at(root, "verdict"), "error");
  assert_int_equal(int_at(root, "exit_code"), 2);

  n = mlg_map_get(root, "gates");
  assert_int_equal(n->type, MLG_SEQ);
  assert_int_equal(n->u.seq.len, 1); /* only evaluated gates (and gates with errors) */
  expect_keys(n->u.seq.items[0], gate_keys);
  assert_string_equal(str_at(n->u.seq.items[0], "name"), "train");
  assert_string_equal(str_at(n->u.seq.items[0], "verdict"), "error");
  assert_int_equal(int_at(n->u.seq.items[0], "policies"), 2);
  assert_int_equal(int_at(n->u.seq.items[0], "findings"), 3);

  n = mlg_map_get(root, "findings");
  assert_int_equal(n->type, MLG_SEQ);
  assert_int_equal(n->u.seq.len, 3);
  /* sorted by path: README.md, src/old.py, src/train.py */
  f = n->u.seq.items[0];
  expect_keys(f, finding_keys);
  assert_string_equal(str_at(f, "policy"), "train/notes");
  assert_string_equal(str_at(f, "severity"), "low");
  assert_string_equal(str_at(f, "confidence"), "medium");
  expect_keys(mlg_map_get(f, "location"), loc_keys_full);
  assert_string_equal(str_at(mlg_map_get(f, "location"), "member"), "inner/file");
  assert_int_equal(int_at(mlg_map_get(f, "location"), "offset"), 1234);
  assert_int_equal(mlg_map_get(f, "atlas")->u.seq.len, 0);
  assert_int_equal(mlg_map_get(f, "details")->type, MLG_MAP);
  assert_int_equal(mlg_map_get(f, "details")->u.map.len, 0);
  assert_int_equal(mlg_map_get(f, "blocking")->type, MLG_BOOL);
  assert_int_equal(mlg_map_get(f, "blocking")->u.boolean, 0);

  f = n->u.seq.items[1];
  assert_string_equal(str_at(mlg_map_get(f, "location"), "path"), "src/old.py");
  assert_int_equal(mlg_map_get(f, "waived")->u.boolean, 1);

  f = n->u.seq.items[2];
  expect_keys(f, finding_keys);
  assert_string_equal(str_at(f, "policy"), "train/unsafe-load");
  assert_string_equal(str_at(f, "gate"), "train");
  assert_string_equal(str_at(f, "severity"), "high");
  assert_string_equal(str_at(f, "message"), "torch.load without weights_only");
  assert_int_equal(mlg_map_get(f, "blocking")->u.boolean, 1);
  expect_keys(mlg_map_get(f, "location"), loc_keys);
  assert_string_equal(str_at(mlg_map_get(f, "location"), "path"), "src/train.py");
  assert_int_equal(int_at(mlg_map_get(f, "location"), "line"), 8);
  assert_int_equal(int_at(mlg_map_get(f, "location"), "column"), 5);
  assert_int_equal(int_at(mlg_map_get(f, "location"), "end_line"), 8);
  assert_int_equal(int_at(mlg_map_get(f, "location"), "end_column"), 20);
  assert_int_equal(mlg_map_get(f, "atlas")->u.seq.len, 2);
  assert_string_equal(mlg_map_get(f, "atlas")->u.seq.items[1]->u.str.ptr, "AML.M0016");
  assert_string_equal(mlg_map_get(f, "aliases")->u.seq.items[0]->u.str.ptr,
                      "catalog:ML-UNSAFE-LOAD");
  assert_true(is_hex32(str_at(f, "fingerprint")));
  assert_string_equal(str_at(f, "fingerprint"), r->findings[2].fingerprint);
  assert_string_equal(str_at(mlg_map_get(f, "details"), "module"), "torch");

  n = mlg_map_get(root, "errors");
  assert_int_equal(n->u.seq.len, 1);
  expect_keys(n->u.seq.items[0], error_keys);
  assert_string_equal(str_at(n->u.seq.items[0], "where"), "p/train/crash.lua:3");

  expect_keys(mlg_map_get(root, "stats"), stats_keys);
  assert_int_equal(int_at(mlg_map_get(root, "stats"), "files"), 12);
  assert_int_equal(int_at(mlg_map_get(root, "stats"), "bytes"), 3456);
  assert_int_equal(int_at(mlg_map_get(root, "stats"), "policies"), 2);
  assert_int_equal(int_at(mlg_map_get(root, "stats"), "elapsed_ms"), 78);

  /* byte-stable */
  assert_int_equal(mlg_report_write_json(&again, r, NULL, &e), 0);
  assert_int_equal(again.len, out.len);
  assert_memory_equal(again.ptr, out.ptr, out.len);
  /* and through the registry */
  assert_string_equal(mlg_report_writer_find("json")->name, "json");
  assert_ptr_equal(mlg_report_writer_find("json")->write, mlg_report_write_json);
  assert_ptr_equal(mlg_report_writer_find("text")->write, mlg_report_write_text);
  assert_null(mlg_report_writer_find("sarif-x"));
  assert_string_equal(mlg_report_writers()[0].name, "text");

  mlg_doc_free(doc);
  mlg_buf_free(&out);
  mlg_buf_free(&again);
  mlg_report_free(r);
}

static void test_json_hostile_strings(void **state)
{
  mlg_report *r = new_report();
  mlg_buf out = MLG_BUF_INIT;
  mlg_doc *doc = NULL;
  mlg_err e;
  const mlg_node *f;

  r->gates[MLG_GATE_TRAIN].evaluated = 1;
  add(r, "train/x", "bad\xff\xfe.py", 1, 1, "quote \" backslash \\ nul-free \x01 \xc0\xaf end");
  add(r, "train/x", "z.py", 1, 1, "a ##[error]b");
  mlg_report_finalize_order(r);
  mlg_report_decide(r);
  assert_int_equal(mlg_report_write_json(&out, r, NULL, &e), 0);
  if (mlg_json_parse(&doc, out.ptr, out.len, "report.json", NULL, &e) != 0)
    fail_msg("report JSON does not parse: %s\n%s", e.msg, out.ptr);
  f = mlg_map_get(doc->root, "findings")->u.seq.items[0];
  assert_string_equal(str_at(mlg_map_get(f, "location"), "path"), "bad\xef\xbf\xbd\xef\xbf\xbd.py");
  assert_non_null(strstr(str_at(f, "message"), "quote \" backslash \\ nul-free \x01 "));
  /* "##[" is escaped in the bytes (a JSON report printed to a CI log must
   * not issue commands) but is the same string once parsed */
  assert_null(strstr(out.ptr, "##["));
  f = mlg_map_get(doc->root, "findings")->u.seq.items[1];
  assert_string_equal(str_at(f, "message"), "a ##[error]b");
  mlg_doc_free(doc);
  mlg_buf_free(&out);
  mlg_report_free(r);
}

static void test_text_writer(void **state)
{
  mlg_report *r = sample();
  const char *t = text_of(r, 0);

  assert_null(strchr(t, '\033'));
  assert_non_null(strstr(t, "\ntrain gate: fail\n"));
  assert_non_null(strstr(t, "\n  src/train.py:8:5: high: torch.load without weights_only "
                            "[train/unsafe-load] BLOCKING\n"));
  assert_non_null(strstr(t, "\n  README.md[inner/file]@1234: low: advisory note [train/notes] "
                            "advisory\n"));
  assert_non_null(strstr(t, "\n  src/old.py:3:1: high: waived one [train/unsafe-load] waived "
                            "(legacy, tracked in JIRA-1)\n"));
  assert_non_null(strstr(t, "  gate      verdict  policies  findings  blocking  waived\n"));
  assert_non_null(strstr(t, "  train     fail            2         3         1       1\n"));
  assert_non_null(strstr(t, "\n  FAIL: 1 blocking finding in 1 gate; fix it or request a waiver "
                            "(2 policies, 12 files, 78 ms, exit 1)\n"));
  /* colour only when asked */
  t = text_of(r, 1);
  assert_non_null(strstr(t, "\033[31mhigh\033[0m"));
  assert_non_null(strstr(t, "\033[1m\033[31m BLOCKING\033[0m"));
  mlg_report_free(r);
}

static void test_text_pass_and_errors(void **state)
{
  mlg_report *r = new_report();
  const char *t;

  r->gates[MLG_GATE_MODEL].evaluated = 1;
  r->gates[MLG_GATE_MODEL].policies = 1;
  r->policies = 1;
  mlg_report_decide(r);
  t = text_of(r, 0);
  assert_non_null(strstr(t, "\n  PASS: no blocking findings (1 policy, 0 files, 0 ms, exit 0)\n"));
  assert_null(strstr(t, "errors"));

  assert_int_equal(mlg_report_add_error(r, MLG_GATE_MODEL, "model/x", "m.pkl",
                                        "policy crashed\nwith \033[2Jstyle", "p/model/x.lua:4"),
                   0);
  assert_int_equal(mlg_report_add_error(r, -1, "", "mlgate.yml", "mlgate.yml:3:1: bad key",
                                        "mlgate.yml:3:1"),
                   0);
  mlg_report_finalize_order(r);
  mlg_report_decide(r);
  t = text_of(r, 0);
  assert_null(strchr(t, '\033'));
  assert_non_null(strstr(t, "\nerrors (the run fails closed)\n"));
  assert_non_null(strstr(t, "\n  p/model/x.lua:4: error: model/x: policy crashed\\nwith "
                            "\\x1b[2Jstyle (m.pkl)\n"));
  /* the path is not repeated when where names it */
  assert_non_null(strstr(t, "\n  mlgate.yml:3:1: error: mlgate.yml:3:1: bad key\n"));
  assert_non_null(strstr(t, "  model     error           1         0         0       0\n"));
  assert_non_null(strstr(t, "\n  ERROR: 2 errors; fix them and run again (1 policy, 0 files, "
                            "0 ms, exit 2)\n"));
  mlg_report_free(r);
}

static void test_text_hostile_finding(void **state)
{
  mlg_report *r = new_report();
  mlg_finding *f;
  const char *t, *line;
  int bad = 0;

  r->gates[MLG_GATE_PIPELINE].evaluated = 1;
  f = add(r, "pipeline/x", "::error::from-path", 1, 1, "msg\n::error::from-message");
  f->gate = MLG_GATE_PIPELINE;
  f = add(r, "pipeline/x", " ::error file=a::indented-path", 2, 1, "m");
  f->gate = MLG_GATE_PIPELINE;
  f = add(r, "pipeline/x", "a.yml", 3, 1, "see ##[error]legacy-command");
  f->gate = MLG_GATE_PIPELINE;
  mlg_report_finalize_order(r);
  mlg_report_decide(r);
  t = text_of(r, 0);
  for (line = t; line && *line;) {
    const char *nl = strchr(line, '\n');
    char buf[512];
    size_t n = nl ? (size_t)(nl - line) : strlen(line);
    snprintf(buf, sizeof buf, "%.*s", (int)n, line);
    if (ci_command_in(buf)) {
      print_error("report line issues a CI workflow command: \"%s\"\n", buf);
      bad = 1;
    }
    line = nl ? nl + 1 : NULL;
  }
  assert_false(bad);
  mlg_report_free(r);
}

int main(void)
{
  const struct CMUnitTest tests[] = {
    cmocka_unit_test(test_new_defaults),
    cmocka_unit_test(test_many_findings),
    cmocka_unit_test(test_sort_order),
    cmocka_unit_test(test_error_order),
    cmocka_unit_test(test_fingerprint_snippet),
    cmocka_unit_test(test_fingerprint_key_offset_message),
    cmocka_unit_test(test_fingerprint_occurrences),
    cmocka_unit_test(test_decide),
    cmocka_unit_test(test_sanitize),
    cmocka_unit_test(test_sanitize_ci_commands_anywhere),
    cmocka_unit_test(test_sanitize_text),
    cmocka_unit_test(test_json_contract),
    cmocka_unit_test(test_json_hostile_strings),
    cmocka_unit_test(test_text_writer),
    cmocka_unit_test(test_text_pass_and_errors),
    cmocka_unit_test(test_text_hostile_finding),
  };
  alarm(600);
  return cmocka_run_group_tests(tests, NULL, NULL);
}
