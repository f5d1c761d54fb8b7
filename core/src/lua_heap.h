/*
 * The allocator behind every Lua state (sandbox.c accounts and caps; this
 * only provides the memory).
 *
 * Policies make millions of small objects (strings, tables, closures, the
 * lazy tables of documents) and free most of them soon; glibc's malloc
 * spent more time on them than the policies' own code. Lua tells the
 * allocator the size of every block it frees or resizes, so small blocks
 * need no header: they come from size-class free lists carved out of 64 KiB
 * slabs. Slabs are kept for the life of the thread (a policy child is
 * short-lived; the limit on what a state may hold is sandbox.c's cap).
 * Blocks above MLG_HEAP_SMALL bytes, and everything in sanitizer builds
 * (so ASan still sees each Lua object), go to malloc.
 */
#ifndef MLG_LUA_HEAP_H
#define MLG_LUA_HEAP_H

#include <stddef.h>

#define MLG_HEAP_SMALL 256

/* lua_Alloc semantics without the ud: ptr NULL (osize is then a type tag,
 * ignored) allocates, nsize 0 frees, otherwise resizes. Returns NULL when
 * out of memory (ptr is then untouched) or after a free. */
void *mlg_heap_realloc(void *ptr, size_t osize, size_t nsize);

#endif
