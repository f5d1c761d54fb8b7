/*
 * mlgate.pipeline for policies: load(path [, kind]) and kind(path); the
 * model is cached per process (lua_memo.h).
 */
#ifndef MLG_LUA_API_PIPELINE_H
#define MLG_LUA_API_PIPELINE_H

#include <lua.h>

/* Adds the `pipeline` table to the table on top of the stack. */
void mlg_lua_open_pipeline(lua_State *L);

#endif
