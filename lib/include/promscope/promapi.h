/*
 * promscope/promapi.h - a client of the Prometheus HTTP API and the maths of
 * the percentile and rate reports.
 *
 * Endpoints (DESIGN.md section 4; prometheus docs/querying/api.md):
 * /api/v1/query, /api/v1/query_range, /api/v1/series, /api/v1/labels,
 * /api/v1/label/NAME/values, /api/v1/metadata, /api/v1/targets,
 * /api/v1/status/tsdb, /api/v1/status/buildinfo. Any server speaking that
 * API works (Prometheus, Thanos, Mimir, Cortex, VictoriaMetrics).
 *
 * Responses are decoded with jansson (JSON_REJECT_DUPLICATES, NUL allowed in
 * strings, depth bounded by the decoder) into typed results that own their
 * memory. Every field is type-checked before use; a malformed response is a
 * PSC_E_API error whose message names the JSON path of the offending field
 * (`data.result[3].value[1]`, BAD-INPUTS G). Sample values arrive as JSON
 * strings and are parsed with psc_parse_double() ("NaN", "+Inf", "-Inf").
 *
 * Times are seconds since the Unix epoch as double (the API's own unit);
 * NAN means "not set" wherever a time is optional.
 */
#ifndef PROMSCOPE_PROMAPI_H
#define PROMSCOPE_PROMAPI_H

#include "common.h"
#include "parse.h"

#ifdef __cplusplus
extern "C" {
#endif

/** Which endpoint a response came from; selects the members of psc_api_response. */
typedef enum psc_api_endpoint {
    PSC_API_QUERY = 1,     /**< /api/v1/query */
    PSC_API_QUERY_RANGE,   /**< /api/v1/query_range */
    PSC_API_SERIES,        /**< /api/v1/series */
    PSC_API_LABELS,        /**< /api/v1/labels */
    PSC_API_LABEL_VALUES,  /**< /api/v1/label/NAME/values */
    PSC_API_METADATA,      /**< /api/v1/metadata */
    PSC_API_TARGETS,       /**< /api/v1/targets */
    PSC_API_TSDB_STATUS,   /**< /api/v1/status/tsdb */
    PSC_API_BUILDINFO,     /**< /api/v1/status/buildinfo */
} psc_api_endpoint;

/** The endpoint's path ("/api/v1/query", ...; "/api/v1/label/" for label values). */
PSC_API const char *psc_api_endpoint_name(psc_api_endpoint e);

/** data.resultType of a query (api.md "Expression query result formats"). */
typedef enum psc_api_result_type {
    PSC_API_RESULT_NONE = 0,
    PSC_API_RESULT_SCALAR,
    PSC_API_RESULT_STRING,
    PSC_API_RESULT_VECTOR,
    PSC_API_RESULT_MATRIX,
} psc_api_result_type;

/** "scalar", "string", "vector", "matrix" ("none" for NONE). Static storage. */
PSC_API const char *psc_api_result_type_name(psc_api_result_type t);

/**
 * One bucket of a native histogram sample: `[boundary_rule, "lower",
 * "upper", "count"]` (prometheus-docs_native_histograms_spec.md). boundary:
 * 0 open left (lower exclusive, upper inclusive), 1 open right, 2 open both,
 * 3 closed both. count is the number of observations in this bucket alone
 * (not cumulative).
 */
typedef struct psc_api_bucket {
    int boundary;
    double lower;
    double upper;
    double count;
} psc_api_bucket;

/** A native histogram sample (the `histogram` / `histograms` fields). */
typedef struct psc_api_histogram {
    double count;
    double sum;
    const psc_api_bucket *buckets; /**< ascending by lower bound, as sent */
    size_t nbuckets;
} psc_api_histogram;

/** A point of a series: a float sample, or a native histogram sample when h != NULL. */
typedef struct psc_api_point {
    double t;                      /**< seconds since the Unix epoch */
    double v;                      /**< NaN for histogram points */
    const psc_api_histogram *h;    /**< NULL for float samples */
} psc_api_point;

/** A label set; labels sorted by name (bytewise), `__name__` included when sent. */
typedef struct psc_api_labelset {
    const psc_label *labels;       /**< names and values may contain NUL bytes (values only) */
    size_t nlabels;
} psc_api_labelset;

/**
 * A series of a vector (exactly one point) or a matrix (the `values` and
 * `histograms` arrays merged in time order).
 */
typedef struct psc_api_series {
    psc_api_labelset metric;
    const psc_api_point *points;
    size_t npoints;
} psc_api_series;

/** An entry of /api/v1/metadata (one per metric and distinct metadata). */
typedef struct psc_api_metadata {
    psc_str metric;
    psc_str type;                  /**< as sent: "counter", "histogram", "unknown", ... */
    psc_str help;
    psc_str unit;
} psc_api_metadata;

/** An active target of /api/v1/targets. */
typedef struct psc_api_target {
    psc_api_labelset labels;       /**< labels after relabelling */
    psc_str scrape_pool;
    psc_str scrape_url;
    psc_str health;                /**< "up", "down" or "unknown" */
    psc_str last_error;            /**< "" when the last scrape worked */
    psc_str last_scrape;           /**< RFC 3339 text as sent */
    double last_scrape_duration;   /**< seconds; NaN when absent */
    psc_str scrape_interval;       /**< Prometheus duration text; empty when absent */
    psc_str scrape_timeout;
} psc_api_target;

/** A `{"name": ..., "value": N}` entry of /api/v1/status/tsdb. */
typedef struct psc_api_stat {
    psc_str name;
    double value;
} psc_api_stat;

/**
 * A decoded response. Which members are filled depends on `endpoint`; the
 * others are zero. All memory is owned by the response and released by
 * psc_api_response_release(). Not thread-safe to modify; read-only use
 * from several threads is fine.
 */
typedef struct psc_api_response {
    psc_api_endpoint endpoint;
    int http_status;               /**< HTTP status of the answer (0 when decoded from bytes) */

    /* envelope: warnings and infos (api.md "Format overview"), in order */
    const psc_str *warnings;
    size_t nwarnings;
    const psc_str *infos;
    size_t ninfos;

    /* QUERY, QUERY_RANGE */
    psc_api_result_type result_type;
    psc_api_point scalar;          /**< SCALAR: t and v; STRING: t */
    psc_str string;                /**< STRING result */
    const psc_api_series *series;  /**< VECTOR, MATRIX (in response order) */
    size_t nseries;
    psc_str stats;                 /**< data.stats re-encoded as compact JSON when present */

    /* SERIES */
    const psc_api_labelset *labelsets;
    size_t nlabelsets;

    /* LABELS, LABEL_VALUES */
    const psc_str *strings;
    size_t nstrings;

    /* METADATA: sorted by metric name (the API sends an unordered object) */
    const psc_api_metadata *metadata;
    size_t nmetadata;

    /* TARGETS */
    const psc_api_target *targets; /**< activeTargets, in response order */
    size_t ntargets;
    size_t ndropped;               /**< length of droppedTargets */

    /* TSDB_STATUS (Prometheus field names; missing lists are empty) */
    double head_series;            /**< headStats.numSeries (NaN when absent) */
    double head_chunks;            /**< headStats.chunkCount (NaN when absent) */
    double head_min_time_ms;       /**< headStats.minTime, milliseconds (NaN when absent) */
    double head_max_time_ms;
    const psc_api_stat *series_by_metric;   /**< seriesCountByMetricName */
    size_t nseries_by_metric;
    const psc_api_stat *values_by_label;    /**< labelValueCountByLabelName */
    size_t nvalues_by_label;
    const psc_api_stat *memory_by_label;    /**< memoryInBytesByLabelName */
    size_t nmemory_by_label;
    const psc_api_stat *series_by_pair;     /**< seriesCountByLabelValuePair */
    size_t nseries_by_pair;

    /* BUILDINFO */
    psc_str version;
    psc_str revision;
    psc_str branch;
    psc_str go_version;

    void *priv;                    /**< private: the arena */
} psc_api_response;

/** Release everything a response owns and zero it. NULL is allowed. */
PSC_API void psc_api_response_release(psc_api_response *r);

/**
 * Decode the body of an API answer.
 *
 * Envelope: prometheus docs/querying/api.md "Format overview" (status,
 * data, errorType, error, warnings, infos); result formats: "Expression
 * query result formats"; the other endpoints by their sections.
 *
 * @param endpoint     which endpoint answered; selects the schema of `data`.
 * @param body, len    the bytes (need not be NUL-terminated; never written).
 * @param http_status  status of the HTTP answer, or 0 when unknown. A body
 *                     that is not JSON is reported with the status and a
 *                     bounded, escaped snippet of the body.
 * @param out          zeroed and filled on PSC_OK; on error it may hold the
 *                     warnings decoded so far; release it in both cases.
 * @param err          optional; message says what is wrong and where:
 *                     jansson line:column for syntax (also "response nested
 *                     too deeply", duplicate keys, NUL in keys, invalid
 *                     UTF-8, trailing data), the JSON path for a field of a
 *                     wrong type or an unparsable value, "ERRORTYPE: ERROR"
 *                     for `status: error`.
 * @return PSC_OK; PSC_E_API malformed body or `status: error`; PSC_E_HTTP
 *         an HTTP status other than 2xx whose body had no API error;
 *         PSC_E_NOMEM.
 * Thread-safe for distinct @p out.
 */
PSC_API psc_status psc_api_decode(psc_api_endpoint endpoint, const char *body, size_t len,
                                  int http_status, psc_api_response *out, psc_error *err);

/* ------------------------------------------------------------------ */
/* The client                                                          */

struct psc_fetch_opts;

typedef struct psc_api_client psc_api_client;

/**
 * Create a client for the server at @p base_url (http:// or https://, e.g.
 * "http://localhost:9090" or "https://host/prometheus"; a trailing slash is
 * ignored; the endpoint paths are appended).
 *
 * @param base_url  NUL-terminated; copied.
 * @param fetch     transport options (scrape.h: timeouts, max_body_bytes,
 *                  auth, TLS, headers); NULL for the defaults. The struct is
 *                  copied, but the strings it points to are borrowed and
 *                  must outlive the client. scrape mode and post_* are
 *                  ignored: the client sets them per request.
 * @param out       receives the client; free with psc_api_client_free().
 * @param err       optional.
 * @return PSC_OK; PSC_E_ARG when the URL is not http(s) or has a query or
 *         fragment; PSC_E_NOMEM.
 * A client is not thread-safe; use one per thread.
 */
PSC_API psc_status psc_api_client_new(const char *base_url, const struct psc_fetch_opts *fetch,
                                      psc_api_client **out, psc_error *err);

/** Free @p c. NULL is allowed. */
PSC_API void psc_api_client_free(psc_api_client *c);

/** The base URL with userinfo redacted; owned by @p c. Also set as
 *  psc_error.source of the client's errors. */
PSC_API const char *psc_api_client_url(const psc_api_client *c);

/**
 * Parameters passed through to the query endpoints. Zero-initialise for
 * "none of them". Strings are borrowed for the duration of the call.
 */
typedef struct psc_api_query_opts {
    const char *timeout;        /**< `timeout=`: PromQL duration ("30s"); NULL = server default */
    uint64_t limit;             /**< `limit=` (series in the result, newer servers); 0 = none */
    bool stats;                 /**< `stats=all`: per-query statistics in psc_api_response.stats */
    const char *lookback_delta; /**< `lookback_delta=`: PromQL duration; NULL = server default */
} psc_api_query_opts;

/**
 * Instant query: /api/v1/query (api.md "Instant queries").
 * @param expr  PromQL, NUL-terminated; form-encoded; sent as a POST body
 *              when the parameters exceed PSC_API_GET_MAX bytes.
 * @param time  evaluation time, seconds; NAN = the server's current time.
 * @param opts  NULL = none.
 * @param out   zeroed and filled; release it (also on failure).
 * @param err   optional; err->source is the redacted server URL.
 * @return PSC_OK; PSC_E_API (`status: error`, malformed answer);
 *         PSC_E_HTTP (non-200 without an API error body); PSC_E_NET
 *         (transport, timeout, response over max_body_bytes: the message
 *         says to narrow the query or pass a limit); PSC_E_ARG; PSC_E_NOMEM.
 */
PSC_API psc_status psc_api_query(psc_api_client *c, const char *expr, double time,
                                 const psc_api_query_opts *opts, psc_api_response *out, psc_error *err);

/** Parameters longer than this (bytes, form-encoded) go in a POST body. */
#define PSC_API_GET_MAX 2048

/**
 * Range query: /api/v1/query_range (api.md "Range queries").
 * @param start, end  seconds since the epoch; start <= end.
 * @param step        seconds, > 0. Servers refuse more than 11,000 points
 *                    per series.
 * Otherwise as psc_api_query(); the result type is a matrix.
 */
PSC_API psc_status psc_api_query_range(psc_api_client *c, const char *expr, double start, double end,
                                       double step, const psc_api_query_opts *opts,
                                       psc_api_response *out, psc_error *err);

/** Selection of the metadata endpoints (series, labels, label values). */
typedef struct psc_api_select {
    const char *const *matchers; /**< `match[]=` selectors; borrowed */
    size_t nmatchers;
    double start, end;           /**< seconds; NAN = not sent */
    uint64_t limit;              /**< `limit=`; 0 = not sent */
} psc_api_select;

/**
 * Series matching selectors: /api/v1/series (api.md "Finding series by
 * label matchers"). GET, or a form-encoded POST when the parameters exceed
 * PSC_API_GET_MAX bytes.
 * @param c    client; not NULL.
 * @param sel  at least one matcher (else PSC_E_ARG); start/end/limit
 *             optional; borrowed for the call.
 * @param out  zeroed and filled: out->labelsets (labels sorted by name),
 *             owned by @p out until psc_api_response_release(); release it
 *             also on failure.
 * @param err  optional; err->source is the redacted server URL.
 * @return as psc_api_query(). Blocks for at most the client's timeout;
 *         a client is used by one thread at a time.
 */
PSC_API psc_status psc_api_series_get(psc_api_client *c, const psc_api_select *sel, psc_api_response *out,
                                      psc_error *err);

/**
 * Label names: /api/v1/labels (api.md "Getting label names").
 * @param sel  NULL = no selection; else `match[]`, start, end, limit.
 * @param out  out->strings in the server's order (Prometheus sorts them).
 * Other parameters, returns and threading as psc_api_series_get().
 */
PSC_API psc_status psc_api_labels_get(psc_api_client *c, const psc_api_select *sel, psc_api_response *out,
                                      psc_error *err);

/**
 * Values of one label: /api/v1/label/NAME/values (api.md "Querying label
 * values"). Always a GET.
 * @param name  label name, NUL-terminated, not empty (else PSC_E_ARG);
 *              percent-encoded into the path.
 * @param sel   NULL = no selection; else `match[]`, start, end, limit.
 * @param out   out->strings; values may contain NUL bytes (use the lengths).
 * Other parameters, returns and threading as psc_api_series_get().
 */
PSC_API psc_status psc_api_label_values_get(psc_api_client *c, const char *name, const psc_api_select *sel,
                                            psc_api_response *out, psc_error *err);

/**
 * Metric metadata the server collected from its targets: /api/v1/metadata
 * (api.md "Querying metric metadata").
 * @param metric  NULL = all metrics; else only this one (`metric=`).
 * @param limit   `limit=` (metrics); 0 = not sent.
 * @param out     out->metadata, sorted by metric name (one entry per
 *                distinct TYPE/HELP/UNIT of a metric).
 * Other parameters, returns and threading as psc_api_series_get().
 */
PSC_API psc_status psc_api_metadata_get(psc_api_client *c, const char *metric, uint64_t limit,
                                        psc_api_response *out, psc_error *err);

/**
 * Active scrape targets: /api/v1/targets?state=active (api.md "Targets").
 * @param out  out->targets in response order; out->ndropped the number of
 *             dropped targets when the server lists them.
 * Other parameters, returns and threading as psc_api_series_get().
 */
PSC_API psc_status psc_api_targets_get(psc_api_client *c, psc_api_response *out, psc_error *err);

/**
 * Cardinality statistics of the head block: /api/v1/status/tsdb (api.md
 * "TSDB Stats").
 * @param limit  entries per list, sent as `limit=` and as VictoriaMetrics'
 *               `topN=` (each server ignores the other); 0 = server
 *               default (10).
 * @param out    the TSDB members (VictoriaMetrics: `totalSeries` of the
 *               current day as head_series; lists it does not send are
 *               empty).
 * Other parameters, returns and threading as psc_api_series_get().
 */
PSC_API psc_status psc_api_tsdb_status_get(psc_api_client *c, uint64_t limit, psc_api_response *out,
                                           psc_error *err);

/**
 * Build information: /api/v1/status/buildinfo (api.md "Build
 * information").
 * @param out  out->version, revision, branch, go_version (empty when the
 *             server leaves them out).
 * Other parameters, returns and threading as psc_api_series_get().
 */
PSC_API psc_status psc_api_buildinfo_get(psc_api_client *c, psc_api_response *out, psc_error *err);

/* ------------------------------------------------------------------ */
/* Reports: percentiles of a histogram and rates of counters           */

typedef enum psc_report_kind {
    PSC_REPORT_PERCENTILES = 1, /**< histogram_quantile per group + observation rate */
    PSC_REPORT_RATES,           /**< per-second rate per group, top N, share of the total */
} psc_report_kind;

/** Most quantiles one percentiles report computes. */
#define PSC_REPORT_MAX_QUANTILES 16
/** Most `by` labels. */
#define PSC_REPORT_MAX_BY 16

/**
 * What to report. psc_report_opts_init() gives the defaults; strings are
 * borrowed for the duration of psc_report_run().
 */
typedef struct psc_report_opts {
    /** Percentiles: a histogram metric name, optionally with matchers
     *  (`http_request_duration_seconds{job="api"}`); a `_bucket`, `_count`
     *  or `_sum` suffix is removed. Rates: a counter name or any series
     *  selector (`{job="api",__name__=~".+_total"}`). */
    const char *metric;
    /** Extra matchers, `{job="api"}` or `job="api"`; NULL = none. */
    const char *selector;
    /** Group-by label names (PromQL `sum by (...)`); none = one group
     *  (percentiles) or one group per series (rates). */
    const char *by[PSC_REPORT_MAX_BY];
    size_t nby;
    /** Rate window, a PromQL duration (default "5m"). */
    const char *window;
    /** Percentiles: quantiles in [0, 1] (default 0.5, 0.9, 0.99). */
    double quantiles[PSC_REPORT_MAX_QUANTILES];
    size_t nquantiles;
    /** Rates: keep the N groups with the highest rate; 0 = all (default 10). */
    size_t top;
    /** Evaluation time, seconds; NAN = `end` when a range is set, else now. */
    double time;
    /** Trend range for sparklines, seconds; start NAN = no range. */
    double start, end, step;
    /** timeout / limit / lookback_delta passed to every query; NULL = none. */
    const psc_api_query_opts *query;
} psc_report_opts;

/** Defaults: window "5m", quantiles 0.5/0.9/0.99, top 10, no range, time NAN. */
PSC_API void psc_report_opts_init(psc_report_opts *o);

/** One group of a report. */
typedef struct psc_report_row {
    psc_api_labelset labels;   /**< the group's labels (the `by` labels), sorted by name */
    const double *quantiles;   /**< percentiles: one per opts.quantiles; NaN = no observations */
    double rate;               /**< per second: observations (percentiles) or counter increase (rates); NaN = none */
    double share;              /**< rates: rate / total; NaN when the total is 0 */
    /** With a range: percentiles, one series per quantile; rates, one
     *  series of the rate. NULL without a range. Points on the step grid
     *  (missing steps are absent). */
    const psc_api_series *trends;
    size_t ntrends;
} psc_report_row;

/** A finished report; owns its memory (psc_report_release()). */
typedef struct psc_report {
    psc_report_kind kind;
    psc_str metric;            /**< base metric name ("" for a name-less selector) */
    bool native;               /**< percentiles: native histograms were detected */
    bool seconds;              /**< the metric is in seconds (name ends in `_seconds`) */
    double time;               /**< evaluation time used, seconds */
    double quantiles[PSC_REPORT_MAX_QUANTILES];
    size_t nquantiles;
    double total;              /**< rates: sum of the rates of all groups */
    size_t ngroups;            /**< groups found (rates: before keeping the top N) */
    const psc_report_row *rows;/**< percentiles: sorted by labels; rates: by rate, highest first */
    size_t nrows;
    const psc_str *queries;    /**< the PromQL sent, in order */
    size_t nqueries;
    const psc_str *warnings;   /**< warnings and infos of every answer, de-duplicated */
    size_t nwarnings;
    void *priv;
} psc_report;

/**
 * Run a report: build the PromQL, query @p c, join the answers per group.
 *
 * Percentiles (prometheus docs "histogram_quantile()", practices/histograms):
 * native histograms are detected by an instant query of the metric itself
 * (a sample with a `histogram` field); then
 * `histogram_quantile(q, sum by (BY) (rate(M{S}[W])))` and
 * `sum by (BY) (histogram_count(rate(M{S}[W])))`; otherwise classic
 * buckets: `histogram_quantile(q, sum by (le, BY) (rate(M_bucket{S}[W])))`
 * and `sum by (BY) (rate(M_count{S}[W]))`.
 * Rates: `sum by (BY) (rate(SEL[W]))` (or `rate(SEL[W])` without BY);
 * when SEL has no plain metric name or BY lists `__name__`, the metric
 * names are looked up first (/api/v1/label/__name__/values, at most 2000,
 * else PSC_E_ARG) and each metric's rate keeps its name (label_replace
 * into a label of its own, joined with `or`), published as `__name__`.
 * The total and the shares are computed over every group, then the top N
 * are kept.
 * With a range, the same expressions as range queries give the trends.
 *
 * @return PSC_OK (also when no group matched: nrows 0); PSC_E_ARG bad
 *         options (message names the option); errors of psc_api_query().
 * @param out  zeroed and filled; release it also on failure.
 */
PSC_API psc_status psc_report_run(psc_api_client *c, psc_report_kind kind, const psc_report_opts *opts,
                                  psc_report *out, psc_error *err);

/** Release a report and zero it. NULL is allowed. */
PSC_API void psc_report_release(psc_report *r);

/** Comparison of an expectation. */
typedef enum psc_expect_op {
    PSC_EXPECT_LT = 1, PSC_EXPECT_LE, PSC_EXPECT_GT, PSC_EXPECT_GE, PSC_EXPECT_EQ, PSC_EXPECT_NE,
} psc_expect_op;

/** What an expectation compares. */
typedef enum psc_expect_field {
    PSC_EXPECT_QUANTILE = 1, /**< `p99`, `p99.9`, `p50` (percentiles) */
    PSC_EXPECT_RATE,         /**< `rate` (both reports) */
    PSC_EXPECT_SHARE,        /**< `share` (rates) */
} psc_expect_field;

/** A parsed `--expect` such as `p99 < 0.25`, `p99 <= 250ms`, `rate > 0`, `share < 50%`. */
typedef struct psc_expect {
    psc_expect_field field;
    double quantile;   /**< PSC_EXPECT_QUANTILE: 0.99 for p99 */
    psc_expect_op op;
    double value;      /**< durations (ms, s, ...) in seconds; `%` divided by 100 */
    char text[96];     /**< the expectation as written (trimmed, escaped) */
} psc_expect;

/**
 * Parse an expectation: FIELD OP NUMBER[UNIT], FIELD one of pNN[.N]
 * (quantile NN/100), `rate`, `share`; OP one of < <= > >= == !=; UNIT one of
 * ns us µs ms s m h (to seconds) or % (to a fraction). Spaces optional.
 * @return PSC_OK; PSC_E_ARG with a message saying what is wrong.
 */
PSC_API psc_status psc_expect_parse(const char *s, psc_expect *out, psc_error *err);

/**
 * Check @p e on @p row of @p r. *actual (optional) receives the compared
 * value. A NaN value (no data) breaks every expectation.
 * @return true when the expectation holds. An expectation on a quantile the
 *         report did not compute, or on share in a percentiles report, is
 *         false with *actual NaN.
 */
PSC_API bool psc_expect_check(const psc_expect *e, const psc_report *r, const psc_report_row *row, double *actual);


#ifdef __cplusplus
}
#endif
#endif
