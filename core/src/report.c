#include "report.h"

#include <stdlib.h>
#include <string.h>

#include "hash.h"

int mlg_report_new(mlg_report **out, mlg_err *err)
{
  mlg_report *r = calloc(1, sizeof *r);
  if (!r || !(r->doc = mlg_doc_new(NULL))) {
    free(r);
    *out = NULL;
    return mlg_err_set(err, MLG_ENOMEM, "out of memory");
  }
  r->runner = "local";
  r->repository = r->commit = r->base = r->event = "";
  r->shard = "1/1";
  r->root = ".";
  r->fail_on = MLG_SEV_INFO;
  *out = r;
  return 0;
}

void mlg_report_free(mlg_report *r)
{
  if (!r)
    return;
  mlg_doc_free(r->doc);
  free(r->findings);
  free(r->errors);
  free(r);
}

const char *mlg_report_str(mlg_report *r, const char *s)
{
  return s ? mlg_doc_strdup(r->doc, s) : NULL;
}

mlg_finding *mlg_report_add_finding(mlg_report *r)
{
  mlg_finding *f;
  if (r->nfindings == r->cap_findings) {
    size_t cap = r->cap_findings ? r->cap_findings * 2 : 64;
    mlg_finding *p = realloc(r->findings, cap * sizeof *p);
    if (!p)
      return NULL;
    r->findings = p;
    r->cap_findings = cap;
  }
  f = &r->findings[r->nfindings++];
  r->ordered = 0;
  memset(f, 0, sizeof *f);
  f->loc.offset = -1;
  f->task = SIZE_MAX;
  return f;
}

int mlg_report_add_error(mlg_report *r, int gate, const char *policy, const char *path,
                         const char *message, const char *where)
{
  mlg_report_error *e;
  if (r->nerrors == r->cap_errors) {
    size_t cap = r->cap_errors ? r->cap_errors * 2 : 16;
    mlg_report_error *p = realloc(r->errors, cap * sizeof *p);
    if (!p)
      return MLG_ENOMEM;
    r->errors = p;
    r->cap_errors = cap;
  }
  e = &r->errors[r->nerrors++];
  r->ordered = 0;
  e->task = SIZE_MAX;
  e->gate = gate;
  e->policy = mlg_report_str(r, policy ? policy : "");
  e->path = mlg_report_str(r, path ? path : "");
  e->message = mlg_report_str(r, message ? message : "");
  e->where = mlg_report_str(r, where ? where : "");
  if (!e->policy || !e->path || !e->message || !e->where) {
    r->nerrors--;
    return MLG_ENOMEM;
  }
  return 0;
}

static const char *prefixed(mlg_report *r, const char *prefix, const char *path)
{
  mlg_buf b = MLG_BUF_INIT;
  const char *out;
  if (!prefix || !*prefix || !path)
    return mlg_report_str(r, path);
  if (!*path)
    return mlg_report_str(r, prefix);
  mlg_buf_printf(&b, "%s/%s", prefix, path);
  out = b.ptr ? mlg_report_str(r, b.ptr) : NULL;
  mlg_buf_free(&b);
  return out;
}

static const char *const *copy_strs(mlg_report *r, const char *const *v, size_t n)
{
  const char **out;
  size_t i;
  if (!n)
    return NULL;
  out = mlg_doc_alloc(r->doc, n * sizeof *out);
  for (i = 0; out && i < n; i++)
    out[i] = mlg_report_str(r, v[i]);
  return out;
}

int mlg_report_merge(mlg_report *dst, const mlg_report *src, const char *prefix, mlg_err *err)
{
  size_t i;
  int g;

  for (i = 0; i < src->nfindings; i++) {
    const mlg_finding *s = &src->findings[i];
    mlg_finding *f = mlg_report_add_finding(dst);
    if (!f)
      return mlg_err_set(err, MLG_ENOMEM, "out of memory merging reports");
    *f = *s;
    f->policy = mlg_report_str(dst, s->policy);
    f->message = mlg_report_str(dst, s->message);
    f->loc.path = prefixed(dst, prefix, s->loc.path);
    f->loc.member = mlg_report_str(dst, s->loc.member);
    f->atlas = copy_strs(dst, s->atlas, s->natlas);
    f->aliases = copy_strs(dst, s->aliases, s->naliases);
    f->waiver_reason = mlg_report_str(dst, s->waiver_reason);
    f->details = s->details ? mlg_node_copy(dst->doc, s->details) : NULL;
    f->key = mlg_report_str(dst, s->key);
    f->snippet = mlg_report_str(dst, s->snippet);
    if (!f->policy || !f->message || !f->loc.path)
      return mlg_err_set(err, MLG_ENOMEM, "out of memory merging reports");
  }
  for (i = 0; i < src->nerrors; i++) {
    const mlg_report_error *e = &src->errors[i];
    const char *path = *e->path ? prefixed(dst, prefix, e->path) : "";
    if (mlg_report_add_error(dst, e->gate, e->policy, path, e->message, e->where) != 0)
      return mlg_err_set(err, MLG_ENOMEM, "out of memory merging reports");
  }
  for (g = 0; g < MLG_GATE_COUNT; g++) {
    dst->gates[g].evaluated |= src->gates[g].evaluated;
    if (src->gates[g].policies > dst->gates[g].policies)
      dst->gates[g].policies = src->gates[g].policies;
  }
  if (src->policies > dst->policies)
    dst->policies = src->policies;
  dst->files += src->files;
  dst->bytes += src->bytes;
  if (!*dst->commit && *src->commit) {
    dst->commit = mlg_report_str(dst, src->commit);
    dst->repository = mlg_report_str(dst, src->repository);
  }
  return 0;
}

static int cmp_s(const char *a, const char *b)
{
  return strcmp(a ? a : "", b ? b : "");
}

static int cmp_u(uint64_t a, uint64_t b)
{
  return a < b ? -1 : a > b;
}

static int cmp_finding(const void *pa, const void *pb)
{
  const mlg_finding *a = pa, *b = pb;
  int c;
  if ((c = cmp_s(a->loc.path, b->loc.path)) != 0) return c;
  if ((c = cmp_u(a->loc.line, b->loc.line)) != 0) return c;
  if ((c = cmp_u(a->loc.column, b->loc.column)) != 0) return c;
  if ((c = cmp_s(a->policy, b->policy)) != 0) return c;
  if ((c = cmp_u(a->gate, b->gate)) != 0) return c;
  if ((c = cmp_u(a->loc.end_line, b->loc.end_line)) != 0) return c;
  if ((c = cmp_u(a->loc.end_column, b->loc.end_column)) != 0) return c;
  if ((c = cmp_s(a->loc.member, b->loc.member)) != 0) return c;
  if ((c = cmp_u((uint64_t)(a->loc.offset + 1), (uint64_t)(b->loc.offset + 1))) != 0) return c;
  if ((c = cmp_s(a->message, b->message)) != 0) return c;
  return cmp_u(a->severity, b->severity);
}

static int cmp_error(const void *pa, const void *pb)
{
  const mlg_report_error *a = pa, *b = pb;
  int c;
  if ((c = cmp_s(a->policy, b->policy)) != 0) return c;
  if ((c = cmp_s(a->path, b->path)) != 0) return c;
  if ((c = cmp_s(a->message, b->message)) != 0) return c;
  return cmp_s(a->where, b->where);
}

/* s and its NUL ("" for NULL). */
static void put0(mlg_buf *b, const char *s)
{
  mlg_buf_put(b, s ? s : "", s ? strlen(s) + 1 : 1);
}

/* What identifies a finding independently of where the file moved it. */
static void basis(const mlg_finding *f, mlg_buf *b)
{
  mlg_buf_clear(b);
  put0(b, f->policy);
  put0(b, f->loc.path);
  put0(b, f->loc.member);
  if (f->key) {
    mlg_buf_put(b, "k:", 2);
    mlg_buf_puts(b, f->key);
  } else if (f->snippet && f->loc.line) {
    /* The normalised line text alone: columns shift when a formatter
     * re-spaces the line; several findings on one line are told apart by
     * their order (occurrence) instead. */
    mlg_buf_put(b, "s:", 2);
    mlg_buf_puts(b, f->snippet);
  } else if (f->loc.offset >= 0) {
    mlg_buf_printf(b, "o:%lld%c%s", (long long)f->loc.offset, 0, f->message);
  } else {
    mlg_buf_put(b, "m:", 2);
    mlg_buf_puts(b, f->message);
  }
}

typedef struct fp_slot {
  unsigned char digest[MLG_SHA256_LEN]; /* of the basis */
  size_t index;                         /* in report order */
} fp_slot;

static int cmp_slot(const void *pa, const void *pb)
{
  const fp_slot *a = pa, *b = pb;
  int c = memcmp(a->digest, b->digest, sizeof a->digest);
  return c ? c : cmp_u(a->index, b->index);
}

void mlg_report_finalize_order(mlg_report *r)
{
  mlg_buf b = MLG_BUF_INIT;
  fp_slot *slots;
  size_t i;
  unsigned occurrence = 0;

  if (r->ordered)
    return;
  if (r->nfindings > 1)
    qsort(r->findings, r->nfindings, sizeof *r->findings, cmp_finding);
  if (r->nerrors > 1) {
    size_t n;
    qsort(r->errors, r->nerrors, sizeof *r->errors, cmp_error);
    /* The same error from several processes (a policy whose files were
     * split between them failed to load in each) is reported once. */
    for (i = n = 1; i < r->nerrors; i++)
      if (cmp_error(&r->errors[i], &r->errors[n - 1]) != 0 ||
          r->errors[i].gate != r->errors[n - 1].gate)
        r->errors[n++] = r->errors[i];
    r->nerrors = n;
  }
  if (r->nfindings == 0)
    return;
  slots = calloc(r->nfindings, sizeof *slots);
  if (!slots)
    return; /* fingerprints stay empty; the run still reports */
  for (i = 0; i < r->nfindings; i++) {
    basis(&r->findings[i], &b);
    mlg_sha256_buf(slots[i].digest, b.ptr, b.len);
    slots[i].index = i;
  }
  /* Identical bases are told apart by their order in the report. */
  qsort(slots, r->nfindings, sizeof *slots, cmp_slot);
  for (i = 0; i < r->nfindings; i++) {
    unsigned char md[MLG_SHA256_LEN];
    char hex[MLG_SHA256_HEX];
    if (i > 0 && memcmp(slots[i].digest, slots[i - 1].digest, MLG_SHA256_LEN) == 0)
      occurrence++;
    else
      occurrence = 0;
    mlg_buf_clear(&b);
    mlg_buf_put(&b, slots[i].digest, MLG_SHA256_LEN);
    mlg_buf_printf(&b, "%u", occurrence);
    mlg_sha256_buf(md, b.ptr, b.len);
    mlg_hex(hex, md, 16);
    memcpy(r->findings[slots[i].index].fingerprint, hex, 33);
  }
  free(slots);
  mlg_buf_free(&b);
  r->ordered = 1;
}

void mlg_report_decide(mlg_report *r)
{
  size_t i;
  int g, any_error = 0, any_block = 0;

  for (g = 0; g < MLG_GATE_COUNT; g++) {
    mlg_gate_summary *s = &r->gates[g];
    s->findings = s->blocking = s->waived = 0;
  }
  for (i = 0; i < r->nfindings; i++) {
    const mlg_finding *f = &r->findings[i];
    mlg_gate_summary *s = &r->gates[f->gate];
    s->findings++;
    s->blocking += f->blocking != 0;
    s->waived += f->waived != 0;
  }
  for (g = 0; g < MLG_GATE_COUNT; g++) {
    mlg_gate_summary *s = &r->gates[g];
    if (!s->evaluated) {
      s->verdict = MLG_VERDICT_SKIPPED;
      continue;
    }
    s->verdict = s->blocking ? MLG_VERDICT_FAIL : MLG_VERDICT_PASS;
  }
  for (i = 0; i < r->nerrors; i++) {
    int eg = r->errors[i].gate;
    any_error = 1;
    if (eg >= 0 && eg < MLG_GATE_COUNT)
      r->gates[eg].verdict = MLG_VERDICT_ERROR;
  }
  for (g = 0; g < MLG_GATE_COUNT; g++)
    any_block |= r->gates[g].blocking != 0;
  /* Fail closed: an error outranks a pass and a fail. */
  if (any_error) {
    r->verdict = MLG_VERDICT_ERROR;
    r->exit_code = 2;
  } else if (any_block) {
    r->verdict = MLG_VERDICT_FAIL;
    r->exit_code = 1;
  } else {
    r->verdict = MLG_VERDICT_PASS;
    r->exit_code = 0;
  }
}

const char *mlg_verdict_name(mlg_verdict v)
{
  switch (v) {
  case MLG_VERDICT_PASS: return "pass";
  case MLG_VERDICT_FAIL: return "fail";
  case MLG_VERDICT_ERROR: return "error";
  default: return "skipped";
  }
}

static const mlg_report_writer writers[] = {
  {"text", "human-readable, grouped by gate, with a summary table", mlg_report_write_text},
  {"json", "mlgate.report/v1 JSON (docs/report.schema.json)", mlg_report_write_json},
  {NULL, NULL, NULL}};

const mlg_report_writer *mlg_report_writers(void)
{
  return writers;
}

const mlg_report_writer *mlg_report_writer_find(const char *name)
{
  const mlg_report_writer *w;
  for (w = writers; w->name; w++)
    if (strcmp(w->name, name) == 0)
      return w;
  return NULL;
}

/* Length of a valid UTF-8 sequence at s (0 when invalid). */
static size_t utf8_len(const unsigned char *s, unsigned *cp)
{
  unsigned c = s[0];
  size_t n, i;
  if (c < 0x80) {
    *cp = c;
    return 1;
  }
  if (c >= 0xC2 && c <= 0xDF)
    n = 2, c &= 0x1F;
  else if (c >= 0xE0 && c <= 0xEF)
    n = 3, c &= 0x0F;
  else if (c >= 0xF0 && c <= 0xF4)
    n = 4, c &= 0x07;
  else
    return 0;
  for (i = 1; i < n; i++) {
    if ((s[i] & 0xC0) != 0x80)
      return 0;
    c = (c << 6) | (s[i] & 0x3F);
  }
  if ((n == 3 && c < 0x800) || (n == 4 && (c < 0x10000 || c > 0x10FFFF)) ||
      (c >= 0xD800 && c <= 0xDFFF))
    return 0;
  *cp = c;
  return n;
}

void mlg_sanitize_line(mlg_buf *out, const char *s)
{
  const unsigned char *p = (const unsigned char *)(s ? s : "");
  size_t start = out->len, lead;

  while (*p) {
    unsigned cp;
    size_t n = utf8_len(p, &cp);
    if (n == 0) {
      mlg_buf_printf(out, "\\x%02x", *p);
      p++;
      continue;
    }
    if (cp == '\n')
      mlg_buf_puts(out, "\\n");
    else if (cp == '\r')
      mlg_buf_puts(out, "\\r");
    else if (cp == '\t')
      mlg_buf_putc(out, ' ');
    else if (cp < 0x20 || cp == 0x7f || (cp >= 0x80 && cp < 0xA0))
      mlg_buf_printf(out, "\\x%02x", cp);
    else if ((cp >= 0x202A && cp <= 0x202E) || (cp >= 0x2066 && cp <= 0x2069) ||
             cp == 0x200E || cp == 0x200F)
      mlg_buf_printf(out, "\\u{%x}", cp); /* bidi controls reorder what reviewers see */
    else if (cp == '[' && out->len - start >= 2 && out->ptr[out->len - 1] == '#' &&
             out->ptr[out->len - 2] == '#')
      mlg_buf_puts(out, "\\["); /* the GitHub runner finds "##[cmd]" anywhere in a line */
    else
      mlg_buf_put(out, p, n);
    p += n;
  }
  /* The runner also takes a line as a command when it starts with "::"
   * after blanks; callers may put this text at the start of a line. */
  for (lead = start; lead < out->len && out->ptr[lead] == ' '; lead++)
    ;
  if (out->len - lead >= 2 && memcmp(out->ptr + lead, "::", 2) == 0) {
    mlg_buf_putc(out, ' ');
    memmove(out->ptr + lead + 1, out->ptr + lead, out->len - lead - 1);
    out->ptr[lead] = '\'';
  }
}

void mlg_sanitize_text(mlg_buf *out, const char *s, const char *indent)
{
  const char *p = s ? s : "";
  mlg_buf line = MLG_BUF_INIT;
  for (;;) {
    const char *nl = strchr(p, '\n');
    size_t n = nl ? (size_t)(nl - p) : strlen(p);
    mlg_buf_clear(&line);
    mlg_buf_put(&line, p, n);
    mlg_buf_puts(out, indent ? indent : "");
    mlg_sanitize_line(out, line.ptr ? line.ptr : "");
    if (!nl)
      break;
    mlg_buf_putc(out, '\n');
    p = nl + 1;
  }
  mlg_buf_free(&line);
}
