/*
 * promscope/diff.h - semantic comparison of two models: families added and
 * removed, TYPE/HELP/UNIT changes, label-name and bucket-layout changes,
 * series added and removed, value changes with counter rates and resets,
 * and percentiles of the histogram observations made between two snapshots.
 *
 * Terms are those of promscope/model.h (OpenMetrics-1.0.md "Data Model"): a
 * series is a sample name plus its full label set; every bucket, `_sum` and
 * `_count` is a series.
 *
 * Matching (docs/diff.md):
 *  - families by name; a counter also matches its `_total`-suffixed name
 *    (Prometheus text puts `_total` in the family name, OpenMetrics does not:
 *    OpenMetrics-1.0.md "Counter"), so a text and an OpenMetrics snapshot of
 *    the same target compare cleanly;
 *  - series by sample name and label set, in any label order, after the
 *    ignored labels are dropped; `le` of histogram buckets and `quantile` of
 *    summary quantiles are compared as numbers ("1" equals "1.0", as
 *    Prometheus 3 normalises them; exposition_formats.md "Histograms and
 *    summaries");
 *  - when the label names of a family changed, series are matched on the
 *    label names both snapshots share, so that `a{x="1"}` -> `a{x="1",y="2"}`
 *    is one label change, not a removed and an added series.
 */
#ifndef PROMSCOPE_DIFF_H
#define PROMSCOPE_DIFF_H

#include "common.h"
#include "model.h"
#include "parse.h"

#ifdef __cplusplus
extern "C" {
#endif

/** Options of psc_diff_new(); psc_diff_opts_init() gives the defaults. */
typedef struct psc_diff_opts {
    /** Label names dropped from every series before matching (e.g.
     *  "instance", "pod"). NUL-terminated; borrowed for the call only.
     *  `le` of buckets and `quantile` of summary quantiles are never dropped. */
    const char *const *ignore_labels;
    size_t nignore_labels;
    /** POSIX extended regular expressions (regcomp(3), REG_EXTENDED), each
     *  anchored at both ends like PromQL's `=~`. A family whose name matches
     *  one is left out entirely; a series whose sample name matches one is
     *  left out. NUL-terminated; borrowed for the call only. */
    const char *const *ignore_metrics;
    size_t nignore_metrics;
    /** Seconds between the two snapshots, used for rates when a pair of
     *  samples does not both carry a timestamp; 0 when unknown (then such
     *  pairs get no rate). Must be finite and >= 0. */
    double interval;
    /** A value change is reported only when |new - old| >= min_change
     *  (absolute, in the unit of the sample) and |new - old| >=
     *  min_change_ratio * |old| (0.05 = 5 %). Counter resets and changes
     *  to or from NaN or an infinity are always reported. Both >= 0;
     *  0 reports every change. */
    double min_change;
    double min_change_ratio;
    /** Quantiles (usually 0 <= q <= 1) to compute per histogram from the
     *  bucket increases between the snapshots; borrowed for the call only.
     *  0 quantiles: no percentile entries. */
    const double *quantiles;
    size_t nquantiles;
} psc_diff_opts;

/** Fill @p o with the defaults: nothing ignored, interval unknown, every
 *  change reported, no quantiles. */
PSC_API void psc_diff_opts_init(psc_diff_opts *o);

/** What a psc_diff_change describes. */
typedef enum psc_diff_kind {
    PSC_DIFF_FAMILY_ADDED = 0,  /**< family only in the new snapshot */
    PSC_DIFF_FAMILY_REMOVED,    /**< family only in the old snapshot */
    PSC_DIFF_METADATA_CHANGED,  /**< TYPE, HELP or UNIT differ (field) */
    PSC_DIFF_LABELS_CHANGED,    /**< label names of the family added/removed */
    PSC_DIFF_BUCKETS_CHANGED,   /**< `le` (or `quantile`) set of metrics differs */
    PSC_DIFF_SERIES_ADDED,      /**< series only in the new snapshot */
    PSC_DIFF_SERIES_REMOVED,    /**< series only in the old snapshot */
    PSC_DIFF_VALUE_CHANGED,     /**< series in both, value differs */
} psc_diff_kind;

/** "family-added", "family-removed", "metadata-changed", "labels-changed",
 *  "buckets-changed", "series-added", "series-removed", "value-changed";
 *  "unknown" when out of range. Static storage. */
PSC_API const char *psc_diff_kind_name(psc_diff_kind k);

/** The metadata field of a PSC_DIFF_METADATA_CHANGED change. */
typedef enum psc_diff_field {
    PSC_DIFF_FIELD_TYPE = 0,
    PSC_DIFF_FIELD_HELP,
    PSC_DIFF_FIELD_UNIT,
} psc_diff_field;

/** "type", "help", "unit"; "unknown" when out of range. Static storage. */
PSC_API const char *psc_diff_field_name(psc_diff_field f);

/**
 * One difference. Which members are meaningful depends on kind; the others
 * are zero (strings: ptr NULL). Slices point into the two models or into the
 * diff: they live as long as both models and the diff.
 */
typedef struct psc_diff_change {
    psc_diff_kind kind;
    size_t family;              /**< index for psc_diff_family_at() */

    /* FAMILY_ADDED / FAMILY_REMOVED: see the family record (type, series). */

    /* METADATA_CHANGED */
    psc_diff_field field;
    bool has_old_text, has_new_text; /**< false: absent (no HELP line, no UNIT) */
    psc_str old_text, new_text;      /**< type keyword, help text (unescaped) or unit */

    /* LABELS_CHANGED: label names; BUCKETS_CHANGED: bounds as numbers. */
    const psc_str *names_added;      /**< LABELS_CHANGED, sorted by bytes */
    size_t nnames_added;
    const psc_str *names_removed;
    size_t nnames_removed;
    const double *bounds_added;      /**< BUCKETS_CHANGED, ascending */
    size_t nbounds_added;
    const double *bounds_removed;
    size_t nbounds_removed;
    bool quantiles;                  /**< BUCKETS_CHANGED of a summary: bounds are quantiles */
    size_t nmetrics;                 /**< LABELS_CHANGED: label sets in the new snapshot;
                                          BUCKETS_CHANGED: label sets with this change */

    /* SERIES_*, VALUE_CHANGED; BUCKETS_CHANGED: the first metric concerned. */
    psc_str name;                    /**< sample name ("x_bucket"); "" for BUCKETS_CHANGED */
    const psc_label *labels;         /**< as in the new snapshot (old one for SERIES_REMOVED),
                                          input order, ignored labels dropped */
    size_t nlabels;
    psc_sample_kind sample_kind;
    uint64_t old_line, new_line;     /**< 1-based input lines; 0 when absent */

    /* SERIES_ADDED: new_value; SERIES_REMOVED: old_value; VALUE_CHANGED: all. */
    double old_value, new_value;
    double delta;                    /**< new - old */
    bool counter;                    /**< monotonic: counter total, histogram/summary
                                          bucket, _count, _sum */
    bool reset;                      /**< counter reset: new < old, or `_created` changed */
    bool has_rate;
    double rate;                     /**< per second: delta / interval, or new / interval
                                          after a reset (Prometheus rate()) */
    double interval;                 /**< seconds used for the rate */
    bool interval_from_timestamps;   /**< both samples carried timestamps */
} psc_diff_change;

/** One family of either snapshot that has at least one change. */
typedef struct psc_diff_family {
    psc_str name;                    /**< name in the new snapshot, else the old one */
    bool in_old, in_new;
    psc_metric_type old_type, new_type;
    size_t old_series, new_series;   /**< samples counted after ignoring */
    size_t first_change;             /**< its changes: [first_change, first_change + nchanges) */
    size_t nchanges;
} psc_diff_family;

/**
 * Percentiles of the observations a histogram recorded between the two
 * snapshots, from the increase of each cumulative bucket (new - old; new
 * alone after a reset, as Prometheus' rate() does per bucket series),
 * computed as psc_histogram_quantile().
 */
typedef struct psc_diff_percentiles {
    size_t family;                   /**< index for psc_diff_family_at() */
    const psc_label *labels;         /**< the metric's labels (no `le`), new snapshot */
    size_t nlabels;
    double observations;             /**< increase of the +Inf bucket */
    bool has_sum;
    double sum;                      /**< increase of `_sum` (0 when no `_sum`) */
    bool has_count;
    double count;                    /**< increase of `_count` (0 when no `_count`); the
                                          mean observation is sum / count, as
                                          rate(x_sum) / rate(x_count) */
    bool reset;                      /**< a bucket, `_count` or `_created` showed a reset */
    bool has_rate;
    double rate;                     /**< observations per second */
    double interval;
    bool forced_monotonic;           /**< the bucket increases needed the monotonicity fix */
    const double *values;            /**< one per psc_diff_opts.quantiles, same order;
                                          NaN when there were no observations */
    size_t nvalues;
} psc_diff_percentiles;

/** Counts over the whole diff. */
typedef struct psc_diff_counts {
    size_t families_added, families_removed;
    size_t families_changed;         /**< in both snapshots, with at least one change */
    size_t metadata_changed;
    size_t labels_changed;
    size_t buckets_changed;
    size_t series_added, series_removed;  /**< listed series (families in both) */
    size_t values_changed;
    size_t values_below_min_change;  /**< changes left out by min_change */
    size_t resets;
    size_t series_unchanged;
    size_t old_collisions, new_collisions; /**< series equal to an earlier one of the
                                          same snapshot after ignoring labels or on the
                                          shared label names (compared: the first) */
    size_t rates;                    /**< values_changed entries with a rate */
    size_t rates_from_timestamps;
} psc_diff_counts;

typedef struct psc_diff psc_diff;

/**
 * Compare @p old_model with @p new_model.
 *
 * Changes are ordered by family name (bytes), and within a family: metadata,
 * label names, bucket layouts, removed series (old input order), added
 * series and changed values (new input order). Series of added and removed
 * families are counted in the family record, not listed.
 *
 * Interval of a pair of samples: their timestamps when both carry one
 * (OpenMetrics-1.0.md "Timestamps"; new - old, must be > 0), otherwise
 * opts->interval. Rates follow Prometheus' rate() with two points: the
 * increase is new - old, or new after a reset (new < old, or a changed
 * `_created` sample: OpenMetrics-1.0.md "Counter").
 *
 * @param old_model, new_model  not NULL; borrowed, must outlive @p *out.
 * @param opts   NULL for defaults; borrowed for the call only.
 * @param out    receives the diff; free with psc_diff_free().
 * @param err    optional; message and status on failure.
 * @return PSC_OK; PSC_E_ARG (NULL model or out, negative or non-finite
 *         interval or min_change, an ignore_metrics pattern regcomp()
 *         rejects: the message quotes it); PSC_E_NOMEM.
 * Memory: O(series of both models) for the time of the call, plus the
 * changes. Reentrant: a diff shares nothing with other diffs.
 */
PSC_API psc_status psc_diff_new(const psc_model *old_model, const psc_model *new_model,
                                const psc_diff_opts *opts, psc_diff **out, psc_error *err);

/** Release @p d and everything it owns (not the models). NULL is allowed. */
PSC_API void psc_diff_free(psc_diff *d);

/** Families with at least one change, ordered by name. */
PSC_API size_t psc_diff_family_count(const psc_diff *d);
/** Family @p i; NULL when out of range. Owned by @p d. */
PSC_API const psc_diff_family *psc_diff_family_at(const psc_diff *d, size_t i);

/** Every change, in the order described at psc_diff_new(). */
PSC_API size_t psc_diff_change_count(const psc_diff *d);
/** Change @p i; NULL when out of range. Owned by @p d. */
PSC_API const psc_diff_change *psc_diff_change_at(const psc_diff *d, size_t i);

/** Percentile entries: one per histogram label set present in both
 *  snapshots with the same bucket layout, in family then new input order;
 *  none when no quantiles were asked for. */
PSC_API size_t psc_diff_percentiles_count(const psc_diff *d);
/** Percentile entry @p i; NULL when out of range. Owned by @p d. */
PSC_API const psc_diff_percentiles *psc_diff_percentiles_at(const psc_diff *d, size_t i);

/** The counts; owned by @p d. */
PSC_API const psc_diff_counts *psc_diff_get_counts(const psc_diff *d);

/**
 * The φ-quantile @p q of a classic histogram, exactly as PromQL's
 * histogram_quantile() (Prometheus promql/quantile.go, bucketQuantile;
 * reference/exposition_formats.md "Histograms and summaries"):
 * buckets are sorted by upper bound; the highest must be +Inf, else NaN;
 * buckets with equal bounds are merged; count differences within a relative
 * 1e-12 are treated as float noise; decreasing cumulative counts are raised
 * to the running maximum (*forced_monotonic set); fewer than 2 buckets or 0
 * observations give NaN. The rank q * observations falls in the first
 * bucket whose count >= rank; in the +Inf bucket the result is the highest
 * finite bound; in the lowest bucket the lower bound is 0 when its upper
 * bound is > 0, else its upper bound is the result; otherwise the result is
 * interpolated linearly inside the bucket.
 * q NaN gives NaN, q < 0 gives -Inf, q > 1 gives +Inf.
 *
 * @param upper_bounds, counts  @p n cumulative buckets in any order; not
 *        modified; may be NULL when @p n is 0 (result NaN).
 * @param out               receives the quantile; not NULL.
 * @param forced_monotonic  optional out: the monotonicity fix was needed.
 * @return PSC_OK; PSC_E_ARG (@p out NULL); PSC_E_NOMEM (more than 64
 *         buckets need a temporary copy, and its allocation failed).
 * Thread-safe; allocates only for more than 64 buckets.
 */
PSC_API psc_status psc_histogram_quantile(double q, const double *upper_bounds,
                                          const double *counts, size_t n, double *out,
                                          bool *forced_monotonic);

#ifdef __cplusplus
}
#endif
#endif
