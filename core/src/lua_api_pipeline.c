/*
 * mlgate.pipeline: the typed CI model (pipeline.h) for policies.
 *
 * Parsing and modelling a workflow costs far more than most checks, and a
 * child evaluates a batch of policies over the same files; so models (and
 * load failures, so an invalid file is parsed once, not once per policy)
 * are kept in the per-process memo (lua_memo.h) keyed by kind and path,
 * and handed to each policy as lazy tables.
 */
#include "lua_api_pipeline.h"

#include <stdlib.h>
#include <string.h>

#include <lauxlib.h>

#include "lua_api.h"
#include "lua_memo.h"
#include "node.h"
#include "pipeline.h"

static const struct {
  const char *name;
  mlg_pipeline_kind kind;
} kinds[] = {{"workflow", MLG_PK_GHA_WORKFLOW},
             {"action", MLG_PK_GHA_ACTION},
             {"dependabot", MLG_PK_DEPENDABOT},
             {"precommit", MLG_PK_PRECOMMIT},
             {"gitlab-ci", MLG_PK_GITLAB},
             {"jenkinsfile", MLG_PK_JENKINS}};

/* Reads an included file for the loader: from the same workspace, under
 * the same size cap as the file itself. */
static int read_included(void *ud, const char *path, char **data, size_t *len, mlg_err *err)
{
  mlg_lua_env *env = ud;
  return mlg_ws_read(data, len, env->ws, path, (size_t)env->read_cap, err);
}

/* Loads the model of a workspace file, or finds it in the memo. */
static mlg_memo *load(lua_State *L, const char *path, mlg_pipeline_kind kind)
{
  mlg_lua_env *env = mlg_lua_env_of(L);
  size_t plen = strlen(path);
  char *key = malloc(plen + 2), *data = NULL, *error = NULL;
  mlg_doc *doc = NULL;
  mlg_memo *m;
  size_t len = 0;
  mlg_err e;
  int rc;

  if (!key)
    luaL_error(L, "not enough memory");
  key[0] = (char)('0' + (int)kind);
  memcpy(key + 1, path, plen + 1);
  if ((m = mlg_memo_get('P', key, plen + 1)) != NULL) {
    free(key);
    return m;
  }
  e.msg[0] = '\0';
  rc = mlg_ws_read(&data, &len, env->ws, path, (size_t)env->read_cap, &e);
  if (rc == 0) {
    rc = mlg_pipeline_load_ex(&doc, data, len, path, kind, read_included, env, &e);
    free(data);
    if (rc == MLG_ENOENT) /* not a CI definition: nil without a message */
      rc = 0;
  }
  if (rc != 0 && !(error = strdup(e.msg[0] ? e.msg : "cannot load the pipeline definition"))) {
    free(key);
    luaL_error(L, "not enough memory");
  }
  m = mlg_memo_put('P', key, plen + 1, doc, error);
  free(key);
  if (!m)
    luaL_error(L, "not enough memory");
  return m;
}

/* mlgate.pipeline.load(path [, kind]) -> model | nil, err | nil */
static int l_load(lua_State *L)
{
  const char *path = mlg_lua_check_path(L, 1);
  const char *kname = luaL_optstring(L, 2, NULL);
  mlg_pipeline_kind kind = MLG_PK_UNKNOWN;
  mlg_memo *m;
  size_t i;

  if (kname) {
    for (i = 0; i < sizeof kinds / sizeof kinds[0]; i++)
      if (strcmp(kname, kinds[i].name) == 0)
        kind = kinds[i].kind;
    if (kind == MLG_PK_UNKNOWN)
      return luaL_argerror(L, 2, "kind must be workflow, action, dependabot, precommit, gitlab-ci or jenkinsfile");
  } else {
    kind = mlg_pipeline_kind_of_path(path);
  }
  m = load(L, path, kind);
  if (!m->doc && m->error) {
    lua_pushnil(L);
    lua_pushstring(L, m->error);
    mlg_memo_release(m);
    return 2;
  }
  mlg_lua_memo_push(L, m);
  return 1;
}

/* mlgate.pipeline.kind(path) -> kind name by path, or nil */
static int l_kind(lua_State *L)
{
  mlg_pipeline_kind k = mlg_pipeline_kind_of_path(luaL_checkstring(L, 1));
  if (k == MLG_PK_UNKNOWN)
    return 0;
  lua_pushstring(L, mlg_pipeline_kind_name(k));
  return 1;
}

void mlg_lua_open_pipeline(lua_State *L)
{
  static const luaL_Reg fns[] = {{"load", l_load}, {"kind", l_kind}, {NULL, NULL}};
  luaL_newlib(L, fns);
  lua_setfield(L, -2, "pipeline");
}
