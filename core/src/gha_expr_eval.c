/*
 * Evaluator of GitHub Actions expressions (see gha_expr.h): operators,
 * property and index access with GitHub's filtered arrays, and the
 * built-in functions.
 *
 * Memory is bounded twice. GitHub's own budget (MLG_GX_MAX_MEMORY): the
 * result of every node counts (strings 26 bytes plus 2 per UTF-16 unit,
 * anything else 24) at its depth in the tree, and finishing a node drops
 * what its subtree counted, so the budget holds the values alive along
 * the path being evaluated, as in GitHub's runner. And ours: results live
 * in the caller's arena until it is freed, so everything this evaluation
 * allocates for strings and arrays is also counted cumulatively, against
 * MLG_GX_MADE_MAX. Time: each syntax node is evaluated at most once, and
 * what a node does in proportion to its operands (folding and comparing
 * strings, scanning mappings, writing JSON) is counted against
 * MLG_GX_WORK_MAX, so a huge or alias-shared context cannot make one
 * expression run for long.
 */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "gha_expr_int.h"
#include "parse.h"

#define MLG_GX_MADE_MAX (16 * MLG_GX_MAX_MEMORY)
#define MLG_GX_WORK_MAX ((size_t)64 << 20) /* bytes or steps: well under a second */
#define KEY_COST 16                          /* a key compared */
#define DUP_COST 64                          /* a key hashed for duplicates */
#define STR_OVERHEAD 26
#define OBJ_SIZE 24
/* Longest string a function may build: its cost alone fills the budget. */
#define MAX_STR ((MLG_GX_MAX_MEMORY - STR_OVERHEAD) / 2)

/* Marks the sequences that are GitHub's filtered arrays (results of .* and
 * [*]): indexing one indexes each of its items. */
static const char filtered_tag[] = "gx:filtered";

typedef struct ev {
  mlg_doc *doc;
  const mlg_gx *gx;
  const mlg_node *ctx;
  mlg_err *err;
  const mlg_node *null;
  size_t mem[MLG_GX_MAX_HEIGHT + 2];
  int top;      /* deepest level holding an amount, -1 when none */
  size_t total; /* GitHub's count */
  size_t made;  /* ours */
  size_t work;
  int rc;
} ev;

static const mlg_node *mem_error(ev *e)
{
  char x[480 + 8];
  mlg_gx_render(x, 480, e->gx->text, e->gx->len);
  e->rc = mlg_err_set(e->err, MLG_ELIMIT,
                      "The maximum allowed memory size was exceeded while evaluating the "
                      "following expression: %s", x);
  return NULL;
}

static const mlg_node *oom(ev *e)
{
  e->rc = mlg_err_set(e->err, MLG_ENOMEM, "out of memory while evaluating an expression");
  return NULL;
}

static const mlg_node *fail(ev *e, const char *msg, const char *s, size_t len)
{
  char x[400 + 8];
  mlg_gx_render(x, 400, s, len);
  e->rc = mlg_err_set(e->err, MLG_EINVAL, "%s%s", msg, x);
  return NULL;
}

static int account(ev *e, int level, size_t bytes)
{
  if (level > MLG_GX_MAX_HEIGHT)
    level = MLG_GX_MAX_HEIGHT;
  while (e->top > level) { /* the finished subtree's values are gone */
    e->total -= e->mem[e->top];
    e->mem[e->top--] = 0;
  }
  if (level > e->top)
    e->top = level;
  e->mem[level] += bytes;
  e->total += bytes;
  if (e->total > MLG_GX_MAX_MEMORY) {
    mem_error(e);
    return -1;
  }
  return 0;
}

static int made(ev *e, size_t bytes)
{
  e->made += bytes;
  if (e->made > MLG_GX_MADE_MAX) {
    mem_error(e);
    return -1;
  }
  return 0;
}

static int work(ev *e, size_t units)
{
  char x[400 + 8];
  e->work += units;
  if (e->work <= MLG_GX_WORK_MAX)
    return 0;
  mlg_gx_render(x, 400, e->gx->text, e->gx->len);
  e->rc = mlg_err_set(e->err, MLG_ELIMIT,
                      "The expression is too expensive to evaluate (over %zu MiB of text and "
                      "members to go through): %s", MLG_GX_WORK_MAX >> 20, x);
  return -1;
}

static size_t str_len(const mlg_node *v)
{
  return v && v->type == MLG_STR ? v->u.str.len : 0;
}

static const mlg_node *new_bool(ev *e, int b)
{
  mlg_node *n = mlg_node_bool(e->doc, b);
  return n ? n : oom(e);
}

static const mlg_node *new_str(ev *e, const char *s, size_t len)
{
  mlg_node *n;
  if (made(e, len + 64))
    return NULL;
  n = mlg_node_strn(e->doc, s, len);
  return n ? n : oom(e);
}

/* String coercion of any value: collections read as their kind. */
static void str_of(const mlg_node *v, char *num, const char **s, size_t *len)
{
  if (mlg_gx_prim_str(v, num, s, len) != 0) {
    *s = mlg_gx_kind(v);
    *len = strlen(*s);
  }
}

static int is_prim(const mlg_node *v)
{
  return mlg_gx_kindof(v) < GXK_ARRAY;
}

static int is_filtered(const mlg_node *v)
{
  return v->type == MLG_SEQ && v->tag == filtered_tag;
}

/* --- property and index access -------------------------------------------- */

typedef struct idx {
  int star;
  const char *s; /* string form, or NULL (collections) */
  size_t slen;
  int has_int;
  size_t i;
  char num[MLG_GX_NUMBUF];
} idx;

static void idx_of(idx *x, const mlg_node *v)
{
  double d = mlg_gx_num(v);
  memset(x, 0, sizeof *x);
  if (mlg_gx_prim_str(v, x->num, &x->s, &x->slen) != 0)
    x->s = NULL;
  if (!isnan(d) && isfinite(d) && d >= 0) {
    x->has_int = 1;
    x->i = d >= 1e19 ? (size_t)-1 : (size_t)floor(d);
  }
}

/* Adds what indexing item with x gives to out (when out is NULL, only
 * counts into *n, and charges the work). */
static int gather(ev *e, const mlg_node *item, const idx *x, mlg_node **out, size_t *n)
{
  size_t i;
  mlg_gx_dups *dups = NULL;
  const mlg_node *v;
  if (!out) {
    size_t units = 1;
    if (item->type == MLG_MAP)
      units += item->u.map.len * (x->star ? DUP_COST : KEY_COST);
    else if (item->type == MLG_SEQ && x->star)
      units += item->u.seq.len;
    if (work(e, units))
      return -1;
  }
  if (item->type == MLG_MAP) {
    if (x->star) {
      if (mlg_gx_dups_new(&dups, item)) {
        oom(e);
        return -1;
      }
      for (i = 0; i < item->u.map.len; i++) {
        if (mlg_gx_shadowed(dups, i))
          continue;
        if (out)
          out[*n] = item->u.map.pairs[i].val;
        (*n)++;
      }
      mlg_gx_dups_free(dups);
    } else if (x->s && (v = mlg_gx_map_get(item, x->s, x->slen))) {
      if (out)
        out[*n] = (mlg_node *)v;
      (*n)++;
    }
  } else if (item->type == MLG_SEQ) {
    if (x->star) {
      for (i = 0; i < item->u.seq.len; i++) {
        if (out)
          out[*n] = item->u.seq.items[i];
        (*n)++;
      }
    } else if (x->has_int && x->i < item->u.seq.len) {
      if (out)
        out[*n] = item->u.seq.items[x->i];
      (*n)++;
    }
  }
  return 0;
}

/* A filtered array of what indexing each of items (or obj itself) gives:
 * counted first, so the array is allocated once at its size. */
static const mlg_node *filter(ev *e, const mlg_node *obj, const idx *x)
{
  mlg_node **items = NULL, *seq;
  size_t n = 0, i;
  int pass;
  int each = obj && is_filtered(obj);
  for (pass = 0; pass < 2; pass++) {
    n = 0;
    if (!obj) {
      ;
    } else if (each) {
      for (i = 0; i < obj->u.seq.len; i++) {
        if (gather(e, obj->u.seq.items[i], x, items, &n))
          return NULL;
      }
    } else if (gather(e, obj, x, items, &n)) {
      return NULL;
    }
    if (pass == 0) {
      if (made(e, OBJ_SIZE + 64 + n * sizeof *items))
        return NULL;
      if (n && !(items = mlg_doc_alloc(e->doc, n * sizeof *items)))
        return oom(e);
    }
  }
  if (!(seq = mlg_node_seq(e->doc)))
    return oom(e);
  seq->u.seq.items = items;
  seq->u.seq.len = seq->u.seq.cap = n;
  seq->tag = filtered_tag;
  return seq;
}

static const mlg_node *access(ev *e, const mlg_node *obj, const idx *x)
{
  const mlg_node *v;
  if (obj->type == MLG_SEQ) {
    if (x->star || is_filtered(obj))
      return filter(e, obj, x);
    if (x->has_int && x->i < obj->u.seq.len)
      return obj->u.seq.items[x->i];
    return e->null;
  }
  if (obj->type == MLG_MAP) {
    if (x->star)
      return filter(e, obj, x);
    if (work(e, obj->u.map.len * KEY_COST))
      return NULL;
    if (x->s && (v = mlg_gx_map_get(obj, x->s, x->slen)))
      return v;
    return e->null;
  }
  return x->star ? filter(e, NULL, x) : e->null;
}

/* --- functions ------------------------------------------------------------ */

/* Upper-cases both strings (as GitHub compares them) into a and b. */
static int fold2(const mlg_node *x, const mlg_node *y, mlg_buf *a, mlg_buf *b)
{
  char nx[MLG_GX_NUMBUF], ny[MLG_GX_NUMBUF];
  const char *sx, *sy;
  size_t lx, ly;
  str_of(x, nx, &sx, &lx);
  str_of(y, ny, &sy, &ly);
  if (mlg_gx_fold_buf(a, sx, lx) || mlg_buf_put(a, "", 0) || mlg_gx_fold_buf(b, sy, ly) ||
      mlg_buf_put(b, "", 0))
    return MLG_ENOMEM;
  return 0;
}

static const mlg_node *fn_text(ev *e, int id, const mlg_node *x, const mlg_node *y)
{
  mlg_buf a = MLG_BUF_INIT, b = MLG_BUF_INIT;
  int r = 0;
  if (!is_prim(x) || !is_prim(y))
    return new_bool(e, 0);
  if (work(e, str_len(x) + str_len(y)))
    return NULL;
  if (fold2(x, y, &a, &b)) {
    mlg_buf_free(&a);
    mlg_buf_free(&b);
    return oom(e);
  }
  if (id == GXF_CONTAINS)
    r = b.len == 0 || memmem(a.ptr, a.len, b.ptr, b.len) != NULL;
  else if (id == GXF_STARTSWITH)
    r = b.len <= a.len && memcmp(a.ptr, b.ptr, b.len) == 0;
  else
    r = b.len <= a.len && memcmp(a.ptr + a.len - b.len, b.ptr, b.len) == 0;
  mlg_buf_free(&a);
  mlg_buf_free(&b);
  return new_bool(e, r);
}

static const mlg_node *fn_contains(ev *e, const mlg_node *hay, const mlg_node *needle)
{
  size_t i;
  if (hay->type == MLG_SEQ) {
    for (i = 0; i < hay->u.seq.len; i++) {
      if (work(e, 1 + str_len(needle) + str_len(hay->u.seq.items[i])))
        return NULL;
      if (mlg_gx_equals(needle, hay->u.seq.items[i]))
        return new_bool(e, 1);
    }
    return new_bool(e, 0);
  }
  return fn_text(e, GXF_CONTAINS, hay, needle);
}

static int put_capped(ev *e, mlg_buf *out, const char *s, size_t len)
{
  if (out->len + len > MAX_STR) {
    mem_error(e);
    return -1;
  }
  if (mlg_buf_put(out, s, len)) {
    oom(e);
    return -1;
  }
  return 0;
}

static const char *find_from(const char *s, size_t len, size_t from, char c)
{
  return from < len ? memchr(s + from, c, len - from) : NULL;
}

/* format('{0} and {{literal}}', a): GitHub's algorithm, with the brace
 * searches remembered so a text full of braces stays linear. */
static const mlg_node *fn_format(ev *e, const mlg_node *const *args, size_t nargs)
{
  char num[MLG_GX_NUMBUF];
  const char *fs, *lb = NULL, *rb = NULL;
  size_t len, i = 0;
  int lb_done = 0, rb_done = 0;
  mlg_buf out = MLG_BUF_INIT;
  const mlg_node *r = NULL;

  str_of(args[0], num, &fs, &len);
  if (work(e, len))
    return NULL;
  while (i < len) {
    size_t l, b;
    if (!lb_done && (!lb || (size_t)(lb - fs) < i)) {
      lb = find_from(fs, len, i, '{');
      lb_done = !lb;
    }
    if (!rb_done && (!rb || (size_t)(rb - fs) < i)) {
      rb = find_from(fs, len, i, '}');
      rb_done = !rb;
    }
    if (lb_done)
      lb = NULL;
    if (rb_done)
      rb = NULL;
    if (lb && (!rb || rb > lb)) {
      size_t digits = 0, k;
      l = (size_t)(lb - fs);
      if (l + 1 < len && fs[l + 1] == '{') { /* {{ */
        if (put_capped(e, &out, fs + i, l + 1 - i))
          goto done;
        i = l + 2;
        continue;
      }
      if (rb && (size_t)(rb - fs) > l + 1) {
        size_t arg = 0;
        while (l + 1 + digits < len && fs[l + 1 + digits] >= '0' && fs[l + 1 + digits] <= '9')
          digits++;
        for (k = 0; k < digits; k++) /* saturates: any huge index is out of range */
          arg = arg > 100000 ? arg : arg * 10 + (size_t)(fs[l + 1 + k] - '0');
        if (digits > 0) {
          char an[MLG_GX_NUMBUF];
          const char *as;
          size_t al;
          if (arg + 1 > nargs - 1) {
            fail(e, "The following format string references more arguments than were "
                    "supplied: ", fs, len);
            goto done;
          }
          str_of(args[1 + arg], an, &as, &al);
          if (work(e, al) || put_capped(e, &out, fs + i, l - i) || put_capped(e, &out, as, al))
            goto done;
          i = (size_t)(rb - fs) + 1;
          continue;
        }
      }
      fail(e, "The following format string is invalid: ", fs, len);
      goto done;
    } else if (rb) {
      b = (size_t)(rb - fs);
      if (b + 1 < len && fs[b + 1] == '}') { /* }} */
        if (put_capped(e, &out, fs + i, b + 1 - i))
          goto done;
        i = b + 2;
      } else {
        fail(e, "The following format string is invalid: ", fs, len);
        goto done;
      }
    } else {
      if (put_capped(e, &out, fs + i, len - i))
        goto done;
      break;
    }
  }
  r = new_str(e, out.ptr ? out.ptr : "", out.len);
done:
  mlg_buf_free(&out);
  return r;
}

static const mlg_node *fn_join(ev *e, const mlg_node *arr, const mlg_node *sep)
{
  char num[MLG_GX_NUMBUF], snum[MLG_GX_NUMBUF];
  const char *s, *ss = ",";
  size_t len, sl = 1, i;
  mlg_buf out = MLG_BUF_INIT;
  const mlg_node *r = NULL;

  if (is_prim(arr)) {
    str_of(arr, num, &s, &len);
    return new_str(e, s, len);
  }
  if (arr->type != MLG_SEQ)
    return new_str(e, "", 0);
  if (sep && is_prim(sep))
    str_of(sep, snum, &ss, &sl);
  for (i = 0; i < arr->u.seq.len; i++) {
    str_of(arr->u.seq.items[i], num, &s, &len);
    if (work(e, 1 + sl + len) || (i > 0 && put_capped(e, &out, ss, sl)) ||
        put_capped(e, &out, s, len))
      goto done;
  }
  r = new_str(e, out.ptr ? out.ptr : "", out.len);
done:
  mlg_buf_free(&out);
  return r;
}

static const mlg_node *fn_tojson(ev *e, const mlg_node *v)
{
  mlg_buf out = MLG_BUF_INIT;
  const mlg_node *r = NULL;
  int rc = mlg_gx_json(&out, v, MAX_STR);
  if (rc == MLG_ELIMIT)
    mem_error(e);
  else if (rc == MLG_EINVAL)
    e->rc = mlg_err_set(e->err, MLG_EINVAL, "toJSON: the value is nested more than %d levels deep",
                        MLG_GX_JSON_DEPTH);
  else if (rc)
    oom(e);
  else if (work(e, 8 * out.len) == 0)
    r = new_str(e, out.ptr ? out.ptr : "", out.len);
  mlg_buf_free(&out);
  return r;
}

/* Copies a parsed JSON value into the evaluation's document. */
static mlg_node *copy(ev *e, const mlg_node *n)
{
  mlg_node *c;
  size_t i;
  switch (n->type) {
  case MLG_STR: return mlg_node_strn(e->doc, n->u.str.ptr, n->u.str.len);
  case MLG_SEQ:
    if (!(c = mlg_node_seq(e->doc)))
      return NULL;
    if (n->u.seq.len &&
        !(c->u.seq.items = mlg_doc_alloc(e->doc, n->u.seq.len * sizeof(mlg_node *))))
      return NULL;
    c->u.seq.len = c->u.seq.cap = n->u.seq.len;
    for (i = 0; i < n->u.seq.len; i++) {
      if (!(c->u.seq.items[i] = copy(e, n->u.seq.items[i])))
        return NULL;
    }
    return c;
  case MLG_MAP:
    if (!(c = mlg_node_map(e->doc)))
      return NULL;
    if (n->u.map.len &&
        !(c->u.map.pairs = mlg_doc_alloc(e->doc, n->u.map.len * sizeof(mlg_pair))))
      return NULL;
    c->u.map.len = c->u.map.cap = n->u.map.len;
    for (i = 0; i < n->u.map.len; i++) {
      if (!(c->u.map.pairs[i].key = copy(e, n->u.map.pairs[i].key)) ||
          !(c->u.map.pairs[i].val = copy(e, n->u.map.pairs[i].val)))
        return NULL;
    }
    return c;
  default:
    if (!(c = mlg_node_new(e->doc, (mlg_ntype)n->type)))
      return NULL;
    c->u = n->u;
    return c;
  }
}

static const mlg_node *fn_fromjson(ev *e, const mlg_node *v)
{
  char num[MLG_GX_NUMBUF];
  const char *s;
  size_t len, before = e->doc->used_bytes;
  mlg_doc *jd = NULL;
  mlg_parse_opts opts;
  mlg_err jerr = {0};
  const mlg_node *r = NULL;

  str_of(v, num, &s, &len);
  if (work(e, 4 * len))
    return NULL;
  if (mlg_gx_js_blank(s, len)) {
    e->rc = mlg_err_set(e->err, MLG_EINVAL, "Error parsing JSON when evaluating fromJSON: "
                                            "empty input");
    return NULL;
  }
  memset(&opts, 0, sizeof opts);
  opts.allow_duplicates = 1; /* as JSON.parse: the last one wins */
  opts.max_doc_bytes = MLG_GX_MADE_MAX;
  if (mlg_json_parse(&jd, s, len, "fromJSON", &opts, &jerr) != 0) {
    if (jerr.code == MLG_ENOMEM)
      return oom(e);
    /* Too big or too deep is a limit of ours, not invalid JSON. */
    e->rc = mlg_err_set(e->err, jerr.code == MLG_ELIMIT ? MLG_ELIMIT : MLG_EINVAL,
                        "Error parsing JSON when evaluating fromJSON: %s", jerr.msg);
    return NULL;
  }
  if (made(e, jd->used_bytes) == 0) {
    if (!(r = copy(e, jd->root)))
      oom(e);
    else if (made(e, e->doc->used_bytes - before))
      r = NULL;
  }
  mlg_doc_free(jd);
  return r;
}

static const mlg_node *eval(ev *e, const mlg_gx_node *n, int level);

/* case(pred1, val1, ..., default): predicates in order, lazily, as the
 * runner does; each must be a boolean. */
static const mlg_node *fn_case(ev *e, const mlg_gx_node *n, int level)
{
  size_t i;
  for (i = 0; i + 1 < n->nargs; i += 2) {
    const mlg_node *p = eval(e, n->args[i], level + 1);
    if (!p)
      return NULL;
    if (p->type != MLG_BOOL) {
      e->rc = mlg_err_set(e->err, MLG_EINVAL, "case predicate must evaluate to a boolean value");
      return NULL;
    }
    if (p->u.boolean)
      return eval(e, n->args[i + 1], level + 1);
  }
  return eval(e, n->args[n->nargs - 1], level + 1);
}

static const mlg_node *call(ev *e, const mlg_gx_node *n, int level)
{
  const mlg_gx_fn *fn = mlg_gx_fn_find(n->name, strlen(n->name));
  const mlg_node **a;
  size_t i;

  if (!fn)
    return fail(e, "unknown function ", n->name, strlen(n->name));
  if (fn->id == GXF_CASE)
    return fn_case(e, n, level);
  if (!(a = mlg_doc_alloc(e->doc, (n->nargs + 1) * sizeof *a)))
    return oom(e);
  for (i = 0; i < n->nargs; i++) {
    if (!(a[i] = eval(e, n->args[i], level + 1)))
      return NULL;
  }
  switch (fn->id) {
  case GXF_CONTAINS: return fn_contains(e, a[0], a[1]);
  case GXF_STARTSWITH:
  case GXF_ENDSWITH: return fn_text(e, fn->id, a[0], a[1]);
  case GXF_FORMAT: return fn_format(e, a, n->nargs);
  case GXF_JOIN: return fn_join(e, a[0], n->nargs > 1 ? a[1] : NULL);
  case GXF_TOJSON: return fn_tojson(e, a[0]);
  case GXF_FROMJSON: return fn_fromjson(e, a[0]);
  case GXF_HASHFILES: return new_str(e, "", 0);
  case GXF_SUCCESS:
  case GXF_ALWAYS: return new_bool(e, 1);
  default: return new_bool(e, 0); /* failure(), cancelled() */
  }
}

/* --- nodes ---------------------------------------------------------------- */

static const mlg_node *compare(const mlg_gx_node *n, const mlg_node *l, const mlg_node *r,
                               ev *e)
{
  const char *op = n->name;
  int v;
  if (work(e, 1 + str_len(l) + str_len(r)))
    return NULL;
  if (op[0] == '=')
    v = mlg_gx_equals(l, r);
  else if (op[0] == '!')
    v = !mlg_gx_equals(l, r);
  else if (op[0] == '<')
    v = (op[1] == '=' && mlg_gx_equals(l, r)) || mlg_gx_less(l, r);
  else
    v = (op[1] == '=' && mlg_gx_equals(l, r)) || mlg_gx_greater(l, r);
  return new_bool(e, v);
}

static const mlg_node *eval_node(ev *e, const mlg_gx_node *n, int level)
{
  const mlg_node *l, *r;
  idx x;
  size_t i;

  switch (n->type) {
  case MLG_GX_LITERAL:
    return n->value ? n->value : e->null;
  case MLG_GX_CONTEXT:
    if (e->ctx && e->ctx->type == MLG_MAP && work(e, e->ctx->u.map.len * KEY_COST))
      return NULL;
    r = mlg_gx_map_get(e->ctx, n->name, strlen(n->name));
    return r ? r : e->null;
  case MLG_GX_PROPERTY:
    if (!(l = eval(e, n->left, level + 1)))
      return NULL;
    memset(&x, 0, sizeof x);
    x.s = n->name;
    x.slen = strlen(n->name);
    return access(e, l, &x);
  case MLG_GX_INDEX: /* GitHub evaluates the index first */
    if (!(r = eval(e, n->right, level + 1)) || !(l = eval(e, n->left, level + 1)))
      return NULL;
    if (work(e, str_len(r)))
      return NULL;
    idx_of(&x, r);
    return access(e, l, &x);
  case MLG_GX_STAR:
    if (!(l = eval(e, n->left, level + 1)))
      return NULL;
    memset(&x, 0, sizeof x);
    x.star = 1;
    return access(e, l, &x);
  case MLG_GX_NOT:
    if (!(l = eval(e, n->left, level + 1)))
      return NULL;
    return new_bool(e, !mlg_gx_truthy(l));
  case MLG_GX_AND:
  case MLG_GX_OR:
    r = NULL;
    for (i = 0; i < n->nargs; i++) {
      if (!(r = eval(e, n->args[i], level + 1)))
        return NULL;
      if (mlg_gx_truthy(r) == (n->type == MLG_GX_OR))
        break;
    }
    return r ? r : e->null;
  case MLG_GX_COMPARE:
    if (!(l = eval(e, n->left, level + 1)) || !(r = eval(e, n->right, level + 1)))
      return NULL;
    return compare(n, l, r, e);
  case MLG_GX_CALL:
    return call(e, n, level);
  case MLG_GX_GROUP:
    return eval(e, n->left, level + 1);
  default:
    return fail(e, "invalid expression node", "", 0);
  }
}

static const mlg_node *eval(ev *e, const mlg_gx_node *n, int level)
{
  const mlg_node *r = eval_node(e, n, level);
  size_t cost;
  if (!r || work(e, str_len(r)))
    return NULL;
  cost = r->type == MLG_STR ? STR_OVERHEAD + 2 * mlg_gx_utf16_len(r->u.str.ptr, r->u.str.len)
                            : OBJ_SIZE;
  return account(e, level, cost) ? NULL : r;
}

int mlg_gx_eval(mlg_node **result, mlg_doc *doc, const mlg_gx *gx, const mlg_node *contexts,
                mlg_gx_phase *phase, mlg_err *err)
{
  ev e;
  const mlg_node *r = NULL;

  *result = NULL;
  if (phase)
    *phase = MLG_GX_EVALUATION;
  if (!doc || !gx || !gx->root)
    return mlg_err_set(err, MLG_EINVAL, "mlg_gx_eval: no document or expression");
  memset(&e, 0, sizeof e);
  e.doc = doc;
  e.gx = gx;
  e.ctx = contexts;
  e.err = err;
  e.top = -1;
  if (!(e.null = mlg_node_null(doc)))
    return mlg_err_set(err, MLG_ENOMEM, "out of memory while evaluating an expression");
  r = eval(&e, gx->root, 0);
  if (!r)
    return e.rc;
  if (is_filtered(r))
    ((mlg_node *)r)->tag = NULL; /* ours: a plain sequence from now on */
  *result = (mlg_node *)r;
  if (phase)
    *phase = MLG_GX_OK;
  return 0;
}
