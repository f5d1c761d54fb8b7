/*
 * Steps, `uses:` references and container images of GitHub workflows and
 * actions. References are classified offline: a 40-hex ref is a commit,
 * a version-like ref (v4, v1.2.3, 2.0) a tag, anything else a branch (a
 * guess: only the repository knows).
 */
#include <stdio.h>
#include <string.h>

#include "pipeline_val.h"

static int is_hex(const char *s, size_t n)
{
  size_t i;
  for (i = 0; i < n; i++) {
    char c = s[i];
    if (!((c >= '0' && c <= '9') || (c >= 'a' && c <= 'f') || (c >= 'A' && c <= 'F')))
      return 0;
  }
  return n > 0;
}

static int is_digit(char c)
{
  return c >= '0' && c <= '9';
}

/* v4, V1.2.3, 2.0, v1.2.3-beta.1, v2+build */
static int is_version(const char *s, size_t n)
{
  size_t i = 0;
  if (i < n && (s[i] == 'v' || s[i] == 'V'))
    i++;
  if (i >= n || !is_digit(s[i]))
    return 0;
  while (i < n) {
    while (i < n && is_digit(s[i]))
      i++;
    if (i < n && s[i] == '.' && i + 1 < n && is_digit(s[i + 1])) {
      i++;
      continue;
    }
    break;
  }
  if (i == n)
    return 1;
  if (s[i] != '-' && s[i] != '+')
    return 0;
  for (i++; i < n; i++)
    if (!(is_digit(s[i]) || (s[i] >= 'a' && s[i] <= 'z') || (s[i] >= 'A' && s[i] <= 'Z') ||
          s[i] == '.' || s[i] == '-' || s[i] == '+'))
      return 0;
  return 1;
}

static const char *memchr_c(const char *s, size_t n, char c)
{
  return n ? memchr(s, c, n) : NULL;
}

/* --- images ----------------------------------------------------------------- */

typedef struct image_ref {
  const char *registry, *name, *tag, *digest;
  size_t registry_len, name_len, tag_len, digest_len;
  mlg_pl_atom pin;
} image_ref;

/* Splits "registry/name:tag@digest" the way docker reads references: the
 * first component is a registry when it has a '.' or ':' or is localhost. */
static void image_parse(image_ref *r, const char *s, size_t n, int expr)
{
  const char *at, *slash, *colon, *p;
  size_t i, rest;

  memset(r, 0, sizeof *r);
  r->name = s;
  r->name_len = n;
  if (n == 0) {
    r->pin = MLG_A_V_NONE;
    return;
  }
  if ((at = memchr_c(s, n, '@'))) {
    r->digest = at + 1;
    r->digest_len = n - (size_t)(at + 1 - s);
    n = (size_t)(at - s);
  }
  if ((slash = memchr_c(s, n, '/'))) {
    size_t fl = (size_t)(slash - s);
    if (memchr_c(s, fl, '.') || memchr_c(s, fl, ':') || (fl == 9 && !memcmp(s, "localhost", 9))) {
      r->registry = s;
      r->registry_len = fl;
      s = slash + 1;
      n -= fl + 1;
    }
  }
  /* The tag follows the last ':' after the last '/'. */
  rest = n;
  for (i = n, p = NULL; i > 0; i--) {
    if (s[i - 1] == '/')
      break;
    if (s[i - 1] == ':') {
      p = s + i - 1;
      break;
    }
  }
  colon = p;
  if (colon) {
    r->tag = colon + 1;
    r->tag_len = n - (size_t)(colon + 1 - s);
    rest = (size_t)(colon - s);
  }
  r->name = s;
  r->name_len = rest;
  if (expr)
    r->pin = MLG_A_V_EXPR;
  else if (r->digest)
    r->pin = MLG_A_V_DIGEST;
  else if (!r->tag || (r->tag_len == 6 && !memcmp(r->tag, "latest", 6)))
    r->pin = MLG_A_V_LATEST;
  else
    r->pin = MLG_A_V_TAG;
}

static void set_part(mlg_pl *pl, mlg_node *o, mlg_pl_atom k, const char *s, size_t n)
{
  if (s)
    mlg_pl_set(pl, o, k, mlg_pl_str(pl, s, n));
}

static mlg_node *credentials(mlg_pl *pl, const mlg_node *key, const mlg_node *v)
{
  mlg_node *c = mlg_pl_map(pl, 4);
  const mlg_pair *p;
  mlg_pl_set_pos(pl, c, key);
  if ((p = mlg_map_find(v, "username")))
    mlg_pl_set(pl, c, MLG_A_USERNAME, mlg_pl_val(pl, p->key, p->val));
  if ((p = mlg_map_find(v, "password")))
    mlg_pl_set(pl, c, MLG_A_PASSWORD, mlg_pl_val(pl, p->key, p->val));
  return c;
}

mlg_node *mlg_pl_image(mlg_pl *pl, const mlg_node *key, const mlg_node *v, size_t prefix_len)
{
  mlg_node *o = mlg_pl_map(pl, 12);
  const mlg_node *img = v;
  const mlg_pair *p;
  uint32_t line, col;
  char buf[64];
  const char *s = "";
  size_t n = 0;

  if (pl->rc || !v)
    return NULL;
  if (v->type == MLG_MAP) {
    p = mlg_map_find(v, "image");
    img = p ? p->val : NULL;
    if ((p = mlg_map_find(v, "credentials")))
      mlg_pl_set(pl, o, MLG_A_CREDENTIALS, credentials(pl, p->key, p->val));
    if ((p = mlg_map_find(v, "env")))
      mlg_pl_set(pl, o, MLG_A_ENV, mlg_pl_kvs(pl, p->val));
    if ((p = mlg_map_find(v, "options")))
      mlg_pl_set(pl, o, MLG_A_OPTIONS, mlg_pl_val(pl, p->key, p->val));
  }
  if (img && img->type == MLG_STR) {
    s = img->u.str.ptr;
    n = img->u.str.len;
  } else if (img && mlg_pl_is_scalar(img) && img->type != MLG_NULL) {
    s = buf;
    n = mlg_pl_canon(buf, sizeof buf, img);
  }
  if (prefix_len > n)
    prefix_len = n;
  s += prefix_len;
  n -= prefix_len;
  while (n && (s[0] == ' ' || s[0] == '\t')) {
    s++, n--;
    prefix_len++;
  }
  while (n && (s[n - 1] == ' ' || s[n - 1] == '\t' || s[n - 1] == '\n'))
    n--;
  mlg_pl_set(pl, o, MLG_A_RAW, mlg_pl_str(pl, s, n));
  if (img && mlg_pl_is_scalar(img) && img->type != MLG_NULL) {
    mlg_pl_val_start(pl, img, &line, &col);
    mlg_pl_set_int(pl, o, MLG_A_LINE, line);
    mlg_pl_set_int(pl, o, MLG_A_COL, (int64_t)col + (int64_t)prefix_len);
  } else {
    mlg_pl_set_pos(pl, o, key);
  }
  mlg_pl_image_parts(pl, o, s, n, img && mlg_pl_has_expr(img));
  return pl->rc ? NULL : o;
}

void mlg_pl_image_parts(mlg_pl *pl, mlg_node *o, const char *s, size_t n, int expr)
{
  image_ref r;
  image_parse(&r, s, n, expr);
  set_part(pl, o, MLG_A_REGISTRY, r.registry, r.registry_len);
  mlg_pl_set(pl, o, MLG_A_NAME, mlg_pl_str(pl, r.name, r.name_len));
  set_part(pl, o, MLG_A_TAG, r.tag, r.tag_len);
  set_part(pl, o, MLG_A_DIGEST, r.digest, r.digest_len);
  mlg_pl_set_atom(pl, o, MLG_A_PIN, r.pin);
}

void mlg_pl_container_exprs(mlg_pl *pl, const mlg_node *v)
{
  size_t i, mark;
  if (!v || v->type != MLG_MAP) {
    mlg_pl_exprs(pl, v, MLG_A_F_IMAGE, NULL);
    return;
  }
  for (i = 0; i < v->u.map.len && !pl->rc; i++) {
    const mlg_pair *p = &v->u.map.pairs[i];
    mark = mlg_pl_route_key(pl, p->key);
    if (mlg_pl_is_str(p->key, "image"))
      mlg_pl_exprs(pl, p->val, MLG_A_F_IMAGE, NULL);
    else if (mlg_pl_is_str(p->key, "env"))
      mlg_pl_exprs_entries(pl, p->val, MLG_A_F_ENV);
    else
      mlg_pl_exprs(pl, p->val, MLG_A_F_OTHER, NULL);
    mlg_pl_route_pop(pl, mark);
  }
}

/* --- uses ------------------------------------------------------------------- */

static mlg_pl_atom ref_pin(const char *ref, size_t n)
{
  if (n == 0)
    return MLG_A_V_NONE;
  if (n == 40 && is_hex(ref, n))
    return MLG_A_V_SHA;
  if (n >= 7 && n < 40 && is_hex(ref, n) && !is_version(ref, n))
    return MLG_A_V_SHORT_SHA;
  if (is_version(ref, n))
    return MLG_A_V_TAG;
  return MLG_A_V_BRANCH;
}

/* ".github/workflows/x.yml" */
static int is_workflow_path(const char *s, size_t n)
{
  static const char dir[] = ".github/workflows/";
  size_t dl = sizeof dir - 1;
  if (n <= dl || memcmp(s, dir, dl) != 0 || memchr_c(s + dl, n - dl, '/'))
    return 0;
  return (n > dl + 4 && !memcmp(s + n - 4, ".yml", 4)) ||
         (n > dl + 5 && !memcmp(s + n - 5, ".yaml", 5));
}

mlg_node *mlg_pl_uses(mlg_pl *pl, const mlg_node *key, const mlg_node *v)
{
  mlg_node *o = mlg_pl_map(pl, 12);
  const char *s = "", *at, *sl1, *sl2;
  size_t n = 0, pn;
  uint32_t line, col;
  int expr = mlg_pl_has_expr(v);
  mlg_pl_atom kind = MLG_A_V_INVALID, pin = MLG_A_V_NONE;

  if (pl->rc)
    return NULL;
  if (v && v->type == MLG_STR) {
    s = v->u.str.ptr;
    n = v->u.str.len;
  }
  mlg_pl_set(pl, o, MLG_A_RAW, mlg_pl_str(pl, s, n));
  mlg_pl_val_start(pl, v, &line, &col);
  mlg_pl_set_int(pl, o, MLG_A_LINE, line);
  mlg_pl_set_int(pl, o, MLG_A_COL, col);
  mlg_pl_set_int(pl, o, MLG_A_KEY_LINE, key->span.line);
  while (n && (s[0] == ' ' || s[0] == '\t'))
    s++, n--;
  while (n && (s[n - 1] == ' ' || s[n - 1] == '\t' || s[n - 1] == '\n'))
    n--;
  if (n >= 9 && !memcmp(s, "docker://", 9)) {
    mlg_node *img = mlg_pl_image(pl, key, v, 9 + (size_t)(s - v->u.str.ptr));
    const mlg_node *ip = mlg_map_get(img, "pin"), *tag = mlg_map_get(img, "tag");
    kind = MLG_A_V_DOCKER;
    if (mlg_pl_is_str(ip, "digest"))
      pin = MLG_A_V_SHA;
    else if (mlg_pl_is_str(ip, "tag"))
      pin = MLG_A_V_TAG;
    else if (mlg_pl_is_str(ip, "expr"))
      pin = MLG_A_V_EXPR;
    else if (mlg_pl_is_str(ip, "latest") && tag)
      pin = MLG_A_V_BRANCH;
    mlg_pl_set_atom(pl, o, MLG_A_KIND, kind);
    mlg_pl_set_atom(pl, o, MLG_A_PIN, pin);
    mlg_pl_set(pl, o, MLG_A_IMAGE, img);
  } else if ((n >= 2 && !memcmp(s, "./", 2)) || (n >= 3 && !memcmp(s, "../", 3))) {
    size_t skip = s[1] == '/' ? 2 : 0;
    mlg_pl_set_atom(pl, o, MLG_A_KIND, MLG_A_V_LOCAL);
    if (n > skip)
      mlg_pl_set(pl, o, MLG_A_SUBPATH, mlg_pl_str(pl, s + skip, n - skip));
    mlg_pl_set_atom(pl, o, MLG_A_PIN, expr ? MLG_A_V_EXPR : MLG_A_V_LOCAL);
  } else {
    at = memchr_c(s, n, '@');
    pn = at ? (size_t)(at - s) : n;
    sl1 = memchr_c(s, pn, '/');
    sl2 = sl1 ? memchr_c(sl1 + 1, pn - (size_t)(sl1 + 1 - s), '/') : NULL;
    if (sl1 && sl1 > s && (size_t)(sl1 + 1 - s) < pn && (!sl2 || sl2 > sl1 + 1)) {
      size_t rl = (size_t)((sl2 ? sl2 : s + pn) - (sl1 + 1));
      kind = MLG_A_V_ACTION;
      mlg_pl_set(pl, o, MLG_A_OWNER, mlg_pl_str(pl, s, (size_t)(sl1 - s)));
      mlg_pl_set(pl, o, MLG_A_REPO, mlg_pl_str(pl, sl1 + 1, rl));
      if (sl2 && (size_t)(sl2 + 1 - s) < pn) {
        size_t sub = pn - (size_t)(sl2 + 1 - s);
        mlg_pl_set(pl, o, MLG_A_SUBPATH, mlg_pl_str(pl, sl2 + 1, sub));
        if (is_workflow_path(sl2 + 1, sub))
          kind = MLG_A_V_REUSABLE;
      }
      if (at) {
        mlg_pl_set(pl, o, MLG_A_REF, mlg_pl_str(pl, at + 1, n - pn - 1));
        pin = ref_pin(at + 1, n - pn - 1);
      }
      if (expr)
        pin = MLG_A_V_EXPR;
    } else if (expr) {
      pin = MLG_A_V_EXPR;
    }
    mlg_pl_set_atom(pl, o, MLG_A_KIND, kind);
    mlg_pl_set_atom(pl, o, MLG_A_PIN, pin);
  }
  mlg_pl_set(pl, o, MLG_A_COMMENT, mlg_pl_comment_on(pl, line));
  return pl->rc ? NULL : o;
}

/* --- steps -------------------------------------------------------------------- */

static mlg_node *step(mlg_pl *pl, const mlg_node *v, size_t i, const char *where)
{
  char what[224];
  mlg_node *s;
  size_t k, mark;

  snprintf(what, sizeof what, "step %zu of %s", i + 1, where);
  if (v->type != MLG_MAP) {
    mlg_pl_fail(pl, v, "%s must be a mapping, not %s", what, mlg_node_typename(v));
    return NULL;
  }
  if (mlg_pl_check_keys(pl, v, &mlg_pl_keys_step, what) || mlg_pl_check_step(pl, v, what))
    return NULL;
  pl->step = i + 1;
  s = mlg_pl_map(pl, 16);
  mlg_pl_set_int(pl, s, MLG_A_INDEX, (int64_t)i + 1);
  mlg_pl_set_first_key_pos(pl, s, v);
  mlg_pl_set(pl, s, MLG_A_ROUTE, mlg_pl_route_node(pl));
  mlg_pl_set(pl, s, MLG_A_JOB, pl->job);
  for (k = 0; k < v->u.map.len && !pl->rc; k++) {
    const mlg_node *key = v->u.map.pairs[k].key, *x = v->u.map.pairs[k].val;
    mark = mlg_pl_route_key(pl, key);
    pl->at = key;
    if (mlg_pl_is_str(key, "id")) {
      mlg_pl_set(pl, s, MLG_A_ID, mlg_pl_val(pl, key, x));
      mlg_pl_exprs(pl, x, MLG_A_F_OTHER, NULL);
    } else if (mlg_pl_is_str(key, "name")) {
      mlg_pl_set(pl, s, MLG_A_NAME, mlg_pl_val(pl, key, x));
      mlg_pl_exprs(pl, x, MLG_A_F_NAME, NULL);
    } else if (mlg_pl_is_str(key, "if")) {
      mlg_pl_set(pl, s, MLG_A_COND, mlg_pl_val(pl, key, x));
      mlg_pl_exprs_cond(pl, x);
    } else if (mlg_pl_is_str(key, "uses")) {
      mlg_pl_set(pl, s, MLG_A_USES, mlg_pl_uses(pl, key, x));
      mlg_pl_exprs(pl, x, MLG_A_F_USES, NULL);
    } else if (mlg_pl_is_str(key, "run")) {
      mlg_pl_set(pl, s, MLG_A_RUN, mlg_pl_val(pl, key, x));
      mlg_pl_exprs(pl, x, MLG_A_F_RUN, NULL);
    } else if (mlg_pl_is_str(key, "shell")) {
      mlg_pl_set(pl, s, MLG_A_SHELL, mlg_pl_val(pl, key, x));
      mlg_pl_exprs(pl, x, MLG_A_F_SHELL, NULL);
    } else if (mlg_pl_is_str(key, "working-directory")) {
      mlg_pl_set(pl, s, MLG_A_WORKING_DIRECTORY, mlg_pl_val(pl, key, x));
      mlg_pl_exprs(pl, x, MLG_A_F_WORKING_DIRECTORY, NULL);
    } else if (mlg_pl_is_str(key, "with")) {
      mlg_pl_set_kv(pl, s, MLG_A_WITH, MLG_A_WITH_EXPR, key, x, MLG_A_F_WITH);
    } else if (mlg_pl_is_str(key, "env")) {
      mlg_pl_set_kv(pl, s, MLG_A_ENV, MLG_A_ENV_EXPR, key, x, MLG_A_F_ENV);
    } else if (mlg_pl_is_str(key, "continue-on-error")) {
      mlg_pl_set(pl, s, MLG_A_CONTINUE_ON_ERROR, mlg_pl_val(pl, key, x));
      mlg_pl_exprs(pl, x, MLG_A_F_OTHER, NULL);
    } else if (mlg_pl_is_str(key, "timeout-minutes")) {
      mlg_pl_set(pl, s, MLG_A_TIMEOUT_MINUTES, mlg_pl_val(pl, key, x));
      mlg_pl_exprs(pl, x, MLG_A_F_OTHER, NULL);
    } else {
      mlg_pl_exprs(pl, x, MLG_A_F_OTHER, NULL);
    }
    mlg_pl_route_pop(pl, mark);
  }
  pl->step = 0;
  return pl->rc ? NULL : s;
}

/* Steps of v into seq; a `parallel:` group's steps take their place in the
 * list, numbered on, with routes "steps[i].parallel[j]". */
static void steps_into(mlg_pl *pl, mlg_node *seq, const mlg_node *v, const char *where,
                       size_t *index, int depth)
{
  size_t i, k, mark, mk2;

  if (v->type != MLG_SEQ) {
    mlg_pl_fail(pl, v, "'%s' of %s must be a sequence of steps, not %s",
                depth ? "parallel" : "steps", where, mlg_node_typename(v));
    return;
  }
  for (i = 0; i < v->u.seq.len && !pl->rc; i++) {
    const mlg_node *it = v->u.seq.items[i];
    const mlg_pair *par = mlg_map_find(it, "parallel");
    if (mlg_pl_tick(pl, it))
      break;
    mark = depth ? mlg_pl_route_cstr(pl, "parallel") : pl->route.len;
    mlg_pl_route_index(pl, i);
    if (par && depth < 8) {
      for (k = 0; k < it->u.map.len && !pl->rc; k++) {
        const mlg_pair *p = &it->u.map.pairs[k];
        if (p == par)
          continue;
        mk2 = mlg_pl_route_key(pl, p->key);
        mlg_pl_exprs(pl, p->val, MLG_A_F_OTHER, NULL);
        mlg_pl_route_pop(pl, mk2);
      }
      steps_into(pl, seq, par->val, where, index, depth + 1);
    } else {
      mlg_pl_push(pl, seq, step(pl, it, (*index)++, where));
    }
    mlg_pl_route_pop(pl, mark);
  }
}

mlg_node *mlg_pl_steps(mlg_pl *pl, const mlg_node *v, const char *where)
{
  mlg_node *seq;
  size_t index = 0;

  if (pl->rc || !(seq = mlg_pl_seq(pl, v->type == MLG_SEQ ? v->u.seq.len : 0)))
    return NULL;
  steps_into(pl, seq, v, where, &index, 0);
  return pl->rc ? NULL : seq;
}
