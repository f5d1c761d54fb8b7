/*
 * Policies: where their source comes from (compiled in, or a --policies
 * directory), and their metadata once a child has loaded them.
 *
 * A policy file returns mlgate.policy{...}. Its metadata is sent by the
 * child that ran it and validated here, in the parent, so a hostile policy
 * cannot skip validation by replacing SDK functions. Invalid metadata is a
 * load error naming the file and the field.
 */
#ifndef MLG_POLICY_H
#define MLG_POLICY_H

#include <stddef.h>

#include "config.h"
#include "err.h"
#include "node.h"
#include "types.h"

typedef struct mlg_policy {
  /* Source. */
  char *path;        /* display path: "policies/model/x.lua" or as found on disk */
  int builtin;
  const char *text;  /* source text (embedded, or owned_text) */
  size_t len;
  char *owned_text;

  /* Metadata (valid when loaded == 1). */
  int loaded;
  mlg_doc *doc;      /* owns the strings below and params */
  const char *id, *title, *description, *remediation;
  unsigned gates;    /* bit (1 << mlg_gate) per gate */
  mlg_severity severity;
  mlg_confidence confidence;
  mlg_enforcement enforcement; /* the policy's default */
  mlg_profile profile;         /* runs only when the active profile includes it */
  mlg_globs atlas, aliases, files, references;
  const mlg_node *params; /* mapping of name -> default value (may be empty) */
  int has_check, has_run;
} mlg_policy;

typedef struct mlg_policy_set {
  mlg_policy *items;
  size_t len;
} mlg_policy_set;

/* Adds the compiled-in policies (policies/GATE/NAME.lua). */
int mlg_policy_add_builtins(mlg_policy_set *set, mlg_err *err);

/* Adds every *.lua below dir (recursively, skipping "tests" and hidden
 * directories), in sorted order. */
int mlg_policy_add_dir(mlg_policy_set *set, const char *dir, mlg_err *err);

/* Adds one policy file. */
int mlg_policy_add_file(mlg_policy_set *set, const char *path, mlg_err *err);

void mlg_policy_set_free(mlg_policy_set *set);

/* Validates metadata sent by a child ("meta" record: the policy table with
 * functions listed under "functions") and fills p. On error p->loaded
 * stays 0 and err names the file and field. */
int mlg_policy_set_meta(mlg_policy *p, const mlg_node *meta, mlg_err *err);

/* First policy with this id, or NULL. */
mlg_policy *mlg_policy_find(const mlg_policy_set *set, const char *id);

/* Effective enforcement after config. */
mlg_enforcement mlg_policy_enforcement(const mlg_policy *p, const mlg_config *cfg);

#endif
