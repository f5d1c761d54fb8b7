#include "hash.h"

#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

/* The SHA256_* functions, not EVP: in OpenSSL 3 the first EVP digest
 * initialises the library (reads openssl.cnf, loads the default provider,
 * builds its name tables): about 5 million instructions, more than the
 * rest of a small evaluation. The low-level functions run the same
 * assembly (SHA-NI / AVX2) with no initialisation. They are deprecated in
 * 3.0 but supported throughout the 3.x series; revisit for OpenSSL 4. */
#define OPENSSL_SUPPRESS_DEPRECATED
#include <openssl/sha.h>

#include "err.h"

/* Large reads keep the syscall count low; the buffer is on the heap so the
 * caller's stack stays small. */
#define HASH_CHUNK ((size_t)1 << 20)

struct mlg_sha256_ctx {
  SHA256_CTX md;
};

int mlg_sha256_buf(unsigned char out[MLG_SHA256_LEN], const void *data, size_t len)
{
  SHA256_CTX md;
  if (!data && len)
    return MLG_EINVAL;
  if (!SHA256_Init(&md) || !SHA256_Update(&md, data ? data : "", len) || !SHA256_Final(out, &md))
    return MLG_ENOMEM;
  return 0;
}

int mlg_sha256_fd(unsigned char out[MLG_SHA256_LEN], int fd, uint64_t *nbytes, mlg_err *err)
{
  SHA256_CTX md;
  unsigned char *buf = NULL;
  uint64_t total = 0;
  int rc = 0;

  if (nbytes)
    *nbytes = 0;
  buf = malloc(HASH_CHUNK);
  if (!buf || !SHA256_Init(&md)) {
    rc = mlg_err_set(err, MLG_ENOMEM, "sha256: out of memory");
    goto done;
  }
  /* Only a hint to the page cache; pipes and sockets simply refuse it. */
  (void)posix_fadvise(fd, 0, 0, POSIX_FADV_SEQUENTIAL);
  for (;;) {
    ssize_t r = read(fd, buf, HASH_CHUNK);
    if (r < 0) {
      if (errno == EINTR)
        continue;
      rc = mlg_err_set(err, MLG_EIO, "sha256: read failed after %llu bytes: %s",
                       (unsigned long long)total, strerror(errno));
      goto done;
    }
    if (r == 0)
      break;
    if (!SHA256_Update(&md, buf, (size_t)r)) {
      rc = mlg_err_set(err, MLG_ENOMEM, "sha256: digest update failed");
      goto done;
    }
    total += (uint64_t)r;
  }
  if (!SHA256_Final(out, &md)) {
    rc = mlg_err_set(err, MLG_ENOMEM, "sha256: digest finalisation failed");
    goto done;
  }
  if (nbytes)
    *nbytes = total;

done:
  free(buf);
  return rc;
}

void mlg_hex(char *out, const unsigned char *bytes, size_t len)
{
  static const char digits[] = "0123456789abcdef";
  size_t i;
  for (i = 0; i < len; i++) {
    out[2 * i] = digits[bytes[i] >> 4];
    out[2 * i + 1] = digits[bytes[i] & 15];
  }
  out[2 * len] = '\0';
}

mlg_sha256_ctx *mlg_sha256_new(void)
{
  mlg_sha256_ctx *c = calloc(1, sizeof *c);
  if (c && !SHA256_Init(&c->md)) {
    free(c);
    c = NULL;
  }
  return c;
}

int mlg_sha256_update(mlg_sha256_ctx *c, const void *data, size_t len)
{
  if (!c || (!data && len))
    return MLG_EINVAL;
  if (len && !SHA256_Update(&c->md, data, len))
    return MLG_ENOMEM;
  return 0;
}

/* The context is re-initialised afterwards, so one context can produce
 * several digests in a row. */
int mlg_sha256_final(mlg_sha256_ctx *c, unsigned char out[MLG_SHA256_LEN])
{
  if (!c)
    return MLG_EINVAL;
  if (!SHA256_Final(out, &c->md) || !SHA256_Init(&c->md))
    return MLG_ENOMEM;
  return 0;
}

void mlg_sha256_free(mlg_sha256_ctx *c)
{
  free(c);
}
