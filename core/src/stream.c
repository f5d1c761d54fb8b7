#include "stream.h"

#include <errno.h>
#include <string.h>
#include <unistd.h>

ssize_t mlg_stream_read(mlg_stream *s, void *buf, size_t n, mlg_err *err)
{
  ssize_t r;
  if (n == 0)
    return 0;
  r = s->read(s, buf, n, err);
  if (r > 0)
    s->pos += (uint64_t)r;
  return r;
}

int mlg_stream_read_full(mlg_stream *s, void *buf, size_t n, mlg_err *err)
{
  char *p = buf;
  while (n) {
    ssize_t r = mlg_stream_read(s, p, n, err);
    if (r < 0)
      return (int)r;
    if (r == 0)
      return mlg_err_set(err, MLG_EPARSE, "unexpected end of data at offset %llu",
                         (unsigned long long)s->pos);
    p += r;
    n -= (size_t)r;
  }
  return 0;
}

static ssize_t fd_read(mlg_stream *s, void *buf, size_t n, mlg_err *err)
{
  ssize_t r;
  if (s->u.fd.left < n)
    n = (size_t)s->u.fd.left;
  if (n == 0)
    return 0;
  do
    r = read(s->u.fd.fd, buf, n);
  while (r < 0 && errno == EINTR);
  if (r < 0)
    return mlg_err_set(err, MLG_EIO, "read failed: %s", strerror(errno));
  s->u.fd.left -= (uint64_t)r;
  return r;
}

void mlg_stream_fd(mlg_stream *s, int fd, uint64_t limit)
{
  memset(s, 0, sizeof *s);
  s->read = fd_read;
  s->size = limit;
  s->u.fd.fd = fd;
  s->u.fd.left = limit;
}

static ssize_t mem_read(mlg_stream *s, void *buf, size_t n, mlg_err *err)
{
  size_t left = s->u.mem.len - s->u.mem.off;
  (void)err;
  if (n > left)
    n = left;
  if (n)
    memcpy(buf, s->u.mem.data + s->u.mem.off, n);
  s->u.mem.off += n;
  return (ssize_t)n;
}

void mlg_stream_mem(mlg_stream *s, const void *data, size_t len)
{
  memset(s, 0, sizeof *s);
  s->read = mem_read;
  s->size = len;
  s->u.mem.data = data;
  s->u.mem.len = len;
}

int mlg_stream_skip(mlg_stream *s, uint64_t n, mlg_err *err)
{
  char buf[65536];
  uint64_t k = n;

  /* Files seek and memory moves an offset; other streams read and
   * discard (a decompressor must produce the bytes anyway). */
  if (s->read == fd_read && lseek(s->u.fd.fd, 0, SEEK_CUR) >= 0) {
    if (k > s->u.fd.left)
      k = s->u.fd.left;
    if (lseek(s->u.fd.fd, (off_t)k, SEEK_CUR) < 0)
      return mlg_err_set(err, MLG_EIO, "seek failed: %s", strerror(errno));
    s->u.fd.left -= k;
    s->pos += k;
    n -= k;
  } else if (s->read == mem_read) {
    size_t left = s->u.mem.len - s->u.mem.off;
    if (k > left)
      k = left;
    s->u.mem.off += (size_t)k;
    s->pos += k;
    n -= k;
  }
  while (n) {
    ssize_t r = mlg_stream_read(s, buf, n < sizeof buf ? (size_t)n : sizeof buf, err);
    if (r < 0)
      return (int)r;
    if (r == 0)
      break;
    n -= (uint64_t)r;
  }
  if (n)
    return mlg_err_set(err, MLG_EPARSE, "unexpected end of data at offset %llu",
                       (unsigned long long)s->pos);
  return 0;
}

void mlg_stream_close(mlg_stream *s)
{
  if (s && s->close)
    s->close(s);
  if (s) {
    s->close = NULL;
    s->ctx = NULL;
  }
}
