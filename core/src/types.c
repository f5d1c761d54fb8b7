#include "types.h"

#include <string.h>

static const char *const gate_names[MLG_GATE_COUNT] = {
  "pipeline", "data", "train", "model", "deploy", "monitor"};
static const char *const sev_names[MLG_SEV_COUNT] = {
  "info", "low", "medium", "high", "critical"};
static const char *const conf_names[MLG_CONF_COUNT] = {"low", "medium", "high"};
static const char *const enf_names[] = {"default", "advisory", "soft", "hard"};

static int lookup(const char *const *names, int n, const char *name)
{
  int i;
  if (!name)
    return -1;
  for (i = 0; i < n; i++)
    if (strcmp(names[i], name) == 0)
      return i;
  return -1;
}

const char *mlg_gate_name(mlg_gate g)
{
  return (unsigned)g < MLG_GATE_COUNT ? gate_names[g] : "?";
}

const char *mlg_severity_name(mlg_severity s)
{
  return (unsigned)s < MLG_SEV_COUNT ? sev_names[s] : "?";
}

static const char *const profile_names[] = {"regular", "pedantic", "auditor"};

const char *mlg_profile_name(mlg_profile p)
{
  return (unsigned)p < MLG_PROFILE_COUNT ? profile_names[p] : "?";
}

int mlg_profile_parse(const char *name)
{
  return lookup(profile_names, MLG_PROFILE_COUNT, name);
}

const char *mlg_confidence_name(mlg_confidence c)
{
  return (unsigned)c < MLG_CONF_COUNT ? conf_names[c] : "?";
}

const char *mlg_enforcement_name(mlg_enforcement e)
{
  return (unsigned)e <= MLG_ENF_HARD ? enf_names[e] : "?";
}

int mlg_gate_parse(const char *name)
{
  return lookup(gate_names, MLG_GATE_COUNT, name);
}

int mlg_severity_parse(const char *name)
{
  /* "informational" is what zizmor and SARIF users type. */
  if (name && strcmp(name, "informational") == 0)
    return MLG_SEV_INFO;
  return lookup(sev_names, MLG_SEV_COUNT, name);
}

int mlg_confidence_parse(const char *name)
{
  return lookup(conf_names, MLG_CONF_COUNT, name);
}

int mlg_enforcement_parse(const char *name)
{
  int e = lookup(enf_names, 4, name);
  return e == MLG_ENF_UNSET ? -1 : e;
}

const char *mlg_gate_list(void)
{
  return "pipeline, data, train, model, deploy, monitor";
}
