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
 * the slots holding the same hash tag through a callback.
 *
 * A slot is 8 bytes, 32 bits of the hash (the tag, 0 = empty) and the id
 * side by side, so that a probe costs one cache line. The home slot is a
 * function of the tag alone (multiplicative hashing), so the table can grow
 * without the full hashes; linear probing, at most 3/4 full, so at most
 * 2^32 slots (ids are 32-bit anyway).
 */
typedef struct psc_hidx_slot {
    uint32_t tag;
    uint32_t id;
} psc_hidx_slot;

typedef struct psc_hidx {
    psc_hidx_slot *slots;
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
/* Make room for n entries in all (no growth until then); 0 on success, -1
 * when out of memory. */
int psc_hidx_reserve(psc_hidx *h, size_t n);
/* Insert; 0 on success, -1 when out of memory. */
int psc_hidx_insert(psc_hidx *h, uint64_t hash, uint32_t id);
/* Find, or insert `id` when absent, in one probe sequence: returns the id
 * found, `id` when it was inserted (*inserted true), or UINT32_MAX when out
 * of memory. */
uint32_t psc_hidx_find_or_insert(psc_hidx *h, uint64_t hash, bool (*eq)(void *ctx, uint32_t id),
                                 void *ctx, uint32_t id, bool *inserted);
/* Start loading the slot of `hash` into the cache (a hint, no effect on
 * the contents). */
static inline uint32_t psc_hidx_tag(uint64_t hash)
{
    uint32_t t = (uint32_t)(hash >> 32) ^ (uint32_t)hash;
    return t ? t : 1;
}
static inline size_t psc_hidx_home(const psc_hidx *h, uint32_t tag)
{
    /* Fibonacci hashing: the top bits of tag * 2^32/phi */
    return (size_t)(((uint64_t)tag * 0x9e3779b97f4a7c15ull) >> 32) & (h->cap - 1);
}
static inline void psc_hidx_prefetch_tag(const psc_hidx *h, uint32_t tag)
{
    if (h->cap)
        __builtin_prefetch(&h->slots[psc_hidx_home(h, tag)]);
}
static inline void psc_hidx_prefetch(const psc_hidx *h, uint64_t hash)
{
    psc_hidx_prefetch_tag(h, psc_hidx_tag(hash));
}
/* The same operations given the tag (psc_hidx_tag of the hash), for callers
 * that keep 4-byte tags instead of 8-byte hashes. */
uint32_t psc_hidx_find_tag(const psc_hidx *h, uint32_t tag, bool (*eq)(void *ctx, uint32_t id),
                           void *ctx);
uint32_t psc_hidx_find_or_insert_tag(psc_hidx *h, uint32_t tag,
                                     bool (*eq)(void *ctx, uint32_t id), void *ctx, uint32_t id,
                                     bool *inserted);
#endif
