/*
 * Document trees as Lua tables that fill themselves on first touch.
 *
 * A pipeline model is read by dozens of policies, each in its own fresh
 * state, and most of them look at a small part of it (the triggers, the
 * `uses:` of each step). Converting the whole tree for each of them would
 * cost more than the checks. A lazy table starts as a table holding only
 * the node it stands for, under a private key, with a protected metatable
 * shared by the tables of one document (which also keeps the document
 * alive). Reading t[k] converts that one entry and keeps it in the table;
 * `#` on a sequence answers from the node; `pairs`, assignment and
 * conversion (mlg_lua_to_node) fill in the whole level and remove the
 * metatable, after which it is an ordinary table. Children become lazy
 * tables in turn.
 *
 * The sandbox's next, rawget, rawset and rawlen fill a table before
 * looking at it, so policies never see the private key or a half-filled
 * table.
 */
#ifndef MLG_LUA_LAZY_H
#define MLG_LUA_LAZY_H

#include <lua.h>

#include "node.h"

/* Pushes n: scalars as values (null as mlgate.null), containers as lazy
 * tables. owner: stack index of a value that keeps n's document alive for
 * as long as any table made from it is untouched. */
void mlg_lua_push_lazy(lua_State *L, const mlg_node *n, int owner);

/* Fills the table at idx if it is an untouched lazy table (no-op for any
 * other value). For C code that walks tables with lua_next. */
void mlg_lua_lazy_fill(lua_State *L, int idx);

#endif
