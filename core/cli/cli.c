#include "cli.h"

#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

int cli_usage_error(const char *cmd, const char *fmt, ...)
{
  va_list ap;
  fputs("mlgate: ", stderr);
  va_start(ap, fmt);
  vfprintf(stderr, fmt, ap);
  va_end(ap);
  fprintf(stderr, "\nRun 'mlgate %s%s--help' for usage.\n", cmd ? cmd : "", cmd ? " " : "");
  return 2;
}

int cli_add_output(cli_outputs *outs, const char *spec, const char *const *allowed,
                   const char *cmd)
{
  const char *colon = strchr(spec, ':');
  size_t flen = colon ? (size_t)(colon - spec) : strlen(spec);
  size_t i, match = 0;
  int ok = 0;
  cli_output *o;

  if (outs->len == CLI_MAX_OUTPUTS)
    return cli_usage_error(cmd, "too many --format options (at most %d)", CLI_MAX_OUTPUTS);
  for (i = 0; allowed[i] && !ok; i++)
    if (strlen(allowed[i]) == flen && strncmp(allowed[i], spec, flen) == 0) {
      ok = 1;
      match = i;
    }
  if (!ok) {
    char list[256] = "";
    for (i = 0; allowed[i]; i++) {
      strncat(list, i ? ", " : "", sizeof list - strlen(list) - 1);
      strncat(list, allowed[i], sizeof list - strlen(list) - 1);
    }
    return cli_usage_error(cmd, "unknown format '%.*s' (formats: %s)", (int)flen, spec, list);
  }
  if (colon && !colon[1])
    return cli_usage_error(cmd, "--format %s: the file name after ':' is empty", spec);
  for (i = 0; i < outs->len; i++) {
    const char *f = outs->items[i].file;
    if ((!f && !colon) || (f && colon && strcmp(f, colon + 1) == 0))
      return cli_usage_error(cmd, "two --format options write to %s", colon ? colon + 1
                                                                            : "standard output");
  }
  o = &outs->items[outs->len++];
  o->format = allowed[match];
  o->file = colon ? colon + 1 : NULL;
  return 0;
}

int cli_emit(const cli_output *o, const char *data, size_t len)
{
  FILE *f = o->file ? fopen(o->file, "wb") : stdout;
  int bad;
  if (!f) {
    fprintf(stderr, "mlgate: cannot write %s: %s\n", o->file, strerror(errno));
    return 2;
  }
  bad = fwrite(data, 1, len, f) != len;
  bad |= o->file ? fclose(f) != 0 : fflush(f) != 0;
  if (bad) {
    fprintf(stderr, "mlgate: cannot write %s: %s\n", o->file ? o->file : "standard output",
            strerror(errno));
    return 2;
  }
  return 0;
}

int cli_write_report(const cli_outputs *outs, const mlg_report *r, int verbose)
{
  size_t k;
  int rc = 0;
  for (k = 0; k < outs->len; k++) {
    const mlg_report_writer *w = mlg_report_writer_find(outs->items[k].format);
    mlg_report_style style = {outs->items[k].file ? 0 : cli_stdout_color(), verbose};
    mlg_buf b = MLG_BUF_INIT;
    mlg_err err;
    if (w->write(&b, r, &style, &err) != 0) {
      fprintf(stderr, "mlgate: %s\n", err.msg);
      rc = 2;
    } else if (cli_emit(&outs->items[k], b.ptr ? b.ptr : "", b.len) != 0) {
      rc = 2;
    }
    mlg_buf_free(&b);
  }
  return rc;
}

int cli_finish_stdout(int rc)
{
  if (fflush(stdout) != 0 || ferror(stdout)) {
    fprintf(stderr, "mlgate: cannot write standard output: %s\n", strerror(errno));
    return 2;
  }
  return rc;
}

int cli_stdout_color(void)
{
  const char *t = getenv("TERM");
  const char *force = getenv("CLICOLOR_FORCE");
  const char *force2 = getenv("FORCE_COLOR");
  if ((force && *force && strcmp(force, "0") != 0) || (force2 && *force2 && strcmp(force2, "0") != 0))
    return 1;
  if (getenv("NO_COLOR") && *getenv("NO_COLOR"))
    return 0;
  if (t && strcmp(t, "dumb") == 0)
    return 0;
  return isatty(STDOUT_FILENO);
}

int cli_is_opt(const char *arg, const char *name)
{
  size_t n = strlen(name);
  return strncmp(arg, name, n) == 0 && (arg[n] == '\0' || arg[n] == '=');
}

const char *cli_value(int argc, char **argv, int *i, const char *name)
{
  const char *eq = strchr(argv[*i], '=');
  if (eq)
    return eq + 1;
  if (*i + 1 >= argc) {
    fprintf(stderr, "mlgate: option %s needs a value\n", name);
    return NULL;
  }
  return argv[++*i];
}
