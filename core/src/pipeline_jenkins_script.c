/*
 * Jenkinsfiles: steps and scripted Groovy. One linear walk over a token
 * range finds shell steps and other calls wherever they are (closures,
 * if/else, try, loops, method bodies, argument lists); only the calls that
 * change what encloses their closure (stage, node, withCredentials,
 * withEnv, docker...inside) walk it separately with a new context, so the
 * depth of that recursion is bounded by the tokenizer's nesting cap.
 */
#include <stdio.h>
#include <string.h>

#include "jenkins.h"

static int is(const mlg_jk *jk, size_t i, const char *s)
{
  return mlg_jk_is(jk, i, s);
}

static int is_dot(const mlg_jk *jk, size_t i)
{
  return is(jk, i, ".") || is(jk, i, "?.");
}

static int name_is(const mlg_jk *jk, const mlg_jk_call *c, const char *s)
{
  return c->first == c->name && is(jk, c->name, s) &&
         !(c->first >= 1 && is_dot(jk, c->first - 1));
}

/* The closure's interior as [a, b). */
static void closure_range(const mlg_jk *jk, const mlg_jk_call *c, size_t *a, size_t *b)
{
  *a = c->closure + 1;
  *b = jk->t[c->closure].match;
}

/* --- libraries ---------------------------------------------------------------- */

static int all_hex(const char *s, size_t n)
{
  size_t i;
  for (i = 0; i < n; i++)
    if (!((s[i] >= '0' && s[i] <= '9') || (s[i] >= 'a' && s[i] <= 'f') ||
          (s[i] >= 'A' && s[i] <= 'F')))
      return 0;
  return 1;
}

/* v1, 1.2.3, v2.0.0-rc1: a digit first (after an optional v). */
static int version_like(const char *s, size_t n)
{
  size_t i = 0;
  if (n && (s[0] == 'v' || s[0] == 'V'))
    i = 1;
  if (i >= n || s[i] < '0' || s[i] > '9')
    return 0;
  for (; i < n; i++)
    if (!((s[i] >= '0' && s[i] <= '9') || (s[i] >= 'a' && s[i] <= 'z') ||
          (s[i] >= 'A' && s[i] <= 'Z') || s[i] == '.' || s[i] == '-' || s[i] == '+' ||
          s[i] == '_'))
      return 0;
  return 1;
}

/* A library from string token s, positioned at token at. */
static void library(mlg_jk *jk, size_t s, size_t at, mlg_pl_atom form)
{
  mlg_pl *pl = &jk->pl;
  const mlg_gtok *t = &jk->t[s];
  const char *txt = t->text, *ref;
  size_t n = t->len, nl, rl = 0;
  mlg_node *o;
  mlg_pl_atom pin;

  if (pl->rc || t->kind != MLG_GT_STRING || !(o = mlg_pl_map(pl, 8)))
    return;
  ref = memchr(txt, '@', n);
  nl = ref ? (size_t)(ref - txt) : n;
  if (ref) {
    ref++;
    rl = n - nl - 1;
  }
  if (!ref)
    pin = t->str->nparts ? MLG_A_V_EXPR : MLG_A_V_NONE;
  else if (t->str->nparts && t->str->parts[t->str->nparts - 1].t_end > nl)
    pin = MLG_A_V_EXPR;
  else if (rl == 40 && all_hex(ref, rl))
    pin = MLG_A_V_SHA;
  else if (version_like(ref, rl))
    pin = MLG_A_V_TAG;
  else
    pin = MLG_A_V_BRANCH;
  mlg_jk_set_pos(jk, o, at);
  mlg_pl_set(pl, o, MLG_A_RAW, mlg_jk_val(jk, s, s + 1));
  mlg_pl_set(pl, o, MLG_A_NAME, mlg_pl_str(pl, txt, nl));
  if (ref)
    mlg_pl_set(pl, o, MLG_A_REF, mlg_pl_str(pl, ref, rl));
  mlg_pl_set_atom(pl, o, MLG_A_PIN, pin);
  mlg_pl_set_atom(pl, o, MLG_A_J_FORM, form);
  mlg_pl_push(pl, jk->libraries, o);
  mlg_jk_exprs(jk, s, MLG_A_J_LIBRARY, NULL, NULL, "libraries", 0);
}

/* Each string of a value [a, b): one string or a [list]. */
void mlg_jk_lib(mlg_jk *jk, size_t a, size_t b, size_t at, mlg_pl_atom form)
{
  size_t p, q;
  if (a >= b)
    return;
  if (mlg_jk_is(jk, a, "[") && jk->t[a].match + 1 == b) {
    for (p = a + 1; p < b - 1; p = q + 1) {
      q = mlg_jk_next_comma(jk, p, b - 1);
      if (mlg_jk_str1(jk, p, q) != MLG_JK_NONE)
        library(jk, p, at, form);
    }
    return;
  }
  if (mlg_jk_str1(jk, a, b) != MLG_JK_NONE)
    library(jk, a, at, form);
  else
    mlg_jk_note(jk, a, "library reference that is no string literal skipped");
}

size_t mlg_jk_at_library(mlg_jk *jk, size_t i, size_t b)
{
  size_t p = i + 2, e, va, vb;
  if (i + 2 >= b || !is(jk, i + 2, "("))
    return i + 2;
  e = jk->t[p].match;
  if (mlg_jk_arg(jk, p + 1, e, "", &va, &vb) == 0 ||
      mlg_jk_arg(jk, p + 1, e, "value", &va, &vb) == 0)
    mlg_jk_lib(jk, va, vb, i, MLG_A_J_AT_LIBRARY);
  return e + 1;
}

/* --- steps -------------------------------------------------------------------- */

static mlg_pl_atom shell_of(const mlg_jk *jk, size_t i)
{
  if (is(jk, i, "sh"))
    return MLG_A_J_SH;
  if (is(jk, i, "bat"))
    return MLG_A_J_BAT;
  if (is(jk, i, "powershell"))
    return MLG_A_J_POWERSHELL;
  if (is(jk, i, "pwsh"))
    return MLG_A_J_PWSH;
  return MLG_A__COUNT;
}

static void step(mlg_jk *jk, const mlg_jk_call *c, mlg_jk_ctx *cx, mlg_pl_atom shell)
{
  mlg_pl *pl = &jk->pl;
  size_t va, vb, s;
  mlg_jk_job *j;
  mlg_jk_ctx jc;
  mlg_node *o;
  char *route, idx[32];

  if (mlg_jk_arg(jk, c->args_a, c->args_b, "script", &va, &vb) &&
      mlg_jk_arg(jk, c->args_a, c->args_b, "", &va, &vb)) {
    mlg_jk_note(jk, c->name, "%s step without a script skipped",
                jk->t[c->name].text[0] == 's' ? "sh" : "shell");
    return;
  }
  if (!(j = mlg_jk_job_of(jk, cx)) || !(o = mlg_pl_map(pl, 13)))
    return;
  jc = *cx;
  jc.job = j;
  j->nsteps++;
  snprintf(idx, sizeof idx, "steps[%zu]", j->nsteps - 1);
  route = cx->post ? mlg_jk_route(jk, j->route, "post", NULL, 0) : j->route;
  if (cx->post && route) {
    char *r2 = mlg_jk_route(jk, route, cx->post, NULL, 0);
    route = r2;
  }
  route = route ? mlg_jk_route(jk, route, idx, NULL, 0) : NULL;
  if (!route)
    return;
  s = mlg_jk_str1(jk, va, vb);
  mlg_pl_set_int(pl, o, MLG_A_INDEX, (int64_t)j->nsteps);
  mlg_jk_set_pos(jk, o, c->name);
  mlg_pl_set(pl, o, MLG_A_ROUTE, mlg_pl_str(pl, route, strlen(route)));
  mlg_pl_set(pl, o, MLG_A_JOB, j->id);
  mlg_pl_set(pl, o, MLG_A_PATH, mlg_pl_str(pl, pl->name, strlen(pl->name)));
  mlg_pl_set(pl, o, MLG_A_RUN, mlg_jk_val(jk, va, vb));
  mlg_pl_set_atom(pl, o, MLG_A_SHELL, shell);
  mlg_pl_set_bool(pl, o, MLG_A_J_INTERP, s == MLG_JK_NONE || jk->t[s].str->nparts > 0);
  if (cx->cred_vars && cx->cred_vars->u.seq.len)
    mlg_pl_set(pl, o, MLG_A_CREDENTIALS, cx->cred_vars);
  if (cx->post)
    mlg_pl_set(pl, o, MLG_A_POST, mlg_pl_str(pl, cx->post, strlen(cx->post)));
  mlg_pl_push(pl, j->steps, o);
  if (cx->post_steps)
    mlg_pl_push(pl, cx->post_steps, o);
  /* The script's interpolations belong to the step; the other arguments'
   * (label:) are "other" at the step's route. */
  for (s = va; s < vb; s++)
    if (jk->t[s].kind == MLG_GT_STRING)
      mlg_jk_exprs(jk, s, shell, NULL, &jc, route, j->nsteps);
  for (s = c->args_a; s < c->args_b; s++)
    if (jk->t[s].kind == MLG_GT_STRING)
      mlg_jk_exprs(jk, s, MLG_A_F_OTHER, NULL, &jc, route, j->nsteps);
}

/* --- scopes ------------------------------------------------------------------- */

static int ends_with_variable(const mlg_gtok *t)
{
  return (t->len >= 8 && !memcmp(t->text + t->len - 8, "Variable", 8)) ||
         (t->len == 8 && !memcmp(t->text, "variable", 8));
}

/* One binding of withCredentials at [p, q): `kind(args)` or
 * `[$class: 'Kind', ...]`. */
static mlg_node *binding(mlg_jk *jk, size_t p, size_t q, mlg_node *vars)
{
  mlg_pl *pl = &jk->pl;
  size_t a, b, r, s, va, vb;
  mlg_node *o, *v;

  if (p >= q)
    return NULL;
  if (!(o = mlg_pl_map(pl, 6)) || !(v = mlg_pl_seq(pl, 2)))
    return NULL;
  if (jk->t[p].kind == MLG_GT_IDENT && mlg_jk_is(jk, p + 1, "(")) {
    a = p + 2;
    b = jk->t[p + 1].match;
    mlg_pl_set(pl, o, MLG_A_KIND, mlg_jk_tokstr(jk, p));
  } else if (mlg_jk_is(jk, p, "[")) {
    a = p + 1;
    b = jk->t[p].match;
    if (mlg_jk_arg(jk, a, b, "$class", &va, &vb) == 0 &&
        (s = mlg_jk_str1(jk, va, vb)) != MLG_JK_NONE)
      mlg_pl_set(pl, o, MLG_A_KIND, mlg_jk_tokstr(jk, s));
    else
      mlg_pl_set_atom(pl, o, MLG_A_KIND, MLG_A_J_UNKNOWN);
  } else {
    mlg_jk_note(jk, p, "credential binding of an unknown form skipped");
    return NULL;
  }
  if (mlg_jk_arg(jk, a, b, "credentialsId", &va, &vb) == 0 ||
      mlg_jk_arg(jk, a, b, "", &va, &vb) == 0)
    mlg_pl_set(pl, o, MLG_A_ID, mlg_jk_val(jk, va, vb));
  for (r = a; r < b; r = s + 1) {
    s = mlg_jk_next_comma(jk, r, b);
    if (s > r + 2 && mlg_jk_is(jk, r + 1, ":") && ends_with_variable(&jk->t[r]) &&
        (va = mlg_jk_str1(jk, r + 2, s)) != MLG_JK_NONE) {
      mlg_pl_push(pl, v, mlg_jk_tokstr(jk, va));
      mlg_pl_push(pl, vars, mlg_jk_tokstr(jk, va));
    }
  }
  mlg_pl_set(pl, o, MLG_A_J_VARIABLES, v);
  mlg_jk_set_pos(jk, o, p);
  mlg_pl_set_atom(pl, o, MLG_A_J_VIA, MLG_A_J_WITH_CREDENTIALS);
  return o;
}

static void add_creds(mlg_jk *jk, mlg_jk_ctx *cx, mlg_node *creds, mlg_node *vars)
{
  size_t k;
  mlg_jk_job *j = cx->job ? cx->job : jk->nostage;
  cx->creds = mlg_jk_concat(jk, cx->creds, creds);
  cx->cred_vars = mlg_jk_concat(jk, cx->cred_vars, vars);
  for (k = 0; j && k < creds->u.seq.len; k++)
    mlg_pl_push(&jk->pl, j->creds, creds->u.seq.items[k]);
}

static void with_credentials(mlg_jk *jk, const mlg_jk_call *c, mlg_jk_ctx *cx)
{
  mlg_pl *pl = &jk->pl;
  size_t va, vb, p, q;
  mlg_node *creds = mlg_pl_seq(pl, 2), *vars = mlg_pl_seq(pl, 2);

  if (!creds || !vars || mlg_jk_arg(jk, c->args_a, c->args_b, "", &va, &vb))
    return;
  if (mlg_jk_is(jk, va, "[") && jk->t[va].match + 1 == vb) {
    for (p = va + 1; p < vb - 1; p = q + 1) {
      q = mlg_jk_next_comma(jk, p, vb - 1);
      mlg_pl_push(pl, creds, binding(jk, p, q, vars));
    }
  } else {
    mlg_pl_push(pl, creds, binding(jk, va, vb, vars));
  }
  add_creds(jk, cx, creds, vars);
}

/* withEnv(['A=b', "C=${d}"]) */
static void with_env(mlg_jk *jk, const mlg_jk_call *c, mlg_jk_ctx *cx)
{
  mlg_pl *pl = &jk->pl;
  size_t va, vb, p, k;
  mlg_node *kvs = mlg_pl_seq(pl, 2);
  mlg_jk_job *j = cx->job;

  if (!kvs || mlg_jk_arg(jk, c->args_a, c->args_b, "", &va, &vb))
    return;
  for (p = va; p < vb; p++) {
    const mlg_gtok *t = &jk->t[p];
    const char *eq;
    mlg_node *o;
    if (t->kind != MLG_GT_STRING || !(eq = memchr(t->text, '=', t->len)) ||
        !(o = mlg_pl_map(pl, 5)))
      continue;
    mlg_pl_set(pl, o, MLG_A_NAME, mlg_pl_str(pl, t->text, (size_t)(eq - t->text)));
    mlg_pl_set(pl, o, MLG_A_VALUE,
               mlg_jk_val_sub(jk, p, (size_t)(eq - t->text) + 1, t->len));
    mlg_pl_set_atom(pl, o, MLG_A_VTYPE, MLG_A_V_STRING);
    mlg_jk_set_pos(jk, o, p);
    mlg_pl_push(pl, kvs, o);
  }
  cx->env = mlg_jk_concat(jk, cx->env, kvs);
  for (k = 0; j && k < kvs->u.seq.len; k++)
    mlg_pl_push(pl, j->env, kvs->u.seq.items[k]);
}

/* --- docker ------------------------------------------------------------------- */

/* The image of `docker.image('x')` whose ')' is at r, or NULL. */
static mlg_node *docker_image_at(mlg_jk *jk, size_t r)
{
  size_t o, s;
  if (!mlg_jk_is(jk, r, ")"))
    return NULL;
  o = jk->t[r].match;
  if (o < 3 || !is(jk, o - 1, "image") || !is_dot(jk, o - 2) || !is(jk, o - 3, "docker"))
    return NULL;
  if ((s = mlg_jk_str1(jk, o + 1, r)) == MLG_JK_NONE)
    return NULL;
  return mlg_jk_image(jk, s);
}

static mlg_node *var_image(const mlg_jk *jk, size_t i)
{
  size_t k;
  for (k = 0; k < jk->nvars; k++)
    if (jk->vars[k].nlen == jk->t[i].len && !memcmp(jk->vars[k].name, jk->t[i].text, jk->t[i].len))
      return jk->vars[k].image;
  return NULL;
}

/* `img = docker.image('x')` / `def img = ...`: remember img. */
static void var_keep(mlg_jk *jk, const mlg_jk_call *c, mlg_node *image)
{
  size_t v;
  if (!image || c->first < 2 || !is(jk, c->first - 1, "=") ||
      jk->t[c->first - 2].kind != MLG_GT_IDENT)
    return;
  v = c->first - 2;
  if (jk->nvars == sizeof jk->vars / sizeof jk->vars[0])
    return;
  jk->vars[jk->nvars].name = jk->t[v].text;
  jk->vars[jk->nvars].nlen = jk->t[v].len;
  jk->vars[jk->nvars].image = image;
  jk->nvars++;
}

/* The image a method call such as `.inside` applies to. */
static mlg_node *receiver_image(mlg_jk *jk, const mlg_jk_call *c)
{
  size_t r = c->first;
  if (r < 2 || !is_dot(jk, r - 1))
    return c->first < c->name ? var_image(jk, c->first) : NULL;
  return docker_image_at(jk, r - 2);
}

/* properties([parameters([string(...), ...]), pipelineTriggers([...])]) */
static void properties(mlg_jk *jk, const mlg_jk_call *c, const mlg_jk_ctx *cx)
{
  size_t i, p, q;
  mlg_jk_call d;
  for (i = c->args_a; i + 2 < c->args_b; i++) {
    if (!is(jk, i, "parameters") || !is(jk, i + 1, "(") || !is(jk, i + 2, "["))
      continue;
    if (!jk->params)
      jk->params = mlg_pl_seq(&jk->pl, 4);
    for (p = i + 3; p < jk->t[i + 2].match; p = q + 1) {
      q = mlg_jk_next_comma(jk, p, jk->t[i + 2].match);
      if (mlg_jk_call_at(jk, p, q, &d) == 0)
        mlg_pl_push(&jk->pl, jk->params, mlg_jk_param(jk, &d, cx));
    }
    i = jk->t[i + 1].match;
  }
}

/* --- the walk ----------------------------------------------------------------- */

static const char *const quiet[] = {"parallel", "script", "steps", "node", "pipeline", NULL};

static int is_quiet(const mlg_jk *jk, const mlg_jk_call *c)
{
  size_t k;
  for (k = 0; quiet[k]; k++)
    if (name_is(jk, c, quiet[k]))
      return 1;
  return 0;
}

/* A method definition: `def name(...) {`, `void name(...) {`, `Type name(...) {`. */
static int is_method_def(const mlg_jk *jk, const mlg_jk_call *c)
{
  const mlg_gtok *p;
  if (c->paren == MLG_JK_NONE || c->closure == MLG_JK_NONE || c->first != c->name ||
      c->name == 0)
    return 0;
  p = &jk->t[c->name - 1];
  if (p->kind != MLG_GT_IDENT || jk->t[c->name].nl)
    return 0;
  return !is(jk, c->name - 1, "return") && !is(jk, c->name - 1, "else") &&
         !is(jk, c->name - 1, "new") && !is(jk, c->name - 1, "in");
}

static void walk_closure(mlg_jk *jk, const mlg_jk_call *c, const mlg_jk_ctx *cx)
{
  size_t a, b;
  if (c->closure == MLG_JK_NONE)
    return;
  closure_range(jk, c, &a, &b);
  mlg_jk_walk(jk, a, b, cx);
}

/* Handles the call c; returns where the walk goes on. */
static size_t handle(mlg_jk *jk, const mlg_jk_call *c, mlg_jk_ctx *cx, size_t b)
{
  mlg_pl_atom shell;
  size_t va, vb, s;
  mlg_jk_ctx nc;
  mlg_node *img;

  if (is_method_def(jk, c))
    return c->name + 1;
  if (name_is(jk, c, "pipeline") && c->closure != MLG_JK_NONE && c->paren == MLG_JK_NONE) {
    size_t a2, b2;
    closure_range(jk, c, &a2, &b2);
    mlg_jk_declarative(jk, a2, b2, cx);
    return c->end;
  }
  if (c->first == c->name && !(c->name >= 1 && is_dot(jk, c->name - 1)) &&
      (shell = shell_of(jk, c->name)) != MLG_A__COUNT) {
    step(jk, c, cx, shell);
    return c->name + 1;
  }
  if (name_is(jk, c, "stage")) {
    mlg_jk_job *j;
    char *route;
    size_t sn;
    const char *nm = "";
    size_t nl = 0;
    if (mlg_jk_arg(jk, c->args_a, c->args_b, "", &va, &vb) &&
        mlg_jk_arg(jk, c->args_a, c->args_b, "name", &va, &vb)) {
      mlg_jk_note(jk, c->name, "stage without a name skipped");
      return c->name + 1;
    }
    if ((sn = mlg_jk_str1(jk, va, vb)) != MLG_JK_NONE) {
      nm = jk->t[sn].text;
      nl = jk->t[sn].len;
    } else {
      nm = jk->pl.text + jk->t[va].off;
      nl = jk->t[vb - 1].end_off - jk->t[va].off;
      if (nl > MLG_JK_MAX_CODE)
        nl = MLG_JK_MAX_CODE;
    }
    route = mlg_jk_route(jk, cx->route, "stages", nm, nl);
    if (!(j = mlg_jk_job_new(jk, cx, c->name, va, vb, route)))
      return b;
    mlg_jk_exprs_range(jk, c->args_a, c->args_b, MLG_A_F_NAME, cx);
    nc = *cx;
    nc.job = j;
    nc.route = j->route;
    if (c->closure == MLG_JK_NONE) { /* `stage 'x'`: up to the end of the block */
      *cx = nc;
      return c->end;
    }
    walk_closure(jk, c, &nc);
    return c->end;
  }
  if (name_is(jk, c, "node") && c->closure != MLG_JK_NONE) {
    nc = *cx;
    if ((mlg_jk_arg(jk, c->args_a, c->args_b, "", &va, &vb) == 0 ||
         mlg_jk_arg(jk, c->args_a, c->args_b, "label", &va, &vb) == 0) &&
        va < vb) {
      nc.runs_on = mlg_jk_runs_on(jk, mlg_jk_val(jk, va, vb), c->name);
      mlg_jk_exprs_range(jk, va, vb, MLG_A_J_LABEL, cx);
    }
    walk_closure(jk, c, &nc);
    return c->end;
  }
  if (name_is(jk, c, "withCredentials") && c->closure != MLG_JK_NONE) {
    nc = *cx;
    with_credentials(jk, c, &nc);
    mlg_jk_exprs_range(jk, c->args_a, c->args_b, MLG_A_F_OTHER, cx);
    walk_closure(jk, c, &nc);
    return c->end;
  }
  if (name_is(jk, c, "withEnv") && c->closure != MLG_JK_NONE) {
    nc = *cx;
    with_env(jk, c, &nc);
    mlg_jk_exprs_range(jk, c->args_a, c->args_b, MLG_A_F_ENV, cx);
    walk_closure(jk, c, &nc);
    return c->end;
  }
  /* docker.image('x'): the image; .inside { } / withDockerContainer { } */
  if (c->first + 2 == c->name && is(jk, c->first, "docker") && is(jk, c->name, "image") &&
      c->paren != MLG_JK_NONE) {
    img = docker_image_at(jk, jk->t[c->paren].match);
    var_keep(jk, c, img);
    mlg_jk_exprs_range(jk, c->args_a, c->args_b, MLG_A_F_IMAGE, cx);
    mlg_jk_record_call(jk, c, cx, MLG_A_F_IMAGE);
    return c->name + 1;
  }
  if ((is(jk, c->name, "inside") && c->closure != MLG_JK_NONE) ||
      (name_is(jk, c, "withDockerContainer") && c->closure != MLG_JK_NONE)) {
    nc = *cx;
    if (is(jk, c->name, "inside"))
      img = receiver_image(jk, c);
    else
      img = (mlg_jk_arg(jk, c->args_a, c->args_b, "image", &va, &vb) == 0 ||
             mlg_jk_arg(jk, c->args_a, c->args_b, "", &va, &vb) == 0) &&
                    (s = mlg_jk_str1(jk, va, vb)) != MLG_JK_NONE
                ? mlg_jk_image(jk, s)
                : NULL;
    if (img)
      nc.container = img;
    mlg_jk_record_call(jk, c, cx, MLG_A_F_ARGS);
    walk_closure(jk, c, &nc);
    return c->end;
  }
  if (name_is(jk, c, "library")) {
    if (mlg_jk_arg(jk, c->args_a, c->args_b, "identifier", &va, &vb) == 0)
      mlg_jk_lib(jk, va, vb, c->name, MLG_A_J_IDENTIFIER);
    else if (mlg_jk_arg(jk, c->args_a, c->args_b, "", &va, &vb) == 0)
      mlg_jk_lib(jk, va, vb, c->name, MLG_A_J_LIBRARY);
    mlg_jk_exprs_range(jk, c->args_a, c->end, MLG_A_F_OTHER, cx);
    return c->end;
  }
  if (name_is(jk, c, "properties")) {
    properties(jk, c, cx);
    mlg_jk_exprs_range(jk, c->args_a, c->end, MLG_A_F_OTHER, cx);
    return c->end;
  }
  if (name_is(jk, c, "load") &&
      mlg_jk_arg(jk, c->args_a, c->args_b, "", &va, &vb) == 0) {
    mlg_node *o = mlg_pl_map(&jk->pl, 3);
    mlg_pl_set(&jk->pl, o, MLG_A_PATH, mlg_jk_val(jk, va, vb));
    mlg_jk_set_pos(jk, o, c->name);
    mlg_pl_push(&jk->pl, jk->loads, o);
  }
  if (name_is(jk, c, "input") && cx->job && !cx->job->has_input) {
    mlg_node *o = mlg_pl_map(&jk->pl, 2);
    mlg_jk_set_pos(jk, o, c->name);
    mlg_pl_set(&jk->pl, cx->job->obj, MLG_A_J_INPUT, o);
    cx->job->has_input = 1;
  }
  if (!is_quiet(jk, c))
    mlg_jk_record_call(jk, c, cx, name_is(jk, c, "echo") ? MLG_A_J_ECHO : MLG_A_F_OTHER);
  return c->name + 1;
}

void mlg_jk_walk(mlg_jk *jk, size_t a, size_t b, const mlg_jk_ctx *cx_in)
{
  mlg_jk_ctx cx = *cx_in;
  mlg_jk_call c;
  size_t i = a;

  while (i < b && !jk->pl.rc) {
    const mlg_gtok *t = &jk->t[i];
    if (t->kind == MLG_GT_STRING) {
      mlg_jk_exprs(jk, i, MLG_A_F_OTHER, NULL, &cx, NULL, 0);
      i++;
      continue;
    }
    if (is(jk, i, "@") && is(jk, i + 1, "Library")) {
      i = mlg_jk_at_library(jk, i, b);
      continue;
    }
    if (t->kind == MLG_GT_IDENT && !(is_dot(jk, i + 1) && i + 2 < b &&
                                     jk->t[i + 2].kind == MLG_GT_IDENT) &&
        mlg_jk_call_at(jk, i, b, &c) == 0) {
      size_t nx = handle(jk, &c, &cx, b);
      i = nx > i ? nx : i + 1;
      continue;
    }
    i++;
  }
}
