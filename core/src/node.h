/*
 * Document tree shared by the YAML and JSON parsers, the config loader, the
 * report writers and the child->parent protocol.
 *
 * Every node remembers where it came from (1-based line/column, byte
 * offsets) so policies and config errors can point at a key or a value.
 * All nodes and strings of one document live in the document's arena and
 * are freed together by mlg_doc_free(); nodes are never freed one by one.
 * A YAML alias is the very node its anchor names (shared, not copied), so
 * an alias bomb costs no memory; consumers that walk the tree must not
 * assume it is a tree (use the depth limit, or memoize by pointer).
 */
#ifndef MLG_NODE_H
#define MLG_NODE_H

#include <stddef.h>
#include <stdint.h>

#include "err.h"

typedef enum mlg_ntype {
  MLG_NULL = 0,
  MLG_BOOL,
  MLG_INT,
  MLG_FLOAT,
  MLG_STR,
  MLG_SEQ,
  MLG_MAP
} mlg_ntype;

/* How the node was written in YAML; JSON nodes use PLAIN/DOUBLE/FLOW. */
typedef enum mlg_style {
  MLG_STYLE_NONE = 0, /* built in memory */
  MLG_STYLE_PLAIN,
  MLG_STYLE_SINGLE,
  MLG_STYLE_DOUBLE,
  MLG_STYLE_LITERAL, /* | */
  MLG_STYLE_FOLDED,  /* > */
  MLG_STYLE_BLOCK,   /* block collection */
  MLG_STYLE_FLOW     /* [..] / {..} */
} mlg_style;

typedef struct mlg_span {
  uint32_t line, col;         /* 1-based start; 0 = unknown */
  uint32_t end_line, end_col; /* 1-based, exclusive end column */
  size_t offset, end_offset;  /* byte offsets into the source */
} mlg_span;

typedef struct mlg_node mlg_node;

typedef struct mlg_pair {
  mlg_node *key; /* for parsed documents always MLG_STR */
  mlg_node *val;
} mlg_pair;

struct mlg_node {
  unsigned char type;  /* mlg_ntype */
  unsigned char style; /* mlg_style */
  mlg_span span;
  const char *tag;     /* YAML tag as written (e.g. "!reference"), or NULL */
  const char *anchor;  /* YAML anchor name, or NULL */
  union {
    int boolean;
    int64_t integer;
    double number;
    struct {
      const char *ptr; /* NUL-terminated; may also hold NULs (use len) */
      size_t len;
    } str;
    struct {
      mlg_node **items;
      size_t len, cap;
    } seq;
    struct {
      mlg_pair *pairs;
      size_t len, cap;
    } map;
  } u;
};

typedef struct mlg_arena_chunk mlg_arena_chunk;

typedef struct mlg_doc {
  mlg_arena_chunk *chunks;
  size_t used_bytes;   /* bytes handed out by the arena */
  size_t limit_bytes;  /* 0 = unlimited; allocations beyond fail */
  mlg_node *root;      /* first document (or NULL for an empty stream) */
  mlg_node **roots;    /* every document of a multi-document stream */
  size_t nroots;
  const char *name;    /* source name used in error messages */
} mlg_doc;

mlg_doc *mlg_doc_new(const char *name);
void mlg_doc_free(mlg_doc *doc);
/* Empties a document for reuse: its nodes are gone, its largest arena
 * chunk is kept. Accepts NULL. */
void mlg_doc_reset(mlg_doc *doc);

/* Arena allocation (zeroed, aligned for any type). NULL when out of memory
 * or past doc->limit_bytes. */
void *mlg_doc_alloc(mlg_doc *doc, size_t size);
char *mlg_doc_strndup(mlg_doc *doc, const char *s, size_t len);
char *mlg_doc_strdup(mlg_doc *doc, const char *s);

/* Appends a document root (used by parsers of multi-document streams). */
int mlg_doc_add_root(mlg_doc *doc, mlg_node *root);

/* Constructors; NULL when out of memory. */
mlg_node *mlg_node_new(mlg_doc *doc, mlg_ntype type);
mlg_node *mlg_node_null(mlg_doc *doc);
mlg_node *mlg_node_bool(mlg_doc *doc, int value);
mlg_node *mlg_node_int(mlg_doc *doc, int64_t value);
mlg_node *mlg_node_float(mlg_doc *doc, double value);
mlg_node *mlg_node_strn(mlg_doc *doc, const char *s, size_t len);
mlg_node *mlg_node_str(mlg_doc *doc, const char *s);
mlg_node *mlg_node_seq(mlg_doc *doc);
mlg_node *mlg_node_map(mlg_doc *doc);

int mlg_seq_push(mlg_doc *doc, mlg_node *seq, mlg_node *item);
/* Appends key/value; does not check for duplicates (parsers do). */
int mlg_map_put(mlg_doc *doc, mlg_node *map, mlg_node *key, mlg_node *val);
/* Convenience for building: string key copied into the arena. */
int mlg_map_set(mlg_doc *doc, mlg_node *map, const char *key, mlg_node *val);
int mlg_map_set_str(mlg_doc *doc, mlg_node *map, const char *key, const char *val);
int mlg_map_set_int(mlg_doc *doc, mlg_node *map, const char *key, int64_t val);
int mlg_map_set_bool(mlg_doc *doc, mlg_node *map, const char *key, int val);

/* Lookup by string key (first match); NULL when absent or not a map. */
const mlg_pair *mlg_map_find(const mlg_node *map, const char *key);
const mlg_node *mlg_map_get(const mlg_node *map, const char *key);

/* Typed accessors returning a default when the node is absent or of
 * another type. */
const char *mlg_node_as_str(const mlg_node *n, const char *dflt);
int64_t mlg_node_as_int(const mlg_node *n, int64_t dflt);

/* Deep copy of a tree (from any document) into doc. Shared subtrees are
 * copied per reference, so only use it on trees without aliases (parsed
 * JSON, built records); nesting beyond 100 levels becomes null. NULL when
 * out of memory. */
mlg_node *mlg_node_copy(mlg_doc *doc, const mlg_node *n);

/* "null", "boolean", "integer", "number", "string", "sequence", "mapping" */
const char *mlg_node_typename(const mlg_node *n);

#endif
