/*
 * GGUF header and metadata check, following the GGUF specification and
 * llama.cpp's reader (ggml/src/gguf.cpp, gguf_init_from_reader):
 *
 *   magic "GGUF", version 1-3 (v1 wrote counts, lengths and dimensions as
 *   32-bit numbers, later versions 64-bit; a byte-swapped version means a
 *   big-endian file, read as such); tensor and key/value counts; every
 *   key/value (non-empty unique keys of at most 65535 bytes, the 13 value
 *   types, arrays nested at most GG_MAX_DEPTH deep); general.alignment a
 *   uint32 power of two; tensor infos (unique names of at most 64 bytes,
 *   1-4 non-negative dimensions whose product fits int64, a known ggml
 *   type whose block size divides the first dimension); the data section
 *   starting at the aligned end of the infos, tensors laid out in order
 *   at aligned offsets with no gap or overlap (llama.cpp's "tensor has
 *   offset X, expected Y"), each inside the file.
 *
 * Everything is read through a small buffer over the stream and every
 * count or length is compared with the bytes that remain before anything
 * is allocated for it, so a header claiming 2^60 entries costs nothing.
 */
#include "gguf.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "buf.h"
#include "strtab.h"
#include "utf8.h"

#define GG_BUF 65536
#define GG_MAX_DEPTH 8                /* nested arrays */
#define GG_MAX_KEY 65535              /* the specification's key length limit */
#define GG_MAX_NAME 64                /* and tensor name limit */
#ifdef MLG_FUZZING /* small caps, so that fuzzing reaches them */
#define GG_MAX_ENTRIES ((uint64_t)64)
#define GG_MAX_NAME_BYTES ((size_t)4096)
#else
#define GG_MAX_ENTRIES ((uint64_t)1 << 20) /* keys or tensors kept for checks */
#define GG_MAX_NAME_BYTES ((size_t)64 << 20)
#endif
#ifdef MLG_FUZZING
#define GG_MAX_ISSUES 4
#else
#define GG_MAX_ISSUES 64
#endif
#define GG_TEMPLATE_CAP 65536
#define GG_ARCH_CAP 256
#define GG_QUOTE 160

/* Internal result: the data ended before what the header describes. */
#define GG_END 1

enum {
  T_U8, T_I8, T_U16, T_I16, T_U32, T_I32, T_F32, T_BOOL, T_STR, T_ARR, T_U64, T_I64, T_F64,
  T_COUNT
};

static const char *const type_names[T_COUNT] = {
    "uint8", "int8", "uint16", "int16",  "uint32", "int32", "float32",
    "bool",  "string", "array", "uint64", "int64", "float64"};

static const unsigned type_sizes[T_COUNT] = {1, 1, 2, 2, 4, 4, 4, 1, 0, 0, 8, 8, 8};

/* ggml types (ggml.h): block size in elements and bytes per block, as
 * ggml_blck_size / ggml_type_size; 0 for the ids whose support was
 * removed, which llama.cpp rejects. */
typedef struct gg_ggml {
  const char *name;
  unsigned blck, size;
} gg_ggml;

static const gg_ggml ggml_types[] = {
    {"F32", 1, 4},        {"F16", 1, 2},       {"Q4_0", 32, 18},    {"Q4_1", 32, 20},
    {"Q4_2", 0, 0},       {"Q4_3", 0, 0},      {"Q5_0", 32, 22},    {"Q5_1", 32, 24},
    {"Q8_0", 32, 34},     {"Q8_1", 32, 36},    {"Q2_K", 256, 84},   {"Q3_K", 256, 110},
    {"Q4_K", 256, 144},   {"Q5_K", 256, 176},  {"Q6_K", 256, 210},  {"Q8_K", 256, 292},
    {"IQ2_XXS", 256, 66}, {"IQ2_XS", 256, 74}, {"IQ3_XXS", 256, 98}, {"IQ1_S", 256, 50},
    {"IQ4_NL", 32, 18},   {"IQ3_S", 256, 110}, {"IQ2_S", 256, 82},  {"IQ4_XS", 256, 136},
    {"I8", 1, 1},         {"I16", 1, 2},       {"I32", 1, 4},       {"I64", 1, 8},
    {"F64", 1, 8},        {"IQ1_M", 256, 56},  {"BF16", 1, 2},      {"Q4_0_4_4", 0, 0},
    {"Q4_0_4_8", 0, 0},   {"Q4_0_8_8", 0, 0},  {"TQ1_0", 256, 54},  {"TQ2_0", 256, 66},
    {"IQ4_NL_4_4", 0, 0}, {"IQ4_NL_4_8", 0, 0}, {"IQ4_NL_8_8", 0, 0}, {"MXFP4", 32, 17},
    {"NVFP4", 64, 36},    {"Q1_0", 128, 18},   {"Q2_0", 64, 18},
};

#define GG_NTYPES (sizeof ggml_types / sizeof ggml_types[0])

typedef struct gg_name {
  size_t off, len; /* in gg.names */
} gg_name;

typedef struct gg_tensor {
  size_t name;    /* index in gg.tnames_v */
  uint64_t offset, nbytes;
  int sized;      /* nbytes is known */
} gg_tensor;

typedef struct gg {
  mlg_stream *s;
  mlg_err *err;
  mlg_gguf_info *info;
  mlg_issues *issues;
  uint64_t size;
  size_t off, len; /* unread part of buf */
  int be, v1;
  unsigned nissues, over;
  int have_main_template;
  int stopped; /* a fatal issue was reported */
  uint64_t alignment;
  mlg_buf names;          /* bytes of every key and tensor name kept */
  gg_name *keys_v, *tnames_v;
  size_t nkeys, ntnames;
  mlg_strtab keys, tnames;
  gg_tensor *tensors;
  size_t ntensors;
  char tmp[GG_MAX_KEY + 1]; /* the key or name being read */
  unsigned char buf[GG_BUF];
} gg;

static void issue(gg *g, const char *code, int64_t off, const char *fmt, ...)
    __attribute__((format(printf, 4, 5)));

static void issue(gg *g, const char *code, int64_t off, const char *fmt, ...)
{
  char msg[1024];
  va_list ap;

  if (g->nissues >= GG_MAX_ISSUES) {
    g->over++;
    return;
  }
  g->nissues++;
  va_start(ap, fmt);
  vsnprintf(msg, sizeof msg, fmt, ap);
  va_end(ap);
  mlg_issue_add(g->issues, code, NULL, off, "%s", msg);
}

/* An issue after which the rest cannot be read; returns GG_END. */
static int fatal(gg *g, const char *code, int64_t off, const char *fmt, ...)
    __attribute__((format(printf, 4, 5)));

static int fatal(gg *g, const char *code, int64_t off, const char *fmt, ...)
{
  char msg[1024];
  va_list ap;

  va_start(ap, fmt);
  vsnprintf(msg, sizeof msg, fmt, ap);
  va_end(ap);
  g->stopped = 1;
  issue(g, code, off, "%s", msg);
  return GG_END;
}

/* --- buffered reading --------------------------------------------------- */

static uint64_t pos(const gg *g)
{
  return g->s->pos - (g->len - g->off);
}

static uint64_t left(const gg *g)
{
  uint64_t p = pos(g);
  if (g->size == UINT64_MAX)
    return UINT64_MAX;
  return p < g->size ? g->size - p : 0;
}

static int need(gg *g, size_t n)
{
  while (g->len - g->off < n) {
    ssize_t r;
    if (g->off) {
      memmove(g->buf, g->buf + g->off, g->len - g->off);
      g->len -= g->off;
      g->off = 0;
    }
    r = mlg_stream_read(g->s, g->buf + g->len, GG_BUF - g->len, g->err);
    if (r < 0)
      return (int)r;
    if (r == 0)
      return GG_END;
    g->len += (size_t)r;
  }
  return 0;
}

static int get(gg *g, void *out, size_t n)
{
  int rc = need(g, n);
  if (rc)
    return rc;
  memcpy(out, g->buf + g->off, n);
  g->off += n;
  return 0;
}

static int u32(gg *g, uint32_t *v)
{
  unsigned char b[4];
  int rc = get(g, b, 4);
  if (rc)
    return rc;
  *v = g->be ? (uint32_t)b[0] << 24 | (uint32_t)b[1] << 16 | (uint32_t)b[2] << 8 | b[3]
             : (uint32_t)b[3] << 24 | (uint32_t)b[2] << 16 | (uint32_t)b[1] << 8 | b[0];
  return 0;
}

static int u64(gg *g, uint64_t *v)
{
  unsigned char b[8];
  int i, rc = get(g, b, 8);
  if (rc)
    return rc;
  *v = 0;
  for (i = 0; i < 8; i++)
    *v = *v << 8 | b[g->be ? i : 7 - i];
  return 0;
}

/* A count or length: 32 bits in v1, 64 bits after. */
static int num(gg *g, uint64_t *v)
{
  uint32_t w;
  int rc;
  if (!g->v1)
    return u64(g, v);
  if ((rc = u32(g, &w)) == 0)
    *v = w;
  return rc;
}

static int skip(gg *g, uint64_t n)
{
  uint64_t have = g->len - g->off;
  int rc;

  if (n <= have) {
    g->off += (size_t)n;
    return 0;
  }
  if (n > left(g))
    return GG_END;
  n -= have;
  g->off = g->len = 0;
  rc = mlg_stream_skip(g->s, n, g->err);
  /* Of unknown size, the stream may simply end first. */
  return rc == MLG_EPARSE && g->size == UINT64_MAX ? GG_END : rc;
}

/* Reads n bytes, keeping the first cap of them in out (NUL-terminated,
 * out has cap + 1 bytes) and skipping the rest. */
static int bytes(gg *g, uint64_t n, char *out, size_t cap)
{
  size_t keep = n < cap ? (size_t)n : cap, done = 0;
  int rc;

  if (n > left(g))
    return GG_END;
  while (done < keep) {
    size_t chunk = keep - done < GG_BUF ? keep - done : GG_BUF;
    if ((rc = need(g, chunk)) != 0)
      return rc;
    memcpy(out + done, g->buf + g->off, chunk);
    g->off += chunk;
    done += chunk;
  }
  out[keep] = '\0';
  return skip(g, n - keep);
}

/* --- names kept for duplicate checks ------------------------------------- */

typedef struct gg_eqctx {
  const gg *g;
  const gg_name *v;
} gg_eqctx;

static int entry_eq(const void *ctx, size_t val, const char *s, size_t len)
{
  const gg_eqctx *c = ctx;
  const gg_name *e = &c->v[val];
  return e->len == len && memcmp(c->g->names.ptr + e->off, s, len) == 0;
}

/* Adds (s, len) to a name set and sets *idx to its entry: 1 when it was
 * there already, 0 when added, negative when out of memory or past the
 * limit (MLG_ELIMIT). */
static int remember(gg *g, mlg_strtab *t, gg_name **v, size_t *n, const char *s, size_t len,
                    size_t *idx)
{
  gg_eqctx c = {g, *v};
  uint64_t h = mlg_strtab_hash(s, len);
  gg_name *nv;

  if ((*idx = mlg_strtab_find(t, h, s, len, entry_eq, &c)) != MLG_STRTAB_NONE)
    return 1;
  if (*n >= GG_MAX_ENTRIES || g->names.len + len > GG_MAX_NAME_BYTES)
    return MLG_ELIMIT;
  if ((*n & (*n - 1)) == 0) { /* grow at powers of two */
    nv = realloc(*v, (*n ? *n * 2 : 16) * sizeof *nv);
    if (!nv)
      return MLG_ENOMEM;
    *v = nv;
  }
  if (mlg_buf_put(&g->names, s, len) != 0)
    return MLG_ENOMEM;
  (*v)[*n].off = g->names.len - len;
  (*v)[*n].len = len;
  if (mlg_strtab_add(t, h, *n) != 0)
    return MLG_ENOMEM;
  *idx = (*n)++;
  return 0;
}

/* --- values --------------------------------------------------------------- */

static void quote(char *buf, const char *s, size_t len)
{
  mlg_utf8_quote(buf, GG_QUOTE, s, len);
}

static int truncated(gg *g, const char *what, const char *q)
{
  return fatal(g, "gguf-out-of-bounds", (int64_t)pos(g), "%s%s%s%s runs past the end of the file",
               what, q ? " '" : "", q ? q : "", q ? "'" : "");
}

/* Skips one value of type t (an array's elements when depth > 0). */
static int value(gg *g, uint32_t t, unsigned depth, const char *kq)
{
  uint64_t n, i;
  uint32_t et;
  int rc;

  if (t >= T_COUNT)
    return fatal(g, "gguf-malformed", (int64_t)pos(g) - 4, "key '%s' has unknown value type %u", kq,
                 t);
  if (type_sizes[t]) {
    if ((rc = skip(g, type_sizes[t])) != 0)
      return rc == GG_END ? truncated(g, "value of key", kq) : rc;
    return 0;
  }
  if (t == T_STR) {
    if ((rc = num(g, &n)) != 0)
      return rc == GG_END ? truncated(g, "value of key", kq) : rc;
    if (n > left(g))
      return fatal(g, "gguf-out-of-bounds", (int64_t)pos(g),
                   "string of %llu bytes in key '%s' runs past the end of the file",
                   (unsigned long long)n, kq);
    return skip(g, n);
  }
  /* array */
  if (depth >= GG_MAX_DEPTH)
    return fatal(g, "gguf-malformed", (int64_t)pos(g),
                 "arrays in key '%s' are nested more than %d deep", kq, GG_MAX_DEPTH);
  if ((rc = u32(g, &et)) != 0 || (rc = num(g, &n)) != 0)
    return rc == GG_END ? truncated(g, "array of key", kq) : rc;
  if (et >= T_COUNT)
    return fatal(g, "gguf-malformed", (int64_t)pos(g),
                 "array in key '%s' has unknown element type %u", kq, et);
  {
    /* Smallest encoding of one element: a length for strings, a type and
     * a count for arrays. */
    uint64_t min = type_sizes[et] ? type_sizes[et] : et == T_STR ? (g->v1 ? 4 : 8)
                                                                 : (g->v1 ? 8 : 12);
    if (n > left(g) / min || (type_sizes[et] && n > UINT64_MAX / type_sizes[et]))
      return fatal(g, "gguf-out-of-bounds", (int64_t)pos(g),
                   "array of %llu %s elements in key '%s' cannot fit in the rest of the file",
                   (unsigned long long)n, type_names[et], kq);
    if (type_sizes[et])
      return skip(g, n * type_sizes[et]);
  }
  for (i = 0; i < n; i++) {
    if ((rc = value(g, et, depth + 1, kq)) != 0)
      return rc;
  }
  return 0;
}

/* A string value to keep (chat template, architecture). */
static int keep_string(gg *g, char **out, size_t cap, uint64_t *len, uint64_t *at,
                       const char *kq)
{
  uint64_t n;
  char *p;
  int rc;

  if ((rc = num(g, &n)) != 0)
    return rc == GG_END ? truncated(g, "value of key", kq) : rc;
  if (n > left(g))
    return fatal(g, "gguf-out-of-bounds", (int64_t)pos(g),
                 "string of %llu bytes in key '%s' runs past the end of the file",
                 (unsigned long long)n, kq);
  if (len)
    *len = n;
  if (at)
    *at = pos(g);
  if (!(p = malloc((n < cap ? (size_t)n : cap) + 1)))
    return mlg_err_set(g->err, MLG_ENOMEM, "out of memory reading GGUF metadata");
  if ((rc = bytes(g, n, p, cap)) != 0) {
    free(p);
    return rc;
  }
  free(*out);
  *out = p;
  return 0;
}

static int is_template_key(const char *k, size_t n, int *main)
{
  static const char t[] = "tokenizer.chat_template";
  size_t tl = sizeof t - 1;
  *main = n == tl && memcmp(k, t, tl) == 0;
  return *main || (n > tl + 1 && memcmp(k, t, tl) == 0 && k[tl] == '.');
}

#define GG_MAX_TEMPLATES 32

/* Takes text; the name is the key's suffix after "tokenizer.chat_template." */
static int add_template(mlg_gguf_info *in, const char *key, size_t klen, int main_t, char *text)
{
  size_t pre = sizeof "tokenizer.chat_template" - 1;
  char **names = realloc(in->template_names, (in->ntemplates + 1) * sizeof *names);
  char **texts;
  if (!names)
    return MLG_ENOMEM;
  in->template_names = names;
  texts = realloc(in->templates, (in->ntemplates + 1) * sizeof *texts);
  if (!texts)
    return MLG_ENOMEM;
  in->templates = texts;
  names[in->ntemplates] = main_t ? strdup("") : strndup(key + pre + 1, klen - pre - 1);
  if (!names[in->ntemplates])
    return MLG_ENOMEM;
  texts[in->ntemplates++] = text;
  return 0;
}

static int keyvalue(gg *g, uint64_t nth)
{
  char *key = g->tmp, kq[GG_QUOTE];
  uint64_t klen, kat = pos(g);
  uint32_t t;
  int rc, main_t;
  size_t kept, idx;

  if ((rc = num(g, &klen)) != 0)
    return rc == GG_END ? truncated(g, "key/value pair", NULL) : rc;
  if (klen > left(g))
    return fatal(g, "gguf-out-of-bounds", (int64_t)kat,
                 "key %llu has a length of %llu bytes, past the end of the file",
                 (unsigned long long)nth, (unsigned long long)klen);
  if ((rc = bytes(g, klen, key, GG_MAX_KEY)) != 0)
    return rc == GG_END ? truncated(g, "key", NULL) : rc;
  kept = klen < GG_MAX_KEY ? (size_t)klen : GG_MAX_KEY;
  quote(kq, key, kept);
  if (klen == 0)
    issue(g, "gguf-malformed", (int64_t)kat, "key %llu is empty", (unsigned long long)nth);
  else if (klen > GG_MAX_KEY)
    issue(g, "gguf-malformed", (int64_t)kat, "key '%s' is %llu bytes long (at most %d)", kq,
          (unsigned long long)klen, GG_MAX_KEY);
  rc = remember(g, &g->keys, &g->keys_v, &g->nkeys, key, kept, &idx);
  if (rc == 1)
    issue(g, "gguf-duplicate-key", (int64_t)kat,
          "key '%s' appears more than once; readers disagree on which value counts", kq);
  else if (rc == MLG_ENOMEM)
    return mlg_err_set(g->err, MLG_ENOMEM, "out of memory reading GGUF metadata");
  else if (rc == MLG_ELIMIT) {
    return fatal(g, "gguf-malformed", (int64_t)kat,
                 "metadata exceeds the scanner's limits; the rest was not checked");
  }

  if ((rc = u32(g, &t)) != 0)
    return rc == GG_END ? truncated(g, "value of key", kq) : rc;

  if (is_template_key(key, kept, &main_t)) {
    if (t != T_STR) {
      issue(g, "gguf-malformed", (int64_t)kat, "key '%s' is a %s, not a string", kq,
            t < T_COUNT ? type_names[t] : "value of unknown type");
      return value(g, t, 0, kq);
    }
    {
      /* every template is kept (a named one is rendered too); the main one,
       * else the first, is also chat_template */
      char *text = NULL;
      uint64_t len = 0, at = 0;
      mlg_gguf_info *in = g->info;
      if (in->ntemplates >= GG_MAX_TEMPLATES)
        return value(g, t, 0, kq);
      if ((rc = keep_string(g, &text, GG_TEMPLATE_CAP, &len, &at, kq)) != 0)
        return rc;
      if (add_template(in, key, kept, main_t, text) != 0) {
        free(text);
        return mlg_err_set(g->err, MLG_ENOMEM, "out of memory reading GGUF metadata");
      }
      if (main_t ? !g->have_main_template : !in->chat_template) {
        free(in->chat_template);
        in->chat_template = strdup(text);
        in->chat_template_len = len;
        in->chat_template_offset = at;
        if (!in->chat_template)
          return mlg_err_set(g->err, MLG_ENOMEM, "out of memory reading GGUF metadata");
        if (main_t)
          g->have_main_template = 1;
      }
      return 0;
    }
  }
  if (kept == 20 && memcmp(key, "general.architecture", 20) == 0 && t == T_STR &&
      !g->info->architecture)
    return keep_string(g, &g->info->architecture, GG_ARCH_CAP, NULL, NULL, kq);
  if (kept == 17 && memcmp(key, "general.alignment", 17) == 0) {
    uint32_t a;
    if (t != T_U32) {
      issue(g, "gguf-malformed", (int64_t)kat, "general.alignment is a %s, not a uint32",
            t < T_COUNT ? type_names[t] : "value of unknown type");
      return value(g, t, 0, kq);
    }
    if ((rc = u32(g, &a)) != 0)
      return rc == GG_END ? truncated(g, "value of key", kq) : rc;
    if (a == 0 || (a & (a - 1)) != 0)
      issue(g, "gguf-malformed", (int64_t)pos(g) - 4,
            "general.alignment %u is not a power of two", a);
    else
      g->alignment = a;
    return 0;
  }
  return value(g, t, 0, kq);
}

/* --- tensor infos ---------------------------------------------------------- */

static int tensor_info(gg *g, uint64_t nth)
{
  char *name = g->tmp, nq[GG_QUOTE];
  uint64_t nlen, at = pos(g), ne[4] = {1, 1, 1, 1}, offset, nbytes = 0;
  uint32_t ndims, type, i;
  size_t kept, idx;
  int rc, sized = 1;
  gg_tensor *t, *nt;

  if ((rc = num(g, &nlen)) != 0)
    return rc == GG_END ? truncated(g, "tensor info", NULL) : rc;
  if (nlen > left(g))
    return fatal(g, "gguf-out-of-bounds", (int64_t)at,
                 "tensor %llu has a name of %llu bytes, past the end of the file",
                 (unsigned long long)nth, (unsigned long long)nlen);
  if ((rc = bytes(g, nlen, name, GG_MAX_KEY)) != 0)
    return rc == GG_END ? truncated(g, "tensor name", NULL) : rc;
  kept = nlen < GG_MAX_KEY ? (size_t)nlen : GG_MAX_KEY;
  quote(nq, name, kept);
  if (nlen > GG_MAX_NAME)
    issue(g, "gguf-malformed", (int64_t)at, "tensor name '%s' is %llu bytes long (at most %d)",
          nq, (unsigned long long)nlen, GG_MAX_NAME);
  rc = remember(g, &g->tnames, &g->tnames_v, &g->ntnames, name, kept, &idx);
  if (rc == 1) {
    issue(g, "gguf-duplicate-key", (int64_t)at, "tensor name '%s' appears more than once", nq);
  } else if (rc == MLG_ENOMEM) {
    return mlg_err_set(g->err, MLG_ENOMEM, "out of memory reading GGUF tensor infos");
  } else if (rc == MLG_ELIMIT) {
    return fatal(g, "gguf-malformed", (int64_t)at,
                 "tensor infos exceed the scanner's limits; the rest was not checked");
  }

  if ((rc = u32(g, &ndims)) != 0)
    return rc == GG_END ? truncated(g, "tensor", nq) : rc;
  if (ndims > 4)
    return fatal(g, "gguf-malformed", (int64_t)pos(g) - 4,
                 "tensor '%s' has %u dimensions (at most 4)", nq, ndims);
  for (i = 0; i < ndims; i++) {
    if ((rc = num(g, &ne[i])) != 0)
      return rc == GG_END ? truncated(g, "tensor", nq) : rc;
    if (ne[i] > (uint64_t)INT64_MAX) {
      issue(g, "gguf-malformed", (int64_t)pos(g) - 8, "tensor '%s' has a negative dimension",
            nq);
      sized = 0;
    }
  }
  if ((rc = u32(g, &type)) != 0 || (rc = u64(g, &offset)) != 0)
    return rc == GG_END ? truncated(g, "tensor", nq) : rc;

  if (sized && ne[0] && ne[1] && ne[2] && ne[3] &&
      ((uint64_t)INT64_MAX / ne[1] <= ne[0] || (uint64_t)INT64_MAX / ne[2] <= ne[0] * ne[1] ||
       (uint64_t)INT64_MAX / ne[3] <= ne[0] * ne[1] * ne[2])) {
    issue(g, "gguf-malformed", (int64_t)at, "tensor '%s' has too many elements for int64", nq);
    sized = 0;
  }
  if (type >= GG_NTYPES || ggml_types[type].blck == 0) {
    issue(g, "gguf-malformed", (int64_t)at, "tensor '%s' has unknown or unsupported ggml type %u",
          nq, type);
    sized = 0;
  } else if (sized) {
    const gg_ggml *gt = &ggml_types[type];
    if (ne[0] % gt->blck) {
      issue(g, "gguf-malformed", (int64_t)at,
            "tensor '%s' of type %s has %llu elements per row, not a multiple of its block "
            "size %u",
            nq, gt->name, (unsigned long long)ne[0], gt->blck);
      sized = 0;
    } else if (ne[0] && ne[1] && ne[2] && ne[3]) {
      /* ggml_nbytes of a contiguous tensor; 0 when a dimension is 0. */
      uint64_t rows = ne[1] * ne[2] * ne[3], row = ne[0] / gt->blck * gt->size;
      if (ne[0] / gt->blck > UINT64_MAX / gt->size || (rows && row > UINT64_MAX / rows)) {
        issue(g, "gguf-malformed", (int64_t)at, "tensor '%s' has a byte size past 64 bits", nq);
        sized = 0;
      } else {
        nbytes = row * rows;
      }
    }
  }
  if ((g->ntensors & (g->ntensors - 1)) == 0) {
    nt = realloc(g->tensors, (g->ntensors ? g->ntensors * 2 : 16) * sizeof *nt);
    if (!nt)
      return mlg_err_set(g->err, MLG_ENOMEM, "out of memory reading GGUF tensor infos");
    g->tensors = nt;
  }
  t = &g->tensors[g->ntensors++];
  t->name = idx;
  t->offset = offset;
  t->nbytes = nbytes;
  t->sized = sized;
  return 0;
}

/* Data layout: llama.cpp wants tensor i at the sum of the aligned sizes
 * of tensors 0..i-1, and mmaps each one from the file. */
static void check_layout(gg *g)
{
  uint64_t p = pos(g), start, expected = 0;
  size_t i;
  char nq[GG_QUOTE];

  if (!g->ntensors)
    return;
  if (p > UINT64_MAX - (g->alignment - 1)) {
    issue(g, "gguf-out-of-bounds", (int64_t)-1, "tensor data would start past 2^64");
    return;
  }
  start = (p + g->alignment - 1) & ~(g->alignment - 1);
  if (g->size != UINT64_MAX && start > g->size) {
    issue(g, "gguf-out-of-bounds", (int64_t)p,
          "tensor data would start at offset %llu, past the end of the file (%llu bytes)",
          (unsigned long long)start, (unsigned long long)g->size);
    return;
  }
  for (i = 0; i < g->ntensors; i++) {
    const gg_tensor *t = &g->tensors[i];
    uint64_t padded;

    int64_t at = t->offset > (uint64_t)INT64_MAX - start ? -1 : (int64_t)(start + t->offset);
    quote(nq, g->names.ptr + g->tnames_v[t->name].off, g->tnames_v[t->name].len);
    if (t->offset % g->alignment)
      issue(g, "gguf-malformed", at,
            "tensor '%s' has data offset %llu, not a multiple of the alignment %llu", nq,
            (unsigned long long)t->offset, (unsigned long long)g->alignment);
    else if (t->offset != expected)
      issue(g, "gguf-malformed", at,
            "tensor '%s' has data offset %llu, expected %llu (tensors must follow each other "
            "in order, %s)",
            nq, (unsigned long long)t->offset, (unsigned long long)expected,
            t->offset > expected ? "leaving a gap" : "overlapping");
    if (!t->sized)
      break; /* the following offsets cannot be predicted */
    if (t->offset > UINT64_MAX - start || t->nbytes > UINT64_MAX - start - t->offset ||
        (g->size != UINT64_MAX && start + t->offset + t->nbytes > g->size))
      issue(g, "gguf-tensor-out-of-bounds", at,
            "tensor '%s' (%llu bytes at data offset %llu) extends past the end of the file",
            nq, (unsigned long long)t->nbytes, (unsigned long long)t->offset);
    padded = t->nbytes > UINT64_MAX - (g->alignment - 1)
                 ? 0
                 : (t->nbytes + g->alignment - 1) & ~(g->alignment - 1);
    if (t->offset > UINT64_MAX - padded || (!padded && t->nbytes))
      break;
    expected = t->offset + padded;
  }
}

/* --- entry point ------------------------------------------------------------ */

static int header(gg *g)
{
  unsigned char magic[4];
  uint32_t v;
  uint64_t i, min;
  int rc;

  if ((rc = get(g, magic, 4)) != 0 || (rc = u32(g, &v)) != 0)
    return rc == GG_END ? truncated(g, "header", NULL) : rc;
  if (memcmp(magic, "GGUF", 4) != 0)
    return fatal(g, "gguf-malformed", 0, "file does not start with the GGUF magic");
  if (v < 1 || v > 3) {
    uint32_t sw = (v >> 24) | ((v >> 8) & 0xff00) | ((v << 8) & 0xff0000) | (v << 24);
    if (sw < 1 || sw > 3)
      return fatal(g, "gguf-bad-version", 4, "GGUF version %u is not one of 1, 2 or 3", v);
    g->be = 1;
    v = sw;
  }
  g->info->version = v;
  g->v1 = v == 1;
  if ((rc = num(g, &g->info->ntensors)) != 0 || (rc = num(g, &g->info->nkv)) != 0)
    return rc == GG_END ? truncated(g, "header", NULL) : rc;

  /* Smallest key/value: a length, a type, one value byte; smallest
   * tensor info: a length, ndims, type, offset (names may be empty, which
   * is reported, not assumed away). */
  min = (g->v1 ? 4 : 8) + 4 + 1;
  if (g->info->nkv > left(g) / min)
    return fatal(g, "gguf-out-of-bounds", 8 + (g->v1 ? 4 : 8),
                 "header claims %llu key/value pairs, more than the rest of the file can hold",
                 (unsigned long long)g->info->nkv);
  min = (g->v1 ? 4 : 8) + 4 + 4 + 8;
  if (g->info->ntensors > left(g) / min)
    return fatal(g, "gguf-out-of-bounds", 8,
                 "header claims %llu tensors, more than the rest of the file can hold",
                 (unsigned long long)g->info->ntensors);
  for (i = 0; i < g->info->nkv; i++) {
    if ((rc = keyvalue(g, i)) != 0)
      return rc;
  }
  for (i = 0; i < g->info->ntensors; i++) {
    if ((rc = tensor_info(g, i)) != 0)
      return rc;
  }
  check_layout(g);
  return 0;
}

int mlg_gguf_check(mlg_gguf_info *info, mlg_stream *s, uint64_t size, mlg_issues *issues,
                   mlg_err *err)
{
  gg *g;
  int rc;

  memset(info, 0, sizeof *info);
  if (!(g = calloc(1, sizeof *g)))
    return mlg_err_set(err, MLG_ENOMEM, "out of memory checking a GGUF file");
  g->s = s;
  g->err = err;
  g->info = info;
  g->issues = issues;
  g->size = size != UINT64_MAX && s->pos <= size ? size : UINT64_MAX;
  g->alignment = 32; /* GGUF_DEFAULT_ALIGNMENT */
  mlg_strtab_init(&g->keys);
  mlg_strtab_init(&g->tnames);

  rc = header(g);
  if (rc == GG_END) {
    if (!g->stopped)
      issue(g, "gguf-out-of-bounds", (int64_t)pos(g),
            "the file ends at offset %llu, before the data its header describes",
            (unsigned long long)pos(g));
    rc = 0;
  }
  if (g->over)
    mlg_issue_add(issues, "gguf-malformed", NULL, -1,
                  "%u further problems in this GGUF file were not listed", g->over);
  if (rc < 0)
    mlg_gguf_info_free(info);
  mlg_strtab_free(&g->keys);
  mlg_strtab_free(&g->tnames);
  mlg_buf_free(&g->names);
  free(g->keys_v);
  free(g->tnames_v);
  free(g->tensors);
  free(g);
  return rc;
}

void mlg_gguf_info_free(mlg_gguf_info *info)
{
  if (!info)
    return;
  free(info->architecture);
  {
    size_t i;
    for (i = 0; i < info->ntemplates; i++) {
      free(info->template_names[i]);
      free(info->templates[i]);
    }
    free(info->template_names);
    free(info->templates);
    info->template_names = info->templates = NULL;
    info->ntemplates = 0;
  }
  free(info->chat_template);
  info->architecture = NULL;
  info->chat_template = NULL;
}
