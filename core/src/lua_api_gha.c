/*
 * mlgate.gha: GitHub Actions expressions for policies (over gha_expr.h).
 * Offsets are 0-based bytes, as everywhere in the pipeline API.
 *
 *   gha.parse(text [, opts]) -> ast | nil, err, phase
 *   gha.refs(text [, opts]) -> {{path, fn, offset, len}, ...} | nil, err
 *   gha.eval(text, contexts [, opts]) -> value, kind | nil, err, phase
 *   gha.constant(text [, opts]) -> boolean | nil, err
 *   gha.find(text) -> {{start, stop, inner, inner_len, closed, expr}, ...}
 *   gha.truthy(v) -> boolean        gha.tostring(v) -> string
 *
 * opts: {contexts = {"github", ...}} (the names an expression may read) or
 * {any_context = true}; by default the standard names, and for eval also
 * the keys of contexts. ast nodes: {type, name?, value?, left?, right?,
 * args?, offset, len}, type one of literal, context, property, index,
 * star, not, and, or, compare, call, group. phase: "lexing", "parsing" or
 * "evaluation". Bad argument types raise; bad expressions return nil.
 *
 * Everything C allocates here is owned by a value on the Lua stack (a
 * document box or a refs box), so a Lua error midway leaks nothing, and is
 * bounded: MLG_GX_MAX_LEN of text, CTX_MAX_BYTES for the converted
 * contexts, the engine's memory budget for evaluation.
 */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include <lauxlib.h>

#include "gha_expr.h"
#include "lua_api.h"
#include "lua_api_gha.h"
#include "lua_lazy.h"

#define REFS_MT "mlgate.gha.refs"
#define MAX_NAMES 4096
#define CTX_MAX_BYTES ((size_t)64 << 20)
#define PUSH_DEPTH 100 /* mlg_lua_push_node's own limit */

static const char *phase_name(mlg_gx_phase p)
{
  switch (p) {
  case MLG_GX_LEXING: return "lexing";
  case MLG_GX_PARSING: return "parsing";
  default: return "evaluation";
  }
}

/* Fills o from the options table at idx (absent or nil: the defaults).
 * The names stay referenced by that table. */
static void read_opts(lua_State *L, int idx, mlg_gx_opts *o)
{
  lua_Integer n, i;
  const char **names;

  memset(o, 0, sizeof *o);
  if (lua_isnoneornil(L, idx))
    return;
  luaL_checktype(L, idx, LUA_TTABLE);
  lua_getfield(L, idx, "any_context");
  o->any_context = lua_toboolean(L, -1);
  lua_pop(L, 1);
  if (lua_getfield(L, idx, "contexts") == LUA_TNIL) {
    lua_pop(L, 1);
    return;
  }
  if (!lua_istable(L, -1))
    luaL_argerror(L, idx, "opts.contexts must be a list of names");
  n = (lua_Integer)lua_rawlen(L, -1);
  if (n > MAX_NAMES)
    luaL_argerror(L, idx, "opts.contexts has too many names");
  names = lua_newuserdatauv(L, (size_t)(n + 1) * sizeof *names, 0);
  for (i = 1; i <= n; i++) {
    if (lua_rawgeti(L, -2, i) != LUA_TSTRING)
      luaL_argerror(L, idx, "opts.contexts must be a list of names");
    names[i - 1] = lua_tostring(L, -1);
    lua_pop(L, 1);
  }
  names[n] = NULL;
  /* Keep the list alive until the function returns: the userdata stays
   * on the stack, the strings in opts.contexts. */
  lua_remove(L, -2);
  o->contexts = names;
  o->ncontexts = (size_t)n;
}

/* Parses the text at index 1: pushes a box owning the expression and
 * returns it, or pushes nothing and returns NULL with err and phase set. */
static mlg_gx *parse_boxed(lua_State *L, const mlg_gx_opts *o, mlg_gx_phase *phase,
                           mlg_err *err)
{
  size_t len;
  const char *text = luaL_checklstring(L, 1, &len);
  mlg_doc **slot = mlg_lua_doc_slot(L);
  mlg_gx *gx = NULL;
  if (mlg_gx_parse(&gx, text, len, o, phase, err) != 0) {
    lua_pop(L, 1);
    return NULL;
  }
  *slot = gx->doc;
  return gx;
}

static int fail(lua_State *L, const mlg_err *err, const char *phase)
{
  lua_pushnil(L);
  lua_pushstring(L, err->msg);
  if (!phase)
    return 2;
  lua_pushstring(L, phase);
  return 3;
}

/* --- parse ----------------------------------------------------------------- */

static const char *type_name(mlg_gx_type t)
{
  static const char *const names[] = {"?", "literal", "context", "property", "index", "star",
                                      "not", "and", "or", "compare", "call", "group"};
  return (unsigned)t < sizeof names / sizeof names[0] ? names[t] : "?";
}

static void push_ast(lua_State *L, const mlg_gx_node *n)
{
  size_t i;
  luaL_checkstack(L, 4, "expression nested too deeply");
  lua_createtable(L, 0, 6);
  lua_pushstring(L, type_name(n->type));
  lua_setfield(L, -2, "type");
  if (n->name) {
    lua_pushstring(L, n->name);
    lua_setfield(L, -2, "name");
  }
  if (n->type == MLG_GX_LITERAL && n->value) {
    mlg_lua_push_node(L, n->value);
    lua_setfield(L, -2, "value");
  }
  if (n->left) {
    push_ast(L, n->left);
    lua_setfield(L, -2, "left");
  }
  if (n->right) {
    push_ast(L, n->right);
    lua_setfield(L, -2, "right");
  }
  if (n->type == MLG_GX_CALL || n->type == MLG_GX_AND || n->type == MLG_GX_OR) {
    lua_createtable(L, (int)n->nargs, 0);
    for (i = 0; i < n->nargs; i++) {
      push_ast(L, n->args[i]);
      lua_rawseti(L, -2, (lua_Integer)i + 1);
    }
    lua_setfield(L, -2, "args");
  }
  lua_pushinteger(L, (lua_Integer)n->offset);
  lua_setfield(L, -2, "offset");
  lua_pushinteger(L, (lua_Integer)n->len);
  lua_setfield(L, -2, "len");
}

static int l_parse(lua_State *L)
{
  mlg_gx_opts o;
  mlg_gx_phase phase;
  mlg_err err = {0};
  mlg_gx *gx;
  luaL_checkstring(L, 1);
  read_opts(L, 2, &o);
  if (!(gx = parse_boxed(L, &o, &phase, &err)))
    return fail(L, &err, phase_name(phase));
  push_ast(L, gx->root);
  return 1;
}

/* --- refs ------------------------------------------------------------------ */

typedef struct refs_box {
  mlg_gx_ref *refs;
  size_t n;
} refs_box;

static int refs_gc(lua_State *L)
{
  refs_box *b = luaL_checkudata(L, 1, REFS_MT);
  mlg_gx_refs_free(b->refs, b->n);
  b->refs = NULL;
  b->n = 0;
  return 0;
}

static int l_refs(lua_State *L)
{
  mlg_gx_opts o;
  mlg_gx_phase phase;
  mlg_err err = {0};
  mlg_gx *gx;
  refs_box *b;
  size_t i;

  luaL_checkstring(L, 1);
  read_opts(L, 2, &o);
  if (!(gx = parse_boxed(L, &o, &phase, &err)))
    return fail(L, &err, NULL);
  b = lua_newuserdatauv(L, sizeof *b, 0);
  b->refs = NULL;
  b->n = 0;
  luaL_setmetatable(L, REFS_MT);
  if (mlg_gx_refs(&b->refs, &b->n, gx, &err) != 0)
    return fail(L, &err, NULL);
  lua_createtable(L, (int)b->n, 0);
  for (i = 0; i < b->n; i++) {
    lua_createtable(L, 0, 4);
    lua_pushstring(L, b->refs[i].path);
    lua_setfield(L, -2, "path");
    lua_pushstring(L, b->refs[i].fn);
    lua_setfield(L, -2, "fn");
    lua_pushinteger(L, (lua_Integer)b->refs[i].offset);
    lua_setfield(L, -2, "offset");
    lua_pushinteger(L, (lua_Integer)b->refs[i].len);
    lua_setfield(L, -2, "len");
    lua_rawseti(L, -2, (lua_Integer)i + 1);
  }
  return 1;
}

/* --- eval ------------------------------------------------------------------ */

static int pushable(const mlg_node *n, int depth)
{
  size_t i;
  if (depth > PUSH_DEPTH)
    return 0;
  if (n->type == MLG_SEQ) {
    for (i = 0; i < n->u.seq.len; i++) {
      if (!pushable(n->u.seq.items[i], depth + 1))
        return 0;
    }
  } else if (n->type == MLG_MAP) {
    for (i = 0; i < n->u.map.len; i++) {
      if (!pushable(n->u.map.pairs[i].val, depth + 1))
        return 0;
    }
  }
  return 1;
}

/* The standard names plus the keys of ctx, for eval without opts. */
static void names_with_keys(lua_State *L, const mlg_node *ctx, mlg_gx_opts *o)
{
  size_t nstd, nkeys = ctx && ctx->type == MLG_MAP ? ctx->u.map.len : 0, i, k = 0;
  const char *const *std = mlg_gx_std_contexts(&nstd);
  const char **names;
  if (nkeys > MAX_NAMES)
    nkeys = MAX_NAMES;
  names = lua_newuserdatauv(L, (nstd + nkeys + 1) * sizeof *names, 0);
  for (i = 0; i < nstd; i++)
    names[k++] = std[i];
  for (i = 0; i < nkeys; i++) {
    const mlg_node *key = ctx->u.map.pairs[i].key;
    if (key->type == MLG_STR)
      names[k++] = key->u.str.ptr;
  }
  names[k] = NULL;
  o->contexts = names;
  o->ncontexts = k;
}

static int l_eval(lua_State *L)
{
  mlg_gx_opts o;
  mlg_gx_phase phase;
  mlg_err err = {0};
  mlg_gx *gx;
  mlg_doc *cdoc, *rdoc;
  const mlg_node *ctx = NULL;
  mlg_node *r = NULL;

  luaL_checkstring(L, 1);
  if (!lua_isnoneornil(L, 2) && !lua_istable(L, 2))
    luaL_typeerror(L, 2, "table or nil");
  read_opts(L, 3, &o);
  cdoc = mlg_lua_new_doc(L);
  if (!cdoc)
    return luaL_error(L, "out of memory");
  cdoc->limit_bytes = CTX_MAX_BYTES;
  if (lua_istable(L, 2))
    ctx = mlg_lua_to_node(L, 2, cdoc, 0);
  if (!o.contexts && !o.any_context)
    names_with_keys(L, ctx, &o);
  if (!(gx = parse_boxed(L, &o, &phase, &err)))
    return fail(L, &err, phase_name(phase));
  if (!(rdoc = mlg_lua_new_doc(L)))
    return luaL_error(L, "out of memory");
  if (mlg_gx_eval(&r, rdoc, gx, ctx, &phase, &err) != 0)
    return fail(L, &err, "evaluation");
  if (!pushable(r, 0)) {
    mlg_err_set(&err, MLG_ELIMIT, "the value is nested more than %d levels deep", PUSH_DEPTH);
    return fail(L, &err, "evaluation");
  }
  mlg_lua_push_node(L, r);
  lua_pushstring(L, mlg_gx_kind(r));
  return 2;
}

/* --- constant, find -------------------------------------------------------- */

static int l_constant(lua_State *L)
{
  mlg_gx_opts o;
  mlg_gx_phase phase;
  mlg_err err = {0};
  mlg_gx *gx;
  luaL_checkstring(L, 1);
  read_opts(L, 2, &o);
  if (!(gx = parse_boxed(L, &o, &phase, &err)))
    return fail(L, &err, NULL);
  lua_pushboolean(L, mlg_gx_is_constant(gx));
  return 1;
}

static int l_find(lua_State *L)
{
  size_t len, off = 0, n, i;
  const char *text = luaL_checklstring(L, 1, &len);
  mlg_gx_span spans[64];
  lua_Integer k = 0;
  int more;

  lua_newtable(L);
  do { /* spans do not depend on what came before, so resume after the last */
    n = mlg_gx_find(spans, 64, text + off, len - off, &more);
    for (i = 0; i < n; i++) {
      const mlg_gx_span *s = &spans[i];
      lua_createtable(L, 0, 6);
      lua_pushinteger(L, (lua_Integer)(off + s->start));
      lua_setfield(L, -2, "start");
      lua_pushinteger(L, (lua_Integer)(off + s->end));
      lua_setfield(L, -2, "stop");
      lua_pushinteger(L, (lua_Integer)(off + s->inner));
      lua_setfield(L, -2, "inner");
      lua_pushinteger(L, (lua_Integer)s->inner_len);
      lua_setfield(L, -2, "inner_len");
      lua_pushboolean(L, s->closed);
      lua_setfield(L, -2, "closed");
      lua_pushlstring(L, text + off + s->inner, s->inner_len);
      lua_setfield(L, -2, "expr");
      lua_rawseti(L, -2, ++k);
    }
    if (n > 0)
      off += spans[n - 1].end;
  } while (more && n > 0);
  return 1;
}

/* --- coercions ------------------------------------------------------------- */

static int is_sequence(lua_State *L, int idx)
{
  lua_Integer len, count = 0;
  mlg_lua_lazy_fill(L, idx);
  len = (lua_Integer)lua_rawlen(L, idx);
  if (len == 0)
    return 0;
  lua_pushnil(L);
  while (lua_next(L, idx)) {
    count++;
    lua_pop(L, 1);
  }
  return count == len;
}

static int l_truthy(lua_State *L)
{
  lua_Number d;
  luaL_checkany(L, 1);
  switch (lua_type(L, 1)) {
  case LUA_TNIL:
    lua_pushboolean(L, 0);
    break;
  case LUA_TBOOLEAN:
    lua_pushboolean(L, lua_toboolean(L, 1));
    break;
  case LUA_TNUMBER:
    d = lua_tonumber(L, 1);
    lua_pushboolean(L, d != 0 && !isnan(d));
    break;
  case LUA_TSTRING:
    lua_pushboolean(L, lua_rawlen(L, 1) > 0);
    break;
  case LUA_TTABLE:
    lua_pushboolean(L, 1);
    break;
  default:
    if (!mlg_lua_is_null(L, 1))
      return luaL_typeerror(L, 1, "nil, boolean, number, string, table or mlgate.null");
    lua_pushboolean(L, 0);
  }
  return 1;
}

static int l_tostring(lua_State *L)
{
  mlg_node num;
  char *s = NULL;
  luaL_checkany(L, 1);
  switch (lua_type(L, 1)) {
  case LUA_TNIL:
    lua_pushliteral(L, "");
    break;
  case LUA_TBOOLEAN:
    lua_pushstring(L, lua_toboolean(L, 1) ? "true" : "false");
    break;
  case LUA_TNUMBER:
    memset(&num, 0, sizeof num);
    num.type = MLG_FLOAT;
    num.u.number = lua_tonumber(L, 1);
    if (mlg_gx_to_string(&s, &num) != 0)
      return luaL_error(L, "out of memory");
    lua_pushstring(L, s);
    free(s);
    break;
  case LUA_TSTRING:
    lua_settop(L, 1);
    break;
  case LUA_TTABLE:
    lua_pushstring(L, is_sequence(L, 1) ? "Array" : "Object");
    break;
  default:
    if (!mlg_lua_is_null(L, 1))
      return luaL_typeerror(L, 1, "nil, boolean, number, string, table or mlgate.null");
    lua_pushliteral(L, "");
  }
  return 1;
}

void mlg_lua_open_gha(lua_State *L)
{
  static const luaL_Reg fns[] = {{"parse", l_parse},       {"refs", l_refs},
                                 {"eval", l_eval},         {"constant", l_constant},
                                 {"find", l_find},         {"truthy", l_truthy},
                                 {"tostring", l_tostring}, {NULL, NULL}};
  if (luaL_newmetatable(L, REFS_MT)) {
    lua_pushcfunction(L, refs_gc);
    lua_setfield(L, -2, "__gc");
    lua_pushboolean(L, 0);
    lua_setfield(L, -2, "__metatable");
  }
  lua_pop(L, 1);
  luaL_newlib(L, fns);
  lua_setfield(L, -2, "gha");
}
