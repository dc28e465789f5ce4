/*
 * Number grammar and conversion, OpenMetrics-1.0.md "Numbers" and ABNF
 * `number`/`realnumber`; the Prometheus text formats use the same grammar
 * (Go's ParseFloat without hex and `_`, which Prometheus filters out too).
 *
 * The grammar is checked by our own code first, so text that strtod would
 * accept but the specs do not (hex floats, `nan(123)`, leading blanks) never
 * reaches it (BAD-INPUTS C3-C7). Conversion: an exact fast path (Clinger) for
 * up to 19 significant digits and powers of ten up to 22; otherwise strtod
 * in the "C" locale, which glibc rounds correctly (BAD-INPUTS C11).
 */
#include <errno.h>
#include <locale.h>
#include <math.h>
#include <pthread.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "parse/internal.h"

static const double pow10_tab[] = {1e0,  1e1,  1e2,  1e3,  1e4,  1e5,  1e6,  1e7,
                                   1e8,  1e9,  1e10, 1e11, 1e12, 1e13, 1e14, 1e15,
                                   1e16, 1e17, 1e18, 1e19, 1e20, 1e21, 1e22};

static int ieq(const char *s, size_t n, const char *word)
{
    size_t wl = strlen(word);
    if (n != wl)
        return 0;
    for (size_t i = 0; i < n; i++) {
        char c = s[i];
        if (c >= 'A' && c <= 'Z')
            c = (char)(c - 'A' + 'a');
        if (c != word[i])
            return 0;
    }
    return 1;
}

static locale_t c_loc;
static pthread_once_t c_loc_once = PTHREAD_ONCE_INIT;

static void c_locale_init(void)
{
    c_loc = newlocale(LC_ALL_MASK, "C", (locale_t)0);
}

static locale_t c_locale(void)
{
    pthread_once(&c_loc_once, c_locale_init);
    return c_loc;
}

/* strtod on a NUL-terminated copy, in the C locale. */
static psc_status slow_convert(const char *s, size_t n, double *out)
{
    char stack[128];
    char *tmp = n < sizeof stack ? stack : psc_malloc(n + 1);
    if (!tmp)
        return PSC_E_NOMEM;
    memcpy(tmp, s, n);
    tmp[n] = '\0';
    locale_t loc = c_locale();
    locale_t old = loc ? uselocale(loc) : (locale_t)0;
    errno = 0;
    char *end;
    double v = strtod(tmp, &end);
    int e = errno;
    if (loc)
        uselocale(old);
    size_t used = (size_t)(end - tmp);
    if (tmp != stack)
        psc_free(tmp);
    if (used != n)
        return PSC_E_SYNTAX; /* cannot happen after the grammar check */
    if (e == ERANGE && isinf(v))
        return PSC_E_LIMIT;  /* overflow; underflow (0 or subnormal) is fine */
    *out = v;
    return PSC_OK;
}

psc_status psc_parse_number(const char *s, size_t n, bool allow_special, double *out)
{
    if (n == 0)
        return PSC_E_SYNTAX;
    size_t i = 0;
    bool neg = false;
    if (s[0] == '+' || s[0] == '-') {
        neg = s[0] == '-';
        i = 1;
    }
    if (i < n && !((s[i] >= '0' && s[i] <= '9') || s[i] == '.')) {
        if (!allow_special)
            return PSC_E_SYNTAX;
        const char *w = s + i;
        size_t wl = n - i;
        if (ieq(w, wl, "inf") || ieq(w, wl, "infinity")) {
            *out = neg ? -INFINITY : INFINITY;
            return PSC_OK;
        }
        if (i == 0 && ieq(w, wl, "nan")) {
            *out = NAN; /* one canonical quiet NaN (BAD-INPUTS C8) */
            return PSC_OK;
        }
        return PSC_E_SYNTAX;
    }
    /* the common case first: [digits] [. digits] with at most 15 digits in
     * all, so that the digits and the power of ten are exact doubles and one
     * correctly rounded division gives the value */
    if (n - i <= 16) {
        uint64_t m = 0;
        size_t j = i, point = 0, digits = 0;
        for (; j < n; j++) {
            unsigned d = (unsigned)(unsigned char)s[j] - '0';
            if (d < 10) {
                m = m * 10 + d;
                digits++;
            } else if (s[j] == '.' && !point) {
                point = j + 1;
            } else {
                break;
            }
        }
        if (j == n && digits && digits <= 15) {
            size_t frac = point ? n - point : 0;
            double v = frac ? (double)m / pow10_tab[frac] : (double)m;
            *out = neg ? -v : v;
            return PSC_OK;
        }
    }
    /* [digits] [. digits] [e [sign] digits], at least one mantissa digit */
    uint64_t mant = 0;
    int sig = 0;          /* significant digits accumulated in mant */
    int dropped = 0;      /* significant integer digits beyond 19 */
    int frac_used = 0;    /* fraction digits accumulated in mant */
    bool nonzero_seen = false, any_digit = false, inexact = false;
    for (; i < n && s[i] >= '0' && s[i] <= '9'; i++) {
        any_digit = true;
        if (s[i] != '0')
            nonzero_seen = true;
        if (!nonzero_seen)
            continue;          /* leading zeros */
        if (sig < 19) {
            mant = mant * 10 + (uint64_t)(s[i] - '0');
            sig++;
        } else {
            dropped++;
            if (s[i] != '0')
                inexact = true;
        }
    }
    if (i < n && s[i] == '.') {
        i++;
        for (; i < n && s[i] >= '0' && s[i] <= '9'; i++) {
            any_digit = true;
            if (s[i] != '0')
                nonzero_seen = true;
            if (!nonzero_seen) {
                frac_used++;   /* leading zeros after the point scale only */
                continue;
            }
            if (sig < 19) {
                mant = mant * 10 + (uint64_t)(s[i] - '0');
                sig++;
                frac_used++;
            } else if (s[i] != '0') {
                inexact = true;
            }
        }
    }
    if (!any_digit)
        return PSC_E_SYNTAX;
    long exp10 = 0;
    if (i < n && (s[i] == 'e' || s[i] == 'E')) {
        i++;
        bool eneg = false;
        if (i < n && (s[i] == '+' || s[i] == '-')) {
            eneg = s[i] == '-';
            i++;
        }
        if (i >= n || s[i] < '0' || s[i] > '9')
            return PSC_E_SYNTAX;
        for (; i < n && s[i] >= '0' && s[i] <= '9'; i++)
            if (exp10 < 100000)
                exp10 = exp10 * 10 + (s[i] - '0');
        if (eneg)
            exp10 = -exp10;
    }
    if (i != n)
        return PSC_E_SYNTAX;
    /* value = mant * 10^(exp10 + dropped - frac_used) */
    long e = exp10 + dropped - frac_used;
    if (mant == 0 && !inexact) {
        *out = neg ? -0.0 : 0.0;
        return PSC_OK;
    }
    if (!inexact && mant <= (1ull << 53) && e >= -22 && e <= 22) {
        double v = (double)mant;
        v = e < 0 ? v / pow10_tab[-e] : v * pow10_tab[e];
        *out = neg ? -v : v;
        return PSC_OK;
    }
    return slow_convert(s, n, out);
}

psc_status psc_parse_double(const char *s, size_t len, double *out)
{
    double v;
    psc_status st = psc_parse_number(s, len, true, &v);
    if (st == PSC_OK && out)
        *out = v;
    return st;
}

psc_status psc_parse_int64(const char *s, size_t n, int64_t *out)
{
    size_t i = 0;
    bool neg = false;
    if (n && (s[0] == '+' || s[0] == '-')) {
        neg = s[0] == '-';
        i = 1;
    }
    if (i >= n)
        return PSC_E_SYNTAX;
    uint64_t v = 0;
    const uint64_t lim = neg ? (uint64_t)INT64_MAX + 1 : (uint64_t)INT64_MAX;
    bool over = false;
    for (; i < n; i++) {
        if (s[i] < '0' || s[i] > '9')
            return PSC_E_SYNTAX;
        unsigned d = (unsigned)(s[i] - '0');
        if (v > (lim - d) / 10)
            over = true;
        else
            v = v * 10 + d;
    }
    if (over)
        return PSC_E_LIMIT;
    *out = neg ? (int64_t)(0 - v) : (int64_t)v;
    return PSC_OK;
}
