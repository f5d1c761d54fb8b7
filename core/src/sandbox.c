#include "sandbox.h"
#include "lua_heap.h"
#include "lua_lazy.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <lauxlib.h>
#include <lualib.h>

#define HOOK_STEP MLG_SANDBOX_HOOK_STEP

#define DEFAULT_MEMORY ((uint64_t)256 << 20)
#define DEFAULT_INSTRUCTIONS ((uint64_t)500000000)

/* Registry keys (addresses are unique). */
static const char snapcache_key = 'S';
static const char snapset_key = 's';

static mlg_sandbox *sb_get(lua_State *L)
{
  return *(mlg_sandbox **)lua_getextraspace(L);
}

mlg_sandbox *mlg_sandbox_of(lua_State *L)
{
  return sb_get(L);
}

static void count_hook(lua_State *L, lua_Debug *ar);

/* Sticky trip: from now on every instruction raises. lua_sethook is safe
 * to call from anywhere, including the allocator. */
static void trip(mlg_sandbox *sb, mlg_trip why)
{
  if (sb->tripped == MLG_TRIP_NONE)
    sb->tripped = why;
  if (sb->L)
    lua_sethook(sb->L, count_hook, LUA_MASKCOUNT, 1);
}

static void *sb_alloc(void *ud, void *ptr, size_t osize, size_t nsize)
{
  mlg_sandbox *sb = ud;
  size_t old = ptr ? osize : 0;
  void *p;

  if (nsize == 0) {
    mlg_heap_realloc(ptr, old, 0);
    sb->mem_used -= old;
    return NULL;
  }
  if (nsize > old && (nsize - old > sb->mem_cap || sb->mem_used > sb->mem_cap - (nsize - old))) {
    /* No collection can make room for a block larger than the whole cap;
     * otherwise Lua retries once after an emergency GC. */
    /* A second refusal while one is pending means the collection did not
     * help (lauxlib buffers do not even retry): over budget. */
    if (nsize > sb->mem_cap || sb->fail_pending)
      trip(sb, MLG_TRIP_MEMORY);
    sb->fail_pending = 1;
    sb->fail_ptr = ptr;
    sb->fail_size = nsize;
    return NULL;
  }
  p = mlg_heap_realloc(ptr, old, nsize);
  if (!p) {
    trip(sb, MLG_TRIP_MEMORY);
    return NULL;
  }
  /* Only the retried request itself succeeding clears the refusal. */
  if (sb->fail_pending && sb->fail_ptr == ptr && sb->fail_size == nsize)
    sb->fail_pending = 0;
  sb->mem_used = sb->mem_used - old + nsize;
  if (sb->mem_used > sb->mem_peak)
    sb->mem_peak = sb->mem_used;
  return p;
}

/* Policy code, as opposed to the embedded SDK, for error locations. */
static int policy_source(const char *source)
{
  return source[0] == '@' && strncmp(source, "@lua/mlgate/", 12) != 0;
}

static void count_hook(lua_State *L, lua_Debug *ar)
{
  mlg_sandbox *sb = sb_get(L);
  if (sb->tripped == MLG_TRIP_NONE) {
    sb->instr_used += HOOK_STEP;
    if (sb->tick)
      sb->tick();
    /* Where the policy was lately: a memory error raised by the allocator
     * never reaches a message handler, and still needs a location. */
    if (lua_getinfo(L, "Sl", ar) && ar->currentline > 0 &&
        (ar->source != sb->last_src || ar->currentline != sb->last_line) &&
        policy_source(ar->source)) {
      sb->last_src = ar->source; /* compared only, never dereferenced later */
      sb->last_line = ar->currentline;
      snprintf(sb->last_where, sizeof sb->last_where, "%s:%d", ar->source + 1,
               ar->currentline);
    }
    if (sb->instr_used <= sb->instr_cap)
      return;
    trip(sb, MLG_TRIP_INSTRUCTIONS);
  }
  luaL_error(L, "%s", sb->tripped == MLG_TRIP_MEMORY ? "memory limit exceeded"
                                                      : "instruction budget exceeded");
}

const char *mlg_sandbox_trip_message(const mlg_sandbox *sb, char *buf, size_t size)
{
  switch (sb->tripped) {
  case MLG_TRIP_MEMORY:
    snprintf(buf, size, "exceeded its memory limit of %zu bytes", sb->mem_cap);
    break;
  case MLG_TRIP_INSTRUCTIONS:
    snprintf(buf, size, "exceeded its budget of %llu Lua instructions",
             (unsigned long long)sb->instr_cap);
    break;
  default:
    snprintf(buf, size, "no limit exceeded");
  }
  return buf;
}

/* --- replacements for unsafe base functions ------------------------------ */

/* load(chunk [, chunkname [, mode [, env]]]) restricted to text chunks
 * given as strings: binary chunks can crash the VM by design. */
static int sb_load(lua_State *L)
{
  size_t len;
  const char *s = lua_tolstring(L, 1, &len);
  const char *name = luaL_optstring(L, 2, "=(load)");
  const char *mode = luaL_optstring(L, 3, "t");
  int env = !lua_isnone(L, 4) ? 4 : 0;
  int status;

  if (!s) {
    luaL_pushfail(L);
    lua_pushliteral(L, "load: only string chunks are allowed in policies");
    return 2;
  }
  if (strchr(mode, 'b')) {
    luaL_pushfail(L);
    lua_pushliteral(L, "load: binary chunks are not allowed in policies");
    return 2;
  }
  status = luaL_loadbufferx(L, s, len, name, "t");
  if (status != LUA_OK) {
    luaL_pushfail(L);
    lua_insert(L, -2);
    return 2;
  }
  if (env) {
    lua_pushvalue(L, env);
    if (!lua_setupvalue(L, -2, 1))
      lua_pop(L, 1);
  }
  return 1;
}

/* setmetatable(t, mt) that refuses finalizers (__gc), to-be-closed hooks
 * (__close) and weak tables (__mode), none of which a policy needs and all
 * of which run or change things behind the instruction budget's back.
 * Because __close and __mode are looked up late, the metatable is frozen:
 * the object gets a snapshot (shared per original), and getmetatable()
 * returns the original, so later edits of it change nothing. */
static int sb_setmetatable(lua_State *L)
{
  static const char *const banned[] = {"__gc", "__close", "__mode"};
  int t = lua_type(L, 2);
  size_t i;

  luaL_checktype(L, 1, LUA_TTABLE);
  luaL_argexpected(L, t == LUA_TNIL || t == LUA_TTABLE, 2, "nil or table");
  if (lua_getmetatable(L, 1)) { /* current raw metatable (a snapshot?) */
    int replaceable;
    lua_rawgetp(L, LUA_REGISTRYINDEX, &snapset_key);
    lua_pushvalue(L, -2);
    lua_rawget(L, -2);                /* the original it was made from */
    lua_pushliteral(L, "__metatable");
    lua_rawget(L, -4);                /* what getmetatable shows */
    /* Replaceable when the __metatable field is only ours (the original
     * table), not one the policy set itself, as in plain Lua. */
    replaceable = !lua_isnil(L, -2) && lua_rawequal(L, -1, -2);
    lua_pop(L, 4);
    if (!replaceable && luaL_getmetafield(L, 1, "__metatable") != LUA_TNIL)
      return luaL_error(L, "cannot change a protected metatable");
  }
  if (t == LUA_TNIL) {
    lua_settop(L, 2);
    lua_setmetatable(L, 1);
    return 1;
  }
  for (i = 0; i < sizeof banned / sizeof *banned; i++) {
    lua_pushstring(L, banned[i]);
    if (lua_rawget(L, 2) != LUA_TNIL)
      return luaL_error(L, "setmetatable: '%s' is not allowed in policies", banned[i]);
    lua_pop(L, 1);
  }
  lua_settop(L, 2);
  lua_rawgetp(L, LUA_REGISTRYINDEX, &snapcache_key); /* 3 */
  lua_pushvalue(L, 2);
  if (lua_rawget(L, 3) == LUA_TNIL) { /* 4: make the snapshot */
    lua_pop(L, 1);
    lua_newtable(L);
    lua_pushnil(L);
    while (lua_next(L, 2)) {
      lua_pushvalue(L, -2);
      lua_insert(L, -2);
      lua_rawset(L, 4);
    }
    lua_pushliteral(L, "__metatable");
    if (lua_rawget(L, 4) == LUA_TNIL) {
      lua_pushliteral(L, "__metatable");
      lua_pushvalue(L, 2);
      lua_rawset(L, 4);
    }
    lua_pop(L, 1);
    lua_pushvalue(L, 2);
    lua_pushvalue(L, 4);
    lua_rawset(L, 3);
    lua_rawgetp(L, LUA_REGISTRYINDEX, &snapset_key);
    lua_pushvalue(L, 4);
    lua_pushvalue(L, 2); /* snapshot -> original */
    lua_rawset(L, -3);
    lua_pop(L, 1);
  }
  lua_setmetatable(L, 1);
  lua_settop(L, 1);
  return 1;
}

/* Message handler wrapper for xpcall. Lua calls a message handler from
 * inside the count hook when the budget error is raised there, and hooks
 * are off inside hooks: the handler would run unmetered. Once a limit has
 * tripped, the policy's handler is therefore not run at all. */
static int sb_xpcall_handler(lua_State *L)
{
  mlg_sandbox *sb = sb_get(L);
  if (sb->tripped != MLG_TRIP_NONE)
    return 1; /* the error object as it is */
  lua_pushvalue(L, lua_upvalueindex(1));
  lua_insert(L, 1);
  lua_call(L, lua_gettop(L) - 1, 1);
  return 1;
}

static int sb_xpcall_cont(lua_State *L, int status, lua_KContext extra)
{
  if (status != LUA_OK && status != LUA_YIELD) {
    lua_pushboolean(L, 0);
    lua_pushvalue(L, -2);
    return 2;
  }
  return lua_gettop(L) - (int)extra; /* true plus the results */
}

/* xpcall(f, handler, ...) with the handler behind sb_xpcall_handler. */
static int sb_xpcall(lua_State *L)
{
  int n = lua_gettop(L), status;
  luaL_checktype(L, 2, LUA_TFUNCTION);
  lua_pushboolean(L, 1);             /* first result on success */
  lua_pushvalue(L, 1);               /* function */
  lua_rotate(L, 3, 2);               /* f, h, true, f, args... */
  lua_pushvalue(L, 2);
  lua_pushcclosure(L, sb_xpcall_handler, 1);
  lua_replace(L, 2);                 /* wrapped handler at 2 */
  status = lua_pcallk(L, n - 2, LUA_MULTRET, 2, 2, sb_xpcall_cont);
  return sb_xpcall_cont(L, status, 2);
}

static int sb_panic(lua_State *L)
{
  const char *msg = lua_tostring(L, -1);
  fprintf(stderr, "mlgate: unprotected Lua error: %s\n", msg ? msg : "?");
  abort(); /* in the isolated child: reported as a crash, fail closed */
}

/* next, rawget, rawset and rawlen see a document table (lua_lazy.h) as
 * the ordinary table it stands for: filled first. */
static int sb_next(lua_State *L)
{
  luaL_checktype(L, 1, LUA_TTABLE);
  mlg_lua_lazy_fill(L, 1);
  lua_settop(L, 2);
  if (lua_next(L, 1))
    return 2;
  lua_pushnil(L);
  return 1;
}

static int sb_rawget(lua_State *L)
{
  luaL_checktype(L, 1, LUA_TTABLE);
  luaL_checkany(L, 2);
  mlg_lua_lazy_fill(L, 1);
  lua_settop(L, 2);
  lua_rawget(L, 1);
  return 1;
}

static int sb_rawset(lua_State *L)
{
  luaL_checktype(L, 1, LUA_TTABLE);
  luaL_checkany(L, 2);
  luaL_checkany(L, 3);
  mlg_lua_lazy_fill(L, 1);
  lua_settop(L, 3);
  lua_rawset(L, 1);
  return 1;
}

static int sb_rawlen(lua_State *L)
{
  int t = lua_type(L, 1);
  luaL_argexpected(L, t == LUA_TTABLE || t == LUA_TSTRING, 1, "table or string");
  mlg_lua_lazy_fill(L, 1);
  lua_pushinteger(L, (lua_Integer)lua_rawlen(L, 1));
  return 1;
}

/* Everything runs inside lua_pcall so that running out of memory while
 * building the environment is an error, not a panic. */
static int setup(lua_State *L)
{
  static const char *const base_removed[] = {"dofile", "loadfile", "collectgarbage", "warn",
                                             "print", NULL};
  int i;

  luaL_requiref(L, LUA_GNAME, luaopen_base, 1);
  luaL_requiref(L, LUA_STRLIBNAME, luaopen_string, 1);
  luaL_requiref(L, LUA_TABLIBNAME, luaopen_table, 1);
  luaL_requiref(L, LUA_MATHLIBNAME, luaopen_math, 1);
  luaL_requiref(L, LUA_UTF8LIBNAME, luaopen_utf8, 1);
  lua_settop(L, 0);

  lua_pushglobaltable(L);
  for (i = 0; base_removed[i]; i++) {
    lua_pushnil(L);
    lua_setfield(L, 1, base_removed[i]);
  }
  lua_pushcfunction(L, sb_load);
  lua_setfield(L, 1, "load");
  lua_pushcfunction(L, sb_setmetatable);
  lua_setfield(L, 1, "setmetatable");
  lua_pushcfunction(L, sb_xpcall);
  lua_setfield(L, 1, "xpcall");
  lua_pushcfunction(L, sb_next);
  lua_setfield(L, 1, "next");
  lua_pushcfunction(L, sb_rawget);
  lua_setfield(L, 1, "rawget");
  lua_pushcfunction(L, sb_rawset);
  lua_setfield(L, 1, "rawset");
  lua_pushcfunction(L, sb_rawlen);
  lua_setfield(L, 1, "rawlen");

  lua_getfield(L, 1, LUA_STRLIBNAME);
  lua_pushnil(L);
  lua_setfield(L, -2, "dump");
  lua_pop(L, 1);

  /* The string metatable would otherwise be a way to give every string a
   * __close or __index of the policy's choosing. */
  lua_pushliteral(L, "");
  if (lua_getmetatable(L, -1)) {
    lua_pushboolean(L, 0);
    lua_setfield(L, -2, "__metatable");
    lua_pop(L, 1);
  }
  lua_pop(L, 1);

  /* Same policy, same inputs, same random numbers. */
  lua_getfield(L, 1, LUA_MATHLIBNAME);
  lua_getfield(L, -1, "randomseed");
  lua_pushinteger(L, 0x6d6c67);
  lua_call(L, 1, 0);
  lua_pop(L, 1);

  lua_newtable(L);
  lua_rawsetp(L, LUA_REGISTRYINDEX, &snapcache_key);
  lua_newtable(L);
  lua_rawsetp(L, LUA_REGISTRYINDEX, &snapset_key);
  return 0;
}

int mlg_sandbox_new(mlg_sandbox **out, const mlg_sandbox_limits *limits, mlg_err *err)
{
  mlg_sandbox *sb;
  lua_State *L;
  uint64_t mem = limits && limits->memory_bytes ? limits->memory_bytes : DEFAULT_MEMORY;

  *out = NULL;
  sb = calloc(1, sizeof *sb);
  if (!sb)
    return mlg_err_set(err, MLG_ENOMEM, "out of memory creating a Lua state");
  sb->mem_cap = mem > SIZE_MAX / 2 ? SIZE_MAX / 2 : (size_t)mem;
  sb->instr_cap = limits && limits->instructions ? limits->instructions : DEFAULT_INSTRUCTIONS;
  L = lua_newstate(sb_alloc, sb);
  if (!L) {
    free(sb);
    return mlg_err_set(err, MLG_ENOMEM, "out of memory creating a Lua state");
  }
  *(mlg_sandbox **)lua_getextraspace(L) = sb;
  sb->L = L;
  /* Policies make many short-lived tables (document tables, per-file
   * scratch) around a long-lived core (the SDK, their own code): the case
   * generational collection is for, and measurably cheaper here. */
  lua_gc(L, LUA_GCGEN, 0, 0);
  lua_atpanic(L, sb_panic);
  lua_pushcfunction(L, setup);
  if (lua_pcall(L, 0, 0, 0) != LUA_OK) {
    mlg_err_set(err, MLG_ENOMEM, "cannot set up the Lua sandbox: %s",
                lua_tostring(L, -1) ? lua_tostring(L, -1) : "out of memory");
    mlg_sandbox_free(sb);
    return err ? err->code : MLG_ENOMEM;
  }
  lua_sethook(L, count_hook, LUA_MASKCOUNT, HOOK_STEP);
  *out = sb;
  return 0;
}

void mlg_sandbox_free(mlg_sandbox *sb)
{
  if (!sb)
    return;
  if (sb->L)
    lua_close(sb->L);
  free(sb);
}

int mlg_sandbox_load(mlg_sandbox *sb, const char *text, size_t len, const char *chunkname,
                     mlg_err *err)
{
  int rc = luaL_loadbufferx(sb->L, text, len, chunkname, "t");
  if (rc == LUA_OK)
    return 0;
  if (sb->tripped != MLG_TRIP_NONE) {
    char msg[128];
    lua_pop(sb->L, 1);
    return mlg_err_set(err, MLG_ELIMIT, "%s", mlg_sandbox_trip_message(sb, msg, sizeof msg));
  }
  {
    /* A syntax error reads "file:line: message": keep file:line as the
     * location, like errors raised at run time. */
    const char *msg = lua_tostring(sb->L, -1) ? lua_tostring(sb->L, -1) : "cannot load chunk";
    const char *c = strchr(msg, ':');
    size_t n = 0;
    sb->where[0] = '\0';
    if (c && c[1] >= '0' && c[1] <= '9') {
      n = (size_t)(c + 1 - msg);
      while (msg[n] >= '0' && msg[n] <= '9')
        n++;
      if (msg[n] == ':' && n < sizeof sb->where)
        snprintf(sb->where, sizeof sb->where, "%.*s", (int)n, msg);
    }
    mlg_err_set(err, MLG_EPOLICY, "%s", msg);
  }
  lua_pop(sb->L, 1);
  return MLG_EPOLICY;
}

/* Message handler: keeps the message, remembers the innermost Lua frame
 * with a line (the policy's file:line) and a traceback for verbose logs. */
static int msgh(lua_State *L)
{
  mlg_sandbox *sb = sb_get(L);
  const char *msg = lua_tostring(L, 1);
  lua_Debug ar;
  int level;

  if (!msg) {
    /* After a trip no policy code runs, not even a __tostring. */
    if (sb->tripped == MLG_TRIP_NONE && luaL_callmeta(L, 1, "__tostring") &&
        lua_type(L, -1) == LUA_TSTRING)
      msg = lua_tostring(L, -1);
    else
      msg = lua_pushfstring(L, "(error object is a %s value)", luaL_typename(L, 1));
  }
  sb->where[0] = '\0';
  for (level = 0; lua_getstack(L, level, &ar); level++) {
    if (!lua_getinfo(L, "Sl", &ar))
      break;
    if (ar.currentline > 0 && policy_source(ar.source)) {
      snprintf(sb->where, sizeof sb->where, "%s:%d", ar.source + 1, ar.currentline);
      break;
    }
  }
  luaL_traceback(L, L, msg, 1);
  snprintf(sb->traceback, sizeof sb->traceback, "%s", lua_tostring(L, -1));
  lua_pop(L, 1);
  lua_pushstring(L, msg);
  return 1;
}

int mlg_sandbox_call(mlg_sandbox *sb, int nargs, int nresults, char *where, size_t where_size,
                     mlg_err *err)
{
  lua_State *L = sb->L;
  int base = lua_gettop(L) - nargs; /* index of the function */
  int rc;

  if (!lua_checkstack(L, 2))
    return mlg_err_set(err, MLG_ENOMEM, "Lua stack exhausted");
  lua_pushcfunction(L, msgh);
  lua_insert(L, base);
  sb->where[0] = '\0';
  sb->last_where[0] = '\0';
  sb->last_src = NULL;
  rc = lua_pcall(L, nargs, nresults, base);
  lua_remove(L, base);
  if (rc != LUA_OK && !sb->where[0])
    snprintf(sb->where, sizeof sb->where, "%s", sb->last_where);
  if (where && where_size)
    snprintf(where, where_size, "%s", sb->where);
  if (sb->tripped != MLG_TRIP_NONE) {
    char msg[128];
    lua_settop(L, base - 1);
    return mlg_err_set(err, MLG_ELIMIT, "%s", mlg_sandbox_trip_message(sb, msg, sizeof msg));
  }
  if (rc == LUA_OK)
    return 0;
  if (rc == LUA_ERRMEM)
    mlg_err_set(err, MLG_EPOLICY, "not enough memory");
  else
    mlg_err_set(err, MLG_EPOLICY, "%s", lua_tostring(L, -1) ? lua_tostring(L, -1) : "error");
  lua_pop(L, 1);
  return MLG_EPOLICY;
}
