#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "hash.h"

static const char *hex_of_buf(const void *data, size_t len)
{
  static char hex[MLG_SHA256_HEX];
  unsigned char md[MLG_SHA256_LEN];
  assert_int_equal(mlg_sha256_buf(md, data, len), 0);
  mlg_hex(hex, md, sizeof md);
  return hex;
}

static void test_vectors(void **state)
{
  static const char nist448[] = "abcdbcdecdefdefgefghfghighijhijkijkljklmklmnlmnomnopnopq";
  assert_string_equal(hex_of_buf("", 0),
                      "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855");
  assert_string_equal(hex_of_buf(NULL, 0),
                      "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855");
  assert_string_equal(hex_of_buf("abc", 3),
                      "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad");
  assert_int_equal(strlen(nist448), 56);
  assert_string_equal(hex_of_buf(nist448, 56),
                      "248d6a61d20638b8e5c026930c3e6039a33ce45964ff2167f6ecedd419db06c1");
  assert_int_equal(mlg_sha256_buf((unsigned char[32]){0}, NULL, 1), MLG_EINVAL);
}

static void test_hex(void **state)
{
  const unsigned char b[] = {0x00, 0x0f, 0xa5, 0xff};
  char out[9];
  memset(out, 'x', sizeof out);
  mlg_hex(out, b, sizeof b);
  assert_string_equal(out, "000fa5ff");
  mlg_hex(out, b, 0);
  assert_string_equal(out, "");
}

static void test_incremental(void **state)
{
  unsigned char md[MLG_SHA256_LEN];
  char hex[MLG_SHA256_HEX];
  mlg_sha256_ctx *c = mlg_sha256_new();
  assert_non_null(c);
  assert_int_equal(mlg_sha256_update(c, "a", 1), 0);
  assert_int_equal(mlg_sha256_update(c, NULL, 0), 0);
  assert_int_equal(mlg_sha256_update(c, "bc", 2), 0);
  assert_int_equal(mlg_sha256_final(c, md), 0);
  mlg_hex(hex, md, sizeof md);
  assert_string_equal(hex, "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad");
  /* reusable after final */
  assert_int_equal(mlg_sha256_final(c, md), 0);
  mlg_hex(hex, md, sizeof md);
  assert_string_equal(hex, "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855");
  assert_int_equal(mlg_sha256_update(c, NULL, 3), MLG_EINVAL);
  assert_int_equal(mlg_sha256_update(NULL, "a", 1), MLG_EINVAL);
  assert_int_equal(mlg_sha256_final(NULL, md), MLG_EINVAL);
  mlg_sha256_free(c);
  mlg_sha256_free(NULL);
}

/* Writes len pseudo-random bytes to a new temp file; returns its path. */
static char *make_file(size_t len)
{
  char *path = strdup("/tmp/mlg_hash_XXXXXX");
  unsigned char *buf = malloc(len ? len : 1);
  uint32_t x = 2463534242u;
  size_t i;
  int fd = mkstemp(path);
  assert_true(fd >= 0);
  for (i = 0; i < len; i++) {
    x ^= x << 13;
    x ^= x >> 17;
    x ^= x << 5;
    buf[i] = (unsigned char)x;
  }
  assert_int_equal(write(fd, buf, len), (ssize_t)len);
  close(fd);
  free(buf);
  return path;
}

static void sha256sum_of(char out[MLG_SHA256_HEX], const char *path)
{
  char cmd[256];
  FILE *p;
  snprintf(cmd, sizeof cmd, "sha256sum '%s'", path);
  p = popen(cmd, "r");
  assert_non_null(p);
  assert_non_null(fgets(out, MLG_SHA256_HEX, p));
  pclose(p);
  assert_int_equal(strlen(out), 64);
}

static void hash_file(char hex[MLG_SHA256_HEX], const char *path, uint64_t *n)
{
  unsigned char md[MLG_SHA256_LEN];
  mlg_err err;
  int fd = open(path, O_RDONLY);
  assert_true(fd >= 0);
  assert_int_equal(mlg_sha256_fd(md, fd, n, &err), 0);
  close(fd);
  mlg_hex(hex, md, sizeof md);
}

static void test_fd_large(void **state)
{
  /* 1 MiB + 1 crosses the read chunk boundary by one byte */
  size_t len = ((size_t)1 << 20) + 1;
  char *path = make_file(len);
  char want[MLG_SHA256_HEX], got[MLG_SHA256_HEX];
  unsigned char *buf = malloc(len);
  uint64_t n = 0;
  int fd;

  sha256sum_of(want, path);
  hash_file(got, path, &n);
  assert_string_equal(got, want);
  assert_int_equal(n, len);

  /* same as hashing the bytes in memory */
  fd = open(path, O_RDONLY);
  assert_int_equal(read(fd, buf, len), (ssize_t)len);
  close(fd);
  assert_string_equal(hex_of_buf(buf, len), want);
  free(buf);
  unlink(path);
  free(path);
}

static void test_fd_generated_sizes(void **state)
{
  static const size_t sizes[] = {0, 1, 55, 56, 63, 64, 65, 4096, 3 * 1048576 + 17};
  size_t i;
  for (i = 0; i < sizeof sizes / sizeof sizes[0]; i++) {
    char *path = make_file(sizes[i]);
    char want[MLG_SHA256_HEX], got[MLG_SHA256_HEX];
    uint64_t n = 99;
    sha256sum_of(want, path);
    hash_file(got, path, &n);
    assert_string_equal(got, want);
    assert_int_equal(n, sizes[i]);
    unlink(path);
    free(path);
  }
}

static void test_fd_from_offset(void **state)
{
  char *path = make_file(1000);
  unsigned char md[MLG_SHA256_LEN], all[1000];
  char got[MLG_SHA256_HEX];
  uint64_t n;
  int fd = open(path, O_RDONLY);
  assert_int_equal(read(fd, all, sizeof all), 1000);
  assert_int_equal(lseek(fd, 400, SEEK_SET), 400);
  assert_int_equal(mlg_sha256_fd(md, fd, &n, NULL), 0);
  assert_int_equal(n, 600);
  mlg_hex(got, md, sizeof md);
  assert_string_equal(got, hex_of_buf(all + 400, 600));
  /* NULL nbytes is allowed */
  assert_int_equal(lseek(fd, 0, SEEK_SET), 0);
  assert_int_equal(mlg_sha256_fd(md, fd, NULL, NULL), 0);
  close(fd);
  unlink(path);
  free(path);
}

static void test_fd_errors(void **state)
{
  unsigned char md[MLG_SHA256_LEN];
  mlg_err err;
  uint64_t n = 5;
  int fd = open("/tmp", O_RDONLY | O_DIRECTORY);
  assert_true(fd >= 0);
  mlg_err_clear(&err);
  assert_int_equal(mlg_sha256_fd(md, fd, &n, &err), MLG_EIO);
  assert_string_equal(err.msg, "sha256: read failed after 0 bytes: Is a directory");
  assert_int_equal(n, 0);
  close(fd);
  assert_int_equal(mlg_sha256_fd(md, -1, NULL, &err), MLG_EIO);
  assert_string_equal(err.msg, "sha256: read failed after 0 bytes: Bad file descriptor");
}

static void test_pipe(void **state)
{
  unsigned char md[MLG_SHA256_LEN];
  char got[MLG_SHA256_HEX];
  int p[2];
  uint64_t n;
  assert_int_equal(pipe(p), 0);
  assert_int_equal(write(p[1], "abc", 3), 3);
  close(p[1]);
  assert_int_equal(mlg_sha256_fd(md, p[0], &n, NULL), 0);
  close(p[0]);
  mlg_hex(got, md, sizeof md);
  assert_string_equal(got, "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad");
  assert_int_equal(n, 3);
}

int main(void)
{
  const struct CMUnitTest tests[] = {
    cmocka_unit_test(test_vectors),
    cmocka_unit_test(test_hex),
    cmocka_unit_test(test_incremental),
    cmocka_unit_test(test_fd_large),
    cmocka_unit_test(test_fd_generated_sizes),
    cmocka_unit_test(test_fd_from_offset),
    cmocka_unit_test(test_fd_errors),
    cmocka_unit_test(test_pipe),
  };
  return cmocka_run_group_tests(tests, NULL, NULL);
}
