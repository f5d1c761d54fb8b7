/*
 * mlg_json_parse and mlg_json_write: positions, numbers, strings, strict
 * grammar, duplicates, limits, writer output and round trips.
 */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "parse.h"

/* --- helpers ------------------------------------------------------------ */

static mlg_doc *parse_n(const char *text, size_t len, const mlg_parse_opts *o)
{
  mlg_doc *doc = NULL;
  mlg_err err = {0};
  int rc = mlg_json_parse(&doc, text, len, "t.json", o, &err);
  if (rc)
    print_error("unexpected error: %s\n", err.msg);
  assert_int_equal(rc, 0);
  assert_non_null(doc);
  assert_int_equal(doc->nroots, 1);
  assert_ptr_equal(doc->root, doc->roots[0]);
  return doc;
}

static mlg_doc *parse(const char *text)
{
  return parse_n(text, strlen(text), NULL);
}

static void expect_err_n(const char *text, size_t len, const mlg_parse_opts *o, int code,
                         const char *msg)
{
  mlg_doc *doc = (mlg_doc *)1;
  mlg_err err = {0};
  int rc = mlg_json_parse(&doc, text, len, "t.json", o, &err);
  if (rc != code || strcmp(err.msg, msg) != 0)
    print_error("input '%.60s': rc %d msg '%s'\n", text, rc, err.msg);
  assert_int_equal(rc, code);
  assert_null(doc);
  assert_string_equal(err.msg, msg);
}

static void expect_err(const char *text, int code, const char *msg)
{
  expect_err_n(text, strlen(text), NULL, code, msg);
}

static void assert_span(const mlg_node *n, uint32_t line, uint32_t col, uint32_t eline,
                        uint32_t ecol, size_t off, size_t eoff)
{
  if (n->span.line != line || n->span.col != col || n->span.end_line != eline ||
      n->span.end_col != ecol || n->span.offset != off || n->span.end_offset != eoff)
    print_error("span %u:%u-%u:%u [%zu,%zu), expected %u:%u-%u:%u [%zu,%zu)\n", n->span.line,
                n->span.col, n->span.end_line, n->span.end_col, n->span.offset,
                n->span.end_offset, line, col, eline, ecol, off, eoff);
  assert_int_equal(n->span.line, line);
  assert_int_equal(n->span.col, col);
  assert_int_equal(n->span.end_line, eline);
  assert_int_equal(n->span.end_col, ecol);
  assert_int_equal(n->span.offset, off);
  assert_int_equal(n->span.end_offset, eoff);
}

static void assert_strn(const mlg_node *n, const char *s, size_t len)
{
  assert_non_null(n);
  assert_int_equal(n->type, MLG_STR);
  assert_int_equal(n->u.str.len, len);
  assert_memory_equal(n->u.str.ptr, s, len);
  assert_int_equal(n->u.str.ptr[len], '\0');
}

static void assert_str(const mlg_node *n, const char *s)
{
  assert_strn(n, s, strlen(s));
}

static double now(void)
{
  struct timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return (double)ts.tv_sec + ts.tv_nsec / 1e9;
}

/* Writes n with flags into a fresh buffer; the caller frees it. */
static char *write_json(const mlg_node *n, int flags)
{
  mlg_buf b = MLG_BUF_INIT;
  mlg_err err = {0};
  int rc = mlg_json_write(&b, n, flags, &err);
  if (rc)
    print_error("write failed: %s\n", err.msg);
  assert_int_equal(rc, 0);
  assert_non_null(b.ptr);
  assert_int_equal(strlen(b.ptr), b.len);
  return mlg_buf_detach(&b);
}

/* "##[" never reaches a CI log as such, also at the end of the output;
 * pretty output indents by depth; a value written at a depth matches the
 * same value written inside the tree. */
static void test_ci_guard_and_depth(void **state)
{
  mlg_doc *doc = NULL;
  mlg_err err = {0};
  mlg_buf b = MLG_BUF_INIT;
  char *out;
  const char *src = "{\"a\":\"##[x\",\"b\":[1,-20,{}],\"c\":\"##[\"}";
  (void)state;
  assert_int_equal(mlg_json_parse(&doc, src, strlen(src), "t", NULL, &err), 0);
  out = write_json(doc->root, 0);
  assert_string_equal(out, "{\"a\":\"##\\u005bx\",\"b\":[1,-20,{}],\"c\":\"##\\u005b\"}");
  free(out);
  out = write_json(doc->root, MLG_JSON_PRETTY);
  assert_string_equal(out, "{\n  \"a\": \"##\\u005bx\",\n  \"b\": [\n    1,\n    -20,\n    {}\n  ],"
                           "\n  \"c\": \"##\\u005b\"\n}");
  free(out);
  /* The list at depth 2, as the tree writer puts it under "b". */
  assert_int_equal(mlg_json_write_at(&b, mlg_map_get(doc->root, "b"), MLG_JSON_PRETTY, 2, &err), 0);
  assert_string_equal(b.ptr, "[\n    1,\n    -20,\n    {}\n  ]");
  mlg_buf_free(&b);
  assert_int_equal(mlg_json_put_string(&b, "q\"\n\x01", 4, 0), 0);
  assert_string_equal(b.ptr, "\"q\\\"\\n\\u0001\"");
  mlg_buf_free(&b);
  mlg_doc_free(doc);
}

static int same(const mlg_node *a, const mlg_node *b)
{
  size_t i;
  if (a->type != b->type)
    return 0;
  switch (a->type) {
  case MLG_BOOL: return a->u.boolean == b->u.boolean;
  case MLG_INT: return a->u.integer == b->u.integer;
  case MLG_FLOAT: return memcmp(&a->u.number, &b->u.number, sizeof(double)) == 0;
  case MLG_STR:
    return a->u.str.len == b->u.str.len && memcmp(a->u.str.ptr, b->u.str.ptr, a->u.str.len) == 0;
  case MLG_SEQ:
    if (a->u.seq.len != b->u.seq.len)
      return 0;
    for (i = 0; i < a->u.seq.len; i++) {
      if (!same(a->u.seq.items[i], b->u.seq.items[i]))
        return 0;
    }
    return 1;
  case MLG_MAP:
    if (a->u.map.len != b->u.map.len)
      return 0;
    for (i = 0; i < a->u.map.len; i++) {
      if (!same(a->u.map.pairs[i].key, b->u.map.pairs[i].key) ||
          !same(a->u.map.pairs[i].val, b->u.map.pairs[i].val))
        return 0;
    }
    return 1;
  default:
    return 1;
  }
}

/* --- positions ------------------------------------------------------------ */

static void test_positions(void **state)
{
  const char *j = "{\n"
                  "  \"name\": \"x\",\n"
                  "  \"list\": [1, true, null],\n"
                  "  \"\xC3\xA9\": {\"k\": -2.5e3}\n"
                  "}";
  mlg_doc *doc = parse(j);
  const mlg_node *r = doc->root, *list, *e;
  (void)state;

  assert_int_equal(r->type, MLG_MAP);
  assert_int_equal(r->style, MLG_STYLE_FLOW);
  assert_span(r, 1, 1, 5, 2, 0, 67);
  assert_str(r->u.map.pairs[0].key, "name");
  assert_int_equal(r->u.map.pairs[0].key->style, MLG_STYLE_DOUBLE);
  assert_span(r->u.map.pairs[0].key, 2, 3, 2, 9, 4, 10);
  assert_span(r->u.map.pairs[0].val, 2, 11, 2, 14, 12, 15);
  assert_int_equal(r->u.map.pairs[0].val->style, MLG_STYLE_DOUBLE);
  list = mlg_map_get(r, "list");
  assert_span(list, 3, 11, 3, 26, 27, 42);
  assert_span(list->u.seq.items[0], 3, 12, 3, 13, 28, 29);
  assert_int_equal(list->u.seq.items[0]->style, MLG_STYLE_PLAIN);
  assert_span(list->u.seq.items[1], 3, 15, 3, 19, 31, 35);
  assert_span(list->u.seq.items[2], 3, 21, 3, 25, 37, 41);
  /* Columns count bytes: the two-byte key moves the colon by two. */
  assert_span(r->u.map.pairs[2].key, 4, 3, 4, 7, 46, 50);
  e = r->u.map.pairs[2].val;
  assert_span(e, 4, 9, 4, 22, 52, 65);
  assert_span(e->u.map.pairs[0].val, 4, 15, 4, 21, 58, 64);
  assert_true(e->u.map.pairs[0].val->u.number == -2500.0);
  mlg_doc_free(doc);
}

static void test_crlf_and_scalar_root(void **state)
{
  mlg_doc *doc = parse("[\r\n1,\r\r\n  \"s\"\n]");
  (void)state;
  assert_span(doc->root, 1, 1, 5, 2, 0, 15);
  assert_span(doc->root->u.seq.items[0], 2, 1, 2, 2, 3, 4);
  assert_span(doc->root->u.seq.items[1], 4, 3, 4, 6, 10, 13);
  mlg_doc_free(doc);

  doc = parse(" \t\n \"only\" \n");
  assert_str(doc->root, "only");
  assert_span(doc->root, 2, 2, 2, 8, 4, 10);
  mlg_doc_free(doc);
}

/* --- numbers ------------------------------------------------------------- */

typedef struct ncase {
  const char *text;
  mlg_ntype type;
  int64_t i;
  double d;
} ncase;

static void test_numbers(void **state)
{
  static const ncase cases[] = {
      {"0", MLG_INT, 0, 0},
      {"-0", MLG_INT, 0, 0},
      {"7", MLG_INT, 7, 0},
      {"-12", MLG_INT, -12, 0},
      {"9223372036854775807", MLG_INT, INT64_MAX, 0},
      {"-9223372036854775808", MLG_INT, INT64_MIN, 0},
      {"9223372036854775808", MLG_FLOAT, 0, 9223372036854775808.0},
      {"-9223372036854775809", MLG_FLOAT, 0, -9223372036854775809.0},
      {"123456789012345678901234567890", MLG_FLOAT, 0, 1.2345678901234568e29},
      {"0.0", MLG_FLOAT, 0, 0.0},
      {"1.5", MLG_FLOAT, 0, 1.5},
      {"-1.5", MLG_FLOAT, 0, -1.5},
      {"1e2", MLG_FLOAT, 0, 100.0},
      {"1E+2", MLG_FLOAT, 0, 100.0},
      {"1e-2", MLG_FLOAT, 0, 0.01},
      {"0e0", MLG_FLOAT, 0, 0.0},
      {"0.1", MLG_FLOAT, 0, 0.1},
      {"5e-324", MLG_FLOAT, 0, 5e-324},
      {"1.7976931348623157e308", MLG_FLOAT, 0, 1.7976931348623157e308},
      {"1e400", MLG_FLOAT, 0, HUGE_VAL},
      {"-1e400", MLG_FLOAT, 0, -HUGE_VAL},
      {"1e-400", MLG_FLOAT, 0, 0.0},
  };
  size_t i;
  (void)state;

  for (i = 0; i < sizeof cases / sizeof cases[0]; i++) {
    mlg_doc *doc = parse(cases[i].text);
    const mlg_node *v = doc->root;
    if (v->type != cases[i].type)
      print_error("'%s' parsed as %s\n", cases[i].text, mlg_node_typename(v));
    assert_int_equal(v->type, cases[i].type);
    if (v->type == MLG_INT)
      assert_true(v->u.integer == cases[i].i);
    else
      assert_true(v->u.number == cases[i].d);
    assert_int_equal(v->span.end_offset, strlen(cases[i].text));
    mlg_doc_free(doc);
  }
}

static void test_number_errors(void **state)
{
  (void)state;
  expect_err("01", MLG_EPARSE, "t.json:1:1: leading zeros are not allowed in numbers");
  expect_err("[-01]", MLG_EPARSE, "t.json:1:2: leading zeros are not allowed in numbers");
  expect_err("+1", MLG_EPARSE, "t.json:1:1: unexpected '+', expected a JSON value");
  expect_err(".5", MLG_EPARSE, "t.json:1:1: unexpected '.', expected a JSON value");
  expect_err("1.", MLG_EPARSE,
             "t.json:1:3: expected a digit after the decimal point, found end of input");
  expect_err("1.e5", MLG_EPARSE,
             "t.json:1:3: expected a digit after the decimal point, found 'e'");
  expect_err("1e", MLG_EPARSE, "t.json:1:3: expected a digit in the exponent, found end of input");
  expect_err("1e+", MLG_EPARSE, "t.json:1:4: expected a digit in the exponent, found end of input");
  expect_err("-", MLG_EPARSE, "t.json:1:2: expected a digit after '-', found end of input");
  expect_err("--1", MLG_EPARSE, "t.json:1:2: expected a digit after '-', found '-'");
  expect_err("-a", MLG_EPARSE, "t.json:1:2: expected a digit after '-', found 'a'");
  expect_err("0x10", MLG_EPARSE, "t.json:1:2: unexpected 'x' after the JSON value");
  expect_err("NaN", MLG_EPARSE, "t.json:1:1: unexpected 'N', expected a JSON value");
  expect_err("Infinity", MLG_EPARSE, "t.json:1:1: unexpected 'I', expected a JSON value");
  expect_err("[1 2]", MLG_EPARSE, "t.json:1:4: expected ',' or ']', found '2'");
}

/* A huge number is still parsed in linear time. */
static void test_long_number(void **state)
{
  size_t n = 1 << 20;
  char *s = malloc(n + 1);
  mlg_doc *doc;
  (void)state;
  memset(s, '9', n);
  s[0] = '1';
  s[1] = '.';
  s[n] = '\0';
  doc = parse_n(s, n, NULL);
  assert_int_equal(doc->root->type, MLG_FLOAT);
  assert_true(doc->root->u.number == 2.0);
  mlg_doc_free(doc);
  free(s);
}

/* --- strings ------------------------------------------------------------- */

static void test_strings(void **state)
{
  mlg_doc *doc = parse("[\"\", \"plain\", \"\\\" \\\\ \\/ \\b \\f \\n \\r \\t\", \"a\\u0000b\","
                       " \"\\u00e9\\u20AC\", \"\\ud83d\\ude00\", \"raw \xC3\xA9\xF0\x9F\x98\x80\","
                       " \"\\uFFFF\"]");
  const mlg_node *r = doc->root;
  (void)state;

  assert_int_equal(r->u.seq.len, 8);
  assert_str(r->u.seq.items[0], "");
  assert_str(r->u.seq.items[1], "plain");
  assert_str(r->u.seq.items[2], "\" \\ / \b \f \n \r \t");
  assert_strn(r->u.seq.items[3], "a\0b", 3);
  assert_str(r->u.seq.items[4], "\xC3\xA9\xE2\x82\xAC");
  assert_str(r->u.seq.items[5], "\xF0\x9F\x98\x80");
  assert_str(r->u.seq.items[6], "raw \xC3\xA9\xF0\x9F\x98\x80");
  assert_str(r->u.seq.items[7], "\xEF\xBF\xBF");
  /* Spans cover the quotes, escapes as written. */
  assert_span(r->u.seq.items[3], 1, 42, 1, 52, 41, 51);
  mlg_doc_free(doc);
}

static void test_string_errors(void **state)
{
  (void)state;
  expect_err("\"\\ud800\"", MLG_EPARSE, "t.json:1:2: lone high surrogate \\uD800 in string");
  expect_err("\"\\ud800\\u0041\"", MLG_EPARSE, "t.json:1:2: lone high surrogate \\uD800 in string");
  expect_err("\"\\ud800x\"", MLG_EPARSE, "t.json:1:2: lone high surrogate \\uD800 in string");
  expect_err("\"ab\\udc00\"", MLG_EPARSE, "t.json:1:4: lone low surrogate \\uDC00 in string");
  expect_err("\"\\u12\"", MLG_EPARSE, "t.json:1:2: \\u must be followed by four hex digits");
  expect_err("\"\\u12g4\"", MLG_EPARSE, "t.json:1:2: \\u must be followed by four hex digits");
  expect_err("\"\\q\"", MLG_EPARSE, "t.json:1:2: invalid escape '\\q' in string");
  expect_err("\"\\'\"", MLG_EPARSE, "t.json:1:2: invalid escape '\\'' in string");
  expect_err("\"\\\x01\"", MLG_EPARSE,
             "t.json:1:2: invalid escape: backslash followed by character U+0001 in string");
  expect_err("\"\\", MLG_EPARSE, "t.json:1:2: unterminated string");
  expect_err("[\"abc", MLG_EPARSE, "t.json:1:2: unterminated string");
  expect_err("\"a\nb\"", MLG_EPARSE, "t.json:1:3: control character U+000A in string must be escaped");
  expect_err("\"a\tb\"", MLG_EPARSE, "t.json:1:3: control character U+0009 in string must be escaped");
  expect_err_n("\"a\0b\"", 5, NULL, MLG_EPARSE,
               "t.json:1:3: control character U+0000 in string must be escaped");
  expect_err("\"\xC0\x80\"", MLG_EPARSE, "t.json:1:2: invalid UTF-8 byte 0xC0 in string");
  expect_err("\"\xE0\x80\x80\"", MLG_EPARSE, "t.json:1:2: invalid UTF-8 byte 0xE0 in string");
  expect_err("\"\xF0\x80\x80\x80\"", MLG_EPARSE, "t.json:1:2: invalid UTF-8 byte 0xF0 in string");
  expect_err("\"\xED\xA0\x80\"", MLG_EPARSE, "t.json:1:2: invalid UTF-8 byte 0xED in string");
  expect_err("\"\xF4\x90\x80\x80\"", MLG_EPARSE, "t.json:1:2: invalid UTF-8 byte 0xF4 in string");
  expect_err("\"\xF5\x80\x80\x80\"", MLG_EPARSE, "t.json:1:2: invalid UTF-8 byte 0xF5 in string");
  expect_err("\"ok\x80\"", MLG_EPARSE, "t.json:1:4: invalid UTF-8 byte 0x80 in string");
  expect_err("\"\xE2\x82\"", MLG_EPARSE, "t.json:1:2: invalid UTF-8 byte 0xE2 in string");
  expect_err("\"\xE2\x82", MLG_EPARSE, "t.json:1:2: invalid UTF-8 byte 0xE2 in string");
}

/* --- grammar ------------------------------------------------------------- */

static void test_grammar_errors(void **state)
{
  (void)state;
  expect_err("", MLG_EPARSE, "t.json:1:1: unexpected end of input, expected a JSON value");
  expect_err(" \n ", MLG_EPARSE, "t.json:2:2: unexpected end of input, expected a JSON value");
  expect_err("\xEF\xBB\xBF{}", MLG_EPARSE,
             "t.json:1:1: byte order mark is not allowed at the start of JSON");
  expect_err("[1,]", MLG_EPARSE, "t.json:1:4: trailing comma before ']'");
  expect_err("{\"a\": 1,}", MLG_EPARSE, "t.json:1:9: trailing comma before '}'");
  expect_err("[,1]", MLG_EPARSE, "t.json:1:2: unexpected ',', expected a JSON value");
  expect_err("{\"a\" 1}", MLG_EPARSE, "t.json:1:6: expected ':' after member name, found '1'");
  expect_err("{a: 1}", MLG_EPARSE, "t.json:1:2: expected a string member name, found 'a'");
  expect_err("{'a': 1}", MLG_EPARSE, "t.json:1:2: expected a string member name, found '''");
  expect_err("{\"a\": 1 \"b\": 2}", MLG_EPARSE, "t.json:1:9: expected ',' or '}', found '\"'");
  expect_err("[1", MLG_EPARSE, "t.json:1:3: unexpected end of input, expected ',' or ']'");
  expect_err("{\"a\":", MLG_EPARSE, "t.json:1:6: unexpected end of input, expected a JSON value");
  expect_err("[1]]", MLG_EPARSE, "t.json:1:4: unexpected ']' after the JSON value");
  expect_err("{} {}", MLG_EPARSE, "t.json:1:4: unexpected '{' after the JSON value");
  expect_err("// c\n1", MLG_EPARSE, "t.json:1:1: unexpected '/', expected a JSON value");
  expect_err("[1] // c", MLG_EPARSE, "t.json:1:5: unexpected '/' after the JSON value");
  expect_err("tru", MLG_EPARSE, "t.json:1:1: invalid literal (expected true, false or null)");
  expect_err("nulL", MLG_EPARSE, "t.json:1:1: invalid literal (expected true, false or null)");
  expect_err("truex", MLG_EPARSE, "t.json:1:5: unexpected 'x' after the JSON value");
  expect_err("True", MLG_EPARSE, "t.json:1:1: unexpected 'T', expected a JSON value");
  expect_err("[\n\n  \xC3\xA9]", MLG_EPARSE,
             "t.json:3:3: unexpected character U+00E9, expected a JSON value");
  expect_err("[\xFF]", MLG_EPARSE, "t.json:1:2: unexpected byte 0xFF, expected a JSON value");
  expect_err_n("[1,\0]", 5, NULL, MLG_EPARSE,
               "t.json:1:4: unexpected character U+0000, expected a JSON value");
  expect_err_n("1\0", 2, NULL, MLG_EPARSE,
               "t.json:1:2: unexpected character U+0000 after the JSON value");
  expect_err("[1]\f", MLG_EPARSE, "t.json:1:4: unexpected character U+000C after the JSON value");
}

static void test_api_edges(void **state)
{
  mlg_doc *doc = NULL;
  mlg_err err = {0};
  (void)state;
  assert_int_equal(mlg_json_parse(NULL, "1", 1, "t.json", NULL, &err), MLG_EINVAL);
  assert_int_equal(mlg_json_parse(&doc, NULL, 1, "t.json", NULL, &err), MLG_EINVAL);
  assert_int_equal(mlg_json_parse(&doc, NULL, 0, "t.json", NULL, &err), MLG_EPARSE);
  assert_string_equal(err.msg, "t.json:1:1: unexpected end of input, expected a JSON value");
  assert_int_equal(mlg_json_parse(&doc, "[", 1, NULL, NULL, &err), MLG_EPARSE);
  assert_string_equal(err.msg, "<input>:1:2: unexpected end of input, expected a JSON value");
  /* No error struct: still fails cleanly. */
  assert_int_equal(mlg_json_parse(&doc, "[", 1, NULL, NULL, NULL), MLG_EPARSE);
  assert_null(doc);
  /* Input need not be NUL-terminated. */
  assert_int_equal(mlg_json_parse(&doc, "12345", 2, "t.json", NULL, &err), 0);
  assert_int_equal(doc->root->u.integer, 12);
  mlg_doc_free(doc);
}

/* --- duplicates and limits ---------------------------------------------------- */

static void test_duplicates(void **state)
{
  mlg_parse_opts o = {0};
  mlg_doc *doc;
  char *big;
  size_t n = 0;
  int i;
  (void)state;

  expect_err("{\"a\": 1,\n \"b\": 2,\n \"a\": 3}", MLG_EPARSE,
             "t.json:3:2: duplicate key 'a' (first at line 1)");
  /* Escapes are decoded before comparing. */
  expect_err("{\"a\": 1, \"\\u0061\": 2}", MLG_EPARSE,
             "t.json:1:10: duplicate key 'a' (first at line 1)");
  expect_err("{\"\\u0000x\": 1, \"\\u0000x\": 2}", MLG_EPARSE,
             "t.json:1:16: duplicate key '\\x00x' (first at line 1)");
  o.allow_duplicates = 1;
  doc = parse_n("{\"a\": 1, \"b\": 2, \"a\": 3}", 24, &o);
  assert_int_equal(doc->root->u.map.len, 2);
  assert_str(doc->root->u.map.pairs[0].key, "a");
  assert_int_equal(doc->root->u.map.pairs[0].val->u.integer, 3);
  mlg_doc_free(doc);

  big = malloc(1 << 20);
  n += (size_t)sprintf(big + n, "{");
  for (i = 0; i < 20000; i++)
    n += (size_t)sprintf(big + n, "\"k%d\": %d,\n", i, i);
  n += (size_t)sprintf(big + n, "\"k777\": 0}");
  expect_err_n(big, n, NULL, MLG_EPARSE, "t.json:20001:1: duplicate key 'k777' (first at line 778)");
  doc = parse_n(big, n, &o);
  assert_int_equal(doc->root->u.map.len, 20000);
  assert_int_equal(mlg_map_get(doc->root, "k777")->u.integer, 0);
  assert_int_equal(mlg_map_get(doc->root, "k19999")->u.integer, 19999);
  mlg_doc_free(doc);
  free(big);
}

static void test_limits(void **state)
{
  mlg_parse_opts o = {0};
  mlg_doc *doc;
  (void)state;

  o.max_depth = 2;
  doc = parse_n("[{\"a\": 1}]", 10, &o);
  mlg_doc_free(doc);
  expect_err_n("[{\"a\": []}]", 11, &o, MLG_ELIMIT, "t.json:1:8: nesting deeper than 2 levels");

  memset(&o, 0, sizeof o);
  o.max_nodes = 4;
  doc = parse_n("{\"a\": [1]}", 10, &o);
  mlg_doc_free(doc);
  expect_err_n("{\"a\": [1, 2]}", 13, &o, MLG_ELIMIT, "t.json:1:11: document has more than 4 nodes");

  memset(&o, 0, sizeof o);
  o.max_bytes = 3;
  expect_err_n("[1] ", 4, &o, MLG_ELIMIT, "t.json:1:1: input of 4 bytes exceeds the limit of 3 bytes");

  memset(&o, 0, sizeof o);
  o.max_doc_bytes = 2048;
  expect_err_n("[1,2,3,4,5,6,7,8,9,10,11,12,13,14,15,16,17,18,19,20,21,22,23,24,25,26,27,28,29]",
               80, &o, MLG_ELIMIT, "t.json:1:47: document needs more than 2048 bytes of memory");
}

static void test_deep_10mb(void **state)
{
  size_t n = 10u << 20;
  char *s = malloc(n);
  double t0 = now();
  (void)state;
  memset(s, '[', n);
  expect_err_n(s, n, NULL, MLG_ELIMIT, "t.json:1:201: nesting deeper than 200 levels");
  for (size_t i = 0; i + 5 < n; i += 6)
    memcpy(s + i, "{\"a\":[", 6);
  expect_err_n(s, n, NULL, MLG_ELIMIT, "t.json:1:601: nesting deeper than 200 levels");
  assert_true(now() - t0 < 1.0);
  free(s);
}

/* --- writer ----------------------------------------------------------------- */

static void test_write_formats(void **state)
{
  mlg_doc *doc = parse("{\"s\": \"\xC3\xA9\\n\", \"i\": -3, \"f\": 0.5, \"b\": false, \"n\": null,"
                       " \"a\": [1, {}], \"e\": [], \"o\": {\"k\": true}}");
  char *out;
  (void)state;

  out = write_json(doc->root, 0);
  assert_string_equal(out, "{\"s\":\"\xC3\xA9\\n\",\"i\":-3,\"f\":0.5,\"b\":false,\"n\":null,"
                           "\"a\":[1,{}],\"e\":[],\"o\":{\"k\":true}}");
  free(out);
  out = write_json(doc->root, MLG_JSON_PRETTY);
  assert_string_equal(out, "{\n"
                           "  \"s\": \"\xC3\xA9\\n\",\n"
                           "  \"i\": -3,\n"
                           "  \"f\": 0.5,\n"
                           "  \"b\": false,\n"
                           "  \"n\": null,\n"
                           "  \"a\": [\n"
                           "    1,\n"
                           "    {}\n"
                           "  ],\n"
                           "  \"e\": [],\n"
                           "  \"o\": {\n"
                           "    \"k\": true\n"
                           "  }\n"
                           "}");
  free(out);
  out = write_json(mlg_map_get(doc->root, "s"), MLG_JSON_ASCII);
  assert_string_equal(out, "\"\\u00E9\\n\"");
  free(out);
  out = write_json(NULL, 0);
  assert_string_equal(out, "null");
  free(out);
  mlg_doc_free(doc);
}

static void test_write_appends_and_is_stable(void **state)
{
  mlg_doc *doc = parse("{\"z\": 1, \"a\": [0.1, 1e300, -0.0, 3.0]}");
  mlg_buf b = MLG_BUF_INIT;
  mlg_err err = {0};
  char *again;
  (void)state;

  mlg_buf_puts(&b, "x=");
  assert_int_equal(mlg_json_write(&b, doc->root, 0, &err), 0);
  /* Key order kept; reals with 17 digits so they read back exactly. */
  assert_string_equal(b.ptr, "x={\"z\":1,\"a\":[0.10000000000000001,1.0000000000000001e300,-0.0,3.0]}");
  again = write_json(doc->root, 0);
  assert_string_equal(b.ptr + 2, again);
  free(again);
  mlg_buf_free(&b);
  mlg_doc_free(doc);
}

static void test_write_sanitises(void **state)
{
  mlg_doc *doc = mlg_doc_new("mem");
  mlg_node *m = mlg_node_map(doc), *s;
  char *out;
  (void)state;

  mlg_map_set(doc, m, "bad", mlg_node_strn(doc, "a\xFF" "b\xC0\x80" "c\xED\xA0\x80", 9));
  mlg_map_set(doc, m, "trunc", mlg_node_strn(doc, "\xE2\x82", 2));
  mlg_map_set(doc, m, "nul", mlg_node_strn(doc, "a\0b", 3));
  mlg_map_set(doc, m, "nan", mlg_node_float(doc, NAN));
  mlg_map_set(doc, m, "inf", mlg_node_float(doc, -HUGE_VAL));
  s = mlg_node_strn(doc, "k\0\xFF", 3);
  mlg_map_put(doc, m, s, mlg_node_int(doc, 1));
  mlg_map_put(doc, m, mlg_node_int(doc, 42), mlg_node_bool(doc, 1));
  out = write_json(m, 0);
  assert_string_equal(out, "{\"bad\":\"a\xEF\xBF\xBD" "b\xEF\xBF\xBD\xEF\xBF\xBD"
                           "c\xEF\xBF\xBD\xEF\xBF\xBD\xEF\xBF\xBD\","
                           "\"trunc\":\"\xEF\xBF\xBD\xEF\xBF\xBD\","
                           "\"nul\":\"a\\u0000b\","
                           "\"nan\":null,\"inf\":null,"
                           "\"k\xEF\xBF\xBD\xEF\xBF\xBD\":1,"
                           "\"42\":true}");
  /* Whatever the tree held, the output parses. */
  {
    mlg_doc *back = parse(out);
    assert_int_equal(back->root->u.map.len, 7);
    mlg_doc_free(back);
  }
  free(out);
  out = write_json(m, MLG_JSON_ASCII);
  assert_non_null(strstr(out, "\"bad\":\"a\\uFFFDb\\uFFFD\\uFFFDc\\uFFFD\\uFFFD\\uFFFD\""));
  free(out);
  mlg_doc_free(doc);
}

/* Found by fuzzing: a parsed member name holding NUL cannot round-trip
 * exactly (jansson keys are C strings); it is written with U+FFFD. */
static void test_write_nul_member_name(void **state)
{
  mlg_doc *doc = parse("{\"wai\\u0000n\\u00e9ved\": false, \"a\\u0000\": 1}");
  char *out = write_json(doc->root, 0);
  (void)state;
  assert_string_equal(out, "{\"wai\xEF\xBF\xBDn\xC3\xA9ved\":false,\"a\xEF\xBF\xBD\":1}");
  free(out);
  out = write_json(doc->root, MLG_JSON_ASCII);
  assert_string_equal(out, "{\"wai\\uFFFDn\\u00E9ved\":false,\"a\\uFFFD\":1}");
  free(out);
  mlg_doc_free(doc);
}

static void test_write_limits(void **state)
{
  mlg_doc *doc = mlg_doc_new("mem"), *y = NULL;
  mlg_node *root = mlg_node_seq(doc), *cur = root;
  mlg_buf b = MLG_BUF_INIT;
  mlg_err err = {0};
  mlg_parse_opts o = {0};
  int i;
  (void)state;

  for (i = 1; i < 1000; i++) {
    mlg_node *next = mlg_node_seq(doc);
    mlg_seq_push(doc, cur, next);
    cur = next;
  }
  /* 1000 levels are fine, 1001 are not. */
  assert_int_equal(mlg_json_write(&b, root, 0, &err), 0);
  assert_int_equal(b.len, 2000);
  b.len = 0;
  mlg_seq_push(doc, cur, mlg_node_seq(doc));
  assert_int_equal(mlg_json_write(&b, root, 0, &err), MLG_ELIMIT);
  assert_string_equal(err.msg, "cannot write JSON nested deeper than 1000 levels");
  /* The buffer is left as it was. */
  assert_int_equal(b.len, 0);

  /* A YAML alias bomb is cheap to parse but would expand when written. */
  o.max_nodes = 1000;
  {
    const char *bomb = "a: &a [x,x,x,x,x,x,x,x,x,x]\n"
                       "b: &b [*a,*a,*a,*a,*a,*a,*a,*a,*a,*a]\n"
                       "c: &c [*b,*b,*b,*b,*b,*b,*b,*b,*b,*b]\n"
                       "d: &d [*c,*c,*c,*c,*c,*c,*c,*c,*c,*c]\n"
                       "e: &e [*d,*d,*d,*d,*d,*d,*d,*d,*d,*d]\n"
                       "f: &f [*e,*e,*e,*e,*e,*e,*e,*e,*e,*e]\n"
                       "g: &g [*f,*f,*f,*f,*f,*f,*f,*f,*f,*f]\n"
                       "h: &h [*g,*g,*g,*g,*g,*g,*g,*g,*g,*g]\n";
    assert_int_equal(mlg_yaml_parse(&y, bomb, strlen(bomb), "bomb.yml", &o, &err), 0);
  }
  assert_int_equal(mlg_json_write(&b, y->root, 0, &err), MLG_ELIMIT);
  assert_string_equal(err.msg, "cannot write JSON of more than 8388608 values (shared nodes expand)");
  /* Shared nodes within the budget are written out in full. */
  b.len = 0;
  assert_int_equal(mlg_json_write(&b, mlg_map_get(y->root, "c"), 0, &err), 0);
  /* a = ["x",...] is 2 + 10 * 3 + 9 bytes, b and c ten of the level below. */
  assert_int_equal(b.len, 2 + 10 * (2 + 10 * (2 + 10 * 3 + 9) + 9) + 9);
  mlg_doc_free(y);
  mlg_buf_free(&b);
  mlg_doc_free(doc);
}

/* parse -> write -> parse gives the same tree, in every format. */
static void test_round_trip(void **state)
{
  const char *j =
      "{\"schema\": \"mlgate.report/v1\", \"findings\": [{\"policy\": \"model/pickle\","
      " \"location\": {\"path\": \"m/a.pt\", \"line\": 0, \"offset\": 1234},"
      " \"details\": {\"module\": \"os\", \"name\": \"system\", \"ratio\": 0.30000000000000004,"
      " \"big\": 1e300, \"neg\": -9223372036854775808, \"tiny\": 5e-324}}],"
      " \"nested\": [[[[{\"deep\": [null, true, false, \"\\u0000\\u001f\\\"\\\\\\ud83d\\ude00\"]}]]]],"
      " \"empty\": {}, \"list\": [], \"uni\": \"\xE6\x97\xA5\xE6\x9C\xAC\"}";
  static const int flags[] = {0, MLG_JSON_PRETTY, MLG_JSON_ASCII,
                              MLG_JSON_PRETTY | MLG_JSON_ASCII};
  mlg_doc *doc = parse(j);
  size_t k;
  (void)state;

  for (k = 0; k < 4; k++) {
    char *out = write_json(doc->root, flags[k]);
    mlg_doc *back = parse(out);
    char *out2 = write_json(back->root, flags[k]);
    assert_true(same(doc->root, back->root));
    assert_string_equal(out, out2);
    if (flags[k] & MLG_JSON_ASCII) {
      for (const char *c = out; *c; c++)
        assert_true((unsigned char)*c < 0x80);
    }
    free(out);
    free(out2);
    mlg_doc_free(back);
  }
  mlg_doc_free(doc);
}

/* YAML trees (merged and aliased nodes included) write as JSON too. */
static void test_yaml_to_json(void **state)
{
  const char *y = ".d: &d {image: python, retry: 2}\n"
                  "job:\n"
                  "  <<: *d\n"
                  "  script: [\"echo 1\", 2.5, ~, yes]\n";
  mlg_parse_opts o = {0};
  mlg_doc *doc = NULL;
  mlg_err err = {0};
  char *out;
  (void)state;

  o.merge_keys = 1;
  assert_int_equal(mlg_yaml_parse(&doc, y, strlen(y), "ci.yml", &o, &err), 0);
  out = write_json(doc->root, 0);
  assert_string_equal(out, "{\".d\":{\"image\":\"python\",\"retry\":2},"
                           "\"job\":{\"image\":\"python\",\"retry\":2,"
                           "\"script\":[\"echo 1\",2.5,null,\"yes\"]}}");
  free(out);
  mlg_doc_free(doc);
}

int main(void)
{
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(test_positions),
      cmocka_unit_test(test_ci_guard_and_depth),
      cmocka_unit_test(test_crlf_and_scalar_root),
      cmocka_unit_test(test_numbers),
      cmocka_unit_test(test_number_errors),
      cmocka_unit_test(test_long_number),
      cmocka_unit_test(test_strings),
      cmocka_unit_test(test_string_errors),
      cmocka_unit_test(test_grammar_errors),
      cmocka_unit_test(test_api_edges),
      cmocka_unit_test(test_duplicates),
      cmocka_unit_test(test_limits),
      cmocka_unit_test(test_deep_10mb),
      cmocka_unit_test(test_write_formats),
      cmocka_unit_test(test_write_appends_and_is_stable),
      cmocka_unit_test(test_write_sanitises),
      cmocka_unit_test(test_write_nul_member_name),
      cmocka_unit_test(test_write_limits),
      cmocka_unit_test(test_round_trip),
      cmocka_unit_test(test_yaml_to_json),
  };
  return cmocka_run_group_tests(tests, NULL, NULL);
}
