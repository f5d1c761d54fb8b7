#include "policy.h"

#include <dirent.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "atlas.h"
#include "buf.h"
#include "embedded.h"
#include "glob.h"

#define MAX_POLICY_BYTES ((size_t)4 << 20)
#define MAX_DIR_DEPTH 16

static const char *const known_fields[] = {
  "id", "title", "description", "remediation", "gate", "gates", "severity",
  "confidence", "enforcement", "profile", "atlas", "aliases", "files", "references", "params",
  "check", "run", NULL};

static int push_policy(mlg_policy_set *set, mlg_policy **out)
{
  mlg_policy *items = realloc(set->items, (set->len + 1) * sizeof *items);
  if (!items)
    return MLG_ENOMEM;
  set->items = items;
  *out = &items[set->len++];
  memset(*out, 0, sizeof **out);
  return 0;
}

int mlg_policy_add_builtins(mlg_policy_set *set, mlg_err *err)
{
  unsigned i;
  for (i = 0; i < mlg_embedded_count; i++) {
    const mlg_embedded_file *f = &mlg_embedded_files[i];
    mlg_policy *p;
    if (strncmp(f->path, "policies/", 9) != 0)
      continue;
    if (push_policy(set, &p) != 0)
      return mlg_err_set(err, MLG_ENOMEM, "out of memory");
    p->path = strdup(f->path);
    p->builtin = 1;
    p->text = f->data;
    p->len = f->len;
    if (!p->path)
      return mlg_err_set(err, MLG_ENOMEM, "out of memory");
  }
  return 0;
}

int mlg_policy_add_file(mlg_policy_set *set, const char *path, mlg_err *err)
{
  FILE *f = fopen(path, "rb");
  mlg_buf b = MLG_BUF_INIT;
  mlg_policy *p;
  char chunk[8192];
  size_t n;

  if (!f)
    return mlg_err_set(err, MLG_EIO, "cannot read policy %s: %s", path, strerror(errno));
  while ((n = fread(chunk, 1, sizeof chunk, f)) > 0) {
    if (b.len + n > MAX_POLICY_BYTES) {
      fclose(f);
      mlg_buf_free(&b);
      return mlg_err_set(err, MLG_ELIMIT, "policy %s is larger than %zu bytes", path,
                         MAX_POLICY_BYTES);
    }
    if (mlg_buf_put(&b, chunk, n) != 0) {
      fclose(f);
      mlg_buf_free(&b);
      return mlg_err_set(err, MLG_ENOMEM, "out of memory");
    }
  }
  fclose(f);
  if (push_policy(set, &p) != 0) {
    mlg_buf_free(&b);
    return mlg_err_set(err, MLG_ENOMEM, "out of memory");
  }
  p->len = b.len;
  p->owned_text = mlg_buf_detach(&b);
  p->text = p->owned_text;
  p->path = strdup(path);
  if (!p->path || !p->owned_text)
    return mlg_err_set(err, MLG_ENOMEM, "out of memory");
  return 0;
}

static int cmp_str(const void *a, const void *b)
{
  return strcmp(*(char *const *)a, *(char *const *)b);
}

static int add_dir(mlg_policy_set *set, const char *dir, int depth, mlg_err *err)
{
  DIR *d;
  struct dirent *e;
  char **names = NULL;
  size_t n = 0, i;
  int rc = 0;

  if (depth > MAX_DIR_DEPTH)
    return mlg_err_set(err, MLG_ELIMIT, "policy directory %s is nested too deeply", dir);
  d = opendir(dir);
  if (!d)
    return mlg_err_set(err, MLG_EIO, "cannot read policy directory %s: %s", dir,
                       strerror(errno));
  while ((e = readdir(d)) != NULL) {
    char **grown;
    if (e->d_name[0] == '.')
      continue;
    grown = realloc(names, (n + 1) * sizeof *names);
    if (!grown || !(grown[n] = strdup(e->d_name))) {
      names = grown ? grown : names;
      rc = mlg_err_set(err, MLG_ENOMEM, "out of memory");
      goto done;
    }
    names = grown;
    n++;
  }
  if (n > 1)
    qsort(names, n, sizeof *names, cmp_str);
  for (i = 0; i < n && rc == 0; i++) {
    char path[4096];
    struct stat st;
    size_t len = strlen(names[i]);
    snprintf(path, sizeof path, "%s/%s", dir, names[i]);
    if (stat(path, &st) != 0)
      continue;
    if (S_ISDIR(st.st_mode)) {
      /* tests/ holds fixtures (which may well contain .lua files). */
      if (strcmp(names[i], "tests") != 0)
        rc = add_dir(set, path, depth + 1, err);
    } else if (S_ISREG(st.st_mode) && len > 4 && strcmp(names[i] + len - 4, ".lua") == 0) {
      rc = mlg_policy_add_file(set, path, err);
    }
  }
done:
  closedir(d);
  for (i = 0; i < n; i++)
    free(names[i]);
  free(names);
  return rc;
}

int mlg_policy_add_dir(mlg_policy_set *set, const char *dir, mlg_err *err)
{
  struct stat st;
  if (stat(dir, &st) != 0)
    return mlg_err_set(err, MLG_EIO, "cannot read policy directory %s: %s", dir,
                       strerror(errno));
  if (!S_ISDIR(st.st_mode))
    return mlg_policy_add_file(set, dir, err);
  return add_dir(set, dir, 0, err);
}

void mlg_policy_set_free(mlg_policy_set *set)
{
  size_t i;
  if (!set)
    return;
  for (i = 0; i < set->len; i++) {
    mlg_policy *p = &set->items[i];
    free(p->path);
    free(p->owned_text);
    free(p->atlas.items);
    free(p->aliases.items);
    free(p->files.items);
    free(p->references.items);
    mlg_doc_free(p->doc);
  }
  free(set->items);
  set->items = NULL;
  set->len = 0;
}

mlg_policy *mlg_policy_find(const mlg_policy_set *set, const char *id)
{
  size_t i;
  for (i = 0; i < set->len; i++)
    if (set->items[i].loaded && strcmp(set->items[i].id, id) == 0)
      return &set->items[i];
  return NULL;
}

mlg_enforcement mlg_policy_enforcement(const mlg_policy *p, const mlg_config *cfg)
{
  const mlg_policy_cfg *pc = cfg ? mlg_config_policy(cfg, p->id) : NULL;
  if (pc && pc->enforcement != MLG_ENF_UNSET)
    return pc->enforcement;
  return p->enforcement;
}

/* --- metadata validation ------------------------------------------------- */

static int bad(mlg_err *err, const mlg_policy *p, const char *fmt, const char *a, const char *b)
{
  char msg[600];
  snprintf(msg, sizeof msg, fmt, a, b ? b : "");
  return mlg_err_set(err, MLG_EPOLICY, "%s: %s", p->path, msg);
}

static const char *str_field(const mlg_node *meta, const char *name)
{
  const mlg_node *n = mlg_map_get(meta, name);
  return n && n->type == MLG_STR ? n->u.str.ptr : NULL;
}

/* A list of strings (a single string is accepted as a list of one). The
 * strings point into the metadata document, which the policy keeps. */
static int str_list(mlg_globs *out, const mlg_node *n, const mlg_policy *p, const char *field,
                    mlg_err *err)
{
  size_t i;
  out->items = NULL;
  out->len = 0;
  if (!n || n->type == MLG_NULL)
    return 0;
  if (n->type == MLG_STR) {
    out->items = malloc(sizeof *out->items);
    if (!out->items)
      return mlg_err_set(err, MLG_ENOMEM, "out of memory");
    out->items[0] = (char *)n->u.str.ptr;
    out->len = 1;
    return 0;
  }
  if (n->type == MLG_MAP && n->u.map.len == 0)
    return 0; /* {} from Lua is an empty list */
  if (n->type != MLG_SEQ)
    return bad(err, p, "field '%s' must be a list of strings", field, NULL);
  out->items = calloc(n->u.seq.len ? n->u.seq.len : 1, sizeof *out->items);
  if (!out->items)
    return mlg_err_set(err, MLG_ENOMEM, "out of memory");
  for (i = 0; i < n->u.seq.len; i++) {
    const mlg_node *it = n->u.seq.items[i];
    if (it->type != MLG_STR || it->u.str.len == 0)
      return bad(err, p, "field '%s' must be a list of non-empty strings", field, NULL);
    out->items[out->len++] = (char *)it->u.str.ptr;
  }
  return 0;
}

static int valid_id(const char *id)
{
  const char *s;
  int segs = 1, seglen = 0;
  for (s = id; *s; s++) {
    if (*s == '/') {
      if (seglen == 0)
        return 0;
      segs++;
      seglen = 0;
      continue;
    }
    if (!((*s >= 'a' && *s <= 'z') || (*s >= '0' && *s <= '9') ||
          (seglen > 0 && (*s == '-' || *s == '_' || *s == '.'))))
      return 0;
    seglen++;
  }
  return segs >= 2 && seglen > 0 && s - id <= 128;
}

/* The file must be named after the id: ".../model/pickle-x.lua" for
 * "model/pickle-x", so ids are unique by construction and findable. */
static int id_matches_path(const char *id, const char *path)
{
  size_t il = strlen(id), pl = strlen(path);
  if (pl < il + 4 || strcmp(path + pl - 4, ".lua") != 0)
    return 0;
  if (strncmp(path + pl - 4 - il, id, il) != 0)
    return 0;
  return pl == il + 4 || path[pl - 5 - il] == '/';
}

int mlg_policy_set_meta(mlg_policy *p, const mlg_node *meta, mlg_err *err)
{
  const mlg_node *fields = mlg_map_get(meta, "fields");
  const mlg_node *fns = mlg_map_get(meta, "functions");
  const mlg_node *n;
  const char *s;
  size_t i;
  int rc, v;

  p->loaded = 0;
  if (!fields || fields->type != MLG_MAP)
    return bad(err, p, "the file must return mlgate.policy{...}", NULL, NULL);
  for (i = 0; i < fields->u.map.len; i++) {
    const char *k = fields->u.map.pairs[i].key->u.str.ptr;
    int j, ok = 0;
    for (j = 0; known_fields[j] && !ok; j++)
      ok = strcmp(k, known_fields[j]) == 0;
    if (!ok)
      return bad(err, p, "unknown field '%s' (fields are id, title, description, remediation, "
                         "gate or gates, severity, confidence, enforcement, atlas, aliases, "
                         "files, references, params, check, run)", k, NULL);
  }
  for (i = 0; fns && fns->type == MLG_SEQ && i < fns->u.seq.len; i++) {
    const char *f;
    /* The record comes from a child: trust nothing about its shape. */
    if (fns->u.seq.items[i]->type != MLG_STR)
      return bad(err, p, "malformed metadata record", NULL, NULL);
    f = fns->u.seq.items[i]->u.str.ptr;
    if (strcmp(f, "check") == 0)
      p->has_check = 1;
    else if (strcmp(f, "run") == 0)
      p->has_run = 1;
    else
      return bad(err, p, "unknown field '%s' (a policy's functions are check and run)", f, NULL);
  }

  s = str_field(fields, "id");
  if (!s)
    return bad(err, p, "field 'id' is required (\"<gate>/<name>\", matching the file name)",
               NULL, NULL);
  if (!valid_id(s))
    return bad(err, p, "field 'id' must be lower-case segments separated by '/', like "
                       "\"model/pickle-unsafe-import\" (got '%s')", s, NULL);
  if (!id_matches_path(s, p->path))
    return bad(err, p, "field 'id' is '%s' but the file must then be named '%s.lua'", s, s);
  p->id = s;

  p->title = str_field(fields, "title");
  if (!p->title || !*p->title)
    return bad(err, p, "field 'title' is required (one line saying what the policy enforces)",
               NULL, NULL);
  if (strchr(p->title, '\n') || strlen(p->title) > 200)
    return bad(err, p, "field 'title' must be one line of at most 200 characters", NULL, NULL);
  n = mlg_map_get(fields, "description");
  if (n && n->type != MLG_STR)
    return bad(err, p, "field 'description' must be a string", NULL, NULL);
  p->description = n ? n->u.str.ptr : NULL;
  n = mlg_map_get(fields, "remediation");
  if (n && n->type != MLG_STR)
    return bad(err, p, "field 'remediation' must be a string", NULL, NULL);
  p->remediation = n ? n->u.str.ptr : NULL;

  /* gate = "x" or gates = {"x", "y"} */
  {
    const mlg_node *g = mlg_map_get(fields, "gate"), *gs = mlg_map_get(fields, "gates");
    mlg_globs names;
    if (g && gs)
      return bad(err, p, "give either 'gate' or 'gates', not both", NULL, NULL);
    if (!g && !gs)
      return bad(err, p, "field 'gate' is required (one of %s)", mlg_gate_list(), NULL);
    if (g && g->type != MLG_STR)
      return bad(err, p, "field 'gate' must be a string (one of %s)", mlg_gate_list(), NULL);
    if ((rc = str_list(&names, g ? g : gs, p, g ? "gate" : "gates", err)) != 0) {
      free(names.items);
      return rc;
    }
    p->gates = 0;
    for (i = 0; i < names.len; i++) {
      v = mlg_gate_parse(names.items[i]);
      if (v < 0) {
        rc = bad(err, p, "unknown gate '%s' (gates are %s)", names.items[i], mlg_gate_list());
        free(names.items);
        return rc;
      }
      p->gates |= 1u << v;
    }
    free(names.items);
    if (!p->gates)
      return bad(err, p, "field 'gates' must name at least one gate", NULL, NULL);
  }

  s = str_field(fields, "severity");
  if (!s)
    return bad(err, p, "field 'severity' is required: one of info, low, medium, high, critical",
               NULL, NULL);
  if ((v = mlg_severity_parse(s)) < 0)
    return bad(err, p, "field 'severity' must be one of info, low, medium, high, critical "
                       "(got '%s')", s, NULL);
  p->severity = (mlg_severity)v;
  p->confidence = MLG_CONF_HIGH;
  if ((n = mlg_map_get(fields, "confidence")) != NULL) {
    if (n->type != MLG_STR || (v = mlg_confidence_parse(n->u.str.ptr)) < 0)
      return bad(err, p, "field 'confidence' must be one of low, medium, high", NULL, NULL);
    p->confidence = (mlg_confidence)v;
  }
  p->profile = MLG_PROFILE_REGULAR;
  if ((n = mlg_map_get(fields, "profile")) != NULL) {
    if (n->type != MLG_STR || (v = mlg_profile_parse(n->u.str.ptr)) < 0)
      return bad(err, p, "field 'profile' must be one of regular, pedantic, auditor", NULL,
                 NULL);
    p->profile = (mlg_profile)v;
  }
  p->enforcement = MLG_ENF_SOFT;
  if ((n = mlg_map_get(fields, "enforcement")) != NULL) {
    if (n->type != MLG_STR || (v = mlg_enforcement_parse(n->u.str.ptr)) < 0)
      return bad(err, p, "field 'enforcement' must be one of advisory, soft, hard", NULL, NULL);
    p->enforcement = (mlg_enforcement)v;
  }

  if ((rc = str_list(&p->atlas, mlg_map_get(fields, "atlas"), p, "atlas", err)) != 0)
    return rc;
  if (p->atlas.len == 0)
    return bad(err, p, "field 'atlas' must list the MITRE ATLAS techniques and mitigations "
                       "the policy addresses, like {\"AML.T0011.000\", \"AML.M0016\"}",
               NULL, NULL);
  for (i = 0; i < p->atlas.len; i++)
    if (!mlg_atlas_find(p->atlas.items[i]))
      return bad(err, p, "field 'atlas': '%s' is not a MITRE ATLAS %s id", p->atlas.items[i],
                 mlg_atlas_version());
  if ((rc = str_list(&p->aliases, mlg_map_get(fields, "aliases"), p, "aliases", err)) != 0)
    return rc;
  for (i = 0; i < p->aliases.len; i++) {
    const char *c = strchr(p->aliases.items[i], ':');
    if (!c || c == p->aliases.items[i] || !c[1])
      return bad(err, p, "field 'aliases': '%s' must be \"<tool>:<id>\", like "
                         "\"picklescan:dangerous\"", p->aliases.items[i], NULL);
  }
  if ((rc = str_list(&p->references, mlg_map_get(fields, "references"), p, "references",
                     err)) != 0)
    return rc;
  if ((rc = str_list(&p->files, mlg_map_get(fields, "files"), p, "files", err)) != 0)
    return rc;
  for (i = 0; i < p->files.len; i++) {
    mlg_err ge;
    if (mlg_glob_check(p->files.items[i], &ge) != 0)
      return bad(err, p, "field 'files': %s", ge.msg, NULL);
  }
  if (!p->has_check && !p->has_run)
    return bad(err, p, "a policy needs a 'check' function (called per file) or a 'run' "
                       "function (called once per gate)", NULL, NULL);
  if (p->has_check && p->files.len == 0)
    return bad(err, p, "field 'files' is required with 'check': the globs of the files it "
                       "checks, like {\"**/*.py\"}", NULL, NULL);
  if (!p->has_check && p->files.len)
    return bad(err, p, "field 'files' needs a 'check' function to receive the files",
               NULL, NULL);

  n = mlg_map_get(fields, "params");
  if (n && !(n->type == MLG_MAP || (n->type == MLG_SEQ && n->u.seq.len == 0)))
    return bad(err, p, "field 'params' must be a table of name = default value", NULL, NULL);
  p->params = n && n->type == MLG_MAP ? n : NULL;
  p->loaded = 1;
  return 0;
}
