/*
 * mlg_yaml_parse: positions, styles, scalar resolution, tags, anchors,
 * merge keys, duplicates, documents, errors and limits.
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

static mlg_doc *parse_opts(const char *text, const mlg_parse_opts *o)
{
  mlg_doc *doc = NULL;
  mlg_err err = {0};
  int rc = mlg_yaml_parse(&doc, text, strlen(text), "t.yml", o, &err);
  if (rc)
    print_error("unexpected error: %s\n", err.msg);
  assert_int_equal(rc, 0);
  assert_non_null(doc);
  return doc;
}

static mlg_doc *parse(const char *text)
{
  return parse_opts(text, NULL);
}

static void expect_err_n(const char *text, size_t len, const mlg_parse_opts *o, int code,
                         const char *msg)
{
  mlg_doc *doc = (mlg_doc *)1;
  mlg_err err = {0};
  int rc = mlg_yaml_parse(&doc, text, len, "t.yml", o, &err);
  assert_int_equal(rc, code);
  assert_null(doc);
  assert_int_equal(err.code, code);
  assert_string_equal(err.msg, msg);
}

static void expect_err(const char *text, const mlg_parse_opts *o, int code, const char *msg)
{
  expect_err_n(text, strlen(text), o, code, msg);
}

static const mlg_node *get(const mlg_node *map, const char *key)
{
  const mlg_node *v = mlg_map_get(map, key);
  if (!v)
    print_error("no key '%s'\n", key);
  assert_non_null(v);
  return v;
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

static void assert_str(const mlg_node *n, const char *s)
{
  assert_non_null(n);
  assert_int_equal(n->type, MLG_STR);
  assert_int_equal(n->u.str.len, strlen(s));
  assert_string_equal(n->u.str.ptr, s);
}

static double now(void)
{
  struct timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return (double)ts.tv_sec + ts.tv_nsec / 1e9;
}

/* --- positions ---------------------------------------------------------- */

static void test_block_positions(void **state)
{
  const char *y = "name: CI\n"
                  "on:\n"
                  "  push:\n"
                  "    branches: [main, dev]\n"
                  "jobs:\n"
                  "  - run: echo hi\n"
                  "    id: 7\n";
  mlg_doc *doc = parse(y);
  const mlg_node *root = doc->root, *on, *push, *br, *jobs, *job;
  const mlg_pair *pr;
  (void)state;

  assert_int_equal(root->type, MLG_MAP);
  assert_int_equal(root->style, MLG_STYLE_BLOCK);
  assert_int_equal(root->u.map.len, 3);
  assert_span(root, 1, 1, 7, 10, 0, 79);

  pr = &root->u.map.pairs[0];
  assert_str(pr->key, "name");
  assert_span(pr->key, 1, 1, 1, 5, 0, 4);
  assert_str(pr->val, "CI");
  assert_span(pr->val, 1, 7, 1, 9, 6, 8);
  assert_int_equal(pr->val->style, MLG_STYLE_PLAIN);

  /* YAML 1.2: "on" is a string key, never a boolean. */
  pr = &root->u.map.pairs[1];
  assert_str(pr->key, "on");
  assert_span(pr->key, 2, 1, 2, 3, 9, 11);
  on = pr->val;
  assert_int_equal(on->type, MLG_MAP);
  /* A block mapping value keeps its own position. */
  assert_span(on, 3, 3, 4, 26, 15, 46);
  push = get(on, "push");
  assert_span(push, 4, 5, 4, 26, 25, 46);
  br = get(push, "branches");
  assert_int_equal(br->type, MLG_SEQ);
  assert_int_equal(br->style, MLG_STYLE_FLOW);
  assert_span(br, 4, 15, 4, 26, 35, 46);
  assert_str(br->u.seq.items[0], "main");
  assert_span(br->u.seq.items[0], 4, 16, 4, 20, 36, 40);
  assert_str(br->u.seq.items[1], "dev");
  assert_span(br->u.seq.items[1], 4, 22, 4, 25, 42, 45);

  jobs = get(root, "jobs");
  assert_int_equal(jobs->type, MLG_SEQ);
  assert_int_equal(jobs->style, MLG_STYLE_BLOCK);
  assert_span(jobs, 6, 3, 7, 10, 55, 79);
  job = jobs->u.seq.items[0];
  assert_span(job, 6, 5, 7, 10, 57, 79);
  assert_str(get(job, "run"), "echo hi");
  assert_span(get(job, "run"), 6, 10, 6, 17, 62, 69);
  assert_int_equal(get(job, "id")->type, MLG_INT);
  assert_int_equal(get(job, "id")->u.integer, 7);
  mlg_doc_free(doc);
}

static void test_flow_positions(void **state)
{
  const char *y = "{a: [1, 2], \"b c\": {d: 'e'}}";
  mlg_doc *doc = parse(y);
  const mlg_node *root = doc->root, *a, *bc;
  (void)state;

  assert_int_equal(root->style, MLG_STYLE_FLOW);
  assert_span(root, 1, 1, 1, 29, 0, 28);
  assert_span(root->u.map.pairs[0].key, 1, 2, 1, 3, 1, 2);
  a = get(root, "a");
  assert_span(a, 1, 5, 1, 11, 4, 10);
  assert_span(a->u.seq.items[1], 1, 9, 1, 10, 8, 9);
  assert_str(root->u.map.pairs[1].key, "b c");
  assert_int_equal(root->u.map.pairs[1].key->style, MLG_STYLE_DOUBLE);
  assert_span(root->u.map.pairs[1].key, 1, 13, 1, 18, 12, 17);
  bc = get(root, "b c");
  assert_span(bc, 1, 20, 1, 28, 19, 27);
  assert_str(get(bc, "d"), "e");
  assert_int_equal(get(bc, "d")->style, MLG_STYLE_SINGLE);
  assert_span(get(bc, "d"), 1, 24, 1, 27, 23, 26);
  mlg_doc_free(doc);
}

/* Columns count characters, offsets count bytes. */
static void test_utf8_positions(void **state)
{
  const char *y = "\xC3\xA9t\xC3\xA9: \xE2\x82\xAC 1\n"
                  "k: \xF0\x9F\x98\x80\n";
  mlg_doc *doc = parse(y);
  const mlg_pair *p0 = &doc->root->u.map.pairs[0], *p1 = &doc->root->u.map.pairs[1];
  (void)state;

  assert_str(p0->key, "\xC3\xA9t\xC3\xA9");
  assert_span(p0->key, 1, 1, 1, 4, 0, 5);
  assert_str(p0->val, "\xE2\x82\xAC 1");
  assert_span(p0->val, 1, 6, 1, 9, 7, 12);
  assert_span(p1->key, 2, 1, 2, 2, 13, 14);
  assert_span(p1->val, 2, 4, 2, 5, 16, 20);
  mlg_doc_free(doc);
}

static void test_bom_and_crlf(void **state)
{
  const char *y = "\xEF\xBB\xBF"
                  "a: 1\r\n"
                  "b:\r\n"
                  "  - x\r\n";
  mlg_doc *doc = parse(y);
  const mlg_node *b;
  (void)state;

  /* The BOM is not a column; offsets still count its bytes. */
  assert_span(doc->root->u.map.pairs[0].key, 1, 1, 1, 2, 3, 4);
  assert_span(get(doc->root, "a"), 1, 4, 1, 5, 6, 7);
  b = get(doc->root, "b");
  assert_span(b, 3, 3, 3, 6, 15, 18);
  assert_str(b->u.seq.items[0], "x");
  assert_span(b->u.seq.items[0], 3, 5, 3, 6, 17, 18);
  mlg_doc_free(doc);
}

/* --- scalars ------------------------------------------------------------ */

static void test_block_scalars(void **state)
{
  const char *y = "lit: |\n"
                  "  a\n"
                  "    b\n"
                  "\n"
                  "strip: |-\n"
                  "  a\n"
                  "\n"
                  "keep: |+\n"
                  "  a\n"
                  "\n"
                  "fold: >\n"
                  "  a\n"
                  "  b\n"
                  "\n"
                  "  c\n"
                  "fstrip: >-\n"
                  "  a\n"
                  "  b\n"
                  "indent: |2\n"
                  "   x\n"
                  "empty: |\n"
                  "end: 1\n";
  mlg_doc *doc = parse(y);
  const mlg_node *r = doc->root;
  (void)state;

  assert_str(get(r, "lit"), "a\n  b\n");
  assert_int_equal(get(r, "lit")->style, MLG_STYLE_LITERAL);
  assert_int_equal(get(r, "lit")->span.line, 1);
  assert_int_equal(get(r, "lit")->span.col, 6);
  assert_str(get(r, "strip"), "a");
  assert_str(get(r, "keep"), "a\n\n");
  assert_str(get(r, "fold"), "a b\nc\n");
  assert_int_equal(get(r, "fold")->style, MLG_STYLE_FOLDED);
  assert_str(get(r, "fstrip"), "a b");
  assert_str(get(r, "indent"), " x\n");
  assert_str(get(r, "empty"), "");
  assert_int_equal(get(r, "empty")->type, MLG_STR);
  mlg_doc_free(doc);
}

static void test_quoted_scalars(void **state)
{
  const char *y = "s: 'it''s'\n"
                  "d: \"tab\\t\\u00e9\\x41\\U0001F600\"\n"
                  "n: \"a\\0b\"\n"
                  "q: \"12\"\n"
                  "t: 'true'\n";
  mlg_doc *doc = parse(y);
  const mlg_node *r = doc->root, *n;
  (void)state;

  assert_str(get(r, "s"), "it's");
  assert_int_equal(get(r, "s")->style, MLG_STYLE_SINGLE);
  assert_str(get(r, "d"), "tab\t\xC3\xA9"
                          "A\xF0\x9F\x98\x80");
  assert_int_equal(get(r, "d")->style, MLG_STYLE_DOUBLE);
  n = get(r, "n");
  assert_int_equal(n->type, MLG_STR);
  assert_int_equal(n->u.str.len, 3);
  assert_memory_equal(n->u.str.ptr, "a\0b", 4);
  /* Quoted scalars are never resolved. */
  assert_str(get(r, "q"), "12");
  assert_str(get(r, "t"), "true");
  mlg_doc_free(doc);
}

typedef struct rcase {
  const char *text;
  mlg_ntype type;
  int64_t i;
  double d;
} rcase;

static void test_resolution_table(void **state)
{
  static const rcase cases[] = {
      {"", MLG_NULL, 0, 0},
      {"~", MLG_NULL, 0, 0},
      {"null", MLG_NULL, 0, 0},
      {"Null", MLG_NULL, 0, 0},
      {"NULL", MLG_NULL, 0, 0},
      {"nULL", MLG_STR, 0, 0},
      {"true", MLG_BOOL, 1, 0},
      {"True", MLG_BOOL, 1, 0},
      {"TRUE", MLG_BOOL, 1, 0},
      {"false", MLG_BOOL, 0, 0},
      {"False", MLG_BOOL, 0, 0},
      {"FALSE", MLG_BOOL, 0, 0},
      {"tRUE", MLG_STR, 0, 0},
      /* YAML 1.1 booleans are strings in 1.2. */
      {"yes", MLG_STR, 0, 0},
      {"no", MLG_STR, 0, 0},
      {"on", MLG_STR, 0, 0},
      {"off", MLG_STR, 0, 0},
      {"y", MLG_STR, 0, 0},
      {"0", MLG_INT, 0, 0},
      {"-0", MLG_INT, 0, 0},
      {"+12", MLG_INT, 12, 0},
      {"-12", MLG_INT, -12, 0},
      {"007", MLG_INT, 7, 0},
      {"0o17", MLG_INT, 15, 0},
      {"0o", MLG_STR, 0, 0},
      {"0o8", MLG_STR, 0, 0},
      {"0x1F", MLG_INT, 31, 0},
      {"0xff", MLG_INT, 255, 0},
      {"0x", MLG_STR, 0, 0},
      {"0xg", MLG_STR, 0, 0},
      {"-0x1", MLG_STR, 0, 0},
      {"0b101", MLG_STR, 0, 0},
      {"1_000", MLG_STR, 0, 0},
      {"9223372036854775807", MLG_INT, INT64_MAX, 0},
      {"-9223372036854775808", MLG_INT, INT64_MIN, 0},
      {"9223372036854775808", MLG_FLOAT, 0, 9223372036854775808.0},
      {"-9223372036854775809", MLG_FLOAT, 0, -9223372036854775809.0},
      {"0x7FFFFFFFFFFFFFFF", MLG_INT, INT64_MAX, 0},
      {"0xFFFFFFFFFFFFFFFF", MLG_FLOAT, 0, 18446744073709551615.0},
      {"0x10000000000000000", MLG_FLOAT, 0, 18446744073709551616.0},
      {"1.5", MLG_FLOAT, 0, 1.5},
      {"-1.5e3", MLG_FLOAT, 0, -1500},
      {"1e3", MLG_FLOAT, 0, 1000},
      {"1E-2", MLG_FLOAT, 0, 0.01},
      {".5", MLG_FLOAT, 0, 0.5},
      {"+.5", MLG_FLOAT, 0, 0.5},
      {"1.", MLG_FLOAT, 0, 1},
      {".", MLG_STR, 0, 0},
      {"1e", MLG_STR, 0, 0},
      {"e3", MLG_STR, 0, 0},
      {"1.2.3", MLG_STR, 0, 0},
      {".inf", MLG_FLOAT, 0, HUGE_VAL},
      {".Inf", MLG_FLOAT, 0, HUGE_VAL},
      {"+.INF", MLG_FLOAT, 0, HUGE_VAL},
      {"-.inf", MLG_FLOAT, 0, -HUGE_VAL},
      {".iNF", MLG_STR, 0, 0},
      {"inf", MLG_STR, 0, 0},
      {"12:30", MLG_STR, 0, 0},
      {"2024-01-01", MLG_STR, 0, 0},
      {"1 2", MLG_STR, 0, 0},
  };
  size_t i;
  (void)state;

  for (i = 0; i < sizeof cases / sizeof cases[0]; i++) {
    char text[128];
    mlg_doc *doc;
    const mlg_node *v;
    snprintf(text, sizeof text, "v: %s\n", cases[i].text);
    doc = parse(text);
    v = get(doc->root, "v");
    if (v->type != cases[i].type)
      print_error("'%s' resolved to %s\n", cases[i].text, mlg_node_typename(v));
    assert_int_equal(v->type, cases[i].type);
    switch (cases[i].type) {
    case MLG_BOOL: assert_int_equal(v->u.boolean, cases[i].i); break;
    case MLG_INT: assert_true(v->u.integer == cases[i].i); break;
    case MLG_FLOAT: assert_true(v->u.number == cases[i].d); break;
    case MLG_STR: assert_str(v, cases[i].text); break;
    default: break;
    }
    mlg_doc_free(doc);
  }
  {
    mlg_doc *doc = parse("a: .nan\nb: .NaN\nc: .NAN\nd: .nAn\n");
    assert_true(isnan(get(doc->root, "a")->u.number));
    assert_true(isnan(get(doc->root, "b")->u.number));
    assert_true(isnan(get(doc->root, "c")->u.number));
    assert_str(get(doc->root, "d"), ".nAn");
    mlg_doc_free(doc);
  }
}

/* Keys are strings holding their text, whatever they look like. */
static void test_keys_are_strings(void **state)
{
  mlg_doc *doc = parse("1: a\ntrue: b\nnull: c\n~: d\n0x10: e\n? \n: f\n");
  const mlg_node *r = doc->root;
  (void)state;
  assert_str(r->u.map.pairs[0].key, "1");
  assert_str(r->u.map.pairs[1].key, "true");
  assert_str(r->u.map.pairs[2].key, "null");
  assert_str(r->u.map.pairs[3].key, "~");
  assert_str(r->u.map.pairs[4].key, "0x10");
  assert_str(r->u.map.pairs[5].key, "");
  assert_str(r->u.map.pairs[5].val, "f");
  mlg_doc_free(doc);
}

/* --- tags ---------------------------------------------------------------- */

static void test_tags(void **state)
{
  const char *y = "a: !!str 12\n"
                  "b: !!int \"12\"\n"
                  "c: !!float 1\n"
                  "d: !!bool 'true'\n"
                  "e: !!null ''\n"
                  "f: !reference [.setup, script]\n"
                  "g: !Ref MyBucket\n"
                  "h: ! 12\n"
                  "i: !!binary aGk=\n"
                  "j: !!map {k: v}\n"
                  "k: !!int 0x10\n"
                  "!!str l: !!seq [1]\n";
  mlg_doc *doc = parse(y);
  const mlg_node *r = doc->root, *f;
  (void)state;

  assert_str(get(r, "a"), "12");
  assert_string_equal(get(r, "a")->tag, "tag:yaml.org,2002:str");
  assert_int_equal(get(r, "b")->type, MLG_INT);
  assert_int_equal(get(r, "b")->u.integer, 12);
  assert_int_equal(get(r, "b")->style, MLG_STYLE_DOUBLE);
  assert_int_equal(get(r, "c")->type, MLG_FLOAT);
  assert_true(get(r, "c")->u.number == 1.0);
  assert_int_equal(get(r, "d")->type, MLG_BOOL);
  assert_int_equal(get(r, "d")->u.boolean, 1);
  assert_int_equal(get(r, "e")->type, MLG_NULL);
  f = get(r, "f");
  assert_int_equal(f->type, MLG_SEQ);
  assert_string_equal(f->tag, "!reference");
  assert_str(f->u.seq.items[0], ".setup");
  assert_str(get(r, "g"), "MyBucket");
  assert_string_equal(get(r, "g")->tag, "!Ref");
  assert_str(get(r, "h"), "12");
  assert_string_equal(get(r, "h")->tag, "!");
  assert_str(get(r, "i"), "aGk=");
  assert_string_equal(get(r, "i")->tag, "tag:yaml.org,2002:binary");
  assert_int_equal(get(r, "j")->type, MLG_MAP);
  assert_string_equal(get(r, "j")->tag, "tag:yaml.org,2002:map");
  assert_int_equal(get(r, "k")->u.integer, 16);
  assert_str(r->u.map.pairs[11].key, "l");
  assert_string_equal(r->u.map.pairs[11].key->tag, "tag:yaml.org,2002:str");
  assert_null(get(r, "j")->anchor);
  assert_null(r->u.map.pairs[0].key->tag);
  mlg_doc_free(doc);
}

static void test_tag_errors(void **state)
{
  (void)state;
  expect_err("a: !!int abc\n", NULL, MLG_EPARSE, "t.yml:1:4: 'abc' is not a valid !!int value");
  expect_err("a: !!int 99999999999999999999\n", NULL, MLG_EPARSE,
             "t.yml:1:4: integer '99999999999999999999' does not fit in 64 bits");
  expect_err("a: !!int 1.5\n", NULL, MLG_EPARSE, "t.yml:1:4: '1.5' is not a valid !!int value");
  expect_err("a: !!float x\n", NULL, MLG_EPARSE, "t.yml:1:4: 'x' is not a valid !!float value");
  expect_err("a: !!bool yes\n", NULL, MLG_EPARSE, "t.yml:1:4: 'yes' is not a valid !!bool value");
  expect_err("a: !!null 0\n", NULL, MLG_EPARSE, "t.yml:1:4: '0' is not a valid !!null value");
  expect_err("a: !!seq x\n", NULL, MLG_EPARSE, "t.yml:1:4: tag !!seq cannot be used on a scalar");
  expect_err("a: !!str [1]\n", NULL, MLG_EPARSE,
             "t.yml:1:4: tag !!str cannot be used on a sequence");
  expect_err("a: !!seq {b: 1}\n", NULL, MLG_EPARSE,
             "t.yml:1:4: tag !!seq cannot be used on a mapping");
}

/* --- anchors and aliases ---------------------------------------------------- */

static void test_anchors_share_nodes(void **state)
{
  const char *y = "base: &b\n"
                  "  k: v\n"
                  "s: &s hello\n"
                  "copy: *b\n"
                  "list: [*s, *b]\n"
                  "*s : keyed\n"
                  "re: &s again\n"
                  "use: *s\n";
  mlg_doc *doc = parse(y);
  const mlg_node *r = doc->root, *base = get(r, "base");
  (void)state;

  assert_string_equal(base->anchor, "b");
  assert_ptr_equal(get(r, "copy"), base);
  assert_ptr_equal(get(r, "list")->u.seq.items[1], base);
  assert_ptr_equal(get(r, "list")->u.seq.items[0], get(r, "s"));
  assert_string_equal(get(r, "s")->anchor, "s");
  /* An alias used as a key is the anchored string node itself. */
  assert_ptr_equal(r->u.map.pairs[4].key, get(r, "s"));
  assert_str(r->u.map.pairs[4].val, "keyed");
  /* A redefined anchor names the new node from there on. */
  assert_str(get(r, "use"), "again");
  assert_ptr_equal(get(r, "use"), get(r, "re"));
  /* The alias keeps the anchored node's own position, which starts at
   * its properties. */
  assert_int_equal(get(r, "copy")->span.line, 1);
  assert_int_equal(get(r, "copy")->span.col, 7);
  mlg_doc_free(doc);
}

static void test_alias_errors(void **state)
{
  (void)state;
  expect_err("a: 1\nb: *nope\n", NULL, MLG_EPARSE, "t.yml:2:4: undefined alias '*nope'");
  expect_err("a: &x [1, *x]\n", NULL, MLG_EPARSE,
             "t.yml:1:11: alias '*x' refers to a node that contains it "
             "(recursive aliases are not supported)");
  expect_err("a: &x {b: *x}\n", NULL, MLG_EPARSE,
             "t.yml:1:11: alias '*x' refers to a node that contains it "
             "(recursive aliases are not supported)");
  expect_err("a: &n 1\n*n : x\n", NULL, MLG_EPARSE,
             "t.yml:2:1: an alias used as a mapping key must name a string, not an integer");
  expect_err("a: &m {b: 1}\n*m : x\n", NULL, MLG_EPARSE,
             "t.yml:2:1: complex mapping keys are not supported");
  expect_err("? [a, b]\n: 1\n", NULL, MLG_EPARSE,
             "t.yml:1:3: complex mapping keys are not supported");
  expect_err("{? {a: 1}: 1}\n", NULL, MLG_EPARSE,
             "t.yml:1:4: complex mapping keys are not supported");
}

/* Billion laughs: aliases share, so nine levels of nine cost nine nodes
 * a level. */
static void test_billion_laughs(void **state)
{
  const char *y = "a: &a [lol,lol,lol,lol,lol,lol,lol,lol,lol]\n"
                  "b: &b [*a,*a,*a,*a,*a,*a,*a,*a,*a]\n"
                  "c: &c [*b,*b,*b,*b,*b,*b,*b,*b,*b]\n"
                  "d: &d [*c,*c,*c,*c,*c,*c,*c,*c,*c]\n"
                  "e: &e [*d,*d,*d,*d,*d,*d,*d,*d,*d]\n"
                  "f: &f [*e,*e,*e,*e,*e,*e,*e,*e,*e]\n"
                  "g: &g [*f,*f,*f,*f,*f,*f,*f,*f,*f]\n"
                  "h: &h [*g,*g,*g,*g,*g,*g,*g,*g,*g]\n"
                  "i: &i [*h,*h,*h,*h,*h,*h,*h,*h,*h]\n";
  mlg_parse_opts o = {0};
  mlg_doc *doc;
  double t0 = now();
  (void)state;

  o.max_nodes = 100; /* 9 keys + 9 sequences + 9 strings = 27 nodes */
  doc = parse_opts(y, &o);
  assert_true(now() - t0 < 1.0);
  assert_ptr_equal(get(doc->root, "i")->u.seq.items[8], get(doc->root, "h"));
  assert_true(doc->used_bytes < 64 * 1024);
  mlg_doc_free(doc);
}

/* --- merge keys ------------------------------------------------------------ */

static void test_merge_gitlab(void **state)
{
  const char *y = ".defaults: &defaults\n"
                  "  image: python:3.11\n"
                  "  retry: 2\n"
                  "  tags: [docker]\n"
                  "build:\n"
                  "  stage: build\n"
                  "  <<: *defaults\n"
                  "  retry: 0\n";
  mlg_parse_opts o = {0};
  mlg_doc *doc;
  const mlg_node *build, *defs;
  (void)state;

  o.merge_keys = 1;
  doc = parse_opts(y, &o);
  build = get(doc->root, "build");
  defs = get(doc->root, ".defaults");
  assert_int_equal(build->u.map.len, 4);
  /* Merged pairs take the place of "<<", explicit keys win even when
   * written after it. */
  assert_str(build->u.map.pairs[0].key, "stage");
  assert_str(build->u.map.pairs[1].key, "image");
  assert_str(build->u.map.pairs[2].key, "tags");
  assert_str(build->u.map.pairs[3].key, "retry");
  assert_int_equal(get(build, "retry")->u.integer, 0);
  /* Merged pairs are the source's nodes, with their positions. */
  assert_ptr_equal(get(build, "image"), get(defs, "image"));
  assert_ptr_equal(build->u.map.pairs[1].key, defs->u.map.pairs[0].key);
  assert_int_equal(get(build, "image")->span.line, 2);
  assert_int_equal(get(build, "image")->span.col, 10);
  assert_null(mlg_map_get(build, "<<"));
  mlg_doc_free(doc);
}

static void test_merge_list(void **state)
{
  const char *y = "a: &a {x: a1, y: a2}\n"
                  "b: &b {y: b2, z: b3, w: b4}\n"
                  "c:\n"
                  "  <<: [*a, *b, {w: inline, v: i5}]\n"
                  "  z: own\n";
  mlg_parse_opts o = {0};
  mlg_doc *doc;
  const mlg_node *c;
  (void)state;

  o.merge_keys = 1;
  doc = parse_opts(y, &o);
  c = get(doc->root, "c");
  assert_int_equal(c->u.map.len, 5);
  /* Earlier sources win over later ones. */
  assert_str(c->u.map.pairs[0].key, "x");
  assert_str(c->u.map.pairs[0].val, "a1");
  assert_str(c->u.map.pairs[1].key, "y");
  assert_str(c->u.map.pairs[1].val, "a2");
  assert_str(c->u.map.pairs[2].key, "w");
  assert_str(c->u.map.pairs[2].val, "b4");
  assert_str(c->u.map.pairs[3].key, "v");
  assert_str(c->u.map.pairs[4].key, "z");
  assert_str(c->u.map.pairs[4].val, "own");
  mlg_doc_free(doc);
}

static void test_merge_off_and_quoted(void **state)
{
  const char *y = "a: &a {x: 1}\n"
                  "b: {<<: *a, y: 2}\n"
                  "c: {\"<<\": *a}\n";
  mlg_parse_opts o = {0};
  mlg_doc *doc;
  (void)state;

  /* Without merge_keys "<<" is an ordinary key. */
  doc = parse(y);
  assert_ptr_equal(get(get(doc->root, "b"), "<<"), get(doc->root, "a"));
  mlg_doc_free(doc);

  /* A quoted "<<" is never a merge key. */
  o.merge_keys = 1;
  doc = parse_opts(y, &o);
  assert_int_equal(get(doc->root, "b")->u.map.len, 2);
  assert_int_equal(get(get(doc->root, "b"), "x")->u.integer, 1);
  assert_ptr_equal(get(get(doc->root, "c"), "<<"), get(doc->root, "a"));
  mlg_doc_free(doc);
}

static void test_merge_errors(void **state)
{
  mlg_parse_opts o = {0};
  (void)state;
  o.merge_keys = 1;
  expect_err("a: &a 1\nb:\n  <<: *a\n", &o, MLG_EPARSE,
             "t.yml:3:7: merge key '<<' needs a mapping or a sequence of mappings, "
             "not an integer");
  expect_err("a: &a {x: 1}\nb:\n  <<: [*a, 2]\n", &o, MLG_EPARSE,
             "t.yml:3:12: merge key '<<' needs mappings, found an integer in its sequence");
  expect_err("a: &a {x: 1}\nb:\n  <<: *a\n  <<: *a\n", &o, MLG_EPARSE,
             "t.yml:4:3: duplicate key '<<' (first at line 3)");
  expect_err("a: {x: 1}\nb:\n  <<:\n", &o, MLG_EPARSE,
             "t.yml:3:6: merge key '<<' needs a mapping or a sequence of mappings, not a null");
}

/* Merging big mappings into many mappings is bounded by max_nodes. */
static void test_merge_bomb(void **state)
{
  mlg_parse_opts o = {0};
  mlg_doc *doc;
  char *y = malloc(1 << 20);
  size_t n = 0;
  int i;
  (void)state;

  n += (size_t)sprintf(y + n, "a: &a {");
  for (i = 0; i < 1000; i++)
    n += (size_t)sprintf(y + n, "k%d: %d, ", i, i);
  n += (size_t)sprintf(y + n, "end: 1}\nl:\n");
  for (i = 0; i < 2000; i++)
    n += (size_t)sprintf(y + n, "- {<<: [*a, *a, *a, *a, *a, *a, *a, *a]}\n");
  o.merge_keys = 1;
  o.max_nodes = 100000;
  expect_err_n(y, n, &o, MLG_ELIMIT, "t.yml:15:3: merge keys expand to more than 100000 nodes");
  o.max_nodes = 0;
  /* The default cap (4 Mi) is reached too, in bounded time. */
  {
    mlg_err err = {0};
    double t0 = now();
    int rc = mlg_yaml_parse(&doc, y, n, "t.yml", &o, &err);
    assert_int_equal(rc, MLG_ELIMIT);
    assert_true(now() - t0 < 5.0);
  }
  free(y);
}

/* --- duplicates ------------------------------------------------------------ */

static void test_duplicates(void **state)
{
  mlg_parse_opts o = {0};
  mlg_doc *doc;
  char *big;
  size_t n = 0;
  int i;
  (void)state;

  expect_err("a: 1\nb: 2\na: 3\n", NULL, MLG_EPARSE, "t.yml:3:1: duplicate key 'a' (first at line 1)");
  expect_err("x:\n  \"k\": 1\n  'k': 2\n", NULL, MLG_EPARSE,
             "t.yml:3:3: duplicate key 'k' (first at line 2)");
  expect_err("{a: 1, a: 2}", NULL, MLG_EPARSE, "t.yml:1:8: duplicate key 'a' (first at line 1)");
  /* Keys are compared as text: 1 and "1" are the same key. */
  expect_err("1: a\n\"1\": b\n", NULL, MLG_EPARSE, "t.yml:2:1: duplicate key '1' (first at line 1)");
  expect_err("? \"\\x01'\\\\\"\n: 1\n? \"\\x01'\\\\\"\n: 2\n", NULL, MLG_EPARSE,
             "t.yml:3:3: duplicate key '\\x01\\'\\\\' (first at line 1)");

  o.allow_duplicates = 1;
  doc = parse_opts("a: 1\nb: 2\na: 3\n", &o);
  /* Last wins, in the first one's place. */
  assert_int_equal(doc->root->u.map.len, 2);
  assert_str(doc->root->u.map.pairs[0].key, "a");
  assert_int_equal(doc->root->u.map.pairs[0].key->span.line, 1);
  assert_int_equal(doc->root->u.map.pairs[0].val->u.integer, 3);
  assert_int_equal(doc->root->u.map.pairs[0].val->span.line, 3);
  mlg_doc_free(doc);

  /* Big mappings use the hash index: same answers. */
  big = malloc(1 << 20);
  for (i = 0; i < 20000; i++)
    n += (size_t)sprintf(big + n, "key%d: %d\n", i, i);
  n += (size_t)sprintf(big + n, "key12345: dup\n");
  expect_err_n(big, n, NULL, MLG_EPARSE, "t.yml:20001:1: duplicate key 'key12345' (first at line 12346)");
  doc = NULL;
  {
    mlg_err err = {0};
    assert_int_equal(mlg_yaml_parse(&doc, big, n, "t.yml", &o, &err), 0);
    assert_int_equal(doc->root->u.map.len, 20000);
    assert_str(get(doc->root, "key12345"), "dup");
    assert_int_equal(get(doc->root, "key19999")->u.integer, 19999);
    mlg_doc_free(doc);
  }
  free(big);
}

/* --- documents ------------------------------------------------------------- */

static void test_documents(void **state)
{
  const char *y = "%YAML 1.2\n"
                  "---\n"
                  "a: &x 1\n"
                  "...\n"
                  "--- 2\n"
                  "---\n"
                  "---\n"
                  "- c\n";
  mlg_parse_opts o = {0};
  mlg_doc *doc;
  (void)state;

  doc = parse(y);
  assert_int_equal(doc->nroots, 1);
  assert_ptr_equal(doc->root, doc->roots[0]);
  assert_int_equal(get(doc->root, "a")->u.integer, 1);
  mlg_doc_free(doc);

  o.all_documents = 1;
  doc = parse_opts(y, &o);
  assert_int_equal(doc->nroots, 4);
  assert_ptr_equal(doc->root, doc->roots[0]);
  assert_int_equal(doc->roots[1]->type, MLG_INT);
  assert_int_equal(doc->roots[1]->u.integer, 2);
  assert_int_equal(doc->roots[1]->span.line, 5);
  assert_int_equal(doc->roots[2]->type, MLG_NULL);
  assert_int_equal(doc->roots[3]->type, MLG_SEQ);
  mlg_doc_free(doc);

  /* Anchors do not cross documents. */
  expect_err("a: &x 1\n---\nb: *x\n", &o, MLG_EPARSE, "t.yml:3:4: undefined alias '*x'");
}

static void test_empty_streams(void **state)
{
  mlg_doc *doc;
  mlg_err err = {0};
  (void)state;

  doc = parse("");
  assert_null(doc->root);
  assert_int_equal(doc->nroots, 0);
  mlg_doc_free(doc);
  doc = parse("# only a comment\n\n");
  assert_null(doc->root);
  mlg_doc_free(doc);
  doc = parse("---\n");
  assert_non_null(doc->root);
  assert_int_equal(doc->root->type, MLG_NULL);
  mlg_doc_free(doc);
  assert_int_equal(mlg_yaml_parse(&doc, NULL, 0, "t.yml", NULL, &err), 0);
  assert_null(doc->root);
  assert_string_equal(doc->name, "t.yml");
  mlg_doc_free(doc);
  assert_int_equal(mlg_yaml_parse(NULL, "a", 1, "t.yml", NULL, &err), MLG_EINVAL);
  assert_int_equal(mlg_yaml_parse(&doc, NULL, 3, "t.yml", NULL, &err), MLG_EINVAL);
  assert_null(doc);
  /* No name: errors still have the NAME:LINE:COL: form. */
  assert_int_equal(mlg_yaml_parse(&doc, "a: *b", 5, NULL, NULL, &err), MLG_EPARSE);
  assert_string_equal(err.msg, "<input>:1:4: undefined alias '*b'");
}

/* --- syntax and encoding errors ---------------------------------------------- */

static void test_syntax_errors(void **state)
{
  (void)state;
  expect_err("a: 1\n b: 2\n", NULL, MLG_EPARSE,
             "t.yml:2:3: mapping values are not allowed in this context");
  expect_err("a: [1, 2\nb: 3\n", NULL, MLG_EPARSE,
             "t.yml:2:2: did not find expected ',' or ']' "
             "(while parsing a flow sequence at line 1, column 4)");
  expect_err("a: 'unterminated\n", NULL, MLG_EPARSE,
             "t.yml:2:1: found unexpected end of stream "
             "(while scanning a quoted scalar at line 1, column 4)");
  expect_err("key: value\n- item\n", NULL, MLG_EPARSE,
             "t.yml:2:1: did not find expected key "
             "(while parsing a block mapping at line 1, column 1)");
  expect_err("a: \"\\q\"\n", NULL, MLG_EPARSE,
             "t.yml:1:5: found unknown escape character "
             "(while parsing a quoted scalar at line 1, column 4)");
  expect_err("a: \"\\uD800\"\n", NULL, MLG_EPARSE,
             "t.yml:1:7: found invalid Unicode character escape code "
             "(while parsing a quoted scalar at line 1, column 4)");
  expect_err("a: @x\n", NULL, MLG_EPARSE,
             "t.yml:1:4: found character that cannot start any token "
             "(while scanning for the next token at line 1, column 4)");
  expect_err("a:\tb: c\n", NULL, MLG_EPARSE,
             "t.yml:1:5: mapping values are not allowed in this context");
}

static void test_encoding_errors(void **state)
{
  (void)state;
  expect_err_n("a: 1\nb: x\0y\n", 11, NULL, MLG_EPARSE,
               "t.yml:2:5: NUL byte is not allowed in YAML");
  expect_err_n("\0", 1, NULL, MLG_EPARSE, "t.yml:1:1: NUL byte is not allowed in YAML");
  expect_err("a: \xC3\xA9\xFF\n", NULL, MLG_EPARSE, "t.yml:1:5: invalid UTF-8 byte 0xFF");
  expect_err("a: \xC0\x80\n", NULL, MLG_EPARSE, "t.yml:1:4: invalid UTF-8 byte 0xC0");
  expect_err("a: \xED\xA0\x80\n", NULL, MLG_EPARSE, "t.yml:1:4: invalid UTF-8 byte 0xED");
  expect_err("a: \xF4\x90\x80\x80\n", NULL, MLG_EPARSE, "t.yml:1:4: invalid UTF-8 byte 0xF4");
  expect_err("a: \xE2\x82\n", NULL, MLG_EPARSE, "t.yml:1:4: invalid UTF-8 byte 0xE2");
  expect_err("a: 1\n\n  \x80", NULL, MLG_EPARSE, "t.yml:3:3: invalid UTF-8 byte 0x80");
  /* UTF-16 is not accepted: its BOM is not UTF-8. */
  expect_err_n("\xFF\xFE" "a\0", 4, NULL, MLG_EPARSE, "t.yml:1:1: invalid UTF-8 byte 0xFF");
  expect_err("a: \x01\n", NULL, MLG_EPARSE,
             "t.yml:1:4: control character U+0001 is not allowed in YAML");
  expect_err("a: \x7F\n", NULL, MLG_EPARSE,
             "t.yml:1:4: control character U+007F is not allowed in YAML");
  expect_err("a: \xC2\x9F\n", NULL, MLG_EPARSE,
             "t.yml:1:4: control character U+009F is not allowed in YAML");
  expect_err("a:\r\n  \xEF\xBF\xBF\n", NULL, MLG_EPARSE,
             "t.yml:2:3: control character U+FFFF is not allowed in YAML");
  /* The BOM does not count as a column. */
  expect_err("\xEF\xBB\xBF\x01", NULL, MLG_EPARSE,
             "t.yml:1:1: control character U+0001 is not allowed in YAML");
}

/* --- limits -------------------------------------------------------------- */

static void test_limits(void **state)
{
  mlg_parse_opts o = {0};
  mlg_doc *doc;
  (void)state;

  o.max_depth = 3;
  doc = parse_opts("a: {b: [1]}\n", &o);
  mlg_doc_free(doc);
  expect_err("a: {b: [[1]]}\n", &o, MLG_ELIMIT, "t.yml:1:9: nesting deeper than 3 levels");
  expect_err("a:\n  b:\n    - - x\n", &o, MLG_ELIMIT, "t.yml:3:7: nesting deeper than 3 levels");

  memset(&o, 0, sizeof o);
  o.max_nodes = 5;
  doc = parse_opts("a: 1\nb: 2\n", &o);
  mlg_doc_free(doc);
  expect_err("a: 1\nb: 2\nc: 3\n", &o, MLG_ELIMIT, "t.yml:3:1: document has more than 5 nodes");

  memset(&o, 0, sizeof o);
  o.max_bytes = 8;
  doc = parse_opts("a: 12345", &o);
  mlg_doc_free(doc);
  expect_err("a: 123456", &o, MLG_ELIMIT, "t.yml:1:1: input of 9 bytes exceeds the limit of 8 bytes");

  memset(&o, 0, sizeof o);
  o.max_doc_bytes = 4096;
  expect_err("a: [aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa, "
             "bbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbb, "
             "cccccccccccccccccccccccccccccccccccccccccccccccccccccccccccccccccccc, "
             "dddddddddddddddddddddddddddddddddddddddddddddddddddddddddddddddddddd, 1, 2, 3, "
             "4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15, 16, 17, 18, 19, 20, 21, 22, 23, 24, "
             "25, 26, 27, 28, 29, 30, 31, 32, 33, 34, 35, 36, 37, 38, 39, 40, 41, 42, 43]\n",
             &o, MLG_ELIMIT, "t.yml:1:384: document needs more than 4096 bytes of memory");
}

/* libyaml's scanner is quadratic in flow nesting: the depth cap must stop
 * it early whatever the input size. */
static void test_deep_flow_10mb(void **state)
{
  size_t n = 10u << 20;
  char *y = malloc(n);
  double t0;
  (void)state;

  memset(y, '[', n);
  t0 = now();
  expect_err_n(y, n, NULL, MLG_ELIMIT, "t.yml:1:201: nesting deeper than 200 levels");
  assert_true(now() - t0 < 2.0);
  for (size_t i = 0; i + 3 < n; i += 4)
    memcpy(y + i, "{a: ", 4);
  expect_err_n(y, n, NULL, MLG_ELIMIT, "t.yml:1:801: nesting deeper than 200 levels");
  for (size_t i = 0; i + 1 < n; i += 2)
    memcpy(y + i, "- ", 2);
  expect_err_n(y, n, NULL, MLG_ELIMIT, "t.yml:1:401: nesting deeper than 200 levels");
  assert_true(now() - t0 < 6.0);
  free(y);
}

/* Exactly at the cap is fine. */
static void test_depth_boundary(void **state)
{
  char y[512];
  mlg_doc *doc;
  const mlg_node *n;
  int i, d = 0;
  (void)state;

  memset(y, '[', 200);
  y[200] = '1';
  memset(y + 201, ']', 200);
  y[401] = '\0';
  doc = parse(y);
  for (n = doc->root; n->type == MLG_SEQ; n = n->u.seq.items[0])
    d++;
  assert_int_equal(d, 200);
  assert_int_equal(n->u.integer, 1);
  mlg_doc_free(doc);
  for (i = 0; i < 201; i++)
    y[i] = '[';
  y[201] = '\0';
  expect_err(y, NULL, MLG_ELIMIT, "t.yml:1:201: nesting deeper than 200 levels");
}

int main(void)
{
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(test_block_positions),
      cmocka_unit_test(test_flow_positions),
      cmocka_unit_test(test_utf8_positions),
      cmocka_unit_test(test_bom_and_crlf),
      cmocka_unit_test(test_block_scalars),
      cmocka_unit_test(test_quoted_scalars),
      cmocka_unit_test(test_resolution_table),
      cmocka_unit_test(test_keys_are_strings),
      cmocka_unit_test(test_tags),
      cmocka_unit_test(test_tag_errors),
      cmocka_unit_test(test_anchors_share_nodes),
      cmocka_unit_test(test_alias_errors),
      cmocka_unit_test(test_billion_laughs),
      cmocka_unit_test(test_merge_gitlab),
      cmocka_unit_test(test_merge_list),
      cmocka_unit_test(test_merge_off_and_quoted),
      cmocka_unit_test(test_merge_errors),
      cmocka_unit_test(test_merge_bomb),
      cmocka_unit_test(test_duplicates),
      cmocka_unit_test(test_documents),
      cmocka_unit_test(test_empty_streams),
      cmocka_unit_test(test_syntax_errors),
      cmocka_unit_test(test_encoding_errors),
      cmocka_unit_test(test_limits),
      cmocka_unit_test(test_deep_flow_10mb),
      cmocka_unit_test(test_depth_boundary),
  };
  return cmocka_run_group_tests(tests, NULL, NULL);
}
