/*
 * Fuzzes the glob matcher. Input: PATTERN NUL PATH (without a NUL the
 * whole input is the pattern and a few fixed paths are tried).
 *
 * Besides crashes and hangs it checks results: short ASCII inputs are
 * compared with a naive exponential reference matcher written
 * independently below, and brace- and globstar-free patterns also with
 * glibc fnmatch(FNM_PATHNAME).
 */
#include <fnmatch.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "glob.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

#define REF_MAX 24
#define REF_ALTS 256

/* --- reference: brace expansion ------------------------------------------ */

/* Index just past the class at p[i] == '[' (pattern known to be valid). */
static size_t ref_class_end(const char *p, size_t i)
{
  i++;
  if (p[i] == '!' || p[i] == '^')
    i++;
  if (p[i] == ']')
    i++;
  while (p[i] != ']') {
    if (p[i] == '\\')
      i++;
    i++;
  }
  return i + 1;
}

static void ref_expand(const char *p, char out[][REF_MAX * 2 + 2], int *n)
{
  size_t i = 0, open = 0, close, start;
  int depth = 0, found = 0;
  char buf[REF_MAX * 2 + 2];

  while (p[i]) {
    if (p[i] == '\\') {
      i += 2;
    } else if (p[i] == '[') {
      i = ref_class_end(p, i);
    } else if (p[i] == '{') {
      open = i++;
      found = 1;
      break;
    } else {
      i++;
    }
  }
  if (!found) {
    if (*n < REF_ALTS)
      strcpy(out[(*n)++], p);
    return;
  }
  /* find the matching '}' and split at top-level commas */
  start = i;
  for (;;) {
    if (p[i] == '\\') {
      i += 2;
      continue;
    }
    if (p[i] == '[') {
      i = ref_class_end(p, i);
      continue;
    }
    if (p[i] == '{')
      depth++;
    if ((p[i] == ',' || p[i] == '}') && depth == 0) {
      size_t k = 0;
      memcpy(buf, p, open);
      k = open;
      memcpy(buf + k, p + start, i - start);
      k += i - start;
      if (p[i] == '}') {
        close = i;
        strcpy(buf + k, p + close + 1);
      } else {
        size_t j = i;
        int d = 0;
        for (;;) { /* the suffix after the matching '}' */
          if (p[j] == '\\') {
            j += 2;
            continue;
          }
          if (p[j] == '[') {
            j = ref_class_end(p, j);
            continue;
          }
          if (p[j] == '{')
            d++;
          if (p[j] == '}') {
            if (d == 0)
              break;
            d--;
          }
          j++;
        }
        strcpy(buf + k, p + j + 1);
      }
      ref_expand(buf, out, n);
      if (p[i] == '}')
        return;
      start = i + 1;
    } else if (p[i] == '}') {
      depth--;
    }
    i++;
  }
}

/* --- reference: matching --------------------------------------------------- */

static int ref_class(const char *p, size_t *len, char c)
{
  size_t i = 1;
  int neg = 0, in = 0, first = 1;
  if (p[i] == '!' || p[i] == '^') {
    neg = 1;
    i++;
  }
  while (first || p[i] != ']') {
    char lo, hi;
    first = 0;
    if (p[i] == '\\')
      i++;
    lo = hi = p[i++];
    if (p[i] == '-' && p[i + 1] != ']') {
      i++;
      if (p[i] == '\\')
        i++;
      hi = p[i++];
    }
    if ((unsigned char)c >= (unsigned char)lo && (unsigned char)c <= (unsigned char)hi)
      in = 1;
  }
  *len = i + 1;
  return c != '/' && in != neg;
}

/* p: one segment's pattern (length pn), s: one path segment */
static int ref_seg(const char *p, size_t pn, const char *s, size_t sn)
{
  size_t len;
  if (pn == 0)
    return sn == 0;
  switch (p[0]) {
  case '*':
    while (pn > 1 && p[1] == '*') { /* a run of stars is one star */
      p++;
      pn--;
    }
    return ref_seg(p + 1, pn - 1, s, sn) || (sn && ref_seg(p, pn, s + 1, sn - 1));
  case '?':
    return sn && ref_seg(p + 1, pn - 1, s + 1, sn - 1);
  case '[':
    return sn && ref_class(p, &len, s[0]) && ref_seg(p + len, pn - len, s + 1, sn - 1);
  case '\\':
    return sn && s[0] == p[1] && ref_seg(p + 2, pn - 2, s + 1, sn - 1);
  default:
    return sn && s[0] == p[0] && ref_seg(p + 1, pn - 1, s + 1, sn - 1);
  }
}

typedef struct span {
  const char *p;
  size_t n;
} span;

static int ref_segs(const span *ps, int np, const span *ss, int ns)
{
  if (np == 0)
    return ns == 0;
  if (ps[0].n == 2 && ps[0].p[0] == '*' && ps[0].p[1] == '*')
    return ref_segs(ps + 1, np - 1, ss, ns) || (ns && ref_segs(ps, np, ss + 1, ns - 1));
  return ns && ref_seg(ps[0].p, ps[0].n, ss[0].p, ss[0].n) &&
         ref_segs(ps + 1, np - 1, ss + 1, ns - 1);
}

static int ref_match(const char *alt, const char *path)
{
  span ps[REF_MAX * 2 + 2], ss[REF_MAX + 2];
  int np = 0, ns = 0;
  size_t i = 0, start = 0;

  for (;;) {
    if (!alt[i] || alt[i] == '/' || (alt[i] == '\\' && alt[i + 1] == '/')) {
      ps[np].p = alt + start;
      ps[np++].n = i - start;
      if (!alt[i])
        break;
      i += alt[i] == '\\' ? 2 : 1;
      start = i;
    } else if (alt[i] == '[') {
      i = ref_class_end(alt, i);
    } else if (alt[i] == '\\') {
      i += 2;
    } else {
      i++;
    }
  }
  for (i = 0, start = 0;; i++) {
    if (!path[i] || path[i] == '/') {
      ss[ns].p = path + start;
      ss[ns++].n = i - start;
      if (!path[i])
        break;
      start = i + 1;
    }
  }
  return ref_segs(ps, np, ss, ns);
}

static int is_ascii(const char *s)
{
  for (; *s; s++)
    if ((unsigned char)*s >= 0x80)
      return 0;
  return 1;
}

/* Cases where glibc's fnmatch is expected to agree with our semantics. */
static int fnmatch_comparable(const char *p)
{
  size_t i;
  /* glibc treats an escaped '/' differently from a plain one; for us it is
   * just '/' (the header's "\\x is x literally"). */
  if (strpbrk(p, "{}") || strstr(p, "**") || strstr(p, "[:") || strstr(p, "[=") ||
      strstr(p, "[.") || strstr(p, "\\/"))
    return 0;
  for (i = 0; p[i]; i++) {
    if (p[i] == '\\') {
      i++;
    } else if (p[i] == '[') {
      size_t e = ref_class_end(p, i);
      if (memchr(p + i, '/', e - i))
        return 0;
      i = e - 1;
    }
  }
  return 1;
}

/* The references backtrack naively: keep them to a few runs of stars. */
static int star_runs(const char *p)
{
  int n = 0;
  for (; *p; p++)
    if (*p == '*' && p[1] != '*')
      n++;
  return n;
}

static void check(const char *pattern, const char *path)
{
  int got = mlg_glob_match(pattern, path);
  int valid = mlg_glob_check(pattern, NULL) == 0;

  if (!valid && got)
    abort(); /* invalid patterns never match */
  if (!valid || strlen(pattern) > REF_MAX || strlen(path) > REF_MAX || !is_ascii(pattern) ||
      !is_ascii(path) || star_runs(pattern) > 4)
    return;
  {
    static char alts[REF_ALTS][REF_MAX * 2 + 2];
    int n = 0, i, want = 0;
    ref_expand(pattern, alts, &n);
    for (i = 0; i < n && !want; i++)
      want = ref_match(alts[i], path);
    if (n <= 64 && want != got) {
      fprintf(stderr, "reference mismatch: pattern '%s' path '%s': got %d want %d\n", pattern,
              path, got, want);
      abort();
    }
  }
  if (fnmatch_comparable(pattern)) {
    int want = fnmatch(pattern, path, FNM_PATHNAME) == 0;
    if (want != got) {
      fprintf(stderr, "fnmatch mismatch: pattern '%s' path '%s': got %d want %d\n", pattern,
              path, got, want);
      abort();
    }
  }
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
  static const char *paths[] = {"", "a", "a/b", "a/b/c.py", ".github/workflows/ci.yml",
                                "models/x.pt", "a.py"};
  char *buf = malloc(size + 1);
  const char *nul;
  size_t i;

  if (!buf)
    return 0;
  memcpy(buf, data, size);
  buf[size] = '\0';
  nul = memchr(buf, '\0', size);
  if (nul && (size_t)(nul - buf) < size) {
    /* the path stops at its own NUL, if any */
    check(buf, nul + 1);
  } else {
    for (i = 0; i < sizeof paths / sizeof paths[0]; i++)
      check(buf, paths[i]);
  }
  free(buf);
  return 0;
}
