/*
 * YAML to mlg_doc trees through libyaml's event API (the only file that
 * includes yaml.h).
 *
 * libyaml has no limits of its own, so everything an attacker could grow
 * is capped here, between events: nesting (libyaml's scanner is quadratic
 * in flow nesting, so an event-level cap also bounds its work: it never
 * looks more than 1024 characters ahead), node count, arena bytes, and the
 * work done by merge keys. Aliases are the anchored node itself, so alias
 * bombs cost nothing; anchors are registered when their node is complete,
 * so an alias cannot point at an enclosing node and trees have no cycles.
 *
 * Positions: line and column are libyaml's marks plus one. libyaml counts
 * columns in characters (code points) and treats CR, LF, CRLF, NEL, LS and
 * PS as line breaks; offsets are converted from its character index to
 * byte offsets into the caller's text.
 */
#include "parse.h"

#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <yaml.h>

#include "strtab.h"
#include "utf8.h"


#define CORE_TAG "tag:yaml.org,2002:"
#define CORE_TAG_LEN 18

typedef struct pos {
  uint32_t line, col;
  size_t off;
} pos;

typedef struct merge {
  size_t at;     /* explicit pairs before the "<<" key */
  size_t count;  /* pairs it contributed */
  mlg_node *src; /* a mapping, or a sequence of mappings */
} merge;

typedef struct frame {
  mlg_node *node;       /* MLG_SEQ or MLG_MAP */
  mlg_node *key;        /* MAP: key waiting for its value */
  size_t replace;       /* MAP: pair the pending key replaces, or NONE */
  int merge_pending;    /* MAP: the pending key is "<<" */
  uint32_t merge_line;  /* MAP: line of the first "<<"; 0 = none */
  merge *merges;
  size_t nmerges, capmerges;
  mlg_mapkeys keys;
  pos last;             /* end of the last child */
  int has_last;
} frame;

typedef struct yp {
  mlg_doc *doc;
  const char *name;
  const unsigned char *text; /* what libyaml reads: the input minus a BOM */
  size_t len;
  size_t base;               /* bytes of BOM skipped */
  int ascii;                 /* character index == byte offset */
  size_t cur_idx, cur_off;   /* cursor of the index -> offset conversion */
  size_t max_depth, max_nodes, nodes;
  int all_documents, merge_keys, allow_dup;
  frame *stack;
  size_t depth, cap;
  mlg_node *root;
  mlg_node **anchors;        /* per document; values of anchor_tab */
  size_t nanchors, capanchors;
  mlg_strtab anchor_tab;
  mlg_err *err;
} yp;

static int fail(yp *p, int code, pos at, const char *fmt, ...)
    __attribute__((format(printf, 4, 5)));

static int fail(yp *p, int code, pos at, const char *fmt, ...)
{
  char msg[768];
  va_list ap;
  va_start(ap, fmt);
  vsnprintf(msg, sizeof msg, fmt, ap);
  va_end(ap);
  return mlg_err_set(p->err, code, "%s:%u:%u: %s", p->name, at.line, at.col, msg);
}

static uint32_t clamp32(size_t v)
{
  return v >= UINT32_MAX ? UINT32_MAX : (uint32_t)v;
}

/* libyaml's mark.index counts characters; walk the cursor to the byte.
 * Events arrive in document order, so the walk is short. */
static size_t byte_off(yp *p, size_t idx)
{
  const unsigned char *s = p->text;
  size_t ci = p->cur_idx, bo = p->cur_off;

  if (p->ascii)
    return p->base + (idx < p->len ? idx : p->len);
  while (ci < idx && bo < p->len) {
    bo++;
    while (bo < p->len && (s[bo] & 0xC0) == 0x80)
      bo++;
    ci++;
  }
  while (ci > idx && bo > 0) {
    bo--;
    while (bo > 0 && (s[bo] & 0xC0) == 0x80)
      bo--;
    ci--;
  }
  p->cur_idx = ci;
  p->cur_off = bo;
  return p->base + bo;
}

static pos mark(yp *p, yaml_mark_t m)
{
  pos r;
  r.line = clamp32(m.line + 1);
  r.col = clamp32(m.column + 1);
  r.off = byte_off(p, m.index);
  return r;
}

/* Position of byte off of the libyaml input, counted the way libyaml
 * counts (characters; CR, LF, CRLF, NEL, LS, PS break lines). Only used
 * for errors found before or outside libyaml. */
static pos pos_at(const yp *p, size_t off)
{
  const unsigned char *s = p->text;
  size_t i = 0, line = 1, col = 1;
  pos r;

  while (i < off && i < p->len) {
    uint32_t cp = s[i];
    size_t n = 1;
    if (cp >= 0x80) {
      n = mlg_utf8_decode(s + i, p->len - i, &cp);
      if (n == 0)
        n = 1;
    }
    if (cp == '\r' && i + 1 < p->len && s[i + 1] == '\n')
      n = 2;
    if (cp == '\r' || cp == '\n' || cp == 0x85 || cp == 0x2028 || cp == 0x2029) {
      line++;
      col = 1;
    } else {
      col++;
    }
    i += n;
  }
  r.line = clamp32(line);
  r.col = clamp32(col);
  r.off = p->base + off;
  return r;
}

/* libyaml's reader rejects what YAML calls non-printable; checking first
 * gives a line and column (its reader only knows a byte offset) and makes
 * invalid UTF-8 and NUL bytes errors before libyaml sees them. */
static int prescan(yp *p)
{
  const unsigned char *s = p->text;
  size_t i = 0, n = p->len;

  p->ascii = 1;
  while (i < n) {
    unsigned char c = s[i];
    uint32_t cp;
    size_t k;

    if (c >= 0x20 && c < 0x7F) {
      i++;
      continue;
    }
    if (c == '\n' || c == '\r' || c == '\t') {
      i++;
      continue;
    }
    if (c == 0)
      return fail(p, MLG_EPARSE, pos_at(p, i), "NUL byte is not allowed in YAML");
    if (c < 0x80)
      return fail(p, MLG_EPARSE, pos_at(p, i),
                  "control character U+%04X is not allowed in YAML", c);
    k = mlg_utf8_decode(s + i, n - i, &cp);
    if (k == 0)
      return fail(p, MLG_EPARSE, pos_at(p, i), "invalid UTF-8 byte 0x%02X", c);
    if ((cp >= 0x80 && cp < 0xA0 && cp != 0x85) || cp == 0xFFFE || cp == 0xFFFF)
      return fail(p, MLG_EPARSE, pos_at(p, i),
                  "control character U+%04X is not allowed in YAML", (unsigned)cp);
    p->ascii = 0;
    i += k;
  }
  return 0;
}

static int arena_fail(yp *p, pos at)
{
  if (p->doc->limit_bytes)
    return fail(p, MLG_ELIMIT, at, "document needs more than %zu bytes of memory",
                p->doc->limit_bytes);
  return fail(p, MLG_ENOMEM, at, "out of memory");
}

static int count_node(yp *p, pos at)
{
  if (++p->nodes > p->max_nodes)
    return fail(p, MLG_ELIMIT, at, "document has more than %zu nodes", p->max_nodes);
  return 0;
}

/* "tag:yaml.org,2002:int" is shown as the "!!int" the author wrote. */
static const char *tag_show(char *buf, size_t size, const char *tag)
{
  if (strncmp(tag, CORE_TAG, CORE_TAG_LEN) == 0) {
    buf[0] = buf[1] = '!';
    mlg_utf8_quote(buf + 2, size - 2, tag + CORE_TAG_LEN, strlen(tag + CORE_TAG_LEN));
  } else {
    mlg_utf8_quote(buf, size, tag, strlen(tag));
  }
  return buf;
}

/* "a mapping", "an integer": for messages. */
static const char *a_type(const mlg_node *n)
{
  const char *t = mlg_node_typename(n);
  return t[0] == 'i' ? "an" : "a";
}

/* --- scalar resolution (YAML 1.2 core schema) ------------------------ */

typedef struct scalar {
  mlg_ntype type;
  int boolean;
  int64_t integer;
  double number;
  int int_syntax; /* written as an integer (even if it overflowed) */
} scalar;

static int is_word(const char *s, size_t n, const char *a, const char *b, const char *c)
{
  size_t k = strlen(a);
  return n == k && (memcmp(s, a, k) == 0 || memcmp(s, b, k) == 0 || memcmp(s, c, k) == 0);
}

static int is_digit(char c)
{
  return c >= '0' && c <= '9';
}

static int hex_val(char c)
{
  if (c >= '0' && c <= '9')
    return c - '0';
  if (c >= 'a' && c <= 'f')
    return c - 'a' + 10;
  if (c >= 'A' && c <= 'F')
    return c - 'A' + 10;
  return -1;
}

/* 0o / 0x forms; values past int64 become floats like decimals do. */
static int radix_int(const char *s, size_t n, int radix, scalar *r)
{
  uint64_t u = 0;
  double d = 0;
  int over = 0;
  size_t i;

  if (n == 0)
    return 0;
  for (i = 0; i < n; i++) {
    int v = radix == 8 ? (s[i] >= '0' && s[i] <= '7' ? s[i] - '0' : -1) : hex_val(s[i]);
    if (v < 0)
      return 0;
    if (u > (UINT64_MAX - (uint64_t)v) / (uint64_t)radix)
      over = 1;
    else
      u = u * (uint64_t)radix + (uint64_t)v;
    d = d * radix + v;
  }
  r->int_syntax = 1;
  if (over || u > (uint64_t)INT64_MAX) {
    r->type = MLG_FLOAT;
    r->number = d;
  } else {
    r->type = MLG_INT;
    r->integer = (int64_t)u;
  }
  return 1;
}

/* [-+]?[0-9]+ */
static int dec_int(const char *s, size_t n, scalar *r)
{
  size_t i = 0;
  int neg = 0;
  uint64_t u = 0, lim;

  if (n && (s[0] == '-' || s[0] == '+')) {
    neg = s[0] == '-';
    i = 1;
  }
  if (i == n)
    return 0;
  for (size_t j = i; j < n; j++) {
    if (!is_digit(s[j]))
      return 0;
  }
  r->int_syntax = 1;
  lim = neg ? (uint64_t)INT64_MAX + 1 : (uint64_t)INT64_MAX;
  for (; i < n; i++) {
    uint64_t v = (uint64_t)(s[i] - '0');
    if (u > (lim - v) / 10) {
      /* The text is a valid float too; s is NUL-terminated by libyaml. */
      r->type = MLG_FLOAT;
      r->number = strtod(s, NULL);
      return 1;
    }
    u = u * 10 + v;
  }
  r->type = MLG_INT;
  r->integer = neg ? (int64_t)(0 - u) : (int64_t)u;
  return 1;
}

/* [-+]? ( \.[0-9]+ | [0-9]+ ( \.[0-9]* )? ) ( [eE] [-+]? [0-9]+ )? */
static int is_float_syntax(const char *s, size_t n)
{
  size_t i = 0, d1 = 0, d2 = 0;
  if (i < n && (s[i] == '-' || s[i] == '+'))
    i++;
  while (i < n && is_digit(s[i]))
    i++, d1++;
  if (i < n && s[i] == '.') {
    i++;
    while (i < n && is_digit(s[i]))
      i++, d2++;
  }
  if (d1 == 0 && d2 == 0)
    return 0;
  if (i < n && (s[i] == 'e' || s[i] == 'E')) {
    size_t de = 0;
    i++;
    if (i < n && (s[i] == '-' || s[i] == '+'))
      i++;
    while (i < n && is_digit(s[i]))
      i++, de++;
    if (de == 0)
      return 0;
  }
  return i == n;
}

static void resolve(const char *s, size_t n, scalar *r)
{
  memset(r, 0, sizeof *r);
  r->type = MLG_STR;
  if (n == 0 || (n == 1 && s[0] == '~') || is_word(s, n, "null", "Null", "NULL")) {
    r->type = MLG_NULL;
    return;
  }
  if (is_word(s, n, "true", "True", "TRUE")) {
    r->type = MLG_BOOL;
    r->boolean = 1;
    return;
  }
  if (is_word(s, n, "false", "False", "FALSE")) {
    r->type = MLG_BOOL;
    return;
  }
  if (n > 2 && s[0] == '0' && s[1] == 'o') {
    radix_int(s + 2, n - 2, 8, r);
    return;
  }
  if (n > 2 && s[0] == '0' && s[1] == 'x') {
    radix_int(s + 2, n - 2, 16, r);
    return;
  }
  if (dec_int(s, n, r))
    return;
  if (is_float_syntax(s, n)) {
    r->type = MLG_FLOAT;
    r->number = strtod(s, NULL);
    return;
  }
  {
    const char *t = s;
    size_t m = n;
    int neg = 0;
    if (m && (t[0] == '-' || t[0] == '+')) {
      neg = t[0] == '-';
      t++, m--;
    }
    if (is_word(t, m, ".inf", ".Inf", ".INF")) {
      r->type = MLG_FLOAT;
      r->number = neg ? -HUGE_VAL : HUGE_VAL;
      return;
    }
  }
  if (is_word(s, n, ".nan", ".NaN", ".NAN")) {
    r->type = MLG_FLOAT;
    r->number = NAN;
  }
}

static mlg_node *scalar_node(mlg_doc *doc, const scalar *r, const char *s, size_t n)
{
  switch (r->type) {
  case MLG_NULL: return mlg_node_null(doc);
  case MLG_BOOL: return mlg_node_bool(doc, r->boolean);
  case MLG_INT: return mlg_node_int(doc, r->integer);
  case MLG_FLOAT: return mlg_node_float(doc, r->number);
  default: return mlg_node_strn(doc, s, n);
  }
}

/* Builds a value scalar: untagged plain scalars are resolved, an explicit
 * core tag forces (and checks) the type, anything else is a string. */
static int make_scalar(yp *p, mlg_node **out, const char *s, size_t n, const char *tag,
                       int plain, pos at)
{
  scalar r;
  char tb[160], q[160];

  *out = NULL;
  if (tag && strncmp(tag, CORE_TAG, CORE_TAG_LEN) == 0) {
    const char *t = tag + CORE_TAG_LEN;
    mlg_ntype want;
    if (strcmp(t, "null") == 0)
      want = MLG_NULL;
    else if (strcmp(t, "bool") == 0)
      want = MLG_BOOL;
    else if (strcmp(t, "int") == 0)
      want = MLG_INT;
    else if (strcmp(t, "float") == 0)
      want = MLG_FLOAT;
    else if (strcmp(t, "seq") == 0 || strcmp(t, "map") == 0)
      return fail(p, MLG_EPARSE, at, "tag %s cannot be used on a scalar",
                  tag_show(tb, sizeof tb, tag));
    else
      want = MLG_STR;
    if (want != MLG_STR) {
      resolve(s, n, &r);
      if (want == MLG_FLOAT && r.type == MLG_INT) {
        r.type = MLG_FLOAT;
        r.number = (double)r.integer;
      }
      if (r.type != want) {
        mlg_utf8_quote(q, sizeof q, s, n);
        if (want == MLG_INT && r.int_syntax)
          return fail(p, MLG_EPARSE, at, "integer '%s' does not fit in 64 bits", q);
        return fail(p, MLG_EPARSE, at, "'%s' is not a valid %s value", q,
                    tag_show(tb, sizeof tb, tag));
      }
      *out = scalar_node(p->doc, &r, s, n);
      return *out ? 0 : arena_fail(p, at);
    }
  } else if (!tag && plain) {
    resolve(s, n, &r);
    *out = scalar_node(p->doc, &r, s, n);
    return *out ? 0 : arena_fail(p, at);
  }
  *out = mlg_node_strn(p->doc, s, n);
  return *out ? 0 : arena_fail(p, at);
}

static int check_coll_tag(yp *p, const char *tag, int is_map, pos at)
{
  static const char *const scalars[] = {"str", "int", "float", "bool", "null", "binary",
                                        "timestamp"};
  const char *t;
  char tb[160];
  size_t i;

  if (!tag || strncmp(tag, CORE_TAG, CORE_TAG_LEN) != 0)
    return 0;
  t = tag + CORE_TAG_LEN;
  for (i = 0; i < sizeof scalars / sizeof scalars[0]; i++) {
    if (strcmp(t, scalars[i]) == 0)
      return fail(p, MLG_EPARSE, at, "tag %s cannot be used on a %s",
                  tag_show(tb, sizeof tb, tag), is_map ? "mapping" : "sequence");
  }
  if ((is_map && strcmp(t, "seq") == 0) || (!is_map && strcmp(t, "map") == 0))
    return fail(p, MLG_EPARSE, at, "tag %s cannot be used on a %s",
                tag_show(tb, sizeof tb, tag), is_map ? "mapping" : "sequence");
  return 0;
}

/* --- anchors ------------------------------------------------------------ */

static int anchor_eq(const void *ctx, size_t val, const char *s, size_t len)
{
  const yp *p = ctx;
  const char *a = p->anchors[val]->anchor;
  return strlen(a) == len && memcmp(a, s, len) == 0;
}

static mlg_node *anchor_get(yp *p, const char *name)
{
  size_t len = strlen(name);
  size_t i = mlg_strtab_find(&p->anchor_tab, mlg_strtab_hash(name, len), name, len,
                             anchor_eq, p);
  return i == MLG_STRTAB_NONE ? NULL : p->anchors[i];
}

/* A redefined anchor names the newest node from there on. */
static int anchor_put(yp *p, mlg_node *n, pos at)
{
  size_t len = strlen(n->anchor);
  uint64_t h = mlg_strtab_hash(n->anchor, len);
  size_t i = mlg_strtab_find(&p->anchor_tab, h, n->anchor, len, anchor_eq, p);

  if (i != MLG_STRTAB_NONE) {
    p->anchors[i] = n;
    return 0;
  }
  if (p->nanchors == p->capanchors) {
    size_t ncap = p->capanchors ? p->capanchors * 2 : 16;
    mlg_node **a = realloc(p->anchors, ncap * sizeof *a);
    if (!a)
      return fail(p, MLG_ENOMEM, at, "out of memory");
    p->anchors = a;
    p->capanchors = ncap;
  }
  p->anchors[p->nanchors] = n;
  if (mlg_strtab_add(&p->anchor_tab, h, p->nanchors))
    return fail(p, MLG_ENOMEM, at, "out of memory");
  p->nanchors++;
  return 0;
}

static void anchors_reset(yp *p)
{
  mlg_strtab_free(&p->anchor_tab);
  p->nanchors = 0;
}

/* --- tree building ------------------------------------------------------ */

static frame *top(yp *p)
{
  return p->depth ? &p->stack[p->depth - 1] : NULL;
}

static void frame_free(frame *f)
{
  free(f->merges);
  mlg_mapkeys_free(&f->keys);
}

static int check_merge_src(yp *p, const mlg_node *n, pos at)
{
  size_t i;
  if (n->type == MLG_MAP)
    return 0;
  if (n->type == MLG_SEQ) {
    for (i = 0; i < n->u.seq.len; i++) {
      const mlg_node *it = n->u.seq.items[i];
      if (it->type != MLG_MAP) {
        pos ip = at;
        if (it->span.line) {
          ip.line = it->span.line;
          ip.col = it->span.col;
        }
        return fail(p, MLG_EPARSE, ip,
                    "merge key '<<' needs mappings, found %s %s in its sequence",
                    a_type(it), mlg_node_typename(it));
      }
    }
    return 0;
  }
  return fail(p, MLG_EPARSE, at,
              "merge key '<<' needs a mapping or a sequence of mappings, not %s %s",
              a_type(n), mlg_node_typename(n));
}

static int add_key(yp *p, frame *f, mlg_node *n, pos at, int is_merge)
{
  size_t i;
  char q[160];

  if (n->type != MLG_STR) {
    if (n->type == MLG_SEQ || n->type == MLG_MAP)
      return fail(p, MLG_EPARSE, at, "complex mapping keys are not supported");
    return fail(p, MLG_EPARSE, at,
                "an alias used as a mapping key must name a string, not %s %s",
                a_type(n), mlg_node_typename(n));
  }
  if (is_merge) {
    if (f->merge_line && !p->allow_dup)
      return fail(p, MLG_EPARSE, at, "duplicate key '<<' (first at line %u)", f->merge_line);
    if (!f->merge_line)
      f->merge_line = at.line;
    f->key = n;
    f->merge_pending = 1;
    return 0;
  }
  i = mlg_mapkeys_find(&f->keys, f->node, n->u.str.ptr, n->u.str.len);
  if (i != MLG_STRTAB_NONE && !p->allow_dup) {
    mlg_utf8_quote(q, sizeof q, n->u.str.ptr, n->u.str.len);
    return fail(p, MLG_EPARSE, at, "duplicate key '%s' (first at line %u)", q,
                f->node->u.map.pairs[i].key->span.line);
  }
  f->replace = i;
  f->key = n;
  return 0;
}

static int add_value(yp *p, frame *f, mlg_node *n, pos at)
{
  if (f->merge_pending) {
    int rc = check_merge_src(p, n, at);
    if (rc)
      return rc;
    if (f->nmerges == f->capmerges) {
      size_t ncap = f->capmerges ? f->capmerges * 2 : 2;
      merge *m = realloc(f->merges, ncap * sizeof *m);
      if (!m)
        return fail(p, MLG_ENOMEM, at, "out of memory");
      f->merges = m;
      f->capmerges = ncap;
    }
    f->merges[f->nmerges].at = f->node->u.map.len;
    f->merges[f->nmerges].count = 0;
    f->merges[f->nmerges].src = n;
    f->nmerges++;
    f->merge_pending = 0;
  } else if (f->replace != MLG_STRTAB_NONE) {
    f->node->u.map.pairs[f->replace].val = n;
  } else {
    if (mlg_map_put(p->doc, f->node, f->key, n))
      return arena_fail(p, at);
    if (mlg_mapkeys_sync(&f->keys, f->node))
      return fail(p, MLG_ENOMEM, at, "out of memory");
  }
  f->key = NULL;
  f->replace = MLG_STRTAB_NONE;
  return 0;
}

/* Adds a finished node to the collection being built (or makes it the
 * document root). s is where the node's event starts, e where it ends. */
static int attach(yp *p, mlg_node *n, pos s, pos e, int is_merge)
{
  frame *f = top(p);

  if (!f) {
    p->root = n;
    return 0;
  }
  f->last = e;
  f->has_last = 1;
  if (f->node->type == MLG_SEQ)
    return mlg_seq_push(p->doc, f->node, n) ? arena_fail(p, s) : 0;
  if (!f->key)
    return add_key(p, f, n, s, is_merge);
  return add_value(p, f, n, s);
}

/* Merge keys (https://yaml.org/type/merge.html): pairs of the referenced
 * mappings whose keys the mapping does not have, explicit keys winning
 * wherever they are and earlier sources over later ones. The merged pairs
 * (shared nodes, original positions) take the place of the "<<" key. */
static int apply_merges(yp *p, frame *f, pos at)
{
  mlg_node *map = f->node;
  size_t nexp = map->u.map.len, mi, i, j, o, from;
  mlg_pair *tmp;

  for (mi = 0; mi < f->nmerges; mi++) {
    merge *m = &f->merges[mi];
    size_t nsrc = m->src->type == MLG_MAP ? 1 : m->src->u.seq.len;
    for (i = 0; i < nsrc; i++) {
      const mlg_node *src = m->src->type == MLG_MAP ? m->src : m->src->u.seq.items[i];
      for (j = 0; j < src->u.map.len; j++) {
        const mlg_pair *pr = &src->u.map.pairs[j];
        /* Each examined pair counts as a node: merges of big mappings
         * into many mappings must stay bounded like everything else. */
        if (++p->nodes > p->max_nodes)
          return fail(p, MLG_ELIMIT, at, "merge keys expand to more than %zu nodes",
                      p->max_nodes);
        if (mlg_mapkeys_find(&f->keys, map, pr->key->u.str.ptr, pr->key->u.str.len) !=
            MLG_STRTAB_NONE)
          continue;
        if (mlg_map_put(p->doc, map, pr->key, pr->val))
          return arena_fail(p, at);
        if (mlg_mapkeys_sync(&f->keys, map))
          return fail(p, MLG_ENOMEM, at, "out of memory");
        m->count++;
      }
    }
  }
  if (map->u.map.len == nexp)
    return 0;
  tmp = malloc(map->u.map.len * sizeof *tmp);
  if (!tmp)
    return fail(p, MLG_ENOMEM, at, "out of memory");
  o = 0;
  from = nexp;
  mi = 0;
  for (i = 0; i <= nexp; i++) {
    for (; mi < f->nmerges && f->merges[mi].at == i; mi++) {
      memcpy(tmp + o, map->u.map.pairs + from, f->merges[mi].count * sizeof *tmp);
      o += f->merges[mi].count;
      from += f->merges[mi].count;
    }
    if (i < nexp)
      tmp[o++] = map->u.map.pairs[i];
  }
  memcpy(map->u.map.pairs, tmp, o * sizeof *tmp);
  free(tmp);
  return 0;
}

static int on_scalar(yp *p, const yaml_event_t *ev)
{
  const char *v = (const char *)ev->data.scalar.value;
  size_t n = ev->data.scalar.length;
  const char *tag = (const char *)ev->data.scalar.tag;
  const char *anchor = (const char *)ev->data.scalar.anchor;
  int plain = ev->data.scalar.style == YAML_PLAIN_SCALAR_STYLE;
  pos s = mark(p, ev->start_mark), e = mark(p, ev->end_mark);
  frame *f = top(p);
  int as_key = f && f->node->type == MLG_MAP && !f->key;
  int is_merge = 0;
  mlg_node *node;
  int rc;

  if ((rc = count_node(p, s)) != 0)
    return rc;
  if (as_key) {
    node = mlg_node_strn(p->doc, v, n);
    if (!node)
      return arena_fail(p, s);
    is_merge = p->merge_keys && plain && n == 2 && memcmp(v, "<<", 2) == 0 &&
               (!tag || strcmp(tag, CORE_TAG "merge") == 0);
  } else if ((rc = make_scalar(p, &node, v, n, tag, plain, s)) != 0) {
    return rc;
  }
  switch (ev->data.scalar.style) {
  case YAML_SINGLE_QUOTED_SCALAR_STYLE: node->style = MLG_STYLE_SINGLE; break;
  case YAML_DOUBLE_QUOTED_SCALAR_STYLE: node->style = MLG_STYLE_DOUBLE; break;
  case YAML_LITERAL_SCALAR_STYLE: node->style = MLG_STYLE_LITERAL; break;
  case YAML_FOLDED_SCALAR_STYLE: node->style = MLG_STYLE_FOLDED; break;
  default: node->style = MLG_STYLE_PLAIN; break;
  }
  node->span.line = s.line;
  node->span.col = s.col;
  node->span.offset = s.off;
  node->span.end_line = e.line;
  node->span.end_col = e.col;
  node->span.end_offset = e.off;
  if (tag && !(node->tag = mlg_doc_strdup(p->doc, tag)))
    return arena_fail(p, s);
  if (anchor) {
    if (!(node->anchor = mlg_doc_strdup(p->doc, anchor)))
      return arena_fail(p, s);
    if ((rc = anchor_put(p, node, s)) != 0)
      return rc;
  }
  return attach(p, node, s, e, is_merge);
}

static int on_alias(yp *p, const yaml_event_t *ev)
{
  const char *name = (const char *)ev->data.alias.anchor;
  pos s = mark(p, ev->start_mark), e = mark(p, ev->end_mark);
  mlg_node *n = anchor_get(p, name);
  char q[160];
  size_t i;

  if (!n) {
    mlg_utf8_quote(q, sizeof q, name, strlen(name));
    for (i = 0; i < p->depth; i++) {
      const char *a = p->stack[i].node->anchor;
      if (a && strcmp(a, name) == 0)
        return fail(p, MLG_EPARSE, s,
                    "alias '*%s' refers to a node that contains it "
                    "(recursive aliases are not supported)", q);
    }
    return fail(p, MLG_EPARSE, s, "undefined alias '*%s'", q);
  }
  return attach(p, n, s, e, 0);
}

static int on_start(yp *p, const yaml_event_t *ev, int is_map)
{
  pos s = mark(p, ev->start_mark);
  frame *f = top(p);
  const char *tag, *anchor;
  mlg_node *n;
  int rc, flow;

  if (f && f->node->type == MLG_MAP && !f->key)
    return fail(p, MLG_EPARSE, s, "complex mapping keys are not supported");
  if (p->depth >= p->max_depth)
    return fail(p, MLG_ELIMIT, s, "nesting deeper than %zu levels", p->max_depth);
  if ((rc = count_node(p, s)) != 0)
    return rc;
  if (is_map) {
    tag = (const char *)ev->data.mapping_start.tag;
    anchor = (const char *)ev->data.mapping_start.anchor;
    flow = ev->data.mapping_start.style == YAML_FLOW_MAPPING_STYLE;
  } else {
    tag = (const char *)ev->data.sequence_start.tag;
    anchor = (const char *)ev->data.sequence_start.anchor;
    flow = ev->data.sequence_start.style == YAML_FLOW_SEQUENCE_STYLE;
  }
  if ((rc = check_coll_tag(p, tag, is_map, s)) != 0)
    return rc;
  n = is_map ? mlg_node_map(p->doc) : mlg_node_seq(p->doc);
  if (!n)
    return arena_fail(p, s);
  n->style = flow ? MLG_STYLE_FLOW : MLG_STYLE_BLOCK;
  n->span.line = s.line;
  n->span.col = s.col;
  n->span.offset = s.off;
  if (tag && !(n->tag = mlg_doc_strdup(p->doc, tag)))
    return arena_fail(p, s);
  /* Registered when complete, so nothing inside can alias it. */
  if (anchor && !(n->anchor = mlg_doc_strdup(p->doc, anchor)))
    return arena_fail(p, s);
  if (p->depth == p->cap) {
    size_t ncap = p->cap ? p->cap * 2 : 16;
    frame *st = realloc(p->stack, ncap * sizeof *st);
    if (!st)
      return fail(p, MLG_ENOMEM, s, "out of memory");
    p->stack = st;
    p->cap = ncap;
  }
  f = &p->stack[p->depth++];
  memset(f, 0, sizeof *f);
  f->node = n;
  f->replace = MLG_STRTAB_NONE;
  mlg_mapkeys_init(&f->keys);
  return 0;
}

static int on_end(yp *p, const yaml_event_t *ev)
{
  frame *f = top(p);
  mlg_node *n;
  pos s, e;
  int rc = 0;

  if (!f)
    return fail(p, MLG_EPARSE, mark(p, ev->start_mark), "unbalanced collection end");
  n = f->node;
  s.line = n->span.line;
  s.col = n->span.col;
  s.off = n->span.offset;
  /* A block collection's end event sits at the next token, possibly lines
   * later; its last child is where it really ends. */
  e = (n->style == MLG_STYLE_FLOW || !f->has_last) ? mark(p, ev->end_mark) : f->last;
  n->span.end_line = e.line;
  n->span.end_col = e.col;
  n->span.end_offset = e.off;
  if (n->type == MLG_MAP && f->nmerges)
    rc = apply_merges(p, f, s);
  frame_free(f);
  p->depth--;
  if (rc)
    return rc;
  if (n->anchor && (rc = anchor_put(p, n, s)) != 0)
    return rc;
  return attach(p, n, s, e, 0);
}

static int on_event(yp *p, const yaml_event_t *ev, int *stop)
{
  int rc;
  switch (ev->type) {
  case YAML_STREAM_END_EVENT:
    *stop = 1;
    return 0;
  case YAML_DOCUMENT_START_EVENT:
    anchors_reset(p);
    p->root = NULL;
    return 0;
  case YAML_DOCUMENT_END_EVENT:
    if (!p->root && !(p->root = mlg_node_null(p->doc)))
      return arena_fail(p, mark(p, ev->start_mark));
    if ((rc = mlg_doc_add_root(p->doc, p->root)) != 0)
      return fail(p, rc, mark(p, ev->start_mark), "out of memory");
    p->root = NULL;
    if (!p->all_documents)
      *stop = 1;
    return 0;
  case YAML_ALIAS_EVENT:
    return on_alias(p, ev);
  case YAML_SCALAR_EVENT:
    return on_scalar(p, ev);
  case YAML_SEQUENCE_START_EVENT:
    return on_start(p, ev, 0);
  case YAML_MAPPING_START_EVENT:
    return on_start(p, ev, 1);
  case YAML_SEQUENCE_END_EVENT:
  case YAML_MAPPING_END_EVENT:
    return on_end(p, ev);
  default:
    return 0;
  }
}

static int libyaml_fail(yp *p, const yaml_parser_t *ps)
{
  pos at;
  const char *problem = ps->problem ? ps->problem : "invalid YAML";

  switch (ps->error) {
  case YAML_MEMORY_ERROR:
    return mlg_err_set(p->err, MLG_ENOMEM, "%s: out of memory while parsing YAML", p->name);
  case YAML_READER_ERROR:
    at = pos_at(p, ps->problem_offset);
    return fail(p, MLG_EPARSE, at, "%s", problem);
  default:
    at.line = clamp32(ps->problem_mark.line + 1);
    at.col = clamp32(ps->problem_mark.column + 1);
    at.off = 0;
    if (ps->context)
      return fail(p, MLG_EPARSE, at, "%s (%s at line %zu, column %zu)", problem, ps->context,
                  ps->context_mark.line + 1, ps->context_mark.column + 1);
    return fail(p, MLG_EPARSE, at, "%s", problem);
  }
}

int mlg_yaml_parse(mlg_doc **out, const char *text, size_t len, const char *name,
                   const mlg_parse_opts *opts, mlg_err *err)
{
  yp p;
  yaml_parser_t ps;
  yaml_event_t ev;
  int rc = 0, stop = 0, ps_ready = 0;
  size_t max_bytes, max_doc;
  mlg_parse_opts lim;
  pos first = {1, 1, 0};

  if (!out)
    return mlg_err_set(err, MLG_EINVAL, "mlg_yaml_parse: no output");
  *out = NULL;
  if (!text && len)
    return mlg_err_set(err, MLG_EINVAL, "mlg_yaml_parse: no input");
  memset(&p, 0, sizeof p);
  p.name = name ? name : "<input>";
  p.err = err;
  p.text = (const unsigned char *)(text ? text : "");
  p.len = len;
  mlg_strtab_init(&p.anchor_tab);

  mlg_parse_limits(&lim, opts, len);
  max_bytes = lim.max_bytes;
  p.max_depth = lim.max_depth;
  p.max_nodes = lim.max_nodes;
  max_doc = lim.max_doc_bytes;
  p.all_documents = opts && opts->all_documents;
  p.merge_keys = opts && opts->merge_keys;
  p.allow_dup = opts && opts->allow_duplicates;

  if (len > max_bytes)
    return fail(&p, MLG_ELIMIT, first, "input of %zu bytes exceeds the limit of %zu bytes",
                len, max_bytes);
  /* The BOM is ours to skip: with the encoding forced to UTF-8, libyaml
   * would count it as a column of the first line. */
  if (len >= 3 && memcmp(text, "\xEF\xBB\xBF", 3) == 0) {
    p.base = 3;
    p.text += 3;
    p.len -= 3;
  }
  if ((rc = prescan(&p)) != 0)
    return rc;
  if (!(p.doc = mlg_doc_new(p.name)))
    return mlg_err_set(err, MLG_ENOMEM, "%s: out of memory", p.name);
  p.doc->limit_bytes = max_doc;
  if (!yaml_parser_initialize(&ps)) {
    rc = mlg_err_set(err, MLG_ENOMEM, "%s: out of memory", p.name);
    goto done;
  }
  ps_ready = 1;
  yaml_parser_set_input_string(&ps, p.text, p.len);
  yaml_parser_set_encoding(&ps, YAML_UTF8_ENCODING);
  while (!stop) {
    if (!yaml_parser_parse(&ps, &ev)) {
      rc = libyaml_fail(&p, &ps);
      break;
    }
    rc = on_event(&p, &ev, &stop);
    yaml_event_delete(&ev);
    if (rc)
      break;
  }

done:
  while (p.depth)
    frame_free(&p.stack[--p.depth]);
  free(p.stack);
  free(p.anchors);
  mlg_strtab_free(&p.anchor_tab);
  if (ps_ready)
    yaml_parser_delete(&ps);
  if (rc) {
    mlg_doc_free(p.doc);
    return rc;
  }
  *out = p.doc;
  return 0;
}
