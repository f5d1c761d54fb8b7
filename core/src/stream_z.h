/*
 * Stream adapters for the model dispatcher (stream_z.c, the only file that
 * includes zlib.h besides zipx.c): put-back of already-read head bytes, and
 * zlib/gzip/raw-deflate decompression with an output cap.
 */
#ifndef MLG_STREAM_Z_H
#define MLG_STREAM_Z_H

#include <stddef.h>
#include <stdint.h>

#include "err.h"
#include "stream.h"

/* A stream that delivers head[0..len) and then the rest of inner (which
 * must outlive it). Close with mlg_stream_close. */
int mlg_stream_prefixed(mlg_stream *out, mlg_stream *inner, const void *head, size_t len,
                        mlg_err *err);

typedef enum mlg_zkind {
  MLG_Z_ZLIB = 0, /* RFC 1950 (0x78 ..), what joblib's default compression writes */
  MLG_Z_GZIP,     /* RFC 1952 */
  MLG_Z_RAW       /* RFC 1951 deflate */
} mlg_zkind;

/* Decompresses in; more than max_out output bytes is MLG_ELIMIT (0 = no
 * cap). Close with mlg_stream_close (in is not closed). */
int mlg_stream_inflate(mlg_stream *out, mlg_stream *in, mlg_zkind kind, uint64_t max_out,
                       mlg_err *err);

#endif
