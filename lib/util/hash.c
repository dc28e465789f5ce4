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


void psc_hidx_init(psc_hidx *h)
{
    memset(h, 0, sizeof *h);
}

void psc_hidx_release(psc_hidx *h)
{
    psc_free(h->slots);
    psc_hidx_init(h);
}

void psc_hidx_clear(psc_hidx *h)
{
    if (h->cap)
        memset(h->slots, 0, h->cap * sizeof *h->slots);
    h->count = 0;
}

uint32_t psc_hidx_find(const psc_hidx *h, uint64_t hash, bool (*eq)(void *, uint32_t),
                       void *ctx)
{
    return psc_hidx_find_tag(h, psc_hidx_tag(hash), eq, ctx);
}

uint32_t psc_hidx_find_tag(const psc_hidx *h, uint32_t tag, bool (*eq)(void *, uint32_t),
                           void *ctx)
{
    if (!h->cap)
        return UINT32_MAX;
    const size_t mask = h->cap - 1;
    for (size_t i = psc_hidx_home(h, tag);; i = (i + 1) & mask) {
        const psc_hidx_slot *s = &h->slots[i];
        if (!s->tag)
            return UINT32_MAX;
        if (s->tag == tag && eq(ctx, s->id))
            return s->id;
    }
}

/* Rehash into a table of nc slots (a power of two). */
static int rehash(psc_hidx *h, size_t nc)
{
    psc_hidx old = *h;
    psc_hidx_slot *ns = psc_calloc(nc, sizeof *ns);
    if (!ns)
        return -1;
    h->slots = ns;
    h->cap = nc;
    const size_t mask = nc - 1;
    for (size_t k = 0; k < old.cap; k++) {
        if (!old.slots[k].tag)
            continue;
        size_t i = psc_hidx_home(h, old.slots[k].tag);
        while (ns[i].tag)
            i = (i + 1) & mask;
        ns[i] = old.slots[k];
    }
    psc_free(old.slots);
    return 0;
}

int psc_hidx_reserve(psc_hidx *h, size_t n)
{
    if (n * 4 <= h->cap * 3)
        return 0;
    size_t nc = h->cap ? h->cap : 64;
    while (n * 4 > nc * 3) {
        if (nc >= ((size_t)1 << 31))
            return -1;
        nc *= 2;
    }
    return rehash(h, nc);
}

/* Make room for one more entry: double the table (or create it) when it
 * would be more than 3/4 full. -1 when out of memory or at 2^31 slots. */
static int reserve(psc_hidx *h)
{
    return psc_hidx_reserve(h, h->count + 1);
}

int psc_hidx_insert(psc_hidx *h, uint64_t hash, uint32_t id)
{
    if (reserve(h))
        return -1;
    const uint32_t tag = psc_hidx_tag(hash);
    const size_t mask = h->cap - 1;
    size_t i = psc_hidx_home(h, tag);
    while (h->slots[i].tag)
        i = (i + 1) & mask;
    h->slots[i] = (psc_hidx_slot){tag, id};
    h->count++;
    return 0;
}

uint32_t psc_hidx_find_or_insert(psc_hidx *h, uint64_t hash, bool (*eq)(void *, uint32_t),
                                 void *ctx, uint32_t id, bool *inserted)
{
    return psc_hidx_find_or_insert_tag(h, psc_hidx_tag(hash), eq, ctx, id, inserted);
}

uint32_t psc_hidx_find_or_insert_tag(psc_hidx *h, uint32_t tag, bool (*eq)(void *, uint32_t),
                                     void *ctx, uint32_t id, bool *inserted)
{
    *inserted = false;
    if (reserve(h))
        return UINT32_MAX;
    const size_t mask = h->cap - 1;
    size_t i = psc_hidx_home(h, tag);
    for (;; i = (i + 1) & mask) {
        psc_hidx_slot *s = &h->slots[i];
        if (!s->tag)
            break;
        if (s->tag == tag && eq(ctx, s->id))
            return s->id;
    }
    h->slots[i] = (psc_hidx_slot){tag, id};
    h->count++;
    *inserted = true;
    return id;
}

/* A multiply-mix hash in the style of wyhash, two lanes with independent
 * constants: 16 bytes a step, the seed folded into every step so that
 * collisions depend on the secret seed. */
static inline __attribute__((always_inline)) psc_fp hash_lanes(const void *data, size_t n,
                                                               psc_fp seed, const int two)
{
    const unsigned char *p = data;
    const uint64_t k0 = 0xa0761d6478bd642full, k1 = 0xe7037ed1a0b428dbull,
                   k2 = 0x8ebc6af09c88c6e3ull, k3 = 0x589965cc75374cc3ull,
                   k4 = 0x1d8e4e27c47d124full, k5 = 0x9e3779b97f4a7c15ull;
    uint64_t ha = seed.a ^ mum(seed.a ^ k0, (uint64_t)n ^ k1);
    uint64_t hb = two ? seed.b ^ mum(seed.b ^ k3, (uint64_t)n ^ k4) : 0;
    size_t i = 0;
    for (; i + 16 <= n; i += 16) {
        uint64_t x = rd64(p + i), y = rd64(p + i + 8);
        ha = mum(x ^ k1 ^ ha, y ^ k2 ^ seed.a);
        if (two)
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
    r.b = two ? mum(k4 ^ (uint64_t)n, mum(a ^ k4 ^ hb, b ^ k5 ^ seed.b)) : 0;
    return r;
}

psc_fp psc_hash128(const void *data, size_t n, psc_fp seed)
{
    return hash_lanes(data, n, seed, 1);
}

/* Lane a of psc_hash128 alone (half the work): names in hash indexes need
 * no more than 64 bits, since their entries are compared in full. */
uint64_t psc_hash_bytes(const void *data, size_t n, uint64_t seed)
{
    psc_fp s = {seed, seed ^ 0x9e3779b97f4a7c15ull};
    return hash_lanes(data, n, s, 0).a;
}
