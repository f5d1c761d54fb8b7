/*
 * Error reporting shared by every module.
 *
 * Functions that can fail return 0 on success or a negative MLG_E* code, and
 * fill an mlg_err (when the caller passes one) with a one-sentence message
 * that names the file and position where that makes sense.
 */
#ifndef MLG_ERR_H
#define MLG_ERR_H

#include <stddef.h>

enum {
  MLG_OK = 0,
  MLG_EINVAL = -1,   /* bad argument or bad input data */
  MLG_ENOMEM = -2,   /* allocation failed */
  MLG_EIO = -3,      /* read/write failure from the OS */
  MLG_EPARSE = -4,   /* syntax error in an input document */
  MLG_ELIMIT = -5,   /* a configured limit was reached */
  MLG_ENOENT = -6,   /* no such file, key or object */
  MLG_EACCES = -7,   /* refused: outside the workspace, symlink escape */
  MLG_EPOLICY = -8,  /* a policy failed to load or raised */
  MLG_ECRASH = -9,   /* an isolated evaluation died */
  MLG_ECONFIG = -10  /* invalid configuration */
};

#define MLG_ERR_MSG_MAX 1024

typedef struct mlg_err {
  int code;
  char msg[MLG_ERR_MSG_MAX];
} mlg_err;

/* Sets err (if not NULL) and returns code, so callers can write
 * `return mlg_err_set(err, MLG_EINVAL, "...")`. */
int mlg_err_set(mlg_err *err, int code, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

/* Prefixes the existing message with "prefix: ". */
int mlg_err_prefix(mlg_err *err, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));

void mlg_err_clear(mlg_err *err);

/* Short name of an error code, for logs: "invalid", "no memory", ... */
const char *mlg_err_name(int code);

#endif
