/*
 * promscope/model.h - metric families, metrics, samples, labels and
 * exemplars, built from parser entries and owning their memory in an arena.
 *
 * Terms (OpenMetrics-1.0.md "Data Model"): a family (MetricFamily) has a
 * name, type, help and unit and holds metrics; a metric (Metric) is one label
 * set within the family, without the `le`/`quantile` labels, and holds the
 * samples of that label set (for a histogram: every `_bucket`, `_count`,
 * `_sum`, `_created`); a sample is one exposition line. A series is a sample
 * name plus its full label set, as Prometheus counts them: every bucket,
 * `_sum` and `_count` is a series.
 */
#ifndef PROMSCOPE_MODEL_H
#define PROMSCOPE_MODEL_H

#include "common.h"
#include "diag.h"
#include "parse.h"

#ifdef __cplusplus
extern "C" {
#endif

/** One exposition line. Strings are NUL-terminated copies owned by the model.
 *
 * The labels of a bucket (`le`) or quantile (`quantile`) sample are split:
 * `labels` holds the others, the same array as its metric's whenever their
 * order agrees (so a histogram's buckets do not each carry a copy), and the
 * bound label's value is in `bound_text`. psc_sample_labels() gives the
 * full label set. Fields are ordered so that the struct is 96 bytes on
 * LP64 (a model holds one per sample line). */
typedef struct psc_sample {
    psc_str name;               /**< full sample name, e.g. "http_requests_bucket" */
    const psc_label *labels;    /**< labels except the bound label, input order */
    psc_str bound_text;         /**< kind BUCKET: the `le` label value as written;
                                     QUANTILE: the `quantile` value; else, or when
                                     the label is absent, a NULL slice (ptr NULL) */
    const psc_exemplar *exemplar; /**< NULL when the line has none */
    double value;
    double bound;               /**< kind BUCKET: le; QUANTILE: quantile; else NaN */
    double timestamp;           /**< seconds since the Unix epoch (has_timestamp) */
    int64_t timestamp_ms;       /**< milliseconds; exact for text formats */
    uint64_t line;              /**< 1-based input line */
    uint32_t nlabels;           /**< entries of `labels` (the bound label not counted) */
    uint8_t kind;               /**< a psc_sample_kind */
    bool has_timestamp;
    bool timestamp_ms_exact;    /**< timestamp is a whole number of milliseconds: the
                                     text of timestamp_ms / 1000 reads back as `timestamp`
                                     (always for text formats; false beyond int64) */
} psc_sample;

/** One label set of a family (labels exclude `le` of buckets and `quantile`). */
typedef struct psc_metric {
    const psc_label *labels;
    size_t nlabels;
    const psc_sample *samples;  /**< input order */
    size_t nsamples;
    uint64_t line;              /**< line of its first sample */
} psc_metric;

typedef struct psc_family {
    psc_str name;               /**< family name (TYPE name, or sample name when untyped) */
    psc_metric_type type;
    bool has_type, has_help, has_unit;
    psc_str help;               /**< unescaped */
    psc_str unit;
    uint64_t line;              /**< first line of the family */
    const psc_metric *metrics;  /**< input order */
    size_t nmetrics;
    size_t nseries;             /**< samples in the family */
} psc_family;

typedef struct psc_model psc_model;

/**
 * Parse and validate @p buf (@p len bytes) and build a model of it.
 *
 * Runs the parser and the validator of promscope/parse.h; every finding
 * (parser errors, parser warnings, validator findings) is appended to
 * @p diags (optional, not sorted). Lines with errors are left out of the
 * model, also when the validator reports the error only at the end of the
 * metric or family (e.g. a _count that differs from the +Inf bucket); of
 * duplicate series the first is kept (BAD-INPUTS D8); OpenMetrics
 * MetricPoints of one series that all carry timestamps are all kept.
 * Families are in input order; a sample that does not belong to the current
 * family (the last HELP/TYPE/UNIT name, psc_sample_in_family()) joins the
 * family it belongs to when one exists (Prometheus text tolerates
 * interleaving), else starts an untyped (text) or unknown (OpenMetrics)
 * family named after it. docs/convert.md "The model" has the details.
 *
 * @param buf    the exposition; need not be NUL-terminated; NULL only with
 *               @p len 0. The model copies what it keeps: @p buf may be
 *               freed afterwards.
 * @param opts   NULL for defaults; opts->format AUTO is detected.
 * @param out    receives the model (also when findings were reported, so
 *               that lint can work on it); set to NULL on PSC_E_NOMEM.
 *               Free with psc_model_free().
 * @param diags  optional.
 * @return PSC_OK no error finding; PSC_E_SYNTAX at least one error finding
 *         (the model is still returned); PSC_E_NOMEM (no model, nothing
 *         leaked; findings may have been appended); PSC_E_ARG when @p out
 *         is NULL.
 * Time: one pass, linear in the input (hashed lookups with a per-process
 * seed). Memory: 96 bytes per sample line, 40 per metric (label set), 32
 * per label of each metric (buckets, quantiles, _sum and _count share
 * their metric's), label values copied once per metric and shared with the
 * previous line's when they repeat; names and le/quantile values stored
 * once. About 1.0 times a realistic input (1.2 times at the peak while
 * building), up to 2 times for short lines of many single-series metrics
 * (docs/convert.md "The model"). The series index is built on the first
 * psc_model_find_series().
 * Threads: from 1 MiB of input on (unless opts->max_threads is 1) the
 * entries are added to the model by a second thread that the call starts
 * and joins, while the calling thread parses and validates; findings, their
 * order and the model are the same as with one thread. No thread is left
 * running when the call returns. If the thread cannot be started, the
 * call works in the caller's thread alone.
 * Thread-safe for different models.
 */
PSC_API psc_status psc_model_parse(const char *buf, size_t len, const psc_parse_opts *opts,
                                   psc_model **out, psc_diag_list *diags);

/**
 * psc_model_parse() over an input read through @p rd (a file, a pipe),
 * without holding the whole input: it is read in chunks of 1 MiB plus at
 * most one line (opts->max_line_bytes), as psc_validate_stream() does, so
 * memory is the model's plus about 2 MiB (10 MiB when the model is built in
 * two threads, as psc_model_parse() describes; @p rd is then still called
 * from the calling thread only). Findings, positions and the model are the
 * same as psc_model_parse() of the whole input gives.
 *
 * @param rd,ctx  read callback (promscope/parse.h psc_read_fn).
 * @param opts    NULL for defaults; format AUTO is detected from the first
 *                chunk.
 * @param out     receives the model as with psc_model_parse(); NULL on
 *                PSC_E_NOMEM and PSC_E_IO.
 * @param err     receives the read callback's error on PSC_E_IO; may be
 *                NULL only if @p rd accepts a NULL error.
 * @return as psc_model_parse(), plus PSC_E_IO when @p rd failed (no model;
 *         the findings up to there are in @p diags).
 */
PSC_API psc_status psc_model_parse_stream(psc_read_fn rd, void *ctx, const psc_parse_opts *opts,
                                          psc_model **out, psc_diag_list *diags, psc_error *err);

/** Release the model and everything it owns. NULL is allowed. */
PSC_API void psc_model_free(psc_model *m);

/** The format the model was parsed from. */
PSC_API psc_format psc_model_format(const psc_model *m);

/** Number of families; families are numbered 0 .. count-1 in input order. */
PSC_API size_t psc_model_family_count(const psc_model *m);

/** Family @p i (0-based, input order); NULL when out of range. Owned by the model. */
PSC_API const psc_family *psc_model_family(const psc_model *m, size_t i);

/** Hashed lookup by family name (the TYPE/HELP name, e.g. "x_total" for a
 * Prometheus text counter, "x" in OpenMetrics); NULL when absent. */
PSC_API const psc_family *psc_model_find_family(const psc_model *m, psc_str name);

/**
 * Hashed lookup of a series by sample name and full label set, `le` and
 * `quantile` included (label order does not matter). Returns its first
 * sample, NULL when absent. @p family_out (optional) receives its family.
 * Cost: O(labels) to hash, O(labels^2) to compare a candidate.
 */
PSC_API const psc_sample *psc_model_find_series(const psc_model *m, psc_str name,
                                                const psc_label *labels, size_t nlabels,
                                                const psc_family **family_out);

/** Total number of samples in the model: one per series, plus the further
 * timestamped points of OpenMetrics series. */
PSC_API size_t psc_model_series_count(const psc_model *m);

/**
 * The full label set of sample @p s, as the exposition line had it: its
 * `labels`, then the bound label (`le` or `quantile`) when it has one.
 * Writes at most @p cap labels to @p out (which may be NULL when @p cap is
 * 0); the strings are the model's (valid until psc_model_free()).
 * @return the number of labels of the full set (s->nlabels or one more);
 *         when it exceeds @p cap only the first @p cap were written.
 */
PSC_API size_t psc_sample_labels(const psc_sample *s, psc_label *out, size_t cap);

/** The bound label of @p s (`le` of a bucket, `quantile` of a quantile
 * sample, value as written); name and value are NULL slices when it has
 * none. */
PSC_API psc_label psc_sample_bound_label(const psc_sample *s);

/** Value of label @p name in @p labels (a linear scan of the @p n labels),
 * or a NULL slice (ptr NULL) when absent. */
PSC_API psc_str psc_labels_get(const psc_label *labels, size_t n, psc_str name);

#ifdef __cplusplus
}
#endif
#endif
