/*
 * Runs work in forked children so that nothing a policy does — a VM crash,
 * time spent in C that no hook sees, a write attempt — can take the engine
 * or its report down. Each child gets rlimits (CPU seconds, no file
 * writes, no core dumps, an address-space backstop), a wall-clock alarm,
 * /dev/null for stdin and stdout, and only the descriptors it needs. It
 * reports back over a pipe as newline-delimited records, so whatever it
 * said before dying still counts (an error never hides a finding).
 *
 * The parent side is a small scheduler: at most `jobs` children at once,
 * poll() over their pipes, SIGKILL at the deadline.
 */
#ifndef MLG_ISOLATE_H
#define MLG_ISOLATE_H

#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#include "err.h"

typedef struct mlg_isolate_limits {
  uint64_t time_ms;      /* wall clock; the parent kills at time_ms + grace
                          * unless the child sets its own deadline (mlg_watch) */
  uint64_t total_ms;     /* the child's whole life (alarm, CPU rlimit); 0 = time_ms */
  uint64_t memory_bytes; /* address-space backstop is memory_bytes + 1 GiB */
  uint64_t output_bytes; /* most bytes a child may send; 0 = 256 MiB */
} mlg_isolate_limits;

/* A page shared between a child and the parent: what the child is doing
 * now. The child updates it with plain stores (no system call, so it can
 * be done per file); the parent's watchdog reads the deadline, and the
 * parent gets a copy when the child is gone, to say what it died doing.
 * Torn reads of `path` are harmless: it is only used in messages. */
typedef struct mlg_watch {
  uint64_t deadline_ms; /* CLOCK_MONOTONIC ms; 0 = the pool's deadline */
  int32_t item;         /* caller-defined (engine: policy within a batch), -1 */
  int32_t gate;         /* caller-defined, -1 */
  char path[1024];      /* NUL-terminated, may be cut short */
} mlg_watch;

/* In a child: its watch page (NULL in the parent). */
mlg_watch *mlg_watch_self(void);
/* Sets deadline, item, gate and path (NULL = "") of the child's page. */
void mlg_watch_set(uint64_t deadline_ms, int item, int gate, const char *path);
/* CLOCK_MONOTONIC in milliseconds. */
uint64_t mlg_now_ms(void);

/* How a child ended. */
typedef enum mlg_child_end {
  MLG_CHILD_EXITED = 0, /* exit(status) */
  MLG_CHILD_SIGNALED,   /* killed by a signal it raised (crash) */
  MLG_CHILD_TIMEOUT,    /* ran past its time limit */
  MLG_CHILD_OVERFLOW    /* sent more than output_bytes or a line over 16 MiB */
} mlg_child_end;

typedef struct mlg_child_result {
  mlg_child_end end;
  int status;     /* exit status, or the signal number */
  uint64_t elapsed_ms;
  mlg_watch watch; /* the child's last word on what it was doing */
} mlg_child_result;

/* Runs in the child. out_fd is the write end of the record pipe. The
 * return value is the child's exit status. */
typedef int (*mlg_child_fn)(void *ud, size_t task, int out_fd);
/* Runs in the parent for each complete line a child sent (without '\n'). */
typedef void (*mlg_line_fn)(void *ud, size_t task, const char *line, size_t len);
/* Runs in the parent when a child is gone and all its lines were handled. */
typedef void (*mlg_end_fn)(void *ud, size_t task, const mlg_child_result *res);

typedef struct mlg_pool {
  size_t ntasks;
  unsigned jobs;         /* concurrent children; 0 = online CPUs (max 8) */
  mlg_isolate_limits limits;
  const int *keep_fds;   /* descriptors the child keeps besides 0,1,2 and its pipe */
  size_t nkeep;
  mlg_child_fn run;
  mlg_line_fn on_line;
  mlg_end_fn on_end;
  void *ud;
  /* Called in the parent every ~100 ms and when a task ends, for progress
   * display; may be NULL. */
  void (*on_tick)(void *ud, size_t done, size_t total);
} mlg_pool;

/* Runs every task to completion. Returns 0, or a negative code when the
 * scheduler itself failed (fork/pipe), in which case the tasks not started
 * are reported to on_end as MLG_CHILD_SIGNALED with status 0. */
int mlg_pool_run(const mlg_pool *pool, mlg_err *err);

/* Writes all of buf to fd, retrying on EINTR and short writes (for the
 * child side of the pipe). */
int mlg_write_all(int fd, const void *buf, size_t len);

/* Text for a signal number: "SIGSEGV (segmentation fault)". */
const char *mlg_signal_name(int sig, char *buf, size_t size);

#endif
