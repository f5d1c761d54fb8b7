/* mlgate version: bump together with docs/report.schema.json when a contract changes. */
#ifndef MLGATE_VERSION_H
#define MLGATE_VERSION_H

#define MLGATE_VERSION "0.1.0"
#define MLGATE_REPORT_SCHEMA "mlgate.report/v1"

#endif
