#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <string.h>

#include <lauxlib.h>
#include <lua.h>
#include <lualib.h>

#include "lua_heap.h"

/* Blocks of every size class keep their bytes across resizes within and
 * between classes and to and from malloc'd sizes; freed blocks are reused. */
static void test_resizes_keep_contents(void **state)
{
  size_t sizes[] = {1, 15, 16, 17, 100, 255, 256, 257, 1000, 40, 3};
  unsigned char *p = NULL;
  size_t old = 0, i, k;
  (void)state;
  for (i = 0; i < sizeof sizes / sizeof sizes[0]; i++) {
    size_t n = sizes[i];
    unsigned char *q = mlg_heap_realloc(p, old, n);
    assert_non_null(q);
    assert_int_equal((uintptr_t)q % 16, 0);
    for (k = 0; k < (old < n ? old : n); k++)
      assert_int_equal(q[k], (unsigned char)(k * 7 + old));
    for (k = 0; k < n; k++)
      q[k] = (unsigned char)(k * 7 + n);
    p = q;
    old = n;
  }
  assert_null(mlg_heap_realloc(p, old, 0));
}

static void test_distinct_blocks(void **state)
{
  void *blocks[2000];
  size_t i, j;
  (void)state;
  for (i = 0; i < 2000; i++) {
    blocks[i] = mlg_heap_realloc(NULL, 0, 8 + (i % 5) * 40);
    assert_non_null(blocks[i]);
    memset(blocks[i], (int)(i & 0xFF), 8 + (i % 5) * 40);
  }
  for (i = 0; i < 2000; i++)
    for (j = 0; j < 8 + (i % 5) * 40; j++)
      assert_int_equal(((unsigned char *)blocks[i])[j], i & 0xFF);
  for (i = 0; i < 2000; i++)
    mlg_heap_realloc(blocks[i], 8 + (i % 5) * 40, 0);
}

static void *alloc(void *ud, void *ptr, size_t osize, size_t nsize)
{
  (void)ud;
  return mlg_heap_realloc(ptr, ptr ? osize : 0, nsize);
}

/* A whole Lua state runs on it. */
static void test_lua_state(void **state)
{
  lua_State *L = lua_newstate(alloc, NULL);
  (void)state;
  assert_non_null(L);
  luaL_openlibs(L);
  assert_int_equal(luaL_dostring(L, "local t = {} for i = 1, 20000 do t[i] = ('x'):rep(i % 300) end "
                                    "local n = 0 for i = 1, #t do n = n + #t[i] end "
                                    "collectgarbage() return n"), LUA_OK);
  assert_int_equal(lua_tointeger(L, -1), 2980200); /* as lua5.4 computes it */
  lua_close(L);
}

int main(void)
{
  const struct CMUnitTest tests[] = {
    cmocka_unit_test(test_resizes_keep_contents),
    cmocka_unit_test(test_distinct_blocks),
    cmocka_unit_test(test_lua_state),
  };
  return cmocka_run_group_tests(tests, NULL, NULL);
}
