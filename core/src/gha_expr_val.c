/*
 * Values of the expression language: kinds, coercions, comparisons,
 * number formatting and toJSON, as GitHub's reference implementation
 * defines them (which in turn borrows JavaScript's Number() and
 * Number.prototype.toString).
 */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "gha_expr_int.h"
#include "utf8.h"

int mlg_gx_kindof(const mlg_node *v)
{
  if (!v)
    return GXK_NULL;
  switch (v->type) {
  case MLG_BOOL: return GXK_BOOL;
  case MLG_INT:
  case MLG_FLOAT: return GXK_NUM;
  case MLG_STR: return GXK_STR;
  case MLG_SEQ: return GXK_ARRAY;
  case MLG_MAP: return GXK_OBJECT;
  default: return GXK_NULL;
  }
}

const char *mlg_gx_kind(const mlg_node *v)
{
  static const char *const names[] = {"Null", "Boolean", "Number", "String", "Array", "Object"};
  return names[mlg_gx_kindof(v)];
}

double mlg_gx_num(const mlg_node *v)
{
  switch (mlg_gx_kindof(v)) {
  case GXK_NULL: return 0;
  case GXK_BOOL: return v->u.boolean ? 1 : 0;
  case GXK_NUM: return v->type == MLG_INT ? (double)v->u.integer : v->u.number;
  case GXK_STR: return mlg_gx_str_number(v->u.str.ptr, v->u.str.len);
  default: return NAN;
  }
}

/* --- Number(string) ------------------------------------------------------- */

/* JavaScript's WhiteSpace and LineTerminator (what String.prototype.trim
 * removes): unlike .NET's, U+FEFF is one and U+0085 is not. */
static size_t js_ws(const char *s, size_t len, size_t i)
{
  unsigned char c = (unsigned char)s[i];
  uint32_t cp;
  size_t n;
  if (c == ' ' || (c >= 0x09 && c <= 0x0D))
    return 1;
  if (c < 0xC2 || c > 0xEF)
    return 0;
  n = mlg_gx_next(s, len, i, &cp);
  if (cp == 0x85)
    return 0;
  if (cp == 0xFEFF)
    return n;
  return mlg_gx_ws(s, len, i);
}

int mlg_gx_js_blank(const char *s, size_t len)
{
  size_t i = 0;
  while (i < len) {
    size_t n = js_ws(s, len, i);
    if (n == 0)
      return 0;
    i += n;
  }
  return 1;
}

static int digit_val(char c)
{
  if (c >= '0' && c <= '9')
    return c - '0';
  if (c >= 'a' && c <= 'f')
    return c - 'a' + 10;
  if (c >= 'A' && c <= 'F')
    return c - 'A' + 10;
  return 99;
}

static double radix_number(const char *s, size_t len, int base)
{
  double d = 0;
  size_t i;
  if (len == 0)
    return NAN;
  for (i = 0; i < len; i++) {
    int v = digit_val(s[i]);
    if (v >= base)
      return NAN;
    d = d * base + v;
  }
  return d;
}

static size_t skip_digits(const char *s, size_t len, size_t i)
{
  while (i < len && s[i] >= '0' && s[i] <= '9')
    i++;
  return i;
}

/* StrDecimalLiteral: [+-] (digits [. digits] | . digits) [e [+-] digits].
 * strtod alone would also take "inf", "nan" and hex floats. */
static double decimal_number(const char *s, size_t len)
{
  size_t i = 0, j;
  char small[64], *tmp = small;
  double d;
  if (i < len && (s[i] == '+' || s[i] == '-'))
    i++;
  j = skip_digits(s, len, i);
  if (j < len && s[j] == '.') {
    size_t k = skip_digits(s, len, j + 1);
    if (j == i && k == j + 1)
      return NAN; /* "." alone */
    j = k;
  } else if (j == i) {
    return NAN;
  }
  if (j < len && (s[j] == 'e' || s[j] == 'E')) {
    size_t k = j + 1;
    if (k < len && (s[k] == '+' || s[k] == '-'))
      k++;
    j = skip_digits(s, len, k);
    if (j == k)
      return NAN;
  }
  if (j != len)
    return NAN;
  if (len >= sizeof small && !(tmp = malloc(len + 1)))
    return NAN;
  memcpy(tmp, s, len);
  tmp[len] = '\0';
  d = strtod(tmp, NULL);
  if (tmp != small)
    free(tmp);
  return d;
}

double mlg_gx_str_number(const char *s, size_t len)
{
  size_t i = 0, end = 0;
  while (i < len) { /* trim: find the first and past the last non-space */
    size_t n = js_ws(s, len, i);
    if (n == 0)
      break;
    i += n;
  }
  s += i;
  len -= i;
  for (i = 0; i < len;) {
    size_t n = js_ws(s, len, i);
    uint32_t cp;
    if (n == 0) {
      i += mlg_gx_next(s, len, i, &cp);
      end = i;
    } else {
      i += n;
    }
  }
  len = end;
  if (len == 0)
    return 0;
  if (len == 8 && memcmp(s, "Infinity", 8) == 0)
    return INFINITY;
  if (len == 9 && memcmp(s, "+Infinity", 9) == 0)
    return INFINITY;
  if (len == 9 && memcmp(s, "-Infinity", 9) == 0)
    return -INFINITY;
  if (len > 2 && s[0] == '0') {
    switch (s[1]) {
    case 'x': case 'X': return radix_number(s + 2, len - 2, 16);
    case 'o': case 'O': return radix_number(s + 2, len - 2, 8);
    case 'b': case 'B': return radix_number(s + 2, len - 2, 2);
    default: break;
    }
  }
  return decimal_number(s, len);
}

/* --- number to string ----------------------------------------------------- */

size_t mlg_gx_num_js(char *buf, double d)
{
  char tmp[40], digits[24];
  int p, k = 0, n, e;
  size_t o = 0;
  const char *c;

  if (isnan(d))
    return (size_t)sprintf(buf, "NaN");
  if (isinf(d))
    return (size_t)sprintf(buf, d < 0 ? "-Infinity" : "Infinity");
  if (d == 0)
    return (size_t)sprintf(buf, "0");
  /* The fewest significant digits that read back as d; printf rounds
   * correctly, so the digits are also the closest ones. */
  for (p = 1; p <= 17; p++) {
    snprintf(tmp, sizeof tmp, "%.*e", p - 1, d);
    if (strtod(tmp, NULL) == d)
      break;
  }
  c = tmp;
  if (*c == '-') {
    buf[o++] = '-';
    c++;
  }
  for (; *c && *c != 'e'; c++) {
    if (*c != '.')
      digits[k++] = *c;
  }
  e = atoi(c + 1);
  n = e + 1; /* the decimal point sits after n digits */
  if (k <= n && n <= 21) {
    memcpy(buf + o, digits, (size_t)k);
    o += (size_t)k;
    for (; k < n; k++)
      buf[o++] = '0';
  } else if (0 < n && n <= 21) {
    memcpy(buf + o, digits, (size_t)n);
    o += (size_t)n;
    buf[o++] = '.';
    memcpy(buf + o, digits + n, (size_t)(k - n));
    o += (size_t)(k - n);
  } else if (-6 < n && n <= 0) {
    buf[o++] = '0';
    buf[o++] = '.';
    for (; n < 0; n++)
      buf[o++] = '0';
    memcpy(buf + o, digits, (size_t)k);
    o += (size_t)k;
  } else {
    buf[o++] = digits[0];
    if (k > 1) {
      buf[o++] = '.';
      memcpy(buf + o, digits + 1, (size_t)(k - 1));
      o += (size_t)(k - 1);
    }
    o += (size_t)sprintf(buf + o, "e%c%d", e < 0 ? '-' : '+', e < 0 ? -e : e);
  }
  buf[o] = '\0';
  return o;
}

/* Adds one unit in the last place of a decimal string ("12.99" -> "13.00"),
 * which has room for one more character. */
static void decimal_round_up(char *s)
{
  size_t i = strlen(s);
  while (i-- > 0) {
    if (s[i] == '.')
      continue;
    if (s[i] != '9') {
      s[i]++;
      return;
    }
    s[i] = '0';
  }
  memmove(s + 1, s, strlen(s) + 1);
  s[0] = '1';
}

size_t mlg_gx_num_str(char *buf, double d)
{
  char fixed[64];
  double a = fabs(d), t;
  if (d == 0)
    return (size_t)sprintf(buf, "0");
  if (!isfinite(d) || a >= 1e21)
    return mlg_gx_num_js(buf, d);
  /* (+d.toFixed(15)).toString(). toFixed rounds halves away from zero
   * where printf rounds them to even; a double is exactly halfway only
   * when it is a multiple of 2^-16 ending in 5 at the 16th decimal. */
  t = ldexp(a, 16);
  snprintf(fixed + 1, sizeof fixed - 1, "%.16f", a);
  if (t == floor(t) && fixed[1 + strlen(fixed + 1) - 1] == '5') {
    fixed[1 + strlen(fixed + 1) - 1] = '\0';
    decimal_round_up(fixed + 1);
  } else {
    snprintf(fixed + 1, sizeof fixed - 1, "%.15f", a);
  }
  fixed[0] = '-';
  return mlg_gx_num_js(buf, strtod(d < 0 ? fixed : fixed + 1, NULL));
}

int mlg_gx_prim_str(const mlg_node *v, char *numbuf, const char **s, size_t *len)
{
  switch (mlg_gx_kindof(v)) {
  case GXK_NULL:
    *s = "";
    *len = 0;
    return 0;
  case GXK_BOOL:
    *s = v->u.boolean ? "true" : "false";
    *len = strlen(*s);
    return 0;
  case GXK_NUM:
    *len = mlg_gx_num_str(numbuf, mlg_gx_num(v));
    *s = numbuf;
    return 0;
  case GXK_STR:
    *s = v->u.str.ptr;
    *len = v->u.str.len;
    return 0;
  default:
    return -1;
  }
}

int mlg_gx_truthy(const mlg_node *v)
{
  double d;
  switch (mlg_gx_kindof(v)) {
  case GXK_NULL: return 0;
  case GXK_BOOL: return v->u.boolean != 0;
  case GXK_NUM:
    d = mlg_gx_num(v);
    return d != 0 && !isnan(d);
  case GXK_STR: return v->u.str.len != 0;
  default: return 1;
  }
}

int mlg_gx_to_string(char **out, const mlg_node *v)
{
  char num[MLG_GX_NUMBUF];
  const char *s;
  size_t len;
  *out = NULL;
  if (mlg_gx_prim_str(v, num, &s, &len) != 0) {
    s = mlg_gx_kind(v);
    len = strlen(s);
  }
  if (!(*out = malloc(len + 1)))
    return MLG_ENOMEM;
  memcpy(*out, s, len);
  (*out)[len] = '\0';
  return 0;
}

/* --- comparisons ---------------------------------------------------------- */

/* A value after coercion: kind plus the number for coerced operands. */
typedef struct cval {
  int kind;
  double num;
  const mlg_node *v;
} cval;

static void to_num(cval *c)
{
  c->num = mlg_gx_num(c->v);
  c->kind = GXK_NUM;
}

/* JavaScript's abstract equality coercions, without converting objects to
 * primitives. */
static void coerce(cval *l, cval *r, const mlg_node *lv, const mlg_node *rv)
{
  l->v = lv;
  r->v = rv;
  l->kind = mlg_gx_kindof(lv);
  r->kind = mlg_gx_kindof(rv);
  if (l->kind == GXK_NUM)
    l->num = mlg_gx_num(lv);
  if (r->kind == GXK_NUM)
    r->num = mlg_gx_num(rv);
  while (l->kind != r->kind) {
    if (l->kind == GXK_NUM && r->kind == GXK_STR) {
      to_num(r);
    } else if (l->kind == GXK_STR && r->kind == GXK_NUM) {
      to_num(l);
    } else if (l->kind == GXK_NULL || l->kind == GXK_BOOL) {
      to_num(l);
    } else if (r->kind == GXK_NULL || r->kind == GXK_BOOL) {
      to_num(r);
    } else {
      return;
    }
  }
}

int mlg_gx_equals(const mlg_node *lv, const mlg_node *rv)
{
  cval l, r;
  coerce(&l, &r, lv, rv);
  if (l.kind != r.kind)
    return 0;
  switch (l.kind) {
  case GXK_NULL: return 1;
  case GXK_NUM: return !isnan(l.num) && !isnan(r.num) && l.num == r.num;
  case GXK_STR: return mlg_gx_str_eq(lv->u.str.ptr, lv->u.str.len, rv->u.str.ptr, rv->u.str.len);
  case GXK_BOOL: return !lv->u.boolean == !rv->u.boolean;
  default: return lv == rv; /* collections: the same object */
  }
}

int mlg_gx_greater(const mlg_node *lv, const mlg_node *rv)
{
  cval l, r;
  coerce(&l, &r, lv, rv);
  if (l.kind != r.kind)
    return 0;
  switch (l.kind) {
  case GXK_NUM: return !isnan(l.num) && !isnan(r.num) && l.num > r.num;
  case GXK_STR:
    return mlg_gx_str_cmp(lv->u.str.ptr, lv->u.str.len, rv->u.str.ptr, rv->u.str.len) > 0;
  case GXK_BOOL: return lv->u.boolean && !rv->u.boolean;
  default: return 0;
  }
}

int mlg_gx_less(const mlg_node *lv, const mlg_node *rv)
{
  cval l, r;
  coerce(&l, &r, lv, rv);
  if (l.kind != r.kind)
    return 0;
  switch (l.kind) {
  case GXK_NUM: return !isnan(l.num) && !isnan(r.num) && l.num < r.num;
  case GXK_STR:
    return mlg_gx_str_cmp(lv->u.str.ptr, lv->u.str.len, rv->u.str.ptr, rv->u.str.len) < 0;
  case GXK_BOOL: return !lv->u.boolean && rv->u.boolean;
  default: return 0;
  }
}

/* --- dictionaries --------------------------------------------------------- */

static int key_of(const mlg_node *k, char *numbuf, const char **s, size_t *len)
{
  return mlg_gx_prim_str(k, numbuf, s, len);
}

const mlg_node *mlg_gx_map_get(const mlg_node *map, const char *key, size_t klen)
{
  size_t i;
  if (!map || map->type != MLG_MAP)
    return NULL;
  for (i = 0; i < map->u.map.len; i++) {
    char num[MLG_GX_NUMBUF];
    const char *s;
    size_t n;
    if (key_of(map->u.map.pairs[i].key, num, &s, &n) == 0 && mlg_gx_str_eq(s, n, key, klen))
      return map->u.map.pairs[i].val;
  }
  return NULL;
}

struct mlg_gx_dups {
  unsigned char *flag;
};

/* FNV-1a of the upper-cased characters: keys equal in any case hash alike. */
static uint64_t fold_hash(const char *s, size_t len)
{
  uint64_t h = 14695981039346656037u;
  size_t i = 0;
  while (i < len) {
    unsigned char c = (unsigned char)s[i];
    uint32_t cp;
    if (c < 0x80) {
      cp = c >= 'a' && c <= 'z' ? c - 32u : c;
      i++;
    } else {
      i += mlg_gx_next(s, len, i, &cp);
      cp = mlg_gx_fold(cp);
    }
    h = (h ^ cp) * 1099511628211u;
  }
  return h;
}

static int key_eq(const mlg_node *map, size_t a, size_t b)
{
  char na[MLG_GX_NUMBUF], nb[MLG_GX_NUMBUF];
  const char *sa, *sb;
  size_t la, lb;
  if (key_of(map->u.map.pairs[a].key, na, &sa, &la) != 0 ||
      key_of(map->u.map.pairs[b].key, nb, &sb, &lb) != 0)
    return 0;
  return mlg_gx_str_eq(sa, la, sb, lb);
}

static int mark(mlg_gx_dups **out, size_t n, size_t i)
{
  if (!*out) {
    if (!(*out = calloc(1, sizeof **out)) || !((*out)->flag = calloc(n, 1))) {
      mlg_gx_dups_free(*out);
      *out = NULL;
      return MLG_ENOMEM;
    }
  }
  (*out)->flag[i] = 1;
  return 0;
}

int mlg_gx_dups_new(mlg_gx_dups **out, const mlg_node *map)
{
  size_t n = map && map->type == MLG_MAP ? map->u.map.len : 0, i, j, cap = 16;
  size_t *slot = NULL;
  uint64_t *hash = NULL;
  int rc = 0;
  *out = NULL;
  if (n < 2)
    return 0;
  if (n <= 8) { /* pairwise is cheaper than hashing */
    for (i = 1; i < n && rc == 0; i++) {
      for (j = 0; j < i; j++) {
        if (key_eq(map, j, i)) {
          rc = mark(out, n, i);
          break;
        }
      }
    }
    return rc;
  }
  /* Open addressing over the folded keys; a key whose equal is already
   * in the table is shadowed and stays out. */
  while (cap < 2 * n)
    cap *= 2;
  if (!(slot = malloc(cap * sizeof *slot)) || !(hash = malloc(n * sizeof *hash))) {
    free(slot);
    return MLG_ENOMEM;
  }
  memset(slot, 0xFF, cap * sizeof *slot);
  for (i = 0; i < n && rc == 0; i++) {
    char num[MLG_GX_NUMBUF];
    const char *s;
    size_t len, pos;
    hash[i] = key_of(map->u.map.pairs[i].key, num, &s, &len) == 0 ? fold_hash(s, len) : i;
    for (pos = hash[i] & (cap - 1); slot[pos] != (size_t)-1; pos = (pos + 1) & (cap - 1)) {
      if (hash[slot[pos]] == hash[i] && key_eq(map, slot[pos], i))
        break;
    }
    if (slot[pos] == (size_t)-1)
      slot[pos] = i;
    else
      rc = mark(out, n, i);
  }
  free(slot);
  free(hash);
  if (rc) {
    mlg_gx_dups_free(*out);
    *out = NULL;
  }
  return rc;
}

int mlg_gx_shadowed(const mlg_gx_dups *dups, size_t i)
{
  return dups && dups->flag[i];
}

void mlg_gx_dups_free(mlg_gx_dups *dups)
{
  if (!dups)
    return;
  free(dups->flag);
  free(dups);
}

/* --- toJSON --------------------------------------------------------------- */

typedef struct jw {
  mlg_buf *out;
  size_t start, max;
  size_t keys; /* members gone through for duplicate keys */
} jw;

static int jput(jw *w, const char *s, size_t len)
{
  if (w->out->len - w->start + len > w->max)
    return MLG_ELIMIT;
  return mlg_buf_put(w->out, s, len) ? MLG_ENOMEM : 0;
}

static int jindent(jw *w, int depth)
{
  int rc = jput(w, "\n", 1);
  while (rc == 0 && depth-- > 0)
    rc = jput(w, "  ", 2);
  return rc;
}

/* JSON.stringify's string form: only ", \ and control characters escaped;
 * bytes that are not UTF-8 become U+FFFD. */
static int jstring(jw *w, const char *s, size_t len)
{
  static const char hex[] = "0123456789abcdef";
  size_t i = 0, run = 0;
  int rc = jput(w, "\"", 1);
  while (rc == 0 && i < len) {
    unsigned char c = (unsigned char)s[i];
    char esc[8];
    size_t n = 0, adv = 1;
    uint32_t cp;
    if (c == '"' || c == '\\') {
      esc[0] = '\\';
      esc[1] = (char)c;
      n = 2;
    } else if (c < 0x20) {
      const char *short_esc = c == '\b' ? "b" : c == '\f' ? "f" : c == '\n' ? "n"
                            : c == '\r' ? "r" : c == '\t' ? "t" : NULL;
      if (short_esc) {
        esc[0] = '\\';
        esc[1] = short_esc[0];
        n = 2;
      } else {
        memcpy(esc, "\\u00", 4);
        esc[4] = hex[c >> 4];
        esc[5] = hex[c & 15];
        n = 6;
      }
    } else if (c >= 0x80) {
      adv = mlg_gx_next(s, len, i, &cp);
      if (cp >= 0x110000) {
        memcpy(esc, "\xEF\xBF\xBD", 3);
        n = 3;
      }
    }
    if (n == 0) { /* copied as is, in runs */
      run = i;
      i += adv;
      while (i < len) {
        c = (unsigned char)s[i];
        if (c == '"' || c == '\\' || c < 0x20)
          break;
        if (c >= 0x80) {
          size_t m = mlg_gx_next(s, len, i, &cp);
          if (cp >= 0x110000)
            break;
          i += m;
        } else {
          i++;
        }
      }
      rc = jput(w, s + run, i - run);
      continue;
    }
    rc = jput(w, esc, n);
    i += adv;
  }
  return rc ? rc : jput(w, "\"", 1);
}

static int jvalue(jw *w, const mlg_node *v, int depth)
{
  char num[MLG_GX_NUMBUF];
  size_t i;
  int rc = 0;
  double d;

  if (depth > MLG_GX_JSON_DEPTH)
    return MLG_EINVAL;
  switch (mlg_gx_kindof(v)) {
  case GXK_NULL: return jput(w, "null", 4);
  case GXK_BOOL: return v->u.boolean ? jput(w, "true", 4) : jput(w, "false", 5);
  case GXK_NUM:
    d = mlg_gx_num(v);
    if (!isfinite(d))
      return jput(w, "null", 4);
    return jput(w, num, mlg_gx_num_js(num, d));
  case GXK_STR: return jstring(w, v->u.str.ptr, v->u.str.len);
  case GXK_ARRAY:
    if (v->u.seq.len == 0)
      return jput(w, "[]", 2);
    rc = jput(w, "[", 1);
    for (i = 0; rc == 0 && i < v->u.seq.len; i++) {
      if (i > 0)
        rc = jput(w, ",", 1);
      if (rc == 0)
        rc = jindent(w, depth + 1);
      if (rc == 0)
        rc = jvalue(w, v->u.seq.items[i], depth + 1);
    }
    if (rc == 0)
      rc = jindent(w, depth);
    return rc ? rc : jput(w, "]", 1);
  default: {
    mlg_gx_dups *dups = NULL;
    int first = 1;
    if (v->u.map.len == 0)
      return jput(w, "{}", 2);
    /* A mapping shared through aliases costs its duplicate check on
     * each visit, even when its members are all shadowed. */
    w->keys += v->u.map.len;
    if (w->keys > w->max)
      return MLG_ELIMIT;
    if ((rc = mlg_gx_dups_new(&dups, v)) != 0)
      return rc;
    rc = jput(w, "{", 1);
    for (i = 0; rc == 0 && i < v->u.map.len; i++) {
      const char *ks;
      size_t kl;
      if (mlg_gx_shadowed(dups, i))
        continue;
      if (mlg_gx_prim_str(v->u.map.pairs[i].key, num, &ks, &kl) != 0) {
        ks = mlg_gx_kind(v->u.map.pairs[i].key);
        kl = strlen(ks);
      }
      if (!first)
        rc = jput(w, ",", 1);
      first = 0;
      if (rc == 0)
        rc = jindent(w, depth + 1);
      if (rc == 0)
        rc = jstring(w, ks, kl);
      if (rc == 0)
        rc = jput(w, ": ", 2);
      if (rc == 0)
        rc = jvalue(w, v->u.map.pairs[i].val, depth + 1);
    }
    mlg_gx_dups_free(dups);
    if (rc == 0)
      rc = jindent(w, depth);
    return rc ? rc : jput(w, "}", 1);
  }
  }
}

int mlg_gx_json(mlg_buf *out, const mlg_node *v, size_t max)
{
  jw w;
  w.out = out;
  w.start = out->len;
  w.max = max;
  w.keys = 0;
  return jvalue(&w, v, 0);
}
