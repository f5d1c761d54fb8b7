/*
 * The pickle analyser: emulates the unpickler's virtual machine (a real
 * stack, memo and mark stack, all protocols 0-5) without running anything,
 * and reports every callable the stream imports, how it was named and
 * whether it is called. No Lua here; lua_api_model.c turns results into
 * tables.
 *
 * What it must get right, because scanners that pattern-match opcodes get
 * bypassed exactly here: GLOBAL and INST; STACK_GLOBAL whose module and name
 * come through the memo (PUT/GET/MEMOIZE) or from other opcodes; OBJ,
 * NEWOBJ, NEWOBJ_EX, REDUCE, BUILD; EXT1/2/4 (the copyreg extension
 * registry: empty by default, so any EXT is an unresolvable import);
 * PERSID/BINPERSID (persistent ids: torch storages); FRAME as CPython
 * enforces it; several pickles in one stream (all scanned); a malformed or
 * truncated stream still reports every import seen before the error;
 * nested pickles passed as bytes to calls that unpickle (pickle.loads,
 * _pickle.loads, dill/cloudpickle loads, torch.load of a BytesIO,
 * torch.storage._load_from_bytes, ...) are scanned recursively; joblib's
 * inline numpy array buffers (NumpyArrayWrapper) are skipped the way joblib
 * reads them, so benign joblib files parse cleanly.
 *
 * Memory is bounded whatever the input size: values are modelled compactly,
 * strings and bytes are kept only up to caps, stack/memo sizes are capped.
 */
#ifndef MLG_PICKLE_H
#define MLG_PICKLE_H

#include <stddef.h>
#include <stdint.h>

#include "err.h"
#include "stream.h"

typedef enum mlg_pickle_via {
  MLG_PK_GLOBAL = 1,   /* GLOBAL 'module\nname\n' */
  MLG_PK_STACK_GLOBAL, /* STACK_GLOBAL with module/name from the stack */
  MLG_PK_INST,         /* INST 'module\nname\n' (creates and calls) */
  MLG_PK_EXT,          /* EXT1/EXT2/EXT4: copyreg extension code */
  MLG_PK_NESTED        /* reported for a nested pickle itself (see depth) */
} mlg_pickle_via;

typedef struct mlg_pickle_import {
  char *module;     /* malloc'd; "?" when not a constant string */
  char *name;       /* malloc'd; may be dotted ("Bdb.run"); "?" when unknown */
  uint64_t offset;  /* of the opcode, from the start of the outermost stream */
  unsigned pickle;  /* index of the pickle in its stream, from 0 */
  unsigned depth;   /* 0 top level, 1 inside a nested pickle, ... */
  mlg_pickle_via via;
  int called;       /* invoked by REDUCE, OBJ, INST, NEWOBJ(_EX) (or BUILD on it) */
  int resolved;     /* module and name are constant strings */
  long ext_code;    /* for MLG_PK_EXT */
} mlg_pickle_import;

typedef struct mlg_pickle_report {
  mlg_pickle_import *imports;
  size_t nimports;
  size_t dropped_imports;   /* beyond max_imports */
  unsigned npickles;        /* pickles found in the stream (STOP reached or not) */
  int max_protocol;         /* highest PROTO seen (0 when none) */
  uint64_t bytes;           /* bytes consumed */
  uint64_t opcodes;
  unsigned persistent_ids;  /* PERSID/BINPERSID count */
  unsigned nested;          /* nested pickles scanned */
  unsigned joblib_arrays;   /* NumpyArrayWrapper buffers skipped */
  /* First problem that stopped the scan (0 = clean): MLG_EPARSE for a
   * malformed or truncated stream, MLG_ELIMIT for a cap. Everything found
   * before it is still in imports. */
  int error;
  uint64_t error_offset;
  char error_msg[256];
  int trailing_garbage;     /* bytes after the last STOP that are not a pickle */
  uint64_t self_refs;       /* containers appended/set into themselves */
  unsigned stack_residue;   /* most values (and marks) left under the result at a STOP */
} mlg_pickle_report;

/* Notes on the fields above: `bytes` is the exact end of the last STOP
 * (or where the scan stopped), even when the stream was read further (to
 * scan what follows, reopen at start + bytes); offsets count from the
 * stream's position when the scan started; `error` is also set for loader
 * divergences (FRAME straddles, joblib array bytes that pickle.load would
 * run) while the scan goes on; for MLG_PK_NESTED entries `resolved` says
 * whether the nested content could be scanned. */

typedef struct mlg_pickle_opts {
  size_t max_stack;        /* 0 = 1,000,000 entries */
  size_t max_memo;         /* 0 = 1,000,000 entries */
  size_t max_string;       /* longest string kept for analysis; 0 = 1 MiB (longer ones are
                            * reported as unknown values, never as names) */
  size_t max_nested_bytes; /* bytes kept for nested-pickle recursion; 0 = 64 MiB */
  unsigned max_depth;      /* nested pickle depth; 0 = 4 */
  size_t max_imports;      /* 0 = 10,000 */
  int first_only;          /* stop after this many pickles (1: the first; 0: scan all) */
} mlg_pickle_opts;

/* Scans the stream to its end (or the first error). Returns 0 even for a
 * malformed stream (see report->error); negative only when the scan could
 * not run at all (out of memory, a read error). */
int mlg_pickle_scan(mlg_pickle_report *out, mlg_stream *in, const mlg_pickle_opts *opts,
                    mlg_err *err);
void mlg_pickle_report_free(mlg_pickle_report *r);

/* "GLOBAL", "STACK_GLOBAL", "INST", "EXT", "NESTED" */
const char *mlg_pickle_via_name(mlg_pickle_via via);

#endif
