#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>
#include <zlib.h>

#include "buf.h"
#include "zipx.h"

/* --- byte-level zip assembly ------------------------------------------------ */

static void put16(mlg_buf *b, unsigned v)
{
  unsigned char p[2] = {(unsigned char)v, (unsigned char)(v >> 8)};
  assert_int_equal(mlg_buf_put(b, p, 2), 0);
}

static void put32(mlg_buf *b, uint32_t v)
{
  put16(b, v & 0xFFFF);
  put16(b, v >> 16);
}

static void put64(mlg_buf *b, uint64_t v)
{
  put32(b, (uint32_t)v);
  put32(b, (uint32_t)(v >> 32));
}

static void put(mlg_buf *b, const void *p, size_t n)
{
  if (n)
    assert_int_equal(mlg_buf_put(b, p, n), 0);
}

/* One member as it is written: what the local header and the central entry
 * say, each settable on its own so tests can make them disagree. */
typedef struct zmem {
  const char *name, *lname; /* lname NULL: same as name */
  size_t nlen, lnlen;       /* 0: strlen */
  const void *data;         /* bytes as stored (compressed already) */
  size_t dlen;
  uint16_t method, flags, lflags; /* lflags 0xFFFF: same as flags */
  uint32_t crc, csize, usize;     /* central values */
  int set_lsizes;                  /* local crc/sizes: 1 = same, 0 = zero */
  int descriptor;                  /* write a data descriptor after the data */
  uint64_t lho;                    /* filled in: local header offset */
} zmem;

static size_t name_len(const char *s, size_t n)
{
  return n ? n : strlen(s);
}

static void write_local(mlg_buf *b, zmem *m)
{
  const char *ln = m->lname ? m->lname : m->name;
  size_t lnl = m->lname ? name_len(m->lname, m->lnlen) : name_len(m->name, m->nlen);
  m->lho = b->len;
  put32(b, 0x04034b50);
  put16(b, 20);
  put16(b, m->lflags == 0xFFFF ? m->flags : m->lflags);
  put16(b, m->method);
  put16(b, 0);
  put16(b, 0);
  put32(b, m->set_lsizes ? m->crc : 0);
  put32(b, m->set_lsizes ? m->csize : 0);
  put32(b, m->set_lsizes ? m->usize : 0);
  put16(b, (unsigned)lnl);
  put16(b, 0);
  put(b, ln, lnl);
  put(b, m->data, m->dlen);
  if (m->descriptor) {
    put32(b, 0x08074b50);
    put32(b, m->crc);
    put32(b, m->csize);
    put32(b, m->usize);
  }
}

static void write_central(mlg_buf *b, const zmem *m, uint64_t lho_delta)
{
  size_t nl = name_len(m->name, m->nlen);
  put32(b, 0x02014b50);
  put16(b, 0x031E);
  put16(b, 20);
  put16(b, m->flags);
  put16(b, m->method);
  put16(b, 0);
  put16(b, 0);
  put32(b, m->crc);
  put32(b, m->csize);
  put32(b, m->usize);
  put16(b, (unsigned)nl);
  put16(b, 0);
  put16(b, 0);
  put16(b, 0);
  put16(b, 0);
  put32(b, 0);
  put32(b, (uint32_t)(m->lho - lho_delta));
  put(b, m->name, nl);
}

static void write_eocd(mlg_buf *b, unsigned n, uint32_t cdsize, uint32_t cdoff, const char *comment)
{
  size_t cl = comment ? strlen(comment) : 0;
  put32(b, 0x06054b50);
  put16(b, 0);
  put16(b, 0);
  put16(b, n);
  put16(b, n);
  put32(b, cdsize);
  put32(b, cdoff);
  put16(b, (unsigned)cl);
  put(b, comment, cl);
}

/* A member whose central and local headers agree. */
static zmem stored(const char *name, const char *data)
{
  zmem m;
  memset(&m, 0, sizeof m);
  m.name = name;
  m.data = data;
  m.dlen = strlen(data);
  m.lflags = 0xFFFF;
  m.crc = (uint32_t)crc32(0, (const Bytef *)data, (uInt)m.dlen);
  m.csize = m.usize = (uint32_t)m.dlen;
  m.set_lsizes = 1;
  return m;
}

/* Raw deflate of data into a malloc'd buffer. */
static unsigned char *deflate_raw(const void *data, size_t len, size_t *out_len)
{
  z_stream zs;
  size_t cap = compressBound((uLong)len) + 64;
  unsigned char *out = malloc(cap);
  assert_non_null(out);
  memset(&zs, 0, sizeof zs);
  assert_int_equal(deflateInit2(&zs, 9, Z_DEFLATED, -15, 9, Z_DEFAULT_STRATEGY), Z_OK);
  zs.next_in = (Bytef *)(uintptr_t)data;
  zs.avail_in = (uInt)len;
  zs.next_out = out;
  zs.avail_out = (uInt)cap;
  assert_int_equal(deflate(&zs, Z_FINISH), Z_STREAM_END);
  *out_len = cap - zs.avail_out;
  deflateEnd(&zs);
  return out;
}

static zmem deflated(const char *name, const void *data, size_t len, unsigned char **hold)
{
  zmem m;
  size_t clen;
  memset(&m, 0, sizeof m);
  *hold = deflate_raw(data, len, &clen);
  m.name = name;
  m.data = *hold;
  m.dlen = clen;
  m.method = 8;
  m.lflags = 0xFFFF;
  m.crc = (uint32_t)crc32(0, data, (uInt)len);
  m.csize = (uint32_t)clen;
  m.usize = (uint32_t)len;
  m.set_lsizes = 1;
  return m;
}

/* Writes prefix, the members, their directory and the end record. */
static void build(mlg_buf *b, const char *prefix, zmem *ms, size_t n, int relative)
{
  size_t i, cd;
  uint64_t delta = relative && prefix ? strlen(prefix) : 0;
  if (prefix)
    put(b, prefix, strlen(prefix));
  for (i = 0; i < n; i++)
    write_local(b, &ms[i]);
  cd = b->len;
  for (i = 0; i < n; i++)
    write_central(b, &ms[i], delta);
  write_eocd(b, (unsigned)n, (uint32_t)(b->len - cd), (uint32_t)(cd - delta), NULL);
}

static int memfd_of(const void *data, size_t len)
{
  int fd = memfd_create("test_zipx", MFD_CLOEXEC);
  assert_true(fd >= 0);
  assert_int_equal(write(fd, data, len), (ssize_t)len);
  return fd;
}

typedef struct opened {
  int fd;
  mlg_zip *z;
  mlg_err err;
  int rc;
} opened;

static void open_buf(opened *o, const mlg_buf *b, const mlg_zip_limits *lim)
{
  memset(o, 0, sizeof *o);
  o->fd = memfd_of(b->ptr, b->len);
  o->rc = mlg_zip_open(&o->z, o->fd, b->len, lim, &o->err);
}

static void close_opened(opened *o)
{
  mlg_zip_close(o->z);
  close(o->fd);
}

/* Reads member i into a malloc'd NUL-terminated buffer; returns the last
 * read result (0 at a clean end) and the length in *len. */
static int read_member(mlg_zip *z, size_t i, char **out, size_t *len, mlg_err *err)
{
  mlg_stream s;
  mlg_buf b = MLG_BUF_INIT;
  char chunk[7];
  ssize_t r;
  int rc = mlg_zip_member(&s, z, i, err);
  *out = NULL;
  *len = 0;
  if (rc)
    return rc;
  while ((r = mlg_stream_read(&s, chunk, sizeof chunk, err)) > 0)
    put(&b, chunk, (size_t)r);
  mlg_stream_close(&s);
  put(&b, "", 1);
  *len = b.len - 1;
  *out = mlg_buf_detach(&b);
  return (int)r;
}

/* "code@offset[member]" of every issue, joined by spaces. */
static char *codes(const mlg_issues *l)
{
  mlg_buf b = MLG_BUF_INIT;
  size_t i;
  for (i = 0; i < l->len; i++)
    assert_int_equal(mlg_buf_printf(&b, "%s%s@%lld[%s]", i ? " " : "", l->items[i].code,
                                    (long long)l->items[i].offset,
                                    l->items[i].member ? l->items[i].member : ""), 0);
  put(&b, "", 1);
  return mlg_buf_detach(&b);
}

static void assert_issues(const mlg_zip *z, const char *want)
{
  char *got = codes(&z->issues);
  if (strcmp(got, want) != 0) {
    size_t i;
    for (i = 0; i < z->issues.len; i++)
      print_message("  %s: %s\n", z->issues.items[i].code, z->issues.items[i].message);
  }
  assert_string_equal(got, want);
  free(got);
}

static const char *issue_msg(const mlg_zip *z, const char *code)
{
  size_t i;
  for (i = 0; i < z->issues.len; i++)
    if (strcmp(z->issues.items[i].code, code) == 0)
      return z->issues.items[i].message;
  return "";
}

/* --- tests -------------------------------------------------------------------- */

static void test_stored_and_deflate(void **state)
{
  static const char text[] = "the quick brown fox jumps over the lazy dog, again and again and again";
  unsigned char *hold;
  zmem ms[2];
  mlg_buf b = MLG_BUF_INIT;
  opened o;
  char *data;
  size_t len;

  ms[0] = stored("archive/data.pkl", "\x80\x02}q\x01.");
  ms[1] = deflated("archive/notes.txt", text, strlen(text), &hold);
  build(&b, NULL, ms, 2, 0);
  open_buf(&o, &b, NULL);
  assert_int_equal(o.rc, 0);
  assert_int_equal(o.z->nentries, 2);
  assert_string_equal(o.z->entries[0].name, "archive/data.pkl");
  assert_null(o.z->entries[0].local_name);
  assert_int_equal(o.z->entries[0].local_offset, 0);
  assert_int_equal(o.z->entries[0].data_offset, 30 + 16);
  assert_int_equal(o.z->entries[0].csize, 6);
  assert_int_equal(o.z->entries[1].method, 8);
  assert_int_equal(o.z->entries[1].usize, strlen(text));
  assert_int_equal(o.z->entries[1].local_offset, 30 + 16 + 6);
  assert_issues(o.z, "");
  assert_int_equal(read_member(o.z, 0, &data, &len, &o.err), 0);
  assert_int_equal(len, 6);
  assert_memory_equal(data, "\x80\x02}q\x01.", 6);
  free(data);
  assert_int_equal(read_member(o.z, 1, &data, &len, &o.err), 0);
  assert_string_equal(data, text);
  free(data);
  /* Out of range, and the limits' defaults. */
  assert_int_equal(mlg_zip_member(&(mlg_stream){0}, o.z, 2, &o.err), MLG_EINVAL);
  assert_string_equal(o.err.msg, "no member 2 (the archive has 2)");
  assert_int_equal(o.z->limits.max_entries, 100000);
  assert_int_equal(o.z->limits.max_ratio, 1000);
  assert_true(o.z->limits.max_total == (uint64_t)64 << 30);
  close_opened(&o);
  free(hold);
  mlg_buf_free(&b);
}

static void test_not_a_zip(void **state)
{
  mlg_buf b = MLG_BUF_INIT;
  opened o;
  put(&b, "PK\3\4", 4);
  open_buf(&o, &b, NULL);
  assert_int_equal(o.rc, MLG_EPARSE);
  assert_string_equal(o.err.msg, "not a zip file: 4 bytes is too short");
  assert_null(o.z);
  close(o.fd);
  mlg_buf_clear(&b);
  put(&b, "this is not a zip file, only some text of some length", 53);
  open_buf(&o, &b, NULL);
  assert_int_equal(o.rc, MLG_EPARSE);
  assert_string_equal(o.err.msg, "not a zip file: no end of central directory record");
  close(o.fd);
  /* A directory that claims more bytes than precede the end record. */
  mlg_buf_clear(&b);
  write_eocd(&b, 1, 100, 0, NULL);
  open_buf(&o, &b, NULL);
  assert_int_equal(o.rc, MLG_EPARSE);
  assert_string_equal(o.err.msg,
                      "bad central directory: 100 bytes do not fit before the end record at offset 0");
  close(o.fd);
  /* A signature too close to the end, as zipfile sees it. */
  mlg_buf_clear(&b);
  put(&b, "xxxxxxxxxxxxxxxxxxxxxxxxxPK\5\6\0\0", 31);
  open_buf(&o, &b, NULL);
  assert_int_equal(o.rc, MLG_EPARSE);
  assert_string_equal(o.err.msg,
                      "not a zip file: truncated end of central directory record at offset 25");
  close(o.fd);
  assert_int_equal(mlg_zip_open(NULL, 0, 0, NULL, NULL), MLG_EINVAL);
  mlg_zip_close(NULL);
  mlg_buf_free(&b);
}

static void test_empty_and_comment(void **state)
{
  mlg_buf b = MLG_BUF_INIT;
  opened o;
  zmem m = stored("a", "A");

  write_eocd(&b, 0, 0, 0, NULL);
  open_buf(&o, &b, NULL);
  assert_int_equal(o.rc, 0);
  assert_int_equal(o.z->nentries, 0);
  assert_issues(o.z, "");
  close_opened(&o);

  /* A comment holding an end signature: zipfile takes the last one, and
   * so do we; here the fake one is too short, so the archive fails the
   * way it fails in zipfile. A comment without one is fine. */
  mlg_buf_clear(&b);
  write_local(&b, &m);
  write_central(&b, &m, 0);
  write_eocd(&b, 1, 46 + 1, 31 + 1, "an archive comment");
  open_buf(&o, &b, NULL);
  assert_int_equal(o.rc, 0);
  assert_int_equal(o.z->nentries, 1);
  assert_issues(o.z, "");
  close_opened(&o);

  /* Bytes after the comment: zipfile ignores them, we say so. */
  put(&b, "TRAILER", 7);
  open_buf(&o, &b, NULL);
  assert_int_equal(o.rc, 0);
  assert_issues(o.z, "zip-malformed@119[]");
  assert_string_equal(issue_msg(o.z, "zip-malformed"),
                      "7 bytes follow the end of central directory record");
  close_opened(&o);
  mlg_buf_free(&b);
}

static void test_name_mismatch(void **state)
{
  mlg_buf b = MLG_BUF_INIT;
  opened o;
  zmem m[2];
  char *data;
  size_t len;

  m[0] = stored("archive/data.pkl", "PICKLE");
  m[0].lname = "archive/xxxx.pkl";
  m[1] = stored("archive/version", "3\n");
  m[1].lname = "../../etc/passwd";
  build(&b, NULL, m, 2, 0);
  open_buf(&o, &b, NULL);
  assert_int_equal(o.rc, 0);
  assert_string_equal(o.z->entries[0].local_name, "archive/xxxx.pkl");
  assert_string_equal(o.z->entries[1].local_name, "../../etc/passwd");
  assert_issues(o.z, "zip-name-mismatch@0[archive/data.pkl] zip-name-mismatch@52[archive/version] "
                     "zip-path-traversal@52[archive/version]");
  assert_string_equal(o.z->issues.items[0].message,
                      "the local header names it \"archive/xxxx.pkl\" (zipfile refuses it; torch "
                      "reads it by the central name)");
  assert_string_equal(o.z->issues.items[2].message,
                      "the local header name \"../../etc/passwd\" has a \"..\" component");
  /* Data is found after the local name, whatever its length. */
  assert_int_equal(read_member(o.z, 0, &data, &len, &o.err), 0);
  assert_string_equal(data, "PICKLE");
  free(data);
  close_opened(&o);
  mlg_buf_free(&b);
}

static void test_duplicates(void **state)
{
  mlg_buf b = MLG_BUF_INIT;
  opened o;
  zmem m[5];
  char *data;
  size_t len;

  m[0] = stored("archive/data.pkl", "FIRST");
  m[1] = stored("archive/data.pkl", "SECOND");
  m[2] = stored("archive/DATA.PKL", "THIRD");
  m[3] = stored("x.pkl", "X");
  m[4] = stored("x.pkl\0hidden", "Y");
  m[4].nlen = 12;
  build(&b, NULL, m, 5, 0);
  open_buf(&o, &b, NULL);
  assert_int_equal(o.rc, 0);
  assert_int_equal(o.z->nentries, 5);
  assert_string_equal(o.z->entries[4].name, "x.pkl\\x00hidden");
  assert_issues(o.z, "zip-path-traversal@470[x.pkl\\x00hidden] "
                     "zip-duplicate-name@51[archive/data.pkl] "
                     "zip-duplicate-name@103[archive/DATA.PKL] "
                     "zip-duplicate-name@190[x.pkl\\x00hidden]");
  assert_string_equal(o.z->issues.items[0].message, "the name contains a NUL byte");
  assert_string_equal(o.z->issues.items[1].message,
                      "also at offset 0 (zipfile reads the last one, torch may read either)");
  assert_string_equal(o.z->issues.items[2].message,
                      "same name as \"archive/data.pkl\" for torch (case-insensitive lookup) or "
                      "zipfile (names cut at NUL)");
  /* Both copies stay readable. */
  assert_int_equal(read_member(o.z, 0, &data, &len, &o.err), 0);
  assert_string_equal(data, "FIRST");
  free(data);
  assert_int_equal(read_member(o.z, 1, &data, &len, &o.err), 0);
  assert_string_equal(data, "SECOND");
  free(data);
  close_opened(&o);
  mlg_buf_free(&b);
}

static void test_traversal(void **state)
{
  mlg_buf b = MLG_BUF_INIT;
  opened o;
  zmem m[6];
  size_t i;
  static const char *const want[] = {
      "the name has a \"..\" component", "the name is absolute", "the name contains a backslash",
      "the name starts with a drive letter", "the name is absolute"};

  m[0] = stored("a/../../b", "1");
  m[1] = stored("/etc/cron.d/x", "2");
  m[2] = stored("dir\\file", "3");
  m[3] = stored("C:evil", "4");
  m[4] = stored("\\\\server\\share", "5");
  m[5] = stored("fine/..name/x..", "6");
  build(&b, NULL, m, 6, 0);
  open_buf(&o, &b, NULL);
  assert_int_equal(o.rc, 0);
  assert_int_equal(o.z->issues.len, 5);
  for (i = 0; i < 5; i++) {
    assert_string_equal(o.z->issues.items[i].code, "zip-path-traversal");
    assert_string_equal(o.z->issues.items[i].member, o.z->entries[i].name);
    assert_string_equal(o.z->issues.items[i].message, want[i]);
  }
  assert_string_equal(o.z->entries[2].name, "dir\\file");
  close_opened(&o);
  mlg_buf_free(&b);
}

static void test_flags_and_encryption(void **state)
{
  mlg_buf b = MLG_BUF_INIT;
  opened o;
  zmem m[5];
  char *data;
  size_t len;

  /* Flag bit 0 on a stored member with no room for an encryption header
   * (picklescan's CVE-2025-1945 samples): plaintext. */
  m[0] = stored("fake.pkl", "PLAIN");
  m[0].flags = 0x1;
  /* Really encrypted: 12 header bytes more than the plaintext. */
  m[1] = stored("real.txt", "123456789012ciphertext");
  m[1].flags = 0x1;
  m[1].usize = 10;
  m[2] = stored("patch.pkl", "PATCH");
  m[2].flags = 0x20;
  m[3] = stored("local.pkl", "LOCAL");
  m[3].lflags = 0x41;
  m[4] = stored("masked", "M");
  m[4].flags = 0x2000 | 0x0800;
  build(&b, NULL, m, 5, 0);
  open_buf(&o, &b, NULL);
  assert_int_equal(o.rc, 0);
  assert_false(o.z->entries[0].encrypted);
  assert_true(o.z->entries[1].encrypted);
  assert_issues(o.z, "zip-flag-bits@0[fake.pkl] zip-encrypted@43[real.txt] "
                     "zip-flag-bits@103[patch.pkl] zip-flag-bits@147[local.pkl] "
                     "zip-flag-bits@191[masked]");
  assert_string_equal(o.z->issues.items[0].message,
                      "flags 0x0001 say encrypted but the member is stored with no room for an "
                      "encryption header: its bytes are plaintext (scanned; zipfile and torch "
                      "refuse to read it)");
  assert_string_equal(o.z->issues.items[2].message,
                      "unusual general-purpose flags 0x0020; bit 5 (patch data): zipfile and torch "
                      "refuse to read it");
  assert_string_equal(o.z->issues.items[3].message,
                      "local flags 0x0041 differ from central flags 0x0000 (readers use the "
                      "central ones)");
  assert_string_equal(o.z->issues.items[4].message,
                      "unusual general-purpose flags 0x2800; bit 13 (masked headers): torch "
                      "refuses the archive");
  assert_int_equal(read_member(o.z, 0, &data, &len, &o.err), 0);
  assert_string_equal(data, "PLAIN");
  free(data);
  assert_int_equal(read_member(o.z, 1, &data, &len, &o.err), MLG_EINVAL);
  assert_string_equal(o.err.msg, "real.txt: the member is encrypted");
  assert_int_equal(read_member(o.z, 2, &data, &len, &o.err), 0);
  assert_string_equal(data, "PATCH");
  free(data);
  close_opened(&o);
  mlg_buf_free(&b);
}

static void test_unsupported_method(void **state)
{
  mlg_buf b = MLG_BUF_INIT;
  opened o;
  zmem m[2];
  char *data;
  size_t len;

  m[0] = stored("a.bz2", "BZh91AY&SY");
  m[0].method = 12;
  m[1] = stored("aes", "xxxxxxxxxxxx");
  m[1].method = 99;
  m[1].flags = 1;
  build(&b, NULL, m, 2, 0);
  open_buf(&o, &b, NULL);
  assert_int_equal(o.rc, 0);
  assert_issues(o.z, "zip-unsupported-method@0[a.bz2] zip-encrypted@45[aes]");
  assert_string_equal(o.z->issues.items[0].message,
                      "compression method 12 (bzip2) is not supported: the member cannot be "
                      "scanned");
  assert_int_equal(read_member(o.z, 0, &data, &len, &o.err), MLG_EINVAL);
  assert_string_equal(o.err.msg, "a.bz2: compression method 12 (bzip2) is not supported");
  /* Method 99 is WinZip AES: encrypted whatever the sizes say. */
  assert_true(o.z->entries[1].encrypted);
  assert_int_equal(read_member(o.z, 1, &data, &len, &o.err), MLG_EINVAL);
  close_opened(&o);
  mlg_buf_free(&b);
}

static void test_bad_crc(void **state)
{
  mlg_buf b = MLG_BUF_INIT;
  opened o;
  zmem m = stored("data.pkl", "PAYLOAD");
  unsigned char *hold;
  zmem d;
  char *data;
  size_t len;

  m.crc ^= 1;
  build(&b, NULL, &m, 1, 0);
  open_buf(&o, &b, NULL);
  assert_int_equal(o.rc, 0);
  assert_issues(o.z, "");
  /* Every byte is delivered before the error: torch would load them. */
  assert_int_equal(read_member(o.z, 0, &data, &len, &o.err), MLG_EPARSE);
  assert_int_equal(len, 7);
  assert_string_equal(data, "PAYLOAD");
  free(data);
  assert_string_equal(o.err.msg, "data.pkl: CRC-32 mismatch (7d69940f, expected 7d69940e)");
  assert_issues(o.z, "zip-bad-crc@38[data.pkl]");
  close_opened(&o);

  mlg_buf_clear(&b);
  d = deflated("d", "deflated payload", 16, &hold);
  d.crc = 0xDEADBEEF;
  build(&b, NULL, &d, 1, 0);
  open_buf(&o, &b, NULL);
  assert_int_equal(read_member(o.z, 0, &data, &len, &o.err), MLG_EPARSE);
  assert_string_equal(data, "deflated payload");
  free(data);
  assert_issues(o.z, "zip-bad-crc@31[d]");
  close_opened(&o);
  free(hold);
  mlg_buf_free(&b);
}

static void test_data_descriptor(void **state)
{
  static const char text[] = "streamed member with a descriptor";
  mlg_buf b = MLG_BUF_INIT;
  opened o;
  unsigned char *hold;
  zmem m[2];
  char *data;
  size_t len;

  m[0] = deflated("dd.pkl", text, strlen(text), &hold);
  m[0].flags = 0x8;
  m[0].set_lsizes = 0;
  m[0].descriptor = 1;
  m[1] = stored("after", "AFTER");
  build(&b, NULL, m, 2, 0);
  open_buf(&o, &b, NULL);
  assert_int_equal(o.rc, 0);
  assert_issues(o.z, "");
  assert_int_equal(o.z->entries[1].local_offset, 30 + 6 + m[0].dlen + 16);
  assert_int_equal(read_member(o.z, 0, &data, &len, &o.err), 0);
  assert_string_equal(data, text);
  free(data);
  close_opened(&o);

  /* A descriptor that disagrees with the directory. */
  mlg_buf_clear(&b);
  m[0].descriptor = 0;
  build(&b, NULL, m, 2, 0);
  {
    /* Patch the bytes after member 0's data into a lying descriptor. */
    mlg_buf fixed = MLG_BUF_INIT;
    size_t cut = 30 + 6 + m[0].dlen;
    put(&fixed, b.ptr, cut);
    put32(&fixed, 0x08074b50);
    put32(&fixed, 0x12345678);
    put32(&fixed, m[0].csize);
    put32(&fixed, m[0].usize);
    m[1].lho = 0;
    mlg_buf_clear(&b);
    put(&b, fixed.ptr, fixed.len);
    mlg_buf_free(&fixed);
    write_local(&b, &m[1]);
    {
      size_t cd = b.len;
      write_central(&b, &m[0], 0);
      write_central(&b, &m[1], 0);
      write_eocd(&b, 2, (uint32_t)(b.len - cd), (uint32_t)cd, NULL);
    }
  }
  open_buf(&o, &b, NULL);
  assert_int_equal(o.rc, 0);
  assert_issues(o.z, "zip-malformed@71[dd.pkl]");
  assert_string_equal(o.z->issues.items[0].message,
                      "the data descriptor says crc 12345678, sizes 35/33; the central directory "
                      "says crc 16ee3275, sizes 35/33");
  close_opened(&o);
  free(hold);
  mlg_buf_free(&b);
}

static void test_zip64(void **state)
{
  mlg_buf b = MLG_BUF_INIT;
  opened o;
  char *data;
  size_t len, cd, z64;
  zmem m = stored("big.bin", "ZIP64 DATA");

  write_local(&b, &m);
  cd = b.len;
  /* Central entry with the 32-bit fields at their sentinel. */
  put32(&b, 0x02014b50);
  put16(&b, 0x032D);
  put16(&b, 45);
  put16(&b, 0);
  put16(&b, 0);
  put16(&b, 0);
  put16(&b, 0);
  put32(&b, m.crc);
  put32(&b, 0xFFFFFFFF);
  put32(&b, 0xFFFFFFFF);
  put16(&b, 7);
  put16(&b, 4 + 24);
  put16(&b, 0);
  put16(&b, 0);
  put16(&b, 0);
  put32(&b, 0);
  put32(&b, 0xFFFFFFFF);
  put(&b, "big.bin", 7);
  put16(&b, 1);
  put16(&b, 24);
  put64(&b, 10);
  put64(&b, 10);
  put64(&b, 0);
  z64 = b.len;
  put32(&b, 0x06064b50);
  put64(&b, 44);
  put16(&b, 45);
  put16(&b, 45);
  put32(&b, 0);
  put32(&b, 0);
  put64(&b, 1);
  put64(&b, 1);
  put64(&b, z64 - cd);
  put64(&b, cd);
  put32(&b, 0x07064b50);
  put32(&b, 0);
  put64(&b, z64);
  put32(&b, 1);
  put32(&b, 0x06054b50);
  put16(&b, 0);
  put16(&b, 0);
  put16(&b, 0xFFFF);
  put16(&b, 0xFFFF);
  put32(&b, 0xFFFFFFFF);
  put32(&b, 0xFFFFFFFF);
  put16(&b, 0);
  open_buf(&o, &b, NULL);
  assert_int_equal(o.rc, 0);
  assert_int_equal(o.z->nentries, 1);
  assert_int_equal(o.z->entries[0].csize, 10);
  assert_int_equal(o.z->entries[0].usize, 10);
  assert_true(o.z->entries[0].local_offset == 0);
  assert_issues(o.z, "");
  assert_int_equal(read_member(o.z, 0, &data, &len, &o.err), 0);
  assert_string_equal(data, "ZIP64 DATA");
  free(data);
  close_opened(&o);
  mlg_buf_free(&b);
}

static void test_overlap(void **state)
{
  mlg_buf b = MLG_BUF_INIT;
  opened o;
  zmem m = stored("kernel", "0123456789");
  size_t cd, i;

  /* The classic overlap bomb: many entries, one local header. */
  write_local(&b, &m);
  cd = b.len;
  for (i = 0; i < 3; i++) {
    char name[8];
    snprintf(name, sizeof name, "k%zu", i);
    m.name = name;
    write_central(&b, &m, 0);
  }
  write_eocd(&b, 3, (uint32_t)(b.len - cd), (uint32_t)cd, NULL);
  open_buf(&o, &b, NULL);
  assert_int_equal(o.rc, 0);
  /* Names differ from the local one, and the three share their bytes. */
  assert_issues(o.z, "zip-name-mismatch@0[k0] zip-name-mismatch@0[k1] zip-name-mismatch@0[k2] "
                     "zip-overlap@0[k1] zip-overlap@0[k2]");
  assert_string_equal(o.z->issues.items[3].message, "its bytes overlap those of \"k0\" (0..46)");
  close_opened(&o);

  /* Data that runs into the central directory. */
  mlg_buf_clear(&b);
  m = stored("long", "0123456789");
  m.csize = m.usize = 20;
  m.set_lsizes = 0;
  write_local(&b, &m);
  cd = b.len;
  write_central(&b, &m, 0);
  write_eocd(&b, 1, (uint32_t)(b.len - cd), (uint32_t)cd, NULL);
  open_buf(&o, &b, NULL);
  assert_int_equal(o.rc, 0);
  assert_issues(o.z, "zip-malformed@0[long] zip-overlap@0[long]");
  assert_string_equal(o.z->issues.items[1].message,
                      "its bytes overlap the central directory (44..116)");
  close_opened(&o);
  mlg_buf_free(&b);
}

static void test_prepended(void **state)
{
  mlg_buf b = MLG_BUF_INIT;
  opened o;
  zmem m[2];
  char *data;
  size_t len;
  int rel;

  for (rel = 0; rel < 2; rel++) {
    mlg_buf_clear(&b);
    m[0] = stored("a.pkl", "AAA");
    m[1] = stored("b.pkl", "BBB");
    build(&b, "#!/bin/sh\nexit 0\n", m, 2, rel);
    open_buf(&o, &b, NULL);
    assert_int_equal(o.rc, 0);
    assert_issues(o.z, "zip-prepended-data@0[]");
    assert_string_equal(o.z->issues.items[0].message,
                        rel ? "17 bytes precede the first entry and the offsets are relative to "
                              "them (a stub or polyglot; torch.load reads a file that does not "
                              "start with a local header as a pickle)"
                            : "17 bytes precede the first entry (a stub or polyglot; torch.load "
                              "reads a file that does not start with a local header as a pickle)");
    assert_int_equal(o.z->entries[1].local_offset, 17 + 38);
    assert_int_equal(read_member(o.z, 1, &data, &len, &o.err), 0);
    assert_string_equal(data, "BBB");
    free(data);
    close_opened(&o);
  }
  mlg_buf_free(&b);
}

static void test_out_of_range(void **state)
{
  mlg_buf b = MLG_BUF_INIT;
  opened o;
  zmem m[3];
  char *data;
  size_t len, cd;

  m[0] = stored("ok", "OK");
  m[1] = stored("past", "PAST");
  m[2] = stored("huge", "HUGE");
  write_local(&b, &m[0]);
  write_local(&b, &m[2]);
  m[1].lho = 1u << 30;
  m[2].csize = m[2].usize = 0x7FFFFFFF;
  cd = b.len;
  write_central(&b, &m[0], 0);
  write_central(&b, &m[1], 0);
  write_central(&b, &m[2], 0);
  write_eocd(&b, 3, (uint32_t)(b.len - cd), (uint32_t)cd, NULL);
  open_buf(&o, &b, NULL);
  assert_int_equal(o.rc, 0);
  assert_int_equal(o.z->nentries, 3);
  assert_issues(o.z, "zip-malformed@1073741824[past] zip-malformed@34[huge] "
                     "zip-malformed@68[huge] zip-overlap@34[huge]");
  assert_string_equal(o.z->issues.items[0].message,
                      "the local header offset is past the end of the file");
  assert_string_equal(o.z->issues.items[2].message,
                      "the member data (2147483647 bytes) runs past the end of the file");
  assert_int_equal(read_member(o.z, 0, &data, &len, &o.err), 0);
  assert_string_equal(data, "OK");
  free(data);
  assert_int_equal(read_member(o.z, 1, &data, &len, &o.err), MLG_EPARSE);
  assert_string_equal(o.err.msg, "past: no valid local header at offset 1073741824");
  /* Reads stop at the end of the file, not at the claimed size. */
  assert_int_equal(read_member(o.z, 2, &data, &len, &o.err), MLG_EPARSE);
  assert_string_equal(o.err.msg, "huge: truncated member data");
  assert_true(len < 300);
  free(data);
  close_opened(&o);
  mlg_buf_free(&b);
}

static void test_bombs(void **state)
{
  mlg_zip_limits lim = {.max_ratio = 100, .max_total = 3u << 20};
  size_t zlen = 8u << 20;
  char *zeros = calloc(1, zlen), *data;
  unsigned char *hold, *hold2;
  mlg_buf b = MLG_BUF_INIT;
  opened o;
  zmem m[2];
  size_t len;

  assert_non_null(zeros);
  m[0] = deflated("zeros", zeros, zlen, &hold);
  m[1] = deflated("small", zeros, 2u << 20, &hold2);
  build(&b, NULL, m, 2, 0);
  open_buf(&o, &b, &lim);
  assert_int_equal(o.rc, 0);
  /* Declared ratios and total are reported when listing. */
  assert_issues(o.z, "zip-bomb@0[zeros] zip-bomb@0[zeros] zip-bomb@8179[small]");
  assert_string_equal(o.z->issues.items[1].message,
                      "the members declare more than 3145728 bytes in total");
  assert_int_equal(read_member(o.z, 0, &data, &len, &o.err), MLG_ELIMIT);
  assert_true(len <= (1u << 20) + 8192);
  free(data);
  assert_string_equal(o.err.msg, "zeros: compression ratio over 100");
  close_opened(&o);

  /* The total is counted over every member read from the archive. */
  lim.max_ratio = 100000;
  open_buf(&o, &b, &lim);
  assert_int_equal(read_member(o.z, 1, &data, &len, &o.err), 0);
  assert_int_equal(len, 2u << 20);
  free(data);
  assert_int_equal(read_member(o.z, 1, &data, &len, &o.err), MLG_ELIMIT);
  free(data);
  assert_string_equal(o.err.msg, "small: over the limit of 3145728 uncompressed bytes");
  assert_string_equal(o.z->issues.items[o.z->issues.len - 1].code, "zip-bomb");
  close_opened(&o);
  free(hold);
  free(hold2);
  free(zeros);
  mlg_buf_free(&b);
}

static void test_max_entries(void **state)
{
  mlg_zip_limits lim = {.max_entries = 5};
  mlg_buf b = MLG_BUF_INIT;
  opened o;
  zmem m[8];
  char names[8][4];
  size_t i;

  for (i = 0; i < 8; i++) {
    snprintf(names[i], sizeof names[i], "m%zu", i);
    m[i] = stored(names[i], "x");
  }
  build(&b, NULL, m, 8, 0);
  open_buf(&o, &b, &lim);
  assert_int_equal(o.rc, 0);
  assert_int_equal(o.z->nentries, 5);
  assert_string_equal(o.z->issues.items[0].code, "zip-bomb");
  assert_string_equal(o.z->issues.items[0].message,
                      "more than 5 entries (or names too long): the rest are not listed");
  close_opened(&o);
  mlg_buf_free(&b);
}

static void test_corrupt_deflate(void **state)
{
  mlg_buf b = MLG_BUF_INIT;
  opened o;
  zmem m[2];
  unsigned char *hold;
  char *data;
  size_t len;
  static const char text[] = "some text that deflates into more than a few bytes of output, surely";

  m[0] = deflated("cut", text, strlen(text), &hold);
  m[0].csize = m[0].dlen = m[0].dlen / 2;
  m[1] = stored("junk", "\xff\xff\xff\xff");
  m[1].method = 8;
  build(&b, NULL, m, 2, 0);
  open_buf(&o, &b, NULL);
  assert_int_equal(o.rc, 0);
  assert_int_equal(read_member(o.z, 0, &data, &len, &o.err), MLG_EPARSE);
  assert_string_equal(o.err.msg, "cut: truncated deflate data");
  free(data);
  assert_int_equal(read_member(o.z, 1, &data, &len, &o.err), MLG_EPARSE);
  assert_string_equal(o.err.msg, "junk: corrupt deflate data");
  free(data);
  assert_string_equal(o.z->issues.items[0].code, "zip-malformed");
  assert_string_equal(o.z->issues.items[0].message, "the deflate stream ends before its last block");
  close_opened(&o);
  free(hold);
  mlg_buf_free(&b);
}

static void test_size_claims(void **state)
{
  mlg_buf b = MLG_BUF_INIT;
  opened o;
  zmem m[2];
  unsigned char *hold;
  char *data;
  size_t len;

  m[0] = deflated("liar", "0123456789", 10, &hold);
  m[0].usize = 5;
  m[0].set_lsizes = 0;
  m[1] = stored("stored", "ABCDEF");
  m[1].usize = 100;
  m[1].set_lsizes = 0;
  build(&b, NULL, m, 2, 0);
  open_buf(&o, &b, NULL);
  assert_int_equal(o.rc, 0);
  assert_issues(o.z, "zip-malformed@0[liar] zip-malformed@46[stored] zip-malformed@46[stored]");
  assert_string_equal(o.z->issues.items[1].message,
                      "stored member with compressed size 6 but size 100 (zipfile reads the "
                      "smaller, torch the second; we read the first)");
  /* All the inflated bytes are delivered and the lie is an issue; the CRC
   * is that of the first usize bytes, as zipfile checks it, so here it
   * fails as it does in zipfile. */
  assert_int_equal(read_member(o.z, 0, &data, &len, &o.err), MLG_EPARSE);
  assert_string_equal(data, "0123456789");
  free(data);
  assert_string_equal(o.z->issues.items[3].message, "holds 10 bytes but declares 5");
  assert_string_equal(o.z->issues.items[4].code, "zip-bad-crc");
  /* A stored member whose extra bytes lie past usize: the CRC of the
   * first usize bytes is what zipfile checks. */
  {
    mlg_buf b2 = MLG_BUF_INIT;
    opened o2;
    zmem x = stored("extra", "GOOD+TRAILING");
    x.usize = 4;
    x.crc = (uint32_t)crc32(0, (const Bytef *)"GOOD", 4);
    build(&b2, NULL, &x, 1, 0);
    open_buf(&o2, &b2, NULL);
    assert_int_equal(read_member(o2.z, 0, &data, &len, &o2.err), 0);
    assert_string_equal(data, "GOOD+TRAILING");
    free(data);
    assert_issues(o2.z, "zip-malformed@0[extra] zip-malformed@35[extra]");
    close_opened(&o2);
    mlg_buf_free(&b2);
  }
  assert_int_equal(read_member(o.z, 1, &data, &len, &o.err), 0);
  assert_string_equal(data, "ABCDEF");
  free(data);
  close_opened(&o);
  free(hold);
  mlg_buf_free(&b);
}

static void test_count_mismatch(void **state)
{
  mlg_buf b = MLG_BUF_INIT;
  opened o;
  zmem m[2];
  size_t cd;

  m[0] = stored("a", "A");
  m[1] = stored("b", "B");
  write_local(&b, &m[0]);
  write_local(&b, &m[1]);
  cd = b.len;
  write_central(&b, &m[0], 0);
  write_central(&b, &m[1], 0);
  write_eocd(&b, 1, (uint32_t)(b.len - cd), (uint32_t)cd, NULL);
  open_buf(&o, &b, NULL);
  assert_int_equal(o.rc, 0);
  assert_int_equal(o.z->nentries, 2);
  assert_issues(o.z, "zip-malformed@158[]");
  assert_string_equal(o.z->issues.items[0].message,
                      "the end record counts 1 entries but the directory holds 2 (torch uses the "
                      "count)");
  close_opened(&o);
  mlg_buf_free(&b);
}

/* A 1 GiB stored member in a file with a hole: listing reads headers
 * only, and reading streams it through a fixed buffer. */
static void test_sparse_gib(void **state)
{
  char path[] = "/tmp/mlg_zipx_XXXXXX";
  const uint64_t gib = (uint64_t)1 << 30;
  mlg_buf b = MLG_BUF_INIT;
  zmem m = stored("weights.bin", "");
  struct rusage ru0, ru1;
  struct timespec t0, t1;
  mlg_zip *z = NULL;
  mlg_err err;
  mlg_stream s;
  static char chunk[1 << 20];
  uint64_t total = 0;
  ssize_t r;
  double ms;
  int fd = mkstemp(path);

  assert_true(fd >= 0);
  unlink(path);
  m.crc = 0x5b64c2b0; /* CRC-32 of 2^30 zero bytes */
  m.csize = m.usize = (uint32_t)gib;
  write_local(&b, &m);
  assert_int_equal(pwrite(fd, b.ptr, b.len, 0), (ssize_t)b.len);
  mlg_buf_clear(&b);
  write_central(&b, &m, 0);
  write_eocd(&b, 1, (uint32_t)b.len, (uint32_t)(41 + gib), NULL);
  assert_int_equal(pwrite(fd, b.ptr, b.len, (off_t)(41 + gib)), (ssize_t)b.len);

  getrusage(RUSAGE_SELF, &ru0);
  clock_gettime(CLOCK_MONOTONIC, &t0);
  assert_int_equal(mlg_zip_open(&z, fd, 41 + gib + b.len, NULL, &err), 0);
  clock_gettime(CLOCK_MONOTONIC, &t1);
  ms = (double)(t1.tv_sec - t0.tv_sec) * 1e3 + (double)(t1.tv_nsec - t0.tv_nsec) / 1e6;
  assert_true(ms < 100);
  assert_int_equal(z->nentries, 1);
  assert_true(z->entries[0].usize == gib);
  assert_int_equal(z->issues.len, 0);
  assert_int_equal(mlg_zip_member(&s, z, 0, &err), 0);
  while ((r = mlg_stream_read(&s, chunk, sizeof chunk, &err)) > 0)
    total += (uint64_t)r;
  assert_int_equal(r, 0);
  assert_true(total == gib);
  mlg_stream_close(&s);
  getrusage(RUSAGE_SELF, &ru1);
  /* Memory stays flat: well under the member's size. */
  assert_true(ru1.ru_maxrss - ru0.ru_maxrss < 64 * 1024);
  mlg_zip_close(z);
  close(fd);
  mlg_buf_free(&b);
}

static void test_sniff(void **state)
{
  assert_int_equal(mlg_zip_sniff((const unsigned char *)"PK\3\4", 4), 1);
  assert_int_equal(mlg_zip_sniff((const unsigned char *)"PK\5\6", 4), 1);
  assert_int_equal(mlg_zip_sniff((const unsigned char *)"PK\7\10PK\3\4", 8), 1);
  assert_int_equal(mlg_zip_sniff((const unsigned char *)"PK\7\10", 4), 0);
  assert_int_equal(mlg_zip_sniff((const unsigned char *)"PK\1\2", 4), 0);
  assert_int_equal(mlg_zip_sniff((const unsigned char *)"PK\3", 3), 0);
  assert_int_equal(mlg_zip_sniff((const unsigned char *)"\x80\x02", 2), 0);
  assert_int_equal(mlg_zip_sniff(NULL, 0), 0);
}

/* picklescan's zip fixtures: what each one shows, and that every member
 * is read the way torch would see it. */
static void test_peer_fixtures(void **state)
{
  static const struct {
    const char *path, *issues;
    int last_read; /* result of reading the last member */
  } cases[] = {
      {"data/benign_password_protected.zip", "zip-encrypted@0[test.txt]", MLG_EINVAL},
      {"data/malicious1.zip", "", 0},
      {"data/malicious1_0x1.zip", "zip-flag-bits@0[model/config.pkl]", 0},
      {"data/malicious1_0x20.zip", "zip-flag-bits@0[model/config.pkl]", 0},
      {"data/malicious1_0x40.zip", "zip-flag-bits@0[model/config.pkl]", 0},
      {"data/malicious1_central_directory.zip", "zip-name-mismatch@0[data.pkl]", 0},
      {"data/malicious1_wrong_ext.zip", "", 0},
      {"data2/malicious1_crc.zip", "zip-bad-crc@38[data.pkl]", MLG_EPARSE},
      {"data2/int_arrays.npz", "", 0},
      {"data2/int_arrays_compressed.npz", "", 0},
      {"data2/object_arrays.npz", "", 0},
      {"data2/object_arrays_compressed.npz", "", 0},
      {"data/new_pytorch_model.bin", "", 0},
  };
  const char *root = getenv("MLGATE_SHARED") ? getenv("MLGATE_SHARED") : "../shared";
  char path[1024];
  size_t k;

  for (k = 0; k < sizeof cases / sizeof *cases; k++) {
    struct stat st;
    mlg_zip *z = NULL;
    mlg_err err;
    char *data = NULL, *got;
    size_t len, i;
    int fd, rc = 0;

    snprintf(path, sizeof path, "%s/peer-fixtures/models/picklescan/%s", root, cases[k].path);
    fd = open(path, O_RDONLY);
    if (fd < 0) {
      print_message("skipped: %s not found\n", path);
      skip();
    }
    assert_int_equal(fstat(fd, &st), 0);
    assert_int_equal(mlg_zip_open(&z, fd, (uint64_t)st.st_size, NULL, &err), 0);
    for (i = 0; i < z->nentries; i++) {
      rc = read_member(z, i, &data, &len, &err);
      /* The pickle members start with PROTO 4 ("\x80\x04"). */
      if (data && strstr(z->entries[i].name, ".pkl") && strstr(cases[k].path, "malicious1"))
        assert_memory_equal(data, "\x80\x04", 2);
      free(data);
      data = NULL;
    }
    assert_int_equal(rc, cases[k].last_read);
    got = codes(&z->issues);
    if (strcmp(got, cases[k].issues) != 0)
      print_message("%s: %s\n", cases[k].path, got);
    assert_string_equal(got, cases[k].issues);
    free(got);
    mlg_zip_close(z);
    close(fd);
  }
  /* Not zips: the legacy torch file and the 7z. */
  {
    static const char *const others[] = {"data/pytorch_model.bin", "data/malicious1.7z"};
    for (k = 0; k < 2; k++) {
      struct stat st;
      mlg_zip *z = NULL;
      mlg_err err;
      int fd;
      snprintf(path, sizeof path, "%s/peer-fixtures/models/picklescan/%s", root, others[k]);
      fd = open(path, O_RDONLY);
      assert_true(fd >= 0);
      assert_int_equal(fstat(fd, &st), 0);
      assert_int_equal(mlg_zip_open(&z, fd, (uint64_t)st.st_size, NULL, &err), MLG_EPARSE);
      assert_string_equal(err.msg, "not a zip file: no end of central directory record");
      close(fd);
    }
  }
}

/* Inputs the fuzzer found (tests/unit/fixtures/zipx): each opens or is
 * refused cleanly, and every member reads to an end or an error. */
static void test_fuzz_regressions(void **state)
{
  static const struct {
    const char *file;
    int open_rc;
    size_t nentries;
  } cases[] = {
      /* The end record's offset is 2^63 past the directory. */
      {"fuzz-concat-min.zip", 0, 2},
  };
  size_t k;

  for (k = 0; k < sizeof cases / sizeof *cases; k++) {
    char path[512];
    struct stat st;
    mlg_zip *z = NULL;
    mlg_err err;
    size_t i;
    int fd;

    snprintf(path, sizeof path, "tests/unit/fixtures/zipx/%s", cases[k].file);
    fd = open(path, O_RDONLY);
    assert_true(fd >= 0);
    assert_int_equal(fstat(fd, &st), 0);
    assert_int_equal(mlg_zip_open(&z, fd, (uint64_t)st.st_size, NULL, &err), cases[k].open_rc);
    if (z) {
      assert_int_equal(z->nentries, cases[k].nentries);
      for (i = 0; i < z->nentries; i++) {
        char *data;
        size_t len;
        read_member(z, i, &data, &len, &err);
        free(data);
      }
    }
    mlg_zip_close(z);
    close(fd);
  }
}

int main(void)
{
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(test_stored_and_deflate),
      cmocka_unit_test(test_not_a_zip),
      cmocka_unit_test(test_empty_and_comment),
      cmocka_unit_test(test_name_mismatch),
      cmocka_unit_test(test_duplicates),
      cmocka_unit_test(test_traversal),
      cmocka_unit_test(test_flags_and_encryption),
      cmocka_unit_test(test_unsupported_method),
      cmocka_unit_test(test_bad_crc),
      cmocka_unit_test(test_data_descriptor),
      cmocka_unit_test(test_zip64),
      cmocka_unit_test(test_overlap),
      cmocka_unit_test(test_prepended),
      cmocka_unit_test(test_out_of_range),
      cmocka_unit_test(test_bombs),
      cmocka_unit_test(test_max_entries),
      cmocka_unit_test(test_corrupt_deflate),
      cmocka_unit_test(test_size_claims),
      cmocka_unit_test(test_count_mismatch),
      cmocka_unit_test(test_sparse_gib),
      cmocka_unit_test(test_sniff),
      cmocka_unit_test(test_peer_fixtures),
      cmocka_unit_test(test_fuzz_regressions),
  };
  return cmocka_run_group_tests(tests, NULL, NULL);
}
