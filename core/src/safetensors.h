/*
 * safetensors structure check: an 8-byte little-endian header length, a
 * JSON header (strict: no duplicate keys), tensors whose data_offsets tile
 * the data region exactly (no gaps, no overlaps, nothing outside it), and
 * dtype x shape = byte length. The format cannot run code; a malformed one
 * can still crash or mislead loaders, and a "safetensors" file that is
 * really something else is a container trick.
 * Issue codes: safetensors-header-too-large, safetensors-bad-header (JSON),
 * safetensors-duplicate-key, safetensors-bad-dtype, safetensors-bad-shape,
 * safetensors-size-mismatch, safetensors-bad-offsets (gap, overlap, out of
 * range), safetensors-trailing-bytes, safetensors-truncated.
 */
#ifndef MLG_SAFETENSORS_H
#define MLG_SAFETENSORS_H

#include <stddef.h>
#include <stdint.h>

#include "err.h"
#include "issues.h"
#include "stream.h"

typedef struct mlg_safetensors_info {
  uint64_t header_len;
  size_t ntensors;
  uint64_t data_len;   /* bytes after the header */
  int has_metadata;    /* "__metadata__" present */
} mlg_safetensors_info;

/* size: total file size (the data region is checked against it; the tensor
 * bytes themselves are skipped, never read). Header length cap: 100 MB (as
 * the reference implementation). Returns 0 when it could decide (issues
 * say what is wrong), negative when the stream itself failed. */
int mlg_safetensors_check(mlg_safetensors_info *info, mlg_stream *s, uint64_t size,
                          mlg_issues *issues, mlg_err *err);

/* 1 when the first 9+ bytes look like a safetensors header ("{" after the
 * length, length plausible for size). */
int mlg_safetensors_sniff(const unsigned char *head, size_t len, uint64_t size);

#endif
