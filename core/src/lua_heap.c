#include "lua_heap.h"

#include <stdlib.h>
#include <string.h>

#define GRAIN 16
#define CLASSES (MLG_HEAP_SMALL / GRAIN)
#define SLAB ((size_t)64 << 10)

#if defined(MLG_SANITIZE) || defined(MLG_FUZZING)
#define HEAP_SYSTEM 1
#endif

#ifndef HEAP_SYSTEM
typedef struct block {
  struct block *next;
} block;

/* Per thread: Lua states are used by one thread at a time, and the lists
 * need no lock this way. */
static _Thread_local block *free_list[CLASSES];
static _Thread_local char *slab_next, *slab_end;

static size_t class_of(size_t n)
{
  return (n + GRAIN - 1) / GRAIN - 1;
}

static void *small_alloc(size_t c)
{
  size_t size = (c + 1) * GRAIN;
  block *b = free_list[c];
  if (b) {
    free_list[c] = b->next;
    return b;
  }
  if ((size_t)(slab_end - slab_next) < size) {
    /* The slab's tail (less than one block) is left unused. */
    char *s = malloc(SLAB);
    if (!s)
      return NULL;
    slab_next = s;
    slab_end = s + SLAB;
  }
  b = (block *)slab_next;
  slab_next += size;
  return b;
}

static void small_free(void *p, size_t c)
{
  block *b = p;
  b->next = free_list[c];
  free_list[c] = b;
}
#endif

void *mlg_heap_realloc(void *ptr, size_t osize, size_t nsize)
{
#ifdef HEAP_SYSTEM
  (void)osize;
  if (nsize == 0) {
    free(ptr);
    return NULL;
  }
  return realloc(ptr, nsize);
#else
  size_t old = ptr ? osize : 0;
  void *p;

  if (nsize == 0) {
    if (ptr) {
      if (old && old <= MLG_HEAP_SMALL)
        small_free(ptr, class_of(old));
      else
        free(ptr);
    }
    return NULL;
  }
  if (old > MLG_HEAP_SMALL && nsize > MLG_HEAP_SMALL)
    return realloc(ptr, nsize);
  if (old && old <= MLG_HEAP_SMALL && nsize <= MLG_HEAP_SMALL &&
      class_of(old) == class_of(nsize))
    return ptr;
  p = nsize <= MLG_HEAP_SMALL ? small_alloc(class_of(nsize)) : malloc(nsize);
  if (!p)
    return NULL;
  if (ptr) {
    memcpy(p, ptr, old < nsize ? old : nsize);
    if (old <= MLG_HEAP_SMALL)
      small_free(ptr, class_of(old));
    else
      free(ptr);
  }
  return p;
#endif
}
