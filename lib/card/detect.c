/*
 * The id detector of promscope/card.h: does a label value look like an id
 * that grows without bound (a UUID, an address, a hash, an e-mail address, a
 * Unix timestamp, a URL path with an id in it)?
 */
#include <string.h>

#include "promscope/card.h"

const char *psc_value_kind_name(psc_value_kind k)
{
    switch (k) {
    case PSC_VALUE_PLAIN: return "plain";
    case PSC_VALUE_UUID: return "uuid";
    case PSC_VALUE_IP: return "ip";
    case PSC_VALUE_HEX: return "hex";
    case PSC_VALUE_EMAIL: return "email";
    case PSC_VALUE_TIMESTAMP: return "timestamp";
    case PSC_VALUE_URL_PATH: return "url-path";
    }
    return "unknown";
}

static bool is_hex(unsigned char c)
{
    return (c >= '0' && c <= '9') || (c >= 'a' && c <= 'f') || (c >= 'A' && c <= 'F');
}

static bool is_digit(unsigned char c)
{
    return c >= '0' && c <= '9';
}

static bool all_digits(const char *p, size_t n)
{
    if (!n)
        return false;
    for (size_t i = 0; i < n; i++)
        if (!is_digit((unsigned char)p[i]))
            return false;
    return true;
}

static bool is_uuid(const char *p, size_t n)
{
    if (n != 36)
        return false;
    for (size_t i = 0; i < 36; i++) {
        bool dash = i == 8 || i == 13 || i == 18 || i == 23;
        if (dash ? p[i] != '-' : !is_hex((unsigned char)p[i]))
            return false;
    }
    return true;
}

/* n hex digits, optionally after "0x"; at least `min` digits. */
static bool is_long_hex(const char *p, size_t n, size_t min)
{
    if (n >= 2 && p[0] == '0' && (p[1] == 'x' || p[1] == 'X')) {
        p += 2;
        n -= 2;
    }
    if (n < min)
        return false;
    for (size_t i = 0; i < n; i++)
        if (!is_hex((unsigned char)p[i]))
            return false;
    return true;
}

static bool is_port(const char *p, size_t n)
{
    if (!n || n > 5 || !all_digits(p, n))
        return false;
    unsigned v = 0;
    for (size_t i = 0; i < n; i++)
        v = v * 10 + (unsigned)(p[i] - '0');
    return v <= 65535;
}

static bool is_ipv4(const char *p, size_t n)
{
    /* a.b.c.d[:port] */
    size_t i = 0;
    for (int part = 0; part < 4; part++) {
        if (part) {
            if (i >= n || p[i] != '.')
                return false;
            i++;
        }
        size_t start = i;
        unsigned v = 0;
        while (i < n && is_digit((unsigned char)p[i]) && i - start < 3)
            v = v * 10 + (unsigned)(p[i++] - '0');
        if (i == start || v > 255 || (i < n && is_digit((unsigned char)p[i])))
            return false;
    }
    if (i == n)
        return true;
    return p[i] == ':' && is_port(p + i + 1, n - i - 1);
}

static bool is_ipv6_core(const char *p, size_t n)
{
    size_t groups = 0, colons = 0;
    bool dcolon = false;
    size_t i = 0;
    if (n < 2)
        return false;
    while (i < n) {
        if (p[i] == ':') {
            colons++;
            if (i + 1 < n && p[i + 1] == ':') {
                if (dcolon)
                    return false;
                dcolon = true;
                colons++;
                i += 2;
                continue;
            }
            i++;
            if (i == n)
                return false;
            continue;
        }
        size_t start = i;
        while (i < n && is_hex((unsigned char)p[i]))
            i++;
        if (i < n && p[i] == '.' && groups <= 6) {
            /* embedded IPv4 tail, e.g. ::ffff:10.0.0.1 */
            return is_ipv4(p + start, n - start) && memchr(p + start, ':', n - start) == NULL &&
                   colons >= 2;
        }
        if (i == start || i - start > 4)
            return false;
        groups++;
        if (i < n && p[i] != ':')
            return false;
    }
    if (colons < 2 || groups > 8)
        return false;
    return dcolon ? groups < 8 : groups == 8;
}

static bool is_ip(const char *p, size_t n)
{
    if (is_ipv4(p, n))
        return true;
    if (n > 2 && p[0] == '[') {
        const char *close = memchr(p, ']', n);
        if (!close)
            return false;
        size_t in = (size_t)(close - p) - 1, rest = n - in - 2;
        if (!is_ipv6_core(p + 1, in))
            return false;
        return rest == 0 || (close[1] == ':' && is_port(close + 2, rest - 1));
    }
    /* a zone index (fe80::1%eth0) is allowed */
    const char *pct = memchr(p, '%', n);
    size_t core = pct ? (size_t)(pct - p) : n;
    return is_ipv6_core(p, core);
}

static bool is_email(const char *p, size_t n)
{
    const char *at = memchr(p, '@', n);
    if (!at || at == p)
        return false;
    size_t local = (size_t)(at - p), dom = n - local - 1;
    if (dom < 3 || memchr(at + 1, '@', dom))
        return false;
    for (size_t i = 0; i < n; i++) {
        unsigned char c = (unsigned char)p[i];
        if (c <= ' ' || c == 0x7f || c == '"' || c == ',' || c == '<' || c == '>' || c == '(' ||
            c == ')' || c == '[' || c == ']' || c == ';' || c == '\\')
            return false;
    }
    const char *d = at + 1;
    const char *dot = NULL;
    for (size_t i = 0; i < dom; i++) {
        unsigned char c = (unsigned char)d[i];
        if (c == '.')
            dot = d + i;
        else if (!(c >= 0x80 || c == '-' || is_digit(c) || (c >= 'a' && c <= 'z') ||
                   (c >= 'A' && c <= 'Z')))
            return false;
    }
    /* a dot inside the domain, not first or last */
    return dot && d[0] != '.' && d[dom - 1] != '.' && dot != d + dom - 1;
}

static bool is_timestamp(const char *p, size_t n)
{
    const char *dot = memchr(p, '.', n);
    size_t ip = dot ? (size_t)(dot - p) : n;
    if (!all_digits(p, ip) || (dot && !all_digits(dot + 1, n - ip - 1)))
        return false;
    if (ip != 10 && ip != 13)
        return false;
    unsigned long long v = 0;
    for (size_t i = 0; i < ip; i++)
        v = v * 10 + (unsigned long long)(p[i] - '0');
    if (ip == 13)
        v /= 1000;
    /* 2001-01-01 .. 2100-01-01 */
    return v >= 978307200ull && v < 4102444800ull;
}

static bool is_id_segment(const char *p, size_t n)
{
    if (all_digits(p, n))
        return true;
    if (is_uuid(p, n))
        return true;
    if (n >= 12 && is_long_hex(p, n, 12)) {
        for (size_t i = 0; i < n; i++)
            if (is_digit((unsigned char)p[i]))
                return true;
    }
    return false;
}

static bool is_url_path(const char *p, size_t n)
{
    size_t i = 0;
    /* scheme://host */
    const char *sep = n > 3 ? memchr(p, ':', n < 16 ? n : 16) : NULL;
    if (sep && (size_t)(sep - p) + 3 <= n && sep[1] == '/' && sep[2] == '/') {
        for (const char *s = p; s < sep; s++) {
            unsigned char c = (unsigned char)*s;
            if (!((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || c == '+' || c == '.' ||
                  c == '-'))
                return false;
        }
        i = (size_t)(sep - p) + 3;
        const char *slash = memchr(p + i, '/', n - i);
        if (!slash)
            return false;
        i = (size_t)(slash - p);
    } else if (n == 0 || p[0] != '/') {
        return false;
    }
    /* the path ends at '?' or '#' */
    size_t end = n;
    for (size_t k = i; k < n; k++)
        if (p[k] == '?' || p[k] == '#') {
            end = k;
            break;
        }
    while (i < end) {
        while (i < end && p[i] == '/')
            i++;
        size_t start = i;
        while (i < end && p[i] != '/')
            i++;
        if (i > start && is_id_segment(p + start, i - start))
            return true;
    }
    return false;
}

psc_value_kind psc_value_classify(psc_str v)
{
    const char *p = v.ptr;
    size_t n = v.len;
    if (!p || n < 3)
        return PSC_VALUE_PLAIN;
    if (is_uuid(p, n))
        return PSC_VALUE_UUID;
    if (is_ip(p, n))
        return PSC_VALUE_IP;
    if (is_long_hex(p, n, 16))
        return PSC_VALUE_HEX;
    if (is_email(p, n))
        return PSC_VALUE_EMAIL;
    if (is_timestamp(p, n))
        return PSC_VALUE_TIMESTAMP;
    if (is_url_path(p, n))
        return PSC_VALUE_URL_PATH;
    return PSC_VALUE_PLAIN;
}
