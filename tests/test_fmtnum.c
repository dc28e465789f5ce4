/*
 * test_fmtnum: the fast shortest-digits generator of the writers
 * (psc_shortest_digits, Schubfach) gives exactly the digits of the exact
 * big-decimal method (psc_shortest_digits_exact) for every kind of finite
 * positive double, and its table of powers of ten is exact.
 *
 *   test_fmtnum                      the fixed cases and a sweep of
 *                                    300,000 random bit patterns
 *   test_fmtnum --random N [SEED]    N random bit patterns only (by hand:
 *                                    tens of millions take minutes)
 *
 * Every loop is bounded by a count; the default run takes about a second
 * at -O2 and well under a minute under ASan+UBSan.
 */
#include <float.h>
#include <inttypes.h>
#include <math.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "promscope/write.h"
#include "write/fmtnum.h"

static unsigned long long checked, failures;

static uint64_t bits_of(double v)
{
    uint64_t b;
    memcpy(&b, &v, sizeof b);
    return b;
}

static double of_bits(uint64_t b)
{
    double v;
    memcpy(&v, &b, sizeof v);
    return v;
}

/* Compare both methods on v (finite, > 0). */
static void check(double v)
{
    char a[24], b[24];
    int an = -1, adp = 0, bn = -2, bdp = 0;
    psc_shortest_digits(v, a, &an, &adp);
    psc_shortest_digits_exact(v, b, &bn, &bdp);
    checked++;
    if (an == bn && adp == bdp && an > 0 && an <= 17 && memcmp(a, b, (size_t)an) == 0)
        return;
    if (++failures <= 20)
        fprintf(stderr, "FAIL: %.17g (bits 0x%016" PRIx64 "): fast %.*s dp %d, exact %.*s dp %d\n", v,
                bits_of(v), an > 0 && an < 24 ? an : 0, a, adp, bn > 0 && bn < 24 ? bn : 0, b, bdp);
}

/* v and its neighbours up to n ulps away on both sides (finite, > 0). */
static void check_around(double v, int n)
{
    uint64_t b = bits_of(v);
    for (int i = -n; i <= n; i++) {
        uint64_t x = b + (uint64_t)(int64_t)i;
        if (x == 0 || x >= 0x7ff0000000000000u)
            continue;
        check(of_bits(x));
    }
}

static uint64_t splitmix64(uint64_t *s)
{
    uint64_t z = (*s += 0x9e3779b97f4a7c15u);
    z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9u;
    z = (z ^ (z >> 27)) * 0x94d049bb133111ebu;
    return z ^ (z >> 31);
}

/* ---- exact integers for the table check ---------------------------------- */

enum { BN_LIMBS = 96 }; /* 3072 bits: 10^324 * 2^130 needs 1207 */

typedef struct bn {
    uint32_t d[BN_LIMBS]; /* little endian */
} bn;

static void bn_set(bn *a, uint64_t v)
{
    memset(a, 0, sizeof *a);
    a->d[0] = (uint32_t)v;
    a->d[1] = (uint32_t)(v >> 32);
}

static void bn_mul_small(bn *a, uint32_t m)
{
    uint64_t carry = 0;
    for (int i = 0; i < BN_LIMBS; i++) {
        uint64_t t = (uint64_t)a->d[i] * m + carry;
        a->d[i] = (uint32_t)t;
        carry = t >> 32;
    }
}

static void bn_shl(bn *a, int s)
{
    int limbs = s / 32, bits = s % 32;
    for (int i = BN_LIMBS - 1; i >= 0; i--) {
        uint64_t hi = i - limbs >= 0 ? a->d[i - limbs] : 0;
        uint64_t lo = i - limbs - 1 >= 0 ? a->d[i - limbs - 1] : 0;
        a->d[i] = bits ? (uint32_t)((hi << bits) | (lo >> (32 - bits))) : (uint32_t)hi;
    }
}

/* a * (g[0] * 2^63 + g[1]) */
static void bn_mul_g(bn *out, const bn *a, const uint64_t g[2])
{
    /* g as four 32-bit limbs */
    uint64_t lo = g[1] | (g[0] << 63), hi = g[0] >> 1;
    uint32_t gl[4] = {(uint32_t)lo, (uint32_t)(lo >> 32), (uint32_t)hi, (uint32_t)(hi >> 32)};
    memset(out, 0, sizeof *out);
    for (int j = 0; j < 4; j++) {
        uint64_t carry = 0;
        for (int i = 0; i + j < BN_LIMBS; i++) {
            uint64_t t = (uint64_t)a->d[i] * gl[j] + out->d[i + j] + carry;
            out->d[i + j] = (uint32_t)t;
            carry = t >> 32;
        }
    }
}

static int bn_cmp(const bn *a, const bn *b)
{
    for (int i = BN_LIMBS - 1; i >= 0; i--)
        if (a->d[i] != b->d[i])
            return a->d[i] < b->d[i] ? -1 : 1;
    return 0;
}

static int bn_bitlen(const bn *a)
{
    for (int i = BN_LIMBS - 1; i >= 0; i--)
        if (a->d[i]) {
            int n = 32;
            while (!(a->d[i] >> (n - 1)))
                n--;
            return i * 32 + n;
        }
    return 0;
}

static void bn_pow10(bn *a, int n)
{
    bn_set(a, 1);
    for (int i = 0; i < n; i++)
        bn_mul_small(a, 10);
}

/* Every table entry: with x = 10^-k * 2^(125 - r), r = floor(-k log2 10),
 * g - 1 <= x < g, i.e. (g - 1) * D <= N < g * D for x = N / D. */
static void check_table(void)
{
    int bad = 0, n = 0;
    for (int k = -340; k <= 300; k++) {
        uint64_t g[2];
        if (!psc_shortest_table_entry(k, g))
            continue;
        n++;
        bn num, den;
        int r;
        if (k <= 0) {
            bn_pow10(&num, -k); /* r = bitlen(10^-k) - 1 */
            r = bn_bitlen(&num) - 1;
            bn_set(&den, 1);
        } else {
            bn_pow10(&den, k); /* 2^-r > 10^-k: r = -bitlen(10^k) */
            r = -bn_bitlen(&den);
            bn_set(&num, 1);
        }
        if (125 - r >= 0)
            bn_shl(&num, 125 - r);
        else
            bn_shl(&den, r - 125);
        uint64_t gm1[2] = {g[0], g[1]};
        if (gm1[1] == 0) {
            gm1[0]--;
            gm1[1] = ((uint64_t)1 << 63) - 1;
        } else {
            gm1[1]--;
        }
        bn lo, hi;
        bn_mul_g(&lo, &den, gm1);
        bn_mul_g(&hi, &den, g);
        bool in_range = g[0] >= ((uint64_t)1 << 62) && g[0] < ((uint64_t)1 << 63) && g[1] < ((uint64_t)1 << 63);
        if (!in_range || bn_cmp(&lo, &num) > 0 || bn_cmp(&num, &hi) >= 0) {
            if (++bad <= 5)
                fprintf(stderr, "FAIL: table entry for k = %d is not floor(10^-k * 2^(125 - r)) + 1\n", k);
        }
    }
    if (n != 617) {
        fprintf(stderr, "FAIL: the table has %d entries, not 617 (k = -324 .. 292)\n", n);
        bad++;
    }
    failures += (unsigned long long)bad;
    printf("table: %d entries checked\n", n);
}

/* ---- digit cases -------------------------------------------------------- */

static void check_exponents(void)
{
    /* every binary exponent of the normal range: the smallest and largest
     * mantissa (powers of two take the narrower interval below), the
     * middle, and random ones */
    uint64_t seed = 12345;
    for (uint64_t be = 1; be <= 2046; be++) {
        uint64_t top = be << 52;
        const uint64_t fr[] = {0, 1, 2, 3, ((uint64_t)1 << 51), ((uint64_t)1 << 52) - 1,
                               ((uint64_t)1 << 52) - 2};
        for (size_t i = 0; i < sizeof fr / sizeof fr[0]; i++)
            check(of_bits(top | fr[i]));
        for (int i = 0; i < 24; i++)
            check(of_bits(top | (splitmix64(&seed) & (((uint64_t)1 << 52) - 1))));
    }
}

static void check_subnormals(void)
{
    uint64_t seed = 777;
    for (uint64_t c = 1; c <= 3000; c++)
        check(of_bits(c));
    for (uint64_t c = 0; c < 2000; c++)
        check(of_bits((((uint64_t)1 << 52) - 1) - c));
    for (int s = 0; s < 52; s++) {
        check(of_bits((uint64_t)1 << s));
        check(of_bits(((uint64_t)1 << s) + 1));
        check(of_bits(((uint64_t)1 << s) - 1 ? ((uint64_t)1 << s) - 1 : 1));
    }
    for (int i = 0; i < 5000; i++) {
        uint64_t c = splitmix64(&seed) & (((uint64_t)1 << 52) - 1);
        if (c)
            check(of_bits(c));
    }
}

static void check_special_values(void)
{
    /* powers of ten and their neighbours; strtod is exact in the C locale */
    for (int e = -323; e <= 308; e++) {
        char t[16];
        snprintf(t, sizeof t, "1e%d", e);
        check_around(strtod(t, NULL), 3);
        snprintf(t, sizeof t, "5e%d", e);
        check_around(strtod(t, NULL), 1);
    }
    /* powers of two across the whole range and their neighbours */
    for (int e = -1074; e <= 1023; e++)
        check_around(ldexp(1.0, e), 2);
    /* around 2^53, 2^54, 2^63, 2^64: integers and their spacing changing */
    const double big[] = {9007199254740992.0, 18014398509481984.0, 9223372036854775808.0,
                          18446744073709551616.0};
    for (size_t i = 0; i < sizeof big / sizeof big[0]; i++)
        check_around(big[i], 300);
    for (double x = 1; x <= 1e6; x += 1)
        check(x);
    check_around(DBL_MAX, 50);
    check_around(DBL_MIN, 50);
    check_around(DBL_TRUE_MIN, 50);
    /* the usual hard cases: 1e23 is not a double; 2^50 + 0.25 is the exact
     * middle of two shortest candidates (ties to even); numbers as
     * exporters write them */
    const char *hard[] = {"1e23", "8.41e21", "5.8339553793802237e23", "9.5e-5", "0.1", "0.2", "0.3",
                          "2.5e-10", "1.7976931348623157e308", "4.9406564584124654e-324",
                          "2.2250738585072014e-308", "2.2250738585072009e-308", "123456789012345678",
                          "0.005", "0.025", "0.25", "2.5", "1e-7", "299792458", "1.5e300"};
    for (size_t i = 0; i < sizeof hard / sizeof hard[0]; i++)
        check_around(strtod(hard[i], NULL), 5);
    /* the binade of 2^50 with a spacing of 0.25: every odd mantissa is a tie
     * between two candidates of one decimal place */
    uint64_t seed = 99;
    uint64_t b50 = bits_of(1125899906842624.0);
    for (int i = 0; i < 4000; i++)
        check(of_bits(b50 | ((splitmix64(&seed) & (((uint64_t)1 << 52) - 1)) | 1)));
    /* short decimals: what exporters write (latencies, ratios, bytes) */
    for (int i = 0; i < 50000; i++) {
        uint64_t r = splitmix64(&seed);
        int nd = 1 + (int)(r % 17);
        int ex = (int)((r >> 8) % 60) - 30;
        uint64_t mant = splitmix64(&seed) % 100000000000000000u;
        char t[48];
        snprintf(t, sizeof t, "%.*" PRIu64 "e%d", nd, mant, ex);
        double v = strtod(t, NULL);
        if (v > 0 && isfinite(v))
            check(v);
    }
}

/* Exact strings of psc_format_double for the hard cases. */
static void check_rendering(void)
{
    const struct {
        double v;
        const char *want;
    } cases[] = {
        {1e23, "1e+23"},
        {DBL_TRUE_MIN, "5e-324"},
        {DBL_MAX, "1.7976931348623157e+308"},
        {DBL_MIN, "2.2250738585072014e-308"},
        {1125899906842624.25, "1.1258999068426242e+15"},
        {1125899906842624.75, "1.1258999068426248e+15"},
        {1125899906842625.25, "1.1258999068426252e+15"},
        {9007199254740993.0, "9.007199254740992e+15"},
        {0.1, "0.1"},
        {0.3, "0.3"},
        {0.1 + 0.2, "0.30000000000000004"},
        {2.5e-10, "2.5e-10"},
        {1e-5, "1e-05"},
        {0.0001, "0.0001"},
        {123456.0, "123456"},
        {1234567.0, "1.234567e+06"},
        {1e21, "1e+21"},
        {100, "100"},
        {5e-324 * 3, "1.5e-323"},
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        char b[32];
        psc_format_double(cases[i].v, b);
        checked++;
        if (strcmp(b, cases[i].want) != 0 && ++failures <= 20)
            fprintf(stderr, "FAIL: psc_format_double(%.17g) = '%s', want '%s'\n", cases[i].v, b,
                    cases[i].want);
    }
}

static void check_random(unsigned long long n, uint64_t seed)
{
    for (unsigned long long i = 0; i < n; i++) {
        uint64_t b = splitmix64(&seed) & 0x7fffffffffffffffu;
        if (b == 0 || b >= 0x7ff0000000000000u)
            continue;
        check(of_bits(b));
    }
}

int main(int argc, char **argv)
{
    if (argc >= 3 && strcmp(argv[1], "--random") == 0) {
        unsigned long long n = strtoull(argv[2], NULL, 10);
        uint64_t seed = argc >= 4 ? strtoull(argv[3], NULL, 0) : 1;
        check_random(n, seed);
    } else if (argc == 1) {
        check_table();
        check_rendering();
        check_exponents();
        check_subnormals();
        check_special_values();
        check_random(300000, 20261121);
    } else {
        fprintf(stderr, "usage: test_fmtnum [--random N [SEED]]\n");
        return 2;
    }
    printf("%llu values compared, %llu failures\n", checked, failures);
    return failures ? 1 : 0;
}
