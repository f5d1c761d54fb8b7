/* mlgate list / mlgate explain: what policies there are and what they do. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "atlas.h"
#include "cli.h"
#include "config.h"
#include "engine.h"
#include "parse.h"
#include "policy.h"

typedef struct loaded {
  mlg_policy_set set;
  mlg_config *cfg;
  mlg_report *errors;
} loaded;

static void loaded_free(loaded *l)
{
  mlg_policy_set_free(&l->set);
  mlg_config_free(l->cfg);
  mlg_report_free(l->errors);
}

/* Built-in policies plus --policies DIRs, metadata loaded in children.
 * Returns 0, or 2 after printing why. */
static int load(loaded *l, const char *const *dirs, size_t ndirs, const char *config)
{
  mlg_err e;
  size_t i;

  memset(l, 0, sizeof *l);
  if ((config ? mlg_config_load(&l->cfg, config, &e) : mlg_config_new(&l->cfg, &e)) != 0 ||
      mlg_report_new(&l->errors, &e) != 0 || mlg_policy_add_builtins(&l->set, &e) != 0) {
    fprintf(stderr, "mlgate: %s\n", e.msg);
    return 2;
  }
  for (i = 0; i < ndirs; i++)
    if (mlg_policy_add_dir(&l->set, dirs[i], &e) != 0) {
      fprintf(stderr, "mlgate: %s\n", e.msg);
      return 2;
    }
  if (mlg_engine_load_all(&l->set, l->cfg, l->errors, &e) != 0 && l->errors->nerrors == 0) {
    fprintf(stderr, "mlgate: %s\n", e.msg);
    return 2;
  }
  return 0;
}

/* Prints load errors; returns 2 when there were any. */
static int report_errors(const loaded *l)
{
  size_t i;
  for (i = 0; i < l->errors->nerrors; i++) {
    const mlg_report_error *e = &l->errors->errors[i];
    mlg_buf b = MLG_BUF_INIT;
    mlg_buf_puts(&b, "mlgate: error: ");
    if (*e->where) {
      mlg_sanitize_line(&b, e->where);
      mlg_buf_puts(&b, ": ");
    }
    mlg_sanitize_line(&b, e->message);
    fprintf(stderr, "%s\n", b.ptr);
    mlg_buf_free(&b);
  }
  return l->errors->nerrors ? 2 : 0;
}

static int cmp_policy(const void *a, const void *b)
{
  const mlg_policy *x = *(const mlg_policy *const *)a, *y = *(const mlg_policy *const *)b;
  return strcmp(x->id, y->id);
}

/* Loaded policies sorted by id; caller frees the array. */
static const mlg_policy **sorted(const loaded *l, size_t *n)
{
  const mlg_policy **v = calloc(l->set.len ? l->set.len : 1, sizeof *v);
  size_t i;
  *n = 0;
  if (!v)
    return NULL;
  for (i = 0; i < l->set.len; i++)
    if (l->set.items[i].loaded)
      v[(*n)++] = &l->set.items[i];
  qsort(v, *n, sizeof *v, cmp_policy);
  return v;
}

static void gates_text(mlg_buf *b, unsigned gates)
{
  int g, first = 1;
  for (g = 0; g < MLG_GATE_COUNT; g++)
    if (gates & (1u << g)) {
      mlg_buf_printf(b, "%s%s", first ? "" : ",", mlg_gate_name((mlg_gate)g));
      first = 0;
    }
}

static int list_json(const mlg_policy **v, size_t n, const mlg_config *cfg)
{
  mlg_doc *doc = mlg_doc_new(NULL);
  mlg_node *arr = doc ? mlg_node_seq(doc) : NULL;
  mlg_buf out = MLG_BUF_INIT;
  size_t i, j;
  int rc = !arr;

  for (i = 0; i < n && !rc; i++) {
    const mlg_policy *p = v[i];
    mlg_node *o = mlg_node_map(doc), *gates = mlg_node_seq(doc), *atlas = mlg_node_seq(doc);
    mlg_node *aliases = mlg_node_seq(doc);
    int g;
    rc = !o || !gates || !atlas || !aliases;
    for (g = 0; g < MLG_GATE_COUNT && !rc; g++)
      if (p->gates & (1u << g))
        rc = mlg_seq_push(doc, gates, mlg_node_str(doc, mlg_gate_name((mlg_gate)g)));
    for (j = 0; j < p->atlas.len && !rc; j++)
      rc = mlg_seq_push(doc, atlas, mlg_node_str(doc, p->atlas.items[j]));
    for (j = 0; j < p->aliases.len && !rc; j++)
      rc = mlg_seq_push(doc, aliases, mlg_node_str(doc, p->aliases.items[j]));
    rc = rc || mlg_map_set_str(doc, o, "id", p->id) ||
         mlg_map_set_str(doc, o, "title", p->title) || mlg_map_set(doc, o, "gates", gates) ||
         mlg_map_set_str(doc, o, "severity", mlg_severity_name(p->severity)) ||
         mlg_map_set_str(doc, o, "enforcement",
                         mlg_enforcement_name(mlg_policy_enforcement(p, cfg))) ||
         mlg_map_set(doc, o, "atlas", atlas) || mlg_map_set(doc, o, "aliases", aliases) ||
         mlg_seq_push(doc, arr, o);
  }
  if (!rc)
    rc = mlg_json_write(&out, arr, MLG_JSON_PRETTY, NULL);
  if (!rc) {
    fwrite(out.ptr, 1, out.len, stdout);
    putchar('\n');
  }
  mlg_buf_free(&out);
  mlg_doc_free(doc);
  return rc ? 2 : 0;
}

/* Metadata comes from policy code: everything printed is sanitised. */
static void put_clean(const char *s)
{
  mlg_buf b = MLG_BUF_INIT;
  mlg_sanitize_line(&b, s);
  fputs(b.ptr ? b.ptr : "", stdout);
  mlg_buf_free(&b);
}

static void list_text(const mlg_policy **v, size_t n, const mlg_config *cfg)
{
  size_t i, w = 2;
  for (i = 0; i < n; i++)
    if (strlen(v[i]->id) > w)
      w = strlen(v[i]->id);
  printf("%-*s  %-14s %-9s %-9s %s\n", (int)w, "id", "gates", "severity", "enforce", "title");
  for (i = 0; i < n; i++) {
    mlg_buf g = MLG_BUF_INIT;
    gates_text(&g, v[i]->gates);
    printf("%-*s  %-14s %-9s %-9s ", (int)w, v[i]->id, g.ptr,
           mlg_severity_name(v[i]->severity),
           mlg_enforcement_name(mlg_policy_enforcement(v[i], cfg)));
    put_clean(v[i]->title);
    putchar('\n');
    mlg_buf_free(&g);
  }
  printf("\n%zu policies. 'mlgate explain ID' tells what one checks and how to fix it.\n", n);
}

/* Shared option parsing for list and explain. */
typedef struct list_opts {
  const char *dirs[CLI_MAX_DIRS];
  size_t ndirs;
  const char *format, *config, *arg;
} list_opts;

static int parse(list_opts *o, int argc, char **argv, const char *cmd, void (*help)(void))
{
  int i;
  memset(o, 0, sizeof *o);
  o->format = "text";
  for (i = 1; i < argc; i++) {
    const char *a = argv[i];
    if (strcmp(a, "-h") == 0 || strcmp(a, "--help") == 0) {
      help();
      return 1;
    } else if (cli_is_opt(a, "--policies")) {
      const char *v = cli_value(argc, argv, &i, "--policies");
      if (!v)
        return 2;
      if (o->ndirs == CLI_MAX_DIRS)
        return cli_usage_error(cmd, "too many --policies options");
      o->dirs[o->ndirs++] = v;
    } else if (cli_is_opt(a, "--config")) {
      if (!(o->config = cli_value(argc, argv, &i, "--config")))
        return 2;
    } else if (cli_is_opt(a, "--format")) {
      if (!(o->format = cli_value(argc, argv, &i, "--format")))
        return 2;
      if (strcmp(o->format, "text") != 0 && strcmp(o->format, "json") != 0)
        return cli_usage_error(cmd, "--format must be text or json");
    } else if (a[0] == '-' && a[1]) {
      return cli_usage_error(cmd, "unknown option %s", a);
    } else if (o->arg) {
      return cli_usage_error(cmd, "unexpected argument %s", a);
    } else {
      o->arg = a;
    }
  }
  return 0;
}

static void list_help(void)
{
  printf("Usage: mlgate list [--format text|json] [--policies DIR]... [--config FILE]\n"
         "\n"
         "Lists the policies mlgate would evaluate: the built-in ones and those under\n"
         "each --policies DIR, with gates, severity and enforcement (after --config).\n"
         "--format json prints an array of {id, title, gates, severity, enforcement,\n"
         "atlas, aliases}.\n");
}

int cmd_list(int argc, char **argv)
{
  list_opts o;
  loaded l;
  const mlg_policy **v;
  size_t n;
  int rc = parse(&o, argc, argv, "list", list_help);

  if (rc)
    return rc == 1 ? 0 : rc;
  if (o.arg)
    return cli_usage_error("list", "unexpected argument %s", o.arg);
  if ((rc = load(&l, o.dirs, o.ndirs, o.config)) != 0) {
    loaded_free(&l);
    return rc;
  }
  v = sorted(&l, &n);
  if (!v)
    rc = 2;
  else if (strcmp(o.format, "json") == 0)
    rc = list_json(v, n, l.cfg);
  else
    list_text(v, n, l.cfg);
  free(v);
  if (report_errors(&l))
    rc = 2;
  loaded_free(&l);
  return cli_finish_stdout(rc);
}

static void explain_help(void)
{
  printf("Usage: mlgate explain POLICY [--policies DIR]... [--format text|json]\n"
         "\n"
         "Tells what a policy checks, why (MITRE ATLAS), how to fix its findings and\n"
         "which parameters it takes. POLICY is a policy id (model/pickle-unsafe-import)\n"
         "or a peer tool id listed in its aliases (picklescan:dangerous).\n");
}

static const struct {
  const char *id, *title, *text;
} notices[] = {
  {"mlgate/waiver-expired", "A waiver in mlgate.yml has expired",
   "A waiver stops applying on the day after its 'expires' date, so the findings it\n"
   "covered block again. mlgate reports the expired waiver at its line in mlgate.yml.\n"
   "\nHow to fix:\nFix the findings, or renew the waiver with a new expiry date and a reason\n"
   "that says why the exception is still needed; remove waivers that match nothing."},
  {"mlgate/waiver-refused", "A waiver names a policy whose enforcement is hard",
   "Hard enforcement means the policy blocks and cannot be waived; the waiver is\n"
   "ignored and reported at its line in mlgate.yml.\n"
   "\nHow to fix:\nFix the finding, or ask the owners of the policy to lower its\n"
   "enforcement to soft if exceptions must be possible."},
  {"mlgate/suppression-invalid", "An inline suppression comment gives no reason",
   "A comment '# mlgate: ignore[POLICY] reason' on a line of a finding waives it, but\n"
   "only with a reason that a reviewer can judge later. Without one the finding\n"
   "stands and the comment is reported at its line.\n"
   "\nHow to fix:\nWrite why the finding is acceptable after the brackets, or fix the\n"
   "finding and remove the comment."},
  {"mlgate/suppression-refused", "An inline suppression names a hard-enforced policy",
   "Hard enforcement means the policy blocks and cannot be waived, inline or in\n"
   "mlgate.yml; the comment is ignored and reported at its line.\n"
   "\nHow to fix:\nFix the finding, or ask the owners of the policy to lower its\n"
   "enforcement to soft if exceptions must be possible."},
};

static void print_block(const char *label, const char *text)
{
  mlg_buf b = MLG_BUF_INIT;
  if (!text || !*text)
    return;
  mlg_sanitize_text(&b, text, NULL);
  printf("\n%s%s%s\n", label ? label : "", label ? ":\n" : "", b.ptr ? b.ptr : "");
  mlg_buf_free(&b);
}

static void field(const char *label, int first, const char *value)
{
  printf("  %-12s ", first ? label : "");
  put_clean(value);
  putchar('\n');
}

static void explain_text(const mlg_policy *p, const mlg_config *cfg)
{
  mlg_buf g = MLG_BUF_INIT;
  size_t i;
  mlg_enforcement enf = mlg_policy_enforcement(p, cfg);
  static const char *const enf_text[] = {"", "report only", "blocks unless waived",
                                         "blocks; waivers refused"};

  gates_text(&g, p->gates);
  printf("%s: ", p->id);
  put_clean(p->title);
  printf("\n\n");
  printf("  gate%s        %s\n", strchr(g.ptr, ',') ? "s" : " ", g.ptr);
  printf("  severity     %s (confidence %s)\n", mlg_severity_name(p->severity),
         mlg_confidence_name(p->confidence));
  printf("  enforcement  %s (%s)\n", mlg_enforcement_name(enf), enf_text[enf]);
  for (i = 0; i < p->atlas.len; i++) {
    const mlg_atlas_entry *e = mlg_atlas_find(p->atlas.items[i]);
    printf("  %-12s %s %s (%s)\n", i ? "" : "MITRE ATLAS", e ? e->id : "?", e ? e->name : "?",
           e ? mlg_atlas_kind_name(e->kind) : "?");
  }
  for (i = 0; i < p->aliases.len; i++)
    field("aliases", i == 0, p->aliases.items[i]);
  for (i = 0; i < p->files.len; i++)
    field("files", i == 0, p->files.items[i]);
  if (p->params && p->params->u.map.len) {
    for (i = 0; i < p->params->u.map.len; i++) {
      mlg_buf v = MLG_BUF_INIT;
      mlg_buf_printf(&v, "%s = ", p->params->u.map.pairs[i].key->u.str.ptr);
      mlg_json_write(&v, p->params->u.map.pairs[i].val, 0, NULL);
      field("params", i == 0, v.ptr ? v.ptr : "");
      mlg_buf_free(&v);
    }
  }
  printf("  %-12s ", "source");
  put_clean(p->path);
  printf("%s\n", p->builtin ? " (built in)" : "");
  print_block(NULL, p->description);
  print_block("How to fix", p->remediation);
  if (p->references.len)
    printf("\nReferences:\n");
  for (i = 0; i < p->references.len; i++) {
    printf("  ");
    put_clean(p->references.items[i]);
    putchar('\n');
  }
  mlg_buf_free(&g);
}

int cmd_explain(int argc, char **argv)
{
  list_opts o;
  loaded l;
  const mlg_policy **v;
  size_t n, i, j, shown = 0;
  int rc = parse(&o, argc, argv, "explain", explain_help);

  if (rc)
    return rc == 1 ? 0 : rc;
  if (!o.arg)
    return cli_usage_error("explain", "which policy? Give its id (see 'mlgate list')");
  for (i = 0; i < sizeof notices / sizeof *notices; i++)
    if (strcmp(o.arg, notices[i].id) == 0) {
      printf("%s: %s\n\n  gate         the gate of the waived policy\n  severity     low\n"
             "  enforcement  advisory (engine notice)\n\n%s\n",
             notices[i].id, notices[i].title, notices[i].text);
      return cli_finish_stdout(0);
    }
  if ((rc = load(&l, o.dirs, o.ndirs, o.config)) != 0) {
    loaded_free(&l);
    return rc;
  }
  v = sorted(&l, &n);
  for (i = 0; v && i < n; i++) {
    int match = strcmp(v[i]->id, o.arg) == 0;
    for (j = 0; !match && j < v[i]->aliases.len; j++)
      match = strcmp(v[i]->aliases.items[j], o.arg) == 0;
    if (!match)
      continue;
    if (shown++)
      printf("\n----\n\n");
    if (strcmp(o.format, "json") == 0) {
      mlg_buf b = MLG_BUF_INIT;
      mlg_json_write(&b, mlg_map_get(v[i]->doc->root, "fields"), MLG_JSON_PRETTY, NULL);
      printf("%s\n", b.ptr ? b.ptr : "{}");
      mlg_buf_free(&b);
    } else {
      explain_text(v[i], l.cfg);
    }
  }
  free(v);
  if (!shown) {
    fprintf(stderr, "mlgate: no policy has the id or alias '%s'; 'mlgate list' shows them\n",
            o.arg);
    rc = 2;
  }
  if (report_errors(&l))
    rc = 2;
  loaded_free(&l);
  return cli_finish_stdout(rc);
}
