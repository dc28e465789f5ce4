/*
 * promscope/parse.h - the exposition pull parser and the streaming validator.
 *
 * Formats (DESIGN.md section 2):
 *  - Prometheus text 0.0.4: reference/exposition_formats.md "Text format
 *    details" (reference/exposition_formats.pre-utf8-quoting.md for the
 *    pre-UTF-8 grammar);
 *  - Prometheus text 1.0.0: the same plus quoted UTF-8 metric and label names
 *    (reference/exposition_formats.md "Line format", proposal-0028-utf8.md);
 *  - OpenMetrics 1.0: reference/OpenMetrics-1.0.md "Text format" / "ABNF".
 *
 * The parser checks everything that can be decided from one line (grammar,
 * numbers, UTF-8, escapes, limits, per-line label rules). The validator
 * (psc_validator) checks what needs more than one line: family grouping,
 * metadata placement, duplicate series, histogram/summary/counter/stateset/
 * info rules, `# EOF` placement. `promscope validate` runs both.
 */
#ifndef PROMSCOPE_PARSE_H
#define PROMSCOPE_PARSE_H

#include "codes.h"
#include "common.h"
#include "diag.h"

#ifdef __cplusplus
extern "C" {
#endif

typedef enum psc_format {
    PSC_FORMAT_AUTO = 0,        /**< detect (psc_format_detect) */
    PSC_FORMAT_TEXT_0_0_4,      /**< Prometheus text 0.0.4: no quoted names */
    PSC_FORMAT_TEXT_1_0_0,      /**< Prometheus text 1.0.0: quoted UTF-8 names */
    PSC_FORMAT_OPENMETRICS_1_0, /**< OpenMetrics 1.0 text */
} psc_format;

/** "auto", "text-0.0.4", "text-1.0.0", "openmetrics-1.0". Static storage. */
PSC_API const char *psc_format_name(psc_format f);

/**
 * Detect the format of a file or stdin (DESIGN.md section 2): OpenMetrics
 * when a line is exactly `# EOF` or `# UNIT ...`, when a TYPE names an
 * OpenMetrics-only type (info, stateset, gaugehistogram, unknown), or when a
 * sample carries an exemplar (` # {`); otherwise Prometheus text 1.0.0.
 * Reads at most the whole buffer; never allocates.
 */
PSC_API psc_format psc_format_detect(const char *buf, size_t len);

/**
 * Map an HTTP Content-Type value to a format: application/openmetrics-text
 * (version 1.0.0 or absent) -> OpenMetrics 1.0; text/plain with version
 * 0.0.4 -> text 0.0.4; text/plain with version=1.0.0 or no version -> text
 * 1.0.0 (exposition_formats.md "Basic info": a missing version means the most
 * recent text format). Other parameters (charset, escaping) are ignored.
 * Parameters are case-insensitive and may come in any order. Returns
 * PSC_FORMAT_AUTO when the type is missing, unparsable or unsupported.
 */
PSC_API psc_format psc_format_from_content_type(const char *ct, size_t len);

typedef enum psc_metric_type {
    PSC_TYPE_UNTYPED = 0,   /**< no TYPE line, or Prometheus `untyped` */
    PSC_TYPE_COUNTER,
    PSC_TYPE_GAUGE,
    PSC_TYPE_HISTOGRAM,
    PSC_TYPE_GAUGEHISTOGRAM,
    PSC_TYPE_SUMMARY,
    PSC_TYPE_INFO,
    PSC_TYPE_STATESET,
    PSC_TYPE_UNKNOWN,       /**< OpenMetrics `unknown` */
} psc_metric_type;

/** Lowercase type keyword ("counter", "gaugehistogram", "untyped", ...). */
PSC_API const char *psc_metric_type_name(psc_metric_type t);

typedef enum psc_entry_kind {
    PSC_ENTRY_HELP = 1,  /**< `# HELP name text` */
    PSC_ENTRY_TYPE,      /**< `# TYPE name type` */
    PSC_ENTRY_UNIT,      /**< `# UNIT name unit` (OpenMetrics only) */
    PSC_ENTRY_SAMPLE,    /**< `name{labels} value [timestamp] [# exemplar]` */
    PSC_ENTRY_COMMENT,   /**< any other `#` line (Prometheus text only) */
    PSC_ENTRY_EOF,       /**< `# EOF` (OpenMetrics only) */
} psc_entry_kind;

/** "HELP", "TYPE", "UNIT", "SAMPLE", "COMMENT", "EOF". */
PSC_API const char *psc_entry_kind_name(psc_entry_kind k);

/** A label pair; both slices already unescaped. */
typedef struct psc_label {
    psc_str name;
    psc_str value;
} psc_label;

/** OpenMetrics exemplar (OpenMetrics-1.0.md "Exemplars"). */
typedef struct psc_exemplar {
    const psc_label *labels;
    size_t nlabels;
    double value;
    bool has_timestamp;
    double timestamp;   /**< seconds since the Unix epoch (float) */
} psc_exemplar;

/**
 * One entry of the exposition. All slices point into the input buffer or,
 * for text that contained escapes, into scratch memory of the parser; they
 * stay valid until the next psc_parser_next(), psc_parser_reset() or
 * psc_parser_free().
 */
typedef struct psc_entry {
    psc_entry_kind kind;
    uint64_t offset;          /**< byte offset of the line start */
    uint64_t line;            /**< 1-based line number */
    psc_str name;             /**< metric name (sample) or family name (metadata); unescaped */
    uint64_t name_column;     /**< 1-based byte column of the name */
    psc_str text;             /**< HELP text (unescaped), UNIT, COMMENT (after '#'), raw TYPE word */
    psc_metric_type type;     /**< TYPE entries */
    const psc_label *labels;  /**< SAMPLE: label pairs in input order (metric name excluded) */
    const uint32_t *label_columns; /**< 1-based byte column of each label name */
    size_t nlabels;
    double value;             /**< SAMPLE value; NaN is canonical quiet NaN */
    uint64_t value_column;
    bool has_timestamp;
    double timestamp;         /**< seconds since the Unix epoch */
    int64_t timestamp_ms;     /**< milliseconds since the Unix epoch; exact for text formats */
    bool timestamp_ms_exact;  /**< false when timestamp_ms cannot represent the timestamp */
    uint64_t timestamp_column;
    bool has_exemplar;
    psc_exemplar exemplar;
    uint64_t exemplar_column;
} psc_entry;

/** Option flags (leniency is explicit and named, like llhttp). */
enum {
    PSC_PARSE_ALLOW_CRLF = 1u << 0, /**< treat "\r\n" as "\n" (text formats) */
    PSC_PARSE_ALLOW_BOM = 1u << 1,  /**< skip a UTF-8 BOM at the start (text formats) */
    PSC_PARSE_STRICT = 1u << 2,     /**< warnings of text formats become errors */
};

/** Parser and validator options; psc_parse_opts_init() gives the defaults. */
typedef struct psc_parse_opts {
    psc_format format;            /**< AUTO is resolved by psc_parser_reset() */
    unsigned flags;               /**< PSC_PARSE_* */
    size_t max_line_bytes;        /**< default 1 MiB (BAD-INPUTS A1) */
    size_t max_labels;            /**< per series, default 256 */
    size_t max_label_name_bytes;  /**< default 1 KiB */
    size_t max_label_value_bytes; /**< default 64 KiB */
    uint64_t max_samples;         /**< default 1,000,000; 0 = unlimited */
    unsigned max_threads;         /**< threads psc_validate_buffer(),
                                       psc_validate_stream() and a model build may use,
                                       the caller's included: 0 = the default, 2 (one
                                       started for inputs of 1 MiB and more; see those
                                       functions); 1 = the caller's only */
} psc_parse_opts;

PSC_API void psc_parse_opts_init(psc_parse_opts *o);

typedef struct psc_parser psc_parser;

/**
 * Create a parser. @p opts may be NULL (defaults); it is copied.
 * Returns NULL when out of memory. Free with psc_parser_free().
 * A parser is not thread-safe; use one per thread.
 */
PSC_API psc_parser *psc_parser_new(const psc_parse_opts *opts);

/** Release @p p and its scratch memory. NULL is allowed. */
PSC_API void psc_parser_free(psc_parser *p);

/**
 * Start parsing @p buf (@p len bytes; need not be NUL-terminated; must stay
 * alive and unchanged while entries are read). When the format option is
 * PSC_FORMAT_AUTO it is detected here. Resets line counters and errors.
 */
PSC_API void psc_parser_reset(psc_parser *p, const char *buf, size_t len);

/** The format in use after psc_parser_reset(). */
PSC_API psc_format psc_parser_format(const psc_parser *p);

/**
 * Advance to the next entry.
 *
 * Grammar: OpenMetrics 1.0 "ABNF", "Escaping", "Numbers", "Timestamps",
 * "Exemplars" (reference/OpenMetrics-1.0.md) or Prometheus text "Line format"
 * (reference/exposition_formats.md), as chosen by the format.
 *
 * @param p    parser; not NULL.
 * @param ent  out: the entry (see psc_entry for slice lifetimes).
 * @param err  optional; on failure: status, code, message, byte offset,
 *             1-based line and byte column.
 * @return PSC_OK an entry was produced; PSC_DONE end of input (for
 *         OpenMetrics, after `# EOF`); PSC_E_SYNTAX, PSC_E_SEMANTIC (a
 *         well-formed line the format forbids, e.g. a `__name__` label),
 *         PSC_E_UTF8, PSC_E_LIMIT on bad input: the offending line is
 *         skipped and the next call resumes at the following line, so every
 *         error can be reported; PSC_E_NOMEM when memory for the line could
 *         not be had: the parser stays at the start of that line, so a
 *         retry reads it again.
 *         A PSC_C_SAMPLE_LIMIT error is sticky: later calls return PSC_DONE.
 * Warnings of text formats (missing final newline) are not errors: see
 * psc_parser_warnings().
 * No heap allocation in steady state; never reads past @p len.
 */
PSC_API psc_status psc_parser_next(psc_parser *p, psc_entry *ent, psc_error *err);

/**
 * Non-fatal findings collected so far (e.g. PSC_C_MISSING_NEWLINE in text
 * formats). Owned by the parser; valid until reset or free.
 */
PSC_API const psc_diag_list *psc_parser_warnings(const psc_parser *p);


/**
 * Role of a sample inside its family, from the sample name's suffix and the
 * family type (OpenMetrics-1.0.md "Suffixes" and "Metric types";
 * exposition_formats.md "Histograms and summaries").
 */
typedef enum psc_sample_kind {
    PSC_SAMPLE_VALUE = 0, /**< gauge, untyped, unknown; counter without suffix (text formats) */
    PSC_SAMPLE_TOTAL,     /**< counter `_total` */
    PSC_SAMPLE_CREATED,   /**< `_created` of counter, histogram, summary */
    PSC_SAMPLE_BUCKET,    /**< histogram `_bucket` (le label) */
    PSC_SAMPLE_COUNT,     /**< histogram/summary `_count` */
    PSC_SAMPLE_SUM,       /**< histogram/summary `_sum` */
    PSC_SAMPLE_GCOUNT,    /**< gaugehistogram `_gcount` */
    PSC_SAMPLE_GSUM,      /**< gaugehistogram `_gsum` */
    PSC_SAMPLE_QUANTILE,  /**< summary sample without suffix (quantile label) */
    PSC_SAMPLE_INFO,      /**< info `_info` */
    PSC_SAMPLE_STATE,     /**< stateset sample (label named after the family) */
} psc_sample_kind;

/** "value", "total", "created", "bucket", ... Static storage. */
PSC_API const char *psc_sample_kind_name(psc_sample_kind k);

/**
 * Does sample name @p sample belong to family @p family of type @p type in
 * format @p fmt? When it does, *kind (optional) receives its role.
 * Text formats: a counter's samples are the bare name (the Prometheus
 * convention puts `_total` in the family name); `_created` is accepted for
 * counter/histogram/summary. OpenMetrics: exactly the suffixes of the spec.
 */
PSC_API bool psc_sample_in_family(psc_format fmt, psc_metric_type type, psc_str family,
                                  psc_str sample, psc_sample_kind *kind);

/* ------------------------------------------------------------------ */

typedef struct psc_validator psc_validator;

/**
 * Create a validator for @p format (not AUTO) with @p opts (NULL: defaults).
 * Findings go to @p diags (borrowed; must outlive the validator).
 * Returns NULL when out of memory.
 * Memory: O(families + series of the current family), independent of the
 * number of samples in other families.
 */
PSC_API psc_validator *psc_validator_new(psc_format format, const psc_parse_opts *opts,
                                         psc_diag_list *diags);
PSC_API void psc_validator_free(psc_validator *v);

/**
 * Check one entry produced by psc_parser_next() against the family rules
 * (OpenMetrics-1.0.md "MetricFamily", "Metric types"; exposition_formats.md
 * "Grouping and sorting", "Histograms and summaries").
 * Returns PSC_OK, or PSC_E_NOMEM. Findings are appended to the diag list.
 */
PSC_API psc_status psc_validator_feed(psc_validator *v, const psc_entry *ent);

/**
 * Record a parser error (so that e.g. a broken line does not also produce
 * a "missing +Inf bucket" finding for the same series).
 */
PSC_API psc_status psc_validator_parse_error(psc_validator *v, const psc_error *err);

/**
 * End of input: checks that need the whole input (open histogram groups,
 * `# EOF` presence in OpenMetrics). @p end_offset, @p end_line: position
 * just past the last byte. Returns PSC_OK or PSC_E_NOMEM.
 */
PSC_API psc_status psc_validator_finish(psc_validator *v, uint64_t end_offset, uint64_t end_line,
                                        uint64_t end_column);

/**
 * Convenience: parse and validate a whole buffer, appending every finding
 * (parser errors, parser warnings, validator findings) to @p diags.
 * Threads: from 1 MiB on (unless opts->max_threads is 1) a second thread
 * parses while the calling thread validates, as psc_validate_stream()
 * describes; the findings and their order are the same.
 * @return PSC_OK when no finding of severity error was added;
 *         PSC_E_SYNTAX when at least one was; PSC_E_NOMEM.
 */
PSC_API psc_status psc_validate_buffer(const char *buf, size_t len, const psc_parse_opts *opts,
                                       psc_diag_list *diags);

/**
 * Read callback of psc_validate_stream(): copy up to @p cap bytes into
 * @p buf. Return the number of bytes read, 0 at the end of the input, or
 * -1 on a read error (the callback describes it in @p err, optional).
 */
typedef long (*psc_read_fn)(void *ctx, char *buf, size_t cap, psc_error *err);

/**
 * Parse and validate an input read in chunks through @p rd, with memory
 * bounded by the chunk size (1 MiB) plus opts->max_line_bytes plus the
 * validator's O(families + metrics of the current family), whatever the
 * input size (BAD-INPUTS A13, E5). A line longer than max_line_bytes is
 * reported (PSC_C_LINE_TOO_LONG) and skipped without being buffered (A1).
 *
 * Findings go to @p diags as with psc_validate_buffer(). With format AUTO,
 * detection (psc_format_detect) sees only the first chunk: pass the format
 * when it is known.
 *
 * Threads: when the input is longer than one chunk (and opts->max_threads
 * is not 1), the call starts a second thread and splits the work by how
 * @p rd returns. When it fills what was asked (a file), the second thread
 * parses chunk k while the calling thread reads chunk k+1 and validates the
 * entries of chunk k-1, which the second thread hands over in batches of
 * 1024 (copied where they point into the parser's scratch memory; about
 * 2 MiB). When it returns less and more follows (a pipe, a socket, whose
 * writer may be slower than the validation), the calling thread only reads,
 * so that the writer never waits for it, and the second thread parses and
 * validates. The thread is joined before the call returns; if it cannot be
 * started, the calling thread does it all. @p rd is only called from the
 * calling thread. The findings and their order are the same either way;
 * the chunk buffers are three instead of one; when the parser stops at a
 * limit, up to two more chunks may have been read (and are not parsed).
 * @return PSC_OK no error finding; PSC_E_SYNTAX at least one; PSC_E_IO when
 *         @p rd failed (@p err describes it); PSC_E_NOMEM.
 */
PSC_API psc_status psc_validate_stream(psc_read_fn rd, void *ctx, const psc_parse_opts *opts,
                                       psc_diag_list *diags, psc_error *err);

/**
 * Parse a number per OpenMetrics-1.0.md "Numbers" (also used for the
 * Prometheus text formats, whose values follow Go's ParseFloat minus hex
 * and `_`): [+-] digits [. digits] [e [+-] digits], `.5`, `5.`, and
 * case-insensitive NaN, Inf, Infinity with optional sign (not for NaN).
 * Rejects hex, `_`, `0b`/`0o`, `nan(...)`, empty, leading/trailing space.
 * Locale-independent; correctly rounded. Overflow (1e400) is an error;
 * underflow gives 0 or a subnormal.
 * @return PSC_OK; PSC_E_SYNTAX (bad grammar); PSC_E_LIMIT (|value| overflows).
 */
PSC_API psc_status psc_parse_double(const char *s, size_t len, double *out);

#ifdef __cplusplus
}
#endif
#endif
