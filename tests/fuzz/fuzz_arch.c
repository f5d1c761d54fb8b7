/*
 * libFuzzer harness for the libarchive-backed reader (tar, compressed tar,
 * 7z, compressed raw streams): the input is the archive. Every regular
 * member is read to its end in small chunks under small limits, and sniff
 * runs on the head.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

#include "arch.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static int memfd_of(const uint8_t *data, size_t size)
{
  int fd = memfd_create("fuzz_arch", MFD_CLOEXEC);
  size_t off = 0;
  if (fd < 0)
    abort();
  while (off < size) {
    ssize_t w = write(fd, data + off, size - off);
    if (w <= 0)
      abort();
    off += (size_t)w;
  }
  return fd;
}

typedef struct seen {
  unsigned members;
  uint64_t bytes;
} seen;

static int on_member(void *ud, const char *name, uint64_t size, mlg_stream *s)
{
  static unsigned char buf[1500];
  seen *st = ud;
  mlg_err err;
  ssize_t r;
  (void)size;
  if (!name)
    abort();
  st->members++;
  /* Leave every third member unread: the reader must skip or drain it. */
  if (st->members % 3 == 0)
    return 0;
  while ((r = mlg_stream_read(s, buf, 1 + st->members * 131 % sizeof buf, &err)) > 0)
    st->bytes += (uint64_t)r;
  return 0;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
  mlg_arch_limits lim = {.max_entries = 200, .max_total = 2u << 20, .max_ratio = 50};
  mlg_issues issues = {0};
  mlg_err err;
  seen st = {0};
  int fd;

  (void)mlg_arch_sniff(data, size);
  fd = memfd_of(data, size);
  (void)mlg_arch_each(fd, &lim, on_member, &st, &issues, &err);
  if (st.members > lim.max_entries || st.bytes > lim.max_total)
    abort();
  mlg_issues_free(&issues);
  close(fd);
  return 0;
}
