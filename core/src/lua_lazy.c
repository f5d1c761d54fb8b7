#include "lua_lazy.h"

#include <lauxlib.h>

#include "lua_api.h"

/* Registry slots: the shared metatable, and the weak-keyed table mapping
 * each untouched lazy table to its ref (a userdata holding the node, with
 * the owner as user value). */
static const char mt_key = 'M';
static const char refs_key = 'R';

static void push_registry(lua_State *L);

/* Pushes n with the metatable and refs table at mt and refs. */
static void push_value(lua_State *L, const mlg_node *n, int owner, int mt, int refs)
{
  const mlg_node **ref;

  switch (n->type) {
  case MLG_NULL:
    mlg_lua_push_null(L);
    return;
  case MLG_BOOL:
    lua_pushboolean(L, n->u.boolean);
    return;
  case MLG_INT:
    lua_pushinteger(L, (lua_Integer)n->u.integer);
    return;
  case MLG_FLOAT:
    lua_pushnumber(L, n->u.number);
    return;
  case MLG_STR:
    lua_pushlstring(L, n->u.str.ptr, n->u.str.len);
    return;
  case MLG_SEQ:
    lua_createtable(L, (int)n->u.seq.len, 0);
    break;
  default:
    lua_createtable(L, 0, (int)n->u.map.len);
    break;
  }
  lua_pushvalue(L, mt);
  lua_setmetatable(L, -2);
  lua_pushvalue(L, -1);
  ref = lua_newuserdatauv(L, sizeof *ref, 1);
  *ref = n;
  lua_pushvalue(L, owner);
  lua_setiuservalue(L, -2, 1);
  lua_rawset(L, refs);
}

void mlg_lua_push_lazy(lua_State *L, const mlg_node *n, int owner)
{
  int mt, refs;
  owner = lua_absindex(L, owner);
  luaL_checkstack(L, 6, "out of stack");
  push_registry(L);
  mt = lua_gettop(L) - 1;
  refs = mt + 1;
  push_value(L, n, owner, mt, refs);
  lua_replace(L, mt);
  lua_settop(L, mt);
}

/* Fills the lazy table at idx; returns 0 when it is not one. */
static int fill(lua_State *L, int idx)
{
  const mlg_node *n;
  int mt, refs, owner;
  size_t i;

  idx = lua_absindex(L, idx);
  if (lua_type(L, idx) != LUA_TTABLE || !lua_getmetatable(L, idx))
    return 0;
  luaL_checkstack(L, 8, "document too deep");
  push_registry(L);
  refs = lua_gettop(L);
  mt = refs - 1;
  /* Only a table with the real metatable (which policies cannot get hold
   * of) is looked up. */
  if (!lua_rawequal(L, mt, mt - 1)) {
    lua_settop(L, mt - 2);
    return 0;
  }
  lua_pushvalue(L, idx);
  if (lua_rawget(L, refs) != LUA_TUSERDATA) {
    lua_settop(L, mt - 2);
    return 0;
  }
  n = *(const mlg_node **)lua_touserdata(L, -1);
  lua_getiuservalue(L, -1, 1);
  owner = lua_gettop(L);
  /* An ordinary table from here on, even if filling runs out of memory. */
  lua_pushvalue(L, idx);
  lua_pushnil(L);
  lua_rawset(L, refs);
  lua_pushnil(L);
  lua_setmetatable(L, idx);
  if (n->type == MLG_SEQ) {
    for (i = 0; i < n->u.seq.len; i++) {
      push_value(L, n->u.seq.items[i], owner, mt, refs);
      lua_rawseti(L, idx, (lua_Integer)i + 1);
    }
  } else if (n->type == MLG_MAP) {
    for (i = 0; i < n->u.map.len; i++) {
      const mlg_node *k = n->u.map.pairs[i].key;
      if (k->type != MLG_STR)
        continue;
      lua_pushlstring(L, k->u.str.ptr, k->u.str.len);
      push_value(L, n->u.map.pairs[i].val, owner, mt, refs);
      lua_rawset(L, idx);
    }
  }
  lua_settop(L, mt - 2);
  return 1;
}

void mlg_lua_lazy_fill(lua_State *L, int idx)
{
  fill(L, idx);
}

static int mm_index(lua_State *L)
{
  fill(L, 1);
  lua_settop(L, 2);
  lua_rawget(L, 1);
  return 1;
}

static int mm_newindex(lua_State *L)
{
  fill(L, 1);
  lua_settop(L, 3);
  lua_rawset(L, 1);
  return 0;
}

static int mm_len(lua_State *L)
{
  fill(L, 1);
  lua_pushinteger(L, (lua_Integer)lua_rawlen(L, 1));
  return 1;
}

/* The iterator pairs() returns (the global `next` may have been replaced
 * by the policy). */
static int lazy_next(lua_State *L)
{
  luaL_checktype(L, 1, LUA_TTABLE);
  lua_settop(L, 2);
  if (lua_next(L, 1))
    return 2;
  lua_pushnil(L);
  return 1;
}

static int mm_pairs(lua_State *L)
{
  fill(L, 1);
  lua_pushcfunction(L, lazy_next);
  lua_pushvalue(L, 1);
  lua_pushnil(L);
  return 3;
}

/* Pushes the metatable and the refs table, creating them once per state. */
static void push_registry(lua_State *L)
{
  static const luaL_Reg mm[] = {{"__index", mm_index},
                                {"__newindex", mm_newindex},
                                {"__len", mm_len},
                                {"__pairs", mm_pairs},
                                {NULL, NULL}};
  if (lua_rawgetp(L, LUA_REGISTRYINDEX, &mt_key) == LUA_TTABLE) {
    lua_rawgetp(L, LUA_REGISTRYINDEX, &refs_key);
    return;
  }
  lua_pop(L, 1);
  lua_createtable(L, 0, 5);
  luaL_setfuncs(L, mm, 0);
  /* getmetatable() shows this string; setmetatable() refuses to replace. */
  lua_pushliteral(L, "mlgate.lazy");
  lua_setfield(L, -2, "__metatable");
  lua_pushvalue(L, -1);
  lua_rawsetp(L, LUA_REGISTRYINDEX, &mt_key);
  lua_newtable(L);
  lua_createtable(L, 0, 1);
  lua_pushliteral(L, "k");
  lua_setfield(L, -2, "__mode");
  lua_setmetatable(L, -2);
  lua_pushvalue(L, -1);
  lua_rawsetp(L, LUA_REGISTRYINDEX, &refs_key);
}
