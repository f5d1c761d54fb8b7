/*
 * The outcome of a run: findings, errors, per-gate verdicts and the
 * overall verdict and exit code (DESIGN section 4), and the writers that
 * turn it into text or the mlgate.report/v1 JSON contract.
 */
#ifndef MLG_REPORT_H
#define MLG_REPORT_H

#include <stddef.h>
#include <stdint.h>

#include "buf.h"
#include "err.h"
#include "node.h"
#include "types.h"

typedef enum mlg_verdict {
  MLG_VERDICT_PASS = 0,
  MLG_VERDICT_FAIL,
  MLG_VERDICT_ERROR,
  MLG_VERDICT_SKIPPED /* gate not evaluated */
} mlg_verdict;

typedef struct mlg_location {
  const char *path;  /* relative to the root, '/'-separated */
  uint32_t line, column, end_line, end_column;
  const char *member; /* archive member, or NULL */
  int64_t offset;     /* byte offset, or -1 */
} mlg_location;

typedef struct mlg_finding {
  const char *policy;
  mlg_gate gate;
  mlg_severity severity;
  mlg_confidence confidence;
  int blocking;
  const char *message;
  mlg_location loc;
  const char *const *atlas; /* borrowed from the policy, NULL-free list */
  size_t natlas;
  const char *const *aliases;
  size_t naliases;
  char fingerprint[33];
  int waived;
  const char *waiver_reason; /* when waived */
  const mlg_node *details;   /* map, or NULL */
  /* Inputs to the fingerprint (not reported). */
  const char *key;
  const char *snippet;
  size_t task;               /* engine task that reported it, or SIZE_MAX (not reported) */
} mlg_finding;

typedef struct mlg_report_error {
  int gate;           /* mlg_gate it belongs to, or -1 (engine, config) */
  const char *policy; /* may be "" for engine/config errors */
  const char *path;
  const char *message;
  const char *where;
  size_t task;        /* engine task that reported it, or SIZE_MAX (not reported) */
} mlg_report_error;

typedef struct mlg_gate_summary {
  int evaluated;
  mlg_verdict verdict;
  unsigned policies;
  unsigned findings, blocking, waived;
} mlg_gate_summary;

typedef struct mlg_report {
  mlg_doc *doc; /* owns every string and details tree of the report */
  const char *root;       /* the evaluated path as the user gave it */
  const char *runner, *repository, *commit, *base, *event, *shard;
  mlg_verdict verdict;
  int exit_code;
  mlg_gate_summary gates[MLG_GATE_COUNT];
  mlg_finding *findings;
  size_t nfindings, cap_findings;
  int ordered; /* sorted and fingerprinted, nothing added or reordered since */
  mlg_report_error *errors;
  size_t nerrors, cap_errors;
  uint64_t files, bytes, policies, elapsed_ms;
  int fail_on; /* mlg_severity */
} mlg_report;

int mlg_report_new(mlg_report **out, mlg_err *err);
void mlg_report_free(mlg_report *r);

/* Appends a zeroed finding / an error (strings copied into r->doc). */
mlg_finding *mlg_report_add_finding(mlg_report *r);
int mlg_report_add_error(mlg_report *r, int gate, const char *policy, const char *path,
                         const char *message, const char *where);
const char *mlg_report_str(mlg_report *r, const char *s);

/* Adds src's findings, errors, gate summaries and stats to dst, with
 * prefix (may be NULL) put in front of every finding and error path
 * ("models" + "a.pt" -> "models/a.pt"). Call finalize_order and decide on
 * dst afterwards. */
int mlg_report_merge(mlg_report *dst, const mlg_report *src, const char *prefix, mlg_err *err);

/* Sorts findings (path, line, column, policy, then the rest for a total
 * order), computes fingerprints (stable across line shifts and re-spacing:
 * policy, path, member, the policy's key or else the whitespace-normalised
 * line text, and the occurrence among identical ones), then errors. */
void mlg_report_finalize_order(mlg_report *r);

/* Verdicts and exit code from findings and errors (DESIGN section 4). */
void mlg_report_decide(mlg_report *r);

const char *mlg_verdict_name(mlg_verdict v);

/* Output styling for text formats. */
typedef struct mlg_report_style {
  int color;   /* ANSI colours */
  int verbose;
} mlg_report_style;

typedef int (*mlg_report_write_fn)(mlg_buf *out, const mlg_report *r,
                                   const mlg_report_style *style, mlg_err *err);

typedef struct mlg_report_writer {
  const char *name;
  const char *description;
  mlg_report_write_fn write;
} mlg_report_writer;

/* Registered writers, NULL-name terminated; new formats add a row in
 * report.c and a report_<name>.c file. */
const mlg_report_writer *mlg_report_writers(void);
const mlg_report_writer *mlg_report_writer_find(const char *name);

int mlg_report_write_text(mlg_buf *out, const mlg_report *r, const mlg_report_style *style,
                          mlg_err *err);
int mlg_report_write_json(mlg_buf *out, const mlg_report *r, const mlg_report_style *style,
                          mlg_err *err);

/* Builds the mlgate.report/v1 tree (for the JSON writer and for tests). */
int mlg_report_to_node(mlg_node **out, mlg_doc *doc, const mlg_report *r, mlg_err *err);

/* Makes untrusted text safe for one line of terminal or CI log output:
 * control characters and ANSI escapes become visible escapes, invalid
 * UTF-8 and bidi controls are escaped, and CI workflow commands are
 * neutralised ("##[" anywhere, "::" at the start after blanks). */
void mlg_sanitize_line(mlg_buf *out, const char *s);

/* The same for multi-line text: each line sanitised and prefixed with
 * indent (may be NULL); line breaks are kept. */
void mlg_sanitize_text(mlg_buf *out, const char *s, const char *indent);

#endif
