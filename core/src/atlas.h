/*
 * MITRE ATLAS data compiled into the binary (atlas_data.c is generated from
 * ATLAS.yaml by core/tools/atlasgen.c: `make atlas-data`). Used to validate
 * policy metadata and to name techniques and mitigations in reports.
 */
#ifndef MLG_ATLAS_H
#define MLG_ATLAS_H

#include <stddef.h>

typedef enum mlg_atlas_kind {
  MLG_ATLAS_TACTIC = 0,
  MLG_ATLAS_TECHNIQUE,
  MLG_ATLAS_SUBTECHNIQUE,
  MLG_ATLAS_MITIGATION
} mlg_atlas_kind;

typedef struct mlg_atlas_entry {
  const char *id;                  /* "AML.T0011.000" */
  const char *name;
  mlg_atlas_kind kind;
  const char *parent;              /* subtechnique: its technique id, else NULL */
  const char *const *tactics;      /* technique: tactic ids, NULL-terminated */
  const char *const *techniques;   /* mitigation: technique ids it addresses */
  const char *const *lifecycle;    /* mitigation: ml-lifecycle stages */
} mlg_atlas_entry;

/* Entries sorted by id (strcmp order). */
const mlg_atlas_entry *mlg_atlas_entries(size_t *count);
const mlg_atlas_entry *mlg_atlas_find(const char *id);
const char *mlg_atlas_version(void); /* "5.6.0" */
const char *mlg_atlas_kind_name(mlg_atlas_kind kind);

#endif
