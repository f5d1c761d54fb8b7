/*
 * The pickle virtual machine: CPython's unpickler (Modules/_pickle.c,
 * load() and the load_* functions) with modelled values instead of
 * objects. Stack rules, the mark stack and its fence, memo indexing and
 * argument encodings follow the C implementation; the comments name the
 * function mirrored where the rule is not obvious. Whatever CPython would
 * refuse stops the pickle with an error; what depends on the loader's
 * arguments (persistent_load, buffers, encodings, the extension registry)
 * is accepted, so that nothing a permissive loader runs goes unreported.
 */
#include "pickle_int.h"

#include <errno.h>
#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* The memo beyond max_memo only records which indices exist, as a bitmap
 * up to this many further indices; past it every index counts as set. */
#define MEMO_BITS_MAX ((uint64_t)1 << 26)

static int ascii_valid(const unsigned char *s, size_t n);

int pk_vm_init(pk_vm *vm, pk_ctx *c, pk_rd *rd, unsigned depth)
{
  memset(vm, 0, sizeof *vm);
  vm->c = c;
  vm->rd = rd;
  vm->depth = depth;
  vm->rep_at = UINT64_MAX;
  vm->stack_cap = c->o.max_stack < 256 ? c->o.max_stack : 256;
  vm->stack = malloc(vm->stack_cap * sizeof *vm->stack);
  vm->marks_cap = 32;
  vm->marks = malloc(vm->marks_cap * sizeof *vm->marks);
  if (!vm->stack || !vm->marks) {
    free(vm->stack);
    free(vm->marks);
    vm->stack = NULL;
    vm->marks = NULL;
    return MLG_ENOMEM;
  }
  return 0;
}

static void vm_reset(pk_vm *vm)
{
  size_t i;
  for (i = 0; i < vm->sp; i++)
    pk_val_decref(&vm->c->st, vm->stack[i]);
  vm->sp = 0;
  vm->nmarks = 0;
  vm->fence = 0;
  for (i = 0; i < vm->memo_cap; i++) {
    if (vm->memo[i].tag != PK_EMPTY) {
      pk_val_memo_release(&vm->c->st, vm->memo[i]);
      vm->memo[i].tag = PK_EMPTY;
    }
  }
  if (vm->memo_bits)
    memset(vm->memo_bits, 0, vm->memo_bits_words * sizeof *vm->memo_bits);
  vm->memo_len = 0;
  vm->proto = 0;
}

void pk_vm_free(pk_vm *vm)
{
  if (!vm || !vm->c)
    return;
  vm_reset(vm);
  free(vm->stack);
  free(vm->marks);
  free(vm->memo);
  free(vm->memo_bits);
  vm->stack = NULL;
  vm->marks = NULL;
  vm->memo = NULL;
  vm->memo_bits = NULL;
}

uint64_t pk_vm_report_at(const pk_vm *vm)
{
  return vm->rep_at != UINT64_MAX ? vm->rep_at : vm->op_at;
}

int pk_vm_fail(pk_vm *vm, int code, const char *fmt, ...)
{
  va_list ap;
  if (vm->err)
    return -1;
  vm->err = code;
  vm->err_at = pk_vm_report_at(vm);
  va_start(ap, fmt);
  vsnprintf(vm->err_msg, sizeof vm->err_msg, fmt, ap);
  va_end(ap);
  return -1;
}

static int underflow(pk_vm *vm)
{
  /* Pdata_stack_underflow */
  return pk_vm_fail(vm, MLG_EPARSE, "%s",
                    vm->nmarks ? "unexpected MARK found" : "unpickling stack underflow");
}

static int nomem(pk_vm *vm)
{
  vm->c->oom = 1;
  return pk_vm_fail(vm, MLG_ENOMEM, "out of memory");
}

static int grow_stack(pk_vm *vm)
{
  size_t cap = vm->stack_cap * 2;
  pk_val *n;
  if (vm->stack_cap >= vm->c->o.max_stack)
    return pk_vm_fail(vm, MLG_ELIMIT, "the unpickling stack exceeds %zu entries (max_stack)",
                      vm->c->o.max_stack);
  if (cap > vm->c->o.max_stack)
    cap = vm->c->o.max_stack;
  n = realloc(vm->stack, cap * sizeof *n);
  if (!n)
    return nomem(vm);
  vm->stack = n;
  vm->stack_cap = cap;
  return 0;
}

/* Takes v's reference (released on failure). */
static int push(pk_vm *vm, pk_val v)
{
  if (vm->sp == vm->stack_cap && grow_stack(vm) < 0) {
    pk_val_decref(&vm->c->st, v);
    return -1;
  }
  vm->stack[vm->sp++] = v;
  return 0;
}

static pk_val mkval(int tag)
{
  pk_val v;
  memset(&v, 0, sizeof v);
  v.tag = (uint8_t)tag;
  return v;
}

static int push_int(pk_vm *vm, int64_t i)
{
  pk_val v = mkval(PK_INT);
  v.u.i = i;
  return push(vm, v);
}

/* Pdata_pop: respects the fence of the innermost MARK. */
static int pop(pk_vm *vm, pk_val *out)
{
  if (vm->sp <= vm->fence) {
    *out = mkval(PK_NONE);
    return underflow(vm);
  }
  *out = vm->stack[--vm->sp];
  return 0;
}

static void clear_to(pk_vm *vm, size_t to)
{
  while (vm->sp > to)
    pk_val_decref(&vm->c->st, vm->stack[--vm->sp]);
}

/* marker(): pops the innermost mark. */
static int marker(pk_vm *vm, size_t *out)
{
  if (vm->nmarks < 1)
    return pk_vm_fail(vm, MLG_EPARSE, "could not find MARK");
  *out = vm->marks[--vm->nmarks];
  vm->fence = vm->nmarks ? vm->marks[vm->nmarks - 1] : 0;
  return 0;
}

static int rd_failed(pk_vm *vm)
{
  pk_rd *rd = vm->rd;
  if (vm->err)
    return -1;
  if (rd->fail == MLG_ENOMEM)
    vm->c->oom = 1;
  vm->err = rd->fail ? rd->fail : MLG_EPARSE;
  vm->err_at = pk_vm_report_at(vm);
  snprintf(vm->err_msg, sizeof vm->err_msg, "%s", rd->fail ? rd->fail_msg : "read error");
  return -1;
}

/* ---- numbers ----------------------------------------------------------- */

static int is_space(int c)
{
  return c == ' ' || c == '\t' || c == '\n' || c == '\v' || c == '\f' || c == '\r';
}

static int digit_val(int c)
{
  if (c >= '0' && c <= '9')
    return c - '0';
  if (c >= 'a' && c <= 'z')
    return c - 'a' + 10;
  if (c >= 'A' && c <= 'Z')
    return c - 'A' + 10;
  return 99;
}

/* PyLong_FromString(s, NULL, base) on the text up to its first NUL:
 * whitespace around, a sign, base prefixes for base 0, single underscores
 * between digits, no leading zeros in base 0, and the 4300-digit limit of
 * int(str) for non-power-of-two bases (Python >= 3.11). Returns 0 (value
 * in *v, or *big when it does not fit int64), -1 invalid, -2 too many
 * digits. */
static int py_int(const unsigned char *s, size_t n, int base, int64_t *v, int *big)
{
  size_t i = 0, ndig = 0;
  int neg = 0, prev_us = 0, lead_zero = 0, nonzero = 0;
  uint64_t acc = 0, lim;

  *big = 0;
  *v = 0;
  /* the common case: PUT/GET indices, plain decimal digits and '\n' */
  if (base == 10 && n >= 2 && n <= 19 && s[n - 1] == '\n') {
    for (i = 0; i + 1 < n && s[i] >= '0' && s[i] <= '9'; i++)
      acc = acc * 10 + (uint64_t)(s[i] - '0');
    if (i + 1 == n) {
      *v = (int64_t)acc;
      return 0;
    }
    i = 0;
    acc = 0;
  }
  for (size_t k = 0; k < n; k++) {
    if (s[k] == '\0') {
      n = k;
      break;
    }
  }
  while (i < n && is_space(s[i]))
    i++;
  if (i < n && (s[i] == '+' || s[i] == '-'))
    neg = s[i++] == '-';
  if (base == 0) {
    if (i + 1 < n && s[i] == '0' && (s[i + 1] == 'x' || s[i + 1] == 'X')) {
      base = 16;
      i += 2;
      prev_us = 1; /* "0x_1" is allowed: an underscore may follow the prefix */
    } else if (i + 1 < n && s[i] == '0' && (s[i + 1] == 'o' || s[i + 1] == 'O')) {
      base = 8;
      i += 2;
      prev_us = 1;
    } else if (i + 1 < n && s[i] == '0' && (s[i + 1] == 'b' || s[i + 1] == 'B')) {
      base = 2;
      i += 2;
      prev_us = 1;
    } else {
      base = 10;
      lead_zero = i < n && s[i] == '0';
    }
    if (prev_us) {
      if (i < n && s[i] == '_')
        i++;
      prev_us = 0;
    }
  }
  lim = neg ? (uint64_t)INT64_MAX + 1 : (uint64_t)INT64_MAX;
  for (; i < n; i++) {
    int d;
    if (s[i] == '_') {
      if (prev_us || ndig == 0)
        return -1;
      prev_us = 1;
      continue;
    }
    d = digit_val(s[i]);
    if (d >= base)
      break;
    prev_us = 0;
    ndig++;
    if (d)
      nonzero = 1;
    if (!*big) {
      if (acc > (lim - (uint64_t)d) / (uint64_t)base)
        *big = 1;
      else
        acc = acc * (uint64_t)base + (uint64_t)d;
    }
  }
  if (ndig == 0 || prev_us)
    return -1;
  if (lead_zero && nonzero)
    return -1;
  while (i < n && is_space(s[i]))
    i++;
  if (i != n)
    return -1;
  if (base == 10 && ndig > 4300)
    return -2;
  if (!*big)
    *v = neg ? (int64_t)(0 - acc) : (int64_t)acc;
  return 0;
}

/* PyOS_string_to_double followed by load_float's end check. */
static int py_float(const unsigned char *s, size_t n, double *out)
{
  char tmp[512];
  size_t i = 0, j;
  int digits = 0;
  char *end;

  for (j = 0; j < n; j++) {
    if (s[j] == '\0' || s[j] == '\n') {
      n = j;
      break;
    }
  }
  if (n == 0)
    return -1;
  *out = 0.0;
  if (s[i] == '+' || s[i] == '-')
    i++;
  {
    static const char *const words[] = {"infinity", "inf", "nan"};
    size_t w;
    for (w = 0; w < 3; w++) {
      size_t len = strlen(words[w]);
      if (n - i == len && strncasecmp((const char *)s + i, words[w], len) == 0) {
        *out = w == 2 ? NAN : (s[0] == '-' ? -INFINITY : INFINITY);
        return 0;
      }
    }
  }
  while (i < n && s[i] >= '0' && s[i] <= '9') {
    i++;
    digits++;
  }
  if (i < n && s[i] == '.') {
    i++;
    while (i < n && s[i] >= '0' && s[i] <= '9') {
      i++;
      digits++;
    }
  }
  if (!digits)
    return -1;
  if (i < n && (s[i] == 'e' || s[i] == 'E')) {
    size_t k = i + 1;
    int ed = 0;
    if (k < n && (s[k] == '+' || s[k] == '-'))
      k++;
    while (k < n && s[k] >= '0' && s[k] <= '9') {
      k++;
      ed++;
    }
    if (ed)
      i = k;
  }
  if (i != n)
    return -1;
  if (n >= sizeof tmp)
    return 0; /* valid, and its exact value is of no interest */
  memcpy(tmp, s, n);
  tmp[n] = '\0';
  errno = 0;
  *out = strtod(tmp, &end);
  if (errno == ERANGE && isinf(*out))
    return -3; /* OverflowError */
  return 0;
}

/* ---- strings ----------------------------------------------------------- */

/* Appends code point cp to d (UTF-8; surrogates encoded as-is). */
static size_t put_utf8(char *d, uint32_t cp)
{
  if (cp < 0x80) {
    d[0] = (char)cp;
    return 1;
  }
  if (cp < 0x800) {
    d[0] = (char)(0xc0 | (cp >> 6));
    d[1] = (char)(0x80 | (cp & 0x3f));
    return 2;
  }
  if (cp < 0x10000) {
    d[0] = (char)(0xe0 | (cp >> 12));
    d[1] = (char)(0x80 | ((cp >> 6) & 0x3f));
    d[2] = (char)(0x80 | (cp & 0x3f));
    return 3;
  }
  d[0] = (char)(0xf0 | (cp >> 18));
  d[1] = (char)(0x80 | ((cp >> 12) & 0x3f));
  d[2] = (char)(0x80 | ((cp >> 6) & 0x3f));
  d[3] = (char)(0x80 | (cp & 0x3f));
  return 4;
}

/* A str value from UTF-8 text (copied when it fits the budget). */
static pk_val str_from(pk_vm *vm, const char *s, size_t n, int is_bytes)
{
  pk_blob *b = pk_blob_new(&vm->c->st, n, is_bytes);
  if (b)
    memcpy(b->data, s, n);
  return pk_str_val(b, n, is_bytes);
}

/* Latin-1 bytes as a str (STRING/BINSTRING decoded with a byte-per-char
 * encoding: CPython's default ASCII refuses other bytes, loaders that pass
 * encoding='latin1' accept them). */
static pk_val str_latin1(pk_vm *vm, const unsigned char *s, size_t n)
{
  size_t i, extra = 0;
  pk_blob *b;
  char *d;
  for (i = 0; i < n; i++)
    extra += s[i] >= 0x80;
  b = pk_blob_new(&vm->c->st, n + extra, 0);
  if (!b)
    return pk_str_val(NULL, n + extra, 0);
  d = b->data;
  for (i = 0; i < n; i++)
    d += put_utf8(d, s[i]);
  return pk_str_val(b, n + extra, 0);
}

static int hexval(int c)
{
  int d = digit_val(c);
  return d < 16 ? d : -1;
}

/* PyUnicode_DecodeRawUnicodeEscape as load_unicode calls it: only \uXXXX
 * and \UXXXXXXXX are escapes (exactly 4 and 8 hex digits), every other
 * byte is its Latin-1 code point. */
static int raw_unicode_escape(pk_vm *vm, const unsigned char *s, size_t n, pk_val *out)
{
  char small[512], *tmp = small;
  size_t i = 0, o = 0;

  if (!memchr(s, '\\', n) && ascii_valid(s, n)) {
    *out = str_from(vm, (const char *)s, n, 0);
    return 0;
  }
  if (n * 4 + 1 > sizeof small && !(tmp = malloc(n * 4 + 1)))
    return nomem(vm);
  while (i < n) {
    unsigned c = s[i++];
    unsigned count, k;
    uint32_t cp = 0;
    if (c != '\\' || i >= n) {
      o += put_utf8(tmp + o, c);
      continue;
    }
    c = s[i++];
    if (c == 'u')
      count = 4;
    else if (c == 'U')
      count = 8;
    else {
      tmp[o++] = '\\';
      o += put_utf8(tmp + o, c);
      continue;
    }
    for (k = 0; k < count; k++) {
      int h = i < n ? hexval(s[i]) : -1;
      if (h < 0) {
        if (tmp != small)
          free(tmp);
        return pk_vm_fail(vm, MLG_EPARSE,
                          "UNICODE: 'rawunicodeescape' codec can't decode: truncated \\%s escape",
                          count == 4 ? "uXXXX" : "UXXXXXXXX");
      }
      cp = (cp << 4) | (uint32_t)h;
      i++;
    }
    if (cp > 0x10ffff) {
      if (tmp != small)
        free(tmp);
      return pk_vm_fail(vm, MLG_EPARSE,
                        "UNICODE: 'rawunicodeescape' codec can't decode: \\Uxxxxxxxx out of range");
    }
    o += put_utf8(tmp + o, cp);
  }
  *out = str_from(vm, tmp, o, 0);
  if (tmp != small)
    free(tmp);
  return 0;
}

/* PyBytes_DecodeEscape for the STRING opcode (Python 2 str literals). */
static int decode_escape(pk_vm *vm, const unsigned char *s, size_t n, pk_val *out)
{
  unsigned char *tmp = malloc(n + 1);
  size_t i = 0, o = 0;
  if (!tmp)
    return nomem(vm);
  while (i < n) {
    unsigned c = s[i++];
    if (c != '\\') {
      tmp[o++] = (unsigned char)c;
      continue;
    }
    if (i >= n) {
      free(tmp);
      return pk_vm_fail(vm, MLG_EPARSE, "STRING: Trailing \\ in string");
    }
    c = s[i++];
    switch (c) {
    case '\n': break;
    case '\\': tmp[o++] = '\\'; break;
    case '\'': tmp[o++] = '\''; break;
    case '"': tmp[o++] = '"'; break;
    case 'b': tmp[o++] = '\b'; break;
    case 'f': tmp[o++] = '\f'; break;
    case 't': tmp[o++] = '\t'; break;
    case 'n': tmp[o++] = '\n'; break;
    case 'r': tmp[o++] = '\r'; break;
    case 'v': tmp[o++] = '\v'; break;
    case 'a': tmp[o++] = '\a'; break;
    case '0': case '1': case '2': case '3': case '4': case '5': case '6': case '7': {
      unsigned v = c - '0';
      if (i < n && s[i] >= '0' && s[i] <= '7') {
        v = v * 8 + (s[i++] - '0');
        if (i < n && s[i] >= '0' && s[i] <= '7')
          v = v * 8 + (s[i++] - '0');
      }
      tmp[o++] = (unsigned char)v;
      break;
    }
    case 'x':
      if (i + 1 < n && hexval(s[i]) >= 0 && hexval(s[i + 1]) >= 0) {
        tmp[o++] = (unsigned char)(hexval(s[i]) * 16 + hexval(s[i + 1]));
        i += 2;
        break;
      }
      free(tmp);
      return pk_vm_fail(vm, MLG_EPARSE, "STRING: invalid \\x escape at position %zu", i - 2);
    default:
      tmp[o++] = '\\';
      tmp[o++] = (unsigned char)c;
      break;
    }
  }
  *out = str_latin1(vm, tmp, o);
  free(tmp);
  return 0;
}

/* Counted str/bytes payload: kept when it fits its cap and the budget,
 * else read through (UTF-8 still validated for str). */
static int load_payload(pk_vm *vm, uint64_t size, int kind, pk_val *out)
{
  pk_rd *rd = vm->rd;
  int is_bytes = kind == 1, mode = is_bytes ? PK_RD_INTO : PK_RD_FIXED;
  int utf8 = 1, *u8 = kind == 0 ? &utf8 : NULL;
  pk_blob *b = NULL;

  if (size <= SIZE_MAX / 2)
    b = pk_blob_new(&vm->c->st, (size_t)size, kind == 1);
  if (b && rd->lim - rd->off >= size &&
      (!u8 || ascii_valid(rd->p + rd->off, (size_t)size))) {
    memcpy(b->data, rd->p + rd->off, (size_t)size);
    rd->off += (size_t)size;
  } else if (pk_rd_take(rd, size, mode, b ? b->data : NULL, u8) < 0) {
    pk_val_decref(&vm->c->st, pk_str_val(b, size, 1));
    return rd_failed(vm);
  }
  if (u8 && !utf8) {
    pk_val_decref(&vm->c->st, pk_str_val(b, size, 1));
    return pk_vm_fail(vm, MLG_EPARSE, "'utf-8' codec can't decode the BINUNICODE argument");
  }
  if (kind == 2) { /* BINSTRING: Latin-1 text */
    pk_val v = b ? str_latin1(vm, (const unsigned char *)b->data, (size_t)size)
                 : pk_str_val(NULL, size, 0);
    if (b)
      pk_val_decref(&vm->c->st, pk_str_val(b, size, 1));
    *out = v;
    return 0;
  }
  *out = pk_str_val(b, size, is_bytes);
  return 0;
}

/* ---- memo -------------------------------------------------------------- */

static int memo_put(pk_vm *vm, uint64_t idx)
{
  pk_val v = vm->stack[vm->sp - 1];
  uint64_t max = vm->c->o.max_memo;

  if (idx < max) {
    if (idx >= vm->memo_cap) {
      size_t cap = vm->memo_cap ? vm->memo_cap : 64;
      pk_val *n;
      while (cap <= idx)
        cap *= 2;
      if (cap > max)
        cap = (size_t)max;
      n = realloc(vm->memo, cap * sizeof *n);
      if (!n)
        return nomem(vm);
      memset(n + vm->memo_cap, 0, (cap - vm->memo_cap) * sizeof *n);
      vm->memo = n;
      vm->memo_cap = cap;
    }
    if (vm->memo[idx].tag == PK_EMPTY)
      vm->memo_len++;
    else
      pk_val_memo_release(&vm->c->st, vm->memo[idx]);
    vm->memo[idx] = pk_val_memo_copy(&vm->c->st, v);
    return 0;
  }
  idx -= max;
  if (idx < MEMO_BITS_MAX) {
    size_t w = (size_t)(idx / 64);
    if (w >= vm->memo_bits_words) {
      size_t words = vm->memo_bits_words ? vm->memo_bits_words : 1024;
      uint64_t *n;
      while (words <= w)
        words *= 2;
      n = realloc(vm->memo_bits, words * sizeof *n);
      if (!n)
        return nomem(vm);
      memset(n + vm->memo_bits_words, 0, (words - vm->memo_bits_words) * sizeof *n);
      vm->memo_bits = n;
      vm->memo_bits_words = words;
    }
    if (!(vm->memo_bits[w] & ((uint64_t)1 << (idx % 64)))) {
      vm->memo_bits[w] |= (uint64_t)1 << (idx % 64);
      vm->memo_len++;
    }
    return 0;
  }
  vm->memo_len++;
  return 0;
}

static int memo_get(pk_vm *vm, uint64_t idx)
{
  uint64_t max = vm->c->o.max_memo;
  if (idx < vm->memo_cap && vm->memo[idx].tag != PK_EMPTY) {
    pk_val v = vm->memo[idx];
    pk_val_incref(v);
    return push(vm, v);
  }
  if (idx >= max) {
    uint64_t b = idx - max;
    if (b >= MEMO_BITS_MAX ||
        (b / 64 < vm->memo_bits_words && (vm->memo_bits[b / 64] & ((uint64_t)1 << (b % 64)))))
      return push(vm, mkval(PK_UNKNOWN));
  }
  if (vm->parent) {
    const pk_vm *p = vm->parent;
    if (idx < p->memo_cap && p->memo[idx].tag != PK_EMPTY) {
      pk_val v = p->memo[idx];
      pk_val_incref(v);
      return push(vm, v);
    }
    if (idx >= max)
      return push(vm, mkval(PK_UNKNOWN));
  }
  return pk_vm_fail(vm, MLG_EPARSE, "Memo value not found at index %llu",
                    (unsigned long long)idx);
}

/* ---- containers -------------------------------------------------------- */

/* Pops stack[from..sp) into a new container of kind (dict: pairs). */
static int make_container(pk_vm *vm, size_t from, int kind)
{
  pk_store *st = &vm->c->st;
  pk_obj *o = pk_obj_new(st, kind);
  pk_val v;
  size_t i;

  if (!o) {
    clear_to(vm, from);
    v = mkval(PK_SUM);
    v.sub = (uint16_t)kind;
    return push(vm, v);
  }
  for (i = from; i < vm->sp; i++)
    pk_obj_push(st, o, vm->stack[i]);
  if (kind == PK_K_DICT)
    o->count /= 2;
  vm->sp = from;
  v = mkval(PK_OBJ);
  v.u.o = o;
  return push(vm, v);
}

static int new_container(pk_vm *vm, int kind)
{
  return make_container(vm, vm->sp, kind);
}

/* Known not to be a container a method can be called on. */
static int is_plain(pk_val v)
{
  switch (v.tag) {
  case PK_NONE: case PK_BOOL: case PK_INT: case PK_BIGINT: case PK_FLOAT: case PK_STR:
    return 1;
  case PK_BYTES:
    return !(v.flags & PK_F_BYTEARRAY);
  default:
    return 0;
  }
}

static int obj_kind(pk_val v)
{
  if (v.tag == PK_OBJ)
    return v.u.o->kind;
  if (v.tag == PK_SUM)
    return v.sub;
  return 0;
}

/* The value that makes v raise "unhashable type" as a dict key or set
 * member (v itself or something in a tuple), or NULL. *budget bounds the
 * walk: tuples can share children, so depth alone would not. */
static const pk_val *unhashable(const pk_val *v, int *budget)
{
  int k = obj_kind(*v);
  uint16_t i;
  if (v->tag == PK_BYTES)
    return (v->flags & PK_F_BYTEARRAY) ? v : NULL;
  if (k == PK_K_LIST || k == PK_K_DICT || k == PK_K_SET)
    return v;
  if (v->tag == PK_OBJ && k == PK_K_TUPLE) {
    for (i = 0; i < v->u.o->n && --*budget > 0; i++) {
      const pk_val *u = unhashable(&v->u.o->items[i], budget);
      if (u)
        return u;
    }
  }
  return NULL;
}

/* Checks count values from p, stepping by step (dict keys: 2). */
static int check_hashable(pk_vm *vm, const pk_val *p, size_t count, size_t step)
{
  size_t i;
  for (i = 0; i < count; i += step) {
    int budget = 256;
    const pk_val *u = unhashable(&p[i], &budget);
    if (u)
      return pk_vm_fail(vm, MLG_EPARSE, "unhashable type: '%s'", pk_type_name(*u));
  }
  return 0;
}

/* do_append: list.extend, or extend()/append() of whatever it is. */
static void count_self_ref(pk_vm *vm, pk_val container, pk_val item);

static int do_append(pk_vm *vm, size_t x)
{
  pk_val t;
  int k;
  size_t i;

  if (x > vm->sp || x <= vm->fence)
    return underflow(vm);
  if (vm->sp == x)
    return 0;
  t = vm->stack[x - 1];
  k = obj_kind(t);
  if (t.tag == PK_OBJ && k == PK_K_LIST) {
    for (i = x; i < vm->sp; i++) {
      count_self_ref(vm, t, vm->stack[i]);
      pk_obj_push(&vm->c->st, t.u.o, vm->stack[i]);
    }
    vm->sp = x;
    return 0;
  }
  if ((is_plain(t) || (k && k != PK_K_LIST && k != PK_K_NAW)))
    return pk_vm_fail(vm, MLG_EPARSE, "APPEND: '%s' object has no attribute 'append'",
                      pk_type_name(t));
  if (t.tag == PK_GLOBAL)
    pk_import_called(vm, t.idx);
  clear_to(vm, x);
  return 0;
}

/* A container put into itself: one is a legitimate cycle, many are the
 * "expansion" pattern that makes repr, deepcopy or a naive traversal of
 * the loaded object explode (fickling's expansion-attack class). */
static void count_self_ref(pk_vm *vm, pk_val container, pk_val item)
{
  if (item.tag == PK_OBJ && container.tag == PK_OBJ && item.u.o == container.u.o)
    vm->c->rep->self_refs++;
}

/* do_setitems: obj[key] = value for each pair. */
static int do_setitems(pk_vm *vm, size_t x)
{
  pk_val t;
  int k;
  size_t i;

  if (x > vm->sp || x <= vm->fence)
    return underflow(vm);
  if (vm->sp == x)
    return 0;
  if ((vm->sp - x) % 2)
    return pk_vm_fail(vm, MLG_EPARSE, "odd number of items for SETITEMS");
  t = vm->stack[x - 1];
  k = obj_kind(t);
  if (k == PK_K_DICT && check_hashable(vm, vm->stack + x, vm->sp - x, 2) < 0)
    return -1;
  if (t.tag == PK_OBJ && k == PK_K_DICT) {
    for (i = x; i < vm->sp; i++) {
      count_self_ref(vm, t, vm->stack[i]);
      pk_obj_push(&vm->c->st, t.u.o, vm->stack[i]);
      if ((i - x) % 2)
        t.u.o->count--; /* pairs */
    }
    vm->sp = x;
    return 0;
  }
  if (t.tag == PK_OBJ && k == PK_K_LIST && !t.u.o->trunc) {
    /* list.__setitem__: an int index inside the list */
    for (i = x; i < vm->sp; i += 2) {
      pk_val key = vm->stack[i];
      int64_t len = (int64_t)t.u.o->count;
      if (key.tag == PK_INT || key.tag == PK_BOOL) {
        if (key.u.i >= len || key.u.i < -len)
          return pk_vm_fail(vm, MLG_EPARSE, "SETITEMS: list assignment index out of range");
      } else if (is_plain(key) || key.tag == PK_BYTES || key.tag == PK_OBJ || key.tag == PK_SUM) {
        return pk_vm_fail(vm, MLG_EPARSE,
                          "SETITEMS: list indices must be integers or slices, not %s",
                          pk_type_name(key));
      }
    }
  }
  if ((is_plain(t) && !(t.tag == PK_BYTES && (t.flags & PK_F_BYTEARRAY))) ||
      k == PK_K_TUPLE || k == PK_K_SET || k == PK_K_FROZENSET || k == PK_K_DTYPE ||
      k == PK_K_PARTIAL || k == PK_K_BYTESIO)
    return pk_vm_fail(vm, MLG_EPARSE, "SETITEMS: '%s' object does not support item assignment",
                      pk_type_name(t));
  if (t.tag == PK_GLOBAL)
    pk_import_called(vm, t.idx);
  clear_to(vm, x);
  return 0;
}

static int do_additems(pk_vm *vm)
{
  size_t mark, i;
  pk_val t;
  int k;

  if (marker(vm, &mark) < 0)
    return -1;
  if (mark > vm->sp || mark <= vm->fence)
    return underflow(vm);
  if (vm->sp == mark)
    return 0;
  t = vm->stack[mark - 1];
  k = obj_kind(t);
  if (k == PK_K_SET && check_hashable(vm, vm->stack + mark, vm->sp - mark, 1) < 0)
    return -1;
  if (t.tag == PK_OBJ && k == PK_K_SET) {
    for (i = mark; i < vm->sp; i++)
      pk_obj_push(&vm->c->st, t.u.o, vm->stack[i]);
    vm->sp = mark;
    return 0;
  }
  if (is_plain(t) || (k && k != PK_K_SET && k != PK_K_NAW))
    return pk_vm_fail(vm, MLG_EPARSE, "ADDITEMS: '%s' object has no attribute 'add'",
                      pk_type_name(t));
  if (t.tag == PK_GLOBAL)
    pk_import_called(vm, t.idx);
  clear_to(vm, mark);
  return 0;
}

/* ---- imports ----------------------------------------------------------- */

static int push_global(pk_vm *vm, uint32_t idx, const char *module, size_t mlen,
                       const char *name, size_t nlen, int resolved)
{
  pk_val v = mkval(PK_GLOBAL);
  char m[128], n[128];
  v.idx = idx;
  if (resolved && mlen < sizeof m && nlen < sizeof n) {
    memcpy(m, module, mlen);
    m[mlen] = '\0';
    memcpy(n, name, nlen);
    n[nlen] = '\0';
    v.sub = (uint16_t)pk_special_of(m, n);
  }
  return push(vm, v);
}

static int ascii_valid(const unsigned char *s, size_t n)
{
  size_t i;
  for (i = 0; i < n; i++) {
    if (s[i] >= 0x80)
      return 0;
  }
  return 1;
}

/* Strict UTF-8 (PyUnicode_DecodeUTF8 with "strict": no surrogates). */
static int utf8_valid(const unsigned char *s, size_t n)
{
  size_t i = 0;
  while (i < n) {
    unsigned c = s[i], need, lo = 0x80, hi = 0xbf, k;
    if (c < 0x80) {
      i++;
      continue;
    }
    if (c < 0xc2 || c >= 0xf5)
      return 0;
    need = c < 0xe0 ? 1 : c < 0xf0 ? 2 : 3;
    if (c == 0xe0)
      lo = 0xa0;
    else if (c == 0xed)
      hi = 0x9f;
    else if (c == 0xf0)
      lo = 0x90;
    else if (c == 0xf4)
      hi = 0x8f;
    if (n - i <= need)
      return 0;
    for (k = 1; k <= need; k++) {
      unsigned d = s[i + k];
      if (d < (k == 1 ? lo : 0x80u) || d > (k == 1 ? hi : 0xbfu))
        return 0;
    }
    i += need + 1;
  }
  return 1;
}

/* GLOBAL and INST: two lines, decoded UTF-8 (GLOBAL) or ASCII (INST). */
static int read_names(pk_vm *vm, int ascii, char **mod, size_t *mlen, char **name,
                      size_t *nlen)
{
  const unsigned char *l;
  uint64_t len;
  int pass;

  *mod = *name = NULL;
  for (pass = 0; pass < 2; pass++) {
    char **dst = pass ? name : mod;
    size_t *dlen = pass ? nlen : mlen;
    int ok = 1;
    if (pk_rd_line(vm->rd, &l, &len) < 0)
      goto rd_fail;
    if (len < 2) {
      pk_rd_set_fail(vm->rd, MLG_EPARSE, pk_rd_pos(vm->rd), "pickle data was truncated");
      goto rd_fail;
    }
    if (!l) {
      pk_vm_fail(vm, MLG_ELIMIT, "%s name longer than %zu bytes (max_string)",
                 ascii ? "INST" : "GLOBAL", vm->c->o.max_string);
      goto fail;
    }
    len--;
    ok = ascii ? ascii_valid(l, (size_t)len) : utf8_valid(l, (size_t)len);
    if (!ok) {
      pk_vm_fail(vm, MLG_EPARSE, "%s: the %s name is not %s", ascii ? "INST" : "GLOBAL",
                 pass ? "global" : "module", ascii ? "ASCII" : "UTF-8");
      goto fail;
    }
    *dst = malloc((size_t)len + 1);
    if (!*dst) {
      nomem(vm);
      goto fail;
    }
    memcpy(*dst, l, (size_t)len);
    (*dst)[len] = '\0';
    *dlen = (size_t)len;
  }
  return 0;
rd_fail:
  rd_failed(vm);
fail:
  free(*mod);
  free(*name);
  *mod = *name = NULL;
  return -1;
}

/* Could be exactly a str at run time (PyUnicode_CheckExact). */
static int maybe_str(pk_val v)
{
  return v.tag == PK_STR || v.tag == PK_GLOBAL || v.tag == PK_CALL || v.tag == PK_PERSID ||
         v.tag == PK_UNKNOWN || v.tag == PK_BUFFER;
}

/* What a STACK_GLOBAL operand names: kept text, a dropped string found
 * by its hash among earlier names, or "?" (*resolved = 0). */
static const char *operand_text(pk_vm *vm, pk_val v, size_t *len, int *resolved)
{
  const char *t;
  *resolved = 1;
  if (v.tag == PK_STR && (t = pk_val_text(v, len)) != NULL)
    return t;
  if (v.tag == PK_STR && (v.flags & PK_F_HASHED) &&
      (t = pk_name_by_hash(vm->c, v.u.h, len)) != NULL)
    return t;
  *resolved = 0;
  *len = 1;
  return "?";
}

static int stack_global(pk_vm *vm)
{
  pk_val name, module;
  const char *m, *n;
  size_t ml, nl;
  int rm, rn, r;
  uint32_t idx;

  if (pop(vm, &name) < 0)
    return -1;
  if (pop(vm, &module) < 0) {
    pk_val_decref(&vm->c->st, name);
    return -1;
  }
  if (!maybe_str(module) || !maybe_str(name)) {
    pk_val_decref(&vm->c->st, name);
    pk_val_decref(&vm->c->st, module);
    return pk_vm_fail(vm, MLG_EPARSE, "STACK_GLOBAL requires str");
  }
  m = operand_text(vm, module, &ml, &rm);
  n = operand_text(vm, name, &nl, &rn);
  idx = pk_import_add(vm, m, ml, n, nl, MLG_PK_STACK_GLOBAL, rm && rn, 0);
  r = vm->c->oom ? nomem(vm) : push_global(vm, idx, m, ml, n, nl, rm && rn);
  pk_val_decref(&vm->c->st, name);
  pk_val_decref(&vm->c->st, module);
  return r;
}

/* ---- calls ------------------------------------------------------------- */

static int reduce(pk_vm *vm)
{
  pk_val args, fn, res;
  const pk_val *items = NULL;
  size_t n = 0;
  int complete = 0, r;

  if (pop(vm, &args) < 0)
    return -1;
  if (pop(vm, &fn) < 0) {
    pk_val_decref(&vm->c->st, args);
    return -1;
  }
  if (args.tag == PK_OBJ && args.u.o->kind == PK_K_TUPLE) {
    items = args.u.o->items;
    n = args.u.o->n;
    complete = !args.u.o->trunc;
  }
  r = pk_call(vm, fn, items, n, complete, &res);
  pk_val_decref(&vm->c->st, fn);
  pk_val_decref(&vm->c->st, args);
  if (r < 0)
    return -1;
  return push(vm, res);
}

/* Known not to be a type (NEWOBJ's PyType_Check). */
static int not_a_type(pk_val v)
{
  return is_plain(v) || v.tag == PK_BYTES || v.tag == PK_OBJ || v.tag == PK_SUM;
}

static int newobj(pk_vm *vm, int ex)
{
  const char *op = ex ? "NEWOBJ_EX" : "NEWOBJ";
  pk_val kwargs = mkval(PK_NONE), args, cls, res;
  int r = -1;

  if (ex && pop(vm, &kwargs) < 0)
    return -1;
  if (pop(vm, &args) < 0) {
    pk_val_decref(&vm->c->st, kwargs);
    return -1;
  }
  if (pop(vm, &cls) < 0) {
    pk_val_decref(&vm->c->st, kwargs);
    pk_val_decref(&vm->c->st, args);
    return -1;
  }
  if (not_a_type(cls))
    pk_vm_fail(vm, MLG_EPARSE, "%s class argument must be a type, not %s", op,
               pk_type_name(cls));
  else if (not_a_type(args) && obj_kind(args) != PK_K_TUPLE)
    pk_vm_fail(vm, MLG_EPARSE, "%s args argument must be a tuple, not %s", op,
               pk_type_name(args));
  else if (ex && not_a_type(kwargs) && obj_kind(kwargs) != PK_K_DICT)
    pk_vm_fail(vm, MLG_EPARSE, "%s kwargs argument must be a dict, not %s", op,
               pk_type_name(kwargs));
  else if (pk_new(vm, cls, &res) == 0)
    r = 0;
  pk_val_decref(&vm->c->st, kwargs);
  pk_val_decref(&vm->c->st, args);
  pk_val_decref(&vm->c->st, cls);
  return r < 0 ? -1 : push(vm, res);
}

/* OBJ and INST: instantiate(cls, args) with args stack[from..sp); the
 * stack ends at base (cls's reference is the caller's, given here). */
static int instantiate(pk_vm *vm, pk_val cls, size_t from, size_t base)
{
  pk_val res;
  int r = pk_call(vm, cls, vm->stack + from, vm->sp - from, 1, &res);
  clear_to(vm, from);
  vm->sp = base;
  pk_val_decref(&vm->c->st, cls);
  if (r < 0)
    return -1;
  return push(vm, res);
}

/* ---- the loop ---------------------------------------------------------- */

static int read_line(pk_vm *vm, const unsigned char **l, uint64_t *len)
{
  if (pk_rd_line(vm->rd, l, len) < 0)
    return rd_failed(vm);
  return 0;
}

static int truncated_line(pk_vm *vm)
{
  pk_rd_set_fail(vm->rd, MLG_EPARSE, pk_rd_pos(vm->rd), "pickle data was truncated");
  return rd_failed(vm);
}

static uint64_t le(const unsigned char *p, int n)
{
  uint64_t x = 0;
  int i;
  for (i = 0; i < n; i++)
    x |= (uint64_t)p[i] << (8 * i);
  return x;
}

#define SMALL(ptr, n)                          \
  do {                                         \
    if (rd->lim - rd->off >= (n)) {            \
      ptr = rd->p + rd->off;                   \
      rd->off += (n);                          \
    } else if (!(ptr = pk_rd_small(rd, (n)))) \
      return rd_failed(vm);                    \
  } while (0)

#define PUSHV(v)             \
  do {                       \
    if (push(vm, (v)) < 0)   \
      return -1;             \
  } while (0)

static int line_index(pk_vm *vm, const char *op, uint64_t *idx)
{
  const unsigned char *l;
  uint64_t len;
  int64_t v;
  int big, r;
  if (read_line(vm, &l, &len) < 0)
    return -1;
  if (len < 2)
    return truncated_line(vm);
  if (!l)
    return pk_vm_fail(vm, MLG_EPARSE, "%s argument is too long", op);
  r = py_int(l, (size_t)len, 10, &v, &big);
  if (r < 0)
    return pk_vm_fail(vm, MLG_EPARSE, "%s: invalid literal for int() with base 10", op);
  if (big)
    return pk_vm_fail(vm, MLG_EPARSE, "%s: Python int too large to convert to C ssize_t", op);
  if (v < 0) {
    if (op[0] == 'P')
      return pk_vm_fail(vm, MLG_EPARSE, "negative PUT argument");
    return pk_vm_fail(vm, MLG_EPARSE, "Memo value not found at index %lld", (long long)v);
  }
  *idx = (uint64_t)v;
  return 0;
}

static int op_int(pk_vm *vm, int is_long)
{
  const unsigned char *l;
  uint64_t len;
  int64_t v = 0;
  int big = 0, r;
  char tmp[64], *end;
  pk_val val;

  if (read_line(vm, &l, &len) < 0)
    return -1;
  if (len < 2)
    return truncated_line(vm);
  if (!l) /* a number of more than max_string digits: its value is moot */
    return push(vm, mkval(PK_BIGINT));
  if (is_long) {
    /* load_long: an 'L' before the newline is dropped */
    size_t n = (size_t)len;
    if (l[n - 2] == 'L')
      n -= 2;
    r = py_int(l, n, 0, &v, &big);
  } else {
    if (len < sizeof tmp) {
      /* load_int: strtol(s, &end, 0) first */
      memcpy(tmp, l, (size_t)len);
      tmp[len] = '\0';
      errno = 0;
      v = strtol(tmp, &end, 0);
      if (!errno && (*end == '\n' || *end == '\0')) {
        if (len == 3 && (v == 0 || v == 1)) {
          val = mkval(PK_BOOL);
          val.u.i = v;
          return push(vm, val);
        }
        return push_int(vm, v);
      }
    }
    r = py_int(l, (size_t)len, 0, &v, &big);
  }
  if (r == -2)
    return pk_vm_fail(vm, MLG_EPARSE,
                      "%s: Exceeds the limit (4300 digits) for integer string conversion",
                      is_long ? "LONG" : "INT");
  if (r < 0)
    return pk_vm_fail(vm, MLG_EPARSE, "%s: could not convert string to int",
                      is_long ? "LONG" : "INT");
  if (big)
    return push(vm, mkval(PK_BIGINT));
  return push_int(vm, v);
}

static int op_counted_long(pk_vm *vm, int n)
{
  pk_rd *rd = vm->rd;
  const unsigned char *p;
  int64_t size;
  unsigned char tmp[8];

  SMALL(p, (size_t)n);
  size = n == 1 ? (int64_t)p[0] : (int64_t)(int32_t)(uint32_t)le(p, 4);
  if (size < 0)
    return pk_vm_fail(vm, MLG_EPARSE, "LONG pickle has negative byte count");
  if (size == 0)
    return push_int(vm, 0);
  if (size <= 8) {
    uint64_t x;
    int64_t v;
    if (pk_rd_take(rd, (uint64_t)size, PK_RD_FIXED, (char *)tmp, NULL) < 0)
      return rd_failed(vm);
    x = le(tmp, (int)size);
    if (size < 8 && (tmp[size - 1] & 0x80))
      x |= ~(uint64_t)0 << (8 * size);
    memcpy(&v, &x, sizeof v);
    return push_int(vm, v);
  }
  if (pk_rd_take(rd, (uint64_t)size, PK_RD_FIXED, NULL, NULL) < 0)
    return rd_failed(vm);
  return push(vm, mkval(PK_BIGINT));
}

static int op_string(pk_vm *vm)
{
  const unsigned char *l;
  uint64_t len;
  pk_val v;

  if (read_line(vm, &l, &len) < 0)
    return -1;
  len--;
  if (!l) {
    if (len >= 2 && vm->rd->line_first == vm->rd->line_last &&
        (vm->rd->line_first == '\'' || vm->rd->line_first == '"'))
      return push(vm, pk_str_val(NULL, len - 2, 0));
  } else if (len >= 2 && l[0] == l[len - 1] && (l[0] == '\'' || l[0] == '"')) {
    if (decode_escape(vm, l + 1, (size_t)len - 2, &v) < 0)
      return -1;
    return push(vm, v);
  }
  return pk_vm_fail(vm, MLG_EPARSE, "the STRING opcode argument must be quoted");
}

static int op_frame(pk_vm *vm)
{
  pk_rd *rd = vm->rd;
  const unsigned char *p;
  uint64_t n;
  SMALL(p, 8);
  n = le(p, 8);
  if (pk_rd_frame(rd, n, vm->op_at) < 0)
    return rd_failed(vm);
  return 0;
}

static int op_unknown(pk_vm *vm, int c)
{
  if (c >= 0x20 && c <= 0x7e && c != '\'' && c != '\\')
    return pk_vm_fail(vm, MLG_EPARSE, "invalid load key, '%c'.", c);
  return pk_vm_fail(vm, MLG_EPARSE, "invalid load key, '\\x%02x'.", c);
}

static int op_ext(pk_vm *vm, int n)
{
  pk_rd *rd = vm->rd;
  const unsigned char *p;
  long code;
  uint32_t idx;
  SMALL(p, (size_t)n);
  code = n == 4 ? (long)(int32_t)(uint32_t)le(p, 4) : (long)le(p, n);
  if (code <= 0)
    return pk_vm_fail(vm, MLG_EPARSE, "EXT specifies code <= 0");
  idx = pk_import_add(vm, "?", 1, "?", 1, MLG_PK_EXT, 0, code);
  if (vm->c->oom)
    return nomem(vm);
  return push_global(vm, idx, "?", 1, "?", 1, 0);
}

int pk_vm_run(pk_vm *vm)
{
  pk_rd *rd = vm->rd;
  mlg_pickle_report *rep = vm->c->rep;
  const unsigned char *p;
  int first = 1;

  vm_reset(vm);
  vm->err = 0;
  if (vm->shadow) {
    /* what the real stack holds is unknown here: a few values and a mark */
    int k;
    for (k = 0; k < 8; k++) {
      if (k == 4)
        vm->marks[vm->nmarks++] = vm->fence = vm->sp;
      if (push(vm, mkval(PK_UNKNOWN)) < 0)
        return -1;
    }
    vm->memo_len = vm->parent ? vm->parent->memo_len : 0;
  }
  for (;;) {
    int c;
    vm->op_at = rd->base + rd->off;
    if (rd->off < rd->lim) {
      c = rd->p[rd->off++];
    } else {
      c = pk_rd_byte(rd);
      if (c == -2)
        return rd_failed(vm);
      if (c == -1) {
        if (first)
          return 1;
        return pk_vm_fail(vm, MLG_EPARSE, "pickle data ends before its STOP "
                                          "(EOFError: Ran out of input)");
      }
    }
    first = 0;
    rep->opcodes++;
    switch (c) {
    case '(': /* MARK */
      if (vm->nmarks == vm->marks_cap) {
        size_t cap = vm->marks_cap * 2;
        size_t *n;
        if (vm->marks_cap >= vm->c->o.max_stack)
          return pk_vm_fail(vm, MLG_ELIMIT, "more than %zu MARKs (max_stack)",
                            vm->c->o.max_stack);
        n = realloc(vm->marks, cap * sizeof *n);
        if (!n)
          return nomem(vm);
        vm->marks = n;
        vm->marks_cap = cap;
      }
      vm->marks[vm->nmarks++] = vm->fence = vm->sp;
      break;
    case '.': { /* STOP */
      pk_val v;
      if (pop(vm, &v) < 0)
        return -1;
      pk_val_decref(&vm->c->st, v);
      /* The loader returns the top value and drops the rest: values (and
       * calls) left under it are never seen by the caller. No pickler
       * writes that. */
      if (vm->sp + vm->nmarks > vm->c->rep->stack_residue)
        vm->c->rep->stack_residue = (unsigned)(vm->sp + vm->nmarks);
      if (rd->s)
        pk_rd_stop(rd, vm->op_at);
      return 0;
    }
    case '0': /* POP (load_pop: a mark on top is popped instead) */
      if (vm->nmarks && vm->marks[vm->nmarks - 1] == vm->sp) {
        vm->nmarks--;
        vm->fence = vm->nmarks ? vm->marks[vm->nmarks - 1] : 0;
      } else if (vm->sp <= vm->fence) {
        return underflow(vm);
      } else {
        pk_val_decref(&vm->c->st, vm->stack[--vm->sp]);
      }
      break;
    case '1': { /* POP_MARK */
      size_t i;
      if (marker(vm, &i) < 0)
        return -1;
      clear_to(vm, i);
      break;
    }
    case '2': /* DUP */
      if (vm->sp <= vm->fence)
        return underflow(vm);
      pk_val_incref(vm->stack[vm->sp - 1]);
      PUSHV(vm->stack[vm->sp - 1]);
      break;
    case 'F': { /* FLOAT */
      const unsigned char *l;
      uint64_t len;
      pk_val v = mkval(PK_FLOAT);
      int r;
      if (read_line(vm, &l, &len) < 0)
        return -1;
      if (len < 2)
        return truncated_line(vm);
      r = l ? py_float(l, (size_t)len, &v.u.d) : 0;
      if (r == -3)
        return pk_vm_fail(vm, MLG_EPARSE, "FLOAT: value too large to convert to float");
      if (r < 0)
        return pk_vm_fail(vm, MLG_EPARSE, "could not convert string to float");
      PUSHV(v);
      break;
    }
    case 'I':
      if (op_int(vm, 0) < 0)
        return -1;
      break;
    case 'L':
      if (op_int(vm, 1) < 0)
        return -1;
      break;
    case 'J': /* BININT: signed */
      SMALL(p, 4);
      if (push_int(vm, (int32_t)(uint32_t)le(p, 4)) < 0)
        return -1;
      break;
    case 'K': /* BININT1 */
      SMALL(p, 1);
      if (push_int(vm, p[0]) < 0)
        return -1;
      break;
    case 'M': /* BININT2 */
      SMALL(p, 2);
      if (push_int(vm, (int64_t)le(p, 2)) < 0)
        return -1;
      break;
    case 0x8a: /* LONG1 */
      if (op_counted_long(vm, 1) < 0)
        return -1;
      break;
    case 0x8b: /* LONG4 */
      if (op_counted_long(vm, 4) < 0)
        return -1;
      break;
    case 'G': { /* BINFLOAT: big-endian IEEE */
      pk_val v = mkval(PK_FLOAT);
      uint64_t x = 0;
      int i;
      SMALL(p, 8);
      for (i = 0; i < 8; i++)
        x = (x << 8) | p[i];
      memcpy(&v.u.d, &x, sizeof v.u.d);
      PUSHV(v);
      break;
    }
    case 'N':
      PUSHV(mkval(PK_NONE));
      break;
    case 0x88: /* NEWTRUE */
    case 0x89: { /* NEWFALSE */
      pk_val v = mkval(PK_BOOL);
      v.u.i = c == 0x88;
      PUSHV(v);
      break;
    }
    case 'S':
      if (op_string(vm) < 0)
        return -1;
      break;
    case 'T':   /* BINSTRING */
    case 'U':   /* SHORT_BINSTRING */
    case 'X':   /* BINUNICODE */
    case 0x8c:  /* SHORT_BINUNICODE */
    case 0x8d:  /* BINUNICODE8 */
    case 'B':   /* BINBYTES */
    case 'C':   /* SHORT_BINBYTES */
    case 0x8e:  /* BINBYTES8 */
    case 0x96: { /* BYTEARRAY8 */
      int nb = (c == 'U' || c == 0x8c || c == 'C')   ? 1
               : (c == 0x8d || c == 0x8e || c == 0x96) ? 8
                                                       : 4;
      int kind = (c == 'X' || c == 0x8c || c == 0x8d) ? 0 : (c == 'T' || c == 'U') ? 2 : 1;
      uint64_t size;
      pk_val v;
      SMALL(p, (size_t)nb);
      size = le(p, nb);
      if (size > (uint64_t)INT64_MAX) /* calc_binsize */
        return pk_vm_fail(vm, MLG_EPARSE, "%s exceeds system's maximum size of %lld bytes",
                          kind == 0 ? "BINUNICODE" : kind == 2 ? "BINSTRING" :
                          c == 0x96 ? "BYTEARRAY8" : "BINBYTES", (long long)INT64_MAX);
      if (load_payload(vm, size, kind, &v) < 0)
        return -1;
      if (c == 0x96)
        v.flags |= PK_F_BYTEARRAY;
      PUSHV(v);
      break;
    }
    case 'V': { /* UNICODE: raw-unicode-escape */
      const unsigned char *l;
      uint64_t len;
      pk_val v;
      if (read_line(vm, &l, &len) < 0)
        return -1;
      if (!l) {
        v = pk_str_val(NULL, len - 1, 0);
      } else if (raw_unicode_escape(vm, l, (size_t)len - 1, &v) < 0) {
        return -1;
      }
      PUSHV(v);
      break;
    }
    case 0x97: /* NEXT_BUFFER: only with buffers=, which loaders may pass */
      PUSHV(mkval(PK_BUFFER));
      break;
    case 0x98: /* READONLY_BUFFER */
      if (vm->sp <= vm->fence)
        return underflow(vm);
      break;
    case ')': /* EMPTY_TUPLE */
      if (new_container(vm, PK_K_TUPLE) < 0)
        return -1;
      break;
    case 0x85: /* TUPLE1 */
    case 0x86: /* TUPLE2 */
    case 0x87: { /* TUPLE3: load_counted_tuple */
      size_t n = (size_t)(c - 0x84);
      if (vm->sp < n || vm->sp - n < vm->fence)
        return underflow(vm);
      if (make_container(vm, vm->sp - n, PK_K_TUPLE) < 0)
        return -1;
      break;
    }
    case 't': { /* TUPLE */
      size_t i;
      if (marker(vm, &i) < 0 || make_container(vm, i, PK_K_TUPLE) < 0)
        return -1;
      break;
    }
    case ']':
      if (new_container(vm, PK_K_LIST) < 0)
        return -1;
      break;
    case '}':
      if (new_container(vm, PK_K_DICT) < 0)
        return -1;
      break;
    case 0x8f: /* EMPTY_SET */
      if (new_container(vm, PK_K_SET) < 0)
        return -1;
      break;
    case 'l': { /* LIST */
      size_t i;
      if (marker(vm, &i) < 0 || make_container(vm, i, PK_K_LIST) < 0)
        return -1;
      break;
    }
    case 'd': { /* DICT */
      size_t i;
      if (marker(vm, &i) < 0)
        return -1;
      if ((vm->sp - i) % 2)
        return pk_vm_fail(vm, MLG_EPARSE, "odd number of items for DICT");
      if (check_hashable(vm, vm->stack + i, vm->sp - i, 2) < 0 ||
          make_container(vm, i, PK_K_DICT) < 0)
        return -1;
      break;
    }
    case 0x91: { /* FROZENSET */
      size_t i;
      if (marker(vm, &i) < 0 || check_hashable(vm, vm->stack + i, vm->sp - i, 1) < 0 ||
          make_container(vm, i, PK_K_FROZENSET) < 0)
        return -1;
      break;
    }
    case 0x90: /* ADDITEMS */
      if (do_additems(vm) < 0)
        return -1;
      break;
    case 'a': /* APPEND */
      if (vm->sp < 1 || vm->sp - 1 <= vm->fence)
        return underflow(vm);
      if (do_append(vm, vm->sp - 1) < 0)
        return -1;
      break;
    case 'e': { /* APPENDS */
      size_t i;
      if (marker(vm, &i) < 0 || do_append(vm, i) < 0)
        return -1;
      break;
    }
    case 's': /* SETITEM */
      if (vm->sp < 2)
        return underflow(vm);
      if (do_setitems(vm, vm->sp - 2) < 0)
        return -1;
      break;
    case 'u': { /* SETITEMS */
      size_t i;
      if (marker(vm, &i) < 0 || do_setitems(vm, i) < 0)
        return -1;
      break;
    }
    case 'b': { /* BUILD */
      pk_val state;
      int r;
      if (vm->sp < 2 || vm->sp - 2 < vm->fence)
        return underflow(vm);
      state = vm->stack[--vm->sp];
      r = pk_build(vm, &vm->stack[vm->sp - 1], state);
      pk_val_decref(&vm->c->st, state);
      if (r < 0)
        return -1;
      break;
    }
    case 'R':
      if (reduce(vm) < 0)
        return -1;
      break;
    case 0x81: /* NEWOBJ */
    case 0x92: /* NEWOBJ_EX */
      if (newobj(vm, c == 0x92) < 0)
        return -1;
      break;
    case 'o': { /* OBJ */
      size_t i;
      pk_val cls;
      if (marker(vm, &i) < 0)
        return -1;
      if (vm->sp - i < 1)
        return underflow(vm);
      cls = vm->stack[i];
      if (instantiate(vm, cls, i + 1, i) < 0)
        return -1;
      break;
    }
    case 'i': { /* INST */
      size_t i;
      char *mod, *name;
      size_t ml, nl;
      uint32_t idx;
      pk_val cls;
      if (marker(vm, &i) < 0)
        return -1;
      if (read_names(vm, 1, &mod, &ml, &name, &nl) < 0)
        return -1;
      idx = pk_import_add(vm, mod, ml, name, nl, MLG_PK_INST, 1, 0);
      if (vm->c->oom) {
        free(mod);
        free(name);
        return nomem(vm);
      }
      cls = mkval(PK_GLOBAL);
      cls.idx = idx;
      cls.sub = (uint16_t)pk_special_of(mod, name);
      free(mod);
      free(name);
      if (instantiate(vm, cls, i, i) < 0)
        return -1;
      break;
    }
    case 'c': { /* GLOBAL */
      char *mod, *name;
      size_t ml, nl;
      uint32_t idx;
      int r;
      if (read_names(vm, 0, &mod, &ml, &name, &nl) < 0)
        return -1;
      idx = pk_import_add(vm, mod, ml, name, nl, MLG_PK_GLOBAL, 1, 0);
      r = vm->c->oom ? nomem(vm) : push_global(vm, idx, mod, ml, name, nl, 1);
      free(mod);
      free(name);
      if (r < 0)
        return -1;
      break;
    }
    case 0x93:
      if (stack_global(vm) < 0)
        return -1;
      break;
    case 'P': { /* PERSID */
      const unsigned char *l;
      uint64_t len, k;
      if (read_line(vm, &l, &len) < 0)
        return -1;
      if (len < 1)
        return truncated_line(vm);
      for (k = 0; l && k + 1 < len; k++) {
        if (l[k] >= 0x80)
          return pk_vm_fail(vm, MLG_EPARSE,
                            "persistent IDs in protocol 0 must be ASCII strings");
      }
      rep->persistent_ids++;
      {
        pk_val v = mkval(PK_PERSID);
        v.idx = PK_NOIMP;
        PUSHV(v);
      }
      break;
    }
    case 'Q': { /* BINPERSID */
      pk_val pid, v = mkval(PK_PERSID);
      uint16_t k;
      if (pop(vm, &pid) < 0)
        return -1;
      /* torch's persistent_load('module', cls, ...) returns cls: calling
       * the result calls the global the id carried */
      v.idx = PK_NOIMP;
      if (pid.tag == PK_GLOBAL)
        v.idx = pid.idx;
      for (k = 0; pid.tag == PK_OBJ && k < pid.u.o->n && v.idx == PK_NOIMP; k++) {
        if (pid.u.o->items[k].tag == PK_GLOBAL)
          v.idx = pid.u.o->items[k].idx;
      }
      pk_val_decref(&vm->c->st, pid);
      rep->persistent_ids++;
      PUSHV(v);
      break;
    }
    case 'g': { /* GET */
      uint64_t idx = 0;
      if (line_index(vm, "GET", &idx) < 0 || memo_get(vm, idx) < 0)
        return -1;
      break;
    }
    case 'h': /* BINGET */
      SMALL(p, 1);
      if (memo_get(vm, p[0]) < 0)
        return -1;
      break;
    case 'j': /* LONG_BINGET */
      SMALL(p, 4);
      if (memo_get(vm, le(p, 4)) < 0)
        return -1;
      break;
    case 'p': { /* PUT: the stack is checked before the argument is parsed */
      const unsigned char *l;
      uint64_t len, idx;
      int64_t v;
      int big, r;
      if (read_line(vm, &l, &len) < 0)
        return -1;
      if (len < 2)
        return truncated_line(vm);
      if (vm->sp <= vm->fence)
        return underflow(vm);
      if (!l)
        return pk_vm_fail(vm, MLG_EPARSE, "PUT argument is too long");
      r = py_int(l, (size_t)len, 10, &v, &big);
      if (r < 0)
        return pk_vm_fail(vm, MLG_EPARSE, "PUT: invalid literal for int() with base 10");
      if (big)
        return pk_vm_fail(vm, MLG_EPARSE, "PUT: Python int too large to convert to C ssize_t");
      if (v < 0)
        return pk_vm_fail(vm, MLG_EPARSE, "negative PUT argument");
      idx = (uint64_t)v;
      if (memo_put(vm, idx) < 0)
        return -1;
      break;
    }
    case 'q': /* BINPUT */
      SMALL(p, 1);
      if (vm->sp <= vm->fence)
        return underflow(vm);
      if (memo_put(vm, p[0]) < 0)
        return -1;
      break;
    case 'r': /* LONG_BINPUT */
      SMALL(p, 4);
      if (vm->sp <= vm->fence)
        return underflow(vm);
      if (memo_put(vm, le(p, 4)) < 0)
        return -1;
      break;
    case 0x94: /* MEMOIZE */
      if (vm->sp <= vm->fence)
        return underflow(vm);
      if (memo_put(vm, vm->memo_len) < 0)
        return -1;
      break;
    case 0x80: /* PROTO */
      SMALL(p, 1);
      if (p[0] > 5)
        return pk_vm_fail(vm, MLG_EPARSE, "unsupported pickle protocol: %d", p[0]);
      vm->proto = p[0];
      if (vm->proto > rep->max_protocol)
        rep->max_protocol = vm->proto;
      break;
    case 0x95:
      if (op_frame(vm) < 0)
        return -1;
      break;
    case 0x82:
      if (op_ext(vm, 1) < 0)
        return -1;
      break;
    case 0x83:
      if (op_ext(vm, 2) < 0)
        return -1;
      break;
    case 0x84:
      if (op_ext(vm, 4) < 0)
        return -1;
      break;
    default:
      return op_unknown(vm, c);
    }
  }
}
