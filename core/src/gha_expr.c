/*
 * Lexer and parser of GitHub Actions expressions, after GitHub's
 * reference implementation (@actions/expressions): the whole text is
 * lexed first (so a lexing error anywhere wins over a parse error), then a
 * recursive descent parser builds the tree with GitHub's precedence
 * (|| < && < ==, != < <, <=, >, >= < ! < [], . < call, literal, group)
 * and GitHub's nesting count, so the same texts hit "Exceeded max
 * expression depth 50".
 *
 * Deviations, on purpose: positions in messages count characters from the
 * start of the text (GitHub's TypeScript counts from the start of the
 * line, its runner from the start); whitespace is any Unicode White_Space
 * character (as in the runner); '' in a string is always a quote (the
 * TypeScript version unescapes only the first).
 */
#include <limits.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "gha_expr_int.h"

/* --- functions and contexts ----------------------------------------------- */

static const mlg_gx_fn fns[] = {
  {"case", GXF_CASE, 3, UINT_MAX, 0},
  {"contains", GXF_CONTAINS, 2, 2, 0},
  {"startsWith", GXF_STARTSWITH, 2, 2, 0},
  {"endsWith", GXF_ENDSWITH, 2, 2, 0},
  {"format", GXF_FORMAT, 1, 255, 0},
  {"join", GXF_JOIN, 1, 2, 0},
  {"toJSON", GXF_TOJSON, 1, 1, 0},
  {"fromJSON", GXF_FROMJSON, 1, 1, 0},
  {"hashFiles", GXF_HASHFILES, 1, 255, 1},
  {"success", GXF_SUCCESS, 0, 0, 1},
  {"always", GXF_ALWAYS, 0, 0, 1},
  {"failure", GXF_FAILURE, 0, 0, 1},
  {"cancelled", GXF_CANCELLED, 0, 0, 1},
};

const mlg_gx_fn *mlg_gx_fn_find(const char *name, size_t len)
{
  size_t i;
  for (i = 0; i < sizeof fns / sizeof fns[0]; i++) {
    if (strlen(fns[i].name) == len && strncasecmp(fns[i].name, name, len) == 0)
      return &fns[i];
  }
  return NULL;
}

static const char *const std_contexts[] = {
  "github", "env", "vars", "job", "jobs", "steps", "runner", "secrets", "strategy",
  "matrix", "needs", "inputs"
};

const char *const *mlg_gx_std_contexts(size_t *n)
{
  *n = sizeof std_contexts / sizeof std_contexts[0];
  return std_contexts;
}

int mlg_gx_syntax_error(mlg_err *err, int code, const char *what, const char *tok,
                        size_t toklen, const char *text, size_t len, size_t off)
{
  char t[128 + 8], x[480 + 8];
  mlg_gx_render(t, 128, tok, toklen);
  mlg_gx_render(x, 480, text, len);
  return mlg_err_set(err, code, "%s: '%s'. Located at position %zu within expression: %s",
                     what, t, mlg_gx_charpos(text, off), x);
}

/* --- lexer ---------------------------------------------------------------- */

typedef enum ttype {
  T_EOF = 0, T_LPAREN, T_RPAREN, T_LBRACKET, T_RBRACKET, T_COMMA, T_DOT, T_BANG,
  T_NE, T_EQ, T_GT, T_GE, T_LT, T_LE, T_AND, T_OR, T_STAR, T_NUMBER, T_STRING,
  T_IDENT, T_TRUE, T_FALSE, T_NULL
} ttype;

typedef struct tok {
  ttype type;
  size_t off, len;  /* the lexeme */
  double num;       /* NUMBER */
  mlg_node *str;    /* STRING: the value, in the document */
} tok;

typedef struct parser {
  const char *text;
  size_t len;
  tok *t;
  size_t n, cap, pos;
  int depth;
  mlg_gx *gx;
  const char *const *ctx;
  size_t nctx;
  int any_context;
  mlg_err *err;
  mlg_gx_phase phase;
  int rc;
} parser;

static int oom(parser *p)
{
  p->rc = mlg_err_set(p->err, MLG_ENOMEM, "out of memory while parsing an expression");
  return p->rc;
}

static int push_tok(parser *p, ttype type, size_t off, size_t len)
{
  tok *t;
  if (p->n == p->cap) {
    size_t cap = p->cap ? p->cap * 2 : 16;
    tok *nt = realloc(p->t, cap * sizeof *nt);
    if (!nt)
      return oom(p);
    p->t = nt;
    p->cap = cap;
  }
  t = &p->t[p->n++];
  memset(t, 0, sizeof *t);
  t->type = type;
  t->off = off;
  t->len = len;
  return 0;
}

static int is_boundary(const char *s, size_t len, size_t i)
{
  switch (s[i]) {
  case '(': case '[': case ')': case ']': case ',': case '.': case '!': case '>':
  case '<': case '=': case '&': case '|':
    return 1;
  default:
    return mlg_gx_ws(s, len, i) != 0;
  }
}

static size_t next_char(const char *s, size_t len, size_t i)
{
  uint32_t cp;
  return i + mlg_gx_next(s, len, i, &cp);
}

static int lex_error(parser *p, size_t off, size_t len)
{
  p->phase = MLG_GX_LEXING;
  p->rc = mlg_gx_syntax_error(p->err, MLG_EPARSE, "Unexpected symbol", p->text + off, len,
                              p->text, p->len, off);
  return p->rc;
}

static ttype prev_type(const parser *p)
{
  return p->n ? p->t[p->n - 1].type : T_EOF;
}

/* From start to the next boundary; the first character is taken whatever
 * it is. */
static size_t scan_word(const parser *p, size_t start)
{
  size_t i = next_char(p->text, p->len, start);
  while (i < p->len && !is_boundary(p->text, p->len, i))
    i = next_char(p->text, p->len, i);
  return i;
}

static int legal_identifier(const char *s, size_t len)
{
  size_t i;
  if (len == 0 || !((s[0] >= 'a' && s[0] <= 'z') || (s[0] >= 'A' && s[0] <= 'Z') || s[0] == '_'))
    return 0;
  for (i = 1; i < len; i++) {
    char c = s[i];
    if (!((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
          c == '_' || c == '-'))
      return 0;
  }
  return 1;
}

static int lex_number(parser *p, size_t start, size_t *end)
{
  size_t i = start + 1, k;
  double d;
  while (i < p->len && (!is_boundary(p->text, p->len, i) || p->text[i] == '.'))
    i = next_char(p->text, p->len, i);
  *end = i;
  for (k = start; k < i; k++) { /* Number() would trim U+FEFF; a literal has none */
    if ((unsigned char)p->text[k] >= 0x80)
      return lex_error(p, start, i - start);
  }
  d = mlg_gx_str_number(p->text + start, i - start);
  if (isnan(d))
    return lex_error(p, start, i - start);
  if (push_tok(p, T_NUMBER, start, i - start))
    return p->rc;
  p->t[p->n - 1].num = d;
  return 0;
}

static int lex_word(parser *p, size_t start, size_t *end)
{
  size_t i = scan_word(p, start), len = i - start;
  const char *s = p->text + start;
  ttype type = T_IDENT;
  double num = 0;
  *end = i;
  if (!legal_identifier(s, len))
    return lex_error(p, start, len);
  if (prev_type(p) != T_DOT) { /* after a dot every word is a property name */
    if (len == 4 && memcmp(s, "true", 4) == 0) {
      type = T_TRUE;
    } else if (len == 5 && memcmp(s, "false", 5) == 0) {
      type = T_FALSE;
    } else if (len == 4 && memcmp(s, "null", 4) == 0) {
      type = T_NULL;
    } else if (len == 3 && memcmp(s, "NaN", 3) == 0) {
      type = T_NUMBER;
      num = NAN;
    } else if (len == 8 && memcmp(s, "Infinity", 8) == 0) {
      type = T_NUMBER;
      num = INFINITY;
    }
  }
  if (push_tok(p, type, start, len))
    return p->rc;
  p->t[p->n - 1].num = num;
  return 0;
}

static int lex_string(parser *p, size_t start, size_t *end)
{
  const char *s = p->text;
  size_t i = start + 1, quotes = 0, o = 0, k;
  mlg_node *n;
  char *v;
  for (;;) {
    if (i >= p->len)
      return lex_error(p, start, p->len - start);
    if (s[i] == '\'') {
      if (i + 1 < p->len && s[i + 1] == '\'') {
        quotes++;
        i += 2;
        continue;
      }
      break;
    }
    i++;
  }
  if (!(n = mlg_node_new(p->gx->doc, MLG_STR)) ||
      !(v = mlg_doc_alloc(p->gx->doc, i - start - 1 - quotes + 1)))
    return oom(p);
  for (k = start + 1; k < i; k++) {
    v[o++] = s[k];
    if (s[k] == '\'')
      k++;
  }
  v[o] = '\0';
  n->u.str.ptr = v;
  n->u.str.len = o;
  *end = i + 1;
  if (push_tok(p, T_STRING, start, i + 1 - start))
    return p->rc;
  p->t[p->n - 1].str = n;
  return 0;
}

static int lex(parser *p)
{
  const char *s = p->text;
  size_t i = 0;
  while (i < p->len) {
    size_t start = i, w = mlg_gx_ws(s, p->len, i), two;
    ttype type = T_EOF;
    int rc = 0;
    if (w) {
      i += w;
      continue;
    }
    two = i + 1 < p->len ? (size_t)(unsigned char)s[i + 1] : 0;
    switch (s[i]) {
    case '(': type = T_LPAREN; break;
    case ')': type = T_RPAREN; break;
    case '[': type = T_LBRACKET; break;
    case ']': type = T_RBRACKET; break;
    case ',': type = T_COMMA; break;
    case '*': type = T_STAR; break;
    case '!': type = two == '=' ? T_NE : T_BANG; break;
    case '<': type = two == '=' ? T_LE : T_LT; break;
    case '>': type = two == '=' ? T_GE : T_GT; break;
    case '=':
    case '&':
    case '|':
      if (two == (unsigned char)s[i])
        type = s[i] == '=' ? T_EQ : s[i] == '&' ? T_AND : T_OR;
      else /* GitHub reads on to the next boundary for the message */
        return lex_error(p, start, scan_word(p, start) - start);
      break;
    case '.': {
      ttype prev = prev_type(p);
      if (prev == T_IDENT || prev == T_RBRACKET || prev == T_RPAREN || prev == T_STAR)
        type = T_DOT;
      else
        rc = lex_number(p, start, &i);
      break;
    }
    case '-':
    case '+':
      rc = lex_number(p, start, &i);
      break;
    case '\'':
      rc = lex_string(p, start, &i);
      break;
    default:
      if (s[i] >= '0' && s[i] <= '9')
        rc = lex_number(p, start, &i);
      else
        rc = lex_word(p, start, &i);
    }
    if (rc)
      return rc;
    if (type != T_EOF) {
      size_t len = type == T_NE || type == T_LE || type == T_GE || type == T_EQ ||
                   type == T_AND || type == T_OR ? 2 : 1;
      if (push_tok(p, type, start, len))
        return p->rc;
      i = start + len;
    }
  }
  return push_tok(p, T_EOF, p->len, 0);
}

/* --- parser --------------------------------------------------------------- */

static const tok *peek(const parser *p)
{
  return &p->t[p->pos];
}

static int check(const parser *p, ttype type)
{
  return p->t[p->pos].type == type;
}

static int match(parser *p, ttype type)
{
  if (!check(p, type) || type == T_EOF)
    return 0;
  p->pos++;
  return 1;
}

/* Fails on token t (NULL for the next one). At the end of the text the
 * message names the last token, as GitHub's "Unexpected end of
 * expression" does. */
static mlg_gx_node *fail_at(parser *p, const char *what, const tok *t)
{
  const char *s;
  size_t len;
  if (!t)
    t = peek(p);
  if (t->type == T_EOF && t != p->t) {
    t--;
    if (strcmp(what, "Unexpected symbol") == 0)
      what = "Unexpected end of expression";
  }
  if (t->type == T_STRING) {
    s = t->str->u.str.ptr;
    len = t->str->u.str.len;
  } else if (t->type == T_EOF) {
    s = "EOF";
    len = 3;
  } else {
    s = p->text + t->off;
    len = t->len;
  }
  p->phase = MLG_GX_PARSING;
  p->rc = mlg_gx_syntax_error(p->err, MLG_EPARSE, what, s, len, p->text, p->len, t->off);
  return NULL;
}

static int incr_depth(parser *p)
{
  char what[64];
  if (++p->depth <= MLG_GX_MAX_DEPTH)
    return 0;
  snprintf(what, sizeof what, "Exceeded max expression depth %d", MLG_GX_MAX_DEPTH);
  fail_at(p, what, NULL);
  return -1;
}

static mlg_gx_node *mk(parser *p, mlg_gx_type type, size_t off, size_t end)
{
  mlg_gx_node *n = mlg_doc_alloc(p->gx->doc, sizeof *n);
  if (!n) {
    oom(p);
    return NULL;
  }
  n->type = type;
  n->offset = off;
  n->len = end - off;
  return n;
}

static size_t end_of(const mlg_gx_node *n)
{
  return n->offset + n->len;
}

static size_t tok_end(const tok *t)
{
  return t->off + t->len;
}

/* Only chains of comparisons grow the tree past GitHub's depth count. */
static int check_height(parser *p, unsigned h, const tok *t)
{
  if (h <= MLG_GX_MAX_HEIGHT)
    return 0;
  p->phase = MLG_GX_PARSING;
  p->rc = mlg_err_set(p->err, MLG_ELIMIT,
                      "Expression too complex: more than %d levels of operators at position %zu",
                      MLG_GX_MAX_HEIGHT, mlg_gx_charpos(p->text, t->off));
  return -1;
}

typedef struct nvec {
  mlg_gx_node **v;
  size_t n, cap;
} nvec;

static int nvec_push(parser *p, nvec *v, mlg_gx_node *n)
{
  if (v->n == v->cap) {
    size_t cap = v->cap ? v->cap * 2 : 4;
    mlg_gx_node **nv = realloc(v->v, cap * sizeof *nv);
    if (!nv)
      return oom(p);
    v->v = nv;
    v->cap = cap;
  }
  v->v[v->n++] = n;
  return 0;
}

/* Moves the collected nodes into the document. */
static int nvec_to(parser *p, nvec *v, mlg_gx_node *n)
{
  n->nargs = v->n;
  if (v->n == 0)
    return 0;
  if (!(n->args = mlg_doc_alloc(p->gx->doc, v->n * sizeof *n->args)))
    return oom(p);
  memcpy(n->args, v->v, v->n * sizeof *n->args);
  return 0;
}

static mlg_gx_node *expression(parser *p, unsigned *h);

static mlg_gx_node *primary(parser *p, unsigned *h)
{
  const tok *t = peek(p);
  mlg_gx_node *n, *inner;
  mlg_node *v = NULL;
  unsigned hi;

  *h = 1;
  switch (t->type) {
  case T_TRUE:
  case T_FALSE:
    v = mlg_node_bool(p->gx->doc, t->type == T_TRUE);
    break;
  case T_NULL:
    v = mlg_node_null(p->gx->doc);
    break;
  case T_NUMBER:
    v = mlg_node_float(p->gx->doc, t->num);
    break;
  case T_STRING:
    v = t->str;
    break;
  case T_LPAREN:
    p->pos++;
    if (!(inner = expression(p, &hi)))
      return NULL;
    if (check(p, T_EOF))
      return fail_at(p, "Unexpected end of expression", NULL);
    if (!check(p, T_RPAREN))
      return fail_at(p, "Unexpected symbol", NULL);
    if (!(n = mk(p, MLG_GX_GROUP, t->off, tok_end(peek(p)))))
      return NULL;
    p->pos++;
    n->left = inner;
    *h = hi + 1;
    return check_height(p, *h, t) ? NULL : n;
  case T_EOF:
    return fail_at(p, "Unexpected end of expression", NULL);
  default:
    return fail_at(p, "Unexpected symbol", NULL);
  }
  if (!v) {
    oom(p);
    return NULL;
  }
  if (!(n = mk(p, MLG_GX_LITERAL, t->off, tok_end(t))))
    return NULL;
  n->value = v;
  p->pos++;
  return n;
}

static int context_allowed(const parser *p, const char *s, size_t len)
{
  size_t i;
  if (p->any_context)
    return 1;
  for (i = 0; i < p->nctx; i++) {
    if (p->ctx[i] && strlen(p->ctx[i]) == len && strncasecmp(p->ctx[i], s, len) == 0)
      return 1;
  }
  return 0;
}

static mlg_gx_node *call(parser *p, unsigned *h)
{
  const tok *id = peek(p);
  const mlg_gx_fn *fn;
  mlg_gx_node *n = NULL;
  nvec args = {NULL, 0, 0};
  unsigned hmax = 0;

  if (!check(p, T_IDENT))
    return primary(p, h);
  p->pos++;
  if (!match(p, T_LPAREN)) {
    if (!context_allowed(p, p->text + id->off, id->len))
      return fail_at(p, "Unrecognized named-value", id);
    if (!(n = mk(p, MLG_GX_CONTEXT, id->off, tok_end(id))))
      return NULL;
    if (!(n->name = mlg_doc_strndup(p->gx->doc, p->text + id->off, id->len))) {
      oom(p);
      return NULL;
    }
    *h = 1;
    return n;
  }
  while (!check(p, T_RPAREN)) {
    unsigned ha;
    mlg_gx_node *a = expression(p, &ha);
    if (!a || nvec_push(p, &args, a))
      goto done;
    if (ha > hmax)
      hmax = ha;
    if (!check(p, T_RPAREN) && !match(p, T_COMMA)) {
      fail_at(p, "Unexpected symbol", NULL);
      goto done;
    }
  }
  fn = mlg_gx_fn_find(p->text + id->off, id->len);
  if (!fn) {
    fail_at(p, "Unrecognized function", id);
  } else if (args.n < fn->min) {
    fail_at(p, "Too few parameters supplied", id);
  } else if (args.n > fn->max) {
    fail_at(p, "Too many parameters supplied", id);
  } else if (fn->id == GXF_CASE && args.n % 2 == 0) {
    fail_at(p, "Even number of parameters supplied, requires an odd number of parameters", id);
  } else if ((n = mk(p, MLG_GX_CALL, id->off, tok_end(peek(p))))) {
    n->name = fn->name;
    p->pos++; /* ) */
    *h = hmax + 1;
    if (check_height(p, *h, id) || nvec_to(p, &args, n))
      n = NULL;
  }
done:
  free(args.v);
  return p->rc ? NULL : n;
}

static mlg_gx_node *index_access(parser *p, unsigned *h)
{
  mlg_gx_node *e = call(p, h), *n;
  int added = 0;
  if (!e || (e->type != MLG_GX_GROUP && e->type != MLG_GX_CALL && e->type != MLG_GX_CONTEXT))
    return e;
  for (;;) {
    const tok *t = peek(p);
    if (match(p, T_LBRACKET)) {
      mlg_gx_node *idx = NULL;
      unsigned hi = 0;
      if (!match(p, T_STAR) && !(idx = expression(p, &hi)))
        return NULL;
      if (!check(p, T_RBRACKET))
        return fail_at(p, "Unexpected symbol", NULL);
      if (!(n = mk(p, idx ? MLG_GX_INDEX : MLG_GX_STAR, e->offset, tok_end(peek(p)))))
        return NULL;
      p->pos++;
      if (incr_depth(p))
        return NULL;
      added++;
      n->left = e;
      n->right = idx;
      *h = (hi > *h ? hi : *h) + 1;
    } else if (match(p, T_DOT)) {
      const tok *name = peek(p);
      if (incr_depth(p))
        return NULL;
      added++;
      if (match(p, T_IDENT)) {
        if (!(n = mk(p, MLG_GX_PROPERTY, e->offset, tok_end(name))))
          return NULL;
        if (!(n->name = mlg_doc_strndup(p->gx->doc, p->text + name->off, name->len))) {
          oom(p);
          return NULL;
        }
      } else if (match(p, T_STAR)) {
        if (!(n = mk(p, MLG_GX_STAR, e->offset, tok_end(name))))
          return NULL;
      } else {
        return fail_at(p, "Unexpected symbol", NULL);
      }
      n->left = e;
      *h += 1;
    } else {
      break;
    }
    if (check_height(p, *h, t))
      return NULL;
    e = n;
  }
  p->depth -= added;
  return e;
}

static mlg_gx_node *unary(parser *p, unsigned *h)
{
  const tok *bang = peek(p);
  mlg_gx_node *e, *n;
  if (!match(p, T_BANG))
    return index_access(p, h);
  if (incr_depth(p) || !(e = unary(p, h)))
    return NULL;
  p->depth--;
  if (!(n = mk(p, MLG_GX_NOT, bang->off, end_of(e))))
    return NULL;
  n->left = e;
  *h += 1;
  return check_height(p, *h, bang) ? NULL : n;
}

static const char *op_name(ttype t)
{
  switch (t) {
  case T_EQ: return "==";
  case T_NE: return "!=";
  case T_LT: return "<";
  case T_LE: return "<=";
  case T_GT: return ">";
  default: return ">=";
  }
}

/* Left-associative chains: equality over comparison over unary. */
static mlg_gx_node *binary(parser *p, unsigned *h, int equality)
{
  mlg_gx_node *l = equality ? binary(p, h, 0) : unary(p, h);
  while (l) {
    const tok *op = peek(p);
    mlg_gx_node *r, *n;
    unsigned hr;
    int is_op = equality ? (op->type == T_EQ || op->type == T_NE)
                         : (op->type == T_LT || op->type == T_LE || op->type == T_GT ||
                            op->type == T_GE);
    if (!is_op)
      break;
    p->pos++;
    if (!(r = equality ? binary(p, &hr, 0) : unary(p, &hr)))
      return NULL;
    if (!(n = mk(p, MLG_GX_COMPARE, l->offset, end_of(r))))
      return NULL;
    n->name = op_name(op->type);
    n->left = l;
    n->right = r;
    *h = (hr > *h ? hr : *h) + 1;
    if (check_height(p, *h, op))
      return NULL;
    l = n;
  }
  return l;
}

/* a && b && c (or ||) is one node with every operand, as GitHub's. */
static mlg_gx_node *logical(parser *p, unsigned *h, int is_or)
{
  ttype op = is_or ? T_OR : T_AND;
  mlg_gx_node *first = is_or ? logical(p, h, 0) : binary(p, h, 1), *n = NULL;
  nvec args = {NULL, 0, 0};
  const tok *t = peek(p);

  if (!first || !check(p, op))
    return first;
  if (incr_depth(p) || nvec_push(p, &args, first))
    goto done;
  while (match(p, op)) {
    unsigned ha;
    mlg_gx_node *a = is_or ? logical(p, &ha, 0) : binary(p, &ha, 1);
    if (!a || nvec_push(p, &args, a))
      goto done;
    if (ha > *h)
      *h = ha;
  }
  p->depth--;
  *h += 1;
  if (check_height(p, *h, t))
    goto done;
  if ((n = mk(p, is_or ? MLG_GX_OR : MLG_GX_AND, first->offset, end_of(args.v[args.n - 1]))) &&
      nvec_to(p, &args, n))
    n = NULL;
done:
  free(args.v);
  return p->rc ? NULL : n;
}

static mlg_gx_node *expression(parser *p, unsigned *h)
{
  mlg_gx_node *n;
  if (incr_depth(p))
    return NULL;
  n = logical(p, h, 1);
  p->depth--;
  return n;
}

static int parse_tokens(parser *p)
{
  unsigned h;
  mlg_gx_node *root;
  if (check(p, T_EOF)) { /* nothing but whitespace: null */
    if (!(root = mk(p, MLG_GX_LITERAL, 0, 0)))
      return p->rc;
    if (!(root->value = mlg_node_null(p->gx->doc)))
      return oom(p);
    p->gx->root = root;
    return 0;
  }
  if (!(root = expression(p, &h)))
    return p->rc;
  if (!check(p, T_EOF)) {
    fail_at(p, "Unexpected symbol", NULL);
    return p->rc;
  }
  p->gx->root = root;
  return 0;
}

int mlg_gx_parse(mlg_gx **out, const char *text, size_t len, const mlg_gx_opts *opts,
                 mlg_gx_phase *phase, mlg_err *err)
{
  parser p;
  mlg_doc *doc = NULL;
  char *copy;
  int rc;

  *out = NULL;
  memset(&p, 0, sizeof p);
  p.err = err;
  p.phase = MLG_GX_LEXING;
  if (len > MLG_GX_MAX_LEN) {
    rc = mlg_err_set(err, MLG_ELIMIT, "Exceeded max expression length %zu (got %zu bytes)",
                     MLG_GX_MAX_LEN, len);
    goto done;
  }
  if (!(doc = mlg_doc_new("expression")) || !(p.gx = mlg_doc_alloc(doc, sizeof *p.gx)) ||
      !(copy = mlg_doc_strndup(doc, text ? text : "", len))) {
    rc = mlg_err_set(err, MLG_ENOMEM, "out of memory while parsing an expression");
    goto done;
  }
  p.gx->doc = doc;
  p.gx->text = copy;
  p.gx->len = len;
  p.text = copy;
  p.len = len;
  if (opts && opts->contexts) {
    p.ctx = opts->contexts;
    p.nctx = opts->ncontexts;
  } else {
    p.ctx = mlg_gx_std_contexts(&p.nctx);
  }
  p.any_context = opts && opts->any_context;
  if ((rc = lex(&p)) != 0)
    goto done;
  p.phase = MLG_GX_PARSING;
  if ((rc = parse_tokens(&p)) != 0)
    goto done;
  p.phase = MLG_GX_OK;
  *out = p.gx;
  doc = NULL;
done:
  free(p.t);
  mlg_doc_free(doc);
  if (phase)
    *phase = rc ? p.phase : MLG_GX_OK;
  return rc;
}

void mlg_gx_free(mlg_gx *gx)
{
  if (gx)
    mlg_doc_free(gx->doc);
}
