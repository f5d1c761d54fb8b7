/*
 * mlgate.re: PCRE2 regular expressions for policies, with match limits.
 * Positions are 1-based and inclusive, like string.find. Hitting a match
 * limit raises an error (the gate fails closed) instead of reading as "no
 * match", which an attacker could otherwise use to slip past a check.
 *
 *   local r = mlgate.re.compile([[torch\.load\s*\(]], "i")
 *   r:find(s [, init]) -> start, end, captures... | nil
 *   r:match(s [, init]) -> captures or whole match | nil
 *   r:gmatch(s) -> iterator of captures or whole match
 *   r:gfind(s) -> iterator of start, end, captures...
 *   r:test(s) -> boolean
 *   mlgate.re.find/match/gmatch/gfind/test(s, pattern [, init|flags...])
 */
#include <stdint.h>
#include <string.h>

#include <lauxlib.h>

#include "lua_api.h"
#include "regex.h"

#define RE_MT "mlgate.regex"
#define MAX_GROUPS 32
#define CACHE_MAX 256

static const char cache_key = 'R';

typedef struct re_box {
  mlg_regex *re;
  unsigned flags;
} re_box;

static int re_gc(lua_State *L)
{
  re_box *b = luaL_checkudata(L, 1, RE_MT);
  mlg_regex_free(b->re);
  b->re = NULL;
  return 0;
}

static unsigned parse_flags(lua_State *L, const char *f)
{
  unsigned flags = 0;
  for (; f && *f; f++) {
    switch (*f) {
    case 'i': flags |= MLG_RE_CASELESS; break;
    case 'm': flags |= MLG_RE_MULTILINE; break;
    case 's': flags |= MLG_RE_DOTALL; break;
    case 'x': flags |= MLG_RE_EXTENDED; break;
    case 'u': flags |= MLG_RE_UTF; break;
    default:
      luaL_error(L, "unknown regex flag '%c' (use i, m, s, x, u)", *f);
    }
  }
  return flags;
}

static re_box *compile(lua_State *L, int pat_idx, const char *flagstr)
{
  size_t len;
  const char *pat = luaL_checklstring(L, pat_idx, &len);
  unsigned flags = parse_flags(L, flagstr);
  re_box *b = lua_newuserdatauv(L, sizeof *b, 0);
  mlg_err e;

  b->re = NULL;
  b->flags = flags;
  luaL_setmetatable(L, RE_MT);
  if (mlg_regex_compile(&b->re, pat, len, flags, NULL, &e) != 0)
    luaL_error(L, "%s", e.msg);
  return b;
}

static int l_compile(lua_State *L)
{
  compile(L, 1, luaL_optstring(L, 2, ""));
  return 1;
}

/* Runs one search; returns the number of pairs (0 = no match). */
static int exec(lua_State *L, re_box *b, const char *s, size_t len, size_t start, size_t *ov)
{
  mlg_err e;
  int n;
  if (!b->re)
    return luaL_error(L, "regex already freed");
  n = mlg_regex_exec(b->re, s, len, start, ov, MAX_GROUPS + 1, &e);
  if (n < 0)
    return luaL_error(L, "%s", e.msg);
  return n;
}

static size_t start_index(lua_State *L, int idx, size_t len)
{
  lua_Integer init = luaL_optinteger(L, idx, 1);
  if (init < 0)
    init = (lua_Integer)len + init + 1;
  if (init < 1)
    init = 1;
  if ((size_t)init > len + 1)
    return SIZE_MAX;
  return (size_t)init - 1;
}

/* Pushes captures (or the whole match when there are none). */
static int push_captures(lua_State *L, const re_box *b, const char *s, const size_t *ov, int n,
                         int whole_if_none)
{
  unsigned groups = mlg_regex_groups(b->re);
  unsigned i;
  if (groups > MAX_GROUPS)
    groups = MAX_GROUPS;
  if (groups == 0) {
    if (whole_if_none) {
      lua_pushlstring(L, s + ov[0], ov[1] - ov[0]);
      return 1;
    }
    return 0;
  }
  luaL_checkstack(L, (int)groups, "too many captures");
  for (i = 1; i <= groups; i++) {
    if ((int)i < n && ov[2 * i] != SIZE_MAX)
      lua_pushlstring(L, s + ov[2 * i], ov[2 * i + 1] - ov[2 * i]);
    else
      luaL_pushfail(L);
  }
  return (int)groups;
}

static int do_find(lua_State *L, re_box *b, int s_idx, int init_idx)
{
  size_t len, ov[2 * (MAX_GROUPS + 1)], start;
  const char *s = luaL_checklstring(L, s_idx, &len);
  int n;
  start = start_index(L, init_idx, len);
  if (start == SIZE_MAX || (n = exec(L, b, s, len, start, ov)) == 0) {
    luaL_pushfail(L);
    return 1;
  }
  lua_pushinteger(L, (lua_Integer)ov[0] + 1);
  lua_pushinteger(L, (lua_Integer)ov[1]);
  return 2 + push_captures(L, b, s, ov, n, 0);
}

static int do_match(lua_State *L, re_box *b, int s_idx, int init_idx)
{
  size_t len, ov[2 * (MAX_GROUPS + 1)], start;
  const char *s = luaL_checklstring(L, s_idx, &len);
  int n;
  start = start_index(L, init_idx, len);
  if (start == SIZE_MAX || (n = exec(L, b, s, len, start, ov)) == 0) {
    luaL_pushfail(L);
    return 1;
  }
  return push_captures(L, b, s, ov, n, 1);
}

static int do_test(lua_State *L, re_box *b, int s_idx)
{
  size_t len, ov[2 * (MAX_GROUPS + 1)];
  const char *s = luaL_checklstring(L, s_idx, &len);
  lua_pushboolean(L, exec(L, b, s, len, 0, ov) > 0);
  return 1;
}

/* Iterator state in upvalues: 1 regex, 2 subject, 3 next start, 4 mode. */
static int iter(lua_State *L)
{
  re_box *b = luaL_checkudata(L, lua_upvalueindex(1), RE_MT);
  size_t len, ov[2 * (MAX_GROUPS + 1)];
  const char *s = lua_tolstring(L, lua_upvalueindex(2), &len);
  lua_Integer pos = lua_tointeger(L, lua_upvalueindex(3));
  int positions = lua_toboolean(L, lua_upvalueindex(4));
  size_t next;
  int n;

  if (pos < 0 || (size_t)pos > len)
    return 0;
  n = exec(L, b, s, len, (size_t)pos, ov);
  if (n == 0) {
    lua_pushinteger(L, -1);
    lua_replace(L, lua_upvalueindex(3));
    return 0;
  }
  next = ov[1];
  if (ov[1] == ov[0]) { /* empty match: step over one character */
    next = ov[1] + 1;
    if (b->flags & MLG_RE_UTF)
      while (next < len && ((unsigned char)s[next] & 0xC0) == 0x80)
        next++;
  }
  lua_pushinteger(L, (lua_Integer)next);
  lua_replace(L, lua_upvalueindex(3));
  if (positions) {
    lua_pushinteger(L, (lua_Integer)ov[0] + 1);
    lua_pushinteger(L, (lua_Integer)ov[1]);
    return 2 + push_captures(L, b, s, ov, n, 0);
  }
  return push_captures(L, b, s, ov, n, 1);
}

static int make_iter(lua_State *L, int re_idx, int s_idx, int positions)
{
  luaL_checkstring(L, s_idx);
  lua_pushvalue(L, re_idx);
  lua_pushvalue(L, s_idx);
  lua_pushinteger(L, 0);
  lua_pushboolean(L, positions);
  lua_pushcclosure(L, iter, 4);
  return 1;
}

/* Methods. */
static re_box *self(lua_State *L) { return luaL_checkudata(L, 1, RE_MT); }
static int m_find(lua_State *L) { return do_find(L, self(L), 2, 3); }
static int m_match(lua_State *L) { return do_match(L, self(L), 2, 3); }
static int m_test(lua_State *L) { return do_test(L, self(L), 2); }
static int m_gmatch(lua_State *L) { self(L); return make_iter(L, 1, 2, 0); }
static int m_gfind(lua_State *L) { self(L); return make_iter(L, 1, 2, 1); }

/* Module functions compile through a per-state cache: policies call them
 * in loops over lines. */
static int cached(lua_State *L, int pat_idx, const char *flags)
{
  int cache;
  lua_rawgetp(L, LUA_REGISTRYINDEX, &cache_key);
  cache = lua_gettop(L);
  lua_pushvalue(L, pat_idx);
  lua_pushliteral(L, "\n");
  lua_pushstring(L, flags);
  lua_concat(L, 3);
  lua_pushvalue(L, -1);
  if (lua_rawget(L, cache) == LUA_TUSERDATA) {
    lua_replace(L, cache);
    lua_settop(L, cache);
    return cache;
  }
  lua_pop(L, 1);
  /* Bounded: start over when full rather than grow without limit. */
  lua_pushliteral(L, "#");
  if (lua_rawget(L, cache) == LUA_TNUMBER && lua_tointeger(L, -1) >= CACHE_MAX) {
    lua_pop(L, 1);
    lua_newtable(L);
    lua_pushvalue(L, -1);
    lua_rawsetp(L, LUA_REGISTRYINDEX, &cache_key);
    lua_replace(L, cache);
    lua_pushinteger(L, 0);
  }
  {
    lua_Integer count = lua_tointeger(L, -1) + 1;
    lua_pop(L, 1);
    lua_pushliteral(L, "#");
    lua_pushinteger(L, count);
    lua_rawset(L, cache);
  }
  compile(L, pat_idx, flags);
  lua_pushvalue(L, -2); /* key */
  lua_pushvalue(L, -2); /* regex */
  lua_rawset(L, cache);
  lua_replace(L, cache);
  lua_settop(L, cache);
  return cache;
}

/* f(s, pattern [, init [, flags]]) */
static int f_find(lua_State *L)
{
  int r;
  lua_settop(L, 4); /* the cached regex goes above the arguments */
  r = cached(L, 2, luaL_optstring(L, 4, ""));
  return do_find(L, lua_touserdata(L, r), 1, 3);
}

static int f_match(lua_State *L)
{
  int r;
  lua_settop(L, 4);
  r = cached(L, 2, luaL_optstring(L, 4, ""));
  return do_match(L, lua_touserdata(L, r), 1, 3);
}

/* f(s, pattern [, flags]) */
static int f_test(lua_State *L)
{
  int r;
  lua_settop(L, 3);
  r = cached(L, 2, luaL_optstring(L, 3, ""));
  return do_test(L, lua_touserdata(L, r), 1);
}

static int f_gmatch(lua_State *L)
{
  int r;
  lua_settop(L, 3);
  r = cached(L, 2, luaL_optstring(L, 3, ""));
  return make_iter(L, r, 1, 0);
}

static int f_gfind(lua_State *L)
{
  int r;
  lua_settop(L, 3);
  r = cached(L, 2, luaL_optstring(L, 3, ""));
  return make_iter(L, r, 1, 1);
}

void mlg_lua_open_re(lua_State *L)
{
  static const luaL_Reg methods[] = {{"find", m_find},     {"match", m_match},
                                     {"test", m_test},     {"gmatch", m_gmatch},
                                     {"gfind", m_gfind},   {NULL, NULL}};
  static const luaL_Reg fns[] = {{"compile", l_compile}, {"find", f_find},
                                 {"match", f_match},     {"test", f_test},
                                 {"gmatch", f_gmatch},   {"gfind", f_gfind},
                                 {NULL, NULL}};
  if (luaL_newmetatable(L, RE_MT)) {
    luaL_newlib(L, methods);
    lua_setfield(L, -2, "__index");
    lua_pushcfunction(L, re_gc);
    lua_setfield(L, -2, "__gc");
    lua_pushboolean(L, 0);
    lua_setfield(L, -2, "__metatable");
  }
  lua_pop(L, 1);
  lua_newtable(L);
  lua_rawsetp(L, LUA_REGISTRYINDEX, &cache_key);
  luaL_newlib(L, fns);
  lua_setfield(L, -2, "re");
}
