/*
 * NumPy .npy header (numpy/lib/format.py, _read_array_header): magic
 * "\x93NUMPY", version (1,0) with a 16-bit header length or (2,0)/(3,0)
 * with a 32-bit one, then a Python dict literal that numpy reads with
 * ast.literal_eval: exactly the keys 'descr', 'fortran_order' and 'shape'
 * (any order, duplicates allowed by Python, the last one counting),
 * fortran_order a bool, shape a tuple of ints, descr a dtype string, a
 * (dtype, shape) tuple or a list of (name, dtype[, shape]) fields.
 *
 * The literal parser takes the part of Python's literal syntax that
 * headers use: '...' and "..." strings (u prefix, escapes, adjacent
 * literals joined), decimal ints (sign, underscores, the Python 2 'L'
 * suffix numpy filters out of version 1 and 2 headers), True, False,
 * None, tuples, lists and dicts, with any whitespace and trailing commas.
 * Anything else is npy-malformed, which fails closed: an artifact numpy
 * might read differently is never passed silently.
 */
#include "npy.h"

#include <ctype.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "utf8.h"

#ifdef MLG_FUZZING /* small caps, so that fuzzing reaches them */
#define NPY_MAX_HEADER ((uint32_t)1024)
#define NPY_MAX_NODES 200
#else
#define NPY_MAX_HEADER ((uint32_t)1 << 20) /* numpy's own default cap is 10000 */
#define NPY_MAX_NODES 100000
#endif
#define NPY_MAX_DEPTH 32
#define NPY_MAX_DIMS 32
#define NPY_QUOTE 120

enum { P_STR, P_INT, P_BOOL, P_NONE, P_TUPLE, P_LIST, P_DICT };

typedef struct pv pv;
struct pv {
  int type;
  size_t start, end; /* source span */
  char *s;           /* P_STR: decoded bytes, NUL-terminated */
  size_t slen;
  int neg, big;      /* P_INT: sign; magnitude past 64 bits */
  uint64_t mag;      /* P_INT magnitude, P_BOOL value */
  pv **items;        /* P_TUPLE/P_LIST items; P_DICT key, value, key, ... */
  size_t n, cap;
};

typedef struct np {
  const char *t;
  size_t len, i;
  unsigned depth, nodes;
  int filter_l;   /* versions 1 and 2 drop Python 2's 'L' after ints */
  pv **all;       /* every node, to free */
  size_t nall, capall;
  char why[200];  /* first syntax error */
  int oom;
} np;

/* --- literal parser --------------------------------------------------------- */

static int fail(np *p, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

static int fail(np *p, const char *fmt, ...)
{
  va_list ap;
  if (!p->why[0]) {
    va_start(ap, fmt);
    vsnprintf(p->why, sizeof p->why, fmt, ap);
    va_end(ap);
  }
  return -1;
}

static pv *node(np *p, int type)
{
  pv *v;
  if (++p->nodes > NPY_MAX_NODES) {
    fail(p, "header has too many values");
    return NULL;
  }
  if (p->nall == p->capall) {
    size_t cap = p->capall ? p->capall * 2 : 32;
    pv **a = realloc(p->all, cap * sizeof *a);
    if (!a) {
      p->oom = 1;
      return NULL;
    }
    p->all = a;
    p->capall = cap;
  }
  if (!(v = calloc(1, sizeof *v))) {
    p->oom = 1;
    return NULL;
  }
  p->all[p->nall++] = v;
  v->type = type;
  v->start = p->i;
  return v;
}

static int push(np *p, pv *v, pv *item)
{
  if (v->n == v->cap) {
    size_t cap = v->cap ? v->cap * 2 : 4;
    pv **a = realloc(v->items, cap * sizeof *a);
    if (!a) {
      p->oom = 1;
      return -1;
    }
    v->items = a;
    v->cap = cap;
  }
  v->items[v->n++] = item;
  return 0;
}

static void ws(np *p)
{
  while (p->i < p->len) {
    char c = p->t[p->i];
    if (c == ' ' || c == '\t' || c == '\n' || c == '\r' || c == '\f')
      p->i++;
    else if (c == '\\' && p->i + 1 < p->len && p->t[p->i + 1] == '\n')
      p->i += 2; /* explicit line joining */
    else
      break;
  }
}

static int hexval(char c)
{
  if (c >= '0' && c <= '9')
    return c - '0';
  if (c >= 'a' && c <= 'f')
    return c - 'a' + 10;
  if (c >= 'A' && c <= 'F')
    return c - 'A' + 10;
  return -1;
}

/* One quoted literal appended to v->s (escapes as Python reads them). */
static int quoted(np *p, pv *v)
{
  char q = p->t[p->i++];
  char *s;

  if (p->i + 1 < p->len && p->t[p->i] == q && p->t[p->i + 1] == q)
    return fail(p, "triple-quoted strings are not supported");
  /* Decoded text is never longer than the source. */
  s = realloc(v->s, v->slen + (p->len - p->i) + 1);
  if (!s) {
    p->oom = 1;
    return -1;
  }
  v->s = s;
  while (p->i < p->len && p->t[p->i] != q) {
    char c = p->t[p->i++];
    if (c == '\n')
      return fail(p, "newline in a string");
    if (c != '\\') {
      s[v->slen++] = c;
      continue;
    }
    if (p->i >= p->len)
      break;
    c = p->t[p->i++];
    switch (c) {
    case '\n': break;
    case '\\': case '\'': case '"': s[v->slen++] = c; break;
    case 'n': s[v->slen++] = '\n'; break;
    case 't': s[v->slen++] = '\t'; break;
    case 'r': s[v->slen++] = '\r'; break;
    case 'a': s[v->slen++] = '\a'; break;
    case 'b': s[v->slen++] = '\b'; break;
    case 'f': s[v->slen++] = '\f'; break;
    case 'v': s[v->slen++] = '\v'; break;
    case 'x': {
      int h1 = p->i < p->len ? hexval(p->t[p->i]) : -1;
      int h2 = p->i + 1 < p->len ? hexval(p->t[p->i + 1]) : -1;
      if (h1 < 0 || h2 < 0)
        return fail(p, "bad \\x escape in a string");
      s[v->slen++] = (char)(h1 * 16 + h2);
      p->i += 2;
      break;
    }
    default:
      if (c >= '0' && c <= '7') {
        unsigned o = (unsigned)(c - '0'), k;
        for (k = 0; k < 2 && p->i < p->len && p->t[p->i] >= '0' && p->t[p->i] <= '7'; k++)
          o = o * 8 + (unsigned)(p->t[p->i++] - '0');
        if (o > 0xff)
          return fail(p, "octal escape out of range in a string");
        s[v->slen++] = (char)o;
      } else if (c == 'u' || c == 'U' || c == 'N') {
        return fail(p, "\\%c escapes are not supported in headers", c);
      } else {
        s[v->slen++] = '\\'; /* Python keeps unknown escapes */
        s[v->slen++] = c;
      }
    }
  }
  if (p->i >= p->len)
    return fail(p, "unterminated string");
  p->i++;
  s[v->slen] = '\0';
  return 0;
}

static int string(np *p, pv **out)
{
  pv *v = node(p, P_STR);
  if (!v)
    return -1;
  for (;;) {
    if (p->t[p->i] == 'u' || p->t[p->i] == 'U')
      p->i++;
    if (quoted(p, v))
      return -1;
    v->end = p->i;
    ws(p);
    /* Adjacent literals are one string. */
    if (p->i < p->len && (p->t[p->i] == '\'' || p->t[p->i] == '"' ||
                          ((p->t[p->i] == 'u' || p->t[p->i] == 'U') && p->i + 1 < p->len &&
                           (p->t[p->i + 1] == '\'' || p->t[p->i + 1] == '"'))))
      continue;
    break;
  }
  if (!v->s && !(v->s = calloc(1, 1))) {
    p->oom = 1;
    return -1;
  }
  *out = v;
  return 0;
}

static int number(np *p, pv **out)
{
  pv *v = node(p, P_INT);
  size_t digits = 0;

  if (!v)
    return -1;
  while (p->i < p->len && (p->t[p->i] == '-' || p->t[p->i] == '+')) {
    if (p->t[p->i] == '-')
      v->neg = !v->neg;
    p->i++;
    ws(p);
  }
  if (p->i < p->len && p->t[p->i] == '0' && p->i + 1 < p->len && p->t[p->i + 1] >= '0' &&
      p->t[p->i + 1] <= '9')
    return fail(p, "integers with leading zeros are not valid Python");
  while (p->i < p->len) {
    char c = p->t[p->i];
    if (c >= '0' && c <= '9') {
      unsigned d = (unsigned)(c - '0');
      if (v->mag > (UINT64_MAX - d) / 10)
        v->big = 1;
      v->mag = v->mag * 10 + d;
      digits++;
      p->i++;
    } else if (c == '_' && digits && p->i + 1 < p->len && p->t[p->i + 1] >= '0' &&
               p->t[p->i + 1] <= '9') {
      p->i++;
    } else {
      break;
    }
  }
  if (!digits)
    return fail(p, "expected a value");
  if (p->i < p->len && (p->t[p->i] == '.' || p->t[p->i] == 'e' || p->t[p->i] == 'E' ||
                        p->t[p->i] == 'j' || p->t[p->i] == 'J' || p->t[p->i] == 'x' ||
                        p->t[p->i] == 'X' || p->t[p->i] == 'o' || p->t[p->i] == 'b'))
    return fail(p, "only decimal integers are supported");
  if (p->filter_l && p->i < p->len && p->t[p->i] == 'L')
    p->i++;
  v->end = p->i;
  *out = v;
  return 0;
}

static int value(np *p, pv **out);

/* Items up to the closing bracket; 1 when a comma was seen. */
static int items(np *p, pv *v, char close, int dict, int *comma)
{
  *comma = 0;
  for (;;) {
    pv *k, *val;
    ws(p);
    if (p->i < p->len && p->t[p->i] == close) {
      p->i++;
      return 0;
    }
    if (value(p, &k))
      return -1;
    if (dict) {
      ws(p);
      if (p->i >= p->len || p->t[p->i] != ':')
        return fail(p, "expected ':' in a dict");
      p->i++;
      if (value(p, &val))
        return -1;
      if (push(p, v, k) || push(p, v, val))
        return -1;
    } else if (push(p, v, k)) {
      return -1;
    }
    ws(p);
    if (p->i < p->len && p->t[p->i] == ',') {
      p->i++;
      *comma = 1;
      continue;
    }
    ws(p);
    if (p->i < p->len && p->t[p->i] == close) {
      p->i++;
      return 0;
    }
    return fail(p, "expected ',' or '%c'", close);
  }
}

static int value(np *p, pv **out)
{
  pv *v;
  char c;
  int comma, rc;

  ws(p);
  if (p->i >= p->len)
    return fail(p, "unexpected end of the header");
  if (p->depth >= NPY_MAX_DEPTH)
    return fail(p, "header nested more than %d deep", NPY_MAX_DEPTH);
  c = p->t[p->i];
  if (c == '\'' || c == '"' ||
      ((c == 'u' || c == 'U') && p->i + 1 < p->len &&
       (p->t[p->i + 1] == '\'' || p->t[p->i + 1] == '"')))
    return string(p, out);
  if ((c >= '0' && c <= '9') || c == '-' || c == '+')
    return number(p, out);
  if (c == '(' || c == '[' || c == '{') {
    if (!(v = node(p, c == '(' ? P_TUPLE : c == '[' ? P_LIST : P_DICT)))
      return -1;
    p->i++;
    p->depth++;
    rc = items(p, v, c == '(' ? ')' : c == '[' ? ']' : '}', c == '{', &comma);
    p->depth--;
    if (rc)
      return -1;
    v->end = p->i;
    /* (x) is x, not a tuple */
    if (c == '(' && v->n == 1 && !comma) {
      *out = v->items[0];
      return 0;
    }
    *out = v;
    return 0;
  }
  {
    static const struct {
      const char *w;
      int type, val;
    } words[] = {{"True", P_BOOL, 1}, {"False", P_BOOL, 0}, {"None", P_NONE, 0}};
    size_t k, e = p->i;
    while (e < p->len && (isalnum((unsigned char)p->t[e]) || p->t[e] == '_'))
      e++;
    for (k = 0; k < 3; k++) {
      if (e - p->i == strlen(words[k].w) && memcmp(p->t + p->i, words[k].w, e - p->i) == 0) {
        if (!(v = node(p, words[k].type)))
          return -1;
        v->mag = (uint64_t)words[k].val;
        p->i = e;
        v->end = e;
        *out = v;
        return 0;
      }
    }
  }
  return fail(p, "unexpected character '%c'", c >= 0x20 && c < 0x7f ? c : '?');
}

/* --- dtypes ------------------------------------------------------------------ */

typedef struct dt_name {
  const char *name;
  unsigned size; /* 0: object */
} dt_name;

/* numpy's one-letter type codes (x86-64 sizes), which take a byte order. */
static const dt_name dt_codes[] = {
    {"?", 1}, {"b", 1}, {"B", 1}, {"h", 2}, {"H", 2}, {"i", 4},  {"I", 4},  {"l", 8},
    {"L", 8}, {"q", 8}, {"Q", 8}, {"p", 8}, {"P", 8}, {"e", 2},  {"f", 4},  {"d", 8},
    {"g", 16}, {"F", 8}, {"D", 16}, {"G", 32}, {"c", 1}, {"S", 0}, {"a", 0}, {"U", 0},
    {"V", 0}, {"M", 8}, {"m", 8},
};

/* and its type names (numpy 1.24), which take none. */
static const dt_name dt_names[] = {
    {"bool", 1},        {"bool_", 1},       {"bool8", 1},        {"int8", 1},
    {"int16", 2},       {"int32", 4},       {"int64", 8},        {"uint8", 1},
    {"uint16", 2},      {"uint32", 4},      {"uint64", 8},       {"float16", 2},
    {"float32", 4},     {"float64", 8},     {"float128", 16},    {"complex64", 8},
    {"complex128", 16}, {"complex256", 32}, {"byte", 1},         {"ubyte", 1},
    {"short", 2},       {"ushort", 2},      {"intc", 4},         {"uintc", 4},
    {"int", 8},         {"int_", 8},        {"int0", 8},         {"uint", 8},
    {"uint0", 8},       {"intp", 8},        {"uintp", 8},        {"long", 8},
    {"ulong", 8},       {"longlong", 8},    {"ulonglong", 8},    {"half", 2},
    {"single", 4},      {"double", 8},      {"float", 8},        {"float_", 8},
    {"longdouble", 16}, {"longfloat", 16},  {"csingle", 8},      {"singlecomplex", 8},
    {"cdouble", 16},    {"complex", 16},    {"complex_", 16},    {"cfloat", 16},
    {"clongdouble", 32}, {"clongfloat", 32}, {"longcomplex", 32}, {"str", 0},
    {"str_", 0},        {"str0", 0},        {"unicode", 0},      {"unicode_", 0},
    {"bytes", 0},       {"bytes_", 0},      {"bytes0", 0},       {"string_", 0},
    {"void", 0},        {"void0", 0},
};

static const dt_name *lookup(const dt_name *t, size_t n, const char *s, size_t len)
{
  size_t k;
  for (k = 0; k < n; k++) {
    if (strlen(t[k].name) == len && memcmp(t[k].name, s, len) == 0)
      return &t[k];
  }
  return NULL;
}

static int all_digits(const char *s, size_t n)
{
  size_t i;
  if (!n)
    return 0;
  for (i = 0; i < n; i++) {
    if (s[i] < '0' || s[i] > '9')
      return 0;
  }
  return 1;
}

static int parse_size(const char *s, size_t n, uint64_t *out)
{
  size_t i;
  uint64_t v = 0;
  if (!all_digits(s, n) || n > 12)
    return 0;
  for (i = 0; i < n; i++)
    v = v * 10 + (uint64_t)(s[i] - '0');
  *out = v;
  return 1;
}

/* datetime unit suffix "[ns]", "[10ms]", or none. */
static int time_unit(const char *s, size_t n)
{
  static const char *const units[] = {"Y", "M", "W", "D", "h", "m", "s", "ms",
                                      "us", "\xce\xbcs", "ns", "ps", "fs", "as", "generic"};
  size_t i = 0, k;
  if (n == 0)
    return 1;
  if (s[0] != '[' || s[n - 1] != ']')
    return 0;
  s++;
  n -= 2;
  while (i < n && s[i] >= '0' && s[i] <= '9')
    i++;
  for (k = 0; k < sizeof units / sizeof units[0]; k++) {
    if (n - i == strlen(units[k]) && memcmp(s + i, units[k], n - i) == 0)
      return 1;
  }
  return 0;
}

/* A dtype string as numpy.dtype reads it: itemsize and whether it is
 * object. -1 when numpy would refuse it. */
static int typestr(const char *s, size_t n, uint64_t *size, int *obj)
{
  const dt_name *d;
  uint64_t num;
  int order = 0;

  *obj = 0;
  if (n && (s[0] == '<' || s[0] == '>' || s[0] == '|' || s[0] == '=')) {
    s++;
    n--;
    order = 1;
  }
  if (!n)
    return -1;
  /* Python objects, however spelt: flagging too much only costs a scan. */
  if (s[0] == 'O' || (n >= 6 && memcmp(s, "object", 6) == 0)) {
    *obj = 1;
    *size = 0;
    return 0;
  }
  if ((d = lookup(dt_codes, sizeof dt_codes / sizeof dt_codes[0], s, n)) ||
      (!order && (d = lookup(dt_names, sizeof dt_names / sizeof dt_names[0], s, n)))) {
    *size = d->size;
    return 0;
  }
  switch (s[0]) {
  case 'b':
    if (n == 2 && s[1] == '1') {
      *size = 1;
      return 0;
    }
    return -1;
  case 'i': case 'u':
    if (parse_size(s + 1, n - 1, &num) && (num == 1 || num == 2 || num == 4 || num == 8)) {
      *size = num;
      return 0;
    }
    return -1;
  case 'f':
    if (parse_size(s + 1, n - 1, &num) && (num == 2 || num == 4 || num == 8 || num == 16)) {
      *size = num;
      return 0;
    }
    return -1;
  case 'c':
    if (parse_size(s + 1, n - 1, &num) && (num == 8 || num == 16 || num == 32)) {
      *size = num;
      return 0;
    }
    return -1;
  case 'S': case 'a': case 'V':
    if (parse_size(s + 1, n - 1, &num)) {
      *size = num;
      return 0;
    }
    return -1;
  case 'U':
    if (parse_size(s + 1, n - 1, &num) && num <= UINT64_MAX / 4) {
      *size = num * 4;
      return 0;
    }
    return -1;
  case 'm': case 'M':
    /* "M", "M8", "M8[ns]"; a unit needs the 8 */
    if (n >= 2 && s[1] == '8' && time_unit(s + 2, n - 2)) {
      *size = 8;
      return 0;
    }
    return -1;
  default: break;
  }
  /* the one name that takes a byte order */
  if ((n >= 10 && memcmp(s, "datetime64", 10) == 0 && time_unit(s + 10, n - 10)) ||
      (n >= 11 && memcmp(s, "timedelta64", 11) == 0 && time_unit(s + 11, n - 11))) {
    *size = 8;
    return 0;
  }
  return -1;
}

static int shape_count(const pv *v, uint64_t *out)
{
  size_t i;
  uint64_t n = 1;
  if (v->type == P_INT) {
    if (v->neg && v->mag)
      return -1;
    *out = v->mag;
    return v->big ? -1 : 0;
  }
  if (v->type != P_TUPLE)
    return -1;
  for (i = 0; i < v->n; i++) {
    const pv *d = v->items[i];
    if (d->type != P_INT || d->big || (d->neg && d->mag))
      return -1;
    if (d->mag && n > UINT64_MAX / d->mag)
      return -1;
    n *= d->mag;
  }
  *out = n;
  return 0;
}

/* descr_to_dtype: itemsize (0 when object or unknown) and object flag.
 * Returns -1 and a reason when numpy would not accept the description. */
static int dtype_of(const pv *d, uint64_t *size, int *obj, unsigned depth, char *why,
                    size_t wsz)
{
  size_t i;
  uint64_t total = 0;
  int any_obj = 0;

  *obj = 0;
  *size = 0;
  if (depth > NPY_MAX_DEPTH) {
    snprintf(why, wsz, "dtype nested too deep");
    return -1;
  }
  if (d->type == P_STR) {
    if (typestr(d->s, d->slen, size, obj) == 0)
      return 0;
    {
      char q[NPY_QUOTE];
      mlg_utf8_quote(q, sizeof q, d->s, d->slen);
      snprintf(why, wsz, "dtype '%s' is not recognised", q);
    }
    return -1;
  }
  if (d->type == P_TUPLE && d->n == 2) {
    uint64_t count;
    if (dtype_of(d->items[0], size, obj, depth + 1, why, wsz))
      return -1;
    if (shape_count(d->items[1], &count)) {
      snprintf(why, wsz, "sub-array shape is not a non-negative int or tuple of ints");
      return -1;
    }
    if (*obj)
      return 0;
    if (count && *size > UINT64_MAX / count) {
      snprintf(why, wsz, "dtype size overflows");
      return -1;
    }
    *size *= count;
    return 0;
  }
  if (d->type != P_LIST) {
    snprintf(why, wsz, "descr is neither a dtype string nor a list of fields");
    return -1;
  }
  for (i = 0; i < d->n; i++) {
    const pv *f = d->items[i], *name;
    uint64_t fs;
    int fo;
    if ((f->type != P_TUPLE && f->type != P_LIST) || (f->n != 2 && f->n != 3)) {
      snprintf(why, wsz, "field %zu is not a (name, dtype) or (name, dtype, shape) tuple", i);
      return -1;
    }
    name = f->items[0];
    if (name->type != P_STR &&
        !(name->type == P_TUPLE && name->n == 2 && name->items[1]->type == P_STR)) {
      snprintf(why, wsz, "field %zu has a name that is not a string", i);
      return -1;
    }
    if (f->n == 2) {
      if (dtype_of(f->items[1], &fs, &fo, depth + 1, why, wsz))
        return -1;
    } else {
      pv sub;
      pv *two[2];
      memset(&sub, 0, sizeof sub);
      sub.type = P_TUPLE;
      two[0] = f->items[1];
      two[1] = f->items[2];
      sub.items = two;
      sub.n = 2;
      if (dtype_of(&sub, &fs, &fo, depth + 1, why, wsz))
        return -1;
    }
    any_obj |= fo;
    if (total > UINT64_MAX - fs) {
      snprintf(why, wsz, "dtype size overflows");
      return -1;
    }
    total += fs;
  }
  *obj = any_obj;
  *size = any_obj ? 0 : total;
  return 0;
}

/* --- header ----------------------------------------------------------------- */

static void np_free(np *p)
{
  size_t i;
  for (i = 0; i < p->nall; i++) {
    free(p->all[i]->s);
    free(p->all[i]->items);
    free(p->all[i]);
  }
  free(p->all);
}

static int str_is(const pv *v, const char *s)
{
  return v->type == P_STR && v->slen == strlen(s) && memcmp(v->s, s, v->slen) == 0;
}

/* Interprets the dict; 0, or -1 with the reason in why. */
static int interpret(mlg_npy_info *info, const char *text, const pv *root, char *why, size_t wsz,
                     int *dups)
{
  const pv *descr = NULL, *fo = NULL, *shape = NULL;
  size_t i;
  uint64_t itemsize = 0;
  int obj = 0;

  *dups = 0;
  if (root->type != P_DICT) {
    snprintf(why, wsz, "header is not a dict");
    return -1;
  }
  for (i = 0; i + 1 < root->n; i += 2) {
    const pv *k = root->items[i], *v = root->items[i + 1];
    const pv **slot = str_is(k, "descr")          ? &descr
                      : str_is(k, "fortran_order") ? &fo
                      : str_is(k, "shape")         ? &shape
                                                   : NULL;
    if (!slot) {
      char q[NPY_QUOTE];
      if (k->type == P_STR)
        mlg_utf8_quote(q, sizeof q, k->s, k->slen);
      else
        snprintf(q, sizeof q, "(not a string)");
      snprintf(why, wsz, "unexpected key '%s' in the header", q);
      return -1;
    }
    if (*slot)
      (*dups)++;
    *slot = v; /* Python keeps the last one */
  }
  if (!descr || !fo || !shape) {
    snprintf(why, wsz, "header lacks '%s'", !descr ? "descr" : !fo ? "fortran_order" : "shape");
    return -1;
  }
  if (!(info->descr = strndup(text + descr->start, descr->end - descr->start)))
    return -2;
  if (dtype_of(descr, &itemsize, &obj, 0, why, wsz))
    return -1;
  info->object_dtype = obj;
  info->itemsize = obj ? 0 : itemsize;
  if (fo->type != P_BOOL) {
    snprintf(why, wsz, "fortran_order is not True or False");
    return -1;
  }
  info->fortran_order = (int)fo->mag;
  if (shape->type != P_TUPLE) {
    snprintf(why, wsz, "shape is not a tuple");
    return -1;
  }
  if (shape->n > NPY_MAX_DIMS) {
    snprintf(why, wsz, "shape has %zu dimensions (at most %d)", shape->n, NPY_MAX_DIMS);
    return -1;
  }
  for (i = 0; i < shape->n; i++) {
    const pv *d = shape->items[i];
    if (d->type != P_INT || d->big || (d->neg && d->mag)) {
      snprintf(why, wsz, "shape entry %zu is not a non-negative int", i);
      return -1;
    }
    info->shape[i] = d->mag;
  }
  info->ndim = shape->n;
  return 0;
}

int mlg_npy_header(mlg_npy_info *info, mlg_stream *s, uint64_t size, mlg_issues *issues,
                   mlg_err *err)
{
  unsigned char pre[12];
  uint32_t hlen;
  size_t lenbytes;
  char *text = NULL, why[200];
  np p;
  pv *root = NULL;
  int rc = 0, r, dups = 0;

  memset(info, 0, sizeof *info);
  memset(&p, 0, sizeof p);
  if ((r = mlg_stream_read_full(s, pre, 8, err)) != 0) {
    if (r != MLG_EPARSE)
      return r;
    mlg_issue_add(issues, "npy-malformed", NULL, 0, "file too short for a .npy header");
    return 0;
  }
  if (memcmp(pre, "\x93NUMPY", 6) != 0) {
    mlg_issue_add(issues, "npy-malformed", NULL, 0, "file does not start with the .npy magic");
    return 0;
  }
  info->major = pre[6];
  info->minor = pre[7];
  if ((pre[6] != 1 && pre[6] != 2 && pre[6] != 3) || pre[7] != 0) {
    mlg_issue_add(issues, "npy-malformed", NULL, 6,
                  ".npy format version %u.%u is not 1.0, 2.0 or 3.0", pre[6], pre[7]);
    return 0;
  }
  lenbytes = pre[6] == 1 ? 2 : 4;
  if ((r = mlg_stream_read_full(s, pre + 8, lenbytes, err)) != 0) {
    if (r != MLG_EPARSE)
      return r;
    mlg_issue_add(issues, "npy-malformed", NULL, 8, "file ends in the .npy header length");
    return 0;
  }
  hlen = lenbytes == 2 ? (uint32_t)pre[8] | (uint32_t)pre[9] << 8
                       : (uint32_t)pre[8] | (uint32_t)pre[9] << 8 | (uint32_t)pre[10] << 16 |
                             (uint32_t)pre[11] << 24;
  info->data_offset = 8 + lenbytes + (uint64_t)hlen;
  if (size != UINT64_MAX && info->data_offset > size) {
    mlg_issue_add(issues, "npy-malformed", NULL, 8,
                  ".npy header of %u bytes runs past the end of the file", hlen);
    return 0;
  }
  if (hlen > NPY_MAX_HEADER) {
    mlg_issue_add(issues, "npy-malformed", NULL, 8,
                  ".npy header of %u bytes is larger than the %u bytes this scanner reads", hlen,
                  NPY_MAX_HEADER);
    return 0;
  }
  if (!(text = malloc((size_t)hlen + 1)))
    return mlg_err_set(err, MLG_ENOMEM, "out of memory reading a .npy header");
  if ((r = mlg_stream_read_full(s, text, hlen, err)) != 0) {
    free(text);
    if (r != MLG_EPARSE)
      return r;
    mlg_issue_add(issues, "npy-malformed", NULL, 8,
                  ".npy header of %u bytes runs past the end of the data", hlen);
    return 0;
  }
  text[hlen] = '\0';
  if (pre[6] == 3 && mlg_utf8_check(text, hlen) != hlen) {
    mlg_issue_add(issues, "npy-malformed", NULL, 10, ".npy version 3 header is not UTF-8");
    goto done;
  }

  p.t = text;
  p.len = hlen;
  p.filter_l = pre[6] < 3;
  /* literal_eval strips leading spaces and tabs */
  while (p.i < p.len && (p.t[p.i] == ' ' || p.t[p.i] == '\t'))
    p.i++;
  r = value(&p, &root);
  if (!r) {
    ws(&p);
    if (p.i < p.len && p.t[p.i] != '\0')
      r = fail(&p, "unexpected text after the dict");
    /* NUL padding would make Python's parser fail */
    if (p.i < p.len)
      r = fail(&p, "NUL byte in the header");
  }
  if (p.oom) {
    rc = mlg_err_set(err, MLG_ENOMEM, "out of memory reading a .npy header");
    goto done;
  }
  if (r) {
    mlg_issue_add(issues, "npy-malformed", NULL, (int64_t)(8 + lenbytes + p.i),
                  ".npy header is not a valid dict literal: %s (at byte %zu)", p.why, p.i);
    goto done;
  }
  why[0] = '\0';
  r = interpret(info, text, root, why, sizeof why, &dups);
  if (r == -2) {
    rc = mlg_err_set(err, MLG_ENOMEM, "out of memory reading a .npy header");
    goto done;
  }
  if (dups)
    mlg_issue_add(issues, "npy-malformed", NULL, (int64_t)(8 + lenbytes),
                  ".npy header repeats a key; numpy uses the last one");
  if (r) {
    mlg_issue_add(issues, "npy-malformed", NULL, (int64_t)(8 + lenbytes), ".npy header: %s",
                  why);
    info->itemsize = 0;
    goto done;
  }
  if (!info->object_dtype && size != UINT64_MAX) {
    uint64_t count = 1, data = size - info->data_offset, want;
    size_t i;
    int over = 0;
    for (i = 0; i < info->ndim; i++) {
      if (info->shape[i] && count > UINT64_MAX / info->shape[i])
        over = 1;
      count *= info->shape[i];
    }
    if (over || (count && info->itemsize > UINT64_MAX / count)) {
      mlg_issue_add(issues, "npy-size-mismatch", NULL, (int64_t)info->data_offset,
                    ".npy shape describes more than 2^64 bytes of data");
    } else if ((want = count * info->itemsize) != data) {
      mlg_issue_add(issues, "npy-size-mismatch", NULL, (int64_t)info->data_offset,
                    ".npy header describes %llu bytes of data (%llu x %llu), the file holds "
                    "%llu",
                    (unsigned long long)want, (unsigned long long)count,
                    (unsigned long long)info->itemsize, (unsigned long long)data);
    }
  }

done:
  np_free(&p);
  free(text);
  if (rc)
    mlg_npy_info_free(info);
  return rc;
}

void mlg_npy_info_free(mlg_npy_info *info)
{
  if (!info)
    return;
  free(info->descr);
  info->descr = NULL;
}
