#include "util/arena.h"

#include <stdalign.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "util/alloc.h"

struct psc_arena_block {
    psc_arena_block *next;
    alignas(max_align_t) char data[];
};

enum { ARENA_MIN = 16 * 1024, ARENA_MAX = 8 * 1024 * 1024 };

void psc_arena_init(psc_arena *a)
{
    memset(a, 0, sizeof *a);
    a->next_size = ARENA_MIN;
}

void psc_arena_release(psc_arena *a)
{
    psc_arena_block *b = a->head;
    while (b) {
        psc_arena_block *n = b->next;
        psc_free(b);
        b = n;
    }
    psc_arena_init(a);
}

void psc_arena_reset(psc_arena *a)
{
    psc_arena_block *keep = a->head;
    if (!keep)
        return;
    psc_arena_block *b = keep->next;
    while (b) {
        psc_arena_block *n = b->next;
        psc_free(b);
        b = n;
    }
    keep->next = NULL;
    /* the newest block is the one end points into */
    a->cur = keep->data;
    a->total = (size_t)(a->end - keep->data);
}

void *psc_arena_alloc(psc_arena *a, size_t n)
{
    const size_t al = alignof(max_align_t);
    if (n > SIZE_MAX - al)
        return NULL;
    n = (n + al - 1) & ~(al - 1);
    if (n == 0)
        n = al;
    if ((size_t)(a->end - a->cur) < n || !a->cur) {
        size_t sz = a->next_size ? a->next_size : ARENA_MIN;
        if (sz < n)
            sz = n;
        psc_arena_block *b = psc_malloc(sizeof *b + sz);
        if (!b)
            return NULL;
        b->next = a->head;
        a->head = b;
        a->cur = b->data;
        a->end = b->data + sz;
        a->total += sz;
        if (a->next_size < ARENA_MAX)
            a->next_size *= 2;
    }
    void *p = a->cur;
    a->cur += n;
    return p;
}

void *psc_arena_memdup(psc_arena *a, const void *s, size_t n)
{
    void *p = psc_arena_alloc(a, n);
    if (p && n)
        memcpy(p, s, n);
    return p;
}

char *psc_arena_strndup(psc_arena *a, const char *s, size_t n)
{
    if (n == SIZE_MAX)
        return NULL;
    char *p = psc_arena_alloc(a, n + 1);
    if (!p)
        return NULL;
    if (n)
        memcpy(p, s, n);
    p[n] = '\0';
    return p;
}
