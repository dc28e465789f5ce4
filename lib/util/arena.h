/* Internal: bump allocator. Memory is released all at once. */
#ifndef PSC_UTIL_ARENA_H
#define PSC_UTIL_ARENA_H
#include <stddef.h>

typedef struct psc_arena_block psc_arena_block;
typedef struct psc_arena {
    psc_arena_block *head;
    char *cur;
    char *end;
    size_t next_size;   /* size of the next block to allocate */
    size_t total;       /* bytes obtained from malloc */
} psc_arena;

void psc_arena_init(psc_arena *a);
void psc_arena_release(psc_arena *a);
/* Forget every allocation but keep the newest (largest) block for reuse:
 * memory that is filled and emptied over and over settles in one block. */
void psc_arena_reset(psc_arena *a);
/* Aligned to max_align_t. NULL when out of memory. */
void *psc_arena_alloc(psc_arena *a, size_t n);
/* Copy n bytes and add a NUL terminator. NULL when out of memory. */
char *psc_arena_strndup(psc_arena *a, const char *s, size_t n);
void *psc_arena_memdup(psc_arena *a, const void *s, size_t n);
#endif
