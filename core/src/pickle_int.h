/*
 * Internals of the pickle analyser, shared by its files:
 *
 *   pickle.c        public API, the import list, the scan driver
 *   pickle_store.c  the value model: refcounted strings/bytes and
 *                   containers under memory budgets
 *   pickle_rd.c     input: buffered reads, lines, and CPython's FRAME rules
 *   pickle_vm.c     the opcode interpreter (stack, mark stack, memo)
 *   pickle_call.c   what calling a known callable means: nested pickles,
 *                   _codecs.encode, numpy dtypes, joblib array wrappers
 *
 * Nothing here is public: pickle.h is the contract.
 */
#ifndef MLG_PICKLE_INT_H
#define MLG_PICKLE_INT_H

#include <stddef.h>
#include <stdint.h>

#include "pickle.h"

/* ---- values ------------------------------------------------------------ */

enum pk_tag {
  PK_EMPTY = 0, /* an unused memo slot */
  PK_NONE,
  PK_BOOL,      /* u.i */
  PK_INT,       /* u.i */
  PK_BIGINT,    /* beyond int64: the value itself is not kept */
  PK_FLOAT,     /* u.d */
  PK_STR,       /* len; u.b when PK_F_KEPT, else u.h (hash) when PK_F_HASHED */
  PK_BYTES,     /* same; PK_F_BYTEARRAY for bytearray */
  PK_OBJ,       /* u.o: a container or a recognised object */
  PK_SUM,       /* a container not kept (budget): sub = its kind */
  PK_GLOBAL,    /* what an import pushed: idx = import index, sub = special */
  PK_CALL,      /* the result of calling import idx (PK_NOIMP: unknown) */
  PK_PERSID,    /* persistent_load() result */
  PK_BUFFER,    /* NEXT_BUFFER */
  PK_UNKNOWN
};

#define PK_F_KEPT 0x01
#define PK_F_HASHED 0x02
#define PK_F_BYTEARRAY 0x04

#define PK_NOIMP UINT32_MAX

typedef struct pk_blob pk_blob;
typedef struct pk_obj pk_obj;

typedef struct pk_val {
  uint8_t tag;
  uint8_t flags;
  uint16_t sub;   /* PK_SUM: kind; PK_GLOBAL/PK_CALL: special callable */
  uint32_t idx;   /* PK_STR/PK_BYTES: length (clamped); PK_GLOBAL/PK_CALL: import */
  union {
    int64_t i;
    double d;
    pk_blob *b;
    pk_obj *o;
    uint64_t h;
  } u;
} pk_val;

struct pk_blob {
  uint32_t refs;
  uint32_t len;
  uint32_t size;   /* allocation size, for the budget */
  uint8_t cls;     /* slab class, or PK_BLOB_MALLOC */
  char data[];     /* len bytes, then a NUL */
};

#define PK_BLOB_MALLOC 0xff

enum pk_kind {
  PK_K_TUPLE = 1,
  PK_K_LIST,
  PK_K_DICT,
  PK_K_SET,
  PK_K_FROZENSET,
  PK_K_DTYPE,     /* numpy.dtype(...) */
  PK_K_NAW,       /* joblib NumpyArrayWrapper instance */
  PK_K_BYTESIO,   /* io.BytesIO(bytes): items[0] */
  PK_K_PARTIAL    /* functools.partial: items = func, args... */
};

/* Containers keep their first PK_OBJ_KEEP values (dicts: key, value
 * alternating); the rest are counted and released. */
#define PK_OBJ_KEEP 32

struct pk_obj {
  uint32_t refs;
  uint8_t kind;
  uint8_t trunc;    /* some items were not kept */
  uint16_t n, cap;  /* kept values, capacity of items */
  uint64_t count;   /* logical length (dict: pairs) */
  pk_val *items;
  pk_obj *next;     /* free list */
  /* PK_K_DTYPE: itemsize (-1 unknown), hasobject, flexible.
   * PK_K_NAW: count (-1 unknown), itemsize (-1), hasobject (-1),
   * align (-1 unknown, 0 none, 1 padded). */
  int64_t count_el, itemsize;
  int8_t hasobject, align, flexible;
  uint32_t import_idx;  /* PK_K_NAW: the wrapper's import */
};

/* Special callables (pk_val.sub of PK_GLOBAL) */
enum pk_special {
  PK_S_NONE = 0,
  PK_S_LOADS,       /* pickle.loads(bytes) and equivalents */
  PK_S_LOAD,        /* pickle.load(file) and equivalents: BytesIO arguments */
  PK_S_TORCH_LOAD,  /* torch.load(file) */
  PK_S_TORCH_BYTES, /* torch.storage._load_from_bytes(bytes) */
  PK_S_ENCODE,      /* _codecs.encode(str, encoding) */
  PK_S_BYTES,       /* bytes(...) */
  PK_S_BYTEARRAY,   /* bytearray(...) */
  PK_S_BYTESIO,     /* io.BytesIO(bytes) */
  PK_S_DTYPE,       /* numpy.dtype */
  PK_S_NAW,         /* joblib.numpy_pickle.NumpyArrayWrapper */
  PK_S_RECONSTRUCTOR, /* copyreg._reconstructor(cls, base, state) */
  PK_S_NEWOBJ,      /* copyreg.__newobj__(cls, *args) */
  PK_S_PARTIAL      /* functools.partial(func, *args) */
};

/* ---- the value store --------------------------------------------------- */

typedef struct pk_slab pk_slab;

typedef struct pk_store {
  pk_slab *slabs;
  void *free_blocks[10];   /* per size class */
  pk_obj *free_objs;
  pk_obj **obj_chunks;
  size_t nobj_chunks, obj_chunks_cap;
  size_t live_bytes;       /* blobs alive */
  size_t live_max;
  size_t obj_bytes;        /* containers alive */
  size_t obj_max;
  size_t memo_bytes;       /* kept by the memo */
  size_t memo_max;
  size_t max_string;       /* longest str kept */
  size_t max_bytes;        /* longest bytes kept (nested pickles) */
  pk_obj *pending;         /* objects whose items are being released */
  int oom;                 /* an allocation failed (not a budget) */
} pk_store;

void pk_store_init(pk_store *st, const mlg_pickle_opts *o);
void pk_store_free(pk_store *st);

/* A new blob of len bytes (uninitialised, NUL-terminated) with one
 * reference, or NULL when over a cap or the budget (or out of memory). */
pk_blob *pk_blob_new(pk_store *st, size_t len, int is_bytes);
pk_obj *pk_obj_new(pk_store *st, int kind);
/* Appends v (taking its reference) to a container, keeping it when there
 * is room (allocation failures set st->oom). */
void pk_obj_push(pk_store *st, pk_obj *o, pk_val v);

void pk_blob_release(pk_store *st, pk_blob *b);
void pk_obj_decref(pk_store *st, pk_obj *o);

/* Inline: the VM's hot path pushes and pops millions of values. */
static inline void pk_val_incref(pk_val v)
{
  if ((v.tag == PK_STR || v.tag == PK_BYTES) && (v.flags & PK_F_KEPT))
    v.u.b->refs++;
  else if (v.tag == PK_OBJ)
    v.u.o->refs++;
}

static inline void pk_val_decref(pk_store *st, pk_val v)
{
  if ((v.tag == PK_STR || v.tag == PK_BYTES) && (v.flags & PK_F_KEPT)) {
    if (--v.u.b->refs == 0)
      pk_blob_release(st, v.u.b);
  } else if (v.tag == PK_OBJ) {
    pk_obj_decref(st, v.u.o);
  }
}
/* A memo copy of v: the same value, or a summary of it once the memo
 * holds more than its budget. Takes no reference from v; returns one. */
pk_val pk_val_memo_copy(pk_store *st, pk_val v);
void pk_val_memo_release(pk_store *st, pk_val v);

uint64_t pk_hash(const void *p, size_t n);

static inline pk_val pk_str_val(pk_blob *b, size_t len, int is_bytes)
{
  pk_val v;
  v.tag = is_bytes ? PK_BYTES : PK_STR;
  v.flags = b ? PK_F_KEPT : 0;
  v.sub = 0;
  v.idx = len > UINT32_MAX ? UINT32_MAX : (uint32_t)len;
  v.u.b = b;
  return v;
}
/* The kept text of a str/bytes value, or NULL. */
const char *pk_val_text(pk_val v, size_t *len);
int pk_val_is_str(pk_val v, const char *s);
const char *pk_type_name(pk_val v);

/* ---- input ------------------------------------------------------------- */

typedef struct pk_rd {
  mlg_stream *s;          /* NULL: memory (pickle.loads semantics) */
  const unsigned char *p; /* window */
  size_t len, off, lim;   /* lim: end of the fast path (buffer or frame end) */
  unsigned char *buf;
  size_t cap, cap_max;
  uint64_t base;          /* stream offset of p[0] */
  int eof;
  mlg_err *err;
  /* CPython's C unpickler reading a file: a FRAME reads its bytes into
   * the input buffer; reads are served from that buffer, and a read that
   * needs more than is left drops the rest and reads the file. */
  int frame;
  uint64_t frame_end;
  uint64_t frame_at;      /* offset of the FRAME opcode */
  uint64_t frame_check;   /* data must reach here (frame larger than data) */
  uint64_t frame_check_at;
  /* First divergence between CPython's loaders seen (0: none). */
  int anomaly;
  uint64_t anomaly_at;
  char anomaly_msg[160];
  /* error state for the reader itself */
  int fail;               /* MLG_E* once reading failed */
  char fail_msg[200];
  uint64_t fail_at;
  /* last long line (not kept): first and last byte before '\n' */
  int line_first, line_last;
} pk_rd;

enum { PK_RD_FIXED = 0, PK_RD_INTO = 1 };

void pk_rd_init_mem(pk_rd *rd, const void *data, size_t len, uint64_t base);
int pk_rd_init_stream(pk_rd *rd, mlg_stream *s, size_t cap_max, mlg_err *err);
void pk_rd_free(pk_rd *rd);
uint64_t pk_rd_pos(const pk_rd *rd);
/* One byte: 0..255, or -1 at the end of the data (not an error), or -2. */
int pk_rd_byte(pk_rd *rd);
/* n contiguous bytes (n <= 16): pointer, or NULL (rd->fail set). */
const unsigned char *pk_rd_small(pk_rd *rd, size_t n);
/* n bytes: copied into dst (may be NULL to skip). mode is PK_RD_FIXED
 * (_Unpickler_Read) or PK_RD_INTO (_Unpickler_ReadInto). utf8 != NULL:
 * validates UTF-8 (surrogates allowed) while reading; *utf8 = 0 if bad. */
int pk_rd_take(pk_rd *rd, uint64_t n, int mode, char *dst, int *utf8);
/* A line through its newline: *line and *len (len includes it) when it fits in
 * the buffer; *line NULL when longer (consumed; len counted, line_first
 * and line_last set). Returns 0 or -1 (rd->fail). */
int pk_rd_line(pk_rd *rd, const unsigned char **line, uint64_t *len);
/* FRAME's argument (already read): apply CPython's rules. */
int pk_rd_frame(pk_rd *rd, uint64_t frame_len, uint64_t op_at);
/* joblib reads array data from the file itself: a frame that ended at
 * the BUILD is over. */
void pk_rd_leave_frame(pk_rd *rd);
/* End of a pickle (STOP): a frame with bytes left is a divergence. */
void pk_rd_stop(pk_rd *rd, uint64_t op_at);
/* At the end of the data: a frame that claimed more than there was. */
int pk_rd_check_end(pk_rd *rd);
int pk_rd_set_fail(pk_rd *rd, int code, uint64_t at, const char *fmt, ...)
    __attribute__((format(printf, 4, 5)));
void pk_rd_set_anomaly(pk_rd *rd, uint64_t at, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

/* ---- the scan context and the VM ---------------------------------------- */

typedef struct pk_ctx {
  mlg_pickle_report *rep;
  mlg_pickle_opts o;
  pk_store st;
  size_t imports_cap;
  /* strings that named imports, by hash: resolves memo strings dropped
   * by the budget */
  uint64_t *name_hash;
  uint32_t *name_ref;      /* import index * 2 + (0 module, 1 name) */
  size_t name_cap, name_n;
  int oom;
} pk_ctx;

typedef struct pk_vm {
  pk_ctx *c;
  pk_rd *rd;
  pk_val *stack;
  size_t sp, stack_cap;
  size_t *marks;
  size_t nmarks, marks_cap, fence;
  pk_val *memo;            /* dense part, indices < memo_cap */
  size_t memo_cap;
  uint64_t *memo_bits;     /* presence beyond max_memo */
  size_t memo_bits_words;
  uint64_t memo_len;       /* filled slots (MEMOIZE's index) */
  int proto;
  unsigned depth;
  unsigned pickle;
  int joblib;              /* BUILD on a NumpyArrayWrapper reads its array */
  /* The plain pickle.load view of joblib array data (pk_scan_shadow):
   * starts from unknown values, falls back to the parent's memo, reports
   * only imports with identifier names. */
  int shadow;
  const struct pk_vm *parent;
  uint64_t op_at;          /* offset of the current opcode */
  uint64_t rep_at;         /* fixed report offset (nested), or UINT64_MAX */
  int err;                 /* MLG_E* of the error that stopped this pickle */
  uint64_t err_at;
  char err_msg[256];
} pk_vm;

int pk_vm_init(pk_vm *vm, pk_ctx *c, pk_rd *rd, unsigned depth);
void pk_vm_free(pk_vm *vm);
/* Runs one pickle to its STOP. 0: STOP reached; 1: no data at all;
 * -1: stopped by an error (vm->err) or by the reader (rd->fail). */
int pk_vm_run(pk_vm *vm);
int pk_vm_fail(pk_vm *vm, int code, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));
uint64_t pk_vm_report_at(const pk_vm *vm);

/* pickle.c */
uint32_t pk_import_add(pk_vm *vm, const char *module, size_t mlen, const char *name,
                       size_t nlen, mlg_pickle_via via, int resolved, long ext_code);
void pk_import_called(pk_vm *vm, uint32_t idx);
const char *pk_name_by_hash(pk_ctx *c, uint64_t h, size_t *len);
int pk_special_of(const char *module, const char *name);
/* Scans a nested pickle held in memory (depth + 1). multi: several
 * pickles (torch legacy files). Returns 0, or -1 when the nested pickle
 * stopped with an error (copied into vm). */
int pk_scan_nested(pk_vm *vm, const pk_blob *b, int multi, int joblib,
                   const char *module, const char *name);
/* Scans the next pickle of vm's own stream as a nested one (joblib's
 * object arrays). */
int pk_scan_inline(pk_vm *vm, const char *module, const char *name);
/* What pickle.load (not joblib) makes of joblib array data at offset at:
 * opcodes. Imports found are reported and flagged. */
int pk_scan_shadow(pk_vm *vm, const char *data, size_t n, uint64_t at);

/* pickle_call.c */
/* Calls fn with args (count n, complete: all arguments known): marks the
 * import called and models what the callable returns into *out. op is the
 * opcode name for messages. Returns 0 or -1 (vm->err). */
int pk_call(pk_vm *vm, pk_val fn, const pk_val *args, size_t n, int complete, pk_val *out);
/* NEWOBJ / NEWOBJ_EX / copyreg.__newobj__: cls.__new__(cls, *args). */
int pk_new(pk_vm *vm, pk_val cls, pk_val *out);
/* BUILD: state applied to inst (the stack top). May replace *inst. */
int pk_build(pk_vm *vm, pk_val *inst, pk_val state);

#endif
