/* Interned model strings of the Jenkinsfile builder (see MLG_PL_ATOMS in
 * pipeline_val.h): X(J_<ID>, "text"), ids prefixed J_ so they never clash
 * with the shared or the GitLab atoms. */
#ifndef MLG_PIPELINE_ATOMS_JENKINS_H
#define MLG_PIPELINE_ATOMS_JENKINS_H

#define MLG_PL_ATOMS_JENKINS(X) X(J_JENKINS, "jenkins") X(J_KIND, "jenkinsfile")

#endif
