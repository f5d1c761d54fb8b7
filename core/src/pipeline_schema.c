/*
 * What the pipeline loader refuses, as GitHub refuses it: keys a
 * workflow, job, step or action cannot have, and the keys they must have.
 * Questionable but accepted definitions are left to policies. Unknown keys
 * at the top of an action are accepted: GitHub's runner ignores them (its
 * manifest reader skips what it does not know), and real actions carry
 * such keys.
 */
#include <stdio.h>
#include <string.h>

#include "pipeline_val.h"

#define KEYSET(name, ...)                                                        \
  static const char *const name##_keys[] = {__VA_ARGS__};                        \
  const mlg_pl_keyset mlg_pl_keys_##name = {                                     \
      name##_keys, sizeof name##_keys / sizeof name##_keys[0]}

KEYSET(workflow, "name", "run-name", "on", "permissions", "env", "defaults", "concurrency",
       "jobs");
KEYSET(job, "name", "permissions", "needs", "if", "runs-on", "snapshot", "environment",
       "concurrency", "outputs", "env", "defaults", "steps", "timeout-minutes", "strategy",
       "continue-on-error", "container", "services", "uses", "with", "secrets");
KEYSET(step, "id", "if", "name", "uses", "run", "working-directory", "shell", "with", "env",
       "continue-on-error", "timeout-minutes");

static int in_set(const mlg_pl_keyset *ks, const mlg_node *k)
{
  size_t i;
  for (i = 0; i < ks->n; i++)
    if (mlg_pl_is_str(k, ks->keys[i]))
      return 1;
  return 0;
}

int mlg_pl_check_keys(mlg_pl *pl, const mlg_node *map, const mlg_pl_keyset *ks,
                      const char *what)
{
  char list[512], q[96];
  size_t i, n = 0;

  if (pl->rc || !map || map->type != MLG_MAP)
    return pl->rc;
  for (i = 0; i < map->u.map.len; i++) {
    const mlg_node *k = map->u.map.pairs[i].key;
    size_t j, kl;
    if (in_set(ks, k))
      continue;
    list[0] = '\0';
    for (j = 0; j < ks->n; j++) {
      int w = snprintf(list + n, sizeof list - n, "%s%s", j ? ", " : "", ks->keys[j]);
      if (w < 0 || (size_t)w >= sizeof list - n)
        break;
      n += (size_t)w;
    }
    kl = k->u.str.len < sizeof q - 1 ? k->u.str.len : sizeof q - 1;
    memcpy(q, k->u.str.ptr, kl);
    q[kl] = '\0';
    for (j = 0; j < kl; j++)
      if ((unsigned char)q[j] < 0x20)
        q[j] = '?';
    return mlg_pl_fail(pl, k, "unknown key '%s' in %s (accepted: %s)", q, what, list);
  }
  return 0;
}

int mlg_pl_check_workflow(mlg_pl *pl, const mlg_node *root)
{
  if (pl->rc)
    return pl->rc;
  if (!mlg_map_find(root, "on"))
    return mlg_pl_fail(pl, root, "the workflow has no 'on' (the events that run it)");
  if (!mlg_map_find(root, "jobs"))
    return mlg_pl_fail(pl, root, "the workflow has no 'jobs'");
  return 0;
}

int mlg_pl_check_job(mlg_pl *pl, const mlg_node *key, const mlg_node *job)
{
  if (pl->rc)
    return pl->rc;
  if (!mlg_map_find(job, "runs-on") && !mlg_map_find(job, "uses"))
    return mlg_pl_fail(pl, key, "job '%s' has neither 'runs-on' nor 'uses'",
                       key->u.str.ptr);
  return 0;
}

int mlg_pl_check_step(mlg_pl *pl, const mlg_node *step, const char *what)
{
  const mlg_pair *u, *r;
  if (pl->rc)
    return pl->rc;
  u = mlg_map_find(step, "uses");
  r = mlg_map_find(step, "run");
  if (!u && !r)
    return mlg_pl_fail(pl, step->u.map.len ? step->u.map.pairs[0].key : step,
                       "%s has neither 'uses' nor 'run'", what);
  if (u && r) {
    const mlg_node *second = u->key->span.offset > r->key->span.offset ? u->key : r->key;
    return mlg_pl_fail(pl, second, "%s has both 'uses' and 'run'", what);
  }
  return 0;
}

int mlg_pl_check_action(mlg_pl *pl, const mlg_node *root)
{
  const mlg_pair *runs;
  if (pl->rc)
    return pl->rc;
  if (!(runs = mlg_map_find(root, "runs")))
    return mlg_pl_fail(pl, root, "the action has no 'runs'");
  if (runs->val->type != MLG_MAP)
    return mlg_pl_fail(pl, runs->val->span.line ? runs->val : runs->key,
                       "'runs' must be a mapping, not %s", mlg_node_typename(runs->val));
  if (!mlg_map_find(runs->val, "using"))
    return mlg_pl_fail(pl, runs->key, "'runs' has no 'using' (composite, docker, node20, ...)");
  return 0;
}
