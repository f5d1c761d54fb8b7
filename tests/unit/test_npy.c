/*
 * mlg_npy_header: files numpy.save wrote (many dtypes, object and
 * structured-with-object dtypes, Fortran order, versions 1-3) and
 * hand-made headers (key order, trailing commas, Python 2 'L' suffixes,
 * duplicates, calls, bad shapes), read from memory, a file descriptor and
 * a stream of a few bytes per read.
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

#include "npy.h"

#define FX "tests/unit/fixtures/formats/npy/"

/* --- helpers ------------------------------------------------------------ */

static unsigned char *slurp(const char *name, size_t *len)
{
  char path[256];
  FILE *f;
  unsigned char *p;
  long n;

  snprintf(path, sizeof path, FX "%s", name);
  if (!(f = fopen(path, "rb")))
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

/* Reads the header of name every way. With want NULL there must be no
 * issue, else exactly one issue with that code and message. The memory
 * run's info is kept; the stream must then stand at the data. */
static void expect(const char *name, const char *code, const char *msg, mlg_npy_info *info)
{
  int via;
  size_t len;
  unsigned char *data = slurp(name, &len);

  for (via = 0; via < VIA_COUNT; via++) {
    mlg_issues is = {0};
    mlg_npy_info in;
    mlg_stream s;
    trickle t = {data, len, 0, 3};
    mlg_err err = {0};
    char path[256];
    int fd = -1;

    if (via == VIA_MEM) {
      mlg_stream_mem(&s, data, len);
    } else if (via == VIA_FD) {
      snprintf(path, sizeof path, FX "%s", name);
      assert_true((fd = open(path, O_RDONLY)) >= 0);
      mlg_stream_fd(&s, fd, len);
    } else {
      memset(&s, 0, sizeof s);
      s.read = trickle_read;
      s.ctx = &t;
    }
    assert_int_equal(mlg_npy_header(&in, &s, len, &is, &err), 0);
    if (fd >= 0) {
      if (!code)
        assert_int_equal(lseek(fd, 0, SEEK_CUR), in.data_offset);
      close(fd);
    }
    if (!code) {
      if (is.len)
        print_error("%s: [%s] %s\n", name, is.items[0].code, is.items[0].message);
      assert_int_equal(is.len, 0);
      assert_int_equal(s.pos, in.data_offset);
    } else {
      if (is.len != 1)
        print_error("%s: %zu issues\n", name, is.len);
      assert_int_equal(is.len, 1);
      if (strcmp(is.items[0].message, msg) != 0)
        print_error("%s: %s\n", name, is.items[0].message);
      assert_string_equal(is.items[0].code, code);
      assert_string_equal(is.items[0].message, msg);
    }
    if (via == VIA_MEM && info)
      *info = in;
    else
      mlg_npy_info_free(&in);
    mlg_issues_free(&is);
  }
  free(data);
}

static void plain(const char *name, const char *descr, uint64_t itemsize, size_t ndim,
                  uint64_t dim0)
{
  mlg_npy_info in;
  expect(name, NULL, NULL, &in);
  assert_int_equal(in.major, 1);
  assert_string_equal(in.descr, descr);
  assert_int_equal(in.object_dtype, 0);
  assert_int_equal(in.itemsize, itemsize);
  assert_int_equal(in.ndim, ndim);
  if (ndim)
    assert_int_equal(in.shape[0], dim0);
  assert_int_equal(in.data_offset, 128);
  mlg_npy_info_free(&in);
}

/* --- numpy.save files ------------------------------------------------------ */

static void test_dtypes(void **state)
{
  (void)state;
  plain("f4.npy", "'<f4'", 4, 2, 2);
  plain("i8.npy", "'<i8'", 8, 1, 5);
  plain("f8_big.npy", "'>f8'", 8, 1, 3);
  plain("u1.npy", "'|u1'", 1, 1, 4);
  plain("bool.npy", "'|b1'", 1, 1, 2);
  plain("c16.npy", "'<c16'", 16, 1, 2);
  plain("bytes.npy", "'|S5'", 5, 1, 2);
  plain("unicode.npy", "'<U3'", 12, 1, 2);
  plain("void.npy", "'|V8'", 8, 1, 2);
  plain("datetime.npy", "'<M8[ns]'", 8, 1, 1);
  plain("timedelta.npy", "'<m8[s]'", 8, 1, 1);
  plain("f2.npy", "'<f2'", 2, 1, 3);
  plain("longdouble.npy", "'<f16'", 16, 1, 2);
  plain("scalar.npy", "'<f8'", 8, 0, 0);
  plain("empty.npy", "'<f4'", 4, 2, 0);
  plain("struct.npy", "[('x', '<f4'), ('y', '<i2', (3,))]", 10, 1, 2);
  plain("struct_padded.npy", "[('a', '|u1'), ('', '|V3'), ('b', '<i4')]", 8, 1, 2);
  plain("titles.npy", "[(('A title', 'a'), '<f4')]", 4, 1, 1);
}

static void test_fortran(void **state)
{
  mlg_npy_info in;
  (void)state;
  expect("fortran.npy", NULL, NULL, &in);
  assert_int_equal(in.fortran_order, 1);
  assert_int_equal(in.ndim, 2);
  assert_int_equal(in.shape[0], 2);
  assert_int_equal(in.shape[1], 3);
  mlg_npy_info_free(&in);
}

static void test_object(void **state)
{
  static const char *const names[] = {"object.npy", "struct_object.npy",
                                      "struct_nested_object.npy", "object_name.npy"};
  static const char *const descrs[] = {"'|O'", "[('v', '<f8'), ('o', '|O')]",
                                       "[('n', [('i', '<i4'), ('o', '|O')])]", "'object'"};
  size_t i;
  (void)state;
  for (i = 0; i < 4; i++) {
    mlg_npy_info in;
    expect(names[i], NULL, NULL, &in);
    assert_int_equal(in.object_dtype, 1);
    assert_int_equal(in.itemsize, 0);
    assert_string_equal(in.descr, descrs[i]);
    mlg_npy_info_free(&in);
  }
}

static void test_versions(void **state)
{
  mlg_npy_info in;
  (void)state;
  expect("v2.npy", NULL, NULL, &in);
  assert_int_equal(in.major, 2);
  assert_int_equal(in.itemsize, 2);
  assert_int_equal(in.data_offset, 128);
  mlg_npy_info_free(&in);
  /* version 3: UTF-8 field names */
  expect("v3.npy", NULL, NULL, &in);
  assert_int_equal(in.major, 3);
  assert_string_equal(in.descr, "[('\xc3\xa9t\xc3\xa9', '<f4')]");
  mlg_npy_info_free(&in);
}

/* --- hand-made headers ------------------------------------------------------- */

static void test_literal_forms(void **state)
{
  mlg_npy_info in;
  (void)state;
  expect("order.npy", NULL, NULL, &in); /* keys in another order */
  assert_string_equal(in.descr, "'<u2'");
  assert_int_equal(in.ndim, 1);
  mlg_npy_info_free(&in);
  expect("long_suffix.npy", NULL, NULL, &in); /* Python 2's (2L, 1L) */
  assert_int_equal(in.ndim, 2);
  assert_int_equal(in.shape[0], 2);
  assert_int_equal(in.shape[1], 1);
  mlg_npy_info_free(&in);
}


/* A header of n bytes in memory, no data, of unknown size. */
static int header_n(const char *h, size_t n, mlg_npy_info *in, mlg_issues *is, int major)
{
  static char file[4096];
  size_t pre = major == 1 ? 10 : 12;
  mlg_stream s;
  mlg_err err;
  memcpy(file, "\x93NUMPY", 6);
  file[6] = (char)major;
  file[7] = 0;
  file[8] = (char)(n & 0xff);
  file[9] = (char)(n >> 8);
  file[10] = file[11] = 0;
  memcpy(file + pre, h, n);
  mlg_stream_mem(&s, file, pre + n);
  return mlg_npy_header(in, &s, UINT64_MAX, is, &err);
}

static int header_of(const char *h, mlg_npy_info *in, mlg_issues *is, int major)
{
  return header_n(h, strlen(h), in, is, major);
}

static void literal_n(const char *h, size_t n, const char *why, int object)
{
  mlg_npy_info in;
  mlg_issues is = {0};
  assert_int_equal(header_n(h, n, &in, &is, 1), 0);
  if (!why) {
    if (is.len)
      print_error("%s: %s\n", h, is.items[0].message);
    assert_int_equal(is.len, 0);
    assert_int_equal(in.object_dtype, object);
  } else {
    assert_int_equal(is.len, 1);
    if (strcmp(is.items[0].message, why) != 0)
      print_error("%s: %s\n", h, is.items[0].message);
    assert_string_equal(is.items[0].code, "npy-malformed");
    assert_string_equal(is.items[0].message, why);
  }
  mlg_npy_info_free(&in);
  mlg_issues_free(&is);
}

static void literal(const char *h, const char *why, int object)
{
  literal_n(h, strlen(h), why, object);
}

static void test_literal_parser(void **state)
{
  (void)state;
  literal("{'descr':'<f4','fortran_order':False,'shape':(1,)}", NULL, 0);
  literal("  {\"descr\" : \"<f4\",\n 'fortran_order': True, 'shape': (),}\n", NULL, 0);
  literal("{'descr': '<' 'f4', 'fortran_order': False, 'shape': (1_000,)}", NULL, 0);
  literal("{'descr': u'|O', 'fortran_order': False, 'shape': ((3),)}", NULL, 1);
  literal("{'descr': ('<f4', (2, 2)), 'fortran_order': False, 'shape': (1,)}", NULL, 0);
  literal("{'descr': [('a', 'O', 2)], 'fortran_order': False, 'shape': (1,)}", NULL, 1);
  literal("{'descr': [['a', '<f4']], 'fortran_order': False, 'shape': (1,)}", NULL, 0);
  literal("{'descr': '\\x3cf4', 'fortran_order': False, 'shape': (1,)}", NULL, 0);
  literal("{'descr': 'object_', 'fortran_order': False, 'shape': (1,)}", NULL, 1);
  literal("{'descr': '<f4', 'fortran_order': False, 'shape': (1,)} # c",
          ".npy header is not a valid dict literal: unexpected text after the dict (at byte 56)",
          0);
  literal("{'descr': '<f4', 'fortran_order': False, 'shape': (1.5,)}",
          ".npy header is not a valid dict literal: only decimal integers are supported (at byte "
          "52)",
          0);
  literal("{'descr': '<f4', 'fortran_order': False, 'shape': (01,)}",
          ".npy header is not a valid dict literal: integers with leading zeros are not valid "
          "Python (at byte 51)",
          0);
  literal("{'descr': '<f4', 'fortran_order': False, 'shape': (1,), 'shape': (2,)}",
          ".npy header repeats a key; numpy uses the last one", 0);
  literal("{'descr': '<f4', 'fortran_order': None, 'shape': (1,)}",
          ".npy header: fortran_order is not True or False", 0);
  literal("{'descr': '<f4', 'fortran_order': False, 'shape': (True,)}",
          ".npy header: shape entry 0 is not a non-negative int", 0);
  literal("{'descr': '<f4', 'fortran_order': False, 'shape': (99999999999999999999999,)}",
          ".npy header: shape entry 0 is not a non-negative int", 0);
  literal("{'descr': ('<f4',), 'fortran_order': False, 'shape': (1,)}",
          ".npy header: descr is neither a dtype string nor a list of fields", 0);
  literal("{'descr': [('a',)], 'fortran_order': False, 'shape': (1,)}",
          ".npy header: field 0 is not a (name, dtype) or (name, dtype, shape) tuple", 0);
  literal("{'descr': [(1, '<f4')], 'fortran_order': False, 'shape': (1,)}",
          ".npy header: field 0 has a name that is not a string", 0);
  literal("{'descr': '<f4', 'fortran_order': False, 'shape': (1,)",
          ".npy header is not a valid dict literal: expected ',' or '}' (at byte 54)", 0);
  literal("{'descr': '<f4\n', 'fortran_order': False, 'shape': (1,)}",
          ".npy header is not a valid dict literal: newline in a string (at byte 15)", 0);
  literal("{'descr': \"\"\"<f4\"\"\", 'fortran_order': False, 'shape': (1,)}",
          ".npy header is not a valid dict literal: triple-quoted strings are not supported (at "
          "byte 11)",
          0);
  literal("{'descr': b'<f4', 'fortran_order': False, 'shape': (1,)}",
          ".npy header is not a valid dict literal: unexpected character 'b' (at byte 10)", 0);
  /* Python refuses source with NUL bytes */
  literal_n("{'descr': '<f4', 'fortran_order': False, 'shape': (1,)}\0", 56,
            ".npy header is not a valid dict literal: NUL byte in the header (at byte 55)", 0);
}

static void test_deep_literal(void **state)
{
  char h[600];
  size_t i, n = 0;
  mlg_npy_info in;
  mlg_issues is = {0};
  (void)state;
  n += (size_t)sprintf(h, "{'descr': ");
  for (i = 0; i < 200; i++)
    h[n++] = '[';
  h[n] = '\0';
  assert_int_equal(header_of(h, &in, &is, 1), 0);
  assert_int_equal(is.len, 1);
  assert_string_equal(is.items[0].message,
                      ".npy header is not a valid dict literal: header nested more than 32 deep "
                      "(at byte 41)");
  mlg_npy_info_free(&in);
  mlg_issues_free(&is);
}

/* --- broken files -------------------------------------------------------------- */

static void test_broken(void **state)
{
  (void)state;
  expect("bad_magic.npy", "npy-malformed", "file does not start with the .npy magic", NULL);
  expect("bad_version.npy", "npy-malformed", ".npy format version 4.0 is not 1.0, 2.0 or 3.0",
         NULL);
  expect("bad_minor.npy", "npy-malformed", ".npy format version 1.1 is not 1.0, 2.0 or 3.0",
         NULL);
  expect("bad_short.npy", "npy-malformed", "file too short for a .npy header", NULL);
  expect("bad_header_past_end.npy", "npy-malformed",
         ".npy header of 255 bytes runs past the end of the file", NULL);
  expect("bad_extra_key.npy", "npy-malformed", ".npy header: unexpected key 'x' in the header",
         NULL);
  expect("bad_missing_key.npy", "npy-malformed", ".npy header: header lacks 'fortran_order'",
         NULL);
  expect("bad_shape_list.npy", "npy-malformed", ".npy header: shape is not a tuple", NULL);
  expect("bad_shape_negative.npy", "npy-malformed",
         ".npy header: shape entry 0 is not a non-negative int", NULL);
  expect("bad_fortran.npy", "npy-malformed", ".npy header: fortran_order is not True or False",
         NULL);
  expect("bad_descr.npy", "npy-malformed", ".npy header: dtype '<x9' is not recognised", NULL);
  expect("bad_syntax.npy", "npy-malformed",
         ".npy header is not a valid dict literal: expected ',' or '}' (at byte 118)", NULL);
  expect("bad_call.npy", "npy-malformed",
         ".npy header is not a valid dict literal: unexpected character '_' (at byte 10)", NULL);
}

static void test_duplicate_uses_last(void **state)
{
  /* 'descr' is '|O' then '<u2': numpy reads '<u2', so do we, and says so */
  mlg_npy_info in;
  (void)state;
  expect("bad_dup_key.npy", "npy-malformed", ".npy header repeats a key; numpy uses the last one",
         &in);
  assert_int_equal(in.object_dtype, 0);
  assert_string_equal(in.descr, "'<u2'");
  mlg_npy_info_free(&in);
}

static void test_size(void **state)
{
  (void)state;
  expect("bad_truncated_data.npy", "npy-size-mismatch",
         ".npy header describes 24 bytes of data (6 x 4), the file holds 20", NULL);
  expect("bad_trailing_data.npy", "npy-size-mismatch",
         ".npy header describes 24 bytes of data (6 x 4), the file holds 28", NULL);
}

int main(void)
{
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(test_dtypes),
      cmocka_unit_test(test_fortran),
      cmocka_unit_test(test_object),
      cmocka_unit_test(test_versions),
      cmocka_unit_test(test_literal_forms),
      cmocka_unit_test(test_literal_parser),
      cmocka_unit_test(test_deep_literal),
      cmocka_unit_test(test_broken),
      cmocka_unit_test(test_duplicate_uses_last),
      cmocka_unit_test(test_size),
  };
  return cmocka_run_group_tests(tests, NULL, NULL);
}
