/*
 * mlg_keras_config_check on Keras 3 config.json and Keras 2 model_config
 * layouts (fixtures/formats/make.py): clean models, Lambda layers and
 * serialised lambdas, modules and registered names outside keras, loader
 * gadgets inside keras, TFOpLambda, duplicate keys and broken JSON.
 */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "keras.h"

#define FX "tests/unit/fixtures/formats/keras/"

static char *slurp(const char *name, size_t *len)
{
  char path[256];
  FILE *f;
  char *p;
  long n;

  snprintf(path, sizeof path, FX "%s", name);
  if (!(f = fopen(path, "rb")))
    fail_msg("cannot open %s", path);
  fseek(f, 0, SEEK_END);
  n = ftell(f);
  fseek(f, 0, SEEK_SET);
  p = malloc((size_t)n + 1);
  assert_non_null(p);
  assert_int_equal(fread(p, 1, (size_t)n, f), (size_t)n);
  fclose(f);
  *len = (size_t)n;
  return p;
}

/* Checks a fixture: no issue when code is NULL, else exactly one with
 * that code, member, offset and message. */
static void expect(const char *name, const char *code, int64_t offset, const char *msg)
{
  size_t len;
  char *json = slurp(name, &len);
  mlg_issues is = {0};
  mlg_err err = {0};

  assert_int_equal(mlg_keras_config_check(json, len, "config.json", &is, &err), 0);
  if (!code) {
    if (is.len)
      print_error("%s: [%s] %s\n", name, is.items[0].code, is.items[0].message);
    assert_int_equal(is.len, 0);
  } else {
    if (is.len != 1 || strcmp(is.items[0].message, msg) != 0 || is.items[0].offset != offset)
      print_error("%s: %zu issues, @%lld %s\n", name, is.len,
                  is.len ? (long long)is.items[0].offset : 0LL,
                  is.len ? is.items[0].message : "");
    assert_int_equal(is.len, 1);
    assert_string_equal(is.items[0].code, code);
    assert_string_equal(is.items[0].member, "config.json");
    assert_int_equal(is.items[0].offset, offset);
    assert_string_equal(is.items[0].message, msg);
  }
  mlg_issues_free(&is);
  free(json);
}

static void test_clean(void **state)
{
  (void)state;
  expect("v3_clean.json", NULL, 0, NULL);
  expect("v3_hub.json", NULL, 0, NULL); /* keras_hub is a package Keras trusts */
  expect("v2_clean.json", NULL, 0, NULL);
  expect("v2_tfop_add.json", NULL, 0, NULL); /* tf.math.add is routine */
}

static void test_lambda(void **state)
{
  (void)state;
  expect("v3_lambda.json", "keras-lambda", 396,
         "Lambda layer 'evil_lambda' runs a serialised Python function from the model file when "
         "the model is loaded or called");
  expect("v2_lambda.json", "keras-lambda", 85,
         "Lambda layer 'lambda' runs marshalled Python bytecode from the model file when the "
         "model is loaded or called");
  /* a lambda as an activation, outside any Lambda layer */
  expect("v3_lambda_activation.json", "keras-lambda", 574,
         "a serialised Python lambda (marshalled bytecode) is part of the configuration");
  expect("v3_torch_wrapper.json", "keras-lambda", 396,
         "TorchModuleWrapper layer 'tw' holds a pickled torch module, which runs code when "
         "unpickled");
  expect("v2_tfop_io.json", "keras-lambda", 85,
         "TFOpLambda layer 'tf.io.write_file' calls tf.io.write_file, which can reach files, "
         "processes or Python");
}

static void test_custom_objects(void **state)
{
  (void)state;
  expect("v3_custom_module.json", "keras-custom-object", 396,
         "'MyLayer' (layer 'mine') comes from module 'my_package.layers', outside keras: "
         "loading the model imports it");
  expect("v3_registered.json", "keras-custom-object", 396,
         "'MyLayer' is the custom object 'Custom>MyLayer', registered outside keras: loading "
         "needs its code");
  expect("v2_custom.json", "keras-custom-object", 85,
         "'Custom>MyLayer' is a custom object registered outside keras: loading needs its code");
  expect("v3_builtins_function.json", "keras-custom-object", 574,
         "function 'exec' comes from module 'builtins', outside keras: loading the model "
         "imports and calls it");
  /* CVE-2025-1550's bypass: a function inside keras that downloads */
  expect("v3_get_file.json", "keras-custom-object", 574,
         "the configuration makes Keras call 'get_file', which fetches files or disables safe "
         "mode");
}

static void test_bad(void **state)
{
  (void)state;
  expect("bad_json.json", "keras-bad-config", -1,
         "model configuration is not valid JSON: config.json:1:30: expected a string member "
         "name, found end of input");
  expect("not_object.json", "keras-bad-config", 0,
         "model configuration is a JSON sequence, not an object");
}

static void test_duplicate_keys(void **state)
{
  /* {"class_name": "Dense", ..., "class_name": "Lambda"}: Python's json
   * keeps the Lambda, and so does the check after saying so */
  size_t len;
  char *json = slurp("dup_key.json", &len);
  mlg_issues is = {0};
  mlg_err err;
  (void)state;
  assert_int_equal(mlg_keras_config_check(json, len, "config.json", &is, &err), 0);
  assert_int_equal(is.len, 2);
  assert_string_equal(is.items[0].code, "keras-bad-config");
  assert_string_equal(is.items[0].message,
                      "config.json:1:101: duplicate key 'class_name' (first at line 1)");
  assert_string_equal(is.items[1].code, "keras-lambda");
  mlg_issues_free(&is);
  free(json);
}

static void check(const char *json, const char *code)
{
  mlg_issues is = {0};
  mlg_err err;
  assert_int_equal(mlg_keras_config_check(json, strlen(json), NULL, &is, &err), 0);
  if (!code) {
    if (is.len)
      print_error("%s: %s\n", json, is.items[0].message);
    assert_int_equal(is.len, 0);
  } else {
    if (is.len != 1)
      print_error("%s: %zu issues\n", json, is.len);
    assert_int_equal(is.len, 1);
    assert_string_equal(is.items[0].code, code);
    assert_null(is.items[0].member);
  }
  mlg_issues_free(&is);
}

static void test_rules(void **state)
{
  (void)state;
  /* trusted packages by their top-level name only */
  check("{\"class_name\":\"X\",\"module\":\"keras.src.layers.core\"}", NULL);
  check("{\"class_name\":\"X\",\"module\":\"tf_keras.layers\"}", NULL);
  check("{\"class_name\":\"X\",\"module\":\"keras_nlp.models\"}", NULL);
  check("{\"class_name\":\"X\",\"module\":\"kerasx.layers\"}", "keras-custom-object");
  check("{\"class_name\":\"X\",\"module\":\"keras_evil\"}", "keras-custom-object");
  check("{\"class_name\":\"X\",\"module\":\"\"}", "keras-custom-object");
  check("{\"class_name\":\"X\",\"module\":null,\"registered_name\":null}", NULL);
  check("{\"class_name\":\"X\",\"registered_name\":\"keras_hub>X\"}", NULL);
  check("{\"class_name\":\"X\",\"registered_name\":\"evil>X\"}", "keras-custom-object");
  check("{\"class_name\":\"enable_unsafe_deserialization\",\"module\":\"keras.config\"}",
        "keras-custom-object");
  check("{\"class_name\":\"TFSMLayer\",\"module\":\"keras.layers\",\"config\":{\"name\":\"t\"}}",
        "keras-custom-object");
  /* a lambda inside a Lambda layer is one finding, not two */
  check("{\"class_name\":\"Lambda\",\"config\":{\"function\":{\"class_name\":\"__lambda__\"}}}",
        "keras-lambda");
  /* objects deep inside other objects */
  check("{\"a\":[[{\"b\":{\"class_name\":\"Lambda\"}}]]}", "keras-lambda");
  check("{\"class_name\":\"TFOpLambda\",\"config\":{\"function\":\"compat.v1.py_func\"}}",
        "keras-lambda");
  check("{\"class_name\":\"TFOpLambda\",\"config\":{\"function\":\"nn.relu\"}}", NULL);
  check("{\"class_name\":5,\"module\":\"os\"}", NULL);
  check("", "keras-bad-config");
}

int main(void)
{
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(test_clean),
      cmocka_unit_test(test_lambda),
      cmocka_unit_test(test_custom_objects),
      cmocka_unit_test(test_bad),
      cmocka_unit_test(test_duplicate_keys),
      cmocka_unit_test(test_rules),
  };
  return cmocka_run_group_tests(tests, NULL, NULL);
}
