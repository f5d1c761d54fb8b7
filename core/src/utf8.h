/*
 * Strict UTF-8 (RFC 3629) helpers for the parsers and writers of untrusted
 * text: overlong forms, surrogates and code points above U+10FFFF are
 * invalid, so whatever passes here is accepted by jansson and by Lua's
 * utf8 library alike.
 */
#ifndef MLG_UTF8_H
#define MLG_UTF8_H

#include <stddef.h>
#include <stdint.h>

/* Decodes the sequence at s (n > 0 bytes available): returns its length
 * (1 to 4) and sets *cp, or returns 0 when the bytes are not valid UTF-8. */
size_t mlg_utf8_decode(const unsigned char *s, size_t n, uint32_t *cp);

/* Writes cp (at most U+10FFFF, not a surrogate) to out, which has room
 * for 4 bytes; returns the number of bytes written. */
size_t mlg_utf8_encode(char *out, uint32_t cp);

/* Offset of the first byte that does not start a valid sequence, or len
 * when all of s is valid. */
size_t mlg_utf8_check(const char *s, size_t len);

/* Renders at most about size/2 bytes of s for an error message: valid
 * printable text as is, control characters, quotes, backslashes and
 * invalid bytes escaped, "..." when cut. Always NUL-terminates buf
 * (size >= 8). */
void mlg_utf8_quote(char *buf, size_t size, const char *s, size_t len);

#endif
