/*
 * GitLab CI model (kind = "gitlab-ci"): the shape mlg_gitlab_load() gives
 * a .gitlab-ci.yml after GitLab's own resolution steps, and the interface
 * between the files that build it:
 *   pipeline_gitlab.c          entry, files, top level, jobs and steps
 *   pipeline_gitlab_job.c      job keywords (images, artifacts, cache, ...)
 *   pipeline_gitlab_include.c  include: entries, reading local files
 *   pipeline_gitlab_merge.c    deep merge, extends:, !reference
 *   pipeline_gitlab_rules.c    rules:/only:/except: reachability, $[[ ]]
 *
 * ## Resolution (what GitLab does, in its order)
 * The file is parsed with YAML merge keys (`<<`) applied and every document
 * kept: a first document holding only `spec:` is the header (spec:inputs),
 * the second the configuration; without a header the first document is the
 * configuration and later ones are ignored (as GitLab does).
 *  1. include: local files are read through the reader (workspace paths,
 *     leading '/' or "./" dropped), recursively. Each file is resolved on
 *     its own first (its includes merged into it), then the included files
 *     are deep-merged in include order and the including file is merged
 *     over them: "hashes merged, everything else replaced", the including
 *     file winning. Key order is the order of that merge (Ruby's
 *     Hash#deep_merge): a key keeps the place where it first appeared, so
 *     jobs of included files come first, in include order, then the new
 *     jobs of the including file. Limits: 150 includes in all (every kind
 *     counts), nesting 100 deep; a file including itself (directly or not)
 *     is an error; the same file included twice is merged twice. Remote,
 *     project, template and component includes, and local paths holding
 *     '*' or '$', are recorded, not read (resolved = false). Include
 *     `rules:` are recorded, not evaluated: the file is merged as if they
 *     matched, so the model may hold jobs GitLab leaves out of some
 *     pipelines (never the reverse).
 *  2. extends: per top-level entry, parents resolved first (11 levels:
 *     a job and 10 ancestors), then deep-merged in list order and the job
 *     over them. Unknown parent, a cycle, a parent that is no mapping, too
 *     deep: located errors.
 *  3. !reference [.a, key, ...]: looked up in the extended configuration,
 *     resolved where it stands (nested references up to 10 levels); a
 *     reference that is an item of a sequence and names a sequence is
 *     spliced into it (GitLab flattens script and rules lists).
 *  4. Per job: the keywords of `default:` (image, services, before_script,
 *     after_script, cache, tags, artifacts, retry, timeout, interruptible,
 *     hooks, id_tokens) the job does not set, unless `inherit: default:`
 *     is false or a list without that keyword; the deprecated top-level
 *     image, services, before_script, after_script and cache act as
 *     defaults (with `default:` also setting one: error, as GitLab). Global
 *     `variables:` are inherited unless `inherit: variables:` says no; the
 *     job's own variables win.
 * The $[[ inputs.x ]] interpolations are NOT substituted.
 *
 * ## Model
 *   platform = "gitlab", kind = "gitlab-ci", path, line = 1, col = 1
 *   stages = [val]                declared stages (`stages:` or `types:`),
 *                                 empty when not declared (GitLab's default
 *                                 is .pre, build, test, deploy, .post)
 *   variables = [kv]              top-level variables; kv as in pipeline.h
 *                                 plus, for the {value, description, expand,
 *                                 options} form, description = val?,
 *                                 expand = val?, options = [val]? (value is
 *                                 the `value:` val); path when the entry
 *                                 comes from another file
 *   default = {line, col (of `default:`, or of the first deprecated
 *              top-level keyword when there is none), path?, container?
 *              (`image:`), services?, before_script = [val]?,
 *              after_script = [val]?, cache?, runs_on? (`tags:`),
 *              artifacts?, retry = raw?, timeout = val?, interruptible =
 *              val?, hooks = raw?, id_tokens = [kv]?}?   (shapes as for
 *              jobs; deprecated top-level image/services/before_script/
 *              after_script/cache included)
 *   workflow = {line, col, path?, name = val?, rules = [rule]}?
 *   includes = [include]          every include entry met, in the order
 *                                 they were processed (nested ones after
 *                                 the entry that brought them in)
 *     include = {line, col (of the entry: the first key of a mapping item,
 *                the string of a string item), path? (file holding the
 *                entry, when not the model's), kind = "local"|"project"|
 *                "remote"|"template"|"component", location = val (path,
 *                URL, project, template name, component address as
 *                written, @version included), ref = val? (project), files = [val]? (project
 *                `file:`), version = string? (component, after '@'),
 *                pin = "sha" (40 hex) | "short-sha" | "tag" (1.2.3, v1.2,
 *                v1.2.3-rc1) | "branch" (other names, main/master/HEAD) |
 *                "latest" (component ~latest) | "none" (project without
 *                ref, remote URL, component without @) | "local" |
 *                "expr" (holds '$'; for a component, in its version:
 *                $CI_SERVER_FQDN in the address does not count),
 *                inputs = [kv]?, rules = [rule]?,
 *                resolved = bool (a local file read and merged),
 *                file = workspace path of that file?, spec = spec?
 *                (its header, when it has one)}
 *     A string item is local when it does not start with http:// or
 *     https:// (then remote).
 *   spec = {line, col, inputs = [input]}?   the header of the main file
 *     input = {name, line, col, type = string? (as written; absent means
 *              GitLab's "string"), default = val?, options = [val]?,
 *              regex = val?, description = val?}
 *   templates = [job]             hidden jobs (".name") that are mappings,
 *                                 modelled as jobs after extends and
 *                                 references (hidden = true, no reach,
 *                                 nothing inherited: env holds their own
 *                                 variables only, no default: keywords)
 *   jobs = [job]                  visible jobs, in resolved key order (1.)
 *   exprs = [expr]                every $[[ ]] of the jobs (as resolved:
 *                                 inherited values are listed per job that
 *                                 runs them), of stages, variables and
 *                                 workflow, and of every file's include
 *                                 entries (route "include[i]..." in that
 *                                 file); not of templates or default: (met
 *                                 through the jobs); sorted by file (main
 *                                 first, then in reading order) and offset
 *   comments = [{line, col, text, path?}]   every comment of every file
 *
 *   job = {id, line, col (of the job key), route = "jobs.<id>", path
 *          (file of the job key: where the winning definition is),
 *          hidden = bool,
 *          stage = val?, extends = [string]?, when = val?,
 *          allow_failure = val? (a boolean) | {exit_codes = [val], line,
 *          col}?, rules = [rule]?,
 *          only = {line, col, refs = [val], variables = [val], changes =
 *                  [val], kubernetes = val?}?, except = (same)?,
 *          needs = [{job = string?, line, col, artifacts = bool?,
 *                    optional = bool?, project = val?, ref = val?,
 *                    pipeline = val?}]?,
 *          dependencies = [val]?,
 *          artifacts = {line, col, paths = [val], exclude = [val]?,
 *                       untracked = val?, when = val?, expire_in = val?,
 *                       name = val?, expose_as = val?, public = val?,
 *                       reports = {<report> = [val], ...}?}?,
 *          cache = [{line, col, key = val? (a string key), key_files =
 *                    [val]? (key: files:), key_prefix = val?, paths = [val],
 *                    policy = val?, untracked = val?, when = val?,
 *                    fallback_keys = [val]?}]?   (one mapping or a list)
 *          parallel = {line, col, count = val?, matrix = [raw]?}?,
 *          trigger = {line, col, project = val?, branch = val?,
 *                     include = raw?, strategy = val?,
 *                     forward = {yaml_variables = val?,
 *                                pipeline_variables = val?}?}?,
 *          resource_group = val?, retry = raw?, timeout = val?,
 *          interruptible = val?, coverage = val?, start_in = val?,
 *          id_tokens = [kv]? (value: the `aud:` val), secrets = [kv]?
 *          (value nil, vtype "map"), hooks = raw?, release = raw?,
 *          inherit = {line, col, default = bool | [string],
 *                     variables = bool | [string]}?,
 *          runs_on = {labels = [val], line, col (of `tags:`)}?,
 *          container = image? (`image:` string, or its `name:` with
 *                    entrypoint = [val]?, pull_policy = [val]?; the image
 *                    object of pipeline.h; pin "expr" when the name holds
 *                    '$'),
 *          services = [{name (the image text), line, col (of the image
 *                    string), image, alias = val?, entrypoint = [val]?,
 *                    command = [val]?}]?,
 *          env = [kv] (the job's variables over the inherited global ones:
 *                global entries first in their order, then the job's own;
 *                a job variable replaces the global of the same name),
 *          environment = {line, col, name = val?, url = val?, action =
 *                    val?, deployment_tier = val?}?,
 *          reach = {merge_request, fork, branch, default_branch, tag,
 *                   schedule, manual, api, trigger = bool} (visible jobs),
 *          steps = [step]}
 *     Inherited values (default:, globals, extends parents, references)
 *     keep their own positions and, when from another file, `path`.
 *   step = {index (1-based over the job), line, col (of the script line),
 *           route = "jobs.<id>.<section>[i]" (i counts the flattened
 *           section from 0), job, path (file of the line), run = val,
 *           shell = "sh", section = "before_script"|"script"|
 *           "after_script"}   in execution order; nested script lists are
 *           flattened as GitLab does.
 *   rule = {line, col (first key of the rule), path?, cond = val? (`if:`),
 *           changes = [val]?, exists = [val]?, when = val?,
 *           allow_failure = val?, variables = [kv]?, needs = raw?,
 *           start_in = val?}
 *   expr = {text (between "$[[" and "]]", trimmed), line, col (of "$["),
 *           end_line, end_col (exclusive, after "]]"), offset, end_offset,
 *           field = "script"|"image"|"variables"|"rules"|"environment"|
 *           "inputs"|"name"|"other", key? (variable name), route, job?,
 *           step? (index of the step holding it), path? (other file),
 *           syntax = "gitlab-input", input? (NAME of "inputs.NAME"),
 *           fenced = true}
 *
 * ## reach
 * For each pipeline kind, whether the job may run in it (true unless the
 * configuration rules it out; unknown conditions count as "may"):
 *   merge_request  CI_PIPELINE_SOURCE "merge_request_event", MR variables
 *                  set, source project = project (same-project MR)
 *   fork           the same, source project differs (CI_MERGE_REQUEST_
 *                  SOURCE_PROJECT_ID/PATH != CI_MERGE_REQUEST_PROJECT_ID/
 *                  CI_PROJECT_PATH)
 *   branch         "push" to a branch other than the default
 *   default_branch "push" to the default branch
 *   tag            "push" of a tag
 *   schedule       "schedule"; manual: "web"; api: "api"; trigger:
 *                  "trigger", "pipeline" or "parent_pipeline" (these four
 *                  on a branch, the default branch or a tag)
 * In MR pipelines CI_COMMIT_BRANCH and CI_COMMIT_TAG are unset; in branch
 * pipelines CI_COMMIT_TAG and CI_MERGE_REQUEST_* are unset, and so on;
 * CI_COMMIT_BRANCH, CI_COMMIT_REF_NAME and CI_DEFAULT_BRANCH are known to
 * be equal or different but their text is unknown; every other variable
 * is unknown. `if:` is evaluated in three-valued logic; `changes:` and
 * `exists:` are unknown. workflow:rules decide which pipelines exist (no
 * match: none); a job's rules: first matching rule wins, `when: never`
 * excludes, no match excludes; job `when: never` excludes. Without rules,
 * only and except, a job has GitLab's default `only: [branches, tags]`
 * (so no MR pipelines) unless workflow:rules exist (then it runs in every
 * pipeline the workflow creates). only/except refs: branches, tags,
 * merge_requests, schedules, web, api, triggers, pipelines, pushes,
 * external_pull_requests, chat; names and /regex/ are unknown;
 * only:variables are `if:` expressions (any true), except:variables
 * likewise; changes and kubernetes unknown.
 *
 * ## Validation (MLG_EPARSE, "FILE:LINE:COL: message", FILE the file
 * holding the fault): YAML errors, duplicate keys, an empty or non-mapping
 * configuration, include errors (missing local file, cycle, limits,
 * malformed entry), extends and !reference errors, job keywords GitLab does
 * not know ("jobs:build config contains unknown keys: scirpt (accepted:
 * ...)"), a visible job without script, run or trigger, a job that is no
 * mapping, script/before_script/after_script that are no string or list
 * of strings, a stage not declared, unknown keys in default:, a keyword in
 * both default: and the top level, `if:` expressions that do not parse.
 * Hidden jobs are not validated (GitLab does not).
 *
 * Limits: model arena 64 bytes per input byte (all files) plus 8 MiB, the
 * visit budget of pipeline_val.h, 150 includes, 64 MiB of included text.
 */
#ifndef MLG_GITLAB_H
#define MLG_GITLAB_H

#include <stddef.h>

#include "pipeline_val.h"
#include "strtab.h"

#define MLG_GL_MAX_INCLUDES 150
#define MLG_GL_MAX_INCLUDE_DEPTH 100
#define MLG_GL_MAX_EXTENDS 10 /* ancestors of a job */
#define MLG_GL_MAX_REFS 10    /* nested !reference */
#define MLG_GL_MAX_INCLUDED_BYTES ((size_t)64 << 20)

/* One source file: the main one is files[0]. */
typedef struct mlg_gl_file {
  char *path;           /* workspace path (or the model's name) */
  char *text;           /* owned for included files */
  size_t len;
  mlg_doc *doc;         /* its parse */
  mlg_node *root;       /* the configuration document */
  mlg_node *spec;       /* the header's `spec:` value, or NULL */
  mlg_node *spec_key;
  mlg_node *pathnode;   /* path as a model string (files other than 0) */
  int lf_only;
} mlg_gl_file;

/* An expression found, for sorting. */
typedef struct mlg_gl_expr {
  size_t file, off, seq;
  mlg_node *node;
} mlg_gl_expr;

typedef struct mlg_gl {
  mlg_pl pl;
  mlg_err *err;
  mlg_gl_file *files;
  size_t nfiles, capfiles;
  size_t cur;              /* file whose text pl->text is */
  size_t included_bytes;
  mlg_pl_memo owner;       /* source node -> file index + 1 (files > 0) */
  mlg_pipeline_reader rd;
  void *rd_ud;
  mlg_doc *work;           /* merged containers */
  size_t nincludes;        /* include entries met */
  mlg_node *includes;      /* model: [include] */
  mlg_node *config;        /* resolved top level (after 1.-3.) */
  mlg_mapkeys config_keys;
  mlg_pl_memo refs;        /* !reference resolution memo */
  const mlg_node *reference_stack[MLG_GL_MAX_REFS + 2];
  size_t nreference;
  mlg_gl_expr *exprs;
  size_t nexprs, capexprs;
  mlg_node *comments;      /* model: every comment */
  mlg_pl_memo aligns;      /* string node -> its text map (exprs) */
  size_t ngl_steps;        /* step index being modelled (for exprs) */
} mlg_gl;

/* --- pipeline_gitlab.c ------------------------------------------------- */

/* File of a source node (0 for the main file and built nodes). */
size_t mlg_gl_file_of(mlg_gl *g, const mlg_node *n);
/* Makes pl->text/len/name those of the file holding n. */
void mlg_gl_use(mlg_gl *g, const mlg_node *n);
/* Located error at n, in its file. Returns the code. */
int mlg_gl_fail(mlg_gl *g, const mlg_node *n, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));
/* val of scalar v (NULL for collections), with `path` from another file. */
mlg_node *mlg_gl_val(mlg_gl *g, const mlg_node *key, const mlg_node *v);
/* [val] of a scalar or of the scalars of a (nested) sequence. */
mlg_node *mlg_gl_vals(mlg_gl *g, const mlg_node *key, const mlg_node *v);
/* [string] of a scalar or sequence of scalars. */
mlg_node *mlg_gl_strs(mlg_gl *g, const mlg_node *v);
/* [kv] of a variables-like mapping (values may be {value:, ...}). */
mlg_node *mlg_gl_kvs(mlg_gl *g, const mlg_node *v);
/* line, col of src (+ path when from another file). */
void mlg_gl_set_pos(mlg_gl *g, mlg_node *obj, const mlg_node *src);
void mlg_gl_set_path(mlg_gl *g, mlg_node *obj, const mlg_node *src);
/* Replaces obj[key] (appends when absent). */
void mlg_gl_replace(mlg_gl *g, mlg_node *obj, mlg_pl_atom key, mlg_node *v);
/* Source-map lookup by key (mapping of any size). */
const mlg_pair *mlg_gl_find(const mlg_node *map, const char *key);
const mlg_node *mlg_gl_get(const mlg_node *map, const char *key);
/* Parses a file's text into f (spec header split). 0 or the code. */
int mlg_gl_parse(mlg_gl *g, mlg_gl_file *f);
/* Adds a file (path copied, text taken over). NULL on failure. */
mlg_gl_file *mlg_gl_add_file(mlg_gl *g, const char *path, char *text, size_t len);

/* --- pipeline_gitlab_job.c -------------------------------------------- */

mlg_node *mlg_gl_image(mlg_gl *g, const mlg_node *key, const mlg_node *v);
mlg_node *mlg_gl_services(mlg_gl *g, const mlg_node *key, const mlg_node *v);
mlg_node *mlg_gl_artifacts(mlg_gl *g, const mlg_node *key, const mlg_node *v);
mlg_node *mlg_gl_cache(mlg_gl *g, const mlg_node *key, const mlg_node *v);
mlg_node *mlg_gl_runs_on(mlg_gl *g, const mlg_node *key, const mlg_node *v);
mlg_node *mlg_gl_rules(mlg_gl *g, const mlg_node *v);
mlg_node *mlg_gl_only(mlg_gl *g, const mlg_node *key, const mlg_node *v);
mlg_node *mlg_gl_needs(mlg_gl *g, const mlg_node *v);
mlg_node *mlg_gl_environment(mlg_gl *g, const mlg_node *key, const mlg_node *v);
mlg_node *mlg_gl_trigger(mlg_gl *g, const mlg_node *key, const mlg_node *v);
mlg_node *mlg_gl_parallel(mlg_gl *g, const mlg_node *key, const mlg_node *v);
mlg_node *mlg_gl_inherit(mlg_gl *g, const mlg_node *key, const mlg_node *v);
mlg_node *mlg_gl_id_tokens(mlg_gl *g, const mlg_node *v);
mlg_node *mlg_gl_spec(mlg_gl *g, const mlg_node *key, const mlg_node *v);
/* Sets obj[atom] for the job/default keyword k (value v) that both jobs
 * and `default:` have; 1 when k was one of them. */
int mlg_gl_common_key(mlg_gl *g, mlg_node *obj, const mlg_node *k, const mlg_node *v);

/* --- pipeline_gitlab_include.c ------------------------------------------ */

/* Resolves the includes of file fi (its root), depth levels down; *out is
 * the file's configuration with its includes merged in (the root itself
 * when it has none). stack: the files being resolved (cycle check). */
int mlg_gl_includes(mlg_gl *g, size_t fi, size_t depth, size_t *stack, mlg_node **out);

/* --- pipeline_gitlab_merge.c -------------------------------------------- */

/* Deep merge (ActiveSupport's): maps merged key by key, b winning; a and
 * b are not changed. */
mlg_node *mlg_gl_merge(mlg_gl *g, const mlg_node *a, const mlg_node *b, size_t depth);
/* A copy of map without the key `skip` (NULL: a shallow copy). */
mlg_node *mlg_gl_without(mlg_gl *g, const mlg_node *map, const char *skip);
/* Applies extends: to every entry of g->config (replacing entries). */
int mlg_gl_extends(mlg_gl *g);
/* Resolves every !reference in g->config. */
int mlg_gl_references(mlg_gl *g);

/* --- pipeline_gitlab_rules.c -------------------------------------------- */

/* Which pipelines can run a job (resolved job mapping, workflow mapping or
 * NULL); reach object, or NULL with the error recorded. */
mlg_node *mlg_gl_reach(mlg_gl *g, const mlg_node *job, const mlg_node *workflow);
/* Checks that every `if:` of rules in v parses (located error). */
int mlg_gl_check_rules(mlg_gl *g, const mlg_node *rules, const char *where);
/* Records the $[[ ]] of source subtree v at the current route. */
void mlg_gl_exprs(mlg_gl *g, const mlg_node *v, mlg_pl_atom field, const mlg_node *key);
/* [expr], sorted. */
mlg_node *mlg_gl_exprs_seq(mlg_gl *g);

#endif
