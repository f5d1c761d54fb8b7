/*
 * HDF5 access for Keras .h5 models: the string attributes of the root group
 * (model_config, keras_version, backend). Through libhdf5 from Debian,
 * loaded on first use so that runs without .h5 files do not pay for it, and
 * only ever inside an isolated child (libhdf5 has a history of memory bugs
 * on malformed files).
 */
#ifndef MLG_H5_H
#define MLG_H5_H

#include <stddef.h>

#include "err.h"

/* 1 when the bytes start with the HDF5 signature (at 0; user blocks at
 * 512, 1024, ... are checked by the caller). */
int mlg_h5_sniff(const unsigned char *head, size_t len);

/* Reads root attribute name as a string (at most max bytes) from the HDF5
 * file open at fd (opened through /proc/self/fd/N, read-only). MLG_ENOENT
 * when absent; MLG_EPARSE when the file is not HDF5 or the attribute not a
 * string; MLG_ELIMIT when longer than max; MLG_EIO when libhdf5 cannot be
 * loaded (the caller reports the artifact as unscannable). */
int mlg_h5_root_attr(char **out, size_t *len, int fd, const char *name, size_t max,
                     mlg_err *err);

#endif
