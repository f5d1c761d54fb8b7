/*
 * tar (plain or gzip/bzip2/xz/lzma/lzip/zstd/lz4/compress-wrapped) and 7z
 * through libarchive's sequential reader.
 *
 * Filters are registered one by one rather than with
 * archive_read_support_filter_all: "all" includes lrzip, lzop and grzip,
 * which libarchive runs as external programs, and we never fork a
 * decompressor on an input chosen by whoever opened a merge request. The
 * raw format is registered too, so a compressed stream that holds no
 * archive (a gzip'd pickle) comes out as one member called "data"; an
 * uncompressed non-archive is still refused as not an archive.
 *
 * Bombs: every byte of member data goes through one counter, whether the
 * callback reads it or we drain what it left (for compressed inputs; plain
 * tar is skipped by seeking, which costs nothing), and the counter is
 * checked against the total and against the compressed bytes libarchive
 * has read so far.
 *
 * torch's legacy tar loader (tarfile) extracts fixed names ("pickle",
 * "storages", "tensors", "sys_info") and resolves a hard or symbolic link
 * to the member it names, and tarfile's getmember takes the last of
 * several members with one name; every regular member is handed to the
 * callback, links and duplicates are reported (arch-link,
 * arch-duplicate-name).
 */
#include "arch.h"

#include <archive.h>
#include <archive_entry.h>
#include <dlfcn.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "utf8.h"

/* libarchive pulls in ICU, libxml2, libstdc++ and a dozen compression
 * libraries: loading it at start-up would cost every mlgate run, while tar
 * and 7z artifacts are rare. It is loaded on first use (children only),
 * each function through a pointer of the exact prototype's type. */
#define ARCHIVE_FUNCS(X) \
  X(archive_entry_filetype) \
  X(archive_entry_hardlink) \
  X(archive_entry_is_encrypted) \
  X(archive_entry_pathname) \
  X(archive_entry_pathname_utf8) \
  X(archive_entry_size) \
  X(archive_entry_size_is_set) \
  X(archive_entry_symlink) \
  X(archive_error_string) \
  X(archive_filter_bytes) \
  X(archive_filter_count) \
  X(archive_format) \
  X(archive_read_data) \
  X(archive_read_free) \
  X(archive_read_has_encrypted_entries) \
  X(archive_read_header_position) \
  X(archive_read_new) \
  X(archive_read_next_header) \
  X(archive_read_open_fd) \
  X(archive_read_open_memory) \
  X(archive_read_support_filter_bzip2) \
  X(archive_read_support_filter_compress) \
  X(archive_read_support_filter_gzip) \
  X(archive_read_support_filter_lz4) \
  X(archive_read_support_filter_lzip) \
  X(archive_read_support_filter_lzma) \
  X(archive_read_support_filter_xz) \
  X(archive_read_support_filter_zstd) \
  X(archive_read_support_format_7zip) \
  X(archive_read_support_format_gnutar) \
  X(archive_read_support_format_raw) \
  X(archive_read_support_format_tar)

#define DECLARE_FN(f) static __typeof__(&f) p_##f;
ARCHIVE_FUNCS(DECLARE_FN)

static void *libarchive;
static int libarchive_failed;

static int load_libarchive(mlg_err *err)
{
  static const char *const names[] = {"libarchive.so.13", "libarchive.so"};
  size_t i;
  if (libarchive)
    return 0;
  if (libarchive_failed)
    return mlg_err_set(err, MLG_EIO, "libarchive (Debian package libarchive13) is not "
                                     "installed: tar and 7z archives cannot be scanned");
  for (i = 0; i < sizeof names / sizeof *names && !libarchive; i++)
    libarchive = dlopen(names[i], RTLD_NOW | RTLD_LOCAL);
  if (!libarchive) {
    libarchive_failed = 1;
    return load_libarchive(err);
  }
#define LOAD_FN(f)                                                                         \
  if (!(*(void **)&p_##f = dlsym(libarchive, #f))) {                                       \
    dlclose(libarchive);                                                                   \
    libarchive = NULL;                                                                     \
    libarchive_failed = 1;                                                                 \
    return mlg_err_set(err, MLG_EIO, "libarchive lacks %s: tar and 7z archives cannot be " \
                                     "scanned", #f);                                       \
  }
  ARCHIVE_FUNCS(LOAD_FN)
  return 0;
}

#define archive_entry_filetype (*p_archive_entry_filetype)
#define archive_entry_hardlink (*p_archive_entry_hardlink)
#define archive_entry_is_encrypted (*p_archive_entry_is_encrypted)
#define archive_entry_pathname (*p_archive_entry_pathname)
#define archive_entry_pathname_utf8 (*p_archive_entry_pathname_utf8)
#define archive_entry_size (*p_archive_entry_size)
#define archive_entry_size_is_set (*p_archive_entry_size_is_set)
#define archive_entry_symlink (*p_archive_entry_symlink)
#define archive_error_string (*p_archive_error_string)
#define archive_filter_bytes (*p_archive_filter_bytes)
#define archive_filter_count (*p_archive_filter_count)
#define archive_format (*p_archive_format)
#define archive_read_data (*p_archive_read_data)
#define archive_read_free (*p_archive_read_free)
#define archive_read_has_encrypted_entries (*p_archive_read_has_encrypted_entries)
#define archive_read_header_position (*p_archive_read_header_position)
#define archive_read_new (*p_archive_read_new)
#define archive_read_next_header (*p_archive_read_next_header)
#define archive_read_open_fd (*p_archive_read_open_fd)
#define archive_read_open_memory (*p_archive_read_open_memory)
#define archive_read_support_filter_bzip2 (*p_archive_read_support_filter_bzip2)
#define archive_read_support_filter_compress (*p_archive_read_support_filter_compress)
#define archive_read_support_filter_gzip (*p_archive_read_support_filter_gzip)
#define archive_read_support_filter_lz4 (*p_archive_read_support_filter_lz4)
#define archive_read_support_filter_lzip (*p_archive_read_support_filter_lzip)
#define archive_read_support_filter_lzma (*p_archive_read_support_filter_lzma)
#define archive_read_support_filter_xz (*p_archive_read_support_filter_xz)
#define archive_read_support_filter_zstd (*p_archive_read_support_filter_zstd)
#define archive_read_support_format_7zip (*p_archive_read_support_format_7zip)
#define archive_read_support_format_gnutar (*p_archive_read_support_format_gnutar)
#define archive_read_support_format_raw (*p_archive_read_support_format_raw)
#define archive_read_support_format_tar (*p_archive_read_support_format_tar)

#define DEF_MAX_ENTRIES 100000
#define DEF_MAX_TOTAL ((uint64_t)64 << 30)
#define DEF_MAX_RATIO 1000
#define RATIO_FLOOR ((uint64_t)1 << 20)
#define MAX_NAME_BYTES ((size_t)16 << 20) /* remembered for duplicate checks */
#define MAX_RETRY 100
#define DRAIN_CHUNK (64u << 10)

typedef struct name_set {
  char **slot;
  size_t cap, len, bytes;
  int full;
} name_set;

typedef struct arch_run {
  struct archive *a;
  mlg_arch_limits lim;
  mlg_issues *issues;
  char *name;        /* current member, escaped */
  int64_t at;        /* its header's offset in the (uncompressed) archive */
  uint64_t produced; /* member bytes decompressed so far */
  int fail;          /* sticky error of the current member stream */
  char failmsg[256];
} arch_run;

static char *escape_name(const char *str)
{
  const unsigned char *s = (const unsigned char *)str;
  size_t n = strlen(str), i = 0;
  char *out = malloc(n * 4 + 1), *o = out;
  static const char hex[] = "0123456789ABCDEF";
  uint32_t cp;

  if (!out)
    return NULL;
  while (i < n) {
    size_t k = 0;
    if (s[i] >= 0x20 && s[i] < 0x7F) {
      *o++ = (char)s[i++];
      continue;
    }
    if (s[i] >= 0x80 && (k = mlg_utf8_decode(s + i, n - i, &cp)) != 0 &&
        !(cp >= 0x80 && cp < 0xA0)) {
      memcpy(o, s + i, k);
      o += k;
      i += k;
      continue;
    }
    *o++ = '\\';
    *o++ = 'x';
    *o++ = hex[s[i] >> 4];
    *o++ = hex[s[i] & 15];
    i++;
  }
  *o = '\0';
  return out;
}

static const char *traversal_reason(const char *str)
{
  const unsigned char *s = (const unsigned char *)str;
  size_t n = strlen(str), i, start = 0;
  if (n && (s[0] == '/' || s[0] == '\\'))
    return "is absolute";
  if (n >= 2 && s[1] == ':' && ((s[0] | 32) >= 'a' && (s[0] | 32) <= 'z'))
    return "starts with a drive letter";
  for (i = 0; i <= n; i++) {
    if (i == n || s[i] == '/' || s[i] == '\\') {
      if (i - start == 2 && s[start] == '.' && s[start + 1] == '.')
        return "has a \"..\" component";
      start = i + 1;
    }
  }
  if (memchr(s, '\\', n))
    return "contains a backslash";
  return NULL;
}

/* --- duplicate names -------------------------------------------------------- */

static uint64_t hash_str(const char *s)
{
  uint64_t h = 1469598103934665603ull;
  while (*s)
    h = (h ^ (unsigned char)*s++) * 1099511628211ull;
  return h;
}

/* 1 when name was already there, 0 when added (or the set is full), -1 on
 * no memory. */
static int name_set_add(name_set *st, const char *name)
{
  size_t i, len = strlen(name);
  if (st->full)
    return 0;
  if (st->bytes + len + 1 > MAX_NAME_BYTES) {
    st->full = 1;
    return 0;
  }
  if ((st->len + 1) * 2 > st->cap) {
    size_t ncap = st->cap ? st->cap * 2 : 64, j;
    char **ns = calloc(ncap, sizeof *ns);
    if (!ns)
      return -1;
    for (j = 0; j < st->cap; j++) {
      if (!st->slot[j])
        continue;
      for (i = hash_str(st->slot[j]) & (ncap - 1); ns[i]; i = (i + 1) & (ncap - 1))
        ;
      ns[i] = st->slot[j];
    }
    free(st->slot);
    st->slot = ns;
    st->cap = ncap;
  }
  for (i = hash_str(name) & (st->cap - 1); st->slot[i]; i = (i + 1) & (st->cap - 1))
    if (strcmp(st->slot[i], name) == 0)
      return 1;
  st->slot[i] = strdup(name);
  if (!st->slot[i])
    return -1;
  st->len++;
  st->bytes += len + 1;
  return 0;
}

static void name_set_free(name_set *st)
{
  size_t i;
  for (i = 0; i < st->cap; i++)
    free(st->slot[i]);
  free(st->slot);
}

/* --- member streams --------------------------------------------------------- */

static int run_limits(arch_run *r, size_t got, mlg_err *err)
{
  uint64_t in = (uint64_t)archive_filter_bytes(r->a, -1);
  r->produced += got;
  if (r->produced > r->lim.max_total) {
    mlg_issue_add(r->issues, "arch-bomb", r->name, r->at,
                  "decompressing past the limit of %llu bytes in total",
                  (unsigned long long)r->lim.max_total);
    r->fail = MLG_ELIMIT;
    snprintf(r->failmsg, sizeof r->failmsg, "over the limit of %llu uncompressed bytes",
             (unsigned long long)r->lim.max_total);
  } else if (r->produced > RATIO_FLOOR && r->produced / r->lim.max_ratio > (in ? in : 1)) {
    mlg_issue_add(r->issues, "arch-bomb", r->name, r->at,
                  "%llu bytes decompressed from %llu (ratio over %llu)",
                  (unsigned long long)r->produced, (unsigned long long)in,
                  (unsigned long long)r->lim.max_ratio);
    r->fail = MLG_ELIMIT;
    snprintf(r->failmsg, sizeof r->failmsg, "compression ratio over %llu",
             (unsigned long long)r->lim.max_ratio);
  }
  if (r->fail)
    return mlg_err_set(err, r->fail, "%s: %s", r->name, r->failmsg);
  return 0;
}

static ssize_t run_read(mlg_stream *s, void *buf, size_t n, mlg_err *err)
{
  arch_run *r = s->ctx;
  la_ssize_t got;

  if (r->fail)
    return mlg_err_set(err, r->fail, "%s: %s", r->name, r->failmsg);
  if (n > (size_t)SSIZE_MAX)
    n = (size_t)SSIZE_MAX;
  got = archive_read_data(r->a, buf, n);
  if (got < 0) {
    const char *msg = archive_error_string(r->a);
    snprintf(r->failmsg, sizeof r->failmsg, "%s", msg ? msg : "corrupt member data");
    mlg_issue_add(r->issues, "arch-malformed", r->name, r->at, "member data: %s", r->failmsg);
    r->fail = MLG_EPARSE;
    return mlg_err_set(err, MLG_EPARSE, "%s: %s", r->name, r->failmsg);
  }
  if (got > 0 && run_limits(r, (size_t)got, err))
    return r->fail;
  return got;
}

/* Reads what the callback left of a compressed member, through the limits. */
static int run_drain(arch_run *r, mlg_err *err)
{
  char *buf = malloc(DRAIN_CHUNK);
  mlg_stream s;
  int rc = 0;

  if (!buf)
    return mlg_err_set(err, MLG_ENOMEM, "out of memory");
  memset(&s, 0, sizeof s);
  s.ctx = r;
  for (;;) {
    ssize_t got = run_read(&s, buf, DRAIN_CHUNK, err);
    if (got < 0) {
      rc = (int)got;
      break;
    }
    if (got == 0)
      break;
  }
  free(buf);
  return rc;
}

/* --- iteration -------------------------------------------------------------- */

static void register_readers(struct archive *a)
{
  archive_read_support_filter_gzip(a);
  archive_read_support_filter_bzip2(a);
  archive_read_support_filter_xz(a);
  archive_read_support_filter_lzma(a);
  archive_read_support_filter_lzip(a);
  archive_read_support_filter_zstd(a);
  archive_read_support_filter_lz4(a);
  archive_read_support_filter_compress(a);
  archive_read_support_format_tar(a);
  archive_read_support_format_gnutar(a);
  archive_read_support_format_7zip(a);
  archive_read_support_format_raw(a);
}

static int is_compressed(struct archive *a)
{
  return archive_filter_count(a) > 1 || archive_format(a) == ARCHIVE_FORMAT_7ZIP;
}

/* One member: issues, then the callback for regular files. Returns 0 to go
 * on, or what ends the iteration (*stop set). */
static int one_entry(arch_run *r, struct archive_entry *ent, name_set *names,
                     mlg_arch_member_fn fn, void *ud, int *stop, mlg_err *err)
{
  const char *raw = archive_entry_pathname(ent);
  const char *why, *link;
  mlg_stream s;
  uint64_t size;
  int rc = 0, dup;

  if (!raw)
    raw = archive_entry_pathname_utf8(ent);
  /* 7z headers live at the end of the file: no position to give. */
  r->at = archive_format(r->a) == ARCHIVE_FORMAT_7ZIP ? -1 : archive_read_header_position(r->a);
  free(r->name);
  r->name = escape_name(raw ? raw : "");
  r->fail = 0;
  if (!r->name)
    return mlg_err_set(err, MLG_ENOMEM, "out of memory");
  why = traversal_reason(raw ? raw : "");
  if (why)
    mlg_issue_add(r->issues, "arch-path-traversal", r->name, r->at, "the name %s", why);
  if (archive_entry_filetype(ent) == AE_IFDIR)
    return 0;
  dup = name_set_add(names, r->name);
  if (dup < 0)
    return mlg_err_set(err, MLG_ENOMEM, "out of memory");
  if (dup)
    mlg_issue_add(r->issues, "arch-duplicate-name", r->name, r->at,
                  "another member has this name (tarfile reads the last one)");
  if ((link = archive_entry_hardlink(ent)) != NULL) {
    char *t = escape_name(link);
    mlg_issue_add(r->issues, "arch-link", r->name, r->at, "hard link to \"%s\"", t ? t : "?");
    free(t);
    /* A plain hard link has no data of its own: the target is scanned
     * under its own name. */
    if (!archive_entry_size_is_set(ent) || archive_entry_size(ent) <= 0)
      return 0;
  } else if (archive_entry_filetype(ent) == AE_IFLNK) {
    const char *target = archive_entry_symlink(ent);
    char *t = escape_name(target ? target : "");
    mlg_issue_add(r->issues, "arch-link", r->name, r->at, "symbolic link to \"%s\"", t ? t : "?");
    free(t);
    return 0;
  }
  /* 7z members without Unix attributes have no file type. */
  if (archive_entry_filetype(ent) != AE_IFREG && archive_entry_filetype(ent) != 0)
    return 0;
  if (archive_entry_is_encrypted(ent)) {
    mlg_issue_add(r->issues, "arch-encrypted", r->name, r->at,
                  "the member is encrypted and cannot be scanned");
    return 0;
  }
  size = archive_entry_size_is_set(ent) && archive_entry_size(ent) >= 0
             ? (uint64_t)archive_entry_size(ent)
             : UINT64_MAX;
  if (size != UINT64_MAX && size > r->lim.max_total)
    mlg_issue_add(r->issues, "arch-bomb", r->name, r->at, "declares %llu bytes (limit %llu)",
                  (unsigned long long)size, (unsigned long long)r->lim.max_total);

  memset(&s, 0, sizeof s);
  s.read = run_read;
  s.ctx = r;
  s.size = size;
  rc = fn(ud, r->name, size, &s);
  if (rc) {
    *stop = 1;
    return rc;
  }
  if (!r->fail && is_compressed(r->a))
    run_drain(r, err);
  if (r->fail) {
    *stop = 1;
    return mlg_err_set(err, r->fail, "%s: %s", r->name, r->failmsg);
  }
  return 0;
}

static int each(int fd, const void *mem, size_t memlen, const mlg_arch_limits *limits,
                mlg_arch_member_fn fn, void *ud, mlg_issues *issues, mlg_err *err);

int mlg_arch_each(int fd, const mlg_arch_limits *limits, mlg_arch_member_fn fn, void *ud,
                  mlg_issues *issues, mlg_err *err)
{
  if (fd < 0)
    return mlg_err_set(err, MLG_EINVAL, "invalid argument");
  return each(fd, NULL, 0, limits, fn, ud, issues, err);
}

int mlg_arch_each_mem(const void *data, size_t len, const mlg_arch_limits *limits,
                      mlg_arch_member_fn fn, void *ud, mlg_issues *issues, mlg_err *err)
{
  if (!data)
    return mlg_err_set(err, MLG_EINVAL, "invalid argument");
  return each(-1, data, len, limits, fn, ud, issues, err);
}

static int each(int fd, const void *mem, size_t memlen, const mlg_arch_limits *limits,
                mlg_arch_member_fn fn, void *ud, mlg_issues *issues, mlg_err *err)
{
  arch_run r;
  name_set names = {0};
  struct archive_entry *ent;
  size_t count = 0;
  int rc = 0, retries = 0, stop = 0;

  if (!fn || !issues)
    return mlg_err_set(err, MLG_EINVAL, "invalid argument");
  if ((rc = load_libarchive(err)) != 0)
    return rc;
  memset(&r, 0, sizeof r);
  if (limits)
    r.lim = *limits;
  if (!r.lim.max_entries)
    r.lim.max_entries = DEF_MAX_ENTRIES;
  if (!r.lim.max_total)
    r.lim.max_total = DEF_MAX_TOTAL;
  if (!r.lim.max_ratio)
    r.lim.max_ratio = DEF_MAX_RATIO;
  r.issues = issues;
  if (!mem && lseek(fd, 0, SEEK_SET) < 0)
    return mlg_err_set(err, MLG_EIO, "cannot seek to the start of the archive");
  r.a = archive_read_new();
  if (!r.a)
    return mlg_err_set(err, MLG_ENOMEM, "out of memory");
  register_readers(r.a);
  if ((mem ? archive_read_open_memory(r.a, mem, memlen)
           : archive_read_open_fd(r.a, fd, 65536)) != ARCHIVE_OK) {
    const char *msg = archive_error_string(r.a);
    rc = mlg_err_set(err, MLG_EPARSE, "not an archive: %s", msg ? msg : "unrecognised data");
    goto done;
  }
  while (!stop) {
    int h = archive_read_next_header(r.a, &ent);
    const char *msg;
    if (h == ARCHIVE_EOF)
      break;
    if (h == ARCHIVE_RETRY && ++retries <= MAX_RETRY)
      continue;
    msg = archive_error_string(r.a);
    if (h == ARCHIVE_WARN) {
      mlg_issue_add(issues, "arch-malformed", NULL, (int64_t)archive_filter_bytes(r.a, 0),
                    "%s", msg ? msg : "malformed header");
    } else if (h != ARCHIVE_OK) {
      if (count == 0 && archive_read_has_encrypted_entries(r.a) > 0) {
        mlg_issue_add(issues, "arch-encrypted", NULL, -1,
                      "the archive is encrypted and cannot be listed or scanned");
        break;
      }
      if (count == 0 && archive_format(r.a) == 0) {
        rc = mlg_err_set(err, MLG_EPARSE, "not an archive: %s", msg ? msg : "unrecognised data");
        goto done;
      }
      mlg_issue_add(issues, "arch-malformed", NULL, (int64_t)archive_filter_bytes(r.a, 0), "%s",
                    msg ? msg : "malformed archive");
      rc = mlg_err_set(err, MLG_EPARSE, "malformed archive after %zu members: %s", count,
                       msg ? msg : "bad header");
      goto done;
    }
    retries = 0;
    if (count == 0 && archive_format(r.a) == ARCHIVE_FORMAT_RAW &&
        archive_filter_count(r.a) <= 1) {
      rc = mlg_err_set(err, MLG_EPARSE, "not an archive: unrecognised data");
      goto done;
    }
    if (++count > r.lim.max_entries) {
      mlg_issue_add(issues, "arch-bomb", NULL, -1, "more than %zu entries", r.lim.max_entries);
      rc = mlg_err_set(err, MLG_ELIMIT, "more than %zu entries", r.lim.max_entries);
      goto done;
    }
    rc = one_entry(&r, ent, &names, fn, ud, &stop, err);
    if (rc && !stop)
      goto done;
  }
done:
  name_set_free(&names);
  free(r.name);
  archive_read_free(r.a);
  return rc;
}

mlg_arch_kind mlg_arch_sniff(const unsigned char *head, size_t len)
{
  static const unsigned char sz[6] = {'7', 'z', 0xBC, 0xAF, 0x27, 0x1C};
  struct archive *a;
  struct archive_entry *ent;
  mlg_arch_kind kind = MLG_ARCH_NONE;
  int compressed;

  if (!head)
    return MLG_ARCH_NONE;
  if (len >= 6 && memcmp(head, sz, 6) == 0)
    return MLG_ARCH_7Z;
  if (len >= 263 && memcmp(head + 257, "ustar", 5) == 0 &&
      (head[262] == 0 || head[262] == ' '))
    return MLG_ARCH_TAR;
  compressed = (len >= 2 && head[0] == 0x1F && head[1] == 0x8B) ||
               (len >= 6 && memcmp(head, "\xFD" "7zXZ\0", 6) == 0) ||
               (len >= 3 && memcmp(head, "BZh", 3) == 0) ||
               (len >= 4 && memcmp(head, "\x28\xB5\x2F\xFD", 4) == 0) ||
               (len >= 4 && memcmp(head, "\x04\x22\x4D\x18", 4) == 0) ||
               (len >= 4 && memcmp(head, "LZIP", 4) == 0) ||
               (len >= 2 && head[0] == 0x1F && head[1] == 0x9D);
  if (!compressed)
    return MLG_ARCH_NONE;
  kind = head[0] == 0x1F && head[1] == 0x8B ? MLG_ARCH_GZIP : MLG_ARCH_OTHER;
  /* Whether the compressed stream holds a tar: decompress the head. */
  if (load_libarchive(NULL) != 0)
    return kind;
  a = archive_read_new();
  if (!a)
    return kind;
  register_readers(a);
  if (archive_read_open_memory(a, head, len) == ARCHIVE_OK &&
      archive_read_next_header(a, &ent) >= ARCHIVE_WARN &&
      (archive_format(a) & ARCHIVE_FORMAT_BASE_MASK) == ARCHIVE_FORMAT_TAR)
    kind = MLG_ARCH_TAR;
  archive_read_free(a);
  return kind;
}
