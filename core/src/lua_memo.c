#include "lua_memo.h"

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <lauxlib.h>

#include "lua_lazy.h"

/* Open addressing would need tombstones; a small direct-mapped table with
 * a second chance is enough: hits dominate (the same script is asked for
 * by every policy of a batch, one after the other). */
#define SLOTS 8192
#define MAX_BYTES ((size_t)128 << 20)

typedef struct slot {
  char *key;      /* kind character + key bytes */
  size_t klen;
  uint64_t hash;
  mlg_memo *memo;
} slot;

static slot table[SLOTS];
static size_t total_bytes;

static const char box_mt[] = "mlgate.memo";

static uint64_t hash_of(char kind, const char *key, size_t len)
{
  uint64_t h = 1469598103934665603ULL ^ (unsigned char)kind;
  size_t i;
  for (i = 0; i < len; i++) {
    h ^= (unsigned char)key[i];
    h *= 1099511628211ULL;
  }
  return h;
}

static void memo_free(mlg_memo *m)
{
  mlg_doc_free(m->doc);
  free(m->error);
  free(m);
}

void mlg_memo_release(mlg_memo *m)
{
  if (m && --m->refs == 0)
    memo_free(m);
}

static void slot_clear(slot *s)
{
  if (s->memo)
    total_bytes -= s->memo->bytes;
  free(s->key);
  mlg_memo_release(s->memo);
  memset(s, 0, sizeof *s);
}

static int slot_matches(const slot *s, uint64_t h, char kind, const char *key, size_t len)
{
  return s->key && s->hash == h && s->klen == len + 1 && s->key[0] == kind &&
         memcmp(s->key + 1, key, len) == 0;
}

mlg_memo *mlg_memo_get(char kind, const char *key, size_t len)
{
  uint64_t h = hash_of(kind, key, len);
  slot *s = &table[h % SLOTS];
  if (!slot_matches(s, h, kind, key, len))
    return NULL;
  s->memo->refs++;
  return s->memo;
}

/* Bytes a document holds, for the cache budget. */
static size_t doc_bytes(const mlg_doc *doc)
{
  return doc ? doc->used_bytes + sizeof *doc : 0;
}

mlg_memo *mlg_memo_put(char kind, const char *key, size_t len, mlg_doc *doc, char *error)
{
  uint64_t h = hash_of(kind, key, len);
  slot *s = &table[h % SLOTS];
  mlg_memo *m = calloc(1, sizeof *m);
  char *k = malloc(len + 1);
  size_t i;

  if (!m || !k) {
    free(m);
    free(k);
    mlg_doc_free(doc);
    return NULL;
  }
  m->doc = doc;
  m->error = error;
  m->bytes = doc_bytes(doc) + len + (error ? strlen(error) : 0) + sizeof *m;
  m->refs = 1;
  /* Results too large to be worth keeping are handed out, not kept. */
  if (m->bytes > MAX_BYTES / 8) {
    free(k);
    return m;
  }
  slot_clear(s);
  /* Over the budget: drop other entries until it fits. */
  for (i = 0; i < SLOTS && total_bytes + m->bytes > MAX_BYTES; i++)
    slot_clear(&table[i]);
  k[0] = kind;
  memcpy(k + 1, key, len);
  s->key = k;
  s->klen = len + 1;
  s->hash = h;
  s->memo = m;
  m->refs++;
  total_bytes += m->bytes;
  return m;
}

void mlg_memo_clear(void)
{
  size_t i;
  for (i = 0; i < SLOTS; i++)
    slot_clear(&table[i]);
  total_bytes = 0;
}

static int box_gc(lua_State *L)
{
  mlg_memo **box = luaL_checkudata(L, 1, box_mt);
  mlg_memo_release(*box);
  *box = NULL;
  return 0;
}

void mlg_lua_memo_push(lua_State *L, mlg_memo *m)
{
  mlg_memo **box;
  if (!lua_checkstack(L, 4)) {
    mlg_memo_release(m);
    luaL_error(L, "out of stack");
  }
  /* The box first, so the reference is never lost to a memory error. */
  box = lua_newuserdatauv(L, sizeof *box, 0);
  *box = m;
  if (luaL_newmetatable(L, box_mt)) {
    lua_pushcfunction(L, box_gc);
    lua_setfield(L, -2, "__gc");
    lua_pushliteral(L, "mlgate.memo");
    lua_setfield(L, -2, "__metatable");
  }
  lua_setmetatable(L, -2);
  if (!m || !m->doc || !m->doc->root) {
    lua_pop(L, 1);
    lua_pushnil(L);
    return;
  }
  mlg_lua_push_lazy(L, m->doc->root, -1);
  lua_remove(L, -2);
}
