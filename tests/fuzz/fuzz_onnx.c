/*
 * libFuzzer harness for mlg_onnx_check and mlg_onnx_sniff: the input is
 * the model, read from memory and through a stream that returns a few
 * bytes per read (same issues, locations and domains), and as a stream of
 * unknown size. Lengths that lie, groups, deep nesting and 10+-byte varints
 * must give issues, never a crash, a leak or a read past the input.
 */
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "onnx.h"

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

static void same_list(char **a, size_t na, char **b, size_t nb)
{
  size_t i;
  if (na != nb)
    abort();
  for (i = 0; i < na; i++) {
    if (strcmp(a[i], b[i]) != 0)
      abort();
  }
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
  mlg_stream s;
  mlg_issues a = {0}, b = {0}, c = {0};
  mlg_onnx_info ia, ib, ic;
  mlg_err err;
  trickle t = {data, size, 0, 1 + (size ? data[size - 1] % 7 : 0)};

  (void)mlg_onnx_sniff(data, size);
  mlg_stream_mem(&s, data, size);
  if (mlg_onnx_check(&ia, &s, size, &a, &err) != 0)
    abort();
  memset(&s, 0, sizeof s);
  s.read = trickle_read;
  s.ctx = &t;
  if (mlg_onnx_check(&ib, &s, size, &b, &err) != 0)
    abort();
  same(&a, &b);
  if (ia.ir_version != ib.ir_version)
    abort();
  same_list(ia.external, ia.nexternal, ib.external, ib.nexternal);
  same_list(ia.domains, ia.ndomains, ib.domains, ib.ndomains);
  mlg_stream_mem(&s, data, size);
  if (mlg_onnx_check(&ic, &s, UINT64_MAX, &c, &err) != 0)
    abort();
  mlg_onnx_info_free(&ia);
  mlg_onnx_info_free(&ib);
  mlg_onnx_info_free(&ic);
  mlg_issues_free(&a);
  mlg_issues_free(&b);
  mlg_issues_free(&c);
  return 0;
}
