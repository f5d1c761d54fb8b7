/*
 * Build-time tool: compiles the MITRE ATLAS data (ATLAS.yaml) into a C file
 * defining the table behind core/src/atlas.h, so the binary needs no data
 * file at run time.
 *
 *   atlasgen ATLAS.yaml OUT.c
 *
 * Only ids, names and relations are kept (no descriptions), which keeps the
 * generated file small enough to review and commit. The tool links libyaml
 * only and does not use the project's sources: it must build before them.
 *
 * The output is deterministic (entries sorted by id with strcmp, lists in
 * file order) so regenerating from the same ATLAS.yaml gives the same bytes.
 */
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <yaml.h>

enum kind { TACTIC = 0, TECHNIQUE, SUBTECHNIQUE, MITIGATION };

static const char *const kind_enum[] = {
  "MLG_ATLAS_TACTIC", "MLG_ATLAS_TECHNIQUE", "MLG_ATLAS_SUBTECHNIQUE",
  "MLG_ATLAS_MITIGATION"};

typedef struct list {
  char **items;
  size_t len, cap;
} list;

typedef struct entry {
  char *id;
  char *name;
  enum kind kind;
  char *parent;     /* subtechnique-of */
  list tactics;     /* technique */
  list techniques;  /* mitigation */
  list lifecycle;   /* mitigation */
  int has_tactics;  /* the file gave a tactics list */
} entry;

typedef struct gen {
  yaml_document_t doc;
  const char *path;
  entry *entries;
  size_t len, cap;
  char *version;
} gen;

static void fail(const gen *g, const yaml_node_t *at, const char *fmt, ...)
    __attribute__((format(printf, 3, 4), noreturn));

/* A build tool may stop at the first problem: there is nothing to clean up
 * that the OS will not, and the partial output is only ever a temp file. */
static void fail(const gen *g, const yaml_node_t *at, const char *fmt, ...)
{
  va_list ap;
  if (at)
    fprintf(stderr, "%s:%lu:%lu: ", g->path, (unsigned long)at->start_mark.line + 1,
            (unsigned long)at->start_mark.column + 1);
  else
    fprintf(stderr, "atlasgen: %s: ", g->path);
  va_start(ap, fmt);
  vfprintf(stderr, fmt, ap);
  va_end(ap);
  fputc('\n', stderr);
  exit(1);
}

static void *xrealloc(void *p, size_t n, size_t size)
{
  void *q;
  if (size && n > (size_t)-1 / size) {
    fprintf(stderr, "atlasgen: size overflow\n");
    exit(1);
  }
  q = realloc(p, n * size != 0 ? n * size : 1);
  if (!q) {
    fprintf(stderr, "atlasgen: out of memory\n");
    exit(1);
  }
  return q;
}

static char *xstrndup(const char *s, size_t n)
{
  char *p = xrealloc(NULL, n + 1, 1);
  memcpy(p, s, n);
  p[n] = '\0';
  return p;
}

static void list_push(list *l, char *s)
{
  if (l->len == l->cap) {
    l->cap = l->cap ? l->cap * 2 : 4;
    l->items = xrealloc(l->items, l->cap, sizeof *l->items);
  }
  l->items[l->len++] = s;
}

static int list_has(const list *l, const char *s)
{
  size_t i;
  for (i = 0; i < l->len; i++)
    if (strcmp(l->items[i], s) == 0)
      return 1;
  return 0;
}

static void list_free(list *l)
{
  size_t i;
  for (i = 0; i < l->len; i++)
    free(l->items[i]);
  free(l->items);
}

static yaml_node_t *node(gen *g, int index)
{
  return yaml_document_get_node(&g->doc, index);
}

/* Value of key in a mapping node, or NULL. */
static yaml_node_t *get(gen *g, yaml_node_t *map, const char *key)
{
  yaml_node_pair_t *p;
  size_t klen = strlen(key);
  if (!map || map->type != YAML_MAPPING_NODE)
    return NULL;
  for (p = map->data.mapping.pairs.start; p < map->data.mapping.pairs.top; p++) {
    yaml_node_t *k = node(g, p->key);
    if (k && k->type == YAML_SCALAR_NODE && k->data.scalar.length == klen &&
        memcmp(k->data.scalar.value, key, klen) == 0)
      return node(g, p->value);
  }
  return NULL;
}

static char *scalar(gen *g, yaml_node_t *n, const char *what)
{
  if (!n || n->type != YAML_SCALAR_NODE)
    fail(g, n, "%s must be a scalar", what);
  if (n->data.scalar.length == 0)
    fail(g, n, "%s is empty", what);
  if (memchr(n->data.scalar.value, '\0', n->data.scalar.length))
    fail(g, n, "%s holds a NUL byte", what);
  return xstrndup((const char *)n->data.scalar.value, n->data.scalar.length);
}

static char *req_scalar(gen *g, yaml_node_t *map, const char *key)
{
  yaml_node_t *v = get(g, map, key);
  if (!v)
    fail(g, map, "missing '%s'", key);
  return scalar(g, v, key);
}

static yaml_node_t *seq_item(gen *g, yaml_node_t *seq, size_t i)
{
  return node(g, seq->data.sequence.items.start[i]);
}

static size_t seq_len(const yaml_node_t *seq)
{
  return (size_t)(seq->data.sequence.items.top - seq->data.sequence.items.start);
}

static yaml_node_t *opt_seq(gen *g, yaml_node_t *map, const char *key)
{
  yaml_node_t *v = get(g, map, key);
  if (v && v->type != YAML_SEQUENCE_NODE)
    fail(g, v, "'%s' must be a sequence", key);
  return v;
}

/* Reads a list of scalars, or (mitigation techniques) of mappings with an
 * `id` key. Repeats are dropped so each relation is listed once. */
static void read_list(gen *g, list *out, yaml_node_t *seq, const char *subkey)
{
  size_t i, n;
  if (!seq)
    return;
  n = seq_len(seq);
  for (i = 0; i < n; i++) {
    yaml_node_t *it = seq_item(g, seq, i);
    char *s = subkey ? req_scalar(g, it, subkey) : scalar(g, it, "list item");
    if (list_has(out, s))
      free(s);
    else
      list_push(out, s);
  }
}

/* ATLAS 5.6.0 has technique entries ({id, use}) misplaced in the
 * ml-lifecycle lists of AML.M0018 and AML.M0034, where they plainly mean
 * "this mitigation also addresses that technique": count them as such
 * rather than dropping the relation or refusing the whole file. */
static void read_lifecycle(gen *g, entry *e, yaml_node_t *seq)
{
  size_t i, n;
  if (!seq)
    return;
  n = seq_len(seq);
  for (i = 0; i < n; i++) {
    yaml_node_t *it = seq_item(g, seq, i);
    list *dst = &e->lifecycle;
    char *s;
    if (it && it->type == YAML_MAPPING_NODE) {
      s = req_scalar(g, it, "id");
      fprintf(stderr, "%s:%lu:%lu: warning: %s: technique %s listed under ml-lifecycle; "
              "counted as a technique it addresses\n", g->path,
              (unsigned long)it->start_mark.line + 1,
              (unsigned long)it->start_mark.column + 1, e->id, s);
      dst = &e->techniques;
    } else {
      s = scalar(g, it, "ml-lifecycle item");
    }
    if (list_has(dst, s))
      free(s);
    else
      list_push(dst, s);
  }
}

static entry *find(gen *g, const char *id)
{
  size_t i;
  for (i = 0; i < g->len; i++)
    if (strcmp(g->entries[i].id, id) == 0)
      return &g->entries[i];
  return NULL;
}

static void merge_list(list *dst, list *src)
{
  size_t i;
  for (i = 0; i < src->len; i++) {
    if (list_has(dst, src->items[i]))
      free(src->items[i]);
    else
      list_push(dst, src->items[i]);
  }
  free(src->items);
  src->items = NULL;
  src->len = src->cap = 0;
}

/* A later matrix may repeat an object of an earlier one (ATLAS has shipped
 * several matrices sharing tactics): same id must mean the same object. */
static void add(gen *g, yaml_node_t *at, entry *e)
{
  entry *old = find(g, e->id);
  if (old) {
    if (old->kind != e->kind || strcmp(old->name, e->name) != 0 ||
        (old->parent && strcmp(old->parent, e->parent) != 0))
      fail(g, at, "'%s' appears twice with different contents", e->id);
    merge_list(&old->tactics, &e->tactics);
    merge_list(&old->techniques, &e->techniques);
    merge_list(&old->lifecycle, &e->lifecycle);
    old->has_tactics |= e->has_tactics;
    free(e->id);
    free(e->name);
    free(e->parent);
    return;
  }
  if (g->len == g->cap) {
    g->cap = g->cap ? g->cap * 2 : 256;
    g->entries = xrealloc(g->entries, g->cap, sizeof *g->entries);
  }
  g->entries[g->len++] = *e;
}

static void read_objects(gen *g, yaml_node_t *matrix, const char *key, enum kind kind)
{
  yaml_node_t *seq = opt_seq(g, matrix, key);
  size_t i, n;
  if (!seq)
    return;
  n = seq_len(seq);
  for (i = 0; i < n; i++) {
    yaml_node_t *obj = seq_item(g, seq, i);
    entry e;
    if (!obj || obj->type != YAML_MAPPING_NODE)
      fail(g, obj, "each of '%s' must be a mapping", key);
    memset(&e, 0, sizeof e);
    e.id = req_scalar(g, obj, "id");
    e.name = req_scalar(g, obj, "name");
    e.kind = kind;
    if (kind == TECHNIQUE) {
      yaml_node_t *parent = get(g, obj, "subtechnique-of");
      yaml_node_t *tactics = opt_seq(g, obj, "tactics");
      if (parent) {
        e.kind = SUBTECHNIQUE;
        e.parent = scalar(g, parent, "subtechnique-of");
      }
      e.has_tactics = tactics != NULL;
      read_list(g, &e.tactics, tactics, NULL);
    } else if (kind == MITIGATION) {
      read_list(g, &e.techniques, opt_seq(g, obj, "techniques"), "id");
      read_lifecycle(g, &e, opt_seq(g, obj, "ml-lifecycle"));
    }
    add(g, obj, &e);
  }
}

static int by_id(const void *a, const void *b)
{
  return strcmp(((const entry *)a)->id, ((const entry *)b)->id);
}

/* Relations must point at objects of the right kind; a dangling reference
 * in the data would otherwise surface as a confusing lookup miss at run
 * time. Sub-techniques carry no tactics in ATLAS.yaml: they sit under their
 * technique's tactics in the matrix, so they inherit them here. */
static void link_refs(gen *g)
{
  size_t i, j;
  for (i = 0; i < g->len; i++) {
    entry *e = &g->entries[i];
    if (e->kind == SUBTECHNIQUE) {
      entry *p = find(g, e->parent);
      if (!p || p->kind != TECHNIQUE)
        fail(g, NULL, "%s: subtechnique-of '%s' is not a technique", e->id, e->parent);
      if (!e->has_tactics)
        for (j = 0; j < p->tactics.len; j++)
          list_push(&e->tactics, xstrndup(p->tactics.items[j], strlen(p->tactics.items[j])));
    }
    for (j = 0; j < e->tactics.len; j++) {
      entry *t = find(g, e->tactics.items[j]);
      if (!t || t->kind != TACTIC)
        fail(g, NULL, "%s: '%s' is not a tactic", e->id, e->tactics.items[j]);
    }
    for (j = 0; j < e->techniques.len; j++) {
      entry *t = find(g, e->techniques.items[j]);
      if (!t || (t->kind != TECHNIQUE && t->kind != SUBTECHNIQUE))
        fail(g, NULL, "%s: '%s' is not a technique", e->id, e->techniques.items[j]);
    }
  }
}

/* Octal escapes are always three digits so a following digit cannot extend
 * them; '?' is escaped because -std=c11 still honours trigraphs. Returns
 * the number of characters written. */
static size_t put_str(FILE *out, const char *s)
{
  const unsigned char *p;
  size_t n = 2;
  fputc('"', out);
  for (p = (const unsigned char *)s; *p; p++) {
    if (*p == '"' || *p == '\\' || *p == '?') {
      fprintf(out, "\\%c", *p);
      n += 2;
    } else if (*p >= 0x20 && *p < 0x7f) {
      fputc(*p, out);
      n++;
    } else {
      fprintf(out, "\\%03o", *p);
      n += 4;
    }
  }
  fputc('"', out);
  return n;
}

static size_t str_width(const char *s)
{
  size_t n = 2;
  for (; *s; s++)
    n += (*s == '"' || *s == '\\' || *s == '?') ? 2 : (*s >= 0x20 && *s < 0x7f) ? 1 : 4;
  return n;
}

static void put_list(FILE *out, const char *name, size_t index, const list *l)
{
  size_t i, col = 80;
  if (!l->len)
    return;
  fprintf(out, "static const char *const %s%zu[] = {", name, index);
  for (i = 0; i < l->len; i++) {
    size_t w = str_width(l->items[i]) + 1;
    if (col + 1 + w > 80) {
      fputs("\n  ", out);
      col = 2;
    } else {
      fputc(' ', out);
      col++;
    }
    put_str(out, l->items[i]);
    fputc(',', out);
    col += w;
  }
  fputs("\n  NULL};\n", out);
}

static void put_ref(FILE *out, const char *name, size_t index, const list *l)
{
  if (l->len)
    fprintf(out, "%s%zu", name, index);
  else
    fputs("none", out);
}

static void emit(gen *g, FILE *out)
{
  size_t i;
  fprintf(out,
          "/*\n"
          " * Generated by core/tools/atlasgen.c from MITRE ATLAS %s (ATLAS.yaml).\n"
          " * Do not edit: run `make atlas-data`. %zu entries, sorted by id.\n"
          " * ATLAS data: Copyright 2021-2025 MITRE, Apache License 2.0.\n"
          " */\n"
          "#include \"atlas.h\"\n\n"
          "/* Relations that do not apply to a kind are this empty list, not\n"
          " * NULL, so callers can always iterate. */\n"
          "static const char *const none[] = {NULL};\n\n",
          g->version, g->len);
  for (i = 0; i < g->len; i++) {
    put_list(out, "tac", i, &g->entries[i].tactics);
    put_list(out, "tec", i, &g->entries[i].techniques);
    put_list(out, "lif", i, &g->entries[i].lifecycle);
  }
  fputs("\nstatic const mlg_atlas_entry entries[] = {\n", out);
  for (i = 0; i < g->len; i++) {
    const entry *e = &g->entries[i];
    fputs("  {", out);
    put_str(out, e->id);
    fputs(", ", out);
    put_str(out, e->name);
    fprintf(out, ",\n   %s, ", kind_enum[e->kind]);
    if (e->parent)
      put_str(out, e->parent);
    else
      fputs("NULL", out);
    fputs(", ", out);
    put_ref(out, "tac", i, &e->tactics);
    fputs(", ", out);
    put_ref(out, "tec", i, &e->techniques);
    fputs(", ", out);
    put_ref(out, "lif", i, &e->lifecycle);
    fputs("},\n", out);
  }
  fputs("};\n\n"
        "const mlg_atlas_entry *mlg_atlas_entries(size_t *count)\n"
        "{\n"
        "  if (count)\n"
        "    *count = sizeof entries / sizeof entries[0];\n"
        "  return entries;\n"
        "}\n\n"
        "const char *mlg_atlas_version(void)\n"
        "{\n"
        "  return ",
        out);
  put_str(out, g->version);
  fputs(";\n}\n", out);
}

static void load(gen *g)
{
  yaml_parser_t parser;
  FILE *in = fopen(g->path, "rb");
  yaml_node_t *root, *matrices;
  size_t i, n;

  if (!in)
    fail(g, NULL, "cannot open");
  if (!yaml_parser_initialize(&parser))
    fail(g, NULL, "out of memory");
  yaml_parser_set_input_file(&parser, in);
  if (!yaml_parser_load(&parser, &g->doc)) {
    fprintf(stderr, "%s:%lu:%lu: %s %s\n", g->path,
            (unsigned long)parser.problem_mark.line + 1,
            (unsigned long)parser.problem_mark.column + 1,
            parser.problem ? parser.problem : "invalid YAML",
            parser.context ? parser.context : "");
    exit(1);
  }
  yaml_parser_delete(&parser);
  fclose(in);

  root = yaml_document_get_root_node(&g->doc);
  if (!root || root->type != YAML_MAPPING_NODE)
    fail(g, root, "top level must be a mapping");
  g->version = req_scalar(g, root, "version");
  matrices = opt_seq(g, root, "matrices");
  if (!matrices || seq_len(matrices) == 0)
    fail(g, root, "no 'matrices'");
  n = seq_len(matrices);
  for (i = 0; i < n; i++) {
    yaml_node_t *m = seq_item(g, matrices, i);
    if (!m || m->type != YAML_MAPPING_NODE)
      fail(g, m, "each matrix must be a mapping");
    read_objects(g, m, "tactics", TACTIC);
    read_objects(g, m, "techniques", TECHNIQUE);
    read_objects(g, m, "mitigations", MITIGATION);
  }
  if (g->len == 0)
    fail(g, root, "no tactics, techniques or mitigations");
}

int main(int argc, char **argv)
{
  gen g;
  FILE *out;
  char tmp[4096];
  size_t i;

  if (argc != 3) {
    fprintf(stderr, "usage: atlasgen ATLAS.yaml OUT.c\n");
    return 2;
  }
  memset(&g, 0, sizeof g);
  g.path = argv[1];
  load(&g);
  qsort(g.entries, g.len, sizeof *g.entries, by_id);
  link_refs(&g);

  if ((size_t)snprintf(tmp, sizeof tmp, "%s.tmp", argv[2]) >= sizeof tmp) {
    fprintf(stderr, "atlasgen: output path too long\n");
    return 1;
  }
  out = fopen(tmp, "wb");
  if (!out) {
    fprintf(stderr, "atlasgen: cannot write %s\n", tmp);
    return 1;
  }
  emit(&g, out);
  if (ferror(out) | fclose(out) || rename(tmp, argv[2]) != 0) {
    fprintf(stderr, "atlasgen: cannot write %s\n", argv[2]);
    remove(tmp);
    return 1;
  }

  for (i = 0; i < g.len; i++) {
    free(g.entries[i].id);
    free(g.entries[i].name);
    free(g.entries[i].parent);
    list_free(&g.entries[i].tactics);
    list_free(&g.entries[i].techniques);
    list_free(&g.entries[i].lifecycle);
  }
  free(g.entries);
  free(g.version);
  yaml_document_delete(&g.doc);
  return 0;
}
