/*
 * Model artifact scanning: routes a file by its magic bytes (never by its
 * extension) to the right analysers, recursing into containers, and
 * collects every pickle import (with the member and offset it came from),
 * every structural issue and what the artifact is.
 *
 *   raw pickle / legacy torch stream (several pickles)   pickle.c
 *   zip: PyTorch checkpoint (any root folder, every .pkl member, TorchScript
 *        constants.pkl and code/), .npz (npy members), .keras (config.json,
 *        embedded .py), other zips holding pickles        zipx.c + the above
 *   tar (legacy torch tar: sys_info/pickle/storages/tensors), 7z   arch.c
 *   .npy (object dtype -> pickle)                         npy.c + pickle.c
 *   joblib (pickles with inline numpy buffers; zlib/gzip/xz/lz4 wrapped)
 *   safetensors, GGUF, ONNX, Keras HDF5                   *.c per format
 *
 * Nesting (an archive in an archive, a pickle in a pickle) is bounded by
 * depth; unscannable content (encrypted, unsupported compression, over a
 * limit) is an issue, never a silent pass.
 */
#ifndef MLG_MODELSCAN_H
#define MLG_MODELSCAN_H

#include <stddef.h>
#include <stdint.h>

#include "err.h"
#include "issues.h"
#include "model_lists.h"
#include "pickle.h"

typedef enum mlg_model_format {
  MLG_MF_UNKNOWN = 0,
  MLG_MF_PICKLE,
  MLG_MF_TORCH_ZIP,
  MLG_MF_TORCH_LEGACY,
  MLG_MF_TORCH_TAR,
  MLG_MF_NPY,
  MLG_MF_NPZ,
  MLG_MF_JOBLIB,
  MLG_MF_KERAS,
  MLG_MF_KERAS_H5,
  MLG_MF_SAFETENSORS,
  MLG_MF_GGUF,
  MLG_MF_ONNX,
  MLG_MF_ZIP,
  MLG_MF_TAR,
  MLG_MF_7Z,
  MLG_MF_COMPRESSED, /* a compressed stream around one of the above */
  MLG_MF_COUNT
} mlg_model_format;

typedef struct mlg_model_import {
  mlg_pickle_import imp;  /* module, name, offset (within member), called, via... */
  char *member;           /* archive member path ("a.zip/b.npy" when nested), or NULL */
  mlg_import_class cls;   /* verdict from model_lists.c */
} mlg_model_import;

typedef struct mlg_model_member {
  char *name;
  mlg_model_format format;
  uint64_t size;
} mlg_model_member;

typedef struct mlg_model_report {
  mlg_model_format format;
  uint64_t size;
  mlg_model_import *imports;
  size_t nimports;
  mlg_model_member *members;   /* what was found inside (scanned or not) */
  size_t nmembers;
  mlg_issues issues;           /* structural issues, incl. pickle errors */
  unsigned pickles;            /* pickle streams scanned */
  char *chat_template;         /* GGUF main (or first) chat template, or NULL */
  char **template_names;       /* GGUF: every chat template ("" = the main one) */
  char **templates;
  size_t ntemplates;
  char **external;             /* ONNX external data locations */
  size_t nexternal;
} mlg_model_report;

typedef struct mlg_model_opts {
  unsigned max_depth;          /* container nesting; 0 = 4 */
  uint64_t max_member_bytes;   /* largest member decompressed for scanning; 0 = 4 GiB */
  mlg_pickle_opts pickle;
} mlg_model_opts;

/* Scans the artifact open at fd (size bytes, offset 0). name is used in
 * messages. A file that is no model format at all gives format
 * MLG_MF_UNKNOWN and no issue. Returns negative only when the scan could
 * not run (memory, I/O). */
int mlg_model_scan(mlg_model_report *out, int fd, uint64_t size, const char *name,
                   const mlg_model_opts *opts, mlg_err *err);
void mlg_model_report_free(mlg_model_report *r);

const char *mlg_model_format_name(mlg_model_format f);

#endif
