/* Limits shared by the document parsers (yaml.c, json_parse.c). */
#include "parse.h"

#include <string.h>

void mlg_parse_limits(mlg_parse_opts *out, const mlg_parse_opts *in, size_t len)
{
  const size_t slack = (size_t)1 << 20;
  if (in)
    *out = *in;
  else
    memset(out, 0, sizeof *out);
  if (!out->max_bytes)
    out->max_bytes = MLG_PARSE_MAX_BYTES;
  if (!out->max_depth)
    out->max_depth = MLG_PARSE_MAX_DEPTH;
  if (!out->max_nodes)
    out->max_nodes = MLG_PARSE_MAX_NODES;
  if (!out->max_doc_bytes)
    out->max_doc_bytes = len > ((size_t)-1 - slack) / MLG_PARSE_DOC_FACTOR
                           ? (size_t)-1
                           : MLG_PARSE_DOC_FACTOR * len + slack;
}
