/*
 * libFuzzer harness for mlg_safetensors_check and mlg_safetensors_sniff:
 * the input is the file. It is checked from memory, through a stream that
 * returns a few bytes per read (the issues must be identical), and as a
 * stream of unknown size; never a crash, leak or unbounded allocation.
 */
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "safetensors.h"

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
  mlg_safetensors_info ia, ib, ic;
  mlg_err err;
  trickle t = {data, size, 0, 1 + (size ? data[size - 1] % 7 : 0)};

  (void)mlg_safetensors_sniff(data, size, size);
  mlg_stream_mem(&s, data, size);
  if (mlg_safetensors_check(&ia, &s, size, &a, &err) != 0)
    abort(); /* memory streams cannot fail */
  memset(&s, 0, sizeof s);
  s.read = trickle_read;
  s.ctx = &t;
  if (mlg_safetensors_check(&ib, &s, size, &b, &err) != 0)
    abort();
  same(&a, &b);
  if (memcmp(&ia, &ib, sizeof ia) != 0)
    abort();
  if (a.len == 0 && (ia.header_len + 8 + ia.data_len != size))
    abort();
  mlg_stream_mem(&s, data, size);
  if (mlg_safetensors_check(&ic, &s, UINT64_MAX, &c, &err) != 0)
    abort();
  mlg_issues_free(&a);
  mlg_issues_free(&b);
  mlg_issues_free(&c);
  return 0;
}
