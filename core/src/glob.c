#include "glob.h"

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

/*
 * A pattern is handled in three steps: its braces are parsed into a small
 * tree and expanded one alternative at a time (at most GLOB_MAX_ALTS), each
 * alternative is compiled into '/'-separated segments of tokens, and the
 * segments are matched against the path's segments.
 *
 * Matching uses the classic two-pointer wildcard algorithm twice: inside a
 * segment with '*' as the wildcard, and across segments with '**' as the
 * wildcard. Every non-wildcard unit consumes exactly one unit of the
 * subject, so on a mismatch only the most recent wildcard needs to take one
 * more unit; that makes a match O(len(pattern) * len(path)) per alternative
 * whatever the pattern, instead of exponential as with naive recursion.
 */

#define GLOB_MAX_ALTS 64
#define GLOB_MAX_DEPTH 64
#define GLOB_MAX_LEN 4096
#define GLOB_NONE ((size_t)-1)

/* Invalid UTF-8 bytes decode to values above the Unicode range, so they
 * only ever equal themselves. */
#define GLOB_RAW_BYTE 0x110000u

/* --- characters ------------------------------------------------------- */

/* Decodes one character of s[0..n), n > 0: returns its length in bytes. */
static size_t glob_char(const unsigned char *s, size_t n, uint32_t *cp)
{
  uint32_t c = s[0], min;
  size_t len, i;

  if (c < 0x80) {
    *cp = c;
    return 1;
  }
  if (c >= 0xc2 && c <= 0xdf) {
    len = 2;
    c &= 0x1f;
    min = 0x80;
  } else if (c >= 0xe0 && c <= 0xef) {
    len = 3;
    c &= 0x0f;
    min = 0x800;
  } else if (c >= 0xf0 && c <= 0xf4) {
    len = 4;
    c &= 0x07;
    min = 0x10000;
  } else {
    goto raw;
  }
  if (len > n)
    goto raw;
  for (i = 1; i < len; i++) {
    if ((s[i] & 0xc0) != 0x80)
      goto raw;
    c = (c << 6) | (s[i] & 0x3f);
  }
  if (c < min || c > 0x10ffff || (c >= 0xd800 && c <= 0xdfff))
    goto raw;
  *cp = c;
  return len;
raw:
  *cp = GLOB_RAW_BYTE + s[0];
  return 1;
}

/* --- validation and brace tree ---------------------------------------- */

typedef enum { GN_TEXT, GN_SEQ, GN_ALT } glob_ntype;

/* A node is a byte range of the pattern (TEXT), a concatenation (SEQ) or a
 * choice between sequences (ALT); children are linked through next. */
typedef struct glob_node {
  glob_ntype type;
  size_t start, end;  /* TEXT */
  int first, last;    /* SEQ/ALT children, -1 when none */
  int next;
  size_t count;       /* expansions, saturated at GLOB_MAX_ALTS + 1 */
} glob_node;

typedef struct glob_tree {
  const char *pat;
  size_t len;
  glob_node *nodes;
  int nnodes, cap;
  const char *why;   /* first error */
} glob_tree;

static int tree_add(glob_tree *t, glob_ntype type)
{
  glob_node *n;
  if (t->nnodes == t->cap) {
    t->why = "internal node limit reached";
    return -1;
  }
  n = &t->nodes[t->nnodes];
  memset(n, 0, sizeof *n);
  n->type = type;
  n->first = n->last = n->next = -1;
  return t->nnodes++;
}

static void tree_link(glob_tree *t, int parent, int child)
{
  glob_node *p = &t->nodes[parent];
  if (p->last < 0)
    p->first = child;
  else
    t->nodes[p->last].next = child;
  p->last = child;
}

/* Returns the index just after the class starting at pat[i] == '[', or 0
 * (with t->why set) when it is malformed. */
static size_t class_end(glob_tree *t, size_t i)
{
  const unsigned char *p = (const unsigned char *)t->pat;
  size_t n = t->len;
  uint32_t lo, hi;
  int first = 1;

  i++;
  if (i < n && (p[i] == '!' || p[i] == '^'))
    i++;
  for (;;) {
    if (i >= n)
      goto unterminated;
    if (p[i] == ']' && !first)
      return i + 1;
    first = 0;
    if (p[i] == '\\') {
      if (++i >= n)
        goto unterminated;
    }
    i += glob_char(p + i, n - i, &lo);
    if (i + 1 < n && p[i] == '-' && p[i + 1] != ']') {
      i++;
      if (p[i] == '\\') {
        if (++i >= n)
          goto unterminated;
      }
      i += glob_char(p + i, n - i, &hi);
      if (hi < lo) {
        t->why = "reversed range in character class";
        return 0;
      }
    }
  }
unterminated:
  t->why = "unterminated character class";
  return 0;
}

/* Parses pat[*pos..) into a SEQ node until an unescaped ',' or '}' at this
 * level (when inside braces) or the end. */
static int parse_seq(glob_tree *t, size_t *pos, int depth);

static int parse_alt(glob_tree *t, size_t *pos, int depth)
{
  int alt, seq;

  if (depth >= GLOB_MAX_DEPTH) {
    t->why = "braces nested too deeply";
    return -1;
  }
  alt = tree_add(t, GN_ALT);
  if (alt < 0)
    return -1;
  (*pos)++; /* '{' */
  for (;;) {
    seq = parse_seq(t, pos, depth + 1);
    if (seq < 0)
      return -1;
    tree_link(t, alt, seq);
    if (*pos >= t->len) {
      t->why = "unmatched '{'";
      return -1;
    }
    if (t->pat[(*pos)++] == '}')
      return alt;
    /* ',' : another alternative */
  }
}

static int parse_seq(glob_tree *t, size_t *pos, int depth)
{
  int seq = tree_add(t, GN_SEQ), text = -1, child;
  size_t i = *pos, next;

  if (seq < 0)
    return -1;
  while (i < t->len) {
    char c = t->pat[i];
    if (depth > 0 && (c == ',' || c == '}'))
      break;
    if (c == '}') {
      t->why = "unmatched '}'";
      return -1;
    }
    if (c == '{') {
      *pos = i;
      child = parse_alt(t, pos, depth);
      if (child < 0)
        return -1;
      tree_link(t, seq, child);
      text = -1;
      i = *pos;
      continue;
    }
    if (c == '\\') {
      if (i + 1 >= t->len) {
        t->why = "trailing backslash";
        return -1;
      }
      next = i + 2;
    } else if (c == '[') {
      next = class_end(t, i);
      if (!next)
        return -1;
    } else {
      next = i + 1;
    }
    if (text < 0) {
      text = tree_add(t, GN_TEXT);
      if (text < 0)
        return -1;
      t->nodes[text].start = i;
      tree_link(t, seq, text);
    }
    t->nodes[text].end = next;
    i = next;
  }
  *pos = i;
  return seq;
}

/* Counts expansions bottom-up, saturating so that "{a,b}" repeated 40
 * times cannot overflow; recursion depth is bounded by GLOB_MAX_DEPTH. */
static size_t tree_count(glob_tree *t, int idx)
{
  glob_node *n = &t->nodes[idx];
  size_t total = n->type == GN_ALT ? 0 : 1, c;
  int ch;

  if (n->type == GN_TEXT)
    return n->count = 1;
  for (ch = n->first; ch >= 0; ch = t->nodes[ch].next) {
    c = tree_count(t, ch);
    if (n->type == GN_ALT)
      total += c;
    else
      total *= c;
    if (total > GLOB_MAX_ALTS)
      total = GLOB_MAX_ALTS + 1;
  }
  return n->count = total;
}

/* Appends expansion number k of node idx to out. */
static void tree_expand(const glob_tree *t, int idx, size_t k, char *out, size_t *olen)
{
  const glob_node *n = &t->nodes[idx];
  int ch;

  switch (n->type) {
  case GN_TEXT:
    memcpy(out + *olen, t->pat + n->start, n->end - n->start);
    *olen += n->end - n->start;
    break;
  case GN_SEQ:
    for (ch = n->first; ch >= 0; ch = t->nodes[ch].next) {
      size_t c = t->nodes[ch].count;
      tree_expand(t, ch, k % c, out, olen);
      k /= c;
    }
    break;
  case GN_ALT:
    for (ch = n->first; ch >= 0; ch = t->nodes[ch].next) {
      if (k < t->nodes[ch].count) {
        tree_expand(t, ch, k, out, olen);
        break;
      }
      k -= t->nodes[ch].count;
    }
    break;
  }
}

/* Builds the tree; returns the number of expansions or 0 with t->why. */
static size_t tree_build(glob_tree *t, const char *pattern)
{
  size_t pos = 0, count;
  int root;

  memset(t, 0, sizeof *t);
  t->pat = pattern;
  t->len = strlen(pattern);
  if (t->len > GLOB_MAX_LEN) {
    t->why = "pattern longer than 4096 bytes";
    return 0;
  }
  /* Every node but the root SEQ starts at a distinct byte, and each ','
   * or '{' adds one SEQ: 2 * len + 2 always suffices. */
  t->cap = (int)(2 * t->len + 2);
  t->nodes = malloc((size_t)t->cap * sizeof *t->nodes);
  if (!t->nodes) {
    t->why = "out of memory";
    return 0;
  }
  root = parse_seq(t, &pos, 0);
  if (root < 0)
    return 0;
  count = tree_count(t, root);
  if (count > GLOB_MAX_ALTS) {
    t->why = "more than 64 brace alternatives";
    return 0;
  }
  return count;
}

/* --- compiled alternative --------------------------------------------- */

enum { TK_LIT, TK_ANY, TK_STAR, TK_CLASS };

typedef struct glob_tok {
  unsigned char kind;
  unsigned char neg;  /* TK_CLASS */
  uint32_t a, b;      /* TK_LIT: byte; TK_CLASS: first range, range count */
} glob_tok;

typedef struct glob_seg {
  size_t first, ntok;
  int globstar;
} glob_seg;

typedef struct glob_prog {
  glob_tok *toks;
  glob_seg *segs;
  uint32_t (*ranges)[2];
  size_t ntoks, nsegs, nranges;
} glob_prog;

/* Compiles an alternative (no braces left) of length n. Array sizes are
 * bounded by n, so the caller allocates them up front. */
static void prog_compile(glob_prog *g, const char *alt, size_t n)
{
  const unsigned char *p = (const unsigned char *)alt;
  size_t i = 0, seg_start_byte = 0;
  glob_seg *seg;

  g->ntoks = g->nsegs = g->nranges = 0;
  seg = &g->segs[g->nsegs++];
  seg->first = 0;
  seg->globstar = 0;
  for (;;) {
    if (i >= n || p[i] == '/' || (p[i] == '\\' && p[i + 1] == '/')) {
      seg->ntok = g->ntoks - seg->first;
      /* Only an unescaped "**" filling the whole segment crosses '/'. */
      seg->globstar = i - seg_start_byte == 2 && p[seg_start_byte] == '*' &&
                      p[seg_start_byte + 1] == '*';
      if (i >= n)
        break;
      i += p[i] == '\\' ? 2 : 1;
      seg_start_byte = i;
      seg = &g->segs[g->nsegs++];
      seg->first = g->ntoks;
      seg->globstar = 0;
      continue;
    }
    glob_tok *t = &g->toks[g->ntoks];
    switch (p[i]) {
    case '*':
      i++;
      if (g->ntoks > seg->first && t[-1].kind == TK_STAR)
        continue; /* "**" inside a segment is just '*' */
      t->kind = TK_STAR;
      break;
    case '?':
      i++;
      t->kind = TK_ANY;
      break;
    case '[': {
      uint32_t lo, hi;
      int first = 1;
      i++;
      t->kind = TK_CLASS;
      t->neg = 0;
      if (p[i] == '!' || p[i] == '^') {
        t->neg = 1;
        i++;
      }
      t->a = (uint32_t)g->nranges;
      while (first || p[i] != ']') {
        first = 0;
        if (p[i] == '\\')
          i++;
        i += glob_char(p + i, n - i, &lo);
        hi = lo;
        if (i + 1 < n && p[i] == '-' && p[i + 1] != ']') {
          i++;
          if (p[i] == '\\')
            i++;
          i += glob_char(p + i, n - i, &hi);
        }
        g->ranges[g->nranges][0] = lo;
        g->ranges[g->nranges][1] = hi;
        g->nranges++;
      }
      i++; /* ']' */
      t->b = (uint32_t)(g->nranges - t->a);
      break;
    }
    case '\\':
      i++;
      /* fall through */
    default:
      t->kind = TK_LIT;
      t->a = p[i++];
      break;
    }
    g->ntoks++;
  }
}

/* Matches one token (not a star) at s[0..n), n > 0; returns the number of
 * bytes consumed or 0. */
static size_t tok_match(const glob_prog *g, const glob_tok *t, const unsigned char *s,
                        size_t n)
{
  uint32_t cp;
  size_t len, r;
  int in = 0;

  if (t->kind == TK_LIT)
    return s[0] == t->a ? 1 : 0;
  len = glob_char(s, n, &cp);
  if (t->kind == TK_ANY)
    return len;
  for (r = t->a; r < (size_t)t->a + t->b; r++) {
    if (cp >= g->ranges[r][0] && cp <= g->ranges[r][1]) {
      in = 1;
      break;
    }
  }
  return in != t->neg ? len : 0;
}

static int seg_match(const glob_prog *g, const glob_seg *seg, const unsigned char *s,
                     size_t n)
{
  const glob_tok *t = g->toks + seg->first;
  size_t nt = seg->ntok, ti = 0, si = 0, star = GLOB_NONE, star_si = 0, len;

  while (si < n) {
    if (ti < nt) {
      if (t[ti].kind == TK_STAR) {
        star = ti++;
        star_si = si;
        continue;
      }
      len = tok_match(g, &t[ti], s + si, n - si);
      if (len) {
        ti++;
        si += len;
        continue;
      }
    }
    if (star == GLOB_NONE)
      return 0;
    /* The star takes one more character and the rest is retried. */
    uint32_t cp;
    star_si += glob_char(s + star_si, n - star_si, &cp);
    si = star_si;
    ti = star + 1;
  }
  while (ti < nt && t[ti].kind == TK_STAR)
    ti++;
  return ti == nt;
}

typedef struct path_seg {
  size_t off, len;
} path_seg;

static int prog_match(const glob_prog *g, const char *path, const path_seg *ps, size_t np)
{
  size_t pi = 0, si = 0, star = GLOB_NONE, star_si = 0;
  const unsigned char *s = (const unsigned char *)path;

  while (si < np) {
    if (pi < g->nsegs) {
      if (g->segs[pi].globstar) {
        star = pi++;
        star_si = si;
        continue;
      }
      if (seg_match(g, &g->segs[pi], s + ps[si].off, ps[si].len)) {
        pi++;
        si++;
        continue;
      }
    }
    if (star == GLOB_NONE)
      return 0;
    si = ++star_si;
    pi = star + 1;
  }
  while (pi < g->nsegs && g->segs[pi].globstar)
    pi++;
  return pi == g->nsegs;
}

/* --- public ------------------------------------------------------------ */

/* Patterns without metacharacters are common ("Dockerfile") and need no
 * compilation; an over-long one is still invalid and so never matches. */
static int is_plain(const char *s)
{
  size_t n = strcspn(s, "*?[{}\\");
  return !s[n] && n <= GLOB_MAX_LEN;
}

int mlg_glob_match(const char *pattern, const char *path)
{
  glob_tree t;
  glob_prog g = {0};
  path_seg *ps = NULL;
  char *alt = NULL;
  size_t count, k, np, i, plen;
  int matched = 0;

  if (!pattern || !path)
    return 0;
  if (is_plain(pattern))
    return strcmp(pattern, path) == 0;
  count = tree_build(&t, pattern);
  if (!count)
    goto done;

  plen = strlen(path);
  np = 1;
  for (i = 0; i < plen; i++)
    np += path[i] == '/';
  ps = malloc(np * sizeof *ps);
  alt = malloc(t.len + 2);
  g.toks = malloc((t.len + 1) * sizeof *g.toks);
  g.segs = malloc((t.len + 1) * sizeof *g.segs);
  g.ranges = malloc((t.len + 1) * sizeof *g.ranges);
  if (!ps || !alt || !g.toks || !g.segs || !g.ranges)
    goto done;
  np = 0;
  ps[0].off = 0;
  for (i = 0; i <= plen; i++) {
    if (i == plen || path[i] == '/') {
      ps[np].len = i - ps[np].off;
      np++;
      if (i < plen)
        ps[np].off = i + 1;
    }
  }

  for (k = 0; k < count && !matched; k++) {
    size_t alen = 0;
    tree_expand(&t, 0, k, alt, &alen);
    /* Two NULs: the compiler may peek one byte past an escape or range. */
    alt[alen] = alt[alen + 1] = '\0';
    prog_compile(&g, alt, alen);
    matched = prog_match(&g, path, ps, np);
  }

done:
  free(t.nodes);
  free(ps);
  free(alt);
  free(g.toks);
  free(g.segs);
  free(g.ranges);
  return matched;
}

int mlg_glob_check(const char *pattern, mlg_err *err)
{
  glob_tree t;
  size_t count;
  const char *why;

  if (!pattern)
    return mlg_err_set(err, MLG_EINVAL, "glob: no pattern");
  count = tree_build(&t, pattern);
  why = t.why;
  free(t.nodes);
  if (count)
    return 0;
  if (strlen(pattern) > 200)
    return mlg_err_set(err, MLG_EINVAL, "glob '%.200s...': %s", pattern, why);
  return mlg_err_set(err, MLG_EINVAL, "glob '%s': %s", pattern, why);
}
