/* mlgate.hash: SHA-256 of strings and of workspace files (streamed). */
#include <unistd.h>

#include <lauxlib.h>

#include "fsx.h"
#include "hash.h"
#include "lua_api.h"

static int l_sha256(lua_State *L)
{
  size_t len;
  const char *s = luaL_checklstring(L, 1, &len);
  unsigned char md[MLG_SHA256_LEN];
  char hex[MLG_SHA256_HEX];

  if (mlg_sha256_buf(md, s, len) != 0)
    return luaL_error(L, "sha256 failed");
  mlg_hex(hex, md, sizeof md);
  lua_pushstring(L, hex);
  return 1;
}

/* sha256_file(path) -> hex, size | nil, message */
static int l_sha256_file(lua_State *L)
{
  mlg_lua_env *env = mlg_lua_env_of(L);
  const char *path = mlg_lua_check_path(L, 1);
  unsigned char md[MLG_SHA256_LEN];
  char hex[MLG_SHA256_HEX];
  uint64_t n = 0;
  mlg_err e;
  int fd = -1, rc;

  rc = mlg_ws_open_file(&fd, env->ws, path, &e);
  if (rc == 0) {
    rc = mlg_sha256_fd(md, fd, &n, &e);
    close(fd);
  }
  if (rc != 0) {
    luaL_pushfail(L);
    lua_pushstring(L, e.msg);
    return 2;
  }
  mlg_hex(hex, md, sizeof md);
  lua_pushstring(L, hex);
  lua_pushinteger(L, (lua_Integer)n);
  return 2;
}

void mlg_lua_open_hash(lua_State *L)
{
  static const luaL_Reg fns[] = {
    {"sha256", l_sha256}, {"sha256_file", l_sha256_file}, {NULL, NULL}};
  luaL_newlib(L, fns);
  lua_setfield(L, -2, "hash");
}
