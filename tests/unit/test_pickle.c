/*
 * Unit tests for the pickle analyser (core/src/pickle*.c). Every input is
 * a hand-assembled byte string, documented next to it with the opcodes it
 * holds (offset: OPCODE argument), or the Python that produced it.
 */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "pickle.h"

#define P(lit) lit, sizeof(lit) - 1

static mlg_pickle_opts *no_opts(void)
{
  static mlg_pickle_opts o;
  memset(&o, 0, sizeof o);
  return &o;
}

static void scan_opts(mlg_pickle_report *r, const void *data, size_t n, const mlg_pickle_opts *o)
{
  mlg_stream s;
  mlg_err err = {0, ""};
  mlg_stream_mem(&s, data, n);
  assert_int_equal(mlg_pickle_scan(r, &s, o, &err), 0);
}

static void scan(mlg_pickle_report *r, const void *data, size_t n)
{
  scan_opts(r, data, n, no_opts());
}

static void expect_import(const mlg_pickle_report *r, size_t i, const char *module,
                          const char *name, uint64_t offset, int called, mlg_pickle_via via)
{
  assert_true(i < r->nimports);
  assert_string_equal(r->imports[i].module, module);
  assert_string_equal(r->imports[i].name, name);
  assert_int_equal(r->imports[i].offset, offset);
  assert_int_equal(r->imports[i].called, called);
  assert_int_equal(r->imports[i].via, via);
}

static void expect_clean(const mlg_pickle_report *r)
{
  if (r->error)
    fail_msg("unexpected error at %llu: %s", (unsigned long long)r->error_offset, r->error_msg);
}

static void expect_error(const mlg_pickle_report *r, int code, uint64_t offset, const char *msg)
{
  assert_int_equal(r->error, code);
  assert_int_equal(r->error_offset, offset);
  if (!strstr(r->error_msg, msg))
    fail_msg("error message \"%s\" lacks \"%s\"", r->error_msg, msg);
}

/* ---- the import opcodes ------------------------------------------------- */

static void test_global_reduce(void **state)
{
  /* 0: GLOBAL 'os system'  11: MARK  12: STRING 'ls'  18: TUPLE  19: REDUCE
   * 20: STOP */
  mlg_pickle_report r;
  (void)state;
  scan(&r, P("cos\nsystem\n(S'ls'\ntR."));
  expect_clean(&r);
  assert_int_equal(r.nimports, 1);
  expect_import(&r, 0, "os", "system", 0, 1, MLG_PK_GLOBAL);
  assert_int_equal(r.imports[0].resolved, 1);
  assert_int_equal(r.imports[0].depth, 0);
  assert_int_equal(r.npickles, 1);
  assert_int_equal(r.bytes, 21);
  assert_int_equal(r.opcodes, 6);
  assert_int_equal(r.max_protocol, 0);
  mlg_pickle_report_free(&r);
}

static void test_global_not_called(void **state)
{
  /* GLOBAL pushed and returned, never invoked */
  mlg_pickle_report r;
  (void)state;
  scan(&r, P("\x80\x02" "cbuiltins\neval\n."));
  expect_clean(&r);
  expect_import(&r, 0, "builtins", "eval", 2, 0, MLG_PK_GLOBAL);
  assert_int_equal(r.max_protocol, 2);
  mlg_pickle_report_free(&r);
}

static void test_stack_global(void **state)
{
  /* 0: PROTO 4  2: SHORT_BINUNICODE 'os'  6: MEMOIZE  7: SHORT_BINUNICODE
   * 'system'  15: MEMOIZE  16: STACK_GLOBAL  17: MEMOIZE  18:
   * SHORT_BINUNICODE 'ls'  22: TUPLE1  23: REDUCE  24: STOP */
  mlg_pickle_report r;
  (void)state;
  scan(&r, P("\x80\x04\x8c\x02os\x94\x8c\x06system\x94\x93\x94\x8c\x02ls\x85R."));
  expect_clean(&r);
  assert_int_equal(r.nimports, 1);
  expect_import(&r, 0, "os", "system", 16, 1, MLG_PK_STACK_GLOBAL);
  assert_int_equal(r.imports[0].resolved, 1);
  mlg_pickle_report_free(&r);
}

static void test_stack_global_memo_trick(void **state)
{
  /* picklescan issue #22 style: names go through the memo and are popped
   * before use. 0: UNICODE 'os' 4: PUT 0 7: POP 8: UNICODE 'system'
   * 16: PUT 1 19: POP 20: GET 0 23: GET 1 26: STACK_GLOBAL 27: UNICODE 'id'
   * 31: TUPLE1 32: REDUCE 33: STOP */
  mlg_pickle_report r;
  (void)state;
  scan(&r, P("Vos\np0\n0Vsystem\np1\n0g0\ng1\n\x93Vid\n\x85R."));
  expect_clean(&r);
  assert_int_equal(r.nimports, 1);
  expect_import(&r, 0, "os", "system", 26, 1, MLG_PK_STACK_GLOBAL);
  mlg_pickle_report_free(&r);
}

static void test_memoize_numbering(void **state)
{
  /* MEMOIZE stores at the number of filled slots (_Unpickler_MemoPut):
   * BINPUT 7 fills one slot, so the MEMOIZE of 'system' goes to index 1.
   * 0: PROTO 4 2: SHORT_BINUNICODE 'os' 6: BINPUT 7 8: POP
   * 9: SHORT_BINUNICODE 'system' 17: MEMOIZE 18: POP 19: BINGET 7
   * 21: BINGET 1 23: STACK_GLOBAL 24: STOP */
  mlg_pickle_report r;
  (void)state;
  scan(&r, P("\x80\x04\x8c\x02osq\x07" "0\x8c\x06system\x94" "0h\x07h\x01\x93."));
  expect_clean(&r);
  expect_import(&r, 0, "os", "system", 23, 0, MLG_PK_STACK_GLOBAL);
  mlg_pickle_report_free(&r);
}

static void test_stack_global_unresolved(void **state)
{
  /* The module name is what a call returned (getattr(...)): unresolved.
   * 0: GLOBAL 'builtins getattr' 18: GLOBAL 'builtins str' 32: UNICODE
   * 'lower' 39: TUPLE2 40: REDUCE 41: UNICODE 'system' 49: STACK_GLOBAL
   * 50: EMPTY_TUPLE 51: REDUCE 52: STOP */
  mlg_pickle_report r;
  (void)state;
  scan(&r, P("cbuiltins\ngetattr\ncbuiltins\nstr\nVlower\n\x86RVsystem\n\x93)R."));
  expect_clean(&r);
  assert_int_equal(r.nimports, 3);
  expect_import(&r, 0, "builtins", "getattr", 0, 1, MLG_PK_GLOBAL);
  expect_import(&r, 1, "builtins", "str", 18, 0, MLG_PK_GLOBAL);
  expect_import(&r, 2, "?", "system", 49, 1, MLG_PK_STACK_GLOBAL);
  assert_int_equal(r.imports[2].resolved, 0);
  mlg_pickle_report_free(&r);
}

static void test_stack_global_requires_str(void **state)
{
  /* An int from the memo as module name: CPython refuses
   * (load_stack_global), after os.system ran. */
  mlg_pickle_report r;
  (void)state;
  scan(&r, P("\x80\x04" "cos\nsystem\nVid\n\x85R0J*\x00\x00\x00\x94\x8c\x02os\x94h\x00h\x01\x93."));
  assert_int_equal(r.nimports, 1);
  expect_import(&r, 0, "os", "system", 2, 1, MLG_PK_GLOBAL);
  expect_error(&r, MLG_EPARSE, 35, "STACK_GLOBAL requires str");
  mlg_pickle_report_free(&r);
}

static void test_dotted_name(void **state)
{
  /* Dotted names are kept whole (find_class with protocol >= 4). */
  mlg_pickle_report r;
  (void)state;
  scan(&r, P("\x80\x04\x8c\x03""bdb\x8c\x07""Bdb.run\x93)R."));
  expect_clean(&r);
  expect_import(&r, 0, "bdb", "Bdb.run", 16, 1, MLG_PK_STACK_GLOBAL);
  mlg_pickle_report_free(&r);
}

static void test_inst(void **state)
{
  /* 0: MARK 1: STRING 'ls' 7: INST 'os system' 18: STOP */
  mlg_pickle_report r;
  (void)state;
  scan(&r, P("(S'ls'\nios\nsystem\n."));
  expect_clean(&r);
  expect_import(&r, 0, "os", "system", 7, 1, MLG_PK_INST);
  mlg_pickle_report_free(&r);
}

static void test_inst_not_ascii(void **state)
{
  /* INST decodes its names as ASCII: no import happens. */
  mlg_pickle_report r;
  (void)state;
  scan(&r, P("(i\xc3\xa9\nsystem\n."));
  assert_int_equal(r.nimports, 0);
  expect_error(&r, MLG_EPARSE, 1, "not ASCII");
  mlg_pickle_report_free(&r);
}

static void test_obj(void **state)
{
  /* OBJ with the callable under the mark: 0: MARK 1: GLOBAL 'os system'
   * 12: STRING 'ls' 18: OBJ 19: STOP */
  mlg_pickle_report r;
  (void)state;
  scan(&r, P("(cos\nsystem\nS'ls'\no."));
  expect_clean(&r);
  expect_import(&r, 0, "os", "system", 1, 1, MLG_PK_GLOBAL);
  mlg_pickle_report_free(&r);
}

static void test_obj_mark_games(void **state)
{
  /* The call's result is popped at once and the mark stack is reused:
   * 0: MARK 1: MARK 2: GLOBAL 'os system' 13: STRING 'id' 19: OBJ
   * 20: POP 21: POP_MARK... POP_MARK needs the outer mark: the stack is
   * empty again, then NONE STOP. */
  mlg_pickle_report r;
  (void)state;
  scan(&r, P("((cos\nsystem\nS'id'\no01N."));
  expect_clean(&r);
  expect_import(&r, 0, "os", "system", 2, 1, MLG_PK_GLOBAL);
  mlg_pickle_report_free(&r);
}

static void test_obj_needs_callable(void **state)
{
  /* OBJ with nothing above its mark: "unpickling stack underflow" with the
   * mark gone (load_obj). */
  mlg_pickle_report r;
  (void)state;
  scan(&r, P("N(o."));
  expect_error(&r, MLG_EPARSE, 2, "unpickling stack underflow");
  mlg_pickle_report_free(&r);
}

static void test_newobj(void **state)
{
  /* NEWOBJ and NEWOBJ_EX call cls.__new__. 0: PROTO 4 2: GLOBAL
   * 'subprocess Popen' 20: SHORT_BINUNICODE 'id' 24: TUPLE1 25: EMPTY_DICT
   * 26: NEWOBJ_EX 27: STOP */
  mlg_pickle_report r;
  (void)state;
  scan(&r, P("\x80\x04" "csubprocess\nPopen\n\x8c\x02id\x85}\x92."));
  expect_clean(&r);
  expect_import(&r, 0, "subprocess", "Popen", 2, 1, MLG_PK_GLOBAL);
  mlg_pickle_report_free(&r);
  /* NEWOBJ on an int: not a type */
  scan(&r, P("\x80\x02K\x01)\x81."));
  expect_error(&r, MLG_EPARSE, 5, "NEWOBJ class argument must be a type, not int");
  mlg_pickle_report_free(&r);
}

static void test_build_on_global(void **state)
{
  /* BUILD on the imported object itself calls its __setstate__ (or
   * updates its __dict__): counted as a call. */
  mlg_pickle_report r;
  (void)state;
  scan(&r, P("cos\nsystem\n}b."));
  expect_clean(&r);
  expect_import(&r, 0, "os", "system", 0, 1, MLG_PK_GLOBAL);
  mlg_pickle_report_free(&r);
}

static void test_called_through_memo(void **state)
{
  /* The callable is memoized, popped, fetched again and called. */
  mlg_pickle_report r;
  (void)state;
  scan(&r, P("\x80\x02" "cos\nsystem\nq\x00" "0h\x00X\x02\x00\x00\x00id\x85R."));
  expect_clean(&r);
  expect_import(&r, 0, "os", "system", 2, 1, MLG_PK_GLOBAL);
  mlg_pickle_report_free(&r);
}

static void test_not_callable(void **state)
{
  /* Calling an int is a TypeError: the scan stops there. */
  mlg_pickle_report r;
  (void)state;
  scan(&r, P("K\x01)R."));
  expect_error(&r, MLG_EPARSE, 3, "'int' object is not callable");
  mlg_pickle_report_free(&r);
}

static void test_ext(void **state)
{
  /* EXT1 1, EXT2 0x0201, EXT4 0x7fffffff: the copyreg registry is empty
   * by default, so each is an unresolved import; EXT4 with the sign bit
   * set is refused (load_extension: code <= 0). */
  mlg_pickle_report r;
  (void)state;
  scan(&r, P("\x80\x02\x82\x01)R\x83\x01\x02\x84\xff\xff\xff\x7f."));
  expect_clean(&r);
  assert_int_equal(r.nimports, 3);
  expect_import(&r, 0, "?", "?", 2, 1, MLG_PK_EXT);
  assert_int_equal(r.imports[0].ext_code, 1);
  assert_int_equal(r.imports[0].resolved, 0);
  assert_int_equal(r.imports[1].ext_code, 0x201);
  assert_int_equal(r.imports[1].called, 0);
  assert_int_equal(r.imports[2].ext_code, 0x7fffffff);
  mlg_pickle_report_free(&r);
  scan(&r, P("\x80\x02\x84\x00\x00\x00\x80."));
  assert_int_equal(r.nimports, 0);
  expect_error(&r, MLG_EPARSE, 2, "EXT specifies code <= 0");
  mlg_pickle_report_free(&r);
}

static void test_persid(void **state)
{
  /* PERSID (text) and BINPERSID (from the stack) are counted. */
  mlg_pickle_report r;
  (void)state;
  scan(&r, P("Pstorage0\nK\x01Q\x86."));
  expect_clean(&r);
  assert_int_equal(r.persistent_ids, 2);
  mlg_pickle_report_free(&r);
  scan(&r, P("P\xff\n."));
  expect_error(&r, MLG_EPARSE, 0, "must be ASCII");
  mlg_pickle_report_free(&r);
}

static void test_persid_call(void **state)
{
  /* torch's persistent_load('module', cls, ...) returns cls: a call of
   * the persistent object calls the global it carried.
   * 0: MARK 1: UNICODE 'module' 9: GLOBAL 'os system' 20: TUPLE
   * 21: BINPERSID 22: UNICODE 'id' 26: TUPLE1 27: REDUCE 28: STOP */
  mlg_pickle_report r;
  (void)state;
  scan(&r, P("(Vmodule\ncos\nsystem\ntQVid\n\x85R."));
  expect_clean(&r);
  expect_import(&r, 0, "os", "system", 9, 1, MLG_PK_GLOBAL);
  assert_int_equal(r.persistent_ids, 1);
  mlg_pickle_report_free(&r);
}

static void test_partial(void **state)
{
  /* functools.partial(os.system, 'id')(): the partial is what gets called */
  mlg_pickle_report r;
  (void)state;
  scan(&r, P("cfunctools\npartial\ncos\nsystem\nVid\n\x86R)R."));
  expect_clean(&r);
  expect_import(&r, 0, "functools", "partial", 0, 1, MLG_PK_GLOBAL);
  expect_import(&r, 1, "os", "system", 19, 1, MLG_PK_GLOBAL);
  mlg_pickle_report_free(&r);
}

/* ---- nested pickles ------------------------------------------------------ */

static void test_nested_loads(void **state)
{
  /* pickle.loads(b"cos\nsystem\n(S'id'\ntR."): the inner imports are
   * reported at depth 1 with the offset of the outer REDUCE.
   * 0: GLOBAL 'pickle loads' 14: SHORT_BINBYTES (21 bytes) 37: TUPLE1
   * 38: REDUCE 39: STOP */
  mlg_pickle_report r;
  (void)state;
  scan(&r, P("cpickle\nloads\nC\x15" "cos\nsystem\n(S'id'\ntR.\x85R."));
  expect_clean(&r);
  assert_int_equal(r.nimports, 3);
  expect_import(&r, 0, "pickle", "loads", 0, 1, MLG_PK_GLOBAL);
  expect_import(&r, 1, "pickle", "loads", 38, 1, MLG_PK_NESTED);
  assert_int_equal(r.imports[1].depth, 1);
  assert_int_equal(r.imports[1].resolved, 1);
  expect_import(&r, 2, "os", "system", 38, 1, MLG_PK_GLOBAL);
  assert_int_equal(r.imports[2].depth, 1);
  assert_int_equal(r.nested, 1);
  mlg_pickle_report_free(&r);
}

static void test_nested_codecs(void **state)
{
  /* Protocol 0 builds bytes with _codecs.encode(str, 'latin1') (malicious13a
   * style): the nested pickle is followed through it.
   * 0: GLOBAL 'pickle loads' 14: MARK 15: GLOBAL '_codecs encode'
   * 31: MARK 32: UNICODE 'cos\u000asystem...' 70: UNICODE 'latin1'
   * 78: TUPLE 79: REDUCE 80: TUPLE 81: REDUCE 82: STOP */
  mlg_pickle_report r;
  (void)state;
  scan(&r, P("cpickle\nloads\n(c_codecs\nencode\n(Vcos\\u000asystem\\u000a(S'id'\\u000atR.\n"
             "Vlatin1\ntRtR."));
  expect_clean(&r);
  assert_int_equal(r.nimports, 4);
  expect_import(&r, 1, "_codecs", "encode", 15, 1, MLG_PK_GLOBAL);
  expect_import(&r, 2, "pickle", "loads", 81, 1, MLG_PK_NESTED);
  expect_import(&r, 3, "os", "system", 81, 1, MLG_PK_GLOBAL);
  mlg_pickle_report_free(&r);
}

static void test_nested_error_propagates(void **state)
{
  /* pickle.loads of a malformed pickle raises in the outer REDUCE. */
  mlg_pickle_report r;
  (void)state;
  scan(&r, P("cpickle\nloads\nC\x03" "cos\x85R."));
  expect_error(&r, MLG_EPARSE, 20, "nested pickle (pickle.loads)");
  mlg_pickle_report_free(&r);
}

static void test_nested_unscannable(void **state)
{
  /* torch.load of a path: nothing to scan, the nested entry says so. */
  mlg_pickle_report r;
  (void)state;
  scan(&r, P("ctorch\nload\nV/tmp/x.pt\n\x85R."));
  expect_clean(&r);
  assert_int_equal(r.nimports, 2);
  expect_import(&r, 1, "torch", "load", 24, 1, MLG_PK_NESTED);
  assert_int_equal(r.imports[1].resolved, 0);
  assert_int_equal(r.nested, 0);
  mlg_pickle_report_free(&r);
}

static void test_nested_torch_bytesio(void **state)
{
  /* torch.load(io.BytesIO(b)) where b holds two pickles (a legacy torch
   * stream): both are scanned. */
  mlg_pickle_report r;
  (void)state;
  scan(&r, P("ctorch\nload\ncio\nBytesIO\nC\x0f" "K\x01." "cos\nsystem\n." "\x85R\x85R."));
  expect_clean(&r);
  assert_int_equal(r.nimports, 4);
  expect_import(&r, 2, "torch", "load", 44, 1, MLG_PK_NESTED);
  expect_import(&r, 3, "os", "system", 44, 0, MLG_PK_GLOBAL);
  assert_int_equal(r.imports[3].pickle, 1);
  mlg_pickle_report_free(&r);
}

static void test_nested_depth_limit(void **state)
{
  /* pickle.loads(pickle.loads-pickle): with max_depth 1 the inner one is
   * reported but not scanned. */
  mlg_pickle_report r;
  mlg_pickle_opts o;
  (void)state;
  memset(&o, 0, sizeof o);
  o.max_depth = 1;
  scan_opts(&r, P("cpickle\nloads\nC\x15" "cpickle\nloads\nC\x02N.\x85R.\x85R."), &o);
  expect_clean(&r);
  assert_int_equal(r.nimports, 4);
  assert_int_equal(r.imports[1].via, MLG_PK_NESTED);
  assert_int_equal(r.imports[1].resolved, 1);
  assert_int_equal(r.imports[3].via, MLG_PK_NESTED);
  assert_int_equal(r.imports[3].depth, 2);
  assert_int_equal(r.imports[3].resolved, 0);
  mlg_pickle_report_free(&r);
}

/* ---- several pickles ------------------------------------------------------ */

static void test_multi_bad_second(void **state)
{
  /* A benign pickle, then the malicious one (picklescan malicious6). */
  mlg_pickle_report r;
  (void)state;
  scan(&r, P("N." "cos\nsystem\n(S'id'\ntR."));
  expect_clean(&r);
  assert_int_equal(r.npickles, 2);
  expect_import(&r, 0, "os", "system", 2, 1, MLG_PK_GLOBAL);
  assert_int_equal(r.imports[0].pickle, 1);
  assert_int_equal(r.bytes, 23);
  mlg_pickle_report_free(&r);
}

static void test_first_only(void **state)
{
  /* first_only = N stops after N pickles; bytes is where the next one
   * starts (legacy torch: 5, then the raw storages). */
  mlg_pickle_report r;
  mlg_pickle_opts o;
  (void)state;
  memset(&o, 0, sizeof o);
  o.first_only = 1;
  scan_opts(&r, P("N.K\x01.\x00\xff\xff"), &o);
  expect_clean(&r);
  assert_int_equal(r.npickles, 1);
  assert_int_equal(r.bytes, 2);
  mlg_pickle_report_free(&r);
  o.first_only = 2;
  scan_opts(&r, P("N.K\x01.(((garbage"), &o);
  expect_clean(&r);
  assert_int_equal(r.npickles, 2);
  assert_int_equal(r.bytes, 5);
  assert_int_equal(r.trailing_garbage, 0);
  mlg_pickle_report_free(&r);
}

static void test_trailing_garbage(void **state)
{
  mlg_pickle_report r;
  (void)state;
  scan(&r, P("N.\x00\x01\x02"));
  expect_clean(&r);
  assert_int_equal(r.npickles, 1);
  assert_int_equal(r.trailing_garbage, 1);
  assert_int_equal(r.bytes, 2);
  mlg_pickle_report_free(&r);
  /* a newline after the STOP is garbage too */
  scan(&r, P("N.\n"));
  assert_int_equal(r.trailing_garbage, 1);
  mlg_pickle_report_free(&r);
}

static void test_empty(void **state)
{
  mlg_pickle_report r;
  (void)state;
  scan(&r, "", 0);
  expect_clean(&r);
  assert_int_equal(r.npickles, 0);
  assert_int_equal(r.nimports, 0);
  mlg_pickle_report_free(&r);
}

/* ---- malformed streams ---------------------------------------------------- */

static void test_truncated(void **state)
{
  /* The import stays reported; the error names the opcode whose argument
   * ran out (STRING at 12). */
  mlg_pickle_report r;
  (void)state;
  scan(&r, P("cos\nsystem\n(S'ls'"));
  assert_int_equal(r.nimports, 1);
  expect_import(&r, 0, "os", "system", 0, 0, MLG_PK_GLOBAL);
  expect_error(&r, MLG_EPARSE, 12, "pickle data was truncated");
  mlg_pickle_report_free(&r);
  /* no STOP */
  scan(&r, P("cos\nsystem\n"));
  expect_error(&r, MLG_EPARSE, 11, "Ran out of input");
  mlg_pickle_report_free(&r);
  /* SHORT_BINBYTES longer than the data */
  scan(&r, P("\x80\x03" "C\x09" "abc"));
  expect_error(&r, MLG_EPARSE, 2, "pickle data was truncated");
  mlg_pickle_report_free(&r);
}

static void test_invalid_opcode_after_import(void **state)
{
  mlg_pickle_report r;
  (void)state;
  scan(&r, P("cos\nsystem\n\xff"));
  assert_int_equal(r.nimports, 1);
  expect_error(&r, MLG_EPARSE, 11, "invalid load key, '\\xff'.");
  mlg_pickle_report_free(&r);
  scan(&r, P("N!"));
  expect_error(&r, MLG_EPARSE, 1, "invalid load key, '!'.");
  mlg_pickle_report_free(&r);
}

static void test_stack_rules(void **state)
{
  mlg_pickle_report r;
  (void)state;
  /* POP of a mark pops the mark (load_pop) */
  scan(&r, P("N(0."));
  expect_clean(&r);
  mlg_pickle_report_free(&r);
  /* STOP with only a mark above the value */
  scan(&r, P("N(."));
  expect_error(&r, MLG_EPARSE, 2, "unexpected MARK found");
  mlg_pickle_report_free(&r);
  /* DUP on an empty stack */
  scan(&r, P("2."));
  expect_error(&r, MLG_EPARSE, 0, "unpickling stack underflow");
  mlg_pickle_report_free(&r);
  /* TUPLE without a MARK */
  scan(&r, P("Nt."));
  expect_error(&r, MLG_EPARSE, 1, "could not find MARK");
  mlg_pickle_report_free(&r);
  /* TUPLE2 with one item above the mark */
  scan(&r, P("N(N\x86."));
  expect_error(&r, MLG_EPARSE, 3, "unexpected MARK found");
  mlg_pickle_report_free(&r);
  /* APPEND with the list below the mark */
  scan(&r, P("](Na."));
  expect_error(&r, MLG_EPARSE, 3, "unexpected MARK found");
  mlg_pickle_report_free(&r);
  /* SETITEMS with an odd count */
  scan(&r, P("}(NNNu."));
  expect_error(&r, MLG_EPARSE, 5, "odd number of items for SETITEMS");
  mlg_pickle_report_free(&r);
  /* DICT with an odd count */
  scan(&r, P("(Nd."));
  expect_error(&r, MLG_EPARSE, 2, "odd number of items for DICT");
  mlg_pickle_report_free(&r);
  /* BUILD needs two values above the fence */
  scan(&r, P("N(Nb."));
  expect_error(&r, MLG_EPARSE, 3, "unexpected MARK found");
  mlg_pickle_report_free(&r);
  /* POP_MARK clears to the mark */
  scan(&r, P("N(NNN1."));
  expect_clean(&r);
  mlg_pickle_report_free(&r);
  /* APPEND on a tuple: AttributeError */
  scan(&r, P(")Na."));
  expect_error(&r, MLG_EPARSE, 2, "'tuple' object has no attribute 'append'");
  mlg_pickle_report_free(&r);
  /* list[k] = v: an int index inside the list */
  scan(&r, P("]K\x01" "aK\x00Ns."));
  expect_clean(&r);
  mlg_pickle_report_free(&r);
  scan(&r, P("]K\x01" "aK\x01Ns."));
  expect_error(&r, MLG_EPARSE, 7, "list assignment index out of range");
  mlg_pickle_report_free(&r);
  scan(&r, P("]Va\nNs."));
  expect_error(&r, MLG_EPARSE, 5, "list indices must be integers or slices, not str");
  mlg_pickle_report_free(&r);
  /* ADDITEMS on a frozenset */
  scan(&r, P("(\x91(N\x90."));
  expect_error(&r, MLG_EPARSE, 4, "'frozenset' object has no attribute 'add'");
  mlg_pickle_report_free(&r);
}

static void test_unhashable(void **state)
{
  /* fickling's "impossible cyclic pickle": a set added to itself */
  mlg_pickle_report r;
  (void)state;
  scan(&r, P("\x80\x04\x8f\x94(g0\n\x90."));
  expect_error(&r, MLG_EPARSE, 8, "unhashable type: 'set'");
  mlg_pickle_report_free(&r);
  /* a list as a dict key */
  scan(&r, P("}]Ns."));
  expect_error(&r, MLG_EPARSE, 3, "unhashable type: 'list'");
  mlg_pickle_report_free(&r);
  /* a tuple holding a dict as a frozenset member */
  scan(&r, P("((}\x85\x91."));
  expect_error(&r, MLG_EPARSE, 4, "unhashable type: 'dict'");
  mlg_pickle_report_free(&r);
}

static void test_unhashable_shared_tuples(void **state)
{
  /* A dict key made of tuples that share their children 32 ways, 12
   * levels deep (MEMO the top, POP it, MARK, 32 x BINGET, TUPLE): the
   * hashability walk is bounded, not 32^12 steps. */
  mlg_pickle_report r;
  char buf[2048];
  size_t len = 0;
  int level, k;
  (void)state;
  memcpy(buf, "}N", 2);
  len = 2;
  for (level = 0; level < 12; level++) {
    memcpy(buf + len, "q\x00" "0(", 4);
    len += 4;
    for (k = 0; k < 32; k++) {
      memcpy(buf + len, "h\x00", 2);
      len += 2;
    }
    buf[len++] = 't';
  }
  memcpy(buf + len, "Ns.", 3);
  len += 3;
  scan(&r, buf, len);
  expect_clean(&r);
  mlg_pickle_report_free(&r);
}

static void test_memo_errors(void **state)
{
  mlg_pickle_report r;
  (void)state;
  /* picklescan keyerror-exploit: GET of an index never PUT */
  scan(&r, P("\x80\x04\x8c\x02os\x94h\x03."));
  expect_error(&r, MLG_EPARSE, 7, "Memo value not found at index 3");
  mlg_pickle_report_free(&r);
  scan(&r, P("Np-1\n."));
  expect_error(&r, MLG_EPARSE, 1, "negative PUT argument");
  mlg_pickle_report_free(&r);
  /* PUT on an empty stack: checked before the argument is parsed */
  scan(&r, P("pxx\n."));
  expect_error(&r, MLG_EPARSE, 0, "unpickling stack underflow");
  mlg_pickle_report_free(&r);
  scan(&r, P("Npx\n."));
  expect_error(&r, MLG_EPARSE, 1, "invalid literal");
  mlg_pickle_report_free(&r);
  /* a huge LONG_BINPUT index is remembered without a huge memo */
  scan(&r, P("Nr\xfe\xff\xff\xff" "0j\xfe\xff\xff\xff."));
  expect_clean(&r);
  mlg_pickle_report_free(&r);
}

static void test_memo_limit(void **state)
{
  /* Past max_memo the memo keeps only which indices exist: a GET of one
   * gives an unknown value, a STACK_GLOBAL with it is unresolved. */
  mlg_pickle_report r;
  mlg_pickle_opts o;
  (void)state;
  memset(&o, 0, sizeof o);
  o.max_memo = 2;
  scan_opts(&r, P("\x80\x04\x8c\x02osq\x05\x8c\x06systemq\x06" "00h\x05h\x06\x93."), &o);
  expect_clean(&r);
  expect_import(&r, 0, "?", "?", 24, 0, MLG_PK_STACK_GLOBAL);
  mlg_pickle_report_free(&r);
  scan_opts(&r, P("\x80\x04h\x05."), &o);
  expect_error(&r, MLG_EPARSE, 2, "Memo value not found at index 5");
  mlg_pickle_report_free(&r);
}

static void test_stack_limit(void **state)
{
  mlg_pickle_report r;
  mlg_pickle_opts o;
  char buf[100];
  (void)state;
  memset(&o, 0, sizeof o);
  o.max_stack = 16;
  memset(buf, 'N', sizeof buf);
  scan_opts(&r, buf, sizeof buf, &o);
  assert_int_equal(r.error, MLG_ELIMIT);
  mlg_pickle_report_free(&r);
}

static void test_import_limit(void **state)
{
  mlg_pickle_report r;
  mlg_pickle_opts o;
  (void)state;
  memset(&o, 0, sizeof o);
  o.max_imports = 2;
  scan_opts(&r, P("ca\nb\n0ca\nc\n0ca\nd\n)R."), &o);
  expect_clean(&r);
  assert_int_equal(r.nimports, 2);
  assert_int_equal(r.dropped_imports, 1);
  mlg_pickle_report_free(&r);
}

static void test_proto(void **state)
{
  mlg_pickle_report r;
  (void)state;
  scan(&r, P("\x80\x06N."));
  expect_error(&r, MLG_EPARSE, 0, "unsupported pickle protocol: 6");
  mlg_pickle_report_free(&r);
}

/* ---- values --------------------------------------------------------------- */

static void test_numbers(void **state)
{
  mlg_pickle_report r;
  (void)state;
  /* INT (strtol base 0, bools), LONG with and without 'L', LONG1, LONG4,
   * FLOAT, BINFLOAT, BININT, BININT1, BININT2 */
  scan(&r, P("(I01\nI00\nI0x1f\nI010\nI-5\nI99999999999999999999999\nL12L\nL-3\n"
             "\x8a\x02\xff\x7f\x8b\x0a\x00\x00\x00" "0123456789"
             "F1.5e3\nFinf\nFnan\nG@\x09!\xfbTD-\x18J\xff\xff\xff\xffK\x07M\xff\xfftN."));
  expect_clean(&r);
  mlg_pickle_report_free(&r);
  /* errors: PyLong_FromString, PyOS_string_to_double, negative LONG4 */
  scan(&r, P("I1_\n."));
  expect_error(&r, MLG_EPARSE, 0, "could not convert string to int");
  mlg_pickle_report_free(&r);
  scan(&r, P("L09\n."));
  expect_error(&r, MLG_EPARSE, 0, "LONG: could not convert");
  mlg_pickle_report_free(&r);
  scan(&r, P("F1e999\n."));
  expect_error(&r, MLG_EPARSE, 0, "too large");
  mlg_pickle_report_free(&r);
  scan(&r, P("F 1\n."));
  expect_error(&r, MLG_EPARSE, 0, "could not convert string to float");
  mlg_pickle_report_free(&r);
  scan(&r, P("\x8b\xff\xff\xff\xff."));
  expect_error(&r, MLG_EPARSE, 0, "negative byte count");
  mlg_pickle_report_free(&r);
}

static void test_int_digit_limit(void **state)
{
  /* int(str) refuses more than 4300 decimal digits (Python >= 3.11) */
  mlg_pickle_report r;
  char *buf = malloc(4400);
  (void)state;
  assert_non_null(buf);
  buf[0] = 'L';
  memset(buf + 1, '7', 4301);
  memcpy(buf + 4302, "\n.", 2);
  scan(&r, buf, 4304);
  expect_error(&r, MLG_EPARSE, 0, "4300 digits");
  mlg_pickle_report_free(&r);
  free(buf);
}

static void test_strings(void **state)
{
  mlg_pickle_report r;
  (void)state;
  /* STRING with escapes, BINSTRING, SHORT_BINSTRING, UNICODE with
   * \u and \U escapes, BINUNICODE, BINUNICODE8, BINBYTES8, BYTEARRAY8 */
  scan(&r, P("(S'a\\x41\\n\\'\\101'\nS\"q\"\nT\x01\x00\x00\x00xU\x01y"
             "Va\\u00e9\\U0001f600\\z\nX\x02\x00\x00\x00\xc3\xa9"
             "\x8d\x01\x00\x00\x00\x00\x00\x00\x00z"
             "\x8e\x01\x00\x00\x00\x00\x00\x00\x00z"
             "\x96\x01\x00\x00\x00\x00\x00\x00\x00z\x98tN."));
  expect_clean(&r);
  mlg_pickle_report_free(&r);
  scan(&r, P("S'abc\n."));
  expect_error(&r, MLG_EPARSE, 0, "must be quoted");
  mlg_pickle_report_free(&r);
  scan(&r, P("S'\\x4'\n."));
  expect_error(&r, MLG_EPARSE, 0, "invalid \\x escape");
  mlg_pickle_report_free(&r);
  scan(&r, P("V\\u12\n."));
  expect_error(&r, MLG_EPARSE, 0, "truncated \\uXXXX escape");
  mlg_pickle_report_free(&r);
  scan(&r, P("V\\U00110000\n."));
  expect_error(&r, MLG_EPARSE, 0, "out of range");
  mlg_pickle_report_free(&r);
  scan(&r, P("X\x02\x00\x00\x00\xc3\x28."));
  expect_error(&r, MLG_EPARSE, 0, "utf-8");
  mlg_pickle_report_free(&r);
  /* surrogates pass (surrogatepass) */
  scan(&r, P("X\x03\x00\x00\x00\xed\xa0\x80."));
  expect_clean(&r);
  mlg_pickle_report_free(&r);
  /* GLOBAL names must be UTF-8 (not_a_pickle.bin) */
  scan(&r, P("cmod\n\xf8\n"));
  assert_int_equal(r.nimports, 0);
  expect_error(&r, MLG_EPARSE, 0, "not UTF-8");
  mlg_pickle_report_free(&r);
}

static void test_buffers(void **state)
{
  /* NEXT_BUFFER needs buffers= (loader-dependent: accepted);
   * READONLY_BUFFER needs a value. */
  mlg_pickle_report r;
  (void)state;
  scan(&r, P("\x80\x05\x97\x98."));
  expect_clean(&r);
  mlg_pickle_report_free(&r);
  scan(&r, P("\x80\x05\x98."));
  expect_error(&r, MLG_EPARSE, 2, "unpickling stack underflow");
  mlg_pickle_report_free(&r);
}

static void test_benign_protocols(void **state)
{
  /* pickle.dumps({'a': [1, 2.5, 'x', b'y', (True, None)], 'b': {1, 2},
   *               'c': frozenset([3]), 'd': 2**70}, protocol=p) */
  static const struct {
    const char *data;
    size_t len;
    size_t nimports;
  } cases[] = {
    {P("(dp0\nVa\np1\n(lp2\nI1\naF2.5\naVx\np3\nac_codecs\nencode\np4\n(Vy\np5"
       "\nVlatin1\np6\ntp7\nRp8\na(I01\nNtp9\nasVb\np10\nc__builtin__\nset\np11"
       "\n((lp12\nI1\naI2\natp13\nRp14\nsVc\np15\nc__builtin__\nfrozenset\np16"
       "\n((lp17\nI3\natp18\nRp19\nsVd\np20\nL1180591620717411303424L\ns."), 3},
    {P("}q\x00(X\x01\x00\x00\x00""aq\x01]q\x02(K\x01G@\x04\x00\x00\x00\x00\x00"
       "\x00X\x01\x00\x00\x00xq\x03""c_codecs\nencode\nq\x04(X\x01\x00\x00\x00y"
       "q\x05X\x06\x00\x00\x00latin1q\x06tq\x07Rq\x08(I01\nNtq\x09""eX\x01\x00"
       "\x00\x00""bq\nc__builtin__\nset\nq\x0b(]q\x0c(K\x01K\x02""etq\x0dRq\x0e"
       "X\x01\x00\x00\x00""cq\x0f""c__builtin__\nfrozenset\nq\x10(]q\x11K\x03"
       "atq\x12Rq\x13X\x01\x00\x00\x00""dq\x14L1180591620717411303424L\nu."), 3},
    {P("\x80\x02}q\x00(X\x01\x00\x00\x00""aq\x01]q\x02(K\x01G@\x04\x00\x00\x00"
       "\x00\x00\x00X\x01\x00\x00\x00xq\x03""c_codecs\nencode\nq\x04X\x01\x00"
       "\x00\x00yq\x05X\x06\x00\x00\x00latin1q\x06\x86q\x07Rq\x08\x88N\x86q\x09"
       "eX\x01\x00\x00\x00""bq\nc__builtin__\nset\nq\x0b]q\x0c(K\x01K\x02""e"
       "\x85q\x0dRq\x0eX\x01\x00\x00\x00""cq\x0f""c__builtin__\nfrozenset\nq"
       "\x10]q\x11K\x03""a\x85q\x12Rq\x13X\x01\x00\x00\x00""dq\x14\x8a\x09\x00"
       "\x00\x00\x00\x00\x00\x00\x00@u."), 3},
    {P("\x80\x03}q\x00(X\x01\x00\x00\x00""aq\x01]q\x02(K\x01G@\x04\x00\x00\x00"
       "\x00\x00\x00X\x01\x00\x00\x00xq\x03""C\x01yq\x04\x88N\x86q\x05""eX\x01"
       "\x00\x00\x00""bq\x06""cbuiltins\nset\nq\x07]q\x08(K\x01K\x02""e\x85q"
       "\x09Rq\nX\x01\x00\x00\x00""cq\x0b""cbuiltins\nfrozenset\nq\x0c]q\x0dK"
       "\x03""a\x85q\x0eRq\x0fX\x01\x00\x00\x00""dq\x10\x8a\x09\x00\x00\x00\x00"
       "\x00\x00\x00\x00@u."), 2},
    {P("\x80\x04\x95H\x00\x00\x00\x00\x00\x00\x00}\x94(\x8c\x01""a\x94]\x94(K"
       "\x01G@\x04\x00\x00\x00\x00\x00\x00\x8c\x01x\x94""C\x01y\x94\x88N\x86"
       "\x94""e\x8c\x01""b\x94\x8f\x94(K\x01K\x02\x90\x8c\x01""c\x94(K\x03\x91"
       "\x94\x8c\x01""d\x94\x8a\x09\x00\x00\x00\x00\x00\x00\x00\x00@u."), 0},
    {P("\x80\x05\x95H\x00\x00\x00\x00\x00\x00\x00}\x94(\x8c\x01""a\x94]\x94(K"
       "\x01G@\x04\x00\x00\x00\x00\x00\x00\x8c\x01x\x94""C\x01y\x94\x88N\x86"
       "\x94""e\x8c\x01""b\x94\x8f\x94(K\x01K\x02\x90\x8c\x01""c\x94(K\x03\x91"
       "\x94\x8c\x01""d\x94\x8a\x09\x00\x00\x00\x00\x00\x00\x00\x00@u."), 0},
  };
  size_t i;
  (void)state;
  for (i = 0; i < sizeof cases / sizeof cases[0]; i++) {
    mlg_pickle_report r;
    scan(&r, cases[i].data, cases[i].len);
    expect_clean(&r);
    assert_int_equal(r.npickles, 1);
    assert_int_equal(r.nimports, cases[i].nimports);
    assert_int_equal(r.bytes, cases[i].len);
    assert_int_equal(r.max_protocol, i < 2 ? 0 : (int)i);
    mlg_pickle_report_free(&r);
  }
}

/* ---- FRAME -------------------------------------------------------------- */

static void test_frame_well_formed(void **state)
{
  /* two frames, each ending at an opcode boundary */
  mlg_pickle_report r;
  (void)state;
  scan(&r, P("\x80\x04\x95\x03\x00\x00\x00\x00\x00\x00\x00]\x94("
             "\x95\x05\x00\x00\x00\x00\x00\x00\x00K\x01K\x02""e."));
  expect_clean(&r);
  mlg_pickle_report_free(&r);
}

static void test_frame_straddle_line(void **state)
{
  /* FRAME 4 holds "cmac"; the module line runs past it. pickle.loads
   * reads "macos", pickle.load on a file drops "mac" and reads "os" from
   * the file (_Unpickler_Readline): we follow the file and flag the
   * divergence. */
  mlg_pickle_report r;
  (void)state;
  scan(&r, P("\x80\x05\x95\x04\x00\x00\x00\x00\x00\x00\x00" "cmacos\nsystem\n."));
  assert_int_equal(r.nimports, 1);
  expect_import(&r, 0, "os", "system", 11, 0, MLG_PK_GLOBAL);
  expect_error(&r, MLG_EPARSE, 12, "straddles the end of the FRAME at offset 2");
  mlg_pickle_report_free(&r);
}

static void test_frame_straddle_fixed(void **state)
{
  /* fickling's frame boundary divergence: FRAME 2 holds BINBYTES and the
   * first byte of its length; the file view drops that byte, reads the
   * length 1 from the file and then runs GLOBAL os.system. */
  mlg_pickle_report r;
  (void)state;
  scan(&r, P("\x80\x05\x95\x02\x00\x00\x00\x00\x00\x00\x00" "B\x07"
             "\x01\x00\x00\x00\x00" "cos\nsystem\nVid\n\x85R0N."));
  expect_import(&r, 0, "os", "system", 18, 1, MLG_PK_GLOBAL);
  expect_error(&r, MLG_EPARSE, 12, "straddles the end of the FRAME");
  mlg_pickle_report_free(&r);
}

static void test_frame_too_long(void **state)
{
  /* a FRAME longer than the data is refused at the FRAME */
  mlg_pickle_report r;
  (void)state;
  scan(&r, P("\x80\x05\x95\x1e\x00\x00\x00\x00\x00\x00\x00N."));
  expect_error(&r, MLG_EPARSE, 2, "longer than the data");
  mlg_pickle_report_free(&r);
}

static void test_frame_ends_inside_opcode(void **state)
{
  /* read the same by every loader, but produced by no pickler */
  mlg_pickle_report r;
  (void)state;
  scan(&r, P("\x80\x05\x95\x01\x00\x00\x00\x00\x00\x00\x00K\x01."));
  expect_error(&r, MLG_EPARSE, 12, "ends inside an opcode");
  mlg_pickle_report_free(&r);
}

static void test_frame_nested_pickle_transparent(void **state)
{
  /* From memory (pickle.loads) frames only check their length: the same
   * straddling bytes read "macos.system" inside a nested pickle. */
  mlg_pickle_report r;
  (void)state;
  scan(&r, P("cpickle\nloads\nC\x1a\x80\x05\x95\x04\x00\x00\x00\x00\x00\x00\x00"
             "cmacos\nsystem\n.\x85R."));
  expect_clean(&r);
  expect_import(&r, 2, "macos", "system", 43, 0, MLG_PK_GLOBAL);
  mlg_pickle_report_free(&r);
}

/* ---- joblib ------------------------------------------------------------- */

/* joblib 1.2: joblib.dump(np.arange(6, dtype=np.float32).reshape(2, 3), f):
 * NumpyArrayWrapper state with numpy_array_alignment_bytes=16, then after
 * the BUILD a padding length byte (7), 7 x 0xff, 24 bytes of data, STOP. */
static const char joblib_aligned[] =
    "\x80\x04\x95\xcd\x00\x00\x00\x00\x00\x00\x00\x8c\x13joblib.numpy_pickle"
    "\x94\x8c\x11NumpyArrayWrapper\x94\x93\x94)\x81\x94}\x94(\x8c\x08subclas"
    "s\x94\x8c\x05numpy\x94\x8c\x07ndarray\x94\x93\x94\x8c\x05shape\x94K\x02"
    "K\x03\x86\x94\x8c\x05order\x94\x8c\x01""C\x94\x8c\x05""dtype\x94h\x06h"
    "\x0d\x93\x94\x8c\x02""f4\x94\x89\x88\x87\x94R\x94(K\x03\x8c\x01<\x94NNN"
    "J\xff\xff\xff\xffJ\xff\xff\xff\xffK\x00t\x94""b\x8c\nallow_mmap\x94\x88"
    "\x8c\x1bnumpy_array_alignment_bytes\x94K\x10ub\x07\xff\xff\xff\xff\xff"
    "\xff\xff\x00\x00\x00\x00\x00\x00\x80?\x00\x00\x00@\x00\x00@@\x00\x00"
    "\x80@\x00\x00\xa0@.";

/* the same with a file that cannot tell(): numpy_array_alignment_bytes is
 * None, no padding; np.arange(4, dtype=np.int16) */
static const char joblib_unaligned[] =
    "\x80\x04\x95\xca\x00\x00\x00\x00\x00\x00\x00\x8c\x13joblib.numpy_pickle"
    "\x94\x8c\x11NumpyArrayWrapper\x94\x93\x94)\x81\x94}\x94(\x8c\x08subclas"
    "s\x94\x8c\x05numpy\x94\x8c\x07ndarray\x94\x93\x94\x8c\x05shape\x94K\x04"
    "\x85\x94\x8c\x05order\x94\x8c\x01""C\x94\x8c\x05""dtype\x94h\x06h\x0d"
    "\x93\x94\x8c\x02i2\x94\x89\x88\x87\x94R\x94(K\x03\x8c\x01<\x94NNNJ\xff"
    "\xff\xff\xffJ\xff\xff\xff\xffK\x00t\x94""b\x8c\nallow_mmap\x94\x88\x8c"
    "\x1bnumpy_array_alignment_bytes\x94Nub\x00\x00\x01\x00\x02\x00\x03\x00.";

/* np.array([1, 'a'], dtype=object): the data is a protocol 2 pickle */
static const char joblib_object[] =
    "\x80\x04\x95\xcb\x00\x00\x00\x00\x00\x00\x00\x8c\x13joblib.numpy_pickle"
    "\x94\x8c\x11NumpyArrayWrapper\x94\x93\x94)\x81\x94}\x94(\x8c\x08subclas"
    "s\x94\x8c\x05numpy\x94\x8c\x07ndarray\x94\x93\x94\x8c\x05shape\x94K\x02"
    "\x85\x94\x8c\x05order\x94\x8c\x01""C\x94\x8c\x05""dtype\x94h\x06h\x0d"
    "\x93\x94\x8c\x02O8\x94\x89\x88\x87\x94R\x94(K\x03\x8c\x01|\x94NNNJ\xff"
    "\xff\xff\xffJ\xff\xff\xff\xffK?t\x94""b\x8c\nallow_mmap\x94\x89\x8c\x1b"
    "numpy_array_alignment_bytes\x94K\x10ub\x80\x02""cnumpy.core.multiarray"
    "\n_reconstruct\nq\x00""cnumpy\nndarray\nq\x01K\x00\x85q\x02""c_codecs\n"
    "encode\nq\x03X\x01\x00\x00\x00""bq\x04X\x06\x00\x00\x00latin1q\x05\x86q"
    "\x06Rq\x07\x87q\x08Rq\x09(K\x01K\x02\x85q\ncnumpy\ndtype\nq\x0bX\x02"
    "\x00\x00\x00O8q\x0c\x89\x88\x87q\x0dRq\x0e(K\x03X\x01\x00\x00\x00|q\x0f"
    "NNNJ\xff\xff\xff\xffJ\xff\xff\xff\xffK?tq\x10""b\x89]q\x11(K\x01X\x01"
    "\x00\x00\x00""aq\x12""etq\x13""b..";

static void test_joblib_aligned(void **state)
{
  mlg_pickle_report r;
  (void)state;
  scan(&r, joblib_aligned, sizeof joblib_aligned - 1);
  expect_clean(&r);
  assert_int_equal(r.joblib_arrays, 1);
  assert_int_equal(r.npickles, 1);
  assert_int_equal(r.trailing_garbage, 0);
  assert_int_equal(r.bytes, sizeof joblib_aligned - 1);
  assert_int_equal(r.nimports, 3);
  expect_import(&r, 0, "joblib.numpy_pickle", "NumpyArrayWrapper", 53, 1,
                MLG_PK_STACK_GLOBAL);
  expect_import(&r, 1, "numpy", "ndarray", 90, 0, MLG_PK_STACK_GLOBAL);
  expect_import(&r, 2, "numpy", "dtype", 130, 1, MLG_PK_STACK_GLOBAL);
  mlg_pickle_report_free(&r);
}

static void test_joblib_unaligned(void **state)
{
  mlg_pickle_report r;
  (void)state;
  scan(&r, joblib_unaligned, sizeof joblib_unaligned - 1);
  expect_clean(&r);
  assert_int_equal(r.joblib_arrays, 1);
  assert_int_equal(r.bytes, sizeof joblib_unaligned - 1);
  mlg_pickle_report_free(&r);
}

static void test_joblib_object_array(void **state)
{
  mlg_pickle_report r;
  (void)state;
  scan(&r, joblib_object, sizeof joblib_object - 1);
  expect_clean(&r);
  assert_int_equal(r.joblib_arrays, 1);
  assert_int_equal(r.nested, 1);
  assert_int_equal(r.bytes, sizeof joblib_object - 1);
  /* 3 outer imports, the NESTED entry, 4 inner ones at depth 1 */
  assert_int_equal(r.nimports, 8);
  expect_import(&r, 3, "joblib.numpy_pickle", "NumpyArrayWrapper", 213, 1, MLG_PK_NESTED);
  expect_import(&r, 4, "numpy.core.multiarray", "_reconstruct", 216, 1, MLG_PK_GLOBAL);
  assert_int_equal(r.imports[4].depth, 1);
  mlg_pickle_report_free(&r);
}

static void test_joblib_data_as_opcodes(void **state)
{
  /* joblib_unaligned with dtype i8 (32 bytes of data) whose data are
   * opcodes: joblib skips them, pickle.load would run os.system. The
   * import is reported and the stream flagged. */
  mlg_pickle_report r;
  char buf[300];
  size_t n = sizeof joblib_unaligned - 1 - 9; /* without the data and STOP */
  char *dt;
  (void)state;
  memcpy(buf, joblib_unaligned, n);
  dt = memmem(buf, n, "\x8c\x02i2", 4);
  assert_non_null(dt);
  dt[3] = '8';
  memcpy(buf + n, "cos\nsystem\nVid\n\x85R.NNNNNNNNNNNNNN.", 33);
  scan(&r, buf, n + 33);
  assert_int_equal(r.joblib_arrays, 1);
  assert_int_equal(r.nimports, 4);
  expect_import(&r, 3, "os", "system", n, 1, MLG_PK_GLOBAL);
  expect_error(&r, MLG_EPARSE, n, "imports os.system when read by pickle.load");
  mlg_pickle_report_free(&r);
}

static void test_joblib_truncated_array(void **state)
{
  /* the array data is shorter than shape x itemsize */
  mlg_pickle_report r;
  (void)state;
  scan(&r, joblib_unaligned, sizeof joblib_unaligned - 4);
  expect_error(&r, MLG_EPARSE, 212, "joblib array data");
  mlg_pickle_report_free(&r);
}

static void test_joblib_not_from_memory(void **state)
{
  /* pickle.loads of a joblib stream does not read arrays: the padding
   * byte is an invalid opcode there. */
  mlg_pickle_report r;
  char *buf = malloc(sizeof joblib_aligned + 32);
  size_t n = sizeof joblib_aligned - 1;
  (void)state;
  assert_non_null(buf);
  memcpy(buf, "cpickle\nloads\nB", 15);
  buf[15] = (char)(n & 0xff);
  buf[16] = (char)(n >> 8);
  buf[17] = buf[18] = 0;
  memcpy(buf + 19, joblib_aligned, n);
  memcpy(buf + 19 + n, "\x85R.", 3);
  scan(&r, buf, 19 + n + 3);
  expect_error(&r, MLG_EPARSE, 19 + n + 1, "invalid load key, '\\x07'");
  mlg_pickle_report_free(&r);
  free(buf);
}

/* ---- memory --------------------------------------------------------------- */

static void test_many_strings_bounded(void **state)
{
  /* 200k memoized strings with max_memo 1000: the memo past its cap only
   * knows which indices exist; a STACK_GLOBAL fed from there is reported
   * unresolved. */
  mlg_pickle_report r;
  mlg_pickle_opts o;
  size_t n = 200000, i, len = 0;
  char *buf = malloc(n * 16 + 64);
  (void)state;
  assert_non_null(buf);
  memset(&o, 0, sizeof o);
  o.max_memo = 1000;
  memcpy(buf, "\x80\x04]\x94(", 5);
  len = 5;
  for (i = 0; i < n; i++) {
    buf[len++] = (char)0x8c;
    buf[len++] = 8;
    len += (size_t)sprintf(buf + len, "s%07zu", i);
    buf[len++] = (char)0x94;
  }
  memcpy(buf + len, "ej\x00\x00\x01\x00\x8c\x06system\x93.", 16);
  len += 16;
  scan_opts(&r, buf, len, &o);
  expect_clean(&r);
  assert_int_equal(r.nimports, 1);
  expect_import(&r, 0, "?", "system", len - 2, 0, MLG_PK_STACK_GLOBAL);
  assert_int_equal(r.imports[0].resolved, 0);
  mlg_pickle_report_free(&r);
  free(buf);
}

/* fickling's expansion attacks: a list appended into itself again and
 * again (via the memo), and DUPs left on the stack under the result. */
static void test_expansion_signals(void **state)
{
  mlg_pickle_report r;
  unsigned char self[4 + 60 * 3 + 1];
  size_t n = 0, i;

  (void)state;
  /* PROTO 4, EMPTY_LIST, MEMOIZE, 60 x (BINGET 0, APPEND), STOP */
  self[n++] = 0x80, self[n++] = 4, self[n++] = ']', self[n++] = 0x94;
  for (i = 0; i < 60; i++)
    self[n++] = 'h', self[n++] = 0, self[n++] = 'a';
  self[n++] = '.';
  scan(&r, self, n);
  expect_clean(&r);
  assert_int_equal(r.self_refs, 60);
  assert_int_equal(r.stack_residue, 0);
  mlg_pickle_report_free(&r);

  /* PROTO 4, EMPTY_LIST, DUP x 5, STOP: five values left under the result */
  scan(&r, "\x80\x04]22222.", 9);
  expect_clean(&r);
  assert_int_equal(r.stack_residue, 5);
  assert_int_equal(r.self_refs, 0);
  mlg_pickle_report_free(&r);

  /* a mark left open counts too; a clean pickle has neither */
  scan(&r, "\x80\x04(].", 5);
  assert_int_equal(r.stack_residue, 1);
  mlg_pickle_report_free(&r);
  scan(&r, "\x80\x04]\x94h\x00" "a.", 8); /* split: \x00a would be one escape */
  assert_int_equal(r.self_refs, 1); /* one cycle: a legitimate shape */
  assert_int_equal(r.stack_residue, 0);
  mlg_pickle_report_free(&r);
}

int main(void)
{
  const struct CMUnitTest tests[] = {
    cmocka_unit_test(test_expansion_signals),
    cmocka_unit_test(test_global_reduce),
    cmocka_unit_test(test_global_not_called),
    cmocka_unit_test(test_stack_global),
    cmocka_unit_test(test_stack_global_memo_trick),
    cmocka_unit_test(test_memoize_numbering),
    cmocka_unit_test(test_stack_global_unresolved),
    cmocka_unit_test(test_stack_global_requires_str),
    cmocka_unit_test(test_dotted_name),
    cmocka_unit_test(test_inst),
    cmocka_unit_test(test_inst_not_ascii),
    cmocka_unit_test(test_obj),
    cmocka_unit_test(test_obj_mark_games),
    cmocka_unit_test(test_obj_needs_callable),
    cmocka_unit_test(test_newobj),
    cmocka_unit_test(test_build_on_global),
    cmocka_unit_test(test_called_through_memo),
    cmocka_unit_test(test_not_callable),
    cmocka_unit_test(test_ext),
    cmocka_unit_test(test_persid),
    cmocka_unit_test(test_persid_call),
    cmocka_unit_test(test_partial),
    cmocka_unit_test(test_nested_loads),
    cmocka_unit_test(test_nested_codecs),
    cmocka_unit_test(test_nested_error_propagates),
    cmocka_unit_test(test_nested_unscannable),
    cmocka_unit_test(test_nested_torch_bytesio),
    cmocka_unit_test(test_nested_depth_limit),
    cmocka_unit_test(test_multi_bad_second),
    cmocka_unit_test(test_first_only),
    cmocka_unit_test(test_trailing_garbage),
    cmocka_unit_test(test_empty),
    cmocka_unit_test(test_truncated),
    cmocka_unit_test(test_invalid_opcode_after_import),
    cmocka_unit_test(test_stack_rules),
    cmocka_unit_test(test_unhashable),
    cmocka_unit_test(test_unhashable_shared_tuples),
    cmocka_unit_test(test_memo_errors),
    cmocka_unit_test(test_memo_limit),
    cmocka_unit_test(test_stack_limit),
    cmocka_unit_test(test_import_limit),
    cmocka_unit_test(test_proto),
    cmocka_unit_test(test_numbers),
    cmocka_unit_test(test_int_digit_limit),
    cmocka_unit_test(test_strings),
    cmocka_unit_test(test_buffers),
    cmocka_unit_test(test_benign_protocols),
    cmocka_unit_test(test_frame_well_formed),
    cmocka_unit_test(test_frame_straddle_line),
    cmocka_unit_test(test_frame_straddle_fixed),
    cmocka_unit_test(test_frame_too_long),
    cmocka_unit_test(test_frame_ends_inside_opcode),
    cmocka_unit_test(test_frame_nested_pickle_transparent),
    cmocka_unit_test(test_joblib_aligned),
    cmocka_unit_test(test_joblib_unaligned),
    cmocka_unit_test(test_joblib_object_array),
    cmocka_unit_test(test_joblib_data_as_opcodes),
    cmocka_unit_test(test_joblib_truncated_array),
    cmocka_unit_test(test_joblib_not_from_memory),
    cmocka_unit_test(test_many_strings_bounded),
  };
  return cmocka_run_group_tests(tests, NULL, NULL);
}
