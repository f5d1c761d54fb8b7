/* The mlgate.report/v1 JSON writer (contract: DESIGN section 5 and
 * docs/report.schema.json). Key order is fixed so output is byte-stable. */
#include <string.h>

#include "mlgate/version.h"
#include "parse.h"
#include "report.h"

#define TRY(x)          \
  do {                  \
    if ((x) != 0)       \
      goto oom;         \
  } while (0)

static mlg_node *str_list(mlg_doc *doc, const char *const *items, size_t n)
{
  mlg_node *seq = mlg_node_seq(doc);
  size_t i;
  for (i = 0; seq && i < n; i++)
    if (mlg_seq_push(doc, seq, mlg_node_str(doc, items[i])) != 0)
      return NULL;
  return seq;
}

static mlg_node *finding_node(mlg_doc *doc, const mlg_finding *f)
{
  mlg_node *n = mlg_node_map(doc), *loc = mlg_node_map(doc);
  if (!n || !loc)
    return NULL;
  TRY(mlg_map_set_str(doc, n, "policy", f->policy));
  TRY(mlg_map_set_str(doc, n, "gate", mlg_gate_name(f->gate)));
  TRY(mlg_map_set_str(doc, n, "severity", mlg_severity_name(f->severity)));
  TRY(mlg_map_set_str(doc, n, "confidence", mlg_confidence_name(f->confidence)));
  TRY(mlg_map_set_bool(doc, n, "blocking", f->blocking));
  TRY(mlg_map_set_str(doc, n, "message", f->message));
  TRY(mlg_map_set_str(doc, loc, "path", f->loc.path));
  TRY(mlg_map_set_int(doc, loc, "line", f->loc.line));
  TRY(mlg_map_set_int(doc, loc, "column", f->loc.column));
  TRY(mlg_map_set_int(doc, loc, "end_line", f->loc.end_line));
  TRY(mlg_map_set_int(doc, loc, "end_column", f->loc.end_column));
  if (f->loc.member)
    TRY(mlg_map_set_str(doc, loc, "member", f->loc.member));
  if (f->loc.offset >= 0)
    TRY(mlg_map_set_int(doc, loc, "offset", f->loc.offset));
  TRY(mlg_map_set(doc, n, "location", loc));
  TRY(mlg_map_set(doc, n, "atlas", str_list(doc, f->atlas, f->natlas)));
  TRY(mlg_map_set(doc, n, "aliases", str_list(doc, f->aliases, f->naliases)));
  TRY(mlg_map_set_str(doc, n, "fingerprint", f->fingerprint));
  TRY(mlg_map_set_bool(doc, n, "waived", f->waived));
  TRY(mlg_map_set(doc, n, "details",
                  f->details && f->details->type == MLG_MAP ? (mlg_node *)f->details
                                                             : mlg_node_map(doc)));
  return n;
oom:
  return NULL;
}

int mlg_report_to_node(mlg_node **out, mlg_doc *doc, const mlg_report *r, mlg_err *err)
{
  mlg_node *root = mlg_node_map(doc), *tool = mlg_node_map(doc), *run = mlg_node_map(doc);
  mlg_node *gates = mlg_node_seq(doc), *findings = mlg_node_seq(doc);
  mlg_node *errors = mlg_node_seq(doc), *stats = mlg_node_map(doc);
  size_t i;
  int g;

  *out = NULL;
  if (!root || !tool || !run || !gates || !findings || !errors || !stats)
    goto oom;
  TRY(mlg_map_set_str(doc, root, "schema", MLGATE_REPORT_SCHEMA));
  TRY(mlg_map_set_str(doc, tool, "name", "mlgate"));
  TRY(mlg_map_set_str(doc, tool, "version", MLGATE_VERSION));
  TRY(mlg_map_set(doc, root, "tool", tool));
  TRY(mlg_map_set_str(doc, run, "runner", r->runner));
  TRY(mlg_map_set_str(doc, run, "repository", r->repository));
  TRY(mlg_map_set_str(doc, run, "commit", r->commit));
  TRY(mlg_map_set_str(doc, run, "base", r->base));
  TRY(mlg_map_set_str(doc, run, "event", r->event));
  TRY(mlg_map_set_str(doc, run, "shard", r->shard));
  TRY(mlg_map_set(doc, root, "run", run));
  TRY(mlg_map_set_str(doc, root, "verdict", mlg_verdict_name(r->verdict)));
  TRY(mlg_map_set_int(doc, root, "exit_code", r->exit_code));
  for (g = 0; g < MLG_GATE_COUNT; g++) {
    const mlg_gate_summary *s = &r->gates[g];
    mlg_node *gn;
    if (!s->evaluated && s->verdict != MLG_VERDICT_ERROR)
      continue;
    gn = mlg_node_map(doc);
    if (!gn)
      goto oom;
    TRY(mlg_map_set_str(doc, gn, "name", mlg_gate_name((mlg_gate)g)));
    TRY(mlg_map_set_str(doc, gn, "verdict", mlg_verdict_name(s->verdict)));
    TRY(mlg_map_set_int(doc, gn, "policies", s->policies));
    TRY(mlg_map_set_int(doc, gn, "findings", s->findings));
    TRY(mlg_seq_push(doc, gates, gn));
  }
  TRY(mlg_map_set(doc, root, "gates", gates));
  for (i = 0; i < r->nfindings; i++)
    TRY(mlg_seq_push(doc, findings, finding_node(doc, &r->findings[i])));
  TRY(mlg_map_set(doc, root, "findings", findings));
  for (i = 0; i < r->nerrors; i++) {
    const mlg_report_error *e = &r->errors[i];
    mlg_node *en = mlg_node_map(doc);
    if (!en)
      goto oom;
    TRY(mlg_map_set_str(doc, en, "policy", e->policy));
    TRY(mlg_map_set_str(doc, en, "path", e->path));
    TRY(mlg_map_set_str(doc, en, "message", e->message));
    TRY(mlg_map_set_str(doc, en, "where", e->where));
    TRY(mlg_seq_push(doc, errors, en));
  }
  TRY(mlg_map_set(doc, root, "errors", errors));
  TRY(mlg_map_set_int(doc, stats, "files", (int64_t)r->files));
  TRY(mlg_map_set_int(doc, stats, "bytes", (int64_t)r->bytes));
  TRY(mlg_map_set_int(doc, stats, "policies", (int64_t)r->policies));
  TRY(mlg_map_set_int(doc, stats, "elapsed_ms", (int64_t)r->elapsed_ms));
  TRY(mlg_map_set(doc, root, "stats", stats));
  *out = root;
  return 0;
oom:
  return mlg_err_set(err, MLG_ENOMEM, "out of memory writing the report");
}

/* Findings are most of a large report (13,000 of them make 14 MB): they are
 * written straight into the buffer, in the bytes the tree writer would give
 * at this depth, instead of being built as a tree first. */
#define PUT(lit) TRY(mlg_buf_put(out, lit, sizeof lit - 1))

static int put_str(mlg_buf *out, const char *s)
{
  return mlg_json_put_string(out, s ? s : "", s ? strlen(s) : 0, 0);
}

static int put_list(mlg_buf *out, const char *const *items, size_t n)
{
  size_t i;
  if (n == 0)
    return mlg_buf_put(out, "[]", 2);
  for (i = 0; i < n; i++) {
    TRY(mlg_buf_put(out, i ? ",\n        " : "[\n        ", 10));
    TRY(put_str(out, items[i]));
  }
  PUT("\n      ]");
  return 0;
oom:
  return MLG_ENOMEM;
}

static int write_finding(mlg_buf *out, const mlg_finding *f, mlg_err *err)
{
  int rc;
  PUT("{\n      \"policy\": ");
  TRY(put_str(out, f->policy));
  PUT(",\n      \"gate\": ");
  TRY(put_str(out, mlg_gate_name(f->gate)));
  PUT(",\n      \"severity\": ");
  TRY(put_str(out, mlg_severity_name(f->severity)));
  PUT(",\n      \"confidence\": ");
  TRY(put_str(out, mlg_confidence_name(f->confidence)));
  if (f->blocking)
    PUT(",\n      \"blocking\": true");
  else
    PUT(",\n      \"blocking\": false");
  PUT(",\n      \"message\": ");
  TRY(put_str(out, f->message));
  PUT(",\n      \"location\": {\n        \"path\": ");
  TRY(put_str(out, f->loc.path));
  PUT(",\n        \"line\": ");
  TRY(mlg_json_put_int(out, f->loc.line));
  PUT(",\n        \"column\": ");
  TRY(mlg_json_put_int(out, f->loc.column));
  PUT(",\n        \"end_line\": ");
  TRY(mlg_json_put_int(out, f->loc.end_line));
  PUT(",\n        \"end_column\": ");
  TRY(mlg_json_put_int(out, f->loc.end_column));
  if (f->loc.member) {
    PUT(",\n        \"member\": ");
    TRY(put_str(out, f->loc.member));
  }
  if (f->loc.offset >= 0) {
    PUT(",\n        \"offset\": ");
    TRY(mlg_json_put_int(out, f->loc.offset));
  }
  PUT("\n      },\n      \"atlas\": ");
  TRY(put_list(out, f->atlas, f->natlas));
  PUT(",\n      \"aliases\": ");
  TRY(put_list(out, f->aliases, f->naliases));
  PUT(",\n      \"fingerprint\": ");
  TRY(put_str(out, f->fingerprint));
  if (f->waived)
    PUT(",\n      \"waived\": true");
  else
    PUT(",\n      \"waived\": false");
  PUT(",\n      \"details\": ");
  if (f->details && f->details->type == MLG_MAP) {
    if ((rc = mlg_json_write_at(out, f->details, MLG_JSON_PRETTY, 4, err)) != 0)
      return rc;
  } else {
    PUT("{}");
  }
  PUT("\n    }");
  return 0;
oom:
  return mlg_err_set(err, MLG_ENOMEM, "out of memory writing the report");
}

int mlg_report_write_json(mlg_buf *out, const mlg_report *r, const mlg_report_style *style,
                          mlg_err *err)
{
  static const char mark[] = "\n  \"findings\": []";
  mlg_doc *doc = mlg_doc_new(NULL);
  mlg_report shell;
  mlg_node *root;
  mlg_buf head = MLG_BUF_INIT;
  size_t start = out->len, i;
  const char *at;
  int rc;
  (void)style;
  if (!doc)
    return mlg_err_set(err, MLG_ENOMEM, "out of memory writing the report");
  /* The tree holds everything but the findings; they go where its empty
   * list is. The mark can only be that list: inside strings a line break
   * is written as \n. */
  shell = *r;
  shell.nfindings = 0;
  rc = mlg_report_to_node(&root, doc, &shell, err);
  if (rc == 0)
    rc = mlg_json_write_at(&head, root, MLG_JSON_PRETTY, 1, err);
  mlg_doc_free(doc);
  if (rc != 0)
    goto done;
  at = strstr(head.ptr, mark);
  if (!at) {
    rc = mlg_err_set(err, MLG_EINVAL, "report writer: no findings list in the report");
    goto done;
  }
  TRY(mlg_buf_put(out, head.ptr, (size_t)(at - head.ptr) + sizeof mark - 2));
  for (i = 0; i < r->nfindings; i++) {
    TRY(mlg_buf_put(out, i ? ",\n    " : "\n    ", i ? 6 : 5));
    if ((rc = write_finding(out, &r->findings[i], err)) != 0)
      goto done;
  }
  if (r->nfindings)
    PUT("\n  ");
  TRY(mlg_buf_puts(out, at + sizeof mark - 2));
  TRY(mlg_json_ci_safe(out, start));
  TRY(mlg_buf_putc(out, '\n'));
done:
  mlg_buf_free(&head);
  if (rc != 0 && out->ptr) {
    out->len = start;
    out->ptr[start] = '\0';
  }
  return rc;
oom:
  rc = mlg_err_set(err, MLG_ENOMEM, "out of memory writing the report");
  goto done;
}
