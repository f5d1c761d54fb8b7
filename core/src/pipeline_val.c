/*
 * Pipeline model building blocks: the builder context, interned strings,
 * memo tables, value objects with text-to-file maps, kv lists and
 * verbatim copies, routes, expressions and comments (they share the
 * aligner).
 *
 * Text-to-file alignment. libyaml gives a scalar's decoded text and where
 * its token starts and ends, not where each character came from. The
 * aligner walks the token's source lines, takes from each the part that
 * reaches the text (indentation, folding whitespace and quotes removed,
 * escapes decoded) and finds it in the text after the separators folding
 * leaves (a space or line breaks). Every such segment, and every point
 * after an escape, becomes a map point, so positions inside the text are
 * exact wherever the text holds the file's own bytes. The result is
 * checked against the text: when it does not line up (a case the rules
 * below do not cover), the map falls back to one point at the start.
 * Lines and columns are counted as libyaml counts them: CR, LF, CRLF, NEL,
 * LS and PS break lines; columns are code points.
 */
#include "pipeline_val.h"

#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "gha_expr.h"

static const char *const atom_text[] = {
#define MLG_PL_ATOM_TEXT(id, s) s,
    MLG_PL_ATOMS(MLG_PL_ATOM_TEXT)
#undef MLG_PL_ATOM_TEXT
};

/* --- memo ----------------------------------------------------------------- */

static size_t memo_slot(const void *key, size_t cap)
{
  uint64_t x = (uint64_t)(uintptr_t)key;
  x ^= x >> 29;
  x *= 0x9E3779B97F4A7C15ull;
  x ^= x >> 32;
  return (size_t)x & (cap - 1);
}

void *mlg_pl_memo_get(const mlg_pl_memo *m, const void *key)
{
  size_t i;
  if (!m->cap)
    return NULL;
  for (i = memo_slot(key, m->cap);; i = (i + 1) & (m->cap - 1)) {
    if (!m->keys[i])
      return NULL;
    if (m->keys[i] == key)
      return m->vals[i];
  }
}

static int memo_grow(mlg_pl_memo *m)
{
  size_t ncap = m->cap ? m->cap * 2 : 64, i, j;
  const void **keys = calloc(ncap, sizeof *keys);
  void **vals = calloc(ncap, sizeof *vals);

  if (!keys || !vals) {
    free(keys);
    free(vals);
    return MLG_ENOMEM;
  }
  for (i = 0; i < m->cap; i++) {
    if (!m->keys[i])
      continue;
    for (j = memo_slot(m->keys[i], ncap); keys[j]; j = (j + 1) & (ncap - 1))
      ;
    keys[j] = m->keys[i];
    vals[j] = m->vals[i];
  }
  free(m->keys);
  free(m->vals);
  m->keys = keys;
  m->vals = vals;
  m->cap = ncap;
  return 0;
}

int mlg_pl_memo_put(mlg_pl_memo *m, const void *key, void *val)
{
  size_t i;
  if ((m->len + 1) * 2 > m->cap && memo_grow(m))
    return MLG_ENOMEM;
  for (i = memo_slot(key, m->cap); m->keys[i] && m->keys[i] != key; i = (i + 1) & (m->cap - 1))
    ;
  if (!m->keys[i])
    m->len++;
  m->keys[i] = key;
  m->vals[i] = val;
  return 0;
}

void mlg_pl_memo_free(mlg_pl_memo *m)
{
  free(m->keys);
  free(m->vals);
  memset(m, 0, sizeof *m);
}

/* --- builder -------------------------------------------------------------- */

/* NEL, LS or PS anywhere (libyaml breaks lines there too). */
static int has_unicode_break(const char *s, size_t len)
{
  const unsigned char *p = (const unsigned char *)s, *end = p + len;
  for (; p < end; p++) {
    if (*p < 0xC2)
      continue;
    if (*p == 0xC2 && p + 1 < end && p[1] == 0x85)
      return 1;
    if (*p == 0xE2 && p + 2 < end && p[1] == 0x80 && (p[2] == 0xA8 || p[2] == 0xA9))
      return 1;
  }
  return 0;
}

int mlg_pl_init(mlg_pl *pl, const char *text, size_t len, const char *name,
                mlg_pipeline_kind kind, size_t limit_bytes, mlg_err *err)
{
  memset(pl, 0, sizeof *pl);
  pl->text = text;
  pl->len = len;
  pl->name = name;
  pl->kind = kind;
  pl->err = err;
  pl->doc = mlg_doc_new(name);
  if (!pl->doc)
    return pl->rc = mlg_err_set(err, MLG_ENOMEM, "%s: out of memory", name);
  pl->doc->limit_bytes = limit_bytes;
  pl->lf_only = !memchr(text, '\r', len) && !has_unicode_break(text, len);
  return 0;
}

void mlg_pl_fini(mlg_pl *pl)
{
  mlg_pl_memo_free(&pl->vals);
  mlg_pl_memo_free(&pl->kvs);
  mlg_pl_memo_free(&pl->raws);
  mlg_pl_memo_free(&pl->noexpr);
  mlg_pl_memo_free(&pl->strs);
  free(pl->comments);
  free(pl->exprs);
  mlg_buf_free(&pl->route);
  pl->comments = NULL;
  pl->exprs = NULL;
}

int mlg_pl_fail(mlg_pl *pl, const mlg_node *at, const char *fmt, ...)
{
  char msg[768];
  va_list ap;
  uint32_t line = 1, col = 1;

  if (pl->rc)
    return pl->rc;
  va_start(ap, fmt);
  vsnprintf(msg, sizeof msg, fmt, ap);
  va_end(ap);
  if (at && at->span.line) {
    line = at->span.line;
    col = at->span.col;
  }
  return pl->rc = mlg_err_set(pl->err, MLG_EPARSE, "%s:%u:%u: %s", pl->name, line, col, msg);
}

int mlg_pl_oom(mlg_pl *pl)
{
  uint32_t line = 1, col = 1;
  mlg_doc *d = pl->doc;

  if (pl->rc)
    return pl->rc;
  if (pl->at && pl->at->span.line) {
    line = pl->at->span.line;
    col = pl->at->span.col;
  }
  /* An allocation that fails while far below the limit is malloc's. */
  if (d->limit_bytes && d->used_bytes + ((size_t)1 << 20) > d->limit_bytes)
    return pl->rc = mlg_err_set(pl->err, MLG_ELIMIT,
                                "%s:%u:%u: the pipeline model needs more than %zu bytes, "
                                "the limit for this input (aliases expanding too much?)",
                                pl->name, line, col, d->limit_bytes);
  return pl->rc = mlg_err_set(pl->err, MLG_ENOMEM, "%s:%u:%u: out of memory", pl->name,
                              line, col);
}

int mlg_pl_tick(mlg_pl *pl, const mlg_node *n)
{
  if (pl->rc)
    return pl->rc;
  if (++pl->visits <= MLG_PL_MAX_VISITS)
    return 0;
  pl->at = n;
  return pl->rc = mlg_err_set(pl->err, MLG_ELIMIT,
                              "%s:%u:%u: modelling visits more than %zu nodes "
                              "(aliases expanding too much?)",
                              pl->name, n && n->span.line ? n->span.line : 1,
                              n && n->span.line ? n->span.col : 1, MLG_PL_MAX_VISITS);
}

mlg_node *mlg_pl_atom_node(mlg_pl *pl, mlg_pl_atom a)
{
  if (pl->rc)
    return NULL;
  if (!pl->atoms[a] && !(pl->atoms[a] = mlg_node_str(pl->doc, atom_text[a])))
    mlg_pl_oom(pl);
  return pl->atoms[a];
}

mlg_node *mlg_pl_map(mlg_pl *pl, size_t cap)
{
  mlg_node *n;
  if (pl->rc)
    return NULL;
  if (!(n = mlg_node_map(pl->doc)))
    goto oom;
  if (cap) {
    if (!(n->u.map.pairs = mlg_doc_alloc(pl->doc, cap * sizeof(mlg_pair))))
      goto oom;
    n->u.map.cap = cap;
  }
  return n;
oom:
  mlg_pl_oom(pl);
  return NULL;
}

mlg_node *mlg_pl_seq(mlg_pl *pl, size_t cap)
{
  mlg_node *n;
  if (pl->rc)
    return NULL;
  if (!(n = mlg_node_seq(pl->doc)))
    goto oom;
  if (cap) {
    if (!(n->u.seq.items = mlg_doc_alloc(pl->doc, cap * sizeof(mlg_node *))))
      goto oom;
    n->u.seq.cap = cap;
  }
  return n;
oom:
  mlg_pl_oom(pl);
  return NULL;
}

mlg_node *mlg_pl_int(mlg_pl *pl, int64_t v)
{
  mlg_node *n;
  size_t nints = sizeof pl->ints / sizeof pl->ints[0];
  if (pl->rc)
    return NULL;
  if (v >= 0 && (uint64_t)v < nints && pl->ints[v])
    return pl->ints[v];
  if (!(n = mlg_node_int(pl->doc, v)))
    mlg_pl_oom(pl);
  else if (v >= 0 && (uint64_t)v < nints)
    pl->ints[v] = n;
  return n;
}

mlg_node *mlg_pl_bool(mlg_pl *pl, int v)
{
  mlg_node **slot = v ? &pl->t_true : &pl->t_false;
  if (pl->rc)
    return NULL;
  if (!*slot && !(*slot = mlg_node_bool(pl->doc, v)))
    mlg_pl_oom(pl);
  return *slot;
}

mlg_node *mlg_pl_str(mlg_pl *pl, const char *s, size_t n)
{
  mlg_node *r;
  if (pl->rc)
    return NULL;
  if (!(r = mlg_node_strn(pl->doc, s, n)))
    mlg_pl_oom(pl);
  return r;
}

mlg_node *mlg_pl_src_str(mlg_pl *pl, const mlg_node *s)
{
  mlg_node *r;
  if (pl->rc || !s)
    return NULL;
  /* Only a node with an anchor can be reached twice. */
  if (s->anchor && (r = mlg_pl_memo_get(&pl->strs, s)))
    return r;
  if (s->type != MLG_STR)
    return mlg_pl_scalar_str(pl, s);
  r = mlg_pl_str(pl, s->u.str.ptr, s->u.str.len);
  if (r && s->anchor && mlg_pl_memo_put(&pl->strs, s, r))
    mlg_pl_oom(pl);
  return r;
}

size_t mlg_pl_canon(char *buf, size_t size, const mlg_node *n)
{
  int k = 0;
  switch (n->type) {
  case MLG_BOOL: k = snprintf(buf, size, "%s", n->u.boolean ? "true" : "false"); break;
  case MLG_INT: k = snprintf(buf, size, "%lld", (long long)n->u.integer); break;
  case MLG_FLOAT:
    if (isnan(n->u.number))
      k = snprintf(buf, size, ".nan");
    else if (isinf(n->u.number))
      k = snprintf(buf, size, "%s", n->u.number < 0 ? "-.inf" : ".inf");
    else {
      k = snprintf(buf, size, "%.15g", n->u.number);
      if (strtod(buf, NULL) != n->u.number)
        k = snprintf(buf, size, "%.17g", n->u.number);
    }
    break;
  default: buf[0] = '\0'; break;
  }
  return k > 0 && (size_t)k < size ? (size_t)k : 0;
}

mlg_node *mlg_pl_scalar_str(mlg_pl *pl, const mlg_node *n)
{
  char buf[64];
  if (!n || n->type == MLG_SEQ || n->type == MLG_MAP)
    return NULL;
  if (n->type == MLG_STR)
    return mlg_pl_src_str(pl, n);
  return mlg_pl_str(pl, buf, mlg_pl_canon(buf, sizeof buf, n));
}

void mlg_pl_set(mlg_pl *pl, mlg_node *obj, mlg_pl_atom key, mlg_node *v)
{
  mlg_node *k;
  if (pl->rc || !obj || !v)
    return;
  if ((k = mlg_pl_atom_node(pl, key)) && mlg_map_put(pl->doc, obj, k, v))
    mlg_pl_oom(pl);
}

void mlg_pl_set_atom(mlg_pl *pl, mlg_node *obj, mlg_pl_atom key, mlg_pl_atom v)
{
  mlg_pl_set(pl, obj, key, mlg_pl_atom_node(pl, v));
}

void mlg_pl_set_int(mlg_pl *pl, mlg_node *obj, mlg_pl_atom key, int64_t v)
{
  mlg_pl_set(pl, obj, key, mlg_pl_int(pl, v));
}

void mlg_pl_set_bool(mlg_pl *pl, mlg_node *obj, mlg_pl_atom key, int v)
{
  mlg_pl_set(pl, obj, key, mlg_pl_bool(pl, v));
}

void mlg_pl_set_named(mlg_pl *pl, mlg_node *obj, const mlg_node *skey, mlg_node *v)
{
  mlg_node *k;
  if (pl->rc || !obj || !v)
    return;
  if ((k = mlg_pl_src_str(pl, skey)) && mlg_map_put(pl->doc, obj, k, v))
    mlg_pl_oom(pl);
}

void mlg_pl_push(mlg_pl *pl, mlg_node *seq, mlg_node *v)
{
  if (pl->rc || !seq || !v)
    return;
  if (mlg_seq_push(pl->doc, seq, v))
    mlg_pl_oom(pl);
}

void mlg_pl_set_pos(mlg_pl *pl, mlg_node *obj, const mlg_node *src)
{
  mlg_pl_set_int(pl, obj, MLG_A_LINE, src ? src->span.line : 1);
  mlg_pl_set_int(pl, obj, MLG_A_COL, src ? src->span.col : 1);
}

void mlg_pl_set_first_key_pos(mlg_pl *pl, mlg_node *obj, const mlg_node *map)
{
  if (map && map->type == MLG_MAP && map->u.map.len)
    mlg_pl_set_pos(pl, obj, map->u.map.pairs[0].key);
  else
    mlg_pl_set_pos(pl, obj, map);
}

/* --- source helpers ------------------------------------------------------- */

int mlg_pl_is_scalar(const mlg_node *n)
{
  return n && n->type != MLG_SEQ && n->type != MLG_MAP;
}

int mlg_pl_has_expr(const mlg_node *n)
{
  return n && n->type == MLG_STR && n->u.str.len >= 3 &&
         memmem(n->u.str.ptr, n->u.str.len, "${{", 3) != NULL;
}

/* --- source cursor -------------------------------------------------------- */

typedef struct scur {
  size_t off;
  uint32_t line, col;
} scur;

/* Length of the line break at i, 0 when there is none. */
static size_t brk_at(const char *s, size_t len, size_t i)
{
  unsigned char c;
  if (i >= len)
    return 0;
  c = (unsigned char)s[i];
  if (c == '\n')
    return 1;
  if (c == '\r')
    return i + 1 < len && s[i + 1] == '\n' ? 2 : 1;
  if (c == 0xC2 && i + 1 < len && (unsigned char)s[i + 1] == 0x85)
    return 2;
  if (c == 0xE2 && i + 2 < len && (unsigned char)s[i + 1] == 0x80 &&
      ((unsigned char)s[i + 2] == 0xA8 || (unsigned char)s[i + 2] == 0xA9))
    return 3;
  return 0;
}

static void cur_step(const mlg_pl *pl, scur *c)
{
  size_t b = brk_at(pl->text, pl->len, c->off);
  if (b) {
    c->off += b;
    c->line++;
    c->col = 1;
    return;
  }
  if (c->off >= pl->len)
    return;
  c->off++;
  while (c->off < pl->len && ((unsigned char)pl->text[c->off] & 0xC0) == 0x80)
    c->off++;
  c->col++;
}

/* Advances within a line up to byte to. */
static void cur_to(const mlg_pl *pl, scur *c, size_t to)
{
  while (c->off < to && c->off < pl->len)
    cur_step(pl, c);
}

/* End of the line holding from (before its break), at most lim. */
static size_t line_end(const mlg_pl *pl, size_t from, size_t lim)
{
  size_t i = from;
  if (pl->lf_only) {
    const char *nl = from < lim ? memchr(pl->text + from, '\n', lim - from) : NULL;
    return nl ? (size_t)(nl - pl->text) : (from < lim ? lim : from);
  }
  while (i < lim && !brk_at(pl->text, pl->len, i))
    i++;
  return i;
}

/* --- text maps ------------------------------------------------------------ */

static void tmap_init(mlg_pl_tmap *m)
{
  memset(m, 0, sizeof *m);
  m->pts = m->inl;
  m->cap = sizeof m->inl / sizeof m->inl[0];
  m->exact = 1;
}

void mlg_pl_tmap_free(mlg_pl_tmap *m)
{
  if (m && m->pts != m->inl)
    free(m->pts);
  if (m) {
    m->pts = m->inl;
    m->n = 0;
  }
}

static int tmap_add(mlg_pl_tmap *m, size_t t, const scur *c)
{
  if (m->n && m->pts[m->n - 1].t == t)
    m->n--;
  if (m->n == m->cap) {
    size_t ncap = m->cap * 2;
    mlg_pl_mpt *p = m->pts == m->inl ? malloc(ncap * sizeof *p)
                                     : realloc(m->pts, ncap * sizeof *p);
    if (!p)
      return MLG_ENOMEM;
    if (m->pts == m->inl)
      memcpy(p, m->inl, m->n * sizeof *p);
    m->pts = p;
    m->cap = ncap;
  }
  m->pts[m->n].t = t;
  m->pts[m->n].off = c->off;
  m->pts[m->n].line = c->line;
  m->pts[m->n].col = c->col;
  m->n++;
  return 0;
}

/* Where tmap_at last stopped: walks that go forward through the text
 * (the expressions of a value) continue from there. */
typedef struct tcur {
  size_t idx;
  mlg_pl_mpt at;
  int valid;
} tcur;

static mlg_pl_mpt tmap_at_c(const mlg_pl_mpt *pts, size_t n, const char *txt, size_t t,
                            tcur *c)
{
  size_t lo = 0, hi = n, i;
  mlg_pl_mpt r;

  if (c && c->valid && c->at.t <= t && (c->idx + 1 >= n || pts[c->idx + 1].t > t)) {
    lo = c->idx;
    r = c->at;
  } else {
    while (hi - lo > 1) {
      size_t mid = lo + (hi - lo) / 2;
      if (pts[mid].t <= t)
        lo = mid;
      else
        hi = mid;
    }
    r = pts[lo];
  }
  for (i = r.t; i < t; i++) {
    if (((unsigned char)txt[i] & 0xC0) != 0x80)
      r.col++;
    r.off++;
  }
  r.t = t;
  if (c) {
    c->idx = lo;
    c->at = r;
    c->valid = 1;
  }
  return r;
}

enum { ST_PLAIN, ST_SINGLE, ST_DOUBLE, ST_LITERAL, ST_FOLDED };

/* Decodes the double-quoted escape at s[i] ('\\'); returns the source
 * length and writes its UTF-8 bytes to out (*olen), 0 when invalid. */
static size_t dq_escape(const char *s, size_t lim, size_t i, char *out, size_t *olen)
{
  unsigned char c;
  size_t digits = 0, k;
  uint32_t cp = 0;

  if (i + 1 >= lim)
    return 0;
  c = (unsigned char)s[i + 1];
  *olen = 1;
  switch (c) {
  case '0': out[0] = '\0'; return 2;
  case 'a': out[0] = '\a'; return 2;
  case 'b': out[0] = '\b'; return 2;
  case 't': case '\t': out[0] = '\t'; return 2;
  case 'n': out[0] = '\n'; return 2;
  case 'v': out[0] = '\v'; return 2;
  case 'f': out[0] = '\f'; return 2;
  case 'r': out[0] = '\r'; return 2;
  case 'e': out[0] = '\x1b'; return 2;
  case ' ': case '"': case '/': case '\\': case '\'': out[0] = (char)c; return 2;
  case 'N': cp = 0x85; break;
  case '_': cp = 0xA0; break;
  case 'L': cp = 0x2028; break;
  case 'P': cp = 0x2029; break;
  case 'x': digits = 2; break;
  case 'u': digits = 4; break;
  case 'U': digits = 8; break;
  default: return 0;
  }
  if (digits) {
    if (i + 2 + digits > lim)
      return 0;
    for (k = 0; k < digits; k++) {
      char h = s[i + 2 + k];
      int v = h >= '0' && h <= '9' ? h - '0'
              : h >= 'a' && h <= 'f' ? h - 'a' + 10
              : h >= 'A' && h <= 'F' ? h - 'A' + 10 : -1;
      if (v < 0)
        return 0;
      cp = cp * 16 + (uint32_t)v;
    }
  }
  if (cp < 0x80) {
    out[0] = (char)cp;
    *olen = 1;
  } else if (cp < 0x800) {
    out[0] = (char)(0xC0 | (cp >> 6));
    out[1] = (char)(0x80 | (cp & 0x3F));
    *olen = 2;
  } else if (cp < 0x10000) {
    out[0] = (char)(0xE0 | (cp >> 12));
    out[1] = (char)(0x80 | ((cp >> 6) & 0x3F));
    out[2] = (char)(0x80 | (cp & 0x3F));
    *olen = 3;
  } else if (cp < 0x110000) {
    out[0] = (char)(0xF0 | (cp >> 18));
    out[1] = (char)(0x80 | ((cp >> 12) & 0x3F));
    out[2] = (char)(0x80 | ((cp >> 6) & 0x3F));
    out[3] = (char)(0x80 | (cp & 0x3F));
    *olen = 4;
  } else {
    return 0;
  }
  return digits ? 2 + digits : 2;
}

/* Matches source segment [c.off, ce) at text offset *tp, adding points.
 * 1 on a match (*tp moved past it), 0 otherwise, -1 out of memory. */
static int seg_try(const mlg_pl *pl, mlg_pl_tmap *m, int style, scur c, size_t ce,
                   const char *txt, size_t tlen, size_t *tp)
{
  const char *s = pl->text;
  size_t t = *tp;

  if (tmap_add(m, t, &c))
    return -1;
  if (style != ST_SINGLE && style != ST_DOUBLE) {
    size_t n = ce - c.off;
    if (tlen - t < n || memcmp(txt + t, s + c.off, n) != 0)
      return 0;
    *tp = t + n;
    return 1;
  }
  while (c.off < ce) {
    unsigned char b = (unsigned char)s[c.off];
    if (style == ST_SINGLE && b == '\'' && c.off + 1 < ce && s[c.off + 1] == '\'') {
      if (t >= tlen || txt[t] != '\'')
        return 0;
      t++;
      c.off += 2;
      c.col += 2;
      if (tmap_add(m, t, &c))
        return -1;
      continue;
    }
    if (style == ST_DOUBLE && b == '\\') {
      char out[4];
      size_t olen = 0, k = dq_escape(s, ce, c.off, out, &olen);
      if (!k || tlen - t < olen || memcmp(txt + t, out, olen) != 0)
        return 0;
      t += olen;
      c.off += k;
      c.col += (uint32_t)k;
      if (tmap_add(m, t, &c))
        return -1;
      continue;
    }
    if (t >= tlen || txt[t] != (char)b)
      return 0;
    t++;
    c.off++;
    if ((b & 0xC0) != 0x80)
      c.col++;
  }
  *tp = t;
  return 1;
}

/* Finds the segment in the text after the separators folding leaves
 * (need: at least one, as between any two lines but after an escaped line
 * break or before a block scalar's first line). */
static int seg_match(const mlg_pl *pl, mlg_pl_tmap *m, int style, const scur *c, size_t ce,
                     const char *txt, size_t tlen, size_t *tp, int need)
{
  size_t t0 = *tp, n0 = m->n;
  mlg_pl_mpt saved;
  int spaced = 0, r;

  if (need) {
    if (t0 < tlen && txt[t0] == '\n')
      t0++;
    else if (style != ST_LITERAL && t0 < tlen && txt[t0] == ' ')
      t0++, spaced = 1;
    else
      return 0;
  }
  /* A trial may replace the last point (same text offset): keep it. */
  if (n0)
    saved = m->pts[n0 - 1];
  for (;;) {
    size_t t = t0;
    r = seg_try(pl, m, style, *c, ce, txt, tlen, &t);
    if (r < 0)
      return -1;
    if (r) {
      *tp = t;
      return 1;
    }
    m->n = n0;
    if (n0)
      m->pts[n0 - 1] = saved;
    if (t0 < tlen && txt[t0] == '\n') {
      t0++;
      continue;
    }
    if (!spaced && style != ST_LITERAL && t0 < tlen && txt[t0] == ' ') {
      spaced = 1;
      t0++;
      continue;
    }
    return 0;
  }
}

static int is_ws(char ch)
{
  return ch == ' ' || ch == '\t';
}

/* Aligns a flow scalar (plain or quoted) whose content is [c, lim). */
static int align_flow(const mlg_pl *pl, mlg_pl_tmap *m, int style, scur c, size_t lim,
                      const char *txt, size_t tlen, size_t *tp)
{
  const char *s = pl->text;
  int first = 1, segs = 0, joined = 0, r;

  for (;;) {
    size_t e, ce;
    int last, join = 0;
    if (!first)
      while (c.off < lim && is_ws(s[c.off]))
        cur_step(pl, &c);
    e = line_end(pl, c.off, lim);
    last = e >= lim;
    ce = e;
    if (!last) {
      size_t run = 0;
      /* An escaped line break joins the lines with nothing between. */
      while (style == ST_DOUBLE && ce - run > c.off && s[ce - run - 1] == '\\')
        run++;
      if (style == ST_DOUBLE && (run & 1)) {
        ce--;
        join = 1;
      } else {
        while (ce > c.off && is_ws(s[ce - 1]))
          ce--;
        /* "\ " is an escaped space: the blank it escapes stays. */
        for (run = 0; style == ST_DOUBLE && ce - run > c.off && s[ce - run - 1] == '\\';)
          run++;
        if ((run & 1) && ce < e)
          ce++;
      }
    }
    if (ce > c.off) {
      if ((r = seg_match(pl, m, style, &c, ce, txt, tlen, tp, segs && !joined)) <= 0)
        return r;
      if (m->first == (size_t)-1)
        m->first = m->n - 1;
      m->end_off = ce;
      segs++;
    }
    joined = join;
    if (last)
      return 1;
    cur_to(pl, &c, e);
    cur_step(pl, &c);
    first = 0;
  }
}

/* Aligns a block scalar whose header (indicator line) starts at c. */
static int align_block(const mlg_pl *pl, mlg_pl_tmap *m, int style, scur c, const char *txt,
                       size_t tlen, size_t *tp)
{
  const char *s = pl->text;
  size_t e, i, l0 = 0, s0 = 0, indent, t, seen, rest;
  int r, found = 0;

  /* Skip the header line. */
  e = line_end(pl, c.off, pl->len);
  cur_to(pl, &c, e);
  cur_step(pl, &c);
  if (c.off >= pl->len)
    return tlen == 0;
  /* Indentation: the first line holding text, less the spaces the text
   * keeps at its start (an explicit indentation indicator). */
  for (i = c.off; i < pl->len;) {
    size_t le = line_end(pl, i, pl->len), k = i;
    while (k < le && s[k] == ' ')
      k++;
    if (k < le) {
      l0 = k - i;
      found = 1;
      break;
    }
    i = le + brk_at(s, pl->len, le);
    if (le >= pl->len)
      break;
  }
  for (t = 0; t < tlen && txt[t] == '\n'; t++)
    ;
  while (t + s0 < tlen && txt[t + s0] == ' ')
    s0++;
  if (!found || t == tlen)
    return tlen == t; /* only line breaks, or nothing */
  if (s0 > l0)
    return 0;
  indent = l0 - s0;
  (void)tmap_add(m, 0, &c); /* the first line, for leading line breaks */
  for (seen = (size_t)-1, rest = 0;;) {
    size_t k = 0;
    if (*tp >= tlen)
      return 1;
    if (seen != *tp) /* empty lines leave *tp alone: scan once */
      for (seen = *tp, rest = *tp; rest < tlen && txt[rest] == '\n'; rest++)
        ;
    if (rest == tlen)
      return 1; /* what is left is chomping's line breaks */
    if (c.off >= pl->len)
      return 0;
    e = line_end(pl, c.off, pl->len);
    while (k < indent && c.off < e && s[c.off] == ' ') {
      cur_step(pl, &c);
      k++;
    }
    if (c.off < e) {
      if ((r = seg_match(pl, m, style, &c, e, txt, tlen, tp, m->first != (size_t)-1)) <= 0)
        return r;
      if (m->first == (size_t)-1)
        m->first = m->n - 1;
      m->end_off = e;
    }
    if (e >= pl->len)
      return *tp >= tlen;
    cur_to(pl, &c, e);
    cur_step(pl, &c);
  }
}

int mlg_pl_align(mlg_pl *pl, mlg_pl_tmap *m, const mlg_node *n, const char *txt,
                 size_t tlen)
{
  scur c, start;
  size_t tp = 0, lim;
  int r = 1, style;

  tmap_init(m);
  m->first = (size_t)-1;
  c.off = n->span.offset;
  c.line = n->span.line ? n->span.line : 1;
  c.col = n->span.line ? n->span.col : 1;
  if (c.off > pl->len)
    c.off = pl->len;
  /* libyaml starts a node at its properties (&anchor, !tag), which may
   * stand on the lines before the scalar. */
  while ((n->anchor || n->tag) && c.off < pl->len &&
         (pl->text[c.off] == '&' || pl->text[c.off] == '!')) {
    while (c.off < pl->len && !is_ws(pl->text[c.off]) && !brk_at(pl->text, pl->len, c.off))
      cur_step(pl, &c);
    while (c.off < pl->len && (is_ws(pl->text[c.off]) || brk_at(pl->text, pl->len, c.off)))
      cur_step(pl, &c);
  }
  switch (n->style) {
  case MLG_STYLE_SINGLE: style = ST_SINGLE; break;
  case MLG_STYLE_DOUBLE: style = ST_DOUBLE; break;
  case MLG_STYLE_LITERAL: style = ST_LITERAL; break;
  case MLG_STYLE_FOLDED: style = ST_FOLDED; break;
  default: style = ST_PLAIN; break;
  }
  lim = n->span.end_offset <= pl->len ? n->span.end_offset : pl->len;
  if (style == ST_SINGLE || style == ST_DOUBLE) {
    cur_step(pl, &c);
    if (lim > c.off)
      lim--;
  }
  start = c;
  m->end_off = c.off;
  if (n->type != MLG_STR || !n->span.line) {
    /* Canonical text of a number or boolean: only its start is known. */
    (void)tmap_add(m, 0, &c);
    m->first = 0;
    m->end_off = lim > c.off ? lim : c.off;
    m->exact = n->type == MLG_STR;
    return 0;
  }
  if (style == ST_LITERAL || style == ST_FOLDED) {
    r = align_block(pl, m, style, c, txt, tlen, &tp);
  } else {
    r = align_flow(pl, m, style, c, lim, txt, tlen, &tp);
  }
  if (r < 0) {
    mlg_pl_tmap_free(m);
    return mlg_pl_oom(pl);
  }
  if (r) {
    /* Left over may only be what folding and chomping add. */
    for (; tp < tlen; tp++)
      if (txt[tp] != '\n' && txt[tp] != ' ')
        break;
    r = tp == tlen;
  }
  if (r && m->n && m->pts[0].t != 0)
    r = 0;
  if (!r || !m->n) {
    mlg_pl_tmap_free(m);
    m->exact = r && m->n == 0 && tlen == 0;
    if (style == ST_LITERAL || style == ST_FOLDED) {
      /* Start of the line after the indicator, where content would be. */
      size_t e = line_end(pl, start.off, pl->len);
      cur_to(pl, &start, e);
      cur_step(pl, &start);
    }
    (void)tmap_add(m, 0, &start);
    m->first = 0;
    if (!m->exact || m->end_off < start.off)
      m->end_off = start.off;
  }
  if (m->first == (size_t)-1)
    m->first = 0;
  return 0;
}

/* --- values --------------------------------------------------------------- */

/* What a val object takes from its scalar alone. */
typedef struct vinfo {
  mlg_node *text, *map, *line, *col, *off, *end_off;
  mlg_pl_atom style;
  mlg_pl_mpt *pts; /* the text map, in the arena */
  size_t npts, first;
  mlg_gx_span *spans; /* its ${{ }}, once looked for */
  mlg_pl_mpt *spos;   /* where each starts and where its last character is */
  size_t nspans;
  int spans_done;
} vinfo;

static mlg_pl_atom style_atom(const mlg_node *n)
{
  switch (n->style) {
  case MLG_STYLE_SINGLE: return MLG_A_V_SINGLE;
  case MLG_STYLE_DOUBLE: return MLG_A_V_DOUBLE;
  case MLG_STYLE_LITERAL: return MLG_A_V_LITERAL;
  case MLG_STYLE_FOLDED: return MLG_A_V_FOLDED;
  default: return MLG_A_V_PLAIN;
  }
}

/* The flat {t, line, col, ...} sequence of a map. */
static mlg_node *tmap_seq(mlg_pl *pl, const mlg_pl_mpt *pts, size_t n)
{
  mlg_node *seq;
  size_t i;
  if (!(seq = mlg_pl_seq(pl, n * 3)))
    return NULL;
  for (i = 0; i < n; i++) {
    mlg_pl_push(pl, seq, mlg_pl_int(pl, (int64_t)pts[i].t));
    mlg_pl_push(pl, seq, mlg_pl_int(pl, pts[i].line));
    mlg_pl_push(pl, seq, mlg_pl_int(pl, pts[i].col));
  }
  return seq;
}

/* Nodes that may be reached many times (anchored ones, and all nodes under
 * them, of which only long strings are worth remembering: the rest costs
 * about what modelling it costs). */
static int memo_worthy(const mlg_node *v)
{
  return v->anchor || (v->type == MLG_STR && v->u.str.len > 256);
}

static vinfo *val_info(mlg_pl *pl, const mlg_node *v)
{
  int memo = memo_worthy(v);
  vinfo *vi = memo ? mlg_pl_memo_get(&pl->vals, v) : NULL;
  mlg_pl_tmap m;
  const mlg_pl_mpt *p;

  if (vi || pl->rc)
    return vi;
  if (!(vi = mlg_doc_alloc(pl->doc, sizeof *vi))) {
    mlg_pl_oom(pl);
    return NULL;
  }
  if (!(vi->text = mlg_pl_scalar_str(pl, v)))
    return NULL;
  if (mlg_pl_align(pl, &m, v, vi->text->u.str.ptr, vi->text->u.str.len))
    return NULL;
  if (!(vi->pts = mlg_doc_alloc(pl->doc, m.n * sizeof *vi->pts))) {
    mlg_pl_tmap_free(&m);
    mlg_pl_oom(pl);
    return NULL;
  }
  memcpy(vi->pts, m.pts, m.n * sizeof *vi->pts);
  vi->npts = m.n;
  vi->first = m.first;
  p = &m.pts[m.first];
  vi->line = mlg_pl_int(pl, p->line);
  vi->col = mlg_pl_int(pl, p->col);
  vi->off = mlg_pl_int(pl, (int64_t)p->off);
  vi->end_off = mlg_pl_int(pl, (int64_t)(m.end_off > p->off ? m.end_off : p->off));
  vi->style = style_atom(v);
  mlg_pl_tmap_free(&m);
  if (pl->rc)
    return NULL;
  if (memo && mlg_pl_memo_put(&pl->vals, v, vi)) {
    mlg_pl_oom(pl);
    return NULL;
  }
  return vi;
}

mlg_node *mlg_pl_val(mlg_pl *pl, const mlg_node *key, const mlg_node *v)
{
  vinfo *vi;
  mlg_node *o;

  if (pl->rc || !mlg_pl_is_scalar(v))
    return NULL;
  pl->at = v;
  if (!(vi = val_info(pl, v)) || !(o = mlg_pl_map(pl, 9)))
    return NULL;
  mlg_pl_set(pl, o, MLG_A_TEXT, vi->text);
  mlg_pl_set(pl, o, MLG_A_LINE, vi->line);
  mlg_pl_set(pl, o, MLG_A_COL, vi->col);
  mlg_pl_set(pl, o, MLG_A_OFFSET, vi->off);
  mlg_pl_set(pl, o, MLG_A_END_OFFSET, vi->end_off);
  mlg_pl_set_atom(pl, o, MLG_A_STYLE, vi->style);
  if (!vi->map && vi->npts > 1)
    vi->map = tmap_seq(pl, vi->pts, vi->npts);
  mlg_pl_set(pl, o, MLG_A_MAP, vi->map);
  if (key) {
    mlg_pl_set_int(pl, o, MLG_A_KEY_LINE, key->span.line);
    mlg_pl_set_int(pl, o, MLG_A_KEY_COL, key->span.col);
  }
  return pl->rc ? NULL : o;
}

int mlg_pl_val_start(mlg_pl *pl, const mlg_node *v, uint32_t *line, uint32_t *col)
{
  vinfo *vi;
  *line = v && v->span.line ? v->span.line : 1;
  *col = v && v->span.line ? v->span.col : 1;
  if (pl->rc || !mlg_pl_is_scalar(v))
    return pl->rc;
  if ((vi = val_info(pl, v))) {
    *line = (uint32_t)vi->line->u.integer;
    *col = (uint32_t)vi->col->u.integer;
  }
  return pl->rc;
}

void mlg_pl_set_kv(mlg_pl *pl, mlg_node *obj, mlg_pl_atom list_key, mlg_pl_atom expr_key,
                   const mlg_node *key, const mlg_node *v, mlg_pl_atom field)
{
  mlg_pl_set(pl, obj, list_key, mlg_pl_kv_field(pl, v, field));
  /* `env: ${{ fromJSON(inputs.env) }}`: the whole mapping is an expression. */
  if (v && v->type == MLG_STR && mlg_pl_has_expr(v))
    mlg_pl_set(pl, obj, expr_key, mlg_pl_val(pl, key, v));
}

mlg_node *mlg_pl_kv_field(mlg_pl *pl, const mlg_node *v, mlg_pl_atom field)
{
  mlg_node *kv = mlg_pl_kvs(pl, v);
  mlg_pl_exprs_entries(pl, v, field);
  return kv ? kv : mlg_pl_seq(pl, 0);
}

mlg_pl_atom mlg_pl_vtype(const mlg_node *n)
{
  switch (n ? n->type : MLG_NULL) {
  case MLG_BOOL: return MLG_A_V_BOOL;
  case MLG_INT: return MLG_A_V_INT;
  case MLG_FLOAT: return MLG_A_V_FLOAT;
  case MLG_STR: return MLG_A_V_STRING;
  case MLG_SEQ: return MLG_A_V_SEQ;
  case MLG_MAP: return MLG_A_V_MAP;
  default: return MLG_A_V_NULL;
  }
}

mlg_node *mlg_pl_kvs(mlg_pl *pl, const mlg_node *n)
{
  mlg_node *seq;
  size_t i;

  if (pl->rc || !n || n->type != MLG_MAP)
    return NULL;
  if (n->anchor && (seq = mlg_pl_memo_get(&pl->kvs, n)))
    return seq;
  if (!(seq = mlg_pl_seq(pl, n->u.map.len)))
    return NULL;
  for (i = 0; i < n->u.map.len; i++) {
    const mlg_pair *p = &n->u.map.pairs[i];
    mlg_node *kv = mlg_pl_map(pl, 5);
    if (mlg_pl_tick(pl, p->val))
      return NULL;
    mlg_pl_set(pl, kv, MLG_A_NAME, mlg_pl_src_str(pl, p->key));
    mlg_pl_set(pl, kv, MLG_A_VALUE, mlg_pl_val(pl, p->key, p->val));
    mlg_pl_set_atom(pl, kv, MLG_A_VTYPE, mlg_pl_vtype(p->val));
    mlg_pl_set_pos(pl, kv, p->key);
    mlg_pl_push(pl, seq, kv);
  }
  if (!pl->rc && n->anchor && mlg_pl_memo_put(&pl->kvs, n, seq))
    mlg_pl_oom(pl);
  return pl->rc ? NULL : seq;
}

mlg_node *mlg_pl_raw(mlg_pl *pl, const mlg_node *n)
{
  mlg_node *c;
  size_t i;

  if (pl->rc || !n)
    return NULL;
  if (n->anchor && (c = mlg_pl_memo_get(&pl->raws, n)))
    return c;
  if (mlg_pl_tick(pl, n))
    return NULL;
  switch (n->type) {
  case MLG_STR: c = mlg_pl_str(pl, n->u.str.ptr, n->u.str.len); break;
  case MLG_SEQ:
    if ((c = mlg_pl_seq(pl, n->u.seq.len)))
      for (i = 0; i < n->u.seq.len; i++)
        mlg_pl_push(pl, c, mlg_pl_raw(pl, n->u.seq.items[i]));
    break;
  case MLG_MAP:
    if ((c = mlg_pl_map(pl, n->u.map.len)))
      for (i = 0; i < n->u.map.len; i++)
        mlg_pl_set_named(pl, c, n->u.map.pairs[i].key, mlg_pl_raw(pl, n->u.map.pairs[i].val));
    break;
  default:
    if ((c = mlg_node_new(pl->doc, (mlg_ntype)n->type)))
      c->u = n->u;
    else
      mlg_pl_oom(pl);
    break;
  }
  if (pl->rc || !c)
    return NULL;
  c->style = n->style;
  c->span = n->span;
  /* Shared source nodes stay shared; others cannot be reached twice. */
  if (n->anchor && mlg_pl_memo_put(&pl->raws, n, c))
    mlg_pl_oom(pl);
  return pl->rc ? NULL : c;
}

mlg_node *mlg_pl_vals(mlg_pl *pl, const mlg_node *key, const mlg_node *n, int *has_expr)
{
  mlg_node *seq;
  size_t i;

  if (pl->rc || !n)
    return NULL;
  if (n->type == MLG_MAP)
    return mlg_pl_seq(pl, 0);
  if (n->type != MLG_SEQ) {
    if (has_expr && mlg_pl_has_expr(n))
      *has_expr = 1;
    if ((seq = mlg_pl_seq(pl, 1)))
      mlg_pl_push(pl, seq, mlg_pl_val(pl, key, n));
    return seq;
  }
  if (!(seq = mlg_pl_seq(pl, n->u.seq.len)))
    return NULL;
  for (i = 0; i < n->u.seq.len; i++) {
    const mlg_node *it = n->u.seq.items[i];
    if (mlg_pl_tick(pl, it))
      return NULL;
    if (has_expr && mlg_pl_has_expr(it))
      *has_expr = 1;
    if (mlg_pl_is_scalar(it))
      mlg_pl_push(pl, seq, mlg_pl_val(pl, key, it));
  }
  return seq;
}

mlg_node *mlg_pl_strs(mlg_pl *pl, const mlg_node *n)
{
  mlg_node *seq;
  size_t i;

  if (pl->rc || !n)
    return NULL;
  if (n->type == MLG_MAP)
    return mlg_pl_seq(pl, 0);
  if (n->type != MLG_SEQ) {
    if ((seq = mlg_pl_seq(pl, 1)) && n->type != MLG_NULL)
      mlg_pl_push(pl, seq, mlg_pl_scalar_str(pl, n));
    return seq;
  }
  if (!(seq = mlg_pl_seq(pl, n->u.seq.len)))
    return NULL;
  for (i = 0; i < n->u.seq.len; i++) {
    const mlg_node *it = n->u.seq.items[i];
    if (mlg_pl_tick(pl, it))
      return NULL;
    if (mlg_pl_is_scalar(it) && it->type != MLG_NULL)
      mlg_pl_push(pl, seq, mlg_pl_scalar_str(pl, it));
  }
  return seq;
}

/* --- routes --------------------------------------------------------------- */

static size_t route_put(mlg_pl *pl, const char *s, size_t n, int dot)
{
  size_t mark = pl->route.len;
  if (pl->rc)
    return mark;
  if ((dot && mark && mlg_buf_putc(&pl->route, '.')) || mlg_buf_put(&pl->route, s, n))
    mlg_pl_oom(pl);
  return mark;
}

size_t mlg_pl_route_key(mlg_pl *pl, const mlg_node *key)
{
  char buf[64];
  if (key && key->type == MLG_STR)
    return route_put(pl, key->u.str.ptr, key->u.str.len, 1);
  return route_put(pl, buf, key ? mlg_pl_canon(buf, sizeof buf, key) : 0, 1);
}

size_t mlg_pl_route_cstr(mlg_pl *pl, const char *key)
{
  return route_put(pl, key, strlen(key), 1);
}

size_t mlg_pl_route_index(mlg_pl *pl, size_t i)
{
  char buf[32];
  size_t k = sizeof buf;
  buf[--k] = ']';
  do
    buf[--k] = (char)('0' + i % 10);
  while ((i /= 10) != 0);
  buf[--k] = '[';
  return route_put(pl, buf + k, sizeof buf - k, 0);
}

void mlg_pl_route_pop(mlg_pl *pl, size_t mark)
{
  if (mark <= pl->route.len) {
    pl->route.len = mark;
    if (pl->route.ptr)
      pl->route.ptr[mark] = '\0';
  }
}

mlg_node *mlg_pl_route_node(mlg_pl *pl)
{
  return mlg_pl_str(pl, pl->route.ptr ? pl->route.ptr : "", pl->route.len);
}

/* --- expressions ---------------------------------------------------------- */

static void expr_keep(mlg_pl *pl, size_t off, mlg_node *node)
{
  if (pl->rc || !node)
    return;
  if (pl->nexprs == pl->capexprs) {
    size_t ncap = pl->capexprs ? pl->capexprs * 2 : 32;
    mlg_pl_expr *e = realloc(pl->exprs, ncap * sizeof *e);
    if (!e) {
      mlg_pl_oom(pl);
      return;
    }
    pl->exprs = e;
    pl->capexprs = ncap;
  }
  pl->exprs[pl->nexprs].off = off;
  pl->exprs[pl->nexprs].seq = pl->nexprs;
  pl->exprs[pl->nexprs].node = node;
  pl->nexprs++;
}

/* Where expression text [st, end) starts (a) and where its last
 * character is (z). */
static void expr_pos(const vinfo *vi, tcur *c, size_t st, size_t end, mlg_pl_mpt *a,
                     mlg_pl_mpt *z)
{
  const char *txt = vi->text->u.str.ptr;
  size_t last = end > st ? end - 1 : st;
  while (last > st && ((unsigned char)txt[last] & 0xC0) == 0x80)
    last--;
  *a = tmap_at_c(vi->pts, vi->npts, txt, st, c);
  *z = tmap_at_c(vi->pts, vi->npts, txt, last, c);
}

/* One expression: text [st, end) of the value, inner [in, in_end). */
static void expr_emit(mlg_pl *pl, const vinfo *vi, const mlg_pl_mpt *a, const mlg_pl_mpt *z,
                      size_t st, size_t end, size_t in, size_t in_end, mlg_pl_atom field,
                      const mlg_node *key, mlg_node *route, int fenced)
{
  mlg_node *o;

  if (!(o = mlg_pl_map(pl, 13)))
    return;
  mlg_pl_set(pl, o, MLG_A_TEXT, mlg_pl_str(pl, vi->text->u.str.ptr + in, in_end - in));
  mlg_pl_set_int(pl, o, MLG_A_LINE, a->line);
  mlg_pl_set_int(pl, o, MLG_A_COL, a->col);
  mlg_pl_set_int(pl, o, MLG_A_END_LINE, z->line);
  mlg_pl_set_int(pl, o, MLG_A_END_COL, (int64_t)z->col + (end > st ? 1 : 0));
  mlg_pl_set_int(pl, o, MLG_A_OFFSET, (int64_t)a->off);
  mlg_pl_set_int(pl, o, MLG_A_END_OFFSET, (int64_t)(z->off + (end - z->t)));
  mlg_pl_set_atom(pl, o, MLG_A_FIELD, field);
  if (key)
    mlg_pl_set(pl, o, MLG_A_KEY, mlg_pl_src_str(pl, key));
  mlg_pl_set(pl, o, MLG_A_ROUTE, route);
  mlg_pl_set(pl, o, MLG_A_JOB, pl->job);
  if (pl->step)
    mlg_pl_set_int(pl, o, MLG_A_STEP, (int64_t)pl->step);
  mlg_pl_set_bool(pl, o, MLG_A_FENCED, fenced);
  expr_keep(pl, a->off, o);
}

/* The ${{ }} spans of a value's text, found once per value. */
static int find_spans(mlg_pl *pl, vinfo *vi)
{
  const char *txt = vi->text->u.str.ptr;
  size_t tlen = vi->text->u.str.len, from = 0, n, i, cap = 0;
  mlg_gx_span sp[16], *all = NULL;
  tcur c = {0, {0, 0, 0, 0}, 0};
  int more = 1;

  vi->nspans = 0;
  while (more) {
    n = mlg_gx_find(sp, sizeof sp / sizeof sp[0], txt + from, tlen - from, &more);
    if (vi->nspans + n > cap) {
      mlg_gx_span *a;
      cap = (vi->nspans + n) * 2;
      if (!(a = realloc(all, cap * sizeof *a))) {
        free(all);
        return mlg_pl_oom(pl);
      }
      all = a;
    }
    for (i = 0; i < n; i++) {
      all[vi->nspans] = sp[i];
      all[vi->nspans].start += from;
      all[vi->nspans].end += from;
      all[vi->nspans].inner += from;
      vi->nspans++;
    }
    if (n)
      from += sp[n - 1].end;
  }
  if (vi->nspans && !(vi->spans = mlg_doc_alloc(pl->doc, vi->nspans * sizeof *all))) {
    free(all);
    return mlg_pl_oom(pl);
  }
  if (vi->nspans)
    memcpy(vi->spans, all, vi->nspans * sizeof *all);
  free(all);
  if (vi->nspans && !(vi->spos = mlg_doc_alloc(pl->doc, 2 * vi->nspans * sizeof *vi->spos)))
    return mlg_pl_oom(pl);
  for (i = 0; i < vi->nspans; i++)
    expr_pos(vi, &c, vi->spans[i].start, vi->spans[i].end, &vi->spos[2 * i],
             &vi->spos[2 * i + 1]);
  vi->spans_done = 1;
  return 0;
}

static void exprs_scalar(mlg_pl *pl, const mlg_node *v, mlg_pl_atom field,
                         const mlg_node *key)
{
  mlg_node *route = NULL;
  vinfo *vi;
  size_t i;

  pl->at = v;
  if (!(vi = val_info(pl, v)) || (!vi->spans_done && find_spans(pl, vi)))
    return;
  if (vi->nspans)
    route = mlg_pl_route_node(pl);
  for (i = 0; i < vi->nspans && !pl->rc; i++) {
    const mlg_gx_span *sp = &vi->spans[i];
    expr_emit(pl, vi, &vi->spos[2 * i], &vi->spos[2 * i + 1], sp->start, sp->end, sp->inner,
              sp->inner + sp->inner_len, field, key, route, 1);
  }
}

static void exprs_walk(mlg_pl *pl, const mlg_node *v, mlg_pl_atom field, const mlg_node *key)
{
  size_t before = pl->nexprs, i, mark;

  if (!v || mlg_pl_tick(pl, v))
    return;
  if (memo_worthy(v) && mlg_pl_memo_get(&pl->noexpr, v))
    return;
  if (v->type == MLG_STR) {
    /* Long values reached again: their spans are known. */
    const vinfo *vi = memo_worthy(v) ? mlg_pl_memo_get(&pl->vals, v) : NULL;
    if ((vi && vi->spans_done) || mlg_pl_has_expr(v))
      exprs_scalar(pl, v, field, key);
  } else if (v->type == MLG_SEQ) {
    for (i = 0; i < v->u.seq.len && !pl->rc; i++) {
      mark = mlg_pl_route_index(pl, i);
      exprs_walk(pl, v->u.seq.items[i], field, key);
      mlg_pl_route_pop(pl, mark);
    }
  } else if (v->type == MLG_MAP) {
    for (i = 0; i < v->u.map.len && !pl->rc; i++) {
      mark = mlg_pl_route_key(pl, v->u.map.pairs[i].key);
      exprs_walk(pl, v->u.map.pairs[i].val, field, key);
      mlg_pl_route_pop(pl, mark);
    }
  }
  /* A shared subtree without expressions is not walked again. */
  if (memo_worthy(v) && !pl->rc && pl->nexprs == before &&
      mlg_pl_memo_put(&pl->noexpr, v, (void *)1))
    mlg_pl_oom(pl);
}

void mlg_pl_exprs(mlg_pl *pl, const mlg_node *v, mlg_pl_atom field, const mlg_node *key)
{
  if (!pl->rc)
    exprs_walk(pl, v, field, key);
}

void mlg_pl_exprs_entries(mlg_pl *pl, const mlg_node *v, mlg_pl_atom field)
{
  size_t i, mark;
  if (pl->rc || !v)
    return;
  if (v->type != MLG_MAP) {
    exprs_walk(pl, v, field, NULL);
    return;
  }
  for (i = 0; i < v->u.map.len && !pl->rc; i++) {
    mark = mlg_pl_route_key(pl, v->u.map.pairs[i].key);
    exprs_walk(pl, v->u.map.pairs[i].val, field, v->u.map.pairs[i].key);
    mlg_pl_route_pop(pl, mark);
  }
}

void mlg_pl_exprs_cond(mlg_pl *pl, const mlg_node *v)
{
  const char *txt;
  size_t tlen, i;
  tcur c = {0, {0, 0, 0, 0}, 0};
  vinfo *vi;

  if (pl->rc || !v || v->type == MLG_NULL)
    return;
  if (!mlg_pl_is_scalar(v) || mlg_pl_has_expr(v)) {
    exprs_walk(pl, v, MLG_A_F_IF, NULL);
    return;
  }
  if (mlg_pl_tick(pl, v))
    return;
  pl->at = v;
  if (!(vi = val_info(pl, v)))
    return;
  txt = vi->text->u.str.ptr;
  tlen = vi->text->u.str.len;
  for (i = 0; i < tlen && (txt[i] == ' ' || txt[i] == '\t' || txt[i] == '\n'); i++)
    ;
  if (i < tlen) {
    mlg_pl_mpt a, z;
    expr_pos(vi, &c, vi->pts[vi->first].t, tlen, &a, &z);
    expr_emit(pl, vi, &a, &z, vi->pts[vi->first].t, tlen, 0, tlen, MLG_A_F_IF, NULL,
              mlg_pl_route_node(pl), 0);
  }
}

static int expr_cmp(const void *a, const void *b)
{
  const mlg_pl_expr *x = a, *y = b;
  if (x->off != y->off)
    return x->off < y->off ? -1 : 1;
  return x->seq < y->seq ? -1 : x->seq > y->seq;
}

mlg_node *mlg_pl_exprs_seq(mlg_pl *pl)
{
  mlg_node *seq;
  size_t i;
  if (pl->rc)
    return NULL;
  if (pl->nexprs > 1)
    qsort(pl->exprs, pl->nexprs, sizeof *pl->exprs, expr_cmp);
  if (!(seq = mlg_pl_seq(pl, pl->nexprs)))
    return NULL;
  for (i = 0; i < pl->nexprs; i++)
    mlg_pl_push(pl, seq, pl->exprs[i].node);
  return seq;
}

/* --- comments ------------------------------------------------------------- */

typedef struct span_list {
  size_t (*r)[2];
  size_t n, cap;
} span_list;

static int span_add(span_list *l, size_t a, size_t b)
{
  if (a >= b)
    return 0;
  if (l->n == l->cap) {
    size_t ncap = l->cap ? l->cap * 2 : 64;
    size_t (*p)[2] = realloc(l->r, ncap * sizeof *p);
    if (!p)
      return MLG_ENOMEM;
    l->r = p;
    l->cap = ncap;
  }
  l->r[l->n][0] = a;
  l->r[l->n][1] = b;
  l->n++;
  return 0;
}

/* Byte ranges of quoted scalars and of block scalars' content lines: a '#'
 * there is text, not a comment. */
static int quoted_spans(mlg_pl *pl, const mlg_node *n, span_list *l, mlg_pl_memo *seen)
{
  size_t i;
  if (!n)
    return 0;
  if (n->anchor) {
    if (mlg_pl_memo_get(seen, n))
      return 0;
    if (mlg_pl_memo_put(seen, n, (void *)1))
      return MLG_ENOMEM;
  }
  switch (n->type) {
  case MLG_SEQ:
    for (i = 0; i < n->u.seq.len; i++)
      if (quoted_spans(pl, n->u.seq.items[i], l, seen))
        return MLG_ENOMEM;
    return 0;
  case MLG_MAP:
    for (i = 0; i < n->u.map.len; i++)
      if (quoted_spans(pl, n->u.map.pairs[i].key, l, seen) ||
          quoted_spans(pl, n->u.map.pairs[i].val, l, seen))
        return MLG_ENOMEM;
    return 0;
  default:
    break;
  }
  if (n->style == MLG_STYLE_SINGLE || n->style == MLG_STYLE_DOUBLE)
    return span_add(l, n->span.offset, n->span.end_offset);
  if (n->style == MLG_STYLE_LITERAL || n->style == MLG_STYLE_FOLDED) {
    size_t e = line_end(pl, n->span.offset, pl->len);
    return span_add(l, e + brk_at(pl->text, pl->len, e), n->span.end_offset);
  }
  return 0;
}

static int span_cmp(const void *a, const void *b)
{
  const size_t *x = a, *y = b;
  return x[0] < y[0] ? -1 : x[0] > y[0];
}

static int comment_add(mlg_pl *pl, size_t *cap, uint32_t line, uint32_t col, size_t a,
                       size_t b)
{
  mlg_node *o;
  while (a < b && (pl->text[a] == ' ' || pl->text[a] == '\t'))
    a++;
  while (b > a && (pl->text[b - 1] == ' ' || pl->text[b - 1] == '\t'))
    b--;
  if (pl->ncomments == *cap) {
    size_t ncap = *cap ? *cap * 2 : 32;
    mlg_pl_comment *c = realloc(pl->comments, ncap * sizeof *c);
    if (!c)
      return mlg_pl_oom(pl);
    pl->comments = c;
    *cap = ncap;
  }
  pl->comments[pl->ncomments].line = line;
  pl->comments[pl->ncomments].col = col;
  pl->comments[pl->ncomments].text = mlg_pl_str(pl, pl->text + a, b - a);
  pl->ncomments++;
  if ((o = mlg_pl_map(pl, 3))) {
    mlg_pl_set_int(pl, o, MLG_A_LINE, line);
    mlg_pl_set_int(pl, o, MLG_A_COL, col);
    mlg_pl_set(pl, o, MLG_A_TEXT, pl->comments[pl->ncomments - 1].text);
    mlg_pl_push(pl, pl->comments_seq, o);
  }
  return pl->rc;
}

int mlg_pl_scan_comments(mlg_pl *pl, const mlg_node *root)
{
  const char *s = pl->text;
  span_list l = {NULL, 0, 0};
  mlg_pl_memo seen = {NULL, NULL, 0, 0};
  size_t i = 0, ri = 0, cap = 0, k;
  uint32_t line = 1, col = 1;
  int ws = 1, sorted = 1;

  if (pl->rc)
    return pl->rc;
  if (!(pl->comments_seq = mlg_pl_seq(pl, 0)))
    return pl->rc;
  if (quoted_spans(pl, root, &l, &seen)) {
    mlg_pl_oom(pl);
    goto done;
  }
  for (k = 1; k < l.n && sorted; k++)
    sorted = l.r[k - 1][0] <= l.r[k][0];
  if (!sorted)
    qsort(l.r, l.n, sizeof *l.r, span_cmp);
  if (pl->len >= 3 && memcmp(s, "\xEF\xBB\xBF", 3) == 0)
    i = 3;
  if (pl->lf_only) {
    /* The common case: jump from '#' to '#', counting LFs on the way. */
    size_t ls = i, pos = i;
    const char *h, *nl;
    while (!pl->rc && pos < pl->len && (h = memchr(s + pos, '#', pl->len - pos)) != NULL) {
      size_t hk = (size_t)(h - s), e;
      while ((nl = memchr(s + pos, '\n', hk - pos)) != NULL) {
        line++;
        pos = ls = (size_t)(nl - s) + 1;
      }
      pos = hk + 1;
      if (hk > ls && s[hk - 1] != ' ' && s[hk - 1] != '\t')
        continue;
      while (ri < l.n && l.r[ri][1] <= hk)
        ri++;
      if (ri < l.n && l.r[ri][0] <= hk)
        continue;
      for (col = 1, k = ls; k < hk; k++)
        col += ((unsigned char)s[k] & 0xC0) != 0x80;
      e = line_end(pl, hk, pl->len);
      comment_add(pl, &cap, line, col, hk + 1, e);
      pos = e;
    }
    goto done;
  }
  while (i < pl->len && !pl->rc) {
    size_t b = brk_at(s, pl->len, i);
    if (b) {
      i += b;
      line++;
      col = 1;
      ws = 1;
      continue;
    }
    if (s[i] == '#' && ws) {
      while (ri < l.n && l.r[ri][1] <= i)
        ri++;
      if (ri >= l.n || l.r[ri][0] > i) {
        size_t e = line_end(pl, i, pl->len);
        comment_add(pl, &cap, line, col, i + 1, e);
        i = e;
        continue;
      }
    }
    ws = s[i] == ' ' || s[i] == '\t';
    i++;
    while (i < pl->len && ((unsigned char)s[i] & 0xC0) == 0x80)
      i++;
    col++;
  }
done:
  free(l.r);
  mlg_pl_memo_free(&seen);
  return pl->rc;
}

mlg_node *mlg_pl_comment_on(mlg_pl *pl, uint32_t line)
{
  size_t lo = 0, hi = pl->ncomments;
  while (lo < hi) {
    size_t mid = lo + (hi - lo) / 2;
    if (pl->comments[mid].line < line)
      lo = mid + 1;
    else
      hi = mid;
  }
  return lo < pl->ncomments && pl->comments[lo].line == line ? pl->comments[lo].text : NULL;
}
