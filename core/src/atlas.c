/*
 * Lookups over the MITRE ATLAS table. The table itself (and the version
 * string) lives in the generated atlas_data.c, which defines
 * mlg_atlas_entries() and mlg_atlas_version(); this file only searches it.
 */
#include "atlas.h"

#include <string.h>

/* The generator sorts with strcmp, so a plain binary search is exact; ids
 * are case-sensitive as in ATLAS ("AML.T0011.000"). */
const mlg_atlas_entry *mlg_atlas_find(const char *id)
{
  size_t lo = 0, hi, n;
  const mlg_atlas_entry *e = mlg_atlas_entries(&n);

  if (!id)
    return NULL;
  hi = n;
  while (lo < hi) {
    size_t mid = lo + (hi - lo) / 2;
    int c = strcmp(id, e[mid].id);
    if (c == 0)
      return &e[mid];
    if (c < 0)
      hi = mid;
    else
      lo = mid + 1;
  }
  return NULL;
}

const char *mlg_atlas_kind_name(mlg_atlas_kind kind)
{
  switch (kind) {
  case MLG_ATLAS_TACTIC: return "tactic";
  case MLG_ATLAS_TECHNIQUE: return "technique";
  case MLG_ATLAS_SUBTECHNIQUE: return "subtechnique";
  case MLG_ATLAS_MITIGATION: return "mitigation";
  default: return "?";
  }
}
