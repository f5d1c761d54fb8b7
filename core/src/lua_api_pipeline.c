/*
 * mlgate.pipeline: the typed CI model (pipeline.h) for policies.
 *
 * A child evaluates a batch of pipeline policies over the same files, each
 * policy in a fresh Lua state. Parsing and modelling a workflow costs far
 * more than most checks, so models are kept in a small per-process cache
 * keyed by path and handed to each state as lazy tables (lua_lazy.h): a
 * policy pays only for the part of the model it reads. Failures are cached
 * too, so an invalid file is parsed once, not once per policy.
 *
 * Models are reference counted: the cache holds one reference and every
 * Lua state that loaded the model holds one through a box userdata, which
 * the lazy tables keep alive; the model is freed when both are gone.
 */
#include "lua_api_pipeline.h"

#include <stdlib.h>
#include <string.h>

#include <lauxlib.h>

#include "lua_api.h"
#include "lua_lazy.h"
#include "node.h"
#include "pipeline.h"

#define CACHE_SLOTS 8

typedef struct model_ref {
  mlg_doc *doc;   /* NULL: not a CI definition, or invalid (see error) */
  char *error;    /* "path:line:col: message", or NULL */
  unsigned refs;
} model_ref;

typedef struct cache_slot {
  char *key;      /* kind letter + path */
  model_ref *ref;
  unsigned long stamp;
} cache_slot;

static cache_slot cache[CACHE_SLOTS];
static unsigned long cache_clock;

static const char box_mt[] = "mlgate.pipeline.model";

static void ref_release(model_ref *r)
{
  if (!r || --r->refs > 0)
    return;
  mlg_doc_free(r->doc);
  free(r->error);
  free(r);
}

static model_ref *cache_get(const char *key)
{
  size_t i;
  for (i = 0; i < CACHE_SLOTS; i++)
    if (cache[i].key && strcmp(cache[i].key, key) == 0) {
      cache[i].stamp = ++cache_clock;
      return cache[i].ref;
    }
  return NULL;
}

/* Takes ownership of key and of one reference of r. */
static void cache_put(char *key, model_ref *r)
{
  size_t i, victim = 0;
  for (i = 0; i < CACHE_SLOTS; i++) {
    if (!cache[i].key) {
      victim = i;
      break;
    }
    if (cache[i].stamp < cache[victim].stamp)
      victim = i;
  }
  free(cache[victim].key);
  ref_release(cache[victim].ref);
  cache[victim].key = key;
  cache[victim].ref = r;
  cache[victim].stamp = ++cache_clock;
}

void mlg_lua_pipeline_cache_clear(void)
{
  size_t i;
  for (i = 0; i < CACHE_SLOTS; i++) {
    free(cache[i].key);
    ref_release(cache[i].ref);
    cache[i].key = NULL;
    cache[i].ref = NULL;
  }
}

static int box_gc(lua_State *L)
{
  model_ref **box = luaL_checkudata(L, 1, box_mt);
  ref_release(*box);
  *box = NULL;
  return 0;
}

static const struct {
  const char *name;
  mlg_pipeline_kind kind;
} kinds[] = {{"workflow", MLG_PK_GHA_WORKFLOW},
             {"action", MLG_PK_GHA_ACTION},
             {"dependabot", MLG_PK_DEPENDABOT},
             {"precommit", MLG_PK_PRECOMMIT}};

/* Loads (or finds in the cache) the model of a workspace file. Returns a
 * new reference, or NULL after pushing nil [, message]. */
static model_ref *load(lua_State *L, const char *path, mlg_pipeline_kind kind)
{
  mlg_lua_env *env = mlg_lua_env_of(L);
  model_ref *r;
  char *key, *data = NULL;
  size_t len = 0, klen = strlen(path) + 2;
  mlg_err e;
  int rc;

  key = malloc(klen);
  if (!key)
    luaL_error(L, "not enough memory");
  key[0] = (char)('0' + (int)kind);
  memcpy(key + 1, path, klen - 1);
  r = cache_get(key);
  if (r) {
    free(key);
    r->refs++;
    return r;
  }
  r = calloc(1, sizeof *r);
  if (!r) {
    free(key);
    luaL_error(L, "not enough memory");
  }
  r->refs = 1;
  e.msg[0] = '\0';
  rc = mlg_ws_read(&data, &len, env->ws, path, (size_t)env->read_cap, &e);
  if (rc == 0) {
    rc = mlg_pipeline_load(&r->doc, data, len, path, kind, &e);
    free(data);
    if (rc == MLG_ENOENT) /* not a CI definition: nil without a message */
      rc = 0;
  }
  if (rc != 0) {
    r->error = strdup(e.msg[0] ? e.msg : "cannot load the pipeline definition");
    if (!r->error) {
      free(key);
      ref_release(r);
      luaL_error(L, "not enough memory");
    }
  }
  r->refs++; /* the cache's reference */
  cache_put(key, r);
  return r;
}

/* mlgate.pipeline.load(path [, kind]) -> model | nil, err | nil */
static int l_load(lua_State *L)
{
  const char *path = mlg_lua_check_path(L, 1);
  const char *kname = luaL_optstring(L, 2, NULL);
  mlg_pipeline_kind kind = MLG_PK_UNKNOWN;
  model_ref *r, **box;
  size_t i;

  if (kname) {
    for (i = 0; i < sizeof kinds / sizeof kinds[0]; i++)
      if (strcmp(kname, kinds[i].name) == 0)
        kind = kinds[i].kind;
    if (kind == MLG_PK_UNKNOWN)
      return luaL_argerror(L, 2, "kind must be workflow, action, dependabot or precommit");
  } else {
    kind = mlg_pipeline_kind_of_path(path);
  }
  box = lua_newuserdatauv(L, sizeof *box, 0);
  *box = NULL;
  luaL_setmetatable(L, box_mt);
  r = load(L, path, kind);
  *box = r;
  if (!r->doc) {
    lua_pushnil(L);
    if (!r->error)
      return 1;
    lua_pushstring(L, r->error);
    return 2;
  }
  mlg_lua_push_lazy(L, r->doc->root, -1);
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
  if (luaL_newmetatable(L, box_mt)) {
    lua_pushcfunction(L, box_gc);
    lua_setfield(L, -2, "__gc");
    lua_pushliteral(L, "mlgate.pipeline.model");
    lua_setfield(L, -2, "__metatable");
  }
  lua_pop(L, 1);
  luaL_newlib(L, fns);
  lua_setfield(L, -2, "pipeline");
}
