/*
 * Internals shared by the gha_expr_*.c files (see gha_expr.h). Not for
 * other modules.
 */
#ifndef MLG_GHA_EXPR_INT_H
#define MLG_GHA_EXPR_INT_H

#include <stddef.h>
#include <stdint.h>

#include "buf.h"
#include "gha_expr.h"
#include "node.h"

/* --- functions (gha_expr.c) ----------------------------------------------- */

enum {
  GXF_CASE = 1, GXF_CONTAINS, GXF_STARTSWITH, GXF_ENDSWITH, GXF_FORMAT, GXF_JOIN,
  GXF_TOJSON, GXF_FROMJSON, GXF_HASHFILES, GXF_SUCCESS, GXF_ALWAYS, GXF_FAILURE,
  GXF_CANCELLED
};

typedef struct mlg_gx_fn {
  const char *name; /* canonical spelling */
  int id;           /* GXF_* */
  unsigned min, max;
  int runner;       /* needs the runner: not constant */
} mlg_gx_fn;

/* By name in any ASCII case; NULL when unknown. */
const mlg_gx_fn *mlg_gx_fn_find(const char *name, size_t len);

/* Builds a parse error message in GitHub's form: "<what>: '<token>'.
 * Located at position N within expression: <text>" (long texts cut). */
int mlg_gx_syntax_error(mlg_err *err, int code, const char *what, const char *tok,
                        size_t toklen, const char *text, size_t len, size_t off);

/* --- text (gha_expr_case.c) ----------------------------------------------- */

/* Decodes one character at s[i] (i < len): returns its length; a byte that
 * does not start valid UTF-8 is one character 0x110000 + byte, so it only
 * ever equals itself. */
size_t mlg_gx_next(const char *s, size_t len, size_t i, uint32_t *cp);

/* Unicode simple upper case, except U+0131 (dotless i), as GitHub. */
uint32_t mlg_gx_fold(uint32_t cp);

/* Case-insensitive comparison in GitHub's order (UTF-16 code units of the
 * upper-cased strings): <0, 0, >0. */
int mlg_gx_str_cmp(const char *a, size_t alen, const char *b, size_t blen);
int mlg_gx_str_eq(const char *a, size_t alen, const char *b, size_t blen);

/* Appends the folded text (invalid bytes copied as they are). */
int mlg_gx_fold_buf(mlg_buf *out, const char *s, size_t len);

/* Length of the Unicode White_Space character at s[i], 0 if none. */
size_t mlg_gx_ws(const char *s, size_t len, size_t i);

/* 1-based character position of byte offset off, for messages. */
size_t mlg_gx_charpos(const char *s, size_t off);

/* Length in UTF-16 code units (invalid bytes count one), which is what
 * GitHub's memory accounting measures. */
size_t mlg_gx_utf16_len(const char *s, size_t len);

/* Renders s for a one-line message: control characters escaped, cut with
 * "..." past about max bytes. buf has room for max + 8 bytes. */
void mlg_gx_render(char *buf, size_t max, const char *s, size_t len);

/* --- values (gha_expr_val.c) ---------------------------------------------- */

enum { GXK_NULL, GXK_BOOL, GXK_NUM, GXK_STR, GXK_ARRAY, GXK_OBJECT };

int mlg_gx_kindof(const mlg_node *v);
double mlg_gx_num(const mlg_node *v); /* number coercion; NaN for collections */

/* JavaScript's Number(string): trims whitespace, "" is 0, accepts decimal,
 * exponent, Infinity with a sign, 0x, 0o and 0b without one; otherwise
 * NaN. */
double mlg_gx_str_number(const char *s, size_t len);

/* Whether s is empty or only JavaScript whitespace (what trim() removes). */
int mlg_gx_js_blank(const char *s, size_t len);

#define MLG_GX_NUMBUF 40
/* JavaScript's Number.prototype.toString (shortest round trip). */
size_t mlg_gx_num_js(char *buf, double d);
/* GitHub's string coercion of a number: 0 for both zeros, at most 15
 * decimals, then as JavaScript. */
size_t mlg_gx_num_str(char *buf, double d);

/* Points s and len at the string coercion of a primitive v (numbers are
 * written to numbuf); returns 0, or -1 for collections. */
int mlg_gx_prim_str(const mlg_node *v, char *numbuf, const char **s, size_t *len);

int mlg_gx_equals(const mlg_node *l, const mlg_node *r);
int mlg_gx_greater(const mlg_node *l, const mlg_node *r);
int mlg_gx_less(const mlg_node *l, const mlg_node *r);

/* Case-insensitive member lookup, first match wins (as GitHub's
 * dictionaries); NULL when absent. */
const mlg_node *mlg_gx_map_get(const mlg_node *map, const char *key, size_t klen);

/* Members of a mapping hidden by an earlier key that differs only in case
 * (GitHub's dictionaries keep the first): *out is NULL when there are
 * none, else a flag per pair. MLG_ENOMEM only. */
typedef struct mlg_gx_dups mlg_gx_dups;
int mlg_gx_dups_new(mlg_gx_dups **out, const mlg_node *map);
int mlg_gx_shadowed(const mlg_gx_dups *dups, size_t i);
void mlg_gx_dups_free(mlg_gx_dups *dups);

#define MLG_GX_JSON_DEPTH 256
/* Appends toJSON's text (two-space indent, JavaScript number and string
 * forms; of keys that differ only in case, the first). MLG_ELIMIT when out
 * would pass max bytes or more than max members of mappings would be gone
 * through, MLG_EINVAL deeper than MLG_GX_JSON_DEPTH, MLG_ENOMEM. */
int mlg_gx_json(mlg_buf *out, const mlg_node *v, size_t max);

#endif
