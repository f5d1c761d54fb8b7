/*
 * libFuzzer harness for the pickle VM (mlg_pickle_scan). The first byte
 * picks the options: with its high bit set, tiny caps (stack, memo,
 * strings, nested bytes, depth, imports) so that every limit path runs,
 * and its low bit asks for the first pickle only. Checks the report's
 * invariants; ASan/UBSan and the leak checker do the rest.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "pickle.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
  mlg_pickle_opts o;
  mlg_pickle_report r;
  mlg_stream s;
  mlg_err err = {0, ""};
  size_t i;

  memset(&o, 0, sizeof o);
  if (size && (data[0] & 0x80)) {
    o.max_stack = 64;
    o.max_memo = 16;
    o.max_string = 64;
    o.max_nested_bytes = 512;
    o.max_depth = 2;
    o.max_imports = 8;
    o.first_only = data[0] & 1;
    data++;
    size--;
  }
  mlg_stream_mem(&s, data, size);
  if (mlg_pickle_scan(&r, &s, &o, &err) < 0 && err.msg[0] == '\0')
    abort();
  if (r.bytes > size || r.error_offset > size)
    abort();
  if (r.error && memchr(r.error_msg, '\0', sizeof r.error_msg) == NULL)
    abort();
  if (o.max_imports && r.nimports > o.max_imports)
    abort();
  for (i = 0; i < r.nimports; i++) {
    const mlg_pickle_import *m = &r.imports[i];
    if (!m->module || !m->name || m->offset > size)
      abort();
    if (m->via < MLG_PK_GLOBAL || m->via > MLG_PK_NESTED)
      abort();
  }
  mlg_pickle_report_free(&r);
  return 0;
}
