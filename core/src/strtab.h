/*
 * Hash index from byte strings to caller-owned entries, for the parsers'
 * duplicate-key checks and YAML anchors. The table stores only hashes and
 * values; the caller's equality callback reads the keys from its own
 * entries, so nothing is copied.
 *
 * Keys come from untrusted documents, so the hash is SipHash-1-3 with a
 * per-process random key: crafted collisions cannot turn lookups into a
 * quadratic scan.
 */
#ifndef MLG_STRTAB_H
#define MLG_STRTAB_H

#include <stddef.h>
#include <stdint.h>

#include "node.h"

typedef struct mlg_strtab_slot mlg_strtab_slot;

typedef struct mlg_strtab {
  mlg_strtab_slot *slots;
  size_t cap; /* power of two; 0 before the first add */
  size_t count;
} mlg_strtab;

#define MLG_STRTAB_NONE ((size_t)-1)

/* Tells whether the entry with value val has the key (s, len). */
typedef int (*mlg_strtab_eq_fn)(const void *ctx, size_t val, const char *s, size_t len);

void mlg_strtab_init(mlg_strtab *t);
void mlg_strtab_free(mlg_strtab *t);
uint64_t mlg_strtab_hash(const char *s, size_t len);

/* Value of the entry whose key is (s, len), or MLG_STRTAB_NONE. */
size_t mlg_strtab_find(const mlg_strtab *t, uint64_t hash, const char *s, size_t len,
                       mlg_strtab_eq_fn eq, const void *ctx);

/* Adds an entry; the caller has made sure the key is absent. val must not
 * be MLG_STRTAB_NONE. */
int mlg_strtab_add(mlg_strtab *t, uint64_t hash, size_t val);

/*
 * Key index of one mapping under construction: mappings of a few pairs are
 * scanned, larger ones get a hash index built on first need.
 */
typedef struct mlg_mapkeys {
  mlg_strtab tab;
  size_t indexed; /* pairs of the map present in tab */
} mlg_mapkeys;

void mlg_mapkeys_init(mlg_mapkeys *mk);
void mlg_mapkeys_free(mlg_mapkeys *mk);

/* Index of the pair of map whose key is the string (s, len), or
 * MLG_STRTAB_NONE. Keys that are not strings never match. */
size_t mlg_mapkeys_find(mlg_mapkeys *mk, const mlg_node *map, const char *s, size_t len);

/* Call after appending pairs to map, before the next find. */
int mlg_mapkeys_sync(mlg_mapkeys *mk, const mlg_node *map);

#endif
