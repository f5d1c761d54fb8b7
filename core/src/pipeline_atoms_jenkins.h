/* Interned model strings of the Jenkinsfile builder (see MLG_PL_ATOMS in
 * pipeline_val.h): X(J_<ID>, "text"), ids prefixed J_ so they never clash
 * with the shared or the GitLab atoms. */
#ifndef MLG_PIPELINE_ATOMS_JENKINS_H
#define MLG_PIPELINE_ATOMS_JENKINS_H

#define MLG_PL_ATOMS_JENKINS(X) \
  X(J_JENKINS, "jenkins") X(J_KIND, "jenkinsfile") X(J_DECLARATIVE, "declarative") \
  X(J_SCRIPTED, "scripted") X(J_LIBRARIES, "libraries") X(J_AT_LIBRARY, "@Library") \
  X(J_LIBRARY, "library") X(J_IDENTIFIER, "identifier") X(J_AGENT, "agent") \
  X(J_ANY, "any") X(J_LABEL, "label") X(J_NODE, "node") X(J_DOCKERFILE, "dockerfile") \
  X(J_KUBERNETES, "kubernetes") X(J_UNKNOWN, "unknown") X(J_PARAMETERS, "parameters") \
  X(J_TRIGGERS, "triggers") X(J_NOTES, "notes") X(J_LOADS, "loads") X(J_WHEN, "when") \
  X(J_CHANGE_REQUEST, "change_request") X(J_EXPRESSION, "expression") X(J_REACH, "reach") \
  X(J_MERGE_REQUEST, "merge_request") X(J_FORK, "fork") X(J_BRANCH, "branch") \
  X(J_DEFAULT_BRANCH, "default_branch") X(J_MANUAL, "manual") X(J_API, "api") \
  X(J_TRIGGER, "trigger") X(J_INPUT, "input") X(J_VARIABLES, "variables") X(J_VIA, "via") \
  X(J_WITH_CREDENTIALS, "withCredentials") X(J_CREDENTIAL, "credential") \
  X(J_CALLS, "calls") X(J_INTERP, "interp") X(J_SYNTAX, "syntax") X(J_GROOVY, "groovy") \
  X(J_BRACED, "braced") X(J_CONDITION, "condition") X(J_TRIPLE_SINGLE, "triple-single") \
  X(J_TRIPLE_DOUBLE, "triple-double") X(J_SLASHY, "slashy") \
  X(J_DOLLAR_SLASHY, "dollar-slashy") X(J_CODE, "code") X(J_SH, "sh") X(J_BAT, "bat") \
  X(J_POWERSHELL, "powershell") X(J_PWSH, "pwsh") X(J_ECHO, "echo") \
  X(J_NO_STAGE, "(no stage)") X(J_POST_JOB, "(post)") X(J_FORM, "form")

#endif
