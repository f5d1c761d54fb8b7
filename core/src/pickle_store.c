/*
 * The pickle VM's value model. Strings, bytes and containers are
 * refcounted so that what the stack pops is released at once; a slab keeps
 * the millions of short strings of a big pickle from costing a malloc
 * each. Budgets bound memory whatever the input: live_max for strings
 * and bytes alive, obj_max for containers, memo_max for what the memo
 * keeps (past it the memo keeps summaries: a string's hash, a
 * container's kind). Past live_max and obj_max new values are not kept:
 * the VM still knows their type.
 */
#include "pickle_int.h"

#include <stdlib.h>
#include <string.h>

#define SLAB_CHUNK ((size_t)256 * 1024)
#define SLAB_MIN_SHIFT 5 /* 32-byte blocks */
#define SLAB_CLASSES 10  /* up to 16 KiB */
#define OBJ_CHUNK 1024

struct pk_slab {
  pk_slab *next;
  size_t used;
  unsigned char *mem;
};

void pk_store_init(pk_store *st, const mlg_pickle_opts *o)
{
  memset(st, 0, sizeof *st);
  st->max_string = o->max_string;
  st->max_bytes = o->max_nested_bytes;
  st->memo_max = (size_t)16 << 20;
  st->live_max = ((size_t)16 << 20) + o->max_nested_bytes;
  st->obj_max = (size_t)24 << 20;
}

void pk_store_free(pk_store *st)
{
  pk_slab *s, *next;
  size_t i;
  if (!st)
    return;
  for (s = st->slabs; s; s = next) {
    next = s->next;
    free(s->mem);
    free(s);
  }
  for (i = 0; i < st->nobj_chunks; i++)
    free(st->obj_chunks[i]);
  free(st->obj_chunks);
  memset(st, 0, sizeof *st);
}

static int size_class(size_t size)
{
  int c = 0;
  size_t b = (size_t)1 << SLAB_MIN_SHIFT;
  while (b < size) {
    b <<= 1;
    c++;
  }
  return c < SLAB_CLASSES ? c : -1;
}

static void *slab_alloc(pk_store *st, int cls)
{
  size_t bsize = (size_t)1 << (SLAB_MIN_SHIFT + cls);
  void *p = st->free_blocks[cls];
  pk_slab *s;

  if (p) {
    memcpy(&st->free_blocks[cls], p, sizeof(void *));
    return p;
  }
  s = st->slabs;
  if (!s || SLAB_CHUNK - s->used < bsize) {
    s = calloc(1, sizeof *s);
    if (!s)
      return NULL;
    s->mem = malloc(SLAB_CHUNK);
    if (!s->mem) {
      free(s);
      return NULL;
    }
    s->next = st->slabs;
    st->slabs = s;
  }
  p = s->mem + s->used;
  s->used += bsize;
  return p;
}

static void slab_free(pk_store *st, void *p, int cls)
{
  memcpy(p, &st->free_blocks[cls], sizeof(void *));
  st->free_blocks[cls] = p;
}

pk_blob *pk_blob_new(pk_store *st, size_t len, int is_bytes)
{
  size_t size = sizeof(pk_blob) + len + 1;
  pk_blob *b;
  int cls;

  if (len > (is_bytes ? st->max_bytes : st->max_string) || len > UINT32_MAX - 64)
    return NULL;
  if (size > st->live_max || st->live_bytes > st->live_max - size)
    return NULL;
  cls = size_class(size);
  if (cls >= 0) {
    b = slab_alloc(st, cls);
    size = (size_t)1 << (SLAB_MIN_SHIFT + cls);
  } else {
    b = malloc(size);
  }
  if (!b) {
    st->oom = 1;
    return NULL;
  }
  b->refs = 1;
  b->len = (uint32_t)len;
  b->size = (uint32_t)size;
  b->cls = cls >= 0 ? (uint8_t)cls : PK_BLOB_MALLOC;
  b->data[len] = '\0';
  st->live_bytes += size;
  return b;
}

void pk_blob_release(pk_store *st, pk_blob *b)
{
  st->live_bytes -= b->size;
  if (b->cls == PK_BLOB_MALLOC)
    free(b);
  else
    slab_free(st, b, b->cls);
}

static size_t obj_size(const pk_obj *o)
{
  return sizeof *o + (size_t)o->cap * sizeof(pk_val);
}

pk_obj *pk_obj_new(pk_store *st, int kind)
{
  pk_obj *o;

  if (st->obj_bytes > st->obj_max - sizeof *o)
    return NULL;
  if (!st->free_objs) {
    pk_obj *chunk;
    size_t i;
    if (st->nobj_chunks == st->obj_chunks_cap) {
      size_t cap = st->obj_chunks_cap ? st->obj_chunks_cap * 2 : 16;
      pk_obj **n = realloc(st->obj_chunks, cap * sizeof *n);
      if (!n) {
        st->oom = 1;
        return NULL;
      }
      st->obj_chunks = n;
      st->obj_chunks_cap = cap;
    }
    chunk = malloc(OBJ_CHUNK * sizeof *chunk);
    if (!chunk) {
      st->oom = 1;
      return NULL;
    }
    st->obj_chunks[st->nobj_chunks++] = chunk;
    for (i = OBJ_CHUNK; i-- > 0;) {
      chunk[i].next = st->free_objs;
      st->free_objs = &chunk[i];
    }
  }
  o = st->free_objs;
  st->free_objs = o->next;
  memset(o, 0, sizeof *o);
  o->refs = 1;
  o->kind = (uint8_t)kind;
  o->count_el = -1;
  o->itemsize = -1;
  o->hasobject = -1;
  o->align = -1;
  o->import_idx = PK_NOIMP;
  st->obj_bytes += sizeof *o;
  return o;
}

void pk_obj_push(pk_store *st, pk_obj *o, pk_val v)
{
  o->count++;
  if (o->n >= PK_OBJ_KEEP) {
    o->trunc = 1;
    pk_val_decref(st, v);
    return;
  }
  if (o->n == o->cap) {
    unsigned cap = o->cap ? o->cap * 2u : 4u;
    size_t add = (size_t)(cap - o->cap) * sizeof(pk_val);
    int cls = size_class((size_t)cap * sizeof(pk_val));
    pk_val *items;
    if (st->obj_bytes > st->obj_max - add) {
      o->trunc = 1;
      pk_val_decref(st, v);
      return;
    }
    items = slab_alloc(st, cls);
    if (!items) {
      st->oom = 1;
      o->trunc = 1;
      pk_val_decref(st, v);
      return;
    }
    if (o->n)
      memcpy(items, o->items, (size_t)o->n * sizeof(pk_val));
    if (o->items)
      slab_free(st, o->items, size_class((size_t)o->cap * sizeof(pk_val)));
    o->items = items;
    o->cap = (uint16_t)cap;
    st->obj_bytes += add;
  }
  o->items[o->n++] = v;
}

/* Releasing a container releases what it holds: a worklist rather than
 * recursion, since nesting depth is the input's choice. */
void pk_obj_decref(pk_store *st, pk_obj *top)
{
  pk_obj *o;

  if (--top->refs != 0)
    return;
  top->next = st->pending;
  st->pending = top;
  while ((o = st->pending) != NULL) {
    uint16_t i;
    st->pending = o->next;
    for (i = 0; i < o->n; i++) {
      pk_val it = o->items[i];
      if ((it.tag == PK_STR || it.tag == PK_BYTES) && (it.flags & PK_F_KEPT)) {
        if (--it.u.b->refs == 0)
          pk_blob_release(st, it.u.b);
      } else if (it.tag == PK_OBJ && --it.u.o->refs == 0) {
        it.u.o->next = st->pending;
        st->pending = it.u.o;
      }
    }
    st->obj_bytes -= obj_size(o);
    if (o->items)
      slab_free(st, o->items, size_class((size_t)o->cap * sizeof(pk_val)));
    o->items = NULL;
    o->next = st->free_objs;
    st->free_objs = o;
  }
}

uint64_t pk_hash(const void *p, size_t n)
{
  const unsigned char *s = p;
  uint64_t h = 0xcbf29ce484222325ULL;
  size_t i;
  for (i = 0; i < n; i++) {
    h ^= s[i];
    h *= 0x100000001b3ULL;
  }
  return h;
}

pk_val pk_val_memo_copy(pk_store *st, pk_val v)
{
  pk_val r = v;

  if ((v.tag == PK_STR || v.tag == PK_BYTES) && (v.flags & PK_F_KEPT)) {
    size_t size = v.u.b->size;
    if (st->memo_bytes > st->memo_max || st->memo_max - st->memo_bytes < size) {
      r.flags = (uint8_t)((v.flags & ~PK_F_KEPT) | PK_F_HASHED);
      r.u.h = pk_hash(v.u.b->data, v.u.b->len);
      return r;
    }
    st->memo_bytes += size;
    v.u.b->refs++;
    return r;
  }
  if (v.tag == PK_OBJ) {
    pk_obj *o = v.u.o;
    size_t size = obj_size(o);
    /* Recognised objects are small and needed whole (a joblib wrapper's
     * dtype comes back through the memo). */
    if (o->kind <= PK_K_FROZENSET &&
        (st->memo_bytes > st->memo_max || st->memo_max - st->memo_bytes < size)) {
      r.tag = PK_SUM;
      r.sub = o->kind;
      r.u.o = NULL;
      return r;
    }
    st->memo_bytes += size;
    o->refs++;
  }
  return r;
}

void pk_val_memo_release(pk_store *st, pk_val v)
{
  pk_val_decref(st, v);
}

const char *pk_val_text(pk_val v, size_t *len)
{
  if ((v.tag != PK_STR && v.tag != PK_BYTES) || !(v.flags & PK_F_KEPT))
    return NULL;
  *len = v.u.b->len;
  return v.u.b->data;
}

int pk_val_is_str(pk_val v, const char *s)
{
  size_t n;
  const char *t = v.tag == PK_STR ? pk_val_text(v, &n) : NULL;
  return t && n == strlen(s) && memcmp(t, s, n) == 0;
}

const char *pk_type_name(pk_val v)
{
  static const char *const kinds[] = {"object", "tuple", "list", "dict", "set",
                                      "frozenset", "numpy.dtype", "NumpyArrayWrapper",
                                      "BytesIO", "functools.partial"};
  switch (v.tag) {
  case PK_NONE: return "NoneType";
  case PK_BOOL: return "bool";
  case PK_INT:
  case PK_BIGINT: return "int";
  case PK_FLOAT: return "float";
  case PK_STR: return "str";
  case PK_BYTES: return (v.flags & PK_F_BYTEARRAY) ? "bytearray" : "bytes";
  case PK_OBJ: return v.u.o->kind <= PK_K_PARTIAL ? kinds[v.u.o->kind] : "object";
  case PK_SUM: return v.sub <= PK_K_PARTIAL ? kinds[v.sub] : "object";
  default: return "object";
  }
}
