/*
 * GitHub Actions workflows: triggers, permissions, env, defaults,
 * concurrency and jobs (steps, `uses:` and images are in
 * pipeline_gha_step.c). Each key is modelled and its expressions recorded
 * with the field that tells policies what the value is used for.
 */
#include <stdio.h>
#include <string.h>

#include "pipeline_val.h"

static const mlg_node *get(const mlg_node *map, const char *key)
{
  return mlg_map_get(map, key);
}

/* --- inputs (workflow_dispatch, workflow_call, actions) --------------------- */

mlg_node *mlg_pl_inputs(mlg_pl *pl, const mlg_node *v)
{
  mlg_node *seq;
  size_t i, j, mark, mk2;

  if (pl->rc || !v || v->type != MLG_MAP) {
    mlg_pl_exprs(pl, v, MLG_A_F_INPUTS, NULL);
    return mlg_pl_seq(pl, 0);
  }
  if (!(seq = mlg_pl_seq(pl, v->u.map.len)))
    return NULL;
  for (i = 0; i < v->u.map.len && !pl->rc; i++) {
    const mlg_node *k = v->u.map.pairs[i].key, *d = v->u.map.pairs[i].val, *x;
    mlg_node *in = mlg_pl_map(pl, 8);
    mlg_pl_set(pl, in, MLG_A_NAME, mlg_pl_src_str(pl, k));
    mlg_pl_set_pos(pl, in, k);
    if (d && d->type == MLG_MAP) {
      if ((x = get(d, "type")) && mlg_pl_is_scalar(x))
        mlg_pl_set(pl, in, MLG_A_TYPE, mlg_pl_scalar_str(pl, x));
      if ((x = get(d, "required")) && x->type == MLG_BOOL)
        mlg_pl_set_bool(pl, in, MLG_A_REQUIRED, x->u.boolean);
      if ((x = get(d, "default")))
        mlg_pl_set(pl, in, MLG_A_DEFAULT, mlg_pl_val(pl, mlg_map_find(d, "default")->key, x));
      if ((x = get(d, "options")))
        mlg_pl_set(pl, in, MLG_A_OPTIONS, mlg_pl_strs(pl, x));
      if ((x = get(d, "description")))
        mlg_pl_set(pl, in, MLG_A_DESCRIPTION,
                   mlg_pl_val(pl, mlg_map_find(d, "description")->key, x));
    }
    mlg_pl_push(pl, seq, in);
    mark = mlg_pl_route_key(pl, k);
    if (d && d->type == MLG_MAP) {
      for (j = 0; j < d->u.map.len; j++) {
        const mlg_pair *p = &d->u.map.pairs[j];
        mk2 = mlg_pl_route_key(pl, p->key);
        mlg_pl_exprs(pl, p->val,
                     mlg_pl_is_str(p->key, "default") ? MLG_A_F_DEFAULT : MLG_A_F_INPUTS, k);
        mlg_pl_route_pop(pl, mk2);
      }
    } else {
      mlg_pl_exprs(pl, d, MLG_A_F_INPUTS, k);
    }
    mlg_pl_route_pop(pl, mark);
  }
  return pl->rc ? NULL : seq;
}

/* --- on ------------------------------------------------------------------- */

static const struct {
  const char *key;
  mlg_pl_atom atom;
} filters[] = {
    {"types", MLG_A_TYPES},
    {"branches", MLG_A_BRANCHES},
    {"branches-ignore", MLG_A_BRANCHES_IGNORE},
    {"tags", MLG_A_TAGS},
    {"tags-ignore", MLG_A_TAGS_IGNORE},
    {"paths", MLG_A_PATHS},
    {"paths-ignore", MLG_A_PATHS_IGNORE},
    {"workflows", MLG_A_WORKFLOWS},
};

/* One event: name (a source string), at (its position), cfg (its value). */
static mlg_node *event(mlg_pl *pl, const mlg_node *name, const mlg_node *at,
                       const mlg_node *cfg)
{
  mlg_node *ev = mlg_pl_map(pl, 8);
  size_t i, f;

  mlg_pl_set(pl, ev, MLG_A_NAME, mlg_pl_src_str(pl, name));
  mlg_pl_set_pos(pl, ev, at);
  if (cfg && cfg->type == MLG_MAP) {
    for (i = 0; i < cfg->u.map.len && !pl->rc; i++) {
      const mlg_node *k = cfg->u.map.pairs[i].key, *v = cfg->u.map.pairs[i].val;
      size_t mark = mlg_pl_route_key(pl, k);
      if (mlg_pl_tick(pl, v))
        break;
      for (f = 0; f < sizeof filters / sizeof filters[0]; f++)
        if (mlg_pl_is_str(k, filters[f].key))
          break;
      if (f < sizeof filters / sizeof filters[0]) {
        mlg_pl_set(pl, ev, filters[f].atom, mlg_pl_strs(pl, v));
        mlg_pl_exprs(pl, v, MLG_A_F_OTHER, NULL);
      } else if (mlg_pl_is_str(k, "inputs")) {
        mlg_pl_set(pl, ev, MLG_A_INPUTS, mlg_pl_inputs(pl, v));
      } else if (mlg_pl_is_str(k, "secrets") || mlg_pl_is_str(k, "outputs")) {
        int out = mlg_pl_is_str(k, "outputs");
        mlg_node *kv = mlg_pl_kvs(pl, v);
        mlg_pl_set(pl, ev, out ? MLG_A_OUTPUTS : MLG_A_SECRETS, kv ? kv : mlg_pl_seq(pl, 0));
        mlg_pl_exprs_entries(pl, v, out ? MLG_A_F_OUTPUTS : MLG_A_F_SECRETS);
      } else {
        mlg_pl_exprs(pl, v, MLG_A_F_OTHER, NULL);
      }
      mlg_pl_route_pop(pl, mark);
    }
  } else if (cfg && cfg->type == MLG_SEQ && mlg_pl_is_str(name, "schedule")) {
    mlg_node *crons = mlg_pl_seq(pl, cfg->u.seq.len);
    for (i = 0; i < cfg->u.seq.len && !pl->rc; i++) {
      const mlg_pair *c = mlg_map_find(cfg->u.seq.items[i], "cron");
      if (c)
        mlg_pl_push(pl, crons, mlg_pl_val(pl, c->key, c->val));
    }
    mlg_pl_set(pl, ev, MLG_A_CRONS, crons);
    mlg_pl_exprs(pl, cfg, MLG_A_F_OTHER, NULL);
  } else {
    mlg_pl_exprs(pl, cfg, MLG_A_F_OTHER, NULL);
  }
  return ev;
}

static mlg_node *on(mlg_pl *pl, const mlg_node *key, const mlg_node *v)
{
  mlg_node *o = mlg_pl_map(pl, 4), *events, *names;
  size_t i, mark;

  mlg_pl_set_pos(pl, o, key);
  events = mlg_pl_seq(pl, 0);
  names = mlg_pl_map(pl, 0);
  if (v->type == MLG_STR) {
    mlg_pl_push(pl, events, event(pl, v, v, NULL));
    mlg_pl_set_named(pl, names, v, mlg_pl_bool(pl, 1));
  } else if (v->type == MLG_SEQ) {
    for (i = 0; i < v->u.seq.len && !pl->rc; i++) {
      const mlg_node *it = v->u.seq.items[i];
      if (it->type != MLG_STR) {
        mlg_pl_fail(pl, it, "events in 'on' must be names, not %s", mlg_node_typename(it));
        return NULL;
      }
      mlg_pl_push(pl, events, event(pl, it, it, NULL));
      mlg_pl_set_named(pl, names, it, mlg_pl_bool(pl, 1));
    }
  } else if (v->type == MLG_MAP) {
    for (i = 0; i < v->u.map.len && !pl->rc; i++) {
      const mlg_pair *p = &v->u.map.pairs[i];
      mark = mlg_pl_route_key(pl, p->key);
      mlg_pl_push(pl, events, event(pl, p->key, p->key, p->val));
      mlg_pl_set_named(pl, names, p->key, mlg_pl_bool(pl, 1));
      mlg_pl_route_pop(pl, mark);
    }
  } else {
    mlg_pl_fail(pl, v->span.line ? v : key,
                "'on' must be an event name, a list or a mapping of events, not %s",
                mlg_node_typename(v));
    return NULL;
  }
  mlg_pl_set(pl, o, MLG_A_EVENTS, events);
  mlg_pl_set(pl, o, MLG_A_NAMES, names);
  return o;
}

/* --- permissions, env, defaults, concurrency ---------------------------------- */

static mlg_node *perm(mlg_pl *pl, const mlg_node *key, const mlg_node *v)
{
  mlg_node *p = mlg_pl_map(pl, 5), *scopes = mlg_pl_seq(pl, 0), *levels = mlg_pl_map(pl, 0);
  mlg_pl_atom kind = MLG_A_V_INVALID;
  size_t i;

  mlg_pl_set_pos(pl, p, key);
  if (v->type == MLG_STR) {
    if (mlg_pl_is_str(v, "read-all"))
      kind = MLG_A_V_READ_ALL;
    else if (mlg_pl_is_str(v, "write-all"))
      kind = MLG_A_V_WRITE_ALL;
    else if (mlg_pl_has_expr(v))
      kind = MLG_A_V_EXPR;
  } else if (v->type == MLG_MAP) {
    kind = v->u.map.len ? MLG_A_V_MAP : MLG_A_V_NONE;
    for (i = 0; i < v->u.map.len && !pl->rc; i++) {
      const mlg_pair *pr = &v->u.map.pairs[i];
      mlg_node *sc = mlg_pl_map(pl, 5), *lvl = mlg_pl_scalar_str(pl, pr->val);
      if (!lvl)
        lvl = mlg_pl_str(pl, "", 0);
      mlg_pl_set(pl, sc, MLG_A_NAME, mlg_pl_src_str(pl, pr->key));
      mlg_pl_set(pl, sc, MLG_A_LEVEL, lvl);
      mlg_pl_set_pos(pl, sc, pr->key);
      mlg_pl_set(pl, sc, MLG_A_COMMENT, mlg_pl_comment_on(pl, pr->key->span.line));
      mlg_pl_push(pl, scopes, sc);
      mlg_pl_set_named(pl, levels, pr->key, lvl);
    }
  }
  mlg_pl_set_atom(pl, p, MLG_A_KIND, kind);
  mlg_pl_set(pl, p, MLG_A_SCOPES, scopes);
  mlg_pl_set(pl, p, MLG_A_LEVELS, levels);
  mlg_pl_exprs(pl, v, MLG_A_F_OTHER, NULL);
  return p;
}

static mlg_node *defaults(mlg_pl *pl, const mlg_node *key, const mlg_node *v)
{
  mlg_node *d = mlg_pl_map(pl, 4);
  const mlg_node *run = get(v, "run");
  const mlg_pair *p;
  size_t mark, mk2;

  mlg_pl_set_pos(pl, d, key);
  if ((p = mlg_map_find(run, "shell")))
    mlg_pl_set(pl, d, MLG_A_SHELL, mlg_pl_val(pl, p->key, p->val));
  if ((p = mlg_map_find(run, "working-directory")))
    mlg_pl_set(pl, d, MLG_A_WORKING_DIRECTORY, mlg_pl_val(pl, p->key, p->val));
  if (run && run->type == MLG_MAP) {
    size_t i;
    mark = mlg_pl_route_cstr(pl, "run");
    for (i = 0; i < run->u.map.len; i++) {
      const mlg_pair *q = &run->u.map.pairs[i];
      mk2 = mlg_pl_route_key(pl, q->key);
      mlg_pl_exprs(pl, q->val,
                   mlg_pl_is_str(q->key, "shell") ? MLG_A_F_SHELL
                   : mlg_pl_is_str(q->key, "working-directory") ? MLG_A_F_WORKING_DIRECTORY
                                                                 : MLG_A_F_OTHER,
                   NULL);
      mlg_pl_route_pop(pl, mk2);
    }
    mlg_pl_route_pop(pl, mark);
  } else {
    mlg_pl_exprs(pl, v, MLG_A_F_OTHER, NULL);
  }
  return d;
}

static mlg_node *concurrency(mlg_pl *pl, const mlg_node *key, const mlg_node *v)
{
  mlg_node *c = mlg_pl_map(pl, 4);
  const mlg_pair *p;

  mlg_pl_set_pos(pl, c, key);
  if (mlg_pl_is_scalar(v)) {
    mlg_pl_set(pl, c, MLG_A_GROUP, mlg_pl_val(pl, key, v));
  } else {
    if ((p = mlg_map_find(v, "group")))
      mlg_pl_set(pl, c, MLG_A_GROUP, mlg_pl_val(pl, p->key, p->val));
    if ((p = mlg_map_find(v, "cancel-in-progress")))
      mlg_pl_set(pl, c, MLG_A_CANCEL_IN_PROGRESS, mlg_pl_val(pl, p->key, p->val));
  }
  mlg_pl_exprs(pl, v, MLG_A_F_CONCURRENCY, NULL);
  return c;
}

/* --- jobs ------------------------------------------------------------------- */

static mlg_node *runs_on(mlg_pl *pl, const mlg_node *key, const mlg_node *v)
{
  mlg_node *r = mlg_pl_map(pl, 5);
  int expr = 0;
  const mlg_pair *p;

  if (v->type == MLG_MAP) {
    if ((p = mlg_map_find(v, "labels")))
      mlg_pl_set(pl, r, MLG_A_LABELS, mlg_pl_vals(pl, p->key, p->val, &expr));
    else
      mlg_pl_set(pl, r, MLG_A_LABELS, mlg_pl_seq(pl, 0));
    if ((p = mlg_map_find(v, "group"))) {
      mlg_pl_set(pl, r, MLG_A_GROUP, mlg_pl_val(pl, p->key, p->val));
      expr |= mlg_pl_has_expr(p->val);
    }
  } else if (v->type == MLG_NULL) {
    mlg_pl_set(pl, r, MLG_A_LABELS, mlg_pl_seq(pl, 0));
  } else {
    mlg_pl_set(pl, r, MLG_A_LABELS, mlg_pl_vals(pl, key, v, &expr));
  }
  mlg_pl_set_pos(pl, r, key);
  mlg_pl_set_bool(pl, r, MLG_A_EXPR, expr);
  mlg_pl_exprs(pl, v, MLG_A_F_RUNS_ON, NULL);
  return r;
}

static mlg_node *environment(mlg_pl *pl, const mlg_node *key, const mlg_node *v)
{
  mlg_node *e = mlg_pl_map(pl, 4);
  const mlg_pair *p;

  if (mlg_pl_is_scalar(v)) {
    mlg_pl_set(pl, e, MLG_A_NAME, mlg_pl_val(pl, key, v));
  } else {
    if ((p = mlg_map_find(v, "name")))
      mlg_pl_set(pl, e, MLG_A_NAME, mlg_pl_val(pl, p->key, p->val));
    if ((p = mlg_map_find(v, "url")))
      mlg_pl_set(pl, e, MLG_A_URL, mlg_pl_val(pl, p->key, p->val));
  }
  mlg_pl_set_pos(pl, e, key);
  mlg_pl_exprs(pl, v, MLG_A_F_ENVIRONMENT, NULL);
  return e;
}

static mlg_node *raws(mlg_pl *pl, const mlg_node *v)
{
  mlg_node *seq;
  size_t i;
  if (v->type != MLG_SEQ) {
    if ((seq = mlg_pl_seq(pl, 1)) && v->type != MLG_NULL)
      mlg_pl_push(pl, seq, mlg_pl_raw(pl, v));
    return seq;
  }
  if (!(seq = mlg_pl_seq(pl, v->u.seq.len)))
    return NULL;
  for (i = 0; i < v->u.seq.len; i++)
    mlg_pl_push(pl, seq, mlg_pl_raw(pl, v->u.seq.items[i]));
  return seq;
}

static mlg_node *matrix(mlg_pl *pl, const mlg_node *key, const mlg_node *v)
{
  mlg_node *m = mlg_pl_map(pl, 7), *keys = mlg_pl_map(pl, 0);
  mlg_node *inc = NULL, *exc = NULL;
  int expr = mlg_pl_has_expr(v);
  size_t i;

  mlg_pl_set_pos(pl, m, key);
  if (v->type == MLG_MAP) {
    for (i = 0; i < v->u.map.len && !pl->rc; i++) {
      const mlg_pair *p = &v->u.map.pairs[i];
      expr |= mlg_pl_has_expr(p->val);
      if (mlg_pl_is_str(p->key, "include"))
        inc = raws(pl, p->val);
      else if (mlg_pl_is_str(p->key, "exclude"))
        exc = raws(pl, p->val);
      else
        mlg_pl_set_named(pl, keys, p->key, mlg_pl_vals(pl, p->key, p->val, NULL));
    }
  }
  mlg_pl_set_bool(pl, m, MLG_A_EXPR, expr);
  mlg_pl_set(pl, m, MLG_A_KEYS, keys);
  mlg_pl_set(pl, m, MLG_A_INCLUDE, inc ? inc : mlg_pl_seq(pl, 0));
  mlg_pl_set(pl, m, MLG_A_EXCLUDE, exc ? exc : mlg_pl_seq(pl, 0));
  return m;
}

static mlg_node *strategy(mlg_pl *pl, const mlg_node *key, const mlg_node *v)
{
  mlg_node *s = mlg_pl_map(pl, 4);
  size_t i, mark;

  mlg_pl_set_pos(pl, s, key);
  if (v->type != MLG_MAP) {
    mlg_pl_exprs(pl, v, MLG_A_F_OTHER, NULL);
    return s;
  }
  for (i = 0; i < v->u.map.len && !pl->rc; i++) {
    const mlg_pair *p = &v->u.map.pairs[i];
    int is_matrix = mlg_pl_is_str(p->key, "matrix");
    if (is_matrix)
      mlg_pl_set(pl, s, MLG_A_MATRIX, matrix(pl, p->key, p->val));
    else if (mlg_pl_is_str(p->key, "fail-fast"))
      mlg_pl_set(pl, s, MLG_A_FAIL_FAST, mlg_pl_val(pl, p->key, p->val));
    mark = mlg_pl_route_key(pl, p->key);
    mlg_pl_exprs(pl, p->val, is_matrix ? MLG_A_F_MATRIX : MLG_A_F_OTHER, NULL);
    mlg_pl_route_pop(pl, mark);
  }
  return s;
}

static mlg_node *services(mlg_pl *pl, const mlg_node *v)
{
  mlg_node *seq;
  size_t i, mark;

  if (v->type != MLG_MAP) {
    mlg_pl_exprs(pl, v, MLG_A_F_OTHER, NULL);
    return mlg_pl_seq(pl, 0);
  }
  if (!(seq = mlg_pl_seq(pl, v->u.map.len)))
    return NULL;
  for (i = 0; i < v->u.map.len && !pl->rc; i++) {
    const mlg_pair *p = &v->u.map.pairs[i];
    mlg_node *s = mlg_pl_map(pl, 4);
    mlg_pl_set(pl, s, MLG_A_NAME, mlg_pl_src_str(pl, p->key));
    mlg_pl_set_pos(pl, s, p->key);
    mlg_pl_set(pl, s, MLG_A_IMAGE, mlg_pl_image(pl, p->key, p->val, 0));
    mlg_pl_push(pl, seq, s);
    mark = mlg_pl_route_key(pl, p->key);
    mlg_pl_container_exprs(pl, p->val);
    mlg_pl_route_pop(pl, mark);
  }
  return seq;
}

static mlg_node *job_secrets(mlg_pl *pl, const mlg_node *key, const mlg_node *v)
{
  mlg_node *s = mlg_pl_map(pl, 4), *items = mlg_pl_kvs(pl, v);

  mlg_pl_set_pos(pl, s, key);
  mlg_pl_set_bool(pl, s, MLG_A_INHERIT, mlg_pl_is_str(v, "inherit"));
  mlg_pl_set(pl, s, MLG_A_ITEMS, items ? items : mlg_pl_seq(pl, 0));
  mlg_pl_exprs_entries(pl, v, MLG_A_F_SECRETS);
  return s;
}

static mlg_node *job(mlg_pl *pl, const mlg_node *key, const mlg_node *v)
{
  mlg_node *j, *id, *steps = NULL;
  char what[160];
  size_t i, mark;

  if (v->type != MLG_MAP) {
    mlg_pl_fail(pl, v->span.line && v->type != MLG_NULL ? v : key,
                "job '%s' must be a mapping, not %s", key->u.str.ptr, mlg_node_typename(v));
    return NULL;
  }
  snprintf(what, sizeof what, "job '%.100s'", key->u.str.ptr);
  if (mlg_pl_check_keys(pl, v, &mlg_pl_keys_job, what) || mlg_pl_check_job(pl, key, v))
    return NULL;
  j = mlg_pl_map(pl, 16);
  id = mlg_pl_src_str(pl, key);
  mlg_pl_set(pl, j, MLG_A_ID, id);
  mlg_pl_set_pos(pl, j, key);
  mlg_pl_set(pl, j, MLG_A_ROUTE, mlg_pl_route_node(pl));
  mlg_pl_set_atom(pl, j, MLG_A_KIND, mlg_map_find(v, "uses") ? MLG_A_V_REUSABLE : MLG_A_V_NORMAL);
  pl->job = id;
  for (i = 0; i < v->u.map.len && !pl->rc; i++) {
    const mlg_node *k = v->u.map.pairs[i].key, *x = v->u.map.pairs[i].val;
    mark = mlg_pl_route_key(pl, k);
    pl->at = k;
    if (mlg_pl_is_str(k, "name")) {
      mlg_pl_set(pl, j, MLG_A_NAME, mlg_pl_val(pl, k, x));
      mlg_pl_exprs(pl, x, MLG_A_F_NAME, NULL);
    } else if (mlg_pl_is_str(k, "permissions")) {
      mlg_pl_set(pl, j, MLG_A_PERMISSIONS, perm(pl, k, x));
    } else if (mlg_pl_is_str(k, "needs")) {
      mlg_pl_set(pl, j, MLG_A_NEEDS, mlg_pl_strs(pl, x));
      mlg_pl_exprs(pl, x, MLG_A_F_OTHER, NULL);
    } else if (mlg_pl_is_str(k, "if")) {
      mlg_pl_set(pl, j, MLG_A_COND, mlg_pl_val(pl, k, x));
      mlg_pl_exprs_cond(pl, x);
    } else if (mlg_pl_is_str(k, "runs-on")) {
      mlg_pl_set(pl, j, MLG_A_RUNS_ON, runs_on(pl, k, x));
    } else if (mlg_pl_is_str(k, "environment")) {
      mlg_pl_set(pl, j, MLG_A_ENVIRONMENT, environment(pl, k, x));
    } else if (mlg_pl_is_str(k, "concurrency")) {
      mlg_pl_set(pl, j, MLG_A_CONCURRENCY, concurrency(pl, k, x));
    } else if (mlg_pl_is_str(k, "outputs")) {
      mlg_pl_set(pl, j, MLG_A_OUTPUTS, mlg_pl_kv_field(pl, x, MLG_A_F_OUTPUTS));
    } else if (mlg_pl_is_str(k, "env")) {
      mlg_pl_set_kv(pl, j, MLG_A_ENV, MLG_A_ENV_EXPR, k, x, MLG_A_F_ENV);
    } else if (mlg_pl_is_str(k, "defaults")) {
      mlg_pl_set(pl, j, MLG_A_DEFAULTS, defaults(pl, k, x));
    } else if (mlg_pl_is_str(k, "steps")) {
      steps = mlg_pl_steps(pl, x, what);
    } else if (mlg_pl_is_str(k, "timeout-minutes")) {
      mlg_pl_set(pl, j, MLG_A_TIMEOUT_MINUTES, mlg_pl_val(pl, k, x));
      mlg_pl_exprs(pl, x, MLG_A_F_OTHER, NULL);
    } else if (mlg_pl_is_str(k, "continue-on-error")) {
      mlg_pl_set(pl, j, MLG_A_CONTINUE_ON_ERROR, mlg_pl_val(pl, k, x));
      mlg_pl_exprs(pl, x, MLG_A_F_OTHER, NULL);
    } else if (mlg_pl_is_str(k, "strategy")) {
      mlg_pl_set(pl, j, MLG_A_STRATEGY, strategy(pl, k, x));
    } else if (mlg_pl_is_str(k, "container")) {
      mlg_pl_set(pl, j, MLG_A_CONTAINER, mlg_pl_image(pl, k, x, 0));
      mlg_pl_container_exprs(pl, x);
    } else if (mlg_pl_is_str(k, "services")) {
      mlg_pl_set(pl, j, MLG_A_SERVICES, services(pl, x));
    } else if (mlg_pl_is_str(k, "uses")) {
      mlg_pl_set(pl, j, MLG_A_USES, mlg_pl_uses(pl, k, x));
      mlg_pl_exprs(pl, x, MLG_A_F_USES, NULL);
    } else if (mlg_pl_is_str(k, "with")) {
      mlg_pl_set_kv(pl, j, MLG_A_WITH, MLG_A_WITH_EXPR, k, x, MLG_A_F_WITH);
    } else if (mlg_pl_is_str(k, "secrets")) {
      mlg_pl_set(pl, j, MLG_A_SECRETS, job_secrets(pl, k, x));
    } else {
      mlg_pl_exprs(pl, x, MLG_A_F_OTHER, NULL);
    }
    mlg_pl_route_pop(pl, mark);
  }
  mlg_pl_set(pl, j, MLG_A_STEPS, steps ? steps : mlg_pl_seq(pl, 0));
  pl->job = NULL;
  return pl->rc ? NULL : j;
}

static mlg_node *jobs(mlg_pl *pl, const mlg_node *key, const mlg_node *v)
{
  mlg_node *seq;
  size_t i, mark;

  if (v->type != MLG_MAP) {
    mlg_pl_fail(pl, v->span.line && v->type != MLG_NULL ? v : key,
                "'jobs' must be a mapping of job ids to jobs, not %s", mlg_node_typename(v));
    return NULL;
  }
  if (!(seq = mlg_pl_seq(pl, v->u.map.len)))
    return NULL;
  for (i = 0; i < v->u.map.len && !pl->rc; i++) {
    const mlg_pair *p = &v->u.map.pairs[i];
    if (mlg_pl_tick(pl, p->val))
      break;
    mark = mlg_pl_route_key(pl, p->key);
    mlg_pl_push(pl, seq, job(pl, p->key, p->val));
    mlg_pl_route_pop(pl, mark);
  }
  return pl->rc ? NULL : seq;
}

/* --- the workflow ---------------------------------------------------------- */

int mlg_pl_build_workflow(mlg_pl *pl, const mlg_node *root, mlg_node *model)
{
  size_t i, mark;

  if (mlg_pl_check_keys(pl, root, &mlg_pl_keys_workflow, "the workflow") ||
      mlg_pl_check_workflow(pl, root))
    return pl->rc;
  for (i = 0; i < root->u.map.len && !pl->rc; i++) {
    const mlg_node *k = root->u.map.pairs[i].key, *v = root->u.map.pairs[i].val;
    mark = mlg_pl_route_key(pl, k);
    pl->at = k;
    if (mlg_pl_is_str(k, "name")) {
      mlg_pl_set(pl, model, MLG_A_NAME, mlg_pl_val(pl, k, v));
      mlg_pl_exprs(pl, v, MLG_A_F_NAME, NULL);
    } else if (mlg_pl_is_str(k, "run-name")) {
      mlg_pl_exprs(pl, v, MLG_A_F_NAME, NULL);
    } else if (mlg_pl_is_str(k, "on")) {
      mlg_pl_set(pl, model, MLG_A_ON, on(pl, k, v));
    } else if (mlg_pl_is_str(k, "permissions")) {
      mlg_pl_set(pl, model, MLG_A_PERMISSIONS, perm(pl, k, v));
    } else if (mlg_pl_is_str(k, "env")) {
      mlg_pl_set_kv(pl, model, MLG_A_ENV, MLG_A_ENV_EXPR, k, v, MLG_A_F_ENV);
    } else if (mlg_pl_is_str(k, "defaults")) {
      mlg_pl_set(pl, model, MLG_A_DEFAULTS, defaults(pl, k, v));
    } else if (mlg_pl_is_str(k, "concurrency")) {
      mlg_pl_set(pl, model, MLG_A_CONCURRENCY, concurrency(pl, k, v));
    } else if (mlg_pl_is_str(k, "jobs")) {
      mlg_pl_set(pl, model, MLG_A_JOBS, jobs(pl, k, v));
    }
    mlg_pl_route_pop(pl, mark);
  }
  return pl->rc;
}
