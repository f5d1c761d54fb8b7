#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "buf.h"
#include "shlex.h"

#define Q MLG_SHW_QUOTED
#define E MLG_SHW_EXPANSION
#define T MLG_SHW_TEMPLATE
#define G MLG_SHW_GLOB

static mlg_sh_script *parse_n(const char *text, size_t len)
{
  mlg_sh_script *s = NULL;
  mlg_err err;
  mlg_err_clear(&err);
  if (mlg_sh_parse(&s, text, len, &err) != 0)
    fail_msg("parse failed: %s", err.msg);
  assert_non_null(s);
  return s;
}

static mlg_sh_script *parse(const char *text)
{
  return parse_n(text, strlen(text));
}

static void word_is(const mlg_sh_word *w, const char *text, size_t off, size_t len, unsigned flags)
{
  assert_string_equal(w->text, text);
  assert_int_equal(w->offset, off);
  assert_int_equal(w->len, len);
  assert_int_equal(w->flags, flags);
}

static void cmd_is(const mlg_sh_cmd *c, size_t off, size_t len, const char *sep, unsigned pipeline,
                   unsigned depth, int subst)
{
  assert_int_equal(c->offset, off);
  assert_int_equal(c->len, len);
  assert_string_equal(c->sep, sep);
  assert_int_equal(c->pipeline, pipeline);
  assert_int_equal(c->depth, depth);
  assert_int_equal(c->in_substitution, subst);
}

/* --- a compact rendering, for the longer cases ------------------------------ */

static void render_word(mlg_buf *b, const mlg_sh_word *w)
{
  mlg_buf_printf(b, " [%s]@%zu+%zu", w->text, w->offset, w->len);
  if (w->flags)
    mlg_buf_printf(b, "/%s%s%s%s", w->flags & Q ? "Q" : "", w->flags & E ? "E" : "",
                   w->flags & T ? "T" : "", w->flags & G ? "G" : "");
}

/* One line per command:
 *   @off+len p=PIPELINE d=DEPTH[ s] sep=SEP: A [assign]... [arg]... R(fd op [target] doc@off"body")
 * words as [text]@off+len/FLAGS; a newline separator is written \n. */
static char *render(const mlg_sh_script *s)
{
  mlg_buf b = MLG_BUF_INIT;
  size_t i, j;
  mlg_buf_puts(&b, "");
  for (i = 0; i < s->ncmds; i++) {
    const mlg_sh_cmd *c = &s->cmds[i];
    mlg_buf_printf(&b, "@%zu+%zu p=%u d=%u%s sep=%s:", c->offset, c->len, c->pipeline, c->depth,
                   c->in_substitution ? " s" : "", strcmp(c->sep, "\n") ? c->sep : "\\n");
    for (j = 0; j < c->nassigns; j++) {
      mlg_buf_puts(&b, " A");
      render_word(&b, &c->assigns[j]);
    }
    for (j = 0; j < c->argc; j++)
      render_word(&b, &c->argv[j]);
    for (j = 0; j < c->nredirs; j++) {
      const mlg_sh_redirect *r = &c->redirs[j];
      mlg_buf_printf(&b, " R(%d %s", r->fd, r->op);
      render_word(&b, &r->target);
      if (r->heredoc)
        mlg_buf_printf(&b, " doc@%zu\"%s\"", r->heredoc_offset, r->heredoc);
      mlg_buf_puts(&b, ")");
    }
    mlg_buf_puts(&b, "\n");
  }
  if (s->error)
    mlg_buf_printf(&b, "ERROR @%zu: %s\n", s->error_offset, s->error_msg);
  return mlg_buf_detach(&b);
}

static void render_is(const char *script, const char *want)
{
  mlg_sh_script *s = parse(script);
  char *got = render(s);
  if (strcmp(got, want) != 0) {
    print_error("script:\n%s\n--- got:\n%s--- want:\n%s", script, got, want);
    free(got);
    mlg_sh_free(s);
    fail();
  }
  free(got);
  mlg_sh_free(s);
}

/* --- basics ----------------------------------------------------------------- */

static void test_simple_commands(void **state)
{
  mlg_sh_script *s = parse("echo hello  world\n\n  ls -la /tmp ;date");
  assert_int_equal(s->ncmds, 3);
  assert_int_equal(s->error, 0);
  cmd_is(&s->cmds[0], 0, 17, "\n", 0, 0, 0);
  assert_int_equal(s->cmds[0].argc, 3);
  word_is(&s->cmds[0].argv[0], "echo", 0, 4, 0);
  word_is(&s->cmds[0].argv[1], "hello", 5, 5, 0);
  word_is(&s->cmds[0].argv[2], "world", 12, 5, 0);
  cmd_is(&s->cmds[1], 21, 11, ";", 1, 0, 0);
  word_is(&s->cmds[1].argv[2], "/tmp", 28, 4, 0);
  cmd_is(&s->cmds[2], 34, 4, "", 2, 0, 0);
  word_is(&s->cmds[2].argv[0], "date", 34, 4, 0);
  assert_int_equal(s->cmds[2].nassigns, 0);
  assert_int_equal(s->cmds[2].nredirs, 0);
  mlg_sh_free(s);

  s = parse("");
  assert_int_equal(s->ncmds, 0);
  assert_int_equal(s->error, 0);
  mlg_sh_free(s);
  s = parse_n(NULL, 0);
  assert_int_equal(s->ncmds, 0);
  mlg_sh_free(s);
  mlg_sh_free(NULL);
}

static void test_quoting(void **state)
{
  mlg_sh_script *s = parse("echo a\"b c\"'d' 'x y' \"$HOME/p\" \\$x \"\\$y\\a\" "
                           "$'a\\tb\\x41\\u00e9\\'' "
                           "$\"loc\" '' \\  plain");
  const mlg_sh_cmd *c = &s->cmds[0];
  assert_int_equal(s->ncmds, 1);
  assert_int_equal(c->argc, 11);
  word_is(&c->argv[1], "ab cd", 5, 9, Q);
  word_is(&c->argv[2], "x y", 15, 5, Q);
  word_is(&c->argv[3], "$HOME/p", 21, 9, Q | E);
  word_is(&c->argv[4], "$x", 31, 3, Q); /* escaped: not an expansion */
  word_is(&c->argv[5], "$y\\a", 35, 7, Q);
  word_is(&c->argv[6], "a\tbA\xc3\xa9'", 43, 19, Q);
  word_is(&c->argv[7], "loc", 63, 6, Q);
  word_is(&c->argv[8], "", 70, 2, Q);
  word_is(&c->argv[9], " ", 73, 2, Q);
  word_is(&c->argv[10], "plain", 76, 5, 0);
  mlg_sh_free(s);

  /* globs: unquoted only; a [ needs its ] */
  s = parse("ls *.py a?c [ab]x \"*\" '?' [ -f x ] a\\*");
  c = &s->cmds[0];
  word_is(&c->argv[1], "*.py", 3, 4, G);
  word_is(&c->argv[2], "a?c", 8, 3, G);
  word_is(&c->argv[3], "[ab]x", 12, 5, G);
  word_is(&c->argv[4], "*", 18, 3, Q);
  word_is(&c->argv[5], "?", 22, 3, Q);
  word_is(&c->argv[6], "[", 26, 1, 0);
  word_is(&c->argv[9], "]", 33, 1, 0);
  word_is(&c->argv[10], "a*", 35, 3, Q);
  mlg_sh_free(s);

  /* NUL bytes are dropped from the text as bash drops them */
  s = parse_n("echo a\0b \"c\0\"", 14);
  word_is(&s->cmds[0].argv[1], "ab", 5, 3, 0);
  word_is(&s->cmds[0].argv[2], "c", 9, 5, Q);
  mlg_sh_free(s);
}

static void test_lists_and_pipelines(void **state)
{
  mlg_sh_script *s = parse("pip install -r requirements.txt && npm ci");
  assert_int_equal(s->ncmds, 2);
  cmd_is(&s->cmds[0], 0, 31, "&&", 0, 0, 0);
  word_is(&s->cmds[0].argv[3], "requirements.txt", 15, 16, 0);
  cmd_is(&s->cmds[1], 35, 6, "", 1, 0, 0);
  word_is(&s->cmds[1].argv[0], "npm", 35, 3, 0);
  word_is(&s->cmds[1].argv[1], "ci", 39, 2, 0);
  mlg_sh_free(s);

  s = parse("curl -fsSL https://x/i.sh | sudo bash -s -- -y");
  assert_int_equal(s->ncmds, 2);
  cmd_is(&s->cmds[0], 0, 25, "|", 0, 0, 0);
  word_is(&s->cmds[0].argv[0], "curl", 0, 4, 0);
  word_is(&s->cmds[0].argv[2], "https://x/i.sh", 11, 14, 0);
  cmd_is(&s->cmds[1], 28, 18, "", 0, 0, 0);
  assert_int_equal(s->cmds[1].argc, 5);
  word_is(&s->cmds[1].argv[0], "sudo", 28, 4, 0);
  word_is(&s->cmds[1].argv[1], "bash", 33, 4, 0);
  word_is(&s->cmds[1].argv[4], "-y", 44, 2, 0);
  mlg_sh_free(s);

  render_is("a | b |& c || d & e; f\n",
            "@0+1 p=0 d=0 sep=|: [a]@0+1\n"
            "@4+1 p=0 d=0 sep=|&: [b]@4+1\n"
            "@9+1 p=0 d=0 sep=||: [c]@9+1\n"
            "@14+1 p=1 d=0 sep=&: [d]@14+1\n"
            "@18+1 p=2 d=0 sep=;: [e]@18+1\n"
            "@21+1 p=3 d=0 sep=\\n: [f]@21+1\n");
  /* a pipe or && may be followed by newlines */
  render_is("curl x |\n\n  sh &&\n  echo ok",
            "@0+6 p=0 d=0 sep=|: [curl]@0+4 [x]@5+1\n"
            "@12+2 p=0 d=0 sep=&&: [sh]@12+2\n"
            "@20+7 p=1 d=0 sep=: [echo]@20+4 [ok]@25+2\n");
  render_is("cat data | tee -a $GITHUB_PATH",
            "@0+8 p=0 d=0 sep=|: [cat]@0+3 [data]@4+4\n"
            "@11+19 p=0 d=0 sep=: [tee]@11+3 [-a]@15+2 [$GITHUB_PATH]@18+12/E\n");
}

/* --- substitutions and templates ------------------------------------------------ */

static void test_process_substitution(void **state)
{
  mlg_sh_script *s = parse("bash <(curl -s https://x)");
  assert_int_equal(s->ncmds, 2);
  cmd_is(&s->cmds[0], 7, 17, "", 0, 1, 1);
  word_is(&s->cmds[0].argv[0], "curl", 7, 4, 0);
  word_is(&s->cmds[0].argv[2], "https://x", 15, 9, 0);
  cmd_is(&s->cmds[1], 0, 25, "", 1, 0, 0);
  word_is(&s->cmds[1].argv[0], "bash", 0, 4, 0);
  word_is(&s->cmds[1].argv[1], "<(curl -s https://x)", 5, 20, E);
  mlg_sh_free(s);

  render_is("exec > >(tee -a log) 2>&1",
            "@9+10 p=0 d=1 s sep=: [tee]@9+3 [-a]@13+2 [log]@16+3\n"
            "@0+25 p=1 d=0 sep=: [exec]@0+4 R(-1 > [>(tee -a log)]@7+13/E) R(2 >& [1]@24+1)\n");
}

static void test_template_to_github_env(void **state)
{
  const char *src = "echo \"T=${{ github.event.issue.title }}\" >> \"$GITHUB_ENV\"";
  mlg_sh_script *s = parse(src);
  const mlg_sh_cmd *c = &s->cmds[0];
  assert_int_equal(s->ncmds, 1);
  cmd_is(c, 0, 57, "", 0, 0, 0);
  assert_int_equal(c->argc, 2);
  word_is(&c->argv[1], "T=${{ github.event.issue.title }}", 5, 35, Q | T);
  assert_int_equal(c->nredirs, 1);
  assert_int_equal(c->redirs[0].fd, -1);
  assert_string_equal(c->redirs[0].op, ">>");
  word_is(&c->redirs[0].target, "$GITHUB_ENV", 44, 13, Q | E);
  assert_null(c->redirs[0].heredoc);
  mlg_sh_free(s);

  /* the expression is opaque: spaces, quotes, operators, }} in strings */
  render_is("echo ${{ 1 > 2 || true }} x${{ format('{0}}', 'a b') }}y '${{ format('{0}', x) }}'",
            "@0+82 p=0 d=0 sep=: [echo]@0+4 [${{ 1 > 2 || true }}]@5+20/T"
            " [x${{ format('{0}}', 'a b') }}y]@26+30/T [${{ format('{0}', x) }}]@57+25/QT\n");
  /* after a backslash too: GitHub substitutes before the shell runs */
  render_is("echo \\${{ x }} \"\\${{ y }}\"",
            "@0+26 p=0 d=0 sep=: [echo]@0+4 [${{ x }}]@5+9/QT [${{ y }}]@15+11/QT\n");
}

static void test_command_substitution(void **state)
{
  mlg_sh_script *s = parse("echo \"x=$(git log -1 --format=%s)\" >> $GITHUB_OUTPUT");
  assert_int_equal(s->ncmds, 2);
  cmd_is(&s->cmds[0], 10, 22, "", 0, 1, 1);
  word_is(&s->cmds[0].argv[0], "git", 10, 3, 0);
  word_is(&s->cmds[0].argv[3], "--format=%s", 21, 11, 0);
  cmd_is(&s->cmds[1], 0, 52, "", 1, 0, 0);
  word_is(&s->cmds[1].argv[1], "x=$(git log -1 --format=%s)", 5, 29, Q | E);
  assert_string_equal(s->cmds[1].redirs[0].op, ">>");
  word_is(&s->cmds[1].redirs[0].target, "$GITHUB_OUTPUT", 38, 14, E);
  mlg_sh_free(s);

  /* nested: innermost first, depth counts levels */
  render_is("v=$(curl -s $(cat url) | jq -r .v)",
            "@14+7 p=0 d=2 s sep=: [cat]@14+3 [url]@18+3\n"
            "@4+18 p=1 d=1 s sep=|: [curl]@4+4 [-s]@9+2 [$(cat url)]@12+10/E\n"
            "@25+8 p=1 d=1 s sep=: [jq]@25+2 [-r]@28+2 [.v]@31+2\n"
            "@0+34 p=2 d=0 sep=: A [v=$(curl -s $(cat url) | jq -r .v)]@0+34/E\n");
  /* ${...}, $((...)) and case inside $( ) */
  render_is("echo ${x:-$(whoami)} $((1 + $(wc -l < f))) $(case a in a) id;; esac)",
            "@12+6 p=0 d=1 s sep=: [whoami]@12+6\n"
            "@30+9 p=1 d=1 s sep=: [wc]@30+2 [-l]@33+2 R(-1 < [f]@38+1)\n"
            "@45+9 p=2 d=1 s sep=: [case]@45+4 [a]@50+1 [in]@52+2\n"
            "@58+2 p=3 d=1 s sep=;: [id]@58+2\n"
            "@0+68 p=4 d=0 sep=: [echo]@0+4 [${x:-$(whoami)}]@5+15/E"
            " [$((1 + $(wc -l < f)))]@21+21/E [$(case a in a) id;; esac)]@43+25/E\n");
}

static void test_backquotes(void **state)
{
  render_is("x=`echo \\`date\\``; echo \"`id -u`\"",
            "@10+4 p=0 d=2 s sep=: [date]@10+4\n"
            "@3+13 p=1 d=1 s sep=: [echo]@3+4 [`date`]@8+8/E\n"
            "@0+17 p=2 d=0 sep=;: A [x=`echo \\`date\\``]@0+17/E\n"
            "@26+5 p=3 d=1 s sep=: [id]@26+2 [-u]@29+2\n"
            "@19+14 p=4 d=0 sep=: [echo]@19+4 [`id -u`]@24+9/QE\n");
}

/* --- heredocs ----------------------------------------------------------------- */

static void test_heredocs(void **state)
{
  mlg_sh_script *s = parse("cat <<EOF >> $GITHUB_ENV\nA=${{ x }}\nEOF\n");
  const mlg_sh_cmd *c = &s->cmds[0];
  assert_int_equal(s->ncmds, 1);
  assert_int_equal(s->error, 0);
  cmd_is(c, 0, 24, "\n", 0, 0, 0);
  assert_int_equal(c->nredirs, 2);
  assert_string_equal(c->redirs[0].op, "<<");
  word_is(&c->redirs[0].target, "EOF", 6, 3, 0);
  assert_string_equal(c->redirs[0].heredoc, "A=${{ x }}\n");
  assert_int_equal(c->redirs[0].heredoc_offset, 25);
  assert_string_equal(c->redirs[1].op, ">>");
  word_is(&c->redirs[1].target, "$GITHUB_ENV", 13, 11, E);
  assert_null(c->redirs[1].heredoc);
  mlg_sh_free(s);

  s = parse("python - <<'PY'\nimport torch\nPY");
  c = &s->cmds[0];
  assert_int_equal(s->ncmds, 1);
  assert_int_equal(s->error, 0);
  cmd_is(c, 0, 15, "\n", 0, 0, 0);
  word_is(&c->argv[1], "-", 7, 1, 0);
  word_is(&c->redirs[0].target, "PY", 11, 4, Q);
  assert_string_equal(c->redirs[0].heredoc, "import torch\n");
  assert_int_equal(c->redirs[0].heredoc_offset, 16);
  mlg_sh_free(s);

  /* <<- strips leading tabs from the body and the delimiter line */
  s = parse("cat <<-EOF\n\tline1\n\t\tline2\n  sp\n\tEOF\necho after");
  c = &s->cmds[0];
  assert_int_equal(s->ncmds, 2);
  assert_string_equal(c->redirs[0].op, "<<-");
  assert_string_equal(c->redirs[0].heredoc, "line1\nline2\n  sp\n");
  assert_int_equal(c->redirs[0].heredoc_offset, 11);
  cmd_is(&s->cmds[1], 36, 10, "", 1, 0, 0);
  mlg_sh_free(s);

  /* two heredocs on one line, read in order; the command after them */
  render_is("cat <<A <<\"B\" | sh\na $(x)\nA\nb $(y)\nB\nnext",
            "@0+13 p=0 d=0 sep=|: [cat]@0+3 R(-1 << [A]@6+1 doc@19\"a $(x)\n\")"
            " R(-1 << [B]@10+3/Q doc@28\"b $(y)\n\")\n"
            "@16+2 p=0 d=0 sep=\\n: [sh]@16+2\n"
            "@23+1 p=1 d=1 s sep=: [x]@23+1\n"
            "@37+4 p=2 d=0 sep=: [next]@37+4\n");
  /* a here-string has no body */
  render_is("some-random-command <<< \"${secrets_json}\"\n",
            "@0+41 p=0 d=0 sep=\\n: [some-random-command]@0+19"
            " R(-1 <<< [${secrets_json}]@24+17/QE)\n");
  /* heredoc inside $( ) */
  render_is("x=$(cat <<EOF\nbody\nEOF\n)\necho \"$x\"",
            "@4+9 p=0 d=1 s sep=\\n: [cat]@4+3 R(-1 << [EOF]@10+3 doc@14\"body\n\")\n"
            "@0+24 p=1 d=0 sep=\\n: A [x=$(cat <<EOF\nbody\nEOF\n)]@0+24/E\n"
            "@25+9 p=2 d=0 sep=: [echo]@25+4 [$x]@30+4/QE\n");
}

/* --- layout: continuations, comments, CRLF ------------------------------------ */

static void test_continuations_and_comments(void **state)
{
  render_is("docker run \\\n  -v a:b \\\n  --rm \"img\"\\\n:1 \\\n  sh",
            "@0+47 p=0 d=0 sep=: [docker]@0+6 [run]@7+3 [-v]@15+2 [a:b]@18+3 [--rm]@26+4"
            " [img:1]@31+9/Q [sh]@45+2\n");
  render_is("# curl x | sh\n", "");
  render_is("echo hi # | sh\nurl=a#b  #c\n#x",
            "@0+7 p=0 d=0 sep=\\n: [echo]@0+4 [hi]@5+2\n"
            "@15+7 p=1 d=0 sep=\\n: A [url=a#b]@15+7\n");
}

static void test_crlf(void **state)
{
  render_is("echo ok\r\nif true; then\r\n  cat <<EOF | sh\r\nid\r\nEOF\r\nfi\r\n",
            "@0+7 p=0 d=0 sep=\\n: [echo]@0+4 [ok]@5+2\n"
            "@12+4 p=1 d=0 sep=;: [true]@12+4\n"
            "@26+9 p=2 d=0 sep=|: [cat]@26+3 R(-1 << [EOF]@32+3 doc@42\"id\r\n\")\n"
            "@38+2 p=2 d=0 sep=\\n: [sh]@38+2\n");
}

/* --- compound commands ------------------------------------------------------------ */

static void test_if_for_while_case(void **state)
{
  mlg_sh_script *s = parse("if curl x | sh; then\n  echo ok\nelse exit 1; fi");
  assert_int_equal(s->ncmds, 4);
  word_is(&s->cmds[0].argv[0], "curl", 3, 4, 0);
  cmd_is(&s->cmds[0], 3, 6, "|", 0, 0, 0);
  word_is(&s->cmds[1].argv[0], "sh", 12, 2, 0);
  cmd_is(&s->cmds[1], 12, 2, ";", 0, 0, 0);
  word_is(&s->cmds[2].argv[0], "echo", 23, 4, 0);
  word_is(&s->cmds[3].argv[0], "exit", 36, 4, 0);
  cmd_is(&s->cmds[3], 36, 6, ";", 2, 0, 0);
  mlg_sh_free(s);

  render_is("for f in *.py; do\n  python \"$f\"\ndone | tee log",
            "@0+13 p=0 d=0 sep=;: [for]@0+3 [f]@4+1 [in]@6+2 [*.py]@9+4/G\n"
            "@20+11 p=1 d=0 sep=|: [python]@20+6 [$f]@27+4/QE\n"
            "@39+7 p=1 d=0 sep=: [tee]@39+3 [log]@43+3\n");
  render_is("while read -r l; do ! echo \"$l\"; done < in.txt\nuntil false; do break; done",
            "@6+9 p=0 d=0 sep=;: [read]@6+4 [-r]@11+2 [l]@14+1\n"
            "@22+9 p=1 d=0 sep=;: [echo]@22+4 [$l]@27+4/QE\n"
            "@38+8 p=2 d=0 sep=\\n: R(-1 < [in.txt]@40+6)\n"
            "@53+5 p=3 d=0 sep=;: [false]@53+5\n"
            "@63+5 p=4 d=0 sep=;: [break]@63+5\n");
  render_is("for ((i=0; i<3; i++)); do echo $i; done\n(( n > 2 )) && x",
            "@0+21 p=0 d=0 sep=;: [for]@0+3 [((i=0; i<3; i++))]@4+17\n"
            "@26+7 p=1 d=0 sep=;: [echo]@26+4 [$i]@31+2/E\n"
            "@40+11 p=2 d=0 sep=&&: [(( n > 2 ))]@40+11\n"
            "@55+1 p=3 d=0 sep=: [x]@55+1\n");
  render_is("case \"$1\" in\n  start|go) run_it ;;\n  (stop) stop; x ;;&\n  *.txt) ;;\n"
            "  (esac) e ;&\n"
            "esac | cat",
            "@0+12 p=0 d=0 sep=: [case]@0+4 [$1]@5+4/QE [in]@10+2\n"
            "@25+6 p=1 d=0 sep=;: [run_it]@25+6\n"
            "@44+4 p=2 d=0 sep=;: [stop]@44+4\n"
            "@50+1 p=3 d=0 sep=;: [x]@50+1\n"
            "@77+1 p=4 d=0 sep=|: [e]@77+1\n"
            "@89+3 p=4 d=0 sep=: [cat]@89+3\n");
  /* [[ ]]: && < > ( ) | are operands inside */
  render_is("[[ -f a && $x =~ ^(a|b)$ && a < b ]]&&curl x|bash",
            "@0+36 p=0 d=0 sep=&&: [[[]@0+2 [-f]@3+2 [a]@6+1 [&&]@8+2 [$x]@11+2/E [=~]@14+2"
            " [^(a|b)$]@17+7 [&&]@25+2 [a]@28+1 [<]@30+1 [b]@32+1 []]]@34+2\n"
            "@38+6 p=1 d=0 sep=|: [curl]@38+4 [x]@43+1\n"
            "@45+4 p=1 d=0 sep=: [bash]@45+4\n");
}

static void test_subshells_groups_functions(void **state)
{
  mlg_sh_script *s = parse("(cd x && make)");
  assert_int_equal(s->ncmds, 2);
  cmd_is(&s->cmds[0], 1, 4, "&&", 0, 1, 0);
  word_is(&s->cmds[0].argv[0], "cd", 1, 2, 0);
  cmd_is(&s->cmds[1], 9, 4, "", 1, 1, 0);
  word_is(&s->cmds[1].argv[0], "make", 9, 4, 0);
  mlg_sh_free(s);

  render_is("{ echo a; echo b; } >> \"$GITHUB_OUTPUT\"\n( (curl x) ) | sh",
            "@2+6 p=0 d=1 sep=;: [echo]@2+4 [a]@7+1\n"
            "@10+6 p=1 d=1 sep=;: [echo]@10+4 [b]@15+1\n"
            "@20+19 p=2 d=0 sep=\\n: R(-1 >> [$GITHUB_OUTPUT]@23+16/QE)\n"
            "@43+6 p=3 d=2 sep=|: [curl]@43+4 [x]@48+1\n"
            "@55+2 p=3 d=0 sep=: [sh]@55+2\n");
  render_is("f() { curl x | sh; }\nfunction g() {\n  id\n}\nfunction h { :; }; f",
            "@6+6 p=0 d=1 sep=|: [curl]@6+4 [x]@11+1\n"
            "@15+2 p=0 d=1 sep=;: [sh]@15+2\n"
            "@38+2 p=1 d=1 sep=\\n: [id]@38+2\n"
            "@56+1 p=2 d=1 sep=;: [:]@56+1\n"
            "@62+1 p=3 d=0 sep=: [f]@62+1\n");
}

/* --- assignments and redirections ------------------------------------------------ */

static void test_assignments(void **state)
{
  mlg_sh_script *s = parse("A=1 B=$x cmd arg C=2");
  const mlg_sh_cmd *c = &s->cmds[0];
  assert_int_equal(c->nassigns, 2);
  word_is(&c->assigns[0], "A=1", 0, 3, 0);
  word_is(&c->assigns[1], "B=$x", 4, 4, E);
  assert_int_equal(c->argc, 3);
  word_is(&c->argv[0], "cmd", 9, 3, 0);
  word_is(&c->argv[2], "C=2", 17, 3, 0);
  mlg_sh_free(s);

  render_is("X=*.py arr=(a \"b c\" $(ls)) n[1]+=v 1A=x \"Q\"=y export Z=1",
            "@22+2 p=0 d=1 s sep=: [ls]@22+2\n"
            "@0+56 p=1 d=0 sep=: A [X=*.py]@0+6 A [arr=(a \"b c\" $(ls))]@7+19/QE A [n[1]+=v]@27+7"
            " [1A=x]@35+4 [Q=y]@40+5/Q [export]@46+6 [Z=1]@53+3\n");
}

static void test_redirections(void **state)
{
  mlg_sh_script *s = parse("exec 3>&1");
  const mlg_sh_cmd *c = &s->cmds[0];
  assert_int_equal(c->argc, 1);
  assert_int_equal(c->nredirs, 1);
  assert_int_equal(c->redirs[0].fd, 3);
  assert_string_equal(c->redirs[0].op, ">&");
  word_is(&c->redirs[0].target, "1", 8, 1, 0);
  cmd_is(c, 0, 9, "", 0, 0, 0);
  mlg_sh_free(s);

  s = parse("cmd &> out.log 2>&1");
  c = &s->cmds[0];
  assert_int_equal(c->nredirs, 2);
  assert_int_equal(c->redirs[0].fd, -1);
  assert_string_equal(c->redirs[0].op, "&>");
  word_is(&c->redirs[0].target, "out.log", 7, 7, 0);
  assert_int_equal(c->redirs[1].fd, 2);
  assert_string_equal(c->redirs[1].op, ">&");
  word_is(&c->redirs[1].target, "1", 18, 1, 0);
  mlg_sh_free(s);

  render_is("a >>$GITHUB_OUTPUT <in 4<>f >|g 2>&- &>>all 5<&0 x2>y <<<w",
            "@0+58 p=0 d=0 sep=: [a]@0+1 [x2]@49+2 R(-1 >> [$GITHUB_OUTPUT]@4+14/E)"
            " R(-1 < [in]@20+2) R(4 <> [f]@26+1) R(-1 >| [g]@30+1) R(2 >& [-]@35+1)"
            " R(-1 &>> [all]@40+3) R(5 <& [0]@47+1) R(-1 > [y]@52+1) R(-1 <<< [w]@57+1)\n");
  /* echo 2>x: the fd belongs to the redirection, "a2" is a word */
  render_is("> $GITHUB_ENV", "@0+13 p=0 d=0 sep=: R(-1 > [$GITHUB_ENV]@2+11/E)\n");
}

/* --- malformed scripts ------------------------------------------------------------ */

static void error_is(const char *script, size_t ncmds, size_t off, const char *msg)
{
  mlg_sh_script *s = parse(script);
  if (s->ncmds != ncmds || s->error != MLG_EPARSE || s->error_offset != off ||
      strcmp(s->error_msg, msg) != 0) {
    char *got = render(s);
    print_error("script: %s\n--- got:\n%s(error %d)\n", script, got, s->error);
    free(got);
    mlg_sh_free(s);
    fail();
  }
  mlg_sh_free(s);
}

static void test_errors(void **state)
{
  mlg_sh_script *s = parse("echo ok; curl x | sh\necho \"unterminated $(id)\n");
  assert_int_equal(s->error, MLG_EPARSE);
  assert_int_equal(s->error_offset, 26);
  assert_string_equal(s->error_msg, "unterminated double quote");
  assert_int_equal(s->ncmds, 3);
  word_is(&s->cmds[2].argv[0], "sh", 18, 2, 0);
  mlg_sh_free(s);

  error_is("echo 'it", 0, 5, "unterminated single quote");
  error_is("a; echo $'x", 1, 8, "unterminated $'...' string");
  error_is("a\necho $(foo; bar", 1, 7, "'$(' is not closed: missing ')'");
  error_is("a && (cd x; make", 1, 5, "'(' is not closed: missing ')'");
  error_is("a; { b; c", 1, 3, "'{' is not closed: missing '}'");
  error_is("b; case x in a) b;;", 1, 3, "'case' is not closed: missing 'esac'");
  error_is("a; echo `id", 1, 8, "unterminated backquote");
  error_is("a; echo ${x", 1, 8, "unterminated ${...}");
  error_is("a; echo $((1+2)", 1, 8, "unterminated $((...))");
  error_is("a; echo ${{ github.x", 1, 8, "unterminated ${{ expression (no closing }})");
  error_is("a; b)", 2, 4, "unexpected ')'");
  error_is("a; }", 1, 3, "unexpected '}'");
  error_is("a; esac", 1, 3, "unexpected 'esac'");
  error_is("a | | b", 1, 4, "unexpected '|'");
  error_is("; a", 0, 0, "unexpected ';'");
  error_is("a;; b", 1, 1, "unexpected ';;'");
  error_is("a; echo (x)", 1, 8, "unexpected '('");
  error_is("a; cat >", 1, 7, "redirection '>' without a target");
  error_is("a; cat < | x", 1, 7, "redirection '<' without a target");
  error_is("a; case", 1, 3, "'case' without a word");
  error_is("a; case x of", 1, 10, "expected 'in' after 'case WORD'");
  error_is("case x in ) a;; esac", 1, 10, "missing pattern in a case clause");
  error_is("case x in a b) ;; esac", 1, 12, "expected ')' after a case pattern");
  error_is("a; x=(1 ; 2)", 1, 8, "unexpected ';' in an array assignment");
  error_is("a; x=(1 2", 1, 5, "unterminated array assignment (no closing ')')");
  error_is("a; function", 1, 3, "'function' without a name");

  /* heredoc without its end: the body is the rest, as bash reads it */
  s = parse("a\ncat <<EOF | sh\nid\n");
  assert_int_equal(s->error, MLG_EPARSE);
  assert_int_equal(s->error_offset, 6);
  assert_string_equal(s->error_msg,
                      "here-document 'EOF' is not terminated (no line 'EOF' before the end)");
  assert_int_equal(s->ncmds, 2);
  assert_string_equal(s->cmds[1].redirs[0].heredoc, "id\n");
  assert_int_equal(s->cmds[1].redirs[0].heredoc_offset, 17);
  mlg_sh_free(s);
  error_is("a; cat <<EOF", 2, 7, "here-document 'EOF' has no body");
  /* unbalanced $( in an unquoted heredoc body */
  error_is("cat <<E\n$(x\nE\n", 1, 8, "'$(' is not closed: missing ')'");
  /* pipelines are numbered 0, 1, ... after the commands past the error go */
  s = parse("a $(b) $(c) <<-$d\n");
  assert_int_equal(s->error, MLG_EPARSE);
  assert_int_equal(s->ncmds, 3);
  assert_int_equal(s->cmds[2].pipeline, 2);
  mlg_sh_free(s);
}

/* --- real-world run: blocks ------------------------------------------------------ */

/* From ../shared/peer-fixtures: zizmor test-data and actionlint ok/ workflows. */
static void test_real_world(void **state)
{
  /* zizmor adhoc-packages.yml */
  render_is("echo \"Hello\"\ngem install foo\ngem install bar\necho \"Goodbye\"\n",
            "@0+12 p=0 d=0 sep=\\n: [echo]@0+4 [Hello]@5+7/Q\n"
            "@13+15 p=1 d=0 sep=\\n: [gem]@13+3 [install]@17+7 [foo]@25+3\n"
            "@29+15 p=2 d=0 sep=\\n: [gem]@29+3 [install]@33+7 [bar]@41+3\n"
            "@45+14 p=3 d=0 sep=\\n: [echo]@45+4 [Goodbye]@50+9/Q\n");
  /* zizmor github_env.yml */
  render_is("message=$(echo \"$TITLE\" | grep -oP '[{\\[][^}\\]]+[}\\]]' | sed "
            "'s/{\\|}\\|\\[\\|\\]//g')\necho \"message=$message\" >> $GITHUB_ENV\n",
            "@10+13 p=0 d=1 s sep=|: [echo]@10+4 [$TITLE]@15+8/QE\n"
            "@26+28 p=0 d=1 s sep=|: [grep]@26+4 [-oP]@31+3 [[{\\[][^}\\]]+[}\\]]]@35+19/Q\n"
            "@57+23 p=0 d=1 s sep=: [sed]@57+3 [s/{\\|}\\|\\[\\|\\]//g]@61+19/Q\n"
            "@0+81 p=1 d=0 sep=\\n: A [message=$(echo \"$TITLE\" | grep -oP "
            "'[{\\[][^}\\]]+[}\\]]' | sed 's/{\\|}\\|\\[\\|\\]//g')]@0+81/E\n"
            "@82+38 p=2 d=0 sep=\\n: [echo]@82+4 [message=$message]@87+18/QE"
            " R(-1 >> [$GITHUB_ENV]@109+11/E)\n");
  /* zizmor obfuscation.yml */
  render_is("echo ${{ '' }}\necho ${{ true && false }}\necho ${{ 1 > 2 || true }}\n"
            "echo ${{ 1 != 2}}\n",
            "@0+14 p=0 d=0 sep=\\n: [echo]@0+4 [${{ '' }}]@5+9/T\n"
            "@15+25 p=1 d=0 sep=\\n: [echo]@15+4 [${{ true && false }}]@20+20/T\n"
            "@41+25 p=2 d=0 sep=\\n: [echo]@41+4 [${{ 1 > 2 || true }}]@46+20/T\n"
            "@67+17 p=3 d=0 sep=\\n: [echo]@67+4 [${{ 1 != 2}}]@72+12/T\n");
  render_is("# inner [...] is reducible\necho ${{ foobar[format('{0}', 'event')]}}\n"
            "echo ${{ format('{0} {1}', 'abc', format('{0}', 'def')) }}\n",
            "@27+41 p=0 d=0 sep=\\n: [echo]@27+4 [${{ foobar[format('{0}', 'event')]}}]@32+36/T\n"
            "@69+58 p=1 d=0 sep=\\n: [echo]@69+4"
            " [${{ format('{0} {1}', 'abc', format('{0}', 'def')) }}]@74+53/T\n");
  /* zizmor overprovisioned-secrets.yml */
  render_is("some-random-command <<< \"${secrets_json}\"\n",
            "@0+41 p=0 d=0 sep=\\n: [some-random-command]@0+19"
            " R(-1 <<< [${secrets_json}]@24+17/QE)\n");
  /* actionlint issue-113.yaml */
  render_is("if [[ -z ${{ env.FOO }} ]]; then\n  echo \"FOO is empty\"\nfi\n",
            "@3+23 p=0 d=0 sep=;: [[[]@3+2 [-z]@6+2 [${{ env.FOO }}]@9+14/T []]]@24+2\n"
            "@35+19 p=1 d=0 sep=\\n: [echo]@35+4 [FOO is empty]@40+14/Q\n");
  /* actionlint issue-45.yaml */
  render_is("if [[ \"${{ github.event.sender.login}}\" == \"rhysd\" ]]; then\n"
            "  echo \"it's me\"\nfi\n",
            "@3+50 p=0 d=0 sep=;: [[[]@3+2 [${{ github.event.sender.login}}]@6+33/QT [==]@40+2"
            " [rhysd]@43+7/Q []]]@51+2\n"
            "@62+14 p=1 d=0 sep=\\n: [echo]@62+4 [it's me]@67+9/Q\n");
  /* actionlint issue-355-shellcheck-sc2043.yaml */
  render_is("for x in ${{ github.run_number }}; do\n  echo \"$x\"\ndone\n",
            "@0+33 p=0 d=0 sep=;: [for]@0+3 [x]@4+1 [in]@6+2 [${{ github.run_number }}]@9+24/T\n"
            "@40+9 p=1 d=0 sep=\\n: [echo]@40+4 [$x]@45+4/QE\n");
  /* actionlint issue-573_shellcheck_SC2153.yaml */
  render_is("branch=\"${BRANCH}\"\n# Avoid SC2034\necho \"$branch\"\n",
            "@0+18 p=0 d=0 sep=\\n: A [branch=${BRANCH}]@0+18/QE\n"
            "@34+14 p=1 d=0 sep=\\n: [echo]@34+4 [$branch]@39+9/QE\n");
  /* actionlint no_description_workflow_call.yaml */
  render_is("echo \"firstword=hello, ${{ inputs.username }}\" >> \"$GITHUB_OUTPUT\"",
            "@0+66 p=0 d=0 sep=: [echo]@0+4 [firstword=hello, ${{ inputs.username }}]@5+41/QT"
            " R(-1 >> [$GITHUB_OUTPUT]@50+16/QE)\n");
  /* actionlint workflow_dispatch_25_inputs.yaml (first lines) */
  render_is("echo ${{ inputs.input1 }} \\\n     ${{ inputs.input2 }} \\\n"
            "     ${{ inputs.input3 }}\n",
            "@0+81 p=0 d=0 sep=\\n: [echo]@0+4 [${{ inputs.input1 }}]@5+20/T"
            " [${{ inputs.input2 }}]@33+20/T [${{ inputs.input3 }}]@61+20/T\n");
  /* actionlint issue-249_matrix_exclude_filter_object_subset.yaml */
  render_is("echo 'name is ${{ matrix.os.name }} and arch is ${{ matrix.arch.name }}'",
            "@0+72 p=0 d=0 sep=: [echo]@0+4"
            " [name is ${{ matrix.os.name }} and arch is ${{ matrix.arch.name }}]@5+67/QT\n");
}

/* --- limits and robustness -------------------------------------------------------- */

static void test_limits(void **state)
{
  mlg_sh_script *s = (mlg_sh_script *)1;
  mlg_err err;
  size_t n = (1u << 20) + 1, i;
  char *big = malloc(n + 1);
  assert_non_null(big);

  memset(big, 'a', n);
  assert_int_equal(mlg_sh_parse(&s, big, n, &err), MLG_ELIMIT);
  assert_null(s);
  assert_string_equal(err.msg, "shell script of 1048577 bytes is over the 1048576-byte limit");

  /* 100,000 words pass, one more does not */
  for (i = 0; i < 100000; i++)
    memcpy(big + 2 * i, "a ", 2);
  assert_int_equal(mlg_sh_parse(&s, big, 200000, &err), 0);
  assert_int_equal(s->ncmds, 1);
  assert_int_equal(s->cmds[0].argc, 100000);
  mlg_sh_free(s);
  memcpy(big + 200000, "b", 1);
  assert_int_equal(mlg_sh_parse(&s, big, 200001, &err), MLG_ELIMIT);
  assert_null(s);
  assert_string_equal(err.msg, "shell script: more than 100000 words");

  /* nesting: 63 $( ) in the top-level list pass, 64 do not */
  for (n = 0, i = 0; i < 63; i++, n += 2)
    memcpy(big + n, "$(", 2);
  big[n] = 'a';
  memset(big + n + 1, ')', 63);
  assert_int_equal(mlg_sh_parse(&s, big, n + 64, &err), 0);
  assert_int_equal(s->error, 0);
  assert_int_equal(s->ncmds, 64);
  assert_string_equal(s->cmds[0].argv[0].text, "a");
  assert_int_equal(s->cmds[0].depth, 63);
  assert_int_equal(s->cmds[63].depth, 0);
  mlg_sh_free(s);
  memcpy(big + n, "$(a", 3);
  memset(big + n + 3, ')', 64);
  assert_int_equal(mlg_sh_parse(&s, big, n + 67, &err), MLG_ELIMIT);
  assert_null(s);
  assert_string_equal(err.msg, "shell script: nesting deeper than 64 levels at offset 128");
  /* the same with quotes, braces and groups mixed */
  for (n = 0, i = 0; i < 200; i++, n += 4)
    memcpy(big + n, "\"${x", 4);
  assert_int_equal(mlg_sh_parse(&s, big, n, &err), MLG_ELIMIT);
  for (n = 0, i = 0; i < 200; i++, n += 2)
    memcpy(big + n, "{ ", 2);
  assert_int_equal(mlg_sh_parse(&s, big, n, &err), MLG_ELIMIT);
  free(big);
}

/* Inputs that would cost quadratic time or a deep stack in a naive lexer:
 * each runs well under a second on 1 MiB. */
static void test_linear_time(void **state)
{
  static const char *const units[] = {"#${{\n", "$((", "cat <<E\n", "`", "'", "\\", "a|",
                                      "${{ '", "x=(", "\"$(", "<<E ", "case x in a) "};
  size_t n = 1u << 20, i, k;
  char *big = malloc(n);
  assert_non_null(big);
  for (k = 0; k < sizeof units / sizeof units[0]; k++) {
    size_t ul = strlen(units[k]);
    mlg_sh_script *s = NULL;
    mlg_err err;
    clock_t t0 = clock();
    int rc;
    for (i = 0; i + ul <= n; i += ul)
      memcpy(big + i, units[k], ul);
    rc = mlg_sh_parse(&s, big, i, &err);
    assert_true(rc == 0 || rc == MLG_ELIMIT);
    mlg_sh_free(s);
    if ((double)(clock() - t0) / CLOCKS_PER_SEC > 2.0)
      fail_msg("unit '%s' took %.2f s", units[k], (double)(clock() - t0) / CLOCKS_PER_SEC);
  }
  free(big);
}

/* Inputs found by fuzz_shlex. */
static void test_fuzz_regressions(void **state)
{
  /* pipeline numbers stayed past the last command left after an error */
  static const char crash1[] = "echo ok\ne=$(dat-)\024EOF<<-$echo ${x:-$(who{\tindeami)} "
                               "$((0 + $ wc -l < fnte)!) dE\n\tX";
  mlg_sh_script *s = parse(crash1);
  assert_int_equal(s->error, MLG_EPARSE);
  assert_int_equal(s->error_offset, 21);
  assert_int_equal(s->ncmds, 3);
  assert_int_equal(s->cmds[2].pipeline, 2);
  mlg_sh_free(s);
  /* the first word of a script: NULL + 0 on the empty text buffer (UBSan) */
  render_is("d", "@0+1 p=0 d=0 sep=: [d]@0+1\n");
}

int main(void)
{
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(test_simple_commands),
      cmocka_unit_test(test_quoting),
      cmocka_unit_test(test_lists_and_pipelines),
      cmocka_unit_test(test_process_substitution),
      cmocka_unit_test(test_template_to_github_env),
      cmocka_unit_test(test_command_substitution),
      cmocka_unit_test(test_backquotes),
      cmocka_unit_test(test_heredocs),
      cmocka_unit_test(test_continuations_and_comments),
      cmocka_unit_test(test_crlf),
      cmocka_unit_test(test_if_for_while_case),
      cmocka_unit_test(test_subshells_groups_functions),
      cmocka_unit_test(test_assignments),
      cmocka_unit_test(test_redirections),
      cmocka_unit_test(test_errors),
      cmocka_unit_test(test_real_world),
      cmocka_unit_test(test_limits),
      cmocka_unit_test(test_linear_time),
      cmocka_unit_test(test_fuzz_regressions),
  };
  return cmocka_run_group_tests(tests, NULL, NULL);
}
