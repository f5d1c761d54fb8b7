/*
 * libFuzzer harness for mlg_gguf_check: the input is the file, read from
 * memory, through a stream that returns a few bytes per read (issues and
 * info must be identical) and as a stream of unknown size. Counts of 2^60
 * and lying lengths must never allocate or loop beyond the input.
 */
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "gguf.h"

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

static int streq(const char *a, const char *b)
{
  return (!a && !b) || (a && b && strcmp(a, b) == 0);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
  mlg_stream s;
  mlg_issues a = {0}, b = {0}, c = {0};
  mlg_gguf_info ia, ib, ic;
  mlg_err err;
  trickle t = {data, size, 0, 1 + (size ? data[size - 1] % 7 : 0)};

  mlg_stream_mem(&s, data, size);
  if (mlg_gguf_check(&ia, &s, size, &a, &err) != 0)
    abort();
  memset(&s, 0, sizeof s);
  s.read = trickle_read;
  s.ctx = &t;
  if (mlg_gguf_check(&ib, &s, size, &b, &err) != 0)
    abort();
  same(&a, &b);
  if (ia.version != ib.version || ia.ntensors != ib.ntensors || ia.nkv != ib.nkv ||
      !streq(ia.architecture, ib.architecture) || !streq(ia.chat_template, ib.chat_template) ||
      ia.chat_template_len != ib.chat_template_len ||
      ia.chat_template_offset != ib.chat_template_offset)
    abort();
  if (ia.chat_template && (strlen(ia.chat_template) > 65536 ||
                           ia.chat_template_offset + ia.chat_template_len > size))
    abort();
  mlg_stream_mem(&s, data, size);
  if (mlg_gguf_check(&ic, &s, UINT64_MAX, &c, &err) != 0)
    abort();
  mlg_gguf_info_free(&ia);
  mlg_gguf_info_free(&ib);
  mlg_gguf_info_free(&ic);
  mlg_issues_free(&a);
  mlg_issues_free(&b);
  mlg_issues_free(&c);
  return 0;
}
