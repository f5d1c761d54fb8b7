/*
 * HDF5 root attributes through libhdf5, loaded with dlopen on first use.
 *
 * Linking libhdf5 would make every mlgate start-up map it and the thirty
 * libraries it needs (libcurl, GnuTLS, Kerberos, LDAP, ...), for the rare
 * run that meets a Keras .h5 file. So this file references no libhdf5
 * symbol: it takes its types and constants from hdf5.h and resolves the
 * dozen functions it calls with dlsym, as well as the two library globals
 * behind the H5T_C_S1 and H5P_FILE_ACCESS macros (H5T_C_S1_g,
 * H5P_CLS_FILE_ACCESS_ID_g), which are only valid after H5open().
 *
 * libhdf5 is not thread-safe in Debian's serial build, so every call holds
 * one mutex. The file is reopened read-only through /proc/self/fd/N, the
 * descriptor the caller opened inside the workspace, so no path is
 * resolved twice; HDF5 error printing is off and file locking is disabled
 * (it fails on some CI filesystems and a read-only scan needs none).
 */
#include "h5.h"

#include <dlfcn.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include <hdf5.h>

/* Sonames of libhdf5's serial C library: Debian 12 (1.10), Debian 13 and
 * upstream 1.14, 1.12, and the unversioned development links last. */
static const char *const h5_libs[] = {
    "libhdf5_serial.so.103", "libhdf5_serial.so.310", "libhdf5.so.310", "libhdf5.so.103",
    "libhdf5_serial.so.200", "libhdf5.so.200",        "libhdf5_serial.so", "libhdf5.so",
};

typedef struct h5_api {
  herr_t (*open)(void);
  herr_t (*eset_auto2)(hid_t, H5E_auto2_t, void *);
  hid_t (*pcreate)(hid_t);
  herr_t (*pclose)(hid_t);
  herr_t (*pset_file_locking)(hid_t, hbool_t, hbool_t); /* 1.10.7 and later */
  hid_t (*fopen)(const char *, unsigned, hid_t);
  herr_t (*fclose)(hid_t);
  htri_t (*aexists)(hid_t, const char *);
  hid_t (*aopen)(hid_t, const char *, hid_t);
  herr_t (*aclose)(hid_t);
  hid_t (*aget_type)(hid_t);
  hid_t (*aget_space)(hid_t);
  herr_t (*aread)(hid_t, hid_t, void *);
  H5T_class_t (*tget_class)(hid_t);
  htri_t (*tis_variable_str)(hid_t);
  size_t (*tget_size)(hid_t);
  hid_t (*tcopy)(hid_t);
  herr_t (*tset_size)(hid_t, size_t);
  H5T_cset_t (*tget_cset)(hid_t);
  herr_t (*tset_cset)(hid_t, H5T_cset_t);
  herr_t (*tclose)(hid_t);
  hssize_t (*sget_simple_extent_npoints)(hid_t);
  herr_t (*sclose)(hid_t);
  herr_t (*free_memory)(void *);
  hid_t *c_s1;       /* H5T_C_S1_g */
  hid_t *fapl_class; /* H5P_CLS_FILE_ACCESS_ID_g */
} h5_api;

#define SYM(field, name, required) {name, offsetof(h5_api, field), required}

static const struct {
  const char *name;
  size_t off;
  int required;
} h5_syms[] = {
    SYM(open, "H5open", 1),
    SYM(eset_auto2, "H5Eset_auto2", 1),
    SYM(pcreate, "H5Pcreate", 1),
    SYM(pclose, "H5Pclose", 1),
    SYM(pset_file_locking, "H5Pset_file_locking", 0),
    SYM(fopen, "H5Fopen", 1),
    SYM(fclose, "H5Fclose", 1),
    SYM(aexists, "H5Aexists", 1),
    SYM(aopen, "H5Aopen", 1),
    SYM(aclose, "H5Aclose", 1),
    SYM(aget_type, "H5Aget_type", 1),
    SYM(aget_space, "H5Aget_space", 1),
    SYM(aread, "H5Aread", 1),
    SYM(tget_class, "H5Tget_class", 1),
    SYM(tis_variable_str, "H5Tis_variable_str", 1),
    SYM(tget_size, "H5Tget_size", 1),
    SYM(tcopy, "H5Tcopy", 1),
    SYM(tset_size, "H5Tset_size", 1),
    SYM(tget_cset, "H5Tget_cset", 1),
    SYM(tset_cset, "H5Tset_cset", 1),
    SYM(tclose, "H5Tclose", 1),
    SYM(sget_simple_extent_npoints, "H5Sget_simple_extent_npoints", 1),
    SYM(sclose, "H5Sclose", 1),
    SYM(free_memory, "H5free_memory", 1),
    SYM(c_s1, "H5T_C_S1_g", 1),
    SYM(fapl_class, "H5P_CLS_FILE_ACCESS_ID_g", 1),
};

static pthread_mutex_t h5_lock = PTHREAD_MUTEX_INITIALIZER;
static int h5_state; /* 0 not tried, 1 loaded, -1 failed */
static char h5_why[512];
static h5_api h5;

/* Loads the library once (under h5_lock). */
static int load(void)
{
  void *lib = NULL;
  size_t i;
  char first[256] = "";

  if (h5_state)
    return h5_state;
  for (i = 0; i < sizeof h5_libs / sizeof h5_libs[0] && !lib; i++) {
    lib = dlopen(h5_libs[i], RTLD_NOW | RTLD_LOCAL);
    if (!lib && !first[0]) {
      const char *e = dlerror();
      snprintf(first, sizeof first, "%s", e ? e : h5_libs[i]);
    }
  }
  if (!lib) {
    snprintf(h5_why, sizeof h5_why,
             "libhdf5 is not installed (%s); install Debian's libhdf5-103-1 to scan .h5 models",
             first);
    return h5_state = -1;
  }
  for (i = 0; i < sizeof h5_syms / sizeof h5_syms[0]; i++) {
    void *p = dlsym(lib, h5_syms[i].name);
    if (!p && h5_syms[i].required) {
      snprintf(h5_why, sizeof h5_why, "libhdf5 lacks %s", h5_syms[i].name);
      dlclose(lib);
      memset(&h5, 0, sizeof h5);
      return h5_state = -1;
    }
    memcpy((char *)&h5 + h5_syms[i].off, &p, sizeof p);
  }
  if (h5.open() < 0) {
    snprintf(h5_why, sizeof h5_why, "libhdf5 failed to initialise");
    return h5_state = -1;
  }
  return h5_state = 1;
}

int mlg_h5_sniff(const unsigned char *head, size_t len)
{
  return len >= 8 && memcmp(head, "\x89HDF\r\n\x1a\n", 8) == 0;
}

static int read_attr(char **out, size_t *len, hid_t attr, const char *name, size_t max,
                     mlg_err *err)
{
  hid_t ftype = -1, mtype = -1, space = -1;
  hssize_t npoints;
  htri_t vlen;
  char *buf = NULL;
  int rc = 0;

  if ((ftype = h5.aget_type(attr)) < 0 || (space = h5.aget_space(attr)) < 0) {
    rc = mlg_err_set(err, MLG_EPARSE, "attribute '%s' cannot be read", name);
    goto done;
  }
  if (h5.tget_class(ftype) != H5T_STRING) {
    rc = mlg_err_set(err, MLG_EPARSE, "attribute '%s' is not a string", name);
    goto done;
  }
  if ((npoints = h5.sget_simple_extent_npoints(space)) != 1) {
    rc = mlg_err_set(err, MLG_EPARSE, "attribute '%s' holds %lld values, not one string", name,
                     (long long)npoints);
    goto done;
  }
  if ((vlen = h5.tis_variable_str(ftype)) < 0) {
    rc = mlg_err_set(err, MLG_EPARSE, "attribute '%s' has a broken string type", name);
    goto done;
  }
  if (vlen) {
    char *p = NULL;
    size_t n;
    /* The library allocates variable-length strings itself. */
    if ((mtype = h5.tcopy(*h5.c_s1)) < 0 || h5.tset_size(mtype, H5T_VARIABLE) < 0 ||
        h5.tset_cset(mtype, h5.tget_cset(ftype)) < 0 || h5.aread(attr, mtype, &p) < 0) {
      rc = mlg_err_set(err, MLG_EPARSE, "attribute '%s' cannot be read as a string", name);
      goto done;
    }
    n = p ? strlen(p) : 0;
    if (n > max)
      rc = mlg_err_set(err, MLG_ELIMIT, "attribute '%s' of %zu bytes exceeds the limit of %zu",
                       name, n, max);
    else if (!(buf = malloc(n + 1)))
      rc = mlg_err_set(err, MLG_ENOMEM, "out of memory reading attribute '%s'", name);
    else {
      memcpy(buf, p ? p : "", n + 1);
      *len = n;
    }
    if (p)
      h5.free_memory(p);
  } else {
    size_t sz = h5.tget_size(ftype);
    /* Fixed-length: the size is known before anything is allocated. */
    if (sz == 0) {
      rc = mlg_err_set(err, MLG_EPARSE, "attribute '%s' has a string type of size 0", name);
      goto done;
    }
    if (sz > max) {
      rc = mlg_err_set(err, MLG_ELIMIT, "attribute '%s' of %zu bytes exceeds the limit of %zu",
                       name, sz, max);
      goto done;
    }
    if (!(buf = malloc(sz + 1))) {
      rc = mlg_err_set(err, MLG_ENOMEM, "out of memory reading attribute '%s'", name);
      goto done;
    }
    if ((mtype = h5.tcopy(ftype)) < 0 || h5.aread(attr, mtype, buf) < 0) {
      rc = mlg_err_set(err, MLG_EPARSE, "attribute '%s' cannot be read as a string", name);
      goto done;
    }
    buf[sz] = '\0';
    *len = strnlen(buf, sz); /* NUL-terminated or NUL-padded */
  }

done:
  if (mtype >= 0)
    h5.tclose(mtype);
  if (ftype >= 0)
    h5.tclose(ftype);
  if (space >= 0)
    h5.sclose(space);
  if (rc) {
    free(buf);
    *len = 0;
  } else {
    *out = buf;
  }
  return rc;
}

int mlg_h5_root_attr(char **out, size_t *len, int fd, const char *name, size_t max,
                     mlg_err *err)
{
  char path[64];
  struct stat st;
  hid_t fapl = -1, file = -1, attr = -1;
  htri_t ex;
  int rc = 0;

  *out = NULL;
  *len = 0;
  if (fd < 0 || !name)
    return mlg_err_set(err, MLG_EINVAL, "mlg_h5_root_attr: no file or attribute");
  snprintf(path, sizeof path, "/proc/self/fd/%d", fd);
  if (stat(path, &st) != 0 || !S_ISREG(st.st_mode))
    return mlg_err_set(err, MLG_EIO, "cannot reopen the file through %s", path);

  pthread_mutex_lock(&h5_lock);
  if (load() < 0) {
    rc = mlg_err_set(err, MLG_EIO, "%s", h5_why);
    goto done;
  }
  h5.eset_auto2(H5E_DEFAULT, NULL, NULL);
  if ((fapl = h5.pcreate(*h5.fapl_class)) < 0) {
    rc = mlg_err_set(err, MLG_EIO, "libhdf5 could not create a file access property list");
    goto done;
  }
  if (h5.pset_file_locking)
    h5.pset_file_locking(fapl, 0, 1);
  if ((file = h5.fopen(path, 0u /* H5F_ACC_RDONLY */, fapl)) < 0) {
    rc = mlg_err_set(err, MLG_EPARSE, "not a valid HDF5 file (libhdf5 cannot open it)");
    goto done;
  }
  if ((ex = h5.aexists(file, name)) < 0) {
    rc = mlg_err_set(err, MLG_EPARSE, "the attributes of the root group cannot be read");
    goto done;
  }
  if (!ex) {
    rc = mlg_err_set(err, MLG_ENOENT, "the root group has no attribute '%s'", name);
    goto done;
  }
  if ((attr = h5.aopen(file, name, H5P_DEFAULT)) < 0) {
    rc = mlg_err_set(err, MLG_EPARSE, "attribute '%s' cannot be opened", name);
    goto done;
  }
  rc = read_attr(out, len, attr, name, max, err);

done:
  if (attr >= 0)
    h5.aclose(attr);
  if (file >= 0)
    h5.fclose(file);
  if (fapl >= 0)
    h5.pclose(fapl);
  pthread_mutex_unlock(&h5_lock);
  return rc;
}
