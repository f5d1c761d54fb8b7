/*
 * Strict RFC 8259 JSON to mlg_doc trees.
 *
 * Hand-written and iterative (an explicit frame stack, capped by
 * max_depth), so hostile nesting cannot reach the C stack. Strict: one
 * value, no comments, no trailing commas, no leading "+" or zeros, no
 * byte order mark, UTF-8 validated everywhere, lone surrogates refused.
 *
 * Positions: lines are 1-based (LF, CR and CRLF end a line: only
 * whitespace can hold them); columns are 1-based and count bytes, not
 * characters, unlike the YAML parser; offsets are byte offsets.
 */
#include "parse.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "strtab.h"
#include "utf8.h"


typedef struct jframe {
  mlg_node *node;  /* MLG_SEQ or MLG_MAP */
  mlg_node *key;   /* MAP: name of the member being parsed */
  size_t replace;  /* MAP: pair the pending member replaces, or NONE */
  mlg_mapkeys keys;
} jframe;

typedef struct jp {
  const unsigned char *s;
  size_t len, i;
  size_t line, line_start; /* current line and the offset where it starts */
  mlg_doc *doc;
  const char *name;
  mlg_err *err;
  size_t max_depth, max_nodes, nodes;
  int allow_dup;
  jframe *stack;
  size_t depth, cap;
} jp;

static int fail_at(jp *p, int code, size_t off, const char *fmt, ...)
    __attribute__((format(printf, 4, 5)));

/* off is on the current line: tokens never span lines. */
static int fail_at(jp *p, int code, size_t off, const char *fmt, ...)
{
  char msg[768];
  va_list ap;
  va_start(ap, fmt);
  vsnprintf(msg, sizeof msg, fmt, ap);
  va_end(ap);
  return mlg_err_set(p->err, code, "%s:%zu:%zu: %s", p->name, p->line,
                     off - p->line_start + 1, msg);
}

static int arena_fail(jp *p, size_t off)
{
  if (p->doc->limit_bytes)
    return fail_at(p, MLG_ELIMIT, off, "document needs more than %zu bytes of memory",
                   p->doc->limit_bytes);
  return fail_at(p, MLG_ENOMEM, off, "out of memory");
}

static int count_node(jp *p, size_t off)
{
  if (++p->nodes > p->max_nodes)
    return fail_at(p, MLG_ELIMIT, off, "document has more than %zu nodes", p->max_nodes);
  return 0;
}

/* Names the character at off for "unexpected ..." messages. */
static const char *describe(const jp *p, size_t off, char *buf, size_t size)
{
  uint32_t cp;
  unsigned char c;

  if (off >= p->len)
    return "end of input";
  c = p->s[off];
  if (c >= 0x21 && c < 0x7F)
    snprintf(buf, size, "'%c'", c);
  else if (c < 0x80)
    snprintf(buf, size, "character U+%04X", c);
  else if (mlg_utf8_decode(p->s + off, p->len - off, &cp))
    snprintf(buf, size, "character U+%04X", (unsigned)cp);
  else
    snprintf(buf, size, "byte 0x%02X", c);
  return buf;
}

static void skip_ws(jp *p)
{
  const unsigned char *s = p->s;
  size_t i = p->i, n = p->len;

  while (i < n) {
    unsigned char c = s[i];
    if (c == ' ' || c == '\t') {
      i++;
    } else if (c == '\n' || c == '\r') {
      i++;
      if (c == '\r' && i < n && s[i] == '\n')
        i++;
      p->line++;
      p->line_start = i;
    } else {
      break;
    }
  }
  p->i = i;
}

static void set_span(jp *p, mlg_node *n, size_t start, size_t end)
{
  uint32_t line = p->line >= UINT32_MAX ? UINT32_MAX : (uint32_t)p->line;
  size_t c0 = start - p->line_start + 1, c1 = end - p->line_start + 1;
  n->span.line = n->span.end_line = line;
  n->span.col = c0 >= UINT32_MAX ? UINT32_MAX : (uint32_t)c0;
  n->span.end_col = c1 >= UINT32_MAX ? UINT32_MAX : (uint32_t)c1;
  n->span.offset = start;
  n->span.end_offset = end;
}

/* --- strings ------------------------------------------------------------ */

static int hex4(const unsigned char *s, uint32_t *v)
{
  uint32_t r = 0;
  int k;
  for (k = 0; k < 4; k++) {
    unsigned char c = s[k];
    r <<= 4;
    if (c >= '0' && c <= '9')
      r |= (uint32_t)(c - '0');
    else if (c >= 'a' && c <= 'f')
      r |= (uint32_t)(c - 'a' + 10);
    else if (c >= 'A' && c <= 'F')
      r |= (uint32_t)(c - 'A' + 10);
    else
      return 0;
  }
  *v = r;
  return 1;
}

/* The escape at s[i] == '\\': its code point and length in the source, or
 * an error (p non-NULL only on the checking pass). */
static int escape(jp *p, const unsigned char *s, size_t n, size_t i, uint32_t *cp,
                  size_t *used)
{
  uint32_t hi, lo;
  char d[32];

  if (i + 1 >= n)
    return p ? fail_at(p, MLG_EPARSE, i, "unterminated string") : MLG_EPARSE;
  switch (s[i + 1]) {
  case '"': *cp = '"'; break;
  case '\\': *cp = '\\'; break;
  case '/': *cp = '/'; break;
  case 'b': *cp = '\b'; break;
  case 'f': *cp = '\f'; break;
  case 'n': *cp = '\n'; break;
  case 'r': *cp = '\r'; break;
  case 't': *cp = '\t'; break;
  case 'u':
    if (i + 6 > n || !hex4(s + i + 2, &hi))
      return p ? fail_at(p, MLG_EPARSE, i, "\\u must be followed by four hex digits")
               : MLG_EPARSE;
    if (hi >= 0xDC00 && hi <= 0xDFFF)
      return p ? fail_at(p, MLG_EPARSE, i, "lone low surrogate \\u%04X in string",
                         (unsigned)hi)
               : MLG_EPARSE;
    if (hi >= 0xD800 && hi <= 0xDBFF) {
      if (i + 12 > n || s[i + 6] != '\\' || s[i + 7] != 'u' || !hex4(s + i + 8, &lo) ||
          lo < 0xDC00 || lo > 0xDFFF)
        return p ? fail_at(p, MLG_EPARSE, i, "lone high surrogate \\u%04X in string",
                           (unsigned)hi)
                 : MLG_EPARSE;
      *cp = 0x10000 + ((hi - 0xD800) << 10) + (lo - 0xDC00);
      *used = 12;
      return 0;
    }
    *cp = hi;
    *used = 6;
    return 0;
  default:
    if (!p)
      return MLG_EPARSE;
    if (s[i + 1] >= 0x21 && s[i + 1] < 0x7F)
      return fail_at(p, MLG_EPARSE, i, "invalid escape '\\%c' in string", s[i + 1]);
    return fail_at(p, MLG_EPARSE, i, "invalid escape: backslash followed by %s in string",
                   describe(p, i + 1, d, sizeof d));
  }
  *used = 2;
  return 0;
}

static size_t cp_len(uint32_t cp)
{
  return cp < 0x80 ? 1 : cp < 0x800 ? 2 : cp < 0x10000 ? 3 : 4;
}

/* p->i is at the opening quote. Checks everything first, then copies;
 * strings without escapes are copied in one go. */
static int string(jp *p, mlg_node **out)
{
  const unsigned char *s = p->s;
  size_t n = p->len, start = p->i, i = start + 1, outlen = 0, used;
  int has_esc = 0, rc;
  uint32_t cp;
  mlg_node *node;
  char *buf;

  for (;;) {
    while (i < n && s[i] >= 0x20 && s[i] < 0x80 && s[i] != '"' && s[i] != '\\') {
      i++;
      outlen++;
    }
    if (i >= n)
      return fail_at(p, MLG_EPARSE, start, "unterminated string");
    if (s[i] == '"')
      break;
    if (s[i] == '\\') {
      if ((rc = escape(p, s, n, i, &cp, &used)) != 0)
        return rc;
      has_esc = 1;
      i += used;
      outlen += cp_len(cp);
    } else if (s[i] < 0x20) {
      return fail_at(p, MLG_EPARSE, i, "control character U+%04X in string must be escaped",
                     s[i]);
    } else {
      used = mlg_utf8_decode(s + i, n - i, &cp);
      if (!used)
        return fail_at(p, MLG_EPARSE, i, "invalid UTF-8 byte 0x%02X in string", s[i]);
      i += used;
      outlen += used;
    }
  }
  if ((rc = count_node(p, start)) != 0)
    return rc;
  if (!has_esc) {
    node = mlg_node_strn(p->doc, (const char *)s + start + 1, outlen);
    if (!node)
      return arena_fail(p, start);
  } else {
    size_t j = start + 1, o = 0;
    node = mlg_node_new(p->doc, MLG_STR);
    buf = node ? mlg_doc_alloc(p->doc, outlen + 1) : NULL;
    if (!buf)
      return arena_fail(p, start);
    while (j < i) {
      if (s[j] == '\\') {
        escape(NULL, s, n, j, &cp, &used);
        o += mlg_utf8_encode(buf + o, cp);
        j += used;
      } else {
        buf[o++] = (char)s[j++];
      }
    }
    buf[o] = '\0';
    node->u.str.ptr = buf;
    node->u.str.len = o;
  }
  node->style = MLG_STYLE_DOUBLE;
  p->i = i + 1;
  set_span(p, node, start, p->i);
  *out = node;
  return 0;
}

/* --- numbers and literals ----------------------------------------------- */

static int is_digit(unsigned char c)
{
  return c >= '0' && c <= '9';
}

static int number(jp *p, mlg_node **out)
{
  const unsigned char *s = p->s;
  size_t n = p->len, start = p->i, i = start;
  int is_int = 1, neg = 0, rc;
  mlg_node *node = NULL;
  char d[32];

  if (s[i] == '-') {
    neg = 1;
    i++;
  }
  if (i >= n || !is_digit(s[i]))
    return fail_at(p, MLG_EPARSE, i, "expected a digit after '-', found %s",
                   describe(p, i, d, sizeof d));
  if (s[i] == '0') {
    i++;
    if (i < n && is_digit(s[i]))
      return fail_at(p, MLG_EPARSE, start, "leading zeros are not allowed in numbers");
  } else {
    while (i < n && is_digit(s[i]))
      i++;
  }
  if (i < n && s[i] == '.') {
    is_int = 0;
    i++;
    if (i >= n || !is_digit(s[i]))
      return fail_at(p, MLG_EPARSE, i, "expected a digit after the decimal point, found %s",
                     describe(p, i, d, sizeof d));
    while (i < n && is_digit(s[i]))
      i++;
  }
  if (i < n && (s[i] == 'e' || s[i] == 'E')) {
    is_int = 0;
    i++;
    if (i < n && (s[i] == '+' || s[i] == '-'))
      i++;
    if (i >= n || !is_digit(s[i]))
      return fail_at(p, MLG_EPARSE, i, "expected a digit in the exponent, found %s",
                     describe(p, i, d, sizeof d));
    while (i < n && is_digit(s[i]))
      i++;
  }
  if ((rc = count_node(p, start)) != 0)
    return rc;
  if (is_int) {
    uint64_t u = 0, lim = neg ? (uint64_t)INT64_MAX + 1 : (uint64_t)INT64_MAX;
    size_t j = start + (size_t)neg;
    for (; j < i; j++) {
      uint64_t v = (uint64_t)(s[j] - '0');
      if (u > (lim - v) / 10)
        break;
      u = u * 10 + v;
    }
    if (j == i)
      node = mlg_node_int(p->doc, neg ? (int64_t)(0 - u) : (int64_t)u);
    else
      is_int = 0;
    if (is_int && !node)
      return arena_fail(p, start);
  }
  if (!is_int) {
    /* strtod needs a terminated copy; the grammar above is a subset of
     * what strtod accepts, and the "C" locale is never changed. */
    char small[64], *tmp = small;
    size_t len = i - start;
    if (len >= sizeof small && !(tmp = malloc(len + 1)))
      return fail_at(p, MLG_ENOMEM, start, "out of memory");
    memcpy(tmp, s + start, len);
    tmp[len] = '\0';
    node = mlg_node_float(p->doc, strtod(tmp, NULL));
    if (tmp != small)
      free(tmp);
    if (!node)
      return arena_fail(p, start);
  }
  node->style = MLG_STYLE_PLAIN;
  p->i = i;
  set_span(p, node, start, i);
  *out = node;
  return 0;
}

static int literal(jp *p, mlg_node **out)
{
  static const char *const words[] = {"true", "false", "null"};
  size_t start = p->i, k, w;
  mlg_node *node;
  int rc;

  for (w = 0; w < 3; w++) {
    k = strlen(words[w]);
    if (p->len - start >= k && memcmp(p->s + start, words[w], k) == 0)
      break;
  }
  if (w == 3)
    return fail_at(p, MLG_EPARSE, start, "invalid literal (expected true, false or null)");
  if ((rc = count_node(p, start)) != 0)
    return rc;
  node = w == 2 ? mlg_node_null(p->doc) : mlg_node_bool(p->doc, w == 0);
  if (!node)
    return arena_fail(p, start);
  node->style = MLG_STYLE_PLAIN;
  p->i = start + k;
  set_span(p, node, start, p->i);
  *out = node;
  return 0;
}

/* --- containers ----------------------------------------------------------- */

static int open_container(jp *p, int is_map)
{
  size_t start = p->i;
  mlg_node *node;
  jframe *f;
  int rc;

  if (p->depth >= p->max_depth)
    return fail_at(p, MLG_ELIMIT, start, "nesting deeper than %zu levels", p->max_depth);
  if ((rc = count_node(p, start)) != 0)
    return rc;
  node = is_map ? mlg_node_map(p->doc) : mlg_node_seq(p->doc);
  if (!node)
    return arena_fail(p, start);
  node->style = MLG_STYLE_FLOW;
  set_span(p, node, start, start + 1);
  if (p->depth == p->cap) {
    size_t ncap = p->cap ? p->cap * 2 : 16;
    jframe *st = realloc(p->stack, ncap * sizeof *st);
    if (!st)
      return fail_at(p, MLG_ENOMEM, start, "out of memory");
    p->stack = st;
    p->cap = ncap;
  }
  f = &p->stack[p->depth++];
  f->node = node;
  f->key = NULL;
  f->replace = MLG_STRTAB_NONE;
  mlg_mapkeys_init(&f->keys);
  p->i = start + 1;
  return 0;
}

/* p->i is at the closing bracket; returns the finished container. */
static mlg_node *close_container(jp *p)
{
  jframe *f = &p->stack[--p->depth];
  mlg_node *node = f->node;
  size_t c1 = p->i + 1 - p->line_start + 1;

  mlg_mapkeys_free(&f->keys);
  p->i++;
  node->span.end_line = p->line >= UINT32_MAX ? UINT32_MAX : (uint32_t)p->line;
  node->span.end_col = c1 >= UINT32_MAX ? UINT32_MAX : (uint32_t)c1;
  node->span.end_offset = p->i;
  return node;
}

/* Member name and ':' of an object; after_comma only sharpens the message. */
static int member_name(jp *p, jframe *f, int after_comma)
{
  mlg_node *key;
  size_t idx;
  char d[32], q[160];
  int rc;

  skip_ws(p);
  if (p->i >= p->len || p->s[p->i] != '"') {
    if (after_comma && p->i < p->len && p->s[p->i] == '}')
      return fail_at(p, MLG_EPARSE, p->i, "trailing comma before '}'");
    return fail_at(p, MLG_EPARSE, p->i, "expected a string member name, found %s",
                   describe(p, p->i, d, sizeof d));
  }
  if ((rc = string(p, &key)) != 0)
    return rc;
  idx = mlg_mapkeys_find(&f->keys, f->node, key->u.str.ptr, key->u.str.len);
  if (idx != MLG_STRTAB_NONE && !p->allow_dup) {
    mlg_utf8_quote(q, sizeof q, key->u.str.ptr, key->u.str.len);
    return fail_at(p, MLG_EPARSE, key->span.offset, "duplicate key '%s' (first at line %u)",
                   q, f->node->u.map.pairs[idx].key->span.line);
  }
  f->key = key;
  f->replace = idx;
  skip_ws(p);
  if (p->i >= p->len || p->s[p->i] != ':')
    return fail_at(p, MLG_EPARSE, p->i, "expected ':' after member name, found %s",
                   describe(p, p->i, d, sizeof d));
  p->i++;
  return 0;
}

static int add_to(jp *p, jframe *f, mlg_node *v)
{
  if (f->node->type == MLG_SEQ)
    return mlg_seq_push(p->doc, f->node, v) ? arena_fail(p, p->i) : 0;
  if (f->replace != MLG_STRTAB_NONE) {
    f->node->u.map.pairs[f->replace].val = v;
  } else {
    if (mlg_map_put(p->doc, f->node, f->key, v))
      return arena_fail(p, p->i);
    if (mlg_mapkeys_sync(&f->keys, f->node))
      return fail_at(p, MLG_ENOMEM, p->i, "out of memory");
  }
  f->key = NULL;
  f->replace = MLG_STRTAB_NONE;
  return 0;
}

static int parse(jp *p, mlg_node **root)
{
  int after_comma = 0, rc;
  char d[32];

  for (;;) {
    mlg_node *v = NULL;
    jframe *f;
    unsigned char c;

    rc = 0;
    /* A value is expected here. */
    skip_ws(p);
    if (p->i >= p->len)
      return fail_at(p, MLG_EPARSE, p->i, "unexpected end of input, expected a JSON value");
    c = p->s[p->i];
    if (c == '{' || c == '[') {
      if ((rc = open_container(p, c == '{')) != 0)
        return rc;
      f = &p->stack[p->depth - 1];
      skip_ws(p);
      if (p->i < p->len && p->s[p->i] == (c == '{' ? '}' : ']')) {
        v = close_container(p);
      } else if (c == '{') {
        if ((rc = member_name(p, f, 0)) != 0)
          return rc;
        after_comma = 0;
        continue;
      } else {
        after_comma = 0;
        continue;
      }
    } else if (c == '"') {
      rc = string(p, &v);
    } else if (c == '-' || is_digit(c)) {
      rc = number(p, &v);
    } else if (c == 't' || c == 'f' || c == 'n') {
      rc = literal(p, &v);
    } else if (after_comma && c == ']') {
      return fail_at(p, MLG_EPARSE, p->i, "trailing comma before ']'");
    } else {
      return fail_at(p, MLG_EPARSE, p->i, "unexpected %s, expected a JSON value",
                     describe(p, p->i, d, sizeof d));
    }
    if (rc)
      return rc;

    /* Attach the finished value, closing containers as they end. */
    for (;;) {
      if (p->depth == 0) {
        *root = v;
        skip_ws(p);
        if (p->i < p->len)
          return fail_at(p, MLG_EPARSE, p->i, "unexpected %s after the JSON value",
                         describe(p, p->i, d, sizeof d));
        return 0;
      }
      f = &p->stack[p->depth - 1];
      if ((rc = add_to(p, f, v)) != 0)
        return rc;
      skip_ws(p);
      c = p->i < p->len ? p->s[p->i] : 0;
      if (c == ',') {
        p->i++;
        after_comma = 1;
        if (f->node->type == MLG_MAP && (rc = member_name(p, f, 1)) != 0)
          return rc;
        break;
      }
      if (c == (f->node->type == MLG_MAP ? '}' : ']')) {
        v = close_container(p);
        continue;
      }
      if (p->i >= p->len)
        return fail_at(p, MLG_EPARSE, p->i, "unexpected end of input, expected ',' or '%c'",
                       f->node->type == MLG_MAP ? '}' : ']');
      return fail_at(p, MLG_EPARSE, p->i, "expected ',' or '%c', found %s",
                     f->node->type == MLG_MAP ? '}' : ']', describe(p, p->i, d, sizeof d));
    }
  }
}

int mlg_json_parse(mlg_doc **out, const char *text, size_t len, const char *name,
                   const mlg_parse_opts *opts, mlg_err *err)
{
  jp p;
  mlg_node *root = NULL;
  size_t max_bytes;
  mlg_parse_opts lim;
  int rc;

  if (!out)
    return mlg_err_set(err, MLG_EINVAL, "mlg_json_parse: no output");
  *out = NULL;
  if (!text && len)
    return mlg_err_set(err, MLG_EINVAL, "mlg_json_parse: no input");
  memset(&p, 0, sizeof p);
  p.s = (const unsigned char *)(text ? text : "");
  p.len = len;
  p.line = 1;
  p.name = name ? name : "<input>";
  p.err = err;
  mlg_parse_limits(&lim, opts, len);
  max_bytes = lim.max_bytes;
  p.max_depth = lim.max_depth;
  p.max_nodes = lim.max_nodes;
  p.allow_dup = opts && opts->allow_duplicates;

  if (len > max_bytes)
    return fail_at(&p, MLG_ELIMIT, 0, "input of %zu bytes exceeds the limit of %zu bytes",
                   len, max_bytes);
  if (len >= 3 && memcmp(text, "\xEF\xBB\xBF", 3) == 0)
    return fail_at(&p, MLG_EPARSE, 0, "byte order mark is not allowed at the start of JSON");
  if (!(p.doc = mlg_doc_new(p.name)))
    return mlg_err_set(err, MLG_ENOMEM, "%s: out of memory", p.name);
  p.doc->limit_bytes = lim.max_doc_bytes;
  rc = parse(&p, &root);
  if (!rc && (rc = mlg_doc_add_root(p.doc, root)) != 0)
    mlg_err_set(err, rc, "%s: out of memory", p.name);
  while (p.depth)
    mlg_mapkeys_free(&p.stack[--p.depth].keys);
  free(p.stack);
  if (rc) {
    mlg_doc_free(p.doc);
    return rc;
  }
  *out = p.doc;
  return 0;
}
