/*
 * Jenkinsfile loader (see jenkins.h): the entry point, the model's top,
 * and what the declarative and scripted readers share: reading calls and
 * arguments off the token list, value objects, expressions, jobs.
 *
 * The readers never fail on Groovy they do not know: the tokenizer has
 * already matched every bracket, so anything unknown is one group or one
 * statement to skip, with a note.
 */
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "jenkins.h"

/* --- tokens ------------------------------------------------------------------ */

int mlg_jk_is(const mlg_jk *jk, size_t i, const char *s)
{
  return i < jk->n && mlg_groovy_is(&jk->t[i], s);
}

static const char *const keywords[] = {
    "def",     "if",      "else",      "for",    "while",   "do",       "switch",
    "case",    "default", "try",       "catch",  "finally", "return",   "throw",
    "new",     "import",  "package",   "class",  "interface", "enum",   "trait",
    "extends", "implements", "static", "final",  "private", "public",   "protected",
    "abstract", "synchronized", "void", "in",    "instanceof", "as",    "assert",
    "break",   "continue", "true",     "false",  "null",    "this",     "super",
    "var",     NULL};

int mlg_jk_is_kw(const mlg_jk *jk, size_t i)
{
  size_t k;
  if (i >= jk->n || jk->t[i].kind != MLG_GT_IDENT)
    return 0;
  for (k = 0; keywords[k]; k++)
    if (mlg_groovy_is(&jk->t[i], keywords[k]))
      return 1;
  return 0;
}

static int is_op1(const mlg_jk *jk, size_t i, char c)
{
  return i < jk->n && jk->t[i].kind == MLG_GT_OP && jk->t[i].len == 1 && jk->t[i].text[0] == c;
}

static int is_dot(const mlg_jk *jk, size_t i)
{
  return mlg_jk_is(jk, i, ".") || mlg_jk_is(jk, i, "?.");
}

static int is_opener(const mlg_jk *jk, size_t i)
{
  return is_op1(jk, i, '(') || is_op1(jk, i, '[') || is_op1(jk, i, '{');
}

static int is_closer(const mlg_jk *jk, size_t i)
{
  return is_op1(jk, i, ')') || is_op1(jk, i, ']') || is_op1(jk, i, '}');
}

/* The token after the group opened at i, at most b. */
static size_t skip_group(const mlg_jk *jk, size_t i, size_t b)
{
  size_t m = jk->t[i].match;
  return m > i && m < b ? m + 1 : b;
}

const char *mlg_jk_text(const mlg_jk *jk, size_t i, size_t *len)
{
  *len = jk->t[i].len;
  return jk->t[i].text;
}

/* Whether a statement continues onto the line of token j. */
static int continues(const mlg_jk *jk, size_t j)
{
  static const char *const tail[] = {",", "+", "-", "*", "/", "&&", "||", "?", ":", "=",
                                     ".", "?.", "->", "==", "!=", "+=", "<<", NULL};
  static const char *const head[] = {".", "?.", "*.", "?:", "&&", "||", NULL};
  size_t k;
  if (jk->t[j - 1].kind == MLG_GT_OP)
    for (k = 0; tail[k]; k++)
      if (mlg_groovy_is(&jk->t[j - 1], tail[k]))
        return 1;
  if (jk->t[j].kind == MLG_GT_OP)
    for (k = 0; head[k]; k++)
      if (mlg_groovy_is(&jk->t[j], head[k]))
        return 1;
  return 0;
}

/* Every token a scan from i passes at its level ends at the same place, so
 * ends are remembered for all of them: `a b c d ...` (each word a command
 * call of the next) stays linear. */
size_t mlg_jk_stmt_end(const mlg_jk *jk, size_t i, size_t b)
{
  size_t j = i, lim = jk->n - 1, k;
  if (i >= b)
    return b;
  if (!jk->send[i]) {
    while (j < lim) {
      if (j > i && jk->t[j].nl && !continues(jk, j))
        break;
      if (is_op1(jk, j, ';') || is_closer(jk, j))
        break;
      j = is_opener(jk, j) ? skip_group(jk, j, lim) : j + 1;
    }
    for (k = i; k < j; k = is_opener(jk, k) ? skip_group(jk, k, lim) : k + 1)
      jk->send[k] = (uint32_t)j;
  }
  j = jk->send[i] ? jk->send[i] : i;
  return j < b ? j : b;
}

size_t mlg_jk_next_comma(const mlg_jk *jk, size_t i, size_t b)
{
  while (i < b && !is_op1(jk, i, ','))
    i = is_opener(jk, i) ? skip_group(jk, i, b) : i + 1;
  return i < b ? i : b;
}

/* A token that can start a command argument (`sh 'x'`, `agent any`). */
static int arg_start(const mlg_jk *jk, size_t i, size_t b)
{
  const mlg_gtok *t = &jk->t[i];
  if (i >= b || t->nl)
    return 0;
  if (t->kind == MLG_GT_STRING || t->kind == MLG_GT_NUMBER)
    return 1;
  if (t->kind != MLG_GT_IDENT)
    return 0;
  if (mlg_jk_is(jk, i, "true") || mlg_jk_is(jk, i, "false") || mlg_jk_is(jk, i, "null") ||
      mlg_jk_is(jk, i, "this"))
    return 1;
  if (mlg_jk_is_kw(jk, i))
    return 0;
  /* `Type name = ...` and `a b = c` are declarations, not calls */
  return !is_op1(jk, i + 1, '=');
}

/* End of command arguments from j (`sh 'x'`, `sh script: 'x', label: y`,
 * `parallel a: { }, b: { }`): expressions separated by commas. Two
 * operands in a row end them, as Groovy reads `a b c d` as `a(b).c(d)`,
 * so nested command calls scan disjoint tokens. */
static size_t cmd_end(const mlg_jk *jk, size_t j, size_t b)
{
  size_t k = j;
  int want = 1; /* an operand is expected */
  while (k < b) {
    const mlg_gtok *t = &jk->t[k];
    if (k > j && t->nl && !continues(jk, k))
      break;
    if (is_op1(jk, k, ';') || is_closer(jk, k))
      break;
    if (is_opener(jk, k)) {
      k = skip_group(jk, k, b);
      want = 0;
    } else if (t->kind != MLG_GT_OP) {
      if (!want)
        break;
      if (k + 1 < b && is_op1(jk, k + 1, ':') && t->kind != MLG_GT_NUMBER) {
        k += 2; /* name: value */
        continue;
      }
      k++;
      want = 0;
    } else {
      k++;
      want = 1;
    }
  }
  return k;
}

int mlg_jk_call_at(const mlg_jk *jk, size_t i, size_t b, mlg_jk_call *c)
{
  const mlg_gtok *t = &jk->t[i];
  size_t j = i + 1;

  if (i >= b || t->kind != MLG_GT_IDENT || mlg_jk_is_kw(jk, i))
    return -1;
  memset(c, 0, sizeof *c);
  c->name = i;
  c->first = i;
  c->paren = c->closure = MLG_JK_NONE;
  c->args_a = c->args_b = i + 1;
  while (c->first >= 2 && is_dot(jk, c->first - 1) && jk->t[c->first - 2].kind == MLG_GT_IDENT)
    c->first -= 2;
  if (j < b && is_op1(jk, j, '(')) {
    c->paren = j;
    c->args_a = j + 1;
    j = skip_group(jk, j, b);
    c->args_b = j - 1;
    if (j < b && is_op1(jk, j, '{') && !jk->t[j].nl) {
      c->closure = j;
      j = skip_group(jk, j, b);
    }
  } else if (j < b && is_op1(jk, j, '{') && !jk->t[j].nl) {
    c->closure = j;
    j = skip_group(jk, j, b);
  } else if (arg_start(jk, j, b) && !(t->text[0] >= 'A' && t->text[0] <= 'Z')) {
    /* Capitalised names are types (`Map args`), not commands. */
    c->args_a = j;
    j = cmd_end(jk, j, b);
    c->args_b = j;
  } else {
    return -1;
  }
  c->end = j;
  return 0;
}

/* The value tokens of one argument [p, q): its name when named. */
static int split_arg(const mlg_jk *jk, size_t p, size_t q, size_t *name, size_t *va)
{
  if (q > p + 1 && is_op1(jk, p + 1, ':') &&
      (jk->t[p].kind == MLG_GT_IDENT || jk->t[p].kind == MLG_GT_STRING)) {
    *name = p;
    *va = p + 2;
    return 1;
  }
  *name = MLG_JK_NONE;
  *va = p;
  return 0;
}

int mlg_jk_arg(const mlg_jk *jk, size_t a, size_t b, const char *name, size_t *va,
               size_t *vb)
{
  size_t p = a, q, nm, v;
  while (p < b) {
    q = mlg_jk_next_comma(jk, p, b);
    if (split_arg(jk, p, q, &nm, &v)) {
      if (*name && jk->t[nm].len == strlen(name) && !memcmp(jk->t[nm].text, name, jk->t[nm].len)) {
        *va = v;
        *vb = q;
        return 0;
      }
    } else if (!*name && q > p) {
      *va = v;
      *vb = q;
      return 0;
    }
    p = q + 1;
  }
  return -1;
}

size_t mlg_jk_str1(const mlg_jk *jk, size_t a, size_t b)
{
  return b == a + 1 && a < jk->n && jk->t[a].kind == MLG_GT_STRING ? a : MLG_JK_NONE;
}

/* --- values ------------------------------------------------------------------ */

static mlg_pl_atom style_atom(int style)
{
  switch (style) {
  case MLG_GS_SINGLE: return MLG_A_V_SINGLE;
  case MLG_GS_DOUBLE: return MLG_A_V_DOUBLE;
  case MLG_GS_TRIPLE_SINGLE: return MLG_A_J_TRIPLE_SINGLE;
  case MLG_GS_TRIPLE_DOUBLE: return MLG_A_J_TRIPLE_DOUBLE;
  case MLG_GS_SLASHY: return MLG_A_J_SLASHY;
  default: return MLG_A_J_DOLLAR_SLASHY;
  }
}

static size_t close_len(int style)
{
  switch (style) {
  case MLG_GS_TRIPLE_SINGLE: case MLG_GS_TRIPLE_DOUBLE: return 3;
  case MLG_GS_DOLLAR_SLASHY: return 2;
  default: return 1;
  }
}

/* File position of text offset x of string token t. */
static mlg_gpos str_pos(const mlg_gtok *t, size_t x)
{
  const mlg_gstr *s = t->str;
  size_t lo = 0, hi = s->nmap, i;
  mlg_gpos r;
  while (hi - lo > 1) {
    size_t mid = lo + (hi - lo) / 2;
    if (s->map[mid].t <= x)
      lo = mid;
    else
      hi = mid;
  }
  r = s->map[lo];
  for (i = r.t; i < x && i < t->len; i++) {
    if (((unsigned char)t->text[i] & 0xC0) != 0x80)
      r.col++;
    r.off++;
  }
  r.t = (uint32_t)x;
  return r;
}

mlg_node *mlg_jk_val_sub(mlg_jk *jk, size_t i, size_t from, size_t to)
{
  mlg_pl *pl = &jk->pl;
  const mlg_gtok *t = &jk->t[i];
  mlg_gpos a = str_pos(t, from);
  size_t end = to >= t->len ? t->end_off - close_len(t->style) : str_pos(t, to).off, k, np = 1;
  mlg_node *o, *map;

  if (pl->rc || !(o = mlg_pl_map(pl, 7)))
    return NULL;
  if (end < a.off)
    end = a.off;
  mlg_pl_set(pl, o, MLG_A_TEXT, mlg_pl_str(pl, t->text + from, to - from));
  mlg_pl_set_int(pl, o, MLG_A_LINE, a.line);
  mlg_pl_set_int(pl, o, MLG_A_COL, a.col);
  mlg_pl_set_int(pl, o, MLG_A_OFFSET, a.off);
  mlg_pl_set_int(pl, o, MLG_A_END_OFFSET, (int64_t)end);
  mlg_pl_set_atom(pl, o, MLG_A_STYLE, style_atom(t->style));
  for (k = 0; k < t->str->nmap; k++)
    np += t->str->map[k].t > from && t->str->map[k].t < to;
  if (np > 1 && (map = mlg_pl_seq(pl, np * 3))) {
    mlg_pl_push(pl, map, mlg_pl_int(pl, 0));
    mlg_pl_push(pl, map, mlg_pl_int(pl, a.line));
    mlg_pl_push(pl, map, mlg_pl_int(pl, a.col));
    for (k = 0; k < t->str->nmap; k++) {
      const mlg_gpos *p = &t->str->map[k];
      if (p->t <= from || p->t >= to)
        continue;
      mlg_pl_push(pl, map, mlg_pl_int(pl, (int64_t)(p->t - from)));
      mlg_pl_push(pl, map, mlg_pl_int(pl, p->line));
      mlg_pl_push(pl, map, mlg_pl_int(pl, p->col));
    }
    mlg_pl_set(pl, o, MLG_A_MAP, map);
  }
  return pl->rc ? NULL : o;
}

mlg_node *mlg_jk_val(mlg_jk *jk, size_t a, size_t b)
{
  mlg_pl *pl = &jk->pl;
  const mlg_gtok *t;
  mlg_node *o;
  size_t off, end;

  if (pl->rc || a >= b || b > jk->n)
    return NULL;
  t = &jk->t[a];
  if (b == a + 1 && t->kind == MLG_GT_STRING)
    return mlg_jk_val_sub(jk, a, 0, t->len);
  if (!(o = mlg_pl_map(pl, 6)))
    return NULL;
  off = t->off;
  end = jk->t[b - 1].end_off;
  if (end - off > MLG_JK_MAX_CODE)
    end = off + MLG_JK_MAX_CODE;
  mlg_pl_set(pl, o, MLG_A_TEXT, mlg_pl_str(pl, jk->pl.text + off, end - off));
  mlg_pl_set_int(pl, o, MLG_A_LINE, t->line);
  mlg_pl_set_int(pl, o, MLG_A_COL, t->col);
  mlg_pl_set_int(pl, o, MLG_A_OFFSET, (int64_t)off);
  mlg_pl_set_int(pl, o, MLG_A_END_OFFSET, (int64_t)end);
  if (b == a + 1 && (t->kind == MLG_GT_NUMBER || mlg_jk_is(jk, a, "true") ||
                     mlg_jk_is(jk, a, "false") || mlg_jk_is(jk, a, "null")))
    mlg_pl_set_atom(pl, o, MLG_A_STYLE, MLG_A_V_PLAIN);
  else
    mlg_pl_set_atom(pl, o, MLG_A_STYLE, MLG_A_J_CODE);
  return pl->rc ? NULL : o;
}

mlg_node *mlg_jk_tokstr(mlg_jk *jk, size_t i)
{
  return mlg_pl_str(&jk->pl, jk->t[i].text, jk->t[i].len);
}

mlg_node *mlg_jk_image(mlg_jk *jk, size_t tok)
{
  mlg_pl *pl = &jk->pl;
  const mlg_gtok *t = &jk->t[tok];
  mlg_gpos a;
  mlg_node *o;
  const char *s = t->text;
  size_t n = t->len, lead = 0;

  if (pl->rc || t->kind != MLG_GT_STRING || !(o = mlg_pl_map(pl, 8)))
    return NULL;
  while (n && (s[0] == ' ' || s[0] == '\t'))
    s++, n--, lead++;
  while (n && (s[n - 1] == ' ' || s[n - 1] == '\t' || s[n - 1] == '\n'))
    n--;
  a = str_pos(t, lead);
  mlg_pl_set(pl, o, MLG_A_RAW, mlg_pl_str(pl, s, n));
  mlg_pl_set_int(pl, o, MLG_A_LINE, a.line);
  mlg_pl_set_int(pl, o, MLG_A_COL, a.col);
  mlg_pl_image_parts(pl, o, s, n, t->str->nparts > 0);
  return pl->rc ? NULL : o;
}

/* --- expressions ------------------------------------------------------------- */

static void expr_keep(mlg_jk *jk, size_t off, mlg_node *node)
{
  if (jk->pl.rc || !node)
    return;
  if (jk->nexprs == jk->capexprs) {
    size_t ncap = jk->capexprs ? jk->capexprs * 2 : 32;
    mlg_jk_expr *e = realloc(jk->exprs, ncap * sizeof *e);
    if (!e) {
      mlg_pl_oom(&jk->pl);
      return;
    }
    jk->exprs = e;
    jk->capexprs = ncap;
  }
  jk->exprs[jk->nexprs].off = off;
  jk->exprs[jk->nexprs].seq = jk->nexprs;
  jk->exprs[jk->nexprs].node = node;
  jk->nexprs++;
}

static const char *ctx_route(const mlg_jk_ctx *cx)
{
  if (cx && cx->job)
    return cx->job->route;
  return cx && cx->section ? cx->section : "";
}

void mlg_jk_exprs(mlg_jk *jk, size_t i, mlg_pl_atom field, const char *key,
                  const mlg_jk_ctx *cx, const char *route, size_t step)
{
  mlg_pl *pl = &jk->pl;
  const mlg_gtok *t = &jk->t[i];
  mlg_node *rn = NULL;
  uint32_t k;

  if (pl->rc || t->kind != MLG_GT_STRING || jk->done[i])
    return;
  jk->done[i] = 1;
  if (!t->str->nparts)
    return;
  rn = mlg_pl_str(pl, route ? route : ctx_route(cx), strlen(route ? route : ctx_route(cx)));
  for (k = 0; k < t->str->nparts && !pl->rc; k++) {
    const mlg_gpart *p = &t->str->parts[k];
    mlg_node *o = mlg_pl_map(pl, 14);
    mlg_pl_set(pl, o, MLG_A_TEXT, mlg_pl_str(pl, t->text + p->expr, p->expr_len));
    mlg_pl_set_int(pl, o, MLG_A_LINE, p->line);
    mlg_pl_set_int(pl, o, MLG_A_COL, p->col);
    mlg_pl_set_int(pl, o, MLG_A_END_LINE, p->end_line);
    mlg_pl_set_int(pl, o, MLG_A_END_COL, p->end_col);
    mlg_pl_set_int(pl, o, MLG_A_OFFSET, p->off);
    mlg_pl_set_int(pl, o, MLG_A_END_OFFSET, p->end_off);
    mlg_pl_set_atom(pl, o, MLG_A_FIELD, field);
    if (key)
      mlg_pl_set(pl, o, MLG_A_KEY, mlg_pl_str(pl, key, strlen(key)));
    mlg_pl_set(pl, o, MLG_A_ROUTE, rn);
    if (cx && cx->job)
      mlg_pl_set(pl, o, MLG_A_JOB, cx->job->id);
    if (step)
      mlg_pl_set_int(pl, o, MLG_A_STEP, (int64_t)step);
    mlg_pl_set_atom(pl, o, MLG_A_J_SYNTAX, MLG_A_J_GROOVY);
    mlg_pl_set_bool(pl, o, MLG_A_J_BRACED, p->braced);
    expr_keep(jk, p->off, o);
  }
}

void mlg_jk_exprs_range(mlg_jk *jk, size_t a, size_t b, mlg_pl_atom field,
                        const mlg_jk_ctx *cx)
{
  size_t i;
  for (i = a; i < b && i < jk->n && !jk->pl.rc; i++)
    if (jk->t[i].kind == MLG_GT_STRING && !jk->done[i])
      mlg_jk_exprs(jk, i, field, NULL, cx, NULL, 0);
}

static int expr_cmp(const void *a, const void *b)
{
  const mlg_jk_expr *x = a, *y = b;
  if (x->off != y->off)
    return x->off < y->off ? -1 : 1;
  return x->seq < y->seq ? -1 : x->seq > y->seq;
}

/* --- objects ----------------------------------------------------------------- */

void mlg_jk_set_pos(mlg_jk *jk, mlg_node *obj, size_t tok)
{
  mlg_pl_set_int(&jk->pl, obj, MLG_A_LINE, jk->t[tok].line);
  mlg_pl_set_int(&jk->pl, obj, MLG_A_COL, jk->t[tok].col);
}

void mlg_jk_note(mlg_jk *jk, size_t at, const char *fmt, ...)
{
  mlg_pl *pl = &jk->pl;
  char msg[256];
  va_list ap;
  mlg_node *o;

  if (pl->rc || jk->nnotes >= MLG_JK_MAX_NOTES)
    return;
  jk->nnotes++;
  va_start(ap, fmt);
  vsnprintf(msg, sizeof msg, fmt, ap);
  va_end(ap);
  if ((o = mlg_pl_map(pl, 3))) {
    mlg_jk_set_pos(jk, o, at < jk->n ? at : jk->n - 1);
    mlg_pl_set(pl, o, MLG_A_TEXT, mlg_pl_str(pl, msg, strlen(msg)));
    mlg_pl_push(pl, jk->notes, o);
  }
}

char *mlg_jk_route(mlg_jk *jk, const char *parent, const char *kind, const char *name,
                   size_t nlen)
{
  mlg_buf b = MLG_BUF_INIT;
  size_t k;
  char *r = NULL;
  int bad = 0;

  if (parent && *parent)
    bad |= mlg_buf_puts(&b, parent) || mlg_buf_putc(&b, '.');
  bad |= mlg_buf_puts(&b, kind);
  if (name) {
    bad |= mlg_buf_puts(&b, "[\"");
    for (k = 0; k < nlen; k++) {
      if (name[k] == '"' || name[k] == '\\')
        bad |= mlg_buf_putc(&b, '\\');
      bad |= mlg_buf_putc(&b, name[k] == '\n' ? ' ' : name[k]);
    }
    bad |= mlg_buf_puts(&b, "\"]");
  }
  if (bad || !(r = mlg_doc_strndup(jk->pl.doc, b.ptr ? b.ptr : "", b.len)))
    mlg_pl_oom(&jk->pl);
  mlg_buf_free(&b);
  return r;
}

mlg_node *mlg_jk_concat(mlg_jk *jk, mlg_node *a, mlg_node *b)
{
  mlg_node *s;
  size_t i;
  if (!b || !b->u.seq.len)
    return a;
  if (!a || !a->u.seq.len)
    return b;
  if (!(s = mlg_pl_seq(&jk->pl, a->u.seq.len + b->u.seq.len)))
    return NULL;
  for (i = 0; i < a->u.seq.len; i++)
    mlg_pl_push(&jk->pl, s, a->u.seq.items[i]);
  for (i = 0; i < b->u.seq.len; i++)
    mlg_pl_push(&jk->pl, s, b->u.seq.items[i]);
  return s;
}

mlg_node *mlg_jk_reach(mlg_jk *jk, unsigned bits)
{
  static const struct {
    unsigned bit;
    mlg_pl_atom key;
  } r[] = {{MLG_JK_R_MR, MLG_A_J_MERGE_REQUEST}, {MLG_JK_R_FORK, MLG_A_J_FORK},
           {MLG_JK_R_BRANCH, MLG_A_J_BRANCH},    {MLG_JK_R_DEFAULT, MLG_A_J_DEFAULT_BRANCH},
           {MLG_JK_R_TAG, MLG_A_TAG},            {MLG_JK_R_SCHEDULE, MLG_A_SCHEDULE},
           {MLG_JK_R_MANUAL, MLG_A_J_MANUAL},    {MLG_JK_R_API, MLG_A_J_API},
           {MLG_JK_R_TRIGGER, MLG_A_J_TRIGGER}};
  mlg_node *o = mlg_pl_map(&jk->pl, 9);
  size_t k;
  for (k = 0; k < sizeof r / sizeof r[0]; k++)
    mlg_pl_set_bool(&jk->pl, o, r[k].key, (bits & r[k].bit) != 0);
  return o;
}

mlg_node *mlg_jk_runs_on(mlg_jk *jk, mlg_node *label, size_t at)
{
  mlg_node *o, *labels;
  if (!label || !(o = mlg_pl_map(&jk->pl, 3)) || !(labels = mlg_pl_seq(&jk->pl, 1)))
    return NULL;
  mlg_pl_push(&jk->pl, labels, label);
  mlg_pl_set(&jk->pl, o, MLG_A_LABELS, labels);
  mlg_jk_set_pos(jk, o, at);
  return o;
}

static int job_push(mlg_jk *jk, mlg_jk_job *j)
{
  if (jk->njobs == jk->capjobs) {
    size_t ncap = jk->capjobs ? jk->capjobs * 2 : 16;
    mlg_jk_job **p = realloc(jk->jobv, ncap * sizeof *p);
    if (!p)
      return mlg_pl_oom(&jk->pl);
    jk->jobv = p;
    jk->capjobs = ncap;
  }
  jk->jobv[jk->njobs++] = j;
  mlg_pl_push(&jk->pl, jk->jobs, j->obj);
  return jk->pl.rc;
}

mlg_jk_job *mlg_jk_job_make(mlg_jk *jk, const mlg_jk_ctx *cx, size_t at, mlg_node *id,
                            mlg_node *name, const char *route)
{
  mlg_pl *pl = &jk->pl;
  mlg_jk_job *j;
  size_t k;

  if (pl->rc || !route || !(j = mlg_doc_alloc(pl->doc, sizeof *j)) ||
      !(j->obj = mlg_pl_map(pl, 18))) {
    mlg_pl_oom(pl);
    return NULL;
  }
  j->id = id;
  j->route = (char *)route;
  j->steps = mlg_pl_seq(pl, 0);
  j->calls = mlg_pl_seq(pl, 0);
  j->creds = mlg_pl_seq(pl, 0);
  j->env = mlg_pl_seq(pl, 0);
  mlg_pl_set(pl, j->obj, MLG_A_ID, id);
  mlg_jk_set_pos(jk, j->obj, at);
  mlg_pl_set(pl, j->obj, MLG_A_ROUTE, mlg_pl_str(pl, route, strlen(route)));
  mlg_pl_set(pl, j->obj, MLG_A_PATH, mlg_pl_str(pl, pl->name, strlen(pl->name)));
  mlg_pl_set(pl, j->obj, MLG_A_NAME, name);
  mlg_pl_set(pl, j->obj, MLG_A_J_AGENT, cx->agent);
  mlg_pl_set(pl, j->obj, MLG_A_RUNS_ON, cx->runs_on);
  mlg_pl_set(pl, j->obj, MLG_A_CONTAINER, cx->container);
  mlg_pl_set(pl, j->obj, MLG_A_J_REACH, mlg_jk_reach(jk, cx->reach));
  for (k = 0; cx->env && k < cx->env->u.seq.len; k++)
    mlg_pl_push(pl, j->env, cx->env->u.seq.items[k]);
  for (k = 0; cx->creds && k < cx->creds->u.seq.len; k++)
    mlg_pl_push(pl, j->creds, cx->creds->u.seq.items[k]);
  mlg_pl_set(pl, j->obj, MLG_A_CREDENTIALS, j->creds);
  mlg_pl_set(pl, j->obj, MLG_A_STEPS, j->steps);
  mlg_pl_set(pl, j->obj, MLG_A_J_CALLS, j->calls);
  if (job_push(jk, j))
    return NULL;
  return pl->rc ? NULL : j;
}

mlg_jk_job *mlg_jk_job_new(mlg_jk *jk, const mlg_jk_ctx *cx, size_t at, size_t a, size_t b,
                           const char *route)
{
  size_t s = mlg_jk_str1(jk, a, b);
  mlg_node *id, *name = mlg_jk_val(jk, a, b);
  if (s != MLG_JK_NONE)
    id = mlg_jk_tokstr(jk, s);
  else if (name)
    id = mlg_map_get(name, "text") ? (mlg_node *)mlg_map_get(name, "text") : NULL;
  else
    id = mlg_pl_str(&jk->pl, "", 0);
  return mlg_jk_job_make(jk, cx, at, id, name, route);
}

mlg_jk_job *mlg_jk_job_of(mlg_jk *jk, mlg_jk_ctx *cx)
{
  char *route;
  if (cx->job)
    return cx->job;
  if (!jk->nostage) {
    route = mlg_jk_route(jk, NULL, "stages", "(no stage)", 10);
    jk->nostage = mlg_jk_job_make(jk, cx, 0, mlg_pl_atom_node(&jk->pl, MLG_A_J_NO_STAGE), NULL, route);
  }
  return jk->nostage;
}

mlg_node *mlg_jk_call_name(mlg_jk *jk, const mlg_jk_call *c)
{
  size_t a = c->first, e = c->name;
  int dot = a >= 1 && is_dot(jk, a - 1) && a >= 2 &&
            (is_op1(jk, a - 2, ')') || is_op1(jk, a - 2, ']'));
  mlg_buf b = MLG_BUF_INIT;
  mlg_node *r;
  size_t i;
  int bad = dot ? mlg_buf_putc(&b, '.') : 0;
  for (i = a; i <= e; i++)
    bad |= mlg_buf_put(&b, jk->t[i].text, jk->t[i].len);
  r = bad ? NULL : mlg_pl_str(&jk->pl, b.ptr ? b.ptr : "", b.len);
  if (bad)
    mlg_pl_oom(&jk->pl);
  mlg_buf_free(&b);
  return r;
}

mlg_node *mlg_jk_args(mlg_jk *jk, const mlg_jk_call *c, mlg_pl_atom field,
                      const mlg_jk_ctx *cx)
{
  mlg_pl *pl = &jk->pl;
  mlg_node *seq = mlg_pl_seq(pl, 0);
  size_t p = c->args_a, q, nm, v;

  while (p < c->args_b && !pl->rc) {
    mlg_node *o;
    q = mlg_jk_next_comma(jk, p, c->args_b);
    split_arg(jk, p, q, &nm, &v);
    if (q > v && (o = mlg_pl_map(pl, 2))) {
      if (nm != MLG_JK_NONE)
        mlg_pl_set(pl, o, MLG_A_NAME, mlg_jk_tokstr(jk, nm));
      mlg_pl_set(pl, o, MLG_A_VALUE, mlg_jk_val(jk, v, q));
      mlg_pl_push(pl, seq, o);
    }
    mlg_jk_exprs_range(jk, p, q, field, cx);
    p = q + 1;
  }
  return seq;
}

void mlg_jk_record_call(mlg_jk *jk, const mlg_jk_call *c, mlg_jk_ctx *cx, mlg_pl_atom field)
{
  mlg_pl *pl = &jk->pl;
  mlg_jk_job *j = mlg_jk_job_of(jk, cx);
  mlg_jk_ctx jc = *cx;
  mlg_node *o;
  if (!j || !(o = mlg_pl_map(pl, 4)))
    return;
  jc.job = j;
  mlg_pl_set(pl, o, MLG_A_NAME, mlg_jk_call_name(jk, c));
  mlg_jk_set_pos(jk, o, c->name);
  mlg_pl_set(pl, o, MLG_A_ARGS, mlg_jk_args(jk, c, field, &jc));
  mlg_pl_push(pl, j->calls, o);
}

/* --- the model ---------------------------------------------------------------- */

static void finish(mlg_jk *jk)
{
  mlg_pl *pl = &jk->pl;
  mlg_node *m = jk->model, *seq;
  size_t i;

  /* Strings no reader claimed: their expressions still count. */
  for (i = 0; i < jk->n && !pl->rc; i++)
    if (jk->t[i].kind == MLG_GT_STRING && !jk->done[i])
      mlg_jk_exprs(jk, i, MLG_A_F_OTHER, NULL, NULL, "", 0);
  for (i = 0; i < jk->njobs; i++)
    if (jk->jobv[i]->env->u.seq.len)
      mlg_pl_set(pl, jk->jobv[i]->obj, MLG_A_ENV, jk->jobv[i]->env);
  mlg_pl_set_atom(pl, m, MLG_A_STYLE, jk->declarative ? MLG_A_J_DECLARATIVE : MLG_A_J_SCRIPTED);
  mlg_pl_set(pl, m, MLG_A_J_LIBRARIES, jk->libraries);
  mlg_pl_set(pl, m, MLG_A_J_AGENT, jk->agent);
  mlg_pl_set(pl, m, MLG_A_ENVIRONMENT, jk->env);
  mlg_pl_set(pl, m, MLG_A_J_PARAMETERS, jk->params);
  mlg_pl_set(pl, m, MLG_A_J_TRIGGERS, jk->triggers);
  mlg_pl_set(pl, m, MLG_A_OPTIONS, jk->options);
  mlg_pl_set(pl, m, MLG_A_JOBS, jk->jobs);
  mlg_pl_set(pl, m, MLG_A_POST, jk->post);
  if (jk->nexprs > 1)
    qsort(jk->exprs, jk->nexprs, sizeof *jk->exprs, expr_cmp);
  if ((seq = mlg_pl_seq(pl, jk->nexprs)))
    for (i = 0; i < jk->nexprs; i++)
      mlg_pl_push(pl, seq, jk->exprs[i].node);
  mlg_pl_set(pl, m, MLG_A_EXPRS, seq);
  if ((seq = mlg_pl_seq(pl, jk->g->ncomments)))
    for (i = 0; i < jk->g->ncomments; i++) {
      const mlg_gcomment *c = &jk->g->comments[i];
      mlg_node *o = mlg_pl_map(pl, 3);
      mlg_pl_set_int(pl, o, MLG_A_LINE, c->line);
      mlg_pl_set_int(pl, o, MLG_A_COL, c->col);
      mlg_pl_set(pl, o, MLG_A_TEXT, mlg_pl_str(pl, c->text, c->len));
      mlg_pl_push(pl, seq, o);
    }
  mlg_pl_set(pl, m, MLG_A_COMMENTS, seq);
  mlg_pl_set(pl, m, MLG_A_J_NOTES, jk->notes);
  mlg_pl_set(pl, m, MLG_A_J_LOADS, jk->loads);
}

static int build(mlg_jk *jk)
{
  mlg_pl *pl = &jk->pl;
  mlg_jk_ctx cx;

  if (!(jk->model = mlg_pl_map(pl, 20)))
    return pl->rc;
  if (mlg_doc_add_root(pl->doc, jk->model))
    return mlg_pl_oom(pl);
  mlg_pl_set_atom(pl, jk->model, MLG_A_PLATFORM, MLG_A_J_JENKINS);
  mlg_pl_set_atom(pl, jk->model, MLG_A_KIND, MLG_A_J_KIND);
  mlg_pl_set(pl, jk->model, MLG_A_PATH, mlg_pl_str(pl, pl->name, strlen(pl->name)));
  mlg_pl_set_int(pl, jk->model, MLG_A_LINE, 1);
  mlg_pl_set_int(pl, jk->model, MLG_A_COL, 1);
  jk->jobs = mlg_pl_seq(pl, 0);
  jk->notes = mlg_pl_seq(pl, 0);
  jk->libraries = mlg_pl_seq(pl, 0);
  jk->loads = mlg_pl_seq(pl, 0);
  memset(&cx, 0, sizeof cx);
  cx.reach = MLG_JK_R_ALL;
  mlg_jk_walk(jk, 0, jk->n - 1, &cx);
  finish(jk);
  return pl->rc;
}

int mlg_jenkins_load(mlg_doc **out, const char *text, size_t len, const char *name, mlg_err *err)
{
  mlg_jk jk;
  size_t limit;
  int rc;

  if (!out)
    return mlg_err_set(err, MLG_EINVAL, "mlg_jenkins_load: no output");
  *out = NULL;
  if (!text && len)
    return mlg_err_set(err, MLG_EINVAL, "mlg_jenkins_load: no input");
  text = text ? text : "";
  name = name ? name : "<input>";
  memset(&jk, 0, sizeof jk);
  if ((rc = mlg_groovy_lex(&jk.g, text, len, name, err)) != 0)
    return rc;
  jk.t = jk.g->toks;
  jk.n = jk.g->ntoks;
  limit = len > (SIZE_MAX - MLG_PL_DOC_FLOOR) / MLG_PL_DOC_FACTOR
              ? SIZE_MAX
              : len * MLG_PL_DOC_FACTOR + MLG_PL_DOC_FLOOR;
  if (!(jk.done = calloc(jk.n, 1)) || !(jk.send = calloc(jk.n, sizeof *jk.send))) {
    free(jk.done);
    mlg_groovy_free(jk.g);
    return mlg_err_set(err, MLG_ENOMEM, "%s: out of memory", name);
  }
  if (mlg_pl_init(&jk.pl, text, len, name, MLG_PK_JENKINS, limit, err) == 0)
    build(&jk);
  rc = jk.pl.rc;
  mlg_pl_fini(&jk.pl);
  mlg_groovy_free(jk.g);
  free(jk.done);
  free(jk.send);
  free(jk.jobv);
  free(jk.exprs);
  if (rc) {
    mlg_doc_free(jk.pl.doc);
    return rc;
  }
  *out = jk.pl.doc;
  return 0;
}
