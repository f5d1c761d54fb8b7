/*
 * Keras model configuration check, for Keras v3 .keras archives (a zip
 * holding config.json) and legacy HDF5 .h5 files (the model_config
 * attribute of the root group, read by h5.c): Lambda layers (arbitrary
 * Python, serialised as code or bytecode), objects whose module or
 * registered_name is outside the keras namespace (loaded by importing that
 * module), and the safe_mode switches.
 * Issue codes: keras-lambda, keras-custom-object, keras-bad-config.
 */
#ifndef MLG_KERAS_H
#define MLG_KERAS_H

#include <stddef.h>

#include "err.h"
#include "issues.h"

/* json: the model configuration; member: where it came from (for issues). */
int mlg_keras_config_check(const char *json, size_t len, const char *member, mlg_issues *issues,
                           mlg_err *err);

#endif
