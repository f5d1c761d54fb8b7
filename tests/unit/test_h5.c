/*
 * mlg_h5_root_attr and mlg_h5_sniff on HDF5 files written by h5py
 * (fixtures/formats/make.py): variable-length and fixed-length string
 * attributes, the wrong kinds of attribute, files that are not HDF5, size
 * limits; and libhdf5 being loaded only by the first call.
 */
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

#include "h5.h"

#define FX "tests/unit/fixtures/formats/h5/"

static int hdf5_mapped(void)
{
  char line[512];
  int found = 0;
  FILE *f = fopen("/proc/self/maps", "r");
  assert_non_null(f);
  while (fgets(line, sizeof line, f)) {
    if (strstr(line, "libhdf5"))
      found = 1;
  }
  fclose(f);
  return found;
}

static int attr(const char *name, const char *attr_name, size_t max, char **out, size_t *len,
                mlg_err *err)
{
  char path[256];
  int fd, rc;
  snprintf(path, sizeof path, FX "%s", name);
  fd = open(path, O_RDONLY);
  assert_true(fd >= 0);
  rc = mlg_h5_root_attr(out, len, fd, attr_name, max, err);
  close(fd);
  return rc;
}

/* Runs first: nothing has loaded libhdf5 yet. */
static void test_lazy_load(void **state)
{
  char *out = NULL;
  size_t len = 0;
  mlg_err err;
  (void)state;
  assert_int_equal(hdf5_mapped(), 0);
  assert_int_equal(attr("vlen.h5", "backend", 100, &out, &len, &err), 0);
  assert_int_equal(hdf5_mapped(), 1);
  assert_string_equal(out, "tensorflow");
  assert_int_equal(len, 10);
  free(out);
}

static void test_vlen(void **state)
{
  char *out = NULL;
  size_t len = 0;
  mlg_err err;
  (void)state;
  assert_int_equal(attr("vlen.h5", "model_config", 1 << 20, &out, &len, &err), 0);
  assert_int_equal(len, 364);
  assert_int_equal(strlen(out), 364);
  assert_true(strncmp(out, "{\"class_name\": \"Sequential\"", 27) == 0);
  assert_non_null(strstr(out, "\"class_name\": \"Lambda\""));
  free(out);
  assert_int_equal(attr("vlen.h5", "keras_version", 100, &out, &len, &err), 0);
  assert_string_equal(out, "2.11.0");
  free(out);
}

static void test_fixed(void **state)
{
  char *out = NULL;
  size_t len = 0;
  mlg_err err;
  (void)state;
  /* NUL-padded (h5py's numpy.bytes_) and NUL-terminated with spare room */
  assert_int_equal(attr("fixed.h5", "model_config", 1 << 20, &out, &len, &err), 0);
  assert_int_equal(len, 211);
  assert_true(strncmp(out, "{\"class_name\": \"Sequential\"", 27) == 0);
  assert_int_equal(out[len - 1], '}');
  free(out);
  assert_int_equal(attr("fixed_nullterm.h5", "model_config", 1 << 20, &out, &len, &err), 0);
  assert_int_equal(len, 211);
  assert_int_equal(strlen(out), 211);
  free(out);
}

static void test_limits(void **state)
{
  char *out = (char *)1;
  size_t len = 7;
  mlg_err err;
  (void)state;
  assert_int_equal(attr("big.h5", "model_config", 4096, &out, &len, &err), MLG_ELIMIT);
  assert_string_equal(err.msg, "attribute 'model_config' of 5000 bytes exceeds the limit of 4096");
  assert_null(out);
  assert_int_equal(len, 0);
  assert_int_equal(attr("big.h5", "model_config", 5000, &out, &len, &err), 0);
  assert_int_equal(len, 5000);
  free(out);
  /* fixed-length strings are refused before anything is read */
  assert_int_equal(attr("fixed.h5", "model_config", 100, &out, &len, &err), MLG_ELIMIT);
  assert_string_equal(err.msg, "attribute 'model_config' of 211 bytes exceeds the limit of 100");
}

static void test_wrong_kinds(void **state)
{
  char *out = NULL;
  size_t len = 0;
  mlg_err err;
  (void)state;
  assert_int_equal(attr("no_attr.h5", "model_config", 100, &out, &len, &err), MLG_ENOENT);
  assert_string_equal(err.msg, "the root group has no attribute 'model_config'");
  assert_int_equal(attr("int_attr.h5", "model_config", 100, &out, &len, &err), MLG_EPARSE);
  assert_string_equal(err.msg, "attribute 'model_config' is not a string");
  assert_int_equal(attr("array_attr.h5", "model_config", 100, &out, &len, &err), MLG_EPARSE);
  assert_string_equal(err.msg, "attribute 'model_config' holds 2 values, not one string");
  assert_null(out);
}

static void test_not_hdf5(void **state)
{
  char *out = NULL;
  size_t len = 0;
  mlg_err err;
  int p[2];
  (void)state;
  assert_int_equal(attr("not_hdf5.h5", "model_config", 100, &out, &len, &err), MLG_EPARSE);
  assert_string_equal(err.msg, "not a valid HDF5 file (libhdf5 cannot open it)");
  assert_int_equal(attr("truncated.h5", "model_config", 100, &out, &len, &err), MLG_EPARSE);
  assert_null(out);
  assert_int_equal(mlg_h5_root_attr(&out, &len, -1, "x", 100, &err), MLG_EINVAL);
  /* only regular files are reopened */
  assert_int_equal(pipe(p), 0);
  assert_int_equal(mlg_h5_root_attr(&out, &len, p[0], "x", 100, &err), MLG_EIO);
  assert_true(strncmp(err.msg, "cannot reopen the file through /proc/self/fd/", 45) == 0);
  close(p[0]);
  close(p[1]);
}

static void test_sniff(void **state)
{
  (void)state;
  assert_int_equal(mlg_h5_sniff((const unsigned char *)"\x89HDF\r\n\x1a\n", 8), 1);
  assert_int_equal(mlg_h5_sniff((const unsigned char *)"\x89HDF\r\n\x1a", 7), 0);
  assert_int_equal(mlg_h5_sniff((const unsigned char *)"\x89PNG\r\n\x1a\n", 8), 0);
}

int main(void)
{
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(test_lazy_load),
      cmocka_unit_test(test_vlen),
      cmocka_unit_test(test_fixed),
      cmocka_unit_test(test_limits),
      cmocka_unit_test(test_wrong_kinds),
      cmocka_unit_test(test_not_hdf5),
      cmocka_unit_test(test_sniff),
  };
  return cmocka_run_group_tests(tests, NULL, NULL);
}
