/* Interned model strings of the GitLab CI builder (see MLG_PL_ATOMS in
 * pipeline_val.h): X(G_<ID>, "text"), ids prefixed G_ so they never clash
 * with the shared or the Jenkins atoms. */
#ifndef MLG_PIPELINE_ATOMS_GITLAB_H
#define MLG_PIPELINE_ATOMS_GITLAB_H

#define MLG_PL_ATOMS_GITLAB(X) X(G_GITLAB, "gitlab") X(G_KIND, "gitlab-ci") \
  X(G_STAGES, "stages") X(G_VARIABLES, "variables") X(G_WORKFLOW, "workflow") \
  X(G_INCLUDES, "includes") X(G_SPEC, "spec") X(G_TEMPLATES, "templates") \
  X(G_RULES, "rules") X(G_LOCATION, "location") X(G_FILES, "files") X(G_FILE, "file") \
  X(G_RESOLVED, "resolved") X(G_STAGE, "stage") X(G_EXTENDS, "extends") X(G_WHEN, "when") \
  X(G_ALLOW_FAILURE, "allow_failure") X(G_EXIT_CODES, "exit_codes") X(G_ONLY, "only") \
  X(G_EXCEPT, "except") X(G_REFS, "refs") X(G_CHANGES, "changes") \
  X(G_KUBERNETES, "kubernetes") X(G_EXISTS, "exists") X(G_ARTIFACTS, "artifacts") \
  X(G_OPTIONAL, "optional") X(G_PROJECT, "project") X(G_PIPELINE, "pipeline") \
  X(G_DEPENDENCIES, "dependencies") X(G_UNTRACKED, "untracked") \
  X(G_EXPIRE_IN, "expire_in") X(G_EXPOSE_AS, "expose_as") X(G_PUBLIC, "public") \
  X(G_REPORTS, "reports") X(G_CACHE, "cache") X(G_KEY_FILES, "key_files") \
  X(G_KEY_PREFIX, "key_prefix") X(G_POLICY, "policy") X(G_FALLBACK_KEYS, "fallback_keys") \
  X(G_PARALLEL, "parallel") X(G_COUNT, "count") X(G_TRIGGER, "trigger") \
  X(G_FORWARD, "forward") X(G_YAML_VARIABLES, "yaml_variables") \
  X(G_PIPELINE_VARIABLES, "pipeline_variables") X(G_RESOURCE_GROUP, "resource_group") \
  X(G_RETRY, "retry") X(G_TIMEOUT, "timeout") X(G_INTERRUPTIBLE, "interruptible") \
  X(G_COVERAGE, "coverage") X(G_START_IN, "start_in") X(G_ID_TOKENS, "id_tokens") \
  X(G_RELEASE, "release") X(G_HIDDEN, "hidden") X(G_ALIAS, "alias") \
  X(G_COMMAND, "command") X(G_PULL_POLICY, "pull_policy") X(G_ACTION, "action") \
  X(G_DEPLOYMENT_TIER, "deployment_tier") X(G_SECTION, "section") \
  X(G_BEFORE_SCRIPT, "before_script") X(G_SCRIPT, "script") \
  X(G_AFTER_SCRIPT, "after_script") X(G_SH, "sh") X(G_INPUT, "input") \
  X(G_SYNTAX, "syntax") X(G_GITLAB_INPUT, "gitlab-input") X(G_REACH, "reach") \
  X(G_MERGE_REQUEST, "merge_request") X(G_FORK, "fork") \
  X(G_DEFAULT_BRANCH, "default_branch") X(G_MANUAL, "manual") X(G_API, "api") \
  X(G_REGEX, "regex") X(G_EXPAND, "expand") X(G_COMPONENT, "component") \
  X(G_REMOTE, "remote") X(G_TEMPLATE, "template")

#endif
