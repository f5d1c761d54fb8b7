/*
 * Structural problems found by analysers (a zip whose local and central
 * names differ, a safetensors header whose offsets overlap, an encrypted
 * member that cannot be scanned, ...). Each has a stable code that policies
 * and reports use, a member (inside an archive) and an offset when known,
 * and a one-sentence message.
 */
#ifndef MLG_ISSUES_H
#define MLG_ISSUES_H

#include <stddef.h>
#include <stdint.h>

#include "err.h"

typedef struct mlg_issue {
  const char *code;  /* static string, e.g. "zip-name-mismatch" */
  char *member;      /* malloc'd, or NULL */
  int64_t offset;    /* byte offset in the file (or member), -1 when none */
  char *message;     /* malloc'd, one sentence */
} mlg_issue;

typedef struct mlg_issues {
  mlg_issue *items;
  size_t len, cap;
  size_t dropped;    /* issues not kept past the cap (MLG_ISSUES_MAX) */
} mlg_issues;

#define MLG_ISSUES_MAX 1000

/* Appends an issue (code must be a static string). Never fails loudly:
 * out of memory or past the cap, the issue is counted in dropped. */
void mlg_issue_add(mlg_issues *l, const char *code, const char *member, int64_t offset,
                   const char *fmt, ...) __attribute__((format(printf, 5, 6)));
void mlg_issues_free(mlg_issues *l);

#endif
