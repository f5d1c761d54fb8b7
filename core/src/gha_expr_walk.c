/*
 * What an expression reads (context paths, with the function they are an
 * argument of), whether it is constant, and where "${{ }}" sits in a
 * template value.
 */
#include <stdlib.h>
#include <string.h>

#include "gha_expr_int.h"

typedef struct rw {
  mlg_gx_ref *v;
  size_t n, cap;
  mlg_err *err;
} rw;

static int is_link(const mlg_gx_node *n)
{
  return n->type == MLG_GX_PROPERTY || n->type == MLG_GX_INDEX || n->type == MLG_GX_STAR ||
         n->type == MLG_GX_GROUP;
}

/* The context a chain of accesses starts from, or NULL (a call, a
 * literal, an operator inside parentheses). */
static const mlg_gx_node *chain_base(const mlg_gx_node *n)
{
  while (is_link(n))
    n = n->left;
  return n->type == MLG_GX_CONTEXT ? n : NULL;
}

static int put_lower(mlg_buf *b, const char *s, size_t len)
{
  size_t i;
  if (mlg_buf_grow(b, len + 1))
    return MLG_ENOMEM;
  for (i = 0; i < len; i++) {
    char c = s[i];
    b->ptr[b->len++] = c >= 'A' && c <= 'Z' ? (char)(c + 32) : c;
  }
  b->ptr[b->len] = '\0';
  return 0;
}

static int path_of(mlg_buf *b, const mlg_gx_node *n)
{
  char num[MLG_GX_NUMBUF];
  const char *s;
  size_t len;
  int rc;
  if (n->type == MLG_GX_CONTEXT)
    return put_lower(b, n->name, strlen(n->name));
  if ((rc = path_of(b, n->left)) != 0 || n->type == MLG_GX_GROUP)
    return rc;
  if (mlg_buf_putc(b, '.'))
    return MLG_ENOMEM;
  switch (n->type) {
  case MLG_GX_PROPERTY:
    return put_lower(b, n->name, strlen(n->name));
  case MLG_GX_STAR:
    return mlg_buf_putc(b, '*') ? MLG_ENOMEM : 0;
  default: /* INDEX: a literal reads as the key it looks up */
    if (n->right->type == MLG_GX_LITERAL && mlg_gx_prim_str(n->right->value, num, &s, &len) == 0)
      return put_lower(b, s, len);
    return mlg_buf_putc(b, '?') ? MLG_ENOMEM : 0;
  }
}

static int emit(rw *w, const mlg_gx_node *n, const char *fn)
{
  mlg_buf b = MLG_BUF_INIT;
  mlg_gx_ref *r;
  if (w->n == w->cap) {
    size_t cap = w->cap ? w->cap * 2 : 8;
    mlg_gx_ref *nv = realloc(w->v, cap * sizeof *nv);
    if (!nv)
      return MLG_ENOMEM;
    w->v = nv;
    w->cap = cap;
  }
  if (path_of(&b, n) || mlg_buf_put(&b, "", 0)) {
    mlg_buf_free(&b);
    return MLG_ENOMEM;
  }
  r = &w->v[w->n++];
  r->path = mlg_buf_detach(&b);
  r->fn = fn;
  r->offset = n->offset;
  r->len = n->len;
  return 0;
}

static int walk(rw *w, const mlg_gx_node *n, const char *fn);

/* Computed indexes inside a chain, in text order. */
static int walk_indexes(rw *w, const mlg_gx_node *n, const char *fn)
{
  int rc;
  if (!is_link(n))
    return 0;
  if ((rc = walk_indexes(w, n->left, fn)) != 0)
    return rc;
  return n->type == MLG_GX_INDEX ? walk(w, n->right, fn) : 0;
}

static int walk(rw *w, const mlg_gx_node *n, const char *fn)
{
  size_t i;
  int rc = 0;
  if ((n->type == MLG_GX_CONTEXT || is_link(n)) && chain_base(n)) {
    if ((rc = emit(w, n, fn)) != 0)
      return rc;
    return walk_indexes(w, n, fn);
  }
  switch (n->type) {
  case MLG_GX_PROPERTY:
  case MLG_GX_STAR:
  case MLG_GX_GROUP:
  case MLG_GX_NOT:
    return walk(w, n->left, fn);
  case MLG_GX_INDEX:
  case MLG_GX_COMPARE:
    if ((rc = walk(w, n->left, fn)) != 0)
      return rc;
    return walk(w, n->right, fn);
  case MLG_GX_CALL:
    fn = n->name;
    /* fall through */
  case MLG_GX_AND:
  case MLG_GX_OR:
    for (i = 0; i < n->nargs && rc == 0; i++)
      rc = walk(w, n->args[i], fn);
    return rc;
  default:
    return 0;
  }
}

int mlg_gx_refs(mlg_gx_ref **out, size_t *n, const mlg_gx *gx, mlg_err *err)
{
  rw w;
  int rc;
  *out = NULL;
  *n = 0;
  memset(&w, 0, sizeof w);
  w.err = err;
  if (!gx || !gx->root)
    return 0;
  if ((rc = walk(&w, gx->root, "")) != 0) {
    mlg_gx_refs_free(w.v, w.n);
    return mlg_err_set(err, rc, "out of memory while listing expression references");
  }
  *out = w.v;
  *n = w.n;
  return 0;
}

void mlg_gx_refs_free(mlg_gx_ref *refs, size_t n)
{
  size_t i;
  if (!refs)
    return;
  for (i = 0; i < n; i++)
    free(refs[i].path);
  free(refs);
}

static int constant(const mlg_gx_node *n)
{
  size_t i;
  const mlg_gx_fn *fn;
  switch (n->type) {
  case MLG_GX_LITERAL:
    return 1;
  case MLG_GX_CONTEXT:
    return 0;
  case MLG_GX_CALL:
    fn = mlg_gx_fn_find(n->name, strlen(n->name));
    if (!fn || fn->runner)
      return 0;
    /* fall through */
  case MLG_GX_AND:
  case MLG_GX_OR:
    for (i = 0; i < n->nargs; i++) {
      if (!constant(n->args[i]))
        return 0;
    }
    return 1;
  default:
    return (!n->left || constant(n->left)) && (!n->right || constant(n->right));
  }
}

int mlg_gx_is_constant(const mlg_gx *gx)
{
  return gx && gx->root && constant(gx->root);
}

size_t mlg_gx_find(mlg_gx_span *out, size_t max, const char *text, size_t len, int *more)
{
  size_t count = 0, i = 0;
  if (more)
    *more = 0;
  while (i < len) {
    const char *p = memmem(text + i, len - i, "${{", 3);
    size_t start, j, end = 0;
    int in_string = 0, closed = 0;
    if (!p)
      break;
    start = (size_t)(p - text);
    /* GitHub's template reader: the first "}}" outside a single-quoted
     * string ('' inside one toggles twice, so it needs no special case). */
    for (j = start + 3; j < len; j++) {
      if (text[j] == '\'') {
        in_string = !in_string;
      } else if (!in_string && text[j] == '}' && text[j - 1] == '}') {
        end = j + 1;
        closed = 1;
        break;
      }
    }
    if (count == max) {
      if (more)
        *more = 1;
      break;
    }
    out[count].start = start;
    out[count].inner = start + 3;
    out[count].closed = closed;
    out[count].end = closed ? end : len;
    out[count].inner_len = (closed ? end - 2 : len) - (start + 3);
    count++;
    if (!closed)
      break;
    i = end;
  }
  return count;
}
