/*
 * mlgate.model: the native artifact scanners for policies.
 *
 *   local r, err = mlgate.model.scan(path [, {max_depth = 4, max_member_mb = 4096}])
 *   r.format        "pickle", "pytorch-zip", "safetensors", ... ("unknown")
 *   r.size, r.pickles
 *   r.imports[i]    {module, name, member, offset, called, resolved, via, depth,
 *                    pickle, verdict = "safe"|"unknown"|"dangerous", list, reason}
 *   r.issues[i]     {code, member, offset, message}
 *   r.members[i]    {name, size}
 *   r.chat_template (GGUF main template), r.chat_templates[i] {name, text}
 *   (every template; name "" for the main one), r.external (ONNX locations)
 *   mlgate.model.classify(module, name) -> verdict, list, reason
 *   mlgate.model.lists_version
 */
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <lauxlib.h>

#include "fsx.h"
#include "lua_api.h"
#include "modelscan.h"

static const char *verdict_name(mlg_import_verdict v)
{
  switch (v) {
  case MLG_IMPORT_SAFE: return "safe";
  case MLG_IMPORT_DANGEROUS: return "dangerous";
  default: return "unknown";
  }
}

static void set_str(lua_State *L, const char *k, const char *v)
{
  if (!v)
    return;
  lua_pushstring(L, v);
  lua_setfield(L, -2, k);
}

static void set_int(lua_State *L, const char *k, lua_Integer v)
{
  lua_pushinteger(L, v);
  lua_setfield(L, -2, k);
}

static void push_report(lua_State *L, const mlg_model_report *r)
{
  size_t i;
  lua_createtable(L, 0, 8);
  set_str(L, "format", mlg_model_format_name(r->format));
  set_int(L, "size", (lua_Integer)r->size);
  set_int(L, "pickles", (lua_Integer)r->pickles);

  lua_createtable(L, (int)r->nimports, 0);
  for (i = 0; i < r->nimports; i++) {
    const mlg_model_import *m = &r->imports[i];
    lua_createtable(L, 0, 12);
    set_str(L, "module", m->imp.module ? m->imp.module : "?");
    set_str(L, "name", m->imp.name ? m->imp.name : "?");
    set_str(L, "member", m->member);
    set_int(L, "offset", (lua_Integer)m->imp.offset);
    lua_pushboolean(L, m->imp.called);
    lua_setfield(L, -2, "called");
    lua_pushboolean(L, m->imp.resolved);
    lua_setfield(L, -2, "resolved");
    set_str(L, "via", mlg_pickle_via_name(m->imp.via));
    set_int(L, "depth", (lua_Integer)m->imp.depth);
    set_int(L, "pickle", (lua_Integer)m->imp.pickle);
    set_str(L, "verdict", verdict_name(m->cls.verdict));
    set_str(L, "list", m->cls.list);
    set_str(L, "reason", m->cls.reason);
    lua_rawseti(L, -2, (lua_Integer)i + 1);
  }
  lua_setfield(L, -2, "imports");

  lua_createtable(L, (int)r->issues.len, 0);
  for (i = 0; i < r->issues.len; i++) {
    const mlg_issue *it = &r->issues.items[i];
    lua_createtable(L, 0, 4);
    set_str(L, "code", it->code);
    set_str(L, "member", it->member);
    if (it->offset >= 0)
      set_int(L, "offset", (lua_Integer)it->offset);
    set_str(L, "message", it->message);
    lua_rawseti(L, -2, (lua_Integer)i + 1);
  }
  lua_setfield(L, -2, "issues");
  if (r->issues.dropped)
    set_int(L, "issues_dropped", (lua_Integer)r->issues.dropped);

  lua_createtable(L, (int)r->nmembers, 0);
  for (i = 0; i < r->nmembers; i++) {
    lua_createtable(L, 0, 2);
    set_str(L, "name", r->members[i].name);
    set_int(L, "size", (lua_Integer)r->members[i].size);
    lua_rawseti(L, -2, (lua_Integer)i + 1);
  }
  lua_setfield(L, -2, "members");

  set_str(L, "chat_template", r->chat_template);
  if (r->ntemplates) {
    lua_createtable(L, (int)r->ntemplates, 0);
    for (i = 0; i < r->ntemplates; i++) {
      lua_createtable(L, 0, 2);
      set_str(L, "name", r->template_names[i]);
      set_str(L, "text", r->templates[i]);
      lua_rawseti(L, -2, (lua_Integer)i + 1);
    }
    lua_setfield(L, -2, "chat_templates");
  }
  if (r->nexternal) {
    lua_createtable(L, (int)r->nexternal, 0);
    for (i = 0; i < r->nexternal; i++) {
      lua_pushstring(L, r->external[i]);
      lua_rawseti(L, -2, (lua_Integer)i + 1);
    }
    lua_setfield(L, -2, "external");
  }
}

/* The report lives in a userdata while it is converted, so a Lua error
 * (memory limit) cannot leak it. */
typedef struct report_box {
  mlg_model_report r;
  int fd;
} report_box;

static int box_gc(lua_State *L)
{
  report_box *b = lua_touserdata(L, 1);
  mlg_model_report_free(&b->r);
  if (b->fd >= 0)
    close(b->fd);
  b->fd = -1;
  return 0;
}

static int l_scan(lua_State *L)
{
  mlg_lua_env *env = mlg_lua_env_of(L);
  const char *path = mlg_lua_check_path(L, 1);
  mlg_model_opts o;
  report_box *b;
  struct stat st;
  mlg_err e;

  memset(&o, 0, sizeof o);
  if (lua_istable(L, 2)) {
    lua_getfield(L, 2, "max_depth");
    o.max_depth = (unsigned)luaL_optinteger(L, -1, 0);
    lua_getfield(L, 2, "max_member_mb");
    o.max_member_bytes = (uint64_t)luaL_optinteger(L, -1, 0) << 20;
    lua_pop(L, 2);
  }
  b = lua_newuserdatauv(L, sizeof *b, 0);
  memset(b, 0, sizeof *b);
  b->fd = -1;
  if (luaL_newmetatable(L, "mlgate.modelreport")) {
    lua_pushcfunction(L, box_gc);
    lua_setfield(L, -2, "__gc");
    lua_pushboolean(L, 0);
    lua_setfield(L, -2, "__metatable");
  }
  lua_setmetatable(L, -2);

  if (mlg_ws_open_file(&b->fd, env->ws, path, &e) != 0 || fstat(b->fd, &st) != 0) {
    luaL_pushfail(L);
    lua_pushstring(L, e.msg);
    return 2;
  }
  if (mlg_model_scan(&b->r, b->fd, (uint64_t)st.st_size, path, &o, &e) != 0) {
    if (e.code == MLG_ENOMEM)
      return luaL_error(L, "model scan: %s", e.msg);
    luaL_pushfail(L);
    lua_pushstring(L, e.msg);
    return 2;
  }
  close(b->fd);
  b->fd = -1;
  push_report(L, &b->r);
  mlg_model_report_free(&b->r);
  return 1;
}

static int l_classify(lua_State *L)
{
  mlg_import_class c = mlg_model_classify(luaL_checkstring(L, 1), luaL_checkstring(L, 2));
  lua_pushstring(L, verdict_name(c.verdict));
  lua_pushstring(L, c.list);
  lua_pushstring(L, c.reason);
  return 3;
}

void mlg_lua_open_model(lua_State *L)
{
  static const luaL_Reg fns[] = {{"scan", l_scan}, {"classify", l_classify}, {NULL, NULL}};
  luaL_newlib(L, fns);
  lua_pushstring(L, mlg_model_lists_version());
  lua_setfield(L, -2, "lists_version");
  lua_setfield(L, -2, "model");
}
