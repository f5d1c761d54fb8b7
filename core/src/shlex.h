/*
 * A POSIX-shell lexer for `run:` scripts (and GitLab `script:` lines,
 * Jenkins `sh` steps): enough structure for rules to see commands, their
 * arguments, pipes, lists, redirections (to $GITHUB_ENV, ...), heredocs and
 * command substitutions, with byte offsets into the script. It never
 * executes or expands anything: words are kept as written (quotes and
 * escapes removed where static; expansions marked).
 *
 * Handles: comments, line continuations, '...', "...", $'...', \ escapes,
 * $VAR ${VAR...} $(...) `...` $((...)), GitHub `${{ ... }}` as opaque word
 * parts, assignments (A=b cmd), redirections (n>, n>>, <, <<, <<-, <<<,
 * >&, <&, &>, >|), heredoc bodies (quoted delimiters: no expansion),
 * pipelines (|, |&), lists (&&, ||, ;, &, newline), subshells ( ... ) and
 * groups { ...; }, and the bodies of if/for/while/case as commands (their
 * keywords are words; no grammar is needed for the rules).
 * Malformed scripts (unterminated quote, heredoc without end) still yield
 * every command before the problem plus an error with its offset.
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
  size_t offset, len;   /* raw span in the script */
  unsigned flags;       /* MLG_SHW_* */
} mlg_sh_word;

typedef struct mlg_sh_redirect {
  int fd;               /* explicit fd, or -1 */
  char op[4];           /* ">", ">>", "<", "<<", "<<-", "<<<", ">&", "<&", "&>", ">|", "&>>" */
  mlg_sh_word target;   /* file, fd or heredoc delimiter */
  char *heredoc;        /* heredoc body, or NULL */
  size_t heredoc_offset;
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
  unsigned pipeline;    /* index of the pipeline this command belongs to */
  unsigned depth;       /* nesting: 0 top level, +1 inside ( ), { }, $( ), ` ` */
  int in_substitution;  /* inside $( ) or ` ` (its output becomes a word) */
} mlg_sh_cmd;

typedef struct mlg_sh_script {
  mlg_sh_cmd *cmds;     /* in source order (substitutions before the command using them) */
  size_t ncmds;
  int error;            /* 0, or MLG_EPARSE when the script is malformed */
  size_t error_offset;
  char error_msg[128];
} mlg_sh_script;

/* Always returns a script (possibly partial, see error); negative only when
 * out of memory or over the limits (size 1 MiB, 100,000 words, nesting 64). */
int mlg_sh_parse(mlg_sh_script **out, const char *text, size_t len, mlg_err *err);
void mlg_sh_free(mlg_sh_script *s);

#endif
