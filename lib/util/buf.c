#include "util/buf.h"

#include <stdio.h>
#include <string.h>

#include "util/alloc.h"

void psc_buf_release(psc_buf *b)
{
    psc_free(b->data);
    b->data = NULL;
    b->len = b->cap = 0;
}

int psc_buf_reserve(psc_buf *b, size_t extra)
{
    if (extra > (size_t)-1 - b->len - 1)
        return -1;
    if (psc_grow((void **)&b->data, &b->cap, b->len + extra + 1, 1))
        return -1;
    b->data[b->len] = '\0'; /* the buffer is always a C string */
    return 0;
}

int psc_buf_append(psc_buf *b, const void *p, size_t n)
{
    if (psc_buf_reserve(b, n))
        return -1;
    if (n)
        memcpy(b->data + b->len, p, n);
    b->len += n;
    b->data[b->len] = '\0';
    return 0;
}

int psc_buf_putc(psc_buf *b, char c)
{
    return psc_buf_append(b, &c, 1);
}

int psc_buf_printf(psc_buf *b, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    char tmp[256];
    int n = vsnprintf(tmp, sizeof tmp, fmt, ap);
    va_end(ap);
    if (n < 0)
        return -1;
    if ((size_t)n < sizeof tmp)
        return psc_buf_append(b, tmp, (size_t)n);
    if (psc_buf_reserve(b, (size_t)n))
        return -1;
    va_start(ap, fmt);
    vsnprintf(b->data + b->len, (size_t)n + 1, fmt, ap);
    va_end(ap);
    b->len += (size_t)n;
    return 0;
}

/* Length of the valid UTF-8 sequence at p (n bytes available), 0 if invalid. */
static size_t utf8_len(const unsigned char *p, size_t n)
{
    unsigned c = p[0];
    if (c < 0x80)
        return 1;
    if (c >= 0xc2 && c <= 0xdf)
        return n >= 2 && (p[1] & 0xc0) == 0x80 ? 2 : 0;
    if (c >= 0xe0 && c <= 0xef) {
        if (n < 3 || (p[1] & 0xc0) != 0x80 || (p[2] & 0xc0) != 0x80)
            return 0;
        if (c == 0xe0 && p[1] < 0xa0)
            return 0;
        if (c == 0xed && p[1] >= 0xa0)
            return 0;
        return 3;
    }
    if (c >= 0xf0 && c <= 0xf4) {
        if (n < 4 || (p[1] & 0xc0) != 0x80 || (p[2] & 0xc0) != 0x80 || (p[3] & 0xc0) != 0x80)
            return 0;
        if (c == 0xf0 && p[1] < 0x90)
            return 0;
        if (c == 0xf4 && p[1] >= 0x90)
            return 0;
        return 4;
    }
    return 0;
}

int psc_buf_append_escaped(psc_buf *b, const char *s, size_t n, size_t max_bytes)
{
    const unsigned char *p = (const unsigned char *)s;
    size_t lim = n > max_bytes ? max_bytes : n;
    size_t i = 0;
    while (i < lim) {
        unsigned c = p[i];
        char esc[8];
        int r;
        if (c == '\\')
            r = psc_buf_append(b, "\\\\", 2);
        else if (c == '\n')
            r = psc_buf_append(b, "\\n", 2);
        else if (c == '\t')
            r = psc_buf_append(b, "\\t", 2);
        else if (c == '\r')
            r = psc_buf_append(b, "\\r", 2);
        else if (c < 0x20 || c == 0x7f) {
            snprintf(esc, sizeof esc, "\\x%02x", c);
            r = psc_buf_append(b, esc, 4);
        } else if (c < 0x80) {
            r = psc_buf_putc(b, (char)c);
        } else {
            size_t l = utf8_len(p + i, n - i);
            /* C1 controls U+0080..U+009F are escaped too (BAD-INPUTS H1). */
            if (l == 2 && c == 0xc2 && p[i + 1] < 0xa0)
                l = 0;
            if (l == 0) {
                snprintf(esc, sizeof esc, "\\x%02x", c);
                r = psc_buf_append(b, esc, 4);
            } else {
                r = psc_buf_append(b, p + i, l);
                i += l - 1;
            }
        }
        if (r)
            return -1;
        i++;
    }
    if (n > lim)
        return psc_buf_append(b, "...", 3);
    return 0;
}
