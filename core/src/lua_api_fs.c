/* mlgate.fs: workspace-confined file access for policies. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <lauxlib.h>

#include "fsx.h"
#include "glob.h"
#include "lua_api.h"
#include "lua_memo.h"
#include "node.h"
#include "scope.h"

const char *mlg_lua_check_path(lua_State *L, int idx)
{
  size_t len;
  const char *s = luaL_checklstring(L, idx, &len);
  if (strlen(s) != len)
    luaL_argerror(L, idx, "path contains a NUL byte");
  return s;
}

/* Pushes the error as (nil, message): expected failures are data. */
static int fail(lua_State *L, const mlg_err *e)
{
  luaL_pushfail(L);
  lua_pushstring(L, e->msg);
  return 2;
}

/* Collects the glob arguments (a string or a table of strings) into a
 * temporary array on the Lua stack's userdata; returns the count. */
static size_t get_globs(lua_State *L, int idx, const char **out, size_t max)
{
  size_t n = 0;
  if (lua_isnoneornil(L, idx))
    return 0;
  if (lua_type(L, idx) == LUA_TSTRING) {
    out[n++] = lua_tostring(L, idx);
    return n;
  }
  luaL_checktype(L, idx, LUA_TTABLE);
  for (lua_Integer i = 1; n < max; i++) {
    if (lua_rawgeti(L, idx, i) == LUA_TNIL) {
      lua_pop(L, 1);
      break;
    }
    if (lua_type(L, -1) != LUA_TSTRING)
      luaL_error(L, "fs.list: glob %d is a %s, expected a string", (int)i, luaL_typename(L, -1));
    out[n++] = lua_tostring(L, -1); /* kept alive by the table */
    lua_pop(L, 1);
  }
  return n;
}

/* fs.list([globs]) -> sorted array of paths visible to this gate. With no
 * globs: the policy's `files` globs, or every file when it has none. */
static int l_list(lua_State *L)
{
  mlg_lua_env *env = mlg_lua_env_of(L);
  const char *globs[64];
  size_t n = get_globs(L, 1, globs, 64), i, j;
  lua_Integer out = 0;
  mlg_err e;

  for (j = 0; j < n; j++)
    if (mlg_glob_check(globs[j], &e) != 0)
      return luaL_error(L, "fs.list: %s", e.msg);
  lua_newtable(L);
  for (i = 0; i < env->ws->nfiles; i++) {
    const mlg_file *f = &env->ws->files[i];
    int match = 0;
    if (f->escapes || !mlg_scope_visible(env->cfg, env->gate, f->path))
      continue;
    if (n) {
      for (j = 0; j < n && !match; j++)
        match = mlg_glob_match(globs[j], f->path);
    } else {
      match = !env->files || env->files->len == 0 || mlg_scope_any(env->files, f->path);
    }
    if (!match)
      continue;
    lua_pushstring(L, f->path);
    lua_rawseti(L, -2, ++out);
  }
  return 1;
}

/* Files every policy of a batch reads (the workflow a dozen pipeline
 * policies look at) come from the memo: one read per process, not one per
 * policy. Only small files are kept. */
#define READ_MEMO_MAX ((size_t)1 << 20)

static int l_read(lua_State *L)
{
  mlg_lua_env *env = mlg_lua_env_of(L);
  const char *path = mlg_lua_check_path(L, 1);
  lua_Integer max = luaL_optinteger(L, 2, (lua_Integer)env->read_cap);
  char *data = NULL, key[4200];
  size_t len = 0, klen;
  mlg_memo *m;
  mlg_doc *doc;
  mlg_err e;

  if (max < 0 || (uint64_t)max > env->read_cap)
    max = (lua_Integer)env->read_cap;
  klen = (size_t)snprintf(key, sizeof key, "%s%c%lld", path, '\0', (long long)max);
  if (klen < sizeof key && (m = mlg_memo_get('F', key, klen)) != NULL) {
    lua_pushlstring(L, m->doc->root->u.str.ptr, m->doc->root->u.str.len);
    mlg_memo_release(m);
    return 1;
  }
  if (mlg_ws_read(&data, &len, env->ws, path, (size_t)max, &e) != 0)
    return fail(L, &e);
  lua_pushlstring(L, data, len);
  if (klen < sizeof key && len <= READ_MEMO_MAX && (doc = mlg_doc_new(path)) != NULL) {
    if ((doc->root = mlg_node_strn(doc, data, len)) == NULL)
      mlg_doc_free(doc);
    else
      mlg_memo_release(mlg_memo_put('F', key, klen, doc, NULL));
  }
  free(data);
  return 1;
}

/* fs.read_range(path, offset, length) -> bytes, file_size | nil, err.
 * A negative offset counts from the end: read_range(p, -22, 22) is the
 * last 22 bytes. Short at the end of the file, never an error for that. */
static int l_read_range(lua_State *L)
{
  mlg_lua_env *env = mlg_lua_env_of(L);
  const char *path = mlg_lua_check_path(L, 1);
  lua_Integer off = luaL_checkinteger(L, 2), n = luaL_checkinteger(L, 3);
  char *data = NULL;
  size_t len = 0;
  uint64_t size = 0;
  mlg_err e;

  luaL_argcheck(L, n >= 0, 3, "length must not be negative");
  if ((uint64_t)n > env->read_cap)
    n = (lua_Integer)env->read_cap;
  if (mlg_ws_read_range(&data, &len, &size, env->ws, path, (int64_t)off, (size_t)n, &e) != 0)
    return fail(L, &e);
  lua_pushlstring(L, data, len);
  free(data);
  lua_pushinteger(L, (lua_Integer)size);
  return 2;
}

/* fs.head(path, n) -> first n bytes, file_size | nil, err */
static int l_head(lua_State *L)
{
  lua_settop(L, 2);
  lua_pushinteger(L, 0);
  lua_insert(L, 2);
  return l_read_range(L);
}

static int l_stat(lua_State *L)
{
  mlg_lua_env *env = mlg_lua_env_of(L);
  const char *path = mlg_lua_check_path(L, 1);
  static const char *const types[] = {"file", "directory", "symlink", "other"};
  mlg_stat st;
  mlg_err e;

  if (mlg_ws_stat(&st, env->ws, path, &e) != 0)
    return fail(L, &e);
  lua_createtable(L, 0, 3);
  lua_pushstring(L, types[st.type <= MLG_FT_OTHER ? st.type : MLG_FT_OTHER]);
  lua_setfield(L, -2, "type");
  lua_pushinteger(L, (lua_Integer)st.size);
  lua_setfield(L, -2, "size");
  lua_pushboolean(L, st.link);
  lua_setfield(L, -2, "link");
  return 1;
}

static int l_exists(lua_State *L)
{
  mlg_lua_env *env = mlg_lua_env_of(L);
  mlg_stat st;
  lua_pushboolean(L, mlg_ws_stat(&st, env->ws, mlg_lua_check_path(L, 1), NULL) == 0);
  return 1;
}

static int l_glob(lua_State *L)
{
  lua_pushboolean(L, mlg_glob_match(luaL_checkstring(L, 1), luaL_checkstring(L, 2)));
  return 1;
}

void mlg_lua_open_fs(lua_State *L)
{
  static const luaL_Reg fns[] = {{"list", l_list},     {"read", l_read},
                                 {"head", l_head},     {"read_range", l_read_range},
                                 {"stat", l_stat},     {"exists", l_exists},
                                 {"glob", l_glob},     {NULL, NULL}};
  luaL_newlib(L, fns);
  lua_setfield(L, -2, "fs");
}
