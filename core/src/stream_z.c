/*
 * Stream adapters used by the model dispatcher: a stream with some bytes
 * put back in front (to route a member by its first bytes and then scan it
 * from the start), and zlib/gzip decompression (joblib's compressed
 * pickles) with an output cap against bombs.
 */
#include "stream_z.h"

#include <stdlib.h>
#include <string.h>

#include <zlib.h>

/* --- put-back ------------------------------------------------------------ */

typedef struct prefixed {
  mlg_stream *inner;
  unsigned char *head;
  size_t len, off;
} prefixed;

static ssize_t prefixed_read(mlg_stream *s, void *buf, size_t n, mlg_err *err)
{
  prefixed *p = s->ctx;
  if (p->off < p->len) {
    size_t k = p->len - p->off < n ? p->len - p->off : n;
    memcpy(buf, p->head + p->off, k);
    p->off += k;
    return (ssize_t)k;
  }
  return mlg_stream_read(p->inner, buf, n, err);
}

static void prefixed_close(mlg_stream *s)
{
  prefixed *p = s->ctx;
  if (p) {
    free(p->head);
    free(p);
  }
}

int mlg_stream_prefixed(mlg_stream *out, mlg_stream *inner, const void *head, size_t len,
                        mlg_err *err)
{
  prefixed *p = calloc(1, sizeof *p);
  memset(out, 0, sizeof *out);
  if (!p || (len && !(p->head = malloc(len)))) {
    free(p);
    return mlg_err_set(err, MLG_ENOMEM, "out of memory");
  }
  if (len)
    memcpy(p->head, head, len);
  p->len = len;
  p->inner = inner;
  out->read = prefixed_read;
  out->close = prefixed_close;
  out->ctx = p;
  out->size = inner->size;
  return 0;
}

/* --- zlib / gzip ------------------------------------------------------------ */

typedef struct inflater {
  mlg_stream *in;
  z_stream z;
  unsigned char buf[65536];
  uint64_t max_out, out;
  int done;
} inflater;

static ssize_t inflate_read(mlg_stream *s, void *buf, size_t n, mlg_err *err)
{
  inflater *f = s->ctx;
  uInt want = n > ((size_t)1 << 30) ? (uInt)1 << 30 : (uInt)n;
  if (f->done || n == 0)
    return 0;
  f->z.next_out = buf;
  f->z.avail_out = want;
  while (f->z.avail_out == want) { /* until some output (or the end) */
    int rc;
    if (f->z.avail_in == 0) {
      ssize_t r = mlg_stream_read(f->in, f->buf, sizeof f->buf, err);
      if (r < 0)
        return r;
      if (r == 0)
        return mlg_err_set(err, MLG_EPARSE, "compressed data ends early");
      f->z.next_in = f->buf;
      f->z.avail_in = (uInt)r;
    }
    rc = inflate(&f->z, Z_NO_FLUSH);
    if (rc == Z_STREAM_END) {
      f->done = 1;
      break;
    }
    if (rc != Z_OK && rc != Z_BUF_ERROR)
      return mlg_err_set(err, MLG_EPARSE, "corrupt compressed data (%s)",
                         f->z.msg ? f->z.msg : "zlib error");
  }
  {
    size_t got = (size_t)((unsigned char *)f->z.next_out - (unsigned char *)buf);
    f->out += got;
    if (f->out > f->max_out)
      return mlg_err_set(err, MLG_ELIMIT, "decompresses to more than %llu bytes",
                         (unsigned long long)f->max_out);
    return (ssize_t)got;
  }
}

static void inflate_close(mlg_stream *s)
{
  inflater *f = s->ctx;
  if (f) {
    inflateEnd(&f->z);
    free(f);
  }
}

int mlg_stream_inflate(mlg_stream *out, mlg_stream *in, mlg_zkind kind, uint64_t max_out,
                       mlg_err *err)
{
  inflater *f = calloc(1, sizeof *f);
  int bits = kind == MLG_Z_GZIP ? 16 + MAX_WBITS : kind == MLG_Z_RAW ? -MAX_WBITS : MAX_WBITS;
  memset(out, 0, sizeof *out);
  if (!f)
    return mlg_err_set(err, MLG_ENOMEM, "out of memory");
  if (inflateInit2(&f->z, bits) != Z_OK) {
    free(f);
    return mlg_err_set(err, MLG_ENOMEM, "cannot start zlib");
  }
  f->in = in;
  f->max_out = max_out ? max_out : UINT64_MAX;
  out->read = inflate_read;
  out->close = inflate_close;
  out->ctx = f;
  out->size = UINT64_MAX;
  return 0;
}
