#include "err.h"

#include <stdarg.h>
#include <stdio.h>
#include <string.h>

int mlg_err_set(mlg_err *err, int code, const char *fmt, ...)
{
  if (err) {
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(err->msg, sizeof err->msg, fmt, ap);
    va_end(ap);
    err->code = code;
  }
  return code;
}

int mlg_err_prefix(mlg_err *err, const char *fmt, ...)
{
  char prefix[512], old[MLG_ERR_MSG_MAX];
  va_list ap;

  if (!err)
    return MLG_EINVAL;
  va_start(ap, fmt);
  vsnprintf(prefix, sizeof prefix, fmt, ap);
  va_end(ap);
  memcpy(old, err->msg, sizeof old);
  /* Truncation is fine: the message stays a readable prefix. */
  size_t n = strlen(prefix);
  if (n > sizeof err->msg - 3)
    n = sizeof err->msg - 3;
  memcpy(err->msg, prefix, n);
  memcpy(err->msg + n, ": ", 2);
  n += 2;
  size_t m = strnlen(old, sizeof old - 1);
  if (m > sizeof err->msg - 1 - n)
    m = sizeof err->msg - 1 - n;
  memcpy(err->msg + n, old, m);
  err->msg[n + m] = '\0';
  return err->code;
}

void mlg_err_clear(mlg_err *err)
{
  if (err) {
    err->code = 0;
    err->msg[0] = '\0';
  }
}

const char *mlg_err_name(int code)
{
  switch (code) {
  case MLG_OK: return "ok";
  case MLG_EINVAL: return "invalid input";
  case MLG_ENOMEM: return "out of memory";
  case MLG_EIO: return "I/O error";
  case MLG_EPARSE: return "parse error";
  case MLG_ELIMIT: return "limit exceeded";
  case MLG_ENOENT: return "not found";
  case MLG_EACCES: return "access refused";
  case MLG_EPOLICY: return "policy error";
  case MLG_ECRASH: return "engine crash";
  case MLG_ECONFIG: return "configuration error";
  default: return "error";
  }
}
