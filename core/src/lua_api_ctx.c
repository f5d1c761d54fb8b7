/*
 * The ctx object a policy's check/run functions receive:
 *
 *   ctx.policy, ctx.gate, ctx.params
 *   ctx:fail{message=, path=, line=, column=, end_line=, end_column=,
 *            at=mlgate.pos(...), member=, offset=, severity=, confidence=,
 *            details={...}, key=}
 *   ctx:error(message [, path])
 *
 * Findings are validated here (a typo in a field name is an error, not a
 * silently dropped location) and sent to the parent at once, so they
 * survive a later crash or timeout of the policy.
 */
#include <stdlib.h>
#include <string.h>

#include <lauxlib.h>

#include "fsx.h"
#include "lua_api.h"
#include "node.h"
#include "types.h"

#define MAX_MESSAGE 4096
#define MAX_SNIPPET 200
#define MAX_FINDING_BYTES ((size_t)4 << 20)

static const char *const fail_fields[] = {
  "message", "path", "line", "column", "end_line", "end_column", "at", "member",
  "offset", "severity", "confidence", "details", "key", "aliases", "profile", NULL};

/* Returns the text of line `line` (1-based) of path, trimmed and with runs
 * of whitespace collapsed, for fingerprints that survive line shifts. */
static size_t snippet(mlg_lua_env *env, const char *path, lua_Integer line, char *out,
                      size_t size)
{
  const char *p, *end, *eol;
  size_t n = 0, i;
  int space = 0;

  if (!env->snip_path || strcmp(env->snip_path, path) != 0) {
    char *text = NULL;
    size_t len = 0;
    mlg_lua_env_release(env);
    if (mlg_ws_read(&text, &len, env->ws, path, env->read_cap, NULL) != 0)
      return 0;
    env->snip_path = strdup(path);
    env->snip_text = text;
    env->snip_len = len;
    if (!env->snip_path)
      return 0;
    /* Line starts, once per file: many findings in one file stay linear. */
    env->snip_nlines = 1;
    for (i = 0; i < len; i++)
      env->snip_nlines += text[i] == '\n';
    env->snip_lines = malloc(env->snip_nlines * sizeof *env->snip_lines);
    if (!env->snip_lines) {
      env->snip_nlines = 0;
      return 0;
    }
    env->snip_lines[0] = 0;
    for (i = 0, n = 1; i < len; i++)
      if (text[i] == '\n')
        env->snip_lines[n++] = i + 1;
    n = 0;
  }
  if (line < 1 || (size_t)line > env->snip_nlines)
    return 0;
  p = env->snip_text + env->snip_lines[line - 1];
  end = env->snip_text + env->snip_len;
  if (p >= end)
    return 0;
  eol = memchr(p, '\n', (size_t)(end - p));
  if (!eol)
    eol = end;
  while (p < eol && (*p == ' ' || *p == '\t'))
    p++;
  for (; p < eol && n + 1 < size; p++) {
    int ws = *p == ' ' || *p == '\t' || *p == '\r';
    if (ws) {
      space = 1;
      continue;
    }
    if (space && n) {
      if (n + 2 >= size) /* the separator and this character must both fit */
        break;
      out[n++] = ' ';
    }
    space = 0;
    out[n++] = *p;
  }
  out[n] = '\0';
  return n;
}

static lua_Integer opt_int_field(lua_State *L, int t, const char *name, lua_Integer dflt)
{
  lua_Integer v;
  int isnum;
  if (lua_getfield(L, t, name) == LUA_TNIL) {
    lua_pop(L, 1);
    return dflt;
  }
  v = lua_tointegerx(L, -1, &isnum);
  if (!isnum || v < 0 || v > INT32_MAX)
    luaL_error(L, "ctx:fail: '%s' must be a non-negative integer", name);
  lua_pop(L, 1);
  return v;
}

static const char *opt_str_field(lua_State *L, int t, const char *name)
{
  const char *s;
  if (lua_getfield(L, t, name) == LUA_TNIL) {
    lua_pop(L, 1);
    return NULL;
  }
  if (lua_type(L, -1) != LUA_TSTRING)
    luaL_error(L, "ctx:fail: '%s' must be a string, got %s", name, luaL_typename(L, -1));
  s = lua_tostring(L, -1);
  lua_pop(L, 1); /* still referenced by the argument table */
  return s;
}

static int check_fields(lua_State *L, int t)
{
  lua_pushnil(L);
  while (lua_next(L, t)) {
    int i, ok = 0;
    if (lua_type(L, -2) == LUA_TSTRING) {
      size_t len;
      const char *k = lua_tolstring(L, -2, &len);
      /* First byte and length before the bytes: this runs for every field
       * of every finding. */
      for (i = 0; fail_fields[i] && !ok; i++)
        ok = k[0] == fail_fields[i][0] && strlen(fail_fields[i]) == len &&
             memcmp(k, fail_fields[i], len) == 0;
    }
    if (!ok)
      return luaL_error(L, "ctx:fail: unknown field '%s' (expected one of message, path, "
                           "line, column, end_line, end_column, at, member, offset, severity, "
                           "confidence, details, key, aliases)",
                        lua_type(L, -2) == LUA_TSTRING ? lua_tostring(L, -2) : "?");
    lua_pop(L, 1);
  }
  return 0;
}

typedef struct fail_args {
  const char *message, *path, *member, *severity, *confidence, *key;
  int profile; /* mlg_profile of this finding */
  lua_Integer line, column, end_line, end_column, offset;
} fail_args;

static void read_fail_args(lua_State *L, int t, mlg_lua_env *env, fail_args *a)
{
  memset(a, 0, sizeof *a);
  check_fields(L, t);
  a->message = opt_str_field(L, t, "message");
  if (!a->message || !*a->message)
    luaL_error(L, "ctx:fail: 'message' is required (one sentence: what is wrong and why)");
  a->path = opt_str_field(L, t, "path");
  if (a->path) {
    size_t len;
    lua_getfield(L, t, "path");
    lua_tolstring(L, -1, &len);
    if (strlen(a->path) != len)
      luaL_error(L, "ctx:fail: 'path' contains a NUL byte");
    lua_pop(L, 1);
  }
  if (!a->path)
    a->path = env->current;
  if (!a->path)
    luaL_error(L, "ctx:fail: 'path' is required outside a per-file check");
  a->member = opt_str_field(L, t, "member");
  a->severity = opt_str_field(L, t, "severity");
  a->confidence = opt_str_field(L, t, "confidence");
  a->key = opt_str_field(L, t, "key");
  if (a->severity && mlg_severity_parse(a->severity) < 0)
    luaL_error(L, "ctx:fail: 'severity' must be one of info, low, medium, high, critical");
  if (a->confidence && mlg_confidence_parse(a->confidence) < 0)
    luaL_error(L, "ctx:fail: 'confidence' must be one of low, medium, high");
  {
    const char *pr = opt_str_field(L, t, "profile");
    if (pr && (a->profile = mlg_profile_parse(pr)) < 0)
      luaL_error(L, "ctx:fail: 'profile' must be one of regular, pedantic, auditor");
  }
  /* `at` (from mlgate.pos) first, explicit fields override it. */
  if (lua_getfield(L, t, "at") == LUA_TTABLE) {
    int at = lua_gettop(L);
    a->line = opt_int_field(L, at, "line", 0);
    a->column = opt_int_field(L, at, "column", 0);
    a->end_line = opt_int_field(L, at, "end_line", 0);
    a->end_column = opt_int_field(L, at, "end_column", 0);
  } else if (!lua_isnil(L, -1)) {
    luaL_error(L, "ctx:fail: 'at' must be a position from mlgate.pos()");
  }
  lua_pop(L, 1);
  a->line = opt_int_field(L, t, "line", a->line);
  a->column = opt_int_field(L, t, "column", a->column);
  a->end_line = opt_int_field(L, t, "end_line", a->end_line);
  a->end_column = opt_int_field(L, t, "end_column", a->end_column);
  a->offset = -1;
  if (lua_getfield(L, t, "offset") != LUA_TNIL) {
    int isnum;
    a->offset = lua_tointegerx(L, -1, &isnum);
    if (!isnum || a->offset < 0)
      luaL_error(L, "ctx:fail: 'offset' must be a non-negative integer");
  }
  lua_pop(L, 1);
}

static mlg_doc *rec_doc;

static int l_fail(lua_State *L)
{
  mlg_lua_env *env = mlg_lua_env_of(L);
  fail_args a;
  mlg_doc *doc;
  mlg_node *rec;
  char *norm = NULL;
  mlg_err e;
  int rc = 0;

  luaL_checktype(L, 2, LUA_TTABLE);
  read_fail_args(L, 2, env, &a);
  /* A pedantic or auditor finding in a run that does not want it (zizmor
   * decides per finding too: a tag-pinned image is only pedantic). */
  if (a.profile > (env->cfg ? env->cfg->profile : MLG_PROFILE_REGULAR))
    return 0;
  if (env->nfindings >= env->max_findings) {
    if (!env->limit_error) {
      env->limit_error = 1;
      return luaL_error(L, "reported more than %d findings (limits.findings)",
                        (int)env->max_findings);
    }
    return 0;
  }
  if (mlg_path_normalize(&norm, a.path, &e) != 0)
    return luaL_error(L, "ctx:fail: bad path: %s", e.msg);

  /* One record document for every finding of the process, emptied each
   * time: converting details may raise, and a document owned here cannot
   * leak then (a document per finding, owned by a userdata, cost an
   * allocation, a finaliser and a collection each). */
  if (!rec_doc && !(rec_doc = mlg_doc_new(NULL))) {
    free(norm);
    return luaL_error(L, "out of memory");
  }
  doc = rec_doc;
  mlg_doc_reset(doc);
  /* Shared subtables (YAML aliases) are written out once per reference:
   * bound what one finding may cost. */
  doc->limit_bytes = MAX_FINDING_BYTES;
  rec = mlg_node_map(doc);
  rc = !rec || mlg_map_set_str(doc, rec, "t", "finding") || mlg_map_set_str(doc, rec, "path", norm);
  free(norm);
  rc = rc || mlg_map_set(doc, rec, "message",
                         mlg_node_strn(doc, a.message,
                                       strlen(a.message) > MAX_MESSAGE ? MAX_MESSAGE
                                                                       : strlen(a.message)));
  rc = rc || mlg_map_set_int(doc, rec, "line", a.line) ||
       mlg_map_set_int(doc, rec, "column", a.column) ||
       mlg_map_set_int(doc, rec, "end_line", a.end_line) ||
       mlg_map_set_int(doc, rec, "end_column", a.end_column);
  if (!rc && a.member)
    rc = mlg_map_set_str(doc, rec, "member", a.member);
  if (!rc && a.offset >= 0)
    rc = mlg_map_set_int(doc, rec, "offset", a.offset);
  if (!rc && a.severity)
    rc = mlg_map_set_str(doc, rec, "severity", a.severity);
  if (!rc && a.confidence)
    rc = mlg_map_set_str(doc, rec, "confidence", a.confidence);
  if (!rc && a.key)
    rc = mlg_map_set_str(doc, rec, "key", a.key);
  /* Extra ids for this finding (one problem that is two catalog rules,
   * e.g. an unpinned image that is also an unpinned ML training image). */
  if (!rc && lua_getfield(L, 2, "aliases") != LUA_TNIL) {
    mlg_node *al = mlg_node_seq(doc);
    lua_Integer i, n;
    if (!lua_istable(L, -1))
      return luaL_error(L, "ctx:fail: 'aliases' must be a list of \"tool:id\" strings");
    n = (lua_Integer)lua_rawlen(L, -1);
    for (i = 1; i <= n && al && !rc; i++) {
      const char *s, *c;
      lua_rawgeti(L, -1, i);
      s = lua_tostring(L, -1);
      c = s && lua_type(L, -1) == LUA_TSTRING ? strchr(s, ':') : NULL;
      if (!c || c == s || !c[1])
        return luaL_error(L, "ctx:fail: alias %d must be \"tool:id\", like \"catalog:PIN-IMAGE\"",
                          (int)i);
      rc = mlg_seq_push(doc, al, mlg_node_str(doc, s));
      lua_pop(L, 1);
    }
    rc = rc || !al || mlg_map_set(doc, rec, "aliases", al);
    lua_pop(L, 1);
  } else if (!rc) {
    lua_pop(L, 1);
  }
  if (!rc && a.line > 0) {
    char snip[MAX_SNIPPET + 1];
    const mlg_node *pathn = mlg_map_get(rec, "path");
    if (snippet(env, pathn->u.str.ptr, a.line, snip, sizeof snip) > 0)
      rc = mlg_map_set(doc, rec, "snippet", mlg_node_str(doc, snip));
  }
  if (!rc) {
    if (lua_getfield(L, 2, "details") != LUA_TNIL) {
      mlg_node *d;
      if (!lua_istable(L, -1))
        return luaL_error(L, "ctx:fail: 'details' must be a table");
      d = mlg_lua_to_node(L, -1, doc, 0);
      rc = mlg_map_set(doc, rec, "details", d);
    }
    lua_pop(L, 1);
  }
  if (!rc && env->gate >= 0)
    rc = mlg_map_set_str(doc, rec, "gate", mlg_gate_name((mlg_gate)env->gate));
  if (!rc)
    rc = mlg_lua_emit(env, rec);
  if (rc)
    return luaL_error(L, "cannot report a finding (out of memory or broken pipe)");
  env->nfindings++;
  return 0;
}

/* ctx:error(message [, path]): a located error; the gate fails closed but
 * the policy carries on (findings from other files still count). */
static int l_error(lua_State *L)
{
  mlg_lua_env *env = mlg_lua_env_of(L);
  const char *msg = luaL_checkstring(L, 2);
  const char *path = lua_isnoneornil(L, 3) ? env->current : mlg_lua_check_path(L, 3);
  mlg_doc *doc = mlg_doc_new(NULL);
  mlg_node *rec = doc ? mlg_node_map(doc) : NULL;
  lua_Debug ar;
  char where[300] = "";
  int rc;

  if (lua_getstack(L, 1, &ar) && lua_getinfo(L, "Sl", &ar) && ar.currentline > 0)
    snprintf(where, sizeof where, "%s:%d", ar.short_src, ar.currentline);
  rc = !rec || mlg_map_set_str(doc, rec, "t", "error") ||
       mlg_map_set_str(doc, rec, "message", msg) ||
       mlg_map_set_str(doc, rec, "path", path ? path : "") ||
       mlg_map_set_str(doc, rec, "where", where) ||
       (env->gate >= 0 && mlg_map_set_str(doc, rec, "gate", mlg_gate_name((mlg_gate)env->gate)));
  if (!rc)
    rc = mlg_lua_emit(env, rec);
  mlg_doc_free(doc);
  if (rc)
    return luaL_error(L, "cannot report an error (out of memory or broken pipe)");
  return 0;
}

void mlg_lua_push_ctx(lua_State *L, int params_idx)
{
  mlg_lua_env *env = mlg_lua_env_of(L);
  params_idx = lua_absindex(L, params_idx);
  lua_createtable(L, 0, 5);
  lua_pushstring(L, env->policy_id ? env->policy_id : "");
  lua_setfield(L, -2, "policy");
  if (env->gate >= 0) {
    lua_pushstring(L, mlg_gate_name((mlg_gate)env->gate));
    lua_setfield(L, -2, "gate");
  }
  lua_pushvalue(L, params_idx);
  lua_setfield(L, -2, "params");
  lua_pushcfunction(L, l_fail);
  lua_setfield(L, -2, "fail");
  lua_pushcfunction(L, l_error);
  lua_setfield(L, -2, "error");
}
