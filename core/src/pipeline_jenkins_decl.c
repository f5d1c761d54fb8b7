/*
 * Jenkinsfiles: the declarative `pipeline { }` block. Sections and stage
 * directives are read as calls (`agent { ... }`, `stage('x') { ... }`);
 * a directive this reader does not know is skipped with a note, and the
 * `steps` of a stage are handed to the scripted walker with the stage's
 * context (agent, environment, credentials, reach).
 */
#include <stdio.h>
#include <string.h>

#include "jenkins.h"

static int is(const mlg_jk *jk, size_t i, const char *s)
{
  return mlg_jk_is(jk, i, s);
}

/* Iterates the directives of [a, b): returns 1 with *c filled, 0 at the
 * end; what is no call is skipped with a note naming where. */
static int next_directive(mlg_jk *jk, size_t *i, size_t b, mlg_jk_call *c, const char *where)
{
  while (*i < b && !jk->pl.rc) {
    size_t e;
    if (is(jk, *i, ";")) {
      (*i)++;
      continue;
    }
    if (jk->t[*i].kind == MLG_GT_IDENT && mlg_jk_call_at(jk, *i, b, c) == 0) {
      *i = c->end > *i ? c->end : *i + 1;
      return 1;
    }
    mlg_jk_note(jk, *i, "unexpected '%.*s' in %s skipped",
                (int)(jk->t[*i].len > 40 ? 40 : jk->t[*i].len),
                jk->t[*i].kind == MLG_GT_STRING ? "string" : jk->t[*i].text, where);
    e = mlg_jk_stmt_end(jk, *i, b);
    *i = e > *i ? e : *i + 1;
  }
  return 0;
}

static int named(const mlg_jk *jk, const mlg_jk_call *c, const char *s)
{
  return c->first == c->name && is(jk, c->name, s);
}

/* The value tokens of a directive's first argument (`image 'x'`,
 * `label('x')`, `label label: 'x'`). */
static int first_arg(const mlg_jk *jk, const mlg_jk_call *c, const char *alt, size_t *va,
                     size_t *vb)
{
  return (mlg_jk_arg(jk, c->args_a, c->args_b, "", va, vb) == 0 && *va < *vb) ||
         (alt && mlg_jk_arg(jk, c->args_a, c->args_b, alt, va, vb) == 0 && *va < *vb);
}

/* --- agent -------------------------------------------------------------------- */

/* Reads label/image/args directives of a docker, node, dockerfile or
 * kubernetes block or argument list into o. */
static void agent_details(mlg_jk *jk, mlg_node *o, size_t a, size_t b, mlg_node **runs_on,
                          mlg_node **container, int block, const mlg_jk_ctx *cx)
{
  mlg_pl *pl = &jk->pl;
  mlg_jk_call c;
  size_t i = a, va, vb, s;
  static const char *const keys[] = {"label", "image", "args", NULL};
  size_t k;

  if (!block) { /* docker(image: 'x', label: 'y') */
    for (k = 0; keys[k]; k++) {
      if (mlg_jk_arg(jk, a, b, keys[k], &va, &vb) || va >= vb)
        continue;
      if (k == 0) {
        mlg_node *l = mlg_jk_val(jk, va, vb);
        mlg_pl_set(pl, o, MLG_A_J_LABEL, l);
        *runs_on = mlg_jk_runs_on(jk, l, va - 2);
      } else if (k == 1 && (s = mlg_jk_str1(jk, va, vb)) != MLG_JK_NONE) {
        mlg_pl_set(pl, o, MLG_A_IMAGE, *container = mlg_jk_image(jk, s));
      } else if (k == 2) {
        mlg_pl_set(pl, o, MLG_A_ARGS, mlg_jk_val(jk, va, vb));
      }
    }
    return;
  }
  while (next_directive(jk, &i, b, &c, "agent")) {
    if (!first_arg(jk, &c, NULL, &va, &vb))
      continue;
    if (named(jk, &c, "label")) {
      mlg_node *l = mlg_jk_val(jk, va, vb);
      mlg_pl_set(pl, o, MLG_A_J_LABEL, l);
      *runs_on = mlg_jk_runs_on(jk, l, c.name);
      mlg_jk_exprs_range(jk, va, vb, MLG_A_J_LABEL, cx);
    } else if (named(jk, &c, "image") && (s = mlg_jk_str1(jk, va, vb)) != MLG_JK_NONE) {
      mlg_pl_set(pl, o, MLG_A_IMAGE, *container = mlg_jk_image(jk, s));
      mlg_jk_exprs_range(jk, va, vb, MLG_A_F_IMAGE, cx);
    } else if (named(jk, &c, "args")) {
      mlg_pl_set(pl, o, MLG_A_ARGS, mlg_jk_val(jk, va, vb));
    }
  }
}

mlg_node *mlg_jk_agent(mlg_jk *jk, const mlg_jk_call *c, mlg_node **runs_on,
                       mlg_node **container, const mlg_jk_ctx *cx)
{
  mlg_pl *pl = &jk->pl;
  mlg_node *o = mlg_pl_map(pl, 7);
  mlg_pl_atom kind = MLG_A_J_UNKNOWN;
  mlg_jk_call d;
  size_t i, a, b, va, vb, s;

  *runs_on = *container = NULL;
  if (!o)
    return NULL;
  if (c->closure == MLG_JK_NONE) { /* agent any | none | label 'x' */
    if (is(jk, c->args_a, "any"))
      kind = MLG_A_J_ANY;
    else if (is(jk, c->args_a, "none"))
      kind = MLG_A_V_NONE;
    else if (is(jk, c->args_a, "label") && c->args_a + 1 < c->args_b) {
      mlg_node *l = mlg_jk_val(jk, c->args_a + 1, c->args_b);
      kind = MLG_A_J_LABEL;
      mlg_pl_set(pl, o, MLG_A_J_LABEL, l);
      *runs_on = mlg_jk_runs_on(jk, l, c->args_a);
    } else {
      mlg_jk_note(jk, c->name, "agent of an unknown form");
    }
  } else {
    a = c->closure + 1;
    b = jk->t[c->closure].match;
    i = a;
    while (next_directive(jk, &i, b, &d, "agent")) {
      int block = d.closure != MLG_JK_NONE;
      size_t da = block ? d.closure + 1 : d.args_a, db = block ? jk->t[d.closure].match : d.args_b;
      if (named(jk, &d, "label")) {
        kind = MLG_A_J_LABEL;
        if (first_arg(jk, &d, "label", &va, &vb)) {
          mlg_node *l = mlg_jk_val(jk, va, vb);
          mlg_pl_set(pl, o, MLG_A_J_LABEL, l);
          *runs_on = mlg_jk_runs_on(jk, l, d.name);
          mlg_jk_exprs_range(jk, va, vb, MLG_A_J_LABEL, cx);
        }
      } else if (named(jk, &d, "docker")) {
        kind = MLG_A_V_DOCKER;
        if (!block && (s = mlg_jk_str1(jk, d.args_a, d.args_b)) != MLG_JK_NONE) {
          mlg_pl_set(pl, o, MLG_A_IMAGE, *container = mlg_jk_image(jk, s));
          mlg_jk_exprs_range(jk, d.args_a, d.args_b, MLG_A_F_IMAGE, cx);
        } else {
          agent_details(jk, o, da, db, runs_on, container, block, cx);
        }
      } else if (named(jk, &d, "node") || named(jk, &d, "dockerfile") ||
                 named(jk, &d, "kubernetes")) {
        kind = named(jk, &d, "node")         ? MLG_A_J_NODE
               : named(jk, &d, "dockerfile") ? MLG_A_J_DOCKERFILE
                                             : MLG_A_J_KUBERNETES;
        if (block)
          agent_details(jk, o, da, db, runs_on, container, 1, cx);
      } else if (named(jk, &d, "any")) {
        kind = MLG_A_J_ANY;
      } else {
        mlg_jk_note(jk, d.name, "unknown agent type '%.*s'", (int)jk->t[d.name].len,
                    jk->t[d.name].text);
      }
    }
  }
  mlg_pl_set_atom(pl, o, MLG_A_KIND, kind);
  mlg_jk_set_pos(jk, o, c->name);
  mlg_jk_exprs_range(jk, c->args_a, c->end, MLG_A_F_OTHER, cx);
  return o;
}

/* --- environment -------------------------------------------------------------- */

static mlg_pl_atom vtype(const mlg_jk *jk, size_t a, size_t b)
{
  const mlg_gtok *t = &jk->t[a];
  if (b != a + 1)
    return MLG_A_V_EXPR;
  if (t->kind == MLG_GT_STRING)
    return MLG_A_V_STRING;
  if (t->kind == MLG_GT_NUMBER)
    return memchr(t->text, '.', t->len) ? MLG_A_V_FLOAT : MLG_A_V_INT;
  if (is(jk, a, "true") || is(jk, a, "false"))
    return MLG_A_V_BOOL;
  if (is(jk, a, "null"))
    return MLG_A_V_NULL;
  return MLG_A_V_EXPR;
}

/* `environment { NAME = value ... }` at [a, b): [kv] in *kvs, the
 * credentials() entries in *creds and their variables in *vars. */
static void environment(mlg_jk *jk, size_t a, size_t b, const mlg_jk_ctx *cx, mlg_node **kvs,
                        mlg_node **creds, mlg_node **vars)
{
  mlg_pl *pl = &jk->pl;
  size_t i = a, e, va, s;
  char key[128];

  *kvs = mlg_pl_seq(pl, 4);
  *creds = mlg_pl_seq(pl, 1);
  *vars = mlg_pl_seq(pl, 1);
  while (i < b && !pl->rc) {
    mlg_node *o;
    e = mlg_jk_stmt_end(jk, i, b);
    if (e <= i)
      e = i + 1;
    if (jk->t[i].kind != MLG_GT_IDENT || !is(jk, i + 1, "=") || i + 2 >= e) {
      if (!is(jk, i, ";"))
        mlg_jk_note(jk, i, "unexpected statement in environment skipped");
      i = e;
      continue;
    }
    va = i + 2;
    snprintf(key, sizeof key, "%.*s", (int)jk->t[i].len, jk->t[i].text);
    if (!(o = mlg_pl_map(pl, 6)))
      return;
    mlg_pl_set(pl, o, MLG_A_NAME, mlg_jk_tokstr(jk, i));
    if (is(jk, va, "credentials") && is(jk, va + 1, "(") && jk->t[va + 1].match + 1 == e &&
        (s = mlg_jk_str1(jk, va + 2, jk->t[va + 1].match)) != MLG_JK_NONE) {
      mlg_node *c = mlg_pl_map(pl, 6), *v = mlg_pl_seq(pl, 3);
      mlg_node *id = mlg_jk_val(jk, s, s + 1);
      static const char *const sfx[] = {"", "_USR", "_PSW"};
      size_t k;
      mlg_pl_set(pl, o, MLG_A_VALUE, id);
      mlg_pl_set_atom(pl, o, MLG_A_VTYPE, MLG_A_V_STRING);
      mlg_pl_set_bool(pl, o, MLG_A_J_CREDENTIAL, 1);
      mlg_pl_set(pl, c, MLG_A_ID, id);
      mlg_pl_set_atom(pl, c, MLG_A_KIND, MLG_A_J_UNKNOWN);
      for (k = 0; k < 3; k++) {
        char vn[160];
        int n = snprintf(vn, sizeof vn, "%s%s", key, sfx[k]);
        mlg_node *str = mlg_pl_str(pl, vn, n > 0 ? (size_t)n : 0);
        mlg_pl_push(pl, v, str);
        mlg_pl_push(pl, *vars, str);
      }
      mlg_pl_set(pl, c, MLG_A_J_VARIABLES, v);
      mlg_jk_set_pos(jk, c, i);
      mlg_pl_set_atom(pl, c, MLG_A_J_VIA, MLG_A_ENVIRONMENT);
      mlg_pl_push(pl, *creds, c);
    } else {
      mlg_pl_set(pl, o, MLG_A_VALUE, mlg_jk_val(jk, va, e));
      mlg_pl_set_atom(pl, o, MLG_A_VTYPE, vtype(jk, va, e));
    }
    mlg_jk_set_pos(jk, o, i);
    mlg_pl_push(pl, *kvs, o);
    for (s = va; s < e; s++)
      if (jk->t[s].kind == MLG_GT_STRING)
        mlg_jk_exprs(jk, s, MLG_A_F_ENVIRONMENT, key, cx, NULL, 0);
    i = e;
  }
}

/* --- when --------------------------------------------------------------------- */

typedef struct when_st {
  mlg_node *obj, *branches;
  unsigned mask;
} when_st;

static void when_block(mlg_jk *jk, size_t a, size_t b, when_st *w, int negated, int depth,
                       const mlg_jk_ctx *cx)
{
  mlg_pl *pl = &jk->pl;
  mlg_jk_call c;
  size_t i = a, va, vb;

  while (next_directive(jk, &i, b, &c, "when")) {
    if (named(jk, &c, "changeRequest")) {
      mlg_pl_set_bool(pl, w->obj, MLG_A_J_CHANGE_REQUEST, !negated);
      if (!negated)
        w->mask &= MLG_JK_R_MR | MLG_JK_R_FORK;
      else
        w->mask &= ~(unsigned)(MLG_JK_R_MR | MLG_JK_R_FORK);
    } else if (named(jk, &c, "branch") && !negated) {
      if (first_arg(jk, &c, "pattern", &va, &vb)) {
        if (!w->branches) {
          w->branches = mlg_pl_seq(pl, 1);
          mlg_pl_set(pl, w->obj, MLG_A_BRANCHES, w->branches);
        }
        mlg_pl_push(pl, w->branches, mlg_jk_val(jk, va, vb));
      }
      w->mask &= ~(unsigned)(MLG_JK_R_MR | MLG_JK_R_FORK);
    } else if ((named(jk, &c, "tag") || named(jk, &c, "buildingTag")) && !negated) {
      mlg_pl_set_bool(pl, w->obj, MLG_A_TAG, 1);
      w->mask &= MLG_JK_R_TAG | MLG_JK_R_MANUAL | MLG_JK_R_API | MLG_JK_R_TRIGGER;
    } else if (named(jk, &c, "expression") && c.closure != MLG_JK_NONE) {
      size_t ea = c.closure + 1, eb = jk->t[c.closure].match;
      if (ea < eb)
        mlg_pl_set(pl, w->obj, MLG_A_J_EXPRESSION, mlg_jk_val(jk, ea, eb));
    } else if ((named(jk, &c, "allOf") || named(jk, &c, "not")) && c.closure != MLG_JK_NONE &&
               depth < 8) {
      when_block(jk, c.closure + 1, jk->t[c.closure].match, w,
                 named(jk, &c, "not") ? !negated : negated, depth + 1, cx);
    }
  }
  mlg_jk_exprs_range(jk, a, b, MLG_A_J_WHEN, cx);
}

static mlg_node *when(mlg_jk *jk, const mlg_jk_call *c, unsigned *mask, const mlg_jk_ctx *cx)
{
  mlg_pl *pl = &jk->pl;
  when_st w;
  size_t a, b, off, end;

  memset(&w, 0, sizeof w);
  w.mask = MLG_JK_R_ALL;
  if (c->closure == MLG_JK_NONE || !(w.obj = mlg_pl_map(pl, 7)))
    return NULL;
  a = c->closure + 1;
  b = jk->t[c->closure].match;
  when_block(jk, a, b, &w, 0, 0, cx);
  off = jk->t[c->closure].end_off;
  end = jk->t[b].off;
  if (end - off > MLG_JK_MAX_CODE)
    end = off + MLG_JK_MAX_CODE;
  while (off < end && strchr(" \t\r\n", jk->pl.text[off]))
    off++;
  while (end > off && strchr(" \t\r\n", jk->pl.text[end - 1]))
    end--;
  mlg_pl_set(pl, w.obj, MLG_A_RAW, mlg_pl_str(pl, jk->pl.text + off, end - off));
  mlg_jk_set_pos(jk, w.obj, c->name);
  *mask &= w.mask;
  return w.obj;
}

/* --- stages ------------------------------------------------------------------- */

static void stages(mlg_jk *jk, size_t a, size_t b, const mlg_jk_ctx *cx, const char *parent,
                   const char *kind);

/* The steps of a post block's conditions, walked into job j. */
static void post_block(mlg_jk *jk, const mlg_jk_call *c, const mlg_jk_ctx *cx, mlg_jk_job *j,
                       mlg_node *list)
{
  mlg_pl *pl = &jk->pl;
  mlg_jk_call d;
  size_t i, a, b;
  char cond[64];

  if (c->closure == MLG_JK_NONE)
    return;
  a = c->closure + 1;
  b = jk->t[c->closure].match;
  i = a;
  while (next_directive(jk, &i, b, &d, "post")) {
    mlg_jk_ctx nc = *cx;
    if (d.closure == MLG_JK_NONE || d.first != d.name) {
      mlg_jk_note(jk, d.name, "post condition without a block skipped");
      continue;
    }
    snprintf(cond, sizeof cond, "%.*s", (int)jk->t[d.name].len, jk->t[d.name].text);
    nc.job = j;
    nc.post = mlg_doc_strdup(pl->doc, cond);
    if (list) {
      mlg_node *o = mlg_pl_map(pl, 4);
      nc.post_steps = mlg_pl_seq(pl, 2);
      mlg_pl_set(pl, o, MLG_A_J_CONDITION, mlg_jk_tokstr(jk, d.name));
      mlg_jk_set_pos(jk, o, d.name);
      mlg_pl_set(pl, o, MLG_A_STEPS, nc.post_steps);
      mlg_pl_push(pl, list, o);
    }
    mlg_jk_walk(jk, d.closure + 1, jk->t[d.closure].match, &nc);
  }
}

static void stage(mlg_jk *jk, const mlg_jk_call *c, const mlg_jk_ctx *pcx, const char *parent,
                  const char *kind)
{
  mlg_pl *pl = &jk->pl;
  mlg_jk_call d, steps_c, post_c, nest_c, when_c, input_c;
  int has_steps = 0, has_post = 0, has_when = 0, has_input = 0, nest = 0;
  mlg_jk_ctx cx = *pcx;
  mlg_jk_job *j = NULL;
  size_t i, a, b, va, vb, sn, nl;
  const char *nm;
  char *route;
  mlg_node *when_obj = NULL;

  memset(&steps_c, 0, sizeof steps_c);
  post_c = nest_c = when_c = input_c = steps_c;
  if (mlg_jk_arg(jk, c->args_a, c->args_b, "", &va, &vb) || va >= vb) {
    mlg_jk_note(jk, c->name, "stage without a name skipped");
    return;
  }
  if (c->closure == MLG_JK_NONE) {
    mlg_jk_note(jk, c->name, "stage without a body skipped");
    return;
  }
  if ((sn = mlg_jk_str1(jk, va, vb)) != MLG_JK_NONE) {
    nm = jk->t[sn].text;
    nl = jk->t[sn].len;
  } else {
    nm = pl->text + jk->t[va].off;
    nl = jk->t[vb - 1].end_off - jk->t[va].off;
    if (nl > MLG_JK_MAX_CODE)
      nl = MLG_JK_MAX_CODE;
  }
  if (!(route = mlg_jk_route(jk, parent, kind, nm, nl)))
    return;
  cx.section = route;
  cx.job = NULL;
  a = c->closure + 1;
  b = jk->t[c->closure].match;
  i = a;
  while (next_directive(jk, &i, b, &d, "stage")) {
    if (named(jk, &d, "agent")) {
      mlg_node *ro, *ct;
      cx.agent = mlg_jk_agent(jk, &d, &ro, &ct, &cx);
      cx.runs_on = ro;
      cx.container = ct;
    } else if (named(jk, &d, "environment") && d.closure != MLG_JK_NONE) {
      mlg_node *kvs, *creds, *vars;
      environment(jk, d.closure + 1, jk->t[d.closure].match, &cx, &kvs, &creds, &vars);
      cx.env = mlg_jk_concat(jk, cx.env, kvs);
      cx.creds = mlg_jk_concat(jk, cx.creds, creds);
      cx.cred_vars = mlg_jk_concat(jk, cx.cred_vars, vars);
    } else if (named(jk, &d, "when")) {
      when_c = d;
      has_when = 1;
    } else if (named(jk, &d, "input")) {
      input_c = d;
      has_input = 1;
    } else if (named(jk, &d, "steps") && d.closure != MLG_JK_NONE) {
      steps_c = d;
      has_steps = 1;
    } else if (named(jk, &d, "post")) {
      post_c = d;
      has_post = 1;
    } else if ((named(jk, &d, "stages") || named(jk, &d, "parallel") ||
                named(jk, &d, "matrix")) &&
               d.closure != MLG_JK_NONE) {
      nest_c = d;
      nest = 1;
    } else if (named(jk, &d, "options") || named(jk, &d, "tools") ||
               named(jk, &d, "failFast") || named(jk, &d, "beforeAgent")) {
      mlg_jk_exprs_range(jk, d.args_a, d.end, MLG_A_F_OTHER, &cx);
    } else {
      mlg_jk_note(jk, d.name, "unknown stage directive '%.*s' skipped",
                  (int)jk->t[d.name].len, jk->t[d.name].text);
    }
  }
  /* when applies before the stage runs, to everything in it */
  if (has_when)
    when_obj = when(jk, &when_c, &cx.reach, &cx);
  if (has_steps || has_post) {
    if (!(j = mlg_jk_job_new(jk, &cx, c->name, va, vb, route)))
      return;
    mlg_pl_set(pl, j->obj, MLG_A_J_WHEN, when_obj);
    if (has_input) {
      mlg_node *o = mlg_pl_map(pl, 2);
      mlg_jk_set_pos(jk, o, input_c.name);
      mlg_pl_set(pl, j->obj, MLG_A_J_INPUT, o);
      j->has_input = 1;
    }
    cx.job = j;
  }
  mlg_jk_exprs_range(jk, c->args_a, c->args_b, MLG_A_F_NAME, &cx);
  if (has_input)
    mlg_jk_exprs_range(jk, input_c.args_a, input_c.end, MLG_A_F_OTHER, &cx);
  if (has_steps)
    mlg_jk_walk(jk, steps_c.closure + 1, jk->t[steps_c.closure].match, &cx);
  if (nest) {
    mlg_jk_ctx nc = cx;
    size_t na = nest_c.closure + 1, nb = jk->t[nest_c.closure].match;
    nc.job = NULL;
    if (named(jk, &nest_c, "matrix")) {
      char *mr = mlg_jk_route(jk, route, "matrix", NULL, 0);
      i = na;
      while (mr && next_directive(jk, &i, nb, &d, "matrix")) {
        if (named(jk, &d, "stages") && d.closure != MLG_JK_NONE)
          stages(jk, d.closure + 1, jk->t[d.closure].match, &nc, mr, "stages");
        else if (named(jk, &d, "agent")) {
          mlg_node *ro, *ct;
          nc.agent = mlg_jk_agent(jk, &d, &ro, &ct, &nc);
          nc.runs_on = ro;
          nc.container = ct;
        } else if (named(jk, &d, "when")) {
          when(jk, &d, &nc.reach, &nc);
        } else {
          mlg_jk_exprs_range(jk, d.args_a, d.end, MLG_A_F_OTHER, &nc);
        }
      }
    } else {
      stages(jk, na, nb, &nc, route, named(jk, &nest_c, "parallel") ? "parallel" : "stages");
    }
  }
  if (has_post)
    post_block(jk, &post_c, &cx, j, NULL);
  if (!has_steps && !has_post && !nest)
    mlg_jk_note(jk, c->name, "stage without steps, stages, parallel or matrix");
}

static void stages(mlg_jk *jk, size_t a, size_t b, const mlg_jk_ctx *cx, const char *parent,
                   const char *kind)
{
  mlg_jk_call c;
  size_t i = a;
  while (next_directive(jk, &i, b, &c, kind)) {
    if (named(jk, &c, "stage"))
      stage(jk, &c, cx, parent, kind);
    else
      mlg_jk_note(jk, c.name, "'%.*s' in %s skipped (only stage)", (int)jk->t[c.name].len,
                  jk->t[c.name].text, kind);
  }
}

/* --- the pipeline block ------------------------------------------------------- */

/* options, triggers: [{name, line, col, args}] */
static mlg_node *call_list(mlg_jk *jk, const mlg_jk_call *c, const char *where,
                           const mlg_jk_ctx *cx)
{
  mlg_pl *pl = &jk->pl;
  mlg_node *seq = mlg_pl_seq(pl, 4);
  mlg_jk_call d;
  size_t i;
  if (c->closure == MLG_JK_NONE)
    return seq;
  i = c->closure + 1;
  while (next_directive(jk, &i, jk->t[c->closure].match, &d, where)) {
    mlg_node *o = mlg_pl_map(pl, 4);
    mlg_pl_set(pl, o, MLG_A_NAME, mlg_jk_call_name(jk, &d));
    mlg_jk_set_pos(jk, o, d.name);
    mlg_pl_set(pl, o, MLG_A_ARGS, mlg_jk_args(jk, &d, MLG_A_F_OTHER, cx));
    mlg_pl_push(pl, seq, o);
  }
  return seq;
}

mlg_node *mlg_jk_param(mlg_jk *jk, const mlg_jk_call *d, const mlg_jk_ctx *cx)
{
  mlg_pl *pl = &jk->pl;
  mlg_node *o = mlg_pl_map(pl, 5);
  size_t va, vb, s;
  if (mlg_jk_arg(jk, d->args_a, d->args_b, "name", &va, &vb) == 0 &&
      (s = mlg_jk_str1(jk, va, vb)) != MLG_JK_NONE)
    mlg_pl_set(pl, o, MLG_A_NAME, mlg_jk_tokstr(jk, s));
  mlg_pl_set(pl, o, MLG_A_TYPE, mlg_jk_call_name(jk, d));
  mlg_jk_set_pos(jk, o, d->name);
  if (mlg_jk_arg(jk, d->args_a, d->args_b, "defaultValue", &va, &vb) == 0 && va < vb) {
    mlg_pl_set(pl, o, MLG_A_DEFAULT, mlg_jk_val(jk, va, vb));
    mlg_jk_exprs_range(jk, va, vb, MLG_A_F_DEFAULT, cx);
  } else if (mlg_jk_arg(jk, d->args_a, d->args_b, "choices", &va, &vb) == 0 &&
             is(jk, va, "[") && jk->t[va].match + 1 == vb) {
    size_t q = mlg_jk_next_comma(jk, va + 1, vb - 1);
    if (q > va + 1)
      mlg_pl_set(pl, o, MLG_A_DEFAULT, mlg_jk_val(jk, va + 1, q));
  }
  mlg_jk_exprs_range(jk, d->args_a, d->args_b, MLG_A_F_OTHER, cx);
  return o;
}

static mlg_node *parameters(mlg_jk *jk, const mlg_jk_call *c, const mlg_jk_ctx *cx)
{
  mlg_node *seq = mlg_pl_seq(&jk->pl, 4);
  mlg_jk_call d;
  size_t i;
  if (c->closure == MLG_JK_NONE)
    return seq;
  i = c->closure + 1;
  while (next_directive(jk, &i, jk->t[c->closure].match, &d, "parameters"))
    mlg_pl_push(&jk->pl, seq, mlg_jk_param(jk, &d, cx));
  return seq;
}

void mlg_jk_declarative(mlg_jk *jk, size_t a, size_t b, const mlg_jk_ctx *pcx)
{
  mlg_pl *pl = &jk->pl;
  mlg_jk_call c, stages_c, post_c;
  int has_stages = 0, has_post = 0;
  mlg_jk_ctx cx = *pcx;
  size_t i = a;

  memset(&stages_c, 0, sizeof stages_c);
  post_c = stages_c;
  if (jk->declarative) {
    mlg_jk_note(jk, a ? a - 1 : 0, "second pipeline block skipped");
    return;
  }
  jk->declarative = 1;
  cx.section = "pipeline";
  while (next_directive(jk, &i, b, &c, "pipeline")) {
    if (named(jk, &c, "agent")) {
      mlg_node *ro, *ct;
      cx.agent = jk->agent = mlg_jk_agent(jk, &c, &ro, &ct, &cx);
      cx.runs_on = ro;
      cx.container = ct;
    } else if (named(jk, &c, "environment") && c.closure != MLG_JK_NONE) {
      mlg_node *kvs, *creds, *vars;
      mlg_jk_ctx ec = cx;
      ec.section = "environment";
      environment(jk, c.closure + 1, jk->t[c.closure].match, &ec, &kvs, &creds, &vars);
      jk->env = kvs;
      cx.env = kvs;
      cx.creds = creds;
      cx.cred_vars = vars;
    } else if (named(jk, &c, "options")) {
      jk->options = call_list(jk, &c, "options", &cx);
    } else if (named(jk, &c, "triggers")) {
      jk->triggers = call_list(jk, &c, "triggers", &cx);
    } else if (named(jk, &c, "parameters")) {
      jk->params = parameters(jk, &c, &cx);
    } else if (named(jk, &c, "libraries") && c.closure != MLG_JK_NONE) {
      mlg_jk_call d;
      size_t k, va, vb;
      /* libraries { lib('x@y') } reads like `library 'x@y'` */
      k = c.closure + 1;
      while (next_directive(jk, &k, jk->t[c.closure].match, &d, "libraries"))
        if (named(jk, &d, "lib") && first_arg(jk, &d, NULL, &va, &vb))
          mlg_jk_lib(jk, va, vb, d.name, MLG_A_J_LIBRARIES);
    } else if (named(jk, &c, "stages") && c.closure != MLG_JK_NONE) {
      stages_c = c;
      has_stages = 1;
    } else if (named(jk, &c, "post")) {
      post_c = c;
      has_post = 1;
    } else if (named(jk, &c, "tools")) {
      mlg_jk_exprs_range(jk, c.args_a, c.end, MLG_A_F_OTHER, &cx);
    } else {
      mlg_jk_note(jk, c.name, "unknown pipeline section '%.*s' skipped",
                  (int)jk->t[c.name].len, jk->t[c.name].text);
    }
  }
  if (has_stages)
    stages(jk, stages_c.closure + 1, jk->t[stages_c.closure].match, &cx, NULL, "stages");
  else
    mlg_jk_note(jk, a ? a - 1 : 0, "pipeline without stages");
  if (has_post && post_c.closure != MLG_JK_NONE) {
    char *route = mlg_jk_route(jk, NULL, "post", NULL, 0);
    mlg_jk_job *j = NULL;
    mlg_jk_ctx pc = cx;
    if (route) {
      pc.section = route;
      j = mlg_jk_job_make(jk, &pc, post_c.name, mlg_pl_atom_node(pl, MLG_A_J_POST_JOB), NULL,
                          route);
    }
    if (j) {
      jk->post = mlg_pl_seq(pl, 2);
      post_block(jk, &post_c, &pc, j, jk->post);
    }
  }
}
