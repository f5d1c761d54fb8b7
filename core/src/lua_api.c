#include "lua_api.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <lauxlib.h>

#include <time.h>

#include "atlas.h"
#include "buf.h"
#include "embedded.h"
#include "isolate.h"
#include "lua_api_gha.h"
#include "lua_api_pipeline.h"
#include "lua_api_share.h"
#include "lua_api_shell.h"
#include "lua_lazy.h"
#include "node.h"
#include "mlgate/version.h"
#include "parse.h"

#define MAX_DEPTH 64

static const char env_key = 'E';

mlg_lua_env *mlg_lua_env_of(lua_State *L)
{
  mlg_lua_env *env;
  lua_rawgetp(L, LUA_REGISTRYINDEX, &env_key);
  env = lua_touserdata(L, -1);
  lua_pop(L, 1);
  return env;
}

void mlg_lua_env_release(mlg_lua_env *env)
{
  if (!env)
    return;
  free(env->snip_path);
  free(env->snip_text);
  free(env->snip_lines);
  env->snip_path = env->snip_text = NULL;
  env->snip_lines = NULL;
  env->snip_len = env->snip_nlines = 0;
}

void mlg_lua_push_null(lua_State *L)
{
  lua_pushlightuserdata(L, NULL);
}

int mlg_lua_is_null(lua_State *L, int idx)
{
  return lua_type(L, idx) == LUA_TLIGHTUSERDATA && lua_touserdata(L, idx) == NULL;
}

/* While checks run, their records wait here and go out together: a write()
 * per finding, and then one per check, made the child and the parent take
 * turns on the pipe thousands of times. They leave when they have waited
 * 20 ms, when 64 KiB are waiting, and before any record written outside a
 * check (begin, end, done), so the parent sees them in order and soon. A
 * child that dies loses what waits, as it loses its batch anyway: the
 * engine runs the batch's policies again. */
static mlg_buf pending = MLG_BUF_INIT;
static int pending_fd = -1;
static int batching;
static uint64_t pending_since; /* mlg_now_ms() of the oldest waiting record */
#define PENDING_MAX ((size_t)256 << 10)
#define PENDING_FLUSH ((size_t)64 << 10)

static int flush_pending(void)
{
  int rc = 0;
  if (pending.len && pending_fd >= 0)
    rc = mlg_write_all(pending_fd, pending.ptr, pending.len);
  pending.len = 0;
  return rc;
}

void mlg_lua_emit_tick(void)
{
  /* Only what has waited a while: a check that reports in a loop still
   * gets one write per 20 ms, not one per hook call. */
  if (pending.len && mlg_now_ms() - pending_since >= 20)
    flush_pending();
}

int mlg_lua_emit_batch(int on)
{
  batching = on;
  if (on || (pending.len < PENDING_FLUSH && mlg_now_ms() - pending_since < 20))
    return 0;
  return flush_pending();
}

int mlg_lua_emit(mlg_lua_env *env, const mlg_node *rec)
{
  /* Reused: one record after another, never two at once. */
  static mlg_buf json = MLG_BUF_INIT, out = MLG_BUF_INIT;
  int rc;

  json.len = out.len = 0;
  rc = mlg_json_write(&json, rec, 0, NULL);

  /* Every record names its policy: {"p":K, ...} (records are maps). */
  if (rc == 0 && env->task >= 0 && json.len >= 2 && json.ptr[0] == '{') {
    rc = mlg_buf_printf(&out, "{\"p\":%ld%s", env->task, json.len > 2 ? "," : "");
    if (rc == 0)
      rc = mlg_buf_put(&out, json.ptr + 1, json.len - 1);
  } else if (rc == 0) {
    rc = mlg_buf_put(&out, json.ptr, json.len);
  }
  if (rc == 0)
    rc = mlg_buf_putc(&out, '\n');
  if (rc == 0 && pending_fd != env->out_fd)
    rc = flush_pending();
  pending_fd = env->out_fd;
  if (rc == 0 && batching) {
    if (!pending.len)
      pending_since = mlg_now_ms();
    rc = mlg_buf_put(&pending, out.ptr, out.len);
  }
  else if (rc == 0 && (rc = flush_pending()) == 0)
    rc = mlg_write_all(env->out_fd, out.ptr, out.len);
  if (rc == 0 && pending.len >= PENDING_MAX)
    rc = flush_pending();
  if (json.cap > PENDING_MAX) /* one huge record: do not keep its buffers */
    mlg_buf_free(&json);
  if (out.cap > PENDING_MAX)
    mlg_buf_free(&out);
  return rc;
}

/* --- documents owned by the Lua stack ------------------------------------ */

typedef struct doc_box {
  mlg_doc *doc;
} doc_box;

static int box_gc(lua_State *L)
{
  doc_box *b = lua_touserdata(L, 1);
  mlg_doc_free(b->doc);
  b->doc = NULL;
  return 0;
}

mlg_doc **mlg_lua_doc_slot(lua_State *L)
{
  doc_box *b = lua_newuserdatauv(L, sizeof *b, 0);
  b->doc = NULL;
  if (luaL_newmetatable(L, "mlgate.docbox")) {
    lua_pushcfunction(L, box_gc);
    lua_setfield(L, -2, "__gc");
    lua_pushboolean(L, 0);
    lua_setfield(L, -2, "__metatable");
  }
  lua_setmetatable(L, -2);
  return &b->doc;
}

mlg_doc *mlg_lua_new_doc(lua_State *L)
{
  mlg_doc **slot = mlg_lua_doc_slot(L);
  *slot = mlg_doc_new(NULL);
  return *slot;
}

/* --- Lua value -> document node ---------------------------------------- */

static int key_cmp(const void *a, const void *b)
{
  const mlg_pair *x = a, *y = b;
  size_t n = x->key->u.str.len < y->key->u.str.len ? x->key->u.str.len : y->key->u.str.len;
  int c = memcmp(x->key->u.str.ptr, y->key->u.str.ptr, n);
  if (c)
    return c;
  return x->key->u.str.len < y->key->u.str.len ? -1 : x->key->u.str.len > y->key->u.str.len;
}

static mlg_node *oom(lua_State *L)
{
  luaL_error(L, "out of memory while converting a value");
  return NULL;
}

mlg_node *mlg_lua_to_node(lua_State *L, int idx, mlg_doc *doc, int depth)
{
  mlg_node *n = NULL;
  idx = lua_absindex(L, idx);

  if (depth > MAX_DEPTH)
    luaL_error(L, "value nested more than %d levels deep (or cyclic)", MAX_DEPTH);
  switch (lua_type(L, idx)) {
  case LUA_TNIL:
    n = mlg_node_null(doc);
    break;
  case LUA_TBOOLEAN:
    n = mlg_node_bool(doc, lua_toboolean(L, idx));
    break;
  case LUA_TNUMBER:
    if (lua_isinteger(L, idx))
      n = mlg_node_int(doc, (int64_t)lua_tointeger(L, idx));
    else {
      double d = lua_tonumber(L, idx);
      n = isfinite(d) ? mlg_node_float(doc, d) : mlg_node_null(doc);
    }
    break;
  case LUA_TSTRING: {
    size_t len;
    const char *s = lua_tolstring(L, idx, &len);
    n = mlg_node_strn(doc, s, len);
    break;
  }
  case LUA_TLIGHTUSERDATA:
    if (mlg_lua_is_null(L, idx)) {
      n = mlg_node_null(doc);
      break;
    }
    /* fall through */
  case LUA_TTABLE: {
    lua_Integer len, count = 0;
    if (lua_type(L, idx) != LUA_TTABLE)
      goto bad;
    luaL_checkstack(L, 4, "value too deep");
    mlg_lua_lazy_fill(L, idx); /* a model table nobody has touched yet */
    len = (lua_Integer)lua_rawlen(L, idx);
    lua_pushnil(L);
    while (lua_next(L, idx)) {
      count++;
      lua_pop(L, 1);
    }
    if (len > 0 && count == len) {
      lua_Integer i;
      n = mlg_node_seq(doc);
      if (!n)
        return oom(L);
      for (i = 1; i <= len; i++) {
        lua_rawgeti(L, idx, i);
        if (mlg_seq_push(doc, n, mlg_lua_to_node(L, -1, doc, depth + 1)) != 0)
          return oom(L);
        lua_pop(L, 1);
      }
    } else {
      n = mlg_node_map(doc);
      if (!n)
        return oom(L);
      lua_pushnil(L);
      while (lua_next(L, idx)) {
        mlg_node *k;
        if (lua_type(L, -2) == LUA_TSTRING) {
          size_t kl;
          const char *ks = lua_tolstring(L, -2, &kl);
          k = mlg_node_strn(doc, ks, kl);
        } else if (lua_type(L, -2) == LUA_TNUMBER) {
          char num[64];
          if (lua_isinteger(L, -2))
            snprintf(num, sizeof num, "%lld", (long long)lua_tointeger(L, -2));
          else
            snprintf(num, sizeof num, "%.14g", lua_tonumber(L, -2));
          k = mlg_node_str(doc, num);
        } else {
          luaL_error(L, "cannot convert a table with %s keys", luaL_typename(L, -2));
          return NULL;
        }
        if (!k || mlg_map_put(doc, n, k, mlg_lua_to_node(L, -1, doc, depth + 1)) != 0)
          return oom(L);
        lua_pop(L, 1);
      }
      /* Sorted keys: the same table always gives the same bytes. */
      if (n->u.map.len > 1)
        qsort(n->u.map.pairs, n->u.map.len, sizeof *n->u.map.pairs, key_cmp);
    }
    break;
  }
  default:
  bad:
    luaL_error(L, "cannot convert a %s value", luaL_typename(L, idx));
    return NULL;
  }
  if (!n)
    return oom(L);
  return n;
}

/* --- mlgate.atlas --------------------------------------------------------- */

static int l_atlas_name(lua_State *L)
{
  const mlg_atlas_entry *e = mlg_atlas_find(luaL_checkstring(L, 1));
  if (!e) {
    lua_pushnil(L);
    return 1;
  }
  lua_pushstring(L, e->name);
  lua_pushstring(L, mlg_atlas_kind_name(e->kind));
  return 2;
}

static int l_today(lua_State *L)
{
  int32_t days = mlg_date_today();
  char buf[16];
  time_t t = (time_t)days * 86400;
  struct tm tm;
  gmtime_r(&t, &tm);
  strftime(buf, sizeof buf, "%Y-%m-%d", &tm);
  lua_pushstring(L, buf);
  return 1;
}

static int l_isnull(lua_State *L)
{
  lua_pushboolean(L, mlg_lua_is_null(L, 1));
  return 1;
}

/* Loads every embedded lua/mlgate/NAME.lua: init.lua first (it extends the
 * table it is given), then the others as mlgate.NAME = chunk(mlgate). */
static const char share_key = 'H';

/* Runs one embedded SDK file with the mlgate table and the SDK's private
 * table (lua_api_share.c: never reachable from policies) as its
 * arguments, and leaves its result on the stack. */
static int run_sdk_file(lua_State *L, const mlg_embedded_file *f, int mlgate_idx, mlg_err *err)
{
  char chunkname[256];
  snprintf(chunkname, sizeof chunkname, "@%s", f->path);
  if (luaL_loadbufferx(L, f->data, f->len, chunkname, "t") != LUA_OK) {
    mlg_err_set(err, MLG_EPOLICY, "SDK %s: %s", f->path, lua_tostring(L, -1));
    lua_pop(L, 1);
    return MLG_EPOLICY;
  }
  lua_pushvalue(L, mlgate_idx);
  if (lua_rawgetp(L, LUA_REGISTRYINDEX, &share_key) != LUA_TTABLE) {
    lua_pop(L, 1);
    mlg_lua_push_share(L);
    lua_pushvalue(L, -1);
    lua_rawsetp(L, LUA_REGISTRYINDEX, &share_key);
  }
  if (lua_pcall(L, 2, 1, 0) != LUA_OK) {
    mlg_err_set(err, MLG_EPOLICY, "SDK %s: %s", f->path,
                lua_tostring(L, -1) ? lua_tostring(L, -1) : "error");
    lua_pop(L, 1);
    return MLG_EPOLICY;
  }
  return 0;
}

static const char sdk_prefix[] = "lua/mlgate/";
static const char lazy_key = 'L';

/* mlgate.NAME for an SDK module not loaded yet: most policies use none of
 * the larger ones (mlgate.taint is 47 KB of Lua), and compiling every
 * module in every policy's state was most of the cost of starting one. */
static int sdk_index(lua_State *L)
{
  const mlg_embedded_file *f;
  char path[160];
  size_t len;
  const char *name;
  mlg_err e;

  if (lua_type(L, 2) != LUA_TSTRING)
    return 0;
  name = lua_tolstring(L, 2, &len);
  if (len == 0 || len > 100 || memchr(name, '/', len) || memchr(name, '\0', len))
    return 0;
  lua_rawgetp(L, LUA_REGISTRYINDEX, &lazy_key);
  if (lua_type(L, -1) != LUA_TTABLE || lua_getfield(L, -1, name) != LUA_TBOOLEAN)
    return 0;
  /* Loaded once, even if loading fails. */
  lua_pop(L, 1);
  lua_pushnil(L);
  lua_setfield(L, -2, name);
  snprintf(path, sizeof path, "%s%s.lua", sdk_prefix, name);
  if (!(f = mlg_embedded_find(path)))
    return 0;
  if (run_sdk_file(L, f, 1, &e) != 0)
    return luaL_error(L, "%s", e.msg);
  lua_pushvalue(L, 2);
  lua_pushvalue(L, -2);
  lua_rawset(L, 1);
  return 1;
}

static int load_sdk(lua_State *L, int mlgate_idx, mlg_err *err)
{
  const mlg_embedded_file *init = mlg_embedded_find("lua/mlgate/init.lua");
  unsigned i;
  int rc, lazy;

  if (init) {
    if ((rc = run_sdk_file(L, init, mlgate_idx, err)) != 0)
      return rc;
    lua_pop(L, 1);
  }
  /* Modules that extend a C table (mlgate.pipeline) load now; the others
   * when first used. */
  lua_newtable(L);
  lazy = lua_gettop(L);
  for (i = 0; i < mlg_embedded_count; i++) {
    const mlg_embedded_file *f = &mlg_embedded_files[i];
    char name[128];
    size_t nlen;
    if (f == init || strncmp(f->path, sdk_prefix, sizeof sdk_prefix - 1) != 0)
      continue;
    nlen = strlen(f->path + sizeof sdk_prefix - 1);
    if (nlen < 5 || nlen - 4 >= sizeof name)
      continue;
    memcpy(name, f->path + sizeof sdk_prefix - 1, nlen - 4);
    name[nlen - 4] = '\0';
    if (lua_getfield(L, mlgate_idx, name) == LUA_TNIL) {
      lua_pop(L, 1);
      lua_pushboolean(L, 1);
      lua_setfield(L, lazy, name);
      continue;
    }
    lua_pop(L, 1);
    if ((rc = run_sdk_file(L, f, mlgate_idx, err)) != 0)
      return rc;
    if (!lua_isnil(L, -1))
      lua_setfield(L, mlgate_idx, name);
    else
      lua_pop(L, 1);
  }
  lua_rawsetp(L, LUA_REGISTRYINDEX, &lazy_key);
  lua_createtable(L, 0, 2);
  lua_pushcfunction(L, sdk_index);
  lua_setfield(L, -2, "__index");
  lua_pushliteral(L, "mlgate");
  lua_setfield(L, -2, "__metatable");
  lua_setmetatable(L, mlgate_idx);
  return 0;
}

static int open_api(lua_State *L)
{
  mlg_lua_env *env = lua_touserdata(L, 1);
  int top;

  lua_pushlightuserdata(L, env);
  lua_rawsetp(L, LUA_REGISTRYINDEX, &env_key);

  lua_newtable(L);
  top = lua_gettop(L);
  mlg_lua_push_null(L);
  lua_setfield(L, top, "null");
  lua_pushcfunction(L, l_isnull);
  lua_setfield(L, top, "isnull");
  lua_pushcfunction(L, l_today);
  lua_setfield(L, top, "today");
  lua_pushstring(L, MLGATE_VERSION);
  lua_setfield(L, top, "version");

  lua_newtable(L);
  lua_pushcfunction(L, l_atlas_name);
  lua_setfield(L, -2, "name");
  lua_pushstring(L, mlg_atlas_version());
  lua_setfield(L, -2, "version");
  lua_setfield(L, top, "atlas");

  mlg_lua_open_fs(L);
  mlg_lua_open_doc(L);
  mlg_lua_open_hash(L);
  mlg_lua_open_re(L);
  mlg_lua_open_log(L);
  mlg_lua_open_model(L);
  mlg_lua_open_pipeline(L);
  mlg_lua_open_gha(L);
  mlg_lua_open_shell(L);
  lua_settop(L, top);

  lua_pushvalue(L, top);
  lua_setglobal(L, "mlgate");
  return 1;
}

int mlg_lua_api_open(lua_State *L, mlg_lua_env *env, mlg_err *err)
{
  int rc;
  lua_pushcfunction(L, open_api);
  lua_pushlightuserdata(L, env);
  if (lua_pcall(L, 1, 1, 0) != LUA_OK) {
    mlg_err_set(err, MLG_ENOMEM, "cannot set up the policy API: %s",
                lua_tostring(L, -1) ? lua_tostring(L, -1) : "out of memory");
    lua_pop(L, 1);
    return MLG_ENOMEM;
  }
  rc = load_sdk(L, lua_gettop(L), err);
  lua_pop(L, 1);
  return rc;
}
