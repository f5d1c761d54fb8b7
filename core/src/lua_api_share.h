/* Shared results for SDK modules (see lua_api_share.c). */
#ifndef MLG_LUA_API_SHARE_H
#define MLG_LUA_API_SHARE_H

#include <lua.h>

/* Pushes a new table {get = share_get, put = share_put}. */
void mlg_lua_push_share(lua_State *L);

#endif
