/*
 * The GitHub Actions expression language (`${{ ... }}`): lexer, parser and
 * evaluator, written to GitHub's own known-answer suite
 * (../shared/peer-fixtures/gha-expressions). Used by the pipeline gate to
 * know what an expression reads (which contexts, through which functions),
 * what it can evaluate to, and whether it is constant.
 *
 * Values are mlg_node trees (null, bool, number, string, sequence, mapping);
 * numbers are doubles (MLG_FLOAT; integral values may be MLG_INT on input).
 */
#ifndef MLG_GHA_EXPR_H
#define MLG_GHA_EXPR_H

#include <stddef.h>
#include <stdint.h>

#include "err.h"
#include "node.h"

typedef enum mlg_gx_type {
  MLG_GX_LITERAL = 1, /* null, true/false, number, 'string' */
  MLG_GX_CONTEXT,     /* a context name: github, env, inputs, secrets, steps, ... */
  MLG_GX_PROPERTY,    /* a.b (left, name) */
  MLG_GX_INDEX,       /* a[b] (left, right) */
  MLG_GX_STAR,        /* a.* or a[*] (left): property filter */
  MLG_GX_NOT,         /* !a (left) */
  MLG_GX_AND,         /* a && b */
  MLG_GX_OR,          /* a || b */
  MLG_GX_COMPARE,     /* ==, !=, <, <=, >, >= (op in `name`) */
  MLG_GX_CALL,        /* name(args...) */
  MLG_GX_GROUP        /* (a): kept so positions and obfuscation checks see it */
} mlg_gx_type;

typedef struct mlg_gx_node {
  mlg_gx_type type;
  const char *name;      /* CONTEXT/PROPERTY name, CALL function, COMPARE operator */
  const mlg_node *value; /* LITERAL */
  struct mlg_gx_node *left, *right;
  struct mlg_gx_node **args; /* CALL */
  size_t nargs;
  size_t offset, len;    /* span in the expression text (0-based bytes) */
} mlg_gx_node;

typedef struct mlg_gx {
  mlg_gx_node *root;
  mlg_doc *doc;          /* owns nodes, names and literal values */
} mlg_gx;

typedef enum mlg_gx_phase {
  MLG_GX_OK = 0,
  MLG_GX_LEXING,
  MLG_GX_PARSING,
  MLG_GX_EVALUATION
} mlg_gx_phase;

/* Parses the text between "${{" and "}}" (or a whole `if:` condition).
 * Errors: MLG_EPARSE with *phase (may be NULL) set to LEXING or PARSING and
 * a message with the 1-based position, like GitHub's ("Unexpected symbol:
 * ')'. Located at position 5 within expression: 1 < )"). Nesting depth and
 * size are bounded (MLG_ELIMIT). */
int mlg_gx_parse(mlg_gx **out, const char *text, size_t len, mlg_gx_phase *phase,
                 mlg_err *err);
void mlg_gx_free(mlg_gx *gx);

/* Evaluates against contexts (a mapping of context name -> value; missing
 * contexts are null). The result lives in doc. Evaluation errors (unknown
 * function, wrong argument count or type, fromJSON of invalid JSON, ...)
 * are MLG_EINVAL with phase EVALUATION. Functions whose value needs the
 * runner (hashFiles, success(), always(), failure(), cancelled()) evaluate
 * to documented stand-ins (hashFiles: "", status functions: true/false per
 * GitHub's defaults) and are reported by mlg_gx_is_constant as not constant. */
int mlg_gx_eval(mlg_node **result, mlg_doc *doc, const mlg_gx *gx, const mlg_node *contexts,
                mlg_gx_phase *phase, mlg_err *err);

/* 1 when the value does not depend on any context or runner function. */
int mlg_gx_is_constant(const mlg_gx *gx);

/* Truthiness and string coercion as GitHub defines them. */
int mlg_gx_truthy(const mlg_node *v);
int mlg_gx_to_string(char **out, const mlg_node *v); /* malloc'd */

/* Every context path the expression reads, outermost property chain first:
 * "github.event.issue.title", "steps.build.outputs.tag", "inputs.name",
 * "matrix.*" (STAR as "*", literal indexes as their value, computed
 * indexes as "?"). fn: the innermost function the reference is an argument
 * of ("" at top level), e.g. "toJSON", "contains". */
typedef struct mlg_gx_ref {
  char *path;
  const char *fn;
  size_t offset, len;
} mlg_gx_ref;

int mlg_gx_refs(mlg_gx_ref **out, size_t *n, const mlg_gx *gx, mlg_err *err);
void mlg_gx_refs_free(mlg_gx_ref *refs, size_t n);

/* Finds "${{ ... }}" spans in text (for run:, with:, env: values): the
 * offsets of "${{" and of the character after "}}"; text inside quotes
 * within the expression does not end it. Returns the count written (at
 * most max); *more is set when there were more. */
typedef struct mlg_gx_span {
  size_t start, end;       /* of "${{" ... "}}" */
  size_t inner, inner_len; /* the expression text inside */
} mlg_gx_span;

size_t mlg_gx_find(mlg_gx_span *out, size_t max, const char *text, size_t len, int *more);

#endif
