/*
 * libFuzzer harness for the zip reader: the input is the zip file. It is
 * opened through a memfd (the reader works on descriptors), listed, and
 * every member is read to its end in odd-sized chunks under small limits,
 * so bombs, overlaps and truncations all reach the limit checks. Checks
 * that listing never reports data past the file for a readable member and
 * that reads stop with an error or at the end, never loop.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

#include "zipx.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static int memfd_of(const uint8_t *data, size_t size)
{
  int fd = memfd_create("fuzz_zip", MFD_CLOEXEC);
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

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
  mlg_zip_limits lim = {.max_entries = 500, .max_total = 2u << 20, .max_ratio = 50};
  mlg_zip *z = NULL;
  mlg_err err;
  size_t i;
  int fd;

  (void)mlg_zip_sniff(data, size);
  fd = memfd_of(data, size);
  if (mlg_zip_open(&z, fd, size, &lim, &err) != 0) {
    close(fd);
    return 0;
  }
  if (z->nentries > lim.max_entries)
    abort();
  for (i = 0; i < z->nentries; i++) {
    static unsigned char buf[3000];
    const mlg_zip_entry *e = &z->entries[i];
    mlg_stream s;
    uint64_t total = 0;
    /* Odd sizes, but not so small that 2 MiB of output takes seconds. */
    size_t chunk = 500 + (i * 977) % (sizeof buf - 500);
    ssize_t r;

    if (!e->name || (e->data_offset > z->size && mlg_zip_member(&s, z, i, &err) == 0))
      abort();
    if (mlg_zip_member(&s, z, i, &err) != 0)
      continue;
    while ((r = mlg_stream_read(&s, buf, chunk, &err)) > 0) {
      total += (uint64_t)r;
      if (total > lim.max_total)
        abort();
    }
    /* After the end or an error, reads keep saying so. */
    if (mlg_stream_read(&s, buf, chunk, &err) > 0)
      abort();
    mlg_stream_close(&s);
  }
  mlg_zip_close(z);
  close(fd);
  return 0;
}
