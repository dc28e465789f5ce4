/*
 * Internal: every heap allocation of the library goes through these, so that
 * the out-of-memory tests (tests/test_oom.c) can fail allocation N, then N+1,
 * until the operation succeeds (the SQLite method, BAD-INPUTS E6).
 */
#ifndef PSC_UTIL_ALLOC_H
#define PSC_UTIL_ALLOC_H
#include <stddef.h>

void *psc_malloc(size_t n);
void *psc_calloc(size_t n, size_t size);
void *psc_realloc(void *p, size_t n);
void psc_free(void *p);
/* Grow *p (an array of *cap elements of size elem) to hold at least need
 * elements, doubling. Returns 0 on success, -1 when out of memory (then *p
 * and *cap are unchanged). */
int psc_grow_slow(void **p, size_t *cap, size_t need, size_t elem);
static inline int psc_grow(void **p, size_t *cap, size_t need, size_t elem)
{
    return need <= *cap ? 0 : psc_grow_slow(p, cap, need, elem);
}

/* Test hook: fail the n-th allocation from now (1-based) and every later one;
 * 0 disables. Applies to the calling thread only; tests only. */
void psc_alloc_fail_after(long n);
long psc_alloc_count(void);
/* A library thread working for a caller (the model pipeline) takes over the
 * caller's test state: psc_alloc_fail_state() in the caller, then
 * psc_alloc_fail_after() with it in the thread, so that the out-of-memory
 * tests reach the thread's allocations too; psc_alloc_count_add() gives the
 * thread's count back to the caller when it is joined. */
long psc_alloc_fail_state(void);
void psc_alloc_count_add(long n);
#endif
