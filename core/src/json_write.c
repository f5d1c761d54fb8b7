/*
 * mlg_node trees to JSON text, written directly into the buffer (records
 * of every finding and whole reports go through here, and building a
 * jansson tree first cost more than the rest of the work). The output is
 * byte for byte what jansson's json_dumps gave with JSON_PRESERVE_ORDER,
 * JSON_REAL_PRECISION(17) and JSON_COMPACT or JSON_INDENT(2), which
 * earlier versions used: reports stay comparable across versions.
 *
 * The output is always valid JSON whatever the tree holds: invalid UTF-8
 * becomes U+FFFD, NaN and infinities become null, NUL bytes in strings are
 * escaped (and replaced by U+FFFD in member names, as jansson did). Shared
 * (aliased) nodes are written once per use, so a YAML alias bomb would
 * expand here: the node budget below turns that into an error instead of
 * unbounded memory.
 */
#include "parse.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "utf8.h"

#define WRITE_MAX_DEPTH 1000
/* Twice the parsers' default node cap: anything parsed without aliases
 * can be written. Fuzz builds use less so one input stays fast. */
#ifdef MLG_FUZZING
#define WRITE_MAX_NODES ((size_t)1 << 16)
#else
#define WRITE_MAX_NODES ((size_t)8 << 20)
#endif

typedef struct wctx {
  size_t nodes;
  mlg_buf *out;
  int flags;
  mlg_err *err;
} wctx;

static int oom(wctx *w)
{
  return mlg_err_set(w->err, MLG_ENOMEM, "out of memory while writing JSON");
}

/* A JSON string for s: escapes as jansson wrote them (\" \\ \b \f \n \r
 * \t, other controls as \u00XX in upper-case hex; with MLG_JSON_ASCII
 * everything above 0x7F as \uXXXX, surrogate pairs above the BMP);
 * invalid UTF-8 (and, in member names, NUL) becomes U+FFFD. */
static int put_string(wctx *w, const char *s, size_t len, int key)
{
  const unsigned char *u = (const unsigned char *)s;
  mlg_buf *b = w->out;
  size_t i = 0, run;
  char esc[16];

  if (mlg_buf_putc(b, '"'))
    return oom(w);
  while (i < len) {
    uint32_t cp;
    size_t n;
    /* Runs of plain ASCII go out in one copy. */
    for (run = i; run < len && u[run] >= 0x20 && u[run] < 0x7F && u[run] != '"' &&
                  u[run] != '\\';
         run++)
      ;
    if (run > i) {
      if (mlg_buf_put(b, s + i, run - i))
        return oom(w);
      i = run;
      continue;
    }
    n = u[i] == 0 && key ? 0 : mlg_utf8_decode(u + i, len - i, &cp);
    if (n == 0) {
      cp = 0xFFFD;
      n = 1;
      if (!(w->flags & MLG_JSON_ASCII)) {
        if (mlg_buf_put(b, "\xEF\xBF\xBD", 3))
          return oom(w);
        i += n;
        continue;
      }
    }
    switch (cp) {
    case '"': strcpy(esc, "\\\""); break;
    case '\\': strcpy(esc, "\\\\"); break;
    case '\b': strcpy(esc, "\\b"); break;
    case '\f': strcpy(esc, "\\f"); break;
    case '\n': strcpy(esc, "\\n"); break;
    case '\r': strcpy(esc, "\\r"); break;
    case '\t': strcpy(esc, "\\t"); break;
    default:
      if (cp < 0x20 || ((w->flags & MLG_JSON_ASCII) && cp > 0x7F)) {
        if (cp >= 0x10000) {
          uint32_t v = cp - 0x10000;
          snprintf(esc, sizeof esc, "\\u%04X\\u%04X", (unsigned)(0xD800 | (v >> 10)),
                   (unsigned)(0xDC00 | (v & 0x3FF)));
        } else {
          snprintf(esc, sizeof esc, "\\u%04X", (unsigned)cp);
        }
      } else {
        if (mlg_buf_put(b, s + i, n))
          return oom(w);
        i += n;
        continue;
      }
    }
    if (mlg_buf_puts(b, esc))
      return oom(w);
    i += n;
  }
  return mlg_buf_putc(b, '"') ? oom(w) : 0;
}

/* Integers without printf: reports hold tens of thousands of them. */
int mlg_json_put_int(mlg_buf *out, int64_t v)
{
  char num[24], *p = num + sizeof num;
  uint64_t u = v < 0 ? (uint64_t)0 - (uint64_t)v : (uint64_t)v;
  do {
    *--p = (char)('0' + u % 10);
    u /= 10;
  } while (u);
  if (v < 0)
    *--p = '-';
  return mlg_buf_put(out, p, (size_t)(num + sizeof num - p));
}

static int put_int(wctx *w, int64_t v)
{
  return mlg_json_put_int(w->out, v) ? oom(w) : 0;
}

/* Doubles as jansson wrote them: %.17g, with ".0" added when the text
 * would read back as an integer. */
static int put_real(wctx *w, double v)
{
  char num[64];
  int n = snprintf(num, sizeof num, "%.17g", v);
  if (n < 0 || (size_t)n >= sizeof num - 3)
    return mlg_err_set(w->err, MLG_EINVAL, "cannot write a number");
  if (!strpbrk(num, ".eEin")) {
    memcpy(num + n, ".0", 3);
  } else {
    /* No '+' and no leading zeros in the exponent: 1e300, 1e-07 -> 1e-7. */
    char *e = strchr(num, 'e'), *d, *z;
    if (e) {
      d = e + 1;
      if (*d == '+')
        memmove(d, d + 1, strlen(d + 1) + 1);
      else if (*d == '-')
        d++;
      for (z = d; *z == '0' && z[1]; z++)
        ;
      if (z > d)
        memmove(d, z, strlen(z) + 1);
    }
  }
  return mlg_buf_puts(w->out, num) ? oom(w) : 0;
}

/* Member names of trees built in memory may be other scalars. */
static int put_key(wctx *w, const mlg_node *k)
{
  char num[40];
  switch (k ? k->type : MLG_NULL) {
  case MLG_STR:
    return put_string(w, k->u.str.ptr ? k->u.str.ptr : "", k->u.str.ptr ? k->u.str.len : 0, 1);
  case MLG_NULL: return put_string(w, "null", 4, 1);
  case MLG_BOOL:
    return k->u.boolean ? put_string(w, "true", 4, 1) : put_string(w, "false", 5, 1);
  case MLG_INT:
    snprintf(num, sizeof num, "%lld", (long long)k->u.integer);
    return put_string(w, num, strlen(num), 1);
  case MLG_FLOAT:
    snprintf(num, sizeof num, "%.17g", k->u.number);
    return put_string(w, num, strlen(num), 1);
  default:
    return mlg_err_set(w->err, MLG_EINVAL, "cannot write a %s as a JSON member name",
                       mlg_node_typename(k));
  }
}

/* Newline and indentation before a member in pretty output. */
static int indent(wctx *w, size_t depth)
{
  static const char spaces[] = "                                                                ";
  size_t n = 2 * depth;
  if (!(w->flags & MLG_JSON_PRETTY))
    return 0;
  if (mlg_buf_putc(w->out, '\n'))
    return oom(w);
  while (n) {
    size_t k = n < sizeof spaces - 1 ? n : sizeof spaces - 1;
    if (mlg_buf_put(w->out, spaces, k))
      return oom(w);
    n -= k;
  }
  return 0;
}

/* Keys that occur twice in one map: jansson kept one member per name, the
 * last value at the first one's place. Parsed documents never have them
 * (the parsers refuse or merge duplicates); maps built in memory rarely. A
 * quick pass finds that there are none; only then is the map sorted. */
typedef struct dupinfo {
  unsigned char *skip;   /* pair i is a later duplicate: not written */
  size_t *value_from;    /* pair whose value is written at pair i */
} dupinfo;

static int key_cmp(const mlg_node *a, const mlg_node *b)
{
  size_t n = a->u.str.len < b->u.str.len ? a->u.str.len : b->u.str.len;
  int c = memcmp(a->u.str.ptr, b->u.str.ptr, n);
  if (c)
    return c;
  return a->u.str.len < b->u.str.len ? -1 : a->u.str.len > b->u.str.len;
}

static const mlg_node *sort_map; /* qsort has no context argument in C11 */

static int idx_cmp(const void *pa, const void *pb)
{
  size_t a = *(const size_t *)pa, b = *(const size_t *)pb;
  int c = key_cmp(sort_map->u.map.pairs[a].key, sort_map->u.map.pairs[b].key);
  return c ? c : (a < b ? -1 : a > b);
}

/* Fills d when the map has duplicate string keys; returns -1 when out of
 * memory, 0 otherwise (d->skip NULL: no duplicates). */
static int find_dups(const mlg_node *map, dupinfo *d)
{
  size_t n = map->u.map.len, i, j, *idx;
  int any = 0;

  d->skip = NULL;
  d->value_from = NULL;
  for (i = 0; i < n; i++) {
    const mlg_node *k = map->u.map.pairs[i].key;
    if (!k || k->type != MLG_STR || !k->u.str.ptr)
      return 0; /* other keys: written as they are */
  }
  if (n < 2)
    return 0;
  if (n <= 16) { /* records and most objects: no allocation */
    /* Keys of different lengths or first/last bytes differ: compare
     * only pairs that agree on those. */
    for (i = 1; i < n && !any; i++) {
      const mlg_node *ki = map->u.map.pairs[i].key;
      for (j = 0; j < i && !any; j++) {
        const mlg_node *kj = map->u.map.pairs[j].key;
        if (ki->u.str.len != kj->u.str.len ||
            (ki->u.str.len && (ki->u.str.ptr[0] != kj->u.str.ptr[0] ||
                               ki->u.str.ptr[ki->u.str.len - 1] !=
                                 kj->u.str.ptr[kj->u.str.len - 1])))
          continue;
        any = key_cmp(ki, kj) == 0;
      }
    }
    if (!any)
      return 0;
    any = 0;
  }
  if (!(idx = malloc(n * sizeof *idx)))
    return -1;
  for (i = 0; i < n; i++)
    idx[i] = i;
  sort_map = map;
  qsort(idx, n, sizeof *idx, idx_cmp);
  for (i = 1; i < n && !any; i++)
    any = key_cmp(map->u.map.pairs[idx[i - 1]].key, map->u.map.pairs[idx[i]].key) == 0;
  if (!any) {
    free(idx);
    return 0;
  }
  d->skip = calloc(n, 1);
  d->value_from = malloc(n * sizeof *d->value_from);
  if (!d->skip || !d->value_from) {
    free(idx);
    free(d->skip);
    free(d->value_from);
    d->skip = NULL;
    return -1;
  }
  for (i = 0; i < n; i++)
    d->value_from[i] = i;
  for (i = 0; i < n; i = j) {
    for (j = i + 1; j < n && key_cmp(map->u.map.pairs[idx[i]].key,
                                     map->u.map.pairs[idx[j]].key) == 0; j++)
      d->skip[idx[j]] = 1;
    d->value_from[idx[i]] = idx[j - 1];
  }
  free(idx);
  return 0;
}

static int write_node(wctx *w, const mlg_node *n, size_t depth)
{
  size_t i, count = 0;
  int rc;

  if (depth > WRITE_MAX_DEPTH)
    return mlg_err_set(w->err, MLG_ELIMIT, "cannot write JSON nested deeper than %d levels",
                       WRITE_MAX_DEPTH);
  if (++w->nodes > WRITE_MAX_NODES)
    return mlg_err_set(w->err, MLG_ELIMIT,
                       "cannot write JSON of more than %zu values (shared nodes expand)",
                       WRITE_MAX_NODES);
  switch (n ? n->type : MLG_NULL) {
  case MLG_NULL:
    return mlg_buf_put(w->out, "null", 4) ? oom(w) : 0;
  case MLG_BOOL:
    return (n->u.boolean ? mlg_buf_put(w->out, "true", 4) : mlg_buf_put(w->out, "false", 5))
             ? oom(w) : 0;
  case MLG_INT:
    return put_int(w, n->u.integer);
  case MLG_FLOAT:
    if (!isfinite(n->u.number))
      return mlg_buf_puts(w->out, "null") ? oom(w) : 0;
    return put_real(w, n->u.number);
  case MLG_STR:
    return put_string(w, n->u.str.ptr ? n->u.str.ptr : "", n->u.str.ptr ? n->u.str.len : 0, 0);
  case MLG_SEQ:
    if (mlg_buf_putc(w->out, '['))
      return oom(w);
    for (i = 0; i < n->u.seq.len; i++) {
      if (i && mlg_buf_putc(w->out, ','))
        return oom(w);
      if ((rc = indent(w, depth)) != 0 || (rc = write_node(w, n->u.seq.items[i], depth + 1)) != 0)
        return rc;
    }
    if (n->u.seq.len && (rc = indent(w, depth - 1)) != 0)
      return rc;
    return mlg_buf_putc(w->out, ']') ? oom(w) : 0;
  case MLG_MAP: {
    dupinfo d;
    if (find_dups(n, &d) != 0)
      return oom(w);
    rc = mlg_buf_putc(w->out, '{') ? oom(w) : 0;
    for (i = 0; i < n->u.map.len && rc == 0; i++) {
      if (d.skip && d.skip[i])
        continue;
      if (count++ && mlg_buf_putc(w->out, ','))
        rc = oom(w);
      else if ((rc = indent(w, depth)) == 0 && (rc = put_key(w, n->u.map.pairs[i].key)) == 0 &&
               (rc = mlg_buf_put(w->out, ": ", (w->flags & MLG_JSON_PRETTY) ? 2 : 1)
                       ? oom(w) : 0) == 0)
        rc = write_node(w, n->u.map.pairs[d.skip ? d.value_from[i] : i].val, depth + 1);
    }
    free(d.skip);
    free(d.value_from);
    if (rc == 0 && count)
      rc = indent(w, depth - 1);
    if (rc == 0 && mlg_buf_putc(w->out, '}'))
      rc = oom(w);
    return rc;
  }
  default:
    return mlg_err_set(w->err, MLG_EINVAL, "cannot write a node of unknown type %d", n->type);
  }
}

/* The GitHub runner takes "##[command]" anywhere in a log line as a
 * command, and reports are often printed to CI logs. "##[" can only occur
 * inside JSON strings, where "[" may be written as the equivalent
 * "\u005b": same document, nothing for the runner to find. */
static int ci_safe(mlg_buf *out, size_t start)
{
  size_t hits = 0;
  char *p, *q = out->ptr + start, *end = out->ptr + out->len;
  while (q < end && (q = memchr(q, '[', (size_t)(end - q))) != NULL) {
    if (q - out->ptr >= (ptrdiff_t)start + 2 && q[-1] == '#' && q[-2] == '#')
      hits++;
    q++;
  }
  if (!hits)
    return 0;
  if (mlg_buf_grow(out, hits * 5))
    return -1;
  /* Shift from the end, expanding each "[" after "##" to six bytes. */
  p = out->ptr;
  {
    size_t src = out->len, dst = out->len + hits * 5;
    p[dst] = '\0';
    while (src > start) {
      src--;
      if (p[src] == '[' && src >= start + 2 && p[src - 1] == '#' && p[src - 2] == '#') {
        dst -= 6;
        memcpy(p + dst, "\\u005b", 6);
      } else {
        p[--dst] = p[src];
      }
    }
    out->len += hits * 5;
  }
  return 0;
}

int mlg_json_write_at(mlg_buf *out, const mlg_node *n, int flags, size_t depth, mlg_err *err)
{
  wctx w;
  size_t start;
  int rc;

  if (!out)
    return mlg_err_set(err, MLG_EINVAL, "mlg_json_write: no output buffer");
  memset(&w, 0, sizeof w);
  w.err = err;
  w.out = out;
  w.flags = flags;
  start = out->len;
  rc = write_node(&w, n, depth ? depth : 1);
  if (rc == 0 && mlg_buf_put(out, "", 0))
    rc = oom(&w);
  if (rc != 0 && out->ptr) {
    /* Leave the buffer as it was rather than half a document. */
    out->len = start;
    out->ptr[start] = '\0';
  }
  return rc;
}

int mlg_json_put_string(mlg_buf *out, const char *s, size_t len, int flags)
{
  wctx w;
  mlg_err e;
  memset(&w, 0, sizeof w);
  w.err = &e;
  w.out = out;
  w.flags = flags;
  return put_string(&w, s ? s : "", s ? len : 0, 0);
}

int mlg_json_ci_safe(mlg_buf *out, size_t start)
{
  return ci_safe(out, start) ? MLG_ENOMEM : 0;
}

int mlg_json_write(mlg_buf *out, const mlg_node *n, int flags, mlg_err *err)
{
  size_t start = out ? out->len : 0;
  int rc = mlg_json_write_at(out, n, flags, 1, err);
  if (rc == 0 && ci_safe(out, start)) {
    out->len = start;
    out->ptr[start] = '\0';
    rc = mlg_err_set(err, MLG_ENOMEM, "out of memory while writing JSON");
  }
  return rc;
}
