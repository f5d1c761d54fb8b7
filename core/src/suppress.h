/*
 * Inline suppressions: a comment `# mlgate: ignore[<id>, ...] <reason>` (or
 * `// mlgate: ignore[...]`) on any line of a finding's span waives it. <id>
 * is the policy id ("pipeline/template-injection") or one of its aliases
 * ("zizmor:template-injection", "catalog:INJ-EXPR"). A reason is required:
 * a suppression nobody can review later is worse than none.
 *
 * The platform team can turn them off (config `inline_suppressions: false`),
 * and hard-enforced policies refuse them, as they refuse waivers.
 */
#ifndef MLG_SUPPRESS_H
#define MLG_SUPPRESS_H

#include <stddef.h>
#include <stdint.h>

typedef struct mlg_suppression {
  uint32_t line, col;   /* of the comment marker */
  const char *reason;   /* into the text; not NUL-terminated */
  size_t reason_len;    /* 0: no reason given (not honoured) */
} mlg_suppression;

/* Looks for a suppression naming policy (or one of aliases[0..naliases))
 * on lines [line, end_line] of text (end_line < line: just line). Returns
 * 1 and fills *out when found, else 0. Line starts are found by scanning
 * from the beginning: callers judging many findings of one file pass the
 * same text, and findings are few compared to its size. */
int mlg_suppress_find(mlg_suppression *out, const char *text, size_t len, uint32_t line,
                      uint32_t end_line, const char *policy, const char *const *aliases,
                      size_t naliases);

#endif
