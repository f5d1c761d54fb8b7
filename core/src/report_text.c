/*
 * Human-readable report: findings grouped by gate, one line each in the
 * compiler style editors and CI logs link (path:line:col: severity:
 * message [policy]), errors, a summary table and the verdict. Colours only
 * when the caller says the output is a terminal. Every untrusted string is
 * sanitised to one line.
 */
#include <stdio.h>
#include <string.h>

#include "report.h"

#define C_RESET "\033[0m"
#define C_BOLD "\033[1m"
#define C_DIM "\033[2m"
#define C_RED "\033[31m"
#define C_GREEN "\033[32m"
#define C_YELLOW "\033[33m"
#define C_BLUE "\033[34m"
#define C_MAGENTA "\033[35m"
#define C_CYAN "\033[36m"

typedef struct out {
  mlg_buf *b;
  int color;
} out;

static void paint(out *o, const char *color, const char *text)
{
  if (o->color)
    mlg_buf_puts(o->b, color);
  mlg_buf_puts(o->b, text);
  if (o->color)
    mlg_buf_puts(o->b, C_RESET);
}

static const char *sev_color(mlg_severity s)
{
  switch (s) {
  case MLG_SEV_CRITICAL: return C_BOLD C_MAGENTA;
  case MLG_SEV_HIGH: return C_RED;
  case MLG_SEV_MEDIUM: return C_YELLOW;
  case MLG_SEV_LOW: return C_BLUE;
  default: return C_DIM;
  }
}

static const char *verdict_color(mlg_verdict v)
{
  switch (v) {
  case MLG_VERDICT_PASS: return C_GREEN;
  case MLG_VERDICT_FAIL: return C_BOLD C_RED;
  case MLG_VERDICT_ERROR: return C_BOLD C_MAGENTA;
  default: return C_DIM;
  }
}

static void location(out *o, const mlg_location *l)
{
  mlg_sanitize_line(o->b, l->path);
  if (l->line) {
    mlg_buf_printf(o->b, ":%u", l->line);
    if (l->column)
      mlg_buf_printf(o->b, ":%u", l->column);
  }
  if (l->member) {
    mlg_buf_puts(o->b, "[");
    mlg_sanitize_line(o->b, l->member);
    mlg_buf_puts(o->b, "]");
  }
  if (l->offset >= 0)
    mlg_buf_printf(o->b, "@%lld", (long long)l->offset);
}

static void finding(out *o, const mlg_finding *f)
{
  mlg_buf_puts(o->b, "  ");
  if (o->color)
    mlg_buf_puts(o->b, C_BOLD);
  location(o, &f->loc);
  if (o->color)
    mlg_buf_puts(o->b, C_RESET);
  mlg_buf_puts(o->b, ": ");
  paint(o, sev_color(f->severity), mlg_severity_name(f->severity));
  mlg_buf_puts(o->b, ": ");
  mlg_sanitize_line(o->b, f->message);
  mlg_buf_puts(o->b, " [");
  mlg_sanitize_line(o->b, f->policy);
  mlg_buf_puts(o->b, "]");
  if (f->blocking)
    paint(o, C_BOLD C_RED, " BLOCKING");
  else if (f->waived) {
    mlg_buf_puts(o->b, " ");
    paint(o, C_DIM, "waived");
    if (f->waiver_reason) {
      mlg_buf_puts(o->b, " (");
      mlg_sanitize_line(o->b, f->waiver_reason);
      mlg_buf_puts(o->b, ")");
    }
  } else {
    mlg_buf_puts(o->b, " ");
    paint(o, C_DIM, "advisory");
  }
  mlg_buf_putc(o->b, '\n');
}

static void error_line(out *o, const mlg_report_error *e)
{
  mlg_buf_puts(o->b, "  ");
  if (e->where && *e->where) {
    mlg_sanitize_line(o->b, e->where);
    mlg_buf_puts(o->b, ": ");
  }
  paint(o, C_BOLD C_MAGENTA, "error");
  mlg_buf_puts(o->b, ": ");
  if (e->policy && *e->policy) {
    mlg_sanitize_line(o->b, e->policy);
    mlg_buf_puts(o->b, ": ");
  }
  mlg_sanitize_line(o->b, e->message);
  if (e->path && *e->path && !(e->where && strstr(e->where, e->path)) &&
      !strstr(e->message, e->path)) {
    mlg_buf_puts(o->b, " (");
    mlg_sanitize_line(o->b, e->path);
    mlg_buf_puts(o->b, ")");
  }
  mlg_buf_putc(o->b, '\n');
}

static void summary(out *o, const mlg_report *r)
{
  int g, rows = 0;
  for (g = 0; g < MLG_GATE_COUNT; g++)
    rows += r->gates[g].evaluated || r->gates[g].verdict == MLG_VERDICT_ERROR;
  if (!rows)
    return; /* nothing was evaluated: the verdict line says why */
  mlg_buf_puts(o->b, "\n");
  if (o->color)
    mlg_buf_puts(o->b, C_BOLD);
  mlg_buf_printf(o->b, "  %-9s %-8s %8s %9s %9s %7s\n", "gate", "verdict", "policies",
                 "findings", "blocking", "waived");
  if (o->color)
    mlg_buf_puts(o->b, C_RESET);
  for (g = 0; g < MLG_GATE_COUNT; g++) {
    const mlg_gate_summary *s = &r->gates[g];
    char v[16];
    if (!s->evaluated && s->verdict != MLG_VERDICT_ERROR)
      continue;
    mlg_buf_printf(o->b, "  %-9s ", mlg_gate_name((mlg_gate)g));
    snprintf(v, sizeof v, "%-8s", mlg_verdict_name(s->verdict));
    paint(o, verdict_color(s->verdict), v);
    mlg_buf_printf(o->b, " %8u %9u %9u %7u\n", s->policies, s->findings, s->blocking, s->waived);
  }
}

int mlg_report_write_text(mlg_buf *buf, const mlg_report *r, const mlg_report_style *style,
                          mlg_err *err)
{
  out o = {buf, style && style->color};
  size_t i, blocking = 0;
  int g, gates_failed = 0;

  for (g = 0; g < MLG_GATE_COUNT; g++) {
    int header = 0;
    for (i = 0; i < r->nfindings; i++) {
      const mlg_finding *f = &r->findings[i];
      if ((int)f->gate != g)
        continue;
      if (!header) {
        mlg_buf_putc(buf, '\n');
        paint(&o, C_BOLD, mlg_gate_name((mlg_gate)g));
        mlg_buf_puts(buf, " gate: ");
        paint(&o, verdict_color(r->gates[g].verdict), mlg_verdict_name(r->gates[g].verdict));
        mlg_buf_putc(buf, '\n');
        header = 1;
      }
      finding(&o, f);
      blocking += f->blocking != 0;
    }
    gates_failed += r->gates[g].verdict == MLG_VERDICT_FAIL;
  }
  if (r->nerrors) {
    mlg_buf_putc(buf, '\n');
    paint(&o, C_BOLD, "errors");
    mlg_buf_puts(buf, " (the run fails closed)\n");
    for (i = 0; i < r->nerrors; i++)
      error_line(&o, &r->errors[i]);
  }
  summary(&o, r);
  mlg_buf_puts(buf, "\n  ");
  paint(&o, verdict_color(r->verdict), r->verdict == MLG_VERDICT_PASS   ? "PASS"
                                       : r->verdict == MLG_VERDICT_FAIL ? "FAIL"
                                                                        : "ERROR");
  if (r->verdict == MLG_VERDICT_ERROR)
    mlg_buf_printf(buf, ": %zu error%s; fix %s and run again", r->nerrors,
                   r->nerrors == 1 ? "" : "s", r->nerrors == 1 ? "it" : "them");
  else if (r->verdict == MLG_VERDICT_FAIL)
    mlg_buf_printf(buf, ": %zu blocking finding%s in %d gate%s; fix %s or request a waiver",
                   blocking, blocking == 1 ? "" : "s", gates_failed, gates_failed == 1 ? "" : "s",
                   blocking == 1 ? "it" : "them");
  else
    mlg_buf_printf(buf, ": no blocking findings");
  mlg_buf_printf(buf, " (%llu polic%s, %llu file%s, %llu ms, exit %d)\n",
                 (unsigned long long)r->policies, r->policies == 1 ? "y" : "ies",
                 (unsigned long long)r->files, r->files == 1 ? "" : "s",
                 (unsigned long long)r->elapsed_ms, r->exit_code);
  if (!buf->ptr)
    return mlg_err_set(err, MLG_ENOMEM, "out of memory writing the report");
  return 0;
}
