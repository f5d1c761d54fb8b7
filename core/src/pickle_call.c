/*
 * What calling something means to the analysis. Every call of an import
 * marks it called; a few callables are modelled because the scan needs
 * their results: the unpicklers (their bytes argument is a nested pickle
 * to scan), the ways protocols 0-2 build bytes (_codecs.encode, bytes(),
 * bytearray()), io.BytesIO (torch.load's argument), numpy.dtype and
 * joblib's NumpyArrayWrapper (whose array bytes follow BUILD in the
 * stream: joblib/numpy_pickle.py NumpyArrayWrapper.read_array), copyreg's
 * reconstructors and functools.partial.
 */
#include "pickle_int.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define PARTIAL_DEPTH 16
#define SHADOW_BYTES ((size_t)1 << 20)

static pk_val mk(int tag)
{
  pk_val v;
  memset(&v, 0, sizeof v);
  v.tag = (uint8_t)tag;
  return v;
}

static pk_val call_result(uint32_t idx)
{
  pk_val v = mk(PK_CALL);
  v.idx = idx;
  return v;
}

static void import_names(pk_vm *vm, uint32_t idx, const char **m, const char **n)
{
  mlg_pickle_report *r = vm->c->rep;
  *m = *n = "?";
  if (idx != PK_NOIMP && idx < r->nimports) {
    *m = r->imports[idx].module;
    *n = r->imports[idx].name;
  }
}

static pk_val new_obj(pk_vm *vm, int kind)
{
  pk_obj *o = pk_obj_new(&vm->c->st, kind);
  pk_val v;
  if (!o) {
    v = mk(PK_SUM);
    v.sub = (uint16_t)kind;
    return v;
  }
  v = mk(PK_OBJ);
  v.u.o = o;
  return v;
}

/* str values back to the bytes they were made from when every code point
 * is below 256 (Latin-1), as protocol 0 strings are. */
static pk_blob *latin1_of(pk_vm *vm, const char *s, size_t n)
{
  const unsigned char *u = (const unsigned char *)s;
  size_t i = 0, o = 0;
  pk_blob *b = pk_blob_new(&vm->c->st, n, 1);
  if (!b)
    return NULL;
  while (i < n) {
    unsigned c = u[i];
    if (c < 0x80) {
      b->data[o++] = (char)c;
      i++;
    } else if ((c == 0xc2 || c == 0xc3) && i + 1 < n) {
      b->data[o++] = (char)(((c & 0x1f) << 6) | (u[i + 1] & 0x3f));
      i += 2;
    } else {
      pk_val_decref(&vm->c->st, pk_str_val(b, n, 1));
      return NULL;
    }
  }
  b->len = (uint32_t)o;
  b->data[o] = '\0';
  return b;
}

/* The bytes a loader would read from v (bytes, bytearray, a BytesIO, or
 * a Latin-1 str), with a reference; NULL when not kept. */
static pk_blob *bytes_of(pk_vm *vm, pk_val v)
{
  int depth;
  /* BytesIO(BytesIO(...)) chains are the input's to make: bounded */
  for (depth = 0; v.tag == PK_OBJ && v.u.o->kind == PK_K_BYTESIO; depth++) {
    if (!v.u.o->n || depth >= 4)
      return NULL;
    v = v.u.o->items[0];
  }
  if (!(v.flags & PK_F_KEPT))
    return NULL;
  if (v.tag == PK_BYTES) {
    v.u.b->refs++;
    return v.u.b;
  }
  if (v.tag == PK_STR)
    return latin1_of(vm, v.u.b->data, v.u.b->len);
  return NULL;
}

/* An unpickling call: its argument is scanned as a nested pickle. */
static int nested(pk_vm *vm, uint32_t idx, int special, const pk_val *args, size_t n)
{
  const char *m, *nm;
  pk_blob *b = n ? bytes_of(vm, args[0]) : NULL;
  int r, torch = special == PK_S_TORCH_LOAD || special == PK_S_TORCH_BYTES;
  int joblib;

  import_names(vm, idx, &m, &nm);
  joblib = special == PK_S_LOAD && strstr(m, "joblib") != NULL;
  if ((special == PK_S_LOAD || special == PK_S_TORCH_LOAD) && n &&
      !(args[0].tag == PK_OBJ && args[0].u.o->kind == PK_K_BYTESIO)) {
    /* a load() of a path or an unknown file object: nothing to scan */
    if (b)
      pk_val_decref(&vm->c->st, pk_str_val(b, b->len, 1));
    b = NULL;
  }
  if (b && torch && b->len >= 4 && memcmp(b->data, "PK\x03\x04", 4) == 0) {
    /* a torch zip checkpoint: the archive reader's job, not ours */
    pk_val_decref(&vm->c->st, pk_str_val(b, b->len, 1));
    b = NULL;
  }
  r = pk_scan_nested(vm, b, torch, joblib, m, nm);
  if (b)
    pk_val_decref(&vm->c->st, pk_str_val(b, b->len, 1));
  return r;
}

static const char *text_of(pk_val v, size_t *n)
{
  return v.tag == PK_STR ? pk_val_text(v, n) : NULL;
}

static int enc_is(const char *e, size_t n, const char *const *names)
{
  char low[32];
  size_t i, o = 0;
  if (n >= sizeof low)
    return 0;
  for (i = 0; i < n; i++) {
    char c = e[i];
    if (c == '-' || c == '_' || c == ' ')
      continue;
    low[o++] = (char)(c >= 'A' && c <= 'Z' ? c + 32 : c);
  }
  low[o] = '\0';
  for (i = 0; names[i]; i++) {
    if (strcmp(low, names[i]) == 0)
      return 1;
  }
  return 0;
}

/* str.encode(encoding) for the encodings pickles use to carry bytes. */
static pk_val encode(pk_vm *vm, pk_val s, const pk_val *enc, int flags)
{
  static const char *const latin1[] = {"latin1", "iso88591", "l1", "8859", "cp819", "latin", NULL};
  static const char *const utf8[] = {"utf8", "u8", "utf", NULL};
  static const char *const ascii[] = {"ascii", "usascii", "646", NULL};
  size_t n, en = 5;
  const char *t = text_of(s, &n), *e = "utf-8";
  pk_val r = pk_str_val(NULL, 0, 1);
  pk_blob *b = NULL;

  r.flags |= (uint8_t)flags;
  if (enc && !(e = text_of(*enc, &en)))
    return r;
  if (!t)
    return r;
  if (enc_is(e, en, latin1)) {
    b = latin1_of(vm, t, n);
  } else if (enc_is(e, en, utf8) || enc_is(e, en, ascii)) {
    size_t i;
    if (enc_is(e, en, ascii)) {
      for (i = 0; i < n; i++) {
        if ((unsigned char)t[i] >= 0x80)
          return r;
      }
    }
    b = pk_blob_new(&vm->c->st, n, 1);
    if (b)
      memcpy(b->data, t, n);
  }
  if (b) {
    r = pk_str_val(b, b->len, 1);
    r.flags |= (uint8_t)flags;
  }
  return r;
}

/* bytes(...) and bytearray(...) */
static pk_val make_bytes(pk_vm *vm, const pk_val *args, size_t n, int complete, int flags)
{
  pk_val r = pk_str_val(NULL, 0, 1);
  r.flags |= (uint8_t)flags;
  if (!complete)
    return r;
  if (n == 0) {
    pk_blob *b = pk_blob_new(&vm->c->st, 0, 1);
    if (b) {
      r = pk_str_val(b, 0, 1);
      r.flags |= (uint8_t)flags;
    }
    return r;
  }
  if (args[0].tag == PK_STR && n >= 2)
    return encode(vm, args[0], &args[1], flags);
  if (args[0].tag == PK_BYTES && (args[0].flags & PK_F_KEPT)) {
    r = args[0];
    pk_val_incref(r);
    r.flags = (uint8_t)((r.flags & ~PK_F_BYTEARRAY) | flags);
    return r;
  }
  if (args[0].tag == PK_OBJ && (args[0].u.o->kind == PK_K_LIST ||
                                args[0].u.o->kind == PK_K_TUPLE) && !args[0].u.o->trunc) {
    pk_obj *o = args[0].u.o;
    pk_blob *b = pk_blob_new(&vm->c->st, o->n, 1);
    uint16_t i;
    if (!b)
      return r;
    for (i = 0; i < o->n; i++) {
      if (o->items[i].tag != PK_INT || o->items[i].u.i < 0 || o->items[i].u.i > 255) {
        pk_val_decref(&vm->c->st, pk_str_val(b, o->n, 1));
        return r;
      }
      b->data[i] = (char)o->items[i].u.i;
    }
    r = pk_str_val(b, o->n, 1);
    r.flags |= (uint8_t)flags;
  }
  return r;
}

/* numpy.dtype('f8', False, True): the type string fixes the item size
 * except for flexible kinds (S, U, V), whose size BUILD's state gives. */
static pk_val make_dtype(pk_vm *vm, const pk_val *args, size_t n)
{
  pk_val v = new_obj(vm, PK_K_DTYPE);
  size_t len, i = 0;
  const char *t = n ? text_of(args[0], &len) : NULL;
  pk_obj *o = v.tag == PK_OBJ ? v.u.o : NULL;
  int64_t num = 0;
  int digits = 0;
  char kind;

  if (!o || !t)
    return v;
  if (i < len && (t[i] == '<' || t[i] == '>' || t[i] == '|' || t[i] == '='))
    i++;
  if (i >= len)
    return v;
  kind = t[i++];
  for (; i < len && t[i] >= '0' && t[i] <= '9' && num < ((int64_t)1 << 40); i++, digits++)
    num = num * 10 + (t[i] - '0');
  if (i != len)
    return v;
  o->hasobject = kind == 'O';
  o->flexible = kind == 'S' || kind == 'U' || kind == 'V' || kind == 'a';
  switch (kind) {
  case 'b': case 'i': case 'u': case 'f': case 'c': case 'M': case 'm': case 'O':
    if (digits)
      o->itemsize = num;
    else if (kind == 'O' || kind == 'M' || kind == 'm')
      o->itemsize = 8;
    break;
  case '?':
    o->itemsize = 1;
    break;
  case 'U':
    o->itemsize = digits ? num * 4 : 0;
    break;
  case 'S': case 'V': case 'a':
    o->itemsize = digits ? num : 0;
    break;
  default:
    o->hasobject = -1;
    break;
  }
  return v;
}

static int64_t int_of(pk_val v)
{
  return v.tag == PK_INT || v.tag == PK_BOOL ? v.u.i : -1;
}

/* shape: a tuple of ints -> element count (-1 when unknown). */
static int64_t shape_count(pk_val v)
{
  pk_obj *o;
  int64_t c = 1;
  uint16_t i;
  if (v.tag != PK_OBJ || (v.u.o->kind != PK_K_TUPLE && v.u.o->kind != PK_K_LIST) ||
      v.u.o->trunc)
    return -1;
  o = v.u.o;
  for (i = 0; i < o->n; i++) {
    int64_t d = int_of(o->items[i]);
    if (o->items[i].tag != PK_INT || d < 0)
      return -1;
    if (d && c > INT64_MAX / d)
      return -1;
    c *= d;
  }
  return c;
}

static void naw_set(pk_obj *naw, const char *key, size_t klen, pk_val val)
{
  if (klen == 5 && memcmp(key, "shape", 5) == 0) {
    naw->count_el = shape_count(val);
  } else if (klen == 5 && memcmp(key, "dtype", 5) == 0) {
    if (val.tag == PK_OBJ && val.u.o->kind == PK_K_DTYPE) {
      naw->itemsize = val.u.o->itemsize;
      naw->hasobject = val.u.o->hasobject;
    } else {
      naw->itemsize = -1;
      naw->hasobject = -1;
    }
  } else if (klen == 27 && memcmp(key, "numpy_array_alignment_bytes", 27) == 0) {
    naw->align = val.tag == PK_NONE ? 0 : val.tag == PK_INT ? 1 : -1;
  }
}

static pk_val make_naw(pk_vm *vm, uint32_t idx)
{
  pk_val v = new_obj(vm, PK_K_NAW);
  if (v.tag == PK_OBJ) {
    v.u.o->align = 0; /* getattr(self, "numpy_array_alignment_bytes", None) */
    v.u.o->import_idx = idx;
  }
  return v;
}

static int not_callable(pk_val v)
{
  switch (v.tag) {
  case PK_NONE: case PK_BOOL: case PK_INT: case PK_BIGINT: case PK_FLOAT: case PK_STR:
  case PK_BYTES: case PK_SUM:
    return 1;
  case PK_OBJ:
    return v.u.o->kind != PK_K_PARTIAL;
  default:
    return 0;
  }
}

static int call_depth(pk_vm *vm, pk_val fn, const pk_val *args, size_t n, int complete,
                      pk_val *out, int depth);

static int call_partial(pk_vm *vm, pk_obj *p, const pk_val *args, size_t n, int complete,
                        pk_val *out, int depth)
{
  pk_val all[PK_OBJ_KEEP * 2];
  size_t k = 0, i;
  if (p->n == 0 || depth >= PARTIAL_DEPTH) {
    *out = call_result(PK_NOIMP);
    return 0;
  }
  for (i = 1; i < p->n && k < sizeof all / sizeof all[0]; i++)
    all[k++] = p->items[i];
  for (i = 0; i < n && k < sizeof all / sizeof all[0]; i++)
    all[k++] = args[i];
  return call_depth(vm, p->items[0], all, k, complete && !p->trunc && k == (p->n - 1u) + n,
                    out, depth + 1);
}

static int call_depth(pk_vm *vm, pk_val fn, const pk_val *args, size_t n, int complete,
                      pk_val *out, int depth)
{
  int sp = fn.sub;
  uint32_t idx = fn.idx;

  if (fn.tag == PK_OBJ && fn.u.o->kind == PK_K_PARTIAL)
    return call_partial(vm, fn.u.o, args, n, complete, out, depth);
  if (not_callable(fn))
    return pk_vm_fail(vm, MLG_EPARSE, "'%s' object is not callable", pk_type_name(fn));
  if (fn.tag != PK_GLOBAL) {
    if (fn.tag == PK_PERSID)
      pk_import_called(vm, fn.idx);
    *out = call_result(PK_NOIMP);
    return 0;
  }
  pk_import_called(vm, idx);
  *out = call_result(idx);
  switch (sp) {
  case PK_S_LOADS:
  case PK_S_LOAD:
  case PK_S_TORCH_LOAD:
  case PK_S_TORCH_BYTES:
    return nested(vm, idx, sp, args, n);
  case PK_S_ENCODE:
    if (n >= 1)
      *out = encode(vm, args[0], n >= 2 ? &args[1] : NULL, 0);
    else
      *out = pk_str_val(NULL, 0, 1);
    return 0;
  case PK_S_BYTES:
  case PK_S_BYTEARRAY:
    *out = make_bytes(vm, args, n, complete, sp == PK_S_BYTEARRAY ? PK_F_BYTEARRAY : 0);
    return 0;
  case PK_S_BYTESIO:
    *out = new_obj(vm, PK_K_BYTESIO);
    if (out->tag == PK_OBJ && n >= 1) {
      pk_val_incref(args[0]);
      pk_obj_push(&vm->c->st, out->u.o, args[0]);
    }
    return 0;
  case PK_S_DTYPE:
    *out = make_dtype(vm, args, n);
    return 0;
  case PK_S_NAW:
    /* NumpyArrayWrapper(subclass, shape, order, dtype, allow_mmap=False,
     * numpy_array_alignment_bytes=16) */
    *out = make_naw(vm, idx);
    if (out->tag == PK_OBJ) {
      pk_obj *o = out->u.o;
      o->align = 1;
      if (n >= 2)
        naw_set(o, "shape", 5, args[1]);
      if (n >= 4)
        naw_set(o, "dtype", 5, args[3]);
      if (n >= 6)
        naw_set(o, "numpy_array_alignment_bytes", 27, args[5]);
      if (!complete)
        o->count_el = -1;
    }
    return 0;
  case PK_S_RECONSTRUCTOR:
  case PK_S_NEWOBJ:
    if (n >= 1)
      return pk_new(vm, args[0], out);
    return 0;
  case PK_S_PARTIAL:
    *out = new_obj(vm, PK_K_PARTIAL);
    if (n >= 1 && args[0].tag == PK_GLOBAL)
      pk_import_called(vm, args[0].idx); /* it is made to be called */
    if (out->tag == PK_OBJ) {
      size_t i;
      for (i = 0; i < n; i++) {
        pk_val_incref(args[i]);
        pk_obj_push(&vm->c->st, out->u.o, args[i]);
      }
      if (!complete)
        out->u.o->trunc = 1;
    }
    return 0;
  default:
    return 0;
  }
}

int pk_call(pk_vm *vm, pk_val fn, const pk_val *args, size_t n, int complete, pk_val *out)
{
  return call_depth(vm, fn, args, n, complete, out, 0);
}

int pk_new(pk_vm *vm, pk_val cls, pk_val *out)
{
  if (cls.tag != PK_GLOBAL) {
    if (cls.tag == PK_PERSID)
      pk_import_called(vm, cls.idx);
    *out = call_result(PK_NOIMP);
    return 0;
  }
  pk_import_called(vm, cls.idx);
  if (cls.sub == PK_S_NAW)
    *out = make_naw(vm, cls.idx);
  else
    *out = call_result(cls.idx);
  return 0;
}

/* joblib's NumpyUnpickler.load_build: after BUILD on a wrapper, the array
 * is read from the file at once (read_array). */
static int read_array(pk_vm *vm, pk_val *inst)
{
  pk_obj *o = inst->u.o;
  pk_rd *rd = vm->rd;
  const char *m, *n;
  uint64_t pos = pk_rd_pos(rd);

  import_names(vm, o->import_idx, &m, &n);
  if (rd->s && rd->frame && pos < rd->frame_end)
    pk_rd_set_anomaly(rd, pos,
                      "joblib array data at offset %llu starts inside the FRAME at offset %llu",
                      (unsigned long long)pos, (unsigned long long)rd->frame_at);
  pk_rd_leave_frame(rd);
  if (o->hasobject == 1) {
    if (pk_scan_inline(vm, m, n) < 0)
      return -1;
  } else {
    uint64_t size;
    if (o->count_el < 0 || o->itemsize < 0 || o->hasobject < 0 || o->align < 0)
      return pk_vm_fail(vm, MLG_EPARSE,
                        "joblib NumpyArrayWrapper with a shape or dtype not understood: "
                        "its array data cannot be skipped");
    if ((uint64_t)o->itemsize && (uint64_t)o->count_el > UINT64_MAX / (uint64_t)o->itemsize)
      return pk_vm_fail(vm, MLG_EPARSE, "joblib array size overflows");
    size = (uint64_t)o->count_el * (uint64_t)o->itemsize;
    if (o->align == 1) {
      const unsigned char *p = pk_rd_small(rd, 1);
      if (!p || pk_rd_take(rd, p[0], PK_RD_INTO, NULL, NULL) < 0)
        goto rd_fail;
    }
    if (o->align == 0 && size) {
      /* Unpadded data is where pickle.load (not joblib) would look for
       * the next opcode: see what it finds there. */
      size_t k = size < SHADOW_BYTES ? (size_t)size : SHADOW_BYTES;
      char *buf = malloc(k);
      int r;
      if (!buf)
        return pk_vm_fail(vm, MLG_ENOMEM, "out of memory");
      if (pk_rd_take(rd, k, PK_RD_INTO, buf, NULL) < 0) {
        free(buf);
        goto rd_fail;
      }
      r = pk_scan_shadow(vm, buf, k, pk_rd_pos(rd) - k);
      free(buf);
      if (r < 0)
        return -1;
      size -= k;
    }
    if (pk_rd_take(rd, size, PK_RD_INTO, NULL, NULL) < 0)
      goto rd_fail;
  }
  vm->c->rep->joblib_arrays++;
  {
    uint32_t idx = o->import_idx;
    pk_val_decref(&vm->c->st, *inst);
    *inst = call_result(idx);
  }
  return 0;
rd_fail:
  if (!vm->err) {
    vm->err = rd->fail ? rd->fail : MLG_EPARSE;
    vm->err_at = pk_vm_report_at(vm);
    snprintf(vm->err_msg, sizeof vm->err_msg, "joblib array data: %s", rd->fail_msg);
  }
  return -1;
}

int pk_build(pk_vm *vm, pk_val *inst, pk_val state)
{
  pk_obj *o;

  if (inst->tag == PK_GLOBAL) {
    /* __setstate__ (or a __dict__ update) on the imported object itself */
    pk_import_called(vm, inst->idx);
    return 0;
  }
  if (inst->tag != PK_OBJ)
    return 0;
  o = inst->u.o;
  if (o->kind == PK_K_DTYPE) {
    /* arraydescr_setstate: (version, endian, subarray, names, fields,
     * elsize, alignment, flags[, metadata]) */
    if (state.tag == PK_OBJ && state.u.o->kind == PK_K_TUPLE && state.u.o->n >= 8) {
      pk_obj *t = state.u.o;
      if (o->flexible && t->items[5].tag == PK_INT && t->items[5].u.i >= 0)
        o->itemsize = t->items[5].u.i;
      if (t->items[7].tag == PK_INT && (t->items[7].u.i & 1) && o->hasobject == 0)
        o->hasobject = 1;
    }
    return 0;
  }
  if (o->kind == PK_K_PARTIAL) {
    /* partial.__setstate__((func, args, kwds, dict)) */
    if (state.tag == PK_OBJ && state.u.o->kind == PK_K_TUPLE && state.u.o->n >= 1 &&
        state.u.o->items[0].tag == PK_GLOBAL)
      pk_import_called(vm, state.u.o->items[0].idx);
    return 0;
  }
  if (o->kind == PK_K_NAW) {
    pk_val d = state;
    uint16_t i;
    if (d.tag == PK_OBJ && d.u.o->kind == PK_K_TUPLE && d.u.o->n == 2)
      d = d.u.o->items[0]; /* (state, slotstate) */
    if (d.tag == PK_OBJ && d.u.o->kind == PK_K_DICT) {
      for (i = 0; i + 1 < d.u.o->n; i += 2) {
        size_t kl;
        const char *k = text_of(d.u.o->items[i], &kl);
        if (k)
          naw_set(o, k, kl, d.u.o->items[i + 1]);
      }
      if (d.u.o->trunc)
        o->count_el = -1;
    } else if (d.tag != PK_NONE) {
      o->count_el = -1;
    }
    if (vm->joblib)
      return read_array(vm, inst);
  }
  return 0;
}
