/*
 * GGUF (llama.cpp models) header and metadata check: magic, version 1-3,
 * counts, every key/value and tensor record within the file, string and
 * array lengths bounded, tensor data offsets inside the file. Reports the
 * chat template (tokenizer.chat_template), a Jinja template that loaders
 * render and that has been used for code execution (server-side template
 * injection in inference servers).
 * Issue codes: gguf-malformed, gguf-out-of-bounds, gguf-tensor-out-of-bounds,
 * gguf-bad-version, gguf-duplicate-key.
 */
#ifndef MLG_GGUF_H
#define MLG_GGUF_H

#include <stddef.h>
#include <stdint.h>

#include "err.h"
#include "issues.h"
#include "stream.h"

typedef struct mlg_gguf_info {
  uint32_t version;
  uint64_t ntensors, nkv;
  char *architecture;   /* general.architecture, malloc'd or NULL */
  char *chat_template;  /* tokenizer.chat_template (first 64 KiB), malloc'd or NULL */
  uint64_t chat_template_len;
  uint64_t chat_template_offset;
  /* Every template, the main one and named ones
   * (tokenizer.chat_template.<name>, rendered for tool use and the like):
   * names ("" for the main one) and texts (first 64 KiB), at most 32. */
  char **template_names;
  char **templates;
  size_t ntemplates;
} mlg_gguf_info;

int mlg_gguf_check(mlg_gguf_info *info, mlg_stream *s, uint64_t size, mlg_issues *issues,
                   mlg_err *err);
void mlg_gguf_info_free(mlg_gguf_info *info);

#endif
