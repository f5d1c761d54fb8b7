/*
 * include: entries of GitLab CI files. Every entry is modelled (kind,
 * location, ref and how it is pinned); local files are read through the
 * caller's reader and merged the way GitLab merges them (gitlab.h, 1.).
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "gitlab.h"

static int is_hex(const char *s, size_t n)
{
  size_t i;
  for (i = 0; i < n; i++)
    if (!((s[i] >= '0' && s[i] <= '9') || (s[i] >= 'a' && s[i] <= 'f') ||
          (s[i] >= 'A' && s[i] <= 'F')))
      return 0;
  return n > 0;
}

/* 1, 1.2, v1.2.3, 1.2.3-rc.1 */
static int is_version(const char *s, size_t n)
{
  size_t i = 0;
  int digits = 0;
  if (i < n && (s[i] == 'v' || s[i] == 'V'))
    i++;
  for (; i < n && ((s[i] >= '0' && s[i] <= '9') || s[i] == '.'); i++)
    digits |= s[i] != '.';
  if (!digits)
    return 0;
  if (i < n && (s[i] == '-' || s[i] == '+'))
    return 1;
  return i == n;
}

static mlg_pl_atom ref_pin(const char *s, size_t n)
{
  if (memchr(s, '$', n))
    return MLG_A_V_EXPR;
  if (n == 0)
    return MLG_A_V_NONE;
  if (n == 7 && !memcmp(s, "~latest", 7))
    return MLG_A_V_LATEST;
  if (n == 40 && is_hex(s, n))
    return MLG_A_V_SHA;
  if (n >= 7 && n < 40 && is_hex(s, n) && !is_version(s, n))
    return MLG_A_V_SHORT_SHA;
  if (is_version(s, n))
    return MLG_A_V_TAG;
  return MLG_A_V_BRANCH;
}

static int has_dollar(const mlg_node *v)
{
  return v && v->type == MLG_STR && memchr(v->u.str.ptr, '$', v->u.str.len);
}

static int is_url(const mlg_node *v)
{
  return v->type == MLG_STR &&
         (strncmp(v->u.str.ptr, "https://", 8) == 0 || strncmp(v->u.str.ptr, "http://", 7) == 0);
}

static const char *const kinds[] = {"local", "project", "remote", "template", "component"};
static const mlg_pl_atom kind_atoms[] = {MLG_A_V_LOCAL, MLG_A_G_PROJECT, MLG_A_G_REMOTE,
                                         MLG_A_G_TEMPLATE, MLG_A_G_COMPONENT};

/* The model of one entry; *local gets the local path node (or NULL). */
static mlg_node *entry(mlg_gl *g, const mlg_node *e, const mlg_node *ikey,
                       const mlg_node **local)
{
  mlg_pl *pl = &g->pl;
  mlg_node *o = mlg_pl_map(pl, 14);
  const mlg_node *loc = NULL, *lockey = ikey;
  const mlg_pair *p;
  mlg_pl_atom pin = MLG_A_V_NONE;
  size_t k = 0, i;

  *local = NULL;
  if (e->type == MLG_STR) {
    loc = e;
    k = is_url(e) ? 2 : 0;
    mlg_gl_set_pos(g, o, e);
  } else if (e->type == MLG_MAP) {
    int found = 0;
    for (i = 0; i < 5; i++)
      if ((p = mlg_gl_find(e, kinds[i]))) {
        if (found) {
          mlg_gl_fail(g, p->key, "include config must use exactly one of local:, project:, "
                      "remote:, template: or component:");
          return NULL;
        }
        found = 1;
        k = i;
        loc = p->val;
        lockey = p->key;
      }
    if (!found) {
      mlg_gl_fail(g, e->u.map.len ? e->u.map.pairs[0].key : e,
                  "include config must use one of local:, project:, remote:, template: "
                  "or component:");
      return NULL;
    }
    mlg_pl_set_first_key_pos(pl, o, e);
    mlg_gl_set_path(g, o, e->u.map.len ? e->u.map.pairs[0].key : e);
  } else {
    mlg_gl_fail(g, e->span.line ? e : ikey,
                "include config should be a string, a hash or an array of them, not %s",
                mlg_node_typename(e));
    return NULL;
  }
  if (!mlg_pl_is_scalar(loc) || loc->type == MLG_NULL) {
    mlg_gl_fail(g, loc && loc->span.line ? loc : lockey, "include %s: must be a string",
                kinds[k]);
    return NULL;
  }
  mlg_pl_set_atom(pl, o, MLG_A_KIND, kind_atoms[k]);
  mlg_pl_set(pl, o, MLG_A_G_LOCATION, mlg_gl_val(g, lockey, loc));
  switch (k) {
  case 0:
    pin = MLG_A_V_LOCAL;
    *local = loc;
    break;
  case 1:
    if ((p = mlg_gl_find(e, "ref"))) {
      const char *s = "";
      size_t n = 0;
      char buf[64];
      mlg_pl_set(pl, o, MLG_A_REF, mlg_gl_val(g, p->key, p->val));
      if (p->val->type == MLG_STR) {
        s = p->val->u.str.ptr;
        n = p->val->u.str.len;
      } else if (mlg_pl_is_scalar(p->val)) {
        n = mlg_pl_canon(buf, sizeof buf, p->val);
        s = buf;
      }
      pin = ref_pin(s, n);
    }
    if ((p = mlg_gl_find(e, "file")))
      mlg_pl_set(pl, o, MLG_A_G_FILES, mlg_gl_vals(g, p->key, p->val));
    break;
  case 4:
    if (loc->type == MLG_STR) {
      const char *at = memchr(loc->u.str.ptr, '@', loc->u.str.len);
      if (at) {
        size_t n = loc->u.str.len - (size_t)(at + 1 - loc->u.str.ptr);
        mlg_pl_set(pl, o, MLG_A_VERSION, mlg_pl_str(pl, at + 1, n));
        pin = ref_pin(at + 1, n);
      }
    }
    break;
  default:
    break;
  }
  /* A component's version decides what it runs ($CI_SERVER_FQDN in its
   * address is the usual way to name the host); for other kinds a
   * variable anywhere in the location makes the target unknown. */
  if (has_dollar(loc) && k != 4)
    pin = MLG_A_V_EXPR;
  mlg_pl_set_atom(pl, o, MLG_A_PIN, pin);
  if ((p = mlg_gl_find(e, "inputs")))
    mlg_pl_set(pl, o, MLG_A_INPUTS, mlg_gl_kvs(g, p->val));
  if ((p = mlg_gl_find(e, "rules")))
    mlg_pl_set(pl, o, MLG_A_G_RULES, mlg_gl_rules(g, p->val));
  return pl->rc ? NULL : o;
}

/* Reads, parses and resolves one local file; *out its configuration. */
static int local(mlg_gl *g, mlg_node *inc, const mlg_node *e, const mlg_node *loc,
                 size_t depth, size_t *stack, mlg_node **out)
{
  const char *p = loc->u.str.ptr;
  char *data = NULL;
  size_t len = 0, i, fi;
  mlg_gl_file *f;
  mlg_err rerr;
  int rc;

  *out = NULL;
  while (*p == '/')
    p++;
  while (p[0] == '.' && p[1] == '/')
    p += 2;
  if (!*p)
    return mlg_gl_fail(g, loc, "include local: needs a file path");
  for (i = 0; i <= depth; i++)
    if (strcmp(g->files[stack[i]].path, p) == 0)
      return mlg_gl_fail(g, loc, "include cycle: `%.200s` includes itself", p);
  if (depth + 1 > MLG_GL_MAX_INCLUDE_DEPTH)
    return mlg_gl_fail(g, loc, "Maximum of %d nested includes are allowed!",
                       MLG_GL_MAX_INCLUDE_DEPTH);
  memset(&rerr, 0, sizeof rerr);
  rc = g->rd(g->rd_ud, p, &data, &len, &rerr);
  if (rc == MLG_ENOENT) {
    free(data);
    return mlg_gl_fail(g, loc, "Local file `%.200s` does not exist!", p);
  }
  if (rc) {
    free(data);
    return mlg_gl_fail(g, loc, "cannot read included file `%.200s`: %s", p, rerr.msg);
  }
  if (!data && !(data = calloc(1, 1))) /* an empty file */
    return mlg_pl_oom(&g->pl);
  g->included_bytes += len;
  if (g->included_bytes > MLG_GL_MAX_INCLUDED_BYTES) {
    free(data);
    return mlg_gl_fail(g, loc, "included files hold more than %zu bytes",
                       MLG_GL_MAX_INCLUDED_BYTES);
  }
  /* Included text grows the model like the main file's does. */
  g->pl.doc->limit_bytes += len * MLG_PL_DOC_FACTOR;
  g->work->limit_bytes += len * MLG_PL_DOC_FACTOR;
  if (!(f = mlg_gl_add_file(g, p, data, len)))
    return g->pl.rc;
  fi = g->nfiles - 1;
  if (mlg_gl_parse(g, f))
    return g->pl.rc;
  (void)e;
  mlg_pl_set_bool(&g->pl, inc, MLG_A_G_RESOLVED, 1);
  mlg_pl_set(&g->pl, inc, MLG_A_G_FILE, g->files[fi].pathnode);
  if (g->files[fi].spec)
    mlg_pl_set(&g->pl, inc, MLG_A_G_SPEC,
               mlg_gl_spec(g, g->files[fi].spec_key, g->files[fi].spec));
  stack[depth + 1] = fi;
  return mlg_gl_includes(g, fi, depth + 1, stack, out);
}

int mlg_gl_includes(mlg_gl *g, size_t fi, size_t depth, size_t *stack, mlg_node **out)
{
  const mlg_node *root = g->files[fi].root;
  const mlg_pair *ip = mlg_gl_find(root, "include");
  const mlg_node *list;
  mlg_node *merged = NULL, *base;
  size_t n, i;

  *out = NULL;
  if (!ip) {
    *out = (mlg_node *)root;
    return 0;
  }
  list = ip->val;
  n = list->type == MLG_SEQ ? list->u.seq.len : list->type == MLG_NULL ? 0 : 1;
  for (i = 0; i < n && !g->pl.rc; i++) {
    const mlg_node *e = list->type == MLG_SEQ ? list->u.seq.items[i] : list, *loc;
    mlg_node *inc, *sub = NULL;
    if (++g->nincludes > MLG_GL_MAX_INCLUDES)
      return mlg_gl_fail(g, e, "Maximum of %d nested includes are allowed!",
                         MLG_GL_MAX_INCLUDES);
    if (!(inc = entry(g, e, ip->key, &loc)))
      return g->pl.rc;
    mlg_pl_push(&g->pl, g->includes, inc);
    {
      size_t mark = mlg_pl_route_cstr(&g->pl, "include");
      if (list->type == MLG_SEQ)
        mlg_pl_route_index(&g->pl, i);
      mlg_gl_exprs(g, e, MLG_A_F_INPUTS, NULL);
      mlg_pl_route_pop(&g->pl, mark);
    }
    if (loc && loc->type == MLG_STR && g->rd && !memchr(loc->u.str.ptr, '*', loc->u.str.len) &&
        !has_dollar(loc)) {
      if (local(g, inc, e, loc, depth, stack, &sub))
        return g->pl.rc;
      merged = merged ? mlg_gl_merge(g, merged, sub, 0) : sub;
    } else {
      mlg_pl_set_bool(&g->pl, inc, MLG_A_G_RESOLVED, 0);
    }
  }
  if (g->pl.rc || !(base = mlg_gl_without(g, root, "include")))
    return g->pl.rc;
  *out = merged ? mlg_gl_merge(g, merged, base, 0) : base;
  return g->pl.rc;
}
