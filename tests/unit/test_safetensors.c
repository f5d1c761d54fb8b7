/*
 * mlg_safetensors_check and mlg_safetensors_sniff: every rule of the
 * reference loader on fixtures written by fixtures/formats/make.py, read
 * from memory, from a file descriptor and through a stream that returns a
 * few bytes at a time (the results must not depend on how bytes arrive).
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
#include <sys/stat.h>
#include <unistd.h>

#include "safetensors.h"

#define FX "tests/unit/fixtures/formats/safetensors/"

/* --- helpers ------------------------------------------------------------ */

static unsigned char *slurp(const char *name, size_t *len)
{
  char path[256];
  FILE *f;
  unsigned char *p;
  long n;

  snprintf(path, sizeof path, FX "%s", name);
  f = fopen(path, "rb");
  if (!f)
    fail_msg("cannot open %s", path);
  fseek(f, 0, SEEK_END);
  n = ftell(f);
  fseek(f, 0, SEEK_SET);
  p = malloc((size_t)n + 1);
  assert_non_null(p);
  assert_int_equal(fread(p, 1, (size_t)n, f), (size_t)n);
  fclose(f);
  *len = (size_t)n;
  return p;
}

typedef struct trickle {
  const unsigned char *p;
  size_t len, off, step;
} trickle;

/* A stream that hands out at most step bytes per read. */
static ssize_t trickle_read(mlg_stream *s, void *buf, size_t n, mlg_err *err)
{
  trickle *t = s->ctx;
  (void)err;
  if (n > t->step)
    n = t->step;
  if (n > t->len - t->off)
    n = t->len - t->off;
  memcpy(buf, t->p + t->off, n);
  t->off += n;
  return (ssize_t)n;
}

enum { VIA_MEM, VIA_FD, VIA_TRICKLE, VIA_COUNT };

static int check_via(int via, const char *name, mlg_safetensors_info *info, mlg_issues *is)
{
  size_t len;
  unsigned char *data = slurp(name, &len);
  mlg_stream s;
  trickle t = {data, len, 0, 3};
  mlg_err err = {0};
  int fd = -1, rc;
  char path[256];

  if (via == VIA_MEM) {
    mlg_stream_mem(&s, data, len);
  } else if (via == VIA_FD) {
    snprintf(path, sizeof path, FX "%s", name);
    fd = open(path, O_RDONLY);
    assert_true(fd >= 0);
    mlg_stream_fd(&s, fd, len);
  } else {
    memset(&s, 0, sizeof s);
    s.read = trickle_read;
    s.ctx = &t;
    s.size = len;
  }
  rc = mlg_safetensors_check(info, &s, len, is, &err);
  if (rc)
    print_error("%s: rc %d: %s\n", name, rc, err.msg);
  if (fd >= 0)
    close(fd);
  free(data);
  return rc;
}

/* Checks name every way and compares the issue codes with want (NULL-
 * terminated); returns the issues of the memory run for more checks. */
static void expect(const char *name, const char *const *want, mlg_safetensors_info *info,
                   mlg_issues *out)
{
  int via;
  for (via = 0; via < VIA_COUNT; via++) {
    mlg_issues is = {0};
    mlg_safetensors_info in;
    size_t i, n = 0;
    assert_int_equal(check_via(via, name, &in, &is), 0);
    while (want[n])
      n++;
    if (is.len != n) {
      for (i = 0; i < is.len; i++)
        print_error("%s: [%s] %s\n", name, is.items[i].code, is.items[i].message);
    }
    assert_int_equal(is.len, n);
    for (i = 0; i < n; i++)
      assert_string_equal(is.items[i].code, want[i]);
    if (via == VIA_MEM) {
      if (info)
        *info = in;
      if (out) {
        *out = is;
        continue;
      }
    }
    mlg_issues_free(&is);
  }
}

#define CODES(...) ((const char *const[]){__VA_ARGS__, NULL})
#define NONE ((const char *const[]){NULL})

static void one(const char *name, const char *code, int64_t offset, const char *msg)
{
  mlg_issues is;
  expect(name, CODES(code), NULL, &is);
  assert_int_equal(is.items[0].offset, offset);
  assert_string_equal(is.items[0].message, msg);
  assert_null(is.items[0].member);
  mlg_issues_free(&is);
}

/* --- valid files --------------------------------------------------------- */

static void test_valid(void **state)
{
  mlg_safetensors_info info;
  (void)state;
  expect("ok.safetensors", NONE, &info, NULL);
  assert_int_equal(info.header_len, 152);
  assert_int_equal(info.ntensors, 2);
  assert_int_equal(info.data_len, 40);
  assert_int_equal(info.has_metadata, 1);

  expect("ok_empty.safetensors", NONE, &info, NULL);
  assert_int_equal(info.header_len, 8);
  assert_int_equal(info.ntensors, 0);
  assert_int_equal(info.data_len, 0);
  assert_int_equal(info.has_metadata, 0);

  /* F4 counts bits, C64, F8_E8M0, a scalar and a zero-element tensor */
  expect("ok_dtypes.safetensors", NONE, &info, NULL);
  assert_int_equal(info.ntensors, 4);
  assert_int_equal(info.data_len, 11);

  expect("ok_space.safetensors", NONE, &info, NULL);
  assert_int_equal(info.ntensors, 1);
}

static void test_all_dtypes(void **state)
{
  static const struct {
    const char *d;
    unsigned bytes_for_8;
  } dt[] = {{"BOOL", 8},    {"F4", 4},     {"F6_E2M3", 6}, {"F6_E3M2", 6}, {"U8", 8},
            {"I8", 8},      {"F8_E5M2", 8}, {"F8_E4M3", 8}, {"F8_E8M0", 8}, {"I16", 16},
            {"U16", 16},    {"F16", 16},   {"BF16", 16},   {"I32", 32},    {"U32", 32},
            {"F32", 32},    {"C64", 64},   {"F64", 64},    {"I64", 64},    {"U64", 64}};
  size_t i;
  (void)state;
  for (i = 0; i < sizeof dt / sizeof dt[0]; i++) {
    char h[200], file[300];
    mlg_stream s;
    mlg_issues is = {0};
    mlg_safetensors_info info;
    mlg_err err;
    int n = snprintf(h, sizeof h,
                     "{\"t\":{\"dtype\":\"%s\",\"shape\":[2,4],\"data_offsets\":[0,%u]}}",
                     dt[i].d, dt[i].bytes_for_8);
    uint64_t total = 8 + (uint64_t)n + dt[i].bytes_for_8;
    memset(file, 0, sizeof file);
    file[0] = (char)n;
    memcpy(file + 8, h, (size_t)n);
    mlg_stream_mem(&s, file, (size_t)total);
    assert_int_equal(mlg_safetensors_check(&info, &s, total, &is, &err), 0);
    if (is.len)
      print_error("%s: %s\n", dt[i].d, is.items[0].message);
    assert_int_equal(is.len, 0);
    mlg_issues_free(&is);
  }
}

/* --- header ---------------------------------------------------------------- */

static void test_header_length(void **state)
{
  (void)state;
  one("bad_too_large.safetensors", "safetensors-header-too-large", 0,
      "header length 100000001 exceeds the 100,000,000-byte limit of the reference loader");
  one("bad_short.safetensors", "safetensors-truncated", 0,
      "file of 3 bytes is too short for the 8-byte header length");
  one("bad_header_past_end.safetensors", "safetensors-truncated", 0,
      "header length 4096 runs past the end of the file (10 bytes)");
  /* a pickle renamed .safetensors: its first 8 bytes are a huge length */
  expect("bad_pickle.safetensors", CODES("safetensors-truncated"), NULL, NULL);
}

static void test_header_json(void **state)
{
  (void)state;
  one("bad_json.safetensors", "safetensors-bad-header", 8,
      "header is not valid JSON: header:1:21: trailing comma before '}'");
  one("bad_not_object.safetensors", "safetensors-bad-header", 8,
      "header is a JSON sequence, not an object");
  one("bad_tensor_not_object.safetensors", "safetensors-bad-header", 13,
      "tensor 'a' is a sequence, not an object");
}

static void test_duplicates(void **state)
{
  mlg_issues is;
  (void)state;
  /* two tensors named "w": the reference keeps the second, whose offsets
   * then leave the first 24 bytes unclaimed */
  expect("bad_dup_tensor.safetensors",
         CODES("safetensors-duplicate-key", "safetensors-bad-offsets"), NULL, &is);
  assert_string_equal(is.items[0].message,
                      "key 'w' appears twice in the header; loaders disagree on which one counts");
  assert_int_equal(is.items[0].offset, 65);
  assert_string_equal(is.items[1].message,
                      "gap of 24 unaccounted bytes before tensor 'w' (data offsets 0..24)");
  mlg_issues_free(&is);
  /* a field twice inside one tensor (serde rejects it) */
  expect("bad_dup_field.safetensors",
         CODES("safetensors-duplicate-key", "safetensors-size-mismatch"), NULL, &is);
  assert_string_equal(is.items[0].message,
                      "key 'dtype' appears twice in the header; loaders disagree on which one "
                      "counts");
  assert_int_equal(is.items[0].offset, 28);
  mlg_issues_free(&is);
}

static void test_metadata(void **state)
{
  (void)state;
  one("bad_metadata_value.safetensors", "safetensors-bad-header", 47,
      "__metadata__ value of 'epoch' is an integer; metadata values must be strings");
  one("bad_metadata_list.safetensors", "safetensors-bad-header", 24,
      "__metadata__ is a sequence, not an object of strings");
}

/* --- dtype, shape, size ---------------------------------------------------- */

static void test_dtype(void **state)
{
  (void)state;
  one("bad_dtype.safetensors", "safetensors-bad-dtype", 58,
      "tensor 'weight' has unknown dtype 'F128'");
  one("bad_dtype_type.safetensors", "safetensors-bad-dtype", 58,
      "tensor 'weight' has a dtype that is an integer, not a string");
}

static void test_shape(void **state)
{
  (void)state;
  one("bad_shape_negative.safetensors", "safetensors-bad-shape", 75,
      "tensor 'weight' has shape entry 1 that is not a non-negative integer");
  one("bad_shape_float.safetensors", "safetensors-bad-shape", 73,
      "tensor 'weight' has shape entry 0 that is not a non-negative integer");
  one("bad_shape_missing.safetensors", "safetensors-bad-shape", 49,
      "tensor 'weight' has no shape");
  one("bad_overflow.safetensors", "safetensors-bad-shape", 36,
      "tensor 'x' has a shape whose byte size overflows 64 bits");
}

static void test_size(void **state)
{
  (void)state;
  one("bad_size_mismatch.safetensors", "safetensors-size-mismatch", 93,
      "tensor 'weight' is F32 x 8 elements = 32 bytes, but its data_offsets span 24 bytes");
  one("bad_f4_odd.safetensors", "safetensors-size-mismatch", 35,
      "tensor 'n' of 3 F4 elements does not fill a whole number of bytes");
}

/* --- offsets ----------------------------------------------------------------- */

static void test_offsets(void **state)
{
  mlg_issues is;
  (void)state;
  one("bad_gap.safetensors", "safetensors-bad-offsets", 124,
      "gap of 4 unaccounted bytes before tensor 'b' (data offsets 4..8)");
  one("bad_overlap.safetensors", "safetensors-bad-offsets", 124,
      "tensor 'b' (4..8) overlaps the data of the tensor before it");
  one("bad_past_end.safetensors", "safetensors-bad-offsets", 64,
      "tensor 'a' ends at data offset 16, past the end of the data (8 bytes)");
  one("bad_trailing.safetensors", "safetensors-trailing-bytes", 72,
      "4 bytes after the last tensor's data are not described by the header");
  one("bad_offsets_three.safetensors", "safetensors-bad-offsets", 54,
      "tensor 'a' has data_offsets that are not a pair of non-negative integers");
  one("bad_offsets_missing.safetensors", "safetensors-bad-offsets", 13,
      "tensor 'a' has no data_offsets");
  expect("bad_reversed.safetensors",
         CODES("safetensors-bad-offsets", "safetensors-trailing-bytes"), NULL, &is);
  assert_string_equal(is.items[0].message, "tensor 'a' ends (0) before it begins (4)");
  mlg_issues_free(&is);
  /* offsets past int64 are read exactly from the source text */
  expect("bad_huge_offset.safetensors",
         CODES("safetensors-bad-offsets", "safetensors-bad-offsets"), NULL, &is);
  assert_string_equal(is.items[1].message,
                      "tensor 'a' ends at data offset 18446744073709551615, past the end of "
                      "the data (8 bytes)");
  mlg_issues_free(&is);
}

/* The data is never read: a stream that fails after the header still
 * gives the full answer when the size is known. */
static ssize_t header_only(mlg_stream *s, void *buf, size_t n, mlg_err *err)
{
  trickle *t = s->ctx;
  if (t->off >= t->step)
    return mlg_err_set(err, MLG_EIO, "tensor data was read");
  if (n > t->step - t->off)
    n = t->step - t->off;
  memcpy(buf, t->p + t->off, n);
  t->off += n;
  return (ssize_t)n;
}

static void test_data_not_read(void **state)
{
  size_t len;
  unsigned char *data = slurp("ok.safetensors", &len);
  trickle t = {data, len, 0, 8 + 152};
  mlg_stream s;
  mlg_issues is = {0};
  mlg_safetensors_info info;
  mlg_err err;
  (void)state;
  memset(&s, 0, sizeof s);
  s.read = header_only;
  s.ctx = &t;
  assert_int_equal(mlg_safetensors_check(&info, &s, len, &is, &err), 0);
  assert_int_equal(is.len, 0);
  assert_int_equal(t.off, 8 + 152);
  /* of unknown size, the rest is counted (and a failing read reported) */
  t.off = 0;
  s.pos = 0;
  assert_int_equal(mlg_safetensors_check(&info, &s, UINT64_MAX, &is, &err), MLG_EIO);
  assert_string_equal(err.msg, "tensor data was read");
  mlg_stream_mem(&s, data, len);
  assert_int_equal(mlg_safetensors_check(&info, &s, UINT64_MAX, &is, &err), 0);
  assert_int_equal(is.len, 0);
  assert_int_equal(info.data_len, 40);
  free(data);
}

static void test_lying_header_length(void **state)
{
  /* claims 90 MB of header in a 12-byte stream of unknown size: nothing
   * like that is allocated, the stream just ends */
  static const unsigned char f[] = {0x00, 0x00, 0x60, 0x05, 0, 0, 0, 0, '{', '"', 'a', '"'};
  mlg_stream s;
  mlg_issues is = {0};
  mlg_safetensors_info info;
  mlg_err err;
  (void)state;
  mlg_stream_mem(&s, f, sizeof f);
  assert_int_equal(mlg_safetensors_check(&info, &s, UINT64_MAX, &is, &err), 0);
  assert_int_equal(is.len, 1);
  assert_string_equal(is.items[0].code, "safetensors-truncated");
  assert_string_equal(is.items[0].message, "header length 90177536 runs past the end of the data");
  mlg_issues_free(&is);
}

static void test_issue_cap(void **state)
{
  /* 200 tensors with unknown dtypes: 64 issues and a count of the rest */
  char *h = malloc(200 * 64 + 16), *file;
  size_t n = 0, i;
  mlg_stream s;
  mlg_issues is = {0};
  mlg_safetensors_info info;
  mlg_err err;
  (void)state;
  n += (size_t)sprintf(h + n, "{");
  for (i = 0; i < 200; i++)
    n += (size_t)sprintf(h + n, "%s\"t%zu\":{\"dtype\":\"X\",\"shape\":[],\"data_offsets\":[0,0]}",
                         i ? "," : "", i);
  n += (size_t)sprintf(h + n, "}");
  file = calloc(1, 8 + n);
  file[0] = (char)(n & 0xff);
  file[1] = (char)(n >> 8);
  memcpy(file + 8, h, n);
  mlg_stream_mem(&s, file, 8 + n);
  assert_int_equal(mlg_safetensors_check(&info, &s, 8 + n, &is, &err), 0);
  assert_int_equal(info.ntensors, 200);
  assert_int_equal(is.len, 65);
  assert_string_equal(is.items[64].message,
                      "136 further problems in this safetensors file were not listed");
  mlg_issues_free(&is);
  free(file);
  free(h);
}

/* --- sniffing -------------------------------------------------------------- */

static void test_sniff(void **state)
{
  static const char *const yes[] = {"ok.safetensors", "ok_empty.safetensors",
                                    "ok_space.safetensors", "bad_dup_tensor.safetensors"};
  size_t len, i;
  unsigned char *d;
  (void)state;
  for (i = 0; i < sizeof yes / sizeof yes[0]; i++) {
    d = slurp(yes[i], &len);
    assert_int_equal(mlg_safetensors_sniff(d, len, len), 1);
    assert_int_equal(mlg_safetensors_sniff(d, len > 64 ? 64 : len, UINT64_MAX), 1);
    free(d);
  }
  d = slurp("bad_pickle.safetensors", &len);
  assert_int_equal(mlg_safetensors_sniff(d, len, len), 0);
  free(d);
  d = slurp("bad_too_large.safetensors", &len);
  assert_int_equal(mlg_safetensors_sniff(d, len, UINT64_MAX), 0);
  free(d);
  d = slurp("ok.safetensors", &len);
  assert_int_equal(mlg_safetensors_sniff(d, 8, len), 0);   /* too short to tell */
  assert_int_equal(mlg_safetensors_sniff(d, len, 100), 0); /* header longer than the file */
  d[8] = 'x';
  assert_int_equal(mlg_safetensors_sniff(d, len, len), 0);
  free(d);
}

int main(void)
{
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(test_valid),
      cmocka_unit_test(test_all_dtypes),
      cmocka_unit_test(test_header_length),
      cmocka_unit_test(test_header_json),
      cmocka_unit_test(test_duplicates),
      cmocka_unit_test(test_metadata),
      cmocka_unit_test(test_dtype),
      cmocka_unit_test(test_shape),
      cmocka_unit_test(test_size),
      cmocka_unit_test(test_offsets),
      cmocka_unit_test(test_data_not_read),
      cmocka_unit_test(test_lying_header_length),
      cmocka_unit_test(test_issue_cap),
      cmocka_unit_test(test_sniff),
  };
  return cmocka_run_group_tests(tests, NULL, NULL);
}
