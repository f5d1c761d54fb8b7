/*
 * Vocabulary shared by config, policies, findings and reports: gates,
 * severities, confidences and enforcement levels, with their names.
 */
#ifndef MLG_TYPES_H
#define MLG_TYPES_H

typedef enum mlg_gate {
  MLG_GATE_PIPELINE = 0,
  MLG_GATE_DATA,
  MLG_GATE_TRAIN,
  MLG_GATE_MODEL,
  MLG_GATE_DEPLOY,
  MLG_GATE_MONITOR,
  MLG_GATE_COUNT
} mlg_gate;

/* Ordered: a higher value is more severe. */
typedef enum mlg_severity {
  MLG_SEV_INFO = 0,
  MLG_SEV_LOW,
  MLG_SEV_MEDIUM,
  MLG_SEV_HIGH,
  MLG_SEV_CRITICAL,
  MLG_SEV_COUNT
} mlg_severity;

typedef enum mlg_confidence {
  MLG_CONF_LOW = 0,
  MLG_CONF_MEDIUM,
  MLG_CONF_HIGH,
  MLG_CONF_COUNT
} mlg_confidence;

/* After HashiCorp Sentinel. UNSET means "take the policy's default". */
typedef enum mlg_enforcement {
  MLG_ENF_UNSET = 0,
  MLG_ENF_ADVISORY, /* report only */
  MLG_ENF_SOFT,     /* blocks unless waived */
  MLG_ENF_HARD      /* blocks; waivers refused */
} mlg_enforcement;

/* Which findings a run shows, after zizmor's personas: regular (the
 * default), pedantic (adds style and hygiene checks), auditor (adds
 * checks that need a human to judge). Each includes the ones before. */
typedef enum mlg_profile {
  MLG_PROFILE_REGULAR = 0,
  MLG_PROFILE_PEDANTIC,
  MLG_PROFILE_AUDITOR,
  MLG_PROFILE_COUNT
} mlg_profile;

const char *mlg_gate_name(mlg_gate g);
const char *mlg_profile_name(mlg_profile p);
int mlg_profile_parse(const char *name);
const char *mlg_severity_name(mlg_severity s);
const char *mlg_confidence_name(mlg_confidence c);
const char *mlg_enforcement_name(mlg_enforcement e);

/* Each returns -1 when the name is unknown; names are lower case. */
int mlg_gate_parse(const char *name);
int mlg_severity_parse(const char *name);
int mlg_confidence_parse(const char *name);
int mlg_enforcement_parse(const char *name);

/* "pipeline, data, train, model, deploy, monitor" for help and errors. */
const char *mlg_gate_list(void);

#endif
