/*
 * Unit tests of psc_parse_double against every number case of BAD-INPUTS.md
 * section C, with exact (bit-for-bit) expectations.
 *
 * Expected values are C literals: the compiler converts them with correct
 * rounding, so each case checks that our conversion rounds like it. A
 * seeded pseudo-random comparison with glibc's strtod (also correctly
 * rounded, run in the "C" locale) covers the space in between.
 *
 * The suite runs the group twice: in the "C" locale and under
 * LC_ALL=de_DE.UTF-8, where the decimal separator is ',' (BAD-INPUTS C11).
 * scripts/test generates that locale; where it is missing the second run
 * reports "skipped", not a failure.
 */
#include <errno.h>
#include <locale.h>
#include <math.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "promscope/parse.h"

static uint64_t bits_of(double d)
{
    uint64_t u;
    memcpy(&u, &d, sizeof u);
    return u;
}

static psc_status parse(const char *s, double *out)
{
    /* Copy into an exact-size heap block so that an over-read shows under
     * AddressSanitizer; never NUL-terminated from the parser's view. */
    size_t n = strlen(s);
    char *b = malloc(n ? n : 1);
    assert_non_null(b);
    memcpy(b, s, n);
    *out = -12345.0;
    psc_status st = psc_parse_double(b, n, out);
    free(b);
    return st;
}

static void want_value(const char *s, double want)
{
    double got;
    psc_status st = parse(s, &got);
    if (st != PSC_OK || bits_of(got) != bits_of(want)) {
        print_error("'%s': got status %s value %.17g (bits %016llx), want %.17g (bits %016llx)\n",
                    s, psc_status_name(st), got, (unsigned long long)bits_of(got), want,
                    (unsigned long long)bits_of(want));
        fail();
    }
}

static void want_status(const char *s, psc_status want)
{
    double got;
    psc_status st = parse(s, &got);
    if (st != want) {
        print_error("'%s': got status %s (value %.17g), want %s\n", s, psc_status_name(st), got,
                    psc_status_name(want));
        fail();
    }
}

/* ---- C1: overflow is an error ---- */
static void test_overflow(void **state)
{
    (void)state;
    want_status("1e400", PSC_E_LIMIT);
    want_status("-1e400", PSC_E_LIMIT);
    want_status("1e309", PSC_E_LIMIT);
    want_status("1.7976931348623159e308", PSC_E_LIMIT); /* above half-way to 2^1024 */
    want_status("1e99999999999999999999", PSC_E_LIMIT); /* exponent itself overflows int */
    want_status("179769313486231580793728971405303415079934132710037826936173778980444968292764750946649017977587207096330286416692887910946555547851940402630657488671505820681908902000708383676273854845817711531764475730270069855571366959622842914819860834936475292719074168444365510704342711559699508093042880177904174497792", PSC_E_LIMIT); /* 2^1024 - 2^970: exactly half-way, ties to even = inf */
    /* largest finite values still parse */
    want_value("1.7976931348623157e308", 1.7976931348623157e308);
    want_value("1.7976931348623158e308", 1.7976931348623157e308);
    want_value("-1.7976931348623157e308", -1.7976931348623157e308);
}

/* ---- C2: underflow gives 0 or a subnormal, never an error ---- */
static void test_underflow(void **state)
{
    (void)state;
    want_value("1e-400", 0.0);
    want_value("-1e-400", -0.0);
    want_value("4e-320", 4e-320);
    want_value("4.9406564584124654e-324", 4.9406564584124654e-324); /* smallest subnormal */
    want_value("5e-324", 5e-324);
    want_value("2.4703282292062328e-324", 5e-324); /* just above half of the smallest: rounds up */
    want_value("2.4703282292062327e-324", 0.0);    /* just below: rounds to zero */
    want_value("2.2250738585072011e-308", 2.2250738585072011e-308); /* PHP/Java hang */
    want_value("2.2250738585072012e-308", 2.2250738585072012e-308);
    want_value("2.2250738585072014e-308", 2.2250738585072014e-308); /* smallest normal */
    want_value("1e-99999999999999999999", 0.0);
    want_value("0e99999999999999999999", 0.0);
}

/* ---- C3, C4, C5, C7, C10: grammar rejects ---- */
static void test_rejects(void **state)
{
    (void)state;
    static const char *const bad[] = {
        /* C3 hex */
        "0x1p3", "0x1P-3", "0x1", "0X1", "0x", "-0x1", "1p3",
        /* C4 underscores */
        "1_000", "1_2", "_1", "1_", "1.0_0", "1e1_0",
        /* C5 binary/octal prefixes */
        "0b1", "0B1", "0o1", "0O1",
        /* C7 signed NaN, NaN payloads, truncated words */
        "+NaN", "-NaN", "+nan", "nan(123)", "NaN()", "nan(", "infinit", "infinityy", "Infx",
        "nanx", "in", "i", "n", "na", "infi", "+", "-",
        /* C10 incomplete numbers */
        ".", "5e", "e5", "", "5e+", "5e-", ".e5", "-.", "+.", "e",
        /* more grammar */
        " 1", "1 ", "\t1", "1\n", "--1", "+-1", "-+1", "1.2.3", "1e5.5", "..5", "1..", "1,5",
        "1,000", "1e5e5", "1ee5", "1E", "0.5f", "1d", "1L", "١", "１", "∞", "1\xe2\x80\x8b",
        "Inf Inf", "NaN NaN", "+ 1", "1 e5", "1e 5", "1e+ 5", "true", "null",
    };
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++)
        want_status(bad[i], PSC_E_SYNTAX);
}

/* ---- C6, C8: specials and their case variants; one canonical NaN ---- */
static void test_specials(void **state)
{
    (void)state;
    static const char *const pinf[] = {"+Inf", "Inf", "inf", "+inf", "INF", "+INF", "iNf",
                                       "Infinity", "+Infinity", "infinity", "INFINITY",
                                       "+iNfInItY"};
    static const char *const ninf[] = {"-Inf", "-inf", "-INF", "-Infinity", "-infinity",
                                       "-INFINITY"};
    static const char *const nans[] = {"NaN", "nan", "NAN", "nAn", "Nan"};
    for (size_t i = 0; i < sizeof pinf / sizeof pinf[0]; i++)
        want_value(pinf[i], INFINITY);
    for (size_t i = 0; i < sizeof ninf / sizeof ninf[0]; i++)
        want_value(ninf[i], -INFINITY);
    double first;
    assert_int_equal(parse("NaN", &first), PSC_OK);
    assert_true(isnan(first));
    assert_true((bits_of(first) & 0x0008000000000000ull) != 0); /* quiet */
    assert_true(bits_of(first) != 0x7ff0000000000002ull);       /* not Prometheus' StaleNaN */
    for (size_t i = 0; i < sizeof nans / sizeof nans[0]; i++) {
        double d;
        assert_int_equal(parse(nans[i], &d), PSC_OK);
        if (bits_of(d) != bits_of(first)) {
            print_error("'%s' gives NaN bits %016llx, 'NaN' gives %016llx: not canonical\n",
                        nans[i], (unsigned long long)bits_of(d),
                        (unsigned long long)bits_of(first));
            fail();
        }
    }
}

/* ---- C9: leading zeros and abbreviated forms ---- */
static void test_leading_zeros_and_forms(void **state)
{
    (void)state;
    want_value("0042", 42.0);
    want_value("-0042", -42.0);
    want_value("0000000000000000000000000000000000000000001.2e-1", 0.12);
    want_value("00.5", 0.5);
    want_value("1.", 1.0);
    want_value(".5", 0.5);
    want_value("-.5", -0.5);
    want_value("+5", 5.0);
    want_value("+.5e1", 5.0);
    want_value("5.e1", 50.0);
    want_value("1E3", 1000.0);
    want_value("1e+3", 1000.0);
    want_value("1e-3", 0.001);
    want_value("1e03", 1000.0);
    want_value("1e-0003", 0.001);
    want_value("0", 0.0);
    want_value("-0", -0.0);
    want_value("-0.0", -0.0);
    want_value("+0", 0.0);
    want_value("0.0e0", 0.0);
    want_value("00", 0.0);
    want_value("1027", 1027.0);
    want_value("1395066363000", 1395066363000.0);
    want_value("-3982045", -3982045.0); /* C14 */
}

/* ---- exactness: correct rounding where naive algorithms fail ---- */
static void test_exactness(void **state)
{
    (void)state;
    want_value("0.1", 0.1);
    want_value("0.2", 0.2);
    want_value("0.3", 0.3);
    want_value("1.5", 1.5);
    want_value("123.456", 123.456);
    want_value("1e23", 1e23);
    want_value("8.589973e9", 8.589973e9);
    want_value("9007199254740993", 9007199254740992.0); /* 2^53+1: ties to even */
    want_value("9007199254740993.0000000000000000001", 9007199254740994.0);
    want_value("9007199254740995", 9007199254740996.0);
    want_value("0.1000000000000000055511151231257827021181583404541015625", 0.1);
    want_value("0.09999999999999999167332731531132594682276248931884765625", 0.09999999999999999);
    want_value("3.141592653589793238462643383279502884197169399375105820974944", 3.141592653589793);
    want_value("2.718281828459045235360287471352662497757247093699959574966967", 2.718281828459045);
    want_value("1.00000000000000011102230246251565404236316680908203125", 1.0); /* half-ulp: even */
    want_value("1.00000000000000011102230246251565404236316680908203126", 1.0000000000000002);
    want_value("4.35052e-05", 4.35052e-05);
    want_value("1.7e-05", 1.7e-05);
    want_value("0.005", 0.005);
    want_value("1e-5", 1e-05);
    want_value("1e21", 1e21);
    want_value("1e22", 1e22);
    want_value("123456789012345678901234567890", 123456789012345678901234567890.0);
    want_value("1e308", 1e308);
    want_value("1" /* followed by 308 zeros */
                 "00000000000000000000000000000000000000000000000000000000000000000000000000000000"
                 "00000000000000000000000000000000000000000000000000000000000000000000000000000000"
                 "00000000000000000000000000000000000000000000000000000000000000000000000000000000"
                 "00000000000000000000000000000000000000000000000000000000000000000000",
                 1e308);
}

/* ---- C15: values up to 2^64 ---- */
static void test_big_integers(void **state)
{
    (void)state;
    want_value("9223372036854775807", 9223372036854775808.0); /* 2^63-1 rounds to 2^63 */
    want_value("9223372036854775808", 9223372036854775808.0); /* 2^63, uint64_counter */
    want_value("18446744073709551615", 18446744073709551616.0); /* 2^64-1 */
    want_value("18446744073709551616", 18446744073709551616.0); /* 2^64 */
    want_value("18446744073709551617", 18446744073709551616.0);
    want_value("-9223372036854775809", -9223372036854775808.0);
    want_value("12345678901234567890.1234567890", 12345678901234567890.1234567890);
}

/* ---- the length is honoured: nothing past len is read or used ---- */
static void test_length(void **state)
{
    (void)state;
    double d;
    const char s[] = "1.5e3xyz";
    assert_int_equal(psc_parse_double(s, 3, &d), PSC_OK);
    assert_true(d == 1.5);
    assert_int_equal(psc_parse_double(s, 5, &d), PSC_OK);
    assert_true(d == 1500.0);
    assert_int_equal(psc_parse_double(s, 6, &d), PSC_E_SYNTAX);
    assert_int_equal(psc_parse_double("12", 1, &d), PSC_OK);
    assert_true(d == 1.0);
    assert_int_equal(psc_parse_double("InfX", 3, &d), PSC_OK);
    assert_true(isinf(d) && d > 0);
    assert_int_equal(psc_parse_double("1\0", 2, &d), PSC_E_SYNTAX); /* NUL is not an end */
    assert_int_equal(psc_parse_double("\0" "1", 2, &d), PSC_E_SYNTAX);
    assert_int_equal(psc_parse_double("", 0, &d), PSC_E_SYNTAX);
}

/* ---- C16: a 1 MB number token: a correct result or an explicit limit ---- */
static char *repeat(const char *head, char fill, size_t n, const char *tail, size_t *len)
{
    size_t h = strlen(head), t = strlen(tail);
    char *b = malloc(h + n + t);
    assert_non_null(b);
    memcpy(b, head, h);
    memset(b + h, fill, n);
    memcpy(b + h + n, tail, t);
    *len = h + n + t;
    return b;
}

static void want_huge(const char *what, char *b, size_t n, double want, psc_status alt)
{
    double d = -1;
    psc_status st = psc_parse_double(b, n, &d);
    free(b);
    if (st == PSC_OK && bits_of(d) == bits_of(want))
        return;
    if (st == alt)
        return;
    print_error("%s: got status %s value %.17g, want %.17g or status %s\n", what,
                psc_status_name(st), d, want, psc_status_name(alt));
    fail();
}

static void test_huge_tokens(void **state)
{
    (void)state;
    size_t n, mb = 1u << 20;
    char *b;
    b = repeat("", '0', mb, "1", &n);
    want_huge("1 MiB of leading zeros then 1", b, n, 1.0, PSC_E_LIMIT);
    b = repeat("0.", '0', mb, "1", &n);
    want_huge("0. then 1 MiB of zeros then 1", b, n, 0.0, PSC_E_LIMIT);
    b = repeat("1.", '0', mb, "1", &n);
    want_huge("1. then 1 MiB of zeros then 1", b, n, 1.0, PSC_E_LIMIT);
    b = repeat("0.1", '0', mb, "e1", &n);
    want_huge("0.1 then 1 MiB of zeros, e1", b, n, 1.0, PSC_E_LIMIT);
    /* 1 MiB of nines is far beyond the double range: overflow is LIMIT
     * in both readings */
    double d;
    b = repeat("", '9', mb, "", &n);
    assert_int_equal(psc_parse_double(b, n, &d), PSC_E_LIMIT);
    free(b);
    /* a 1 MiB token with a bad byte at its very end is still a syntax error
     * or the length limit, never accepted */
    b = repeat("", '1', mb, "x", &n);
    psc_status st = psc_parse_double(b, n, &d);
    free(b);
    assert_true(st == PSC_E_SYNTAX || st == PSC_E_LIMIT);
}

/* ---- randomized agreement with glibc strtod (correctly rounded) ---- */
static uint64_t rng_state;
static uint32_t rnd(void)
{
    rng_state = rng_state * 6364136223846793005ull + 1442695040888963407ull;
    return (uint32_t)(rng_state >> 33);
}

static void test_random_vs_strtod(void **state)
{
    (void)state;
    /* strtod must see the C locale, whatever the test group set */
    locale_t c = newlocale(LC_NUMERIC_MASK, "C", (locale_t)0);
    assert_true(c != (locale_t)0);
    locale_t old = uselocale(c);
    rng_state = 20240601;
    char s[80];
    for (int i = 0; i < 100000; i++) {
        size_t n = 0;
        if (rnd() % 4 == 0)
            s[n++] = rnd() % 2 ? '-' : '+';
        int ndig = 1 + (int)(rnd() % 25);
        int point = (int)(rnd() % (unsigned)(ndig + 2)) - 1; /* -1: no point */
        for (int k = 0; k < ndig; k++) {
            if (k == point)
                s[n++] = '.';
            s[n++] = (char)('0' + rnd() % 10);
        }
        if (rnd() % 3) {
            s[n++] = rnd() % 2 ? 'e' : 'E';
            int e = (int)(rnd() % 680) - 350;
            n += (size_t)snprintf(s + n, sizeof s - n, "%d", e);
        }
        s[n] = '\0';
        errno = 0;
        double want = strtod(s, NULL);
        int overflow = errno == ERANGE && isinf(want);
        double got;
        psc_status st = psc_parse_double(s, n, &got);
        if (overflow) {
            if (st != PSC_E_LIMIT) {
                print_error("'%s': strtod overflows, we return %s\n", s, psc_status_name(st));
                fail();
            }
        } else if (st != PSC_OK || bits_of(got) != bits_of(want)) {
            print_error("'%s': strtod gives %.17g (bits %016llx), we give %s %.17g (bits %016llx)\n",
                        s, want, (unsigned long long)bits_of(want), psc_status_name(st), got,
                        (unsigned long long)bits_of(got));
            fail();
        }
    }
    uselocale(old);
    freelocale(c);
}

/* ---- group setup: the locale ---- */
static const char *g_locale = "C";

static int setup_locale(void **state)
{
    (void)state;
    return setlocale(LC_ALL, g_locale) ? 0 : -1;
}

static int teardown_locale(void **state)
{
    (void)state;
    setlocale(LC_ALL, "C");
    return 0;
}

/* Under de_DE the decimal separator really is ',' (else the run would
 * prove nothing about locale independence). */
static void test_locale_active(void **state)
{
    (void)state;
    if (strcmp(g_locale, "C") == 0)
        assert_string_equal(localeconv()->decimal_point, ".");
    else if (strncmp(g_locale, "de_DE", 5) == 0)
        assert_string_equal(localeconv()->decimal_point, ",");
}

/*
 *   test_number            the "C" locale
 *   test_number LOCALE     under LOCALE (e.g. de_DE.UTF-8); exit status 77
 *                          (meson: skipped) when it is not installed
 */
int main(int argc, char **argv)
{
    if (argc > 1) {
        g_locale = argv[1];
        if (!setlocale(LC_ALL, g_locale)) {
            printf("locale %s is not available (scripts/test generates de_DE.UTF-8 with "
                   "localedef): skipped\n", g_locale);
            return 77;
        }
        setlocale(LC_ALL, "C");
    }
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_locale_active),
        cmocka_unit_test(test_overflow),
        cmocka_unit_test(test_underflow),
        cmocka_unit_test(test_rejects),
        cmocka_unit_test(test_specials),
        cmocka_unit_test(test_leading_zeros_and_forms),
        cmocka_unit_test(test_exactness),
        cmocka_unit_test(test_big_integers),
        cmocka_unit_test(test_length),
        cmocka_unit_test(test_huge_tokens),
        cmocka_unit_test(test_random_vs_strtod),
    };
    char name[64];
    snprintf(name, sizeof name, "number_%s", g_locale);
    return cmocka_run_group_tests_name(name, tests, setup_locale, teardown_locale) ? 1 : 0;
}
