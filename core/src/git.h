/*
 * Git access through libgit2 (the only file that includes git2.h).
 */
#ifndef MLG_GIT_H
#define MLG_GIT_H

#include <stddef.h>

#include "err.h"

typedef struct mlg_git_info {
  char commit[41];      /* HEAD commit id, "" when not a repository or unborn */
  char repository[256]; /* name of the work tree directory, "" when none */
} mlg_git_info;

/* Describes the repository containing path (searching upwards). Not being
 * in a repository is not an error: the fields are then empty. */
int mlg_git_describe(mlg_git_info *out, const char *path, mlg_err *err);

#endif
