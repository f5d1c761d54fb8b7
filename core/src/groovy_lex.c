/*
 * Groovy tokenizer (see groovy.h).
 *
 * One forward pass with a cursor that counts lines and columns. Brackets
 * are matched on a stack of token indexes as they come, so readers can
 * jump over a group in one step. The code inside a GString's `${ }` is not
 * tokenized, only skipped to its balancing brace: a small explicit stack
 * of modes (code, and the kinds of string that may nest in it) replaces
 * recursion, and it shares the nesting cap with the bracket stack.
 */
#include "groovy.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "buf.h"

/* Modes of the `${ }` skipper. */
enum { M_CODE, M_SQ, M_TSQ, M_DQ, M_TDQ };

typedef struct lx {
  const char *s, *name;
  size_t len, i;
  uint32_t line, col;
  mlg_err *err;
  int rc;
  int nl;                 /* a line break since the last token */
  mlg_groovy *g;
  size_t tcap, ccap, maxtoks;
  uint32_t stack[MLG_GROOVY_MAX_NEST]; /* open brackets (token indexes) */
  size_t depth;
  /* the string being read */
  mlg_buf text;
  mlg_gpos *pts;
  size_t npts, pcap;
  mlg_gpart *parts;
  size_t nparts, partcap;
} lx;

/* --- errors and the cursor ------------------------------------------------ */

static int fail_at(lx *x, int code, uint32_t line, uint32_t col, const char *fmt, ...)
    __attribute__((format(printf, 5, 6)));

static int fail_at(lx *x, int code, uint32_t line, uint32_t col, const char *fmt, ...)
{
  char msg[512];
  va_list ap;
  if (x->rc)
    return x->rc;
  va_start(ap, fmt);
  vsnprintf(msg, sizeof msg, fmt, ap);
  va_end(ap);
  return x->rc = mlg_err_set(x->err, code, "%s:%u:%u: %s", x->name, line, col, msg);
}

static int oom(lx *x)
{
  return fail_at(x, MLG_ENOMEM, x->line, x->col, "out of memory");
}

static int at(const lx *x, size_t k)
{
  return x->i + k < x->len ? (unsigned char)x->s[x->i + k] : -1;
}

static int is_brk(int c)
{
  return c == '\n' || c == '\r';
}

/* Moves over one byte (a CRLF as one break). */
static void adv(lx *x)
{
  unsigned char c = (unsigned char)x->s[x->i];
  if (c == '\r' || c == '\n') {
    x->i += c == '\r' && at(x, 1) == '\n' ? 2 : 1;
    x->line++;
    x->col = 1;
    return;
  }
  x->i++;
  if ((c & 0xC0) != 0x80)
    x->col++;
}

/* Moves over n bytes of one line. */
static void adv_n(lx *x, size_t n)
{
  size_t e = x->i + n;
  for (; x->i < e; x->i++)
    x->col += ((unsigned char)x->s[x->i] & 0xC0) != 0x80;
}

static int starts(const lx *x, const char *lit)
{
  size_t n = strlen(lit);
  return x->i + n <= x->len && memcmp(x->s + x->i, lit, n) == 0;
}

static int ident_start(int c)
{
  return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || c == '_' || c == '$' || c >= 0x80;
}

static int ident_char(int c)
{
  return ident_start(c) || (c >= '0' && c <= '9');
}

/* --- output --------------------------------------------------------------- */

static mlg_gtok *tok_new(lx *x, int kind, size_t start, uint32_t line, uint32_t col)
{
  mlg_groovy *g = x->g;
  mlg_gtok *t;
  if (g->ntoks >= x->maxtoks) {
    fail_at(x, MLG_ELIMIT, line, col, "more than %zu tokens, the limit for this input",
            x->maxtoks);
    return NULL;
  }
  if (g->ntoks == x->tcap) {
    size_t ncap = x->tcap ? x->tcap * 2 : 256;
    mlg_gtok *p = realloc(g->toks, ncap * sizeof *p);
    if (!p) {
      oom(x);
      return NULL;
    }
    g->toks = p;
    x->tcap = ncap;
  }
  t = &g->toks[g->ntoks++];
  memset(t, 0, sizeof *t);
  t->kind = (unsigned char)kind;
  t->nl = (unsigned char)x->nl;
  t->line = line;
  t->col = col;
  t->off = (uint32_t)start;
  t->text = x->s + start;
  x->nl = 0;
  return t;
}

static void tok_end(lx *x, mlg_gtok *t)
{
  t->end_off = (uint32_t)x->i;
  if (t->kind != MLG_GT_STRING)
    t->len = t->end_off - t->off;
}

static int comment_add(lx *x, uint32_t line, uint32_t col, size_t start, size_t a, size_t b,
                       int block)
{
  mlg_groovy *g = x->g;
  mlg_gcomment *c;
  while (a < b && (x->s[a] == ' ' || x->s[a] == '\t' || is_brk(x->s[a])))
    a++;
  while (b > a && (x->s[b - 1] == ' ' || x->s[b - 1] == '\t' || is_brk(x->s[b - 1])))
    b--;
  if (g->ncomments == x->ccap) {
    size_t ncap = x->ccap ? x->ccap * 2 : 32;
    mlg_gcomment *p = realloc(g->comments, ncap * sizeof *p);
    if (!p)
      return oom(x);
    g->comments = p;
    x->ccap = ncap;
  }
  c = &g->comments[g->ncomments++];
  c->line = line;
  c->col = col;
  c->off = (uint32_t)start;
  c->end_off = (uint32_t)x->i;
  c->text = x->s + a;
  c->len = (uint32_t)(b - a);
  c->block = block;
  return 0;
}

/* --- comments ------------------------------------------------------------- */

static int line_comment(lx *x, size_t skip)
{
  uint32_t line = x->line, col = x->col;
  size_t start = x->i, a = x->i + skip;
  const char *nl = memchr(x->s + a, '\n', x->len - a);
  const char *cr = memchr(x->s + a, '\r', (nl ? (size_t)(nl - x->s) : x->len) - a);
  size_t e = cr ? (size_t)(cr - x->s) : nl ? (size_t)(nl - x->s) : x->len;
  adv_n(x, e - x->i);
  return comment_add(x, line, col, start, a, e, 0);
}

static int block_comment(lx *x)
{
  uint32_t line = x->line, col = x->col;
  size_t start = x->i, a = x->i + 2;
  const char *e = x->len - a >= 2 ? memmem(x->s + a, x->len - a, "*/", 2) : NULL;
  if (!e)
    return fail_at(x, MLG_EPARSE, line, col, "unterminated comment: '/*' is never closed");
  while (x->i < (size_t)(e - x->s))
    adv(x);
  adv_n(x, 2);
  return comment_add(x, line, col, start, a, (size_t)(e - x->s), 1);
}

/* --- strings -------------------------------------------------------------- */

static int pt_add(lx *x)
{
  mlg_gpos *p;
  if (x->npts && x->pts[x->npts - 1].t == x->text.len)
    x->npts--;
  if (x->npts == x->pcap) {
    size_t ncap = x->pcap ? x->pcap * 2 : 16;
    if (!(p = realloc(x->pts, ncap * sizeof *p)))
      return oom(x);
    x->pts = p;
    x->pcap = ncap;
  }
  p = &x->pts[x->npts++];
  p->t = (uint32_t)x->text.len;
  p->off = (uint32_t)x->i;
  p->line = x->line;
  p->col = x->col;
  return 0;
}

static int put(lx *x, const char *s, size_t n)
{
  return mlg_buf_put(&x->text, s, n) ? oom(x) : 0;
}

/* Copies the source byte (a line break as "\n", then a map point). */
static int copy1(lx *x)
{
  int c = at(x, 0);
  if (is_brk(c)) {
    adv(x);
    return put(x, "\n", 1) || pt_add(x);
  }
  adv(x);
  return put(x, x->s + x->i - 1, 1);
}

static void put_utf8(lx *x, uint32_t cp)
{
  char b[4];
  size_t n;
  if (cp < 0x80) {
    b[0] = (char)cp;
    n = 1;
  } else if (cp < 0x800) {
    b[0] = (char)(0xC0 | (cp >> 6));
    b[1] = (char)(0x80 | (cp & 0x3F));
    n = 2;
  } else {
    b[0] = (char)(0xE0 | (cp >> 12));
    b[1] = (char)(0x80 | ((cp >> 6) & 0x3F));
    b[2] = (char)(0x80 | (cp & 0x3F));
    n = 3;
  }
  put(x, b, n);
}

static int hexv(int c)
{
  if (c >= '0' && c <= '9')
    return c - '0';
  if (c >= 'a' && c <= 'f')
    return c - 'a' + 10;
  if (c >= 'A' && c <= 'F')
    return c - 'A' + 10;
  return -1;
}

/* A backslash escape of a quoted string, at x->i. */
static int escape(lx *x)
{
  int c = at(x, 1), k;
  const char *simple = "btnfrs\\'\"$/";
  const char *value = "\b\t\n\f\r \\'\"$/";
  const char *p;

  if (is_brk(c)) { /* line continuation */
    adv_n(x, 1);
    adv(x);
    return pt_add(x);
  }
  if (c > 0 && (p = strchr(simple, c)) != NULL) {
    put(x, value + (p - simple), 1);
    adv_n(x, 2);
    return pt_add(x);
  }
  if (c == 'u') {
    uint32_t cp = 0;
    size_t u = 1;
    while (at(x, u) == 'u') /* \uuuu0041 is allowed */
      u++;
    for (k = 0; k < 4 && hexv(at(x, u + (size_t)k)) >= 0; k++)
      cp = cp * 16 + (uint32_t)hexv(at(x, u + (size_t)k));
    if (k == 4) {
      put_utf8(x, cp);
      adv_n(x, u + 4);
      return pt_add(x);
    }
  }
  if (c >= '0' && c <= '7') {
    uint32_t v = 0;
    size_t n = 1, lim = c <= '3' ? 3 : 2;
    while (n <= lim && at(x, n) >= '0' && at(x, n) <= '7')
      v = v * 8 + (uint32_t)(at(x, n++) - '0');
    put_utf8(x, v);
    adv_n(x, n);
    return pt_add(x);
  }
  /* Unknown: the backslash stays, the next character is read normally. */
  put(x, "\\", 1);
  adv_n(x, 1);
  return 0;
}

static int delim_len(int mode)
{
  return mode == M_TSQ || mode == M_TDQ ? 3 : 1;
}

/* Skips the code of a `${` (at x->i, copied as written) to its balancing
 * brace. */
static int interp_braced(lx *x, uint32_t line, uint32_t col)
{
  unsigned char modes[MLG_GROOVY_MAX_NEST];
  size_t sp = 0;

  put(x, "${", 2);
  adv_n(x, 2);
  modes[sp++] = M_CODE;
  while (sp && !x->rc) {
    int c = at(x, 0), m = modes[sp - 1];
    if (c < 0)
      return fail_at(x, MLG_EPARSE, line, col, "unterminated string: '${' is never closed");
    if (x->depth + sp >= MLG_GROOVY_MAX_NEST)
      return fail_at(x, MLG_ELIMIT, x->line, x->col, "nesting deeper than %d levels",
                     MLG_GROOVY_MAX_NEST);
    if (m == M_CODE) {
      if (c == '}') {
        sp--;
      } else if (c == '{') {
        modes[sp++] = M_CODE;
      } else if (c == '\'' || c == '"') {
        int tri = starts(x, c == '\'' ? "'''" : "\"\"\"");
        modes[sp++] = (unsigned char)(c == '\'' ? (tri ? M_TSQ : M_SQ) : (tri ? M_TDQ : M_DQ));
        put(x, x->s + x->i, tri ? 3 : 1);
        adv_n(x, tri ? 3 : 1);
        continue;
      }
      copy1(x);
      continue;
    }
    if (c == '\\') {
      copy1(x);
      if (at(x, 0) >= 0)
        copy1(x);
      continue;
    }
    if ((m == M_DQ || m == M_TDQ) && c == '$' && at(x, 1) == '{') {
      put(x, "${", 2);
      adv_n(x, 2);
      modes[sp++] = M_CODE;
      continue;
    }
    if ((m == M_SQ && c == '\'') || (m == M_DQ && c == '"') ||
        (m == M_TSQ && starts(x, "'''")) || (m == M_TDQ && starts(x, "\"\"\""))) {
      put(x, x->s + x->i, (size_t)delim_len(m));
      adv_n(x, (size_t)delim_len(m));
      sp--;
      continue;
    }
    copy1(x);
  }
  return x->rc;
}

static int part_add(lx *x, const mlg_gpart *p)
{
  if (x->nparts == x->partcap) {
    size_t ncap = x->partcap ? x->partcap * 2 : 8;
    mlg_gpart *q = realloc(x->parts, ncap * sizeof *q);
    if (!q)
      return oom(x);
    x->parts = q;
    x->partcap = ncap;
  }
  x->parts[x->nparts++] = *p;
  return 0;
}

/* A `$` of a GString at x->i: an interpolation, or a literal dollar. */
static int dollar(lx *x)
{
  mlg_gpart p;
  int c = at(x, 1);

  memset(&p, 0, sizeof p);
  p.t = (uint32_t)x->text.len;
  p.off = (uint32_t)x->i;
  p.line = x->line;
  p.col = x->col;
  if (c == '{') {
    p.braced = 1;
    p.expr = p.t + 2;
    if (interp_braced(x, p.line, p.col))
      return x->rc;
    p.expr_len = (uint32_t)x->text.len - 1 - p.expr;
  } else if (c >= 0 && c != '$' && ident_start(c)) {
    size_t n = 2;
    while (ident_char(at(x, n)) && at(x, n) != '$')
      n++;
    while (at(x, n) == '.' && ident_start(at(x, n + 1)) && at(x, n + 1) != '$') {
      n += 2;
      while (ident_char(at(x, n)) && at(x, n) != '$')
        n++;
    }
    p.expr = p.t + 1;
    p.expr_len = (uint32_t)n - 1;
    put(x, x->s + x->i, n);
    adv_n(x, n);
  } else {
    put(x, "$", 1);
    adv_n(x, 1);
    return x->rc;
  }
  p.t_end = (uint32_t)x->text.len;
  p.end_off = (uint32_t)x->i;
  p.end_line = x->line;
  p.end_col = x->col;
  return part_add(x, &p);
}

static const char *style_name(int style)
{
  switch (style) {
  case MLG_GS_SINGLE: return "single-quoted";
  case MLG_GS_DOUBLE: return "double-quoted";
  case MLG_GS_TRIPLE_SINGLE: return "'''";
  case MLG_GS_TRIPLE_DOUBLE: return "\"\"\"";
  case MLG_GS_SLASHY: return "slashy";
  default: return "dollar-slashy";
  }
}

static int lex_string(lx *x, int style)
{
  static const char *const open[] = {"", "'", "\"", "'''", "\"\"\"", "/", "$/"};
  static const char *const close[] = {"", "'", "\"", "'''", "\"\"\"", "/", "/$"};
  uint32_t line = x->line, col = x->col;
  size_t start = x->i, clen = strlen(close[style]);
  int gstring = style == MLG_GS_DOUBLE || style == MLG_GS_TRIPLE_DOUBLE ||
                style == MLG_GS_SLASHY || style == MLG_GS_DOLLAR_SLASHY;
  int multi = style != MLG_GS_SINGLE && style != MLG_GS_DOUBLE;
  mlg_gtok *t;
  mlg_gstr *gs;
  mlg_doc *a = x->g->arena;

  if (!(t = tok_new(x, MLG_GT_STRING, start, line, col)))
    return x->rc;
  t->style = (unsigned char)style;
  x->text.len = 0;
  x->npts = x->nparts = 0;
  adv_n(x, strlen(open[style]));
  pt_add(x);
  while (!x->rc) {
    int c = at(x, 0);
    size_t run;
    if (c < 0)
      return fail_at(x, MLG_EPARSE, line, col, "unterminated %s string",
                     style_name(style));
    if (starts(x, close[style]))
      break;
    if (is_brk(c)) {
      if (!multi)
        return fail_at(x, MLG_EPARSE, line, col,
                       "unterminated %s string: the line ends before its closing quote",
                       style_name(style));
      copy1(x);
      continue;
    }
    if (c == '\\') {
      if (style == MLG_GS_DOLLAR_SLASHY) {
        copy1(x);
      } else if (style == MLG_GS_SLASHY) {
        if (at(x, 1) == '/') {
          put(x, "/", 1);
          adv_n(x, 2);
          pt_add(x);
        } else if (is_brk(at(x, 1))) {
          adv_n(x, 1);
          adv(x);
          pt_add(x);
        } else {
          copy1(x);
        }
      } else {
        escape(x);
      }
      continue;
    }
    if (c == '$' && style == MLG_GS_DOLLAR_SLASHY && (at(x, 1) == '$' || at(x, 1) == '/')) {
      put(x, x->s + x->i + 1, 1);
      adv_n(x, 2);
      pt_add(x);
      continue;
    }
    if (c == '$' && gstring) {
      dollar(x);
      continue;
    }
    /* A run of ordinary bytes. */
    for (run = 1; x->i + run < x->len; run++) {
      int d = (unsigned char)x->s[x->i + run];
      if (d == '\\' || d == '$' || is_brk(d) || d == (unsigned char)close[style][0])
        break;
    }
    put(x, x->s + x->i, run);
    adv_n(x, run);
  }
  if (x->rc)
    return x->rc;
  adv_n(x, clen);
  tok_end(x, t);
  if (x->text.len >= UINT32_MAX)
    return fail_at(x, MLG_ELIMIT, line, col, "string too long");
  t->len = (uint32_t)x->text.len;
  if (!(gs = mlg_doc_alloc(a, sizeof *gs)) ||
      !(t->text = mlg_doc_strndup(a, x->text.ptr ? x->text.ptr : "", x->text.len)) ||
      !(gs->map = mlg_doc_alloc(a, x->npts * sizeof *gs->map)) ||
      (x->nparts && !(gs->parts = mlg_doc_alloc(a, x->nparts * sizeof *gs->parts))))
    return fail_at(x, a->limit_bytes && a->used_bytes + 4096 > a->limit_bytes ? MLG_ELIMIT
                                                                               : MLG_ENOMEM,
                   line, col, "the strings of this input need too much memory");
  memcpy(gs->map, x->pts, x->npts * sizeof *gs->map);
  if (x->nparts)
    memcpy(gs->parts, x->parts, x->nparts * sizeof *gs->parts);
  gs->nmap = (uint32_t)x->npts;
  gs->nparts = (uint32_t)x->nparts;
  t->str = gs;
  return 0;
}

/* --- the rest ------------------------------------------------------------- */

/* Whether a '/' here starts a slashy string (Groovy's rule: where a value
 * is expected). */
static int value_expected(const lx *x)
{
  const mlg_gtok *p;
  static const char *const kw[] = {"return", "case", "in", "assert", "throw", "else", NULL};
  size_t k;
  if (x->g->ntoks == 0 || x->nl)
    return 1;
  p = &x->g->toks[x->g->ntoks - 1];
  if (p->kind == MLG_GT_OP)
    return !(p->len == 1 && (p->text[0] == ')' || p->text[0] == ']' || p->text[0] == '}'));
  if (p->kind == MLG_GT_IDENT)
    for (k = 0; kw[k]; k++)
      if (p->len == strlen(kw[k]) && memcmp(p->text, kw[k], p->len) == 0)
        return 1;
  return 0;
}

static const char *const ops[] = {
    ">>>=", "<=>", ">>>", "...", "..<", "**=", "<<=", ">>=", "===", "!==", "==~", "?.",
    "*.",   ".&",  ".@",  "?:",  "->",  "=~",  "==",  "!=",  "<=",  ">=",  "&&", "||",
    "++",   "--",  "+=",  "-=",  "*=",  "/=",  "%=",  "&=",  "|=",  "^=",  "<<", "**",
    "..",   "::",  NULL};

static int lex_op(lx *x)
{
  uint32_t line = x->line, col = x->col;
  size_t start = x->i, n = 1, k;
  int c = at(x, 0);
  mlg_gtok *t;

  for (k = 0; ops[k]; k++)
    if (starts(x, ops[k])) {
      n = strlen(ops[k]);
      break;
    }
  if (!(t = tok_new(x, MLG_GT_OP, start, line, col)))
    return x->rc;
  adv_n(x, n);
  tok_end(x, t);
  if (n != 1)
    return 0;
  if (c == '(' || c == '[' || c == '{') {
    if (x->depth >= MLG_GROOVY_MAX_NEST)
      return fail_at(x, MLG_ELIMIT, line, col, "nesting deeper than %d levels",
                     MLG_GROOVY_MAX_NEST);
    x->stack[x->depth++] = (uint32_t)(x->g->ntoks - 1);
  } else if (c == ')' || c == ']' || c == '}') {
    mlg_gtok *o;
    char want;
    if (!x->depth)
      return fail_at(x, MLG_EPARSE, line, col, "'%c' closes nothing", c);
    o = &x->g->toks[x->stack[x->depth - 1]];
    want = o->text[0] == '(' ? ')' : o->text[0] == '[' ? ']' : '}';
    if (c != want)
      return fail_at(x, MLG_EPARSE, line, col, "'%c' does not close the '%c' at %u:%u", c,
                     o->text[0], o->line, o->col);
    x->depth--;
    o->match = (uint32_t)(x->g->ntoks - 1);
    t = &x->g->toks[x->g->ntoks - 1];
    t->match = x->stack[x->depth];
  }
  return 0;
}

static int lex_word(lx *x, int kind)
{
  uint32_t line = x->line, col = x->col;
  size_t start = x->i, n = 1;
  mlg_gtok *t;

  if (kind == MLG_GT_IDENT) {
    while (ident_char(at(x, n)))
      n++;
  } else {
    for (;;) {
      int c = at(x, n);
      if ((c >= '0' && c <= '9') || (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') ||
          c == '_')
        n++;
      else if (c == '.' && at(x, n + 1) >= '0' && at(x, n + 1) <= '9')
        n += 2;
      else if ((c == '+' || c == '-') && (x->s[x->i + n - 1] == 'e' || x->s[x->i + n - 1] == 'E') &&
               !(n >= 2 && (x->s[x->i + 1] == 'x' || x->s[x->i + 1] == 'X')))
        n++;
      else
        break;
    }
  }
  if (!(t = tok_new(x, kind, start, line, col)))
    return x->rc;
  adv_n(x, n);
  tok_end(x, t);
  return 0;
}

static int lex_all(lx *x)
{
  mlg_gtok *t;

  if (x->len >= 3 && memcmp(x->s, "\xEF\xBB\xBF", 3) == 0)
    x->i = 3;
  if (starts(x, "#!") && line_comment(x, 2))
    return x->rc;
  while (!x->rc && x->i < x->len) {
    int c = at(x, 0), d = at(x, 1);
    if (c == ' ' || c == '\t' || c == '\f') {
      adv_n(x, 1);
    } else if (is_brk(c)) {
      adv(x);
      x->nl = 1;
    } else if (c == '\\' && is_brk(d)) {
      adv_n(x, 1);
      adv(x);
    } else if (c == '/' && d == '/') {
      line_comment(x, 2);
    } else if (c == '/' && d == '*') {
      block_comment(x);
    } else if (c == '\'') {
      lex_string(x, starts(x, "'''") ? MLG_GS_TRIPLE_SINGLE : MLG_GS_SINGLE);
    } else if (c == '"') {
      lex_string(x, starts(x, "\"\"\"") ? MLG_GS_TRIPLE_DOUBLE : MLG_GS_DOUBLE);
    } else if (c == '/' && d != '=' && value_expected(x)) {
      lex_string(x, MLG_GS_SLASHY);
    } else if (c == '$' && d == '/' && value_expected(x)) {
      lex_string(x, MLG_GS_DOLLAR_SLASHY);
    } else if (ident_start(c)) {
      lex_word(x, MLG_GT_IDENT);
    } else if (c >= '0' && c <= '9') {
      lex_word(x, MLG_GT_NUMBER);
    } else {
      lex_op(x);
    }
  }
  if (x->rc)
    return x->rc;
  if (x->depth) {
    const mlg_gtok *o = &x->g->toks[x->stack[x->depth - 1]];
    return fail_at(x, MLG_EPARSE, o->line, o->col, "'%c' is never closed", o->text[0]);
  }
  /* The EOF token may exceed the cap by one. */
  x->maxtoks++;
  if (!(t = tok_new(x, MLG_GT_EOF, x->i, x->line, x->col)))
    return x->rc;
  t->end_off = (uint32_t)x->i;
  return 0;
}

int mlg_groovy_lex(mlg_groovy **out, const char *src, size_t len, const char *name,
                   mlg_err *err)
{
  lx x;
  int rc;

  if (!out)
    return mlg_err_set(err, MLG_EINVAL, "mlg_groovy_lex: no output");
  *out = NULL;
  name = name ? name : "<input>";
  if (!src && len)
    return mlg_err_set(err, MLG_EINVAL, "mlg_groovy_lex: no input");
  if (len > MLG_GROOVY_MAX_LEN)
    return mlg_err_set(err, MLG_ELIMIT, "%s:1:1: %zu bytes of Groovy, more than the limit of %zu",
                       name, len, MLG_GROOVY_MAX_LEN);
  memset(&x, 0, sizeof x);
  x.s = src ? src : "";
  x.len = len;
  x.name = name;
  x.err = err;
  x.line = x.col = 1;
  x.maxtoks = len / 3 + 4096;
  if (x.maxtoks > MLG_GROOVY_MAX_TOKENS)
    x.maxtoks = MLG_GROOVY_MAX_TOKENS;
  if (!(x.g = calloc(1, sizeof *x.g)) || !(x.g->arena = mlg_doc_new(name))) {
    free(x.g);
    return mlg_err_set(err, MLG_ENOMEM, "%s: out of memory", name);
  }
  /* Decoded text is at most the input; maps and parts a few times it. */
  x.g->arena->limit_bytes = len * 48 + ((size_t)1 << 20);
  rc = lex_all(&x);
  mlg_buf_free(&x.text);
  free(x.pts);
  free(x.parts);
  if (rc) {
    mlg_groovy_free(x.g);
    return rc;
  }
  *out = x.g;
  return 0;
}

void mlg_groovy_free(mlg_groovy *g)
{
  if (!g)
    return;
  free(g->toks);
  free(g->comments);
  mlg_doc_free(g->arena);
  free(g);
}

int mlg_groovy_is(const mlg_gtok *tok, const char *s)
{
  size_t n = strlen(s);
  return tok && tok->kind != MLG_GT_STRING && tok->kind != MLG_GT_EOF && tok->len == n &&
         memcmp(tok->text, s, n) == 0;
}
