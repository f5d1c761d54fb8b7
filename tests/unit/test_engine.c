#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "config.h"
#include "engine.h"
#include "fsx.h"
#include "parse.h"
#include "policy.h"
#include "policy_run.h"
#include "report.h"

/* Fixtures (relative to the repository root, where `make unit` runs us). */
#define FX "tests/unit/fixtures/engine"

static mlg_ws *ws;

static int setup(void **state)
{
  mlg_err e;
  if (mlg_ws_open(&ws, FX "/ws", NULL, &e) != 0) {
    fprintf(stderr, "run from the repository root: %s\n", e.msg);
    return -1;
  }
  return 0;
}

static int teardown(void **state)
{
  mlg_ws_free(ws);
  return 0;
}

static mlg_config *cfg_of(const char *text)
{
  mlg_config *cfg = NULL;
  mlg_err e;
  if (mlg_config_parse(&cfg, text, strlen(text), "mlgate.yml", &e) != 0)
    fail_msg("config: %s", e.msg);
  return cfg;
}

static void add_dir(mlg_policy_set *set, const char *dir)
{
  mlg_err e;
  if (mlg_policy_add_dir(set, dir, &e) != 0)
    fail_msg("%s", e.msg);
}

static size_t index_of(const mlg_policy_set *set, const char *path)
{
  size_t i;
  for (i = 0; i < set->len; i++)
    if (strcmp(set->items[i].path, path) == 0)
      return i;
  fail_msg("no policy %s", path);
  return 0;
}

/* --- the child protocol, run in-process ---------------------------------------- */

typedef struct recs {
  mlg_doc *d[256];
  size_t n;
} recs;

static void recs_free(recs *r)
{
  size_t i;
  for (i = 0; i < r->n; i++)
    mlg_doc_free(r->d[i]);
  r->n = 0;
}

static const char *rs(const mlg_doc *d, const char *key)
{
  return mlg_node_as_str(mlg_map_get(d->root, key), NULL);
}

static int64_t ri(const mlg_doc *d, const char *key)
{
  return mlg_node_as_int(mlg_map_get(d->root, key), -999);
}

/* Runs mlg_policy_child for a batch of policies (set indexes) with a temp
 * file as the record pipe. */
static int child_batch(recs *out, const mlg_policy_set *set, const size_t *index, size_t n,
                       unsigned gates, const mlg_config *cfg, const mlg_node *params)
{
  char path[] = "/tmp/mlg_engine_rec_XXXXXX";
  int fd = mkstemp(path), status;
  size_t order[8], off[2] = {0, n}, i;
  mlg_job job;
  FILE *f;
  char *line = NULL;
  size_t cap = 0;
  ssize_t len;

  assert_true(fd >= 0);
  assert_true(n <= 8);
  for (i = 0; i < n; i++)
    order[i] = i;
  memset(&job, 0, sizeof job);
  job.set = set;
  job.tasks = index;
  job.ntasks = n;
  job.order = order;
  job.batch_off = off;
  job.ws = ws;
  job.cfg = cfg;
  job.gates = gates;
  job.params = params;
  status = mlg_policy_child(&job, 0, fd);
  close(fd);
  f = fopen(path, "r");
  assert_non_null(f);
  out->n = 0;
  while ((len = getline(&line, &cap, f)) > 0) {
    mlg_err e;
    assert_int_equal(line[len - 1], '\n');
    assert_true(out->n < 256);
    if (mlg_json_parse(&out->d[out->n], line, (size_t)len - 1, "record", NULL, &e) != 0)
      fail_msg("record is not JSON: %s: %s", e.msg, line);
    /* every record names its policy, first */
    assert_true(strncmp(line, "{\"p\":", 5) == 0);
    assert_true(ri(out->d[out->n], "p") >= 0 && (size_t)ri(out->d[out->n], "p") < n);
    if (getenv("MLG_TEST_DUMP"))
      fprintf(stderr, "record: %s", line);
    out->n++;
  }
  free(line);
  fclose(f);
  unlink(path);
  return status;
}

static int child_records(recs *out, const mlg_policy_set *set, size_t index, unsigned gates,
                         const mlg_config *cfg, const mlg_node *params)
{
  return child_batch(out, set, &index, 1, gates, cfg, params);
}

static void test_protocol_check(void **state)
{
  mlg_policy_set set = {NULL, 0};
  recs r;
  const mlg_node *fields, *fns;
  size_t i;

  add_dir(&set, FX "/p1");
  i = index_of(&set, FX "/p1/train/flag-torch.lua");
  assert_int_equal(child_records(&r, &set, i, 1u << MLG_GATE_TRAIN, NULL, NULL), 0);
  assert_int_equal(r.n, 6);

  assert_string_equal(rs(r.d[0], "t"), "meta");
  fields = mlg_map_get(r.d[0]->root, "fields");
  assert_non_null(fields);
  assert_string_equal(mlg_node_as_str(mlg_map_get(fields, "id"), ""), "train/flag-torch");
  assert_int_equal(mlg_map_get(fields, "atlas")->type, MLG_SEQ);
  assert_null(mlg_map_get(fields, "check")); /* functions are listed apart */
  fns = mlg_map_get(r.d[0]->root, "functions");
  assert_int_equal(fns->u.seq.len, 1);
  assert_string_equal(fns->u.seq.items[0]->u.str.ptr, "check");

  assert_string_equal(rs(r.d[1], "t"), "begin");
  assert_string_equal(rs(r.d[1], "gate"), "train");
  assert_string_equal(rs(r.d[2], "t"), "finding");
  assert_string_equal(rs(r.d[2], "gate"), "train");
  assert_string_equal(rs(r.d[2], "path"), "src/train.py");
  assert_int_equal(ri(r.d[2], "line"), 3);
  assert_int_equal(ri(r.d[2], "column"), 9);
  assert_int_equal(ri(r.d[2], "end_column"), 19);
  assert_string_equal(rs(r.d[2], "snippet"), "model = torch.load(\"weights.pt\")");
  assert_string_equal(rs(r.d[2], "message"), "call to torch.load can run code from the file");
  assert_string_equal(
    mlg_node_as_str(mlg_map_get(mlg_map_get(r.d[2]->root, "details"), "call"), ""),
    "torch.load");
  assert_int_equal(ri(r.d[3], "line"), 7);
  assert_int_equal(ri(r.d[3], "column"), 14);
  assert_string_equal(rs(r.d[3], "snippet"), "return torch.load(path)");
  assert_string_equal(rs(r.d[4], "t"), "end");
  assert_string_equal(rs(r.d[4], "gate"), "train");
  assert_int_equal(ri(r.d[4], "files"), 2);
  assert_true(ri(r.d[4], "instructions") >= 0); /* counted per 1000 */
  assert_true(ri(r.d[4], "memory_peak") > 0);
  assert_string_equal(rs(r.d[5], "t"), "done");
  assert_null(rs(r.d[5], "gate"));
  recs_free(&r);

  /* params override (mlgate test) */
  {
    mlg_doc *pd = NULL;
    mlg_err e;
    static const char p[] = "{\"needle\": \"pickle.load\"}";
    assert_int_equal(mlg_json_parse(&pd, p, sizeof p - 1, "p", NULL, &e), 0);
    assert_int_equal(child_records(&r, &set, i, 1u << MLG_GATE_TRAIN, NULL, pd->root), 0);
    assert_int_equal(r.n, 5);
    assert_string_equal(rs(r.d[2], "t"), "finding");
    assert_string_equal(rs(r.d[2], "path"), "src/util.py");
    assert_int_equal(ri(r.d[2], "line"), 4);
    recs_free(&r);
    mlg_doc_free(pd);
  }
  mlg_policy_set_free(&set);
}

static void test_protocol_gates_and_meta_only(void **state)
{
  mlg_policy_set set = {NULL, 0};
  recs r;
  size_t i;

  add_dir(&set, FX "/p1");
  i = index_of(&set, FX "/p1/train/run-only.lua");
  /* metadata only */
  assert_int_equal(child_records(&r, &set, i, 0, NULL, NULL), 0);
  assert_int_equal(r.n, 2);
  assert_string_equal(rs(r.d[0], "t"), "meta");
  assert_string_equal(rs(r.d[1], "t"), "done");
  recs_free(&r);
  /* a gate the policy is not in: nothing evaluated */
  assert_int_equal(child_records(&r, &set, i, 1u << MLG_GATE_MODEL, NULL, NULL), 0);
  assert_int_equal(r.n, 2);
  recs_free(&r);
  /* two gates, a fresh state each */
  assert_int_equal(child_records(&r, &set, i,
                                 (1u << MLG_GATE_TRAIN) | (1u << MLG_GATE_DEPLOY) |
                                   (1u << MLG_GATE_DATA),
                                 NULL, NULL),
                   0);
  assert_int_equal(r.n, 8);
  assert_string_equal(rs(r.d[1], "t"), "begin");
  assert_string_equal(rs(r.d[1], "gate"), "train");
  assert_string_equal(rs(r.d[2], "message"), "once in the train gate");
  assert_string_equal(rs(r.d[2], "key"), "readme-train");
  assert_int_equal(mlg_node_as_int(mlg_map_get(mlg_map_get(r.d[2]->root, "details"), "runs"), 0),
                   1);
  assert_string_equal(rs(r.d[3], "t"), "end");
  assert_int_equal(ri(r.d[3], "files"), 0);
  assert_string_equal(rs(r.d[4], "gate"), "deploy");
  assert_string_equal(rs(r.d[5], "message"), "once in the deploy gate");
  assert_string_equal(rs(r.d[5], "gate"), "deploy");
  /* a fresh Lua state per gate: the global counter starts again */
  assert_int_equal(mlg_node_as_int(mlg_map_get(mlg_map_get(r.d[5]->root, "details"), "runs"), 0),
                   1);
  assert_string_equal(rs(r.d[6], "t"), "end");
  assert_string_equal(rs(r.d[7], "t"), "done");
  recs_free(&r);
  /* disabled in the config: metadata, then done */
  {
    mlg_config *cfg = cfg_of("version: 1\npolicies:\n  train/run-only:\n    enabled: false\n");
    assert_int_equal(child_records(&r, &set, i, 1u << MLG_GATE_TRAIN, cfg, NULL), 0);
    assert_int_equal(r.n, 2);
    recs_free(&r);
    mlg_config_free(cfg);
  }
  mlg_policy_set_free(&set);
}

static void test_protocol_errors(void **state)
{
  mlg_policy_set set = {NULL, 0};
  recs r;
  size_t i;

  add_dir(&set, FX "/p1");
  i = index_of(&set, FX "/p1/data/raises.lua");
  assert_int_equal(child_records(&r, &set, i, 1u << MLG_GATE_DATA, NULL, NULL), 0);
  /* meta, begin, error (bad), finding (ok), end, done */
  assert_int_equal(r.n, 6);
  assert_string_equal(rs(r.d[2], "t"), "error");
  assert_string_equal(rs(r.d[2], "path"), "data/bad.csv");
  assert_string_equal(rs(r.d[2], "message"),
                      FX "/p1/data/raises.lua:11: cannot parse data/bad.csv");
  assert_string_equal(rs(r.d[2], "where"), FX "/p1/data/raises.lua:11");
  assert_int_equal(mlg_map_get(r.d[2]->root, "limit")->u.boolean, 0);
  assert_string_equal(rs(r.d[2], "gate"), "data");
  assert_string_equal(rs(r.d[3], "t"), "finding");
  assert_string_equal(rs(r.d[3], "path"), "data/ok.csv");
  recs_free(&r);
  mlg_policy_set_free(&set);

  add_dir(&set, FX "/broken");
  i = index_of(&set, FX "/broken/model/syntax.lua");
  assert_int_equal(child_records(&r, &set, i, 1u << MLG_GATE_MODEL, NULL, NULL), 0);
  assert_int_equal(r.n, 2); /* load_error, done */
  assert_string_equal(rs(r.d[0], "t"), "load_error");
  assert_string_equal(rs(r.d[0], "message"),
                      FX "/broken/model/syntax.lua:4: '}' expected (to close '{' at line 1) "
                         "near 'gate'");
  recs_free(&r);
  i = index_of(&set, FX "/broken/model/not-table.lua");
  assert_int_equal(child_records(&r, &set, i, 1u << MLG_GATE_MODEL, NULL, NULL), 0);
  assert_int_equal(r.n, 2); /* load_error, done */
  assert_string_equal(rs(r.d[0], "message"),
                      "the file must return mlgate.policy{...}, not a number");
  assert_string_equal(rs(r.d[0], "where"), FX "/broken/model/not-table.lua");
  recs_free(&r);
  mlg_policy_set_free(&set);

  /* policy tables the engine cannot describe */
  add_dir(&set, FX "/odd");
  i = index_of(&set, FX "/odd/model/keys.lua");
  assert_int_equal(child_records(&r, &set, i, 1u << MLG_GATE_MODEL, NULL, NULL), 0);
  assert_int_equal(r.n, 2); /* load_error, done */
  assert_string_equal(rs(r.d[0], "t"), "load_error");
  assert_string_equal(rs(r.d[0], "message"), "policy table keys must be strings");
  assert_string_equal(rs(r.d[0], "where"), FX "/odd/model/keys.lua");
  recs_free(&r);
  i = index_of(&set, FX "/odd/model/meta-mt.lua");
  assert_int_equal(child_records(&r, &set, i, 1u << MLG_GATE_MODEL, NULL, NULL), 0);
  mlg_policy_set_free(&set);
  {
    char msg[256];
    size_t n = r.n;
    snprintf(msg, sizeof msg, "%s", n ? rs(r.d[0], "message") : "");
    recs_free(&r);
    assert_int_equal(n, 2);
    /* names the field (it reads "field '(null)'" today: build_meta reads the
     * key at -2 after lua_getmetatable pushed the metatable) */
    assert_string_equal(msg, "field 'atlas' must be a plain table");
  }
}

/* --- the parent: mlg_engine_run ---------------------------------------------------- */

static mlg_report *run_engine_jobs(mlg_policy_set *set, unsigned gates, const mlg_config *cfg,
                                   unsigned jobs);

static mlg_report *run_engine(mlg_policy_set *set, unsigned gates, const mlg_config *cfg)
{
  return run_engine_jobs(set, gates, cfg, 2);
}

static mlg_report *run_engine_jobs(mlg_policy_set *set, unsigned gates, const mlg_config *cfg,
                                   unsigned jobs)
{
  mlg_report *r = NULL;
  mlg_engine_opts o;
  size_t idx[32], i;
  mlg_err e;

  assert_true(set->len <= 32);
  for (i = 0; i < set->len; i++)
    idx[i] = i;
  assert_int_equal(mlg_report_new(&r, &e), 0);
  memset(&o, 0, sizeof o);
  o.ws = ws;
  o.cfg = cfg;
  o.gates = gates;
  o.jobs = jobs;
  assert_int_equal(mlg_engine_run(set, idx, set->len, &o, r, &e), 0);
  mlg_report_finalize_order(r);
  if (getenv("MLG_TEST_DUMP")) {
    mlg_buf b = MLG_BUF_INIT;
    mlg_report_style st = {0, 0};
    mlg_report_decide(r);
    mlg_report_write_text(&b, r, &st, &e);
    fprintf(stderr, "%s", b.ptr);
    mlg_buf_free(&b);
  }
  return r;
}

static void test_engine_findings_with_metadata(void **state)
{
  mlg_policy_set set = {NULL, 0};
  mlg_report *r;
  const mlg_finding *f;
  const mlg_policy *p;

  add_dir(&set, FX "/p1");
  r = run_engine(&set, (1u << MLG_GATE_TRAIN) | (1u << MLG_GATE_DATA), NULL);

  /* metadata landed in the set */
  p = mlg_policy_find(&set, "train/flag-torch");
  assert_non_null(p);
  assert_string_equal(p->title, "Unsafe deserialisation call");
  assert_string_equal(p->remediation, "Load weights only.");
  assert_int_equal(p->gates, 1u << MLG_GATE_TRAIN);
  assert_int_equal(p->atlas.len, 2);
  assert_non_null(mlg_policy_find(&set, "train/run-only"));
  assert_non_null(mlg_policy_find(&set, "data/raises"));

  /* README.md (run-only, train), data/ok.csv, src/train.py:3, :7 */
  assert_int_equal(r->nfindings, 4);
  f = &r->findings[0];
  assert_string_equal(f->loc.path, "README.md");
  assert_string_equal(f->policy, "train/run-only");
  assert_int_equal(f->gate, MLG_GATE_TRAIN);
  assert_int_equal(f->severity, MLG_SEV_LOW);
  assert_int_equal(f->confidence, MLG_CONF_MEDIUM);
  assert_string_equal(f->key, "readme-train");
  f = &r->findings[1];
  assert_string_equal(f->loc.path, "data/ok.csv");
  assert_string_equal(f->policy, "data/raises");
  assert_int_equal(f->gate, MLG_GATE_DATA);
  assert_int_equal(f->severity, MLG_SEV_MEDIUM);
  f = &r->findings[2];
  assert_string_equal(f->policy, "train/flag-torch");
  assert_string_equal(f->loc.path, "src/train.py");
  assert_int_equal(f->loc.line, 3);
  assert_int_equal(f->loc.column, 9);
  assert_int_equal(f->loc.end_line, 3);
  assert_int_equal(f->loc.end_column, 19);
  assert_int_equal(f->loc.offset, -1);
  assert_null(f->loc.member);
  assert_int_equal(f->severity, MLG_SEV_HIGH);
  assert_int_equal(f->confidence, MLG_CONF_HIGH);
  assert_string_equal(f->message, "call to torch.load can run code from the file");
  assert_int_equal(f->natlas, 2);
  assert_string_equal(f->atlas[0], "AML.T0011.000");
  assert_string_equal(f->atlas[1], "AML.M0016");
  assert_int_equal(f->naliases, 2);
  assert_string_equal(f->aliases[0], "catalog:ML-UNSAFE-LOAD");
  assert_string_equal(f->aliases[1], "picklescan:dangerous");
  assert_string_equal(f->snippet, "model = torch.load(\"weights.pt\")");
  assert_non_null(f->details);
  assert_string_equal(mlg_node_as_str(mlg_map_get(f->details, "call"), ""), "torch.load");
  assert_int_equal(strlen(f->fingerprint), 32);
  f = &r->findings[3];
  assert_int_equal(f->loc.line, 7);

  /* the error of data/raises, located */
  assert_int_equal(r->nerrors, 1);
  assert_int_equal(r->errors[0].gate, MLG_GATE_DATA);
  assert_string_equal(r->errors[0].policy, "data/raises");
  assert_string_equal(r->errors[0].path, "data/bad.csv");
  /* the file:line prefix is not repeated in the message */
  assert_string_equal(r->errors[0].message, "cannot parse data/bad.csv");
  assert_string_equal(r->errors[0].where, FX "/p1/data/raises.lua:11");
  mlg_report_free(r);
  mlg_policy_set_free(&set);
}

static void test_engine_broken_policies(void **state)
{
  mlg_policy_set set = {NULL, 0};
  mlg_report *r;
  size_t i;
  char expect[1024];

  add_dir(&set, FX "/broken");
  r = run_engine(&set, 1u << MLG_GATE_MODEL, NULL);
  assert_int_equal(r->nfindings, 0); /* bad-meta's finding is dropped */
  for (i = 0; i < set.len; i++)
    assert_int_equal(set.items[i].loaded, 0);
  if (r->nerrors != 4) {
    for (i = 0; i < r->nerrors; i++)
      print_error("error %zu: [%s] %s (%s)\n", i, r->errors[i].policy, r->errors[i].message,
                  r->errors[i].where);
    fail_msg("expected one error per broken policy, got %zu", r->nerrors);
  }
  /* sorted by policy (the path while unloaded) */
  assert_string_equal(r->errors[0].policy, FX "/broken/model/bad-meta.lua");
  assert_string_equal(r->errors[0].message,
                      "unknown field 'colour' (fields are id, "
                         "title, description, remediation, gate or gates, severity, "
                         "confidence, enforcement, atlas, aliases, files, references, params, "
                         "check, run)");
  assert_string_equal(r->errors[0].where, FX "/broken/model/bad-meta.lua");
  assert_int_equal(r->errors[0].gate, -1);
  assert_string_equal(r->errors[1].policy, FX "/broken/model/not-table.lua");
  assert_string_equal(r->errors[1].message,
                      "the file must return mlgate.policy{...}, not a number");
  assert_string_equal(r->errors[2].policy, FX "/broken/model/syntax.lua");
  assert_non_null(strstr(r->errors[2].message, "syntax.lua:4: '}' expected"));
  snprintf(expect, sizeof expect,
           "%s: field 'id' is 'model/other-name' but the file must then be named "
           "'model/other-name.lua'",
           FX "/broken/model/wrong-id.lua");
  assert_string_equal(r->errors[3].where, FX "/broken/model/wrong-id.lua");
  assert_string_equal(r->errors[3].message, expect + strlen(FX "/broken/model/wrong-id.lua: "));
  mlg_report_free(r);
  mlg_policy_set_free(&set);
}

static void test_engine_instruction_limit(void **state)
{
  mlg_config *cfg = cfg_of("version: 1\nlimits:\n  instructions: 1000000\n");
  mlg_policy_set set = {NULL, 0};
  mlg_report *r;

  add_dir(&set, FX "/limits");
  /* only the loop */
  mlg_policy_set_free(&set);
  assert_int_equal(mlg_policy_add_file(&set, FX "/limits/model/loop.lua", NULL), 0);
  r = run_engine(&set, 1u << MLG_GATE_MODEL, cfg);
  /* the finding made before the limit still counts */
  assert_int_equal(r->nfindings, 1);
  assert_string_equal(r->findings[0].message, "found before the loop");
  assert_int_equal(r->nerrors, 1);
  assert_int_equal(r->errors[0].gate, MLG_GATE_MODEL);
  assert_string_equal(r->errors[0].policy, "model/loop");
  assert_string_equal(r->errors[0].message,
                      "policy exceeded its budget of 1000000 Lua instructions");
  assert_string_equal(r->errors[0].where, FX "/limits/model/loop.lua:10");
  mlg_report_decide(r);
  assert_int_equal(r->exit_code, 2);
  mlg_report_free(r);
  mlg_policy_set_free(&set);
  mlg_config_free(cfg);
}

static void test_engine_time_limit(void **state)
{
  mlg_config *cfg = cfg_of("version: 1\nlimits:\n  time_ms: 300\n  instructions: 1000000000000\n");
  mlg_policy_set set = {NULL, 0};
  mlg_report *r;

  assert_int_equal(mlg_policy_add_file(&set, FX "/limits/model/loop.lua", NULL), 0);
  r = run_engine(&set, 1u << MLG_GATE_MODEL, cfg);
  assert_int_equal(r->nfindings, 1);
  assert_int_equal(r->nerrors, 1);
  assert_int_equal(r->errors[0].gate, MLG_GATE_MODEL);
  assert_string_equal(r->errors[0].policy, "model/loop");
  assert_string_equal(r->errors[0].message,
                      "policy exceeded its time limit of 300 ms in the model gate");
  assert_string_equal(r->errors[0].where, FX "/limits/model/loop.lua");
  mlg_report_free(r);
  mlg_policy_set_free(&set);
  mlg_config_free(cfg);
}

static void test_engine_time_limit_in_check(void **state)
{
  mlg_config *cfg = cfg_of("version: 1\nlimits:\n  time_ms: 300\n  instructions: 1000000000000\n");
  mlg_policy_set set = {NULL, 0};
  mlg_report *r;

  assert_int_equal(mlg_policy_add_file(&set, FX "/limits/train/spin-check.lua", NULL), 0);
  r = run_engine(&set, 1u << MLG_GATE_TRAIN, cfg);
  /* both files were reported before the second one hung */
  assert_int_equal(r->nfindings, 2);
  assert_string_equal(r->findings[0].loc.path, "src/train.py");
  assert_string_equal(r->findings[1].loc.path, "src/util.py");
  assert_int_equal(r->nerrors, 1);
  assert_int_equal(r->errors[0].gate, MLG_GATE_TRAIN);
  assert_string_equal(r->errors[0].path, "src/util.py");
  assert_string_equal(r->errors[0].message,
                      "policy exceeded its time limit of 300 ms while checking 'src/util.py'");
  mlg_report_free(r);
  mlg_policy_set_free(&set);
  mlg_config_free(cfg);
}

/* Two policies of one gate share a child; the one that hangs is blamed,
 * the other runs again alone and reports each finding once. */
static void test_engine_batch_requeue(void **state)
{
  mlg_config *cfg = cfg_of("version: 1\nlimits:\n  time_ms: 300\n  instructions: 1000000000000\n");
  mlg_policy_set set = {NULL, 0};
  mlg_report *r;
  size_t i, torch = 0, spin = 0;

  assert_int_equal(mlg_policy_add_file(&set, FX "/p1/train/flag-torch.lua", NULL), 0);
  assert_int_equal(mlg_policy_add_file(&set, FX "/limits/train/spin-check.lua", NULL), 0);
  r = run_engine_jobs(&set, 1u << MLG_GATE_TRAIN, cfg, 1);
  for (i = 0; i < r->nfindings; i++) {
    torch += strcmp(r->findings[i].policy, "train/flag-torch") == 0;
    spin += strcmp(r->findings[i].policy, "train/spin-check") == 0;
  }
  assert_int_equal(torch, 2);
  assert_int_equal(spin, 2);
  assert_int_equal(r->nerrors, 1);
  assert_string_equal(r->errors[0].policy, "train/spin-check");
  assert_string_equal(r->errors[0].message,
                      "policy exceeded its time limit of 300 ms while checking 'src/util.py'");
  mlg_report_free(r);
  mlg_policy_set_free(&set);
  mlg_config_free(cfg);
}

/* In a batch, each file goes to every policy before the next file. */
static void test_protocol_batch(void **state)
{
  mlg_policy_set set = {NULL, 0};
  recs r;
  size_t idx[2], i, files = 0;

  add_dir(&set, FX "/p1");
  idx[0] = index_of(&set, FX "/p1/train/flag-torch.lua");
  idx[1] = index_of(&set, FX "/p1/train/run-only.lua");
  assert_int_equal(child_batch(&r, &set, idx, 2, 1u << MLG_GATE_TRAIN, NULL, NULL), 0);
  /* meta 0, meta 1, begin 0, begin 1, finding 0 (train.py:3), finding 0
   * (:7), end 0 (after run-only's run: end 1 has its finding first) */
  assert_string_equal(rs(r.d[0], "t"), "meta");
  assert_int_equal(ri(r.d[0], "p"), 0);
  assert_string_equal(rs(r.d[1], "t"), "meta");
  assert_int_equal(ri(r.d[1], "p"), 1);
  assert_string_equal(rs(r.d[2], "t"), "begin");
  assert_int_equal(ri(r.d[2], "p"), 0);
  assert_string_equal(rs(r.d[3], "t"), "begin");
  assert_int_equal(ri(r.d[3], "p"), 1);
  for (i = 4; i < r.n; i++)
    if (strcmp(rs(r.d[i], "t"), "finding") == 0 && ri(r.d[i], "p") == 0)
      files++;
  assert_int_equal(files, 2);
  assert_string_equal(rs(r.d[r.n - 2], "t"), "done");
  assert_string_equal(rs(r.d[r.n - 1], "t"), "done");
  assert_int_equal(ri(r.d[r.n - 1], "p"), 1);
  recs_free(&r);
  mlg_policy_set_free(&set);
}

static void test_engine_memory_limit(void **state)
{
  mlg_config *cfg = cfg_of("version: 1\nlimits:\n  memory_mb: 16\n");
  mlg_policy_set set = {NULL, 0};
  mlg_report *r;

  char where[512];

  assert_int_equal(mlg_policy_add_file(&set, FX "/limits/model/hog.lua", NULL), 0);
  r = run_engine(&set, 1u << MLG_GATE_MODEL, cfg);
  mlg_policy_set_free(&set);
  mlg_config_free(cfg);
  assert_int_equal(r->nfindings, 0);
  assert_int_equal(r->nerrors, 1);
  assert_string_equal(r->errors[0].policy, "model/hog");
  assert_string_equal(r->errors[0].message,
                      "policy exceeded its memory limit of 16777216 bytes");
  snprintf(where, sizeof where, "%s", r->errors[0].where);
  mlg_report_free(r);
  /* where the policy was when it ran out (empty today: the memory error is
   * raised by the allocator, and Lua calls no message handler for it) */
  assert_string_equal(where, FX "/limits/model/hog.lua:9");
}

static void test_engine_without_report(void **state)
{
  mlg_policy_set set = {NULL, 0};
  mlg_engine_opts o;
  size_t idx[1] = {0};
  mlg_err e;
  int rc;

  assert_int_equal(mlg_policy_add_file(&set, FX "/broken/model/bad-meta.lua", NULL), 0);
  memset(&o, 0, sizeof o);
  rc = mlg_engine_run(&set, idx, 1, &o, NULL, &e);
  assert_int_equal(rc, MLG_EPOLICY);
  assert_memory_equal(e.msg, FX "/broken/model/bad-meta.lua: unknown field 'colour' (",
                      strlen(FX "/broken/model/bad-meta.lua: unknown field 'colour' ("));
  assert_non_null(strstr(e.msg, ") at " FX "/broken/model/bad-meta.lua"));
  mlg_policy_set_free(&set);
  /* nothing to run */
  assert_int_equal(mlg_engine_run(&set, idx, 0, &o, NULL, &e), 0);
}

static void test_load_all_duplicates(void **state)
{
  mlg_policy_set set = {NULL, 0};
  mlg_report *r = NULL;
  mlg_err e;
  char expect[1024];
  size_t i, loaded = 0;

  add_dir(&set, FX "/p1");
  add_dir(&set, FX "/dup");
  assert_int_equal(mlg_report_new(&r, &e), 0);
  assert_int_equal(mlg_engine_load_all(&set, NULL, r, &e), 0);
  assert_int_equal(r->nerrors, 1);
  snprintf(expect, sizeof expect,
           "policy id 'train/flag-torch' is declared by both %s and %s; ids must be unique",
           FX "/p1/train/flag-torch.lua", FX "/dup/train/flag-torch.lua");
  assert_string_equal(r->errors[0].message, expect);
  assert_string_equal(r->errors[0].policy, "train/flag-torch");
  assert_string_equal(r->errors[0].where, FX "/dup/train/flag-torch.lua");
  for (i = 0; i < set.len; i++)
    loaded += set.items[i].loaded;
  assert_int_equal(loaded, 3);
  assert_string_equal(mlg_policy_find(&set, "train/flag-torch")->title,
                      "Unsafe deserialisation call");
  mlg_report_free(r);
  mlg_policy_set_free(&set);

  /* without a report: the first problem is returned */
  add_dir(&set, FX "/p1");
  add_dir(&set, FX "/dup");
  assert_int_equal(mlg_engine_load_all(&set, NULL, NULL, &e), MLG_EPOLICY);
  assert_string_equal(e.msg, expect);
  mlg_policy_set_free(&set);
}

int main(void)
{
  const struct CMUnitTest tests[] = {
    cmocka_unit_test(test_protocol_check),
    cmocka_unit_test(test_protocol_gates_and_meta_only),
    cmocka_unit_test(test_protocol_errors),
    cmocka_unit_test(test_engine_findings_with_metadata),
    cmocka_unit_test(test_engine_broken_policies),
    cmocka_unit_test(test_engine_instruction_limit),
    cmocka_unit_test(test_engine_time_limit),
    cmocka_unit_test(test_engine_time_limit_in_check),
    cmocka_unit_test(test_engine_memory_limit),
    cmocka_unit_test(test_engine_batch_requeue),
    cmocka_unit_test(test_protocol_batch),
    cmocka_unit_test(test_engine_without_report),
    cmocka_unit_test(test_load_all_duplicates),
  };
  alarm(600);
  return cmocka_run_group_tests(tests, setup, teardown);
}
