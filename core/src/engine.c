#include "engine.h"

#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "isolate.h"
#include "parse.h"
#include "policy_run.h"

#define MAX_LOG_LINES 200

/* Workspaces with at least this many files are split between processes by
 * files (below that, starting every policy in every process costs more). */
#define SHARD_MIN_FILES 64

typedef struct task_state {
  size_t policy;
  unsigned shard;   /* the share of the files it checks (see mlg_job.nshards) */
  int got_meta, meta_ok, done_seen;
  int rejected;     /* metadata invalid: the rest of its output is ignored */
  int load_error;
  int current_gate; /* begun and not ended, or -1 */
  int requeue;      /* its batch died under another policy: run it again */
  unsigned logs;
} task_state;

typedef struct run_ctx {
  mlg_policy_set *set;
  const mlg_engine_opts *o;
  mlg_report *r;
  task_state *tasks;
  size_t ntasks;
  size_t ndone;       /* policies finished (for progress) */
  mlg_err *first_err; /* metadata-only runs without a report */
  int failed;
  mlg_job job;        /* what the children run */
  /* Per policy, its id and lists copied into the report once and shared by
   * its findings (a large run has tens of thousands). */
  struct policy_strs {
    const char *id;
    const char *const *atlas, *const *aliases;
  } *strs;
} run_ctx;

static int child_main(void *ud, size_t batch, int out_fd)
{
  run_ctx *c = ud;
  return mlg_policy_child(&c->job, batch, out_fd);
}

static const char *policy_name(const run_ctx *c, const task_state *t)
{
  const mlg_policy *p = &c->set->items[t->policy];
  return p->loaded ? p->id : p->path;
}

static void add_error(run_ctx *c, task_state *t, int gate, const char *path, const char *msg,
                      const char *where)
{
  size_t wl = where ? strlen(where) : 0;
  /* Lua prefixes messages with "file:line: "; the location is reported
   * separately, so do not say it twice. */
  if (wl && strncmp(msg, where, wl) == 0 && msg[wl] == ':' && msg[wl + 1] == ' ')
    msg += wl + 2;
  c->failed = 1;
  if (c->r) {
    if (mlg_report_add_error(c->r, gate, policy_name(c, t), path, msg, where) == 0)
      c->r->errors[c->r->nerrors - 1].task = (size_t)(t - c->tasks);
  } else if (c->first_err && c->first_err->code == 0) {
    mlg_err_set(c->first_err, MLG_EPOLICY, "%s: %s%s%s", policy_name(c, t), msg,
                where && *where ? " at " : "", where && *where ? where : "");
  }
}

static const char *rec_str(const mlg_node *rec, const char *key)
{
  return mlg_node_as_str(mlg_map_get(rec, key), NULL);
}

static uint32_t rec_u32(const mlg_node *rec, const char *key)
{
  int64_t v = mlg_node_as_int(mlg_map_get(rec, key), 0);
  return v < 0 ? 0 : v > UINT32_MAX ? UINT32_MAX : (uint32_t)v;
}

static const char *const *copy_list(mlg_report *r, const mlg_globs *g)
{
  const char **items;
  size_t i;
  if (!g->len)
    return NULL;
  items = mlg_doc_alloc(r->doc, g->len * sizeof *items);
  if (!items)
    return NULL;
  for (i = 0; i < g->len; i++)
    items[i] = mlg_report_str(r, g->items[i]);
  return items;
}

/* The policy's aliases, then the finding's own (deduplicated). */
static void add_aliases(mlg_report *r, mlg_finding *f, const mlg_node *extra)
{
  const char **items;
  size_t i, j, n = 0;
  if (!extra || extra->type != MLG_SEQ || extra->u.seq.len == 0)
    return;
  items = mlg_doc_alloc(r->doc, (f->naliases + extra->u.seq.len) * sizeof *items);
  if (!items)
    return;
  for (i = 0; i < f->naliases; i++)
    items[n++] = f->aliases[i];
  for (i = 0; i < extra->u.seq.len; i++) {
    const mlg_node *a = extra->u.seq.items[i];
    int dup = 0;
    if (a->type != MLG_STR || !strchr(a->u.str.ptr, ':'))
      continue;
    for (j = 0; j < n && !dup; j++)
      dup = strcmp(items[j], a->u.str.ptr) == 0;
    if (!dup)
      items[n++] = mlg_report_str(r, a->u.str.ptr);
  }
  f->aliases = items;
  f->naliases = n;
}

static void on_finding(run_ctx *c, task_state *t, const mlg_node *rec)
{
  const mlg_policy *p = &c->set->items[t->policy];
  mlg_report *r = c->r;
  mlg_finding *f;
  const char *s;
  int g, v;

  if (!r || !p->loaded)
    return;
  g = mlg_gate_parse(rec_str(rec, "gate"));
  if (g < 0 || !(p->gates & (1u << g)))
    return;
  f = mlg_report_add_finding(r);
  if (!f) {
    add_error(c, t, g, "", "out of memory while collecting findings", "");
    return;
  }
  if (c->strs && !c->strs[t->policy].id) {
    c->strs[t->policy].id = mlg_report_str(r, p->id);
    c->strs[t->policy].atlas = copy_list(r, &p->atlas);
    c->strs[t->policy].aliases = copy_list(r, &p->aliases);
  }
  if (c->strs && c->strs[t->policy].id) {
    f->policy = c->strs[t->policy].id;
    f->atlas = c->strs[t->policy].atlas;
    f->aliases = c->strs[t->policy].aliases;
  } else {
    f->policy = mlg_report_str(r, p->id);
    f->atlas = copy_list(r, &p->atlas);
    f->aliases = copy_list(r, &p->aliases);
  }
  f->task = (size_t)(t - c->tasks);
  f->gate = (mlg_gate)g;
  f->severity = p->severity;
  if ((s = rec_str(rec, "severity")) && (v = mlg_severity_parse(s)) >= 0)
    f->severity = (mlg_severity)v;
  f->confidence = p->confidence;
  if ((s = rec_str(rec, "confidence")) && (v = mlg_confidence_parse(s)) >= 0)
    f->confidence = (mlg_confidence)v;
  f->message = mlg_report_str(r, rec_str(rec, "message") ? rec_str(rec, "message") : "");
  f->loc.path = mlg_report_str(r, rec_str(rec, "path") ? rec_str(rec, "path") : "");
  f->loc.line = rec_u32(rec, "line");
  f->loc.column = rec_u32(rec, "column");
  f->loc.end_line = rec_u32(rec, "end_line");
  f->loc.end_column = rec_u32(rec, "end_column");
  f->loc.member = mlg_report_str(r, rec_str(rec, "member"));
  f->loc.offset = mlg_map_get(rec, "offset") ? mlg_node_as_int(mlg_map_get(rec, "offset"), -1)
                                             : -1;
  f->natlas = f->atlas ? p->atlas.len : 0;
  f->naliases = f->aliases ? p->aliases.len : 0;
  add_aliases(r, f, mlg_map_get(rec, "aliases"));
  f->key = mlg_report_str(r, rec_str(rec, "key"));
  f->snippet = mlg_report_str(r, rec_str(rec, "snippet"));
  if (mlg_map_get(rec, "details"))
    f->details = mlg_node_copy(r->doc, mlg_map_get(rec, "details"));
}

static void print_log(const run_ctx *c, const task_state *t, const mlg_node *rec)
{
  const char *level = rec_str(rec, "level");
  mlg_buf line = MLG_BUF_INIT;
  if (!level || (strcmp(level, "debug") == 0 && !c->o->verbose))
    return;
  mlg_buf_printf(&line, "mlgate: [%s] %s: ", policy_name(c, t), level);
  mlg_sanitize_line(&line, rec_str(rec, "message"));
  mlg_buf_putc(&line, '\n');
  if (line.ptr)
    fputs(line.ptr, stderr);
  mlg_buf_free(&line);
}

static void on_line(void *ud, size_t batch, const char *text, size_t len)
{
  run_ctx *c = ud;
  const size_t *b = c->job.order + c->job.batch_off[batch];
  size_t nb = c->job.batch_off[batch + 1] - c->job.batch_off[batch], k;
  task_state *t = &c->tasks[b[0]];
  mlg_policy *p;
  mlg_doc *doc = NULL;
  const mlg_node *rec, *pn;
  const char *type;
  mlg_err e;

  if (mlg_json_parse(&doc, text, len, "policy output", NULL, &e) != 0) {
    add_error(c, t, t->current_gate, "", "sent a malformed record to the engine", "");
    return;
  }
  rec = doc->root;
  /* Records come from the engine's own child code, which always names the
   * policy; one that names a policy outside the batch is dropped. */
  pn = mlg_map_get(rec, "p");
  if (!pn || pn->type != MLG_INT) {
    mlg_doc_free(doc);
    return;
  }
  for (k = 0; k < nb && (int64_t)b[k] != pn->u.integer; k++)
    ;
  if (k == nb) {
    mlg_doc_free(doc);
    return;
  }
  t = &c->tasks[b[k]];
  p = &c->set->items[t->policy];
  type = rec_str(rec, "t");
  if (!type || t->rejected) {
    mlg_doc_free(doc);
    return;
  }
  if (strcmp(type, "meta") == 0) {
    t->got_meta = 1;
    if (p->loaded) { /* second run of a known policy (mlgate test) */
      t->meta_ok = 1;
    } else if (mlg_policy_set_meta(p, rec, &e) == 0) {
      t->meta_ok = 1;
      mlg_doc_free(p->doc);
      p->doc = doc; /* metadata strings point into it */
      doc = NULL;
    } else {
      t->rejected = 1;
      add_error(c, t, -1, "", e.msg, p->path);
    }
  } else if (strcmp(type, "load_error") == 0) {
    t->load_error = 1;
    add_error(c, t, -1, "", rec_str(rec, "message") ? rec_str(rec, "message") : "load failed",
              rec_str(rec, "where"));
  } else if (strcmp(type, "begin") == 0) {
    t->current_gate = mlg_gate_parse(rec_str(rec, "gate"));
  } else if (strcmp(type, "end") == 0) {
    t->current_gate = -1;
  } else if (strcmp(type, "finding") == 0) {
    on_finding(c, t, rec);
  } else if (strcmp(type, "error") == 0) {
    if (t->meta_ok || !p->loaded) {
      mlg_buf msg = MLG_BUF_INIT;
      const mlg_node *lim = mlg_map_get(rec, "limit");
      const char *m = rec_str(rec, "message");
      if (lim && lim->type == MLG_BOOL && lim->u.boolean)
        mlg_buf_printf(&msg, "policy %s", m ? m : "hit a limit");
      else
        mlg_buf_puts(&msg, m ? m : "error");
      add_error(c, t, mlg_gate_parse(rec_str(rec, "gate")), rec_str(rec, "path"),
                msg.ptr ? msg.ptr : "error", rec_str(rec, "where"));
      mlg_buf_free(&msg);
      if (c->o->verbose && rec_str(rec, "traceback")) { /* for policy authors (-v) */
        mlg_buf tb = MLG_BUF_INIT;
        mlg_buf_printf(&tb, "mlgate: [%s] ", policy_name(c, t));
        mlg_sanitize_text(&tb, rec_str(rec, "traceback"), "  ");
        fprintf(stderr, "%s\n", tb.ptr ? tb.ptr : "");
        mlg_buf_free(&tb);
      }
    }
  } else if (strcmp(type, "log") == 0) {
    if (++t->logs <= MAX_LOG_LINES)
      print_log(c, t, rec);
  } else if (strcmp(type, "done") == 0) {
    t->done_seen = 1;
    c->ndone++;
  }
  mlg_doc_free(doc);
}

/* Removes what a policy reported in a batch that died under another one:
 * it runs again from the start on its own. */
static void rollback(run_ctx *c, task_state *t)
{
  mlg_report *r = c->r;
  size_t i, n, task = (size_t)(t - c->tasks);

  /* By task, not by policy name: the other shares of the same policy's
   * files were checked by other processes and stand. */
  if (r) {
    for (i = n = 0; i < r->nfindings; i++)
      if (r->findings[i].task != task)
        r->findings[n++] = r->findings[i];
    r->nfindings = n;
    r->ordered = 0;
    for (i = n = 0; i < r->nerrors; i++)
      if (r->errors[i].task != task)
        r->errors[n++] = r->errors[i];
    r->nerrors = n;
  }
  t->got_meta = t->meta_ok = t->done_seen = t->rejected = t->load_error = 0;
  t->current_gate = -1;
  t->logs = 0;
  t->requeue = 1;
}

static void report_death(run_ctx *c, task_state *t, const mlg_child_result *res,
                         const char *file)
{
  const mlg_config *cfg = c->o->cfg;
  char msg[1024], sig[96], during[600] = "";
  uint64_t time_ms = cfg && cfg->limits.time_ms ? cfg->limits.time_ms : 5000;

  if (file && *file)
    snprintf(during, sizeof during, " while checking '%s'", file);
  else if (t->current_gate >= 0)
    snprintf(during, sizeof during, " in the %s gate",
             mlg_gate_name((mlg_gate)t->current_gate));
  else if (!t->got_meta)
    snprintf(during, sizeof during, " while loading");
  msg[0] = '\0';
  switch (res->end) {
  case MLG_CHILD_TIMEOUT:
    snprintf(msg, sizeof msg, "policy exceeded its time limit of %llu ms%s",
             (unsigned long long)time_ms, during);
    break;
  case MLG_CHILD_OVERFLOW:
    snprintf(msg, sizeof msg, "policy sent more output than the engine accepts%s", during);
    break;
  case MLG_CHILD_SIGNALED:
    if (res->status == 0)
      snprintf(msg, sizeof msg, "policy could not be started (fork failed)");
    else if (res->status == SIGKILL || res->status == SIGSEGV)
      snprintf(msg, sizeof msg,
               "policy evaluation crashed with %s%s (the Lua VM or a native analyser died, "
               "possibly out of memory); the gate fails closed",
               mlg_signal_name(res->status, sig, sizeof sig), during);
    else
      snprintf(msg, sizeof msg, "policy evaluation crashed with %s%s; the gate fails closed",
               mlg_signal_name(res->status, sig, sizeof sig), during);
    break;
  case MLG_CHILD_EXITED:
    if (res->status != 0)
      snprintf(msg, sizeof msg, "policy evaluation exited with status %d%s", res->status,
               during);
    else
      snprintf(msg, sizeof msg, "policy evaluation ended before finishing%s", during);
    break;
  }
  if (msg[0] && !t->rejected)
    add_error(c, t, t->current_gate, file ? file : "", msg, c->set->items[t->policy].path);
}

static void on_end(void *ud, size_t batch, const mlg_child_result *res)
{
  run_ctx *c = ud;
  const size_t *b = c->job.order + c->job.batch_off[batch];
  size_t nb = c->job.batch_off[batch + 1] - c->job.batch_off[batch], k, open = 0;
  int64_t blamed = -1;

  for (k = 0; k < nb; k++)
    if (!c->tasks[b[k]].done_seen)
      open++;
  if (open == 0)
    return;
  /* The policy the child was busy with takes the blame; when it cannot be
   * told (or the batch was a single policy), every open policy does. */
  for (k = 0; k < nb; k++)
    if ((int64_t)b[k] == res->watch.item && !c->tasks[b[k]].done_seen)
      blamed = res->watch.item;
  for (k = 0; k < nb; k++) {
    task_state *t = &c->tasks[b[k]];
    if (t->done_seen)
      continue;
    if (blamed >= 0 && (int64_t)b[k] != blamed && res->end != MLG_CHILD_EXITED) {
      rollback(c, t);
      continue;
    }
    report_death(c, t, res, (int64_t)b[k] == blamed ? res->watch.path : NULL);
    t->done_seen = 1;
    c->ndone++;
  }
}

static void on_tick(void *ud, size_t done, size_t total)
{
  run_ctx *c = ud;
  if (!c->o->progress)
    return;
  (void)done;
  (void)total;
  fprintf(stderr, "\rmlgate: %zu/%zu policies evaluated", c->ndone, c->ntasks);
  fflush(stderr);
}

static unsigned cpu_count(void)
{
  long n = sysconf(_SC_NPROCESSORS_ONLN);
  return n < 1 ? 1 : n > 8 ? 8 : (unsigned)n;
}

/* Splits the tasks into batches: policies of the same gates together (so
 * they share the child's caches of parsed files), each group cut into as
 * many batches as there are children running at once. Fills order and
 * off (nbatches + 1 entries); returns the batch count and the largest. */
static const run_ctx *weigh_ctx; /* qsort has no context argument in C11 */

/* A policy's expected cost, for balancing: the length of its source is a
 * rough but useful proxy (the long ones parse scripts and expressions). */
static size_t weight_of(const run_ctx *c, size_t task)
{
  return c->set->items[c->tasks[task].policy].len + 1024;
}

static const size_t *weigh_todo;

/* Sorts positions in todo by their task's weight, heaviest first. */
static int by_weight_desc(const void *pa, const void *pb)
{
  size_t a = *(const size_t *)pa, b = *(const size_t *)pb;
  size_t wa = weight_of(weigh_ctx, weigh_todo[a]), wb = weight_of(weigh_ctx, weigh_todo[b]);
  return wa < wb ? 1 : wa > wb ? -1 : (a > b) - (a < b);
}

static size_t make_batches(const run_ctx *c, const size_t *todo, size_t n, unsigned jobs,
                           size_t *order, size_t *off, size_t *largest)
{
  size_t i, j, k, nb = 0, placed = 0;
  size_t *group = malloc((n ? n : 1) * sizeof *group); /* positions in todo */
  size_t *bin = malloc((n ? n : 1) * sizeof *bin);     /* by position: its batch */
  size_t *leader = malloc((n ? n : 1) * sizeof *leader); /* by position: its group */
  size_t load[64];

  *largest = 0;
  if (!group || !bin || !leader) {
    free(group);
    free(bin);
    free(leader);
    return 0;
  }
  if (jobs > 64)
    jobs = 64;
  for (i = 0; i < n; i++)
    leader[i] = (size_t)-1;
  for (i = 0; i < n; i++) {
    const mlg_policy *pi = &c->set->items[c->tasks[todo[i]].policy];
    size_t m = 0, nbins, b;
    if (leader[i] != (size_t)-1)
      continue;
    for (j = i; j < n; j++) {
      const mlg_policy *pj = &c->set->items[c->tasks[todo[j]].policy];
      if (leader[j] == (size_t)-1 && pj->gates == pi->gates &&
          c->tasks[todo[j]].shard == c->tasks[todo[i]].shard) {
        leader[j] = i;
        group[m++] = j;
      }
    }
    /* Heaviest first, each to the lightest batch so far (LPT); within a
     * batch policies keep their order. */
    weigh_ctx = c;
    weigh_todo = todo;
    qsort(group, m, sizeof *group, by_weight_desc);
    /* Sharded: the group is one share of the files, one process. */
    nbins = c->job.nshards > 1 ? 1 : m < jobs ? m : jobs;
    for (b = 0; b < nbins; b++)
      load[b] = 0;
    for (k = 0; k < m; k++) {
      size_t best = 0;
      for (b = 1; b < nbins; b++)
        if (load[b] < load[best])
          best = b;
      bin[group[k]] = best;
      load[best] += weight_of(c, todo[group[k]]);
    }
    for (b = 0; b < nbins; b++) {
      size_t start = placed;
      for (j = i; j < n; j++)
        if (leader[j] == i && bin[j] == b)
          order[placed++] = todo[j];
      off[nb++] = start;
      if (placed - start > *largest)
        *largest = placed - start;
    }
  }
  off[nb] = placed;
  free(group);
  free(bin);
  free(leader);
  return nb;
}

int mlg_engine_run(mlg_policy_set *set, const size_t *idx, size_t n, const mlg_engine_opts *o,
                   mlg_report *r, mlg_err *err)
{
  run_ctx c;
  mlg_job *job = &c.job;
  mlg_pool pool;
  int keep[1];
  size_t i, *todo = NULL, *order = NULL, *off = NULL, *tpol = NULL, ntodo, largest, nt;
  unsigned jobs = o->jobs ? o->jobs : cpu_count(), nshards = 1;
  int rc = 0, round;

  if (n == 0)
    return 0;
  /* A large workspace is split between the processes by files rather than
   * by policies: each process runs every policy on its share, so every
   * file is parsed once and the shares cost about the same. Policies with
   * a run() function check all files in share 0 (see policy_run.c). */
  if (o->ws && jobs > 1 && o->ws->nfiles >= SHARD_MIN_FILES)
    nshards = jobs;
  nt = n * nshards;
  memset(&c, 0, sizeof c);
  c.set = set;
  c.o = o;
  c.r = r;
  c.ntasks = nt;
  c.first_err = err;
  if (err)
    mlg_err_clear(err);
  c.tasks = calloc(nt, sizeof *c.tasks);
  c.strs = calloc(set->len ? set->len : 1, sizeof *c.strs); /* NULL: copies per finding */
  todo = calloc(nt, sizeof *todo);
  order = calloc(nt, sizeof *order);
  off = calloc(nt + 1, sizeof *off);
  tpol = calloc(nt, sizeof *tpol);
  if (!c.tasks || !todo || !order || !off || !tpol) {
    rc = mlg_err_set(err, MLG_ENOMEM, "out of memory");
    goto done;
  }
  for (i = 0; i < nt; i++) {
    c.tasks[i].policy = tpol[i] = idx[i / nshards];
    c.tasks[i].shard = (unsigned)(i % nshards);
    c.tasks[i].current_gate = -1;
    todo[i] = i;
  }
  ntodo = nt;

  job->set = set;
  job->tasks = tpol;
  job->ntasks = nt;
  job->nshards = nshards;
  job->order = order;
  job->batch_off = off;
  job->ws = o->ws;
  job->cfg = o->cfg;
  job->gates = o->ws ? o->gates : 0;
  job->params = o->params;
  job->verbose = o->verbose;
  job->all_files = o->all_files;

  memset(&pool, 0, sizeof pool);
  pool.jobs = jobs;
  pool.limits.time_ms = o->cfg && o->cfg->limits.time_ms ? o->cfg->limits.time_ms : 5000;
  pool.limits.memory_bytes =
    o->cfg && o->cfg->limits.memory_bytes ? o->cfg->limits.memory_bytes : (uint64_t)256 << 20;
  if (o->ws && o->ws->rootfd >= 0) {
    keep[0] = o->ws->rootfd;
    pool.keep_fds = keep;
    pool.nkeep = 1;
  }
  pool.run = child_main;
  pool.on_line = on_line;
  pool.on_end = on_end;
  pool.on_tick = on_tick;
  pool.ud = &c;

  /* Round 0 runs batches; a batch that died under one policy sends the
   * others back, and round 1 runs each of them alone. */
  for (round = 0; round < 2 && ntodo && rc == 0; round++) {
    size_t nb;
    if (round == 0) {
      nb = make_batches(&c, todo, ntodo, jobs, order, off, &largest);
    } else {
      for (i = 0; i < ntodo; i++) {
        order[i] = todo[i];
        off[i] = i;
      }
      off[ntodo] = ntodo;
      nb = ntodo;
      largest = 1;
    }
    pool.ntasks = nb;
    pool.limits.total_ms = pool.limits.time_ms * (largest ? largest : 1) + 1000;
    rc = mlg_pool_run(&pool, err);
    for (i = ntodo = 0; i < nt; i++)
      if (c.tasks[i].requeue) {
        c.tasks[i].requeue = 0;
        todo[ntodo++] = i;
      }
  }
  if (o->progress) {
    fprintf(stderr, "\r\033[K");
    fflush(stderr);
  }
  if (rc == 0 && !r && c.failed)
    rc = err ? err->code : MLG_EPOLICY;
done:
  free(c.tasks);
  free(c.strs);
  free(todo);
  free(order);
  free(off);
  free(tpol);
  return rc;
}

int mlg_engine_check_ids(mlg_policy_set *set, mlg_report *r, mlg_err *err)
{
  size_t i, j;
  /* Two files declaring the same id would make findings ambiguous. */
  for (i = 0; i < set->len; i++) {
    mlg_policy *a = &set->items[i];
    if (!a->loaded)
      continue;
    for (j = i + 1; j < set->len; j++) {
      mlg_policy *b = &set->items[j];
      char msg[1024];
      if (!b->loaded || strcmp(a->id, b->id) != 0)
        continue;
      snprintf(msg, sizeof msg, "policy id '%s' is declared by both %s and %s; ids must be "
                                "unique",
               a->id, a->path, b->path);
      b->loaded = 0;
      if (r)
        mlg_report_add_error(r, -1, a->id, "", msg, b->path);
      else
        return mlg_err_set(err, MLG_EPOLICY, "%s", msg);
    }
  }
  return 0;
}

int mlg_engine_load_all(mlg_policy_set *set, const mlg_config *cfg, mlg_report *r,
                        mlg_err *err)
{
  mlg_engine_opts o;
  size_t *idx, i, n = 0;
  int rc;

  memset(&o, 0, sizeof o);
  o.cfg = cfg;
  idx = calloc(set->len ? set->len : 1, sizeof *idx);
  if (!idx)
    return mlg_err_set(err, MLG_ENOMEM, "out of memory");
  for (i = 0; i < set->len; i++)
    if (!set->items[i].loaded)
      idx[n++] = i;
  rc = mlg_engine_run(set, idx, n, &o, r, err);
  free(idx);
  if (rc != 0 && !r)
    return rc;
  if (mlg_engine_check_ids(set, r, err) != 0 && !r)
    return err ? err->code : MLG_EPOLICY;
  return rc;
}
