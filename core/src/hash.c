#include "hash.h"

#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <openssl/evp.h>

#include "err.h"

/* Large reads keep the syscall count low; the buffer is on the heap so the
 * caller's stack stays small. */
#define HASH_CHUNK ((size_t)1 << 20)

struct mlg_sha256_ctx {
  EVP_MD_CTX *md;
};

int mlg_sha256_buf(unsigned char out[MLG_SHA256_LEN], const void *data, size_t len)
{
  unsigned int n = 0;
  if (!data && len)
    return MLG_EINVAL;
  if (!EVP_Digest(data ? data : "", len, out, &n, EVP_sha256(), NULL) ||
      n != MLG_SHA256_LEN)
    return MLG_ENOMEM;
  return 0;
}

int mlg_sha256_fd(unsigned char out[MLG_SHA256_LEN], int fd, uint64_t *nbytes, mlg_err *err)
{
  EVP_MD_CTX *md = NULL;
  unsigned char *buf = NULL;
  uint64_t total = 0;
  unsigned int n = 0;
  int rc = 0;

  if (nbytes)
    *nbytes = 0;
  md = EVP_MD_CTX_new();
  buf = malloc(HASH_CHUNK);
  if (!md || !buf || !EVP_DigestInit_ex(md, EVP_sha256(), NULL)) {
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
    if (!EVP_DigestUpdate(md, buf, (size_t)r)) {
      rc = mlg_err_set(err, MLG_ENOMEM, "sha256: digest update failed");
      goto done;
    }
    total += (uint64_t)r;
  }
  if (!EVP_DigestFinal_ex(md, out, &n) || n != MLG_SHA256_LEN) {
    rc = mlg_err_set(err, MLG_ENOMEM, "sha256: digest finalisation failed");
    goto done;
  }
  if (nbytes)
    *nbytes = total;

done:
  free(buf);
  EVP_MD_CTX_free(md);
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
  if (!c)
    return NULL;
  c->md = EVP_MD_CTX_new();
  if (!c->md || !EVP_DigestInit_ex(c->md, EVP_sha256(), NULL)) {
    mlg_sha256_free(c);
    return NULL;
  }
  return c;
}

int mlg_sha256_update(mlg_sha256_ctx *c, const void *data, size_t len)
{
  if (!c || (!data && len))
    return MLG_EINVAL;
  if (len && !EVP_DigestUpdate(c->md, data, len))
    return MLG_ENOMEM;
  return 0;
}

/* The context is re-initialised afterwards, so one context can produce
 * several digests in a row. */
int mlg_sha256_final(mlg_sha256_ctx *c, unsigned char out[MLG_SHA256_LEN])
{
  unsigned int n = 0;
  if (!c)
    return MLG_EINVAL;
  if (!EVP_DigestFinal_ex(c->md, out, &n) || n != MLG_SHA256_LEN)
    return MLG_ENOMEM;
  if (!EVP_DigestInit_ex(c->md, EVP_sha256(), NULL))
    return MLG_ENOMEM;
  return 0;
}

void mlg_sha256_free(mlg_sha256_ctx *c)
{
  if (!c)
    return;
  EVP_MD_CTX_free(c->md);
  free(c);
}
