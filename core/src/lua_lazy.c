#include "lua_lazy.h"

#include <string.h>

#include <lauxlib.h>

#include "lua_api.h"

/* Each document handed to a state gets its own metatable, shared by every
 * lazy table made from it: it holds the metamethods and, under a private
 * key, the owner that keeps the document alive. A lazy table itself holds
 * only the node it stands for (a light userdata under another private
 * key). Policies never see either: getmetatable() shows a string, indexing
 * goes through __index, pairs() and # fill the table first, and the
 * sandbox's next/rawget/rawset/rawlen do too (mlg_lua_lazy_fill), so a
 * node pointer cannot be moved to a table whose owner does not keep its
 * document alive. */
static const char node_key = 'N';
static const char owner_key = 'O';
static const char mark_key = 'M'; /* in our metatables only */

static int mm_index(lua_State *L);
static int mm_newindex(lua_State *L);
static int mm_len(lua_State *L);
static int mm_pairs(lua_State *L);

/* Pushes n: a scalar, or a new lazy table with the metatable at mt. Maps
 * start small: most are read a key or two at a time. */
static void push_value(lua_State *L, const mlg_node *n, int mt)
{
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
    lua_createtable(L, (int)n->u.seq.len, 1);
    break;
  default:
    lua_createtable(L, 0, 4);
    break;
  }
  lua_pushlightuserdata(L, (void *)n);
  lua_rawsetp(L, -2, &node_key);
  lua_pushvalue(L, mt);
  lua_setmetatable(L, -2);
}

void mlg_lua_push_lazy(lua_State *L, const mlg_node *n, int owner)
{
  int mt;
  owner = lua_absindex(L, owner);
  luaL_checkstack(L, 4, "out of stack");
  lua_createtable(L, 0, 6);
  mt = lua_gettop(L);
  lua_pushcfunction(L, mm_index);
  lua_setfield(L, mt, "__index");
  lua_pushboolean(L, 1);
  lua_rawsetp(L, mt, &mark_key);
  lua_pushcfunction(L, mm_newindex);
  lua_setfield(L, mt, "__newindex");
  lua_pushcfunction(L, mm_len);
  lua_setfield(L, mt, "__len");
  lua_pushcfunction(L, mm_pairs);
  lua_setfield(L, mt, "__pairs");
  /* getmetatable() shows this string; setmetatable() refuses to replace. */
  lua_pushliteral(L, "mlgate.lazy");
  lua_setfield(L, mt, "__metatable");
  lua_pushvalue(L, owner);
  lua_rawsetp(L, mt, &owner_key);
  push_value(L, n, mt);
  lua_remove(L, mt);
}

/* The node of the untouched lazy table at idx, with its metatable pushed
 * (at *mt); NULL with the stack unchanged when idx is anything else. A
 * metatable is one of ours when its __index is mm_index, a function
 * policies cannot get hold of. */
static const mlg_node *lookup(lua_State *L, int idx, int *mt)
{
  const mlg_node *n;
  int top = lua_gettop(L);

  if (lua_type(L, idx) != LUA_TTABLE || !lua_getmetatable(L, idx))
    return NULL;
  luaL_checkstack(L, 6, "document too deep");
  /* Our metatables carry a private mark (a light userdata key no policy
   * can make): checked instead of comparing __index, which needed the
   * string "__index" pushed, and so looked up, on every access. */
  if (lua_rawgetp(L, -1, &mark_key) != LUA_TBOOLEAN ||
      lua_rawgetp(L, idx, &node_key) != LUA_TLIGHTUSERDATA) {
    lua_settop(L, top);
    return NULL;
  }
  n = lua_touserdata(L, -1);
  lua_settop(L, top + 1);
  *mt = top + 1;
  return n;
}

/* Fills every entry of the lazy table at idx that is not there yet and
 * makes it an ordinary table; returns 0 when it is not one. Entries looked
 * up one by one before keep their values (a child table stays the same
 * table). */
static int fill(lua_State *L, int idx)
{
  const mlg_node *n;
  int mt, top;
  size_t i;

  idx = lua_absindex(L, idx);
  top = lua_gettop(L);
  if (!(n = lookup(L, idx, &mt)))
    return 0;
  /* An ordinary table from here on, even if filling runs out of memory;
   * the metatable (with the owner) stays on the stack for the children. */
  lua_pushnil(L);
  lua_rawsetp(L, idx, &node_key);
  lua_pushnil(L);
  lua_setmetatable(L, idx);
  if (n->type == MLG_SEQ) {
    for (i = 0; i < n->u.seq.len; i++) {
      if (lua_rawgeti(L, idx, (lua_Integer)i + 1) != LUA_TNIL) {
        lua_pop(L, 1);
        continue;
      }
      lua_pop(L, 1);
      push_value(L, n->u.seq.items[i], mt);
      lua_rawseti(L, idx, (lua_Integer)i + 1);
    }
  } else if (n->type == MLG_MAP) {
    for (i = 0; i < n->u.map.len; i++) {
      const mlg_node *k = n->u.map.pairs[i].key;
      if (k->type != MLG_STR)
        continue;
      lua_pushlstring(L, k->u.str.ptr, k->u.str.len);
      lua_pushvalue(L, -1);
      if (lua_rawget(L, idx) != LUA_TNIL) {
        lua_pop(L, 2);
        continue;
      }
      lua_pop(L, 1);
      push_value(L, n->u.map.pairs[i].val, mt);
      lua_rawset(L, idx);
    }
  }
  lua_settop(L, top);
  return 1;
}

void mlg_lua_lazy_fill(lua_State *L, int idx)
{
  fill(L, idx);
}

/* t[k] on an untouched table: converts that one entry and keeps it in the
 * table, so a policy reading step.run.text pays for three values, not for
 * every field of every object on the way. */
static int mm_index(lua_State *L)
{
  const mlg_node *n, *v = NULL;
  int mt;
  size_t i;

  lua_settop(L, 2);
  if (!(n = lookup(L, 1, &mt))) {
    lua_rawget(L, 1);
    return 1;
  }
  if (n->type == MLG_MAP && lua_type(L, 2) == LUA_TSTRING) {
    size_t klen;
    const char *key = lua_tolstring(L, 2, &klen);
    for (i = 0; i < n->u.map.len && !v; i++) {
      const mlg_node *k = n->u.map.pairs[i].key;
      if (k->type == MLG_STR && k->u.str.len == klen && memcmp(k->u.str.ptr, key, klen) == 0)
        v = n->u.map.pairs[i].val;
    }
  } else if (n->type == MLG_SEQ && lua_isinteger(L, 2)) {
    lua_Integer k = lua_tointeger(L, 2);
    if (k >= 1 && (lua_Unsigned)k <= n->u.seq.len)
      v = n->u.seq.items[k - 1];
  }
  if (!v) {
    lua_pushnil(L);
    return 1;
  }
  push_value(L, v, mt);
  lua_pushvalue(L, 2);
  lua_pushvalue(L, -2);
  lua_rawset(L, 1);
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
  int mt;
  const mlg_node *n = lookup(L, 1, &mt);
  if (n && n->type == MLG_SEQ) {
    lua_pushinteger(L, (lua_Integer)n->u.seq.len);
    return 1;
  }
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
