/*
 * GitLab CI loader (model in gitlab.h): the files of one configuration,
 * the helpers every GitLab builder shares (each value is built against the
 * text of the file it came from), the top level, jobs and their steps.
 */
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "gitlab.h"
#include "parse.h"

/* --- files and values ------------------------------------------------------ */

size_t mlg_gl_file_of(mlg_gl *g, const mlg_node *n)
{
  void *v = n && g->nfiles > 1 ? mlg_pl_memo_get(&g->owner, n) : NULL;
  return v ? (size_t)(uintptr_t)v - 1 : 0;
}

static void use_file(mlg_gl *g, size_t fi)
{
  mlg_gl_file *f = &g->files[fi];
  if (g->cur == fi)
    return;
  g->cur = fi;
  g->pl.text = f->text;
  g->pl.len = f->len;
  g->pl.name = f->path;
  g->pl.lf_only = f->lf_only;
}

void mlg_gl_use(mlg_gl *g, const mlg_node *n)
{
  use_file(g, mlg_gl_file_of(g, n));
}

int mlg_gl_fail(mlg_gl *g, const mlg_node *n, const char *fmt, ...)
{
  char msg[768];
  va_list ap;

  if (g->pl.rc)
    return g->pl.rc;
  va_start(ap, fmt);
  vsnprintf(msg, sizeof msg, fmt, ap);
  va_end(ap);
  mlg_gl_use(g, n);
  return mlg_pl_fail(&g->pl, n, "%s", msg);
}

void mlg_gl_set_path(mlg_gl *g, mlg_node *obj, const mlg_node *src)
{
  size_t fi = mlg_gl_file_of(g, src);
  if (fi)
    mlg_pl_set(&g->pl, obj, MLG_A_PATH, g->files[fi].pathnode);
}

void mlg_gl_set_pos(mlg_gl *g, mlg_node *obj, const mlg_node *src)
{
  mlg_pl_set_pos(&g->pl, obj, src);
  mlg_gl_set_path(g, obj, src);
}

void mlg_gl_replace(mlg_gl *g, mlg_node *obj, mlg_pl_atom key, mlg_node *v)
{
  mlg_node *k = mlg_pl_atom_node(&g->pl, key);
  size_t i;
  if (!obj || !v || !k)
    return;
  for (i = 0; i < obj->u.map.len; i++)
    if (obj->u.map.pairs[i].key == k) {
      obj->u.map.pairs[i].val = v;
      return;
    }
  mlg_pl_set(&g->pl, obj, key, v);
}

const mlg_pair *mlg_gl_find(const mlg_node *map, const char *key)
{
  return map && map->type == MLG_MAP ? mlg_map_find(map, key) : NULL;
}

const mlg_node *mlg_gl_get(const mlg_node *map, const char *key)
{
  const mlg_pair *p = mlg_gl_find(map, key);
  return p ? p->val : NULL;
}

mlg_node *mlg_gl_val(mlg_gl *g, const mlg_node *key, const mlg_node *v)
{
  mlg_node *o;
  if (!mlg_pl_is_scalar(v))
    return NULL;
  mlg_gl_use(g, v);
  if ((o = mlg_pl_val(&g->pl, key, v)))
    mlg_gl_set_path(g, o, v);
  return o;
}

static void vals_into(mlg_gl *g, mlg_node *seq, const mlg_node *key, const mlg_node *v,
                      int depth)
{
  size_t i;
  if (!v || g->pl.rc || mlg_pl_tick(&g->pl, v))
    return;
  if (v->type == MLG_SEQ) {
    if (depth < 10)
      for (i = 0; i < v->u.seq.len && !g->pl.rc; i++)
        vals_into(g, seq, key, v->u.seq.items[i], depth + 1);
  } else if (v->type != MLG_MAP && v->type != MLG_NULL) {
    mlg_pl_push(&g->pl, seq, mlg_gl_val(g, key, v));
  }
}

mlg_node *mlg_gl_vals(mlg_gl *g, const mlg_node *key, const mlg_node *v)
{
  mlg_node *seq = mlg_pl_seq(&g->pl, v && v->type == MLG_SEQ ? v->u.seq.len : 1);
  vals_into(g, seq, key, v, 0);
  return g->pl.rc ? NULL : seq;
}

mlg_node *mlg_gl_strs(mlg_gl *g, const mlg_node *v)
{
  return v ? mlg_pl_strs(&g->pl, v) : NULL;
}

/* One variables entry: `NAME: text` or `NAME: {value, description, expand,
 * options}`. */
static mlg_node *kv(mlg_gl *g, const mlg_pair *p)
{
  mlg_pl *pl = &g->pl;
  mlg_node *o = mlg_pl_map(pl, 9);
  const mlg_node *v = p->val;
  const mlg_pair *q;

  mlg_pl_set(pl, o, MLG_A_NAME, mlg_pl_src_str(pl, p->key));
  if (v && v->type == MLG_MAP) {
    q = mlg_gl_find(v, "value");
    mlg_pl_set(pl, o, MLG_A_VALUE, q ? mlg_gl_val(g, q->key, q->val) : NULL);
    mlg_pl_set_atom(pl, o, MLG_A_VTYPE, q ? mlg_pl_vtype(q->val) : MLG_A_V_MAP);
    if ((q = mlg_gl_find(v, "description")))
      mlg_pl_set(pl, o, MLG_A_DESCRIPTION, mlg_gl_val(g, q->key, q->val));
    if ((q = mlg_gl_find(v, "expand")))
      mlg_pl_set(pl, o, MLG_A_G_EXPAND, mlg_gl_val(g, q->key, q->val));
    if ((q = mlg_gl_find(v, "options")))
      mlg_pl_set(pl, o, MLG_A_OPTIONS, mlg_gl_vals(g, q->key, q->val));
  } else {
    mlg_pl_set(pl, o, MLG_A_VALUE, mlg_gl_val(g, p->key, v));
    mlg_pl_set_atom(pl, o, MLG_A_VTYPE, mlg_pl_vtype(v));
  }
  mlg_gl_set_pos(g, o, p->key);
  return o;
}

mlg_node *mlg_gl_kvs(mlg_gl *g, const mlg_node *v)
{
  mlg_node *seq;
  size_t i;
  if (!v || v->type != MLG_MAP)
    return mlg_pl_seq(&g->pl, 0);
  if (!(seq = mlg_pl_seq(&g->pl, v->u.map.len)))
    return NULL;
  for (i = 0; i < v->u.map.len && !g->pl.rc; i++) {
    if (mlg_pl_tick(&g->pl, v->u.map.pairs[i].val))
      break;
    mlg_pl_push(&g->pl, seq, kv(g, &v->u.map.pairs[i]));
  }
  return g->pl.rc ? NULL : seq;
}

/* --- files ------------------------------------------------------------------ */

mlg_gl_file *mlg_gl_add_file(mlg_gl *g, const char *path, char *text, size_t len)
{
  mlg_gl_file *f;
  if (g->nfiles == g->capfiles) {
    size_t ncap = g->capfiles ? g->capfiles * 2 : 8;
    mlg_gl_file *a = realloc(g->files, ncap * sizeof *a);
    if (!a) {
      if (g->nfiles)
        free(text);
      mlg_pl_oom(&g->pl);
      return NULL;
    }
    g->files = a;
    g->capfiles = ncap;
  }
  f = &g->files[g->nfiles];
  memset(f, 0, sizeof *f);
  f->text = text;
  f->len = len;
  if (!(f->path = strdup(path))) {
    if (g->nfiles)
      free(text);
    mlg_pl_oom(&g->pl);
    return NULL;
  }
  f->lf_only = !memchr(text, '\r', len) && !memmem(text, len, "\xC2\x85", 2) &&
               !memmem(text, len, "\xE2\x80\xA8", 3) && !memmem(text, len, "\xE2\x80\xA9", 3);
  if (!(f->pathnode = mlg_pl_str(&g->pl, path, strlen(path)))) {
    free(f->path);
    if (g->nfiles)
      free(text);
    return NULL;
  }
  g->nfiles++;
  return f;
}

/* Marks every node of an included file's tree as its own. */
static int own(mlg_gl *g, const mlg_node *n, size_t fi)
{
  size_t i;
  if (!n || mlg_pl_memo_get(&g->owner, n))
    return 0;
  if (mlg_pl_tick(&g->pl, n))
    return g->pl.rc;
  if (mlg_pl_memo_put(&g->owner, n, (void *)(uintptr_t)(fi + 1)))
    return mlg_pl_oom(&g->pl);
  if (n->type == MLG_SEQ) {
    for (i = 0; i < n->u.seq.len; i++)
      if (own(g, n->u.seq.items[i], fi))
        return g->pl.rc;
  } else if (n->type == MLG_MAP) {
    for (i = 0; i < n->u.map.len; i++)
      if (own(g, n->u.map.pairs[i].key, fi) || own(g, n->u.map.pairs[i].val, fi))
        return g->pl.rc;
  }
  return 0;
}

/* A header document: a mapping whose only key is `spec`. */
static int is_header(const mlg_node *n)
{
  return n && n->type == MLG_MAP && n->u.map.len == 1 &&
         mlg_pl_is_str(n->u.map.pairs[0].key, "spec");
}

/* Comments of a file into g->comments (with `path` for included files). */
static int comments(mlg_gl *g, mlg_gl_file *f, size_t fi)
{
  mlg_pl *pl = &g->pl;
  mlg_pl_comment *saved = pl->comments;
  size_t nsaved = pl->ncomments, i;
  mlg_node *seq = pl->comments_seq, *roots;

  if (!(roots = mlg_node_seq(f->doc)))
    return mlg_pl_oom(pl);
  for (i = 0; i < f->doc->nroots; i++)
    if (mlg_seq_push(f->doc, roots, f->doc->roots[i]))
      return mlg_pl_oom(pl);
  use_file(g, fi);
  if (fi) {
    pl->comments = NULL;
    pl->ncomments = 0;
  }
  if (mlg_pl_scan_comments(pl, roots) == 0 && fi) {
    for (i = 0; i < pl->comments_seq->u.seq.len; i++) {
      mlg_node *c = pl->comments_seq->u.seq.items[i];
      mlg_pl_set(pl, c, MLG_A_PATH, f->pathnode);
      mlg_pl_push(pl, g->comments, c);
    }
  } else if (!fi) {
    g->comments = pl->comments_seq;
  }
  if (fi) {
    free(pl->comments);
    pl->comments = saved;
    pl->ncomments = nsaved;
    pl->comments_seq = seq;
  }
  return pl->rc;
}

int mlg_gl_parse(mlg_gl *g, mlg_gl_file *f)
{
  mlg_parse_opts o;
  size_t fi = (size_t)(f - g->files);
  mlg_node *first;
  int rc;

  memset(&o, 0, sizeof o);
  o.all_documents = 1;
  o.merge_keys = 1;
  if ((rc = mlg_yaml_parse(&f->doc, f->text, f->len, f->path, &o, g->err)) != 0)
    return g->pl.rc = rc;
  first = f->doc->nroots ? f->doc->roots[0] : NULL;
  if (is_header(first) && f->doc->nroots > 1) {
    f->spec_key = first->u.map.pairs[0].key;
    f->spec = first->u.map.pairs[0].val;
    f->root = f->doc->roots[1];
  } else {
    f->root = first;
  }
  if (fi && (own(g, first, fi) || (f->root != first && own(g, f->root, fi))))
    return g->pl.rc;
  if (comments(g, f, fi))
    return g->pl.rc;
  if (!f->root || f->root->type == MLG_NULL) {
    use_file(g, fi);
    return mlg_pl_fail(&g->pl, NULL, fi ? "included file is empty" :
                       "empty configuration: no jobs here");
  }
  if (f->root->type != MLG_MAP)
    return mlg_gl_fail(g, f->root, "the configuration must be a mapping, not %s",
                       mlg_node_typename(f->root));
  return 0;
}

/* --- keys ------------------------------------------------------------------- */

static const char *const job_keys[] = {
    "after_script", "allow_failure", "artifacts", "before_script", "cache", "coverage",
    "dast_configuration", "dependencies", "environment", "except", "extends", "hooks",
    "id_tokens", "identity", "image", "inherit", "interruptible", "manual_confirmation",
    "needs", "only", "pages", "parallel", "publish", "release", "resource_group", "retry",
    "rules", "run", "script", "secrets", "services", "stage", "start_in", "tags", "timeout",
    "trigger", "variables", "when"};

static const char *const default_keys[] = {
    "after_script", "artifacts", "before_script", "cache", "hooks", "id_tokens", "identity",
    "image", "interruptible", "retry", "services", "tags", "timeout"};

/* Keywords `default:` hands to jobs (GitLab's inheritable set). */
static const char *const inheritable[] = {
    "after_script", "artifacts", "before_script", "cache", "hooks", "id_tokens",
    "image", "interruptible", "retry", "services", "tags", "timeout"};

/* Deprecated top-level defaults. */
static const char *const legacy[] = {"image", "services", "before_script", "after_script",
                                     "cache"};

static const char *const reserved[] = {"image", "services", "stages", "types",
                                       "before_script", "after_script", "variables",
                                       "cache", "include", "workflow", "default"};

static int in_list(const mlg_node *k, const char *const *list, size_t n)
{
  size_t i;
  for (i = 0; i < n; i++)
    if (mlg_pl_is_str(k, list[i]))
      return 1;
  return 0;
}

#define IN(k, list) in_list(k, list, sizeof list / sizeof list[0])

static int check_keys(mlg_gl *g, const mlg_node *map, const char *const *keys, size_t n,
                      const char *what)
{
  char acc[1024];
  size_t i, o = 0;

  for (i = 0; i < map->u.map.len; i++) {
    const mlg_node *k = map->u.map.pairs[i].key;
    if (in_list(k, keys, n))
      continue;
    for (size_t j = 0; j < n && o + strlen(keys[j]) + 3 < sizeof acc; j++)
      o += (size_t)snprintf(acc + o, sizeof acc - o, "%s%s", j ? ", " : "", keys[j]);
    return mlg_gl_fail(g, k, "%s config contains unknown keys: %.100s (accepted: %s)", what,
                       k->type == MLG_STR ? k->u.str.ptr : "?", acc);
  }
  return 0;
}

/* --- jobs ------------------------------------------------------------------- */

typedef struct job_ctx {
  const mlg_node *key, *job; /* the resolved job */
  mlg_node *eff;             /* job + inherited default keywords */
  mlg_node *id;
  int hidden;
} job_ctx;

static int is_hidden(const mlg_node *k)
{
  return k->type == MLG_STR && k->u.str.len && k->u.str.ptr[0] == '.';
}

/* inherit: default/variables: true (all), false (none) or a list. Each
 * list item looked at counts as a visit, so lists times globals stay
 * bounded. */
static int inherits(mlg_gl *g, const mlg_node *job, const char *what, const char *name)
{
  const mlg_node *v = mlg_gl_get(mlg_gl_get(job, "inherit"), what);
  size_t i;
  if (!v)
    return 1;
  if (v->type == MLG_BOOL)
    return v->u.boolean;
  if (v->type == MLG_SEQ) {
    for (i = 0; i < v->u.seq.len && !mlg_pl_tick(&g->pl, v->u.seq.items[i]); i++)
      if (mlg_pl_is_str(v->u.seq.items[i], name))
        return 1;
    return 0;
  }
  return 1;
}

/* The job with the default keywords it inherits appended. */
static mlg_node *effective(mlg_gl *g, const mlg_node *job, const mlg_node *dflt)
{
  mlg_node *eff = mlg_gl_without(g, job, NULL);
  size_t i;

  /* Trigger jobs run nothing on a runner: no image, no scripts. */
  if (!eff || !dflt || mlg_gl_find(job, "trigger"))
    return eff;
  for (i = 0; i < dflt->u.map.len; i++) {
    const mlg_pair *p = &dflt->u.map.pairs[i];
    if (!IN(p->key, inheritable) || mlg_gl_find(job, p->key->u.str.ptr) ||
        !inherits(g, job, "default", p->key->u.str.ptr))
      continue;
    if (mlg_map_put(g->work, eff, p->key, p->val)) {
      mlg_pl_oom(&g->pl);
      return NULL;
    }
  }
  return eff;
}

static mlg_pl_atom section_atom(const mlg_node *k)
{
  if (mlg_pl_is_str(k, "before_script"))
    return MLG_A_G_BEFORE_SCRIPT;
  if (mlg_pl_is_str(k, "after_script"))
    return MLG_A_G_AFTER_SCRIPT;
  return MLG_A_G_SCRIPT;
}

static int script_ok(const mlg_node *v, int depth)
{
  size_t i;
  if (v->type == MLG_MAP || depth > 10)
    return 0;
  if (v->type == MLG_SEQ)
    for (i = 0; i < v->u.seq.len; i++)
      if (!script_ok(v->u.seq.items[i], depth + 1))
        return 0;
  return 1;
}

static void steps_of(mlg_gl *g, job_ctx *jc, mlg_node *steps, const mlg_node *key,
                     const mlg_node *v, size_t *idx, int depth)
{
  mlg_pl *pl = &g->pl;
  size_t i, mark;

  if (pl->rc || !v || mlg_pl_tick(pl, v))
    return;
  if (v->type == MLG_SEQ) {
    for (i = 0; i < v->u.seq.len && !pl->rc; i++)
      steps_of(g, jc, steps, key, v->u.seq.items[i], idx, depth + 1);
    return;
  }
  if (v->type == MLG_NULL || v->type == MLG_MAP)
    return;
  {
    mlg_node *s = mlg_pl_map(pl, 10), *run = mlg_gl_val(g, key, v);
    size_t fi = mlg_gl_file_of(g, v);
    mark = mlg_pl_route_index(pl, (*idx)++);
    mlg_pl_set_int(pl, s, MLG_A_INDEX, (int64_t)(steps->u.seq.len + 1));
    if (run) {
      mlg_pl_set(pl, s, MLG_A_LINE, (mlg_node *)mlg_map_get(run, "line"));
      mlg_pl_set(pl, s, MLG_A_COL, (mlg_node *)mlg_map_get(run, "col"));
    }
    mlg_pl_set(pl, s, MLG_A_ROUTE, mlg_pl_route_node(pl));
    mlg_pl_set(pl, s, MLG_A_JOB, jc->id);
    mlg_pl_set(pl, s, MLG_A_PATH, g->files[fi].pathnode);
    mlg_pl_set(pl, s, MLG_A_RUN, run);
    mlg_pl_set_atom(pl, s, MLG_A_SHELL, MLG_A_G_SH);
    mlg_pl_set_atom(pl, s, MLG_A_G_SECTION, section_atom(key));
    mlg_pl_push(pl, steps, s);
    if (!jc->hidden) {
      pl->step = steps->u.seq.len;
      mlg_gl_exprs(g, v, MLG_A_G_SCRIPT, NULL);
      pl->step = 0;
    }
    mlg_pl_route_pop(pl, mark);
  }
}

/* env: global variables (as inherited) then the job's own. */
static mlg_node *job_env(mlg_gl *g, const mlg_node *job, const mlg_node *globals)
{
  const mlg_node *own_vars = mlg_gl_get(job, "variables");
  mlg_node *seq = mlg_pl_seq(&g->pl, 0);
  mlg_mapkeys mk;
  size_t i;

  mlg_mapkeys_init(&mk);
  if (own_vars && own_vars->type == MLG_MAP && mlg_mapkeys_sync(&mk, own_vars))
    mlg_pl_oom(&g->pl);
  if (globals && globals->type == MLG_MAP)
    for (i = 0; i < globals->u.map.len && !g->pl.rc; i++) {
      const mlg_pair *p = &globals->u.map.pairs[i];
      if (p->key->type != MLG_STR || !inherits(g, job, "variables", p->key->u.str.ptr) ||
          (own_vars && own_vars->type == MLG_MAP &&
           mlg_mapkeys_find(&mk, own_vars, p->key->u.str.ptr, p->key->u.str.len) !=
               MLG_STRTAB_NONE))
        continue;
      if (mlg_pl_tick(&g->pl, p->val))
        break;
      mlg_pl_push(&g->pl, seq, kv(g, p));
    }
  if (own_vars && own_vars->type == MLG_MAP)
    for (i = 0; i < own_vars->u.map.len && !g->pl.rc; i++) {
      if (mlg_pl_tick(&g->pl, own_vars->u.map.pairs[i].val))
        break;
      mlg_pl_push(&g->pl, seq, kv(g, &own_vars->u.map.pairs[i]));
    }
  mlg_mapkeys_free(&mk);
  return g->pl.rc ? NULL : seq;
}

static mlg_pl_atom expr_field(const mlg_node *k)
{
  if (mlg_pl_is_str(k, "image") || mlg_pl_is_str(k, "services"))
    return MLG_A_F_IMAGE;
  if (mlg_pl_is_str(k, "variables"))
    return MLG_A_G_VARIABLES;
  if (mlg_pl_is_str(k, "rules") || mlg_pl_is_str(k, "only") || mlg_pl_is_str(k, "except"))
    return MLG_A_G_RULES;
  if (mlg_pl_is_str(k, "environment"))
    return MLG_A_F_ENVIRONMENT;
  if (mlg_pl_is_str(k, "name"))
    return MLG_A_F_NAME;
  if (mlg_pl_is_str(k, "inputs"))
    return MLG_A_F_INPUTS;
  return MLG_A_F_OTHER;
}

/* The $[[ ]] of a mapping's entries (variables: with the entry name). */
static void map_exprs(mlg_gl *g, const mlg_node *map)
{
  size_t i, mark, mk2, j;
  for (i = 0; i < map->u.map.len && !g->pl.rc; i++) {
    const mlg_pair *p = &map->u.map.pairs[i];
    if (mlg_pl_is_str(p->key, "script") || mlg_pl_is_str(p->key, "before_script") ||
        mlg_pl_is_str(p->key, "after_script"))
      continue; /* with their steps */
    mark = mlg_pl_route_key(&g->pl, p->key);
    if (mlg_pl_is_str(p->key, "variables") && p->val->type == MLG_MAP) {
      for (j = 0; j < p->val->u.map.len && !g->pl.rc; j++) {
        const mlg_pair *q = &p->val->u.map.pairs[j];
        mk2 = mlg_pl_route_key(&g->pl, q->key);
        mlg_gl_exprs(g, q->val, MLG_A_G_VARIABLES, q->key);
        mlg_pl_route_pop(&g->pl, mk2);
      }
    } else {
      mlg_gl_exprs(g, p->val, expr_field(p->key), NULL);
    }
    mlg_pl_route_pop(&g->pl, mark);
  }
}

static int check_job(mlg_gl *g, job_ctx *jc, const mlg_node *stages)
{
  const mlg_node *job = jc->job, *v;
  const char *name = jc->key->u.str.ptr;
  char what[160];
  static const char *const scripts[] = {"before_script", "script", "after_script"};
  size_t i;

  snprintf(what, sizeof what, "jobs:%.100s", name);
  if (check_keys(g, job, job_keys, sizeof job_keys / sizeof job_keys[0], what))
    return g->pl.rc;
  if (!mlg_gl_find(job, "script") && !mlg_gl_find(job, "trigger") && !mlg_gl_find(job, "run"))
    return mlg_gl_fail(g, jc->key,
                       "jobs:%.100s config should implement the script:, run:, or trigger: "
                       "keyword", name);
  for (i = 0; i < 3; i++) {
    const mlg_pair *p = mlg_gl_find(jc->eff, scripts[i]);
    if (p && !script_ok(p->val, 0))
      return mlg_gl_fail(g, p->val->span.line ? p->val : p->key,
                         "jobs:%.100s:%s config should be a string or a nested array of "
                         "strings up to 10 levels deep", name, scripts[i]);
  }
  if ((v = mlg_gl_get(job, "rules")) && mlg_gl_check_rules(g, v, what))
    return g->pl.rc;
  if (v && (mlg_gl_find(job, "only") || mlg_gl_find(job, "except")))
    return mlg_gl_fail(g, mlg_gl_find(job, "only") ? mlg_gl_find(job, "only")->key
                                                   : mlg_gl_find(job, "except")->key,
                       "%s config key may not be used with `rules`: %s", what,
                       mlg_gl_find(job, "only") ? "only" : "except");
  if ((v = mlg_gl_get(job, "variables")) && v->type != MLG_MAP && v->type != MLG_NULL)
    return mlg_gl_fail(g, v, "%s:variables config should be a hash of key value pairs", what);
  {
    const mlg_pair *sp = mlg_gl_find(job, "stage");
    const char *st = "test";
    size_t sl = 4;
    static const char *const dflt[] = {".pre", "build", "test", "deploy", ".post"};
    int found = 0;
    if (sp && sp->val->type == MLG_STR) {
      st = sp->val->u.str.ptr;
      sl = sp->val->u.str.len;
    } else if (sp) {
      return mlg_gl_fail(g, sp->val->span.line ? sp->val : sp->key,
                         "jobs:%.100s:stage config should be a string", name);
    }
    /* .pre/.post always exist; $[[ inputs ]] are substituted before GitLab
     * looks. */
    if ((sl == 4 && !memcmp(st, ".pre", 4)) || (sl == 5 && !memcmp(st, ".post", 5)) ||
        (sl >= 3 && memmem(st, sl, "$[[", 3)))
      found = 1;
    if (stages) {
      for (i = 0; i < stages->u.seq.len && !found; i++) {
        const mlg_node *it = stages->u.seq.items[i];
        found = it->type == MLG_STR &&
                ((it->u.str.len == sl && !memcmp(it->u.str.ptr, st, sl)) ||
                 (it->u.str.len >= 3 && memmem(it->u.str.ptr, it->u.str.len, "$[[", 3)));
      }
    } else {
      for (i = 0; i < 5 && !found; i++)
        found = strlen(dflt[i]) == sl && !memcmp(dflt[i], st, sl);
    }
    if (!found) {
      char avail[512];
      size_t o = 0;
      o += (size_t)snprintf(avail, sizeof avail, ".pre");
      if (stages) {
        for (i = 0; i < stages->u.seq.len && o + 80 < sizeof avail; i++)
          if (stages->u.seq.items[i]->type == MLG_STR)
            o += (size_t)snprintf(avail + o, sizeof avail - o, ", %.60s",
                                  stages->u.seq.items[i]->u.str.ptr);
      } else {
        o += (size_t)snprintf(avail + o, sizeof avail - o, ", build, test, deploy");
      }
      snprintf(avail + o, sizeof avail - o, ", .post");
      return mlg_gl_fail(g, sp ? sp->val : jc->key,
                         "%.100s job: chosen stage %.*s does not exist; available stages are %s",
                         name, (int)(sl > 100 ? 100 : sl), st, avail);
    }
  }
  return 0;
}

static mlg_node *job(mlg_gl *g, job_ctx *jc, const mlg_node *globals, const mlg_node *workflow)
{
  mlg_pl *pl = &g->pl;
  mlg_node *j = mlg_pl_map(pl, 32), *steps = mlg_pl_seq(pl, 0);
  static const char *const order[] = {"before_script", "script", "after_script"};
  size_t i, mark, idx;
  const mlg_node *eff = jc->eff;

  mlg_pl_set(pl, j, MLG_A_ID, jc->id);
  mlg_pl_set_pos(pl, j, jc->key);
  mlg_pl_set(pl, j, MLG_A_ROUTE, mlg_pl_route_node(pl));
  {
    mlg_pl_set(pl, j, MLG_A_PATH, g->files[mlg_gl_file_of(g, jc->key)].pathnode);
  }
  mlg_pl_set_bool(pl, j, MLG_A_G_HIDDEN, jc->hidden);
  pl->job = jc->id;
  for (i = 0; i < eff->u.map.len && !pl->rc; i++) {
    const mlg_node *k = eff->u.map.pairs[i].key, *v = eff->u.map.pairs[i].val;
    pl->at = k;
    mark = mlg_pl_route_key(pl, k);
    if (mlg_gl_common_key(g, j, k, v)) {
      /* image, services, cache, artifacts, tags, retry, ... */
    } else if (mlg_pl_is_str(k, "stage")) {
      mlg_pl_set(pl, j, MLG_A_G_STAGE, mlg_gl_val(g, k, v));
    } else if (mlg_pl_is_str(k, "extends")) {
      mlg_pl_set(pl, j, MLG_A_G_EXTENDS, mlg_gl_strs(g, v));
    } else if (mlg_pl_is_str(k, "when")) {
      mlg_pl_set(pl, j, MLG_A_G_WHEN, mlg_gl_val(g, k, v));
    } else if (mlg_pl_is_str(k, "allow_failure")) {
      if (v->type == MLG_MAP) {
        mlg_node *af = mlg_pl_map(pl, 4);
        const mlg_pair *p = mlg_gl_find(v, "exit_codes");
        mlg_gl_set_pos(g, af, k);
        mlg_pl_set(pl, af, MLG_A_G_EXIT_CODES, p ? mlg_gl_vals(g, p->key, p->val) : mlg_pl_seq(pl, 0));
        mlg_pl_set(pl, j, MLG_A_G_ALLOW_FAILURE, af);
      } else {
        mlg_pl_set(pl, j, MLG_A_G_ALLOW_FAILURE, mlg_gl_val(g, k, v));
      }
    } else if (mlg_pl_is_str(k, "rules")) {
      mlg_pl_set(pl, j, MLG_A_G_RULES, mlg_gl_rules(g, v));
    } else if (mlg_pl_is_str(k, "only")) {
      mlg_pl_set(pl, j, MLG_A_G_ONLY, mlg_gl_only(g, k, v));
    } else if (mlg_pl_is_str(k, "except")) {
      mlg_pl_set(pl, j, MLG_A_G_EXCEPT, mlg_gl_only(g, k, v));
    } else if (mlg_pl_is_str(k, "needs")) {
      mlg_pl_set(pl, j, MLG_A_NEEDS, mlg_gl_needs(g, v));
    } else if (mlg_pl_is_str(k, "dependencies")) {
      mlg_pl_set(pl, j, MLG_A_G_DEPENDENCIES, mlg_gl_vals(g, k, v));
    } else if (mlg_pl_is_str(k, "parallel")) {
      mlg_pl_set(pl, j, MLG_A_G_PARALLEL, mlg_gl_parallel(g, k, v));
    } else if (mlg_pl_is_str(k, "trigger")) {
      mlg_pl_set(pl, j, MLG_A_G_TRIGGER, mlg_gl_trigger(g, k, v));
    } else if (mlg_pl_is_str(k, "resource_group")) {
      mlg_pl_set(pl, j, MLG_A_G_RESOURCE_GROUP, mlg_gl_val(g, k, v));
    } else if (mlg_pl_is_str(k, "coverage")) {
      mlg_pl_set(pl, j, MLG_A_G_COVERAGE, mlg_gl_val(g, k, v));
    } else if (mlg_pl_is_str(k, "start_in")) {
      mlg_pl_set(pl, j, MLG_A_G_START_IN, mlg_gl_val(g, k, v));
    } else if (mlg_pl_is_str(k, "secrets")) {
      mlg_pl_set(pl, j, MLG_A_SECRETS, mlg_gl_kvs(g, v));
    } else if (mlg_pl_is_str(k, "release")) {
      mlg_pl_set(pl, j, MLG_A_G_RELEASE, mlg_pl_raw(pl, v));
    } else if (mlg_pl_is_str(k, "inherit")) {
      mlg_pl_set(pl, j, MLG_A_INHERIT, mlg_gl_inherit(g, k, v));
    } else if (mlg_pl_is_str(k, "environment")) {
      mlg_pl_set(pl, j, MLG_A_ENVIRONMENT, mlg_gl_environment(g, k, v));
    }
    mlg_pl_route_pop(pl, mark);
  }
  mlg_pl_set(pl, j, MLG_A_ENV, job_env(g, eff, jc->hidden ? NULL : globals));
  if (!jc->hidden)
    mlg_pl_set(pl, j, MLG_A_G_REACH, mlg_gl_reach(g, eff, workflow));
  for (i = 0, idx = 0; i < 3 && !pl->rc; i++) {
    const mlg_pair *p = mlg_gl_find(eff, order[i]);
    if (!p)
      continue;
    mark = mlg_pl_route_key(pl, p->key);
    idx = 0;
    steps_of(g, jc, steps, p->key, p->val, &idx, 0);
    mlg_pl_route_pop(pl, mark);
  }
  mlg_pl_set(pl, j, MLG_A_STEPS, steps);
  if (!jc->hidden)
    map_exprs(g, eff);
  pl->job = NULL;
  return pl->rc ? NULL : j;
}

/* --- the top level ---------------------------------------------------------- */

static mlg_node *default_obj(mlg_gl *g, const mlg_node *key, const mlg_node *v)
{
  mlg_node *d = mlg_pl_map(&g->pl, 16);
  size_t i;
  mlg_gl_set_pos(g, d, key);
  for (i = 0; i < v->u.map.len && !g->pl.rc; i++) {
    const mlg_node *k = v->u.map.pairs[i].key, *x = v->u.map.pairs[i].val;
    if (mlg_pl_is_str(k, "before_script"))
      mlg_pl_set(&g->pl, d, MLG_A_G_BEFORE_SCRIPT, mlg_gl_vals(g, k, x));
    else if (mlg_pl_is_str(k, "after_script"))
      mlg_pl_set(&g->pl, d, MLG_A_G_AFTER_SCRIPT, mlg_gl_vals(g, k, x));
    else
      mlg_gl_common_key(g, d, k, x);
  }
  return d;
}

static mlg_node *workflow_obj(mlg_gl *g, const mlg_node *key, const mlg_node *v)
{
  mlg_node *w = mlg_pl_map(&g->pl, 6);
  const mlg_pair *p;
  mlg_gl_set_pos(g, w, key);
  if ((p = mlg_gl_find(v, "name")))
    mlg_pl_set(&g->pl, w, MLG_A_NAME, mlg_gl_val(g, p->key, p->val));
  p = mlg_gl_find(v, "rules");
  mlg_pl_set(&g->pl, w, MLG_A_G_RULES, p ? mlg_gl_rules(g, p->val) : mlg_pl_seq(&g->pl, 0));
  return w;
}

/* The deprecated top-level defaults become `default:` keys (GitLab refuses
 * one keyword in both places). */
static int legacy_defaults(mlg_gl *g, mlg_node **dflt_key, mlg_node **dflt)
{
  const mlg_node *cfg = g->config;
  mlg_node *d = NULL;
  size_t i;

  for (i = 0; i < cfg->u.map.len; i++) {
    const mlg_pair *p = &cfg->u.map.pairs[i];
    if (!IN(p->key, legacy))
      continue;
    if (mlg_gl_find(*dflt, p->key->u.str.ptr))
      return mlg_gl_fail(g, p->key, "%s is defined in top-level and `default:` entry",
                         p->key->u.str.ptr);
    if (!d && !(d = *dflt ? mlg_gl_without(g, *dflt, NULL) : mlg_node_map(g->work)))
      return mlg_pl_oom(&g->pl);
    if (mlg_map_put(g->work, d, p->key, p->val))
      return mlg_pl_oom(&g->pl);
  }
  if (d) {
    *dflt = d;
    if (!*dflt_key) /* no `default:` key: the first legacy one */
      for (i = 0; i < d->u.map.len && !*dflt_key; i++)
        *dflt_key = d->u.map.pairs[i].key;
  }
  return 0;
}

static int build(mlg_gl *g, mlg_node *model)
{
  mlg_pl *pl = &g->pl;
  const mlg_node *cfg = g->config, *globals = mlg_gl_get(cfg, "variables");
  const mlg_node *workflow = mlg_gl_get(cfg, "workflow"), *stages = NULL;
  mlg_node *dflt = (mlg_node *)mlg_gl_get(cfg, "default"), *dflt_key = NULL;
  mlg_node *jobs = mlg_pl_seq(pl, cfg->u.map.len), *templates = mlg_pl_seq(pl, 0);
  size_t i, mark;

  if (dflt && dflt->type != MLG_MAP)
    return mlg_gl_fail(g, dflt, "default config should be a hash");
  if (dflt && check_keys(g, dflt, default_keys, sizeof default_keys / sizeof default_keys[0],
                         "default"))
    return pl->rc;
  if (dflt)
    dflt_key = mlg_gl_find(cfg, "default")->key;
  if (legacy_defaults(g, &dflt_key, &dflt))
    return pl->rc;
  if (workflow && workflow->type != MLG_MAP)
    return mlg_gl_fail(g, workflow, "workflow config should be a hash");
  if (workflow && mlg_gl_get(workflow, "rules") &&
      mlg_gl_check_rules(g, mlg_gl_get(workflow, "rules"), "workflow"))
    return pl->rc;
  if (globals && globals->type != MLG_MAP && globals->type != MLG_NULL)
    return mlg_gl_fail(g, globals, "variables config should be a hash of key value pairs");
  if ((stages = mlg_gl_get(cfg, "stages")) || (stages = mlg_gl_get(cfg, "types"))) {
    if (stages->type != MLG_SEQ)
      return mlg_gl_fail(g, stages, "stages config should be an array of strings");
  }
  for (i = 0; i < cfg->u.map.len && !pl->rc; i++) {
    const mlg_node *k = cfg->u.map.pairs[i].key, *v = cfg->u.map.pairs[i].val;
    mark = mlg_pl_route_key(pl, k);
    pl->at = k;
    if (mlg_pl_is_str(k, "stages") || mlg_pl_is_str(k, "types")) {
      mlg_pl_set(pl, model, MLG_A_G_STAGES, mlg_gl_vals(g, k, v));
      mlg_gl_exprs(g, v, MLG_A_F_OTHER, NULL);
    } else if (mlg_pl_is_str(k, "variables")) {
      mlg_pl_set(pl, model, MLG_A_G_VARIABLES, mlg_gl_kvs(g, v));
      if (v->type == MLG_MAP) {
        size_t j, mk2;
        for (j = 0; j < v->u.map.len && !pl->rc; j++) {
          mk2 = mlg_pl_route_key(pl, v->u.map.pairs[j].key);
          mlg_gl_exprs(g, v->u.map.pairs[j].val, MLG_A_G_VARIABLES, v->u.map.pairs[j].key);
          mlg_pl_route_pop(pl, mk2);
        }
      }
    } else if (mlg_pl_is_str(k, "workflow")) {
      mlg_pl_set(pl, model, MLG_A_G_WORKFLOW, workflow_obj(g, k, v));
      map_exprs(g, v);
    } else if (IN(k, reserved)) {
      /* default and the legacy defaults: reached through the jobs */
    } else if (k->type != MLG_STR) {
      mlg_gl_fail(g, k, "job names must be strings");
    } else {
      job_ctx jc;
      memset(&jc, 0, sizeof jc);
      jc.key = k;
      jc.job = v;
      jc.hidden = is_hidden(k);
      if (v->type != MLG_MAP) {
        if (!jc.hidden)
          mlg_gl_fail(g, v->span.line && v->type != MLG_NULL ? v : k,
                      "jobs:%.100s config should be a hash", k->u.str.ptr);
        mlg_pl_route_pop(pl, mark);
        continue;
      }
      mlg_pl_route_pop(pl, mark);
      mark = mlg_pl_route_cstr(pl, "jobs");
      mlg_pl_route_key(pl, k);
      jc.id = mlg_pl_src_str(pl, k);
      jc.eff = effective(g, v, jc.hidden ? NULL : dflt);
      if (!jc.eff || (!jc.hidden && check_job(g, &jc, stages)))
        break;
      mlg_pl_push(pl, jc.hidden ? templates : jobs, job(g, &jc, globals, workflow));
    }
    mlg_pl_route_pop(pl, mark);
  }
  if (dflt && !pl->rc)
    mlg_pl_set(pl, model, MLG_A_DEFAULT, default_obj(g, dflt_key, dflt));
  if (!mlg_gl_find(model, "stages"))
    mlg_pl_set(pl, model, MLG_A_G_STAGES, mlg_pl_seq(pl, 0));
  if (!mlg_gl_find(model, "variables"))
    mlg_pl_set(pl, model, MLG_A_G_VARIABLES, mlg_pl_seq(pl, 0));
  mlg_pl_set(pl, model, MLG_A_G_INCLUDES, g->includes);
  if (g->files[0].spec)
    mlg_pl_set(pl, model, MLG_A_G_SPEC, mlg_gl_spec(g, g->files[0].spec_key, g->files[0].spec));
  mlg_pl_set(pl, model, MLG_A_G_TEMPLATES, templates);
  mlg_pl_set(pl, model, MLG_A_JOBS, jobs);
  mlg_pl_set(pl, model, MLG_A_EXPRS, mlg_gl_exprs_seq(g));
  mlg_pl_set(pl, model, MLG_A_COMMENTS, g->comments);
  return pl->rc;
}

static void gl_free(mlg_gl *g)
{
  size_t i;
  for (i = 0; i < g->nfiles; i++) {
    if (i)
      free(g->files[i].text);
    free(g->files[i].path);
    mlg_doc_free(g->files[i].doc);
  }
  free(g->files);
  mlg_pl_memo_free(&g->owner);
  mlg_pl_memo_free(&g->refs);
  mlg_pl_memo_free(&g->aligns);
  mlg_mapkeys_free(&g->config_keys);
  mlg_doc_free(g->work);
  free(g->exprs);
}

int mlg_gitlab_load(mlg_doc **out, const char *text, size_t len, const char *name,
                    mlg_pipeline_reader rd, void *rd_ud, mlg_err *err)
{
  mlg_gl g;
  mlg_node *model, *merged = NULL;
  size_t limit, stack[MLG_GL_MAX_INCLUDE_DEPTH + 2];
  int rc;

  if (!out)
    return mlg_err_set(err, MLG_EINVAL, "mlg_gitlab_load: no output");
  *out = NULL;
  if (!text && len)
    return mlg_err_set(err, MLG_EINVAL, "mlg_gitlab_load: no input");
  text = text ? text : "";
  name = name ? name : "<input>";
  memset(&g, 0, sizeof g);
  g.err = err;
  g.rd = rd;
  g.rd_ud = rd_ud;
  mlg_mapkeys_init(&g.config_keys);
  limit = len > (SIZE_MAX - MLG_PL_DOC_FLOOR) / MLG_PL_DOC_FACTOR
              ? SIZE_MAX
              : len * MLG_PL_DOC_FACTOR + MLG_PL_DOC_FLOOR;
  if (mlg_pl_init(&g.pl, text, len, name, MLG_PK_GITLAB, limit, err)) {
    mlg_pl_fini(&g.pl);
    return MLG_ENOMEM;
  }
  if (!(g.work = mlg_doc_new(name))) {
    rc = mlg_pl_oom(&g.pl);
    goto done;
  }
  g.work->limit_bytes = limit;
  g.pl.comments_seq = NULL;
  if (!mlg_gl_add_file(&g, name, (char *)text, len))
    goto done;
  g.cur = 0;
  if (mlg_gl_parse(&g, &g.files[0]))
    goto done;
  if (!(g.includes = mlg_pl_seq(&g.pl, 0)))
    goto done;
  stack[0] = 0;
  if (mlg_gl_includes(&g, 0, 0, stack, &merged))
    goto done;
  g.config = merged;
  if (mlg_gl_extends(&g) || mlg_gl_references(&g))
    goto done;
  use_file(&g, 0);
  if (!(model = mlg_pl_map(&g.pl, 16)) || mlg_doc_add_root(g.pl.doc, model)) {
    mlg_pl_oom(&g.pl);
    goto done;
  }
  mlg_pl_set_atom(&g.pl, model, MLG_A_PLATFORM, MLG_A_G_GITLAB);
  mlg_pl_set_atom(&g.pl, model, MLG_A_KIND, MLG_A_G_KIND);
  mlg_pl_set(&g.pl, model, MLG_A_PATH, mlg_pl_str(&g.pl, name, strlen(name)));
  mlg_pl_set_int(&g.pl, model, MLG_A_LINE, 1);
  mlg_pl_set_int(&g.pl, model, MLG_A_COL, 1);
  build(&g, model);
done:
  rc = g.pl.rc;
  use_file(&g, 0);
  g.pl.comments_seq = NULL;
  mlg_pl_fini(&g.pl);
  if (g.nfiles)
    g.files[0].text = NULL; /* the caller's */
  gl_free(&g);
  if (rc) {
    mlg_doc_free(g.pl.doc);
    return rc;
  }
  *out = g.pl.doc;
  return 0;
}
