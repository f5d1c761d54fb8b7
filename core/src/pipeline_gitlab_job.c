/*
 * GitLab job keywords as model objects (shapes in gitlab.h): images and
 * services, tags, artifacts, cache, rules, only/except, needs, environment,
 * trigger, parallel, inherit, id_tokens, and the spec: header.
 */
#include <string.h>

#include "gitlab.h"

static mlg_node *val_of(mlg_gl *g, const mlg_node *map, const char *key)
{
  const mlg_pair *p = mlg_gl_find(map, key);
  return p ? mlg_gl_val(g, p->key, p->val) : NULL;
}

static mlg_node *vals_of(mlg_gl *g, const mlg_node *map, const char *key)
{
  const mlg_pair *p = mlg_gl_find(map, key);
  return p ? mlg_gl_vals(g, p->key, p->val) : NULL;
}

mlg_node *mlg_gl_image(mlg_gl *g, const mlg_node *key, const mlg_node *v)
{
  mlg_pl *pl = &g->pl;
  const mlg_node *name = v;
  const mlg_pair *p = NULL;
  mlg_node *o;

  if (v && v->type == MLG_MAP) {
    p = mlg_gl_find(v, "name");
    name = p ? p->val : NULL;
  }
  mlg_gl_use(g, name ? name : key);
  /* mlg_pl_image reads a mapping's `image:`: give it the name itself. */
  if (!(o = mlg_pl_image(pl, p ? p->key : key, name && mlg_pl_is_scalar(name) ? name : key, 0)))
    return NULL;
  if (!name || !mlg_pl_is_scalar(name)) {
    mlg_gl_replace(g, o, MLG_A_RAW, mlg_pl_str(pl, "", 0));
    mlg_gl_replace(g, o, MLG_A_NAME, mlg_pl_str(pl, "", 0));
    mlg_gl_replace(g, o, MLG_A_PIN, mlg_pl_atom_node(pl, MLG_A_V_NONE));
  } else if (name->type == MLG_STR && memchr(name->u.str.ptr, '$', name->u.str.len)) {
    mlg_gl_replace(g, o, MLG_A_PIN, mlg_pl_atom_node(pl, MLG_A_V_EXPR));
  }
  mlg_gl_set_path(g, o, name ? name : key);
  if (v && v->type == MLG_MAP) {
    mlg_pl_set(pl, o, MLG_A_ENTRYPOINT, vals_of(g, v, "entrypoint"));
    mlg_pl_set(pl, o, MLG_A_G_PULL_POLICY, vals_of(g, v, "pull_policy"));
  }
  return pl->rc ? NULL : o;
}

mlg_node *mlg_gl_services(mlg_gl *g, const mlg_node *key, const mlg_node *v)
{
  mlg_pl *pl = &g->pl;
  mlg_node *seq = mlg_pl_seq(pl, v->type == MLG_SEQ ? v->u.seq.len : 1);
  size_t i, n = v->type == MLG_SEQ ? v->u.seq.len : 1;

  for (i = 0; i < n && !pl->rc; i++) {
    const mlg_node *it = v->type == MLG_SEQ ? v->u.seq.items[i] : v;
    mlg_node *s, *img;
    if (it->type == MLG_NULL || it->type == MLG_SEQ)
      continue;
    if (!(img = mlg_gl_image(g, key, it)) || !(s = mlg_pl_map(pl, 8)))
      break;
    mlg_pl_set(pl, s, MLG_A_NAME, (mlg_node *)mlg_map_get(img, "raw"));
    mlg_pl_set(pl, s, MLG_A_LINE, (mlg_node *)mlg_map_get(img, "line"));
    mlg_pl_set(pl, s, MLG_A_COL, (mlg_node *)mlg_map_get(img, "col"));
    mlg_pl_set(pl, s, MLG_A_PATH, (mlg_node *)mlg_map_get(img, "path"));
    mlg_pl_set(pl, s, MLG_A_IMAGE, img);
    if (it->type == MLG_MAP) {
      mlg_pl_set(pl, s, MLG_A_G_ALIAS, val_of(g, it, "alias"));
      mlg_pl_set(pl, s, MLG_A_ENTRYPOINT, vals_of(g, it, "entrypoint"));
      mlg_pl_set(pl, s, MLG_A_G_COMMAND, vals_of(g, it, "command"));
    }
    mlg_pl_push(pl, seq, s);
  }
  return pl->rc ? NULL : seq;
}

mlg_node *mlg_gl_runs_on(mlg_gl *g, const mlg_node *key, const mlg_node *v)
{
  mlg_node *r = mlg_pl_map(&g->pl, 4);
  mlg_pl_set(&g->pl, r, MLG_A_LABELS, mlg_gl_vals(g, key, v));
  mlg_gl_set_pos(g, r, key);
  return r;
}

mlg_node *mlg_gl_artifacts(mlg_gl *g, const mlg_node *key, const mlg_node *v)
{
  mlg_pl *pl = &g->pl;
  mlg_node *a = mlg_pl_map(pl, 12), *paths;
  const mlg_node *rep;
  static const struct {
    const char *key;
    mlg_pl_atom atom;
  } one[] = {{"untracked", MLG_A_G_UNTRACKED}, {"when", MLG_A_G_WHEN},
             {"expire_in", MLG_A_G_EXPIRE_IN}, {"name", MLG_A_NAME},
             {"expose_as", MLG_A_G_EXPOSE_AS}, {"public", MLG_A_G_PUBLIC}};
  size_t i;

  mlg_gl_set_pos(g, a, key);
  paths = vals_of(g, v, "paths");
  mlg_pl_set(pl, a, MLG_A_PATHS, paths ? paths : mlg_pl_seq(pl, 0));
  mlg_pl_set(pl, a, MLG_A_EXCLUDE, vals_of(g, v, "exclude"));
  for (i = 0; i < sizeof one / sizeof one[0]; i++)
    mlg_pl_set(pl, a, one[i].atom, val_of(g, v, one[i].key));
  if ((rep = mlg_gl_get(v, "reports")) && rep->type == MLG_MAP) {
    mlg_node *r = mlg_pl_map(pl, rep->u.map.len);
    for (i = 0; i < rep->u.map.len; i++)
      mlg_pl_set_named(pl, r, rep->u.map.pairs[i].key,
                       mlg_gl_vals(g, rep->u.map.pairs[i].key, rep->u.map.pairs[i].val));
    mlg_pl_set(pl, a, MLG_A_G_REPORTS, r);
  }
  return a;
}

static mlg_node *cache_one(mlg_gl *g, const mlg_node *key, const mlg_node *c)
{
  mlg_pl *pl = &g->pl;
  mlg_node *o = mlg_pl_map(pl, 12), *paths;
  const mlg_pair *p;

  if (key)
    mlg_gl_set_pos(g, o, key);
  else if (c->u.map.len)
    mlg_gl_set_pos(g, o, c->u.map.pairs[0].key);
  else
    mlg_gl_set_pos(g, o, c);
  if ((p = mlg_gl_find(c, "key"))) {
    if (p->val->type == MLG_MAP) {
      mlg_pl_set(pl, o, MLG_A_G_KEY_FILES, vals_of(g, p->val, "files"));
      mlg_pl_set(pl, o, MLG_A_G_KEY_PREFIX, val_of(g, p->val, "prefix"));
    } else {
      mlg_pl_set(pl, o, MLG_A_KEY, mlg_gl_val(g, p->key, p->val));
    }
  }
  paths = vals_of(g, c, "paths");
  mlg_pl_set(pl, o, MLG_A_PATHS, paths ? paths : mlg_pl_seq(pl, 0));
  mlg_pl_set(pl, o, MLG_A_G_POLICY, val_of(g, c, "policy"));
  mlg_pl_set(pl, o, MLG_A_G_UNTRACKED, val_of(g, c, "untracked"));
  mlg_pl_set(pl, o, MLG_A_G_WHEN, val_of(g, c, "when"));
  mlg_pl_set(pl, o, MLG_A_G_FALLBACK_KEYS, vals_of(g, c, "fallback_keys"));
  return o;
}

mlg_node *mlg_gl_cache(mlg_gl *g, const mlg_node *key, const mlg_node *v)
{
  mlg_node *seq = mlg_pl_seq(&g->pl, 1);
  size_t i;
  if (v->type == MLG_MAP) {
    mlg_pl_push(&g->pl, seq, cache_one(g, key, v));
  } else if (v->type == MLG_SEQ) {
    for (i = 0; i < v->u.seq.len && !g->pl.rc; i++)
      if (v->u.seq.items[i]->type == MLG_MAP)
        mlg_pl_push(&g->pl, seq, cache_one(g, NULL, v->u.seq.items[i]));
  }
  return seq;
}

static void rules_into(mlg_gl *g, mlg_node *seq, const mlg_node *v, int depth)
{
  mlg_pl *pl = &g->pl;
  size_t i;
  const mlg_pair *p;

  for (i = 0; v && v->type == MLG_SEQ && i < v->u.seq.len && !pl->rc; i++) {
    const mlg_node *r = v->u.seq.items[i];
    mlg_node *o;
    if (r->type == MLG_SEQ && depth < 10) {
      rules_into(g, seq, r, depth + 1);
      continue;
    }
    if (r->type != MLG_MAP || mlg_pl_tick(pl, r))
      continue;
    o = mlg_pl_map(pl, 12);
    mlg_gl_set_pos(g, o, r->u.map.len ? r->u.map.pairs[0].key : r);
    mlg_pl_set(pl, o, MLG_A_COND, val_of(g, r, "if"));
    if ((p = mlg_gl_find(r, "changes")))
      mlg_pl_set(pl, o, MLG_A_G_CHANGES, p->val->type == MLG_MAP
                                             ? vals_of(g, p->val, "paths")
                                             : mlg_gl_vals(g, p->key, p->val));
    if ((p = mlg_gl_find(r, "exists")))
      mlg_pl_set(pl, o, MLG_A_G_EXISTS, p->val->type == MLG_MAP
                                            ? vals_of(g, p->val, "paths")
                                            : mlg_gl_vals(g, p->key, p->val));
    mlg_pl_set(pl, o, MLG_A_G_WHEN, val_of(g, r, "when"));
    mlg_pl_set(pl, o, MLG_A_G_ALLOW_FAILURE, val_of(g, r, "allow_failure"));
    if ((p = mlg_gl_find(r, "variables")))
      mlg_pl_set(pl, o, MLG_A_G_VARIABLES, mlg_gl_kvs(g, p->val));
    if ((p = mlg_gl_find(r, "needs")))
      mlg_pl_set(pl, o, MLG_A_NEEDS, mlg_pl_raw(pl, p->val));
    mlg_pl_set(pl, o, MLG_A_G_START_IN, val_of(g, r, "start_in"));
    mlg_pl_push(pl, seq, o);
  }
}

mlg_node *mlg_gl_rules(mlg_gl *g, const mlg_node *v)
{
  mlg_node *seq = mlg_pl_seq(&g->pl, v && v->type == MLG_SEQ ? v->u.seq.len : 0);
  rules_into(g, seq, v, 0);
  return g->pl.rc ? NULL : seq;
}

mlg_node *mlg_gl_only(mlg_gl *g, const mlg_node *key, const mlg_node *v)
{
  mlg_pl *pl = &g->pl;
  mlg_node *o = mlg_pl_map(pl, 8), *x;
  mlg_gl_set_pos(g, o, key);
  if (v->type == MLG_MAP) {
    mlg_pl_set(pl, o, MLG_A_G_REFS, (x = vals_of(g, v, "refs")) ? x : mlg_pl_seq(pl, 0));
    mlg_pl_set(pl, o, MLG_A_G_VARIABLES,
               (x = vals_of(g, v, "variables")) ? x : mlg_pl_seq(pl, 0));
    mlg_pl_set(pl, o, MLG_A_G_CHANGES, (x = vals_of(g, v, "changes")) ? x : mlg_pl_seq(pl, 0));
    mlg_pl_set(pl, o, MLG_A_G_KUBERNETES, val_of(g, v, "kubernetes"));
  } else {
    mlg_pl_set(pl, o, MLG_A_G_REFS, mlg_gl_vals(g, key, v));
    mlg_pl_set(pl, o, MLG_A_G_VARIABLES, mlg_pl_seq(pl, 0));
    mlg_pl_set(pl, o, MLG_A_G_CHANGES, mlg_pl_seq(pl, 0));
  }
  return o;
}

static void needs_into(mlg_gl *g, mlg_node *seq, const mlg_node *v, int depth)
{
  mlg_pl *pl = &g->pl;
  size_t i, n = v->type == MLG_SEQ ? v->u.seq.len : 1;
  const mlg_pair *p;

  for (i = 0; i < n && !pl->rc; i++) {
    const mlg_node *it = v->type == MLG_SEQ ? v->u.seq.items[i] : v;
    mlg_node *o;
    if (it->type == MLG_SEQ) {
      if (depth < 10)
        needs_into(g, seq, it, depth + 1);
      continue;
    }
    if (it->type == MLG_NULL)
      continue;
    o = mlg_pl_map(pl, 10);
    if (it->type == MLG_MAP) {
      mlg_gl_set_pos(g, o, it->u.map.len ? it->u.map.pairs[0].key : it);
      if ((p = mlg_gl_find(it, "job")))
        mlg_pl_set(pl, o, MLG_A_JOB, mlg_pl_scalar_str(pl, p->val));
      if ((p = mlg_gl_find(it, "artifacts")) && p->val->type == MLG_BOOL)
        mlg_pl_set_bool(pl, o, MLG_A_G_ARTIFACTS, p->val->u.boolean);
      if ((p = mlg_gl_find(it, "optional")) && p->val->type == MLG_BOOL)
        mlg_pl_set_bool(pl, o, MLG_A_G_OPTIONAL, p->val->u.boolean);
      mlg_pl_set(pl, o, MLG_A_G_PROJECT, val_of(g, it, "project"));
      mlg_pl_set(pl, o, MLG_A_REF, val_of(g, it, "ref"));
      mlg_pl_set(pl, o, MLG_A_G_PIPELINE, val_of(g, it, "pipeline"));
    } else {
      mlg_gl_set_pos(g, o, it);
      mlg_pl_set(pl, o, MLG_A_JOB, mlg_pl_scalar_str(pl, it));
    }
    mlg_pl_push(pl, seq, o);
  }
}

mlg_node *mlg_gl_needs(mlg_gl *g, const mlg_node *v)
{
  mlg_node *seq = mlg_pl_seq(&g->pl, 0);
  needs_into(g, seq, v, 0);
  return g->pl.rc ? NULL : seq;
}

mlg_node *mlg_gl_environment(mlg_gl *g, const mlg_node *key, const mlg_node *v)
{
  mlg_pl *pl = &g->pl;
  mlg_node *e = mlg_pl_map(pl, 8);
  mlg_gl_set_pos(g, e, key);
  if (mlg_pl_is_scalar(v)) {
    mlg_pl_set(pl, e, MLG_A_NAME, mlg_gl_val(g, key, v));
  } else {
    mlg_pl_set(pl, e, MLG_A_NAME, val_of(g, v, "name"));
    mlg_pl_set(pl, e, MLG_A_URL, val_of(g, v, "url"));
    mlg_pl_set(pl, e, MLG_A_G_ACTION, val_of(g, v, "action"));
    mlg_pl_set(pl, e, MLG_A_G_DEPLOYMENT_TIER, val_of(g, v, "deployment_tier"));
  }
  return e;
}

mlg_node *mlg_gl_trigger(mlg_gl *g, const mlg_node *key, const mlg_node *v)
{
  mlg_pl *pl = &g->pl;
  mlg_node *t = mlg_pl_map(pl, 8);
  const mlg_node *f;
  mlg_gl_set_pos(g, t, key);
  if (mlg_pl_is_scalar(v)) {
    mlg_pl_set(pl, t, MLG_A_G_PROJECT, mlg_gl_val(g, key, v));
    return t;
  }
  mlg_pl_set(pl, t, MLG_A_G_PROJECT, val_of(g, v, "project"));
  mlg_pl_set(pl, t, MLG_A_V_BRANCH, val_of(g, v, "branch"));
  if (mlg_gl_get(v, "include"))
    mlg_pl_set(pl, t, MLG_A_INCLUDE, mlg_pl_raw(pl, mlg_gl_get(v, "include")));
  mlg_pl_set(pl, t, MLG_A_STRATEGY, val_of(g, v, "strategy"));
  if ((f = mlg_gl_get(v, "forward")) && f->type == MLG_MAP) {
    mlg_node *fw = mlg_pl_map(pl, 2);
    mlg_pl_set(pl, fw, MLG_A_G_YAML_VARIABLES, val_of(g, f, "yaml_variables"));
    mlg_pl_set(pl, fw, MLG_A_G_PIPELINE_VARIABLES, val_of(g, f, "pipeline_variables"));
    mlg_pl_set(pl, t, MLG_A_G_FORWARD, fw);
  }
  return t;
}

mlg_node *mlg_gl_parallel(mlg_gl *g, const mlg_node *key, const mlg_node *v)
{
  mlg_pl *pl = &g->pl;
  mlg_node *o = mlg_pl_map(pl, 4);
  const mlg_node *m;
  size_t i;
  mlg_gl_set_pos(g, o, key);
  if (mlg_pl_is_scalar(v)) {
    mlg_pl_set(pl, o, MLG_A_G_COUNT, mlg_gl_val(g, key, v));
  } else if ((m = mlg_gl_get(v, "matrix")) && m->type == MLG_SEQ) {
    mlg_node *seq = mlg_pl_seq(pl, m->u.seq.len);
    for (i = 0; i < m->u.seq.len; i++)
      mlg_pl_push(pl, seq, mlg_pl_raw(pl, m->u.seq.items[i]));
    mlg_pl_set(pl, o, MLG_A_MATRIX, seq);
  }
  return o;
}

static mlg_node *inherit_one(mlg_gl *g, const mlg_node *v)
{
  if (v->type == MLG_BOOL)
    return mlg_pl_bool(&g->pl, v->u.boolean);
  return mlg_gl_strs(g, v);
}

mlg_node *mlg_gl_inherit(mlg_gl *g, const mlg_node *key, const mlg_node *v)
{
  mlg_node *o = mlg_pl_map(&g->pl, 4);
  const mlg_node *x;
  mlg_gl_set_pos(g, o, key);
  if ((x = mlg_gl_get(v, "default")))
    mlg_pl_set(&g->pl, o, MLG_A_DEFAULT, inherit_one(g, x));
  if ((x = mlg_gl_get(v, "variables")))
    mlg_pl_set(&g->pl, o, MLG_A_G_VARIABLES, inherit_one(g, x));
  return o;
}

mlg_node *mlg_gl_id_tokens(mlg_gl *g, const mlg_node *v)
{
  mlg_pl *pl = &g->pl;
  mlg_node *seq = mlg_pl_seq(pl, 0);
  size_t i;
  for (i = 0; v && v->type == MLG_MAP && i < v->u.map.len && !pl->rc; i++) {
    const mlg_pair *p = &v->u.map.pairs[i];
    mlg_node *o = mlg_pl_map(pl, 6);
    const mlg_pair *aud = mlg_gl_find(p->val, "aud");
    mlg_pl_set(pl, o, MLG_A_NAME, mlg_pl_src_str(pl, p->key));
    if (aud)
      mlg_pl_set(pl, o, MLG_A_VALUE, mlg_gl_val(g, aud->key, aud->val));
    mlg_pl_set_atom(pl, o, MLG_A_VTYPE, mlg_pl_vtype(aud ? aud->val : p->val));
    mlg_gl_set_pos(g, o, p->key);
    mlg_pl_push(pl, seq, o);
  }
  return seq;
}

mlg_node *mlg_gl_spec(mlg_gl *g, const mlg_node *key, const mlg_node *v)
{
  mlg_pl *pl = &g->pl;
  mlg_node *s = mlg_pl_map(pl, 4), *seq = mlg_pl_seq(pl, 0);
  const mlg_node *in = mlg_gl_get(v, "inputs");
  size_t i;

  mlg_gl_set_pos(g, s, key);
  for (i = 0; in && in->type == MLG_MAP && i < in->u.map.len && !pl->rc; i++) {
    const mlg_pair *p = &in->u.map.pairs[i];
    const mlg_node *d = p->val, *x;
    mlg_node *o = mlg_pl_map(pl, 9);
    mlg_pl_set(pl, o, MLG_A_NAME, mlg_pl_src_str(pl, p->key));
    mlg_gl_set_pos(g, o, p->key);
    if ((x = mlg_gl_get(d, "type")))
      mlg_pl_set(pl, o, MLG_A_TYPE, mlg_pl_scalar_str(pl, x));
    if ((x = mlg_gl_get(d, "default")))
      mlg_pl_set(pl, o, MLG_A_DEFAULT, mlg_gl_val(g, mlg_gl_find(d, "default")->key, x));
    mlg_pl_set(pl, o, MLG_A_OPTIONS, vals_of(g, d, "options"));
    mlg_pl_set(pl, o, MLG_A_G_REGEX, val_of(g, d, "regex"));
    mlg_pl_set(pl, o, MLG_A_DESCRIPTION, val_of(g, d, "description"));
    mlg_pl_push(pl, seq, o);
  }
  mlg_pl_set(pl, s, MLG_A_INPUTS, seq);
  return s;
}

int mlg_gl_common_key(mlg_gl *g, mlg_node *obj, const mlg_node *k, const mlg_node *v)
{
  mlg_pl *pl = &g->pl;
  if (mlg_pl_is_str(k, "image"))
    mlg_pl_set(pl, obj, MLG_A_CONTAINER, mlg_gl_image(g, k, v));
  else if (mlg_pl_is_str(k, "services"))
    mlg_pl_set(pl, obj, MLG_A_SERVICES, mlg_gl_services(g, k, v));
  else if (mlg_pl_is_str(k, "tags"))
    mlg_pl_set(pl, obj, MLG_A_RUNS_ON, mlg_gl_runs_on(g, k, v));
  else if (mlg_pl_is_str(k, "artifacts"))
    mlg_pl_set(pl, obj, MLG_A_G_ARTIFACTS, mlg_gl_artifacts(g, k, v));
  else if (mlg_pl_is_str(k, "cache"))
    mlg_pl_set(pl, obj, MLG_A_G_CACHE, mlg_gl_cache(g, k, v));
  else if (mlg_pl_is_str(k, "retry"))
    mlg_pl_set(pl, obj, MLG_A_G_RETRY, mlg_pl_raw(pl, v));
  else if (mlg_pl_is_str(k, "hooks"))
    mlg_pl_set(pl, obj, MLG_A_HOOKS, mlg_pl_raw(pl, v));
  else if (mlg_pl_is_str(k, "timeout"))
    mlg_pl_set(pl, obj, MLG_A_G_TIMEOUT, mlg_gl_val(g, k, v));
  else if (mlg_pl_is_str(k, "interruptible"))
    mlg_pl_set(pl, obj, MLG_A_G_INTERRUPTIBLE, mlg_gl_val(g, k, v));
  else if (mlg_pl_is_str(k, "id_tokens"))
    mlg_pl_set(pl, obj, MLG_A_G_ID_TOKENS, mlg_gl_id_tokens(g, v));
  else
    return 0;
  return 1;
}
