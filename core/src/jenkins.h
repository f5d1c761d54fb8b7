/*
 * The Jenkinsfile model (kind = "jenkinsfile"), built by
 * mlg_jenkins_load() (pipeline.h) from the tokens of groovy.h. It reads
 * the shapes below and skips anything else with a note, so unknown Groovy
 * never fails a load; only what the tokenizer refuses (an unterminated
 * string or comment, unbalanced brackets such as an unclosed
 * `pipeline {`) and the limits are errors.
 *
 * Values. A `val` is as in pipeline.h: {text, line, col, offset,
 * end_offset, style, map?}, where style is "single", "double",
 * "triple-single", "triple-double", "slashy", "dollar-slashy" for string
 * literals (text decoded; GStrings keep their ${...} and $name parts as
 * written, so a shell lexer sees them), "plain" for numbers, true, false
 * and null, and "code" for any other expression (text: its source as
 * written, cut at 4096 bytes; no map). line/col/offset: the first
 * character of the text (inside the quotes); end_offset: after the last;
 * map: {text_off, line, col, ...} points where the text continues on a
 * new source line or after an escape. `args` lists are
 *   [{name?, value = val}] (name: the key of a named argument).
 *
 * ## Top
 *   platform = "jenkins", kind = "jenkinsfile", path, line = 1, col = 1,
 *   style = "declarative" (a `pipeline { }` block) | "scripted",
 *   libraries = [{line, col (of the '@' of @Library, of `library`), raw =
 *     val, name, ref?, pin = "sha" (40 hex) | "tag" (version-like: v1,
 *     1.2.3) | "branch" | "none" (no @ref: the default branch) | "expr"
 *     (a GString with interpolation), form = "@Library" | "library" |
 *     "identifier" (`library identifier: ...`) | "libraries" (the
 *     declarative `libraries { lib('x') }`)}],
 *   agent = agent? (the pipeline's), environment = [kv]?, parameters =
 *   [{name, type (string, booleanParam, choice, password, text, ...),
 *     line, col, default = val? (defaultValue; for choice the first
 *     choice)}]?, triggers = [{name, line, col, args}]?, options = [{name,
 *   line, col, args}]?, jobs = [job], post = [{condition, line, col, steps
 *   = [step]}]? (the pipeline's; the same step objects as in the "(post)"
 *   job), exprs = [expr], comments = [{line, col, text}] (// and block
 *   comments and a #! line: col of the marker, text without markers,
 *   trimmed), notes = [{line, col, text}] (what was skipped and why),
 *   loads = [{path = val, line, col}] (`load 'x.groovy'`).
 *
 *   agent = {kind = "any"|"none"|"label"|"node"|"docker"|"dockerfile"|
 *            "kubernetes"|"unknown", line, col (of the `agent` keyword),
 *            label = val?, image = image? (docker), args = val?}
 *   image = {raw, line, col, registry?, name, tag?, digest?, pin} as in
 *           pipeline.h (docker agents, `docker.image('x')`); line/col of
 *           the first character of the reference; pin "expr" for a
 *           GString with interpolation.
 *   kv (environment, job env) = {name, value = val, vtype = "string"|
 *        "int"|"float"|"bool"|"null"|"expr", line, col (of the name),
 *        credential = true? (`credentials('id')`: value is the id)}
 *
 * ## Jobs
 * One job per declarative stage that has `steps` (stages nested in
 * `stages`, `parallel` and `matrix` flattened), per scripted
 * `stage('X') { }` (or `stage 'X'`, which runs to the end of its block),
 * "(no stage)" for scripted steps and calls outside any stage, "(post)"
 * for the pipeline's post conditions.
 *   job = {id (the stage name; its source text when not a literal),
 *          line, col (of `stage`), route (`stages["Build"]`,
 *          `stages["Test"].parallel["unit"]`, `stages["T"].stages["x"]`,
 *          `stages["C"].matrix.stages["x"]`, `stages["(no stage)"]`,
 *          `post`), path, name = val?,
 *          agent = agent? (the stage's, else the pipeline's),
 *          runs_on = {labels = [val], line, col (of `label`/`node`)}? (the
 *            stage agent's label, else the pipeline's, else the enclosing
 *            node('label')),
 *          container = image? (docker agent, enclosing
 *            docker.image('x').inside),
 *          env = [kv]? (pipeline, then stage environment, then enclosing
 *            withEnv entries),
 *          when = {change_request = bool? (false under not), branches =
 *            [val]?, tag = bool? (tag / buildingTag()), expression = val?,
 *            raw (the block's source), line, col}? (the stage's own),
 *          reach = {merge_request, fork, branch, default_branch, tag,
 *            schedule, manual, api, trigger = bool}: changeRequest()
 *            (alone or in allOf, also in an enclosing stage) leaves only
 *            merge_request and fork; branch 'x' and not { changeRequest() }
 *            remove them; tag / buildingTag() leave tag, manual, api,
 *            trigger; everything else (scripted `if`) keeps all true,
 *          input = {line, col}? (a stage `input { }` or an `input` step),
 *          credentials = [{id = val, kind (string, usernamePassword, file,
 *            sshUserPrivateKey, ..., the [$class: 'X'] name, "unknown"
 *            for environment credentials()), variables = [string], line,
 *            col, via = "withCredentials"|"environment"}] (every
 *            credential in scope anywhere in the stage),
 *          steps = [step], calls = [call]}
 *   step = {index (1-based in the job), line, col (of the step name),
 *           route (job route, `.post.<condition>` in a post block,
 *           `.steps[index-1]`), job = id, path, run = val, shell = "sh"|
 *           "bat"|"powershell"|"pwsh", interp = bool (a GString with
 *           interpolation, or a script that is no literal at all: style
 *           "code"), credentials = [string]? (the variables bound by the
 *           enclosing withCredentials and environment credentials();
 *           NAME_USR and NAME_PSW too for environment credentials),
 *           post = condition? (stage post blocks)}
 *     Shell steps: sh, bat, powershell, pwsh with the script positional
 *     or as `script:`; found in steps, script, withCredentials, withEnv,
 *     dir, timeout, retry, node, docker...inside, parallel maps, if/else,
 *     loops, try/catch/finally, closures and method bodies.
 *   call = {name (dotted as written: "archiveArtifacts", "docker.build",
 *           ".push" for a method of a call's result), line, col, args}
 *     every other call in the stage (also input, stash, checkout, ...).
 *
 * ## Expressions
 *   expr = {text (the Groovy expression: "params.TAG", "HF_TOKEN"), line,
 *           col (of the '$'), end_line, end_col (exclusive), offset,
 *           end_offset, field ("sh", "bat", "powershell", "pwsh", "echo",
 *           "environment", "image", "label", "name", "when", "default",
 *           "library", "other"), key? (the variable of an environment
 *           entry), route, job?, step?, syntax = "groovy", braced = bool}
 *   one per ${...} and $name of every GString in the file, file order.
 *
 * Limits: the tokenizer's (groovy.h), the model arena (64 bytes per input
 * byte plus 8 MiB), MLG_JK_MAX_NOTES notes; loading is linear in the
 * input plus the model.
 */
#ifndef MLG_JENKINS_H
#define MLG_JENKINS_H

#include "groovy.h"
#include "pipeline_val.h"

#define MLG_JK_MAX_NOTES 1000
#define MLG_JK_MAX_CODE 4096

/* Bits of job.reach. */
enum {
  MLG_JK_R_MR = 1 << 0, MLG_JK_R_FORK = 1 << 1, MLG_JK_R_BRANCH = 1 << 2,
  MLG_JK_R_DEFAULT = 1 << 3, MLG_JK_R_TAG = 1 << 4, MLG_JK_R_SCHEDULE = 1 << 5,
  MLG_JK_R_MANUAL = 1 << 6, MLG_JK_R_API = 1 << 7, MLG_JK_R_TRIGGER = 1 << 8,
  MLG_JK_R_ALL = (1 << 9) - 1
};

#define MLG_JK_NONE ((size_t)-1)

/* A call as written: `name(args) { closure }`, `name args`,
 * `a.b(x).name(y) { }`. Indexes are token indexes, MLG_JK_NONE when
 * absent. */
typedef struct mlg_jk_call {
  size_t first;          /* first token of the chain */
  size_t name;           /* the called name (the last segment) */
  size_t paren;          /* its '(' */
  size_t args_a, args_b; /* the arguments: inside the parens, or command args */
  size_t closure;        /* '{' of a closure argument */
  size_t end;            /* the token after the construct */
} mlg_jk_call;

/* A job being built. */
typedef struct mlg_jk_job {
  mlg_node *obj, *id, *steps, *calls, *creds, *env;
  char *route;
  size_t nsteps;
  int has_input;
} mlg_jk_job;

/* What encloses the tokens being walked. */
typedef struct mlg_jk_ctx {
  mlg_jk_job *job;
  mlg_node *agent, *runs_on, *container;
  mlg_node *env;        /* [kv] inherited by jobs made here */
  mlg_node *creds;      /* [credential] in scope */
  mlg_node *cred_vars;  /* [string] their variables */
  const char *post;     /* post condition of the steps, or NULL */
  mlg_node *post_steps; /* the pipeline post condition's [step], or NULL */
  const char *section;  /* route of what is walked outside jobs */
  unsigned reach;
  const char *route;    /* of the enclosing stage (nested scripted stages) */
} mlg_jk_ctx;

typedef struct mlg_jk_expr {
  size_t off, seq;
  mlg_node *node;
} mlg_jk_expr;

typedef struct mlg_jk {
  mlg_pl pl;
  mlg_groovy *g;
  const mlg_gtok *t;
  size_t n;
  unsigned char *done;   /* per token: its expressions are recorded */
  uint32_t *send;        /* per token: where its statement ends (0: not known) */
  mlg_node *model, *jobs, *notes, *libraries, *loads, *post, *agent, *env, *params,
      *triggers, *options;
  mlg_jk_job **jobv;
  size_t njobs, capjobs;
  mlg_jk_job *nostage;
  mlg_jk_expr *exprs;
  size_t nexprs, capexprs, nnotes;
  int declarative;
  struct { const char *name; size_t nlen; mlg_node *image; } vars[64]; /* docker images */
  size_t nvars;
} mlg_jk;

/* --- pipeline_jenkins.c: tokens, values, jobs ---------------------------- */

int mlg_jk_is(const mlg_jk *jk, size_t i, const char *s);
int mlg_jk_is_kw(const mlg_jk *jk, size_t i);
/* The call starting at identifier i (the chain head), within [i, b). 0 and
 * *c filled, or -1 when i starts no call. */
int mlg_jk_call_at(const mlg_jk *jk, size_t i, size_t b, mlg_jk_call *c);
/* End of the statement starting at i (a line break or ';' at this level). */
size_t mlg_jk_stmt_end(const mlg_jk *jk, size_t i, size_t b);
/* The next top-level ',' in [i, b), or b. */
size_t mlg_jk_next_comma(const mlg_jk *jk, size_t i, size_t b);
/* The argument [a, b) named name ("" for the first positional one):
 * *va, *vb its value tokens; 0, or -1 when absent. */
int mlg_jk_arg(const mlg_jk *jk, size_t a, size_t b, const char *name, size_t *va,
               size_t *vb);
/* The call's arguments as [{name?, value}]. */
mlg_node *mlg_jk_args(mlg_jk *jk, const mlg_jk_call *c, mlg_pl_atom field,
                      const mlg_jk_ctx *cx);
/* The val of tokens [a, b): a literal's, else code. */
mlg_node *mlg_jk_val(mlg_jk *jk, size_t a, size_t b);
/* The val of part [from, to) of string token i's text. */
mlg_node *mlg_jk_val_sub(mlg_jk *jk, size_t i, size_t from, size_t to);
/* A string literal token at [a, b)? Returns its index or MLG_JK_NONE. */
size_t mlg_jk_str1(const mlg_jk *jk, size_t a, size_t b);
mlg_node *mlg_jk_image(mlg_jk *jk, size_t tok);
mlg_node *mlg_jk_tokstr(mlg_jk *jk, size_t i);
/* Records the interpolations of string token i (once per token) at that
 * route (NULL: the context's), job and step (0: none). */
void mlg_jk_exprs(mlg_jk *jk, size_t i, mlg_pl_atom field, const char *key,
                  const mlg_jk_ctx *cx, const char *route, size_t step);
/* The same for every string in [a, b) with the context's route. */
void mlg_jk_exprs_range(mlg_jk *jk, size_t a, size_t b, mlg_pl_atom field,
                        const mlg_jk_ctx *cx);
/* "parent.kind[\"name\"]" (parent may be NULL or "") in the model arena. */
char *mlg_jk_route(mlg_jk *jk, const char *parent, const char *kind, const char *name,
                   size_t nlen);
/* The dotted name of a call ("docker.build", ".push"). */
mlg_node *mlg_jk_call_name(mlg_jk *jk, const mlg_jk_call *c);
/* Pushes {name, line, col, args} of c to the job of cx. */
void mlg_jk_record_call(mlg_jk *jk, const mlg_jk_call *c, mlg_jk_ctx *cx, mlg_pl_atom field);
/* The text of token i (strings: decoded). */
const char *mlg_jk_text(const mlg_jk *jk, size_t i, size_t *len);
void mlg_jk_note(mlg_jk *jk, size_t at, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));
void mlg_jk_set_pos(mlg_jk *jk, mlg_node *obj, size_t tok);
/* A new job named by tokens [a, b) (the stage argument) at token at. */
mlg_jk_job *mlg_jk_job_new(mlg_jk *jk, const mlg_jk_ctx *cx, size_t at, size_t a, size_t b,
                           const char *route);
/* A new job with that id node (and name val, may be NULL). */
mlg_jk_job *mlg_jk_job_make(mlg_jk *jk, const mlg_jk_ctx *cx, size_t at, mlg_node *id,
                            mlg_node *name, const char *route);
/* The job that steps at this point go to ("(no stage)" outside stages). */
mlg_jk_job *mlg_jk_job_of(mlg_jk *jk, mlg_jk_ctx *cx);
mlg_node *mlg_jk_reach(mlg_jk *jk, unsigned bits);
/* runs_on for a label val at token at. */
mlg_node *mlg_jk_runs_on(mlg_jk *jk, mlg_node *label, size_t at);
/* Appends the seq items of b to a copy of a. */
mlg_node *mlg_jk_concat(mlg_jk *jk, mlg_node *a, mlg_node *b);

/* --- pipeline_jenkins_script.c: steps and scripted Groovy ----------------- */

/* Walks tokens [a, b) for steps, calls, stages and scopes. */
void mlg_jk_walk(mlg_jk *jk, size_t a, size_t b, const mlg_jk_ctx *cx);
/* Libraries from a value [a, b) (a string or a [list]) at token at. */
void mlg_jk_lib(mlg_jk *jk, size_t a, size_t b, size_t at, mlg_pl_atom form);
/* @Library at the '@' token; returns the token after it. */
size_t mlg_jk_at_library(mlg_jk *jk, size_t i, size_t b);

/* --- pipeline_jenkins_decl.c: declarative pipeline ------------------------ */

/* `pipeline { ... }`: body tokens (a, b) between the braces. */
void mlg_jk_declarative(mlg_jk *jk, size_t a, size_t b, const mlg_jk_ctx *cx);
/* The agent object of an `agent` directive, with its runs_on and
 * container (NULL when none). */
mlg_node *mlg_jk_agent(mlg_jk *jk, const mlg_jk_call *c, mlg_node **runs_on,
                       mlg_node **container, const mlg_jk_ctx *cx);
/* A parameter from a call such as `string(name: 'X', defaultValue: 'y')`. */
mlg_node *mlg_jk_param(mlg_jk *jk, const mlg_jk_call *d, const mlg_jk_ctx *cx);

#endif
