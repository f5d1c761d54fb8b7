#include "issues.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

void mlg_issue_add(mlg_issues *l, const char *code, const char *member, int64_t offset,
                   const char *fmt, ...)
{
  mlg_issue *it;
  char msg[1024];
  va_list ap;

  if (l->len >= MLG_ISSUES_MAX) {
    l->dropped++;
    return;
  }
  if (l->len == l->cap) {
    size_t cap = l->cap ? l->cap * 2 : 8;
    mlg_issue *p = realloc(l->items, cap * sizeof *p);
    if (!p) {
      l->dropped++;
      return;
    }
    l->items = p;
    l->cap = cap;
  }
  va_start(ap, fmt);
  vsnprintf(msg, sizeof msg, fmt, ap);
  va_end(ap);
  it = &l->items[l->len];
  it->code = code;
  it->offset = offset;
  it->member = member ? strdup(member) : NULL;
  it->message = strdup(msg);
  if (!it->message || (member && !it->member)) {
    free(it->member);
    free(it->message);
    l->dropped++;
    return;
  }
  l->len++;
}

void mlg_issues_free(mlg_issues *l)
{
  size_t i;
  if (!l)
    return;
  for (i = 0; i < l->len; i++) {
    free(l->items[i].member);
    free(l->items[i].message);
  }
  free(l->items);
  memset(l, 0, sizeof *l);
}
