/*
 * GitHub actions (action.yml): inputs, outputs and what `runs` runs
 * (composite steps, a docker image or Dockerfile, a JavaScript entry).
 */
#include <string.h>

#include "pipeline_val.h"

static mlg_node *runs(mlg_pl *pl, const mlg_node *key, const mlg_node *v, mlg_node **steps)
{
  mlg_node *r = mlg_pl_map(pl, 12);
  size_t i, mark;

  mlg_pl_set_pos(pl, r, key);
  for (i = 0; i < v->u.map.len && !pl->rc; i++) {
    const mlg_node *k = v->u.map.pairs[i].key, *x = v->u.map.pairs[i].val;
    mlg_pl_atom field = MLG_A_F_OTHER;
    mark = mlg_pl_route_key(pl, k);
    pl->at = k;
    if (mlg_pl_is_str(k, "using")) {
      mlg_pl_set(pl, r, MLG_A_USING, mlg_pl_val(pl, k, x));
    } else if (mlg_pl_is_str(k, "main")) {
      mlg_pl_set(pl, r, MLG_A_MAIN, mlg_pl_val(pl, k, x));
    } else if (mlg_pl_is_str(k, "pre")) {
      mlg_pl_set(pl, r, MLG_A_PRE, mlg_pl_val(pl, k, x));
    } else if (mlg_pl_is_str(k, "post")) {
      mlg_pl_set(pl, r, MLG_A_POST, mlg_pl_val(pl, k, x));
    } else if (mlg_pl_is_str(k, "image")) {
      field = MLG_A_F_IMAGE;
      if (x->type == MLG_STR && x->u.str.len >= 9 && !memcmp(x->u.str.ptr, "docker://", 9))
        mlg_pl_set(pl, r, MLG_A_IMAGE, mlg_pl_image(pl, k, x, 9));
      else
        mlg_pl_set(pl, r, MLG_A_IMAGE, mlg_pl_val(pl, k, x));
    } else if (mlg_pl_is_str(k, "entrypoint")) {
      field = MLG_A_F_ENTRYPOINT;
      mlg_pl_set(pl, r, MLG_A_ENTRYPOINT, mlg_pl_val(pl, k, x));
    } else if (mlg_pl_is_str(k, "pre-entrypoint") || mlg_pl_is_str(k, "post-entrypoint")) {
      field = MLG_A_F_ENTRYPOINT;
    } else if (mlg_pl_is_str(k, "args")) {
      field = MLG_A_F_ARGS;
      mlg_pl_set(pl, r, MLG_A_ARGS, mlg_pl_vals(pl, k, x, NULL));
    } else if (mlg_pl_is_str(k, "env")) {
      mlg_pl_set_kv(pl, r, MLG_A_ENV, MLG_A_ENV_EXPR, k, x, MLG_A_F_ENV);
      mlg_pl_route_pop(pl, mark);
      continue;
    } else if (mlg_pl_is_str(k, "steps")) {
      *steps = mlg_pl_steps(pl, x, "the action");
      mlg_pl_route_pop(pl, mark);
      continue;
    } else if (mlg_pl_is_str(k, "pre-if") || mlg_pl_is_str(k, "post-if")) {
      mlg_pl_exprs_cond(pl, x);
      mlg_pl_route_pop(pl, mark);
      continue;
    }
    mlg_pl_exprs(pl, x, field, NULL);
    mlg_pl_route_pop(pl, mark);
  }
  if (!*steps)
    *steps = mlg_pl_seq(pl, 0);
  mlg_pl_set(pl, r, MLG_A_STEPS, *steps);
  return r;
}

int mlg_pl_build_action(mlg_pl *pl, const mlg_node *root, mlg_node *model)
{
  mlg_node *inputs = NULL, *outputs = NULL, *steps = NULL, *r = NULL;
  size_t i, mark;

  if (mlg_pl_check_action(pl, root))
    return pl->rc;
  for (i = 0; i < root->u.map.len && !pl->rc; i++) {
    const mlg_node *k = root->u.map.pairs[i].key, *v = root->u.map.pairs[i].val;
    mark = mlg_pl_route_key(pl, k);
    pl->at = k;
    if (mlg_pl_is_str(k, "name")) {
      mlg_pl_set(pl, model, MLG_A_NAME, mlg_pl_val(pl, k, v));
      mlg_pl_exprs(pl, v, MLG_A_F_NAME, NULL);
    } else if (mlg_pl_is_str(k, "description")) {
      mlg_pl_set(pl, model, MLG_A_DESCRIPTION, mlg_pl_val(pl, k, v));
      mlg_pl_exprs(pl, v, MLG_A_F_OTHER, NULL);
    } else if (mlg_pl_is_str(k, "inputs")) {
      inputs = mlg_pl_inputs(pl, v);
    } else if (mlg_pl_is_str(k, "outputs")) {
      outputs = mlg_pl_kv_field(pl, v, MLG_A_F_OUTPUTS);
    } else if (mlg_pl_is_str(k, "runs")) {
      r = runs(pl, k, v, &steps);
    } else {
      mlg_pl_exprs(pl, v, MLG_A_F_OTHER, NULL);
    }
    mlg_pl_route_pop(pl, mark);
  }
  mlg_pl_set(pl, model, MLG_A_INPUTS, inputs ? inputs : mlg_pl_seq(pl, 0));
  mlg_pl_set(pl, model, MLG_A_OUTPUTS, outputs ? outputs : mlg_pl_seq(pl, 0));
  mlg_pl_set(pl, model, MLG_A_RUNS, r);
  mlg_pl_set(pl, model, MLG_A_STEPS, steps ? steps : mlg_pl_seq(pl, 0));
  return pl->rc;
}
