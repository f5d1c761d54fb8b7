/*
 * Parsers of untrusted documents into mlg_doc trees with positions.
 * yaml.c (the only file that includes yaml.h) and json_parse.c implement it.
 *
 * Errors come back as MLG_EPARSE (or MLG_ELIMIT) with a message of the form
 * "NAME:LINE:COL: what is wrong" so callers can print it as is.
 */
#ifndef MLG_PARSE_H
#define MLG_PARSE_H

#include <stddef.h>
#include <stdint.h>

#include "buf.h"
#include "node.h"

/* Defaults for the limits below (a node costs about 90 bytes, so a dense
 * document like [1,1,1,...] needs some 45 bytes of tree per input byte). */
#define MLG_PARSE_MAX_BYTES ((size_t)64 << 20)
#define MLG_PARSE_MAX_DEPTH 200
#define MLG_PARSE_MAX_NODES ((size_t)4 << 20)
#define MLG_PARSE_DOC_FACTOR 64

typedef struct mlg_parse_opts {
  size_t max_bytes;     /* input size cap; 0 = MLG_PARSE_MAX_BYTES */
  size_t max_depth;     /* nesting cap; 0 = MLG_PARSE_MAX_DEPTH */
  size_t max_nodes;     /* node count cap; 0 = MLG_PARSE_MAX_NODES */
  size_t max_doc_bytes; /* arena cap for the result; 0 = 64 x input + 1 MiB */
  int all_documents;    /* YAML: keep every document of a stream, not the first only */
  int merge_keys;       /* YAML: apply "<<" merge keys (YAML 1.1, used by GitLab CI) */
  int allow_duplicates; /* accept duplicate mapping keys (last wins); default: error */
} mlg_parse_opts;

/* Fills every limit of out from in (may be NULL) and the defaults. */
void mlg_parse_limits(mlg_parse_opts *out, const mlg_parse_opts *in, size_t len);

/* Positions: lines are 1-based everywhere; YAML columns count characters
 * (as libyaml does), JSON columns count bytes; offsets are bytes.
 *
 * YAML 1.2 core schema scalar resolution for untagged plain scalars
 * (null, true/false, ints incl. 0o/0x, floats incl. .inf/.nan); quoted and
 * block scalars are strings; mapping keys are always strings. */
int mlg_yaml_parse(mlg_doc **out, const char *text, size_t len, const char *name,
                   const mlg_parse_opts *opts, mlg_err *err);

/* Strict RFC 8259 JSON (one value, UTF-8, no comments, no trailing commas).
 * Integers that fit int64 are MLG_INT, other numbers MLG_FLOAT. */
int mlg_json_parse(mlg_doc **out, const char *text, size_t len, const char *name,
                   const mlg_parse_opts *opts, mlg_err *err);

enum {
  MLG_JSON_PRETTY = 1, /* two-space indent, one member per line */
  MLG_JSON_ASCII = 2   /* escape non-ASCII as \uXXXX */
};

/* Serialises a tree as JSON (json_write.c, the only file that includes
 * jansson.h). Map key order is kept. Invalid UTF-8 in strings is replaced
 * by U+FFFD (also NUL bytes in member names, which jansson cannot hold),
 * NaN/Inf become null, so the output is always valid JSON. Appends to out
 * (left unchanged on failure); no trailing newline. MLG_ELIMIT when nested
 * over 1000 levels or over 8 Mi values (aliases shared in the tree are
 * written out each time). */
int mlg_json_write(mlg_buf *out, const mlg_node *n, int flags, mlg_err *err);

/* Pieces for writers that stream large documents without building a tree
 * (the report's findings), producing the same bytes as mlg_json_write:
 * a value written as if nested `depth` levels deep in pretty output (1 =
 * the top level), a JSON string, and the "##[" guard mlg_json_write
 * applies to everything from `start` on (MLG_ENOMEM). */
int mlg_json_write_at(mlg_buf *out, const mlg_node *n, int flags, size_t depth, mlg_err *err);
int mlg_json_put_string(mlg_buf *out, const char *s, size_t len, int flags);
int mlg_json_put_int(mlg_buf *out, int64_t v);
int mlg_json_ci_safe(mlg_buf *out, size_t start);

#endif
