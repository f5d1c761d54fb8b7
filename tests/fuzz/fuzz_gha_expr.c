/*
 * libFuzzer harness for the GitHub expression engine: the input is parsed
 * as an expression (refs, constancy and evaluation against a small fixed
 * context, which includes a shared-node "dag" to reach the memory limits),
 * and scanned for "${{ }}" spans whose contents are parsed too. Checks:
 * errors carry a phase and a message, spans and offsets stay inside the
 * text, a constant expression evaluates the same without contexts.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "gha_expr.h"
#include "parse.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static const char ctx_json[] =
  "{\"github\": {\"event_name\": \"push\", \"ref\": \"refs/heads/main\", \"sha\": \"abc\","
  " \"event\": {\"issue\": {\"title\": \"x'}}\","
  " \"labels\": [{\"name\": \"bug\"}, {\"name\": \"a\"}]},"
  " \"commits\": [{\"message\": \"m1\"}, {\"message\": \"m2\"}]}},"
  " \"env\": {\"Foo\": \"bar\", \"FOO\": \"shadowed\", \"n\": \"0x10\"},"
  " \"matrix\": {\"os\": [\"ubuntu\", \"windows\"], \"n\": 3},"
  " \"steps\": {\"build\": {\"outputs\": {\"tag\": \"v1\"}}},"
  " \"inputs\": {\"name\": \"in\", \"config\": \"{\\\"targets\\\": [{\\\"name\\\": \\\"t\\\"}]}\"},"
  " \"needs\": {\"build\": {\"outputs\": {\"matrix\": \"[1, 2.5, null]\"}}},"
  " \"foo\": [1, \"two\", null, true, {\"a\": {\"b\": [1, 2]}}, [[\"x\", \"y\"]]],"
  " \"secrets\": {\"GITHUB_TOKEN\": \"***\"}}";

static mlg_doc *ctx_doc;

/* fanout^depth paths to one leaf: star chains over it must hit a limit
 * rather than run away. */
static mlg_node *make_dag(mlg_doc *doc, int depth)
{
  mlg_node *n = mlg_node_str(doc, "leaf"), *seq;
  int d, k;
  for (d = 0; d < depth; d++) {
    if (!(seq = mlg_node_seq(doc)))
      abort();
    for (k = 0; k < 8; k++) {
      if (mlg_seq_push(doc, seq, n))
        abort();
    }
    n = seq;
  }
  return n;
}

static const mlg_node *contexts(void)
{
  mlg_err err;
  if (!ctx_doc) {
    if (mlg_json_parse(&ctx_doc, ctx_json, sizeof ctx_json - 1, "ctx.json", NULL, &err) ||
        mlg_map_set(ctx_doc, ctx_doc->root, "dag", make_dag(ctx_doc, 9)))
      abort();
  }
  return ctx_doc->root;
}

static void check_tree(const mlg_gx_node *n, size_t len, int depth)
{
  size_t i;
  if (!n || n->offset > len || n->len > len - n->offset || depth > MLG_GX_MAX_HEIGHT + 1)
    abort();
  if (n->type == MLG_GX_LITERAL && !n->value)
    abort();
  if (n->left)
    check_tree(n->left, len, depth + 1);
  if (n->right)
    check_tree(n->right, len, depth + 1);
  for (i = 0; i < n->nargs; i++)
    check_tree(n->args[i], len, depth + 1);
}

static char *eval_str(const mlg_gx *gx, const mlg_node *ctx, int *rc, const char **kind)
{
  mlg_doc *doc = mlg_doc_new("result");
  mlg_node *r = NULL;
  mlg_gx_phase phase = MLG_GX_OK;
  mlg_err err = {0};
  char *s = NULL;
  if (!doc)
    abort();
  *rc = mlg_gx_eval(&r, doc, gx, ctx, &phase, &err);
  if (*rc) {
    if (r || phase != MLG_GX_EVALUATION || !err.msg[0])
      abort();
  } else {
    if (!r || phase != MLG_GX_OK)
      abort();
    *kind = mlg_gx_kind(r);
    if (mlg_gx_to_string(&s, r))
      abort();
    (void)mlg_gx_truthy(r);
  }
  mlg_doc_free(doc);
  return s;
}

static void one(const char *text, size_t len)
{
  mlg_gx *gx = NULL;
  mlg_gx_phase phase = MLG_GX_OK;
  mlg_err err = {0};
  mlg_gx_ref *refs = NULL;
  size_t nrefs = 0, i;
  char *a, *b;
  const char *ka = NULL, *kb = NULL;
  int rc, rb;

  rc = mlg_gx_parse(&gx, text, len, NULL, &phase, &err);
  if (rc) {
    if (gx || (phase != MLG_GX_LEXING && phase != MLG_GX_PARSING) || !err.msg[0] ||
        (rc != MLG_EPARSE && rc != MLG_ELIMIT))
      abort();
    /* Any well-formed name is fine with any_context; it must not crash. */
    {
      mlg_gx_opts any = {NULL, 0, 1};
      if (mlg_gx_parse(&gx, text, len, &any, &phase, &err) != 0)
        return;
    }
  }
  if (!gx->root || gx->len != len || memcmp(gx->text, text, len) != 0)
    abort();
  check_tree(gx->root, len, 0);
  if (mlg_gx_refs(&refs, &nrefs, gx, &err))
    abort();
  for (i = 0; i < nrefs; i++) {
    if (!refs[i].path[0] || !refs[i].fn || refs[i].offset > len ||
        refs[i].len > len - refs[i].offset)
      abort();
  }
  mlg_gx_refs_free(refs, nrefs);
  a = eval_str(gx, contexts(), &rc, &ka);
  if (mlg_gx_is_constant(gx)) {
    if (nrefs != 0)
      abort();
    b = eval_str(gx, NULL, &rb, &kb);
    if (rc != rb || (rc == 0 && (strcmp(ka, kb) != 0 || strcmp(a, b) != 0)))
      abort();
    free(b);
  }
  free(a);
  mlg_gx_free(gx);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
  const char *text = (const char *)data;
  mlg_gx_span spans[8];
  size_t n, i, last = 0;
  int more = 0;

  one(text, size);
  n = mlg_gx_find(spans, 8, text, size, &more);
  for (i = 0; i < n; i++) {
    const mlg_gx_span *s = &spans[i];
    if (s->start < last || s->end > size || s->inner != s->start + 3 ||
        s->inner + s->inner_len > s->end || memcmp(text + s->start, "${{", 3) != 0)
      abort();
    if (s->closed ? memcmp(text + s->end - 2, "}}", 2) != 0 || s->inner + s->inner_len + 2 != s->end
                  : s->end != size || i != n - 1)
      abort();
    last = s->end;
    if (s->closed)
      one(text + s->inner, s->inner_len);
  }
  if (more && n != 8)
    abort();
  return 0;
}
