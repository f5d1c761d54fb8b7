/*
 * libFuzzer harness for mlg_json_parse and mlg_json_write: whatever parses
 * must write, the written text (compact, pretty and ASCII) must parse
 * again, and the re-parsed tree must equal the first one (infinities
 * become null and NULs in member names U+FFFD, as documented).
 */
#include <math.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "parse.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static int same(const mlg_node *a, const mlg_node *b)
{
  size_t i;
  if (a->type == MLG_FLOAT && !isfinite(a->u.number))
    return b->type == MLG_NULL;
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

static int nul_in_keys(const mlg_node *n)
{
  size_t i;
  if (n->type == MLG_SEQ) {
    for (i = 0; i < n->u.seq.len; i++) {
      if (nul_in_keys(n->u.seq.items[i]))
        return 1;
    }
  } else if (n->type == MLG_MAP) {
    for (i = 0; i < n->u.map.len; i++) {
      const mlg_node *k = n->u.map.pairs[i].key;
      if (memchr(k->u.str.ptr, 0, k->u.str.len) || nul_in_keys(n->u.map.pairs[i].val))
        return 1;
    }
  }
  return 0;
}

static void span_ok(const mlg_node *n, size_t size)
{
  size_t i;
  if (n->span.line == 0 || n->span.col == 0 || n->span.offset >= n->span.end_offset ||
      n->span.end_offset > size)
    abort();
  if (n->type == MLG_SEQ) {
    for (i = 0; i < n->u.seq.len; i++)
      span_ok(n->u.seq.items[i], size);
  } else if (n->type == MLG_MAP) {
    for (i = 0; i < n->u.map.len; i++) {
      span_ok(n->u.map.pairs[i].key, size);
      span_ok(n->u.map.pairs[i].val, size);
    }
  }
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
  static const int flags[] = {0, MLG_JSON_PRETTY, MLG_JSON_ASCII};
  mlg_doc *doc = NULL, *again = NULL;
  mlg_err err = {0};
  mlg_buf out = MLG_BUF_INIT, out2 = MLG_BUF_INIT;
  mlg_parse_opts reparse = {0};
  size_t k;
  int lossy;

  /* Compact output can be much shorter than the input, and the default
   * arena cap is proportional to the input size. */
  reparse.max_doc_bytes = (size_t)1 << 30;

  if (mlg_json_parse(&doc, (const char *)data, size, "fuzz.json", NULL, &err)) {
    if (doc || strncmp(err.msg, "fuzz.json:", 10) != 0)
      abort();
    return 0;
  }
  span_ok(doc->root, size);
  lossy = nul_in_keys(doc->root);
  for (k = 0; k < 3; k++) {
    out.len = 0;
    if (mlg_json_write(&out, doc->root, flags[k], &err))
      abort();
    if (mlg_json_parse(&again, out.ptr, out.len, "again.json", &reparse, &err))
      abort();
    if (!lossy && !same(doc->root, again->root))
      abort();
    /* Identical trees give identical bytes. */
    out2.len = 0;
    if (mlg_json_write(&out2, again->root, flags[k], &err) || out2.len != out.len ||
        memcmp(out.ptr, out2.ptr, out.len) != 0)
      abort();
    mlg_doc_free(again);
    again = NULL;
  }
  mlg_buf_free(&out);
  mlg_buf_free(&out2);
  mlg_doc_free(doc);
  return 0;
}
