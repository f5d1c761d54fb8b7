#include "testrun.h"

#include <dirent.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "config.h"
#include "engine.h"
#include "fsx.h"
#include "parse.h"
#include "policy.h"
#include "report.h"

#define MAX_DEPTH 32

/* --- finding test files ---------------------------------------------------- */

typedef struct str_list {
  char **items;
  size_t len;
} str_list;

static int list_push(str_list *l, const char *s)
{
  char **p = realloc(l->items, (l->len + 1) * sizeof *p);
  if (!p)
    return MLG_ENOMEM;
  l->items = p;
  if (!(p[l->len] = strdup(s)))
    return MLG_ENOMEM;
  l->len++;
  return 0;
}

static void list_free(str_list *l)
{
  size_t i;
  for (i = 0; i < l->len; i++)
    free(l->items[i]);
  free(l->items);
  l->items = NULL;
  l->len = 0;
}

static int cmp_str(const void *a, const void *b)
{
  return strcmp(*(char *const *)a, *(char *const *)b);
}

static int ends_with(const char *s, const char *suffix)
{
  size_t a = strlen(s), b = strlen(suffix);
  return a >= b && strcmp(s + a - b, suffix) == 0;
}

/* Test files anywhere below dir, except inside fixtures/ (fixture trees
 * may contain anything, including files that look like tests). */
static int find_tests(str_list *out, const char *dir, int depth, mlg_err *err)
{
  DIR *d;
  struct dirent *e;
  str_list names = {NULL, 0};
  size_t i;
  int rc = 0;

  if (depth > MAX_DEPTH)
    return 0;
  if (!(d = opendir(dir)))
    return mlg_err_set(err, MLG_EIO, "cannot read %s: %s", dir, strerror(errno));
  while ((e = readdir(d)) != NULL)
    if (e->d_name[0] != '.' && list_push(&names, e->d_name) != 0) {
      rc = mlg_err_set(err, MLG_ENOMEM, "out of memory");
      break;
    }
  closedir(d);
  if (names.len > 1)
    qsort(names.items, names.len, sizeof *names.items, cmp_str);
  for (i = 0; i < names.len && rc == 0; i++) {
    char path[4096];
    struct stat st;
    snprintf(path, sizeof path, "%s/%s", dir, names.items[i]);
    if (stat(path, &st) != 0)
      continue;
    if (S_ISDIR(st.st_mode)) {
      if (strcmp(names.items[i], "fixtures") != 0)
        rc = find_tests(out, path, depth + 1, err);
    } else if (ends_with(names.items[i], ".test.yml") || ends_with(names.items[i], ".test.yaml")) {
      rc = list_push(out, path) ? mlg_err_set(err, MLG_ENOMEM, "out of memory") : 0;
    }
  }
  list_free(&names);
  return rc;
}

/* --- test file schema -------------------------------------------------------- */

typedef struct expect {
  const char *policy, *path, *message;
  int64_t line, column; /* -1 = any */
  int severity;         /* -1 = any */
  int confidence;       /* -1 = any */
  const mlg_node *node;
} expect;

typedef struct tcase {
  const char *name, *fixture, *expect_error;
  int gate; /* -1 = the policy's gates */
  int profile; /* mlg_profile; auditor unless the case says: tests see every finding */
  const mlg_node *params;
  expect *expects;
  size_t nexpects;
  int has_expect;
} tcase;

typedef struct tfile {
  const char *path;
  mlg_doc *doc;
  const char *policy;
  tcase *cases;
  size_t ncases;
} tfile;

static int at(mlg_err *err, const tfile *tf, const mlg_node *n, const char *fmt, const char *a)
{
  char msg[512];
  snprintf(msg, sizeof msg, fmt, a ? a : "");
  return mlg_err_set(err, MLG_EINVAL, "%s:%u:%u: %s", tf->path, n ? n->span.line : 0,
                     n ? n->span.col : 0, msg);
}

static int only_keys(mlg_err *err, const tfile *tf, const mlg_node *map,
                     const char *const *allowed, const char *what)
{
  size_t i;
  for (i = 0; i < map->u.map.len; i++) {
    const char *k = map->u.map.pairs[i].key->u.str.ptr;
    size_t j;
    int ok = 0;
    for (j = 0; allowed[j] && !ok; j++)
      ok = strcmp(k, allowed[j]) == 0;
    if (!ok) {
      char msg[512];
      snprintf(msg, sizeof msg, "unknown key '%s' in %s", k, what);
      return at(err, tf, map->u.map.pairs[i].key, "%s", msg);
    }
  }
  return 0;
}

static const char *req_str(mlg_err *err, const tfile *tf, const mlg_node *map, const char *key,
                           int *rc)
{
  const mlg_node *n = mlg_map_get(map, key);
  if (!n) {
    *rc = at(err, tf, map, "missing required key '%s'", key);
    return NULL;
  }
  if (n->type != MLG_STR || n->u.str.len == 0) {
    *rc = at(err, tf, n, "'%s' must be a non-empty string", key);
    return NULL;
  }
  return n->u.str.ptr;
}

static int opt_int(mlg_err *err, const tfile *tf, const mlg_node *map, const char *key,
                   int64_t *out)
{
  const mlg_node *n = mlg_map_get(map, key);
  *out = -1;
  if (!n)
    return 0;
  if (n->type != MLG_INT || n->u.integer < 0)
    return at(err, tf, n, "'%s' must be a non-negative integer", key);
  *out = n->u.integer;
  return 0;
}

static int parse_expect(expect *x, const tfile *tf, const mlg_node *n, mlg_err *err)
{
  static const char *const keys[] = {"path", "line", "column", "severity", "confidence",
                                     "message", NULL};
  const mlg_node *s;
  int rc = 0;

  if (n->type != MLG_MAP)
    return at(err, tf, n, "an expected finding is a mapping like {path: x.py, line: 3}", NULL);
  if ((rc = only_keys(err, tf, n, keys, "an expected finding")) != 0)
    return rc;
  x->node = n;
  x->path = req_str(err, tf, n, "path", &rc);
  if (rc)
    return rc;
  if ((rc = opt_int(err, tf, n, "line", &x->line)) || (rc = opt_int(err, tf, n, "column", &x->column)))
    return rc;
  x->policy = tf->policy; /* a test file tests one policy */
  x->message = NULL;
  if ((s = mlg_map_get(n, "message")) != NULL && !(x->message = req_str(err, tf, n, "message", &rc)))
    return rc;
  x->severity = -1;
  if ((s = mlg_map_get(n, "severity")) != NULL &&
      (s->type != MLG_STR || (x->severity = mlg_severity_parse(s->u.str.ptr)) < 0))
    return at(err, tf, s, "'severity' must be one of info, low, medium, high, critical", NULL);
  x->confidence = -1;
  if ((s = mlg_map_get(n, "confidence")) != NULL &&
      (s->type != MLG_STR || (x->confidence = mlg_confidence_parse(s->u.str.ptr)) < 0))
    return at(err, tf, s, "'confidence' must be one of low, medium, high", NULL);
  return 0;
}

static int parse_case(tcase *c, const tfile *tf, const mlg_node *n, mlg_err *err)
{
  static const char *const keys[] = {"name", "fixture", "gate", "params", "profile",
                                     "expect", "expect_error", NULL};
  const mlg_node *ex, *g, *p, *pr;
  size_t i;
  int rc = 0;

  if (n->type != MLG_MAP)
    return at(err, tf, n, "a case is a mapping with name, fixture and expect", NULL);
  if ((rc = only_keys(err, tf, n, keys, "a test case")) != 0)
    return rc;
  if (!(c->name = req_str(err, tf, n, "name", &rc)) ||
      !(c->fixture = req_str(err, tf, n, "fixture", &rc)))
    return rc;
  c->gate = -1;
  if ((g = mlg_map_get(n, "gate")) != NULL &&
      (g->type != MLG_STR || (c->gate = mlg_gate_parse(g->u.str.ptr)) < 0))
    return at(err, tf, g, "'gate' must be one of %s", mlg_gate_list());
  c->profile = MLG_PROFILE_AUDITOR;
  if ((pr = mlg_map_get(n, "profile")) != NULL &&
      (pr->type != MLG_STR || (c->profile = mlg_profile_parse(pr->u.str.ptr)) < 0))
    return at(err, tf, pr, "'profile' must be one of regular, pedantic, auditor", NULL);
  if ((p = mlg_map_get(n, "params")) != NULL && p->type != MLG_MAP)
    return at(err, tf, p, "'params' must be a mapping of name: value", NULL);
  c->params = p;
  if (mlg_map_get(n, "expect_error") &&
      !(c->expect_error = req_str(err, tf, n, "expect_error", &rc)))
    return rc;
  ex = mlg_map_get(n, "expect");
  if (!ex && !c->expect_error)
    return at(err, tf, n, "case '%s' needs 'expect' (a list, [] for no findings) or "
                          "'expect_error'", c->name);
  if (!ex)
    return 0;
  if (ex->type != MLG_SEQ)
    return at(err, tf, ex, "'expect' must be a list of findings ([] for none)", NULL);
  c->has_expect = 1;
  c->expects = calloc(ex->u.seq.len ? ex->u.seq.len : 1, sizeof *c->expects);
  if (!c->expects)
    return mlg_err_set(err, MLG_ENOMEM, "out of memory");
  for (i = 0; i < ex->u.seq.len; i++, c->nexpects++)
    if ((rc = parse_expect(&c->expects[i], tf, ex->u.seq.items[i], err)) != 0)
      return rc;
  return 0;
}

static void tfile_free(tfile *tf)
{
  size_t i;
  for (i = 0; i < tf->ncases; i++)
    free(tf->cases[i].expects);
  free(tf->cases);
  mlg_doc_free(tf->doc);
}

static int tfile_load(tfile *tf, const char *path, mlg_err *err)
{
  static const char *const keys[] = {"policy", "cases", NULL};
  FILE *f;
  mlg_buf b = MLG_BUF_INIT;
  char chunk[8192];
  size_t n, i;
  const mlg_node *root, *cases;
  int rc = 0;

  memset(tf, 0, sizeof *tf);
  tf->path = path;
  if (!(f = fopen(path, "rb")))
    return mlg_err_set(err, MLG_EIO, "cannot read %s: %s", path, strerror(errno));
  while ((n = fread(chunk, 1, sizeof chunk, f)) > 0 && b.len < ((size_t)4 << 20))
    mlg_buf_put(&b, chunk, n);
  fclose(f);
  rc = mlg_yaml_parse(&tf->doc, b.ptr ? b.ptr : "", b.len, path, NULL, err);
  mlg_buf_free(&b);
  if (rc)
    return rc;
  root = tf->doc->root;
  if (!root || root->type != MLG_MAP)
    return at(err, tf, root, "a test file is a mapping with 'policy' and 'cases'", NULL);
  if ((rc = only_keys(err, tf, root, keys, "a test file")) != 0)
    return rc;
  if (!(tf->policy = req_str(err, tf, root, "policy", &rc)))
    return rc;
  cases = mlg_map_get(root, "cases");
  if (!cases || cases->type != MLG_SEQ || cases->u.seq.len == 0)
    return at(err, tf, cases ? cases : root, "'cases' must be a non-empty list", NULL);
  tf->cases = calloc(cases->u.seq.len, sizeof *tf->cases);
  if (!tf->cases)
    return mlg_err_set(err, MLG_ENOMEM, "out of memory");
  for (i = 0; i < cases->u.seq.len; i++, tf->ncases++)
    if ((rc = parse_case(&tf->cases[i], tf, cases->u.seq.items[i], err)) != 0)
      return rc;
  return 0;
}

/* --- running -------------------------------------------------------------------- */

typedef enum { ST_PASS, ST_FAIL, ST_ERROR } status;

typedef struct outcome {
  status st;
  mlg_buf details; /* one problem per line */
  size_t nfindings;
} outcome;

typedef struct runner {
  mlg_policy_set dirs, builtins;
  int builtins_loaded;
  mlg_config *cfg;
  mlg_report *load_errors;
  const mlg_test_opts *o;
  size_t files, cases, passed, failed, errors;
} runner;

static mlg_policy *find_policy(runner *t, const char *id, mlg_policy_set **set, mlg_err *err)
{
  mlg_policy *p = mlg_policy_find(&t->dirs, id);
  if (p) {
    *set = &t->dirs;
    return p;
  }
  if (!t->builtins_loaded) {
    t->builtins_loaded = 1;
    if (mlg_policy_add_builtins(&t->builtins, err) != 0 ||
        mlg_engine_load_all(&t->builtins, t->cfg, t->load_errors, err) != 0)
      return NULL;
  }
  *set = &t->builtins;
  return mlg_policy_find(&t->builtins, id);
}

static int expect_matches(const expect *x, const mlg_finding *f)
{
  return strcmp(x->policy, f->policy) == 0 && strcmp(x->path, f->loc.path) == 0 &&
         (x->line < 0 || x->line == (int64_t)f->loc.line) &&
         (x->column < 0 || x->column == (int64_t)f->loc.column) &&
         (x->severity < 0 || x->severity == (int)f->severity) &&
         (x->confidence < 0 || x->confidence == (int)f->confidence) &&
         (!x->message || strstr(f->message, x->message));
}

/* Expectations come from test files: sanitised like any other text. */
static void describe_expect(mlg_buf *b, const expect *x)
{
  mlg_buf_puts(b, "missing: ");
  mlg_sanitize_line(b, x->path);
  if (x->line >= 0)
    mlg_buf_printf(b, ":%lld", (long long)x->line);
  if (x->column >= 0)
    mlg_buf_printf(b, ":%lld", (long long)x->column);
  if (x->severity >= 0)
    mlg_buf_printf(b, " %s", mlg_severity_name((mlg_severity)x->severity));
  if (x->confidence >= 0)
    mlg_buf_printf(b, " (confidence %s)", mlg_confidence_name((mlg_confidence)x->confidence));
  if (x->message) {
    mlg_buf_puts(b, " \"");
    mlg_sanitize_line(b, x->message);
    mlg_buf_puts(b, "\"");
  }
  mlg_buf_puts(b, " [");
  mlg_sanitize_line(b, x->policy);
  mlg_buf_printf(b, "] (expected at line %u of the test file)\n", x->node->span.line);
}

static void describe_finding(mlg_buf *b, const mlg_finding *f)
{
  mlg_buf_puts(b, "unexpected: ");
  mlg_sanitize_line(b, f->loc.path);
  mlg_buf_printf(b, ":%u:%u %s (confidence %s): ", f->loc.line, f->loc.column,
                 mlg_severity_name(f->severity), mlg_confidence_name(f->confidence));
  mlg_sanitize_line(b, f->message);
  mlg_buf_puts(b, " [");
  mlg_sanitize_line(b, f->policy);
  mlg_buf_puts(b, "]\n");
}

static void run_case(runner *t, const tfile *tf, const tcase *c, mlg_policy_set *set,
                     size_t index, outcome *out)
{
  mlg_buf fx = MLG_BUF_INIT;
  const char *fixture, *slash = strrchr(tf->path, '/');
  mlg_policy *p = &set->items[index];
  mlg_report *r = NULL;
  mlg_ws *ws = NULL;
  mlg_engine_opts eo;
  unsigned char *used = NULL;
  size_t i, j;
  mlg_err e;
  int error_matched = 0;

  out->st = ST_PASS;
  /* Fixtures are relative to the test file. */
  if (slash)
    mlg_buf_printf(&fx, "%.*s/%s", (int)(slash - tf->path), tf->path, c->fixture);
  else
    mlg_buf_printf(&fx, "./%s", c->fixture);
  fixture = fx.ptr ? fx.ptr : ".";
  if (c->gate >= 0 && !(p->gates & (1u << c->gate))) {
    out->st = ST_ERROR;
    mlg_buf_printf(&out->details, "error: policy %s is not in the %s gate\n", p->id,
                   mlg_gate_name((mlg_gate)c->gate));
    mlg_buf_free(&fx);
    return;
  }
  if (mlg_ws_open(&ws, fixture, NULL, &e) != 0 || mlg_report_new(&r, &e) != 0) {
    out->st = ST_ERROR;
    mlg_buf_puts(&out->details, "error: fixture ");
    mlg_sanitize_line(&out->details, fixture);
    mlg_buf_puts(&out->details, ": ");
    mlg_sanitize_line(&out->details, e.msg);
    mlg_buf_putc(&out->details, '\n');
    goto done;
  }
  memset(&eo, 0, sizeof eo);
  eo.ws = ws;
  t->cfg->profile = c->profile;
  eo.cfg = t->cfg;
  eo.gates = c->gate >= 0 ? 1u << c->gate : p->gates;
  eo.params = c->params;
  eo.verbose = t->o->verbose;
  if (mlg_engine_run(set, &index, 1, &eo, r, &e) != 0)
    mlg_report_add_error(r, -1, p->id, "", e.msg, "");
  mlg_report_finalize_order(r);
  out->nfindings = r->nfindings;

  for (i = 0; i < r->nerrors; i++) {
    const mlg_report_error *re = &r->errors[i];
    if (c->expect_error && strstr(re->message, c->expect_error)) {
      error_matched = 1;
      continue;
    }
    out->st = ST_FAIL;
    mlg_buf_puts(&out->details, "error: ");
    if (*re->where) {
      mlg_sanitize_line(&out->details, re->where);
      mlg_buf_puts(&out->details, ": ");
    }
    mlg_sanitize_line(&out->details, re->message);
    mlg_buf_putc(&out->details, '\n');
  }
  if (c->expect_error && !error_matched) {
    out->st = ST_FAIL;
    mlg_buf_puts(&out->details, "missing: an error containing \"");
    mlg_sanitize_line(&out->details, c->expect_error);
    mlg_buf_puts(&out->details, "\"\n");
  }
  if (c->has_expect) {
    used = calloc(r->nfindings ? r->nfindings : 1, 1);
    for (j = 0; used && j < c->nexpects; j++) {
      for (i = 0; i < r->nfindings; i++)
        if (!used[i] && expect_matches(&c->expects[j], &r->findings[i]))
          break;
      if (i < r->nfindings) {
        used[i] = 1;
      } else {
        out->st = ST_FAIL;
        describe_expect(&out->details, &c->expects[j]);
      }
    }
    for (i = 0; used && i < r->nfindings; i++)
      if (!used[i]) {
        out->st = ST_FAIL;
        describe_finding(&out->details, &r->findings[i]);
      }
  }
done:
  free(used);
  mlg_report_free(r);
  mlg_ws_free(ws);
  mlg_buf_free(&fx);
}

/* --- output --------------------------------------------------------------------- */

static void xml_escape(mlg_buf *b, const char *s)
{
  mlg_buf clean = MLG_BUF_INIT;
  const char *p;
  mlg_sanitize_line(&clean, s);
  for (p = clean.ptr ? clean.ptr : ""; *p; p++) {
    switch (*p) {
    case '<': mlg_buf_puts(b, "&lt;"); break;
    case '>': mlg_buf_puts(b, "&gt;"); break;
    case '&': mlg_buf_puts(b, "&amp;"); break;
    case '"': mlg_buf_puts(b, "&quot;"); break;
    case '\'': mlg_buf_puts(b, "&apos;"); break;
    default: mlg_buf_putc(b, *p);
    }
  }
  mlg_buf_free(&clean);
}

typedef struct results {
  mlg_doc *doc;      /* json */
  mlg_node *files;
  mlg_buf junit;
} results;

static const char *status_name(status s)
{
  return s == ST_PASS ? "pass" : s == ST_FAIL ? "fail" : "error";
}

static void text_case(mlg_buf *out, const runner *t, const tcase *c, const outcome *oc)
{
  const char *mark = oc->st == ST_PASS ? "ok  " : oc->st == ST_FAIL ? "FAIL" : "ERR ";
  const char *color = oc->st == ST_PASS ? "\033[32m" : "\033[1;31m";
  const char *p, *nl;
  mlg_buf_puts(out, "  ");
  if (t->o->color)
    mlg_buf_puts(out, color);
  mlg_buf_puts(out, mark);
  if (t->o->color)
    mlg_buf_puts(out, "\033[0m");
  mlg_buf_puts(out, "  ");
  mlg_sanitize_line(out, c->name);
  mlg_buf_printf(out, " (%zu finding%s)\n", oc->nfindings, oc->nfindings == 1 ? "" : "s");
  for (p = oc->details.ptr; p && *p; p = nl + 1) {
    nl = strchr(p, '\n');
    if (!nl)
      break;
    mlg_buf_printf(out, "        %.*s\n", (int)(nl - p), p);
  }
}

static void json_case(results *res, mlg_node *cases, const tcase *c, const outcome *oc)
{
  mlg_doc *doc = res->doc;
  mlg_node *n = mlg_node_map(doc), *problems = mlg_node_seq(doc);
  const char *p, *nl;
  for (p = oc->details.ptr; p && *p && problems; p = nl + 1) {
    if (!(nl = strchr(p, '\n')))
      break;
    mlg_seq_push(doc, problems, mlg_node_strn(doc, p, (size_t)(nl - p)));
  }
  if (!n || !problems)
    return;
  mlg_map_set_str(doc, n, "name", c->name);
  mlg_map_set_str(doc, n, "fixture", c->fixture);
  mlg_map_set_str(doc, n, "status", status_name(oc->st));
  mlg_map_set_int(doc, n, "findings", (int64_t)oc->nfindings);
  mlg_map_set(doc, n, "problems", problems);
  mlg_seq_push(doc, cases, n);
}

static void junit_case(mlg_buf *b, const tfile *tf, const tcase *c, const outcome *oc)
{
  mlg_buf_puts(b, "    <testcase classname=\"");
  xml_escape(b, tf->policy);
  mlg_buf_puts(b, "\" name=\"");
  xml_escape(b, c->name);
  mlg_buf_puts(b, "\"");
  if (oc->st == ST_PASS) {
    mlg_buf_puts(b, "/>\n");
    return;
  }
  mlg_buf_printf(b, ">\n      <%s message=\"", oc->st == ST_FAIL ? "failure" : "error");
  {
    const char *nl = oc->details.ptr ? strchr(oc->details.ptr, '\n') : NULL;
    mlg_buf first = MLG_BUF_INIT;
    if (nl)
      mlg_buf_put(&first, oc->details.ptr, (size_t)(nl - oc->details.ptr));
    xml_escape(b, first.ptr ? first.ptr : "failed");
    mlg_buf_free(&first);
  }
  mlg_buf_puts(b, "\">");
  {
    const char *p, *nl;
    for (p = oc->details.ptr; p && *p; p = nl + 1) {
      mlg_buf line = MLG_BUF_INIT;
      if (!(nl = strchr(p, '\n')))
        break;
      mlg_buf_put(&line, p, (size_t)(nl - p));
      xml_escape(b, line.ptr);
      mlg_buf_puts(b, "&#10;");
      mlg_buf_free(&line);
    }
  }
  mlg_buf_printf(b, "</%s>\n    </testcase>\n", oc->st == ST_FAIL ? "failure" : "error");
}

int mlg_test_run(mlg_buf *out, int *exit_code, const mlg_test_opts *o, mlg_err *err)
{
  static const char *const here[] = {"."};
  const char *const *dirs = o->ndirs ? o->dirs : here;
  size_t ndirs = o->ndirs ? o->ndirs : 1, i, k;
  str_list files = {NULL, 0};
  runner t;
  results res;
  mlg_buf text = MLG_BUF_INIT;
  int rc = 0, broken = 0;

  memset(&t, 0, sizeof t);
  memset(&res, 0, sizeof res);
  t.o = o;
  *exit_code = 2;
  if ((rc = mlg_config_new(&t.cfg, err)) != 0 || (rc = mlg_report_new(&t.load_errors, err)) != 0)
    goto done;
  res.doc = mlg_doc_new(NULL);
  res.files = res.doc ? mlg_node_seq(res.doc) : NULL;
  if (!res.files) {
    rc = mlg_err_set(err, MLG_ENOMEM, "out of memory");
    goto done;
  }
  for (i = 0; i < ndirs; i++) {
    struct stat st;
    if (stat(dirs[i], &st) == 0 && !S_ISDIR(st.st_mode)) {
      if ((rc = list_push(&files, dirs[i])) != 0)
        goto done;
      continue;
    }
    if ((rc = find_tests(&files, dirs[i], 0, err)) != 0 ||
        (rc = mlg_policy_add_dir(&t.dirs, dirs[i], err)) != 0)
      goto done;
  }
  if (t.dirs.len)
    mlg_engine_load_all(&t.dirs, t.cfg, t.load_errors, err);

  for (k = 0; k < files.len; k++) {
    tfile tf;
    mlg_policy_set *set = NULL;
    mlg_policy *p;
    mlg_node *fnode = mlg_node_map(res.doc), *cases = mlg_node_seq(res.doc);
    mlg_err e;

    t.files++;
    mlg_sanitize_line(&text, files.items[k]);
    mlg_buf_putc(&text, '\n');
    if (tfile_load(&tf, files.items[k], &e) != 0) {
      broken = 1;
      t.errors++;
      mlg_buf_puts(&text, "  ERR   ");
      mlg_sanitize_line(&text, e.msg);
      mlg_buf_putc(&text, '\n');
      if (fnode) {
        mlg_map_set_str(res.doc, fnode, "path", files.items[k]);
        mlg_map_set_str(res.doc, fnode, "error", e.msg);
        mlg_seq_push(res.doc, res.files, fnode);
      }
      mlg_buf_printf(&res.junit, "  <testsuite name=\"");
      xml_escape(&res.junit, files.items[k]);
      mlg_buf_puts(&res.junit, "\" tests=\"1\" failures=\"0\" errors=\"1\">\n"
                               "    <testcase name=\"load\"><error message=\"");
      xml_escape(&res.junit, e.msg);
      mlg_buf_puts(&res.junit, "\"/></testcase>\n  </testsuite>\n");
      tfile_free(&tf);
      continue;
    }
    p = find_policy(&t, tf.policy, &set, &e);
    {
      size_t failures = 0, errs = 0, start = res.junit.len;
      mlg_buf suite = MLG_BUF_INIT;
      for (i = 0; i < tf.ncases; i++) {
        outcome oc;
        memset(&oc, 0, sizeof oc);
        t.cases++;
        if (!p) {
          oc.st = ST_ERROR;
          mlg_buf_puts(&oc.details, "error: no policy '");
          mlg_sanitize_line(&oc.details, tf.policy);
          mlg_buf_puts(&oc.details, "' in the given directories or built in\n");
        } else {
          run_case(&t, &tf, &tf.cases[i], set, (size_t)(p - set->items), &oc);
        }
        if (oc.st == ST_PASS)
          t.passed++;
        else if (oc.st == ST_FAIL)
          t.failed++, failures++;
        else
          t.errors++, errs++;
        text_case(&text, &t, &tf.cases[i], &oc);
        if (cases)
          json_case(&res, cases, &tf.cases[i], &oc);
        junit_case(&suite, &tf, &tf.cases[i], &oc);
        mlg_buf_free(&oc.details);
      }
      (void)start;
      mlg_buf_puts(&res.junit, "  <testsuite name=\"");
      xml_escape(&res.junit, files.items[k]);
      mlg_buf_printf(&res.junit, "\" tests=\"%zu\" failures=\"%zu\" errors=\"%zu\">\n",
                     tf.ncases, failures, errs);
      if (suite.ptr)
        mlg_buf_puts(&res.junit, suite.ptr);
      mlg_buf_puts(&res.junit, "  </testsuite>\n");
      mlg_buf_free(&suite);
    }
    if (fnode && cases) {
      mlg_map_set_str(res.doc, fnode, "path", files.items[k]);
      mlg_map_set_str(res.doc, fnode, "policy", tf.policy);
      mlg_map_set(res.doc, fnode, "cases", cases);
      mlg_seq_push(res.doc, res.files, fnode);
    }
    tfile_free(&tf);
  }

  /* Policies that failed to load fail the run, tested or not. */
  for (i = 0; i < t.load_errors->nerrors; i++) {
    const mlg_report_error *le = &t.load_errors->errors[i];
    broken = 1;
    mlg_buf_puts(&text, "error: ");
    if (*le->where) {
      mlg_sanitize_line(&text, le->where);
      mlg_buf_puts(&text, ": ");
    }
    mlg_sanitize_line(&text, le->message);
    mlg_buf_putc(&text, '\n');
  }
  if (files.len == 0) {
    broken = 1;
    mlg_buf_puts(&text, "no test files (*.test.yml) found under ");
    mlg_sanitize_line(&text, dirs[0]);
    mlg_buf_putc(&text, '\n');
  }
  mlg_buf_printf(&text, "\n%zu test file%s, %zu case%s: %zu passed, %zu failed, %zu error%s\n",
                 t.files, t.files == 1 ? "" : "s", t.cases, t.cases == 1 ? "" : "s", t.passed,
                 t.failed, t.errors, t.errors == 1 ? "" : "s");
  *exit_code = broken || t.errors ? 2 : t.failed ? 1 : 0;

  if (o->format == MLG_TEST_TEXT) {
    mlg_buf_put(out, text.ptr ? text.ptr : "", text.len);
  } else if (o->format == MLG_TEST_JSON) {
    mlg_node *root = mlg_node_map(res.doc), *sum = mlg_node_map(res.doc), *errs = mlg_node_seq(res.doc);
    for (i = 0; errs && i < t.load_errors->nerrors; i++)
      mlg_seq_push(res.doc, errs, mlg_node_str(res.doc, t.load_errors->errors[i].message));
    if (!root || !sum || !errs ||
        mlg_map_set_str(res.doc, root, "schema", "mlgate.test/v1") ||
        mlg_map_set(res.doc, root, "files", res.files) ||
        mlg_map_set(res.doc, root, "errors", errs) ||
        mlg_map_set_int(res.doc, sum, "files", (int64_t)t.files) ||
        mlg_map_set_int(res.doc, sum, "cases", (int64_t)t.cases) ||
        mlg_map_set_int(res.doc, sum, "passed", (int64_t)t.passed) ||
        mlg_map_set_int(res.doc, sum, "failed", (int64_t)t.failed) ||
        mlg_map_set_int(res.doc, sum, "errors", (int64_t)t.errors) ||
        mlg_map_set_int(res.doc, sum, "exit_code", *exit_code) ||
        mlg_map_set(res.doc, root, "summary", sum) ||
        mlg_json_write(out, root, MLG_JSON_PRETTY, err) || mlg_buf_putc(out, '\n')) {
      rc = mlg_err_set(err, MLG_ENOMEM, "out of memory writing test results");
      goto done;
    }
  } else {
    mlg_buf_printf(out, "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n"
                        "<testsuites name=\"mlgate test\" tests=\"%zu\" failures=\"%zu\" "
                        "errors=\"%zu\">\n",
                   t.cases, t.failed, t.errors + (broken ? 1 : 0));
    if (res.junit.ptr)
      mlg_buf_puts(out, res.junit.ptr);
    mlg_buf_puts(out, "</testsuites>\n");
  }
done:
  mlg_buf_free(&text);
  mlg_buf_free(&res.junit);
  mlg_doc_free(res.doc);
  list_free(&files);
  mlg_policy_set_free(&t.dirs);
  mlg_policy_set_free(&t.builtins);
  mlg_config_free(t.cfg);
  mlg_report_free(t.load_errors);
  return rc;
}
