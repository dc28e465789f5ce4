/*
 * promscope/codes.h - every error code of the exposition parser and
 * validator, with its stable kebab-case id (the [ID] of a diagnostic).
 *
 * docs/errors.md documents each code with an example and its spec section.
 * Ids are stable: tools and baselines match on them.
 */
#ifndef PROMSCOPE_CODES_H
#define PROMSCOPE_CODES_H

#include "common.h"

#ifdef __cplusplus
extern "C" {
#endif

/* X(ENUM_SUFFIX, "id") - order is not significant, ids are. */
#define PSC_CODE_LIST(X)                                   \
    X(NONE, "none")                                        \
    X(NOMEM, "out-of-memory")                              \
    X(IO, "io")                                            \
    /* bytes and framing (BAD-INPUTS A) */                 \
    X(LINE_TOO_LONG, "line-too-long")                      \
    X(NUL_BYTE, "nul-byte")                                \
    X(INVALID_UTF8, "invalid-utf8")                        \
    X(BOM, "bom")                                          \
    X(CRLF, "crlf")                                        \
    X(BLANK_LINE, "blank-line")                            \
    X(MISSING_NEWLINE, "missing-newline")                  \
    X(MISSING_EOF, "missing-eof")                          \
    X(DATA_AFTER_EOF, "data-after-eof")                    \
    /* grammar (BAD-INPUTS B) */                           \
    X(INVALID_METRIC_NAME, "invalid-metric-name")          \
    X(MISSING_METRIC_NAME, "missing-metric-name")          \
    X(INVALID_LABEL_NAME, "invalid-label-name")            \
    X(EXPECTED_EQUALS, "expected-equals")                  \
    X(EXPECTED_QUOTE, "expected-quote")                    \
    X(UNTERMINATED_STRING, "unterminated-string")          \
    X(EXPECTED_COMMA, "expected-comma")                    \
    X(DUPLICATE_LABEL, "duplicate-label")                  \
    X(INVALID_WHITESPACE, "invalid-whitespace")            \
    X(MISSING_VALUE, "missing-value")                      \
    X(INVALID_VALUE, "invalid-value")                      \
    X(VALUE_OUT_OF_RANGE, "value-out-of-range")            \
    X(INVALID_TIMESTAMP, "invalid-timestamp")              \
    X(UNEXPECTED_TOKEN, "unexpected-token")                \
    X(INVALID_COMMENT, "invalid-comment")                  \
    X(INVALID_METADATA, "invalid-metadata")                \
    X(UNKNOWN_TYPE, "unknown-type")                        \
    X(INVALID_EXEMPLAR, "invalid-exemplar")                \
    X(EXEMPLAR_TOO_LONG, "exemplar-too-long")              \
    /* limits (BAD-INPUTS E, DESIGN.md section 6) */       \
    X(LABEL_LIMIT, "label-limit")                          \
    X(LABEL_NAME_TOO_LONG, "label-name-too-long")          \
    X(LABEL_VALUE_TOO_LONG, "label-value-too-long")        \
    X(NUMBER_TOO_LONG, "number-too-long")                  \
    X(SAMPLE_LIMIT, "sample-limit")                        \
    /* family semantics (BAD-INPUTS D) */                  \
    X(METADATA_AFTER_SAMPLES, "metadata-after-samples")    \
    X(DUPLICATE_METADATA, "duplicate-metadata")            \
    X(INTERLEAVED_FAMILY, "interleaved-family")            \
    X(NAME_CLASH, "name-clash")                            \
    X(DUPLICATE_SERIES, "duplicate-series")                \
    X(RESERVED_LABEL, "reserved-label")                    \
    X(UNIT_MISMATCH, "unit-mismatch")                      \
    X(UNIT_NOT_ALLOWED, "unit-not-allowed")                \
    X(INVALID_SAMPLE_NAME, "invalid-sample-name")          \
    X(INVALID_COUNTER_VALUE, "invalid-counter-value")      \
    X(EXEMPLAR_NOT_ALLOWED, "exemplar-not-allowed")        \
    X(HISTOGRAM_MISSING_INF, "histogram-missing-inf")      \
    X(HISTOGRAM_MISSING_LE, "histogram-missing-le")        \
    X(HISTOGRAM_INVALID_LE, "histogram-invalid-le")        \
    X(HISTOGRAM_BUCKET_ORDER, "histogram-bucket-order")    \
    X(HISTOGRAM_NOT_CUMULATIVE, "histogram-not-cumulative")\
    X(HISTOGRAM_COUNT_MISMATCH, "histogram-count-mismatch")\
    X(HISTOGRAM_INVALID_VALUE, "histogram-invalid-value")  \
    X(SUMMARY_INVALID_QUANTILE, "summary-invalid-quantile")\
    X(SUMMARY_QUANTILE_ORDER, "summary-quantile-order")    \
    X(SUMMARY_INVALID_VALUE, "summary-invalid-value")      \
    X(STATESET_INVALID, "stateset-invalid")                \
    X(INFO_INVALID, "info-invalid")                        \
    X(TIMESTAMP_ORDER, "timestamp-order")                  \
    X(CREATED_INVALID, "created-invalid")                  \
    /* conversion */                                       \
    X(NOT_EXPRESSIBLE, "not-expressible")                  \
    /* parsing, warning with --strict (added after 0.1) */ \
    X(UNKNOWN_ESCAPE, "unknown-escape")

typedef enum psc_code {
#define PSC_X_ENUM(e, id) PSC_C_##e,
    PSC_CODE_LIST(PSC_X_ENUM)
#undef PSC_X_ENUM
    PSC_C__COUNT
} psc_code;

/** Stable kebab-case id of @p c ("duplicate-series"); "unknown" when out of range. Static storage. */
PSC_API const char *psc_code_name(psc_code c);

#ifdef __cplusplus
}
#endif
#endif
