/*
 * bench/timeit: runs a command N times (cold processes) and prints the
 * median and minimum wall time and the largest resident set size, as one
 * tab-separated line: median_ms min_ms maxrss_kib exit_status.
 *
 *   timeit N COMMAND [ARG]...
 */
#include <stdio.h>
#include <stdlib.h>
#include <sys/resource.h>
#include <sys/types.h>
#include <sys/wait.h>
#include <fcntl.h>
#include <time.h>
#include <unistd.h>

static int cmp(const void *a, const void *b)
{
  double x = *(const double *)a, y = *(const double *)b;
  return x < y ? -1 : x > y;
}

int main(int argc, char **argv)
{
  int n, i, status = 0;
  double *ms;
  long maxrss = 0;

  if (argc < 3 || (n = atoi(argv[1])) < 1) {
    fprintf(stderr, "usage: timeit N COMMAND [ARG]...\n");
    return 2;
  }
  ms = calloc((size_t)n, sizeof *ms);
  if (!ms)
    return 2;
  for (i = 0; i < n; i++) {
    struct timespec a, b;
    struct rusage ru;
    pid_t pid;
    clock_gettime(CLOCK_MONOTONIC, &a);
    pid = fork();
    if (pid == 0) {
      int fd = open("/dev/null", O_WRONLY);
      dup2(fd, 1);
      dup2(fd, 2);
      execvp(argv[2], argv + 2);
      _exit(127);
    }
    if (pid < 0 || wait4(pid, &status, 0, &ru) < 0)
      return 2;
    clock_gettime(CLOCK_MONOTONIC, &b);
    ms[i] = (double)(b.tv_sec - a.tv_sec) * 1e3 + (double)(b.tv_nsec - a.tv_nsec) / 1e6;
    if (ru.ru_maxrss > maxrss)
      maxrss = ru.ru_maxrss;
  }
  qsort(ms, (size_t)n, sizeof *ms, cmp);
  printf("%.2f\t%.2f\t%ld\t%d\n", ms[n / 2], ms[0], maxrss,
         WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status));
  free(ms);
  return 0;
}
