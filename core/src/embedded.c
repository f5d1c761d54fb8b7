#include "embedded.h"

#include <string.h>

const mlg_embedded_file *mlg_embedded_find(const char *path)
{
  unsigned i;
  for (i = 0; i < mlg_embedded_count; i++)
    if (strcmp(mlg_embedded_files[i].path, path) == 0)
      return &mlg_embedded_files[i];
  return NULL;
}
