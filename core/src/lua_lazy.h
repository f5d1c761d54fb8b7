/*
 * Document trees as Lua tables that fill themselves on first touch.
 *
 * A pipeline model is read by dozens of policies, each in its own fresh
 * state, and most of them look at a small part of it (the triggers, the
 * `uses:` of each step). Converting the whole tree for each of them would
 * cost more than the checks. A lazy table is an empty table with a shared,
 * protected metatable; what it stands for (the node, and a value keeping
 * its document alive) is kept out of the policy's reach, in a weak-keyed
 * registry table. The first index, assignment, `#`, `pairs` or conversion
 * fills in one level (children become lazy tables in turn) and removes the
 * metatable, after which it is an ordinary table.
 *
 * Raw access before the first touch (rawget, next, rawlen) sees an empty
 * table: the SDK documents indexing and `pairs`, which work.
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
