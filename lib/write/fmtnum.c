/*
 * Shortest round-trip rendering of doubles, without printf and without the
 * C locale.
 *
 * Method (Steele & White's "free-format" idea, done with exact decimals):
 * a finite double is m * 2^e exactly. Its neighbours' midpoints, the
 * interval of reals that parse back to it, are (2m-1) * 2^(e-1) and
 * (2m+1) * 2^(e-1) (the lower one is closer, (4m-1) * 2^(e-2), when m is
 * the smallest mantissa of its binade). All three are computed as exact
 * decimal digit strings (a double's exact expansion has at most 767
 * significant digits). For 1, 2, ... digits, the value truncated to that
 * many digits and the next value up at that precision are the only
 * candidates; the first precision at which one of them lies inside the
 * interval is the shortest, and when both do, the nearer one wins (ties to
 * an even digit). Bounds count as inside when m is even, because
 * round-half-even parsing maps them to m.
 */
#include "fmtnum.h"

#include <math.h>
#include <string.h>

#include "promscope/write.h"

enum { DEC_MAX = 800 };

/* Exact non-negative decimal: value = 0.d[0]d[1]...d[nd-1] * 10^dp, digits
 * 0..9 (not characters), d[0] != 0 and d[nd-1] != 0 when nd > 0. */
typedef struct dec {
    int nd;
    int dp;
    unsigned char d[DEC_MAX];
} dec;

static void dec_trim(dec *a)
{
    while (a->nd > 0 && a->d[a->nd - 1] == 0)
        a->nd--;
    if (a->nd == 0)
        a->dp = 0;
}

static void dec_set(dec *a, uint64_t v)
{
    unsigned char tmp[24];
    int n = 0;
    while (v) {
        tmp[n++] = (unsigned char)(v % 10);
        v /= 10;
    }
    a->nd = n;
    a->dp = n;
    for (int i = 0; i < n; i++)
        a->d[i] = tmp[n - 1 - i];
    dec_trim(a);
}

/* a *= 2^s, 0 < s <= 59: digits from the least significant up, with a
 * carry that stays below 2^60. */
static void dec_mul_pow2_step(dec *a, unsigned s)
{
    unsigned char out[DEC_MAX + 24];
    int w = (int)sizeof out;
    uint64_t carry = 0;
    for (int i = a->nd - 1; i >= 0; i--) {
        uint64_t n = ((uint64_t)a->d[i] << s) + carry;
        out[--w] = (unsigned char)(n % 10);
        carry = n / 10;
    }
    while (carry) {
        out[--w] = (unsigned char)(carry % 10);
        carry /= 10;
    }
    int nd = (int)sizeof out - w;
    if (nd > DEC_MAX)
        nd = DEC_MAX; /* cannot happen for doubles: at most 768 digits */
    a->dp += nd - a->nd;
    memcpy(a->d, out + w, (size_t)nd);
    a->nd = nd;
    dec_trim(a);
}

/* a /= 2^s, 0 < s <= 59: long division from the most significant digit;
 * exact because a division by a power of two terminates. In place: the
 * write index never passes the read index. */
static void dec_div_pow2_step(dec *a, unsigned s)
{
    if (a->nd == 0)
        return;
    const uint64_t mask = ((uint64_t)1 << s) - 1;
    int r = 0, w = 0;
    uint64_t n = 0;
    while ((n >> s) == 0) {
        n = n * 10 + (r < a->nd ? a->d[r] : 0);
        r++;
    }
    a->dp -= r - 1;
    while (r < a->nd) {
        unsigned char dig = (unsigned char)(n >> s);
        n &= mask;
        a->d[w++] = dig;
        n = n * 10 + a->d[r++];
    }
    while (n > 0 && w < DEC_MAX) {
        unsigned char dig = (unsigned char)(n >> s);
        n &= mask;
        a->d[w++] = dig;
        n *= 10;
    }
    a->nd = w;
    dec_trim(a);
}

static void dec_shift(dec *a, int k)
{
    while (k > 0) {
        unsigned s = k > 59 ? 59u : (unsigned)k;
        dec_mul_pow2_step(a, s);
        k -= (int)s;
    }
    while (k < 0) {
        unsigned s = -k > 59 ? 59u : (unsigned)-k;
        dec_div_pow2_step(a, s);
        k += (int)s;
    }
}

/* Compare two positive decimals (nd > 0). */
static int dec_cmp(const unsigned char *ad, int and_, int adp, const unsigned char *bd, int bnd,
                   int bdp)
{
    if (adp != bdp)
        return adp < bdp ? -1 : 1;
    int n = and_ > bnd ? and_ : bnd;
    for (int i = 0; i < n; i++) {
        int x = i < and_ ? ad[i] : 0, y = i < bnd ? bd[i] : 0;
        if (x != y)
            return x < y ? -1 : 1;
    }
    return 0;
}

void psc_shortest_digits(double v, char digits[24], int *nd_out, int *dp_out)
{
    uint64_t bits;
    memcpy(&bits, &v, sizeof bits);
    uint64_t frac = bits & (((uint64_t)1 << 52) - 1);
    int bexp = (int)((bits >> 52) & 0x7ff);
    uint64_t m;
    int e;
    if (bexp == 0) {
        m = frac;
        e = -1074;
    } else {
        m = frac | ((uint64_t)1 << 52);
        e = bexp - 1075;
    }

    /* Integers below 2^53: their digits without trailing zeros are the
     * shortest, since any other candidate is a different integer, at least
     * 1 away, while the rounding interval is at most +-0.5 wide. */
    if (e <= 0 && e > -53 && (m & (((uint64_t)1 << -e) - 1)) == 0) {
        uint64_t iv = m >> -e;
        char tmp[24];
        int n = 0;
        while (iv) {
            tmp[n++] = (char)('0' + iv % 10);
            iv /= 10;
        }
        int dp = n, first = 0;
        while (first < n && tmp[first] == '0')
            first++; /* tmp is reversed: leading entries are trailing zeros */
        int nd = 0;
        for (int i = n - 1; i >= first; i--)
            digits[nd++] = tmp[i];
        *nd_out = nd;
        *dp_out = dp;
        return;
    }

    dec V, U, L;
    dec_set(&V, m);
    dec_shift(&V, e);
    dec_set(&U, 2 * m + 1);
    dec_shift(&U, e - 1);
    if (frac == 0 && bexp > 1) {
        dec_set(&L, 4 * m - 1);
        dec_shift(&L, e - 2);
    } else {
        dec_set(&L, 2 * m - 1);
        dec_shift(&L, e - 1);
    }
    const bool inclusive = (m & 1) == 0;

    for (int p = 1; p <= V.nd && p < 30; p++) {
        /* down: V truncated to p digits */
        int dn = p;
        while (dn > 0 && V.d[dn - 1] == 0)
            dn--;
        int cl = dec_cmp(V.d, dn, V.dp, L.d, L.nd, L.dp);
        bool ok_down = p == V.nd || cl > 0 || (inclusive && cl == 0);
        /* up: down plus one unit in the p-th digit */
        unsigned char upd[32];
        memcpy(upd, V.d, (size_t)p);
        int un = p, udp = V.dp;
        while (un > 0 && upd[un - 1] == 9)
            un--;
        if (un == 0) {
            upd[0] = 1;
            un = 1;
            udp++;
        } else {
            upd[un - 1]++;
        }
        int cu = dec_cmp(upd, un, udp, U.d, U.nd, U.dp);
        bool ok_up = p < V.nd && (cu < 0 || (inclusive && cu == 0));
        if (!ok_down && !ok_up)
            continue;
        bool take_up;
        if (ok_down && ok_up) {
            /* nearer one: compare the rest of V with one half */
            int r = V.d[p];
            if (r != 5)
                take_up = r > 5;
            else if (p + 1 < V.nd)
                take_up = true;
            else
                take_up = (V.d[p - 1] & 1) != 0;
        } else {
            take_up = ok_up;
        }
        if (take_up) {
            for (int i = 0; i < un; i++)
                digits[i] = (char)('0' + upd[i]);
            *nd_out = un;
            *dp_out = udp;
        } else {
            for (int i = 0; i < dn; i++)
                digits[i] = (char)('0' + V.d[i]);
            *nd_out = dn;
            *dp_out = V.dp;
        }
        return;
    }
    /* Not reached: 17 digits always identify a double. */
    int n = V.nd < 17 ? V.nd : 17;
    for (int i = 0; i < n; i++)
        digits[i] = (char)('0' + V.d[i]);
    *nd_out = n;
    *dp_out = V.dp;
}

static size_t special(double v, char *buf)
{
    const char *s;
    if (isnan(v))
        s = "NaN";
    else if (isinf(v))
        s = v > 0 ? "+Inf" : "-Inf";
    else if (v == 0)
        s = signbit(v) ? "-0" : "0";
    else
        return 0;
    size_t n = strlen(s);
    memcpy(buf, s, n + 1);
    return n;
}

/* %e form of Go: d.ddde+XX, at least two exponent digits. */
static size_t put_exp(char *out, const char *dg, int nd, int dp)
{
    size_t n = 0;
    out[n++] = dg[0];
    if (nd > 1) {
        out[n++] = '.';
        memcpy(out + n, dg + 1, (size_t)nd - 1);
        n += (size_t)nd - 1;
    }
    int x = dp - 1;
    out[n++] = 'e';
    out[n++] = x < 0 ? '-' : '+';
    if (x < 0)
        x = -x;
    char t[8];
    int tn = 0;
    do {
        t[tn++] = (char)('0' + x % 10);
        x /= 10;
    } while (x);
    if (tn < 2)
        t[tn++] = '0';
    while (tn)
        out[n++] = t[--tn];
    return n;
}

/* %f form with exactly the digits given. */
static size_t put_plain(char *out, const char *dg, int nd, int dp)
{
    size_t n = 0;
    if (dp <= 0) {
        out[n++] = '0';
        out[n++] = '.';
        for (int i = 0; i < -dp; i++)
            out[n++] = '0';
        memcpy(out + n, dg, (size_t)nd);
        return n + (size_t)nd;
    }
    for (int i = 0; i < dp; i++)
        out[n++] = i < nd ? dg[i] : '0';
    if (nd > dp) {
        out[n++] = '.';
        memcpy(out + n, dg + dp, (size_t)(nd - dp));
        n += (size_t)(nd - dp);
    }
    return n;
}

size_t psc_format_double(double v, char buf[32])
{
    size_t n = special(v, buf);
    if (n)
        return n;
    char dg[24];
    int nd, dp;
    char *o = buf;
    if (v < 0) {
        *o++ = '-';
        v = -v;
    }
    psc_shortest_digits(v, dg, &nd, &dp);
    /* strconv.FormatFloat(v, 'g', -1, 64): exponent form when the decimal
     * exponent is below -4 or at least 6 (the 'g' precision used for the
     * shortest form), else plain. Longest results: 24 bytes. */
    int x = dp - 1;
    if (x < -4 || x >= 6)
        o += put_exp(o, dg, nd, dp);
    else
        o += put_plain(o, dg, nd, dp);
    *o = '\0';
    return (size_t)(o - buf);
}

size_t psc_format_double_om(double v, char buf[PSC_NUM_MAX])
{
    size_t n = psc_format_double(v, buf);
    if (!isfinite(v) || memchr(buf, '.', n) || memchr(buf, 'e', n))
        return n;
    buf[n++] = '.';
    buf[n++] = '0';
    buf[n] = '\0';
    return n;
}

size_t psc_format_double_plain(double v, char buf[PSC_NUM_MAX])
{
    size_t n = special(v, buf);
    if (n)
        return n;
    char dg[24];
    int nd, dp;
    char *o = buf;
    if (v < 0) {
        *o++ = '-';
        v = -v;
    }
    psc_shortest_digits(v, dg, &nd, &dp);
    o += put_plain(o, dg, nd, dp);
    *o = '\0';
    return (size_t)(o - buf);
}

bool psc_double_is_count(double v)
{
    return v >= 0 && v < 18446744073709551616.0 && v == floor(v);
}

size_t psc_format_int64(int64_t v, char buf[24])
{
    char t[24];
    int n = 0;
    uint64_t u = v < 0 ? (uint64_t)0 - (uint64_t)v : (uint64_t)v;
    do {
        t[n++] = (char)('0' + u % 10);
        u /= 10;
    } while (u);
    size_t k = 0;
    if (v < 0)
        buf[k++] = '-';
    while (n)
        buf[k++] = t[--n];
    buf[k] = '\0';
    return k;
}

size_t psc_format_ms_as_seconds(int64_t ms, char buf[32])
{
    uint64_t u = ms < 0 ? (uint64_t)0 - (uint64_t)ms : (uint64_t)ms;
    uint64_t sec = u / 1000;
    unsigned frac = (unsigned)(u % 1000);
    size_t k = 0;
    if (ms < 0)
        buf[k++] = '-';
    char t[24];
    int n = 0;
    do {
        t[n++] = (char)('0' + sec % 10);
        sec /= 10;
    } while (sec);
    while (n)
        buf[k++] = t[--n];
    if (frac) {
        buf[k++] = '.';
        buf[k++] = (char)('0' + frac / 100);
        if (frac % 100) {
            buf[k++] = (char)('0' + frac / 10 % 10);
            if (frac % 10)
                buf[k++] = (char)('0' + frac % 10);
        }
    }
    buf[k] = '\0';
    return k;
}
