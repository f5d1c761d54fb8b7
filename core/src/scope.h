/*
 * Which workspace files a gate (and a policy in it) gets to see: the
 * config's global excludes, the gate's includes/excludes and the policy's
 * own `files` globs.
 */
#ifndef MLG_SCOPE_H
#define MLG_SCOPE_H

#include "config.h"

/* 1 when any glob in the list matches path. */
int mlg_scope_any(const mlg_globs *globs, const char *path);

/* 1 when the file is visible to policies of gate (cfg may be NULL). */
int mlg_scope_visible(const mlg_config *cfg, int gate, const char *path);

#endif
