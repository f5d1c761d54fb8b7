/*
 * safetensors structure check, rule for rule as huggingface/safetensors
 * (safetensors/src/tensor.rs: read_metadata, Metadata::validate, Dtype):
 *
 *   - 8-byte little-endian header length N, N <= 100,000,000, 8 + N within
 *     the file;
 *   - the header is UTF-8 JSON: an object whose "__metadata__" member (if
 *     any) maps strings to strings and whose other members are tensors
 *     {"dtype": D, "shape": [usize...], "data_offsets": [usize, usize]}
 *     (other members of a tensor are ignored, as serde does);
 *   - sorted by (begin, end), every tensor begins where the previous one
 *     ended, the first at 0, end >= begin;
 *   - elements x bits(dtype) is a whole number of bytes equal to end - begin,
 *     without overflow;
 *   - the last end is exactly the length of the data region.
 *
 * Where the reference stops at the first error this reports every problem
 * it can (up to a cap), so one run shows everything wrong with a file.
 * Duplicate keys are an issue of their own: the reference keeps the last
 * tensor of a name while other readers keep the first, so the same file
 * means two things.
 */
#include "safetensors.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "buf.h"
#include "parse.h"
#include "utf8.h"

#define ST_MAX_HEADER 100000000u /* MAX_HEADER_SIZE of the reference */
#ifdef MLG_FUZZING
#define ST_MAX_ISSUES 4          /* small, so that fuzzing reaches it */
#else
#define ST_MAX_ISSUES 64         /* per file; the rest are counted */
#endif
#define ST_QUOTE 160

typedef struct st_dtype {
  const char *name;
  unsigned bits;
} st_dtype;

/* Dtype::bitsize of the reference (0.6). */
static const st_dtype dtypes[] = {
    {"BOOL", 8},     {"F4", 4},       {"F6_E2M3", 6},  {"F6_E3M2", 6}, {"U8", 8},
    {"I8", 8},       {"F8_E5M2", 8},  {"F8_E4M3", 8},  {"F8_E8M0", 8}, {"I16", 16},
    {"U16", 16},     {"F16", 16},     {"BF16", 16},    {"I32", 32},    {"U32", 32},
    {"F32", 32},     {"C64", 64},     {"F64", 64},     {"I64", 64},    {"U64", 64},
};

typedef struct st_tensor {
  const mlg_node *key;
  uint64_t begin, end;
  int offsets_ok;
} st_tensor;

typedef struct st_ctx {
  mlg_issues *issues;
  unsigned nissues, over;
} st_ctx;

static void issue(st_ctx *c, const char *code, int64_t off, const char *fmt, ...)
    __attribute__((format(printf, 4, 5)));

static void issue(st_ctx *c, const char *code, int64_t off, const char *fmt, ...)
{
  char msg[1024];
  va_list ap;

  if (c->nissues >= ST_MAX_ISSUES) {
    c->over++;
    return;
  }
  c->nissues++;
  va_start(ap, fmt);
  vsnprintf(msg, sizeof msg, fmt, ap);
  va_end(ap);
  mlg_issue_add(c->issues, code, NULL, off, "%s", msg);
}

/* "a string", "an integer" */
static const char *a_(const mlg_node *n)
{
  const char *t = mlg_node_typename(n);
  return strchr("aeiou", t[0]) ? "an" : "a";
}

static uint64_t le64(const unsigned char *p)
{
  uint64_t v = 0;
  int i;
  for (i = 7; i >= 0; i--)
    v = v << 8 | p[i];
  return v;
}

static void quote_key(char *buf, const mlg_node *key)
{
  mlg_utf8_quote(buf, ST_QUOTE, key->u.str.ptr, key->u.str.len);
}

/* A usize as serde_json reads one: a non-negative integer written without
 * fraction or exponent. Integers past int64 reach us as floats, so their
 * digits are read again from the source. */
static int as_usize(const mlg_node *n, const char *text, uint64_t *out)
{
  size_t i;
  uint64_t v = 0;

  if (n->type == MLG_INT) {
    if (n->u.integer < 0)
      return 0;
    *out = (uint64_t)n->u.integer;
    return 1;
  }
  if (n->type != MLG_FLOAT || n->span.end_offset <= n->span.offset)
    return 0;
  for (i = n->span.offset; i < n->span.end_offset; i++) {
    unsigned d = (unsigned char)text[i] - '0';
    if (d > 9 || v > (UINT64_MAX - d) / 10)
      return 0;
    v = v * 10 + d;
  }
  *out = v;
  return 1;
}

static const st_dtype *find_dtype(const mlg_node *n)
{
  size_t i;
  if (n->type != MLG_STR)
    return NULL;
  for (i = 0; i < sizeof dtypes / sizeof dtypes[0]; i++) {
    if (strlen(dtypes[i].name) == n->u.str.len &&
        memcmp(dtypes[i].name, n->u.str.ptr, n->u.str.len) == 0)
      return &dtypes[i];
  }
  return NULL;
}

static void check_metadata(st_ctx *c, const mlg_node *v)
{
  size_t i;
  char q[ST_QUOTE];

  if (v->type == MLG_NULL)
    return; /* Option<HashMap>: null is None */
  if (v->type != MLG_MAP) {
    issue(c, "safetensors-bad-header", 8 + (int64_t)v->span.offset,
          "__metadata__ is %s %s, not an object of strings", a_(v), mlg_node_typename(v));
    return;
  }
  for (i = 0; i < v->u.map.len; i++) {
    const mlg_pair *p = &v->u.map.pairs[i];
    if (p->val->type != MLG_STR) {
      quote_key(q, p->key);
      issue(c, "safetensors-bad-header", 8 + (int64_t)p->val->span.offset,
            "__metadata__ value of '%s' is %s %s; metadata values must be strings", q,
            a_(p->val), mlg_node_typename(p->val));
    }
  }
}

/* Checks one tensor entry; fills t when its offsets are usable. */
static void check_tensor(st_ctx *c, const char *text, const mlg_pair *p, st_tensor *t)
{
  const mlg_node *v = p->val, *dt, *shape, *offs;
  const st_dtype *d = NULL;
  char q[ST_QUOTE];
  uint64_t nel = 1, b = 0, e = 0, nbits;
  int shape_ok = 1, overflow = 0;
  size_t i;
  int64_t at = 8 + (int64_t)v->span.offset;

  t->key = p->key;
  t->offsets_ok = 0;
  quote_key(q, p->key);
  if (v->type != MLG_MAP) {
    issue(c, "safetensors-bad-header", at, "tensor '%s' is %s %s, not an object", q, a_(v),
          mlg_node_typename(v));
    return;
  }
  dt = mlg_map_get(v, "dtype");
  shape = mlg_map_get(v, "shape");
  offs = mlg_map_get(v, "data_offsets");

  if (!dt)
    issue(c, "safetensors-bad-dtype", at, "tensor '%s' has no dtype", q);
  else if (!(d = find_dtype(dt))) {
    char dq[ST_QUOTE];
    if (dt->type == MLG_STR) {
      mlg_utf8_quote(dq, sizeof dq, dt->u.str.ptr, dt->u.str.len);
      issue(c, "safetensors-bad-dtype", 8 + (int64_t)dt->span.offset,
            "tensor '%s' has unknown dtype '%s'", q, dq);
    } else {
      issue(c, "safetensors-bad-dtype", 8 + (int64_t)dt->span.offset,
            "tensor '%s' has a dtype that is %s %s, not a string", q, a_(dt),
            mlg_node_typename(dt));
    }
  }

  if (!shape || shape->type != MLG_SEQ) {
    shape_ok = 0;
    if (!shape)
      issue(c, "safetensors-bad-shape", at, "tensor '%s' has no shape", q);
    else
      issue(c, "safetensors-bad-shape", 8 + (int64_t)shape->span.offset,
            "tensor '%s' has a shape that is %s %s, not a list", q, a_(shape),
            mlg_node_typename(shape));
  } else {
    for (i = 0; i < shape->u.seq.len; i++) {
      uint64_t dim;
      if (!as_usize(shape->u.seq.items[i], text, &dim)) {
        issue(c, "safetensors-bad-shape", 8 + (int64_t)shape->u.seq.items[i]->span.offset,
              "tensor '%s' has shape entry %zu that is not a non-negative integer", q, i);
        shape_ok = 0;
        break;
      }
      if (dim && nel > UINT64_MAX / dim)
        overflow = 1;
      nel *= dim;
    }
  }

  if (!offs || offs->type != MLG_SEQ || offs->u.seq.len != 2 ||
      !as_usize(offs->u.seq.items[0], text, &b) || !as_usize(offs->u.seq.items[1], text, &e)) {
    if (!offs)
      issue(c, "safetensors-bad-offsets", at, "tensor '%s' has no data_offsets", q);
    else
      issue(c, "safetensors-bad-offsets", 8 + (int64_t)offs->span.offset,
            "tensor '%s' has data_offsets that are not a pair of non-negative integers", q);
  } else {
    t->begin = b;
    t->end = e;
    t->offsets_ok = 1;
  }

  if (!d || !shape_ok)
    return;
  /* A dimension of 0 empties the tensor whatever the others say, as in
   * the reference's checked product only when no step overflows first;
   * the reference fails on the first overflowing step, so do we. */
  if (overflow || (nel && nel > UINT64_MAX / d->bits)) {
    issue(c, "safetensors-bad-shape", 8 + (int64_t)shape->span.offset,
          "tensor '%s' has a shape whose byte size overflows 64 bits", q);
    return;
  }
  nbits = nel * d->bits;
  if (nbits % 8) {
    issue(c, "safetensors-size-mismatch", 8 + (int64_t)shape->span.offset,
          "tensor '%s' of %llu %s elements does not fill a whole number of bytes", q,
          (unsigned long long)nel, d->name);
    return;
  }
  if (t->offsets_ok && e >= b && e - b != nbits / 8)
    issue(c, "safetensors-size-mismatch", 8 + (int64_t)offs->span.offset,
          "tensor '%s' is %s x %llu elements = %llu bytes, but its data_offsets span %llu bytes",
          q, d->name, (unsigned long long)nel, (unsigned long long)(nbits / 8),
          (unsigned long long)(e - b));
}

static int cmp_tensor(const void *a, const void *b)
{
  const st_tensor *x = a, *y = b;
  if (x->begin != y->begin)
    return x->begin < y->begin ? -1 : 1;
  if (x->end != y->end)
    return x->end < y->end ? -1 : 1;
  return 0;
}

static int64_t file_off(uint64_t base, uint64_t off)
{
  return off > (uint64_t)INT64_MAX - base ? -1 : (int64_t)(base + off);
}

/* Tiling: sorted by offsets, each tensor starts where the last ended. */
static void check_tiling(st_ctx *c, st_tensor *ts, size_t n, uint64_t data_len, uint64_t base,
                         int unplaced)
{
  uint64_t start = 0;
  char q[ST_QUOTE];
  size_t i;

  if (n)
    qsort(ts, n, sizeof *ts, cmp_tensor);
  for (i = 0; i < n; i++) {
    st_tensor *t = &ts[i];
    int64_t at = file_off(base, t->begin);
    quote_key(q, t->key);
    if (t->end < t->begin) {
      issue(c, "safetensors-bad-offsets", at,
            "tensor '%s' ends (%llu) before it begins (%llu)", q,
            (unsigned long long)t->end, (unsigned long long)t->begin);
      continue;
    }
    if (t->begin > start)
      issue(c, "safetensors-bad-offsets", file_off(base, start),
            "gap of %llu unaccounted bytes before tensor '%s' (data offsets %llu..%llu)",
            (unsigned long long)(t->begin - start), q, (unsigned long long)start,
            (unsigned long long)t->begin);
    else if (t->begin < start)
      issue(c, "safetensors-bad-offsets", at,
            "tensor '%s' (%llu..%llu) overlaps the data of the tensor before it", q,
            (unsigned long long)t->begin, (unsigned long long)t->end);
    if (t->end > data_len)
      issue(c, "safetensors-bad-offsets", at,
            "tensor '%s' ends at data offset %llu, past the end of the data (%llu bytes)", q,
            (unsigned long long)t->end, (unsigned long long)data_len);
    if (t->end > start)
      start = t->end;
  }
  /* With a tensor of unusable offsets, unclaimed bytes may be its own. */
  if (start < data_len && !unplaced)
    issue(c, "safetensors-trailing-bytes", file_off(base, start),
          "%llu bytes after the last tensor's data are not described by the header",
          (unsigned long long)(data_len - start));
}

/* Reads the header text into b (at most n bytes, growing with what really
 * arrives so a lying length costs nothing). 1 when the stream ended first. */
static int read_header(mlg_buf *b, mlg_stream *s, uint64_t n, mlg_err *err)
{
  while (b->len < n) {
    size_t want = n - b->len > 1 << 20 ? 1 << 20 : (size_t)(n - b->len);
    ssize_t r;
    if (mlg_buf_grow(b, want) != 0)
      return mlg_err_set(err, MLG_ENOMEM, "out of memory reading a safetensors header");
    r = mlg_stream_read(s, b->ptr + b->len, want, err);
    if (r < 0)
      return (int)r;
    if (r == 0)
      return 1;
    b->len += (size_t)r;
    b->ptr[b->len] = '\0';
  }
  return 0;
}

/* The key named by the parser's "header:L:C: duplicate key '...' (first at
 * line N)" message, and the byte offset of L:C in the header. */
static int64_t dup_key_from(char *out, size_t size, const char *msg, const char *text,
                            size_t len)
{
  const char *p = strstr(msg, "duplicate key '"), *q;
  unsigned line = 0, col = 0;
  size_t n, i = 0;

  out[0] = '\0';
  if (!p)
    return 8;
  p += strlen("duplicate key '");
  q = strstr(p, "' (first at line");
  n = q ? (size_t)(q - p) : strlen(p);
  if (n >= size)
    n = size - 1;
  memcpy(out, p, n);
  out[n] = '\0';
  if (sscanf(msg, "header:%u:%u:", &line, &col) != 2 || line == 0 || col == 0)
    return 8;
  while (line > 1 && i < len) {
    if (text[i++] == '\n')
      line--;
  }
  return 8 + (int64_t)(i + col - 1);
}

/* Length of the data region when the caller could not tell: counted by
 * reading, the only way on a stream of unknown size. */
static int count_rest(uint64_t *out, mlg_stream *s, mlg_err *err)
{
  char buf[65536];
  ssize_t r;
  *out = 0;
  while ((r = mlg_stream_read(s, buf, sizeof buf, err)) > 0)
    *out += (uint64_t)r;
  return r < 0 ? (int)r : 0;
}

int mlg_safetensors_check(mlg_safetensors_info *info, mlg_stream *s, uint64_t size,
                          mlg_issues *issues, mlg_err *err)
{
  unsigned char hb[8];
  mlg_buf text = MLG_BUF_INIT;
  mlg_doc *doc = NULL;
  mlg_parse_opts o;
  mlg_err perr;
  st_ctx c = {issues, 0, 0};
  st_tensor *ts = NULL;
  size_t nt = 0, i;
  uint64_t n, got = 0;
  int rc = 0, r;

  memset(info, 0, sizeof *info);
  while (got < 8) {
    ssize_t k = mlg_stream_read(s, hb + got, 8 - (size_t)got, err);
    if (k < 0)
      return (int)k;
    if (k == 0)
      break;
    got += (uint64_t)k;
  }
  if (got < 8) {
    issue(&c, "safetensors-truncated", 0,
          "file of %llu bytes is too short for the 8-byte header length",
          (unsigned long long)got);
    return 0;
  }
  n = le64(hb);
  info->header_len = n;
  if (n > ST_MAX_HEADER) {
    issue(&c, "safetensors-header-too-large", 0,
          "header length %llu exceeds the 100,000,000-byte limit of the reference loader",
          (unsigned long long)n);
    return 0;
  }
  if (size != UINT64_MAX && n > size - 8) {
    issue(&c, "safetensors-truncated", 0,
          "header length %llu runs past the end of the file (%llu bytes)",
          (unsigned long long)n, (unsigned long long)size);
    return 0;
  }
  if ((r = read_header(&text, s, n, err)) < 0) {
    rc = r;
    goto done;
  }
  if (r == 1) {
    issue(&c, "safetensors-truncated", 0, "header length %llu runs past the end of the data",
          (unsigned long long)n);
    goto done;
  }

  memset(&o, 0, sizeof o);
  o.max_bytes = ST_MAX_HEADER;
  o.allow_duplicates = 0;
  mlg_err_clear(&perr);
  r = mlg_json_parse(&doc, text.ptr ? text.ptr : "", text.len, "header", &o, &perr);
  if (r == MLG_ENOMEM) {
    rc = mlg_err_set(err, MLG_ENOMEM, "out of memory parsing a safetensors header");
    goto done;
  }
  if (r != 0 && strstr(perr.msg, ": duplicate key '")) {
    char key[ST_QUOTE];
    int64_t at = dup_key_from(key, sizeof key, perr.msg, text.ptr, text.len);
    issue(&c, "safetensors-duplicate-key", at,
          "key '%s' appears twice in the header; loaders disagree on which one counts", key);
    /* Carry on as the reference reads it (the last one wins). */
    o.allow_duplicates = 1;
    r = mlg_json_parse(&doc, text.ptr ? text.ptr : "", text.len, "header", &o, &perr);
    if (r == MLG_ENOMEM) {
      rc = mlg_err_set(err, MLG_ENOMEM, "out of memory parsing a safetensors header");
      goto done;
    }
  }
  if (r != 0) {
    issue(&c, "safetensors-bad-header", 8, "header is not valid JSON: %s", perr.msg);
    goto done;
  }
  if (doc->root->type != MLG_MAP) {
    issue(&c, "safetensors-bad-header", 8, "header is %s JSON %s, not an object",
          a_(doc->root), mlg_node_typename(doc->root));
    goto done;
  }

  if (doc->root->u.map.len &&
      !(ts = calloc(doc->root->u.map.len, sizeof *ts))) {
    rc = mlg_err_set(err, MLG_ENOMEM, "out of memory checking a safetensors header");
    goto done;
  }
  for (i = 0; i < doc->root->u.map.len; i++) {
    const mlg_pair *p = &doc->root->u.map.pairs[i];
    if (p->key->u.str.len == 12 && memcmp(p->key->u.str.ptr, "__metadata__", 12) == 0) {
      info->has_metadata = 1;
      check_metadata(&c, p->val);
      continue;
    }
    info->ntensors++;
    check_tensor(&c, text.ptr, p, &ts[nt]);
    if (ts[nt].offsets_ok)
      nt++;
  }
  if (size != UINT64_MAX)
    info->data_len = size - 8 - n;
  else if ((rc = count_rest(&info->data_len, s, err)) != 0)
    goto done;
  check_tiling(&c, ts, nt, info->data_len, 8 + n, nt < info->ntensors);

done:
  if (c.over)
    mlg_issue_add(issues, "safetensors-bad-header", NULL, -1,
                  "%u further problems in this safetensors file were not listed", c.over);
  free(ts);
  mlg_doc_free(doc);
  mlg_buf_free(&text);
  return rc;
}

int mlg_safetensors_sniff(const unsigned char *head, size_t len, uint64_t size)
{
  uint64_t n;
  size_t i;

  if (len < 9)
    return 0;
  n = le64(head);
  if (n < 2 || n > ST_MAX_HEADER || (size != UINT64_MAX && (size < 8 || n > size - 8)))
    return 0;
  /* JSON may start with whitespace, and the reference accepts it. */
  for (i = 8; i < len && i - 8 < n; i++) {
    if (head[i] == '{')
      return 1;
    if (head[i] != ' ' && head[i] != '\t' && head[i] != '\n' && head[i] != '\r')
      return 0;
  }
  return 0;
}
