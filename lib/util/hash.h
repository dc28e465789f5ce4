/*
 * Internal: seeded 64-bit hashing and an open-addressing index.
 *
 * The seed is random per process (getrandom, else time and address bits),
 * so crafted colliding names cannot force quadratic time (BAD-INPUTS E4,
 * jansson CVE-2013-6401).
 */
#ifndef PSC_UTIL_HASH_H
#define PSC_UTIL_HASH_H
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

uint64_t psc_hash_seed(void);
uint64_t psc_hash_bytes(const void *p, size_t n, uint64_t seed);
/* 128-bit fingerprint: two 64-bit lanes computed in one pass with
 * independent constants, so that identity checks by fingerprint have a
 * collision probability near 2^-128 per pair. */
typedef struct psc_fp {
    uint64_t a, b;
} psc_fp;
psc_fp psc_hash128(const void *p, size_t n, psc_fp seed);
static inline psc_fp psc_fp_add(psc_fp x, psc_fp y)
{
    psc_fp r = {x.a + y.a, x.b + y.b};
    return r;
}
static inline psc_fp psc_fp_sub(psc_fp x, psc_fp y)
{
    psc_fp r = {x.a - y.a, x.b - y.b};
    return r;
}

/* Combine two hashes (order-sensitive). */
static inline uint64_t psc_hash_mix(uint64_t h, uint64_t v)
{
    h ^= v + 0x9e3779b97f4a7c15ull + (h << 6) + (h >> 2);
    h *= 0xbf58476d1ce4e5b9ull;
    return h ^ (h >> 31);
}

/*
 * An index from 64-bit hashes to caller-defined uint32 ids (e.g. positions in
 * the caller's array). The caller resolves collisions: psc_hidx_find walks
 * the slots holding the same hash through a callback.
 */
typedef struct psc_hidx {
    uint64_t *hashes;  /* 0 = empty slot (hash 0 is remapped to 1) */
    uint32_t *ids;
    size_t cap;        /* power of two */
    size_t count;
} psc_hidx;

void psc_hidx_init(psc_hidx *h);
void psc_hidx_release(psc_hidx *h);
void psc_hidx_clear(psc_hidx *h);
/* Return the id of an entry with hash `hash` for which eq(ctx, id) is true,
 * or UINT32_MAX when none. */
uint32_t psc_hidx_find(const psc_hidx *h, uint64_t hash, bool (*eq)(void *ctx, uint32_t id),
                       void *ctx);
/* Insert; 0 on success, -1 when out of memory. */
int psc_hidx_insert(psc_hidx *h, uint64_t hash, uint32_t id);
#endif
