/*
 * `mlgate test`: policy tests, like `opa test` / `conftest verify`.
 *
 * A test file is NAME.test.yml (anywhere under the given directories):
 *
 *   policy: train/unsafe-deserialization
 *   cases:
 *     - name: torch.load without weights_only is flagged
 *       fixture: fixtures/bad          # directory or file, relative to this file
 *       gate: train                    # optional: one of the policy's gates
 *       params: {allow: [numpy.load]}  # optional: parameter overrides
 *       expect:                        # findings expected, all of them
 *         - {path: train.py, line: 8}
 *         - {path: train.py, line: 12, column: 5, severity: high,
 *            message: "pickle.load"}   # message: a substring
 *     - name: clean code passes
 *       fixture: fixtures/good
 *       expect: []
 *     - name: unreadable input fails closed
 *       fixture: fixtures/broken
 *       expect_error: "cannot parse"   # an evaluation error containing this
 *
 * A case fails on a missing finding, an unexpected finding, or an error
 * that was not expected. Policies come from the *.lua files under the same
 * directories (tests/ directories excluded), then from the built-ins.
 */
#ifndef MLG_TESTRUN_H
#define MLG_TESTRUN_H

#include <stddef.h>

#include "buf.h"
#include "err.h"

typedef enum mlg_test_format {
  MLG_TEST_TEXT = 0,
  MLG_TEST_JSON,
  MLG_TEST_JUNIT
} mlg_test_format;

typedef struct mlg_test_opts {
  const char *const *dirs; /* default: "." */
  size_t ndirs;
  mlg_test_format format;
  int color;
  int verbose;
} mlg_test_opts;

/* Runs every test file found; writes the result to out. *exit_code gets 0
 * (all passed), 1 (a case failed) or 2 (a test file or policy could not
 * be loaded, or no tests were found). */
int mlg_test_run(mlg_buf *out, int *exit_code, const mlg_test_opts *o, mlg_err *err);

#endif
