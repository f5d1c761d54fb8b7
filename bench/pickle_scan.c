/*
 * bench/pickle_scan: runs mlg_pickle_scan over files and prints what it
 * found, for the benchmark and for running corpora by hand.
 *
 *   pickle_scan [-q] [-N] FILE...
 *
 * Per file: one line per import (offset, depth, pickle index, via,
 * module, name, called/resolved flags; tab-separated), then a summary line. -q prints the
 * summary only; -N (a number) scans the first N pickles only
 * (first_only = N; -5 for a legacy torch.save file). Exit status: 0, or 1 when
 * a scan could not run.
 */
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "pickle.h"

/* Names are the input's bytes: control characters are escaped so that a
 * line stays a line. */
static void put_name(const char *s)
{
  for (; *s; s++) {
    unsigned char c = (unsigned char)*s;
    if (c < 0x20 || c == 0x7f || c == '\\')
      printf("\\x%02x", c);
    else
      putchar(c);
  }
}

int main(int argc, char **argv)
{
  int quiet = 0, status = 0, i;
  mlg_pickle_opts o;

  memset(&o, 0, sizeof o);
  for (i = 1; i < argc; i++) {
    mlg_pickle_report r;
    mlg_stream s;
    mlg_err err = {0, ""};
    size_t k;
    int fd, rc;

    if (strcmp(argv[i], "-q") == 0) {
      quiet = 1;
      continue;
    }
    if (argv[i][0] == '-' && argv[i][1] >= '1' && argv[i][1] <= '9') {
      o.first_only = atoi(argv[i] + 1);
      continue;
    }
    fd = open(argv[i], O_RDONLY);
    if (fd < 0) {
      perror(argv[i]);
      status = 1;
      continue;
    }
    mlg_stream_fd(&s, fd, UINT64_MAX);
    rc = mlg_pickle_scan(&r, &s, &o, &err);
    if (rc < 0) {
      fprintf(stderr, "%s: %s\n", argv[i], err.msg);
      status = 1;
    }
    for (k = 0; !quiet && k < r.nimports; k++) {
      const mlg_pickle_import *m = &r.imports[k];
      printf("%s\t%llu\td%u\tp%u\t%s\t", argv[i], (unsigned long long)m->offset, m->depth,
             m->pickle, mlg_pickle_via_name(m->via));
      put_name(m->module);
      putchar('\t');
      put_name(m->name);
      printf("%s%s", m->called ? "\tcalled" : "", m->resolved ? "" : "\tunresolved");
      if (m->via == MLG_PK_EXT)
        printf("\text=%ld", m->ext_code);
      printf("\n");
    }
    printf("%s\tpickles=%u imports=%zu opcodes=%llu bytes=%llu proto=%d persid=%u nested=%u "
           "joblib=%u garbage=%d error=%d",
           argv[i], r.npickles, r.nimports, (unsigned long long)r.opcodes,
           (unsigned long long)r.bytes, r.max_protocol, r.persistent_ids, r.nested,
           r.joblib_arrays, r.trailing_garbage, r.error);
    if (r.error)
      printf(" at %llu: %s", (unsigned long long)r.error_offset, r.error_msg);
    printf("\n");
    mlg_pickle_report_free(&r);
    close(fd);
  }
  return status;
}
