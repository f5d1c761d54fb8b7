#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <stdio.h>
#include <stdlib.h>
#include <signal.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include <lauxlib.h>
#include <lua.h>

#include "sandbox.h"

#define CHUNK "@policies/train/p.lua"

static mlg_sandbox *new_sb(uint64_t memory, uint64_t instructions)
{
  mlg_sandbox_limits lim = {memory, instructions};
  mlg_sandbox *sb = NULL;
  mlg_err e;
  assert_int_equal(mlg_sandbox_new(&sb, &lim, &e), 0);
  assert_non_null(sb);
  assert_ptr_equal(mlg_sandbox_of(sb->L), sb);
  return sb;
}

/* Loads code as the policy file and calls it for nresults results; on
 * success the results are on the stack. */
static int run(mlg_sandbox *sb, const char *code, int nresults, mlg_err *e, char *where,
               size_t wsize)
{
  int rc;
  mlg_err_clear(e);
  rc = mlg_sandbox_load(sb, code, strlen(code), CHUNK, e);
  if (rc != 0)
    return rc;
  return mlg_sandbox_call(sb, 0, nresults, where, wsize, e);
}

/* Runs code that must succeed and return one string; returns a copy. */
static char *run_str(mlg_sandbox *sb, const char *code)
{
  static char out[1024];
  mlg_err e;
  int rc = run(sb, code, 1, &e, NULL, 0);
  if (rc != 0)
    fail_msg("code failed (%d): %s\n--- code:\n%s", rc, e.msg, code);
  if (lua_type(sb->L, -1) != LUA_TSTRING)
    fail_msg("expected a string, got %s\n--- code:\n%s", luaL_typename(sb->L, -1), code);
  snprintf(out, sizeof out, "%s", lua_tostring(sb->L, -1));
  lua_pop(sb->L, 1);
  return out;
}

static int run_bool(mlg_sandbox *sb, const char *code)
{
  mlg_err e;
  int v, rc = run(sb, code, 1, &e, NULL, 0);
  if (rc != 0)
    fail_msg("code failed (%d): %s\n--- code:\n%s", rc, e.msg, code);
  if (lua_type(sb->L, -1) != LUA_TBOOLEAN)
    fail_msg("expected a boolean, got %s\n--- code:\n%s", luaL_typename(sb->L, -1), code);
  v = lua_toboolean(sb->L, -1);
  lua_pop(sb->L, 1);
  return v;
}

static lua_Integer run_int(mlg_sandbox *sb, const char *code)
{
  mlg_err e;
  lua_Integer v;
  int rc = run(sb, code, 1, &e, NULL, 0);
  if (rc != 0)
    fail_msg("code failed (%d): %s\n--- code:\n%s", rc, e.msg, code);
  if (!lua_isinteger(sb->L, -1))
    fail_msg("expected an integer, got %s\n--- code:\n%s", luaL_typename(sb->L, -1), code);
  v = lua_tointeger(sb->L, -1);
  lua_pop(sb->L, 1);
  return v;
}

/* --- environment ----------------------------------------------------------- */

static void test_defaults(void **state)
{
  mlg_sandbox *sb = NULL;
  mlg_err e;
  char buf[128];
  assert_int_equal(mlg_sandbox_new(&sb, NULL, &e), 0);
  assert_int_equal(sb->mem_cap, (size_t)256 << 20);
  assert_int_equal(sb->instr_cap, 500000000);
  assert_int_equal(sb->tripped, MLG_TRIP_NONE);
  assert_string_equal(mlg_sandbox_trip_message(sb, buf, sizeof buf), "no limit exceeded");
  assert_int_equal(lua_gettop(sb->L), 0);
  mlg_sandbox_free(sb);
  mlg_sandbox_free(NULL);
}

static void test_forbidden_globals(void **state)
{
  static const char *const absent[] = {"io", "os", "package", "debug", "coroutine", "dofile",
                                       "loadfile", "collectgarbage", "require", "warn", "print",
                                       NULL};
  static const char *const present[] = {"string", "table", "math", "utf8", "pairs", "ipairs",
                                        "pcall", "xpcall", "error", "load", "setmetatable",
                                        "getmetatable", "tostring", "tonumber", "select",
                                        "type", "next", "rawget", NULL};
  mlg_sandbox *sb = new_sb(0, 0);
  char code[256];
  int i;

  for (i = 0; absent[i]; i++) {
    snprintf(code, sizeof code, "return %s == nil", absent[i]);
    if (!run_bool(sb, code))
      fail_msg("global '%s' must not exist in the sandbox", absent[i]);
    /* not reachable through _G or _ENV either */
    snprintf(code, sizeof code, "return rawget(_G, '%s') == nil and _ENV['%s'] == nil",
             absent[i], absent[i]);
    assert_true(run_bool(sb, code));
  }
  for (i = 0; present[i]; i++) {
    snprintf(code, sizeof code, "return %s ~= nil", present[i]);
    if (!run_bool(sb, code))
      fail_msg("global '%s' should exist in the sandbox", present[i]);
  }
  assert_true(run_bool(sb, "return string.dump == nil"));
  assert_true(run_bool(sb, "return ('x').dump == nil"));
  assert_true(run_bool(sb, "return string.format ~= nil and table.concat ~= nil"));
  assert_string_equal(run_str(sb, "return _VERSION"), "Lua 5.4");
  mlg_sandbox_free(sb);
}

/* --- load ----------------------------------------------------------------- */

static void test_load_text_only(void **state)
{
  mlg_sandbox *sb = new_sb(0, 0);

  assert_int_equal(run_int(sb, "return load('return 1 + 1')()"), 2);
  assert_int_equal(run_int(sb, "return load('return 40 + 2', 'name', 't')()"), 42);
  /* a binary chunk, crafted by hand since string.dump is gone */
  assert_true(run_bool(sb, "local f, e = load('\\27Lua\\84\\0\\25\\147\\r\\n\\26\\n')\n"
                           "return f == nil and e:find('binary chunk', 1, true) ~= nil"));
  assert_string_equal(run_str(sb, "local f, e = load('\\27Lua\\84\\0') return e"),
                      "attempt to load a binary chunk (mode is 't')");
  assert_string_equal(run_str(sb, "local f, e = load('return 1', 'x', 'b') return e"),
                      "load: binary chunks are not allowed in policies");
  assert_string_equal(run_str(sb, "local f, e = load('return 1', 'x', 'bt') return e"),
                      "load: binary chunks are not allowed in policies");
  /* a reader function could hand over a binary chunk piecewise */
  assert_string_equal(run_str(sb, "local n = 0\n"
                                  "local f, e = load(function() n = n + 1\n"
                                  "  if n == 1 then return 'return 1' end end)\n"
                                  "assert(f == nil and n == 0)\n"
                                  "return e"),
                      "load: only string chunks are allowed in policies");
  assert_string_equal(run_str(sb, "local f, e = load({}) return e"),
                      "load: only string chunks are allowed in policies");
  /* syntax errors come back as nil, message */
  assert_string_equal(run_str(sb, "local f, e = load('return +') return e"),
                      "(load):1: unexpected symbol near '+'");
  assert_string_equal(run_str(sb, "local f, e = load('x =', '=mine') return e"),
                      "mine:1: unexpected symbol near <eof>");
  mlg_sandbox_free(sb);
}

static void test_load_env(void **state)
{
  mlg_sandbox *sb = new_sb(0, 0);
  assert_int_equal(run_int(sb, "local f = load('return x', 'c', 't', {x = 42}) return f()"), 42);
  /* the chunk writes into the given table, not into the globals */
  assert_int_equal(run_int(sb, "x = 1\n"
                               "local env = {}\n"
                               "load('x = 5', 'c', 't', env)()\n"
                               "return x * 10 + env.x"),
                   15);
  /* an explicit nil env leaves the chunk without globals */
  assert_true(run_bool(sb, "local f = load('return string', 'c', 't', nil)\n"
                           "local ok, e = pcall(f)\n"
                           "return not ok and e:find('attempt to index a nil value', 1, true) "
                           "~= nil"));
  /* without env: the sandbox's globals (still without io) */
  assert_true(run_bool(sb, "return load('return io == nil and string ~= nil')()"));
  mlg_sandbox_free(sb);
}

/* --- setmetatable -------------------------------------------------------- */

static void test_setmetatable_refuses(void **state)
{
  static const char *const banned[] = {"__gc", "__close", "__mode"};
  mlg_sandbox *sb = new_sb(0, 0);
  char code[256], expect[128];
  size_t i;

  for (i = 0; i < 3; i++) {
    snprintf(code, sizeof code,
             "local ok, e = pcall(setmetatable, {}, {%s = %s}) return e", banned[i],
             i == 2 ? "'k'" : "function() end");
    snprintf(expect, sizeof expect, "setmetatable: '%s' is not allowed in policies",
             banned[i]);
    assert_string_equal(run_str(sb, code), expect);
    /* false is still "present" */
    snprintf(code, sizeof code, "return (pcall(setmetatable, {}, {%s = false}))", banned[i]);
    assert_false(run_bool(sb, code));
  }
  /* argument checks */
  assert_true(run_bool(sb, "local ok, e = pcall(setmetatable, {}, 5)\n"
                           "return not ok and e:find('nil or table', 1, true) ~= nil"));
  assert_true(run_bool(sb, "local ok, e = pcall(setmetatable, 'x', {})\n"
                           "return not ok and e:find('table expected', 1, true) ~= nil"));
  /* ordinary metatables work and setmetatable returns its first argument */
  assert_int_equal(run_int(sb, "local t = {}\n"
                               "local r = setmetatable(t, {__index = function(_, k) return #k end})\n"
                               "assert(r == t)\n"
                               "return t.hello"),
                   5);
  assert_string_equal(run_str(sb, "local v = setmetatable({}, {__tostring = function() "
                                  "return 'vec' end}) return tostring(v)"),
                      "vec");
  mlg_sandbox_free(sb);
}

static void test_setmetatable_frozen(void **state)
{
  mlg_sandbox *sb = new_sb(0, 0);
  mlg_err e;

  /* __close added to the original afterwards changes nothing */
  assert_true(run_bool(sb, "local mt = {}\n"
                           "local t = setmetatable({}, mt)\n"
                           "mt.__close = function() end\n"
                           "local ok, e = pcall(function() local x <close> = t end)\n"
                           "return not ok and e:find('non-closable value', 1, true) ~= nil"));
  /* nor does a later __index, __gc or __call */
  assert_true(run_bool(sb, "local mt = {}\n"
                           "local t = setmetatable({}, mt)\n"
                           "mt.__index = function() return 1 end\n"
                           "mt.__call = function() return 2 end\n"
                           "return t.anything == nil and not pcall(t)"));
  /* getmetatable returns the original, which the policy may keep editing */
  assert_true(run_bool(sb, "local mt = {__index = {a = 1}}\n"
                           "local t = setmetatable({}, mt)\n"
                           "local t2 = setmetatable({}, mt)\n"
                           "return getmetatable(t) == mt and getmetatable(t2) == mt and "
                           "t.a == 1 and t2.a == 1"));
  /* a policy-provided __metatable is kept */
  assert_string_equal(run_str(sb, "local t = setmetatable({}, {__metatable = 'locked'})\n"
                                  "return getmetatable(t)"),
                      "locked");
  /* __mode added afterwards: the table stays strong */
  assert_int_equal(run(sb, "local mt = {}\n"
                           "T = setmetatable({}, mt)\n"
                           "mt.__mode = 'k'\n"
                           "T[{}] = true\n",
                       0, &e, NULL, 0),
                   0);
  lua_gc(sb->L, LUA_GCCOLLECT, 0);
  lua_gc(sb->L, LUA_GCCOLLECT, 0);
  assert_true(run_bool(sb, "return next(T) ~= nil"));
  mlg_sandbox_free(sb);
}

static void test_setmetatable_replace(void **state)
{
  mlg_sandbox *sb = new_sb(0, 0);
  /* a metatable the sandbox set may be replaced and removed */
  assert_int_equal(run_int(sb, "local t = setmetatable({}, {__index = {a = 1}})\n"
                               "setmetatable(t, {__index = {a = 2}})\n"
                               "return t.a"),
                   2);
  assert_true(run_bool(sb, "local t = setmetatable({}, {__index = {a = 1}})\n"
                           "setmetatable(t, nil)\n"
                           "return getmetatable(t) == nil and t.a == nil"));
  /* replacing with a banned key is still refused and keeps the old one */
  assert_true(run_bool(sb, "local mt = {__index = {a = 1}}\n"
                           "local t = setmetatable({}, mt)\n"
                           "local ok = pcall(setmetatable, t, {__gc = function() end})\n"
                           "return not ok and getmetatable(t) == mt and t.a == 1"));
  mlg_sandbox_free(sb);
}

static void test_string_metatable_hidden(void **state)
{
  mlg_sandbox *sb = new_sb(0, 0);
  assert_true(run_bool(sb, "return getmetatable('') == false"));
  assert_true(run_bool(sb, "return getmetatable('abc') == false"));
  assert_false(run_bool(sb, "return (pcall(function() return getmetatable('').__index end))"));
  assert_false(run_bool(sb, "return (pcall(setmetatable, '', {}))"));
  /* string methods still work */
  assert_string_equal(run_str(sb, "return ('abc'):upper() .. ('x'):rep(3)"), "ABCxxx");
  mlg_sandbox_free(sb);
}

/* xpcall is the sandbox's own (its handler must not run after a trip): it
 * must still behave like Lua's. */
static void test_xpcall_semantics(void **state)
{
  mlg_sandbox *sb = new_sb(0, 0);
  assert_string_equal(run_str(sb, "local r = {xpcall(function(a, b) return a + b, nil, 'x' end,\n"
                                  "  function(m) return 'h' end, 1, 2)}\n"
                                  "return tostring(r[1]) .. r[2] .. tostring(r[3]) .. r[4] .. #r"),
                      "true3nilx4");
  assert_string_equal(run_str(sb, "local ok, v = xpcall(error, function(m) return 'handled: ' .. m "
                                  "end, 'boom', 0)\n"
                                  "return tostring(ok) .. ' ' .. v"),
                      "false handled: boom");
  assert_int_equal(run_int(sb, "local ok, v = xpcall(function() error({code = 7}) end,\n"
                               "  function(e) return e.code end)\n"
                               "return v"),
                   7);
  assert_int_equal(run_int(sb, "return select('#', xpcall(function() end, print or type))"), 1);
  /* the handler sees the message with its position */
  assert_string_equal(run_str(sb, "local _, m = xpcall(function() error('x') end, function(m) "
                                  "return m end)\n"
                                  "return m"),
                      "policies/train/p.lua:1: x");
  /* a failing handler */
  assert_false(run_bool(sb, "return (xpcall(error, function() error('again') end, 'x'))"));
  /* nested */
  assert_string_equal(run_str(sb, "local function h(m) return 'h(' .. tostring(m) .. ')' end\n"
                                  "local _, m = xpcall(function()\n"
                                  "  local ok, inner = xpcall(error, h, 'in', 0)\n"
                                  "  error(inner, 0)\n"
                                  "end, h)\n"
                                  "return m"),
                      "h(h(in))");
  assert_true(run_bool(sb, "local ok, e = pcall(xpcall, function() end)\n"
                           "return not ok and e:find('bad argument #2 to', 1, true) ~= nil"));
  mlg_sandbox_free(sb);
}

/* --- limits --------------------------------------------------------------- */

static void test_memory_limit_sticky(void **state)
{
  mlg_sandbox *sb = new_sb(4 << 20, 0);
  mlg_err e;
  char where[256];
  int rc;

  /* The first refusal of a request can be swallowed; the loop must not
   * be able to go on for ever. */
  rc = run(sb, "local n = 0\n"
               "for i = 1, 1000 do\n"
               "  local ok = pcall(string.rep, 'x', 8 * 1024 * 1024)\n"
               "  n = n + 1\n"
               "end\n"
               "return n\n",
           1, &e, where, sizeof where);
  assert_int_equal(rc, MLG_ELIMIT);
  assert_int_equal(e.code, MLG_ELIMIT);
  assert_string_equal(e.msg, "exceeded its memory limit of 4194304 bytes");
  assert_int_equal(sb->tripped, MLG_TRIP_MEMORY);
  assert_int_equal(lua_gettop(sb->L), 0);
  assert_true(sb->mem_used <= sb->mem_cap);
  assert_true(sb->mem_peak <= sb->mem_cap);
  /* sticky: the next call fails too */
  rc = run(sb, "return 1", 1, &e, NULL, 0);
  assert_int_equal(rc, MLG_ELIMIT);
  assert_string_equal(e.msg, "exceeded its memory limit of 4194304 bytes");
  mlg_sandbox_free(sb);
}

/* The same with requests that each fit in the cap but not next to what the
 * policy already holds: every refusal is followed by a successful small
 * allocation (the new buffer box) before the next refusal, so the "same
 * request refused twice" rule never fires and pcall swallows the limit for
 * ever. */
static void test_memory_limit_sticky_below_cap(void **state)
{
  mlg_sandbox *sb = new_sb(4 << 20, 0);
  mlg_err e;
  char where[256];
  int rc;
  mlg_trip tripped;

  rc = run(sb, "local keep = string.rep('k', 1536 * 1024)\n"
               "local n = 0\n"
               "for i = 1, 200 do\n"
               "  local ok = pcall(string.rep, 'x', 3 * 1024 * 1024)\n"
               "  n = n + 1\n"
               "end\n"
               "return n\n",
           1, &e, where, sizeof where);
  if (rc == 0) {
    print_error("a loop of pcall(string.rep) ran %lld rounds past the memory limit\n",
                (long long)lua_tointeger(sb->L, -1));
    lua_pop(sb->L, 1);
  }
  tripped = sb->tripped;
  mlg_sandbox_free(sb); /* before asserting: a failure must not leak */
  assert_int_equal(rc, MLG_ELIMIT);
  assert_string_equal(e.msg, "exceeded its memory limit of 4194304 bytes");
  assert_int_equal(tripped, MLG_TRIP_MEMORY);
}

static void test_memory_limit_table_growth(void **state)
{
  mlg_sandbox *sb = new_sb(8 << 20, 0);
  mlg_err e;
  char where[256];
  int rc;

  /* Growth through the VM: pcall swallows the first error, the code goes on
   * as if nothing happened. */
  rc = run(sb, "local survived = 0\n"
               "pcall(function()\n"
               "  local t = {}\n"
               "  for i = 1, 1e9 do t[i] = {i} end\n"
               "end)\n"
               "survived = survived + 1\n"
               "return 'swallowed'\n",
           1, &e, NULL, 0);
  assert_int_equal(rc, MLG_ELIMIT);
  assert_int_equal(sb->tripped, MLG_TRIP_MEMORY);
  mlg_sandbox_free(sb);

  /* without pcall: where is the allocating line */
  sb = new_sb(8 << 20, 0);
  rc = run(sb, "local t = {}\n"
               "for i = 1, 1e9 do\n"
               "  t[i] = {i}\n"
               "end\n",
           0, &e, where, sizeof where);
  assert_int_equal(rc, MLG_ELIMIT);
  assert_string_equal(e.msg, "exceeded its memory limit of 8388608 bytes");
  assert_int_equal(sb->tripped, MLG_TRIP_MEMORY);
  assert_int_equal(lua_gettop(sb->L), 0);
  mlg_sandbox_free(sb);
  if (strcmp(where, "policies/train/p.lua:3") != 0 && strcmp(where, "policies/train/p.lua:2") != 0)
    fail_msg("where of a memory trip: got \"%s\", expected the policy's line "
             "(policies/train/p.lua:3)", where);
}

static void test_memory_limit_error_handler(void **state)
{
  mlg_sandbox *sb = new_sb(8 << 20, 0);
  mlg_err e;
  int rc;

  /* The handler of xpcall allocates until it trips and then tries to
   * carry on. */
  rc = run(sb, "local r = {xpcall(function() error('x') end, function(m)\n"
               "  local t = {}\n"
               "  for i = 1, 1e9 do t[i] = ('y'):rep(100) .. i end\n"
               "  return m\n"
               "end)}\n"
               "return 'survived'\n",
           1, &e, NULL, 0);
  assert_int_equal(rc, MLG_ELIMIT);
  assert_int_equal(sb->tripped, MLG_TRIP_MEMORY);
  mlg_sandbox_free(sb);
}

/* Runs one budget case in a child so that a case the budget fails to stop
 * fails the test instead of hanging it. Exit status: 0 ok, 1 wrong result,
 * killed by SIGALRM: the loop was not stopped. */
static int budget_case(const char *code, char *msg, size_t size)
{
  int p[2], status = 0;
  pid_t pid;
  ssize_t n;

  assert_int_equal(pipe(p), 0);
  pid = fork();
  assert_true(pid >= 0);
  if (pid == 0) {
    mlg_sandbox_limits lim = {0, 2000000};
    mlg_sandbox *sb = NULL;
    mlg_err e;
    char out[1200];
    int rc, ok;
    close(p[0]);
    alarm(3);
    if (mlg_sandbox_new(&sb, &lim, &e) != 0)
      _exit(1);
    rc = mlg_sandbox_load(sb, code, strlen(code), CHUNK, &e);
    if (rc == 0)
      rc = mlg_sandbox_call(sb, 0, 1, NULL, 0, &e);
    ok = rc == MLG_ELIMIT && sb->tripped == MLG_TRIP_INSTRUCTIONS &&
         strcmp(e.msg, "exceeded its budget of 2000000 Lua instructions") == 0 &&
         sb->instr_used > 2000000 && sb->instr_used <= 2000000 + MLG_SANDBOX_HOOK_STEP &&
         lua_gettop(sb->L) == 0;
    /* sticky across calls */
    if (ok) {
      rc = mlg_sandbox_load(sb, "return 1", 8, CHUNK, &e);
      ok = rc == 0 && mlg_sandbox_call(sb, 0, 1, NULL, 0, &e) == MLG_ELIMIT;
    }
    snprintf(out, sizeof out, "rc=%d tripped=%d msg=%s", rc, (int)sb->tripped,
             rc ? e.msg : "");
    (void)!write(p[1], out, strlen(out));
    _exit(ok ? 0 : 1);
  }
  close(p[1]);
  n = read(p[0], msg, size - 1);
  msg[n > 0 ? n : 0] = '\0';
  close(p[0]);
  assert_int_equal(waitpid(pid, &status, 0), pid);
  if (WIFSIGNALED(status))
    return WTERMSIG(status) == SIGALRM ? -1 : -2;
  return WEXITSTATUS(status);
}

static void test_instruction_budget(void **state)
{
  static const char *const cases[] = {
    /* plain loop */
    "while true do end\n",
    /* pcall in a loop */
    "while true do pcall(function() while true do end end) end\n",
    /* nested pcall, then carry on */
    "pcall(function()\n"
    "  pcall(function() while true do end end)\n"
    "  while true do end\n"
    "end)\n"
    "return 'survived'\n",
    /* string.gsub callbacks run Lua code too */
    "local s = ('x'):rep(1000)\n"
    "while true do pcall(string.gsub, s, 'x', function() for i = 1, 100 do end end) end\n",
    /* table.sort comparators */
    "local t = {} for i = 1, 1000 do t[i] = (i * 7919) % 1000 end\n"
    "while true do pcall(table.sort, t, function(a, b) return a > b end) end\n",
    NULL};
  /* KNOWN BUG (reported): the budget error is raised from inside the count
   * hook, where Lua has hooks disabled (allowhook = 0); luaG_errormsg then
   * calls the policy's xpcall message handler right there, so a handler
   * that loops runs with no hook at all and never stops (only the child's
   * wall-clock alarm ends it). */
  static const char *const handler_cases[] = {
    /* error handler that loops */
    "xpcall(function() error('x') end, function(m) while true do end end)\n"
    "return 'survived'\n",
    /* error handler that swallows the budget error with pcall */
    "xpcall(function() while true do end end, function(m)\n"
    "  for i = 1, 100 do pcall(function() while true do end end) end\n"
    "  return m\n"
    "end)\n"
    "return 'survived'\n",
    /* xpcall inside xpcall, each handler looping */
    "local function h(m) for i = 1, 1e9 do end return m end\n"
    "xpcall(function() xpcall(function() while true do end end, h) end, h)\n"
    "return 'survived'\n",
    /* the budget trips in the body, the handler loops */
    "xpcall(function() while true do end end, function(m) while true do end end)\n",
    NULL};
  char msg[1300];
  size_t i;
  int bad = 0;

  for (i = 0; cases[i]; i++) {
    int r = budget_case(cases[i], msg, sizeof msg);
    if (r != 0) {
      print_error("case %zu: %s (%s)\n%s", i, r == -1 ? "not stopped by the budget" : "wrong result",
                  msg, cases[i]);
      bad = 1;
    }
  }
  for (i = 0; handler_cases[i]; i++) {
    int r = budget_case(handler_cases[i], msg, sizeof msg);
    if (r != 0) {
      print_error("handler case %zu: %s (%s)\n%s", i,
                  r == -1 ? "not stopped by the budget: hangs" : "wrong result", msg,
                  handler_cases[i]);
      bad = 1;
    }
  }
  assert_false(bad);
}

static void test_budget_not_tripped_by_normal_code(void **state)
{
  mlg_sandbox *sb = new_sb(0, 2000000);
  assert_int_equal(run_int(sb, "local s = 0 for i = 1, 10000 do s = s + i end return s"),
                   50005000);
  assert_int_equal(sb->tripped, MLG_TRIP_NONE);
  assert_true(sb->instr_used > 0);
  mlg_sandbox_free(sb);
}

/* --- errors and where ------------------------------------------------------ */

static void test_where(void **state)
{
  mlg_sandbox *sb = new_sb(0, 1000000);
  char where[256];
  mlg_err e;
  int rc;

  rc = run(sb, "local function f()\n"
               "  error('boom')\n"
               "end\n"
               "f()\n",
           0, &e, where, sizeof where);
  assert_int_equal(rc, MLG_EPOLICY);
  assert_int_equal(e.code, MLG_EPOLICY);
  assert_string_equal(e.msg, "policies/train/p.lua:2: boom");
  assert_string_equal(where, "policies/train/p.lua:2");
  assert_string_equal(sb->where, "policies/train/p.lua:2");
  assert_non_null(strstr(sb->traceback, "stack traceback:"));
  assert_int_equal(lua_gettop(sb->L), 0);

  /* raised by a C function: the policy line that called it */
  rc = run(sb, "local x = 1\n"
               "\n"
               "return string.rep()\n",
           1, &e, where, sizeof where);
  assert_int_equal(rc, MLG_EPOLICY);
  assert_string_equal(where, "policies/train/p.lua:3");
  assert_non_null(strstr(e.msg, "bad argument #1 to 'rep'"));

  /* a non-string error object */
  rc = run(sb, "\nerror({})\n", 0, &e, where, sizeof where);
  assert_int_equal(rc, MLG_EPOLICY);
  assert_string_equal(e.msg, "(error object is a table value)");
  assert_string_equal(where, "policies/train/p.lua:2");
  rc = run(sb, "error(setmetatable({}, {__tostring = function() return 'custom' end}))", 0,
           &e, where, sizeof where);
  assert_int_equal(rc, MLG_EPOLICY);
  assert_string_equal(e.msg, "custom");

  /* error with level 2 blames the caller's line */
  rc = run(sb, "local function check(x)\n"
               "  if not x then error('x is required', 2) end\n"
               "end\n"
               "check(nil)\n",
           0, &e, where, sizeof where);
  assert_int_equal(rc, MLG_EPOLICY);
  assert_string_equal(e.msg, "policies/train/p.lua:4: x is required");

  /* where for a tripped budget: the looping line */
  rc = run(sb, "local n = 0\n"
               "while true do n = n + 1 end\n",
           0, &e, where, sizeof where);
  assert_int_equal(rc, MLG_ELIMIT);
  assert_string_equal(where, "policies/train/p.lua:2");

  /* where is optional */
  mlg_sandbox_free(sb);
  sb = new_sb(0, 0);
  rc = run(sb, "error('x')", 0, &e, NULL, 0);
  assert_int_equal(rc, MLG_EPOLICY);
  assert_string_equal(e.msg, "policies/train/p.lua:1: x");
  mlg_sandbox_free(sb);
}

static void test_load_errors(void **state)
{
  mlg_sandbox *sb = new_sb(0, 0);
  mlg_err e;
  static const char bin[] = "\033Lua\x54\x00\x19\x93\r\n\x1a\n";
  assert_int_equal(mlg_sandbox_load(sb, "return +", 8, CHUNK, &e), MLG_EPOLICY);
  assert_string_equal(e.msg, "policies/train/p.lua:1: unexpected symbol near '+'");
  assert_int_equal(lua_gettop(sb->L), 0);
  assert_int_equal(mlg_sandbox_load(sb, bin, sizeof bin - 1, CHUNK, &e), MLG_EPOLICY);
  assert_string_equal(e.msg, "attempt to load a binary chunk (mode is 't')");
  assert_int_equal(lua_gettop(sb->L), 0);
  assert_int_equal(mlg_sandbox_load(sb, "return 7", 8, CHUNK, &e), 0);
  assert_int_equal(lua_gettop(sb->L), 1);
  assert_int_equal(mlg_sandbox_call(sb, 0, 1, NULL, 0, &e), 0);
  assert_int_equal(lua_tointeger(sb->L, -1), 7);
  mlg_sandbox_free(sb);
}

/* --- determinism and accounting --------------------------------------------- */

static void test_random_deterministic(void **state)
{
  static const char code[] = "local t = {}\n"
                             "for i = 1, 8 do t[i] = math.random(1, 1000000) end\n"
                             "return table.concat(t, ',')";
  mlg_sandbox *a = new_sb(0, 0), *b = new_sb(0, 0);
  char first[1024];

  snprintf(first, sizeof first, "%s", run_str(a, code));
  assert_string_equal(run_str(b, code), first);
  /* the seed is the documented constant */
  assert_string_equal(run_str(b, "math.randomseed(0x6d6c67)\n"
                                 "local t = {}\n"
                                 "for i = 1, 8 do t[i] = math.random(1, 1000000) end\n"
                                 "return table.concat(t, ',')"),
                      first);
  /* and not constant */
  assert_string_not_equal(run_str(a, code), first);
  mlg_sandbox_free(a);
  mlg_sandbox_free(b);
}

static void test_memory_accounting(void **state)
{
  mlg_sandbox *sb = new_sb(64 << 20, 0);
  mlg_err e;
  size_t base, peak;
  int i;

  lua_gc(sb->L, LUA_GCCOLLECT, 0);
  base = sb->mem_used;
  assert_true(base > 0 && base < (1 << 20));
  assert_true(sb->mem_peak >= base);
  assert_int_equal(run(sb, "big = string.rep('x', 16 * 1024 * 1024)", 0, &e, NULL, 0), 0);
  assert_true(sb->mem_used >= (size_t)16 << 20);
  /* string.rep holds its buffer and the result at the same time */
  assert_true(sb->mem_peak >= (size_t)32 << 20 && sb->mem_peak < (size_t)33 << 20);
  peak = sb->mem_peak;
  assert_int_equal(run(sb, "big = nil", 0, &e, NULL, 0), 0);
  lua_gc(sb->L, LUA_GCCOLLECT, 0);
  assert_true(sb->mem_used < base + (64 << 10));
  /* repeated big allocations do not drift (Lua keeps its grown string
   * table, so compare against the level after the first rounds) */
  for (i = 0; i < 20; i++) {
    if (i == 5)
      base = sb->mem_used;
    assert_int_equal(run(sb, "local t = {} for i = 1, 20000 do t[i] = {i, tostring(i)} end\n"
                             "local s = ('y'):rep(3 * 1024 * 1024)",
                         0, &e, NULL, 0),
                     0);
    lua_gc(sb->L, LUA_GCCOLLECT, 0);
  }
  assert_true(sb->mem_used <= base + (4 << 10));
  assert_int_equal(sb->mem_peak, peak);
  assert_int_equal(sb->tripped, MLG_TRIP_NONE);
  mlg_sandbox_free(sb);
}

static void test_trip_messages(void **state)
{
  mlg_sandbox sb;
  char buf[128];
  memset(&sb, 0, sizeof sb);
  sb.mem_cap = 1234;
  sb.instr_cap = 5678;
  sb.tripped = MLG_TRIP_MEMORY;
  assert_string_equal(mlg_sandbox_trip_message(&sb, buf, sizeof buf),
                      "exceeded its memory limit of 1234 bytes");
  sb.tripped = MLG_TRIP_INSTRUCTIONS;
  assert_string_equal(mlg_sandbox_trip_message(&sb, buf, sizeof buf),
                      "exceeded its budget of 5678 Lua instructions");
}

int main(void)
{
  const struct CMUnitTest tests[] = {
    cmocka_unit_test(test_defaults),
    cmocka_unit_test(test_forbidden_globals),
    cmocka_unit_test(test_load_text_only),
    cmocka_unit_test(test_load_env),
    cmocka_unit_test(test_setmetatable_refuses),
    cmocka_unit_test(test_setmetatable_frozen),
    cmocka_unit_test(test_setmetatable_replace),
    cmocka_unit_test(test_string_metatable_hidden),
    cmocka_unit_test(test_xpcall_semantics),
    cmocka_unit_test(test_memory_limit_sticky),
    cmocka_unit_test(test_memory_limit_sticky_below_cap),
    cmocka_unit_test(test_memory_limit_table_growth),
    cmocka_unit_test(test_memory_limit_error_handler),
    cmocka_unit_test(test_instruction_budget),
    cmocka_unit_test(test_budget_not_tripped_by_normal_code),
    cmocka_unit_test(test_where),
    cmocka_unit_test(test_load_errors),
    cmocka_unit_test(test_random_deterministic),
    cmocka_unit_test(test_memory_accounting),
    cmocka_unit_test(test_trip_messages),
  };
  alarm(600); /* a hang is a failure, not a stuck `make unit` */
  return cmocka_run_group_tests(tests, NULL, NULL);
}
