/*
 * mlgate.gha on a bare Lua state: parse trees, refs, eval with contexts,
 * constancy, find, coercions, errors as values and argument errors as
 * raised errors.
 */
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

#include "lua_api.h"
#include "lua_api_gha.h"

static int setup(void **state)
{
  lua_State *L = luaL_newstate();
  if (!L)
    return -1;
  luaL_openlibs(L);
  lua_newtable(L);
  mlg_lua_open_gha(L);
  mlg_lua_push_null(L);
  lua_setfield(L, -2, "null");
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
    print_error("Lua error: %s\n", lua_tostring(L, -1));
    fail();
  }
  lua_settop(L, 0);
}

/* The snippet must raise an error whose message contains want. */
static void raises(lua_State *L, const char *code, const char *want)
{
  int rc = luaL_dostring(L, code);
  const char *msg = rc != LUA_OK ? lua_tostring(L, -1) : "(no error)";
  if (rc == LUA_OK || !strstr(msg, want))
    print_error("expected an error with '%s', got: %s\n", want, msg);
  assert_int_not_equal(rc, LUA_OK);
  assert_non_null(strstr(msg, want));
  lua_settop(L, 0);
}

static void test_open(void **state)
{
  lua_State *L = *state;
  run(L, "local g = mlgate.gha\n"
         "for _, f in ipairs{'parse','refs','eval','constant','find','truthy','tostring'} do\n"
         "  assert(type(g[f]) == 'function', f)\n"
         "end\n");
}

static void test_parse(void **state)
{
  lua_State *L = *state;
  run(L, "local ast = mlgate.gha.parse(\"github.event_name == 'push' && !cancelled()\")\n"
         "assert(ast.type == 'and' and ast.offset == 0 and ast.len == 43, ast.type)\n"
         "local cmp = ast.args[1]\n"
         "assert(cmp.type == 'compare' and cmp.name == '==')\n"
         "assert(cmp.left.type == 'property' and cmp.left.name == 'event_name')\n"
         "assert(cmp.left.left.type == 'context' and cmp.left.left.name == 'github')\n"
         "assert(cmp.right.type == 'literal' and cmp.right.value == 'push')\n"
         "assert(cmp.right.offset == 21 and cmp.right.len == 6)\n"
         "local nt = ast.args[2]\n"
         "assert(nt.type == 'not' and nt.left.type == 'call' and nt.left.name == 'cancelled')\n"
         "assert(#nt.left.args == 0 and nt.offset == 31 and nt.len == 12)\n"
         "local e = mlgate.gha.parse('')\n"
         "assert(e.type == 'literal' and e.value == mlgate.null)\n"
         "local g = mlgate.gha.parse(\"(inputs.x)['a'].* [*]\")\n"
         "assert(g.type == 'star' and g.left.type == 'star' and g.left.left.type == 'index')\n"
         "assert(g.left.left.left.type == 'group' and g.len == 21)\n"
         "local c = mlgate.gha.parse('TOJSON(1.5, 2)', nil)\n"
         "assert(c == nil)\n");
  run(L, "local ast, err, phase = mlgate.gha.parse('foo.bar')\n"
         "assert(ast == nil and phase == 'parsing')\n"
         "assert(err == \"Unrecognized named-value: 'foo'. Located at position 1 within "
         "expression: foo.bar\", err)\n"
         "ast, err, phase = mlgate.gha.parse(\"'open\")\n"
         "assert(ast == nil and phase == 'lexing' and err:find('Unexpected symbol', 1, true))\n"
         "assert(mlgate.gha.parse('foo.bar', {contexts = {'FOO'}}).left.name == 'foo')\n"
         "assert(mlgate.gha.parse('anything.at_all', {any_context = true}))\n"
         "assert(mlgate.gha.parse('github', {contexts = {}}) == nil)\n"
         "local big = string.rep('1 || ', 20000) .. '1'\n"
         "ast, err, phase = mlgate.gha.parse(big)\n"
         "assert(ast == nil and phase == 'lexing' and err:find('max expression length'), err)\n");
  raises(L, "mlgate.gha.parse()", "bad argument #1");
  raises(L, "mlgate.gha.parse({})", "bad argument #1");
  raises(L, "mlgate.gha.parse('1', 5)", "bad argument #2");
  raises(L, "mlgate.gha.parse('1', {contexts = 'github'})", "opts.contexts must be a list");
  raises(L, "mlgate.gha.parse('1', {contexts = {1, {}}})", "opts.contexts must be a list");
}

static void test_refs(void **state)
{
  lua_State *L = *state;
  run(L, "local t = \"contains(github.event.pull_request.labels.*.name, 'x') || "
         "format('{0}', toJSON(Steps.Build['Outputs'][inputs.k]))\"\n"
         "local r = mlgate.gha.refs(t)\n"
         "assert(#r == 3, #r)\n"
         "assert(r[1].path == 'github.event.pull_request.labels.*.name')\n"
         "assert(r[1].fn == 'contains')\n"
         "assert(r[1].offset == 9 and r[1].len == 39)\n"
         "assert(r[2].path == 'steps.build.outputs.?' and r[2].fn == 'toJSON', r[2].path)\n"
         "assert(t:sub(r[2].offset + 1, r[2].offset + r[2].len) == "
         "\"Steps.Build['Outputs'][inputs.k]\")\n"
         "assert(r[3].path == 'inputs.k' and r[3].fn == 'toJSON')\n"
         "assert(#mlgate.gha.refs('1 == 1') == 0)\n"
         "local x, err = mlgate.gha.refs('nope')\n"
         "assert(x == nil and err:find('Unrecognized named%-value'))\n"
         "assert(select('#', mlgate.gha.refs('nope')) == 2)\n");
}

static void test_eval(void **state)
{
  lua_State *L = *state;
  run(L, "local g = mlgate.gha\n"
         "local ctx = {github = {event = {issue = {title = 'Hi'}, labels = {{name = 'a'}, "
         "{name = 'b'}}}, event_name = 'push'}, foo = {1, 2, 3}}\n"
         "local v, k = g.eval('github.event.issue.title', ctx)\n"
         "assert(v == 'Hi' and k == 'String')\n"
         "v, k = g.eval('github.event.labels.*.name', ctx)\n"
         "assert(k == 'Array' and #v == 2 and v[1] == 'a' and v[2] == 'b')\n"
         "v, k = g.eval('foo[1] + 0', ctx)\n"
         "assert(v == nil and k:find('Unexpected symbol'))\n"
         "v, k = g.eval('foo[1]', ctx)\n"
         "assert(v == 2 and k == 'Number')\n"
         "v, k = g.eval(\"fromJSON('{\\\"a\\\": [true, null]}')\", nil)\n"
         "assert(k == 'Object' and v.a[1] == true and v.a[2] == mlgate.null)\n"
         "v, k = g.eval('github.nothing', ctx)\n"
         "assert(v == mlgate.null and k == 'Null')\n"
         "v, k = g.eval('secrets.x', {})\n"
         "assert(v == mlgate.null and k == 'Null')\n"
         "local e, msg, phase = g.eval(\"fromJSON('{')\", {})\n"
         "assert(e == nil and phase == 'evaluation' and msg:find('Error parsing JSON'))\n"
         "e, msg, phase = g.eval('foo', {}, {contexts = {'github'}})\n"
         "assert(e == nil and phase == 'parsing')\n"
         "e, msg, phase = g.eval('1 ==', {})\n"
         "assert(e == nil and phase == 'parsing' and msg:find('Unexpected end of expression'))\n"
         "v = g.eval(\"format('{0}', matrix.os)\", {matrix = {os = 'linux'}})\n"
         "assert(v == 'linux')\n");
  /* A nested result Lua cannot take is an error value, not a raise. */
  run(L, "local deep = string.rep('[', 150) .. string.rep(']', 150)\n"
         "local v, msg, phase = mlgate.gha.eval(\"fromJSON('\" .. deep .. \"')\")\n"
         "assert(v == nil and phase == 'evaluation' and msg:find('nested'), msg)\n");
  raises(L, "mlgate.gha.eval('1', 'ctx')", "bad argument #2");
  raises(L, "mlgate.gha.eval('1', {f = print})", "cannot convert");
}

static void test_constant_find(void **state)
{
  lua_State *L = *state;
  run(L, "local g = mlgate.gha\n"
         "assert(g.constant(\"format('{0}', 1) == '1'\") == true)\n"
         "assert(g.constant('github.sha') == false)\n"
         "assert(g.constant(\"hashFiles('x')\") == false)\n"
         "assert(g.constant('always()') == false)\n"
         "local c, err = g.constant('1 +')\n"
         "assert(c == nil and err)\n"
         "local t = \"a ${{ x }} b ${{ '}}' }}${{ open\"\n"
         "local s = g.find(t)\n"
         "assert(#s == 3)\n"
         "assert(s[1].start == 2 and s[1].stop == 10 and s[1].inner == 5 and s[1].inner_len == 3)\n"
         "assert(s[1].closed == true and s[1].expr == ' x ')\n"
         "assert(s[2].start == 13 and s[2].stop == 24 and s[2].expr == \" '}}' \")\n"
         "assert(s[3].start == 24 and s[3].stop == #t and s[3].closed == false)\n"
         "assert(s[3].expr == ' open')\n"
         "local many = string.rep('${{ 1 }}', 200)\n"
         "s = g.find(many)\n"
         "assert(#s == 200 and s[200].start == 199 * 8 and s[200].stop == 1600)\n"
         "assert(#g.find('no expressions here') == 0)\n");
  raises(L, "mlgate.gha.find(nil)", "bad argument #1");
}

static void test_coercions(void **state)
{
  lua_State *L = *state;
  run(L, "local g = mlgate.gha\n"
         "assert(g.truthy(nil) == false and g.truthy(mlgate.null) == false)\n"
         "assert(g.truthy(0) == false and g.truthy(0/0) == false and g.truthy(-1) == true)\n"
         "assert(g.truthy('') == false and g.truthy('0') == true and g.truthy({}) == true)\n"
         "assert(g.truthy(false) == false and g.truthy(true) == true)\n"
         "assert(g.tostring(nil) == '' and g.tostring(mlgate.null) == '')\n"
         "assert(g.tostring(true) == 'true' and g.tostring(1.5) == '1.5')\n"
         "assert(g.tostring(3) == '3' and g.tostring(-0.0) == '0')\n"
         "assert(g.tostring(0.1 + 0.2) == '0.3' and g.tostring(1e21) == '1e+21')\n"
         "assert(g.tostring({1, 2}) == 'Array' and g.tostring({a = 1}) == 'Object')\n"
         "assert(g.tostring({}) == 'Object' and g.tostring('x') == 'x')\n");
  raises(L, "mlgate.gha.truthy()", "bad argument #1");
  raises(L, "mlgate.gha.truthy(print)", "bad argument #1");
  raises(L, "mlgate.gha.tostring(coroutine.create(print))", "bad argument #1");
}

int main(void)
{
  const struct CMUnitTest tests[] = {
    cmocka_unit_test_setup_teardown(test_open, setup, teardown),
    cmocka_unit_test_setup_teardown(test_parse, setup, teardown),
    cmocka_unit_test_setup_teardown(test_refs, setup, teardown),
    cmocka_unit_test_setup_teardown(test_eval, setup, teardown),
    cmocka_unit_test_setup_teardown(test_constant_find, setup, teardown),
    cmocka_unit_test_setup_teardown(test_coercions, setup, teardown),
  };
  return cmocka_run_group_tests(tests, NULL, NULL);
}
