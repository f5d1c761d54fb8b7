/*
 * mlgate.gha: the GitHub Actions expression engine (gha_expr.h) for
 * policies. See lua_api_gha.c for the functions.
 */
#ifndef MLG_LUA_API_GHA_H
#define MLG_LUA_API_GHA_H

#include <lua.h>

/* Adds the table `gha` to the table on top of the stack. */
void mlg_lua_open_gha(lua_State *L);

#endif
