#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <lauxlib.h>
#include <lualib.h>

#include "lua_api_shell.h"

/* A bare state with `mlgate = {shell = ...}`. */
static int setup(void **state)
{
  lua_State *L = luaL_newstate();
  if (!L)
    return -1;
  luaL_openlibs(L);
  lua_newtable(L);
  mlg_lua_open_shell(L);
  lua_setglobal(L, "mlgate");
  *state = L;
  return 0;
}

static int teardown(void **state)
{
  lua_close(*state);
  return 0;
}

static void run(lua_State *L, const char *code)
{
  if (luaL_dostring(L, code) != LUA_OK) {
    const char *msg = lua_tostring(L, -1);
    fail_msg("Lua: %s", msg ? msg : "(no message)");
  }
  lua_settop(L, 0);
}

static void test_table_shape(void **state)
{
  lua_State *L = *state;
  run(L, "assert(type(mlgate.shell) == 'table')\n"
         "assert(type(mlgate.shell.parse) == 'function')\n"
         "local s = mlgate.shell.parse('A=1 curl -fsSL https://x | sudo bash -s 2>&1')\n"
         "assert(s.error == nil)\n"
         "assert(#s.cmds == 2)\n"
         "local c = s.cmds[1]\n"
         "assert(c.offset == 0 and c.len == 24, c.offset .. '+' .. c.len)\n"
         "assert(c.sep == '|' and c.pipeline == 0 and c.depth == 0 and c.subst == false)\n"
         "assert(#c.assigns == 1 and #c.argv == 3 and #c.redirs == 0)\n"
         "local w = c.assigns[1]\n"
         "assert(w.text == 'A=1' and w.offset == 0 and w.len == 3)\n"
         "assert(w.quoted == false and w.expansion == false and w.template == false"
         "       and w.glob == false)\n"
         "assert(c.argv[1].text == 'curl' and c.argv[1].offset == 4)\n"
         "assert(c.argv[3].text == 'https://x' and c.argv[3].offset == 15"
         "       and c.argv[3].len == 9)\n"
         "local d = s.cmds[2]\n"
         "assert(d.sep == '' and d.pipeline == 0 and d.offset == 27 and d.len == 17)\n"
         "assert(d.argv[1].text == 'sudo' and d.argv[3].text == '-s')\n"
         "local r = d.redirs[1]\n"
         "assert(r.fd == 2 and r.op == '>&' and r.target.text == '1' and r.target.offset == 43)\n"
         "assert(r.heredoc == nil and r.heredoc_offset == nil)\n");
}

static void test_flags_and_substitutions(void **state)
{
  lua_State *L = *state;
  run(L, "local s = mlgate.shell.parse("
         "'echo \"T=${{ github.event.issue.title }}\" $(id -u) *.py >> \"$GITHUB_ENV\"')\n"
         "assert(#s.cmds == 2)\n"
         "local sub = s.cmds[1]\n"
         "assert(sub.subst == true and sub.depth == 1 and sub.argv[1].text == 'id')\n"
         "assert(sub.offset == 43 and sub.sep == '')\n"
         "local c = s.cmds[2]\n"
         "local t = c.argv[2]\n"
         "assert(t.text == 'T=${{ github.event.issue.title }}' and t.offset == 5 and t.len == 35)\n"
         "assert(t.quoted and t.template and not t.expansion and not t.glob)\n"
         "assert(c.argv[3].text == '$(id -u)' and c.argv[3].expansion and not c.argv[3].quoted)\n"
         "assert(c.argv[4].text == '*.py' and c.argv[4].glob)\n"
         "local r = c.redirs[1]\n"
         "assert(r.fd == nil and r.op == '>>')\n"
         "assert(r.target.text == '$GITHUB_ENV' and r.target.quoted and r.target.expansion)\n"
         "assert(r.target.offset == 58 and r.target.len == 13)\n");
}

static void test_heredoc_and_newlines(void **state)
{
  lua_State *L = *state;
  run(L, "local s = mlgate.shell.parse(\"cat <<'EOF' >> $GITHUB_ENV\\nA=${{ x }}\\nEOF\\nls\\n\")\n"
         "assert(#s.cmds == 2 and s.error == nil)\n"
         "local c = s.cmds[1]\n"
         "assert(c.sep == '\\n' and c.pipeline == 0 and s.cmds[2].pipeline == 1)\n"
         "local h = c.redirs[1]\n"
         "assert(h.op == '<<' and h.target.text == 'EOF' and h.target.quoted)\n"
         "assert(h.heredoc == 'A=${{ x }}\\n' and h.heredoc_offset == 27, h.heredoc_offset)\n"
         "assert(c.redirs[2].op == '>>' and c.redirs[2].heredoc == nil)\n"
         "assert(s.cmds[2].argv[1].text == 'ls' and s.cmds[2].argv[1].offset == 42)\n");
}

static void test_errors(void **state)
{
  lua_State *L = *state;
  /* a malformed script is still a script: commands before the error */
  run(L, "local s, err = mlgate.shell.parse('echo ok; echo \"oops')\n"
         "assert(s and err == nil)\n"
         "assert(#s.cmds == 1 and s.cmds[1].argv[2].text == 'ok')\n"
         "assert(s.error.offset == 14, s.error.offset)\n"
         "assert(s.error.message == 'unterminated double quote')\n");
  /* over the limits: nil, err */
  run(L, "local s, err = mlgate.shell.parse(string.rep('a', 1048577))\n"
         "assert(s == nil)\n"
         "assert(err == 'shell script of 1048577 bytes is over the 1048576-byte limit', err)\n"
         "s, err = mlgate.shell.parse(string.rep('$(', 70))\n"
         "assert(s == nil and err:find('nesting deeper than 64', 1, true), err)\n");
  /* bad argument: a Lua error */
  run(L, "local ok, e = pcall(mlgate.shell.parse)\n"
         "assert(not ok and tostring(e):find('bad argument #1', 1, true), e)\n"
         "ok, e = pcall(mlgate.shell.parse, {})\n"
         "assert(not ok)\n");
  /* empty script, embedded NUL (dropped from text), repeated use */
  run(L, "local s = mlgate.shell.parse('')\n"
         "assert(#s.cmds == 0 and s.error == nil)\n"
         "s = mlgate.shell.parse('echo a\\0b')\n"
         "assert(s.cmds[1].argv[2].text == 'ab' and s.cmds[1].argv[2].len == 3)\n"
         "for i = 1, 200 do mlgate.shell.parse(string.rep('x | y && ', 50)) end\n"
         "collectgarbage()\n");
}

int main(void)
{
  const struct CMUnitTest tests[] = {
      cmocka_unit_test_setup_teardown(test_table_shape, setup, teardown),
      cmocka_unit_test_setup_teardown(test_flags_and_substitutions, setup, teardown),
      cmocka_unit_test_setup_teardown(test_heredoc_and_newlines, setup, teardown),
      cmocka_unit_test_setup_teardown(test_errors, setup, teardown),
  };
  return cmocka_run_group_tests(tests, NULL, NULL);
}
