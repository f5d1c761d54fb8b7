/*
 * mlgate.shell: the shell lexer (shlex.h) for policies (lua_api_shell.c).
 */
#ifndef MLG_LUA_API_SHELL_H
#define MLG_LUA_API_SHELL_H

#include <lua.h>

/* Adds the field `shell` to the table on top of the stack. */
void mlg_lua_open_shell(lua_State *L);

#endif
