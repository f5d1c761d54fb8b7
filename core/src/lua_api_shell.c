/*
 * mlgate.shell: the shell lexer of shlex.h, for rules about `run:` scripts.
 * All offsets are 0-based byte offsets into the text given to parse.
 *
 *   mlgate.shell.parse(text) -> script | nil, err   (nil only over the
 *       limits of shlex.h or out of memory; a malformed script is a script
 *       with an error and the commands before it)
 *   script = {cmds = {cmd...}, error = {offset =, message =}?}
 *   cmd    = {argv = {word...}, assigns = {word...}, redirs = {redir...},
 *             offset, len, sep, pipeline, depth, subst}
 *            sep: "|", "|&", "&&", "||", ";", "&", "\n" or "" (end);
 *            pipeline: 0-based index shared by the commands of a pipeline;
 *            subst: inside $( ), ` ` or <( ) (its output is a word)
 *   word   = {text, offset, len, quoted, expansion, template, glob}
 *   redir  = {fd = n?, op, target = word, heredoc = body?, heredoc_offset = n?}
 *            fd is absent when implicit
 */
#include <lauxlib.h>

#include "lua_api_shell.h"
#include "shlex.h"

#define SCRIPT_MT "mlgate.shell.script"

/* The C result is kept in a userdata while tables are built, so a Lua
 * memory error cannot leak it. */
static int script_gc(lua_State *L)
{
  mlg_sh_script **box = luaL_checkudata(L, 1, SCRIPT_MT);
  mlg_sh_free(*box);
  *box = NULL;
  return 0;
}

static void set_int(lua_State *L, const char *k, size_t v)
{
  lua_pushinteger(L, (lua_Integer)v);
  lua_setfield(L, -2, k);
}

static void set_bool(lua_State *L, const char *k, int v)
{
  lua_pushboolean(L, v);
  lua_setfield(L, -2, k);
}

static void push_word(lua_State *L, const mlg_sh_word *w)
{
  lua_createtable(L, 0, 7);
  lua_pushstring(L, w->text);
  lua_setfield(L, -2, "text");
  set_int(L, "offset", w->offset);
  set_int(L, "len", w->len);
  set_bool(L, "quoted", (w->flags & MLG_SHW_QUOTED) != 0);
  set_bool(L, "expansion", (w->flags & MLG_SHW_EXPANSION) != 0);
  set_bool(L, "template", (w->flags & MLG_SHW_TEMPLATE) != 0);
  set_bool(L, "glob", (w->flags & MLG_SHW_GLOB) != 0);
}

static void push_words(lua_State *L, const char *k, const mlg_sh_word *w, size_t n)
{
  size_t i;
  lua_createtable(L, n > 0x7FFFFFF ? 0 : (int)n, 0);
  for (i = 0; i < n; i++) {
    push_word(L, &w[i]);
    lua_rawseti(L, -2, (lua_Integer)i + 1);
  }
  lua_setfield(L, -2, k);
}

static void push_redir(lua_State *L, const mlg_sh_redirect *r)
{
  lua_createtable(L, 0, 5);
  if (r->fd >= 0)
    set_int(L, "fd", (size_t)r->fd);
  lua_pushstring(L, r->op);
  lua_setfield(L, -2, "op");
  push_word(L, &r->target);
  lua_setfield(L, -2, "target");
  if (r->heredoc) {
    lua_pushstring(L, r->heredoc);
    lua_setfield(L, -2, "heredoc");
    set_int(L, "heredoc_offset", r->heredoc_offset);
  }
}

static void push_cmd(lua_State *L, const mlg_sh_cmd *c)
{
  size_t i;
  lua_createtable(L, 0, 9);
  push_words(L, "argv", c->argv, c->argc);
  push_words(L, "assigns", c->assigns, c->nassigns);
  lua_createtable(L, c->nredirs > 0x7FFFFFF ? 0 : (int)c->nredirs, 0);
  for (i = 0; i < c->nredirs; i++) {
    push_redir(L, &c->redirs[i]);
    lua_rawseti(L, -2, (lua_Integer)i + 1);
  }
  lua_setfield(L, -2, "redirs");
  set_int(L, "offset", c->offset);
  set_int(L, "len", c->len);
  lua_pushstring(L, c->sep);
  lua_setfield(L, -2, "sep");
  set_int(L, "pipeline", c->pipeline);
  set_int(L, "depth", c->depth);
  set_bool(L, "subst", c->in_substitution != 0);
}

static int l_parse(lua_State *L)
{
  size_t len, i;
  const char *text = luaL_checklstring(L, 1, &len);
  mlg_sh_script **box, *s;
  mlg_err e;

  box = lua_newuserdatauv(L, sizeof *box, 0);
  *box = NULL;
  luaL_setmetatable(L, SCRIPT_MT);
  mlg_err_clear(&e);
  if (mlg_sh_parse(box, text, len, &e) != 0) {
    luaL_pushfail(L);
    lua_pushstring(L, e.msg);
    return 2;
  }
  s = *box;
  lua_createtable(L, 0, 2);
  lua_createtable(L, s->ncmds > 0x7FFFFFF ? 0 : (int)s->ncmds, 0);
  for (i = 0; i < s->ncmds; i++) {
    push_cmd(L, &s->cmds[i]);
    lua_rawseti(L, -2, (lua_Integer)i + 1);
  }
  lua_setfield(L, -2, "cmds");
  if (s->error) {
    lua_createtable(L, 0, 2);
    set_int(L, "offset", s->error_offset);
    lua_pushstring(L, s->error_msg);
    lua_setfield(L, -2, "message");
    lua_setfield(L, -2, "error");
  }
  mlg_sh_free(s);
  *box = NULL;
  return 1;
}

void mlg_lua_open_shell(lua_State *L)
{
  static const luaL_Reg fns[] = {{"parse", l_parse}, {NULL, NULL}};
  if (luaL_newmetatable(L, SCRIPT_MT)) {
    lua_pushcfunction(L, script_gc);
    lua_setfield(L, -2, "__gc");
    lua_pushboolean(L, 0);
    lua_setfield(L, -2, "__metatable");
  }
  lua_pop(L, 1);
  luaL_newlib(L, fns);
  lua_setfield(L, -2, "shell");
}
