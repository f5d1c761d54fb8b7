/*
 * libFuzzer harness for mlg_gitlab_load. The input is split at lines
 * "#--- NAME" into the main .gitlab-ci.yml and files an in-memory reader
 * serves (so include resolution, nesting, cycles and merges are fuzzed
 * with the rest). Checks: a located message on failure; on success a
 * mapping root whose positions are sane and whose text maps ascend.
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "pipeline.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

#define MAX_FILES 8

typedef struct vfile {
  char name[64];
  const char *text;
  size_t len;
} vfile;

typedef struct vfs {
  vfile f[MAX_FILES];
  size_t n;
} vfs;

static int rd(void *ud, const char *path, char **out, size_t *len, mlg_err *err)
{
  vfs *v = ud;
  size_t i;
  for (i = 1; i < v->n; i++)
    if (strcmp(v->f[i].name, path) == 0) {
      if (!(*out = malloc(v->f[i].len + 1)))
        return mlg_err_set(err, MLG_ENOMEM, "out of memory");
      memcpy(*out, v->f[i].text, v->f[i].len);
      (*out)[v->f[i].len] = '\0';
      *len = v->f[i].len;
      return 0;
    }
  return MLG_ENOENT;
}

static int64_t int_of(const mlg_node *n, const char *key)
{
  const mlg_node *v = mlg_map_get(n, key);
  return v && v->type == MLG_INT ? v->u.integer : -1;
}

static void check(const mlg_node *n, int depth, size_t *budget)
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
      check(n->u.seq.items[i], depth + 1, budget);
    return;
  }
  if (n->type != MLG_MAP)
    return;
  if (mlg_map_get(n, "line") && int_of(n, "line") < 1)
    abort();
  if (mlg_map_get(n, "offset")) {
    int64_t a = int_of(n, "offset"), b = int_of(n, "end_offset");
    if (a < 0 || b < a)
      abort();
  }
  if ((m = mlg_map_get(n, "map")) && m->type == MLG_SEQ) {
    const mlg_node *text = mlg_map_get(n, "text");
    if (m->u.seq.len % 3 || !text || text->type != MLG_STR)
      abort();
    for (i = 0; i < m->u.seq.len; i += 3) {
      int64_t t = m->u.seq.items[i]->u.integer;
      if (t < 0 || (uint64_t)t > text->u.str.len || m->u.seq.items[i + 1]->u.integer < 1 ||
          (i && t <= m->u.seq.items[i - 3]->u.integer))
        abort();
    }
  }
  for (i = 0; i < n->u.map.len; i++) {
    const mlg_node *k = n->u.map.pairs[i].key;
    if (!k || k->type != MLG_STR)
      abort();
    /* Verbatim copies of the source (raw) hold the user's own keys. */
    if (!strcmp(k->u.str.ptr, "hooks") || !strcmp(k->u.str.ptr, "retry") ||
        !strcmp(k->u.str.ptr, "release") || !strcmp(k->u.str.ptr, "matrix") ||
        !strcmp(k->u.str.ptr, "include") ||
        (!strcmp(k->u.str.ptr, "needs") && !mlg_map_get(n, "id")))
      continue;
    check(n->u.map.pairs[i].val, depth + 1, budget);
  }
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
  const char *s = (const char *)data, *end = s + size, *p = s;
  vfs v;
  mlg_doc *doc = NULL;
  mlg_err err = {0};
  size_t budget = 200000, i;
  int rc;

  memset(&v, 0, sizeof v);
  strcpy(v.f[0].name, ".gitlab-ci.yml");
  v.f[0].text = s;
  v.n = 1;
  /* "#--- name\n" starts the next file. */
  while (p < end) {
    const char *q = memmem(p, (size_t)(end - p), "\n#--- ", 6), *nl;
    size_t k;
    if (!q || v.n == MAX_FILES)
      break;
    v.f[v.n - 1].len = (size_t)(q + 1 - v.f[v.n - 1].text);
    q += 6;
    nl = memchr(q, '\n', (size_t)(end - q));
    if (!nl)
      nl = end;
    k = (size_t)(nl - q);
    if (k >= sizeof v.f[v.n].name)
      k = sizeof v.f[v.n].name - 1;
    memcpy(v.f[v.n].name, q, k);
    v.f[v.n].name[k] = '\0';
    v.f[v.n].text = nl < end ? nl + 1 : end;
    v.n++;
    p = v.f[v.n - 1].text;
  }
  v.f[v.n - 1].len = (size_t)(end - v.f[v.n - 1].text);
  rc = mlg_gitlab_load(&doc, v.f[0].text, v.f[0].len, ".gitlab-ci.yml", rd, &v, &err);
  if (rc) {
    if (doc)
      abort();
    if (rc != MLG_EPARSE && rc != MLG_ELIMIT && rc != MLG_ENOMEM)
      abort();
    /* Located in one of the files. */
    for (i = 0; i < v.n; i++)
      if (strncmp(err.msg, v.f[i].name, strlen(v.f[i].name)) == 0 &&
          err.msg[strlen(v.f[i].name)] == ':')
        break;
    if (i == v.n)
      abort();
    return 0;
  }
  if (!doc || !doc->root || doc->root->type != MLG_MAP || !mlg_map_get(doc->root, "jobs"))
    abort();
  check(doc->root, 0, &budget);
  mlg_doc_free(doc);
  /* Without a reader: includes recorded only. */
  rc = mlg_gitlab_load(&doc, v.f[0].text, v.f[0].len, ".gitlab-ci.yml", NULL, NULL, &err);
  if (rc == 0)
    mlg_doc_free(doc);
  else if (doc)
    abort();
  return 0;
}
