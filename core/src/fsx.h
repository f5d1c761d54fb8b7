/*
 * Workspace-confined file access. Everything a policy or analyser reads
 * goes through here: paths are relative to the workspace root, '/'
 * separated; absolute paths, ".." that leaves the root and symlinks whose
 * target lies outside the root are refused with MLG_EACCES. Only regular
 * files are opened for reading (FIFOs and devices are refused, never
 * blocked on).
 */
#ifndef MLG_FSX_H
#define MLG_FSX_H

#include <stddef.h>
#include <stdint.h>

#include "err.h"

typedef enum mlg_ftype {
  MLG_FT_FILE = 0,
  MLG_FT_DIR,
  MLG_FT_SYMLINK, /* only reported by lstat-like calls and in the walk */
  MLG_FT_OTHER
} mlg_ftype;

typedef struct mlg_file {
  char *path;        /* relative to the root, '/'-separated, no "./" */
  uint64_t size;     /* of the file (or of the link target when inside) */
  unsigned link : 1; /* a symlink */
  unsigned escapes : 1; /* a symlink whose target is outside the root or dangling */
} mlg_file;

typedef struct mlg_ws_opts {
  size_t max_files; /* walk cap; 0 = 1,000,000 */
  size_t max_depth; /* directory depth cap; 0 = 64 */
} mlg_ws_opts;

typedef struct mlg_ws {
  char *root;        /* absolute real path of the root directory */
  int rootfd;        /* O_PATH|O_DIRECTORY descriptor of the root */
  mlg_file *files;   /* regular files and symlinks, sorted bytewise by path */
  size_t nfiles;
  uint64_t total_bytes; /* sum of sizes of regular files in the walk */
  char *single;      /* when opened on a single file: its name, else NULL */
} mlg_ws;

/* Opens PATH as a workspace: a directory (walked recursively, ".git"
 * directories skipped, symlinked directories not followed, pseudo file
 * systems such as procfs refused) or a single file (root = its directory,
 * files = just it). Directories count against max_files as well. A
 * symlink with an absolute target counts as escaping even when the target
 * is inside the root (the RESOLVE_BENEATH rule). */
int mlg_ws_open(mlg_ws **out, const char *path, const mlg_ws_opts *opts, mlg_err *err);
void mlg_ws_free(mlg_ws *ws);

/* Lexically normalises a relative path: drops "." and empty segments,
 * resolves ".." and refuses one that climbs above the root, refuses
 * absolute paths. The root itself normalises to ".". out gets a malloc'd
 * string. (Callers holding counted strings must refuse embedded NULs.) */
int mlg_path_normalize(char **out, const char *relpath, mlg_err *err);

typedef struct mlg_stat {
  mlg_ftype type;  /* of the final target after confined resolution */
  uint64_t size;
  int link;        /* the path itself is a symlink */
  int64_t mtime;
} mlg_stat;

/* Opens a regular file read-only with confinement. *fd_out is O_CLOEXEC. */
int mlg_ws_open_file(int *fd_out, const mlg_ws *ws, const char *relpath, mlg_err *err);

int mlg_ws_stat(mlg_stat *out, const mlg_ws *ws, const char *relpath, mlg_err *err);

/* Reads a whole file (at most max bytes, 0 = 64 MiB; larger files give
 * MLG_ELIMIT, never a silent truncation). *out is malloc'd and
 * NUL-terminated. */
int mlg_ws_read(char **out, size_t *len, const mlg_ws *ws, const char *relpath,
                size_t max, mlg_err *err);

/* Reads up to n bytes at offset (a negative offset counts from the end,
 * clamped to the start) of a regular file: for headers, trailers and
 * archive directories without reading whole artifacts. *out is malloc'd
 * and NUL-terminated, *len may be less than n at the end of the file;
 * *size (may be NULL) gets the file size. n is capped at 64 MiB. */
int mlg_ws_read_range(char **out, size_t *len, uint64_t *size, const mlg_ws *ws,
                      const char *relpath, int64_t offset, size_t n, mlg_err *err);

/* Binary search in ws->files; NULL when not in the walk. */
const mlg_file *mlg_ws_find(const mlg_ws *ws, const char *relpath);

#endif
