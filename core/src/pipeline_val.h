/*
 * Building blocks of the pipeline model (pipeline*.c only): the builder
 * context, interned key/value strings, value objects (`val`) with their
 * text-to-file position maps, key/value lists (`kv`), verbatim copies,
 * comments, routes and the `${{ }}` expressions of every modelled value,
 * and the builders the model files share.
 *
 * Every builder function records the first failure in pl->rc (and the
 * message in pl->err) and returns NULL; later calls see pl->rc and do
 * nothing, so model builders can chain calls and check once.
 *
 * Aliases: the source tree shares anchored nodes, so one source node may be
 * modelled several times (a step list aliased into two jobs gives two sets
 * of steps, with their own routes, pointing at the same lines). Work that
 * only depends on the node (the text of a val, a kv list, a verbatim copy)
 * is memoized by node; the rest is bounded by the model arena's byte limit
 * and by a visit budget, so an alias bomb ends in MLG_ELIMIT.
 */
#ifndef MLG_PIPELINE_VAL_H
#define MLG_PIPELINE_VAL_H

#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include "buf.h"
#include "err.h"
#include "node.h"
#include "pipeline.h"
#include "pipeline_atoms_gitlab.h"
#include "pipeline_atoms_jenkins.h"

/* The model arena may hold this many bytes per input byte, plus a floor;
 * a typical workflow's model needs some 30, one made of expressions 60. */
#define MLG_PL_DOC_FACTOR 64
#define MLG_PL_DOC_FLOOR ((size_t)8 << 20)
/* Source nodes visited while modelling (aliases make one node count each
 * time it is reached). */
#define MLG_PL_MAX_VISITS ((size_t)8 << 20)

/* Interned strings: model keys, fixed values and expression fields, one
 * node per document, made on first use. */
#define MLG_PL_ATOMS(X) \
  X(ARGS, "args") X(BRANCHES, "branches") X(BRANCHES_IGNORE, "branches_ignore") \
  X(CANCEL_IN_PROGRESS, "cancel_in_progress") X(COL, "col") X(COMMENT, "comment") \
  X(COMMENTS, "comments") X(CONCURRENCY, "concurrency") X(COND, "cond") \
  X(CONTAINER, "container") X(CONTINUE_ON_ERROR, "continue_on_error") \
  X(COOLDOWN, "cooldown") X(CREDENTIALS, "credentials") X(CRONS, "crons") \
  X(DEFAULT, "default") X(DEFAULT_DAYS, "default_days") X(DEFAULTS, "defaults") \
  X(DESCRIPTION, "description") X(DIGEST, "digest") X(DIRECTORIES, "directories") \
  X(DIRECTORY, "directory") X(ECOSYSTEM, "ecosystem") X(END_COL, "end_col") \
  X(END_LINE, "end_line") X(END_OFFSET, "end_offset") X(ENTRYPOINT, "entrypoint") \
  X(ENV, "env") X(ENV_EXPR, "env_expr") X(WITH_EXPR, "with_expr") X(ENVIRONMENT, "environment") X(EVENTS, "events") X(EXCLUDE, "exclude") \
  X(EXPR, "expr") X(EXPRS, "exprs") X(FAIL_FAST, "fail_fast") X(FENCED, "fenced") \
  X(FIELD, "field") X(GROUP, "group") X(GROUPS, "groups") X(HOOKS, "hooks") X(ID, "id") \
  X(IMAGE, "image") X(INCLUDE, "include") X(INDEX, "index") X(INHERIT, "inherit") \
  X(INPUTS, "inputs") X(INSECURE_EXEC, "insecure_external_code_execution") \
  X(INTERVAL, "interval") X(ITEMS, "items") X(JOB, "job") X(JOBS, "jobs") X(KEY, "key") \
  X(KEY_COL, "key_col") X(KEY_LINE, "key_line") X(KEYS, "keys") X(KIND, "kind") \
  X(LABELS, "labels") X(LEVEL, "level") X(LEVELS, "levels") X(LINE, "line") \
  X(MAIN, "main") X(MAP, "map") X(MATRIX, "matrix") X(NAME, "name") X(NAMES, "names") \
  X(NEEDS, "needs") X(OFFSET, "offset") X(ON, "on") X(OPTIONS, "options") \
  X(OUTPUTS, "outputs") X(OWNER, "owner") X(PASSWORD, "password") X(PATH, "path") \
  X(PATHS, "paths") X(PATHS_IGNORE, "paths_ignore") X(PERMISSIONS, "permissions") \
  X(PIN, "pin") X(PLATFORM, "platform") X(POST, "post") X(PRE, "pre") X(RAW, "raw") \
  X(REF, "ref") X(REGISTRIES, "registries") X(REGISTRY, "registry") X(REPO, "repo") \
  X(REPOS, "repos") X(REQUIRED, "required") X(REV, "rev") X(ROUTE, "route") X(RUN, "run") \
  X(RUNS, "runs") X(RUNS_ON, "runs_on") X(SCHEDULE, "schedule") X(SCOPES, "scopes") \
  X(SECRETS, "secrets") X(SEMVER_MAJOR_DAYS, "semver_major_days") \
  X(SEMVER_MINOR_DAYS, "semver_minor_days") X(SEMVER_PATCH_DAYS, "semver_patch_days") \
  X(SERVICES, "services") X(SHELL, "shell") X(STEP, "step") X(STEPS, "steps") \
  X(STRATEGY, "strategy") X(STYLE, "style") X(SUBPATH, "subpath") X(TAG, "tag") \
  X(TAGS, "tags") X(TAGS_IGNORE, "tags_ignore") X(TEXT, "text") \
  X(TIMEOUT_MINUTES, "timeout_minutes") X(TYPE, "type") X(TYPES, "types") \
  X(UPDATES, "updates") X(URL, "url") \
  X(USERNAME, "username") X(USES, "uses") X(USING, "using") X(VALUE, "value") \
  X(VERSION, "version") X(VTYPE, "vtype") X(WITH, "with") X(WORKFLOWS, "workflows") \
  X(WORKING_DIRECTORY, "working_directory") \
  X(V_GITHUB, "github") X(V_WORKFLOW, "workflow") X(V_ACTION, "action") \
  X(V_DEPENDABOT, "dependabot") X(V_PRECOMMIT, "precommit") X(V_PLAIN, "plain") \
  X(V_SINGLE, "single") X(V_DOUBLE, "double") X(V_LITERAL, "literal") \
  X(V_FOLDED, "folded") X(V_STRING, "string") X(V_BOOL, "bool") X(V_INT, "int") \
  X(V_FLOAT, "float") X(V_NULL, "null") X(V_MAP, "map") X(V_SEQ, "seq") \
  X(V_NORMAL, "normal") X(V_REUSABLE, "reusable") X(V_DOCKER, "docker") \
  X(V_LOCAL, "local") X(V_INVALID, "invalid") X(V_SHA, "sha") X(V_SHORT_SHA, "short-sha") \
  X(V_TAG, "tag") X(V_BRANCH, "branch") X(V_NONE, "none") X(V_EXPR, "expr") \
  X(V_DIGEST, "digest") X(V_LATEST, "latest") X(V_READ_ALL, "read-all") \
  X(V_WRITE_ALL, "write-all") \
  X(F_RUN, "run") X(F_WITH, "with") X(F_ENV, "env") X(F_IF, "if") X(F_NAME, "name") \
  X(F_USES, "uses") X(F_RUNS_ON, "runs-on") X(F_IMAGE, "image") \
  X(F_ENVIRONMENT, "environment") X(F_CONCURRENCY, "concurrency") \
  X(F_OUTPUTS, "outputs") X(F_SECRETS, "secrets") X(F_MATRIX, "matrix") \
  X(F_INPUTS, "inputs") X(F_DEFAULT, "default") X(F_ARGS, "args") \
  X(F_ENTRYPOINT, "entrypoint") X(F_WORKING_DIRECTORY, "working-directory") \
  X(F_SHELL, "shell") X(F_OTHER, "other") \
  MLG_PL_ATOMS_GITLAB(X) MLG_PL_ATOMS_JENKINS(X)

typedef enum mlg_pl_atom {
#define MLG_PL_ATOM_ENUM(id, s) MLG_A_##id,
  MLG_PL_ATOMS(MLG_PL_ATOM_ENUM)
#undef MLG_PL_ATOM_ENUM
  MLG_A__COUNT
} mlg_pl_atom;

/* Pointer-keyed memo (open addressing): source node -> anything. */
typedef struct mlg_pl_memo {
  const void **keys;
  void **vals;
  size_t cap, len;
} mlg_pl_memo;

void *mlg_pl_memo_get(const mlg_pl_memo *m, const void *key);
int mlg_pl_memo_put(mlg_pl_memo *m, const void *key, void *val); /* MLG_ENOMEM */
void mlg_pl_memo_free(mlg_pl_memo *m);

/* One comment found in the source. */
typedef struct mlg_pl_comment {
  uint32_t line, col;
  mlg_node *text; /* in the model doc: without '#', trimmed */
} mlg_pl_comment;

/* A point of a text-to-file map: text offset t is at file line, col, off;
 * the bytes that follow are the file's bytes up to the next point. */
typedef struct mlg_pl_mpt {
  size_t t, off;
  uint32_t line, col;
} mlg_pl_mpt;

/* Positions of one scalar's text in the file. */
typedef struct mlg_pl_tmap {
  mlg_pl_mpt *pts;  /* ascending t; pts[0].t == 0 */
  size_t n, cap;
  size_t first;     /* the point of the first character (block scalars: first content) */
  size_t end_off;   /* file byte after the value's last character */
  int exact;        /* 0: the text could not be aligned; one point at the start */
  mlg_pl_mpt inl[4];
} mlg_pl_tmap;

/* An expression found, kept for sorting into file order. */
typedef struct mlg_pl_expr {
  size_t off, seq;
  mlg_node *node;
} mlg_pl_expr;

typedef struct mlg_pl {
  mlg_doc *doc;           /* the model being built */
  const char *text;       /* the source */
  size_t len;
  const char *name;
  mlg_pipeline_kind kind;
  mlg_err *err;
  int rc;                 /* first failure, sticky */
  int lf_only;            /* every line break is a lone LF */
  const mlg_node *at;     /* source node being modelled (for limit messages) */
  size_t visits;
  mlg_node *atoms[MLG_A__COUNT];
  mlg_node *ints[1024];   /* shared small integer nodes */
  mlg_node *t_true, *t_false;
  mlg_pl_memo vals, kvs, raws, noexpr, strs;
  mlg_pl_comment *comments; /* in file order */
  size_t ncomments;
  mlg_node *comments_seq;
  mlg_pl_expr *exprs;
  size_t nexprs, capexprs;
  mlg_buf route;          /* route of the value being modelled */
  mlg_node *job;          /* id of the job being modelled, or NULL */
  size_t step;            /* 1-based index of the step being modelled, or 0 */
} mlg_pl;

/* --- builder ----------------------------------------------------------- */

int mlg_pl_init(mlg_pl *pl, const char *text, size_t len, const char *name,
                mlg_pipeline_kind kind, size_t limit_bytes, mlg_err *err);
/* Frees the scratch state; the model doc is left to the caller (pl->doc). */
void mlg_pl_fini(mlg_pl *pl);

/* Records a located validation error (MLG_EPARSE, "NAME:LINE:COL: msg") at
 * the source node's position (1:1 when at is NULL). Returns pl->rc. */
int mlg_pl_fail(mlg_pl *pl, const mlg_node *at, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));
/* Records an allocation failure: MLG_ELIMIT (located at pl->at) when the
 * arena limit is the cause, MLG_ENOMEM otherwise. Returns pl->rc. */
int mlg_pl_oom(mlg_pl *pl);
/* Counts one visit of a source node; 0, or pl->rc once over the budget. */
int mlg_pl_tick(mlg_pl *pl, const mlg_node *n);

mlg_node *mlg_pl_atom_node(mlg_pl *pl, mlg_pl_atom a);
mlg_node *mlg_pl_map(mlg_pl *pl, size_t cap);
mlg_node *mlg_pl_seq(mlg_pl *pl, size_t cap);
mlg_node *mlg_pl_int(mlg_pl *pl, int64_t v);
mlg_node *mlg_pl_bool(mlg_pl *pl, int v);
mlg_node *mlg_pl_str(mlg_pl *pl, const char *s, size_t n);
/* A source string as a model string, memoized by source node. */
mlg_node *mlg_pl_src_str(mlg_pl *pl, const mlg_node *s);
/* The text of a source scalar as a model node (canonical text for
 * booleans and numbers, "" for null); NULL for collections. */
mlg_node *mlg_pl_scalar_str(mlg_pl *pl, const mlg_node *n);

/* Appends; a NULL object or value is skipped (failures are recorded). */
void mlg_pl_set(mlg_pl *pl, mlg_node *obj, mlg_pl_atom key, mlg_node *v);
void mlg_pl_set_atom(mlg_pl *pl, mlg_node *obj, mlg_pl_atom key, mlg_pl_atom v);
void mlg_pl_set_int(mlg_pl *pl, mlg_node *obj, mlg_pl_atom key, int64_t v);
void mlg_pl_set_bool(mlg_pl *pl, mlg_node *obj, mlg_pl_atom key, int v);
/* A source-named key (scopes in `levels`, matrix dimensions, ...). */
void mlg_pl_set_named(mlg_pl *pl, mlg_node *obj, const mlg_node *skey, mlg_node *v);
void mlg_pl_push(mlg_pl *pl, mlg_node *seq, mlg_node *v);
/* line, col of a source node (a key, usually). */
void mlg_pl_set_pos(mlg_pl *pl, mlg_node *obj, const mlg_node *src);
/* line, col of the first key of a source mapping (of the node when empty). */
void mlg_pl_set_first_key_pos(mlg_pl *pl, mlg_node *obj, const mlg_node *map);

/* --- values ------------------------------------------------------------ */

/* Canonical text of a non-string scalar into buf; returns its length. */
size_t mlg_pl_canon(char *buf, size_t size, const mlg_node *n);

/* Aligns the text of scalar n (its string, or canonical text) with its
 * source bytes. m is initialised by the call; release with
 * mlg_pl_tmap_free. 0 or pl->rc. */
int mlg_pl_align(mlg_pl *pl, mlg_pl_tmap *m, const mlg_node *n, const char *txt,
                 size_t tlen);
void mlg_pl_tmap_free(mlg_pl_tmap *m);

/* The val object of scalar v held by key (key may be NULL). NULL for
 * collections and absent values (nothing recorded) or on failure. */
mlg_node *mlg_pl_val(mlg_pl *pl, const mlg_node *key, const mlg_node *v);
/* [kv] of a source mapping, memoized; NULL when n is no mapping. */
mlg_node *mlg_pl_kvs(mlg_pl *pl, const mlg_node *n);
/* Where the text of scalar v starts (see mlg_pl_val). 0 or pl->rc. */
int mlg_pl_val_start(mlg_pl *pl, const mlg_node *v, uint32_t *line, uint32_t *col);
/* [kv] of v (empty when v is no mapping), recording its expressions with
 * that field, each with its entry name. */
mlg_node *mlg_pl_kv_field(mlg_pl *pl, const mlg_node *v, mlg_pl_atom field);
/* obj[list_key] = mlg_pl_kv_field(v); when v is a string holding ${{ }}
 * also obj[expr_key] = its val (`env: ${{ fromJSON(...) }}`). */
void mlg_pl_set_kv(mlg_pl *pl, mlg_node *obj, mlg_pl_atom list_key, mlg_pl_atom expr_key,
                   const mlg_node *key, const mlg_node *v, mlg_pl_atom field);
/* "string", "bool", ... for a source node. */
mlg_pl_atom mlg_pl_vtype(const mlg_node *n);
/* A verbatim copy of a source subtree (sharing kept, positions kept). */
mlg_node *mlg_pl_raw(mlg_pl *pl, const mlg_node *n);
/* [val] of a scalar or a sequence of scalars (other items skipped);
 * *has_expr (may be NULL) is set when any item holds "${{". */
mlg_node *mlg_pl_vals(mlg_pl *pl, const mlg_node *key, const mlg_node *n, int *has_expr);
/* [string] of a scalar or a sequence of scalars. */
mlg_node *mlg_pl_strs(mlg_pl *pl, const mlg_node *n);

/* --- routes and expressions -------------------------------------------- */

/* Extends the current route by ".key" (or "key" at the top) or "[i]";
 * returns the length to restore with mlg_pl_route_pop. */
size_t mlg_pl_route_key(mlg_pl *pl, const mlg_node *key);
size_t mlg_pl_route_cstr(mlg_pl *pl, const char *key);
size_t mlg_pl_route_index(mlg_pl *pl, size_t i);
void mlg_pl_route_pop(mlg_pl *pl, size_t mark);
/* The current route as a model string. */
mlg_node *mlg_pl_route_node(mlg_pl *pl);

/* Records every ${{ }} in the strings of source subtree v (at the current
 * route) with that field; key: the entry name (with/env/outputs/secrets). */
void mlg_pl_exprs(mlg_pl *pl, const mlg_node *v, mlg_pl_atom field, const mlg_node *key);
/* The same for each entry of a mapping (key = entry name), or of v as a
 * whole when it is no mapping. */
void mlg_pl_exprs_entries(mlg_pl *pl, const mlg_node *v, mlg_pl_atom field);
/* An `if:` value: its ${{ }}, or the whole condition as one unfenced
 * expression. */
void mlg_pl_exprs_cond(mlg_pl *pl, const mlg_node *v);
/* [expr] in file order (the collected ones). */
mlg_node *mlg_pl_exprs_seq(mlg_pl *pl);

/* --- comments ------------------------------------------------------------ */

/* Finds every comment of the source (root: the parsed document, to tell
 * '#' inside quoted and block scalars apart). Fills pl->comments and
 * pl->comments_seq. */
int mlg_pl_scan_comments(mlg_pl *pl, const mlg_node *root);
/* Text of the comment on that line, or NULL. */
mlg_node *mlg_pl_comment_on(mlg_pl *pl, uint32_t line);

/* --- source helpers ------------------------------------------------------ */

/* Inline: builders compare every key with literals, whose lengths the
 * compiler then knows. */
static inline int mlg_pl_is_str(const mlg_node *n, const char *s)
{
  size_t k = strlen(s);
  return n && n->type == MLG_STR && n->u.str.len == k && memcmp(n->u.str.ptr, s, k) == 0;
}
int mlg_pl_is_scalar(const mlg_node *n);
/* 1 when n is a string holding "${{". */
int mlg_pl_has_expr(const mlg_node *n);

/* --- schema (pipeline_schema.c) ------------------------------------------ */

typedef struct mlg_pl_keyset {
  const char *const *keys;
  size_t n;
} mlg_pl_keyset;

extern const mlg_pl_keyset mlg_pl_keys_workflow, mlg_pl_keys_job, mlg_pl_keys_step;

/* Fails on the first key of map outside ks; what: "the workflow",
 * "job 'build'", ... */
int mlg_pl_check_keys(mlg_pl *pl, const mlg_node *map, const mlg_pl_keyset *ks,
                      const char *what);
int mlg_pl_check_workflow(mlg_pl *pl, const mlg_node *root);
int mlg_pl_check_job(mlg_pl *pl, const mlg_node *key, const mlg_node *job);
int mlg_pl_check_step(mlg_pl *pl, const mlg_node *step, const char *what);
int mlg_pl_check_action(mlg_pl *pl, const mlg_node *root);

/* --- model builders ------------------------------------------------------ */

int mlg_pl_build_workflow(mlg_pl *pl, const mlg_node *root, mlg_node *model);
int mlg_pl_build_action(mlg_pl *pl, const mlg_node *root, mlg_node *model);
int mlg_pl_build_dependabot(mlg_pl *pl, const mlg_node *root, mlg_node *model);
int mlg_pl_build_precommit(mlg_pl *pl, const mlg_node *root, mlg_node *model);

/* Shared between the workflow and action builders. The route must name v. */
mlg_node *mlg_pl_inputs(mlg_pl *pl, const mlg_node *v);
/* [step] of a `steps:` sequence; where: "job 'build'" or "the action". */
mlg_node *mlg_pl_steps(mlg_pl *pl, const mlg_node *v, const char *where);
mlg_node *mlg_pl_uses(mlg_pl *pl, const mlg_node *key, const mlg_node *v);
/* An image from "name:tag@digest" text at v (a string or a container
 * mapping); prefix_len bytes of the text are skipped ("docker://"). */
mlg_node *mlg_pl_image(mlg_pl *pl, const mlg_node *key, const mlg_node *v, size_t prefix_len);
/* Sets registry?, name, tag?, digest? and pin of image object o from the
 * reference text s (n bytes); expr: the text is computed at run time. */
void mlg_pl_image_parts(mlg_pl *pl, mlg_node *o, const char *s, size_t n, int expr);
/* Records the expressions of a container/service definition. */
void mlg_pl_container_exprs(mlg_pl *pl, const mlg_node *v);

#endif
