/*
 * POSIX-shell lexer (see shlex.h).
 *
 * One pass over the script. Nested constructs ($( ), ( ), { }, ${ },
 * $(( )), quotes inside them, case bodies, backquotes) recurse, and every
 * recursion passes through a counted level (SH_MAX_NEST), so the C stack
 * is bounded and the time is linear in the input. The one copy is the
 * body of a backquote substitution, which must be unescaped before it can
 * be lexed: it costs one copy per backquote nesting level.
 *
 * Everything the result points to lives in one arena (node.h), except the
 * command array itself.
 */
#include "shlex.h"

#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "buf.h"
#include "node.h"

#define SH_MAX_LEN ((size_t)1 << 20)
#define SH_MAX_WORDS 100000
#define SH_MAX_NEST 64

/* What ends a list of commands. */
enum { TERM_EOF, TERM_RPAREN, TERM_GROUP, TERM_CASE };
/* Inside [[ ]], < > ( ) & | are operands, not operators. */
enum { MODE_NORMAL, MODE_COND };
/* What parse_command found. */
enum { CMD_NONE, CMD_EMITTED, CMD_CLOSER, CMD_END };
/* How a case clause ended. */
enum { END_NONE, END_CLAUSE, END_WORD };
/* lex_word results besides the word. */
enum { LEX_PLAIN = 1, LEX_ASSIGN = 2 };
/* Reserved words, recognised unquoted in command position only. */
enum { KW_NONE, KW_SKIP, KW_CLOSE, KW_ESAC, KW_LBRACE, KW_RBRACE, KW_CASE, KW_FUNCTION,
       KW_COND, KW_FOR };

typedef struct sh_impl {
  mlg_sh_script pub; /* first: mlg_sh_free casts back */
  mlg_doc *arena;
} sh_impl;

typedef struct sh_doc {
  char *text;
  size_t offset;
  int set;
} sh_doc;

/* State shared by a parser and the parsers of its backquote bodies. */
typedef struct sh_shared {
  mlg_doc *arena;
  mlg_err *err;
  mlg_sh_cmd *cmds;
  size_t ncmds, ccap;
  sh_doc *docs; /* heredoc bodies, by the order of their << operators */
  size_t ndocs, dcap;
  mlg_buf scratch; /* word text being built; nested words stack after it */
  size_t nwords;
  unsigned npipes;
  int error;
  size_t error_offset;
  char error_msg[128];
} sh_shared;

/* A << operator whose body starts after the next newline token. */
typedef struct sh_pending {
  size_t id, op;
  const char *delim;
  size_t dlen;
  int strip, quoted;
} sh_pending;

typedef struct sh_parser {
  sh_shared *sh;
  const char *s;
  size_t len, pos;
  const uint32_t *map; /* script offset of each byte (backquote bodies), or NULL */
  sh_pending *pend;
  size_t npend, pcap;
  unsigned depth, nest;
  int in_subst;
} sh_parser;

typedef struct sh_ctx {
  int term;
  size_t open; /* where the construct being closed starts, for errors */
  const char *what;
} sh_ctx;

/* A simple command under construction. */
typedef struct sh_cmdb {
  mlg_sh_word *argv, *assigns;
  mlg_sh_redirect *redirs;
  size_t argc, nassigns, nredirs, vcap, acap, rcap;
  size_t start, end;
  int cond, is_for, first_plain;
} sh_cmdb;

static int parse_list(sh_parser *p, const sh_ctx *cx, long *pipe, long *last, int *how);
static int lex_word(sh_parser *p, int mode, mlg_sh_word *w, int keep, int *info);
static int scan_dollar(sh_parser *p, int in_dq, unsigned *flags);
static int scan_dquote(sh_parser *p, mlg_buf *out, unsigned *flags);
static int scan_backquote(sh_parser *p, int in_dq, unsigned *flags);

/* --- helpers --------------------------------------------------------------- */

static int at(const sh_parser *p, size_t i)
{
  return i < p->len ? (unsigned char)p->s[i] : -1;
}

static size_t orig(const sh_parser *p, size_t pos)
{
  return p->map ? p->map[pos] : pos;
}

static int fail(sh_parser *p, size_t pos, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

/* Records the first syntax error; the parse unwinds on MLG_EPARSE. */
static int fail(sh_parser *p, size_t pos, const char *fmt, ...)
{
  sh_shared *sh = p->sh;
  va_list ap;
  if (!sh->error) {
    sh->error = MLG_EPARSE;
    sh->error_offset = orig(p, pos);
    va_start(ap, fmt);
    vsnprintf(sh->error_msg, sizeof sh->error_msg, fmt, ap);
    va_end(ap);
  }
  return MLG_EPARSE;
}

static int oom(sh_parser *p)
{
  return mlg_err_set(p->sh->err, MLG_ENOMEM, "shell script: out of memory");
}

static int enter(sh_parser *p, size_t pos)
{
  if (p->nest >= SH_MAX_NEST)
    return mlg_err_set(p->sh->err, MLG_ELIMIT,
                       "shell script: nesting deeper than %d levels at offset %zu", SH_MAX_NEST,
                       orig(p, pos));
  p->nest++;
  return 0;
}

/* Returns arr (reallocated when full) or NULL when out of memory. */
static void *grow(void *arr, size_t *cap, size_t n, size_t size)
{
  size_t nc;
  void *np;
  if (n < *cap)
    return arr;
  nc = *cap ? *cap * 2 : 8;
  np = realloc(arr, nc * size);
  if (!np)
    return NULL;
  *cap = nc;
  return np;
}

/* Appends text without NUL bytes (bash drops them from its input too). */
static int put(sh_parser *p, mlg_buf *b, const char *s, size_t n)
{
  const char *z;
  if (!b)
    return 0;
  while (n && (z = memchr(s, '\0', n)) != NULL) {
    if (mlg_buf_put(b, s, (size_t)(z - s)))
      return oom(p);
    n -= (size_t)(z - s) + 1;
    s = z + 1;
  }
  if (mlg_buf_put(b, s, n))
    return oom(p);
  return 0;
}

static int putch(sh_parser *p, mlg_buf *b, int c)
{
  char ch = (char)c;
  return c ? put(p, b, &ch, 1) : 0;
}

static int is_name_start(int c)
{
  return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || c == '_';
}

static int is_name_char(int c)
{
  return is_name_start(c) || (c >= '0' && c <= '9');
}

/* Shell operator characters (outside [[ ]]). */
static int is_op(int c)
{
  return c == ';' || c == '&' || c == '|' || c == '(' || c == ')' || c == '<' || c == '>';
}

static void skip_blanks(sh_parser *p)
{
  for (;;) {
    int c = at(p, p->pos);
    if (c == ' ' || c == '\t' || (c == '\r' && at(p, p->pos + 1) == '\n'))
      p->pos++;
    else if (c == '\\' && at(p, p->pos + 1) == '\n')
      p->pos += 2;
    else if (c == '\\' && at(p, p->pos + 1) == '\r' && at(p, p->pos + 2) == '\n')
      p->pos += 3;
    else
      break;
  }
}

/* A comment runs to the newline, which stays (it is a token). GitHub
 * expressions in comments are not looked at: their value is unknown. */
static void skip_comment(sh_parser *p)
{
  const char *nl = memchr(p->s + p->pos, '\n', p->len - p->pos);
  p->pos = nl ? (size_t)(nl - p->s) : p->len;
}

static int is_tpl(const sh_parser *p, size_t i)
{
  return at(p, i) == '$' && at(p, i + 1) == '{' && at(p, i + 2) == '{';
}

/* --- heredocs ---------------------------------------------------------------- */

static int add_pending(sh_parser *p, size_t op, const mlg_sh_word *delim, int strip, size_t *id)
{
  sh_shared *sh = p->sh;
  sh_pending *h;
  void *np = grow(sh->docs, &sh->dcap, sh->ndocs, sizeof *sh->docs);
  if (!np)
    return oom(p);
  sh->docs = np;
  memset(&sh->docs[sh->ndocs], 0, sizeof *sh->docs);
  np = grow(p->pend, &p->pcap, p->npend, sizeof *p->pend);
  if (!np)
    return oom(p);
  p->pend = np;
  h = &p->pend[p->npend++];
  h->id = *id = sh->ndocs++;
  h->op = op;
  h->delim = delim->text;
  h->dlen = strlen(delim->text);
  h->strip = strip;
  h->quoted = (delim->flags & MLG_SHW_QUOTED) != 0;
  return 0;
}

/* An unquoted heredoc body is expanded when the command runs: the
 * substitutions in it are commands too. [bs, be) is the body. */
static int scan_heredoc_body(sh_parser *p, size_t bs, size_t be)
{
  size_t save_len = p->len, save_pos = p->pos;
  unsigned flags = 0;
  int rc = 0;

  p->len = be;
  p->pos = bs;
  while (rc == 0 && p->pos < p->len) {
    char c = p->s[p->pos];
    if (c == '\\')
      p->pos += 2;
    else if (c == '$')
      rc = scan_dollar(p, 1, &flags);
    else if (c == '`')
      rc = scan_backquote(p, 0, &flags);
    else
      p->pos++;
  }
  /* heredocs started inside the body and not read there are dropped */
  p->npend = 0;
  p->len = save_len;
  p->pos = save_pos;
  return rc;
}

static int read_heredoc(sh_parser *p, const sh_pending *h)
{
  mlg_buf body = MLG_BUF_INIT;
  size_t start = p->pos, bend = p->len;
  int found = 0, rc = 0;
  sh_doc *d;

  while (p->pos < p->len) {
    size_t ls = p->pos, le, next, t, e;
    const char *nl = memchr(p->s + ls, '\n', p->len - ls);
    le = nl ? (size_t)(nl - p->s) : p->len;
    next = nl ? le + 1 : le;
    t = ls;
    if (h->strip)
      while (t < le && p->s[t] == '\t')
        t++;
    e = le;
    if (e > t && p->s[e - 1] == '\r') /* CRLF scripts */
      e--;
    if (e - t == h->dlen && memcmp(p->s + t, h->delim, h->dlen) == 0) {
      bend = ls;
      p->pos = next;
      found = 1;
      break;
    }
    rc = put(p, &body, p->s + t, next - t);
    if (rc)
      goto done;
    p->pos = next;
  }
  d = &p->sh->docs[h->id];
  d->text = mlg_doc_strndup(p->sh->arena, body.ptr ? body.ptr : "", body.len);
  if (!d->text) {
    rc = oom(p);
    goto done;
  }
  d->offset = orig(p, start);
  d->set = 1;
  if (!found)
    rc = fail(p, h->op, "here-document '%.40s' is not terminated (no line '%.40s' before the end)",
              h->delim, h->delim);
  else if (!h->quoted)
    rc = scan_heredoc_body(p, start, bend);
done:
  mlg_buf_free(&body);
  return rc;
}

/* Consumes a newline token; the bodies of pending heredocs follow it. */
static int eat_newline(sh_parser *p)
{
  sh_pending *list = p->pend;
  size_t n = p->npend, i;
  int rc = 0;

  p->pos++;
  if (!n)
    return 0;
  p->pend = NULL;
  p->npend = p->pcap = 0;
  for (i = 0; i < n && rc == 0; i++)
    rc = read_heredoc(p, &list[i]);
  free(list);
  return rc;
}

/* Blanks, newlines and comments (where a list may continue). */
static int skip_space_nl(sh_parser *p)
{
  for (;;) {
    int c;
    skip_blanks(p);
    c = at(p, p->pos);
    if (c == '\n') {
      int rc = eat_newline(p);
      if (rc)
        return rc;
    } else if (c == '#') {
      skip_comment(p);
    } else {
      return 0;
    }
  }
}

/* --- quotes and expansions ---------------------------------------------------- */

/* GitHub's runner ends ${{ at the first "}}" outside a '...' literal, before
 * the shell sees anything: the expression is opaque, in any quoting. */
static int scan_template(sh_parser *p, unsigned *flags)
{
  size_t i, open = p->pos;
  int in_str = 0;
  for (i = open + 3; i < p->len; i++) {
    char c = p->s[i];
    if (c == '\'') {
      in_str = !in_str;
    } else if (!in_str && c == '}' && p->s[i - 1] == '}') {
      p->pos = i + 1;
      *flags |= MLG_SHW_TEMPLATE;
      return 0;
    }
  }
  return fail(p, open, "unterminated ${{ expression (no closing }})");
}

/* At a quote char of '...' ; appends the contents to out (may be NULL). */
static int scan_squote(sh_parser *p, mlg_buf *out, unsigned *flags)
{
  size_t open = p->pos++;
  int rc;
  for (;;) {
    size_t run = p->pos;
    while (p->pos < p->len && p->s[p->pos] != '\'' && p->s[p->pos] != '$')
      p->pos++;
    if ((rc = put(p, out, p->s + run, p->pos - run)) != 0)
      return rc;
    if (p->pos >= p->len)
      return fail(p, open, "unterminated single quote");
    if (p->s[p->pos] == '\'') {
      p->pos++;
      return 0;
    }
    if (is_tpl(p, p->pos)) {
      run = p->pos;
      if ((rc = scan_template(p, flags)) != 0 || (rc = put(p, out, p->s + run, p->pos - run)) != 0)
        return rc;
    } else {
      if ((rc = putch(p, out, '$')) != 0)
        return rc;
      p->pos++;
    }
  }
}

static int hexval(int c)
{
  if (c >= '0' && c <= '9')
    return c - '0';
  if (c >= 'a' && c <= 'f')
    return c - 'a' + 10;
  if (c >= 'A' && c <= 'F')
    return c - 'A' + 10;
  return -1;
}

static int put_utf8(sh_parser *p, mlg_buf *out, unsigned long cp)
{
  char u[4];
  size_t n;
  if (cp == 0 || cp > 0x10FFFF)
    return 0;
  if (cp < 0x80) {
    u[0] = (char)cp;
    n = 1;
  } else if (cp < 0x800) {
    u[0] = (char)(0xC0 | (cp >> 6));
    u[1] = (char)(0x80 | (cp & 0x3F));
    n = 2;
  } else if (cp < 0x10000) {
    u[0] = (char)(0xE0 | (cp >> 12));
    u[1] = (char)(0x80 | ((cp >> 6) & 0x3F));
    u[2] = (char)(0x80 | (cp & 0x3F));
    n = 3;
  } else {
    u[0] = (char)(0xF0 | (cp >> 18));
    u[1] = (char)(0x80 | ((cp >> 12) & 0x3F));
    u[2] = (char)(0x80 | ((cp >> 6) & 0x3F));
    u[3] = (char)(0x80 | (cp & 0x3F));
    n = 4;
  }
  return put(p, out, u, n);
}

/* One escape of $'...' after the backslash; p->pos is on the escaped char. */
static int ansi_escape(sh_parser *p, mlg_buf *out)
{
  static const char from[] = "abeEfnrtv\\'\"?";
  static const char to[] = "\a\b\033\033\f\n\r\t\v\\'\"?";
  int c = at(p, p->pos), d, n, max;
  const char *k = c > 0 ? strchr(from, c) : NULL;
  unsigned long v = 0;

  if (k) {
    p->pos++;
    return putch(p, out, to[k - from]);
  }
  if (c >= '0' && c <= '7') {
    for (n = 0; n < 3 && (d = at(p, p->pos)) >= '0' && d <= '7'; n++, p->pos++)
      v = v * 8 + (unsigned long)(d - '0');
    return putch(p, out, (int)(v & 0xFF));
  }
  if (c == 'x' || c == 'u' || c == 'U') {
    max = c == 'x' ? 2 : c == 'u' ? 4 : 8;
    p->pos++;
    for (n = 0; n < max && (d = hexval(at(p, p->pos))) >= 0; n++, p->pos++)
      v = v * 16 + (unsigned long)d;
    if (n == 0) /* not an escape after all */
      return put(p, out, c == 'x' ? "\\x" : c == 'u' ? "\\u" : "\\U", 2);
    return c == 'x' ? putch(p, out, (int)v) : put_utf8(p, out, v);
  }
  if (c == 'c' && at(p, p->pos + 1) > 0 && at(p, p->pos + 1) != '\'') {
    d = at(p, p->pos + 1);
    p->pos += 2;
    return putch(p, out, d == '?' ? 0x7F : (d & 0x1F));
  }
  return putch(p, out, '\\');
}

/* At the $ of $'...' (ANSI-C quoting). */
static int scan_ansi(sh_parser *p, mlg_buf *out, unsigned *flags)
{
  size_t open = p->pos;
  int rc = 0;
  p->pos += 2;
  for (;;) {
    int c = at(p, p->pos);
    if (c < 0)
      return fail(p, open, "unterminated $'...' string");
    if (c == '\'') {
      p->pos++;
      return 0;
    }
    if (c == '\\' && at(p, p->pos + 1) >= 0) {
      p->pos++;
      rc = ansi_escape(p, out);
    } else if (is_tpl(p, p->pos)) {
      size_t q = p->pos;
      rc = scan_template(p, flags);
      if (rc == 0)
        rc = put(p, out, p->s + q, p->pos - q);
    } else {
      rc = putch(p, out, c);
      p->pos++;
    }
    if (rc)
      return rc;
  }
}

/* At the $ of ${...}: scanned for the end and for what runs inside. */
static int scan_brace(sh_parser *p, int in_dq, unsigned *flags)
{
  size_t open = p->pos;
  int rc;
  if ((rc = enter(p, open)) != 0)
    return rc;
  p->pos += 2;
  for (;;) {
    int c = at(p, p->pos);
    if (c < 0) {
      rc = fail(p, open, "unterminated ${...}");
      break;
    }
    if (c == '}') {
      p->pos++;
      break;
    }
    if (c == '\\')
      p->pos += at(p, p->pos + 1) >= 0 ? 2 : 1;
    else if (c == '\'' && !in_dq)
      rc = scan_squote(p, NULL, flags);
    else if (c == '"')
      rc = scan_dquote(p, NULL, flags);
    else if (c == '$')
      rc = scan_dollar(p, in_dq, flags);
    else if (c == '`')
      rc = scan_backquote(p, in_dq, flags);
    else
      p->pos++;
    if (rc)
      break;
  }
  p->nest--;
  return rc;
}

/* After "((" or "$((" (at open): to the matching "))". Sets EXPANSION when
 * something is expanded inside. */
static int scan_arith(sh_parser *p, size_t open, const char *what, unsigned *flags)
{
  int rc, depth = 2;
  if ((rc = enter(p, open)) != 0)
    return rc;
  for (;;) {
    int c = at(p, p->pos);
    if (c < 0) {
      rc = fail(p, open, "unterminated %s...))", what);
      break;
    }
    if (c == '(') {
      depth++;
      p->pos++;
    } else if (c == ')') {
      p->pos++;
      if (--depth == 0)
        break;
    } else if (c == '\\') {
      p->pos += at(p, p->pos + 1) >= 0 ? 2 : 1;
    } else if (c == '\'') {
      rc = scan_squote(p, NULL, flags);
    } else if (c == '"') {
      rc = scan_dquote(p, NULL, flags);
    } else if (c == '$' || c == '`') {
      size_t q = p->pos;
      rc = c == '$' ? scan_dollar(p, 0, flags) : scan_backquote(p, 0, flags);
      if (p->pos - q > 1)
        *flags |= MLG_SHW_EXPANSION;
    } else {
      p->pos++;
    }
    if (rc)
      break;
  }
  p->nest--;
  return rc;
}

/* After "$(", "<(" or ">(" (at open): the commands inside, to the ")". */
static int scan_subst(sh_parser *p, size_t open, const char *what)
{
  sh_ctx cx;
  unsigned depth = p->depth;
  int in_subst = p->in_subst, how = END_NONE, rc;
  long pipe = -1, last = -1;

  cx.term = TERM_RPAREN;
  cx.open = open;
  cx.what = what;
  p->depth++;
  p->in_subst = 1;
  rc = parse_list(p, &cx, &pipe, &last, &how);
  p->depth = depth;
  p->in_subst = in_subst;
  return rc;
}

/* At a $: expansions are scanned (their commands emitted), the caller
 * keeps the text as written. A lone $ is literal. */
static int scan_dollar(sh_parser *p, int in_dq, unsigned *flags)
{
  size_t open = p->pos;
  int c1 = at(p, open + 1);

  if (c1 == '{') {
    if (at(p, open + 2) == '{')
      return scan_template(p, flags);
    *flags |= MLG_SHW_EXPANSION;
    return scan_brace(p, in_dq, flags);
  }
  if (c1 == '(') {
    *flags |= MLG_SHW_EXPANSION;
    if (at(p, open + 2) == '(') {
      p->pos += 3;
      return scan_arith(p, open, "$((", flags);
    }
    p->pos += 2;
    return scan_subst(p, open, "$(");
  }
  if (is_name_start(c1)) {
    p->pos += 2;
    while (is_name_char(at(p, p->pos)))
      p->pos++;
    *flags |= MLG_SHW_EXPANSION;
    return 0;
  }
  if (c1 > 0 && strchr("0123456789@*#?$!-", c1)) {
    p->pos += 2;
    *flags |= MLG_SHW_EXPANSION;
    return 0;
  }
  p->pos++;
  return 0;
}

static const unsigned char dqspecial[256] = {['"'] = 1, ['\\'] = 1, ['$'] = 1, ['`'] = 1};

/* At the opening quote of "...". */
static int scan_dquote(sh_parser *p, mlg_buf *out, unsigned *flags)
{
  size_t open = p->pos++, q;
  int rc = 0;
  for (;;) {
    int c, c1;
    q = p->pos;
    while (p->pos < p->len && !dqspecial[(unsigned char)p->s[p->pos]])
      p->pos++;
    if ((rc = put(p, out, p->s + q, p->pos - q)) != 0)
      return rc;
    c = at(p, p->pos);
    if (c < 0)
      return fail(p, open, "unterminated double quote");
    if (c == '"') {
      p->pos++;
      return 0;
    }
    q = p->pos;
    if (c == '\\') {
      c1 = at(p, p->pos + 1);
      if (c1 == '\n') {
        p->pos += 2;
      } else if (c1 == '\r' && at(p, p->pos + 2) == '\n') {
        p->pos += 3;
      } else if (is_tpl(p, p->pos + 1)) {
        p->pos++;
      } else if (c1 == '$' || c1 == '`' || c1 == '"' || c1 == '\\') {
        rc = putch(p, out, c1);
        p->pos += 2;
      } else {
        rc = putch(p, out, '\\');
        p->pos++;
      }
    } else {
      rc = c == '$' ? scan_dollar(p, 1, flags) : scan_backquote(p, 1, flags);
      if (rc == 0)
        rc = put(p, out, p->s + q, p->pos - q);
    }
    if (rc)
      return rc;
  }
}

/* At a backquote: finds the closing one, unescapes the body into a copy
 * (with the script offset of each byte) and lexes it as a script. */
static int scan_backquote(sh_parser *p, int in_dq, unsigned *flags)
{
  size_t open = p->pos, i = open + 1, end, k = 0;
  char *inner = NULL;
  uint32_t *map = NULL;
  sh_parser child;
  sh_ctx cx;
  long pipe = -1, last = -1;
  int rc = 0, how = END_NONE;

  while (i < p->len) {
    char c = p->s[i];
    if (c == '\\') {
      i += 2;
    } else if (c == '`') {
      break;
    } else if (is_tpl(p, i)) {
      size_t save = p->pos;
      p->pos = i;
      rc = scan_template(p, flags);
      i = p->pos;
      p->pos = save;
      if (rc)
        return rc;
    } else {
      i++;
    }
  }
  if (i >= p->len)
    return fail(p, open, "unterminated backquote");
  end = i;
  inner = malloc(end - open);
  map = malloc((end - open) * sizeof *map);
  if (!inner || !map) {
    rc = oom(p);
    goto done;
  }
  for (i = open + 1; i < end;) {
    char c = p->s[i];
    if (c == '\\' && i + 1 < end &&
        (p->s[i + 1] == '$' || p->s[i + 1] == '`' || p->s[i + 1] == '\\' ||
         (in_dq && p->s[i + 1] == '"'))) {
      map[k] = (uint32_t)orig(p, i);
      inner[k++] = p->s[i + 1];
      i += 2;
    } else {
      map[k] = (uint32_t)orig(p, i);
      inner[k++] = c;
      i++;
    }
  }
  map[k] = (uint32_t)orig(p, end);
  memset(&child, 0, sizeof child);
  child.sh = p->sh;
  child.s = inner;
  child.len = k;
  child.map = map;
  child.depth = p->depth + 1;
  child.nest = p->nest;
  child.in_subst = 1;
  cx.term = TERM_EOF;
  cx.open = 0;
  cx.what = "`";
  rc = parse_list(&child, &cx, &pipe, &last, &how);
  free(child.pend);
  if (rc == 0) {
    p->pos = end + 1;
    *flags |= MLG_SHW_EXPANSION;
  }
done:
  free(inner);
  free(map);
  return rc;
}

/* At the "(" of NAME=( ... ): each element is a word. */
static int scan_array(sh_parser *p, unsigned *flags)
{
  size_t open = p->pos;
  int rc;
  if ((rc = enter(p, open)) != 0)
    return rc;
  p->pos++;
  for (;;) {
    int c, info;
    mlg_sh_word w;
    skip_blanks(p);
    c = at(p, p->pos);
    if (c < 0) {
      rc = fail(p, open, "unterminated array assignment (no closing ')')");
      break;
    }
    if (c == ')') {
      p->pos++;
      break;
    }
    if (c == '\n') {
      rc = eat_newline(p);
    } else if (c == '#') {
      skip_comment(p);
    } else if (is_op(c) && !((c == '<' || c == '>') && at(p, p->pos + 1) == '(')) {
      rc = fail(p, p->pos, "unexpected '%c' in an array assignment", c);
    } else {
      rc = lex_word(p, MODE_NORMAL, &w, 0, &info);
      *flags |= w.flags;
    }
    if (rc)
      break;
  }
  p->nest--;
  return rc;
}

/* --- words --------------------------------------------------------------- */

/* Bytes a word can take as they are, without a look. */
static const unsigned char wspecial[256] = {
    [0] = 1,    [' '] = 1, ['\t'] = 1, ['\n'] = 1, ['\r'] = 1, [';'] = 1, ['&'] = 1,
    ['|'] = 1,  ['('] = 1, [')'] = 1,  ['<'] = 1,  ['>'] = 1,  ['\\'] = 1, ['\''] = 1,
    ['"'] = 1,  ['`'] = 1, ['$'] = 1,  ['*'] = 1,  ['?'] = 1,  ['['] = 1, [']'] = 1,
    ['='] = 1};

static int word_ends(const sh_parser *p, int mode, const char *t, size_t tlen, int plain)
{
  int c = at(p, p->pos);
  switch (c) {
  case -1:
  case ' ':
  case '\t':
  case '\n':
  case ';':
    return 1;
  case '\r':
    return at(p, p->pos + 1) == '\n';
  case '&':
  case '|':
  case '(':
  case ')':
  case '<':
  case '>':
    if (mode == MODE_NORMAL)
      return 1;
    /* inside [[ ]] these are operands, up to the closing ]] */
    return plain && tlen == 2 && t[0] == ']' && t[1] == ']';
  default:
    return 0;
  }
}

/* NAME, NAME+, NAME[...], NAME[...]+ : what may stand before = in an
 * assignment (checked on the raw text). */
static int assign_lhs(const char *s, size_t n)
{
  size_t i = 0;
  if (n && s[n - 1] == '+')
    n--;
  if (!n || !is_name_start((unsigned char)s[0]))
    return 0;
  while (i < n && is_name_char((unsigned char)s[i]))
    i++;
  if (i == n)
    return 1;
  return s[i] == '[' && s[n - 1] == ']' && n - i >= 3;
}

/* Lexes one word at p->pos (not at an operator or blank). With keep, the
 * text is copied into the arena; the span and flags are always filled. */
static int lex_word(sh_parser *p, int mode, mlg_sh_word *w, int keep, int *info)
{
  mlg_buf *tb = keep ? &p->sh->scratch : NULL;
  size_t mark = p->sh->scratch.len, start = p->pos, q;
  unsigned flags = 0;
  int plain = 1, bracket = 0, eq = 0, assign = 0, rc = 0, c, c1;

  memset(w, 0, sizeof *w);
  if (++p->sh->nwords > SH_MAX_WORDS)
    return mlg_err_set(p->sh->err, MLG_ELIMIT, "shell script: more than %d words",
                       SH_MAX_WORDS);
  c = at(p, start);
  if (mode == MODE_NORMAL && (c == '<' || c == '>') && at(p, start + 1) == '(') {
    p->pos += 2;
    rc = scan_subst(p, start, c == '<' ? "<(" : ">(");
    if (rc == 0)
      rc = put(p, tb, p->s + start, p->pos - start);
    flags |= MLG_SHW_EXPANSION;
    plain = 0;
  }
  while (rc == 0 && !word_ends(p, mode, tb && tb->ptr ? tb->ptr + mark : NULL,
                                tb ? tb->len - mark : 0, plain)) {
    c = (unsigned char)p->s[p->pos];
    if (!wspecial[c]) {
      q = p->pos;
      while (p->pos < p->len && !wspecial[(unsigned char)p->s[p->pos]])
        p->pos++;
      rc = put(p, tb, p->s + q, p->pos - q);
      continue;
    }
    q = p->pos;
    switch (c) {
    case 0:
      p->pos++;
      break;
    case '\\':
      c1 = at(p, p->pos + 1);
      if (c1 == '\n') {
        p->pos += 2;
      } else if (c1 == '\r' && at(p, p->pos + 2) == '\n') {
        p->pos += 3;
      } else if (c1 < 0) {
        rc = putch(p, tb, '\\');
        p->pos++;
      } else {
        /* a backslash before ${{ escapes a byte of the value GitHub puts
         * there, not the expression */
        if (!is_tpl(p, p->pos + 1)) {
          rc = putch(p, tb, c1);
          p->pos++;
        }
        p->pos++;
        flags |= MLG_SHW_QUOTED;
        plain = 0;
      }
      break;
    case '\'':
      rc = scan_squote(p, tb, &flags);
      flags |= MLG_SHW_QUOTED;
      plain = 0;
      break;
    case '"':
      rc = scan_dquote(p, tb, &flags);
      flags |= MLG_SHW_QUOTED;
      plain = 0;
      break;
    case '`':
      rc = scan_backquote(p, 0, &flags);
      if (rc == 0)
        rc = put(p, tb, p->s + q, p->pos - q);
      plain = 0;
      break;
    case '$':
      c1 = at(p, p->pos + 1);
      if (c1 == '\'') {
        rc = scan_ansi(p, tb, &flags);
        flags |= MLG_SHW_QUOTED;
        plain = 0;
      } else if (c1 == '"') {
        p->pos++;
        rc = scan_dquote(p, tb, &flags);
        flags |= MLG_SHW_QUOTED;
        plain = 0;
      } else {
        rc = scan_dollar(p, 0, &flags);
        if (rc == 0)
          rc = put(p, tb, p->s + q, p->pos - q);
        if (p->pos - q > 1)
          plain = 0;
      }
      break;
    case '*':
    case '?':
      flags |= MLG_SHW_GLOB;
      rc = putch(p, tb, c);
      p->pos++;
      break;
    case '[':
    case ']':
      if (c == ']' && bracket)
        flags |= MLG_SHW_GLOB;
      bracket |= c == '[';
      rc = putch(p, tb, c);
      p->pos++;
      break;
    case '=':
      rc = putch(p, tb, c);
      p->pos++;
      if (!eq) {
        eq = 1;
        assign = assign_lhs(p->s + start, q - start);
        if (assign && rc == 0 && at(p, p->pos) == '(') {
          q = p->pos;
          rc = scan_array(p, &flags);
          if (rc == 0)
            rc = put(p, tb, p->s + q, p->pos - q);
          plain = 0;
        }
      }
      break;
    default: /* \r not before \n; operators inside [[ ]] */
      rc = putch(p, tb, c);
      p->pos++;
      break;
    }
  }
  if (rc == 0 && keep) {
    w->text = mlg_doc_strndup(p->sh->arena, tb->ptr ? tb->ptr + mark : "", tb->len - mark);
    if (!w->text)
      rc = oom(p);
  }
  if (tb && tb->len > mark) {
    tb->len = mark;
    tb->ptr[mark] = '\0';
  }
  w->offset = orig(p, start);
  w->len = orig(p, p->pos) - w->offset;
  w->flags = flags;
  *info = (plain ? LEX_PLAIN : 0) | (assign ? LEX_ASSIGN : 0);
  return rc;
}

/* A word that is its raw text, e.g. ((...)). */
static int raw_word(sh_parser *p, size_t start, unsigned flags, mlg_sh_word *w)
{
  if (++p->sh->nwords > SH_MAX_WORDS)
    return mlg_err_set(p->sh->err, MLG_ELIMIT, "shell script: more than %d words",
                       SH_MAX_WORDS);
  memset(w, 0, sizeof *w);
  w->text = mlg_doc_strndup(p->sh->arena, p->s + start, p->pos - start);
  if (!w->text)
    return oom(p);
  w->offset = orig(p, start);
  w->len = orig(p, p->pos) - w->offset;
  w->flags = flags;
  return 0;
}

/* --- commands ------------------------------------------------------------ */

static int keyword(const char *s)
{
  static const struct {
    const char *word;
    int kw;
  } kws[] = {{"if", KW_SKIP},     {"then", KW_SKIP},     {"else", KW_SKIP},  {"elif", KW_SKIP},
             {"while", KW_SKIP},  {"until", KW_SKIP},    {"do", KW_SKIP},    {"!", KW_SKIP},
             {"fi", KW_CLOSE},    {"done", KW_CLOSE},    {"esac", KW_ESAC},  {"{", KW_LBRACE},
             {"}", KW_RBRACE},    {"case", KW_CASE},     {"[[", KW_COND},    {"for", KW_FOR},
             {"select", KW_FOR},  {"function", KW_FUNCTION}};
  size_t i;
  /* most command names start with none of these */
  if (!strchr("tewudf!{}cs[i", s[0]) || !s[0])
    return KW_NONE;
  for (i = 0; i < sizeof kws / sizeof kws[0]; i++)
    if (kws[i].word[0] == s[0] && strcmp(s, kws[i].word) == 0)
      return kws[i].kw;
  return KW_NONE;
}

static int cmd_empty(const sh_cmdb *cb)
{
  return cb->argc + cb->nassigns + cb->nredirs == 0;
}

static void cmdb_free(sh_cmdb *cb)
{
  free(cb->argv);
  free(cb->assigns);
  free(cb->redirs);
}

static int push_word(sh_parser *p, sh_cmdb *cb, const mlg_sh_word *w, int as_assign, size_t tok)
{
  void *np;
  if (cmd_empty(cb))
    cb->start = tok;
  if (as_assign) {
    np = grow(cb->assigns, &cb->acap, cb->nassigns, sizeof *cb->assigns);
    if (!np)
      return oom(p);
    cb->assigns = np;
    cb->assigns[cb->nassigns] = *w;
    /* assignments are not subject to pathname expansion */
    cb->assigns[cb->nassigns++].flags &= ~(unsigned)MLG_SHW_GLOB;
  } else {
    np = grow(cb->argv, &cb->vcap, cb->argc, sizeof *cb->argv);
    if (!np)
      return oom(p);
    cb->argv = np;
    cb->argv[cb->argc++] = *w;
  }
  cb->end = p->pos;
  return 0;
}

static void *arena_copy(sh_parser *p, const void *src, size_t n, size_t size)
{
  void *d;
  if (!n)
    return NULL;
  d = mlg_doc_alloc(p->sh->arena, n * size);
  if (d)
    memcpy(d, src, n * size);
  return d;
}

/* Appends the command (if it has anything) to the result. */
static int emit(sh_parser *p, sh_cmdb *cb, long *pipe, long *idx)
{
  sh_shared *sh = p->sh;
  mlg_sh_cmd *c;
  void *np;

  *idx = -1;
  if (cmd_empty(cb))
    return 0;
  np = grow(sh->cmds, &sh->ccap, sh->ncmds, sizeof *sh->cmds);
  if (!np)
    return oom(p);
  sh->cmds = np;
  c = &sh->cmds[sh->ncmds];
  memset(c, 0, sizeof *c);
  c->argv = arena_copy(p, cb->argv, cb->argc, sizeof *cb->argv);
  c->assigns = arena_copy(p, cb->assigns, cb->nassigns, sizeof *cb->assigns);
  c->redirs = arena_copy(p, cb->redirs, cb->nredirs, sizeof *cb->redirs);
  if ((cb->argc && !c->argv) || (cb->nassigns && !c->assigns) || (cb->nredirs && !c->redirs))
    return oom(p);
  c->argc = cb->argc;
  c->nassigns = cb->nassigns;
  c->nredirs = cb->nredirs;
  c->offset = orig(p, cb->start);
  c->len = orig(p, cb->end) - c->offset;
  c->pipeline = *pipe >= 0 ? (unsigned)*pipe : sh->npipes++;
  c->depth = p->depth;
  c->in_substitution = p->in_subst;
  *pipe = -1;
  *idx = (long)sh->ncmds++;
  cb->argc = cb->nassigns = cb->nredirs = 0;
  return 0;
}

/* At a redirection operator (after its fd, which started at tok). */
static int parse_redir(sh_parser *p, sh_cmdb *cb, size_t tok, int fd)
{
  size_t op = p->pos, id = 0;
  int c = at(p, op), c1 = at(p, op + 1), c2 = at(p, op + 2), rc, info;
  const char *o;
  mlg_sh_redirect r;
  void *np;

  if (c == '<') {
    if (c1 == '<')
      o = c2 == '<' ? "<<<" : c2 == '-' ? "<<-" : "<<";
    else
      o = c1 == '&' ? "<&" : c1 == '>' ? "<>" : "<";
  } else if (c == '>') {
    o = c1 == '>' ? ">>" : c1 == '&' ? ">&" : c1 == '|' ? ">|" : ">";
  } else {
    o = c2 == '>' ? "&>>" : "&>";
  }
  p->pos += strlen(o);
  skip_blanks(p);
  c = at(p, p->pos);
  if (c < 0 || c == '\n' || c == '#' ||
      (is_op(c) && !((c == '<' || c == '>') && at(p, p->pos + 1) == '(')))
    return fail(p, op, "redirection '%s' without a target", o);
  memset(&r, 0, sizeof r);
  r.fd = fd;
  memcpy(r.op, o, strlen(o) + 1);
  if ((rc = lex_word(p, MODE_NORMAL, &r.target, 1, &info)) != 0)
    return rc;
  if (strcmp(o, "<<") == 0 || strcmp(o, "<<-") == 0) {
    if ((rc = add_pending(p, op, &r.target, o[2] == '-', &id)) != 0)
      return rc;
    r.heredoc_offset = id + 1; /* resolved when the parse is over */
  }
  np = grow(cb->redirs, &cb->rcap, cb->nredirs, sizeof *cb->redirs);
  if (!np)
    return oom(p);
  cb->redirs = np;
  if (cmd_empty(cb))
    cb->start = tok;
  cb->redirs[cb->nredirs++] = r;
  cb->end = p->pos;
  return 0;
}

static int parse_group(sh_parser *p, int term, size_t open, const char *what, long *pipe,
                       long *last)
{
  sh_ctx cx;
  int how = END_NONE, rc;
  cx.term = term;
  cx.open = open;
  cx.what = what;
  p->depth++;
  rc = parse_list(p, &cx, pipe, last, &how);
  p->depth--;
  return rc;
}

/* After "case": the word, "in", then clauses up to "esac". The header
 * becomes a command of its own: case WORD in. */
static int parse_case(sh_parser *p, sh_cmdb *cb, size_t case_off, long *pipe, long *last)
{
  sh_ctx cx;
  mlg_sh_word w;
  size_t q;
  int rc, info, c;
  long idx;

  skip_blanks(p);
  c = at(p, p->pos);
  if (c < 0 || c == '\n' || c == '#' || is_op(c))
    return fail(p, case_off, "'case' without a word");
  q = p->pos;
  if ((rc = lex_word(p, MODE_NORMAL, &w, 1, &info)) != 0 ||
      (rc = push_word(p, cb, &w, 0, q)) != 0 || (rc = skip_space_nl(p)) != 0)
    return rc;
  q = p->pos;
  c = at(p, q);
  if (c < 0 || c == '#' || is_op(c))
    return fail(p, q, "expected 'in' after 'case WORD'");
  if ((rc = lex_word(p, MODE_NORMAL, &w, 1, &info)) != 0)
    return rc;
  if (!(info & LEX_PLAIN) || strcmp(w.text, "in") != 0)
    return fail(p, q, "expected 'in' after 'case WORD'");
  if ((rc = push_word(p, cb, &w, 0, q)) != 0 || (rc = emit(p, cb, pipe, &idx)) != 0)
    return rc;
  *last = idx;

  cx.term = TERM_CASE;
  cx.open = case_off;
  cx.what = "case";
  for (;;) {
    int paren = 0, got = 0, how = END_NONE;
    long cpipe = -1, l = -1;

    if ((rc = skip_space_nl(p)) != 0)
      return rc;
    if (at(p, p->pos) < 0)
      return fail(p, case_off, "'case' is not closed: missing 'esac'");
    if (at(p, p->pos) == '(') {
      paren = 1;
      p->pos++;
    }
    for (;;) { /* pattern [| pattern]... ) */
      skip_blanks(p);
      c = at(p, p->pos);
      if (!got) {
        if (c < 0 || c == '\n' || c == '#' || is_op(c))
          return fail(p, p->pos, "missing pattern in a case clause");
        q = p->pos;
        if ((rc = lex_word(p, MODE_NORMAL, &w, 0, &info)) != 0)
          return rc;
        if (!paren && (info & LEX_PLAIN) && p->pos - q == 4 && memcmp(p->s + q, "esac", 4) == 0)
          return 0;
        got = 1;
        paren = 1; /* "esac" is a pattern from here on */
      } else if (c == '|' && at(p, p->pos + 1) != '|') {
        p->pos++;
        got = 0;
      } else if (c == ')') {
        p->pos++;
        break;
      } else {
        return fail(p, p->pos, "expected ')' after a case pattern");
      }
    }
    if ((rc = parse_list(p, &cx, &cpipe, &l, &how)) != 0)
      return rc;
    if (l >= 0)
      *last = l;
    if (how == END_WORD)
      return 0;
  }
}

/* At "((" in command position (or after "for"): one raw word. */
static int arith_word(sh_parser *p, sh_cmdb *cb)
{
  size_t q = p->pos;
  unsigned flags = 0;
  mlg_sh_word w;
  int rc;
  p->pos += 2;
  if ((rc = scan_arith(p, q, "((", &flags)) != 0 || (rc = raw_word(p, q, flags, &w)) != 0)
    return rc;
  return push_word(p, cb, &w, 0, q);
}

/* One simple command, or a compound one: reserved words are dropped in
 * command position (so the command after "then" is the next word), groups
 * and subshells recurse. Stops before a separator. */
static int parse_command(sh_parser *p, const sh_ctx *cx, long *pipe, int *kind, long *idx)
{
  sh_cmdb cb;
  int rc = 0;

  memset(&cb, 0, sizeof cb);
  *kind = CMD_NONE;
  *idx = -1;
  for (;;) {
    int c, c1, info, kw;
    size_t tok;
    mlg_sh_word w;

    skip_blanks(p);
    tok = p->pos;
    c = at(p, tok);
    c1 = at(p, tok + 1);
    if (c < 0 || c == '\n')
      break;
    if (c == '#') {
      skip_comment(p);
      break;
    }
    if (cb.cond) {
      if (c == ';')
        break;
    } else if (c == '(') {
      if (cmd_empty(&cb) && c1 == '(') {
        rc = arith_word(p, &cb);
      } else if (cmd_empty(&cb)) {
        p->pos++;
        rc = parse_group(p, TERM_RPAREN, tok, "(", pipe, idx);
        *kind = CMD_CLOSER;
        goto done;
      } else if (cb.is_for && cb.argc == 1 && c1 == '(') {
        rc = arith_word(p, &cb);
      } else if (cb.argc == 1 && !cb.nassigns && !cb.nredirs && cb.first_plain) {
        /* NAME ( ) is a function definition: the body follows */
        p->pos++;
        skip_blanks(p);
        if (at(p, p->pos) != ')') {
          rc = fail(p, tok, "unexpected '('");
          goto done;
        }
        p->pos++;
        cb.argc = 0;
      } else {
        rc = fail(p, tok, "unexpected '('");
      }
      if (rc)
        goto done;
      continue;
    } else if (c == ';' || c == '|' || c == ')' || (c == '&' && c1 != '>')) {
      break;
    } else if (c == '&' || ((c == '<' || c == '>') && c1 != '(')) {
      if ((rc = parse_redir(p, &cb, tok, -1)) != 0)
        goto done;
      continue;
    } else if (c >= '0' && c <= '9') {
      size_t q = tok;
      long fd = 0;
      while (at(p, q) >= '0' && at(p, q) <= '9') {
        fd = fd * 10 + (at(p, q) - '0');
        if (fd > 0x7FFFFFFF)
          fd = 0x7FFFFFFF;
        q++;
      }
      if ((at(p, q) == '<' || at(p, q) == '>') && at(p, q + 1) != '(') {
        p->pos = q;
        if ((rc = parse_redir(p, &cb, tok, (int)fd)) != 0)
          goto done;
        continue;
      }
    }

    if ((rc = lex_word(p, cb.cond ? MODE_COND : MODE_NORMAL, &w, 1, &info)) != 0)
      goto done;
    if (p->pos == tok) { /* cannot happen; never loop on it */
      rc = fail(p, tok, "unexpected character");
      goto done;
    }
    kw = cmd_empty(&cb) && (info & LEX_PLAIN) ? keyword(w.text) : KW_NONE;
    switch (kw) {
    case KW_SKIP:
      continue;
    case KW_CLOSE:
      *kind = CMD_CLOSER;
      goto done;
    case KW_ESAC:
    case KW_RBRACE:
      if (cx->term == (kw == KW_ESAC ? TERM_CASE : TERM_GROUP))
        *kind = CMD_END;
      else
        rc = fail(p, tok, "unexpected '%s'", w.text);
      goto done;
    case KW_LBRACE:
      rc = parse_group(p, TERM_GROUP, tok, "{", pipe, idx);
      *kind = CMD_CLOSER;
      goto done;
    case KW_CASE:
      if ((rc = push_word(p, &cb, &w, 0, tok)) == 0)
        rc = parse_case(p, &cb, tok, pipe, idx);
      *kind = CMD_CLOSER;
      goto done;
    case KW_FUNCTION:
      skip_blanks(p);
      c = at(p, p->pos);
      if (c < 0 || c == '\n' || c == '#' || is_op(c)) {
        rc = fail(p, tok, "'function' without a name");
        goto done;
      }
      if ((rc = lex_word(p, MODE_NORMAL, &w, 0, &info)) != 0)
        goto done;
      skip_blanks(p);
      if (at(p, p->pos) == '(') {
        p->pos++;
        skip_blanks(p);
        if (at(p, p->pos) != ')') {
          rc = fail(p, p->pos, "expected ')' in a function definition");
          goto done;
        }
        p->pos++;
      }
      continue;
    case KW_COND:
      cb.cond = 1;
      break;
    case KW_FOR:
      cb.is_for = 1;
      break;
    default:
      break;
    }
    if (cb.cond && (info & LEX_PLAIN) && strcmp(w.text, "]]") == 0)
      cb.cond = 0;
    if (cmd_empty(&cb))
      cb.first_plain = (info & LEX_PLAIN) != 0;
    if ((rc = push_word(p, &cb, &w, (info & LEX_ASSIGN) && cb.argc == 0, tok)) != 0)
      goto done;
  }
  if ((rc = emit(p, &cb, pipe, idx)) == 0 && *idx >= 0)
    *kind = CMD_EMITTED;
done:
  cmdb_free(&cb);
  return rc;
}

/* --- lists ------------------------------------------------------------------ */

static void set_sep(sh_shared *sh, long idx, const char *sep, int closer)
{
  mlg_sh_cmd *c = &sh->cmds[idx];
  /* after fi/done/}/): a ; or newline does not hide the | or && that
   * followed the last command inside */
  if (closer && c->sep[0] && (sep[0] == ';' || sep[0] == '\n'))
    return;
  memcpy(c->sep, sep, strlen(sep) + 1);
}

static int fail_open(sh_parser *p, const sh_ctx *cx)
{
  if (cx->term == TERM_RPAREN)
    return fail(p, cx->open, "'%s' is not closed: missing ')'", cx->what);
  if (cx->term == TERM_GROUP)
    return fail(p, cx->open, "'{' is not closed: missing '}'");
  return fail(p, cx->open, "'case' is not closed: missing 'esac'");
}

/* Commands and separators up to the end of cx. *pipe is the pipeline the
 * next command joins (-1: a new one); *last is the last command at this
 * level (or of a compound command closed at this level). */
static int parse_list(sh_parser *p, const sh_ctx *cx, long *pipe, long *last, int *how)
{
  long pending = -1;
  int closer = 0, rc;

  *last = -1;
  *how = END_NONE;
  if ((rc = enter(p, p->pos)) != 0)
    return rc;
  for (;;) {
    int c, c1, kind;
    const char *sep = NULL;
    long idx;

    skip_blanks(p);
    c = at(p, p->pos);
    c1 = at(p, p->pos + 1);
    if (c < 0) {
      if (cx->term != TERM_EOF)
        rc = fail_open(p, cx);
      else if (p->npend)
        rc = fail(p, p->pend[0].op, "here-document '%.40s' has no body", p->pend[0].delim);
      break;
    }
    if (c == '#') {
      skip_comment(p);
      continue;
    }
    if (c == '\n') {
      if ((rc = eat_newline(p)) != 0)
        break;
      if (pending >= 0) {
        set_sep(p->sh, pending, "\n", closer);
        *pipe = -1;
      }
      pending = -1;
      closer = 0;
      continue;
    }
    if (c == ')') {
      if (cx->term == TERM_RPAREN)
        p->pos++;
      else
        rc = fail(p, p->pos, "unexpected ')'");
      break;
    }
    if (c == ';' && (c1 == ';' || c1 == '&')) { /* ;; ;& ;;& end a case clause */
      if (cx->term != TERM_CASE) {
        rc = fail(p, p->pos, "unexpected '%s'", c1 == ';' ? ";;" : ";&");
        break;
      }
      p->pos += c1 == ';' && at(p, p->pos + 2) == '&' ? 3 : 2;
      if (pending >= 0)
        set_sep(p->sh, pending, ";", closer);
      *how = END_CLAUSE;
      break;
    }
    if (c == ';')
      sep = ";";
    else if (c == '&' && c1 == '&')
      sep = "&&";
    else if (c == '&' && c1 != '>')
      sep = "&";
    else if (c == '|')
      sep = c1 == '|' ? "||" : c1 == '&' ? "|&" : "|";
    if (sep) {
      if (pending < 0 && !closer) {
        rc = fail(p, p->pos, "unexpected '%s'", sep);
        break;
      }
      p->pos += strlen(sep);
      if (pending >= 0) {
        set_sep(p->sh, pending, sep, closer);
        *pipe = sep[0] == '|' && sep[1] != '|' ? (long)p->sh->cmds[pending].pipeline : -1;
      } else {
        *pipe = -1;
      }
      pending = -1;
      closer = 0;
      continue;
    }
    if ((rc = parse_command(p, cx, pipe, &kind, &idx)) != 0)
      break;
    if (kind == CMD_EMITTED) {
      pending = *last = idx;
      closer = 0;
    } else if (kind == CMD_CLOSER) {
      if (idx < 0)
        idx = *last;
      pending = *last = idx;
      closer = 1;
    } else if (kind == CMD_END) {
      *how = END_WORD;
      break;
    }
  }
  p->nest--;
  return rc;
}

/* --- entry points ------------------------------------------------------------- */

/* Drops what follows a syntax error, numbers the pipelines left 0, 1, ...
 * in order of appearance and attaches heredoc bodies. */
static int finish(sh_shared *sh)
{
  size_t i, j, n = 0;
  unsigned *renum = NULL, next = 0;

  if (sh->error && sh->npipes) {
    renum = malloc(sh->npipes * sizeof *renum);
    if (!renum)
      return mlg_err_set(sh->err, MLG_ENOMEM, "shell script: out of memory");
    memset(renum, 0xFF, sh->npipes * sizeof *renum);
  }
  for (i = 0; i < sh->ncmds; i++) {
    mlg_sh_cmd *c = &sh->cmds[i];
    if (sh->error && c->offset >= sh->error_offset)
      continue;
    if (renum) {
      if (renum[c->pipeline] == 0xFFFFFFFFu)
        renum[c->pipeline] = next++;
      c->pipeline = renum[c->pipeline];
    }
    for (j = 0; j < c->nredirs; j++) {
      mlg_sh_redirect *r = &c->redirs[j];
      size_t id = r->heredoc_offset;
      r->heredoc_offset = 0;
      if (id && id <= sh->ndocs && sh->docs[id - 1].set) {
        r->heredoc = sh->docs[id - 1].text;
        r->heredoc_offset = sh->docs[id - 1].offset;
      }
    }
    sh->cmds[n++] = *c;
  }
  sh->ncmds = n;
  free(renum);
  return 0;
}

int mlg_sh_parse(mlg_sh_script **out, const char *text, size_t len, mlg_err *err)
{
  sh_shared sh;
  sh_parser p;
  sh_ctx cx;
  sh_impl *impl;
  long pipe = -1, last;
  int how, rc;

  *out = NULL;
  if (!text && len)
    return mlg_err_set(err, MLG_EINVAL, "shell script: no text");
  if (len > SH_MAX_LEN)
    return mlg_err_set(err, MLG_ELIMIT, "shell script of %zu bytes is over the %zu-byte limit",
                       len, SH_MAX_LEN);
  memset(&sh, 0, sizeof sh);
  sh.err = err;
  sh.arena = mlg_doc_new(NULL);
  if (!sh.arena)
    return mlg_err_set(err, MLG_ENOMEM, "shell script: out of memory");
  memset(&p, 0, sizeof p);
  p.sh = &sh;
  p.s = text ? text : "";
  p.len = len;
  cx.term = TERM_EOF;
  cx.open = 0;
  cx.what = "";
  rc = parse_list(&p, &cx, &pipe, &last, &how);
  free(p.pend);
  if (rc == 0 || rc == MLG_EPARSE) {
    impl = calloc(1, sizeof *impl);
    if (!impl || finish(&sh) != 0) {
      free(impl);
      rc = mlg_err_set(err, MLG_ENOMEM, "shell script: out of memory");
    } else {
      impl->arena = sh.arena;
      impl->pub.cmds = sh.cmds;
      impl->pub.ncmds = sh.ncmds;
      impl->pub.error = sh.error;
      impl->pub.error_offset = sh.error_offset;
      memcpy(impl->pub.error_msg, sh.error_msg, sizeof sh.error_msg);
      sh.arena = NULL;
      sh.cmds = NULL;
      *out = &impl->pub;
      rc = 0;
    }
  }
  free(sh.cmds);
  free(sh.docs);
  mlg_buf_free(&sh.scratch);
  mlg_doc_free(sh.arena);
  return rc;
}

void mlg_sh_free(mlg_sh_script *s)
{
  sh_impl *impl = (sh_impl *)s;
  if (!impl)
    return;
  free(impl->pub.cmds);
  mlg_doc_free(impl->arena);
  free(impl);
}
