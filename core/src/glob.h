/*
 * Path globs used by policy `files`, config includes/excludes and waivers.
 *
 * A pattern is matched against the whole '/'-separated relative path:
 *   *      any run of characters except '/'
 *   **     as a whole segment ("**\/", "/**", "a/**\/b"): zero or more segments
 *   ?      one character except '/'
 *   [abc] [a-z] [!x] [^x]   one character from (not from) the set, never '/'
 *   {a,b}  alternatives (nesting allowed, at most 64 expansions)
 *   \x     the character x literally
 * "*.py" therefore matches only top-level files; write "**\/*.py" for all.
 * Matching is linear-time in practice (no exponential backtracking).
 */
#ifndef MLG_GLOB_H
#define MLG_GLOB_H

#include "err.h"

/* 1 when path matches, 0 when not. Invalid patterns never match. */
int mlg_glob_match(const char *pattern, const char *path);

/* 0 when the pattern is valid; otherwise MLG_EINVAL with a message. */
int mlg_glob_check(const char *pattern, mlg_err *err);

#endif
