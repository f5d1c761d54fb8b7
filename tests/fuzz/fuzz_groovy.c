/*
 * libFuzzer harness for mlg_groovy_lex: on failure a located message; on
 * success tokens in file order inside the input, brackets matched both
 * ways, string maps ascending within their text, parts inside their
 * string and comments inside the input.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "groovy.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
  mlg_groovy *g = NULL;
  mlg_err err = {0};
  size_t i, k;
  uint32_t prev_end = 0;
  int rc = mlg_groovy_lex(&g, (const char *)data, size, "f.groovy", &err);

  if (rc) {
    if (g || strncmp(err.msg, "f.groovy:", 9) != 0)
      abort();
    if (rc != MLG_EPARSE && rc != MLG_ELIMIT)
      abort();
    return 0;
  }
  if (!g->ntoks || g->toks[g->ntoks - 1].kind != MLG_GT_EOF)
    abort();
  for (i = 0; i < g->ntoks; i++) {
    const mlg_gtok *t = &g->toks[i];
    if (t->off < prev_end || t->end_off < t->off || t->end_off > size || t->line < 1 ||
        t->col < 1)
      abort();
    prev_end = t->end_off;
    if (t->kind == MLG_GT_OP && t->len == 1 && t->text[0] && strchr("([{}])", t->text[0]) &&
        (t->match >= g->ntoks || g->toks[t->match].match != i))
      abort();
    if (t->kind != MLG_GT_STRING)
      continue;
    if (!t->str || !t->str->nmap || t->str->map[0].t != 0 || t->text[t->len] != '\0')
      abort();
    for (k = 0; k < t->str->nmap; k++) {
      const mlg_gpos *p = &t->str->map[k];
      if (p->t > t->len || (k && p->t <= t->str->map[k - 1].t) || p->off < t->off ||
          p->off > t->end_off || p->line < t->line)
        abort();
    }
    for (k = 0; k < t->str->nparts; k++) {
      const mlg_gpart *p = &t->str->parts[k];
      if (p->t_end > t->len || p->t >= p->t_end || p->expr + p->expr_len > p->t_end ||
          p->off < t->off || p->end_off > t->end_off || t->text[p->t] != '$' ||
          (k && p->t < t->str->parts[k - 1].t_end))
        abort();
    }
  }
  for (i = 0; i < g->ncomments; i++)
    if (g->comments[i].end_off > size || g->comments[i].text + g->comments[i].len >
                                             (const char *)data + size)
      abort();
  mlg_groovy_free(g);
  return 0;
}
