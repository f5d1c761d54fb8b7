/*
 * mlgate.yml (version 1): what a repository (or an org baseline) says about
 * enforcement, params, paths, waivers and limits. Parsing is strict:
 * unknown keys, wrong types and bad dates are MLG_ECONFIG errors with
 * "FILE:LINE:COL: message". Checks that need the policy set (unknown policy
 * ids, param names and types) are done by the evaluator after loading
 * policies, using the spans kept here.
 *
 * Schema (all keys optional except version):
 *   version: 1
 *   fail_on: info|low|medium|high|critical     # lowest severity that blocks
 *   profile: regular|pedantic|auditor          # which checks run (default regular)
 *   inline_suppressions: true|false            # `# mlgate: ignore[id] reason` (default true)
 *   exclude: [glob, ...]                        # hidden from every gate
 *   gates:
 *     <gate>: {include: [glob...], exclude: [glob...]}
 *   policies:
 *     <policy id>:
 *       enforcement: advisory|soft|hard
 *       enabled: true|false
 *       severity: info|low|medium|high|critical # override
 *       params: {name: value, ...}
 *   waivers:
 *     - policy: <policy id>                     # required
 *       path: <glob>                            # path and/or fingerprint
 *       fingerprint: <hex, at least 12 digits, prefix match>
 *       reason: <text>                          # required, non-empty
 *       expires: YYYY-MM-DD                     # required, a real date
 *   limits:
 *     time_ms: N         # wall-clock per policy evaluation (default 5000)
 *     memory_mb: N       # Lua heap per policy (default 256)
 *     instructions: N    # Lua VM instructions per policy (default 500,000,000)
 *     read_mb: N         # largest file a policy may read whole (default 64)
 *     findings: N        # most findings one policy may report (default 10,000)
 */
#ifndef MLG_CONFIG_H
#define MLG_CONFIG_H

#include <stddef.h>
#include <stdint.h>

#include "err.h"
#include "node.h"
#include "types.h"

typedef struct mlg_globs {
  char **items;
  size_t len;
} mlg_globs;

typedef struct mlg_policy_cfg {
  char *id;
  mlg_span span;               /* of the id key */
  mlg_enforcement enforcement; /* MLG_ENF_UNSET when not given */
  int enabled;                 /* 1, 0, or -1 when not given */
  int severity;                /* mlg_severity, or -1 when not given */
  const mlg_node *params;      /* mapping in the config document, or NULL */
} mlg_policy_cfg;

typedef struct mlg_waiver {
  char *policy;
  char *path;        /* glob, or NULL */
  char *fingerprint; /* lower-case hex prefix, or NULL */
  char *reason;
  char expires[11];  /* "YYYY-MM-DD" as written */
  int32_t expires_day; /* days since 1970-01-01 (UTC) of the expiry date */
  mlg_span span;     /* of the waiver entry */
} mlg_waiver;

typedef struct mlg_limits {
  uint64_t time_ms;
  uint64_t memory_bytes;
  uint64_t instructions;
  uint64_t read_bytes;
  uint32_t findings;
} mlg_limits;

typedef struct mlg_config {
  char *path;       /* the file it came from, NULL for built-in defaults */
  mlg_doc *doc;     /* parsed document (owns params nodes), may be NULL */
  int version;
  int fail_on;      /* mlg_severity, or -1 when not given */
  int profile;      /* mlg_profile: findings shown (default regular) */
  int inline_suppressions; /* honour `# mlgate: ignore[...]` comments (default 1) */
  mlg_globs exclude;
  mlg_globs gate_include[MLG_GATE_COUNT];
  mlg_globs gate_exclude[MLG_GATE_COUNT];
  mlg_policy_cfg *policies;
  size_t npolicies;
  mlg_waiver *waivers;
  size_t nwaivers;
  mlg_limits limits;
} mlg_config;

/* Defaults only (what --no-config evaluates with). */
int mlg_config_new(mlg_config **out, mlg_err *err);
int mlg_config_load(mlg_config **out, const char *path, mlg_err *err);
int mlg_config_parse(mlg_config **out, const char *text, size_t len, const char *name,
                     mlg_err *err);
void mlg_config_free(mlg_config *cfg);

const mlg_policy_cfg *mlg_config_policy(const mlg_config *cfg, const char *id);

/* Days since 1970-01-01 for a valid "YYYY-MM-DD"; -1 (and a message) when
 * the text is not a real calendar date. */
int32_t mlg_date_parse(const char *text, mlg_err *err);
/* Today's date in UTC as days since 1970-01-01. */
int32_t mlg_date_today(void);

#endif
