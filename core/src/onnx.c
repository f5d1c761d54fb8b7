/*
 * ONNX model check: a protobuf wire-format walk of ModelProto that
 * descends only into the messages that can hold tensors or operator
 * domains (field numbers of onnx/onnx.proto):
 *
 *   ModelProto      1 ir_version, 7 graph, 8 opset_import, 20 training_info,
 *                   25 functions
 *   GraphProto      1 node, 5 initializer, 15 sparse_initializer
 *   NodeProto       5 attribute, 7 domain
 *   AttributeProto  5 t, 6 g, 10 tensors, 11 graphs, 22 sparse_tensor,
 *                   23 sparse_tensors
 *   TensorProto     8 name, 13 external_data, 14 data_location
 *   SparseTensorProto 1 values, 2 indices
 *   FunctionProto   7 node, 9 opset_import, 10 domain, 11 attribute_proto
 *   TrainingInfoProto 1 initialization, 2 algorithm
 *   OperatorSetIdProto 1 domain; StringStringEntryProto 1 key, 2 value
 *
 * Everything else, raw_data above all, is skipped by its length without
 * being read (a seek on files). Attribute tensors count as much as
 * initializers: onnx.load resolves external data for both, in subgraphs
 * too. Wire types 3 and 4 (groups) and 6, 7 are invalid in ONNX files.
 */
#include "onnx.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "strtab.h"
#include "utf8.h"

#define OX_BUF 65536
#define OX_MAX_DEPTH 64      /* message nesting; protobuf's default limit is 100 */
#ifdef MLG_FUZZING
#define OX_MAX_ISSUES 4
#else
#define OX_MAX_ISSUES 64
#endif
#ifdef MLG_FUZZING /* small caps, so that fuzzing reaches them */
#define OX_MAX_EXTERNAL 4
#define OX_MAX_DOMAINS 4
#else
#define OX_MAX_EXTERNAL 4096 /* distinct external data locations kept */
#define OX_MAX_DOMAINS 256
#endif
#define OX_LOC_CAP 4096
#define OX_NAME_CAP 256
#define OX_QUOTE 160

#define OX_END 1 /* the data ended early */

enum {
  K_NONE, K_MODEL, K_GRAPH, K_NODE, K_ATTR, K_TENSOR, K_SPARSE, K_FUNC, K_TRAIN, K_OPSET,
  K_ENTRY
};

typedef struct ox_tensor {
  char name[OX_NAME_CAP + 1];
  char val[OX_LOC_CAP + 1]; /* value of the StringStringEntryProto being read */
  uint64_t vallen;
  int has_val, key_is_loc;  /* of that entry */
  int has_loc, external;
  uint64_t at;              /* offset of the TensorProto */
} ox_tensor;

typedef struct ox {
  mlg_stream *s;
  mlg_err *err;
  mlg_onnx_info *info;
  mlg_issues *issues;
  uint64_t size;
  size_t off, len;
  unsigned nissues, over;
  int stopped, ext_over;
  mlg_strtab ext, dom;
  unsigned char buf[OX_BUF];
} ox;

static void issue(ox *x, const char *code, int64_t off, const char *fmt, ...)
    __attribute__((format(printf, 4, 5)));

static void issue(ox *x, const char *code, int64_t off, const char *fmt, ...)
{
  char msg[1024];
  va_list ap;

  if (x->nissues >= OX_MAX_ISSUES) {
    x->over++;
    return;
  }
  x->nissues++;
  va_start(ap, fmt);
  vsnprintf(msg, sizeof msg, fmt, ap);
  va_end(ap);
  mlg_issue_add(x->issues, code, NULL, off, "%s", msg);
}

static int fatal(ox *x, int64_t off, const char *fmt, ...) __attribute__((format(printf, 3, 4)));

static int fatal(ox *x, int64_t off, const char *fmt, ...)
{
  char msg[1024];
  va_list ap;

  va_start(ap, fmt);
  vsnprintf(msg, sizeof msg, fmt, ap);
  va_end(ap);
  x->stopped = 1;
  issue(x, "onnx-malformed", off, "%s", msg);
  return OX_END;
}

/* rc of a read at offset at: the end of the data becomes an issue (once). */
static int ended(ox *x, int rc, uint64_t at, const char *what)
{
  if (rc != OX_END || x->stopped)
    return rc;
  return fatal(x, (int64_t)at, "the data ends inside %s", what);
}

/* --- buffered reading ------------------------------------------------------ */

static uint64_t pos(const ox *x)
{
  return x->s->pos - (x->len - x->off);
}

static int need(ox *x, size_t n)
{
  while (x->len - x->off < n) {
    ssize_t r;
    if (x->off) {
      memmove(x->buf, x->buf + x->off, x->len - x->off);
      x->len -= x->off;
      x->off = 0;
    }
    r = mlg_stream_read(x->s, x->buf + x->len, OX_BUF - x->len, x->err);
    if (r < 0)
      return (int)r;
    if (r == 0)
      return OX_END;
    x->len += (size_t)r;
  }
  return 0;
}

static int skip(ox *x, uint64_t n)
{
  uint64_t have = x->len - x->off;
  int rc;

  if (n <= have) {
    x->off += (size_t)n;
    return 0;
  }
  if (x->size != UINT64_MAX && n > x->size - pos(x))
    return OX_END;
  n -= have;
  x->off = x->len = 0;
  rc = mlg_stream_skip(x->s, n, x->err);
  return rc == MLG_EPARSE && x->size == UINT64_MAX ? OX_END : rc;
}

/* Reads n bytes keeping the first cap (out has cap + 1 bytes). */
static int bytes(ox *x, uint64_t n, char *out, size_t cap)
{
  size_t keep = n < cap ? (size_t)n : cap;
  int rc;

  if ((rc = need(x, keep)) != 0)
    return rc;
  memcpy(out, x->buf + x->off, keep);
  out[keep] = '\0';
  x->off += keep;
  return skip(x, n - keep);
}

/* A varint; at most 10 bytes, as protobuf reads them. */
static int varint(ox *x, uint64_t *v)
{
  unsigned shift = 0, i;
  int rc;

  *v = 0;
  for (i = 0; i < 10; i++) {
    unsigned char b;
    if ((rc = need(x, 1)) != 0)
      return rc;
    b = x->buf[x->off++];
    if (shift < 64)
      *v |= (uint64_t)(b & 0x7f) << shift;
    shift += 7;
    if (!(b & 0x80))
      return 0;
  }
  return fatal(x, (int64_t)pos(x) - 10, "varint longer than 10 bytes");
}

/* --- what the walk finds ------------------------------------------------------ */

static int str_eq(const void *ctx, size_t val, const char *s, size_t len)
{
  char *const *v = *(char **const *)ctx;
  return strlen(v[val]) == len && memcmp(v[val], s, len) == 0;
}

/* Adds s to a deduplicated list; 1 when new, 0 when known or not kept. */
static int add_unique(mlg_strtab *t, char ***list, size_t *n, size_t max, const char *s,
                      size_t len)
{
  uint64_t h = mlg_strtab_hash(s, len);
  char *copy;

  if (mlg_strtab_find(t, h, s, len, str_eq, list) != MLG_STRTAB_NONE)
    return 0;
  if (*n >= max)
    return -2;
  if ((*n & (*n - 1)) == 0) {
    char **nl = realloc(*list, (*n ? *n * 2 : 8) * sizeof *nl);
    if (!nl)
      return -1;
    *list = nl;
  }
  if (!(copy = strndup(s, len)))
    return -1;
  (*list)[*n] = copy;
  if (mlg_strtab_add(t, h, *n) != 0) {
    free(copy);
    return -1;
  }
  (*n)++;
  return 1;
}

static int is_standard_domain(const char *d, size_t n)
{
  static const char *const std_domains[] = {"", "ai.onnx", "ai.onnx.ml",
                                            "ai.onnx.preview.training", "ai.onnx.training"};
  size_t i;
  for (i = 0; i < sizeof std_domains / sizeof std_domains[0]; i++) {
    if (strlen(std_domains[i]) == n && memcmp(std_domains[i], d, n) == 0)
      return 1;
  }
  return 0;
}

static int domain(ox *x, uint64_t len, uint64_t at)
{
  char d[OX_NAME_CAP + 1], q[OX_QUOTE];
  size_t n;
  int rc;

  if ((rc = bytes(x, len, d, OX_NAME_CAP)) != 0)
    return rc;
  n = len < OX_NAME_CAP ? (size_t)len : OX_NAME_CAP;
  if (memchr(d, '\0', n) || is_standard_domain(d, n))
    return 0;
  rc = add_unique(&x->dom, &x->info->domains, &x->info->ndomains, OX_MAX_DOMAINS, d, n);
  if (rc == -1)
    return mlg_err_set(x->err, MLG_ENOMEM, "out of memory checking an ONNX model");
  if (rc == 1) {
    mlg_utf8_quote(q, sizeof q, d, n);
    issue(x, "onnx-custom-domain", (int64_t)at,
          "operator domain '%s' is not a standard ONNX domain; its operators come from a "
          "custom operator library the runtime must load",
          q);
  }
  return 0;
}

/* Why an external data location leaves the model's folder, or NULL. */
static const char *escapes(const char *p, size_t n)
{
  size_t i = 0;

  if (n == 0)
    return "is empty";
  if (memchr(p, '\0', n))
    return "contains a NUL byte";
  if (p[0] == '/' || p[0] == '\\')
    return "is an absolute path";
  if (n >= 2 && p[1] == ':' && ((p[0] >= 'a' && p[0] <= 'z') || (p[0] >= 'A' && p[0] <= 'Z')))
    return "names a drive";
  while (i < n) {
    size_t j = i;
    while (j < n && p[j] != '/' && p[j] != '\\')
      j++;
    if (j - i == 2 && p[i] == '.' && p[i + 1] == '.')
      return "goes up with '..'";
    i = j + 1;
  }
  return NULL;
}

/* One external_data entry whose key is "location". Every such entry is
 * checked: onnx's ExternalDataInfo keeps the last one, other readers the
 * first. */
static int location(ox *x, ox_tensor *t)
{
  char q[OX_QUOTE], nq[OX_QUOTE];
  const char *why;
  size_t n;
  int rc;

  t->has_loc = 1;
  mlg_utf8_quote(nq, sizeof nq, t->name, strlen(t->name));
  n = t->vallen < OX_LOC_CAP ? (size_t)t->vallen : OX_LOC_CAP;
  mlg_utf8_quote(q, sizeof q, t->val, n);
  if (t->vallen > OX_LOC_CAP) {
    issue(x, "onnx-external-escape", (int64_t)t->at,
          "tensor '%s' names an external data location of %llu bytes, longer than any path",
          nq, (unsigned long long)t->vallen);
    return 0;
  }
  /* Each distinct location is listed and judged once, however many
   * tensors share it. */
  why = escapes(t->val, n);
  if (n && !memchr(t->val, '\0', n)) {
    rc = add_unique(&x->ext, &x->info->external, &x->info->nexternal, OX_MAX_EXTERNAL, t->val,
                    n);
    if (rc == -1)
      return mlg_err_set(x->err, MLG_ENOMEM, "out of memory checking an ONNX model");
    if (rc == 0)
      return 0;
    if (rc == -2 && !x->ext_over) {
      x->ext_over = 1;
      issue(x, "onnx-malformed", (int64_t)t->at,
            "more than %d distinct external data files; the rest were checked but not listed",
            OX_MAX_EXTERNAL);
    }
  }
  if (why)
    issue(x, "onnx-external-escape", (int64_t)t->at,
          "tensor '%s' reads its data from '%s', which %s: the loader would open a file "
          "outside the model's folder",
          nq, q, why);
  return 0;
}

static void tensor_done(ox *x, ox_tensor *t)
{
  char nq[OX_QUOTE];
  if (t->external && !t->has_loc) {
    mlg_utf8_quote(nq, sizeof nq, t->name, strlen(t->name));
    issue(x, "onnx-malformed", (int64_t)t->at,
          "tensor '%s' keeps its data in an external file but names no location", nq);
  }
}

/* --- the walk --------------------------------------------------------------------- */

static int child(int kind, uint64_t field)
{
  switch (kind) {
  case K_MODEL:
    return field == 7 ? K_GRAPH : field == 8 ? K_OPSET : field == 20 ? K_TRAIN
           : field == 25 ? K_FUNC : K_NONE;
  case K_GRAPH:
    return field == 1 ? K_NODE : field == 5 ? K_TENSOR : field == 15 ? K_SPARSE : K_NONE;
  case K_NODE:
    return field == 5 ? K_ATTR : K_NONE;
  case K_ATTR:
    return field == 5 || field == 10   ? K_TENSOR
           : field == 6 || field == 11 ? K_GRAPH
           : field == 22 || field == 23 ? K_SPARSE
                                        : K_NONE;
  case K_TENSOR:
    return field == 13 ? K_ENTRY : K_NONE;
  case K_SPARSE:
    return field == 1 || field == 2 ? K_TENSOR : K_NONE;
  case K_FUNC:
    return field == 7 ? K_NODE : field == 9 ? K_OPSET : field == 11 ? K_ATTR : K_NONE;
  case K_TRAIN:
    return field == 1 || field == 2 ? K_GRAPH : K_NONE;
  default:
    return K_NONE;
  }
}

static int walk(ox *x, int kind, uint64_t end, unsigned depth, ox_tensor *t);

static int message(ox *x, int kind, uint64_t end, unsigned depth, ox_tensor *parent)
{
  ox_tensor *t;
  int rc;

  if (depth >= OX_MAX_DEPTH)
    return fatal(x, (int64_t)pos(x), "messages nested more than %d deep", OX_MAX_DEPTH);
  if (kind != K_TENSOR)
    return walk(x, kind, end, depth, parent);
  if (!(t = calloc(1, sizeof *t)))
    return mlg_err_set(x->err, MLG_ENOMEM, "out of memory checking an ONNX model");
  t->at = pos(x);
  rc = walk(x, K_TENSOR, end, depth, t);
  if (rc == 0)
    tensor_done(x, t);
  free(t);
  return rc;
}

static int walk(ox *x, int kind, uint64_t end, unsigned depth, ox_tensor *t)
{
  while (pos(x) < end) {
    uint64_t tag, field, v, at = pos(x), len;
    int wt, rc, sub;

    if (kind == K_MODEL && end == UINT64_MAX) {
      rc = need(x, 1); /* of unknown size: the model ends with the data */
      if (rc == OX_END)
        return 0;
      if (rc < 0)
        return rc;
    }
    if ((rc = varint(x, &tag)) != 0)
      return ended(x, rc, at, "a field tag");
    field = tag >> 3;
    wt = (int)(tag & 7);
    if (field == 0 || field > 0x1fffffff)
      return fatal(x, (int64_t)at, "invalid field number %llu", (unsigned long long)field);
    switch (wt) {
    case 0:
      if ((rc = varint(x, &v)) != 0)
        return ended(x, rc, at, "a varint");
      if (kind == K_MODEL && field == 1)
        x->info->ir_version = (int64_t)v;
      else if (kind == K_TENSOR && field == 14)
        t->external = v == 1;
      break;
    case 1:
    case 5:
      if ((rc = skip(x, wt == 1 ? 8 : 4)) != 0)
        return ended(x, rc, at, "a fixed-size field");
      break;
    case 2:
      if ((rc = varint(x, &len)) != 0)
        return ended(x, rc, at, "a length");
      if (len > end - pos(x) || (x->size != UINT64_MAX && len > x->size - pos(x)))
        return fatal(x, (int64_t)at,
                     "field %llu claims %llu bytes, past the end of its enclosing message",
                     (unsigned long long)field, (unsigned long long)len);
      sub = child(kind, field);
      if (sub != K_NONE) {
        rc = message(x, sub, pos(x) + len, depth + 1, t);
      } else if ((kind == K_NODE && field == 7) || (kind == K_OPSET && field == 1) ||
                 (kind == K_FUNC && field == 10)) {
        rc = domain(x, len, at);
      } else if (kind == K_TENSOR && field == 8) {
        rc = bytes(x, len, t->name, OX_NAME_CAP);
      } else if (kind == K_ENTRY && field == 1) {
        char key[16];
        rc = bytes(x, len, key, 15);
        t->key_is_loc = len == 8 && memcmp(key, "location", 8) == 0;
      } else if (kind == K_ENTRY && field == 2) {
        t->vallen = len;
        t->has_val = 1;
        rc = bytes(x, len, t->val, OX_LOC_CAP);
      } else {
        rc = skip(x, len);
      }
      if (rc)
        return ended(x, rc, at, "a length-delimited field");
      break;
    default:
      return fatal(x, (int64_t)at, "invalid wire type %d (field %llu)", wt,
                   (unsigned long long)field);
    }
  }
  if (kind == K_ENTRY) {
    /* key and value may come in either order, so decide at the end */
    int rc = t->key_is_loc && t->has_val ? location(x, t) : 0;
    t->key_is_loc = t->has_val = 0;
    return rc;
  }
  return 0;
}

int mlg_onnx_check(mlg_onnx_info *info, mlg_stream *s, uint64_t size, mlg_issues *issues,
                   mlg_err *err)
{
  ox *x;
  int rc;

  memset(info, 0, sizeof *info);
  if (!(x = calloc(1, sizeof *x)))
    return mlg_err_set(err, MLG_ENOMEM, "out of memory checking an ONNX model");
  x->s = s;
  x->err = err;
  x->info = info;
  x->issues = issues;
  x->size = size;
  mlg_strtab_init(&x->ext);
  mlg_strtab_init(&x->dom);

  rc = walk(x, K_MODEL, size, 0, NULL);
  if (rc == OX_END) {
    if (!x->stopped)
      issue(x, "onnx-malformed", (int64_t)pos(x), "the data ends early");
    rc = 0;
  }
  if (x->over)
    mlg_issue_add(issues, "onnx-malformed", NULL, -1,
                  "%u further problems in this ONNX model were not listed", x->over);
  mlg_strtab_free(&x->ext);
  mlg_strtab_free(&x->dom);
  free(x);
  if (rc < 0)
    mlg_onnx_info_free(info);
  return rc;
}

void mlg_onnx_info_free(mlg_onnx_info *info)
{
  size_t i;
  if (!info)
    return;
  for (i = 0; i < info->nexternal; i++)
    free(info->external[i]);
  for (i = 0; i < info->ndomains; i++)
    free(info->domains[i]);
  free(info->external);
  free(info->domains);
  info->external = info->domains = NULL;
  info->nexternal = info->ndomains = 0;
}

/* Writers emit fields in number order, so a model starts with ir_version
 * (field 1, a small varint) and then another ModelProto field. */
int mlg_onnx_sniff(const unsigned char *head, size_t len)
{
  size_t i = 1;
  uint64_t v = 0, tag = 0;
  unsigned shift = 0;

  if (len < 4 || head[0] != 0x08)
    return 0;
  while (i < len && i < 11) {
    v |= (uint64_t)(head[i] & 0x7f) << shift;
    shift += 7;
    if (!(head[i++] & 0x80))
      break;
  }
  if (v < 1 || v > 64 || i >= len)
    return 0;
  shift = 0;
  while (i < len) {
    tag |= (uint64_t)(head[i] & 0x7f) << shift;
    shift += 7;
    if (!(head[i++] & 0x80))
      break;
    if (shift > 28)
      return 0;
  }
  switch (tag >> 3) {
  case 2: case 3: case 4: case 6: case 7: case 8: case 14: case 20: case 25: case 26:
    return (tag & 7) == 2;
  case 5:
    return (tag & 7) == 0;
  default:
    return 0;
  }
}
