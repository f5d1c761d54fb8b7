/*
 * Fuzzes the shell lexer. Besides crashes, leaks and hangs it checks what
 * the header promises: every span lies inside the script, words lie inside
 * their command, separators are one of the listed ones, a malformed script
 * keeps only commands before its error, nesting stays within the limit,
 * top-level commands come in source order without overlapping, and a
 * top-level word without quotes, expansions or backslashes is its raw text.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "shlex.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static void check_word(const mlg_sh_word *w, const mlg_sh_cmd *c, const uint8_t *data,
                       size_t size)
{
  if (!w->text || w->offset > size || w->len > size - w->offset)
    abort();
  if (w->offset < c->offset || w->offset + w->len > c->offset + c->len)
    abort();
  if (w->flags & ~15u)
    abort();
  /* backquote bodies are unescaped before they are lexed: depth 0 only */
  if (c->depth == 0 && (w->flags & ~(unsigned)MLG_SHW_GLOB) == 0 &&
      !memchr(data + w->offset, '\\', w->len) && !memchr(data + w->offset, 0, w->len) &&
      (strlen(w->text) != w->len || memcmp(w->text, data + w->offset, w->len) != 0))
    abort();
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
  static const char *const seps[] = {"|", "|&", "&&", "||", ";", "&", "\n", ""};
  mlg_sh_script *s = NULL;
  mlg_err err;
  size_t i, j, k, top_end = 0;
  int rc = mlg_sh_parse(&s, (const char *)data, size, &err);

  if (rc != 0) {
    if (s || (rc != MLG_ELIMIT && rc != MLG_ENOMEM))
      abort();
    return 0;
  }
  if (!s || (s->error && s->error != MLG_EPARSE) || (s->error && s->error_offset > size))
    abort();
  if (s->error && !s->error_msg[0])
    abort();
  for (i = 0; i < s->ncmds; i++) {
    const mlg_sh_cmd *c = &s->cmds[i];
    int ok = 0;
    if (c->offset > size || c->len > size - c->offset)
      abort();
    if (c->argc + c->nassigns + c->nredirs == 0 || c->depth > 64 || c->pipeline >= s->ncmds)
      abort();
    if (s->error && c->offset >= s->error_offset)
      abort();
    if (c->depth == 0 && c->in_substitution)
      abort();
    if (c->depth == 0) {
      if (c->offset < top_end)
        abort();
      top_end = c->offset + c->len;
    }
    for (k = 0; k < sizeof seps / sizeof seps[0]; k++)
      ok |= strcmp(c->sep, seps[k]) == 0;
    if (!ok)
      abort();
    for (j = 0; j < c->argc; j++)
      check_word(&c->argv[j], c, data, size);
    for (j = 0; j < c->nassigns; j++)
      check_word(&c->assigns[j], c, data, size);
    for (j = 0; j < c->nredirs; j++) {
      const mlg_sh_redirect *r = &c->redirs[j];
      check_word(&r->target, c, data, size);
      if (!r->op[0] || r->fd < -1)
        abort();
      if (r->heredoc &&
          (strncmp(r->op, "<<", 2) != 0 || r->heredoc_offset > size ||
           strlen(r->heredoc) > size - r->heredoc_offset))
        abort();
    }
  }
  mlg_sh_free(s);
  return 0;
}
