#include "modelscan.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "arch.h"
#include "buf.h"
#include "gguf.h"
#include "h5.h"
#include "keras.h"
#include "npy.h"
#include "onnx.h"
#include "safetensors.h"
#include "stream_z.h"
#include "zipx.h"

#define HEAD 4096
#define MAX_CONFIG ((size_t)16 << 20)   /* keras config.json, h5 model_config */
#define LEGACY_PICKLES 5                /* magic, protocol, sys_info, object, storage keys */
#define NESTED_MAX ((size_t)64 << 20)   /* an archive inside an archive is read into memory */
#define SELF_REF_MAX 16                 /* self-insertions beyond legitimate cycles */

/* torch does not check CRCs: read what torch reads, report the mismatch */
static const mlg_zip_limits ZIP_LIMITS = {0, 0, 0, 1};

/* torch.save's legacy (pre-1.6) stream starts with the pickled magic number
 * 0x1950a86a20f9469cfc6c: PROTO 2, LONG1 of 10 bytes. */
static const unsigned char TORCH_MAGIC[] = {0x80, 0x02, 0x8a, 0x0a, 0x6c, 0xfc, 0x9c,
                                            0x46, 0xf9, 0x20, 0x6a, 0xa8, 0x50, 0x19};

typedef struct scanner {
  mlg_model_report *r;
  mlg_model_opts o;
  mlg_err *err;
  int fatal; /* set when the scan cannot go on (memory, I/O) */
} scanner;

static const char *const format_names[MLG_MF_COUNT] = {
  "unknown", "pickle",      "pytorch-zip", "pytorch-legacy", "pytorch-tar", "npy",
  "npz",     "joblib",      "keras",       "keras-h5",       "safetensors", "gguf",
  "onnx",    "zip",         "tar",         "7z",             "compressed"};

const char *mlg_model_format_name(mlg_model_format f)
{
  return (unsigned)f < MLG_MF_COUNT ? format_names[f] : "unknown";
}

/* --- report building -------------------------------------------------------- */

static void oom(scanner *sc)
{
  if (!sc->fatal)
    sc->fatal = mlg_err_set(sc->err, MLG_ENOMEM, "out of memory while scanning");
}

static char *join_member(const char *prefix, const char *name)
{
  mlg_buf b = MLG_BUF_INIT;
  if (prefix && *prefix)
    mlg_buf_printf(&b, "%s/%s", prefix, name);
  else
    mlg_buf_puts(&b, name ? name : "");
  return mlg_buf_detach(&b);
}

static void add_member(scanner *sc, const char *name, mlg_model_format f, uint64_t size)
{
  mlg_model_report *r = sc->r;
  mlg_model_member *m;
  if (r->nmembers >= 100000)
    return;
  m = realloc(r->members, (r->nmembers + 1) * sizeof *m);
  if (!m)
    return oom(sc);
  r->members = m;
  m = &r->members[r->nmembers];
  m->name = strdup(name);
  m->format = f;
  m->size = size;
  if (!m->name)
    return oom(sc);
  r->nmembers++;
}

/* Issues from a sub-analyser, their members placed under prefix. */
static void merge_issues(scanner *sc, mlg_issues *from, const char *prefix)
{
  size_t i;
  for (i = 0; i < from->len; i++) {
    const mlg_issue *it = &from->items[i];
    char *m = it->member ? join_member(prefix, it->member)
                         : prefix && *prefix ? strdup(prefix) : NULL;
    mlg_issue_add(&sc->r->issues, it->code, m, it->offset, "%s", it->message);
    free(m);
  }
  sc->r->issues.dropped += from->dropped;
}

static void add_imports(scanner *sc, mlg_pickle_report *pr, const char *member)
{
  mlg_model_report *r = sc->r;
  size_t i;
  mlg_model_import *v;

  if (!pr->nimports)
    return;
  v = realloc(r->imports, (r->nimports + pr->nimports) * sizeof *v);
  if (!v)
    return oom(sc);
  r->imports = v;
  for (i = 0; i < pr->nimports; i++) {
    mlg_model_import *mi = &r->imports[r->nimports];
    mi->imp = pr->imports[i];
    /* ownership of the strings moves to the report */
    pr->imports[i].module = pr->imports[i].name = NULL;
    mi->member = member ? strdup(member) : NULL;
    mi->cls = mlg_model_classify(mi->imp.module ? mi->imp.module : "?",
                                 mi->imp.name ? mi->imp.name : "?");
    r->nimports++;
  }
}

/* A dotted Python identifier, as an importable module or attribute path. */
static int dotted_identifier(const char *s)
{
  int start = 1;
  if (!s || !*s)
    return 0;
  for (; *s; s++) {
    int alpha = (*s >= 'a' && *s <= 'z') || (*s >= 'A' && *s <= 'Z') || *s == '_' ||
                (unsigned char)*s >= 0x80;
    int digit = *s >= '0' && *s <= '9';
    if (*s == '.') {
      if (start)
        return 0;
      start = 1;
    } else if (alpha || (digit && !start)) {
      start = 0;
    } else {
      return 0;
    }
  }
  return !start;
}

/* Imports a loader could actually perform: text that merely starts with
 * an opcode byte yields "imports" like "lass ReLU(Module):" that no
 * find_class resolves. */
static size_t plausible_imports(const mlg_pickle_report *pr)
{
  size_t i, n = 0;
  for (i = 0; i < pr->nimports; i++)
    n += !pr->imports[i].resolved ||
         (dotted_identifier(pr->imports[i].module) && dotted_identifier(pr->imports[i].name));
  return n;
}

/* Scans one pickle stream (or a sequence of them) and records imports and
 * problems. trailing_ok: bytes after the pickles are expected (legacy torch
 * storage data). maybe: the bytes were only guessed to be a protocol 0/1
 * pickle; when the scan finds neither an import nor a complete pickle (text
 * that happens to start with an opcode byte), nothing is recorded and 0 is
 * returned. keep (may be NULL) gets the pickle report, imports moved out. */
static int scan_pickles(scanner *sc, mlg_stream *s, const char *member, int first_only,
                        int trailing_ok, int maybe, mlg_pickle_report *keep)
{
  mlg_pickle_report pr;
  mlg_pickle_opts po = sc->o.pickle;
  mlg_err e;
  int rc;

  po.first_only = first_only;
  memset(&pr, 0, sizeof pr);
  rc = mlg_pickle_scan(&pr, s, &po, &e);
  if (maybe && !plausible_imports(&pr) && (pr.error || !pr.npickles)) {
    mlg_pickle_report_free(&pr);
    if (keep)
      memset(keep, 0, sizeof *keep);
    return 0;
  }
  if (rc != 0) {
    if (e.code == MLG_ENOMEM)
      oom(sc);
    else
      mlg_issue_add(&sc->r->issues, "pickle-unreadable", member, -1, "%s", e.msg);
  }
  sc->r->pickles += pr.npickles;
  add_imports(sc, &pr, member);
  if (pr.error == MLG_ELIMIT)
    mlg_issue_add(&sc->r->issues, "pickle-limit", member, (int64_t)pr.error_offset,
                  "pickle scan stopped at a limit: %s", pr.error_msg);
  else if (pr.error)
    mlg_issue_add(&sc->r->issues, "pickle-malformed", member, (int64_t)pr.error_offset,
                  "malformed or truncated pickle: %s", pr.error_msg);
  if (pr.trailing_garbage && !trailing_ok)
    mlg_issue_add(&sc->r->issues, "pickle-trailing-data", member, (int64_t)pr.bytes,
                  "data follows the last pickle; loaders that read further would see it");
  if (pr.dropped_imports)
    mlg_issue_add(&sc->r->issues, "pickle-limit", member, -1,
                  "%zu more imports were not recorded", pr.dropped_imports);
  if (pr.self_refs >= SELF_REF_MAX)
    mlg_issue_add(&sc->r->issues, "pickle-expansion", member, -1,
                  "containers are inserted into themselves %llu times, building a "
                  "self-referencing structure whose traversal, printing or copying explodes",
                  (unsigned long long)pr.self_refs);
  if (pr.stack_residue)
    mlg_issue_add(&sc->r->issues, "pickle-stack-residue", member, -1,
                  "%u values are left on the unpickler's stack under the returned object, so "
                  "what they built while loading is hidden from the caller (no pickler writes "
                  "this)", pr.stack_residue);
  if (keep)
    *keep = pr;
  else
    mlg_pickle_report_free(&pr);
  return 1;
}

/* --- sniffing ----------------------------------------------------------------- */

typedef enum sniffed {
  SN_UNKNOWN = 0,
  SN_PICKLE,       /* protocol 2-5 header */
  SN_PICKLE_MAYBE, /* could be protocol 0/1: decided by scanning */
  SN_TORCH_LEGACY,
  SN_ZIP,
  SN_TAR,
  SN_7Z,
  SN_NPY,
  SN_SAFETENSORS,
  SN_GGUF,
  SN_H5,
  SN_ONNX,
  SN_ZLIB,
  SN_GZIP,
  SN_JOBLIB_ZF,
  SN_OTHER_COMPRESSED /* xz, bz2, lz4: through libarchive */
} sniffed;

static sniffed sniff(const unsigned char *h, size_t n, uint64_t size)
{
  static const char p01[] = "(]})cNILFSVKJMUXTGdlt";
  if (n >= sizeof TORCH_MAGIC && memcmp(h, TORCH_MAGIC, sizeof TORCH_MAGIC) == 0)
    return SN_TORCH_LEGACY;
  if (n >= 2 && h[0] == 0x80 && h[1] >= 2 && h[1] <= 5)
    return SN_PICKLE;
  if (mlg_zip_sniff(h, n))
    return SN_ZIP;
  if (n >= 6 && memcmp(h, "\x93NUMPY", 6) == 0)
    return SN_NPY;
  if (n >= 4 && memcmp(h, "GGUF", 4) == 0)
    return SN_GGUF;
  if (mlg_h5_sniff(h, n))
    return SN_H5;
  switch (mlg_arch_sniff(h, n)) {
  case MLG_ARCH_TAR: return SN_TAR;
  case MLG_ARCH_7Z: return SN_7Z;
  default: break;
  }
  if (n >= 2 && h[0] == 0x1f && h[1] == 0x8b)
    return SN_GZIP;
  if (n >= 2 && h[0] == 'Z' && h[1] == 'F')
    return SN_JOBLIB_ZF;
  if (n >= 2 && h[0] == 0x78 && (h[1] == 0x01 || h[1] == 0x5e || h[1] == 0x9c || h[1] == 0xda))
    return SN_ZLIB;
  if ((n >= 6 && memcmp(h, "\xfd" "7zXZ\0", 6) == 0) || (n >= 3 && memcmp(h, "BZh", 3) == 0) ||
      (n >= 4 && memcmp(h, "\x04\x22\x4d\x18", 4) == 0))
    return SN_OTHER_COMPRESSED;
  if (mlg_safetensors_sniff(h, n, size))
    return SN_SAFETENSORS;
  /* a safetensors-shaped start with an impossible header length is still
   * a (broken) safetensors file, not "unknown" */
  if (n >= 9 && h[8] == '{')
    return SN_SAFETENSORS;
  if (mlg_onnx_sniff(h, n))
    return SN_ONNX;
  if (n >= 1 && h[0] && strchr(p01, h[0]))
    return SN_PICKLE_MAYBE;
  if (n >= 2 && h[0] == 0x80 && h[1] <= 1) /* PROTO 0/1 is legal, if rare */
    return SN_PICKLE_MAYBE;
  return SN_UNKNOWN;
}

/* --- members (non-seekable streams) --------------------------------------------- */

static void scan_zip(scanner *sc, mlg_zip *z, const char *prefix, unsigned depth, int top);
static void scan_nested_archive(scanner *sc, mlg_stream *s, int kind, const char *member,
                                unsigned depth);

static void scan_stream(scanner *sc, mlg_stream *s, uint64_t size, const char *member,
                        unsigned depth, int cautious);

static void read_config(scanner *sc, mlg_stream *s, const char *member)
{
  mlg_buf b = MLG_BUF_INIT;
  char chunk[65536];
  mlg_err e;
  ssize_t n;
  mlg_issues is = {0};

  while ((n = mlg_stream_read(s, chunk, sizeof chunk, &e)) > 0) {
    if (b.len + (size_t)n > MAX_CONFIG) {
      mlg_issue_add(&sc->r->issues, "keras-bad-config", member, -1,
                    "model configuration larger than %zu bytes was not checked", MAX_CONFIG);
      mlg_buf_free(&b);
      return;
    }
    if (mlg_buf_put(&b, chunk, (size_t)n) != 0) {
      mlg_buf_free(&b);
      return oom(sc);
    }
  }
  if (n < 0) {
    mlg_issue_add(&sc->r->issues, "member-unreadable", member, -1, "%s", e.msg);
  } else if (mlg_keras_config_check(b.ptr ? b.ptr : "", b.len, member, &is, &e) != 0 &&
             e.code == MLG_ENOMEM) {
    oom(sc);
  }
  merge_issues(sc, &is, NULL);
  mlg_issues_free(&is);
  mlg_buf_free(&b);
}

static void check_format(scanner *sc, sniffed kind, mlg_stream *s, uint64_t size,
                         const char *member)
{
  mlg_issues is = {0};
  mlg_err e;
  int rc = 0;

  if (kind == SN_SAFETENSORS) {
    mlg_safetensors_info info;
    rc = mlg_safetensors_check(&info, s, size, &is, &e);
  } else if (kind == SN_GGUF) {
    mlg_gguf_info info;
    memset(&info, 0, sizeof info);
    rc = mlg_gguf_check(&info, s, size, &is, &e);
    if (rc == 0 && info.chat_template && !sc->r->chat_template) {
      sc->r->chat_template = info.chat_template;
      info.chat_template = NULL;
    }
    if (rc == 0 && info.ntemplates && !sc->r->ntemplates) {
      sc->r->templates = info.templates;
      sc->r->template_names = info.template_names;
      sc->r->ntemplates = info.ntemplates;
      info.templates = info.template_names = NULL;
      info.ntemplates = 0;
    }
    mlg_gguf_info_free(&info);
  } else if (kind == SN_ONNX) {
    mlg_onnx_info info;
    memset(&info, 0, sizeof info);
    rc = mlg_onnx_check(&info, s, size, &is, &e);
    if (rc == 0 && info.nexternal && !sc->r->external) {
      sc->r->external = info.external;
      sc->r->nexternal = info.nexternal;
      info.external = NULL;
      info.nexternal = 0;
    }
    mlg_onnx_info_free(&info);
  }
  if (rc != 0) {
    if (e.code == MLG_ENOMEM)
      oom(sc);
    else
      mlg_issue_add(&is, "member-unreadable", NULL, -1, "%s", e.msg);
  }
  merge_issues(sc, &is, member);
  mlg_issues_free(&is);
}

static void scan_npy(scanner *sc, mlg_stream *s, uint64_t size, const char *member)
{
  mlg_npy_info info;
  mlg_issues is = {0};
  mlg_err e;

  memset(&info, 0, sizeof info);
  if (mlg_npy_header(&info, s, size, &is, &e) != 0) {
    if (e.code == MLG_ENOMEM)
      oom(sc);
    else if (!is.len)
      mlg_issue_add(&is, "npy-malformed", NULL, -1, "%s", e.msg);
  } else if (info.object_dtype) {
    /* an object array is stored as a pickle right after the header */
    scan_pickles(sc, s, member, 0, 0, 0, NULL);
  }
  merge_issues(sc, &is, member);
  mlg_issues_free(&is);
  mlg_npy_info_free(&info);
}

static void scan_compressed(scanner *sc, mlg_stream *s, sniffed kind, const char *member,
                            unsigned depth)
{
  mlg_stream z;
  mlg_err e;
  uint64_t cap = sc->o.max_member_bytes;

  if (kind == SN_OTHER_COMPRESSED) {
    /* xz, bzip2, lz4, zstd (joblib offers all): libarchive's raw reader
     * hands the decompressed stream over as one member */
    scan_nested_archive(sc, s, SN_OTHER_COMPRESSED, member, depth);
    return;
  }
  if (kind == SN_JOBLIB_ZF) {
    /* joblib < 0.10: "ZF", the uncompressed length as 0x-prefixed hex padded to 18
     * characters, then a zlib stream */
    char skip[20];
    if (mlg_stream_read_full(s, skip, 20, &e) != 0) {
      mlg_issue_add(&sc->r->issues, "member-unreadable", member, 0, "%s", e.msg);
      return;
    }
  }
  if (mlg_stream_inflate(&z, s, kind == SN_GZIP ? MLG_Z_GZIP : MLG_Z_ZLIB, cap, &e) != 0)
    return oom(sc);
  scan_stream(sc, &z, UINT64_MAX, member, depth + 1, 0);
  mlg_stream_close(&z);
}

/* Routes a stream by its first bytes. cautious: the bytes are most likely
 * raw data (tensor storage); a pickle header there counts only when the
 * scan finds an importable name or a complete pickle. */
static void scan_stream(scanner *sc, mlg_stream *s, uint64_t size, const char *member,
                        unsigned depth, int cautious)
{
  unsigned char head[HEAD];
  size_t n = 0;
  mlg_stream p;
  mlg_err e;
  sniffed kind;

  if (sc->fatal)
    return;
  if (depth > sc->o.max_depth) {
    mlg_issue_add(&sc->r->issues, "nested-too-deep", member, -1,
                  "containers nested more than %u levels deep were not scanned",
                  sc->o.max_depth);
    return;
  }
  while (n < sizeof head) {
    ssize_t r = mlg_stream_read(s, head + n, sizeof head - n, &e);
    if (r < 0) {
      mlg_issue_add(&sc->r->issues, "member-unreadable", member, (int64_t)n, "%s", e.msg);
      return;
    }
    if (r == 0)
      break;
    n += (size_t)r;
  }
  kind = sniff(head, n, size);
  if (kind == SN_UNKNOWN)
    return;
  if (cautious && kind != SN_PICKLE && kind != SN_PICKLE_MAYBE && kind != SN_TORCH_LEGACY)
    return; /* storage bytes that happen to look like some format */
  if (mlg_stream_prefixed(&p, s, head, n, &e) != 0)
    return oom(sc);
  switch (kind) {
  case SN_PICKLE:
  case SN_TORCH_LEGACY: /* inside an archive: its trailing storage data is expected */
  case SN_PICKLE_MAYBE:
    scan_pickles(sc, &p, member, 0, kind == SN_TORCH_LEGACY,
                 cautious || kind == SN_PICKLE_MAYBE, NULL);
    break;
  case SN_NPY:
    scan_npy(sc, &p, size, member);
    break;
  case SN_SAFETENSORS:
  case SN_GGUF:
  case SN_ONNX:
    check_format(sc, kind, &p, size, member);
    break;
  case SN_ZLIB:
  case SN_GZIP:
  case SN_JOBLIB_ZF:
  case SN_OTHER_COMPRESSED:
    scan_compressed(sc, &p, kind, member, depth);
    break;
  case SN_ZIP:
  case SN_TAR:
  case SN_7Z:
    scan_nested_archive(sc, &p, kind, member, depth);
    break;
  case SN_H5:
    /* HDF5 inside a .keras archive holds weights only; the configuration
     * is config.json. */
    break;
  default:
    break;
  }
  mlg_stream_close(&p);
}

/* --- zip ------------------------------------------------------------------------ */

static int ends_with(const char *s, const char *suffix)
{
  size_t a = strlen(s), b = strlen(suffix);
  return a >= b && strcmp(s + a - b, suffix) == 0;
}

static const char *base_name(const char *s)
{
  const char *slash = strrchr(s, '/');
  return slash ? slash + 1 : s;
}

static mlg_model_format zip_kind(const mlg_zip *z)
{
  size_t i, npy = 0, files = 0;
  int torch = 0, config = 0, keras_meta = 0;
  for (i = 0; i < z->nentries; i++) {
    const char *nm = z->entries[i].name;
    if (ends_with(nm, "/"))
      continue;
    files++;
    if (strcmp(base_name(nm), "data.pkl") == 0 || strcmp(base_name(nm), "constants.pkl") == 0)
      torch = 1;
    if (ends_with(nm, ".npy"))
      npy++;
    if (strcmp(nm, "config.json") == 0)
      config = 1;
    if (strcmp(nm, "metadata.json") == 0 || strcmp(nm, "model.weights.h5") == 0)
      keras_meta = 1;
  }
  if (torch)
    return MLG_MF_TORCH_ZIP;
  if (config && keras_meta)
    return MLG_MF_KERAS;
  if (files && npy == files)
    return MLG_MF_NPZ;
  return MLG_MF_ZIP;
}

/* A PyTorch storage member ("<root>/data/<key>"): raw tensor bytes that
 * torch never unpickles. */
static int torch_storage(const char *name)
{
  const char *slash = strchr(name, '/');
  return slash && strncmp(slash, "/data/", 6) == 0 && !strchr(slash + 6, '/');
}

static void scan_zip(scanner *sc, mlg_zip *z, const char *prefix, unsigned depth, int top)
{
  mlg_model_format kind = zip_kind(z);
  size_t i;

  if (top)
    sc->r->format = kind;
  merge_issues(sc, &z->issues, prefix);
  mlg_issues_free(&z->issues);
  for (i = 0; i < z->nentries && !sc->fatal; i++) {
    const mlg_zip_entry *en = &z->entries[i];
    char *member;
    mlg_stream s;
    mlg_err e;
    size_t before = z->issues.len;

    if (ends_with(en->name, "/"))
      continue;
    member = join_member(prefix, en->name);
    if (!member)
      return oom(sc);
    add_member(sc, member, MLG_MF_UNKNOWN, en->usize);
    if (kind == MLG_MF_KERAS && ends_with(en->name, ".py")) {
      mlg_issue_add(&sc->r->issues, "keras-python-file", member, (int64_t)en->local_offset,
                    "the Keras archive carries Python source, which custom-object loading "
                    "can import");
    }
    if (en->encrypted || (en->method != 0 && en->method != 8)) {
      free(member); /* zipx reported it: zip-encrypted / zip-unsupported-method */
      continue;
    }
    if (en->usize > sc->o.max_member_bytes) {
      mlg_issue_add(&sc->r->issues, "member-too-large", member, (int64_t)en->local_offset,
                    "member of %llu bytes is over the scan limit and was not checked",
                    (unsigned long long)en->usize);
      free(member);
      continue;
    }
    if (mlg_zip_member(&s, z, i, &e) != 0) {
      mlg_issue_add(&sc->r->issues, "member-unreadable", member, (int64_t)en->local_offset,
                    "%s", e.msg);
      free(member);
      continue;
    }
    if (kind == MLG_MF_KERAS && strcmp(en->name, "config.json") == 0)
      read_config(sc, &s, member);
    else
      scan_stream(sc, &s, en->usize, member, depth + 1,
                  kind == MLG_MF_TORCH_ZIP && torch_storage(en->name));
    mlg_stream_close(&s);
    /* CRC and bomb findings surface while reading */
    if (z->issues.len > before) {
      mlg_issues tail = {z->issues.items + before, z->issues.len - before, 0, 0};
      merge_issues(sc, &tail, prefix);
    }
    free(member);
  }
  mlg_issues_free(&z->issues);
}

/* --- tar / 7z ---------------------------------------------------------------------- */

typedef struct arch_ctx {
  scanner *sc;
  unsigned depth;
  int legacy;         /* a legacy torch tar (sys_info, pickle, storages, tensors) */
  const char *prefix; /* member path of a nested archive, or NULL */
} arch_ctx;

static int arch_member(void *ud, const char *name, uint64_t size, mlg_stream *s)
{
  arch_ctx *a = ud;
  char *member = join_member(a->prefix, name);
  if (!member) {
    oom(a->sc);
    return a->sc->fatal;
  }
  add_member(a->sc, member, MLG_MF_UNKNOWN, size);
  if (size != UINT64_MAX && size > a->sc->o.max_member_bytes) {
    mlg_issue_add(&a->sc->r->issues, "member-too-large", member, -1,
                  "member of %llu bytes is over the scan limit and was not checked",
                  (unsigned long long)size);
  } else if (a->legacy && strcmp(name, "storages") == 0) {
    /* a count pickle, then per storage an args pickle and raw bytes: the
     * pickles are what the loader unpickles */
    scan_pickles(a->sc, s, member, 0, 1, 0, NULL);
  } else {
    scan_stream(a->sc, s, size, member, a->depth + 1, 0);
  }
  free(member);
  return a->sc->fatal;
}

/* An archive inside an archive: read into memory (bounded) and opened
 * from there, its members named "outer/inner". */
static void scan_nested_archive(scanner *sc, mlg_stream *s, int kind, const char *member,
                                unsigned depth)
{
  mlg_buf b = MLG_BUF_INIT;
  char chunk[65536];
  mlg_issues is = {0};
  mlg_err e;
  ssize_t n;

  if (depth + 1 > sc->o.max_depth) {
    mlg_issue_add(&sc->r->issues, "nested-too-deep", member, -1,
                  "archives nested more than %u levels deep were not scanned",
                  sc->o.max_depth);
    return;
  }
  while ((n = mlg_stream_read(s, chunk, sizeof chunk, &e)) > 0) {
    if (b.len + (size_t)n > NESTED_MAX) {
      mlg_issue_add(&sc->r->issues, "member-too-large", member, -1,
                    "archive nested in an archive is larger than %zu bytes and was not "
                    "scanned; unpack it and scan it", NESTED_MAX);
      mlg_buf_free(&b);
      return;
    }
    if (mlg_buf_put(&b, chunk, (size_t)n) != 0) {
      mlg_buf_free(&b);
      return oom(sc);
    }
  }
  if (n < 0) {
    mlg_issue_add(&sc->r->issues, "member-unreadable", member, -1, "%s", e.msg);
  } else if (kind == SN_ZIP) {
    mlg_zip *z = NULL;
    if (mlg_zip_open_mem(&z, b.ptr ? b.ptr : "", b.len, &ZIP_LIMITS, &e) != 0)
      mlg_issue_add(&sc->r->issues, "zip-malformed", member, 0, "%s", e.msg);
    else
      scan_zip(sc, z, member, depth + 1, 0);
    mlg_zip_close(z);
  } else {
    arch_ctx a = {sc, depth + 1, 0, member};
    if (mlg_arch_each_mem(b.ptr ? b.ptr : "", b.len, NULL, arch_member, &a, &is, &e) != 0 &&
        !sc->fatal && !is.len)
      mlg_issue_add(&is, "arch-malformed", NULL, -1, "%s", e.msg);
    merge_issues(sc, &is, member);
    mlg_issues_free(&is);
  }
  mlg_buf_free(&b);
}

static void scan_archive(scanner *sc, int fd, sniffed kind, int legacy)
{
  arch_ctx a = {sc, 0, legacy, NULL};
  mlg_issues is = {0};
  mlg_err e;

  sc->r->format = legacy ? MLG_MF_TORCH_TAR : kind == SN_7Z ? MLG_MF_7Z : MLG_MF_TAR;
  if (lseek(fd, 0, SEEK_SET) < 0 ||
      (mlg_arch_each(fd, NULL, arch_member, &a, &is, &e) != 0 && !sc->fatal)) {
    if (!is.len)
      mlg_issue_add(&is, "arch-malformed", NULL, -1, "%s", e.msg);
  }
  merge_issues(sc, &is, NULL);
  mlg_issues_free(&is);
}

/* Legacy torch tar checkpoints are tars holding exactly these members. */
static int is_legacy_tar(int fd)
{
  unsigned char h[512];
  ssize_t n = pread(fd, h, sizeof h, 0);
  static const char *const names[] = {"sys_info", "pickle", "storages", "tensors"};
  size_t i;
  if (n != (ssize_t)sizeof h)
    return 0;
  for (i = 0; i < sizeof names / sizeof *names; i++)
    if (strncmp((const char *)h, names[i], 100) == 0)
      return 1;
  return 0;
}

/* --- top level ------------------------------------------------------------------------ */

static int is_joblib(const mlg_model_report *r)
{
  size_t i;
  for (i = 0; i < r->nimports; i++)
    if (r->imports[i].imp.module && strncmp(r->imports[i].imp.module, "joblib", 6) == 0)
      return 1;
  return 0;
}

/* A zip directory at the end of a file that does not start like a zip:
 * Python's zipfile opens it, torch.load and numpy do not. Both readings
 * are scanned. */
static void scan_trailing_zip(scanner *sc, int fd, uint64_t size, const char *what)
{
  mlg_zip *z = NULL;
  mlg_err e;
  if (mlg_zip_open(&z, fd, size, &ZIP_LIMITS, &e) != 0)
    return;
  if (z->nentries) {
    mlg_issue_add(&sc->r->issues, "polyglot", NULL, 0,
                  "the file is both %s and a zip archive: different loaders see different "
                  "content", what);
    scan_zip(sc, z, NULL, 0, 0);
  }
  mlg_zip_close(z);
}

static void scan_legacy_torch(scanner *sc, int fd, uint64_t size)
{
  mlg_stream s;
  sc->r->format = MLG_MF_TORCH_LEGACY;
  /* magic, protocol, sys_info, the object, the storage keys: the raw
   * storage bytes after them are never unpickled */
  mlg_stream_fd(&s, fd, size);
  scan_pickles(sc, &s, NULL, LEGACY_PICKLES, 1, 0, NULL);
}

int mlg_model_scan(mlg_model_report *out, int fd, uint64_t size, const char *name,
                   const mlg_model_opts *opts, mlg_err *err)
{
  scanner sc;
  unsigned char head[HEAD];
  ssize_t n;
  sniffed kind;
  mlg_stream s;

  memset(out, 0, sizeof *out);
  memset(&sc, 0, sizeof sc);
  sc.r = out;
  sc.err = err;
  if (opts)
    sc.o = *opts;
  if (!sc.o.max_depth)
    sc.o.max_depth = 4;
  if (!sc.o.max_member_bytes)
    sc.o.max_member_bytes = (uint64_t)4 << 30;
  out->size = size;
  (void)name;

  do
    n = pread(fd, head, sizeof head, 0);
  while (n < 0 && errno == EINTR);
  if (n < 0)
    return mlg_err_set(err, MLG_EIO, "cannot read: %s", strerror(errno));
  kind = sniff(head, (size_t)n, size);
  if (lseek(fd, 0, SEEK_SET) < 0)
    return mlg_err_set(err, MLG_EIO, "cannot seek: %s", strerror(errno));

  switch (kind) {
  case SN_ZIP: {
    mlg_zip *z = NULL;
    mlg_err e;
    if (mlg_zip_open(&z, fd, size, &ZIP_LIMITS, &e) != 0) {
      out->format = MLG_MF_ZIP;
      mlg_issue_add(&out->issues, "zip-malformed", NULL, 0, "%s", e.msg);
    } else {
      scan_zip(&sc, z, NULL, 0, 1);
    }
    mlg_zip_close(z);
    break;
  }
  case SN_TAR:
  case SN_7Z:
    scan_archive(&sc, fd, kind, kind == SN_TAR && is_legacy_tar(fd));
    break;
  case SN_TORCH_LEGACY:
    scan_legacy_torch(&sc, fd, size);
    break;
  case SN_PICKLE:
  case SN_PICKLE_MAYBE:
    mlg_stream_fd(&s, fd, size);
    if (scan_pickles(&sc, &s, NULL, 0, 0, kind == SN_PICKLE_MAYBE, NULL)) {
      out->format = is_joblib(out) ? MLG_MF_JOBLIB : MLG_MF_PICKLE;
      scan_trailing_zip(&sc, fd, size, "a pickle");
    } else {
      scan_trailing_zip(&sc, fd, size, "a non-archive file");
    }
    break;
  case SN_NPY:
    out->format = MLG_MF_NPY;
    mlg_stream_fd(&s, fd, size);
    scan_npy(&sc, &s, size, NULL);
    break;
  case SN_SAFETENSORS:
  case SN_GGUF:
  case SN_ONNX:
    out->format = kind == SN_SAFETENSORS ? MLG_MF_SAFETENSORS
                  : kind == SN_GGUF      ? MLG_MF_GGUF
                                         : MLG_MF_ONNX;
    mlg_stream_fd(&s, fd, size);
    check_format(&sc, kind, &s, size, NULL);
    break;
  case SN_H5: {
    char *cfg = NULL;
    size_t len = 0;
    mlg_err e;
    int rc = mlg_h5_root_attr(&cfg, &len, fd, "model_config", MAX_CONFIG, &e);
    out->format = MLG_MF_KERAS_H5;
    if (rc == 0) {
      mlg_stream_mem(&s, cfg, len);
      read_config(&sc, &s, NULL);
    } else if (rc != MLG_ENOENT) {
      mlg_issue_add(&out->issues, "unscannable", NULL, -1,
                    "the HDF5 file could not be read: %s", e.msg);
    }
    free(cfg);
    break;
  }
  case SN_OTHER_COMPRESSED: {
    arch_ctx a = {&sc, 0, 0, NULL};
    mlg_issues is = {0};
    mlg_err e;
    out->format = MLG_MF_COMPRESSED;
    if (mlg_arch_each(fd, NULL, arch_member, &a, &is, &e) != 0 && !sc.fatal && !is.len)
      mlg_issue_add(&is, "unscannable-compression", NULL, 0,
                    "the compressed data could not be opened (%s); the content was not checked",
                    e.msg);
    merge_issues(&sc, &is, NULL);
    mlg_issues_free(&is);
    if (is_joblib(out))
      out->format = MLG_MF_JOBLIB;
    break;
  }
  case SN_ZLIB:
  case SN_GZIP:
  case SN_JOBLIB_ZF:
    out->format = MLG_MF_COMPRESSED;
    mlg_stream_fd(&s, fd, size);
    scan_compressed(&sc, &s, kind, NULL, 0);
    if (is_joblib(out))
      out->format = MLG_MF_JOBLIB;
    break;
  default:
    /* Not a model format by its head; a zip directory at the end still
     * makes it an archive to zipfile. */
    scan_trailing_zip(&sc, fd, size, "a non-archive file");
    break;
  }
  if (sc.fatal) {
    mlg_model_report_free(out);
    return sc.fatal;
  }
  return 0;
}

void mlg_model_report_free(mlg_model_report *r)
{
  size_t i;
  if (!r)
    return;
  for (i = 0; i < r->nimports; i++) {
    free(r->imports[i].imp.module);
    free(r->imports[i].imp.name);
    free(r->imports[i].member);
  }
  free(r->imports);
  for (i = 0; i < r->nmembers; i++)
    free(r->members[i].name);
  free(r->members);
  mlg_issues_free(&r->issues);
  free(r->chat_template);
  for (i = 0; i < r->ntemplates; i++) {
    free(r->templates[i]);
    free(r->template_names[i]);
  }
  free(r->templates);
  free(r->template_names);
  for (i = 0; i < r->nexternal; i++)
    free(r->external[i]);
  free(r->external);
  memset(r, 0, sizeof *r);
}
