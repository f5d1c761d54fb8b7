/*
 * Input for the pickle VM, read the way CPython's C unpickler reads.
 *
 * From memory (pickle.loads, our nested pickles) FRAME only checks that
 * its length is available: frames are otherwise transparent
 * (Modules/_pickle.c load_frame: _Unpickler_Read(frame_len), then rewinds).
 *
 * From a file (pickle.load, torch.load, joblib) the same load_frame reads
 * the frame's bytes into the unpickler's input buffer; later reads are
 * served from that buffer while they fit (the _Unpickler_Read macro) and
 * otherwise go to the file (_Unpickler_ReadImpl -> _Unpickler_ReadFromFile),
 * which drops what was left in the buffer. _Unpickler_ReadInto (the
 * payload of BINBYTES, BINBYTES8, BYTEARRAY8) takes the rest of the
 * buffer and continues in the file; _Unpickler_Readline looks for '\n' in
 * the buffer and otherwise reads a line from the file. A read that
 * straddles a frame's end is therefore read differently by pickle.loads,
 * by pickle.load on a BytesIO (no peek) and on a real file (peek), and
 * pickle.py's _Unframer refuses it: we follow pickle.load without peek
 * (torch.load's zip members are BytesIO) and record the divergence, which
 * the scan reports as an error.
 */
#include "pickle_int.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define RD_CHUNK ((size_t)256 * 1024)

static void set_lim(pk_rd *rd)
{
  rd->lim = rd->len;
  if (rd->frame && rd->frame_end - rd->base < rd->len)
    rd->lim = (size_t)(rd->frame_end - rd->base);
}

void pk_rd_init_mem(pk_rd *rd, const void *data, size_t len, uint64_t base)
{
  memset(rd, 0, sizeof *rd);
  rd->p = data;
  rd->len = rd->lim = len;
  rd->base = base;
  rd->eof = 1;
}

int pk_rd_init_stream(pk_rd *rd, mlg_stream *s, size_t cap_max, mlg_err *err)
{
  memset(rd, 0, sizeof *rd);
  rd->s = s;
  rd->err = err;
  rd->cap = RD_CHUNK;
  if (s->size != UINT64_MAX && s->size < RD_CHUNK)
    rd->cap = (size_t)s->size + 64; /* nested BytesIO: no 256 KiB each */
  rd->cap_max = cap_max > RD_CHUNK ? cap_max : RD_CHUNK;
  rd->buf = malloc(rd->cap);
  if (!rd->buf)
    return mlg_err_set(err, MLG_ENOMEM, "out of memory");
  rd->p = rd->buf;
  rd->base = s->pos;
  return 0;
}

void pk_rd_free(pk_rd *rd)
{
  if (rd)
    free(rd->buf);
}

uint64_t pk_rd_pos(const pk_rd *rd)
{
  return rd->base + rd->off;
}

int pk_rd_set_fail(pk_rd *rd, int code, uint64_t at, const char *fmt, ...)
{
  va_list ap;
  if (rd->fail)
    return -1;
  rd->fail = code;
  rd->fail_at = at;
  va_start(ap, fmt);
  vsnprintf(rd->fail_msg, sizeof rd->fail_msg, fmt, ap);
  va_end(ap);
  return -1;
}

void pk_rd_set_anomaly(pk_rd *rd, uint64_t at, const char *fmt, ...)
{
  va_list ap;
  if (rd->anomaly)
    return;
  rd->anomaly = 1;
  rd->anomaly_at = at;
  va_start(ap, fmt);
  vsnprintf(rd->anomaly_msg, sizeof rd->anomaly_msg, fmt, ap);
  va_end(ap);
}

/* Makes up to need bytes available at off (fewer at the end of the data).
 * Returns the number available, or -1 on a read error. */
static ssize_t fill(pk_rd *rd, size_t need)
{
  size_t have = rd->len - rd->off;

  if (have >= need || !rd->s || rd->eof)
    return (ssize_t)have;
  if (rd->off) {
    memmove(rd->buf, rd->buf + rd->off, have);
    rd->base += rd->off;
    rd->len = have;
    rd->off = 0;
  }
  if (need > rd->cap) {
    size_t cap = rd->cap;
    unsigned char *nb;
    while (cap < need)
      cap *= 2;
    nb = realloc(rd->buf, cap);
    if (!nb)
      return pk_rd_set_fail(rd, MLG_ENOMEM, pk_rd_pos(rd), "out of memory");
    rd->buf = nb;
    rd->cap = cap;
  }
  rd->p = rd->buf;
  while (rd->len < need) {
    mlg_err e = {0, ""};
    ssize_t r = mlg_stream_read(rd->s, rd->buf + rd->len, rd->cap - rd->len, &e);
    if (r < 0) {
      pk_rd_set_fail(rd, (int)r, pk_rd_pos(rd) + rd->len, "%s", e.msg);
      set_lim(rd);
      return -1;
    }
    if (r == 0) {
      rd->eof = 1;
      break;
    }
    rd->len += (size_t)r;
  }
  set_lim(rd);
  return (ssize_t)(rd->len - rd->off);
}

static int truncated(pk_rd *rd)
{
  if (rd->fail)
    return -1;
  return pk_rd_set_fail(rd, MLG_EPARSE, pk_rd_pos(rd), "pickle data was truncated");
}

/* Consumes n bytes (copying them to dst unless NULL), from the buffer and
 * then the stream. */
static int consume(pk_rd *rd, uint64_t n, char *dst, uint32_t *u8, int *u8ok)
{
  while (n) {
    size_t have = rd->len - rd->off, k;
    if (have == 0) {
      ssize_t r = fill(rd, n < RD_CHUNK ? (size_t)n : RD_CHUNK);
      if (r < 0)
        return -1;
      if (r == 0)
        return truncated(rd);
      have = (size_t)r;
    }
    k = have < n ? have : (size_t)n;
    if (dst) {
      memcpy(dst, rd->p + rd->off, k);
      dst += k;
    }
    if (u8 && *u8ok) {
      const unsigned char *s = rd->p + rd->off;
      uint32_t st = *u8;
      unsigned rem = st & 0xff, lo = (st >> 8) & 0xff, hi = (st >> 16) & 0xff;
      size_t i = 0;
      while (i < k) {
        unsigned c;
        if (!rem && i + 8 <= k) {
          uint64_t w;
          memcpy(&w, s + i, 8);
          if (!(w & 0x8080808080808080ULL)) {
            i += 8;
            continue;
          }
        }
        c = s[i++];
        if (rem) {
          if (c < lo || c > hi) {
            *u8ok = 0;
            break;
          }
          rem--;
          lo = 0x80;
          hi = 0xbf;
        } else if (c >= 0x80) {
          lo = 0x80;
          hi = 0xbf;
          if (c < 0xc2) {
            *u8ok = 0;
            break;
          } else if (c < 0xe0) {
            rem = 1;
          } else if (c < 0xf0) {
            rem = 2; /* surrogatepass: ED A0..BF is allowed */
            if (c == 0xe0)
              lo = 0xa0;
          } else if (c < 0xf5) {
            rem = 3;
            if (c == 0xf0)
              lo = 0x90;
            if (c == 0xf4)
              hi = 0x8f;
          } else {
            *u8ok = 0;
            break;
          }
        }
      }
      *u8 = rem | (lo << 8) | (hi << 16);
    }
    rd->off += k;
    n -= k;
  }
  return 0;
}

/* What a read of n bytes does to the frame state first. */
static int frame_before_read(pk_rd *rd, uint64_t n, int mode, const char *what)
{
  uint64_t pos = pk_rd_pos(rd);

  if (!rd->frame)
    return 0;
  if (pos < rd->frame_end && n <= rd->frame_end - pos)
    return 0;
  if (pos == rd->frame_end && strcmp(what, "an opcode") != 0) {
    /* Every loader reads this the same way, but no pickler ends a frame
     * inside an opcode: only a crafted stream does. */
    pk_rd_set_anomaly(rd, pos,
                      "the FRAME at offset %llu ends inside an opcode (%s at offset %llu)",
                      (unsigned long long)rd->frame_at, what, (unsigned long long)pos);
  } else if (pos < rd->frame_end) {
    uint64_t left = rd->frame_end - pos;
    pk_rd_set_anomaly(rd, pos,
                      "%s at offset %llu straddles the end of the FRAME at offset %llu "
                      "(pickle.loads, pickle.load and pickle.py read it differently)",
                      what, (unsigned long long)pos, (unsigned long long)rd->frame_at);
    rd->frame = 0;
    set_lim(rd);
    if (mode == PK_RD_FIXED && consume(rd, left, NULL, NULL, NULL) < 0)
      return -1;
    return 0;
  }
  rd->frame = 0;
  set_lim(rd);
  return 0;
}

int pk_rd_byte(pk_rd *rd)
{
  if (rd->off < rd->lim)
    return rd->p[rd->off++];
  if (frame_before_read(rd, 1, PK_RD_FIXED, "an opcode") < 0)
    return -2;
  if (rd->off >= rd->len) {
    ssize_t r = fill(rd, 1);
    if (r < 0)
      return -2;
    if (r == 0)
      return -1;
  }
  return rd->p[rd->off++];
}

const unsigned char *pk_rd_small(pk_rd *rd, size_t n)
{
  const unsigned char *p;
  if (rd->lim - rd->off >= n) {
    p = rd->p + rd->off;
    rd->off += n;
    return p;
  }
  if (frame_before_read(rd, n, PK_RD_FIXED, "an opcode argument") < 0)
    return NULL;
  if (rd->len - rd->off < n) {
    ssize_t r = fill(rd, n);
    if (r < 0)
      return NULL;
    if ((size_t)r < n) {
      truncated(rd);
      return NULL;
    }
  }
  p = rd->p + rd->off;
  rd->off += n;
  return p;
}

int pk_rd_take(pk_rd *rd, uint64_t n, int mode, char *dst, int *utf8)
{
  uint32_t st = 0;
  int ok = 1;

  if (frame_before_read(rd, n, mode, mode == PK_RD_INTO ? "a bytes payload" : "a payload") < 0)
    return -1;
  if (!rd->s && n > rd->len - rd->off)
    return truncated(rd);
  if (consume(rd, n, dst, utf8 ? &st : NULL, &ok) < 0)
    return -1;
  if (utf8)
    *utf8 = ok && (st & 0xff) == 0;
  return 0;
}

int pk_rd_line(pk_rd *rd, const unsigned char **line, uint64_t *len)
{
  size_t start = rd->off, scan = rd->off;
  int longmode = 0;
  uint64_t longlen = 0;

  for (;;) {
    size_t end = rd->lim;
    const unsigned char *nl = end > scan ? memchr(rd->p + scan, '\n', end - scan) : NULL;
    if (nl) {
      size_t e = (size_t)(nl - rd->p) + 1;
      rd->off = e;
      if (!longmode) {
        *line = rd->p + start;
        *len = e - start;
        return 0;
      }
      if (e - start >= 2)
        rd->line_last = nl[-1];
      *line = NULL;
      *len = longlen + (e - start);
      return 0;
    }
    if (rd->frame && rd->base + end == rd->frame_end) {
      pk_rd_set_anomaly(rd, rd->base + start,
                          "a line at offset %llu straddles the end of the FRAME at offset %llu "
                          "(pickle.loads, pickle.load and pickle.py read it differently)",
                          (unsigned long long)(rd->base + start),
                          (unsigned long long)rd->frame_at);
      /* _Unpickler_Readline: the rest of the buffer is dropped and the
       * line is read from the file. */
      rd->off = end;
      rd->frame = 0;
      set_lim(rd);
      start = scan = rd->off;
      longmode = 0;
      longlen = 0;
      continue;
    }
    if (!rd->s || rd->eof) {
      if (end < rd->len) {
        scan = end;
        continue;
      }
      rd->off = rd->len;
      return truncated(rd);
    }
    if (!longmode && rd->len - start + 1 > rd->cap_max) {
      longmode = 1;
      rd->line_first = rd->p[start];
    }
    if (longmode) {
      if (end > start) {
        longlen += end - start;
        rd->line_last = rd->p[end - 1];
      }
      rd->off = end;
      if (fill(rd, 1) < 0)
        return -1;
      start = scan = rd->off;
    } else {
      size_t scanned = end - start;
      rd->off = start;
      if (fill(rd, rd->len - start + 1) < 0)
        return -1;
      start = rd->off;
      scan = start + scanned;
    }
  }
}

int pk_rd_frame(pk_rd *rd, uint64_t frame_len, uint64_t op_at)
{
  uint64_t pos = pk_rd_pos(rd);

  if (frame_len > (uint64_t)INT64_MAX)
    return pk_rd_set_fail(rd, MLG_EPARSE, op_at,
                          "FRAME length exceeds system's maximum of %lld bytes",
                          (long long)INT64_MAX);
  if (!rd->s) {
    if (frame_len > rd->len - rd->off)
      return truncated(rd);
    return 0;
  }
  if (frame_len == 0)
    return 0; /* _Unpickler_Read(0) reads nothing, the buffer stays */
  if (rd->frame && pos < rd->frame_end) {
    if (frame_len <= rd->frame_end - pos) {
      /* Inside the current buffer: a rewind, the buffer's end stays. */
      pk_rd_set_anomaly(rd, op_at,
                        "FRAME at offset %llu starts inside the FRAME at offset %llu",
                        (unsigned long long)op_at, (unsigned long long)rd->frame_at);
      return 0;
    }
    if (frame_before_read(rd, frame_len, PK_RD_FIXED, "a FRAME") < 0)
      return -1;
    pos = pk_rd_pos(rd);
  }
  rd->frame = 1;
  rd->frame_at = op_at;
  rd->frame_end = pos + frame_len;
  rd->frame_check = rd->frame_end;
  rd->frame_check_at = op_at;
  /* CPython reads the whole frame before going on: verify now when it is
   * small enough to buffer (or the stream size says), else at the end. */
  if (frame_len <= rd->cap_max) {
    ssize_t r = fill(rd, (size_t)frame_len);
    if (r < 0)
      return -1;
    if ((uint64_t)r < frame_len)
      return pk_rd_set_fail(rd, MLG_EPARSE, op_at,
                            "FRAME at offset %llu is longer than the data left "
                            "(pickle data was truncated)", (unsigned long long)op_at);
  } else if (rd->s->size != UINT64_MAX && rd->s->size >= rd->s->pos &&
             rd->s->size - rd->s->pos + (rd->len - rd->off) < frame_len) {
    return pk_rd_set_fail(rd, MLG_EPARSE, op_at,
                          "FRAME at offset %llu is longer than the data left "
                          "(pickle data was truncated)", (unsigned long long)op_at);
  }
  set_lim(rd);
  return 0;
}

void pk_rd_leave_frame(pk_rd *rd)
{
  if (rd->frame && pk_rd_pos(rd) >= rd->frame_end) {
    rd->frame = 0;
    set_lim(rd);
  }
}

void pk_rd_stop(pk_rd *rd, uint64_t op_at)
{
  uint64_t pos = pk_rd_pos(rd);
  if (rd->frame && pos < rd->frame_end)
    pk_rd_set_anomaly(rd, op_at,
                      "STOP at offset %llu leaves %llu bytes of the FRAME at offset %llu "
                      "(the next pickle.load starts at a different offset with and "
                      "without peek())",
                      (unsigned long long)op_at, (unsigned long long)(rd->frame_end - pos),
                      (unsigned long long)rd->frame_at);
  rd->frame = 0;
  set_lim(rd);
}

int pk_rd_check_end(pk_rd *rd)
{
  uint64_t end;
  if (!rd->frame_check)
    return 0;
  if (fill(rd, 1) < 0)
    return -1;
  end = rd->base + rd->len;
  if (rd->eof && end < rd->frame_check)
    return pk_rd_set_fail(rd, MLG_EPARSE, rd->frame_check_at,
                          "FRAME at offset %llu is longer than the data left "
                          "(pickle data was truncated)",
                          (unsigned long long)rd->frame_check_at);
  return 0;
}
