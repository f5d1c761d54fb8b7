/*
 * Describing the repository a workspace lives in.
 *
 * HEAD is resolved by reading the few small files involved (HEAD, a loose
 * ref, packed-refs) rather than through libgit2: libgit2's global init
 * loads the system TLS certificate bundle, about 50 million instructions,
 * which alone would be most of the 50 ms budget of an evaluation that only
 * needs one commit id. History, diffs and objects will go through libgit2,
 * from this file only.
 */
#include "git.h"

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#define MAX_SMALL_FILE 65536
#define MAX_PACKED_REFS ((size_t)16 << 20)
#define MAX_SYMREF_HOPS 5

/* Reads a small file whole; NULL when missing or larger than max. */
static char *slurp(const char *path, size_t max, size_t *len)
{
  int fd = open(path, O_RDONLY | O_CLOEXEC | O_NOFOLLOW | O_NONBLOCK);
  struct stat st;
  char *buf = NULL;
  ssize_t n;
  size_t got = 0;

  if (fd < 0)
    return NULL;
  if (fstat(fd, &st) != 0 || !S_ISREG(st.st_mode) || (size_t)st.st_size > max)
    goto done;
  buf = malloc((size_t)st.st_size + 1);
  if (!buf)
    goto done;
  while (got < (size_t)st.st_size && (n = read(fd, buf + got, (size_t)st.st_size - got)) > 0)
    got += (size_t)n;
  buf[got] = '\0';
  *len = got;
done:
  close(fd);
  return buf;
}

/* out = a "/" b (b alone when a is empty); 0, or -1 when it does not fit
 * (then the lookup simply fails: paths that long are not a repository). */
static int join(char *out, size_t size, const char *a, const char *b)
{
  size_t la = strlen(a), lb = strlen(b);
  if (la + 1 + lb + 1 > size)
    return -1;
  memcpy(out, a, la);
  out[la] = '/';
  memcpy(out + la + 1, b, lb + 1);
  return 0;
}

static int copy(char *out, size_t size, const char *s)
{
  size_t l = strlen(s);
  if (l + 1 > size)
    return -1;
  memcpy(out, s, l + 1);
  return 0;
}

static int is_hex40(const char *s)
{
  int i;
  for (i = 0; i < 40; i++)
    if (!((s[i] >= '0' && s[i] <= '9') || (s[i] >= 'a' && s[i] <= 'f')))
      return 0;
  return 1;
}

/* A ref name we are willing to turn into a path: no "..", no absolute
 * path, only the characters git allows in practice. */
static int safe_ref(const char *ref)
{
  const char *p;
  if (strncmp(ref, "refs/", 5) != 0 || strstr(ref, "..") || strstr(ref, "//"))
    return 0;
  for (p = ref; *p; p++)
    if ((unsigned char)*p < 0x21 || *p == '\\' || *p == ':' || *p == '~' || *p == '^' ||
        *p == '?' || *p == '*' || *p == '[')
      return 0;
  return 1;
}

static int packed_ref(char out[41], const char *gitdir, const char *ref)
{
  char path[PATH_MAX];
  size_t len = 0, rl = strlen(ref);
  char *text, *line, *save = NULL;
  int found = 0;

  if (join(path, sizeof path, gitdir, "packed-refs") != 0 ||
      !(text = slurp(path, MAX_PACKED_REFS, &len)))
    return 0;
  for (line = strtok_r(text, "\n", &save); line && !found; line = strtok_r(NULL, "\n", &save))
    if (strlen(line) == 41 + rl && is_hex40(line) && line[40] == ' ' &&
        strcmp(line + 41, ref) == 0) {
      memcpy(out, line, 40);
      out[40] = '\0';
      found = 1;
    }
  free(text);
  return found;
}

/* HEAD -> commit id, following symbolic refs. */
static void resolve_head(char out[41], const char *gitdir, const char *commondir)
{
  char path[PATH_MAX], ref[1024] = "HEAD";
  int hop;

  out[0] = '\0';
  for (hop = 0; hop < MAX_SYMREF_HOPS; hop++) {
    const char *dir = strcmp(ref, "HEAD") == 0 ? gitdir : commondir;
    size_t len = 0;
    char *text, *nl;
    text = join(path, sizeof path, dir, ref) == 0 ? slurp(path, MAX_SMALL_FILE, &len) : NULL;
    if (!text) {
      if (strcmp(ref, "HEAD") != 0)
        packed_ref(out, commondir, ref);
      return;
    }
    if ((nl = strchr(text, '\n')))
      *nl = '\0';
    if (len >= 40 && is_hex40(text)) {
      memcpy(out, text, 40);
      out[40] = '\0';
      free(text);
      return;
    }
    if (strncmp(text, "ref: ", 5) != 0 || !safe_ref(text + 5) || strlen(text + 5) >= sizeof ref) {
      free(text);
      return;
    }
    copy(ref, sizeof ref, text + 5);
    free(text);
  }
}

int mlg_git_describe(mlg_git_info *out, const char *path, mlg_err *err)
{
  char dir[PATH_MAX], gitdir[PATH_MAX], commondir[PATH_MAX];
  struct stat st;
  char *end;
  int depth;

  (void)err;
  memset(out, 0, sizeof *out);
  if (!realpath(path, dir))
    return 0;
  if (stat(dir, &st) == 0 && !S_ISDIR(st.st_mode) && (end = strrchr(dir, '/'))) {
    if (end == dir)
      dir[1] = '\0';
    else
      *end = '\0';
  }
  /* Search upwards for .git (a directory, or a "gitdir:" file for
   * worktrees and submodules). */
  for (depth = 0; depth < 64; depth++) {
    char probe[PATH_MAX];
    if (join(probe, sizeof probe, strcmp(dir, "/") == 0 ? "" : dir, ".git") != 0)
      return 0;
    if (lstat(probe, &st) == 0) {
      if (S_ISDIR(st.st_mode)) {
        copy(gitdir, sizeof gitdir, probe);
        break;
      }
      if (S_ISREG(st.st_mode)) {
        size_t len = 0;
        char *text = slurp(probe, MAX_SMALL_FILE, &len), *nl;
        if (!text || strncmp(text, "gitdir: ", 8) != 0) {
          free(text);
          return 0;
        }
        if ((nl = strchr(text, '\n')))
          *nl = '\0';
        if (text[8] == '/' ? copy(gitdir, sizeof gitdir, text + 8)
                           : join(gitdir, sizeof gitdir, dir, text + 8)) {
          free(text);
          return 0;
        }
        free(text);
        break;
      }
    }
    if (strcmp(dir, "/") == 0)
      return 0;
    end = strrchr(dir, '/');
    if (end == dir)
      dir[1] = '\0';
    else
      *end = '\0';
  }
  if (depth == 64)
    return 0;
  /* Linked worktrees keep refs in the common directory. */
  copy(commondir, sizeof commondir, gitdir);
  {
    char probe[PATH_MAX];
    size_t len = 0;
    char *text = NULL, *nl;
    if (join(probe, sizeof probe, gitdir, "commondir") == 0 &&
        (text = slurp(probe, MAX_SMALL_FILE, &len)) != NULL) {
      if ((nl = strchr(text, '\n')))
        *nl = '\0';
      if (text[0] == '/' ? copy(commondir, sizeof commondir, text)
                         : join(commondir, sizeof commondir, gitdir, text))
        copy(commondir, sizeof commondir, gitdir);
    }
    free(text);
  }
  resolve_head(out->commit, gitdir, commondir);
  end = strrchr(dir, '/');
  copy(out->repository, sizeof out->repository, end && end[1] ? end + 1 : dir);
  return 0;
}
