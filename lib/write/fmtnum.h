/*
 * Internal: number rendering of the writers. Every function here is exact
 * and locale-independent: digits come from integer arithmetic on the bits
 * of the double, never from printf or the C locale.
 */
#ifndef PSC_WRITE_FMTNUM_H
#define PSC_WRITE_FMTNUM_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* Room for any rendering below, including the plain (non-exponent) form of
 * DBL_MAX (309 digits) and of the smallest subnormal (~330 bytes). */
#define PSC_NUM_MAX 400

/*
 * Shortest decimal digits that parse back to exactly v (v finite, > 0):
 * digits[0..*nd) with digits[0] != '0' and no trailing '0', and the decimal
 * point position *dp: v ~= 0.d1d2d3... * 10^dp. Among the shortest
 * candidates the one closest to v is chosen, ties to an even last digit,
 * which gives the same digits as Go's strconv and Python's repr.
 */
void psc_shortest_digits(double v, char digits[24], int *nd, int *dp);

/*
 * The same digits by the exact big-decimal method, over ten times slower:
 * the reference psc_shortest_digits is tested against (fmtnum.c explains
 * both methods).
 */
void psc_shortest_digits_exact(double v, char digits[24], int *nd, int *dp);

/*
 * For tests: the entry of psc_shortest_digits' table for the decimal
 * exponent k, g = g[0] * 2^63 + g[1] = floor(10^-k * 2^(125 -
 * floor(-k * log2(10)))) + 1. False when k is outside the table.
 */
bool psc_shortest_table_entry(int k, uint64_t g[2]);

/*
 * The OpenMetrics rendering of a float: psc_format_double() plus ".0" when
 * the text has neither '.' nor an exponent nor letters ("1" -> "1.0",
 * "1e+06" stays), as client_golang's and client_python's OpenMetrics
 * encoders do and as OpenMetrics-1.0.md "Considerations: Canonical Numbers"
 * asks for "le" and "quantile" values. At most 26 bytes and a NUL.
 * Returns the length.
 */
size_t psc_format_double_om(double v, char buf[32]);

/*
 * Plain decimal text without exponent of the shortest round-trip digits
 * ("12345678901234567000", "0.000001", "-0"). NaN/Inf as psc_format_double().
 * Returns the length.
 */
size_t psc_format_double_plain(double v, char buf[PSC_NUM_MAX]);

/* True when v is an integer in [0, 2^64). */
bool psc_double_is_count(double v);

/* Decimal text of an int64. Returns the length (buf: at least 21 bytes). */
size_t psc_format_int64(int64_t v, char buf[24]);

/*
 * Milliseconds since the epoch as decimal seconds, exact: 1500 -> "1.5",
 * 1395066363000 -> "1395066363", -1 -> "-0.001". Returns the length.
 */
size_t psc_format_ms_as_seconds(int64_t ms, char buf[32]);

#endif
