/*
 * NumPy .npy header parsing (the format of every member of .npz): magic,
 * version 1-3, header length, and the header dict literal ({'descr': ...,
 * 'fortran_order': ..., 'shape': (...)}) parsed strictly as numpy's
 * safe literal_eval would accept it. An object dtype ('|O', or a structured
 * dtype containing O) means the data is a pickle: the caller scans it.
 * Issue codes: npy-malformed, npy-size-mismatch (data shorter/longer than
 * shape x itemsize, when the size is known).
 */
#ifndef MLG_NPY_H
#define MLG_NPY_H

#include <stddef.h>
#include <stdint.h>

#include "err.h"
#include "issues.h"
#include "stream.h"

typedef struct mlg_npy_info {
  int major, minor;
  char *descr;            /* as written, malloc'd */
  int fortran_order;
  uint64_t shape[32];
  size_t ndim;
  int object_dtype;       /* data is a pickle */
  uint64_t itemsize;      /* bytes per item (structured dtypes too); 0 for object dtypes */
  uint64_t data_offset;   /* where the data starts */
} mlg_npy_info;

/* Reads the header and leaves the stream at the data. size: total size,
 * or UINT64_MAX when unknown (no size check then). */
int mlg_npy_header(mlg_npy_info *info, mlg_stream *s, uint64_t size, mlg_issues *issues,
                   mlg_err *err);
void mlg_npy_info_free(mlg_npy_info *info);

#endif
