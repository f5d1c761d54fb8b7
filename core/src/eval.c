#include "eval.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>

#include "config.h"
#include "engine.h"
#include "fsx.h"
#include "git.h"
#include "glob.h"
#include "policy.h"
#include "suppress.h"

/* Engine notices reported as findings (see `mlgate explain`). */
#define WAIVER_EXPIRED "mlgate/waiver-expired"
#define WAIVER_REFUSED "mlgate/waiver-refused"
#define SUPPRESSION_INVALID "mlgate/suppression-invalid"
#define SUPPRESSION_REFUSED "mlgate/suppression-refused"

static uint64_t now_ms(void)
{
  struct timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return (uint64_t)ts.tv_sec * 1000 + (uint64_t)ts.tv_nsec / 1000000;
}

static void config_error(mlg_report *r, const char *path, const char *msg)
{
  mlg_report_add_error(r, -1, "", path ? path : "", msg, "");
}

/* "file:line:col" of a config span, for config errors found after
 * loading (unknown policy ids, params). */
static void cfg_where(char *buf, size_t size, const mlg_config *cfg, const mlg_span *sp)
{
  snprintf(buf, size, "%s:%u:%u", cfg->path ? cfg->path : "mlgate.yml", sp->line, sp->col);
}

static int same_kind(const mlg_node *dflt, const mlg_node *v)
{
  if (dflt->type == MLG_NULL)
    return 1;
  if (dflt->type == MLG_FLOAT && v->type == MLG_INT)
    return 1;
  if (dflt->type == MLG_MAP && dflt->u.map.len == 0 && v->type == MLG_SEQ)
    return 1; /* {} in Lua is also an empty list */
  return dflt->type == v->type;
}

/* Config entries must name real policies and params of the right types:
 * a typo must not silently leave a policy at its defaults. */
static void check_config(mlg_report *r, const mlg_config *cfg, const mlg_policy_set *set)
{
  size_t i, j;
  char where[600], msg[1024];

  for (i = 0; i < cfg->npolicies; i++) {
    const mlg_policy_cfg *pc = &cfg->policies[i];
    const mlg_policy *p = mlg_policy_find(set, pc->id);
    cfg_where(where, sizeof where, cfg, &pc->span);
    if (!p) {
      snprintf(msg, sizeof msg, "%s: unknown policy '%s' (run 'mlgate list' to see policy ids)",
               where, pc->id);
      config_error(r, cfg->path, msg);
      continue;
    }
    if (!pc->params)
      continue;
    for (j = 0; j < pc->params->u.map.len; j++) {
      const mlg_pair *kv = &pc->params->u.map.pairs[j];
      const char *name = kv->key->u.str.ptr;
      const mlg_node *dflt = p->params ? mlg_map_get(p->params, name) : NULL;
      cfg_where(where, sizeof where, cfg, &kv->key->span);
      if (!dflt) {
        mlg_buf known = MLG_BUF_INIT;
        size_t k;
        for (k = 0; p->params && k < p->params->u.map.len; k++)
          mlg_buf_printf(&known, "%s%s", k ? ", " : "", p->params->u.map.pairs[k].key->u.str.ptr);
        snprintf(msg, sizeof msg, "%s: policy '%s' has no parameter '%s' (%s%s)", where, pc->id,
                 name, known.len ? "its parameters are " : "it takes no parameters",
                 known.len ? known.ptr : "");
        mlg_buf_free(&known);
        config_error(r, cfg->path, msg);
      } else if (!same_kind(dflt, kv->val)) {
        cfg_where(where, sizeof where, cfg, &kv->val->span);
        snprintf(msg, sizeof msg, "%s: parameter '%s' of policy '%s' must be a %s, got a %s",
                 where, name, pc->id, mlg_node_typename(dflt), mlg_node_typename(kv->val));
        config_error(r, cfg->path, msg);
      }
    }
  }
  for (i = 0; i < cfg->nwaivers; i++) {
    const mlg_waiver *w = &cfg->waivers[i];
    if (mlg_policy_find(set, w->policy))
      continue;
    cfg_where(where, sizeof where, cfg, &w->span);
    snprintf(msg, sizeof msg, "%s: waiver for unknown policy '%s'", where, w->policy);
    config_error(r, cfg->path, msg);
  }
}

static int waiver_matches(const mlg_waiver *w, const mlg_finding *f)
{
  if (strcmp(w->policy, f->policy) != 0)
    return 0;
  if (w->path && !mlg_glob_match(w->path, f->loc.path))
    return 0;
  if (w->fingerprint && strncmp(f->fingerprint, w->fingerprint, strlen(w->fingerprint)) != 0)
    return 0;
  return 1;
}

/* A finding from the engine itself, located in the config file. */
static void notice(mlg_report *r, const mlg_config *cfg, const mlg_waiver *w, mlg_gate gate,
                   const char *policy, const char *message)
{
  mlg_finding *f = mlg_report_add_finding(r);
  const char *base;
  if (!f)
    return;
  base = cfg->path ? strrchr(cfg->path, '/') : NULL;
  f->policy = policy;
  f->gate = gate;
  f->severity = MLG_SEV_LOW;
  f->confidence = MLG_CONF_HIGH;
  f->message = mlg_report_str(r, message);
  f->loc.path = mlg_report_str(r, base ? base + 1 : cfg->path ? cfg->path : "mlgate.yml");
  f->loc.line = w->span.line;
  f->loc.column = w->span.col;
  f->key = mlg_report_str(r, message);
}

/* A finding from the engine about a comment in the evaluated files. */
static void notice_at(mlg_report *r, mlg_gate gate, const char *policy, const char *path,
                      uint32_t line, uint32_t col, const char *message)
{
  mlg_finding *f = mlg_report_add_finding(r);
  if (!f)
    return;
  f->policy = policy;
  f->gate = gate;
  f->severity = MLG_SEV_LOW;
  f->confidence = MLG_CONF_HIGH;
  f->message = mlg_report_str(r, message);
  f->loc.path = mlg_report_str(r, path);
  f->loc.line = line;
  f->loc.column = col;
  f->key = mlg_report_str(r, message);
}

/* The text of the file a finding is in, read once for a run of findings
 * in the same file (findings are sorted by path). */
typedef struct text_cache {
  const char *path;
  char *text;
  size_t len;
} text_cache;

static const char *cached_text(text_cache *tc, const mlg_ws *ws, const mlg_config *cfg,
                               const char *path, size_t *len)
{
  mlg_err e;
  if (!tc->path || strcmp(tc->path, path) != 0) {
    free(tc->text);
    tc->text = NULL;
    tc->len = 0;
    tc->path = path;
    if (mlg_ws_read(&tc->text, &tc->len, ws, path, (size_t)cfg->limits.read_bytes, &e) != 0)
      tc->text = NULL;
  }
  *len = tc->len;
  return tc->text;
}

/* Applies a `# mlgate: ignore[...] reason` comment in the finding's span.
 * Returns 1 when the finding is waived by it. */
static int apply_inline(mlg_report *r, const mlg_ws *ws, const mlg_config *cfg, text_cache *tc,
                        size_t i, mlg_enforcement enf)
{
  mlg_finding *f = &r->findings[i];
  mlg_suppression s;
  const char *text;
  size_t len;
  char msg[1024];

  if (!cfg->inline_suppressions || !ws || !f->loc.path || !*f->loc.path || !f->loc.line ||
      f->loc.member)
    return 0;
  if (!(text = cached_text(tc, ws, cfg, f->loc.path, &len)))
    return 0;
  if (!mlg_suppress_find(&s, text, len, f->loc.line, f->loc.end_line, f->policy, f->aliases,
                         f->naliases))
    return 0;
  if (s.reason_len == 0) {
    snprintf(msg, sizeof msg, "inline suppression of %s has no reason, so it is not applied; "
                              "write why after the brackets: # mlgate: ignore[%s] <reason>",
             f->policy, f->policy);
    notice_at(r, f->gate, SUPPRESSION_INVALID, f->loc.path, s.line, s.col, msg);
    return 0;
  }
  if (enf == MLG_ENF_HARD) {
    snprintf(msg, sizeof msg, "inline suppression of %s is refused: the policy's enforcement "
                              "is hard", f->policy);
    notice_at(r, f->gate, SUPPRESSION_REFUSED, f->loc.path, s.line, s.col, msg);
    return 0;
  }
  f = &r->findings[i];
  f->waived = 1;
  f->blocking = 0;
  snprintf(msg, sizeof msg, "inline (line %u): %.*s", (unsigned)s.line,
           (int)(s.reason_len > 900 ? 900 : s.reason_len), s.reason);
  f->waiver_reason = mlg_report_str(r, msg);
  return 1;
}

static void apply_enforcement(mlg_report *r, const mlg_config *cfg, const mlg_policy_set *set,
                              const mlg_ws *ws, int fail_on)
{
  text_cache tc = {NULL, NULL, 0};
  size_t i, k, nreal = r->nfindings;
  int32_t today = mlg_date_today();
  /* Each waiver is reported at most once as expired and once as refused,
   * however many findings it covers. */
  unsigned char *expired_used = calloc(cfg->nwaivers ? cfg->nwaivers : 1, 1);
  unsigned char *refused_used = calloc(cfg->nwaivers ? cfg->nwaivers : 1, 1);
  char msg[1024];
  struct {
    const char *id;
    const mlg_policy *p;
    const mlg_policy_cfg *pc;
    mlg_enforcement enf;
  } lookup[64];

  memset(lookup, 0, sizeof lookup);
  /* Fingerprints first: waivers may name them. */
  mlg_report_finalize_order(r);
  for (i = 0; i < nreal; i++) {
    mlg_finding *f = &r->findings[i];
    const mlg_policy *p;
    const mlg_policy_cfg *pc;
    mlg_enforcement enf;
    /* Findings of one policy share its id string (engine.c): look each
     * policy up once, not once per finding. */
    size_t slot = ((uintptr_t)f->policy >> 4) % (sizeof lookup / sizeof lookup[0]);
    if (lookup[slot].id != f->policy) {
      lookup[slot].id = f->policy;
      lookup[slot].p = mlg_policy_find(set, f->policy);
      lookup[slot].pc = mlg_config_policy(cfg, f->policy);
      lookup[slot].enf = lookup[slot].p ? mlg_policy_enforcement(lookup[slot].p, cfg)
                                        : MLG_ENF_SOFT;
    }
    p = lookup[slot].p;
    pc = lookup[slot].pc;
    enf = lookup[slot].enf;
    (void)p;
    if (pc && pc->severity >= 0 && f->severity != (mlg_severity)pc->severity) {
      f->severity = (mlg_severity)pc->severity;
      r->ordered = 0; /* severity breaks ties in the order */
    }
    f->blocking = enf != MLG_ENF_ADVISORY && (int)f->severity >= fail_on;
    if (apply_inline(r, ws, cfg, &tc, i, enf))
      continue;
    f = &r->findings[i]; /* a notice may have moved the array */
    for (k = 0; k < cfg->nwaivers; k++) {
      const mlg_waiver *w = &cfg->waivers[k];
      if (!waiver_matches(w, f))
        continue;
      if (w->expires_day < today) {
        if (expired_used && !expired_used[k]) {
          expired_used[k] = 1;
          snprintf(msg, sizeof msg, "waiver for %s expired on %s and no longer applies; fix "
                                    "the finding or renew the waiver with a new reason",
                   w->policy, w->expires);
          notice(r, cfg, w, f->gate, WAIVER_EXPIRED, msg);
          f = &r->findings[i]; /* the array may have moved */
        }
        continue;
      }
      if (enf == MLG_ENF_HARD) {
        if (refused_used && !refused_used[k]) {
          refused_used[k] = 1;
          snprintf(msg, sizeof msg, "waiver for %s is refused: the policy's enforcement is "
                                    "hard",
                   w->policy);
          notice(r, cfg, w, f->gate, WAIVER_REFUSED, msg);
          f = &r->findings[i];
        }
        continue;
      }
      f->waived = 1;
      f->blocking = 0;
      f->waiver_reason = mlg_report_str(r, w->reason);
      break;
    }
  }
  /* Expired waivers are reported even when their finding is gone. */
  for (k = 0; k < cfg->nwaivers; k++) {
    const mlg_waiver *w = &cfg->waivers[k];
    const mlg_policy *p = mlg_policy_find(set, w->policy);
    int g;
    if (w->expires_day >= today || (expired_used && expired_used[k]) || !p)
      continue;
    for (g = 0; g < MLG_GATE_COUNT && !((p->gates >> g) & 1); g++)
      ;
    if (g == MLG_GATE_COUNT || !r->gates[g].evaluated)
      continue;
    snprintf(msg, sizeof msg, "waiver for %s expired on %s; remove it from the config",
             w->policy, w->expires);
    notice(r, cfg, w, (mlg_gate)g, WAIVER_EXPIRED, msg);
  }
  free(expired_used);
  free(refused_used);
  free(tc.text);
  if (r->nfindings != nreal)
    mlg_report_finalize_order(r);
}

/* --config FILE, else ROOT/mlgate.yml when it exists, else defaults (also
 * for --no-config). A config that cannot be read is a report error. */
static int load_config(mlg_config **cfg, const mlg_eval_opts *o, const char *root_dir,
                       mlg_report *r)
{
  char path[4200];
  const char *file = NULL;
  struct stat st;
  mlg_err e;
  int rc;

  if (!o->no_config) {
    snprintf(path, sizeof path, "%s/mlgate.yml", root_dir);
    file = o->config_path ? o->config_path : stat(path, &st) == 0 ? path : NULL;
  }
  rc = file ? mlg_config_load(cfg, file, &e) : mlg_config_new(cfg, &e);
  if (rc != 0)
    config_error(r, file ? file : "", e.msg);
  return rc;
}

int mlg_eval(mlg_report **out, const mlg_eval_opts *o, mlg_err *err)
{
  const char *path = o->path ? o->path : ".";
  uint64_t t0 = now_ms();
  mlg_report *r = NULL;
  mlg_config *cfg = NULL;
  mlg_ws *ws = NULL;
  mlg_policy_set set = {NULL, 0};
  mlg_engine_opts eo;
  mlg_git_info gi;
  size_t *idx = NULL, n = 0, i;
  unsigned requested = o->gates ? o->gates : (1u << MLG_GATE_COUNT) - 1;
  char root_dir[4096];
  struct stat st;
  mlg_err e;
  int g, fail_on, rc;

  if ((rc = mlg_report_new(&r, err)) != 0)
    return rc;
  r->root = mlg_report_str(r, path);
  *out = r;

  /* The config lives in the workspace root: PATH, or the directory of a
   * single-file PATH. */
  snprintf(root_dir, sizeof root_dir, "%s", path);
  if (stat(path, &st) == 0 && !S_ISDIR(st.st_mode)) {
    char *slash = strrchr(root_dir, '/');
    if (slash)
      *slash = '\0';
    else
      snprintf(root_dir, sizeof root_dir, ".");
  }
  if (load_config(&cfg, o, root_dir, r) != 0)
    goto finish;
  if (o->profile >= 0)
    cfg->profile = o->profile;
  if (mlg_ws_open(&ws, path, NULL, &e) != 0) {
    mlg_report_add_error(r, -1, "", path, e.msg, "");
    goto finish;
  }
  r->files = ws->nfiles;
  r->bytes = ws->total_bytes;
  if (mlg_git_describe(&gi, ws->root, NULL) == 0) {
    r->commit = mlg_report_str(r, gi.commit);
    r->repository = mlg_report_str(r, gi.repository);
  }

  if (!o->no_builtins && mlg_policy_add_builtins(&set, &e) != 0) {
    mlg_report_add_error(r, -1, "", "", e.msg, "");
    goto finish;
  }
  for (i = 0; i < o->npolicy_dirs; i++)
    if (mlg_policy_add_dir(&set, o->policy_dirs[i], &e) != 0) {
      mlg_report_add_error(r, -1, "", o->policy_dirs[i], e.msg, "");
      goto finish;
    }

  /* One child per policy: it loads the policy, sends its metadata and
   * evaluates it for the requested gates it belongs to. */
  idx = calloc(set.len ? set.len : 1, sizeof *idx);
  if (!idx) {
    rc = mlg_err_set(err, MLG_ENOMEM, "out of memory");
    goto finish;
  }
  for (i = 0; i < set.len; i++)
    idx[n++] = i;
  memset(&eo, 0, sizeof eo);
  eo.ws = ws;
  eo.cfg = cfg;
  eo.gates = requested;
  eo.verbose = o->verbose;
  eo.progress = o->progress;
  eo.jobs = o->jobs;
  eo.all_files = o->all_files;
  if (mlg_engine_run(&set, idx, n, &eo, r, &e) != 0)
    mlg_report_add_error(r, -1, "", "", e.msg, "");
  mlg_engine_check_ids(&set, r, &e);
  check_config(r, cfg, &set);

  for (g = 0; g < MLG_GATE_COUNT; g++) {
    unsigned count = 0;
    if (!(requested & (1u << g)))
      continue;
    for (i = 0; i < set.len; i++) {
      const mlg_policy *p = &set.items[i];
      const mlg_policy_cfg *pc;
      if (!p->loaded || !(p->gates & (1u << g)))
        continue;
      pc = mlg_config_policy(cfg, p->id);
      if (pc && pc->enabled == 0)
        continue;
      if ((int)p->profile > cfg->profile && !(pc && pc->enabled == 1))
        continue;
      count++;
    }
    r->gates[g].policies = count;
    r->gates[g].evaluated = count > 0;
    r->policies += count;
    if (count == 0 && o->gates) {
      char msg[256];
      snprintf(msg, sizeof msg, "no policies to evaluate in the %s gate; add policies with "
                                "--policies or enable them in the config",
               mlg_gate_name((mlg_gate)g));
      mlg_report_add_error(r, g, "", "", msg, "");
    }
  }
  if (r->policies == 0 && r->nerrors == 0)
    mlg_report_add_error(r, -1, "", "", "no policies were evaluated; an empty evaluation is "
                                        "not a pass", "");

  /* info findings are informational unless a config or flag says otherwise */
  fail_on = o->fail_on >= 0 ? o->fail_on : cfg->fail_on >= 0 ? cfg->fail_on : MLG_SEV_LOW;
  r->fail_on = fail_on;
  apply_enforcement(r, cfg, &set, ws, fail_on);

finish:
  mlg_report_finalize_order(r);
  mlg_report_decide(r);
  r->elapsed_ms = now_ms() - t0;
  free(idx);
  mlg_policy_set_free(&set);
  mlg_ws_free(ws);
  mlg_config_free(cfg);
  return rc;
}
