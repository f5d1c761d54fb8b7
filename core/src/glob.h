/*
 * Path globs used by policy `files`, config includes/excludes and waivers.
 *
 * A pattern is matched against the whole '/'-separated relative path:
 *   *      any run of characters except '/'
 *   **     as a whole segment (at the start, at the end or between two
 *          slashes): zero or more whole segments, so "a" + "/" + "**"
 *          matches "a" itself too; inside a segment "**" is "*"
 *   ?      one character except '/'
 *   [abc] [a-z] [!x] [^x]   one character from (not from) the set, never '/'
 *   {a,b}  alternatives (nesting allowed, at most 64 expansions)
 *   ?, [..] match UTF-8 characters (an invalid byte counts as one)
 * Patterns are at most 4096 bytes.
 *   \x     the character x literally
 * So "*.py" matches only top-level files; to match Python files at any
 * depth, put a "**" segment in front of "*.py".
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
