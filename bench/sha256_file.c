/*
 * bench/sha256_file: SHA-256 of files with mlgate's hashing (hash.c), as
 * the model gate hashes artifacts; prints "hex  path" like sha256sum.
 */
#include <fcntl.h>
#include <stdio.h>
#include <unistd.h>

#include "hash.h"

int main(int argc, char **argv)
{
  int i, status = 0;
  for (i = 1; i < argc; i++) {
    unsigned char md[MLG_SHA256_LEN];
    char hex[MLG_SHA256_HEX];
    mlg_err err;
    int fd = open(argv[i], O_RDONLY | O_CLOEXEC);
    if (fd < 0 || mlg_sha256_fd(md, fd, NULL, &err) != 0) {
      fprintf(stderr, "sha256_file: %s: cannot hash\n", argv[i]);
      status = 1;
    } else {
      mlg_hex(hex, md, sizeof md);
      printf("%s  %s\n", hex, argv[i]);
    }
    if (fd >= 0)
      close(fd);
  }
  return status;
}
