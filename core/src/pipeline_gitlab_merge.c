/*
 * GitLab's deep merge (ActiveSupport Hash#deep_merge: mappings merged key
 * by key, anything else replaced, a key keeping its first place), and the
 * two resolution steps built on it: `extends:` and `!reference`.
 *
 * Merging never changes a parsed tree (anchored nodes are shared): the
 * merged mappings are new nodes in g->work whose leaves are the parsed
 * nodes, so every value keeps its position and file.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "gitlab.h"

static mlg_node *new_map(mlg_gl *g, size_t cap, const mlg_node *like)
{
  mlg_node *m = mlg_node_map(g->work);
  if (m && cap && !(m->u.map.pairs = mlg_doc_alloc(g->work, cap * sizeof(mlg_pair))))
    m = NULL;
  if (!m) {
    mlg_pl_oom(&g->pl);
    return NULL;
  }
  m->u.map.cap = cap;
  if (like) {
    m->span = like->span;
    m->style = like->style;
  }
  return m;
}

mlg_node *mlg_gl_without(mlg_gl *g, const mlg_node *map, const char *skip)
{
  mlg_node *m;
  size_t i;
  if (g->pl.rc || !map || map->type != MLG_MAP)
    return NULL;
  if (!(m = new_map(g, map->u.map.len, map)))
    return NULL;
  for (i = 0; i < map->u.map.len; i++)
    if (!skip || !mlg_pl_is_str(map->u.map.pairs[i].key, skip))
      m->u.map.pairs[m->u.map.len++] = map->u.map.pairs[i];
  return m;
}

mlg_node *mlg_gl_merge(mlg_gl *g, const mlg_node *a, const mlg_node *b, size_t depth)
{
  mlg_mapkeys mk;
  mlg_node *r;
  size_t i, at;

  if (g->pl.rc)
    return NULL;
  if (!a || a->type != MLG_MAP || !b || b->type != MLG_MAP)
    return (mlg_node *)b;
  if (depth > 256) {
    mlg_gl_fail(g, b, "mappings nested too deep to merge");
    return NULL;
  }
  if (!(r = new_map(g, a->u.map.len + b->u.map.len, b)))
    return NULL;
  /* Copying counts against the visit budget like walking does. */
  g->pl.visits += a->u.map.len;
  if (a->u.map.len)
    memcpy(r->u.map.pairs, a->u.map.pairs, a->u.map.len * sizeof(mlg_pair));
  r->u.map.len = a->u.map.len;
  mlg_mapkeys_init(&mk);
  if (mlg_mapkeys_sync(&mk, r)) {
    mlg_pl_oom(&g->pl);
    goto done;
  }
  for (i = 0; i < b->u.map.len && !g->pl.rc; i++) {
    const mlg_pair *p = &b->u.map.pairs[i];
    if (mlg_pl_tick(&g->pl, p->val))
      break;
    at = p->key->type == MLG_STR
             ? mlg_mapkeys_find(&mk, r, p->key->u.str.ptr, p->key->u.str.len)
             : MLG_STRTAB_NONE;
    if (at == MLG_STRTAB_NONE) {
      r->u.map.pairs[r->u.map.len++] = *p;
      if (mlg_mapkeys_sync(&mk, r))
        mlg_pl_oom(&g->pl);
    } else {
      /* The winning side's key: its position is where the value is set. */
      r->u.map.pairs[at].val = mlg_gl_merge(g, r->u.map.pairs[at].val, p->val, depth + 1);
      r->u.map.pairs[at].key = p->key;
    }
  }
done:
  mlg_mapkeys_free(&mk);
  return g->pl.rc ? NULL : r;
}

/* --- extends ---------------------------------------------------------------- */

typedef struct ext_state {
  unsigned char *state; /* 0 todo, 1 resolving, 2 done */
  unsigned char *height;
} ext_state;

static int extend(mlg_gl *g, ext_state *st, size_t i)
{
  mlg_node *cfg = g->config;
  mlg_pair *self = &cfg->u.map.pairs[i];
  const mlg_pair *ex = mlg_gl_find(self->val, "extends");
  const char *name = self->key->type == MLG_STR ? self->key->u.str.ptr : "?";
  const mlg_node *list;
  mlg_node *acc = NULL;
  size_t k, n, h = 0;

  if (!ex) {
    st->state[i] = 2;
    return 0;
  }
  st->state[i] = 1;
  list = ex->val;
  if (list->type != MLG_STR && list->type != MLG_SEQ)
    return mlg_gl_fail(g, list->span.line ? list : ex->key,
                       "%.100s: extends should be an array of strings or a string", name);
  n = list->type == MLG_SEQ ? list->u.seq.len : 1;
  for (k = 0; k < n && !g->pl.rc; k++) {
    const mlg_node *pn = list->type == MLG_SEQ ? list->u.seq.items[k] : list;
    size_t pi;
    if (pn->type != MLG_STR)
      return mlg_gl_fail(g, pn, "%.100s: extends should be an array of strings or a string",
                         name);
    pi = mlg_mapkeys_find(&g->config_keys, cfg, pn->u.str.ptr, pn->u.str.len);
    if (pi == MLG_STRTAB_NONE)
      return mlg_gl_fail(g, pn, "%.100s: unknown key in `extends` (%.100s)", name,
                         pn->u.str.ptr);
    if (st->state[pi] == 1)
      return mlg_gl_fail(g, pn, "%.100s: circular dependency detected in `extends`", name);
    if (st->state[pi] == 0 && extend(g, st, pi))
      return g->pl.rc;
    if (cfg->u.map.pairs[pi].val->type != MLG_MAP)
      return mlg_gl_fail(g, pn, "%.100s: invalid base hash in `extends`", name);
    if (st->height[pi] + 1u > h)
      h = st->height[pi] + 1u;
    if (h > MLG_GL_MAX_EXTENDS)
      return mlg_gl_fail(g, ex->key, "%.100s: nested extends for more than %d levels", name,
                         MLG_GL_MAX_EXTENDS);
    acc = acc ? mlg_gl_merge(g, acc, cfg->u.map.pairs[pi].val, 0)
              : cfg->u.map.pairs[pi].val;
  }
  if (acc)
    self->val = mlg_gl_merge(g, acc, self->val, 0);
  st->height[i] = (unsigned char)h;
  st->state[i] = 2;
  return g->pl.rc;
}

int mlg_gl_extends(mlg_gl *g)
{
  ext_state st;
  mlg_node *cfg;
  size_t i;

  if (!(cfg = mlg_gl_without(g, g->config, NULL)))
    return g->pl.rc;
  g->config = cfg;
  if (mlg_mapkeys_sync(&g->config_keys, cfg))
    return mlg_pl_oom(&g->pl);
  st.state = calloc(cfg->u.map.len + 1, 1);
  st.height = calloc(cfg->u.map.len + 1, 1);
  if (!st.state || !st.height) {
    mlg_pl_oom(&g->pl);
    goto done;
  }
  for (i = 0; i < cfg->u.map.len && !g->pl.rc; i++)
    if (!st.state[i] && cfg->u.map.pairs[i].val->type == MLG_MAP)
      extend(g, &st, i);
done:
  free(st.state);
  free(st.height);
  return g->pl.rc;
}

/* --- !reference --------------------------------------------------------------- */

static int is_reference(const mlg_node *n)
{
  return n && n->tag && strcmp(n->tag, "!reference") == 0;
}

/* "[.a, script]" for messages. */
static void ref_text(char *buf, size_t size, const mlg_node *n)
{
  size_t o = 0, i;
  o += (size_t)snprintf(buf, size, "[");
  for (i = 0; n->type == MLG_SEQ && i < n->u.seq.len && o + 8 < size; i++) {
    const mlg_node *it = n->u.seq.items[i];
    o += (size_t)snprintf(buf + o, size - o, "%s%.60s", i ? ", " : "",
                          it->type == MLG_STR ? it->u.str.ptr : "?");
  }
  if (o + 2 < size)
    snprintf(buf + o, size - o, "]");
}

static mlg_node *resolve(mlg_gl *g, mlg_node *n);

static mlg_node *deref(mlg_gl *g, mlg_node *n)
{
  char txt[256];
  const mlg_node *t = g->config;
  size_t i;

  ref_text(txt, sizeof txt, n);
  if (n->type != MLG_SEQ || n->u.seq.len == 0) {
    mlg_gl_fail(g, n, "!reference needs a list of keys, such as [.job, script]");
    return NULL;
  }
  for (i = 0; i < g->nreference; i++)
    if (g->reference_stack[i] == n) {
      mlg_gl_fail(g, n, "!reference %s is part of a circular chain", txt);
      return NULL;
    }
  if (g->nreference >= MLG_GL_MAX_REFS) {
    mlg_gl_fail(g, n, "!reference %s: too many nested references (at most %d)", txt,
                MLG_GL_MAX_REFS);
    return NULL;
  }
  for (i = 0; i < n->u.seq.len; i++) {
    const mlg_node *k = n->u.seq.items[i];
    size_t at;
    if (k->type != MLG_STR) {
      mlg_gl_fail(g, n, "!reference %s: every key must be a string", txt);
      return NULL;
    }
    if (!t || t->type != MLG_MAP) {
      t = NULL;
      break;
    }
    if (t == g->config)
      at = mlg_mapkeys_find(&g->config_keys, t, k->u.str.ptr, k->u.str.len);
    else {
      const mlg_pair *p = mlg_map_find(t, k->u.str.ptr);
      at = p ? (size_t)(p - t->u.map.pairs) : MLG_STRTAB_NONE;
    }
    t = at == MLG_STRTAB_NONE ? NULL : t->u.map.pairs[at].val;
    if (!t)
      break;
  }
  if (!t) {
    mlg_gl_fail(g, n, "!reference %s could not be found", txt);
    return NULL;
  }
  g->reference_stack[g->nreference++] = n;
  t = resolve(g, (mlg_node *)t);
  g->nreference--;
  return (mlg_node *)t;
}

static mlg_node *resolve(mlg_gl *g, mlg_node *n)
{
  mlg_node *r, *c = NULL;
  size_t i, j;

  if (g->pl.rc || !n || mlg_pl_tick(&g->pl, n))
    return NULL;
  if (is_reference(n))
    return deref(g, n);
  if (n->type != MLG_SEQ && n->type != MLG_MAP)
    return n;
  if ((r = mlg_pl_memo_get(&g->refs, n)))
    return r;
  if (n->type == MLG_MAP) {
    for (i = 0; i < n->u.map.len; i++) {
      mlg_node *v = resolve(g, n->u.map.pairs[i].val);
      if (!v)
        return NULL;
      if (v != n->u.map.pairs[i].val && !c) {
        if (!(c = mlg_gl_without(g, n, NULL)))
          return NULL;
      }
      if (c)
        c->u.map.pairs[i].val = v;
    }
  } else {
    for (i = 0; i < n->u.seq.len; i++) {
      mlg_node *it = n->u.seq.items[i], *v = resolve(g, it);
      int splice;
      if (!v)
        return NULL;
      splice = is_reference(it) && v->type == MLG_SEQ;
      if ((v != it || splice) && !c) {
        if (!(c = mlg_node_seq(g->work))) {
          mlg_pl_oom(&g->pl);
          return NULL;
        }
        c->span = n->span;
        c->style = n->style;
        for (j = 0; j < i; j++)
          if (mlg_seq_push(g->work, c, n->u.seq.items[j])) {
            mlg_pl_oom(&g->pl);
            return NULL;
          }
      }
      if (!c)
        continue;
      if (splice) {
        for (j = 0; j < v->u.seq.len; j++)
          if (mlg_seq_push(g->work, c, v->u.seq.items[j])) {
            mlg_pl_oom(&g->pl);
            return NULL;
          }
      } else if (mlg_seq_push(g->work, c, v)) {
        mlg_pl_oom(&g->pl);
        return NULL;
      }
    }
  }
  r = c ? c : n;
  if (mlg_pl_memo_put(&g->refs, n, r)) {
    mlg_pl_oom(&g->pl);
    return NULL;
  }
  return r;
}

int mlg_gl_references(mlg_gl *g)
{
  mlg_node *cfg = g->config, *c = NULL;
  size_t i;

  /* References are looked up in the extended configuration as it is, and
   * each entry resolved into a copy of the top level. */
  for (i = 0; i < cfg->u.map.len && !g->pl.rc; i++) {
    mlg_node *v = resolve(g, cfg->u.map.pairs[i].val);
    if (!v)
      break;
    if (v != cfg->u.map.pairs[i].val && !c && !(c = mlg_gl_without(g, cfg, NULL)))
      break;
    if (c)
      c->u.map.pairs[i].val = v;
  }
  if (c && !g->pl.rc) {
    g->config = c;
    mlg_mapkeys_free(&g->config_keys);
    mlg_mapkeys_init(&g->config_keys);
    if (mlg_mapkeys_sync(&g->config_keys, c))
      mlg_pl_oom(&g->pl);
  }
  return g->pl.rc;
}
