#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include <lauxlib.h>
#include <lua.h>

#include "fsx.h"
#include "hash.h"
#include "lua_api.h"
#include "lua_api_share.h"
#include "parse.h"
#include "sandbox.h"

#define CHUNK "@policies/train/x.lua"

/* --- workspace fixture -------------------------------------------------------- */

static char base[64];  /* temp dir: ws/ and outside.txt */
static char root[128]; /* the workspace */
static mlg_ws *ws;

static void mk(const char *rel, const char *text)
{
  char p[512];
  FILE *f;
  snprintf(p, sizeof p, "%s/%s", root, rel);
  f = fopen(p, "wb");
  assert_non_null(f);
  fwrite(text, 1, strlen(text), f);
  fclose(f);
}

static const char a_yml[] = "name: demo\n"                    /* 1 */
                            "on:\n"                           /* 2 */
                            "  push:\n"                       /* 3 */
                            "    branches: [main, 'dev']\n"   /* 4 */
                            "empty:\n"                        /* 5 */
                            "tilde: ~\n"                      /* 6 */
                            "list:\n"                         /* 7 */
                            "  - one\n"                       /* 8 */
                            "  - two: 2\n"                    /* 9 */
                            "base: &b {x: 1, y: \"q\"}\n"     /* 10 */
                            "copy: *b\n"                      /* 11 */
                            "tagged: !reference [a, b]\n"     /* 12 */
                            "text: |\n"                       /* 13 */
                            "  multi\n"                       /* 14 */
                            "  line\n";                       /* 15 */

static const char x_py[] = "import torch\n"
                           "\n"
                           "def load(p):\n"
                           "    model = torch.load(p)   # unsafe\n"
                           "\treturn  model\r\n"
                           "last line without newline";

static int setup_ws(void **state)
{
  char p[512];
  mlg_err e;
  FILE *f;

  strcpy(base, "/tmp/mlg_luaapi_XXXXXX");
  if (!mkdtemp(base))
    return -1;
  snprintf(root, sizeof root, "%s/ws", base);
  mkdir(root, 0755);
  snprintf(p, sizeof p, "%s/src", root);
  mkdir(p, 0755);
  snprintf(p, sizeof p, "%s/sub", root);
  mkdir(p, 0755);
  mk("a.yml", a_yml);
  mk("data.json", "{\"b\": 1, \"a\": [true, null, 2.5], \"c\": {\"d\": \"e\"}}");
  mk("src/x.py", x_py);
  mk("sub/deep.txt", "deep\n");
  mk("bad.yml", "key: [unclosed\n");
  snprintf(p, sizeof p, "%s/outside.txt", base);
  f = fopen(p, "w");
  fputs("secret outside the workspace\n", f);
  fclose(f);
  snprintf(p, sizeof p, "%s/link_out", root);
  if (symlink("../outside.txt", p) != 0)
    return -1;
  snprintf(p, sizeof p, "%s/link_abs", root);
  if (symlink("/etc/hostname", p) != 0)
    return -1;
  snprintf(p, sizeof p, "%s/link_in", root);
  if (symlink("a.yml", p) != 0)
    return -1;
  if (mlg_ws_open(&ws, root, NULL, &e) != 0) {
    fprintf(stderr, "ws: %s\n", e.msg);
    return -1;
  }
  return 0;
}

static int teardown_ws(void **state)
{
  char cmd[128];
  mlg_ws_free(ws);
  snprintf(cmd, sizeof cmd, "rm -rf '%s'", base);
  return system(cmd) == 0 ? 0 : -1;
}

/* --- a sandbox with the API ----------------------------------------------------- */

typedef struct api {
  mlg_sandbox *sb;
  mlg_lua_env env;
  int rfd, wfd;
  mlg_buf pending; /* bytes read from the pipe, not yet split into records */
} api;

static api A;

static int api_setup(void **state)
{
  mlg_sandbox_limits lim = {64 << 20, 50000000};
  int p[2];
  mlg_err e;

  memset(&A, 0, sizeof A);
  if (pipe2(p, O_CLOEXEC) != 0)
    return -1;
  (void)fcntl(p[1], F_SETPIPE_SZ, 1 << 20);
  (void)fcntl(p[0], F_SETFL, O_NONBLOCK);
  A.rfd = p[0];
  A.wfd = p[1];
  if (mlg_sandbox_new(&A.sb, &lim, &e) != 0)
    return -1;
  A.env.ws = ws;
  A.env.cfg = NULL;
  A.env.out_fd = A.wfd;
  A.env.policy_id = "train/x";
  A.env.policy_path = "policies/train/x.lua";
  A.env.gate = MLG_GATE_TRAIN;
  A.env.current = "src/x.py";
  A.env.read_cap = 1 << 20;
  A.env.max_findings = 100;
  if (mlg_lua_api_open(A.sb->L, &A.env, &e) != 0) {
    fprintf(stderr, "api: %s\n", e.msg);
    return -1;
  }
  if (lua_gettop(A.sb->L) != 0)
    return -1;
  /* ctx with params {limit = 3}, as global ctx */
  lua_newtable(A.sb->L);
  lua_pushinteger(A.sb->L, 3);
  lua_setfield(A.sb->L, -2, "limit");
  mlg_lua_push_ctx(A.sb->L, -1);
  lua_setglobal(A.sb->L, "ctx");
  lua_pop(A.sb->L, 1);
  return 0;
}

static int api_teardown(void **state)
{
  mlg_sandbox_free(A.sb);
  mlg_lua_env_release(&A.env);
  close(A.rfd);
  close(A.wfd);
  mlg_buf_free(&A.pending);
  return 0;
}

static int run(const char *code, int nresults, mlg_err *e)
{
  int rc;
  mlg_err_clear(e);
  rc = mlg_sandbox_load(A.sb, code, strlen(code), CHUNK, e);
  if (rc == 0)
    rc = mlg_sandbox_call(A.sb, 0, nresults, NULL, 0, e);
  return rc;
}

/* Runs code returning one value and gives it back as a string (nil ->
 * "nil", booleans -> "true"/"false"). */
static const char *eval(const char *code)
{
  static char out[8192];
  mlg_err e;
  int rc = run(code, 1, &e);
  if (rc != 0)
    fail_msg("code failed (%d): %s\n--- code:\n%s", rc, e.msg, code);
  snprintf(out, sizeof out, "%s", luaL_tolstring(A.sb->L, -1, NULL));
  lua_pop(A.sb->L, 2);
  if (getenv("MLG_TEST_DUMP"))
    fprintf(stderr, "[%s]\n", out);
  return out;
}

/* Runs code that must raise; returns the message. */
static const char *raises(const char *code)
{
  static char out[2048];
  mlg_err e;
  int rc = run(code, 0, &e);
  if (rc == 0)
    fail_msg("code did not raise:\n%s", code);
  snprintf(out, sizeof out, "%s", e.msg);
  if (getenv("MLG_TEST_DUMP"))
    fprintf(stderr, "[raised: %s]\n", out);
  return out;
}

/* The records sent since the last call, as parsed documents (NULL
 * terminated, caller frees with free_records). */
static mlg_doc **records(size_t *count)
{
  char chunk[65536];
  mlg_doc **out = calloc(1024, sizeof *out);
  size_t n = 0, start = 0, i;
  ssize_t got;

  assert_non_null(out);
  while ((got = read(A.rfd, chunk, sizeof chunk)) > 0)
    mlg_buf_put(&A.pending, chunk, (size_t)got);
  for (i = 0; i < A.pending.len; i++) {
    mlg_err e;
    if (A.pending.ptr[i] != '\n')
      continue;
    if (n < 1023 && mlg_json_parse(&out[n], A.pending.ptr + start, i - start, "record", NULL,
                                   &e) != 0)
      fail_msg("record is not JSON: %s: %.*s", e.msg, (int)(i - start), A.pending.ptr + start);
    if (getenv("MLG_TEST_DUMP"))
      fprintf(stderr, "record: %.*s\n", (int)(i - start), A.pending.ptr + start);
    n++;
    start = i + 1;
  }
  assert_int_equal(start, A.pending.len); /* every record is a whole line */
  mlg_buf_clear(&A.pending);
  *count = n;
  return out;
}

static void free_records(mlg_doc **r)
{
  size_t i;
  for (i = 0; r && r[i]; i++)
    mlg_doc_free(r[i]);
  free(r);
}

static void drain(void)
{
  size_t n;
  free_records(records(&n));
}

static const char *rstr(const mlg_doc *d, const char *key)
{
  const mlg_node *n = mlg_map_get(d->root, key);
  if (!n)
    return NULL;
  assert_int_equal(n->type, MLG_STR);
  return n->u.str.ptr;
}

static int64_t rec_int(const mlg_doc *d, const char *key)
{
  const mlg_node *n = mlg_map_get(d->root, key);
  if (!n)
    return -999;
  assert_int_equal(n->type, MLG_INT);
  return n->u.integer;
}

/* Runs code and returns its single record. */
static mlg_doc *one_record(const char *code)
{
  mlg_err e;
  mlg_doc **r;
  mlg_doc *d;
  size_t n;
  int rc = run(code, 0, &e);
  if (rc != 0)
    fail_msg("code failed (%d): %s\n--- code:\n%s", rc, e.msg, code);
  r = records(&n);
  if (n != 1)
    fail_msg("expected one record, got %zu\n--- code:\n%s", n, code);
  d = r[0];
  r[0] = NULL;
  free_records(r);
  return d;
}

/* --- yaml / pos / keys -------------------------------------------------------- */

/* Lua helper: position as "L:C-EL:EC style [kKL:KC] [tag]" */
#define P_FN                                                                          \
  "local function P(p)\n"                                                             \
  "  if not p then return 'nil' end\n"                                                \
  "  local s = p.line .. ':' .. p.column .. '-' .. p.end_line .. ':' .. p.end_column\n" \
  "  s = s .. ' ' .. (p.style or '-') .. ' @' .. p.offset\n"                           \
  "  if p.key_line then s = s .. ' k' .. p.key_line .. ':' .. p.key_column end\n"      \
  "  if p.tag then s = s .. ' ' .. p.tag end\n"                                        \
  "  return s\n"                                                                       \
  "end\n"

static void test_yaml_values(void **state)
{
  assert_string_equal(eval("local t = mlgate.yaml.load('a.yml')\n"
                           "return table.concat({t.name, tostring(t.on.push.branches[1]),\n"
                           "  t.on.push.branches[2], #t.on.push.branches, #t.list, t.list[1],\n"
                           "  math.type(t.list[2].two), t.base.x, t.base.y, t.text,\n"
                           "  t.tagged[2]}, '|')"),
                      "demo|main|dev|2|2|one|integer|1|q|multi\nline\n|b");
  /* null values are present, as mlgate.null */
  assert_string_equal(eval("local t = mlgate.yaml.load('a.yml')\n"
                           "return tostring(t.empty == mlgate.null) .. tostring(t.tilde == "
                           "mlgate.null) .. tostring(mlgate.isnull(t.empty)) .. "
                           "tostring(mlgate.isnull(nil)) .. tostring(mlgate.isnull(false)) .. "
                           "tostring(t.missing)"),
                      "truetruetruefalsefalsenil");
  /* an alias is the same table as its anchor */
  assert_string_equal(eval("local t = mlgate.yaml.load('a.yml')\n"
                           "return tostring(rawequal(t.base, t.copy))"),
                      "true");
  /* parse from a string, name for errors */
  assert_string_equal(eval("local v, err = mlgate.yaml.parse('a: [1, 2', {name = 'x.yml'})\n"
                           "return tostring(v) .. ' ' .. err"),
                      "nil x.yml:2:1: did not find expected ',' or ']' (while parsing a flow "
                      "sequence at line 1, column 4)");
  assert_string_equal(eval("local v, err = mlgate.yaml.parse('a: [1, 2')\n"
                           "return err:sub(1, 9)"),
                      "<string>:");
  assert_string_equal(eval("local v, err = mlgate.yaml.load('bad.yml') return err:sub(1, 8)"),
                      "bad.yml:");
  assert_string_equal(eval("local v, err = mlgate.yaml.load('nope.yml') return tostring(v) .. "
                           "' ' .. err"),
                      "nil cannot open 'nope.yml': no such file in the workspace");
  /* empty document: null */
  assert_string_equal(eval("return tostring(mlgate.yaml.parse('') == mlgate.null)"), "true");
  /* every document of a stream */
  assert_string_equal(eval("local d = mlgate.yaml.parse('a: 1\\n---\\nb: 2\\n', {all = true})\n"
                           "return #d .. d[1].a .. d[2].b"),
                      "212");
  assert_string_equal(eval("local d = mlgate.yaml.parse('a: 1\\n---\\nb: 2\\n')\n"
                           "return tostring(d.a) .. tostring(d.b)"),
                      "1nil");
  /* duplicates refused unless asked for */
  assert_string_equal(eval("local v, e = mlgate.yaml.parse('a: 1\\na: 2\\n') return tostring(v)"),
                      "nil");
  assert_string_equal(eval("return mlgate.yaml.parse('a: 1\\na: 2\\n', {duplicates = true}).a"),
                      "2");
  /* merge keys only when asked for */
  assert_string_equal(eval("local y = 'b: &b {x: 1}\\nc:\\n  <<: *b\\n  y: 2\\n'\n"
                           "local m = mlgate.yaml.parse(y, {merge = true})\n"
                           "local n = mlgate.yaml.parse(y)\n"
                           "return tostring(m.c.x) .. tostring(n.c.x) .. tostring(n.c['<<'] ~= nil)"),
                      "1niltrue");
}

static void test_yaml_positions(void **state)
{
  /* a.yml byte offsets of the lines: 0, 11, 15, 23, 51, 58, 67, 73, 81, 92,
   * 116, 125, 151, 159, 167; end columns are exclusive; a collection ends
   * where its last child ends */
  const char *got = eval(P_FN
                         "local t = mlgate.yaml.load('a.yml')\n"
                         "return table.concat({\n"
                         "  P(mlgate.pos(t, 'name')),\n"
                         "  P(mlgate.pos(t, 'on')),\n"
                         "  P(mlgate.pos(t.on.push, 'branches')),\n"
                         "  P(mlgate.pos(t.on.push.branches, 1)),\n"
                         "  P(mlgate.pos(t.on.push.branches, 2)),\n"
                         "  P(mlgate.pos(t, 'empty')),\n"
                         "  P(mlgate.pos(t, 'tilde')),\n"
                         "  P(mlgate.pos(t.list, 1)),\n"
                         "  P(mlgate.pos(t.list, 2)),\n"
                         "  P(mlgate.pos(t.list[2], 'two')),\n"
                         "  P(mlgate.pos(t, 'base')),\n"
                         "  P(mlgate.pos(t, 'copy')),\n"
                         "  P(mlgate.pos(t, 'tagged')),\n"
                         "  P(mlgate.pos(t, 'text')),\n"
                         "}, '\\n')");
  assert_string_equal(got, "1:7-1:11 plain @6 k1:1\n"
                           "3:3-4:28 block @17 k2:1\n"
                           "4:15-4:28 flow @37 k4:5\n"
                           "4:16-4:20 plain @38\n"
                           "4:22-4:27 single @44\n"
                           /* a key with no value: zero-width, right after the colon */
                           "5:7-5:7 plain @57 k5:1\n"
                           "6:8-6:9 plain @65 k6:1\n"
                           "8:5-8:8 plain @77\n"
                           "9:5-9:11 block @85\n"
                           "9:10-9:11 plain @90 k9:5\n"
                           /* the anchored node, its properties included */
                           "10:7-10:24 flow @98 k10:1\n"
                           /* an alias is its anchor's node; the key is where it was used */
                           "10:7-10:24 flow @98 k11:1\n"
                           "12:9-12:26 flow @133 k12:1 !reference\n"
                           "13:7-16:1 literal @157 k13:1");
}

/* mlgate.pos(t) without a key: the position of t itself (documented in the
 * SDK summary and lua_api_doc.c). */
static void test_pos_without_key(void **state)
{
  assert_string_equal(eval(P_FN "local t = mlgate.yaml.load('a.yml')\n"
                                "return P(mlgate.pos(t.on.push.branches))"),
                      "4:15-4:28 flow @37");
  assert_string_equal(eval(P_FN "local t = mlgate.yaml.load('a.yml')\n"
                                "return P(mlgate.pos(t.list[2]))"),
                      "9:5-9:11 block @85");
  assert_string_equal(eval("local p = mlgate.pos(mlgate.yaml.load('a.yml'))\n"
                           "return p and (p.line .. ':' .. p.column .. ' ' .. p.style .. ' @' .. "
                           "p.offset) or 'nil'"),
                      "1:1 block @0");
}

static void test_pos_misses(void **state)
{
  /* not a parsed table, unknown keys, wrong key types */
  assert_string_equal(eval("local t = mlgate.yaml.load('a.yml')\n"
                           "return tostring((mlgate.pos({}))) .. tostring((mlgate.pos(t, 'nope'))) ..\n"
                           "  tostring((mlgate.pos(t.list, 3))) .. tostring((mlgate.pos(t.list, 0))) ..\n"
                           "  tostring((mlgate.pos(t.list, 'x'))) .. tostring((mlgate.pos(t, true))) ..\n"
                           "  tostring((mlgate.pos('str'))) .. tostring((mlgate.pos(nil)))"),
                      "nilnilnilnilnilnilnilnil");
  /* a table built by the policy from parsed values has no positions */
  assert_string_equal(eval("local t = mlgate.yaml.load('a.yml')\n"
                           "local copy = {} for k, v in pairs(t) do copy[k] = v end\n"
                           "return tostring((mlgate.pos(copy, 'name'))) .. ' ' .. "
                           "tostring(mlgate.pos(copy.on, 'push') ~= nil)"),
                      "nil true");
  /* editing the table does not move positions or break pos */
  assert_string_equal(eval(P_FN "local t = mlgate.yaml.load('a.yml')\n"
                                "t.name = nil t.added = 1\n"
                                "return P(mlgate.pos(t, 'name')) .. ' ' .. "
                                "tostring((mlgate.pos(t, 'added')))"),
                      "1:7-1:11 plain @6 k1:1 nil");
}

static void test_keys_order(void **state)
{
  assert_string_equal(eval("local t = mlgate.yaml.load('a.yml')\n"
                           "return table.concat(mlgate.keys(t), ',')"),
                      "name,on,empty,tilde,list,base,copy,tagged,text");
  assert_string_equal(eval("local t = mlgate.json.parse('{\"z\": 1, \"a\": 2, \"m\": 3}')\n"
                           "return table.concat(mlgate.keys(t), ',')"),
                      "z,a,m");
  /* not parsed: sorted, numbers before strings */
  assert_string_equal(eval("return table.concat(mlgate.keys({b = 1, a = 2, [2] = 0, [1] = 0, "
                           "[true] = 1}), ',')"),
                      "1,2,a,b");
  /* the copy cannot change the recorded order */
  assert_string_equal(eval("local t = mlgate.json.parse('{\"z\": 1, \"a\": 2}')\n"
                           "local k = mlgate.keys(t) k[1] = 'changed'\n"
                           "return table.concat(mlgate.keys(t), ',')"),
                      "z,a");
  assert_string_equal(eval("local t = mlgate.yaml.load('a.yml') local out = {}\n"
                           "for k, v in mlgate.spairs(t.on.push) do out[#out + 1] = k end\n"
                           "for k, v in mlgate.spairs({c = 1, b = 2}) do out[#out + 1] = k .. v end\n"
                           "return table.concat(out, ',')"),
                      "branches,b2,c1");
}

/* --- json ---------------------------------------------------------------------- */

static void test_json_parse(void **state)
{
  assert_string_equal(eval("local t = mlgate.json.load('data.json')\n"
                           "return table.concat({t.b, tostring(t.a[1]), tostring(t.a[2] == "
                           "mlgate.null), t.a[3], t.c.d, #t.a, math.type(t.b)}, '|')"),
                      "1|true|true|2.5|e|3|integer");
  assert_string_equal(eval("local v, e = mlgate.json.parse('{\"a\": 1,}', {name = 'x.json'})\n"
                           "return tostring(v) .. ' ' .. e:sub(1, 7)"),
                      "nil x.json:");
  assert_string_equal(eval(P_FN "local t = mlgate.json.parse('{\\n  \"k\": [1, \"s\"]\\n}')\n"
                                "return P(mlgate.pos(t, 'k')) .. '|' .. P(mlgate.pos(t.k, 2))"),
                      "2:8-2:16 flow @9 k2:3|2:12-2:15 double @13");
}

static void test_json_encode(void **state)
{
  assert_string_equal(eval("return mlgate.json.encode({b = 1, a = {3, 2, 1}, c = {x = "
                           "mlgate.null, y = false}, d = 'q\"\\n'})"),
                      "{\"a\":[3,2,1],\"b\":1,\"c\":{\"x\":null,\"y\":false},\"d\":\"q\\\"\\n\"}");
  assert_string_equal(eval("return mlgate.json.encode({})"), "{}");
  assert_string_equal(eval("return mlgate.json.encode({[1] = 'a', [3] = 'c'})"),
                      "{\"1\":\"a\",\"3\":\"c\"}");
  assert_string_equal(eval("return mlgate.json.encode({1, 2, x = 3})"),
                      "{\"1\":1,\"2\":2,\"x\":3}");
  assert_string_equal(eval("return mlgate.json.encode(1.5) .. mlgate.json.encode(0/0) .. "
                           "mlgate.json.encode(nil) .. mlgate.json.encode('s')"),
                      "1.5nullnull\"s\"");
  assert_string_equal(eval("return mlgate.json.encode({a = {b = 1}}, {pretty = true})"),
                      "{\n  \"a\": {\n    \"b\": 1\n  }\n}");
  /* round trip keeps document order of parsed tables? no: encode sorts */
  assert_string_equal(eval("return mlgate.json.encode(mlgate.json.parse('{\"z\":1,\"a\":2}'))"),
                      "{\"a\":2,\"z\":1}");
  /* errors */
  assert_string_equal(raises("mlgate.json.encode({f = function() end})"),
                      "policies/train/x.lua:1: cannot convert a function value");
  assert_string_equal(raises("local t = {} t.self = t mlgate.json.encode(t)"),
                      "policies/train/x.lua:1: value nested more than 64 levels deep (or cyclic)");
  assert_string_equal(raises("mlgate.json.encode({[true] = 1})"),
                      "policies/train/x.lua:1: cannot convert a table with boolean keys");
  assert_non_null(strstr(raises("mlgate.json.encode()"), "bad argument #1 to 'encode'"));
}

/* --- fs ---------------------------------------------------------------------------- */

static void test_fs_read_list_stat(void **state)
{
  assert_string_equal(eval("return mlgate.fs.read('sub/deep.txt')"), "deep\n");
  assert_string_equal(eval("return mlgate.fs.read('./sub/../sub/deep.txt')"), "deep\n");
  assert_string_equal(eval("return mlgate.fs.read('link_in'):sub(1, 10)"), "name: demo");
  assert_string_equal(eval("local v, e = mlgate.fs.read('sub/deep.txt', 2) return tostring(v) "
                           ".. '|' .. tostring(e ~= nil)"),
                      "nil|true");
  assert_string_equal(eval("return table.concat(mlgate.fs.list(), ',')"),
                      "a.yml,bad.yml,data.json,link_in,src/x.py,sub/deep.txt");
  assert_string_equal(eval("return table.concat(mlgate.fs.list('**/*.py'), ',')"), "src/x.py");
  assert_string_equal(eval("return table.concat(mlgate.fs.list({'*.yml', '*.json'}), ',')"),
                      "a.yml,bad.yml,data.json");
  assert_string_equal(eval("return #mlgate.fs.list('nothing/*')"), "0");
  {
    /* without arguments inside a policy: its own `files` globs */
    char *items[] = {"*.yml", "sub/**"};
    mlg_globs g = {items, 2};
    A.env.files = &g;
    assert_string_equal(eval("return table.concat(mlgate.fs.list(), ',')"),
                        "a.yml,bad.yml,sub/deep.txt");
    assert_string_equal(eval("return table.concat(mlgate.fs.list('*.json'), ',')"), "data.json");
    A.env.files = NULL;
  }
  assert_non_null(strstr(raises("mlgate.fs.list('[')"), "fs.list: "));
  assert_non_null(strstr(raises("mlgate.fs.list({1})"), "fs.list: glob 1 is a number"));
  assert_string_equal(eval("local s = mlgate.fs.stat('a.yml') return s.type .. s.size .. "
                           "tostring(s.link)"),
                      "file" "174" "false");
  assert_string_equal(eval("local s = mlgate.fs.stat('sub') return s.type"), "directory");
  assert_string_equal(eval("local s = mlgate.fs.stat('link_in') return s.type .. "
                           "tostring(s.link)"),
                      "filetrue");
  assert_string_equal(eval("return tostring(mlgate.fs.exists('a.yml')) .. "
                           "tostring(mlgate.fs.exists('nope')) .. "
                           "tostring(mlgate.fs.exists('../outside.txt'))"),
                      "truefalsefalse");
  assert_string_equal(eval("return tostring(mlgate.fs.glob('**/*.py', 'a/b/c.py')) .. "
                           "tostring(mlgate.fs.glob('*.py', 'a/b.py'))"),
                      "truefalse");
}

static void test_fs_confinement(void **state)
{
  static const char *const escapes[] = {"/etc/passwd", "../outside.txt", "sub/../../outside.txt",
                                        "link_out", "link_abs", NULL};
  char code[256];
  size_t i;
  for (i = 0; escapes[i]; i++) {
    snprintf(code, sizeof code,
             "local v, e = mlgate.fs.read('%s') return tostring(v) .. '|' .. tostring(e)",
             escapes[i]);
    const char *got = eval(code);
    if (strncmp(got, "nil|refusing '", 14) != 0)
      fail_msg("fs.read('%s') gave %s", escapes[i], got);
    snprintf(code, sizeof code,
             "local v, e = mlgate.fs.stat('%s') return tostring(v) .. '|' .. tostring(e)",
             escapes[i]);
    got = eval(code);
    if (strncmp(got, "nil|", 4) != 0)
      fail_msg("fs.stat('%s') gave %s", escapes[i], got);
    snprintf(code, sizeof code,
             "local v, e = mlgate.hash.sha256_file('%s') return tostring(v) .. '|' .. "
             "tostring(e)",
             escapes[i]);
    got = eval(code);
    if (strncmp(got, "nil|refusing '", 14) != 0)
      fail_msg("hash.sha256_file('%s') gave %s", escapes[i], got);
    snprintf(code, sizeof code,
             "local v, e = mlgate.yaml.load('%s') return tostring(v) .. '|' .. tostring(e)",
             escapes[i]);
    got = eval(code);
    if (strncmp(got, "nil|refusing '", 14) != 0)
      fail_msg("yaml.load('%s') gave %s", escapes[i], got);
  }
  assert_string_equal(eval("local v, e = mlgate.fs.read('link_out') return e"),
                      "refusing 'link_out': symlink to a target outside the workspace");
  assert_string_equal(eval("local v, e = mlgate.fs.read('/etc/passwd') return e"),
                      "refusing '/etc/passwd': absolute paths are not allowed in the workspace");
  assert_string_equal(eval("local v, e = mlgate.fs.read('../outside.txt') return e"),
                      "refusing '../outside.txt': it leaves the workspace");
  /* an embedded NUL must not cut a path short ('a.yml\0../x' is not 'a.yml') */
  assert_string_equal(raises("mlgate.fs.read('a.yml\\0/../../x')"),
                      "policies/train/x.lua:1: bad argument #1 to 'read' (path contains a NUL "
                      "byte)");
  assert_non_null(strstr(raises("mlgate.fs.stat('a.yml\\0x')"), "path contains a NUL byte"));
  assert_non_null(strstr(raises("mlgate.fs.exists('a.yml\\0x')"), "path contains a NUL byte"));
  assert_non_null(strstr(raises("mlgate.hash.sha256_file('a.yml\\0x')"),
                         "path contains a NUL byte"));
  assert_non_null(strstr(raises("mlgate.yaml.load('a.yml\\0x')"), "path contains a NUL byte"));
  assert_non_null(strstr(raises("mlgate.json.load('data.json\\0x')"), "path contains a NUL byte"));
  assert_non_null(strstr(raises("ctx:error('m', 'a.yml\\0x')"), "path contains a NUL byte"));
  /* escaping links are not listed */
  assert_null(strstr(eval("return table.concat(mlgate.fs.list(), ',')"), "link_out"));
}

/* --- hash ---------------------------------------------------------------------------- */

static void test_hash(void **state)
{
  char code[256], expect[128];
  unsigned char md[MLG_SHA256_LEN];
  char hex[MLG_SHA256_HEX];

  assert_string_equal(eval("return mlgate.hash.sha256('abc')"),
                      "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad");
  assert_string_equal(eval("return mlgate.hash.sha256('')"),
                      "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855");
  mlg_sha256_buf(md, a_yml, strlen(a_yml));
  mlg_hex(hex, md, sizeof md);
  snprintf(expect, sizeof expect, "%s %zu", hex, strlen(a_yml));
  snprintf(code, sizeof code, "local h, n = mlgate.hash.sha256_file('a.yml') return h .. ' ' .. n");
  assert_string_equal(eval(code), expect);
  assert_string_equal(eval("local h, e = mlgate.hash.sha256_file('sub') return tostring(h) .. "
                           "'|' .. e"),
                      "nil|refusing 'sub': a directory, not a regular file");
}

/* --- re ------------------------------------------------------------------------------ */

static void test_re(void **state)
{
  assert_string_equal(eval("local r = mlgate.re.compile([[torch\\.load\\s*\\(]])\n"
                           "local s, e = r:find('x = torch.load (p)')\n"
                           "return s .. ',' .. e"),
                      "5,16");
  assert_string_equal(eval("local s, e, a, b = mlgate.re.find('key=val', '(\\\\w+)=(\\\\w+)')\n"
                           "return table.concat({s, e, a, b}, ',')"),
                      "1,7,key,val");
  assert_string_equal(eval("return tostring(mlgate.re.find('abc', 'x'))"), "nil");
  assert_string_equal(eval("return mlgate.re.match('v1.2.3', '\\\\d+\\\\.\\\\d+')"), "1.2");
  assert_string_equal(eval("local a, b = mlgate.re.match('k: v', '(\\\\w+): (\\\\w+)') "
                           "return a .. b"),
                      "kv");
  /* optional group unset: false (luaL_pushfail) */
  assert_string_equal(eval("local a, b = mlgate.re.match('ab', '(a)(x)?b') return a .. "
                           "tostring(b)"),
                      "anil");
  assert_string_equal(eval("return tostring(mlgate.re.test('Hello', 'hello')) .. "
                           "tostring(mlgate.re.test('Hello', 'hello', 'i'))"),
                      "falsetrue");
  /* init, negative init */
  assert_string_equal(eval("return mlgate.re.find('abcabc', 'b', 3) .. ',' .. "
                           "mlgate.re.find('abcabc', 'b', -2)"),
                      "5,5");
  assert_string_equal(eval("return tostring(mlgate.re.find('abc', 'a', 10))"), "nil");
  /* gmatch / gfind, with captures and empty matches */
  assert_string_equal(eval("local out = {}\n"
                           "for w in mlgate.re.gmatch('one two  three', '\\\\w+') do out[#out+1] = w end\n"
                           "for k, v in mlgate.re.compile('(\\\\w)=(\\\\d)'):gmatch('a=1,b=2') do\n"
                           "  out[#out+1] = k .. v end\n"
                           "for s, e in mlgate.re.gfind('aXbX', 'X') do out[#out+1] = s .. '-' .. e end\n"
                           "local n = 0 for s, e in mlgate.re.gfind('abc', 'x*') do n = n + 1 end\n"
                           "out[#out+1] = n\n"
                           "return table.concat(out, ',')"),
                      "one,two,three,a1,b2,2-2,4-4,4");
  /* flags */
  assert_string_equal(eval("return tostring(mlgate.re.test('a\\nb', '^b$')) .. "
                           "tostring(mlgate.re.test('a\\nb', '^b$', 'm')) .. "
                           "tostring(mlgate.re.test('a\\nb', 'a.b')) .. "
                           "tostring(mlgate.re.test('a\\nb', 'a.b', 's')) .. "
                           "tostring(mlgate.re.test('ab', 'a b # comment', 'x'))"),
                      "falsetruefalsetruetrue");
  assert_string_equal(eval("return mlgate.re.compile('.', 'u'):match('\\xc3\\xa9x')"), "\xc3\xa9");
  assert_string_equal(raises("mlgate.re.compile('a', 'q')"),
                      "policies/train/x.lua:1: unknown regex flag 'q' (use i, m, s, x, u)");
  assert_non_null(strstr(raises("mlgate.re.compile('(a')"), "regex offset"));
  assert_non_null(strstr(raises("mlgate.re.find('abc', '[')"), "regex offset"));
  /* the regex metatable is hidden */
  assert_string_equal(eval("return tostring(getmetatable(mlgate.re.compile('a')))"), "false");
}

static void test_re_limit_raises(void **state)
{
  const char *msg;
  /* catastrophic backtracking must raise, never read as "no match" */
  msg = raises("local s = string.rep('a', 40) .. 'b'\n"
               "return mlgate.re.find(s, '^(a+)+$')");
  assert_non_null(strstr(msg, "policies/train/x.lua:2: "));
  assert_non_null(strstr(msg, "limit"));
  /* pcall can see it, but the result is an error, not nil */
  assert_string_equal(eval("local s = string.rep('a', 40) .. 'b'\n"
                           "local ok, e = pcall(mlgate.re.test, s, '^(a|aa)+$')\n"
                           "return tostring(ok)"),
                      "false");
}

/* --- log -------------------------------------------------------------------------------- */

static void test_log_records(void **state)
{
  mlg_doc **r;
  size_t n;
  mlg_err e;

  drain();
  assert_int_equal(run("mlgate.log.info('loaded %d files from %s', 3, 'src')\n"
                       "mlgate.log.warn('plain')\n"
                       "mlgate.log.debug({})\n"
                       "print('a', 1, nil, true)\n"
                       "print()\n"
                       "mlgate.log.info('line\\nbreak \\27[31m')\n",
                       0, &e),
                   0);
  r = records(&n);
  assert_int_equal(n, 6);
  assert_string_equal(rstr(r[0], "t"), "log");
  assert_string_equal(rstr(r[0], "level"), "info");
  assert_string_equal(rstr(r[0], "message"), "loaded 3 files from src");
  assert_string_equal(rstr(r[1], "level"), "warn");
  assert_string_equal(rstr(r[1], "message"), "plain");
  assert_string_equal(rstr(r[2], "level"), "debug");
  assert_memory_equal(rstr(r[2], "message"), "table: ", 7);
  assert_string_equal(rstr(r[3], "level"), "info");
  assert_string_equal(rstr(r[3], "message"), "a\t1\tnil\ttrue");
  assert_string_equal(rstr(r[4], "message"), "");
  /* the raw text travels; the parent sanitises when printing */
  assert_string_equal(rstr(r[5], "message"), "line\nbreak \033[31m");
  free_records(r);

  /* long messages are cut at 4096 bytes */
  assert_int_equal(run("mlgate.log.info(string.rep('x', 10000))", 0, &e), 0);
  r = records(&n);
  assert_int_equal(n, 1);
  assert_int_equal(strlen(rstr(r[0], "message")), 4096);
  free_records(r);

  /* a bad format is an error of the policy */
  assert_non_null(strstr(raises("mlgate.log.info('%d', 'x')"), "bad argument #2 to 'string.format' (number expected, got string)"));
  drain();
}

static void test_log_record_cap(void **state)
{
  mlg_doc **r;
  size_t n;
  mlg_err e;
  drain();
  /* after 1000 records, logging is silently dropped */
  assert_int_equal(run("for i = 1, 1500 do mlgate.log.info('m %d', i) end", 0, &e), 0);
  r = records(&n);
  assert_int_equal(n, 1000 - 0 /* includes earlier tests' records? no: fresh state */);
  assert_string_equal(rstr(r[999], "message"), "m 1000");
  free_records(r);
}

/* --- ctx:fail ------------------------------------------------------------------------------ */

static void test_fail_record(void **state)
{
  mlg_doc *d;
  const mlg_node *det;

  drain();
  d = one_record("ctx:fail{message = 'torch.load without weights_only', line = 4, column = 13}");
  assert_string_equal(rstr(d, "t"), "finding");
  assert_string_equal(rstr(d, "path"), "src/x.py"); /* the file being checked */
  assert_string_equal(rstr(d, "message"), "torch.load without weights_only");
  assert_string_equal(rstr(d, "gate"), "train");
  assert_int_equal(rec_int(d, "line"), 4);
  assert_int_equal(rec_int(d, "column"), 13);
  assert_int_equal(rec_int(d, "end_line"), 0);
  assert_int_equal(rec_int(d, "end_column"), 0);
  /* snippet: the line trimmed, runs of blanks collapsed */
  assert_string_equal(rstr(d, "snippet"), "model = torch.load(p) # unsafe");
  assert_null(mlg_map_get(d->root, "severity"));
  assert_null(mlg_map_get(d->root, "offset"));
  mlg_doc_free(d);

  /* tab indent and CRLF */
  d = one_record("ctx:fail{message = 'm', line = 5}");
  assert_string_equal(rstr(d, "snippet"), "return model");
  mlg_doc_free(d);
  /* last line without newline; a line past the end has no snippet */
  d = one_record("ctx:fail{message = 'm', line = 6}");
  assert_string_equal(rstr(d, "snippet"), "last line without newline");
  mlg_doc_free(d);
  d = one_record("ctx:fail{message = 'm', line = 60}");
  assert_null(mlg_map_get(d->root, "snippet"));
  mlg_doc_free(d);
  /* an empty line has no snippet */
  d = one_record("ctx:fail{message = 'm', line = 2}");
  assert_null(mlg_map_get(d->root, "snippet"));
  mlg_doc_free(d);

  /* everything */
  d = one_record("ctx:fail{message = 'all', path = './sub//../a.yml', line = 1, column = 7,\n"
                 "  end_line = 1, end_column = 11, member = 'inner/x.pkl', offset = 99,\n"
                 "  severity = 'critical', confidence = 'low', key = 'stable-id',\n"
                 "  details = {module = 'os', names = {'system', 'popen'}, n = 2, z = mlgate.null}}");
  assert_string_equal(rstr(d, "path"), "a.yml");
  assert_string_equal(rstr(d, "member"), "inner/x.pkl");
  assert_int_equal(rec_int(d, "offset"), 99);
  assert_string_equal(rstr(d, "severity"), "critical");
  assert_string_equal(rstr(d, "confidence"), "low");
  assert_string_equal(rstr(d, "key"), "stable-id");
  assert_string_equal(rstr(d, "snippet"), "name: demo");
  assert_int_equal(rec_int(d, "end_column"), 11);
  det = mlg_map_get(d->root, "details");
  assert_non_null(det);
  assert_int_equal(det->type, MLG_MAP);
  assert_string_equal(mlg_node_as_str(mlg_map_get(det, "module"), ""), "os");
  assert_int_equal(mlg_map_get(det, "names")->type, MLG_SEQ);
  assert_int_equal(mlg_map_get(det, "z")->type, MLG_NULL);
  /* sorted keys */
  assert_string_equal(det->u.map.pairs[0].key->u.str.ptr, "module");
  assert_string_equal(det->u.map.pairs[3].key->u.str.ptr, "z");
  mlg_doc_free(d);

  /* at = mlgate.pos(...), explicit fields win */
  d = one_record("local t = mlgate.yaml.load('a.yml')\n"
                 "ctx:fail{message = 'at', path = 'a.yml', at = mlgate.pos(t.on.push, 'branches')}");
  assert_int_equal(rec_int(d, "line"), 4);
  assert_int_equal(rec_int(d, "column"), 15);
  assert_int_equal(rec_int(d, "end_line"), 4);
  assert_int_equal(rec_int(d, "end_column"), 28);
  assert_string_equal(rstr(d, "snippet"), "branches: [main, 'dev']");
  mlg_doc_free(d);
  d = one_record("local t = mlgate.yaml.load('a.yml')\n"
                 "ctx:fail{message = 'at', path = 'a.yml', at = mlgate.pos(t, 'name'), column = 2}");
  assert_int_equal(rec_int(d, "line"), 1);
  assert_int_equal(rec_int(d, "column"), 2);
  assert_int_equal(rec_int(d, "end_column"), 11);
  mlg_doc_free(d);
  /* long messages are cut */
  d = one_record("ctx:fail{message = string.rep('m', 5000)}");
  assert_int_equal(strlen(rstr(d, "message")), 4096);
  mlg_doc_free(d);
}

static void test_fail_validation(void **state)
{
  drain();
  assert_string_equal(raises("ctx:fail{message = 'm', lines = 3}"),
                      "policies/train/x.lua:1: ctx:fail: unknown field 'lines' (expected one of "
                      "message, path, line, column, end_line, end_column, at, member, offset, "
                      "severity, confidence, details, key, aliases)");
  assert_string_equal(raises("ctx:fail{'positional'}"),
                      "policies/train/x.lua:1: ctx:fail: unknown field '?' (expected one of "
                      "message, path, line, column, end_line, end_column, at, member, offset, "
                      "severity, confidence, details, key, aliases)");
  assert_string_equal(raises("ctx:fail{line = 3}"),
                      "policies/train/x.lua:1: ctx:fail: 'message' is required (one sentence: "
                      "what is wrong and why)");
  assert_string_equal(raises("ctx:fail{message = ''}"),
                      "policies/train/x.lua:1: ctx:fail: 'message' is required (one sentence: "
                      "what is wrong and why)");
  assert_string_equal(raises("ctx:fail{message = 42}"),
                      "policies/train/x.lua:1: ctx:fail: 'message' must be a string, got number");
  assert_string_equal(raises("ctx:fail{message = 'm', severity = 'urgent'}"),
                      "policies/train/x.lua:1: ctx:fail: 'severity' must be one of info, low, "
                      "medium, high, critical");
  assert_string_equal(raises("ctx:fail{message = 'm', confidence = 'sure'}"),
                      "policies/train/x.lua:1: ctx:fail: 'confidence' must be one of low, "
                      "medium, high");
  assert_string_equal(raises("ctx:fail{message = 'm', line = -1}"),
                      "policies/train/x.lua:1: ctx:fail: 'line' must be a non-negative integer");
  assert_string_equal(raises("ctx:fail{message = 'm', column = 1.5}"),
                      "policies/train/x.lua:1: ctx:fail: 'column' must be a non-negative "
                      "integer");
  assert_string_equal(raises("ctx:fail{message = 'm', offset = -3}"),
                      "policies/train/x.lua:1: ctx:fail: 'offset' must be a non-negative integer");
  assert_string_equal(raises("ctx:fail{message = 'm', at = 5}"),
                      "policies/train/x.lua:1: ctx:fail: 'at' must be a position from "
                      "mlgate.pos()");
  assert_string_equal(raises("ctx:fail{message = 'm', details = 'x'}"),
                      "policies/train/x.lua:1: ctx:fail: 'details' must be a table");
  assert_string_equal(raises("ctx:fail{message = 'm', details = {f = print}}"),
                      "policies/train/x.lua:1: cannot convert a function value");
  assert_non_null(strstr(raises("ctx:fail{message = 'm', path = '../etc/passwd'}"),
                         "ctx:fail: bad path: refusing '../etc/passwd': it leaves the workspace"));
  assert_non_null(strstr(raises("ctx:fail{message = 'm', path = '/etc/passwd'}"),
                         "ctx:fail: bad path: refusing '/etc/passwd': absolute paths"));
  assert_string_equal(raises("ctx:fail('m')"),
                      "policies/train/x.lua:1: bad argument #1 to 'fail' (table expected, got "
                      "string)");
  /* nothing was sent for any of these */
  {
    size_t n;
    free_records(records(&n));
    assert_int_equal(n, 0);
  }
}

static void test_fail_path_nul(void **state)
{
  /* refused, and named like the other ctx:fail field errors (it reads
   * "bad argument #-2 to 'fail'" today) */
  const char *m = raises("ctx:fail{message = 'm', path = 'a.yml\\0x'}");
  assert_non_null(strstr(m, "NUL"));
  if (!strstr(m, "ctx:fail: 'path'"))
    fail_msg("ctx:fail with a NUL in path: \"%s\" (expected \"ctx:fail: 'path' contains a NUL "
             "byte\" or similar)", m);
}

static void test_fail_path_required_outside_check(void **state)
{
  A.env.current = NULL;
  assert_string_equal(raises("ctx:fail{message = 'm'}"),
                      "policies/train/x.lua:1: ctx:fail: 'path' is required outside a per-file "
                      "check");
  A.env.current = "src/x.py";
}

static void test_fail_limit(void **state)
{
  mlg_doc **r;
  size_t n;
  mlg_err e;

  drain();
  A.env.nfindings = 0;
  A.env.limit_error = 0;
  A.env.max_findings = 5;
  /* max_findings is 5: the sixth raises once, later ones are dropped */
  assert_string_equal(raises("for i = 1, 6 do ctx:fail{message = 'f' .. i} end"),
                      "policies/train/x.lua:1: reported more than 5 findings (limits.findings)");
  assert_int_equal(A.env.limit_error, 1);
  assert_int_equal(run("ctx:fail{message = 'f7'}", 0, &e), 0);
  r = records(&n);
  assert_int_equal(n, 5);
  assert_string_equal(rstr(r[4], "message"), "f5");
  free_records(r);
}

static void test_ctx_fields_and_error(void **state)
{
  mlg_doc *d;
  drain();
  assert_string_equal(eval("return ctx.policy .. ' ' .. ctx.gate .. ' ' .. ctx.params.limit"),
                      "train/x train 3");
  d = one_record("\n"
                 "ctx:error('cannot parse the workflow')");
  assert_string_equal(rstr(d, "t"), "error");
  assert_string_equal(rstr(d, "message"), "cannot parse the workflow");
  assert_string_equal(rstr(d, "path"), "src/x.py");
  assert_string_equal(rstr(d, "where"), "policies/train/x.lua:2");
  assert_string_equal(rstr(d, "gate"), "train");
  mlg_doc_free(d);
  d = one_record("ctx:error('bad', 'a.yml')");
  assert_string_equal(rstr(d, "path"), "a.yml");
  mlg_doc_free(d);
}

/* --- misc ---------------------------------------------------------------------------- */

static void test_misc(void **state)
{
  char today[16], expect[64];
  time_t now = time(NULL);
  struct tm tm;

  gmtime_r(&now, &tm);
  strftime(today, sizeof today, "%Y-%m-%d", &tm);
  assert_string_equal(eval("return mlgate.today()"), today);
  assert_string_equal(eval("local n, k = mlgate.atlas.name('AML.M0016') return k"), "mitigation");
  assert_string_equal(eval("return tostring((mlgate.atlas.name('AML.X')))"), "nil");
  snprintf(expect, sizeof expect, "%s", "5.6.0");
  assert_string_equal(eval("return mlgate.atlas.version"), expect);
  assert_string_equal(eval("return mlgate.path.basename('a/b/c.py') .. ' ' .. "
                           "mlgate.path.dirname('a/b/c.py') .. ' ' .. mlgate.path.ext('c.tar.gz')"),
                      "c.py a/b .gz");
  assert_string_equal(eval("local t = {} for n, l in mlgate.text.lines('a\\nb\\n') do "
                           "t[#t+1] = n .. '=' .. l end return table.concat(t, ',')"),
                      "1=a,2=b");
  assert_string_equal(eval("return mlgate.policy{id = 'x'}.id"), "x");
}

/* Errors raised inside the SDK (lua/mlgate/NAME.lua) must still be located in
 * the policy: `where` is the policy's file:line, not the SDK's. */
static void test_where_is_the_policy_line(void **state)
{
  char where[256];
  mlg_err e;
  int rc;
  static const char code[] = "local x = 1\n"
                             "local p = mlgate.policy(42)\n"
                             "return p\n";

  rc = mlg_sandbox_load(A.sb, code, strlen(code), CHUNK, &e);
  assert_int_equal(rc, 0);
  rc = mlg_sandbox_call(A.sb, 0, 1, where, sizeof where, &e);
  assert_int_equal(rc, MLG_EPOLICY);
  assert_string_equal(e.msg, "policies/train/x.lua:2: mlgate.policy expects a table");
  assert_string_equal(where, "policies/train/x.lua:2");
}

static void test_fs_head_and_range(void **state)
{
  /* a.yml is 174 bytes and starts "name: demo\n"; it ends "  line\n" */
  assert_string_equal(eval("local s, n = mlgate.fs.head('a.yml', 4) return s .. '|' .. n"),
                      "name|174");
  assert_string_equal(eval("return (mlgate.fs.read_range('a.yml', 6, 4))"), "demo");
  assert_string_equal(eval("return (mlgate.fs.read_range('a.yml', -7, 100))"), "  line\n");
  /* short at the end, empty past it, whole file for a large negative offset */
  assert_string_equal(eval("return #mlgate.fs.read_range('a.yml', 170, 100)"), "4");
  assert_string_equal(eval("return #mlgate.fs.read_range('a.yml', 1000, 10)"), "0");
  assert_string_equal(eval("return #mlgate.fs.read_range('a.yml', -1000, 1000)"), "174");
  assert_string_equal(eval("return #mlgate.fs.head('a.yml', 0)"), "0");
  /* same confinement as fs.read */
  assert_non_null(strstr(eval("local v, e = mlgate.fs.head('../outside.txt', 4) return e"),
                         "leaves the workspace"));
  assert_non_null(strstr(eval("local v, e = mlgate.fs.read_range('link_out', 0, 4) return e"),
                         "outside the workspace"));
  assert_non_null(strstr(raises("mlgate.fs.read_range('a.yml', 0, -1)"),
                         "length must not be negative"));
}

static void test_fail_aliases(void **state)
{
  mlg_doc *d;
  const mlg_node *al;
  drain();
  d = one_record("ctx:fail{path = 'a.yml', message = 'm', "
                 "aliases = {'catalog:PIN-IMAGE', 'zizmor:unpinned-images'}}");
  al = mlg_map_get(d->root, "aliases");
  assert_non_null(al);
  assert_int_equal(al->type, MLG_SEQ);
  assert_int_equal(al->u.seq.len, 2);
  assert_string_equal(al->u.seq.items[0]->u.str.ptr, "catalog:PIN-IMAGE");
  mlg_doc_free(d);
  assert_non_null(strstr(raises("ctx:fail{path = 'a.yml', message = 'm', aliases = 'x:y'}"),
                         "'aliases' must be a list"));
  assert_non_null(strstr(raises("ctx:fail{path = 'a.yml', message = 'm', aliases = {'nocolon'}}"),
                         "alias 1 must be \"tool:id\""));
  drain();
}

/* SDK results shared between states (lua_api_share.c): not reachable from
 * policy code; an SDK module's result comes back read-only, with the same
 * data, and the same script gives the same events at their own position. */
static void test_share_private(void **state)
{
  (void)state;
  assert_string_equal(eval("return tostring(rawget(mlgate, 'share')) .. ' ' .. "
                           "tostring(mlgate.share) .. ' ' .. select('#', ...)"),
                      "nil nil 0");
  /* mlcmd (which holds it) works, twice over the same text at two places. */
  assert_string_equal(eval("local P = mlgate.pipeline\n"
                           "local a = {text = 'hf download org/m', line = 3, col = 7}\n"
                           "local b = {text = 'hf download org/m', line = 9, col = 11}\n"
                           "local ea = mlgate.mlcmd.script(a)\n"
                           "local eb = mlgate.mlcmd.script(b)\n"
                           "eb[1].step = 'writable'\n"
                           "return #ea .. ' ' .. ea[1].kind .. ' ' .. ea[1].repo .. ' ' .. ea[1].line "
                           ".. ':' .. ea[1].col .. ' ' .. eb[1].line .. ':' .. eb[1].col"),
                      "1 fetch org/m 3:7 9:11");
}

static void test_share_get_put(void **state)
{
  (void)state;
  mlg_lua_push_share(A.sb->L);
  lua_setglobal(A.sb->L, "S");
  assert_string_equal(eval("return tostring(S.get('t.k'))"), "nil");
  assert_string_equal(eval("local v = S.put('t.k', {a = 1, b = {'x', 'y'}, c = true})\n"
                           "local w = S.get('t.k')\n"
                           "return v.a .. w.b[2] .. tostring(w.c) .. #w.b"),
                      "1ytrue2");
  /* A state may write its copy; the shared value stays as it was. */
  assert_string_equal(eval("local x = S.get('t.k'); x.a = 2; return x.a .. S.get('t.k').a"), "21");
  assert_non_null(strstr(raises("S.put('t.f', {f = print})"), "function"));
  lua_pushnil(A.sb->L);
  lua_setglobal(A.sb->L, "S");
}

#define T(f) cmocka_unit_test_setup_teardown(f, api_setup, api_teardown)

int main(void)
{
  const struct CMUnitTest tests[] = {
    T(test_yaml_values),
    T(test_share_private),
    T(test_share_get_put),
    T(test_yaml_positions),
    T(test_pos_without_key),
    T(test_pos_misses),
    T(test_keys_order),
    T(test_json_parse),
    T(test_json_encode),
    T(test_fs_read_list_stat),
    T(test_fs_confinement),
    T(test_fs_head_and_range),
    T(test_hash),
    T(test_re),
    T(test_re_limit_raises),
    T(test_log_records),
    T(test_log_record_cap),
    T(test_fail_record),
    T(test_fail_validation),
    T(test_fail_path_nul),
    T(test_fail_aliases),
    T(test_fail_path_required_outside_check),
    T(test_fail_limit),
    T(test_ctx_fields_and_error),
    T(test_misc),
    T(test_where_is_the_policy_line),
  };
  alarm(600);
  return cmocka_run_group_tests(tests, setup_ws, teardown_ws);
}
