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
#include <stdlib.h>
#include <string.h>

#include <lauxlib.h>

#include "lua_api_shell.h"
#include "lua_memo.h"
#include "node.h"
#include "shlex.h"

/* The script as a document, so that it can be kept in the memo and handed
 * to every policy that asks for the same text as lazy tables (a `run:`
 * script is typically parsed by a dozen policies). Returns NULL when out
 * of memory. */
typedef struct builder {
  mlg_doc *doc;
  int bad;
} builder;

static mlg_node *map_new(builder *b)
{
  mlg_node *n = mlg_node_map(b->doc);
  b->bad |= !n;
  return n;
}

static void set_int(builder *b, mlg_node *m, const char *k, size_t v)
{
  if (m)
    b->bad |= mlg_map_set_int(b->doc, m, k, (int64_t)v) != 0;
}

static void set_bool(builder *b, mlg_node *m, const char *k, int v)
{
  if (m)
    b->bad |= mlg_map_set_bool(b->doc, m, k, v != 0) != 0;
}

static void set_str(builder *b, mlg_node *m, const char *k, const char *v)
{
  if (m)
    b->bad |= mlg_map_set_str(b->doc, m, k, v) != 0;
}

static void set(builder *b, mlg_node *m, const char *k, mlg_node *v)
{
  if (m && v)
    b->bad |= mlg_map_set(b->doc, m, k, v) != 0;
  else
    b->bad = 1;
}

static void push(builder *b, mlg_node *seq, mlg_node *v)
{
  if (seq && v)
    b->bad |= mlg_seq_push(b->doc, seq, v) != 0;
  else
    b->bad = 1;
}

static mlg_node *word(builder *b, const mlg_sh_word *w)
{
  mlg_node *m = map_new(b);
  set_str(b, m, "text", w->text ? w->text : "");
  set_int(b, m, "offset", w->offset);
  set_int(b, m, "len", w->len);
  set_bool(b, m, "quoted", w->flags & MLG_SHW_QUOTED);
  set_bool(b, m, "expansion", w->flags & MLG_SHW_EXPANSION);
  set_bool(b, m, "template", w->flags & MLG_SHW_TEMPLATE);
  set_bool(b, m, "glob", w->flags & MLG_SHW_GLOB);
  return m;
}

static mlg_node *words(builder *b, const mlg_sh_word *w, size_t n)
{
  mlg_node *seq = mlg_node_seq(b->doc);
  size_t i;
  b->bad |= !seq;
  for (i = 0; i < n && !b->bad; i++)
    push(b, seq, word(b, &w[i]));
  return seq;
}

static mlg_node *redir(builder *b, const mlg_sh_redirect *r)
{
  mlg_node *m = map_new(b);
  if (r->fd >= 0)
    set_int(b, m, "fd", (size_t)r->fd);
  set_str(b, m, "op", r->op);
  set(b, m, "target", word(b, &r->target));
  if (r->heredoc) {
    set_str(b, m, "heredoc", r->heredoc);
    set_int(b, m, "heredoc_offset", r->heredoc_offset);
  }
  return m;
}

static mlg_node *cmd(builder *b, const mlg_sh_cmd *c)
{
  mlg_node *m = map_new(b), *rs = mlg_node_seq(b->doc);
  size_t i;
  b->bad |= !rs;
  set(b, m, "argv", words(b, c->argv, c->argc));
  set(b, m, "assigns", words(b, c->assigns, c->nassigns));
  for (i = 0; i < c->nredirs && !b->bad; i++)
    push(b, rs, redir(b, &c->redirs[i]));
  set(b, m, "redirs", rs);
  set_int(b, m, "offset", c->offset);
  set_int(b, m, "len", c->len);
  set_str(b, m, "sep", c->sep);
  set_int(b, m, "pipeline", c->pipeline);
  set_int(b, m, "depth", c->depth);
  set_bool(b, m, "subst", c->in_substitution);
  return m;
}

static mlg_doc *script_doc(const mlg_sh_script *s)
{
  builder b = {mlg_doc_new("script"), 0};
  mlg_node *root, *cmds;
  size_t i;

  if (!b.doc)
    return NULL;
  root = map_new(&b);
  cmds = mlg_node_seq(b.doc);
  b.bad |= !cmds;
  for (i = 0; i < s->ncmds && !b.bad; i++)
    push(&b, cmds, cmd(&b, &s->cmds[i]));
  set(&b, root, "cmds", cmds);
  if (s->error) {
    mlg_node *e = map_new(&b);
    set_int(&b, e, "offset", s->error_offset);
    set_str(&b, e, "message", s->error_msg);
    set(&b, root, "error", e);
  }
  if (b.bad || !root) {
    mlg_doc_free(b.doc);
    return NULL;
  }
  b.doc->root = root;
  return b.doc;
}

/* mlgate.shell.parse(text) -> script | nil, err. The same text gives the
 * same (shared, lazily converted) result to every policy of the process. */
static int l_parse(lua_State *L)
{
  size_t len;
  const char *text = luaL_checklstring(L, 1, &len);
  mlg_sh_script *s = NULL;
  mlg_memo *m;
  mlg_doc *doc;
  char *error = NULL;
  mlg_err e;

  if (!(m = mlg_memo_get('S', text, len))) {
    mlg_err_clear(&e);
    if (mlg_sh_parse(&s, text, len, &e) != 0) {
      if (!(error = strdup(e.msg)))
        return luaL_error(L, "not enough memory");
      doc = NULL;
    } else {
      doc = script_doc(s);
      mlg_sh_free(s);
      if (!doc)
        return luaL_error(L, "not enough memory");
    }
    if (!(m = mlg_memo_put('S', text, len, doc, error)))
      return luaL_error(L, "not enough memory");
  }
  if (!m->doc) {
    luaL_pushfail(L);
    lua_pushstring(L, m->error ? m->error : "cannot parse the script");
    mlg_memo_release(m);
    return 2;
  }
  mlg_lua_memo_push(L, m);
  return 1;
}

void mlg_lua_open_shell(lua_State *L)
{
  static const luaL_Reg fns[] = {{"parse", l_parse}, {NULL, NULL}};
  luaL_newlib(L, fns);
  lua_setfield(L, -2, "shell");
}
