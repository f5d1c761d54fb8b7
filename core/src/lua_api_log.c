/*
 * mlgate.log and print(): policy output goes to the parent as records and
 * is printed there, sanitised, on stderr — never raw on stdout, where it
 * could corrupt a report or smuggle CI workflow commands.
 */
#include <string.h>

#include <lauxlib.h>

#include "lua_api.h"
#include "node.h"

#define MAX_LOG_BYTES 4096
#define MAX_LOG_RECORDS 1000

static const char count_key = 'L';

static int emit_log(lua_State *L, const char *level, const char *msg, size_t len)
{
  mlg_lua_env *env = mlg_lua_env_of(L);
  mlg_doc *doc;
  mlg_node *rec;
  lua_Integer count;
  int rc = -1;

  lua_rawgetp(L, LUA_REGISTRYINDEX, &count_key);
  count = lua_tointeger(L, -1) + 1;
  lua_pop(L, 1);
  lua_pushinteger(L, count);
  lua_rawsetp(L, LUA_REGISTRYINDEX, &count_key);
  if (count > MAX_LOG_RECORDS)
    return 0; /* the parent reports that output was cut */
  if (len > MAX_LOG_BYTES)
    len = MAX_LOG_BYTES;
  doc = mlg_doc_new(NULL);
  if (doc && (rec = mlg_node_map(doc)) != NULL &&
      mlg_map_set_str(doc, rec, "t", "log") == 0 &&
      mlg_map_set_str(doc, rec, "level", level) == 0 &&
      mlg_map_set(doc, rec, "message", mlg_node_strn(doc, msg, len)) == 0)
    rc = mlg_lua_emit(env, rec);
  mlg_doc_free(doc);
  if (rc != 0)
    return luaL_error(L, "cannot send a log message");
  return 0;
}

/* log.X(fmt, ...): formatted like string.format when there are arguments. */
static int log_level(lua_State *L, const char *level)
{
  size_t len;
  const char *msg;
  if (lua_gettop(L) > 1) {
    lua_getglobal(L, "string");
    lua_getfield(L, -1, "format");
    lua_insert(L, 1);
    lua_pop(L, 1);
    lua_call(L, lua_gettop(L) - 1, 1);
  }
  msg = luaL_tolstring(L, 1, &len);
  return emit_log(L, level, msg, len);
}

static int l_debug(lua_State *L) { return log_level(L, "debug"); }
static int l_info(lua_State *L) { return log_level(L, "info"); }
static int l_warn(lua_State *L) { return log_level(L, "warn"); }

static int l_print(lua_State *L)
{
  int n = lua_gettop(L), i;
  size_t len;
  const char *s;
  luaL_Buffer b;

  luaL_buffinit(L, &b);
  for (i = 1; i <= n; i++) {
    if (i > 1)
      luaL_addchar(&b, '\t');
    /* luaL_addvalue, not addlstring + pop: the buffer may live on the
     * stack above the value, and popping it would free its storage. */
    luaL_tolstring(L, i, NULL);
    luaL_addvalue(&b);
  }
  luaL_pushresult(&b);
  s = lua_tolstring(L, -1, &len);
  return emit_log(L, "info", s, len);
}

void mlg_lua_open_log(lua_State *L)
{
  static const luaL_Reg fns[] = {
    {"debug", l_debug}, {"info", l_info}, {"warn", l_warn}, {NULL, NULL}};
  luaL_newlib(L, fns);
  lua_setfield(L, -2, "log");
  lua_pushcfunction(L, l_print);
  lua_setglobal(L, "print");
}
