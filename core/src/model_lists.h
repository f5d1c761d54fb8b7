/*
 * What a pickle import means: versioned allowlists of the callables that
 * torch, numpy, scikit-learn, joblib, transformers and plain Python
 * containers legitimately pickle, and a denylist of known-dangerous ones
 * (execution, files, network, import machinery, debuggers, profilers,
 * operator/functools gadgets, pkgutil.resolve_name, marshal,
 * types.FunctionType/CodeType, ...) for high-confidence messages.
 * Everything else is unknown: blocking under the `strict` profile, a
 * warning under `lenient`.
 */
#ifndef MLG_MODEL_LISTS_H
#define MLG_MODEL_LISTS_H

typedef enum mlg_import_verdict {
  MLG_IMPORT_SAFE = 0,   /* on an allowlist */
  MLG_IMPORT_UNKNOWN,    /* on no list */
  MLG_IMPORT_DANGEROUS   /* on the denylist (or a name that cannot be resolved) */
} mlg_import_verdict;

typedef struct mlg_import_class {
  mlg_import_verdict verdict;
  const char *list;      /* which list decided: "torch", "numpy", "python-builtins",
                          * "denylist:exec", ... (static) */
  const char *reason;    /* one phrase for dangerous ones: "runs shell commands" (static) */
} mlg_import_class;

/* Classifies module.name (name may be dotted: "Bdb.run"). Matching is by
 * module and name exactly, plus module prefixes on the denylist ("os",
 * "subprocess" cover their submodules) and a few whole-module allow entries
 * ("torch._utils" rebuild helpers...). Never NULL strings. */
mlg_import_class mlg_model_classify(const char *module, const char *name);

/* The version of the lists ("2026.11"), for reports and explain. */
const char *mlg_model_lists_version(void);

#endif
