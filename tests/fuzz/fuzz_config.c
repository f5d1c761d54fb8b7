/*
 * mlgate.yml loader on arbitrary bytes: must return 0 or MLG_ECONFIG /
 * MLG_ENOMEM with a "NAME:LINE:COL: " message, never crash, hang or leak.
 */
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "config.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
  mlg_config *cfg = NULL;
  mlg_err err;
  size_t i;
  int rc;

  mlg_err_clear(&err);
  rc = mlg_config_parse(&cfg, (const char *)data, size, "fuzz.yml", &err);
  if (rc == 0) {
    /* Touch everything a consumer would read. */
    if (!cfg || cfg->version != 1)
      abort();
    for (i = 0; i < cfg->npolicies; i++)
      if (mlg_config_policy(cfg, cfg->policies[i].id) == NULL)
        abort();
    for (i = 0; i < cfg->nwaivers; i++) {
      const mlg_waiver *w = &cfg->waivers[i];
      if (!w->policy || !w->reason || (!w->path && !w->fingerprint) ||
          strlen(w->expires) != 10 || w->expires_day < 0 ||
          mlg_date_parse(w->expires, NULL) != w->expires_day)
        abort();
    }
    if (!cfg->limits.time_ms || !cfg->limits.memory_bytes || !cfg->limits.findings)
      abort();
  } else {
    if (cfg || (rc != MLG_ECONFIG && rc != MLG_ENOMEM) || err.code != rc)
      abort();
    if (rc == MLG_ECONFIG && strncmp(err.msg, "fuzz.yml:", 9) != 0)
      abort();
  }
  mlg_config_free(cfg);
  return 0;
}
