/*
 * ZIP reader that sees what the loaders see.
 *
 * The directory is found and read the way CPython's zipfile does it (3.11):
 * the last "PK\5\6" in the final 64 KiB + 22 bytes, the zip64 record right
 * before the zip64 locator, the central directory taken as the cd_size
 * bytes that end at the end record (so its start is eocd - cd_size and the
 * difference to the recorded offset, "concat", shifts every local header
 * offset), parsed by size rather than by the recorded entry count, zip64
 * extras applied to the fields that hold 0xFFFFFFFF, names cut at NUL.
 * Member data starts after the *local* name and extra, and its sizes, CRC
 * and flags come from the *central* entry, as in zipfile and miniz.
 *
 * How torch.load reads a zip (PyTorchStreamReader on miniz), checked
 * against python3-torch 1.13 with hand-built archives, and where it parts
 * from zipfile in ways an attacker can use against a zipfile-based scanner:
 *   - torch.load only takes the zip path when the file starts with
 *     "PK\3\4"; anything else is read as a legacy pickle stream.
 *   - The record prefix is the first central entry's name up to its first
 *     '/' ("archive" for torch.save); torch opens "<prefix>/data.pkl" etc.
 *     and never reads other members. A first entry without '/' fails.
 *   - Names are looked up in the central directory with miniz's sorted
 *     binary search, comparing ASCII case-insensitively: "archive/DATA.PKL"
 *     loads as data.pkl, and of two names equal but for case, or of two
 *     duplicates, torch may take the first or a later one depending on the
 *     sort (zipfile always reads the last). So both are reported
 *     (zip-duplicate-name) and both are scanned.
 *   - The local header name is ignored (only its length is used): a
 *     mismatch that makes zipfile raise loads fine in torch.
 *   - CRC-32 is not checked (miniz is built without reader CRC checks):
 *     a member with a bad CRC loads; zipfile raises.
 *   - Only the central flags matter: bits 0 and 6 (encryption) and 5
 *     (patch data) make both refuse; bit 13 makes torch refuse the archive;
 *     local-only flag bits are ignored by both.
 *   - A stored member is read as usize bytes from its data offset (miniz)
 *     but as csize bytes (zipfile); the entry count comes from the end
 *     record (miniz) instead of the directory size (zipfile); the zip64
 *     record is located through the locator's offset (miniz) rather than
 *     just before the locator (zipfile); offsets are not shifted by
 *     "concat". Each of these differences is an issue here.
 *   - A name with a NUL byte: zipfile cuts it (and finds "data.pkl" for
 *     "data.pkl\0x"), torch compares the whole name and does not.
 * We read every member regardless of its name, so none of these hides a
 * pickle from the scanner; they are reported because a policy may want to
 * refuse archives that two readers would see differently.
 *
 * A stored member with the encryption flag but no room for an encryption
 * header (csize == usize) is plaintext: it is read and reported as
 * zip-flag-bits, not as encrypted (picklescan's CVE-2025-1945 samples).
 */
#include "zipx.h"

#include <errno.h>
#include <limits.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <zlib.h>

#include "utf8.h"

#define SIG_LOCAL 0x04034b50u
#define SIG_CENTRAL 0x02014b50u
#define SIG_EOCD 0x06054b50u
#define SIG_Z64_EOCD 0x06064b50u
#define SIG_Z64_LOC 0x07064b50u
#define SIG_DD 0x08074b50u

#define EOCD_LEN 22
#define Z64_EOCD_LEN 56
#define Z64_LOC_LEN 20
#define CENTRAL_LEN 46
#define LOCAL_LEN 30

#define DEF_MAX_ENTRIES 100000
#define DEF_MAX_TOTAL ((uint64_t)64 << 30)
#define DEF_MAX_RATIO 1000
/* Below this many output bytes a member is never a bomb: tiny members of
 * zeros legitimately exceed any ratio. */
#define RATIO_FLOOR ((uint64_t)1 << 20)
/* Names kept in memory for one archive (listing stops past it). */
#define MAX_NAME_BYTES ((size_t)64 << 20)
/* Repeated overlap/duplicate reports past this are summarised. */
#define MAX_REPEAT 100

#define FLAG_ENCRYPTED 0x0001u
#define FLAG_DESCRIPTOR 0x0008u
#define FLAG_PATCH 0x0020u
#define FLAG_STRONG 0x0040u
#define FLAG_UTF8 0x0800u
#define FLAG_MASKED 0x2000u
/* Deflate options (bits 1-2), data descriptor (3), UTF-8 names (11). */
#define FLAGS_USUAL 0x080Eu

#define CD_WINDOW (256u << 10)
#define IN_CHUNK (64u << 10)

typedef struct zip_impl {
  mlg_zip pub;
  uint64_t total_out;      /* uncompressed bytes delivered by every member */
  unsigned char *bad;      /* per entry: no readable local header */
  uint64_t *end;           /* per entry: end of data (+ descriptor) */
  char **keys;             /* per entry while opening: loose name key */
  uint64_t cd_start, cd_end;
} zip_impl;

static uint16_t rd16(const unsigned char *p)
{
  return (uint16_t)(p[0] | p[1] << 8);
}

static uint32_t rd32(const unsigned char *p)
{
  return (uint32_t)p[0] | (uint32_t)p[1] << 8 | (uint32_t)p[2] << 16 | (uint32_t)p[3] << 24;
}

static uint64_t rd64(const unsigned char *p)
{
  return (uint64_t)rd32(p) | (uint64_t)rd32(p + 4) << 32;
}

/* Bytes read at off (short only at the end of the file), or -1: from the
 * file, or from the memory image of an archive nested in another. */
static ssize_t pread_full(const mlg_zip *pub, void *buf, size_t n, uint64_t off)
{
  size_t got = 0;
  if (pub->mem) {
    if (off >= pub->size)
      return 0;
    if (n > pub->size - off)
      n = (size_t)(pub->size - off);
    memcpy(buf, pub->mem + off, n);
    return (ssize_t)n;
  }
  while (got < n) {
    ssize_t r = pread(pub->fd, (char *)buf + got, n - got, (off_t)(off + got));
    if (r < 0 && errno == EINTR)
      continue;
    if (r < 0)
      return -1;
    if (r == 0)
      break;
    got += (size_t)r;
  }
  return (ssize_t)got;
}

/* Printable text as is; control characters and bytes that are not UTF-8
 * as \xNN, so a name can be shown and compared but never smuggles a NUL or
 * a terminal escape. */
static char *escape_name(const unsigned char *s, size_t n)
{
  char *out = malloc(n * 4 + 1), *o = out;
  static const char hex[] = "0123456789ABCDEF";
  size_t i = 0;
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

/* The name zipfile and torch would both match against, loosely: cut at
 * NUL (zipfile) and ASCII-lowercased (miniz). */
static char *loose_key(const unsigned char *s, size_t n)
{
  const unsigned char *nul = memchr(s, 0, n);
  char *k;
  size_t i;
  if (nul)
    n = (size_t)(nul - s);
  k = malloc(n + 1);
  if (!k)
    return NULL;
  for (i = 0; i < n; i++)
    k[i] = (char)(s[i] >= 'A' && s[i] <= 'Z' ? s[i] + 32 : s[i]);
  k[n] = '\0';
  return k;
}

/* Why a name could escape an extraction directory, or NULL. */
static const char *traversal_reason(const unsigned char *s, size_t n)
{
  size_t i, start = 0;
  if (memchr(s, 0, n))
    return "contains a NUL byte";
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

static const char *method_name(unsigned m)
{
  switch (m) {
  case 1: return "shrink";
  case 6: return "implode";
  case 9: return "deflate64";
  case 12: return "bzip2";
  case 14: return "lzma";
  case 93: return "zstd";
  case 95: return "xz";
  case 96: return "jpeg";
  case 97: return "wavpack";
  case 98: return "ppmd";
  case 99: return "aes";
  default: return "unknown";
  }
}

/* --- central directory window ------------------------------------------- */

typedef struct cd_reader {
  const mlg_zip *pub;
  size_t cap;
  unsigned char *buf;
  uint64_t base; /* file offset of buf[0] */
  size_t len;
} cd_reader;

/* Points at n bytes at file offset off (inside the directory, which lies
 * wholly inside the file), refilling the window as needed. */
static const unsigned char *cd_need(cd_reader *r, uint64_t off, size_t n, uint64_t limit)
{
  ssize_t got;
  size_t want;
  if (n > r->cap || off > limit || limit - off < n)
    return NULL;
  if (off >= r->base && off - r->base <= r->len && r->len - (off - r->base) >= n)
    return r->buf + (off - r->base);
  want = limit - off < r->cap ? (size_t)(limit - off) : r->cap;
  got = pread_full(r->pub, r->buf, want, off);
  if (got < 0 || (size_t)got < n)
    return NULL;
  r->base = off;
  r->len = (size_t)got;
  return r->buf;
}

/* --- opening -------------------------------------------------------------- */

typedef struct eocd_info {
  uint64_t pos;          /* of the end record */
  uint64_t base;         /* of the zip64 record when there is one, else pos */
  uint64_t entries;      /* as recorded */
  uint64_t cd_size, cd_offset;
  uint16_t comment_len;
  int zip64;
  uint64_t z64_reloff;   /* locator's record offset */
} eocd_info;

static int find_eocd(eocd_info *e, zip_impl *z, mlg_err *err)
{
  mlg_zip *pub = &z->pub;
  uint64_t size = pub->size, from;
  size_t len, i;
  unsigned char *tail;
  const unsigned char *rec = NULL;
  unsigned char loc[Z64_LOC_LEN], z64[Z64_EOCD_LEN];
  ssize_t got;
  int rc = 0;

  memset(e, 0, sizeof *e);
  if (size < EOCD_LEN)
    return mlg_err_set(err, MLG_EPARSE, "not a zip file: %llu bytes is too short",
                       (unsigned long long)size);
  /* zipfile's window: 64 KiB (not the 65535 a comment can hold) + 22. */
  from = size > EOCD_LEN + 65536 ? size - (EOCD_LEN + 65536) : 0;
  len = (size_t)(size - from);
  tail = malloc(len);
  if (!tail)
    return mlg_err_set(err, MLG_ENOMEM, "out of memory");
  got = pread_full(pub, tail, len, from);
  if (got < 0) {
    rc = mlg_err_set(err, MLG_EIO, "read failed: %s", strerror(errno));
    goto done;
  }
  if ((size_t)got != len) {
    rc = mlg_err_set(err, MLG_EIO, "file shrank while reading");
    goto done;
  }
  /* zipfile's fast path (no comment), then the last signature. */
  if (rd32(tail + len - EOCD_LEN) == SIG_EOCD && rd16(tail + len - 2) == 0) {
    rec = tail + len - EOCD_LEN;
  } else {
    for (i = len - 3; i-- > 0;) {
      if (tail[i] == 'P' && rd32(tail + i) == SIG_EOCD) {
        rec = tail + i;
        break;
      }
    }
    if (rec && (size_t)(tail + len - rec) < EOCD_LEN) {
      rc = mlg_err_set(err, MLG_EPARSE,
                       "not a zip file: truncated end of central directory record at offset %llu",
                       (unsigned long long)(from + (uint64_t)(rec - tail)));
      goto done;
    }
  }
  if (!rec) {
    rc = mlg_err_set(err, MLG_EPARSE, "not a zip file: no end of central directory record");
    goto done;
  }
  e->pos = from + (uint64_t)(rec - tail);
  e->base = e->pos;
  e->entries = rd16(rec + 10);
  e->cd_size = rd32(rec + 12);
  e->cd_offset = rd32(rec + 16);
  e->comment_len = rd16(rec + 20);
  if (rd16(rec + 4) || rd16(rec + 6) || rd16(rec + 8) != rd16(rec + 10))
    mlg_issue_add(&pub->issues, "zip-malformed", NULL, (int64_t)e->pos,
                  "the end record names other disks (multi-disk archives are refused by torch)");
  {
    uint64_t cend = e->pos + EOCD_LEN + e->comment_len;
    if (cend > size)
      mlg_issue_add(&pub->issues, "zip-malformed", NULL, (int64_t)e->pos,
                    "the archive comment (%u bytes) runs past the end of the file",
                    (unsigned)e->comment_len);
    else if (cend < size)
      mlg_issue_add(&pub->issues, "zip-malformed", NULL, (int64_t)cend,
                    "%llu bytes follow the end of central directory record",
                    (unsigned long long)(size - cend));
  }

  if (e->pos < Z64_LOC_LEN)
    goto done;
  got = pread_full(pub, loc, sizeof loc, e->pos - Z64_LOC_LEN);
  if (got != (ssize_t)sizeof loc || rd32(loc) != SIG_Z64_LOC)
    goto done;
  if (rd32(loc + 4) != 0 || rd32(loc + 16) > 1) {
    rc = mlg_err_set(err, MLG_EPARSE, "zip spans several disks (zip64 locator at offset %llu)",
                     (unsigned long long)(e->pos - Z64_LOC_LEN));
    goto done;
  }
  e->z64_reloff = rd64(loc + 8);
  if (e->pos < Z64_LOC_LEN + Z64_EOCD_LEN ||
      pread_full(pub, z64, sizeof z64, e->pos - Z64_LOC_LEN - Z64_EOCD_LEN) !=
          (ssize_t)sizeof z64 ||
      rd32(z64) != SIG_Z64_EOCD) {
    mlg_issue_add(&pub->issues, "zip-malformed", NULL, (int64_t)(e->pos - Z64_LOC_LEN),
                  "zip64 locator without a zip64 end record right before it");
    goto done;
  }
  e->zip64 = 1;
  e->base = e->pos - Z64_LOC_LEN - Z64_EOCD_LEN;
  e->entries = rd64(z64 + 32);
  e->cd_size = rd64(z64 + 40);
  e->cd_offset = rd64(z64 + 48);
  if (rd64(z64 + 24) != rd64(z64 + 32) || rd32(z64 + 16) || rd32(z64 + 20))
    mlg_issue_add(&pub->issues, "zip-malformed", NULL, (int64_t)e->base,
                  "the zip64 end record names other disks");
done:
  free(tail);
  return rc;
}

/* Applies a zip64 extra field the way zipfile does: each field that holds
 * the 32-bit sentinel takes the next 8 bytes. 0, or -1 when it is corrupt. */
static int apply_extra(const unsigned char *x, size_t n, uint64_t *usize, uint64_t *csize,
                       uint64_t *lho, int *zip64)
{
  while (n >= 4) {
    size_t tp = rd16(x), ln = rd16(x + 2);
    if (ln + 4 > n)
      return -1;
    if (tp == 0x0001) {
      const unsigned char *d = x + 4;
      size_t left = ln;
      *zip64 = 1;
      if (*usize == 0xFFFFFFFFu || *usize == UINT64_MAX) {
        if (left < 8)
          return -1;
        *usize = rd64(d);
        d += 8;
        left -= 8;
      }
      if (*csize == 0xFFFFFFFFu) {
        if (left < 8)
          return -1;
        *csize = rd64(d);
        d += 8;
        left -= 8;
      }
      if (*lho == 0xFFFFFFFFu) {
        if (left < 8)
          return -1;
        *lho = rd64(d);
      }
    }
    x += ln + 4;
    n -= ln + 4;
  }
  return 0;
}

static void check_flags(mlg_zip *z, const mlg_zip_entry *e, unsigned explained)
{
  unsigned odd = e->flags & ~(FLAGS_USUAL | FLAG_ENCRYPTED | explained) & 0xFFFFu;
  if (!odd)
    return;
  mlg_issue_add(&z->issues, "zip-flag-bits", e->name, (int64_t)e->local_offset,
                "unusual general-purpose flags 0x%04x%s%s%s", e->flags,
                (odd & FLAG_PATCH) ? "; bit 5 (patch data): zipfile and torch refuse to read it" : "",
                (odd & FLAG_STRONG) ? "; bit 6 (strong encryption): zipfile and torch refuse to read it" : "",
                (odd & FLAG_MASKED) ? "; bit 13 (masked headers): torch refuses the archive" : "");
}

/* Checks entry i's local header and data descriptor against its central
 * entry and computes where its data starts and ends. */
static int check_local(zip_impl *z, size_t i, const unsigned char *cname, size_t cnlen,
                       int zip64, unsigned char *scratch, mlg_err *err)
{
  mlg_zip *pub = &z->pub;
  mlg_zip_entry *e = &pub->entries[i];
  uint64_t off = e->local_offset, end;
  ssize_t got;
  size_t nlen, xlen;
  uint16_t lflags, lmethod;
  uint32_t lcrc;
  uint64_t lcsize, lusize;

  if (off > pub->size || pub->size - off < LOCAL_LEN) {
    mlg_issue_add(&pub->issues, "zip-malformed", e->name, (int64_t)off,
                  "the local header offset is past the end of the file");
    z->bad[i] = 1;
    return 0;
  }
  got = pread_full(pub, scratch, LOCAL_LEN, off);
  if (got < 0)
    return mlg_err_set(err, MLG_EIO, "read failed: %s", strerror(errno));
  if (got < LOCAL_LEN || rd32(scratch) != SIG_LOCAL) {
    mlg_issue_add(&pub->issues, "zip-malformed", e->name, (int64_t)off,
                  "no local header signature where the central directory points");
    z->bad[i] = 1;
    return 0;
  }
  lflags = rd16(scratch + 6);
  lmethod = rd16(scratch + 8);
  lcrc = rd32(scratch + 14);
  lcsize = rd32(scratch + 18);
  lusize = rd32(scratch + 22);
  nlen = rd16(scratch + 26);
  xlen = rd16(scratch + 28);
  got = pread_full(pub, scratch + LOCAL_LEN, nlen + xlen, off + LOCAL_LEN);
  if (got < 0)
    return mlg_err_set(err, MLG_EIO, "read failed: %s", strerror(errno));
  if ((size_t)got < nlen + xlen) {
    mlg_issue_add(&pub->issues, "zip-malformed", e->name, (int64_t)off,
                  "the local header runs past the end of the file");
    z->bad[i] = 1;
    return 0;
  }
  e->data_offset = off + LOCAL_LEN + nlen + xlen;

  if (nlen != cnlen || memcmp(scratch + LOCAL_LEN, cname, nlen) != 0) {
    e->local_name = escape_name(scratch + LOCAL_LEN, nlen);
    if (!e->local_name)
      return mlg_err_set(err, MLG_ENOMEM, "out of memory");
    mlg_issue_add(&pub->issues, "zip-name-mismatch", e->name, (int64_t)off,
                  "the local header names it \"%s\" (zipfile refuses it; torch reads it by the "
                  "central name)", e->local_name);
    {
      const char *why = traversal_reason(scratch + LOCAL_LEN, nlen);
      if (why)
        mlg_issue_add(&pub->issues, "zip-path-traversal", e->name, (int64_t)off,
                      "the local header name \"%s\" %s", e->local_name, why);
    }
  }
  if (lflags != e->flags)
    mlg_issue_add(&pub->issues, "zip-flag-bits", e->name, (int64_t)off,
                  "local flags 0x%04x differ from central flags 0x%04x (readers use the central "
                  "ones)", lflags, e->flags);
  if (lmethod != e->method)
    mlg_issue_add(&pub->issues, "zip-malformed", e->name, (int64_t)off,
                  "local compression method %u differs from central method %u", lmethod,
                  e->method);
  if (!(lflags & FLAG_DESCRIPTOR)) {
    uint64_t lho = 0;
    int lz64 = 0;
    /* A local zip64 extra carries both sizes whenever it is present. */
    if (lusize == 0xFFFFFFFFu || lcsize == 0xFFFFFFFFu) {
      uint64_t u = 0xFFFFFFFFu, c = 0xFFFFFFFFu;
      if (apply_extra(scratch + LOCAL_LEN + nlen, xlen, &u, &c, &lho, &lz64) == 0 && lz64) {
        lusize = u;
        lcsize = c;
      }
    }
    if (lcrc != e->crc || lcsize != e->csize || lusize != e->usize)
      mlg_issue_add(&pub->issues, "zip-malformed", e->name, (int64_t)off,
                    "local header says crc %08x, sizes %llu/%llu; the central directory says crc "
                    "%08x, sizes %llu/%llu (readers use the central values)", lcrc,
                    (unsigned long long)lcsize, (unsigned long long)lusize, e->crc,
                    (unsigned long long)e->csize, (unsigned long long)e->usize);
  }

  if (e->data_offset > pub->size || pub->size - e->data_offset < e->csize) {
    mlg_issue_add(&pub->issues, "zip-malformed", e->name, (int64_t)e->data_offset,
                  "the member data (%llu bytes) runs past the end of the file",
                  (unsigned long long)e->csize);
    z->end[i] = pub->size;
    return 0;
  }
  end = e->data_offset + e->csize;
  if ((lflags | e->flags) & FLAG_DESCRIPTOR) {
    unsigned char dd[24];
    size_t dlen = zip64 ? 20 : 12;
    got = pread_full(pub, dd, sizeof dd, end);
    if (got < 0)
      return mlg_err_set(err, MLG_EIO, "read failed: %s", strerror(errno));
    {
      size_t sig = (got >= 4 && rd32(dd) == SIG_DD) ? 4 : 0;
      if ((size_t)got < sig + dlen) {
        mlg_issue_add(&pub->issues, "zip-malformed", e->name, (int64_t)end,
                      "the data descriptor runs past the end of the file");
      } else {
        const unsigned char *d = dd + sig;
        uint32_t dcrc = rd32(d);
        uint64_t dc = zip64 ? rd64(d + 4) : rd32(d + 4);
        uint64_t du = zip64 ? rd64(d + 12) : rd32(d + 8);
        if (dcrc != e->crc || dc != e->csize || du != e->usize)
          mlg_issue_add(&pub->issues, "zip-malformed", e->name, (int64_t)end,
                        "the data descriptor says crc %08x, sizes %llu/%llu; the central "
                        "directory says crc %08x, sizes %llu/%llu", dcrc,
                        (unsigned long long)dc, (unsigned long long)du, e->crc,
                        (unsigned long long)e->csize, (unsigned long long)e->usize);
        end += sig + dlen;
      }
    }
  }
  z->end[i] = end;
  return 0;
}

/* qsort has no context argument in C11; archives may be opened from
 * several threads, so the sort context is per thread. */
static _Thread_local zip_impl *sort_z;

static int cmp_by_name(const void *a, const void *b)
{
  const mlg_zip_entry *x = &sort_z->pub.entries[*(const size_t *)a];
  const mlg_zip_entry *y = &sort_z->pub.entries[*(const size_t *)b];
  int c = strcmp(x->name, y->name);
  return c ? c : (*(const size_t *)a > *(const size_t *)b) - (*(const size_t *)a < *(const size_t *)b);
}

static int cmp_by_key(const void *a, const void *b)
{
  int c = strcmp(sort_z->keys[*(const size_t *)a], sort_z->keys[*(const size_t *)b]);
  return c ? c : (*(const size_t *)a > *(const size_t *)b) - (*(const size_t *)a < *(const size_t *)b);
}

static int cmp_by_offset(const void *a, const void *b)
{
  const mlg_zip_entry *x = &sort_z->pub.entries[*(const size_t *)a];
  const mlg_zip_entry *y = &sort_z->pub.entries[*(const size_t *)b];
  if (x->local_offset != y->local_offset)
    return x->local_offset < y->local_offset ? -1 : 1;
  return (*(const size_t *)a > *(const size_t *)b) - (*(const size_t *)a < *(const size_t *)b);
}

static void sort_idx(zip_impl *z, size_t *idx, size_t n, int (*cmp)(const void *, const void *))
{
  sort_z = z;
  if (n > 1)
    qsort(idx, n, sizeof *idx, cmp);
  sort_z = NULL;
}

static void check_duplicates(zip_impl *z, size_t *idx)
{
  mlg_zip *pub = &z->pub;
  size_t n = pub->nentries, i, reported = 0, more = 0;

  for (i = 0; i < n; i++)
    idx[i] = i;
  sort_idx(z, idx, n, cmp_by_name);
  for (i = 1; i < n; i++) {
    const mlg_zip_entry *a = &pub->entries[idx[i - 1]], *b = &pub->entries[idx[i]];
    if (strcmp(a->name, b->name) != 0)
      continue;
    if (reported++ >= MAX_REPEAT) {
      more++;
      continue;
    }
    mlg_issue_add(&pub->issues, "zip-duplicate-name", b->name, (int64_t)b->local_offset,
                  "also at offset %llu (zipfile reads the last one, torch may read either)",
                  (unsigned long long)a->local_offset);
  }
  for (i = 0; i < n; i++)
    idx[i] = i;
  sort_idx(z, idx, n, cmp_by_key);
  for (i = 1; i < n; i++) {
    const mlg_zip_entry *a = &pub->entries[idx[i - 1]], *b = &pub->entries[idx[i]];
    if (strcmp(z->keys[idx[i - 1]], z->keys[idx[i]]) != 0 || strcmp(a->name, b->name) == 0)
      continue;
    if (reported++ >= MAX_REPEAT) {
      more++;
      continue;
    }
    mlg_issue_add(&pub->issues, "zip-duplicate-name", b->name, (int64_t)b->local_offset,
                  "same name as \"%s\" for torch (case-insensitive lookup) or zipfile (names cut "
                  "at NUL)", a->name);
  }
  if (more)
    mlg_issue_add(&pub->issues, "zip-duplicate-name", NULL, -1,
                  "%zu more duplicate names not listed", more);
}

static void check_layout(zip_impl *z, size_t *idx, uint64_t concat_start)
{
  mlg_zip *pub = &z->pub;
  size_t n = 0, i, reported = 0, more = 0, far = SIZE_MAX;
  uint64_t far_end = 0, first = UINT64_MAX;

  for (i = 0; i < pub->nentries; i++)
    if (!z->bad[i])
      idx[n++] = i;
  sort_idx(z, idx, n, cmp_by_offset);
  for (i = 0; i < n; i++) {
    const mlg_zip_entry *e = &pub->entries[idx[i]];
    uint64_t start = e->local_offset, end = z->end[idx[i]];
    if (start < first)
      first = start;
    if (far != SIZE_MAX && start < far_end) {
      if (reported++ < MAX_REPEAT)
        mlg_issue_add(&pub->issues, "zip-overlap", e->name, (int64_t)start,
                      "its bytes overlap those of \"%s\" (%llu..%llu)", pub->entries[far].name,
                      (unsigned long long)pub->entries[far].local_offset,
                      (unsigned long long)far_end);
      else
        more++;
    } else if (far != SIZE_MAX && start > far_end) {
      mlg_issue_add(&pub->issues, "zip-malformed", e->name, (int64_t)far_end,
                    "%llu bytes between entries belong to no member",
                    (unsigned long long)(start - far_end));
    }
    if (start < z->cd_end && end > z->cd_start) {
      if (reported++ < MAX_REPEAT)
        mlg_issue_add(&pub->issues, "zip-overlap", e->name, (int64_t)start,
                      "its bytes overlap the central directory (%llu..%llu)",
                      (unsigned long long)z->cd_start, (unsigned long long)z->cd_end);
      else
        more++;
    }
    if (far == SIZE_MAX || end > far_end) {
      far_end = end;
      far = idx[i];
    }
  }
  if (more)
    mlg_issue_add(&pub->issues, "zip-overlap", NULL, -1, "%zu more overlaps not listed", more);
  if (n && far_end < z->cd_start)
    mlg_issue_add(&pub->issues, "zip-malformed", NULL, (int64_t)far_end,
                  "%llu bytes before the central directory belong to no member",
                  (unsigned long long)(z->cd_start - far_end));
  if (first == UINT64_MAX && pub->nentries)
    return; /* no entry with a readable header: nothing to say about a stub */
  if (first == UINT64_MAX)
    first = z->cd_start;
  if (first > 0)
    mlg_issue_add(&pub->issues, "zip-prepended-data", NULL, 0,
                  "%llu bytes precede the first entry%s (a stub or polyglot; torch.load reads a "
                  "file that does not start with a local header as a pickle)",
                  (unsigned long long)first,
                  concat_start ? " and the offsets are relative to them" : "");
}

static void free_keys(zip_impl *z)
{
  size_t i;
  if (!z->keys)
    return;
  for (i = 0; i < z->pub.nentries; i++)
    free(z->keys[i]);
  free(z->keys);
  z->keys = NULL;
}

/* Adds one central entry; *stop is set when listing must end here. */
static int add_entry(zip_impl *z, const unsigned char *c, const unsigned char *name, size_t nlen,
                     const unsigned char *extra, size_t xlen, uint64_t at, int64_t concat,
                     size_t *cap, size_t *name_bytes, unsigned char *scratch, mlg_err *err)
{
  mlg_zip *pub = &z->pub;
  mlg_zip_entry *e;
  uint64_t lho;
  int zip64 = 0;
  unsigned need;
  const char *why;
  unsigned explained = 0;
  size_t i = pub->nentries;

  if (i == *cap) {
    size_t ncap = *cap ? *cap * 2 : 16;
    mlg_zip_entry *ne = realloc(pub->entries, ncap * sizeof *ne);
    unsigned char *nb;
    uint64_t *nend;
    char **nk;
    if (!ne)
      return mlg_err_set(err, MLG_ENOMEM, "out of memory");
    pub->entries = ne;
    nb = realloc(z->bad, ncap);
    if (!nb)
      return mlg_err_set(err, MLG_ENOMEM, "out of memory");
    z->bad = nb;
    nend = realloc(z->end, ncap * sizeof *nend);
    if (!nend)
      return mlg_err_set(err, MLG_ENOMEM, "out of memory");
    z->end = nend;
    nk = realloc(z->keys, ncap * sizeof *nk);
    if (!nk)
      return mlg_err_set(err, MLG_ENOMEM, "out of memory");
    z->keys = nk;
    *cap = ncap;
  }
  e = &pub->entries[i];
  memset(e, 0, sizeof *e);
  z->bad[i] = 0;
  z->end[i] = 0;
  z->keys[i] = NULL;
  e->name = escape_name(name, nlen);
  z->keys[i] = loose_key(name, nlen);
  pub->nentries++;
  if (!e->name || !z->keys[i])
    return mlg_err_set(err, MLG_ENOMEM, "out of memory");
  *name_bytes += strlen(e->name) + strlen(z->keys[i]) + 2;

  need = rd16(c + 6);
  e->flags = rd16(c + 8);
  e->method = rd16(c + 10);
  e->crc = rd32(c + 16);
  e->csize = rd32(c + 20);
  e->usize = rd32(c + 24);
  lho = rd32(c + 42);
  if (apply_extra(extra, xlen, &e->usize, &e->csize, &lho, &zip64) < 0)
    mlg_issue_add(&pub->issues, "zip-malformed", e->name, (int64_t)at,
                  "corrupt extra field (zipfile refuses the archive)");
  if ((need & 0xFF) > 63)
    mlg_issue_add(&pub->issues, "zip-malformed", e->name, (int64_t)at,
                  "needs zip version %u.%u (zipfile refuses the archive)", (need & 0xFF) / 10,
                  (need & 0xFF) % 10);
  if (concat < 0 && lho < (uint64_t)-concat) {
    mlg_issue_add(&pub->issues, "zip-malformed", e->name, (int64_t)at,
                  "the local header offset points before the start of the file");
    z->bad[i] = 1;
    e->local_offset = 0;
  } else if (concat > 0 && lho > UINT64_MAX - (uint64_t)concat) {
    mlg_issue_add(&pub->issues, "zip-malformed", e->name, (int64_t)at,
                  "the local header offset points past the end of the file");
    z->bad[i] = 1;
    e->local_offset = 0;
  } else {
    e->local_offset = lho + (uint64_t)concat;
  }

  why = traversal_reason(name, nlen);
  if (why)
    mlg_issue_add(&pub->issues, "zip-path-traversal", e->name, (int64_t)at, "the name %s", why);

  if (e->flags & (FLAG_ENCRYPTED | FLAG_STRONG)) {
    if (e->method == 0 && e->csize == e->usize) {
      mlg_issue_add(&pub->issues, "zip-flag-bits", e->name, (int64_t)e->local_offset,
                    "flags 0x%04x say encrypted but the member is stored with no room for an "
                    "encryption header: its bytes are plaintext (scanned; zipfile and torch refuse "
                    "to read it)", e->flags);
      explained = FLAG_STRONG;
    } else {
      e->encrypted = 1;
      explained = FLAG_STRONG;
      mlg_issue_add(&pub->issues, "zip-encrypted", e->name, (int64_t)e->local_offset,
                    "the member is encrypted and cannot be scanned");
    }
  }
  if (e->method == 99 && !e->encrypted) {
    e->encrypted = 1;
    mlg_issue_add(&pub->issues, "zip-encrypted", e->name, (int64_t)e->local_offset,
                  "the member is AES-encrypted and cannot be scanned");
  } else if (e->method != 0 && e->method != 8 && e->method != 99) {
    mlg_issue_add(&pub->issues, "zip-unsupported-method", e->name, (int64_t)e->local_offset,
                  "compression method %u (%s) is not supported: the member cannot be scanned",
                  e->method, method_name(e->method));
  }
  check_flags(pub, e, explained);
  if (e->method == 0 && e->csize != e->usize && !e->encrypted)
    mlg_issue_add(&pub->issues, "zip-malformed", e->name, (int64_t)e->local_offset,
                  "stored member with compressed size %llu but size %llu (zipfile reads the "
                  "smaller, torch the second; we read the first)", (unsigned long long)e->csize,
                  (unsigned long long)e->usize);
  if (e->method == 8 && e->usize > RATIO_FLOOR &&
      e->usize / pub->limits.max_ratio > (e->csize ? e->csize : 1))
    mlg_issue_add(&pub->issues, "zip-bomb", e->name, (int64_t)e->local_offset,
                  "declares %llu bytes from %llu compressed (ratio over %llu)",
                  (unsigned long long)e->usize, (unsigned long long)e->csize,
                  (unsigned long long)pub->limits.max_ratio);
  if (z->bad[i])
    return 0;
  return check_local(z, i, name, nlen, zip64, scratch, err);
}

static int zip_open(mlg_zip **out, int fd, const unsigned char *mem, uint64_t size,
                    const mlg_zip_limits *limits, mlg_err *err);

int mlg_zip_open(mlg_zip **out, int fd, uint64_t size, const mlg_zip_limits *limits,
                 mlg_err *err)
{
  if (fd < 0)
    return mlg_err_set(err, MLG_EINVAL, "invalid argument");
  return zip_open(out, fd, NULL, size, limits, err);
}

int mlg_zip_open_mem(mlg_zip **out, const void *data, size_t len, const mlg_zip_limits *limits,
                     mlg_err *err)
{
  if (!data && len)
    return mlg_err_set(err, MLG_EINVAL, "invalid argument");
  return zip_open(out, -1, data ? data : (const void *)"", len, limits, err);
}

static int zip_open(mlg_zip **out, int fd, const unsigned char *mem, uint64_t size,
                    const mlg_zip_limits *limits, mlg_err *err)
{
  zip_impl *z = NULL;
  mlg_zip *pub;
  eocd_info e;
  cd_reader cr = {0};
  unsigned char *scratch = NULL;
  size_t cap = 0, name_bytes = 0, *idx = NULL;
  uint64_t pos, total_declared = 0;
  int64_t concat;
  int rc = 0;

  if (!out)
    return mlg_err_set(err, MLG_EINVAL, "invalid argument");
  *out = NULL;
  z = calloc(1, sizeof *z);
  if (!z)
    return mlg_err_set(err, MLG_ENOMEM, "out of memory");
  pub = &z->pub;
  pub->fd = fd;
  pub->mem = mem;
  pub->size = size;
  if (limits)
    pub->limits = *limits;
  if (!pub->limits.max_entries)
    pub->limits.max_entries = DEF_MAX_ENTRIES;
  if (!pub->limits.max_total)
    pub->limits.max_total = DEF_MAX_TOTAL;
  if (!pub->limits.max_ratio)
    pub->limits.max_ratio = DEF_MAX_RATIO;

  rc = find_eocd(&e, z, err);
  if (rc)
    goto done;
  if (e.cd_size > e.base) {
    rc = mlg_err_set(err, MLG_EPARSE,
                     "bad central directory: %llu bytes do not fit before the end record at "
                     "offset %llu", (unsigned long long)e.cd_size, (unsigned long long)e.pos);
    goto done;
  }
  z->cd_start = e.base - e.cd_size;
  z->cd_end = e.pos + EOCD_LEN;
  /* Signed difference of two values below 2^64: the offset may lie. */
  if (z->cd_start >= e.cd_offset) {
    uint64_t d = z->cd_start - e.cd_offset;
    concat = d > INT64_MAX ? INT64_MAX : (int64_t)d;
  } else {
    uint64_t d = e.cd_offset - z->cd_start;
    concat = d > INT64_MAX ? -INT64_MAX : -(int64_t)d;
  }
  if (concat < 0)
    mlg_issue_add(&pub->issues, "zip-malformed", NULL, (int64_t)e.pos,
                  "the end record puts the central directory at %llu, past where it is (%llu)",
                  (unsigned long long)e.cd_offset, (unsigned long long)z->cd_start);
  if (e.zip64 && e.z64_reloff != e.base - (uint64_t)(concat > 0 ? concat : 0))
    mlg_issue_add(&pub->issues, "zip-malformed", NULL, (int64_t)(e.pos - Z64_LOC_LEN),
                  "the zip64 locator points at %llu, not at the zip64 end record (%llu)",
                  (unsigned long long)e.z64_reloff, (unsigned long long)e.base);

  cr.pub = pub;
  cr.cap = e.cd_size < CD_WINDOW ? (size_t)e.cd_size + CENTRAL_LEN : CD_WINDOW;
  cr.buf = malloc(cr.cap);
  scratch = malloc(LOCAL_LEN + 2 * 65535u);
  if (!cr.buf || !scratch) {
    rc = mlg_err_set(err, MLG_ENOMEM, "out of memory");
    goto done;
  }
  for (pos = z->cd_start; pos < e.base;) {
    const unsigned char *c = cd_need(&cr, pos, CENTRAL_LEN, e.base), *v;
    size_t nlen, xlen, clen;
    if (!c) {
      mlg_issue_add(&pub->issues, "zip-malformed", NULL, (int64_t)pos,
                    "truncated central directory entry (zipfile refuses the archive)");
      break;
    }
    if (rd32(c) != SIG_CENTRAL) {
      mlg_issue_add(&pub->issues, "zip-malformed", NULL, (int64_t)pos,
                    "bad central directory signature (zipfile refuses the archive)");
      break;
    }
    nlen = rd16(c + 28);
    xlen = rd16(c + 30);
    clen = rd16(c + 32);
    v = cd_need(&cr, pos, CENTRAL_LEN + nlen + xlen, e.base);
    if (!v) {
      /* zipfile reads the name and extra short (from a buffer of the
       * directory) and lists the entry, the last one. */
      uint64_t avail = e.base - pos - CENTRAL_LEN;
      mlg_issue_add(&pub->issues, "zip-malformed", NULL, (int64_t)pos,
                    "the last central directory entry runs past the end of the directory");
      if (nlen > avail)
        nlen = (size_t)avail;
      if (xlen > avail - nlen)
        xlen = (size_t)(avail - nlen);
      clen = 0;
      v = cd_need(&cr, pos, CENTRAL_LEN + nlen + xlen, e.base);
      if (!v)
        break;
    }
    if (pub->nentries >= pub->limits.max_entries || name_bytes > MAX_NAME_BYTES) {
      mlg_issue_add(&pub->issues, "zip-bomb", NULL, (int64_t)pos,
                    "more than %zu entries (or names too long): the rest are not listed",
                    pub->nentries);
      break;
    }
    rc = add_entry(z, v, v + CENTRAL_LEN, nlen, v + CENTRAL_LEN + nlen, xlen, pos, concat, &cap,
                   &name_bytes, scratch, err);
    if (rc)
      goto done;
    {
      const mlg_zip_entry *ent = &pub->entries[pub->nentries - 1];
      if (total_declared <= pub->limits.max_total &&
          ent->usize > pub->limits.max_total - total_declared) {
        total_declared = UINT64_MAX;
        mlg_issue_add(&pub->issues, "zip-bomb", ent->name, (int64_t)ent->local_offset,
                      "the members declare more than %llu bytes in total",
                      (unsigned long long)pub->limits.max_total);
      } else if (total_declared <= pub->limits.max_total) {
        total_declared += ent->usize;
      }
    }
    pos += CENTRAL_LEN + nlen + xlen + clen;
  }
  if (pos == e.base && e.entries != pub->nentries)
    mlg_issue_add(&pub->issues, "zip-malformed", NULL, (int64_t)e.pos,
                  "the end record counts %llu entries but the directory holds %zu (torch uses "
                  "the count)", (unsigned long long)e.entries, pub->nentries);

  idx = malloc((pub->nentries ? pub->nentries : 1) * sizeof *idx);
  if (!idx) {
    rc = mlg_err_set(err, MLG_ENOMEM, "out of memory");
    goto done;
  }
  check_duplicates(z, idx);
  check_layout(z, idx, concat > 0);
done:
  free(idx);
  free(scratch);
  free(cr.buf);
  if (z)
    free_keys(z);
  if (rc) {
    mlg_zip_close(pub);
    return rc;
  }
  *out = pub;
  return 0;
}

void mlg_zip_close(mlg_zip *pub)
{
  zip_impl *z = (zip_impl *)pub;
  size_t i;
  if (!z)
    return;
  for (i = 0; i < pub->nentries; i++) {
    free(pub->entries[i].name);
    free(pub->entries[i].local_name);
  }
  free(pub->entries);
  free(z->bad);
  free(z->end);
  free_keys(z);
  mlg_issues_free(&pub->issues);
  free(z);
}

/* --- member streams ------------------------------------------------------- */

typedef struct member {
  zip_impl *z;
  size_t i;
  uint64_t off;    /* next compressed byte to read */
  uint64_t left;   /* compressed bytes not yet read */
  uint64_t out;    /* uncompressed bytes delivered */
  uint32_t crc;
  int inflating, ended, done, fail;
  z_stream zs;
  size_t incap;
  unsigned char in[];
} member;

static int member_fail(member *m, mlg_err *err, int code, const char *what)
{
  m->fail = code;
  return mlg_err_set(err, code, "%s: %s", m->z->pub.entries[m->i].name, what);
}

/* At the end of the data: the size and CRC checks. */
static ssize_t member_finish(member *m, mlg_err *err)
{
  mlg_zip *pub = &m->z->pub;
  const mlg_zip_entry *e = &pub->entries[m->i];
  m->done = 1;
  if (m->out != e->usize)
    mlg_issue_add(&pub->issues, "zip-malformed", e->name, (int64_t)e->data_offset,
                  "holds %llu bytes but declares %llu", (unsigned long long)m->out,
                  (unsigned long long)e->usize);
  if (m->crc != e->crc) {
    mlg_issue_add(&pub->issues, "zip-bad-crc", e->name, (int64_t)e->data_offset,
                  "CRC-32 is %08x but the directory says %08x (zipfile refuses it; torch does not "
                  "check)", m->crc, e->crc);
    if (pub->limits.crc_issue_only)
      return 0;
    m->fail = MLG_EPARSE;
    return mlg_err_set(err, MLG_EPARSE, "%s: CRC-32 mismatch (%08x, expected %08x)", e->name,
                       m->crc, e->crc);
  }
  return 0;
}

static int member_limits(member *m, size_t produced, mlg_err *err)
{
  zip_impl *z = m->z;
  const mlg_zip_limits *l = &z->pub.limits;
  const mlg_zip_entry *e = &z->pub.entries[m->i];
  uint64_t out = m->out + produced;
  if (out > l->max_total || z->total_out + produced > l->max_total) {
    mlg_issue_add(&z->pub.issues, "zip-bomb", e->name, (int64_t)e->data_offset,
                  "decompressing past the limit of %llu bytes in total",
                  (unsigned long long)l->max_total);
    m->fail = MLG_ELIMIT;
    return mlg_err_set(err, MLG_ELIMIT, "%s: over the limit of %llu uncompressed bytes", e->name,
                       (unsigned long long)l->max_total);
  }
  /* A csize that runs past the end of the file is no larger than what is
   * there, so the ratio is taken against the bytes that exist. */
  uint64_t cs = e->csize > z->pub.size - e->data_offset ? z->pub.size - e->data_offset : e->csize;
  if (out > RATIO_FLOOR && out / l->max_ratio > (cs ? cs : 1)) {
    mlg_issue_add(&z->pub.issues, "zip-bomb", e->name, (int64_t)e->data_offset,
                  "decompresses to over %llu times its compressed size of %llu bytes",
                  (unsigned long long)l->max_ratio, (unsigned long long)cs);
    m->fail = MLG_ELIMIT;
    return mlg_err_set(err, MLG_ELIMIT, "%s: compression ratio over %llu", e->name,
                       (unsigned long long)l->max_ratio);
  }
  return 0;
}

/* Fills the input buffer; 0 at the end of the compressed data. */
static ssize_t member_fill(member *m, unsigned char *buf, size_t n, mlg_err *err)
{
  ssize_t r;
  if (n > m->left)
    n = (size_t)m->left;
  if (n == 0)
    return 0;
  r = pread_full(&m->z->pub, buf, n, m->off);
  if (r < 0) {
    m->fail = MLG_EIO;
    return mlg_err_set(err, MLG_EIO, "%s: read failed: %s", m->z->pub.entries[m->i].name,
                       strerror(errno));
  }
  if (r == 0) {
    mlg_issue_add(&m->z->pub.issues, "zip-malformed", m->z->pub.entries[m->i].name,
                  (int64_t)m->off, "the member data is cut short by the end of the file");
    return member_fail(m, err, MLG_EPARSE, "truncated member data");
  }
  m->off += (uint64_t)r;
  m->left -= (uint64_t)r;
  return r;
}

static ssize_t member_read(mlg_stream *s, void *buf, size_t n, mlg_err *err)
{
  member *m = s->ctx;
  size_t produced;
  ssize_t r;

  if (m->fail)
    return mlg_err_set(err, m->fail, "%s: the member could not be read",
                       m->z->pub.entries[m->i].name);
  if (m->done)
    return 0;
  if (n > (size_t)SSIZE_MAX)
    n = (size_t)SSIZE_MAX;
  if (!m->inflating) {
    r = member_fill(m, buf, n, err);
    if (r <= 0)
      return r < 0 ? r : member_finish(m, err);
    produced = (size_t)r;
  } else if (m->ended) {
    return member_finish(m, err);
  } else {
    int zr;
    for (;;) {
      if (m->zs.avail_in == 0 && m->left) {
        r = member_fill(m, m->in, m->incap, err);
        if (r < 0)
          return r;
        m->zs.next_in = m->in;
        m->zs.avail_in = (uInt)r;
      }
      m->zs.next_out = buf;
      m->zs.avail_out = n > UINT32_MAX ? UINT32_MAX : (uInt)n;
      zr = inflate(&m->zs, Z_NO_FLUSH);
      produced = (size_t)((unsigned char *)m->zs.next_out - (unsigned char *)buf);
      if (zr == Z_STREAM_END) {
        m->ended = 1;
        break;
      }
      if (zr == Z_NEED_DICT || zr == Z_DATA_ERROR || zr == Z_MEM_ERROR || zr == Z_STREAM_ERROR) {
        mlg_issue_add(&m->z->pub.issues, "zip-malformed", m->z->pub.entries[m->i].name,
                      (int64_t)m->off, "corrupt deflate data: %s",
                      m->zs.msg ? m->zs.msg : "inflate failed");
        return member_fail(m, err, MLG_EPARSE, "corrupt deflate data");
      }
      if (produced)
        break;
      if (m->zs.avail_in == 0 && m->left == 0) {
        mlg_issue_add(&m->z->pub.issues, "zip-malformed", m->z->pub.entries[m->i].name,
                      (int64_t)m->off, "the deflate stream ends before its last block");
        return member_fail(m, err, MLG_EPARSE, "truncated deflate data");
      }
    }
    if (!produced)
      return member_finish(m, err);
  }
  if (member_limits(m, produced, err))
    return m->fail;
  /* zipfile checks the CRC of the first usize bytes and drops the rest;
   * the rest is still delivered (and reported as a size mismatch). */
  {
    const mlg_zip_entry *e = &m->z->pub.entries[m->i];
    if (m->out < e->usize) {
      uint64_t k = e->usize - m->out < produced ? e->usize - m->out : produced;
      m->crc = (uint32_t)crc32_z(m->crc, buf, (size_t)k);
    }
  }
  m->out += produced;
  m->z->total_out += produced;
  return (ssize_t)produced;
}

static void member_close(mlg_stream *s)
{
  member *m = s->ctx;
  if (!m)
    return;
  if (m->inflating)
    inflateEnd(&m->zs);
  free(m);
}

int mlg_zip_member(mlg_stream *out, mlg_zip *pub, size_t i, mlg_err *err)
{
  zip_impl *z = (zip_impl *)pub;
  const mlg_zip_entry *e;
  member *m;

  if (!out || !pub)
    return mlg_err_set(err, MLG_EINVAL, "invalid argument");
  memset(out, 0, sizeof *out);
  if (i >= pub->nentries)
    return mlg_err_set(err, MLG_EINVAL, "no member %zu (the archive has %zu)", i, pub->nentries);
  e = &pub->entries[i];
  if (z->bad[i])
    return mlg_err_set(err, MLG_EPARSE, "%s: no valid local header at offset %llu", e->name,
                       (unsigned long long)e->local_offset);
  if (e->encrypted)
    return mlg_err_set(err, MLG_EINVAL, "%s: the member is encrypted", e->name);
  if (e->method != 0 && e->method != 8)
    return mlg_err_set(err, MLG_EINVAL, "%s: compression method %u (%s) is not supported",
                       e->name, e->method, method_name(e->method));
  {
    size_t incap = e->method == 8 ? (e->csize < IN_CHUNK ? (size_t)e->csize + 1 : IN_CHUNK) : 0;
    m = malloc(sizeof *m + incap);
    if (!m)
      return mlg_err_set(err, MLG_ENOMEM, "out of memory");
    memset(m, 0, sizeof *m);
    m->incap = incap;
  }
  m->z = z;
  m->i = i;
  m->off = e->data_offset;
  m->left = e->csize;
  m->crc = (uint32_t)crc32_z(0, Z_NULL, 0);
  if (e->method == 8) {
    if (inflateInit2(&m->zs, -15) != Z_OK) {
      free(m);
      return mlg_err_set(err, MLG_ENOMEM, "out of memory (inflate)");
    }
    m->inflating = 1;
  }
  out->read = member_read;
  out->close = member_close;
  out->ctx = m;
  out->size = e->method == 0 ? e->csize : UINT64_MAX;
  return 0;
}

int mlg_zip_sniff(const unsigned char *head, size_t len)
{
  if (!head || len < 4 || head[0] != 'P' || head[1] != 'K')
    return 0;
  if ((head[2] == 3 && head[3] == 4) || (head[2] == 5 && head[3] == 6))
    return 1;
  /* A spanning marker before the first local header (single-part). */
  return len >= 8 && head[2] == 7 && head[3] == 8 && head[4] == 'P' && head[5] == 'K' &&
         head[6] == 3 && head[7] == 4;
}
