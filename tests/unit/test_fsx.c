#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <errno.h>
#include <fcntl.h>
#include <linux/openat2.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mount.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <unistd.h>

/* Compiled in so the tests can force the manual resolver that old kernels
 * use (fsx_no_openat2) and run every case through both paths. */
#include "fsx.c"

static char base[64]; /* temp dir holding ws/ and outside.csv */
static char root[128];

static void mk(const char *rel, const char *content, size_t len)
{
  char p[512];
  int fd;
  snprintf(p, sizeof p, "%s/%s", root, rel);
  fd = open(p, O_WRONLY | O_CREAT | O_TRUNC, 0644);
  assert_true(fd >= 0);
  if (len)
    assert_int_equal(write(fd, content, len), (ssize_t)len);
  close(fd);
}

static void mkd(const char *rel)
{
  char p[512];
  snprintf(p, sizeof p, "%s/%s", root, rel);
  assert_int_equal(mkdir(p, 0755), 0);
}

static void ln(const char *target, const char *rel)
{
  char p[512];
  snprintf(p, sizeof p, "%s/%s", root, rel);
  assert_int_equal(symlink(target, p), 0);
}

static int build_tree(void **state)
{
  static char bin[1000];
  char p[512];
  int fd;

  strcpy(base, "/tmp/mlg_fsx_XXXXXX");
  if (!mkdtemp(base))
    return -1;
  snprintf(root, sizeof root, "%s/ws", base);
  snprintf(p, sizeof p, "%s/outside.csv", base);
  fd = open(p, O_WRONLY | O_CREAT, 0644);
  if (fd < 0 || write(fd, "secret\n", 7) != 7)
    return -1;
  close(fd);
  if (mkdir(root, 0755))
    return -1;

  mk("a.txt", "hello", 5);
  mk("b-c", "", 0);
  mk("b.txt", "12", 2);
  mk("Zed.txt", "Z", 1);
  mkd("b");
  mk("b/c.csv", "1,2\n", 4);
  mkd("b/d");
  memset(bin, 7, sizeof bin);
  mk("b/d/e.bin", bin, sizeof bin);
  ln("../a.txt", "b/up");
  ln("../../outside.csv", "b/esc");
  ln("..", "b/dotdot");
  mkd("data");
  ln("../../outside.csv", "data/link.csv");
  ln("../b/c.csv", "data/ok.csv");
  ln("a.txt", "link_in");
  ln("b", "link_dir");
  ln("/etc/passwd", "link_abs");
  ln("../../../../../../../../etc/passwd", "link_rel_passwd");
  ln("nope", "dangling");
  ln("loop2", "loop1");
  ln("loop1", "loop2");
  ln("..", "up");
  snprintf(p, sizeof p, "%s/fifo", root);
  if (mkfifo(p, 0644))
    return -1;
  mkd(".git");
  mk(".git/config", "[core]\n", 7);
  mkd("sub");
  mk("sub/x.py", "x", 1);
  mkd("sub/.git");
  mk("sub/.git/HEAD", "ref: x\n", 7);
  mkd("sub2");
  mk("sub2/.git", "gitdir: x\n", 10);
  mkd("empty");
  return 0;
}

/* Descriptor leaks show up as a changed count over a whole group. */
static int fds_at_start;

static int count_fds(void)
{
  int fd, n = 0;
  for (fd = 0; fd < 1024; fd++)
    if (fcntl(fd, F_GETFD) >= 0)
      n++;
  return n;
}

static int remove_tree(void **state)
{
  char cmd[128];
  int leaked = count_fds() - fds_at_start;
  snprintf(cmd, sizeof cmd, "rm -rf '%s'", base);
  if (leaked) {
    fprintf(stderr, "%d file descriptors leaked\n", leaked);
    return -1;
  }
  return system(cmd) == 0 ? 0 : -1;
}

static int use_openat2(void **state)
{
  atomic_store(&fsx_no_openat2, 0);
  fds_at_start = count_fds();
  return build_tree(state);
}

static int use_fallback(void **state)
{
  atomic_store(&fsx_no_openat2, 1);
  fds_at_start = count_fds();
  return build_tree(state);
}

static mlg_ws *open_ws(void)
{
  mlg_ws *ws = NULL;
  mlg_err err;
  mlg_err_clear(&err);
  if (mlg_ws_open(&ws, root, NULL, &err) != 0)
    fail_msg("mlg_ws_open: %s", err.msg);
  return ws;
}

/* --- walk ------------------------------------------------------------------ */

typedef struct want_file {
  const char *path;
  uint64_t size;
  int link, escapes;
} want_file;

static void test_walk(void **state)
{
  static const want_file want[] = {
    {"Zed.txt", 1, 0, 0},
    {"a.txt", 5, 0, 0},
    {"b-c", 0, 0, 0},
    {"b.txt", 2, 0, 0},
    {"b/c.csv", 4, 0, 0},
    {"b/d/e.bin", 1000, 0, 0},
    {"b/dotdot", 0, 1, 0},
    {"b/esc", 0, 1, 1},
    {"b/up", 5, 1, 0},
    {"dangling", 0, 1, 1},
    {"data/link.csv", 0, 1, 1},
    {"data/ok.csv", 4, 1, 0},
    {"link_abs", 0, 1, 1},
    {"link_dir", 0, 1, 0},
    {"link_in", 5, 1, 0},
    {"link_rel_passwd", 0, 1, 1},
    {"loop1", 0, 1, 1},
    {"loop2", 0, 1, 1},
    {"sub/x.py", 1, 0, 0},
    {"up", 0, 1, 1},
  };
  mlg_ws *ws = open_ws();
  char *real = realpath(root, NULL);
  size_t i;

  assert_string_equal(ws->root, real);
  assert_null(ws->single);
  assert_true(ws->rootfd >= 0);
  for (i = 0; i < ws->nfiles && i < sizeof want / sizeof want[0]; i++) {
    if (strcmp(ws->files[i].path, want[i].path) != 0)
      fail_msg("entry %zu: '%s', expected '%s'", i, ws->files[i].path, want[i].path);
    if (ws->files[i].size != want[i].size || ws->files[i].link != want[i].link ||
        ws->files[i].escapes != want[i].escapes)
      fail_msg("entry '%s': size %llu link %u escapes %u", want[i].path,
               (unsigned long long)ws->files[i].size, ws->files[i].link,
               ws->files[i].escapes);
  }
  assert_int_equal(ws->nfiles, sizeof want / sizeof want[0]);
  assert_int_equal(ws->total_bytes, 1 + 5 + 0 + 2 + 4 + 1000 + 1);
  assert_null(mlg_ws_find(ws, "sub2/.git")); /* gitdir files are metadata too */

  assert_non_null(mlg_ws_find(ws, "b/d/e.bin"));
  assert_int_equal(mlg_ws_find(ws, "b/d/e.bin")->size, 1000);
  assert_non_null(mlg_ws_find(ws, "Zed.txt"));
  assert_non_null(mlg_ws_find(ws, "up"));
  assert_null(mlg_ws_find(ws, "fifo"));
  assert_null(mlg_ws_find(ws, ".git/config"));
  assert_null(mlg_ws_find(ws, "sub/.git/HEAD"));
  assert_null(mlg_ws_find(ws, "b"));
  assert_null(mlg_ws_find(ws, "./a.txt"));
  assert_null(mlg_ws_find(ws, NULL));
  assert_null(mlg_ws_find(NULL, "a.txt"));
  free(real);
  mlg_ws_free(ws);
  mlg_ws_free(NULL);
}

static void test_walk_relative_root(void **state)
{
  char cwd[4096];
  mlg_ws *ws = NULL;
  mlg_err err;
  assert_non_null(getcwd(cwd, sizeof cwd));
  assert_int_equal(chdir(root), 0);
  assert_int_equal(mlg_ws_open(&ws, ".", NULL, &err), 0);
  assert_int_equal(ws->nfiles, 20);
  assert_string_equal(ws->files[0].path, "Zed.txt");
  mlg_ws_free(ws);
  assert_int_equal(mlg_ws_open(&ws, NULL, NULL, &err), 0);
  assert_int_equal(ws->nfiles, 20);
  mlg_ws_free(ws);
  assert_int_equal(chdir(cwd), 0);
}

static void test_walk_limits(void **state)
{
  char dir[256], p[300], msg[600];
  mlg_ws_opts opts = {0, 0};
  mlg_ws *ws = (mlg_ws *)&ws;
  mlg_err err;
  int i;

  /* max_depth: b/d is at depth 2 */
  opts.max_depth = 1;
  assert_int_equal(mlg_ws_open(&ws, root, &opts, &err), MLG_ELIMIT);
  assert_null(ws);
  snprintf(msg, sizeof msg,
           "walking '%s': directory 'b/d' is more than 1 levels deep (max_depth)", root);
  assert_string_equal(err.msg, msg);
  opts.max_depth = 2;
  assert_int_equal(mlg_ws_open(&ws, root, &opts, &err), 0);
  mlg_ws_free(ws);

  /* max_files in a tree whose walk order is fixed */
  snprintf(dir, sizeof dir, "%s/lim", base);
  assert_int_equal(mkdir(dir, 0755), 0);
  snprintf(p, sizeof p, "%s/x", dir);
  assert_int_equal(mkdir(p, 0755), 0);
  for (i = 0; i < 3; i++) {
    snprintf(p, sizeof p, "%s/x/%d", dir, i);
    close(open(p, O_WRONLY | O_CREAT, 0644));
  }
  opts.max_depth = 0;
  opts.max_files = 2;
  assert_int_equal(mlg_ws_open(&ws, dir, &opts, &err), MLG_ELIMIT);
  snprintf(msg, sizeof msg,
           "walking '%s': workspace has more than 2 files (max_files), stopped in "
           "directory 'x'", dir);
  assert_string_equal(err.msg, msg);
  opts.max_files = 3;
  assert_int_equal(mlg_ws_open(&ws, dir, &opts, &err), 0);
  assert_int_equal(ws->nfiles, 3);
  assert_string_equal(ws->files[2].path, "x/2");
  mlg_ws_free(ws);

  /* directories count too: 3 files, then 4 empty directories */
  for (i = 0; i < 4; i++) {
    snprintf(p, sizeof p, "%s/e%d", dir, i);
    assert_int_equal(mkdir(p, 0755), 0);
  }
  assert_int_equal(mlg_ws_open(&ws, dir, &opts, &err), MLG_ELIMIT);
  assert_non_null(strstr(err.msg, "workspace has more than 3 directories (max_files)"));
  snprintf(p, sizeof p, "rm -rf '%s'", dir);
  assert_int_equal(system(p), 0);
}

static void test_walk_deep_default(void **state)
{
  /* 70 nested directories exceed the default max_depth of 64 */
  char dir[256], p[1024], msg[2048];
  mlg_ws *ws = NULL;
  mlg_err err;
  int i;
  snprintf(dir, sizeof dir, "%s/deep", base);
  strcpy(p, dir);
  for (i = 0; i < 70; i++) {
    assert_int_equal(mkdir(p, 0755), 0);
    strcat(p, "/d");
  }
  assert_int_equal(mlg_ws_open(&ws, dir, NULL, &err), MLG_ELIMIT);
  strcpy(p, "d");
  for (i = 1; i < 65; i++)
    strcat(p, "/d");
  snprintf(msg, sizeof msg,
           "walking '%s': directory '%s' is more than 64 levels deep (max_depth)", dir, p);
  assert_string_equal(err.msg, msg);
  snprintf(p, sizeof p, "rm -rf '%s'", dir);
  assert_int_equal(system(p), 0);
}

static void test_ws_open_errors(void **state)
{
  mlg_ws *ws = NULL;
  mlg_err err;
  char p[300];

  assert_int_equal(mlg_ws_open(&ws, "/nonexistent/mlg/x", NULL, &err), MLG_ENOENT);
  assert_string_equal(err.msg,
                      "cannot open workspace '/nonexistent/mlg/x': No such file or directory");
  assert_null(ws);
  snprintf(p, sizeof p, "%s/fifo", root);
  assert_int_equal(mlg_ws_open(&ws, p, NULL, &err), MLG_EINVAL);
  assert_non_null(strstr(err.msg, "/fifo': a FIFO, not a regular file or directory"));
  assert_int_equal(mlg_ws_open(&ws, "/proc", NULL, &err), MLG_EACCES);
  assert_string_equal(err.msg, "refusing workspace '/proc': it is on a pseudo filesystem");
  assert_int_equal(mlg_ws_open(&ws, "/proc/self/status", NULL, &err), MLG_EACCES);
}

/* --- single file -------------------------------------------------------------- */

static void test_single_file(void **state)
{
  char p[300], *real = realpath(root, NULL), *data = NULL;
  mlg_ws *ws = NULL;
  mlg_err err;
  size_t len;

  snprintf(p, sizeof p, "%s/b/../a.txt", root);
  assert_int_equal(mlg_ws_open(&ws, p, NULL, &err), 0);
  assert_string_equal(ws->root, real); /* realpath of the directory */
  assert_string_equal(ws->single, "a.txt");
  assert_int_equal(ws->nfiles, 1);
  assert_string_equal(ws->files[0].path, "a.txt");
  assert_int_equal(ws->files[0].size, 5);
  assert_int_equal(ws->total_bytes, 5);
  assert_int_equal(mlg_ws_read(&data, &len, ws, ws->single, 0, &err), 0);
  assert_string_equal(data, "hello");
  free(data);
  mlg_ws_free(ws);

  /* a single file given by a symlink that leaves its directory */
  snprintf(p, sizeof p, "%s/data/link.csv", root);
  assert_int_equal(mlg_ws_open(&ws, p, NULL, &err), 0);
  assert_string_equal(ws->single, "link.csv");
  assert_int_equal(ws->nfiles, 1);
  assert_int_equal(ws->files[0].link, 1);
  assert_int_equal(ws->files[0].escapes, 1);
  assert_int_equal(ws->total_bytes, 0);
  assert_int_equal(mlg_ws_read(&data, &len, ws, "link.csv", 0, &err), MLG_EACCES);
  assert_string_equal(err.msg, "refusing 'link.csv': symlink to a target outside the workspace");
  mlg_ws_free(ws);

  /* a dangling symlink is still reported as an entry */
  snprintf(p, sizeof p, "%s/dangling", root);
  assert_int_equal(mlg_ws_open(&ws, p, NULL, &err), 0);
  assert_int_equal(ws->files[0].escapes, 1);
  mlg_ws_free(ws);

  /* relative single file without a directory part */
  {
    char cwd[4096];
    assert_non_null(getcwd(cwd, sizeof cwd));
    assert_int_equal(chdir(root), 0);
    assert_int_equal(mlg_ws_open(&ws, "b.txt", NULL, &err), 0);
    assert_string_equal(ws->root, real);
    assert_string_equal(ws->files[0].path, "b.txt");
    mlg_ws_free(ws);
    assert_int_equal(chdir(cwd), 0);
  }
  free(real);
}

/* --- normalisation ------------------------------------------------------- */

static void norm_ok(const char *in, const char *want)
{
  char *out = NULL;
  mlg_err err;
  if (mlg_path_normalize(&out, in, &err) != 0)
    fail_msg("normalize '%s': %s", in, err.msg);
  assert_string_equal(out, want);
  free(out);
}

static void norm_bad(const char *in, int code, const char *msg)
{
  char *out = (char *)&out;
  mlg_err err;
  assert_int_equal(mlg_path_normalize(&out, in, &err), code);
  assert_null(out);
  assert_string_equal(err.msg, msg);
}

static void test_normalize(void **state)
{
  char *big;
  norm_ok("a", "a");
  norm_ok("a/b", "a/b");
  norm_ok("./a//b/", "a/b");
  norm_ok("a/./b/./", "a/b");
  norm_ok("a/../b", "b");
  norm_ok("a/b/../../c", "c");
  norm_ok("a/..", ".");
  norm_ok(".", ".");
  norm_ok("", ".");
  norm_ok("...", "...");
  norm_ok("..a/b..", "..a/b..");
  norm_ok("a/b/c/../../..", ".");
  norm_bad("..", MLG_EACCES, "refusing '..': it leaves the workspace");
  norm_bad("x/../../etc/passwd", MLG_EACCES,
           "refusing 'x/../../etc/passwd': it leaves the workspace");
  norm_bad("a/../b/../..", MLG_EACCES, "refusing 'a/../b/../..': it leaves the workspace");
  norm_bad("/etc/passwd", MLG_EACCES,
           "refusing '/etc/passwd': absolute paths are not allowed in the workspace");
  norm_bad("//a", MLG_EACCES, "refusing '//a': absolute paths are not allowed in the workspace");
  norm_bad(NULL, MLG_EINVAL, "no path given");
  norm_ok("a\x1b[2J/..", ".");
  norm_bad("a/\x1b[2J/../../..", MLG_EACCES,
           "refusing 'a/\\x1b[2J/../../..': it leaves the workspace");
  big = malloc(5000);
  memset(big, 'a', 4999);
  big[4999] = '\0';
  {
    char *out = NULL;
    mlg_err err;
    assert_int_equal(mlg_path_normalize(&out, big, &err), MLG_EINVAL);
    assert_non_null(strstr(err.msg, "...': path longer than 4095 bytes"));
    assert_true(strlen(err.msg) < 400);
  }
  free(big);
}

/* --- confined open ------------------------------------------------------- */

static void open_ok(const mlg_ws *ws, const char *rel, const char *content)
{
  char buf[64];
  mlg_err err;
  ssize_t n;
  int fd = -2, fl;
  if (mlg_ws_open_file(&fd, ws, rel, &err) != 0)
    fail_msg("open '%s': %s", rel, err.msg);
  n = read(fd, buf, sizeof buf - 1);
  assert_true(n >= 0);
  buf[n] = '\0';
  assert_string_equal(buf, content);
  fl = fcntl(fd, F_GETFD);
  assert_true(fl & FD_CLOEXEC);
  fl = fcntl(fd, F_GETFL);
  assert_false(fl & O_NONBLOCK);
  assert_int_equal(fl & O_ACCMODE, O_RDONLY);
  close(fd);
}

static void open_bad(const mlg_ws *ws, const char *rel, int code, const char *msg)
{
  mlg_err err;
  int fd = 99;
  mlg_err_clear(&err);
  if (mlg_ws_open_file(&fd, ws, rel, &err) != code) fail_msg("%s: %s", rel, err.msg);
  assert_int_equal(fd, -1);
  if (strcmp(err.msg, msg) != 0)
    fail_msg("open '%s': got \"%s\", expected \"%s\"", rel, err.msg, msg);
}

static void test_open_file(void **state)
{
  mlg_ws *ws = open_ws();

  alarm(10); /* a FIFO that blocks would hang here */
  open_ok(ws, "a.txt", "hello");
  open_ok(ws, "./a.txt", "hello");
  open_ok(ws, "b/../a.txt", "hello");
  open_ok(ws, "b//c.csv", "1,2\n");
  open_ok(ws, "link_in", "hello");
  open_ok(ws, "link_dir/c.csv", "1,2\n");
  open_ok(ws, "b/up", "hello");
  open_ok(ws, "b/dotdot/a.txt", "hello");
  open_ok(ws, "b/dotdot/b/dotdot/link_dir/c.csv", "1,2\n");
  open_ok(ws, "data/ok.csv", "1,2\n");
  /* Repository metadata is refused, also through a nested gitdir file. */
  {
    mlg_err err;
    int fd = -2;
    assert_int_equal(mlg_ws_open_file(&fd, ws, "sub2/.git", &err), MLG_EACCES);
    assert_non_null(strstr(err.msg, "files of the .git directory are not readable"));
    assert_int_equal(fd, -1);
  }
  open_ok(ws, "b-c", "");

  open_bad(ws, "x/../../etc/passwd", MLG_EACCES,
           "refusing 'x/../../etc/passwd': it leaves the workspace");
  open_bad(ws, "../ws/a.txt", MLG_EACCES, "refusing '../ws/a.txt': it leaves the workspace");
  open_bad(ws, "/etc/passwd", MLG_EACCES,
           "refusing '/etc/passwd': absolute paths are not allowed in the workspace");
  open_bad(ws, "data/link.csv", MLG_EACCES,
           "refusing 'data/link.csv': symlink to a target outside the workspace");
  open_bad(ws, "b/esc", MLG_EACCES,
           "refusing 'b/esc': symlink to a target outside the workspace");
  open_bad(ws, "link_abs", MLG_EACCES,
           "refusing 'link_abs': symlink to a target outside the workspace");
  open_bad(ws, "link_rel_passwd", MLG_EACCES,
           "refusing 'link_rel_passwd': symlink to a target outside the workspace");
  open_bad(ws, "up/outside.csv", MLG_EACCES,
           "refusing 'up/outside.csv': symlink to a target outside the workspace");
  open_bad(ws, "b/dotdot/up/ws/a.txt", MLG_EACCES,
           "refusing 'b/dotdot/up/ws/a.txt': symlink to a target outside the workspace");
  open_bad(ws, "loop1", MLG_EACCES, "refusing 'loop1': too many levels of symbolic links");
  open_bad(ws, "dangling", MLG_ENOENT, "cannot open 'dangling': no such file in the workspace");
  open_bad(ws, "nope.txt", MLG_ENOENT, "cannot open 'nope.txt': no such file in the workspace");
  open_bad(ws, "a.txt/x", MLG_ENOENT, "cannot open 'a.txt/x': a parent is not a directory");
  open_bad(ws, "fifo", MLG_EACCES, "refusing 'fifo': a FIFO, not a regular file");
  open_bad(ws, "b", MLG_EACCES, "refusing 'b': a directory, not a regular file");
  open_bad(ws, "", MLG_EACCES, "refusing '': a directory, not a regular file");
  open_bad(ws, "link_dir", MLG_EACCES, "refusing 'link_dir': a directory, not a regular file");
  open_bad(ws, "bad\n\x1b[31mname'", MLG_ENOENT,
           "cannot open 'bad\\x0a\\x1b[31mname\\x27': no such file in the workspace");
  open_bad(NULL, "a.txt", MLG_EINVAL, "no workspace");
  alarm(0);
  mlg_ws_free(ws);
}

/* A symlink created after the walk is still confined when opened. */
static void test_open_after_swap(void **state)
{
  mlg_ws *ws = open_ws();
  char p[300];
  snprintf(p, sizeof p, "%s/b.txt", root);
  assert_int_equal(unlink(p), 0);
  assert_int_equal(symlink("/etc/passwd", p), 0);
  open_bad(ws, "b.txt", MLG_EACCES, "refusing 'b.txt': symlink to a target outside the workspace");
  assert_int_equal(unlink(p), 0);
  assert_int_equal(mkfifo(p, 0644), 0);
  alarm(10);
  open_bad(ws, "b.txt", MLG_EACCES, "refusing 'b.txt': a FIFO, not a regular file");
  alarm(0);
  assert_int_equal(unlink(p), 0);
  mk("b.txt", "12", 2);
  open_ok(ws, "b.txt", "12");
  mlg_ws_free(ws);
}

/* --- stat ------------------------------------------------------------------ */

static void test_stat(void **state)
{
  mlg_ws *ws = open_ws();
  mlg_stat st;
  mlg_err err;
  struct stat real;
  char p[300];

  assert_int_equal(mlg_ws_stat(&st, ws, "a.txt", &err), 0);
  assert_int_equal(st.type, MLG_FT_FILE);
  assert_int_equal(st.size, 5);
  assert_int_equal(st.link, 0);
  snprintf(p, sizeof p, "%s/a.txt", root);
  assert_int_equal(stat(p, &real), 0);
  assert_int_equal(st.mtime, real.st_mtime);

  assert_int_equal(mlg_ws_stat(&st, ws, "link_in", &err), 0);
  assert_int_equal(st.type, MLG_FT_FILE);
  assert_int_equal(st.size, 5);
  assert_int_equal(st.link, 1);

  assert_int_equal(mlg_ws_stat(&st, ws, "b/d/e.bin", &err), 0);
  assert_int_equal(st.type, MLG_FT_FILE);
  assert_int_equal(st.size, 1000);

  assert_int_equal(mlg_ws_stat(&st, ws, "link_dir/d/e.bin", &err), 0);
  assert_int_equal(st.size, 1000);
  assert_int_equal(st.link, 0);

  if (mlg_ws_stat(&st, ws, ".", &err)) fail_msg("%s", err.msg);
  assert_int_equal(st.type, MLG_FT_DIR);
  assert_int_equal(st.size, 0);
  assert_int_equal(st.link, 0);

  assert_int_equal(mlg_ws_stat(&st, ws, "link_dir", &err), 0);
  assert_int_equal(st.type, MLG_FT_DIR);
  assert_int_equal(st.link, 1);

  if (mlg_ws_stat(&st, ws, ".", &err)) fail_msg("%s", err.msg);
  assert_int_equal(st.type, MLG_FT_DIR);
  assert_int_equal(st.link, 0);

  assert_int_equal(mlg_ws_stat(&st, ws, "fifo", &err), 0);
  assert_int_equal(st.type, MLG_FT_OTHER);
  assert_int_equal(st.link, 0);

  assert_int_equal(mlg_ws_stat(&st, ws, "data/link.csv", &err), MLG_EACCES);
  assert_string_equal(err.msg,
                      "refusing 'data/link.csv': symlink to a target outside the workspace");
  assert_int_equal(st.link, 1);
  assert_int_equal(st.type, MLG_FT_SYMLINK);

  assert_int_equal(mlg_ws_stat(&st, ws, "dangling", &err), MLG_ENOENT);
  assert_int_equal(st.link, 1);

  assert_int_equal(mlg_ws_stat(&st, ws, "up/ws/a.txt", &err), MLG_EACCES);
  assert_string_equal(err.msg,
                      "refusing 'up/ws/a.txt': symlink to a target outside the workspace");
  assert_int_equal(mlg_ws_stat(&st, ws, "x/../../etc", &err), MLG_EACCES);
  assert_string_equal(err.msg, "refusing 'x/../../etc': it leaves the workspace");
  assert_int_equal(mlg_ws_stat(&st, ws, "nope", &err), MLG_ENOENT);
  assert_string_equal(err.msg, "cannot open 'nope': no such file in the workspace");
  assert_int_equal(mlg_ws_stat(&st, ws, "nope/x", &err), MLG_ENOENT);
  assert_int_equal(mlg_ws_stat(&st, ws, "loop1", &err), MLG_EACCES);
  assert_int_equal(st.link, 1);
  assert_int_equal(mlg_ws_stat(&st, NULL, "a.txt", &err), MLG_EINVAL);
  mlg_ws_free(ws);
}

/* --- read ------------------------------------------------------------------ */

static void test_read(void **state)
{
  mlg_ws *ws = open_ws();
  mlg_err err;
  char *data = (char *)&data, p[300];
  size_t len = 77;
  int fd;

  assert_int_equal(mlg_ws_read(&data, &len, ws, "a.txt", 0, &err), 0);
  assert_int_equal(len, 5);
  assert_memory_equal(data, "hello", 6);
  free(data);

  assert_int_equal(mlg_ws_read(&data, &len, ws, "b-c", 0, &err), 0);
  assert_non_null(data);
  assert_int_equal(len, 0);
  assert_int_equal(data[0], '\0');
  free(data);

  assert_int_equal(mlg_ws_read(&data, NULL, ws, "b/d/e.bin", 1000, &err), 0);
  assert_int_equal(data[999], 7);
  assert_int_equal(data[1000], '\0');
  free(data);

  assert_int_equal(mlg_ws_read(&data, &len, ws, "b/d/e.bin", 999, &err), MLG_ELIMIT);
  assert_null(data);
  assert_int_equal(len, 0);
  assert_string_equal(err.msg, "file 'b/d/e.bin' is 1000 bytes, over the 999-byte read limit");
  assert_int_equal(mlg_ws_read(&data, &len, ws, "a.txt", 5, &err), 0);
  assert_int_equal(len, 5);
  free(data);
  assert_int_equal(mlg_ws_read(&data, &len, ws, "a.txt", 4, &err), MLG_ELIMIT);

  assert_int_equal(mlg_ws_read(&data, &len, ws, "data/link.csv", 0, &err), MLG_EACCES);
  assert_null(data);
  alarm(10);
  assert_int_equal(mlg_ws_read(&data, &len, ws, "fifo", 0, &err), MLG_EACCES);
  alarm(0);

  /* over the default 64 MiB limit, without writing 70 MB */
  snprintf(p, sizeof p, "%s/big", root);
  fd = open(p, O_WRONLY | O_CREAT, 0644);
  assert_int_equal(ftruncate(fd, 70000000), 0);
  close(fd);
  assert_int_equal(mlg_ws_read(&data, &len, ws, "big", 0, &err), MLG_ELIMIT);
  assert_string_equal(err.msg, "file 'big' is 70000000 bytes, over the 67108864-byte read limit");
  assert_int_equal(mlg_ws_read(&data, &len, ws, "big", 70000000, &err), 0);
  assert_int_equal(len, 70000000);
  assert_int_equal(data[69999999], 0);
  free(data);
  unlink(p);
  mlg_ws_free(ws);
}

/* A procfs mounted inside the workspace is neither walked nor readable.
 * Needs mount privileges (root in a container usually has them). */
static void test_proc_inside(void **state)
{
  char p[300], msg[MLG_ERR_MSG_MAX];
  mlg_ws *ws = NULL;
  mlg_err err;
  char *data[3] = {NULL, NULL, NULL};
  size_t len, nfiles = 0;
  int rc[3] = {0, 0, 0}, found = 0;

  snprintf(p, sizeof p, "%s/p", root);
  assert_int_equal(mkdir(p, 0755), 0);
  if (mount("proc", p, "proc", 0, NULL) != 0) {
    rmdir(p);
    skip();
  }
  /* collect first, unmount, then assert: a failed assertion must not
   * leave a procfs mounted in /tmp */
  if (mlg_ws_open(&ws, root, NULL, &err) == 0) {
    nfiles = ws->nfiles;
    found = mlg_ws_find(ws, "p/self/environ") != NULL;
    rc[0] = mlg_ws_read(&data[0], &len, ws, "p/self/environ", 0, &err);
    strcpy(msg, err.msg);
    /* magic links are not followed */
    rc[1] = mlg_ws_read(&data[1], &len, ws, "p/self/root/etc/passwd", 0, &err);
    rc[2] = mlg_ws_read(&data[2], &len, ws, "p/self/cwd/a.txt", 0, &err);
    mlg_ws_free(ws);
  }
  assert_int_equal(umount(p), 0);
  assert_int_equal(rmdir(p), 0);
  assert_int_equal(nfiles, 20); /* nothing from p/ */
  assert_false(found);
  assert_int_equal(rc[0], MLG_EACCES);
  assert_string_equal(msg, "refusing 'p/self/environ': it is on a pseudo filesystem");
  assert_int_equal(rc[1], MLG_EACCES);
  assert_int_equal(rc[2], MLG_EACCES);
  assert_null(data[0]);
  assert_null(data[1]);
  assert_null(data[2]);
}

static void test_openat2_used(void **state)
{
  struct open_how how;
  long fd;
  memset(&how, 0, sizeof how);
  how.flags = O_RDONLY | O_CLOEXEC;
  how.resolve = RESOLVE_BENEATH;
  fd = syscall(SYS_openat2, AT_FDCWD, ".", &how, sizeof how);
  if (fd < 0 && (errno == ENOSYS || errno == EPERM))
    skip();
  assert_true(fd >= 0);
  close((int)fd);
  /* the walk and opens above did not fall back */
  assert_int_equal(atomic_load(&fsx_no_openat2), 0);
}

#define FSX_TESTS                                          \
  cmocka_unit_test(test_normalize),                        \
  cmocka_unit_test(test_walk),                             \
  cmocka_unit_test(test_walk_relative_root),               \
  cmocka_unit_test(test_walk_limits),                      \
  cmocka_unit_test(test_walk_deep_default),                \
  cmocka_unit_test(test_ws_open_errors),                   \
  cmocka_unit_test(test_single_file),                      \
  cmocka_unit_test(test_open_file),                        \
  cmocka_unit_test(test_open_after_swap),                  \
  cmocka_unit_test(test_stat),                             \
  cmocka_unit_test(test_read),                             \
  cmocka_unit_test(test_proc_inside)

int main(void)
{
  const struct CMUnitTest with_openat2[] = {FSX_TESTS, cmocka_unit_test(test_openat2_used)};
  const struct CMUnitTest with_fallback[] = {FSX_TESTS};
  int rc = 0;
  rc |= cmocka_run_group_tests_name("fsx_openat2", with_openat2, use_openat2, remove_tree);
  rc |= cmocka_run_group_tests_name("fsx_fallback", with_fallback, use_fallback, remove_tree);
  return rc;
}
