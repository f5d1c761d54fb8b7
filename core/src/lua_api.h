/*
 * The `mlgate` table policies see: C functions (lua_api_*.c, one file per
 * area) plus the pure-Lua SDK embedded from lua/mlgate/. Everything here
 * runs inside the isolated child, on a sandboxed state.
 *
 *   mlgate.fs      list, read, stat, exists                 (lua_api_fs.c)
 *   mlgate.yaml    parse, load            mlgate.json  parse, load, encode
 *   mlgate.pos     where a key/value/table was written      (lua_api_doc.c)
 *   mlgate.keys    keys of a parsed mapping in document order
 *   mlgate.null    the value of YAML/JSON null
 *   mlgate.hash    sha256, sha256_file                      (lua_api_hash.c)
 *   mlgate.re      compile, find, match, gmatch, test       (lua_api_re.c)
 *   mlgate.log     debug, info, warn; print() is log.info   (lua_api_log.c)
 *   mlgate.atlas   name(id)                                 (lua_api.c)
 *   mlgate.model   scan(path), classify(module, name)       (lua_api_model.c)
 *   mlgate.pipeline load(path), kind(path): the CI model    (lua_api_pipeline.c)
 *   mlgate.gha     parse, refs, eval, constant, find        (lua_api_gha.c)
 *   mlgate.shell   parse(script)                            (lua_api_shell.c)
 *   ctx:fail{...}, ctx:error(msg)                           (lua_api_ctx.c)
 */
#ifndef MLG_LUA_API_H
#define MLG_LUA_API_H

#include <stddef.h>
#include <stdint.h>

#include <lua.h>

#include "config.h"
#include "err.h"
#include "fsx.h"
#include "regex.h"
#include "types.h"

typedef struct mlg_lua_env {
  const mlg_ws *ws;
  const mlg_config *cfg;
  int out_fd;              /* record pipe to the parent */
  long task;               /* "p" of every record (index in the job), or -1 */
  const char *policy_id;
  const char *policy_path; /* display path of the policy source */
  int gate;                /* mlg_gate being evaluated, -1 while loading */
  const char *current;     /* file being checked, or NULL */
  uint64_t read_cap;       /* largest whole-file read */
  uint32_t max_findings;
  uint32_t nfindings;
  int limit_error;         /* set when a finding limit was hit */
  const mlg_globs *files;  /* the policy's `files` globs for fs.list defaults */
  int verbose;
  /* Last file read for fingerprint snippets (avoids re-reading per finding). */
  char *snip_path;
  char *snip_text;
  size_t snip_len;
  size_t *snip_lines;      /* offset of each line start, built on first use */
  size_t snip_nlines;
} mlg_lua_env;

/* Installs the mlgate table and the SDK into a fresh sandboxed state. */
int mlg_lua_api_open(lua_State *L, mlg_lua_env *env, mlg_err *err);
mlg_lua_env *mlg_lua_env_of(lua_State *L);
void mlg_lua_env_release(mlg_lua_env *env); /* frees caches, not the env */

/* Sends one record (a map) to the parent. Between mlg_lua_emit_batch(1)
 * and mlg_lua_emit_batch(0) (one check call) records are collected and
 * written together when batching ends. */
int mlg_lua_emit(mlg_lua_env *env, const struct mlg_node *rec);
int mlg_lua_emit_batch(int on);
/* Writes what is waiting (for the sandbox's tick: a check that runs long
 * or hangs has its earlier records sent before it can be killed). */
void mlg_lua_emit_tick(void);

/* Per-area installers, each adds its functions to the table on top. */
void mlg_lua_open_fs(lua_State *L);
void mlg_lua_open_doc(lua_State *L);
void mlg_lua_open_hash(lua_State *L);
void mlg_lua_open_re(lua_State *L);
void mlg_lua_open_log(lua_State *L);
void mlg_lua_open_model(lua_State *L);

/* ctx object for one gate evaluation; pushes it. params is a table at
 * params_idx (already merged with defaults). */
void mlg_lua_push_ctx(lua_State *L, int params_idx);

/* Converts a Lua value to a document node (for details and encode):
 * sequences 1..n become sequences, other tables maps with sorted keys,
 * mlgate.null becomes null; functions, userdata and cycles are errors.
 * Raises a Lua error on failure. */
struct mlg_node *mlg_lua_to_node(lua_State *L, int idx, struct mlg_doc *doc, int depth);

/* Pushes a document node as plain Lua values (no positions recorded). */
void mlg_lua_push_node(lua_State *L, const struct mlg_node *n);

/* Pushes a userdata owning a new document (freed when collected), so C
 * code that may raise keeps no leaks; returns the document or NULL. */
struct mlg_doc *mlg_lua_new_doc(lua_State *L);
/* The same box, empty: a slot for a parser to fill. */
struct mlg_doc **mlg_lua_doc_slot(lua_State *L);

/* luaL_checkstring for workspace paths: a path with an embedded NUL
 * would be silently cut short by the C side, so it is an argument error. */
const char *mlg_lua_check_path(lua_State *L, int idx);

/* Pushes mlgate.null. */
void mlg_lua_push_null(lua_State *L);
int mlg_lua_is_null(lua_State *L, int idx);

#endif
