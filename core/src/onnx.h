/*
 * ONNX model check (protobuf wire format, read field by field and skipping
 * tensor payloads, so multi-gigabyte models cost a pass over the tags):
 * external data locations (TensorProto.external_data "location") must stay
 * inside the model's folder: absolute paths, ".." and drive letters are
 * issues, and the locations are returned for the caller to check against
 * the workspace. Also reports custom operator domains.
 * Issue codes: onnx-malformed, onnx-external-escape, onnx-custom-domain.
 */
#ifndef MLG_ONNX_H
#define MLG_ONNX_H

#include <stddef.h>
#include <stdint.h>

#include "err.h"
#include "issues.h"
#include "stream.h"

typedef struct mlg_onnx_info {
  int64_t ir_version;
  char **external;      /* external data locations, malloc'd */
  size_t nexternal;
  char **domains;       /* operator set domains other than "", ai.onnx, ai.onnx.ml,
                         * ai.onnx.training and ai.onnx.preview.training */
  size_t ndomains;
} mlg_onnx_info;

int mlg_onnx_check(mlg_onnx_info *info, mlg_stream *s, uint64_t size, mlg_issues *issues,
                   mlg_err *err);
void mlg_onnx_info_free(mlg_onnx_info *info);

/* 1 when the bytes plausibly start an ONNX ModelProto. */
int mlg_onnx_sniff(const unsigned char *head, size_t len);

#endif
