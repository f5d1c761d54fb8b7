#include "buf.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "err.h"

int mlg_buf_grow(mlg_buf *b, size_t extra)
{
  size_t need, cap;
  char *p;

  if (extra > (size_t)-1 - b->len - 1)
    return MLG_ENOMEM;
  need = b->len + extra + 1;
  if (need <= b->cap)
    return 0;
  cap = b->cap ? b->cap : 64;
  while (cap < need)
    cap = cap > (size_t)-1 / 2 ? need : cap * 2;
  p = realloc(b->ptr, cap);
  if (!p)
    return MLG_ENOMEM;
  b->ptr = p;
  b->cap = cap;
  return 0;
}

int mlg_buf_vprintf(mlg_buf *b, const char *fmt, va_list ap)
{
  va_list ap2;
  int n, rc;

  va_copy(ap2, ap);
  n = vsnprintf(NULL, 0, fmt, ap2);
  va_end(ap2);
  if (n < 0)
    return MLG_EINVAL;
  if ((rc = mlg_buf_grow(b, (size_t)n)) != 0)
    return rc;
  vsnprintf(b->ptr + b->len, (size_t)n + 1, fmt, ap);
  b->len += (size_t)n;
  return 0;
}

int mlg_buf_printf(mlg_buf *b, const char *fmt, ...)
{
  va_list ap;
  int rc;
  va_start(ap, fmt);
  rc = mlg_buf_vprintf(b, fmt, ap);
  va_end(ap);
  return rc;
}

char *mlg_buf_detach(mlg_buf *b)
{
  char *p = b->ptr;
  if (!p)
    p = calloc(1, 1);
  b->ptr = NULL;
  b->len = b->cap = 0;
  return p;
}

void mlg_buf_clear(mlg_buf *b)
{
  b->len = 0;
  if (b->ptr)
    b->ptr[0] = '\0';
}

void mlg_buf_free(mlg_buf *b)
{
  if (!b)
    return;
  free(b->ptr);
  b->ptr = NULL;
  b->len = b->cap = 0;
}
