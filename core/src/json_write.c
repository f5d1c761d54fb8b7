/*
 * mlg_node trees to JSON text through jansson (the only file that includes
 * jansson.h).
 *
 * The output is always valid JSON whatever the tree holds: invalid UTF-8
 * becomes U+FFFD (jansson refuses it), NaN and infinities become null,
 * NUL bytes in strings are escaped (and replaced by U+FFFD in member
 * names, which jansson keeps as C strings). Shared (aliased) nodes are
 * written once per use, so a YAML alias bomb would expand here: the node
 * budget below turns that into an error instead of unbounded memory.
 */
#include "parse.h"

#include <jansson.h>
#include <math.h>
#include <stdio.h>
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
  mlg_buf tmp; /* sanitised copy of the current string */
  mlg_err *err;
} wctx;

/* Text jansson accepts for s: s itself when it is valid UTF-8 (without
 * NUL for member names), else a sanitised copy in w->tmp. NULL when out
 * of memory. */
static const char *clean(wctx *w, const char *s, size_t len, int no_nul, size_t *outlen)
{
  const unsigned char *u = (const unsigned char *)s;
  size_t i = mlg_utf8_check(s, len);
  uint32_t cp;

  if (i == len && !(no_nul && memchr(s, 0, len))) {
    *outlen = len;
    return s;
  }
  w->tmp.len = 0;
  i = 0;
  while (i < len) {
    size_t n = u[i] == 0 && no_nul ? 0 : mlg_utf8_decode(u + i, len - i, &cp);
    if (n == 0) {
      if (mlg_buf_put(&w->tmp, "\xEF\xBF\xBD", 3))
        return NULL;
      i++;
    } else {
      if (mlg_buf_put(&w->tmp, s + i, n))
        return NULL;
      i += n;
    }
  }
  if (mlg_buf_put(&w->tmp, "", 0))
    return NULL;
  *outlen = w->tmp.len;
  return w->tmp.ptr ? w->tmp.ptr : "";
}

static int oom(wctx *w)
{
  return mlg_err_set(w->err, MLG_ENOMEM, "out of memory while writing JSON");
}

/* Member names of trees built in memory may be other scalars. */
static int key_text(wctx *w, const mlg_node *k, char *num, size_t size, const char **out)
{
  size_t len;
  switch (k ? k->type : MLG_NULL) {
  case MLG_STR:
    if (!k->u.str.ptr) {
      *out = "";
      return 0;
    }
    *out = clean(w, k->u.str.ptr, k->u.str.len, 1, &len);
    return *out ? 0 : oom(w);
  case MLG_NULL: *out = "null"; return 0;
  case MLG_BOOL: *out = k->u.boolean ? "true" : "false"; return 0;
  case MLG_INT:
    snprintf(num, size, "%lld", (long long)k->u.integer);
    *out = num;
    return 0;
  case MLG_FLOAT:
    snprintf(num, size, "%.17g", k->u.number);
    *out = num;
    return 0;
  default:
    return mlg_err_set(w->err, MLG_EINVAL, "cannot write a %s as a JSON member name",
                       mlg_node_typename(k));
  }
}

static int convert(wctx *w, const mlg_node *n, size_t depth, json_t **out)
{
  json_t *j = NULL, *child;
  const char *s = NULL;
  size_t i, len;
  char num[40];
  int rc;

  *out = NULL;
  if (depth > WRITE_MAX_DEPTH)
    return mlg_err_set(w->err, MLG_ELIMIT, "cannot write JSON nested deeper than %d levels",
                       WRITE_MAX_DEPTH);
  if (++w->nodes > WRITE_MAX_NODES)
    return mlg_err_set(w->err, MLG_ELIMIT,
                       "cannot write JSON of more than %zu values (shared nodes expand)",
                       WRITE_MAX_NODES);
  switch (n ? n->type : MLG_NULL) {
  case MLG_NULL:
    j = json_null();
    break;
  case MLG_BOOL:
    j = json_boolean(n->u.boolean);
    break;
  case MLG_INT:
    j = json_integer((json_int_t)n->u.integer);
    break;
  case MLG_FLOAT:
    j = isfinite(n->u.number) ? json_real(n->u.number) : json_null();
    break;
  case MLG_STR:
    s = clean(w, n->u.str.ptr ? n->u.str.ptr : "", n->u.str.ptr ? n->u.str.len : 0, 0, &len);
    if (!s)
      return oom(w);
    j = json_stringn_nocheck(s, len);
    break;
  case MLG_SEQ:
    if (!(j = json_array()))
      return oom(w);
    for (i = 0; i < n->u.seq.len; i++) {
      if ((rc = convert(w, n->u.seq.items[i], depth + 1, &child)) != 0) {
        json_decref(j);
        return rc;
      }
      if (json_array_append_new(j, child)) {
        json_decref(j);
        return oom(w);
      }
    }
    break;
  case MLG_MAP:
    if (!(j = json_object()))
      return oom(w);
    for (i = 0; i < n->u.map.len; i++) {
      const mlg_pair *pr = &n->u.map.pairs[i];
      if ((rc = convert(w, pr->val, depth + 1, &child)) != 0) {
        json_decref(j);
        return rc;
      }
      /* The key last: it may live in w->tmp, which convert() reuses. */
      if ((rc = key_text(w, pr->key, num, sizeof num, &s)) != 0) {
        json_decref(child);
        json_decref(j);
        return rc;
      }
      if (json_object_set_new_nocheck(j, s, child)) {
        json_decref(j);
        return oom(w);
      }
    }
    break;
  default:
    return mlg_err_set(w->err, MLG_EINVAL, "cannot write a node of unknown type %d",
                       n->type);
  }
  if (!j)
    return oom(w);
  *out = j;
  return 0;
}

/* The GitHub runner takes "##[command]" anywhere in a log line as a
 * command, and reports are often printed to CI logs. "##[" can only occur
 * inside JSON strings, where "[" may be written as the equivalent
 * "\u005b": same document, nothing for the runner to find. */
static int ci_safe(mlg_buf *out, size_t start)
{
  size_t i, hits = 0;
  char *p;
  for (i = start; i + 2 < out->len; i++)
    if (out->ptr[i] == '#' && out->ptr[i + 1] == '#' && out->ptr[i + 2] == '[')
      hits++;
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

static int append(const char *buffer, size_t size, void *data)
{
  return mlg_buf_put(data, buffer, size) ? -1 : 0;
}

int mlg_json_write(mlg_buf *out, const mlg_node *n, int flags, mlg_err *err)
{
  wctx w;
  json_t *j;
  size_t jflags, start;
  int rc;

  if (!out)
    return mlg_err_set(err, MLG_EINVAL, "mlg_json_write: no output buffer");
  memset(&w, 0, sizeof w);
  w.err = err;
  rc = convert(&w, n, 1, &j);
  mlg_buf_free(&w.tmp);
  if (rc)
    return rc;
  jflags = JSON_PRESERVE_ORDER | JSON_ENCODE_ANY | JSON_REAL_PRECISION(17);
  jflags |= (flags & MLG_JSON_PRETTY) ? JSON_INDENT(2) : JSON_COMPACT;
  if (flags & MLG_JSON_ASCII)
    jflags |= JSON_ENSURE_ASCII;
  start = out->len;
  if (json_dump_callback(j, append, out, jflags)) {
    json_decref(j);
    /* Leave the buffer as it was rather than half a document. */
    if (out->ptr) {
      out->len = start;
      out->ptr[start] = '\0';
    }
    return oom(&w);
  }
  json_decref(j);
  if (!out->ptr && mlg_buf_put(out, "", 0))
    return oom(&w);
  return ci_safe(out, start) ? oom(&w) : 0;
}
