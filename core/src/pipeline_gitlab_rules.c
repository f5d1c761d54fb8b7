/*
 * GitLab conditions: a parser and three-valued evaluator of rules:if
 * expressions, the reach of a job per pipeline kind (gitlab.h, "reach"),
 * and the $[[ inputs.x ]] interpolations of the model.
 *
 * The evaluator binds what a pipeline kind fixes (CI_PIPELINE_SOURCE,
 * which of CI_COMMIT_BRANCH/CI_COMMIT_TAG/CI_MERGE_REQUEST_* are set, and
 * how branch, default branch and MR projects relate) and leaves every
 * other variable unknown, so "false" means "cannot be true in such a
 * pipeline" and the reach it computes never leaves out a job GitLab runs.
 */
#include <stdlib.h>
#include <string.h>

#include "gitlab.h"
#include "regex.h"

/* --- lexer and parser ---------------------------------------------------------- */

enum { T_VAR, T_STR, T_RE, T_NULL, T_EQ, T_NE, T_MATCH, T_NMATCH, T_AND, T_OR, T_LP, T_RP };
enum { N_VAR, N_STR, N_RE, N_NULL, N_EQ, N_NE, N_MATCH, N_NMATCH, N_AND, N_OR };

typedef struct tok {
  int type;
  const char *s; /* var name, string, pattern */
  size_t n;
  unsigned flags; /* regex flags */
} tok;

typedef struct enode {
  int type;
  const char *s;
  size_t n;
  unsigned flags;
  int a, b;            /* operands (indexes) */
  mlg_regex *re;       /* compiled on first use */
  int re_bad;
} enode;

typedef struct expr {
  tok *toks;
  size_t ntoks, pos;
  enode *nodes;
  size_t nnodes;
  int root, depth;
} expr;

static int is_word(char c)
{
  return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '_';
}

static int lex(expr *e, const char *s, size_t n)
{
  size_t i = 0;
  e->toks = malloc((n + 1) * sizeof *e->toks);
  if (!e->toks)
    return MLG_ENOMEM;
  while (i < n) {
    tok *t = &e->toks[e->ntoks];
    char c = s[i];
    memset(t, 0, sizeof *t);
    if (c == ' ' || c == '\t' || c == '\n' || c == '\r') {
      i++;
      continue;
    }
    if (c == '$') {
      size_t st;
      int brace = i + 1 < n && s[i + 1] == '{';
      st = i + 1 + (size_t)brace;
      for (i = st; i < n && is_word(s[i]); i++)
        ;
      if (i == st || (brace && (i >= n || s[i] != '}')))
        return MLG_EPARSE;
      t->type = T_VAR;
      t->s = s + st;
      t->n = i - st;
      i += (size_t)brace;
    } else if (c == '"' || c == '\'') {
      const char *q = memchr(s + i + 1, c, n - i - 1);
      if (!q)
        return MLG_EPARSE;
      t->type = T_STR;
      t->s = s + i + 1;
      t->n = (size_t)(q - (s + i + 1));
      i = (size_t)(q - s) + 1;
    } else if (c == '/') {
      size_t st = ++i;
      while (i < n && s[i] != '/') {
        if (s[i] == '\\' && i + 1 < n)
          i++;
        i++;
      }
      if (i >= n || i == st)
        return MLG_EPARSE;
      t->type = T_RE;
      t->s = s + st;
      t->n = i - st;
      for (i++; i < n && is_word(s[i]); i++) {
        switch (s[i]) {
        case 'i': t->flags |= MLG_RE_CASELESS; break;
        case 'm': t->flags |= MLG_RE_MULTILINE; break;
        case 's': t->flags |= MLG_RE_DOTALL; break;
        case 'x': t->flags |= MLG_RE_EXTENDED; break;
        default: return MLG_EPARSE;
        }
      }
    } else if (i + 1 < n && ((c == '=' && (s[i + 1] == '=' || s[i + 1] == '~')) ||
                             (c == '!' && (s[i + 1] == '=' || s[i + 1] == '~')) ||
                             (c == '&' && s[i + 1] == '&') || (c == '|' && s[i + 1] == '|'))) {
      t->type = c == '&' ? T_AND : c == '|' ? T_OR
                : c == '=' ? (s[i + 1] == '=' ? T_EQ : T_MATCH)
                           : (s[i + 1] == '=' ? T_NE : T_NMATCH);
      i += 2;
    } else if (c == '(' || c == ')') {
      t->type = c == '(' ? T_LP : T_RP;
      i++;
    } else if (n - i >= 4 && !memcmp(s + i, "null", 4) && (n - i == 4 || !is_word(s[i + 4]))) {
      t->type = T_NULL;
      i += 4;
    } else {
      return MLG_EPARSE;
    }
    e->ntoks++;
  }
  return 0;
}

static int add_node(expr *e, int type, int a, int b, const tok *t)
{
  enode *n = &e->nodes[e->nnodes];
  memset(n, 0, sizeof *n);
  n->type = type;
  n->a = a;
  n->b = b;
  if (t) {
    n->s = t->s;
    n->n = t->n;
    n->flags = t->flags;
  }
  return (int)e->nnodes++;
}

static int p_or(expr *e);

static int p_primary(expr *e)
{
  tok *t;
  int r;
  if (e->pos >= e->ntoks)
    return -1;
  t = &e->toks[e->pos++];
  switch (t->type) {
  case T_VAR: return add_node(e, N_VAR, -1, -1, t);
  case T_STR: return add_node(e, N_STR, -1, -1, t);
  case T_RE: return add_node(e, N_RE, -1, -1, t);
  case T_NULL: return add_node(e, N_NULL, -1, -1, t);
  case T_LP:
    if (++e->depth > 64)
      return -1;
    r = p_or(e);
    e->depth--;
    if (r < 0 || e->pos >= e->ntoks || e->toks[e->pos].type != T_RP)
      return -1;
    e->pos++;
    return r;
  default: return -1;
  }
}

static int p_cmp(expr *e)
{
  int l = p_primary(e), r, op;
  while (l >= 0 && e->pos < e->ntoks &&
         (e->toks[e->pos].type == T_EQ || e->toks[e->pos].type == T_NE ||
          e->toks[e->pos].type == T_MATCH || e->toks[e->pos].type == T_NMATCH)) {
    op = e->toks[e->pos++].type;
    if ((r = p_primary(e)) < 0)
      return -1;
    l = add_node(e, op == T_EQ ? N_EQ : op == T_NE ? N_NE : op == T_MATCH ? N_MATCH : N_NMATCH,
                 l, r, NULL);
  }
  return l;
}

static int p_and(expr *e)
{
  int l = p_cmp(e), r;
  while (l >= 0 && e->pos < e->ntoks && e->toks[e->pos].type == T_AND) {
    e->pos++;
    if ((r = p_cmp(e)) < 0)
      return -1;
    l = add_node(e, N_AND, l, r, NULL);
  }
  return l;
}

static int p_or(expr *e)
{
  int l = p_and(e), r;
  while (l >= 0 && e->pos < e->ntoks && e->toks[e->pos].type == T_OR) {
    e->pos++;
    if ((r = p_and(e)) < 0)
      return -1;
    l = add_node(e, N_OR, l, r, NULL);
  }
  return l;
}

static void expr_free(expr *e)
{
  size_t i;
  for (i = 0; e->nodes && i < e->nnodes; i++)
    mlg_regex_free(e->nodes[i].re);
  free(e->nodes);
  free(e->toks);
  memset(e, 0, sizeof *e);
}

/* 0, MLG_EPARSE or MLG_ENOMEM. */
static int expr_parse(expr *e, const char *s, size_t n)
{
  int rc;
  memset(e, 0, sizeof *e);
  if ((rc = lex(e, s, n)) != 0)
    return rc;
  if (!e->ntoks)
    return MLG_EPARSE;
  /* The evaluator recurses once per operator. */
  if (e->ntoks > 4096)
    return MLG_ELIMIT;
  if (!(e->nodes = malloc(e->ntoks * 2 * sizeof *e->nodes)))
    return MLG_ENOMEM;
  e->root = p_or(e);
  return e->root < 0 || e->pos != e->ntoks ? MLG_EPARSE : 0;
}

/* --- evaluation ------------------------------------------------------------------ */

enum { F = 0, T = 1, U = 2 };
/* A value: unset, known text, a symbol (set, text unknown, equal only to the
 * same symbol), set but unknown, anything, or a truth value. */
enum { V_UNSET, V_TEXT, V_SYM, V_SET, V_ANY, V_TRUTH, V_RE };
enum { S_PROJ_ID = 1, S_FORK_ID, S_PROJ_PATH, S_FORK_PATH, S_BRANCH, S_DEFAULT };

typedef struct val {
  int k, sym, truth;
  const char *s;
  size_t n;
  int node;
} val;

typedef struct scen {
  const char *source;
  int mr;  /* 0 none, 1 same project, 2 fork */
  int ref; /* 0 MR, 1 branch, 2 default branch, 3 tag */
} scen;

static int is_var(const enode *n, const char *name)
{
  return n->n == strlen(name) && !memcmp(n->s, name, n->n);
}

static val mk(int k, int sym)
{
  val v;
  memset(&v, 0, sizeof v);
  v.k = k;
  v.sym = sym;
  return v;
}

static const char *const mr_set[] = {
    "CI_MERGE_REQUEST_IID", "CI_MERGE_REQUEST_ID", "CI_MERGE_REQUEST_PROJECT_URL",
    "CI_MERGE_REQUEST_REF_PATH", "CI_MERGE_REQUEST_SOURCE_BRANCH_NAME",
    "CI_MERGE_REQUEST_SOURCE_PROJECT_URL", "CI_MERGE_REQUEST_TARGET_BRANCH_NAME",
    "CI_MERGE_REQUEST_TITLE", "CI_MERGE_REQUEST_EVENT_TYPE"};

static val lookup(const enode *n, const scen *s)
{
  size_t i;
  val v;
  if (is_var(n, "CI_PIPELINE_SOURCE")) {
    v = mk(V_TEXT, 0);
    v.s = s->source;
    v.n = strlen(s->source);
    return v;
  }
  if (n->n > 17 && !memcmp(n->s, "CI_MERGE_REQUEST_", 17)) {
    if (!s->mr)
      return mk(V_UNSET, 0);
    if (is_var(n, "CI_MERGE_REQUEST_PROJECT_ID"))
      return mk(V_SYM, S_PROJ_ID);
    if (is_var(n, "CI_MERGE_REQUEST_SOURCE_PROJECT_ID"))
      return mk(V_SYM, s->mr == 2 ? S_FORK_ID : S_PROJ_ID);
    if (is_var(n, "CI_MERGE_REQUEST_PROJECT_PATH"))
      return mk(V_SYM, S_PROJ_PATH);
    if (is_var(n, "CI_MERGE_REQUEST_SOURCE_PROJECT_PATH"))
      return mk(V_SYM, s->mr == 2 ? S_FORK_PATH : S_PROJ_PATH);
    for (i = 0; i < sizeof mr_set / sizeof mr_set[0]; i++)
      if (is_var(n, mr_set[i]))
        return mk(V_SET, 0);
    return mk(V_ANY, 0);
  }
  if (n->n > 23 && !memcmp(n->s, "CI_EXTERNAL_PULL_REQUEST", 24))
    return mk(V_UNSET, 0);
  if (is_var(n, "CI_PROJECT_ID"))
    return mk(V_SYM, S_PROJ_ID);
  if (is_var(n, "CI_PROJECT_PATH"))
    return mk(V_SYM, S_PROJ_PATH);
  if (is_var(n, "CI_DEFAULT_BRANCH"))
    return mk(V_SYM, S_DEFAULT);
  if (is_var(n, "CI_COMMIT_TAG"))
    return mk(s->ref == 3 ? V_SET : V_UNSET, 0);
  if (is_var(n, "CI_COMMIT_BRANCH"))
    return s->ref == 1 ? mk(V_SYM, S_BRANCH) : s->ref == 2 ? mk(V_SYM, S_DEFAULT)
                                                            : mk(V_UNSET, 0);
  if (is_var(n, "CI_COMMIT_REF_NAME") || is_var(n, "CI_COMMIT_REF_SLUG"))
    return s->ref == 1 && is_var(n, "CI_COMMIT_REF_NAME") ? mk(V_SYM, S_BRANCH)
           : s->ref == 2 && is_var(n, "CI_COMMIT_REF_NAME") ? mk(V_SYM, S_DEFAULT)
                                                             : mk(V_SET, 0);
  return mk(V_ANY, 0);
}

static int truth(val v)
{
  switch (v.k) {
  case V_UNSET: return F;
  case V_TEXT: return v.n ? T : F;
  case V_SYM: case V_SET: case V_RE: return T;
  case V_TRUTH: return v.truth;
  default: return U;
  }
}

static int not3(int x)
{
  return x == U ? U : !x;
}

static int eq3(val a, val b)
{
  if (a.k == V_ANY || b.k == V_ANY || a.k == V_TRUTH || b.k == V_TRUTH || a.k == V_RE ||
      b.k == V_RE)
    return U;
  if (a.k == V_UNSET || b.k == V_UNSET)
    return a.k == b.k ? T : F;
  if (a.k == V_TEXT && b.k == V_TEXT)
    return a.n == b.n && !memcmp(a.s, b.s, a.n) ? T : F;
  if (a.k == V_SYM && b.k == V_SYM)
    return a.sym == b.sym ? T : F;
  return U;
}

static val eval(expr *e, int i, const scen *s);

static int match3(expr *e, val a, int ri, const scen *s)
{
  enode *r = &e->nodes[ri];
  size_t ov[2];
  char *pat;
  size_t k, o;
  int rc;

  if (r->type != N_RE)
    return U; /* a variable holding a pattern */
  if (a.k == V_UNSET)
    return F;
  if (a.k != V_TEXT)
    return U;
  if (!r->re && !r->re_bad) {
    if (!(pat = malloc(r->n + 1)))
      return U;
    for (k = 0, o = 0; k < r->n; k++) {
      if (r->s[k] == '\\' && k + 1 < r->n && r->s[k + 1] == '/')
        k++;
      pat[o++] = r->s[k];
    }
    if (mlg_regex_compile(&r->re, pat, o, r->flags, NULL, NULL) != 0)
      r->re_bad = 1;
    free(pat);
  }
  (void)s;
  if (!r->re)
    return U;
  rc = mlg_regex_exec(r->re, a.s, a.n, 0, ov, 1, NULL);
  return rc > 0 ? T : rc == 0 ? F : U;
}

static val eval(expr *e, int i, const scen *s)
{
  enode *n = &e->nodes[i];
  val v = mk(V_TRUTH, 0), a, b;
  int x, y;

  switch (n->type) {
  case N_VAR: return lookup(n, s);
  case N_STR:
    v = mk(V_TEXT, 0);
    v.s = n->s;
    v.n = n->n;
    return v;
  case N_RE: return mk(V_RE, 0);
  case N_NULL: return mk(V_UNSET, 0);
  case N_EQ: case N_NE:
    x = eq3(eval(e, n->a, s), eval(e, n->b, s));
    v.truth = n->type == N_EQ ? x : not3(x);
    return v;
  case N_MATCH: case N_NMATCH:
    x = match3(e, eval(e, n->a, s), n->b, s);
    v.truth = n->type == N_MATCH ? x : not3(x);
    return v;
  case N_AND:
    a = eval(e, n->a, s);
    if ((x = truth(a)) == F)
      return a;
    b = eval(e, n->b, s);
    y = truth(b);
    v.truth = y == F ? F : (x == T && y == T) ? T : U;
    return v;
  default: /* N_OR */
    a = eval(e, n->a, s);
    if ((x = truth(a)) == T)
      return a;
    b = eval(e, n->b, s);
    y = truth(b);
    v.truth = y == T ? T : (x == F && y == F) ? F : U;
    return v;
  }
}

/* Truth of an `if:` text in a scenario; U when it does not parse. */
static int cond3(const mlg_node *c, const scen *s)
{
  expr e;
  int r;
  if (!c || c->type != MLG_STR)
    return c ? U : T;
  if (expr_parse(&e, c->u.str.ptr, c->u.str.len)) {
    expr_free(&e);
    return U;
  }
  r = truth(eval(&e, e.root, s));
  expr_free(&e);
  return r;
}

int mlg_gl_check_rules(mlg_gl *g, const mlg_node *rules, const char *where)
{
  size_t i;
  expr e;
  int rc;

  if (!rules || rules->type != MLG_SEQ)
    return 0;
  for (i = 0; i < rules->u.seq.len && !g->pl.rc; i++) {
    const mlg_node *r = rules->u.seq.items[i], *c;
    if (r->type == MLG_SEQ) {
      mlg_gl_check_rules(g, r, where);
      continue;
    }
    if (!(c = mlg_gl_get(r, "if")) || c->type == MLG_NULL)
      continue;
    if (c->type != MLG_STR)
      return mlg_gl_fail(g, c, "%s:rules:rule if should be a string", where);
    rc = expr_parse(&e, c->u.str.ptr, c->u.str.len);
    expr_free(&e);
    if (rc == MLG_ENOMEM)
      return mlg_pl_oom(&g->pl);
    if (rc == MLG_ELIMIT)
      return mlg_gl_fail(g, c, "%s:rules:rule if: expression longer than 4096 tokens", where);
    if (rc)
      return mlg_gl_fail(g, c, "%s:rules:rule if invalid expression syntax", where);
  }
  return g->pl.rc;
}

/* --- reach ------------------------------------------------------------------- */

static int is_never(const mlg_node *w)
{
  return mlg_pl_is_str(w, "never");
}

/* Rules: may a rule that does not say `when: never` be the first to
 * match? (No match: not run.) */
static int rules_may(const mlg_node *rules, const scen *s, int depth)
{
  size_t i;
  for (i = 0; rules && rules->type == MLG_SEQ && i < rules->u.seq.len; i++) {
    const mlg_node *r = rules->u.seq.items[i];
    int m;
    if (r->type == MLG_SEQ && depth < 10) {
      /* a spliced list: its rules in order; approximate the stop */
      if (rules_may(r, s, depth + 1))
        return 1;
      continue;
    }
    if (r->type != MLG_MAP)
      continue;
    m = cond3(mlg_gl_get(r, "if"), s);
    if (m != F && (mlg_gl_find(r, "changes") || mlg_gl_find(r, "exists")))
      m = U;
    if (m != F && !is_never(mlg_gl_get(r, "when")))
      return 1;
    if (m == T)
      return 0;
  }
  return 0;
}

static int ref_is(const mlg_node *r, const char *s)
{
  return mlg_pl_is_str(r, s);
}

/* Does one only/except ref match the scenario? */
static int ref3(const mlg_node *r, const scen *s)
{
  const char *src = s->source;
  if (ref_is(r, "branches"))
    return s->ref == 1 || s->ref == 2 ? T : F;
  if (ref_is(r, "tags"))
    return s->ref == 3 ? T : F;
  if (ref_is(r, "merge_requests"))
    return s->mr ? T : F;
  if (ref_is(r, "schedules"))
    return !strcmp(src, "schedule") ? T : F;
  if (ref_is(r, "web"))
    return !strcmp(src, "web") ? T : F;
  if (ref_is(r, "api"))
    return !strcmp(src, "api") ? T : F;
  if (ref_is(r, "triggers"))
    return !strcmp(src, "trigger") ? T : F;
  if (ref_is(r, "pipelines"))
    return !strcmp(src, "pipeline") || !strcmp(src, "parent_pipeline") ? T : F;
  if (ref_is(r, "pushes"))
    return !strcmp(src, "push") ? T : F;
  if (ref_is(r, "external_pull_requests") || ref_is(r, "chat"))
    return F;
  return U; /* a branch name or /regex/ */
}

static int any3(int acc, int x)
{
  return acc == T || x == T ? T : (acc == U || x == U) ? U : F;
}

/* Does an only/except spec match? (refs, variables, changes ANDed) */
static int spec3(const mlg_node *v, const scen *s, int is_only)
{
  const mlg_node *refs = v, *vars = NULL;
  int r = F, x = F, res;
  size_t i;

  if (v && v->type == MLG_MAP) {
    refs = mlg_gl_get(v, "refs");
    vars = mlg_gl_get(v, "variables");
  }
  if (refs && mlg_pl_is_scalar(refs)) {
    r = ref3(refs, s);
  } else if (refs && refs->type == MLG_SEQ) {
    for (i = 0; i < refs->u.seq.len; i++)
      r = any3(r, ref3(refs->u.seq.items[i], s));
  } else {
    r = is_only ? T : F; /* no refs: any (only) */
  }
  res = r;
  if (vars && vars->type == MLG_SEQ) {
    for (i = 0; i < vars->u.seq.len; i++)
      x = any3(x, cond3(vars->u.seq.items[i], s));
    res = is_only ? (res == F || x == F ? F : (res == T && x == T) ? T : U)
                  : any3(res, x);
  }
  if (v && v->type == MLG_MAP && (mlg_gl_find(v, "changes") || mlg_gl_find(v, "kubernetes")))
    res = is_only ? (res == F ? F : U) : (res == T ? T : U);
  return res;
}

static int job_may(const mlg_node *job, const mlg_node *wf_rules, const scen *s)
{
  const mlg_node *only = mlg_gl_get(job, "only"), *except = mlg_gl_get(job, "except");
  const mlg_pair *rules = mlg_gl_find(job, "rules");
  if (wf_rules && !rules_may(wf_rules, s, 0))
    return 0;
  if (rules)
    return rules_may(rules->val, s, 0);
  if (is_never(mlg_gl_get(job, "when")))
    return 0;
  if (only || except) {
    static const char *const dflt_refs[] = {"branches", "tags"};
    int o = only ? spec3(only, s, 1) : ((s->ref == 1 || s->ref == 2 || s->ref == 3) ? T : F);
    int x = except ? spec3(except, s, 0) : F;
    (void)dflt_refs;
    return o != F && x != T;
  }
  if (wf_rules)
    return 1;
  return s->mr == 0; /* only: [branches, tags] */
}

mlg_node *mlg_gl_reach(mlg_gl *g, const mlg_node *job, const mlg_node *workflow)
{
  static const char *const trig[] = {"trigger", "pipeline", "parent_pipeline"};
  static const struct {
    mlg_pl_atom atom;
    const char *source;
    int mr, ref; /* ref -1: on a branch, the default branch or a tag */
  } kinds[] = {{MLG_A_G_MERGE_REQUEST, "merge_request_event", 1, 0},
               {MLG_A_G_FORK, "merge_request_event", 2, 0},
               {MLG_A_V_BRANCH, "push", 0, 1},
               {MLG_A_G_DEFAULT_BRANCH, "push", 0, 2},
               {MLG_A_TAG, "push", 0, 3},
               {MLG_A_SCHEDULE, "schedule", 0, -1},
               {MLG_A_G_MANUAL, "web", 0, -1},
               {MLG_A_G_API, "api", 0, -1},
               {MLG_A_G_TRIGGER, NULL, 0, -1}};
  const mlg_node *wf_rules = mlg_gl_get(workflow, "rules");
  mlg_node *o = mlg_pl_map(&g->pl, 9);
  size_t k, t, nt;
  int ref;

  if (wf_rules && wf_rules->type != MLG_SEQ)
    wf_rules = NULL;
  for (k = 0; k < sizeof kinds / sizeof kinds[0]; k++) {
    int may = 0;
    nt = kinds[k].source ? 1 : 3;
    for (t = 0; t < nt && !may; t++)
      for (ref = kinds[k].ref < 0 ? 1 : kinds[k].ref;
           ref <= (kinds[k].ref < 0 ? 3 : kinds[k].ref) && !may; ref++) {
        scen s;
        s.source = kinds[k].source ? kinds[k].source : trig[t];
        s.mr = kinds[k].mr;
        s.ref = ref;
        may = job_may(job, wf_rules, &s);
      }
    mlg_pl_set_bool(&g->pl, o, kinds[k].atom, may);
  }
  return o;
}

/* --- $[[ ]] ---------------------------------------------------------------------- */

typedef struct tmap {
  mlg_pl_mpt *pts;
  size_t n;
} tmap;

static const tmap *aligned(mlg_gl *g, const mlg_node *v)
{
  tmap *m = mlg_pl_memo_get(&g->aligns, v);
  mlg_pl_tmap tm;

  if (m)
    return m;
  mlg_gl_use(g, v);
  if (mlg_pl_align(&g->pl, &tm, v, v->u.str.ptr, v->u.str.len))
    return NULL;
  if (!(m = mlg_doc_alloc(g->pl.doc, sizeof *m)) ||
      !(m->pts = mlg_doc_alloc(g->pl.doc, (tm.n ? tm.n : 1) * sizeof *m->pts))) {
    mlg_pl_tmap_free(&tm);
    mlg_pl_oom(&g->pl);
    return NULL;
  }
  memcpy(m->pts, tm.pts, tm.n * sizeof *m->pts);
  m->n = tm.n;
  mlg_pl_tmap_free(&tm);
  if (mlg_pl_memo_put(&g->aligns, v, m)) {
    mlg_pl_oom(&g->pl);
    return NULL;
  }
  return m;
}

/* File position of text offset t. */
static mlg_pl_mpt pos_at(const tmap *m, const char *txt, size_t t)
{
  size_t lo = 0, hi = m->n, i;
  mlg_pl_mpt r;
  while (hi - lo > 1) {
    size_t mid = lo + (hi - lo) / 2;
    if (m->pts[mid].t <= t)
      lo = mid;
    else
      hi = mid;
  }
  r = m->pts[lo];
  for (i = r.t; i < t; i++) {
    if (((unsigned char)txt[i] & 0xC0) != 0x80)
      r.col++;
    r.off++;
  }
  r.t = t;
  return r;
}

static void keep(mlg_gl *g, size_t file, size_t off, mlg_node *o)
{
  if (g->nexprs == g->capexprs) {
    size_t ncap = g->capexprs ? g->capexprs * 2 : 32;
    mlg_gl_expr *a = realloc(g->exprs, ncap * sizeof *a);
    if (!a) {
      mlg_pl_oom(&g->pl);
      return;
    }
    g->exprs = a;
    g->capexprs = ncap;
  }
  g->exprs[g->nexprs].file = file;
  g->exprs[g->nexprs].off = off;
  g->exprs[g->nexprs].seq = g->nexprs;
  g->exprs[g->nexprs].node = o;
  g->nexprs++;
}

static void scalar_exprs(mlg_gl *g, const mlg_node *v, mlg_pl_atom field, const mlg_node *key)
{
  mlg_pl *pl = &g->pl;
  const char *s = v->u.str.ptr, *p;
  size_t n = v->u.str.len, from = 0, fi = mlg_gl_file_of(g, v);
  const tmap *m = NULL;
  mlg_node *route = NULL;

  while (from + 3 <= n && (p = memmem(s + from, n - from, "$[[", 3)) != NULL && !pl->rc) {
    size_t st = (size_t)(p - s), in = st + 3, end, ie, last;
    const char *q = memmem(s + in, n - in, "]]", 2);
    mlg_pl_mpt a, z;
    mlg_node *o;

    end = q ? (size_t)(q - s) + 2 : n;
    ie = q ? (size_t)(q - s) : n;
    if (!m && !(m = aligned(g, v)))
      return;
    if (!route)
      route = mlg_pl_route_node(pl);
    last = end - 1;
    while (last > st && ((unsigned char)s[last] & 0xC0) == 0x80)
      last--;
    a = pos_at(m, s, st);
    z = pos_at(m, s, last);
    while (in < ie && (s[in] == ' ' || s[in] == '\t' || s[in] == '\n'))
      in++;
    while (ie > in && (s[ie - 1] == ' ' || s[ie - 1] == '\t' || s[ie - 1] == '\n'))
      ie--;
    if (!(o = mlg_pl_map(pl, 16)))
      return;
    mlg_pl_set(pl, o, MLG_A_TEXT, mlg_pl_str(pl, s + in, ie - in));
    mlg_pl_set_int(pl, o, MLG_A_LINE, a.line);
    mlg_pl_set_int(pl, o, MLG_A_COL, a.col);
    mlg_pl_set_int(pl, o, MLG_A_END_LINE, z.line);
    mlg_pl_set_int(pl, o, MLG_A_END_COL, (int64_t)z.col + 1);
    mlg_pl_set_int(pl, o, MLG_A_OFFSET, (int64_t)a.off);
    mlg_pl_set_int(pl, o, MLG_A_END_OFFSET, (int64_t)(z.off + (end - last)));
    mlg_pl_set_atom(pl, o, MLG_A_FIELD, field);
    if (key)
      mlg_pl_set(pl, o, MLG_A_KEY, mlg_pl_src_str(pl, key));
    mlg_pl_set(pl, o, MLG_A_ROUTE, route);
    mlg_pl_set(pl, o, MLG_A_JOB, pl->job);
    if (pl->step)
      mlg_pl_set_int(pl, o, MLG_A_STEP, (int64_t)pl->step);
    if (fi)
      mlg_pl_set(pl, o, MLG_A_PATH, g->files[fi].pathnode);
    mlg_pl_set_atom(pl, o, MLG_A_G_SYNTAX, MLG_A_G_GITLAB_INPUT);
    if (ie - in > 7 && !memcmp(s + in, "inputs.", 7)) {
      size_t k = in + 7;
      while (k < ie && (is_word(s[k]) || s[k] == '-'))
        k++;
      if (k > in + 7)
        mlg_pl_set(pl, o, MLG_A_G_INPUT, mlg_pl_str(pl, s + in + 7, k - in - 7));
    }
    mlg_pl_set_bool(pl, o, MLG_A_FENCED, 1);
    keep(g, fi, a.off, o);
    from = end;
  }
}

void mlg_gl_exprs(mlg_gl *g, const mlg_node *v, mlg_pl_atom field, const mlg_node *key)
{
  size_t i, mark;
  if (g->pl.rc || !v || mlg_pl_tick(&g->pl, v))
    return;
  if (v->type == MLG_STR) {
    if (v->u.str.len >= 3 && memmem(v->u.str.ptr, v->u.str.len, "$[[", 3))
      scalar_exprs(g, v, field, key);
  } else if (v->type == MLG_SEQ) {
    for (i = 0; i < v->u.seq.len && !g->pl.rc; i++) {
      mark = mlg_pl_route_index(&g->pl, i);
      mlg_gl_exprs(g, v->u.seq.items[i], field, key);
      mlg_pl_route_pop(&g->pl, mark);
    }
  } else if (v->type == MLG_MAP) {
    for (i = 0; i < v->u.map.len && !g->pl.rc; i++) {
      mark = mlg_pl_route_key(&g->pl, v->u.map.pairs[i].key);
      mlg_gl_exprs(g, v->u.map.pairs[i].val, field, key);
      mlg_pl_route_pop(&g->pl, mark);
    }
  }
}

static int expr_cmp(const void *a, const void *b)
{
  const mlg_gl_expr *x = a, *y = b;
  if (x->file != y->file)
    return x->file < y->file ? -1 : 1;
  if (x->off != y->off)
    return x->off < y->off ? -1 : 1;
  return x->seq < y->seq ? -1 : x->seq > y->seq;
}

mlg_node *mlg_gl_exprs_seq(mlg_gl *g)
{
  mlg_node *seq;
  size_t i;
  if (g->pl.rc)
    return NULL;
  if (g->nexprs > 1)
    qsort(g->exprs, g->nexprs, sizeof *g->exprs, expr_cmp);
  if (!(seq = mlg_pl_seq(&g->pl, g->nexprs)))
    return NULL;
  for (i = 0; i < g->nexprs; i++)
    mlg_pl_push(&g->pl, seq, g->exprs[i].node);
  return seq;
}
