/*
 * promscope/lint.h - the linter: naming, metadata, histogram and cardinality
 * rules over a parsed model. Findings are data (psc_diag, promscope/diag.h),
 * never errors: a lint run succeeds whether or not it finds problems.
 *
 * Every rule has a stable kebab-case id, a default severity and a section in
 * docs/lint-rules.md with an example and the reason. The rules of promtool
 * `check metrics` (client_golang prometheus/testutil/promlint) are all here
 * with the same unit, prefix and abbreviation tables.
 */
#ifndef PROMSCOPE_LINT_H
#define PROMSCOPE_LINT_H

#include "common.h"
#include "diag.h"
#include "model.h"
#include "parse.h"

#ifdef __cplusplus
extern "C" {
#endif

/* X(ENUM_SUFFIX, "id", default severity, "summary") - ids are stable. */
#define PSC_LINT_RULE_LIST(X)                                                                    \
    X(PARSE, "parse", PSC_SEV_ERROR, "the input violates the exposition format")                \
    X(HELP_MISSING, "help-missing", PSC_SEV_WARNING, "metric family without HELP text")         \
    X(BASE_UNIT, "base-unit", PSC_SEV_WARNING, "unit in the name is not a base unit")           \
    X(COUNTER_TOTAL, "counter-total", PSC_SEV_WARNING, "counter name without _total suffix")    \
    X(NON_COUNTER_TOTAL, "non-counter-total", PSC_SEV_WARNING, "_total suffix on a non-counter") \
    X(RESERVED_SUFFIX, "reserved-suffix", PSC_SEV_WARNING,                                       \
      "_bucket, _count, _sum or _created suffix on a type that does not own it")                \
    X(RESERVED_LABEL, "reserved-label", PSC_SEV_WARNING,                                        \
      "le label outside histograms, quantile label outside summaries")                          \
    X(TYPE_IN_NAME, "type-in-name", PSC_SEV_WARNING, "the family's own type word in its name")  \
    X(COLON_IN_NAME, "colon-in-name", PSC_SEV_WARNING,                                           \
      "colon in a metric name (reserved for recording rules)")                                  \
    X(CAMEL_CASE, "camel-case", PSC_SEV_WARNING, "camelCase metric or label name")              \
    X(UNIT_ABBREVIATION, "unit-abbreviation", PSC_SEV_WARNING,                                   \
      "abbreviated unit (_ms, _sec, _kb, ...) in a metric name")                                \
    X(DUPLICATE_SERIES, "duplicate-series", PSC_SEV_ERROR, "the same series exposed twice")     \
    X(HISTOGRAM_CONSISTENCY, "histogram-consistency", PSC_SEV_ERROR,                             \
      "histogram buckets that contradict each other or _count")                                 \
    X(SUMMARY_CONSISTENCY, "summary-consistency", PSC_SEV_ERROR,                                 \
      "summary quantiles that contradict each other")                                           \
    X(PERCENT_UNIT, "percent-unit", PSC_SEV_WARNING,                                             \
      "percentage in the name; expose a 0-1 ratio named _ratio")                                \
    X(INFO_VALUE, "info-value", PSC_SEV_ERROR, "info metric with a value other than 1")         \
    X(RESERVED_LABEL_NAME, "reserved-label-name", PSC_SEV_ERROR,                                 \
      "label name starting with __ (reserved for Prometheus)")                                  \
    X(UNTYPED, "untyped", PSC_SEV_INFO, "metric family without TYPE")                           \
    X(ESCAPING_COLLISION, "escaping-collision", PSC_SEV_ERROR,                                   \
      "two names that become the same under underscores escaping")                              \
    X(UNBOUNDED_LABEL, "unbounded-label", PSC_SEV_WARNING,                                       \
      "label values that look like ids (UUIDs, addresses, hashes, timestamps)")                 \
    X(MAX_SERIES_PER_METRIC, "max-series-per-metric", PSC_SEV_WARNING,                           \
      "metric family with more series than the threshold")                                      \
    X(MAX_LABEL_VALUES, "max-label-values", PSC_SEV_WARNING,                                     \
      "label with more distinct values in one family than the threshold")                       \
    X(MAX_SERIES, "max-series", PSC_SEV_WARNING, "exposition with more series than the threshold")

typedef enum psc_lint_rule {
#define PSC_X_LINT_ENUM(e, id, sev, summary) PSC_LINT_##e,
    PSC_LINT_RULE_LIST(PSC_X_LINT_ENUM)
#undef PSC_X_LINT_ENUM
    PSC_LINT__COUNT
} psc_lint_rule;

/** Stable id of @p r ("help-missing"); "unknown" when out of range. Static storage. */
PSC_API const char *psc_lint_rule_name(psc_lint_rule r);

/** One-line description of @p r (lowercase, no final period). Static storage. */
PSC_API const char *psc_lint_rule_summary(psc_lint_rule r);

/** Default severity of @p r (PSC_SEV_WARNING when out of range). */
PSC_API psc_severity psc_lint_rule_default_severity(psc_lint_rule r);

/**
 * Find the rule with id @p name (exact, case-sensitive bytes).
 * @return true and *out set when found; false otherwise (*out unchanged).
 */
PSC_API bool psc_lint_rule_lookup(psc_str name, psc_lint_rule *out);

/** Defaults of the thresholds (docs/lint-rules.md explains the choice). */
enum {
    PSC_LINT_DEFAULT_MAX_SERIES_PER_METRIC = 1000,
    PSC_LINT_DEFAULT_MAX_LABEL_VALUES = 100,
    PSC_LINT_DEFAULT_MAX_SERIES = 10000,
};

/**
 * Callback deciding whether a metric family is left out of linting:
 * return true to ignore family @p name (@p len bytes, NUL-terminated).
 */
typedef bool (*psc_lint_ignore_fn)(void *ctx, const char *name, size_t len);

/** Lint options; psc_lint_opts_init() gives the defaults. */
typedef struct psc_lint_opts {
    bool enabled[PSC_LINT__COUNT];          /**< default: every rule on */
    psc_severity severity[PSC_LINT__COUNT]; /**< default: psc_lint_rule_default_severity() */
    uint64_t max_series_per_metric;   /**< series in one family; 0 = no limit */
    uint64_t max_label_values;        /**< distinct values of one label in one family; 0 = no limit */
    uint64_t max_series;              /**< series in the whole exposition; 0 = no limit */
    uint64_t unbounded_min_values;    /**< id-like distinct values of a label before
                                           unbounded-label fires (default 2) */
    psc_lint_ignore_fn ignore;        /**< NULL: nothing ignored */
    void *ignore_ctx;
} psc_lint_opts;

PSC_API void psc_lint_opts_init(psc_lint_opts *o);

/**
 * Run every enabled rule over model @p m and append the findings to @p out.
 *
 * Findings name the metric family in psc_diag.metric and carry the line of
 * the first offending input line (the family's first line for naming and
 * metadata rules). When @p buf (the bytes @p m was parsed from, @p len
 * bytes) is given, columns point at the offending name, label or value;
 * with @p buf NULL they are 0 ("whole line"). Findings of ignored families
 * (opts->ignore) are not reported, and ignored families do not count
 * towards max-series-per-metric and max-label-values (they do count
 * towards max-series). The findings are appended in rule order, not sorted:
 * call psc_diag_list_sort().
 *
 * Rules and their sources: docs/lint-rules.md; naming conventions from
 * prometheus.io "Metric and label naming"; metric types from
 * reference/OpenMetrics-1.0.md "Metric types" and reference/
 * exposition_formats.md "Histograms and summaries"; escaping from
 * reference/prometheus-docs_escaping_schemes.md "Underscore Escaping".
 *
 * @param opts  NULL for the defaults; not modified.
 * @return PSC_OK; PSC_E_NOMEM (@p out then holds the findings appended so
 *         far). Time O(series * labels) expected; memory O(distinct label
 *         values + input lines). No global state of its own; @p m is only
 *         read.
 */
PSC_API psc_status psc_lint_model(const psc_model *m, const char *buf, size_t len,
                                  const psc_lint_opts *opts, psc_diag_list *out);

/**
 * Convert the findings of psc_model_parse() in @p parse_diags into lint
 * findings appended to @p out: duplicate series become `duplicate-series`,
 * histogram, summary and info value findings of the validator become
 * `histogram-consistency`, `summary-consistency` and `info-value`; every
 * other finding becomes `parse` with the original code in the message
 * ("MESSAGE (CODE)") and its own severity. Rules switched off in @p opts
 * drop their findings; the severity configured for `parse` applies to
 * parser errors (warnings stay warnings). Ignored families apply as in
 * psc_lint_model() to every rule except `parse`.
 * @return PSC_OK or PSC_E_NOMEM.
 */
PSC_API psc_status psc_lint_parse_findings(const psc_diag_list *parse_diags,
                                           const psc_lint_opts *opts, psc_diag_list *out);

/**
 * Convenience: psc_model_parse() @p buf, convert its findings with
 * psc_lint_parse_findings(), run psc_lint_model() and sort @p out by
 * position (psc_diag_list_sort()).
 *
 * @param popts  parser options, NULL for the defaults (format AUTO is
 *               detected).
 * @return PSC_OK whether or not findings were added; PSC_E_NOMEM.
 */
PSC_API psc_status psc_lint_buffer(const char *buf, size_t len, const psc_parse_opts *popts,
                                   const psc_lint_opts *opts, psc_diag_list *out);

/**
 * Line source for psc_lint_stream(): set *p and *n to the bytes of input
 * line @p line (1-based, without its line feed), valid until the next call;
 * return false when the line cannot be had (its findings then carry column
 * 0, "whole line").
 */
typedef bool (*psc_line_fn)(void *ctx, uint64_t line, const char **p, size_t *n);

/**
 * psc_lint_buffer() over an input read through @p rd, without holding it:
 * the model is built with psc_model_parse_stream(), and the lines the
 * findings point into are fetched through @p line_fn (NULL: columns 0),
 * e.g. by offset from a file. Same findings as psc_lint_buffer() of the
 * whole input when @p line_fn returns the input's lines.
 *
 * @param rd,rd_ctx  read callback (psc_read_fn, promscope/parse.h).
 * @param err        the read callback's error on PSC_E_IO.
 * @return PSC_OK whether or not findings were added; PSC_E_NOMEM; PSC_E_IO
 *         when @p rd failed (nothing appended to @p out).
 */
PSC_API psc_status psc_lint_stream(psc_read_fn rd, void *rd_ctx, psc_line_fn line_fn,
                                   void *line_ctx, const psc_parse_opts *popts,
                                   const psc_lint_opts *opts, psc_diag_list *out, psc_error *err);

#ifdef __cplusplus
}
#endif
#endif
