/*
 * Other archive formats through libarchive (the only file that includes
 * archive.h): tar (PyTorch's legacy tar checkpoints: sys_info, pickle,
 * storages, tensors) and 7z, which picklescan-style attacks use to hide a
 * pickle. Members are read sequentially: the callback gets each regular
 * member's name, size and a stream of its bytes.
 */
#ifndef MLG_ARCH_H
#define MLG_ARCH_H

#include <stdint.h>

#include "err.h"
#include "issues.h"
#include "stream.h"

typedef enum mlg_arch_kind {
  MLG_ARCH_NONE = 0,
  MLG_ARCH_TAR,
  MLG_ARCH_7Z,
  MLG_ARCH_GZIP, /* a gzip stream (tar.gz is TAR) */
  MLG_ARCH_OTHER
} mlg_arch_kind;

/* Which archive format the first bytes announce (tar by its ustar magic at
 * offset 257, 7z by its signature). */
mlg_arch_kind mlg_arch_sniff(const unsigned char *head, size_t len);

typedef struct mlg_arch_limits {
  size_t max_entries;  /* 0 = 100,000 */
  uint64_t max_total;  /* total uncompressed bytes; 0 = 64 GiB */
  uint64_t max_ratio;  /* for compressed archives; 0 = 1000 */
} mlg_arch_limits;

/* Called per regular member; return 0 to go on, non-zero to stop (that
 * value is returned by mlg_arch_each). The stream is valid only during the
 * call; unread bytes are skipped. */
typedef int (*mlg_arch_member_fn)(void *ud, const char *name, uint64_t size, mlg_stream *s);

/* Iterates the archive in fd (from offset 0). Anomalies (encrypted
 * entries, traversal names, links, limits) become issues with the codes of
 * zipx.h where they apply ("arch-encrypted", "arch-path-traversal",
 * "arch-link", "arch-duplicate-name", "arch-bomb", "arch-malformed"); tar
 * offsets are header positions, 7z ones -1. Hard links without data of
 * their own are reported, not handed over. A compressed stream holding no
 * archive (an xz'd pickle) comes out as one member named "data". Filters
 * are registered one by one (gzip, bzip2, xz, lzma, lzip, zstd, lz4,
 * compress), never "all": that would run external decompressors.
 * libarchive itself is loaded on first use (dlopen). */
int mlg_arch_each(int fd, const mlg_arch_limits *limits, mlg_arch_member_fn fn, void *ud,
                  mlg_issues *issues, mlg_err *err);

/* The same over an archive held in memory (nested in another archive). */
int mlg_arch_each_mem(const void *data, size_t len, const mlg_arch_limits *limits,
                      mlg_arch_member_fn fn, void *ud, mlg_issues *issues, mlg_err *err);

#endif
