/*
 * A Lua state fit for running untrusted policy code.
 *
 * What a policy gets: a pruned base library (no dofile, loadfile,
 * collectgarbage; `load` accepts text chunks only; `setmetatable` refuses
 * __gc, __close and __mode; `print` goes to the engine log), string (no
 * dump), table, math (deterministically seeded) and utf8. No io, os,
 * package, debug or coroutine.
 *
 * Limits: a counting allocator with a byte cap and an instruction budget
 * enforced by a count hook. Both are sticky: once tripped, every further VM
 * instruction raises again, so `pcall` cannot swallow them. What hooks
 * cannot stop (time spent inside C, e.g. pattern backtracking, or a crash
 * of the VM) is the job of isolate.c, which runs all of this in a child.
 */
#ifndef MLG_SANDBOX_H
#define MLG_SANDBOX_H

#include <stddef.h>
#include <stdint.h>

/* Instructions between two calls of the count hook, which charges the
 * budget, records where the policy is and flushes waiting records: so a
 * budget is exact to this many instructions. Small enough that an overrun
 * stops at once, large enough to keep the hook (and its lua_getinfo) off
 * the profile: at 1,000 it cost about 5 % of a pipeline gate run. */
#define MLG_SANDBOX_HOOK_STEP 10000

#include <lua.h>

#include "err.h"

typedef enum mlg_trip {
  MLG_TRIP_NONE = 0,
  MLG_TRIP_MEMORY,
  MLG_TRIP_INSTRUCTIONS
} mlg_trip;

typedef struct mlg_sandbox_limits {
  uint64_t memory_bytes; /* 0 = 256 MiB */
  uint64_t instructions; /* 0 = 500,000,000 */
} mlg_sandbox_limits;

typedef struct mlg_sandbox {
  lua_State *L;
  size_t mem_used, mem_peak, mem_cap;
  uint64_t instr_used, instr_cap;
  mlg_trip tripped;
  /* Allocation that already failed once: Lua retries after an emergency
   * GC, and only a second refusal of the same request trips the limit. */
  void *fail_ptr;
  size_t fail_size;
  int fail_pending;
  char where[256];      /* innermost "file:line" of the last error */
  char last_where[256]; /* policy position at the last hook call */
  const char *last_src; /* ... and what it was formatted from */
  int last_line;
  char traceback[2048]; /* of the last error, for verbose logs */
  /* Called from the count hook while policy code runs (may be NULL): lets
   * the host flush what a check has reported so far before it can hang. */
  void (*tick)(void);
} mlg_sandbox;

int mlg_sandbox_new(mlg_sandbox **out, const mlg_sandbox_limits *limits, mlg_err *err);
void mlg_sandbox_free(mlg_sandbox *sb);

/* The sandbox that owns L (stored in its registry). */
mlg_sandbox *mlg_sandbox_of(lua_State *L);

/* Compiles a text chunk and pushes it as a function. chunkname follows
 * Lua's convention ("@path" for files). */
int mlg_sandbox_load(mlg_sandbox *sb, const char *text, size_t len, const char *chunkname,
                     mlg_err *err);

/* Calls the function below nargs arguments like lua_pcall, with a message
 * handler that keeps "file:line: message" and a short traceback. On error
 * the stack holds nothing of the call and err gets:
 *   code MLG_ELIMIT for a tripped limit ("memory limit of N bytes exceeded"),
 *   MLG_EPOLICY otherwise; where (if not NULL, where_size bytes) gets the
 *   innermost "file:line" of the policy code. */
int mlg_sandbox_call(mlg_sandbox *sb, int nargs, int nresults, char *where, size_t where_size,
                     mlg_err *err);

/* Message for a tripped limit, for callers that detect it themselves. */
const char *mlg_sandbox_trip_message(const mlg_sandbox *sb, char *buf, size_t size);

#endif
