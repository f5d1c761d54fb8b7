/*
 * Dependency update and hook configurations: Dependabot
 * (.github/dependabot.yml) and pre-commit (.pre-commit-config.yaml).
 * Only what policies judge is modelled; other keys are left alone (both
 * tools accept more than this loader knows).
 */
#include "pipeline_val.h"

static mlg_node *val_of(mlg_pl *pl, const mlg_node *map, const char *key)
{
  const mlg_pair *p = mlg_map_find(map, key);
  return p ? mlg_pl_val(pl, p->key, p->val) : NULL;
}

static const struct {
  const char *key;
  mlg_pl_atom atom;
} cooldown_keys[] = {
    {"default-days", MLG_A_DEFAULT_DAYS},
    {"semver-major-days", MLG_A_SEMVER_MAJOR_DAYS},
    {"semver-minor-days", MLG_A_SEMVER_MINOR_DAYS},
    {"semver-patch-days", MLG_A_SEMVER_PATCH_DAYS},
};

static mlg_node *update(mlg_pl *pl, const mlg_node *u)
{
  mlg_node *o = mlg_pl_map(pl, 11);
  const mlg_pair *p;
  size_t i;

  mlg_pl_set_first_key_pos(pl, o, u);
  if (u->type != MLG_MAP)
    return o;
  mlg_pl_set(pl, o, MLG_A_ECOSYSTEM, val_of(pl, u, "package-ecosystem"));
  mlg_pl_set(pl, o, MLG_A_DIRECTORY, val_of(pl, u, "directory"));
  if ((p = mlg_map_find(u, "directories")))
    mlg_pl_set(pl, o, MLG_A_DIRECTORIES, mlg_pl_vals(pl, p->key, p->val, NULL));
  if ((p = mlg_map_find(u, "schedule"))) {
    mlg_node *s = mlg_pl_map(pl, 3);
    mlg_pl_set(pl, s, MLG_A_INTERVAL, val_of(pl, p->val, "interval"));
    mlg_pl_set_pos(pl, s, p->key);
    mlg_pl_set(pl, o, MLG_A_SCHEDULE, s);
  }
  if ((p = mlg_map_find(u, "cooldown"))) {
    mlg_node *c = mlg_pl_map(pl, 6);
    mlg_pl_set_pos(pl, c, p->key);
    for (i = 0; i < sizeof cooldown_keys / sizeof cooldown_keys[0]; i++)
      mlg_pl_set(pl, c, cooldown_keys[i].atom, val_of(pl, p->val, cooldown_keys[i].key));
    mlg_pl_set(pl, o, MLG_A_COOLDOWN, c);
  }
  mlg_pl_set(pl, o, MLG_A_INSECURE_EXEC, val_of(pl, u, "insecure-external-code-execution"));
  if ((p = mlg_map_find(u, "registries")))
    mlg_pl_set(pl, o, MLG_A_REGISTRIES, mlg_pl_vals(pl, p->key, p->val, NULL));
  if ((p = mlg_map_find(u, "groups")) && p->val->type == MLG_MAP) {
    mlg_node *g = mlg_pl_seq(pl, p->val->u.map.len);
    for (i = 0; i < p->val->u.map.len && !pl->rc; i++) {
      mlg_node *e = mlg_pl_map(pl, 3);
      mlg_pl_set(pl, e, MLG_A_NAME, mlg_pl_src_str(pl, p->val->u.map.pairs[i].key));
      mlg_pl_set_pos(pl, e, p->val->u.map.pairs[i].key);
      mlg_pl_push(pl, g, e);
    }
    mlg_pl_set(pl, o, MLG_A_GROUPS, g);
  }
  return o;
}

int mlg_pl_build_dependabot(mlg_pl *pl, const mlg_node *root, mlg_node *model)
{
  mlg_node *updates = mlg_pl_seq(pl, 0), *regs = mlg_pl_seq(pl, 0);
  const mlg_pair *p;
  size_t i;

  mlg_pl_set(pl, model, MLG_A_VERSION, val_of(pl, root, "version"));
  if ((p = mlg_map_find(root, "updates"))) {
    if (p->val->type != MLG_SEQ)
      return mlg_pl_fail(pl, p->val->span.line ? p->val : p->key,
                         "'updates' must be a sequence, not %s", mlg_node_typename(p->val));
    for (i = 0; i < p->val->u.seq.len && !pl->rc; i++) {
      if (mlg_pl_tick(pl, p->val->u.seq.items[i]))
        break;
      mlg_pl_push(pl, updates, update(pl, p->val->u.seq.items[i]));
    }
  }
  if ((p = mlg_map_find(root, "registries")) && p->val->type == MLG_MAP) {
    for (i = 0; i < p->val->u.map.len && !pl->rc; i++) {
      const mlg_pair *r = &p->val->u.map.pairs[i];
      mlg_node *o = mlg_pl_map(pl, 5);
      mlg_pl_set(pl, o, MLG_A_NAME, mlg_pl_src_str(pl, r->key));
      mlg_pl_set_pos(pl, o, r->key);
      mlg_pl_set(pl, o, MLG_A_TYPE, val_of(pl, r->val, "type"));
      mlg_pl_set(pl, o, MLG_A_URL, val_of(pl, r->val, "url"));
      mlg_pl_push(pl, regs, o);
    }
  }
  mlg_pl_set(pl, model, MLG_A_UPDATES, updates);
  mlg_pl_set(pl, model, MLG_A_REGISTRIES, regs);
  return pl->rc;
}

int mlg_pl_build_precommit(mlg_pl *pl, const mlg_node *root, mlg_node *model)
{
  mlg_node *repos = mlg_pl_seq(pl, 0);
  const mlg_pair *p = mlg_map_find(root, "repos");
  size_t i, j;

  if (p && p->val->type != MLG_SEQ && p->val->type != MLG_NULL)
    return mlg_pl_fail(pl, p->val->span.line ? p->val : p->key,
                       "'repos' must be a sequence, not %s", mlg_node_typename(p->val));
  for (i = 0; p && p->val->type == MLG_SEQ && i < p->val->u.seq.len && !pl->rc; i++) {
    const mlg_node *r = p->val->u.seq.items[i];
    mlg_node *o = mlg_pl_map(pl, 5), *hooks = mlg_pl_seq(pl, 0);
    const mlg_node *h = mlg_map_get(r, "hooks");
    if (mlg_pl_tick(pl, r))
      break;
    mlg_pl_set_first_key_pos(pl, o, r);
    mlg_pl_set(pl, o, MLG_A_REPO, val_of(pl, r, "repo"));
    mlg_pl_set(pl, o, MLG_A_REV, val_of(pl, r, "rev"));
    for (j = 0; h && h->type == MLG_SEQ && j < h->u.seq.len && !pl->rc; j++) {
      mlg_node *ho = mlg_pl_map(pl, 3);
      mlg_pl_set(pl, ho, MLG_A_ID, val_of(pl, h->u.seq.items[j], "id"));
      mlg_pl_set_first_key_pos(pl, ho, h->u.seq.items[j]);
      mlg_pl_push(pl, hooks, ho);
    }
    mlg_pl_set(pl, o, MLG_A_HOOKS, hooks);
    mlg_pl_push(pl, repos, o);
  }
  mlg_pl_set(pl, model, MLG_A_REPOS, repos);
  return pl->rc;
}
