/*
 * Jenkinsfile loader (placeholder until the Jenkins model lands: every
 * Jenkinsfile is reported as not modelled yet, so no policy sees it).
 */
#include "pipeline.h"

int mlg_jenkins_load(mlg_doc **out, const char *text, size_t len, const char *name, mlg_err *err)
{
  (void)text, (void)len;
  if (out)
    *out = NULL;
  return mlg_err_set(err, MLG_ENOENT, "%s: Jenkinsfiles are not modelled yet", name ? name : "<input>");
}
