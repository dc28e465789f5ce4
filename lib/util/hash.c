#include "util/hash.h"

#include <pthread.h>
#include <stdlib.h>
#include <string.h>
#include <sys/random.h>
#include <time.h>

#include "util/alloc.h"

static uint64_t seed_value;
static pthread_once_t seed_once = PTHREAD_ONCE_INIT;

static void seed_init(void)
{
    uint64_t s = 0;
    if (getrandom(&s, sizeof s, GRND_NONBLOCK) != (ssize_t)sizeof s) {
        struct timespec ts;
        clock_gettime(CLOCK_REALTIME, &ts);
        s = (uint64_t)ts.tv_nsec * 0x9e3779b97f4a7c15ull ^ (uint64_t)ts.tv_sec ^ (uint64_t)(uintptr_t)&s;
    }
    seed_value = s | 1;
}

/* Thread-safe: the seed is chosen once per process. */
uint64_t psc_hash_seed(void)
{
    pthread_once(&seed_once, seed_init);
    return seed_value;
}

static inline uint64_t rd64(const unsigned char *p)
{
    uint64_t v;
    memcpy(&v, p, 8);
    return v;
}

static inline uint64_t mum(uint64_t a, uint64_t b)
{
    __uint128_t r = (__uint128_t)a * b;
    return (uint64_t)r ^ (uint64_t)(r >> 64);
}

/* One lane of psc_hash128: names in hash indexes need no more than 64 bits,
 * since their entries are compared in full. */
uint64_t psc_hash_bytes(const void *data, size_t n, uint64_t seed)
{
    psc_fp s = {seed, seed ^ 0x9e3779b97f4a7c15ull};
    return psc_hash128(data, n, s).a;
}

void psc_hidx_init(psc_hidx *h)
{
    memset(h, 0, sizeof *h);
}

void psc_hidx_release(psc_hidx *h)
{
    psc_free(h->hashes);
    psc_free(h->ids);
    psc_hidx_init(h);
}

void psc_hidx_clear(psc_hidx *h)
{
    if (h->cap)
        memset(h->hashes, 0, h->cap * sizeof *h->hashes);
    h->count = 0;
}

uint32_t psc_hidx_find(const psc_hidx *h, uint64_t hash, bool (*eq)(void *, uint32_t),
                       void *ctx)
{
    if (!h->cap)
        return UINT32_MAX;
    if (!hash)
        hash = 1;
    size_t mask = h->cap - 1;
    for (size_t i = (size_t)hash & mask;; i = (i + 1) & mask) {
        if (!h->hashes[i])
            return UINT32_MAX;
        if (h->hashes[i] == hash && eq(ctx, h->ids[i]))
            return h->ids[i];
    }
}

static void put(uint64_t *hs, uint32_t *ids, size_t cap, uint64_t hash, uint32_t id)
{
    size_t mask = cap - 1;
    size_t i = (size_t)hash & mask;
    while (hs[i])
        i = (i + 1) & mask;
    hs[i] = hash;
    ids[i] = id;
}

int psc_hidx_insert(psc_hidx *h, uint64_t hash, uint32_t id)
{
    if (!hash)
        hash = 1;
    if ((h->count + 1) * 4 > h->cap * 3) {
        size_t nc = h->cap ? h->cap * 2 : 64;
        uint64_t *nh = psc_calloc(nc, sizeof *nh);
        uint32_t *ni = psc_malloc(nc * sizeof *ni);
        if (!nh || !ni) {
            psc_free(nh);
            psc_free(ni);
            return -1;
        }
        for (size_t i = 0; i < h->cap; i++)
            if (h->hashes[i])
                put(nh, ni, nc, h->hashes[i], h->ids[i]);
        psc_free(h->hashes);
        psc_free(h->ids);
        h->hashes = nh;
        h->ids = ni;
        h->cap = nc;
    }
    put(h->hashes, h->ids, h->cap, hash, id);
    h->count++;
    return 0;
}

/* A multiply-mix hash in the style of wyhash, two lanes with independent
 * constants: 16 bytes a step, the seed folded into every step so that
 * collisions depend on the secret seed. */
psc_fp psc_hash128(const void *data, size_t n, psc_fp seed)
{
    const unsigned char *p = data;
    const uint64_t k0 = 0xa0761d6478bd642full, k1 = 0xe7037ed1a0b428dbull,
                   k2 = 0x8ebc6af09c88c6e3ull, k3 = 0x589965cc75374cc3ull,
                   k4 = 0x1d8e4e27c47d124full, k5 = 0x9e3779b97f4a7c15ull;
    uint64_t ha = seed.a ^ mum(seed.a ^ k0, (uint64_t)n ^ k1);
    uint64_t hb = seed.b ^ mum(seed.b ^ k3, (uint64_t)n ^ k4);
    size_t i = 0;
    for (; i + 16 <= n; i += 16) {
        uint64_t x = rd64(p + i), y = rd64(p + i + 8);
        ha = mum(x ^ k1 ^ ha, y ^ k2 ^ seed.a);
        hb = mum(x ^ k4 ^ hb, y ^ k5 ^ seed.b);
    }
    uint64_t a = 0, b = 0;
    size_t rest = n - i;
    if (rest >= 8) {
        a = rd64(p + i);
        b = rd64(p + n - 8);
    } else if (rest >= 4) {
        uint32_t x, y;
        memcpy(&x, p + i, 4);
        memcpy(&y, p + n - 4, 4);
        a = x;
        b = y;
    } else if (rest > 0) {
        a = ((uint64_t)p[i] << 16) | ((uint64_t)p[i + rest / 2] << 8) | p[n - 1];
    }
    psc_fp r;
    r.a = mum(k1 ^ (uint64_t)n, mum(a ^ k1 ^ ha, b ^ k2 ^ seed.a));
    r.b = mum(k4 ^ (uint64_t)n, mum(a ^ k4 ^ hb, b ^ k5 ^ seed.b));
    return r;
}
