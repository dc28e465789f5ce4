/*
 * Internal: comparing and copying short byte strings (names, label values,
 * label pairs of tens of bytes) inline, in 8-byte words, where a call to
 * memcmp or memcpy would cost more than the work. Reads stay within
 * [p, p + n): the last word overlaps the one before it instead of running
 * past the end.
 */
#ifndef PSC_UTIL_BYTES_H
#define PSC_UTIL_BYTES_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

static inline uint64_t psc_load64(const char *p)
{
    uint64_t x;
    memcpy(&x, p, 8);
    return x;
}

static inline uint32_t psc_load32(const char *p)
{
    uint32_t x;
    memcpy(&x, p, 4);
    return x;
}

/* a[0..n) == b[0..n) */
static inline bool psc_short_eq(const char *a, const char *b, size_t n)
{
    if (n >= 8) {
        for (size_t i = 0; i + 8 <= n; i += 8)
            if (psc_load64(a + i) != psc_load64(b + i))
                return false;
        return psc_load64(a + n - 8) == psc_load64(b + n - 8);
    }
    if (n >= 4)
        return psc_load32(a) == psc_load32(b) && psc_load32(a + n - 4) == psc_load32(b + n - 4);
    for (size_t i = 0; i < n; i++)
        if (a[i] != b[i])
            return false;
    return true;
}

/* memcpy(d, s, n) for short n */
static inline void psc_short_copy(char *d, const char *s, size_t n)
{
    if (n >= 8) {
        for (size_t i = 0; i + 8 <= n; i += 8)
            memcpy(d + i, s + i, 8);
        memcpy(d + n - 8, s + n - 8, 8);
    } else {
        memcpy(d, s, n);
    }
}

#endif
