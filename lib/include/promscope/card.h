/*
 * promscope/card.h - cardinality statistics of expositions: series per
 * metric family and distinct values per label name, and the detector of
 * label values that look like ids (shared with the `unbounded-label` lint
 * rule, promscope/lint.h).
 *
 * Series are counted as Prometheus counts them (model.h): every sample line
 * of the model is one series, so each histogram bucket, `_sum` and `_count`
 * is a series. docs/cardinality.md describes the report.
 */
#ifndef PROMSCOPE_CARD_H
#define PROMSCOPE_CARD_H

#include "common.h"
#include "model.h"
#include "parse.h"

#ifdef __cplusplus
extern "C" {
#endif

/** What a label value looks like, for the unbounded-label detector. */
typedef enum psc_value_kind {
    PSC_VALUE_PLAIN = 0,  /**< nothing id-like */
    PSC_VALUE_UUID,       /**< 8-4-4-4-12 hex digits, e.g. "6f1c0e5a-...-..." */
    PSC_VALUE_IP,         /**< IPv4 or IPv6 address, optionally with a port */
    PSC_VALUE_HEX,        /**< 16 or more hex digits (hashes, trace and object ids) */
    PSC_VALUE_EMAIL,      /**< local@domain.tld */
    PSC_VALUE_TIMESTAMP,  /**< Unix time in seconds (10 digits) or ms (13 digits), 2001-2100 */
    PSC_VALUE_URL_PATH,   /**< a path or URL with an id segment, e.g. "/users/1234" */
} psc_value_kind;

/** "plain", "uuid", "ip", "hex", "email", "timestamp", "url-path". Static storage. */
PSC_API const char *psc_value_kind_name(psc_value_kind k);

/**
 * Classify one label value (the detector of docs/lint-rules.md
 * "unbounded-label"). Pure function of the bytes; no allocation;
 * thread-safe.
 *
 *  - uuid: exactly 36 bytes, hex digits in groups 8-4-4-4-12 joined by '-';
 *  - ip: dotted-quad IPv4 (each part 0-255, optional ":PORT"), or IPv6 (hex
 *    groups of at most 4 digits separated by ':', with "::" or exactly 8
 *    groups, optionally in brackets with a port);
 *  - hex: 16 or more hex digits, optionally prefixed by "0x";
 *  - email: one '@', a non-empty local part, a domain with a dot, no spaces;
 *  - timestamp: 10 digits in [978307200, 4102444800) (seconds) or 13 digits
 *    in the same range in milliseconds, optionally with a fraction;
 *  - url-path: starts with '/' or "scheme://host/" and has a path segment
 *    that is all digits, a uuid, or 12+ hex digits with at least one digit.
 *
 * @param value  the (unescaped) label value; may contain any bytes.
 * @return the first matching kind in the order above, else PSC_VALUE_PLAIN.
 */
PSC_API psc_value_kind psc_value_classify(psc_str value);

/** Most example values kept per label. */
#define PSC_CARD_MAX_EXAMPLES 3

/** Series count of one metric family, summed over every added model. */
typedef struct psc_card_family {
    psc_str name;           /**< NUL-terminated; owned by the psc_card */
    psc_metric_type type;   /**< of the first model that had the family */
    uint64_t series;        /**< samples in the family */
    double share;           /**< series / total series, 0..1 (0 when the total is 0) */
} psc_card_family;

/** Statistics of one label name over every series of every added model. */
typedef struct psc_card_label {
    psc_str name;           /**< NUL-terminated; owned by the psc_card */
    uint64_t values;        /**< distinct values */
    uint64_t series;        /**< series that carry the label */
    psc_str examples[PSC_CARD_MAX_EXAMPLES]; /**< first distinct values, in input order */
    size_t nexamples;
    uint64_t id_values;     /**< distinct values that psc_value_classify() calls id-like */
    psc_value_kind id_kind; /**< kind of the first id-like value; PLAIN when none */
    psc_str id_example;     /**< the first id-like value (NULL slice when none) */
    bool unbounded;         /**< id_values >= opts.unbounded_min_values and at least
                                 half of the distinct values are id-like */
} psc_card_label;

/** Options of psc_card_new(); psc_card_opts_init() gives the defaults. */
typedef struct psc_card_opts {
    bool by_label;                 /**< collect label statistics (default true) */
    uint64_t unbounded_min_values; /**< id-like distinct values before a label is
                                        called unbounded (default 2; at least 1) */
} psc_card_opts;

PSC_API void psc_card_opts_init(psc_card_opts *o);

/** An accumulator of cardinality statistics over one or more models. */
typedef struct psc_card psc_card;

/**
 * Create an empty accumulator. @p opts may be NULL (defaults); it is copied.
 * Returns NULL when out of memory. Free with psc_card_free(). Not
 * thread-safe; one accumulator per thread.
 */
PSC_API psc_card *psc_card_new(const psc_card_opts *opts);

/** Release @p c and every string it owns. NULL is allowed. */
PSC_API void psc_card_free(psc_card *c);

/**
 * Add the series of model @p m. Several models add up as if they came from
 * different targets: series counts are summed per family name, label values
 * are united per label name. The label `le` of histogram buckets and
 * `quantile` of summaries count like any other label; they are never called
 * unbounded.
 *
 * @p m may be freed afterwards: every string kept is copied.
 * @param err  optional; receives the code on failure.
 * @return PSC_OK; PSC_E_NOMEM (the statistics may then hold part of @p m;
 *         free the accumulator). Time O(series * labels) expected (seeded
 *         hashing, util/hash.h); memory O(families + distinct label values).
 */
PSC_API psc_status psc_card_add(psc_card *c, const psc_model *m, psc_error *err);

/** Series of every added model. */
PSC_API uint64_t psc_card_total_series(const psc_card *c);

/** Number of distinct family names. */
PSC_API size_t psc_card_family_count(const psc_card *c);

/**
 * Family @p i in report order: most series first, ties by name (bytewise).
 * NULL when out of range. Valid until the next psc_card_add() or
 * psc_card_free().
 */
PSC_API const psc_card_family *psc_card_family_at(const psc_card *c, size_t i);

/** Number of distinct label names (0 when opts.by_label is false). */
PSC_API size_t psc_card_label_count(const psc_card *c);

/**
 * Label @p i in report order: most distinct values first, then most series,
 * ties by name. NULL when out of range. Valid until the next psc_card_add()
 * or psc_card_free().
 */
PSC_API const psc_card_label *psc_card_label_at(const psc_card *c, size_t i);

#ifdef __cplusplus
}
#endif
#endif
