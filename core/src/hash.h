/*
 * SHA-256 through OpenSSL libcrypto (streaming; memory does not grow with
 * the input).
 */
#ifndef MLG_HASH_H
#define MLG_HASH_H

#include <stddef.h>
#include <stdint.h>

#include "err.h"

#define MLG_SHA256_LEN 32
#define MLG_SHA256_HEX (MLG_SHA256_LEN * 2 + 1)

int mlg_sha256_buf(unsigned char out[MLG_SHA256_LEN], const void *data, size_t len);
/* Hashes from the current position to EOF; *nbytes (may be NULL) gets the count. */
int mlg_sha256_fd(unsigned char out[MLG_SHA256_LEN], int fd, uint64_t *nbytes, mlg_err *err);
/* Lower-case hex, NUL-terminated. */
void mlg_hex(char *out, const unsigned char *bytes, size_t len);

/* Incremental interface, for fingerprints built from several fields. */
typedef struct mlg_sha256_ctx mlg_sha256_ctx;
mlg_sha256_ctx *mlg_sha256_new(void);
int mlg_sha256_update(mlg_sha256_ctx *c, const void *data, size_t len);
int mlg_sha256_final(mlg_sha256_ctx *c, unsigned char out[MLG_SHA256_LEN]);
void mlg_sha256_free(mlg_sha256_ctx *c);

#endif
