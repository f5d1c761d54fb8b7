#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <string.h>

#include <lauxlib.h>
#include <lua.h>
#include <lualib.h>

#include "lua_api.h"
#include "lua_lazy.h"
#include "node.h"
#include "parse.h"

static const char doc_json[] =
  "{\"kind\":\"workflow\",\"jobs\":[{\"id\":\"build\",\"steps\":[{\"index\":1,\"uses\":"
  "{\"owner\":\"actions\",\"pin\":\"tag\"}},{\"index\":2,\"run\":{\"text\":\"make\"}}]},"
  "{\"id\":\"test\",\"steps\":[]}],\"on\":{\"names\":{\"push\":true}},\"n\":null,"
  "\"f\":1.5}";

typedef struct fixture {
  lua_State *L;
  mlg_doc *doc;
} fixture;

/* The owner: a userdata whose __gc counts releases. */
static int released;
static int owner_gc(lua_State *L)
{
  (void)L;
  released++;
  return 0;
}

static int setup(void **state)
{
  static fixture fx;
  mlg_err e;
  assert_int_equal(mlg_json_parse(&fx.doc, doc_json, strlen(doc_json), "m.json", NULL, &e), 0);
  fx.L = luaL_newstate();
  luaL_openlibs(fx.L);
  /* mlgate.null for scalars. */
  lua_newtable(fx.L);
  mlg_lua_push_null(fx.L);
  lua_setfield(fx.L, -2, "null");
  lua_setglobal(fx.L, "mlgate");
  released = 0;
  lua_newuserdatauv(fx.L, 1, 0);
  lua_newtable(fx.L);
  lua_pushcfunction(fx.L, owner_gc);
  lua_setfield(fx.L, -2, "__gc");
  lua_setmetatable(fx.L, -2);
  mlg_lua_push_lazy(fx.L, fx.doc->root, -1);
  lua_setglobal(fx.L, "m");
  lua_pop(fx.L, 1);
  *state = &fx;
  return 0;
}

static int teardown(void **state)
{
  fixture *fx = *state;
  lua_close(fx->L);
  mlg_doc_free(fx->doc);
  return 0;
}

static void run(lua_State *L, const char *code)
{
  if (luaL_dostring(L, code) != LUA_OK)
    fail_msg("%s: %s", code, lua_tostring(L, -1));
}

static void test_index_and_nested(void **state)
{
  fixture *fx = *state;
  run(fx->L, "assert(m.kind == 'workflow')\n"
             "assert(m.jobs[1].id == 'build')\n"
             "assert(m.jobs[1].steps[1].uses.owner == 'actions')\n"
             "assert(m.jobs[1].steps[2].run.text == 'make')\n"
             "assert(m.on.names.push == true)\n"
             "assert(m.n == mlgate.null)\n"
             "assert(m.f == 1.5)\n"
             "assert(m.missing == nil)\n");
}

static void test_len_ipairs_pairs(void **state)
{
  fixture *fx = *state;
  run(fx->L, "assert(#m.jobs == 2)\n"
             "local ids = {}\n"
             "for i, j in ipairs(m.jobs) do ids[#ids + 1] = i .. j.id end\n"
             "assert(table.concat(ids, ',') == '1build,2test')\n"
             "local keys = {}\n"
             "for k in pairs(m.on) do keys[#keys + 1] = k end\n"
             "assert(#keys == 1 and keys[1] == 'names')\n"
             "assert(#m.jobs[2].steps == 0)\n"
             "local s = m.jobs[1].steps[1]\n"
             "assert(s.index == 1 and s.uses.pin == 'tag')\n");
}

static void test_untouched_raw_access_is_empty(void **state)
{
  fixture *fx = *state;
  run(fx->L, "local t = m.jobs[2]\n"
             "assert(rawget(t, 'id') == nil)\n"
             "assert(getmetatable(t) == 'mlgate.lazy')\n"
             "assert(not pcall(setmetatable, t, {}))\n"
             "assert(t.id == 'test')\n"
             "assert(rawget(t, 'id') == 'test' and rawget(t, 'steps') == nil)\n"
             "assert(getmetatable(t) == 'mlgate.lazy')\n"
             "local steps = t.steps\n"
             "for k in pairs(t) do end\n"
             "assert(getmetatable(t) == nil and rawget(t, 'steps') == steps)\n");
}

static void test_newindex_fills_first(void **state)
{
  fixture *fx = *state;
  run(fx->L, "local s = m.jobs[1].steps[2]\n"
             "s.extra = 1\n"
             "assert(s.extra == 1 and s.run.text == 'make' and s.index == 2)\n");
}

static void test_to_node_fills(void **state)
{
  fixture *fx = *state;
  mlg_doc *d = mlg_doc_new("t");
  mlg_node *n;
  const mlg_node *c;
  assert_non_null(d);
  lua_getglobal(fx->L, "m");
  lua_getfield(fx->L, -1, "on");
  n = mlg_lua_to_node(fx->L, -1, d, 0);
  assert_non_null(n);
  assert_int_equal(n->type, MLG_MAP);
  assert_int_equal(n->u.map.len, 1);
  c = mlg_map_get(n, "names");
  assert_non_null(c);
  assert_non_null(mlg_map_get(c, "push"));
  lua_pop(fx->L, 2);
  mlg_doc_free(d);
}

/* A table with a look-alike metatable is not mistaken for a lazy one. */
static void test_forged_tables_ignored(void **state)
{
  fixture *fx = *state;
  lua_newtable(fx->L);
  lua_newtable(fx->L);
  lua_pushliteral(fx->L, "mlgate.lazy");
  lua_setfield(fx->L, -2, "__metatable");
  lua_setmetatable(fx->L, -2);
  mlg_lua_lazy_fill(fx->L, -1);
  assert_int_equal(lua_gettop(fx->L), 1);
  lua_pushnil(fx->L);
  assert_int_equal(lua_next(fx->L, -2), 0);
  lua_pop(fx->L, 1);
  /* Other values are left alone. */
  lua_pushinteger(fx->L, 3);
  mlg_lua_lazy_fill(fx->L, -1);
  assert_int_equal(lua_gettop(fx->L), 1);
  lua_pop(fx->L, 1);
}

/* The owner lives while any untouched table made from it does. */
static void test_owner_kept_alive(void **state)
{
  fixture *fx = *state;
  run(fx->L, "keep = m.jobs[1]; m = nil; collectgarbage(); collectgarbage()");
  assert_int_equal(released, 0);
  run(fx->L, "assert(keep.steps[1].uses.pin == 'tag')");
  run(fx->L, "keep = nil; collectgarbage(); collectgarbage()");
  assert_int_equal(released, 1);
}

int main(void)
{
  const struct CMUnitTest tests[] = {
    cmocka_unit_test_setup_teardown(test_index_and_nested, setup, teardown),
    cmocka_unit_test_setup_teardown(test_len_ipairs_pairs, setup, teardown),
    cmocka_unit_test_setup_teardown(test_untouched_raw_access_is_empty, setup, teardown),
    cmocka_unit_test_setup_teardown(test_newindex_fills_first, setup, teardown),
    cmocka_unit_test_setup_teardown(test_to_node_fills, setup, teardown),
    cmocka_unit_test_setup_teardown(test_forged_tables_ignored, setup, teardown),
    cmocka_unit_test_setup_teardown(test_owner_kept_alive, setup, teardown),
  };
  return cmocka_run_group_tests(tests, NULL, NULL);
}
