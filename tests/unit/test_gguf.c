/*
 * mlg_gguf_check: versions 1-3 (and big-endian files), every value type,
 * nested arrays, the chat template, tensor layout, and headers that lie
 * about counts and lengths, on fixtures written by fixtures/formats/make.py
 * and read from memory, a file descriptor and a stream of a few bytes per
 * read.
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

#include "gguf.h"

#define FX "tests/unit/fixtures/formats/gguf/"

static const char TEMPLATE[] =
    "{% for message in messages %}{{ '<|' + message['role'] + '|>' + message['content'] }}"
    "{% endfor %}{% if add_generation_prompt %}<|assistant|>{% endif %}";

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

/* Checks name every way; the issue codes must equal want (NULL-terminated)
 * and be the same each way. The memory run's info and issues are kept. */
static void expect(const char *name, const char *const *want, mlg_gguf_info *info,
                   mlg_issues *out)
{
  int via;
  size_t len;
  unsigned char *data = slurp(name, &len);

  for (via = 0; via < VIA_COUNT; via++) {
    mlg_issues is = {0};
    mlg_gguf_info in;
    mlg_stream s;
    trickle t = {data, len, 0, 5};
    mlg_err err = {0};
    char path[256];
    int fd = -1, rc;
    size_t i, n = 0;

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
    rc = mlg_gguf_check(&in, &s, len, &is, &err);
    if (fd >= 0)
      close(fd);
    if (rc)
      print_error("%s: rc %d %s\n", name, rc, err.msg);
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
    if (via == VIA_MEM && info) {
      *info = in;
    } else {
      mlg_gguf_info_free(&in);
    }
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

/* --- valid files ----------------------------------------------------------- */

static void test_v3_template(void **state)
{
  mlg_gguf_info info;
  (void)state;
  expect("v3_template.gguf", NONE, &info, NULL);
  assert_int_equal(info.version, 3);
  assert_int_equal(info.ntensors, 2);
  assert_int_equal(info.nkv, 9);
  assert_string_equal(info.architecture, "llama");
  assert_string_equal(info.chat_template, TEMPLATE);
  assert_int_equal(info.chat_template_len, strlen(TEMPLATE));
  assert_int_equal(info.chat_template_offset, 470);
  mlg_gguf_info_free(&info);
}

static void test_template_offset_is_exact(void **state)
{
  mlg_gguf_info info;
  size_t len;
  unsigned char *d = slurp("v3_template.gguf", &len);
  (void)state;
  expect("v3_template.gguf", NONE, &info, NULL);
  assert_memory_equal(d + info.chat_template_offset, TEMPLATE, strlen(TEMPLATE));
  mlg_gguf_info_free(&info);
  free(d);
}

static void test_v2_v1_bigendian(void **state)
{
  mlg_gguf_info info;
  (void)state;
  expect("v2_plain.gguf", NONE, &info, NULL);
  assert_int_equal(info.version, 2);
  assert_int_equal(info.nkv, 8);
  assert_null(info.chat_template);
  assert_int_equal(info.chat_template_len, 0);
  assert_string_equal(info.architecture, "llama");
  mlg_gguf_info_free(&info);

  /* v1: 32-bit counts, lengths and dimensions */
  expect("v1_template.gguf", NONE, &info, NULL);
  assert_int_equal(info.version, 1);
  assert_int_equal(info.ntensors, 2);
  assert_string_equal(info.chat_template, TEMPLATE);
  assert_int_equal(info.chat_template_offset, 386);
  mlg_gguf_info_free(&info);

  expect("v3_bigendian.gguf", NONE, &info, NULL);
  assert_int_equal(info.version, 3);
  assert_string_equal(info.chat_template, TEMPLATE);
  assert_string_equal(info.architecture, "llama");
  mlg_gguf_info_free(&info);
}

static void test_types_and_named_template(void **state)
{
  mlg_gguf_info info;
  (void)state;
  /* every scalar type, arrays of arrays of strings, no tensor; a named
   * template stands in when there is no main one */
  expect("v3_types.gguf", NONE, &info, NULL);
  assert_int_equal(info.nkv, 13);
  assert_int_equal(info.ntensors, 0);
  assert_string_equal(info.chat_template, "{{ tools }}");
  assert_int_equal(info.chat_template_len, 11);
  mlg_gguf_info_free(&info);
}

static void test_template_cap(void **state)
{
  /* a 100 KiB template: 64 KiB kept, the full length reported */
  size_t n = 100 * 1024, total = 4 + 4 + 8 + 8 + 8 + 23 + 4 + 8 + n, o = 0;
  unsigned char *f = calloc(1, total);
  mlg_stream s;
  mlg_issues is = {0};
  mlg_gguf_info info;
  mlg_err err;
  uint64_t v;
  uint32_t w;
  (void)state;
  memcpy(f, "GGUF", 4);
  o = 4;
  w = 3;
  memcpy(f + o, &w, 4), o += 4;
  v = 0;
  memcpy(f + o, &v, 8), o += 8;
  v = 1;
  memcpy(f + o, &v, 8), o += 8;
  v = 23;
  memcpy(f + o, &v, 8), o += 8;
  memcpy(f + o, "tokenizer.chat_template", 23), o += 23;
  w = 8;
  memcpy(f + o, &w, 4), o += 4;
  v = n;
  memcpy(f + o, &v, 8), o += 8;
  memset(f + o, 'x', n);
  mlg_stream_mem(&s, f, total);
  assert_int_equal(mlg_gguf_check(&info, &s, total, &is, &err), 0);
  assert_int_equal(is.len, 0);
  assert_int_equal(info.chat_template_len, n);
  assert_int_equal(strlen(info.chat_template), 65536);
  assert_int_equal(info.chat_template_offset, o);
  mlg_gguf_info_free(&info);
  free(f);
}

/* --- broken headers ------------------------------------------------------------- */

static void test_magic_version(void **state)
{
  (void)state;
  one("bad_magic.gguf", "gguf-malformed", 0, "file does not start with the GGUF magic");
  one("bad_version.gguf", "gguf-bad-version", 4, "GGUF version 4 is not one of 1, 2 or 3");
  one("bad_truncated.gguf", "gguf-out-of-bounds", 174,
      "key 4 has a length of 21 bytes, past the end of the file");
}

static void test_lying_counts(void **state)
{
  (void)state;
  one("bad_count_kv.gguf", "gguf-out-of-bounds", 16,
      "header claims 1152921504606846976 key/value pairs, more than the rest of the file can "
      "hold");
  one("bad_count_tensors.gguf", "gguf-out-of-bounds", 8,
      "header claims 1152921504606846976 tensors, more than the rest of the file can hold");
  one("bad_string_len.gguf", "gguf-out-of-bounds", 45,
      "string of 4611686018427387904 bytes in key 'k' runs past the end of the file");
  one("bad_array_len.gguf", "gguf-out-of-bounds", 49,
      "array of 2305843009213693952 uint64 elements in key 'k' cannot fit in the rest of the "
      "file");
  one("bad_array_strings.gguf", "gguf-out-of-bounds", 49,
      "array of 576460752303423488 string elements in key 'k' cannot fit in the rest of the "
      "file");
}

static void test_lying_counts_unknown_size(void **state)
{
  /* Of unknown size, nothing is allocated for a count either: the walk
   * just meets the end of the data. */
  size_t len;
  unsigned char *d = slurp("bad_count_kv.gguf", &len);
  mlg_stream s;
  mlg_issues is = {0};
  mlg_gguf_info info;
  mlg_err err;
  (void)state;
  mlg_stream_mem(&s, d, len);
  assert_int_equal(mlg_gguf_check(&info, &s, UINT64_MAX, &is, &err), 0);
  assert_int_equal(is.len, 1);
  assert_string_equal(is.items[0].code, "gguf-out-of-bounds");
  assert_string_equal(is.items[0].message, "key/value pair runs past the end of the file");
  mlg_issues_free(&is);
  free(d);
}

static void test_values(void **state)
{
  (void)state;
  one("bad_value_type.gguf", "gguf-malformed", 33, "key 'k' has unknown value type 13");
  one("bad_dup_key.gguf", "gguf-duplicate-key", 57,
      "key 'general.name' appears more than once; readers disagree on which value counts");
  one("bad_empty_key.gguf", "gguf-malformed", 24, "key 0 is empty");
  one("bad_nesting.gguf", "gguf-malformed", 136,
      "arrays in key 'deep' are nested more than 8 deep");
  one("bad_alignment_value.gguf", "gguf-malformed", 53,
      "general.alignment 48 is not a power of two");
  one("bad_alignment_type.gguf", "gguf-malformed", 24,
      "general.alignment is a uint64, not a uint32");
  one("bad_template_type.gguf", "gguf-malformed", 24,
      "key 'tokenizer.chat_template' is a uint32, not a string");
}

static void test_tensors(void **state)
{
  (void)state;
  one("bad_dup_tensor.gguf", "gguf-duplicate-key", 71, "tensor name 't' appears more than once");
  one("bad_tensor_oob.gguf", "gguf-tensor-out-of-bounds", 64,
      "tensor 't' (32 bytes at data offset 0) extends past the end of the file");
  one("bad_tensor_gap.gguf", "gguf-malformed", 160,
      "tensor 'b' has data offset 64, expected 32 (tensors must follow each other in order, "
      "leaving a gap)");
  one("bad_tensor_unaligned.gguf", "gguf-malformed", 104,
      "tensor 'b' has data offset 8, not a multiple of the alignment 32");
  one("bad_ndims.gguf", "gguf-malformed", 33, "tensor 'a' has 5 dimensions (at most 4)");
  one("bad_ggml_type.gguf", "gguf-malformed", 24,
      "tensor 'a' has unknown or unsupported ggml type 4");
  one("bad_block_size.gguf", "gguf-malformed", 24,
      "tensor 'a' of type Q8_0 has 33 elements per row, not a multiple of its block size 32");
  one("bad_elements.gguf", "gguf-malformed", 24, "tensor 'a' has too many elements for int64");
  one("bad_name_long.gguf", "gguf-malformed", 24,
      "tensor name 'aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa' is 65 bytes "
      "long (at most 64)");
}

static void test_every_truncation(void **state)
{
  /* Cut the valid file at every length: never a crash, never a silent
   * pass before the data section is complete. */
  size_t len, cut;
  unsigned char *d = slurp("v3_template.gguf", &len);
  (void)state;
  for (cut = 0; cut < len; cut++) {
    mlg_stream s;
    mlg_issues is = {0};
    mlg_gguf_info info;
    mlg_err err;
    mlg_stream_mem(&s, d, cut);
    assert_int_equal(mlg_gguf_check(&info, &s, cut, &is, &err), 0);
    if (is.len == 0)
      fail_msg("no issue when cut at %zu", cut);
    mlg_gguf_info_free(&info);
    mlg_issues_free(&is);
  }
  free(d);
}

int main(void)
{
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(test_v3_template),
      cmocka_unit_test(test_template_offset_is_exact),
      cmocka_unit_test(test_v2_v1_bigendian),
      cmocka_unit_test(test_types_and_named_template),
      cmocka_unit_test(test_template_cap),
      cmocka_unit_test(test_magic_version),
      cmocka_unit_test(test_lying_counts),
      cmocka_unit_test(test_lying_counts_unknown_size),
      cmocka_unit_test(test_values),
      cmocka_unit_test(test_tensors),
      cmocka_unit_test(test_every_truncation),
  };
  return cmocka_run_group_tests(tests, NULL, NULL);
}
