/*
 * Entry of the pipeline model: which kind a file is, parsing, and the
 * builder for that kind (see pipeline.h for the model).
 */
#include "pipeline.h"

#include <stdint.h>
#include <string.h>

#include "parse.h"
#include "pipeline_val.h"

static int ends_with(const char *s, size_t n, const char *suffix)
{
  size_t k = strlen(suffix);
  return n >= k && memcmp(s + n - k, suffix, k) == 0;
}

/* s[0..n) is `name` at the start of the path or after a '/'. */
static int is_component(const char *path, const char *s, const char *name)
{
  return (s == path || s[-1] == '/') && strncmp(s, name, strlen(name)) == 0;
}

mlg_pipeline_kind mlg_pipeline_kind_of_path(const char *path)
{
  const char *base, *wf;
  size_t n, bl;

  if (!path)
    return MLG_PK_UNKNOWN;
  n = strlen(path);
  base = strrchr(path, '/');
  base = base ? base + 1 : path;
  bl = strlen(base);
  /* GitHub reads the files directly in .github/workflows only. */
  if ((ends_with(base, bl, ".yml") || ends_with(base, bl, ".yaml")) && base - path >= 18) {
    wf = base - 18;
    if (is_component(path, wf, ".github/workflows/"))
      return MLG_PK_GHA_WORKFLOW;
  }
  if (ends_with(path, n, ".github/dependabot.yml") ||
      ends_with(path, n, ".github/dependabot.yaml")) {
    const char *g = path + n - (ends_with(path, n, ".yml") ? 22 : 23);
    if (is_component(path, g, ".github/"))
      return MLG_PK_DEPENDABOT;
  }
  if (strcmp(base, "action.yml") == 0 || strcmp(base, "action.yaml") == 0)
    return MLG_PK_GHA_ACTION;
  if (strcmp(base, ".pre-commit-config.yaml") == 0 || strcmp(base, ".pre-commit-config.yml") == 0)
    return MLG_PK_PRECOMMIT;
  /* GitLab's default name, and the "<name>.gitlab-ci.yml" convention of
   * projects whose CI/CD configuration file setting points elsewhere. */
  if (ends_with(base, bl, ".gitlab-ci.yml") || ends_with(base, bl, ".gitlab-ci.yaml"))
    return MLG_PK_GITLAB;
  /* Jenkinsfile, Jenkinsfile.release, train.Jenkinsfile, x.jenkinsfile */
  if (strncmp(base, "Jenkinsfile", 11) == 0 && (base[11] == '\0' || base[11] == '.'))
    return MLG_PK_JENKINS;
  if (ends_with(base, bl, ".Jenkinsfile") || ends_with(base, bl, ".jenkinsfile"))
    return MLG_PK_JENKINS;
  return MLG_PK_UNKNOWN;
}

const char *mlg_pipeline_kind_name(mlg_pipeline_kind kind)
{
  switch (kind) {
  case MLG_PK_GHA_WORKFLOW: return "workflow";
  case MLG_PK_GHA_ACTION: return "action";
  case MLG_PK_DEPENDABOT: return "dependabot";
  case MLG_PK_PRECOMMIT: return "precommit";
  case MLG_PK_GITLAB: return "gitlab-ci";
  case MLG_PK_JENKINS: return "jenkinsfile";
  default: return "unknown";
  }
}

static mlg_pipeline_kind kind_of_content(const mlg_node *root)
{
  if (!root || root->type != MLG_MAP)
    return MLG_PK_UNKNOWN;
  if (mlg_map_find(root, "jobs"))
    return MLG_PK_GHA_WORKFLOW;
  if (mlg_map_find(root, "runs"))
    return MLG_PK_GHA_ACTION;
  if (mlg_map_find(root, "updates"))
    return MLG_PK_DEPENDABOT;
  if (mlg_map_find(root, "repos"))
    return MLG_PK_PRECOMMIT;
  return MLG_PK_UNKNOWN;
}

static const mlg_pl_atom kind_atoms[] = {MLG_A_V_WORKFLOW, MLG_A_V_WORKFLOW, MLG_A_V_ACTION,
                                         MLG_A_V_DEPENDABOT, MLG_A_V_PRECOMMIT};

static int build(mlg_pl *pl, const mlg_node *root)
{
  mlg_node *model = mlg_pl_map(pl, 16);

  if (pl->rc)
    return pl->rc;
  if (mlg_doc_add_root(pl->doc, model))
    return mlg_pl_oom(pl);
  mlg_pl_set_atom(pl, model, MLG_A_PLATFORM, MLG_A_V_GITHUB);
  mlg_pl_set_atom(pl, model, MLG_A_KIND, kind_atoms[pl->kind]);
  mlg_pl_set(pl, model, MLG_A_PATH, mlg_pl_str(pl, pl->name, strlen(pl->name)));
  mlg_pl_set_int(pl, model, MLG_A_LINE, 1);
  mlg_pl_set_int(pl, model, MLG_A_COL, 1);
  /* Comments first: builders attach them to `uses:` and scopes. */
  if (mlg_pl_scan_comments(pl, root))
    return pl->rc;
  switch (pl->kind) {
  case MLG_PK_GHA_WORKFLOW: mlg_pl_build_workflow(pl, root, model); break;
  case MLG_PK_GHA_ACTION: mlg_pl_build_action(pl, root, model); break;
  case MLG_PK_DEPENDABOT: mlg_pl_build_dependabot(pl, root, model); break;
  default: mlg_pl_build_precommit(pl, root, model); break;
  }
  if (pl->kind == MLG_PK_GHA_WORKFLOW || pl->kind == MLG_PK_GHA_ACTION)
    mlg_pl_set(pl, model, MLG_A_EXPRS, mlg_pl_exprs_seq(pl));
  mlg_pl_set(pl, model, MLG_A_COMMENTS, pl->comments_seq);
  return pl->rc;
}

int mlg_pipeline_load(mlg_doc **out, const char *text, size_t len, const char *name,
                      mlg_pipeline_kind kind, mlg_err *err)
{
  return mlg_pipeline_load_ex(out, text, len, name, kind, NULL, NULL, err);
}

int mlg_pipeline_load_ex(mlg_doc **out, const char *text, size_t len, const char *name,
                         mlg_pipeline_kind kind, mlg_pipeline_reader rd, void *rd_ud,
                         mlg_err *err)
{
  mlg_doc *src = NULL;
  const mlg_node *root;
  mlg_pl pl;
  size_t limit;
  int rc;

  if (!out)
    return mlg_err_set(err, MLG_EINVAL, "mlg_pipeline_load: no output");
  *out = NULL;
  if (!text && len)
    return mlg_err_set(err, MLG_EINVAL, "mlg_pipeline_load: no input");
  if (!text)
    text = "";
  name = name ? name : "<input>";
  /* GitLab CI has its own YAML dialect (merge keys, !reference, includes)
   * and Jenkinsfiles are Groovy: their loaders parse for themselves. */
  if (kind == MLG_PK_GITLAB)
    return mlg_gitlab_load(out, text, len, name, rd, rd_ud, err);
  if (kind == MLG_PK_JENKINS)
    return mlg_jenkins_load(out, text, len, name, err);
  if ((rc = mlg_yaml_parse(&src, text, len, name, NULL, err)) != 0) {
    /* A file chosen by content that is not YAML is not a CI definition. */
    if (kind == MLG_PK_UNKNOWN && rc == MLG_EPARSE)
      return mlg_err_set(err, MLG_ENOENT, "%s: not YAML, so no CI definition", name);
    return rc;
  }
  root = src->root;
  if (kind == MLG_PK_UNKNOWN && (kind = kind_of_content(root)) == MLG_PK_UNKNOWN) {
    mlg_doc_free(src);
    return mlg_err_set(err, MLG_ENOENT,
                       "%s: not a GitHub workflow or action, Dependabot or pre-commit config",
                       name);
  }
  if ((unsigned)kind > MLG_PK_PRECOMMIT) {
    mlg_doc_free(src);
    return mlg_err_set(err, MLG_EINVAL, "mlg_pipeline_load: unknown kind %d", (int)kind);
  }
  if (!root || root->type == MLG_NULL) {
    mlg_doc_free(src);
    return mlg_err_set(err, MLG_EPARSE, "%s:1:1: empty document: no %s here", name,
                       mlg_pipeline_kind_name(kind));
  }
  if (root->type != MLG_MAP) {
    rc = mlg_err_set(err, MLG_EPARSE, "%s:%u:%u: the top level of a %s must be a mapping, not %s",
                     name, root->span.line, root->span.col, mlg_pipeline_kind_name(kind),
                     mlg_node_typename(root));
    mlg_doc_free(src);
    return rc;
  }
  limit = len > (SIZE_MAX - MLG_PL_DOC_FLOOR) / MLG_PL_DOC_FACTOR
              ? SIZE_MAX
              : len * MLG_PL_DOC_FACTOR + MLG_PL_DOC_FLOOR;
  if (mlg_pl_init(&pl, text, len, name, kind, limit, err) == 0)
    build(&pl, root);
  rc = pl.rc;
  mlg_pl_fini(&pl);
  mlg_doc_free(src);
  if (rc) {
    mlg_doc_free(pl.doc);
    return rc;
  }
  *out = pl.doc;
  return 0;
}
