/*
 * mlgate.yml (version 1) loader.
 *
 * The file is written by whoever opens a merge request, so validation is
 * strict and every complaint names the file, line and column of the key or
 * value at fault and says what would be accepted. The first error wins:
 * checks run in document order so the message points at the earliest
 * problem, which is what an editor's "go to line" wants.
 *
 * Lists and mappings written as an empty value ("exclude:" with nothing
 * after it) count as empty: commenting out every entry of a section must
 * not turn a valid file into an invalid one. Scalars never default.
 */
#include "config.h"

#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "glob.h"
#include "parse.h"

#define CONFIG_MAX_BYTES ((size_t)4 << 20)
#define CONFIG_MAX_DEPTH 64
#define CONFIG_MAX_NODES ((size_t)1 << 20)
#define FINGERPRINT_MIN 12
#define FINGERPRINT_MAX 128
#define QUOTE_MAX 64                /* characters of user text in a message */
#define QUOTE_BUF (QUOTE_MAX * 4 + 8)
#define MIB ((uint64_t)1 << 20)

/* Defaults and ceilings of `limits`. Ceilings keep later arithmetic
 * (deadlines, byte counts, allocation sizes) far from overflow. */
#define DEF_TIME_MS 5000u
#define DEF_MEMORY_MB 256u
#define DEF_INSTRUCTIONS 500000000u
#define DEF_READ_MB 64u
#define DEF_FINDINGS 10000u
#define MAX_TIME_MS 86400000u          /* one day */
#define MAX_MEMORY_MB 1048576u         /* 1 TiB */
#define MAX_INSTRUCTIONS 1000000000000000u
#define MAX_READ_MB 1048576u           /* 1 TiB */
#define MAX_FINDINGS 10000000u

typedef struct ctx {
  const char *name; /* for messages */
  const char *text; /* source, to recover how a plain scalar was written */
  size_t len;
  mlg_err *err;
  mlg_config *cfg;
  size_t budget;    /* bytes the result may still take (see charge) */
} ctx;

static const char *const top_keys[] = {
  "version", "fail_on", "profile", "inline_suppressions", "exclude", "gates", "policies", "waivers", "limits", NULL};
static const char *const gate_keys[] = {"include", "exclude", NULL};
static const char *const policy_keys[] = {
  "enforcement", "enabled", "severity", "params", NULL};
static const char *const waiver_keys[] = {
  "policy", "path", "fingerprint", "reason", "expires", NULL};
static const char *const limit_keys[] = {
  "time_ms", "memory_mb", "instructions", "read_mb", "findings", NULL};

/* --- messages ------------------------------------------------------------- */

/* User text in a message stays on one line and bounded: control bytes
 * and quotes are escaped, long text is cut with "...". */
static const char *quote(char *buf, size_t size, const char *s, size_t len)
{
  size_t i, o = 0;
  for (i = 0; i < len && o + 8 < size; i++) {
    unsigned char ch = (unsigned char)s[i];
    if (i == QUOTE_MAX) {
      memcpy(buf + o, "...", 3);
      o += 3;
      break;
    }
    if (ch < 0x20 || ch == 0x7f || ch == '\'' || ch == '\\')
      o += (size_t)snprintf(buf + o, size - o, "\\x%02x", ch);
    else
      buf[o++] = (char)ch;
  }
  buf[o] = '\0';
  return buf;
}

static const char *quote_str(char *buf, size_t size, const mlg_node *n)
{
  return quote(buf, size, n->u.str.ptr, n->u.str.len);
}

static const char *source_text(const ctx *c, const mlg_node *n, size_t *len);

/* "string 'x'", "integer 5", "a list": what the user wrote, for "got ...".
 * Numbers are shown as written when possible ("1.0", not "1"). */
static const char *describe(const ctx *c, char *buf, size_t size, const mlg_node *n)
{
  char q[QUOTE_BUF];
  const char *src;
  size_t len;
  if (n && (n->type == MLG_INT || n->type == MLG_FLOAT) &&
      (src = source_text(c, n, &len)) != NULL) {
    snprintf(buf, size, "%s %s", n->type == MLG_INT ? "integer" : "number",
             quote(q, sizeof q, src, len));
    return buf;
  }
  switch (n ? n->type : MLG_NULL) {
  case MLG_NULL:
    return "an empty value";
  case MLG_BOOL:
    return n->u.boolean ? "boolean true" : "boolean false";
  case MLG_INT:
    snprintf(buf, size, "integer %" PRId64, n->u.integer);
    return buf;
  case MLG_FLOAT:
    snprintf(buf, size, "number %g", n->u.number);
    return buf;
  case MLG_STR:
    snprintf(buf, size, "string '%s'", quote_str(q, sizeof q, n));
    return buf;
  case MLG_SEQ:
    return "a list";
  case MLG_MAP:
    return "a mapping";
  default:
    return "an unknown value";
  }
}

static int fail_at(ctx *c, const mlg_node *at, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

static int fail_at(ctx *c, const mlg_node *at, const char *fmt, ...)
{
  char msg[MLG_ERR_MSG_MAX];
  unsigned long line = 1, col = 1;
  va_list ap;

  if (at && at->span.line) {
    line = at->span.line;
    col = at->span.col ? at->span.col : 1;
  }
  va_start(ap, fmt);
  vsnprintf(msg, sizeof msg, fmt, ap);
  va_end(ap);
  return mlg_err_set(c->err, MLG_ECONFIG, "%s:%lu:%lu: %s", c->name, line, col, msg);
}

static int fail_type(ctx *c, const mlg_node *at, const char *key, const char *want)
{
  char d[QUOTE_BUF + 32];
  return fail_at(c, at, "'%s' must be %s, got %s", key, want, describe(c, d, sizeof d, at));
}

static int no_memory(ctx *c)
{
  return mlg_err_set(c->err, MLG_ENOMEM, "%s: out of memory", c->name);
}

/* --- small helpers ---------------------------------------------------------- */

static int key_is(const mlg_node *k, const char *s)
{
  size_t n = strlen(s);
  return k->type == MLG_STR && k->u.str.len == n && memcmp(k->u.str.ptr, s, n) == 0;
}

/* Names every accepted key so that a typo is obvious. */
static int unknown_key(ctx *c, const mlg_node *k, const char *const *allowed,
                       const char *where)
{
  char q[QUOTE_BUF], list[256];
  size_t j, o = 0;
  list[0] = '\0';
  for (j = 0; allowed[j]; j++)
    o += (size_t)snprintf(list + o, sizeof list - o, "%s%s", j ? ", " : "", allowed[j]);
  return fail_at(c, k, "unknown key '%s' %s (expected one of: %s)",
                 k->type == MLG_STR ? quote_str(q, sizeof q, k) : "?", where, list);
}

/* A string value the engine will use as a C string: no NUL inside. */
static int want_str(ctx *c, const mlg_node *v, const char *key, const char *want)
{
  if (!v || v->type != MLG_STR)
    return fail_type(c, v, key, want);
  if (memchr(v->u.str.ptr, '\0', v->u.str.len))
    return fail_at(c, v, "'%s' must not contain NUL characters", key);
  return 0;
}

/* Aliases let a small file name the same large node many times; copies
 * made from the tree are therefore charged against a fixed budget (four
 * times the largest file accepted), 16 bytes of malloc overhead each. */
static int charge(ctx *c, const mlg_node *at, size_t n, size_t size)
{
  size_t bytes = n > (size_t)-1 / (size + 16) ? (size_t)-1 : n * (size + 16);
  if (bytes > c->budget)
    return fail_at(c, at, "the configuration is too large once aliases are expanded "
                   "(more than %zu bytes)", CONFIG_MAX_BYTES * 4);
  c->budget -= bytes;
  return 0;
}

static int dup_str(ctx *c, char **out, const mlg_node *v)
{
  int rc = charge(c, v, 1, v->u.str.len + 1);
  if (rc)
    return rc;
  *out = strndup(v->u.str.ptr, v->u.str.len);
  return *out ? 0 : no_memory(c);
}

static int is_blank(const char *s, size_t len)
{
  size_t i;
  for (i = 0; i < len; i++)
    if (s[i] != ' ' && s[i] != '\t' && s[i] != '\n' && s[i] != '\r')
      return 0;
  return 1;
}

/* How a plain (unquoted) scalar was written, when the parser resolved it
 * to a number and the digits matter as text (a fingerprint "012345678901"
 * would otherwise lose its leading zero). NULL when unavailable. */
static const char *source_text(const ctx *c, const mlg_node *n, size_t *len)
{
  size_t a = n->span.offset, b = n->span.end_offset;
  if (n->style != MLG_STYLE_PLAIN || !c->text || b <= a || b > c->len)
    return NULL;
  while (b > a && (c->text[b - 1] == ' ' || c->text[b - 1] == '\t'))
    b--;
  *len = b - a;
  return c->text + a;
}

/* --- globs ---------------------------------------------------------------- */

/* glob.c says "glob 'PATTERN': why"; the pattern is already in our
 * message (quoted safely), so keep the reason only. */
static const char *glob_reason(const char *msg)
{
  const char *p, *why = NULL;
  for (p = msg; (p = strstr(p, "': ")) != NULL; p++)
    why = p + 3;
  return why && *why ? why : msg[0] ? msg : "malformed pattern";
}

static int check_glob(ctx *c, const mlg_node *v, const char *key)
{
  mlg_err gerr;
  char q[QUOTE_BUF];
  int rc = want_str(c, v, key, "a glob string");
  if (rc)
    return rc;
  if (v->u.str.len == 0 || is_blank(v->u.str.ptr, v->u.str.len))
    return fail_at(c, v, "empty glob in '%s'", key);
  /* Paths are matched relative to the repository root, so these forms
   * could never match anything: say so instead of silently ignoring. */
  if (v->u.str.ptr[0] == '/')
    return fail_at(c, v, "glob '%s' in '%s' must be relative to the repository root "
                   "(remove the leading '/')", quote_str(q, sizeof q, v), key);
  if (v->u.str.len >= 2 && v->u.str.ptr[0] == '.' && v->u.str.ptr[1] == '/')
    return fail_at(c, v, "glob '%s' in '%s' must not start with './' (paths are "
                   "matched relative to the repository root)", quote_str(q, sizeof q, v), key);
  mlg_err_clear(&gerr);
  if (mlg_glob_check(v->u.str.ptr, &gerr) != 0)
    return fail_at(c, v, "invalid glob '%s' in '%s': %s", quote_str(q, sizeof q, v), key,
                   glob_reason(gerr.msg));
  return 0;
}

static int parse_globs(ctx *c, mlg_globs *out, const mlg_node *v, const char *key)
{
  size_t i;
  int rc;

  if (v->type == MLG_NULL)
    return 0;
  if (v->type != MLG_SEQ) {
    if (v->type == MLG_STR) {
      char q[QUOTE_BUF];
      return fail_at(c, v, "'%s' must be a list of globs, got a single string; write "
                     "%s: ['%s']", key, key, quote_str(q, sizeof q, v));
    }
    return fail_type(c, v, key, "a list of globs");
  }
  if (v->u.seq.len == 0)
    return 0;
  if ((rc = charge(c, v, v->u.seq.len, sizeof *out->items)) != 0)
    return rc;
  out->items = calloc(v->u.seq.len, sizeof *out->items);
  if (!out->items)
    return no_memory(c);
  for (i = 0; i < v->u.seq.len; i++) {
    const mlg_node *it = v->u.seq.items[i];
    if ((rc = check_glob(c, it, key)) != 0)
      return rc;
    if ((rc = dup_str(c, &out->items[out->len], it)) != 0)
      return rc;
    out->len++;
  }
  return 0;
}

static void globs_free(mlg_globs *g)
{
  size_t i;
  for (i = 0; i < g->len; i++)
    free(g->items[i]);
  free(g->items);
  g->items = NULL;
  g->len = 0;
}

/* --- sections --------------------------------------------------------------- */

static int parse_version(ctx *c, const mlg_node *root)
{
  const mlg_pair *p = mlg_map_find(root, "version");
  const mlg_node *v;
  if (!p)
    return fail_at(c, root, "missing required key 'version'");
  v = p->val;
  if (v->type != MLG_INT)
    return fail_type(c, v, "version", "the integer 1 (write 'version: 1')");
  if (v->u.integer != 1)
    return fail_at(c, v, "version %" PRId64 " is not supported (this mlgate reads version 1)",
                   v->u.integer);
  c->cfg->version = 1;
  return 0;
}

static int parse_severity(ctx *c, int *out, const mlg_node *v, const char *key)
{
  int s = -1;
  if (v->type == MLG_STR && !memchr(v->u.str.ptr, '\0', v->u.str.len))
    s = mlg_severity_parse(v->u.str.ptr);
  if (s < 0)
    return fail_at(c, v, "'%s' must be one of info, low, medium, high, critical", key);
  *out = s;
  return 0;
}

static int parse_bool(ctx *c, int *out, const mlg_node *v, const char *key)
{
  if (v->type != MLG_BOOL)
    return fail_type(c, v, key, "true or false");
  *out = v->u.boolean;
  return 0;
}

static int parse_profile(ctx *c, int *out, const mlg_node *v)
{
  int p = -1;
  if (v->type == MLG_STR && !memchr(v->u.str.ptr, '\0', v->u.str.len))
    p = mlg_profile_parse(v->u.str.ptr);
  if (p < 0)
    return fail_at(c, v, "'profile' must be one of regular, pedantic, auditor");
  *out = p;
  return 0;
}

static int parse_gates(ctx *c, const mlg_node *v)
{
  size_t i;
  int rc;

  if (v->type == MLG_NULL)
    return 0;
  if (v->type != MLG_MAP)
    return fail_type(c, v, "gates", "a mapping of gate names to {include, exclude}");
  for (i = 0; i < v->u.map.len; i++) {
    const mlg_node *k = v->u.map.pairs[i].key, *g = v->u.map.pairs[i].val;
    char q[QUOTE_BUF], where[QUOTE_BUF + 16];
    size_t j;
    int gate = -1;

    if (k->type == MLG_STR && !memchr(k->u.str.ptr, '\0', k->u.str.len))
      gate = mlg_gate_parse(k->u.str.ptr);
    if (gate < 0)
      return fail_at(c, k, "unknown gate '%s' under 'gates' (expected one of: %s)",
                     k->type == MLG_STR ? quote_str(q, sizeof q, k) : "?", mlg_gate_list());
    if (g->type == MLG_NULL)
      continue;
    if (g->type != MLG_MAP) {
      char d[QUOTE_BUF + 32];
      return fail_at(c, g, "gate '%s' must be a mapping with 'include' and/or 'exclude', "
                     "got %s", mlg_gate_name((mlg_gate)gate), describe(c, d, sizeof d, g));
    }
    snprintf(where, sizeof where, "in gate '%s'", mlg_gate_name((mlg_gate)gate));
    for (j = 0; j < g->u.map.len; j++) {
      const mlg_node *gk = g->u.map.pairs[j].key, *gv = g->u.map.pairs[j].val;
      if (key_is(gk, "include"))
        rc = parse_globs(c, &c->cfg->gate_include[gate], gv, "include");
      else if (key_is(gk, "exclude"))
        rc = parse_globs(c, &c->cfg->gate_exclude[gate], gv, "exclude");
      else
        rc = unknown_key(c, gk, gate_keys, where);
      if (rc)
        return rc;
    }
  }
  return 0;
}

static int parse_policy(ctx *c, mlg_policy_cfg *pc, const mlg_node *k, const mlg_node *v)
{
  char q[QUOTE_BUF], where[QUOTE_BUF + 16];
  size_t i;
  int rc;

  if (k->type != MLG_STR || k->u.str.len == 0 || is_blank(k->u.str.ptr, k->u.str.len))
    return fail_at(c, k, "empty policy id under 'policies'");
  if (memchr(k->u.str.ptr, '\0', k->u.str.len))
    return fail_at(c, k, "policy id must not contain NUL characters");
  if ((rc = dup_str(c, &pc->id, k)) != 0)
    return rc;
  pc->span = k->span;
  pc->enforcement = MLG_ENF_UNSET;
  pc->enabled = -1;
  pc->severity = -1;
  pc->params = NULL;
  if (v->type == MLG_NULL)
    return 0;
  if (v->type != MLG_MAP) {
    char d[QUOTE_BUF + 32];
    return fail_at(c, v, "policy '%s' must be a mapping (keys: enforcement, enabled, "
                   "severity, params), got %s", quote_str(q, sizeof q, k),
                   describe(c, d, sizeof d, v));
  }
  snprintf(where, sizeof where, "in policy '%s'", quote_str(q, sizeof q, k));
  for (i = 0; i < v->u.map.len; i++) {
    const mlg_node *key = v->u.map.pairs[i].key, *val = v->u.map.pairs[i].val;
    if (key_is(key, "enforcement")) {
      int e = -1;
      if (val->type == MLG_STR && !memchr(val->u.str.ptr, '\0', val->u.str.len))
        e = mlg_enforcement_parse(val->u.str.ptr);
      if (e < 0)
        return fail_at(c, val, "'enforcement' must be one of advisory, soft, hard");
      pc->enforcement = (mlg_enforcement)e;
    } else if (key_is(key, "enabled")) {
      if (val->type != MLG_BOOL)
        return fail_type(c, val, "enabled", "true or false");
      pc->enabled = val->u.boolean;
    } else if (key_is(key, "severity")) {
      if ((rc = parse_severity(c, &pc->severity, val, "severity")) != 0)
        return rc;
    } else if (key_is(key, "params")) {
      if (val->type != MLG_MAP && val->type != MLG_NULL)
        return fail_type(c, val, "params", "a mapping of parameter names to values");
      pc->params = val->type == MLG_MAP ? val : NULL;
    } else {
      return unknown_key(c, key, policy_keys, where);
    }
  }
  return 0;
}

static int parse_policies(ctx *c, const mlg_node *v)
{
  size_t i;
  int rc;

  if (v->type == MLG_NULL)
    return 0;
  if (v->type != MLG_MAP)
    return fail_type(c, v, "policies", "a mapping of policy ids to settings");
  if (v->u.map.len == 0)
    return 0;
  if ((rc = charge(c, v, v->u.map.len, sizeof *c->cfg->policies)) != 0)
    return rc;
  c->cfg->policies = calloc(v->u.map.len, sizeof *c->cfg->policies);
  if (!c->cfg->policies)
    return no_memory(c);
  for (i = 0; i < v->u.map.len; i++) {
    mlg_policy_cfg *pc = &c->cfg->policies[c->cfg->npolicies];
    /* Counted first so that a failure half way still frees the id. */
    c->cfg->npolicies++;
    if ((rc = parse_policy(c, pc, v->u.map.pairs[i].key, v->u.map.pairs[i].val)) != 0)
      return rc;
  }
  return 0;
}

static size_t hex_len(const char *s, size_t len)
{
  size_t i;
  for (i = 0; i < len; i++)
    if (!((s[i] >= '0' && s[i] <= '9') || (s[i] >= 'a' && s[i] <= 'f') ||
          (s[i] >= 'A' && s[i] <= 'F')))
      break;
  return i;
}

/* Lower-case hex, at least FINGERPRINT_MIN digits. A plain scalar of
 * digits only (or digits with one 'e') is resolved by YAML as a number;
 * its source text is the fingerprint the user meant. */
static int parse_fingerprint(ctx *c, mlg_waiver *w, const mlg_node *v)
{
  char q[QUOTE_BUF];
  const char *s = NULL;
  size_t len = 0, i;
  int rc;

  if (v->type == MLG_STR) {
    s = v->u.str.ptr;
    len = v->u.str.len;
  } else if (v->type == MLG_INT || v->type == MLG_FLOAT) {
    char tmp[FINGERPRINT_MAX + 1], *end;
    s = source_text(c, v, &len);
    /* Trust the source slice only if it reads back as the same number;
     * otherwise ask for quotes rather than guess. */
    /* The slice is not NUL-terminated: check it by length only. */
    if (s && len <= FINGERPRINT_MAX && hex_len(s, len) == len) {
      memcpy(tmp, s, len);
      tmp[len] = '\0';
      errno = 0;
      if (v->type == MLG_INT) {
        uintmax_t u = strtoumax(tmp, &end, 10);
        if (*end || errno || v->u.integer < 0 || u != (uintmax_t)v->u.integer)
          s = NULL;
      } else {
        double d = strtod(tmp, &end);
        if (*end || !(d == v->u.number || (isinf(d) && isinf(v->u.number))))
          s = NULL;
      }
    } else {
      s = NULL;
    }
    if (!s)
      return fail_at(c, v, "'fingerprint' must be a string of hex digits; quote it, "
                     "e.g. fingerprint: '0123456789ab'");
  } else {
    return fail_type(c, v, "fingerprint", "a string of at least 12 hex digits");
  }
  if (hex_len(s, len) != len)
    return fail_at(c, v, "'fingerprint' must be hexadecimal (0-9, a-f), got '%s'",
                   quote(q, sizeof q, s, len));
  if (len < FINGERPRINT_MIN)
    return fail_at(c, v, "'fingerprint' must have at least %d hex digits (a prefix of the "
                   "finding's fingerprint), got '%s'", FINGERPRINT_MIN,
                   quote(q, sizeof q, s, len));
  if (len > FINGERPRINT_MAX)
    return fail_at(c, v, "'fingerprint' must have at most %d hex digits, got %zu",
                   FINGERPRINT_MAX, len);
  if ((rc = charge(c, v, 1, len + 1)) != 0)
    return rc;
  w->fingerprint = malloc(len + 1);
  if (!w->fingerprint)
    return no_memory(c);
  for (i = 0; i < len; i++)
    w->fingerprint[i] = (char)((s[i] >= 'A' && s[i] <= 'F') ? s[i] - 'A' + 'a' : s[i]);
  w->fingerprint[len] = '\0';
  return 0;
}

static int parse_expires(ctx *c, mlg_waiver *w, const mlg_node *v)
{
  char q[QUOTE_BUF];
  int32_t day;

  /* The parser does not resolve timestamps, so a date is a plain string
   * here; anything else (a number, a list) is certainly not a date. */
  if (v->type != MLG_STR || memchr(v->u.str.ptr, '\0', v->u.str.len))
    return fail_type(c, v, "expires", "a date YYYY-MM-DD");
  day = v->u.str.len == 10 ? mlg_date_parse(v->u.str.ptr, NULL) : -1;
  if (day < 0)
    return fail_at(c, v, "'expires' must be a date YYYY-MM-DD, got '%s'",
                   quote_str(q, sizeof q, v));
  memcpy(w->expires, v->u.str.ptr, 11);
  w->expires_day = day;
  return 0;
}

static int parse_waiver(ctx *c, mlg_waiver *w, const mlg_node *m)
{
  static const char *const required[] = {"policy", "reason", "expires"};
  char q[QUOTE_BUF];
  size_t i;
  int rc;

  w->span = m->span;
  w->expires_day = -1;
  if (m->type != MLG_MAP)
    return fail_type(c, m, "waivers", "a list of mappings (policy, path, fingerprint, "
                     "reason, expires)");
  for (i = 0; i < m->u.map.len; i++) {
    const mlg_node *k = m->u.map.pairs[i].key, *v = m->u.map.pairs[i].val;
    if (key_is(k, "policy")) {
      if ((rc = want_str(c, v, "policy", "a policy id string")) != 0)
        return rc;
      if (is_blank(v->u.str.ptr, v->u.str.len))
        return fail_at(c, v, "'policy' must not be empty: name the policy this waiver is for");
      if ((rc = dup_str(c, &w->policy, v)) != 0)
        return rc;
    } else if (key_is(k, "path")) {
      if ((rc = check_glob(c, v, "path")) != 0 || (rc = dup_str(c, &w->path, v)) != 0)
        return rc;
    } else if (key_is(k, "fingerprint")) {
      if ((rc = parse_fingerprint(c, w, v)) != 0)
        return rc;
    } else if (key_is(k, "reason")) {
      if ((rc = want_str(c, v, "reason", "a string")) != 0)
        return rc;
      if (is_blank(v->u.str.ptr, v->u.str.len))
        return fail_at(c, v, "'reason' must not be empty: say why this finding is accepted");
      if ((rc = dup_str(c, &w->reason, v)) != 0)
        return rc;
    } else if (key_is(k, "expires")) {
      if ((rc = parse_expires(c, w, v)) != 0)
        return rc;
    } else {
      return unknown_key(c, k, waiver_keys, "in waiver");
    }
  }
  for (i = 0; i < sizeof required / sizeof required[0]; i++)
    if (!mlg_map_find(m, required[i]))
      return fail_at(c, m, "missing required key '%s' in waiver", required[i]);
  if (!w->path && !w->fingerprint)
    return fail_at(c, m, "waiver for '%s' needs 'path' or 'fingerprint' (or both) to say "
                   "which findings it covers", quote(q, sizeof q, w->policy, strlen(w->policy)));
  return 0;
}

static int parse_waivers(ctx *c, const mlg_node *v)
{
  size_t i;
  int rc;

  if (v->type == MLG_NULL)
    return 0;
  if (v->type != MLG_SEQ)
    return fail_type(c, v, "waivers", "a list of waivers (each item starting with "
                     "'- policy:')");
  if (v->u.seq.len == 0)
    return 0;
  if ((rc = charge(c, v, v->u.seq.len, sizeof *c->cfg->waivers)) != 0)
    return rc;
  c->cfg->waivers = calloc(v->u.seq.len, sizeof *c->cfg->waivers);
  if (!c->cfg->waivers)
    return no_memory(c);
  for (i = 0; i < v->u.seq.len; i++) {
    mlg_waiver *w = &c->cfg->waivers[c->cfg->nwaivers++];
    if ((rc = parse_waiver(c, w, v->u.seq.items[i])) != 0)
      return rc;
  }
  return 0;
}

static int parse_limit(ctx *c, uint64_t *out, const mlg_node *v, const char *key,
                       uint64_t max, uint64_t scale)
{
  /* Integers past int64 come back from the parser as numbers. */
  if (v->type == MLG_FLOAT && v->u.number > (double)max && floor(v->u.number) == v->u.number)
    return fail_at(c, v, "'%s' must be at most %" PRIu64 ", got %g", key, max, v->u.number);
  if (v->type != MLG_INT)
    return fail_type(c, v, key, "a positive integer");
  if (v->u.integer <= 0)
    return fail_at(c, v, "'%s' must be a positive integer, got %" PRId64, key, v->u.integer);
  if ((uint64_t)v->u.integer > max)
    return fail_at(c, v, "'%s' must be at most %" PRIu64 ", got %" PRId64, key, max,
                   v->u.integer);
  *out = (uint64_t)v->u.integer * scale;
  return 0;
}

static int parse_limits(ctx *c, const mlg_node *v)
{
  mlg_limits *l = &c->cfg->limits;
  uint64_t findings = l->findings;
  size_t i;
  int rc = 0;

  if (v->type == MLG_NULL)
    return 0;
  if (v->type != MLG_MAP)
    return fail_type(c, v, "limits", "a mapping (time_ms, memory_mb, instructions, "
                     "read_mb, findings)");
  for (i = 0; i < v->u.map.len && rc == 0; i++) {
    const mlg_node *k = v->u.map.pairs[i].key, *val = v->u.map.pairs[i].val;
    if (key_is(k, "time_ms"))
      rc = parse_limit(c, &l->time_ms, val, "time_ms", MAX_TIME_MS, 1);
    else if (key_is(k, "memory_mb"))
      rc = parse_limit(c, &l->memory_bytes, val, "memory_mb", MAX_MEMORY_MB, MIB);
    else if (key_is(k, "instructions"))
      rc = parse_limit(c, &l->instructions, val, "instructions", MAX_INSTRUCTIONS, 1);
    else if (key_is(k, "read_mb"))
      rc = parse_limit(c, &l->read_bytes, val, "read_mb", MAX_READ_MB, MIB);
    else if (key_is(k, "findings"))
      rc = parse_limit(c, &findings, val, "findings", MAX_FINDINGS, 1);
    else
      rc = unknown_key(c, k, limit_keys, "in 'limits'");
  }
  l->findings = (uint32_t)findings;
  return rc;
}

static int parse_root(ctx *c, const mlg_node *root)
{
  size_t i;
  int rc;

  /* An empty file (or one holding only comments or "---") has no useful
   * position: the fix goes at the top. */
  if (!root || root->type == MLG_NULL)
    return fail_at(c, NULL, "missing required key 'version'");
  if (root->type != MLG_MAP) {
    char d[QUOTE_BUF + 32];
    return fail_at(c, root, "the top level must be a mapping starting with 'version: 1', "
                   "got %s", describe(c, d, sizeof d, root));
  }
  /* Version first: a file for another version would otherwise fail on
   * whatever key this version does not know. */
  if ((rc = parse_version(c, root)) != 0)
    return rc;
  for (i = 0; i < root->u.map.len; i++) {
    const mlg_node *k = root->u.map.pairs[i].key, *v = root->u.map.pairs[i].val;
    if (key_is(k, "fail_on"))
      rc = parse_severity(c, &c->cfg->fail_on, v, "fail_on");
    else if (key_is(k, "inline_suppressions"))
      rc = parse_bool(c, &c->cfg->inline_suppressions, v, "inline_suppressions");
    else if (key_is(k, "profile"))
      rc = parse_profile(c, &c->cfg->profile, v);
    else if (key_is(k, "exclude"))
      rc = parse_globs(c, &c->cfg->exclude, v, "exclude");
    else if (key_is(k, "gates"))
      rc = parse_gates(c, v);
    else if (key_is(k, "policies"))
      rc = parse_policies(c, v);
    else if (key_is(k, "waivers"))
      rc = parse_waivers(c, v);
    else if (key_is(k, "limits"))
      rc = parse_limits(c, v);
    else if (!key_is(k, "version"))
      rc = unknown_key(c, k, top_keys, "at the top level");
    if (rc)
      return rc;
  }
  return 0;
}

/* --- public API --------------------------------------------------------------- */

int mlg_config_new(mlg_config **out, mlg_err *err)
{
  mlg_config *cfg;
  *out = NULL;
  cfg = calloc(1, sizeof *cfg);
  if (!cfg)
    return mlg_err_set(err, MLG_ENOMEM, "out of memory");
  cfg->version = 1;
  cfg->fail_on = -1;
  cfg->inline_suppressions = 1;
  cfg->limits.time_ms = DEF_TIME_MS;
  cfg->limits.memory_bytes = DEF_MEMORY_MB * MIB;
  cfg->limits.instructions = DEF_INSTRUCTIONS;
  cfg->limits.read_bytes = DEF_READ_MB * MIB;
  cfg->limits.findings = DEF_FINDINGS;
  *out = cfg;
  return 0;
}

int mlg_config_parse(mlg_config **out, const char *text, size_t len, const char *name,
                     mlg_err *err)
{
  mlg_parse_opts opts;
  mlg_config *cfg = NULL;
  ctx c;
  int rc;

  *out = NULL;
  if (!name)
    name = "mlgate.yml";
  if (!text && len)
    return mlg_err_set(err, MLG_EINVAL, "%s: no text", name);
  if ((rc = mlg_config_new(&cfg, err)) != 0)
    return rc;
  cfg->path = strdup(name);
  if (!cfg->path) {
    rc = mlg_err_set(err, MLG_ENOMEM, "out of memory");
    goto done;
  }
  memset(&opts, 0, sizeof opts);
  opts.max_bytes = CONFIG_MAX_BYTES;
  opts.max_depth = CONFIG_MAX_DEPTH;
  opts.max_nodes = CONFIG_MAX_NODES;
  /* Every document is kept only to refuse a second one: "---" in the
   * middle of the file would otherwise hide everything after it. */
  opts.all_documents = 1;
  rc = mlg_yaml_parse(&cfg->doc, text ? text : "", len, name, &opts, err);
  if (rc) {
    /* Syntax and size errors are configuration errors to the caller;
     * the parser's message already has NAME:LINE:COL. */
    if ((rc == MLG_EPARSE || rc == MLG_ELIMIT) && err)
      err->code = MLG_ECONFIG;
    if (rc == MLG_EPARSE || rc == MLG_ELIMIT)
      rc = MLG_ECONFIG;
    goto done;
  }
  c.name = name;
  c.text = text;
  c.len = len;
  c.err = err;
  c.cfg = cfg;
  c.budget = CONFIG_MAX_BYTES * 4;
  if (cfg->doc && cfg->doc->nroots > 1) {
    rc = fail_at(&c, cfg->doc->roots[1], "a second YAML document ('---'); mlgate.yml must "
                 "hold exactly one");
    goto done;
  }
  rc = parse_root(&c, cfg->doc ? cfg->doc->root : NULL);

done:
  if (rc) {
    mlg_config_free(cfg);
    return rc;
  }
  *out = cfg;
  return 0;
}

/* Reads at most CONFIG_MAX_BYTES of a regular file; FIFOs and devices are
 * refused up front instead of blocking the CI job. */
static int read_file(char **out, size_t *len, const char *path, mlg_err *err)
{
  struct stat st;
  char *buf = NULL;
  size_t n = 0;
  int fd, rc = 0;

  *out = NULL;
  fd = open(path, O_RDONLY | O_CLOEXEC | O_NONBLOCK | O_NOCTTY);
  if (fd < 0)
    return mlg_err_set(err, errno == ENOENT ? MLG_ENOENT : MLG_EIO, "%s: cannot open: %s",
                       path, strerror(errno));
  if (fstat(fd, &st) != 0) {
    rc = mlg_err_set(err, MLG_EIO, "%s: cannot stat: %s", path, strerror(errno));
    goto done;
  }
  if (!S_ISREG(st.st_mode)) {
    rc = mlg_err_set(err, MLG_ECONFIG, "%s: not a regular file", path);
    goto done;
  }
  if ((uint64_t)st.st_size > CONFIG_MAX_BYTES) {
    rc = mlg_err_set(err, MLG_ECONFIG, "%s: file is larger than %zu MiB; a configuration "
                     "this large is a mistake", path, CONFIG_MAX_BYTES >> 20);
    goto done;
  }
  /* One byte more than allowed tells a file that grew since fstat. */
  buf = malloc(CONFIG_MAX_BYTES + 1);
  if (!buf) {
    rc = mlg_err_set(err, MLG_ENOMEM, "out of memory");
    goto done;
  }
  while (n <= CONFIG_MAX_BYTES) {
    ssize_t got = read(fd, buf + n, CONFIG_MAX_BYTES + 1 - n);
    if (got < 0 && errno == EINTR)
      continue;
    if (got < 0) {
      rc = mlg_err_set(err, MLG_EIO, "%s: read failed: %s", path, strerror(errno));
      goto done;
    }
    if (got == 0)
      break;
    n += (size_t)got;
  }
  if (n > CONFIG_MAX_BYTES) {
    rc = mlg_err_set(err, MLG_ECONFIG, "%s: file is larger than %zu MiB", path,
                     CONFIG_MAX_BYTES >> 20);
    goto done;
  }
  *out = buf;
  *len = n;
  buf = NULL;

done:
  free(buf);
  close(fd);
  return rc;
}

int mlg_config_load(mlg_config **out, const char *path, mlg_err *err)
{
  char *text = NULL;
  size_t len = 0;
  int rc;

  *out = NULL;
  if (!path)
    return mlg_err_set(err, MLG_EINVAL, "no configuration path");
  if ((rc = read_file(&text, &len, path, err)) != 0)
    return rc;
  rc = mlg_config_parse(out, text, len, path, err);
  free(text);
  return rc;
}

void mlg_config_free(mlg_config *cfg)
{
  size_t i;
  if (!cfg)
    return;
  free(cfg->path);
  globs_free(&cfg->exclude);
  for (i = 0; i < MLG_GATE_COUNT; i++) {
    globs_free(&cfg->gate_include[i]);
    globs_free(&cfg->gate_exclude[i]);
  }
  for (i = 0; i < cfg->npolicies; i++)
    free(cfg->policies[i].id);
  free(cfg->policies);
  for (i = 0; i < cfg->nwaivers; i++) {
    free(cfg->waivers[i].policy);
    free(cfg->waivers[i].path);
    free(cfg->waivers[i].fingerprint);
    free(cfg->waivers[i].reason);
  }
  free(cfg->waivers);
  mlg_doc_free(cfg->doc);
  free(cfg);
}

const mlg_policy_cfg *mlg_config_policy(const mlg_config *cfg, const char *id)
{
  size_t i;
  if (!cfg || !id)
    return NULL;
  for (i = 0; i < cfg->npolicies; i++)
    if (cfg->policies[i].id && strcmp(cfg->policies[i].id, id) == 0)
      return &cfg->policies[i];
  return NULL;
}

/* --- dates ----------------------------------------------------------------------- */

static int days_in_month(int y, int m)
{
  static const unsigned char days[12] = {31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31};
  int leap = (y % 4 == 0 && y % 100 != 0) || y % 400 == 0;
  return m == 2 ? 28 + leap : days[m - 1];
}

/* Days from 1970-01-01 for the proleptic Gregorian calendar (H. Hinnant's
 * days_from_civil), exact for the years accepted here. */
static int32_t days_from_civil(int y, int m, int d)
{
  int era, yoe, doy, doe;
  y -= m <= 2;
  era = y / 400;
  yoe = y - era * 400;
  doy = (153 * (m + (m > 2 ? -3 : 9)) + 2) / 5 + d - 1;
  doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
  return (int32_t)(era * 146097 + doe - 719468);
}

int32_t mlg_date_parse(const char *text, mlg_err *err)
{
  static const char *const months[12] = {
    "January", "February", "March", "April", "May", "June", "July", "August",
    "September", "October", "November", "December"};
  char q[QUOTE_BUF];
  int y, m, d, i;

  if (!text) {
    mlg_err_set(err, MLG_EINVAL, "no date");
    return -1;
  }
  for (i = 0; i < 10; i++) {
    int want_dash = i == 4 || i == 7;
    if (text[i] == '\0' || (want_dash ? text[i] != '-' : (text[i] < '0' || text[i] > '9')))
      break;
  }
  if (i != 10 || text[10] != '\0') {
    mlg_err_set(err, MLG_EINVAL, "'%s' is not a date YYYY-MM-DD",
                quote(q, sizeof q, text, strnlen(text, QUOTE_MAX + 1)));
    return -1;
  }
  y = (text[0] - '0') * 1000 + (text[1] - '0') * 100 + (text[2] - '0') * 10 + (text[3] - '0');
  m = (text[5] - '0') * 10 + (text[6] - '0');
  d = (text[8] - '0') * 10 + (text[9] - '0');
  /* Before 1970 the day count would be negative, colliding with -1. */
  if (y < 1970) {
    mlg_err_set(err, MLG_EINVAL, "'%s': the year must be 1970 or later", text);
    return -1;
  }
  if (m < 1 || m > 12) {
    mlg_err_set(err, MLG_EINVAL, "'%s': the month must be 01 to 12", text);
    return -1;
  }
  if (d < 1 || d > days_in_month(y, m)) {
    mlg_err_set(err, MLG_EINVAL, "'%s': %s %d has %d days", text, months[m - 1], y,
                days_in_month(y, m));
    return -1;
  }
  return days_from_civil(y, m, d);
}

int32_t mlg_date_today(void)
{
  time_t now = time(NULL);
  /* POSIX time has no leap seconds: whole days are exact multiples. */
  int64_t t = (int64_t)now, day = t / 86400;
  if (t < 0 && t % 86400)
    day--;
  return (int32_t)day;
}
