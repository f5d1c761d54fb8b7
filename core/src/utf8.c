#include "utf8.h"

#include <stdio.h>
#include <string.h>

size_t mlg_utf8_decode(const unsigned char *s, size_t n, uint32_t *cp)
{
  uint32_t c = s[0];
  size_t len, i;
  uint32_t min;

  if (c < 0x80) {
    *cp = c;
    return 1;
  }
  if (c >= 0xC2 && c <= 0xDF) {
    len = 2;
    c &= 0x1F;
    min = 0x80;
  } else if (c >= 0xE0 && c <= 0xEF) {
    len = 3;
    c &= 0x0F;
    min = 0x800;
  } else if (c >= 0xF0 && c <= 0xF4) {
    len = 4;
    c &= 0x07;
    min = 0x10000;
  } else {
    return 0; /* continuation byte, C0/C1 overlong lead, or F5..FF */
  }
  if (n < len)
    return 0;
  for (i = 1; i < len; i++) {
    if ((s[i] & 0xC0) != 0x80)
      return 0;
    c = (c << 6) | (s[i] & 0x3F);
  }
  if (c < min || c > 0x10FFFF || (c >= 0xD800 && c <= 0xDFFF))
    return 0;
  *cp = c;
  return len;
}

size_t mlg_utf8_encode(char *out, uint32_t cp)
{
  unsigned char *o = (unsigned char *)out;
  if (cp < 0x80) {
    o[0] = (unsigned char)cp;
    return 1;
  }
  if (cp < 0x800) {
    o[0] = (unsigned char)(0xC0 | (cp >> 6));
    o[1] = (unsigned char)(0x80 | (cp & 0x3F));
    return 2;
  }
  if (cp < 0x10000) {
    o[0] = (unsigned char)(0xE0 | (cp >> 12));
    o[1] = (unsigned char)(0x80 | ((cp >> 6) & 0x3F));
    o[2] = (unsigned char)(0x80 | (cp & 0x3F));
    return 3;
  }
  o[0] = (unsigned char)(0xF0 | (cp >> 18));
  o[1] = (unsigned char)(0x80 | ((cp >> 12) & 0x3F));
  o[2] = (unsigned char)(0x80 | ((cp >> 6) & 0x3F));
  o[3] = (unsigned char)(0x80 | (cp & 0x3F));
  return 4;
}

size_t mlg_utf8_check(const char *s, size_t len)
{
  const unsigned char *u = (const unsigned char *)s;
  size_t i = 0;
  uint32_t cp;

  while (i < len) {
    size_t n;
    /* Most input is ASCII: test eight bytes at a time. */
    while (i + 8 <= len) {
      uint64_t w;
      memcpy(&w, u + i, 8);
      if (w & 0x8080808080808080ull)
        break;
      i += 8;
    }
    if (i >= len)
      break;
    if (u[i] < 0x80) {
      i++;
      continue;
    }
    n = mlg_utf8_decode(u + i, len - i, &cp);
    if (n == 0)
      return i;
    i += n;
  }
  return len;
}

void mlg_utf8_quote(char *buf, size_t size, const char *s, size_t len)
{
  const unsigned char *u = (const unsigned char *)s;
  size_t i = 0, o = 0, budget = size / 2;
  uint32_t cp;

  while (i < len) {
    size_t n;
    char esc[8];
    size_t elen;

    if (u[i] >= 0x20 && u[i] < 0x7F && u[i] != '\'' && u[i] != '\\') {
      esc[0] = (char)u[i];
      elen = 1;
      n = 1;
    } else if (u[i] >= 0x80 && (n = mlg_utf8_decode(u + i, len - i, &cp)) != 0 &&
               !(cp >= 0x80 && cp < 0xA0)) {
      memcpy(esc, u + i, n);
      elen = n;
    } else {
      n = 1;
      if (u[i] == '\'' || u[i] == '\\') {
        esc[0] = '\\';
        esc[1] = (char)u[i];
        elen = 2;
      } else {
        snprintf(esc, sizeof esc, "\\x%02X", u[i]);
        elen = 4;
      }
    }
    if (o + elen > budget || o + elen + 4 > size) {
      memcpy(buf + o, "...", 3);
      o += 3;
      break;
    }
    memcpy(buf + o, esc, elen);
    o += elen;
    i += n;
  }
  buf[o] = '\0';
}
