/*
 * histogram_quantile() of classic histograms, following the rules of
 * Prometheus' promql/quantile.go (bucketQuantile, coalesceBuckets,
 * correctPrecisionErrors, ensureMonotonic), so that `promscope diff
 * --quantiles` prints what a Prometheus server would compute from
 * histogram_quantile(q, increase(x_bucket[...])) over the same two points.
 */
#include <math.h>
#include <stdlib.h>

#include "promscope/diff.h"
#include "util/alloc.h"

typedef struct qbucket {
    double upper;
    double count;
} qbucket;

static int cmp_upper(const void *a, const void *b)
{
    double x = ((const qbucket *)a)->upper, y = ((const qbucket *)b)->upper;
    return x < y ? -1 : x > y ? 1 : 0;
}

/* Merge buckets with the same upper bound (input sorted); returns the new length. */
static size_t coalesce(qbucket *b, size_t n)
{
    size_t i = 0;
    qbucket last = b[0];
    for (size_t j = 1; j < n; j++) {
        if (b[j].upper == last.upper) {
            last.count += b[j].count;
        } else {
            b[i++] = last;
            last = b[j];
        }
    }
    b[i++] = last;
    return i;
}

/* Counts that differ from the previous kept count by a relative amount of at
 * most tolerance are float noise: set them to that count. */
static void correct_precision(qbucket *b, size_t n, double tolerance)
{
    double prev = b[0].count;
    for (size_t i = 1; i < n; i++) {
        double cur = b[i].count;
        double delta = fabs(cur - prev);
        if (delta == 0)
            continue;
        if (delta / cur <= tolerance)
            b[i].count = prev;
        else
            prev = cur;
    }
}

/* Raise every count to the running maximum ("envelope"); true when any had to be. */
static bool ensure_monotonic(qbucket *b, size_t n)
{
    bool forced = false;
    double max = b[0].count;
    for (size_t i = 1; i < n; i++) {
        if (b[i].count > max) {
            max = b[i].count;
        } else if (b[i].count < max) {
            b[i].count = max;
            forced = true;
        }
    }
    return forced;
}

psc_status psc_histogram_quantile(double q, const double *upper_bounds, const double *counts,
                                  size_t n, double *out, bool *forced_monotonic)
{
    if (forced_monotonic)
        *forced_monotonic = false;
    if (!out)
        return PSC_E_ARG;
    if (isnan(q)) {
        *out = NAN;
        return PSC_OK;
    }
    if (q < 0) {
        *out = -INFINITY;
        return PSC_OK;
    }
    if (q > 1) {
        *out = INFINITY;
        return PSC_OK;
    }
    *out = NAN;
    if (n == 0 || !upper_bounds || !counts)
        return PSC_OK;

    qbucket local[64];
    qbucket *b = local;
    if (n > sizeof local / sizeof local[0]) {
        if (n > SIZE_MAX / sizeof *b)
            return PSC_E_NOMEM;
        b = psc_malloc(n * sizeof *b);
        if (!b)
            return PSC_E_NOMEM;
    }
    for (size_t i = 0; i < n; i++) {
        b[i].upper = upper_bounds[i];
        b[i].count = counts[i];
    }
    qsort(b, n, sizeof *b, cmp_upper);

    if (isinf(b[n - 1].upper) && b[n - 1].upper > 0) {
        n = coalesce(b, n);
        correct_precision(b, n, 1e-12);
        bool forced = ensure_monotonic(b, n);
        if (forced_monotonic)
            *forced_monotonic = forced;
        double observations = b[n - 1].count;
        if (n >= 2 && observations != 0) {
            double rank = q * observations;
            /* First k in [0, n-1) with count >= rank, by the same binary
             * search as Go's sort.Search (it matters only for NaN counts). */
            size_t k = 0, hi = n - 1;
            while (k < hi) {
                size_t h = k + (hi - k) / 2;
                if (!(b[h].count >= rank))
                    k = h + 1;
                else
                    hi = h;
            }
            if (k == n - 1) {
                *out = b[n - 2].upper;
            } else if (k == 0 && b[0].upper <= 0) {
                *out = b[0].upper;
            } else {
                double start = 0, end = b[k].upper, count = b[k].count;
                if (k > 0) {
                    start = b[k - 1].upper;
                    count -= b[k - 1].count;
                    rank -= b[k - 1].count;
                }
                *out = start + (end - start) * (rank / count);
            }
        }
    }
    if (b != local)
        psc_free(b);
    return PSC_OK;
}
