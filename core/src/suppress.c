#include "suppress.h"

#include <string.h>

static const char marker[] = "mlgate: ignore[";

static int is_space(char c)
{
  return c == ' ' || c == '\t';
}

/* Whether the id list [s, e) names policy or an alias. */
static int names(const char *s, const char *e, const char *policy, const char *const *aliases,
                 size_t naliases)
{
  while (s < e) {
    const char *t;
    size_t n, i;
    while (s < e && (is_space(*s) || *s == ','))
      s++;
    for (t = s; t < e && *t != ',' && !is_space(*t); t++)
      ;
    n = (size_t)(t - s);
    if (n && strlen(policy) == n && memcmp(policy, s, n) == 0)
      return 1;
    for (i = 0; n && i < naliases; i++)
      if (strlen(aliases[i]) == n && memcmp(aliases[i], s, n) == 0)
        return 1;
    s = t;
  }
  return 0;
}

/* Looks at one line [s, e). */
static int scan_line(mlg_suppression *out, const char *s, const char *e, const char *policy,
                     const char *const *aliases, size_t naliases)
{
  const char *p = s;
  while (p < e) {
    const char *hash = memchr(p, '#', (size_t)(e - p));
    const char *slash = NULL, *c, *m, *close;
    size_t k;
    for (k = 0; p + k + 1 < e; k++)
      if (p[k] == '/' && p[k + 1] == '/') {
        slash = p + k;
        break;
      }
    c = hash && (!slash || hash < slash) ? hash : slash;
    if (!c)
      return 0;
    m = c + (*c == '#' ? 1 : 2);
    while (m < e && is_space(*m))
      m++;
    if ((size_t)(e - m) >= sizeof marker - 1 && memcmp(m, marker, sizeof marker - 1) == 0) {
      m += sizeof marker - 1;
      close = memchr(m, ']', (size_t)(e - m));
      if (close && names(m, close, policy, aliases, naliases)) {
        const char *r = close + 1, *re = e;
        while (r < re && is_space(*r))
          r++;
        while (re > r && (is_space(re[-1]) || re[-1] == '\r'))
          re--;
        out->col = (uint32_t)(c - s) + 1;
        out->reason = r;
        out->reason_len = (size_t)(re - r);
        return 1;
      }
    }
    p = m;
  }
  return 0;
}

int mlg_suppress_find(mlg_suppression *out, const char *text, size_t len, uint32_t line,
                      uint32_t end_line, const char *policy, const char *const *aliases,
                      size_t naliases)
{
  const char *p = text, *end = text + len;
  uint32_t n = 1;

  memset(out, 0, sizeof *out);
  if (!text || !policy || line == 0)
    return 0;
  if (end_line < line)
    end_line = line;
  while (p < end && n <= end_line) {
    const char *nl = memchr(p, '\n', (size_t)(end - p));
    const char *e = nl ? nl : end;
    if (n >= line && scan_line(out, p, e, policy, aliases, naliases)) {
      out->line = n;
      return 1;
    }
    if (!nl)
      break;
    p = nl + 1;
    n++;
  }
  return 0;
}
