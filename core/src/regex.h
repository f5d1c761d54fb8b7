/*
 * Regular expressions for policies and analysers: PCRE2 (8-bit) with JIT
 * when available, and hard limits so a hostile pattern or subject cannot
 * hang the engine: a match limit, a depth limit and a heap limit. Hitting a
 * limit is an error (MLG_ELIMIT), never "no match", so it cannot be used to
 * slip past a check.
 */
#ifndef MLG_REGEX_H
#define MLG_REGEX_H

#include <stddef.h>
#include <stdint.h>

#include "err.h"

enum {
  MLG_RE_CASELESS = 1,
  MLG_RE_MULTILINE = 2, /* ^ and $ at line breaks */
  MLG_RE_DOTALL = 4,
  MLG_RE_EXTENDED = 8,  /* ignore whitespace and # comments in the pattern */
  MLG_RE_UTF = 16       /* pattern and subjects are UTF-8 (validated) */
};

typedef struct mlg_regex mlg_regex;

typedef struct mlg_regex_limits {
  uint32_t match_limit; /* 0 = 10,000,000 */
  uint32_t depth_limit; /* 0 = 10,000 */
  uint32_t heap_kib;    /* 0 = 65,536 KiB */
} mlg_regex_limits;

/* Compile errors name the offset: "regex offset 3: missing )". */
int mlg_regex_compile(mlg_regex **out, const char *pattern, size_t len, unsigned flags,
                      const mlg_regex_limits *limits, mlg_err *err);
void mlg_regex_free(mlg_regex *re);

/* Number of capture groups (not counting the whole match). */
unsigned mlg_regex_groups(const mlg_regex *re);

/* Searches subject[start..len). On a match returns the number of pairs
 * written to ovec (group 0 first; unset groups are (SIZE_MAX, SIZE_MAX)),
 * at most ovec_pairs (1 when ovec is NULL or ovec_pairs is 0); 0 = no
 * match; negative = error (MLG_ELIMIT when a
 * limit was hit, MLG_EINVAL for bad UTF-8 or offsets). */
int mlg_regex_exec(const mlg_regex *re, const char *subject, size_t len, size_t start,
                   size_t *ovec, size_t ovec_pairs, mlg_err *err);

#endif
