/* Interned model strings of the GitLab CI builder (see MLG_PL_ATOMS in
 * pipeline_val.h): X(G_<ID>, "text"), ids prefixed G_ so they never clash
 * with the shared or the Jenkins atoms. */
#ifndef MLG_PIPELINE_ATOMS_GITLAB_H
#define MLG_PIPELINE_ATOMS_GITLAB_H

#define MLG_PL_ATOMS_GITLAB(X) X(G_GITLAB, "gitlab") X(G_KIND, "gitlab-ci")

#endif
