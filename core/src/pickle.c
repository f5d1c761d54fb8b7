/*
 * The pickle analyser's entry point: runs the VM over every pickle of a
 * stream (and over nested ones), and keeps the import list.
 */
#include "pickle.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "pickle_int.h"

/* Legacy torch.save files hold five pickles before the raw storages:
 * magic number, protocol version, sys_info, the object, storage keys. */
#define TORCH_LEGACY_PICKLES 5

const char *mlg_pickle_via_name(mlg_pickle_via via)
{
  switch (via) {
  case MLG_PK_GLOBAL: return "GLOBAL";
  case MLG_PK_STACK_GLOBAL: return "STACK_GLOBAL";
  case MLG_PK_INST: return "INST";
  case MLG_PK_EXT: return "EXT";
  case MLG_PK_NESTED: return "NESTED";
  }
  return "?";
}

void mlg_pickle_report_free(mlg_pickle_report *r)
{
  size_t i;
  if (!r)
    return;
  for (i = 0; i < r->nimports; i++) {
    free(r->imports[i].module);
    free(r->imports[i].name);
  }
  free(r->imports);
  r->imports = NULL;
  r->nimports = 0;
}

/* ---- special callables ------------------------------------------------- */

static const struct {
  const char *module, *name;
  int special;
} specials[] = {
  {"pickle", "loads", PK_S_LOADS},
  {"pickle", "_loads", PK_S_LOADS},
  {"_pickle", "loads", PK_S_LOADS},
  {"cPickle", "loads", PK_S_LOADS},
  {"dill", "loads", PK_S_LOADS},
  {"dill._dill", "loads", PK_S_LOADS},
  {"dill.dill", "loads", PK_S_LOADS},
  {"cloudpickle", "loads", PK_S_LOADS},
  {"cloudpickle.cloudpickle", "loads", PK_S_LOADS},
  {"numpy", "loads", PK_S_LOADS},
  {"numpy.core.numeric", "loads", PK_S_LOADS},
  {"pickle", "load", PK_S_LOAD},
  {"pickle", "_load", PK_S_LOAD},
  {"_pickle", "load", PK_S_LOAD},
  {"cPickle", "load", PK_S_LOAD},
  {"dill", "load", PK_S_LOAD},
  {"dill._dill", "load", PK_S_LOAD},
  {"cloudpickle", "load", PK_S_LOAD},
  {"joblib", "load", PK_S_LOAD},
  {"joblib.numpy_pickle", "load", PK_S_LOAD},
  {"sklearn.externals.joblib", "load", PK_S_LOAD},
  {"sklearn.externals.joblib.numpy_pickle", "load", PK_S_LOAD},
  {"pandas", "read_pickle", PK_S_LOAD},
  {"pandas.io.pickle", "read_pickle", PK_S_LOAD},
  {"torch", "load", PK_S_TORCH_LOAD},
  {"torch.serialization", "load", PK_S_TORCH_LOAD},
  {"torch.storage", "_load_from_bytes", PK_S_TORCH_BYTES},
  {"_codecs", "encode", PK_S_ENCODE},
  {"codecs", "encode", PK_S_ENCODE},
  {"builtins", "bytes", PK_S_BYTES},
  {"__builtin__", "bytes", PK_S_BYTES},
  {"builtins", "bytearray", PK_S_BYTEARRAY},
  {"__builtin__", "bytearray", PK_S_BYTEARRAY},
  {"io", "BytesIO", PK_S_BYTESIO},
  {"_io", "BytesIO", PK_S_BYTESIO},
  {"numpy", "dtype", PK_S_DTYPE},
  {"numpy.core.multiarray", "dtype", PK_S_DTYPE},
  {"numpy._core.multiarray", "dtype", PK_S_DTYPE},
  {"joblib.numpy_pickle", "NumpyArrayWrapper", PK_S_NAW},
  {"sklearn.externals.joblib.numpy_pickle", "NumpyArrayWrapper", PK_S_NAW},
  {"copyreg", "_reconstructor", PK_S_RECONSTRUCTOR},
  {"copy_reg", "_reconstructor", PK_S_RECONSTRUCTOR},
  {"copyreg", "__newobj__", PK_S_NEWOBJ},
  {"copy_reg", "__newobj__", PK_S_NEWOBJ},
  {"copyreg", "__newobj_ex__", PK_S_NEWOBJ},
  {"functools", "partial", PK_S_PARTIAL},
  {"_functools", "partial", PK_S_PARTIAL},
};

int pk_special_of(const char *module, const char *name)
{
  size_t i;
  for (i = 0; i < sizeof specials / sizeof specials[0]; i++) {
    if (strcmp(specials[i].name, name) == 0 && strcmp(specials[i].module, module) == 0)
      return specials[i].special;
  }
  return PK_S_NONE;
}

/* ---- imports ----------------------------------------------------------- */

static void name_table_add(pk_ctx *c, const char *s, size_t n, uint32_t ref)
{
  uint64_t h = pk_hash(s, n) | 1;
  size_t i;
  if (c->name_n * 2 >= c->name_cap) {
    size_t cap = c->name_cap ? c->name_cap * 2 : 256, j;
    uint64_t *nh = calloc(cap, sizeof *nh);
    uint32_t *nr = calloc(cap, sizeof *nr);
    if (!nh || !nr) {
      free(nh);
      free(nr);
      return; /* only an optimisation */
    }
    for (j = 0; j < c->name_cap; j++) {
      if (c->name_hash[j]) {
        size_t k = (size_t)c->name_hash[j] & (cap - 1);
        while (nh[k])
          k = (k + 1) & (cap - 1);
        nh[k] = c->name_hash[j];
        nr[k] = c->name_ref[j];
      }
    }
    free(c->name_hash);
    free(c->name_ref);
    c->name_hash = nh;
    c->name_ref = nr;
    c->name_cap = cap;
  }
  i = (size_t)h & (c->name_cap - 1);
  while (c->name_hash[i]) {
    if (c->name_hash[i] == h)
      return;
    i = (i + 1) & (c->name_cap - 1);
  }
  c->name_hash[i] = h;
  c->name_ref[i] = ref;
  c->name_n++;
}

const char *pk_name_by_hash(pk_ctx *c, uint64_t h, size_t *len)
{
  size_t i;
  h |= 1;
  if (!c->name_cap)
    return NULL;
  i = (size_t)h & (c->name_cap - 1);
  while (c->name_hash[i]) {
    if (c->name_hash[i] == h) {
      mlg_pickle_import *imp = &c->rep->imports[c->name_ref[i] / 2];
      const char *s = (c->name_ref[i] & 1) ? imp->name : imp->module;
      *len = strlen(s);
      return s;
    }
    i = (i + 1) & (c->name_cap - 1);
  }
  return NULL;
}

/* A name as a C string. NUL bytes (which no import can have: CPython
 * fails on them) are written "\\x00" so that nothing is cut short into
 * a name that would match a list. */
static char *dup(const char *s, size_t n)
{
  size_t nul = 0, i, o = 0;
  char *d;
  for (i = 0; i < n; i++)
    nul += s[i] == '\0';
  d = malloc(n + 3 * nul + 1);
  if (!d)
    return NULL;
  for (i = 0; i < n; i++) {
    if (s[i] == '\0') {
      memcpy(d + o, "\\x00", 4);
      o += 4;
    } else {
      d[o++] = s[i];
    }
  }
  d[o] = '\0';
  return d;
}

static uint32_t import_add(pk_ctx *c, uint64_t at, unsigned pickle, unsigned depth,
                           const char *module, size_t mlen, const char *name, size_t nlen,
                           mlg_pickle_via via, int resolved, long ext_code)
{
  mlg_pickle_report *r = c->rep;
  mlg_pickle_import *imp;
  uint32_t idx;

  if (r->nimports >= c->o.max_imports || r->nimports >= PK_NOIMP - 1) {
    r->dropped_imports++;
    return PK_NOIMP;
  }
  if (r->nimports == c->imports_cap) {
    size_t cap = c->imports_cap ? c->imports_cap * 2 : 16;
    mlg_pickle_import *n = realloc(r->imports, cap * sizeof *n);
    if (!n) {
      c->oom = 1;
      return PK_NOIMP;
    }
    r->imports = n;
    c->imports_cap = cap;
  }
  imp = &r->imports[r->nimports];
  memset(imp, 0, sizeof *imp);
  imp->module = dup(module, mlen);
  imp->name = dup(name, nlen);
  if (!imp->module || !imp->name) {
    free(imp->module);
    free(imp->name);
    c->oom = 1;
    return PK_NOIMP;
  }
  imp->offset = at;
  imp->pickle = pickle;
  imp->depth = depth;
  imp->via = via;
  imp->resolved = resolved;
  imp->ext_code = ext_code;
  idx = (uint32_t)r->nimports++;
  if (resolved && via != MLG_PK_NESTED) {
    name_table_add(c, module, mlen, idx * 2);
    name_table_add(c, name, nlen, idx * 2 + 1);
  }
  return idx;
}

/* Dotted Python identifiers (ASCII): what a shadow scan accepts as an
 * import, so that random array bytes do not pass for one. */
static int identifier(const char *s, size_t n)
{
  size_t i;
  int start = 1;
  if (n == 0)
    return 0;
  for (i = 0; i < n; i++) {
    char c = s[i];
    if (c == '.') {
      if (start)
        return 0;
      start = 1;
    } else if (c == '_' || (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') ||
               (!start && c >= '0' && c <= '9')) {
      start = 0;
    } else {
      return 0;
    }
  }
  return !start;
}

uint32_t pk_import_add(pk_vm *vm, const char *module, size_t mlen, const char *name,
                       size_t nlen, mlg_pickle_via via, int resolved, long ext_code)
{
  if (vm->shadow) {
    if (!resolved || !identifier(module, mlen) || !identifier(name, nlen))
      return PK_NOIMP;
    pk_rd_set_anomaly(vm->parent->rd, pk_vm_report_at(vm),
                      "joblib array data at offset %llu imports %.*s.%.*s when read by "
                      "pickle.load instead of joblib",
                      (unsigned long long)pk_vm_report_at(vm), (int)(mlen > 64 ? 64 : mlen),
                      module, (int)(nlen > 64 ? 64 : nlen), name);
  }
  return import_add(vm->c, pk_vm_report_at(vm), vm->pickle, vm->depth, module, mlen, name,
                    nlen, via, resolved, ext_code);
}

void pk_import_called(pk_vm *vm, uint32_t idx)
{
  if (idx < vm->c->rep->nimports)
    vm->c->rep->imports[idx].called = 1;
}

/* ---- nested pickles ---------------------------------------------------- */

static void nested_import(pk_vm *vm, const char *module, const char *name, int scanned)
{
  uint32_t idx = import_add(vm->c, pk_vm_report_at(vm), vm->pickle, vm->depth + 1, module,
                            strlen(module), name, strlen(name), MLG_PK_NESTED, scanned, 0);
  if (idx != PK_NOIMP)
    vm->c->rep->imports[idx].called = 1;
}

static int nested_error(pk_vm *vm, pk_vm *in, const char *module, const char *name)
{
  if (in->c->oom || in->err == MLG_ENOMEM)
    vm->c->oom = 1;
  return pk_vm_fail(vm, in->err ? in->err : MLG_EPARSE, "nested pickle (%s.%s): %s", module,
                    name, in->err_msg);
}

static void copy_anomaly(pk_vm *vm, const pk_rd *in)
{
  if (in->anomaly)
    pk_rd_set_anomaly(vm->rd, pk_vm_report_at(vm), "nested pickle: %s", in->anomaly_msg);
}

int pk_scan_nested(pk_vm *vm, const pk_blob *b, int multi, int joblib, const char *module,
                   const char *name)
{
  unsigned depth = vm->depth + 1, k;
  mlg_stream ms;
  pk_rd rd;
  pk_vm in;
  int r = 0, file = multi || joblib;

  if (!b || depth > vm->c->o.max_depth) {
    nested_import(vm, module, name, 0);
    return 0;
  }
  nested_import(vm, module, name, 1);
  if (file) {
    mlg_stream_mem(&ms, b->data, b->len);
    if (pk_rd_init_stream(&rd, &ms, vm->c->o.max_string + 64, NULL) < 0) {
      vm->c->oom = 1;
      return pk_vm_fail(vm, MLG_ENOMEM, "out of memory");
    }
  } else {
    pk_rd_init_mem(&rd, b->data, b->len, 0);
  }
  if (pk_vm_init(&in, vm->c, &rd, depth) < 0) {
    pk_rd_free(&rd);
    vm->c->oom = 1;
    return pk_vm_fail(vm, MLG_ENOMEM, "out of memory");
  }
  in.rep_at = pk_vm_report_at(vm);
  in.joblib = joblib;
  vm->c->rep->nested++;
  for (k = 0; k < (multi ? TORCH_LEGACY_PICKLES : 1); k++) {
    int s;
    in.pickle = k;
    s = pk_vm_run(&in);
    if (s == 1) {
      if (k == 0)
        r = pk_vm_fail(vm, MLG_EPARSE, "nested pickle (%s.%s): empty data", module, name);
      break;
    }
    if (s < 0) {
      r = nested_error(vm, &in, module, name);
      break;
    }
  }
  copy_anomaly(vm, &rd);
  pk_vm_free(&in);
  pk_rd_free(&rd);
  return r;
}

int pk_scan_inline(pk_vm *vm, const char *module, const char *name)
{
  pk_vm in;
  int s, r = 0;

  if (vm->depth + 1 > vm->c->o.max_depth)
    return pk_vm_fail(vm, MLG_ELIMIT, "joblib object array nested deeper than max_depth");
  nested_import(vm, module, name, 1);
  if (pk_vm_init(&in, vm->c, vm->rd, vm->depth + 1) < 0) {
    vm->c->oom = 1;
    return pk_vm_fail(vm, MLG_ENOMEM, "out of memory");
  }
  in.rep_at = vm->rep_at;
  vm->c->rep->nested++;
  s = pk_vm_run(&in);
  if (s == 1)
    r = pk_vm_fail(vm, MLG_EPARSE, "joblib object array: no pickle where its data should be");
  else if (s < 0)
    r = nested_error(vm, &in, module, name);
  pk_vm_free(&in);
  return r;
}

int pk_scan_shadow(pk_vm *vm, const char *data, size_t n, uint64_t at)
{
  pk_rd rd;
  pk_vm in;

  pk_rd_init_mem(&rd, data, n, at);
  if (pk_vm_init(&in, vm->c, &rd, vm->depth) < 0) {
    vm->c->oom = 1;
    return pk_vm_fail(vm, MLG_ENOMEM, "out of memory");
  }
  in.shadow = 1;
  in.parent = vm;
  in.pickle = vm->pickle;
  in.rep_at = vm->rep_at;
  (void)pk_vm_run(&in); /* where it stops is of no consequence */
  pk_vm_free(&in);
  if (vm->c->oom)
    return pk_vm_fail(vm, MLG_ENOMEM, "out of memory");
  return 0;
}

/* ---- the scan ---------------------------------------------------------- */

static int is_opcode(int c)
{
  static const char ops[] = "().012FIJKLMNPQRSTUVXabcdeghijlopqrstu}]BCG";
  if (c >= 0x80 && c <= 0x98)
    return 1;
  return c > 0 && c < 0x80 && strchr(ops, c) != NULL;
}

static void opts_fill(mlg_pickle_opts *o, const mlg_pickle_opts *in)
{
  if (in)
    *o = *in;
  else
    memset(o, 0, sizeof *o);
  if (!o->max_stack)
    o->max_stack = 1000000;
  if (!o->max_memo)
    o->max_memo = 1000000;
  if (!o->max_string)
    o->max_string = (size_t)1 << 20;
  if (!o->max_nested_bytes)
    o->max_nested_bytes = (size_t)64 << 20;
  if (!o->max_depth)
    o->max_depth = 4;
  if (!o->max_imports)
    o->max_imports = 10000;
  if (o->max_stack < 16)
    o->max_stack = 16;
}

static void set_error(mlg_pickle_report *out, int code, uint64_t at, const char *msg)
{
  if (out->error)
    return;
  out->error = code;
  out->error_offset = at;
  snprintf(out->error_msg, sizeof out->error_msg, "%s", msg);
}

int mlg_pickle_scan(mlg_pickle_report *out, mlg_stream *in, const mlg_pickle_opts *opts,
                    mlg_err *err)
{
  pk_ctx c;
  pk_rd rd;
  pk_vm vm;
  int rc = 0, have_rd = 0, have_vm = 0;
  uint64_t origin;
  unsigned k;

  memset(out, 0, sizeof *out);
  memset(&c, 0, sizeof c);
  c.rep = out;
  opts_fill(&c.o, opts);
  pk_store_init(&c.st, &c.o);
  if (pk_rd_init_stream(&rd, in, c.o.max_string + 64, err) < 0) {
    rc = MLG_ENOMEM;
    goto done;
  }
  have_rd = 1;
  origin = pk_rd_pos(&rd);
  if (pk_vm_init(&vm, &c, &rd, 0) < 0) {
    rc = mlg_err_set(err, MLG_ENOMEM, "out of memory");
    goto done;
  }
  have_vm = 1;
  vm.joblib = 1;
  out->bytes = 0;
  for (k = 0;; k++) {
    int s;
    if (k > 0) {
      int b = pk_rd_byte(&rd);
      if (b < 0)
        break;
      rd.off--; /* the byte stays for the VM */
      if (!is_opcode(b)) {
        out->trailing_garbage = 1;
        break;
      }
    }
    vm.pickle = k;
    s = pk_vm_run(&vm);
    if (s == 1)
      break;
    out->npickles++;
    if (s < 0) {
      set_error(out, vm.err, vm.err_at, vm.err_msg);
      out->bytes = pk_rd_pos(&rd) - origin;
      break;
    }
    out->bytes = pk_rd_pos(&rd) - origin;
    if (c.o.first_only > 0 && out->npickles >= (unsigned)c.o.first_only)
      break;
  }
  if (!out->error && !c.o.first_only && pk_rd_check_end(&rd) < 0)
    set_error(out, rd.fail, rd.fail_at, rd.fail_msg);
  if (rd.anomaly)
    set_error(out, MLG_EPARSE, rd.anomaly_at, rd.anomaly_msg);
  if (rd.fail && rd.fail != MLG_EPARSE && rd.fail != MLG_ENOMEM) {
    /* the stream failed (I/O, a corrupt or oversized member) */
    rc = mlg_err_set(err, rd.fail, "%s", rd.fail_msg);
  }
  if (c.oom || c.st.oom)
    rc = mlg_err_set(err, MLG_ENOMEM, "out of memory scanning a pickle");
done:
  if (have_vm)
    pk_vm_free(&vm);
  if (have_rd)
    pk_rd_free(&rd);
  pk_store_free(&c.st);
  free(c.name_hash);
  free(c.name_ref);
  return rc;
}
