#include "isolate.h"

#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/prctl.h>
#include <sys/resource.h>
#include <sys/time.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "buf.h"

#define GRACE_MS 1000
#define MAX_LINE ((size_t)16 << 20)
#define DEFAULT_OUTPUT ((uint64_t)256 << 20)
#define MAX_JOBS 8

typedef struct slot {
  int active;
  size_t task;
  pid_t pid;
  int fd;
  uint64_t start_ms, deadline_ms;
  uint64_t received;
  int eof;       /* pipe closed; waiting for the process to end */
  int status;    /* wait status once reaped */
  mlg_buf in;
  mlg_child_end forced; /* set when the parent killed it */
  mlg_watch *watch;     /* shared with the child */
} slot;

static mlg_watch *self_watch;

uint64_t mlg_now_ms(void)
{
  struct timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return (uint64_t)ts.tv_sec * 1000 + (uint64_t)ts.tv_nsec / 1000000;
}

#define now_ms mlg_now_ms

mlg_watch *mlg_watch_self(void)
{
  return self_watch;
}

void mlg_watch_set(uint64_t deadline_ms, int item, int gate, const char *path)
{
  mlg_watch *w = self_watch;
  size_t n = path ? strlen(path) : 0;
  if (!w)
    return;
  if (n >= sizeof w->path)
    n = sizeof w->path - 1;
  /* The deadline last: the parent must not apply a new deadline to the
   * old item. Plain stores are fine for what it is used for. */
  w->item = item;
  w->gate = gate;
  memcpy(w->path, path ? path : "", n);
  w->path[n] = '\0';
  __atomic_store_n(&w->deadline_ms, deadline_ms, __ATOMIC_RELEASE);
}

int mlg_write_all(int fd, const void *buf, size_t len)
{
  const char *p = buf;
  while (len) {
    ssize_t n = write(fd, p, len);
    if (n < 0) {
      if (errno == EINTR)
        continue;
      return MLG_EIO;
    }
    p += n;
    len -= (size_t)n;
  }
  return 0;
}

const char *mlg_signal_name(int sig, char *buf, size_t size)
{
  const char *name;
  switch (sig) {
  case SIGSEGV: name = "SIGSEGV"; break;
  case SIGBUS: name = "SIGBUS"; break;
  case SIGABRT: name = "SIGABRT"; break;
  case SIGFPE: name = "SIGFPE"; break;
  case SIGILL: name = "SIGILL"; break;
  case SIGKILL: name = "SIGKILL"; break;
  case SIGXCPU: name = "SIGXCPU"; break;
  case SIGXFSZ: name = "SIGXFSZ"; break;
  case SIGALRM: name = "SIGALRM"; break;
  case SIGSYS: name = "SIGSYS"; break;
  default: name = "signal"; break;
  }
  snprintf(buf, size, "%s (%s)", name, strsignal(sig));
  return buf;
}

static void set_limit(int resource, rlim_t value)
{
  struct rlimit rl;
  if (getrlimit(resource, &rl) != 0)
    return;
  if (rl.rlim_max != RLIM_INFINITY && value > rl.rlim_max)
    value = rl.rlim_max;
  rl.rlim_cur = value;
  if (rl.rlim_max == RLIM_INFINITY || rl.rlim_max > value)
    rl.rlim_max = value;
  (void)setrlimit(resource, &rl);
}

/* Everything between fork() and the task: confine the child. Only
 * async-signal-safe calls until the task runs (the parent may be
 * multi-threaded in the future). */
static void child_setup(const mlg_pool *pool, int out_fd)
{
  int devnull, fd;
  struct itimerval it;
  uint64_t total = pool->limits.total_ms ? pool->limits.total_ms : pool->limits.time_ms;
  rlim_t cpu = (rlim_t)((total + 999) / 1000 + 1);
  sigset_t none;

  (void)prctl(PR_SET_PDEATHSIG, SIGKILL);
  (void)prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0);
  sigemptyset(&none);
  sigprocmask(SIG_SETMASK, &none, NULL);
  signal(SIGPIPE, SIG_DFL);
  signal(SIGALRM, SIG_DFL);
  signal(SIGXFSZ, SIG_DFL);

  devnull = open("/dev/null", O_RDWR | O_CLOEXEC);
  if (devnull >= 0) {
    dup2(devnull, 0);
    dup2(devnull, 1);
    if (devnull > 2)
      close(devnull);
  }
  /* Drop every descriptor the task was not given: close the ranges
   * between the (sorted) descriptors it keeps. */
  {
    int keep[16];
    size_t nkeep = 0, i, j;
    unsigned lo = 3;
    keep[nkeep++] = out_fd;
    for (i = 0; i < pool->nkeep && nkeep < 16; i++)
      keep[nkeep++] = pool->keep_fds[i];
    for (i = 1; i < nkeep; i++)
      for (j = i; j > 0 && keep[j - 1] > keep[j]; j--) {
        fd = keep[j];
        keep[j] = keep[j - 1];
        keep[j - 1] = fd;
      }
    for (i = 0; i < nkeep; i++) {
      if (keep[i] < (int)lo)
        continue;
      if ((unsigned)keep[i] > lo)
        close_range(lo, (unsigned)keep[i] - 1, 0);
      lo = (unsigned)keep[i] + 1;
    }
    close_range(lo, ~0U, 0);
  }

  set_limit(RLIMIT_CORE, 0);  /* a crash must not write a core file */
#ifndef MLG_SANITIZE
  /* Policies never write files. (Sanitizer builds keep the right to write
   * their reports to a stderr redirected to a file.) */
  set_limit(RLIMIT_FSIZE, 0);
#endif
  set_limit(RLIMIT_CPU, cpu);
  set_limit(RLIMIT_NOFILE, 64);
#ifndef MLG_SANITIZE
  /* Backstop for memory the Lua allocator does not see (parsers, C
   * analysers); sanitizer runtimes reserve terabytes of address space. */
  if (pool->limits.memory_bytes)
    set_limit(RLIMIT_AS, (rlim_t)(pool->limits.memory_bytes + ((uint64_t)1 << 30)));
#endif
  memset(&it, 0, sizeof it);
  it.it_value.tv_sec = (time_t)(total / 1000);
  it.it_value.tv_usec = (suseconds_t)(total % 1000) * 1000;
  if (total)
    setitimer(ITIMER_REAL, &it, NULL);
}

static int spawn(const mlg_pool *pool, slot *s, size_t task, mlg_err *err)
{
  int p[2];
  pid_t pid;

  if (pipe2(p, O_CLOEXEC) != 0)
    return mlg_err_set(err, MLG_EIO, "cannot create a pipe: %s", strerror(errno));
  memset(s->watch, 0, sizeof *s->watch);
  s->watch->item = -1;
  s->watch->gate = -1;
  fflush(stdout);
  fflush(stderr);
  pid = fork();
  if (pid < 0) {
    close(p[0]);
    close(p[1]);
    return mlg_err_set(err, MLG_EIO, "cannot fork: %s", strerror(errno));
  }
  if (pid == 0) {
    int status;
    close(p[0]);
    self_watch = s->watch;
    child_setup(pool, p[1]);
    status = pool->run(pool->ud, task, p[1]);
    _exit(status & 0xff);
  }
  close(p[1]);
  (void)fcntl(p[0], F_SETFL, O_NONBLOCK);
  {
    mlg_watch *w = s->watch;
    memset(s, 0, sizeof *s);
    s->watch = w;
  }
  s->active = 1;
  s->task = task;
  s->pid = pid;
  s->fd = p[0];
  s->start_ms = now_ms();
  s->deadline_ms = pool->limits.time_ms ? s->start_ms + pool->limits.time_ms + GRACE_MS : 0;
  s->forced = MLG_CHILD_EXITED;
  return 0;
}

static void kill_slot(slot *s, mlg_child_end why)
{
  if (s->forced == MLG_CHILD_EXITED)
    s->forced = why;
  kill(s->pid, SIGKILL);
}

/* Hands complete lines to the callback; keeps the partial tail. */
static void drain_lines(const mlg_pool *pool, slot *s)
{
  size_t start = 0, i;
  for (i = 0; i < s->in.len; i++) {
    if (s->in.ptr[i] != '\n')
      continue;
    if (i > start)
      pool->on_line(pool->ud, s->task, s->in.ptr + start, i - start);
    start = i + 1;
  }
  if (start) {
    memmove(s->in.ptr, s->in.ptr + start, s->in.len - start);
    s->in.len -= start;
  }
  if (s->in.len > MAX_LINE)
    kill_slot(s, MLG_CHILD_OVERFLOW);
}

/* Reads what is available; returns 1 at EOF. */
static int read_slot(const mlg_pool *pool, slot *s)
{
  char chunk[65536];
  uint64_t cap = pool->limits.output_bytes ? pool->limits.output_bytes : DEFAULT_OUTPUT;

  for (;;) {
    ssize_t n = read(s->fd, chunk, sizeof chunk);
    if (n < 0) {
      if (errno == EINTR)
        continue;
      return errno == EAGAIN ? 0 : 1;
    }
    if (n == 0)
      return 1;
    s->received += (uint64_t)n;
    if (s->received > cap) {
      kill_slot(s, MLG_CHILD_OVERFLOW);
      return 1;
    }
    if (mlg_buf_put(&s->in, chunk, (size_t)n) != 0) {
      kill_slot(s, MLG_CHILD_OVERFLOW);
      return 1;
    }
    drain_lines(pool, s);
  }
}

/* After end of file: the process usually exits at once, but one that
 * closed its pipe and lingers must not block the scheduler; it stays in
 * the loop (deadline and all) until reaped. Returns 1 when reaped. */
static int reap(slot *s, int block)
{
  pid_t r;
  do
    r = waitpid(s->pid, &s->status, block ? 0 : WNOHANG);
  while (r < 0 && errno == EINTR);
  return r == s->pid || r < 0;
}

static void finish_slot(const mlg_pool *pool, slot *s)
{
  mlg_child_result res;
  int status = s->status;

  /* A final line without '\n' is still a line: the child may have died
   * between writing it and the newline (it never does, but be lenient). */
  if (s->in.len && s->forced != MLG_CHILD_OVERFLOW)
    pool->on_line(pool->ud, s->task, s->in.ptr, s->in.len);
  memset(&res, 0, sizeof res);
  res.elapsed_ms = now_ms() - s->start_ms;
  res.watch = *s->watch;
  res.watch.path[sizeof res.watch.path - 1] = '\0';
  if (s->forced != MLG_CHILD_EXITED) {
    res.end = s->forced;
    res.status = WIFSIGNALED(status) ? WTERMSIG(status) : 0;
  } else if (WIFSIGNALED(status)) {
    int sig = WTERMSIG(status);
    res.status = sig;
    res.end = sig == SIGALRM || sig == SIGXCPU ? MLG_CHILD_TIMEOUT : MLG_CHILD_SIGNALED;
  } else {
    res.end = MLG_CHILD_EXITED;
    res.status = WEXITSTATUS(status);
  }
  mlg_buf_free(&s->in);
  s->active = 0;
  pool->on_end(pool->ud, s->task, &res);
}

/* The child's own deadline when it set one, else the pool's; never past
 * its whole-life cap. */
static uint64_t slot_deadline(const mlg_pool *pool, const slot *s)
{
  uint64_t w = __atomic_load_n(&s->watch->deadline_ms, __ATOMIC_ACQUIRE);
  uint64_t d = w ? w + GRACE_MS : s->deadline_ms;
  if (pool->limits.total_ms && (!d || d > s->start_ms + pool->limits.total_ms + GRACE_MS))
    d = s->start_ms + pool->limits.total_ms + GRACE_MS;
  return d;
}

static unsigned default_jobs(void)
{
  long n = sysconf(_SC_NPROCESSORS_ONLN);
  if (n < 1)
    n = 1;
  if (n > MAX_JOBS)
    n = MAX_JOBS;
  return (unsigned)n;
}

int mlg_pool_run(const mlg_pool *pool, mlg_err *err)
{
  unsigned jobs = pool->jobs ? pool->jobs : default_jobs();
  slot slots[MAX_JOBS];
  mlg_watch *watches;
  struct pollfd pfd[MAX_JOBS];
  unsigned slot_of[MAX_JOBS];
  size_t next = 0, done = 0, i;
  int rc = 0;
  uint64_t last_tick = 0;

  if (jobs > MAX_JOBS)
    jobs = MAX_JOBS;
  memset(slots, 0, sizeof slots);
  watches = mmap(NULL, MAX_JOBS * sizeof *watches, PROT_READ | PROT_WRITE,
                 MAP_SHARED | MAP_ANONYMOUS, -1, 0);
  if (watches == MAP_FAILED)
    return mlg_err_set(err, MLG_ENOMEM, "cannot map memory for the children: %s",
                       strerror(errno));
  for (i = 0; i < MAX_JOBS; i++)
    slots[i].watch = &watches[i];

  while (done < pool->ntasks) {
    unsigned active = 0, j;
    int timeout = 100;
    uint64_t t;

    for (j = 0; j < jobs && next < pool->ntasks && rc == 0; j++) {
      if (slots[j].active)
        continue;
      rc = spawn(pool, &slots[j], next, err);
      if (rc == 0)
        next++;
    }
    if (rc != 0 && next < pool->ntasks) {
      /* Could not start the rest: report them as failed, fail closed. */
      mlg_child_result res;
      memset(&res, 0, sizeof res);
      res.end = MLG_CHILD_SIGNALED;
      res.watch.item = -1;
      res.watch.gate = -1;
      for (; next < pool->ntasks; next++, done++)
        pool->on_end(pool->ud, next, &res);
    }
    t = now_ms();
    for (j = 0; j < jobs; j++) {
      slot *sl = &slots[j];
      uint64_t deadline;
      if (!sl->active)
        continue;
      deadline = slot_deadline(pool, sl);
      if (deadline && t >= deadline)
        kill_slot(sl, MLG_CHILD_TIMEOUT);
      if (sl->eof) {
        if (reap(sl, 0)) {
          finish_slot(pool, sl);
          done++;
        } else {
          timeout = 1; /* it is exiting: look again very soon */
        }
        continue;
      }
      pfd[active].fd = sl->fd;
      pfd[active].events = POLLIN;
      pfd[active].revents = 0;
      slot_of[active] = j;
      active++;
      if (deadline && deadline - t < (uint64_t)timeout)
        timeout = (int)(deadline > t ? deadline - t : 0);
    }
    if (!active && done >= pool->ntasks)
      break;
    if (active) {
      if (poll(pfd, active, timeout) < 0 && errno != EINTR) {
        rc = mlg_err_set(err, MLG_EIO, "poll failed: %s", strerror(errno));
        for (j = 0; j < jobs; j++)
          if (slots[j].active)
            kill_slot(&slots[j], MLG_CHILD_SIGNALED);
      }
    } else {
      struct timespec ts = {0, (long)timeout * 1000000L};
      nanosleep(&ts, NULL);
    }
    for (i = 0; i < active; i++) {
      slot *sl = &slots[slot_of[i]];
      if (!pfd[i].revents || !read_slot(pool, sl))
        continue;
      close(sl->fd);
      sl->fd = -1;
      sl->eof = 1;
      if (reap(sl, 0)) {
        finish_slot(pool, sl);
        done++;
      }
    }
    if (pool->on_tick && now_ms() - last_tick >= 100) {
      last_tick = now_ms();
      pool->on_tick(pool->ud, done, pool->ntasks);
    }
  }
  munmap(watches, MAX_JOBS * sizeof *watches);
  return rc;
}
