/*
 * The typed pipeline model: CI definitions parsed once, in C, into a
 * platform-neutral tree that pipeline-gate policies read through
 * mlgate.pipeline.load(path). GitHub Actions workflows and actions,
 * Dependabot and pre-commit configs come from pipeline_gha*.c; GitLab CI
 * and Jenkins builders (next) produce the same shape where the concepts
 * exist (jobs, steps/scripts, images, variables, triggers).
 *
 * The model is an mlg_node tree (maps, sequences, scalars) in its own
 * document, so it crosses into Lua with the generic lazy converter and is
 * cached per file in the evaluating child. Keys are snake_case; an absent
 * optional key is absent, never null. Every object that a finding may point
 * at carries `line` and `col` (1-based, of its key unless said otherwise)
 * and, for jobs, steps and expressions, a `route` ("jobs.build.steps[2]",
 * steps counted from 0 as zizmor does) that names it.
 *
 * ## Value objects (`val`)
 * Scalars a rule may search or point into are objects, not bare strings:
 *   {text, line, col, offset, end_offset, style, map?, key_line, key_col}
 * text: the scalar's value as YAML gives it (booleans and numbers as written
 * in canonical form: "true", "3"); line/col/offset: where the value's first
 * character is in the file (for block scalars `|`/`>` the first content
 * line, not the indicator); style: "plain", "single", "double", "literal",
 * "folded"; map: present when the value spans several source lines (or
 * holds escapes), a flat integer sequence {text_off, line, col, text_off,
 * line, col, ...} (text_off 0-based bytes into text, ascending, the first
 * 0) giving the file position at each point where the text continues on a
 * new source line or after an escape ('' or \x), so that the file position
 * of any text offset is the last entry at or before it plus the distance
 * (columns: the characters of text between them; bytes: the bytes). Exact
 * for every style wherever the text holds the file's own characters (not
 * inside an escape, not on a space or line break that folding made); a
 * value whose text cannot be aligned with its source (not seen in practice)
 * has no map. Block scalars: line/col is the first content character;
 * their map starts at the first line after the indicator. offset,
 * end_offset: file bytes of the first character and after the last.
 * key_line/key_col: the key holding the value (for list items, the key of
 * the list). A value reached through a YAML alias has the position of the
 * anchored text and the key of the alias.
 *
 * ## Key/value lists (`kv`), used for env, with, outputs, secrets, inputs
 *   [{name, value = val | nil (containers), vtype = "string"|"bool"|"int"|
 *     "float"|"null"|"map"|"seq", line, col (of the key)}] in file order.
 *   A kv list of a mapping reached twice through an alias is the same list.
 *
 * ## GitHub Actions workflow (kind = "workflow")
 *   platform = "github", kind, path, line = 1, col = 1
 *   name = val?                        top-level name
 *   on = {line, col, events = [event], names = {push = true, ...}}
 *     event = {name, line, col, types = [string]?, branches, branches_ignore,
 *              tags, tags_ignore, paths, paths_ignore = [string]?,
 *              inputs = [input]? (workflow_dispatch, workflow_call),
 *              secrets = [kv]? and outputs = [kv]? (workflow_call),
 *              crons = [val]? (schedule), workflows = [string]? (workflow_run)}
 *     input = {name, line, col, type?, required = bool? (when written as a
 *              boolean), default = val?, options = [string]?,
 *              description = val?}
 *   permissions = perm?                absent when the key is absent
 *     perm = {line, col, kind = "read-all"|"write-all"|"none" (`{}`)|"map"|
 *             "expr"|"invalid", scopes = [{name, level, line, col,
 *             comment?}], levels = {contents = "read", ...}}
 *             comment: text of a comment on the scope's line, without '#'
 *             and surrounding blanks; level: the value as text ("" for null)
 *   env = [kv]?  defaults = {shell = val?, working_directory = val?, line, col}?
 *   env_expr = val?                    `env: ${{ ... }}` (the whole mapping is an
 *                                      expression; env is then empty); likewise
 *                                      env_expr on jobs, steps and action runs,
 *                                      and with_expr on steps and reusable calls
 *   concurrency = {group = val?, cancel_in_progress = val?, line, col}?
 *   jobs = [job]
 *   exprs = [expr]                     every ${{ }} in the file, file order
 *   comments = [{line, col, text}]     every comment (for suppressions);
 *                                      col of '#', text without it, trimmed
 *
 *   job = {id, line, col, route = "jobs.<id>", name = val?,
 *          kind = "normal"|"reusable",
 *          runs_on = {labels = [val], group = val?, line, col, expr = bool}?,
 *          permissions = perm?, env = [kv]?, defaults?, concurrency?,
 *          cond = val? (`if:` as written), needs = [string]?,
 *          environment = {name = val?, url = val?, line, col}?,
 *          container = image?, services = [{name, line, col, image = image}]?,
 *          strategy = {line, col, matrix = {line, col, expr = bool,
 *                      keys = {name = [val]}, include = [raw], exclude = [raw]}?,
 *                      fail_fast = val?}?,
 *            (matrix.expr: the matrix, one of its dimensions, include or
 *            exclude is itself a ${{ }} string, computed at run time; a
 *            dimension lists its scalar items; include/exclude written as
 *            one expression are a one-item list; raw = the YAML as is)
 *          outputs = [kv]?, timeout_minutes = val?, continue_on_error = val?,
 *          uses = uses? (reusable), with = [kv]?,
 *          secrets = {line, col, inherit = bool, items = [kv]}?,
 *          steps = [step] (empty for reusable calls)}
 *   step = {index (1-based), line, col (of its first key), route, job = id?,
 *           id = val?, name = val?, cond = val?, uses = uses?, run = val?,
 *           shell = val?, working_directory = val?, with = [kv]?, env = [kv]?,
 *           continue_on_error = val?, timeout_minutes = val?}
 *     The steps of a `parallel:` group take its place in the list (numbered
 *     on; route "jobs.j.steps[2].parallel[0]"). Steps reached twice
 *     through an alias are modelled twice (own index, route and job) and
 *     point at the same lines.
 *   uses = {raw, line, col (of the value text), key_line, kind =
 *           "action"|"reusable"|"docker"|"local"|"invalid", owner?, repo?,
 *           subpath?, ref?, pin = "sha"|"short-sha"|"tag"|"branch"|"none"|
 *           "local"|"expr" (actions: "tag" for version-like refs such as
 *           v4, v1.2.3, 2.0; "branch" otherwise — a guess offline), image =
 *           image? (docker), comment? (text of a comment on that line)}
 *     owner/repo/ref: "owner/repo[/subpath][@ref]" (no '@': pin "none");
 *     kind "reusable" when subpath is .github/workflows/NAME.y{a,}ml; local
 *     ("./path"): subpath = the path after "./"; docker: no owner/repo/ref,
 *     pin from the image: "sha" (digest), "tag", "branch" (":latest"),
 *     "none" (no tag), "expr"; anything containing ${{ is pin "expr".
 *   image = {raw, line, col, registry?, name, tag?, digest?, pin = "digest"|
 *            "tag"|"latest" (`:latest` or no tag)|"expr"|"none" (empty),
 *            credentials = {username = val?, password = val?, line, col}?,
 *            env = [kv]?, options = val?}
 *            (a plain `container: python:3` string is an image with the
 *            position of that string; a `container:` mapping takes the
 *            position of its `image:` value)
 *   expr = {text (inside the braces, as written), line, col (of "${{"),
 *           end_line, end_col, offset, end_offset (file bytes, after "}}"),
 *           field (the key whose value holds it: "run", "with", "env",
 *           "if", "name", "uses", "runs-on", "image", "environment",
 *           "concurrency", "outputs", "secrets", "matrix", "inputs",
 *           "default", "args", "entrypoint", "working-directory", "shell",
 *           "other"), key? (the entry name for with/env/outputs/secrets),
 *           route (of the containing value, e.g.
 *           "jobs.build.steps[1].with.script"), job = id?, step = index?,
 *           fenced = bool (written as ${{ }}; false for a bare `if:`)}
 *     An `if:` without ${{ }} becomes one expr with fenced = false whose
 *     text is the whole condition (as is, its position that of the value
 *     text). end_col is exclusive. `run-name` expressions have field
 *     "name"; job/step `if`, action `pre-if`/`post-if` have "if"; an
 *     expression reached through an alias is listed once per route. A
 *     ${{ never closed runs to the end of its value. text: the decoded
 *     YAML string between the braces.
 *
 * ## GitHub action (kind = "action", action.yml / action.yaml)
 *   platform, kind, path, name = val?, description = val?,
 *   inputs = [input], outputs = [kv],
 *   runs = {line, col, using = val, main = val?, pre = val?, post = val?,
 *           image = image? (docker://...) | val ("Dockerfile"),
 *           entrypoint = val?, args = [val]?, env = [kv]?, steps = [step]},
 *   steps = the same list as runs.steps (composite; empty otherwise),
 *   exprs, comments. inputs and outputs are present (maybe empty); steps
 *   have no `job`; routes start at "runs.steps[0]".
 *
 * ## Dependabot (kind = "dependabot", .github/dependabot.y{a,}ml)
 *   version = val, updates = [{line, col, ecosystem = val, directory = val?,
 *     directories = [val]?, schedule = {interval = val?, line, col}?,
 *     cooldown = {line, col, default_days = val?, semver_major_days = val?,
 *                 semver_minor_days = val?, semver_patch_days = val?}?,
 *     insecure_external_code_execution = val?, registries = [val]?,
 *     groups = [{name, line, col}]?}],
 *   registries = [{name, line, col, type = val?, url = val?}], comments
 *
 * ## pre-commit (kind = "precommit", .pre-commit-config.y{a,}ml)
 *   repos = [{line, col, repo = val, rev = val?, hooks = [{id = val, line,
 *            col}]}], comments
 *
 * ## GitLab CI (kind = "gitlab-ci") and Jenkins (kind = "jenkinsfile")
 * Their full shape is documented in gitlab.h and jenkins.h. They share
 * with workflows what cross-platform rules read, so one policy can cover
 * all three platforms:
 *   platform = "gitlab" | "jenkins", kind, path, line = 1, col = 1,
 *   jobs = [job], exprs = [expr], comments = [{line, col, text}]
 *   job = {id, line, col, route, path (the file that defines it, which
 *          for GitLab may be an included file), name = val?,
 *          runs_on = {labels = [val], line, col}? (GitLab `tags:`, Jenkins
 *          agent label / node('label')), container = image? (GitLab
 *          `image:`, Jenkins docker agent / docker.image().inside),
 *          services = [{name, line, col, image}]?, env = [kv]? (GitLab
 *          `variables:`, Jenkins `environment {}`), environment =
 *          {name = val?, url = val?, line, col}? (deploy target),
 *          reach = {merge_request, fork, branch, default_branch, tag,
 *          schedule, manual, api, trigger = bool} (which pipelines can run
 *          the job, as far as rules/when say; all true when unknown),
 *          steps = [step]}
 *   step = {index (1-based), line, col, route, job = id, path,
 *           run = val (one shell script: a GitLab script line, a Jenkins
 *           sh/bat/powershell string), shell = "sh"|"bat"|"powershell"|
 *           "pwsh"|..., section? (GitLab "before_script"|"script"|
 *           "after_script")}
 *   expr = as for workflows plus syntax = "gitlab-input" ($[[ inputs.x ]])
 *          or "groovy" (GString ${...} / $name inside a Jenkins string);
 *          workflow and action exprs have no syntax (GitHub's ${{ }}).
 *   val, kv and image objects are those above; a value that comes from a
 *   file other than the model's path carries `path`.
 *
 * Validation: the loader refuses (MLG_EPARSE, "NAME:LINE:COL: message")
 * what GitHub itself would refuse to run: invalid YAML, an empty document,
 * a top level that is not a mapping, unknown keys at workflow, job and
 * step level (with the accepted keys in the message), a workflow without
 * `on` or `jobs`, a job with neither `runs-on` nor `uses`, a step with
 * neither or both of `uses`/`run`, an action without `runs.using`,
 * duplicate mapping keys, and shapes nothing can run (`jobs` or a job or
 * step that is no mapping, `steps` that is no sequence). Unknown keys at
 * the top of an action are accepted, as GitHub's runner ignores them. What
 * GitHub accepts but is questionable is left to policies (pipeline/schema
 * reports it). YAML merge keys (`<<`) are not applied (GitHub does not),
 * so `<<:` in a job is an unknown key.
 *
 * Limits: the model's arena may hold 64 bytes per input byte plus 8 MiB
 * and modelling visits at most 8 Mi source nodes; aliases that expand past
 * either give MLG_ELIMIT with a located message. Loading is linear in the
 * input plus the size of the model.
 */
#ifndef MLG_PIPELINE_H
#define MLG_PIPELINE_H

#include <stddef.h>

#include "err.h"
#include "node.h"

typedef enum mlg_pipeline_kind {
  MLG_PK_UNKNOWN = 0, /* not a CI definition this loader knows */
  MLG_PK_GHA_WORKFLOW,
  MLG_PK_GHA_ACTION,
  MLG_PK_DEPENDABOT,
  MLG_PK_PRECOMMIT,
  MLG_PK_GITLAB, /* .gitlab-ci.yml (pipeline_gitlab*.c, gitlab.h) */
  MLG_PK_JENKINS /* Jenkinsfile (pipeline_jenkins*.c, jenkins.h) */
} mlg_pipeline_kind;

/* Reads another workspace file for a loader that follows references
 * (GitLab `include: local`): path is workspace-relative, without a leading
 * '/'. Fills *data (malloc'd, the caller frees) and *len; returns 0,
 * MLG_ENOENT when there is no such file, or another negative code with
 * the message in err. Reading must refuse paths outside the workspace. */
typedef int (*mlg_pipeline_reader)(void *ud, const char *path, char **data, size_t *len,
                                   mlg_err *err);

/* The kind a workspace path names (".github/workflows/x.yml",
 * "sub/action.yaml", ".github/dependabot.yml", ".pre-commit-config.yaml"),
 * or MLG_PK_UNKNOWN. */
mlg_pipeline_kind mlg_pipeline_kind_of_path(const char *path);

/* Parses and models one file. kind: from the path, or MLG_PK_UNKNOWN to
 * decide by content (a mapping with `jobs` is a workflow, with `runs` an
 * action, with `updates` a Dependabot config, with `repos` a pre-commit
 * config); a document that is none of them, or no YAML at all, is
 * MLG_ENOENT with *out NULL (not an error for callers judging arbitrary
 * YAML files). On success *out is a new document whose root is the model
 * (it does not refer to text). name: used in messages and stored as
 * `path`. */
int mlg_pipeline_load(mlg_doc **out, const char *text, size_t len, const char *name,
                      mlg_pipeline_kind kind, mlg_err *err);

/* mlg_pipeline_load with a reader for the files a definition includes
 * (NULL: includes are recorded but not resolved). */
int mlg_pipeline_load_ex(mlg_doc **out, const char *text, size_t len, const char *name,
                         mlg_pipeline_kind kind, mlg_pipeline_reader rd, void *rd_ud,
                         mlg_err *err);

/* The GitLab CI and Jenkins loaders (their own files); same contract as
 * mlg_pipeline_load_ex for their kind. */
int mlg_gitlab_load(mlg_doc **out, const char *text, size_t len, const char *name,
                    mlg_pipeline_reader rd, void *rd_ud, mlg_err *err);
int mlg_jenkins_load(mlg_doc **out, const char *text, size_t len, const char *name,
                     mlg_err *err);

/* The model's kind name: "workflow", "action", "dependabot", "precommit",
 * "gitlab-ci", "jenkinsfile". */
const char *mlg_pipeline_kind_name(mlg_pipeline_kind kind);

#endif
