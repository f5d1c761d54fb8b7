/*
 * mlgate.yaml / mlgate.json / mlgate.pos / mlgate.keys.
 *
 * Parsed documents become plain Lua tables (null is mlgate.null, so a key
 * written with no value is still present). Positions are kept beside the
 * data, not in it: a registry table with weak keys maps every converted
 * table to a compact record of where it and each of its entries were
 * written, so `pairs` sees only the document's own keys and the C document
 * can be freed right after conversion (its memory is not under the Lua
 * allocator's cap, the records are).
 */
#include <stdlib.h>
#include <string.h>

#include <lauxlib.h>

#include "fsx.h"
#include "lua_api.h"
#include "node.h"
#include "parse.h"

static const char posmap_key = 'P';

/* One packed span record. */
typedef struct span_rec {
  uint32_t line, col, end_line, end_col;
  uint32_t offset; /* clamped to 4 GiB */
  uint8_t style;
  uint8_t pad[3];
} span_rec;

/* Field indexes in a position entry (a Lua table in posmap). */
enum { PE_SELF = 1, PE_ITEMS = 2, PE_KEYS = 3, PE_KEYSPANS = 4, PE_TAGS = 5 };

static void pack(span_rec *r, const mlg_node *n)
{
  memset(r, 0, sizeof *r);
  r->line = n->span.line;
  r->col = n->span.col;
  r->end_line = n->span.end_line;
  r->end_col = n->span.end_col;
  r->offset = n->span.offset > UINT32_MAX ? UINT32_MAX : (uint32_t)n->span.offset;
  r->style = n->style;
}

typedef struct conv {
  lua_State *L;
  int memo;   /* table: lightuserdata(node) -> converted table */
  int posmap; /* weak-keyed: table -> position entry */
} conv;

static void push_value(conv *c, const mlg_node *n, int depth);

/* Builds the position entry for a container already at the top. */
static void record_positions(conv *c, const mlg_node *n)
{
  lua_State *L = c->L;
  span_rec self;
  luaL_Buffer items, keyspans;
  size_t i, count = n->type == MLG_MAP ? n->u.map.len : n->u.seq.len;
  int has_tags = 0;

  lua_pushvalue(L, -1);            /* key: the table */
  lua_createtable(L, 5, 0);        /* entry */
  pack(&self, n);
  lua_pushlstring(L, (const char *)&self, sizeof self);
  lua_rawseti(L, -2, PE_SELF);

  luaL_buffinit(L, &items);
  for (i = 0; i < count; i++) {
    span_rec r;
    pack(&r, n->type == MLG_MAP ? n->u.map.pairs[i].val : n->u.seq.items[i]);
    luaL_addlstring(&items, (const char *)&r, sizeof r);
  }
  luaL_pushresult(&items);
  lua_rawseti(L, -2, PE_ITEMS);

  if (n->type == MLG_MAP) {
    lua_createtable(L, (int)count, 0);
    for (i = 0; i < count; i++) {
      const mlg_node *k = n->u.map.pairs[i].key;
      lua_pushlstring(L, k->u.str.ptr, k->u.str.len);
      lua_rawseti(L, -2, (lua_Integer)i + 1);
    }
    lua_rawseti(L, -2, PE_KEYS);
    luaL_buffinit(L, &keyspans);
    for (i = 0; i < count; i++) {
      span_rec r;
      pack(&r, n->u.map.pairs[i].key);
      luaL_addlstring(&keyspans, (const char *)&r, sizeof r);
    }
    luaL_pushresult(&keyspans);
    lua_rawseti(L, -2, PE_KEYSPANS);
  }
  for (i = 0; i < count; i++) {
    const mlg_node *v = n->type == MLG_MAP ? n->u.map.pairs[i].val : n->u.seq.items[i];
    if (!v->tag)
      continue;
    if (!has_tags) {
      lua_newtable(L);
      has_tags = 1;
    }
    lua_pushstring(L, v->tag);
    lua_rawseti(L, -2, (lua_Integer)i + 1);
  }
  if (has_tags)
    lua_rawseti(L, -2, PE_TAGS);
  lua_rawset(L, c->posmap);
}

static void push_value(conv *c, const mlg_node *n, int depth)
{
  lua_State *L = c->L;
  size_t i;

  luaL_checkstack(L, 6, "document too deep");
  switch (n->type) {
  case MLG_NULL:
    mlg_lua_push_null(L);
    return;
  case MLG_BOOL:
    lua_pushboolean(L, n->u.boolean);
    return;
  case MLG_INT:
    lua_pushinteger(L, (lua_Integer)n->u.integer);
    return;
  case MLG_FLOAT:
    lua_pushnumber(L, n->u.number);
    return;
  case MLG_STR:
    lua_pushlstring(L, n->u.str.ptr, n->u.str.len);
    return;
  default:
    break;
  }
  /* Aliases share the node: convert once, share the table. */
  lua_pushlightuserdata(L, (void *)n);
  if (lua_rawget(L, c->memo) != LUA_TNIL)
    return;
  lua_pop(L, 1);
  if (depth > 1000)
    luaL_error(L, "document nested too deeply");
  if (n->type == MLG_SEQ) {
    lua_createtable(L, (int)n->u.seq.len, 0);
    for (i = 0; i < n->u.seq.len; i++) {
      push_value(c, n->u.seq.items[i], depth + 1);
      lua_rawseti(L, -2, (lua_Integer)i + 1);
    }
  } else {
    lua_createtable(L, 0, (int)n->u.map.len);
    for (i = 0; i < n->u.map.len; i++) {
      const mlg_node *k = n->u.map.pairs[i].key;
      lua_pushlstring(L, k->u.str.ptr, k->u.str.len);
      push_value(c, n->u.map.pairs[i].val, depth + 1);
      lua_rawset(L, -3);
    }
  }
  lua_pushlightuserdata(L, (void *)n);
  lua_pushvalue(L, -2);
  lua_rawset(L, c->memo);
  record_positions(c, n);
}

/* Values only: used for config params, which are not policy input. */
static void push_plain(lua_State *L, const mlg_node *n, int depth)
{
  size_t i;
  luaL_checkstack(L, 4, "value too deep");
  if (depth > 100)
    luaL_error(L, "value nested too deeply");
  switch (n->type) {
  case MLG_NULL: mlg_lua_push_null(L); return;
  case MLG_BOOL: lua_pushboolean(L, n->u.boolean); return;
  case MLG_INT: lua_pushinteger(L, (lua_Integer)n->u.integer); return;
  case MLG_FLOAT: lua_pushnumber(L, n->u.number); return;
  case MLG_STR: lua_pushlstring(L, n->u.str.ptr, n->u.str.len); return;
  case MLG_SEQ:
    lua_createtable(L, (int)n->u.seq.len, 0);
    for (i = 0; i < n->u.seq.len; i++) {
      push_plain(L, n->u.seq.items[i], depth + 1);
      lua_rawseti(L, -2, (lua_Integer)i + 1);
    }
    return;
  default:
    lua_createtable(L, 0, (int)n->u.map.len);
    for (i = 0; i < n->u.map.len; i++) {
      const mlg_node *k = n->u.map.pairs[i].key;
      if (k->type != MLG_STR)
        continue;
      lua_pushlstring(L, k->u.str.ptr, k->u.str.len);
      push_plain(L, n->u.map.pairs[i].val, depth + 1);
      lua_rawset(L, -3);
    }
  }
}

void mlg_lua_push_node(lua_State *L, const mlg_node *n)
{
  push_plain(L, n, 0);
}

static void push_posmap(lua_State *L)
{
  if (lua_rawgetp(L, LUA_REGISTRYINDEX, &posmap_key) != LUA_TNIL)
    return;
  lua_pop(L, 1);
  lua_newtable(L);
  lua_createtable(L, 0, 1);
  lua_pushliteral(L, "k");
  lua_setfield(L, -2, "__mode");
  lua_setmetatable(L, -2);
  lua_pushvalue(L, -1);
  lua_rawsetp(L, LUA_REGISTRYINDEX, &posmap_key);
}

static void opts_from_table(lua_State *L, int idx, mlg_parse_opts *o, const char **name)
{
  memset(o, 0, sizeof *o);
  if (lua_isnoneornil(L, idx))
    return;
  luaL_checktype(L, idx, LUA_TTABLE);
  lua_getfield(L, idx, "all");
  o->all_documents = lua_toboolean(L, -1);
  lua_getfield(L, idx, "merge");
  o->merge_keys = lua_toboolean(L, -1);
  lua_getfield(L, idx, "duplicates");
  o->allow_duplicates = lua_toboolean(L, -1);
  lua_getfield(L, idx, "name");
  if (lua_type(L, -1) == LUA_TSTRING && name)
    *name = lua_tostring(L, -1); /* stays referenced by the options table */
  lua_pop(L, 4);
}

/* Converts the parsed document in box: pushes the value (or, with all
 * documents, a sequence of them). */
static void push_doc(lua_State *L, const mlg_doc *doc, int all)
{
  conv c;
  c.L = L;
  lua_newtable(L);
  c.memo = lua_gettop(L);
  push_posmap(L);
  c.posmap = lua_gettop(L);
  if (all) {
    size_t i;
    lua_createtable(L, (int)doc->nroots, 0);
    for (i = 0; i < doc->nroots; i++) {
      push_value(&c, doc->roots[i], 0);
      lua_rawseti(L, -2, (lua_Integer)i + 1);
    }
  } else if (doc->root) {
    push_value(&c, doc->root, 0);
  } else {
    mlg_lua_push_null(L);
  }
  lua_replace(L, c.memo);
  lua_settop(L, c.memo);
}

typedef int (*parse_fn)(mlg_doc **, const char *, size_t, const char *, const mlg_parse_opts *,
                        mlg_err *);

static int do_parse(lua_State *L, parse_fn parse, const char *text, size_t len, const char *name,
                    const mlg_parse_opts *o)
{
  mlg_doc **slot = mlg_lua_doc_slot(L);
  mlg_err e;
  int box = lua_gettop(L);

  if (parse(slot, text, len, name, o, &e) != 0) {
    luaL_pushfail(L);
    lua_pushstring(L, e.msg);
    return 2;
  }
  push_doc(L, *slot, o->all_documents);
  mlg_doc_free(*slot); /* positions were copied into Lua */
  *slot = NULL;
  lua_remove(L, box);
  return 1;
}

static int parse_string(lua_State *L, parse_fn parse, const char *dflt_name)
{
  size_t len;
  const char *text = luaL_checklstring(L, 1, &len);
  const char *name = dflt_name;
  mlg_parse_opts o;
  opts_from_table(L, 2, &o, &name);
  return do_parse(L, parse, text, len, name, &o);
}

static int parse_file(lua_State *L, parse_fn parse)
{
  mlg_lua_env *env = mlg_lua_env_of(L);
  const char *path = mlg_lua_check_path(L, 1);
  const char *name = path;
  mlg_parse_opts o;
  char *data = NULL;
  size_t len = 0;
  mlg_err e;
  int n;

  opts_from_table(L, 2, &o, &name);
  if (mlg_ws_read(&data, &len, env->ws, path, env->read_cap, &e) != 0) {
    luaL_pushfail(L);
    lua_pushstring(L, e.msg);
    return 2;
  }
  /* Keep the bytes owned by Lua so an error while converting frees them. */
  lua_pushlstring(L, data, len);
  free(data);
  n = do_parse(L, parse, lua_tostring(L, -1), len, name, &o);
  lua_remove(L, -1 - n);
  return n;
}

static int l_yaml_parse(lua_State *L) { return parse_string(L, mlg_yaml_parse, "<string>"); }
static int l_yaml_load(lua_State *L) { return parse_file(L, mlg_yaml_parse); }
static int l_json_parse(lua_State *L) { return parse_string(L, mlg_json_parse, "<string>"); }
static int l_json_load(lua_State *L) { return parse_file(L, mlg_json_parse); }

static int l_json_encode(lua_State *L)
{
  mlg_doc *doc = NULL;
  mlg_buf out = MLG_BUF_INIT;
  mlg_node *n;
  mlg_err e;
  int flags = 0;

  luaL_checkany(L, 1);
  if (lua_istable(L, 2)) {
    lua_getfield(L, 2, "pretty");
    flags |= lua_toboolean(L, -1) ? MLG_JSON_PRETTY : 0;
    lua_pop(L, 1);
  }
  doc = mlg_lua_new_doc(L);
  if (!doc)
    return luaL_error(L, "out of memory");
  doc->limit_bytes = (size_t)64 << 20; /* aliases expand: bound the copy */
  n = mlg_lua_to_node(L, 1, doc, 0);
  if (mlg_json_write(&out, n, flags, &e) != 0) {
    mlg_buf_free(&out);
    return luaL_error(L, "json.encode: %s", e.msg);
  }
  lua_pushlstring(L, out.ptr ? out.ptr : "", out.len);
  mlg_buf_free(&out);
  return 1;
}

/* Pushes the position table for a packed record. */
static void push_span(lua_State *L, const span_rec *r, const span_rec *key, const char *tag)
{
  static const char *const styles[] = {"", "plain", "single", "double", "literal",
                                       "folded", "block", "flow"};
  lua_createtable(L, 0, 8);
  lua_pushinteger(L, r->line);
  lua_setfield(L, -2, "line");
  lua_pushinteger(L, r->col);
  lua_setfield(L, -2, "column");
  lua_pushinteger(L, r->end_line);
  lua_setfield(L, -2, "end_line");
  lua_pushinteger(L, r->end_col);
  lua_setfield(L, -2, "end_column");
  lua_pushinteger(L, r->offset);
  lua_setfield(L, -2, "offset");
  if (r->style && r->style < sizeof styles / sizeof *styles) {
    lua_pushstring(L, styles[r->style]);
    lua_setfield(L, -2, "style");
  }
  if (key) {
    lua_pushinteger(L, key->line);
    lua_setfield(L, -2, "key_line");
    lua_pushinteger(L, key->col);
    lua_setfield(L, -2, "key_column");
  }
  if (tag) {
    lua_pushstring(L, tag);
    lua_setfield(L, -2, "tag");
  }
}

/* Pushes the position entry of the table at idx, or returns 0. */
static int get_entry(lua_State *L, int idx)
{
  if (!lua_istable(L, idx))
    return 0;
  push_posmap(L);
  lua_pushvalue(L, idx);
  if (lua_rawget(L, -2) != LUA_TTABLE) {
    lua_pop(L, 2);
    return 0;
  }
  lua_remove(L, -2);
  return 1;
}

static const span_rec *rec_at(lua_State *L, int entry, int field, size_t i)
{
  size_t len;
  const char *s;
  lua_rawgeti(L, entry, field);
  s = lua_tolstring(L, -1, &len);
  lua_pop(L, 1); /* the string stays referenced by the entry */
  if (!s || (i + 1) * sizeof(span_rec) > len)
    return NULL;
  return (const span_rec *)(const void *)(s + i * sizeof(span_rec));
}

/* mlgate.pos(t [, key]) -> {line, column, end_line, end_column, offset,
 * style, key_line, key_column, tag} or nil when t was not parsed by
 * mlgate or key is not one of its entries. */
static int l_pos(lua_State *L)
{
  int entry;
  size_t i, n;
  span_rec self, item, key;
  const span_rec *p;
  const char *tag = NULL;

  lua_settop(L, 2); /* pos(t) and pos(t, nil) alike; the entry goes at 3 */
  if (!get_entry(L, 1)) {
    lua_pushnil(L);
    return 1;
  }
  entry = lua_gettop(L);
  if (lua_isnoneornil(L, 2)) {
    p = rec_at(L, entry, PE_SELF, 0);
    if (!p)
      return (lua_pushnil(L), 1);
    memcpy(&self, p, sizeof self);
    push_span(L, &self, NULL, NULL);
    return 1;
  }
  if (lua_rawgeti(L, entry, PE_KEYS) == LUA_TTABLE) { /* mapping: find key */
    int keys = lua_gettop(L);
    const char *k = lua_tostring(L, 2);
    if (!k || lua_type(L, 2) != LUA_TSTRING)
      return (lua_pushnil(L), 1);
    n = lua_rawlen(L, keys);
    for (i = n; i > 0; i--) { /* last wins, like the value in the table */
      lua_rawgeti(L, keys, (lua_Integer)i);
      if (lua_rawequal(L, -1, 2)) {
        lua_pop(L, 1);
        break;
      }
      lua_pop(L, 1);
    }
    if (i == 0)
      return (lua_pushnil(L), 1);
    i--;
    p = rec_at(L, entry, PE_KEYSPANS, i);
    if (!p)
      return (lua_pushnil(L), 1);
    memcpy(&key, p, sizeof key);
  } else { /* sequence: integer index */
    lua_Integer k;
    if (!lua_isinteger(L, 2))
      return (lua_pushnil(L), 1);
    k = lua_tointeger(L, 2);
    if (k < 1)
      return (lua_pushnil(L), 1);
    i = (size_t)k - 1;
  }
  p = rec_at(L, entry, PE_ITEMS, i);
  if (!p)
    return (lua_pushnil(L), 1);
  memcpy(&item, p, sizeof item);
  if (lua_rawgeti(L, entry, PE_TAGS) == LUA_TTABLE) {
    lua_rawgeti(L, -1, (lua_Integer)i + 1);
    tag = lua_tostring(L, -1);
  }
  push_span(L, &item, lua_type(L, 2) == LUA_TSTRING ? &key : NULL, tag);
  return 1;
}

/* mlgate.keys(t) -> keys of a parsed mapping in document order; nil for
 * tables mlgate did not parse (the SDK then falls back to sorted keys). */
static int l_keys(lua_State *L)
{
  int keys;
  lua_Integer i, n;

  luaL_checktype(L, 1, LUA_TTABLE);
  if (!get_entry(L, 1))
    return 0;
  if (lua_rawgeti(L, -1, PE_KEYS) != LUA_TTABLE)
    return 0;
  /* A copy, so the caller cannot edit the recorded order. */
  keys = lua_gettop(L);
  n = (lua_Integer)lua_rawlen(L, keys);
  lua_createtable(L, (int)n, 0);
  for (i = 1; i <= n; i++) {
    lua_rawgeti(L, keys, i);
    lua_rawseti(L, -2, i);
  }
  return 1;
}

void mlg_lua_open_doc(lua_State *L)
{
  static const luaL_Reg yaml[] = {{"parse", l_yaml_parse}, {"load", l_yaml_load}, {NULL, NULL}};
  static const luaL_Reg json[] = {
    {"parse", l_json_parse}, {"load", l_json_load}, {"encode", l_json_encode}, {NULL, NULL}};
  luaL_newlib(L, yaml);
  lua_setfield(L, -2, "yaml");
  luaL_newlib(L, json);
  lua_setfield(L, -2, "json");
  lua_pushcfunction(L, l_pos);
  lua_setfield(L, -2, "pos");
  lua_pushcfunction(L, l_keys);
  lua_setfield(L, -2, "keys");
}
