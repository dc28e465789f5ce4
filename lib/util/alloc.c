#include "util/alloc.h"

#include <stdint.h>
#include <stdlib.h>

/* Per thread, so that library calls running in several threads never race
 * on them; the out-of-memory tests drive one thread. */
static _Thread_local long fail_countdown; /* 0 = never fail */
static _Thread_local long alloc_count;

void psc_alloc_fail_after(long n)
{
    fail_countdown = n;
    alloc_count = 0;
}

long psc_alloc_count(void)
{
    return alloc_count;
}

long psc_alloc_fail_state(void)
{
    return fail_countdown;
}

void psc_alloc_count_add(long n)
{
    alloc_count += n;
}

static int should_fail(void)
{
    alloc_count++;
    if (fail_countdown <= 0)
        return 0;
    if (fail_countdown == 1)
        return 1; /* stays at 1: every later allocation fails too */
    fail_countdown--;
    return 0;
}

void *psc_malloc(size_t n)
{
    if (should_fail())
        return NULL;
    return malloc(n ? n : 1);
}

void *psc_calloc(size_t n, size_t size)
{
    if (should_fail())
        return NULL;
    return calloc(n ? n : 1, size ? size : 1);
}

void *psc_realloc(void *p, size_t n)
{
    if (should_fail())
        return NULL;
    return realloc(p, n ? n : 1);
}

void psc_free(void *p)
{
    free(p);
}

int psc_grow_slow(void **p, size_t *cap, size_t need, size_t elem)
{
    if (need <= *cap)
        return 0;
    /* doubling while small; by half past 1 MiB, so that a large array
     * (a model's samples) never reserves more than half again what it
     * holds */
    size_t nc = *cap ? *cap : 8;
    while (nc < need) {
        if (nc > SIZE_MAX / 2)
            return -1;
        nc = elem && nc * elem >= ((size_t)1 << 20) ? nc + nc / 2 : nc * 2;
    }
    if (elem && nc > SIZE_MAX / elem)
        return -1;
    void *np = psc_realloc(*p, nc * elem);
    if (!np)
        return -1;
    *p = np;
    *cap = nc;
    return 0;
}
