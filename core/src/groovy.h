/*
 * A bounded tokenizer for Groovy source (Jenkinsfiles): enough of the
 * language to find steps and their arguments, not a parser.
 *
 * Tokens: identifiers (keywords included: the reader tells them apart),
 * numbers, operators and punctuation (longest match: "?." "*." "->" "=="
 * "..<" ...), strings. Comments (// to the end of the line, / * * /, and a
 * "#!" first line) are kept apart, in file order.
 *
 * Strings: '...' "..." '''...''' """...""" /.../ $/.../$. A slashy string
 * starts where Groovy expects a value: at the start of the input, after a
 * line break, after an operator or punctuation other than ')' ']' '}', or
 * after the keywords return, case, in, assert, throw; elsewhere '/' divides.
 * The token's text is the decoded string: escapes (\n \t \b \f \r \s \\ \'
 * \" \$ \/ \uXXXX, octal \0-\377) become their characters, a backslash
 * before a line break joins the lines, line breaks (CR, LF, CRLF) become
 * "\n". An escape Groovy does not know keeps its backslash. Slashy strings
 * decode only \/ (and a backslash before a line break); dollar-slashy ones
 * $$ and $/. Interpolations of GStrings ("..." """...""" /.../ $/.../$) are
 * left in the text as written, so that a shell lexer sees `${x}` where the
 * script has it: `${ ... }` runs to its balancing brace (nested braces and
 * strings, themselves with interpolations, are skipped over), `$name` to
 * the end of a dotted name (`$a.b.c`); each becomes a part.
 *
 * Positions: line and col are 1-based, columns count characters (UTF-8
 * code points), as the YAML reader does. A string's map gives the file
 * position of its text: points {t, line, col, off}, t ascending from 0, one
 * wherever the text continues on a new source line or after an escape, so
 * the position of text offset x is that of the last point at or before x
 * plus the characters (bytes for off) between them. Exact except inside an
 * escape.
 *
 * Errors (`NAME:LINE:COL: message`): an unterminated string or comment
 * (MLG_EPARSE, at its start), a closing bracket that closes nothing or the
 * wrong bracket, a bracket never closed (MLG_EPARSE, at the opening one);
 * nesting of brackets and interpolations deeper than MLG_GROOVY_MAX_NEST,
 * more tokens than MLG_GROOVY_MAX_TOKENS or the input's length allows,
 * input longer than MLG_GROOVY_MAX_LEN (MLG_ELIMIT). Time is linear in the
 * input and nothing recurses.
 */
#ifndef MLG_GROOVY_H
#define MLG_GROOVY_H

#include <stddef.h>
#include <stdint.h>

#include "err.h"
#include "node.h"

#define MLG_GROOVY_MAX_LEN ((size_t)64 << 20)
#define MLG_GROOVY_MAX_NEST 256
/* Tokens: at most one per 3 input bytes plus 4096, and this many. */
#define MLG_GROOVY_MAX_TOKENS ((size_t)8 << 20)

typedef enum mlg_gtok_kind {
  MLG_GT_EOF = 0,
  MLG_GT_IDENT,  /* identifiers and keywords */
  MLG_GT_NUMBER,
  MLG_GT_STRING,
  MLG_GT_OP      /* operators and punctuation */
} mlg_gtok_kind;

typedef enum mlg_gstr_style {
  MLG_GS_NONE = 0,
  MLG_GS_SINGLE,        /* '...' */
  MLG_GS_DOUBLE,        /* "..." */
  MLG_GS_TRIPLE_SINGLE, /* '''...''' */
  MLG_GS_TRIPLE_DOUBLE, /* """...""" */
  MLG_GS_SLASHY,        /* /.../ */
  MLG_GS_DOLLAR_SLASHY  /* $/.../$ */
} mlg_gstr_style;

/* A point of a string's text-to-file map. */
typedef struct mlg_gpos {
  uint32_t t, off;
  uint32_t line, col;
} mlg_gpos;

/* One interpolation of a GString. */
typedef struct mlg_gpart {
  uint32_t t, t_end;       /* the '$' and after the part, in the token's text */
  uint32_t expr, expr_len; /* the expression (inside the braces), in the text */
  uint32_t off, end_off;   /* file bytes of the '$' and after the part */
  uint32_t line, col;    /* of the '$' */
  uint32_t end_line, end_col; /* after the part (exclusive column) */
  int braced;            /* ${...} rather than $name */
} mlg_gpart;

/* What only strings have. */
typedef struct mlg_gstr {
  mlg_gpos *map;       /* at least one point */
  mlg_gpart *parts;    /* GStrings: interpolations in text order */
  uint32_t nmap, nparts;
} mlg_gstr;

/* 48 bytes: a token list may be a few times the size of its input. */
typedef struct mlg_gtok {
  unsigned char kind;  /* mlg_gtok_kind */
  unsigned char style; /* strings: mlg_gstr_style */
  unsigned char nl;    /* a line break comes between this and the previous token */
  uint32_t line, col;  /* first character */
  uint32_t match;      /* brackets: the index of the other one */
  uint32_t off, end_off; /* file bytes */
  uint32_t len;
  const char *text;    /* strings: the decoded text (NUL-terminated, in the
                          arena); others: the source text (not terminated) */
  mlg_gstr *str;       /* strings only */
} mlg_gtok;

typedef struct mlg_gcomment {
  uint32_t line, col;  /* of the "//", "/ *" or "#!" */
  uint32_t off, end_off;
  const char *text;    /* without the markers, blanks trimmed (in the source) */
  uint32_t len;
  int block;           /* / * ... * / */
} mlg_gcomment;

typedef struct mlg_groovy {
  mlg_gtok *toks;      /* ntoks tokens, the last one MLG_GT_EOF */
  size_t ntoks;
  mlg_gcomment *comments;
  size_t ncomments;
  mlg_doc *arena;      /* text, maps and parts */
} mlg_groovy;

/* Tokenizes src (len bytes; NULs are ordinary bytes). name: used in
 * messages. On success *out is a new token list (mlg_groovy_free). */
int mlg_groovy_lex(mlg_groovy **out, const char *src, size_t len, const char *name,
                   mlg_err *err);
void mlg_groovy_free(mlg_groovy *g);

/* 1 when tok is an operator/identifier with exactly that text. */
int mlg_groovy_is(const mlg_gtok *tok, const char *s);

#endif
