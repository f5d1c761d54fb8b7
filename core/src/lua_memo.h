/*
 * Results that many policies ask for, computed once per evaluating process.
 *
 * A child evaluates a batch of policies over the same files, each policy in
 * its own Lua state. The pipeline model of a workflow, the commands of a
 * `run:` script and the context paths of an expression are the same for
 * every policy that asks, and building them costs more than most checks. So
 * they are built once in C as document trees, kept here keyed by what they
 * were made from, and handed to each state as lazy tables (lua_lazy.h).
 *
 * Entries are reference counted: the cache holds one reference and each Lua
 * state that received the result holds one through a box userdata that its
 * lazy tables keep alive. An evicted entry lives until the last state lets
 * go of it. The cache is bounded in entries and bytes.
 */
#ifndef MLG_LUA_MEMO_H
#define MLG_LUA_MEMO_H

#include <stddef.h>

#include <lua.h>

#include "node.h"

typedef struct mlg_memo {
  mlg_doc *doc;   /* the result (root: doc->root), or NULL */
  char *error;    /* a message instead of a result, or NULL (both NULL: "nothing") */
  size_t bytes;   /* what it is accounted as */
  unsigned refs;
} mlg_memo;

/* The entry for (kind, key), with a new reference, or NULL. kind is one
 * character naming the producer ('P' pipeline model, 'S' shell script,
 * 'R' expression refs, ...). */
mlg_memo *mlg_memo_get(char kind, const char *key, size_t len);

/* Stores a result (doc and error may both be NULL) and returns it with a
 * new reference for the caller, or NULL when out of memory (doc is then
 * freed and error is not taken). Takes ownership of doc and error. */
mlg_memo *mlg_memo_put(char kind, const char *key, size_t len, mlg_doc *doc, char *error);

void mlg_memo_release(mlg_memo *m); /* accepts NULL */

/* Drops every entry (results still used by a Lua state stay alive). */
void mlg_memo_clear(void);

/* Pushes the result as a lazy table owned by a box that holds the caller's
 * reference (which it takes over); pushes nil when the entry has no doc.
 * Raises a Lua error when out of memory (the reference is released). */
void mlg_lua_memo_push(lua_State *L, mlg_memo *m);

#endif
