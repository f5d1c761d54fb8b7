#include "policy_run.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <lauxlib.h>

#include "glob.h"
#include "isolate.h"
#include "lua_api.h"
#include "lua_memo.h"
#include "sandbox.h"
#include "scope.h"

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
  sb->tick = mlg_lua_emit_tick;
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


/* One policy of the batch: its own state, environment and budget. */
typedef struct pol {
  size_t task;                /* index into job->tasks (the "p" of records) */
  const mlg_policy *p;
  const mlg_policy_cfg *pc;
  mlg_lua_env env;
  mlg_sandbox *sb;
  int tbl;                    /* the policy table in sb->L */
  unsigned gates;             /* still to evaluate */
  int used;                   /* the state has served a gate: reload for the next */
  int ended;                  /* a load error or a limit ended it */
  int ctx, check, run;        /* stack slots while a gate runs */
  const char *globs[128];
  mlg_globs gl;
  uint64_t files;             /* files checked in the current gate */
  uint64_t used_ms;           /* time spent in its code so far */
  uint64_t budget_ms;
} pol;

/* Marks where the child is, for the parent's watchdog and crash reports. */
static void watch(const pol *q, const char *path)
{
  uint64_t left = q->used_ms < q->budget_ms ? q->budget_ms - q->used_ms : 1;
  mlg_watch_set(mlg_now_ms() + left, (int)q->task, q->env.gate, path);
}

static int emit_limit(pol *q, const char *path, const char *fmt, unsigned long long v)
{
  mlg_err e;
  mlg_err_set(&e, MLG_ELIMIT, fmt, v);
  return emit_error(&q->env, path, &e, q->p->path, NULL);
}

/* Charges the time since t0; ends the policy past its budget (time spent
 * in C that returned just before the parent's grace ran out). */
static int charge(pol *q, uint64_t t0, const char *path)
{
  q->used_ms += mlg_now_ms() - t0;
  if (q->used_ms <= q->budget_ms)
    return 0;
  emit_limit(q, path ? path : "", "exceeded its time limit of %llu ms",
             (unsigned long long)q->budget_ms);
  return MLG_ELIMIT;
}

static void emit_load_error(pol *q, const mlg_err *e, const char *where)
{
  emit_simple(&q->env, "load_error", "message", e->msg, "where", where);
  q->ended = 1;
}

/* (Re)creates the policy's state; the policy table ends on top. */
static int reload(pol *q, const mlg_job *job)
{
  char where[300];
  uint64_t t0 = mlg_now_ms();
  int saved_gate = q->env.gate;
  mlg_err e;
  int rc;

  mlg_sandbox_free(q->sb);
  q->sb = NULL;
  q->env.gate = -1;
  watch(q, NULL);
  rc = load(&q->sb, &q->env, job, q->p, where, sizeof where, &e);
  q->env.gate = saved_gate;
  if (charge(q, t0, NULL) != 0) {
    q->ended = 1;
    return MLG_ELIMIT;
  }
  if (rc != 0) {
    emit_load_error(q, &e, where);
    return rc;
  }
  q->tbl = lua_gettop(q->sb->L);
  return 0;
}

/* Pushes params, ctx, check and run for a gate. */
static void gate_setup(pol *q, const mlg_job *job)
{
  lua_State *L = q->sb->L;
  push_params(L, q->tbl, q->pc ? q->pc->params : NULL, job->params);
  mlg_lua_push_ctx(L, -1);
  q->ctx = lua_gettop(L);
  lua_pushliteral(L, "check");
  lua_rawget(L, q->tbl);
  q->check = lua_gettop(L);
  lua_pushliteral(L, "run");
  lua_rawget(L, q->tbl);
  q->run = lua_gettop(L);
  q->gl.len = table_globs(L, q->tbl, q->globs, 128);
  q->gl.items = (char **)q->globs;
  q->env.files = &q->gl;
  q->files = 0;
}

/* Calls the function and arguments on top in the policy's state; reports
 * errors. Returns MLG_ELIMIT when a limit ended the policy. */
static int call(pol *q, int nargs, const char *path)
{
  char where[300];
  uint64_t t0 = mlg_now_ms();
  mlg_err e;
  int rc;

  watch(q, path);
  rc = mlg_sandbox_call(q->sb, nargs, 0, where, sizeof where, &e);
  if (rc != 0) {
    emit_error(&q->env, path ? path : "", &e, where, q->sb->traceback);
    rc = e.code == MLG_ELIMIT || q->env.limit_error ? MLG_ELIMIT : 0;
  }
  if (rc == 0)
    rc = charge(q, t0, path);
  return rc;
}

static void check_file(pol *q, const mlg_job *job, const mlg_file *f)
{
  lua_State *L = q->sb->L;
  const mlg_ws *ws = job->ws;

  if (!lua_isfunction(L, q->check))
    return;
  /* A single file given on the command line, and everything given to
   * mlgate scan, is judged by content. */
  if (!ws->single && !job->all_files &&
      (!mlg_scope_visible(job->cfg, q->env.gate, f->path) || !mlg_scope_any(&q->gl, f->path)))
    return;
  q->files++;
  q->env.current = f->path;
  lua_pushvalue(L, q->check);
  lua_createtable(L, 0, 2);
  lua_pushstring(L, f->path);
  lua_setfield(L, -2, "path");
  lua_pushinteger(L, (lua_Integer)f->size);
  lua_setfield(L, -2, "size");
  lua_pushvalue(L, q->ctx);
  mlg_lua_emit_batch(1);
  if (call(q, 2, f->path) == MLG_ELIMIT)
    q->ended = 1; /* a limit ends the whole policy */
  mlg_lua_emit_batch(0);
  q->env.current = NULL;
}

/* The share of the files this task checks (mlg_job.nshards): a policy
 * with a run() function sees every file in share 0 and none elsewhere, so
 * that run() has the whole picture exactly once. */
static int in_share(const pol *q, const mlg_job *job, size_t file)
{
  unsigned shard;
  if (job->nshards <= 1)
    return 1;
  shard = (unsigned)(q->task % job->nshards);
  if (lua_isfunction(q->sb->L, q->run))
    return shard == 0;
  return file % job->nshards == shard;
}

static void gate_finish(pol *q, const mlg_job *job)
{
  lua_State *L = q->sb->L;
  if (!q->ended && lua_isfunction(L, q->run) &&
      (job->nshards <= 1 || q->task % job->nshards == 0)) {
    lua_pushvalue(L, q->run);
    lua_pushvalue(L, q->ctx);
    if (call(q, 1, NULL) == MLG_ELIMIT)
      q->ended = 1;
  }
  q->env.files = NULL;
  emit_end(&q->env, q->sb, &(gate_stats){q->files});
  lua_settop(L, q->tbl);
  q->used = 1;
}

static void pol_init(pol *q, const mlg_job *job, size_t task)
{
  memset(q, 0, sizeof *q);
  q->task = task;
  q->p = &job->set->items[job->tasks[task]];
  q->env.ws = job->ws;
  q->env.cfg = job->cfg;
  q->env.policy_path = q->p->path;
  q->env.gate = -1;
  q->env.task = (long)task;
  q->env.verbose = job->verbose;
  q->env.read_cap = job->cfg && job->cfg->limits.read_bytes ? job->cfg->limits.read_bytes
                                                            : (uint64_t)64 << 20;
  q->env.max_findings =
    job->cfg && job->cfg->limits.findings ? job->cfg->limits.findings : 10000;
  q->budget_ms = job->cfg && job->cfg->limits.time_ms ? job->cfg->limits.time_ms : 5000;
}

/* Loads the policy and sends its metadata; decides what it evaluates. */
static void pol_start(pol *q, const mlg_job *job)
{
  uint64_t t0;
  mlg_err e;

  if (reload(q, job) != 0)
    return;
  t0 = mlg_now_ms();
  watch(q, NULL);
  if (send_meta(q->sb, &q->env, q->tbl, &e) != 0) {
    emit_load_error(q, &e, q->p->path);
    return;
  }
  if (charge(q, t0, NULL) != 0) {
    q->ended = 1;
    return;
  }
  if (!job->gates || !job->ws)
    return;
  q->env.policy_id = raw_string(q->sb->L, q->tbl, "id");
  if (!q->env.policy_id)
    return; /* the parent rejects the metadata */
  q->pc = job->cfg ? mlg_config_policy(job->cfg, q->env.policy_id) : NULL;
  if (q->pc && q->pc->enabled == 0)
    return;
  {
    const char *pr = raw_string(q->sb->L, q->tbl, "profile");
    int need = pr ? mlg_profile_parse(pr) : MLG_PROFILE_REGULAR;
    /* Off in this profile; an enabled: true in the config turns it on. */
    if (need > (job->cfg ? job->cfg->profile : MLG_PROFILE_REGULAR) &&
        !(q->pc && q->pc->enabled == 1))
      return;
  }
  q->gates = table_gates(q->sb->L, q->tbl) & job->gates;
}

/* The policy id must be looked up again in a reloaded state (it points
 * into the old one). */
static int pol_refresh_id(pol *q)
{
  q->env.policy_id = raw_string(q->sb->L, q->tbl, "id");
  if (!q->env.policy_id)
    q->ended = 1;
  return q->env.policy_id ? 0 : -1;
}

/* Files a policy checks in a row before the next policy of the batch takes
 * them: their memoised models must fit the memo (lua_memo.h). */
#define FILE_CHUNK 32

int mlg_policy_child(void *ud, size_t batch, int out_fd)
{
  const mlg_job *job = ud;
  size_t first = job->batch_off[batch], n = job->batch_off[batch + 1] - first, i, k, c;
  pol *pols = calloc(n ? n : 1, sizeof *pols);
  int g;

  if (!pols)
    return 1;
  for (k = 0; k < n; k++) {
    pol_init(&pols[k], job, job->order[first + k]);
    pols[k].env.out_fd = out_fd;
    pol_start(&pols[k], job);
    /* Metadata only, or nothing to evaluate: free the state now. */
    if (!pols[k].gates || pols[k].ended) {
      mlg_sandbox_free(pols[k].sb);
      pols[k].sb = NULL;
    }
  }

  /* Chunks of files outside, policies inside: every policy of the batch
   * looks at a file while its parsed form is still in the per-child memo
   * (lua_memo.h), so a file is parsed once per batch; and each policy
   * checks a whole chunk in a row, while its Lua heap is in the CPU's
   * caches (switching between forty states at every file made the same
   * work three times slower). */
  for (g = 0; g < MLG_GATE_COUNT && job->ws; g++) {
    int any = 0;
    for (k = 0; k < n; k++) {
      pol *q = &pols[k];
      if (q->ended || !q->sb || !(q->gates & (1u << g)))
        continue;
      if (q->used && (reload(q, job) != 0 || pol_refresh_id(q) != 0))
        continue;
      q->env.gate = g;
      emit_simple(&q->env, "begin", NULL, NULL, NULL, NULL);
      gate_setup(q, job);
      any = 1;
    }
    if (!any)
      continue;
    for (c = 0; c < job->ws->nfiles; c += FILE_CHUNK) {
      size_t end = c + FILE_CHUNK < job->ws->nfiles ? c + FILE_CHUNK : job->ws->nfiles;
      for (k = 0; k < n; k++) {
        pol *q = &pols[k];
        for (i = c; i < end; i++) {
          const mlg_file *f = &job->ws->files[i];
          if (!f->escapes && !q->ended && q->sb && q->env.gate == g &&
              (q->gates & (1u << g)) && in_share(q, job, i))
            check_file(q, job, f);
        }
      }
      /* No policy of the batch looks at these files again: let their
       * models go (those still held by a Lua state go at its next
       * collection), so the next chunk reuses the memory instead of
       * faulting in more. */
      mlg_memo_clear();
    }
    for (k = 0; k < n; k++) {
      pol *q = &pols[k];
      if (!q->sb || q->env.gate != g || !(q->gates & (1u << g)))
        continue;
      gate_finish(q, job);
      q->gates &= ~(1u << g);
      if (q->ended)
        q->gates = 0;
      q->env.gate = -1;
    }
  }
  for (k = 0; k < n; k++) {
    pol *q = &pols[k];
    mlg_watch_set(0, (int)q->task, -1, NULL);
    q->env.gate = -1;
    emit_simple(&q->env, "done", NULL, NULL, NULL, NULL);
    mlg_sandbox_free(q->sb);
    mlg_lua_env_release(&q->env);
  }
  free(pols);
  mlg_memo_clear();
  return 0;
}
