/*
 * ZIP reading for model containers (PyTorch checkpoints, .npz, .keras),
 * written to be read the way the loaders read it and not to be fooled the
 * way picklescan was: the central directory is the index (as Python's
 * zipfile and torch do), every entry's local header is checked against it,
 * and anomalies are reported as issues rather than skipped:
 *   zip-name-mismatch      local and central names differ
 *   zip-duplicate-name     two entries with one name
 *   zip-path-traversal     absolute names, "..", backslashes, drive letters
 *   zip-encrypted          encrypted member (cannot be scanned)
 *   zip-unsupported-method compression other than stored/deflate
 *   zip-bad-crc            CRC-32 mismatch (found when a member is read)
 *   zip-bomb               compression ratio or total size over the limits
 *   zip-overlap            entries whose data overlap (or overlap the directory)
 *   zip-prepended-data     bytes before the first entry
 *   zip-flag-bits          unusual general-purpose flags
 *   zip-malformed          a structure that does not parse (also as an error)
 *   zip64                  (not an issue: zip64 records are read correctly)
 *
 * How torch (miniz) reads differently from zipfile - names looked up
 * case-insensitively in the central directory, local names and CRCs
 * ignored, the record prefix taken from the first entry - is written up at
 * the top of zipx.c; each difference is reported as one of the issues above.
 * `encrypted` is set for bit 0/6 with room for an encryption header, or
 * AES (method 99); a stored member flagged encrypted whose sizes match is
 * plaintext ("fake encryption", zip-flag-bits) and is read.
 */
#ifndef MLG_ZIPX_H
#define MLG_ZIPX_H

#include <stddef.h>
#include <stdint.h>

#include "err.h"
#include "issues.h"
#include "stream.h"

typedef struct mlg_zip_entry {
  char *name;            /* central directory name (NUL-free, malloc'd) */
  char *local_name;      /* local header name when it differs, else NULL */
  uint64_t csize, usize; /* compressed / uncompressed sizes */
  uint64_t local_offset; /* of the local header */
  uint64_t data_offset;  /* of the member data */
  uint32_t crc;
  uint16_t method, flags;
  int encrypted;
} mlg_zip_entry;

typedef struct mlg_zip_limits {
  size_t max_entries;       /* 0 = 100,000 */
  uint64_t max_total;       /* total uncompressed bytes; 0 = 64 GiB */
  uint64_t max_ratio;       /* uncompressed / compressed per member; 0 = 1000 */
  int crc_issue_only;       /* a CRC mismatch is the zip-bad-crc issue and a normal end of
                             * the member, not a read error: torch does not check CRCs,
                             * so a scanner must read what torch reads */
} mlg_zip_limits;

typedef struct mlg_zip {
  int fd;                 /* -1 for an archive in memory */
  const unsigned char *mem; /* memory image (mlg_zip_open_mem), or NULL */
  uint64_t size;
  mlg_zip_entry *entries; /* central directory order */
  size_t nentries;
  mlg_zip_limits limits;
  mlg_issues issues;      /* found while opening and reading members */
} mlg_zip;

/* Reads the directory of the zip in fd (size bytes; the fd stays the
 * caller's and must stay open). A file that is not a zip at all is
 * MLG_EPARSE; a zip with anomalies opens and lists them in issues. */
int mlg_zip_open(mlg_zip **out, int fd, uint64_t size, const mlg_zip_limits *limits,
                 mlg_err *err);
/* The same for an archive held in memory (an archive nested in another):
 * data must outlive the zip. */
int mlg_zip_open_mem(mlg_zip **out, const void *data, size_t len, const mlg_zip_limits *limits,
                     mlg_err *err);
void mlg_zip_close(mlg_zip *z);

/* A stream of member i's uncompressed bytes (stored or deflate, via zlib),
 * checking the CRC at the end (zip-bad-crc; an MLG_EPARSE error on the
 * final read unless limits.crc_issue_only) and the ratio/total limits as it
 * goes (MLG_ELIMIT). Every byte inflated is delivered, even past the
 * declared size (a superset of what zipfile returns; the mismatch is an
 * issue). The stream's size is the stored size for stored members and
 * UINT64_MAX for deflate ones. Encrypted members and unsupported methods
 * fail with MLG_EINVAL. Close it with mlg_stream_close before mlg_zip_close. */
int mlg_zip_member(mlg_stream *out, mlg_zip *z, size_t i, mlg_err *err);

/* 1 when the first bytes look like a zip (local header or empty archive). */
int mlg_zip_sniff(const unsigned char *head, size_t len);

#endif
