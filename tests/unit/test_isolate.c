#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "buf.h"
#include "isolate.h"

#define MAXT 16

/* What the parent saw, per task. Lines are kept joined with '\n'. */
typedef struct seen {
  mlg_buf lines[MAXT];
  size_t nlines[MAXT];
  int ends[MAXT];
  mlg_child_result res[MAXT];
  int line_after_end; /* a line arrived after its task ended */
  /* child behaviour */
  int (*child)(size_t task, int out_fd);
  int keep_fd;        /* for the descriptor test */
  char path[256];     /* for the file-write test */
  size_t ticks;
} seen;

static seen S;

static int child_tramp(void *ud, size_t task, int out_fd)
{
  seen *s = ud;
  return s->child(task, out_fd);
}

static void on_line(void *ud, size_t task, const char *line, size_t len)
{
  seen *s = ud;
  if (task >= MAXT)
    return;
  if (s->ends[task])
    s->line_after_end = 1;
  if (s->nlines[task])
    mlg_buf_putc(&s->lines[task], '\n');
  mlg_buf_put(&s->lines[task], line, len);
  s->nlines[task]++;
}

static void on_end(void *ud, size_t task, const mlg_child_result *res)
{
  seen *s = ud;
  if (task >= MAXT)
    return;
  s->ends[task]++;
  s->res[task] = *res;
}

static void on_tick(void *ud, size_t done, size_t total)
{
  seen *s = ud;
  s->ticks++;
}

static void reset(void)
{
  size_t i;
  for (i = 0; i < MAXT; i++)
    mlg_buf_free(&S.lines[i]);
  memset(&S, 0, sizeof S);
  S.keep_fd = -1;
}

static int teardown(void **state)
{
  reset();
  return 0;
}

static const char *lines_of(size_t task)
{
  return S.lines[task].ptr ? S.lines[task].ptr : "";
}

/* Runs ntasks children of fn with the given limits. */
static int run_pool(int (*fn)(size_t, int), size_t ntasks, unsigned jobs, uint64_t time_ms,
                    uint64_t output_bytes, const int *keep, size_t nkeep)
{
  mlg_pool pool;
  mlg_err e;
  int rc;

  S.child = fn;
  memset(&pool, 0, sizeof pool);
  pool.ntasks = ntasks;
  pool.jobs = jobs;
  pool.limits.time_ms = time_ms;
  pool.limits.memory_bytes = (uint64_t)512 << 20;
  pool.limits.output_bytes = output_bytes;
  pool.keep_fds = keep;
  pool.nkeep = nkeep;
  pool.run = child_tramp;
  pool.on_line = on_line;
  pool.on_end = on_end;
  pool.on_tick = on_tick;
  pool.ud = &S;
  mlg_err_clear(&e);
  rc = mlg_pool_run(&pool, &e);
  if (rc != 0)
    print_error("mlg_pool_run: %s\n", e.msg);
  return rc;
}

static uint64_t mono_ms(void)
{
  struct timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return (uint64_t)ts.tv_sec * 1000 + (uint64_t)ts.tv_nsec / 1000000;
}

static void say(int fd, const char *fmt, ...)
{
  char buf[4096];
  va_list ap;
  int n;
  va_start(ap, fmt);
  n = vsnprintf(buf, sizeof buf, fmt, ap);
  va_end(ap);
  (void)mlg_write_all(fd, buf, (size_t)n);
}

/* --- normal exit and lines ------------------------------------------------ */

static int child_lines(size_t task, int fd)
{
  say(fd, "first\nsecond line\n");
  say(fd, "par");
  usleep(20000);
  say(fd, "tial\nno newline at the end");
  return 0;
}

static void test_lines(void **state)
{
  reset();
  assert_int_equal(run_pool(child_lines, 1, 1, 5000, 0, NULL, 0), 0);
  assert_int_equal(S.ends[0], 1);
  assert_int_equal(S.res[0].end, MLG_CHILD_EXITED);
  assert_int_equal(S.res[0].status, 0);
  assert_int_equal(S.nlines[0], 4);
  assert_string_equal(lines_of(0), "first\nsecond line\npartial\nno newline at the end");
  assert_false(S.line_after_end);
}

static int child_status(size_t task, int fd)
{
  say(fd, "task %zu\n", task);
  return task == 0 ? 7 : 256 + 3; /* only the low byte survives exit() */
}

static void test_exit_status(void **state)
{
  reset();
  assert_int_equal(run_pool(child_status, 2, 1, 5000, 0, NULL, 0), 0);
  assert_int_equal(S.res[0].end, MLG_CHILD_EXITED);
  assert_int_equal(S.res[0].status, 7);
  assert_int_equal(S.res[1].end, MLG_CHILD_EXITED);
  assert_int_equal(S.res[1].status, 3);
  assert_string_equal(lines_of(0), "task 0");
  assert_string_equal(lines_of(1), "task 1");
}

static int child_many_lines(size_t task, int fd)
{
  int i;
  for (i = 0; i < 20000; i++)
    say(fd, "line %05d of task %zu\n", i, task);
  return 0;
}

static void test_many_lines(void **state)
{
  char expect[64];
  const char *p;
  size_t i;

  reset();
  assert_int_equal(run_pool(child_many_lines, 1, 1, 10000, 0, NULL, 0), 0);
  assert_int_equal(S.res[0].end, MLG_CHILD_EXITED);
  assert_int_equal(S.nlines[0], 20000);
  p = lines_of(0);
  for (i = 0; i < 20000; i++) {
    size_t n = (size_t)snprintf(expect, sizeof expect, "line %05zu of task 0", i);
    if (strncmp(p, expect, n) != 0)
      fail_msg("line %zu: expected '%s', got '%.30s'", i, expect, p);
    p += n;
    if (i + 1 < 20000)
      assert_int_equal(*p++, '\n');
  }
  assert_int_equal(*p, '\0');
}

/* One write of ~600 KiB: 5000 lines of 100 bytes, one line of 100 KiB (longer
 * than the parent's read chunk), then short lines. */
static char *burst_text(size_t *len)
{
  mlg_buf b = MLG_BUF_INIT;
  size_t i;
  for (i = 0; i < 5000; i++)
    mlg_buf_printf(&b, "%06zu%093zu\n", i, i); /* 99 characters + '\n' */
  for (i = 0; i < 100 * 1024; i++)
    mlg_buf_putc(&b, (char)('a' + i % 26));
  mlg_buf_puts(&b, "\nshort\nlast");
  *len = b.len;
  return mlg_buf_detach(&b);
}

static int child_burst(size_t task, int fd)
{
  size_t len;
  char *text = burst_text(&len);
  int rc = mlg_write_all(fd, text, len);
  free(text);
  return rc == 0 ? 0 : 9;
}

static void test_burst(void **state)
{
  size_t len;
  char *text = burst_text(&len);
  reset();
  assert_true(len > 600000);
  assert_int_equal(run_pool(child_burst, 1, 1, 10000, 0, NULL, 0), 0);
  assert_int_equal(S.res[0].end, MLG_CHILD_EXITED);
  assert_int_equal(S.res[0].status, 0);
  assert_int_equal(S.nlines[0], 5000 + 3);
  assert_int_equal(S.lines[0].len, len);
  assert_memory_equal(S.lines[0].ptr, text, len);
  free(text);
}

/* --- crashes and time ------------------------------------------------------- */

static int child_crash(size_t task, int fd)
{
  say(fd, "before the crash\n");
  /* the default action, not a sanitizer's report-and-exit handler */
  signal(SIGSEGV, SIG_DFL);
  raise(SIGSEGV);
  say(fd, "after\n");
  return 0;
}

static void test_crash(void **state)
{
  reset();
  assert_int_equal(run_pool(child_crash, 1, 1, 5000, 0, NULL, 0), 0);
  assert_int_equal(S.ends[0], 1);
  assert_int_equal(S.res[0].end, MLG_CHILD_SIGNALED);
  assert_int_equal(S.res[0].status, SIGSEGV);
  /* what it said before dying still counts */
  assert_string_equal(lines_of(0), "before the crash");
}

static int child_abort(size_t task, int fd)
{
  say(fd, "partial line, then abort");
  abort();
}

static void test_abort_keeps_partial_line(void **state)
{
  reset();
  assert_int_equal(run_pool(child_abort, 1, 1, 5000, 0, NULL, 0), 0);
  assert_int_equal(S.res[0].end, MLG_CHILD_SIGNALED);
  assert_int_equal(S.res[0].status, SIGABRT);
  assert_string_equal(lines_of(0), "partial line, then abort");
}

static int child_busy(size_t task, int fd)
{
  volatile unsigned long x = 0;
  say(fd, "looping\n");
  for (;;)
    x++;
  return 0;
}

static void test_busy_timeout(void **state)
{
  uint64_t t0 = mono_ms(), dt;
  reset();
  assert_int_equal(run_pool(child_busy, 1, 1, 300, 0, NULL, 0), 0);
  dt = mono_ms() - t0;
  assert_int_equal(S.ends[0], 1);
  assert_int_equal(S.res[0].end, MLG_CHILD_TIMEOUT);
  assert_int_equal(S.res[0].status, SIGALRM);
  assert_true(S.res[0].elapsed_ms >= 290 && S.res[0].elapsed_ms < 1290);
  assert_true(dt < 2000);
  assert_string_equal(lines_of(0), "looping");
}

static int child_sleep(size_t task, int fd)
{
  sleep(30);
  return 0;
}

static void test_sleep_timeout(void **state)
{
  reset();
  assert_int_equal(run_pool(child_sleep, 1, 1, 300, 0, NULL, 0), 0);
  assert_int_equal(S.res[0].end, MLG_CHILD_TIMEOUT);
  assert_int_equal(S.res[0].status, SIGALRM);
  assert_true(S.res[0].elapsed_ms >= 290 && S.res[0].elapsed_ms < 1290);
  assert_int_equal(S.nlines[0], 0);
}

/* A child that ignores its alarm is killed by the parent at the deadline. */
static int child_ignore_alarm(size_t task, int fd)
{
  signal(SIGALRM, SIG_IGN);
  say(fd, "ignoring SIGALRM\n");
  for (;;)
    pause();
  return 0;
}

static void test_parent_kills_at_deadline(void **state)
{
  reset();
  assert_int_equal(run_pool(child_ignore_alarm, 1, 1, 300, 0, NULL, 0), 0);
  assert_int_equal(S.res[0].end, MLG_CHILD_TIMEOUT);
  assert_int_equal(S.res[0].status, SIGKILL);
  /* time_ms plus the parent's grace of one second */
  assert_true(S.res[0].elapsed_ms >= 1290 && S.res[0].elapsed_ms < 2500);
  assert_string_equal(lines_of(0), "ignoring SIGALRM");
}

/* The child closes its pipe, ignores its alarm and sleeps: the parent must
 * still end it at the deadline instead of waiting for it for ever. Run in
 * a separate process so a hang fails the test rather than blocking it. */
static int child_close_and_hide(size_t task, int fd)
{
  signal(SIGALRM, SIG_IGN);
  say(fd, "hiding\n");
  close(fd);
  for (;;)
    pause();
  return 0;
}

static void test_closed_pipe_still_killed(void **state)
{
  int p[2], status = 0;
  pid_t pid;
  char buf[256];
  ssize_t n;

  assert_int_equal(pipe(p), 0);
  pid = fork();
  assert_true(pid >= 0);
  if (pid == 0) {
    close(p[0]);
    alarm(6);
    reset();
    run_pool(child_close_and_hide, 1, 1, 300, 0, NULL, 0);
    say(p[1], "end=%d status=%d elapsed=%llu", S.res[0].end, S.res[0].status,
        (unsigned long long)S.res[0].elapsed_ms);
    _exit(0);
  }
  close(p[1]);
  n = read(p[0], buf, sizeof buf - 1);
  buf[n > 0 ? n : 0] = '\0';
  close(p[0]);
  assert_int_equal(waitpid(pid, &status, 0), pid);
  if (WIFSIGNALED(status))
    fail_msg("mlg_pool_run blocked for 6 s on a child that closed its pipe and ignores "
             "SIGALRM (time_ms 300): finish_slot waits for the child without a deadline");
  assert_non_null(strstr(buf, "end=2 status=9"));
}

/* --- output limits ------------------------------------------------------------ */

static int child_flood(size_t task, int fd)
{
  static char block[8192];
  int i;
  memset(block, 'x', sizeof block);
  block[sizeof block - 1] = '\n';
  for (i = 0; i < 1000; i++)
    if (mlg_write_all(fd, block, sizeof block) != 0)
      return 5;
  return 0;
}

static void test_output_overflow(void **state)
{
  reset();
  assert_int_equal(run_pool(child_flood, 1, 1, 5000, 100000, NULL, 0), 0);
  assert_int_equal(S.ends[0], 1);
  assert_int_equal(S.res[0].end, MLG_CHILD_OVERFLOW);
  assert_int_equal(S.res[0].status, SIGKILL);
  /* at most the allowed bytes were handed on */
  assert_true(S.lines[0].len <= 100000);
}

static int child_exact(size_t task, int fd)
{
  char buf[4096];
  size_t n = task == 0 ? 4096 : 4097;
  memset(buf, 'y', sizeof buf);
  (void)mlg_write_all(fd, buf, 4095);
  (void)mlg_write_all(fd, "\n", 1);
  if (n > 4096)
    (void)mlg_write_all(fd, "z", 1);
  return 0;
}

static void test_output_cap_boundary(void **state)
{
  reset();
  /* exactly output_bytes is allowed, one more is not */
  assert_int_equal(run_pool(child_exact, 2, 2, 5000, 4096, NULL, 0), 0);
  assert_int_equal(S.res[0].end, MLG_CHILD_EXITED);
  assert_int_equal(S.nlines[0], 1);
  assert_int_equal(S.lines[0].len, 4095);
  assert_int_equal(S.res[1].end, MLG_CHILD_OVERFLOW);
}

/* --- confinement ----------------------------------------------------------- */

static int child_write_file(size_t task, int fd)
{
  int f = open(S.path, O_WRONLY | O_CREAT | O_TRUNC, 0600);
  if (f < 0) {
    say(fd, "open failed: %s\n", strerror(errno));
    return 0;
  }
  if (task == 1)
    signal(SIGXFSZ, SIG_IGN);
  if (write(f, "data", 4) < 0)
    say(fd, "write failed: %s\n", errno == EFBIG ? "EFBIG" : strerror(errno));
  else
    say(fd, "write succeeded\n");
  close(f);
  return 0;
}

static void test_no_file_writes(void **state)
{
  struct stat st;
#ifdef MLG_SANITIZE
  /* isolate.c leaves RLIMIT_FSIZE alone in sanitizer builds (their reports
   * go to files). */
  skip();
#endif
  reset();
  strcpy(S.path, "/tmp/mlg_isolate_XXXXXX");
  close(mkstemp(S.path));
  assert_int_equal(run_pool(child_write_file, 2, 1, 5000, 0, NULL, 0), 0);
  /* default action of SIGXFSZ: the child dies */
  assert_int_equal(S.res[0].end, MLG_CHILD_SIGNALED);
  assert_int_equal(S.res[0].status, SIGXFSZ);
  /* with the signal ignored, write fails with EFBIG */
  assert_int_equal(S.res[1].end, MLG_CHILD_EXITED);
  assert_string_equal(lines_of(1), "write failed: EFBIG");
  assert_int_equal(stat(S.path, &st), 0);
  assert_int_equal(st.st_size, 0);
  unlink(S.path);
}

static int child_fds(size_t task, int fd)
{
  DIR *d = opendir("/proc/self/fd");
  struct dirent *e;
  int fds[64], n = 0, i, j;
  char out[1024];
  size_t len = 0;

  if (!d) {
    say(fd, "opendir failed\n");
    return 1;
  }
  while ((e = readdir(d)) != NULL && n < 64) {
    int v;
    if (e->d_name[0] == '.')
      continue;
    v = atoi(e->d_name);
    if (v == dirfd(d))
      continue;
    fds[n++] = v;
  }
  closedir(d);
  for (i = 1; i < n; i++)
    for (j = i; j > 0 && fds[j - 1] > fds[j]; j--) {
      int t = fds[j];
      fds[j] = fds[j - 1];
      fds[j - 1] = t;
    }
  len += (size_t)snprintf(out + len, sizeof out - len, "out=%d fds=", fd);
  for (i = 0; i < n; i++)
    len += (size_t)snprintf(out + len, sizeof out - len, "%s%d", i ? "," : "", fds[i]);
  say(fd, "%s\n", out);
  return 0;
}

static void test_descriptors(void **state)
{
  int stray = open("/dev/null", O_RDONLY); /* no O_CLOEXEC: must still be dropped */
  int keep = open("/dev/null", O_RDONLY);
  int stray2 = open("/dev/zero", O_RDONLY);
  int out = -1, set[8], expect[8], n, i;
  const char *p;
  char buf[64];

  reset();
  assert_true(stray >= 0 && keep >= 0 && stray2 >= 0);
  S.keep_fd = keep;
  assert_int_equal(run_pool(child_fds, 1, 1, 5000, 0, &keep, 1), 0);
  assert_int_equal(S.res[0].end, MLG_CHILD_EXITED);
  p = lines_of(0);
  assert_int_equal(sscanf(p, "out=%d", &out), 1);
  p = strstr(p, "fds=");
  assert_non_null(p);
  p += 4;
  for (n = 0; n < 8 && *p; n++) {
    set[n] = atoi(p);
    while (*p && *p != ',')
      p++;
    if (*p == ',')
      p++;
  }
  expect[0] = 0;
  expect[1] = 1;
  expect[2] = 2;
  expect[3] = out < keep ? out : keep;
  expect[4] = out < keep ? keep : out;
  snprintf(buf, sizeof buf, "%d,%d,%d,%d,%d", expect[0], expect[1], expect[2], expect[3],
           expect[4]);
  if (n != 5)
    fail_msg("child descriptors: %s (expected %s)", lines_of(0), buf);
  for (i = 0; i < 5; i++)
    if (set[i] != expect[i])
      fail_msg("child descriptors: %s (expected %s)", lines_of(0), buf);
  close(stray);
  close(keep);
  close(stray2);
}

static int child_std(size_t task, int fd)
{
  struct stat a, b, c;
  struct rlimit rl;
  int devnull = stat("/dev/null", &a) == 0;
  say(fd, "stdin=%s\n", devnull && fstat(0, &b) == 0 && b.st_rdev == a.st_rdev &&
                                b.st_ino == a.st_ino ? "devnull" : "other");
  say(fd, "stdout=%s\n", devnull && fstat(1, &c) == 0 && c.st_rdev == a.st_rdev &&
                                 c.st_ino == a.st_ino ? "devnull" : "other");
  getrlimit(RLIMIT_CORE, &rl);
  say(fd, "core=%llu\n", (unsigned long long)rl.rlim_cur);
  getrlimit(RLIMIT_FSIZE, &rl);
  say(fd, "fsize=%llu\n", (unsigned long long)rl.rlim_cur);
  getrlimit(RLIMIT_NOFILE, &rl);
  say(fd, "nofile=%llu\n", (unsigned long long)rl.rlim_cur);
  getrlimit(RLIMIT_CPU, &rl);
  say(fd, "cpu=%llu\n", (unsigned long long)rl.rlim_cur);
  say(fd, "no_new_privs=%d\n", prctl(PR_GET_NO_NEW_PRIVS, 0, 0, 0, 0));
  /* printf goes nowhere, not into the record pipe or the parent's stdout */
  printf("this must not reach the parent\n");
  fflush(stdout);
  return 0;
}

static void test_child_environment(void **state)
{
  reset();
  assert_int_equal(run_pool(child_std, 1, 1, 2500, 0, NULL, 0), 0);
  assert_int_equal(S.res[0].end, MLG_CHILD_EXITED);
  /* cpu: ceil(2.5 s) + 1 */
#ifdef MLG_SANITIZE
  assert_non_null(strstr(lines_of(0), "stdin=devnull\nstdout=devnull\ncore=0\nfsize="));
  assert_non_null(strstr(lines_of(0), "\nnofile=64\ncpu=4\nno_new_privs=1"));
#else
  assert_string_equal(lines_of(0), "stdin=devnull\nstdout=devnull\ncore=0\nfsize=0\nnofile=64\n"
                                   "cpu=4\nno_new_privs=1");
#endif
}

/* --- scheduling ------------------------------------------------------------ */

static int child_timed(size_t task, int fd)
{
  uint64_t start = mono_ms();
  usleep(150000);
  say(fd, "task %zu\n", task);
  say(fd, "span %llu %llu\n", (unsigned long long)start, (unsigned long long)mono_ms());
  return (int)task + 10;
}

static void test_concurrency(void **state)
{
  uint64_t spans[6][2];
  size_t i, j;
  int most = 0;
  uint64_t t0 = mono_ms(), dt;
  char expect[32];

  reset();
  assert_int_equal(run_pool(child_timed, 6, 2, 5000, 0, NULL, 0), 0);
  dt = mono_ms() - t0;
  for (i = 0; i < 6; i++) {
    const char *p = lines_of(i);
    assert_int_equal(S.ends[i], 1); /* exactly once per task */
    assert_int_equal(S.res[i].end, MLG_CHILD_EXITED);
    assert_int_equal(S.res[i].status, (int)i + 10);
    snprintf(expect, sizeof expect, "task %zu\n", i);
    assert_memory_equal(p, expect, strlen(expect));
    p = strstr(p, "span ");
    assert_non_null(p);
    assert_int_equal(sscanf(p, "span %llu %llu", (unsigned long long *)&spans[i][0],
                            (unsigned long long *)&spans[i][1]),
                     2);
  }
  for (i = 6; i < MAXT; i++)
    assert_int_equal(S.ends[i], 0);
  assert_false(S.line_after_end);
  /* never more than two at once, and two at once at some point: at each
   * start, count the running ones */
  for (i = 0; i < 6; i++) {
    int running = 0;
    for (j = 0; j < 6; j++)
      running += spans[j][0] <= spans[i][0] && spans[i][0] < spans[j][1];
    assert_true(running <= 2);
    most = running > most ? running : most;
  }
  assert_int_equal(most, 2);
  assert_true(dt >= 450);
  assert_true(S.ticks >= 1);
}

static void test_no_tasks(void **state)
{
  reset();
  assert_int_equal(run_pool(child_timed, 0, 2, 5000, 0, NULL, 0), 0);
  assert_int_equal(S.ends[0], 0);
}

static void test_jobs_capped(void **state)
{
  size_t i;
  reset();
  /* more jobs than the scheduler's slots, default jobs */
  assert_int_equal(run_pool(child_status, 12, 100, 5000, 0, NULL, 0), 0);
  for (i = 0; i < 12; i++)
    assert_int_equal(S.ends[i], 1);
  reset();
  assert_int_equal(run_pool(child_status, 3, 0, 5000, 0, NULL, 0), 0);
  for (i = 0; i < 3; i++)
    assert_int_equal(S.ends[i], 1);
}

/* --- helpers ---------------------------------------------------------------- */

static void test_write_all(void **state)
{
  char path[] = "/tmp/mlg_isolate_wa_XXXXXX";
  int fd = mkstemp(path), p[2];
  size_t len = (size_t)3 << 20, i;
  char *buf = malloc(len), *back = malloc(len);
  void (*old)(int);

  assert_true(fd >= 0 && buf && back);
  for (i = 0; i < len; i++)
    buf[i] = (char)(i * 31 + 7);
  assert_int_equal(mlg_write_all(fd, buf, len), 0);
  assert_int_equal(mlg_write_all(fd, buf, 0), 0);
  assert_int_equal(lseek(fd, 0, SEEK_SET), 0);
  assert_int_equal(read(fd, back, len), (ssize_t)len);
  assert_memory_equal(buf, back, len);
  close(fd);
  unlink(path);

  assert_int_equal(mlg_write_all(-1, "x", 1), MLG_EIO);
  /* a pipe nobody reads: EPIPE (with SIGPIPE ignored) */
  old = signal(SIGPIPE, SIG_IGN);
  assert_int_equal(pipe(p), 0);
  close(p[0]);
  assert_int_equal(mlg_write_all(p[1], "x", 1), MLG_EIO);
  close(p[1]);
  signal(SIGPIPE, old);
  free(buf);
  free(back);
}

static void test_signal_names(void **state)
{
  char buf[96];
  assert_string_equal(mlg_signal_name(SIGSEGV, buf, sizeof buf), "SIGSEGV (Segmentation fault)");
  assert_string_equal(mlg_signal_name(SIGKILL, buf, sizeof buf), "SIGKILL (Killed)");
  assert_string_equal(mlg_signal_name(SIGXFSZ, buf, sizeof buf),
                      "SIGXFSZ (File size limit exceeded)");
  assert_string_equal(mlg_signal_name(SIGUSR1, buf, sizeof buf),
                      "signal (User defined signal 1)");
}

int main(void)
{
  const struct CMUnitTest tests[] = {
    cmocka_unit_test_teardown(test_lines, teardown),
    cmocka_unit_test_teardown(test_exit_status, teardown),
    cmocka_unit_test_teardown(test_many_lines, teardown),
    cmocka_unit_test_teardown(test_burst, teardown),
    cmocka_unit_test_teardown(test_crash, teardown),
    cmocka_unit_test_teardown(test_abort_keeps_partial_line, teardown),
    cmocka_unit_test_teardown(test_busy_timeout, teardown),
    cmocka_unit_test_teardown(test_sleep_timeout, teardown),
    cmocka_unit_test_teardown(test_parent_kills_at_deadline, teardown),
    cmocka_unit_test_teardown(test_closed_pipe_still_killed, teardown),
    cmocka_unit_test_teardown(test_output_overflow, teardown),
    cmocka_unit_test_teardown(test_output_cap_boundary, teardown),
    cmocka_unit_test_teardown(test_no_file_writes, teardown),
    cmocka_unit_test_teardown(test_descriptors, teardown),
    cmocka_unit_test_teardown(test_child_environment, teardown),
    cmocka_unit_test_teardown(test_concurrency, teardown),
    cmocka_unit_test_teardown(test_no_tasks, teardown),
    cmocka_unit_test_teardown(test_jobs_capped, teardown),
    cmocka_unit_test(test_write_all),
    cmocka_unit_test(test_signal_names),
  };
  alarm(600); /* a hang is a failure, not a stuck `make unit` */
  return cmocka_run_group_tests(tests, NULL, NULL);
}
