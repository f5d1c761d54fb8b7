/*
 * Byte streams for analysers: a file descriptor, a memory buffer, or a
 * member being decompressed out of an archive, all read the same way, so
 * a scanner never needs the whole artifact in memory.
 */
#ifndef MLG_STREAM_H
#define MLG_STREAM_H

#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#include "err.h"

typedef struct mlg_stream mlg_stream;

struct mlg_stream {
  /* Reads up to n bytes into buf: the count, 0 at the end, or a negative
   * MLG_E* code with err filled (MLG_ELIMIT for a decompression bomb,
   * MLG_EPARSE for a corrupt member, MLG_EIO for the OS). */
  ssize_t (*read)(mlg_stream *s, void *buf, size_t n, mlg_err *err);
  /* Releases what the stream owns (not the fd of mlg_stream_fd). May be
   * NULL. */
  void (*close)(mlg_stream *s);
  void *ctx;     /* state of other stream kinds (zip members, ...) */
  uint64_t pos;  /* bytes delivered so far (maintained by mlg_stream_read) */
  uint64_t size; /* total size when known, else UINT64_MAX */
  union {        /* state of the built-in kinds, so they need no allocation */
    struct {
      int fd;
      uint64_t left;
    } fd;
    struct {
      const unsigned char *data;
      size_t len, off;
    } mem;
  } u;
};

/* Reads through s->read and advances s->pos. */
ssize_t mlg_stream_read(mlg_stream *s, void *buf, size_t n, mlg_err *err);

/* Reads exactly n bytes: 0, or MLG_EPARSE "unexpected end of data" when
 * the stream ends first, or the read error. */
int mlg_stream_read_full(mlg_stream *s, void *buf, size_t n, mlg_err *err);

/* Skips n bytes (reading and discarding, or seeking when possible). */
int mlg_stream_skip(mlg_stream *s, uint64_t n, mlg_err *err);

/* Streams over a file descriptor from its current offset, reading at most
 * limit bytes (UINT64_MAX: to the end). The fd stays the caller's. */
void mlg_stream_fd(mlg_stream *s, int fd, uint64_t limit);

/* Streams over memory (not copied: it must outlive the stream). */
void mlg_stream_mem(mlg_stream *s, const void *data, size_t len);

void mlg_stream_close(mlg_stream *s);

#endif
