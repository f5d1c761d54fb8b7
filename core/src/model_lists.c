/*
 * Classifies a pickle import (module, name) with the tables of
 * model_lists_data.c. Order of the checks, and why:
 *
 *   1. unresolved ("?", empty, NULL): the unpickler would import something
 *      computed at load time -> dangerous.
 *   2. Python 2 renames (__builtin__ -> builtins, copy_reg -> copyreg,
 *      cPickle -> pickle, ...), as Python 3's unpickler applies them.
 *   3. exact allow entries: they are vetted one by one and may sit inside a
 *      denied module (uuid.UUID, io.BytesIO, torch.jit._pickle.*).
 *   4. the caution table (unknown with a reason).
 *   5. deny entries: exact names (also covering dotted extensions: bdb.Bdb
 *      covers Bdb.run) and whole modules with their submodules ("os" covers
 *      "os.path": os.path.join is harmless, but pickles never name os.path --
 *      they say posixpath -- so only an attacker would).
 *   6. dotted names walk attributes (pickle protocol 4 resolves "a.b.c" with
 *      getattr), so every split of module + name is checked again: a name
 *      "os.system" in module "pathlib" reaches os.system; dunder components
 *      (__globals__, __class__, ...) are dangerous on their own.
 *   7. names that are exec/shell entry points in any module (system, popen,
 *      eval, ...), which catches re-exports.
 *   8. name-prefix and module-prefix allow entries (torch._utils._rebuild_*,
 *      TorchScript __torch__.*) for simple names.
 *   9. everything else: unknown.
 *
 * Matching is case-sensitive (Python names are). Names longer than
 * MAX_NAME or with more than MAX_PARTS components are dangerous: legitimate
 * qualified names have a handful of parts, checking a chain only partially
 * could miss a dangerous hop, and the chain check is quadratic in the parts
 * (about 50 us per import at 16 parts).
 */
#include "model_lists.h"

#include <pthread.h>
#include <stdlib.h>
#include <string.h>

#define MLG_MODEL_LISTS_VERSION "2026.11"

#define MAX_NAME 1024
#define MAX_PARTS 16

extern const char *const mlg_ml_allow[][3];
extern const size_t mlg_ml_allow_count;
extern const char *const mlg_ml_allow_name_prefix[][3];
extern const size_t mlg_ml_allow_name_prefix_count;
extern const char *const mlg_ml_allow_module_prefix[][2];
extern const size_t mlg_ml_allow_module_prefix_count;
extern const char *const mlg_ml_deny[][4];
extern const size_t mlg_ml_deny_count;
extern const char *const mlg_ml_caution[][4];
extern const size_t mlg_ml_caution_count;
extern const char *const mlg_ml_danger_names[][3];
extern const size_t mlg_ml_danger_names_count;
extern const char *const mlg_ml_py2_modules[][2];
extern const size_t mlg_ml_py2_modules_count;
extern const char *const mlg_ml_py2_names[][4];
extern const size_t mlg_ml_py2_names_count;

/* A (module, name) pair pointing into the tables, sorted for bsearch. */
typedef struct pair {
  const char *module, *name;
  size_t row;
} pair;

/* A string slice: keys are parts of the caller's strings, never copied. */
typedef struct slice {
  const char *p;
  size_t n;
} slice;

static pair *allow_idx, *deny_idx, *caution_idx;
static size_t allow_n, deny_n, caution_n;
static pthread_once_t lists_once = PTHREAD_ONCE_INIT;

static int pair_cmp(const void *a, const void *b)
{
  const pair *x = a, *y = b;
  int c = strcmp(x->module, y->module);
  return c ? c : strcmp(x->name, y->name);
}

static pair *build_index(const char *const (*rows)[4], const char *const (*rows3)[3],
                         size_t count, size_t *n_out)
{
  size_t i;
  pair *idx = malloc((count ? count : 1) * sizeof *idx);
  if (!idx) {
    *n_out = 0;
    return NULL;
  }
  for (i = 0; i < count; i++) {
    idx[i].module = rows ? rows[i][0] : rows3[i][0];
    idx[i].name = rows ? rows[i][1] : rows3[i][1];
    idx[i].row = i;
  }
  qsort(idx, count, sizeof *idx, pair_cmp);
  *n_out = count;
  return idx;
}

/* The tables live for the process; without memory for the index the
 * lookups below fall back to linear scans (same answers, slower). */
static void lists_init(void)
{
  allow_idx = build_index(NULL, mlg_ml_allow, mlg_ml_allow_count, &allow_n);
  deny_idx = build_index(mlg_ml_deny, NULL, mlg_ml_deny_count, &deny_n);
  caution_idx = build_index(mlg_ml_caution, NULL, mlg_ml_caution_count, &caution_n);
}

/* strcmp of a NUL-terminated string against a slice */
static int slice_cmp(const char *s, slice k)
{
  int c = strncmp(s, k.p, k.n);
  if (c)
    return c;
  return s[k.n] ? 1 : 0;
}

static int slice_eq(const char *s, slice k)
{
  return slice_cmp(s, k) == 0;
}

typedef struct key2 {
  slice module, name;
} key2;

static int key_cmp(const void *k, const void *e)
{
  const key2 *key = k;
  const pair *p = e;
  int c = -slice_cmp(p->module, key->module);
  return c ? c : -slice_cmp(p->name, key->name);
}

enum { T_ALLOW, T_DENY, T_CAUTION };

static const char *cell(int table, size_t row, int col)
{
  switch (table) {
  case T_ALLOW:
    return mlg_ml_allow[row][col];
  case T_DENY:
    return mlg_ml_deny[row][col];
  default:
    return mlg_ml_caution[row][col];
  }
}

/* Row of (module, name) in a table, or -1. */
static long find_pair(int table, slice module, slice name)
{
  static const size_t *const counts[] = {&mlg_ml_allow_count, &mlg_ml_deny_count,
                                         &mlg_ml_caution_count};
  const pair *idx = table == T_ALLOW ? allow_idx : table == T_DENY ? deny_idx : caution_idx;
  size_t n = table == T_ALLOW ? allow_n : table == T_DENY ? deny_n : caution_n;
  key2 key = {module, name};
  size_t i;
  if (idx) {
    const pair *p = bsearch(&key, idx, n, sizeof *idx, key_cmp);
    return p ? (long)p->row : -1;
  }
  for (i = 0; i < *counts[table]; i++)
    if (slice_eq(cell(table, i, 0), module) && slice_eq(cell(table, i, 1), name))
      return (long)i;
  return -1;
}

static mlg_import_class mkclass(mlg_import_verdict v, const char *list, const char *reason)
{
  mlg_import_class c;
  c.verdict = v;
  c.list = list;
  c.reason = reason;
  return c;
}

static mlg_import_class deny_row(long row)
{
  return mkclass(MLG_IMPORT_DANGEROUS, mlg_ml_deny[row][2], mlg_ml_deny[row][3]);
}

/* The deny entry covering (module, name): "*" entries for the module or a
 * parent package, exact entries for the name or a dotted prefix of it. */
static long deny_lookup(slice module, slice name)
{
  static const slice star = {"*", 1};
  size_t i;
  long row;
  for (i = 1; i <= module.n; i++) {
    if (i == module.n || module.p[i] == '.') {
      slice m = {module.p, i};
      row = find_pair(T_DENY, m, star);
      if (row >= 0)
        return row;
    }
  }
  for (i = 1; i <= name.n; i++) {
    if (i == name.n || name.p[i] == '.') {
      slice nm = {name.p, i};
      row = find_pair(T_DENY, module, nm);
      if (row >= 0)
        return row;
    }
  }
  return -1;
}

static int is_dunder(slice s)
{
  return s.n > 4 && s.p[0] == '_' && s.p[1] == '_' && s.p[s.n - 1] == '_' &&
         s.p[s.n - 2] == '_';
}

static long danger_name(slice s)
{
  size_t i;
  for (i = 0; i < mlg_ml_danger_names_count; i++)
    if (slice_eq(mlg_ml_danger_names[i][0], s))
      return (long)i;
  return -1;
}

/* Every re-rooting of a dotted name, checked against the denylist: for
 * module M and name a.b.c, the unpickler evaluates getattr(getattr(M.a).b).c,
 * so M.a may be a module (torch + hub.load) or an attribute that is one
 * (pathlib + os.system). Both "M.a" and "a" are tried as module names. */
static int chain_check(slice module, slice name, mlg_import_class *out)
{
  char joined[2 * MAX_NAME + 2];
  size_t i;
  long row;
  for (i = 0; i < name.n; i++) {
    slice head, rest;
    if (name.p[i] != '.')
      continue;
    head.p = name.p;
    head.n = i;
    rest.p = name.p + i + 1;
    rest.n = name.n - i - 1;
    if (head.n == 0 || rest.n == 0)
      continue;
    row = deny_lookup(head, rest);
    if (row < 0) {
      slice j;
      memcpy(joined, module.p, module.n);
      joined[module.n] = '.';
      memcpy(joined + module.n + 1, head.p, head.n);
      j.p = joined;
      j.n = module.n + 1 + head.n;
      row = deny_lookup(j, rest);
    }
    if (row >= 0) {
      *out = deny_row(row);
      return 1;
    }
  }
  return 0;
}

static int count_parts(const char *s, size_t n)
{
  int parts = 1;
  size_t i;
  for (i = 0; i < n; i++)
    if (s[i] == '.')
      parts++;
  return parts;
}

/* Python 2 renames; module/name point to static strings or stay as given. */
static void py2_normalise(const char **module, const char **name)
{
  size_t i;
  for (i = 0; i < mlg_ml_py2_names_count; i++) {
    if (!strcmp(mlg_ml_py2_names[i][0], *module) && !strcmp(mlg_ml_py2_names[i][1], *name)) {
      *module = mlg_ml_py2_names[i][2];
      *name = mlg_ml_py2_names[i][3];
      return;
    }
  }
  for (i = 0; i < mlg_ml_py2_modules_count; i++) {
    if (!strcmp(mlg_ml_py2_modules[i][0], *module)) {
      *module = mlg_ml_py2_modules[i][1];
      return;
    }
  }
}

static int unresolved(const char *s)
{
  return !s || !*s || !strcmp(s, "?");
}

mlg_import_class mlg_model_classify(const char *module, const char *name)
{
  slice m, n;
  size_t i, mlen, nlen;
  long row;
  mlg_import_class c;

  if (unresolved(module) || unresolved(name))
    return mkclass(MLG_IMPORT_DANGEROUS, "unresolved", "callable built at load time");
  pthread_once(&lists_once, lists_init);
  py2_normalise(&module, &name);

  mlen = strlen(module);
  nlen = strlen(name);
  if (mlen > MAX_NAME || nlen > MAX_NAME || count_parts(module, mlen) > MAX_PARTS ||
      count_parts(name, nlen) > MAX_PARTS)
    return mkclass(MLG_IMPORT_DANGEROUS, "denylist:gadget", "name too long to analyse");
  m.p = module;
  m.n = mlen;
  n.p = name;
  n.n = nlen;

  row = find_pair(T_ALLOW, m, n);
  if (row >= 0)
    return mkclass(MLG_IMPORT_SAFE, mlg_ml_allow[row][2], "");
  row = find_pair(T_CAUTION, m, n);
  if (row >= 0)
    return mkclass(MLG_IMPORT_UNKNOWN, mlg_ml_caution[row][2], mlg_ml_caution[row][3]);

  row = deny_lookup(m, n);
  if (row >= 0)
    return deny_row(row);
  if (chain_check(m, n, &c))
    return c;

  /* every component of the name: exec/shell entry points anywhere, special
   * attributes after the first hop */
  for (i = 0; i <= nlen;) {
    size_t j = i;
    slice part;
    while (j < nlen && name[j] != '.')
      j++;
    part.p = name + i;
    part.n = j - i;
    row = danger_name(part);
    if (row >= 0)
      return mkclass(MLG_IMPORT_DANGEROUS, mlg_ml_danger_names[row][1],
                     mlg_ml_danger_names[row][2]);
    if (i > 0 && is_dunder(part))
      return mkclass(MLG_IMPORT_DANGEROUS, "denylist:gadget", "walks special attributes");
    i = j + 1;
  }

  if (!memchr(name, '.', nlen)) {
    for (i = 0; i < mlg_ml_allow_name_prefix_count; i++) {
      const char *pre = mlg_ml_allow_name_prefix[i][1];
      if (!strcmp(mlg_ml_allow_name_prefix[i][0], module) &&
          !strncmp(name, pre, strlen(pre)))
        return mkclass(MLG_IMPORT_SAFE, mlg_ml_allow_name_prefix[i][2], "");
    }
    for (i = 0; i < mlg_ml_allow_module_prefix_count; i++) {
      const char *pre = mlg_ml_allow_module_prefix[i][0];
      size_t pl = strlen(pre);
      if (!strncmp(module, pre, pl) && (module[pl] == 0 || module[pl] == '.'))
        return mkclass(MLG_IMPORT_SAFE, mlg_ml_allow_module_prefix[i][1], "");
    }
  }
  return mkclass(MLG_IMPORT_UNKNOWN, "none", "");
}

const char *mlg_model_lists_version(void)
{
  return MLG_MODEL_LISTS_VERSION;
}
