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

/** One exposition line. Strings are NUL-terminated copies owned by the model. */
typedef struct psc_sample {
    psc_str name;               /**< full sample name, e.g. "http_requests_bucket" */
    psc_sample_kind kind;
    const psc_label *labels;    /**< all labels including le/quantile, input order */
    size_t nlabels;
    double value;
    double bound;               /**< kind BUCKET: le; QUANTILE: quantile; else NaN */
    bool has_timestamp;
    double timestamp;           /**< seconds since the Unix epoch */
    int64_t timestamp_ms;       /**< milliseconds; exact for text formats */
    bool timestamp_ms_exact;
    const psc_exemplar *exemplar; /**< NULL when the line has none */
    uint64_t line;              /**< 1-based input line */
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
 * Every finding (parser errors, warnings, validator findings) is appended to
 * @p diags (optional). Lines with errors are left out of the model; of
 * duplicate series the first is kept.
 *
 * @param opts   NULL for defaults; opts->format AUTO is detected.
 * @param out    receives the model (also when findings were reported, so
 *               that lint can work on it); NULL only on PSC_E_NOMEM.
 * @return PSC_OK no error finding; PSC_E_SYNTAX at least one error finding
 *         (the model is still returned); PSC_E_NOMEM.
 * The model copies what it keeps: @p buf may be freed afterwards.
 * Memory: about the input size plus O(series) hash entries.
 */
PSC_API psc_status psc_model_parse(const char *buf, size_t len, const psc_parse_opts *opts,
                                   psc_model **out, psc_diag_list *diags);

/** Release the model and everything it owns. NULL is allowed. */
PSC_API void psc_model_free(psc_model *m);

/** The format the model was parsed from. */
PSC_API psc_format psc_model_format(const psc_model *m);

PSC_API size_t psc_model_family_count(const psc_model *m);

/** Family @p i (0-based, input order); NULL when out of range. Owned by the model. */
PSC_API const psc_family *psc_model_family(const psc_model *m, size_t i);

/** Hashed lookup by family name; NULL when absent. */
PSC_API const psc_family *psc_model_find_family(const psc_model *m, psc_str name);

/**
 * Hashed lookup of a series by sample name and label set (label order does
 * not matter). NULL when absent. @p family_out (optional) receives its family.
 */
PSC_API const psc_sample *psc_model_find_series(const psc_model *m, psc_str name,
                                                const psc_label *labels, size_t nlabels,
                                                const psc_family **family_out);

/** Total number of series (samples) in the model. */
PSC_API size_t psc_model_series_count(const psc_model *m);

/** Value of label @p name in @p labels, or NULL slice (ptr NULL) when absent. */
PSC_API psc_str psc_labels_get(const psc_label *labels, size_t n, psc_str name);

#ifdef __cplusplus
}
#endif
#endif
