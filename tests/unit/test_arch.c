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

#include "arch.h"
#include "buf.h"

#define FX "tests/unit/fixtures/arch"

/* The pickle every fixture's data.pkl/pickle holds (see make_fixtures.py). */
static const char pk[] = "\x80\x02}q\x00X\x07\x00\x00\x00weightsq\x01]q\x02(K\x01K\x02K\x03" "es.";
#define PK_LEN 32

/* What the callback saw: "name:size:bytes-read" per member, and the
 * bytes of the member called want. */
typedef struct seen {
  mlg_buf log;
  const char *want;
  mlg_buf data;
  int stop_at;      /* return 7 at this member (1-based), 0 = never */
  int skip_reading; /* read nothing */
  unsigned n;
  int last_read;
  mlg_err err;
} seen;

static int on_member(void *ud, const char *name, uint64_t size, mlg_stream *s)
{
  seen *st = ud;
  char buf[5];
  uint64_t got = 0;
  ssize_t r = 0;

  st->n++;
  if (!st->skip_reading) {
    while ((r = mlg_stream_read(s, buf, sizeof buf, &st->err)) > 0) {
      got += (uint64_t)r;
      if (st->want && strcmp(name, st->want) == 0)
        assert_int_equal(mlg_buf_put(&st->data, buf, (size_t)r), 0);
    }
  }
  st->last_read = (int)r;
  assert_int_equal(mlg_buf_printf(&st->log, "%s%s:%lld:%llu", st->log.len ? " " : "", name,
                                  size == UINT64_MAX ? -1LL : (long long)size,
                                  (unsigned long long)got), 0);
  return st->stop_at && (int)st->n == st->stop_at ? 7 : 0;
}

static char *issue_codes(const mlg_issues *l)
{
  mlg_buf b = MLG_BUF_INIT;
  size_t i;
  for (i = 0; i < l->len; i++)
    assert_int_equal(mlg_buf_printf(&b, "%s%s@%lld[%s]", i ? " " : "", l->items[i].code,
                                    (long long)l->items[i].offset,
                                    l->items[i].member ? l->items[i].member : ""), 0);
  assert_int_equal(mlg_buf_put(&b, "", 1), 0);
  return mlg_buf_detach(&b);
}

/* Runs mlg_arch_each over a fixture; returns its result. */
static int run(const char *file, const mlg_arch_limits *lim, seen *st, mlg_issues *issues,
               mlg_err *err)
{
  char path[512];
  int fd, rc;
  snprintf(path, sizeof path, FX "/%s", file);
  fd = open(path, O_RDONLY);
  assert_true(fd >= 0);
  rc = mlg_arch_each(fd, lim, on_member, st, issues, err);
  close(fd);
  return rc;
}

static void check(const char *file, const char *want_log, const char *want_issues, int want_rc)
{
  seen st;
  mlg_issues issues = {0};
  mlg_err err;
  char *codes;
  int rc;

  memset(&st, 0, sizeof st);
  st.want = strstr(file, "legacy") ? "pickle" : "data.pkl";
  rc = run(file, NULL, &st, &issues, &err);
  if (rc != want_rc)
    print_message("%s: %s\n", file, err.msg);
  assert_int_equal(rc, want_rc);
  assert_string_equal(st.log.ptr ? st.log.ptr : "", want_log);
  codes = issue_codes(&issues);
  assert_string_equal(codes, want_issues);
  free(codes);
  if (st.data.len && strcmp(file, "picklescan_malicious1.7z") != 0) {
    assert_int_equal(st.data.len, PK_LEN);
    assert_memory_equal(st.data.ptr, pk, PK_LEN);
  }
  mlg_buf_free(&st.log);
  mlg_buf_free(&st.data);
  mlg_issues_free(&issues);
}

static void test_legacy_tars(void **state)
{
  static const char *const files[] = {"legacy.tar", "legacy.tar.gz", "legacy.tar.xz"};
  size_t i;
  for (i = 0; i < 3; i++)
    check(files[i], "sys_info:33:33 pickle:32:32 storages:5:5 tensors:5:5", "", 0);
}

static void test_tricks(void **state)
{
  seen st;
  mlg_issues issues = {0};
  mlg_err err;

  check("tricks.tar", "real:32:32 ../up.pkl:2:2 /abs.pkl:3:3 real:5:5",
        "arch-link@1024[pickle] arch-link@1536[sym] arch-path-traversal@2048[../up.pkl] "
        "arch-path-traversal@3072[/abs.pkl] arch-duplicate-name@4608[real]", 0);
  memset(&st, 0, sizeof st);
  assert_int_equal(run("tricks.tar", NULL, &st, &issues, &err), 0);
  assert_string_equal(issues.items[0].message, "hard link to \"real\"");
  assert_string_equal(issues.items[1].message, "symbolic link to \"../../etc/passwd\"");
  assert_string_equal(issues.items[2].message, "the name has a \"..\" component");
  assert_string_equal(issues.items[3].message, "the name is absolute");
  assert_string_equal(issues.items[4].message,
                      "another member has this name (tarfile reads the last one)");
  mlg_buf_free(&st.log);
  mlg_issues_free(&issues);
}

static void test_7z(void **state)
{
  check("plain.7z", "data.pkl:32:32 notes.txt:180:180", "", 0);
  check("picklescan_malicious1.7z", "data.pkl:51:51", "", 0);
  /* Encrypted members are reported, not handed over. */
  check("encrypted.7z", "", "arch-encrypted@-1[data.pkl] arch-encrypted@-1[notes.txt]", 0);
  check("encrypted_headers.7z", "", "arch-encrypted@-1[]", 0);
}

static void test_peer_7z_bytes(void **state)
{
  seen st;
  mlg_issues issues = {0};
  mlg_err err;

  memset(&st, 0, sizeof st);
  st.want = "data.pkl";
  assert_int_equal(run("picklescan_malicious1.7z", NULL, &st, &issues, &err), 0);
  assert_int_equal(st.data.len, 51);
  /* PROTO 4, FRAME, then builtins.eval as a SHORT_BINUNICODE pair. */
  assert_memory_equal(st.data.ptr, "\x80\x04\x95", 3);
  assert_non_null(memmem(st.data.ptr, st.data.len, "builtins", 8));
  assert_non_null(memmem(st.data.ptr, st.data.len, "eval", 4));
  mlg_buf_free(&st.log);
  mlg_buf_free(&st.data);
  mlg_issues_free(&issues);
}

static void test_compressed_stream(void **state)
{
  /* A gzip'd pickle with no archive inside: one member named "data". */
  check("pickle.gz", "data:-1:32", "", 0);
}

static void test_malformed(void **state)
{
  seen st;
  mlg_issues issues = {0};
  mlg_err err;
  char *codes;

  memset(&st, 0, sizeof st);
  assert_int_equal(run("truncated.tar", NULL, &st, &issues, &err), MLG_EPARSE);
  assert_string_equal(st.log.ptr, "sys_info:33:33 pickle:32:30");
  assert_int_equal(st.last_read, MLG_EPARSE);
  assert_string_equal(st.err.msg,
                      "pickle: Truncated input file (needed 480 bytes, only 68 available)");
  assert_string_equal(err.msg, "pickle: Truncated input file (needed 480 bytes, only 68 available)");
  codes = issue_codes(&issues);
  assert_string_equal(codes, "arch-malformed@1024[pickle]");
  free(codes);
  mlg_buf_free(&st.log);
  mlg_issues_free(&issues);

  memset(&st, 0, sizeof st);
  assert_int_equal(run("garbage.bin", NULL, &st, &issues, &err), MLG_EPARSE);
  assert_string_equal(err.msg, "not an archive: unrecognised data");
  assert_int_equal(st.n, 0);
  assert_int_equal(issues.len, 0);
  mlg_buf_free(&st.log);

  assert_int_equal(mlg_arch_each(-1, NULL, on_member, &st, &issues, &err), MLG_EINVAL);
  assert_int_equal(mlg_arch_each(0, NULL, NULL, &st, &issues, &err), MLG_EINVAL);
}

static void test_limits(void **state)
{
  mlg_arch_limits lim = {.max_entries = 2};
  seen st;
  mlg_issues issues = {0};
  mlg_err err;
  char *codes;

  memset(&st, 0, sizeof st);
  assert_int_equal(run("legacy.tar", &lim, &st, &issues, &err), MLG_ELIMIT);
  assert_string_equal(err.msg, "more than 2 entries");
  assert_string_equal(st.log.ptr, "sys_info:33:33 pickle:32:32");
  codes = issue_codes(&issues);
  assert_string_equal(codes, "arch-bomb@-1[]");
  free(codes);
  mlg_buf_free(&st.log);
  mlg_issues_free(&issues);

  /* 8 MiB of zeros in 8 KiB of gzip: over the default ratio of 1000. */
  memset(&st, 0, sizeof st);
  assert_int_equal(run("zeros.tar.gz", NULL, &st, &issues, &err), MLG_ELIMIT);
  assert_int_equal(st.last_read, MLG_ELIMIT);
  assert_string_equal(err.msg, "zeros: compression ratio over 1000");
  codes = issue_codes(&issues);
  assert_string_equal(codes, "arch-bomb@0[zeros]");
  free(codes);
  mlg_buf_free(&st.log);
  mlg_issues_free(&issues);

  /* The same bytes when the callback reads nothing: drained and caught. */
  memset(&st, 0, sizeof st);
  st.skip_reading = 1;
  assert_int_equal(run("zeros.tar.gz", NULL, &st, &issues, &err), MLG_ELIMIT);
  assert_string_equal(err.msg, "zeros: compression ratio over 1000");
  mlg_buf_free(&st.log);
  mlg_issues_free(&issues);

  /* Total: 40 bytes allowed, the second member crosses it. */
  lim.max_entries = 0;
  lim.max_total = 40;
  memset(&st, 0, sizeof st);
  assert_int_equal(run("legacy.tar", &lim, &st, &issues, &err), MLG_ELIMIT);
  assert_string_equal(err.msg, "pickle: over the limit of 40 uncompressed bytes");
  codes = issue_codes(&issues);
  assert_string_equal(codes, "arch-bomb@1024[pickle]");
  free(codes);
  mlg_buf_free(&st.log);
  mlg_issues_free(&issues);
}

static void test_callback_stops(void **state)
{
  seen st;
  mlg_issues issues = {0};
  mlg_err err;

  memset(&st, 0, sizeof st);
  st.stop_at = 2;
  assert_int_equal(run("legacy.tar.gz", NULL, &st, &issues, &err), 7);
  assert_string_equal(st.log.ptr, "sys_info:33:33 pickle:32:32");
  mlg_buf_free(&st.log);
  /* Unread members are skipped. */
  memset(&st, 0, sizeof st);
  st.skip_reading = 1;
  assert_int_equal(run("legacy.tar.xz", NULL, &st, &issues, &err), 0);
  assert_string_equal(st.log.ptr, "sys_info:33:0 pickle:32:0 storages:5:0 tensors:5:0");
  mlg_buf_free(&st.log);
  mlg_issues_free(&issues);
}

static void test_sniff(void **state)
{
  static const struct {
    const char *file;
    mlg_arch_kind kind;
  } cases[] = {
      {"legacy.tar", MLG_ARCH_TAR},        {"legacy.tar.gz", MLG_ARCH_TAR},
      {"legacy.tar.xz", MLG_ARCH_TAR},     {"zeros.tar.gz", MLG_ARCH_TAR},
      {"pickle.gz", MLG_ARCH_GZIP},        {"plain.7z", MLG_ARCH_7Z},
      {"picklescan_malicious1.7z", MLG_ARCH_7Z}, {"garbage.bin", MLG_ARCH_NONE},
  };
  unsigned char head[4096];
  size_t i;

  for (i = 0; i < sizeof cases / sizeof *cases; i++) {
    char path[512];
    ssize_t n;
    int fd;
    snprintf(path, sizeof path, FX "/%s", cases[i].file);
    fd = open(path, O_RDONLY);
    assert_true(fd >= 0);
    n = read(fd, head, sizeof head);
    close(fd);
    assert_true(n > 0);
    if (mlg_arch_sniff(head, (size_t)n) != cases[i].kind)
      print_message("%s\n", cases[i].file);
    assert_int_equal(mlg_arch_sniff(head, (size_t)n), cases[i].kind);
  }
  /* An xz stream that holds no tar is another compressed stream. */
  assert_int_equal(mlg_arch_sniff((const unsigned char *)"\xFD" "7zXZ\0\0\4", 8),
                   MLG_ARCH_OTHER);
  assert_int_equal(mlg_arch_sniff((const unsigned char *)"PK\3\4", 4), MLG_ARCH_NONE);
  assert_int_equal(mlg_arch_sniff(NULL, 0), MLG_ARCH_NONE);
}

int main(void)
{
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(test_legacy_tars),
      cmocka_unit_test(test_tricks),
      cmocka_unit_test(test_7z),
      cmocka_unit_test(test_peer_7z_bytes),
      cmocka_unit_test(test_compressed_stream),
      cmocka_unit_test(test_malformed),
      cmocka_unit_test(test_limits),
      cmocka_unit_test(test_callback_stops),
      cmocka_unit_test(test_sniff),
  };
  return cmocka_run_group_tests(tests, NULL, NULL);
}
