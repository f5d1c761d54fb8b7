#include "strtab.h"

#include <pthread.h>
#include <stdlib.h>
#include <string.h>
#include <sys/random.h>
#include <time.h>

#include "err.h"

struct mlg_strtab_slot {
  uint64_t hash;
  size_t val; /* value + 1; 0 = empty */
};

/* Maps smaller than this are scanned: cheaper than hashing. */
#define MAPKEYS_SCAN 8

static uint64_t sip_k0, sip_k1;
static pthread_once_t sip_once = PTHREAD_ONCE_INIT;

static void sip_init(void)
{
  uint64_t k[2];
  if (getrandom(k, sizeof k, GRND_NONBLOCK) != (ssize_t)sizeof k) {
    /* No entropy yet (early boot): fall back to something unpredictable
     * enough from outside the process. */
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    k[0] = (uint64_t)ts.tv_nsec * 0x9E3779B97F4A7C15ull ^ (uint64_t)(uintptr_t)&ts;
    k[1] = (uint64_t)ts.tv_sec * 0xC2B2AE3D27D4EB4Full ^ (uint64_t)(uintptr_t)&sip_k0;
  }
  sip_k0 = k[0];
  sip_k1 = k[1];
}

#define ROTL(x, b) (uint64_t)(((x) << (b)) | ((x) >> (64 - (b))))
#define SIPROUND                                                               \
  do {                                                                         \
    v0 += v1; v1 = ROTL(v1, 13); v1 ^= v0; v0 = ROTL(v0, 32);                  \
    v2 += v3; v3 = ROTL(v3, 16); v3 ^= v2;                                     \
    v0 += v3; v3 = ROTL(v3, 21); v3 ^= v0;                                     \
    v2 += v1; v1 = ROTL(v1, 17); v1 ^= v2; v2 = ROTL(v2, 32);                  \
  } while (0)

/* SipHash-1-3: one compression round, three finalisation rounds. */
uint64_t mlg_strtab_hash(const char *s, size_t len)
{
  const unsigned char *in = (const unsigned char *)s;
  uint64_t v0, v1, v2, v3, m, b = (uint64_t)len << 56;
  size_t i, tail = len & 7;

  pthread_once(&sip_once, sip_init);
  v0 = sip_k0 ^ 0x736f6d6570736575ull;
  v1 = sip_k1 ^ 0x646f72616e646f6dull;
  v2 = sip_k0 ^ 0x6c7967656e657261ull;
  v3 = sip_k1 ^ 0x7465646279746573ull;
  for (i = 0; i + 8 <= len; i += 8) {
    memcpy(&m, in + i, 8);
    v3 ^= m;
    SIPROUND;
    v0 ^= m;
  }
  switch (tail) {
  case 7: b |= (uint64_t)in[i + 6] << 48; /* fall through */
  case 6: b |= (uint64_t)in[i + 5] << 40; /* fall through */
  case 5: b |= (uint64_t)in[i + 4] << 32; /* fall through */
  case 4: b |= (uint64_t)in[i + 3] << 24; /* fall through */
  case 3: b |= (uint64_t)in[i + 2] << 16; /* fall through */
  case 2: b |= (uint64_t)in[i + 1] << 8;  /* fall through */
  case 1: b |= (uint64_t)in[i]; break;
  default: break;
  }
  v3 ^= b;
  SIPROUND;
  v0 ^= b;
  v2 ^= 0xff;
  SIPROUND;
  SIPROUND;
  SIPROUND;
  return v0 ^ v1 ^ v2 ^ v3;
}

void mlg_strtab_init(mlg_strtab *t)
{
  t->slots = NULL;
  t->cap = 0;
  t->count = 0;
}

void mlg_strtab_free(mlg_strtab *t)
{
  if (!t)
    return;
  free(t->slots);
  mlg_strtab_init(t);
}

size_t mlg_strtab_find(const mlg_strtab *t, uint64_t hash, const char *s, size_t len,
                       mlg_strtab_eq_fn eq, const void *ctx)
{
  size_t mask, i;
  if (!t->cap)
    return MLG_STRTAB_NONE;
  mask = t->cap - 1;
  for (i = (size_t)hash & mask; t->slots[i].val; i = (i + 1) & mask) {
    if (t->slots[i].hash == hash && eq(ctx, t->slots[i].val - 1, s, len))
      return t->slots[i].val - 1;
  }
  return MLG_STRTAB_NONE;
}

static void insert(mlg_strtab_slot *slots, size_t cap, uint64_t hash, size_t stored)
{
  size_t mask = cap - 1, i;
  for (i = (size_t)hash & mask; slots[i].val; i = (i + 1) & mask)
    ;
  slots[i].hash = hash;
  slots[i].val = stored;
}

int mlg_strtab_add(mlg_strtab *t, uint64_t hash, size_t val)
{
  if (val == MLG_STRTAB_NONE)
    return MLG_EINVAL;
  /* Keep the load at or below one half so probes stay short. */
  if ((t->count + 1) * 2 > t->cap) {
    size_t ncap = t->cap ? t->cap * 2 : 16, i;
    mlg_strtab_slot *ns;
    if (ncap > ((size_t)-1) / sizeof *ns)
      return MLG_ENOMEM;
    ns = calloc(ncap, sizeof *ns);
    if (!ns)
      return MLG_ENOMEM;
    for (i = 0; i < t->cap; i++) {
      if (t->slots[i].val)
        insert(ns, ncap, t->slots[i].hash, t->slots[i].val);
    }
    free(t->slots);
    t->slots = ns;
    t->cap = ncap;
  }
  insert(t->slots, t->cap, hash, val + 1);
  t->count++;
  return 0;
}

void mlg_mapkeys_init(mlg_mapkeys *mk)
{
  mlg_strtab_init(&mk->tab);
  mk->indexed = 0;
}

void mlg_mapkeys_free(mlg_mapkeys *mk)
{
  if (!mk)
    return;
  mlg_strtab_free(&mk->tab);
  mk->indexed = 0;
}

static int key_is(const mlg_node *k, const char *s, size_t len)
{
  return k->type == MLG_STR && k->u.str.len == len && memcmp(k->u.str.ptr, s, len) == 0;
}

static int pair_eq(const void *ctx, size_t val, const char *s, size_t len)
{
  const mlg_node *map = ctx;
  return key_is(map->u.map.pairs[val].key, s, len);
}

size_t mlg_mapkeys_find(mlg_mapkeys *mk, const mlg_node *map, const char *s, size_t len)
{
  size_t i, n = map->u.map.len;
  if (mk->tab.cap == 0) {
    for (i = 0; i < n; i++) {
      if (key_is(map->u.map.pairs[i].key, s, len))
        return i;
    }
    return MLG_STRTAB_NONE;
  }
  return mlg_strtab_find(&mk->tab, mlg_strtab_hash(s, len), s, len, pair_eq, map);
}

int mlg_mapkeys_sync(mlg_mapkeys *mk, const mlg_node *map)
{
  size_t n = map->u.map.len;
  if (mk->tab.cap == 0 && n < MAPKEYS_SCAN)
    return 0;
  while (mk->indexed < n) {
    const mlg_node *k = map->u.map.pairs[mk->indexed].key;
    if (k->type == MLG_STR) {
      int rc = mlg_strtab_add(&mk->tab, mlg_strtab_hash(k->u.str.ptr, k->u.str.len),
                              mk->indexed);
      if (rc)
        return rc;
    }
    mk->indexed++;
  }
  return 0;
}
