/*
 * promscope/scrape.h - fetching over HTTP(S): one target or many at once,
 * for scrapes (content negotiation, format from Content-Type) and for the
 * Prometheus HTTP API client (GET or form-encoded POST, JSON bodies).
 *
 * Behaviour (DESIGN.md section 4; BAD-INPUTS.md section F):
 *  - http and https only, also after redirects; at most max_redirects
 *    redirects (default 5); never https to http; credentials (bearer token,
 *    basic auth, and any extra header named Authorization, Cookie or
 *    Proxy-Authorization) are only sent to the origin (scheme, host, port)
 *    of the requested URL, never to another origin reached by a redirect.
 *  - limits: whole-transfer timeout (all redirects included), connect
 *    timeout, low-speed abort, and a body size cap counted after
 *    decompression, so a gzip bomb stops at the cap with bounded memory.
 *  - only HTTP 200 is success; the result of any other status quotes the
 *    status line and a short control-character-escaped snippet of the body.
 *  - URL userinfo (`https://user:pass@host/`) is redacted ("***") in every
 *    URL and message the library hands back.
 *
 * Content negotiation follows Prometheus 3 (its scrape code's Accept header;
 * reference/exposition_formats.md "HTTP Content-Type requirements",
 * reference/prometheus-docs_escaping_schemes.md): OpenMetrics 1.0.0 first,
 * then OpenMetrics 0.0.1, text 1.0.0, text 0.0.4, then any type, with
 * q-weights 0.6 ... 0.2, and `escaping=` on the 1.0.0 types.
 *
 * Thread-safety: psc_fetch() and psc_fetch_many() may run concurrently in
 * different threads with different results; the process-wide libcurl
 * initialisation happens once (psc_fetch_global_init()).
 */
#ifndef PROMSCOPE_SCRAPE_H
#define PROMSCOPE_SCRAPE_H

#include "common.h"
#include "parse.h"

#ifdef __cplusplus
extern "C" {
#endif

/**
 * Name escaping scheme requested from a target with the `escaping=`
 * parameter of the Accept header (reference/prometheus-docs_escaping_schemes.md
 * "Escaping Schemes"; Prometheus' `metric_name_escaping_scheme`).
 */
typedef enum psc_escaping {
    PSC_ESCAPING_ALLOW_UTF8 = 0, /**< "allow-utf-8": names sent unescaped (Prometheus 3 default) */
    PSC_ESCAPING_UNDERSCORES,    /**< "underscores": invalid characters become `_` */
    PSC_ESCAPING_DOTS,           /**< "dots": `.` becomes `_dot_`, `_` becomes `__` */
    PSC_ESCAPING_VALUES,         /**< "values": `U__` prefix and `_HEX_` code points */
} psc_escaping;

/** "allow-utf-8", "underscores", "dots", "values"; "unknown" out of range. Static storage. */
PSC_API const char *psc_escaping_name(psc_escaping e);

/**
 * Parse an escaping scheme name (exactly one of the names of
 * psc_escaping_name(), case-sensitive). @p s: NUL-terminated, not NULL.
 * @return PSC_OK and *out set; PSC_E_ARG for any other string (*out unchanged).
 */
PSC_API psc_status psc_escaping_parse(const char *s, psc_escaping *out);

/**
 * The Accept header value Prometheus 3 sends when scraping, with escaping
 * scheme @p e on the 1.0.0 types, e.g. for PSC_ESCAPING_ALLOW_UTF8:
 * `application/openmetrics-text;version=1.0.0;escaping=allow-utf-8;q=0.6,`
 * `application/openmetrics-text;version=0.0.1;q=0.5,`
 * `text/plain;version=1.0.0;escaping=allow-utf-8;q=0.4,`
 * `text/plain;version=0.0.4;q=0.3,` and finally the any-type range
 * (star, slash, star) with `;q=0.2`.
 * @return the header value without the name; static storage; never NULL
 *         (an out-of-range @p e gives the allow-utf-8 value).
 */
PSC_API const char *psc_scrape_accept(psc_escaping e);

/** Default limits (BAD-INPUTS.md "Default limits"). */
enum {
    PSC_FETCH_DEFAULT_TIMEOUT_MS = 10000,
    PSC_FETCH_DEFAULT_CONNECT_TIMEOUT_MS = 5000,
    PSC_FETCH_DEFAULT_LOW_SPEED_LIMIT = 1,   /**< bytes per second */
    PSC_FETCH_DEFAULT_LOW_SPEED_TIME_S = 10, /**< seconds */
    PSC_FETCH_DEFAULT_MAX_REDIRECTS = 5,
    PSC_FETCH_DEFAULT_PARALLEL = 8,
};
/** Default body cap: 64 MiB, counted after decompression. */
#define PSC_FETCH_DEFAULT_MAX_BODY ((uint64_t)64 << 20)

/**
 * Options of a fetch. Start from psc_fetch_opts_init(), then set fields.
 * Every string is borrowed: NUL-terminated, owned by the caller, and must
 * stay valid until psc_fetch()/psc_fetch_many() returns. The library never
 * prints, logs or returns the values of bearer_token, basic_password, or
 * the value of an extra Authorization/Cookie/Proxy-Authorization header.
 */
typedef struct psc_fetch_opts {
    /** Whole transfer including redirects, milliseconds; 0 = no limit. */
    long timeout_ms;
    /** TCP + TLS connect of each hop, milliseconds; 0 = libcurl's default (300 s). */
    long connect_timeout_ms;
    /** Abort when fewer than low_speed_limit bytes/s arrive for
     *  low_speed_time_s seconds (libcurl granularity: whole seconds);
     *  either 0 = no low-speed abort. */
    long low_speed_limit;
    long low_speed_time_s;
    /** Body cap in bytes after decompression; 0 = no limit (not advised). */
    uint64_t max_body_bytes;
    /** Redirects followed, 0..20; 0 = a 3xx is reported as an HTTP error. */
    int max_redirects;

    /** Extra request headers, each "Name: value"; names and values must not
     *  contain CR, LF or NUL (else PSC_E_ARG). May be NULL when nheaders is 0. */
    const char *const *headers;
    size_t nheaders;
    /** `Authorization: Bearer TOKEN`; NULL = none. Visible ASCII only. */
    const char *bearer_token;
    /** Basic auth; used when basic_user is not NULL. basic_password NULL = "". */
    const char *basic_user;
    const char *basic_password;

    /** PEM CA bundle to verify the server with; NULL = system store. */
    const char *ca_file;
    /** PEM client certificate and key for mutual TLS; NULL = none. */
    const char *cert_file;
    const char *key_file;
    /** Skip server certificate and host name verification (dangerous). */
    bool insecure;

    /** Accept header value; NULL = psc_scrape_accept(escaping) when
     *  scrape is true, else no Accept header of our own. */
    const char *accept;
    /** Escaping scheme of the default scrape Accept header. */
    psc_escaping escaping;
    /** Send `Accept-Encoding: gzip` and decode gzip (default true); false
     *  sends `Accept-Encoding: identity`. */
    bool gzip;
    /** User-Agent; NULL = "promscope/VERSION". */
    const char *user_agent;

    /** When post_body is not NULL the request is a POST of post_len bytes
     *  with Content-Type post_content_type (NULL =
     *  "application/x-www-form-urlencoded"); the body is borrowed. A
     *  redirect of a POST is followed only for 307/308 (body re-sent);
     *  301/302/303 become a GET, as browsers and Go's net/http do. */
    const char *post_body;
    size_t post_len;
    const char *post_content_type;

    /** Scrape mode (default false): the default Accept is the scrape
     *  header, the result's format comes from the Content-Type
     *  (psc_format_from_content_type(); `application/openmetrics-text;
     *  version=0.0.1` counts as OpenMetrics 1.0), and a 200 response fails
     *  with PSC_E_UNSUPPORTED when the Content-Type is missing or unknown
     *  and fallback_format is PSC_FORMAT_AUTO, or when the body starts with
     *  the gzip magic bytes but came without Content-Encoding. */
    bool scrape;
    /** Scrape mode: format used when the Content-Type is missing or
     *  unknown; the result then has format_fallback set (warn about it). */
    psc_format fallback_format;
} psc_fetch_opts;

/**
 * Fill @p o with the defaults: the PSC_FETCH_DEFAULT_* limits, gzip on,
 * escaping allow-utf-8, scrape mode off, every pointer NULL.
 * @param o  not NULL.
 */
PSC_API void psc_fetch_opts_init(psc_fetch_opts *o);

/**
 * Outcome of one fetch. Filled completely by psc_fetch()/psc_fetch_many()
 * (no initialisation needed); release with psc_fetch_result_release().
 * Strings are NUL-terminated and owned by the result.
 */
typedef struct psc_fetch_result {
    /** PSC_OK: HTTP 200, complete body within the limits (and, in scrape
     *  mode, a usable format). Otherwise:
     *  PSC_E_ARG      bad URL (unsupported scheme, CR/LF in a header, ...),
     *                 no connection was attempted;
     *  PSC_E_NET      connect/TLS/transfer failure, timeout, low-speed
     *                 abort, truncated body, bad content encoding, body
     *                 over max_body_bytes, redirect refused (scheme,
     *                 https->http, too many);
     *  PSC_E_HTTP     a final status other than 200 (body kept, see below);
     *  PSC_E_UNSUPPORTED scrape mode: missing/unknown Content-Type without
     *                 fallback, or gzip magic without Content-Encoding;
     *  PSC_E_NOMEM    out of memory. */
    psc_status status;
    /** Human-readable reason when status != PSC_OK, else NULL. Lowercase,
     *  no final period, URL userinfo redacted, body snippets escaped,
     *  e.g. "HTTP 500 Internal Server Error: <html>\n..." or
     *  "timed out after 10 s (received 1048576 bytes)". NULL also when
     *  status is PSC_E_NOMEM and the message itself could not be allocated. */
    char *error;

    /** Body bytes after content decoding; followed by one NUL byte that
     *  body_len does not count (so text bodies are also C strings). Kept
     *  also for non-200 statuses (API error JSON) and partial transfers;
     *  NULL when nothing was received. Never more than max_body_bytes.
     *  Allocated with malloc(): a caller may take it over (then set body to
     *  NULL before psc_fetch_result_release()) and free() it itself. */
    char *body;
    size_t body_len;

    /** Content-Type of the final response; NULL when absent. */
    char *content_type;
    /** Final HTTP status code; 0 when no response was received. */
    long http_status;
    /** Final status line without CR/LF ("HTTP/1.1 200 OK"); NULL when none. */
    char *status_line;
    /** The requested URL and the URL of the final hop, userinfo redacted. */
    char *url;
    char *effective_url;
    /** Redirects followed. */
    int redirects;

    /** Body bytes as received on the wire (before gzip decoding) and after
     *  decoding, of the final hop. */
    uint64_t bytes_compressed;
    uint64_t bytes_uncompressed;
    /** Seconds from the start of the fetch (first hop) to the first byte of
     *  the final response, and to the end of the transfer. */
    double ttfb_s;
    double total_s;

    /** Scrape mode: format of the body (PSC_FORMAT_AUTO when unknown), and
     *  whether it is the fallback format because the Content-Type was
     *  missing or unknown. */
    psc_format format;
    bool format_fallback;
    /** The body starts with the gzip magic bytes 1f 8b but the response had
     *  no Content-Encoding (prometheus/prometheus#12564). */
    bool gzip_magic_unencoded;
} psc_fetch_result;

/**
 * Release what @p r owns and zero it. NULL is allowed; releasing a zeroed
 * or already released result is a no-op.
 */
PSC_API void psc_fetch_result_release(psc_fetch_result *r);

/**
 * Initialise libcurl for the process (curl_global_init) exactly once; safe
 * to call from several threads. psc_fetch() and psc_fetch_many() call it
 * themselves; call it early when other threads of the program use libcurl.
 * @param err optional.
 * @return PSC_OK; PSC_E_NET when libcurl cannot initialise (sticky).
 */
PSC_API psc_status psc_fetch_global_init(psc_error *err);

/**
 * Fetch one URL.
 *
 * @param url    NUL-terminated http:// or https:// URL; userinfo allowed
 *               (sent as basic auth when basic_user is NULL, redacted
 *               everywhere). Borrowed.
 * @param opts   NULL for the defaults of psc_fetch_opts_init().
 * @param res    out; always filled (also on failure); release it with
 *               psc_fetch_result_release().
 * @param err    optional; on failure: status and the first 511 bytes of
 *               res->error; err->source stays as the caller set it.
 * @return res->status (see psc_fetch_result.status).
 * Memory: the body (at most max_body_bytes + 1 during the transfer) plus
 * libcurl's buffers. Blocks for at most about opts->timeout_ms.
 */
PSC_API psc_status psc_fetch(const char *url, const psc_fetch_opts *opts, psc_fetch_result *res,
                             psc_error *err);

/** Called once per target when its fetch has finished (any status), in
 *  completion order, on the thread that called psc_fetch_many(), never
 *  twice at once. @p r is results[index]: the callback may take over or
 *  release its body (psc_fetch_result_release) to keep memory flat. */
typedef void (*psc_fetch_done_fn)(void *ctx, size_t index, psc_fetch_result *r);
/** Called when a target starts or finishes, and about every 250 ms while
 *  transfers run: @p done finished of @p total, @p running in flight. */
typedef void (*psc_fetch_progress_fn)(void *ctx, size_t done, size_t total, size_t running);

/**
 * Fetch many URLs concurrently (libcurl multi interface, one thread), at
 * most @p parallel at a time. Each target gets its own result; one dead,
 * slow or hostile target does not affect the others' results (each has its
 * own timeout and size cap).
 *
 * @param urls     @p n NUL-terminated URLs, borrowed; duplicates allowed.
 * @param opts     shared by every target; NULL for the defaults.
 * @param parallel transfers in flight at most; 0 = PSC_FETCH_DEFAULT_PARALLEL.
 * @param results  out: array of @p n results, each always filled; release
 *                 each with psc_fetch_result_release().
 * @param on_done, on_progress  optional callbacks (see their types); @p ctx
 *                 is passed to both.
 * @return PSC_OK when every target succeeded; otherwise the status of the
 *         failed target with the lowest index.
 *
 * Transfers start in index order. Results go to on_done in completion
 * order, but not at once: the transfers that replace a finished one are
 * started first, and libcurl runs between two callbacks, so work done in
 * on_done (parsing a body) overlaps with the waits of the transfers in
 * flight instead of holding up the next ones. Time spent in callbacks still
 * delays the handling of the sockets in flight and counts against their
 * timeouts: keep each callback short (milliseconds). No transfer starts
 * while 2 x @p parallel targets are in flight or finished and waiting for
 * on_done, so memory holds the bodies of at most that many targets when
 * on_done releases each body (else of all of them). Connections and DNS
 * answers are reused across the targets of one call (one libcurl multi
 * handle); nothing is kept between calls.
 */
PSC_API psc_status psc_fetch_many(const char *const *urls, size_t n, const psc_fetch_opts *opts,
                                  size_t parallel, psc_fetch_result *results,
                                  psc_fetch_done_fn on_done, psc_fetch_progress_fn on_progress,
                                  void *ctx);

/**
 * Copy @p url into @p buf with its userinfo replaced by "***"
 * (`https://u:p@h/` becomes `https://` + "***@h/"; RFC 3986 section 3.2.1); URLs
 * without userinfo are copied unchanged. Like snprintf: writes at most
 * @p cap bytes including the NUL (buf may be NULL when cap is 0).
 * @return the length of the full redacted URL (excluding the NUL).
 */
PSC_API size_t psc_url_redact(const char *url, char *buf, size_t cap);

#ifdef __cplusplus
}
#endif
#endif
