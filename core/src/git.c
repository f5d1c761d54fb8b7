#include "git.h"

#include <string.h>

#include <git2.h>

int mlg_git_describe(mlg_git_info *out, const char *path, mlg_err *err)
{
  git_repository *repo = NULL;
  git_oid oid;
  const char *wd;
  int rc = 0;

  (void)err;
  memset(out, 0, sizeof *out);
  git_libgit2_init();
  if (git_repository_open_ext(&repo, path, 0, NULL) != 0)
    goto done; /* not a repository: nothing to describe */
  if (git_reference_name_to_id(&oid, repo, "HEAD") == 0)
    git_oid_tostr(out->commit, sizeof out->commit, &oid);
  wd = git_repository_workdir(repo);
  if (wd) {
    size_t len = strlen(wd);
    const char *end = wd + len, *start;
    while (end > wd && end[-1] == '/')
      end--;
    start = end;
    while (start > wd && start[-1] != '/')
      start--;
    if ((size_t)(end - start) < sizeof out->repository) {
      memcpy(out->repository, start, (size_t)(end - start));
      out->repository[end - start] = '\0';
    }
  }
done:
  git_repository_free(repo);
  git_libgit2_shutdown();
  return rc;
}
