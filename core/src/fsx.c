#include "fsx.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <linux/magic.h>
#include <linux/openat2.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/statfs.h>
#include <sys/syscall.h>
#include <unistd.h>

#include "buf.h"

#define FSX_DEFAULT_MAX_FILES 1000000
#define FSX_DEFAULT_MAX_DEPTH 64
#define FSX_DEFAULT_READ_MAX ((size_t)64 << 20)
#define FSX_MAX_HOPS 40

/* Set once openat2 turned out to be missing (old kernel, or a seccomp
 * profile that answers ENOSYS/EPERM), so later opens go straight to the
 * manual resolver. */
static atomic_int fsx_no_openat2;

/* --- messages ----------------------------------------------------------- */

/* Paths come from the repository under test: control bytes are escaped so
 * a file name cannot rewrite the CI log, and long names are shortened. */
typedef struct fsx_q {
  char s[320];
} fsx_q;

static const char *q(fsx_q *b, const char *path)
{
  static const char hex[] = "0123456789abcdef";
  size_t o = 0;
  const unsigned char *p = (const unsigned char *)(path ? path : "");

  for (; *p; p++) {
    if (o + 8 >= sizeof b->s) {
      memcpy(b->s + o, "...", 3);
      o += 3;
      break;
    }
    if (*p < 0x20 || *p == 0x7f || *p == '\'' || *p == '\\') {
      b->s[o++] = '\\';
      b->s[o++] = 'x';
      b->s[o++] = hex[*p >> 4];
      b->s[o++] = hex[*p & 15];
    } else {
      b->s[o++] = (char)*p;
    }
  }
  b->s[o] = '\0';
  return b->s;
}

static const char *type_name(mode_t m)
{
  if (S_ISDIR(m))
    return "a directory";
  if (S_ISFIFO(m))
    return "a FIFO";
  if (S_ISSOCK(m))
    return "a socket";
  if (S_ISCHR(m))
    return "a character device";
  if (S_ISBLK(m))
    return "a block device";
  if (S_ISLNK(m))
    return "a symlink";
  return "not a regular file";
}

/* Turns a failed confined open (-errno) into an error naming relpath. */
static int open_error(mlg_err *err, int e, const char *relpath)
{
  fsx_q b;
  const char *p = q(&b, relpath);

  switch (e) {
  case EXDEV:
    return mlg_err_set(err, MLG_EACCES,
                       "refusing '%s': symlink to a target outside the workspace", p);
  case ELOOP:
    return mlg_err_set(err, MLG_EACCES,
                       "refusing '%s': too many levels of symbolic links", p);
  case ENOENT:
    return mlg_err_set(err, MLG_ENOENT, "cannot open '%s': no such file in the workspace", p);
  case ENOTDIR:
    return mlg_err_set(err, MLG_ENOENT, "cannot open '%s': a parent is not a directory", p);
  case EACCES:
  case EPERM:
    return mlg_err_set(err, MLG_EACCES, "cannot open '%s': permission denied", p);
  case ENAMETOOLONG:
    return mlg_err_set(err, MLG_EINVAL, "cannot open '%s': name too long", p);
  default:
    return mlg_err_set(err, MLG_EIO, "cannot open '%s': %s", p, strerror(e));
  }
}

/* --- lexical normalisation ---------------------------------------------- */

int mlg_path_normalize(char **out, const char *relpath, mlg_err *err)
{
  size_t n, i = 0, o = 0, j;
  char *r;
  fsx_q b;

  *out = NULL;
  if (!relpath)
    return mlg_err_set(err, MLG_EINVAL, "no path given");
  n = strlen(relpath);
  if (relpath[0] == '/')
    return mlg_err_set(err, MLG_EACCES,
                       "refusing '%s': absolute paths are not allowed in the workspace",
                       q(&b, relpath));
  if (n >= PATH_MAX)
    return mlg_err_set(err, MLG_EINVAL, "refusing '%s': path longer than %d bytes",
                       q(&b, relpath), PATH_MAX - 1);
  r = malloc(n + 2);
  if (!r)
    return mlg_err_set(err, MLG_ENOMEM, "out of memory");
  while (i < n) {
    for (j = i; j < n && relpath[j] != '/'; j++)
      ;
    if (j - i == 0 || (j - i == 1 && relpath[i] == '.')) {
      /* empty or "." */
    } else if (j - i == 2 && relpath[i] == '.' && relpath[i + 1] == '.') {
      char *slash;
      if (o == 0) {
        free(r);
        return mlg_err_set(err, MLG_EACCES, "refusing '%s': it leaves the workspace",
                           q(&b, relpath));
      }
      slash = memrchr(r, '/', o);
      o = slash ? (size_t)(slash - r) : 0;
    } else {
      if (o)
        r[o++] = '/';
      memcpy(r + o, relpath + i, j - i);
      o += j - i;
    }
    i = j + 1;
  }
  if (o == 0)
    r[o++] = '.';
  r[o] = '\0';
  *out = r;
  return 0;
}

/* --- confined resolution ------------------------------------------------ */

/* Resolves norm below rootfd one component at a time, reading symlinks
 * itself, for kernels without openat2. Keeps a descriptor per level so ".."
 * goes back exactly where it came from and can never climb above the root.
 * Returns a descriptor or -errno (-EXDEV when the path would leave). */
static int fallback_open(int rootfd, const char *norm, int flags)
{
  mlg_buf rest = MLG_BUF_INIT;
  int *stack = NULL, cur = rootfd, fd = -1, rc, hops = 0;
  size_t depth = 0, cap = 0, pos = 0, end, next;
  char name[NAME_MAX + 1], target[PATH_MAX];
  struct stat st;

  if (mlg_buf_puts(&rest, norm))
    return -ENOMEM;
  for (;;) {
    int last;

    while (pos < rest.len && rest.ptr[pos] == '/')
      pos++;
    if (pos >= rest.len) {
      /* Resolved to a directory we already hold (".", "a/.."). */
      rc = openat(cur, ".", flags);
      if (rc < 0)
        rc = -errno;
      goto done;
    }
    for (end = pos; end < rest.len && rest.ptr[end] != '/'; end++)
      ;
    for (next = end; next < rest.len && rest.ptr[next] == '/'; next++)
      ;
    last = next >= rest.len;
    if (end - pos > NAME_MAX) {
      rc = -ENAMETOOLONG;
      goto done;
    }
    memcpy(name, rest.ptr + pos, end - pos);
    name[end - pos] = '\0';
    pos = next;

    if (!strcmp(name, "."))
      continue;
    if (!strcmp(name, "..")) {
      if (depth == 0) {
        rc = -EXDEV;
        goto done;
      }
      close(stack[--depth]);
      cur = depth ? stack[depth - 1] : rootfd;
      continue;
    }

    fd = openat(cur, name, O_PATH | O_NOFOLLOW | O_CLOEXEC);
    if (fd < 0 || fstat(fd, &st) < 0) {
      rc = -errno;
      goto done;
    }
    if (S_ISLNK(st.st_mode)) {
      /* expanded below */
    } else if (!last) {
      if (!S_ISDIR(st.st_mode)) {
        rc = -ENOTDIR;
        goto done;
      }
      if (depth == cap) {
        size_t ncap = cap ? cap * 2 : 16;
        int *ns = realloc(stack, ncap * sizeof *ns);
        if (!ns) {
          rc = -ENOMEM;
          goto done;
        }
        stack = ns;
        cap = ncap;
      }
      stack[depth++] = cur = fd;
      fd = -1;
      continue;
    } else if (flags & O_PATH) {
      if ((flags & O_DIRECTORY) && !S_ISDIR(st.st_mode)) {
        rc = -ENOTDIR;
        goto done;
      }
      rc = fd;
      fd = -1;
      goto done;
    } else {
      /* Reopen for real; O_NOFOLLOW turns a link swapped in meanwhile
       * into ELOOP instead of following it. */
      close(fd);
      fd = -1;
      rc = openat(cur, name, flags | O_NOFOLLOW);
      if (rc < 0)
        rc = -errno;
      goto done;
    }

    /* A symlink: splice its target in front of what is left. */
    ssize_t n;
    mlg_buf nrest = MLG_BUF_INIT;
    if (fd >= 0) {
      close(fd);
      fd = -1;
    }
    if (++hops > FSX_MAX_HOPS) {
      rc = -ELOOP;
      goto done;
    }
    n = readlinkat(cur, name, target, sizeof target);
    if (n < 0) {
      rc = -errno;
      goto done;
    }
    if ((size_t)n >= sizeof target) {
      rc = -ENAMETOOLONG;
      goto done;
    }
    if (n == 0) {
      rc = -ENOENT;
      goto done;
    }
    if (target[0] == '/') {
      rc = -EXDEV;
      goto done;
    }
    if (mlg_buf_put(&nrest, target, (size_t)n) || mlg_buf_putc(&nrest, '/') ||
        mlg_buf_put(&nrest, rest.ptr + pos, rest.len - pos)) {
      mlg_buf_free(&nrest);
      rc = -ENOMEM;
      goto done;
    }
    mlg_buf_free(&rest);
    rest = nrest;
    pos = 0;
  }

done:
  if (fd >= 0)
    close(fd);
  while (depth)
    close(stack[--depth]);
  free(stack);
  mlg_buf_free(&rest);
  return rc;
}

/* Opens a normalised path below rootfd, never leaving it; -errno on failure. */
static int confined_open(int rootfd, const char *norm, int flags)
{
  if (!atomic_load_explicit(&fsx_no_openat2, memory_order_relaxed)) {
    struct open_how how;
    long fd;
    int tries = 0;

    memset(&how, 0, sizeof how);
    how.flags = (uint64_t)(unsigned)flags;
    how.resolve = RESOLVE_BENEATH | RESOLVE_NO_MAGICLINKS;
    /* EAGAIN: a concurrent rename made ".." unverifiable; retry a few
     * times, then give up rather than spin under an attack. */
    do {
      fd = syscall(SYS_openat2, rootfd, norm, &how, sizeof how);
    } while (fd < 0 && (errno == EINTR || errno == EAGAIN) && ++tries < 16);
    if (fd >= 0)
      return (int)fd;
    if (errno != ENOSYS && errno != EPERM)
      return -errno;
    atomic_store_explicit(&fsx_no_openat2, 1, memory_order_relaxed);
  }
  return fallback_open(rootfd, norm, flags);
}

/* Pseudo filesystems are never walked into: their files lie about their
 * size and some have side effects when read. */
static int is_special_fs(int fd)
{
  static const uint32_t magic[] = {
    PROC_SUPER_MAGIC, SYSFS_MAGIC, DEBUGFS_MAGIC, TRACEFS_MAGIC, SECURITYFS_MAGIC,
    CGROUP_SUPER_MAGIC, CGROUP2_SUPER_MAGIC, DEVPTS_SUPER_MAGIC, BPF_FS_MAGIC,
    SELINUX_MAGIC, SMACK_MAGIC, PSTOREFS_MAGIC, EFIVARFS_MAGIC, BINFMTFS_MAGIC,
  };
  struct statfs sf;
  size_t i;

  if (fstatfs(fd, &sf) < 0)
    return 0;
  for (i = 0; i < sizeof magic / sizeof magic[0]; i++)
    if ((uint32_t)sf.f_type == magic[i])
      return 1;
  return 0;
}

/* --- walk --------------------------------------------------------------- */

typedef struct fsx_walk {
  mlg_ws *ws;
  size_t cap, dirs;
  size_t max_files, max_depth;
  mlg_buf path;
  mlg_err *err;
} fsx_walk;

static int add_entry(mlg_ws *ws, size_t *cap, const char *path, const struct stat *st)
{
  mlg_file *f;

  if (ws->nfiles == *cap) {
    size_t ncap = *cap ? *cap * 2 : 64;
    mlg_file *nf = realloc(ws->files, ncap * sizeof *nf);
    if (!nf)
      return MLG_ENOMEM;
    ws->files = nf;
    *cap = ncap;
  }
  f = &ws->files[ws->nfiles];
  memset(f, 0, sizeof *f);
  f->path = strdup(path);
  if (!f->path)
    return MLG_ENOMEM;
  ws->nfiles++;
  if (S_ISLNK(st->st_mode)) {
    struct stat tst;
    int fd = confined_open(ws->rootfd, path, O_PATH | O_CLOEXEC);
    f->link = 1;
    if (fd < 0 || fstat(fd, &tst) < 0) {
      /* Dangling, looping or outside: all equally unusable. */
      f->escapes = 1;
    } else if (S_ISREG(tst.st_mode)) {
      f->size = (uint64_t)tst.st_size;
    }
    if (fd >= 0)
      close(fd);
  } else {
    f->size = (uint64_t)st->st_size;
    ws->total_bytes += f->size;
  }
  return 0;
}

static const char *dir_name(const fsx_walk *w)
{
  return w->path.len ? w->path.ptr : ".";
}

static int walk_dir(fsx_walk *w, int dirfd, dev_t dev, size_t depth)
{
  DIR *d = fdopendir(dirfd);
  size_t base = w->path.len;
  struct dirent *de;
  struct stat st;
  fsx_q b;
  int rc = 0;

  if (!d) {
    rc = mlg_err_set(w->err, MLG_EIO, "cannot read directory '%s': %s", q(&b, dir_name(w)),
                     strerror(errno));
    close(dirfd);
    return rc;
  }
  for (;;) {
    const char *name;
    errno = 0;
    de = readdir(d);
    if (!de) {
      if (errno)
        rc = mlg_err_set(w->err, MLG_EIO, "cannot read directory '%s': %s",
                         q(&b, dir_name(w)), strerror(errno));
      break;
    }
    name = de->d_name;
    if (!strcmp(name, ".") || !strcmp(name, ".."))
      continue;
    if (fstatat(dirfd, name, &st, AT_SYMLINK_NOFOLLOW) < 0) {
      if (errno == ENOENT)
        continue; /* removed while we looked */
      fsx_q b2;
      rc = mlg_err_set(w->err, MLG_EIO, "cannot stat '%s/%s': %s", q(&b, dir_name(w)),
                       q(&b2, name), strerror(errno));
      break;
    }
    /* .git directories and the gitdir files of worktrees and submodules
     * are repository metadata, not workspace content (see
     * has_git_segment). */
    if (!strcmp(name, ".git"))
      continue;
    if (!S_ISDIR(st.st_mode) && !S_ISREG(st.st_mode) && !S_ISLNK(st.st_mode))
      continue; /* FIFOs, sockets, devices */
    if (!S_ISDIR(st.st_mode) && w->ws->nfiles >= w->max_files) {
      rc = mlg_err_set(w->err, MLG_ELIMIT,
                       "workspace has more than %zu files (max_files), stopped in directory '%s'",
                       w->max_files, q(&b, dir_name(w)));
      break;
    }
    if ((base && mlg_buf_putc(&w->path, '/')) || mlg_buf_puts(&w->path, name)) {
      rc = mlg_err_set(w->err, MLG_ENOMEM, "out of memory");
      break;
    }
    if (S_ISDIR(st.st_mode)) {
      int fd;
      if (depth + 1 > w->max_depth) {
        rc = mlg_err_set(w->err, MLG_ELIMIT,
                         "directory '%s' is more than %zu levels deep (max_depth)",
                         q(&b, w->path.ptr), w->max_depth);
        break;
      }
      /* Directories count against max_files too, so a tree of empty
       * directories cannot make the walk unbounded. */
      if (++w->dirs > w->max_files) {
        w->path.len = base;
        w->path.ptr[base] = '\0';
        rc = mlg_err_set(w->err, MLG_ELIMIT,
                         "workspace has more than %zu directories (max_files), stopped in "
                         "directory '%s'", w->max_files, q(&b, dir_name(w)));
        break;
      }
      fd = openat(dirfd, name, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC | O_NONBLOCK);
      if (fd < 0) {
        if (errno != ENOENT && errno != ENOTDIR && errno != ELOOP) {
          rc = mlg_err_set(w->err, MLG_EIO, "cannot open directory '%s': %s",
                           q(&b, w->path.ptr), strerror(errno));
          break;
        }
        /* replaced while we looked: not a directory any more */
      } else if (st.st_dev != dev && is_special_fs(fd)) {
        close(fd);
      } else {
        rc = walk_dir(w, fd, st.st_dev, depth + 1);
        if (rc)
          break;
      }
    } else {
      rc = add_entry(w->ws, &w->cap, w->path.ptr, &st);
      if (rc) {
        mlg_err_set(w->err, rc, "out of memory");
        break;
      }
    }
    w->path.len = base;
    w->path.ptr[base] = '\0';
  }
  closedir(d);
  return rc;
}

static int cmp_file(const void *a, const void *b)
{
  return strcmp(((const mlg_file *)a)->path, ((const mlg_file *)b)->path);
}

int mlg_ws_open(mlg_ws **out, const char *path, const mlg_ws_opts *opts, mlg_err *err)
{
  mlg_ws *ws;
  struct stat st;
  char *dir = NULL;
  fsx_q b;
  int rc = 0, fd;

  *out = NULL;
  if (!path || !*path)
    path = ".";
  ws = calloc(1, sizeof *ws);
  if (!ws)
    return mlg_err_set(err, MLG_ENOMEM, "out of memory");
  ws->rootfd = -1;

  if (stat(path, &st) < 0) {
    /* A dangling symlink is still a file to report on. */
    if (errno != ENOENT || lstat(path, &st) < 0 || !S_ISLNK(st.st_mode)) {
      rc = mlg_err_set(err, errno == ENOENT ? MLG_ENOENT : MLG_EIO,
                       "cannot open workspace '%s': %s", q(&b, path), strerror(errno));
      goto done;
    }
  }
  if (S_ISDIR(st.st_mode)) {
    ws->root = realpath(path, NULL);
  } else {
    const char *slash = strrchr(path, '/');
    const char *name = slash ? slash + 1 : path;
    dir = slash ? strndup(path, slash == path ? 1 : (size_t)(slash - path)) : strdup(".");
    ws->single = strdup(name);
    if (!dir || !ws->single) {
      rc = mlg_err_set(err, MLG_ENOMEM, "out of memory");
      goto done;
    }
    ws->root = realpath(dir, NULL);
  }
  if (!ws->root) {
    rc = mlg_err_set(err, MLG_EIO, "cannot resolve workspace '%s': %s", q(&b, path),
                     strerror(errno));
    goto done;
  }
  ws->rootfd = open(ws->root, O_PATH | O_DIRECTORY | O_CLOEXEC);
  if (ws->rootfd < 0) {
    rc = mlg_err_set(err, MLG_EIO, "cannot open workspace '%s': %s", q(&b, ws->root),
                     strerror(errno));
    goto done;
  }
  if (is_special_fs(ws->rootfd)) {
    rc = mlg_err_set(err, MLG_EACCES, "refusing workspace '%s': it is on a pseudo filesystem",
                     q(&b, ws->root));
    goto done;
  }

  if (ws->single) {
    size_t cap = 0;
    if (fstatat(ws->rootfd, ws->single, &st, AT_SYMLINK_NOFOLLOW) < 0) {
      rc = mlg_err_set(err, errno == ENOENT ? MLG_ENOENT : MLG_EIO, "cannot open '%s': %s",
                       q(&b, path), strerror(errno));
      goto done;
    }
    if (!S_ISREG(st.st_mode) && !S_ISLNK(st.st_mode)) {
      rc = mlg_err_set(err, MLG_EINVAL, "refusing '%s': %s, not a regular file or directory",
                       q(&b, path), type_name(st.st_mode));
      goto done;
    }
    rc = add_entry(ws, &cap, ws->single, &st);
    if (rc)
      mlg_err_set(err, rc, "out of memory");
    goto done;
  }

  fsx_walk w;
  memset(&w, 0, sizeof w);
  w.ws = ws;
  w.err = err;
  w.max_files = opts && opts->max_files ? opts->max_files : FSX_DEFAULT_MAX_FILES;
  w.max_depth = opts && opts->max_depth ? opts->max_depth : FSX_DEFAULT_MAX_DEPTH;
  if (mlg_buf_grow(&w.path, 256)) {
    rc = mlg_err_set(err, MLG_ENOMEM, "out of memory");
    goto done;
  }
  w.path.ptr[0] = '\0';
  fd = openat(ws->rootfd, ".", O_RDONLY | O_DIRECTORY | O_CLOEXEC | O_NONBLOCK);
  if (fd < 0 || fstat(fd, &st) < 0) {
    rc = mlg_err_set(err, MLG_EIO, "cannot read workspace '%s': %s", q(&b, ws->root),
                     strerror(errno));
    if (fd >= 0)
      close(fd);
  } else {
    rc = walk_dir(&w, fd, st.st_dev, 0);
    if (rc)
      mlg_err_prefix(err, "walking '%s'", q(&b, ws->root));
  }
  mlg_buf_free(&w.path);
  if (!rc && ws->nfiles > 1)
    qsort(ws->files, ws->nfiles, sizeof *ws->files, cmp_file);

done:
  free(dir);
  if (rc) {
    mlg_ws_free(ws);
    return rc;
  }
  *out = ws;
  return 0;
}

void mlg_ws_free(mlg_ws *ws)
{
  size_t i;
  if (!ws)
    return;
  for (i = 0; i < ws->nfiles; i++)
    free(ws->files[i].path);
  free(ws->files);
  if (ws->rootfd >= 0)
    close(ws->rootfd);
  free(ws->root);
  free(ws->single);
  free(ws);
}

const mlg_file *mlg_ws_find(const mlg_ws *ws, const char *relpath)
{
  mlg_file key;
  if (!ws || !relpath || !ws->nfiles)
    return NULL;
  key.path = (char *)relpath;
  return bsearch(&key, ws->files, ws->nfiles, sizeof *ws->files, cmp_file);
}

/* --- confined access ---------------------------------------------------- */

/* The repository's own metadata is off limits: .git/config holds the
 * credentials a CI checkout leaves behind (http.extraheader, token URLs).
 * Git data is for the git API, never for policies reading files. */
static int has_git_segment(const char *path)
{
  const char *p = path;
  while (*p) {
    const char *end = strchr(p, '/');
    size_t n = end ? (size_t)(end - p) : strlen(p);
    if (n == 4 && memcmp(p, ".git", 4) == 0)
      return 1;
    if (!end)
      break;
    p = end + 1;
  }
  return 0;
}

static int git_refusal(mlg_err *err, const char *relpath)
{
  fsx_q b;
  return mlg_err_set(err, MLG_EACCES,
                     "refusing '%s': files of the .git directory are not readable by policies",
                     q(&b, relpath));
}

/* Where an open descriptor really is, relative to the root, checked for a
 * .git segment (a symlink inside the workspace may lead into .git). Fails
 * closed when the path cannot be verified. */
static int check_resolved(const mlg_ws *ws, int fd, const char *relpath, mlg_err *err)
{
  char link[64], real[PATH_MAX + 1];
  size_t rl = strlen(ws->root);
  ssize_t n;
  fsx_q b;

  snprintf(link, sizeof link, "/proc/self/fd/%d", fd);
  n = readlink(link, real, sizeof real - 1);
  if (n < 0 || (size_t)n >= sizeof real - 1)
    return mlg_err_set(err, MLG_EACCES, "refusing '%s': cannot verify where it leads (is /proc "
                                        "mounted?)", q(&b, relpath));
  real[n] = '\0';
  if (strncmp(real, ws->root, rl) != 0 || (real[rl] != '/' && real[rl] != '\0'))
    return mlg_err_set(err, MLG_EACCES, "refusing '%s': it leaves the workspace", q(&b, relpath));
  if (has_git_segment(real + rl + (real[rl] == '/')))
    return git_refusal(err, relpath);
  return 0;
}

int mlg_ws_open_file(int *fd_out, const mlg_ws *ws, const char *relpath, mlg_err *err)
{
  char *norm = NULL;
  struct stat st;
  fsx_q b;
  int fd, rc, fl;

  *fd_out = -1;
  if (!ws)
    return mlg_err_set(err, MLG_EINVAL, "no workspace");
  rc = mlg_path_normalize(&norm, relpath, err);
  if (rc)
    return rc;
  if (has_git_segment(norm)) {
    free(norm);
    return git_refusal(err, relpath);
  }
  /* O_NONBLOCK so that a FIFO swapped in cannot block the open. */
  fd = confined_open(ws->rootfd, norm, O_RDONLY | O_NONBLOCK | O_CLOEXEC | O_NOCTTY);
  free(norm);
  if (fd < 0)
    return open_error(err, -fd, relpath);
  if ((rc = check_resolved(ws, fd, relpath, err)) != 0) {
    close(fd);
    return rc;
  }
  if (fstat(fd, &st) < 0) {
    rc = mlg_err_set(err, MLG_EIO, "cannot stat '%s': %s", q(&b, relpath), strerror(errno));
    close(fd);
    return rc;
  }
  if (!S_ISREG(st.st_mode)) {
    close(fd);
    return mlg_err_set(err, MLG_EACCES, "refusing '%s': %s, not a regular file",
                       q(&b, relpath), type_name(st.st_mode));
  }
  /* A procfs mounted inside the workspace would hand out this process's
   * environment and memory as "regular files". */
  if (is_special_fs(fd)) {
    close(fd);
    return mlg_err_set(err, MLG_EACCES, "refusing '%s': it is on a pseudo filesystem",
                       q(&b, relpath));
  }
  fl = fcntl(fd, F_GETFL);
  if (fl < 0 || fcntl(fd, F_SETFL, fl & ~O_NONBLOCK) < 0) {
    rc = mlg_err_set(err, MLG_EIO, "cannot open '%s': %s", q(&b, relpath), strerror(errno));
    close(fd);
    return rc;
  }
  *fd_out = fd;
  return 0;
}

static mlg_ftype ftype_of(mode_t m)
{
  if (S_ISREG(m))
    return MLG_FT_FILE;
  if (S_ISDIR(m))
    return MLG_FT_DIR;
  if (S_ISLNK(m))
    return MLG_FT_SYMLINK;
  return MLG_FT_OTHER;
}

int mlg_ws_stat(mlg_stat *out, const mlg_ws *ws, const char *relpath, mlg_err *err)
{
  char *norm = NULL, *slash;
  struct stat st;
  int rc = 0, pfd = -1, fd = -1;
  fsx_q b;

  memset(out, 0, sizeof *out);
  if (!ws)
    return mlg_err_set(err, MLG_EINVAL, "no workspace");
  rc = mlg_path_normalize(&norm, relpath, err);
  if (rc)
    return rc;
  if (has_git_segment(norm)) {
    free(norm);
    return git_refusal(err, relpath);
  }

  if (strcmp(norm, ".") != 0) {
    /* lstat of the last component, through a confined parent */
    const char *base = norm;
    slash = strrchr(norm, '/');
    if (slash) {
      *slash = '\0';
      base = slash + 1;
      pfd = confined_open(ws->rootfd, norm, O_PATH | O_DIRECTORY | O_CLOEXEC);
      *slash = '/';
      if (pfd < 0) {
        rc = open_error(err, -pfd, relpath);
        goto done;
      }
    }
    if (fstatat(pfd >= 0 ? pfd : ws->rootfd, base, &st, AT_SYMLINK_NOFOLLOW) < 0) {
      rc = open_error(err, errno, relpath);
      goto done;
    }
    out->link = S_ISLNK(st.st_mode);
  }
  if (out->link || !strcmp(norm, ".")) {
    fd = confined_open(ws->rootfd, norm, O_PATH | O_CLOEXEC);
    if (fd < 0) {
      out->type = MLG_FT_SYMLINK;
      rc = open_error(err, -fd, relpath);
      goto done;
    }
    if (fstat(fd, &st) < 0) {
      rc = mlg_err_set(err, MLG_EIO, "cannot stat '%s': %s", q(&b, relpath), strerror(errno));
      goto done;
    }
  }
  out->type = ftype_of(st.st_mode);
  out->size = S_ISREG(st.st_mode) ? (uint64_t)st.st_size : 0;
  out->mtime = (int64_t)st.st_mtim.tv_sec;

done:
  if (pfd >= 0)
    close(pfd);
  if (fd >= 0)
    close(fd);
  free(norm);
  return rc;
}

int mlg_ws_read(char **out, size_t *len, const mlg_ws *ws, const char *relpath, size_t max,
                mlg_err *err)
{
  struct stat st;
  char *buf = NULL, *nb;
  size_t used = 0, cap;
  int fd = -1, rc;
  fsx_q b;

  *out = NULL;
  if (len)
    *len = 0;
  if (max == 0)
    max = FSX_DEFAULT_READ_MAX;
  if (max > (size_t)-1 / 2)
    max = (size_t)-1 / 2;
  rc = mlg_ws_open_file(&fd, ws, relpath, err);
  if (rc)
    return rc;
  if (fstat(fd, &st) < 0) {
    rc = mlg_err_set(err, MLG_EIO, "cannot stat '%s': %s", q(&b, relpath), strerror(errno));
    goto done;
  }
  if ((uint64_t)st.st_size > (uint64_t)max) {
    rc = mlg_err_set(err, MLG_ELIMIT, "file '%s' is %llu bytes, over the %zu-byte read limit",
                     q(&b, relpath), (unsigned long long)st.st_size, max);
    goto done;
  }
  /* st_size is a hint: the file may change under us, so the cap is
   * enforced on what is actually read. */
  cap = (size_t)st.st_size + 1;
  if (cap < 64)
    cap = 64;
  if (cap > max + 1)
    cap = max + 1;
  buf = malloc(cap);
  if (!buf) {
    rc = mlg_err_set(err, MLG_ENOMEM, "out of memory reading '%s'", q(&b, relpath));
    goto done;
  }
  for (;;) {
    ssize_t n;
    if (used == cap - 1) {
      char probe;
      if (used >= max) {
        do {
          n = read(fd, &probe, 1);
        } while (n < 0 && errno == EINTR);
        if (n > 0) {
          rc = mlg_err_set(err, MLG_ELIMIT, "file '%s' is over the %zu-byte read limit",
                           q(&b, relpath), max);
          goto done;
        }
        if (n < 0)
          goto read_error;
        break;
      }
      size_t ncap = (cap - 1) * 2 + 1;
      if (ncap > max + 1)
        ncap = max + 1;
      nb = realloc(buf, ncap);
      if (!nb) {
        rc = mlg_err_set(err, MLG_ENOMEM, "out of memory reading '%s'", q(&b, relpath));
        goto done;
      }
      buf = nb;
      cap = ncap;
    }
    n = read(fd, buf + used, cap - 1 - used);
    if (n < 0) {
      if (errno == EINTR)
        continue;
      goto read_error;
    }
    if (n == 0)
      break;
    used += (size_t)n;
  }
  buf[used] = '\0';
  *out = buf;
  buf = NULL;
  if (len)
    *len = used;
  rc = 0;
  goto done;

read_error:
  rc = mlg_err_set(err, MLG_EIO, "cannot read '%s': %s", q(&b, relpath), strerror(errno));
done:
  free(buf);
  if (fd >= 0)
    close(fd);
  return rc;
}

int mlg_ws_read_range(char **out, size_t *len, uint64_t *size, const mlg_ws *ws,
                      const char *relpath, int64_t offset, size_t n, mlg_err *err)
{
  struct stat st;
  char *buf = NULL;
  size_t got = 0;
  uint64_t start;
  int fd = -1, rc;
  fsx_q b;

  *out = NULL;
  *len = 0;
  if (n > FSX_DEFAULT_READ_MAX)
    n = FSX_DEFAULT_READ_MAX;
  if ((rc = mlg_ws_open_file(&fd, ws, relpath, err)) != 0)
    return rc;
  if (fstat(fd, &st) < 0) {
    rc = mlg_err_set(err, MLG_EIO, "cannot stat '%s': %s", q(&b, relpath), strerror(errno));
    goto done;
  }
  if (size)
    *size = (uint64_t)st.st_size;
  if (offset < 0)
    start = (uint64_t)-offset >= (uint64_t)st.st_size ? 0 : (uint64_t)st.st_size - (uint64_t)-offset;
  else
    start = (uint64_t)offset;
  if (!(buf = malloc(n + 1))) {
    rc = mlg_err_set(err, MLG_ENOMEM, "out of memory reading '%s'", q(&b, relpath));
    goto done;
  }
  while (got < n) {
    ssize_t r = pread(fd, buf + got, n - got, (off_t)(start + got));
    if (r < 0) {
      if (errno == EINTR)
        continue;
      rc = mlg_err_set(err, MLG_EIO, "cannot read '%s': %s", q(&b, relpath), strerror(errno));
      goto done;
    }
    if (r == 0)
      break;
    got += (size_t)r;
  }
  buf[got] = '\0';
  *out = buf;
  *len = got;
  buf = NULL;
done:
  free(buf);
  close(fd);
  return rc;
}
