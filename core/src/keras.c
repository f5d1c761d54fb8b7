/*
 * Keras model configuration check. The configuration is a tree of
 * serialised objects {"class_name": ..., "config": {...}, "module": ...,
 * "registered_name": ...} (Keras 3 config.json; Keras 2 model_config has
 * no module keys, or has them from TF 2.13 on). Every object anywhere in
 * the tree is looked at, so nested models, optimizers, losses, metrics
 * and activations are covered:
 *
 *   keras-lambda         a Lambda layer (its function is marshalled
 *                        bytecode or Python source), a "__lambda__" value
 *                        (a serialised lambda anywhere, e.g. an
 *                        activation), a TorchModuleWrapper (a pickled torch
 *                        module) or a TFOpLambda calling a TensorFlow op
 *                        that touches files or runs Python;
 *   keras-custom-object  an object whose module is outside the packages
 *                        Keras itself trusts in safe mode (keras, keras_hub,
 *                        keras_cv, keras_nlp; and tf_keras for Keras 2):
 *                        loading imports that module. Also a registered
 *                        name "Package>Name" with such a package, and the
 *                        keras functions that load or fetch things when a
 *                        config names them (get_file, enable_unsafe_
 *                        deserialization, ..., CVE-2025-1550 and its
 *                        bypasses), and TFSMLayer (runs a SavedModel);
 *   keras-bad-config     the configuration is not JSON, or has duplicate
 *                        keys (Python keeps the last one: the check then
 *                        goes on with the last one too).
 *
 * TFOpLambda layers are routine in Keras 2 functional models (any tf.*
 * call on a Keras tensor makes one), so only the file, process and
 * py_function families are reported, not the arithmetic.
 */
#include "keras.h"

#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#include "parse.h"
#include "utf8.h"

#define KR_MAX_ISSUES 100
#define KR_QUOTE 160

typedef struct kr {
  mlg_issues *issues;
  const char *member;
  unsigned nissues, over;
} kr;

static void issue(kr *k, const char *code, const mlg_node *at, const char *fmt, ...)
    __attribute__((format(printf, 4, 5)));

static void issue(kr *k, const char *code, const mlg_node *at, const char *fmt, ...)
{
  char msg[1024];
  va_list ap;

  if (k->nissues >= KR_MAX_ISSUES) {
    k->over++;
    return;
  }
  k->nissues++;
  va_start(ap, fmt);
  vsnprintf(msg, sizeof msg, fmt, ap);
  va_end(ap);
  mlg_issue_add(k->issues, code, k->member, at ? (int64_t)at->span.offset : -1, "%s", msg);
}

static int str_is(const mlg_node *n, const char *s)
{
  return n && n->type == MLG_STR && n->u.str.len == strlen(s) &&
         memcmp(n->u.str.ptr, s, n->u.str.len) == 0;
}

static int str_starts(const mlg_node *n, const char *s)
{
  size_t l = strlen(s);
  return n && n->type == MLG_STR && n->u.str.len >= l && memcmp(n->u.str.ptr, s, l) == 0;
}

/* The top package of a dotted module name (or of "package>name") is one
 * Keras loads from in safe mode. */
static int trusted_package(const char *s, size_t n, char sep)
{
  static const char *const pkgs[] = {"keras", "keras_hub", "keras_cv", "keras_nlp", "tf_keras"};
  size_t i, top = 0;
  while (top < n && s[top] != sep)
    top++;
  for (i = 0; i < sizeof pkgs / sizeof pkgs[0]; i++) {
    if (strlen(pkgs[i]) == top && memcmp(pkgs[i], s, top) == 0)
      return 1;
  }
  return 0;
}

static void quote_node(char *buf, const mlg_node *n)
{
  if (n && n->type == MLG_STR)
    mlg_utf8_quote(buf, KR_QUOTE, n->u.str.ptr, n->u.str.len);
  else
    snprintf(buf, KR_QUOTE, "?");
}

/* TensorFlow APIs a TFOpLambda may name that reach files, processes or
 * Python (tf.io.write_file, tf.py_function, ...). */
static int risky_tf_op(const mlg_node *fn)
{
  static const char *const prefixes[] = {
      "io.", "compat.v1.io.", "gfile.", "compat.v1.gfile.", "raw_ops.", "py_function",
      "numpy_function", "compat.v1.py_func", "compat.v1.py_function", "summary.",
      "compat.v1.summary.", "saved_model.", "compat.v1.saved_model.", "data.experimental.",
      "debugging.experimental.", "config.", "distribute.", "train.", "compat.v1.train.",
      "print", "compat.v1.Print", "load_op_library", "load_library", "experimental.",
  };
  size_t i;
  for (i = 0; i < sizeof prefixes / sizeof prefixes[0]; i++) {
    if (str_starts(fn, prefixes[i]))
      return 1;
  }
  return 0;
}

/* Functions inside the keras namespace that a config can make Keras call
 * and that fetch files or switch safe mode off. */
static int loader_gadget(const mlg_node *cls)
{
  static const char *const names[] = {"get_file", "enable_unsafe_deserialization", "func_load",
                                      "load_model", "load_weights", "load_saved_model",
                                      "deserialize_keras_object"};
  size_t i;
  for (i = 0; i < sizeof names / sizeof names[0]; i++) {
    if (str_is(cls, names[i]))
      return 1;
  }
  return 0;
}

static void object(kr *k, const mlg_node *obj, int in_lambda, int *lambda_here)
{
  const mlg_node *cls = mlg_map_get(obj, "class_name");
  const mlg_node *module = mlg_map_get(obj, "module");
  const mlg_node *reg = mlg_map_get(obj, "registered_name");
  const mlg_node *cfg = mlg_map_get(obj, "config");
  const mlg_node *name = cfg && cfg->type == MLG_MAP ? mlg_map_get(cfg, "name") : NULL;
  char cq[KR_QUOTE], nq[KR_QUOTE], mq[KR_QUOTE];

  *lambda_here = 0;
  if (!cls || cls->type != MLG_STR)
    return;
  quote_node(cq, cls);
  quote_node(nq, name);

  if (str_is(cls, "Lambda")) {
    const mlg_node *fn = cfg && cfg->type == MLG_MAP ? mlg_map_get(cfg, "function") : NULL;
    const char *how = !fn                       ? "a function"
                      : fn->type == MLG_SEQ    ? "marshalled Python bytecode"
                      : fn->type == MLG_MAP    ? "a serialised Python function"
                      : fn->type == MLG_STR    ? "a Python function named in the config"
                                               : "a function";
    issue(k, "keras-lambda", obj,
          "Lambda layer '%s' runs %s from the model file when the model is loaded or called",
          nq, how);
    *lambda_here = 1;
  } else if (str_is(cls, "__lambda__")) {
    if (!in_lambda)
      issue(k, "keras-lambda", obj,
            "a serialised Python lambda (marshalled bytecode) is part of the configuration");
    *lambda_here = 1;
  } else if (str_is(cls, "TorchModuleWrapper")) {
    issue(k, "keras-lambda", obj,
          "TorchModuleWrapper layer '%s' holds a pickled torch module, which runs code when "
          "unpickled",
          nq);
    *lambda_here = 1;
  } else if (str_is(cls, "TFOpLambda")) {
    const mlg_node *fn = cfg && cfg->type == MLG_MAP ? mlg_map_get(cfg, "function") : NULL;
    if (risky_tf_op(fn)) {
      char fq[KR_QUOTE];
      quote_node(fq, fn);
      issue(k, "keras-lambda", obj,
            "TFOpLambda layer '%s' calls tf.%s, which can reach files, processes or Python", nq,
            fq);
    }
  } else if (str_is(cls, "TFSMLayer")) {
    issue(k, "keras-custom-object", obj,
          "TFSMLayer '%s' loads and runs a TensorFlow SavedModel from a path in the config", nq);
  } else if (loader_gadget(cls)) {
    issue(k, "keras-custom-object", obj,
          "the configuration makes Keras call '%s', which fetches files or disables safe mode",
          cq);
  }

  if (module && module->type == MLG_STR &&
      !trusted_package(module->u.str.ptr, module->u.str.len, '.')) {
    quote_node(mq, module);
    if (str_is(cls, "function") && cfg && cfg->type == MLG_STR) {
      char fq[KR_QUOTE];
      quote_node(fq, cfg);
      issue(k, "keras-custom-object", obj,
            "function '%s' comes from module '%s', outside keras: loading the model imports "
            "and calls it",
            fq, mq);
    } else {
      issue(k, "keras-custom-object", obj,
            "'%s'%s%s%s comes from module '%s', outside keras: loading the model imports it",
            cq, name ? " (layer '" : "", name ? nq : "", name ? "')" : "", mq);
    }
  } else if (reg && reg->type == MLG_STR && memchr(reg->u.str.ptr, '>', reg->u.str.len) &&
             !trusted_package(reg->u.str.ptr, reg->u.str.len, '>')) {
    quote_node(mq, reg);
    issue(k, "keras-custom-object", obj,
          "'%s' is the custom object '%s', registered outside keras: loading needs its code",
          cq, mq);
  } else if (memchr(cls->u.str.ptr, '>', cls->u.str.len) &&
             !trusted_package(cls->u.str.ptr, cls->u.str.len, '>')) {
    /* Keras 2 wrote registered names into class_name itself. */
    issue(k, "keras-custom-object", obj,
          "'%s' is a custom object registered outside keras: loading needs its code", cq);
  }
}

/* The configuration is a tree from our own JSON parser (no aliases), and
 * its depth is bounded by the parser's limit. */
static void walk(kr *k, const mlg_node *n, int in_lambda)
{
  size_t i;
  int here = 0;

  if (n->type == MLG_MAP) {
    object(k, n, in_lambda, &here);
    for (i = 0; i < n->u.map.len; i++)
      walk(k, n->u.map.pairs[i].val, in_lambda || here);
  } else if (n->type == MLG_SEQ) {
    for (i = 0; i < n->u.seq.len; i++)
      walk(k, n->u.seq.items[i], in_lambda);
  }
}

int mlg_keras_config_check(const char *json, size_t len, const char *member, mlg_issues *issues,
                           mlg_err *err)
{
  kr k = {issues, member, 0, 0};
  mlg_doc *doc = NULL;
  mlg_parse_opts o;
  mlg_err perr;
  const char *name = member ? member : "config.json";
  int rc;

  memset(&o, 0, sizeof o);
  mlg_err_clear(&perr);
  rc = mlg_json_parse(&doc, json, len, name, &o, &perr);
  if (rc != 0 && rc != MLG_ENOMEM && strstr(perr.msg, ": duplicate key '")) {
    /* Python's json keeps the last of duplicate keys; so does the check,
     * after saying that a second reader may see something else. */
    issue(&k, "keras-bad-config", NULL, "%s", perr.msg);
    o.allow_duplicates = 1;
    mlg_err_clear(&perr);
    rc = mlg_json_parse(&doc, json, len, name, &o, &perr);
  }
  if (rc == MLG_ENOMEM)
    return mlg_err_set(err, MLG_ENOMEM, "%s: out of memory parsing the model configuration",
                       name);
  if (rc != 0) {
    issue(&k, "keras-bad-config", NULL, "model configuration is not valid JSON: %s", perr.msg);
    return 0;
  }
  if (doc->root->type != MLG_MAP)
    issue(&k, "keras-bad-config", doc->root, "model configuration is a JSON %s, not an object",
          mlg_node_typename(doc->root));
  else
    walk(&k, doc->root, 0);
  if (k.over)
    mlg_issue_add(issues, "keras-bad-config", member, -1,
                  "%u further problems in the model configuration were not listed", k.over);
  mlg_doc_free(doc);
  return 0;
}
