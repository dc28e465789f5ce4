/* Internal: growable byte buffer. */
#ifndef PSC_UTIL_BUF_H
#define PSC_UTIL_BUF_H
#include <stdarg.h>
#include <stddef.h>

typedef struct psc_buf {
    char *data;
    size_t len;
    size_t cap;
} psc_buf;

void psc_buf_release(psc_buf *b);
/* 0 on success, -1 when out of memory (buffer unchanged). */
int psc_buf_reserve(psc_buf *b, size_t extra);
int psc_buf_append(psc_buf *b, const void *p, size_t n);
int psc_buf_putc(psc_buf *b, char c);
int psc_buf_printf(psc_buf *b, const char *fmt, ...)
#ifdef __GNUC__
    __attribute__((format(printf, 2, 3)))
#endif
    ;
/* Append p[0..n) with control characters, backslash, non-UTF-8 bytes and
 * DEL escaped C-style (\n, \t, \x1b, \\), at most max_bytes of input then
 * "..." (BAD-INPUTS H1, H2). */
int psc_buf_append_escaped(psc_buf *b, const char *p, size_t n, size_t max_bytes);
#endif
