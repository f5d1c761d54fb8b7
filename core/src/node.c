#include "node.h"

#include <stdalign.h>
#include <stdlib.h>
#include <string.h>

/* Arena chunks grow geometrically so a large document costs few mallocs. */
struct mlg_arena_chunk {
  mlg_arena_chunk *next;
  size_t cap, used;
  alignas(max_align_t) unsigned char data[];
};

#define MLG_ARENA_MIN 4096
#define MLG_ALIGN (alignof(max_align_t))

mlg_doc *mlg_doc_new(const char *name)
{
  mlg_doc *doc = calloc(1, sizeof *doc);
  if (!doc)
    return NULL;
  if (name)
    doc->name = mlg_doc_strdup(doc, name);
  return doc;
}

void mlg_doc_free(mlg_doc *doc)
{
  mlg_arena_chunk *c, *next;
  if (!doc)
    return;
  for (c = doc->chunks; c; c = next) {
    next = c->next;
    free(c);
  }
  free(doc->roots);
  free(doc);
}

void mlg_doc_reset(mlg_doc *doc)
{
  mlg_arena_chunk *c, *next;
  if (!doc)
    return;
  /* The newest chunk is the largest: keep it for the next use. */
  if ((c = doc->chunks) != NULL) {
    for (next = c->next; next; next = c->next) {
      c->next = next->next;
      free(next);
    }
    c->used = 0;
  }
  free(doc->roots);
  doc->roots = NULL;
  doc->nroots = 0;
  doc->root = NULL;
  doc->used_bytes = 0;
}

void *mlg_doc_alloc(mlg_doc *doc, size_t size)
{
  mlg_arena_chunk *c = doc->chunks;
  size_t need = (size + MLG_ALIGN - 1) & ~(MLG_ALIGN - 1);
  void *p;

  if (size == 0)
    need = MLG_ALIGN;
  if (need < size)
    return NULL;
  if (doc->limit_bytes && (need > doc->limit_bytes ||
                           doc->used_bytes > doc->limit_bytes - need))
    return NULL;
  if (!c || c->cap - c->used < need) {
    size_t cap = c ? c->cap * 2 : MLG_ARENA_MIN;
    if (cap > (size_t)1 << 24)
      cap = (size_t)1 << 24;
    if (cap < need)
      cap = need;
    c = malloc(sizeof *c + cap);
    if (!c)
      return NULL;
    c->cap = cap;
    c->used = 0;
    c->next = doc->chunks;
    doc->chunks = c;
  }
  p = c->data + c->used;
  c->used += need;
  doc->used_bytes += need;
  memset(p, 0, size);
  return p;
}

char *mlg_doc_strndup(mlg_doc *doc, const char *s, size_t len)
{
  char *p;
  if (len == (size_t)-1)
    return NULL;
  p = mlg_doc_alloc(doc, len + 1);
  if (!p)
    return NULL;
  if (len)
    memcpy(p, s, len);
  p[len] = '\0';
  return p;
}

char *mlg_doc_strdup(mlg_doc *doc, const char *s)
{
  return mlg_doc_strndup(doc, s, strlen(s));
}

int mlg_doc_add_root(mlg_doc *doc, mlg_node *root)
{
  mlg_node **r = realloc(doc->roots, (doc->nroots + 1) * sizeof *r);
  if (!r)
    return MLG_ENOMEM;
  r[doc->nroots++] = root;
  doc->roots = r;
  doc->root = r[0];
  return 0;
}

mlg_node *mlg_node_new(mlg_doc *doc, mlg_ntype type)
{
  mlg_node *n = mlg_doc_alloc(doc, sizeof *n);
  if (n)
    n->type = (unsigned char)type;
  return n;
}

mlg_node *mlg_node_null(mlg_doc *doc)
{
  return mlg_node_new(doc, MLG_NULL);
}

mlg_node *mlg_node_bool(mlg_doc *doc, int value)
{
  mlg_node *n = mlg_node_new(doc, MLG_BOOL);
  if (n)
    n->u.boolean = value != 0;
  return n;
}

mlg_node *mlg_node_int(mlg_doc *doc, int64_t value)
{
  mlg_node *n = mlg_node_new(doc, MLG_INT);
  if (n)
    n->u.integer = value;
  return n;
}

mlg_node *mlg_node_float(mlg_doc *doc, double value)
{
  mlg_node *n = mlg_node_new(doc, MLG_FLOAT);
  if (n)
    n->u.number = value;
  return n;
}

mlg_node *mlg_node_strn(mlg_doc *doc, const char *s, size_t len)
{
  mlg_node *n = mlg_node_new(doc, MLG_STR);
  if (!n)
    return NULL;
  n->u.str.ptr = mlg_doc_strndup(doc, s ? s : "", s ? len : 0);
  if (!n->u.str.ptr)
    return NULL;
  n->u.str.len = s ? len : 0;
  return n;
}

mlg_node *mlg_node_str(mlg_doc *doc, const char *s)
{
  return mlg_node_strn(doc, s, s ? strlen(s) : 0);
}

mlg_node *mlg_node_seq(mlg_doc *doc)
{
  return mlg_node_new(doc, MLG_SEQ);
}

mlg_node *mlg_node_map(mlg_doc *doc)
{
  return mlg_node_new(doc, MLG_MAP);
}

/* Grows an arena array by doubling; the old array is simply abandoned in
 * the arena, which bounds the waste to the final size. */
static void *grow(mlg_doc *doc, void *old, size_t elem, size_t len, size_t *cap)
{
  size_t ncap = *cap ? *cap * 2 : 4;
  void *p;
  if (ncap > ((size_t)-1) / elem)
    return NULL;
  p = mlg_doc_alloc(doc, ncap * elem);
  if (!p)
    return NULL;
  if (len)
    memcpy(p, old, len * elem);
  *cap = ncap;
  return p;
}

int mlg_seq_push(mlg_doc *doc, mlg_node *seq, mlg_node *item)
{
  if (!seq || seq->type != MLG_SEQ || !item)
    return MLG_EINVAL;
  if (seq->u.seq.len == seq->u.seq.cap) {
    mlg_node **p = grow(doc, seq->u.seq.items, sizeof *p, seq->u.seq.len,
                        &seq->u.seq.cap);
    if (!p)
      return MLG_ENOMEM;
    seq->u.seq.items = p;
  }
  seq->u.seq.items[seq->u.seq.len++] = item;
  return 0;
}

int mlg_map_put(mlg_doc *doc, mlg_node *map, mlg_node *key, mlg_node *val)
{
  if (!map || map->type != MLG_MAP || !key || !val)
    return MLG_EINVAL;
  if (map->u.map.len == map->u.map.cap) {
    mlg_pair *p = grow(doc, map->u.map.pairs, sizeof *p, map->u.map.len,
                       &map->u.map.cap);
    if (!p)
      return MLG_ENOMEM;
    map->u.map.pairs = p;
  }
  map->u.map.pairs[map->u.map.len].key = key;
  map->u.map.pairs[map->u.map.len].val = val;
  map->u.map.len++;
  return 0;
}

int mlg_map_set(mlg_doc *doc, mlg_node *map, const char *key, mlg_node *val)
{
  mlg_node *k = mlg_node_str(doc, key);
  if (!k || !val)
    return MLG_ENOMEM;
  return mlg_map_put(doc, map, k, val);
}

int mlg_map_set_str(mlg_doc *doc, mlg_node *map, const char *key, const char *val)
{
  return mlg_map_set(doc, map, key, mlg_node_str(doc, val ? val : ""));
}

int mlg_map_set_int(mlg_doc *doc, mlg_node *map, const char *key, int64_t val)
{
  return mlg_map_set(doc, map, key, mlg_node_int(doc, val));
}

int mlg_map_set_bool(mlg_doc *doc, mlg_node *map, const char *key, int val)
{
  return mlg_map_set(doc, map, key, mlg_node_bool(doc, val));
}

const mlg_pair *mlg_map_find(const mlg_node *map, const char *key)
{
  size_t i, klen;
  if (!map || map->type != MLG_MAP || !key)
    return NULL;
  klen = strlen(key);
  for (i = 0; i < map->u.map.len; i++) {
    const mlg_node *k = map->u.map.pairs[i].key;
    if (k->type == MLG_STR && k->u.str.len == klen &&
        memcmp(k->u.str.ptr, key, klen) == 0)
      return &map->u.map.pairs[i];
  }
  return NULL;
}

const mlg_node *mlg_map_get(const mlg_node *map, const char *key)
{
  const mlg_pair *p = mlg_map_find(map, key);
  return p ? p->val : NULL;
}

const char *mlg_node_as_str(const mlg_node *n, const char *dflt)
{
  return n && n->type == MLG_STR ? n->u.str.ptr : dflt;
}

int64_t mlg_node_as_int(const mlg_node *n, int64_t dflt)
{
  return n && n->type == MLG_INT ? n->u.integer : dflt;
}

const char *mlg_node_typename(const mlg_node *n)
{
  if (!n)
    return "nothing";
  switch (n->type) {
  case MLG_NULL: return "null";
  case MLG_BOOL: return "boolean";
  case MLG_INT: return "integer";
  case MLG_FLOAT: return "number";
  case MLG_STR: return "string";
  case MLG_SEQ: return "sequence";
  case MLG_MAP: return "mapping";
  default: return "unknown";
  }
}

static mlg_node *copy_at(mlg_doc *doc, const mlg_node *n, int depth)
{
  mlg_node *c;
  size_t i;
  if (!n)
    return NULL;
  if (depth > 100)
    return mlg_node_null(doc);
  switch (n->type) {
  case MLG_NULL: c = mlg_node_null(doc); break;
  case MLG_BOOL: c = mlg_node_bool(doc, n->u.boolean); break;
  case MLG_INT: c = mlg_node_int(doc, n->u.integer); break;
  case MLG_FLOAT: c = mlg_node_float(doc, n->u.number); break;
  case MLG_STR: c = mlg_node_strn(doc, n->u.str.ptr, n->u.str.len); break;
  case MLG_SEQ:
    if (!(c = mlg_node_seq(doc)))
      return NULL;
    for (i = 0; i < n->u.seq.len; i++)
      if (mlg_seq_push(doc, c, copy_at(doc, n->u.seq.items[i], depth + 1)) != 0)
        return NULL;
    break;
  default:
    if (!(c = mlg_node_map(doc)))
      return NULL;
    for (i = 0; i < n->u.map.len; i++)
      if (mlg_map_put(doc, c, copy_at(doc, n->u.map.pairs[i].key, depth + 1),
                      copy_at(doc, n->u.map.pairs[i].val, depth + 1)) != 0)
        return NULL;
    break;
  }
  if (c) {
    c->style = n->style;
    c->span = n->span;
  }
  return c;
}

mlg_node *mlg_node_copy(mlg_doc *doc, const mlg_node *n)
{
  return copy_at(doc, n, 0);
}
