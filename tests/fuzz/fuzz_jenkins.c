/*
 * libFuzzer harness for mlg_jenkins_load: on failure a located message
 * (tokenizer errors and limits only: unknown Groovy is never an error);
 * on success a mapping root with the platform, and positions, offsets and
 * text maps that lie inside the input, ascending.
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "pipeline.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static int64_t int_of(const mlg_node *n, const char *key)
{
  const mlg_node *v = mlg_map_get(n, key);
  return v && v->type == MLG_INT ? v->u.integer : -1;
}

static void check(const mlg_node *n, size_t size, int depth, size_t *budget)
{
  size_t i;
  const mlg_node *m;

  if (!n || *budget == 0)
    return;
  (*budget)--;
  if (depth > 400)
    abort();
  if (n->type == MLG_STR && (!n->u.str.ptr || n->u.str.ptr[n->u.str.len] != '\0'))
    abort();
  if (n->type == MLG_SEQ) {
    for (i = 0; i < n->u.seq.len; i++)
      check(n->u.seq.items[i], size, depth + 1, budget);
    return;
  }
  if (n->type != MLG_MAP)
    return;
  if (mlg_map_get(n, "line") && int_of(n, "line") < 1)
    abort();
  if (mlg_map_get(n, "col") && int_of(n, "col") < 1)
    abort();
  if (mlg_map_get(n, "offset")) {
    int64_t a = int_of(n, "offset"), b = int_of(n, "end_offset");
    if (a < 0 || b < a || (uint64_t)b > size)
      abort();
  }
  if ((m = mlg_map_get(n, "map")) && m->type == MLG_SEQ) {
    const mlg_node *text = mlg_map_get(n, "text");
    if (m->u.seq.len % 3 || !text || text->type != MLG_STR || m->u.seq.items[0]->u.integer)
      abort();
    for (i = 0; i < m->u.seq.len; i += 3) {
      int64_t t = m->u.seq.items[i]->u.integer;
      if (t < 0 || (uint64_t)t > text->u.str.len || m->u.seq.items[i + 1]->u.integer < 1 ||
          (i && t <= m->u.seq.items[i - 3]->u.integer))
        abort();
    }
  }
  for (i = 0; i < n->u.map.len; i++) {
    if (!n->u.map.pairs[i].key || n->u.map.pairs[i].key->type != MLG_STR)
      abort();
    check(n->u.map.pairs[i].val, size, depth + 1, budget);
  }
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
  mlg_doc *doc = NULL;
  mlg_err err = {0};
  size_t budget = 200000;
  const mlg_node *p;
  int rc = mlg_pipeline_load(&doc, (const char *)data, size, "Jenkinsfile", MLG_PK_JENKINS,
                             &err);

  if (rc) {
    if (doc || strncmp(err.msg, "Jenkinsfile:", 12) != 0)
      abort();
    if (rc != MLG_EPARSE && rc != MLG_ELIMIT && rc != MLG_ENOMEM)
      abort();
    return 0;
  }
  if (!doc || !doc->root || doc->root->type != MLG_MAP ||
      !(p = mlg_map_get(doc->root, "platform")) || !mlg_map_get(doc->root, "jobs") ||
      !mlg_map_get(doc->root, "exprs"))
    abort();
  check(doc->root, size, 0, &budget);
  mlg_doc_free(doc);
  return 0;
}
