/*
 * GitLab CI loader (placeholder until the GitLab model lands: every
 * .gitlab-ci.yml is reported as not modelled yet, so no policy sees it).
 */
#include "pipeline.h"

int mlg_gitlab_load(mlg_doc **out, const char *text, size_t len, const char *name,
                    mlg_pipeline_reader rd, void *rd_ud, mlg_err *err)
{
  (void)text, (void)len, (void)rd, (void)rd_ud;
  if (out)
    *out = NULL;
  return mlg_err_set(err, MLG_ENOENT, "%s: GitLab CI is not modelled yet", name ? name : "<input>");
}
