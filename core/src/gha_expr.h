/*
 * The GitHub Actions expression language (`${{ ... }}`): lexer, parser and
 * evaluator, written to GitHub's own known-answer suite
 * (../shared/peer-fixtures/gha-expressions). Used by the pipeline gate to
 * know what an expression reads (which contexts, through which functions),
 * what it can evaluate to, and whether it is constant.
 *
 * Values are mlg_node trees (null, bool, number, string, sequence, mapping);
 * numbers are doubles (MLG_FLOAT; integral values may be MLG_INT on input).
 *
 * Semantics follow GitHub's reference implementation (@actions/expressions,
 * the source of the suite): keywords (true, false, null, NaN, Infinity)
 * are case-sensitive; context names, property names, function names and
 * string comparisons are not (Unicode simple upper-casing, except that the
 * dotless i stays itself, as GitHub does). Whitespace is any Unicode
 * White_Space character, as in GitHub's runner. Positions in messages are
 * 1-based characters (code points); offsets in the API are 0-based bytes.
 *
 * Files: gha_expr.c (lexer, parser), gha_expr_eval.c (evaluator and
 * functions), gha_expr_val.c (coercions, comparisons, number formatting,
 * toJSON), gha_expr_case.c (case table), gha_expr_walk.c (refs, constancy,
 * finding ${{ }} in text).
 */
#ifndef MLG_GHA_EXPR_H
#define MLG_GHA_EXPR_H

#include <stddef.h>
#include <stdint.h>

#include "err.h"
#include "node.h"

#define MLG_GX_MAX_LEN ((size_t)64 << 10) /* expression text, bytes */
#define MLG_GX_MAX_DEPTH 50               /* GitHub's nesting limit */
/* Height of the syntax tree. GitHub's depth count keeps every other shape
 * near twice MLG_GX_MAX_DEPTH at most; only chains of comparisons
 * (a == b == c ...) go beyond. */
#define MLG_GX_MAX_HEIGHT 256
#define MLG_GX_MAX_MEMORY ((size_t)1 << 20) /* GitHub's evaluation memory budget */

typedef enum mlg_gx_type {
  MLG_GX_LITERAL = 1, /* null, true/false, number, 'string' */
  MLG_GX_CONTEXT,     /* a context name: github, env, inputs, secrets, steps, ... */
  MLG_GX_PROPERTY,    /* a.b (left, name) */
  MLG_GX_INDEX,       /* a[b] (left, right) */
  MLG_GX_STAR,        /* a.* or a[*] (left): property filter */
  MLG_GX_NOT,         /* !a (left) */
  MLG_GX_AND,         /* a && b && ...: args (two or more), like GitHub's tree */
  MLG_GX_OR,          /* a || b || ...: args (two or more) */
  MLG_GX_COMPARE,     /* ==, !=, <, <=, >, >= (op in `name`; left, right) */
  MLG_GX_CALL,        /* name(args...) */
  MLG_GX_GROUP        /* (a) (left): kept so positions and obfuscation checks see it */
} mlg_gx_type;

typedef struct mlg_gx_node {
  mlg_gx_type type;
  /* CONTEXT/PROPERTY: the name as written; CALL: the function's canonical
   * spelling ("toJSON", "startsWith", ...; the text has the written one);
   * COMPARE: the operator. */
  const char *name;
  const mlg_node *value; /* LITERAL (a null node for an empty expression) */
  struct mlg_gx_node *left, *right;
  struct mlg_gx_node **args; /* CALL, AND, OR */
  size_t nargs;
  size_t offset, len;    /* span in the expression text (0-based bytes) */
} mlg_gx_node;

typedef struct mlg_gx {
  mlg_gx_node *root;     /* never NULL: an empty expression is a null LITERAL */
  mlg_doc *doc;          /* owns nodes, names, literal values, text and this struct */
  const char *text;      /* copy of the expression, NUL-terminated */
  size_t len;
} mlg_gx;

typedef enum mlg_gx_phase {
  MLG_GX_OK = 0,
  MLG_GX_LEXING,
  MLG_GX_PARSING,
  MLG_GX_EVALUATION
} mlg_gx_phase;

/* Which context names an expression may read; a name outside the set is a
 * parse error ("Unrecognized named-value"), as in GitHub. */
typedef struct mlg_gx_opts {
  const char *const *contexts; /* ASCII, matched in any case; NULL: the standard set
                                * (non-NULL with ncontexts 0: no name at all) */
  size_t ncontexts;
  int any_context;             /* accept every well-formed name */
} mlg_gx_opts;

/* The standard set: github, env, vars, job, jobs, steps, runner, secrets,
 * strategy, matrix, needs, inputs. */
const char *const *mlg_gx_std_contexts(size_t *n);

/* Parses the text between "${{" and "}}" (or a whole `if:` condition).
 * opts may be NULL (the standard context names). Functions: case,
 * contains, startsWith, endsWith, format, join, toJSON, fromJSON and the
 * runner's hashFiles, success, always, failure, cancelled (names in any
 * case); any other is a parse error, as are wrong argument counts.
 * Linear in len.
 * Errors: MLG_EPARSE with *phase (may be NULL) set to LEXING or PARSING and
 * a message like GitHub's ("Unexpected symbol: ')'. Located at position 5
 * within expression: 1 < )"). Text over MLG_GX_MAX_LEN is MLG_ELIMIT
 * (LEXING); nesting over GitHub's MLG_GX_MAX_DEPTH is MLG_EPARSE
 * ("Exceeded max expression depth 50", as GitHub), a tree higher than
 * MLG_GX_MAX_HEIGHT (only long chains of comparisons get there) MLG_ELIMIT
 * (PARSING). */
int mlg_gx_parse(mlg_gx **out, const char *text, size_t len, const mlg_gx_opts *opts,
                 mlg_gx_phase *phase, mlg_err *err);
void mlg_gx_free(mlg_gx *gx);

/* Evaluates against contexts (a mapping of context name -> value, looked
 * up in any case; NULL or missing contexts are null). The result lives in
 * doc or is a node of contexts or of the expression (keep both alive while
 * using it); filtered arrays come back as plain sequences.
 * Evaluation errors (format string errors, case() predicates that are not
 * booleans, fromJSON of invalid JSON, values nested deeper than 256 levels
 * for toJSON, ...) are MLG_EINVAL with phase EVALUATION; going over GitHub's
 * memory budget (MLG_GX_MAX_MEMORY, counted as GitHub does: 26 bytes plus
 * 2 per UTF-16 unit of every string result alive, 24 for other values) is
 * MLG_ELIMIT ("The maximum allowed memory size was exceeded ..."), and so
 * are our own caps, which GitHub's budget alone would not give since
 * results stay in doc: 16 times that budget allocated in all, 64 MiB of
 * text and mapping members gone through (for huge or alias-shared
 * contexts; "The expression is too expensive to evaluate ..."), and
 * fromJSON of JSON nested deeper than 200 levels.
 * case() evaluates its arguments lazily, as the runner does.
 * Functions whose value needs the runner evaluate to documented stand-ins
 * (hashFiles: "", success() and always(): true, failure() and
 * cancelled(): false) and make mlg_gx_is_constant false. */
int mlg_gx_eval(mlg_node **result, mlg_doc *doc, const mlg_gx *gx, const mlg_node *contexts,
                mlg_gx_phase *phase, mlg_err *err);

/* 1 when the value does not depend on any context or runner function. */
int mlg_gx_is_constant(const mlg_gx *gx);

/* Truthiness and string coercion as GitHub defines them ("" for null,
 * "Array"/"Object" for collections, numbers rounded to 15 decimals). */
int mlg_gx_truthy(const mlg_node *v);
int mlg_gx_to_string(char **out, const mlg_node *v); /* malloc'd; MLG_ENOMEM */

/* "Null", "Boolean", "Number", "String", "Array" or "Object". */
const char *mlg_gx_kind(const mlg_node *v);

/* Every context path the expression reads, outermost property chain first:
 * "github.event.issue.title", "steps.build.outputs.tag", "inputs.name",
 * "matrix.*" (STAR as "*", literal indexes as their string value, computed
 * indexes as "?"). Context and property names are ASCII lower-cased (GitHub
 * looks them up in any case); a chain through parentheses, like
 * (github.event).title, is one path. fn: the canonical name of the
 * innermost function the reference is an argument of ("" at top level),
 * e.g. "toJSON", "contains". offset/len: the whole chain in the text. */
typedef struct mlg_gx_ref {
  char *path;
  const char *fn;
  size_t offset, len;
} mlg_gx_ref;

/* *out is NULL when there are none. MLG_ENOMEM only. */
int mlg_gx_refs(mlg_gx_ref **out, size_t *n, const mlg_gx *gx, mlg_err *err);
void mlg_gx_refs_free(mlg_gx_ref *refs, size_t n);

/* Finds "${{ ... }}" spans in text (for run:, with:, env: values) the way
 * GitHub's template reader does: from "${{" to the first "}}" outside a
 * single-quoted string. A "${{" that is never closed (GitHub rejects the
 * file) gives a last span with closed = 0 that runs to the end of text.
 * Returns the count written (at most max); *more (may be NULL) is set when
 * there were more. Linear in len. */
typedef struct mlg_gx_span {
  size_t start, end;       /* of "${{" and just past "}}" (len when not closed) */
  size_t inner, inner_len; /* the expression text inside */
  int closed;
} mlg_gx_span;

size_t mlg_gx_find(mlg_gx_span *out, size_t max, const char *text, size_t len, int *more);

#endif
