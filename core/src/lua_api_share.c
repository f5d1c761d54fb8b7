/*
 * Results shared between the policies a child evaluates, for SDK modules
 * only (the files under lua/mlgate).
 *
 * Each policy runs in its own Lua state, so work that an SDK module does
 * in Lua for every policy that asks (mlgate.mlcmd reading the ML commands
 * of every script, for seven policies) was done once per policy. An SDK
 * module may store such a result under a key and find it in the other
 * states: the value is copied into a document in the per-process memo
 * (lua_memo.h, entries of kind 'L') and handed back as a lazy table: a
 * state may write to its copy, never to what the others get.
 *
 * The functions are not in the mlgate table: they are given to SDK files
 * as a second chunk argument (lua_api.c), so a policy cannot store
 * results that other policies' SDK calls would then trust. Keys are the
 * module's business; a value must be data (no functions or cycles).
 */
#include "lua_api_share.h"

#include <string.h>

#include <lauxlib.h>

#include "lua_api.h"
#include "lua_memo.h"
#include "node.h"

#define SHARE_MAX_KEY ((size_t)16 << 20)

/* share_get(key) -> value | nil */
static int l_get(lua_State *L)
{
  size_t len;
  const char *key = luaL_checklstring(L, 1, &len);
  mlg_memo *m = len <= SHARE_MAX_KEY ? mlg_memo_get('L', key, len) : NULL;
  if (!m || !m->doc) {
    mlg_memo_release(m);
    lua_pushnil(L);
    return 1;
  }
  mlg_lua_memo_push(L, m);
  return 1;
}

/* share_put(key, value) -> value: stored for the other states (as
 * share_get gives it); the caller keeps its own tables, converted already */
static int l_put(lua_State *L)
{
  size_t len;
  const char *key = luaL_checklstring(L, 1, &len);
  mlg_doc **slot;
  mlg_doc *doc;
  mlg_node *n;
  mlg_memo *m;

  luaL_checkany(L, 2);
  lua_settop(L, 2);
  if (len > SHARE_MAX_KEY)
    return 1;
  /* Converted into a document a box on the Lua stack owns (the conversion
   * raises on bad values and the box frees it then), then taken from the
   * box for the memo. */
  slot = mlg_lua_doc_slot(L);
  if (!(*slot = mlg_doc_new(NULL)))
    return luaL_error(L, "not enough memory");
  n = mlg_lua_to_node(L, 2, *slot, 0);
  if (mlg_doc_add_root(*slot, n) != 0)
    return luaL_error(L, "not enough memory");
  doc = *slot;
  *slot = NULL;
  if (!(m = mlg_memo_put('L', key, len, doc, NULL)))
    return luaL_error(L, "not enough memory");
  mlg_memo_release(m);
  lua_settop(L, 2);
  return 1;
}

void mlg_lua_push_share(lua_State *L)
{
  static const luaL_Reg fns[] = {{"get", l_get}, {"put", l_put}, {NULL, NULL}};
  luaL_newlib(L, fns);
}
