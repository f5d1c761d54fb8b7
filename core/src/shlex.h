/*
 * A POSIX-shell lexer for `run:` scripts (and GitLab `script:` lines,
 * Jenkins `sh` steps): enough structure for rules to see commands, their
 * arguments, pipes, lists, redirections (to $GITHUB_ENV, ...), heredocs and
 * command substitutions, with byte offsets into the script. It never
 * executes or expands anything: words are kept as written (quotes and
 * escapes removed where static; expansions marked).
 *
 * Handles: comments, line continuations, '...', "...", $'...', $"...", \
 * escapes, $VAR ${VAR...} $(...) `...` $((...)) <(...) >(...), GitHub
 * `${{ ... }}` as opaque word parts, assignments (A=b cmd, A+=b, a[i]=b,
 * a=(x y)), redirections (n>, n>>, <, <<, <<-, <<<, >&, <&, &>, &>>, >|,
 * <>), heredoc bodies (quoted delimiters: no expansion), pipelines (|, |&),
 * lists (&&, ||, ;, &, newline), subshells ( ... ) and groups { ...; }, and
 * the bodies of if/for/while/until/case and functions as commands.
 * Malformed scripts (unterminated quote, heredoc without end, unbalanced
 * ( { case) still yield every command before the problem plus an error
 * with its offset.
 *
 * Choices made where a lexer (not a full grammar) has to decide:
 * - Reserved words in command position are dropped, so the command after
 *   `if`, `then`, `else`, `elif`, `while`, `until`, `do`, `!` is the next
 *   word (`if curl x | sh; then` gives curl | sh). `fi`, `done`, `esac`,
 *   `}` and `)` close: a separator after them is recorded as the `sep` of
 *   the last command inside (`done | sort`, `} | bash`, `fi && x`; a ; or
 *   newline does not overwrite it), and the next command joins that
 *   command's pipeline after | or |&. A redirection after them (`done <
 *   f`, `} >> "$GITHUB_OUTPUT"`) is a command with no argv.
 * - `for NAME in WORDS` / `select ...` and `case WORD in` are commands of
 *   their own (argv[0] "for", "case"); case patterns are not words of any
 *   command. `function NAME` and `NAME ()` are dropped, their body stays.
 * - `[[ ... ]]` is one command: inside it < > ( ) | & are operands.
 *   `(( ... ))` and the `((...))` of `for ((...))` are one raw word;
 *   `$((` always starts arithmetic (never $( ( ...).
 * - ${{ ... }} is recognised in any quoting (even '...' and after a
 *   backslash: GitHub substitutes it before the shell runs) and ends, as in
 *   GitHub's runner, at the first "}}" outside a '...' literal; in comments
 *   it is not looked at. An unclosed one is an error.
 * - Unquoted heredoc bodies are expanded when they run: the commands of
 *   their $( ) and ` ` are listed (after the command owning the heredoc).
 *   <<- strips leading tabs from the body it returns. A delimiter line may
 *   end in \r (CRLF scripts); \r\n counts as a newline everywhere
 *   outside quotes.
 * - NUL bytes are dropped from word text and heredoc bodies (as bash
 *   drops them); spans still cover them.
 * - On error, commands starting at or after error_offset are dropped; the
 *   pipelines left are numbered 0, 1, ... again.
 */
#ifndef MLG_SHLEX_H
#define MLG_SHLEX_H

#include <stddef.h>

#include "err.h"

enum {
  MLG_SHW_QUOTED = 1,     /* some part was quoted */
  MLG_SHW_EXPANSION = 2,  /* contains $VAR, ${...}, $(...), `...` or $((...)) */
  MLG_SHW_TEMPLATE = 4,   /* contains a GitHub ${{ ... }} */
  MLG_SHW_GLOB = 8        /* unquoted * ? [ */
};

typedef struct mlg_sh_word {
  char *text;           /* the word with quotes removed; expansions kept as written */
  size_t offset, len;   /* raw span in the script (0-based bytes) */
  unsigned flags;       /* MLG_SHW_* */
} mlg_sh_word;

typedef struct mlg_sh_redirect {
  int fd;               /* explicit fd, or -1 */
  char op[4];           /* ">", ">>", "<", "<<", "<<-", "<<<", ">&", "<&", "&>", ">|",
                           "&>>", "<>" */
  mlg_sh_word target;   /* file, fd or heredoc delimiter */
  char *heredoc;        /* heredoc body, or NULL (also when it was never read) */
  size_t heredoc_offset; /* where the body starts in the script (0 without a body) */
} mlg_sh_redirect;

typedef struct mlg_sh_cmd {
  mlg_sh_word *assigns; /* NAME=value before the command */
  size_t nassigns;
  mlg_sh_word *argv;    /* command name and arguments */
  size_t argc;
  mlg_sh_redirect *redirs;
  size_t nredirs;
  size_t offset, len;   /* span of the whole simple command */
  char sep[3];          /* what follows: "|", "|&", "&&", "||", ";", "&", "\n", "" (end) */
  unsigned pipeline;    /* index of the pipeline this command belongs to: 0, 1, ... in
                           the order their first command appears in cmds */
  unsigned depth;       /* nesting: 0 top level, +1 inside ( ), { }, $( ), ` `, <( ) */
  int in_substitution;  /* inside $( ), ` ` or <( ) at any level (its output becomes a
                           word or a file) */
} mlg_sh_cmd;

typedef struct mlg_sh_script {
  mlg_sh_cmd *cmds;     /* in source order (substitutions before the command using them) */
  size_t ncmds;
  int error;            /* 0, or MLG_EPARSE when the script is malformed */
  size_t error_offset;
  char error_msg[128];
} mlg_sh_script;

/* Always returns a script (possibly partial, see error); negative only when
 * out of memory or over the limits (size 1 MiB, 100,000 words, nesting 64
 * levels of ( { $( ` <( ${ $(( case a=( ), then *out is NULL and err says
 * which. text may be NULL when len is 0. Linear time; memory at most a
 * few times len per level of $( ) nesting (each word keeps the text of the
 * substitutions inside it). */
int mlg_sh_parse(mlg_sh_script **out, const char *text, size_t len, mlg_err *err);
void mlg_sh_free(mlg_sh_script *s);

#endif
