/*
 * mlg_onnx_check and mlg_onnx_sniff on models written by the onnx package
 * (fixtures/formats/make.py): internal and external data, external data
 * locations that escape the model's folder from initializers, Constant
 * attributes, subgraphs and sparse initializers, custom operator domains,
 * and broken wire format. Read from memory, a file descriptor and a
 * stream of a few bytes per read.
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

#include "onnx.h"

#define FX "tests/unit/fixtures/formats/onnx/"

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

enum { VIA_MEM, VIA_FD, VIA_TRICKLE, VIA_UNKNOWN_SIZE, VIA_COUNT };

/* Checks name every way: the issue codes must equal want (NULL-
 * terminated) each time; the memory run's info and issues are kept. */
static void expect(const char *name, const char *const *want, mlg_onnx_info *info,
                   mlg_issues *out)
{
  int via;
  size_t len;
  unsigned char *data = slurp(name, &len);

  for (via = 0; via < VIA_COUNT; via++) {
    mlg_issues is = {0};
    mlg_onnx_info in;
    mlg_stream s;
    trickle t = {data, len, 0, 2};
    mlg_err err = {0};
    char path[256];
    int fd = -1, rc;
    size_t i, n = 0;

    if (via == VIA_MEM || via == VIA_UNKNOWN_SIZE) {
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
    rc = mlg_onnx_check(&in, &s, via == VIA_UNKNOWN_SIZE ? UINT64_MAX : len, &is, &err);
    if (fd >= 0)
      close(fd);
    assert_int_equal(rc, 0);
    while (want[n])
      n++;
    if (is.len != n) {
      for (i = 0; i < is.len; i++)
        print_error("%s: [%s] %s\n", name, is.items[i].code, is.items[i].message);
    }
    assert_int_equal(is.len, n);
    for (i = 0; i < n; i++)
      assert_string_equal(is.items[i].code, want[i]);
    if (via == VIA_MEM && info)
      *info = in;
    else
      mlg_onnx_info_free(&in);
    if (via == VIA_MEM && out)
      *out = is;
    else
      mlg_issues_free(&is);
  }
  free(data);
}

#define CODES(...) ((const char *const[]){__VA_ARGS__, NULL})
#define NONE ((const char *const[]){NULL})

static void one(const char *name, const char *code, int64_t offset, const char *msg)
{
  mlg_issues is;
  expect(name, CODES(code), NULL, &is);
  if (strcmp(is.items[0].message, msg) != 0 || is.items[0].offset != offset)
    print_error("%s: @%lld %s\n", name, (long long)is.items[0].offset, is.items[0].message);
  assert_string_equal(is.items[0].message, msg);
  assert_int_equal(is.items[0].offset, offset);
  mlg_issues_free(&is);
}

/* --- models ------------------------------------------------------------------- */

static void test_internal(void **state)
{
  mlg_onnx_info info;
  (void)state;
  expect("internal.onnx", NONE, &info, NULL);
  assert_int_equal(info.ir_version, 8);
  assert_int_equal(info.nexternal, 0);
  assert_int_equal(info.ndomains, 0);
  mlg_onnx_info_free(&info);
}

static void test_external_ok(void **state)
{
  mlg_onnx_info info;
  (void)state;
  expect("external.onnx", NONE, &info, NULL);
  assert_int_equal(info.nexternal, 1);
  assert_string_equal(info.external[0], "weights.bin");
  mlg_onnx_info_free(&info);
  expect("external_sub.onnx", NONE, &info, NULL);
  assert_int_equal(info.nexternal, 1);
  assert_string_equal(info.external[0], "data/weights.bin");
  mlg_onnx_info_free(&info);
}

static void test_external_escape(void **state)
{
  mlg_onnx_info info;
  mlg_issues is;
  (void)state;
  one("bad_external_dotdot.onnx", "onnx-external-escape", 25,
      "tensor 'w' reads its data from '../../etc/passwd', which goes up with '..': the loader "
      "would open a file outside the model's folder");
  one("bad_external_abs.onnx", "onnx-external-escape", 25,
      "tensor 'w' reads its data from '/etc/passwd', which is an absolute path: the loader "
      "would open a file outside the model's folder");
  one("bad_external_drive.onnx", "onnx-external-escape", 25,
      "tensor 'w' reads its data from 'C:\\\\x', which names a drive: the loader would open a "
      "file outside the model's folder");
  one("bad_external_backslash.onnx", "onnx-external-escape", 25,
      "tensor 'w' reads its data from 'data\\\\..\\\\..\\\\secret', which goes up with '..': the "
      "loader would open a file outside the model's folder");
  /* the locations are listed for the caller, escaping or not */
  expect("bad_external_abs.onnx", CODES("onnx-external-escape"), &info, &is);
  assert_int_equal(info.nexternal, 1);
  assert_string_equal(info.external[0], "/etc/passwd");
  mlg_onnx_info_free(&info);
  mlg_issues_free(&is);
  /* two "location" entries: onnx.load keeps the last, others the first;
   * both are checked */
  expect("bad_external_twice.onnx", CODES("onnx-external-escape"), &info, &is);
  assert_int_equal(info.nexternal, 2);
  assert_string_equal(info.external[0], "weights.bin");
  assert_string_equal(info.external[1], "../x");
  mlg_onnx_info_free(&info);
  mlg_issues_free(&is);
  one("bad_external_nolocation.onnx", "onnx-malformed", 25,
      "tensor 'w' keeps its data in an external file but names no location");
}

static void test_external_everywhere(void **state)
{
  mlg_onnx_info info;
  (void)state;
  /* a Constant node's value attribute */
  one("bad_external_constant.onnx", "onnx-external-escape", 31,
      "tensor 'cv' reads its data from '/etc/shadow', which is an absolute path: the loader "
      "would open a file outside the model's folder");
  /* an If node's subgraphs (the same tensor twice: reported once) */
  expect("bad_external_subgraph.onnx", CODES("onnx-external-escape"), &info, NULL);
  assert_int_equal(info.nexternal, 1);
  assert_string_equal(info.external[0], "../sub.bin");
  mlg_onnx_info_free(&info);
  /* the values of a sparse initializer */
  one("bad_external_sparse.onnx", "onnx-external-escape", 62,
      "tensor 'sv' reads its data from '../../sp.bin', which goes up with '..': the loader "
      "would open a file outside the model's folder");
}

static void test_domains(void **state)
{
  mlg_onnx_info info;
  mlg_issues is;
  (void)state;
  expect("custom_domain.onnx", CODES("onnx-custom-domain"), &info, &is);
  assert_int_equal(info.ndomains, 1);
  assert_string_equal(info.domains[0], "com.evil");
  assert_string_equal(is.items[0].message,
                      "operator domain 'com.evil' is not a standard ONNX domain; its operators "
                      "come from a custom operator library the runtime must load");
  mlg_onnx_info_free(&info);
  mlg_issues_free(&is);
  /* ai.onnx.ml is standard, com.microsoft is not */
  expect("ms_domain.onnx", CODES("onnx-custom-domain"), &info, NULL);
  assert_int_equal(info.ndomains, 1);
  assert_string_equal(info.domains[0], "com.microsoft");
  mlg_onnx_info_free(&info);
}

static void test_wire_format(void **state)
{
  (void)state;
  one("bad_group.onnx", "onnx-malformed", 2, "invalid wire type 3 (field 3)");
  one("bad_length.onnx", "onnx-malformed", 2,
      "field 7 claims 4294967295 bytes, past the end of its enclosing message");
  one("bad_truncated.onnx", "onnx-malformed", 2,
      "field 7 claims 80 bytes, past the end of its enclosing message");
  one("bad_varint.onnx", "onnx-malformed", 3, "varint longer than 10 bytes");
  one("bad_deep.onnx", "onnx-malformed", 2738, "messages nested more than 64 deep");
}

static void test_every_truncation(void **state)
{
  size_t len, cut;
  unsigned char *d = slurp("bad_external_subgraph.onnx", &len);
  (void)state;
  for (cut = 0; cut < len; cut++) {
    mlg_stream s;
    mlg_issues is = {0};
    mlg_onnx_info info;
    mlg_err err;
    mlg_stream_mem(&s, d, cut);
    assert_int_equal(mlg_onnx_check(&info, &s, cut, &is, &err), 0);
    mlg_onnx_info_free(&info);
    mlg_issues_free(&is);
  }
  free(d);
}

static void test_raw_data_not_read(void **state)
{
  /* A 1 GiB raw_data field in a sparse file: skipped by seeking. */
  char path[] = "/tmp/mlg_onnx_XXXXXX";
  int fd = mkstemp(path);
  static const unsigned char head[] = {
      0x08, 0x08,                         /* ir_version 8 */
      0x3a, 0x8f, 0x80, 0x80, 0x80, 0x04, /* graph, 2^30 + 15 bytes */
      0x2a, 0x89, 0x80, 0x80, 0x80, 0x04, /* initializer, 2^30 + 9 bytes */
      0x42, 0x01, 'w',                    /* name "w" */
      0x4a, 0x80, 0x80, 0x80, 0x80, 0x04, /* raw_data, 2^30 bytes */
  };
  mlg_stream s;
  mlg_issues is = {0};
  mlg_onnx_info info;
  mlg_err err;
  uint64_t size = sizeof head + ((uint64_t)1 << 30);
  (void)state;
  assert_true(fd >= 0);
  unlink(path);
  assert_int_equal(write(fd, head, sizeof head), (ssize_t)sizeof head);
  assert_int_equal(ftruncate(fd, (off_t)size), 0);
  assert_int_equal(lseek(fd, 0, SEEK_SET), 0);
  mlg_stream_fd(&s, fd, size);
  assert_int_equal(mlg_onnx_check(&info, &s, size, &is, &err), 0);
  if (is.len)
    print_error("%s\n", is.items[0].message);
  assert_int_equal(is.len, 0);
  assert_int_equal(s.pos, size);
  mlg_onnx_info_free(&info);
  close(fd);
}

/* --- sniffing ------------------------------------------------------------------ */

static void test_sniff(void **state)
{
  static const char *const models[] = {"internal.onnx", "external.onnx", "custom_domain.onnx",
                                       "bad_external_subgraph.onnx"};
  size_t len, i;
  unsigned char *d;
  (void)state;
  for (i = 0; i < sizeof models / sizeof models[0]; i++) {
    d = slurp(models[i], &len);
    assert_int_equal(mlg_onnx_sniff(d, len), 1);
    assert_int_equal(mlg_onnx_sniff(d, 8), 1);
    free(d);
  }
  assert_int_equal(mlg_onnx_sniff((const unsigned char *)"\x08\x08", 2), 0);
  assert_int_equal(mlg_onnx_sniff((const unsigned char *)"\x80\x04\x95\x00", 4), 0);
  assert_int_equal(mlg_onnx_sniff((const unsigned char *)"\x08\x00\x3a\x00", 4), 0);
  assert_int_equal(mlg_onnx_sniff((const unsigned char *)"\x08\x08\x1b\x00", 4), 0);
  assert_int_equal(mlg_onnx_sniff((const unsigned char *)"GGUF\x03\x00\x00\x00", 8), 0);
}

int main(void)
{
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(test_internal),
      cmocka_unit_test(test_external_ok),
      cmocka_unit_test(test_external_escape),
      cmocka_unit_test(test_external_everywhere),
      cmocka_unit_test(test_domains),
      cmocka_unit_test(test_wire_format),
      cmocka_unit_test(test_every_truncation),
      cmocka_unit_test(test_raw_data_not_read),
      cmocka_unit_test(test_sniff),
  };
  return cmocka_run_group_tests(tests, NULL, NULL);
}
