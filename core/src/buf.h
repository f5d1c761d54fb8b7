/*
 * Growable byte buffer. Always NUL-terminated after a successful append so
 * the contents can be used as a C string when they hold no NUL bytes.
 */
#ifndef MLG_BUF_H
#define MLG_BUF_H

#include <stdarg.h>
#include <stddef.h>

typedef struct mlg_buf {
  char *ptr;
  size_t len;
  size_t cap;
} mlg_buf;

#define MLG_BUF_INIT {NULL, 0, 0}

int mlg_buf_grow(mlg_buf *b, size_t extra);
int mlg_buf_put(mlg_buf *b, const void *data, size_t len);
int mlg_buf_puts(mlg_buf *b, const char *s);
int mlg_buf_putc(mlg_buf *b, char c);
int mlg_buf_printf(mlg_buf *b, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));
int mlg_buf_vprintf(mlg_buf *b, const char *fmt, va_list ap);
/* Gives the caller ownership of the bytes; the buffer becomes empty. */
char *mlg_buf_detach(mlg_buf *b);
void mlg_buf_clear(mlg_buf *b);
void mlg_buf_free(mlg_buf *b);

#endif
