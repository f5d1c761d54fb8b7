/*
 * Files compiled into the binary at build time (see core/tools/embed.c):
 * the Lua SDK (lua/mlgate/NAME.lua) and the built-in policies
 * (policies/GATE/NAME.lua).
 */
#ifndef MLG_EMBEDDED_H
#define MLG_EMBEDDED_H

#include <stddef.h>

typedef struct mlg_embedded_file {
  const char *path; /* source-tree path, e.g. "lua/mlgate/init.lua" */
  const char *data; /* NUL-terminated */
  size_t len;
} mlg_embedded_file;

extern const mlg_embedded_file mlg_embedded_files[];
extern const unsigned mlg_embedded_count;

/* NULL when no such file was embedded. */
const mlg_embedded_file *mlg_embedded_find(const char *path);

#endif
