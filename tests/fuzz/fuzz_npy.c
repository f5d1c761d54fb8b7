/*
 * libFuzzer harness for mlg_npy_header: the input is the file, read from
 * memory and through a stream that returns a few bytes per read (same
 * issues and info), and as a stream of unknown size. The header literal
 * parser must never crash, recurse without bound or leak.
 */
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "npy.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

typedef struct trickle {
  const uint8_t *p;
  size_t len, off, step;
} trickle;

static ssize_t trickle_read(mlg_stream *s, void *buf, size_t n, mlg_err *err)
{
  trickle *t = s->ctx;
  (void)err;
  if (n > t->step)
    n = t->step;
  if (n > t->len - t->off)
    n = t->len - t->off;
  memcpy(buf, t->p + t->off, n);
  t->off += n;
  return (ssize_t)n;
}

static void same(const mlg_issues *a, const mlg_issues *b)
{
  size_t i;
  if (a->len != b->len || a->dropped != b->dropped)
    abort();
  for (i = 0; i < a->len; i++) {
    if (strcmp(a->items[i].code, b->items[i].code) != 0 ||
        strcmp(a->items[i].message, b->items[i].message) != 0 ||
        a->items[i].offset != b->items[i].offset)
      abort();
  }
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
  mlg_stream s;
  mlg_issues a = {0}, b = {0}, c = {0};
  mlg_npy_info ia, ib, ic;
  mlg_err err;
  trickle t = {data, size, 0, 1 + (size ? data[size - 1] % 7 : 0)};

  mlg_stream_mem(&s, data, size);
  if (mlg_npy_header(&ia, &s, size, &a, &err) != 0)
    abort();
  /* on success the stream stands at the data */
  if (a.len == 0 && s.pos != ia.data_offset)
    abort();
  memset(&s, 0, sizeof s);
  s.read = trickle_read;
  s.ctx = &t;
  if (mlg_npy_header(&ib, &s, size, &b, &err) != 0)
    abort();
  same(&a, &b);
  if (ia.ndim != ib.ndim || ia.object_dtype != ib.object_dtype || ia.itemsize != ib.itemsize ||
      ia.data_offset != ib.data_offset || ia.fortran_order != ib.fortran_order ||
      (!ia.descr) != (!ib.descr) || (ia.descr && strcmp(ia.descr, ib.descr) != 0) ||
      memcmp(ia.shape, ib.shape, sizeof ia.shape) != 0 || ia.ndim > 32)
    abort();
  mlg_stream_mem(&s, data, size);
  if (mlg_npy_header(&ic, &s, UINT64_MAX, &c, &err) != 0)
    abort();
  mlg_npy_info_free(&ia);
  mlg_npy_info_free(&ib);
  mlg_npy_info_free(&ic);
  mlg_issues_free(&a);
  mlg_issues_free(&b);
  mlg_issues_free(&c);
  return 0;
}
