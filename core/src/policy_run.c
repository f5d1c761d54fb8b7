#include "policy_run.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <lauxlib.h>

#include "glob.h"
#include "lua_api.h"
#include "sandbox.h"
#include "scope.h"

#define EXIT_LOAD 3

/* Sends {"t": type, key: value, ...} built by the caller. */
static int emit_simple(mlg_lua_env *env, const char *type, const char *k1, const char *v1,
                       const char *k2, const char *v2)
{
  mlg_doc *doc = mlg_doc_new(NULL);
  mlg_node *rec = doc ? mlg_node_map(doc) : NULL;
  int rc = !rec || mlg_map_set_str(doc, rec, "t", type);
  if (!rc && k1)
    rc = mlg_map_set_str(doc, rec, k1, v1 ? v1 : "");
  if (!rc && k2)
    rc = mlg_map_set_str(doc, rec, k2, v2 ? v2 : "");
  if (!rc && env->gate >= 0 && strcmp(type, "log") != 0)
    rc = mlg_map_set_str(doc, rec, "gate", mlg_gate_name((mlg_gate)env->gate));
  if (!rc)
    rc = mlg_lua_emit(env, rec);
  mlg_doc_free(doc);
  return rc;
}

/* traceback: the Lua traceback for `mlgate eval -v`, or NULL. */
static int emit_error(mlg_lua_env *env, const char *path, const mlg_err *e, const char *where,
                      const char *traceback)
{
  mlg_doc *doc = mlg_doc_new(NULL);
  mlg_node *rec = doc ? mlg_node_map(doc) : NULL;
  int rc = !rec || mlg_map_set_str(doc, rec, "t", "error") ||
           mlg_map_set_str(doc, rec, "message", e->msg) ||
           mlg_map_set_str(doc, rec, "path", path ? path : "") ||
           mlg_map_set_str(doc, rec, "where", where ? where : "") ||
           mlg_map_set_bool(doc, rec, "limit", e->code == MLG_ELIMIT);
  if (!rc && env->gate >= 0)
    rc = mlg_map_set_str(doc, rec, "gate", mlg_gate_name((mlg_gate)env->gate));
  if (!rc && traceback && *traceback && env->verbose)
    rc = mlg_map_set_str(doc, rec, "traceback", traceback);
  if (!rc)
    rc = mlg_lua_emit(env, rec);
  mlg_doc_free(doc);
  return rc;
}

/* Builds the meta record from the policy table (argument 1) into the
 * document passed as light userdata (argument 2). Runs protected: a value
 * that cannot be converted raises. Raw access only: a policy table with an
 * __index metamethod must not get to run code here. */
static int build_meta(lua_State *L)
{
  mlg_doc *doc = lua_touserdata(L, 2);
  mlg_node *rec = lua_touserdata(L, 3);
  mlg_node *fields = mlg_node_map(doc), *fns = mlg_node_seq(doc);

  if (!fields || !fns)
    return luaL_error(L, "out of memory");
  lua_pushnil(L);
  while (lua_next(L, 1)) {
    if (lua_type(L, -2) != LUA_TSTRING)
      return luaL_error(L, "policy table keys must be strings");
    if (lua_type(L, -1) == LUA_TFUNCTION) {
      if (mlg_seq_push(doc, fns, mlg_node_str(doc, lua_tostring(L, -2))) != 0)
        return luaL_error(L, "out of memory");
    } else {
      mlg_node *v;
      if (lua_type(L, -1) == LUA_TTABLE && lua_getmetatable(L, -1))
        return luaL_error(L, "field '%s' must be a plain table", lua_tostring(L, -3));
      v = mlg_lua_to_node(L, -1, doc, 0);
      if (mlg_map_set(doc, fields, lua_tostring(L, -2), v) != 0)
        return luaL_error(L, "out of memory");
    }
    lua_pop(L, 1);
  }
  if (mlg_map_set(doc, rec, "fields", fields) || mlg_map_set(doc, rec, "functions", fns))
    return luaL_error(L, "out of memory");
  return 0;
}

static int send_meta(mlg_sandbox *sb, mlg_lua_env *env, int tbl, mlg_err *err)
{
  lua_State *L = sb->L;
  mlg_doc *doc = mlg_doc_new(NULL);
  mlg_node *rec = doc ? mlg_node_map(doc) : NULL;
  int rc;

  if (!rec || mlg_map_set_str(doc, rec, "t", "meta")) {
    mlg_doc_free(doc);
    return mlg_err_set(err, MLG_ENOMEM, "out of memory");
  }
  lua_pushcfunction(L, build_meta);
  lua_pushvalue(L, tbl);
  lua_pushlightuserdata(L, doc);
  lua_pushlightuserdata(L, rec);
  rc = mlg_sandbox_call(sb, 3, 0, NULL, 0, err);
  if (rc == 0 && mlg_lua_emit(env, rec) != 0)
    rc = mlg_err_set(err, MLG_EIO, "cannot send metadata");
  mlg_doc_free(doc);
  return rc;
}

static mlg_sandbox_limits limits_of(const mlg_config *cfg)
{
  mlg_sandbox_limits l = {0, 0};
  if (cfg) {
    l.memory_bytes = cfg->limits.memory_bytes;
    l.instructions = cfg->limits.instructions;
  }
  return l;
}

/* New sandbox with the API, the policy loaded and its table on top. */
static int load(mlg_sandbox **out, mlg_lua_env *env, const mlg_job *job, const mlg_policy *p,
                char *where, size_t wsize, mlg_err *err)
{
  mlg_sandbox_limits lim = limits_of(job->cfg);
  mlg_sandbox *sb = NULL;
  char chunkname[4096];
  int rc;

  where[0] = '\0';
  if ((rc = mlg_sandbox_new(&sb, &lim, err)) != 0)
    return rc;
  *out = sb;
  if ((rc = mlg_lua_api_open(sb->L, env, err)) != 0)
    return rc;
  snprintf(chunkname, sizeof chunkname, "@%s", p->path);
  if ((rc = mlg_sandbox_load(sb, p->text, p->len, chunkname, err)) != 0)
    return rc;
  if ((rc = mlg_sandbox_call(sb, 0, 1, where, wsize, err)) != 0)
    return rc;
  if (!lua_istable(sb->L, -1)) {
    snprintf(where, wsize, "%s", p->path);
    return mlg_err_set(err, MLG_EPOLICY, "the file must return mlgate.policy{...}, not a %s",
                       luaL_typename(sb->L, -1));
  }
  return 0;
}

static const char *raw_string(lua_State *L, int tbl, const char *key)
{
  const char *s;
  lua_pushstring(L, key);
  lua_rawget(L, tbl);
  s = lua_type(L, -1) == LUA_TSTRING ? lua_tostring(L, -1) : NULL;
  lua_pop(L, 1); /* referenced by the policy table */
  return s;
}

/* The gates the policy table names (validation proper is the parent's). */
static unsigned table_gates(lua_State *L, int tbl)
{
  unsigned mask = 0;
  const char *g = raw_string(L, tbl, "gate");
  int v;
  if (g && (v = mlg_gate_parse(g)) >= 0)
    return 1u << v;
  lua_pushliteral(L, "gates");
  if (lua_rawget(L, tbl) == LUA_TTABLE) {
    lua_Integer i;
    for (i = 1; lua_rawgeti(L, -1, i) == LUA_TSTRING; i++) {
      if ((v = mlg_gate_parse(lua_tostring(L, -1))) >= 0)
        mask |= 1u << v;
      lua_pop(L, 1);
    }
    lua_pop(L, 1);
  }
  lua_pop(L, 1);
  return mask;
}

/* ctx.params: defaults, then config params, then the job's override. */
static void push_params(lua_State *L, int tbl, const mlg_node *cfg_params,
                        const mlg_node *override)
{
  const mlg_node *layers[2] = {cfg_params, override};
  int i, params;
  lua_newtable(L);
  params = lua_gettop(L);
  lua_pushliteral(L, "params");
  if (lua_rawget(L, tbl) == LUA_TTABLE) {
    lua_pushnil(L);
    while (lua_next(L, -2)) {
      lua_pushvalue(L, -2);
      lua_insert(L, -2);
      lua_rawset(L, params);
    }
  }
  lua_pop(L, 1);
  for (i = 0; i < 2; i++) {
    size_t j;
    const mlg_node *n = layers[i];
    if (!n || n->type != MLG_MAP)
      continue;
    for (j = 0; j < n->u.map.len; j++) {
      const mlg_node *k = n->u.map.pairs[j].key;
      lua_pushlstring(L, k->u.str.ptr, k->u.str.len);
      mlg_lua_push_node(L, n->u.map.pairs[j].val);
      lua_rawset(L, params);
    }
  }
}

/* Globs from the table's `files` field, as C strings owned by that table. */
static size_t table_globs(lua_State *L, int tbl, const char **out, size_t max)
{
  size_t n = 0;
  lua_pushliteral(L, "files");
  lua_rawget(L, tbl);
  if (lua_type(L, -1) == LUA_TSTRING) {
    out[n++] = lua_tostring(L, -1);
  } else if (lua_istable(L, -1)) {
    lua_Integer i;
    for (i = 1; n < max && lua_rawgeti(L, -1, i) == LUA_TSTRING; i++) {
      out[n++] = lua_tostring(L, -1);
      lua_pop(L, 1);
    }
    lua_pop(L, 1);
  }
  lua_pop(L, 1);
  return n;
}

typedef struct gate_stats {
  uint64_t files;
} gate_stats;

/* Evaluates one gate; returns MLG_ELIMIT when a limit ended the policy. */
static int eval_gate(mlg_sandbox *sb, mlg_lua_env *env, const mlg_job *job, int tbl,
                     const mlg_policy_cfg *pc, gate_stats *st)
{
  lua_State *L = sb->L;
  const mlg_ws *ws = job->ws;
  const char *globs[128];
  size_t nglobs, i;
  int ctx, check, run, rc = 0;
  char where[300];
  mlg_err e;
  mlg_globs gl;

  push_params(L, tbl, pc ? pc->params : NULL, job->params);
  mlg_lua_push_ctx(L, -1);
  ctx = lua_gettop(L);
  lua_pushliteral(L, "check");
  lua_rawget(L, tbl);
  check = lua_gettop(L);
  lua_pushliteral(L, "run");
  lua_rawget(L, tbl);
  run = lua_gettop(L);
  nglobs = table_globs(L, tbl, globs, 128);
  gl.items = (char **)globs;
  gl.len = nglobs;
  env->files = &gl;

  if (lua_isfunction(L, check)) {
    for (i = 0; i < ws->nfiles && rc == 0; i++) {
      const mlg_file *f = &ws->files[i];
      if (f->escapes)
        continue;
      /* A single file given on the command line, and everything given to
       * mlgate scan, is judged by content. */
      if (!ws->single && !job->all_files &&
          (!mlg_scope_visible(job->cfg, env->gate, f->path) || !mlg_scope_any(&gl, f->path)))
        continue;
      st->files++;
      env->current = f->path;
      emit_simple(env, "file", "path", f->path, NULL, NULL);
      lua_pushvalue(L, check);
      lua_createtable(L, 0, 2);
      lua_pushstring(L, f->path);
      lua_setfield(L, -2, "path");
      lua_pushinteger(L, (lua_Integer)f->size);
      lua_setfield(L, -2, "size");
      lua_pushvalue(L, ctx);
      rc = mlg_sandbox_call(sb, 2, 0, where, sizeof where, &e);
      if (rc != 0) {
        emit_error(env, f->path, &e, where, sb->traceback);
        rc = e.code == MLG_ELIMIT || env->limit_error ? MLG_ELIMIT : 0;
      }
    }
  }
  env->current = NULL;
  if (rc == 0 && lua_isfunction(L, run)) {
    lua_pushvalue(L, run);
    lua_pushvalue(L, ctx);
    rc = mlg_sandbox_call(sb, 1, 0, where, sizeof where, &e);
    if (rc != 0) {
      emit_error(env, "", &e, where, sb->traceback);
      rc = e.code == MLG_ELIMIT || env->limit_error ? MLG_ELIMIT : 0;
    }
  }
  env->files = NULL;
  lua_settop(L, tbl);
  return rc;
}

static int emit_end(mlg_lua_env *env, const mlg_sandbox *sb, const gate_stats *st)
{
  mlg_doc *doc = mlg_doc_new(NULL);
  mlg_node *rec = doc ? mlg_node_map(doc) : NULL;
  int rc = !rec || mlg_map_set_str(doc, rec, "t", "end") ||
           mlg_map_set_str(doc, rec, "gate", mlg_gate_name((mlg_gate)env->gate)) ||
           mlg_map_set_int(doc, rec, "files", (int64_t)st->files) ||
           mlg_map_set_int(doc, rec, "instructions", (int64_t)sb->instr_used) ||
           mlg_map_set_int(doc, rec, "memory_peak", (int64_t)sb->mem_peak);
  if (!rc)
    rc = mlg_lua_emit(env, rec);
  mlg_doc_free(doc);
  return rc;
}

int mlg_policy_child(void *ud, size_t task, int out_fd)
{
  const mlg_job *job = ud;
  const mlg_policy *p = &job->set->items[job->tasks[task]];
  const mlg_policy_cfg *pc = NULL;
  mlg_lua_env env;
  mlg_sandbox *sb = NULL;
  char where[300];
  mlg_err e;
  unsigned gates;
  int g, first = 1, tbl, status = 0;

  memset(&env, 0, sizeof env);
  env.ws = job->ws;
  env.cfg = job->cfg;
  env.out_fd = out_fd;
  env.policy_path = p->path;
  env.gate = -1;
  env.verbose = job->verbose;
  env.read_cap = job->cfg && job->cfg->limits.read_bytes ? job->cfg->limits.read_bytes
                                                         : (uint64_t)64 << 20;
  env.max_findings = job->cfg && job->cfg->limits.findings ? job->cfg->limits.findings : 10000;

  if (load(&sb, &env, job, p, where, sizeof where, &e) != 0) {
    emit_simple(&env, "load_error", "message", e.msg, "where", where);
    status = EXIT_LOAD;
    goto done;
  }
  tbl = lua_gettop(sb->L);
  if (send_meta(sb, &env, tbl, &e) != 0) {
    emit_simple(&env, "load_error", "message", e.msg, "where", p->path);
    status = EXIT_LOAD;
    goto done;
  }
  if (!job->gates || !job->ws)
    goto finish;
  env.policy_id = raw_string(sb->L, tbl, "id");
  if (!env.policy_id)
    goto finish; /* the parent rejects the metadata */
  pc = job->cfg ? mlg_config_policy(job->cfg, env.policy_id) : NULL;
  if (pc && pc->enabled == 0)
    goto finish;
  gates = table_gates(sb->L, tbl) & job->gates;
  for (g = 0; g < MLG_GATE_COUNT; g++) {
    gate_stats st = {0};
    if (!(gates & (1u << g)))
      continue;
    if (!first) { /* a fresh state per gate */
      mlg_sandbox_free(sb);
      sb = NULL;
      env.gate = -1;
      if (load(&sb, &env, job, p, where, sizeof where, &e) != 0) {
        emit_simple(&env, "load_error", "message", e.msg, "where", where);
        status = EXIT_LOAD;
        goto done;
      }
      tbl = lua_gettop(sb->L);
      env.policy_id = raw_string(sb->L, tbl, "id");
      if (!env.policy_id)
        goto finish;
    }
    first = 0;
    env.gate = g;
    emit_simple(&env, "begin", NULL, NULL, NULL, NULL);
    if (eval_gate(sb, &env, job, tbl, pc, &st) == MLG_ELIMIT) {
      emit_end(&env, sb, &st);
      break; /* a limit ends the whole policy */
    }
    emit_end(&env, sb, &st);
  }
finish:
  env.gate = -1;
  emit_simple(&env, "done", NULL, NULL, NULL, NULL);
done:
  mlg_sandbox_free(sb);
  mlg_lua_env_release(&env);
  return status;
}
