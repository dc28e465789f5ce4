/*
 * promscope/common.h - status codes, error struct, string slices and the
 * export macro shared by every libpromscope header.
 *
 * Conventions (DESIGN.md section 6): prefix psc_/PSC_; input is a
 * (const char *, size_t) pair that is never NUL-terminated, never written and
 * never copied whole; fallible functions return psc_status and fill an
 * optional psc_error; the library never prints and never exits.
 */
#ifndef PROMSCOPE_COMMON_H
#define PROMSCOPE_COMMON_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

#if defined(PSC_BUILDING_LIBRARY) && defined(__GNUC__)
#define PSC_API __attribute__((visibility("default")))
#else
#define PSC_API
#endif

/** Version of the library, as "MAJOR.MINOR.PATCH". Static storage. */
PSC_API const char *psc_version(void);

/**
 * Coarse result of a fallible call. The precise reason of a failure is the
 * psc_code in psc_error.code.
 */
typedef enum psc_status {
    PSC_OK = 0,          /**< success; an entry/value was produced */
    PSC_DONE,            /**< end of input: no more entries */
    PSC_E_SYNTAX,        /**< input violates the format grammar */
    PSC_E_UTF8,          /**< invalid UTF-8 in the input */
    PSC_E_SEMANTIC,      /**< grammar ok, but a rule of the data model broken */
    PSC_E_LIMIT,         /**< a configured limit was exceeded */
    PSC_E_NOMEM,         /**< an allocation failed */
    PSC_E_IO,            /**< reading a file or writing output failed */
    PSC_E_ARG,           /**< invalid argument from the caller */
    PSC_E_NET,           /**< network, TLS or HTTP transfer failure */
    PSC_E_HTTP,          /**< the server answered with a status other than 200 */
    PSC_E_API,           /**< a Prometheus API error or malformed API response */
    PSC_E_UNSUPPORTED,   /**< something valid but not expressible/handled */
} psc_status;

/** Stable lowercase name of @p s ("ok", "syntax", ...). Static storage. */
PSC_API const char *psc_status_name(psc_status s);

/**
 * A byte slice: pointer + length, never NUL-terminated, may contain NUL
 * bytes (OpenMetrics allows U+0000 in label values, BAD-INPUTS A4).
 */
typedef struct psc_str {
    const char *ptr;
    size_t len;
} psc_str;

#define PSC_STR_NULL ((psc_str){NULL, 0})

/** True when @p a and @p b hold the same bytes. */
PSC_API bool psc_str_eq(psc_str a, psc_str b);

/**
 * Error of a failed call. The first error wins: a function never overwrites
 * an error already recorded in a struct whose code is not PSC_C_NONE unless
 * documented otherwise.
 *
 * offset: 0-based byte offset in the input; line/column: 1-based, column in
 * bytes (DESIGN.md section 3). line == 0 means "no position" (for instance
 * an out-of-memory error or a network failure).
 */
typedef struct psc_error {
    psc_status status;
    int code;             /**< a psc_code (promscope/codes.h) */
    uint64_t offset;
    uint64_t line;
    uint64_t column;
    const char *source;   /**< borrowed; set by the caller, may be NULL */
    char message[512];    /**< NUL-terminated, lowercase, no final period */
} psc_error;

/** Reset @p err to "no error". NULL is allowed and ignored. */
PSC_API void psc_error_clear(psc_error *err);

#ifdef __cplusplus
}
#endif
#endif
