#include "regex.h"

#define PCRE2_CODE_UNIT_WIDTH 8
#include <pcre2.h>

#include <stdlib.h>
#include <string.h>

#define RE_DEFAULT_MATCH_LIMIT 10000000u
#define RE_DEFAULT_DEPTH_LIMIT 10000u
#define RE_DEFAULT_HEAP_KIB 65536u
/* JIT code runs on its own stack and ignores the depth and heap limits;
 * this bounds it instead (grown on demand from 32 KiB). */
#define RE_JIT_STACK_MAX ((size_t)1 << 20)

#define RE_ALL_FLAGS \
  (MLG_RE_CASELESS | MLG_RE_MULTILINE | MLG_RE_DOTALL | MLG_RE_EXTENDED | MLG_RE_UTF)

/* One thread at a time: exec writes into md. */
struct mlg_regex {
  pcre2_code *code;
  pcre2_match_context *mctx;
  pcre2_match_data *md;
  pcre2_jit_stack *jstack;
  uint32_t groups;
  unsigned flags;
};

int mlg_regex_compile(mlg_regex **out, const char *pattern, size_t len, unsigned flags,
                      const mlg_regex_limits *limits, mlg_err *err)
{
  mlg_regex *re;
  uint32_t opts = PCRE2_NEVER_BACKSLASH_C;
  int errcode = 0;
  PCRE2_SIZE erroff = 0;
  uint32_t heap_kib;

  *out = NULL;
  if (flags & ~(unsigned)RE_ALL_FLAGS)
    return mlg_err_set(err, MLG_EINVAL, "regex: unknown flags 0x%x", flags);
  if (!pattern) {
    if (len)
      return mlg_err_set(err, MLG_EINVAL, "regex: no pattern");
    pattern = "";
  }
  if (flags & MLG_RE_CASELESS)
    opts |= PCRE2_CASELESS;
  if (flags & MLG_RE_MULTILINE)
    opts |= PCRE2_MULTILINE;
  if (flags & MLG_RE_DOTALL)
    opts |= PCRE2_DOTALL;
  if (flags & MLG_RE_EXTENDED)
    opts |= PCRE2_EXTENDED;
  /* Without MLG_RE_UTF subjects are bytes: a pattern must not switch UTF
   * on by itself with (*UTF), or unvalidated subjects would be read as
   * UTF-8. */
  opts |= (flags & MLG_RE_UTF) ? PCRE2_UTF : PCRE2_NEVER_UTF;

  re = calloc(1, sizeof *re);
  if (!re)
    return mlg_err_set(err, MLG_ENOMEM, "regex: out of memory");
  re->flags = flags;
  re->code = pcre2_compile((PCRE2_SPTR)pattern, len, opts, &errcode, &erroff, NULL);
  if (!re->code) {
    PCRE2_UCHAR msg[256];
    if (pcre2_get_error_message(errcode, msg, sizeof msg) < 0)
      strcpy((char *)msg, "invalid pattern");
    mlg_regex_free(re);
    return mlg_err_set(err, MLG_EINVAL, "regex offset %zu: %s", (size_t)erroff, (char *)msg);
  }
  if (pcre2_pattern_info(re->code, PCRE2_INFO_CAPTURECOUNT, &re->groups) != 0)
    re->groups = 0;

  re->mctx = pcre2_match_context_create(NULL);
  re->md = pcre2_match_data_create_from_pattern(re->code, NULL);
  if (!re->mctx || !re->md)
    goto nomem;
  heap_kib = limits && limits->heap_kib ? limits->heap_kib : RE_DEFAULT_HEAP_KIB;
  pcre2_set_match_limit(re->mctx, limits && limits->match_limit ? limits->match_limit
                                                                : RE_DEFAULT_MATCH_LIMIT);
  pcre2_set_depth_limit(re->mctx, limits && limits->depth_limit ? limits->depth_limit
                                                                : RE_DEFAULT_DEPTH_LIMIT);
  pcre2_set_heap_limit(re->mctx, heap_kib);

  /* JIT is an optimisation only: any failure (unsupported CPU, no
   * executable memory) leaves the interpreter in charge. */
  if (pcre2_jit_compile(re->code, PCRE2_JIT_COMPLETE) == 0) {
    size_t max = (size_t)heap_kib * 1024;
    if (max > RE_JIT_STACK_MAX)
      max = RE_JIT_STACK_MAX;
    if (max < 32 * 1024)
      max = 32 * 1024;
    re->jstack = pcre2_jit_stack_create(32 * 1024, max, NULL);
    if (re->jstack)
      pcre2_jit_stack_assign(re->mctx, NULL, re->jstack);
  }
  *out = re;
  return 0;

nomem:
  mlg_regex_free(re);
  return mlg_err_set(err, MLG_ENOMEM, "regex: out of memory");
}

void mlg_regex_free(mlg_regex *re)
{
  if (!re)
    return;
  pcre2_match_data_free(re->md);
  pcre2_jit_stack_free(re->jstack);
  pcre2_match_context_free(re->mctx);
  pcre2_code_free(re->code);
  free(re);
}

unsigned mlg_regex_groups(const mlg_regex *re)
{
  return re ? re->groups : 0;
}

int mlg_regex_exec(const mlg_regex *re, const char *subject, size_t len, size_t start,
                   size_t *ovec, size_t ovec_pairs, mlg_err *err)
{
  PCRE2_SIZE *v;
  size_t i, n;
  int rc;

  if (!re)
    return mlg_err_set(err, MLG_EINVAL, "regex: no compiled pattern");
  if (!subject) {
    if (len)
      return mlg_err_set(err, MLG_EINVAL, "regex: no subject");
    subject = "";
  }
  if (start > len)
    return mlg_err_set(err, MLG_EINVAL, "regex: start offset %zu is past the subject end (%zu)",
                       start, len);
  /* PCRE2_ZERO_TERMINATED is SIZE_MAX: a real length can never be that. */
  if (len == PCRE2_ZERO_TERMINATED)
    return mlg_err_set(err, MLG_EINVAL, "regex: subject too long");
  rc = pcre2_match(re->code, (PCRE2_SPTR)subject, len, start, 0, re->md, re->mctx);
  if (rc == PCRE2_ERROR_NOMATCH)
    return 0;
  if (rc < 0) {
    PCRE2_UCHAR msg[256];
    switch (rc) {
    case PCRE2_ERROR_MATCHLIMIT:
    case PCRE2_ERROR_DEPTHLIMIT:
    case PCRE2_ERROR_HEAPLIMIT:
    case PCRE2_ERROR_JIT_STACKLIMIT:
      return mlg_err_set(err, MLG_ELIMIT, "regex match limit exceeded");
    case PCRE2_ERROR_NOMEMORY:
      return mlg_err_set(err, MLG_ENOMEM, "regex: out of memory while matching");
    case PCRE2_ERROR_BADUTFOFFSET:
      return mlg_err_set(err, MLG_EINVAL,
                         "regex: start offset %zu is inside a UTF-8 character", start);
    default:
      break;
    }
    if (pcre2_get_error_message(rc, msg, sizeof msg) < 0)
      strcpy((char *)msg, "match error");
    if (rc <= PCRE2_ERROR_UTF8_ERR1 && rc >= PCRE2_ERROR_UTF8_ERR21)
      return mlg_err_set(err, MLG_EINVAL, "invalid UTF-8 in subject at offset %zu: %s",
                         (size_t)pcre2_get_startchar(re->md), (char *)msg);
    return mlg_err_set(err, MLG_EINVAL, "regex: %s", (char *)msg);
  }
  /* The match data is sized to the pattern, so rc > 0 always. A match
   * must never look like "no match", even when no pairs were asked for. */
  if (!ovec || ovec_pairs == 0)
    return 1;
  v = pcre2_get_ovector_pointer(re->md);
  n = (size_t)re->groups + 1;
  if (n > ovec_pairs)
    n = ovec_pairs;
  for (i = 0; i < n; i++) {
    /* Groups past rc were not set in this match. */
    if ((int)i < rc && v[2 * i] != PCRE2_UNSET) {
      ovec[2 * i] = v[2 * i];
      ovec[2 * i + 1] = v[2 * i + 1];
    } else {
      ovec[2 * i] = ovec[2 * i + 1] = SIZE_MAX;
    }
  }
  return (int)n;
}
