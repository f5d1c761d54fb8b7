/*
 * libFuzzer harness for mlg_yaml_parse: parses each input with the default
 * options and with every option on, checks the invariants the rest of
 * mlgate relies on (string keys, positions inside the input, terminated
 * strings), and writes the tree as JSON to cover the writer on YAML
 * shapes (shared nodes included).
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "parse.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static void check(const mlg_node *n, size_t size, int depth, size_t *budget)
{
  size_t i;
  /* Shared nodes make a DAG: bound the walk, not the tree. */
  if (!n || *budget == 0)
    return;
  (*budget)--;
  if (depth > 210)
    abort();
  if (n->span.line == 0 || n->span.col == 0 || n->span.offset > n->span.end_offset ||
      n->span.end_offset > size)
    abort();
  switch (n->type) {
  case MLG_STR:
    if (!n->u.str.ptr || n->u.str.ptr[n->u.str.len] != '\0')
      abort();
    break;
  case MLG_SEQ:
    for (i = 0; i < n->u.seq.len; i++)
      check(n->u.seq.items[i], size, depth + 1, budget);
    break;
  case MLG_MAP:
    for (i = 0; i < n->u.map.len; i++) {
      if (!n->u.map.pairs[i].key || n->u.map.pairs[i].key->type != MLG_STR)
        abort();
      check(n->u.map.pairs[i].key, size, depth + 1, budget);
      check(n->u.map.pairs[i].val, size, depth + 1, budget);
    }
    break;
  default:
    break;
  }
}

static void run(const uint8_t *data, size_t size, const mlg_parse_opts *opts)
{
  mlg_doc *doc = NULL;
  mlg_err err = {0};
  mlg_buf out = MLG_BUF_INIT;
  size_t i, budget = 100000;
  int rc = mlg_yaml_parse(&doc, (const char *)data, size, "fuzz.yml", opts, &err);

  if (rc) {
    if (doc || strncmp(err.msg, "fuzz.yml:", 9) != 0)
      abort();
    return;
  }
  if (doc->nroots && doc->root != doc->roots[0])
    abort();
  for (i = 0; i < doc->nroots; i++) {
    check(doc->roots[i], size, 0, &budget);
    out.len = 0;
    rc = mlg_json_write(&out, doc->roots[i], i & 1 ? MLG_JSON_PRETTY : 0, &err);
    if (rc && rc != MLG_ELIMIT)
      abort();
  }
  mlg_buf_free(&out);
  mlg_doc_free(doc);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
  mlg_parse_opts all = {0};

  run(data, size, NULL);
  all.all_documents = 1;
  all.merge_keys = 1;
  all.allow_duplicates = 1;
  all.max_nodes = 20000;
  run(data, size, &all);
  return 0;
}
