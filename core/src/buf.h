/*
 * Growable byte buffer. Always NUL-terminated after a successful append so
 * the contents can be used as a C string when they hold no NUL bytes.
 */
#ifndef MLG_BUF_H
#define MLG_BUF_H

#include <stdarg.h>
#include <stddef.h>
#include <string.h>

typedef struct mlg_buf {
  char *ptr;
  size_t len;
  size_t cap;
} mlg_buf;

#define MLG_BUF_INIT {NULL, 0, 0}

int mlg_buf_grow(mlg_buf *b, size_t extra);

/* Appends are inline: report and record writers call them per token, and
 * the call was a good part of writing a large report. */
static inline int mlg_buf_put(mlg_buf *b, const void *data, size_t len)
{
  if (len >= b->cap - b->len || !b->ptr) {
    int rc = mlg_buf_grow(b, len);
    if (rc)
      return rc;
  }
  if (len)
    memcpy(b->ptr + b->len, data, len);
  b->len += len;
  b->ptr[b->len] = '\0';
  return 0;
}

static inline int mlg_buf_puts(mlg_buf *b, const char *s)
{
  return mlg_buf_put(b, s, strlen(s));
}

static inline int mlg_buf_putc(mlg_buf *b, char c)
{
  if (b->cap - b->len < 2 || !b->ptr) {
    int rc = mlg_buf_grow(b, 1);
    if (rc)
      return rc;
  }
  b->ptr[b->len++] = c;
  b->ptr[b->len] = '\0';
  return 0;
}
int mlg_buf_printf(mlg_buf *b, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));
int mlg_buf_vprintf(mlg_buf *b, const char *fmt, va_list ap);
/* Gives the caller ownership of the bytes; the buffer becomes empty. */
char *mlg_buf_detach(mlg_buf *b);
void mlg_buf_clear(mlg_buf *b);
void mlg_buf_free(mlg_buf *b);

#endif
