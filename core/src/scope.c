#include "scope.h"

#include "glob.h"

int mlg_scope_any(const mlg_globs *globs, const char *path)
{
  size_t i;
  if (!globs)
    return 0;
  for (i = 0; i < globs->len; i++)
    if (mlg_glob_match(globs->items[i], path))
      return 1;
  return 0;
}

int mlg_scope_visible(const mlg_config *cfg, int gate, const char *path)
{
  if (!cfg)
    return 1;
  if (mlg_scope_any(&cfg->exclude, path))
    return 0;
  if (gate >= 0 && gate < MLG_GATE_COUNT) {
    if (cfg->gate_include[gate].len && !mlg_scope_any(&cfg->gate_include[gate], path))
      return 0;
    if (mlg_scope_any(&cfg->gate_exclude[gate], path))
      return 0;
  }
  return 1;
}
